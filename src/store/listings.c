/*
 * store.h (every backend): many articles at a time. Public listings, neighbours,
 * related and popular posts, view counts, feeds, sitemap stamps, and the
 * editor area's article lists (the search page: sqlite_search.c).
 */
#include "store_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STORE_DAY 86400         /* views_daily.day = UTC epoch day */

/* ---- listings ------------------------------------------------------ */

/* An ART_COLS row as a light article (listings) into a struct
 * store_article. */
static void
article_read_light(struct q *st, arena *a, void *row)
{
	db_article_read(st, a, row, true);
}

/* An ART_COLS row with the whole body (feeds). */
static void
article_read_full(struct q *st, arena *a, void *row)
{
	db_article_read(st, a, row, false);
}

/* A light article and then its views (the popular list). */
static void
article_read_views(struct q *st, arena *a, void *row)
{
	struct store_article *o = row;
	db_article_read(st, a, o, true);
	o->views = db_col_int(st, AC_COMMENTS + 1);
}

/* Binds a listing's filter; tag takes precedence in choosing the
 * statement, category then filters within it. */
static void
filter_bind(struct q *q, const struct store_filter *f, int64_t now)
{
	db_int(q, ":now", now);
	db_int(q, ":from", f->from ? f->from : INT64_MIN);
	db_int(q, ":until", f->until > 0 ? f->until : INT64_MAX);
	if (q->id == STMT_LIST_TAG || q->id == STMT_COUNT_TAG) {
		db_int(q, ":tag", f->tag_id);
		db_int(q, ":cat", f->category_id);
	} else if (q->id == STMT_LIST_CAT || q->id == STMT_COUNT_CAT) {
		db_int(q, ":cat", f->category_id);
	}
}

/* Binds ART_ANY's :status and :kind (NULL: no filter). */
static void
any_bind(struct q *q, enum store_status status, enum store_kind kind)
{
	db_text_null(q, ":status", db_enum_name(db_status_names, STATUS__MAX, (int)status));
	db_text_null(q, ":kind", db_enum_name(db_kind_names, KIND__MAX, (int)kind));
}

/* The count and the page come from one read transaction, so the total
 * matches the page. */
enum store_err
store_articles_list(store *s, const struct store_filter *f, int64_t now,
    int64_t offset, int64_t limit, arena *a, struct store_article **out,
    size_t *n, int64_t *total)
{
	static const struct store_filter none;
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum stmt list = STMT_LIST_ALL, count = STMT_COUNT_ALL;
	enum store_err e;

	*out = NULL;
	*n = 0;
	if (total)
		*total = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (f == NULL)
		f = &none;
	if (f->tag_id) {
		list = STMT_LIST_TAG;
		count = STMT_COUNT_TAG;
	} else if (f->category_id) {
		list = STMT_LIST_CAT;
		count = STMT_COUNT_CAT;
	}
	if ((e = db_tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if (total != NULL) {
		if ((e = db_open(&q, c, count)) != STORE_OK)
			goto err;
		filter_bind(&q, f, now);
		if (db_row(&q, &e))
			*total = db_col_int(&q, 0);
		if (e != STORE_OK)
			goto err;
		db_close(&q);
	}
	if (limit <= 0)
		goto err;
	if ((e = db_open(&q, c, list)) != STORE_OK)
		goto err;
	filter_bind(&q, f, now);
	db_int(&q, ":limit", limit);
	db_int(&q, ":offset", offset > 0 ? offset : 0);
	*out = db_rows(&q, a, sizeof(**out), article_read_light, n, &e);
err:
	db_close(&q);
	return db_tx_end(c, &t, e);
}

/* Reads the one row of an adjacency statement, if any, into *out. */
static enum store_err
adjacent_one(struct conn *c, enum stmt id, const struct store_article *art,
    int64_t now, arena *a, struct store_article **out)
{
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	if ((e = db_open(&q, c, id)) != STORE_OK)
		goto err;
	db_int(&q, ":now", now);
	db_int(&q, ":t", art->published_at);
	db_int(&q, ":id", art->id);
	if (db_row(&q, &e)) {
		*out = arena_alloc(a, sizeof(**out));
		db_article_read(&q, a, *out, true);
	}
err:
	db_close(&q);
	return e;
}

/* Uses art's id and published_at as given, so a preview of an unsaved
 * date still finds its neighbours. */
enum store_err
store_article_adjacent(store *s, const struct store_article *art, int64_t now,
    arena *a, struct store_article **prev, struct store_article **next)
{
	struct conn *c = db_conn_get(s);
	struct tx t = {0};
	enum store_err e;
	*prev = *next = NULL;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_tx_begin(c, false, &t)) != STORE_OK)
		return e;
	e = adjacent_one(c, STMT_ADJ_PREV, art, now, a, prev);
	if (e == STORE_OK)
		e = adjacent_one(c, STMT_ADJ_NEXT, art, now, a, next);
	e = db_tx_end(c, &t, e);
	if (e != STORE_OK)
		*prev = *next = NULL;
	return e;
}

