/*
 * The search tokenizer (src/text/ngram.c) and the query side built on it:
 * NFKC-casefolding with offsets into the original, CJK unigrams and
 * bigrams and their positions, Latin words, emoji and symbols as
 * separators, combining marks, invalid UTF-8, the query parser and the
 * FTS5 expression it becomes (src/store/fts.c).
 */
#include "../../src/store/fts.h"
#include "../../src/text/text.h"
#include "t.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- helpers ------------------------------------------------------------ */

struct dump {
	buf b;
	bool offsets;
};

/* Writes each token as "tok@start-end" ("+" before colocated ones,
 * "_" before ones with white space before them), space-separated. */
static int
dump_tok(void *ctx, const struct text_ngram_tok *t)
{
	struct dump *d = ctx;
	if (d->b.len)
		buf_putc(&d->b, ' ');
	if (t->colocated)
		buf_putc(&d->b, '+');
	if (t->space_before)
		buf_putc(&d->b, '_');
	buf_put(&d->b, t->tok, t->len);
	if (d->offsets)
		buf_printf(&d->b, "@%zu-%zu", t->start, t->end);
	return 0;
}

static const char *
toks_n(const char *s, size_t n, enum text_ngram_mode mode, bool offsets)
{
	static char res[4096];
	struct dump d = {.offsets = offsets};
	buf_init(&d.b, 0);
	T_CHECK(text_ngram(s, n, mode, dump_tok, &d) == 0);
	snprintf(res, sizeof(res), "%s", buf_cstr(&d.b));
	buf_free(&d.b);
	return res;
}

/* Index-mode tokens of s without offsets. */
static const char *
idx(const char *s)
{
	return toks_n(s, strlen(s), NGRAM_INDEX, false);
}

static const char *
idx_off(const char *s)
{
	return toks_n(s, strlen(s), NGRAM_INDEX, true);
}

static const char *
qry(const char *s)
{
	return toks_n(s, strlen(s), NGRAM_QUERY, false);
}

/* The FTS5 expression for a query ("(invalid)" when refused). */
static const char *
expr(const char *s)
{
	static char res[4096];
	arena *a = arena_new(0);
	struct text_query q;
	buf b;
	buf_init(&b, 0);
	if (text_query_parse(a, s, strlen(s), &q))
		store_fts_expr(&b, &q);
	else
		buf_puts(&b, "(invalid)");
	snprintf(res, sizeof(res), "%s", buf_cstr(&b));
	buf_free(&b);
	arena_free(a);
	return res;
}

/* ---- normalisation -------------------------------------------------------- */

static void
test_nfkc_width_and_case(void)
{
	/* full-width Latin and digits fold to ASCII, upper to lower */
	T_STREQ(idx_off("ＮＡＴＯ"), "nato@0-12");
	T_STREQ(idx("NATO"), "nato");
	T_STREQ(idx("Ｆ－３５"), "f 35");
	T_STREQ(idx("２０２２年"), "2022 年");
	/* half-width katakana with voiced marks become full-width, one
	 * character per cluster, offsets on the original bytes */
	T_STREQ(idx_off("ｶﾞｲﾄﾞ"), "ガ@0-6 +ガイ@0-9 イ@6-9 +イド@6-15 ド@9-15");
	/* a compatibility character that expands: every piece points at it */
	T_STREQ(idx_off("㍿"),
	    "株@0-3 +株式@0-3 式@0-3 +式会@0-3 会@0-3 +会社@0-3 社@0-3");
	/* case folding beyond ASCII */
	T_STREQ(idx("Straße ÉCOLE"), "strasse _école");
	/* the ideographic space separates like a space */
	T_STREQ(idx("米国\xE3\x80\x80政府"), "米 +米国 国 _政 +政府 府");
}

/* Default-ignorable code points vanish, so they cannot split a word. */
static void
test_nfkc_ignorables(void)
{
	T_STREQ(idx("米\xE2\x80\x8B国"), "米 +米国 国");       /* ZWSP */
	T_STREQ(idx("na\xC2\xADto"), "nato");                 /* soft hyphen */
	T_STREQ(idx_off("ab\xE2\x80\x8B" "cd"), "abcd@0-7");
}

/* The common kana and kanji skip utf8proc; that shortcut must give what
 * utf8proc gives for every one of them. */
