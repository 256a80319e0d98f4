/*
 * libFuzzer target for the template compiler and renderer. The input is a
 * template (first byte: bit 0 chooses XML). When it compiles, it is
 * rendered twice over the same tree shape: once with hostile strings, once
 * with "x" in their place. Values may never add markup, so both outputs
 * must hold the same number of '<', '>' and '\'', the same number of
 * "<script" and of href/src values with a dangerous scheme; anything more
 * in the hostile run is an escape that failed. Compile errors must name
 * the template and a line.
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
			fprintf(stderr, "fuzz_tmpl: %s:%d: %s\n", __FILE__, \
			    __LINE__, #expr);                              \
			abort();                                           \
		}                                                          \
	} while (0)

static const char *const hostile[] = {
	"<script>alert(1)</script>",
	"\"'><img src=x onerror=alert(1)>",
	" JaVa\tScRiPt:alert(1)",
	"javascript:alert(1)",
	"</script><!--<script>\xe2\x80\xa8`${alert(1)}`",
	"data:text/html,<svg onload=alert(1)>",
	"vbscript:msgbox(1)",
	"--><script>alert(1)</script>",
};
#define NHOSTILE (sizeof(hostile) / sizeof(hostile[0]))

/* String k of the model: hostile or benign. */
static tv *
str(arena *a, bool bad, unsigned k)
{
	return tv_str(a, bad ? hostile[k % NHOSTILE] : "x");
}

/* Keys a..h hold strings, t/f booleans, n an integer, h trusted HTML, l a
 * list of two such dicts (with their own l, depth 2), d one dict. */
static void
fill(arena *a, tv *d, bool bad, unsigned depth)
{
	static const char *const keys[] = {
		"a", "b", "c", "u", "s", "v", "w", "z"};
	for (unsigned k = 0; k < 8; k++)
		tv_set(d, keys[k], str(a, bad, k + depth));
	tv_set_bool(a, d, "t", true);
	tv_set_bool(a, d, "f", false);
	tv_set_int(a, d, "n", -12);
	tv_set(d, "h", tv_html_trusted(a, "<i>t</i>", 8));
	if (depth >= 2)
		return;
	tv *l = tv_set(d, "l", tv_list(a));
	for (int i = 0; i < 2; i++)
		fill(a, tv_push(l, tv_dict(a)), bad, depth + 1);
	fill(a, tv_set(d, "d", tv_dict(a)), bad, depth + 1);
}

static size_t
count_char(const char *s, size_t n, char c)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

static size_t
count_ci(const char *s, const char *needle)
{
	size_t k = 0;
	for (const char *p = s; (p = strcasestr(p, needle)) != NULL; p++)
		k++;
	return k;
}

static bool
alpha(char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool
space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Whether the URL value v[0, n) has a scheme a browser would run or
 * render as a document (controls and space ignored, as browsers do). */
static bool
bad_scheme(const char *v, size_t n)
{
	char sch[16];
	size_t k = 0, i = 0;

	for (; i < n && v[i] != ':' && k < sizeof(sch) - 1; i++)
		if ((unsigned char)v[i] > 0x20)
			sch[k++] = v[i];
	sch[k] = '\0';
	return i < n && v[i] == ':' && (!strcasecmp(sch, "javascript") ||
	    !strcasecmp(sch, "vbscript") || !strcasecmp(sch, "data"));
}

/* href/src values with a bad scheme, found by an HTML-like tokenizer:
 * text; tags with quoted or unquoted attribute values; the raw text of
 * script, style, title and textarea skipped to their end tag. */
static size_t
count_bad_urls(const char *s)
{
	static const char *const raw[] = {
		"script", "style", "title", "textarea"};
	size_t k = 0;
	const char *p = s;

	while ((p = strchr(p, '<')) != NULL) {
		p++;
		if (!alpha(*p))
			continue;
		const char *name = p, *rawname = NULL;
		while (*p && !space(*p) && *p != '/' && *p != '>')
			p++;
		for (int r = 0; r < 4; r++)
			if ((size_t)(p - name) == strlen(raw[r]) &&
			    strncasecmp(name, raw[r], strlen(raw[r])) == 0)
				rawname = raw[r];
		for (;;) { /* attributes */
			while (space(*p) || *p == '/')
				p++;
			if (*p == '\0' || *p == '>')
				break;
			const char *an = p++;
			while (*p && !space(*p) && *p != '/' && *p != '>' &&
			    *p != '=')
				p++;
			size_t alen = (size_t)(p - an);
			bool url = (alen == 4 && !strncasecmp(an, "href", 4)) ||
			    (alen == 3 && !strncasecmp(an, "src", 3));
			while (space(*p))
				p++;
			if (*p != '=')
				continue;
			p++;
			while (space(*p))
				p++;
			const char *v = p;
			size_t vlen;
			if (*p == '"' || *p == '\'') {
				const char *e = strchr(p + 1, *p);
				if (e == NULL)
					return k;
				v = p + 1;
				vlen = (size_t)(e - v);
				p = e + 1;
			} else {
				while (*p && !space(*p) && *p != '>')
					p++;
				vlen = (size_t)(p - v);
			}
			if (url && bad_scheme(v, vlen))
				k++;
		}
		if (*p == '\0')
			break;
		if (rawname) { /* to "</name" and a delimiter, as browsers do */
			const char *e = p;
			size_t rl = strlen(rawname);
			while ((e = strstr(e + 1, "</")) != NULL &&
			    !(strncasecmp(e + 2, rawname, rl) == 0 &&
				(space(e[2 + rl]) || e[2 + rl] == '/' ||
				    e[2 + rl] == '>')))
				;
			if (e == NULL)
				break;
			p = e;
		}
	}
	return k;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 8192)
		return 0;
	bool xml = data[0] & 1;
	const char *src = (const char *)data + 1;
	size_t n = size - 1;
	tmpl_set *set = NULL;
	buf err, good, bad;

	buf_init(&err, 0);
	buf_init(&good, 1 << 20);
	buf_init(&bad, 1 << 20);
	if (!tmpl_add(&set, "t", src, n, xml, &err)) {
		CHECK(set == NULL);
		CHECK(strncmp(buf_cstr(&err), "t:", 2) == 0);
		CHECK(strchr(buf_cstr(&err) + 2, ':') != NULL);
		buf_free(&err);
		return 0;
	}
	arena *a = arena_new(0);
	tv *mg = tv_dict(a), *mb = tv_dict(a);
	fill(a, mg, false, 0);
	fill(a, mb, true, 0);
	bool okg = tmpl_render(set, "t", mg, &good);
	bool okb = tmpl_render(set, "t", mb, &bad);
	if (okg && okb) {
		const char *g = buf_cstr(&good), *b = buf_cstr(&bad);
		for (const char *c = "<>'"; *c; c++)
			CHECK(count_char(g, good.len, *c) ==
			    count_char(b, bad.len, *c));
		CHECK(count_ci(g, "<script") == count_ci(b, "<script"));
		CHECK(count_bad_urls(g) == count_bad_urls(b));
	}
	arena_free(a);
	tmpl_free(set);
	buf_free(&err);
	buf_free(&good);
	buf_free(&bad);
	return 0;
}
