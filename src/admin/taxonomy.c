/*
 * Categories, tags and redirects. A changed slug leaves its old URL
 * answering 301 to the new one (a redirects row), and a category or tag
 * deleted with its articles moved elsewhere points its URL there too, so
 * links from search engines and old posts keep working.
 */
#include "admin_int.h"

#include <string.h>

#define NAME_MAX_CHARS 200   /* category and tag names */
#define TAGS_PAGE 100        /* tags per page */
#define TAGS_PICK 1000       /* tags offered as a reassignment target */
#define REDIRECTS_PAGE 100   /* redirects per page */
#define PATH_MAX_BYTES 2000  /* a redirect's from or to */

/* A name: one line of clean text, 1..NAME_MAX_CHARS characters; NULL
 * when not. */
static const char *
name_of(struct admin_req *q, const char *raw)
{
	const char *s = admin_text(q, raw, false);
	if (s == NULL || *s == '\0' || text_graphemes(s, strlen(s)) >
	    NAME_MAX_CHARS)
		return NULL;
	return s;
}

/* The slug: as typed (checked by the caller: [a-z0-9-]), or when left
 * empty made from an ASCII name ("Foo Bar!" → "foo-bar"); "" when none
 * can be made (a Japanese name wants a slug typed by hand). */
static const char *
slug_of(struct admin_req *q, const char *typed, const char *name)
{
	if (*typed)
		return typed;
	buf b;
	buf_init(&b, 256);
	bool dash = false;
	for (const char *p = name; *p && b.len < 200; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && b.len)
				buf_putc(&b, '-');
			buf_putc(&b, c);
			dash = false;
		} else {
			dash = true;
		}
	}
	const char *s = arena_strdup(q->a, buf_cstr(&b));
	buf_free(&b);
	return s;
}

/* "/<base>/<slug>" with the slug %-encoded, as links and Location. */
static const char *
slug_path(struct admin_req *q, const char *base, const char *slug)
{
	buf b;
	buf_init(&b, 4096);
	buf_printf(&b, "/%s/", base);
	http_url_encode(&b, slug, strlen(slug));
	const char *s = arena_strdup(q->a, buf_cstr(&b));
	buf_free(&b);
	return s;
}

/* Old URLs of a renamed (or merged) archive answer 301 to the new ones:
 * the archive and, for categories, its feeds. The new path stops being
 * a redirect (renaming back must not loop). */
static bool
slug_moved(struct admin_req *q, const char *base, const char *from,
    const char *to)
{
	static const char *const tails[] = {"", "/feed", "/feed/atom"};
	size_t nt = strcmp(base, "category") == 0 ? 3 : 1;
	for (size_t i = 0; i < nt; i++) {
		/* The router matches decoded paths: from is stored as is. */
		const char *f = arena_printf(q->a, "/%s/%s%s", base, from, tails[i]);
		const char *t = arena_printf(q->a, "%s%s", slug_path(q, base, to),
		    tails[i]);
		const char *tdec = arena_printf(q->a, "/%s/%s%s", base, to,
		    tails[i]);
		enum store_err e = store_redirect_delete(q->ad->st, tdec);
		if ((e != STORE_OK && e != STORE_NOTFOUND) ||
		    store_redirect_set(q->ad->st, f, t) != STORE_OK)
			return false;
	}
	return true;
}

/*
 * The end of a category or tag save or delete, the same for both: when
 * the archive's slug changed (to: the new or the merging one's; NULL for
 * none), its old URLs follow it; then the site drops its pages and the
 * list shows msg. A database failure (e) is a 503.
 */
static void
taxonomy_done(struct admin_req *q, enum store_err e, const char *base,
    const char *from, const char *to, enum admin_msg msg)
{
	if (e != STORE_OK || (to != NULL && strcmp(from, to) != 0 &&
	    !slug_moved(q, base, from, to))) {
		admin_error(q, 503);
		return;
	}
	admin_changed(q);
	admin_redirect(q, arena_printf(q->a, "/admin/%s",
	    strcmp(base, "category") == 0 ? "categories" : "tags"), msg, 0);
}

/* A failed category or tag lookup or delete. */
static void
taxonomy_fail(struct admin_req *q, enum store_err e)
{
	admin_error(q, e == STORE_NOTFOUND ? 404 : e == STORE_INVALID ? 400 :
	    503);
}

/* ---- categories ---------------------------------------------------------- */

