/*
 * Page views for the popular ranking. The article page sends a beacon
 * (POST /views/<id> from its script, GET /views/<id>.gif from <noscript>);
 * the beacon is never cached, so a view counts even when the page itself
 * came from kiji's page cache or a CDN.
 *
 * A view counts once per address, article and UTC day (the store keeps
 * views per UTC day); the address is its rate-limit key (http_ip_key: an
 * IPv6 /64 is one), and each address has a budget of counted beacons
 * (views.rate_*). Cookies and User-Agents are the client's to choose, so
 * they make no other viewer. Bots are told by User-Agent (views_is_bot).
 * Counts wait in memory; a thread adds them to the store every
 * views.flush_seconds, and site_free writes the rest at shutdown: no
 * database write per view.
 */
#include "site_int.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Deduplication remembers 64-bit keyed hashes of (visitor, article, day)
 * in two generations of an open-addressing set: when the current one is
 * 3/4 full the older is emptied and becomes current, so memory is fixed
 * (2 x 2 MiB) and a repeat view is recognised until some 196,000 other
 * first views have come in since.
 */
#define VIEWS_SEEN_SLOTS ((size_t)1 << 18)
#define VIEWS_SEEN_MAX (VIEWS_SEEN_SLOTS / 4 * 3)
/* Distinct (article, day) counts waiting for a flush; more are dropped
 * (and the drop logged) rather than let memory grow. */
#define VIEWS_PENDING_SLOTS ((size_t)1 << 15)
#define VIEWS_PENDING_MAX (VIEWS_PENDING_SLOTS / 2)
#define VIEWS_DAY 86400

/* One waiting count; id 0 marks an empty slot. */
struct views_count {
	int64_t id;
	int64_t day; /* UTC day number */
	int64_t n;
};

struct site_views {
	site *s;
	pthread_mutex_t mu; /* guards everything below */
	pthread_cond_t cv;  /* wakes the thread to stop */
	pthread_t thread;
	bool started;
	bool stop;
	unsigned char key[crypto_shorthash_KEYBYTES]; /* per process */
	uint64_t *seen[2];
	size_t nseen[2];
	int cur;
	struct views_count *pending;
	size_t npending;
	uint64_t dropped; /* views lost to a full pending table */
};

/* The beacon's answer without JavaScript: a transparent 1x1 GIF. */
static const unsigned char views_gif[] = {
	0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80,
	0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
};

/*
 * User-Agent substrings (case-insensitive) of crawlers, link previewers,
 * monitors, HTTP libraries and headless browsers. HeadlessChrome is a bot
 * here: readers never use it, prerenderers and scrapers do (and so do our
 * own browser tests, whose beacons are therefore answered but not
 * counted). A User-Agent without "Mozilla/" is not a browser either.
 */
static const char *const views_bots[] = {
	"bot", "crawl", "spider", "slurp", "curl", "wget", "python", "headless",
	"phantomjs", "http-client", "httpclient", "go-http", "java/", "libwww",
	"scrapy", "okhttp", "axios", "node-fetch", "facebookexternalhit",
	"feedfetcher", "mediapartners", "lighthouse", "pingdom", "monitor",
	"preview", "archiver",
};

/* True when ua is missing or looks like software rather than a reader. */
static bool
views_is_bot(const char *ua)
{
	if (ua == NULL || strstr(ua, "Mozilla/") == NULL)
		return true;
	for (size_t i = 0; i < sizeof(views_bots) / sizeof(views_bots[0]); i++)
		if (strcasestr(ua, views_bots[i]) != NULL)
			return true;
	return false;
}

/* ---- the two-generation seen set ----------------------------------------- */

static bool
seen_has(const uint64_t *t, uint64_t h)
{
	for (size_t i = h & (VIEWS_SEEN_SLOTS - 1); t[i] != 0;
	    i = (i + 1) & (VIEWS_SEEN_SLOTS - 1))
		if (t[i] == h)
			return true;
	return false;
}

/* True when h was seen; otherwise remembers it. Caller holds v->mu. */
static bool
seen_check_add(struct site_views *v, uint64_t h)
{
	if (seen_has(v->seen[0], h) || seen_has(v->seen[1], h))
		return true;
	if (v->nseen[v->cur] >= VIEWS_SEEN_MAX) {
		v->cur ^= 1;
		memset(v->seen[v->cur], 0, VIEWS_SEEN_SLOTS * sizeof(uint64_t));
		v->nseen[v->cur] = 0;
	}
	uint64_t *t = v->seen[v->cur];
	size_t i = h & (VIEWS_SEEN_SLOTS - 1);
	while (t[i] != 0)
		i = (i + 1) & (VIEWS_SEEN_SLOTS - 1);
	t[i] = h;
	v->nseen[v->cur]++;
	return false;
}

