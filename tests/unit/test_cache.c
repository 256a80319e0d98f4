/* Unit tests for src/cache: budget, segmented LRU, expiry, tags, stale
 * pages and their refresh, ETags, encodings. */
#include "t.h"

#include <pthread.h>
#include <unistd.h>
#include <zlib.h>

#include "../../src/cache/cache.h"

static struct cache_page
page(const char *body, const int64_t *tags, size_t ntags, int64_t expires)
{
	static const char *const hdr[] = {"Cache-Control: public, max-age=0"};
	struct cache_page p = {
		.content_type = "text/html; charset=utf-8",
		.body = body,
		.len = strlen(body),
		.headers = hdr,
		.nheaders = 1,
		.tags = tags,
		.ntags = ntags,
		.expires = expires,
	};
	return p;
}

static void
test_put_get(void)
{
	cache *c = cache_new(1 << 20);
	char etag[24];
	struct cache_page p = page("<p>hello</p>", NULL, 0, 100);
	T_CHECK(cache_put(c, "/a", &p, etag));
	T_CHECK(etag[0] == '"');
	cache_entry *e = cache_get(c, "/a", 50, 0, NULL);
	T_CHECK(e != NULL);
	if (e) {
		T_STREQ(cache_etag(e, false), etag);
		T_CHECK(strstr(cache_etag(e, true), "-gz") != NULL);
		for (int v = 0; v < CACHE_VARIANT__MAX; v++)
			T_CHECK(cache_response(e, (enum cache_variant)v) != NULL);
		cache_release(c, e);
	}
	T_CHECK(cache_get(c, "/b", 50, 0, NULL) == NULL);
	/* Same bytes, same ETag; other bytes, other ETag. */
	char etag2[24], etag3[24];
	cache_put(c, "/a2", &p, etag2);
	T_STREQ(etag, etag2);
	struct cache_page q = page("<p>hello!</p>", NULL, 0, 100);
	cache_put(c, "/a3", &q, etag3);
	T_CHECK(strcmp(etag, etag3) != 0);
	cache_free(c);
}

static void
test_expiry(void)
{
	cache *c = cache_new(1 << 20);
	char etag[24];
	struct cache_page p = page("x", NULL, 0, 100);
	cache_put(c, "/a", &p, etag);
	T_CHECK(cache_get(c, "/a", 100, 0, NULL) == NULL); /* expires is exclusive */
	T_CHECK(cache_get(c, "/a", 99, 0, NULL) == NULL);  /* and the entry is gone */
	cache_free(c);
}

static void
test_tags(void)
{
	cache *c = cache_new(1 << 20);
	char etag[24];
	int64_t t1[] = {1, 2}, t2[] = {2, 3}, t3[] = {4};
	struct cache_page a = page("a", t1, 2, 1000), b = page("b", t2, 2, 1000),
	    d = page("d", t3, 1, 1000);
	cache_put(c, "/a", &a, etag);
	cache_put(c, "/b", &b, etag);
	cache_put(c, "/d", &d, etag);
	T_CHECK(cache_invalidate(c, 2) == 2);
	T_CHECK(cache_get(c, "/a", 1, 0, NULL) == NULL);
	T_CHECK(cache_get(c, "/b", 1, 0, NULL) == NULL);
	cache_entry *e = cache_get(c, "/d", 1, 0, NULL);
	T_CHECK(e != NULL);
	cache_release(c, e);
	T_CHECK(cache_invalidate(c, 2) == 0);
	T_CHECK(cache_invalidate(c, 4) == 1);
	struct cache_stats st;
	cache_stats(c, &st);
	T_CHECK(st.entries == 0);
	T_CHECK(st.bytes == 0);
	cache_free(c);
}