static void
test_nfkc_fast_path(void)
{
	static const int32_t ranges[][2] = {
		{0x3041, 0x3096}, {0x30A1, 0x30FA}, {0x30FC, 0x30FC},
		{0x3400, 0x4DBF}, {0x4E00, 0x9FFF},
	};
	size_t bad = 0;
	for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++)
		for (int32_t c = ranges[r][0]; c <= ranges[r][1]; c++) {
			utf8proc_uint8_t u[4];
			size_t n = (size_t)utf8proc_encode_char(c, u);
			buf b;
			buf_init(&b, 0);
			text_nfkc_fold(&b, (const char *)u, n);
			if (b.len != n || memcmp(b.ptr, u, n) != 0 ||
			    strcmp(idx((const char *)memcpy((char[8]){0}, u, n)),
				buf_cstr(&b)) != 0)
				bad++;
			buf_free(&b);
		}
	T_CHECK(bad == 0);
}

/* ---- CJK ---------------------------------------------------------------------- */

static void
test_cjk_index(void)
{
	T_STREQ(idx("米"), "米");
	T_STREQ(idx_off("米国"), "米@0-3 +米国@0-6 国@3-6");
	T_STREQ(idx("露中"), "露 +露中 中");
	/* kanji, hiragana and katakana (with ー) form one run */
	T_STREQ(idx("日本のレーダー"),
	    "日 +日本 本 +本の の +のレ レ +レー ー +ーダ ダ +ダー ー");
	/* 々 belongs to the run; ・ and 、 end it */
	T_STREQ(idx("人々・国、米"), "人 +人々 々 国 米");
	/* CJK next to Latin: separate runs, no bigram across */
	T_STREQ(idx("F35戦闘機A"), "f35 戦 +戦闘 闘 +闘機 機 a");
	/* compatibility ideographs fold to unified ones */
	T_STREQ(idx("\xEF\xA4\x80"), "豈"); /* U+F900 */
}

static void
test_cjk_query(void)
{
	T_STREQ(qry("米"), "米");
	T_STREQ(qry("米国"), "米国");
	T_STREQ(qry("米国政府"), "米国 国政 政府");
	T_STREQ(qry("米 国"), "米 _国");
	T_STREQ(qry("米・国"), "米 国");
	T_STREQ(qry("ＮＡＴＯ軍"), "nato 軍");
}

/* A query run's bigrams sit at consecutive document positions, which is
 * what makes the FTS5 phrase of them an exact substring match. */
static void
test_cjk_positions(void)
{
	/* positions: primary tokens count, colocated ones share */
	T_STREQ(idx("政府米国"), "政 +政府 府 +府米 米 +米国 国");
}

/* ---- words ------------------------------------------------------------------------ */

static void
test_latin_words(void)
{
	T_STREQ(idx_off("F-35"), "f@0-1 35@2-4");
	T_STREQ(idx("Hello, World! it's 3.14"), "hello _world _it s _3 14");
	T_STREQ(idx("snake_case-word"), "snake case word");
	/* other scripts with spaces are words too */
	T_STREQ(idx("Αθήνα 서울 Москва"), "αθήνα _서울 _москва");
	/* an over-long word keeps its first TEXT_NGRAM_WORD_MAX bytes, cut on
	 * a character, and still covers its whole source */
	char longw[300];
	memset(longw, 'a', 200);
	longw[200] = '\0';
	const char *r = idx_off(longw);
	char want[300];
	memset(want, 'a', TEXT_NGRAM_WORD_MAX);
	snprintf(want + TEXT_NGRAM_WORD_MAX, sizeof(want) - TEXT_NGRAM_WORD_MAX,
	    "@0-200");
	T_STREQ(r, want);
	char ew[400] = "";
	for (int i = 0; i < 100; i++)
		strcat(ew, "\xC3\xA9"); /* é: 2 bytes, 64 is a boundary */
	r = idx(ew);
	T_CHECK(strlen(r) == TEXT_NGRAM_WORD_MAX);
}

/* ---- separators ------------------------------------------------------------------ */

static void
test_emoji_and_symbols(void)
{
	T_STREQ(idx("米😀国"), "米 国");
	T_STREQ(idx("👍🏽"), "");
	T_STREQ(idx("\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D"
	    "\xF0\x9F\x91\xA7"), ""); /* ZWJ family */
	T_STREQ(idx("🇯🇵日本"), "日 +日本 本");
	T_STREQ(idx("「米国」【速報】©2024 ★"), "米 +米国 国 速 +速報 報 2024");
	T_STREQ(idx("...!?#$%&"), "");
	T_STREQ(idx(""), "");
	/* a keycap emoji: the digit stays a word with its enclosing mark */
	T_STREQ(idx("1\xEF\xB8\x8F\xE2\x83\xA3"), "1\xE2\x83\xA3");
}

/* ---- combining marks ------------------------------------------------------------ */

