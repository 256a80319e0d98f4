/*
 * Revisions: every save of an article keeps one (content_save writes
 * it). The list says when and by whom; one revision is shown as a line
 * diff against the current text (or side by side); restoring saves it
 * again through content_save as a new revision, so a restore can itself
 * be undone. The same per-object rule as the editor: authors see only
 * their own articles' history.
 */
#include "admin_int.h"

#include <string.h>

#include "../content/content.h"

#define REVISIONS_PAGE 50 /* rows per page */

ADMIN_HANDLER(admin_page_revisions)
{
	struct admin_req *q = qv;
	arena *a = q->a;
	struct store_article art;
	enum store_err e = store_article_get_any(q->ad->st, m->num[0], a, &art);
	if (e != STORE_OK || !admin_article_mine(q, &art)) {
		admin_error(q, e == STORE_NOTFOUND ? 404 : e != STORE_OK ? 503 : 403);
		return;
	}
	int64_t page = admin_page_arg(q), total = 0, latest = 0;
	struct store_revision *revs;
	size_t n;
	if (page == 0) {
		admin_error(q, 404);
		return;
	}
	if (store_revisions(q->ad->st, art.id, (page - 1) * REVISIONS_PAGE,
	    REVISIONS_PAGE, a, &revs, &n, &total) != STORE_OK ||
	    store_revision_latest(q->ad->st, art.id, &latest) != STORE_OK) {
		admin_error(q, 503);
		return;
	}
	int64_t pages = (total + REVISIONS_PAGE - 1) / REVISIONS_PAGE;
	if (page > 1 && page > pages) {
		admin_error(q, 404);
		return;
	}
	admin_view(q, admin_msg(q, AMSG_REVISIONS));
	tv *d = tv_set(q->root, "article", tv_dict(a));
	tv_set_int(a, d, "id", art.id);
	tv_set_str(a, d, "title", art.title);
	tv *l = tv_set(q->root, "revisions", tv_list(a));
	for (size_t i = 0; i < n; i++) {
		tv *r = tv_push(l, tv_dict(a));
		tv_set_int(a, r, "id", revs[i].id);
		tv_set_str(a, r, "title", revs[i].title);
		tv_set_str(a, r, "date", admin_datetime(q, revs[i].created_at));
		tv_set_str(a, r, "author", revs[i].author_name);
		tv_set_bool(a, r, "current", revs[i].id == latest);
		tv_set_str(a, r, "url", arena_printf(a,
		    "/admin/articles/%lld/revisions/%lld", (long long)art.id,
		    (long long)revs[i].id));
	}
	tv_set_int(a, q->root, "total", total);
	admin_pager(q, arena_printf(a, "/admin/articles/%lld/revisions",
	    (long long)art.id), page, pages);
	admin_render(q, "admin_revisions", 200);
}

/* The article (which this user may open) and one of its revisions; else
 * answers and returns false. */
static bool
load_revision(struct admin_req *q, const struct http_match *m,
    struct store_article *art, struct store_revision *rev)
{
	enum store_err e = store_article_get_any(q->ad->st, m->num[0], q->a, art);
	if (e == STORE_OK && !admin_article_mine(q, art)) {
		admin_error(q, 403);
		return false;
	}
	if (e == STORE_OK)
		e = store_revision_get(q->ad->st, m->num[1], q->a, rev);
	if (e == STORE_OK && rev->article_id != art->id)
		e = STORE_NOTFOUND;
	if (e != STORE_OK) {
		admin_error(q, e == STORE_NOTFOUND ? 404 : 503);
		return false;
	}
	return true;
}

/* GET /admin/articles/<id>/revisions/<rev>[?view=side]: the revision
 * against the current text. */
ADMIN_HANDLER(admin_page_revision)
{
	struct admin_req *q = qv;
	arena *a = q->a;
	struct store_article art;
	struct store_revision rev;
	if (!load_revision(q, m, &art, &rev))
		return;
	bool side = strcmp(admin_arg(q, "view"), "side") == 0, changed = false;
	tv *diff = side ? NULL : admin_diff_view(q, rev.body, art.body, &changed);
	bool diffed = diff != NULL;
	admin_view(q, arena_printf(a, "%s #%lld", admin_msg(q, AMSG_REVISION),
	    (long long)rev.id));
	tv *d = tv_set(q->root, "article", tv_dict(a));
	tv_set_int(a, d, "id", art.id);
	tv_set_str(a, d, "title", art.title);
	tv_set_str(a, d, "body", art.body);
	tv *r = tv_set(q->root, "revision", tv_dict(a));
	tv_set_int(a, r, "id", rev.id);
	tv_set_str(a, r, "title", rev.title);
	tv_set_str(a, r, "body", rev.body);
	tv_set_str(a, r, "date", admin_datetime(q, rev.created_at));
	tv_set_str(a, r, "author", rev.author_name);
	tv_set_bool(a, r, "title_changed", strcmp(rev.title, art.title) != 0);
	tv_set_str(a, r, "base", arena_printf(a,
	    "/admin/articles/%lld/revisions/%lld", (long long)art.id,
	    (long long)rev.id));
	tv_set_bool(a, q->root, "side", !diffed);
	tv_set_bool(a, q->root, "too_big", !side && !diffed);
	if (diffed) {
		tv_set(q->root, "diff", diff);
		tv_set_str(a, q->root, "diff_old", arena_printf(a, "#%lld",
		    (long long)rev.id));
		tv_set_str(a, q->root, "diff_new", admin_msg(q, AMSG_CURRENT));
		tv_set_bool(a, q->root, "unchanged", !changed);
	}
	admin_render(q, "admin_revision", 200);
}

/* POST .../revisions/<rev>/restore: the revision saved again as the
 * newest one (status and date stay as they are now). */
ADMIN_HANDLER(admin_page_revision_restore)
{
	struct admin_req *q = qv;
	struct store_article art;
	struct store_revision rev;
	if (!load_revision(q, m, &art, &rev))
		return;
	struct content_input in;
	content_input_from(&in, &art, q->a);
	enum content_err ce = content_input_revision(q->ad->st, &in, rev.id, q->a);
	struct content_result res;
	if (ce == CONTENT_OK) {
		in.editor_id = q->user.id;
		in.now = q->r->now;
		ce = content_save(q->ad->st, &in, q->a, &res);
	}
	if (ce == CONTENT_INVALID) {
		admin_view(q, admin_msg(q, AMSG_NOT_SAVED));
		tv *e = tv_set(q->root, "failure", tv_dict(q->a));
		tv_set_int(q->a, e, "status", 422);
		tv_set_str(q->a, e, "title", admin_msg(q, AMSG_NOT_SAVED));
		tv_set_str(q->a, e, "text", q->lang == ALANG_EN ? res.message_en :
		    res.message);
		admin_render(q, "admin_error", 422);
		return;
	}
	if (ce != CONTENT_OK) {
		admin_error(q, ce == CONTENT_NOTFOUND ? 404 : 503);
		return;
	}
	admin_changed(q);
	admin_redirect(q, arena_printf(q->a, "/admin/articles/%lld/revisions",
	    (long long)art.id), AMSG_RESTORED, 0);
}
