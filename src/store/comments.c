/*
 * store.h (every backend): comments, likes, the moderation queue, placeholders
 * and bans. comment_count and like_count move in the same transaction as
 * the rows they count.
 */
#include "store_int.h"

#include <time.h>

/* ---- comments ------------------------------------------------------------------------ */

/* One row of COMMENT_COLS into a struct store_comment. */
static void
comment_read(struct q *st, arena *a, void *row)
{
	struct store_comment *o = row;
	o->id = db_col_int(st, 0);
	o->article_id = db_col_int(st, 1);
	o->parent_id = db_col_int(st, 2);
	o->type = (enum store_ctype)db_enum_col(db_ctype_names, CTYPE__MAX, st, 3);
	o->nickname = db_col_str(a, st, 4);
	o->email = db_col_str(a, st, 5);
	o->url = db_col_str(a, st, 6);
	o->ip = db_col_str(a, st, 7);
	o->visitor_id = db_col_str(a, st, 8);
	o->body = db_col_str(a, st, 9);
	o->created_at = db_col_int(st, 10);
	o->status = (enum store_cstatus)db_enum_col(db_cstatus_names, CSTATUS__MAX,
	    st, 11);
	o->like_count = db_col_int(st, 12);
	o->legacy_id = db_col_str(a, st, 13);
	o->pending_reason = db_col_str(a, st, 14);
	o->placeholder = false;
	o->article_title = "";
}

/* COMMENT_COLS and then whether the row stands in for a comment that is
 * not shown but has replies that are. */
static void
comment_read_placeholder(struct q *st, arena *a, void *row)
{
	struct store_comment *o = row;
	comment_read(st, a, o);
	o->placeholder = (int)db_col_int(st, 15) != 0;
}

/* COMMENT_COLS and then the article's title (the moderation queue). */
static void
comment_read_titled(struct q *st, arena *a, void *row)
{
	struct store_comment *o = row;
	comment_read(st, a, o);
	o->article_title = db_col_str(a, st, 15);
}

/* Looks up a comment's article and status inside the caller's
 * transaction; NOTFOUND when there is no such comment. */
