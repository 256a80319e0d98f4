/*
 * http: router and parser cases, then a real server on 127.0.0.1 (port 0)
 * driven over plain POSIX sockets: methods, forms, limits, UTF-8 refusal,
 * X-Forwarded-For trust, the per-IP limit and keep-alive.
 */
#include "t.h"

#include "../../src/http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- router ------------------------------------------------------------ */

enum { R_HOME, R_ARTICLE, R_COMMENT, R_CAT, R_STATIC, R_LIKE, R_ADMIN };

static const struct http_route routes[] = {
	{ HTTP_GET, "/", R_HOME },
	{ HTTP_GET, "/articles/{id}", R_ARTICLE },
	{ HTTP_POST, "/articles/{id}/comments", R_COMMENT },
	{ HTTP_GET, "/category/{slug}", R_CAT },
	{ HTTP_GET, "/static/{*}", R_STATIC },
	{ HTTP_POST, "/comments/{id}/{slug}", R_LIKE },
	{ HTTP_GET, "/admin/", R_ADMIN },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static bool
route(enum http_method m, const char *path, arena *a, struct http_match *mt)
{
	return http_route(routes, NROUTES, m, path, a, mt);
}

static void
test_router_basic(void)
{
	arena *a = arena_new(0);
	struct http_match m;

	T_CHECK(route(HTTP_GET, "/", a, &m) && m.id == R_HOME);
	T_CHECK(route(HTTP_GET, "/articles/123", a, &m) && m.id == R_ARTICLE);
	T_CHECK(m.nnum == 1 && m.num[0] == 123 && m.nstr == 0);
	T_CHECK(route(HTTP_HEAD, "/articles/7", a, &m) && m.num[0] == 7);
	T_CHECK(route(HTTP_GET, "/articles/0", a, &m) && m.num[0] == 0);
	T_CHECK(route(HTTP_GET, "/articles/999999999999999999", a, &m) &&
	    m.num[0] == 999999999999999999LL);
	T_CHECK(route(HTTP_POST, "/articles/42/comments", a, &m) &&
	    m.id == R_COMMENT && m.num[0] == 42);
	T_CHECK(route(HTTP_POST, "/comments/5/like", a, &m) && m.id == R_LIKE &&
	    m.num[0] == 5 && m.nstr == 1);
	T_STREQ(m.str[0], "like");
	T_CHECK(route(HTTP_GET, "/admin/", a, &m) && m.id == R_ADMIN);
	arena_free(a);
}

static void
test_router_reject(void)
{
	arena *a = arena_new(0);
	struct http_match m;
	static const char *bad[] = {
		"/articles/01", "/articles/abc", "/articles/1/x", "/articles/",
		"/articles", "/articles/-1", "/articles/1a", "/articles/+1",
		"/articles/1000000000000000000", "/articles/1/", "//",
		"/category/", "/category/a/b", "/category/a.b", "/category/a%20b",
		"/admin", "/nope", "", "articles/1", "/category/\xff",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool hit = route(HTTP_GET, bad[i], a, &m);
		if (hit)
			printf("  unexpected match: %s\n", bad[i]);
		T_CHECK(!hit && m.id == -1);
	}
	T_CHECK(!route(HTTP_GET, NULL, a, &m));
	arena_free(a);
}

static void
test_router_captures(void)
{
	arena *a = arena_new(0);
	struct http_match m;
	char longslug[260];

	T_CHECK(route(HTTP_GET, "/category/us-news_2", a, &m) && m.id == R_CAT);
	T_STREQ(m.str[0], "us-news_2");
	T_CHECK(route(HTTP_GET, "/category/米国関連", a, &m));
	T_STREQ(m.str[0], "米国関連");
	T_CHECK(route(HTTP_GET, "/static/css/site.css", a, &m) &&
	    m.id == R_STATIC);
	T_STREQ(m.str[0], "css/site.css");
	T_CHECK(route(HTTP_GET, "/static/", a, &m));
	T_STREQ(m.str[0], "");
	memset(longslug, 'a', sizeof(longslug));
	memcpy(longslug, "/category/", 10);
	longslug[10 + 200] = '\0';
	T_CHECK(route(HTTP_GET, longslug, a, &m));
	longslug[10 + 200] = 'a';
	longslug[10 + 201] = '\0';
	T_CHECK(!route(HTTP_GET, longslug, a, &m));
	arena_free(a);
}

static void
test_router_method(void)
{
	arena *a = arena_new(0);
	struct http_match m;

	T_CHECK(!route(HTTP_POST, "/articles/1", a, &m) && m.method_mismatch);
	T_CHECK(!route(HTTP_GET, "/articles/1/comments", a, &m) &&
	    m.method_mismatch);
	T_CHECK(!route(HTTP_HEAD, "/articles/1/comments", a, &m) &&
	    m.method_mismatch);
	T_CHECK(!route(HTTP_GET, "/nowhere", a, &m) && !m.method_mismatch);
	T_CHECK(!route(HTTP_OTHER, "/", a, &m) && m.method_mismatch);
	T_CHECK(!route(HTTP_POST, "/articles/01", a, &m) && !m.method_mismatch);
	arena_free(a);
}

/* {id} between literal text in one segment (sitemap files, beacon GIFs). */
static void
test_router_affixed(void)
{
	static const struct http_route ar[] = {
		{ HTTP_GET, "/sitemap-{id}.xml", 1 },
		{ HTTP_GET, "/views/{id}.gif", 2 },
		{ HTTP_POST, "/views/{id}", 3 },
		{ HTTP_GET, "/x/{id}/{id}/{id}/{id}/v{id}", 4 },
	};
	static const char *bad[] = {
		"/sitemap-.xml", "/sitemap-01.xml", "/sitemap-1.xm", "/sitemap-1",
		"/sitemap1.xml", "/sitemap-1a.xml", "/sitemap--1.xml",
		"/views/.gif", "/views/1.gif/", "/views/1gif", "/views/x.gif",
		"/x/1/2/3/4/v5",
	};
	arena *a = arena_new(0);
	struct http_match m;
	size_t n = sizeof(ar) / sizeof(ar[0]);

	T_CHECK(http_route(ar, n, HTTP_GET, "/sitemap-12.xml", a, &m) &&
	    m.id == 1 && m.nnum == 1 && m.num[0] == 12);
	T_CHECK(http_route(ar, n, HTTP_HEAD, "/views/7.gif", a, &m) &&
	    m.id == 2 && m.num[0] == 7);
	T_CHECK(http_route(ar, n, HTTP_POST, "/views/7", a, &m) && m.id == 3);
	T_CHECK(!http_route(ar, n, HTTP_POST, "/views/7.gif", a, &m) &&
	    m.method_mismatch);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool hit = http_route(ar, n, HTTP_GET, bad[i], a, &m);
		if (hit)
			printf("  unexpected match: %s\n", bad[i]);
		T_CHECK(!hit);
	}
	arena_free(a);
}

