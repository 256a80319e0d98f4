/*
 * Outgoing pings (send.h): the "pings" and "ping" job handlers. Every
 * fetch goes through net_fetch (address, size, time and per-host limits);
 * what comes back from the other sites is hostile and only ever reaches
 * the pings row as a short, cleaned one-line reason.
 *
 * Order of preference, as the three specifications and WordPress agree:
 * Webmention (W3C), then Pingback 1.0, then TrackBack 1.2 (whose RDF
 * block is the oldest and least reliable form of discovery).
 */
#include "send.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "net.h"

#define SEND_PAYLOAD_MAX 4096   /* bytes of a job payload parsed */
#define SEND_PER_HOST 30        /* fetches per host per minute: an article
                                 * may well link one site many times */
#define SEND_PAGE_MAX ((size_t)1 << 20) /* a target page (discovery reads
                                 * this much) */
#define SEND_ANSWER_MAX ((size_t)64 << 10) /* an endpoint's answer */
#define SEND_REASON_MAX 300     /* bytes of a row's last_error */
#define SEND_QUOTE_MAX 120      /* bytes quoted from another site */
#define SEND_EXCERPT 200        /* characters of a TrackBack excerpt */
#define SEND_TITLE_MAX 200      /* characters of a TrackBack title */
#define SEND_BASE_DEFAULT "http://127.0.0.1:8080" /* site.base_url's */

/* What an attempt came to. */
enum send_result {
	SEND_SENT,    /* accepted */
	SEND_NOTHING, /* no endpoint announced */
	SEND_REFUSED, /* a final answer: 4xx, a fault, a bad URL */
	SEND_LATER,   /* network trouble, 5xx, rate limits: retry */
};

/* The settings an attempt needs, read through the store (net/ sits below
 * the site's settings snapshot). */
struct send_site {
	const char *base;   /* site.base_url without a trailing '/' */
	const char *title;  /* site.title */
	bool allow_loopback;
};

/* ---- small pieces --------------------------------------------------------------- */

/* Setting key as text in a, def when unset or unreadable. */
static const char *
send_setting(store *st, const char *key, const char *def, arena *a)
{
	buf b;
	const char *v = def;
	buf_init(&b, 4096);
	if (store_setting_get(st, key, &b) == STORE_OK && !b.err)
		v = arena_strndup(a, buf_cstr(&b), b.len);
	buf_free(&b);
	return v;
}

static void
send_site_read(store *st, arena *a, struct send_site *out)
{
	const char *base = send_setting(st, "site.base_url", SEND_BASE_DEFAULT, a);
	size_t n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	out->base = n ? arena_strndup(a, base, n) : SEND_BASE_DEFAULT;
	out->title = send_setting(st, "site.title", "kiji", a);
	out->allow_loopback = strcmp(send_setting(st, "net.allow_loopback", "0",
	    a), "1") == 0;
}

/* FNV-1a of s in 16 hex digits: a short name for a target in job keys. */
static void
send_hash(const char *s, char out[17])
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		h ^= *p;
		h *= UINT64_C(1099511628211);
	}
	snprintf(out, 17, "%016" PRIx64, h);
}

/* {"article":ID[,"target":URL]}: the id (0 when malformed) and, when
 * target is not NULL, the URL in a (NULL when absent). */
static int64_t
send_payload(const char *payload, arena *a, const char **target)
{
	size_t n = strnlen(payload, SEND_PAYLOAD_MAX + 1);
	int64_t id = 0;
	if (target != NULL)
		*target = NULL;
	if (n > SEND_PAYLOAD_MAX)
		return 0;
	json_t *root = json_loadb(payload, n, JSON_REJECT_DUPLICATES, NULL);
	json_t *v = json_object_get(root, "article");
	if (json_is_integer(v) && json_integer_value(v) > 0)
		id = (int64_t)json_integer_value(v);
	if (target != NULL) {
		json_t *t = json_object_get(root, "target");
		if (json_is_string(t) && json_string_length(t) > 0)
			*target = arena_strndup(a, json_string_value(t),
			    json_string_length(t));
		else
			id = 0;
	}
	json_decref(root);
	return id;
}

/* Appends at most max bytes of s as one clean line: control characters
 * become spaces, invalid UTF-8 '?', a cut never splits a character. */
static void
send_quote(buf *out, const char *s, size_t max)
{
	size_t n = strlen(s), used = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t k = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 :
		    c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
		if (k == 0 || i + k > n || !text_utf8_valid(s + i, k)) {
			k = 1;
			c = '?';
		}
		if (used + k > max) {
			buf_puts(out, "…");
			return;
		}
		if (k == 1)
			buf_putc(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
		else
			buf_put(out, s + i, k);
		used += k;
		i += k;
	}
}