/* ---- waiting counts ------------------------------------------------------------ */

/* Adds n views of article id on day. Caller holds v->mu. */
static void
pending_add(struct site_views *v, int64_t id, int64_t day, int64_t n)
{
	uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ULL ^ (uint64_t)day;
	h ^= h >> 29;
	size_t i = h & (VIEWS_PENDING_SLOTS - 1);
	struct views_count *t = v->pending;
	while (t[i].id != 0 && (t[i].id != id || t[i].day != day))
		i = (i + 1) & (VIEWS_PENDING_SLOTS - 1);
	if (t[i].id == 0) {
		if (v->npending >= VIEWS_PENDING_MAX) {
			v->dropped += (uint64_t)n;
			return;
		}
		t[i].id = id;
		t[i].day = day;
		v->npending++;
	}
	t[i].n += n;
}

/*
 * Writes the waiting counts to the store in one transaction. On failure
 * (database busy) they go back to wait for the next flush; counts of an
 * article deleted meanwhile are dropped. After a write the ranking is
 * recomputed on its next use, so it shows the new counts.
 */
static void
views_flush(struct site_views *v)
{
	pthread_mutex_lock(&v->mu);
	size_t n = v->npending;
	struct views_count *c = NULL;
	uint64_t dropped = v->dropped;
	v->dropped = 0;
	if (n > 0) {
		c = xmalloc(n * sizeof(*c));
		size_t k = 0;
		for (size_t i = 0; i < VIEWS_PENDING_SLOTS && k < n; i++)
			if (v->pending[i].id != 0)
				c[k++] = v->pending[i];
		memset(v->pending, 0, VIEWS_PENDING_SLOTS * sizeof(*v->pending));
		v->npending = 0;
	}
	pthread_mutex_unlock(&v->mu);
	if (dropped)
		obs_warn("views: %llu views dropped (too many distinct "
		    "articles between flushes)", (unsigned long long)dropped);
	if (n == 0)
		return;

	store *st = v->s->st;
	enum store_err e = store_begin(st);
	for (size_t i = 0; e == STORE_OK && i < n; i++) {
		enum store_err ei = store_views_add(st, c[i].id,
		    c[i].day * VIEWS_DAY, c[i].n);
		if (ei != STORE_OK && ei != STORE_INVALID)
			e = ei;
	}
	if (e == STORE_OK)
		e = store_commit(st);
	else
		store_rollback(st);
	if (e != STORE_OK) {
		obs_error("views: %s; keeping %zu counts for the next "
		    "flush", store_strerror(e), n);
		pthread_mutex_lock(&v->mu);
		for (size_t i = 0; i < n; i++)
			pending_add(v, c[i].id, c[i].day, c[i].n);
		pthread_mutex_unlock(&v->mu);
	} else {
		pthread_mutex_lock(&v->s->mu);
		v->s->ranking_at = 0;
		pthread_mutex_unlock(&v->s->mu);
	}
	free(c);
}

/* ---- the flushing thread ---------------------------------------------------- */

/* The flush interval of the current settings, in seconds. */
static int64_t
views_interval(struct site_views *v)
{
	pthread_mutex_lock(&v->s->mu);
	int64_t sec = v->s->conf ? v->s->conf->num[CONF_VIEWS_FLUSH] : 10;
	pthread_mutex_unlock(&v->s->mu);
	return sec > 0 ? sec : 1;
}

static int64_t
mono_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* Wakes once a second, so a changed interval applies within a second;
 * flushes when the interval has passed. */
static void *
views_thread(void *arg)
{
	struct site_views *v = arg;
	int64_t last = mono_sec();
	pthread_setname_np(pthread_self(), "kiji-views"); /* top -H, perf */
	pthread_mutex_lock(&v->mu);
	while (!v->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&v->cv, &v->mu, &ts);
		if (v->stop)
			break;
		pthread_mutex_unlock(&v->mu);
		int64_t now = mono_sec();
		if (now - last >= views_interval(v)) {
			views_flush(v);
			last = now;
		}
		pthread_mutex_lock(&v->mu);
	}
	pthread_mutex_unlock(&v->mu);
	return NULL;
}