static enum store_err
comment_state(struct conn *c, int64_t id, int64_t *article,
    enum store_cstatus *st)
{
	struct q q = {0};
	enum store_err e;
	if ((e = db_open(&q, c, STMT_COMMENT_STATE)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	if (db_row(&q, &e)) {
		*article = db_col_int(&q, 0);
		*st = (enum store_cstatus)db_enum_col(db_cstatus_names, CSTATUS__MAX,
		    &q, 1);
	} else if (e == STORE_OK) {
		e = STORE_NOTFOUND;
	}
err:
	db_close(&q);
	return e;
}

/* articles.comment_count += delta, in the caller's transaction. */
static enum store_err
comment_count_adj(struct conn *c, int64_t article, int64_t delta)
{
	struct q q = {0};
	enum store_err e;
	if (delta == 0)
		return STORE_OK;
	if ((e = db_open(&q, c, STMT_COMMENT_COUNT_ADJ)) == STORE_OK) {
		db_int(&q, ":delta", delta);
		db_int(&q, ":id", article);
		e = db_exec(&q);
	}
	db_close(&q);
	return e;
}

/* One comment's rows in the caller's unit: the parent check (unless the
 * caller inserted the parent itself), the row and a reply's mail. */
static enum store_err
comment_insert(struct conn *c, struct store_comment *cm, bool check_parent,
    bool *mailed)
{
	struct q q = {0};
	enum store_err e;
	const char *type = db_enum_name(db_ctype_names, CTYPE__MAX, (int)cm->type);
	const char *status = db_enum_name(db_cstatus_names, CSTATUS__MAX,
	    (int)cm->status);

	if (type == NULL || status == NULL || cm->like_count < 0)
		return STORE_INVALID;
	if (cm->parent_id != 0 && check_parent) {
		int64_t art = 0;
		enum store_cstatus pst;
		e = comment_state(c, cm->parent_id, &art, &pst);
		if (e == STORE_NOTFOUND || (e == STORE_OK && art != cm->article_id))
			e = STORE_INVALID;
		if (e != STORE_OK)
			return e;
	}
	if ((e = db_open(&q, c, STMT_COMMENT_ADD)) != STORE_OK)
		goto err;
	db_int(&q, ":article", cm->article_id);
	db_id(&q, ":parent", cm->parent_id);
	db_text(&q, ":type", type);
	db_text(&q, ":nickname", cm->nickname);
	db_text(&q, ":email", cm->email);
	db_text(&q, ":url", cm->url);
	db_text(&q, ":ip", cm->ip);
	db_text(&q, ":visitor", cm->visitor_id);
	db_text(&q, ":body", cm->body);
	db_int(&q, ":created", cm->created_at);
	db_text(&q, ":status", status);
	db_int(&q, ":likes", cm->like_count);
	db_text(&q, ":legacy", cm->legacy_id);
	db_text(&q, ":reason", cm->pending_reason);
	if ((e = db_exec(&q)) != STORE_OK)
		goto err;
	cm->id = db_last_id(c);
	/* an approved reply tells its parent's subscriber (mail.c) */
	if (cm->status == CSTATUS_APPROVED && cm->parent_id) {
		bool queued = false;
		e = db_mail_reply(c, cm->id, cm->created_at, &queued);
		*mailed = *mailed || queued;
	}
err:
	db_close(&q);
	return e;
}

/* Each comment as comment_insert, then the article's count once (it
 * moves for the approved ones), all in one unit. */
enum store_err
store_comments_add(store *s, struct store_comment *cs, const int64_t *parent_ix,
    size_t n)
{
	struct conn *c = db_conn_get(s);
	struct tx t = {0};
	enum store_err e = STORE_OK;
	int64_t approved = 0;
	bool mailed = false;

	if (c == NULL)
		return STORE_ERROR;
	for (size_t i = 0; i < n; i++)
		if (cs[i].article_id != cs[0].article_id ||
		    (parent_ix != NULL && parent_ix[i] >= (int64_t)i))
			return STORE_INVALID;
	if ((e = db_tx_begin(c, true, &t)) != STORE_OK)
		return e;
	for (size_t i = 0; e == STORE_OK && i < n; i++) {
		bool ours = parent_ix != NULL && parent_ix[i] >= 0;
		if (ours)
			cs[i].parent_id = cs[parent_ix[i]].id;
		e = comment_insert(c, &cs[i], !ours, &mailed);
		approved += cs[i].status == CSTATUS_APPROVED;
	}
	if (e == STORE_OK && n > 0)
		e = comment_count_adj(c, cs[0].article_id, approved);
	e = db_tx_end(c, &t, e);
	for (size_t i = 0; e != STORE_OK && i < n; i++)
		cs[i].id = 0;
	if (e == STORE_OK && mailed)
		db_job_added(s);
	return e;
}

enum store_err
store_comment_add(store *s, struct store_comment *cm)
{
	return store_comments_add(s, cm, NULL, 1);
}

/* Any status: moderation and likes need pending/spam ones too. */
enum store_err
store_comment_get(store *s, int64_t id, arena *a, struct store_comment *out)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_COMMENT_GET)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	e = db_one(&q, a, comment_read, out);
err:
	db_close(&q);
	return e;
}

/* An empty visitor is no visitor: imported pending comments have none and
 * must stay hidden. */
/* True when a comment in cs[0, n) replies to one not among them (pending
 * for someone else, spammed, trashed): an open-addressed set of the ids,
 * in the arena. */
static bool
comments_parent_missing(const struct store_comment *cs, size_t n, arena *a)
{
	size_t cap = 16, i;
	while (cap < n * 2)
		cap *= 2;
	int64_t *set = arena_alloc(a, cap * sizeof(*set)); /* zeroed */
	for (size_t k = 0; k < n; k++) {
		i = (size_t)((uint64_t)cs[k].id * 0x9E3779B97F4A7C15ULL) & (cap - 1);
		while (set[i] != 0 && set[i] != cs[k].id)
			i = (i + 1) & (cap - 1);
		set[i] = cs[k].id;
	}
	for (size_t k = 0; k < n; k++) {
		int64_t p = cs[k].parent_id;
		if (p == 0)
			continue;
		i = (size_t)((uint64_t)p * 0x9E3779B97F4A7C15ULL) & (cap - 1);
		while (set[i] != 0 && set[i] != p)
			i = (i + 1) & (cap - 1);
		if (set[i] != p)
			return true;
	}
	return false;
}

