/*
 * store.h on SQLite: outgoing pings, one row per (article, link target)
 * that net/send.c notifies, with what discovery found and what became of
 * each attempt. The admin and `kiji pings list` read them back.
 */
#include "sqlite_int.h"

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
	return sq_enum_name(ping_kind_names, PKIND__MAX, (int)k);
}

const char *
store_ping_status_name(enum store_ping_status st)
{
	return sq_enum_name(ping_status_names, PSTATUS__MAX, (int)st);
}

/* One row in PING_COLS order, then the article's title. */
static void
ping_read(sqlite3_stmt *st, arena *a, void *row)
{
	struct store_ping *out = row;
	out->id = sqlite3_column_int64(st, 0);
	out->article_id = sqlite3_column_int64(st, 1);
	out->target = sq_col_str(a, st, 2);
	out->kind = (enum store_ping_kind)sq_enum_col(ping_kind_names,
	    PKIND__MAX, st, 3);
	out->endpoint = sq_col_str(a, st, 4);
	out->status = (enum store_ping_status)sq_enum_col(ping_status_names,
	    PSTATUS__MAX, st, 5);
	out->attempts = sqlite3_column_int64(st, 6);
	out->last_error = sq_col_str(a, st, 7);
	out->created_at = sqlite3_column_int64(st, 8);
	out->updated_at = sqlite3_column_int64(st, 9);
	out->article_title = sq_col_str(a, st, 10);
}

enum store_err
store_ping_get(store *s, int64_t article_id, const char *target, arena *a,
    struct store_ping *out)
{
	struct conn *c = sq_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = sq_open(&q, c, STMT_PING_GET)) != STORE_OK)
		goto err;
	sq_int(&q, ":article", article_id);
	sq_text(&q, ":target", target);
	e = sq_one(&q, a, ping_read, out);
err:
	sq_close(&q);
	return e;
}

/* Insert-or-nothing, then the row as it stands; a missing article fails
 * the foreign key. */
enum store_err
store_ping_add(store *s, int64_t article_id, const char *target, int64_t now,
    arena *a, struct store_ping *out, bool *added)
{
	struct conn *c = sq_conn_get(s);
	struct q q = {0};
	enum store_err e;
	bool n = false;
	if (added != NULL)
		*added = false;
	if (c == NULL)
		return STORE_ERROR;
	if (article_id <= 0 || target == NULL || *target == '\0')
		return STORE_INVALID;
	if ((e = sq_open(&q, c, STMT_PING_ADD)) != STORE_OK)
		goto err;
	sq_int(&q, ":article", article_id);
	sq_text(&q, ":target", target);
	sq_int(&q, ":now", now);
	if ((e = sq_exec(&q)) == STORE_OK)
		n = sqlite3_changes(c->db) > 0;
	else if (e == STORE_INVALID)
		e = STORE_NOTFOUND;
err:
	sq_close(&q);
	if (e == STORE_OK)
		e = store_ping_get(s, article_id, target, a, out);
	if (e == STORE_OK && added != NULL)
		*added = n;
	return e;
}

enum store_err
store_ping_update(store *s, const struct store_ping *p)
{
	struct conn *c = sq_conn_get(s);
	struct q q = {0};
	enum store_err e;
	const char *kind = store_ping_kind_name(p->kind);
	const char *status = store_ping_status_name(p->status);
	if (c == NULL)
		return STORE_ERROR;
	if (kind == NULL || status == NULL)
		return STORE_INVALID;
	if ((e = sq_open(&q, c, STMT_PING_UPDATE)) != STORE_OK)
		goto err;
	sq_int(&q, ":id", p->id);
	sq_text(&q, ":kind", kind);
	sq_text(&q, ":endpoint", p->endpoint ? p->endpoint : "");
	sq_text(&q, ":status", status);
	sq_int(&q, ":attempts", p->attempts);
	sq_text(&q, ":error", p->last_error ? p->last_error : "");
	sq_int(&q, ":now", p->updated_at);
	if ((e = sq_exec(&q)) == STORE_OK && sqlite3_changes(c->db) == 0)
		e = STORE_NOTFOUND;
err:
	sq_close(&q);
	return e;
}

/* The count and the page in one read transaction, so they agree. */
enum store_err
store_pings_list(store *s, int64_t article_id, int64_t offset, int64_t limit,
    arena *a, struct store_ping **out, size_t *n, int64_t *total)
{
	struct conn *c = sq_conn_get(s);
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
	if ((e = sq_tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if ((e = sq_open(&q, c, STMT_PINGS_COUNT)) != STORE_OK)
		goto err;
	sq_int(&q, ":article", article_id);
	if (sq_row(&q, &e))
		*total = sqlite3_column_int64(q.st, 0);
	sq_close(&q);
	if (e != STORE_OK)
		goto err;
	if ((e = sq_open(&q, c, STMT_PINGS_LIST)) != STORE_OK)
		goto err;
	sq_int(&q, ":article", article_id);
	sq_int(&q, ":offset", offset);
	sq_int(&q, ":limit", limit);
	*out = sq_rows(&q, a, sizeof(**out), ping_read, n, &e);
err:
	sq_close(&q);
	return sq_tx_end(c, &t, e);
}
