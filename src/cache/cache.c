/*
 * The page cache. A hash of key → entry, an LRU list for the byte budget,
 * and a tag index (tag → entries) for precise invalidation. An entry is
 * reference-counted: the cache holds one reference while it is linked and
 * every request serving it holds one until its response is queued; MHD
 * then keeps its own references to the shared responses.
 */
#include "cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "../http/http.h"
#include "../text/text.h"

#define KEY_BUCKETS 16384
#define TAG_BUCKETS 8192

struct tagnode {
	int64_t tag;
	cache_entry *e;
	struct tagnode *next;
};

struct cache_entry {
	char *key;
	uint64_t hash;
	cache_entry *hnext;       /* key bucket chain */
	cache_entry *prev, *next; /* LRU: head is most recent */
	void *resp[CACHE_VARIANT__MAX];
	char etag[24];
	char etag_gz[28];
	int64_t *tags;
	size_t ntags;
	int64_t expires;
	size_t bytes;
	int refs;
	bool linked;
};

struct cache {
	pthread_mutex_t mu;
	size_t max_bytes, bytes, entries;
	cache_entry *keys[KEY_BUCKETS];
	struct tagnode *tagidx[TAG_BUCKETS];
	cache_entry *head, *tail;
	struct cache_stats st;
	cache_purger *purger;
};

/* A 64-bit hash for keys and ETags, eight bytes a step (a byte-wise FNV
 * cost ~100 µs on a 100 KB page). Not security-relevant: an ETag only has
 * to change when the bytes do. */
uint64_t
cache_hash(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		h ^= w * 0xFF51AFD7ED558CCDULL;
		h = (h << 31 | h >> 33) * 0xC4CEB9FE1A85EC53ULL;
	}
	for (; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ULL;
	h ^= h >> 33;
	h *= 0xFF51AFD7ED558CCDULL;
	h ^= h >> 33;
	return h;
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
	return c;
}

static void
entry_destroy(cache_entry *e)
{
	for (int v = 0; v < CACHE_VARIANT__MAX; v++)
		http_shared_free(e->resp[v]);
	free(e->key);
	free(e->tags);
	free(e);
}

/* Drops one reference; the last one frees. Caller holds the mutex. */
static void
entry_unref(cache_entry *e)
{
	if (--e->refs == 0)
		entry_destroy(e);
}

/* Takes e out of the key table, the LRU list and the tag index, and drops
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
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	for (size_t i = 0; i < e->ntags; i++) {
		struct tagnode **tp = &c->tagidx[tag_bucket(e->tags[i])];
		while (*tp) {
			if ((*tp)->e == e && (*tp)->tag == e->tags[i]) {
				struct tagnode *dead = *tp;
				*tp = dead->next;
				free(dead);
				break;
			}
			tp = &(*tp)->next;
		}
	}
	c->bytes -= e->bytes;
	c->entries--;
	e->linked = false;
	entry_unref(e);
}

void
cache_clear(cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	while (c->head)
		entry_unlink(c, c->head);
	pthread_mutex_unlock(&c->mu);
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

/* Evicts least recently used entries until bytes fit the budget. */
static void
cache_trim(cache *c)
{
	while (c->tail && c->bytes > c->max_bytes) {
		entry_unlink(c, c->tail);
		c->st.evictions++;
	}
}

void
cache_set_budget(cache *c, size_t max_bytes)
{
	pthread_mutex_lock(&c->mu);
	c->max_bytes = max_bytes;
	cache_trim(c);
	pthread_mutex_unlock(&c->mu);
}

void
cache_stats(cache *c, struct cache_stats *out)
{
	pthread_mutex_lock(&c->mu);
	*out = c->st;
	out->entries = c->entries;
	out->bytes = c->bytes;
	out->max_bytes = c->max_bytes;
	pthread_mutex_unlock(&c->mu);
}

static cache_entry *
cache_find(cache *c, const char *key, uint64_t h)
{
	for (cache_entry *e = c->keys[h % KEY_BUCKETS]; e; e = e->hnext)
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

cache_entry *
cache_get(cache *c, const char *key, int64_t now)
{
	if (c == NULL)
		return NULL;
	uint64_t h = cache_hash(key, strlen(key));
	pthread_mutex_lock(&c->mu);
	cache_entry *e = c->max_bytes ? cache_find(c, key, h) : NULL;
	if (e && e->expires <= now) {
		entry_unlink(c, e);
		e = NULL;
	}
	if (e == NULL) {
		c->st.misses++;
		pthread_mutex_unlock(&c->mu);
		return NULL;
	}
	/* Most recently used moves to the head. */
	if (c->head != e) {
		e->prev->next = e->next;
		if (e->next)
			e->next->prev = e->prev;
		else
			c->tail = e->prev;
		e->prev = NULL;
		e->next = c->head;
		c->head->prev = e;
		c->head = e;
	}
	e->refs++;
	c->st.hits++;
	pthread_mutex_unlock(&c->mu);
	return e;
}

void
cache_release(cache *c, cache_entry *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	entry_unref(e);
	pthread_mutex_unlock(&c->mu);
}

void *
cache_response(const cache_entry *e, enum cache_variant v)
{
	return e->resp[v];
}

const char *
cache_etag(const cache_entry *e, bool gzip)
{
	return gzip ? e->etag_gz : e->etag;
}

/* gzip (RFC 1952) of body, malloc'd; NULL on failure. Level 6: compressed
 * once per entry, so the level matters little; 9 gains ~1% for 2× time. */
static unsigned char *
gzip_bytes(const char *body, size_t n, size_t *outn)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	size_t cap = deflateBound(&z, (uLong)n) + 32;
	unsigned char *out = malloc(cap);
	if (out == NULL) {
		deflateEnd(&z);
		return NULL;
	}
	z.next_in = (Bytef *)(uintptr_t)body;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	*outn = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	return out;
}

