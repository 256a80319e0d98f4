/*
 * store.h (every backend): one article at a time. Writes (with their sources,
 * tags and full-text index entry), whole reads, revisions, slugs, the
 * status changes of the save path and the job runner, trash and delete.
 */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define STORE_LIST_TEXT 600     /* bytes of body_text kept in listings */

/* ---- articles ---------------------------------------------------------------------- */

/* A fresh RFC 4122 random UUID as a URN: a feed id that survives a change
 * of domain or URL scheme. */
static bool
guid_new(char out[46])
{
	unsigned char r[16];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return false;
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, 46, "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
	    r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
	    r[15]);
	return true;
}

/* True when the enums are in range and the lists are where they say. */
static bool
article_valid(const struct store_article *a)
{
	return db_enum_name(db_kind_names, KIND__MAX, (int)a->kind) &&
	    db_enum_name(db_status_names, STATUS__MAX, (int)a->status) &&
	    db_enum_name(db_format_names, FORMAT__MAX, (int)a->body_format) &&
	    (a->nsources == 0 || a->sources != NULL) &&
	    (a->ntags == 0 || a->tags != NULL);
}

/* Binds the columns ARTICLE_ADD and ARTICLE_UPDATE share. */
static void
article_bind(struct q *q, const struct store_article *a, const char *guid)
{
	db_text(q, ":kind", db_kind_names[a->kind]);
	db_text(q, ":title", a->title);
	db_text(q, ":slug", a->slug);
	db_text(q, ":body", a->body);
	db_text(q, ":format", db_format_names[a->body_format]);
	db_text(q, ":html", a->body_html);
	db_text(q, ":text", a->body_text);
	db_text(q, ":excerpt", a->excerpt);
	db_text(q, ":status", db_status_names[a->status]);
	db_int(q, ":published", a->published_at);
	db_int(q, ":updated", a->updated_at);
	db_id(q, ":author", a->author_id);
	db_id(q, ":category", a->category_id);
	db_text(q, ":eyecatch", a->eyecatch);
	db_text(q, ":credit", a->eyecatch_credit);
	db_int(q, ":open", a->comments_open ? 1 : 0);
	db_text_null(q, ":guid", guid);
	db_text(q, ":legacy", a->legacy_id);
	/* only pages hang under a parent (content_save checks which) */
	db_id(q, ":parent", a->kind == KIND_PAGE ? a->parent_id : 0);
	db_int(q, ":order", a->menu_order);
}

/* True in *same when the article's stored tags are a's (as sets). */
static enum store_err
tags_same(struct conn *c, int64_t id, const struct store_article *a,
    bool *same)
{
	struct q q = {0};
	enum store_err e;
	size_t n = 0;
	*same = true;
	if ((e = db_open(&q, c, STMT_ARTICLE_TAG_IDS)) != STORE_OK)
		return e;
	db_int(&q, ":id", id);
	while (db_row(&q, &e)) {
		int64_t t = db_col_int(&q, 0);
		bool found = false;
		for (size_t i = 0; i < a->ntags && !found; i++)
			found = a->tags[i].id == t;
		*same = *same && found;
		n++;
	}
	db_close(&q);
	/* a's list may repeat a tag (the insert ignores repeats) */
	for (size_t i = 0; i < a->ntags && *same; i++) {
		size_t k = 0;
		while (k < i && a->tags[k].id != a->tags[i].id)
			k++;
		n -= k == i; /* each distinct tag of a must be stored */
	}
	*same = *same && n == 0;
	return e;
}

/* Writes an article's sources and tags, replacing what was there (the
 * revision is content/'s: store_revision_add). Runs inside the caller's
 * transaction. */