/* An article without a category has no related articles. */
static void
tagged_read(struct q *st, arena *a, void *row)
{
	(void)a;
	struct store_tagged *o = row;
	o->id = db_col_int(st, 0);
	o->category_id = db_col_int(st, 1);
	o->published_at = db_col_int(st, 2);
	o->listed = db_col_int(st, 3) != 0;
}

enum store_err
store_tag_recent(store *s, int64_t tag_id, size_t limit, arena *a,
    struct store_tagged **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_TAG_RECENT)) != STORE_OK)
		goto err;
	db_int(&q, ":tag", tag_id);
	db_int(&q, ":lim", limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	*out = db_rows(&q, a, sizeof(**out), tagged_read, n, &e);
err:
	db_close(&q);
	return e;
}

static int
cand_by_id(const void *x, const void *y)
{
	const struct store_related_cand *a = x, *b = y;
	return (a->id > b->id) - (a->id < b->id);
}

static int
cand_best_first(const void *x, const void *y)
{
	const struct store_related_cand *a = x, *b = y;
	if (a->shared != b->shared)
		return a->shared > b->shared ? -1 : 1;
	if (a->published_at != b->published_at)
		return a->published_at > b->published_at ? -1 : 1;
	return (a->id < b->id) - (a->id > b->id);
}

/* Sorts c[0..n) by id, folds an id's entries into one (shared: their sum
 * when sum is set, else their largest), and leaves the best limit first;
 * returns how many remain. */
static size_t
cand_fold(struct store_related_cand *c, size_t n, bool sum, size_t limit)
{
	qsort(c, n, sizeof(*c), cand_by_id);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && c[m - 1].id == c[i].id) {
			struct store_related_cand *p = &c[m - 1];
			p->shared = sum ? p->shared + c[i].shared :
			    p->shared > c[i].shared ? p->shared : c[i].shared;
		} else {
			c[m++] = c[i];
		}
	}
	qsort(c, m, sizeof(*c), cand_best_first);
	return m > limit ? limit : m;
}

size_t
store_related_rank(const struct store_article *art,
    const struct store_tagged *const *wins, const size_t *nwin, size_t nwins,
    int64_t now, size_t limit, arena *a, struct store_related_cand **out)
{
	size_t total = 0, n = 0;
	for (size_t i = 0; i < nwins; i++)
		total += nwin[i];
	struct store_related_cand *c = arena_alloc(a,
	    (total ? total : 1) * sizeof(*c));
	*out = c;
	if (limit == 0 || art->category_id == 0)
		return 0;
	for (size_t i = 0; i < nwins; i++)
		for (size_t k = 0; k < nwin[i]; k++) {
			const struct store_tagged *t = &wins[i][k];
			if (t->id == art->id || !t->listed ||
			    t->published_at > now ||
			    t->category_id != art->category_id)
				continue;
			c[n++] = (struct store_related_cand){t->id, 1,
			    t->published_at};
		}
	return cand_fold(c, n, true, limit);
}

size_t
store_related_merge(const struct store_related_cand *by_tags, size_t ntags,
    const struct store_related_cand *by_date, size_t ndate, size_t limit,
    arena *a, int64_t **ids)
{
	size_t n = ntags + ndate;
	struct store_related_cand *c = arena_alloc(a, (n ? n : 1) * sizeof(*c));
	if (ntags > 0)
		memcpy(c, by_tags, ntags * sizeof(*c));
	if (ndate > 0)
		memcpy(c + ntags, by_date, ndate * sizeof(*c));
	size_t m = cand_fold(c, n, false, limit);
	int64_t *out = arena_alloc(a, (m ? m : 1) * sizeof(*out));
	for (size_t i = 0; i < m; i++)
		out[i] = c[i].id;
	*ids = out;
	return m;
}

static void
cand_read(struct q *st, arena *a, void *row)
{
	(void)a;
	struct store_related_cand *o = row;
	o->id = db_col_int(st, 0);
	o->shared = 0;
	o->published_at = db_col_int(st, 1);
}

