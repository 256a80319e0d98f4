/*
 * http charsets (src/http/charset.c): the charset parameter of a
 * Content-Type, the accepted labels, conversion to UTF-8 from each
 * (EUC-JP, Shift_JIS/CP932, ISO-2022-JP, ISO-8859-1, US-ASCII, UTF-8),
 * invalid and truncated sequences refused, the growth bound, and the
 * byte-level urlencoded decoding the conversion starts from. Requests
 * through a real server are in test_http.c (test_form_charset).
 */
#include "t.h"

#include "../../src/http/http.h"

/* s[0..n) converted from label; NULL when refused (*e says why). */
static const char *
conv(arena *a, const char *label, const char *s, size_t n,
    enum http_form_err *e, size_t *outlen)
{
	http_charset *cs = http_charset_new(label);
	char *out = NULL;
	size_t len = 0;

	if (cs == NULL) {
		*e = HTTP_FORM_CHARSET;
		return NULL;
	}
	*e = http_charset_to_utf8(cs, s, n, a, &out, &len);
	http_charset_free(cs);
	if (outlen)
		*outlen = len;
	return out;
}

static const char *
conv_str(arena *a, const char *label, const char *s)
{
	enum http_form_err e;
	const char *out = conv(a, label, s, strlen(s), &e, NULL);
	return e == HTTP_FORM_OK ? out : NULL;
}

static void
test_ctype_param(void)
{
	arena *a = arena_new(0);
	const char *ct = "application/x-www-form-urlencoded; charset=EUC-JP";

	T_STREQ(http_ctype_param(a, ct, "charset"), "EUC-JP");
	T_STREQ(http_ctype_param(a, "a/b;charset=\"Shift_JIS\"", "charset"),
	    "Shift_JIS");
	T_STREQ(http_ctype_param(a, "a/b; x=1;  CHARSET=utf-8 ; y=2",
	    "charset"), "utf-8");
	T_STREQ(http_ctype_param(a, "a/b; bare; charset=iso-2022-jp",
	    "charset"), "iso-2022-jp");
	T_STREQ(http_ctype_param(a, "a/b; x=\"q;charset=no\"; charset=yes",
	    "charset"), "yes");
	T_STREQ(http_ctype_param(a, "a/b; charset=", "charset"), "");
	T_CHECK(http_ctype_param(a, "a/b", "charset") == NULL);
	T_CHECK(http_ctype_param(a, "", "charset") == NULL);
	T_CHECK(http_ctype_param(a, NULL, "charset") == NULL);
	T_CHECK(http_ctype_param(a, "a/b; charsets=x", "charset") == NULL);
	T_CHECK(http_ctype_param(a, "a/b; charset=\"open", "charset") == NULL);
	arena_free(a);
}

static void
test_labels(void)
{
	static const struct {
		const char *label, *name;
	} ok[] = {
		{ "UTF-8", "UTF-8" }, { "utf8", "UTF-8" },
		{ "EUC-JP", "EUC-JP" }, { "x-euc-jp", "EUC-JP" },
		{ "Shift_JIS", "Shift_JIS" }, { "SJIS", "Shift_JIS" },
		{ "shift-jis", "Shift_JIS" }, { "Windows-31J", "Shift_JIS" },
		{ "CP932", "Shift_JIS" }, { "MS_Kanji", "Shift_JIS" },
		{ "ISO-2022-JP", "ISO-2022-JP" }, { "iso-8859-1", "ISO-8859-1" },
		{ "Latin1", "ISO-8859-1" }, { "US-ASCII", "US-ASCII" },
	};
	static const char *bad[] = {
		"KOI8-R", "bogus", "", "UTF-16", "utf-16le", "UTF-32", "EBCDIC-US",
		"SHIFT_JISX0213", "EUC-JP-MS", "ISO-2022-JP-2", "windows-1252",
		"GB18030", "utf-8 ", " utf-8", "utf-8//TRANSLIT", "EUC-JP//IGNORE",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		http_charset *cs = http_charset_new(ok[i].label);
		T_CHECK(cs != NULL);
		if (cs)
			T_STREQ(http_charset_name(cs), ok[i].name);
		http_charset_free(cs);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		http_charset *cs = http_charset_new(bad[i]);
		if (cs)
			printf("  accepted: [%s]\n", bad[i]);
		T_CHECK(cs == NULL);
		http_charset_free(cs);
	}
	T_CHECK(http_charset_new(NULL) == NULL);
	http_charset_free(NULL);
}

