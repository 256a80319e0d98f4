/*
 * Reading other sites' pages: where they take pings (Webmention,
 * Pingback, TrackBack discovery), what an article of ours links to, and
 * whether a ping's source really links to its target. HTML goes through
 * libxml2's forgiving HTML parser (network off, errors quiet) on at most
 * the first 1 MiB, and the tree is walked without recursion, so hostile
 * nesting costs nothing but time. URLs are resolved and compared with
 * libcurl's URL parser (curl_url), the same one net_fetch obeys.
 */
#include "net.h"

#include <curl/curl.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#define ND_BODY_MAX ((size_t)1 << 20) /* bytes of a page we read */
#define ND_URL_MAX 2048               /* a longer href is ignored */
#define ND_RDF_MAX 64                 /* TrackBack RDF blocks looked at */
#define ND_RDF_TAG_MAX 4096           /* bytes of one rdf:Description tag */
#define ND_TITLE_MAX 200              /* characters of a source's title */
#define ND_EXCERPT_MAX 300            /* characters of its excerpt */
#define ND_OPTIONS                                                         \
	(HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |     \
	    HTML_PARSE_RECOVER)

static pthread_once_t nd_once = PTHREAD_ONCE_INIT;

/* ---- URLs --------------------------------------------------------------- */

static bool
nd_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int
nd_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* ref as a browser reads an href: outer white space trimmed, tab and
 * newlines dropped, space, '"', '<', '>' and non-ASCII bytes
 * percent-encoded (curl_url refuses or mangles them). false for other
 * control characters or past ND_URL_MAX. */
static bool
nd_clean_ref(buf *out, const char *ref)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(ref);

	while (n > 0 && nd_space(*ref)) {
		ref++;
		n--;
	}
	while (n > 0 && nd_space(ref[n - 1]))
		n--;
	if (n > ND_URL_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ref[i];
		if (c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c == ' ' || c == '"' || c == '<' || c == '>' || c >= 0x80) {
			buf_putc(out, '%');
			buf_putc(out, hex[c >> 4]);
			buf_putc(out, hex[c & 15]);
		} else {
			buf_putc(out, (char)c);
		}
	}
	return !out->err;
}

/* A curl_url handle for base (http or https only); NULL when unfit. */
static CURLU *
nd_base(const char *base)
{
	CURLU *u;
	char *scheme = NULL;
	bool ok;
	buf b;

	if (base == NULL || (u = curl_url()) == NULL)
		return NULL;
	buf_init(&b, ND_URL_MAX * 3 + 1);
	ok = nd_clean_ref(&b, base) && b.len > 0 &&
	    curl_url_set(u, CURLUPART_URL, b.ptr, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0);
	curl_free(scheme);
	buf_free(&b);
	if (!ok) {
		curl_url_cleanup(u);
		return NULL;
	}
	return u;
}

/* ref resolved against base into a (fragment kept unless nofrag), or
 * NULL unless the result is an http(s) URL of printable ASCII with a
 * host and no user:password. An empty ref or a bare "#frag" is the base itself
 * (RFC 3986 5.2.2; curl_url would drop the last segment). */
static const char *
nd_resolve(arena *a, const char *base, const char *ref, bool nofrag)
{
	CURLU *u;
	buf r;
	char *scheme = NULL, *host = NULL, *user = NULL, *out = NULL;
	const char *res = NULL;

	if (ref == NULL || (u = nd_base(base)) == NULL)
		return NULL;
	buf_init(&r, ND_URL_MAX * 3 + 1);
	if (!nd_clean_ref(&r, ref))
		goto err;
	if (r.len == 0 || r.ptr[0] == '#') {
		if (curl_url_set(u, CURLUPART_FRAGMENT,
		    r.len > 1 ? r.ptr + 1 : NULL, 0) != CURLUE_OK)
			goto err;
	} else if (curl_url_set(u, CURLUPART_URL, r.ptr, 0) != CURLUE_OK) {
		goto err;
	}
	if (nofrag)
		curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    host[0] == '\0' ||
	    curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK ||
	    strlen(out) > ND_URL_MAX)
		goto err;
	/* printable ASCII only (an IDN host would come back raw) */
	for (const char *c = out; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
			goto err;
	res = arena_strdup(a, out);
err:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(out);
	curl_url_cleanup(u);
	buf_free(&r);
	return res;
}