static void
test_lru_budget(void)
{
	/* Each entry costs a little over 1 KiB of bookkeeping plus its bytes. */
	cache *c = cache_new(40000);
	char etag[24], key[32], body[2000];
	memset(body, 'x', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	struct cache_page p = page(body, NULL, 0, 1000);
	for (int i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "/p%d", i);
		cache_put(c, key, &p, etag);
		/* Keep /p0 hot: it must survive. */
		cache_entry *e = cache_get(c, "/p0", 1, 0, NULL);
		T_CHECK(e != NULL);
		cache_release(c, e);
	}
	struct cache_stats st;
	cache_stats(c, &st);
	T_CHECK(st.bytes <= 40000);
	T_CHECK(st.evictions > 0);
	T_CHECK(cache_get(c, "/p1", 1, 0, NULL) == NULL);
	cache_entry *e = cache_get(c, "/p49", 1, 0, NULL);
	T_CHECK(e != NULL);
	cache_release(c, e);
	/* Too large for the budget: refused. */
	char big[10000];
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct cache_page pb = page(big, NULL, 0, 1000);
	T_CHECK(!cache_put(c, "/big", &pb, etag));
	/* Budget 0 disables. */
	cache_set_budget(c, 0);
	T_CHECK(cache_get(c, "/p0", 1, 0, NULL) == NULL);
	T_CHECK(!cache_put(c, "/x", &p, etag));
	cache_free(c);
}

static void
test_held_entry_survives_eviction(void)
{
	cache *c = cache_new(1 << 20);
	char etag[24];
	struct cache_page p = page("held", NULL, 0, 1000);
	cache_put(c, "/h", &p, etag);
	cache_entry *e = cache_get(c, "/h", 1, 0, NULL);
	T_CHECK(e != NULL);
	cache_clear(c);
	/* Still usable: the reference keeps it alive (ASan would see a
	 * use-after-free otherwise). */
	T_STREQ(cache_etag(e, false), etag);
	cache_release(c, e);
	cache_free(c);
}

static void
test_replace(void)
{
	cache *c = cache_new(1 << 20);
	char e1[24], e2[24];
	struct cache_page p1 = page("one", NULL, 0, 1000), p2 = page("two", NULL, 0, 1000);
	cache_put(c, "/k", &p1, e1);
	cache_put(c, "/k", &p2, e2);
	cache_entry *e = cache_get(c, "/k", 1, 0, NULL);
	T_CHECK(e != NULL);
	if (e) {
		T_STREQ(cache_etag(e, false), e2);
		cache_release(c, e);
	}
	struct cache_stats st;
	cache_stats(c, &st);
	T_CHECK(st.entries == 1);
	cache_free(c);
}

static void
test_accepts_gzip(void)
{
	T_CHECK(cache_accepts_gzip("gzip"));
	T_CHECK(cache_accepts_gzip("gzip, deflate, br"));
	T_CHECK(cache_accepts_gzip("br;q=1.0, GZIP;q=0.5"));
	T_CHECK(!cache_accepts_gzip("gzip;q=0"));
	T_CHECK(!cache_accepts_gzip("deflate, br"));
	T_CHECK(!cache_accepts_gzip("xgzip"));
	T_CHECK(!cache_accepts_gzip(""));
	T_CHECK(!cache_accepts_gzip(NULL));
	T_CHECK(!cache_accepts_gzip("identity, *;q=0"));
}

static void
test_etag_match(void)
{
	const char *et = "\"k0123456789abcdef\"";
	T_CHECK(cache_etag_match(et, et));
	T_CHECK(cache_etag_match("\"other\", \"k0123456789abcdef\"", et));
	T_CHECK(cache_etag_match("W/\"k0123456789abcdef\"", et));
	T_CHECK(cache_etag_match("*", et));
	T_CHECK(!cache_etag_match("\"k0123456789abcdee\"", et));
	T_CHECK(!cache_etag_match("", et));
	T_CHECK(!cache_etag_match(NULL, et));
	T_CHECK(!cache_etag_match("\"k0123456789abcdef", et));
}

static void
test_many_tags_index(void)
{
	/* 2,000 entries sharing one tag, each with its own: invalidating the
	 * shared one drops all, the index is left empty. */
	cache *c = cache_new(64 << 20);
	char etag[24], key[32];
	for (int i = 0; i < 2000; i++) {
		int64_t tags[] = {7, 1000 + i};
		struct cache_page p = page("z", tags, 2, 1000);
		snprintf(key, sizeof(key), "/m%d", i);
		cache_put(c, key, &p, etag);
	}
	T_CHECK(cache_invalidate(c, 1500) == 1);
	T_CHECK(cache_invalidate(c, 7) == 1999);
	struct cache_stats st;
	cache_stats(c, &st);
	T_CHECK(st.entries == 0);
	cache_free(c);
}

