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
#include <time.h>
#include <unistd.h>

#include "embed.h"

/* HTTP workers per core when the store is a database server (http.threads
 * 0): each waits out its statements' round trips. */
#define SITE_REMOTE_THREADS_PER_CORE 8

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
site_theme_file(struct site_theme *s, const char *path, const void *data,
    size_t len, buf *err)
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
site_theme_dir(struct site_theme *s, const char *dir, const char *sub,
    buf *err)
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

static void
site_theme_free(struct site_theme *t)
{
	if (t == NULL)
		return;
	tmpl_free(t->tmpl);
	for (size_t i = 0; i < t->nstatics; i++) {
		free(t->statics[i].name);
		free(t->statics[i].data);
	}
	free(t->statics);
	free(t);
}

/* A theme from dir (NULL: the compiled-in files), checked for the
 * templates the site and the editor area cannot do without. */
static struct site_theme *
site_theme_load(const char *dir, buf *err)
{
	static const char *const need[] = {"article", "admin_head",
	    "admin_login", "admin_error", "admin_dashboard"};
	struct site_theme *t = xcalloc(1, sizeof(*t));
	atomic_init(&t->refs, 1);
	if (dir != NULL) {
		if (!site_theme_dir(t, dir, "templates", err) ||
		    !site_theme_dir(t, dir, "static", err))
			goto err;
	} else {
		for (const struct embed_file *f = embed_files; f->path; f++)
			if (!site_theme_file(t, f->path, f->data, f->len, err))
				goto err;
	}
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (t->tmpl == NULL || !tmpl_has(t->tmpl, need[i])) {
			buf_printf(err, "theme has no %s template", need[i]);
			goto err;
		}
	static _Atomic uint64_t gens;
	t->gen = atomic_fetch_add(&gens, 1) + 1;
	t->boxes = tmpl_has(t->tmpl, "comment_box");
	return t;
err:
	site_theme_free(t);
	return NULL;
}

struct site_theme *
site_theme_get(site *s)
{
	pthread_mutex_lock(&s->theme_mu);
	struct site_theme *t = s->theme;
	atomic_fetch_add(&t->refs, 1);
	pthread_mutex_unlock(&s->theme_mu);
	return t;
}

void
site_theme_put(struct site_theme *t)
{
	if (t != NULL && atomic_fetch_sub(&t->refs, 1) == 1)
		site_theme_free(t);
}

bool
site_tmpl_render(site *s, const char *name, const tv *root, buf *out)
{
	struct site_theme *t = site_theme_get(s);
	bool ok = tmpl_render(t->tmpl, name, root, out);
	site_theme_put(t);
	return ok;
}

/* The static files' version (?v= on their URLs) of theme t, kept. */
static void
site_static_v_set(site *s, const struct site_theme *t)
{
	uint64_t v = 0;
	for (size_t i = 0; i < t->nstatics; i++)
		v ^= cache_hash(t->statics[i].etag, strlen(t->statics[i].etag)) + i;
	char *sv = xmalloc(16);
	snprintf(sv, 16, "%08llx", (unsigned long long)(v & 0xffffffffu));
	const char *cur = atomic_load(&s->static_v);
	if (cur != NULL && strcmp(cur, sv) == 0) {
		free(sv);
		return;
	}
	s->static_vs = xrealloc(s->static_vs,
	    (s->nstatic_vs + 1) * sizeof(*s->static_vs));
	s->static_vs[s->nstatic_vs++] = sv;
	atomic_store(&s->static_v, sv);
}

bool
site_theme_reload(site *s, buf *err)
{
	struct site_theme *t = site_theme_load(s->theme_dir, err);
	if (t == NULL)
		return false;
	pthread_mutex_lock(&s->theme_mu);
	struct site_theme *old = s->theme;
	s->theme = t;
	site_static_v_set(s, t); /* one reloader at a time: under the lock */
	pthread_mutex_unlock(&s->theme_mu);
	site_theme_put(old); /* freed once the last request lets it go */
	/* pages made with the old templates are stale now */
	cache_clear(s->cache);
	cache_purger_all(s->purger);
	return true;
}

