/*
 * Unit tests for src/text: bounded buffer, arena, UTF-8 validation,
 * normalisation, grapheme counting and truncation, white-space squashing,
 * the site time zone and every date format and parser.
 */
#include "../../src/text/text.h"
#include "t.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>

/* Instants used throughout: 2022-01-08T15:00:00Z is midnight in Tokyo. */
#define T_TOKYO_MIDNIGHT INT64_C(1641654000)
#define T_UTC_MIDNIGHT INT64_C(1641686400) /* 2022-01-09T00:00:00Z */

#define FAMILY "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D" \
	"\xF0\x9F\x91\xA7\xE2\x80\x8D\xF0\x9F\x91\xA6" /* 👨‍👩‍👧‍👦 */
#define FLAG_JP "\xF0\x9F\x87\xAF\xF0\x9F\x87\xB5" /* 🇯🇵 */
#define FLAG_US "\xF0\x9F\x87\xBA\xF0\x9F\x87\xB8" /* 🇺🇸 */
#define E_ACUTE_NFD "e\xCC\x81"                    /* e + U+0301 */
#define GA_NFC "\xE3\x81\x8C"                      /* が U+304C */
#define GA_NFD "\xE3\x81\x8B\xE3\x82\x99"          /* か + U+3099 */
#define ELLIPSIS "\xE2\x80\xA6"

/* The helpers below take C strings so each case stays one line. */
static bool
valid(const char *s)
{
	return text_utf8_valid(s, strlen(s));
}

static char *
nfc(const char *s)
{
	static char res[256];
	buf b;
	buf_init(&b, 0);
	bool ok = text_nfc(&b, s, strlen(s));
	snprintf(res, sizeof(res), "%s", ok ? buf_cstr(&b) : "(invalid)");
	buf_free(&b);
	return res;
}

static char *
fold(const char *s)
{
	static char res[256];
	buf b;
	buf_init(&b, 0);
	bool ok = text_nfkc_fold(&b, s, strlen(s));
	snprintf(res, sizeof(res), "%s", ok ? buf_cstr(&b) : "(invalid)");
	buf_free(&b);
	return res;
}

static size_t
graphemes(const char *s)
{
	return text_graphemes(s, strlen(s));
}

/* Truncates s to max clusters; *cut reports whether it did. */
static char *
trunc_to(const char *s, size_t max, bool *cut)
{
	static char res[256];
	buf b;
	buf_init(&b, 0);
	*cut = text_truncate(&b, s, strlen(s), max);
	snprintf(res, sizeof(res), "%s", buf_cstr(&b));
	buf_free(&b);
	return res;
}

static char *
squash(const char *s)
{
	static char res[256];
	buf b;
	buf_init(&b, 0);
	text_squash_space(&b, s, strlen(s));
	snprintf(res, sizeof(res), "%s", buf_cstr(&b));
	buf_free(&b);
	return res;
}

typedef void (*fmt_fn)(buf *, int64_t);

static char *
fmt(fmt_fn f, int64_t t)
{
	static char res[128];
	buf b;
	buf_init(&b, 0);
	f(&b, t);
	snprintf(res, sizeof(res), "%s", buf_cstr(&b));
	buf_free(&b);
	return res;
}

/* ---- buf ----------------------------------------------------------- */

static void
test_buf_basic(void)
{
	buf b;
	buf_init(&b, 0);
	T_CHECK(b.max == BUF_DEFAULT_MAX);
	T_STREQ(buf_cstr(&b), "");
	T_CHECK(buf_puts(&b, "abc"));
	T_CHECK(buf_putc(&b, '-'));
	T_CHECK(buf_put(&b, "xyz", 2));
	T_CHECK(buf_put(&b, NULL, 0));
	T_STREQ(buf_cstr(&b), "abc-xy");
	T_CHECK(b.len == 6 && !b.err);
	buf_reset(&b);
	T_STREQ(buf_cstr(&b), "");
	T_CHECK(b.len == 0);
	/* Growth across many reallocations keeps every byte. */
	for (int i = 0; i < 10000; i++)
		buf_putc(&b, (char)('a' + i % 26));
	T_CHECK(b.len == 10000 && !b.err);
	T_CHECK(b.ptr[9999] == 'a' + 9999 % 26 && b.ptr[10000] == '\0');
	buf_free(&b);
	buf_free(&b); /* twice is fine */
	buf_free(NULL);
}

static void
test_buf_cap(void)
{
	buf b;
	buf_init(&b, 8);
	T_CHECK(buf_puts(&b, "12345678")); /* exactly max */
	T_CHECK(!b.err);
	T_CHECK(!buf_putc(&b, '9'));
	T_CHECK(b.err);
	T_CHECK(b.len == 8);
	T_STREQ(buf_cstr(&b), "12345678");
	buf_reset(&b);
	T_CHECK(!b.err);

	/* An oversized append adds nothing, and err is sticky. */
	T_CHECK(buf_puts(&b, "1234"));
	T_CHECK(!buf_puts(&b, "56789"));
	T_CHECK(b.err && b.len == 4);
	T_CHECK(!buf_putc(&b, 'x'));
	T_CHECK(!buf_puts(&b, ""));
	T_CHECK(!buf_printf(&b, "%d", 1));
	T_STREQ(buf_cstr(&b), "1234");
	/* A size_t-overflowing length is refused, not wrapped. */
	buf_reset(&b);
	T_CHECK(buf_puts(&b, "ab"));
	T_CHECK(!buf_put(&b, "x", SIZE_MAX));
	T_CHECK(b.err && b.len == 2);
	buf_free(&b);
}

static void
test_buf_printf(void)
{
	buf b;
	buf_init(&b, 16);
	T_CHECK(buf_printf(&b, "%s=%d", "n", 42));
	T_CHECK(buf_printf(&b, "%05.1f", 3.14159));
	T_STREQ(buf_cstr(&b), "n=42003.1");
	T_CHECK(b.len == 9);
	/* 9 + 8 > 16: refused whole, nothing half-written. */
	T_CHECK(!buf_printf(&b, "%08d", 7));
	T_CHECK(b.err && b.len == 9);
	T_STREQ(buf_cstr(&b), "n=42003.1");
	buf_reset(&b);
	T_CHECK(buf_printf(&b, "%s", "")); /* empty output on empty buf */
	T_STREQ(buf_cstr(&b), "");
	T_CHECK(!b.err);
	buf_free(&b);
}

