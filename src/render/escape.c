/*
 * Escaping writers: the only road from data to HTML or XML bytes. One
 * function per context (text, attribute, URL, JSON in <script>, XML), in
 * the manner of kcgi's kcgihtml.c and lowdown's html_escape.c.
 */
#include "render.h"

#include <string.h>
#include <strings.h>

/* Replacement for each byte that can end or confuse a text node or a quoted
 * attribute value; NULL for bytes written as they are. */
static const char *const html_ent[256] = {
	['&'] = "&amp;",
	['<'] = "&lt;",
	['>'] = "&gt;",
	['"'] = "&quot;",
	['\''] = "&#39;",
};

/* The schemes html_url keeps, compared case-insensitively. */
enum html_scheme {
	HTML_SCHEME_HTTP,
	HTML_SCHEME_HTTPS,
	HTML_SCHEME_MAILTO,
	HTML_SCHEME__MAX
};

static const char *const html_schemes[HTML_SCHEME__MAX] = {
	[HTML_SCHEME_HTTP] = "http",
	[HTML_SCHEME_HTTPS] = "https",
	[HTML_SCHEME_MAILTO] = "mailto",
};

/* Decodes one UTF-8 sequence at s (n > 0 bytes left) into *cp; returns its
 * length, or 1 with *cp = UINT32_MAX for a malformed byte (overlong,
 * surrogate, past U+10FFFF, truncated) so callers can drop or replace it. */
static size_t
esc_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		c &= 0x1F;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		c &= 0x0F;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		*cp = UINT32_MAX;
		return 1;
	}
	if (len > n) {
		*cp = UINT32_MAX;
		return 1;
	}
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = UINT32_MAX;
			return 1;
		}
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
		*cp = UINT32_MAX;
		return 1;
	}
	*cp = c;
	return len;
}

/* Nonzero when one of the 8 bytes of w equals the byte b (0x01..0x7F):
 * the classic "has zero byte" test on w ^ b-repeated, exact for any w. */
static inline uint64_t
esc_has(uint64_t w, unsigned char b)
{
	uint64_t x = w ^ (0x0101010101010101ULL * b);
	return (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
}

/* Copies runs of harmless bytes in one append and replaces the rest from
 * html_ent: the one escape loop behind html_text and html_attr. Eight
 * bytes at a time are skipped while none of them is one of html_ent's
 * five; the byte loop below decides every byte that is. */
static void
html_escape(buf *out, const char *s, size_t n)
{
	size_t run = 0, i = 0;

	if (n == 0) /* s may be NULL then */
		return;
	while (i < n) {
		if (i + 8 <= n) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (!(esc_has(w, '&') | esc_has(w, '<') | esc_has(w, '>') |
			    esc_has(w, '"') | esc_has(w, '\''))) {
				i += 8;
				continue;
			}
		}
		for (size_t end = n - i > 8 ? i + 8 : n; i < end; i++) {
			const char *e = html_ent[(unsigned char)s[i]];
			if (e == NULL)
				continue;
			buf_put(out, s + run, i - run);
			buf_puts(out, e);
			run = i + 1;
		}
	}
	buf_put(out, s + run, n - run);
}

/* Text node: nothing in s can open a tag or an entity. */
void
html_text(buf *out, const char *s, size_t n)
{
	html_escape(out, s, n);
}

/* Quoted attribute value: both quote kinds are escaped, so the same bytes
 * are safe between "..." and '...'. */
void
html_attr(buf *out, const char *s, size_t n)
{
	html_escape(out, s, n);
}

/* Bytes browsers strip from both ends of a URL (C0 controls and space) and
 * which we also ignore inside the scheme, where browsers drop tab and
 * newline: "java\tscript:" must be judged as "javascript:". */
static bool
html_url_ignored(unsigned char c)
{
	return c <= 0x20 || c == 0x7F;
}

/* Trims what browsers trim; sets [*b, *e). */
static void
html_url_trim(const char *s, size_t n, size_t *b, size_t *e)
{
	size_t i = 0, j = n;

	while (i < j && html_url_ignored((unsigned char)s[i]))
		i++;
	while (j > i && html_url_ignored((unsigned char)s[j - 1]))
		j--;
	*b = i;
	*e = j;
}

/*
 * A URL is safe when nothing before its first '/', '?', '#' (or '\', which
 * browsers read as '/') is a ':' — a path, query, fragment or //host — or
 * when the scheme before that ':' is on html_schemes. Ignored bytes inside
 * the scheme are skipped, so they cannot hide "javascript:".
 */