/* Swaps in a new settings snapshot when the stored settings changed. */
void
site_conf_refresh(site *s)
{
	struct site_conf *c = conf_load(s->st);
	site_export_conf(s, c); /* kiji render's base URL, no page cache */
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
	guard_limiter_set(s->lim_view, (double)c->num[CONF_VIEW_RATE],
	    (double)c->num[CONF_VIEW_BURST]);
	guard_limiter_set(s->lim_visitor, (double)c->num[CONF_VISITOR_RATE],
	    (double)c->num[CONF_VISITOR_BURST]);
	if (!text_tz_set(c->str[CONF_TIMEZONE]))
		obs_warn("unknown time zone %s, keeping the old one",
		    c->str[CONF_TIMEZONE]);
	site_obs_conf(s, c);
	s->conf = c;
	s->ranking_at = 0; /* ranking settings may have changed */
	cache_set_budget(s->cache, (size_t)c->num[CONF_CACHE_BYTES]);
	cache_set_coalesce(s->cache, c->num[CONF_CACHE_COALESCE]);
	cache_set_hold_min_ms(s->cache, c->num[CONF_CACHE_HOLD_MIN]);
	cache_purger_set_url(s->purger, c->str[CONF_PURGE_URL]);
	pthread_mutex_unlock(&s->mu);
}

/* ---- the editor area's hooks: what admin/ needs from the site ---------- */

/* The editor then sees their change on the public pages at once (never
 * a stale copy while another reader's refresh is in flight). */
static void
site_admin_changed(void *ctx, struct http_req *r, struct http_resp *w)
{
	site_sync(ctx, SYNC_FORCE);
	site_mark_write(ctx, r, w);
}

static void
site_admin_conf(void *ctx, struct admin_conf *out)
{
	site *s = ctx;
	const struct site_conf *c = site_conf(s);
	*out = (struct admin_conf){
		.base_url = c->str[CONF_BASE_URL],
		.lang = c->str[CONF_LANG],
		.origin_allow = c->str[CONF_ORIGIN_ALLOW],
		.site_title = c->str[CONF_TITLE],
		.static_v = atomic_load(&s->static_v),
		.session_idle = c->num[CONF_SESSION_IDLE] * 60,
		.session_max = c->num[CONF_SESSION_MAX] * 3600,
		.timezone = c->str[CONF_TIMEZONE],
		.authors_publish = c->str[CONF_AUTHORS_PUBLISH][0] == '1',
		.upload_max = c->num[CONF_UPLOAD_MAX],
	};
}

/* The editor's preview: art through the public article template. */
static void
site_admin_preview(void *ctx, const struct store_article *art,
    struct http_req *r, struct http_resp *w)
{
	struct req q = {.s = ctx, .r = r, .w = w};
	q.c = site_conf(q.s);
	q.lang = msg_lang_of(q.c->str[CONF_LANG]);
	site_page_preview(&q, art);
}

/* Setting i as `kiji config list` shows it (conf_defs order). */
static bool
site_admin_setting(void *ctx, size_t i, struct admin_setting *out)
{
	if (i >= CONF__MAX)
		return false;
	const struct site_conf *c = site_conf(ctx);
	const struct conf_def *d = &conf_defs[i];
	*out = (struct admin_setting){
		.key = d->key,
		.value = c->str[i],
		.def = d->def,
		.help = d->help,
		.choices = d->type == CONF_ENUM ? d->choices : NULL,
		.number = d->type == CONF_INT,
		.secret = conf_secret((enum conf_key)i),
		.min = d->min,
		.max = d->max,
	};
	return true;
}

/* The rules of `kiji config set` (conf_valid), nothing stored. */
static bool
site_admin_setting_check(void *ctx, const char *key, const char *value,
    buf *why)
{
	(void)ctx;
	enum conf_key k = conf_find(key);
	if (k == CONF__MAX) {
		buf_puts(why, "unknown key");
		return false;
	}
	return conf_valid(k, value, why);
}

/* The rules of `kiji config set` (conf_valid), then the store; the
 * server's snapshot is refreshed before the answer goes out. */
static bool
site_admin_setting_set(void *ctx, const char *key, const char *value, buf *why)
{
	site *s = ctx;
	enum conf_key k = conf_find(key);
	if (k == CONF__MAX) {
		buf_puts(why, "unknown key");
		return false;
	}
	if (!conf_valid(k, value, why))
		return false;
	if (store_setting_set(s->st, key, value) != STORE_OK) {
		buf_puts(why, "could not save");
		return false;
	}
	site_sync(s, SYNC_FORCE);
	return true;
}