static void
test_buf_detach(void)
{
	buf b;
	size_t len = 99;
	buf_init(&b, 100);
	buf_puts(&b, "日本語");
	char *p = buf_detach(&b, &len);
	T_STREQ(p, "日本語");
	T_CHECK(len == strlen("日本語"));
	T_CHECK(b.ptr == NULL && b.len == 0 && b.cap == 0 && !b.err);
	free(p);
	/* The buffer is reusable after detach, with its cap kept. */
	T_CHECK(buf_puts(&b, "again"));
	T_STREQ(buf_cstr(&b), "again");
	buf_free(&b);

	/* Detaching an empty buffer still yields a freeable "". */
	buf_init(&b, 0);
	p = buf_detach(&b, &len);
	T_STREQ(p, "");
	T_CHECK(len == 0);
	free(p);
	/* ...and detaching a failed buffer clears err. */
	buf_init(&b, 2);
	buf_puts(&b, "abc");
	p = buf_detach(&b, NULL);
	T_CHECK(!b.err);
	free(p);
	buf_free(&b);
}

/* ---- arena --------------------------------------------------------- */

static void
test_arena(void)
{
	arena *a = arena_new(256);
	char *prev = NULL;
	for (int i = 0; i < 1000; i++) {
		size_t n = (size_t)(i % 37) + 1;
		unsigned char *p = arena_alloc(a, n);
		T_CHECK(((uintptr_t)p & 15) == 0);
		bool zero = true;
		for (size_t j = 0; j < n; j++)
			zero = zero && p[j] == 0;
		T_CHECK(zero);
		memset(p, 0xAB, n); /* ASan flags any overlap or overrun */
		T_CHECK((char *)p != prev);
		prev = (char *)p;
	}
	/* Bigger than a chunk: gets its own. */
	unsigned char *big = arena_alloc(a, 10000);
	T_CHECK(((uintptr_t)big & 15) == 0);
	T_CHECK(big[0] == 0 && big[9999] == 0);
	memset(big, 1, 10000);

	T_CHECK(arena_alloc(a, 0) != NULL);
	T_STREQ(arena_strdup(a, "記事"), "記事");
	T_STREQ(arena_strndup(a, "abcdef", 3), "abc");
	T_STREQ(arena_strndup(a, NULL, 0), "");
	T_STREQ(arena_printf(a, "%s-%03d", "id", 7), "id-007");
	char *s1 = arena_strdup(a, "one"), *s2 = arena_strdup(a, "two");
	T_STREQ(s1, "one"); /* earlier strings survive later ones */
	T_STREQ(s2, "two");

	arena_reset(a);
	char *s = arena_printf(a, "%d", 12345);
	T_STREQ(s, "12345");
	unsigned char *z = arena_alloc(a, 64); /* reused memory is re-zeroed */
	bool zero = true;
	for (int j = 0; j < 64; j++)
		zero = zero && z[j] == 0;
	T_CHECK(zero);
	arena_free(a);
	arena_free(NULL);

	a = arena_new(0); /* default chunk size */
	T_STREQ(arena_strdup(a, "x"), "x");
	arena_free(a);
}

/* ---- UTF-8 validity ------------------------------------------------ */

static void
test_utf8_valid(void)
{
	T_CHECK(text_utf8_valid(NULL, 0));
	T_CHECK(valid(""));
	T_CHECK(valid("plain ascii"));
	T_CHECK(valid("日本語のテキスト"));
	T_CHECK(valid("\xC2\x80"));             /* U+0080, smallest 2-byte */
	T_CHECK(valid("\xDF\xBF"));             /* U+07FF */
	T_CHECK(valid("\xE0\xA0\x80"));         /* U+0800, smallest 3-byte */
	T_CHECK(valid("\xED\x9F\xBF"));         /* U+D7FF, below surrogates */
	T_CHECK(valid("\xEE\x80\x80"));         /* U+E000, above surrogates */
	T_CHECK(valid("\xEF\xBF\xBF"));         /* U+FFFF (noncharacter, valid) */
	T_CHECK(valid("\xF0\x90\x80\x80"));     /* U+10000, smallest 4-byte */
	T_CHECK(valid("\xF0\x9F\x98\x80"));     /* 😀 */
	T_CHECK(valid(FAMILY FLAG_JP));
	T_CHECK(valid("\xF4\x8F\xBF\xBF"));     /* U+10FFFF, the last */
	T_CHECK(text_utf8_valid("a\0b", 3));    /* NUL is valid UTF-8 */

	/* Overlongs. */
	T_CHECK(!valid("\xC0\x80"));
	T_CHECK(!valid("\xC0\xAF"));
	T_CHECK(!valid("\xC1\xBF"));
	T_CHECK(!valid("\xE0\x80\x80"));
	T_CHECK(!valid("\xE0\x9F\xBF"));
	T_CHECK(!valid("\xF0\x80\x80\x80"));
	T_CHECK(!valid("\xF0\x8F\xBF\xBF"));
	/* Surrogates. */
	T_CHECK(!valid("\xED\xA0\x80"));
	T_CHECK(!valid("\xED\xBF\xBF"));
	T_CHECK(!valid("\xED\xA0\xBD\xED\xB8\x80")); /* CESU-8 pair */
	/* Past U+10FFFF, and bytes that never occur. */
	T_CHECK(!valid("\xF4\x90\x80\x80"));
	T_CHECK(!valid("\xF5\x80\x80\x80"));
	T_CHECK(!valid("\xF8\x88\x80\x80\x80"));
	T_CHECK(!valid("\xFE"));
	T_CHECK(!valid("\xFF"));
	/* Truncated and stray. */
	T_CHECK(!valid("\xE3\x81"));
	T_CHECK(!valid("abc\xE3"));
	T_CHECK(!valid("\xF0\x9F\x98"));
	T_CHECK(!valid("\xC3"));
	T_CHECK(!valid("\x80"));
	T_CHECK(!valid("a\xBF" "b"));
	T_CHECK(!valid("\xE3\x81" "a"));           /* lead cut by ASCII */
	T_CHECK(!valid("\xF0\x9F\x98\x80\x80"));   /* extra continuation */
	/* n bounds the read: a valid sequence cut by n is invalid. */
	T_CHECK(!text_utf8_valid("\xE3\x81\x82", 2));
	T_CHECK(text_utf8_valid("\xE3\x81\x82", 3));
}

