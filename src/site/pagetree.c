/*
 * Pages (articles of kind page) at /pages/<slug>[/<slug>…]: found by
 * walking their slugs from the top, shown with the breadcrumbs of their
 * ancestors and the list of their subpages, without a news article's
 * blocks (neighbours, related, tags); comments when the page takes them
 * or has some. No SQL here, no HTML here.
 */
#include "site_int.h"

#include <string.h>

#include "../content/content.h"

#define PAGE_SUBPAGES_MAX 200 /* subpages listed under a page */

/* The visible page the router's {slugs} name, each slug under the one
 * before it; 0 when there is none, -1 when the database failed. */
static int64_t
page_find(struct req *q, const char *path)
{
	char *p = arena_strdup(q->r->a, path);
	int64_t id = 0, parent = 0;
	for (char *seg = p; seg != NULL;) {
		char *e = strchr(seg, '/');
		if (e != NULL)
			*e++ = '\0';
		const char *one[1] = {seg};
		if (store_page_child(q->s->st, parent, one, 1, &id) != STORE_OK)
			return -1;
		if (id == 0)
			return 0;
		parent = id;
		seg = e;
	}
	return id;
}

/* q->root.breadcrumbs: the visible ancestors, the top one first. */
static void
page_breadcrumbs(struct req *q, const struct store_page *chain, size_t n)
{
	arena *a = q->r->a;
	tv *bc = tv_set(q->root, "breadcrumbs", tv_list(a));
	for (size_t i = 0; i + 1 < n; i++) {
		const char *url = content_page_path(chain, i + 1, a);
		if (!chain[i].visible || url == NULL)
			continue;
		tv *d = tv_push(bc, tv_dict(a));
		tv_set_str(a, d, "title", chain[i].title);
		tv_set_str(a, d, "url", url);
	}
	tv_set_bool(a, q->root, "has_breadcrumbs", tv_len(bc) > 0);
}

/* q->root.subpages: the visible children, in their menu order. */
static void
page_subpages(struct req *q, const struct store_page *chain, size_t n)
{
	arena *a = q->r->a;
	struct store_page *kids = NULL;
	size_t nk = 0;
	tv *sl = tv_set(q->root, "subpages", tv_list(a));
	if (store_page_children(q->s->st, chain[n - 1].id, q->r->now,
	    PAGE_SUBPAGES_MAX, a, &kids, &nk) != STORE_OK)
		nk = 0;
	/* a child's chain is the page's plus itself */
	struct store_page *ext = arena_alloc(a, (n + 1) * sizeof(*ext));
	memcpy(ext, chain, n * sizeof(*ext));
	for (size_t i = 0; i < nk; i++) {
		ext[n] = kids[i];
		const char *url = content_page_path(ext, n + 1, a);
		if (url == NULL)
			continue;
		tv *d = tv_push(sl, tv_dict(a));
		tv_set_str(a, d, "title", kids[i].title);
		tv_set_str(a, d, "url", url);
	}
	tv_set_bool(a, q->root, "has_subpages", tv_len(sl) > 0);
}

void
site_page_page(struct req *q, const char *path)
{
	arena *a = q->r->a;
	store *st = q->s->st;
	struct store_article art;
	struct store_page *chain = NULL;
	size_t n = 0;
	int64_t id = page_find(q, path);
	if (id < 0) {
		site_error(q, 503);
		return;
	}
	enum store_err e = id == 0 ? STORE_NOTFOUND :
	    store_article_get(st, id, q->r->now, a, &art);
	if (e == STORE_OK && art.kind != KIND_PAGE)
		e = STORE_NOTFOUND;
	if (e == STORE_OK)
		e = store_page_chain(st, id, q->r->now, a, &chain, &n);
	const char *canon = e == STORE_OK ? content_page_path(chain, n, a) : NULL;
	if (e != STORE_OK || canon == NULL) {
		site_error(q, e == STORE_NOTFOUND || e == STORE_OK ? 404 : 503);
		return;
	}
	site_view_article(q, &art, canon);
	/* a page is not news: og:type website, no article:* metadata, no
	 * popular articles beside it */
	tv_set_bool(a, q->root, "is_article", false);
	tv_set_bool(a, q->root, "hide_ranking", true);
	page_breadcrumbs(q, chain, n);
	page_subpages(q, chain, n);

	/* comments when the page takes them, or keeps those it has */
	bool show = art.comments_open || art.comment_count > 0;
	bool personal = show && site_view_comments(q, &art);
	tv_set_bool(a, q->root, "show_comments", show);
	tv *tbs = tv_get(q->root, "trackbacks");
	tv_set_bool(a, q->root, "has_trackbacks", tbs != NULL && tv_len(tbs) > 0);

	site_tag(q, TAG_ARTICLE(id));
	http_resp_header(q->r, q->w, "Cache-Control",
	    personal || visitor_has_pending(q, id) ? "private, no-store" :
	    "public, max-age=0, s-maxage=60, stale-while-revalidate=30");
	site_render(q, "page", 200);
}
