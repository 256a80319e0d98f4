/*
 * The server wrapper over libmicrohttpd (epoll, internal thread pool).
 * Every request is read, bounded and validated here before a handler sees
 * it: method, path, query, cookies and form fields are checked for size and
 * UTF-8, and bad input is answered with a short Japanese page instead.
 */
#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

/* Defaults for config fields left 0. */
#define HTTP_DEF_TIMEOUT 30
#define HTTP_DEF_MAX_BODY ((size_t)1 << 20)
#define HTTP_DEF_MAX_FIELDS 256
#define HTTP_DEF_MAX_FIELD_LEN ((size_t)64 << 10)
/* MHD's per-connection pool holds the request head and the read buffer:
 * 64 KiB admits long cookie/referer headers and reads bodies in big
 * chunks, while 1000 connections still cost only 64 MiB. */
#define HTTP_CONN_MEMORY ((size_t)64 << 10)
/* Key buffer for MHD's post processor (bounds one form field's name). */
#define HTTP_PP_BUFFER 16384
#define HTTP_MAX_PROXIES 32
#define HTTP_IP_BUCKETS 1024
#define HTTP_ARENA_CHUNK 16384

/* Why a request was refused before its handler ran. */
enum http_fail {
	HTTP_FAIL_NONE,
	HTTP_FAIL_BAD_REQUEST,  /* malformed path, query or body */
	HTTP_FAIL_ENCODING,     /* invalid UTF-8 or NUL in input */
	HTTP_FAIL_TOO_MANY,     /* more than max_fields fields */
	HTTP_FAIL_METHOD,       /* not GET, HEAD or POST */
	HTTP_FAIL_TOO_LARGE,    /* body over max_body */
	HTTP_FAIL_FIELD_LARGE,  /* one field over max_field_len */
	HTTP_FAIL_NOT_FOUND,    /* file_path could not be opened */
	HTTP_FAIL_INTERNAL,     /* handler produced an unusable response */
	HTTP_FAIL__MAX
};

#define HTTP_PAGE(code, msg)                                               \
	"<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">" \
	"<meta name=\"viewport\" content=\"width=device-width\">"          \
	"<title>" code " " msg "</title></head><body><h1>" msg "</h1>"     \
	"<p><a href=\"/\">トップページへ戻る</a></p></body></html>\n"

/* Status and page per refusal; constant, so sent without copying. */
static const struct {
	unsigned status;
	const char *page;
} http_fails[HTTP_FAIL__MAX] = {
	[HTTP_FAIL_NONE] = { 500, HTTP_PAGE("500", "サーバーエラーです") },
	[HTTP_FAIL_BAD_REQUEST] = { 400, HTTP_PAGE("400", "不正なリクエストです") },
	[HTTP_FAIL_ENCODING] = { 400, HTTP_PAGE("400", "不正な文字コードです") },
	[HTTP_FAIL_TOO_MANY] = { 400, HTTP_PAGE("400", "入力項目が多すぎます") },
	[HTTP_FAIL_METHOD] = { 405, HTTP_PAGE("405", "許可されていないメソッドです") },
	[HTTP_FAIL_TOO_LARGE] = { 413, HTTP_PAGE("413", "送信データが大きすぎます") },
	[HTTP_FAIL_FIELD_LARGE] = { 413, HTTP_PAGE("413", "入力が長すぎます") },
	[HTTP_FAIL_NOT_FOUND] = { 404, HTTP_PAGE("404", "ページが見つかりません") },
	[HTTP_FAIL_INTERNAL] = { 500, HTTP_PAGE("500", "サーバーエラーです") },
};

/* Addresses are compared as 16 bytes, IPv4 as v4-mapped IPv6. */
struct http_ip {
	uint8_t b[16];
};

/* Open connections from one address (per-IP limit). */
struct http_ipcount {
	struct http_ipcount *next;
	struct http_ip ip;
	unsigned n;
};

struct http_server {
	struct MHD_Daemon *d;
	http_handler h;
	void *ctx;
	unsigned port;
	unsigned per_ip_limit;
	size_t max_body, max_fields, max_field_len;
	struct http_ip proxies[HTTP_MAX_PROXIES];
	size_t nproxies;
	uint64_t seed;
	pthread_mutex_t ip_mu;
	struct http_ipcount *ip_tab[HTTP_IP_BUCKETS];
};

/* Per TCP connection: its per-IP slot and an arena kept between the
 * requests of a keep-alive connection. */
struct http_conn {
	struct http_ip ip;
	bool counted;
	arena *spare;
};

/*
 * The accept policy counts a connection before MHD creates it; if MHD then
 * fails to start it (no memory, global limit), no STARTED notification
 * comes. Accept and start run on the same MHD thread, so the pending slot
 * is handed over here and given back on the next accept if never claimed.
 */
static _Thread_local struct {
	http_server *s;
	struct http_ip ip;
} http_pending;

enum http_body {
	HTTP_BODY_NONE, /* no body expected (GET/HEAD) or ignored */
	HTTP_BODY_FORM, /* urlencoded / multipart through MHD's post processor */
	HTTP_BODY_RAW,  /* anything else, buffered up to max_body */
};

/* One form field as it arrives, possibly in pieces. */
struct http_field {
	const char *name;
	buf val;
};

