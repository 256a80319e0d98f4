/*
 * libFuzzer target for src/text's UTF-8 layer. Arbitrary bytes go to the
 * validator (cross-checked against utf8proc's own strict decoder); valid
 * input goes through NFC, NFKC+casefold, truncation and squashing, whose
 * invariants are checked; any input goes through the scanners, which must
 * stay total and emit valid UTF-8 even outside their contract. Issue 13:
 * text_check against a reference (controls, noncharacters, the
 * stream-safe run of non-starters), normalisation refused exactly when
 * the input is not stream-safe, and text_fold's keys (valid, stable,
 * case-free) with text_confusable, text_invisible and text_has_bidi.
 */
#include "../src/text/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the failed invariant: libFuzzer saves the input. */
#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "fuzz_text: %s:%d: %s\n", __FILE__, \
			    __LINE__, #expr);                              \
			abort();                                           \
		}                                                          \
	} while (0)

/* Reference validity: utf8proc_iterate is strict too (no overlongs,
 * surrogates or > U+10FFFF), so the two must always agree. */
static bool
ref_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;
	utf8proc_int32_t cp;

	while (i < n) {
		utf8proc_ssize_t k = utf8proc_iterate(s + i,
		    (utf8proc_ssize_t)(n - i), &cp);
		if (k <= 0)
			return false;
		i += (size_t)k;
	}
	return true;
}

/* Checks text_truncate(s, max) against its contract. */
static void
check_truncate(const char *s, size_t n, size_t max, bool is_valid)
{
	buf b;
	buf_init(&b, 0);
	bool cut = text_truncate(&b, s, n, max);
	CHECK(!b.err);
	CHECK(text_utf8_valid(b.ptr, b.len));
	CHECK(text_graphemes(b.ptr, b.len) <= max + 1);
	if (is_valid) {
		size_t total = text_graphemes(s, n);
		CHECK(cut == (total > max));
		if (cut) { /* a prefix of s, then "…" */
			CHECK(b.len >= 3 && b.len - 3 < n);
			CHECK(memcmp(b.ptr, s, b.len - 3) == 0);
			CHECK(memcmp(b.ptr + b.len - 3, "\xE2\x80\xA6", 3) == 0);
			CHECK(text_graphemes(s, b.len - 3) == max);
		} else {
			CHECK(b.len == n && (n == 0 || memcmp(b.ptr, s, n) == 0));
		}
	}
	buf_free(&b);
}

/* Checks text_squash_space: valid in, valid out; single inner spaces. */
static void
check_squash(const char *s, size_t n)
{
	buf b;
	buf_init(&b, 0);
	text_squash_space(&b, s, n);
	CHECK(!b.err && b.len <= n);
	CHECK(text_utf8_valid(b.ptr, b.len));
	for (size_t i = 0; i < b.len; i++) {
		char c = b.ptr[i];
		CHECK(c != '\t' && c != '\n' && c != '\r' && c != '\v' &&
		    c != '\f');
		if (c == ' ')
			CHECK(i > 0 && i + 1 < b.len && b.ptr[i + 1] != ' ');
	}
	CHECK(b.len < 3 || memmem(b.ptr, b.len, "\xE3\x80\x80", 3) == NULL);
	buf_free(&b);
}

/* Normalises s with f and checks the result is valid and stable. */
static void
check_norm(bool (*f)(buf *, const char *, size_t), const char *s, size_t n)
{
	buf a, b;
	buf_init(&a, 0);
	buf_init(&b, 0);
	CHECK(f(&a, s, n));
	CHECK(!a.err);
	CHECK(text_utf8_valid(a.ptr, a.len));
	CHECK(f(&b, a.ptr, a.len)); /* idempotent */
	CHECK(a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0));
	buf_free(&a);
	buf_free(&b);
}