/* Every code point's shortest encoding is valid iff it is a scalar value. */
static void
test_utf8_exhaustive(void)
{
	int bad = 0;
	for (int32_t cp = 0; cp <= 0x10FFFF; cp++) {
		utf8proc_uint8_t e[4];
		utf8proc_ssize_t k = utf8proc_encode_char(cp, e);
		bool scalar = cp < 0xD800 || cp > 0xDFFF;
		if (text_utf8_valid((const char *)e, (size_t)k) != scalar)
			bad++;
		if (k > 1 && text_utf8_valid((const char *)e, (size_t)k - 1))
			bad++; /* every proper prefix is truncated */
	}
	T_CHECK(bad == 0);

	/* All two-byte strings agree with utf8proc's own strict decoder. */
	bad = 0;
	for (int i = 0; i < 65536; i++) {
		unsigned char s[2] = {(unsigned char)(i >> 8), (unsigned char)i};
		utf8proc_int32_t cp;
		bool ref = true;
		for (utf8proc_ssize_t at = 0, k; at < 2 && ref; at += k) {
			k = utf8proc_iterate(s + at, 2 - at, &cp);
			ref = k > 0;
		}
		if (text_utf8_valid((const char *)s, 2) != ref)
			bad++;
	}
	T_CHECK(bad == 0);
}

static void
test_clean(void)
{
	T_CHECK(text_clean("", 0));
	T_CHECK(text_clean("line\r\nnext\tcol", 14));
	T_CHECK(text_clean("日本語", strlen("日本語")));
	T_CHECK(!text_clean("a\0b", 3));
	T_CHECK(!text_clean("a\x01", 2));
	T_CHECK(!text_clean("\x1B[31m", 5)); /* terminal escape */
	T_CHECK(!text_clean("\x0B", 1));
	T_CHECK(!text_clean("\xC0\x80", 2)); /* overlong NUL */
	T_CHECK(!text_clean("ok\xFF", 3));
}

/* Issue 13: DEL, C1 controls and noncharacters are refused like C0. */
static void
test_check(void)
{
	T_CHECK(text_check("a\x7F", 2) == TEXT_BAD_CONTROL);
	T_CHECK(text_check("\xC2\x80", 2) == TEXT_BAD_CONTROL);  /* U+0080 */
	T_CHECK(text_check("\xC2\x9F", 2) == TEXT_BAD_CONTROL);  /* U+009F */
	T_CHECK(text_check("\xC2\xA0", 2) == TEXT_GOOD);         /* NBSP */
	T_CHECK(text_check("\xEF\xB7\x90", 3) == TEXT_BAD_NONCHAR); /* FDD0 */
	T_CHECK(text_check("\xEF\xB7\xAF", 3) == TEXT_BAD_NONCHAR); /* FDEF */
	T_CHECK(text_check("\xEF\xB7\xB0", 3) == TEXT_GOOD);        /* FDF0 */
	T_CHECK(text_check("\xEF\xBF\xBE", 3) == TEXT_BAD_NONCHAR); /* FFFE */
	T_CHECK(text_check("\xEF\xBF\xBF", 3) == TEXT_BAD_NONCHAR); /* FFFF */
	T_CHECK(text_check("\xEF\xBF\xBD", 3) == TEXT_GOOD);        /* FFFD */
	T_CHECK(text_check("\xF0\x9F\xBF\xBF", 4) == TEXT_BAD_NONCHAR); /* 1FFFF */
	T_CHECK(text_check("\xF4\x8F\xBF\xBF", 4) == TEXT_BAD_NONCHAR); /* 10FFFF */
	T_CHECK(text_check("\xFF", 1) == TEXT_BAD_UTF8);
	T_CHECK(text_check("a\0", 2) == TEXT_BAD_CONTROL);
	T_CHECK(!text_clean("x\x7Fy", 3));
	/* the first problem in input order wins */
	T_CHECK(text_check("\x01\xFF", 2) == TEXT_BAD_CONTROL);
	T_CHECK(text_check("\xFF\x01", 2) == TEXT_BAD_UTF8);
}

/* s = base + n marks (alternating U+0301 U+0316 when alt). */
static void
marks(buf *b, const char *base, size_t n, bool alt)
{
	buf_puts(b, base);
	for (size_t i = 0; i < n; i++)
		buf_puts(b, alt && i % 2 ? "\xCC\x96" : "\xCC\x81");
}

/* Issue 13: a run of more than 30 non-starters is refused before
 * normalising (utf8proc reorders a run in time quadratic in its length),
 * by every normalising entry point. */
static void
test_stream_safe(void)
{
	buf s, out;
	buf_init(&s, 0);
	buf_init(&out, 0);
	marks(&s, "a", 30, true);
	T_CHECK(text_stream_safe(s.ptr, s.len) && text_clean(s.ptr, s.len));
	T_CHECK(text_nfc(&out, s.ptr, s.len) && out.len > 0);
	buf_reset(&s);
	marks(&s, "a", 31, true);
	T_CHECK(!text_stream_safe(s.ptr, s.len));
	T_CHECK(text_check(s.ptr, s.len) == TEXT_BAD_MARKS);
	buf_reset(&out);
	T_CHECK(!text_nfc(&out, s.ptr, s.len) && out.len == 0 && !out.err);
	T_CHECK(!text_nfkc_fold(&out, s.ptr, s.len) && out.len == 0);
	/* the reported attack: 'a' + U+0301 U+0316 x 64k; refused, not
	 * reordered (with the check gone this takes seconds) */
	buf_reset(&s);
	marks(&s, "a", 128 * 1024, true);
	T_CHECK(!text_clean(s.ptr, s.len));
	T_CHECK(!text_nfc(&out, s.ptr, s.len) && out.len == 0);
	T_CHECK(!text_fold(&out, s.ptr, s.len, TEXT_FOLD_SEPARATORS));
	/* 'a' + 100,000 U+0301 is not one harmless character */
	buf_reset(&s);
	marks(&s, "a", 100000, false);
	T_CHECK(text_check(s.ptr, s.len) == TEXT_BAD_MARKS);
	/* a starter ends a run; a default-ignorable does not (NFKC_Casefold
	 * drops it, joining the runs) */
	buf_reset(&s);
	marks(&s, "a", 30, true);
	marks(&s, "b", 30, true);
	T_CHECK(text_stream_safe(s.ptr, s.len));
	buf_reset(&s);
	marks(&s, "a", 30, true);
	marks(&s, "\xE2\x80\x8B", 30, true); /* ZWSP */
	T_CHECK(!text_stream_safe(s.ptr, s.len));
	/* counted over NFKD: U+0344 is two marks, U+00A8 ends in one */
	buf_reset(&s);
	marks(&s, "a", 29, false);
	buf_puts(&s, "\xCD\x84");
	T_CHECK(!text_stream_safe(s.ptr, s.len));
	buf_reset(&s);
	buf_puts(&s, "\xC2\xA8");
	marks(&s, "", 30, false);
	T_CHECK(!text_stream_safe(s.ptr, s.len));
	/* ordinary text: Japanese with voiced marks, Hangul, emoji ZWJ */
	const char *ok = "\xE3\x81\xAF\xE3\x82\x99\xE3\x81\x8B \xED\x95\x9C "
	    "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9";
	T_CHECK(text_clean(ok, strlen(ok)));
	buf_free(&s);
	buf_free(&out);
}

