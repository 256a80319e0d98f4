/*
 * store.h (every backend): outgoing pings, one row per (article, link target)
 * that net/send.c notifies, with what discovery found and what became of
 * each attempt. The admin and `kiji pings list` read them back.
 */
#include "store_int.h"

#include <string.h>

static const char *const ping_kind_names[PKIND__MAX] = {
	[PKIND_UNKNOWN] = "",
	[PKIND_WEBMENTION] = "webmention",
	[PKIND_PINGBACK] = "pingback",
	[PKIND_TRACKBACK] = "trackback",
	[PKIND_NONE] = "none",
};

static const char *const ping_status_names[PSTATUS__MAX] = {
	[PSTATUS_PENDING] = "pending",
	[PSTATUS_SENT] = "sent",
	[PSTATUS_FAILED] = "failed",
	[PSTATUS_NONE] = "none",
};

const char *
store_ping_kind_name(enum store_ping_kind k)
{
	return db_enum_name(ping_kind_names, PKIND__MAX, (int)k);
}

const char *
store_ping_status_name(enum store_ping_status st)
{
	return db_enum_name(ping_status_names, PSTATUS__MAX, (int)st);
}

/* One row in PING_COLS order, then the article's title. */
static void
ping_read(struct q *st, arena *a, void *row)
{
	struct store_ping *out = row;
	out->id = db_col_int(st, 0);
	out->article_id = db_col_int(st, 1);
	out->target = db_col_str(a, st, 2);
	out->kind = (enum store_ping_kind)db_enum_col(ping_kind_names,
	    PKIND__MAX, st, 3);
	out->endpoint = db_col_str(a, st, 4);
	out->status = (enum store_ping_status)db_enum_col(ping_status_names,
	    PSTATUS__MAX, st, 5);
	out->attempts = db_col_int(st, 6);
	out->last_error = db_col_str(a, st, 7);
	out->created_at = db_col_int(st, 8);
	out->updated_at = db_col_int(st, 9);
	out->article_title = db_col_str(a, st, 10);
}

enum store_err
store_ping_get(store *s, int64_t article_id, const char *target, arena *a,
    struct store_ping *out)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_PING_GET)) != STORE_OK)
		goto err;
	db_int(&q, ":article", article_id);
	db_text(&q, ":target", target);
	e = db_one(&q, a, ping_read, out);
err:
	db_close(&q);
	return e;
}

/* Insert-or-nothing, then the row as it stands; a missing article fails
 * the foreign key. */
enum store_err
store_ping_add(store *s, int64_t article_id, const char *target, int64_t now,
    arena *a, struct store_ping *out, bool *added)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	bool n = false;
	if (added != NULL)
		*added = false;
	if (c == NULL)
		return STORE_ERROR;
	if (article_id <= 0 || target == NULL || *target == '\0')
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_PING_ADD)) != STORE_OK)
		goto err;
	db_int(&q, ":article", article_id);
	db_text(&q, ":target", target);
	db_int(&q, ":now", now);
	if ((e = db_exec(&q)) == STORE_OK)
		n = db_changes(c) > 0;
	else if (e == STORE_INVALID)
		e = STORE_NOTFOUND;
err:
	db_close(&q);
	if (e == STORE_OK)
		e = store_ping_get(s, article_id, target, a, out);
	if (e == STORE_OK && added != NULL)
		*added = n;
	return e;
}

enum store_err
store_ping_update(store *s, const struct store_ping *p)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	const char *kind = store_ping_kind_name(p->kind);
	const char *status = store_ping_status_name(p->status);
	if (c == NULL)
		return STORE_ERROR;
	if (kind == NULL || status == NULL)
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_PING_UPDATE)) != STORE_OK)
		goto err;
	db_int(&q, ":id", p->id);
	db_text(&q, ":kind", kind);
	db_text(&q, ":endpoint", p->endpoint ? p->endpoint : "");
	db_text(&q, ":status", status);
	db_int(&q, ":attempts", p->attempts);
	db_text(&q, ":error", p->last_error ? p->last_error : "");
	db_int(&q, ":now", p->updated_at);
	if ((e = db_exec(&q)) == STORE_OK && db_changes(c) == 0)
		e = STORE_NOTFOUND;
err:
	db_close(&q);
	return e;
}

/* The count and the page in one read transaction, so they agree. */
enum store_err
store_pings_list(store *s, int64_t article_id, int64_t offset, int64_t limit,
    arena *a, struct store_ping **out, size_t *n, int64_t *total)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t;
	enum store_err e;

	*out = NULL;
	*n = 0;
	*total = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (offset < 0 || limit < 0)
		return STORE_INVALID;
	if ((e = db_tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if ((e = db_open(&q, c, STMT_PINGS_COUNT)) != STORE_OK)
		goto err;
	db_int(&q, ":article", article_id);
	if (db_row(&q, &e))
		*total = db_col_int(&q, 0);
	db_close(&q);
	if (e != STORE_OK)
		goto err;
	if ((e = db_open(&q, c, STMT_PINGS_LIST)) != STORE_OK)
		goto err;
	db_int(&q, ":article", article_id);
	db_int(&q, ":offset", offset);
	db_int(&q, ":limit", limit);
	*out = db_rows(&q, a, sizeof(**out), ping_read, n, &e);
err:
	db_close(&q);
	return db_tx_end(c, &t, e);
}
