/*
 * port_wpautop: WordPress stores post bodies without <p>; its themes add
 * them on output (wpautop). kiji stores rendered HTML, so the importer
 * adds them once, before the sanitiser runs.
 */
#include "port.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Tags after which WordPress does not open a paragraph. */
static const char *const autop_blocks[] = {
	"address", "article", "aside", "blockquote", "caption", "dd", "details",
	"div", "dl", "dt", "figcaption", "figure", "footer", "form", "h1", "h2",
	"h3", "h4", "h5", "h6", "header", "hr", "li", "math", "nav", "ol", "p",
	"pre", "section", "style", "summary", "table", "tbody", "td", "tfoot",
	"th", "thead", "tr", "ul", "script", "iframe", "object", "video",
	"audio", "select", "option", "fieldset", "legend", "map", "area",
	"embed", "param", "hgroup", "menu", "noscript", "colgroup", "col",
};

/* True when s (at '<') opens or closes a block-level element, or is a
 * comment (Gutenberg's <!-- wp:… --> block markers). */
static bool
autop_is_block(const char *s, size_t n)
{
	size_t i = 1, k = 0;
	char name[16];
	if (n >= 4 && strncmp(s, "<!--", 4) == 0)
		return true;
	if (i < n && s[i] == '/')
		i++;
	while (i < n && k < sizeof(name) - 1 && isalnum((unsigned char)s[i]))
		name[k++] = (char)tolower((unsigned char)s[i++]);
	name[k] = '\0';
	if (k == 0 || (i < n && isalnum((unsigned char)s[i])))
		return false;
	for (size_t b = 0; b < sizeof(autop_blocks) / sizeof(*autop_blocks); b++)
		if (strcmp(name, autop_blocks[b]) == 0)
			return true;
	return false;
}

/* Counts <pre> opened minus closed in s[0..n), from depth. */
static int
autop_pre_depth(const char *s, size_t n, int depth)
{
	for (size_t i = 0; i + 4 <= n; i++) {
		if (s[i] != '<')
			continue;
		if (strncasecmp(s + i, "<pre", 4) == 0 &&
		    (i + 4 == n || s[i + 4] == '>' || isspace((unsigned char)s[i + 4])))
			depth++;
		else if (i + 5 <= n && strncasecmp(s + i, "</pre", 5) == 0 &&
		    depth > 0)
			depth--;
	}
	return depth;
}

/* One paragraph block (trimmed, not empty): wrapped unless it starts with
 * a block tag; single newlines become <br /> outside tags. */
static void
autop_block(buf *out, const char *s, size_t n, bool in_pre)
{
	if (in_pre || (s[0] == '<' && autop_is_block(s, n))) {
		buf_put(out, s, n);
		buf_puts(out, "\n\n");
		return;
	}
	buf_puts(out, "<p>");
	bool in_tag = false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '<')
			in_tag = true;
		else if (c == '>')
			in_tag = false;
		if (c == '\n' && !in_tag) {
			buf_puts(out, "<br />\n");
			continue;
		}
		buf_putc(out, c);
	}
	buf_puts(out, "</p>\n\n");
}

bool
port_wpautop(buf *out, const char *s, size_t n)
{
	size_t i = 0;
	int pre = 0;
	while (i < n) {
		/* a block runs to the next blank line (\n, spaces, \n) */
		size_t start = i, end = i, next = n;
		while (end < n) {
			if (s[end] == '\n') {
				size_t k = end + 1;
				while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r'))
					k++;
				if (k < n && s[k] == '\n') {
					next = k + 1;
					break;
				}
			}
			end++;
		}
		if (end >= n)
			next = n;
		while (start < end && isspace((unsigned char)s[start]))
			start++;
		size_t stop = end;
		while (stop > start && isspace((unsigned char)s[stop - 1]))
			stop--;
		if (stop > start) {
			autop_block(out, s + start, stop - start, pre > 0);
			pre = autop_pre_depth(s + start, stop - start, pre);
		}
		i = next;
	}
	return !out->err;
}