struct site_views *
site_views_new(site *s)
{
	struct site_views *v = xcalloc(1, sizeof(*v));
	v->s = s;
	pthread_mutex_init(&v->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&v->cv, &ca);
	pthread_condattr_destroy(&ca);
	randombytes_buf(v->key, sizeof(v->key));
	v->seen[0] = xcalloc(VIEWS_SEEN_SLOTS, sizeof(uint64_t));
	v->seen[1] = xcalloc(VIEWS_SEEN_SLOTS, sizeof(uint64_t));
	v->pending = xcalloc(VIEWS_PENDING_SLOTS, sizeof(*v->pending));
	if (pthread_create(&v->thread, NULL, views_thread, v) == 0)
		v->started = true;
	else
		obs_warn("views: cannot start the flush thread; "
		    "counts are written at shutdown only");
	return v;
}

void
site_views_free(struct site_views *v)
{
	if (v == NULL)
		return;
	if (v->started) {
		pthread_mutex_lock(&v->mu);
		v->stop = true;
		pthread_cond_signal(&v->cv);
		pthread_mutex_unlock(&v->mu);
		pthread_join(v->thread, NULL);
	}
	views_flush(v);
	free(v->seen[0]);
	free(v->seen[1]);
	free(v->pending);
	pthread_cond_destroy(&v->cv);
	pthread_mutex_destroy(&v->mu);
	free(v);
}

/* ---- the beacon ------------------------------------------------------------------ */

/* Keyed hash of (address, article, day); never 0 (the empty slot). The
 * address is its rate-limit key, so an IPv6 /64 is one address. */
static uint64_t
views_key(const struct site_views *v, const char *addr, int64_t id,
    int64_t day)
{
	unsigned char in[HTTP_IP_KEY_MAX + 2 * sizeof(int64_t)];
	size_t n = strlen(addr);
	memcpy(in, addr, n);
	memcpy(in + n, &id, sizeof(id));
	memcpy(in + n + sizeof(id), &day, sizeof(day));
	unsigned char out[crypto_shorthash_BYTES];
	crypto_shorthash(out, in, n + 2 * sizeof(int64_t), v->key);
	uint64_t h;
	memcpy(&h, out, sizeof(h));
	return h ? h : 1;
}

/*
 * Counts one view of article id when it is the address's first today.
 * Neither the cookie nor the User-Agent makes another viewer: both are the
 * client's to choose, and the ranking is not to be bought with them. An
 * address sending beacons past views.rate_* is not counted at all (nor
 * does it cost a store read).
 */
static void
views_count(struct req *q, int64_t id)
{
	struct site_views *v = q->s->views;
	if (v == NULL || (q->r->method != HTTP_GET && q->r->method != HTTP_POST))
		return;
	if (views_is_bot(http_req_header(q->r, "User-Agent")))
		return;
	if (!screen_take(q->s->lim_view, q->r->ip, NULL))
		return;
	char addr[HTTP_IP_KEY_MAX];
	http_ip_key(q->r->ip, addr);
	int64_t now = q->r->now;
	int64_t day = now >= 0 ? now / VIEWS_DAY : -((-now + VIEWS_DAY - 1) /
	    VIEWS_DAY);
	uint64_t h = views_key(v, addr, id, day);

	pthread_mutex_lock(&v->mu);
	bool seen = seen_has(v->seen[0], h) || seen_has(v->seen[1], h);
	pthread_mutex_unlock(&v->mu);
	if (seen)
		return;
	/* A read, not a write: only posts readers can see are counted, so a
	 * made-up id cannot fill the table or the log. */
	bool visible = false;
	if (store_article_visible(q->s->st, id, now, &visible) != STORE_OK ||
	    !visible)
		return;
	pthread_mutex_lock(&v->mu);
	if (!seen_check_add(v, h))
		pending_add(v, id, day, 1);
	pthread_mutex_unlock(&v->mu);
}

/* The beacon also hands the reader a visitor id (within the address's
 * visitors.rate_*), so the page's likes and comment find one already:
 * the article page itself is cached and sets no cookie. Another site
 * embedding the beacon neither counts a view nor gets ids (browsers say
 * so in Sec-Fetch-Site). */
void
site_view_beacon(struct req *q, int64_t article_id, bool gif)
{
	q->nocache = true;
	const char *fetch = http_req_header(q->r, "Sec-Fetch-Site");
	if (fetch == NULL || strcmp(fetch, "cross-site") != 0) {
		views_count(q, article_id);
		visitor_get(q, true);
	}
	http_resp_header(q->r, q->w, "Cache-Control", "no-store");
	if (gif) {
		q->w->status = 200;
		q->w->content_type = "image/gif";
		buf_put(&q->w->body, views_gif, sizeof(views_gif));
	} else {
		q->w->status = 204;
		q->w->content_type = "text/plain; charset=utf-8";
	}
}