/* Categories in tree order (each followed by its children), with depth. */
struct cat_row {
	const struct store_category *c;
	int depth;
};

static void
cat_walk(const struct store_category *cs, size_t n, int64_t parent, int depth,
    struct cat_row *out, size_t *k, bool *placed)
{
	for (size_t i = 0; i < n && depth < 32; i++) {
		if (placed[i] || cs[i].parent_id != parent)
			continue;
		placed[i] = true;
		out[(*k)++] = (struct cat_row){&cs[i], depth};
		cat_walk(cs, n, cs[i].id, depth + 1, out, k, placed);
	}
}

/* Tree order; categories whose parent chain is broken come last. */
static struct cat_row *
cat_tree(struct admin_req *q, const struct store_category *cs, size_t n)
{
	struct cat_row *rows = arena_alloc(q->a, (n + 1) * sizeof(*rows));
	bool *placed = arena_alloc(q->a, (n + 1) * sizeof(*placed));
	size_t k = 0;
	cat_walk(cs, n, 0, 0, rows, &k, placed);
	for (size_t i = 0; i < n; i++)
		if (!placed[i])
			rows[k++] = (struct cat_row){&cs[i], 0};
	return rows;
}

/* {{parents}}: every category but skip (and its subtree, which would
 * make a loop) as <option>s, selected marking sel. */
static void
cat_options(struct admin_req *q, const char *key, const struct cat_row *rows,
    size_t n, int64_t skip, int64_t sel)
{
	arena *a = q->a;
	tv *l = tv_set(q->root, key, tv_list(a));
	int skip_depth = -1;
	for (size_t i = 0; i < n; i++) {
		if (skip_depth >= 0 && rows[i].depth > skip_depth)
			continue;
		skip_depth = -1;
		if (rows[i].c->id == skip) {
			skip_depth = rows[i].depth;
			continue;
		}
		tv *d = tv_push(l, tv_dict(a));
		tv_set_int(a, d, "id", rows[i].c->id);
		buf b;
		buf_init(&b, 1024);
		for (int j = 0; j < rows[i].depth && j < 8; j++)
			buf_puts(&b, "— ");
		buf_puts(&b, rows[i].c->name);
		tv_set_str(a, d, "label", buf_cstr(&b));
		buf_free(&b);
		tv_set_bool(a, d, "selected", rows[i].c->id == sel);
	}
}

/* The list with the add form (holding what was typed on a refusal). */
static void
categories_page(struct admin_req *q, const char *name, const char *slug,
    int64_t parent, enum admin_msg err, int status)
{
	arena *a = q->a;
	struct store_category *cs;
	size_t n, nu;
	int64_t *uid, *ucount;
	if (store_categories(q->ad->st, a, &cs, &n) != STORE_OK ||
	    store_category_usage(q->ad->st, a, &uid, &ucount, &nu) != STORE_OK) {
		admin_error(q, 503);
		return;
	}
	struct cat_row *rows = cat_tree(q, cs, n);
	admin_view(q, admin_msg(q, AMSG_CATEGORIES));
	if (err != AMSG__MAX)
		admin_form_error(q, err);
	tv *list = tv_set(q->root, "categories", tv_list(a));
	for (size_t i = 0; i < n; i++) {
		const struct store_category *c = rows[i].c;
		tv *d = tv_push(list, tv_dict(a));
		int64_t cnt = 0;
		for (size_t j = 0; j < nu; j++)
			if (uid[j] == c->id)
				cnt = ucount[j];
		tv_set_int(a, d, "id", c->id);
		tv_set_str(a, d, "name", c->name);
		tv_set_str(a, d, "slug", c->slug);
		tv_set_int(a, d, "count", cnt);
		tv_set_int(a, d, "depth", rows[i].depth);
		tv_set_bool(a, d, "child", rows[i].depth > 0);
		tv_set_str(a, d, "url", slug_path(q, "category", c->slug));
	}
	tv_set_bool(a, q->root, "empty", n == 0);
	cat_options(q, "parents", rows, n, 0, parent);
	tv *f = tv_set(q->root, "form", tv_dict(a));
	tv_set_str(a, f, "name", name);
	tv_set_str(a, f, "slug", slug);
	admin_render(q, "admin_categories", status);
}

ADMIN_HANDLER(admin_page_categories)
{
	struct admin_req *q = qv;
	(void)m;
	categories_page(q, "", "", 0, AMSG__MAX, 200);
}

