/*
 * net/: the address policy (every refused range, IPv4-mapped forms),
 * URL refusals, net_fetch against a real HTTP server on loopback run in
 * a thread of this test (headers, size cap, redirects, a redirect to
 * loopback refused at connect time, per-host budget, timeout, POST),
 * endpoint discovery, the links-to check, outgoing links, source
 * summaries, and XML-RPC / TrackBack parsing and writing.
 */
#include "../../src/net/net.h"
#include "t.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- a small HTTP server ------------------------------------------------- */

static int srv_fd[2];     /* listening: [0] the "remote site", [1] plain */
static int srv_port[2];
static atomic_bool srv_stop;
static pthread_t srv_thr;
static atomic_int srv_hits;

static void
srv_send(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void
srv_reply(int fd, const char *status, const char *headers, const char *body,
    size_t blen)
{
	char h[2048];
	int n = snprintf(h, sizeof(h), "HTTP/1.1 %s\r\nConnection: close\r\n"
	    "Content-Length: %zu\r\n%s\r\n", status, blen, headers);
	srv_send(fd, h, (size_t)n);
	srv_send(fd, body, blen);
}

/* One request: read it whole (bounded), answer by path. */
static void
srv_handle(int fd, int which)
{
	char req[16384], path[512], method[16], hdr[1024];
	size_t n = 0;
	char *end = NULL;

	for (int i = 0; i < 100 && n < sizeof(req) - 1; i++) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 2000) <= 0)
			return;
		ssize_t r = recv(fd, req + n, sizeof(req) - 1 - n, 0);
		if (r <= 0)
			return;
		n += (size_t)r;
		req[n] = '\0';
		if ((end = strstr(req, "\r\n\r\n")) != NULL) {
			const char *cl = strcasestr(req, "content-length:");
			size_t want = cl ? (size_t)atol(cl + 15) : 0;
			if (n - (size_t)(end + 4 - req) >= want)
				break;
		}
	}
	if (end == NULL || sscanf(req, "%15s %511s", method, path) != 2)
		return;
	atomic_fetch_add(&srv_hits, 1);
	if (strcmp(path, "/ok") == 0) {
		srv_reply(fd, "200 OK",
		    "Content-Type: text/html; charset=utf-8\r\n"
		    "Link: </wm>; rel=\"webmention\"\r\n"
		    "link: <https://example.org/a>; rel=alternate\r\n"
		    "X-Pingback: http://example.org/xmlrpc\r\n",
		    "<p>hello</p>", 12);
	} else if (strcmp(path, "/big") == 0 || strcmp(path, "/exact") == 0) {
		static char big[5000];
		memset(big, 'x', sizeof(big));
		srv_reply(fd, "200 OK", "", big,
		    path[1] == 'b' ? sizeof(big) : 1000);
	} else if (strcmp(path, "/stream") == 0) {
		/* no Content-Length: only the write callback can stop it */
		static char chunk[1000];
		memset(chunk, 'y', sizeof(chunk));
		const char *h = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
		srv_send(fd, h, strlen(h));
		for (int i = 0; i < 50; i++)
			srv_send(fd, chunk, sizeof(chunk));
	} else if (strncmp(path, "/redir/", 7) == 0) {
		int k = atoi(path + 7);
		if (k <= 0) {
			srv_reply(fd, "200 OK", "Content-Type: text/plain\r\n",
			    "end", 3);
		} else {
			snprintf(hdr, sizeof(hdr), "Location: /redir/%d\r\n"
			    "Link: </hop>; rel=webmention\r\n"
			    "X-Pingback: /hop\r\n", k - 1);
			srv_reply(fd, "302 Found", hdr, "", 0);
		}
	} else if (strcmp(path, "/to-loop") == 0) {
		snprintf(hdr, sizeof(hdr),
		    "Location: http://127.0.0.1:%d/ok\r\n", srv_port[1]);
		srv_reply(fd, "302 Found", hdr, "", 0);
	} else if (strcmp(path, "/to-ftp") == 0) {
		srv_reply(fd, "302 Found", "Location: ftp://127.0.0.1/x\r\n",
		    "", 0);
	} else if (strcmp(path, "/slow") == 0) {
		/* stall until the client gives up (bounded) */
		struct pollfd p = {fd, POLLIN, 0};
		poll(&p, 1, 3000);
	} else if (strcmp(path, "/post") == 0) {
		char out[20000];
		const char *ct = strcasestr(req, "\r\ncontent-type:");
		char ctv[128] = "";
		if (ct != NULL)
			sscanf(ct + 15, " %127[^\r]", ctv);
		int k = snprintf(out, sizeof(out), "%s|%s|%s", method, ctv,
		    end + 4);
		srv_reply(fd, "200 OK", "Content-Type: text/plain\r\n", out,
		    (size_t)k);
	} else {
		srv_reply(fd, "404 Not Found", "", "no", 2);
	}
	(void)which;
}

static void *
srv_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&srv_stop)) {
		struct pollfd p[2] = {{srv_fd[0], POLLIN, 0},
			{srv_fd[1], POLLIN, 0}};
		if (poll(p, 2, 100) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			int c = accept(srv_fd[i], NULL, NULL);
			if (c < 0)
				continue;
			srv_handle(c, i);
			close(c);
		}
	}
	return NULL;
}

static bool
srv_start(void)
{
	for (int i = 0; i < 2; i++) {
		struct sockaddr_in sin = {0};
		socklen_t sl = sizeof(sin);
		srv_fd[i] = socket(AF_INET, SOCK_STREAM, 0);
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (srv_fd[i] < 0 ||
		    bind(srv_fd[i], (struct sockaddr *)&sin, sizeof(sin)) ||
		    listen(srv_fd[i], 16) ||
		    getsockname(srv_fd[i], (struct sockaddr *)&sin, &sl))
			return false;
		srv_port[i] = ntohs(sin.sin_port);
	}
	return pthread_create(&srv_thr, NULL, srv_main, NULL) == 0;
}

static void
srv_end(void)
{
	atomic_store(&srv_stop, true);
	pthread_join(srv_thr, NULL);
	close(srv_fd[0]);
	close(srv_fd[1]);
}

/* A URL on server i. */
static const char *
srv_url(arena *a, int i, const char *path)
{
	return arena_printf(a, "http://127.0.0.1:%d%s", srv_port[i], path);
}

/* Limits for loopback tests: no per-host budget, loopback allowed. */
static struct net_limits
lim_loop(void)
{
	struct net_limits l = {0};
	l.allow_loopback = true;
	l.per_host_minute = -1;
	l.timeout_ms = 5000;
	return l;
}

