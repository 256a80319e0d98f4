/*
 * libFuzzer target for md_render and md_html_to_plain. The HTML must be
 * made only of the tags and attributes our writer emits, with quoted
 * values holding no '<', '>' or '"'; every href/src must be, as a browser
 * decodes and parses it, relative or http/https/mailto; so no "<script"
 * and no "javascript:" link can ever appear. Both outputs are valid UTF-8.
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
			fprintf(stderr, "fuzz_markdown: %s:%d: %s\n",      \
			    __FILE__, __LINE__, #expr);                    \
			abort();                                           \
		}                                                          \
	} while (0)

static const char *const tags[] = {
	"p", "em", "strong", "a", "img", "code", "del", "pre", "h2", "h3",
	"h4", "h5", "h6", "blockquote", "ul", "ol", "li", "hr", "br", "table",
	"thead", "tbody", "tr", "th", "td", "figure", "figcaption", "small",
	NULL
};
static const char *const attrs[] = {
	"href", "title", "src", "alt", "loading", "class", "start", "align",
	NULL
};

static bool
in(const char *const *list, const char *s, size_t n)
{
	for (; *list; list++)
		if (strlen(*list) == n && memcmp(*list, s, n) == 0)
			return true;
	return false;
}

/* The browser's view of a URL attribute value: our five entities decoded
 * once, then leading C0/space stripped and tab/newline removed; true when
 * it has no scheme or an allowed one. */
static bool
url_ok(const char *v, size_t n)
{
	char d[64];
	size_t k = 0, i = 0;

	while (i < n && k < sizeof(d) - 1) {
		static const struct {
			const char *e;
			char c;
		} ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'},
			{"&quot;", '"'}, {"&#39;", '\''}};
		char c = v[i++];
		for (size_t e = 0; c == '&' && e < 5; e++) {
			const char *ent = ents[e].e;
			size_t l = strlen(ent);
			if (n - (i - 1) >= l && memcmp(v + i - 1, ent, l) == 0) {
				c = ents[e].c;
				i += l - 1;
				break; /* decoded once, as a browser does */
			}
		}
		if (c == '\t' || c == '\n' || c == '\r')
			continue;
		if (k == 0 && (unsigned char)c <= 0x20)
			continue;
		d[k++] = c;
	}
	d[k] = '\0';
	size_t s = 0;
	if (!((d[0] | 0x20) >= 'a' && (d[0] | 0x20) <= 'z'))
		return true;
	while (d[s] && (((d[s] | 0x20) >= 'a' && (d[s] | 0x20) <= 'z') ||
		(d[s] >= '0' && d[s] <= '9') || d[s] == '+' || d[s] == '-' ||
		d[s] == '.'))
		s++;
	if (d[s] != ':')
		return true;
	return (s == 4 && strncasecmp(d, "http", 4) == 0) ||
	    (s == 5 && strncasecmp(d, "https", 5) == 0) ||
	    (s == 6 && strncasecmp(d, "mailto", 6) == 0);
}

/* Walks every tag of h and checks it against tags/attrs/url_ok. */
static void
check_html(const char *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		CHECK(h[i] != '>');
		if (h[i] != '<')
			continue;
		size_t b = ++i;
		if (i < n && h[i] == '/')
			b = ++i;
		while (i < n && ((h[i] >= 'a' && h[i] <= 'z') ||
			   (h[i] >= '0' && h[i] <= '9')))
			i++;
		CHECK(in(tags, h + b, i - b));
		while (i < n && h[i] == ' ') {
			size_t ab = ++i;
			while (i < n && h[i] >= 'a' && h[i] <= 'z')
				i++;
			CHECK(in(attrs, h + ab, i - ab));
			size_t al = i - ab;
			bool url = (al == 4 && memcmp(h + ab, "href", 4) == 0) ||
			    (al == 3 && memcmp(h + ab, "src", 3) == 0);
			CHECK(i + 1 < n && h[i] == '=' && h[i + 1] == '"');
			size_t vb = i += 2;
			while (i < n && h[i] != '"') {
				CHECK(h[i] != '<' && h[i] != '>');
				i++;
			}
			CHECK(i < n);
			if (url)
				CHECK(url_ok(h + vb, i - vb));
			i++;
		}
		CHECK(i < n && h[i] == '>');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	buf html, plain;

	buf_init(&html, 0);
	buf_init(&plain, 0);
	bool ok = md_render(&html, &plain, s, size);
	CHECK(ok == text_utf8_valid(s, size));
	if (ok) {
		check_html(buf_cstr(&html), html.len);
		CHECK(!strcasestr(buf_cstr(&html), "<script"));
		CHECK(text_utf8_valid(html.ptr, html.len));
		CHECK(text_utf8_valid(plain.ptr, plain.len));
	} else {
		CHECK(html.len == 0 && plain.len == 0);
	}
	buf_reset(&plain);
	md_html_to_plain(&plain, s, size);
	CHECK(!plain.err);
	if (text_utf8_valid(s, size))
		CHECK(text_utf8_valid(plain.ptr, plain.len));
	buf_free(&html);
	buf_free(&plain);
	return 0;
}