/* Checks a category form; fills *out (name, slug, parent, description)
 * or returns the message saying what is wrong. keep_slug is the stored
 * slug, which may stay as it is even when not ASCII. */
static enum admin_msg
category_form(struct admin_req *q, const char *keep_slug,
    struct store_category *out)
{
	const char *name = name_of(q, admin_field(q, "name"));
	if (name == NULL)
		return AMSG_NAME_BAD;
	const char *typed = admin_text(q, admin_field(q, "slug"), false);
	if (typed == NULL)
		return AMSG_SLUG_BAD;
	bool kept = keep_slug && strcmp(typed, keep_slug) == 0;
	const char *slug = kept ? typed : slug_of(q, typed, name);
	if (!kept && !admin_slug_ok(slug))
		return AMSG_SLUG_BAD;
	const char *desc = admin_text(q, admin_field(q, "description"), true);
	if (desc == NULL)
		return AMSG_NAME_BAD;
	out->name = name;
	out->slug = slug;
	out->parent_id = admin_field_id(q, "parent");
	out->description = desc;
	return AMSG__MAX;
}

ADMIN_HANDLER(admin_page_category_add)
{
	struct admin_req *q = qv;
	(void)m;
	struct store_category c = {0};
	enum admin_msg err = category_form(q, NULL, &c);
	enum store_err e = STORE_OK;
	if (err == AMSG__MAX) {
		e = store_category_add(q->ad->st, &c, NULL);
		err = e == STORE_CONFLICT ? AMSG_SLUG_TAKEN :
		    e == STORE_INVALID ? AMSG_PARENT_BAD : AMSG__MAX;
	}
	if (err != AMSG__MAX) {
		categories_page(q, admin_field(q, "name"), admin_field(q, "slug"),
		    admin_field_id(q, "parent"), err, 422);
		return;
	}
	if (e != STORE_OK) {
		admin_error(q, 503);
		return;
	}
	admin_changed(q);
	admin_redirect(q, "/admin/categories", AMSG_ADDED, 0);
}

/* The edit page of category c (the form holding in, what was typed). */
static void
category_edit_page(struct admin_req *q, const struct store_category *c,
    const struct store_category *in, enum admin_msg err, int status)
{
	arena *a = q->a;
	struct store_category *cs;
	size_t n;
	if (store_categories(q->ad->st, a, &cs, &n) != STORE_OK) {
		admin_error(q, 503);
		return;
	}
	struct cat_row *rows = cat_tree(q, cs, n);
	admin_view(q, admin_msg(q, AMSG_EDIT_CATEGORY));
	if (err != AMSG__MAX)
		admin_form_error(q, err);
	tv *d = tv_set(q->root, "category", tv_dict(a));
	tv_set_int(a, d, "id", c->id);
	tv_set_str(a, d, "name", in->name);
	tv_set_str(a, d, "slug", in->slug);
	tv_set_str(a, d, "description", in->description);
	tv_set_str(a, d, "url", slug_path(q, "category", c->slug));
	cat_options(q, "parents", rows, n, c->id, in->parent_id);
	cat_options(q, "targets", rows, n, c->id, 0);
	admin_render(q, "admin_category_edit", status);
}

ADMIN_HANDLER(admin_page_category_edit_form)
{
	struct admin_req *q = qv;
	struct store_category c;
	enum store_err e = store_category_get(q->ad->st, m->num[0], q->a, &c);
	if (e != STORE_OK) {
		admin_error(q, e == STORE_NOTFOUND ? 404 : 503);
		return;
	}
	category_edit_page(q, &c, &c, AMSG__MAX, 200);
}

ADMIN_HANDLER(admin_page_category_edit)
{
	struct admin_req *q = qv;
	struct store_category old;
	enum store_err e = store_category_get(q->ad->st, m->num[0], q->a, &old);
	if (e != STORE_OK) {
		admin_error(q, e == STORE_NOTFOUND ? 404 : 503);
		return;
	}
	struct store_category c = {.id = old.id};
	enum admin_msg err = category_form(q, old.slug, &c);
	if (err == AMSG__MAX) {
		e = store_category_update(q->ad->st, &c);
		err = e == STORE_CONFLICT ? AMSG_SLUG_TAKEN :
		    e == STORE_INVALID ? AMSG_PARENT_BAD : AMSG__MAX;
	}
	if (err != AMSG__MAX) {
		struct store_category typed = {
			.id = old.id,
			.name = admin_field(q, "name"),
			.slug = admin_field(q, "slug"),
			.description = admin_field(q, "description"),
			.parent_id = admin_field_id(q, "parent"),
		};
		category_edit_page(q, &old, &typed, err, 422);
		return;
	}
	taxonomy_done(q, e, "category", old.slug, c.slug, AMSG_SAVED);
}