static enum store_err
article_children(struct conn *c, int64_t id, const struct store_article *a,
    bool replace)
{
	struct q q = {0};
	enum store_err e = STORE_OK;

	if (replace) {
		/* Its tags place it on tag pages and among related articles
		 * (site-wide); its sources show on its page only. The row
		 * triggers cover the article's own columns. */
		bool same = true;
		if ((e = tags_same(c, id, a, &same)) != STORE_OK)
			goto err;
		if ((e = db_open(&q, c, same ? STMT_CHANGE_ARTICLE_TEXT :
		    STMT_CHANGE_ARTICLE)) != STORE_OK)
			goto err;
		db_int(&q, ":id", id);
		if ((e = db_exec(&q)) != STORE_OK)
			goto err;
		db_close(&q);
		if ((e = db_open(&q, c, STMT_SOURCES_DELETE)) != STORE_OK)
			goto err;
		db_int(&q, ":id", id);
		if ((e = db_exec(&q)) != STORE_OK)
			goto err;
		db_close(&q);
		if ((e = db_open(&q, c, STMT_ARTICLE_TAGS_DELETE)) != STORE_OK)
			goto err;
		db_int(&q, ":id", id);
		if ((e = db_exec(&q)) != STORE_OK)
			goto err;
		db_close(&q);
	}
	for (size_t i = 0; i < a->nsources; i++) {
		if ((e = db_open(&q, c, STMT_SOURCE_ADD)) != STORE_OK)
			goto err;
		db_int(&q, ":id", id);
		db_int(&q, ":pos", (int64_t)i);
		db_text(&q, ":title", a->sources[i].title);
		db_text(&q, ":url", a->sources[i].url);
		if ((e = db_exec(&q)) != STORE_OK)
			goto err;
		db_close(&q);
	}
	for (size_t i = 0; i < a->ntags; i++) {
		if ((e = db_open(&q, c, STMT_ARTICLE_TAG_ADD)) != STORE_OK)
			goto err;
		db_int(&q, ":id", id);
		db_int(&q, ":tag", a->tags[i].id);
		if ((e = db_exec(&q)) != STORE_OK)
			goto err;
		db_close(&q);
	}
err:
	db_close(&q);
	return e;
}

/* True when article's index entry waits for fts_flush (batch mode):
 * nothing of it is in the index yet, so there is nothing to take out
 * and the flush will write whatever it holds by then. */
static bool
fts_pending(const struct conn *c, int64_t article)
{
	for (size_t i = c->fts_n; i > 0; i--)
		if (c->fts_ids[i - 1] == article)
			return true;
	return false;
}

/* The driver's fts_index, or FTS_UNINDEX (each dialect's: FTS5 needs the
 * old values, PostgreSQL drops the row), for one article inside the
 * caller's transaction; nothing for a pending one. */
static enum store_err
fts_sync(struct conn *c, bool index, int64_t article)
{
	struct q q = {0};
	enum store_err e;
	if (c->fts_n > 0 && fts_pending(c, article))
		return STORE_OK;
	if (index)
		return c->s->drv->fts_index(c, &article, 1);
	if ((e = db_open(&q, c, STMT_FTS_UNINDEX)) == STORE_OK) {
		db_int(&q, ":id", article);
		e = db_exec(&q);
	}
	db_close(&q);
	return e;
}

/* An empty guid gets a fresh UUID URN; the caller may always set one
 * (WordPress import keeps the old guids so feed readers see no new posts). */
