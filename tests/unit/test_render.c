/*
 * Unit tests for src/render: every escaping writer, XSS vectors in every
 * template context, template compile errors, sections, partials and name
 * lookup, Markdown safety and golden files (golden/md/NAME.md next to
 * NAME.html and, when present, NAME.txt for the plain text), the comment
 * formatter, and pathological inputs that must finish quickly.
 * KIJI_GOLDEN_UPDATE=1 rewrites the expected golden files instead.
 */
#include "../../src/render/render.h"
#include "t.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static arena *A;

/* A ring of buffers so one T_STREQ can compare two helper results. */
#define RING 8
static buf ring[RING];
static unsigned ring_i;

static buf *
rb(void)
{
	buf *b = &ring[ring_i++ % RING];
	if (b->max == 0)
		buf_init(b, 0);
	buf_reset(b);
	return b;
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Case-insensitive strstr. */
static const char *
has_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	return NULL;
}

/* True when some href="..." or src="..." value in html starts (after what
 * browsers strip) with javascript:, vbscript: or data:. */
static bool
bad_url_attr(const char *html)
{
	static const char *const attrs[] = {"href=\"", "src=\"", NULL};
	for (const char *const *a = attrs; *a; a++) {
		for (const char *p = html; (p = has_ci(p, *a)) != NULL; p++) {
			const char *v = p + strlen(*a);
			char scheme[16];
			size_t k = 0;
			for (; *v && *v != '"' && *v != ':' && k < sizeof(scheme) - 1; v++)
				if ((unsigned char)*v > 0x20)
					scheme[k++] = *v;
			scheme[k] = '\0';
			if (*v == ':' && (strcasecmp(scheme, "javascript") == 0 ||
				strcasecmp(scheme, "vbscript") == 0 ||
				strcasecmp(scheme, "data") == 0))
				return true;
		}
	}
	return false;
}

/* ---- escaping ----------------------------------------------------------- */

static const char *
e_text(const char *s)
{
	buf *b = rb();
	html_text(b, s, strlen(s));
	return buf_cstr(b);
}

static const char *
e_attr(const char *s)
{
	buf *b = rb();
	html_attr(b, s, strlen(s));
	return buf_cstr(b);
}

static const char *
e_url(const char *s)
{
	buf *b = rb();
	html_url(b, s, strlen(s));
	return buf_cstr(b);
}

static const char *
e_json(const char *s)
{
	buf *b = rb();
	html_json_string(b, s, strlen(s));
	return buf_cstr(b);
}

static const char *
e_xml(const char *s)
{
	buf *b = rb();
	xml_text(b, s, strlen(s));
	return buf_cstr(b);
}