/* text_fold's key, text_confusable, text_invisible, text_has_bidi. */
static void
test_fold(void)
{
	buf k;
	buf_init(&k, 0);
	T_CHECK(text_fold(&k, "Ｂａ・Ｋａ", strlen("Ｂａ・Ｋａ"),
	    TEXT_FOLD_SEPARATORS));
	T_STREQ(buf_cstr(&k), "baka");
	buf_reset(&k);
	T_CHECK(text_fold(&k, "バカ", strlen("バカ"), TEXT_FOLD_KANA));
	T_STREQ(buf_cstr(&k), "ばか");
	buf_reset(&k);
	T_CHECK(text_fold(&k, "バカ", strlen("バカ"), 0));
	T_CHECK(strcmp(buf_cstr(&k), "ばか") != 0); /* kana kept apart */
	buf_reset(&k);
	T_CHECK(!text_fold(&k, "\xFF", 1, 0));
	buf_free(&k);

	const char *dflt = "名無しさん";
	T_CHECK(text_confusable(dflt, strlen(dflt), dflt, strlen(dflt)));
	/* + ZWSP, + a space inside, full-width space at the end */
	T_CHECK(text_confusable("名無しさん\xE2\x80\x8B", 18, dflt, strlen(dflt)));
	T_CHECK(text_confusable("名無し さん", strlen("名無し さん"), dflt,
	    strlen(dflt)));
	T_CHECK(!text_confusable("名無しさん2", strlen("名無しさん2"), dflt,
	    strlen(dflt)));
	/* Cyrillic А and о in "Admin Tarо", case and spacing */
	T_CHECK(text_confusable("\xD0\x90" "dmin Tar\xD0\xBE",
	    strlen("\xD0\x90" "dmin Tar\xD0\xBE"), "admintaro", 9));
	T_CHECK(text_confusable("rn", 2, "m", 1)); /* UTS #39 */
	T_CHECK(!text_confusable("", 0, "", 0));
	T_CHECK(!text_confusable("...", 3, "・", 3)); /* empty keys */

	T_CHECK(text_invisible("", 0));
	static const char *const blank[] = {"\xE2\x80\x8B", "\xE3\x85\xA4",
	    "\xE2\xA0\x80", "\xC2\xA0", "\xE1\x85\x9F", "\xE1\x85\xA0",
	    "\xEF\xBE\xA0", "\xE3\x80\x80\xE2\x80\x8B", "\xCC\x81",
	    "\xE2\x80\x8D\xEF\xB8\x8F", "\xE2\x81\xA0", "\xC2\xAD"};
	for (size_t i = 0; i < sizeof blank / sizeof *blank; i++) {
		if (!text_invisible(blank[i], strlen(blank[i])))
			printf("  visible: %zu\n", i);
		T_CHECK(text_invisible(blank[i], strlen(blank[i])));
	}
	T_CHECK(!text_invisible("\xE2\x80\x8B" "a", 4));
	T_CHECK(!text_invisible("・", strlen("・")));

	static const char *const bidi[] = {"\xE2\x80\xAA", "\xE2\x80\xAE",
	    "\xE2\x81\xA6", "\xE2\x81\xA9", "\xE2\x80\x8E", "\xE2\x80\x8F",
	    "\xD8\x9C"};
	for (size_t i = 0; i < sizeof bidi / sizeof *bidi; i++) {
		buf b;
		buf_init(&b, 0);
		buf_printf(&b, "x%sy", bidi[i]);
		T_CHECK(text_has_bidi(b.ptr, b.len));
		buf_free(&b);
	}
	T_CHECK(!text_has_bidi("名無しさん", strlen("名無しさん")));
	T_CHECK(!text_has_bidi("\xD7\xA9\xD7\x9C", 4)); /* Hebrew letters */
}

/* ---- normalisation ------------------------------------------------- */

static void
test_nfc(void)
{
	T_STREQ(nfc(GA_NFD), GA_NFC);
	T_STREQ(nfc(GA_NFC), GA_NFC);
	T_STREQ(nfc(E_ACUTE_NFD), "\xC3\xA9");
	T_STREQ(nfc("ＮＡＴＯ"), "ＮＡＴＯ"); /* NFC keeps width */
	T_STREQ(nfc("ｶ"), "ｶ");
	T_STREQ(nfc("ASCII Stays"), "ASCII Stays");
	T_STREQ(nfc(""), "");
	T_STREQ(nfc("\xED\xA0\x80"), "(invalid)");

	/* Appends after existing content; invalid input appends nothing. */
	buf b;
	buf_init(&b, 0);
	buf_puts(&b, "x:");
	T_CHECK(text_nfc(&b, GA_NFD, strlen(GA_NFD)));
	T_STREQ(buf_cstr(&b), "x:" GA_NFC);
	T_CHECK(!text_nfc(&b, "ok\xE3\x81", 4));
	T_STREQ(buf_cstr(&b), "x:" GA_NFC);
	T_CHECK(!b.err);
	/* NUL passes through, it does not end the input. */
	buf_reset(&b);
	T_CHECK(text_nfc(&b, "a\0" E_ACUTE_NFD, 5));
	T_CHECK(b.len == 4 && memcmp(b.ptr, "a\0\xC3\xA9", 4) == 0);
	buf_free(&b);

	/* A refused append is reported as failure too. */
	buf_init(&b, 2);
	T_CHECK(!text_nfc(&b, GA_NFD, strlen(GA_NFD)));
	T_CHECK(b.err && b.len == 0);
	buf_free(&b);
}

