/*
 * libFuzzer target for the XML-RPC and TrackBack parsers (net/xmlrpc.c):
 * the input as a methodCall, a methodResponse and a TrackBack answer.
 * Return codes stay in their documented sets, every string handed out is
 * valid UTF-8, and what the parsers accept survives a trip through our
 * own writers unchanged (pingback.ping's two strings, a success message,
 * a fault's code and string).
 */
#include "../src/net/net.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "fuzz_xmlrpc: %s:%d: %s\n",        \
			    __FILE__, __LINE__, #expr);                    \
			abort();                                           \
		}                                                          \
	} while (0)

static bool
utf8(const char *s)
{
	return s != NULL && text_utf8_valid(s, strlen(s));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	arena *a = arena_new(0);
	const char *m, *src, *tgt, *msg, *m2, *src2, *tgt2, *msg2;
	buf b;
	int rc;

	buf_init(&b, 0);
	rc = net_xmlrpc_parse_call(s, size, a, &m, &src, &tgt);
	CHECK(rc == 0 || rc == NET_XMLRPC_PARSE ||
	    rc == NET_XMLRPC_BAD_PARAMS);
	CHECK(utf8(m) && utf8(src) && utf8(tgt));
	if (rc == 0 && strcmp(m, "pingback.ping") == 0) {
		net_xmlrpc_pingback_call(&b, src, tgt);
		CHECK(!b.err);
		CHECK(net_xmlrpc_parse_call(b.ptr, b.len, a, &m2, &src2,
		    &tgt2) == 0);
		CHECK(strcmp(m2, "pingback.ping") == 0);
		CHECK(strcmp(src, src2) == 0 && strcmp(tgt, tgt2) == 0);
	}

	rc = net_xmlrpc_parse_response(s, size, a, &msg);
	CHECK(utf8(msg));
	CHECK(rc != NET_XMLRPC_PARSE || *msg == '\0' ||
	    memmem(s, size, "32700", 5) != NULL);
	buf_reset(&b);
	if (rc == 0) {
		net_xmlrpc_success(&b, msg);
		CHECK(net_xmlrpc_parse_response(b.ptr, b.len, a, &msg2) == 0);
		CHECK(strcmp(msg, msg2) == 0);
	} else if (rc != NET_XMLRPC_PARSE) {
		CHECK(rc != 0);
		net_xmlrpc_fault(&b, rc, msg);
		CHECK(net_xmlrpc_parse_response(b.ptr, b.len, a, &msg2) == rc);
		CHECK(strcmp(msg, msg2) == 0);
	}

	rc = net_trackback_parse_response(s, size, a, &msg);
	CHECK(rc == -1 || rc == 0 || rc == 1);
	CHECK(utf8(msg));
	CHECK(rc == 1 || *msg == '\0');
	if (rc >= 0) {
		buf_reset(&b);
		net_trackback_reply(&b, rc ? msg : NULL);
		CHECK(net_trackback_parse_response(b.ptr, b.len, a, &msg2) ==
		    rc);
		/* the message is trimmed on reading: stable from then on */
		CHECK(strcmp(msg, msg2) == 0);
	}
	buf_free(&b);
	arena_free(a);
	return 0;
}