/* Builds the four shared responses of an entry. */
static bool
entry_build(cache_entry *e, const struct cache_page *p)
{
	const char *hdr[40];
	size_t nh = 0;
	char etag_h[64], etag_gz_h[64];
	snprintf(etag_h, sizeof(etag_h), "ETag: %s", e->etag);
	snprintf(etag_gz_h, sizeof(etag_gz_h), "ETag: %s", e->etag_gz);
	hdr[nh++] = etag_h;
	hdr[nh++] = "Vary: Accept-Encoding";
	hdr[nh++] = "X-Cache: hit";
	for (size_t i = 0; i < p->nheaders && nh < 36; i++)
		hdr[nh++] = p->headers[i];

	size_t gzn = 0;
	unsigned char *gz = gzip_bytes(p->body, p->len, &gzn);
	if (gz == NULL)
		return false;
	e->resp[CACHE_PLAIN] = http_shared_new(200, p->content_type, p->body,
	    p->len, hdr, nh);
	e->resp[CACHE_PLAIN_304] = http_shared_new(304, NULL, NULL, 0, hdr, nh);
	hdr[0] = etag_gz_h;
	hdr[nh++] = "Content-Encoding: gzip";
	e->resp[CACHE_GZIP] = http_shared_new(200, p->content_type, gz, gzn, hdr,
	    nh);
	e->resp[CACHE_GZIP_304] = http_shared_new(304, NULL, NULL, 0, hdr, nh);
	free(gz);
	e->bytes = p->len + gzn + strlen(e->key) + sizeof(*e) + 1024;
	for (int v = 0; v < CACHE_VARIANT__MAX; v++)
		if (e->resp[v] == NULL)
			return false;
	return true;
}

bool
cache_put(cache *c, const char *key, const struct cache_page *p, char etag[24])
{
	uint64_t body_hash = cache_hash(p->body, p->len);
	snprintf(etag, 24, "\"k%016llx\"", (unsigned long long)body_hash);
	if (c == NULL)
		return false;
	pthread_mutex_lock(&c->mu);
	size_t budget = c->max_bytes;
	pthread_mutex_unlock(&c->mu);
	if (budget == 0 || p->len > budget / 8)
		return false;

	/* Compress and build outside the lock: this is the slow part. */
	cache_entry *e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	e->hash = cache_hash(key, strlen(key));
	e->expires = p->expires;
	memcpy(e->etag, etag, strlen(etag) + 1);
	snprintf(e->etag_gz, sizeof(e->etag_gz), "\"k%016llx-gz\"",
	    (unsigned long long)body_hash);
	if (p->ntags) {
		e->tags = xmalloc(p->ntags * sizeof(*e->tags));
		memcpy(e->tags, p->tags, p->ntags * sizeof(*e->tags));
		e->ntags = p->ntags;
	}
	if (!entry_build(e, p)) {
		entry_destroy(e);
		return false;
	}

	pthread_mutex_lock(&c->mu);
	cache_entry *old = cache_find(c, key, e->hash);
	if (old)
		entry_unlink(c, old);
	e->refs = 1;
	e->linked = true;
	e->hnext = c->keys[e->hash % KEY_BUCKETS];
	c->keys[e->hash % KEY_BUCKETS] = e;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
	for (size_t i = 0; i < e->ntags; i++) {
		struct tagnode *t = xmalloc(sizeof(*t));
		t->tag = e->tags[i];
		t->e = e;
		size_t b = tag_bucket(t->tag);
		t->next = c->tagidx[b];
		c->tagidx[b] = t;
	}
	c->bytes += e->bytes;
	c->entries++;
	c->st.puts++;
	cache_trim(c);
	pthread_mutex_unlock(&c->mu);
	return true;
}

size_t
cache_invalidate(cache *c, int64_t tag)
{
	if (c == NULL)
		return 0;
	size_t n = 0;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		cache_entry *hit = NULL;
		for (struct tagnode *t = c->tagidx[tag_bucket(tag)]; t; t = t->next)
			if (t->tag == tag) {
				hit = t->e;
				break;
			}
		if (hit == NULL)
			break;
		cache_purger_add(c->purger, hit->key);
		entry_unlink(c, hit);
		n++;
	}
	c->st.invalidations += n;
	pthread_mutex_unlock(&c->mu);
	return n;
}

void
cache_set_purger(cache *c, cache_purger *p)
{
	pthread_mutex_lock(&c->mu);
	c->purger = p;
	pthread_mutex_unlock(&c->mu);
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