/* ---- urlencoded / cookies / url encode ---------------------------------- */

static bool
parse(const char *s, arena *a, size_t max, struct http_kv **kv, size_t *n)
{
	return http_parse_urlencoded(s, strlen(s), a, max, kv, n);
}

static void
test_urlencoded_ok(void)
{
	arena *a = arena_new(0);
	struct http_kv *kv;
	size_t n;

	T_CHECK(parse("a=1&b=hello+world%21&c=%E6%97%A5%e6%9c%ac", a, 10, &kv,
	    &n) && n == 3);
	T_STREQ(kv[0].name, "a");
	T_STREQ(kv[0].value, "1");
	T_STREQ(kv[1].value, "hello world!");
	T_STREQ(kv[2].value, "日本");
	T_CHECK(kv[2].value_len == 6);

	T_CHECK(parse("flag&&x=&=v&%2B=%3D&a=b=c", a, 10, &kv, &n) && n == 5);
	T_STREQ(kv[0].name, "flag");
	T_STREQ(kv[0].value, "");
	T_STREQ(kv[1].name, "x");
	T_STREQ(kv[1].value, "");
	T_STREQ(kv[2].name, "");
	T_STREQ(kv[2].value, "v");
	T_STREQ(kv[3].name, "+");
	T_STREQ(kv[3].value, "=");
	T_STREQ(kv[4].value, "b=c");

	T_CHECK(parse("", a, 0, &kv, &n) && n == 0);
	T_CHECK(parse("&&&", a, 0, &kv, &n) && n == 0);
	T_CHECK(parse("a=1&b=2", a, 2, &kv, &n) && n == 2);
	T_CHECK(parse("q=日本語", a, 2, &kv, &n) && n == 1);
	T_STREQ(kv[0].value, "日本語");
	arena_free(a);
}

static void
test_urlencoded_bad(void)
{
	arena *a = arena_new(0);
	struct http_kv *kv;
	size_t n;
	static const char *bad[] = {
		"a=%", "a=%4", "a=%zz", "a=%4g", "%=1", "a=%00", "a%00=1",
		"a=%FF", "a=%C3%28", "a=%ED%A0%80", "a=%C0%AF", "a=\xff",
		"a=%F4%90%80%80", "ok=1&bad=%E6%97",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool ok = parse(bad[i], a, 10, &kv, &n);
		if (ok)
			printf("  accepted: %s\n", bad[i]);
		T_CHECK(!ok && n == 0 && kv == NULL);
	}
	T_CHECK(!parse("a=1&b=2&c=3", a, 2, &kv, &n));
	T_CHECK(!http_parse_urlencoded("a=1\0b", 5, a, 10, &kv, &n));
	T_CHECK(http_parse_urlencoded("a=1\0b", 3, a, 10, &kv, &n) && n == 1);
	arena_free(a);
}

static void
test_cookies(void)
{
	arena *a = arena_new(0);
	struct http_kv *kv;
	size_t n;

	http_parse_cookies("sid=abc123; theme=dark;x=\"q v\" ;  e=", a, &kv, &n);
	T_CHECK(n == 4);
	if (n == 4) {
		T_STREQ(kv[0].name, "sid");
		T_STREQ(kv[0].value, "abc123");
		T_STREQ(kv[1].name, "theme");
		T_STREQ(kv[1].value, "dark");
		T_STREQ(kv[2].value, "q v");
		T_STREQ(kv[3].name, "e");
		T_STREQ(kv[3].value, "");
	}
	/* malformed pairs are skipped, good ones kept */
	http_parse_cookies("noeq; =v; b@d=1; ok=1; ctl=\x01x; bin=\xff\xfe; "
	    "u=日本", a, &kv, &n);
	T_CHECK(n == 2);
	if (n == 2) {
		T_STREQ(kv[0].name, "ok");
		T_STREQ(kv[1].value, "日本");
	}
	http_parse_cookies("", a, &kv, &n);
	T_CHECK(n == 0);
	http_parse_cookies(";;;", a, &kv, &n);
	T_CHECK(n == 0);
	http_parse_cookies(NULL, a, &kv, &n);
	T_CHECK(n == 0);

	/* more than the cap: cut, never overflow */
	buf b;
	buf_init(&b, 0);
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "c%d=%d; ", i, i);
	http_parse_cookies(buf_cstr(&b), a, &kv, &n);
	T_CHECK(n > 0 && n <= 256);
	T_STREQ(kv[0].name, "c0");
	buf_free(&b);
	arena_free(a);
}

