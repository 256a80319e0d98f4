/*
 * Full-text search, every backend: the reader's query parsed
 * (text_query_parse), the driver asked for one page of matches
 * (db_driver.fts_page: sqlite_search.c, pg_search.c), and snippets with
 * the matches marked as byte spans so the site can highlight them through
 * its escaping writer.
 *
 * Both backends match what the n-gram tokenizer (src/text/ngram.c) makes
 * of the text: a phrase of CJK bigrams as consecutive positions, a word
 * phrase with its last word a prefix. The index covers published and
 * scheduled articles; the store brackets every write of an article's
 * title, body_text or status with FTS_UNINDEX and the driver's fts_index
 * (articles.c), and the visibility rule is applied when searching.
 */
#include "store_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define FTS_SNIPPET_CHARS 110 /* grapheme clusters shown of the body */
#define FTS_SNIPPET_BEFORE 24 /* code points of context before the match */
#define FTS_SNIPPET_BYTES 768 /* text read past the first match for marks:
                                * 110 clusters of kana/kanji fit */
#define FTS_ELLIPSIS "\xE2\x80\xA6"

/* ---- snippets ------------------------------------------------------------ */

/* One position of a tokenised text, as FTS5 numbers them: the primary
 * token, and the bigram colocated with it (CJK only). Token bytes live in
 * the doc's pool. */
struct fts_pos {
	enum text_ngram_kind kind;
	size_t tok, len;        /* in pool */
	size_t bi, blen;        /* colocated bigram, blen 0 when none */
	size_t start, end, bend;
};

/* A text being tokenised for marking, and the spans found in it: scratch
 * space reused for every hit of one search. */
struct fts_doc {
	const struct text_query *q;
	struct fts_pos *p;
	size_t n, cap;
	buf pool;
	size_t base;            /* where in the text tokenising began */
	size_t checked;         /* positions tried as the end of a match */
	size_t stop;            /* stop at tokens starting past this byte */
	size_t window;          /* bytes kept going after the first match */
	struct store_span *spans;
	size_t scap;
};

/* True when pool bytes [off, off+len) equal s (prefix: start with s). */
static bool
fts_eq(const struct fts_doc *d, size_t off, size_t len, const char *s,
    bool prefix)
{
	size_t k = strlen(s);
	if (prefix ? len < k : len != k)
		return false;
	return memcmp(d->pool.ptr + off, s, k) == 0;
}

/* Does phrase ph match at positions i..? Sets the matched byte range. The
 * same position rules as FTS5 over the same tokens, so what the index
 * matched is what gets marked. */
static bool
fts_match_at(const struct fts_doc *d, size_t i,
    const struct text_query_phrase *ph, struct store_span *sp)
{
	if (ph->ntok == 0 || i >= d->n || d->n - i < ph->ntok)
		return false;
	for (size_t j = 0; j < ph->ntok; j++) {
		const struct fts_pos *p = &d->p[i + j];
		switch (ph->kind) {
		case TEXT_QUERY_WORDS:
			if (p->kind != NGRAM_WORD || !fts_eq(d, p->tok, p->len,
			    ph->tok[j], j + 1 == ph->ntok))
				return false;
			break;
		case TEXT_QUERY_UNIGRAM:
			if (p->kind != NGRAM_UNI ||
			    !fts_eq(d, p->tok, p->len, ph->tok[j], false))
				return false;
			break;
		case TEXT_QUERY_BIGRAMS:
			if (p->kind != NGRAM_UNI || p->blen == 0 ||
			    !fts_eq(d, p->bi, p->blen, ph->tok[j], false))
				return false;
			break;
		}
	}
	const struct fts_pos *last = &d->p[i + ph->ntok - 1];
	sp->off = d->p[i].start;
	sp->len = (ph->kind == TEXT_QUERY_BIGRAMS ? last->bend : last->end) -
	    sp->off;
	return true;
}

/* Until the first match is seen, tries every phrase ending at each
 * completed position (all but the newest, whose bigram may follow); once
 * seen, the text is read only window bytes further. */
static void
fts_doc_first(struct fts_doc *d)
{
	for (; d->stop == SIZE_MAX && d->checked + 1 < d->n; d->checked++)
		for (size_t k = 0; k < d->q->nph; k++) {
			const struct text_query_phrase *ph = &d->q->ph[k];
			struct store_span sp;
			if (ph->ntok > d->checked + 1)
				continue;
			if (fts_match_at(d, d->checked + 1 - ph->ntok, ph, &sp)) {
				d->stop = sp.off + d->window;
				break;
			}
		}
}

