/*
 * The route table of the public site, with what each route accepts (the
 * HTTP core reads body kinds, limits and field declarations before the
 * body), and the dispatch: page cache first, then the route's handler.
 */
#include "site_int.h"

#include <string.h>

/* ---- handlers, as the table calls them ------------------------------------------ */

static void h_front(void *q, const struct http_match *m)
{ (void)m; site_page_listing(q, LIST_FRONT, NULL); }
static void h_article(void *q, const struct http_match *m)
{ site_page_article(q, m->num[0]); }
static void h_category(void *q, const struct http_match *m)
{ site_page_listing(q, LIST_CATEGORY, m->str[0]); }
static void h_tag(void *q, const struct http_match *m)
{ site_page_listing(q, LIST_TAG, m->str[0]); }
static void h_static(void *q, const struct http_match *m)
{ site_static(q, m->str[0]); }
static void h_media(void *q, const struct http_match *m)
{ site_media(q, m->str[0]); }
static void h_robots(void *q, const struct http_match *m)
{ (void)m; site_robots(q); }
static void h_post_comment(void *q, const struct http_match *m)
{ site_post_comment(q, m->num[0]); }
static void h_like(void *q, const struct http_match *m)
{ site_post_like(q, m->num[0], m->id == R_LIKE); }
static void h_api_comments(void *q, const struct http_match *m)
{ site_api_comments(q, m->num[0]); }
static void h_api_post_comment(void *q, const struct http_match *m)
{ site_api_post_comment(q, m->num[0]); }
static void h_comment_feed(void *q, const struct http_match *m)
{ site_comment_feed(q, m->num[0]); }
static void h_comment_feed_atom(void *q, const struct http_match *m)
{ site_comment_feed_atom(q, m->num[0]); }
static void h_comments(void *q, const struct http_match *m)
{ (void)m; site_page_comments(q); }
static void h_comments_feed(void *q, const struct http_match *m)
{ (void)m; site_recent_feed(q); }
static void h_feed(void *q, const struct http_match *m)
{ site_feed(q, NULL, m->id == R_FEED_ATOM); }
static void h_cat_feed(void *q, const struct http_match *m)
{ site_feed(q, m->str[0], m->id == R_CAT_FEED_ATOM); }
static void h_sitemap(void *q, const struct http_match *m)
{ (void)m; site_sitemap(q, 0); }
static void h_ranking(void *q, const struct http_match *m)
{ (void)m; site_page_ranking(q); }
static void h_search(void *q, const struct http_match *m)
{ (void)m; site_page_search(q); }
static void h_page(void *q, const struct http_match *m)
{ site_page_page(q, m->str[0]); }
static void h_view(void *q, const struct http_match *m)
{ site_view_beacon(q, m->num[0], m->id == R_VIEW_GIF); }
static void h_trackback(void *q, const struct http_match *m)
{ site_ping_trackback(q, m->id == R_TRACKBACK ? m->num[0] : 0); }
static void h_xmlrpc(void *q, const struct http_match *m)
{ (void)m; site_ping_xmlrpc(q); }
static void h_webmention(void *q, const struct http_match *m)
{ (void)m; site_ping_webmention(q); }
static void h_metrics(void *q, const struct http_match *m)
{ (void)m; site_metrics(q); }
static void h_healthz(void *q, const struct http_match *m)
{ (void)m; site_healthz(q); }
static void h_readyz(void *q, const struct http_match *m)
{ (void)m; site_readyz(q); }
static void h_comment_goto(void *q, const struct http_match *m)
{ site_comment_goto(q, m->num[0]); }
static void h_events(void *q, const struct http_match *m)
{ site_live_events(q, m->num[0]); }
static void h_mail_confirm(void *q, const struct http_match *m)
{ (void)m; site_mail_confirm(q); }
static void h_mail_unsub(void *q, const struct http_match *m)
{ (void)m; site_mail_unsubscribe(q); }

