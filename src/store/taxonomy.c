/*
 * store.h (every backend): categories and tags, as articles use them (lookups,
 * the nav list, tags found by name on save) and as the editor area
 * manages them (edits, deletes with reassignment, usage counts).
 */
#include "store_int.h"


/* ---- categories, tags ---------------------------------------------- */

/* A parent that does not exist is STORE_INVALID (foreign key). */
enum store_err
store_category_add(store *s, const struct store_category *cat, int64_t *id)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (cat->slug == NULL || *cat->slug == '\0' || cat->name == NULL)
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_CATEGORY_ADD)) != STORE_OK)
		goto err;
	db_id(&q, ":parent", cat->parent_id);
	db_text(&q, ":slug", cat->slug);
	db_text(&q, ":name", cat->name);
	db_text(&q, ":description", cat->description);
	if ((e = db_exec(&q)) == STORE_OK && id != NULL)
		*id = db_last_id(c);
err:
	db_close(&q);
	return e;
}

/* One row of CATEGORY_COLS. */
static void
category_read(struct q *st, arena *a, void *row)
{
	struct store_category *out = row;
	out->id = db_col_int(st, 0);
	out->parent_id = db_col_int(st, 1);
	out->slug = db_col_str(a, st, 2);
	out->name = db_col_str(a, st, 3);
	out->description = db_col_str(a, st, 4);
}

/* by_slug and get differ only in the statement and its key. */
static enum store_err
category_one(store *s, enum stmt id, const char *slug, int64_t cid, arena *a,
    struct store_category *out)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, id)) != STORE_OK)
		goto err;
	if (slug != NULL)
		db_text(&q, ":slug", slug);
	else
		db_int(&q, ":id", cid);
	e = db_one(&q, a, category_read, out);
err:
	db_close(&q);
	return e;
}

/* Category archives resolve /category/<slug> here. */
enum store_err
store_category_by_slug(store *s, const char *slug, arena *a,
    struct store_category *out)
{
	if (slug == NULL)
		return STORE_NOTFOUND;
	return category_one(s, STMT_CATEGORY_BY_SLUG, slug, 0, a, out);
}

/* The article page resolves its category label here. */
enum store_err
store_category_get(store *s, int64_t id, arena *a, struct store_category *out)
{
	return category_one(s, STMT_CATEGORY_GET, NULL, id, a, out);
}

/* The whole (small) list for the site nav and the admin. */
enum store_err
store_categories(store *s, arena *a, struct store_category **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_CATEGORIES)) != STORE_OK)
		goto err;
	*out = db_rows(&q, a, sizeof(**out), category_read, n, &e);
err:
	db_close(&q);
	return e;
}

/* CONFLICT on a taken slug. */
enum store_err
store_tag_add(store *s, const struct store_tag *t, int64_t *id)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (t->slug == NULL || *t->slug == '\0' || t->name == NULL)
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_TAG_ADD)) != STORE_OK)
		goto err;
	db_text(&q, ":slug", t->slug);
	db_text(&q, ":name", t->name);
	if ((e = db_exec(&q)) == STORE_OK && id != NULL)
		*id = db_last_id(c);
err:
	db_close(&q);
	return e;
}

/* Tag archives resolve /tag/<slug> here. */
enum store_err
store_tag_by_slug(store *s, const char *slug, arena *a, struct store_tag *out)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_TAG_BY_SLUG)) != STORE_OK)
		goto err;
	db_text(&q, ":slug", slug);
	e = db_one(&q, a, db_tag_row, out);
err:
	db_close(&q);
	return e;
}

/* Tags are named by people and found by name when an article is saved. */
enum store_err
store_tag_by_name(store *s, const char *name, arena *a, struct store_tag *out)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_TAG_BY_NAME)) != STORE_OK)
		goto err;
	db_text(&q, ":name", name);
	e = db_one(&q, a, db_tag_row, out);
err:
	db_close(&q);
	return e;
}

/* ---- editor area: taxonomy ----------------------------------------- */

