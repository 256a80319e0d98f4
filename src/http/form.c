/*
 * Form and cookie decoding, URL encoding. Everything a handler reads from
 * a query string, a urlencoded body or a Cookie header passes through here
 * and comes out NUL-terminated, NUL-free and valid UTF-8 (or not at all).
 */
#include "http.h"

#include <string.h>

/* A Cookie header carrying more pairs than this is cut: kiji sets a
 * handful, and nothing legitimate needs hundreds. */
#define HTTP_MAX_COOKIES 256

/* Value of hex digit c, or -1. */
static int
http_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes one urlencoded component s[0..n) into the arena ('+' is a space,
 * %XX a byte). NULL on a malformed escape, a raw or decoded NUL, or (when
 * utf8) invalid UTF-8 in the result, so callers never see a half-decoded
 * value.
 */
static char *
http_form_decode(const char *s, size_t n, arena *a, bool utf8,
    size_t *outlen)
{
	char *out = arena_alloc(a, n + 1);
	size_t j = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;
			if (n - i < 3 ||
			    (hi = http_hexval((unsigned char)s[i + 1])) < 0 ||
			    (lo = http_hexval((unsigned char)s[i + 2])) < 0)
				return NULL;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0')
			return NULL;
		out[j++] = (char)c;
	}
	out[j] = '\0';
	if (utf8 && !text_utf8_valid(out, j))
		return NULL;
	*outlen = j;
	return out;
}

/*
 * Splits on '&' (empty pieces skipped; "name" alone means an empty value)
 * and decodes both sides (checked as UTF-8 when utf8). Counts first so an
 * over-long input is refused before anything is decoded. On false *out
 * and *nout are left empty.
 */
static bool
http_urlencoded_split(const char *s, size_t n, arena *a, size_t max,
    bool utf8, struct http_kv **out, size_t *nout)
{
	size_t count = 0, k = 0;

	*out = NULL;
	*nout = 0;
	if (s == NULL || n == 0)
		return true;
	for (size_t i = 0; i < n;) {
		const char *amp = memchr(s + i, '&', n - i);
		size_t end = amp ? (size_t)(amp - s) : n;
		if (end > i && ++count > max)
			return false;
		i = end + 1;
	}
	if (count == 0)
		return true;

	struct http_kv *kv = arena_alloc(a, count * sizeof(*kv));
	for (size_t i = 0; i < n;) {
		const char *amp = memchr(s + i, '&', n - i);
		size_t end = amp ? (size_t)(amp - s) : n;
		if (end > i) {
			const char *eq = memchr(s + i, '=', end - i);
			size_t nlen = eq ? (size_t)(eq - (s + i)) : end - i;
			size_t dummy, vlen = 0;
			char *name = http_form_decode(s + i, nlen, a, utf8,
			    &dummy);
			char *value = eq ? http_form_decode(eq + 1,
			    end - nlen - i - 1, a, utf8, &vlen) :
			    arena_strdup(a, "");
			if (name == NULL || value == NULL)
				return false;
			kv[k].name = name;
			kv[k].value = value;
			kv[k].value_len = vlen;
			k++;
		}
		i = end + 1;
	}
	*out = kv;
	*nout = k;
	return true;
}

bool
http_parse_urlencoded(const char *s, size_t n, arena *a, size_t max,
    struct http_kv **out, size_t *nout)
{
	return http_urlencoded_split(s, n, a, max, true, out, nout);
}

bool
http_parse_urlencoded_bytes(const char *s, size_t n, arena *a, size_t max,
    struct http_kv **out, size_t *nout)
{
	return http_urlencoded_split(s, n, a, max, false, out, nout);
}

/* RFC 7230 tchar: what a cookie or header name may be made of. */
static bool
http_is_tchar(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return true;
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Trims spaces and tabs from both ends of [*b, *e). */
static void
http_trim(const char **b, const char **e)
{
	while (*b < *e && (**b == ' ' || **b == '\t'))
		(*b)++;
	while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

/*
 * "a=1; b=2". Names must be tokens; values are taken as sent (cookies are
 * not percent-decoded), surrounding quotes removed. Pairs without '=', with
 * a bad name, or with control bytes / invalid UTF-8 are skipped, so one
 * stray cookie set by another app on the domain cannot break the site.
 */
void
http_parse_cookies(const char *s, arena *a, struct http_kv **out,
    size_t *nout)
{
	size_t count = 0, k = 0;

	*out = NULL;
	*nout = 0;
	if (s == NULL || *s == '\0')
		return;
	for (const char *p = s; *p; p++)
		if (*p == ';')
			count++;
	count++;
	if (count > HTTP_MAX_COOKIES)
		count = HTTP_MAX_COOKIES;

	struct http_kv *kv = arena_alloc(a, count * sizeof(*kv));
	const char *p = s;
	while (*p && k < count) {
		const char *end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		const char *nb = p, *ne = eq, *vb, *ve = end;
		p = *end ? end + 1 : end;
		if (eq == NULL)
			continue;
		vb = eq + 1;
		http_trim(&nb, &ne);
		http_trim(&vb, &ve);
		if (ve - vb >= 2 && *vb == '"' && ve[-1] == '"') {
			vb++;
			ve--;
		}
		bool ok = ne > nb;
		for (const char *q = nb; ok && q < ne; q++)
			ok = http_is_tchar((unsigned char)*q);
		for (const char *q = vb; ok && q < ve; q++)
			ok = (unsigned char)*q >= 0x20 && *q != 0x7f;
		if (!ok || !text_utf8_valid(vb, (size_t)(ve - vb)))
			continue;
		kv[k].name = arena_strndup(a, nb, (size_t)(ne - nb));
		kv[k].value = arena_strndup(a, vb, (size_t)(ve - vb));
		kv[k].value_len = (size_t)(ve - vb);
		k++;
	}
	*out = kv;
	*nout = k;
}

/*
 * Keeps RFC 3986 unreserved bytes and %-encodes everything else, so the
 * result is safe in a path segment and in a query value alike (a '/' or
 * '&' in a slug cannot change the URL's structure).
 */
void
http_url_encode(buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' &&
		    (c | 0x20) <= 'z') || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			buf_putc(out, (char)c);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			buf_put(out, e, 3);
		}
	}
}

bool
http_parse_event_id(const char *s, int64_t *out)
{
	if (s == NULL || *s == '\0')
		return true;
	int64_t n = 0;
	for (size_t i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 18)
			return false;
		n = n * 10 + (s[i] - '0');
	}
	*out = n;
	return true;
}