/* Percent-escapes of s (path or query) made canonical: unreserved
 * characters decoded, the rest with upper-case hex. */
static void
nd_norm_part(buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		int hi, lo;
		if (*s != '%' || (hi = nd_hex(s[1])) < 0 ||
		    (lo = nd_hex(s[2])) < 0) {
			buf_putc(out, *s);
			continue;
		}
		char c = (char)(hi << 4 | lo);
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			buf_putc(out, c);
		} else {
			buf_putc(out, '%');
			buf_putc(out, hex[hi]);
			buf_putc(out, hex[lo]);
		}
		s += 2;
	}
}

/* url (absolute, or relative to base when base is not NULL) in the form
 * two URLs are compared in: scheme and host lower case, no default port,
 * path at least "/", canonical escapes, no fragment. NULL when not an
 * http(s) URL. */
static const char *
nd_norm(arena *a, const char *base, const char *url)
{
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL,
	     *query = NULL;
	const char *abs, *res = NULL;
	buf b;

	abs = base != NULL ? nd_resolve(a, base, url, true) :
	    nd_resolve(a, url, "", true);
	if (abs == NULL || (u = curl_url()) == NULL)
		return NULL;
	buf_init(&b, ND_URL_MAX * 3 + 64);
	if (curl_url_set(u, CURLUPART_URL, abs, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		goto err;
	curl_url_get(u, CURLUPART_PORT, &port, CURLU_NO_DEFAULT_PORT);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	buf_puts(&b, scheme);
	buf_puts(&b, "://");
	for (const char *h = host; *h; h++)
		buf_putc(&b, (*h >= 'A' && *h <= 'Z') ? (char)(*h + 32) : *h);
	if (port != NULL)
		buf_printf(&b, ":%s", port);
	if (path[0] != '/')
		buf_putc(&b, '/');
	nd_norm_part(&b, path);
	if (query != NULL) {
		buf_putc(&b, '?');
		nd_norm_part(&b, query);
	}
	if (!b.err)
		res = arena_strndup(a, b.ptr, b.len);
err:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	buf_free(&b);
	return res;
}

/* The lower-case host of an absolute URL, or NULL. */
static const char *
nd_host(arena *a, const char *url)
{
	const char *n = nd_norm(a, NULL, url), *h, *e;

	if (n == NULL || (h = strstr(n, "://")) == NULL)
		return NULL;
	h += 3;
	e = h + strcspn(h, "/?");
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(e - h));
		if (rb != NULL)
			e = rb + 1;
	} else {
		const char *colon = memchr(h, ':', (size_t)(e - h));
		if (colon != NULL)
			e = colon;
	}
	return arena_strndup(a, h, (size_t)(e - h));
}

/* ---- the HTML tree --------------------------------------------------------- */

