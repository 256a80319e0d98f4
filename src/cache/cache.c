/*
 * The page cache. A hash of key → entry, a segmented LRU for the byte
 * budget, and a tag index (tag → entries) for precise invalidation. An
 * entry is reference-counted: the cache holds one reference while it is
 * linked and every request serving it holds one until its response is
 * queued; the HTTP core then keeps its own references to the shared
 * responses.
 *
 * Admission (segmented LRU): a new entry joins the probation segment and
 * moves to the protected one on its first hit; eviction takes probation's
 * least recently used first, and protected is held to 80% of the budget
 * (its tail is demoted to probation). A flood of URLs asked for once
 * churns probation only: the pages readers keep asking for stay.
 * Probation entries are kept uncompressed; gzip is made at promotion, by
 * the request that promotes (a crawler's one-off page costs no deflate).
 *
 * Stale-while-revalidate: cache_stale marks an entry stale instead of
 * dropping it. The first reader after that gets a miss and renders (the
 * refresh); readers arriving while that refresh is in flight get the
 * previous bytes, for at most stale_ms; a reader whose own write is newer
 * than the entry (min_seq) never gets stale bytes. A page rendered from a
 * state older than an invalidation of one of its tags is put stale, so a
 * render racing a write never hides the write.
 *
 * Coalescing: a page that changes faster than it renders (comments
 * arriving every few ms on a 2,000-comment article) would keep one worker
 * re-rendering it without pause. So a refreshed entry remembers what its
 * refresh cost (claim to gzip done), and once stale again it is served
 * to readers for CACHE_COALESCE times that cost after it went in, and at
 * least CACHE_HOLD_MIN_MS, up to stale_ms: the writes of that window make
 * one render, a hot page's refreshes take at most 1 / (1 + CACHE_COALESCE)
 * of one worker, and it is rendered at most 20 times a second however
 * cheap each render is. A page that keeps changing is held 50 ms (one
 * whose refresh took 20 ms, 80 ms); a quiet page (no refresh yet, or none
 * for longer than the hold) not at all. Writers still see their own write
 * at once (min_seq).
 */
#include "cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <libdeflate.h>
#include <xxhash.h>

#include "../http/http.h"
#include "../text/text.h"

#define KEY_BUCKETS 16384
#define TAG_BUCKETS 8192

/* An entry's place in one tag's bucket chain; an entry holds one per tag
 * in one array, and leaves each chain in O(1) through pprev (a pass down
 * the chain was O(entries with a tag in that bucket): the newest articles'
 * cards are on most pages, and evicting under the long tail walked
 * hundreds of nodes under the mutex for each page). */
struct tagnode {
	int64_t tag;
	cache_entry *e;
	struct tagnode *next, **pprev;
};

#define PROTECTED_SHARE 80 /* percent of the budget */
#define GZIP_LEVEL 6          /* see gzip_bytes */
#define GZIP_LEVEL_REFRESH 1
/* A refresh goes to the caller's background thread only for a copy read
 * at least this often: with fewer readers there is no one to hold up. */
#define BG_READS 16

struct cache_entry {
	char *key;
	uint64_t hash;
	cache_entry *hnext;       /* key bucket chain */
	cache_entry *prev, *next; /* its segment's LRU list: head most recent */
	/* set once (NULL → response) under the mutex, read without it */
	void *_Atomic resp[CACHE_VARIANT__MAX];
	char etag[24];
	char etag_gz[28];
	char *body;               /* type, headers, body: kept until gzip */
	size_t len, nextra;
	int64_t *tags;
	struct tagnode *tnodes;   /* one per tag, linked while e is */
	size_t ntags;
	int64_t expires;
	uint64_t seq;             /* the change the render had seen */
	int64_t refresh_us;       /* a refresh claimed then (0: none) */
	int64_t made_us;          /* linked then */
	int64_t cost_us;          /* the refresh that made it, claim to gzip
	                           * done (0: not a refresh) */
	size_t bytes;
	int refs;
	uint32_t reads;           /* answers given from it (saturating) */
	bool linked, prot, stale, gzipping;
};

struct lru {
	cache_entry *head, *tail;
	size_t bytes;
};