/* POST /admin/categories/<id>/delete: its articles move to reassign (or
 * lose their category), its children to its parent; its URL then points
 * at the category that took its articles. */
ADMIN_HANDLER(admin_page_category_delete)
{
	struct admin_req *q = qv;
	struct store_category old, to;
	int64_t reassign = admin_field_id(q, "reassign");
	enum store_err e = store_category_get(q->ad->st, m->num[0], q->a, &old);
	if (e == STORE_OK && reassign)
		e = store_category_get(q->ad->st, reassign, q->a, &to);
	if (e == STORE_OK)
		e = store_category_delete(q->ad->st, old.id, reassign);
	if (e != STORE_OK) {
		taxonomy_fail(q, e);
		return;
	}
	taxonomy_done(q, STORE_OK, "category", old.slug,
	    reassign ? to.slug : NULL, AMSG_DELETED);
}

/* ---- tags ------------------------------------------------------------------- */

static void
tags_page(struct admin_req *q, const char *name, const char *slug,
    enum admin_msg err, int status)
{
	arena *a = q->a;
	int64_t page = admin_page_arg(q);
	struct store_tag *ts;
	int64_t *counts, total;
	size_t n;
	if (page == 0) {
		admin_error(q, 404);
		return;
	}
	if (store_tags_page(q->ad->st, (page - 1) * TAGS_PAGE, TAGS_PAGE, a, &ts,
	    &counts, &n, &total) != STORE_OK) {
		admin_error(q, 503);
		return;
	}
	int64_t pages = (total + TAGS_PAGE - 1) / TAGS_PAGE;
	if (page > 1 && page > pages) {
		admin_error(q, 404);
		return;
	}
	admin_view(q, admin_msg(q, AMSG_TAGS));
	if (err != AMSG__MAX)
		admin_form_error(q, err);
	tv *list = tv_set(q->root, "tags", tv_list(a));
	for (size_t i = 0; i < n; i++) {
		tv *d = tv_push(list, tv_dict(a));
		tv_set_int(a, d, "id", ts[i].id);
		tv_set_str(a, d, "name", ts[i].name);
		tv_set_str(a, d, "slug", ts[i].slug);
		tv_set_int(a, d, "count", counts[i]);
		tv_set_str(a, d, "url", slug_path(q, "tag", ts[i].slug));
	}
	tv_set_bool(a, q->root, "empty", n == 0);
	tv *f = tv_set(q->root, "form", tv_dict(a));
	tv_set_str(a, f, "name", name);
	tv_set_str(a, f, "slug", slug);
	admin_pager(q, "/admin/tags", page, pages);
	admin_render(q, "admin_tags", status);
}

ADMIN_HANDLER(admin_page_tags)
{
	struct admin_req *q = qv;
	(void)m;
	tags_page(q, "", "", AMSG__MAX, 200);
}

/* Name and slug of a tag form (see category_form). */
static enum admin_msg
tag_form(struct admin_req *q, const char *keep_slug, struct store_tag *out)
{
	const char *name = name_of(q, admin_field(q, "name"));
	if (name == NULL)
		return AMSG_NAME_BAD;
	const char *typed = admin_text(q, admin_field(q, "slug"), false);
	if (typed == NULL)
		return AMSG_SLUG_BAD;
	bool kept = keep_slug && strcmp(typed, keep_slug) == 0;
	const char *slug = kept ? typed : slug_of(q, typed, name);
	if (!kept && !admin_slug_ok(slug))
		return AMSG_SLUG_BAD;
	out->name = name;
	out->slug = slug;
	return AMSG__MAX;
}

ADMIN_HANDLER(admin_page_tag_add)
{
	struct admin_req *q = qv;
	(void)m;
	struct store_tag t = {0};
	enum admin_msg err = tag_form(q, NULL, &t);
	enum store_err e = STORE_OK;
	if (err == AMSG__MAX) {
		e = store_tag_add(q->ad->st, &t, NULL);
		err = e == STORE_CONFLICT ? AMSG_SLUG_TAKEN : AMSG__MAX;
	}
	if (err != AMSG__MAX) {
		tags_page(q, admin_field(q, "name"), admin_field(q, "slug"), err,
		    422);
		return;
	}
	if (e != STORE_OK) {
		admin_error(q, 503);
		return;
	}
	admin_changed(q);
	admin_redirect(q, "/admin/tags", AMSG_ADDED, 0);
}