/* The charset parameter of a Content-Type, into cs; false when none. */
static bool
nd_charset(const char *ctype, char *cs, size_t n)
{
	const char *p;
	size_t k = 0;

	if (ctype == NULL || (p = strcasestr(ctype, "charset=")) == NULL)
		return false;
	p += 8;
	if (*p == '"')
		p++;
	while (k + 1 < n && ((*p >= 'a' && *p <= 'z') ||
	    (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	    *p == '-' || *p == '_' || *p == '.' || *p == ':'))
		cs[k++] = *p++;
	cs[k] = '\0';
	return k > 0;
}

/* Parses the first ND_BODY_MAX bytes of body as HTML (in the charset
 * ctype names, else what the page declares); NULL when nothing came. */
static htmlDocPtr
nd_parse(const char *body, size_t len, const char *ctype)
{
	char cs[64];
	htmlDocPtr doc = NULL;

	if (body == NULL || len == 0)
		return NULL;
	if (len > ND_BODY_MAX)
		len = ND_BODY_MAX;
	pthread_once(&nd_once, xmlInitParser);
	if (nd_charset(ctype, cs, sizeof(cs)))
		doc = htmlReadMemory(body, (int)len, NULL, cs, ND_OPTIONS);
	if (doc == NULL)
		doc = htmlReadMemory(body, (int)len, NULL, NULL, ND_OPTIONS);
	return doc;
}

/* The node after n in document order, below top; into false skips n's
 * children. No recursion, so no depth limit to worry about. */
static xmlNodePtr
nd_next(xmlNodePtr n, xmlNodePtr top, bool into)
{
	if (into && n->children != NULL)
		return n->children;
	while (n != NULL && n != top) {
		if (n->next != NULL)
			return n->next;
		n = n->parent;
	}
	return NULL;
}

static bool
nd_is(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	    strcasecmp((const char *)n->name, name) == 0;
}

/* The value of n's attribute name, pointing into the tree (the HTML
 * parser decodes entities into one text node); NULL when absent. */
static const char *
nd_attr(xmlNodePtr n, const char *name)
{
	for (xmlAttrPtr at = n->properties; at != NULL; at = at->next) {
		if (strcasecmp((const char *)at->name, name) != 0)
			continue;
		for (xmlNodePtr c = at->children; c != NULL; c = c->next)
			if (c->type == XML_TEXT_NODE && c->content != NULL)
				return (const char *)c->content;
		return "";
	}
	return NULL;
}

/* Whether space-separated list holds word (ASCII case-insensitive). */
static bool
nd_has_token(const char *list, size_t n, const char *word)
{
	size_t wl = strlen(word), i = 0;

	while (i < n) {
		while (i < n && nd_space(list[i]))
			i++;
		size_t b = i;
		while (i < n && !nd_space(list[i]))
			i++;
		if (i - b == wl && strncasecmp(list + b, word, wl) == 0)
			return true;
	}
	return false;
}

/* The base URL of doc: its first <base href> resolved against url, else
 * url itself. */
static const char *
nd_doc_base(htmlDocPtr doc, const char *url, arena *a)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);

	for (xmlNodePtr n = root; n != NULL; n = nd_next(n, root, true)) {
		const char *href;
		if (nd_is(n, "base") && (href = nd_attr(n, "href")) != NULL) {
			const char *b = nd_resolve(a, url, href, true);
			return b != NULL ? b : url;
		}
	}
	return url;
}

/* ---- Link headers (RFC 8288) ------------------------------------------------ */

/* The first URI-reference in Link header value h whose rel parameter
 * holds rel; NULL when none. Malformed links are skipped up to the next
 * comma outside quotes and angle brackets. */
static const char *
nd_link_header(arena *a, const char *h, const char *rel)
{
	const char *p = h;

	while (*p) {
		const char *ub, *ue, *found = NULL;
		bool seen_rel = false;
		while (*p == ',' || nd_space(*p))
			p++;
		if (*p != '<')
			goto skip;
		ub = ++p;
		if ((ue = strchr(p, '>')) == NULL)
			return NULL;
		p = ue + 1;
		for (;;) {
			while (nd_space(*p))
				p++;
			if (*p != ';')
				break;
			p++;
			while (nd_space(*p))
				p++;
			const char *nb = p;
			while (*p && *p != '=' && *p != ';' && *p != ',' &&
			    !nd_space(*p))
				p++;
			size_t nl = (size_t)(p - nb);
			while (nd_space(*p))
				p++;
			buf v;
			buf_init(&v, 4096);
			if (*p == '=') {
				p++;
				while (nd_space(*p))
					p++;
				if (*p == '"') {
					for (p++; *p && *p != '"'; p++) {
						if (*p == '\\' && p[1])
							p++;
						buf_putc(&v, *p);
					}
					if (*p == '"')
						p++;
				} else {
					while (*p && *p != ';' && *p != ',' &&
					    !nd_space(*p))
						buf_putc(&v, *p++);
				}
			}
			/* only the first rel counts (RFC 8288 3.3) */
			if (nl == 3 && strncasecmp(nb, "rel", 3) == 0 &&
			    !seen_rel) {
				seen_rel = true;
				if (!v.err && v.len > 0 &&
				    nd_has_token(v.ptr, v.len, rel))
					found = ub;
			}
			buf_free(&v);
		}
		if (found != NULL)
			return arena_strndup(a, ub, (size_t)(ue - ub));
	skip:
		/* on to the next link: past a comma outside quotes/<> */
		while (*p && *p != ',') {
			if (*p == '"') {
				for (p++; *p && *p != '"'; p++)
					if (*p == '\\' && p[1])
						p++;
				if (*p)
					p++;
			} else if (*p == '<') {
				const char *e = strchr(p, '>');
				p = e ? e + 1 : p + strlen(p);
			} else {
				p++;
			}
		}
	}
	return NULL;
}

