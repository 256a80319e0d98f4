/*
 * PostgreSQL's full-text search (db_driver.fts_*): the same answers as
 * SQLite's FTS5 with our n-gram tokenizer, without an extension (pg_bigm
 * and PGroonga are not in Debian 12; pg_trgm cannot look up one or two
 * characters).
 *
 * Each published or scheduled article has a row of search_docs made here,
 * in C, by the tokenizer FTS5 uses (text_ngram, index mode, so the same
 * NFKC casefolding and the same tokens):
 *   grams  its distinct tokens: words, CJK unigrams and bigrams, and each
 *          word's prefixes of 1 to PG_PREFIX code points marked with a
 *          '*' (no token holds '*'), for the prefix a query's last word
 *          is; GIN-indexed;
 *   norm   the token stream as text: title, '\n', body; each word and
 *          each CJK run preceded by a space, the characters of a run
 *          side by side, so one position after another is one character
 *          after another, and nothing else is there.
 * A query phrase becomes the grams it needs (the GIN lookup) and a
 * pattern that occurs in norm exactly when FTS5's phrase matches (looked
 * for only when the grams do not already decide: query_exact):
 *   unigram  the character (a CJK character is only ever in a run);
 *   bigrams  the run itself ("米国軍" from 米国 + 国軍): consecutive
 *            positions holding those bigrams are that substring of a run;
 *   words    " w1 w2 ... wk": each word starts a token and every one but
 *            the last ends at the next space, the last is a prefix.
 * Patterns hold no '\n', so none spans title and body, as no FTS5 phrase
 * spans columns. Both go bound as text: grams joined by spaces, patterns
 * by newlines (neither occurs inside one), split in SQL.
 *
 * The count and the orders are SQLite's (sqlite_search.c): newest first
 * counts up to STORE_SEARCH_COUNT_MAX + 1 and ends its pages at
 * STORE_SEARCH_COUNT_MAX; best first ranks the newest (by id)
 * STORE_SEARCH_COUNT_MAX + 1 visible matches by occurrences of each
 * phrase, title x4, saturated like bm25's term frequency, times the same
 * recency boost, lower first (the statements are in pg_stmts.c).
 *
 * Cost (bench/search.sh with KIJI_BENCH_PG, 10,000 articles, two busy
 * cores): newest first 3-10 ms p50, the GIN bitmap giving the matches
 * without reading any text unless a pattern must be looked for (texts are
 * TOASTed: about 10 us each to decompress); best first 35-55 ms for broad
 * queries, where the planner finds the newest matches by walking the
 * primary key and testing each row's grams (decompressed: 20 us a row)
 * rather than by the bitmap.
 */
#include "store_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define PG_PREFIX 3         /* code points of a word's indexed prefixes */
#define PG_INDEX_CHUNK 256  /* articles read per FTS_INDEX_MANY */

/* ---- documents ---------------------------------------------------------- */

/* One gram: its bytes in the doc's pool. */
struct pg_gram {
	size_t off, len;
};

/* An article being turned into its row. */
struct pg_doc {
	buf norm;
	buf pool;               /* gram bytes, one after another */
	struct pg_gram *g;
	size_t n, cap;
};

/* Adds a gram: len bytes of s, then suffix (a '*' or nothing). */
static void
doc_gram(struct pg_doc *d, const char *s, size_t len, const char *suffix)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 256;
		d->g = xrealloc(d->g, d->cap * sizeof(*d->g));
	}
	d->g[d->n++] = (struct pg_gram){d->pool.len, len + strlen(suffix)};
	buf_put(&d->pool, s, len);
	buf_puts(&d->pool, suffix);
}

/* The byte length of s's first k code points (all of s when shorter). */
static size_t
cp_prefix(const char *s, size_t len, size_t k)
{
	size_t i = 0;
	while (i < len && k > 0) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		k--;
	}
	return i;
}

