/*
 * Reader comments to HTML. A comment is plain text: paragraphs, line
 * breaks and http(s) links are the only markup it can produce, and all of
 * it is written here through escape.c. No Markdown: readers do not expect
 * it and it would widen what hostile input can reach.
 */
#include "render.h"

#include <string.h>
#include <strings.h>

#define COMMENT_REL "nofollow ugc noopener"

/* One line of the comment: [b, e) without its line terminator. */
struct comment_line {
	size_t b, e;
};

/* Nonzero when one of the 8 bytes of w equals b (exact, as in escape.c). */
static inline uint64_t
comment_has(uint64_t w, unsigned char b)
{
	uint64_t x = w ^ (0x0101010101010101ULL * b);
	return (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
}

/* Index of the first '\n' or '\r' in s[i, n), or n: eight bytes a step
 * while a word holds neither. */
static size_t
comment_eol(const char *s, size_t n, size_t i)
{
	for (;;) {
		while (i + 8 <= n) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (comment_has(w, '\n') | comment_has(w, '\r'))
				break;
			i += 8;
		}
		for (size_t end = n - i > 8 ? i + 8 : n; i < end; i++)
			if (s[i] == '\n' || s[i] == '\r')
				return i;
		if (i >= n)
			return n;
	}
}

/* Next line from *pos, treating "\r\n", "\r" and "\n" alike; false at the
 * end (a final terminator starts no extra line). */
static bool
comment_next_line(const char *s, size_t n, size_t *pos, struct comment_line *l)
{
	size_t i = *pos;

	if (i >= n)
		return false;
	l->b = i;
	i = comment_eol(s, n, i);
	l->e = i;
	if (i < n) {
		if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
			i++;
		i++;
	}
	*pos = i;
	return true;
}

/* A line of only spaces, tabs and ideographic spaces (U+3000), which
 * Japanese keyboards type as readily as ASCII ones. */
static bool
comment_blank(const char *s, const struct comment_line *l)
{
	for (size_t i = l->b; i < l->e; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\f' || s[i] == '\v')
			continue;
		if (l->e - i >= 3 && memcmp(s + i, "\xE3\x80\x80", 3) == 0) {
			i += 2;
			continue;
		}
		return false;
	}
	return true;
}

/* Bytes a bare URL may hold: printable ASCII without the delimiters that
 * cannot be in a URL and often end one in prose (<, >, ", `). */
static bool
comment_url_byte(unsigned char c)
{
	return c > 0x20 && c < 0x7F && c != '<' && c != '>' && c != '"' &&
	    c != '`';
}

/*
 * Length of the http(s) URL starting at s[0, n), or 0. It ends at white
 * space, a non-ASCII byte or a delimiter; trailing . , ; : ! ? ' " are cut,
 * and so are ) ] } unless they close an opener inside the URL (Wikipedia's
 * "Foo_(bar)"). A scheme with nothing after "//" is no URL.
 */
static size_t
comment_url_len(const char *s, size_t n)
{
	static const char closers[] = ")]}", openers[] = "([{";
	size_t k, start, open[3] = {0}, close[3] = {0};

	if (n >= 7 && strncasecmp(s, "http://", 7) == 0)
		start = 7;
	else if (n >= 8 && strncasecmp(s, "https://", 8) == 0)
		start = 8;
	else
		return 0;
	for (k = start; k < n && comment_url_byte((unsigned char)s[k]); k++)
		for (int p = 0; p < 3; p++) {
			open[p] += s[k] == openers[p];
			close[p] += s[k] == closers[p];
		}
	while (k > start) {
		char c = s[k - 1];
		const char *cl = strchr(closers, c);
		if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' ||
		    c == '?' || c == '\'' || c == '"') {
			k--;
		} else if (c != '\0' && cl != NULL &&
		    close[cl - closers] > open[cl - closers]) {
			close[cl - closers]--;
			k--;
		} else {
			break;
		}
	}
	if (k == start || s[start] == '/')
		return 0;
	return k;
}

/*
 * Writes one line: text escaped, URLs as nofollow links. A URL is the
 * leftmost start at or after the previous one's end where comment_url_len
 * finds one; since it begins "http://" or "https://", its ':' stands 4 or
 * 5 bytes in. So the colons are visited in order and, at each, the start
 * 5 back and then 4 back are tried: the first hit is the leftmost start
 * (a start further left would have had its own colon earlier).
 */
static void
comment_line_out(buf *out, const char *s, size_t n)
{
	size_t from = 0, run = 0;

	while (from < n) {
		const char *c = memchr(s + from, ':', n - from);
		if (c == NULL)
			break;
		size_t j = (size_t)(c - s), i, len = 0;
		from = j + 1;
		if (j >= run + 5 && (len = comment_url_len(s + j - 5, n - j + 5)) > 0)
			i = j - 5;
		else if (j >= run + 4 &&
		    (len = comment_url_len(s + j - 4, n - j + 4)) > 0)
			i = j - 4;
		else
			continue;
		html_text(out, s + run, i - run);
		buf_puts(out, "<a href=\"");
		html_url(out, s + i, len);
		buf_puts(out, "\" rel=\"" COMMENT_REL "\">");
		html_text(out, s + i, len);
		buf_puts(out, "</a>");
		from = run = i + len;
	}
	html_text(out, s + run, n - run);
}

/* Paragraphs from blank-line-separated blocks, <br> between lines; blank
 * lines at both ends are dropped and runs of them count as one. */
void
comment_format(buf *out, const char *s, size_t n)
{
	struct comment_line l;
	size_t pos = 0;
	bool open = false, blank_seen = false;

	while (comment_next_line(s, n, &pos, &l)) {
		if (comment_blank(s, &l)) {
			blank_seen = open;
			continue;
		}
		if (open && blank_seen) {
			buf_puts(out, "</p>\n");
			open = false;
		}
		buf_puts(out, open ? "<br>\n" : "<p>");
		comment_line_out(out, s + l.b, l.e - l.b);
		open = true;
		blank_seen = false;
	}
	if (open)
		buf_puts(out, "</p>\n");
}