enum store_err
store_article_add(store *s, struct store_article *a)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	char fresh[46];
	const char *guid = a->guid;
	int64_t id = 0;

	if (c == NULL)
		return STORE_ERROR;
	if (!article_valid(a))
		return STORE_INVALID;
	if (guid == NULL || *guid == '\0') {
		if (!guid_new(fresh)) {
			fprintf(stderr, "store: getrandom: %s\n", strerror(errno));
			return STORE_ERROR;
		}
		guid = fresh;
	}
	if ((e = db_tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if ((e = db_open(&q, c, STMT_ARTICLE_ADD)) != STORE_OK)
		goto err;
	article_bind(&q, a, guid);
	if ((e = db_exec(&q)) != STORE_OK)
		goto err;
	id = db_last_id(c);
	db_close(&q);
	if (c->fts_defer) {
		/* a rolled-back add leaves its id here: harmless, the flush
		 * finds no row (or the row that reused the id, also new) */
		if (c->fts_n == c->fts_cap) {
			c->fts_cap = c->fts_cap ? c->fts_cap * 2 : 256;
			c->fts_ids = xrealloc(c->fts_ids,
			    c->fts_cap * sizeof(*c->fts_ids));
		}
		c->fts_ids[c->fts_n++] = id;
	} else if ((e = fts_sync(c, true, id)) != STORE_OK) {
		goto err;
	}
	e = article_children(c, id, a, false);
err:
	db_close(&q);
	e = db_tx_end(c, &t, e);
	if (e == STORE_OK)
		a->id = id;
	return e;
}

/* Keeps comment_count (the store's) and, when a->guid is empty, the guid. */
enum store_err
store_article_update(store *s, const struct store_article *a)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;

	if (c == NULL)
		return STORE_ERROR;
	if (!article_valid(a))
		return STORE_INVALID;
	if ((e = db_tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if ((e = fts_sync(c, false, a->id)) != STORE_OK)
		goto err;
	if ((e = db_open(&q, c, STMT_ARTICLE_UPDATE)) != STORE_OK)
		goto err;
	article_bind(&q, a, a->guid);
	db_int(&q, ":id", a->id);
	if ((e = db_exec(&q)) != STORE_OK)
		goto err;
	if (db_changes(c) == 0) {
		e = STORE_NOTFOUND;
		goto err;
	}
	db_close(&q);
	if ((e = fts_sync(c, true, a->id)) != STORE_OK)
		goto err;
	e = article_children(c, a->id, a, true);
err:
	db_close(&q);
	return db_tx_end(c, &t, e);
}

/* One row of ART_COLS. Light rows (listings) keep body_text's first
 * STORE_LIST_TEXT bytes; body and body_html are "" there by the SQL. */
void
db_article_read(struct q *st, arena *a, struct store_article *o,
    bool light)
{
	memset(o, 0, sizeof(*o));
	o->id = db_col_int(st, AC_ID);
	o->kind = (enum store_kind)db_enum_col(db_kind_names, KIND__MAX, st, AC_KIND);
	o->title = db_col_str(a, st, AC_TITLE);
	o->slug = db_col_str(a, st, AC_SLUG);
	o->body = db_col_str(a, st, AC_BODY);
	o->body_format = (enum store_format)db_enum_col(db_format_names, FORMAT__MAX,
	    st, AC_FORMAT);
	o->body_html = db_col_str(a, st, AC_HTML);
	o->body_text = light ? db_col_str_cut(a, st, AC_TEXT, STORE_LIST_TEXT)
			     : db_col_str(a, st, AC_TEXT);
	o->excerpt = db_col_str(a, st, AC_EXCERPT);
	o->status = (enum store_status)db_enum_col(db_status_names, STATUS__MAX, st,
	    AC_STATUS);
	o->published_at = db_col_int(st, AC_PUBLISHED);
	o->updated_at = db_col_int(st, AC_UPDATED);
	o->author_id = db_col_int(st, AC_AUTHOR);
	o->category_id = db_col_int(st, AC_CATEGORY);
	o->eyecatch = db_col_str(a, st, AC_EYECATCH);
	o->eyecatch_credit = db_col_str(a, st, AC_CREDIT);
	o->comments_open = (int)db_col_int(st, AC_OPEN) != 0;
	o->guid = db_col_str(a, st, AC_GUID);
	o->legacy_id = db_col_str(a, st, AC_LEGACY);
	o->parent_id = db_col_int(st, AC_PARENT);
	o->menu_order = db_col_int(st, AC_MENU_ORDER);
	o->author_name = db_col_str(a, st, AC_AUTHOR_NAME);
	o->category_slug = db_col_str(a, st, AC_CAT_SLUG);
	o->category_name = db_col_str(a, st, AC_CAT_NAME);
	o->comment_count = db_col_int(st, AC_COMMENTS);
}

/* (title, url) into a struct store_source. */
static void
source_read(struct q *st, arena *a, void *row)
{
	struct store_source *o = row;
	o->title = db_col_str(a, st, 0);
	o->url = db_col_str(a, st, 1);
}

/* get and get_any: the article row, its sources and tags, read in one
 * transaction so they agree. out is written only on success. */
static enum store_err
article_get(store *s, enum stmt id, int64_t aid, int64_t now, arena *a,
    struct store_article *out)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	struct store_article art;
	enum store_err e;

	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if ((e = db_open(&q, c, id)) != STORE_OK)
		goto err;
	db_int(&q, ":id", aid);
	if (id == STMT_ARTICLE_GET)
		db_int(&q, ":now", now);
	if (!db_row(&q, &e)) {
		if (e == STORE_OK)
			e = STORE_NOTFOUND;
		goto err;
	}
	db_article_read(&q, a, &art, false);
	db_close(&q);

	if ((e = db_open(&q, c, STMT_ARTICLE_SOURCES)) != STORE_OK)
		goto err;
	db_int(&q, ":id", aid);
	art.sources = db_rows(&q, a, sizeof(*art.sources), source_read,
	    &art.nsources, &e);
	if (e != STORE_OK)
		goto err;
	db_close(&q);

	if ((e = db_open(&q, c, STMT_ARTICLE_TAGS)) != STORE_OK)
		goto err;
	db_int(&q, ":id", aid);
	art.tags = db_rows(&q, a, sizeof(*art.tags), db_tag_row, &art.ntags, &e);
err:
	db_close(&q);
	e = db_tx_end(c, &t, e);
	if (e == STORE_OK)
		*out = art;
	return e;
}

/* The public read: visibility is applied by ARTICLE_GET. */
enum store_err
store_article_get(store *s, int64_t id, int64_t now, arena *a,
    struct store_article *out)
{
	return article_get(s, STMT_ARTICLE_GET, id, now, a, out);
}

enum store_err
store_article_head(store *s, int64_t id, int64_t now, arena *a,
    struct store_article *out)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;

	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_ARTICLE_HEAD)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	db_int(&q, ":now", now);
	if (db_row(&q, &e))
		db_article_read(&q, a, out, false);
	else if (e == STORE_OK)
		e = STORE_NOTFOUND;
