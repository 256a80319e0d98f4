/*
 * Comparison keys for text that readers may dress up: NG words and names
 * that must not pass for someone else's. A key is NFKC_Casefold (default-
 * ignorables dropped), optionally without separators and with katakana
 * folded to hiragana, then UTS #39's confusable skeleton, then ASCII
 * lowered: "ｂａｋａ", "b a k a", "bаkа" (Cyrillic а) all key as "baka".
 *
 * Skeletons come from ICU's spoof checker (libicu 72 in Debian 12): its
 * data is Unicode's own confusables.txt, kept current with each ICU, where
 * a table of our own would be a copy to keep up to date by hand. One
 * checker serves every thread: ICU's functions that take a const
 * USpoofChecker are thread-safe.
 *
 * Work is linear in the input: the input is stream-safe (text_nfkc_fold
 * refuses otherwise), and removing separators, which could join two runs
 * of marks into one long run, drops the marks of a run past
 * TEXT_MAX_NONSTARTERS instead, before ICU normalises again.
 */
#include "text.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uspoof.h>
#include <utf8proc.h>

static pthread_once_t fold_once = PTHREAD_ONCE_INIT;
static USpoofChecker *fold_sc; /* NULL when ICU has no data: keys then
                                * skip the skeleton step */

static void
fold_init(void)
{
	UErrorCode st = U_ZERO_ERROR;
	fold_sc = uspoof_open(&st);
	if (U_SUCCESS(st))
		uspoof_setChecks(fold_sc, USPOOF_CONFUSABLE, &st);
	if (U_FAILURE(st)) {
		fprintf(stderr, "kiji: ICU spoof checker unavailable (%s); "
		    "confusable look-alikes are not folded\n", u_errorName(st));
		if (fold_sc)
			uspoof_close(fold_sc);
		fold_sc = NULL;
	}
}

/* True for characters a key drops with TEXT_FOLD_SEPARATORS: white space,
 * punctuation (・ 、 - . ...), controls, format characters, and the blank
 * glyphs that are letters or symbols by category (U+2800 braille blank). */
static bool
fold_separator(int32_t c)
{
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL:
	case UTF8PROC_CATEGORY_ZP: case UTF8PROC_CATEGORY_CC:
	case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_PC:
	case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
	case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI:
	case UTF8PROC_CATEGORY_PF: case UTF8PROC_CATEGORY_PO:
		return true;
	default:
		return c == 0x2800;
	}
}

/* Katakana to the hiragana of the same sound (ァ..ヶ, ヽ ヾ); others as is. */
static int32_t
fold_kana(int32_t c)
{
	if ((c >= 0x30A1 && c <= 0x30F6) || c == 0x30FD || c == 0x30FE)
		return c - 0x60;
	return c;
}

/* Appends the skeleton of s[0..n) to out; s itself when there is no
 * checker or ICU refuses (a key that folds less, never a failure). */
static void
fold_skeleton(buf *out, const char *s, size_t n)
{
	UErrorCode st = U_ZERO_ERROR;
	pthread_once(&fold_once, fold_init);
	if (fold_sc == NULL || n > INT32_MAX / 8) {
		buf_put(out, s, n);
		return;
	}
	/* confusables.txt maps one code point to at most 18 bytes of
	 * UTF-8, so 6n + 64 covers the usual case in one call */
	int32_t cap = (int32_t)(6 * n + 64);
	char *d = xmalloc((size_t)cap);
	int32_t k = uspoof_getSkeletonUTF8(fold_sc, 0, s, (int32_t)n, d, cap,
	    &st);
	if (st == U_BUFFER_OVERFLOW_ERROR && k > 0) {
		free(d);
		cap = k + 1;
		d = xmalloc((size_t)cap);
		st = U_ZERO_ERROR;
		k = uspoof_getSkeletonUTF8(fold_sc, 0, s, (int32_t)n, d, cap, &st);
	}
	if (U_SUCCESS(st) && k >= 0 && k <= cap)
		buf_put(out, d, (size_t)k);
	else
		buf_put(out, s, n);
	free(d);
}