static bool
site_admin_render(void *ctx, const char *name, const tv *root, buf *out)
{
	return site_tmpl_render(ctx, name, root, out);
}

/* The editor area and the one route table the HTTP core matches:
 * the site's routes, then the admin's (ids >= ADMIN_ROUTE_BASE). */
static bool
site_admin_init(site *s, buf *err)
{
	struct admin_hooks h = {
		.ctx = s,
		.changed = site_admin_changed,
		.conf = site_admin_conf,
		.setting = site_admin_setting,
		.setting_check = site_admin_setting_check,
		.setting_set = site_admin_setting_set,
		.preview = site_admin_preview,
		.render = site_admin_render,
	};
	s->admin = admin_new(s->st, NULL, &h);
	if (s->admin == NULL) {
		buf_puts(err, "cannot start the editor area (libsodium)");
		return false;
	}
	s->nroutes = site_nroutes + admin_nroutes;
	s->routes = xmalloc(s->nroutes * sizeof(*s->routes));
	memcpy(s->routes, site_routes, site_nroutes * sizeof(*s->routes));
	memcpy(s->routes + site_nroutes, admin_routes,
	    admin_nroutes * sizeof(*s->routes));
	admin_routes_limit(s->routes, s->nroutes, s->conf->num[CONF_UPLOAD_MAX]);
	return true;
}

/* This process's name among the change log's readers: host, pid and
 * start time, so a restarted node is a new reader (the old name is
 * forgotten an hour later). */
