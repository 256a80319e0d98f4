/*
 * The site's side of `kiji render` (static export, src/cli/render.c): the
 * export mode of a site (its own base URL, page cache off, pages marked
 * for a read-only copy or one whose forms go to a live kiji), rendering
 * one URL to a buffer through site_handle — the very code path of a GET
 * the server answers — with the cache tags the page was built from, the
 * URLs a crawl cannot find (monthly archives), and the CORS answer a live
 * kiji gives a static copy's scripts.
 */
#include "site_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct site_export {
	char *base_url;  /* replaces site.base_url, or NULL */
	char *live;      /* NULL: read-only copy; "": forms post to the same
	                  * origin (as the server's pages); else the origin */
	/* what the last render built its page from (site_export_note) */
	int64_t tags[96];
	size_t ntags;
	bool untagged;   /* not cacheable or too many tags: redo every time */
};

/* Length of "scheme://host[:port]" of url (the whole string when it has
 * no path). */
static size_t
origin_len(const char *url)
{
	const char *h = strstr(url, "://");
	if (h == NULL)
		return strlen(url);
	h += 3;
	return (size_t)(h - url) + strcspn(h, "/?#");
}

bool
site_export_begin(site *s, const struct site_export_opts *o, buf *err)
{
	struct site_export *x = xcalloc(1, sizeof(*x));
	if (o->base_url && *o->base_url) {
		size_t n = strlen(o->base_url);
		while (n > 0 && o->base_url[n - 1] == '/')
			n--; /* base_url never ends in '/': paths start with one */
		x->base_url = xmalloc(n + 1);
		memcpy(x->base_url, o->base_url, n);
		x->base_url[n] = '\0';
	}
	if (o->live_origin) {
		size_t n = origin_len(o->live_origin);
		x->live = xmalloc(n + 1);
		memcpy(x->live, o->live_origin, n);
		x->live[n] = '\0';
	}
	pthread_mutex_lock(&s->mu);
	s->xp = x;
	pthread_mutex_unlock(&s->mu);
	site_conf_refresh(s); /* a snapshot with the overrides */
	const char *base = s->conf->str[CONF_BASE_URL];
	if (x->live && origin_len(base) == strlen(x->live) &&
	    strncasecmp(base, x->live, strlen(x->live)) == 0)
		x->live[0] = '\0'; /* same origin: the server's own pages */
	(void)err;
	return true;
}

char *
site_export_base_url(site *s)
{
	return xstrdup(site_conf(s)->str[CONF_BASE_URL]);
}

void
site_export_free(struct site_export *x)
{
	if (x == NULL)
		return;
	free(x->base_url);
	free(x->live);
	free(x);
}

void
site_export_conf(site *s, struct site_conf *c)
{
	struct site_export *x = s->xp;
	if (x == NULL)
		return;
	if (x->base_url) {
		free(c->str[CONF_BASE_URL]);
		c->str[CONF_BASE_URL] = xstrdup(x->base_url);
	}
	/* Every page is rendered once: nothing to keep. */
	free(c->str[CONF_CACHE_BYTES]);
	c->str[CONF_CACHE_BYTES] = xstrdup("0");
	c->num[CONF_CACHE_BYTES] = 0;
}

void
site_export_view(struct req *q, tv *sd)
{
	struct site_export *x = q->s->xp;
	if (x == NULL)
		return;
	/* comment_export.html, not comment.html: the server's own pages
	 * pay nothing per comment for the copy's variants */
	tv_set_bool(q->r->a, sd, "export", true);
	if (x->live == NULL)
		tv_set_bool(q->r->a, sd, "readonly", true);
	else if (*x->live)
		tv_set_str(q->r->a, sd, "live", x->live);
}

/* Whether a page may open the live comment stream: always on the
 * server; on a copy only when its forms go to its own origin (a kiji
 * behind it answers /articles/<id>/events there). */
bool
site_export_streams(const site *s)
{
	return s->xp == NULL || (s->xp->live != NULL && *s->xp->live == '\0');
}

void
site_export_note(struct req *q)
{
	struct site_export *x = q->s->xp;
	if (x == NULL)
		return;
	x->untagged = !q->r->route->cacheable || q->nocache;
	x->ntags = q->ntags;
	memcpy(x->tags, q->tags, q->ntags * sizeof(q->tags[0]));
}

/*
 * A live kiji answering a static copy's script (likes, the comments API):
 * the copy's origin may read the answer when it is one of
 * http.origin_allow, the origins already allowed to post here. The value
 * sent is the setting's own text, never the request's.
 */
void
site_cors(struct req *q)
{
	const char *o = http_req_header(q->r, "Origin");
	if (o == NULL || *o == '\0')
		return;
	size_t on = strlen(o);
	const char *p = q->c->str[CONF_ORIGIN_ALLOW];
	while (*p) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, " \t,");
		if (n > 0 && n == on && strncasecmp(p, o, n) == 0) {
			http_resp_header(q->r, q->w, "Access-Control-Allow-Origin",
			    arena_strndup(q->r->a, p, n));
			http_resp_header(q->r, q->w, "Vary", "Origin");
			return;
		}
		p += n;
	}
}