/* Parent of category id inside the caller's transaction (0: none). */
static enum store_err
category_parent(struct conn *c, int64_t id, int64_t *parent)
{
	struct q q = {0};
	enum store_err e;
	if ((e = db_open(&q, c, STMT_CATEGORY_GET)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	if (db_row(&q, &e))
		*parent = db_col_int(&q, 1);
	else if (e == STORE_OK)
		e = STORE_NOTFOUND;
err:
	db_close(&q);
	return e;
}

/* The parent chain is walked in the same transaction, so no concurrent
 * edit can close a loop between the check and the write. */
enum store_err
store_category_update(store *s, const struct store_category *cat)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (cat->slug == NULL || *cat->slug == '\0' || cat->name == NULL)
		return STORE_INVALID;
	if ((e = db_tx_begin(c, true, &t)) != STORE_OK)
		return e;
	int64_t p = cat->parent_id;
	for (int depth = 0; p != 0 && e == STORE_OK; depth++) {
		if (p == cat->id || depth > 1000) {
			e = STORE_INVALID;
			break;
		}
		e = category_parent(c, p, &p);
		if (e == STORE_NOTFOUND)
			e = STORE_INVALID;
	}
	if (e != STORE_OK)
		goto err;
	if ((e = db_open(&q, c, STMT_CATEGORY_UPDATE)) != STORE_OK)
		goto err;
	db_id(&q, ":parent", cat->parent_id);
	db_text(&q, ":slug", cat->slug);
	db_text(&q, ":name", cat->name);
	db_text(&q, ":description", cat->description);
	db_int(&q, ":id", cat->id);
	if ((e = db_exec(&q)) == STORE_OK && db_changes(c) == 0)
		e = STORE_NOTFOUND;
err:
	db_close(&q);
	return db_tx_end(c, &t, e);
}

/* Runs statement id with :id and one more integer (or NULL for 0)
 * parameter inside the caller's transaction. */
static enum store_err
admin_run2(struct conn *c, enum stmt id, int64_t key, const char *param,
    int64_t v)
{
	struct q q = {0};
	enum store_err e;
	if ((e = db_open(&q, c, id)) != STORE_OK)
		goto err;
	db_int(&q, ":id", key);
	if (param)
		db_id(&q, param, v);
	e = db_exec(&q);
err:
	db_close(&q);
	return e;
}

enum store_err
store_category_delete(store *s, int64_t id, int64_t reassign)
{
	struct conn *c = db_conn_get(s);
	struct tx t = {0};
	enum store_err e;
	int64_t parent = 0, p2 = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (reassign == id)
		return STORE_INVALID;
	if ((e = db_tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if ((e = category_parent(c, id, &parent)) != STORE_OK)
		goto err;
	if (reassign != 0 && (e = category_parent(c, reassign, &p2)) != STORE_OK) {
		if (e == STORE_NOTFOUND)
			e = STORE_INVALID;
		goto err;
	}
	if ((e = admin_run2(c, STMT_CATEGORY_REASSIGN, id, ":to", reassign)) ||
	    (e = admin_run2(c, STMT_CATEGORY_REPARENT, id, ":parent", parent)) ||
	    (e = admin_run2(c, STMT_CATEGORY_DELETE, id, NULL, 0)))
		goto err;
	e = db_conn_run(c, STMT_CHANGE_ALL);
err:
	return db_tx_end(c, &t, e);
}

enum store_err
store_category_usage(store *s, arena *a, int64_t **ids, int64_t **counts,
    size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	int64_t *vi = NULL, *vc = NULL;
	size_t cnt = 0, cap = 0, cap2 = 0;
	*ids = *counts = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_CATEGORY_USAGE)) != STORE_OK)
		goto err;
	while (db_row(&q, &e)) {
		vi = db_grow(a, vi, cnt, &cap, sizeof(*vi));
		vc = db_grow(a, vc, cnt, &cap2, sizeof(*vc));
		vi[cnt] = db_col_int(&q, 0);
		vc[cnt++] = db_col_int(&q, 1);
	}
	if (e == STORE_OK) {
		*ids = vi;
		*counts = vc;
		*n = cnt;
	}
err:
	db_close(&q);
	return e;
}

enum store_err
store_tag_get(store *s, int64_t id, arena *a, struct store_tag *out)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_TAG_GET)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	e = db_one(&q, a, db_tag_row, out);
err:
	db_close(&q);
	return e;
}

enum store_err
store_tag_update(store *s, const struct store_tag *tg)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (tg->slug == NULL || *tg->slug == '\0' || tg->name == NULL)
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_TAG_UPDATE)) != STORE_OK)
		goto err;
	db_text(&q, ":slug", tg->slug);
	db_text(&q, ":name", tg->name);
	db_int(&q, ":id", tg->id);
	if ((e = db_exec(&q)) == STORE_OK && db_changes(c) == 0)
		e = STORE_NOTFOUND;
err:
	db_close(&q);
	return e;
}

enum store_err
store_tag_delete(store *s, int64_t id, int64_t reassign)
{
	struct conn *c = db_conn_get(s);
	struct tx t = {0};
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (reassign == id)
		return STORE_INVALID;
	if ((e = db_tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if (reassign != 0) {
		if ((e = db_open(&q, c, STMT_TAG_GET)) != STORE_OK)
			goto err;
		db_int(&q, ":id", reassign);
		if (!db_row(&q, &e) && e == STORE_OK)
			e = STORE_INVALID;
		db_close(&q);
		if (e != STORE_OK ||
		    (e = admin_run2(c, STMT_TAG_REASSIGN, id, ":to", reassign)))
			goto err;
	}
	if ((e = admin_run2(c, STMT_TAG_DELETE, id, NULL, 0)) != STORE_OK)
		goto err;
	if (db_changes(c) == 0) {
		e = STORE_NOTFOUND;
		goto err;
	}
	e = db_conn_run(c, STMT_CHANGE_ALL);
err:
	db_close(&q);
	return db_tx_end(c, &t, e);
}

enum store_err
store_tags_page(store *s, int64_t offset, int64_t limit, arena *a,
    struct store_tag **out, int64_t **counts, size_t *n, int64_t *total)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	struct store_tag *v = NULL;
	int64_t *vc = NULL;
	size_t cnt = 0, cap = 0, cap2 = 0;
	*out = NULL;
	*counts = NULL;
	*n = 0;
	*total = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if ((e = db_open(&q, c, STMT_TAGS_COUNT)) != STORE_OK)
		goto err;
	if (db_row(&q, &e))
		*total = db_col_int(&q, 0);
	db_close(&q);
	if (e != STORE_OK || (e = db_open(&q, c, STMT_TAGS_PAGE)) != STORE_OK)
		goto err;
	db_int(&q, ":limit", limit);
	db_int(&q, ":offset", offset);
	while (db_row(&q, &e)) {
		v = db_grow(a, v, cnt, &cap, sizeof(*v));
		vc = db_grow(a, vc, cnt, &cap2, sizeof(*vc));
		v[cnt].id = db_col_int(&q, 0);
		v[cnt].slug = db_col_str(a, &q, 1);
		v[cnt].name = db_col_str(a, &q, 2);
		vc[cnt++] = db_col_int(&q, 3);
	}
	if (e == STORE_OK) {
		*out = v;
		*counts = vc;
		*n = cnt;
	}
err:
	db_close(&q);
	return db_tx_end(c, &t, e);
}