/* ---- addresses ------------------------------------------------------------- */

static bool
v4(const char *ip, bool loop)
{
	struct sockaddr_in sin = {0};
	sin.sin_family = AF_INET;
	if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1) {
		printf("bad test address %s\n", ip);
		return false;
	}
	return net_addr_allowed((struct sockaddr *)&sin, loop);
}

static bool
v6(const char *ip, bool loop)
{
	struct sockaddr_in6 sin6 = {0};
	sin6.sin6_family = AF_INET6;
	if (inet_pton(AF_INET6, ip, &sin6.sin6_addr) != 1) {
		printf("bad test address %s\n", ip);
		return false;
	}
	return net_addr_allowed((struct sockaddr *)&sin6, loop);
}

static void
test_addr_v4(void)
{
	static const char *const refused[] = {"0.0.0.0", "0.1.2.3",
		"10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.254",
		"169.254.169.254", "172.16.0.1", "172.31.255.255",
		"192.168.0.1", "192.168.255.255", "224.0.0.1",
		"239.255.255.250", "255.255.255.255", "240.0.0.1",
		"192.0.2.1", "198.18.0.1", NULL};
	static const char *const allowed[] = {"8.8.8.8", "1.1.1.1",
		"93.184.216.34", "100.63.255.255", "100.128.0.1",
		"172.15.255.255", "172.32.0.1", "169.253.0.1", "192.169.0.1",
		"11.0.0.1", "223.255.255.254", NULL};

	for (const char *const *p = refused; *p; p++) {
		if (v4(*p, false) || v4(*p, true))
			printf("  refused range allowed: %s\n", *p);
		T_CHECK(!v4(*p, false) && !v4(*p, true));
	}
	for (const char *const *p = allowed; *p; p++) {
		if (!v4(*p, false))
			printf("  public address refused: %s\n", *p);
		T_CHECK(v4(*p, false));
	}
	T_CHECK(!v4("127.0.0.1", false));
	T_CHECK(!v4("127.255.0.9", false));
	T_CHECK(v4("127.0.0.1", true));
	T_CHECK(v4("127.1.2.3", true));
}

static void
test_addr_v6(void)
{
	static const char *const refused[] = {"::", "fe80::1",
		"febf:ffff::1", "fc00::1", "fd12:3456::1", "ff02::1",
		"fec0::1", "::ffff:10.0.0.1", "::ffff:192.168.1.1",
		"::ffff:169.254.169.254", "::ffff:100.64.0.1", "::ffff:0.0.0.0",
		"64:ff9b::10.0.0.1", "2002:c0a8:0101::1", "::10.0.0.1", NULL};
	static const char *const allowed[] = {"2001:4860:4860::8888",
		"2606:4700:4700::1111", "::ffff:8.8.8.8", "2a00:1450::1",
		"2400:cb00::1", NULL};

	for (const char *const *p = refused; *p; p++) {
		if (v6(*p, false) || v6(*p, true))
			printf("  refused range allowed: %s\n", *p);
		T_CHECK(!v6(*p, false) && !v6(*p, true));
	}
	for (const char *const *p = allowed; *p; p++) {
		if (!v6(*p, false))
			printf("  public address refused: %s\n", *p);
		T_CHECK(v6(*p, false));
	}
	T_CHECK(!v6("::1", false));
	T_CHECK(v6("::1", true));
	T_CHECK(!v6("::ffff:127.0.0.1", false));
	T_CHECK(v6("::ffff:127.0.0.1", true));
	/* other families: never */
	struct sockaddr su = {0};
	su.sa_family = AF_UNIX;
	T_CHECK(!net_addr_allowed(&su, true));
	T_CHECK(!net_addr_allowed(NULL, true));
}

/* ---- fetching ------------------------------------------------------------------ */

static void
test_url_refused(void)
{
	static const char *const bad[] = {"ftp://example.org/",
		"file:///etc/passwd", "gopher://example.org/",
		"http://user:pw@example.org/", "http://user@example.org/",
		"http://", "example.org/x", "", "javascript:x",
		"http://exa mple.org/", "http://example.org/\r\nX: y",
		"dict://127.0.0.1:11211/", NULL};
	struct net_limits l = lim_loop();
	arena *a = arena_new(0);
	struct net_response r;
	buf err;

	buf_init(&err, 0);
	for (const char *const *p = bad; *p; p++) {
		buf_reset(&err);
		enum net_err e = net_fetch(&l, *p, NULL, NULL, 0, a, &r, &err);
		if (e != NET_BAD_URL)
			printf("  accepted: %s (%d)\n", *p, e);
		T_CHECK(e == NET_BAD_URL);
		T_CHECK(err.len > 0);
	}
	/* 2049 bytes: too long; 2048: fetched (a 404 here) */
	const char *pre = srv_url(a, 1, "/");
	char *longu = arena_alloc(a, 2100);
	memcpy(longu, pre, strlen(pre));
	memset(longu + strlen(pre), 'a', 2049 - strlen(pre));
	buf_reset(&err);
	T_CHECK(net_fetch(&l, longu, NULL, NULL, 0, a, &r, &err) ==
	    NET_BAD_URL);
	longu[2048] = '\0';
	T_CHECK(net_fetch(&l, longu, NULL, NULL, 0, a, &r, &err) == NET_OK);
	T_CHECK(r.status == 404);
	buf_free(&err);
	arena_free(a);
}

static void
test_fetch_ok(void)
{
	struct net_limits l = lim_loop();
	arena *a = arena_new(0);
	struct net_response r;
	buf err;
	const char *u;

	buf_init(&err, 0);
	u = srv_url(a, 1, "/ok");
	T_CHECK(net_fetch(&l, u, NULL, NULL, 0, a, &r, &err) == NET_OK);
	T_CHECK(r.status == 200);
	T_STREQ(r.url, u);
	T_STREQ(r.content_type, "text/html; charset=utf-8");
	T_STREQ(r.link, "</wm>; rel=\"webmention\", "
	    "<https://example.org/a>; rel=alternate");
	T_STREQ(r.x_pingback, "http://example.org/xmlrpc");
	T_STREQ(r.body, "<p>hello</p>");
	T_CHECK(r.len == 12);
	/* a 404 is a response, not an error */
	T_CHECK(net_fetch(&l, srv_url(a, 1, "/nope"), NULL, NULL, 0, a, &r,
	    &err) == NET_OK);
	T_CHECK(r.status == 404);
	T_STREQ(r.content_type, "");
	T_STREQ(r.link, "");
	buf_free(&err);
	arena_free(a);
}

