/*
 * The search tokenizer and the query parser built on it.
 *
 * Hand-written because nothing packaged fits Japanese search on Debian's
 * SQLite (3.40): FTS5's unicode61 tokenizer only splits at spaces and
 * punctuation, so a whole kanji/kana sentence becomes one token, and its
 * trigram tokenizer cannot match a query of fewer than three characters, so
 * 1- and 2-character queries (米, 米国, 露中) find nothing. A dictionary
 * segmenter (MeCab, ICU) is not in Debian's SQLite build and misses the
 * made-up names news is full of. Character n-grams find every substring.
 *
 * The text is NFKC-casefolded (the same utf8proc options as
 * text_nfkc_fold) one extended grapheme cluster at a time, so each
 * normalised code point knows the byte range of the original input it came
 * from; FTS5 wants token offsets into the text it handed us. Then every
 * normalised code point is classified:
 *   CJK   kanji (incl. compatibility ideographs), hiragana, katakana with
 *         the prolonged sound mark, 々 〆 〇: unigrams and bigrams;
 *   word  other letters and digits (Latin, Greek, Hangul ...), plus the
 *         combining marks that follow them: whole words ("F-35" gives
 *         "f" and "35");
 *   else  punctuation, symbols, emoji, spaces, controls, bytes that are
 *         not UTF-8: separators.
 * Positions: in documents each CJK character has one position holding its
 * unigram and, colocated, the bigram it starts; a query run of two or more
 * characters is its chain of bigrams, which as a phrase needs consecutive
 * positions, i.e. the exact substring. A one-character query is its
 * unigram.
 */
#include "text.h"

#include <string.h>
#include <utf8proc.h>

/* Must equal utf8.c's TEXT_NFKC_FOLD: the brute-force tests compare
 * against text_nfkc_fold of whole texts. */
#define NG_FOLD \
	(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | \
	    UTF8PROC_CASEFOLD | UTF8PROC_IGNORE)

#define NG_CLUSTER_MAX 32 /* code points per cluster before we force a cut */
#define NG_DECOMP 256     /* stack room for one cluster's decomposition */

enum ng_class { NG_SEP, NG_CJK, NG_WORD, NG_MARK, NG_SPACE };

/* True for the characters we n-gram. Compatibility ideographs and radicals
 * mostly fold to unified ideographs under NFKC; the rest stay here. */
static bool
ng_is_cjk(int32_t c)
{
	if (c < 0x2E80)
		return false;
	return (c >= 0x4E00 && c <= 0x9FFF) ||   /* unified ideographs */
	    (c >= 0x3041 && c <= 0x3096) ||       /* hiragana */
	    (c >= 0x309D && c <= 0x309F) ||       /* ゝ ゞ ゟ */
	    (c >= 0x30A1 && c <= 0x30FA) ||       /* katakana */
	    (c >= 0x30FC && c <= 0x30FF) ||       /* ー ヽ ヾ ヿ */
	    (c >= 0x3400 && c <= 0x4DBF) ||       /* extension A */
	    (c >= 0x3005 && c <= 0x3007) ||       /* 々 〆 〇 */
	    c == 0x303B ||                        /* 〻 */
	    (c >= 0x31F0 && c <= 0x31FF) ||       /* katakana extensions */
	    (c >= 0x2E80 && c <= 0x2FDF) ||       /* radicals */
	    (c >= 0xF900 && c <= 0xFAFF) ||       /* compatibility ideographs */
	    (c >= 0x1B000 && c <= 0x1B16F) ||     /* kana supplement, ext. */
	    (c >= 0x20000 && c <= 0x3FFFD);       /* extensions B.. and compat */
}

/* The class of one normalised code point. */
static enum ng_class
ng_classify(int32_t c)
{
	if (c < 0x80) {
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c >= 'A' && c <= 'Z'))
			return NG_WORD;
		if (c == ' ' || (c >= '\t' && c <= '\r'))
			return NG_SPACE;
		return NG_SEP;
	}
	if (ng_is_cjk(c))
		return NG_CJK;
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return NG_WORD;
	case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME:
		return NG_MARK;
	case UTF8PROC_CATEGORY_ZS:
	case UTF8PROC_CATEGORY_ZL:
	case UTF8PROC_CATEGORY_ZP:
		return NG_SPACE;
	default:
		return NG_SEP;
	}
}

