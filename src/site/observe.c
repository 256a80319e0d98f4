/*
 * The site for its operator: /metrics (Prometheus text format), /healthz
 * and /readyz, the counters only the site knows (comments and likes
 * taken or refused and why, rate-limit refusals, page cache, group
 * commit), the log settings applied as they change, and SIGHUP: the
 * access log reopened (logrotate) and the --theme directory read again.
 *
 * /metrics is answered only to the addresses of metrics.allow (loopback
 * by default), judged on the client address as the server resolved it:
 * the TCP peer, or what a trusted proxy says in X-Forwarded-For. So a
 * scrape through nginx on loopback is judged by the real client, never
 * let in for being the proxy, and a client can claim nothing it is not.
 * Others get the site's ordinary 404, as for any path that does not
 * exist: a scanner learns nothing (a 403 would confirm the endpoint).
 * --metrics-listen serves /metrics, /healthz and /readyz alone on an
 * address of its own, where where it is bound is the access rule.
 */
#include "site_int.h"

#include <stddef.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SITE_PROBE_MS 1000 /* /readyz writes the database at most this often */

enum like_end {
	LIKE_END_LIKE,
	LIKE_END_UNLIKE,
	LIKE_END__MAX
};

static const char *const like_refusal_names[LIKE__MAX] = {
	[LIKE_OK] = "",
	[LIKE_RATE] = "rate_limited",
	[LIKE_NOT_FOUND] = "not_found",
	[LIKE_UNAVAILABLE] = "unavailable",
	[LIKE_CANNOT_SAVE] = "cannot_save",
};

struct site_obs {
	site *s;
	obs_counter comments_ok[2];          /* approved, pending */
	obs_counter comments_refused[CE__MAX];
	obs_counter likes_ok[LIKE_END__MAX];
	obs_counter likes_refused[LIKE__MAX];
	pthread_mutex_t probe_mu;            /* guards the two below */
	int64_t probe_ms;                    /* monotonic, last write probe */
	enum store_err probe_err;
};

static int64_t
site_obs_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
site_obs_comment(site *s, enum cerr e, bool pending)
{
	if (s->obs == NULL || (unsigned)e >= CE__MAX)
		return;
	if (e == CE_OK)
		obs_add(&s->obs->comments_ok[pending ? 1 : 0], 1);
	else
		obs_add(&s->obs->comments_refused[e], 1);
}

void
site_obs_like(site *s, bool like, enum like_refusal why)
{
	if (s->obs == NULL || (unsigned)why >= LIKE__MAX)
		return;
	if (why == LIKE_OK)
		obs_add(&s->obs->likes_ok[like ? LIKE_END_LIKE :
		    LIKE_END_UNLIKE], 1);
	else
		obs_add(&s->obs->likes_refused[why], 1);
}

/* One labelled counter sample. */
static void
site_obs_u64(buf *out, const char *name, const char *key, const char *value,
    uint64_t v)
{
	buf l;
	buf_init(&l, 1024);
	obs_prom_label(&l, key, value);
	obs_prom_u64(out, name, buf_cstr(&l), v);
	buf_free(&l);
}