static void
test_fetch_too_big(void)
{
	struct net_limits l = lim_loop();
	arena *a = arena_new(0);
	struct net_response r;
	buf err;

	buf_init(&err, 0);
	l.max_bytes = 1000;
	T_CHECK(net_fetch(&l, srv_url(a, 1, "/big"), NULL, NULL, 0, a, &r,
	    &err) == NET_TOO_BIG);
	T_CHECK(err.len > 0);
	buf_reset(&err);
	T_CHECK(net_fetch(&l, srv_url(a, 1, "/stream"), NULL, NULL, 0, a,
	    &r, &err) == NET_TOO_BIG);
	/* exactly max_bytes is fine */
	T_CHECK(net_fetch(&l, srv_url(a, 1, "/exact"), NULL, NULL, 0, a, &r,
	    &err) == NET_OK);
	T_CHECK(r.len == 1000 && strlen(r.body) == 1000);
	/* the default cap (1 MiB) lets 50,000 bytes through */
	l.max_bytes = 0;
	T_CHECK(net_fetch(&l, srv_url(a, 1, "/stream"), NULL, NULL, 0, a,
	    &r, &err) == NET_OK);
	T_CHECK(r.len == 50000);
	buf_free(&err);
	arena_free(a);
}

static void
test_fetch_redirects(void)
{
	struct net_limits l = lim_loop();
	arena *a = arena_new(0);
	struct net_response r;
	buf err;

	buf_init(&err, 0);
	l.max_redirects = 3;
	T_CHECK(net_fetch(&l, srv_url(a, 1, "/redir/3"), NULL, NULL, 0, a,
	    &r, &err) == NET_OK);
	T_CHECK(r.status == 200);
	T_STREQ(r.url, srv_url(a, 1, "/redir/0"));
	T_STREQ(r.body, "end");
	/* the hops' headers are forgotten: the last response's only */
	T_STREQ(r.link, "");
	T_STREQ(r.x_pingback, "");
	T_STREQ(r.content_type, "text/plain");
	/* one hop too many */
	T_CHECK(net_fetch(&l, srv_url(a, 1, "/redir/4"), NULL, NULL, 0, a,
	    &r, &err) == NET_FAILED);
	T_CHECK(err.len > 0);
	/* the default is 5 */
	l.max_redirects = 0;
	T_CHECK(net_fetch(&l, srv_url(a, 1, "/redir/5"), NULL, NULL, 0, a,
	    &r, &err) == NET_OK);
	T_CHECK(net_fetch(&l, srv_url(a, 1, "/redir/6"), NULL, NULL, 0, a,
	    &r, &err) == NET_FAILED);
	/* -1: not followed, the 302 is the answer with its headers */
	l.max_redirects = -1;
	T_CHECK(net_fetch(&l, srv_url(a, 1, "/redir/1"), NULL, NULL, 0, a,
	    &r, &err) == NET_OK);
	T_CHECK(r.status == 302);
	T_STREQ(r.link, "</hop>; rel=webmention");
	T_STREQ(r.x_pingback, "/hop");
	/* a redirect to another scheme is not followed */
	l.max_redirects = 0;
	T_CHECK(net_fetch(&l, srv_url(a, 1, "/to-ftp"), NULL, NULL, 0, a,
	    &r, &err) == NET_FAILED);
	buf_free(&err);
	arena_free(a);
}

static void
test_fetch_refused(void)
{
	struct net_limits l = lim_loop();
	arena *a = arena_new(0);
	struct net_response r;
	buf err;
	int hits;

	buf_init(&err, 0);
	l.allow_loopback = false;
	/* first hops to loopback, by number and by name */
	hits = atomic_load(&srv_hits);
	T_CHECK(net_fetch(&l, srv_url(a, 1, "/ok"), NULL, NULL, 0, a, &r,
	    &err) == NET_REFUSED);
	T_CHECK(strstr(buf_cstr(&err), "127.0.0.1") != NULL);
	T_CHECK(net_fetch(&l, arena_printf(a, "http://localhost:%d/ok",
	    srv_port[1]), NULL, NULL, 0, a, &r, &err) == NET_REFUSED);
	T_CHECK(net_fetch(&l, arena_printf(a, "http://[::1]:%d/ok",
	    srv_port[1]), NULL, NULL, 0, a, &r, &err) == NET_REFUSED);
	T_CHECK(net_fetch(&l, arena_printf(a, "http://[::ffff:127.0.0.1]:%d/ok",
	    srv_port[1]), NULL, NULL, 0, a, &r, &err) == NET_REFUSED);
	T_CHECK(net_fetch(&l, arena_printf(a, "http://0x7f000001:%d/ok",
	    srv_port[1]), NULL, NULL, 0, a, &r, &err) == NET_REFUSED);
	/* private and link-local: refused before any packet is sent */
	T_CHECK(net_fetch(&l, "http://169.254.169.254/latest/meta-data/",
	    NULL, NULL, 0, a, &r, &err) == NET_REFUSED);
	T_CHECK(net_fetch(&l, "http://10.1.2.3:8080/", NULL, NULL, 0, a, &r,
	    &err) == NET_REFUSED);
	T_CHECK(net_fetch(&l, "http://[fe80::1]/", NULL, NULL, 0, a, &r,
	    &err) == NET_REFUSED);
	T_CHECK(atomic_load(&srv_hits) == hits);
	/* loopback allowed still leaves private ranges refused */
	l.allow_loopback = true;
	T_CHECK(net_fetch(&l, "http://192.168.0.1/", NULL, NULL, 0, a, &r,
	    &err) == NET_REFUSED);
#ifdef KIJI_TEST_HOOKS
	/* server 0 plays a public site that redirects to loopback: the
	 * first hop connects, the second is refused at connect time */
	net_test_public_port(srv_port[0]);
	l.allow_loopback = false;
	T_CHECK(net_fetch(&l, srv_url(a, 0, "/ok"), NULL, NULL, 0, a, &r,
	    &err) == NET_OK);
	hits = atomic_load(&srv_hits);
	buf_reset(&err);
	T_CHECK(net_fetch(&l, srv_url(a, 0, "/to-loop"), NULL, NULL, 0, a,
	    &r, &err) == NET_REFUSED);
	T_CHECK(atomic_load(&srv_hits) == hits + 1); /* only the first hop */
	T_CHECK(strstr(buf_cstr(&err), "127.0.0.1") != NULL);
	/* and followed when loopback is allowed */
	l.allow_loopback = true;
	T_CHECK(net_fetch(&l, srv_url(a, 0, "/to-loop"), NULL, NULL, 0, a,
	    &r, &err) == NET_OK);
	T_CHECK(r.status == 200);
	T_STREQ(r.body, "<p>hello</p>");
	net_test_public_port(0);
#endif
	buf_free(&err);
	arena_free(a);
}