/* Per-request state; lives in the request's arena. */
struct http_rq {
	http_server *s;
	arena *a;
	const char *target;   /* raw request target, from the URI log hook */
	bool seen;            /* first access-handler call done */
	bool answered;        /* a response is queued */
	enum http_fail fail;
	enum http_body body;
	struct MHD_PostProcessor *pp;
	uint64_t total;       /* body bytes received */
	buf raw;
	struct http_field *fields; /* malloc'd */
	size_t nfields, capfields;
	struct http_req req;
	struct http_resp resp;
	/* A deferred answer (http_defer): suspended until http_resume, then
	 * finish runs on this connection's thread and the answer is sent. */
	bool deferred;
	struct MHD_Connection *conn;
	void (*finish)(void *ctx);
	void *finish_ctx;
};

/* ---- addresses --------------------------------------------------------- */

/* sockaddr → 16-byte key; false for non-IP families. */
static bool
http_ip_from_sa(const struct sockaddr *sa, struct http_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		ip->b[10] = ip->b[11] = 0xff;
		memcpy(ip->b + 12, &in->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		memcpy(ip->b, &in6->sin6_addr, 16);
		return true;
	}
	return false;
}

/* Parses a textual IPv4/IPv6 address (IPv6 optionally in brackets). */
static bool
http_ip_parse(const char *s, size_t n, struct http_ip *ip)
{
	char tmp[INET6_ADDRSTRLEN + 2];
	struct in_addr a4;

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, tmp, &a4) == 1) {
		ip->b[10] = ip->b[11] = 0xff;
		memcpy(ip->b + 12, &a4, 4);
		return true;
	}
	return inet_pton(AF_INET6, tmp, ip->b) == 1;
}

/* Canonical text of ip into the arena; v4-mapped addresses print as IPv4. */
static const char *
http_ip_str(arena *a, const struct http_ip *ip)
{
	static const uint8_t v4pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };
	char tmp[INET6_ADDRSTRLEN];

	if (memcmp(ip->b, v4pre, 12) == 0)
		inet_ntop(AF_INET, ip->b + 12, tmp, sizeof(tmp));
	else
		inet_ntop(AF_INET6, ip->b, tmp, sizeof(tmp));
	return arena_strdup(a, tmp);
}

/* Whether ip is one of the configured proxies (a short list: linear). */
static bool
http_ip_trusted(const http_server *s, const struct http_ip *ip)
{
	for (size_t i = 0; i < s->nproxies; i++)
		if (memcmp(&s->proxies[i], ip, sizeof(*ip)) == 0)
			return true;
	return false;
}

/* Space/comma separated list into s->proxies; false with a message. */
static bool
http_proxies_parse(http_server *s, const char *list, buf *err)
{
	const char *p = list ? list : "";

	while (*p) {
		size_t skip = strspn(p, " \t,");
		p += skip;
		size_t n = strcspn(p, " \t,");
		if (n == 0)
			break;
		if (s->nproxies == HTTP_MAX_PROXIES) {
			buf_printf(err, "too many trusted proxies (max %d)",
			    HTTP_MAX_PROXIES);
			return false;
		}
		if (!http_ip_parse(p, n, &s->proxies[s->nproxies])) {
			buf_printf(err, "bad trusted proxy address '%.*s'",
			    (int)n, p);
			return false;
		}
		s->nproxies++;
		p += n;
	}
	return true;
}

/* ---- request headers ------------------------------------------------------ */

/* Repeated headers kept per name (Cookie, X-Forwarded-For). */
#define HTTP_MAX_REPEAT 8
struct http_hdrs {
	const char *name;
	const char *v[HTTP_MAX_REPEAT];
	int n;
};

/* MHD iterator: collects the values of every header called h->name,
 * keeping the last HTTP_MAX_REPEAT (for X-Forwarded-For the right-most
 * entries are the ones that matter). */
static enum MHD_Result
http_hdr_collect(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct http_hdrs *h = cls;

	if (key == NULL || value == NULL || strcasecmp(key, h->name) != 0)
		return MHD_YES;
	if (h->n == HTTP_MAX_REPEAT) {
		memmove(h->v, h->v + 1, (HTTP_MAX_REPEAT - 1) * sizeof(h->v[0]));
		h->n--;
	}
	h->v[h->n++] = value;
	return MHD_YES;
}

/*
 * The client address: the peer, unless the peer is a trusted proxy; then
 * the right-most X-Forwarded-For entry that is not itself a trusted proxy
 * (anything left of it may be forged by the client). An unparsable entry
 * stops the walk at the last trusted hop.
 */
static const char *
http_client_ip(struct http_rq *q, struct MHD_Connection *c,
    const struct http_ip *peer)
{
	struct http_hdrs h = { .name = "X-Forwarded-For" };
	struct http_ip cur = *peer, ip;

	if (!http_ip_trusted(q->s, peer))
		return q->req.peer_ip;
	MHD_get_connection_values(c, MHD_HEADER_KIND, http_hdr_collect, &h);
	for (int i = h.n - 1; i >= 0; i--) {
		const char *v = h.v[i], *end = v + strlen(v);
		while (end > v) {
			const char *b = end, *e = end;
			while (b > v && b[-1] != ',')
				b--;
			end = b > v ? b - 1 : v;
			while (b < e && (*b == ' ' || *b == '\t'))
				b++;
			while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if (b == e)
				continue;
			if (!http_ip_parse(b, (size_t)(e - b), &ip))
				goto done;
			cur = ip;
			if (!http_ip_trusted(q->s, &ip))
				goto done;
		}
	}
done:
	return http_ip_str(q->a, &cur);
}