/* Code points whose NFKC_Casefold is themselves (test_ngram checks every
 * one): a cluster of just one of them, most of Japanese text, skips
 * utf8proc_decompose. */
static bool
ng_is_stable(int32_t c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3041 && c <= 0x3096) ||
	    (c >= 0x30A1 && c <= 0x30FA) || c == 0x30FC ||
	    (c >= 0x3400 && c <= 0x4DBF);
}

/* Decodes one code point of s[i..n); its length, or 0 when s[i] does not
 * start a valid sequence (the byte then counts as a separator). */
static size_t
ng_decode(const unsigned char *s, size_t n, size_t i, int32_t *cp)
{
	if (s[i] < 0x80) {
		*cp = s[i];
		return 1;
	}
	size_t avail = n - i > 4 ? 4 : n - i;
	utf8proc_int32_t c;
	utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)avail, &c);
	if (k <= 0)
		return 0;
	*cp = c;
	return (size_t)k;
}

/* ---- the engine --------------------------------------------------------- */

struct ng {
	const unsigned char *s;
	size_t n;
	enum text_ngram_mode mode;
	text_ngram_fn fn;
	void *ctx;
	int rc;               /* the callback's nonzero answer stops us */

	/* the word being collected */
	char word[TEXT_NGRAM_WORD_MAX + 4];
	size_t wlen, wstart, wend;
	bool in_word;

	/* the CJK run being collected: the previous character */
	char prev[4];
	size_t plen, pstart, pend;
	size_t run;           /* characters in the run so far */

	bool any;             /* a token was emitted */
	bool space;           /* white space since the last token */
	bool cluster_first;   /* the next code point begins its cluster */
};

/* Hands one token to the callback. */
static void
ng_emit(struct ng *g, enum text_ngram_kind kind, const char *tok, size_t len,
    size_t start, size_t end, bool colocated, bool run_start)
{
	struct text_ngram_tok t = {
		.tok = tok, .len = len, .start = start, .end = end,
		.kind = kind, .colocated = colocated, .run_start = run_start,
		.space_before = g->space && g->any && !colocated,
	};
	if (g->rc != 0)
		return;
	g->rc = g->fn(g->ctx, &t);
	g->any = true;
	if (!colocated)
		g->space = false;
}

/* Ends the word in progress, if any. */
static void
ng_word_end(struct ng *g)
{
	if (!g->in_word)
		return;
	ng_emit(g, NGRAM_WORD, g->word, g->wlen, g->wstart, g->wend, false, true);
	g->in_word = false;
	g->wlen = 0;
}

/* Ends the CJK run in progress: in documents its last character still
 * needs its unigram, and so does a one-character query run. */
static void
ng_run_end(struct ng *g)
{
	if (g->run == 0)
		return;
	if (g->mode == NGRAM_INDEX || g->run == 1)
		ng_emit(g, NGRAM_UNI, g->prev, g->plen, g->pstart, g->pend, false,
		    g->run == 1);
	g->run = 0;
}

/* One CJK character (UTF-8 in u) from the original range [cs, ce). */
static void
ng_cjk(struct ng *g, const char *u, size_t ulen, size_t cs, size_t ce)
{
	if (g->run > 0) {
		char bi[8];
		memcpy(bi, g->prev, g->plen);
		memcpy(bi + g->plen, u, ulen);
		if (g->mode == NGRAM_INDEX) {
			ng_emit(g, NGRAM_UNI, g->prev, g->plen, g->pstart, g->pend,
			    false, g->run == 1);
			ng_emit(g, NGRAM_BI, bi, g->plen + ulen, g->pstart, ce,
			    true, false);
		} else {
			ng_emit(g, NGRAM_BI, bi, g->plen + ulen, g->pstart, ce,
			    false, g->run == 1);
		}
	}
	memcpy(g->prev, u, ulen);
	g->plen = ulen;
	g->pstart = cs;
	g->pend = ce;
	g->run++;
}

