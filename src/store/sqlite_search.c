/*
 * SQLite's full-text search (db_driver.fts_*): the index upkeep and the
 * page of matches, over FTS5 (sqlite_fts.c builds the MATCH expression).
 *
 * Best first ranks with bm25 (SEARCH), whose cost grows with the number
 * of matches ranked: so it ranks the newest STORE_SEARCH_COUNT_MAX + 1
 * visible matches only (search_ranked), found as newest first finds them.
 *
 * Newest first, the default, never ranks and never reads every match.
 * The matches are collected from the index alone (SEARCH_IDS: doclists,
 * no article row, no per-row document length) by rowid ranges, newest
 * ids first, each range twice as wide as the one before, until more than
 * STORE_SEARCH_COUNT_MAX visible posts are known to match or the index is
 * exhausted. So a broad query reads a few thousand rowids, not all of
 * them, and its count is "more than STORE_SEARCH_COUNT_MAX"; a narrower
 * one is read whole and counted exactly, as the matches minus those among
 * the few indexed articles that are not visible posts (SEARCH_HIDDEN).
 * Then the page comes from whichever of two ways is cheaper:
 *   walk   the visible posts newest first from the listings' own index
 *          (SEARCH_WALK), keeping those in the match set, and stop once
 *          the page is full: a broad query fills it within a few dozen
 *          rows, whatever the site's size. Rowids track publication in
 *          practice, but nothing relies on it: a post whose id lies below
 *          the ranges read so far extends them down to it first;
 *   probe  each match's visibility and date (SEARCH_PROBE), then sort:
 *          for a rare query, whose few matches a walk would look for
 *          through the whole archive.
 * The walk gives up for the probe once it has stepped over more rows than
 * there are matches, so neither costs much more than the better of the
 * two. Both give the same exact order, (published_at, id) descending, so
 * pages never overlap or skip.
 */
#include "fts.h"
#include "store_int.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Probe at once when there are at most this many matches per wanted row:
 * a walk would likely step over most of the archive to find them. */
#define SEARCH_PROBE_RATIO 4
/* The first rowid range read; each next one is SEARCH_GROWTH times as
 * wide. Test builds read narrow ranges that do not grow, so that small
 * test sites read many of them and stop short of the bottom, and walks
 * meet posts below them. */
#ifdef KIJI_TEST_HOOKS
#define SEARCH_RANGE 64
#define SEARCH_GROWTH 1
#else
#define SEARCH_RANGE 4096
#define SEARCH_GROWTH 2
#endif

/* A search hit: a light article with its body text, then the score. */
static void
hit_read(struct q *st, arena *a, void *row)
{
	struct store_hit *h = row;
	db_article_read(st, a, &h->article, true);
	h->article.body_text = db_col_str(a, st, AC_TEXT);
	h->score = db_col_double(st, AC_COMMENTS + 1);
}

/*
 * The matches read so far: every matching rowid >= lo, descending (ranges
 * are read from the top down, each one's ids reversed onto the end), and
 * the indexed articles that are not visible posts, whichever they are.
 */
struct ids {
	int64_t *v;
	size_t n, cap;
	int64_t top;   /* the highest article id */
	int64_t lo;    /* once started: every match >= lo is in v */
	int64_t width; /* of the next range */
	bool started;
	bool all;      /* lo has reached the bottom: v holds every match */
	int64_t *hid;  /* SEARCH_HIDDEN's ids */
	size_t nhid, hidcap;
};

static bool
ids_push(int64_t **v, size_t *n, size_t *cap, int64_t id)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 1024;
		int64_t *p = realloc(*v, c * sizeof(*p));
		if (p == NULL)
			return false;
		*v = p;
		*cap = c;
	}
	(*v)[(*n)++] = id;
	return true;
}

/* Whether id is among the matches read (v is descending). */
static bool
ids_has(const struct ids *s, int64_t id)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->v[mid] > id)
			lo = mid + 1;
		else if (s->v[mid] < id)
			hi = mid;
		else
			return true;
	}
	return false;
}