/* ---- per-IP connection limit ------------------------------------------- */

/* Seeded so remote peers cannot aim many addresses at one bucket. */
static size_t
http_ip_hash(const http_server *s, const struct http_ip *ip)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ s->seed;

	for (size_t i = 0; i < sizeof(ip->b); i++) {
		h ^= ip->b[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 31;
	return (size_t)(h % HTTP_IP_BUCKETS);
}

/* Takes a connection slot for ip; false when it already holds the limit. */
static bool
http_ip_take(http_server *s, const struct http_ip *ip)
{
	size_t h = http_ip_hash(s, ip);
	bool ok = true;

	pthread_mutex_lock(&s->ip_mu);
	struct http_ipcount *e = s->ip_tab[h];
	while (e && memcmp(&e->ip, ip, sizeof(*ip)) != 0)
		e = e->next;
	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->ip = *ip;
		e->next = s->ip_tab[h];
		s->ip_tab[h] = e;
	}
	if (e->n >= s->per_ip_limit)
		ok = false;
	else
		e->n++;
	pthread_mutex_unlock(&s->ip_mu);
	return ok;
}

/* Gives a slot back; the entry goes when its count reaches zero. */
static void
http_ip_give(http_server *s, const struct http_ip *ip)
{
	size_t h = http_ip_hash(s, ip);

	pthread_mutex_lock(&s->ip_mu);
	struct http_ipcount **pp = &s->ip_tab[h];
	while (*pp && memcmp(&(*pp)->ip, ip, sizeof(*ip)) != 0)
		pp = &(*pp)->next;
	if (*pp && --(*pp)->n == 0) {
		struct http_ipcount *e = *pp;
		*pp = e->next;
		free(e);
	}
	pthread_mutex_unlock(&s->ip_mu);
}

/*
 * MHD accept policy: refuses a peer already holding per_ip_limit
 * connections. Trusted proxies are exempt (all readers come through them),
 * which is why MHD's own per-IP option cannot be used.
 */
static enum MHD_Result
http_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	http_server *s = cls;
	struct http_ip ip;

	if (http_pending.s == s)
		http_ip_give(s, &http_pending.ip);
	http_pending.s = NULL;
	if (s->per_ip_limit == 0 || !http_ip_from_sa(addr, &ip) ||
	    http_ip_trusted(s, &ip))
		return MHD_YES;
	if (!http_ip_take(s, &ip))
		return MHD_NO;
	http_pending.s = s;
	http_pending.ip = ip;
	return MHD_YES;
}

/* Connection start/close: claims the slot counted at accept and frees the
 * connection's spare arena; the slot is given back on close. */
static void
http_conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	http_server *s = cls;
	struct http_conn *hc = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		hc = xcalloc(1, sizeof(*hc));
		if (http_pending.s == s) {
			hc->ip = http_pending.ip;
			hc->counted = true;
			http_pending.s = NULL;
		}
		*socket_context = hc;
		return;
	}
	if (hc == NULL)
		return;
	if (hc->counted)
		http_ip_give(s, &hc->ip);
	arena_free(hc->spare);
	free(hc);
	*socket_context = NULL;
}

/* The connection's state, or NULL once it is being closed. */
static struct http_conn *
http_conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* ---- request state ------------------------------------------------------ */

/* New request state in an arena (the connection's spare when there is
 * one, so keep-alive requests do not allocate). */
static struct http_rq *
http_rq_new(http_server *s, struct MHD_Connection *c, const char *target)
{
	struct http_conn *hc = http_conn_of(c);
	arena *a;

	if (hc != NULL && hc->spare != NULL) {
		a = hc->spare;
		hc->spare = NULL;
	} else {
		a = arena_new(HTTP_ARENA_CHUNK);
	}
	struct http_rq *q = arena_alloc(a, sizeof(*q));
	q->s = s;
	q->a = a;
	q->target = arena_strdup(a, target ? target : "");
	buf_init(&q->raw, s->max_body);
	buf_init(&q->resp.body, 0);
	return q;
}

/* MHD's URI log hook: the only place the raw request target (with its
 * query, before MHD unescapes it) can be seen. Starts the request. */
static void *
http_uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
	return http_rq_new(cls, c, uri);
}

/* MHD_OPTION_NOTIFY_COMPLETED: frees everything the request owned. */
static void
http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_rq *q = *con_cls;

	if (q == NULL)
		return;
	*con_cls = NULL;
	if (q->pp != NULL)
		MHD_destroy_post_processor(q->pp);
	for (size_t i = 0; i < q->nfields; i++)
		buf_free(&q->fields[i].val);
	free(q->fields);
	buf_free(&q->raw);
	buf_free(&q->resp.body);

	arena *a = q->a;
	struct http_conn *hc = http_conn_of(c);
	if (hc != NULL && hc->spare == NULL) {
		arena_reset(a);
		hc->spare = a;
	} else {
		arena_free(a);
	}
}

/* True when a request body follows the head (so answering early must
 * close the connection rather than leave the body unread). */