static void
test_fetch_rate(void)
{
	struct net_limits l = lim_loop();
	arena *a = arena_new(0);
	struct net_response r;
	buf err;

	buf_init(&err, 0);
	l.per_host_minute = 2;
	T_CHECK(net_fetch(&l, srv_url(a, 1, "/ok"), NULL, NULL, 0, a, &r,
	    &err) == NET_OK);
	T_CHECK(net_fetch(&l, srv_url(a, 1, "/x"), NULL, NULL, 0, a, &r,
	    &err) == NET_OK);
	int hits = atomic_load(&srv_hits);
	T_CHECK(net_fetch(&l, srv_url(a, 1, "/ok"), NULL, NULL, 0, a, &r,
	    &err) == NET_RATE);
	T_CHECK(atomic_load(&srv_hits) == hits);
	T_CHECK(strstr(buf_cstr(&err), "127.0.0.1") != NULL);
	/* per host: another name still has its budget */
	T_CHECK(net_fetch(&l, arena_printf(a, "http://LOCALHOST:%d/ok",
	    srv_port[1]), NULL, NULL, 0, a, &r, &err) == NET_OK);
	/* the host is counted case-blind */
	T_CHECK(net_fetch(&l, arena_printf(a, "http://localhost:%d/ok",
	    srv_port[1]), NULL, NULL, 0, a, &r, &err) == NET_OK);
	T_CHECK(net_fetch(&l, arena_printf(a, "http://localHost:%d/ok",
	    srv_port[1]), NULL, NULL, 0, a, &r, &err) == NET_RATE);
	/* -1: no budget at all */
	l.per_host_minute = -1;
	T_CHECK(net_fetch(&l, srv_url(a, 1, "/ok"), NULL, NULL, 0, a, &r,
	    &err) == NET_OK);
	buf_free(&err);
	arena_free(a);
}

static int64_t
ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_fetch_timeout(void)
{
	struct net_limits l = lim_loop();
	arena *a = arena_new(0);
	struct net_response r;
	buf err;

	buf_init(&err, 0);
	l.timeout_ms = 300;
	int64_t t0 = ms_now();
	T_CHECK(net_fetch(&l, srv_url(a, 1, "/slow"), NULL, NULL, 0, a, &r,
	    &err) == NET_TIMEOUT);
	int64_t dt = ms_now() - t0;
	T_CHECK(dt >= 250 && dt < 2500);
	T_CHECK(err.len > 0);
	buf_free(&err);
	arena_free(a);
}

static void
test_fetch_post(void)
{
	struct net_limits l = lim_loop();
	arena *a = arena_new(0);
	struct net_response r;
	buf err, body;

	buf_init(&err, 0);
	buf_init(&body, 0);
	net_xmlrpc_pingback_call(&body, "http://a.example/s?x=1&y=2",
	    "http://b.example/t");
	T_CHECK(net_fetch(&l, srv_url(a, 1, "/post"), "text/xml",
	    body.ptr, body.len, a, &r, &err) == NET_OK);
	T_CHECK(r.status == 200);
	T_STREQ(r.body, arena_printf(a, "POST|text/xml|%s", body.ptr));
	T_CHECK(strstr(r.body, "x=1&amp;y=2") != NULL);
	/* a form post with the default type */
	T_CHECK(net_fetch(&l, srv_url(a, 1, "/post"), NULL, "url=a&b=c", 9,
	    a, &r, &err) == NET_OK);
	T_STREQ(r.body, "POST|application/x-www-form-urlencoded|url=a&b=c");
	buf_free(&err);
	buf_free(&body);
	arena_free(a);
}

/* ---- discovery ------------------------------------------------------------------ */

static struct net_response
page(const char *url, const char *link, const char *xpb, const char *body)
{
	struct net_response r = {0};
	r.status = 200;
	r.url = url;
	r.content_type = "text/html";
	r.link = link ? link : "";
	r.x_pingback = xpb ? xpb : "";
	r.body = body;
	r.len = strlen(body);
	return r;
}

static void
test_discover_link_header(void)
{
	arena *a = arena_new(0);
	struct net_endpoints e;
	struct net_response p;
	const char *html = "<html><head><link rel=webmention href=/html-wm>"
	    "</head></html>";

	p = page("https://ex.org/post/1", "<https://wm.ex.org/e>; "
	    "rel=\"webmention\"", NULL, html);
	net_discover(&p, a, &e);
	T_STREQ(e.webmention, "https://wm.ex.org/e");
	/* unquoted, relative (against the page, not <base>) */
	p = page("https://ex.org/post/1", "</wm?x=1>; rel=webmention", NULL,
	    "<base href='https://other.org/'>");
	net_discover(&p, a, &e);
	T_STREQ(e.webmention, "https://ex.org/wm?x=1");
	/* several links, several rels, odd spacing and case */
	p = page("https://ex.org/a/b", "<https://ex.org/feed>; rel=alternate; "
	    "type=\"application/rss+xml\", <https://ex.org/x,y>;"
	    "title=\"a, b; rel=webmention\";rel=\"me WebMention foo\"",
	    NULL, html);
	net_discover(&p, a, &e);
	T_STREQ(e.webmention, "https://ex.org/x,y");
	/* rel="webmentions" or a second rel param do not count; the <link>
	 * in the body then does */
	p = page("https://ex.org/a/b", "<https://no.example/1>; "
	    "rel=webmentions, <https://no.example/2>; rel=x; rel=webmention",
	    NULL, html);
	net_discover(&p, a, &e);
	T_STREQ(e.webmention, "https://ex.org/html-wm");
	/* empty URI: the page itself */
	p = page("https://ex.org/a/b?q=1", "<>; rel=webmention", NULL, "");
	net_discover(&p, a, &e);
	T_STREQ(e.webmention, "https://ex.org/a/b?q=1");
	/* garbage does not crash and finds nothing */
	p = page("https://ex.org/", "<<<;;;rel=\"unterminated", NULL, "");
	net_discover(&p, a, &e);
	T_STREQ(e.webmention, "");
	T_STREQ(e.pingback, "");
	T_STREQ(e.trackback, "");
	arena_free(a);
}