static void
h_archive_month(void *qv, const struct http_match *m)
{
	struct req *q = qv;
	site_page_listing(q, LIST_MONTH, arena_printf(q->r->a, "%lld/%s",
	    (long long)m->num[0], m->str[0]));
}

static void
h_sitemap_n(void *q, const struct http_match *m)
{
	if (m->num[0] == 0)
		site_error(q, 404); /* files count from 1 */
	else
		site_sitemap(q, m->num[0]);
}

/* ---- the table -------------------------------------------------------------------- */

/* The comment form: every field bounded at the edge; what the text may
 * say (length in characters, control characters, a real parent) is the
 * handler's, which answers with the reader's text kept in the form. */
static const struct http_field site_comment_fields[] = {
	{"nickname", HTTP_FIELD_TEXT, 4096},
	{"body", HTTP_FIELD_TEXT, 0},
	{"parent", HTTP_FIELD_LINE, 64},
	{"token", HTTP_FIELD_LINE, 512},
	{"url", HTTP_FIELD_TEXT, 4096},
	{"opened", HTTP_FIELD_LINE, 64},
	{"email", HTTP_FIELD_LINE, 512},
	{"notify", HTTP_FIELD_LINE, 16},
	{NULL, 0, 0},
};

/* TrackBack 1.2's form, in the charset its Content-Type (or a charset
 * field) names; text fields bounded generously in bytes as sent, the
 * handler cuts what it shows. Undeclared fields (charset ...) are
 * dropped. */
static const struct http_field site_trackback_fields[] = {
	{"url", HTTP_FIELD_LINE, 2048},
	{"title", HTTP_FIELD_TEXT, 4096},
	{"excerpt", HTTP_FIELD_TEXT, 16384},
	{"blog_name", HTTP_FIELD_TEXT, 4096},
	{NULL, 0, 0},
};

/* Webmention: two URLs. */
static const struct http_field site_webmention_fields[] = {
	{"source", HTTP_FIELD_LINE, 2048},
	{"target", HTTP_FIELD_LINE, 2048},
	{NULL, 0, 0},
};

/* Likes carry nothing but the route. */
static const struct http_field site_no_fields[] = {
	{NULL, 0, 0},
};

#define GET(pat, id, fn, cacheable) \
	{HTTP_GET, pat, id, fn, HTTP_BODY_NONE, 0, NULL, cacheable, false, 0}