/* ---- TrackBack RDF ----------------------------------------------------------- */

/* An attribute value of an XML tag, entities decoded (the five named
 * ones and numeric references); NULL when it holds anything odd. */
static const char *
nd_xml_value(arena *a, const char *s, size_t n)
{
	buf b;
	const char *r = NULL;

	buf_init(&b, n + 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '&') {
			buf_putc(&b, s[i]);
			continue;
		}
		const char *semi = memchr(s + i, ';', n - i);
		if (semi == NULL || semi - (s + i) > 10)
			goto err;
		size_t el = (size_t)(semi - (s + i)) + 1;
		static const struct {
			const char *e;
			char c;
		} ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'},
			{"&quot;", '"'}, {"&apos;", '\''}};
		bool done = false;
		for (size_t e = 0; e < 5 && !done; e++)
			if (strlen(ents[e].e) == el &&
			    memcmp(s + i, ents[e].e, el) == 0) {
				buf_putc(&b, ents[e].c);
				done = true;
			}
		if (!done && el >= 4 && s[i + 1] == '#') {
			unsigned long cp = 0;
			bool x = s[i + 2] == 'x' || s[i + 2] == 'X';
			for (size_t k = i + 2 + x; k < i + el - 1; k++) {
				int d = x ? nd_hex(s[k]) :
				    (s[k] >= '0' && s[k] <= '9') ? s[k] - '0' : -1;
				if (d < 0)
					goto err;
				cp = cp * (x ? 16 : 10) + (unsigned long)d;
			}
			/* URLs: only ASCII printable references make sense */
			if (cp < 0x21 || cp > 0x7e)
				goto err;
			buf_putc(&b, (char)cp);
			done = true;
		}
		if (!done)
			goto err;
		i += el - 1;
	}
	if (!b.err)
		r = arena_strndup(a, b.len ? b.ptr : "", b.len);
err:
	buf_free(&b);
	return r;
}

/* The trackback:ping of the RDF block about url (compared normalised),
 * else of the first block that has one; NULL when none. The RDF is
 * usually inside an HTML comment, so the raw bytes are scanned, not the
 * tree: at most ND_RDF_MAX rdf:Description tags. */
static const char *
nd_trackback(arena *a, const char *body, size_t len, const char *url)
{
	static const char tag[] = "<rdf:Description";
	const char *first = NULL, *want = nd_norm(a, NULL, url);
	const char *p = body, *end = body + len;

	for (int blocks = 0; blocks < ND_RDF_MAX; blocks++) {
		const char *ident = NULL, *ping = NULL;
		p = memmem(p, (size_t)(end - p), tag, sizeof(tag) - 1);
		if (p == NULL)
			break;
		p += sizeof(tag) - 1;
		const char *te = p;
		while (te < end && *te != '>' && te - p < ND_RDF_TAG_MAX)
			te++;
		while (p < te) {
			while (p < te && nd_space(*p))
				p++;
			const char *nb = p;
			while (p < te && *p != '=' && !nd_space(*p) &&
			    *p != '/' && *p != '>')
				p++;
			size_t nl = (size_t)(p - nb);
			while (p < te && nd_space(*p))
				p++;
			if (nl == 0 || p >= te || *p != '=') {
				p++;
				continue;
			}
			p++;
			while (p < te && nd_space(*p))
				p++;
			if (p >= te || (*p != '"' && *p != '\''))
				break;
			char q = *p++;
			const char *vb = p;
			while (p < te && *p != q)
				p++;
			if (p >= te)
				break;
			const char *v = nd_xml_value(a, vb, (size_t)(p - vb));
			p++;
			if (v == NULL)
				continue;
			if (nl == 13 && strncasecmp(nb, "dc:identifier", 13) == 0)
				ident = v;
			else if (nl == 14 &&
			    strncasecmp(nb, "trackback:ping", 14) == 0)
				ping = v;
		}
		p = te;
		if (ping == NULL || *ping == '\0')
			continue;
		if (first == NULL)
			first = ping;
		if (want != NULL && ident != NULL) {
			const char *in = nd_norm(a, NULL, ident);
			if (in != NULL && strcmp(in, want) == 0)
				return ping;
		}
	}
	return first;
}