/* The site's part of /metrics. */
static void
site_obs_collect(void *ctx, buf *out)
{
	struct site_obs *o = ctx;
	site *s = o->s;
	struct cache_stats cs;
	cache_stats(s->cache, &cs);
	/* the page cache's counters and gauges, one line each */
	static const struct {
		const char *name, *type, *help;
		size_t off;
		bool size; /* a size_t field, else uint64_t */
	} cm[] = {
#define CM(n, t, f, z, h) {"kiji_cache_" n, t, h, \
	offsetof(struct cache_stats, f), z}
		CM("hits_total", "counter", hits, false,
		    "Pages answered from the page cache."),
		CM("misses_total", "counter", misses, false,
		    "Cacheable pages that had to be rendered."),
		CM("evictions_total", "counter", evictions, false,
		    "Pages dropped from the page cache to stay within "
		    "cache.max_bytes."),
		CM("invalidations_total", "counter", invalidations, false,
		    "Pages marked stale in the page cache because their "
		    "content changed."),
		CM("bytes", "gauge", bytes, true,
		    "Bytes the page cache holds."),
		CM("max_bytes", "gauge", max_bytes, true,
		    "The page cache's budget (cache.max_bytes)."),
		CM("entries", "gauge", entries, true,
		    "Pages in the page cache."),
		CM("stale_hits_total", "counter", stale_hits, false,
		    "Stale pages answered while their refresh was on its way "
		    "(or held back: cache.coalesce)."),
		CM("refreshes_total", "counter", refreshes, false,
		    "Re-renders of a stale page (one per change at most, "
		    "while readers get the previous bytes)."),
		CM("promotions_total", "counter", promotions, false,
		    "Pages asked for a second time: moved from probation to "
		    "the protected segment (and gzipped)."),
		CM("protected_bytes", "gauge", protected_bytes, true,
		    "Bytes of the page cache's protected segment (at most "
		    "80% of the budget)."),
#undef CM
	};
	for (size_t i = 0; i < sizeof(cm) / sizeof(cm[0]); i++) {
		const char *f = (const char *)&cs + cm[i].off;
		uint64_t v;
		if (cm[i].size) {
			size_t z;
			memcpy(&z, f, sizeof(z));
			v = (uint64_t)z;
		} else {
			memcpy(&v, f, sizeof(v));
		}
		obs_prom_family(out, cm[i].name, cm[i].type, cm[i].help);
		obs_prom_u64(out, cm[i].name, NULL, v);
	}
	uint64_t bg_done, bg_back;
	refresher_counts(s->refresher, &bg_done, &bg_back);
	obs_prom_family(out, "kiji_cache_background_refreshes_total", "counter",
	    "Refreshes of pages that keep changing, by who made them: the "
	    "refresh thread, or the reader that claimed it (queue full).");
	site_obs_u64(out, "kiji_cache_background_refreshes_total", "by",
	    "thread", bg_done);
	site_obs_u64(out, "kiji_cache_background_refreshes_total", "by",
	    "reader", bg_back);
	struct site_frag_stats fs;
	site_frags_stats(s, &fs);
	obs_prom_family(out, "kiji_comment_boxes_total", "counter",
	    "Comment boxes a render needed: kept from an earlier render "
	    "(hit) or made (miss).");
	site_obs_u64(out, "kiji_comment_boxes_total", "result", "hit", fs.hits);
	site_obs_u64(out, "kiji_comment_boxes_total", "result", "miss",
	    fs.misses);
	obs_prom_family(out, "kiji_comment_box_bytes", "gauge",
	    "Bytes of comment boxes kept between renders.");
	obs_prom_u64(out, "kiji_comment_box_bytes", NULL, (uint64_t)fs.bytes);
	obs_prom_family(out, "kiji_live_listeners", "gauge",
	    "Readers holding a live comment stream (/articles/<id>/events).");
	obs_prom_u64(out, "kiji_live_listeners", NULL,
	    (uint64_t)live_listeners(s->live));
	uint64_t sent = 0, failed = 0;
	cache_purger_stats(s->purger, &sent, &failed);
	obs_prom_family(out, "kiji_cdn_purges_total", "counter",
	    "CDN purge requests (cache.purge_url), by result.");
	site_obs_u64(out, "kiji_cdn_purges_total", "result", "sent", sent);
	site_obs_u64(out, "kiji_cdn_purges_total", "result", "failed", failed);

	writer_metrics(s->writer, out);

	obs_prom_family(out, "kiji_comments_accepted_total", "counter",
	    "Comments stored, by the status they got.");
	site_obs_u64(out, "kiji_comments_accepted_total", "status", "approved",
	    obs_get(&o->comments_ok[0]));
	site_obs_u64(out, "kiji_comments_accepted_total", "status", "pending",
	    obs_get(&o->comments_ok[1]));
	obs_prom_family(out, "kiji_comments_refused_total", "counter",
	    "Comments refused, by reason (the API's error code).");
	for (int e = CE_OK + 1; e < CE__MAX; e++)
		site_obs_u64(out, "kiji_comments_refused_total", "reason",
		    cerr_code((enum cerr)e), obs_get(&o->comments_refused[e]));
	obs_prom_family(out, "kiji_likes_accepted_total", "counter",
	    "Likes and unlikes taken (repeats included: they are idempotent).");
	site_obs_u64(out, "kiji_likes_accepted_total", "action", "like",
	    obs_get(&o->likes_ok[LIKE_END_LIKE]));
	site_obs_u64(out, "kiji_likes_accepted_total", "action", "unlike",
	    obs_get(&o->likes_ok[LIKE_END_UNLIKE]));
	obs_prom_family(out, "kiji_likes_refused_total", "counter",
	    "Likes and unlikes refused, by reason.");
	for (int e = LIKE_OK + 1; e < LIKE__MAX; e++)
		site_obs_u64(out, "kiji_likes_refused_total", "reason",
		    like_refusal_names[e], obs_get(&o->likes_refused[e]));
	obs_prom_family(out, "kiji_rate_limited_total", "counter",
	    "Requests refused by a per-address rate limit, by limit "
	    "(comment: comments and pings; visitor: new visitor ids).");
	site_obs_u64(out, "kiji_rate_limited_total", "limit", "comment",
	    guard_limiter_refused(s->lim_comment));
	site_obs_u64(out, "kiji_rate_limited_total", "limit", "like",
	    guard_limiter_refused(s->lim_like));
	site_obs_u64(out, "kiji_rate_limited_total", "limit", "view",
	    guard_limiter_refused(s->lim_view));
	site_obs_u64(out, "kiji_rate_limited_total", "limit", "visitor",
	    guard_limiter_refused(s->lim_visitor));
}