bool
html_url_safe(const char *s, size_t n)
{
	char scheme[8];
	size_t b, e, len = 0;
	bool toolong = false;

	html_url_trim(s, n, &b, &e);
	for (size_t i = b; i < e; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '/' || c == '?' || c == '#' || c == '\\')
			return true;
		if (c == ':') {
			if (toolong)
				return false;
			for (int k = 0; k < HTML_SCHEME__MAX; k++) {
				const char *ok = html_schemes[k];
				if (strlen(ok) == len &&
				    strncasecmp(ok, scheme, len) == 0)
					return true;
			}
			return false;
		}
		if (html_url_ignored(c))
			continue;
		if (len < sizeof(scheme))
			scheme[len++] = (char)c;
		else
			toolong = true;
	}
	return true;
}

/* Writes the trimmed URL attribute-escaped, or "#" when it is not safe. */
bool
html_url(buf *out, const char *s, size_t n)
{
	size_t b, e;

	if (!html_url_safe(s, n)) {
		buf_putc(out, '#');
		return false;
	}
	html_url_trim(s, n, &b, &e);
	if (e > b)
		html_attr(out, s + b, e - b);
	return true;
}

/* Appends "\uXXXX" for a BMP code point. */
static void
html_json_u(buf *out, uint32_t cp)
{
	static const char hex[] = "0123456789abcdef";
	char u[6] = {'\\', 'u', hex[(cp >> 12) & 15], hex[(cp >> 8) & 15],
		hex[(cp >> 4) & 15], hex[cp & 15]};
	buf_put(out, u, sizeof(u));
}

/*
 * JSON string for a <script> body: besides JSON's own escapes, < > & '
 * and U+2028/9 become \uXXXX so no "</script", "<!--" or line terminator
 * can appear, and malformed UTF-8 becomes \ufffd so the literal is valid.
 */
void
html_json_string(buf *out, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0;

	buf_putc(out, '"');
	if (n == 0) {
		buf_putc(out, '"');
		return;
	}
	while (i < n) {
		unsigned char c = u[i];
		if (c >= 0x80) {
			uint32_t cp;
			size_t len = esc_utf8(u + i, n - i, &cp);
			if (cp != UINT32_MAX && cp != 0x2028 && cp != 0x2029) {
				i += len;
				continue;
			}
			buf_put(out, s + run, i - run);
			html_json_u(out, cp == UINT32_MAX ? 0xFFFD : cp);
			i += len;
			run = i;
			continue;
		}
		if (c >= 0x20 && c != 0x7F && c != '"' && c != '\\' &&
		    c != '<' && c != '>' && c != '&' && c != '\'') {
			i++;
			continue;
		}
		buf_put(out, s + run, i - run);
		switch (c) {
		case '"':
			buf_put(out, "\\\"", 2);
			break;
		case '\\':
			buf_put(out, "\\\\", 2);
			break;
		case '\n':
			buf_put(out, "\\n", 2);
			break;
		case '\r':
			buf_put(out, "\\r", 2);
			break;
		case '\t':
			buf_put(out, "\\t", 2);
			break;
		default:
			html_json_u(out, c);
			break;
		}
		i++;
		run = i;
	}
	buf_put(out, s + run, n - run);
	buf_putc(out, '"');
}

/* XML 1.0's Char production: what may appear in a document at all. */
static bool
xml_char_ok(uint32_t cp)
{
	if (cp < 0x20)
		return cp == 0x09 || cp == 0x0A || cp == 0x0D;
	if (cp <= 0xD7FF)
		return true;
	if (cp >= 0xE000 && cp <= 0xFFFD)
		return true;
	return cp >= 0x10000 && cp <= 0x10FFFF;
}

/* Feed and sitemap text: escaped as html_attr, and characters XML 1.0
 * forbids (C0 controls, U+FFFE/F, malformed UTF-8) dropped, because one
 * such byte makes the whole feed unreadable to a strict parser. */
void
xml_text(buf *out, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0;

	if (n == 0)
		return;
	while (i < n) {
		uint32_t cp;
		size_t len = esc_utf8(u + i, n - i, &cp);
		const char *e = cp < 0x80 ? html_ent[cp] : NULL;
		if (e == NULL && cp != UINT32_MAX && xml_char_ok(cp)) {
			i += len;
			continue;
		}
		buf_put(out, s + run, i - run);
		if (e != NULL)
			buf_puts(out, e);
		i += len;
		run = i;
	}
	buf_put(out, s + run, n - run);
}

/* The one deliberately named raw write: callers vouch for the bytes. */
void
html_raw_trusted(buf *out, const char *s, size_t n)
{
	buf_put(out, s, n);
}
