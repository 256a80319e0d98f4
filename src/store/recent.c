/*
 * store.h (every backend): the site's recent comments (the block on listings,
 * /comments and /comments/feed). Bounded reads in index order; only what
 * readers are shown leaves the store.
 */
#include "store_int.h"

/* One row of STMT_COMMENTS_RECENT into a struct store_recent_comment. */
static void
recent_read(struct q *st, arena *a, void *row)
{
	struct store_recent_comment *o = row;
	*o = (struct store_recent_comment){0};
	o->id = db_col_int(st, 0);
	o->created_at = db_col_int(st, 1);
	o->nickname = db_col_str(a, st, 2);
	o->body = db_col_str(a, st, 3);
	o->art.id = db_col_int(st, 4);
	o->art.kind = (enum store_kind)db_enum_col(db_kind_names, KIND__MAX, st,
	    5);
	o->art.title = db_col_str(a, st, 6);
	o->art.slug = db_col_str(a, st, 7);
	o->art.parent_id = db_col_int(st, 8);
	o->art.status = STATUS_PUBLISHED;
}

enum store_err
store_comments_recent(store *s, int64_t now, int64_t offset, int64_t limit,
    arena *a, struct store_recent_comment **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;

	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (offset < 0 || limit < 0)
		return STORE_INVALID;
	if (limit == 0)
		return STORE_OK;
	if ((e = db_open(&q, c, STMT_COMMENTS_RECENT)) != STORE_OK)
		goto err;
	db_int(&q, ":now", now);
	db_int(&q, ":limit", limit);
	db_int(&q, ":offset", offset);
	*out = db_rows(&q, a, sizeof(**out), recent_read, n, &e);
err:
	db_close(&q);
	return e;
}

enum store_err
store_comments_recent_count(store *s, int64_t now, int64_t max, int64_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;

	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (max <= 0)
		return STORE_OK;
	if ((e = db_open(&q, c, STMT_COMMENTS_RECENT_COUNT)) != STORE_OK)
		goto err;
	db_int(&q, ":now", now);
	db_int(&q, ":max", max);
	if (db_row(&q, &e))
		*n = db_col_int(&q, 0);
err:
	db_close(&q);
	return e;
}