struct site_obs *
site_obs_new(site *s)
{
	struct site_obs *o = xcalloc(1, sizeof(*o));
	o->s = s;
	pthread_mutex_init(&o->probe_mu, NULL);
	obs_metrics_add(site_obs_collect, o);
	return o;
}

void
site_obs_free(struct site_obs *o)
{
	if (o == NULL)
		return;
	obs_metrics_remove(site_obs_collect, o);
	pthread_mutex_destroy(&o->probe_mu);
	free(o);
}

/* Applies the log settings of snapshot c (at start and when they change). */
void
site_obs_conf(site *s, const struct site_conf *c)
{
	(void)s;
	enum obs_level l = OBS_INFO;
	if (obs_level_parse(c->str[CONF_LOG_LEVEL], &l))
		obs_log_level_set(l);
	struct obs_access_conf ac = {
		.on = strcmp(c->str[CONF_LOG_ACCESS], "on") == 0,
		.format = strcmp(c->str[CONF_LOG_FORMAT], "json") == 0 ?
		    OBS_FMT_JSON : OBS_FMT_COMBINED,
		.sample = (unsigned)c->num[CONF_LOG_SAMPLE],
		.ip_mask = c->str[CONF_LOG_IP_MASK][0] == '1',
	};
	obs_access_set(&ac);
}

/* ---- the three routes --------------------------------------------------------- */

/* Whether the client may read /metrics (metrics.allow). */
static bool
site_metrics_allowed(struct req *q)
{
	const char *p = q->c->str[CONF_METRICS_ALLOW];
	while (*p) {
		size_t n = strcspn(p, " ,");
		char one[64];
		if (n > 0 && n < sizeof(one)) {
			memcpy(one, p, n);
			one[n] = '\0';
			if (http_ip_in_cidr(q->r->ip, one))
				return true;
		}
		p += n;
		p += strspn(p, " ,");
	}
	return false;
}

static void
site_plain(struct req *q, int status, const char *text)
{
	q->w->status = status;
	q->w->content_type = "text/plain; charset=utf-8";
	http_resp_header(q->r, q->w, "Cache-Control", "no-store");
	buf_puts(&q->w->body, text);
}

static void
site_metrics_body(struct req *q)
{
	buf_reserve(&q->w->body, 64 << 10);
	obs_metrics_render(&q->w->body);
	q->w->status = 200;
	q->w->content_type = "text/plain; version=0.0.4; charset=utf-8";
	http_resp_header(q->r, q->w, "Cache-Control", "no-store");
}

void
site_metrics(struct req *q)
{
	if (!site_metrics_allowed(q)) {
		site_error(q, 404);
		return;
	}
	site_metrics_body(q);
}

void
site_healthz(struct req *q)
{
	site_plain(q, 200, "ok\n");
}