/* text_ngram callback: records positions, stops past the window. */
static int
fts_doc_tok(void *ctx, const struct text_ngram_tok *t)
{
	struct fts_doc *d = ctx;
	if (t->colocated) {
		if (d->n == 0)
			return 0;
		struct fts_pos *p = &d->p[d->n - 1];
		p->bi = d->pool.len;
		p->blen = t->len;
		p->bend = d->base + t->end;
		buf_put(&d->pool, t->tok, t->len);
		return 0;
	}
	if (d->base + t->start > d->stop)
		return 1;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 256;
		d->p = xrealloc(d->p, d->cap * sizeof(*d->p));
	}
	d->p[d->n++] = (struct fts_pos){
		.kind = t->kind, .tok = d->pool.len, .len = t->len,
		.start = d->base + t->start, .end = d->base + t->end,
	};
	buf_put(&d->pool, t->tok, t->len);
	if (d->window != SIZE_MAX)
		fts_doc_first(d);
	return d->pool.err ? 1 : 0;
}

static int
fts_span_cmp(const void *a, const void *b)
{
	const struct store_span *x = a, *y = b;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return (x->len > y->len) - (x->len < y->len);
}

/*
 * Where tokenising s may begin for a snippet: the start of the line that
 * holds the earliest verbatim occurrence of a phrase's first token (most
 * text is already in normal form), so a long article is not tokenised
 * from its top for every hit. A line start is a token boundary (a line
 * break separates), so what matches from there matches in the whole text.
 * 0 when no token occurs verbatim (full-width text, capitals).
 */
static size_t
fts_scan_from(const struct text_query *q, const char *s, size_t n)
{
	size_t best = n;
	for (size_t i = 0; i < q->nph; i++) {
		const char *t = q->ph[i].tok[0], *p;
		bool ascii = true;
		for (const char *c = t; *c && ascii; c++)
			ascii = (unsigned char)*c < 0x80;
		/* words are folded to lower case; the text may not be */
		p = ascii ? strcasestr(s, t) : memmem(s, best, t, strlen(t));
		if (p != NULL && (size_t)(p - s) < best)
			best = (size_t)(p - s);
	}
	if (best == n)
		return 0;
	while (best > 0 && s[best - 1] != '\n')
		best--;
	return best;
}

/*
 * The matches of q's phrases in s, sorted and merged into disjoint spans
 * (arena array in *out): every one when window is SIZE_MAX, else those up
 * to about window bytes past the first one from fts_scan_from (a snippet
 * shows no more, and a long article is not read to its end for each hit).
 */
static size_t
fts_spans(const struct text_query *q, const char *s, size_t window,
    struct fts_doc *d, arena *a, struct store_span **out)
{
	struct store_span *v;
	size_t n, len = strlen(s);

	*out = NULL;
	d->q = q;
	d->window = window;
	d->base = window == SIZE_MAX ? 0 : fts_scan_from(q, s, len);
	for (;;) {
		d->n = 0;
		d->checked = 0;
		d->stop = SIZE_MAX;
		buf_reset(&d->pool);
		text_ngram(s + d->base, len - d->base, NGRAM_INDEX, fts_doc_tok,
		    d);
		v = d->spans;
		n = 0;
		for (size_t i = 0; i < d->n; i++)
			for (size_t k = 0; k < q->nph; k++) {
				struct store_span sp;
				if (!fts_match_at(d, i, &q->ph[k], &sp))
					continue;
				if (n == d->scap) {
					d->scap = d->scap ? d->scap * 2 : 16;
					v = d->spans = xrealloc(v,
					    d->scap * sizeof(*v));
				}
				v[n++] = sp;
			}
		if (n > 0 || d->base == 0)
			break;
		/* the verbatim occurrence was no match (inside a longer
		 * word): read the whole text after all */
		d->base = 0;
	}
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), fts_span_cmp);
	size_t m = 0;
	for (size_t i = 1; i < n; i++) {
		size_t end = v[m].off + v[m].len;
		if (v[i].off <= end) {
			if (v[i].off + v[i].len > end)
				v[m].len = v[i].off + v[i].len - v[m].off;
		} else {
			v[++m] = v[i];
		}
	}
	*out = arena_alloc(a, (m + 1) * sizeof(**out));
	memcpy(*out, v, (m + 1) * sizeof(**out));
	return m + 1;
}

/* True when code point c should not begin a snippet: it belongs to the
 * cluster before it (marks, joiners, variation selectors, skin tones). */
static bool
fts_extends(int32_t c)
{
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME:
		return true;
	default:
		return c == 0x200D || (c >= 0xFE00 && c <= 0xFE0F) ||
		    (c >= 0x1F3FB && c <= 0x1F3FF) ||
		    (c >= 0xE0020 && c <= 0xE007F);
	}
}