bool
text_fold(buf *out, const char *s, size_t n, unsigned flags)
{
	buf k, t;
	bool ok = false;

	buf_init(&k, 0);
	buf_init(&t, 0);
	if (!text_nfkc_fold(&k, s, n) || k.err)
		goto out;
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)buf_cstr(&k);
	size_t i = 0, run = 0;
	while (i < k.len) {
		utf8proc_int32_t c;
		utf8proc_ssize_t m = utf8proc_iterate(p + i,
		    (utf8proc_ssize_t)(k.len - i), &c);
		if (m <= 0)
			goto out; /* cannot happen: utf8proc wrote it */
		i += (size_t)m;
		if ((flags & TEXT_FOLD_SEPARATORS) && fold_separator(c))
			continue;
		if (flags & TEXT_FOLD_KANA)
			c = fold_kana(c);
		/* NFKC output is composed, so a mark here is one the run
		 * keeps; the run ends at the next starter */
		if (utf8proc_get_property(c)->combining_class != 0) {
			if (++run > TEXT_MAX_NONSTARTERS)
				continue;
		} else {
			run = 0;
		}
		utf8proc_uint8_t e[4];
		buf_put(&t, e, (size_t)utf8proc_encode_char(c, e));
	}
	if (t.err)
		goto out;
	/* The skeleton is NFD; composed again, a key ending in か is no
	 * prefix of one holding が (か + U+3099). */
	buf_reset(&k);
	fold_skeleton(&k, buf_cstr(&t), t.len);
	size_t at = out->len;
	/* text_nfc appends nothing when it refuses the skeleton (a run of
	 * marks grown past the limit): the NFD skeleton is kept then */
	if (!k.err && !text_nfc(out, buf_cstr(&k), k.len) && !out->err)
		buf_put(out, buf_cstr(&k), k.len);
	for (size_t j = at; j < out->len; j++)
		if (out->ptr[j] >= 'A' && out->ptr[j] <= 'Z')
			out->ptr[j] += 'a' - 'A';
	ok = !out->err && !k.err;
out:
	buf_free(&k);
	buf_free(&t);
	return ok;
}

bool
text_confusable(const char *a, size_t an, const char *b, size_t bn)
{
	buf x, y;
	bool same;

	buf_init(&x, 0);
	buf_init(&y, 0);
	same = text_fold(&x, a, an, TEXT_FOLD_SEPARATORS) &&
	    text_fold(&y, b, bn, TEXT_FOLD_SEPARATORS) && x.len > 0 &&
	    x.len == y.len && memcmp(x.ptr, y.ptr, x.len) == 0;
	buf_free(&x);
	buf_free(&y);
	return same;
}

/* Bidi formatting characters: embeddings and overrides (U+202A..202E),
 * isolates (U+2066..2069), the marks LRM, RLM and ALM. */
static bool
fold_bidi(int32_t c)
{
	return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
	    c == 0x200E || c == 0x200F || c == 0x061C;
}

/* Characters that show nothing by themselves: default-ignorables (ZWSP,
 * the Hangul fillers U+115F U+1160 U+3164 U+FFA0, ...), white space of
 * every width, controls and format characters, lone combining marks, and
 * U+2800 (braille blank) which no property marks as blank. */
static bool
fold_invisible(int32_t c)
{
	const utf8proc_property_t *pr = utf8proc_get_property(c);
	if (pr->ignorable || c == 0x2800)
		return true;
	switch (pr->category) {
	case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL:
	case UTF8PROC_CATEGORY_ZP: case UTF8PROC_CATEGORY_CC:
	case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_ME:
		return true;
	default:
		return false;
	}
}

/* Walks valid UTF-8 s; returns whether pred holds for any (want true) or
 * every (want false) code point. Invalid bytes read as U+FFFD. */
static bool
fold_any(const char *s, size_t n, bool (*pred)(int32_t), bool want)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t i = 0;
	while (i < n) {
		utf8proc_int32_t c;
		utf8proc_ssize_t m = utf8proc_iterate(p + i,
		    (utf8proc_ssize_t)(n - i), &c);
		if (m <= 0) {
			c = 0xFFFD;
			m = 1;
		}
		i += (size_t)m;
		if (pred(c) == want)
			return true;
	}
	return false;
}

bool
text_has_bidi(const char *s, size_t n)
{
	return fold_any(s, n, fold_bidi, true);
}

bool
text_invisible(const char *s, size_t n)
{
	return !fold_any(s, n, fold_invisible, false);
}
