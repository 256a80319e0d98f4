/*
 * The web site: routing, per-request context, the theme (templates and
 * static files), settings snapshots, error pages. Page handlers live in
 * pages.c; they share the helpers declared in site_int.h.
 */
#include "site_int.h"

#include <dirent.h>
#include <malloc.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "embed.h"

static const struct http_route site_routes[] = {
	{HTTP_GET, "/", R_FRONT},
	{HTTP_GET, "/articles/{id}", R_ARTICLE},
	{HTTP_GET, "/category/{slug}", R_CATEGORY},
	{HTTP_GET, "/tag/{slug}", R_TAG},
	{HTTP_GET, "/static/{*}", R_STATIC},
	{HTTP_GET, "/media/{*}", R_MEDIA},
	{HTTP_GET, "/robots.txt", R_ROBOTS},
	{HTTP_POST, "/articles/{id}/comments", R_POST_COMMENT},
	{HTTP_POST, "/comments/{id}/like", R_LIKE},
	{HTTP_POST, "/comments/{id}/unlike", R_UNLIKE},
	{HTTP_GET, "/api/articles/{id}/comments", R_API_COMMENTS},
	{HTTP_POST, "/api/articles/{id}/comments", R_API_POST_COMMENT},
	{HTTP_GET, "/articles/{id}/feed", R_COMMENT_FEED},
	{HTTP_GET, "/archive/{id}/{slug}", R_ARCHIVE_MONTH},
	{HTTP_GET, "/feed", R_FEED_RSS},
	{HTTP_GET, "/feed/atom", R_FEED_ATOM},
	{HTTP_GET, "/category/{slug}/feed", R_CAT_FEED_RSS},
	{HTTP_GET, "/category/{slug}/feed/atom", R_CAT_FEED_ATOM},
	{HTTP_GET, "/sitemap.xml", R_SITEMAP},
	{HTTP_GET, "/sitemap-{id}.xml", R_SITEMAP_N},
	{HTTP_POST, "/views/{id}", R_VIEW_BEACON},
	{HTTP_GET, "/views/{id}.gif", R_VIEW_GIF},
	{HTTP_GET, "/ranking", R_RANKING},
	{HTTP_GET, "/search", R_SEARCH},
};

/* Content type by file extension, for static and media files. */
const char *
site_mime(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{".css", "text/css; charset=utf-8"},
		{".js", "text/javascript; charset=utf-8"},
		{".svg", "image/svg+xml"},
		{".png", "image/png"},
		{".jpg", "image/jpeg"},
		{".jpeg", "image/jpeg"},
		{".gif", "image/gif"},
		{".webp", "image/webp"},
		{".ico", "image/x-icon"},
		{".txt", "text/plain; charset=utf-8"},
		{".json", "application/json"},
		{".woff2", "font/woff2"},
	};
	const char *dot = strrchr(path, '.');
	if (dot != NULL)
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

/* Adds one theme file (templates/x.html or static/y) from memory. */
static bool
site_theme_file(site *s, const char *path, const void *data, size_t len,
    buf *err)
{
	if (strncmp(path, "templates/", 10) == 0) {
		const char *name = path + 10;
		const char *dot = strrchr(name, '.');
		if (dot == NULL)
			return true;
		char tname[128];
		size_t n = (size_t)(dot - name);
		if (n >= sizeof(tname))
			return true;
		memcpy(tname, name, n);
		tname[n] = '\0';
		bool xml = strcmp(dot, ".xml") == 0;
		if (!xml && strcmp(dot, ".html") != 0)
			return true;
		return tmpl_add(&s->tmpl, tname, data, len, xml, err);
	}
	if (strncmp(path, "static/", 7) == 0) {
		s->statics = xrealloc(s->statics,
		    (s->nstatics + 1) * sizeof(*s->statics));
		struct site_static *f = &s->statics[s->nstatics++];
		f->name = xstrdup(path + 7);
		f->data = xmalloc(len + 1);
		memcpy(f->data, data, len);
		f->data[len] = '\0';
		f->len = len;
		f->type = site_mime(path);
		snprintf(f->etag, sizeof(f->etag), "\"%016llx\"",
		    (unsigned long long)cache_hash(data, len));
	}
	return true;
}