struct cache {
	pthread_mutex_t mu;
	size_t max_bytes, bytes, entries;
	cache_entry *keys[KEY_BUCKETS];
	struct tagnode *tagidx[TAG_BUCKETS];
	uint64_t tag_seq[TAG_BUCKETS]; /* newest cache_stale seq per bucket */
	uint64_t all_seq;              /* newest cache_stale_all seq */
	struct lru seg[2];             /* [0] probation, [1] protected */
	int64_t stale_ms;
	int64_t coalesce;              /* CACHE_COALESCE */
	int64_t hold_min_us;           /* CACHE_HOLD_MIN_MS */
	struct cache_stats st;
	cache_purger *purger;
	cache_entry *dead;             /* unreferenced: freed by cache_unlock */
};

/* A 64-bit hash for keys and ETags: XXH3 (libxxhash), several lanes at
 * once; our one-lane loop spent 17 µs of a 100-comment render on the
 * page's ETag. Not security-relevant: an ETag only has to change when
 * the bytes do, and keys are compared whole. */
uint64_t
cache_hash(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

static size_t
tag_bucket(int64_t tag)
{
	return (size_t)(((uint64_t)tag * 0x9E3779B97F4A7C15ULL) >> 40) %
	    TAG_BUCKETS;
}

cache *
cache_new(size_t max_bytes)
{
	cache *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	c->max_bytes = max_bytes;
	c->stale_ms = CACHE_STALE_MS;
	c->coalesce = CACHE_COALESCE;
	c->hold_min_us = CACHE_HOLD_MIN_MS * 1000;
	return c;
}

static int64_t
mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
entry_destroy(cache_entry *e)
{
	for (int v = 0; v < CACHE_VARIANT__MAX; v++)
		http_shared_free(e->resp[v]);
	free(e->key);
	free(e->body);
	free(e->tags);
	free(e->tnodes);
	free(e);
}

/* Drops one reference; the last one queues e to be freed once the mutex
 * is let go (cache_unlock). Caller holds the mutex. */
static void
entry_unref(cache *c, cache_entry *e)
{
	if (--e->refs == 0) {
		e->next = c->dead;
		c->dead = e;
	}
}

/* Lets the mutex go, then frees what was dropped under it: a page's
 * buffers are large, and free() may wait for another thread's malloc
 * arena; under the mutex every reader queued behind it (the long tail
 * evicts on every miss). */
static void
cache_unlock(cache *c)
{
	cache_entry *dead = c->dead;
	c->dead = NULL;
	pthread_mutex_unlock(&c->mu);
	while (dead != NULL) {
		cache_entry *next = dead->next;
		entry_destroy(dead);
		dead = next;
	}
}

static void
lru_remove(struct lru *l, cache_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	e->prev = e->next = NULL;
	l->bytes -= e->bytes;
}

static void
lru_push(struct lru *l, cache_entry *e)
{
	e->prev = NULL;
	e->next = l->head;
	if (l->head)
		l->head->prev = e;
	l->head = e;
	if (l->tail == NULL)
		l->tail = e;
	l->bytes += e->bytes;
}

/* Takes e out of the key table, its segment and the tag index, and drops
 * the cache's reference. Caller holds the mutex. */
static void
entry_unlink(cache *c, cache_entry *e)
{
	if (!e->linked)
		return;
	cache_entry **pp = &c->keys[e->hash % KEY_BUCKETS];
	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	lru_remove(&c->seg[e->prot], e);
	for (size_t i = 0; i < e->ntags; i++) {
		struct tagnode *t = &e->tnodes[i];
		*t->pprev = t->next;
		if (t->next)
			t->next->pprev = t->pprev;
		t->next = NULL;
		t->pprev = NULL;
	}
	c->bytes -= e->bytes;
	c->entries--;
	e->linked = false;
	entry_unref(c, e);
}

void
cache_clear(cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	for (int s = 0; s < 2; s++)
		while (c->seg[s].head)
			entry_unlink(c, c->seg[s].head);
	cache_unlock(c);
}

void
cache_free(cache *c)
{
	if (c == NULL)
		return;
	cache_clear(c);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* Holds protected to its share (its tail goes back to probation), then
 * evicts probation's least recently used, then protected's, until the
 * bytes fit the budget. */
static void
cache_trim(cache *c)
{
	struct lru *pro = &c->seg[0], *prot = &c->seg[1];
	size_t share = c->max_bytes / 100 * PROTECTED_SHARE;
	while (prot->tail && prot->bytes > share) {
		cache_entry *e = prot->tail;
		lru_remove(prot, e);
		e->prot = false;
		lru_push(pro, e);
	}
	while (c->bytes > c->max_bytes && (pro->tail || prot->tail)) {
		entry_unlink(c, pro->tail ? pro->tail : prot->tail);
		c->st.evictions++;
	}
}

void
cache_set_budget(cache *c, size_t max_bytes)
{
	pthread_mutex_lock(&c->mu);
	c->max_bytes = max_bytes;
	cache_trim(c);
	cache_unlock(c);
}

void
cache_set_coalesce(cache *c, int64_t factor)
{
	pthread_mutex_lock(&c->mu);
	c->coalesce = factor;
	cache_unlock(c);
}

void
cache_set_hold_min_ms(cache *c, int64_t ms)
{
	pthread_mutex_lock(&c->mu);
	c->hold_min_us = ms * 1000;
	cache_unlock(c);
}

void
cache_set_stale_ms(cache *c, int64_t ms)
{
	pthread_mutex_lock(&c->mu);
	c->stale_ms = ms;
	cache_unlock(c);
}

void
cache_stats(cache *c, struct cache_stats *out)
{
	pthread_mutex_lock(&c->mu);
	*out = c->st;
	out->entries = c->entries;
	out->bytes = c->bytes;
	out->max_bytes = c->max_bytes;
	out->protected_bytes = c->seg[1].bytes;
	cache_unlock(c);
}

static cache_entry *
cache_find(cache *c, const char *key, uint64_t h)
{
	for (cache_entry *e = c->keys[h % KEY_BUCKETS]; e; e = e->hnext)
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static bool entry_gzip(cache *c, cache_entry *e, int level);
static bool entry_plain(cache *c, cache_entry *e);

cache_entry *
cache_get(cache *c, const char *key, int64_t now, uint64_t min_seq, bool *bg)
{
	if (bg != NULL)
		*bg = false;
	if (c == NULL)
		return NULL;
	uint64_t h = cache_hash(key, strlen(key));
	pthread_mutex_lock(&c->mu);
	cache_entry *e = c->max_bytes ? cache_find(c, key, h) : NULL;
	if (e && e->expires <= now) {
		entry_unlink(c, e);
		e = NULL;
	}
	if (e && e->stale) {
		int64_t us = mono_us(), window = c->stale_ms * 1000;
		/* a refresh is on its way, or the page is one that changes
		 * faster than it renders and this copy is young (above) */
		bool inflight = e->refresh_us != 0 && us - e->refresh_us < window;
		int64_t hold = c->coalesce * e->cost_us;
		if (hold != 0 && hold < c->hold_min_us)
			hold = c->hold_min_us;
		bool young = us - e->made_us < (hold < window ? hold : window);
		/* a page that keeps changing (refreshed less than stale_ms
		 * ago and stale again) and that readers keep asking for */
		bool churning = c->coalesce && e->cost_us != 0 &&
		    us - e->made_us < window && e->reads >= BG_READS;
		if (min_seq <= e->seq && (inflight || young)) {
			c->st.stale_hits++;
		} else {
			/* This reader claims the refresh. */
			e->refresh_us = us;
			c->st.refreshes++;
			if (bg != NULL && min_seq <= e->seq && churning) {
				/* made by the caller's background thread: this
				 * reader too gets the previous bytes instead of
				 * holding up its worker's other readers */
				c->st.bg_refreshes++;
				c->st.stale_hits++;
				*bg = true;
			} else {
				e = NULL; /* it renders; the others wait on its put */
			}
		}
	}
	if (e == NULL) {
		c->st.misses++;
		cache_unlock(c);
		return NULL;
	}
	if (e->reads < UINT32_MAX)
		e->reads++;
	/* Most recently used moves to the head of the protected segment. */
	bool promoted = !e->prot;
	lru_remove(&c->seg[e->prot], e);
	e->prot = true;
	lru_push(&c->seg[1], e);
	if (promoted) {
		c->st.promotions++;
		cache_trim(c);
	}
	if (!entry_plain(c, e)) {
		entry_unlink(c, e);
		c->st.misses++;
		cache_unlock(c);
		return NULL;
	}
	bool zip = e->body != NULL && !e->gzipping;
	e->gzipping = e->gzipping || zip;
	e->refs++;
	c->st.hits++;
	cache_unlock(c);
	/* Asked for twice: worth compressing now, outside the lock (this
	 * answer goes out plain; the next ones may be gzip). */
	if (zip)
		entry_gzip(c, e, GZIP_LEVEL);
	return e;
}

void
cache_release(cache *c, cache_entry *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	entry_unref(c, e);
	cache_unlock(c);
}

void *
cache_response(const cache_entry *e, enum cache_variant v)
{
	return e->resp[v];
}

bool
cache_has_gzip(const cache_entry *e)
{
	return e->resp[CACHE_GZIP_304] != NULL;
}

const char *
cache_etag(const cache_entry *e, bool gzip)
{
	return gzip ? e->etag_gz : e->etag;
}

/*
 * gzip (RFC 1952) of body, malloc'd; NULL on failure. A page asked for
 * twice gets level 6 (made once, sent many times; 9 gains ~1% for 2x
 * the time). A refresh of a page that keeps changing (a breaking story
 * taking comments) gets level 1: it may be remade many times a second.
 *
 * libdeflate rather than zlib: pages are whole buffers, which is all it
 * does, and it does it faster (a 1.3 MB comment page: level 1 6.7 ms
 * against zlib's 11.5 and 12% smaller; level 6 22 ms against 82). Its
 * compressors are a few hundred KB each, so each thread keeps one per
 * level (freed when the thread ends).
 */
static pthread_key_t gzip_key;
static pthread_once_t gzip_once = PTHREAD_ONCE_INIT;

struct gzip_tls {
	struct libdeflate_compressor *lv[13];
};

static void
gzip_tls_free(void *p)
{
	struct gzip_tls *t = p;
	for (size_t i = 0; i < sizeof(t->lv) / sizeof(t->lv[0]); i++)
		libdeflate_free_compressor(t->lv[i]);
	free(t);
}

static void
gzip_key_make(void)
{
	if (pthread_key_create(&gzip_key, gzip_tls_free) != 0)
		abort();
}

static unsigned char *
gzip_bytes(const char *body, size_t n, int level, size_t *outn)
{
	pthread_once(&gzip_once, gzip_key_make);
	struct gzip_tls *t = pthread_getspecific(gzip_key);
	if (t == NULL) {
		t = xcalloc(1, sizeof(*t));
		pthread_setspecific(gzip_key, t);
	}
	if (level < 1 || level > 12)
		level = 6;
	if (t->lv[level] == NULL &&
	    (t->lv[level] = libdeflate_alloc_compressor(level)) == NULL)
		return NULL;
	size_t cap = libdeflate_gzip_compress_bound(t->lv[level], n);
	unsigned char *out = malloc(cap);
	if (out == NULL)
		return NULL;
	*outn = libdeflate_gzip_compress(t->lv[level], body, n, out, cap);
	if (*outn == 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* The headers every variant carries; nh set to their count. hdr[0] is
 * the ETag line (the caller swaps it for gzip). */
static void
entry_headers(const cache_entry *e, const char **hdr, size_t *nh,
    const char *const *extra, size_t nextra, char etag_h[64])
{
	snprintf(etag_h, 64, "ETag: %s", e->etag);
	*nh = 0;
	hdr[(*nh)++] = etag_h;
	hdr[(*nh)++] = "Vary: Accept-Encoding";
	hdr[(*nh)++] = "X-Cache: hit";
	for (size_t i = 0; i < nextra && *nh < 36; i++)
		hdr[(*nh)++] = extra[i];
}

/* The content type, extra headers and body kept in e->body. */
static const char *
entry_parts(const cache_entry *e, const char **extra, size_t *nextra,
    size_t *blen)
{
	const char *ct = e->body;
	const char *r = ct + strlen(ct) + 1;
	*nextra = 0;
	for (size_t i = 0; i < e->nextra; i++) {
		if (i < 32)
			extra[(*nextra)++] = r;
		r += strlen(r) + 1;
	}
	*blen = e->len - (size_t)(r - e->body);
	extra[*nextra] = r; /* (the body, after the headers) */
	return ct;
}

/*
 * The plain responses of e, made from e->body: under the mutex when a
 * page is first asked for again, or before it is linked for a refresh of
 * a protected page (cache_put). A page asked for once never needs
 * them: most of a crawl's pages pass through probation unasked, and
 * making them (a copy and a memfd per page) was a fifth of the long
 * tail's time. false when they cannot be made.
 */
static bool
entry_plain(cache *c, cache_entry *e)
{
	if (e->resp[CACHE_PLAIN] != NULL)
		return true;
	if (e->body == NULL)
		return false;
	const char *extra[33];
	size_t nx, blen;
	const char *ct = entry_parts(e, extra, &nx, &blen);
	const char *body = extra[nx];
	const char *hdr[40];
	size_t nh;
	char etag_h[64];
	entry_headers(e, hdr, &nh, extra, nx, etag_h);
	void *pl = http_shared_new(200, ct, body, blen, hdr, nh);
	void *p304 = http_shared_new(304, NULL, NULL, 0, hdr, nh);
	if (pl == NULL || p304 == NULL) {
		http_shared_free(pl);
		http_shared_free(p304);
		return false;
	}
	e->resp[CACHE_PLAIN_304] = p304;
	e->resp[CACHE_PLAIN] = pl;
	e->bytes += blen;
	if (e->linked) {
		c->bytes += blen;
		c->seg[e->prot].bytes += blen;
	}
	return true;
}

/* Keeps the page's bytes and headers for its responses (entry_plain, and
 * entry_gzip at promotion). */
static void
entry_build(cache_entry *e, const struct cache_page *p)
{
	/* in one block: the content type, the extra headers, the body */
	size_t need = strlen(p->content_type) + 1 + p->len;
	for (size_t i = 0; i < p->nheaders; i++)
		need += strlen(p->headers[i]) + 1;
	e->body = xmalloc(need);
	char *w = e->body;
	w = stpcpy(w, p->content_type) + 1;
	for (size_t i = 0; i < p->nheaders; i++)
		w = stpcpy(w, p->headers[i]) + 1;
	memcpy(w, p->body, p->len);
	e->len = need;
	e->nextra = p->nheaders;
	e->bytes = need + strlen(e->key) + sizeof(*e) + 1024;
}

/* Makes the gzip responses of an entry promoted to protected, outside the
 * lock; the entry is referenced by the caller. */
static bool
entry_gzip(cache *c, cache_entry *e, int level)
{
	const char *extra[33];
	size_t nx, blen;
	const char *ct = entry_parts(e, extra, &nx, &blen);
	const char *r = extra[nx];
	size_t gzn = 0;
	unsigned char *gz = gzip_bytes(r, blen, level, &gzn);
	void *g = NULL, *g304 = NULL;
	if (gz) {
		const char *hdr[40];
		size_t nh;
		char etag_h[64], etag_gz_h[64];
		entry_headers(e, hdr, &nh, extra, nx, etag_h);
		snprintf(etag_gz_h, sizeof(etag_gz_h), "ETag: %s", e->etag_gz);
		hdr[0] = etag_gz_h;
		hdr[nh++] = "Content-Encoding: gzip";
		g = http_shared_new(200, ct, gz, gzn, hdr, nh);
		g304 = http_shared_new(304, NULL, NULL, 0, hdr, nh);
		free(gz);
	}
	pthread_mutex_lock(&c->mu);
	bool ok = g != NULL && g304 != NULL;
	if (ok) {
		e->resp[CACHE_GZIP] = g;
		e->resp[CACHE_GZIP_304] = g304; /* last: cache_has_gzip */
		size_t was = e->bytes;
		e->bytes = e->bytes - e->len + gzn;
		if (e->linked) {
			c->bytes = c->bytes - was + e->bytes;
			c->seg[e->prot].bytes = c->seg[e->prot].bytes - was +
			    e->bytes;
		}
		free(e->body);
		e->body = NULL;
		e->len = 0;
	} else {
		http_shared_free(g);
		http_shared_free(g304);
	}
	e->gzipping = false;
	cache_unlock(c);
	return ok;
}

/* The newest invalidation seq that applies to a page with these tags. */
static uint64_t
tags_seq(const cache *c, const int64_t *tags, size_t n)
{
	uint64_t s = c->all_seq;
	for (size_t i = 0; i < n; i++)
		if (c->tag_seq[tag_bucket(tags[i])] > s)
			s = c->tag_seq[tag_bucket(tags[i])];
	return s;
}

bool
cache_put(cache *c, const char *key, const struct cache_page *p, char etag[24])
{
	uint64_t body_hash = cache_hash(p->body, p->len);
	snprintf(etag, 24, "\"k%016llx\"", (unsigned long long)body_hash);
	if (c == NULL)
		return false;
	uint64_t h = cache_hash(key, strlen(key));
	pthread_mutex_lock(&c->mu);
	size_t budget = c->max_bytes;
	/* A refresh of a page readers ask for (protected) gets its plain
	 * responses now, outside the lock; a new page when first asked
	 * for again (entry_plain). */
	cache_entry *was = budget ? cache_find(c, key, h) : NULL;
	bool hot = was != NULL && was->prot;
	cache_unlock(c);
	if (budget == 0 || p->len > budget / 8)
		return false;

	/* Build outside the lock. */
	cache_entry *e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	e->hash = h;
	e->expires = p->expires;
	e->seq = p->seq;
	memcpy(e->etag, etag, strlen(etag) + 1);
	snprintf(e->etag_gz, sizeof(e->etag_gz), "\"k%016llx-gz\"",
	    (unsigned long long)body_hash);
	if (p->ntags) {
		e->tags = xmalloc(p->ntags * sizeof(*e->tags));
		memcpy(e->tags, p->tags, p->ntags * sizeof(*e->tags));
		e->tnodes = xcalloc(p->ntags, sizeof(*e->tnodes));
		e->ntags = p->ntags;
	}
	entry_build(e, p);
	if (hot && !entry_plain(c, e)) { /* (e not linked: no lock needed) */
		entry_destroy(e);
		return false;
	}
	/* and its gzip too, before it replaces the copy readers have: linked
	 * first, every reader until the gzip was done got the plain page
	 * (1.7 MB for 2,000 comments, not 56 KB), which was most of a hot
	 * page's p99 while comments arrived. */
	if (hot)
		entry_gzip(c, e, GZIP_LEVEL_REFRESH);

	pthread_mutex_lock(&c->mu);
	cache_entry *old = cache_find(c, key, e->hash);
	/* A refresh keeps its page's place: a hot page stays protected. */
	e->prot = old != NULL && old->prot;
	int64_t claimed = old != NULL && old->stale ? old->refresh_us : 0;
	e->made_us = mono_us();
	if (claimed)
		e->cost_us = e->made_us - claimed;
	if (old)
		entry_unlink(c, old);
	/* Rendered from a state some write has since changed: keep it for
	 * readers while a newer render comes, but as stale. */
	e->stale = tags_seq(c, e->tags, e->ntags) > e->seq;
	e->refs = 1;
	e->linked = true;
	e->hnext = c->keys[e->hash % KEY_BUCKETS];
	c->keys[e->hash % KEY_BUCKETS] = e;
	lru_push(&c->seg[e->prot], e);
	for (size_t i = 0; i < e->ntags; i++) {
		struct tagnode *t = &e->tnodes[i];
		struct tagnode **head = &c->tagidx[tag_bucket(e->tags[i])];
		t->tag = e->tags[i];
		t->e = e;
		t->next = *head;
		t->pprev = head;
		if (*head)
			(*head)->pprev = &t->next;
		*head = t;
	}
	c->bytes += e->bytes;
	c->entries++;
	c->st.puts++;
	cache_trim(c);
	/* (protected while the peek above saw it in probation: rare) */
	if (e->prot && e->linked && !entry_plain(c, e))
		entry_unlink(c, e);
	bool zip = e->prot && e->linked && e->body != NULL;
	e->gzipping = zip;
	if (zip)
		e->refs++;
	cache_unlock(c);
	/* (a page that became protected meanwhile: its gzip now) */
	if (zip) {
		entry_gzip(c, e, GZIP_LEVEL_REFRESH);
		if (claimed) {
			pthread_mutex_lock(&c->mu);
			e->cost_us = mono_us() - claimed;
			cache_unlock(c);
		}
		cache_release(c, e);
	}
	return true;
}

size_t
cache_invalidate(cache *c, int64_t tag)
{
	if (c == NULL)
		return 0;
	size_t n = 0, cap = 0;
	cache_entry **hits = NULL;
	pthread_mutex_lock(&c->mu);
	/* Collected first: unlinking an entry takes all its tag nodes out
	 * of the list being walked, and a rescan after each would be
	 * quadratic in the tag's entries. */
	for (struct tagnode *t = c->tagidx[tag_bucket(tag)]; t; t = t->next) {
		if (t->tag != tag)
			continue;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			cache_entry **p = realloc(hits, ncap * sizeof(*p));
			if (p == NULL)
				break; /* the rest stays; the caller's count says so */
			hits = p;
			cap = ncap;
		}
		hits[n++] = t->e;
	}
	for (size_t i = 0; i < n; i++) {
		cache_purger_add(c->purger, hits[i]->key);
		entry_unlink(c, hits[i]);
	}
	free(hits);
	c->st.invalidations += n;
	cache_unlock(c);
	return n;
}

/* Marks e stale (caller holds the mutex); true when it was fresh. */
static bool
entry_stale(cache *c, cache_entry *e)
{
	if (e->stale)
		return false;
	e->stale = true;
	e->refresh_us = 0;
	cache_purger_add(c->purger, e->key);
	return true;
}

size_t
cache_stale(cache *c, int64_t tag, uint64_t seq)
{
	if (c == NULL)
		return 0;
	size_t n = 0, b = tag_bucket(tag);
	pthread_mutex_lock(&c->mu);
	if (seq > c->tag_seq[b])
		c->tag_seq[b] = seq;
	for (struct tagnode *t = c->tagidx[b]; t; t = t->next)
		if (t->tag == tag && t->e->seq < seq && entry_stale(c, t->e))
			n++;
	c->st.invalidations += n;
	cache_unlock(c);
	return n;
}

void
cache_drop_stale(cache *c, const char *key)
{
	if (c == NULL)
		return;
	uint64_t h = cache_hash(key, strlen(key));
	pthread_mutex_lock(&c->mu);
	cache_entry *e = cache_find(c, key, h);
	if (e && e->stale)
		entry_unlink(c, e);
	cache_unlock(c);
}

size_t
cache_stale_all(cache *c, uint64_t seq)
{
	if (c == NULL)
		return 0;
	size_t n = 0;
	pthread_mutex_lock(&c->mu);
	if (seq > c->all_seq)
		c->all_seq = seq;
	for (int s = 0; s < 2; s++)
		for (cache_entry *e = c->seg[s].head; e; e = e->next)
			if (e->seq < seq && entry_stale(c, e))
				n++;
	c->st.invalidations += n;
	cache_unlock(c);
	return n;
}

void
cache_set_purger(cache *c, cache_purger *p)
{
	pthread_mutex_lock(&c->mu);
	c->purger = p;
	cache_unlock(c);
}

/* True when the header lists gzip without q=0. */
bool
cache_accepts_gzip(const char *ae)
{
	if (ae == NULL)
		return false;
	for (const char *p = ae; *p;) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, ",");
		const char *semi = memchr(p, ';', n);
		size_t tn = semi ? (size_t)(semi - p) : n;
		while (tn && (p[tn - 1] == ' ' || p[tn - 1] == '\t'))
			tn--;
		if ((tn == 4 && strncasecmp(p, "gzip", 4) == 0) ||
		    (tn == 1 && *p == '*')) {
			const char *qv = semi ? strstr(semi, "q=") : NULL;
			if (qv == NULL || qv > p + n || strtod(qv + 2, NULL) > 0)
				return tn == 4; /* '*' alone: send identity */
		}
		p += n;
	}
	return false;
}

bool
cache_etag_match(const char *inm, const char *etag)
{
	if (inm == NULL)
		return false;
	size_t en = strlen(etag);
	for (const char *p = inm; *p;) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, ",");
		size_t tn = n;
		while (tn && (p[tn - 1] == ' ' || p[tn - 1] == '\t'))
			tn--;
		const char *t = p;
		if (tn > 2 && t[0] == 'W' && t[1] == '/') { /* weak compare */
			t += 2;
			tn -= 2;
		}
		if ((tn == 1 && *t == '*') || (tn == en && memcmp(t, etag, en) == 0))
			return true;
		p += n;
	}
	return false;
}