static void
test_combining_marks(void)
{
	/* composed where Unicode has the composition */
	T_STREQ(idx_off("e\xCC\x81t\xC3\xA9"), "\xC3\xA9t\xC3\xA9@0-6");
	T_STREQ(idx_off("\xE3\x81\x8B\xE3\x82\x99"), "\xE3\x81\x8C@0-6"); /* か゛ */
	/* a mark with no composition: part of a word, but it ends a CJK run
	 * (あ゙ keeps あ findable; the pair is not a CJK character) */
	T_STREQ(idx("q\xCC\x83x"), "q\xCC\x83x");
	T_STREQ(idx("\xE3\x81\x82\xE3\x82\x99\xE3\x81\x84"), "あ い");
	/* a mark on nothing is a separator */
	T_STREQ(idx("\xCC\x81" "abc"), "abc");
	/* hundreds of marks on one base: bounded, no crash */
	char zalgo[2048] = "a";
	for (int i = 0; i < 500; i++)
		strcat(zalgo, "\xCC\x81");
	T_CHECK(strncmp(idx(zalgo), "\xC3\xA1", 2) == 0);
}

/* ---- invalid UTF-8 ---------------------------------------------------------------- */

static void
test_invalid_utf8(void)
{
	T_STREQ(idx("ab\xFF" "cd"), "ab cd");
	T_STREQ(idx("米\xFF国"), "米 国");
	T_STREQ(idx("\xE3\x81"), "");                  /* truncated */
	T_STREQ(idx("\xC0\xAF" "x"), "x");             /* overlong */
	T_STREQ(idx("\xED\xA0\x80" "y"), "y");         /* surrogate */
	T_STREQ(idx_off("\x80\x80z"), "z@2-3");
	/* the query side refuses it */
	T_STREQ(expr("ab\xFF"), "(invalid)");
	/* NUL is a separator, not an end */
	T_STREQ(toks_n("ab\0cd", 5, NGRAM_INDEX, false), "ab cd");
}

/* Every token's source range, normalised, holds the token: offsets point
 * at the original text (checked over a mixed sample, at every cut). */
static int
check_range(void *ctx, const struct text_ngram_tok *t)
{
	const char *s = ctx;
	buf b;
	buf_init(&b, 0);
	text_nfkc_fold(&b, s + t->start, t->end - t->start);
	size_t k = t->len < 8 ? t->len : 8; /* a capped word: its head */
	bool ok = t->end > t->start && memmem(b.ptr ? b.ptr : "", b.len,
	    t->tok, k) != NULL;
	buf_free(&b);
	return ok ? 0 : 1;
}

static void
test_offsets_roundtrip(void)
{
	static const char *const samples[] = {
		"ノルヴィアがＦ－３５Ａ戦闘機を導入。ｶﾞｲﾄﾞ㍿ café e\xCC\x81 1\xE2\x83\xA3",
		"米国と露中の首脳会談、NATO加盟国は2,000人を派遣😀👍🏽人々",
	};
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const char *s = samples[i];
		T_CHECK(text_ngram(s, strlen(s), NGRAM_INDEX, check_range,
		    (void *)s) == 0);
		T_CHECK(text_ngram(s, strlen(s), NGRAM_QUERY, check_range,
		    (void *)s) == 0);
	}
}

/* A nonzero callback answer stops the tokenizer and comes back. */
static int
stop_at_2(void *ctx, const struct text_ngram_tok *t)
{
	(void)t;
	return ++*(int *)ctx == 2 ? 42 : 0;
}

static void
test_callback_stop(void)
{
	int n = 0;
	T_CHECK(text_ngram("a b c d", 7, NGRAM_INDEX, stop_at_2, &n) == 42);
	T_CHECK(n == 2);
}

/* ---- queries ---------------------------------------------------------------------- */