static bool
http_has_body(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL)
		return true;
	return cl != NULL && cl[strspn(cl, "0 \t")] != '\0';
}

/*
 * Percent-decodes the path ('+' stays '+' in paths). Refuses bad escapes,
 * control bytes, "." and ".." segments (BAD_REQUEST), and NUL or invalid
 * UTF-8 (ENCODING). Dot segments never reach a file handler this way.
 */
static enum http_fail
http_path_decode(arena *a, const char *s, size_t n, const char **out)
{
	char *p = arena_alloc(a, n + 1);
	size_t j = 0;

	if (n == 0 || s[0] != '/')
		return HTTP_FAIL_BAD_REQUEST;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			if (n - i < 3 || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]))
				return HTTP_FAIL_BAD_REQUEST;
			char hex[3] = { s[i + 1], s[i + 2], '\0' };
			c = (unsigned char)strtoul(hex, NULL, 16);
			i += 2;
			if (c == '\0')
				return HTTP_FAIL_ENCODING;
		}
		if (c < 0x20 || c == 0x7f)
			return HTTP_FAIL_BAD_REQUEST;
		p[j++] = (char)c;
	}
	p[j] = '\0';
	if (!text_utf8_valid(p, j))
		return HTTP_FAIL_ENCODING;
	for (const char *seg = p; seg; seg = strchr(seg + 1, '/')) {
		if (strncmp(seg, "/.", 2) == 0 && (seg[2] == '/' ||
		    seg[2] == '\0' || (seg[2] == '.' && (seg[3] == '/' ||
		    seg[3] == '\0'))))
			return HTTP_FAIL_BAD_REQUEST;
	}
	*out = p;
	return HTTP_FAIL_NONE;
}

/* Why a query string failed http_parse_urlencoded: too many pairs, or
 * (anything else) a bad escape or bad bytes. */
static enum http_fail
http_query_fail(const char *s, size_t max)
{
	size_t count = 0;

	for (const char *p = s; *p;) {
		size_t n = strcspn(p, "&");
		count += n > 0;
		p += n + (p[n] == '&');
	}
	return count > max ? HTTP_FAIL_TOO_MANY : HTTP_FAIL_ENCODING;
}

/* Splits the request target into path and query, decoding both. An
 * absolute-form target ("http://host/p") is reduced to its path. */
static enum http_fail
http_rq_target(struct http_rq *q)
{
	struct http_req *r = &q->req;
	const char *t = q->target, *qm;
	enum http_fail f;

	if (strncasecmp(t, "http://", 7) == 0 ||
	    strncasecmp(t, "https://", 8) == 0) {
		t = strstr(t, "://") + 3;
		t += strcspn(t, "/?");
		if (*t != '/')
			t = arena_printf(q->a, "/%s", t);
	}
	qm = strchr(t, '?');
	f = http_path_decode(q->a, t, qm ? (size_t)(qm - t) : strlen(t),
	    &r->path);
	if (f != HTTP_FAIL_NONE)
		return f;
	if (qm == NULL)
		return HTTP_FAIL_NONE;
	r->query = qm + 1;
	if (!http_parse_urlencoded(r->query, strlen(r->query), q->a,
	    q->s->max_fields, &r->args, &r->nargs))
		return http_query_fail(r->query, q->s->max_fields);
	return HTTP_FAIL_NONE;
}

/* All Cookie headers, each checked for UTF-8 before parsing (the parser
 * would only skip bad pairs; a bad cookie is refused at the edge). */
static enum http_fail
http_rq_cookies(struct http_rq *q, struct MHD_Connection *c)
{
	struct http_hdrs h = { .name = "Cookie" };
	const char *all;

	MHD_get_connection_values(c, MHD_HEADER_KIND, http_hdr_collect, &h);
	if (h.n == 0)
		return HTTP_FAIL_NONE;
	for (int i = 0; i < h.n; i++)
		if (!text_utf8_valid(h.v[i], strlen(h.v[i])))
			return HTTP_FAIL_ENCODING;
	all = h.v[0];
	for (int i = 1; i < h.n; i++)
		all = arena_printf(q->a, "%s; %s", all, h.v[i]);
	http_parse_cookies(all, q->a, &q->req.cookies, &q->req.ncookies);
	return HTTP_FAIL_NONE;
}