enum store_err
store_category_recent(store *s, const struct store_article *art, int64_t now,
    size_t limit, arena *a, struct store_related_cand **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (art->category_id == 0 || limit == 0)
		return STORE_OK;
	if ((e = db_open(&q, c, STMT_CATEGORY_RECENT)) != STORE_OK)
		goto err;
	db_int(&q, ":cat", art->category_id);
	db_int(&q, ":id", art->id);
	db_int(&q, ":now", now);
	db_int(&q, ":lim", limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	*out = db_rows(&q, a, sizeof(**out), cand_read, n, &e);
err:
	db_close(&q);
	return e;
}

enum store_err
store_articles_by_ids(store *s, const int64_t *ids, size_t nids, int64_t now,
    arena *a, struct store_article **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (nids == 0)
		return STORE_OK;
	if ((e = db_open(&q, c, STMT_ARTICLES_BY_IDS)) != STORE_OK)
		goto err;
	db_text(&q, ":ids", db_ids_json(a, ids, nids));
	db_int(&q, ":now", now);
	*out = db_rows(&q, a, sizeof(**out), article_read_light, n, &e);
err:
	db_close(&q);
	return e;
}

enum store_err
store_related(store *s, const struct store_article *art, int64_t now,
    size_t limit, arena *a, struct store_article **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (art->category_id == 0 || limit == 0)
		return STORE_OK;
	size_t nt = art->ntags;
	const struct store_tagged **wins = arena_alloc(a, (nt ? nt : 1) * sizeof(*wins));
	size_t *nwin = arena_alloc(a, (nt ? nt : 1) * sizeof(*nwin));
	enum store_err e;
	for (size_t i = 0; i < nt; i++) {
		struct store_tagged *w = NULL;
		if ((e = store_tag_recent(s, art->tags[i].id,
		    STORE_RELATED_DEPTH, a, &w, &nwin[i])) != STORE_OK)
			return e;
		wins[i] = w;
	}
	struct store_related_cand *bt, *bd;
	size_t nbt = store_related_rank(art, wins, nwin, nt, now, limit, a, &bt);
	size_t nbd;
	if ((e = store_category_recent(s, art, now, limit, a, &bd, &nbd)) !=
	    STORE_OK)
		return e;
	int64_t *ids;
	size_t nids = store_related_merge(bt, nbt, bd, nbd, limit, a, &ids);
	return store_articles_by_ids(s, ids, nids, now, a, out, n);
}

/* UTC day number of t, rounding toward minus infinity. */
static int64_t
day_of(int64_t t)
{
	return t >= 0 ? t / STORE_DAY : -((-t + STORE_DAY - 1) / STORE_DAY);
}

/* Views are kept per UTC day, so a day counts when any part of it lies in
 * [since, now): today's views count from the first one on. */
enum store_err
store_popular(store *s, int64_t since, int64_t now, size_t limit, arena *a,
    struct store_article **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (since >= now || limit == 0)
		return STORE_OK;
	if ((e = db_open(&q, c, STMT_POPULAR)) != STORE_OK)
		goto err;
	db_int(&q, ":from", day_of(since));
	db_int(&q, ":until", day_of(now - 1) + 1);
	db_int(&q, ":now", now);
	db_int(&q, ":lim", limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	*out = db_rows(&q, a, sizeof(**out), article_read_views, n, &e);
err:
	db_close(&q);
	return e;
}

/* One upsert; an article that does not exist is STORE_INVALID. */
enum store_err
store_views_add(store *s, int64_t article_id, int64_t t, int64_t n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (n < 0)
		return STORE_INVALID;
	if (n == 0)
		return STORE_OK;
	if ((e = db_open(&q, c, STMT_VIEWS_ADD)) != STORE_OK)
		goto err;
	db_int(&q, ":id", article_id);
	db_int(&q, ":day", day_of(t));
	db_int(&q, ":n", n);
	e = db_exec(&q);
err:
	db_close(&q);
	return e;
}

/* Answered from the status index alone. */
enum store_err
store_articles_count(store *s, int64_t now, int64_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_ARTICLES_COUNT)) != STORE_OK)
		goto err;
	db_int(&q, ":now", now);
	if (db_row(&q, &e))
		*n = db_col_int(&q, 0);
err:
	db_close(&q);
	return e;
}

enum store_err
store_article_visible(store *s, int64_t id, int64_t now, bool *yes)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*yes = false;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_ARTICLE_VISIBLE)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	db_int(&q, ":now", now);
	*yes = db_row(&q, &e);
err:
	db_close(&q);
	return e;
}

/* Whole rows (body_text uncut) for feeds; bodies are "" by the SQL. */
enum store_err
store_articles_feed(store *s, int64_t category_id, int64_t now, int64_t limit,
    arena *a, struct store_article **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (limit <= 0)
		return STORE_OK;
	if ((e = db_open(&q, c, category_id ? STMT_FEED_CAT : STMT_FEED_ALL)) !=
	    STORE_OK)
		goto err;
	if (category_id)
		db_int(&q, ":cat", category_id);
	db_int(&q, ":now", now);
	db_int(&q, ":limit", limit);
	*out = db_rows(&q, a, sizeof(**out), article_read_full, n, &e);
err:
	db_close(&q);
	return e;
}