/* One normalised code point from the original range [cs, ce). */
static void
ng_cp(struct ng *g, int32_t c, size_t cs, size_t ce)
{
	enum ng_class k = ng_classify(c);
	unsigned char u[4];
	size_t ulen;

	/* A mark joins the word only inside its cluster. One that begins a
	 * cluster of its own (after a control or an invisible format
	 * character) is a separator: glued on, it would follow the marks of
	 * the cluster before it out of canonical order, and the token would
	 * not read back as itself (found by fuzz_ngram). */
	if (k == NG_MARK)
		k = g->in_word && !g->cluster_first ? NG_WORD : NG_SEP;
	g->cluster_first = false;
	switch (k) {
	case NG_CJK:
		ng_word_end(g);
		ulen = (size_t)utf8proc_encode_char(c, u);
		ng_cjk(g, (const char *)u, ulen, cs, ce);
		break;
	case NG_WORD:
		ng_run_end(g);
		if (!g->in_word) {
			g->in_word = true;
			g->wstart = cs;
			g->wlen = 0;
		}
		g->wend = ce;
		ulen = (size_t)utf8proc_encode_char(c, u);
		/* an over-long word keeps its first bytes, cut on a code point */
		if (g->wlen + ulen <= TEXT_NGRAM_WORD_MAX) {
			memcpy(g->word + g->wlen, u, ulen);
			g->wlen += ulen;
		}
		break;
	case NG_SPACE:
		ng_word_end(g);
		ng_run_end(g);
		g->space = true;
		break;
	case NG_MARK:
	case NG_SEP:
		ng_word_end(g);
		ng_run_end(g);
		break;
	}
}

/*
 * Normalises the original cluster [cs, ce) and feeds its code points on.
 * ASCII and the common kana/kanji skip utf8proc; a cluster whose
 * decomposition outgrows the stack buffer gets a heap one.
 */
static void
ng_cluster(struct ng *g, size_t cs, size_t ce, int32_t first, size_t ncp)
{
	utf8proc_int32_t stack[NG_DECOMP], *d = stack;
	utf8proc_ssize_t r;

	g->cluster_first = true;
	if (ncp == 1 && first < 0x80) {
		ng_cp(g, first >= 'A' && first <= 'Z' ? first + 32 : first, cs, ce);
		return;
	}
	if (ncp == 1 && ng_is_stable(first)) {
		ng_cp(g, first, cs, ce);
		return;
	}
	r = utf8proc_decompose(g->s + cs, (utf8proc_ssize_t)(ce - cs), d,
	    NG_DECOMP, NG_FOLD);
	if (r > NG_DECOMP) {
		d = xmalloc((size_t)r * sizeof(*d));
		r = utf8proc_decompose(g->s + cs, (utf8proc_ssize_t)(ce - cs), d,
		    r, NG_FOLD);
	}
	if (r > 0)
		r = utf8proc_normalize_utf32(d, r, NG_FOLD);
	for (utf8proc_ssize_t i = 0; i < r && g->rc == 0; i++)
		ng_cp(g, d[i], cs, ce);
	if (d != stack)
		free(d);
}

/*
 * Splits s into tokens, calling fn for each (see text.h). Clusters are
 * those of text_graphemes (utf8proc's stateful UAX #29 breaks), cut after
 * NG_CLUSTER_MAX code points so a pathological run of combining marks
 * costs bounded memory. Returns the first nonzero fn answer, else 0.
 */