enum store_err
store_comments_for_article(store *s, int64_t article_id, enum store_ctype type,
    const char *visitor, arena *a, struct store_comment **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	const char *tname = NULL;

	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (type != CTYPE__MAX &&
	    (tname = db_enum_name(db_ctype_names, CTYPE__MAX, (int)type)) == NULL)
		return STORE_INVALID;
	/* The shown comments alone first: no recursion, no sort. */
	if ((e = db_open(&q, c, STMT_COMMENTS_SHOWN)) != STORE_OK)
		goto err;
	db_int(&q, ":article", article_id);
	db_text_null(&q, ":visitor", visitor);
	db_text_null(&q, ":type", tname);
	*out = db_rows(&q, a, sizeof(**out), comment_read_placeholder, n, &e);
	db_close(&q);
	if (e != STORE_OK || !comments_parent_missing(*out, *n, a))
		return e;
	/* A reply whose parent is not shown: the full statement adds the
	 * placeholders (it returns the same shown rows, in the same order). */
	*out = NULL;
	*n = 0;
	if ((e = db_open(&q, c, STMT_COMMENTS_FOR_ARTICLE)) != STORE_OK)
		goto err;
	db_int(&q, ":article", article_id);
	db_text_null(&q, ":visitor", visitor);
	db_text_null(&q, ":type", tname);
	*out = db_rows(&q, a, sizeof(**out), comment_read_placeholder, n, &e);
err:
	db_close(&q);
	return e;
}

/* One row of COMMENT_PLACES. */
static void
comment_read_place(struct q *st, arena *a, void *row)
{
	struct store_comment *o = row;
	(void)a;
	o->id = db_col_int(st, 0);
	o->parent_id = db_col_int(st, 1);
	o->type = (enum store_ctype)db_enum_col(db_ctype_names, CTYPE__MAX, st, 2);
	o->created_at = db_col_int(st, 3);
	o->status = (enum store_cstatus)db_enum_col(db_cstatus_names, CSTATUS__MAX,
	    st, 4);
	o->like_count = db_col_int(st, 5);
	o->nickname = o->email = o->url = o->ip = o->visitor_id = o->body = "";
	o->legacy_id = o->pending_reason = o->article_title = "";
	o->placeholder = false;
}

enum store_err
store_comment_places(store *s, int64_t article_id, const char *visitor,
    arena *a, struct store_comment **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;

	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_COMMENT_PLACES)) != STORE_OK)
		goto err;
	db_int(&q, ":article", article_id);
	db_text_null(&q, ":visitor", visitor);
	*out = db_rows(&q, a, sizeof(**out), comment_read_place, n, &e);
	for (size_t i = 0; i < *n; i++)
		(*out)[i].article_id = article_id;
err:
	db_close(&q);
	return e;
}

enum store_err
store_comments_by_ids(store *s, int64_t article_id, const int64_t *ids,
    size_t nids, const char *visitor, arena *a, struct store_comment **out,
    size_t *n)
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
	if ((e = db_open(&q, c, STMT_COMMENTS_BY_IDS)) != STORE_OK)
		goto err;
	db_text(&q, ":ids", db_ids_json(a, ids, nids));
	db_int(&q, ":article", article_id);
	db_text_null(&q, ":visitor", visitor);
	*out = db_rows(&q, a, sizeof(**out), comment_read_placeholder, n, &e);
err:
	db_close(&q);
	return e;
}

