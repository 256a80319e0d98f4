/*
 * libFuzzer target for the request header values kiji reads after the
 * head parser: Accept-Encoding (cache_accepts_gzip), If-None-Match
 * (cache_etag_match), X-Forwarded-For behind trusted proxies
 * (http_client_ip) and Origin / Host / Sec-Fetch-Site (http_same_origin).
 * The input, up to its first NUL, is each value; its lines are also the
 * X-Forwarded-For headers, and the first three the Origin, Host and
 * Sec-Fetch-Site of one request. Asserts:
 *  - gzip is accepted only when the value names it, and always when
 *    ", gzip" is appended to a value with no '*';
 *  - an ETag matches only a value that holds it or '*', and always one
 *    with ", <tag>" (or ", W/<tag>") appended;
 *  - the client address is the peer's text from an untrusted peer; from
 *    a trusted one it is a canonical address (printing it parsed gives
 *    it back), the peer's or one of the X-Forwarded-For entries';
 *  - an Origin that is not http(s) is never same-origin, the site's own
 *    origin (as browsers write it) always is, and without Origin only
 *    Sec-Fetch-Site decides.
 *
 * fuzz/Makefile links cache/ into this target alone.
 */
#include "../src/cache/cache.h"
#include "../src/http/http_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the failed invariant: libFuzzer saves the input. */
#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "fuzz_headers: %s:%d: %s\n",       \
			    __FILE__, __LINE__, #expr);                    \
			abort();                                           \
		}                                                          \
	} while (0)

#define FZ_MAX 4096
#define FZ_LINES 8
#define FZ_ETAG "\"k1\""
#define FZ_BASE "https://news.example"

static struct http_addrs fz_proxies;

static void
fz_accept_encoding(arena *a, const char *v)
{
	bool gz = cache_accepts_gzip(v);
	if (gz)
		CHECK(strcasestr(v, "gzip") != NULL);
	if (strchr(v, '*') == NULL) {
		CHECK(cache_accepts_gzip(arena_printf(a, "%s, gzip", v)));
		CHECK(!cache_accepts_gzip(arena_printf(a, "%s, gzip;q=0", v)) ||
		    gz);
	}
}

static void
fz_etag(arena *a, const char *v)
{
	if (cache_etag_match(v, FZ_ETAG))
		CHECK(strchr(v, '*') != NULL || strstr(v, FZ_ETAG) != NULL);
	CHECK(cache_etag_match(arena_printf(a, "%s, " FZ_ETAG, v), FZ_ETAG));
	CHECK(cache_etag_match(arena_printf(a, "%s,W/" FZ_ETAG, v), FZ_ETAG));
}

/* Whether address ip is one of the comma-separated entries of lines. */
static bool
fz_listed(const struct http_ip *ip, char *const *lines, int n)
{
	for (int i = 0; i < n; i++)
		for (const char *p = lines[i]; *p;) {
			size_t k = strcspn(p, ",");
			const char *b = p, *e = p + k;
			while (b < e && (*b == ' ' || *b == '\t'))
				b++;
			while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			struct http_ip x;
			if (http_ip_parse(b, (size_t)(e - b), &x) &&
			    memcmp(&x, ip, sizeof(x)) == 0)
				return true;
			p += k + (p[k] == ',');
		}
	return false;
}

static void
fz_client_ip(arena *a, char *const *lines, int n)
{
	struct http_ip peer, got;
	const char *const *xff = (const char *const *)lines;
	/* an untrusted peer: its own address, whatever the header says */
	CHECK(http_ip_parse("192.0.2.7", 9, &peer));
	CHECK(strcmp(http_client_ip(&fz_proxies, a, &peer, "192.0.2.7", xff,
	    n), "192.0.2.7") == 0);
	/* a trusted one: the header is read */
	CHECK(http_ip_parse("10.0.0.1", 8, &peer));
	const char *ip = http_client_ip(&fz_proxies, a, &peer, "10.0.0.1", xff,
	    n);
	CHECK(ip != NULL && http_ip_parse(ip, strlen(ip), &got));
	CHECK(strcmp(http_ip_str(a, &got), ip) == 0);
	CHECK(memcmp(&got, &peer, sizeof(got)) == 0 || fz_listed(&got, lines, n));
}

static void
fz_origin(char *const *lines, int n)
{
	struct http_kv h[3];
	struct http_rq q;
	struct http_req r;
	const char *origin = n > 0 ? lines[0] : "";
	const char *sfs = n > 2 ? lines[2] : NULL;
	memset(&q, 0, sizeof(q));
	memset(&r, 0, sizeof(r));
	r.conn = &q;
	q.hdrs = h;
	h[0] = (struct http_kv){"Origin", origin, strlen(origin)};
	h[1] = (struct http_kv){"Host", n > 1 ? lines[1] : "news.example", 0};
	h[2] = (struct http_kv){"Sec-Fetch-Site", sfs ? sfs : "", 0};
	q.nhdrs = 3;
	bool same = http_same_origin(&r, FZ_BASE, "https://a.example "
	    "http://b.example", true);
	if (strncmp(origin, "http://", 7) != 0 &&
	    strncmp(origin, "https://", 8) != 0)
		CHECK(!same);
	/* (browsers send the origin lower-case; "HTTPS://…" is refused,
	 * which is the safe side) */
	if (strcmp(origin, FZ_BASE) == 0)
		CHECK(same);
	/* without Origin: Sec-Fetch-Site alone, or !require without it */
	q.hdrs = h + 1;
	q.nhdrs = sfs ? 2 : 1;
	same = http_same_origin(&r, FZ_BASE, NULL, true);
	CHECK(same == (sfs != NULL && (strcmp(sfs, "same-origin") == 0 ||
	    strcmp(sfs, "none") == 0)));
	q.nhdrs = 1;
	CHECK(http_same_origin(&r, FZ_BASE, NULL, false));
	CHECK(!http_same_origin(&r, FZ_BASE, NULL, true));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		buf err;
		buf_init(&err, 256);
		CHECK(http_addrs_init(&fz_proxies, "10.0.0.1 10.0.0.2, ::1 "
		    "[2001:db8::1]", &err));
		buf_free(&err);
		ready = true;
	}
	if (size > FZ_MAX)
		return 0;
	arena *a = arena_new(0);
	char *v = arena_strndup(a, (const char *)data, size); /* to a NUL */
	fz_accept_encoding(a, v);
	fz_etag(a, v);
	char *lines[FZ_LINES];
	int n = 0;
	for (char *p = arena_strdup(a, v); n < FZ_LINES; n++) {
		lines[n] = p;
		char *nl = strchr(p, '\n');
		if (nl == NULL) {
			n++;
			break;
		}
		*nl = '\0';
		p = nl + 1;
	}
	fz_client_ip(a, lines, n);
	fz_origin(lines, n);
	arena_free(a);
	return 0;
}