static void
test_url_encode(void)
{
	buf b;
	arena *a = arena_new(0);
	struct http_kv *kv;
	size_t n;
	const char *s = "日本 a/b&c=d?e#f%+~._-";

	buf_init(&b, 0);
	http_url_encode(&b, "abc-._~XYZ09", 12);
	T_STREQ(buf_cstr(&b), "abc-._~XYZ09");
	buf_reset(&b);
	http_url_encode(&b, "a b/c", 5);
	T_STREQ(buf_cstr(&b), "a%20b%2Fc");
	buf_reset(&b);
	buf_puts(&b, "k=");
	http_url_encode(&b, s, strlen(s));
	T_CHECK(parse(buf_cstr(&b), a, 4, &kv, &n) && n == 1);
	T_STREQ(kv[0].value, s);
	buf_free(&b);
	arena_free(a);
}

static void
test_resp_helpers(void)
{
	struct http_req r = { .a = arena_new(0) };
	struct http_resp w = { 0 };

	buf_init(&w.body, 0);
	http_resp_cookie(&r, &w, "sid", "abc", 3600);
	http_resp_cookie(&r, &w, "tmp", "x", 0);
	http_resp_cookie(&r, &w, "old", "", -1);
	http_resp_cookie(&r, &w, "bad name", "x", 0);
	http_resp_cookie(&r, &w, "ok", "a;b", 0);
	http_resp_cookie(&r, &w, "ok", "a\r\nX: y", 0);
	T_CHECK(w.nheaders == 3);
	if (w.nheaders == 3) {
		T_STREQ(w.headers[0], "Set-Cookie: sid=abc; Path=/; HttpOnly; "
		    "SameSite=Lax; Max-Age=3600");
		T_STREQ(w.headers[1], "Set-Cookie: tmp=x; Path=/; HttpOnly; "
		    "SameSite=Lax");
		T_STREQ(w.headers[2], "Set-Cookie: old=; Path=/; HttpOnly; "
		    "SameSite=Lax; Max-Age=0");
	}
	http_resp_header(&r, &w, "X-A", "1\r\nSet-Cookie: evil=1");
	http_resp_header(&r, &w, "X:B", "1");
	T_CHECK(w.nheaders == 3);
	http_resp_header(&r, &w, "X-Frame-Options", "DENY");
	T_CHECK(w.nheaders == 4);

	struct http_resp w2 = { 0 };
	buf_init(&w2.body, 0);
	http_resp_redirect(&r, &w2, 303, "/articles/1#comment-5");
	T_CHECK(w2.status == 303 && w2.nheaders == 1);
	T_STREQ(w2.headers[0], "Location: /articles/1#comment-5");
	static const char *bad[] = {
		"//evil.example/", "/\\evil.example", "javascript:alert(1)",
		"/a\r\nSet-Cookie: x=1", "evil.example", "", "/a b",
		"ftp://x/", "/日本",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct http_resp w3 = { 0 };
		buf_init(&w3.body, 0);
		http_resp_redirect(&r, &w3, 302, bad[i]);
		T_CHECK(w3.status == 500 && w3.nheaders == 0);
		buf_free(&w3.body);
	}
	struct http_resp w4 = { 0 };
	buf_init(&w4.body, 0);
	http_resp_redirect(&r, &w4, 200, "https://example.com/x?y=1");
	T_CHECK(w4.status == 303 && w4.nheaders == 1);
	buf_free(&w.body);
	buf_free(&w2.body);
	buf_free(&w4.body);
	arena_free(r.a);
}

/* ---- real server ---------------------------------------------------------- */

static _Atomic int handler_calls;

/* Echoes what the handler was given; a few paths exercise responses. */
static void
echo_handler(void *ctx, struct http_req *r, struct http_resp *w)
{
	handler_calls++;
	const char *f = http_req_field(r, "f");
	const char *q = http_req_arg(r, "q");
	const char *c = http_req_cookie(r, "sid");
	const char *ua = http_req_header(r, "user-agent");

	if (strcmp(r->path, "/redirect") == 0) {
		http_resp_redirect(r, w, 303, "/done");
		return;
	}
	if (strcmp(r->path, "/file") == 0) {
		w->file_path = "t.h";
		w->content_type = "text/plain; charset=utf-8";
		return;
	}
	if (strcmp(r->path, "/nofile") == 0) {
		w->file_path = "does-not-exist";
		return;
	}
	if (strcmp(r->path, "/cookie") == 0)
		http_resp_cookie(r, w, "sid", "v1", 60);
	w->content_type = "text/plain; charset=utf-8";
	buf_printf(&w->body, "path=%s\nip=%s\npeer=%s\nm=%d\nf=%s\nq=%s\n"
	    "sid=%s\nua=%s\nbody=%zu:%.*s\nnform=%zu\nfile=%s\nquery=%s\n",
	    r->path, r->ip, r->peer_ip, (int)r->method, f ? f : "-",
	    q ? q : "-", c ? c : "-", ua ? ua : "-", r->body_len,
	    (int)(r->body_len > 40 ? 40 : r->body_len), r->body, r->nform,
	    http_req_field(r, "up") ? http_req_field(r, "up") : "-",
	    r->query);
	T_CHECK(r->now > 1600000000);
}