/* text_ngram callback (index mode): grams and the token stream. */
static int
doc_tok(void *ctx, const struct text_ngram_tok *t)
{
	struct pg_doc *d = ctx;
	switch (t->kind) {
	case NGRAM_WORD:
		buf_putc(&d->norm, ' ');
		buf_put(&d->norm, t->tok, t->len);
		doc_gram(d, t->tok, t->len, "");
		for (size_t k = 1; k <= PG_PREFIX; k++) {
			size_t p = cp_prefix(t->tok, t->len, k);
			doc_gram(d, t->tok, p, "*");
			if (p == t->len)
				break;
		}
		break;
	case NGRAM_UNI:
		if (t->run_start)
			buf_putc(&d->norm, ' ');
		buf_put(&d->norm, t->tok, t->len);
		doc_gram(d, t->tok, t->len, "");
		break;
	case NGRAM_BI:
		doc_gram(d, t->tok, t->len, "");
		break;
	}
	return d->norm.err || d->pool.err ? 1 : 0;
}

/* qsort_r comparator over grams: bytewise, shorter first on a tie. */
static int
gram_cmp(const void *a, const void *b, void *ctx)
{
	const struct pg_gram *x = a, *y = b;
	const char *base = ctx;
	size_t n = x->len < y->len ? x->len : y->len;
	int r = memcmp(base + x->off, base + y->off, n);
	if (r != 0)
		return r;
	return (x->len > y->len) - (x->len < y->len);
}

/*
 * Makes title and body's row into d (norm) and grams (the distinct grams
 * joined by spaces); false when either outgrew its buffer.
 */
static bool
doc_make(struct pg_doc *d, const char *title, const char *body, buf *grams)
{
	buf_reset(&d->norm);
	buf_reset(&d->pool);
	buf_reset(grams);
	d->n = 0;
	text_ngram(title, strlen(title), NGRAM_INDEX, doc_tok, d);
	buf_putc(&d->norm, '\n');
	text_ngram(body, strlen(body), NGRAM_INDEX, doc_tok, d);
	buf_putc(&d->norm, ' ');
	if (d->norm.err || d->pool.err)
		return false;
	if (d->n > 0)
		qsort_r(d->g, d->n, sizeof(*d->g), gram_cmp, d->pool.ptr);
	for (size_t i = 0; i < d->n; i++) {
		if (i > 0 && gram_cmp(&d->g[i - 1], &d->g[i], d->pool.ptr) == 0)
			continue;
		if (grams->len > 0)
			buf_putc(grams, ' ');
		buf_put(grams, d->pool.ptr + d->g[i].off, d->g[i].len);
	}
	return !grams->err;
}

/* ---- index upkeep ---------------------------------------------------------- */

/* A source row read, kept until the upserts (no statement is left open
 * while another runs). */
struct pg_src {
	int64_t id;
	char *title, *body;
};

/* Reads the published and scheduled ones of ids[0..n) (FTS_INDEX_MANY,
 * the ids as an array literal) into *out (heap, *nout rows). */
static enum store_err
index_read(struct conn *c, const int64_t *ids, size_t n, struct pg_src **out,
    size_t *nout)
{
	struct q q = {0};
	enum store_err e;
	buf list;
	struct pg_src *v = xmalloc(n * sizeof(*v));
	size_t m = 0;

	buf_init(&list, 0);
	buf_putc(&list, '{');
	for (size_t i = 0; i < n; i++)
		buf_printf(&list, "%s%" PRId64, i ? "," : "", ids[i]);
	buf_putc(&list, '}');
	if ((e = db_open(&q, c, STMT_FTS_INDEX_MANY)) == STORE_OK) {
		db_text(&q, ":ids", buf_cstr(&list));
		while (m < n && db_row(&q, &e)) {
			size_t tn, bn;
			const char *t = db_col_text(&q, 1, &tn);
			const char *b = db_col_text(&q, 2, &bn);
			v[m].id = db_col_int(&q, 0);
			v[m].title = xmalloc(tn + 1);
			memcpy(v[m].title, t ? t : "", t ? tn : 0);
			v[m].title[t ? tn : 0] = '\0';
			v[m].body = xmalloc(bn + 1);
			memcpy(v[m].body, b ? b : "", b ? bn : 0);
			v[m].body[b ? bn : 0] = '\0';
			m++;
		}
	}
	db_close(&q);
	buf_free(&list);
	*out = v;
	*nout = m;
	return e;
}

