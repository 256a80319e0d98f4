/*
 * libFuzzer target for render_html_sanitize and render_html_text. The
 * sanitiser succeeds on valid UTF-8 (within RENDER_HTML_MAX) unless it
 * nests past libxml2's limit, and never on anything else; its
 * output is valid UTF-8 made only of allow-listed tags and attributes
 * (so no "<script", no on* handler, no style or id), every quoted value
 * free of '<', '>' and '"', every href/src/cite — as a browser decodes
 * and reads it — relative or http/https (mailto for href), elements
 * nested at most RENDER_HTML_DEPTH deep; and sanitising the output again
 * gives the very same bytes. The plain text is valid UTF-8 and holds no
 * C0 control but tab and newline.
 */
#include "../src/render/render.h"

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
			fprintf(stderr, "fuzz_sanitize: %s:%d: %s\n",      \
			    __FILE__, __LINE__, #expr);                    \
			abort();                                           \
		}                                                          \
	} while (0)

static const char *const tags[] = {
	"a", "b", "blockquote", "br", "caption", "code", "dd", "del", "div",
	"dl", "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5",
	"h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre",
	"q", "s", "small", "span", "strong", "sub", "sup", "table", "tbody",
	"td", "tfoot", "th", "thead", "tr", "u", "ul", NULL
};
static const char *const voids[] = {"br", "hr", "img", NULL};
static const char *const attrs[] = {
	"href", "title", "rel", "src", "alt", "width", "height", "loading",
	"cite", "start", "colspan", "rowspan", "class", NULL
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
 * once, C0 controls and space stripped from the front, tab and newlines
 * removed; then the scheme, if any, must be allowed. */
static bool
url_ok(const char *v, size_t n, bool mailto)
{
	static const struct {
		const char *e;
		char c;
	} ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'},
		{"&quot;", '"'}, {"&#39;", '\''}};
	char d[64];
	size_t k = 0, i = 0, s = 0;

	while (i < n && k < sizeof(d) - 1) {
		char c = v[i++];
		for (size_t e = 0; c == '&' && e < 5; e++) {
			size_t l = strlen(ents[e].e);
			if (n - (i - 1) >= l &&
			    memcmp(v + i - 1, ents[e].e, l) == 0) {
				c = ents[e].c;
				i += l - 1;
				break;
			}
		}
		if (c == '\t' || c == '\n' || c == '\r')
			continue;
		if (k == 0 && (unsigned char)c <= 0x20)
			continue;
		d[k++] = c;
	}
	d[k] = '\0';
	if (strncasecmp(d, "javascript:", 11) == 0 ||
	    strncasecmp(d, "vbscript:", 9) == 0 ||
	    strncasecmp(d, "data:", 5) == 0)
		return false;
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
	    (mailto && s == 6 && strncasecmp(d, "mailto", 6) == 0);
}

/* Walks every tag of h: names, attributes, quoting, URLs, nesting. */
static void
check_html(const char *h, size_t n)
{
	int depth = 0;

	for (size_t i = 0; i < n; i++) {
		CHECK(h[i] != '>');
		if (h[i] != '<')
			continue;
		bool end = i + 1 < n && h[i + 1] == '/';
		size_t b = i + 1 + end;
		i = b;
		while (i < n && ((h[i] >= 'a' && h[i] <= 'z') ||
			   (h[i] >= '0' && h[i] <= '9')))
			i++;
		CHECK(in(tags, h + b, i - b));
		bool isvoid = in(voids, h + b, i - b);
		bool is_a = i - b == 1 && h[b] == 'a';
		while (i < n && h[i] == ' ') {
			CHECK(!end);
			size_t ab = ++i;
			while (i < n && h[i] >= 'a' && h[i] <= 'z')
				i++;
			CHECK(in(attrs, h + ab, i - ab));
			CHECK(!(i - ab >= 2 && h[ab] == 'o' &&
			    h[ab + 1] == 'n'));
			size_t al = i - ab;
			bool url = (al == 4 && !memcmp(h + ab, "href", 4)) ||
			    (al == 3 && !memcmp(h + ab, "src", 3)) ||
			    (al == 4 && !memcmp(h + ab, "cite", 4));
			CHECK(i + 1 < n && h[i] == '=' && h[i + 1] == '"');
			size_t vb = i += 2;
			while (i < n && h[i] != '"') {
				CHECK(h[i] != '<' && h[i] != '>');
				i++;
			}
			CHECK(i < n);
			if (url)
				CHECK(url_ok(h + vb, i - vb, is_a));
			i++;
		}
		CHECK(i < n && h[i] == '>');
		if (end)
			depth--;
		else if (!isvoid)
			depth++;
		CHECK(depth >= 0 && depth <= RENDER_HTML_DEPTH);
	}
	CHECK(depth == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	buf out, again, text;

	buf_init(&out, 0);
	buf_init(&again, 0);
	buf_init(&text, 0);
	bool valid = text_utf8_valid(s, size);
	bool ok = render_html_sanitize(&out, s, size);
	size_t opens = 0;
	for (size_t i = 0; i < size; i++)
		opens += s[i] == '<';
	/* refused only when invalid, or (libxml2's limit) nested past
	 * RENDER_HTML_PARSE_DEPTH, which takes as many start tags */
	CHECK(ok == valid || (valid && opens >= RENDER_HTML_PARSE_DEPTH - 8));
	if (ok) {
		const char *h = buf_cstr(&out);
		CHECK(text_utf8_valid(out.ptr, out.len));
		CHECK(strlen(h) == out.len);
		check_html(h, out.len);
		CHECK(!strcasestr(h, "<script"));
		CHECK(render_html_sanitize(&again, h, out.len));
		if (again.len != out.len ||
		    memcmp(buf_cstr(&again), h, out.len) != 0) {
			fprintf(stderr, "first:  %s\nsecond: %s\n", h,
			    buf_cstr(&again));
			CHECK(!"sanitize is idempotent");
		}
	} else {
		CHECK(out.len == 0);
	}
	render_html_text(&text, s, size);
	CHECK(!text.err);
	CHECK(ok || text.len == 0);
	CHECK(text_utf8_valid(text.ptr, text.len));
	for (size_t i = 0; i < text.len; i++) {
		unsigned char c = (unsigned char)text.ptr[i];
		CHECK(c >= 0x20 || c == '\t' || c == '\n');
	}
	buf_free(&out);
	buf_free(&again);
	buf_free(&text);
	return 0;
}