struct resp {
	int status;
	char head[8192];
	buf body;
	bool closed; /* server closed the connection after the response */
};

static int
tcp_connect(unsigned port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool
send_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	while (n > 0) {
		ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
		if (k <= 0)
			return false;
		s += k;
		n -= (size_t)k;
	}
	return true;
}

/* recv with a deadline: >0 bytes, 0 EOF, -1 error or timeout. */
static ssize_t
recv_wait(int fd, char *p, size_t n, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, ms) <= 0)
		return -1;
	return recv(fd, p, n, 0);
}

/*
 * Reads one response: the head up to the blank line, then Content-Length
 * bytes (none when head_only). Every wait is bounded (3 s). Returns the
 * status, 0 when the connection closed before a head, -1 on timeout.
 */
static int
read_resp(int fd, struct resp *r, bool head_only)
{
	size_t hl = 0;
	char *end = NULL;

	memset(r->head, 0, sizeof(r->head));
	buf_init(&r->body, 0);
	r->status = 0;
	r->closed = false;
	/* byte at a time for the head: simple, and leaves the body unread */
	while (hl < sizeof(r->head) - 1) {
		ssize_t k = recv_wait(fd, r->head + hl, 1, 3000);
		if (k == 0 || (k < 0 && errno == ECONNRESET)) {
			r->closed = true;
			return 0;
		}
		if (k < 0)
			return -1;
		hl++;
		if (hl >= 4 && memcmp(r->head + hl - 4, "\r\n\r\n", 4) == 0) {
			end = r->head + hl;
			break;
		}
	}
	if (end == NULL)
		return -1;
	sscanf(r->head, "HTTP/1.%*d %d", &r->status);
	const char *cl = strcasestr(r->head, "\r\nContent-Length:");
	size_t want = cl ? strtoul(cl + 17, NULL, 10) : 0;
	if (head_only)
		want = 0;
	while (r->body.len < want) {
		char tmp[4096];
		size_t n = want - r->body.len;
		ssize_t k = recv_wait(fd, tmp, n < sizeof(tmp) ? n : sizeof(tmp),
		    3000);
		if (k <= 0)
			return -1;
		buf_put(&r->body, tmp, (size_t)k);
	}
	return r->status;
}

/* Whether the peer closes fd within ms (EOF or reset) with no more data. */
static bool
closes_soon(int fd, int ms)
{
	char c;
	ssize_t k = recv_wait(fd, &c, 1, ms);
	return k == 0 || (k < 0 && errno == ECONNRESET);
}

/* One request on a fresh connection; the response into r. */
static int
do_req(unsigned port, const char *req, size_t n, struct resp *r)
{
	int fd = tcp_connect(port);
	int st = -1;

	memset(r, 0, sizeof(*r));
	buf_init(&r->body, 0);
	if (fd < 0)
		return -1;
	if (send_all(fd, req, n))
		st = read_resp(fd, r, strncmp(req, "HEAD ", 5) == 0);
	close(fd);
	return st;
}

static int
get(unsigned port, const char *target, struct resp *r)
{
	char req[2048];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n"
	    "User-Agent: kiji-test\r\nConnection: close\r\n\r\n", target);
	return do_req(port, req, (size_t)n, r);
}

static int
post(unsigned port, const char *path, const char *ctype, const char *extra,
    const char *body, size_t blen, struct resp *r)
{
	buf b;
	int st;

	buf_init(&b, 0);
	buf_printf(&b, "POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n%s\r\n", path, ctype,
	    blen, extra ? extra : "");
	buf_put(&b, body, blen);
	st = do_req(port, b.ptr, b.len, r);
	buf_free(&b);
	return st;
}

static bool
has(struct resp *r, const char *needle)
{
	return strstr(buf_cstr(&r->body), needle) != NULL;
}

static http_server *srv_plain;   /* untrusted peers, no per-IP limit */
static http_server *srv_trusted; /* 127.0.0.1 trusted, per-IP limit 2 */
static http_server *srv_limited; /* untrusted, per-IP limit 2 */
static unsigned port_plain, port_trusted, port_limited;

static http_server *
start(const char *proxies, unsigned per_ip)
{
	struct http_config cfg = {
		.listen = "127.0.0.1:0",
		.threads = 2,
		.conn_timeout = 10,
		.per_ip_limit = per_ip,
		.max_body = 64 << 10,
		.max_fields = 16,
		.max_field_len = 1024,
		.trusted_proxies = proxies,
	};
	buf err;
	buf_init(&err, 0);
	http_server *s = http_start(&cfg, echo_handler, NULL, &err);
	if (s == NULL)
		printf("http_start: %s\n", buf_cstr(&err));
	buf_free(&err);
	return s;
}

static void
test_start_errors(void)
{
	static const char *bad[] = {
		"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "::1:80",
		"[::1]80", "[::1", "127.0.0.1:8x", "no.such.host.invalid:80",
		"[127.0.0.1]:80",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct http_config cfg = { .listen = bad[i] };
		buf err;
		buf_init(&err, 0);
		http_server *s = http_start(&cfg, echo_handler, NULL, &err);
		T_CHECK(s == NULL && err.len > 0);
		http_stop(s);
		buf_free(&err);
	}
	struct http_config cfg = { .listen = "127.0.0.1:0",
		.trusted_proxies = "127.0.0.1 not-an-ip" };
	buf err;
	buf_init(&err, 0);
	T_CHECK(http_start(&cfg, echo_handler, NULL, &err) == NULL);
	T_CHECK(strstr(buf_cstr(&err), "not-an-ip") != NULL);
	buf_free(&err);
	http_stop(NULL);
	T_CHECK(http_port(NULL) == 0);
}

