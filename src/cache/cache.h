/*
 * cache: rendered pages kept in memory under a byte budget, LRU-evicted,
 * each stored once as ready-to-queue shared HTTP responses (plain, gzip,
 * and their 304s) with a strong ETag. Entries carry tags (numbers the site
 * chooses, e.g. "shows article 42's comments") so a write invalidates
 * exactly the pages it changes. Thread-safe; one mutex, held briefly.
 */
#ifndef KIJI_CACHE_H
#define KIJI_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cache_variant {
	CACHE_PLAIN,
	CACHE_GZIP,
	CACHE_PLAIN_304,
	CACHE_GZIP_304,
	CACHE_VARIANT__MAX
};

typedef struct cache cache;
typedef struct cache_entry cache_entry;

/* max_bytes 0 disables the cache (every get misses, put does nothing). */
cache *cache_new(size_t max_bytes);
void cache_free(cache *c); /* NULL-safe */
void cache_set_budget(cache *c, size_t max_bytes);

struct cache_stats {
	uint64_t hits, misses, puts, evictions, invalidations;
	size_t entries, bytes, max_bytes;
};
void cache_stats(cache *c, struct cache_stats *out);

/* The entry for key if present and not expired at now, with a reference
 * taken (give it back with cache_release); NULL on a miss. */
cache_entry *cache_get(cache *c, const char *key, int64_t now);
void cache_release(cache *c, cache_entry *e);
/* The shared response of a variant (see http_shared_new). */
void *cache_response(const cache_entry *e, enum cache_variant v);
/* Strong ETag of the plain variant, quoted: "\"k1a2b...\"". gzip: +"-gz". */
const char *cache_etag(const cache_entry *e, bool gzip);

struct cache_page {
	const char *content_type;
	const char *body;
	size_t len;
	const char *const *headers; /* extra "Name: value" lines */
	size_t nheaders;
	const int64_t *tags;
	size_t ntags;
	int64_t expires; /* epoch seconds */
};
/*
 * Stores (or replaces) the page under key: gzips it once, builds the shared
 * responses. Writes the ETag it chose into etag (>= 24 bytes) so the caller
 * can send it on this first (miss) answer too. false when disabled or the
 * page is larger than an eighth of the budget.
 */
bool cache_put(cache *c, const char *key, const struct cache_page *p,
    char etag[24]);

/* Drops every entry carrying tag; returns how many. */
size_t cache_invalidate(cache *c, int64_t tag);
void cache_clear(cache *c);

/* 64-bit content hash (keys, ETags; not for security). */
uint64_t cache_hash(const void *p, size_t n);

/* Parses an Accept-Encoding header: true when gzip is acceptable. */
bool cache_accepts_gzip(const char *accept_encoding);
/* True when an If-None-Match header value matches etag (list or "*"). */
bool cache_etag_match(const char *if_none_match, const char *etag);

/* ---- CDN purge hook (purge.c) ------------------------------------------- */

/*
 * Changed paths are POSTed in batches to a URL as {"paths": [...]} (the single path "/" + "*"
 * for everything) from a background thread. A cache given a purger
 * queues the keys of the entries cache_invalidate drops.
 */
typedef struct cache_purger cache_purger;
cache_purger *cache_purger_new(void);
void cache_purger_free(cache_purger *p); /* sends what is queued first */
/* "" or NULL turns purging off. */
void cache_purger_set_url(cache_purger *p, const char *url);
void cache_purger_add(cache_purger *p, const char *path);
void cache_purger_all(cache_purger *p);
void cache_purger_stats(cache_purger *p, uint64_t *sent, uint64_t *failed);
void cache_set_purger(cache *c, cache_purger *p);

#endif