/* Hit once more: cache_get then cache_release; true when it hit. With
 * claimed: whether it handed this caller a refresh to have made
 * elsewhere (cache_get's bg). */
static bool
hit_bg(cache *c, const char *key, uint64_t min_seq, bool *claimed)
{
	cache_entry *e = cache_get(c, key, 1, min_seq, claimed);
	cache_release(c, e);
	return e != NULL;
}

static bool
hit(cache *c, const char *key, uint64_t min_seq)
{
	return hit_bg(c, key, min_seq, NULL);
}

static void
test_admission_flood(void)
{
	/* 20 pages readers keep asking for, then 2,000 URLs asked for once
	 * (a crawler, or random query strings): the 20 stay. */
	cache *c = cache_new(400000);
	char etag[24], key[32], body[2000];
	memset(body, 'h', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	struct cache_page p = page(body, NULL, 0, 1000);
	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "/hot%d", i);
		T_CHECK(cache_put(c, key, &p, etag));
		T_CHECK(hit(c, key, 0)); /* second request: protected */
	}
	for (int i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "/once%d", i);
		cache_put(c, key, &p, etag);
	}
	struct cache_stats st;
	cache_stats(c, &st);
	T_CHECK(st.evictions > 1500);
	T_CHECK(st.bytes <= 400000);
	T_CHECK(st.protected_bytes <= 400000 / 100 * 80);
	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "/hot%d", i);
		T_CHECK(hit(c, key, 0));
	}
	T_CHECK(!hit(c, "/once0", 0));
	T_CHECK(hit(c, "/once1999", 0)); /* probation keeps the newest */
	cache_free(c);
}

static void
test_gzip_on_second_request(void)
{
	cache *c = cache_new(1 << 20);
	char etag[24], body[4000];
	for (size_t i = 0; i < sizeof(body) - 1; i++)
		body[i] = "<p>news</p>\n"[i % 12];
	body[sizeof(body) - 1] = '\0';
	struct cache_page p = page(body, NULL, 0, 100);
	T_CHECK(cache_put(c, "/g", &p, etag));
	struct cache_stats st0, st1;
	cache_stats(c, &st0);
	/* asked for once: only the kept copy, no plain response made yet */
	T_CHECK(st0.bytes < 2 * sizeof(body));
	cache_entry *e = cache_get(c, "/g", 1, 0, NULL);
	T_CHECK(e != NULL);
	if (e) {
		/* made by this get (outside the lock), smaller than the page */
		T_CHECK(cache_has_gzip(e));
		T_CHECK(cache_response(e, CACHE_GZIP) != NULL);
		/* and the plain one, made by this get (entry_plain) */
		T_CHECK(cache_response(e, CACHE_PLAIN) != NULL);
		T_CHECK(cache_response(e, CACHE_PLAIN_304) != NULL);
		cache_release(c, e);
	}
	cache_stats(c, &st1);
	/* plain response and gzip now; the kept copy is gone (with it the
	 * entry would hold the page twice) */
	T_CHECK(st1.bytes < st0.bytes + sizeof(body) / 2);
	T_CHECK(st1.promotions == 1);
	cache_free(c);
}

