/*
 * store.h (every backend): what the site's operators and editors own. Settings,
 * users and accounts, sessions, login throttling, redirects and media.
 */
#include "store_int.h"

#include <string.h>
#include <time.h>

#define STORE_MEDIA_NAME 255    /* longest media name */

/* ---- settings ---------------------------------------------------------------------- */

/* NOTFOUND when the key was never set: defaults live in site/. */
enum store_err
store_setting_get(store *s, const char *key, buf *out)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_SETTING_GET)) != STORE_OK)
		goto err;
	db_text(&q, ":key", key);
	if (db_row(&q, &e)) {
		buf_reset(out);
		size_t n;
		const char *p = db_col_text(&q, 0, &n);
		buf_put(out, p ? p : "", n);
		if (out->err)
			e = STORE_ERROR;
	} else if (e == STORE_OK) {
		e = STORE_NOTFOUND;
	}
err:
	db_close(&q);
	return e;
}

/* Upsert: settings have no history. */
enum store_err
store_setting_set(store *s, const char *key, const char *value)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (key == NULL || *key == '\0' || value == NULL)
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_SETTING_SET)) != STORE_OK)
		goto err;
	db_text(&q, ":key", key);
	db_text(&q, ":value", value);
	e = db_exec(&q);
err:
	db_close(&q);
	return e;
}

/* Insert-or-nothing: *added says whether value went in. */
enum store_err
store_setting_add(store *s, const char *key, const char *value, bool *added)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*added = false;
	if (c == NULL)
		return STORE_ERROR;
	if (key == NULL || *key == '\0' || value == NULL)
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_SETTING_ADD)) != STORE_OK)
		goto err;
	db_text(&q, ":key", key);
	db_text(&q, ":value", value);
	if ((e = db_exec(&q)) == STORE_OK)
		*added = db_changes(c) > 0;
err:
	db_close(&q);
	return e;
}

/* Copies the settings out first and calls fn afterwards, so fn may use
 * the store (even write settings) without meeting a half-read statement. */
enum store_err
store_settings_each(store *s,
    void (*fn)(void *ctx, const char *key, const char *value), void *ctx)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	arena *a = NULL;
	const char **kv = NULL;
	size_t n = 0, cap = 0;
	if (c == NULL)
		return STORE_ERROR;
	a = arena_new(0);
	if ((e = db_open(&q, c, STMT_SETTINGS_ALL)) != STORE_OK)
		goto err;
	while (db_row(&q, &e)) {
		kv = db_grow(a, kv, n, &cap, 2 * sizeof(*kv));
		kv[2 * n] = db_col_str(a, &q, 0);
		kv[2 * n + 1] = db_col_str(a, &q, 1);
		n++;
	}
	db_close(&q);
	if (e != STORE_OK)
		goto err;
	for (size_t i = 0; i < n; i++)
		fn(ctx, kv[2 * i], kv[2 * i + 1]);
err:
	db_close(&q);
	arena_free(a);
	return e;
}

/* ---- users, accounts ----------------------------------------------- */

/* created_at is the wall clock; the display name defaults to the login. */
enum store_err
store_user_add(store *s, const struct store_user *u, int64_t *id)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	const char *role = db_enum_name(db_role_names, ROLE__MAX, (int)u->role);
	if (c == NULL)
		return STORE_ERROR;
	if (role == NULL || u->name == NULL || *u->name == '\0')
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_USER_ADD)) != STORE_OK)
		goto err;
	db_text(&q, ":name", u->name);
	db_text(&q, ":display", u->display_name ? u->display_name : u->name);
	db_text(&q, ":role", role);
	db_text(&q, ":hash", u->pass_hash);
	db_text(&q, ":email", u->email);
	db_int(&q, ":disabled", u->disabled ? 1 : 0);
	db_int(&q, ":now", (int64_t)time(NULL));
	if ((e = db_exec(&q)) == STORE_OK && id != NULL)
		*id = db_last_id(c);
err:
	db_close(&q);
	return e;
}

/* One users row in USER_COLS order into a struct store_user. */
static void
user_read(struct q *st, arena *a, void *row)
{
	struct store_user *out = row;
	out->id = db_col_int(st, 0);
	out->name = db_col_str(a, st, 1);
	out->display_name = db_col_str(a, st, 2);
	out->role = (enum store_role)db_enum_col(db_role_names, ROLE__MAX, st, 3);
	out->pass_hash = db_col_str(a, st, 4);
	out->email = db_col_str(a, st, 5);
	out->disabled = db_col_int(st, 6) != 0;
	out->cred_epoch = db_col_int(st, 7);
	out->created_at = db_col_int(st, 8);
}

