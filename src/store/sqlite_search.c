/*
 * store.h on SQLite: the full-text search page (the SQL side of fts.c).
 *
 * Best first ranks every match with bm25 (SEARCH, SEARCH_COUNT): its cost
 * grows with the number of matches, so a broad query (one common
 * character matches nearly every post) pays for ranking thousands of rows
 * to show ten.
 *
 * Newest first, the default, never ranks. One pass over the index takes
 * every matching rowid (SEARCH_IDS: the doclists only, no article row, no
 * per-row document length), sorted as FTS5 returns them. Then the page
 * comes from whichever of two ways is cheaper for this query:
 *   walk   the visible posts newest first from the listings' own index
 *          (SEARCH_WALK), keeping those in the match set, and stop once
 *          the page is full: a broad query fills it within a few dozen
 *          rows, whatever the site's size;
 *   probe  each match's visibility and date (SEARCH_PROBE), then sort:
 *          for a rare query, whose few matches a walk would look for
 *          through the whole archive.
 * The walk gives up for the probe once it has stepped over more rows than
 * there are matches, so neither costs much more than the better of the
 * two. Both give the same exact order, (published_at, id) descending, so
 * pages never overlap or skip. The count is exact without touching the
 * matches: the index holds the posts of articles_fts_source, so the
 * visible matches are all of them minus those among the few indexed
 * articles that are not visible posts (SEARCH_HIDDEN).
 */
#include "fts.h"
#include "sqlite_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Probe at once when there are at most this many matches per wanted row:
 * a walk would likely step over most of the archive to find them. */
#define SEARCH_PROBE_RATIO 4

/* A search hit: a light article with its body text, then the score. */
static void
hit_read(sqlite3_stmt *st, arena *a, void *row)
{
	struct store_hit *h = row;
	sq_article_read(st, a, &h->article, true);
	h->article.body_text = sq_col_str(a, st, AC_TEXT);
	h->score = sqlite3_column_double(st, AC_COMMENTS + 1);
}

/* The matching rowids, ascending (FTS5's order without ORDER BY). */
struct ids {
	int64_t *v;
	size_t n, cap;
};

static bool
ids_push(struct ids *s, int64_t id)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		int64_t *v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL)
			return false;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = id;
	return true;
}

static bool
ids_has(const struct ids *s, int64_t id)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->v[mid] < id)
			lo = mid + 1;
		else if (s->v[mid] > id)
			hi = mid;
		else
			return true;
	}
	return false;
}

/* A probed match: its date and id, sorted newest first. */
struct dated {
	int64_t at, id;
};

static int
dated_cmp(const void *a, const void *b)
{
	const struct dated *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? 1 : -1;
	return (x->id < y->id) - (x->id > y->id);
}

static int
id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Every rowid matching expr into m, sorted ascending. */
static enum store_err
search_ids(struct conn *c, const char *expr, struct ids *m)
{
	struct q q = {0};
	enum store_err e;
	bool sorted = true;
	if ((e = sq_open(&q, c, STMT_SEARCH_IDS)) != STORE_OK)
		return e;
	sq_text(&q, ":q", expr);
	while (sq_row(&q, &e)) {
		int64_t id = sqlite3_column_int64(q.st, 0);
		if (m->n > 0 && m->v[m->n - 1] >= id)
			sorted = false;
		if (!ids_push(m, id)) {
			e = STORE_ERROR;
			break;
		}
	}
	sq_close(&q);
	/* FTS5 returns rowids ascending; a binary search must not rely on
	 * that silently */
	if (e == STORE_OK && !sorted)
		qsort(m->v, m->n, sizeof(*m->v), id_cmp);
	return e;
}

/* How many of the matches are indexed but not visible posts. */
static enum store_err
search_hidden(struct conn *c, const struct ids *m, int64_t now, int64_t *n)
{
	struct q q = {0};
	enum store_err e;
	*n = 0;
	if ((e = sq_open(&q, c, STMT_SEARCH_HIDDEN)) != STORE_OK)
		return e;
	sq_int(&q, ":now", now);
	while (sq_row(&q, &e))
		if (ids_has(m, sqlite3_column_int64(q.st, 0)))
			(*n)++;
	sq_close(&q);
	return e;
}

/*
 * The walk: visible posts newest first, the matching ones counted until
 * want of them are seen; page[] gets those from offset on. *done is false
 * when it stepped over more than budget rows first (the caller probes).
 */
static enum store_err
search_walk(struct conn *c, const struct ids *m, int64_t now, int64_t offset,
    int64_t want, size_t budget, int64_t *page, size_t *npage, bool *done)
{
	struct q q = {0};
	enum store_err e;
	int64_t seen = 0;
	size_t rows = 0;
	*npage = 0;
	*done = true;
	if ((e = sq_open(&q, c, STMT_SEARCH_WALK)) != STORE_OK)
		return e;
	sq_int(&q, ":now", now);
	while (seen < want && sq_row(&q, &e)) {
		int64_t id = sqlite3_column_int64(q.st, 0);
		if (ids_has(m, id)) {
			if (seen >= offset)
				page[(*npage)++] = id;
			seen++;
		} else if (++rows > budget) {
			*done = false;
			break;
		}
	}
	sq_close(&q);
	return e;
}

/*
 * The probe: each match's visibility and date, sorted newest first; page[]
 * gets the ones from offset on, *visible counts them all.
 */