static void
test_stale_refresh(void)
{
	cache *c = cache_new(1 << 20);
	cache_set_stale_ms(c, 30);
	cache_set_coalesce(c, 0); /* test_coalesce */
	char etag[24];
	int64_t tags[] = {5};
	struct cache_page p = page("v1", tags, 1, 1000);
	p.seq = 1;
	cache_put(c, "/s", &p, etag);
	T_CHECK(hit(c, "/s", 0));
	T_CHECK(cache_stale(c, 5, 2) == 1);
	T_CHECK(cache_stale(c, 5, 2) == 0); /* already stale */
	/* The first reader refreshes; the next get the old bytes meanwhile,
	 * except a reader whose own write (seq 2) it does not show. */
	T_CHECK(!hit(c, "/s", 0));
	T_CHECK(hit(c, "/s", 0));
	T_CHECK(hit(c, "/s", 1));
	T_CHECK(!hit(c, "/s", 2));
	/* The refresh never came (its render was not cacheable): after
	 * stale_ms the next reader refreshes. */
	usleep(60 * 1000);
	T_CHECK(!hit(c, "/s", 0));
	struct cache_page p2 = page("v2", tags, 1, 1000);
	p2.seq = 2;
	cache_put(c, "/s", &p2, etag);
	cache_entry *e = cache_get(c, "/s", 1, 2, NULL);
	T_CHECK(e != NULL);
	if (e) {
		T_CHECK(strcmp(cache_etag(e, false), etag) == 0);
		cache_release(c, e);
	}
	struct cache_stats st;
	cache_stats(c, &st);
	T_CHECK(st.stale_hits == 2);
	T_CHECK(st.refreshes == 3);
	/* a refresh keeps a protected page protected */
	T_CHECK(st.protected_bytes > 0);
	cache_free(c);
}

static void
test_coalesce(void)
{
	/* A page whose refresh took ~200 ms: once stale again, readers get
	 * it for 4 x that (800 ms) before one refreshes; the writer never. */
	cache *c = cache_new(1 << 20);
	cache_set_stale_ms(c, 1000);
	char etag[24];
	int64_t tags[] = {7};
	struct cache_page p = page("v1", tags, 1, 1000);
	p.seq = 1;
	cache_put(c, "/h", &p, etag);
	T_CHECK(hit(c, "/h", 0));
	cache_stale(c, 7, 2);
	T_CHECK(!hit(c, "/h", 0)); /* claims the refresh */
	usleep(200 * 1000);        /* renders */
	struct cache_page p2 = page("v2", tags, 1, 1000);
	p2.seq = 2;
	cache_put(c, "/h", &p2, etag);
	cache_stale(c, 7, 3); /* the next comment */
	T_CHECK(hit(c, "/h", 0));
	T_CHECK(hit(c, "/h", 2));
	T_CHECK(!hit(c, "/h", 3)); /* its own writer renders at once */
	/* That claim's render never comes (say it was not cacheable): past
	 * stale_ms (1 s) for the claim and 800 ms for the copy, the next
	 * reader refreshes. */
	usleep(1100 * 1000);
	T_CHECK(!hit(c, "/h", 0));
	/* Without coalescing the first reader after a write refreshes. */
	struct cache_page p3 = page("v3", tags, 1, 1000);
	p3.seq = 3;
	cache_put(c, "/h", &p3, etag);
	cache_set_coalesce(c, 0);
	cache_stale(c, 7, 4);
	T_CHECK(!hit(c, "/h", 0));
	cache_free(c);
}

static void
test_hold_min(void)
{
	/* A page whose refresh took ~1 ms (a hold of 4 ms by the factor) is
	 * held for the floor instead; with the floor off, for the factor's;
	 * with coalescing off, not at all. */
	cache *c = cache_new(1 << 20);
	cache_set_stale_ms(c, 1000);
	cache_set_hold_min_ms(c, 300);
	char etag[24];
	int64_t tags[] = {9};
	struct cache_page p = page("v1", tags, 1, 1000);
	p.seq = 1;
	cache_put(c, "/m", &p, etag);
	cache_stale(c, 9, 2);
	T_CHECK(!hit(c, "/m", 0)); /* claims the refresh */
	usleep(1000);              /* renders */
	p.seq = 2;
	cache_put(c, "/m", &p, etag);
	cache_stale(c, 9, 3);
	usleep(60 * 1000); /* past the factor's 4 ms, inside the floor */
	T_CHECK(hit(c, "/m", 0));
	T_CHECK(!hit(c, "/m", 3)); /* its writer renders at once */
	usleep(1000);
	p.seq = 3;
	cache_put(c, "/m", &p, etag);
	cache_stale(c, 9, 4);
	usleep(350 * 1000); /* past the floor */
	T_CHECK(!hit(c, "/m", 0));
	usleep(1000);
	p.seq = 4;
	cache_put(c, "/m", &p, etag);
	cache_set_hold_min_ms(c, 0);
	cache_stale(c, 9, 5);
	usleep(60 * 1000); /* the factor's hold alone is long over */
	T_CHECK(!hit(c, "/m", 0));
	usleep(1000);
	p.seq = 5;
	cache_put(c, "/m", &p, etag);
	cache_set_hold_min_ms(c, 300);
	cache_set_coalesce(c, 0);
	cache_stale(c, 9, 6);
	T_CHECK(!hit(c, "/m", 0)); /* every write shows to the next reader */
	cache_free(c);
}