/* See db_driver.fts_index: rows read PG_INDEX_CHUNK articles at a time,
 * each made here and upserted (FTS_INDEX). */
enum store_err
db_pg_fts_index(struct conn *c, const int64_t *ids, size_t n)
{
	struct pg_doc d = {0};
	buf grams;
	enum store_err e = STORE_OK;

	buf_init(&d.norm, 0);
	buf_init(&d.pool, 0);
	buf_init(&grams, 0);
	for (size_t at = 0; at < n && e == STORE_OK; at += PG_INDEX_CHUNK) {
		size_t k = n - at < PG_INDEX_CHUNK ? n - at : PG_INDEX_CHUNK;
		struct pg_src *src;
		size_t nsrc;
		e = index_read(c, ids + at, k, &src, &nsrc);
		for (size_t i = 0; i < nsrc; i++) {
			struct q q = {0};
			if (e == STORE_OK && !doc_make(&d, src[i].title,
			    src[i].body, &grams))
				e = STORE_INVALID; /* past BUF_DEFAULT_MAX */
			if (e == STORE_OK &&
			    (e = db_open(&q, c, STMT_FTS_INDEX)) == STORE_OK) {
				db_int(&q, ":id", src[i].id);
				db_text(&q, ":grams", buf_cstr(&grams));
				db_text(&q, ":norm", buf_cstr(&d.norm));
				e = db_exec(&q);
			}
			db_close(&q);
			free(src[i].title);
			free(src[i].body);
		}
		free(src);
	}
	free(d.g);
	buf_free(&d.norm);
	buf_free(&d.pool);
	buf_free(&grams);
	return e;
}

/* See db_driver.fts_rebuild: SEARCH_REBUILD drops the rows of articles
 * no longer indexed and lists those that are, which are made anew. */
enum store_err
db_pg_fts_rebuild(struct conn *c)
{
	struct q q = {0};
	enum store_err e;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;

	if ((e = db_open(&q, c, STMT_SEARCH_REBUILD)) != STORE_OK)
		return e;
	while (db_row(&q, &e)) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			ids = xrealloc(ids, cap * sizeof(*ids));
		}
		ids[n++] = db_col_int(&q, 0);
	}
	db_close(&q);
	if (e == STORE_OK && n > 0)
		e = db_pg_fts_index(c, ids, n);
	free(ids);
	return e;
}

/* ---- queries ---------------------------------------------------------------- */

/* Whether ph's grams alone decide its match, so its pattern need not be
 * looked for in norm (which costs reading norm): one CJK character, one
 * bigram, or one word of at most PG_PREFIX code points (its prefix gram
 * is there exactly when a word starts with it). A broad one- or
 * two-character query then never reads the text. */
static bool
query_exact(const struct text_query_phrase *ph)
{
	if (ph->ntok != 1)
		return false;
	if (ph->kind != TEXT_QUERY_WORDS)
		return true;
	size_t len = strlen(ph->tok[0]);
	return cp_prefix(ph->tok[0], len, PG_PREFIX) == len;
}

/* One phrase's pattern (see the top of the file) onto pats. */
static void
query_pattern(const struct text_query_phrase *ph, buf *pats)
{
	if (pats->len > 0)
		buf_putc(pats, '\n');
	for (size_t j = 0; j < ph->ntok; j++) {
		const char *t = ph->tok[j];
		size_t skip;
		switch (ph->kind) {
		case TEXT_QUERY_WORDS:
			buf_putc(pats, ' ');
			buf_puts(pats, t);
			break;
		case TEXT_QUERY_UNIGRAM:
			buf_puts(pats, t);
			break;
		case TEXT_QUERY_BIGRAMS:
			/* the run: the first bigram, then each next one's
			 * second character */
			skip = j == 0 ? 0 : cp_prefix(t, strlen(t), 1);
			buf_puts(pats, t + skip);
			break;
		}
	}
}

