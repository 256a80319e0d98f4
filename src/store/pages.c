/*
 * store.h (every backend): the hierarchy of pages (articles of kind page with a
 * parent_id). Every walk is bounded by STORE_PAGE_DEPTH in the SQL, so a
 * loop written behind content_save's back (by hand, an old import) costs
 * a few rows, never a runaway query.
 */
#include "store_int.h"

#include <string.h>

/* One PAGE_COLS row. */
static void
page_read(struct q *st, arena *a, struct store_page *o)
{
	memset(o, 0, sizeof(*o));
	o->id = db_col_int(st, 0);
	o->parent_id = db_col_int(st, 1);
	o->menu_order = db_col_int(st, 2);
	o->slug = db_col_str(a, st, 3);
	o->title = db_col_str(a, st, 4);
	o->visible = (int)db_col_int(st, 5) != 0;
}

/* Runs q (bound by the caller) into an arena array of pages, at most
 * max of them. */
static enum store_err
page_rows(struct q *q, arena *a, size_t max, struct store_page **out,
    size_t *n)
{
	struct store_page *v = NULL;
	size_t cnt = 0, cap = 0;
	enum store_err e = STORE_OK;
	while (cnt < max && db_row(q, &e)) {
		v = db_grow(a, v, cnt, &cap, sizeof(*v));
		page_read(q, a, &v[cnt++]);
	}
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	}
	return e;
}

/* The recursive read goes up from the page; the rows come top first. */
enum store_err
store_page_chain(store *s, int64_t id, int64_t now, arena *a,
    struct store_page **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_PAGE_CHAIN)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	db_int(&q, ":max", STORE_PAGE_DEPTH);
	db_int(&q, ":now", now);
	e = page_rows(&q, a, STORE_PAGE_DEPTH, out, n);
	if (e == STORE_OK && *n == 0)
		e = STORE_NOTFOUND;
err:
	db_close(&q);
	return e;
}

/* One level of a path: the index on (parent_id, slug) answers it. */
enum store_err
store_page_child(store *s, int64_t parent, const char *const *slugs,
    size_t nslugs, int64_t *id)
{
	static const char *const names[STORE_LEGACY_SLUGS] = {":s0", ":s1", ":s2"};
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*id = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (nslugs == 0 || nslugs > STORE_LEGACY_SLUGS)
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_PAGE_CHILD)) != STORE_OK)
		goto err;
	db_id(&q, ":parent", parent);
	for (size_t i = 0; i < STORE_LEGACY_SLUGS; i++)
		db_text(&q, names[i], slugs[i < nslugs ? i : 0]);
	if (db_row(&q, &e))
		*id = db_col_int(&q, 0);
err:
	db_close(&q);
	return e;
}

/* What a page lists below its text. */
enum store_err
store_page_children(store *s, int64_t parent, int64_t now, size_t limit,
    arena *a, struct store_page **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (parent <= 0 || limit == 0)
		return STORE_OK;
	if ((e = db_open(&q, c, STMT_PAGE_CHILDREN)) != STORE_OK)
		goto err;
	db_int(&q, ":parent", parent);
	db_int(&q, ":now", now);
	db_int(&q, ":limit", (int64_t)limit);
	e = page_rows(&q, a, limit, out, n);
err:
	db_close(&q);
	return e;
}

/* The editor's picker: drafts included, the trash not. */
enum store_err
store_pages_all(store *s, int64_t now, size_t limit, arena *a,
    struct store_page **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (limit == 0)
		return STORE_OK;
	if ((e = db_open(&q, c, STMT_PAGES_ALL)) != STORE_OK)
		goto err;
	db_int(&q, ":now", now);
	db_int(&q, ":limit", (int64_t)limit);
	e = page_rows(&q, a, limit, out, n);
err:
	db_close(&q);
	return e;
}

/* The recursive read goes down, STORE_PAGE_DEPTH levels at most. */
enum store_err
store_page_height(store *s, int64_t id, int64_t *height)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*height = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (id <= 0)
		return STORE_OK;
	if ((e = db_open(&q, c, STMT_PAGE_HEIGHT)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	db_int(&q, ":max", STORE_PAGE_DEPTH);
	if (db_row(&q, &e))
		*height = db_col_int(&q, 0);
err:
	db_close(&q);
	return e;
}

/* WordPress lets pages under different parents share a slug; kiji too. */
enum store_err
store_page_slug_owner(store *s, int64_t parent, const char *slug,
    int64_t except, int64_t *id)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*id = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (slug == NULL)
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_PAGE_SLUG_OWNER)) != STORE_OK)
		goto err;
	db_id(&q, ":parent", parent);
	db_text(&q, ":slug", slug);
	db_int(&q, ":except", except);
	if (db_row(&q, &e))
		*id = db_col_int(&q, 0);
err:
	db_close(&q);
	return e;
}

/* The sitemap's pages, in id order (their lists are short). */
enum store_err
store_page_stamps(store *s, int64_t now, int64_t offset, int64_t limit,
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
	if ((e = db_open(&q, c, STMT_PAGE_STAMPS)) != STORE_OK)
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
store_pages_count(store *s, int64_t now, int64_t *n)
{
	return db_one_int(s, STMT_PAGES_COUNT, ":now", now, n);
}
