/*
 * The router: a flat table of patterns tried in order. Captures are typed
 * at the edge ({id} is a canonical decimal, {slug} a safe segment,
 * {slugs} the rest of the path as 1..HTTP_SLUGS_MAX such segments), so a
 * handler never sees "/articles/01" or "/articles/1abc" as an article.
 */
#include "http.h"

#include <string.h>

#define HTTP_ID_DIGITS 18
#define HTTP_SLUG_MAX 200
#define HTTP_SLUGS_MAX 8 /* segments of a {slugs} capture */

/* One capture found while matching, kept as a span until the whole
 * pattern has matched so failed attempts allocate nothing. */
struct http_span {
	const char *p;
	size_t n;
	bool is_num;
	int64_t num;
};

/* Canonical decimal: "0" or [1-9][0-9]{0,17}. Fills *v. */
static bool
http_seg_id(const char *s, size_t n, int64_t *v)
{
	if (n == 0 || n > HTTP_ID_DIGITS || (s[0] == '0' && n > 1))
		return false;
	int64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

/* [A-Za-z0-9_-] or non-ASCII UTF-8, 1..200 bytes. The router may see an
 * unvalidated path (tests, fuzzing), so UTF-8 is checked here too. */
static bool
http_seg_slug(const char *s, size_t n)
{
	if (n == 0 || n > HTTP_SLUG_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80 || (c >= '0' && c <= '9') ||
		    ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_' ||
		    c == '-')
			continue;
		return false;
	}
	return text_utf8_valid(s, n);
}

/* The rest of a path as {slugs}: 1..HTTP_SLUGS_MAX slug segments, one
 * '/' between each, none empty, no trailing '/'. */
static bool
http_seg_slugs(const char *s, size_t n)
{
	size_t segs = 0;
	for (size_t i = 0; i <= n; segs++) {
		size_t k = 0;
		while (i + k < n && s[i + k] != '/')
			k++;
		if (segs == HTTP_SLUGS_MAX || !http_seg_slug(s + i, k))
			return false;
		i += k + 1;
	}
	return segs > 0;
}

/*
 * A segment pattern with literal text around {id}, like "sitemap-{id}.xml"
 * or "{id}.gif": true when seg is prefix + canonical decimal + suffix, with
 * the number in *sp.
 */
static bool
http_seg_affixed(const char *pat, size_t pn, const char *seg, size_t sn,
    struct http_span *sp)
{
	const char *id = memmem(pat, pn, "{id}", 4);
	if (id == NULL)
		return false;
	size_t pre = (size_t)(id - pat), suf = pn - pre - 4;
	if (sn <= pre + suf || memcmp(seg, pat, pre) != 0 ||
	    memcmp(seg + sn - suf, id + 4, suf) != 0)
		return false;
	struct http_span s = {seg + pre, sn - pre - suf, true, 0};
	if (!http_seg_id(s.p, s.n, &s.num))
		return false;
	*sp = s;
	return true;
}

/*
 * Matches pattern against path segment by segment. Returns the number of
 * captures written to sp (at most HTTP_MAX_PARAMS), or -1 on no match.
 */
static int
http_match_path(const char *pat, const char *path, struct http_span *sp)
{
	int nsp = 0;

	if (*pat != '/' || *path != '/')
		return -1;
	while (*pat == '/' && *path == '/') {
		pat++;
		path++;
		const char *pe = strchr(pat, '/');
		const char *se = strchr(path, '/');
		size_t pn = pe ? (size_t)(pe - pat) : strlen(pat);
		size_t sn = se ? (size_t)(se - path) : strlen(path);

		if (pn == 3 && memcmp(pat, "{*}", 3) == 0) {
			if (nsp == HTTP_MAX_PARAMS || !text_utf8_valid(path,
			    strlen(path)))
				return -1;
			sp[nsp++] = (struct http_span){ path, strlen(path),
			    false, 0 };
			return nsp;
		}
		if (pn == 7 && memcmp(pat, "{slugs}", 7) == 0) {
			size_t rest = strlen(path);
			if (nsp == HTTP_MAX_PARAMS || !http_seg_slugs(path, rest))
				return -1;
			sp[nsp++] = (struct http_span){ path, rest, false, 0 };
			return pat[pn] == '\0' ? nsp : -1;
		}
		if (pn == 4 && memcmp(pat, "{id}", 4) == 0) {
			if (nsp == HTTP_MAX_PARAMS)
				return -1;
			sp[nsp].p = path;
			sp[nsp].n = sn;
			sp[nsp].is_num = true;
			if (!http_seg_id(path, sn, &sp[nsp].num))
				return -1;
			nsp++;
		} else if (pn == 6 && memcmp(pat, "{slug}", 6) == 0) {
			if (nsp == HTTP_MAX_PARAMS || !http_seg_slug(path, sn))
				return -1;
			sp[nsp++] = (struct http_span){ path, sn, false, 0 };
		} else if (memmem(pat, pn, "{id}", 4) != NULL) {
			if (nsp == HTTP_MAX_PARAMS ||
			    !http_seg_affixed(pat, pn, path, sn, &sp[nsp]))
				return -1;
			nsp++;
		} else if (pn != sn || memcmp(pat, path, pn) != 0) {
			return -1;
		}
		pat += pn;
		path += sn;
	}
	return (*pat == '\0' && *path == '\0') ? nsp : -1;
}

/*
 * First route whose pattern matches path and whose method matches (GET
 * routes also answer HEAD). When only the path matched some route,
 * m->method_mismatch tells the caller to answer 405 rather than 404.
 */
const struct http_route *
http_route(const struct http_route *routes, size_t n, enum http_method method,
    const char *path, arena *a, struct http_match *m)
{
	struct http_span sp[HTTP_MAX_PARAMS];
	bool path_hit = false;

	memset(m, 0, sizeof(*m));
	m->id = -1;
	if (path == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int nsp = http_match_path(routes[i].pattern, path, sp);
		if (nsp < 0)
			continue;
		if (routes[i].method != method && !(routes[i].method ==
		    HTTP_GET && method == HTTP_HEAD)) {
			path_hit = true;
			continue;
		}
		m->id = routes[i].id;
		for (int k = 0; k < nsp; k++) {
			if (sp[k].is_num)
				m->num[m->nnum++] = sp[k].num;
			else
				m->str[m->nstr++] = arena_strndup(a, sp[k].p,
				    sp[k].n);
		}
		return &routes[i];
	}
	m->method_mismatch = path_hit;
	return NULL;
}
