/*
 * libFuzzer target for the "does the source link to the target" check
 * and the source summary (net/discover.c). The input's first byte picks
 * the content type, the first line is the target, the rest the source.
 * The check never crashes and agrees with itself; a page made of one
 * link to the target always passes; the title and excerpt are valid
 * UTF-8 without controls, within 201 and 300 characters.
 */
#include "../src/net/net.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "fuzz_links_to: %s:%d: %s\n",      \
			    __FILE__, __LINE__, #expr);                    \
			abort();                                           \
		}                                                          \
	} while (0)

#define BASE "https://src.example/blog/entry"

static void
clean_text(const char *s, size_t max)
{
	size_t n = strlen(s);

	CHECK(text_utf8_valid(s, n));
	CHECK(text_graphemes(s, n) <= max);
	for (size_t i = 0; i < n; i++)
		CHECK((unsigned char)s[i] >= 0x20);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {"text/html",
		"text/plain; charset=utf-8", "", "text/html; charset=EUC-JP",
		"application/json"};
	const char *p = (const char *)data, *end = p + size, *nl;
	arena *a;
	buf b;

	if (size == 0)
		return 0;
	const char *ct = types[(unsigned char)*p++ % 5];
	nl = memchr(p, '\n', (size_t)(end - p));
	if (nl == NULL)
		return 0;
	a = arena_new(0);
	const char *target = arena_strndup(a, p, (size_t)(nl - p));
	const char *body = arena_strndup(a, nl + 1, (size_t)(end - nl - 1));
	size_t len = (size_t)(end - nl - 1);

	bool r1 = net_links_to(body, len, ct, BASE, target);
	bool r2 = net_links_to(body, len, ct, BASE, target);
	CHECK(r1 == r2);

	/* a link that is plainly there is found, whatever the target
	 * (when it is a URL kiji could ever be pinged about) */
	buf_init(&b, 0);
	buf_puts(&b, "<p><a href=\"");
	net_xml_text(&b, target);
	buf_puts(&b, "\">x</a></p>");
	if (strncmp(target, "http://", 7) == 0 &&
	    strspn(target + 7, "abcdefghijklmnopqrstuvwxyz0123456789./") ==
	    strlen(target + 7) && strlen(target) > 8 && target[7] != '.' &&
	    target[7] != '/' && strstr(target, "..") == NULL &&
	    strstr(target, "/.") == NULL)
		CHECK(net_links_to(b.ptr, b.len, "text/html", BASE, target));
	buf_free(&b);

	const char *title, *excerpt;
	net_source_summary(body, len, BASE, target, a, &title, &excerpt);
	clean_text(title, 200);
	clean_text(excerpt, 300);
	arena_free(a);
	return 0;
}