/*
 * The snippet: from a little before the first match (not across a line
 * break) for FTS_SNIPPET_CHARS clusters, "…" where cut, line breaks as
 * spaces, and the spans that fall inside it moved to its offsets.
 */
static void
fts_snippet(const char *body, const struct store_span *sp, size_t nsp,
    arena *a, struct store_hit *h)
{
	const unsigned char *s = (const unsigned char *)body;
	size_t n = strlen(body), start = 0;
	buf out;

	if (nsp > 0) {
		start = sp[0].off;
		for (int k = 0; k < FTS_SNIPPET_BEFORE && start > 0; k++) {
			size_t j = start - 1;
			while (j > 0 && (s[j] & 0xC0) == 0x80)
				j--;
			if (s[j] == '\n' || s[j] == '\r')
				break;
			start = j;
		}
		while (start < sp[0].off) {
			utf8proc_int32_t c;
			utf8proc_ssize_t k = utf8proc_iterate(s + start,
			    (utf8proc_ssize_t)(n - start), &c);
			if (k <= 0 || !fts_extends(c))
				break;
			start += (size_t)k;
		}
	}
	buf_init(&out, 0);
	if (start > 0)
		buf_puts(&out, FTS_ELLIPSIS);
	size_t lead = out.len;
	bool cut = text_truncate(&out, body + start, n - start, FTS_SNIPPET_CHARS);
	size_t kept = out.len - lead - (cut ? strlen(FTS_ELLIPSIS) : 0);
	for (size_t i = lead; i < lead + kept; i++)
		if (out.ptr[i] == '\n' || out.ptr[i] == '\r' || out.ptr[i] == '\t')
			out.ptr[i] = ' ';
	h->snippet = arena_strndup(a, buf_cstr(&out), out.len);
	buf_free(&out);

	h->marks = arena_alloc(a, (nsp ? nsp : 1) * sizeof(*h->marks));
	h->nmarks = 0;
	for (size_t i = 0; i < nsp; i++) {
		size_t b = sp[i].off, e = sp[i].off + sp[i].len;
		if (e <= start || b >= start + kept)
			continue;
		if (b < start)
			b = start;
		if (e > start + kept)
			e = start + kept;
		h->marks[h->nmarks++] = (struct store_span){b - start + lead,
		    e - b};
	}
}

/* ---- the search ---------------------------------------------------------- */

enum store_err
store_search(store *s, const char *query, int64_t now, int64_t offset,
    int64_t limit, arena *a, struct store_hit **out, size_t *n,
    int64_t *total)
{
	return store_search_sorted(s, query, SEARCH_NEWEST, now, offset, limit,
	    a, out, n, total);
}

/* Parses, asks the driver for the page (count and page in one read
 * transaction, so the total matches the page), then marks each hit's
 * title and cuts its snippet. */
enum store_err
store_search_sorted(store *s, const char *query, enum store_search_sort sort,
    int64_t now, int64_t offset, int64_t limit, arena *a,
    struct store_hit **out, size_t *n, int64_t *total)
{
	struct conn *c = db_conn_get(s);
	struct text_query q;
	struct tx t = {0};
	struct store_hit *v = NULL;
	size_t cnt = 0;
	enum store_err e;

	*out = NULL;
	*n = 0;
	if (total != NULL)
		*total = 0;
	if (query == NULL || (sort != SEARCH_NEWEST && sort !=
	    SEARCH_RELEVANCE) || !text_query_parse(a, query, strlen(query), &q))
		return STORE_INVALID;
	if (q.nph == 0)
		return STORE_OK;
	if (c == NULL)
		return STORE_ERROR;
	if (offset < 0)
		offset = 0;
	if ((e = db_tx_begin(c, false, &t)) != STORE_OK)
		return e;
	e = s->drv->fts_page(c, &q, sort, now, offset, limit, a, &v, &cnt,
	    total);
	e = db_tx_end(c, &t, e);
	if (e != STORE_OK) {
		if (total != NULL)
			*total = 0;
		return e;
	}
	*out = v;
	*n = cnt;
	struct fts_doc d = {0};
	buf_init(&d.pool, 0);
	for (size_t i = 0; i < *n; i++) {
		struct store_hit *h = &(*out)[i];
		struct store_span *sp;
		size_t nsp;
		h->ntitle_marks = fts_spans(&q, h->article.title, SIZE_MAX, &d,
		    a, &h->title_marks);
		nsp = fts_spans(&q, h->article.body_text, FTS_SNIPPET_BYTES, &d,
		    a, &sp);
		fts_snippet(h->article.body_text, sp, nsp, a, h);
	}
	free(d.p);
	free(d.spans);
	buf_free(&d.pool);
	return STORE_OK;
}
