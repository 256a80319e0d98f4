/*
 * libFuzzer target for the request head parser, wire_head_parse (RFC 9112
 * §2–§6, strict). The input is the bytes a client sends, copied into a
 * buffer of exactly that size (ASan catches a read past it). It is parsed
 * whole, then as prefixes cut at n/3, n/2, n-1 and, when it parses, at
 * head_len-1 and head_len. An input ending in k bytes 0xff is parsed once
 * more with the k bytes before them repeated until it is WIRE_MAX_HEAD+1
 * bytes long ("GET /a\xff" is a 40 KB request line, "\r\n\xff\xff" 20000
 * leading empty lines), so every limit is reached.
 *
 * Asserts:
 *  - the status is one of enum wire_status; h->minor is 0 or 1 whatever
 *    the status; WIRE_INCOMPLETE never for more than WIRE_MAX_HEAD bytes;
 *  - prefixes agree with the whole: when the input parses with head_len
 *    L, a prefix shorter than L is INCOMPLETE and one of L bytes or more
 *    gives the same head; an INCOMPLETE input has only INCOMPLETE
 *    prefixes; a refused input has no prefix that parses;
 *  - on WIRE_OK: head_len <= n and <= WIRE_MAX_HEAD, ending in CRLF;
 *    minor 0 or 1; nheaders <= WIRE_MAX_HEADERS; every span lies in the
 *    head; the method is a token and matches enum http_method; the target
 *    is non-empty with no byte <= 0x20 or 0x7f; header names are tokens
 *    (tchar), values have no control byte but HTAB and no leading or
 *    trailing SP/HTAB; framing (§6.3): never chunked and has_length
 *    together, chunked exactly when Transfer-Encoding is present and
 *    never on 1.0, has_length only with an all-digit (or digit list)
 *    Content-Length whose value it holds, Content-Length honoured when not
 *    chunked, has_host exactly when Host is present (always on 1.1) and
 *    host its value, expect_continue only with Expect (and always for
 *    "Expect: 100-continue" on 1.1), keep_alive the version default
 *    without Connection and false with "Connection: close";
 *  - wire_header_find returns the first header of that name (any case),
 *    or NULL.
 * h is filled with garbage before each parse, so a field left unset on
 * WIRE_OK shows up (UBSan reports a bool that is neither 0 nor 1).
 */
#include "../src/http/wire.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool
is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool
is_token(struct wire_str s)
{
	if (s.n == 0)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (!is_tchar((unsigned char)s.p[i]))
			return false;
	return true;
}

static bool
str_is(struct wire_str s, const char *lit)
{
	size_t l = strlen(lit);

	return s.n == l && memcmp(s.p, lit, l) == 0;
}

static bool
str_icase(struct wire_str s, const char *lit)
{
	size_t l = strlen(lit);

	return s.n == l && strncasecmp(s.p, lit, l) == 0;
}

/* A non-empty span lies within p[0..len). */
static void
check_span(struct wire_str s, const char *p, size_t len)
{
	if (s.n == 0)
		return;
	assert(s.p != NULL && s.p >= p && s.n <= len);
	assert((size_t)(s.p - p) <= len - s.n);
}

static const struct wire_header *
find_first(const struct wire_head *h, const char *name)
{
	for (size_t i = 0; i < h->nheaders; i++)
		if (str_icase(h->headers[i].name, name))
			return &h->headers[i];
	return NULL;
}

/* A comma-separated header value lists token tok (any case). */
static bool
list_has(struct wire_str v, const char *tok)
{
	size_t i = 0;

	while (i < v.n) {
		size_t s, e;

		while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
			i++;
		s = i;
		while (i < v.n && v.p[i] != ',')
			i++;
		e = i;
		while (e > s && (v.p[e - 1] == ' ' || v.p[e - 1] == '\t'))
			e--;
		if (str_icase((struct wire_str){ v.p + s, e - s }, tok))
			return true;
	}
	return false;
}

static void
check_find(const struct wire_head *h, const char *name)
{
	const struct wire_header *got = wire_header_find(h, name);

	assert(got == find_first(h, name));
}