static void
test_discover_html(void)
{
	arena *a = arena_new(0);
	struct net_endpoints e;
	struct net_response p;

	/* document order: the <a> comes before the <link> */
	p = page("http://ex.org/dir/page", NULL, NULL,
	    "<html><body><p><a rel=\"nofollow webmention\" href=\"../a-wm\">"
	    "x</a></p><link rel=webmention href=\"/link-wm\"></body></html>");
	net_discover(&p, a, &e);
	T_STREQ(e.webmention, "http://ex.org/a-wm");
	/* <base href> applies to the document's links */
	p = page("http://ex.org/dir/page", NULL, NULL,
	    "<html><head><base href=\"https://cdn.ex.org/b/\">"
	    "<link rel=\"webmention\" href=\"wm\"></head></html>");
	net_discover(&p, a, &e);
	T_STREQ(e.webmention, "https://cdn.ex.org/b/wm");
	/* href="" is the page itself */
	p = page("http://ex.org/dir/page", NULL, NULL,
	    "<link rel=webmention href=\"\">");
	net_discover(&p, a, &e);
	T_STREQ(e.webmention, "http://ex.org/dir/page");
	/* a <link> without href is skipped; rel is a token list */
	p = page("http://ex.org/p", NULL, NULL,
	    "<link rel=webmention><link rel=webmentionx href=/no>"
	    "<link rel='WEBMENTION' href='/yes'>");
	net_discover(&p, a, &e);
	T_STREQ(e.webmention, "http://ex.org/yes");
	/* javascript: is no endpoint */
	p = page("http://ex.org/p", NULL, NULL,
	    "<a rel=webmention href='javascript:alert(1)'>x</a>");
	net_discover(&p, a, &e);
	T_STREQ(e.webmention, "");
	arena_free(a);
}

static void
test_discover_pingback(void)
{
	arena *a = arena_new(0);
	struct net_endpoints e;
	struct net_response p;
	const char *html = "<head><link rel=\"pingback\" "
	    "href=\"http://ex.org/xmlrpc.php\"></head>";

	p = page("http://ex.org/p", NULL, "http://hdr.ex.org/xmlrpc", html);
	net_discover(&p, a, &e);
	T_STREQ(e.pingback, "http://hdr.ex.org/xmlrpc");
	p = page("http://ex.org/p", NULL, NULL, html);
	net_discover(&p, a, &e);
	T_STREQ(e.pingback, "http://ex.org/xmlrpc.php");
	T_STREQ(e.webmention, "");
	/* <a rel=pingback> is not the pingback form */
	p = page("http://ex.org/p", NULL, NULL,
	    "<a rel=pingback href=/x>x</a>");
	net_discover(&p, a, &e);
	T_STREQ(e.pingback, "");
	arena_free(a);
}

static void
test_discover_trackback(void)
{
	arena *a = arena_new(0);
	struct net_endpoints e;
	struct net_response p;
	const char *html =
	    "<html><body><p>post</p>\n<!--\n"
	    "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"\n"
	    "  xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n"
	    "  xmlns:trackback=\"http://madskills.com/public/xml/rss/module/trackback/\">\n"
	    "<rdf:Description rdf:about=\"http://ex.org/other\"\n"
	    "  dc:identifier=\"http://ex.org/other\"\n"
	    "  dc:title=\"Other\"\n"
	    "  trackback:ping=\"http://ex.org/tb/other\" />\n"
	    "<rdf:Description rdf:about=\"http://ex.org/p?id=1&amp;x=2\"\n"
	    "  dc:identifier=\"http://EX.org:80/p?id=1&amp;x=2\"\n"
	    "  dc:title=\"Post &amp; more\"\n"
	    "  trackback:ping='http://ex.org/tb?id=1&amp;k=&#50;' />\n"
	    "</rdf:RDF>\n-->\n</body></html>";

	p = page("http://ex.org/p?id=1&x=2", NULL, NULL, html);
	net_discover(&p, a, &e);
	T_STREQ(e.trackback, "http://ex.org/tb?id=1&k=2");
	/* no block about this page: the first one */
	p = page("http://ex.org/elsewhere", NULL, NULL, html);
	net_discover(&p, a, &e);
	T_STREQ(e.trackback, "http://ex.org/tb/other");
	/* a bad entity spoils the attribute, not the scan */
	p = page("http://ex.org/q", NULL, NULL,
	    "<!-- <rdf:Description trackback:ping=\"http://x/&bogus;\" /> "
	    "<rdf:Description dc:identifier=\"http://ex.org/q\" "
	    "trackback:ping=\"/tb/q\" /> -->");
	net_discover(&p, a, &e);
	T_STREQ(e.trackback, "http://ex.org/tb/q");
	/* unterminated tag at the end of the body */
	p = page("http://ex.org/q", NULL, NULL,
	    "<!-- <rdf:Description trackback:ping=\"http://x/");
	net_discover(&p, a, &e);
	T_STREQ(e.trackback, "");
	arena_free(a);
}

/* ---- links ------------------------------------------------------------------------ */

static void
test_links_to(void)
{
	const char *t = "https://our.example/articles/3";
	const char *base = "https://src.example/blog/entry";

	T_CHECK(net_links_to("<a href=\"https://our.example/articles/3\">x</a>",
	    47, "text/html", base, t));
	/* host case, default port, fragment */
	const char *h = "<p>see <a href='HTTPS://OUR.example:443/articles/3#c5'>"
	    "this</a></p>";
	T_CHECK(net_links_to(h, strlen(h), "text/html; charset=utf-8", base, t));
	/* relative to the source page (and its <base>) */
	h = "<base href='https://our.example/x/'><a href='../articles/3'>a</a>";
	T_CHECK(net_links_to(h, strlen(h), "text/html", base, t));
	h = "<a href='/articles/3'>a</a>";
	T_CHECK(!net_links_to(h, strlen(h), "text/html", base, t));
	T_CHECK(net_links_to(h, strlen(h), "text/html",
	    "https://our.example/blog", t));
	/* img src, empty path as "/" */
	h = "<img src='http://our.example'>";
	T_CHECK(net_links_to(h, strlen(h), "text/html", base,
	    "http://our.example/"));
	/* escapes: %7e and ~, lower and upper hex, raw UTF-8 */
	h = "<a href='https://our.example/%7euser/%e8%a8%98'>a</a>";
	T_CHECK(net_links_to(h, strlen(h), "text/html", base,
	    "https://our.example/~user/\xE8\xA8\x98"));
	/* near misses */
	h = "<a href='https://our.example/articles/33'>a</a>"
	    "<a href='https://our.example/articles/3?x'>b</a>"
	    "<a href='http://our.example/articles/3'>c</a>"
	    "<p>https://our.example/articles/3</p>"
	    "<script>var u='<a href=\"https://our.example/articles/3\">';"
	    "</script><!-- <a href='https://our.example/articles/3'> -->";
	T_CHECK(!net_links_to(h, strlen(h), "text/html", base, t));
	/* text/plain: the URL anywhere in the text */
	h = "I wrote about https://our.example/articles/3 today.";
	T_CHECK(net_links_to(h, strlen(h), "text/plain; charset=utf-8", base,
	    t));
	T_CHECK(!net_links_to(h, 20, "text/plain", base, t));
	/* other types are not read */
	T_CHECK(!net_links_to(h, strlen(h), "image/png", base, t));
	T_CHECK(!net_links_to("", 0, "text/html", base, t));
	/* Shift_JIS page: decoded, still found */
	h = "<meta charset=Shift_JIS><title>\x93\xfa\x96\x7b</title>"
	    "<a href='https://our.example/articles/3'>\x8b\x4c\x8e\x96</a>";
	T_CHECK(net_links_to(h, strlen(h), "text/html", base, t));
}