err:
	db_close(&q);
	return e;
}

/* Admin and CLI reads: drafts, schedules and trash included. */
enum store_err
store_article_get_any(store *s, int64_t id, arena *a, struct store_article *out)
{
	return article_get(s, STMT_ARTICLE_GET_ANY, id, 0, a, out);
}

/* ---- the save path (content/): revisions, slugs, trash, delete ----- */

/* One row of REV_COLS. */
static void
rev_read(struct q *st, arena *a, void *row)
{
	struct store_revision *o = row;
	memset(o, 0, sizeof(*o));
	o->id = db_col_int(st, 0);
	o->article_id = db_col_int(st, 1);
	o->title = db_col_str(a, st, 2);
	o->body = db_col_str(a, st, 3);
	o->body_format = (enum store_format)db_enum_col(db_format_names, FORMAT__MAX,
	    st, 4);
	o->created_at = db_col_int(st, 5);
	o->author_id = db_col_int(st, 6);
	o->meta = db_col_str(a, st, 7);
	o->author_name = db_col_str(a, st, 8);
}

/* A missing article is STORE_INVALID (foreign key); meta "" is "{}". */
enum store_err
store_revision_add(store *s, struct store_revision *r)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	const char *fmt = db_enum_name(db_format_names, FORMAT__MAX, (int)r->body_format);
	if (c == NULL)
		return STORE_ERROR;
	if (fmt == NULL || r->article_id <= 0)
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_REVISION_ADD)) != STORE_OK)
		goto err;
	db_int(&q, ":id", r->article_id);
	db_text(&q, ":title", r->title);
	db_text(&q, ":body", r->body);
	db_text(&q, ":format", fmt);
	db_int(&q, ":created", r->created_at);
	db_id(&q, ":author", r->author_id);
	db_text(&q, ":meta", r->meta && *r->meta ? r->meta : "{}");
	if ((e = db_exec(&q)) == STORE_OK)
		r->id = db_last_id(c);
err:
	db_close(&q);
	return e;
}

/* Revision ids only grow, so the newest is the largest. */
enum store_err
store_revision_latest(store *s, int64_t article_id, int64_t *id)
{
	return db_one_int(s, STMT_REVISION_LATEST, ":id", article_id, id);
}

/* The count and the page come from one read transaction. */
enum store_err
store_revisions(store *s, int64_t article_id, int64_t offset, int64_t limit,
    arena *a, struct store_revision **out, size_t *n, int64_t *total)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	struct store_revision *v = NULL;
	size_t cnt = 0;
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
		if ((e = db_open(&q, c, STMT_REVISIONS_COUNT)) != STORE_OK)
			goto err;
		db_int(&q, ":id", article_id);
		if (db_row(&q, &e))
			*total = db_col_int(&q, 0);
		db_close(&q);
		if (e != STORE_OK)
			goto err;
	}
	if ((e = db_open(&q, c, STMT_REVISIONS)) != STORE_OK)
		goto err;
	db_int(&q, ":id", article_id);
	db_int(&q, ":limit", limit);
	db_int(&q, ":offset", offset > 0 ? offset : 0);
	v = db_rows(&q, a, sizeof(*v), rev_read, &cnt, &e);
err:
	db_close(&q);
	e = db_tx_end(c, &t, e);
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	}
	return e;
}