/* True when content type ct names media type mt (parameters ignored). */
static bool
http_ctype_is(const char *ct, const char *mt)
{
	size_t n = strlen(mt);
	return strncasecmp(ct, mt, n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

/* MHD post processor callback: accumulates each field (which may arrive
 * in pieces) under the count and length limits. */
static enum MHD_Result
http_pp_iter(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *filename, const char *content_type,
    const char *transfer_encoding, const char *data, uint64_t off,
    size_t size)
{
	struct http_rq *q = cls;
	struct http_field *f = q->nfields ? &q->fields[q->nfields - 1] : NULL;

	if (q->fail != HTTP_FAIL_NONE)
		return MHD_NO;
	if (key == NULL)
		key = "";
	if (off == 0 || f == NULL || strcmp(f->name, key) != 0) {
		if (q->nfields >= q->s->max_fields) {
			q->fail = HTTP_FAIL_TOO_MANY;
			return MHD_NO;
		}
		if (!text_utf8_valid(key, strlen(key))) {
			q->fail = HTTP_FAIL_ENCODING;
			return MHD_NO;
		}
		if (q->nfields == q->capfields) {
			q->capfields = q->capfields ? q->capfields * 2 : 8;
			q->fields = xrealloc(q->fields,
			    q->capfields * sizeof(*q->fields));
		}
		f = &q->fields[q->nfields++];
		f->name = arena_strdup(q->a, key);
		buf_init(&f->val, q->s->max_field_len);
	}
	if (size > 0 && !buf_put(&f->val, data, size)) {
		q->fail = HTTP_FAIL_FIELD_LARGE;
		return MHD_NO;
	}
	return MHD_YES;
}

/*
 * First call of the access handler: the head is complete. Fills the
 * request (method, path, query, cookies, addresses) and prepares the body
 * reader; q->fail records why the request will be refused, if it will.
 */
static void
http_rq_begin(struct http_rq *q, struct MHD_Connection *c, const char *method)
{
	http_server *s = q->s;
	struct http_req *r = &q->req;
	const union MHD_ConnectionInfo *ci;
	struct http_ip peer;
	const char *v;

	r->a = q->a;
	r->conn = c;
	r->now = (int64_t)time(NULL);
	r->path = "/";
	r->query = "";
	r->body = "";
	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0)
		r->method = HTTP_GET;
	else if (strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
		r->method = HTTP_HEAD;
	else if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
		r->method = HTTP_POST;
	else
		r->method = HTTP_OTHER;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && http_ip_from_sa(ci->client_addr, &peer)) {
		r->peer_ip = http_ip_str(q->a, &peer);
		r->ip = http_client_ip(q, c, &peer);
	} else {
		r->peer_ip = r->ip = "unknown";
	}
	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	r->content_type = v ? v : "";

	if (r->method == HTTP_OTHER) {
		q->fail = HTTP_FAIL_METHOD;
		return;
	}
	if ((q->fail = http_rq_target(q)) != HTTP_FAIL_NONE)
		return;
	if ((q->fail = http_rq_cookies(q, c)) != HTTP_FAIL_NONE)
		return;
	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (v != NULL) {
		errno = 0;
		unsigned long long cl = strtoull(v, NULL, 10);
		if (errno != 0 || cl > s->max_body) {
			q->fail = HTTP_FAIL_TOO_LARGE;
			return;
		}
	}
	if (r->method != HTTP_POST)
		return;
	if (http_ctype_is(r->content_type, "application/x-www-form-urlencoded") ||
	    http_ctype_is(r->content_type, "multipart/form-data")) {
		q->pp = MHD_create_post_processor(c, HTTP_PP_BUFFER,
		    http_pp_iter, q);
		if (q->pp == NULL)
			q->fail = HTTP_FAIL_BAD_REQUEST;
		q->body = HTTP_BODY_FORM;
	} else {
		q->body = HTTP_BODY_RAW;
	}
}

/*
 * A piece of the body: counted against max_body, then parsed or kept.
 * After a field-level refusal the rest (bounded by max_body) is read and
 * dropped, so the 400/413 can be answered on a live keep-alive connection.
 */
static void
http_rq_feed(struct http_rq *q, const char *data, size_t n)
{
	q->total += n;
	if (q->total > q->s->max_body) {
		q->fail = HTTP_FAIL_TOO_LARGE;
		return;
	}
	if (q->fail != HTTP_FAIL_NONE)
		return;
	switch (q->body) {
	case HTTP_BODY_FORM:
		if (MHD_post_process(q->pp, data, n) == MHD_NO &&
		    q->fail == HTTP_FAIL_NONE)
			q->fail = HTTP_FAIL_BAD_REQUEST;
		break;
	case HTTP_BODY_RAW:
		if (!buf_put(&q->raw, data, n))
			q->fail = HTTP_FAIL_TOO_LARGE;
		break;
	case HTTP_BODY_NONE:
		break;
	}
}

/* Body complete: flushes the post processor and checks every field value
 * (UTF-8, no NUL) before exposing the fields to the handler. */
static void
http_rq_finish(struct http_rq *q)
{
	struct http_req *r = &q->req;

	if (q->pp != NULL) {
		MHD_destroy_post_processor(q->pp);
		q->pp = NULL;
	}
	if (q->fail != HTTP_FAIL_NONE)
		return;
	if (q->nfields > 0) {
		r->form = arena_alloc(q->a, q->nfields * sizeof(*r->form));
		for (size_t i = 0; i < q->nfields; i++) {
			struct http_field *f = &q->fields[i];
			const char *v = buf_cstr(&f->val);
			if (memchr(v, '\0', f->val.len) != NULL ||
			    !text_utf8_valid(v, f->val.len)) {
				q->fail = HTTP_FAIL_ENCODING;
				return;
			}
			r->form[i] = (struct http_kv){ f->name, v, f->val.len };
		}
		r->nform = q->nfields;
	}
	if (q->body == HTTP_BODY_RAW) {
		r->body = buf_cstr(&q->raw);
		r->body_len = q->raw.len;
	}
}

/* ---- responses ------------------------------------------------------------ */

/* Queues the refusal page for f. close: an unread body follows, so the
 * connection cannot carry another request. */
static enum MHD_Result
http_send_fail(struct http_rq *q, struct MHD_Connection *c, enum http_fail f,
    bool close)
{
	const char *page = http_fails[f].page;
	struct MHD_Response *r;
	enum MHD_Result ret;

	q->answered = true;
	r = MHD_create_response_from_buffer(strlen(page), (void *)page,
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/html; charset=utf-8");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (f == HTTP_FAIL_METHOD)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW,
		    "GET, HEAD, POST");
	if (close)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(c, http_fails[f].status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Adds the handler's "Name: value" lines (validated when they were set). */
static void
http_add_headers(struct http_rq *q, struct MHD_Response *r)
{
	const struct http_resp *w = &q->resp;

	for (size_t i = 0; i < w->nheaders; i++) {
		const char *line = w->headers[i], *colon = strchr(line, ':');
		if (colon == NULL || colon == line)
			continue;
		const char *name = arena_strndup(q->a, line,
		    (size_t)(colon - line));
		const char *value = colon + 1 + strspn(colon + 1, " \t");
		if (MHD_add_response_header(r, name, value) == MHD_NO)
			fprintf(stderr, "kiji: http: header refused by MHD\n");
	}
}

void *
http_shared_new(int status, const char *content_type, const void *body,
    size_t n, const char *const *headers, size_t nheaders)
{
	struct MHD_Response *r;
	(void)status; /* the status is given when queued */
	if (n == 0) {
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	} else {
		void *copy = malloc(n);
		if (copy == NULL)
			return NULL;
		memcpy(copy, body, n);
		r = MHD_create_response_from_buffer_with_free_callback(n, copy, free);
		if (r == NULL)
			free(copy);
	}
	if (r == NULL)
		return NULL;
	if (content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	for (size_t i = 0; i < nheaders; i++) {
		const char *colon = strchr(headers[i], ':');
		if (colon == NULL || colon == headers[i] || colon - headers[i] > 120)
			continue;
		char name[128];
		memcpy(name, headers[i], (size_t)(colon - headers[i]));
		name[colon - headers[i]] = '\0';
		MHD_add_response_header(r, name, colon + 1 + strspn(colon + 1, " "));
	}
	return r;
}

void
http_shared_free(void *shared)
{
	if (shared != NULL)
		MHD_destroy_response(shared);
}

/* Turns the handler's http_resp into an MHD response: a shared (cached)
 * response as is, a file by descriptor, or the body buffer handed over. */
static enum MHD_Result
http_send(struct http_rq *q, struct MHD_Connection *c)
{
	struct http_resp *w = &q->resp;
	unsigned status = w->status ? (unsigned)w->status : MHD_HTTP_OK;
	struct MHD_Response *r;
	enum MHD_Result ret;

	q->answered = true;
	if (w->status < 0 || status < 100 || status > 599 || w->body.err) {
		if (w->shared && w->shared_done)
			w->shared_done(w->shared_ctx);
		w->shared = NULL;
		return http_send_fail(q, c, HTTP_FAIL_INTERNAL, false);
	}
	if (w->shared != NULL) {
		ret = MHD_queue_response(c, status, w->shared);
		if (w->shared_done)
			w->shared_done(w->shared_ctx);
		w->shared = NULL;
		w->shared_done = NULL;
		return ret;
	}
	if (w->file_path != NULL) {
		struct stat st;
		int fd = open(w->file_path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			if (fd >= 0)
				close(fd);
			return http_send_fail(q, c, HTTP_FAIL_NOT_FOUND, false);
		}
		r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
		if (r == NULL) {
			close(fd);
			return MHD_NO;
		}
	} else if (w->body.len == 0) {
		r = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
		if (r == NULL)
			return MHD_NO;
	} else {
		size_t len;
		char *p = buf_detach(&w->body, &len);
		r = MHD_create_response_from_buffer_with_free_callback(len, p,
		    free);
		if (r == NULL) {
			free(p);
			return MHD_NO;
		}
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    w->content_type ? w->content_type : "text/html; charset=utf-8");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	http_add_headers(q, r);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * MHD access handler. First call: head parsed, state prepared, nothing
 * queued (answering here makes MHD drop keep-alive, so only refusals with
 * an unread body do: a declared Content-Length over max_body gets its 413
 * here, unread). Then body pieces, then a final call that runs the
 * handler, so a refused request never reaches it.
 */
static enum MHD_Result
http_access(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data, size_t *size,
    void **con_cls)
{
	http_server *s = cls;
	struct http_rq *q = *con_cls;

	if (q == NULL)
		*con_cls = q = http_rq_new(s, c, url);
	if (q->answered) {
		*size = 0;
		return MHD_YES;
	}
	if (q->deferred) {
		/* Resumed: the other thread's work is done. */
		q->deferred = false;
		*size = 0;
		if (q->finish)
			q->finish(q->finish_ctx);
		return http_send(q, c);
	}
	if (!q->seen) {
		q->seen = true;
		http_rq_begin(q, c, method);
		if (q->fail != HTTP_FAIL_NONE && http_has_body(c))
			return http_send_fail(q, c, q->fail, true);
		return MHD_YES;
	}
	if (*size > 0) {
		http_rq_feed(q, data, *size);
		*size = 0;
		/* Only a chunked body gets here (a declared length was
		 * checked at the head). MHD 0.9.75 cannot queue a response
		 * while a body is being read, so the connection is dropped
		 * unanswered rather than reading the rest. */
		if (q->total > s->max_body)
			return MHD_NO;
		return MHD_YES;
	}
	http_rq_finish(q);
	if (q->fail != HTTP_FAIL_NONE)
		return http_send_fail(q, c, q->fail, false);
	s->h(s->ctx, &q->req, &q->resp);
	if (q->deferred)
		return MHD_YES; /* suspended; answered after http_resume */
	return http_send(q, c);
}

void *
http_defer(struct http_req *r, void (*finish)(void *ctx), void *ctx)
{
	struct http_rq *q = (struct http_rq *)((char *)r -
	    offsetof(struct http_rq, req));
	struct MHD_Connection *c = r->conn;
	if (c == NULL)
		return NULL;
	q->deferred = true;
	q->conn = c;
	q->finish = finish;
	q->finish_ctx = ctx;
	MHD_suspend_connection(c);
	return q;
}

void
http_resume(void *deferred)
{
	struct http_rq *q = deferred;
	MHD_resume_connection(q->conn);
}

/* MHD's error log, prefixed; the message for a connection we drop on
 * purpose (chunked body over the limit) is not worth a line per client. */
static void
http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (strstr(msg, "Application reported internal error") != NULL)
		return;
	msg[strcspn(msg, "\n")] = '\0';
	fprintf(stderr, "kiji: http: %s\n", msg);
}

/* ---- start / stop ----------------------------------------------------------- */

/* "host:port" or "[v6]:port" (port 0..65535) into a socket address. */
static bool
http_listen_parse(const char *listen, struct sockaddr_storage *ss, buf *err)
{
	char host[256];
	const char *hb, *he, *port;
	struct addrinfo hints = { 0 }, *res = NULL;

	if (listen == NULL || *listen == '\0')
		goto bad;
	if (listen[0] == '[') {
		hb = listen + 1;
		he = strchr(hb, ']');
		if (he == NULL || he[1] != ':')
			goto bad;
		port = he + 2;
		hints.ai_family = AF_INET6;
		hints.ai_flags = AI_NUMERICHOST;
	} else {
		hb = listen;
		he = strchr(listen, ':');
		if (he == NULL || strchr(he + 1, ':') != NULL)
			goto bad;
		port = he + 1;
		hints.ai_family = AF_UNSPEC;
	}
	if (he == hb || (size_t)(he - hb) >= sizeof(host) || *port == '\0' ||
	    strlen(port) > 5 || port[strspn(port, "0123456789")] != '\0' ||
	    atoi(port) > 65535)
		goto bad;
	memcpy(host, hb, (size_t)(he - hb));
	host[he - hb] = '\0';
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags |= AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL ||
	    res->ai_addrlen > sizeof(*ss))
		goto bad;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return true;
bad:
	if (res != NULL)
		freeaddrinfo(res);
	buf_printf(err, "bad listen address '%s' (want host:port or [v6]:port)",
	    listen ? listen : "");
	return false;
}

/*
 * Validates the config, then starts MHD: epoll with an internal thread
 * pool, our accept policy for the per-IP limit, and hooks that own the
 * per-request and per-connection state. NULL with a message in err.
 */
http_server *
http_start(const struct http_config *cfg, http_handler h, void *ctx, buf *err)
{
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
	    MHD_ALLOW_SUSPEND_RESUME;
	unsigned threads = cfg->threads;
	http_server *s = xcalloc(1, sizeof(*s));

	pthread_mutex_init(&s->ip_mu, NULL);
	s->h = h;
	s->ctx = ctx;
	s->per_ip_limit = cfg->per_ip_limit;
	s->max_body = cfg->max_body ? cfg->max_body : HTTP_DEF_MAX_BODY;
	s->max_fields = cfg->max_fields ? cfg->max_fields : HTTP_DEF_MAX_FIELDS;
	s->max_field_len = cfg->max_field_len ? cfg->max_field_len :
	    HTTP_DEF_MAX_FIELD_LEN;
	if (getrandom(&s->seed, sizeof(s->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(s->seed))
		s->seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^
		    (uint64_t)(uintptr_t)s;
	if (h == NULL) {
		buf_puts(err, "no handler");
		goto err;
	}
	if (!http_proxies_parse(s, cfg->trusted_proxies, err))
		goto err;
	if (!http_listen_parse(cfg->listen, &ss, err))
		goto err;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (unsigned)n : 1;
	}
	/* A pool of 1 is no pool (MHD warns if asked for one). */
	struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)http_mhd_log, s },
		{ MHD_OPTION_SOCK_ADDR, 0, &ss },
		{ MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)(cfg->conn_timeout ?
		    cfg->conn_timeout : HTTP_DEF_TIMEOUT), NULL },
		{ MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)HTTP_CONN_MEMORY,
		    NULL },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)http_completed, s },
		{ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)http_conn_notify, s },
		{ MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)http_uri_log, s },
		{ threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
		    (intptr_t)threads, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	s->d = MHD_start_daemon(flags, 0, http_accept, s, http_access, s,
	    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (s->d == NULL) {
		buf_printf(err, "cannot listen on %s: %s", cfg->listen,
		    strerror(errno));
		goto err;
	}
	const union MHD_DaemonInfo *di =
	    MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : 0;
	return s;
err:
	pthread_mutex_destroy(&s->ip_mu);
	free(s);
	return NULL;
}

/* Read once at start: MHD_DAEMON_INFO_BIND_PORT after binding port 0. */
unsigned
http_port(const http_server *s)
{
	return s ? s->port : 0;
}

/* Stops MHD (which closes every connection and so empties the per-IP
 * table through the close notifications), then frees what is left. */
void
http_stop(http_server *s)
{
	if (s == NULL)
		return;
	MHD_stop_daemon(s->d);
	for (size_t i = 0; i < HTTP_IP_BUCKETS; i++) {
		while (s->ip_tab[i]) {
			struct http_ipcount *e = s->ip_tab[i];
			s->ip_tab[i] = e->next;
			free(e);
		}
	}
	pthread_mutex_destroy(&s->ip_mu);
	free(s);
}

/* ---- request accessors -------------------------------------------------------- */

/* Straight from MHD (names compare case-insensitively); only valid while
 * the handler runs, as the connection owns the strings. */
const char *
http_req_header(const struct http_req *r, const char *name)
{
	if (r == NULL || r->conn == NULL || name == NULL)
		return NULL;
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* First pair called name in kv[0..n), or NULL. */
static const char *
http_kv_find(const struct http_kv *kv, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].name, name) == 0)
			return kv[i].value;
	return NULL;
}