/* Reads every file of dir/sub into the theme. */
static bool
site_theme_dir(site *s, const char *dir, const char *sub, buf *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	DIR *d = opendir(path);
	if (d == NULL) {
		buf_printf(err, "%s: %s", path, strerror(errno));
		return false;
	}
	bool ok = true;
	struct dirent *e;
	while (ok && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char file[4096 + 256];
		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		FILE *f = fopen(file, "rb");
		if (f == NULL)
			continue;
		buf b;
		buf_init(&b, 16 << 20);
		char chunk[8192];
		size_t n;
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_put(&b, chunk, n);
		fclose(f);
		char rel[512];
		snprintf(rel, sizeof(rel), "%s/%s", sub, e->d_name);
		ok = !b.err && site_theme_file(s, rel, buf_cstr(&b), b.len, err);
		buf_free(&b);
	}
	closedir(d);
	return ok;
}

/* Swaps in a new settings snapshot when the stored settings changed. */
static void
site_conf_refresh(site *s)
{
	struct site_conf *c = conf_load(s->st);
	pthread_mutex_lock(&s->mu);
	bool same = s->conf != NULL;
	for (int k = 0; same && k < CONF__MAX; k++)
		same = strcmp(c->str[k], s->conf->str[k]) == 0;
	if (same) {
		pthread_mutex_unlock(&s->mu);
		conf_free(c);
		return;
	}
	/* Requests in flight may still read the old snapshot; it is kept
	 * until site_free. Settings change rarely, so this stays small. */
	if (s->conf != NULL) {
		s->retired = xrealloc(s->retired,
		    (s->nretired + 1) * sizeof(*s->retired));
		s->retired[s->nretired++] = s->conf;
	}
	if (s->ng != NULL) {
		s->retired_ng = xrealloc(s->retired_ng,
		    (s->nretired_ng + 1) * sizeof(*s->retired_ng));
		s->retired_ng[s->nretired_ng++] = s->ng;
	}
	s->ng = *c->str[CONF_NGWORDS] ? guard_ngwords_new(c->str[CONF_NGWORDS]) :
	    NULL;
	guard_limiter_set(s->lim_comment, (double)c->num[CONF_COMMENT_RATE],
	    (double)c->num[CONF_COMMENT_BURST]);
	guard_limiter_set(s->lim_like, (double)c->num[CONF_LIKE_RATE],
	    (double)c->num[CONF_LIKE_BURST]);
	if (!text_tz_set(c->str[CONF_TIMEZONE]))
		fprintf(stderr, "kiji: unknown time zone %s, keeping the old one\n",
		    c->str[CONF_TIMEZONE]);
	s->conf = c;
	s->ranking_at = 0; /* ranking settings may have changed */
	cache_set_budget(s->cache, (size_t)c->num[CONF_CACHE_BYTES]);
	cache_purger_set_url(s->purger, c->str[CONF_PURGE_URL]);
	pthread_mutex_unlock(&s->mu);
}

site *
site_new(store *st, const char *theme_dir, buf *err)
{
	/* Every request allocates and frees its arena and page buffer; keep
	 * that memory in the process instead of giving it back to the kernel
	 * and faulting it in again on the next request. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	site *s = xcalloc(1, sizeof(*s));
	s->st = st;
	pthread_mutex_init(&s->mu, NULL);
	if (!guard_secret_load(st, s->key)) {
		buf_puts(err, "cannot read or create the site secret");
		goto err;
	}
	/* Rates are set from the settings in site_conf_refresh. */
	s->lim_comment = guard_limiter_new(0, 1, 65536);
	s->lim_like = guard_limiter_new(0, 1, 65536);
	pthread_mutex_init(&s->sync_mu, NULL);
	s->cache = cache_new(0); /* budget from the settings below */
	s->purger = cache_purger_new();
	cache_set_purger(s->cache, s->purger);
	s->next_publish = -1;
	if (store_changes_last(st, &s->change_seq) != STORE_OK) {
		buf_puts(err, "cannot read the change log");
		goto err;
	}
	s->pruned_seq = s->change_seq;
	s->writer = writer_new(st);
	if (theme_dir != NULL) {
		if (!site_theme_dir(s, theme_dir, "templates", err) ||
		    !site_theme_dir(s, theme_dir, "static", err))
			goto err;
	} else {
		for (const struct embed_file *f = embed_files; f->path; f++)
			if (!site_theme_file(s, f->path, f->data, f->len, err))
				goto err;
	}
	if (s->tmpl == NULL || !tmpl_has(s->tmpl, "article")) {
		buf_puts(err, "theme has no article template");
		goto err;
	}
	uint64_t v = 0;
	for (size_t i = 0; i < s->nstatics; i++)
		v ^= cache_hash(s->statics[i].etag, strlen(s->statics[i].etag)) + i;
	snprintf(s->static_v, sizeof(s->static_v), "%08llx",
	    (unsigned long long)(v & 0xffffffffu));
	site_conf_refresh(s);
	s->views = site_views_new(s);
	return s;
err:
	site_free(s);
	return NULL;
}