static void
test_nfkc_fold(void)
{
	T_STREQ(fold("ＮＡＴＯ"), "nato");
	T_STREQ(fold("ＡＢＣ"), fold("abc"));
	T_STREQ(fold("NATO"), "nato");
	T_STREQ(fold("ｶ"), "カ");
	T_STREQ(fold("ｶﾞ"), "ガ"); /* half-width kana + voiced mark */
	T_STREQ(fold("ﾃﾞｨｽﾌﾟﾚｲ"), "ディスプレイ");
	T_STREQ(fold(GA_NFD), GA_NFC);
	T_STREQ(fold("Straße"), "strasse");
	T_STREQ(fold("①②"), "12");
	T_STREQ(fold("㍻"), "平成");
	T_STREQ(fold("ＡＢ\xE2\x80\x8B" "Ｃ"), "abc"); /* ZWSP dropped */
	T_STREQ(fold("漢字かなカナ"), "漢字かなカナ");
	T_STREQ(fold("\xF4\x90\x80\x80"), "(invalid)");
	T_STREQ(fold(""), "");
}

/* ---- graphemes, truncation, space ---------------------------------- */

static void
test_graphemes(void)
{
	T_CHECK(text_graphemes(NULL, 0) == 0);
	T_CHECK(graphemes("abc") == 3);
	T_CHECK(graphemes("日本語") == 3);
	T_CHECK(graphemes(FAMILY) == 1);
	T_CHECK(graphemes(FAMILY FAMILY) == 2);
	T_CHECK(graphemes(FLAG_JP) == 1);
	T_CHECK(graphemes(FLAG_JP FLAG_US) == 2);
	T_CHECK(graphemes(FLAG_JP FLAG_US "\xF0\x9F\x87\xAF") == 3);
	T_CHECK(graphemes(E_ACUTE_NFD) == 1);
	T_CHECK(graphemes("e\xCC\x81\xCC\xA3\xCC\x88") == 1); /* 3 marks */
	T_CHECK(graphemes(GA_NFD) == 1);
	T_CHECK(graphemes("\r\n") == 1);
	T_CHECK(graphemes("\n\r") == 2);
	T_CHECK(graphemes("1\xEF\xB8\x8F\xE2\x83\xA3") == 1);  /* 1️⃣ keycap */
	T_CHECK(graphemes("\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD") == 1); /* 👍🏽 */
	T_CHECK(graphemes("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8") == 1); /* 각 jamo */
	T_CHECK(graphemes("ｶﾞ") == 1); /* U+FF9E is Extend */
}

static void
test_truncate_japanese(void)
{
	bool cut;
	T_STREQ(trunc_to("吾輩は猫である。", 3, &cut), "吾輩は" ELLIPSIS);
	T_CHECK(cut);
	/* Exactly at the limit: not cut, no ellipsis. */
	T_STREQ(trunc_to("吾輩は猫である。", 8, &cut), "吾輩は猫である。");
	T_CHECK(!cut);
	T_STREQ(trunc_to("日本語", 3, &cut), "日本語");
	T_CHECK(!cut);
	T_STREQ(trunc_to("日本語", 100, &cut), "日本語");
	T_CHECK(!cut);
	T_STREQ(trunc_to("日本語", 2, &cut), "日本" ELLIPSIS);
	T_CHECK(cut);
	T_STREQ(trunc_to("日本語", 0, &cut), ELLIPSIS);
	T_CHECK(cut);
	T_STREQ(trunc_to("", 0, &cut), "");
	T_CHECK(!cut);
	/* Decomposed が is one cluster: never split from its mark. */
	T_STREQ(trunc_to(GA_NFD GA_NFD, 1, &cut), GA_NFD ELLIPSIS);
	T_CHECK(cut);

	/* Appends to what is there; refused appends set err. */
	buf b;
	buf_init(&b, 0);
	buf_puts(&b, "> ");
	T_CHECK(text_truncate(&b, "あいう", strlen("あいう"), 1));
	T_STREQ(buf_cstr(&b), "> あ" ELLIPSIS);
	buf_free(&b);
	buf_init(&b, 4);
	text_truncate(&b, "あいう", strlen("あいう"), 1);
	T_CHECK(b.err);
	buf_free(&b);
}

static void
test_truncate_emoji(void)
{
	bool cut;
	T_STREQ(trunc_to(FAMILY FAMILY, 1, &cut), FAMILY ELLIPSIS);
	T_CHECK(cut);
	T_STREQ(trunc_to(FAMILY, 1, &cut), FAMILY);
	T_CHECK(!cut);
	T_STREQ(trunc_to("a" FAMILY "b", 2, &cut), "a" FAMILY ELLIPSIS);
	T_STREQ(trunc_to(FLAG_JP FLAG_US, 1, &cut), FLAG_JP ELLIPSIS);
	T_CHECK(cut);
	T_STREQ(trunc_to(FLAG_JP FLAG_US, 2, &cut), FLAG_JP FLAG_US);
	T_CHECK(!cut);
	T_STREQ(trunc_to("\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD!", 1, &cut),
	    "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD" ELLIPSIS);
}

static void
test_truncate_combining(void)
{
	bool cut;
	T_STREQ(trunc_to(E_ACUTE_NFD E_ACUTE_NFD, 1, &cut),
	    E_ACUTE_NFD ELLIPSIS);
	T_CHECK(cut);
	T_STREQ(trunc_to(E_ACUTE_NFD E_ACUTE_NFD, 2, &cut),
	    E_ACUTE_NFD E_ACUTE_NFD);
	T_CHECK(!cut);
	T_STREQ(trunc_to("ae\xCC\x81\xCC\xA3z", 2, &cut),
	    "ae\xCC\x81\xCC\xA3" ELLIPSIS);
	T_STREQ(trunc_to("a\r\nb", 2, &cut), "a\r\n" ELLIPSIS);
	/* Out of contract, but still total: bad bytes become U+FFFD. */
	T_STREQ(trunc_to("a\xFF" "bc", 2, &cut), "a\xEF\xBF\xBD" ELLIPSIS);
	T_STREQ(trunc_to("\xE3\x81", 5, &cut), "\xEF\xBF\xBD\xEF\xBF\xBD");
	T_CHECK(!cut);
}