/* s percent-encoded for a form body (RFC 3986 unreserved kept). */
static void
send_urlenc(buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~') {
			buf_putc(out, (char)*p);
		} else {
			buf_putc(out, '%');
			buf_putc(out, hex[*p >> 4]);
			buf_putc(out, hex[*p & 15]);
		}
	}
}

/* One form field "name=value" (with '&' before all but the first). */
static void
send_field(buf *out, const char *name, const char *value)
{
	if (out->len)
		buf_putc(out, '&');
	buf_puts(out, name);
	buf_putc(out, '=');
	send_urlenc(out, value);
}

/* Text cut to max characters on grapheme clusters, white space squashed. */
static const char *
send_cut(arena *a, const char *s, size_t max)
{
	buf sq, out;
	const char *r;
	buf_init(&sq, 0);
	buf_init(&out, 0);
	text_squash_space(&sq, s, strlen(s));
	text_truncate(&out, buf_cstr(&sq), sq.len, max);
	r = arena_strndup(a, buf_cstr(&out), out.len);
	buf_free(&sq);
	buf_free(&out);
	return r;
}

/* ---- one attempt ------------------------------------------------------------------ */

/* A failed fetch: which errors another try may cure. */
static enum send_result
send_net_fail(enum net_err e, const char *what, buf *err, buf *why)
{
	buf_printf(why, "%s: ", what);
	send_quote(why, err->len ? buf_cstr(err) : "fetch failed", SEND_QUOTE_MAX);
	return e == NET_RATE || e == NET_TIMEOUT || e == NET_FAILED ?
	    SEND_LATER : SEND_REFUSED;
}

/* An HTTP status that is not a success: 5xx, 408 and 429 are worth
 * another try, the rest are answers. The start of the body says why. */
static enum send_result
send_http_fail(const struct net_response *r, const char *what, buf *why)
{
	buf_printf(why, "%s: HTTP %ld", what, r->status);
	if (r->len > 0 && strncmp(r->content_type, "text/plain", 10) == 0) {
		buf_puts(why, ": ");
		send_quote(why, r->body, SEND_QUOTE_MAX);
	}
	return r->status >= 500 || r->status == 408 || r->status == 429 ?
	    SEND_LATER : SEND_REFUSED;
}

static bool
send_2xx(const struct net_response *r)
{
	return r->status >= 200 && r->status < 300;
}

/* W3C Webmention: a form POST of source and target; any 2xx (200, 201
 * and 202 alike) is accepted. */
static enum send_result
send_webmention(const struct net_limits *lim, const char *endpoint,
    const char *source, const char *target, arena *a, buf *why)
{
	struct net_response r;
	buf body, err;
	enum send_result res;
	buf_init(&body, 0);
	buf_init(&err, 1024);
	send_field(&body, "source", source);
	send_field(&body, "target", target);
	enum net_err e = net_fetch(lim, endpoint,
	    "application/x-www-form-urlencoded", buf_cstr(&body), body.len, a,
	    &r, &err);
	if (e != NET_OK)
		res = send_net_fail(e, "webmention endpoint", &err, why);
	else if (!send_2xx(&r))
		res = send_http_fail(&r, "webmention endpoint", why);
	else
		res = SEND_SENT;
	buf_free(&body);
	buf_free(&err);
	return res;
}

/* Pingback 1.0: pingback.ping over XML-RPC. Fault 48 (already
 * registered) means an earlier attempt got through. */
static enum send_result
send_pingback(const struct net_limits *lim, const char *endpoint,
    const char *source, const char *target, arena *a, buf *why)
{
	struct net_response r;
	buf body, err;
	enum send_result res;
	const char *msg = NULL;
	buf_init(&body, 0);
	buf_init(&err, 1024);
	net_xmlrpc_pingback_call(&body, source, target);
	enum net_err e = net_fetch(lim, endpoint, "text/xml", buf_cstr(&body),
	    body.len, a, &r, &err);
	if (e != NET_OK) {
		res = send_net_fail(e, "pingback server", &err, why);
	} else if (!send_2xx(&r)) {
		res = send_http_fail(&r, "pingback server", why);
	} else {
		int code = net_xmlrpc_parse_response(r.body, r.len, a, &msg);
		if (code == 0 || code == NET_PB_ALREADY) {
			res = SEND_SENT;
		} else if (code == NET_XMLRPC_PARSE) {
			buf_puts(why, "pingback server: unreadable answer");
			res = SEND_REFUSED;
		} else {
			buf_printf(why, "pingback fault %d", code);
			if (msg && *msg) {
				buf_puts(why, ": ");
				send_quote(why, msg, SEND_QUOTE_MAX);
			}
			res = SEND_REFUSED;
		}
	}
	buf_free(&body);
	buf_free(&err);
	return res;
}