static void
test_links(void)
{
	arena *a = arena_new(0);
	const char *out[8];
	const char *h =
	    "<p><a href='https://b.example/1'>1</a>"
	    "<a href='/articles/2'>own</a>"
	    "<a href='https://OUR.example/articles/4'>own abs</a>"
	    "<a href='https://b.example/1#frag'>dup</a>"
	    "<a href='HTTPS://B.EXAMPLE:443/1'>dup</a>"
	    "<a href='mailto:x@y.example'>m</a>"
	    "<a href='javascript:alert(1)'>j</a>"
	    "<a href='//c.example/p?q=1'>c</a>"
	    "<a name=anchor>no href</a>"
	    "<img src='https://img.example/i.png'>"
	    "<a href='http://d.example/\xE8\xA8\x98\xE4\xBA\x8B'>d</a></p>";
	size_t n = net_links(h, strlen(h), "https://our.example/articles/1",
	    a, out, 8);

	T_CHECK(n == 3);
	if (n == 3) {
		T_STREQ(out[0], "https://b.example/1");
		T_STREQ(out[1], "https://c.example/p?q=1");
		T_STREQ(out[2], "http://d.example/%E8%A8%98%E4%BA%8B");
	}
	T_CHECK(net_links(h, strlen(h), "https://our.example/", a, out, 1) ==
	    1);
	T_CHECK(net_links(h, strlen(h), "not a url", a, out, 8) == 0);
	T_CHECK(net_links("", 0, "https://our.example/", a, out, 8) == 0);
	arena_free(a);
}

static void
test_source_summary(void)
{
	arena *a = arena_new(0);
	const char *title, *ex;
	const char *h =
	    "<html><head><title>  A   post\n about things </title>"
	    "<script>var x = 1;</script></head><body>"
	    "<div><p>First paragraph.</p><p>I read <a href="
	    "\"https://our.example/articles/3\">this article</a> and "
	    "<b>liked</b> it.</p></div></body></html>";

	net_source_summary(h, strlen(h), "https://src.example/",
	    "https://our.example/articles/3", a, &title, &ex);
	T_STREQ(title, "A post about things");
	T_STREQ(ex, "I read this article and liked it.");
	/* no link: no excerpt; no title: "" */
	net_source_summary("<p>x</p>", 8, "https://src.example/",
	    "https://our.example/articles/3", a, &title, &ex);
	T_STREQ(title, "");
	T_STREQ(ex, "");
	/* long text is cut around the link */
	buf b;
	buf_init(&b, 0);
	buf_puts(&b, "<title>");
	for (int i = 0; i < 300; i++)
		buf_puts(&b, "\xE8\xA8\x98");
	buf_puts(&b, "</title><p>");
	for (int i = 0; i < 1000; i++)
		buf_puts(&b, "a ");
	buf_puts(&b, "<a href='https://our.example/articles/3'>LINK</a>");
	for (int i = 0; i < 1000; i++)
		buf_puts(&b, " z");
	buf_puts(&b, "</p>");
	net_source_summary(b.ptr, b.len, "https://src.example/",
	    "https://our.example/articles/3", a, &title, &ex);
	T_CHECK(text_graphemes(title, strlen(title)) == 200); /* "…" included */
	size_t g = text_graphemes(ex, strlen(ex));
	if (!(g >= 250 && g <= 300))
		printf("  excerpt %zu: %s\n", g, ex);
	T_CHECK(g >= 250 && g <= 300);
	T_CHECK(strstr(ex, "LINK") != NULL);
	T_CHECK(strncmp(ex, "\xE2\x80\xA6", 3) == 0);
	T_CHECK(strstr(ex, "a LINK z") != NULL);

	/* the link's own text fills the excerpt: the text around it and its
	 * "…" marks must not take it past 300 (found by fuzz_links_to) */
	buf_reset(&b);
	buf_puts(&b, "<p>before <a href='https://our.example/articles/3'>");
	for (int i = 0; i < 400; i++)
		buf_puts(&b, "\xE8\xA8\x98");
	buf_puts(&b, "</a> after</p>");
	net_source_summary(b.ptr, b.len, "https://src.example/",
	    "https://our.example/articles/3", a, &title, &ex);
	T_CHECK(*ex != '\0');
	T_CHECK(text_graphemes(ex, strlen(ex)) <= 300);
	buf_free(&b);
	arena_free(a);
}

/* Deep nesting and junk: no crash, bounded work. */
static void
test_hostile_html(void)
{
	arena *a = arena_new(0);
	struct net_endpoints e;
	struct net_response p;
	buf b;

	buf_init(&b, 0);
	for (int i = 0; i < 100000; i++)
		buf_puts(&b, "<div><span>");
	buf_puts(&b, "<a href='https://our.example/t'>x</a>");
	p = page("https://src.example/", NULL, NULL, b.ptr);
	p.len = b.len;
	net_discover(&p, a, &e);
	T_STREQ(e.webmention, "");
	(void)net_links_to(b.ptr, b.len, "text/html", "https://src.example/",
	    "https://our.example/t");
	const char *out[4];
	(void)net_links(b.ptr, b.len, "https://src.example/", a, out, 4);
	buf_free(&b);
	/* NUL bytes and invalid UTF-8 */
	static const char junk[] = "<a href='https://our.example/t\0x'>"
	    "\xff\xfe<title>\xc0\xaf</title>";
	const char *title, *ex;
	net_source_summary(junk, sizeof(junk) - 1, "https://src.example/",
	    "https://our.example/t", a, &title, &ex);
	T_CHECK(text_utf8_valid(title, strlen(title)));
	T_CHECK(text_utf8_valid(ex, strlen(ex)));
	arena_free(a);
}