static void
test_html_text(void)
{
	T_STREQ(e_text("<a href='x'>&\"q\""),
	    "&lt;a href=&#39;x&#39;&gt;&amp;&quot;q&quot;");
	T_STREQ(e_text("\"><script>alert(1)</script>"),
	    "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
	T_STREQ(e_text("日本語 plain"), "日本語 plain");
	T_STREQ(e_text(""), "");
	T_STREQ(e_text("&amp;"), "&amp;amp;");
}

/* The word-at-a-time skip in html_escape against the byte-by-byte rule:
 * every byte value at every offset of strings around the 8-byte steps,
 * on a filler of ASCII and UTF-8 (bytes past 0x7F must never match). */
static void
test_html_text_words(void)
{
	static const char fill[] = "ab\xE6\x97\xA5" "cd\xE6\x9C\xAC" "efgh";
	char s[20];
	buf got, want;
	buf_init(&got, 0);
	buf_init(&want, 0);
	for (size_t len = 1; len <= 19; len++)
		for (size_t at = 0; at < len; at++)
			for (int c = 1; c < 256; c++) {
				for (size_t i = 0; i < len; i++)
					s[i] = fill[i % (sizeof(fill) - 1)];
				s[at] = (char)c;
				s[len - 1 - (at * 7) % len] = c == '&' ? '<' : '&';
				buf_reset(&got);
				buf_reset(&want);
				html_text(&got, s, len);
				for (size_t i = 0; i < len; i++) {
					switch (s[i]) {
					case '&': buf_puts(&want, "&amp;"); break;
					case '<': buf_puts(&want, "&lt;"); break;
					case '>': buf_puts(&want, "&gt;"); break;
					case '"': buf_puts(&want, "&quot;"); break;
					case '\'': buf_puts(&want, "&#39;"); break;
					default: buf_put(&want, s + i, 1);
					}
				}
				if (got.len != want.len ||
				    memcmp(buf_cstr(&got), buf_cstr(&want), got.len) != 0) {
					T_STREQ(buf_cstr(&got), buf_cstr(&want));
					goto out;
				}
			}
out:
	T_CHECK(got.len == want.len &&
	    memcmp(buf_cstr(&got), buf_cstr(&want), got.len) == 0);
	buf_free(&got);
	buf_free(&want);
}

static void
test_html_attr(void)
{
	T_STREQ(e_attr("\" onmouseover=\"alert(1)"),
	    "&quot; onmouseover=&quot;alert(1)");
	T_STREQ(e_attr("' onmouseover='alert(1)"),
	    "&#39; onmouseover=&#39;alert(1)");
	T_STREQ(e_attr("a=b c"), "a=b c");
}

static void
test_html_url(void)
{
	/* kept: relative, fragment, query, scheme-relative, allowed schemes */
	T_STREQ(e_url("https://example.jp/a?b=1&c=2"),
	    "https://example.jp/a?b=1&amp;c=2");
	T_STREQ(e_url("/articles/1"), "/articles/1");
	T_STREQ(e_url("articles/1"), "articles/1");
	T_STREQ(e_url("#comment-3"), "#comment-3");
	T_STREQ(e_url("?page=2"), "?page=2");
	T_STREQ(e_url("//cdn.example.jp/x.png"), "//cdn.example.jp/x.png");
	T_STREQ(e_url("mailto:a@example.jp"), "mailto:a@example.jp");
	T_STREQ(e_url("HTTPS://EXAMPLE.JP/"), "HTTPS://EXAMPLE.JP/");
	T_STREQ(e_url("MailTo:a@example.jp"), "MailTo:a@example.jp");
	T_STREQ(e_url(" \thttp://example.jp/ \n"), "http://example.jp/");
	T_STREQ(e_url(""), "");
	T_STREQ(e_url("/a\"onclick=\"x"), "/a&quot;onclick=&quot;x");
	T_STREQ(e_url("/x?a=javascript:alert(1)"), "/x?a=javascript:alert(1)");
	/* dropped: every other scheme, however disguised */
	T_STREQ(e_url("javascript:alert(1)"), "#");
	T_STREQ(e_url("JaVaScRiPt:alert(1)"), "#");
	T_STREQ(e_url("  javascript:alert(1)"), "#");
	T_STREQ(e_url("\x01\x02javascript:alert(1)"), "#");
	T_STREQ(e_url("java\tscript:alert(1)"), "#");
	T_STREQ(e_url("java\nscript:alert(1)"), "#");
	T_STREQ(e_url("java\rscript:alert(1)"), "#");
	T_STREQ(e_url("jav\x7f" "ascript:alert(1)"), "#");
	T_STREQ(e_url("vbscript:msgbox(1)"), "#");
	T_STREQ(e_url("data:text/html,<script>alert(1)</script>"), "#");
	T_STREQ(e_url("DATA:text/html;base64,PHNjcmlwdD4="), "#");
	T_STREQ(e_url("file:///etc/passwd"), "#");
	/* '#' starts a fragment: the browser sees the relative URL "&", and the
	 * escaped '&' keeps it from being read as a character reference */
	T_STREQ(e_url("&#106;avascript:alert(1)"), "&amp;#106;avascript:alert(1)");
	T_STREQ(e_url("&#x6A;avascript&#x3A;alert(1)"), "&amp;#x6A;avascript&amp;#x3A;alert(1)");
	T_STREQ(e_url("javascript:alert(1)//#x"), "#");
	T_STREQ(e_url("javascript&#58;alert(1)"), "javascript&amp;#58;alert(1)");
	T_STREQ(e_url("foo:bar"), "#");
	T_STREQ(e_url("httpx://example.jp/"), "#");
	T_CHECK(html_url_safe("/a", 2));
	T_CHECK(!html_url_safe("javascript:", 11));
	buf *b = rb();
	T_CHECK(!html_url(b, "javascript:x", 12));
	T_CHECK(html_url(b, "/x", 2));
}

static void
test_html_json_string(void)
{
	T_STREQ(e_json("</script><!--"),
	    "\"\\u003c/script\\u003e\\u003c!--\"");
	T_STREQ(e_json("a'b&c\"d\\e"), "\"a\\u0027b\\u0026c\\\"d\\\\e\"");
	T_STREQ(e_json("\n\r\t\x01\x7f"), "\"\\n\\r\\t\\u0001\\u007f\"");
	T_STREQ(e_json("x\xE2\x80\xA8y\xE2\x80\xA9z"), "\"x\\u2028y\\u2029z\"");
	T_STREQ(e_json("日本"), "\"日本\"");
	T_STREQ(e_json("bad\xff\xc0\x80"), "\"bad\\ufffd\\ufffd\\ufffd\"");
	T_STREQ(e_json(""), "\"\"");
}

static void
test_xml_text(void)
{
	T_STREQ(e_xml("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
	T_STREQ(e_xml("t\ta\nb\rc"), "t\ta\nb\rc");
	T_STREQ(e_xml("x\x01\x08\x0b\x0c\x1fy"), "xy");
	T_STREQ(e_xml("a\xEF\xBF\xBE\xEF\xBF\xBF" "b"), "ab"); /* U+FFFE, U+FFFF */
	T_STREQ(e_xml("a\xff\xed\xa0\x80z"), "az");         /* bad byte, surrogate */
	T_STREQ(e_xml("記事 \xF0\x9F\x87\xAF"), "記事 \xF0\x9F\x87\xAF");
}

static void
test_html_raw_trusted(void)
{
	buf *b = rb();
	html_raw_trusted(b, "<b>ok</b>", 9);
	T_STREQ(buf_cstr(b), "<b>ok</b>");
}

/* ---- values ------------------------------------------------------------- */

static void
test_values(void)
{
	tv *d = tv_dict(A), *l = tv_list(A);
	tv_set_str(A, d, "a", "x");
	tv_set_int(A, d, "n", 7);
	tv_set(d, "a", tv_str(A, "y"));
	T_CHECK(tv_len(d) == 2);
	size_t n;
	T_STREQ(tv_str_of(tv_get(d, "a"), &n), "y");
	T_CHECK(n == 1);
	T_CHECK(tv_int_of(tv_get(d, "n")) == 7);
	T_CHECK(tv_get(d, "missing") == NULL);
	T_CHECK(tv_get(l, "a") == NULL);
	T_STREQ(tv_key_at(d, 1), "n");
	for (int i = 0; i < 100; i++)
		tv_push(l, tv_int(A, i));
	T_CHECK(tv_len(l) == 100);
	T_CHECK(tv_int_of(tv_at(l, 99)) == 99);
	T_CHECK(tv_at(l, 100) == NULL);
	T_CHECK(tv_kind_of(NULL) == TV_NULL);
	T_CHECK(tv_kind_of(l) == TV_LIST);
	/* truthiness */
	T_CHECK(!tv_truthy(NULL));
	T_CHECK(!tv_truthy(tv_bool(A, false)));
	T_CHECK(tv_truthy(tv_bool(A, true)));
	T_CHECK(!tv_truthy(tv_int(A, 0)));
	T_CHECK(tv_truthy(tv_int(A, -1)));
	T_CHECK(!tv_truthy(tv_str(A, "")));
	T_CHECK(tv_truthy(tv_str(A, "0")));
	T_CHECK(!tv_truthy(tv_list(A)));
	T_CHECK(tv_truthy(l));
	T_CHECK(tv_truthy(tv_dict(A)));
	T_CHECK(tv_is_trusted(tv_html_trusted(A, "<b>", 3)));
	T_CHECK(!tv_is_trusted(tv_str(A, "<b>")));
	/* setting on a non-dict, pushing on a non-list: ignored */
	tv *s = tv_str(A, "x");
	tv_set(s, "k", l);
	tv_push(s, l);
	T_CHECK(tv_len(s) == 0);
}

/* ---- templates ---------------------------------------------------------- */

/* Compiles src as template "t" and renders it with root: the output, or
 * "ERR " and the compile message. */
static const char *
tr(const char *src, const tv *root, bool xml)
{
	buf *b = rb(), err;
	tmpl_set *set = NULL;
	buf_init(&err, 0);
	if (!tmpl_add(&set, "t", src, strlen(src), xml, &err)) {
		buf_printf(b, "ERR %s", buf_cstr(&err));
	} else {
		tmpl_render(set, "t", root, b);
	}
	buf_free(&err);
	tmpl_free(set);
	return buf_cstr(b);
}

static const char *
th(const char *src, const tv *root)
{
	return tr(src, root, false);
}

/* The compile error for src, or "" when it compiles. */
static const char *
terr(const char *src)
{
	const char *r = th(src, NULL);
	return strncmp(r, "ERR ", 4) == 0 ? r + 4 : "";
}

/* The view model most template tests use. */
static tv *
model(void)
{
	tv *root = tv_dict(A);
	tv_set_str(A, root, "name", "<script>alert(1)</script>");
	tv_set_str(A, root, "q", "\"><script>alert(1)</script>");
	tv_set_str(A, root, "sq", "' onmouseover='alert(1)");
	tv_set_str(A, root, "js", "javascript:alert(1)");
	tv_set_str(A, root, "jsmix", " JaVa\tScRiPt:alert(1)");
	tv_set_str(A, root, "data", "data:text/html,<script>alert(1)</script>");
	tv_set_str(A, root, "ok", "https://example.jp/?a=1&b=2");
	tv_set_str(A, root, "site", "kiji");
	tv_set_int(A, root, "id", 42);
	tv_set_int(A, root, "neg", -7);
	tv_set_bool(A, root, "yes", true);
	tv_set_bool(A, root, "no", false);
	tv_set_int(A, root, "zero", 0);
	tv_set_str(A, root, "empty", "");
	tv_set(root, "html", tv_html_trusted(A, "<b>bold</b>", 11));
	tv *items = tv_set(root, "items", tv_list(A));
	const char *names[] = {"a<", "b&", "c\""};
	for (int i = 0; i < 3; i++) {
		tv *it = tv_push(items, tv_dict(A));
		tv_set_str(A, it, "name", names[i]);
		tv_set_int(A, it, "n", i + 1);
	}
	tv_set(root, "none", tv_list(A));
	tv *tags = tv_set(root, "tags", tv_list(A));
	tv_push(tags, tv_str(A, "軍事"));
	tv_push(tags, tv_str(A, "<米国>"));
	tv *author = tv_set(root, "author", tv_dict(A));
	tv_set_str(A, author, "name", "山田");
	tv *addr = tv_set(author, "addr", tv_dict(A));
	tv_set_str(A, addr, "city", "東京");
	return root;
}

static void
test_tmpl_text(void)
{
	tv *m = model();
	T_STREQ(th("<p>{{name}}</p>", m),
	    "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
	T_STREQ(th("<p>{{ q }}</p>", m),
	    "<p>&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</p>");
	T_STREQ(th("{{id}} {{neg}} {{yes}} {{no}} [{{missing}}] [{{items}}]", m),
	    "42 -7 true false [] []");
	T_STREQ(th("<title>{{name}}</title>", m),
	    "<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>");
	T_STREQ(th("<textarea>{{q}}</textarea>", m),
	    "<textarea>&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</textarea>");
	T_STREQ(th("{{! a comment }}x{{!\nmulti\nline}}", m), "x");
	T_STREQ(th("a < b {{id}}", m), "a < b 42");
	T_STREQ(th("<!DOCTYPE html><p>{{site}}</p>", m),
	    "<!DOCTYPE html><p>kiji</p>");
	tv *r = tv_dict(A);
	tv_set_int(A, r, "min", INT64_MIN);
	T_STREQ(th("{{min}}", r), "-9223372036854775808");
}

static void
test_tmpl_raw(void)
{
	tv *m = model();
	T_STREQ(th("<div>{{{html}}}</div>", m), "<div><b>bold</b></div>");
	T_STREQ(th("<div>{{html}}</div>", m), "<div>&lt;b&gt;bold&lt;/b&gt;</div>");
	T_STREQ(th("<div>{{{name}}}</div>", m),
	    "<div>&lt;script&gt;alert(1)&lt;/script&gt;</div>");
	T_STREQ(th("{{{id}}}", m), "42");
	T_CHECK(strstr(terr("<a title=\"{{{html}}}\">"), "only in text") != NULL);
	T_CHECK(strstr(terr("<script>{{{html}}}</script>"), "only in text") != NULL);
	T_CHECK(strstr(terr("<title>{{{html}}}</title>"), "only in text") != NULL);
	T_CHECK(strstr(terr("{{&html}}"), "not supported") != NULL);
}

static void
test_tmpl_attr(void)
{
	tv *m = model();
	T_STREQ(th("<a title=\"{{q}}\">", m),
	    "<a title=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\">");
	T_STREQ(th("<a title='{{sq}}'>", m),
	    "<a title='&#39; onmouseover=&#39;alert(1)'>");
	T_STREQ(th("<div class=\"c {{site}} d\" data-id=\"{{id}}\">", m),
	    "<div class=\"c kiji d\" data-id=\"42\">");
	T_STREQ(th("<input value=\"{{name}}\" disabled>", m),
	    "<input value=\"&lt;script&gt;alert(1)&lt;/script&gt;\" disabled>");
	/* attribute that only looks like a URL one by prefix */
	T_STREQ(th("<a hreflang=\"{{js}}\">", m), "<a hreflang=\"javascript:alert(1)\">");
}

static void
test_tmpl_url(void)
{
	tv *m = model();
	T_STREQ(th("<a href=\"{{js}}\">x</a>", m), "<a href=\"#\">x</a>");
	T_STREQ(th("<a href='{{jsmix}}'>", m), "<a href='#'>");
	T_STREQ(th("<a HREF=\"{{data}}\">", m), "<a HREF=\"#\">");
	T_STREQ(th("<img src=\"{{js}}\">", m), "<img src=\"#\">");
	T_STREQ(th("<form action=\"{{js}}\"><button formaction=\"{{js}}\">", m),
	    "<form action=\"#\"><button formaction=\"#\">");
	T_STREQ(th("<iframe src=\"{{data}}\"></iframe>", m),
	    "<iframe src=\"#\"></iframe>");
	T_STREQ(th("<video poster=\"{{js}}\"><object data=\"{{js}}\">", m),
	    "<video poster=\"#\"><object data=\"#\">");
	T_STREQ(th("<blockquote cite=\"{{js}}\"><svg><a xlink:href=\"{{js}}\">", m),
	    "<blockquote cite=\"#\"><svg><a xlink:href=\"#\">");
	T_STREQ(th("<a href=\"{{ok}}\">", m),
	    "<a href=\"https://example.jp/?a=1&amp;b=2\">");
	T_STREQ(th("<a href=\"{{q}}\">", m),
	    "<a href=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\">");
	/* after a literal prefix fixes the scheme, values are attribute text */
	T_STREQ(th("<a href=\"/articles/{{id}}#comment-{{id}}\">", m),
	    "<a href=\"/articles/42#comment-42\">");
	T_STREQ(th("<a href=\"/search?q={{js}}\">", m),
	    "<a href=\"/search?q=javascript:alert(1)\">");
	T_STREQ(th("<a href=\"mailto:{{site}}@example.jp\">", m),
	    "<a href=\"mailto:kiji@example.jp\">");
	T_STREQ(th("<a href=\"{{js}}/x\">", m), "<a href=\"#/x\">");
	T_STREQ(th("<a href=\" {{js}}\">", m), "<a href=\" #\">");
	/* values that could build a scheme are refused */
	T_CHECK(strstr(terr("<a href=\"java{{x}}\">"), "URL scheme") != NULL);
	T_CHECK(strstr(terr("<a href=\"{{a}}{{b}}\">"), "URL scheme") != NULL);
	T_CHECK(strstr(terr("<a href=\"{{a}}:{{b}}\">"), "scheme") != NULL);
	T_CHECK(strstr(terr("<a href=\"{{#a}}{{u}}{{/a}}\">"), "different") != NULL);
	T_STREQ(terr("<a href=\"{{u}}\" title=\"{{u}}\">"), "");
}

static void
test_tmpl_script(void)
{
	tv *m = model();
	T_STREQ(th("<script>var n = {{name}};</script>", m),
	    "<script>var n = \"\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\";</script>");
	T_STREQ(th("<script>f({{id}}, {{yes}}, {{missing}});</script>", m),
	    "<script>f(42, true, null);</script>");
	T_STREQ(th("<script>var t = {{tags}}, a = {{author}};</script>", m),
	    "<script>var t = [\"軍事\",\"\\u003c米国\\u003e\"], "
	    "a = {\"name\":\"山田\",\"addr\":{\"city\":\"東京\"}};</script>");
	T_STREQ(th("<script type=\"application/ld+json\">{\"headline\": {{q}}}</script>", m),
	    "<script type=\"application/ld+json\">{\"headline\": "
	    "\"\\\"\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\"}</script>");
	T_STREQ(th("<script>var s = \"a\"; // don't\nx({{id}}); /* ' */ y({{id}})</script>", m),
	    "<script>var s = \"a\"; // don't\nx(42); /* ' */ y(42)</script>");
	T_STREQ(th("<SCRIPT>{{id}}</Script ><p>{{name}}</p>", m),
	    "<SCRIPT>42</Script ><p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
	/* in a JS string, template literal or comment: refused */
	T_CHECK(strstr(terr("<script>var s = \"{{x}}\";</script>"), "JavaScript string") != NULL);
	T_CHECK(strstr(terr("<script>var s = 'a {{x}}';</script>"), "JavaScript string") != NULL);
	T_CHECK(strstr(terr("<script>var s = `${a} {{x}}`;</script>"), "JavaScript string") != NULL);
	T_CHECK(strstr(terr("<script>// {{x}}\n</script>"), "JavaScript string") != NULL);
	T_CHECK(strstr(terr("<script>/* {{x}} */</script>"), "JavaScript string") != NULL);
	/* a tag where the browser may see "</script" */
	T_CHECK(strstr(terr("<script>a <{{x}}</script>"), "end tag") != NULL);
	T_CHECK(strstr(terr("<script>a </scr{{#x}}ipt>{{/x}}</script>"), "end tag") != NULL);
	T_CHECK(strstr(terr("<script>{{#x}}</script>{{/x}}"), "different") != NULL);
}

static void
test_tmpl_compile_errors(void)
{
	/* each refused place, and the file:line prefix */
	T_STREQ(terr("<p>\n\n<a href={{u}}>"), "t:3: value in an unquoted attribute value");
	T_CHECK(strstr(terr("<div class={{c}}>"), "unquoted") != NULL);
	T_CHECK(strstr(terr("<div class=a{{c}}>"), "unquoted") != NULL);
	T_CHECK(strstr(terr("<style>p { color: {{c}} }</style>"), "<style>") != NULL);
	T_CHECK(strstr(terr("<p style=\"color: {{c}}\">"), "style") != NULL);
	T_CHECK(strstr(terr("<p onclick=\"go({{c}})\">"), "event handler") != NULL);
	T_CHECK(strstr(terr("<body ONLOAD='{{c}}'>"), "event handler") != NULL);
	T_CHECK(strstr(terr("<img srcset=\"{{c}} 2x\">"), "srcset") != NULL);
	T_CHECK(strstr(terr("<iframe srcdoc=\"{{c}}\">"), "srcdoc") != NULL);
	T_CHECK(strstr(terr("<svg><animate attributeName=\"href\" values=\"{{c}}\"/>"), "event handler") != NULL);
	T_CHECK(strstr(terr("<{{t}}>"), "markup") != NULL);
	T_CHECK(strstr(terr("</{{t}}>"), "markup") != NULL);
	T_CHECK(strstr(terr("<div {{a}}>"), "tag or attribute name") != NULL);
	T_CHECK(strstr(terr("<div data-{{a}}=\"1\">"), "tag or attribute name") != NULL);
	T_CHECK(strstr(terr("<di{{#x}}v{{/x}}>"), "splits") != NULL);
	T_CHECK(strstr(terr("<a hr{{#x}}ef{{/x}}=\"{{u}}\">"), "splits") != NULL);
	T_CHECK(strstr(terr("<a {{#x}}href{{/x}}=\"{{u}}\">"), "splits") != NULL);
	T_CHECK(strstr(terr("<a {{#x}}href{{/x}} =\"{{u}}\">"), "'='") != NULL);
	T_CHECK(strstr(terr("<{{#x}}b{{/x}}>"), "markup") != NULL);
	T_CHECK(strstr(terr("{{#x}}<{{/x}}script>"), "markup") != NULL);
	T_CHECK(strstr(terr("<!-- {{x}} -->"), "comment") != NULL);
	T_CHECK(strstr(terr("<!-- {{#x}} -->{{/x}}"), "different") != NULL);
	T_CHECK(strstr(terr("<a title=\"{{#x}}\"{{/x}}>"), "different") != NULL);
	T_CHECK(strstr(terr("<!DOCTYPE {{x}}>"), "markup") != NULL);
	T_STREQ(terr("a\n{{/x}}"), "t:2: unknown closing section");
	T_CHECK(strstr(terr("{{#a}}{{/b}}"), "does not match") != NULL);
	T_STREQ(terr("x\n{{#a}}\n"), "t:2: section never closed");
	T_CHECK(strstr(terr("{{x"), "unterminated") != NULL);
	T_CHECK(strstr(terr("{{{x}}"), "unterminated") != NULL);
	T_CHECK(strstr(terr("{{a b}}"), "bad character") != NULL);
	T_CHECK(strstr(terr("{{a..b}}"), "empty part") != NULL);
	T_CHECK(strstr(terr("{{}}"), "empty name") != NULL);
	T_CHECK(strstr(terr("{{=<% %>=}}"), "delimiters") != NULL);
	T_CHECK(strstr(terr("<p title=\"x\">{{#a}}<p title=\"{{/a}}\">"), "different") != NULL);
	T_CHECK(strstr(terr("<p title=\"x"), "ends inside") != NULL);
	T_CHECK(strstr(terr("<script>"), "ends inside") != NULL);
	T_CHECK(strstr(terr("<a href=\"x\">{{>p}}</a><div title=\"{{>p}}\">"), "partial") != NULL);
	/* harmless uses of the same places compile */
	T_STREQ(terr("<!-- {{! note }} --><p>{{x}}</p>"), "");
	T_STREQ(terr("<style>p { color: red }</style>{{x}}"), "");
	T_STREQ(terr("<option{{#sel}} selected{{/sel}}>{{x}}</option>"), "");
	T_STREQ(terr("<input type=\"checkbox\" {{#c}}checked{{/c}}>"), "");
	T_STREQ(terr("<div class=\"a{{#b}} b{{/b}}\">"), "");
	T_STREQ(terr("<div hidden>{{x}}<br/></div>"), "");
	char deep[32 * 12 + 40] = "";
	for (int i = 0; i < 33; i++)
		strcat(deep, "{{#a}}");
	T_CHECK(strstr(terr(deep), "too deep") != NULL);
}

static void
test_tmpl_sections(void)
{
	tv *m = model();
	T_STREQ(th("<ul>{{#items}}<li>{{n}}:{{name}}</li>{{/items}}</ul>", m),
	    "<ul><li>1:a&lt;</li><li>2:b&amp;</li><li>3:c&quot;</li></ul>");
	T_STREQ(th("{{#author}}{{name}}/{{addr.city}}{{/author}}", m), "山田/東京");
	T_STREQ(th("{{#yes}}Y{{/yes}}{{#no}}N{{/no}}{{#zero}}Z{{/zero}}"
		   "{{#empty}}E{{/empty}}{{#none}}L{{/none}}{{#missing}}M{{/missing}}", m),
	    "Y");
	T_STREQ(th("{{^yes}}Y{{/yes}}{{^no}}N{{/no}}{{^zero}}Z{{/zero}}"
		   "{{^empty}}E{{/empty}}{{^none}}L{{/none}}{{^missing}}M{{/missing}}"
		   "{{^items}}I{{/items}}", m),
	    "NZELM");
	T_STREQ(th("{{#tags}}[{{.}}]{{/tags}}", m), "[軍事][&lt;米国&gt;]");
	T_STREQ(th("{{#id}}{{.}}{{/id}}", m), "42");
	/* nested lookup: inner names first, then outwards */
	T_STREQ(th("{{#items}}{{site}}-{{name}};{{/items}}", m),
	    "kiji-a&lt;;kiji-b&amp;;kiji-c&quot;;");
	T_STREQ(th("{{#items}}{{#author}}{{name}}{{/author}}{{/items}}", m),
	    "山田山田山田");
	T_STREQ(th("{{author.name}} {{author.addr.city}} [{{author.nope.x}}] [{{id.x}}]", m),
	    "山田 東京 [] []");
	T_STREQ(th("{{#author.addr}}{{city}}{{/author.addr}}", m), "東京");
	T_STREQ(th("<option{{#yes}} selected{{/yes}}>", m), "<option selected>");
	T_STREQ(th("<p class=\"a{{#no}} b{{/no}}\">", m), "<p class=\"a\">");
	/* standalone section lines leave no blank lines */
	T_STREQ(th("<ul>\n  {{#tags}}\n  <li>{{.}}</li>\n  {{/tags}}\n</ul>\n", m),
	    "<ul>\n  <li>軍事</li>\n  <li>&lt;米国&gt;</li>\n</ul>\n");
	T_STREQ(th("a\n{{! note }}\nb {{#yes}}\nc\n", m), "ERR t:3: section never closed");
	T_STREQ(th("a\r\n{{! note }}\r\nb", m), "a\r\nb");
}

static void
test_tmpl_partials(void)
{
	tmpl_set *set = NULL;
	buf err, out;
	tv *m = model();
	buf_init(&err, 0);
	buf_init(&out, 0);
	const char *page = "<ol>{{#items}}{{> item}}{{/items}}</ol>{{>missing}}";
	const char *item = "<li title=\"{{name}}\">{{n}}</li>";
	T_CHECK(tmpl_add(&set, "page", page, strlen(page), false, &err));
	T_CHECK(tmpl_add(&set, "item", item, strlen(item), false, &err));
	T_CHECK(tmpl_has(set, "page") && tmpl_has(set, "item") && !tmpl_has(set, "x"));
	T_CHECK(tmpl_render(set, "page", m, &out));
	T_STREQ(buf_cstr(&out), "<ol><li title=\"a&lt;\">1</li>"
	    "<li title=\"b&amp;\">2</li><li title=\"c&quot;\">3</li></ol>");
	/* replacing a template by name takes effect for its callers */
	const char *item2 = "[{{n}}]";
	T_CHECK(tmpl_add(&set, "item", item2, strlen(item2), false, &err));
	buf_reset(&out);
	T_CHECK(tmpl_render(set, "page", m, &out));
	T_STREQ(buf_cstr(&out), "<ol>[1][2][3]</ol>");
	T_CHECK(!tmpl_render(set, "nope", m, &out));
	/* recursion over a tree, and runaway recursion cut at depth 16 */
	const char *tree = "({{name}}{{#kids}}{{>tree}}{{/kids}})";
	const char *loop = "x{{>loop}}";
	T_CHECK(tmpl_add(&set, "tree", tree, strlen(tree), false, &err));
	T_CHECK(tmpl_add(&set, "loop", loop, strlen(loop), false, &err));
	tv *root = tv_dict(A), *kids = tv_set(root, "kids", tv_list(A));
	tv_set_str(A, root, "name", "r");
	tv *k1 = tv_push(kids, tv_dict(A));
	tv_set_str(A, k1, "name", "a");
	tv *k2 = tv_push(tv_set(k1, "kids", tv_list(A)), tv_dict(A));
	tv_set_str(A, k2, "name", "b");
	tv_set(k2, "kids", tv_list(A));
	buf_reset(&out);
	T_CHECK(tmpl_render(set, "tree", root, &out));
	T_STREQ(buf_cstr(&out), "(r(a(b)))");
	buf_reset(&out);
	T_CHECK(!tmpl_render(set, "loop", root, &out));
	T_STREQ(buf_cstr(&out), "xxxxxxxxxxxxxxxxx");
	/* a fan-out that writes nothing is stopped by the step budget */
	const char *fan = "{{#kids}}{{>fan}}{{>fan}}{{/kids}}";
	T_CHECK(tmpl_add(&set, "fan", fan, strlen(fan), false, &err));
	tv *two = tv_dict(A), *pair = tv_set(two, "kids", tv_list(A));
	tv_push(pair, tv_dict(A));
	tv_push(pair, tv_dict(A));
	double t0 = now();
	buf_reset(&out);
	T_CHECK(!tmpl_render(set, "fan", two, &out));
	T_CHECK(now() - t0 < 10.0);
	/* a failed add leaves the set as it was */
	T_CHECK(!tmpl_add(&set, "item", "<a href={{x}}>", 14, false, &err));
	T_STREQ(buf_cstr(&err), "item:1: value in an unquoted attribute value");
	buf_reset(&out);
	T_CHECK(tmpl_render(set, "page", m, &out));
	T_STREQ(buf_cstr(&out), "<ol>[1][2][3]</ol>");
	/* a set that fails on first add is not created */
	tmpl_set *none = NULL;
	T_CHECK(!tmpl_add(&none, "a", "{{/a}}", 6, false, &err));
	T_CHECK(none == NULL);
	tmpl_free(set);
	tmpl_free(NULL);
	buf_free(&err);
	buf_free(&out);
}

static void
test_tmpl_xml(void)
{
	tv *m = tv_dict(A);
	tv_set_str(A, m, "t", "a<b>&\x01\x0b\xef\xbf\xbfz");
	tv_set_str(A, m, "u", "javascript:alert(1)");
	tv_set_str(A, m, "ok", "https://example.jp/?a=1&b=2");
	tv_set(m, "html", tv_html_trusted(A, "<p>x</p>", 8));
	T_STREQ(tr("<?xml version=\"1.0\"?>\n<feed><title>{{t}}</title>"
		   "<link href=\"{{u}}\"/><link href=\"{{ok}}\"/>"
		   "<content type=\"html\">{{{html}}}</content>"
		   "<id>{{ok}}</id><![CDATA[ x ]]></feed>", m, true),
	    "<?xml version=\"1.0\"?>\n<feed><title>a&lt;b&gt;&amp;z</title>"
	    "<link href=\"#\"/><link href=\"https://example.jp/?a=1&amp;b=2\"/>"
	    "<content type=\"html\">&lt;p&gt;x&lt;/p&gt;</content>"
	    "<id>https://example.jp/?a=1&amp;b=2</id><![CDATA[ x ]]></feed>");
	T_CHECK(strstr(tr("<a><![CDATA[{{t}}]]></a>", m, true), "markup") != NULL);
	/* no raw-text elements in XML: <script> is an ordinary element */
	T_STREQ(tr("<script>{{t}}</script>", m, true), "<script>a&lt;b&gt;&amp;z</script>");
}

/* Writes name into dir with contents s. */
static void
put_file(const char *dir, const char *name, const char *s)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(s, f);
		fclose(f);
	}
}

static void
test_tmpl_load_dir(void)
{
	char dir[64];
	buf err, out;
	buf_init(&err, 0);
	buf_init(&out, 0);
	T_CHECK(t_tmpdir(dir, sizeof dir, "tmpl"));
	put_file(dir, "page.html", "<h1>{{title}}</h1>\n{{> foot}}");
	put_file(dir, "foot.html", "<footer>{{site}}</footer>\n");
	put_file(dir, "feed.xml", "<title>{{title}}</title>");
	put_file(dir, "notes.txt", "{{/broken}}");
	put_file(dir, ".hidden.html", "{{/broken}}");
	tmpl_set *set = tmpl_load_dir(dir, &err);
	T_CHECK(set != NULL);
	T_CHECK(tmpl_has(set, "page") && tmpl_has(set, "foot") && tmpl_has(set, "feed"));
	T_CHECK(!tmpl_has(set, "notes") && !tmpl_has(set, ".hidden"));
	tv *m = tv_dict(A);
	tv_set_str(A, m, "title", "a\x01<b>");
	tv_set_str(A, m, "site", "kiji");
	T_CHECK(tmpl_render(set, "page", m, &out));
	T_STREQ(buf_cstr(&out), "<h1>a\x01&lt;b&gt;</h1>\n<footer>kiji</footer>\n");
	buf_reset(&out);
	T_CHECK(tmpl_render(set, "feed", m, &out));
	T_STREQ(buf_cstr(&out), "<title>a&lt;b&gt;</title>");
	tmpl_free(set);
	/* an error names the file and line */
	put_file(dir, "bad.html", "<p>\n<a href={{x}}>\n");
	T_CHECK(tmpl_load_dir(dir, &err) == NULL);
	char want[256];
	snprintf(want, sizeof(want), "%s/bad.html:2: value in an unquoted attribute value", dir);
	T_STREQ(buf_cstr(&err), want);
	char path[512];
	snprintf(path, sizeof(path), "%s/bad.html", dir);
	unlink(path);
	put_file(dir, "page.xml", "<x/>");
	T_CHECK(tmpl_load_dir(dir, &err) == NULL);
	T_CHECK(strstr(buf_cstr(&err), "exists already") != NULL);
	t_tmpdir_remove(dir);
	T_CHECK(tmpl_load_dir("/nonexistent-kiji-dir", &err) == NULL);
	T_CHECK(strstr(buf_cstr(&err), "/nonexistent-kiji-dir: ") != NULL);
	buf_free(&err);
	buf_free(&out);
}

/* The article page's comment list at 100 comments (~2,000 values) renders
 * fast and the output buffer cap is honoured. */
static void
test_tmpl_page_speed(void)
{
	const char *src =
	    "<section id=\"comments\"><ol class=\"comment-list\">\n"
	    "{{#comments}}\n"
	    "<li class=\"comment\" id=\"comment-{{id}}\" data-depth=\"{{depth}}\">"
	    "<span class=\"comment-author\">{{author}}</span>"
	    "<time class=\"comment-date\" datetime=\"{{iso}}\">{{date}}</time>"
	    "<div class=\"comment-body\">{{{body}}}</div>"
	    "<form class=\"like-form\" action=\"/comments/{{id}}/like\" method=\"post\">"
	    "<span class=\"like-count\">{{likes}}</span></form>"
	    "<a class=\"reply-link\" href=\"?replytocom={{id}}#respond\">返信</a></li>\n"
	    "{{/comments}}\n"
	    "</ol></section>\n";
	tmpl_set *set = NULL;
	buf err, out;
	buf_init(&err, 0);
	buf_init(&out, 0);
	T_CHECK(tmpl_add(&set, "c", src, strlen(src), false, &err));
	arena *a = arena_new(0);
	double t0 = now();
	tv *root = tv_dict(a), *list = tv_set(root, "comments", tv_list(a));
	for (int i = 0; i < 100; i++) {
		tv *c = tv_push(list, tv_dict(a));
		tv_set_int(a, c, "id", i + 1);
		tv_set_int(a, c, "depth", 1 + i % 3);
		tv_set_str(a, c, "author", "名無しさん<b>");
		tv_set_str(a, c, "iso", "2022-01-09T13:05:00+09:00");
		tv_set_str(a, c, "date", "2022年 1月 09日");
		tv_set(c, "body", tv_html_trusted(a, "<p>本文です。</p>", 21));
		tv_set_int(a, c, "likes", i * 3);
		for (int k = 0; k < 12; k++)
			tv_set(c, (const char *[]){"k0", "k1", "k2", "k3", "k4",
			    "k5", "k6", "k7", "k8", "k9", "ka", "kb"}[k],
			    tv_int(a, k));
	}
	double t1 = now();
	int rounds = 200;
	for (int r = 0; r < rounds; r++) {
		buf_reset(&out);
		T_CHECK(tmpl_render(set, "c", root, &out));
	}
	double t2 = now();
	printf("  100-comment list: build %.3f ms, render %.3f ms, %zu bytes\n",
	    (t1 - t0) * 1e3, (t2 - t1) * 1e3 / rounds, out.len);
	T_CHECK((t2 - t1) / rounds < 0.01); /* generous: sanitizers are on */
	T_CHECK(strstr(buf_cstr(&out), "id=\"comment-100\"") != NULL);
	T_CHECK(strstr(buf_cstr(&out), "名無しさん&lt;b&gt;") != NULL);
	/* a capped buffer: rendering stops and reports failure */
	buf small;
	buf_init(&small, 1000);
	T_CHECK(!tmpl_render(set, "c", root, &small));
	T_CHECK(small.err && small.len <= 1000);
	buf_free(&small);
	arena_free(a);
	tmpl_free(set);
	buf_free(&err);
	buf_free(&out);
}

/* ---- Markdown ----------------------------------------------------------- */

static const char *
md(const char *s)
{
	buf *b = rb();
	if (!md_render(b, NULL, s, strlen(s)))
		return "(false)";
	return buf_cstr(b);
}

static const char *
md_plain_of(const char *s)
{
	buf *h = rb(), *p = rb();
	if (!md_render(h, p, s, strlen(s)))
		return "(false)";
	return buf_cstr(p);
}

static void
test_md_safety(void)
{
	buf *b;
	const char *vectors[] = {
		"<script>alert(1)</script>",
		"<SCRIPT SRC=//evil/x.js></SCRIPT>",
		"x <script>alert(1)</script> y",
		"<img src=x onerror=alert(1)>",
		"<iframe src=\"javascript:alert(1)\"></iframe>",
		"[x](javascript:alert(1))",
		"[x](JaVaScRiPt:alert(1))",
		"[x](  javascript:alert(1) )",
		"[x](<java\tscript:alert(1)>)",
		"[x](&#106;avascript:alert(1))",
		"[x](&#x6A;avascript&#x3A;alert(1))",
		"[x](javascript&colon;alert(1))",
		"[x](vbscript:msgbox(1))",
		"[x](data:text/html,<script>alert(1)</script>)",
		"[x][r]\n\n[r]: javascript:alert(1)",
		"<javascript:alert(1)>",
		"![x](javascript:alert(1))",
		"![x](data:image/svg+xml,<svg/onload=alert(1)>)",
		"[x](\"onmouseover=\"alert(1))",
		"[x](/a \"\\\"onmouseover=alert(1)\")",
		"<a href=\"javascript:alert(1)\">x</a>",
		"<!-- <script>alert(1)</script> -->",
		"```\n<script>alert(1)</script>\n```",
		"`<script>`",
		"| a |\n|---|\n| <script>alert(1)</script> |",
		"javascript:alert(1)",
	};
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const char *h = md(vectors[i]);
		if (has_ci(h, "<script") || has_ci(h, "<img src=x") ||
		    has_ci(h, "<iframe") ||
		    bad_url_attr(h) || strstr(h, "\" onmouseover") ||
		    strcmp(h, "(false)") == 0) {
			printf("  vector %zu: %s\n  gave: %s\n", i, vectors[i], h);
			T_CHECK(!"unsafe Markdown output");
		}
	}
	T_STREQ(md("[x](javascript:alert(1))"), "<p>x</p>\n");
	T_STREQ(md("<img src=x onerror=alert(1)>"),
	    "<p>&lt;img src=x onerror=alert(1)&gt;</p>\n");
	T_STREQ(md("![a *b*](javascript:alert(1))"), "<p>a b</p>\n");
	/* md4c 0.4.8 reads past its input: "[](d" followed in memory by ')'
	 * crashes it unless md_render gives it a padded copy */
	b = rb();
	T_CHECK(md_render(b, NULL, "[](d)", 4));
	T_STREQ(buf_cstr(b), "<p>[](d</p>\n");
	/* ...and can end an image it never started: spans stay balanced */
	T_STREQ(md("[a](![c) [d](e)\n[f](g][r]\n\n[r]: x"),
	    "<p><a href=\"![c\">a</a> <a href=\"e\">d</a>\n[f](g</p>\n");
	T_STREQ(md("*a [b](/c) **d"), "<p>*a <a href=\"/c\">b</a> **d</p>\n");
	/* invalid UTF-8 is refused and nothing is written */
	b = rb();
	buf_puts(b, "keep");
	T_CHECK(!md_render(b, NULL, "a\xff", 2));
	T_CHECK(!md_render(b, NULL, "\xed\xa0\x80", 3));
	T_STREQ(buf_cstr(b), "keep");
}

static void
test_md_features(void)
{
	T_STREQ(md("# 見出し\n\n## 二\n\n###### six"),
	    "<h2>見出し</h2>\n<h2>二</h2>\n<h6>six</h6>\n");
	T_STREQ(md("![戦車](/img/t.jpg \"出典: 陸上自衛隊\")"),
	    "<figure><img src=\"/img/t.jpg\" alt=\"戦車\" loading=\"lazy\">"
	    "<figcaption>出典: 陸上自衛隊</figcaption></figure>\n");
	T_STREQ(md("前 ![戦車](/t.jpg \"出典: X\") 後"),
	    "<p>前 <img src=\"/t.jpg\" alt=\"戦車\" loading=\"lazy\">"
	    "<small class=\"credit\">出典: X</small> 後</p>\n");
	T_STREQ(md("![a](/a.png \"title\")"),
	    "<p><img src=\"/a.png\" alt=\"a\" title=\"title\" loading=\"lazy\"></p>\n");
	T_STREQ(md("| a | b |\n|:--|--:|\n| 1 | 2 |"),
	    "<table>\n<thead>\n<tr><th align=\"left\">a</th><th align=\"right\">b</th></tr>\n"
	    "</thead>\n<tbody>\n<tr><td align=\"left\">1</td><td align=\"right\">2</td></tr>\n"
	    "</tbody>\n</table>\n");
	T_STREQ(md("~~old~~ https://example.jp/a"),
	    "<p><del>old</del> <a href=\"https://example.jp/a\">https://example.jp/a</a></p>\n");
	T_STREQ(md("&copy; &amp; &#12354; &#x3042; &bogus; &#0;"),
	    "<p>\xC2\xA9 &amp; あ あ &amp;bogus; \xEF\xBF\xBD</p>\n");
	T_STREQ(md_plain_of("# T\n\npara *em* [link](/x) ![alt](/i.png)\nnext\n\n- a\n- b\n\n```\ncode\n```"),
	    "T\npara em link  next\na\nb\ncode");
	T_STREQ(md_plain_of("a &amp; b<br>"), "a & b<br>");
	T_STREQ(md(""), "");
}

static void
test_md_html_to_plain(void)
{
	buf *b = rb();
	const char *h = "<p>a &amp; b &lt;c&gt; &quot;d&quot; &#39;e&#39; &#x3042;&#12354;</p>"
	    "<script>var x = '<p>no</p>';</script><STYLE>p{}</STYLE>"
	    "<!-- gone --><p title=\"a>b\">f<br>g</p>&unknown; & x";
	md_html_to_plain(b, h, strlen(h));
	T_STREQ(buf_cstr(b), "a & b <c> \"d\" 'e' ああ\nf\ng\n&unknown; & x");
	b = rb();
	md_html_to_plain(b, "<script>never closed", 20);
	T_STREQ(buf_cstr(b), "");
	b = rb();
	md_html_to_plain(b, "1 < 2 <3", 8);
	T_STREQ(buf_cstr(b), "1 < 2 <3");
}

/* Reads a whole file into b; false when missing. */
static bool
slurp(const char *path, buf *b)
{
	FILE *f = fopen(path, "rb");
	char chunk[4096];
	size_t n;
	if (f == NULL)
		return false;
	buf_reset(b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_put(b, chunk, n);
	fclose(f);
	return true;
}

/* Compares got with the file want_path byte for byte; on a mismatch
 * prints the first differing line of each, diff -u style. */
static void
golden_check(const char *want_path, const buf *got)
{
	buf want;
	buf_init(&want, 0);
	if (getenv("KIJI_GOLDEN_UPDATE")) {
		FILE *f = fopen(want_path, "wb");
		if (f) {
			fwrite(got->ptr ? got->ptr : "", 1, got->len, f);
			fclose(f);
		}
	}
	if (!slurp(want_path, &want)) {
		printf("FAIL %s: cannot read %s\n", t_cur, want_path);
		t_cur_failed = 1;
		buf_free(&want);
		return;
	}
	const char *g = got->ptr ? got->ptr : "", *w = want.ptr ? want.ptr : "";
	if (got->len == want.len && memcmp(g, w, got->len) == 0) {
		buf_free(&want);
		return;
	}
	size_t line = 1, i = 0, ls = 0;
	while (i < got->len && i < want.len && g[i] == w[i]) {
		if (g[i] == '\n') {
			line++;
			ls = i + 1;
		}
		i++;
	}
	int gl = (int)strcspn(g + ls, "\n"), wl = (int)strcspn(w + ls, "\n");
	printf("FAIL %s: %s differs at line %zu\n--- %s\n+++ got\n-%.*s\n+%.*s\n",
	    t_cur, want_path, line, want_path, wl, w + ls, gl, g + ls);
	t_cur_failed = 1;
	buf_free(&want);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* golden/md/NAME.md rendered must equal NAME.html (and NAME.txt). */
static void
test_md_golden(void)
{
	const char *dir = "golden/md";
	DIR *d = opendir(dir);
	char *names[256];
	size_t n = 0;
	struct dirent *de;
	T_CHECK(d != NULL);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && n < 256) {
		size_t len = strlen(de->d_name);
		if (len > 3 && strcmp(de->d_name + len - 3, ".md") == 0)
			names[n++] = strndup(de->d_name, len - 3);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	T_CHECK(n >= 8);
	buf src, html, plain;
	buf_init(&src, 0);
	buf_init(&html, 0);
	buf_init(&plain, 0);
	for (size_t i = 0; i < n; i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s.md", dir, names[i]);
		T_CHECK(slurp(path, &src));
		buf_reset(&html);
		buf_reset(&plain);
		T_CHECK(md_render(&html, &plain, src.ptr ? src.ptr : "", src.len));
		T_CHECK(!has_ci(buf_cstr(&html), "<script"));
		T_CHECK(!bad_url_attr(buf_cstr(&html)));
		snprintf(path, sizeof(path), "%s/%s.html", dir, names[i]);
		golden_check(path, &html);
		snprintf(path, sizeof(path), "%s/%s.txt", dir, names[i]);
		if (access(path, R_OK) == 0)
			golden_check(path, &plain);
		free(names[i]);
	}
	buf_free(&src);
	buf_free(&html);
	buf_free(&plain);
}

/* ---- comments ----------------------------------------------------------- */

static const char *
cf(const char *s)
{
	buf *b = rb();
	comment_format(b, s, strlen(s));
	return buf_cstr(b);
}

#define A_OPEN(u) "<a href=\"" u "\" rel=\"nofollow ugc noopener\">" u "</a>"

static void
test_comment_format(void)
{
	T_STREQ(cf("hello"), "<p>hello</p>\n");
	T_STREQ(cf(""), "");
	T_STREQ(cf("\n \n\t\n"), "");
	T_STREQ(cf("\r\n\r\na\r\nb\r\n\r\n\r\nc\r\n\r\n"),
	    "<p>a<br>\nb</p>\n<p>c</p>\n");
	T_STREQ(cf("a\rb"), "<p>a<br>\nb</p>\n");
	T_STREQ(cf("a\n\xE3\x80\x80\nb"), "<p>a</p>\n<p>b</p>\n");
	T_STREQ(cf("  indented\nline  "), "<p>  indented<br>\nline  </p>\n");
	T_STREQ(cf("<script>alert(1)</script> & \"x\""),
	    "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;</p>\n");
	T_STREQ(cf("見て https://example.jp/です。"),
	    "<p>見て " A_OPEN("https://example.jp/") "です。</p>\n");
	T_STREQ(cf("http://example.jp/a?b=1&c=2."),
	    "<p><a href=\"http://example.jp/a?b=1&amp;c=2\" rel=\"nofollow ugc noopener\">"
	    "http://example.jp/a?b=1&amp;c=2</a>.</p>\n");
	T_STREQ(cf("(https://example.jp/x), [http://a.jp]; 'http://b.jp'!"),
	    "<p>(" A_OPEN("https://example.jp/x") "), [" A_OPEN("http://a.jp")
	    "]; &#39;" A_OPEN("http://b.jp") "&#39;!</p>\n");
	T_STREQ(cf("https://ja.wikipedia.org/wiki/M1_(戦車)"),
	    "<p>" A_OPEN("https://ja.wikipedia.org/wiki/M1_(") "戦車)</p>\n");
	T_STREQ(cf("https://en.wikipedia.org/wiki/M1_(tank)."),
	    "<p>" A_OPEN("https://en.wikipedia.org/wiki/M1_(tank)") ".</p>\n");
	T_STREQ(cf("end: http://x.jp/a.,;:!?)]}'\""),
	    "<p>end: " A_OPEN("http://x.jp/a") ".,;:!?)]}&#39;&quot;</p>\n");
	T_STREQ(cf("HTTPS://EXAMPLE.JP/"), "<p>" A_OPEN("HTTPS://EXAMPLE.JP/") "</p>\n");
	/* URLs are found from their colon: starts glued to a word, a
	 * scheme-looking word before one, colons inside one. */
	T_STREQ(cf("xhttp://a.b/c"), "<p>x" A_OPEN("http://a.b/c") "</p>\n");
	T_STREQ(cf("hhttps://x.y"), "<p>h" A_OPEN("https://x.y") "</p>\n");
	T_STREQ(cf("http:http://x.y"), "<p>http:" A_OPEN("http://x.y") "</p>\n");
	T_STREQ(cf("https:/x https://y.z."),
	    "<p>https:/x " A_OPEN("https://y.z") ".</p>\n");
	T_STREQ(cf("HTTPS://A.B:8080/p:q http://c.d"), "<p>"
	    A_OPEN("HTTPS://A.B:8080/p:q") " " A_OPEN("http://c.d") "</p>\n");
	T_STREQ(cf("a:b:c http://"), "<p>a:b:c http://</p>\n");
	T_STREQ(cf("www.example.jp ftp://x.jp javascript:alert(1) http:// https:///x"),
	    "<p>www.example.jp ftp://x.jp javascript:alert(1) http:// https:///x</p>\n");
	T_STREQ(cf("javascript:http://x.jp"),
	    "<p>javascript:" A_OPEN("http://x.jp") "</p>\n");
	T_STREQ(cf("http://x.jp/\"onmouseover=\"alert(1)"),
	    "<p>" A_OPEN("http://x.jp/") "&quot;onmouseover=&quot;alert(1)</p>\n");
	T_STREQ(cf("http://x.jp/<script>"),
	    "<p>" A_OPEN("http://x.jp/") "&lt;script&gt;</p>\n");
	T_STREQ(cf("a http://x.jp\nb"),
	    "<p>a " A_OPEN("http://x.jp") "<br>\nb</p>\n");
}

/* ---- pathological inputs ------------------------------------------------ */

/* n copies of s, then tail, in a malloc'd string. */
static char *
rep(const char *s, size_t n, const char *tail)
{
	size_t k = strlen(s), t = strlen(tail);
	char *p = malloc(k * n + t + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(p + i * k, s, k);
	memcpy(p + k * n, tail, t + 1);
	return p;
}

static void
test_pathological(void)
{
	struct {
		const char *unit, *tail;
		size_t n;
	} cases[] = {
		{">", " deep", 10000},
		{"[", "x", 100000},
		{"]", "x", 100000},
		{"[a](", "x", 30000},
		{"![", "x", 50000},
		{"*a ", "x", 50000},
		{"_", "x", 100000},
		{"`", "x", 100000},
		{"- ", "x", 5000},
		{"  - ", "x", 3000},
		{"a", "", 1000000},
		{"http://x.jp/", "", 50000},
		{"<", "", 100000},
		{"&#", "", 100000},
		{"| a ", "|\n", 3000},
		{"|-", "|\n", 3000},
		{"\n", "", 200000},
		{"a\n", "", 100000},
		{"(((", "x", 50000},
		{"<!--", "", 50000},
	};
	buf html, plain;
	buf_init(&html, 0);
	buf_init(&plain, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = rep(cases[i].unit, cases[i].n, cases[i].tail);
		size_t len = strlen(s);
		double t0 = now();
		buf_reset(&html);
		buf_reset(&plain);
		T_CHECK(md_render(&html, &plain, s, len));
		T_CHECK(!has_ci(buf_cstr(&html), "<script"));
		double t1 = now();
		buf_reset(&html);
		comment_format(&html, s, len);
		double t2 = now();
		buf_reset(&plain);
		md_html_to_plain(&plain, s, len);
		double t3 = now();
		buf_reset(&html);
		buf err;
		buf_init(&err, 0);
		tmpl_set *set = NULL;
		tmpl_add(&set, "p", s, len, false, &err);
		tmpl_free(set);
		buf_free(&err);
		double t4 = now();
		if (t4 - t0 > 3.0) {
			printf("  slow: %zu x \"%s\": md %.2fs comment %.2fs plain %.2fs tmpl %.2fs\n",
			    cases[i].n, cases[i].unit, t1 - t0, t2 - t1, t3 - t2, t4 - t3);
			T_CHECK(!"pathological input too slow");
		}
		free(s);
	}
	/* comment URLs ending in long runs of closers */
	char *s = rep(")", 200000, "");
	char *u = malloc(strlen(s) + 20);
	strcpy(u, "http://x.jp/");
	strcat(u, s);
	double t0 = now();
	buf_reset(&html);
	comment_format(&html, u, strlen(u));
	T_CHECK(now() - t0 < 1.0);
	const char *want = "<p>" A_OPEN("http://x.jp/") ")))";
	T_CHECK(strncmp(buf_cstr(&html), want, strlen(want)) == 0);
	free(s);
	free(u);
	/* templates: many values, sections and long literals */
	s = rep("<p class=\"{{a}}\">{{#b}}{{c}}{{/b}}</p>\n", 20000, "");
	buf err;
	buf_init(&err, 0);
	tmpl_set *set = NULL;
	t0 = now();
	T_CHECK(tmpl_add(&set, "big", s, strlen(s), false, &err));
	tv *m = tv_dict(A);
	tv_set_str(A, m, "a", "x");
	tv_set_bool(A, m, "b", true);
	buf_reset(&html);
	T_CHECK(tmpl_render(set, "big", m, &html));
	T_CHECK(now() - t0 < 2.0);
	tmpl_free(set);
	free(s);
	buf_free(&err);
	buf_free(&html);
	buf_free(&plain);
}

int
main(void)
{
	A = arena_new(0);
	T_RUN(test_html_text);
	T_RUN(test_html_text_words);
	T_RUN(test_html_attr);
	T_RUN(test_html_url);
	T_RUN(test_html_json_string);
	T_RUN(test_xml_text);
	T_RUN(test_html_raw_trusted);
	T_RUN(test_values);
	T_RUN(test_tmpl_text);
	T_RUN(test_tmpl_raw);
	T_RUN(test_tmpl_attr);
	T_RUN(test_tmpl_url);
	T_RUN(test_tmpl_script);
	T_RUN(test_tmpl_compile_errors);
	T_RUN(test_tmpl_sections);
	T_RUN(test_tmpl_partials);
	T_RUN(test_tmpl_xml);
	T_RUN(test_tmpl_load_dir);
	T_RUN(test_tmpl_page_speed);
	T_RUN(test_md_safety);
	T_RUN(test_md_features);
	T_RUN(test_md_html_to_plain);
	T_RUN(test_md_golden);
	T_RUN(test_comment_format);
	T_RUN(test_pathological);
	for (int i = 0; i < RING; i++)
		buf_free(&ring[i]);
	arena_free(A);
	T_DONE();
}
