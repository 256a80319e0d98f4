/*
 * wire: the strict request head parser (wire_head_parse), the chunked
 * decoder (wire_chunked_*) and the streaming multipart parser (wire_mp_*),
 * driven directly over bytes. Every input is copied into a buffer of
 * exactly its size, so ASan catches a read past the end.
 */
#include "t.h"

#include "../../src/http/wire.h"

#include <stdint.h>

static struct wire_head H;

/* Parses s[0..n) from an exact-size heap copy. */
static enum wire_status
head_n(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);
	memcpy(p, s, n);
	enum wire_status st = wire_head_parse(p, n, &H);
	/* spans point into p: keep them valid only for OK results checked
	 * right away by the caller (see head_keep) */
	free(p);
	return st;
}

static enum wire_status
head(const char *s)
{
	return head_n(s, strlen(s));
}

/* Parses a copy the caller frees, so spans in H stay readable. */
static enum wire_status
head_keep(const char *s, char **copy)
{
	size_t n = strlen(s);
	*copy = malloc(n ? n : 1);
	memcpy(*copy, s, n);
	return wire_head_parse(*copy, n, &H);
}

static bool
str_is(struct wire_str s, const char *lit)
{
	return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

/* ---- heads --------------------------------------------------------------- */

static void
test_head_valid(void)
{
	char *c;
	const char *s;

	s = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	T_CHECK(head_keep(s, &c) == WIRE_OK);
	T_CHECK(H.method == HTTP_GET && str_is(H.method_str, "GET"));
	T_CHECK(str_is(H.target, "/") && H.minor == 1);
	T_CHECK(H.head_len == strlen(s) && H.nheaders == 1);
	T_CHECK(H.keep_alive && !H.chunked && !H.has_length);
	T_CHECK(H.has_host && str_is(H.host, "a"));
	T_CHECK(!H.expect_continue);
	free(c);

	s = "POST /x?y=1 HTTP/1.1\r\nHost: example.com:8080\r\n"
	    "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
	T_CHECK(head_keep(s, &c) == WIRE_OK);
	T_CHECK(H.method == HTTP_POST && str_is(H.target, "/x?y=1"));
	T_CHECK(H.head_len == strlen(s) - 5);
	T_CHECK(H.has_length && H.length == 5 && !H.chunked);
	T_CHECK(str_is(H.host, "example.com:8080") && H.nheaders == 3);
	const struct wire_header *f = wire_header_find(&H, "content-TYPE");
	T_CHECK(f != NULL && f && str_is(f->value, "text/plain") &&
	    str_is(f->name, "Content-Type"));
	T_CHECK(wire_header_find(&H, "Content") == NULL);
	free(c);

	s = "GET /a HTTP/1.0\r\n\r\n";
	T_CHECK(head_keep(s, &c) == WIRE_OK);
	T_CHECK(H.minor == 0 && !H.has_host && !H.keep_alive);
	T_CHECK(H.nheaders == 0 && H.head_len == strlen(s));
	free(c);

	s = "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n";
	T_CHECK(head_keep(s, &c) == WIRE_OK && H.method == HTTP_HEAD);
	free(c);

	/* a few empty lines before the request line are tolerated */
	s = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
	T_CHECK(head_keep(s, &c) == WIRE_OK && H.head_len == strlen(s));
	free(c);

	s = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
	T_CHECK(head_keep(s, &c) == WIRE_OK && H.chunked && !H.has_length);
	free(c);
	s = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n";
	T_CHECK(head_keep(s, &c) == WIRE_OK && H.chunked);
	free(c);

	/* identical Content-Length values, as a list or repeated */
	s = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n";
	T_CHECK(head_keep(s, &c) == WIRE_OK && H.length == 5);
	free(c);
	s = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n"
	    "Content-Length: 7\r\n\r\n";
	T_CHECK(head_keep(s, &c) == WIRE_OK && H.length == 7);
	free(c);

	/* values: OWS trimmed, empty allowed, obs-text and tabs kept */
	s = "GET / HTTP/1.1\r\nHost: a\r\nX-A:  v w \t\r\nX-B:\r\n"
	    "X-C: \xe6\x97\xa5\tz\r\n\r\n";
	T_CHECK(head_keep(s, &c) == WIRE_OK && H.nheaders == 4);
	T_CHECK(str_is(H.headers[1].value, "v w"));
	T_CHECK(H.headers[2].value.n == 0);
	T_CHECK(str_is(H.headers[3].value, "\xe6\x97\xa5\tz"));
	free(c);

	/* absolute-form (the host is checked by the server, not here) */
	s = "GET http://example.com/b?c HTTP/1.1\r\nHost: x\r\n\r\n";
	T_CHECK(head_keep(s, &c) == WIRE_OK);
	T_CHECK(str_is(H.target, "http://example.com/b?c"));
	free(c);

	/* Expect: 100-continue, case-insensitively; not for HTTP/1.0 */
	s = "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n"
	    "Content-Length: 1\r\n\r\n";
	T_CHECK(head_keep(s, &c) == WIRE_OK && H.expect_continue);
	free(c);
	s = "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n";
	T_CHECK(head_keep(s, &c) == WIRE_OK && !H.expect_continue);
	free(c);

	/* known methods kiji does not serve: parsed, HTTP_OTHER (405) */
	static const char *other[] = { "PUT", "DELETE", "OPTIONS", "PATCH",
		"TRACE", "CONNECT" };
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		char req[128];
		snprintf(req, sizeof(req), "%s / HTTP/1.1\r\nHost: a\r\n\r\n",
		    other[i]);
		T_CHECK(head(req) == WIRE_OK && H.method == HTTP_OTHER);
	}

	/* the request line may be exactly WIRE_MAX_LINE bytes */
	buf b;
	buf_init(&b, 0);
	buf_puts(&b, "GET /");
	while (b.len < WIRE_MAX_LINE - 9)
		buf_putc(&b, 'a');
	buf_puts(&b, " HTTP/1.1");
	T_CHECK(b.len == WIRE_MAX_LINE);
	buf_puts(&b, "\r\nHost: a\r\n\r\n");
	T_CHECK(head_n(b.ptr, b.len) == WIRE_OK);
	buf_free(&b);
}