static void
tag_edit_page(struct admin_req *q, const struct store_tag *t,
    const struct store_tag *in, enum admin_msg err, int status)
{
	arena *a = q->a;
	struct store_tag *ts;
	int64_t *counts, total;
	size_t n;
	if (store_tags_page(q->ad->st, 0, TAGS_PICK, a, &ts, &counts, &n,
	    &total) != STORE_OK) {
		admin_error(q, 503);
		return;
	}
	admin_view(q, admin_msg(q, AMSG_EDIT_TAG));
	if (err != AMSG__MAX)
		admin_form_error(q, err);
	tv *d = tv_set(q->root, "tag", tv_dict(a));
	tv_set_int(a, d, "id", t->id);
	tv_set_str(a, d, "name", in->name);
	tv_set_str(a, d, "slug", in->slug);
	tv_set_str(a, d, "url", slug_path(q, "tag", t->slug));
	tv *l = tv_set(q->root, "targets", tv_list(a));
	for (size_t i = 0; i < n; i++) {
		if (ts[i].id == t->id)
			continue;
		tv *o = tv_push(l, tv_dict(a));
		tv_set_int(a, o, "id", ts[i].id);
		tv_set_str(a, o, "label", ts[i].name);
	}
	admin_render(q, "admin_tag_edit", status);
}

ADMIN_HANDLER(admin_page_tag_edit_form)
{
	struct admin_req *q = qv;
	struct store_tag t;
	enum store_err e = store_tag_get(q->ad->st, m->num[0], q->a, &t);
	if (e != STORE_OK) {
		admin_error(q, e == STORE_NOTFOUND ? 404 : 503);
		return;
	}
	tag_edit_page(q, &t, &t, AMSG__MAX, 200);
}

ADMIN_HANDLER(admin_page_tag_edit)
{
	struct admin_req *q = qv;
	struct store_tag old;
	enum store_err e = store_tag_get(q->ad->st, m->num[0], q->a, &old);
	if (e != STORE_OK) {
		admin_error(q, e == STORE_NOTFOUND ? 404 : 503);
		return;
	}
	struct store_tag t = {.id = old.id};
	enum admin_msg err = tag_form(q, old.slug, &t);
	if (err == AMSG__MAX) {
		e = store_tag_update(q->ad->st, &t);
		err = e == STORE_CONFLICT ? AMSG_SLUG_TAKEN : AMSG__MAX;
	}
	if (err != AMSG__MAX) {
		struct store_tag typed = {
			.id = old.id,
			.name = admin_field(q, "name"),
			.slug = admin_field(q, "slug"),
		};
		tag_edit_page(q, &old, &typed, err, 422);
		return;
	}
	taxonomy_done(q, e, "tag", old.slug, t.slug, AMSG_SAVED);
}

ADMIN_HANDLER(admin_page_tag_delete)
{
	struct admin_req *q = qv;
	struct store_tag old, to;
	int64_t reassign = admin_field_id(q, "reassign");
	enum store_err e = store_tag_get(q->ad->st, m->num[0], q->a, &old);
	if (e == STORE_OK && reassign)
		e = store_tag_get(q->ad->st, reassign, q->a, &to);
	if (e == STORE_OK)
		e = store_tag_delete(q->ad->st, old.id, reassign);
	if (e != STORE_OK) {
		taxonomy_fail(q, e);
		return;
	}
	taxonomy_done(q, STORE_OK, "tag", old.slug, reassign ? to.slug : NULL,
	    AMSG_DELETED);
}

/* ---- redirects ---------------------------------------------------------------- */