static void
test_ipv6_listen(void)
{
	struct http_config cfg = { .listen = "[::1]:0", .threads = 1 };
	buf err;
	buf_init(&err, 0);
	http_server *s = http_start(&cfg, echo_handler, NULL, &err);
	/* hosts without IPv6 loopback cannot bind; that is not a failure */
	if (s != NULL)
		T_CHECK(http_port(s) != 0);
	http_stop(s);
	buf_free(&err);
}

static void
test_get(void)
{
	struct resp r;

	T_CHECK(port_plain != 0);
	T_CHECK(get(port_plain, "/hello/%E6%97%A5?q=a+b%26c&x", &r) == 200);
	T_CHECK(has(&r, "path=/hello/日\n"));
	T_CHECK(has(&r, "q=a b&c\n"));
	T_CHECK(has(&r, "query=q=a+b%26c&x\n"));
	T_CHECK(has(&r, "ip=127.0.0.1\npeer=127.0.0.1\n"));
	T_CHECK(has(&r, "m=0\n"));
	T_CHECK(has(&r, "ua=kiji-test\n"));
	T_CHECK(strcasestr(r.head, "\r\nX-Content-Type-Options: nosniff\r\n"));
	T_CHECK(strcasestr(r.head, "\r\nContent-Type: text/plain; charset=utf-8"));
	buf_free(&r.body);

	T_CHECK(get(port_plain, "/cookie", &r) == 200);
	T_CHECK(strcasestr(r.head, "\r\nSet-Cookie: sid=v1; Path=/; HttpOnly; "
	    "SameSite=Lax; Max-Age=60\r\n"));
	buf_free(&r.body);

	T_CHECK(get(port_plain, "/redirect", &r) == 303);
	T_CHECK(strcasestr(r.head, "\r\nLocation: /done\r\n"));
	buf_free(&r.body);

	T_CHECK(get(port_plain, "/file", &r) == 200);
	T_CHECK(has(&r, "KIJI_T_H"));
	buf_free(&r.body);
	T_CHECK(get(port_plain, "/nofile", &r) == 404);
	buf_free(&r.body);

	/* absolute-form target */
	T_CHECK(get(port_plain, "http://example.com/abs?q=1", &r) == 200);
	T_CHECK(has(&r, "path=/abs\n"));
	buf_free(&r.body);
}

static void
test_cookie_header(void)
{
	struct resp r;
	const char *req = "GET / HTTP/1.1\r\nHost: t\r\nCookie: a=1; sid=xyz\r\n"
	    "Cookie: b=2\r\nConnection: close\r\n\r\n";

	T_CHECK(do_req(port_plain, req, strlen(req), &r) == 200);
	T_CHECK(has(&r, "sid=xyz\n"));
	buf_free(&r.body);

	req = "GET / HTTP/1.1\r\nHost: t\r\nCookie: sid=\xff\xfe\r\n"
	    "Connection: close\r\n\r\n";
	T_CHECK(do_req(port_plain, req, strlen(req), &r) == 400);
	buf_free(&r.body);
}

static void
test_head(void)
{
	int fd = tcp_connect(port_plain);
	const char *req = "HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n";
	struct resp r;

	T_CHECK(fd >= 0);
	T_CHECK(send_all(fd, req, strlen(req)));
	T_CHECK(read_resp(fd, &r, true) == 200);
	const char *cl = strcasestr(r.head, "\r\nContent-Length:");
	T_CHECK(cl != NULL && strtoul(cl + 17, NULL, 10) > 0);
	/* no body follows: the next bytes are the next response's head */
	req = "GET /second HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	T_CHECK(send_all(fd, req, strlen(req)));
	buf_free(&r.body);
	T_CHECK(read_resp(fd, &r, false) == 200);
	T_CHECK(has(&r, "path=/second\n"));
	T_CHECK(strncmp(r.head, "HTTP/1.1 200", 12) == 0);
	buf_free(&r.body);
	close(fd);
}

static void
test_keepalive(void)
{
	int fd = tcp_connect(port_plain);
	const char *req = "GET /one HTTP/1.1\r\nHost: t\r\n\r\n";
	struct resp r;

	T_CHECK(send_all(fd, req, strlen(req)));
	T_CHECK(read_resp(fd, &r, false) == 200);
	T_CHECK(has(&r, "path=/one\n"));
	buf_free(&r.body);
	req = "GET /two HTTP/1.1\r\nHost: t\r\n\r\n";
	T_CHECK(send_all(fd, req, strlen(req)));
	T_CHECK(read_resp(fd, &r, false) == 200);
	T_CHECK(has(&r, "path=/two\n"));
	buf_free(&r.body);
	/* a refused request without a body keeps the connection too */
	req = "GET /%FF HTTP/1.1\r\nHost: t\r\n\r\n";
	T_CHECK(send_all(fd, req, strlen(req)));
	T_CHECK(read_resp(fd, &r, false) == 400);
	buf_free(&r.body);
	req = "POST /three HTTP/1.1\r\nHost: t\r\nContent-Type: "
	    "application/x-www-form-urlencoded\r\nContent-Length: 5\r\n\r\nf=abc";
	T_CHECK(send_all(fd, req, strlen(req)));
	T_CHECK(read_resp(fd, &r, false) == 200);
	T_CHECK(has(&r, "path=/three\n") && has(&r, "f=abc\n"));
	buf_free(&r.body);
	close(fd);
}