/* ---- XML-RPC ------------------------------------------------------------------------ */

static int
parse_call(arena *a, const char *s, const char **m, const char **src,
    const char **tgt)
{
	return net_xmlrpc_parse_call(s, strlen(s), a, m, src, tgt);
}

static void
test_xmlrpc_call(void)
{
	arena *a = arena_new(0);
	const char *m, *s, *t;

	T_CHECK(parse_call(a, "<?xml version=\"1.0\"?>\n<methodCall>\n"
	    "  <methodName>pingback.ping</methodName>\n  <params>\n"
	    "    <param><value><string>http://src.example/a?x=1&amp;y=&#12354;"
	    "</string></value></param>\n"
	    "    <param><value>http://our.example/articles/3</value></param>\n"
	    "  </params>\n</methodCall>\n", &m, &s, &t) == 0);
	T_STREQ(m, "pingback.ping");
	T_STREQ(s, "http://src.example/a?x=1&y=\xE3\x81\x82");
	T_STREQ(t, "http://our.example/articles/3");
	/* another method: parsed, no params needed */
	T_CHECK(parse_call(a, "<methodCall><methodName> system.listMethods "
	    "</methodName></methodCall>", &m, &s, &t) == 0);
	T_STREQ(m, "system.listMethods");
	T_STREQ(s, "");
	/* pingback.ping with the wrong params */
	static const char *const bad_params[] = {
		"<methodCall><methodName>pingback.ping</methodName>"
		"</methodCall>",
		"<methodCall><methodName>pingback.ping</methodName><params>"
		"<param><value><string>a</string></value></param></params>"
		"</methodCall>",
		"<methodCall><methodName>pingback.ping</methodName><params>"
		"<param><value><string>a</string></value></param>"
		"<param><value><int>3</int></value></param></params>"
		"</methodCall>",
		"<methodCall><methodName>pingback.ping</methodName><params>"
		"<param><value><string>a</string></value></param>"
		"<param><value><string>b</string></value></param>"
		"<param><value><string>c</string></value></param></params>"
		"</methodCall>",
		"<methodCall><methodName>pingback.ping</methodName><params>"
		"<param><value><struct></struct></value></param>"
		"<param><value><string>b</string></value></param></params>"
		"</methodCall>",
		NULL};
	for (const char *const *p = bad_params; *p; p++)
		T_CHECK(parse_call(a, *p, &m, &s, &t) ==
		    NET_XMLRPC_BAD_PARAMS);
	/* not a methodCall */
	static const char *const bad[] = {
		"", "not xml", "<methodCall>", "<methodResponse/>",
		"<methodCall><params/></methodCall>",
		"<methodCall><methodName></methodName></methodCall>",
		"<methodCall><methodName>a b</methodName></methodCall>",
		"<methodCall><methodName>x</methodName>text</methodCall>",
		"<methodCall><methodName>x<b/></methodName></methodCall>",
		"<methodCall><methodName>x</methodName><params><param>"
		"<value><string>a</string><string>b</string></value>"
		"</param></params></methodCall>",
		"<methodCall><methodName>x</methodName><params><bogus/>"
		"</params></methodCall>",
		"<x:methodCall xmlns:x='urn:x'><x:methodName>x</x:methodName>"
		"</x:methodCall>",
		"<methodCall><methodName>x</methodName></methodCall><extra/>",
		NULL};
	for (const char *const *p = bad; *p; p++) {
		int rc = parse_call(a, *p, &m, &s, &t);
		if (rc != NET_XMLRPC_PARSE)
			printf("  accepted (%d): %s\n", rc, *p);
		T_CHECK(rc == NET_XMLRPC_PARSE);
	}
	/* NUL inside, UTF-16: refused */
	T_CHECK(net_xmlrpc_parse_call("<methodCall>\0", 13, a, &m, &s, &t) ==
	    NET_XMLRPC_PARSE);
	T_CHECK(net_xmlrpc_parse_call("\xff\xfe<\0m\0", 6, a, &m, &s, &t) ==
	    NET_XMLRPC_PARSE);
	arena_free(a);
}

