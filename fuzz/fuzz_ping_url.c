/*
 * libFuzzer target for src/site/pingurl.c: the split of a received ping's
 * source or target URL. Arbitrary bytes must never crash it, and what it
 * accepts must hold its promises: scheme http or https, a non-empty
 * lower-case host without '@', '/', '?' or '#', a path starting with '/'
 * and free of '?' and '#', a query free of '#'; and parsing the URL
 * rebuilt from the parts gives the same parts (nothing is lost or
 * invented on the way).
 *
 * fuzz/Makefile links only the layers below site/, so pingurl.c (which
 * needs just text/) is compiled in here.
 */
#include "../src/site/pingurl.c"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "fuzz_ping_url: %s:%d: %s\n",      \
			    __FILE__, __LINE__, #expr);                    \
			abort();                                           \
		}                                                          \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	arena *a = arena_new(0);
	char *s = arena_strndup(a, (const char *)data, size); /* to a NUL */
	struct ping_url u, v;
	if (ping_url_parse(a, s, &u)) {
		CHECK(strcmp(u.scheme, "http") == 0 || strcmp(u.scheme, "https") == 0);
		CHECK(*u.host != '\0');
		CHECK(strpbrk(u.host, "@/?#") == NULL);
		for (const char *h = u.host; *h; h++)
			CHECK(!(*h >= 'A' && *h <= 'Z'));
		CHECK(u.path[0] == '/' && strpbrk(u.path, "?#") == NULL);
		CHECK(strchr(u.query, '#') == NULL);
		const char *again = arena_printf(a, "%s://%s%s%s%s", u.scheme,
		    u.host, u.path, *u.query ? "?" : "", u.query);
		if (strlen(again) <= 2048) {
			CHECK(ping_url_parse(a, again, &v));
			CHECK(strcmp(u.scheme, v.scheme) == 0);
			CHECK(strcmp(u.host, v.host) == 0);
			CHECK(strcmp(u.path, v.path) == 0);
			CHECK(strcmp(u.query, v.query) == 0);
		}
	}
	arena_free(a);
	return 0;
}