static void
test_post_forms(void)
{
	struct resp r;
	const char *body = "f=hello+world%21&q=x&f=second";

	T_CHECK(post(port_plain, "/c", "application/x-www-form-urlencoded",
	    NULL, body, strlen(body), &r) == 200);
	T_CHECK(has(&r, "f=hello world!\n"));
	T_CHECK(has(&r, "nform=3\n"));
	T_CHECK(has(&r, "m=2\n"));
	buf_free(&r.body);

	body = "flag&f=1&e=&q=%2B%26";
	T_CHECK(post(port_plain, "/c", "application/x-www-form-urlencoded",
	    NULL, body, strlen(body), &r) == 200);
	T_CHECK(has(&r, "f=1\n"));
	T_CHECK(has(&r, "nform=4\n"));
	buf_free(&r.body);

	body = "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"f\"\r\n\r\n"
	    "日本語のコメント\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"up\"; filename=\"a.txt\"\r\n"
	    "Content-Type: text/plain\r\n\r\n"
	    "file body\r\n"
	    "--XyZ--\r\n";
	T_CHECK(post(port_plain, "/m", "multipart/form-data; boundary=XyZ",
	    NULL, body, strlen(body), &r) == 200);
	T_CHECK(has(&r, "f=日本語のコメント\n"));
	T_CHECK(has(&r, "file=file body\n"));
	T_CHECK(has(&r, "nform=2\n"));
	buf_free(&r.body);

	/* a field arriving in several pieces is joined */
	buf b;
	buf_init(&b, 0);
	buf_puts(&b, "a=1&f=");
	for (int i = 0; i < 1000; i++)
		buf_puts(&b, i % 2 ? "%E6%97%A5" : "x");
	T_CHECK(post(port_plain, "/big", "application/x-www-form-urlencoded",
	    NULL, b.ptr, b.len, &r) == 413); /* 500*3+500 > 1024 */
	buf_free(&r.body);
	buf_reset(&b);
	buf_puts(&b, "f=");
	for (int i = 0; i < 300; i++)
		buf_puts(&b, "%E6%97%A5");
	T_CHECK(post(port_plain, "/big", "application/x-www-form-urlencoded",
	    NULL, b.ptr, b.len, &r) == 200);
	T_CHECK(has(&r, "f=日日日"));
	T_CHECK(r.body.len > 900);
	buf_free(&r.body);
	buf_free(&b);

	body = "{\"a\":[1,2]}";
	T_CHECK(post(port_plain, "/api", "application/json", NULL, body,
	    strlen(body), &r) == 200);
	T_CHECK(has(&r, "body=11:{\"a\":[1,2]}\n"));
	T_CHECK(has(&r, "nform=0\n"));
	buf_free(&r.body);

	T_CHECK(post(port_plain, "/empty", "application/x-www-form-urlencoded",
	    NULL, "", 0, &r) == 200);
	T_CHECK(has(&r, "nform=0\n"));
	buf_free(&r.body);

	T_CHECK(post(port_plain, "/m", "multipart/form-data", NULL, "x", 1,
	    &r) == 400);
	buf_free(&r.body);
}

static void
test_bad_input(void)
{
	struct resp r;
	int calls = handler_calls;
	static const char *targets[] = {
		"/%FF", "/a%C3%28", "/%00", "/a%zz", "/a/../etc/passwd", "/./x",
		"/x?q=%FF", "/x?q=%", "/x?a=%00", "/x\xff", "/%ED%A0%80",
		"/x%0Ay",
	};
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		int st = get(port_plain, targets[i], &r);
		if (st != 400)
			printf("  %s -> %d\n", targets[i], st);
		T_CHECK(st == 400);
		buf_free(&r.body);
	}
	T_CHECK(get(port_plain, "/%FF", &r) == 400);
	T_CHECK(has(&r, "不正な文字コードです"));
	T_CHECK(strcasestr(r.head, "\r\nContent-Type: text/html; charset=utf-8"));
	buf_free(&r.body);

	const char *body = "f=%C3%28";
	T_CHECK(post(port_plain, "/c", "application/x-www-form-urlencoded",
	    NULL, body, strlen(body), &r) == 400);
	T_CHECK(has(&r, "不正な文字コードです"));
	buf_free(&r.body);
	body = "f=a%00b";
	T_CHECK(post(port_plain, "/c", "application/x-www-form-urlencoded",
	    NULL, body, strlen(body), &r) == 400);
	buf_free(&r.body);
	body = "--BnD\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n"
	    "\xff\xfe\r\n--BnD--\r\n";
	T_CHECK(post(port_plain, "/m", "multipart/form-data; boundary=BnD",
	    NULL, body, strlen(body), &r) == 400);
	T_CHECK(has(&r, "不正な文字コードです"));
	buf_free(&r.body);

	/* too many fields (max 16) in the body and in the query */
	buf b;
	buf_init(&b, 0);
	for (int i = 0; i < 17; i++)
		buf_printf(&b, "k%d=%d&", i, i);
	T_CHECK(post(port_plain, "/c", "application/x-www-form-urlencoded",
	    NULL, b.ptr, b.len, &r) == 400);
	T_CHECK(has(&r, "入力項目が多すぎます"));
	buf_free(&r.body);
	buf_reset(&b);
	buf_puts(&b, "/x?");
	for (int i = 0; i < 17; i++)
		buf_printf(&b, "k%d=%d&", i, i);
	T_CHECK(get(port_plain, b.ptr, &r) == 400);
	buf_free(&r.body);

	/* a head too big for the connection's memory: MHD refuses it */
	buf_reset(&b);
	buf_puts(&b, "GET / HTTP/1.1\r\nHost: t\r\nX-Big: ");
	for (int i = 0; i < 100000; i++)
		buf_putc(&b, 'a');
	buf_puts(&b, "\r\nConnection: close\r\n\r\n");
	int st = do_req(port_plain, b.ptr, b.len, &r);
	T_CHECK(st == 431 || st == 0 || st == 413 || st == 400);
	buf_free(&r.body);
	buf_free(&b);

	/* HEAD of a refused request: the status, no body */
	const char *req = "HEAD /%FF HTTP/1.1\r\nHost: t\r\nConnection: close"
	    "\r\n\r\n";
	int fd = tcp_connect(port_plain);
	T_CHECK(fd >= 0 && send_all(fd, req, strlen(req)));
	T_CHECK(read_resp(fd, &r, true) == 400);
	T_CHECK(closes_soon(fd, 3000)); /* EOF, not body bytes */
	close(fd);
	buf_free(&r.body);

	T_CHECK(handler_calls == calls); /* no refused request got through */
	T_CHECK(get(port_plain, "/fine", &r) == 200);
	T_CHECK(handler_calls == calls + 1);
	buf_free(&r.body);
}