/* ---- discovery ---------------------------------------------------------------- */

void
net_discover(const struct net_response *page, arena *a,
    struct net_endpoints *out)
{
	const char *url = page->url, *base, *h;
	size_t len = page->body ? page->len : 0;
	htmlDocPtr doc;

	out->webmention = out->pingback = out->trackback = "";
	if (len > ND_BODY_MAX)
		len = ND_BODY_MAX;
	if (page->link != NULL &&
	    (h = nd_link_header(a, page->link, "webmention")) != NULL &&
	    (h = nd_resolve(a, url, h, false)) != NULL)
		out->webmention = h;
	if (page->x_pingback != NULL && *page->x_pingback &&
	    (h = nd_resolve(a, url, page->x_pingback, false)) != NULL)
		out->pingback = h;
	if (len > 0 && (h = nd_trackback(a, page->body, len, url)) != NULL &&
	    (h = nd_resolve(a, url, h, false)) != NULL)
		out->trackback = h;
	if (*out->webmention && *out->pingback)
		return;
	if ((doc = nd_parse(page->body, len, page->content_type)) == NULL)
		return;
	base = nd_doc_base(doc, url, a);
	xmlNodePtr root = xmlDocGetRootElement(doc);
	for (xmlNodePtr n = root; n != NULL; n = nd_next(n, root, true)) {
		const char *rel, *href;
		bool link = nd_is(n, "link");
		if ((!link && !nd_is(n, "a")) ||
		    (rel = nd_attr(n, "rel")) == NULL ||
		    (href = nd_attr(n, "href")) == NULL)
			continue;
		if (!*out->webmention &&
		    nd_has_token(rel, strlen(rel), "webmention") &&
		    (h = nd_resolve(a, base, href, false)) != NULL)
			out->webmention = h;
		if (!*out->pingback && link &&
		    nd_has_token(rel, strlen(rel), "pingback") &&
		    (h = nd_resolve(a, base, href, false)) != NULL)
			out->pingback = h;
		if (*out->webmention && *out->pingback)
			break;
	}
	xmlFreeDoc(doc);
}

size_t
net_links(const char *html, size_t len, const char *base, arena *a,
    const char **out, size_t max)
{
	const char **seen, *own, *b;
	size_t k = 0;
	htmlDocPtr doc;

	arena *tmp;

	if (max == 0 || (own = nd_host(a, base)) == NULL ||
	    (doc = nd_parse(html, len, NULL)) == NULL)
		return 0;
	seen = arena_alloc(a, max * sizeof(*seen));
	b = nd_doc_base(doc, base, a);
	/* every link's work in a scratch arena, emptied as we go: a page
	 * of many links costs no more memory than one */
	tmp = arena_new(0);
	xmlNodePtr root = xmlDocGetRootElement(doc);
	for (xmlNodePtr n = root; n != NULL && k < max;
	    n = nd_next(n, root, true)) {
		const char *href, *abs, *norm, *host;
		bool dup = false;
		arena_reset(tmp);
		if (!nd_is(n, "a") || (href = nd_attr(n, "href")) == NULL ||
		    (abs = nd_resolve(tmp, b, href, true)) == NULL ||
		    (norm = nd_norm(tmp, NULL, abs)) == NULL ||
		    (host = nd_host(tmp, abs)) == NULL ||
		    strcmp(host, own) == 0)
			continue;
		for (size_t i = 0; i < k && !dup; i++)
			dup = strcmp(seen[i], norm) == 0;
		if (dup)
			continue;
		seen[k] = arena_strdup(a, norm);
		out[k++] = arena_strdup(a, abs);
	}
	arena_free(tmp);
	xmlFreeDoc(doc);
	return k;
}

/* The URL attribute of a linking element n, or NULL. */
static const char *
nd_link_attr(xmlNodePtr n)
{
	if (nd_is(n, "a") || nd_is(n, "link"))
		return nd_attr(n, "href");
	if (nd_is(n, "img") || nd_is(n, "video") || nd_is(n, "audio"))
		return nd_attr(n, "src");
	return NULL;
}

/* The first element of doc that links to target (normalised), or NULL.
 * Works in arenas of its own (one emptied per link). */