static void
test_convert(void)
{
	arena *a = arena_new(0);

	/* EUC-JP: kanji, kana, half-width kana (SS2), JIS X 0212 (SS3),
	 * and NEC row 13 (①), which EUC-JP-MS reads */
	T_STREQ(conv_str(a, "EUC-JP", "\xc6\xfc\xcb\xdc\xb8\xec"), "日本語");
	T_STREQ(conv_str(a, "euc-jp", "\xb5\xad\xbb\xf6\xa4\xce\xbe\xd2"
	    "\xb2\xf0 ok"), "記事の紹介 ok");
	T_STREQ(conv_str(a, "EUC-JP", "\x8e\xb1\x8f\xb0\xa1\xad\xa1"),
	    "ｱ丂①");
	/* Shift_JIS, read as CP932: ASCII stays ASCII ('~' and '\', which
	 * strict SJIS would make ‾ and ¥), half-width kana, NEC ① */
	T_STREQ(conv_str(a, "Shift_JIS", "\x93\xfa\x96\x7b\x8c\xea\xc4\xd7\xaf"
	    "\xb8\xca\xde\xaf\xb8\x87\x40\x7e\x5c"), "日本語ﾄﾗｯｸﾊﾞｯｸ①~\\");
	T_STREQ(conv_str(a, "sjis", "\x8b\x4c\x8e\x96\x82\xcc\x8f\xd0\x89\xee"),
	    "記事の紹介");
	T_STREQ(conv_str(a, "Windows-31J", "http://x.example/~a/"),
	    "http://x.example/~a/");
	/* one character, the same from either Japanese charset */
	T_STREQ(conv_str(a, "EUC-JP", "\xa1\xc1"),
	    conv_str(a, "Shift_JIS", "\x81\x60"));
	/* ISO-2022-JP: escapes in and out, and text left in JIS mode */
	T_STREQ(conv_str(a, "ISO-2022-JP", "\x1b\x24\x42\x35\x2d\x3b\x76\x24"
	    "\x4e\x3e\x52\x32\x70\x1b\x28\x42!"), "記事の紹介!");
	T_STREQ(conv_str(a, "ISO-2022-JP", "a\x1b$BF|K\\"), "a日本");
	T_STREQ(conv_str(a, "ISO-8859-1", "caf\xe9 \xff"), "café ÿ");
	T_STREQ(conv_str(a, "US-ASCII", "plain ~text~"), "plain ~text~");
	T_STREQ(conv_str(a, "UTF-8", "日本語"), "日本語");
	T_STREQ(conv_str(a, "EUC-JP", ""), "");
	arena_free(a);
}

static void
test_invalid(void)
{
	arena *a = arena_new(0);
	static const struct {
		const char *label, *s;
	} bad[] = {
		{ "EUC-JP", "\xc6" },           /* truncated */
		{ "EUC-JP", "ok\xc6\x20" },     /* bad trail byte */
		{ "EUC-JP", "\x8e" },           /* SS2 alone */
		{ "EUC-JP", "\x8f\xb0" },       /* SS3 cut short */
		{ "EUC-JP", "\xff\xff" },
		{ "EUC-JP", "\x93\xfa\x96\x7b" }, /* Shift_JIS bytes */
		{ "Shift_JIS", "\x82" },        /* truncated */
		{ "Shift_JIS", "\x82\x20" },    /* bad trail byte */
		{ "Shift_JIS", "\x80" },
		{ "Shift_JIS", "a\xa0" },
		{ "Shift_JIS", "\xfd\xfe" },
		{ "ISO-2022-JP", "8bit \xa4\xa2" },
		{ "ISO-2022-JP", "\x1b$" },     /* escape cut short */
		{ "ISO-2022-JP", "\x1b$B$" },   /* character cut short */
		{ "ISO-2022-JP", "\xc6\xfc" },  /* EUC-JP bytes */
		{ "US-ASCII", "caf\xe9" },
		{ "UTF-8", "\xff" },
		{ "UTF-8", "\xc0\xaf" },        /* overlong */
		{ "UTF-8", "\xed\xa0\x80" },    /* surrogate */
		{ "UTF-8", "\xe6\x97" },        /* truncated */
		{ "UTF-8", "\xc6\xfc\xcb\xdc" }, /* EUC-JP bytes */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum http_form_err e;
		const char *out = conv(a, bad[i].label, bad[i].s,
		    strlen(bad[i].s), &e, NULL);
		if (e != HTTP_FORM_ENCODING)
			printf("  %s accepted %zu bytes -> [%s]\n", bad[i].label,
			    strlen(bad[i].s), out ? out : "(null)");
		T_CHECK(e == HTTP_FORM_ENCODING && out == NULL);
	}
	/* NUL is refused in every charset, wherever it is */
	static const char *all[] = { "UTF-8", "EUC-JP", "Shift_JIS",
		"ISO-2022-JP", "ISO-8859-1", "US-ASCII" };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		enum http_form_err e;
		T_CHECK(conv(a, all[i], "a\0b", 3, &e, NULL) == NULL &&
		    e == HTTP_FORM_ENCODING);
		T_CHECK(conv(a, all[i], "ab", 3, &e, NULL) == NULL &&
		    e == HTTP_FORM_ENCODING);
	}
	/* an unknown label never converts */
	enum http_form_err e;
	T_CHECK(conv(a, "KOI8-R", "\xf0\xf2", 2, &e, NULL) == NULL &&
	    e == HTTP_FORM_CHARSET);
	arena_free(a);
}