/* With the body: what a restore or a diff needs. */
enum store_err
store_revision_get(store *s, int64_t id, arena *a, struct store_revision *out)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_REVISION_GET)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	e = db_one(&q, a, rev_read, out);
err:
	db_close(&q);
	return e;
}

/* Slugs are unique per kind by content_save's checks, not by the schema
 * (WordPress pages may share one), hence "the lowest id". */
enum store_err
store_article_slug_owner(store *s, enum store_kind kind, const char *slug,
    int64_t except, int64_t *id)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	const char *k = db_enum_name(db_kind_names, KIND__MAX, (int)kind);
	*id = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (k == NULL || slug == NULL)
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_ARTICLE_SLUG_OWNER)) != STORE_OK)
		goto err;
	db_text(&q, ":slug", slug);
	db_text(&q, ":kind", k);
	db_int(&q, ":except", except);
	if (db_row(&q, &e))
		*id = db_col_int(&q, 0);
err:
	db_close(&q);
	return e;
}

/* Exports and old-URL redirects find articles by slug. */
enum store_err
store_article_by_slug(store *s, enum store_kind kind, const char *slug,
    arena *a, struct store_article *out)
{
	int64_t id = 0;
	enum store_err e = store_article_slug_owner(s, kind, slug, 0, &id);
	if (e != STORE_OK)
		return e;
	if (id == 0)
		return STORE_NOTFOUND;
	return store_article_get_any(s, id, a, out);
}

/* One narrow read for the save path's decisions. */
enum store_err
store_article_state(store *s, int64_t id, enum store_status *status,
    int64_t *published_at)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_ARTICLE_STATE)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	if (db_row(&q, &e)) {
		*status = (enum store_status)db_enum_col(db_status_names, STATUS__MAX,
		    &q, 0);
		*published_at = db_col_int(&q, 1);
	} else if (e == STORE_OK) {
		e = STORE_NOTFOUND;
	}
err:
	db_close(&q);
	return e;
}

/* The importer asks before saving, so a second run edits, never adds. */
enum store_err
store_article_by_legacy(store *s, enum store_kind kind, const char *legacy_id,
    int64_t *id)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	const char *k = db_enum_name(db_kind_names, KIND__MAX, (int)kind);
	*id = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (k == NULL)
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_ARTICLE_BY_LEGACY)) != STORE_OK)
		goto err;
	db_text(&q, ":legacy", legacy_id ? legacy_id : "");
	db_text(&q, ":kind", k);
	if (db_row(&q, &e))
		*id = db_col_int(&q, 0);
err:
	db_close(&q);
	return e;
}

/*
 * Runs one of the status statements (PUBLISH_DUE, TRASH, RESTORE) for an
 * article between FTS_UNINDEX and fts_index, in one write transaction
 * (or savepoint), after reading its status: want is the status it must
 * have (STATUS__MAX: any but the trash). *changed when a row changed;
 * RESTORE's new status and published_at land in *st and *pub.
 */