const struct http_route site_routes[] = {
	GET("/", R_FRONT, h_front, true),
	GET("/articles/{id}", R_ARTICLE, h_article, true),
	GET("/category/{slug}", R_CATEGORY, h_category, true),
	GET("/tag/{slug}", R_TAG, h_tag, true),
	GET("/static/{*}", R_STATIC, h_static, false),
	GET("/media/{*}", R_MEDIA, h_media, false),
	GET("/robots.txt", R_ROBOTS, h_robots, false),
	{HTTP_POST, "/articles/{id}/comments", R_POST_COMMENT, h_post_comment,
	    HTTP_BODY_FORM, 0, site_comment_fields, false, false, HTTP_RF_ORIGIN},
	{HTTP_POST, "/comments/{id}/like", R_LIKE, h_like, HTTP_BODY_FORM,
	    4096, site_no_fields, false, false, HTTP_RF_ORIGIN},
	{HTTP_POST, "/comments/{id}/unlike", R_UNLIKE, h_like, HTTP_BODY_FORM,
	    4096, site_no_fields, false, false, HTTP_RF_ORIGIN},
	/* where a comment is: its page depends on the sort and on the threads
	 * before it, so never cached */
	GET("/comments/{id}", R_COMMENT_GOTO, h_comment_goto, false),
	GET("/api/articles/{id}/comments", R_API_COMMENTS, h_api_comments, false),
	{HTTP_POST, "/api/articles/{id}/comments", R_API_POST_COMMENT,
	    h_api_post_comment, HTTP_BODY_RAW, 0, NULL, false, false,
	    HTTP_RF_ORIGIN},
	GET("/articles/{id}/feed", R_COMMENT_FEED, h_comment_feed, true),
	GET("/articles/{id}/feed/atom", R_COMMENT_FEED_ATOM, h_comment_feed_atom,
	    true),
	GET("/comments", R_COMMENTS, h_comments, true),
	GET("/comments/feed", R_COMMENTS_FEED, h_comments_feed, true),
	/* live comments: a stream, never cached */
	{HTTP_GET, "/articles/{id}/events", R_EVENTS, h_events, HTTP_BODY_NONE,
	    0, NULL, false, true, 0},
	GET("/archive/{id}/{slug}", R_ARCHIVE_MONTH, h_archive_month, true),
	GET("/feed", R_FEED_RSS, h_feed, true),
	GET("/feed/atom", R_FEED_ATOM, h_feed, true),
	GET("/category/{slug}/feed", R_CAT_FEED_RSS, h_cat_feed, true),
	GET("/category/{slug}/feed/atom", R_CAT_FEED_ATOM, h_cat_feed, true),
	GET("/sitemap.xml", R_SITEMAP, h_sitemap, true),
	GET("/sitemap-{id}.xml", R_SITEMAP_N, h_sitemap_n, true),
	{HTTP_POST, "/views/{id}", R_VIEW_BEACON, h_view, HTTP_BODY_NONE, 0,
	    NULL, false, false, 0},
	GET("/views/{id}.gif", R_VIEW_GIF, h_view, false),
	GET("/ranking", R_RANKING, h_ranking, false),
	GET("/search", R_SEARCH, h_search, false),
	/* pings from other sites: cross-origin by nature, no HTTP_RF_ORIGIN;
	 * TrackBack forms come in the sender's charset, and a refused form
	 * is answered in TrackBack's XML by the handler */
	{HTTP_POST, "/articles/{id}/trackback", R_TRACKBACK, h_trackback,
	    HTTP_BODY_FORM_CHARSET, 32768, site_trackback_fields, false, false,
	    0},
	{HTTP_POST, "/wp-trackback.php", R_WP_TRACKBACK, h_trackback,
	    HTTP_BODY_FORM_CHARSET, 32768, site_trackback_fields, false, false,
	    0},
	{HTTP_POST, "/xmlrpc", R_XMLRPC, h_xmlrpc, HTTP_BODY_RAW, 65536, NULL,
	    false, false, 0},
	{HTTP_POST, "/xmlrpc.php", R_XMLRPC, h_xmlrpc, HTTP_BODY_RAW, 65536,
	    NULL, false, false, 0},
	{HTTP_POST, "/webmention", R_WEBMENTION, h_webmention, HTTP_BODY_FORM,
	    8192, site_webmention_fields, false, false, 0},
	GET("/pages/{slugs}", R_PAGE, h_page, true),
	/* for the operator (observe.c): never cached, never rate-limited */
	GET("/metrics", R_METRICS, h_metrics, false),
	GET("/healthz", R_HEALTHZ, h_healthz, false),
	GET("/readyz", R_READYZ, h_readyz, false),
	/* links in kiji's mails (mail.c): the GET shows a button, the POST
	 * acts; signed, so no form token, and no same-origin rule: a mail
	 * client's one-click unsubscribe (RFC 8058) POSTs from elsewhere,
	 * with a body that says nothing the link does not */
	GET("/mail/confirm", R_MAIL_CONFIRM, h_mail_confirm, false),
	{HTTP_POST, "/mail/confirm", R_MAIL_CONFIRM, h_mail_confirm,
	    HTTP_BODY_RAW, 4096, NULL, false, false, 0},
	GET("/mail/unsubscribe", R_MAIL_UNSUB, h_mail_unsub, false),
	{HTTP_POST, "/mail/unsubscribe", R_MAIL_UNSUB, h_mail_unsub,
	    HTTP_BODY_RAW, 4096, NULL, false, false, 0},
};
const size_t site_nroutes = sizeof(site_routes) / sizeof(site_routes[0]);

/* ---- page cache ------------------------------------------------------------ */