/* Answered from the status index plus one row read per post. */
enum store_err
store_article_stamps(store *s, int64_t now, int64_t offset, int64_t limit,
    arena *a, struct store_stamp **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (limit <= 0)
		return STORE_OK;
	if ((e = db_open(&q, c, STMT_STAMPS_ARTICLES)) != STORE_OK)
		goto err;
	db_int(&q, ":now", now);
	db_int(&q, ":limit", limit);
	db_int(&q, ":offset", offset > 0 ? offset : 0);
	*out = db_rows(&q, a, sizeof(**out), db_stamp_row, n, &e);
err:
	db_close(&q);
	return e;
}

enum store_err
store_category_stamps(store *s, int64_t now, arena *a, struct store_stamp **out,
    size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_STAMPS_CATEGORIES)) != STORE_OK)
		goto err;
	db_int(&q, ":now", now);
	*out = db_rows(&q, a, sizeof(**out), db_stamp_row, n, &e);
err:
	db_close(&q);
	return e;
}

/* One pass over the visible posts numbers them (a window function) and
 * groups the numbers into chunks; nothing but two integers per post. */
enum store_err
store_article_chunks(store *s, int64_t now, int64_t skip, int64_t per,
    arena *a, struct store_stamp **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (per <= 0 || skip < 0)
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_STAMPS_CHUNKS)) != STORE_OK)
		goto err;
	db_int(&q, ":now", now);
	db_int(&q, ":skip", skip);
	db_int(&q, ":per", per);
	*out = db_rows(&q, a, sizeof(**out), db_stamp_row, n, &e);
err:
	db_close(&q);
	return e;
}

/* ---- editor area: article lists and counts ------------------------- */

/* Binds ART_ADMIN's parameters from f. */
static void
admin_list_bind(struct q *q, const struct store_article_query *f)
{
	any_bind(q, f->status, f->kind);
	db_int(q, ":category", f->category_id);
	db_int(q, ":author", f->author_id);
	db_text(q, ":text", f->text ? f->text : "");
}

/* The count and the page come from one read transaction. */
enum store_err
store_articles_admin(store *s, const struct store_article_query *f,
    int64_t offset, int64_t limit, arena *a, struct store_article **out,
    size_t *n, int64_t *total)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;

	*out = NULL;
	*n = 0;
	if (total != NULL)
		*total = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if (total != NULL) {
		if ((e = db_open(&q, c, STMT_ARTICLES_ADMIN_COUNT)) != STORE_OK)
			goto err;
		admin_list_bind(&q, f);
		if (db_row(&q, &e))
			*total = db_col_int(&q, 0);
		db_close(&q);
		if (e != STORE_OK)
			goto err;
	}
	if ((e = db_open(&q, c, STMT_ARTICLES_ADMIN)) != STORE_OK)
		goto err;
	admin_list_bind(&q, f);
	db_int(&q, ":limit", limit);
	db_int(&q, ":offset", offset > 0 ? offset : 0);
	*out = db_rows(&q, a, sizeof(**out), article_read_light, n, &e);
err:
	db_close(&q);
	return db_tx_end(c, &t, e);
}

/* The count and the page come from one read transaction. */
enum store_err
store_articles_any(store *s, enum store_status status, enum store_kind kind,
    int64_t offset, int64_t limit, arena *a, struct store_article **out,
    size_t *n, int64_t *total)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;

	*out = NULL;
	*n = 0;
	if (total != NULL)
		*total = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if (total != NULL) {
		if ((e = db_open(&q, c, STMT_ARTICLES_ANY_COUNT)) != STORE_OK)
			goto err;
		any_bind(&q, status, kind);
		if (db_row(&q, &e))
			*total = db_col_int(&q, 0);
		db_close(&q);
		if (e != STORE_OK)
			goto err;
	}
	if ((e = db_open(&q, c, STMT_ARTICLES_ANY)) != STORE_OK)
		goto err;
	any_bind(&q, status, kind);
	db_int(&q, ":limit", limit);
	db_int(&q, ":offset", offset > 0 ? offset : 0);
	*out = db_rows(&q, a, sizeof(**out), article_read_light, n, &e);
err:
	db_close(&q);
	return db_tx_end(c, &t, e);
}

enum store_err
store_article_status_counts(store *s, int64_t counts[STATUS__MAX])
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_ARTICLE_STATUS_COUNTS)) != STORE_OK)
		goto err;
	e = db_status_counts(&q, db_status_names, STATUS__MAX, counts);
err:
	db_close(&q);
	return e;
}