static void
check_framing(const struct wire_head *h)
{
	const struct wire_header *te = find_first(h, "Transfer-Encoding");
	const struct wire_header *cl = find_first(h, "Content-Length");
	const struct wire_header *host = find_first(h, "Host");
	const struct wire_header *exp = find_first(h, "Expect");
	bool conn = false, close = false;

	assert(!(h->chunked && h->has_length));
	if (h->minor == 0)
		assert(!h->chunked);
	if (h->minor == 1)
		assert(h->has_host);
	/* A Transfer-Encoding the head accepts can only end in chunked. */
	assert(h->chunked == (te != NULL));

	if (h->has_length) {
		bool digits;
		uint64_t v = 0;

		assert(cl != NULL);
		digits = cl->value.n > 0;
		for (size_t i = 0; i < h->nheaders; i++) {
			const struct wire_header *x = &h->headers[i];
			if (!str_icase(x->name, "Content-Length"))
				continue;
			for (size_t j = 0; j < x->value.n; j++)
				assert(x->value.p[j] != '\0' &&
				    strchr("0123456789, \t", x->value.p[j]));
		}
		for (size_t j = 0; j < cl->value.n && digits; j++) {
			unsigned d = (unsigned char)cl->value.p[j] - '0';
			if (d > 9) {
				digits = false;
				break;
			}
			/* An accepted length fits in 64 bits. */
			assert(v <= (UINT64_MAX - d) / 10);
			v = v * 10 + d;
		}
		if (digits)
			assert(h->length == v);
	}
	if (cl != NULL && !h->chunked)
		assert(h->has_length);

	assert(h->has_host == (host != NULL));
	if (h->has_host)
		assert(h->host.n == host->value.n &&
		    (h->host.n == 0 || memcmp(h->host.p, host->value.p, h->host.n) == 0));

	if (h->expect_continue)
		assert(exp != NULL);
	if (exp != NULL && h->minor == 1 && str_icase(exp->value, "100-continue"))
		assert(h->expect_continue);

	for (size_t i = 0; i < h->nheaders; i++)
		if (str_icase(h->headers[i].name, "Connection")) {
			conn = true;
			close |= list_has(h->headers[i].value, "close");
		}
	if (!conn)
		assert(h->keep_alive == (h->minor == 1));
	if (close)
		assert(!h->keep_alive);
}

/* The contract of a WIRE_OK head parsed from p[0..n). */
static void
check_ok(const char *p, size_t n, const struct wire_head *h)
{
	size_t L = h->head_len;

	assert(L >= 2 && L <= n && L <= WIRE_MAX_HEAD);
	assert(p[L - 2] == '\r' && p[L - 1] == '\n');
	assert(h->minor == 0 || h->minor == 1);
	assert(h->nheaders <= WIRE_MAX_HEADERS);

	assert(is_token(h->method_str));
	check_span(h->method_str, p, L);
	assert((unsigned)h->method < HTTP_METHOD__MAX);
	assert(h->method == (str_is(h->method_str, "GET") ? HTTP_GET :
	    str_is(h->method_str, "HEAD") ? HTTP_HEAD :
	    str_is(h->method_str, "POST") ? HTTP_POST : HTTP_OTHER));

	assert(h->target.n > 0);
	check_span(h->target, p, L);
	for (size_t i = 0; i < h->target.n; i++) {
		unsigned char c = (unsigned char)h->target.p[i];
		assert(c > 0x20 && c != 0x7f);
	}

	for (size_t i = 0; i < h->nheaders; i++) {
		struct wire_str nm = h->headers[i].name, v = h->headers[i].value;

		assert(is_token(nm));
		check_span(nm, p, L);
		check_span(v, p, L);
		for (size_t j = 0; j < v.n; j++) {
			unsigned char c = (unsigned char)v.p[j];
			assert((c >= 0x20 && c != 0x7f) || c == '\t');
		}
		if (v.n > 0) {
			assert(v.p[0] != ' ' && v.p[0] != '\t');
			assert(v.p[v.n - 1] != ' ' && v.p[v.n - 1] != '\t');
		}
	}
	if (h->has_host)
		check_span(h->host, p, L);

	check_framing(h);
	check_find(h, "Host");
	check_find(h, "content-length");
	check_find(h, "TRANSFER-ENCODING");
	check_find(h, "X-Forwarded-For");
	check_find(h, "");
}

/* Parses a copy of d[0..n) made exactly n bytes long; *bufp gets the copy
 * (the spans in h point into it), to free once h is no longer needed. */