/* TrackBack 1.2: a form POST of url, title, excerpt and blog_name;
 * <error>0</error> is accepted. */
static enum send_result
send_trackback(const struct net_limits *lim, const char *endpoint,
    const struct send_site *site, const char *source,
    const struct store_article *art, arena *a, buf *why)
{
	struct net_response r;
	buf body, err;
	enum send_result res;
	const char *msg = NULL;
	const char *excerpt = art->excerpt && *art->excerpt ? art->excerpt :
	    art->body_text ? art->body_text : "";
	buf_init(&body, 0);
	buf_init(&err, 1024);
	send_field(&body, "url", source);
	send_field(&body, "title", send_cut(a, art->title, SEND_TITLE_MAX));
	send_field(&body, "excerpt", send_cut(a, excerpt, SEND_EXCERPT));
	send_field(&body, "blog_name", site->title);
	enum net_err e = net_fetch(lim, endpoint,
	    "application/x-www-form-urlencoded; charset=utf-8", buf_cstr(&body),
	    body.len, a, &r, &err);
	if (e != NET_OK) {
		res = send_net_fail(e, "trackback endpoint", &err, why);
	} else if (!send_2xx(&r)) {
		res = send_http_fail(&r, "trackback endpoint", why);
	} else {
		int code = net_trackback_parse_response(r.body, r.len, a, &msg);
		if (code == 0) {
			res = SEND_SENT;
		} else if (code < 0) {
			buf_puts(why, "trackback endpoint: unreadable answer");
			res = SEND_REFUSED;
		} else {
			buf_puts(why, "trackback refused");
			if (msg && *msg) {
				buf_puts(why, ": ");
				send_quote(why, msg, SEND_QUOTE_MAX);
			}
			res = SEND_REFUSED;
		}
	}
	buf_free(&body);
	buf_free(&err);
	return res;
}

/* Fetches p's target, discovers its endpoint (p->kind, p->endpoint) and
 * notifies it that source links to it. why gets the reason of anything
 * but SEND_SENT and SEND_NOTHING. */
static enum send_result
send_attempt(const struct send_site *site, const struct store_article *art,
    const char *source, struct store_ping *p, arena *a, buf *why)
{
	struct net_limits lim = {
		.max_bytes = SEND_PAGE_MAX,
		.per_host_minute = SEND_PER_HOST,
		.allow_loopback = site->allow_loopback,
		.user_agent = arena_printf(a, "kiji (+%s)", site->base),
	};
	struct net_response page;
	struct net_endpoints ep;
	buf err;
	enum net_err e;

	buf_init(&err, 1024);
	e = net_fetch(&lim, p->target, NULL, NULL, 0, a, &page, &err);
	if (e != NET_OK) {
		enum send_result r = send_net_fail(e, "target", &err, why);
		buf_free(&err);
		return r;
	}
	buf_free(&err);
	if (!send_2xx(&page))
		return send_http_fail(&page, "target", why);
	net_discover(&page, a, &ep);

	lim.max_bytes = SEND_ANSWER_MAX;
	if (ep.webmention && *ep.webmention) {
		p->kind = PKIND_WEBMENTION;
		p->endpoint = ep.webmention;
		return send_webmention(&lim, ep.webmention, source, p->target, a,
		    why);
	}
	if (ep.pingback && *ep.pingback) {
		p->kind = PKIND_PINGBACK;
		p->endpoint = ep.pingback;
		return send_pingback(&lim, ep.pingback, source, p->target, a, why);
	}
	if (ep.trackback && *ep.trackback) {
		p->kind = PKIND_TRACKBACK;
		p->endpoint = ep.trackback;
		return send_trackback(&lim, ep.trackback, site, source, art, a,
		    why);
	}
	p->kind = PKIND_NONE;
	p->endpoint = "";
	return SEND_NOTHING;
}

/* ---- the handlers --------------------------------------------------------------------- */