/* One converter, many values: each starts in the initial shift state,
 * whatever the one before left, and a refusal does not poison the next. */
static void
test_state_reset(void)
{
	arena *a = arena_new(0);
	http_charset *cs = http_charset_new("ISO-2022-JP");
	char *out;
	size_t n;

	T_CHECK(http_charset_to_utf8(cs, "\x1b$BF|", 5, a, &out, &n) ==
	    HTTP_FORM_OK);
	T_STREQ(out, "日");
	T_CHECK(http_charset_to_utf8(cs, "F|", 2, a, &out, &n) == HTTP_FORM_OK);
	T_STREQ(out, "F|");
	T_CHECK(http_charset_to_utf8(cs, "\x1b$BF", 4, a, &out, &n) ==
	    HTTP_FORM_ENCODING && out == NULL);
	T_CHECK(http_charset_to_utf8(cs, "ok", 2, a, &out, &n) == HTTP_FORM_OK);
	T_STREQ(out, "ok");
	http_charset_free(cs);
	cs = http_charset_new("EUC-JP");
	T_CHECK(http_charset_to_utf8(cs, "\xc6", 1, a, &out, &n) ==
	    HTTP_FORM_ENCODING);
	T_CHECK(http_charset_to_utf8(cs, "\xc6\xfc", 2, a, &out, &n) ==
	    HTTP_FORM_OK);
	T_STREQ(out, "日");
	http_charset_free(cs);
	arena_free(a);
}

/* The worst growth of each charset stays within HTTP_CHARSET_GROWTH. */
static void
test_growth(void)
{
	arena *a = arena_new(0);
	enum { N = 3000 };
	static char in[N + 1];
	enum http_form_err e;
	size_t len;
	const char *out;

	/* half-width katakana: one Shift_JIS byte, three of UTF-8 */
	memset(in, '\xb1', N);
	out = conv(a, "Shift_JIS", in, N, &e, &len);
	T_CHECK(e == HTTP_FORM_OK && len == HTTP_CHARSET_GROWTH * N);
	T_CHECK(out && strlen(out) == len && strncmp(out, "ｱｱ", 6) == 0);
	/* EUC-JP kanji: two bytes, three */
	for (int i = 0; i < N; i += 2)
		memcpy(in + i, "\xc6\xfc", 2);
	out = conv(a, "EUC-JP", in, N, &e, &len);
	T_CHECK(e == HTTP_FORM_OK && len == N / 2 * 3);
	/* ISO-8859-1's upper half: one byte, two */
	memset(in, '\xe9', N);
	out = conv(a, "ISO-8859-1", in, N, &e, &len);
	T_CHECK(e == HTTP_FORM_OK && len == 2 * N);
	/* ISO-2022-JP: escapes give nothing, a character three bytes */
	size_t k = 0;
	while (k + 8 <= N) {
		memcpy(in + k, "\x1b$BF|\x1b(B", 8);
		k += 8;
	}
	out = conv(a, "ISO-2022-JP", in, k, &e, &len);
	T_CHECK(e == HTTP_FORM_OK && len == k / 8 * 3);
	(void)out;
	arena_free(a);
}

/* %-decoding to bytes: no UTF-8 check, still no NUL and no bad escape. */
static void
test_urlencoded_bytes(void)
{
	arena *a = arena_new(0);
	struct http_kv *kv;
	size_t n;
	const char *s = "title=%C6%FC%CB%DC&blog_name=%93%fa+x&url=http%3A%2F%2Fa";

	T_CHECK(http_parse_urlencoded_bytes(s, strlen(s), a, 10, &kv, &n) &&
	    n == 3);
	T_STREQ(kv[0].value, "\xc6\xfc\xcb\xdc");
	T_CHECK(kv[0].value_len == 4);
	T_STREQ(kv[1].value, "\x93\xfa x");
	T_STREQ(kv[2].value, "http://a");
	/* the same body as UTF-8 is refused */
	T_CHECK(!http_parse_urlencoded(s, strlen(s), a, 10, &kv, &n));
	static const char *bad[] = { "a=%00", "a%00=1", "a=%", "a=%zz", "a=%4" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_CHECK(!http_parse_urlencoded_bytes(bad[i], strlen(bad[i]), a, 10,
		    &kv, &n) && n == 0 && kv == NULL);
	T_CHECK(!http_parse_urlencoded_bytes("a=1&b=2&c=3", 11, a, 2, &kv, &n));
	arena_free(a);
}

int
main(void)
{
	T_RUN(test_ctype_param);
	T_RUN(test_labels);
	T_RUN(test_convert);
	T_RUN(test_invalid);
	T_RUN(test_state_reset);
	T_RUN(test_growth);
	T_RUN(test_urlencoded_bytes);
	T_DONE();
}