/* Whether the route is a listing with pages (?page=N). Anywhere else a
 * page argument would only make copies of one answer (under as many cache
 * keys as an attacker cares to send), so it is a 404. */
static bool
site_route_paged(int id)
{
	return id == R_FRONT || id == R_CATEGORY || id == R_TAG ||
	    id == R_ARCHIVE_MONTH || id == R_SEARCH || id == R_COMMENTS;
}

/*
 * The cache key of a GET: the path, plus ?page=N when N > 1 (listings
 * only: site_handle refuses a page elsewhere, and the listing a page past
 * its last or a page not spelled canonically, so only pages that exist
 * are kept). Tracking parameters are ignored (they would only multiply
 * entries); an article's comment view (?csort=, ?cpage=: cpage_read
 * took only views that exist, spelled canonically) is its own entry, under
 * the article's tag like the page itself; any other query argument, or
 * the reader's own state, makes
 * the answer uncacheable (e.g. ?replytocom=): rendered for that request,
 * never admitted, so it neither adds an entry nor evicts one. NULL when
 * this request must not use the cache.
 */
static const char *
site_cache_key(struct req *q, const struct http_match *m)
{
	struct http_req *r = q->r;
	if ((r->method != HTTP_GET && r->method != HTTP_HEAD) ||
	    !r->route->cacheable)
		return NULL;
	const char *page = NULL;
	for (size_t i = 0; i < r->nargs; i++) {
		const char *n = r->args[i].name;
		if (strcmp(n, "page") == 0 && page == NULL)
			page = r->args[i].value;
		else if (q->cp.on && (strcmp(n, "csort") == 0 ||
		    strcmp(n, "cpage") == 0))
			continue; /* read and checked by cpage_read */
		else if (strncmp(n, "utm_", 4) != 0 && strcmp(n, "fbclid") != 0 &&
		    strcmp(n, "gclid") != 0)
			return NULL;
	}
	/* A visitor with a pending comment or likes on this article sees
	 * their own state: rendered for them, never cached. */
	if (m->id == R_ARTICLE && visitor_has_pending(q, m->num[0]))
		return NULL;
	/* a page's id is known only once its path is read: a reader with
	 * their own state anywhere gets pages rendered for them */
	if (m->id == R_PAGE && visitor_has_pending(q, 0))
		return NULL;
	const char *view = q->cp.on ? cpage_key_suffix(q) : "";
	if (*view)
		return arena_printf(r->a, "%s%s", r->path, view);
	if (page == NULL || strcmp(page, "1") == 0)
		return r->path;
	for (const char *p = page; *p; p++)
		if (*p < '0' || *p > '9' || p - page > 6)
			return NULL; /* the handler answers 404 */
	return arena_printf(r->a, "%s?page=%s", r->path, page);
}

int64_t
site_page_arg(struct req *q, const char *name)
{
	const char *p = http_req_arg(q->r, name);
	return p == NULL ? 1 : site_page_number(p);
}

/* The reader's-own-write cookie: the change seq of their last comment or
 * like, for two minutes (long enough to follow the 303 and reload). */
#define SEQ_COOKIE "kiji_w"
#define SEQ_MAX_AGE 120

void
site_mark_write(site *s, struct http_req *r, struct http_resp *w)
{
	http_resp_cookie(r, w, SEQ_COOKIE, arena_printf(r->a, "%llu",
	    (unsigned long long)site_seq(s)), SEQ_MAX_AGE);
}

uint64_t
site_reader_seq(struct req *q)
{
	const char *v = http_req_cookie(q->r, SEQ_COOKIE);
	uint64_t n = 0;
	if (v == NULL || *v == '\0' || strlen(v) > 19)
		return 0;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	/* A seq the site has not reached yet is forged (or from another
	 * database): it would only force renders, so it counts for nothing. */
	return n <= q->seq ? n : 0;
}

struct site_hold {
	cache *c;
	cache_entry *e;
};