static void
redirects_page(struct admin_req *q, const char *from, const char *to,
    enum admin_msg err, int status)
{
	arena *a = q->a;
	int64_t page = admin_page_arg(q);
	struct store_redirect *rs;
	size_t n;
	int64_t total;
	if (page == 0) {
		admin_error(q, 404);
		return;
	}
	if (store_redirects(q->ad->st, (page - 1) * REDIRECTS_PAGE,
	    REDIRECTS_PAGE, a, &rs, &n, &total) != STORE_OK) {
		admin_error(q, 503);
		return;
	}
	int64_t pages = (total + REDIRECTS_PAGE - 1) / REDIRECTS_PAGE;
	if (page > 1 && page > pages) {
		admin_error(q, 404);
		return;
	}
	admin_view(q, admin_msg(q, AMSG_REDIRECTS));
	if (err != AMSG__MAX)
		admin_form_error(q, err);
	tv *list = tv_set(q->root, "redirects", tv_list(a));
	for (size_t i = 0; i < n; i++) {
		tv *d = tv_push(list, tv_dict(a));
		tv_set_str(a, d, "from", rs[i].from);
		tv_set_str(a, d, "to", rs[i].to);
	}
	tv_set_bool(a, q->root, "empty", n == 0);
	tv *f = tv_set(q->root, "form", tv_dict(a));
	tv_set_str(a, f, "from", from);
	tv_set_str(a, f, "to", to);
	admin_pager(q, "/admin/redirects", page, pages);
	admin_render(q, "admin_redirects", status);
}

ADMIN_HANDLER(admin_page_redirects)
{
	struct admin_req *q = qv;
	(void)m;
	redirects_page(q, "", "", AMSG__MAX, 200);
}

/* Value of a hex digit, -1 when not one. */
static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
	    c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/*
 * The path a redirect answers for, as the router sees paths: decoded
 * (typed "%E3%81%82" and "あ" are the same path), clean UTF-8, starting
 * with one '/', no query, not under /admin/. NULL when not acceptable.
 */
static const char *
redirect_from(struct admin_req *q, const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > PATH_MAX_BYTES || s[0] != '/' || s[1] == '/' ||
	    strchr(s, '?') || strchr(s, '#'))
		return NULL;
	char *d = arena_alloc(q->a, n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int h, l;
		if (s[i] == '%' && i + 2 < n && (h = hexval(s[i + 1])) >= 0 &&
		    (l = hexval(s[i + 2])) >= 0) {
			d[k++] = (char)(h * 16 + l);
			i += 2;
		} else {
			d[k++] = s[i];
		}
	}
	d[k] = '\0';
	if (!text_clean(d, k) || strchr(d, '\n') || strchr(d, '\r') ||
	    strchr(d, '\t') || strchr(d, ' ') || strncmp(d, "/admin", 6) == 0)
		return NULL;
	return d;
}

/* Where it goes: a local path or an http(s) URL, written as printable
 * ASCII (other bytes %-encoded) so it can stand in a Location header. */
static const char *
redirect_to(struct admin_req *q, const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > PATH_MAX_BYTES || !text_clean(s, n))
		return NULL;
	if (!(s[0] == '/' && s[1] != '/' && s[1] != '\\') &&
	    strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		return NULL;
	buf b;
	buf_init(&b, 3 * n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x21 || c >= 0x7f || c == '"' || c == '<' || c == '>' ||
		    c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' ||
		    c == '}')
			buf_printf(&b, "%%%02X", c);
		else
			buf_putc(&b, (char)c);
	}
	const char *r = b.err ? NULL : arena_strdup(q->a, buf_cstr(&b));
	buf_free(&b);
	return r;
}

ADMIN_HANDLER(admin_page_redirect_add)
{
	struct admin_req *q = qv;
	(void)m;
	const char *from = redirect_from(q, admin_field(q, "from"));
	const char *to = redirect_to(q, admin_field(q, "to"));
	if (from == NULL || to == NULL) {
		redirects_page(q, admin_field(q, "from"), admin_field(q, "to"),
		    AMSG_REDIRECT_BAD, 422);
		return;
	}
	enum store_err e = store_redirect_add(q->ad->st, from, to);
	if (e == STORE_CONFLICT) {
		redirects_page(q, admin_field(q, "from"), admin_field(q, "to"),
		    AMSG_REDIRECT_EXISTS, 409);
		return;
	}
	if (e != STORE_OK) {
		admin_error(q, 503);
		return;
	}
	admin_redirect(q, "/admin/redirects", AMSG_ADDED, 0);
}

ADMIN_HANDLER(admin_page_redirect_delete)
{
	struct admin_req *q = qv;
	(void)m;
	enum store_err e = store_redirect_delete(q->ad->st,
	    admin_field(q, "from"));
	if (e != STORE_OK) {
		admin_error(q, e == STORE_NOTFOUND ? 404 : 503);
		return;
	}
	admin_redirect(q, "/admin/redirects", AMSG_DELETED, 0);
}