static void
test_xmlrpc_hostile(void)
{
	arena *a = arena_new(0);
	const char *m, *s, *t;
	buf b;

	/* billion laughs: refused, not expanded */
	buf_init(&b, 0);
	buf_puts(&b, "<?xml version=\"1.0\"?>\n<!DOCTYPE methodCall [\n"
	    "<!ENTITY l0 \"ha\">\n");
	for (int i = 1; i < 10; i++)
		buf_printf(&b, "<!ENTITY l%d \"&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;"
		    "&l%d;&l%d;&l%d;&l%d;\">\n", i, i - 1, i - 1, i - 1,
		    i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	buf_puts(&b, "]>\n<methodCall><methodName>pingback.ping</methodName>"
	    "<params><param><value><string>&l9;</string></value></param>"
	    "<param><value><string>b</string></value></param></params>"
	    "</methodCall>");
	T_CHECK(net_xmlrpc_parse_call(b.ptr, b.len, a, &m, &s, &t) ==
	    NET_XMLRPC_PARSE);
	/* external entity */
	T_CHECK(parse_call(a, "<!DOCTYPE x [<!ENTITY e SYSTEM "
	    "\"file:///etc/passwd\">]><methodCall><methodName>&e;"
	    "</methodName></methodCall>", &m, &s, &t) == NET_XMLRPC_PARSE);
	/* any DOCTYPE, however written */
	T_CHECK(parse_call(a, "<!doctype methodCall><methodCall><methodName>x"
	    "</methodName></methodCall>", &m, &s, &t) == NET_XMLRPC_PARSE);
	/* an undeclared entity */
	T_CHECK(parse_call(a, "<methodCall><methodName>x&e;</methodName>"
	    "</methodCall>", &m, &s, &t) == NET_XMLRPC_PARSE);
	/* over 64 KiB */
	buf_reset(&b);
	buf_puts(&b, "<methodCall><methodName>x</methodName><params><param>"
	    "<value><string>");
	for (int i = 0; i < 70000; i++)
		buf_putc(&b, 'a');
	buf_puts(&b, "</string></value></param></params></methodCall>");
	T_CHECK(net_xmlrpc_parse_call(b.ptr, b.len, a, &m, &s, &t) ==
	    NET_XMLRPC_PARSE);
	/* deep nesting */
	buf_reset(&b);
	buf_puts(&b, "<methodCall><methodName>x</methodName><params><param>"
	    "<value>");
	for (int i = 0; i < 5000; i++)
		buf_puts(&b, "<array><data><value>");
	T_CHECK(net_xmlrpc_parse_call(b.ptr, b.len, a, &m, &s, &t) ==
	    NET_XMLRPC_PARSE);
	buf_free(&b);
	arena_free(a);
}

static void
test_xmlrpc_roundtrip(void)
{
	arena *a = arena_new(0);
	const char *m, *s, *t, *msg;
	buf b;

	buf_init(&b, 0);
	net_xmlrpc_pingback_call(&b, "http://s.example/?a=1&b=<2>\"'",
	    "http://t.example/記事\r\n");
	T_CHECK(net_xmlrpc_parse_call(b.ptr, b.len, a, &m, &s, &t) == 0);
	T_STREQ(m, "pingback.ping");
	T_STREQ(s, "http://s.example/?a=1&b=<2>\"'");
	T_STREQ(t, "http://t.example/記事\r\n");

	buf_reset(&b);
	net_xmlrpc_success(&b, "Ping registered & <thanks>");
	T_CHECK(net_xmlrpc_parse_response(b.ptr, b.len, a, &msg) == 0);
	T_STREQ(msg, "Ping registered & <thanks>");

	buf_reset(&b);
	net_xmlrpc_fault(&b, NET_PB_NO_LINK, "no link to the target\x01");
	T_CHECK(net_xmlrpc_parse_response(b.ptr, b.len, a, &msg) ==
	    NET_PB_NO_LINK);
	T_STREQ(msg, "no link to the target");
	buf_reset(&b);
	net_xmlrpc_fault(&b, NET_XMLRPC_PARSE, "bad \xff UTF-8");
	T_CHECK(net_xmlrpc_parse_response(b.ptr, b.len, a, &msg) ==
	    NET_XMLRPC_PARSE);
	T_STREQ(msg, "bad  UTF-8");
	/* code 0 is a fault too, not a success */
	buf_reset(&b);
	net_xmlrpc_fault(&b, NET_PB_GENERIC, "generic");
	T_CHECK(net_xmlrpc_parse_response(b.ptr, b.len, a, &msg) ==
	    NET_XMLRPC_APP_FAULT);
	T_STREQ(msg, "generic");

	/* responses as other servers write them */
	const char *r = "<?xml version=\"1.0\"?><methodResponse><fault><value>"
	    "<struct><member><name>faultString</name><value>Already "
	    "registered</value></member><member><name>faultCode</name>"
	    "<value><i4> 48 </i4></value></member></struct></value></fault>"
	    "</methodResponse>";
	T_CHECK(net_xmlrpc_parse_response(r, strlen(r), a, &msg) ==
	    NET_PB_ALREADY);
	T_STREQ(msg, "Already registered");
	r = "<methodResponse><params><param><value>ok</value></param>"
	    "</params></methodResponse>";
	T_CHECK(net_xmlrpc_parse_response(r, strlen(r), a, &msg) == 0);
	T_STREQ(msg, "ok");
	r = "<methodResponse><params></params></methodResponse>";
	T_CHECK(net_xmlrpc_parse_response(r, strlen(r), a, &msg) ==
	    NET_XMLRPC_PARSE);
	r = "<html><body>500 Internal Server Error</body></html>";
	T_CHECK(net_xmlrpc_parse_response(r, strlen(r), a, &msg) ==
	    NET_XMLRPC_PARSE);
	T_STREQ(msg, "");
	buf_free(&b);
	arena_free(a);
}

static void
test_trackback_response(void)
{
	arena *a = arena_new(0);
	const char *msg;
	buf b;
	const char *r;

	buf_init(&b, 0);
	net_trackback_reply(&b, NULL);
	T_CHECK(net_trackback_parse_response(b.ptr, b.len, a, &msg) == 0);
	T_STREQ(msg, "");
	buf_reset(&b);
	net_trackback_reply(&b, "URL & title <missing>");
	T_CHECK(net_trackback_parse_response(b.ptr, b.len, a, &msg) == 1);
	T_STREQ(msg, "URL & title <missing>");
	r = "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n<response>\n"
	    "<error> 1 </error>\n<message>\n Sorry \xe9 \n</message>\n"
	    "</response>\n";
	T_CHECK(net_trackback_parse_response(r, strlen(r), a, &msg) == 1);
	T_STREQ(msg, "Sorry \xc3\xa9");
	r = "<response><error>0</error><rss version='0.91'><channel/></rss>"
	    "</response>";
	T_CHECK(net_trackback_parse_response(r, strlen(r), a, &msg) == 0);
	static const char *const bad[] = {"", "ok", "<response/>",
		"<response><error>x</error></response>",
		"<result><error>0</error></result>",
		"<!DOCTYPE response><response><error>0</error></response>",
		"<response><error>0</error>", NULL};
	for (const char *const *p = bad; *p; p++)
		T_CHECK(net_trackback_parse_response(*p, strlen(*p), a, &msg) ==
		    -1);
	buf_free(&b);
	arena_free(a);
}

int
main(void)
{
	if (!net_init() || !srv_start()) {
		printf("FAIL setup\n");
		return 1;
	}
	T_RUN(test_addr_v4);
	T_RUN(test_addr_v6);
	T_RUN(test_url_refused);
	T_RUN(test_fetch_ok);
	T_RUN(test_fetch_too_big);
	T_RUN(test_fetch_redirects);
	T_RUN(test_fetch_refused);
	T_RUN(test_fetch_rate);
	T_RUN(test_fetch_timeout);
	T_RUN(test_fetch_post);
	T_RUN(test_discover_link_header);
	T_RUN(test_discover_html);
	T_RUN(test_discover_pingback);
	T_RUN(test_discover_trackback);
	T_RUN(test_links_to);
	T_RUN(test_links);
	T_RUN(test_source_summary);
	T_RUN(test_hostile_html);
	T_RUN(test_xmlrpc_call);
	T_RUN(test_xmlrpc_hostile);
	T_RUN(test_xmlrpc_roundtrip);
	T_RUN(test_trackback_response);
	srv_end();
	net_cleanup();
	T_DONE();
}