static void
site_node_name(site *s)
{
	char host[65] = "";
	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	snprintf(s->node, sizeof(s->node), "%s/%ld/%lld", host, (long)getpid(),
	    (long long)time(NULL));
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
	pthread_mutex_init(&s->theme_mu, NULL);
	if (!guard_secret_load(st, s->key)) {
		buf_puts(err, "cannot read or create the site secret");
		goto err;
	}
	/* Rates are set from the settings in site_conf_refresh. */
	s->lim_comment = guard_limiter_new(0, 1, 65536);
	s->lim_like = guard_limiter_new(0, 1, 65536);
	s->lim_view = guard_limiter_new(0, 1, 65536);
	s->lim_visitor = guard_limiter_new(0, 1, 65536);
	pthread_mutex_init(&s->sync_mu, NULL);
	site_related_init(s);
	site_counts_init(s);
	site_frags_init(s);
	s->cache = cache_new(0); /* budget from the settings below */
	s->purger = cache_purger_new();
	cache_set_purger(s->cache, s->purger);
	s->next_publish = -1;
	if (store_changes_last(st, &s->change_seq) != STORE_OK) {
		buf_puts(err, "cannot read the change log");
		goto err;
	}
	s->pruned_seq = s->change_seq;
	site_node_name(s);
	s->live = live_new(s, s->change_seq);
	s->writer = writer_new(st);
	s->refresher = refresher_new(s);
	s->pings = ping_pool_new();
	s->theme_dir = theme_dir ? xstrdup(theme_dir) : NULL;
	if ((s->theme = site_theme_load(theme_dir, err)) == NULL)
		goto err;
	site_static_v_set(s, s->theme);
	s->obs = site_obs_new(s);
	site_conf_refresh(s);
	s->views = site_views_new(s);
	if (!site_admin_init(s, err))
		goto err;
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
	/* First: it renders pages, with all the rest. */
	refresher_free(s->refresher);
	s->refresher = NULL;
	/* Then: its thread reads the settings, and its last flush the store. */
	site_views_free(s->views);
	live_free(s->live);
	admin_free(s->admin);
	site_export_free(s->xp);
	free(s->routes);
	site_obs_free(s->obs);
	site_theme_put(s->theme);
	free(s->theme_dir);
	for (size_t i = 0; i < s->nstatic_vs; i++)
		free(s->static_vs[i]);
	free(s->static_vs);
	pthread_mutex_destroy(&s->theme_mu);
	conf_free(s->conf);
	for (size_t i = 0; i < s->nretired; i++)
		conf_free(s->retired[i]);
	free(s->retired);
	site_ranking_free(s);
	site_related_free(s);
	site_counts_free(s);
	site_frags_free(s);
	guard_ngwords_free(s->ng);
	for (size_t i = 0; i < s->nretired_ng; i++)
		guard_ngwords_free(s->retired_ng[i]);
	free(s->retired_ng);
	writer_free(s->writer);
	ping_pool_free(s->pings);
	cache_free(s->cache);
	cache_purger_free(s->purger);
	pthread_mutex_destroy(&s->sync_mu);
	guard_limiter_free(s->lim_comment);
	guard_limiter_free(s->lim_like);
	guard_limiter_free(s->lim_view);
	guard_limiter_free(s->lim_visitor);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void
site_quiesce(site *s)
{
	if (s != NULL) {
		writer_stop(s->writer);
		ping_pool_stop(s->pings); /* answers the pings it holds */
		admin_quiesce(s->admin);
	}
}

void
site_http_config(site *s, struct http_config *cfg)
{
	const struct site_conf *c = s->conf;
	cfg->threads = (unsigned)c->num[CONF_HTTP_THREADS];
	/* A worker waits out each statement's round trip to a database
	 * server; more of them keep the cores busy meanwhile (and feed the
	 * group commit more than one post per worker). */
	if (cfg->threads == 0 && store_remote(s->st)) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		cfg->threads = SITE_REMOTE_THREADS_PER_CORE * (unsigned)(n > 0 ? n : 1);
	}
	cfg->conn_timeout = (unsigned)c->num[CONF_HTTP_TIMEOUT];
	cfg->per_ip_limit = (unsigned)c->num[CONF_HTTP_PER_IP];
	cfg->max_body = (size_t)c->num[CONF_HTTP_MAX_BODY];
	/* the article editor: 50 参考 rows of three fields and the rest */
	cfg->max_fields = 256;
	cfg->max_field_len = (size_t)c->num[CONF_HTTP_MAX_BODY];
	cfg->trusted_proxies = c->str[CONF_TRUSTED_PROXIES];
	cfg->header_timeout = (unsigned)c->num[CONF_HTTP_HEADER_TIMEOUT];
	cfg->body_timeout = (unsigned)c->num[CONF_HTTP_BODY_TIMEOUT];
	cfg->max_conns = (unsigned)c->num[CONF_HTTP_MAX_CONNS];
	cfg->max_streams = (unsigned)c->num[CONF_HTTP_MAX_STREAMS];
	cfg->streams_per_ip = (unsigned)c->num[CONF_HTTP_STREAMS_PER_IP];
	cfg->csp_form_action = c->str[CONF_CSP_FORM_ACTION];
	cfg->csp_connect_src = c->str[CONF_CSP_CONNECT_SRC];
	/* Pages ask for players only while this policy lets them in. */
	s->csp_youtube = strcmp(c->str[CONF_EMBEDS], "youtube") == 0;
	cfg->csp_frame_src = s->csp_youtube ?
	    "https://www.youtube-nocookie.com" : "";
	cfg->routes = s->routes;
	cfg->nroutes = s->nroutes;
	/* Absolute-form targets may name the site's own host. */
	const char *u = c->str[CONF_BASE_URL];
	const char *h = strstr(u, "://");
	h = h ? h + 3 : u;
	size_t n = strcspn(h, "/?#");
	snprintf(s->host, sizeof(s->host), "%.*s", (int)n, h);
	cfg->hosts = s->host;
}

#define SITE_SYNC_EVERY_US 1000 /* between two looks for other
                                 * processes' writes, per thread */
#define SITE_READER_EVERY 1     /* s between records of the position */
#define SITE_READER_REFRESH 600 /* s between records of a still one */
#define SITE_READER_STALE 3600  /* a node not seen for this long holds
                                 * no change log rows back */
#define SITE_READER_SKEW 60     /* allowance for the nodes' clocks */

/*
 * Reads the change log when this thread's connection saw another
 * connection commit (PRAGMA data_version), or always as m says
 * (site_int.h: SYNC_FORCE after this thread's own write, SYNC_LOOK before
 * a write on PostgreSQL), and invalidates exactly what changed: a comment
 * drops the article's page and the listings showing its count; a like
 * only the article's page; an article or setting change everything.
 * Once a second it also records this node's position (change_readers)
 * when it moved (every ten minutes when it did not),
 * which holds other nodes' pruning back; a node that could not record
 * for about an hour drops its whole cache once it can again, as rows it
 * never read may be gone.
 */