static void
test_method(void)
{
	struct resp r;
	const char *req = "DELETE /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
	    "\r\n";

	T_CHECK(do_req(port_plain, req, strlen(req), &r) == 405);
	T_CHECK(strcasestr(r.head, "\r\nAllow: GET, HEAD, POST\r\n"));
	buf_free(&r.body);
	req = "BREW /pot HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello";
	T_CHECK(do_req(port_plain, req, strlen(req), &r) == 405);
	buf_free(&r.body);
}

/* Waits up to ms for fd to become readable. */
static bool
readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	return poll(&pfd, 1, ms) > 0;
}

/*
 * Sends a 2 MB body in 16 KiB pieces, pausing for the server's answer
 * after the head and between pieces, and stops once it comes or writing
 * fails. Returns the status read (0: closed without an answer); *sent
 * tells how much of the body went out.
 */
static int
big_upload(unsigned port, bool chunked, size_t *sent)
{
	size_t total = 2u << 20;
	static char piece[16384];
	char head[512];
	struct resp r;
	int fd = tcp_connect(port), st = -1;

	*sent = 0;
	memset(&r, 0, sizeof(r));
	memset(piece, 'a', sizeof(piece));
	if (chunked)
		snprintf(head, sizeof(head), "POST /up HTTP/1.1\r\nHost: t\r\n"
		    "Content-Type: application/octet-stream\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n");
	else
		snprintf(head, sizeof(head), "POST /up HTTP/1.1\r\nHost: t\r\n"
		    "Content-Type: application/x-www-form-urlencoded\r\n"
		    "Content-Length: %zu\r\n\r\n", total);
	if (fd < 0 || !send_all(fd, head, strlen(head)))
		goto out;
	if (!readable(fd, 300)) {
		while (*sent < total && !readable(fd, 2)) {
			char ch[16];
			int n = snprintf(ch, sizeof(ch), "%zx\r\n", sizeof(piece));
			if ((chunked && !send_all(fd, ch, (size_t)n)) ||
			    !send_all(fd, piece, sizeof(piece)) ||
			    (chunked && !send_all(fd, "\r\n", 2)))
				break;
			*sent += sizeof(piece);
		}
	}
	st = read_resp(fd, &r, false);
	if (st == 413) {
		T_CHECK(strstr(buf_cstr(&r.body), "送信データが大きすぎます"));
		T_CHECK(closes_soon(fd, 3000));
	}
	buf_free(&r.body);
out:
	if (fd >= 0)
		close(fd);
	return st;
}

static void
test_body_limit(void)
{
	struct resp r;
	size_t sent;

	/* declared length over the limit: 413 before any body is sent */
	T_CHECK(big_upload(port_plain, false, &sent) == 413);
	T_CHECK(sent == 0);
	T_CHECK(get(port_plain, "/after", &r) == 200);
	buf_free(&r.body);
	/* chunked: dropped (MHD 0.9.75 cannot answer mid-body) once past
	 * 64 KiB, long before the 2 MB are through */
	T_CHECK(big_upload(port_plain, true, &sent) == 0);
	T_CHECK(sent > (64u << 10) && sent < (1u << 20));
	T_CHECK(get(port_plain, "/after2", &r) == 200);
	T_CHECK(has(&r, "path=/after2\n"));
	buf_free(&r.body);
	/* chunked within the limit is fine */
	const char *req = "POST /ch HTTP/1.1\r\nHost: t\r\nContent-Type: "
	    "application/json\r\nTransfer-Encoding: chunked\r\n"
	    "Connection: close\r\n\r\n3\r\n{\"a\r\n2\r\n\":\r\n2\r\n1}\r\n0\r\n\r\n";
	T_CHECK(do_req(port_plain, req, strlen(req), &r) == 200);
	T_CHECK(has(&r, "body=7:{\"a\":1}\n"));
	buf_free(&r.body);
}

/* A refusal found while reading a form body is answered after the body,
 * and the connection stays usable. */