static void
test_background_refresh(void)
{
	/* A page refreshed (20 ms), read 16 times and stale again: past its
	 * hold the reader that claims its refresh gets the old bytes too and
	 * is told to have it made elsewhere; a copy read less, one older
	 * than stale_ms, or no coalescing, and the claimer renders as
	 * before. */
	cache *c = cache_new(1 << 20);
	cache_set_stale_ms(c, 1000);
	char etag[24];
	bool bg = true;
	int64_t tags[] = {7};
	struct cache_page p = page("v1", tags, 1, 1000);
	p.seq = 1;
	cache_put(c, "/h", &p, etag);
	T_CHECK(hit_bg(c, "/h", 0, &bg) && !bg);
	cache_stale(c, 7, 2);
	/* a first refresh: its cost is not known yet, so it is made here */
	T_CHECK(!hit_bg(c, "/h", 0, &bg) && !bg);
	usleep(20 * 1000);
	p.seq = 2;
	cache_put(c, "/h", &p, etag);
	cache_stale(c, 7, 3);
	T_CHECK(hit_bg(c, "/h", 0, &bg) && !bg); /* held */
	usleep(100 * 1000);
	T_CHECK(!hit_bg(c, "/h", 3, &bg) && !bg); /* a writer renders */
	usleep(10 * 1000);
	p.seq = 3;
	cache_put(c, "/h", &p, etag); /* (that writer's put) */
	cache_stale(c, 7, 4);
	usleep(150 * 1000);
	/* read by no one since it was made: no reader to hold up, so its
	 * reader renders it */
	T_CHECK(!hit_bg(c, "/h", 0, &bg) && !bg);
	usleep(10 * 1000);
	p.seq = 4;
	cache_put(c, "/h", &p, etag);
	for (int i = 0; i < 16; i++) /* read a lot */
		T_CHECK(hit(c, "/h", 0));
	cache_stale(c, 7, 5);
	usleep(150 * 1000);
	T_CHECK(hit_bg(c, "/h", 0, &bg) && bg);  /* claimed, old bytes */
	T_CHECK(hit_bg(c, "/h", 0, &bg) && !bg); /* in flight */
	T_CHECK(!hit_bg(c, "/h", 5, &bg) && !bg); /* its writer renders */
	p.seq = 5;
	cache_put(c, "/h", &p, etag); /* the background render */
	for (int i = 0; i < 16; i++)
		T_CHECK(hit(c, "/h", 0));
	cache_stale(c, 7, 6);
	usleep(1100 * 1000); /* the copy is older than stale_ms */
	T_CHECK(!hit_bg(c, "/h", 0, &bg) && !bg);
	p.seq = 6;
	cache_put(c, "/h", &p, etag);
	for (int i = 0; i < 16; i++)
		T_CHECK(hit(c, "/h", 0));
	cache_stale(c, 7, 7);
	cache_set_coalesce(c, 0);
	T_CHECK(!hit_bg(c, "/h", 0, &bg) && !bg);
	struct cache_stats st;
	cache_stats(c, &st);
	T_CHECK(st.bg_refreshes == 1);
	cache_free(c);
}

/* A reader thread for test_refresh_never_plain: gets "/r" until told to
 * stop, counting copies of the refreshed page and those without gzip. */
struct rd {
	cache *c;
	char etag[24];
	_Atomic bool stop;
	long seen, plain;
};

static void *
rd_main(void *arg)
{
	struct rd *r = arg;
	while (!r->stop) {
		cache_entry *e = cache_get(r->c, "/r", 1, 0, NULL);
		if (e && strcmp(cache_etag(e, false), r->etag) == 0) {
			r->seen++;
			r->plain += !cache_has_gzip(e);
		}
		cache_release(r->c, e);
	}
	return NULL;
}

