/*
 * libFuzzer target for comment_format. Comment text may only become <p>,
 * <br> and <a href rel> links whose URL begins http:// or https://; every
 * other '<', '>' and quote must come out escaped, and valid UTF-8 in means
 * valid UTF-8 out.
 */
#include "../src/render/render.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "fuzz_comment: %s:%d: %s\n",       \
			    __FILE__, __LINE__, #expr);                    \
			abort();                                           \
		}                                                          \
	} while (0)

#define REL "\" rel=\"nofollow ugc noopener\">"

/* Every tag in h is one the formatter writes; links are http(s) and their
 * text is their URL. */
static void
check_html(const char *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		CHECK(h[i] != '>' && h[i] != '"' && h[i] != '\'');
		if (h[i] != '<')
			continue;
		const char *t = h + i;
		if (strncmp(t, "<p>", 3) == 0 || strncmp(t, "</p>", 4) == 0 ||
		    strncmp(t, "<br>", 4) == 0 || strncmp(t, "</a>", 4) == 0) {
			i += strcspn(t, ">");
			continue;
		}
		CHECK(strncasecmp(t, "<a href=\"http", 13) == 0);
		const char *u = t + 9, *e = strstr(u, REL);
		CHECK(e != NULL);
		CHECK(strncasecmp(u, "http://", 7) == 0 ||
		    strncasecmp(u, "https://", 8) == 0);
		for (const char *p = u; p < e; p++)
			CHECK(*p != '<' && *p != '>' && *p != '"' && *p > ' ');
		size_t ul = (size_t)(e - u);
		const char *txt = e + strlen(REL);
		CHECK(strncmp(txt, u, ul) == 0);
		CHECK(strncmp(txt + ul, "</a>", 4) == 0);
		i = (size_t)(txt - h) + ul - 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	buf out;

	buf_init(&out, 0);
	comment_format(&out, s, size);
	CHECK(!out.err);
	check_html(buf_cstr(&out), out.len);
	CHECK(!strcasestr(buf_cstr(&out), "<script"));
	CHECK(!strcasestr(buf_cstr(&out), "href=\"javascript"));
	if (text_utf8_valid(s, size))
		CHECK(text_utf8_valid(out.ptr, out.len));
	buf_free(&out);
	return 0;
}
