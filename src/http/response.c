/*
 * Answers on the wire: status lines, the headers every answer carries
 * (security headers on HTML), refusal pages, shared (cached) responses
 * serialised once, byte ranges, and the helpers handlers use to add
 * headers, cookies and redirects.
 */
#include "http_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define HTTP_PAGE(code, msg)                                               \
	"<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">" \
	"<meta name=\"viewport\" content=\"width=device-width\">"          \
	"<title>" code " " msg "</title></head><body><h1>" msg "</h1>"     \
	"<p><a href=\"/\">トップページへ戻る</a></p></body></html>\n"

/* Status and page per refusal; constant, and never echoing the request. */
static const struct {
	int status;
	const char *page;
} http_fails[HTTP_FAIL__MAX] = {
	[HTTP_FAIL_NONE] = { 500, HTTP_PAGE("500", "サーバーエラーです") },
	[HTTP_FAIL_BAD_REQUEST] = { 400, HTTP_PAGE("400", "不正なリクエストです") },
	[HTTP_FAIL_ENCODING] = { 400, HTTP_PAGE("400", "不正な文字コードです") },
	[HTTP_FAIL_TOO_MANY] = { 400, HTTP_PAGE("400", "入力項目が多すぎます") },
	[HTTP_FAIL_METHOD] = { 405, HTTP_PAGE("405", "許可されていないメソッドです") },
	[HTTP_FAIL_NOT_IMPL] = { 501, HTTP_PAGE("501", "対応していないリクエストです") },
	[HTTP_FAIL_TOO_LARGE] = { 413, HTTP_PAGE("413", "送信データが大きすぎます") },
	[HTTP_FAIL_FIELD_LARGE] = { 413, HTTP_PAGE("413", "入力が長すぎます") },
	[HTTP_FAIL_URI_LONG] = { 414, HTTP_PAGE("414", "URLが長すぎます") },
	[HTTP_FAIL_FIELDS_LARGE] = { 431, HTTP_PAGE("431", "ヘッダーが大きすぎます") },
	[HTTP_FAIL_VERSION] = { 505, HTTP_PAGE("505", "対応していないHTTPバージョンです") },
	[HTTP_FAIL_EXPECT] = { 417, HTTP_PAGE("417", "Expectに応えられません") },
	[HTTP_FAIL_TIMEOUT] = { 408, HTTP_PAGE("408", "リクエストが時間内に届きませんでした") },
	[HTTP_FAIL_UNAVAILABLE] = { 503, HTTP_PAGE("503", "ただいま混み合っています") },
	[HTTP_FAIL_INTERNAL] = { 500, HTTP_PAGE("500", "サーバーエラーです") },
};

enum http_fail
http_fail_of_wire(enum wire_status st)
{
	switch (st) {
	case WIRE_OK:
	case WIRE_INCOMPLETE:
		return HTTP_FAIL_NONE;
	case WIRE_BAD:
		return HTTP_FAIL_BAD_REQUEST;
	case WIRE_EXPECT:
		return HTTP_FAIL_EXPECT;
	case WIRE_URI_LONG:
		return HTTP_FAIL_URI_LONG;
	case WIRE_FIELDS_LARGE:
		return HTTP_FAIL_FIELDS_LARGE;
	case WIRE_METHOD:
		return HTTP_FAIL_NOT_IMPL;
	case WIRE_VERSION:
		return HTTP_FAIL_VERSION;
	}
	return HTTP_FAIL_BAD_REQUEST;
}

static const char *
http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Status";
	}
}

/* The Content-Security-Policy of HTML answers, set once at start (one
 * server per process; shared responses are built without a server). */
static char http_csp[1024] = "default-src 'self'; script-src 'self'; "
    "style-src 'self'; img-src 'self' https: data:; form-action 'self'; "
    "frame-ancestors 'self'; base-uri 'self'; object-src 'none'";

/* True when s can stand in a policy's source list: no directive or
 * policy separator, no control or non-ASCII byte. */