/* The moderation queue and the CLI's list: newest first. */
enum store_err
store_comments_by_status(store *s, enum store_cstatus st, size_t limit,
    arena *a, struct store_comment **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	const char *name = NULL;

	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (st != CSTATUS__MAX &&
	    (name = db_enum_name(db_cstatus_names, CSTATUS__MAX, (int)st)) == NULL)
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_COMMENTS_BY_STATUS)) != STORE_OK)
		goto err;
	db_text_null(&q, ":status", name);
	db_int(&q, ":limit", (int64_t)limit);
	*out = db_rows(&q, a, sizeof(**out), comment_read, n, &e);
err:
	db_close(&q);
	return e;
}

/* Moderation "first": has this visitor ever had a comment approved? */
enum store_err
store_visitor_approved(store *s, const char *visitor, bool *yes)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;

	*yes = false;
	if (c == NULL)
		return STORE_ERROR;
	if (visitor == NULL || *visitor == '\0')
		return STORE_OK;
	if ((e = db_open(&q, c, STMT_VISITOR_APPROVED)) != STORE_OK)
		goto err;
	db_text(&q, ":visitor", visitor);
	if (db_row(&q, &e))
		*yes = db_col_int(&q, 0) != 0;
err:
	db_close(&q);
	return e;
}

/* Ids of the comments of one article this visitor likes, ascending. */
enum store_err
store_visitor_likes(store *s, int64_t article_id, const char *visitor,
    arena *a, int64_t **ids, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;

	*ids = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_VISITOR_LIKES)) != STORE_OK)
		goto err;
	db_text(&q, ":visitor", visitor);
	db_int(&q, ":article", article_id);
	*ids = db_rows(&q, a, sizeof(**ids), db_id_row, n, &e);
err:
	db_close(&q);
	return e;
}

/* comment_count follows the move into or out of 'approved' in the same
 * transaction, so it stays exact. */