struct hcase {
	const char *in;
	size_t n;
	enum wire_status want;
};

#define L(s) s, sizeof(s) - 1

static void
test_head_refusals(void)
{
	static const struct hcase cases[] = {
		/* request line */
		{ L("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), WIRE_BAD },
		{ L("GET /  HTTP/1.1\r\nHost: a\r\n\r\n"), WIRE_BAD },
		{ L(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), WIRE_BAD },
		{ L("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), WIRE_BAD },
		{ L("GET /\tx HTTP/1.1\r\nHost: a\r\n\r\n"), WIRE_BAD },
		{ L("GET / http/1.1\r\nHost: a\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1\r\nHost: a\r\n\r\n"), WIRE_BAD },
		{ L("GET /\r\nHost: a\r\n\r\n"), WIRE_BAD },
		{ L("G@T / HTTP/1.1\r\nHost: a\r\n\r\n"), WIRE_BAD },
		{ L("GET a HTTP/1.1\r\nHost: a\r\n\r\n"), WIRE_BAD },
		{ L("GET http:/x HTTP/1.1\r\nHost: a\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), WIRE_VERSION },
		{ L("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), WIRE_VERSION },
		{ L("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), WIRE_VERSION },
		{ L("BREW / HTTP/1.1\r\nHost: a\r\n\r\n"), WIRE_METHOD },
		{ L("get / HTTP/1.1\r\nHost: a\r\n\r\n"), WIRE_METHOD },
		{ L("GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n"), WIRE_BAD },
		{ L("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"), WIRE_BAD },
		{ L("GET /\0"), WIRE_BAD },
		{ L("GET /\rx HTTP/1.1\r\nHost: a\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\nHost: a\n\n"), WIRE_BAD },
		{ L("GET /\n"), WIRE_BAD },
		{ L("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), WIRE_BAD },
		/* header fields */
		{ L("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\n\tX: a\r\nHost: a\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\nHost: a\r\nX-\xe6: x\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\nHost: a\r\nX: a\nY: b\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\nHost: a\r\n\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\nHost: a\r\n\rx"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n"), WIRE_BAD },
		/* framing */
		{ L("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n"), WIRE_BAD },
		{ L("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		  "Content-Length: 3\r\n\r\n"), WIRE_BAD },
		{ L("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
		  "Content-Length: 4\r\n\r\n"), WIRE_BAD },
		{ L("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\n"), WIRE_BAD },
		{ L("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3,\r\n\r\n"), WIRE_BAD },
		{ L("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n"), WIRE_BAD },
		{ L("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), WIRE_BAD },
		{ L("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n"), WIRE_BAD },
		{ L("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"), WIRE_BAD },
		{ L("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: "
		  "1234567890123456789\r\n\r\n"), WIRE_BAD },
		{ L("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), WIRE_BAD },
		{ L("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, "
		  "chunked\r\n\r\n"), WIRE_METHOD },
		{ L("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip"
		  "\r\n\r\n"), WIRE_METHOD },
		{ L("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, "
		  "identity\r\n\r\n"), WIRE_BAD },
		{ L("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n"), WIRE_BAD },
		{ L("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,"
		  "\r\n\r\n"), WIRE_BAD },
		{ L("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n"), WIRE_BAD },
		{ L("POST / HTTP/1.1\r\nHost: a\r\nExpect: foo\r\n\r\n"), WIRE_EXPECT },
		{ L("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, foo"
		  "\r\n\r\n"), WIRE_EXPECT },
		/* Host */
		{ L("GET / HTTP/1.1\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\nHost: a@b\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.1\r\nHost: \xe6\x97\xa5\r\n\r\n"), WIRE_BAD },
		{ L("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), WIRE_BAD },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hcase *k = &cases[i];
		enum wire_status st = head_n(k->in, k->n);
		if (st != k->want)
			printf("  case %zu: got %d want %d\n", i, (int)st,
			    (int)k->want);
		T_CHECK(st == k->want);
	}

	/* HTTP/1.0 may omit Host, and a Host with a port or IPv6 is fine;
	 * an empty Host is valid (a target without authority) */
	T_CHECK(head("GET / HTTP/1.0\r\n\r\n") == WIRE_OK);
	T_CHECK(head("GET / HTTP/1.1\r\nHost:\r\n\r\n") == WIRE_OK &&
	    H.has_host && H.host.n == 0);
	T_CHECK(head("GET / HTTP/1.0\r\nHost: \r\n\r\n") == WIRE_OK &&
	    H.has_host && H.host.n == 0);
	T_CHECK(head("GET / HTTP/1.1\r\nHost:\r\nHost:\r\n\r\n") == WIRE_BAD);
	/* a request line is judged as soon as its CR is in */
	T_CHECK(head("GET  / HTTP/1.1\r") == WIRE_BAD);
	T_CHECK(head("BREW / HTTP/1.1\r") == WIRE_METHOD);
	T_CHECK(head("GET / HTTP/3.0\r") == WIRE_VERSION);
	T_CHECK(head("GET / HTTP/1.1\r") == WIRE_INCOMPLETE);
	T_CHECK(head("\r") == WIRE_INCOMPLETE);
	T_CHECK(head("\r\n\r") == WIRE_INCOMPLETE);
	T_CHECK(head("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n") == WIRE_OK);
	T_CHECK(head("GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n") == WIRE_OK);
	/* minor is known once the request line is */
	T_CHECK(head("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") ==
	    WIRE_BAD && H.minor == 0);
	T_CHECK(head("GET / HTTP/1.1\r\n\r\n") == WIRE_BAD && H.minor == 1);
}

static void
test_head_limits(void)
{
	buf b;

	buf_init(&b, 0);
	/* a request line over 8 KiB: 414, whole or still coming */
	buf_puts(&b, "GET /");
	for (int i = 0; i < WIRE_MAX_LINE; i++)
		buf_putc(&b, 'a');
	T_CHECK(head_n(b.ptr, b.len) == WIRE_URI_LONG);
	buf_puts(&b, " HTTP/1.1\r\nHost: a\r\n\r\n");
	T_CHECK(head_n(b.ptr, b.len) == WIRE_URI_LONG);
	/* a line one byte too long */
	buf_reset(&b);
	buf_puts(&b, "GET /");
	while (b.len < WIRE_MAX_LINE - 8)
		buf_putc(&b, 'a');
	buf_puts(&b, " HTTP/1.1\r\nHost: a\r\n\r\n");
	T_CHECK(head_n(b.ptr, b.len) == WIRE_URI_LONG);

	/* 100 header lines are fine, 101 are 431 */
	buf_reset(&b);
	buf_puts(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 1; i < WIRE_MAX_HEADERS; i++)
		buf_printf(&b, "X-%d: %d\r\n", i, i);
	buf_puts(&b, "\r\n");
	T_CHECK(head_n(b.ptr, b.len) == WIRE_OK && H.nheaders == 100);
	b.len -= 2;
	buf_puts(&b, "X-101: 1\r\n\r\n");
	T_CHECK(head_n(b.ptr, b.len) == WIRE_FIELDS_LARGE);

	/* a header section over 32 KiB: 431, and already while it comes */
	buf_reset(&b);
	buf_puts(&b, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
	for (int i = 0; i < WIRE_MAX_FIELDS + 10; i++)
		buf_putc(&b, 'v');
	T_CHECK(head_n(b.ptr, b.len) == WIRE_FIELDS_LARGE);
	buf_puts(&b, "\r\n\r\n");
	T_CHECK(head_n(b.ptr, b.len) == WIRE_FIELDS_LARGE);
	/* made of many medium lines */
	buf_reset(&b);
	buf_puts(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < 40; i++) {
		buf_printf(&b, "X-%d: ", i);
		for (int k = 0; k < 1000; k++)
			buf_putc(&b, 'w');
		buf_puts(&b, "\r\n");
	}
	buf_puts(&b, "\r\n");
	T_CHECK(head_n(b.ptr, b.len) == WIRE_FIELDS_LARGE);
	/* a name that never ends */
	buf_reset(&b);
	buf_puts(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < WIRE_MAX_FIELDS + 10; i++)
		buf_putc(&b, 'n');
	T_CHECK(head_n(b.ptr, b.len) == WIRE_FIELDS_LARGE);
	/* just under the limit still parses */
	buf_reset(&b);
	buf_puts(&b, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
	while (b.len < 16 + WIRE_MAX_FIELDS - 2)
		buf_putc(&b, 'v');
	buf_puts(&b, "\r\n\r\n");
	T_CHECK(head_n(b.ptr, b.len) == WIRE_OK);
	buf_free(&b);
}

/* Every strict prefix of a valid head is INCOMPLETE, and the whole head
 * parses the same wherever the parse is cut. */
static void
test_head_prefixes(void)
{
	static const char *valid[] = {
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"\r\nGET /x?y=%20 HTTP/1.1\r\nHost: example.com:80\r\n"
		"User-Agent: t/1.0\r\nAccept:   */*  \r\nX-Empty:\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
		"Expect: 100-continue\r\nConnection: keep-alive\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		"Cookie: a=1; b=2\r\n\r\n",
		"GET http://a.example/p HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		"HEAD / HTTP/1.0\r\n\r\n",
		"PUT /x HTTP/1.1\r\nHost: a\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		size_t n = strlen(valid[i]);
		T_CHECK(head_n(valid[i], n) == WIRE_OK);
		T_CHECK(H.head_len == n);
		int bad = 0;
		for (size_t k = 0; k < n; k++) {
			enum wire_status st = head_n(valid[i], k);
			if (st != WIRE_INCOMPLETE) {
				if (!bad++)
					printf("  head %zu prefix %zu: %d\n", i, k,
					    (int)st);
			}
		}
		T_CHECK(bad == 0);
		/* with the start of a body after it: the same head_len */
		buf b;
		buf_init(&b, 0);
		buf_puts(&b, valid[i]);
		buf_puts(&b, "abc\r\n\r\n");
		T_CHECK(head_n(b.ptr, b.len) == WIRE_OK && H.head_len == n);
		buf_free(&b);
	}
}

static void
test_head_keep_alive(void)
{
	static const struct {
		const char *h;
		bool ka;
	} cases[] = {
		{ "GET / HTTP/1.1\r\nHost: a\r\n\r\n", true },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n", false },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n",
		  true },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: te, close\r\n\r\n",
		  false },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n"
		  "Connection: close\r\n\r\n", false },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n", true },
		{ "GET / HTTP/1.0\r\n\r\n", false },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true },
		{ "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true },
		{ "GET / HTTP/1.0\r\nConnection: foo , keep-alive\r\n\r\n", true },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false },
		{ "GET / HTTP/1.0\r\nConnection: foo\r\n"
		  "Connection: keep-alive\r\n\r\n", true },
		{ "GET / HTTP/1.0\r\nConnection: keep-alives\r\n\r\n", false },
		{ "GET / HTTP/1.0\r\nKeep-Alive: timeout=5\r\n\r\n", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum wire_status st = head(cases[i].h);
		if (st != WIRE_OK || H.keep_alive != cases[i].ka)
			printf("  case %zu: st %d keep_alive %d\n", i, (int)st,
			    (int)H.keep_alive);
		T_CHECK(st == WIRE_OK && H.keep_alive == cases[i].ka);
	}
}

/* ---- chunked ------------------------------------------------------------- */

struct ch_res {
	buf data;
	size_t used;       /* input bytes consumed */
	enum wire_chunk_state st;
};

/* Feeds s[0..n) in pieces of `piece` bytes (0: whole), each from an
 * exact-size heap copy, stopping once DONE or ERROR. */
static void
chunked_run(const char *s, size_t n, size_t piece, struct ch_res *r)
{
	struct wire_chunked c;

	wire_chunked_init(&c);
	buf_init(&r->data, 0);
	r->used = 0;
	if (piece == 0)
		piece = n ? n : 1;
	for (size_t off = 0; off < n;) {
		size_t k = n - off < piece ? n - off : piece;
		char *p = malloc(k);
		size_t out = 0;
		memcpy(p, s + off, k);
		size_t used = wire_chunked_feed(&c, p, k, &out);
		buf_put(&r->data, p, out);
		free(p);
		r->used += used;
		off += k;
		if (c.st == WIRE_CH_DONE || c.st == WIRE_CH_ERROR)
			break;
	}
	r->st = c.st;
}

static void
test_chunked_valid(void)
{
	const char *msg = "4;ext=1\r\nWiki\r\n"
	    "5 ; a=\"b c\" ;d\r\npedia\r\n"
	    "E\r\n in\r\n\r\nchunks.\r\n"
	    "000a\r\n0123456789\r\n"
	    "0;last=yes\r\nTrailer-A: x\r\nT2: y y\r\n\r\n";
	const char *want = "Wikipedia in\r\n\r\nchunks.0123456789";
	const char *next = "GET / HTTP/1.1\r\n";
	buf in;
	struct ch_res whole, r;

	buf_init(&in, 0);
	buf_puts(&in, msg);
	buf_puts(&in, next);
	chunked_run(in.ptr, in.len, 0, &whole);
	T_CHECK(whole.st == WIRE_CH_DONE);
	T_CHECK(whole.used == strlen(msg)); /* the next request is left */
	T_CHECK(whole.data.len == strlen(want) &&
	    memcmp(whole.data.ptr, want, whole.data.len) == 0);
	for (size_t piece = 1; piece <= 7; piece++) {
		chunked_run(in.ptr, in.len, piece, &r);
		T_CHECK(r.st == WIRE_CH_DONE);
		T_CHECK(r.data.len == whole.data.len &&
		    memcmp(r.data.ptr, whole.data.ptr, r.data.len) == 0);
		T_CHECK(r.used == strlen(msg));
		buf_free(&r.data);
	}
	buf_free(&whole.data);
	buf_free(&in);

	/* the terminating chunk alone; bytes after it are not consumed,
	 * and a finished decoder takes nothing more */
	struct wire_chunked c;
	char tail[] = "0\r\n\r\nGET /";
	size_t out = 99;
	wire_chunked_init(&c);
	T_CHECK(wire_chunked_feed(&c, tail, strlen(tail), &out) == 5);
	T_CHECK(c.st == WIRE_CH_DONE && out == 0 && c.total == 0);
	T_CHECK(wire_chunked_feed(&c, tail + 5, 5, &out) == 0 && out == 0);
	T_CHECK(memcmp(tail + 5, "GET /", 5) == 0);

	/* total counts decoded bytes; upper-case hex; 15 hex digits parse */
	char big[] = "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n";
	wire_chunked_init(&c);
	T_CHECK(wire_chunked_feed(&c, big, strlen(big), &out) == strlen(big));
	T_CHECK(c.st == WIRE_CH_DONE && out == 26 && c.total == 26);
	T_CHECK(memcmp(big, "abcdefghijklmnopqrstuvwxyz", 26) == 0);
	char many[] = "00000000000000f\r\n";
	wire_chunked_init(&c);
	T_CHECK(wire_chunked_feed(&c, many, strlen(many), &out) == strlen(many));
	T_CHECK(c.st == WIRE_CH_DATA && c.left == 15);

	/* an extension of exactly WIRE_MAX_CHUNK_EXT bytes is fine */
	buf_init(&in, 0);
	buf_putc(&in, '1');
	buf_putc(&in, ';');
	for (int i = 1; i < WIRE_MAX_CHUNK_EXT; i++)
		buf_putc(&in, 'e');
	buf_puts(&in, "\r\nx\r\n0\r\n\r\n");
	chunked_run(in.ptr, in.len, 0, &r);
	T_CHECK(r.st == WIRE_CH_DONE && r.data.len == 1);
	buf_free(&r.data);
	buf_free(&in);
}

static void
test_chunked_errors(void)
{
	static const char *bad[] = {
		"ffffffffffffffff\r\n",          /* 16 hex digits: overflow */
		"10000000000000000\r\n",
		"0000000000000001\r\nx\r\n0\r\n\r\n",
		"g\r\n", "\r\n", "-1\r\n", "0x5\r\nhello\r\n", " 5\r\nhello\r\n",
		";x\r\n", "5\nhello\r\n0\r\n\r\n", "5\r\rhello",
		"5 \r\nhello\r\n0\r\n\r\n",   /* whitespace only before ';' */
		"5 x\r\nhello\r\n0\r\n\r\n", "5\t6\r\nhello\r\n",
		"3\r\nabcX\r\n0\r\n\r\n",        /* data longer than its size */
		"3\r\nabc\rX0\r\n\r\n",
		"3\r\nabc\n0\r\n\r\n",
		"3\r\nab\r\n0\r\n\r\n",
		"1;a\nb\r\nx\r\n",                 /* bare LF in an extension */
		"1;a\x01\r\nx\r\n",
		"1;a\x7f\r\nx\r\n",
		"0\r\nX: a\nY: b\r\n\r\n",       /* bare LF in the trailer */
		"0\r\n X: a\r\n\r\n",             /* obs-fold in the trailer */
		"0\r\nX: a\x01\r\n\r\n",
		"0\r\n\rx",
		"0\r\n\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (size_t piece = 0; piece <= 1; piece++) {
			struct ch_res r;
			chunked_run(bad[i], strlen(bad[i]), piece, &r);
			if (r.st != WIRE_CH_ERROR)
				printf("  chunked case %zu (piece %zu): st %d\n",
				    i, piece, (int)r.st);
			T_CHECK(r.st == WIRE_CH_ERROR);
			buf_free(&r.data);
		}
	}
	/* on error the whole input counts as used */
	struct wire_chunked c;
	char in[] = "zz\r\n";
	size_t out;
	wire_chunked_init(&c);
	T_CHECK(wire_chunked_feed(&c, in, 4, &out) == 4 && c.st == WIRE_CH_ERROR);

	/* an over-long extension, and an over-long trailer section */
	buf b;
	struct ch_res r;
	buf_init(&b, 0);
	buf_puts(&b, "1;");
	for (int i = 0; i < WIRE_MAX_CHUNK_EXT + 10; i++)
		buf_putc(&b, 'e');
	buf_puts(&b, "\r\nx\r\n0\r\n\r\n");
	chunked_run(b.ptr, b.len, 0, &r);
	T_CHECK(r.st == WIRE_CH_ERROR);
	buf_free(&r.data);
	chunked_run(b.ptr, b.len, 1, &r);
	T_CHECK(r.st == WIRE_CH_ERROR);
	buf_free(&r.data);
	buf_reset(&b);
	buf_puts(&b, "0\r\n");
	for (int i = 0; i < 200; i++)
		buf_printf(&b, "X-%d: %060d\r\n", i, i);
	buf_puts(&b, "\r\n");
	chunked_run(b.ptr, b.len, 0, &r);
	T_CHECK(r.st == WIRE_CH_ERROR);
	buf_free(&r.data);
	buf_free(&b);
}

/* ---- multipart ----------------------------------------------------------- */

struct mp_part {
	struct wire_mp_part part;
	buf data;
	bool ended;
};

struct mp_rec {
	struct mp_part parts[16];
	size_t n;
	bool open, order_ok;
	int refuse_begin; /* refuse the k-th begin (1-based), 0 never */
};

static bool
mp_begin(void *ctx, const struct wire_mp_part *part)
{
	struct mp_rec *r = ctx;
	if (r->open || r->n == 16)
		r->order_ok = false;
	if (r->n == 16)
		return false;
	struct mp_part *p = &r->parts[r->n++];
	p->part = *part;
	buf_init(&p->data, 0);
	p->ended = false;
	r->open = true;
	return r->refuse_begin == 0 || (int)r->n != r->refuse_begin;
}

static bool
mp_data(void *ctx, const char *d, size_t n)
{
	struct mp_rec *r = ctx;
	if (!r->open || r->n == 0) {
		r->order_ok = false;
		return false;
	}
	buf_put(&r->parts[r->n - 1].data, d, n);
	return true;
}

static bool
mp_end(void *ctx)
{
	struct mp_rec *r = ctx;
	if (!r->open || r->n == 0)
		r->order_ok = false;
	else
		r->parts[r->n - 1].ended = true;
	r->open = false;
	return true;
}

static void
mp_rec_free(struct mp_rec *r)
{
	for (size_t i = 0; i < r->n; i++)
		buf_free(&r->parts[i].data);
	r->n = 0;
}

/* Runs body through a fresh parser, cut at the given points (sorted,
 * ncut of them), each piece an exact-size heap copy. Returns whether
 * every feed succeeded; *fin is wire_mp_finish. */
static bool
mp_run(const char *ct, const char *body, size_t n, const size_t *cuts,
    size_t ncut, struct mp_rec *r, bool *fin)
{
	struct wire_mp *m = malloc(sizeof(*m));
	struct wire_mp_cb cb = { mp_begin, mp_data, mp_end, r };
	bool ok = true;
	int refuse = r->refuse_begin;

	memset(r, 0, sizeof(*r));
	r->order_ok = true;
	r->refuse_begin = refuse;
	*fin = false;
	if (!wire_mp_init(m, ct, strlen(ct), &cb)) {
		free(m);
		return false;
	}
	size_t off = 0;
	for (size_t i = 0; i <= ncut && ok; i++) {
		size_t end = i < ncut ? cuts[i] : n;
		size_t k = end - off;
		char *p = malloc(k ? k : 1);
		memcpy(p, body + off, k);
		if (k > 0)
			ok = wire_mp_feed(m, p, k);
		free(p);
		off = end;
	}
	*fin = wire_mp_finish(m);
	free(m);
	return ok;
}

#define MP_CT "multipart/form-data; boundary=B0und4ry"

static const char mp_body[] =
    "preamble, ignored\r\n"
    "--B0und4ry\r\n"
    "Content-Disposition: form-data; name=\"a\"\r\n"
    "\r\n"
    "alpha\r\n"
    "--B0und4ry\r\n"
    "content-disposition: form-data; name=\"b\"\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "\xe6\x97\xa5\xe6\x9c\xac x--B0und4ry y\n--B0und4ry\r--B0und4ry\r\n"
    "--B0und4\r\n-\r\n\r\n\r\r\n--B0und4r\r\n"
    "--B0und4ry\r\n"
    "Content-Disposition: form-data; name=\"up\"; filename=\"a b.bin\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "file\0data\r\n\xff\r\n"
    "--B0und4ry--\r\n"
    "epilogue, ignored\r\n";

static const char mp_b_data[] =
    "\xe6\x97\xa5\xe6\x9c\xac x--B0und4ry y\n--B0und4ry\r--B0und4ry\r\n"
    "--B0und4\r\n-\r\n\r\n\r\r\n--B0und4r";
static const char mp_file_data[] = "file\0data\r\n\xff";

static bool
mp_same(const struct mp_rec *a, const struct mp_rec *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct mp_part *x = &a->parts[i], *y = &b->parts[i];
		if (strcmp(x->part.name, y->part.name) ||
		    strcmp(x->part.filename, y->part.filename) ||
		    strcmp(x->part.content_type, y->part.content_type) ||
		    x->part.is_file != y->part.is_file || x->ended != y->ended ||
		    x->data.len != y->data.len ||
		    memcmp(x->data.ptr, y->data.ptr, x->data.len) != 0)
			return false;
	}
	return true;
}

static void
test_multipart_parts(void)
{
	size_t n = sizeof(mp_body) - 1;
	struct mp_rec whole = { 0 }, r = { 0 };
	bool fin;

	T_CHECK(mp_run(MP_CT, mp_body, n, NULL, 0, &whole, &fin) && fin);
	T_CHECK(whole.order_ok && !whole.open);
	T_CHECK(whole.n == 3);
	if (whole.n == 3) {
		const struct mp_part *p = whole.parts;
		T_STREQ(p[0].part.name, "a");
		T_CHECK(!p[0].part.is_file && p[0].part.filename[0] == '\0');
		T_STREQ(p[0].part.content_type, "");
		T_CHECK(p[0].data.len == 5 && !memcmp(p[0].data.ptr, "alpha", 5));
		T_STREQ(p[1].part.name, "b");
		T_STREQ(p[1].part.content_type, "text/plain; charset=utf-8");
		T_CHECK(!p[1].part.is_file);
		/* delimiter-like strings not preceded by CRLF stay data */
		T_CHECK(p[1].data.len == sizeof(mp_b_data) - 1 &&
		    !memcmp(p[1].data.ptr, mp_b_data, p[1].data.len));
		T_STREQ(p[2].part.name, "up");
		T_CHECK(p[2].part.is_file);
		T_STREQ(p[2].part.filename, "a b.bin");
		T_STREQ(p[2].part.content_type, "application/octet-stream");
		T_CHECK(p[2].data.len == sizeof(mp_file_data) - 1 &&
		    !memcmp(p[2].data.ptr, mp_file_data, p[2].data.len));
		for (int i = 0; i < 3; i++)
			T_CHECK(p[i].ended);
	}

	/* cut once at every point: the same parts and data */
	int diff = 0;
	for (size_t k = 0; k <= n; k++) {
		bool ok = mp_run(MP_CT, mp_body, n, &k, 1, &r, &fin);
		if (!ok || !fin || !r.order_ok || !mp_same(&whole, &r)) {
			if (!diff++)
				printf("  split at %zu differs (ok %d fin %d)\n",
				    k, ok, fin);
		}
		mp_rec_free(&r);
	}
	T_CHECK(diff == 0);
	/* and one byte at a time */
	size_t *cuts = malloc(n * sizeof(*cuts));
	for (size_t k = 0; k < n; k++)
		cuts[k] = k + 1;
	T_CHECK(mp_run(MP_CT, mp_body, n, cuts, n - 1, &r, &fin) && fin);
	T_CHECK(r.order_ok && mp_same(&whole, &r));
	mp_rec_free(&r);
	free(cuts);
	mp_rec_free(&whole);

	/* transport padding after a delimiter (not before the close "--") */
	const char *pad = "--B0und4ry \t\r\nContent-Disposition: form-data; "
	    "name=a\r\n\r\nv\r\n--B0und4ry\t\r\nContent-Disposition: "
	    "form-data; name=b\r\n\r\nw\r\n--B0und4ry--  \r\n";
	size_t pn = strlen(pad);
	T_CHECK(mp_run(MP_CT, pad, pn, NULL, 0, &whole, &fin) && fin);
	T_CHECK(whole.n == 2 && whole.parts[1].data.len == 1);
	for (size_t k = 0; k <= pn; k++) {
		bool ok = mp_run(MP_CT, pad, pn, &k, 1, &r, &fin);
		T_CHECK(ok && fin && mp_same(&whole, &r));
		mp_rec_free(&r);
	}
	mp_rec_free(&whole);
	pad = "--B0und4ry\r\nContent-Disposition: form-data; name=a\r\n\r\n"
	    "v\r\n--B0und4ry --\r\n";
	T_CHECK(!mp_run(MP_CT, pad, strlen(pad), NULL, 0, &r, &fin) && !fin);
	mp_rec_free(&r);

	/* a body starting right at the delimiter, an empty part, quoted
	 * boundary with a space */
	const char *b2 = "--a b\r\nContent-Disposition: form-data; name=\"e\""
	    "\r\n\r\n\r\n--a b\r\nContent-Disposition: form-data; name=x\r\n"
	    "\r\n1\r\n--a b--";
	T_CHECK(mp_run("multipart/form-data; boundary=\"a b\"", b2, strlen(b2),
	    NULL, 0, &r, &fin) && fin);
	T_CHECK(r.n == 2 && r.parts[0].data.len == 0);
	if (r.n == 2) {
		T_STREQ(r.parts[1].part.name, "x");
		T_CHECK(r.parts[1].data.len == 1 && r.parts[1].data.ptr[0] == '1');
	}
	mp_rec_free(&r);
}

static void
test_multipart_errors(void)
{
	size_t n = sizeof(mp_body) - 1;
	struct mp_rec r = { 0 };
	bool fin;

	/* no close delimiter: every feed fine, finish false */
	const char *end = memmem(mp_body, n, "--B0und4ry--", 12);
	T_CHECK(end != NULL);
	size_t cut = end ? (size_t)(end - mp_body) : 0;
	T_CHECK(mp_run(MP_CT, mp_body, cut, NULL, 0, &r, &fin) && !fin);
	mp_rec_free(&r);
	T_CHECK(mp_run(MP_CT, mp_body, cut + 10, NULL, 0, &r, &fin) && !fin);
	mp_rec_free(&r);
	T_CHECK(mp_run(MP_CT, mp_body, cut + 11, NULL, 0, &r, &fin) && !fin);
	mp_rec_free(&r);
	T_CHECK(mp_run(MP_CT, mp_body, cut - 2, NULL, 0, &r, &fin) && !fin);
	mp_rec_free(&r);
	T_CHECK(mp_run(MP_CT, "", 0, NULL, 0, &r, &fin) && !fin);
	mp_rec_free(&r);
	T_CHECK(mp_run(MP_CT, "just a preamble", 15, NULL, 0, &r, &fin) && !fin);
	mp_rec_free(&r);
	/* the whole body, the epilogue ignored */
	T_CHECK(mp_run(MP_CT, mp_body, n, NULL, 0, &r, &fin) && fin);
	mp_rec_free(&r);

	/* bad Content-Type values: init fails */
	static const char *badct[] = {
		"multipart/form-data",
		"multipart/form-data; boundary=",
		"multipart/form-data; boundary=\"\"",
		"multipart/form-data; boundary=\"abc",
		"multipart/form-data; boundary=a@b",
		"multipart/form-data; boundary=\"ab \"",
		"multipart/form-data; boundary=\"a\x01\"",
		"multipart/form-data; charset=utf-8",
		"multipart/mixed; boundary=abc",
		"multipart/form-dataX; boundary=abc",
		"application/x-www-form-urlencoded",
		"",
		("multipart/form-data; boundary="
		"12345678901234567890123456789012345678901234567890123456789012345678901"),
	};
	struct wire_mp m;
	struct wire_mp_cb cb = { mp_begin, mp_data, mp_end, &r };
	for (size_t i = 0; i < sizeof(badct) / sizeof(badct[0]); i++) {
		bool ok = wire_mp_init(&m, badct[i], strlen(badct[i]), &cb);
		if (ok)
			printf("  accepted Content-Type: %s\n", badct[i]);
		T_CHECK(!ok);
	}
	static const char *goodct[] = {
		"multipart/form-data; boundary=abc",
		"Multipart/Form-Data;boundary=abc",
		"multipart/form-data; charset=utf-8; BOUNDARY=\"x'()+_,-./:=?\"",
		("multipart/form-data; boundary="
		"1234567890123456789012345678901234567890123456789012345678901234567890"),
	};
	for (size_t i = 0; i < sizeof(goodct) / sizeof(goodct[0]); i++) {
		bool ok = wire_mp_init(&m, goodct[i], strlen(goodct[i]), &cb);
		if (!ok)
			printf("  refused Content-Type: %s\n", goodct[i]);
		T_CHECK(ok && m.st == WIRE_MP_PREAMBLE);
	}

	/* malformed parts: the feed fails */
	static const char *bad[] = {
		/* no Content-Disposition */
		"--B0und4ry\r\nContent-Type: text/plain\r\n\r\nx\r\n--B0und4ry--",
		"--B0und4ry\r\n\r\nx\r\n--B0und4ry--",
		/* not form-data, no name */
		"--B0und4ry\r\nContent-Disposition: attachment; name=\"a\"\r\n"
		"\r\nx\r\n--B0und4ry--",
		"--B0und4ry\r\nContent-Disposition: form-data\r\n\r\nx\r\n"
		"--B0und4ry--",
		/* a header line without a colon, a bare CR */
		"--B0und4ry\r\nContent-Disposition: form-data; name=a\r\njunk"
		"\r\n\r\nx\r\n--B0und4ry--",
		"--B0und4ry\r\nContent-Disposition: form-data; name=a\rX: y"
		"\r\n\r\nx\r\n--B0und4ry--",
		/* garbage right after a delimiter */
		"--B0und4ry\r\nContent-Disposition: form-data; name=a\r\n\r\n"
		"x\r\n--B0und4ryX\r\n",
		"--B0und4ryXY",
		/* two Content-Disposition lines */
		"--B0und4ry\r\nContent-Disposition: form-data; name=a\r\n"
		"Content-Disposition: form-data; name=b\r\n\r\nx\r\n--B0und4ry--",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool ok = mp_run(MP_CT, bad[i], strlen(bad[i]), NULL, 0, &r, &fin);
		if (ok)
			printf("  accepted multipart case %zu\n", i);
		T_CHECK(!ok && !fin);
		mp_rec_free(&r);
	}
	/* a part head over WIRE_MP_MAX_PART_HEAD */
	buf b;
	buf_init(&b, 0);
	buf_puts(&b, "--B0und4ry\r\nContent-Disposition: form-data; name=a\r\n"
	    "X-Pad: ");
	for (int i = 0; i < WIRE_MP_MAX_PART_HEAD; i++)
		buf_putc(&b, 'p');
	buf_puts(&b, "\r\n\r\nx\r\n--B0und4ry--");
	T_CHECK(!mp_run(MP_CT, b.ptr, b.len, NULL, 0, &r, &fin) && !fin);
	mp_rec_free(&r);
	buf_free(&b);

	/* a callback refusing stops the parse */
	r.refuse_begin = 2;
	T_CHECK(!mp_run(MP_CT, mp_body, n, NULL, 0, &r, &fin) && !fin);
	T_CHECK(r.n == 2);
	r.refuse_begin = 0;
	mp_rec_free(&r);
}

int
main(void)
{
	T_RUN(test_head_valid);
	T_RUN(test_head_refusals);
	T_RUN(test_head_limits);
	T_RUN(test_head_prefixes);
	T_RUN(test_head_keep_alive);
	T_RUN(test_chunked_valid);
	T_RUN(test_chunked_errors);
	T_RUN(test_multipart_parts);
	T_RUN(test_multipart_errors);
	T_DONE();
}