static void
test_refresh_never_plain(void)
{
	/* A page readers ask for, refreshed while another thread reads it:
	 * from the moment the new copy can be got it has its gzip (a 2 MB
	 * page takes ms to compress; readers of a copy linked before that
	 * got 2 MB plain instead of ~100 KB). */
	cache *c = cache_new(64 << 20);
	size_t n = 2 << 20;
	char *body = malloc(n + 1);
	if (body == NULL)
		return;
	unsigned x = 1;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		body[i] = (char)('a' + (x >> 16) % 16);
	}
	body[n] = '\0';
	struct rd r = {.c = c};
	int64_t tags[] = {3};
	struct cache_page p = page("<p>before</p>", tags, 1, 100);
	T_CHECK(cache_put(c, "/r", &p, r.etag));
	T_CHECK(hit(c, "/r", 0)); /* protected, with gzip */
	p = page(body, tags, 1, 100);
	cache_stale(c, 3, 1);
	cache_entry *e = cache_get(c, "/r", 1, 0, NULL); /* claims */
	T_CHECK(e == NULL);
	char etag[24];
	snprintf(etag, sizeof(etag), "\"k%016llx\"",
	    (unsigned long long)cache_hash(body, n));
	memcpy(r.etag, etag, sizeof(etag));
	pthread_t th;
	T_CHECK(pthread_create(&th, NULL, rd_main, &r) == 0);
	T_CHECK(cache_put(c, "/r", &p, etag));
	for (int i = 0; i < 2000 && r.seen < 100; i++)
		usleep(1000);
	r.stop = true;
	pthread_join(th, NULL);
	T_CHECK(r.seen > 0);
	T_CHECK(r.plain == 0);
	free(body);
	cache_free(c);
}

static void
test_put_after_write_is_stale(void)
{
	/* A render began at seq 5; a write (seq 9) changed its article
	 * before it was put: it goes in stale, so it never hides the write. */
	cache *c = cache_new(1 << 20);
	cache_set_coalesce(c, 0); /* test_coalesce */
	char etag[24];
	int64_t tags[] = {42, 43};
	cache_stale(c, 43, 9);
	struct cache_page p = page("old", tags, 2, 1000);
	p.seq = 5;
	cache_put(c, "/r", &p, etag);
	T_CHECK(!hit(c, "/r", 0));
	p.seq = 9;
	cache_put(c, "/r", &p, etag);
	T_CHECK(hit(c, "/r", 0));
	/* every page, e.g. an article's title changed */
	int64_t other[] = {7};
	struct cache_page q = page("front", other, 1, 1000);
	q.seq = 9;
	cache_put(c, "/", &q, etag);
	T_CHECK(cache_stale_all(c, 10) == 2);
	T_CHECK(!hit(c, "/", 0));
	T_CHECK(!hit(c, "/r", 0));
	/* "/r"'s refresh answered 404 (the article is gone): its stale copy
	 * goes, readers behind the refresh do not get it; a fresh entry is
	 * not touched */
	T_CHECK(hit(c, "/r", 0)); /* the stale copy, a refresh in flight */
	cache_drop_stale(c, "/r");
	T_CHECK(!hit(c, "/r", 0));
	struct cache_stats st;
	cache_stats(c, &st);
	T_CHECK(st.entries == 1);
	q.seq = 10;
	cache_put(c, "/", &q, etag);
	cache_drop_stale(c, "/");
	T_CHECK(hit(c, "/", 0));
	cache_free(c);
}

int
main(void)
{
	T_RUN(test_put_get);
	T_RUN(test_expiry);
	T_RUN(test_tags);
	T_RUN(test_lru_budget);
	T_RUN(test_held_entry_survives_eviction);
	T_RUN(test_replace);
	T_RUN(test_accepts_gzip);
	T_RUN(test_etag_match);
	T_RUN(test_many_tags_index);
	T_RUN(test_admission_flood);
	T_RUN(test_gzip_on_second_request);
	T_RUN(test_stale_refresh);
	T_RUN(test_coalesce);
	T_RUN(test_hold_min);
	T_RUN(test_background_refresh);
	T_RUN(test_put_after_write_is_stale);
	T_RUN(test_refresh_never_plain);
	T_DONE();
}
