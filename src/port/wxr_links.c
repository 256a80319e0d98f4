/*
 * Links inside imported bodies that point at the old WordPress site: which
 * of its URLs a link names (a post by id or permalink, a category, a tag,
 * an uploaded file, an attachment page), and the rewriter that puts kiji
 * URLs in the href and src attributes of the body's tags. Pure functions
 * over the text (the importer's map resolves what they name: wxr_map.c).
 * Every scan is linear and bounded by the body; nothing here trusts it.
 */
#include "port.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../render/render.h"

#define LINK_URL_MAX 4096     /* bytes of an attribute value looked at */
#define LINK_FILES_SUFFIX ".files.wordpress.com"

/* The host of url (scheme "http(s)://" or "//"), lowercased, without a
 * leading "www."; false when there is none or it carries user info or
 * a port. *rest points after it. */
static bool
link_host(const char *url, size_t n, char *host, size_t cap,
    const char **rest)
{
	size_t i;
	if (n >= 7 && strncasecmp(url, "http://", 7) == 0)
		i = 7;
	else if (n >= 8 && strncasecmp(url, "https://", 8) == 0)
		i = 8;
	else if (n >= 2 && url[0] == '/' && url[1] == '/')
		i = 2;
	else
		return false;
	size_t h = i;
	while (i < n && url[i] != '/' && url[i] != '?' && url[i] != '#')
		i++;
	size_t len = i - h;
	if (len >= 4 && strncasecmp(url + h, "www.", 4) == 0) {
		h += 4;
		len -= 4;
	}
	if (len == 0 || len >= cap)
		return false;
	for (size_t k = 0; k < len; k++) {
		char c = url[h + k];
		if (!(isalnum((unsigned char)c) || c == '.' || c == '-'))
			return false; /* '@', ':', anything odd: not ours */
		host[k] = (char)tolower((unsigned char)c);
	}
	host[len] = '\0';
	*rest = url + i;
	return true;
}

void
port_hosts_add(struct port_hosts *h, const char *url, bool files)
{
	char host[sizeof(h->h[0].name)];
	const char *rest;
	if (url == NULL || !link_host(url, strlen(url), host, sizeof(host), &rest))
		return;
	size_t hl = strlen(host), sl = strlen(LINK_FILES_SUFFIX);
	if (files && !(hl > sl && strcmp(host + hl - sl, LINK_FILES_SUFFIX) == 0))
		return; /* only WordPress.com's file hosts hold uploads at / */
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->h[i].name, host) == 0)
			return;
	if (h->n == PORT_HOSTS_MAX)
		return;
	memcpy(h->h[h->n].name, host, hl + 1);
	h->h[h->n++].files = files;
}

/* A decimal WordPress id of 1..18 digits filling s[0..n); 0 if not. */
static int64_t
link_id(const char *s, size_t n)
{
	int64_t v = 0;
	if (n == 0 || n > 18)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* The value of key in a query string q[0..n) ("a=1&b=2"), or NULL. */
static const char *
link_arg(const char *q, size_t n, const char *key, size_t *len)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < n;) {
		size_t e = i;
		while (e < n && q[e] != '&')
			e++;
		if (e - i > kl && strncmp(q + i, key, kl) == 0 && q[i + kl] == '=') {
			*len = e - i - kl - 1;
			return q + i + kl + 1;
		}
		i = e + 1;
	}
	return NULL;
}

/* The last non-empty segment of path ("/a/b/" → "b"), in a. */
static const char *
link_last(arena *a, const char *path)
{
	size_t n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		n--;
	size_t b = n;
	while (b > 0 && path[b - 1] != '/')
		b--;
	return arena_strndup(a, path + b, n - b);
}

