/*
 * cache: rendered pages kept in memory under a byte budget (segmented LRU:
 * a page enters on probation and is protected from its second request on),
 * each stored once as ready-to-queue shared HTTP responses (plain, gzip
 * once it is asked for twice, and their 304s) with a strong ETag. Entries
 * carry tags (numbers the site chooses, e.g. "shows article 42's
 * comments") so a write invalidates exactly the pages it changes: marks
 * them stale, and one reader renders while the others get the previous
 * bytes for a bounded time (see cache.c). Thread-safe; one mutex, held
 * briefly.
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

/* How long readers may be given a stale page while one of them renders
 * its refresh (from the moment that render began). */
#define CACHE_STALE_MS 100
/* A stale page that was itself a refresh is kept for readers this many
 * times what that refresh cost (render and gzip), at most CACHE_STALE_MS:
 * a page's refreshes then take at most a fifth of one worker, however
 * fast it changes (cache.c). */
#define CACHE_COALESCE 4
/* ... and at least this long (while coalescing is on): a page that keeps
 * changing is rendered again at most 20 times a second, whatever its size
 * (50 comments a second on a 500-comment page made 50 renders and gzips
 * of ~480 KB a second, each the 1.5 ms its refresh took; held 50 ms they
 * make 20). Never longer than stale_ms. */
#define CACHE_HOLD_MIN_MS 50

/* max_bytes 0 disables the cache (every get misses, put does nothing). */
cache *cache_new(size_t max_bytes);
void cache_free(cache *c); /* NULL-safe */
void cache_set_budget(cache *c, size_t max_bytes);
void cache_set_stale_ms(cache *c, int64_t ms);
void cache_set_coalesce(cache *c, int64_t factor); /* 0: refresh at once */
void cache_set_hold_min_ms(cache *c, int64_t ms);  /* 0: the factor alone */

struct cache_stats {
	uint64_t hits, misses, puts, evictions, invalidations;
	uint64_t stale_hits; /* previous bytes served during a refresh */
	uint64_t refreshes;  /* misses that re-render a stale page */
	uint64_t bg_refreshes; /* of which handed to a background thread */
	uint64_t promotions; /* probation → protected (second request) */
	size_t entries, bytes, max_bytes, protected_bytes;
};
void cache_stats(cache *c, struct cache_stats *out);

/*
 * The entry for key if present and not expired at now, with a reference
 * taken (give it back with cache_release); NULL on a miss. A stale entry
 * is returned only while another reader's refresh is in flight and only
 * to readers whose own newest write (min_seq, 0 for none) it already
 * shows; otherwise NULL, and this caller is the one expected to render
 * and cache_put.
 *
 * With bg (may be NULL): a stale page that was refreshed less than
 * stale_ms ago (one that keeps changing) and read 16 times since is
 * returned too when its refresh falls due, with *bg set: the caller has
 * claimed that refresh
 * and must have it rendered and put by another thread, or release the
 * entry and render it itself. Off when coalescing is (factor 0).
 */
cache_entry *cache_get(cache *c, const char *key, int64_t now,
    uint64_t min_seq, bool *bg);
void cache_release(cache *c, cache_entry *e);
/* The shared response of a variant (see http_shared_new); the gzip ones
 * are NULL until the page has been asked for twice. */
void *cache_response(const cache_entry *e, enum cache_variant v);
bool cache_has_gzip(const cache_entry *e);
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
	uint64_t seq;    /* the newest change the render had seen (see
	                  * cache_stale); 0 when the caller tracks none */
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
/* Change seq changed what pages with tag show: marks those rendered
 * before it stale (the next reader refreshes), and makes a later put of
 * a page rendered before it stale too. Returns how many were marked. */
size_t cache_stale(cache *c, int64_t tag, uint64_t seq);
/* The same for every page (titles, order, settings). */
size_t cache_stale_all(cache *c, uint64_t seq);
/* Drops key's entry if it is stale: its refresh found the page gone or
 * moved (a 404 or a 301 is not kept), so there is no newer copy coming. */
void cache_drop_stale(cache *c, const char *key);

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
