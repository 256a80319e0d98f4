/*
 * libFuzzer target for endpoint discovery and outgoing links
 * (net/discover.c). The input's first line is the Link header, its
 * second the X-Pingback header, the rest the page. Every endpoint found
 * is "" or an absolute http(s) URL without spaces or controls; the
 * links net_links returns are such URLs too, none on the page's own
 * host, none twice, no more than asked for.
 */
#include "../src/net/net.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "fuzz_discover: %s:%d: %s\n",      \
			    __FILE__, __LINE__, #expr);                    \
			abort();                                           \
		}                                                          \
	} while (0)

#define PAGE "https://fuzz.example/dir/page?x=1"
#define LINKS_MAX 8

/* An absolute http(s) URL of printable ASCII, at most 2048 bytes. */
static bool
url_ok(const char *u)
{
	size_t n = strlen(u);

	if (n > 2048 || !(strncmp(u, "http://", 7) == 0 ||
	    strncmp(u, "https://", 8) == 0))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
			return false;
	return true;
}

/* A line of the input, NUL-terminated in a; *p moves past it. */
static const char *
line(arena *a, const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	const char *e = nl ? nl : end;
	const char *r = arena_strndup(a, *p, (size_t)(e - *p));
	*p = nl ? nl + 1 : end;
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	arena *a = arena_new(0);
	struct net_response page = {0};
	struct net_endpoints e;
	const char *out[LINKS_MAX];

	page.status = 200;
	page.url = PAGE;
	page.content_type = "text/html";
	page.link = line(a, &p, end);
	page.x_pingback = line(a, &p, end);
	page.body = arena_strndup(a, p, (size_t)(end - p));
	page.len = (size_t)(end - p);
	net_discover(&page, a, &e);
	CHECK(*e.webmention == '\0' || url_ok(e.webmention));
	CHECK(*e.pingback == '\0' || url_ok(e.pingback));
	CHECK(*e.trackback == '\0' || url_ok(e.trackback));

	size_t n = net_links(page.body, page.len, PAGE, a, out, LINKS_MAX);
	CHECK(n <= LINKS_MAX);
	for (size_t i = 0; i < n; i++) {
		CHECK(url_ok(out[i]));
		CHECK(strchr(out[i], '#') == NULL);
		const char *h = strstr(out[i], "://") + 3;
		CHECK(strncasecmp(h, "fuzz.example", 12) != 0 ||
		    (h[12] != '/' && h[12] != ':' && h[12] != '\0' &&
		    h[12] != '?'));
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(out[i], out[j]) != 0);
	}
	arena_free(a);
	return 0;
}