void
port_url_parse(arena *a, const struct port_hosts *h, const char *url,
    size_t n, struct port_url *out)
{
	char host[sizeof(h->h[0].name)];
	const char *p = url;
	bool files = false;
	memset(out, 0, sizeof(*out));
	out->frag = "";
	while (n > 0 && isspace((unsigned char)*url)) {
		url++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)url[n - 1]))
		n--;
	if (n == 0 || n > LINK_URL_MAX || memchr(url, '\0', n))
		return;
	if (url[0] == '/' && !(n > 1 && (url[1] == '/' || url[1] == '\\'))) {
		p = url; /* root-relative: the old site's own */
	} else {
		bool ours = false;
		if (!link_host(url, n, host, sizeof(host), &p))
			return;
		for (size_t i = 0; i < h->n && !ours; i++)
			if (strcmp(h->h[i].name, host) == 0) {
				ours = true;
				files = h->h[i].files;
			}
		if (!ours)
			return;
	}
	const char *end = url + n;
	const char *hash = memchr(p, '#', (size_t)(end - p));
	const char *qm = memchr(p, '?', (size_t)((hash ? hash : end) - p));
	const char *pe = qm ? qm : hash ? hash : end;
	if (hash)
		out->frag = arena_strndup(a, hash, (size_t)(end - hash));
	const char *path = port_pct_decode(a, arena_strndup(a, p,
	    (size_t)(pe - p)));
	if (*path == '\0' && pe != p)
		return; /* not UTF-8 once decoded */
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\')
			return;
	if (*path == '\0')
		path = "/";
	if (files) {
		out->kind = PURL_UPLOAD;
		out->path = path + 1;
		return;
	}
	static const char up[] = "/wp-content/uploads/";
	if (strncmp(path, up, sizeof(up) - 1) == 0) {
		out->kind = PURL_UPLOAD;
		out->path = path + sizeof(up) - 1;
		return;
	}
	if (qm && (strcmp(path, "/") == 0 || strcmp(path, "/index.php") == 0)) {
		const char *q = qm + 1, *v;
		size_t qn = (size_t)((hash ? hash : end) - q), vl = 0;
		if (((v = link_arg(q, qn, "p", &vl)) != NULL ||
		    (v = link_arg(q, qn, "page_id", &vl)) != NULL) &&
		    (out->id = link_id(v, vl)) > 0)
			out->kind = PURL_ID;
		else if ((v = link_arg(q, qn, "attachment_id", &vl)) != NULL &&
		    (out->id = link_id(v, vl)) > 0)
			out->kind = PURL_ATTACHMENT;
		return;
	}
	if (strncmp(path, "/archives/", 10) == 0) {
		const char *s = path + 10;
		size_t sl = strcspn(s, "/");
		if ((s[sl] == '\0' || strcmp(s + sl, "/") == 0) &&
		    (out->id = link_id(s, sl)) > 0)
			out->kind = PURL_ID;
		return;
	}
	if (strncmp(path, "/category/", 10) == 0 || strncmp(path, "/tag/", 5) == 0) {
		out->kind = path[1] == 'c' ? PURL_CATEGORY : PURL_TAG;
		out->path = link_last(a, path);
		if (*out->path == '\0' || strcmp(out->path, "feed") == 0 ||
		    (out->kind == PURL_TAG && strchr(path + 5, '/') &&
		    strchr(path + 5, '/')[1] != '\0'))
			out->kind = PURL_NONE;
		return;
	}
	if (strcmp(path, "/") != 0) {
		out->kind = PURL_PATH;
		out->path = path;
	}
}

/* Whether rel is a path we may open under the uploads folder: relative,
 * segments of printable UTF-8 without '\', none empty, "." or "..". */