/* The visible posts among the matches read. */
static int64_t
ids_visible(const struct ids *s)
{
	int64_t n = (int64_t)s->n;
	for (size_t i = 0; i < s->nhid; i++)
		if (ids_has(s, s->hid[i]))
			n--;
	return n;
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
id_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x < y) - (x > y);
}

/* Opens the collection: the top of the rowid space and the hidden ids. */
static enum store_err
ids_open(struct conn *c, int64_t now, struct ids *m)
{
	struct q q = {0};
	enum store_err e;
	int64_t top = 0;
	if ((e = db_open(&q, c, STMT_SEARCH_TOP)) != STORE_OK)
		return e;
	if (db_row(&q, &e))
		top = db_col_int(&q, 0);
	db_close(&q);
	if (e != STORE_OK)
		return e;
	m->top = top;
	m->width = SEARCH_RANGE;
	if ((e = db_open(&q, c, STMT_SEARCH_HIDDEN)) != STORE_OK)
		return e;
	db_int(&q, ":now", now);
	while (db_row(&q, &e))
		if (!ids_push(&m->hid, &m->nhid, &m->hidcap,
		    db_col_int(&q, 0))) {
			e = STORE_ERROR;
			break;
		}
	db_close(&q);
	return e;
}

/* Reads the next range down: the width ids below lo (the first time,
 * the top ones and anything above), or all the rest when that reaches the
 * bottom (ids start at 1). */
static enum store_err
ids_more(struct conn *c, const char *expr, struct ids *m)
{
	struct q q = {0};
	enum store_err e;
	int64_t hi = m->started ? m->lo - 1 : INT64_MAX; /* inclusive */
	int64_t top = m->started ? m->lo - 1 : m->top;
	size_t from = m->n;
	if (m->all)
		return STORE_OK;
	m->started = true;
	if (top <= m->width) {
		m->lo = INT64_MIN;
		m->all = true;
	} else {
		m->lo = top - m->width + 1;
		if (m->width < INT64_MAX / SEARCH_GROWTH)
			m->width *= SEARCH_GROWTH;
	}
	if ((e = db_open(&q, c, STMT_SEARCH_IDS)) != STORE_OK)
		return e;
	db_text(&q, ":q", expr);
	db_int(&q, ":lo", m->lo);
	db_int(&q, ":hi", hi);
	while (db_row(&q, &e))
		if (!ids_push(&m->v, &m->n, &m->cap,
		    db_col_int(&q, 0))) {
			e = STORE_ERROR;
			break;
		}
	db_close(&q);
	/* descending, whatever order FTS5 gave (ascending: reversed) */
	if (e == STORE_OK && m->n > from)
		qsort(m->v + from, m->n - from, sizeof(*m->v), id_desc);
	return e;
}

/*
 * The walk: visible posts newest first, the matching ones counted until
 * want of them are seen; page[] gets those from offset on. *done is false
 * when it stepped over more than budget rows first (the caller probes).
 */