void
site_free(site *s)
{
	if (s == NULL)
		return;
	/* First: its thread reads the settings, and its last flush the store. */
	site_views_free(s->views);
	tmpl_free(s->tmpl);
	for (size_t i = 0; i < s->nstatics; i++) {
		free(s->statics[i].name);
		free(s->statics[i].data);
	}
	free(s->statics);
	conf_free(s->conf);
	for (size_t i = 0; i < s->nretired; i++)
		conf_free(s->retired[i]);
	free(s->retired);
	site_ranking_free(s);
	guard_ngwords_free(s->ng);
	for (size_t i = 0; i < s->nretired_ng; i++)
		guard_ngwords_free(s->retired_ng[i]);
	free(s->retired_ng);
	writer_free(s->writer);
	cache_free(s->cache);
	cache_purger_free(s->purger);
	pthread_mutex_destroy(&s->sync_mu);
	guard_limiter_free(s->lim_comment);
	guard_limiter_free(s->lim_like);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void
site_quiesce(site *s)
{
	if (s != NULL)
		writer_stop(s->writer);
}

void
site_http_config(site *s, struct http_config *cfg)
{
	const struct site_conf *c = s->conf;
	cfg->threads = (unsigned)c->num[CONF_HTTP_THREADS];
	cfg->conn_timeout = (unsigned)c->num[CONF_HTTP_TIMEOUT];
	cfg->per_ip_limit = (unsigned)c->num[CONF_HTTP_PER_IP];
	cfg->max_body = (size_t)c->num[CONF_HTTP_MAX_BODY];
	cfg->max_fields = 64;
	cfg->max_field_len = (size_t)c->num[CONF_HTTP_MAX_BODY];
	cfg->trusted_proxies = c->str[CONF_TRUSTED_PROXIES];
}

/*
 * Reads the change log when this thread's connection saw another
 * connection commit (PRAGMA data_version), or when forced after this
 * thread's own write, and invalidates exactly what changed: a comment
 * drops the article's page and the listings showing its count; a like
 * only the article's page; an article or setting change everything.
 */
void
site_sync(site *s, bool force)
{
	static _Thread_local int64_t seen = -1;
	int64_t v = store_data_version(s->st);
	if (!force && v == seen)
		return;
	seen = v;
	bool settings = false;
	arena *a = arena_new(0);
	pthread_mutex_lock(&s->sync_mu);
	for (;;) {
		struct store_change *ch;
		size_t n = 0;
		if (store_changes_since(s->st, s->change_seq, 1024, a, &ch, &n) !=
		    STORE_OK || n == 0)
			break;
		for (size_t i = 0; i < n; i++) {
			switch (ch[i].kind) {
			case CHANGE_COMMENT:
				cache_invalidate(s->cache, TAG_ARTICLE(ch[i].article_id));
				cache_invalidate(s->cache, TAG_LISTED(ch[i].article_id));
				break;
			case CHANGE_LIKE:
				cache_invalidate(s->cache, TAG_ARTICLE(ch[i].article_id));
				break;
			case CHANGE_SETTINGS:
				settings = true;
				/* fall through */
			case CHANGE_ARTICLE:
			case CHANGE_ALL:
			case CHANGE__MAX:
				/* Titles, order and visibility show on every page
				 * (prev/next, related, ranking, listings). */
				cache_clear(s->cache);
				cache_purger_all(s->purger);
				s->next_publish = -1;
				break;
			}
		}
		s->change_seq = ch[n - 1].seq;
		arena_reset(a);
		if (n < 1024)
			break;
	}
	/* Keep the log short; the server is its only reader. */
	if (s->change_seq - s->pruned_seq > 4096 &&
	    store_changes_prune(s->st, s->change_seq) == STORE_OK)
		s->pruned_seq = s->change_seq;
	pthread_mutex_unlock(&s->sync_mu);
	arena_free(a);
	if (settings)
		site_conf_refresh(s);
}

/* The current settings snapshot (rebuilt by site_sync on change). */
static const struct site_conf *
site_conf(site *s)
{
	site_sync(s, false);
	pthread_mutex_lock(&s->mu);
	const struct site_conf *c = s->conf;
	pthread_mutex_unlock(&s->mu);
	return c;
}

void
site_tag(struct req *q, int64_t tag)
{
	if (q->ntags < sizeof(q->tags) / sizeof(q->tags[0]))
		q->tags[q->ntags++] = tag;
	else
		q->nocache = true; /* would be invalidated imprecisely */
}

/* When cached pages must be rebuilt because a scheduled article goes
 * live; recomputed after article changes and once it has passed. */
static int64_t
site_next_publish(site *s, int64_t now)
{
	pthread_mutex_lock(&s->sync_mu);
	if (s->next_publish < 0 || (s->next_publish && s->next_publish <= now)) {
		int64_t t = 0;
		if (store_next_publish(s->st, now, &t) != STORE_OK)
			t = now + 60;
		s->next_publish = t;
	}
	int64_t t = s->next_publish;
	pthread_mutex_unlock(&s->sync_mu);
	return t;
}

/* The NG-word list of the current settings (NULL when empty). */
const guard_ngwords *
site_ngwords(struct req *q)
{
	pthread_mutex_lock(&q->s->mu);
	const guard_ngwords *ng = q->s->ng;
	pthread_mutex_unlock(&q->s->mu);
	return ng;
}

const char *
site_msg(const struct req *q, enum msg_id id)
{
	return msg_get(q->lang, id);
}

/* Absolute URL of a site path, from the base_url setting (never Host). */
const char *
site_abs(const struct req *q, const char *path)
{
	return arena_printf(q->r->a, "%s%s", q->c->str[CONF_BASE_URL], path);
}

/* Renders template name with root into the response body. */
void
site_render(struct req *q, const char *name, int status)
{
	site_render_as(q, name, status, "text/html; charset=utf-8");
}

void
site_render_as(struct req *q, const char *name, int status, const char *type)
{
	q->w->status = status;
	q->w->content_type = type;
	buf_reset(&q->w->body);
	/* Most pages are tens of KB: one allocation, not eight doublings. */
	buf_reserve(&q->w->body, 128 << 10);
	if (!tmpl_render(q->s->tmpl, name, q->root, &q->w->body) ||
	    q->w->body.err) {
		fprintf(stderr, "kiji: rendering %s failed\n", name);
		buf_reset(&q->w->body);
		q->w->status = 500;
		q->w->content_type = "text/plain; charset=utf-8";
		buf_puts(&q->w->body, "500 内部エラー\n");
	}
}

/* A Japanese error page (404, 400, 405 ...) in the site's layout. */
void
site_error(struct req *q, int status)
{
	enum msg_id title = MSG_NOT_FOUND, text = MSG_NOT_FOUND_TEXT;
	if (status == 429) {
		title = MSG_TOO_MANY;
		text = MSG_TOO_MANY_TEXT;
	} else if (status >= 500) {
		title = MSG_UNAVAILABLE;
		text = MSG_UNAVAILABLE_TEXT;
	} else if (status != 404) {
		title = MSG_BAD_REQUEST;
		text = MSG_BAD_REQUEST_TEXT;
	}
	arena *a = q->r->a;
	site_view_base(q, site_msg(q, title), NULL);
	tv *e = tv_set(q->root, "error", tv_dict(a));
	tv_set_int(a, e, "status", status);
	tv_set_str(a, e, "title", site_msg(q, title));
	tv_set_str(a, e, "text", site_msg(q, text));
	/* No canonical URL: an error page is nobody's canonical form. */
	tv_set_str(a, q->root, "description", site_msg(q, text));
	tv_set_bool(a, q->root, "noindex", true);
	http_resp_header(q->r, q->w, "Cache-Control", "no-store");
	site_render(q, "error", status);
}

/*
 * Sends etag and, when the client's If-None-Match holds it (a list, weak
 * or "*" as HTTP allows), turns the answer into an empty 304 and returns
 * true. The one conditional-GET check for static files, media, feeds and
 * pages.
 */
bool
site_etag(struct req *q, const char *etag)
{
	http_resp_header(q->r, q->w, "ETag", etag);
	if (!cache_etag_match(http_req_header(q->r, "If-None-Match"), etag))
		return false;
	q->w->status = 304;
	buf_reset(&q->w->body);
	return true;
}

/* Serves a compiled-in (or theme folder) static file. */
static void
site_static(struct req *q, const char *name)
{
	for (size_t i = 0; i < q->s->nstatics; i++) {
		struct site_static *f = &q->s->statics[i];
		if (strcmp(f->name, name) != 0)
			continue;
		http_resp_header(q->r, q->w, "Cache-Control",
		    "public, max-age=86400");
		if (site_etag(q, f->etag))
			return;
		q->w->status = 200;
		q->w->content_type = f->type;
		buf_put(&q->w->body, f->data, f->len);
		return;
	}
	site_error(q, 404);
}

/* Serves an image stored in the database. */
static void
site_media(struct req *q, const char *name)
{
	const char *type;
	const void *data;
	size_t n;
	int64_t mtime;
	for (const char *p = name; *p; p++)
		if (!(((*p | 32) >= 'a' && (*p | 32) <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
		    *p == '_')) {
			site_error(q, 404);
			return;
		}
	if (store_media_get(q->s->st, name, q->r->a, &type, &data, &n,
	    &mtime) != STORE_OK) {
		site_error(q, 404);
		return;
	}
	char etag[40];
	snprintf(etag, sizeof(etag), "\"m%llx-%zx\"", (unsigned long long)mtime, n);
	http_resp_header(q->r, q->w, "Cache-Control", "public, max-age=86400");
	/* SVG is a document: no scripts, even if one slipped in. */
	http_resp_header(q->r, q->w, "Content-Security-Policy",
	    "default-src 'none'; style-src 'unsafe-inline'; sandbox");
	if (site_etag(q, etag))
		return;
	q->w->status = 200;
	q->w->content_type = type;
	buf_put(&q->w->body, data, n);
}

static void
site_robots(struct req *q)
{
	q->w->content_type = "text/plain; charset=utf-8";
	/* /views/ is the page-view beacon: nothing for crawlers to read. */
	buf_printf(&q->w->body, "User-agent: *\nDisallow: /admin/\n"
	    "Disallow: /views/\n\nSitemap: %s\n", site_abs(q, "/sitemap.xml"));
}

/* ---- page cache ------------------------------------------------------------ */

/* Routes whose GET answers are the same for every visitor. */
static bool
site_route_cacheable(int id)
{
	switch (id) {
	case R_FRONT:
	case R_ARTICLE:
	case R_CATEGORY:
	case R_TAG:
	case R_COMMENT_FEED:
	case R_ARCHIVE_MONTH:
	case R_FEED_RSS:
	case R_FEED_ATOM:
	case R_CAT_FEED_RSS:
	case R_CAT_FEED_ATOM:
	case R_SITEMAP:
	case R_SITEMAP_N:
		return true;
	default:
		return false;
	}
}

/*
 * The cache key of a GET: the path, plus ?page=N when N > 1. Tracking
 * parameters are ignored (they would only multiply entries); any other
 * query argument makes the answer uncacheable (e.g. ?replytocom=). NULL
 * when this request must not use the cache.
 */
static const char *
site_cache_key(struct req *q, const struct http_match *m)
{
	struct http_req *r = q->r;
	if ((r->method != HTTP_GET && r->method != HTTP_HEAD) ||
	    !site_route_cacheable(m->id))
		return NULL;
	const char *page = NULL;
	for (size_t i = 0; i < r->nargs; i++) {
		const char *n = r->args[i].name;
		if (strcmp(n, "page") == 0 && page == NULL)
			page = r->args[i].value;
		else if (strncmp(n, "utm_", 4) != 0 && strcmp(n, "fbclid") != 0 &&
		    strcmp(n, "gclid") != 0)
			return NULL;
	}
	/* A visitor with a pending comment or likes on this article sees
	 * their own state: rendered for them, never cached. */
	if (m->id == R_ARTICLE && visitor_has_pending(q, m->num[0]))
		return NULL;
	if (page == NULL || strcmp(page, "1") == 0)
		return r->path;
	for (const char *p = page; *p; p++)
		if (*p < '0' || *p > '9' || p - page > 6)
			return NULL; /* the handler answers 404 */
	return arena_printf(r->a, "%s?page=%s", r->path, page);
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
	cache_entry *e = cache_get(q->s->cache, key, q->r->now);
	if (e == NULL)
		return false;
	bool gz = cache_accepts_gzip(http_req_header(q->r, "Accept-Encoding"));
	bool fresh = cache_etag_match(http_req_header(q->r, "If-None-Match"),
	    cache_etag(e, gz));
	enum cache_variant v = fresh ? (gz ? CACHE_GZIP_304 : CACHE_PLAIN_304) :
	    (gz ? CACHE_GZIP : CACHE_PLAIN);
	struct site_hold *h = arena_alloc(q->r->a, sizeof(*h));
	h->c = q->s->cache;
	h->e = e;
	q->w->status = fresh ? 304 : 200;
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
	if (key == NULL || q->nocache || w->status != 200 || w->shared ||
	    w->body.err || w->body.len == 0)
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
	};
	char etag[24];
	cache_put(q->s->cache, key, &p, etag);
	http_resp_header(q->r, w, "Vary", "Accept-Encoding");
	http_resp_header(q->r, w, "X-Cache", "miss");
	site_etag(q, etag);
}

void
site_handle(void *ctx, struct http_req *r, struct http_resp *w)
{
	struct req q = {.s = ctx, .r = r, .w = w};
	q.c = site_conf(q.s);
	q.lang = msg_lang_of(q.c->str[CONF_LANG]);
	struct http_match m;
	if (!http_route(site_routes, sizeof(site_routes) / sizeof(site_routes[0]),
	    r->method, r->path, r->a, &m)) {
		if (m.method_mismatch) {
			http_resp_header(r, w, "Allow", "GET, HEAD, POST");
			site_error(&q, 405);
		} else {
			site_error(&q, 404);
		}
		return;
	}
	const char *key = site_cache_key(&q, &m);
	if (key && site_cache_serve(&q, key))
		return;
	q.cached = key != NULL && q.c->num[CONF_CACHE_BYTES] > 0;
	switch ((enum site_route)m.id) {
	case R_FRONT:
		site_page_listing(&q, LIST_FRONT, NULL);
		break;
	case R_ARTICLE:
		site_page_article(&q, m.num[0]);
		break;
	case R_CATEGORY:
		site_page_listing(&q, LIST_CATEGORY, m.str[0]);
		break;
	case R_TAG:
		site_page_listing(&q, LIST_TAG, m.str[0]);
		break;
	case R_STATIC:
		site_static(&q, m.str[0]);
		break;
	case R_MEDIA:
		site_media(&q, m.str[0]);
		break;
	case R_ROBOTS:
		site_robots(&q);
		break;
	case R_POST_COMMENT:
		site_post_comment(&q, m.num[0]);
		break;
	case R_LIKE:
	case R_UNLIKE:
		site_post_like(&q, m.num[0], m.id == R_LIKE);
		break;
	case R_API_COMMENTS:
		site_api_comments(&q, m.num[0]);
		break;
	case R_API_POST_COMMENT:
		site_api_post_comment(&q, m.num[0]);
		break;
	case R_COMMENT_FEED:
		site_comment_feed(&q, m.num[0]);
		break;
	case R_ARCHIVE_MONTH:
		site_page_listing(&q, LIST_MONTH, arena_printf(r->a, "%lld/%s",
		    (long long)m.num[0], m.str[0]));
		break;
	case R_FEED_RSS:
	case R_FEED_ATOM:
		site_feed(&q, NULL, m.id == R_FEED_ATOM);
		break;
	case R_CAT_FEED_RSS:
	case R_CAT_FEED_ATOM:
		site_feed(&q, m.str[0], m.id == R_CAT_FEED_ATOM);
		break;
	case R_SITEMAP:
		site_sitemap(&q, 0);
		break;
	case R_SITEMAP_N:
		if (m.num[0] == 0)
			site_error(&q, 404); /* files count from 1 */
		else
			site_sitemap(&q, m.num[0]);
		break;
	case R_VIEW_BEACON:
	case R_VIEW_GIF:
		site_view_beacon(&q, m.num[0], m.id == R_VIEW_GIF);
		break;
	case R_RANKING:
		site_page_ranking(&q);
		break;
	case R_SEARCH:
		site_page_search(&q);
		break;
	case R__MAX:
		site_error(&q, 404);
		break;
	}
	site_cache_store(&q, key);
}