enum jobs_outcome
net_send_pings(store *st, const char *payload, int64_t now, buf *err)
{
	arena *a = arena_new(0);
	struct store_article art;
	struct send_site site;
	const char *links[NET_SEND_LINKS_MAX];
	enum jobs_outcome out = JOBS_OK;
	enum store_err e;
	int64_t id = send_payload(payload, a, NULL);

	if (id == 0) {
		buf_puts(err, "payload is not {\"article\": ID}");
		out = JOBS_FAIL;
		goto done;
	}
	e = store_article_get_any(st, id, a, &art);
	if (e == STORE_NOTFOUND) /* deleted meanwhile: nobody to tell */
		goto done;
	if (e != STORE_OK) {
		buf_printf(err, "article %" PRId64 ": %s", id, store_strerror(e));
		out = JOBS_RETRY;
		goto done;
	}
	if (art.status != STATUS_PUBLISHED) /* taken back before we ran */
		goto done;
	send_site_read(st, a, &site);
	const char *source = arena_printf(a, "%s/articles/%" PRId64, site.base, id);
	size_t n = net_links(art.body_html, strlen(art.body_html), source, a,
	    links, NET_SEND_LINKS_MAX);
	for (size_t i = 0; i < n; i++) {
		struct store_ping p;
		char h[17], key[64];
		e = store_ping_add(st, id, links[i], now, a, &p, NULL);
		if (e == STORE_NOTFOUND)
			goto done;
		if (e != STORE_OK) {
			buf_printf(err, "article %" PRId64 ": %s", id,
			    store_strerror(e));
			out = JOBS_RETRY;
			goto done;
		}
		/* pending rows only: a target told before is not told again;
		 * a pending one whose job exists is not doubled (its key) */
		if (p.status != PSTATUS_PENDING)
			continue;
		json_t *o = json_pack("{s:I,s:s}", "article", (json_int_t)id,
		    "target", links[i]);
		char *pl = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		if (pl == NULL) {
			buf_puts(err, "out of memory");
			out = JOBS_RETRY;
			goto done;
		}
		send_hash(links[i], h);
		snprintf(key, sizeof(key), "ping:%" PRId64 ":%s", id, h);
		e = store_job_add_key(st, "ping", pl, now, key, NULL);
		free(pl);
		if (e != STORE_OK) {
			buf_printf(err, "article %" PRId64 ": %s", id,
			    store_strerror(e));
			out = JOBS_RETRY;
			goto done;
		}
	}
done:
	arena_free(a);
	return out;
}

enum jobs_outcome
net_send_ping(store *st, const char *payload, int64_t now, buf *err)
{
	arena *a = arena_new(0);
	struct store_article art;
	struct store_ping p;
	struct send_site site;
	const char *target;
	enum jobs_outcome out = JOBS_OK;
	enum store_err e;
	buf why;
	int64_t id = send_payload(payload, a, &target);

	buf_init(&why, 4096);
	if (id == 0) {
		buf_puts(err, "payload is not {\"article\": ID, \"target\": URL}");
		out = JOBS_FAIL;
		goto done;
	}
	e = store_ping_get(st, id, target, a, &p);
	if (e == STORE_NOTFOUND) /* its article was deleted */
		goto done;
	if (e == STORE_OK)
		e = store_article_get_any(st, id, a, &art);
	if (e == STORE_NOTFOUND)
		goto done;
	if (e != STORE_OK) {
		buf_printf(err, "article %" PRId64 ": %s", id, store_strerror(e));
		out = JOBS_RETRY;
		goto done;
	}
	if (p.status != PSTATUS_PENDING) /* an earlier run got through */
		goto done;
	p.attempts++;
	p.updated_at = now;
	if (art.status != STATUS_PUBLISHED) {
		p.status = PSTATUS_FAILED;
		p.last_error = "the article is no longer published";
	} else {
		send_site_read(st, a, &site);
		const char *source = arena_printf(a, "%s/articles/%" PRId64,
		    site.base, id);
		switch (send_attempt(&site, &art, source, &p, a, &why)) {
		case SEND_SENT:
			p.status = PSTATUS_SENT;
			p.last_error = "";
			break;
		case SEND_NOTHING:
			p.status = PSTATUS_NONE;
			p.last_error = "";
			break;
		case SEND_REFUSED:
			p.status = PSTATUS_FAILED;
			break;
		case SEND_LATER:
			if (p.attempts >= NET_SEND_TRIES_MAX) {
				p.status = PSTATUS_FAILED;
				buf_printf(&why, " (gave up after %" PRId64
				    " attempts)", p.attempts);
				out = JOBS_FAIL;
			} else {
				out = JOBS_RETRY;
			}
			break;
		}
		if (p.status != PSTATUS_SENT && p.status != PSTATUS_NONE) {
			buf b;
			buf_init(&b, 0);
			send_quote(&b, buf_cstr(&why), SEND_REASON_MAX);
			p.last_error = arena_strndup(a, buf_cstr(&b), b.len);
			buf_free(&b);
		}
	}
	if ((e = store_ping_update(st, &p)) != STORE_OK && e != STORE_NOTFOUND) {
		/* the outcome is lost: run again (at least once) */
		buf_printf(err, "ping %" PRId64 ": %s", p.id, store_strerror(e));
		out = JOBS_RETRY;
		goto done;
	}
	if (out != JOBS_OK) {
		send_quote(err, target, SEND_QUOTE_MAX);
		buf_printf(err, ": %s", p.last_error);
	}
done:
	buf_free(&why);
	arena_free(a);
	return out;
}