static enum store_err
search_probe(struct conn *c, const struct ids *m, int64_t now, int64_t offset,
    int64_t limit, int64_t *page, size_t *npage, int64_t *visible)
{
	struct q q = {0};
	enum store_err e = STORE_OK;
	struct dated *d = malloc((m->n ? m->n : 1) * sizeof(*d));
	size_t nd = 0;
	*npage = 0;
	*visible = 0;
	if (d == NULL)
		return STORE_ERROR;
	for (size_t i = 0; i < m->n && e == STORE_OK; i++) {
		if ((e = sq_open(&q, c, STMT_SEARCH_PROBE)) != STORE_OK)
			break;
		sq_int(&q, ":id", m->v[i]);
		sq_int(&q, ":now", now);
		if (sq_row(&q, &e))
			d[nd++] = (struct dated){sqlite3_column_int64(q.st, 0),
			    m->v[i]};
		sq_close(&q);
	}
	if (e == STORE_OK) {
		qsort(d, nd, sizeof(*d), dated_cmp);
		for (size_t i = (size_t)offset; i < nd &&
		    (int64_t)*npage < limit; i++)
			page[(*npage)++] = d[i].id;
		*visible = (int64_t)nd;
	}
	free(d);
	return e;
}

/* The page's whole rows, in page order. */
static enum store_err
search_rows(struct conn *c, const int64_t *page, size_t npage, arena *a,
    struct store_hit **out, size_t *n)
{
	struct q q = {0};
	enum store_err e = STORE_OK;
	struct store_hit *v = arena_alloc(a, (npage ? npage : 1) * sizeof(*v));
	size_t cnt = 0;
	for (size_t i = 0; i < npage && e == STORE_OK; i++) {
		if ((e = sq_open(&q, c, STMT_SEARCH_ROW)) != STORE_OK)
			break;
		sq_int(&q, ":id", page[i]);
		if (sq_row(&q, &e)) {
			memset(&v[cnt], 0, sizeof(v[cnt]));
			hit_read(q.st, a, &v[cnt++]);
		}
		sq_close(&q);
	}
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	}
	return e;
}

/* Newest first, in the read transaction store_fts_page opened. */
static enum store_err
search_newest(struct conn *c, const char *expr, int64_t now, int64_t offset,
    int64_t limit, arena *a, struct store_hit **out, size_t *n,
    int64_t *total)
{
	struct ids m = {0};
	int64_t *page = NULL, visible = -1;
	size_t npage = 0;
	bool done = false;
	enum store_err e;

	if ((e = search_ids(c, expr, &m)) != STORE_OK || m.n == 0)
		goto out;
	if (limit > 0 && (size_t)offset < m.n) {
		if (limit > (int64_t)m.n)
			limit = (int64_t)m.n;
		page = malloc((size_t)limit * sizeof(*page));
		if (page == NULL) {
			e = STORE_ERROR;
			goto out;
		}
		int64_t want = offset + limit;
		if ((uint64_t)want * SEARCH_PROBE_RATIO < m.n &&
		    (e = search_walk(c, &m, now, offset, want, m.n, page,
		    &npage, &done)) != STORE_OK)
			goto out;
		if (!done && (e = search_probe(c, &m, now, offset, limit, page,
		    &npage, &visible)) != STORE_OK)
			goto out;
		if ((e = search_rows(c, page, npage, a, out, n)) != STORE_OK)
			goto out;
	}
	if (total != NULL) {
		if (visible < 0) {
			int64_t hidden;
			if ((e = search_hidden(c, &m, now, &hidden)) != STORE_OK)
				goto out;
			visible = (int64_t)m.n - hidden;
		}
		*total = visible;
	}
out:
	free(m.v);
	free(page);
	return e;
}

/* Best first: SEARCH_COUNT, then SEARCH's ranked page. */
static enum store_err
search_ranked(struct conn *c, const char *expr, int64_t now, int64_t offset,
    int64_t limit, arena *a, struct store_hit **out, size_t *n,
    int64_t *total)
{
	struct q q = {0};
	enum store_err e = STORE_OK;
	if (total != NULL) {
		if ((e = sq_open(&q, c, STMT_SEARCH_COUNT)) != STORE_OK)
			return e;
		sq_text(&q, ":q", expr);
		sq_int(&q, ":now", now);
		if (sq_row(&q, &e))
			*total = sqlite3_column_int64(q.st, 0);
		sq_close(&q);
		if (e != STORE_OK || *total == 0)
			return e;
	}
	if (limit <= 0)
		return e;
	if ((e = sq_open(&q, c, STMT_SEARCH)) != STORE_OK)
		return e;
	sq_text(&q, ":q", expr);
	sq_int(&q, ":now", now);
	sq_int(&q, ":limit", limit);
	sq_int(&q, ":offset", offset);
	*out = sq_rows(&q, a, sizeof(**out), hit_read, n, &e);
	sq_close(&q);
	return e;
}

/* The count and the page come from one read transaction, so the total
 * matches the page. */
enum store_err
store_fts_page(store *s, const char *expr, enum store_search_sort sort,
    int64_t now, int64_t offset, int64_t limit, arena *a,
    struct store_hit **out, size_t *n, int64_t *total)
{
	struct conn *c = sq_conn_get(s);
	struct tx t = {0};
	struct store_hit *v = NULL;
	size_t cnt = 0;
	enum store_err e;

	*out = NULL;
	*n = 0;
	if (total != NULL)
		*total = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (offset < 0)
		offset = 0;
	if ((e = sq_tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if (sort == SEARCH_RELEVANCE)
		e = search_ranked(c, expr, now, offset, limit, a, &v, &cnt,
		    total);
	else
		e = search_newest(c, expr, now, offset, limit, a, &v, &cnt,
		    total);
	e = sq_tx_end(c, &t, e);
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	} else if (total != NULL) {
		*total = 0;
	}
	return e;
}