/* The accessors below return the first pair of that name, or NULL. */
const char *
http_req_arg(const struct http_req *r, const char *name)
{
	return http_kv_find(r->args, r->nargs, name);
}

const char *
http_req_field(const struct http_req *r, const char *name)
{
	return http_kv_find(r->form, r->nform, name);
}

const char *
http_req_cookie(const struct http_req *r, const char *name)
{
	return http_kv_find(r->cookies, r->ncookies, name);
}

/* ---- response helpers ------------------------------------------------------------ */

/* RFC 7230 token, 1..64 bytes: header and cookie names. */
static bool
http_token_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];
		if (c >= 0x80 || !(isalnum(c) || strchr("!#$%&'*+-.^_`|~", c)))
			return false;
	}
	return n > 0 && n <= 64;
}

/* Header value: no CR, LF, NUL or other controls (tab allowed), so a value
 * can never start another header. */
static bool
http_value_ok(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* Appends "name: value" to w->headers (copied, not grown in place: the
 * array may have been built by the caller). Invalid pairs are dropped. */
void
http_resp_header(struct http_req *r, struct http_resp *w, const char *name,
    const char *value)
{
	if (name == NULL || value == NULL || !http_token_ok(name) ||
	    !http_value_ok(value)) {
		fprintf(stderr, "kiji: http: invalid response header dropped\n");
		return;
	}
	char **h = arena_alloc(r->a, (w->nheaders + 1) * sizeof(*h));
	if (w->nheaders > 0)
		memcpy(h, w->headers, w->nheaders * sizeof(*h));
	h[w->nheaders] = arena_printf(r->a, "%s: %s", name, value);
	w->headers = h;
	w->nheaders++;
}

/* RFC 6265 cookie-octet: no space, quote, comma, semicolon, backslash. */
static bool
http_cookie_value_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == ',' ||
		    c == ';' || c == '\\')
			return false;
	}
	return n <= 4000;
}