static enum store_err
search_walk(struct conn *c, const char *expr, struct ids *m, int64_t now,
    int64_t offset, int64_t want, size_t budget, int64_t *page,
    size_t *npage, bool *done)
{
	struct q q = {0};
	enum store_err e;
	int64_t seen = 0;
	size_t rows = 0;
	*npage = 0;
	*done = true;
	if ((e = db_open(&q, c, STMT_SEARCH_WALK)) != STORE_OK)
		return e;
	db_int(&q, ":now", now);
	while (seen < want && db_row(&q, &e)) {
		int64_t id = db_col_int(&q, 0);
		while (!m->all && id < m->lo && e == STORE_OK)
			e = ids_more(c, expr, m);
		if (e != STORE_OK)
			break;
		if (ids_has(m, id)) {
			if (seen >= offset)
				page[(*npage)++] = id;
			seen++;
		} else if (++rows > budget) {
			*done = false;
			break;
		}
	}
	db_close(&q);
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
		if ((e = db_open(&q, c, STMT_SEARCH_PROBE)) != STORE_OK)
			break;
		db_int(&q, ":id", m->v[i]);
		db_int(&q, ":now", now);
		if (db_row(&q, &e))
			d[nd++] = (struct dated){db_col_int(&q, 0),
			    m->v[i]};
		db_close(&q);
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
		if ((e = db_open(&q, c, STMT_SEARCH_ROW)) != STORE_OK)
			break;
		db_int(&q, ":id", page[i]);
		if (db_row(&q, &e)) {
			memset(&v[cnt], 0, sizeof(v[cnt]));
			hit_read(&q, a, &v[cnt++]);
		}
		db_close(&q);
	}
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	}
	return e;
}

/* Newest first, in the caller's read transaction. */
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

	if ((e = ids_open(c, now, &m)) != STORE_OK)
		goto out;
	/* enough to count: more than the most we count, or everything */
	while (!m.all && ids_visible(&m) <= STORE_SEARCH_COUNT_MAX)
		if ((e = ids_more(c, expr, &m)) != STORE_OK)
			goto out;
	visible = ids_visible(&m);
	if (visible > STORE_SEARCH_COUNT_MAX) {
		/* "more", even when all were read; past it there are no pages */
		visible = STORE_SEARCH_COUNT_MAX + 1;
		if (limit > STORE_SEARCH_COUNT_MAX - offset)
			limit = STORE_SEARCH_COUNT_MAX - offset;
	}
	if (limit > visible - offset)
		limit = visible - offset;
	if (limit > 0) {
		page = malloc((size_t)limit * sizeof(*page));
		if (page == NULL) {
			e = STORE_ERROR;
			goto out;
		}
		int64_t want = offset + limit, probed;
		if (!m.all || (uint64_t)want * SEARCH_PROBE_RATIO < m.n) {
			if ((e = search_walk(c, expr, &m, now, offset, want,
			    m.n, page, &npage, &done)) != STORE_OK)
				goto out;
		}
		if (!done) {
			while (!m.all && e == STORE_OK)
				e = ids_more(c, expr, &m);
			if (e != STORE_OK || (e = search_probe(c, &m, now,
			    offset, limit, page, &npage, &probed)) != STORE_OK)
				goto out;
		}
		if ((e = search_rows(c, page, npage, a, out, n)) != STORE_OK)
			goto out;
	}
	if (total != NULL)
		*total = visible;
out:
	free(m.v);
	free(m.hid);
	free(page);
	return e;
}

static int
id_asc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/*
 * Best first ranks the newest STORE_SEARCH_COUNT_MAX + 1 visible matches
 * (all of them when there are no more): the same collection as newest
 * first gives them and their count, and SEARCH runs bm25 over that rowid
 * range only. Ranking every match of a one-character query cost more
 * than scanning every article (19 ms at 10,000 articles, 129 ms at
 * 100,000); a news reader's "best" is among recent articles anyway, and
 * the count and the pages end at the same place in either order.
 */