enum store_err
store_comment_set_status(store *s, int64_t id, enum store_cstatus st)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	const char *name = db_enum_name(db_cstatus_names, CSTATUS__MAX, (int)st);
	enum store_cstatus old = CSTATUS_PENDING;
	int64_t article = 0;
	bool mailed = false;

	if (c == NULL)
		return STORE_ERROR;
	if (name == NULL)
		return STORE_INVALID;
	if ((e = db_tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if ((e = comment_state(c, id, &article, &old)) != STORE_OK)
		goto err;
	if (old == st)
		goto err;
	if ((e = db_open(&q, c, STMT_COMMENT_SET_STATUS)) != STORE_OK)
		goto err;
	db_text(&q, ":status", name);
	db_int(&q, ":id", id);
	if ((e = db_exec(&q)) != STORE_OK)
		goto err;
	db_close(&q);
	e = comment_count_adj(c, article,
	    (st == CSTATUS_APPROVED) - (old == CSTATUS_APPROVED));
	/* approved by moderation: a reply tells its parent's subscriber */
	if (e == STORE_OK && st == CSTATUS_APPROVED)
		e = db_mail_reply(c, id, text_now(), &mailed);
err:
	db_close(&q);
	e = db_tx_end(c, &t, e);
	if (e == STORE_OK && mailed)
		db_job_added(s);
	return e;
}

/* Reads a comment's like_count inside the caller's transaction. */
static enum store_err
like_count(struct conn *c, int64_t id, int64_t *count)
{
	struct q q = {0};
	enum store_err e;
	if ((e = db_open(&q, c, STMT_LIKE_COUNT)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	if (db_row(&q, &e))
		*count = db_col_int(&q, 0);
	else if (e == STORE_OK)
		e = STORE_NOTFOUND;
err:
	db_close(&q);
	return e;
}

/*
 * like and unlike: the (comment, visitor) row and like_count move together
 * under one IMMEDIATE transaction, so concurrent likers serialize and the
 * count stays exact. add selects LIKE_ADD+LIKE_INC or LIKE_DEL+LIKE_DEC.
 */
static enum store_err
like_change(store *s, int64_t comment_id, const char *visitor, bool add,
    int64_t *count)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	int64_t n = 0;

	*count = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (visitor == NULL || *visitor == '\0')
		return STORE_INVALID;
	if ((e = db_tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if ((e = like_count(c, comment_id, &n)) != STORE_OK)
		goto err;
	if ((e = db_open(&q, c, add ? STMT_LIKE_ADD : STMT_LIKE_DEL)) != STORE_OK)
		goto err;
	db_int(&q, ":id", comment_id);
	db_text(&q, ":visitor", visitor);
	if (add)
		db_int(&q, ":now", (int64_t)time(NULL));
	if ((e = db_exec(&q)) != STORE_OK)
		goto err;
	db_close(&q);
	if (db_changes(c) == 0) {
		e = add ? STORE_CONFLICT : STORE_NOTFOUND;
		goto err;
	}
	if ((e = db_open(&q, c, add ? STMT_LIKE_INC : STMT_LIKE_DEC)) != STORE_OK)
		goto err;
	db_int(&q, ":id", comment_id);
	if ((e = db_exec(&q)) != STORE_OK)
		goto err;
	n = add ? n + 1 : n > 0 ? n - 1 : 0;
err:
	db_close(&q);
	e = db_tx_end(c, &t, e);
	/* CONFLICT and NOTFOUND still report the count (0 without a comment) */
	if (e == STORE_OK || e == STORE_CONFLICT || e == STORE_NOTFOUND)
		*count = n;
	return e;
}

/* See like_change. */
enum store_err
store_like(store *s, int64_t comment_id, const char *visitor, int64_t *count)
{
	return like_change(s, comment_id, visitor, true, count);
}

/* See like_change. */
enum store_err
store_unlike(store *s, int64_t comment_id, const char *visitor, int64_t *count)
{
	return like_change(s, comment_id, visitor, false, count);
}

/* ---- received pings ------------------------------------------------------------ */

/* The ping of article from url inside the caller's transaction (or
 * none); NOTFOUND when there is none. */
static enum store_err
ping_find(struct conn *c, int64_t article, const char *url, arena *a,
    struct store_comment *out)
{
	struct q q = {0};
	enum store_err e;
	if ((e = db_open(&q, c, STMT_COMMENT_PING_FIND)) != STORE_OK)
		goto err;
	db_int(&q, ":article", article);
	db_text(&q, ":url", url);
	e = db_one(&q, a, comment_read, out);
err:
	db_close(&q);
	return e;
}

enum store_err
store_comment_ping_find(store *s, int64_t article_id, const char *url,
    arena *a, struct store_comment *out)
{
	struct conn *c = db_conn_get(s);
	if (c == NULL)
		return STORE_ERROR;
	return ping_find(c, article_id, url, a, out);
}

/* The duplicate check and store_comment_add (a savepoint inside this
 * IMMEDIATE transaction), so two deliveries of one ping add one row. */
enum store_err
store_comment_ping_add(store *s, struct store_comment *cm)
{
	struct conn *c = db_conn_get(s);
	struct tx t = {0};
	enum store_err e;
	struct store_comment old;
	arena *a;

	if (c == NULL)
		return STORE_ERROR;
	if (cm->type == CTYPE_COMMENT || cm->url == NULL || *cm->url == '\0')
		return STORE_INVALID;
	if ((e = db_tx_begin(c, true, &t)) != STORE_OK)
		return e;
	a = arena_new(0);
	e = ping_find(c, cm->article_id, cm->url, a, &old);
	arena_free(a);
	if (e == STORE_OK)
		e = STORE_CONFLICT;
	else if (e == STORE_NOTFOUND)
		e = store_comment_add(s, cm);
	return db_tx_end(c, &t, e);
}

enum store_err
store_comment_ping_update(store *s, int64_t id, const char *nickname,
    const char *body)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_COMMENT_PING_UPDATE)) != STORE_OK)
		goto err;
	db_text(&q, ":nickname", nickname);
	db_text(&q, ":body", body);
	db_int(&q, ":id", id);
	if ((e = db_exec(&q)) == STORE_OK && db_changes(c) == 0)
		e = STORE_NOTFOUND;
err:
	db_close(&q);
	return e;
}