static enum wire_status
parse(const uint8_t *d, size_t n, char **bufp, struct wire_head *h)
{
	char *b = malloc(n);
	enum wire_status st;

	assert(b != NULL || n == 0);
	if (n)
		memcpy(b, d, n);
	memset(h, 0xa5, sizeof(*h));
	st = wire_head_parse(b, n, h);
	assert(st == WIRE_OK || st == WIRE_INCOMPLETE || st == WIRE_BAD ||
	    st == WIRE_EXPECT || st == WIRE_URI_LONG ||
	    st == WIRE_FIELDS_LARGE || st == WIRE_METHOD || st == WIRE_VERSION);
	assert(h->minor == 0 || h->minor == 1);
	if (st == WIRE_INCOMPLETE)
		assert(n <= WIRE_MAX_HEAD);
	if (st == WIRE_OK)
		check_ok(b, n, h);
	*bufp = b;
	return st;
}

static bool
span_same(struct wire_str x, const char *px, struct wire_str y, const char *py)
{
	return x.n == y.n && (x.n == 0 || x.p - px == y.p - py);
}

/* Two WIRE_OK heads, parsed from buffers pa and pb, are the same head. */
static void
same_head(const struct wire_head *a, const char *pa, const struct wire_head *b,
    const char *pb)
{
	assert(a->head_len == b->head_len);
	assert(a->method == b->method);
	assert(span_same(a->method_str, pa, b->method_str, pb));
	assert(span_same(a->target, pa, b->target, pb));
	assert(a->minor == b->minor);
	assert(a->nheaders == b->nheaders);
	for (size_t i = 0; i < a->nheaders; i++) {
		assert(span_same(a->headers[i].name, pa, b->headers[i].name, pb));
		assert(span_same(a->headers[i].value, pa, b->headers[i].value, pb));
	}
	assert(a->chunked == b->chunked);
	assert(a->has_length == b->has_length);
	if (a->has_length)
		assert(a->length == b->length);
	assert(a->keep_alive == b->keep_alive);
	assert(a->expect_continue == b->expect_continue);
	assert(a->has_host == b->has_host);
	if (a->has_host)
		assert(span_same(a->host, pa, b->host, pb));
}

/* Input ending in k bytes 0xff: the k bytes before them, repeated. */
static void
fuzz_amplified(const uint8_t *data, size_t size, struct wire_head *h)
{
	size_t k = 0, base, big_n = WIRE_MAX_HEAD + 1;
	uint8_t *big;
	char *b;

	while (k < size && data[size - 1 - k] == 0xff)
		k++;
	if (k == 0 || 2 * k > size || size - k >= big_n)
		return;
	base = size - k;
	big = malloc(big_n);
	memcpy(big, data, base);
	for (size_t i = base; i < big_n; i++)
		big[i] = data[base - k + (i - base) % k];
	(void)parse(big, big_n, &b, h); /* never INCOMPLETE, checked there */
	free(b);
	free(big);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_head *full = malloc(sizeof(*full));
	struct wire_head *part = malloc(sizeof(*part));
	size_t cuts[5], ncuts = 0;
	enum wire_status st;
	char *fb;

	st = parse(data, size, &fb, full);
	if (size > 0) {
		cuts[ncuts++] = size / 3;
		cuts[ncuts++] = size / 2;
		cuts[ncuts++] = size - 1;
	}
	if (st == WIRE_OK) {
		cuts[ncuts++] = full->head_len - 1;
		cuts[ncuts++] = full->head_len;
	}
	for (size_t i = 0; i < ncuts; i++) {
		size_t k = cuts[i];
		char *pb;
		enum wire_status ps = parse(data, k, &pb, part);

		if (st == WIRE_OK) {
			if (k < full->head_len) {
				assert(ps == WIRE_INCOMPLETE);
			} else {
				assert(ps == WIRE_OK);
				same_head(full, fb, part, pb);
			}
		} else if (st == WIRE_INCOMPLETE) {
			assert(ps == WIRE_INCOMPLETE);
		} else {
			assert(ps != WIRE_OK);
		}
		free(pb);
	}
	free(fb);
	fuzz_amplified(data, size, part);
	free(part);
	free(full);
	return 0;
}