/* One user by id (key :id) or name (key :name). */
static enum store_err
user_one(store *s, enum stmt id, int64_t uid, const char *name, arena *a,
    struct store_user *out)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, id)) != STORE_OK)
		goto err;
	if (name != NULL)
		db_text(&q, ":name", name);
	else
		db_int(&q, ":id", uid);
	e = db_one(&q, a, user_read, out);
err:
	db_close(&q);
	return e;
}

/* The pass_hash comes along: login checks read it here. */
enum store_err
store_user_get(store *s, int64_t id, arena *a, struct store_user *out)
{
	return user_one(s, STMT_USER_GET, id, NULL, a, out);
}

enum store_err
store_user_by_name(store *s, const char *name, arena *a, struct store_user *out)
{
	if (name == NULL)
		return STORE_NOTFOUND;
	return user_one(s, STMT_USER_BY_NAME, 0, name, a, out);
}

/* Every user, by login name; a site has a handful, so no paging. */
enum store_err
store_user_list(store *s, arena *a, struct store_user **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;

	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_USER_LIST)) != STORE_OK)
		goto err;
	*out = db_rows(&q, a, sizeof(**out), user_read, n, &e);
err:
	db_close(&q);
	return e;
}

/* One account change: statement id with :id and one value, either text
 * (when text is not NULL) or an integer. NOTFOUND when no user has that id. */
static enum store_err
user_update(store *s, enum stmt id, int64_t uid, const char *name,
    const char *text, int64_t num)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, id)) != STORE_OK)
		goto err;
	db_int(&q, ":id", uid);
	if (text != NULL)
		db_text(&q, name, text);
	else
		db_int(&q, name, num);
	if ((e = db_exec(&q)) == STORE_OK && db_changes(c) == 0)
		e = STORE_NOTFOUND;
err:
	db_close(&q);
	return e;
}

/* Bumps cred_epoch in the same statement: old sessions end. */
enum store_err
store_user_set_password(store *s, int64_t id, const char *pass_hash)
{
	if (pass_hash == NULL)
		return STORE_INVALID;
	return user_update(s, STMT_USER_SET_PASSWORD, id, ":hash", pass_hash, 0);
}

enum store_err
store_user_set_role(store *s, int64_t id, enum store_role role)
{
	const char *r = db_enum_name(db_role_names, ROLE__MAX, (int)role);
	if (r == NULL)
		return STORE_INVALID;
	return user_update(s, STMT_USER_SET_ROLE, id, ":role", r, 0);
}

/* Disabling bumps cred_epoch (sessions end); enabling does not. */
enum store_err
store_user_set_disabled(store *s, int64_t id, bool disabled)
{
	return user_update(s, STMT_USER_SET_DISABLED, id, ":disabled", NULL,
	    disabled ? 1 : 0);
}

enum store_err
store_user_set_email(store *s, int64_t id, const char *email)
{
	return user_update(s, STMT_USER_SET_EMAIL, id, ":email",
	    email ? email : "", 0);
}

enum store_err
store_user_set_display_name(store *s, int64_t id, const char *display_name)
{
	if (display_name == NULL || *display_name == '\0')
		return STORE_INVALID;
	return user_update(s, STMT_USER_SET_DISPLAY, id, ":display",
	    display_name, 0);
}

/* ---- redirects ------------------------------------------------------------------- */

/* CONFLICT when from already redirects somewhere. */
enum store_err
store_redirect_add(store *s, const char *from, const char *to)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (from == NULL || *from == '\0' || to == NULL || *to == '\0')
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_REDIRECT_ADD)) != STORE_OK)
		goto err;
	db_text(&q, ":from", from);
	db_text(&q, ":to", to);
	e = db_exec(&q);
err:
	db_close(&q);
	return e;
}

/* Exact path match; normalising the path is the router's job. */
enum store_err
store_redirect_get(store *s, const char *from, arena *a, const char **to)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_REDIRECT_GET)) != STORE_OK)
		goto err;
	db_text(&q, ":from", from);
	if (db_row(&q, &e))
		*to = db_col_str(a, &q, 0);
	else if (e == STORE_OK)
		e = STORE_NOTFOUND;
err:
	db_close(&q);
	return e;
}

/* Upsert: a slug changed twice points the old path at the newest. */
enum store_err
store_redirect_set(store *s, const char *from, const char *to)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (from == NULL || *from == '\0' || to == NULL || *to == '\0')
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_REDIRECT_SET)) != STORE_OK)
		goto err;
	db_text(&q, ":from", from);
	db_text(&q, ":to", to);
	e = db_exec(&q);
err:
	db_close(&q);
	return e;
}

enum store_err
store_redirect_delete(store *s, const char *from)
{
	return db_exec_text(s, STMT_REDIRECT_DELETE, ":from", from);
}