void
site_sync(site *s, enum site_sync_mode m)
{
	static _Thread_local int64_t seen = -1, asked_us = 0;
	bool force = m == SYNC_FORCE || (m == SYNC_LOOK && store_remote(s->st));
	int64_t now = (int64_t)time(NULL);
	int64_t tried = atomic_load_explicit(&s->reader_try,
	    memory_order_relaxed);
	/* once a second one thread records where this node has read to
	 * (kiji render, a one-off reader, does not) */
	bool mark = s->xp == NULL && now - tried >= SITE_READER_EVERY &&
	    atomic_compare_exchange_strong(&s->reader_try, &tried, now);
	/* On SQLite another process's writes (kiji post) are looked for
	 * once a SITE_SYNC_EVERY_US on each thread, not on every request:
	 * the question starts a read transaction (file locks, the WAL
	 * index), a tenth of the server's time when readers were served
	 * from the cache while comments arrived. This process's own writes
	 * sync with force right after they commit, and a write looks
	 * without the pause. On PostgreSQL the answer is a counter in
	 * memory (pg_listen.c): asked every time. */
	if (!store_remote(s->st)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
		if (m == SYNC_LAZY && !mark && asked_us != 0 && us >= asked_us &&
		    us - asked_us < SITE_SYNC_EVERY_US)
			return;
		asked_us = us;
	}
	int64_t v = store_data_version(s->st);
	if (!force && !mark && v == seen)
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
				cache_stale(s->cache, TAG_ARTICLE(ch[i].article_id),
				    (uint64_t)ch[i].seq);
				cache_stale(s->cache, TAG_LISTED(ch[i].article_id),
				    (uint64_t)ch[i].seq);
				/* the recent comments: later, by a timer */
				site_recent_note(s, ch[i].seq);
				break;
			case CHANGE_LIKE:
				cache_stale(s->cache, TAG_ARTICLE(ch[i].article_id),
				    (uint64_t)ch[i].seq);
				break;
			case CHANGE_ARTICLE_TEXT: {
				/* e.g. 追記 appended to a breaking story: the
				 * pages showing it, not every page */
				int64_t id = ch[i].article_id;
				uint64_t seq = (uint64_t)ch[i].seq;
				cache_stale(s->cache, TAG_ARTICLE(id), seq);
				cache_stale(s->cache, TAG_LISTED(id), seq);
				cache_stale(s->cache, TAG_CARD(id), seq);
				cache_stale(s->cache, TAG_SITEMAP, seq);
				site_related_note(s, seq);
				break;
			}
			case CHANGE_SETTINGS:
				settings = true;
				/* fall through */
			case CHANGE_ARTICLE:
			case CHANGE_ALL:
			case CHANGE__MAX:
				/* Titles, order and visibility show on every page
				 * (prev/next, related, ranking, listings). */
				cache_stale_all(s->cache, (uint64_t)ch[i].seq);
				cache_purger_all(s->purger);
				site_related_note(s, (uint64_t)ch[i].seq);
				s->next_publish = -1;
				break;
			}
		}
		live_note(s->live, ch, n);
		__atomic_store_n(&s->change_seq, ch[n - 1].seq, __ATOMIC_RELEASE);
		arena_reset(a);
		if (n < 1024)
			break;
	}
	/* a write only when the position moved, or to stay "seen" (an idle
	 * SQLite site would otherwise sync its WAL every second) */
	if (mark && (s->change_seq != s->reader_seq ||
	    now - s->reader_ok >= SITE_READER_REFRESH) &&
	    store_change_reader_set(s->st, s->node, s->change_seq, now) ==
	    STORE_OK) {
		if (s->reader_ok != 0 &&
		    now - s->reader_ok > SITE_READER_STALE - SITE_READER_SKEW) {
			/* back after so long that other nodes may have
			 * pruned rows this one never read: nothing cached
			 * can be trusted (once; not while still away, when
			 * the cache is all there is) */
			obs_warn("site: no change log position recorded for "
			    "%lld s; dropping every cached page",
			    (long long)(now - s->reader_ok));
			cache_stale_all(s->cache, (uint64_t)s->change_seq + 1);
			cache_purger_all(s->purger);
			site_related_note(s, (uint64_t)s->change_seq + 1);
			s->next_publish = -1;
			settings = true;
		}
		s->reader_ok = now;
		s->reader_seq = s->change_seq;
	}
	/* Keep the log short, but keep the last 4096 rows: live comment
	 * readers coming back are sent what they missed from it (live.c);
	 * and keep what a node seen in the last hour has not read yet.
	 * kiji render reads it too, and leaves the pruning to the server. */
	if (s->xp == NULL && s->change_seq - s->pruned_seq > 8192 &&
	    store_changes_prune(s->st, s->change_seq - 4096,
	    now - SITE_READER_STALE) == STORE_OK)
		s->pruned_seq = s->change_seq - 4096;
	pthread_mutex_unlock(&s->sync_mu);
	arena_free(a);
	if (settings)
		site_conf_refresh(s);
}