static void
test_squash_space(void)
{
	T_STREQ(squash(""), "");
	T_STREQ(squash("   "), "");
	T_STREQ(squash("\xE3\x80\x80 \t\xE3\x80\x80"), "");
	T_STREQ(squash("a"), "a");
	T_STREQ(squash("  a \t\n\r\v\f b  "), "a b");
	T_STREQ(squash("見出し\xE3\x80\x80本文"), "見出し 本文");
	T_STREQ(squash("\xE3\x80\x80行頭と行末\xE3\x80\x80"), "行頭と行末");
	T_STREQ(squash("一\n\n\xE3\x80\x80二 \xE3\x80\x80 三"), "一 二 三");
	T_STREQ(squash("no\xC2\xA0" "break"), "no\xC2\xA0" "break"); /* NBSP kept */
	T_STREQ(squash("\xE3\x80\x81、"), "\xE3\x80\x81、"); /* 、 is not space */
	T_STREQ(squash("x\xE3\x80"), "x\xE3\x80"); /* partial U+3000: not space */

	buf b;
	buf_init(&b, 0);
	buf_puts(&b, "[");
	text_squash_space(&b, " a  b ", 6);
	buf_puts(&b, "]");
	T_STREQ(buf_cstr(&b), "[a b]");
	buf_free(&b);
}

/* ---- time ---------------------------------------------------------- */

/* Must run before anything else touches the zone: Tokyo by default,
 * whatever TZ the process started with. */
static void
test_tz_default(void)
{
	setenv("TZ", "America/New_York", 1);
	T_STREQ(fmt(text_ja_date, T_TOKYO_MIDNIGHT), "2022年 1月 09日");
	T_STREQ(fmt(text_ja_date, T_TOKYO_MIDNIGHT - 1), "2022年 1月 08日");
	struct text_tm tm;
	text_localtime(T_TOKYO_MIDNIGHT, &tm);
	T_CHECK(tm.gmtoff == 9 * 3600);
}

static void
test_ja_date(void)
{
	struct text_tm tm;
	T_CHECK(text_tz_set("Asia/Tokyo"));
	/* 2022-01-08T15:00:00Z is 2022-01-09 00:00 in Tokyo. */
	text_localtime(T_TOKYO_MIDNIGHT, &tm);
	T_CHECK(tm.year == 2022 && tm.mon == 1 && tm.mday == 9);
	T_CHECK(tm.hour == 0 && tm.min == 0 && tm.sec == 0);
	T_CHECK(tm.wday == 0 && tm.gmtoff == 32400); /* Sunday */
	T_STREQ(fmt(text_ja_date, T_TOKYO_MIDNIGHT), "2022年 1月 09日");
	T_STREQ(fmt(text_ja_date, T_TOKYO_MIDNIGHT - 1), "2022年 1月 08日");
	T_STREQ(fmt(text_ja_datetime, T_TOKYO_MIDNIGHT), "2022年 1月 09日 00:00");
	T_STREQ(fmt(text_ja_datetime, T_TOKYO_MIDNIGHT - 1),
	    "2022年 1月 08日 23:59");
	T_STREQ(fmt(text_ja_datetime, T_TOKYO_MIDNIGHT + 13 * 3600 + 5 * 60),
	    "2022年 1月 09日 13:05");
	/* Two-digit month is not padded further; day always two digits. */
	T_STREQ(fmt(text_ja_date, INT64_C(1664550000)), "2022年 10月 01日");
	T_STREQ(fmt(text_ja_date, INT64_C(1672498800)), "2023年 1月 01日");
	T_STREQ(fmt(text_ja_date, 0), "1970年 1月 01日");
	/* Leap day. */
	T_STREQ(fmt(text_ja_date, INT64_C(1709132400)), "2024年 2月 29日");
}

static void
test_rfc3339_http(void)
{
	T_CHECK(text_tz_set("Asia/Tokyo"));
	T_STREQ(fmt(text_rfc3339, T_TOKYO_MIDNIGHT),
	    "2022-01-09T00:00:00+09:00");
	T_STREQ(fmt(text_rfc3339, T_TOKYO_MIDNIGHT + 13 * 3600 + 5 * 60),
	    "2022-01-09T13:05:00+09:00");
	T_STREQ(fmt(text_http_date, T_TOKYO_MIDNIGHT), /* always UTC */
	    "Sat, 08 Jan 2022 15:00:00 GMT");
	T_STREQ(fmt(text_http_date, T_UTC_MIDNIGHT + 4 * 3600 + 5 * 60),
	    "Sun, 09 Jan 2022 04:05:00 GMT");
	T_STREQ(fmt(text_http_date, 0), "Thu, 01 Jan 1970 00:00:00 GMT");
	/* Negative and half-hour offsets. */
	T_CHECK(text_tz_set("America/St_Johns"));
	T_STREQ(fmt(text_rfc3339, T_UTC_MIDNIGHT), "2022-01-08T20:30:00-03:30");
	T_CHECK(text_tz_set("Asia/Kolkata"));
	T_STREQ(fmt(text_rfc3339, T_UTC_MIDNIGHT), "2022-01-09T05:30:00+05:30");
	/* Pre-1888 Tokyo used LMT +09:18:59: not expressible, so UTC. */
	T_CHECK(text_tz_set("Asia/Tokyo"));
	T_STREQ(fmt(text_rfc3339, INT64_C(-3000000000)), "1874-12-07T18:40:00Z");
	/* Absurd instants are clamped, never garbage. */
	T_STREQ(fmt(text_http_date, INT64_MAX), "Thu, 30 Dec 9999 23:59:59 GMT");
	T_STREQ(fmt(text_http_date, INT64_MIN), "Tue, 02 Jan 0001 00:00:00 GMT");
	T_STREQ(fmt(text_ja_date, INT64_MAX), "9999年 12月 31日");
}