static void
site_cache_done(void *ctx)
{
	struct site_hold *h = ctx;
	cache_release(h->c, h->e);
}

/* Answers from the cache when the page is there: no rendering, no SQL,
 * no allocation beyond the request's own. */
static bool
site_cache_serve(struct req *q, const char *key)
{
	bool bg = false;
	cache_entry *e = cache_get(q->s->cache, key, q->r->now,
	    site_reader_seq(q), q->s->refresher ? &bg : NULL);
	if (e == NULL)
		return false;
	/* This reader claimed the refresh of a page that keeps changing:
	 * the refresh thread makes it, unless it is behind (refresh.c). */
	if (bg && !refresher_submit(q->s->refresher, key)) {
		cache_release(q->s->cache, e);
		return false;
	}
	/* gzip once the page has been asked for twice (cache.c) */
	bool gz = cache_has_gzip(e) &&
	    cache_accepts_gzip(http_req_header(q->r, "Accept-Encoding"));
	bool fresh = cache_etag_match(http_req_header(q->r, "If-None-Match"),
	    cache_etag(e, gz));
	enum cache_variant v = fresh ? (gz ? CACHE_GZIP_304 : CACHE_PLAIN_304) :
	    (gz ? CACHE_GZIP : CACHE_PLAIN);
	struct site_hold *h = arena_alloc(q->r->a, sizeof(*h));
	h->c = q->s->cache;
	h->e = e;
	q->w->status = fresh ? 304 : 200;
	q->w->cache = 'h';
	q->w->shared = cache_response(e, v);
	q->w->shared_done = site_cache_done;
	q->w->shared_ctx = h;
	return true;
}

/* After a miss: keeps a 200 answer for the next readers and marks this
 * one (ETag, X-Cache: miss), answering 304 if the client has it. */
static void
site_cache_store(struct req *q, const char *key)
{
	struct http_resp *w = q->w;
	if (key == NULL || w->shared)
		return;
	if (w->status != 200 || w->body.err || w->body.len == 0) {
		/* The page is gone or moved now (404, 301...): its stale copy
		 * must not be handed to the readers behind this refresh. */
		cache_drop_stale(q->s->cache, key);
		return;
	}
	if (q->nocache)
		return;
	int64_t expires = q->r->now + q->c->num[CONF_CACHE_TTL];
	int64_t pub = site_next_publish(q->s, q->r->now);
	if (pub > q->r->now && pub < expires)
		expires = pub;
	struct cache_page p = {
		.content_type = w->content_type,
		.body = w->body.ptr,
		.len = w->body.len,
		.headers = (const char *const *)w->headers,
		.nheaders = w->nheaders,
		.tags = q->tags,
		.ntags = q->ntags,
		.expires = expires,
		.seq = q->seq,
	};
	char etag[24];
	cache_put(q->s->cache, key, &p, etag);
	http_resp_header(q->r, w, "Vary", "Accept-Encoding");
	http_resp_header(q->r, w, "X-Cache", "miss");
	site_etag(q, etag);
}

bool
site_internal_get(site *s, struct http_req *r, const char *path,
    const char *query, int64_t now, arena *a)
{
	*r = (struct http_req){
		.method = HTTP_GET,
		.path = path,
		.query = query ? query : "",
		.body = "",
		.content_type = "",
		.ip = "127.0.0.1",
		.peer_ip = "127.0.0.1",
		.now = now,
		.a = a,
		.minor = 1,
	};
	r->route = http_route(s->routes, s->nroutes, r->method, path, a,
	    &r->match);
	if (r->route == NULL)
		return false;
	return *r->query == '\0' || http_parse_urlencoded(r->query,
	    strlen(r->query), a, 4, &r->args, &r->nargs);
}

/* 404/405 for unmatched requests, the page cache for cacheable ones,
 * else the route's handler (whose cacheable answer is then kept); a
 * refresh (refresh.c) always renders. */