static bool
link_rel_ok(const char *rel)
{
	size_t n = strlen(rel);
	if (n == 0 || n > 1024 || rel[0] == '/' || !text_utf8_valid(rel, n))
		return false;
	for (const char *s = rel; *s;) {
		size_t k = strcspn(s, "/");
		if (k == 0 || (k == 1 && s[0] == '.') ||
		    (k == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		for (size_t i = 0; i < k; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f ||
			    s[i] == '\\')
				return false;
		s += k;
		if (*s == '/')
			s++;
		if (*s == '\0' && s[-1] == '/')
			return false;
	}
	return true;
}

const char *
port_upload_rel(arena *a, const char *attached_file, const char *url)
{
	const char *rel = NULL;
	if (attached_file && *attached_file) {
		rel = attached_file;
	} else if (url && *url) {
		struct port_hosts h = {0};
		struct port_url u;
		const char *p = strstr(url, "/wp-content/uploads/");
		port_hosts_add(&h, url, true);
		if (p != NULL) {
			rel = port_pct_decode(a, arena_strndup(a, p + 20,
			    strcspn(p + 20, "?#")));
		} else {
			port_url_parse(a, &h, url, strlen(url), &u);
			if (u.kind == PURL_UPLOAD)
				rel = u.path;
		}
	}
	return rel && link_rel_ok(rel) ? rel : NULL;
}

const char *
port_upload_unsized(arena *a, const char *rel)
{
	/* name-300x200.ext: digits 'x' digits between '-' and the last '.' */
	const char *dot = strrchr(rel, '.'), *slash = strrchr(rel, '/');
	if (dot == NULL || (slash && dot < slash))
		return NULL;
	const char *p = dot;
	size_t h = 0, w = 0;
	while (p > rel && isdigit((unsigned char)p[-1]) && h < 6) {
		p--;
		h++;
	}
	if (h == 0 || p == rel || p[-1] != 'x')
		return NULL;
	p--;
	while (p > rel && isdigit((unsigned char)p[-1]) && w < 6) {
		p--;
		w++;
	}
	const char *dash = p - 1;
	if (w == 0 || p == rel || *dash != '-' || dash == rel ||
	    (slash && dash <= slash + 1))
		return NULL; /* no name before the size */
	return arena_printf(a, "%.*s%s", (int)(dash - rel), rel, dot);
}

/* ---- the rewriter ---- */

/* Whether the attribute name s[0..n) holds a URL we rewrite. */
static bool
link_attr_is_url(const char *s, size_t n)
{
	return (n == 4 && strncasecmp(s, "href", 4) == 0) ||
	    (n == 3 && strncasecmp(s, "src", 3) == 0);
}

/* An attribute value with "&amp;", "&#038;" and "&#38;" read as "&" (the
 * forms WordPress writes in links), into v. */
static void
link_unamp(buf *v, const char *s, size_t n)
{
	buf_reset(v);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '&') {
			static const char *const ents[] = {"&amp;", "&#038;", "&#38;"};
			size_t k;
			for (k = 0; k < 3; k++) {
				size_t el = strlen(ents[k]);
				if (n - i >= el && strncmp(s + i, ents[k], el) == 0) {
					buf_putc(v, '&');
					i += el - 1;
					break;
				}
			}
			if (k < 3)
				continue;
		}
		buf_putc(v, s[i]);
	}
	buf_cstr(v);
}

int64_t
port_links_rewrite(buf *out, const char *s, size_t n, port_link_fn fn,
    void *ctx)
{
	size_t i = 0, run = 0;
	int64_t count = 0;
	buf v;
	buf_init(&v, LINK_URL_MAX + 1);
	while (i < n) {
		if (s[i] != '<') {
			const char *lt = memchr(s + i, '<', n - i);
			i = lt ? (size_t)(lt - s) : n;
			continue;
		}
		if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
			const char *e = memmem(s + i + 4, n - i - 4, "-->", 3);
			i = e ? (size_t)(e - s) + 3 : n;
			continue;
		}
		if (i + 1 >= n || !isalpha((unsigned char)s[i + 1])) {
			i++;
			continue;
		}
		i++;
		while (i < n && isalnum((unsigned char)s[i]))
			i++;
		/* the attributes, up to the tag's '>' */
		while (i < n && s[i] != '>') {
			if (isspace((unsigned char)s[i]) || s[i] == '/') {
				i++;
				continue;
			}
			size_t name = i;
			while (i < n && !isspace((unsigned char)s[i]) && s[i] != '=' &&
			    s[i] != '>' && s[i] != '/')
				i++;
			size_t nlen = i - name;
			size_t k = i;
			while (k < n && isspace((unsigned char)s[k]))
				k++;
			if (nlen == 0) {
				i++;
				continue;
			}
			if (k >= n || s[k] != '=')
				continue;
			k++;
			while (k < n && isspace((unsigned char)s[k]))
				k++;
			size_t vb, ve, after;
			if (k < n && (s[k] == '"' || s[k] == '\'')) {
				const char *q = memchr(s + k + 1, s[k], n - k - 1);
				if (q == NULL) {
					i = n; /* an unclosed value: the rest as it is */
					break;
				}
				vb = k + 1;
				ve = (size_t)(q - s);
				after = ve + 1;
			} else {
				vb = k;
				ve = k;
				while (ve < n && !isspace((unsigned char)s[ve]) &&
				    s[ve] != '>')
					ve++;
				after = ve;
			}
			i = after;
			if (!link_attr_is_url(s + name, nlen) || ve - vb > LINK_URL_MAX)
				continue;
			link_unamp(&v, s + vb, ve - vb);
			const char *to = v.err ? NULL : fn(ctx, v.ptr ? v.ptr : "",
			    v.len);
			if (to == NULL)
				continue;
			buf_put(out, s + run, name - run);
			buf_put(out, s + name, nlen);
			buf_puts(out, "=\"");
			html_attr(out, to, strlen(to));
			buf_putc(out, '"');
			run = after;
			count++;
		}
		if (i < n)
			i++;
	}
	buf_put(out, s + run, n - run);
	buf_free(&v);
	return count;
}