/* Set-Cookie with kiji's fixed attributes. max_age > 0 persists that many
 * seconds, 0 makes a session cookie, < 0 deletes (Max-Age=0). */
void
http_resp_cookie(struct http_req *r, struct http_resp *w, const char *name,
    const char *value, int64_t max_age)
{
	const char *v;

	if (name == NULL || value == NULL || !http_token_ok(name) ||
	    !http_cookie_value_ok(value)) {
		fprintf(stderr, "kiji: http: invalid cookie dropped\n");
		return;
	}
	if (max_age == 0)
		v = arena_printf(r->a, "%s=%s; Path=/; HttpOnly; SameSite=Lax",
		    name, value);
	else
		v = arena_printf(r->a,
		    "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%lld", name,
		    value, (long long)(max_age > 0 ? max_age : 0));
	http_resp_header(r, w, "Set-Cookie", v);
}

/* A local path ("/x", but not "//host" or "/\host", which browsers take
 * as another site) or an absolute http(s) URL; printable ASCII only. */
static bool
http_location_ok(const char *s)
{
	if (s == NULL)
		return false;
	if (s[0] == '/') {
		if (s[1] == '/' || s[1] == '\\')
			return false;
	} else if (strncasecmp(s, "http://", 7) != 0 &&
	    strncasecmp(s, "https://", 8) != 0) {
		return false;
	}
	size_t n = 0;
	for (; s[n]; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f ||
		    s[n] == '\\')
			return false;
	return n <= 8000;
}

/* Redirect with a checked Location; a bad target is a bug in the caller
 * and becomes a 500 rather than an open redirect or a split header. */
void
http_resp_redirect(struct http_req *r, struct http_resp *w, int status,
    const char *location)
{
	if (!http_location_ok(location)) {
		fprintf(stderr, "kiji: http: invalid redirect target refused\n");
		w->status = 500;
		buf_reset(&w->body);
		buf_puts(&w->body, http_fails[HTTP_FAIL_INTERNAL].page);
		return;
	}
	if (status != 301 && status != 302 && status != 303 && status != 307 &&
	    status != 308)
		status = 303;
	w->status = status;
	http_resp_header(r, w, "Location", location);
}