static xmlNodePtr
nd_find_link(htmlDocPtr doc, const char *base, const char *target)
{
	arena *a = arena_new(0), *tmp = arena_new(0);
	const char *want = nd_norm(a, NULL, target), *b, *u, *got;
	xmlNodePtr root = xmlDocGetRootElement(doc), n = NULL;

	if (want != NULL) {
		b = nd_doc_base(doc, base, a);
		for (n = root; n != NULL; n = nd_next(n, root, true)) {
			arena_reset(tmp);
			if ((u = nd_link_attr(n)) != NULL &&
			    (got = nd_norm(tmp, b, u)) != NULL &&
			    strcmp(got, want) == 0)
				break;
		}
	}
	arena_free(tmp);
	arena_free(a);
	return n;
}

bool
net_links_to(const char *body, size_t len, const char *content_type,
    const char *base, const char *target)
{
	const char *ct = content_type ? content_type : "";
	htmlDocPtr doc;
	bool found;

	if (body == NULL || target == NULL || *target == '\0')
		return false;
	if (len > ND_BODY_MAX)
		len = ND_BODY_MAX;
	while (*ct == ' ')
		ct++;
	if (strncasecmp(ct, "text/plain", 10) == 0)
		return memmem(body, len, target, strlen(target)) != NULL;
	/* HTML, XHTML, or no type given (then sniffed as HTML); anything
	 * else (images, JSON, feeds) is not read */
	if (*ct != '\0' && *ct != ';' && strncasecmp(ct, "text/html", 9) != 0 &&
	    strncasecmp(ct, "application/xhtml+xml", 21) != 0)
		return false;
	if ((doc = nd_parse(body, len, ct)) == NULL)
		return false;
	found = nd_find_link(doc, base, target) != NULL;
	xmlFreeDoc(doc);
	return found;
}

/* ---- summary ---------------------------------------------------------------------- */

/* Text of the subtree under top (script and style left out) into b;
 * the part inside mark, if met, goes into in, what follows into after. */
static void
nd_text(xmlNodePtr top, xmlNodePtr mark, buf *before, buf *in, buf *after)
{
	buf *cur = before;
	xmlNodePtr n = top->children;

	while (n != NULL) {
		bool into = true;
		if (n == mark)
			cur = in;
		if (n->type == XML_TEXT_NODE && n->content != NULL)
			buf_puts(cur, (const char *)n->content);
		else if (nd_is(n, "script") || nd_is(n, "style") ||
		    nd_is(n, "template"))
			into = false;
		else if (nd_is(n, "br") || nd_is(n, "p") || nd_is(n, "li"))
			buf_putc(cur, ' ');
		/* leaving mark's subtree: what follows is "after" */
		xmlNodePtr next = nd_next(n, top, into);
		if (cur == in) {
			bool inside = false;
			for (xmlNodePtr p = next; p != NULL && p != top;
			    p = p->parent)
				if (p == mark) {
					inside = true;
					break;
				}
			if (!inside)
				cur = after;
		}
		n = next;
	}
}

/* The last at most max characters of valid UTF-8 s, after a "…" when
 * cut. */
static void
nd_tail(buf *out, const char *s, size_t n, size_t max)
{
	size_t i = n, chars = 0;

	if (s == NULL || n == 0)
		return;
	while (i > 0 && chars < max) {
		i--;
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			chars++;
	}
	if (i > 0)
		buf_puts(out, "\xE2\x80\xA6");
	buf_put(out, s + i, n - i);
}

static bool
nd_block(xmlNodePtr n)
{
	static const char *const blocks[] = {"p", "li", "blockquote", "dd",
		"dt", "td", "th", "figcaption", "h1", "h2", "h3", "h4", "h5",
		"h6", "pre", "article", "section", "div", "body", NULL};

	for (const char *const *b = blocks; *b; b++)
		if (nd_is(n, *b))
			return true;
	return false;
}

/* s squashed (white space runs as one space, trimmed), into a; "" when
 * not valid UTF-8. */
static void
nd_squash(buf *out, buf *s)
{
	if (s->err || s->len == 0 || !text_utf8_valid(s->ptr, s->len))
		return;
	text_squash_space(out, s->ptr, s->len);
}