static void
test_tz_switch(void)
{
	T_CHECK(text_tz_set("UTC"));
	T_STREQ(fmt(text_ja_date, T_TOKYO_MIDNIGHT), "2022年 1月 08日");
	T_STREQ(fmt(text_rfc3339, T_TOKYO_MIDNIGHT), "2022-01-08T15:00:00+00:00");
	struct text_tm tm;
	text_localtime(T_TOKYO_MIDNIGHT, &tm);
	T_CHECK(tm.gmtoff == 0 && tm.hour == 15);

	T_CHECK(text_tz_set("Asia/Tokyo"));
	T_STREQ(fmt(text_ja_date, T_TOKYO_MIDNIGHT), "2022年 1月 09日");

	/* DST follows the zone's rules: New York, winter then summer. */
	T_CHECK(text_tz_set("America/New_York"));
	T_STREQ(fmt(text_rfc3339, T_UTC_MIDNIGHT), "2022-01-08T19:00:00-05:00");
	T_STREQ(fmt(text_rfc3339, INT64_C(1657324800)),
	    "2022-07-08T20:00:00-04:00");
	T_CHECK(text_tz_set("Asia/Tokyo"));
}

/*
 * text_localtime remembers checked UTC hours and then adds the offset:
 * it must agree with localtime_r everywhere, also across DST changes, in
 * zones with half-hour and 45-minute offsets, in the remembered hours
 * (second pass) and after a zone switch with the table full.
 */
static void
test_localtime_memo(void)
{
	static const char *const zones[] = {
		"Asia/Tokyo", "America/New_York", "Australia/Lord_Howe",
		"Asia/Kathmandu", "Europe/London", "America/St_Johns", "UTC",
	};
	/* 2023's changes: US in March and November, Europe in March and
	 * October, Lord Howe (half an hour) in April and October. */
	static const int64_t centres[] = {
		INT64_C(1678600000), INT64_C(1679800000), INT64_C(1680400000),
		INT64_C(1696100000), INT64_C(1698600000), INT64_C(1699200000),
	};
	bool same = true;
	for (size_t z = 0; z < sizeof(zones) / sizeof(*zones) && same; z++) {
		T_CHECK(text_tz_set(zones[z]));
		for (size_t c = 0; c < sizeof(centres) / sizeof(*centres); c++)
		for (int pass = 0; pass < 2 && same; pass++)
			for (int64_t t = centres[c] - 86400 * 4;
			    t < centres[c] + 86400 * 4 && same; t += 613) {
				struct text_tm got;
				struct tm want;
				time_t tt = (time_t)t;
				text_localtime(t, &got);
				localtime_r(&tt, &want);
				same = got.year == want.tm_year + 1900 &&
				    got.mon == want.tm_mon + 1 &&
				    got.mday == want.tm_mday &&
				    got.hour == want.tm_hour &&
				    got.min == want.tm_min &&
				    got.sec == want.tm_sec &&
				    got.wday == want.tm_wday &&
				    got.gmtoff == want.tm_gmtoff;
				if (!same)
					fprintf(stderr, "localtime %s %lld\n",
					    zones[z], (long long)t);
			}
	}
	T_CHECK(same);
	T_CHECK(text_tz_set("Asia/Tokyo"));
}