/* Reference for text_has_bidi. */
static bool
ref_bidi(const uint8_t *s, size_t n)
{
	size_t i = 0;
	utf8proc_int32_t c;

	while (i < n) {
		utf8proc_ssize_t k = utf8proc_iterate(s + i,
		    (utf8proc_ssize_t)(n - i), &c);
		if (k <= 0)
			return false;
		i += (size_t)k;
		if ((c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
		    c == 0x200E || c == 0x200F || c == 0x061C)
			return true;
	}
	return false;
}

/* text_fold of stream-safe s: valid UTF-8, no ASCII capitals, no white
 * space with separators dropped, and s is confusable with itself exactly
 * when its key is not empty. */
static void
check_fold(const char *s, size_t n)
{
	static const unsigned flags[] = {0, TEXT_FOLD_SEPARATORS,
	    TEXT_FOLD_KANA, TEXT_FOLD_SEPARATORS | TEXT_FOLD_KANA};
	for (size_t f = 0; f < sizeof flags / sizeof *flags; f++) {
		buf k;
		buf_init(&k, 0);
		CHECK(text_fold(&k, s, n, flags[f]));
		CHECK(!k.err && text_utf8_valid(k.ptr, k.len));
		for (size_t i = 0; i < k.len; i++) {
			CHECK(k.ptr[i] < 'A' || k.ptr[i] > 'Z');
			if (flags[f] & TEXT_FOLD_SEPARATORS)
				CHECK(k.ptr[i] != ' ' && k.ptr[i] != '\n');
		}
		if (flags[f] == TEXT_FOLD_SEPARATORS)
			CHECK(text_confusable(s, n, s, n) == (k.len > 0));
		buf_free(&k);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	bool v = text_utf8_valid(s, size);

	CHECK(v == ref_valid(data, size));
	if (text_clean(s, size))
		CHECK(v && memchr(s, '\0', size) == NULL);

	enum text_bad tb = text_check(s, size);
	CHECK(tb <= TEXT_BAD_MARKS);
	if (tb == TEXT_BAD_UTF8)
		CHECK(!v);
	if (v)
		CHECK(tb != TEXT_BAD_UTF8);
	else
		CHECK(tb != TEXT_GOOD);
	if (tb == TEXT_GOOD)
		CHECK(text_clean(s, size) && text_stream_safe(s, size));
	if (!v)
		CHECK(!text_stream_safe(s, size));
	if (v && !text_stream_safe(s, size)) {
		/* refused before any work: nothing appended, no error */
		buf b;
		buf_init(&b, 0);
		CHECK(!text_nfc(&b, s, size) && b.len == 0 && !b.err);
		CHECK(!text_nfkc_fold(&b, s, size) && b.len == 0 && !b.err);
		CHECK(!text_fold(&b, s, size, TEXT_FOLD_SEPARATORS) && b.len == 0);
		buf_free(&b);
	} else if (v) {
		check_fold(s, size);
	}
	if (v)
		CHECK(text_has_bidi(s, size) == ref_bidi(data, size));
	(void)text_invisible(s, size);

	if (v && text_stream_safe(s, size)) {
		buf b;
		check_norm(text_nfc, s, size);
		check_norm(text_nfkc_fold, s, size);
		/* The ASCII fast path must match utf8proc itself. */
		buf_init(&b, 0);
		CHECK(text_nfkc_fold(&b, s, size));
		utf8proc_uint8_t *ref = NULL;
		utf8proc_ssize_t r = utf8proc_map(data, (utf8proc_ssize_t)size,
		    &ref, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
		    UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
		CHECK(r >= 0 && (size_t)r == b.len);
		CHECK(r == 0 || memcmp(ref, b.ptr, (size_t)r) == 0);
		free(ref);
		buf_free(&b);
		check_squash(s, size);
	} else {
		buf b;
		buf_init(&b, 0);
		CHECK(!text_nfc(&b, s, size) && b.len == 0);
		CHECK(!text_nfkc_fold(&b, s, size) && b.len == 0);
		buf_free(&b);
	}

	static const size_t limits[] = {0, 1, 2, 5, 40};
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		check_truncate(s, size, limits[i], v);
	CHECK(text_graphemes(s, size) <= size);
	return 0;
}