/* The database's writability, by a write at most once a second. */
static enum store_err
site_probe(site *s)
{
	struct site_obs *o = s->obs;
	pthread_mutex_lock(&o->probe_mu);
	int64_t now = site_obs_ms();
	if (o->probe_ms == 0 || now - o->probe_ms >= SITE_PROBE_MS) {
		enum store_err e = store_probe_write(s->st);
		/* busy is writable: another writer holds the lock */
		o->probe_err = e == STORE_BUSY ? STORE_OK : e;
		o->probe_ms = now;
	}
	enum store_err e = o->probe_err;
	pthread_mutex_unlock(&o->probe_mu);
	return e;
}

/* 200 when the database takes writes and every change in the change
 * log has been acted on (cached pages dropped, CDN purges queued);
 * else 503 with the reason. */
void
site_readyz(struct req *q)
{
	site *s = q->s;
	enum store_err e = site_probe(s);
	if (e != STORE_OK) {
		site_plain(q, 503, e == STORE_FULL ?
		    "not ready: the database cannot be written: disk full\n" :
		    e == STORE_READONLY ?
		    "not ready: the database cannot be written: read-only\n" :
		    "not ready: the database cannot be written\n");
		return;
	}
	int64_t last = 0;
	if (store_changes_last(s->st, &last) != STORE_OK) {
		site_plain(q, 503, "not ready: the change log cannot be read\n");
		return;
	}
	site_sync(s, SYNC_LAZY);
	pthread_mutex_lock(&s->sync_mu);
	int64_t seq = s->change_seq;
	pthread_mutex_unlock(&s->sync_mu);
	if (seq < last) {
		site_plain(q, 503, arena_printf(q->r->a, "not ready: change sync "
		    "behind (%lld of %lld)\n", (long long)seq, (long long)last));
		return;
	}
	site_plain(q, 200, "ready\n");
}

/* ---- kiji serve's hooks ----------------------------------------------------------- */

char *
site_access_log_file(const char *db)
{
	buf err;
	buf_init(&err, 4096);
	char *path = NULL;
	store *st = store_open(db, &err);
	if (st != NULL) {
		struct site_conf *c = conf_load(st);
		if (*c->str[CONF_LOG_ACCESS_FILE])
			path = xstrdup(c->str[CONF_LOG_ACCESS_FILE]);
		conf_free(c);
		store_close(st);
	}
	buf_free(&err);
	return path;
}

bool
site_observe_start(site *s, buf *err)
{
	const struct site_conf *c = site_conf(s);
	site_obs_conf(s, c);
	return obs_access_open(c->str[CONF_LOG_ACCESS_FILE], err);
}

void
site_observe_stop(site *s)
{
	(void)s;
	obs_access_close();
}

void
site_on_sighup(site *s)
{
	buf err;
	buf_init(&err, 4096);
	if (obs_access_reopen(&err))
		obs_info("SIGHUP: access log reopened");
	else
		obs_error("SIGHUP: access log: %s", buf_cstr(&err));
	buf_reset(&err);
	if (s->theme_dir == NULL) {
		obs_info("SIGHUP: the theme is the compiled-in one: nothing "
		    "to re-read");
	} else if (site_theme_reload(s, &err)) {
		obs_info("SIGHUP: theme %s read again", s->theme_dir);
	} else {
		obs_error("SIGHUP: theme %s: %s; keeping the one loaded",
		    s->theme_dir, buf_cstr(&err));
	}
	buf_free(&err);
}

/* The --metrics-listen listener's handler: the three routes, nothing
 * else (and no metrics.allow: its address is the rule). */
static void
site_metrics_handle(void *ctx, struct http_req *r, struct http_resp *w)
{
	struct req q = {.s = ctx, .r = r, .w = w};
	q.c = site_conf(q.s);
	q.lang = msg_lang_of(q.c->str[CONF_LANG]);
	int id = r->route ? r->route->id : -1;
	if (id == R_METRICS && r->method != HTTP_POST)
		site_metrics_body(&q);
	else if (id == R_HEALTHZ)
		site_healthz(&q);
	else if (id == R_READYZ)
		site_readyz(&q);
	else
		site_plain(&q, 404, "not found\n");
}

http_server *
site_metrics_start(site *s, const char *addr, int fd, buf *err)
{
	struct http_config cfg = {0};
	site_http_config(s, &cfg);
	cfg.listen = addr;
	cfg.listen_fd = fd;
	cfg.threads = 1;
	cfg.unobserved = true;
	return http_start(&cfg, site_metrics_handle, s, err);
}