static enum store_err
search_ranked(struct conn *c, const char *expr, int64_t now, int64_t offset,
    int64_t limit, arena *a, struct store_hit **out, size_t *n,
    int64_t *total)
{
	struct q q = {0};
	struct ids m = {0};
	enum store_err e;
	int64_t visible, lo = INT64_MIN;

	if ((e = ids_open(c, now, &m)) != STORE_OK)
		goto out;
	while (!m.all && ids_visible(&m) <= STORE_SEARCH_COUNT_MAX)
		if ((e = ids_more(c, expr, &m)) != STORE_OK)
			goto out;
	visible = ids_visible(&m);
	if (visible > STORE_SEARCH_COUNT_MAX) {
		/* the rowid of the newest COUNT_MAX + 1st visible match */
		qsort(m.hid, m.nhid, sizeof(*m.hid), id_asc);
		int64_t k = 0;
		for (size_t i = 0; i < m.n; i++) {
			if (bsearch(&m.v[i], m.hid, m.nhid, sizeof(*m.hid),
			    id_asc) != NULL)
				continue;
			if (++k == STORE_SEARCH_COUNT_MAX + 1) {
				lo = m.v[i];
				break;
			}
		}
		visible = STORE_SEARCH_COUNT_MAX + 1;
		if (limit > STORE_SEARCH_COUNT_MAX - offset)
			limit = STORE_SEARCH_COUNT_MAX - offset;
	}
	if (total != NULL)
		*total = visible;
	if (limit <= 0 || visible == 0)
		goto out;
	if ((e = db_open(&q, c, STMT_SEARCH)) != STORE_OK)
		goto out;
	db_text(&q, ":q", expr);
	db_int(&q, ":now", now);
	db_int(&q, ":lo", lo);
	db_int(&q, ":limit", limit);
	db_int(&q, ":offset", offset);
	*out = db_rows(&q, a, sizeof(**out), hit_read, n, &e);
	db_close(&q);
out:
	free(m.v);
	free(m.hid);
	return e;
}

/* The expression from q, then the page in the caller's read transaction
 * (store_search_sorted's). */
enum store_err
sqlite_fts_page(struct conn *c, const struct text_query *q,
    enum store_search_sort sort, int64_t now, int64_t offset, int64_t limit,
    arena *a, struct store_hit **out, size_t *n, int64_t *total)
{
	enum store_err e;
	buf expr;

	buf_init(&expr, 1 << 16);
	store_fts_expr(&expr, q);
	if (expr.err) {
		buf_free(&expr);
		return STORE_INVALID;
	}
	if (sort == SEARCH_RELEVANCE)
		e = search_ranked(c, buf_cstr(&expr), now, offset, limit, a,
		    out, n, total);
	else
		e = search_newest(c, buf_cstr(&expr), now, offset, limit, a,
		    out, n, total);
	buf_free(&expr);
	return e;
}

/* ---- index upkeep ---------------------------------------------------------- */

/* SEARCH_REBUILD: FTS5 reads its whole view again. */
enum store_err
sqlite_fts_rebuild(struct conn *c)
{
	struct q q = {0};
	enum store_err e = db_open(&q, c, STMT_SEARCH_REBUILD);
	if (e == STORE_OK)
		e = db_exec(&q);
	db_close(&q);
	return e;
}

/* One article by FTS_INDEX; more (a batch's, at its commit) by
 * FTS_INDEX_MANY in statements of up to 4096 ids (a bounded JSON list). */
enum store_err
sqlite_fts_index(struct conn *c, const int64_t *ids, size_t n)
{
	struct q q = {0};
	enum store_err e = STORE_OK;
	buf list;
	size_t i = 0;

	if (n == 1) {
		if ((e = db_open(&q, c, STMT_FTS_INDEX)) == STORE_OK) {
			db_int(&q, ":id", ids[0]);
			e = db_exec(&q);
		}
		db_close(&q);
		return e;
	}
	buf_init(&list, 0);
	while (i < n && e == STORE_OK) {
		buf_reset(&list);
		buf_putc(&list, '[');
		for (size_t k = 0; k < 4096 && i < n; k++, i++)
			buf_printf(&list, "%s%" PRId64, k ? "," : "", ids[i]);
		buf_putc(&list, ']');
		if (list.err) {
			e = STORE_ERROR;
			break;
		}
		if ((e = db_open(&q, c, STMT_FTS_INDEX_MANY)) != STORE_OK)
			break;
		db_text(&q, ":ids", buf_cstr(&list));
		e = db_exec(&q);
		db_close(&q);
	}
	db_close(&q);
	buf_free(&list);
	return e;
}