/* What a static copy does with the answer of each route. */
static enum site_xkind
route_kind(int id)
{
	switch (id) {
	case R_FRONT: case R_CATEGORY: case R_TAG: case R_ARCHIVE_MONTH:
		return SITE_X_PAGED;
	case R_ARTICLE: case R_RANKING: case R_PAGE:
		return SITE_X_HTML;
	case R_COMMENT_FEED: case R_FEED_RSS: case R_FEED_ATOM:
	case R_CAT_FEED_RSS: case R_CAT_FEED_ATOM:
		return SITE_X_FEED;
	case R_STATIC: case R_MEDIA: case R_ROBOTS: case R_SITEMAP:
	case R_SITEMAP_N:
		return SITE_X_FILE;
	default:
		return SITE_X_NO; /* forms, search, beacons, API, operators' */
	}
}

enum site_xkind
site_export_kind(site *s, const char *path, arena *a)
{
	struct http_match m;
	const struct http_route *rt = http_route(s->routes, s->nroutes,
	    HTTP_GET, path, a, &m);
	if (rt == NULL || rt->id >= ADMIN_ROUTE_BASE)
		return SITE_X_NO;
	return route_kind(rt->id);
}

bool
site_export_get(site *s, const char *path, const char *query, int64_t now,
    arena *a, struct site_xpage *out)
{
	struct site_export *x = s->xp;
	memset(out, 0, sizeof(*out));
	buf_init(&out->body, 0);
	struct http_req r;
	/* The HTTP core matches the route and reads ?page=N before the
	 * handler runs; the exporter asks only for these. */
	if (!site_internal_get(s, &r, path, query, now, a) ||
	    r.route->id >= ADMIN_ROUTE_BASE ||
	    route_kind(r.route->id) == SITE_X_NO)
		return false;
	out->kind = route_kind(r.route->id);
	struct http_resp w = {0};
	buf_init(&w.body, 0);
	x->ntags = 0;
	x->untagged = true;
	site_handle(s, &r, &w);
	if (w.shared != NULL) { /* never: the page cache is off */
		if (w.shared_done)
			w.shared_done(w.shared_ctx);
		buf_free(&w.body);
		return false;
	}
	out->status = w.status ? w.status : 200;
	out->content_type = arena_strdup(a, w.content_type ? w.content_type :
	    "text/html; charset=utf-8");
	out->body = w.body;
	for (size_t i = 0; i < w.nheaders; i++)
		if (strncasecmp(w.headers[i], "Location:", 9) == 0)
			out->location = w.headers[i] + 9 +
			    strspn(w.headers[i] + 9, " ");
	out->untagged = x->untagged;
	out->ntags = x->ntags;
	memcpy(out->tags, x->tags, x->ntags * sizeof(x->tags[0]));
	return true;
}

int
site_change_tags(const struct store_change *ch, int64_t out[4])
{
	/* what site_sync does with each kind (site.c): keep them alike */
	int64_t id = ch->article_id;
	switch (ch->kind) {
	case CHANGE_COMMENT:
		out[0] = TAG_ARTICLE(id);
		out[1] = TAG_LISTED(id);
		return 2;
	case CHANGE_LIKE:
		out[0] = TAG_ARTICLE(id);
		return 1;
	case CHANGE_ARTICLE_TEXT:
		out[0] = TAG_ARTICLE(id);
		out[1] = TAG_LISTED(id);
		out[2] = TAG_CARD(id);
		out[3] = TAG_SITEMAP;
		return 4;
	default:
		return -1; /* titles, order, visibility, settings: every page */
	}
}

/*
 * The monthly archives with articles ("/archive/2026/01" ...), newest
 * first: no page links them, so a crawl would miss them. From the
 * published articles' dates in the site's time zone.
 */
bool
site_export_months(site *s, int64_t now, arena *a, const char ***out,
    size_t *n)
{
	const struct site_conf *c = site_conf(s);
	(void)c; /* its time zone is the one text_localtime uses */
	size_t cap = 64, k = 0;
	const char **v = arena_alloc(a, cap * sizeof(*v));
	int last = -1;
	arena *t = arena_new(0);
	for (int64_t off = 0;; off += 1000) {
		struct store_article *list = NULL;
		size_t m = 0;
		int64_t total = 0;
		struct store_filter f = {0};
		if (store_articles_list(s->st, &f, now, off, 1000, t, &list, &m,
		    &total) != STORE_OK) {
			arena_free(t);
			return false;
		}
		for (size_t i = 0; i < m; i++) {
			struct text_tm tm;
			text_localtime(list[i].published_at, &tm);
			int ym = tm.year * 12 + tm.mon;
			if (ym == last)
				continue;
			last = ym;
			if (k == cap) {
				const char **nv = arena_alloc(a, 2 * cap * sizeof(*nv));
				memcpy(nv, v, cap * sizeof(*v));
				v = nv;
				cap *= 2;
			}
			v[k++] = arena_printf(a, "/archive/%04d/%02d", tm.year,
			    tm.mon);
		}
		arena_reset(t);
		if (m < 1000)
			break;
	}
	arena_free(t);
	*out = v;
	*n = k;
	return true;
}