/* Deleted when nothing hangs below it (likes go with it), else trashed
 * like a moderated comment; comment_count moves in the same transaction. */
enum store_err
store_comment_ping_delete(store *s, int64_t id)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	struct store_comment cm;
	arena *a = NULL;

	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_tx_begin(c, true, &t)) != STORE_OK)
		return e;
	a = arena_new(0);
	if ((e = db_open(&q, c, STMT_COMMENT_GET)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	e = db_one(&q, a, comment_read, &cm);
	db_close(&q);
	if (e == STORE_OK && cm.type == CTYPE_COMMENT)
		e = STORE_NOTFOUND;
	if (e != STORE_OK)
		goto err;
	if ((e = db_open(&q, c, STMT_COMMENT_PING_DELETE)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	if ((e = db_exec(&q)) != STORE_OK)
		goto err;
	db_close(&q);
	if (db_changes(c) == 0) {
		/* replies hang under it: trash the ping, keep the thread */
		if ((e = db_open(&q, c, STMT_COMMENT_SET_STATUS)) != STORE_OK)
			goto err;
		db_text(&q, ":status", db_enum_name(db_cstatus_names,
		    CSTATUS__MAX, CSTATUS_TRASH));
		db_int(&q, ":id", id);
		if ((e = db_exec(&q)) != STORE_OK)
			goto err;
		db_close(&q);
	}
	e = comment_count_adj(c, cm.article_id,
	    -(int64_t)(cm.status == CSTATUS_APPROVED));
err:
	db_close(&q);
	arena_free(a);
	return db_tx_end(c, &t, e);
}

/* ---- editor area: moderation and bans ------------------------------ */

enum store_err
store_comment_counts(store *s, int64_t article_id, int64_t counts[CSTATUS__MAX])
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_COMMENT_COUNTS)) != STORE_OK)
		goto err;
	db_int(&q, ":article", article_id);
	e = db_status_counts(&q, db_cstatus_names, CSTATUS__MAX, counts);
err:
	db_close(&q);
	return e;
}

/* Count and page in one read transaction, so the tabs and the list agree. */
enum store_err
store_comments_queue(store *s, enum store_cstatus st, int64_t article_id,
    int64_t offset, int64_t limit, arena *a, struct store_comment **out,
    size_t *n, int64_t *total)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	const char *name = NULL;

	*out = NULL;
	*n = 0;
	*total = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (st != CSTATUS__MAX &&
	    (name = db_enum_name(db_cstatus_names, CSTATUS__MAX, (int)st)) == NULL)
		return STORE_INVALID;
	if ((e = db_tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if ((e = db_open(&q, c, STMT_COMMENTS_QUEUE_COUNT)) != STORE_OK)
		goto err;
	db_text_null(&q, ":status", name);
	db_int(&q, ":article", article_id);
	if (db_row(&q, &e))
		*total = db_col_int(&q, 0);
	db_close(&q);
	if (e != STORE_OK || (e = db_open(&q, c, STMT_COMMENTS_QUEUE)) != STORE_OK)
		goto err;
	db_text_null(&q, ":status", name);
	db_int(&q, ":article", article_id);
	db_int(&q, ":limit", limit);
	db_int(&q, ":offset", offset);
	*out = db_rows(&q, a, sizeof(**out), comment_read_titled, n, &e);
err:
	db_close(&q);
	return db_tx_end(c, &t, e);
}

enum store_err
store_comment_set_body(store *s, int64_t id, const char *body)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (body == NULL)
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_COMMENT_SET_BODY)) != STORE_OK)
		goto err;
	db_text(&q, ":body", body);
	db_int(&q, ":id", id);
	if ((e = db_exec(&q)) == STORE_OK && db_changes(c) == 0)
		e = STORE_NOTFOUND;
err:
	db_close(&q);
	return e;
}

/* The importer asks before adding, so a second run adds nothing. */
enum store_err
store_comment_by_legacy(store *s, int64_t article_id, const char *legacy_id,
    int64_t *id)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*id = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_COMMENT_BY_LEGACY)) != STORE_OK)
		goto err;
	db_int(&q, ":article", article_id);
	db_text(&q, ":legacy", legacy_id ? legacy_id : "");
	if (db_row(&q, &e))
		*id = db_col_int(&q, 0);