uint64_t
site_seq(site *s)
{
	return (uint64_t)__atomic_load_n(&s->change_seq, __ATOMIC_ACQUIRE);
}

/* The current settings snapshot (rebuilt by site_sync on change). */
const struct site_conf *
site_conf(site *s)
{
	return site_conf_as(s, SYNC_LAZY);
}

const struct site_conf *
site_conf_as(site *s, enum site_sync_mode m)
{
	site_sync(s, m);
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
int64_t
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
	if (!site_tmpl_render(q->s, name, q->root, &q->w->body) ||
	    q->w->body.err) {
		obs_error("rendering %s failed", name);
		buf_reset(&q->w->body);
		q->w->status = 500;
		q->w->content_type = "text/plain; charset=utf-8";
		buf_puts(&q->w->body, "500 内部エラー\n");
	}
}

/* Whether an old path has moved (the redirects table: renamed slugs,
 * imported WordPress URLs, entries made by hand): answers 301 if so. */
static bool
site_moved(struct req *q)
{
	const char *to;
	if (q->r->method != HTTP_GET && q->r->method != HTTP_HEAD)
		return false;
	if (store_redirect_get(q->s->st, q->r->path, q->r->a, &to) != STORE_OK ||
	    strcmp(to = site_legacy_target(q, to), q->r->path) == 0)
		return false;
	http_resp_header(q->r, q->w, "Cache-Control", "public, max-age=300");
	http_resp_redirect(q->r, q->w, 301, to);
	return true;
}

/* A Japanese error page (404, 400, 405 ...) in the site's layout; a 404
 * for a path in the redirects table is a 301 instead, and so is one no
 * route matched that is an old WordPress or trailing-slash URL (legacy.c). */
void
site_error(struct req *q, int status)
{
	if (status == 404 && (site_moved(q) || (q->r->route == NULL &&
	    site_legacy_path(q))))
		return;
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
void
site_static(struct req *q, const char *name)
{
	struct site_theme *t = site_theme_get(q->s);
	for (size_t i = 0; i < t->nstatics; i++) {
		struct site_static *f = &t->statics[i];
		if (strcmp(f->name, name) != 0)
			continue;
		http_resp_header(q->r, q->w, "Cache-Control",
		    "public, max-age=86400");
		if (!site_etag(q, arena_strdup(q->r->a, f->etag))) {
			q->w->status = 200;
			q->w->content_type = f->type;
			buf_put(&q->w->body, f->data, f->len);
		}
		site_theme_put(t);
		return;
	}
	site_theme_put(t);
	site_error(q, 404);
}

/* Whether a media name is a content hash (content_image_name: 32 hex
 * digits and an image extension), whose bytes never change. */
bool
site_media_hashed(const char *name)
{
	static const char *const exts[] = {".jpg", ".png", ".webp", ".gif"};
	for (int i = 0; i < 32; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (strcmp(name + 32, exts[i]) == 0)
			return true;
	return false;
}

/* Serves an image stored in the database. */
void
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
	/* A content-hash name never changes its bytes: cached for good. */
	http_resp_header(q->r, q->w, "Cache-Control", site_media_hashed(name) ?
	    "public, max-age=31536000, immutable" : "public, max-age=86400");
	/* SVG is a document: no scripts, even if one slipped in. */
	http_resp_header(q->r, q->w, "Content-Security-Policy",
	    "default-src 'none'; style-src 'unsafe-inline'; sandbox");
	if (site_etag(q, etag))
		return;
	q->w->status = 200;
	q->w->content_type = type;
	q->w->ranges = true; /* readers may fetch big images in parts */
	buf_put(&q->w->body, data, n);
}

void
site_robots(struct req *q)
{
	q->w->content_type = "text/plain; charset=utf-8";
	/* /views/ is the page-view beacon: nothing for crawlers to read. */
	buf_printf(&q->w->body, "User-agent: *\nDisallow: /admin/\n"
	    "Disallow: /views/\n\nSitemap: %s\n", site_abs(q, "/sitemap.xml"));
}