static void
test_tz_reject(void)
{
	T_CHECK(text_tz_set("Asia/Tokyo"));
	T_CHECK(!text_tz_set("Mars/Olympus_Mons"));
	T_CHECK(!text_tz_set(""));
	T_CHECK(!text_tz_set(NULL));
	T_CHECK(!text_tz_set("Asia"));            /* a directory */
	T_CHECK(!text_tz_set("zone.tab"));        /* not a TZif file */
	T_CHECK(!text_tz_set("../../../etc/passwd"));
	T_CHECK(!text_tz_set("Asia/../Asia/Tokyo"));
	T_CHECK(!text_tz_set("/usr/share/zoneinfo/UTC"));
	T_CHECK(!text_tz_set("Asia/Tokyo "));
	T_CHECK(!text_tz_set("JST-9"));           /* POSIX rule, not a name */
	T_CHECK(!text_tz_set("Asia/Tokyo\n"));
	char longname[400];
	memset(longname, 'A', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	T_CHECK(!text_tz_set(longname));
	/* The previous zone is kept after every refusal. */
	T_STREQ(fmt(text_ja_date, T_TOKYO_MIDNIGHT), "2022年 1月 09日");
	T_CHECK(text_tz_set("UTC"));
	T_CHECK(!text_tz_set("Nowhere/City"));
	T_STREQ(fmt(text_ja_date, T_TOKYO_MIDNIGHT), "2022年 1月 08日");
	T_CHECK(text_tz_set("Asia/Tokyo"));
}

static atomic_int tz_stop;

/* Formats one instant over and over; it must always be one of the two
 * zones' answers, never a torn or default one. Returns the bad count. */
static void *
tz_reader(void *arg)
{
	intptr_t bad = 0;
	buf b;
	(void)arg;
	buf_init(&b, 0);
	while (!atomic_load(&tz_stop)) {
		buf_reset(&b);
		text_ja_datetime(&b, T_TOKYO_MIDNIGHT);
		if (strcmp(buf_cstr(&b), "2022年 1月 09日 00:00") != 0 &&
		    strcmp(buf_cstr(&b), "2022年 1月 08日 15:00") != 0)
			bad++;
	}
	buf_free(&b);
	return (void *)bad;
}

static void
test_tz_concurrent(void)
{
	pthread_t th[4];
	atomic_store(&tz_stop, 0);
	for (int i = 0; i < 4; i++)
		T_CHECK(pthread_create(&th[i], NULL, tz_reader, NULL) == 0);
	for (int i = 0; i < 400; i++)
		T_CHECK(text_tz_set(i % 2 ? "Asia/Tokyo" : "UTC"));
	atomic_store(&tz_stop, 1);
	for (int i = 0; i < 4; i++) {
		void *bad;
		pthread_join(th[i], &bad);
		T_CHECK(bad == NULL);
	}
	T_CHECK(text_tz_set("Asia/Tokyo"));
}

/* Parses s; returns the instant, or INT64_MIN when rejected. */
static int64_t
iso(const char *s)
{
	int64_t t = 12345;
	if (!text_parse_iso8601(s, &t))
		return t == 12345 ? INT64_MIN : INT64_MIN + 1; /* untouched? */
	return t;
}

static void
test_iso8601(void)
{
	T_CHECK(iso("2022-01-09") == T_UTC_MIDNIGHT);
	T_CHECK(iso("1970-01-01") == 0);
	T_CHECK(iso("1969-12-31") == -86400);
	T_CHECK(iso("2022-01-09T00:00Z") == T_UTC_MIDNIGHT);
	T_CHECK(iso("2022-01-09T00:00:00Z") == T_UTC_MIDNIGHT);
	T_CHECK(iso("2022-01-09T00:00:00+09:00") == T_TOKYO_MIDNIGHT);
	T_CHECK(iso("2022-01-08T15:00:00-00:00") == T_TOKYO_MIDNIGHT);
	T_CHECK(iso("2022-01-08T20:30-03:30") == T_UTC_MIDNIGHT);
	T_CHECK(iso("2022-01-09T13:05:07Z") == T_UTC_MIDNIGHT + 47107);
	T_CHECK(iso("2024-02-29") == INT64_C(1709164800));
	T_CHECK(iso("2000-02-29T23:59:59Z") == INT64_C(951868799));
	T_CHECK(iso("0001-01-01") == INT64_C(-62135596800));
	T_CHECK(iso("9999-12-31T23:59:59Z") == INT64_C(253402300799));
	T_CHECK(iso("2022-01-09T00:00+23:59") == T_UTC_MIDNIGHT - 86340);

	/* Bad dates. */
	T_CHECK(iso("2022-13-01") == INT64_MIN);
	T_CHECK(iso("2022-00-10") == INT64_MIN);
	T_CHECK(iso("2022-01-00") == INT64_MIN);
	T_CHECK(iso("2022-01-32") == INT64_MIN);
	T_CHECK(iso("2022-04-31") == INT64_MIN);
	T_CHECK(iso("2022-02-29") == INT64_MIN);
	T_CHECK(iso("1900-02-29") == INT64_MIN);
	/* Bad times and zones. */
	T_CHECK(iso("2022-01-09T24:00Z") == INT64_MIN);
	T_CHECK(iso("2022-01-09T12:60Z") == INT64_MIN);
	T_CHECK(iso("2022-01-09T12:00:60Z") == INT64_MIN);
	T_CHECK(iso("2022-01-09T12:00:00") == INT64_MIN); /* zone required */
	T_CHECK(iso("2022-01-09T12:00") == INT64_MIN);
	T_CHECK(iso("2022-01-09T12Z") == INT64_MIN);
	T_CHECK(iso("2022-01-09T12:00+0900") == INT64_MIN);
	T_CHECK(iso("2022-01-09T12:00+09") == INT64_MIN);
	T_CHECK(iso("2022-01-09T12:00+24:00") == INT64_MIN);
	T_CHECK(iso("2022-01-09T12:00+09:60") == INT64_MIN);
	T_CHECK(iso("2022-01-09T12:00:00.5Z") == INT64_MIN);
	T_CHECK(iso("2022-01-09t12:00z") == INT64_MIN);
	T_CHECK(iso("2022-01-09 12:00:00Z") == INT64_MIN);
	/* Shape and trailing junk. */
	T_CHECK(iso("") == INT64_MIN);
	T_CHECK(iso("2022") == INT64_MIN);
	T_CHECK(iso("2022-1-9") == INT64_MIN);
	T_CHECK(iso("22-01-09") == INT64_MIN);
	T_CHECK(iso("+2022-01-09") == INT64_MIN);
	T_CHECK(iso(" 2022-01-09") == INT64_MIN);
	T_CHECK(iso("2022-01-09 ") == INT64_MIN);
	T_CHECK(iso("2022-01-09x") == INT64_MIN);
	T_CHECK(iso("2022-01-09T") == INT64_MIN);
	T_CHECK(iso("2022-01-09T00:00Zjunk") == INT64_MIN);
	T_CHECK(iso("2022-01-09T00:00:00+09:00 ") == INT64_MIN);
	T_CHECK(iso("2022-01-09T00:00:00+09:00:00") == INT64_MIN);
	T_CHECK(iso("2022/01/09") == INT64_MIN);
	T_CHECK(iso("２０２２-01-09") == INT64_MIN); /* full-width digits */
	T_CHECK(!text_parse_iso8601(NULL, NULL));
}

/* What text_rfc3339 writes, text_parse_iso8601 reads back, in any zone. */
static void
test_rfc3339_roundtrip(void)
{
	static const char *zones[] = {
		"Asia/Tokyo", "UTC", "America/St_Johns", "Australia/Lord_Howe",
		"Pacific/Kiritimati", "America/New_York",
	};
	static const int64_t times[] = {
		0, -1, T_TOKYO_MIDNIGHT, T_TOKYO_MIDNIGHT - 1, INT64_C(951868799),
		INT64_C(1700000000), INT64_C(-2000000000), INT64_C(4102444800),
	};
	int bad = 0;
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		T_CHECK(text_tz_set(zones[z]));
		for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
			int64_t back;
			const char *s = fmt(text_rfc3339, times[i]);
			if (!text_parse_iso8601(s, &back) || back != times[i]) {
				printf("  roundtrip %s %s\n", zones[z], s);
				bad++;
			}
		}
	}
	T_CHECK(bad == 0);
	T_CHECK(text_tz_set("Asia/Tokyo"));
}

int
main(void)
{
	T_RUN(test_tz_default); /* first: nothing may have set the zone yet */
	T_RUN(test_buf_basic);
	T_RUN(test_buf_cap);
	T_RUN(test_buf_printf);
	T_RUN(test_buf_detach);
	T_RUN(test_arena);
	T_RUN(test_utf8_valid);
	T_RUN(test_utf8_exhaustive);
	T_RUN(test_clean);
	T_RUN(test_check);
	T_RUN(test_stream_safe);
	T_RUN(test_fold);
	T_RUN(test_nfc);
	T_RUN(test_nfkc_fold);
	T_RUN(test_graphemes);
	T_RUN(test_truncate_japanese);
	T_RUN(test_truncate_emoji);
	T_RUN(test_truncate_combining);
	T_RUN(test_squash_space);
	T_RUN(test_ja_date);
	T_RUN(test_rfc3339_http);
	T_RUN(test_tz_switch);
	T_RUN(test_tz_reject);
	T_RUN(test_localtime_memo);
	T_RUN(test_tz_concurrent);
	T_RUN(test_iso8601);
	T_RUN(test_rfc3339_roundtrip);
	T_DONE();
}