static enum store_err
article_status_op(store *s, enum stmt op, int64_t id, int64_t now,
    enum store_status want, bool *changed, enum store_status *st,
    int64_t *pub)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	enum store_status cur = STATUS_DRAFT;
	int64_t at = 0;

	*changed = false;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if ((e = db_open(&q, c, STMT_ARTICLE_STATE)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	if (db_row(&q, &e)) {
		cur = (enum store_status)db_enum_col(db_status_names, STATUS__MAX, &q, 0);
		at = db_col_int(&q, 1);
	} else if (e == STORE_OK) {
		e = STORE_NOTFOUND;
	}
	db_close(&q);
	if (e != STORE_OK)
		goto err;
	if (want == STATUS__MAX ? cur == STATUS_TRASH : cur != want) {
		/* nothing to do: not scheduled, already trashed; restoring
		 * what is not in the trash is the caller's mistake */
		if (op == STMT_ARTICLE_RESTORE)
			e = STORE_INVALID;
		goto err;
	}
	if (op == STMT_ARTICLE_PUBLISH_DUE && at > now)
		goto err;
	if ((e = fts_sync(c, false, id)) != STORE_OK)
		goto err;
	if ((e = db_open(&q, c, op)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	if (op != STMT_ARTICLE_RESTORE)
		db_int(&q, ":now", now);
	/* only RESTORE returns a row: stepping another op here and again
	 * in db_exec would run its UPDATE twice (the second changing
	 * nothing, so *changed would always be false) */
	if (op == STMT_ARTICLE_RESTORE && db_row(&q, &e)) {
		*st = (enum store_status)db_enum_col(db_status_names, STATUS__MAX, &q, 0);
		*pub = db_col_int(&q, 1);
	}
	if (e == STORE_OK)
		e = db_exec(&q); /* RETURNING: the row is written by the end */
	if (e != STORE_OK)
		goto err;
	*changed = db_changes(c) > 0;
	db_close(&q);
	e = fts_sync(c, true, id);
err:
	db_close(&q);
	e = db_tx_end(c, &t, e);
	if (e != STORE_OK)
		*changed = false;
	return e;
}

/* The job runner's "publish": idempotent by the status check. */
enum store_err
store_article_publish_due(store *s, int64_t id, int64_t now, bool *changed)
{
	enum store_status st;
	int64_t pub;
	return article_status_op(s, STMT_ARTICLE_PUBLISH_DUE, id, now,
	    STATUS_SCHEDULED, changed, &st, &pub);
}

/* A second trash is a no-op, so the first status is kept. */
enum store_err
store_article_trash(store *s, int64_t id, int64_t now)
{
	enum store_status st;
	int64_t pub;
	bool changed;
	return article_status_op(s, STMT_ARTICLE_TRASH, id, now, STATUS__MAX,
	    &changed, &st, &pub);
}

/* The status comes back from the row (trashed_from). */
enum store_err
store_article_restore(store *s, int64_t id, enum store_status *status,
    int64_t *published_at)
{
	bool changed;
	*status = STATUS_DRAFT;
	*published_at = 0;
	return article_status_op(s, STMT_ARTICLE_RESTORE, id, 0, STATUS_TRASH,
	    &changed, status, published_at);
}

/* The index entry goes first, while the view still shows what was
 * indexed; the foreign keys cascade to everything else. */
enum store_err
store_article_delete(store *s, int64_t id)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;

	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if ((e = fts_sync(c, false, id)) != STORE_OK)
		goto err;
	if ((e = db_open(&q, c, STMT_ARTICLE_DELETE)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	if ((e = db_exec(&q)) == STORE_OK && db_changes(c) == 0)
		e = STORE_NOTFOUND;
err:
	db_close(&q);
	return db_tx_end(c, &t, e);
}

/* ---- old WordPress URLs (site/legacy.c) ---------------------------------- */

/* Only visible articles: an old link never reveals a draft or the trash. */
enum store_err
store_legacy_by_id(store *s, const char *legacy_id, int64_t now, int64_t *id)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*id = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (legacy_id == NULL || *legacy_id == '\0')
		return STORE_NOTFOUND;
	if ((e = db_open(&q, c, STMT_LEGACY_BY_ID)) != STORE_OK)
		goto err;
	db_text(&q, ":legacy", legacy_id);
	db_int(&q, ":now", now);
	if (db_row(&q, &e))
		*id = db_col_int(&q, 0);
	else if (e == STORE_OK)
		e = STORE_NOTFOUND;
err:
	db_close(&q);
	return e;
}

/* One IN list over the slug index: the caller's spellings of one slug
 * (decoded, and encoded in upper and lower hex) cost one lookup. */
enum store_err
store_legacy_by_slug(store *s, const char *const *slugs, size_t nslugs,
    int64_t now, struct store_legacy_hit *out, size_t max, size_t *n)
{
	static const char *const names[STORE_LEGACY_SLUGS] = {":s0", ":s1", ":s2"};
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (nslugs == 0 || nslugs > STORE_LEGACY_SLUGS || max == 0)
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_LEGACY_BY_SLUG)) != STORE_OK)
		goto err;
	for (size_t i = 0; i < STORE_LEGACY_SLUGS; i++)
		db_text(&q, names[i], slugs[i < nslugs ? i : 0]);
	db_int(&q, ":now", now);
	db_int(&q, ":limit", (int64_t)max);
	while (*n < max && db_row(&q, &e)) {
		struct store_legacy_hit *h = &out[(*n)++];
		h->id = db_col_int(&q, 0);
		h->kind = (enum store_kind)db_enum_col(db_kind_names, KIND__MAX,
		    &q, 1);
		h->published_at = db_col_int(&q, 2);
	}
err:
	db_close(&q);
	return e;
}