err:
	db_close(&q);
	return e;
}

static const char *const ban_names[BAN__MAX] = {
	[BAN_IP] = "ip",
	[BAN_RANGE] = "range",
	[BAN_VISITOR] = "visitor",
};

enum store_err
store_ban_add(store *s, const struct store_ban *b, int64_t *id)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	const char *kind = db_enum_name(ban_names, BAN__MAX, (int)b->kind);
	if (c == NULL)
		return STORE_ERROR;
	if (kind == NULL || b->value == NULL || *b->value == '\0')
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_BAN_ADD)) != STORE_OK)
		goto err;
	db_text(&q, ":kind", kind);
	db_text(&q, ":value", b->value);
	db_text(&q, ":note", b->note);
	db_int(&q, ":now", b->created_at);
	if ((e = db_exec(&q)) == STORE_OK && id != NULL)
		*id = db_last_id(c);
err:
	db_close(&q);
	return e;
}

enum store_err
store_ban_delete(store *s, int64_t id)
{
	return db_exec_int(s, STMT_BAN_DELETE, ":id", id);
}

/* One bans row into a struct store_ban. */
static void
ban_read(struct q *st, arena *a, void *row)
{
	struct store_ban *o = row;
	o->id = db_col_int(st, 0);
	o->kind = (enum store_ban_kind)db_enum_col(ban_names, BAN__MAX, st, 1);
	o->value = db_col_str(a, st, 2);
	o->note = db_col_str(a, st, 3);
	o->created_at = db_col_int(st, 4);
}

/* The bans statement id lists (limit < 0: none bound). */
static enum store_err
bans_read(store *s, enum stmt id, int64_t limit, arena *a,
    struct store_ban **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, id)) != STORE_OK)
		goto err;
	if (limit >= 0)
		db_int(&q, ":limit", limit);
	*out = db_rows(&q, a, sizeof(**out), ban_read, n, &e);
err:
	db_close(&q);
	return e;
}

enum store_err
store_bans(store *s, size_t limit, arena *a, struct store_ban **out, size_t *n)
{
	return bans_read(s, STMT_BANS, (int64_t)limit, a, out, n);
}

enum store_err
store_ban_ranges(store *s, arena *a, struct store_ban **out, size_t *n)
{
	return bans_read(s, STMT_BAN_RANGES, -1, a, out, n);
}

enum store_err
store_ban_exact(store *s, const char *ip, const char *visitor, bool *yes)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*yes = false;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_BAN_EXACT)) != STORE_OK)
		goto err;
	db_text_null(&q, ":ip", ip);
	db_text_null(&q, ":visitor", visitor);
	if (db_row(&q, &e))
		*yes = (int)db_col_int(&q, 0) != 0;
err:
	db_close(&q);
	return e;
}

/* ---- import and export (port/) ---------------------------------------------------- */

/* A count from an export: the likes table keeps its visitors' rows (none
 * come with an import); the count is what pages show. */
enum store_err
store_comment_set_likes(store *s, int64_t id, int64_t likes)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (likes < 0)
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_COMMENT_SET_LIKES)) != STORE_OK)
		goto err;
	db_int(&q, ":likes", likes);
	db_int(&q, ":id", id);
	if ((e = db_exec(&q)) == STORE_OK && db_changes(c) == 0)
		e = STORE_NOTFOUND;
err:
	db_close(&q);
	return e;
}

/* The export's page of one article's comments (keyset on id). */
enum store_err
store_export_comments(store *s, int64_t article_id, int64_t after,
    int64_t limit, arena *a, struct store_comment **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_EXPORT_COMMENTS)) != STORE_OK)
		goto err;
	db_int(&q, ":article", article_id);
	db_int(&q, ":after", after);
	db_int(&q, ":limit", limit);
	*out = db_rows(&q, a, sizeof(**out), comment_read, n, &e);
err:
	db_close(&q);
	return e;
}