int
text_ngram(const char *s, size_t n, enum text_ngram_mode mode,
    text_ngram_fn fn, void *ctx)
{
	struct ng g = {
		.s = (const unsigned char *)s, .n = n, .mode = mode, .fn = fn,
		.ctx = ctx,
	};
	size_t i = 0;

	while (i < n && g.rc == 0) {
		int32_t first, prev, cp, state = 0;
		size_t cs = i, k = ng_decode(g.s, n, i, &first), ncp = 1;
		if (k == 0) { /* not UTF-8: a separator byte */
			ng_word_end(&g);
			ng_run_end(&g);
			i++;
			continue;
		}
		/* Extend the cluster while no break lies before the next code
		 * point. Starting each cluster from a fresh state equals
		 * utf8proc's continuous walk: no rule looks back past a break
		 * (regional-indicator pairs restart there too). */
		prev = first;
		i += k;
		while (i < n && ncp < NG_CLUSTER_MAX) {
			size_t k2 = ng_decode(g.s, n, i, &cp);
			if (k2 == 0 ||
			    utf8proc_grapheme_break_stateful(prev, cp, &state))
				break;
			prev = cp;
			i += k2;
			ncp++;
		}
		ng_cluster(&g, cs, i, first, ncp);
	}
	ng_word_end(&g);
	ng_run_end(&g);
	return g.rc;
}

/* ---- queries --------------------------------------------------------------- */

/* The parser's state: the phrases so far, in the caller's arena. */
struct qp {
	arena *a;
	struct text_query *q;
	size_t cap;            /* phrases allocated */
	size_t tcap;           /* tokens allocated in the last phrase */
	size_t ntok;           /* tokens over all phrases */
};

/* Starts a new phrase of kind k; false when the query is full. */
static bool
qp_phrase(struct qp *p, enum text_query_kind k)
{
	struct text_query *q = p->q;
	if (q->nph == TEXT_QUERY_MAX_PHRASES)
		return false;
	if (q->nph == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 4;
		struct text_query_phrase *v = arena_alloc(p->a, nc * sizeof(*v));
		if (q->nph)
			memcpy(v, q->ph, q->nph * sizeof(*v));
		q->ph = v;
		p->cap = nc;
	}
	memset(&q->ph[q->nph], 0, sizeof(q->ph[0]));
	q->ph[q->nph].kind = k;
	q->nph++;
	p->tcap = 0;
	return true;
}

/* Appends a token to the last phrase. */
static void
qp_token(struct qp *p, const char *tok, size_t len)
{
	struct text_query_phrase *ph = &p->q->ph[p->q->nph - 1];
	if (ph->ntok == p->tcap) {
		size_t nc = p->tcap ? p->tcap * 2 : 4;
		const char **v = arena_alloc(p->a, nc * sizeof(*v));
		if (ph->ntok)
			memcpy(v, ph->tok, ph->ntok * sizeof(*v));
		ph->tok = v;
		p->tcap = nc;
	}
	ph->tok[ph->ntok++] = arena_strndup(p->a, tok, len);
	p->ntok++;
}

/* text_ngram callback: groups query tokens into phrases. A word joins the
 * phrase of the word before it when only punctuation lies between them
 * ("F-35"); a CJK run is one phrase; anything else starts a new one. */
static int
qp_tok(void *ctx, const struct text_ngram_tok *t)
{
	struct qp *p = ctx;
	struct text_query *q = p->q;
	const struct text_query_phrase *last = q->nph ? &q->ph[q->nph - 1] : NULL;
	bool fresh;
	enum text_query_kind k;

	if (p->ntok == TEXT_QUERY_MAX_TOKENS)
		return 1;
	switch (t->kind) {
	case NGRAM_WORD:
		k = TEXT_QUERY_WORDS;
		fresh = last == NULL || last->kind != TEXT_QUERY_WORDS ||
		    t->space_before;
		break;
	case NGRAM_UNI:
		k = TEXT_QUERY_UNIGRAM;
		fresh = true;
		break;
	case NGRAM_BI:
	default:
		k = TEXT_QUERY_BIGRAMS;
		fresh = t->run_start;
		break;
	}
	if (fresh && !qp_phrase(p, k))
		return 1;
	qp_token(p, t->tok, t->len);
	return 0;
}

/* Runs the query through the tokenizer in query mode and groups what comes
 * out; over-long queries keep their first phrases and tokens. */
bool
text_query_parse(arena *a, const char *s, size_t n, struct text_query *out)
{
	struct qp p = {.a = a, .q = out};

	memset(out, 0, sizeof(*out));
	if (!text_utf8_valid(s, n))
		return false;
	text_ngram(s, n, NGRAM_QUERY, qp_tok, &p);
	return true;
}