static void
site_handle_as(site *s, struct http_req *r, struct http_resp *w, bool refresh)
{
	struct req q = {.s = s, .r = r, .w = w, .refresh = refresh};
	/* A write is judged by the settings as they are now: `kiji config
	 * set` (NG words, moderation) applies to the very next comment. */
	q.c = site_conf_as(q.s, r->method == HTTP_GET || r->method ==
	    HTTP_HEAD ? SYNC_LAZY : SYNC_LOOK);
	q.seq = site_seq(q.s); /* after site_conf's sync: what this render sees */
	q.lang = msg_lang_of(q.c->str[CONF_LANG]);
	site_recent_tick(&q); /* before the cache: it may mark pages stale */
	const struct http_match *m = &r->match;
	if (r->route == NULL) {
		if (m->method_mismatch) {
			http_resp_header(r, w, "Allow", "GET, HEAD, POST");
			site_error(&q, 405);
		} else {
			site_error(&q, 404);
		}
		return;
	}
	if ((r->route->flags & HTTP_RF_ORIGIN) && !http_same_origin(r,
	    q.c->str[CONF_BASE_URL], q.c->str[CONF_ORIGIN_ALLOW], false)) {
		site_refuse_cross_origin(&q);
		return;
	}
	if (((r->route->flags & HTTP_RF_ORIGIN) && m->id < ADMIN_ROUTE_BASE) ||
	    m->id == R_API_COMMENTS)
		site_cors(&q); /* a static copy's scripts (kiji render) */
	/* The editor area: its own checks, never cached. */
	if (r->route->id >= ADMIN_ROUTE_BASE) {
		admin_handle(q.s->admin, r, w);
		return;
	}
	/* WordPress's /?p=ID and friends, never the (cached) front page */
	if (m->id == R_FRONT && r->nargs > 0 && site_legacy_query(&q))
		return;
	if (r->route->method == HTTP_GET && !site_route_paged(m->id) &&
	    http_req_arg(r, "page") != NULL) {
		site_error(&q, 404);
		return;
	}
	/* ?csort= / ?cpage=: a view that exists, spelled one way (cpage.c) */
	if (m->id == R_ARTICLE && r->route->method == HTTP_GET &&
	    !cpage_read(&q))
		return;
	const char *key = site_cache_key(&q, m);
	if (key && !q.refresh && site_cache_serve(&q, key))
		return;
	q.cached = key != NULL && q.c->num[CONF_CACHE_BYTES] > 0;
	/* A page is rendered from one state of the store: an article's
	 * comment count and its comments are separate reads, and a comment
	 * committed between them gave a page (cached, or served stale) whose
	 * count disagreed with the comments shown. Deferred: the snapshot
	 * starts at the handler's first read, after q.seq was taken. These
	 * handlers only read. */
	bool snap = r->route->cacheable &&
	    store_snapshot_begin(q.s->st) == STORE_OK;
	r->route->fn(&q, m);
	site_export_note(&q);
	if (key != NULL)
		w->cache = 'm';
	if (snap)
		store_snapshot_end(q.s->st);
	site_cache_store(&q, key);
#ifdef KIJI_TEST_HOOKS
	/* Test builds: the page cache's counters, for tests that check an
	 * attack adds and evicts nothing (never in a release build). */
	if (m->id == R_ROBOTS) {
		struct cache_stats cs;
		cache_stats(q.s->cache, &cs);
		http_resp_header(r, w, "X-Test-Cache", arena_printf(r->a,
		    "entries=%zu puts=%llu evictions=%llu", cs.entries,
		    (unsigned long long)cs.puts,
		    (unsigned long long)cs.evictions));
	}
#endif
}

/* The one handler the HTTP core calls: 404/405 for unmatched requests,
 * the page cache for cacheable ones, else the route's handler (whose
 * cacheable answer is then kept). */
void
site_handle(void *ctx, struct http_req *r, struct http_resp *w)
{
	site_handle_as(ctx, r, w, false);
}

void
site_handle_refresh(site *s, struct http_req *r, struct http_resp *w)
{
	site_handle_as(s, r, w, true);
}