static void
test_field_limits_keepalive(void)
{
	int fd = tcp_connect(port_plain);
	struct resp r;
	buf b;

	buf_init(&b, 0);
	buf_puts(&b, "f=");
	for (int i = 0; i < 2000; i++)
		buf_putc(&b, 'x');
	char head[256];
	snprintf(head, sizeof(head), "POST /c HTTP/1.1\r\nHost: t\r\n"
	    "Content-Type: application/x-www-form-urlencoded\r\n"
	    "Content-Length: %zu\r\n\r\n", b.len);
	T_CHECK(send_all(fd, head, strlen(head)) && send_all(fd, b.ptr, b.len));
	T_CHECK(read_resp(fd, &r, false) == 413);
	T_CHECK(has(&r, "入力が長すぎます"));
	buf_free(&r.body);
	const char *req = "GET /still HTTP/1.1\r\nHost: t\r\n\r\n";
	T_CHECK(send_all(fd, req, strlen(req)));
	T_CHECK(read_resp(fd, &r, false) == 200);
	T_CHECK(has(&r, "path=/still\n"));
	buf_free(&r.body);
	buf_free(&b);
	close(fd);
}

static void
test_forwarded_for(void)
{
	struct resp r;
	const char *req = "GET /ip HTTP/1.1\r\nHost: t\r\n"
	    "X-Forwarded-For: 203.0.113.7, 10.0.0.1\r\nConnection: close\r\n\r\n";

	/* untrusted peer: header ignored */
	T_CHECK(do_req(port_plain, req, strlen(req), &r) == 200);
	T_CHECK(has(&r, "ip=127.0.0.1\n"));
	buf_free(&r.body);
	/* trusted peer: right-most untrusted entry */
	T_CHECK(do_req(port_trusted, req, strlen(req), &r) == 200);
	T_CHECK(has(&r, "ip=10.0.0.1\npeer=127.0.0.1\n"));
	buf_free(&r.body);
	req = "GET /ip HTTP/1.1\r\nHost: t\r\n"
	    "X-Forwarded-For: 198.51.100.1, 203.0.113.7, 127.0.0.1\r\n"
	    "Connection: close\r\n\r\n";
	T_CHECK(do_req(port_trusted, req, strlen(req), &r) == 200);
	T_CHECK(has(&r, "ip=203.0.113.7\n"));
	buf_free(&r.body);
	req = "GET /ip HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 1.2.3.4\r\n"
	    "X-Forwarded-For: 2001:db8::1\r\nConnection: close\r\n\r\n";
	T_CHECK(do_req(port_trusted, req, strlen(req), &r) == 200);
	T_CHECK(has(&r, "ip=2001:db8::1\n"));
	buf_free(&r.body);
	req = "GET /ip HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: <script>\r\n"
	    "Connection: close\r\n\r\n";
	T_CHECK(do_req(port_trusted, req, strlen(req), &r) == 200);
	T_CHECK(has(&r, "ip=127.0.0.1\n"));
	buf_free(&r.body);
	T_CHECK(get(port_trusted, "/ip", &r) == 200);
	T_CHECK(has(&r, "ip=127.0.0.1\n"));
	buf_free(&r.body);
}

/* Opens a connection and completes one keep-alive request on it, so the
 * server has surely accepted (and counted) it. -1 when refused. */
static int
open_held(unsigned port)
{
	const char *req = "GET /held HTTP/1.1\r\nHost: t\r\n\r\n";
	struct resp r;
	int fd = tcp_connect(port);

	if (fd < 0)
		return -1;
	if (!send_all(fd, req, strlen(req)) || read_resp(fd, &r, false) != 200) {
		buf_free(&r.body);
		close(fd);
		return -1;
	}
	buf_free(&r.body);
	return fd;
}

static void
test_per_ip_limit(void)
{
	int a = open_held(port_limited), b = open_held(port_limited);
	int c = open_held(port_limited);

	T_CHECK(a >= 0 && b >= 0);
	T_CHECK(c < 0); /* third simultaneous connection refused */
	if (b >= 0)
		close(b);
	/* the slot comes back once the server sees the close */
	int d = -1;
	for (int i = 0; i < 50 && d < 0; i++) {
		d = open_held(port_limited);
		if (d < 0) {
			struct timespec ts = { 0, 50 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	T_CHECK(d >= 0);
	if (a >= 0)
		close(a);
	if (d >= 0)
		close(d);

	/* trusted proxy address: exempt */
	int fds[4];
	for (int i = 0; i < 4; i++) {
		fds[i] = open_held(port_trusted);
		T_CHECK(fds[i] >= 0);
	}
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int
main(void)
{
	T_RUN(test_router_basic);
	T_RUN(test_router_reject);
	T_RUN(test_router_captures);
	T_RUN(test_router_method);
	T_RUN(test_router_affixed);
	T_RUN(test_urlencoded_ok);
	T_RUN(test_urlencoded_bad);
	T_RUN(test_cookies);
	T_RUN(test_url_encode);
	T_RUN(test_resp_helpers);
	T_RUN(test_start_errors);
	T_RUN(test_ipv6_listen);

	srv_plain = start("", 0);
	srv_trusted = start("127.0.0.1 ::1", 2);
	srv_limited = start(NULL, 2);
	port_plain = http_port(srv_plain);
	port_trusted = http_port(srv_trusted);
	port_limited = http_port(srv_limited);
	if (srv_plain && srv_trusted && srv_limited) {
		T_RUN(test_get);
		T_RUN(test_cookie_header);
		T_RUN(test_head);
		T_RUN(test_keepalive);
		T_RUN(test_post_forms);
		T_RUN(test_bad_input);
		T_RUN(test_method);
		T_RUN(test_body_limit);
		T_RUN(test_field_limits_keepalive);
		T_RUN(test_forwarded_for);
		T_RUN(test_per_ip_limit);
	} else {
		t_fail++;
	}
	http_stop(srv_plain);
	http_stop(srv_trusted);
	http_stop(srv_limited);
	T_DONE();
}