static void
test_query_parse(void)
{
	arena *a = arena_new(0);
	struct text_query q;
	T_CHECK(text_query_parse(a, "F-35 戦闘機 米", strlen("F-35 戦闘機 米"), &q));
	T_CHECK(q.nph == 3);
	if (q.nph == 3) {
		T_CHECK(q.ph[0].kind == TEXT_QUERY_WORDS && q.ph[0].ntok == 2);
		T_STREQ(q.ph[0].tok[1], "35");
		T_CHECK(q.ph[1].kind == TEXT_QUERY_BIGRAMS && q.ph[1].ntok == 2);
		T_STREQ(q.ph[1].tok[1], "闘機");
		T_CHECK(q.ph[2].kind == TEXT_QUERY_UNIGRAM && q.ph[2].ntok == 1);
	}
	/* nothing searchable */
	T_CHECK(text_query_parse(a, " 、。！😀 ", strlen(" 、。！😀 "), &q));
	T_CHECK(q.nph == 0);
	T_CHECK(text_query_parse(a, "", 0, &q) && q.nph == 0);
	/* bounded */
	char big[4096] = "";
	for (int i = 0; i < 200; i++)
		strcat(big, "ab ");
	T_CHECK(text_query_parse(a, big, strlen(big), &q));
	T_CHECK(q.nph == TEXT_QUERY_MAX_PHRASES);
	big[0] = '\0';
	for (int i = 0; i < 300; i++)
		strcat(big, "米");
	T_CHECK(text_query_parse(a, big, strlen(big), &q));
	T_CHECK(q.nph == 1 && q.ph[0].ntok == TEXT_QUERY_MAX_TOKENS);
	arena_free(a);
}

/* The expression quotes every token: operators, column filters, NEAR,
 * quotes and parentheses that a reader types stay plain text. */
static void
test_query_expr(void)
{
	T_STREQ(expr("米"), "\"米\"");
	T_STREQ(expr("米国"), "\"米国\"");
	T_STREQ(expr("米国政府"), "\"米国\" + \"国政\" + \"政府\"");
	T_STREQ(expr("ＮＡＴＯ"), "\"nato\" *");
	T_STREQ(expr("nat"), "\"nat\" *");
	T_STREQ(expr("F-35"), "\"f\" + \"35\" *");
	T_STREQ(expr("NATO 米国"), "\"nato\" * AND \"米国\"");
	T_STREQ(expr("a OR b"), "\"a\" * AND \"or\" * AND \"b\" *");
	T_STREQ(expr("title:x NEAR(\"y\" z) -w ^v *"),
	    "\"title\" + \"x\" * AND \"near\" + \"y\" * AND \"z\" * AND \"w\" * "
	    "AND \"v\" *");
	T_STREQ(expr("\"\"\"\""), "");
	T_STREQ(expr("😀"), "");
}

/* Every token the parser keeps, quoted and tokenised again in query mode
 * (what FTS5 does with the expression), is exactly one token, itself. */
static int
count_one(void *ctx, const struct text_ngram_tok *t)
{
	const char *want = ctx;
	return strlen(want) == t->len && memcmp(want, t->tok, t->len) == 0 ? 0 : 1;
}

static int
count_toks(void *ctx, const struct text_ngram_tok *t)
{
	(void)t;
	(*(int *)ctx)++;
	return 0;
}

static void
test_query_tokens_stable(void)
{
	static const char *const qs[] = {
		"ＮＡＴＯ軍のＦ－３５Ａ", "ｶﾞｲﾄﾞ㍿ Straße", "q\xCC\x83x café",
		"人々の暮らし", "1\xEF\xB8\x8F\xE2\x83\xA3 Ⅻ ½",
		/* O, U+302E (ccc 224), U+202D (an invisible format
		 * character: a cluster break), U+3099 (ccc 8): the last
		 * mark begins a cluster of its own and is no part of the
		 * word (found by fuzz_ngram) */
		" =O\xE3\x80\xAE\xE2\x80\xAD\xE3\x82\x99 ",
	};
	arena *a = arena_new(0);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		struct text_query q;
		T_CHECK(text_query_parse(a, qs[i], strlen(qs[i]), &q));
		for (size_t p = 0; p < q.nph; p++)
			for (size_t k = 0; k < q.ph[p].ntok; k++) {
				const char *t = q.ph[p].tok[k];
				int n = 0;
				text_ngram(t, strlen(t), NGRAM_QUERY, count_toks, &n);
				T_CHECK(n == 1);
				T_CHECK(text_ngram(t, strlen(t), NGRAM_QUERY,
				    count_one, (void *)t) == 0);
			}
	}
	arena_free(a);
}

int
main(void)
{
	T_RUN(test_nfkc_width_and_case);
	T_RUN(test_nfkc_ignorables);
	T_RUN(test_nfkc_fast_path);
	T_RUN(test_cjk_index);
	T_RUN(test_cjk_query);
	T_RUN(test_cjk_positions);
	T_RUN(test_latin_words);
	T_RUN(test_emoji_and_symbols);
	T_RUN(test_combining_marks);
	T_RUN(test_invalid_utf8);
	T_RUN(test_offsets_roundtrip);
	T_RUN(test_callback_stop);
	T_RUN(test_query_parse);
	T_RUN(test_query_expr);
	T_RUN(test_query_tokens_stable);
	T_DONE();
}