/*
 * q as the bound values (see the top of the file): grams joined by
 * spaces; the patterns of the phrases whose grams do not decide them
 * (search), and of all (score, for best first's occurrences), joined by
 * newlines. A word phrase's last word, a prefix, needs the gram of its
 * first PG_PREFIX code points (all of it when shorter) with '*'. False
 * when a buffer refused.
 */
static bool
query_bind(const struct text_query *q, buf *grams, buf *search, buf *score)
{
	for (size_t i = 0; i < q->nph; i++) {
		const struct text_query_phrase *ph = &q->ph[i];
		if (ph->ntok == 0)
			continue;
		for (size_t j = 0; j < ph->ntok; j++) {
			const char *t = ph->tok[j];
			if (grams->len > 0)
				buf_putc(grams, ' ');
			if (ph->kind == TEXT_QUERY_WORDS && j + 1 == ph->ntok) {
				buf_put(grams, t,
				    cp_prefix(t, strlen(t), PG_PREFIX));
				buf_putc(grams, '*');
			} else {
				buf_puts(grams, t);
			}
		}
		if (!query_exact(ph))
			query_pattern(ph, search);
		query_pattern(ph, score);
	}
	return !grams->err && !search->err && !score->err;
}

/* A hit: a light article with its body text whole, then the score. */
static void
hit_read(struct q *st, arena *a, void *row)
{
	struct store_hit *h = row;
	db_article_read(st, a, &h->article, true);
	h->article.body_text = db_col_str(a, st, AC_TEXT);
	h->score = db_col_double(st, AC_COMMENTS + 1);
}

/* See db_driver.fts_page: SEARCH_IDS counts (up to one past the most we
 * count), then SEARCH_WALK (newest first) or SEARCH (best first) reads
 * the page. */
enum store_err
db_pg_fts_page(struct conn *c, const struct text_query *tq,
    enum store_search_sort sort, int64_t now, int64_t offset, int64_t limit,
    arena *a, struct store_hit **out, size_t *n, int64_t *total)
{
	struct q q = {0};
	enum store_err e;
	buf grams, pats, score;
	int64_t visible = 0;

	buf_init(&grams, 1 << 16);
	buf_init(&pats, 1 << 16);
	buf_init(&score, 1 << 16);
	if (!query_bind(tq, &grams, &pats, &score)) {
		e = STORE_INVALID;
		goto out;
	}
	if ((e = db_open(&q, c, STMT_SEARCH_IDS)) != STORE_OK)
		goto out;
	db_text(&q, ":grams", buf_cstr(&grams));
	db_text(&q, ":pats", buf_cstr(&pats));
	db_int(&q, ":now", now);
	db_int(&q, ":max", STORE_SEARCH_COUNT_MAX + 1);
	if (db_row(&q, &e))
		visible = db_col_int(&q, 0);
	db_close(&q);
	if (e != STORE_OK)
		goto out;
	if (visible > STORE_SEARCH_COUNT_MAX) {
		/* "more"; past it there are no pages */
		visible = STORE_SEARCH_COUNT_MAX + 1;
		if (limit > STORE_SEARCH_COUNT_MAX - offset)
			limit = STORE_SEARCH_COUNT_MAX - offset;
	}
	if (limit > visible - offset)
		limit = visible - offset;
	if (total != NULL)
		*total = visible;
	if (limit <= 0)
		goto out;
	if ((e = db_open(&q, c, sort == SEARCH_RELEVANCE ? STMT_SEARCH :
	    STMT_SEARCH_WALK)) != STORE_OK)
		goto out;
	db_text(&q, ":grams", buf_cstr(&grams));
	db_text(&q, ":pats", buf_cstr(&pats));
	db_int(&q, ":now", now);
	if (sort == SEARCH_RELEVANCE) {
		db_text(&q, ":score", buf_cstr(&score));
		db_int(&q, ":max", STORE_SEARCH_COUNT_MAX + 1);
	}
	db_int(&q, ":limit", limit);
	db_int(&q, ":offset", offset);
	*out = db_rows(&q, a, sizeof(**out), hit_read, n, &e);
	db_close(&q);
out:
	buf_free(&grams);
	buf_free(&pats);
	buf_free(&score);
	return e;
}