/* (from, to) into a struct store_redirect. */
static void
redirect_read(struct q *st, arena *a, void *row)
{
	struct store_redirect *o = row;
	o->from = db_col_str(a, st, 0);
	o->to = db_col_str(a, st, 1);
}

/* Count and page in one read transaction, so they agree. */
enum store_err
store_redirects(store *s, int64_t offset, int64_t limit, arena *a,
    struct store_redirect **out, size_t *n, int64_t *total)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	*total = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if ((e = db_open(&q, c, STMT_REDIRECTS_COUNT)) != STORE_OK)
		goto err;
	if (db_row(&q, &e))
		*total = db_col_int(&q, 0);
	db_close(&q);
	if (e != STORE_OK || (e = db_open(&q, c, STMT_REDIRECTS_PAGE)) != STORE_OK)
		goto err;
	db_int(&q, ":limit", limit);
	db_int(&q, ":offset", offset);
	*out = db_rows(&q, a, sizeof(**out), redirect_read, n, &e);
err:
	db_close(&q);
	return db_tx_end(c, &t, e);
}

/* ---- editor area: sessions, login throttling ----------------------- */

/* NOTFOUND when the user is gone (the INSERT ... SELECT wrote nothing). */
enum store_err
store_session_add(store *s, const char *id_hash, int64_t user_id,
    const char *csrf, int64_t now, const char *ip, const char *user_agent)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (id_hash == NULL || *id_hash == '\0' || csrf == NULL || *csrf == '\0')
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_SESSION_ADD)) != STORE_OK)
		goto err;
	db_text(&q, ":hash", id_hash);
	db_int(&q, ":user", user_id);
	db_text(&q, ":csrf", csrf);
	db_int(&q, ":now", now);
	db_text(&q, ":ip", ip);
	db_text(&q, ":ua", user_agent);
	if ((e = db_exec(&q)) == STORE_OK && db_changes(c) == 0)
		e = STORE_NOTFOUND;
err:
	db_close(&q);
	return e;
}

/* Every request of a logged-in editor starts here: one indexed read. */
enum store_err
store_session_get(store *s, const char *id_hash, arena *a,
    struct store_session *out)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_SESSION_GET)) != STORE_OK)
		goto err;
	db_text(&q, ":hash", id_hash);
	if (db_row(&q, &e)) {
		out->user_id = db_col_int(&q, 0);
		out->csrf = db_col_str(a, &q, 1);
		out->created_at = db_col_int(&q, 2);
		out->seen_at = db_col_int(&q, 3);
		out->stale = (int)db_col_int(&q, 4) != 0;
		out->disabled = (int)db_col_int(&q, 5) != 0;
		out->role = (enum store_role)db_enum_col(db_role_names, ROLE__MAX, &q, 6);
		out->name = db_col_str(a, &q, 7);
		out->display_name = db_col_str(a, &q, 8);
	} else if (e == STORE_OK) {
		e = STORE_NOTFOUND;
	}
err:
	db_close(&q);
	return e;
}

enum store_err
store_session_touch(store *s, const char *id_hash, int64_t now)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_SESSION_TOUCH)) != STORE_OK)
		goto err;
	db_int(&q, ":now", now);
	db_text(&q, ":hash", id_hash);
	e = db_exec(&q);
err:
	db_close(&q);
	return e;
}

enum store_err
store_session_delete(store *s, const char *id_hash)
{
	return db_exec_text(s, STMT_SESSION_DELETE, ":hash", id_hash);
}

enum store_err
store_sessions_prune(store *s, int64_t idle_before, int64_t created_before)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_SESSIONS_PRUNE)) != STORE_OK)
		goto err;
	db_int(&q, ":idle", idle_before);
	db_int(&q, ":created", created_before);
	e = db_exec(&q);
err:
	db_close(&q);
	return e;
}

enum store_err
store_login_failures(store *s, const char *key, int64_t *failures,
    int64_t *last_at)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*failures = 0;
	*last_at = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_LOGIN_FAILURES_GET)) != STORE_OK)
		goto err;
	db_text(&q, ":key", key);
	if (db_row(&q, &e)) {
		*failures = db_col_int(&q, 0);
		*last_at = db_col_int(&q, 1);
	}
err:
	db_close(&q);
	return e;
}

/* One upsert, so concurrent failures on the same key all count. */
enum store_err
store_login_fail(store *s, const char *key, int64_t now, int64_t forget_before)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_LOGIN_FAIL)) != STORE_OK)
		goto err;
	db_text(&q, ":key", key);
	db_int(&q, ":now", now);
	db_int(&q, ":forget", forget_before);
	e = db_exec(&q);
err:
	db_close(&q);
	return e;
}