void
net_source_summary(const char *body, size_t len, const char *base,
    const char *target, arena *a, const char **title, const char **excerpt)
{
	htmlDocPtr doc;
	xmlNodePtr root, link, blk;
	buf t, sq, b0, b1, b2, s0, s1, s2;

	*title = *excerpt = "";
	if ((doc = nd_parse(body, len, NULL)) == NULL)
		return;
	root = xmlDocGetRootElement(doc);
	buf_init(&t, 64 * 1024);
	buf_init(&sq, 64 * 1024);
	for (xmlNodePtr n = root; n != NULL; n = nd_next(n, root, true))
		if (nd_is(n, "title")) {
			nd_text(n, NULL, &t, NULL, NULL);
			break;
		}
	nd_squash(&sq, &t);
	buf_reset(&t);
	if (sq.len > 0 && !sq.err) {
		/* "…" comes on top of the count */
		text_truncate(&t, sq.ptr, sq.len, ND_TITLE_MAX - 1);
		if (!t.err && t.len > 0)
			*title = arena_strndup(a, t.ptr, t.len);
	}
	buf_free(&t);
	buf_free(&sq);

	if ((link = nd_find_link(doc, base, target)) == NULL)
		goto done;
	for (blk = link->parent; blk != NULL && blk->type == XML_ELEMENT_NODE &&
	    !nd_block(blk); blk = blk->parent)
		;
	if (blk == NULL || blk->type != XML_ELEMENT_NODE)
		goto done;
	buf_init(&b0, ND_BODY_MAX);
	buf_init(&b1, ND_BODY_MAX);
	buf_init(&b2, ND_BODY_MAX);
	buf_init(&s0, ND_BODY_MAX);
	buf_init(&s1, ND_BODY_MAX);
	buf_init(&s2, ND_BODY_MAX);
	nd_text(blk, link, &b0, &b1, &b2);
	nd_squash(&s0, &b0);
	nd_squash(&s1, &b1);
	nd_squash(&s2, &b2);
	{
		/* the link's own text kept whole when it fits, the rest
		 * shared before and after it */
		buf e;
		size_t lc = text_graphemes(s1.ptr ? s1.ptr : "", s1.len);
		/* minus two "…" and two spaces that may join the parts */
		size_t room = lc + 4 < ND_EXCERPT_MAX ?
		    ND_EXCERPT_MAX - lc - 4 : 0;
		size_t c0 = text_graphemes(s0.ptr ? s0.ptr : "", s0.len);
		size_t c2 = text_graphemes(s2.ptr ? s2.ptr : "", s2.len);
		size_t want0 = room / 2, want2 = room - room / 2;
		if (c0 < want0)
			want2 += want0 - c0;
		else if (c2 < want2)
			want0 += want2 - c2;
		buf_init(&e, 8 * ND_EXCERPT_MAX);
		if (s0.len > 0) {
			nd_tail(&e, s0.ptr, s0.len, want0);
			if (b0.len > 0 && nd_space(b0.ptr[b0.len - 1]))
				buf_putc(&e, ' ');
		}
		if (s1.len > 0)
			text_truncate(&e, s1.ptr, s1.len, ND_EXCERPT_MAX);
		if (s2.len > 0 && want2 > 0) {
			if (nd_space(b2.ptr[0]))
				buf_putc(&e, ' ');
			text_truncate(&e, s2.ptr, s2.len, want2);
		}
		/* the parts' marks ("…", spaces) can take it past the
		 * bound when the link's text fills it: cut the whole */
		if (!e.err && e.len > 0 &&
		    text_graphemes(e.ptr, e.len) > ND_EXCERPT_MAX) {
			buf_reset(&s0);
			/* "…" comes on top of the count */
			text_truncate(&s0, e.ptr, e.len, ND_EXCERPT_MAX - 1);
			buf_reset(&e);
			buf_put(&e, s0.ptr ? s0.ptr : "", s0.len);
		}
		if (!e.err && e.len > 0 && text_utf8_valid(e.ptr, e.len))
			*excerpt = arena_strndup(a, e.ptr, e.len);
		buf_free(&e);
	}
	buf_free(&b0);
	buf_free(&b1);
	buf_free(&b2);
	buf_free(&s0);
	buf_free(&s1);
	buf_free(&s2);
done:
	xmlFreeDoc(doc);
}