static bool
http_csp_sources_ok(const char *s)
{
	for (const char *p = s; *p; p++)
		if (*p == ';' || *p == ',' || (unsigned char)*p < 0x20 ||
		    (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

/* Builds the policy with extra form-action / connect-src sources (a
 * static copy elsewhere posting comments here) and frame-src sources
 * (content.embeds). Without frame sources there is no frame-src: frames
 * fall back to default-src 'self'. false if too long or not plain
 * source expressions. */
bool
http_csp_set(const char *form_action, const char *connect_src,
    const char *frame_src)
{
	char tmp[sizeof(http_csp)];
	const char *fa = form_action ? form_action : "";
	const char *cs = connect_src ? connect_src : "";
	const char *fs = frame_src ? frame_src : "";

	if (!http_csp_sources_ok(fa) || !http_csp_sources_ok(cs) ||
	    !http_csp_sources_ok(fs))
		return false;
	int n = snprintf(tmp, sizeof(tmp), "default-src 'self'; "
	    "script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
	    "form-action 'self'%s%s; %s%s%s%s%s%sframe-ancestors 'self'; "
	    "base-uri 'self'; object-src 'none'", *fa ? " " : "", fa,
	    *cs ? "connect-src 'self' " : "", cs, *cs ? "; " : "",
	    *fs ? "frame-src 'self' " : "", fs, *fs ? "; " : "");
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return false;
	memcpy(http_csp, tmp, (size_t)n + 1);
	return true;
}

const char *
http_date_now(void)
{
	static _Thread_local time_t last;
	static _Thread_local char date[64];
	time_t now = time(NULL);

	if (now != last) {
		buf b;
		buf_init(&b, sizeof(date) - 1);
		text_http_date(&b, (int64_t)now);
		snprintf(date, sizeof(date), "%s", buf_cstr(&b));
		buf_free(&b);
		last = now;
	}
	return date;
}

/* Whether a "Name: value" list holds a header called name. */
static bool
http_has_header(const char *const *h, size_t n, const char *name)
{
	size_t k = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (strncasecmp(h[i], name, k) == 0 && h[i][k] == ':')
			return true;
	return false;
}

/*
 * The header lines every answer carries: Content-Type, nosniff, and on
 * HTML the referrer policy and CSP (unless the handler set its own), then
 * the handler's lines. No status line, length or Connection.
 */
static void
http_head_common(buf *b, const char *ctype, const char *const *h, size_t n)
{
	if (ctype != NULL)
		buf_printf(b, "Content-Type: %s\r\n", ctype);
	buf_puts(b, "X-Content-Type-Options: nosniff\r\n");
	if (ctype != NULL && strncasecmp(ctype, "text/html", 9) == 0) {
		if (!http_has_header(h, n, "Referrer-Policy"))
			buf_puts(b, "Referrer-Policy: "
			    "strict-origin-when-cross-origin\r\n");
		if (!http_has_header(h, n, "Content-Security-Policy"))
			buf_printf(b, "Content-Security-Policy: %s\r\n", http_csp);
	}
	for (size_t i = 0; i < n; i++) {
		const char *colon = strchr(h[i], ':');
		if (colon == NULL || colon == h[i])
			continue;
		buf_put(b, h[i], (size_t)(colon - h[i]));
		buf_puts(b, ": ");
		buf_puts(b, colon + 1 + strspn(colon + 1, " \t"));
		buf_puts(b, "\r\n");
	}
}

static bool
http_status_has_body(int status)
{
	return status >= 200 && status != 204 && status != 304;
}

size_t
http_fail_bytes(enum http_fail f, const char *date, const char *csp,
    const char **body, char *head, size_t headsz)
{
	(void)csp;
	*body = http_fails[f].page;
	int n = snprintf(head, headsz, "HTTP/1.1 %d %s\r\nDate: %s\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: strict-origin-when-cross-origin\r\n"
	    "Content-Security-Policy: %s\r\nCache-Control: no-store\r\n"
	    "%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
	    http_fails[f].status, http_reason(http_fails[f].status), date,
	    http_csp, f == HTTP_FAIL_METHOD ? "Allow: GET, HEAD, POST\r\n" : "",
	    strlen(*body));
	return n > 0 && (size_t)n < headsz ? (size_t)n : 0;
}

/* ---- byte ranges ------------------------------------------------------------ */

/* The response's ETag line value, or NULL. */
static const char *
http_resp_etag(const struct http_resp *w)
{
	for (size_t i = 0; i < w->nheaders; i++)
		if (strncasecmp(w->headers[i], "ETag:", 5) == 0)
			return w->headers[i] + 5 + strspn(w->headers[i] + 5, " ");
	return NULL;
}

/*
 * One "bytes=a-b" range of a len-byte body (RFC 9110 §14). 1: satisfiable,
 * [*from, *to]; 0: ignore the header (absent, malformed, several ranges,
 * or an If-Range that does not match); -1: unsatisfiable (416).
 */
static int
http_range(const struct http_req *r, const struct http_resp *w, size_t len,
    size_t *from, size_t *to)
{
	const char *v = http_req_header(r, "Range");
	const char *ifr = http_req_header(r, "If-Range");
	const char *etag = http_resp_etag(w);

	if (v == NULL || strncmp(v, "bytes=", 6) != 0)
		return 0;
	if (ifr != NULL && (etag == NULL || etag[0] != '"' ||
	    strcmp(ifr, etag) != 0))
		return 0; /* a date, a weak or another tag: the whole body */
	v += 6;
	if (strchr(v, ',') != NULL)
		return 0;
	const char *dash = strchr(v, '-');
	if (dash == NULL)
		return 0;
	size_t an = (size_t)(dash - v), bn = strlen(dash + 1);
	if (an > 18 || bn > 18 || strspn(v, "0123456789") != an ||
	    strspn(dash + 1, "0123456789") != bn || (an == 0 && bn == 0))
		return 0;
	unsigned long long a = an ? strtoull(v, NULL, 10) : 0;
	unsigned long long b = bn ? strtoull(dash + 1, NULL, 10) : 0;
	if (an == 0) { /* suffix: the last b bytes */
		if (b == 0)
			return -1;
		*from = b >= len ? 0 : len - (size_t)b;
		*to = len - 1;
		return len == 0 ? -1 : 1;
	}
	if (bn > 0 && b < a)
		return 0;
	if (a >= len)
		return -1;
	*from = (size_t)a;
	*to = bn == 0 || b >= len ? len - 1 : (size_t)b;
	return 1;
}

/* ---- serialising ------------------------------------------------------------- */

static void
http_out_push(struct http_out *o, const void *p, size_t n)
{
	if (n == 0)
		return;
	o->iov[o->niov].iov_base = (void *)p;
	o->iov[o->niov].iov_len = n;
	o->niov++;
}

/*
 * The bytes of one answer: a refusal page (f), the shared response, or
 * the handler's body (with Range applied). head_only: HEAD, so the body
 * is left out but its length still sent.
 */
void
http_out_build(struct http_rq *q, enum http_fail f, bool close, bool head_only,
    const char *date, struct http_out *o)
{
	struct http_resp *w = &q->resp;
	const char *conn = close ? "Connection: close\r\n\r\n" :
	    q->req.minor == 0 ? "Connection: keep-alive\r\n\r\n" : "\r\n";
	buf h;

	memset(o, 0, sizeof(*o));
	o->file_fd = -1;
	buf_init(&h, 0);
	buf_reserve(&h, 1024);
	if (f != HTTP_FAIL_NONE) {
		const char *page = http_fails[f].page;
		int st = http_fails[f].status;
		const char *hdr = f == HTTP_FAIL_METHOD ? "Allow: GET, HEAD, POST" :
		    "Cache-Control: no-store";
		const char *hdrs[2] = { hdr, "Cache-Control: no-store" };
		buf_printf(&h, "HTTP/1.1 %d %s\r\nDate: %s\r\n", st,
		    http_reason(st), date);
		http_head_common(&h, "text/html; charset=utf-8", hdrs,
		    f == HTTP_FAIL_METHOD ? 2 : 1);
		buf_printf(&h, "Content-Length: %zu\r\n%s", strlen(page), conn);
		o->body = buf_detach(&h, NULL);
		http_out_push(o, o->body, strlen(o->body));
		o->status = st;
		if (!head_only) {
			http_out_push(o, page, strlen(page));
			o->body_len = strlen(page);
		}
		return;
	}
	int status = w->status ? w->status : 200;
	if (w->shared != NULL) {
		struct http_shared *sh = w->shared;
		atomic_fetch_add(&sh->refs, 1);
		o->shared = sh;
		buf_printf(&h, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status,
		    http_reason(status), date);
		o->body = buf_detach(&h, NULL);
		http_out_push(o, o->body, strlen(o->body));
		http_out_push(o, sh->head, sh->head_len);
		http_out_push(o, conn, strlen(conn));
		o->status = status;
		if (!head_only && http_status_has_body(status)) {
			o->body_len = sh->len;
			if (sh->fd >= 0) {
				o->file_fd = sh->fd;
				o->file_len = sh->len;
			} else {
				http_out_push(o, sh->body, sh->len);
			}
		}
		return;
	}
	const char *body = w->body.ptr ? w->body.ptr : "";
	size_t len = w->body.len, from = 0, to = 0;
	int rg = 0;
	if (w->ranges && status == 200 && q->req.method == HTTP_GET)
		rg = http_range(&q->req, w, len, &from, &to);
	if (rg < 0)
		status = 416;
	else if (rg > 0)
		status = 206;
	buf_printf(&h, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status,
	    http_reason(status), date);
	http_head_common(&h, rg < 0 ? NULL : w->content_type ? w->content_type :
	    "text/html; charset=utf-8", (const char *const *)w->headers,
	    w->nheaders);
	if (w->ranges)
		buf_puts(&h, "Accept-Ranges: bytes\r\n");
	if (rg < 0) {
		buf_printf(&h, "Content-Range: bytes */%zu\r\n", len);
		len = 0;
	} else if (rg > 0) {
		buf_printf(&h, "Content-Range: bytes %zu-%zu/%zu\r\n", from, to,
		    len);
		body += from;
		len = to - from + 1;
	}
	if (http_status_has_body(status))
		buf_printf(&h, "Content-Length: %zu\r\n", len);
	buf_puts(&h, conn);
	if (h.err) {
		buf_free(&h);
		http_out_build(q, HTTP_FAIL_INTERNAL, true, head_only, date, o);
		return;
	}
	o->body = buf_detach(&h, NULL);
	http_out_push(o, o->body, strlen(o->body));
	o->status = status;
	if (!head_only && http_status_has_body(status)) {
		http_out_push(o, body, len);
		o->body_len = len;
	}
}

void
http_out_free(struct http_out *o)
{
	free(o->body);
	o->body = NULL;
	o->file_fd = -1;
	if (o->shared != NULL)
		http_shared_free(o->shared);
	o->shared = NULL;
	o->niov = 0;
}

/* ---- shared responses ---------------------------------------------------------- */

/* A memfd holding body's n bytes, or -1. */
static int
shared_memfd(const void *body, size_t n)
{
	int fd = memfd_create("kiji-page", MFD_CLOEXEC);
	size_t done = 0;
	while (fd >= 0 && done < n) {
		ssize_t k = write(fd, (const char *)body + done, n - done);
		if (k <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)k;
	}
	return fd;
}

void *
http_shared_new(int status, const char *content_type, const void *body,
    size_t n, const char *const *headers, size_t nheaders)
{
	struct http_shared *sh = calloc(1, sizeof(*sh));
	buf h;

	if (sh == NULL)
		return NULL;
	atomic_init(&sh->refs, 1);
	sh->status = status;
	buf_init(&h, 0);
	http_head_common(&h, content_type, headers, nheaders);
	if (http_status_has_body(status))
		buf_printf(&h, "Content-Length: %zu\r\n", n);
	/* Large bodies go into a memfd, sent with sendfile: the kernel then
	 * references the pages instead of copying them per request, and the
	 * memfd is the only copy kept (a 2,000-comment page is 1.7 MB).
	 * Without a memfd (limits), a memory copy is sent as usual. */
	sh->fd = n >= HTTP_SENDFILE_MIN ? shared_memfd(body, n) : -1;
	if (h.err || (sh->fd < 0 && n > 0 && (sh->body = malloc(n)) == NULL)) {
		if (sh->fd >= 0)
			close(sh->fd);
		buf_free(&h);
		free(sh);
		return NULL;
	}
	if (sh->body != NULL)
		memcpy(sh->body, body, n);
	sh->len = n;
	sh->head = buf_detach(&h, &sh->head_len);
	return sh;
}

void
http_shared_free(void *shared)
{
	struct http_shared *sh = shared;
	if (sh == NULL || atomic_fetch_sub(&sh->refs, 1) != 1)
		return;
	if (sh->fd >= 0)
		close(sh->fd);
	free(sh->head);
	free(sh->body);
	free(sh);
}

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
		obs_error("http: invalid response header dropped");
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
 * seconds, 0 makes a session cookie, < 0 deletes (Max-Age=0). A request
 * that reached the front end over https gets Secure cookies. */
void
http_resp_cookie(struct http_req *r, struct http_resp *w, const char *name,
    const char *value, int64_t max_age)
{
	const char *v;

	if (r->https) {
		http_resp_cookie_secure(r, w, name, value, max_age, true);
		return;
	}
	if (name == NULL || value == NULL || !http_token_ok(name) ||
	    !http_cookie_value_ok(value)) {
		obs_error("http: invalid cookie dropped");
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

/* As http_resp_cookie, plus Secure when secure (the site is https): the
 * editor area's session cookie must never travel in clear. */
void
http_resp_cookie_secure(struct http_req *r, struct http_resp *w,
    const char *name, const char *value, int64_t max_age, bool secure)
{
	if (!secure) {
		http_resp_cookie(r, w, name, value, max_age);
		return;
	}
	if (name == NULL || value == NULL || !http_token_ok(name) ||
	    !http_cookie_value_ok(value)) {
		obs_error("http: invalid cookie dropped");
		return;
	}
	const char *v = max_age == 0 ?
	    arena_printf(r->a, "%s=%s; Path=/; HttpOnly; SameSite=Lax; Secure",
		name, value) :
	    arena_printf(r->a, "%s=%s; Path=/; HttpOnly; SameSite=Lax; Secure; "
		"Max-Age=%lld", name, value, (long long)(max_age > 0 ? max_age : 0));
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
		obs_error("http: invalid redirect target refused");
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