enum store_err
store_login_clear(store *s, const char *key)
{
	enum store_err e = db_exec_text(s, STMT_LOGIN_CLEAR, ":key", key);
	return e == STORE_NOTFOUND ? STORE_OK : e;
}

enum store_err
store_login_prune(store *s, int64_t before)
{
	enum store_err e = db_exec_int(s, STMT_LOGIN_PRUNE, ":before", before);
	return e == STORE_NOTFOUND ? STORE_OK : e;
}

/* ---- media ------------------------------------------------------------------------ */

/* [A-Za-z0-9._-]+, not starting with '.', so a name is also a safe file
 * name when the site is exported to a directory. */
static bool
media_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > STORE_MEDIA_NAME || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-'))
			return false;
	}
	return true;
}

/* Upsert: a re-upload under the same name replaces the file. */
enum store_err
store_media_put(store *s, const char *name, const char *type, const void *data,
    size_t n, int64_t mtime)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (!media_name_ok(name) || type == NULL || *type == '\0' ||
	    (n > 0 && data == NULL))
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_MEDIA_PUT)) != STORE_OK)
		goto err;
	db_text(&q, ":name", name);
	db_text(&q, ":type", type);
	db_blob(&q, ":data", data, n);
	db_int(&q, ":mtime", mtime);
	e = db_exec(&q);
err:
	db_close(&q);
	return e;
}

/* *data is never NULL on success, even for an empty file. */
enum store_err
store_media_get(store *s, const char *name, arena *a, const char **type,
    const void **data, size_t *n, int64_t *mtime)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (!media_name_ok(name))
		return STORE_NOTFOUND;
	if ((e = db_open(&q, c, STMT_MEDIA_GET)) != STORE_OK)
		goto err;
	db_text(&q, ":name", name);
	if (db_row(&q, &e)) {
		size_t len;
		const void *p = db_col_blob(&q, 1, &len);
		void *copy = arena_alloc(a, len ? len : 1);
		if (len)
			memcpy(copy, p, len);
		*type = db_col_str(a, &q, 0);
		*data = copy;
		*n = len;
		*mtime = db_col_int(&q, 2);
	} else if (e == STORE_OK) {
		e = STORE_NOTFOUND;
	}
err:
	db_close(&q);
	return e;
}

/* One row of MEDIA_COLS into a struct store_media. */
static void
media_read(struct q *st, arena *a, void *row)
{
	struct store_media *o = row;
	o->name = db_col_str(a, st, 0);
	o->type = db_col_str(a, st, 1);
	o->width = db_col_int(st, 2);
	o->height = db_col_int(st, 3);
	o->filename = db_col_str(a, st, 4);
	o->uploader_id = db_col_int(st, 5);
	o->mtime = db_col_int(st, 6);
	o->uploader_name = db_col_str(a, st, 7);
}

enum store_err
store_media_add(store *s, const struct store_media *m, const void *data,
    size_t n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (!media_name_ok(m->name) || m->type == NULL || *m->type == '\0' ||
	    (n > 0 && data == NULL) || m->width < 0 || m->height < 0)
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_MEDIA_ADD)) != STORE_OK)
		goto err;
	db_text(&q, ":name", m->name);
	db_text(&q, ":type", m->type);
	db_blob(&q, ":data", data, n);
	db_int(&q, ":mtime", m->mtime);
	db_int(&q, ":width", m->width);
	db_int(&q, ":height", m->height);
	db_text(&q, ":filename", m->filename);
	db_id(&q, ":uploader", m->uploader_id);
	e = db_exec(&q);
err:
	db_close(&q);
	return e;
}

enum store_err
store_media_meta(store *s, const char *name, arena *a, struct store_media *out)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (!media_name_ok(name))
		return STORE_NOTFOUND;
	if ((e = db_open(&q, c, STMT_MEDIA_META)) != STORE_OK)
		goto err;
	db_text(&q, ":name", name);
	e = db_one(&q, a, media_read, out);
err:
	db_close(&q);
	return e;
}

enum store_err
store_media_list(store *s, int64_t offset, int64_t limit, arena *a,
    struct store_media **out, size_t *n, int64_t *total)
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
		if ((e = db_open(&q, c, STMT_MEDIA_COUNT)) != STORE_OK)
			goto err;
		if (db_row(&q, &e))
			*total = db_col_int(&q, 0);
		db_close(&q);
		if (e != STORE_OK)
			goto err;
	}
	if ((e = db_open(&q, c, STMT_MEDIA_LIST)) != STORE_OK)
		goto err;
	db_int(&q, ":limit", limit);
	db_int(&q, ":offset", offset > 0 ? offset : 0);
	*out = db_rows(&q, a, sizeof(**out), media_read, n, &e);
err:
	db_close(&q);
	return db_tx_end(c, &t, e);
}
