/*
 * libFuzzer target for the chunked body decoder, wire_chunked_feed (RFC
 * 9112 §7.1). Input layout: byte 0 gives m = byte & 7, the next m bytes
 * are piece sizes (0..255, used in turn; m == 0 or all zero: one byte at
 * a time), the rest is the body. The body is decoded twice, in one piece
 * and in those pieces, each piece copied into a fresh buffer of exactly
 * its size (ASan catches a read or write past it); after the decoder is
 * DONE or in ERROR the remaining pieces are still fed, then "0\r\n\r\n".
 *
 * Asserts, on every call: used <= the piece length; *out_n <= used; the
 * decoded bytes so far add up to c.total; used < the piece length only
 * when the state is DONE; once DONE or ERROR the state stays, nothing
 * more is decoded, and a DONE decoder takes no more bytes.
 * Between the two runs: the same decoded bytes, the same final state and
 * total, and when DONE the same number of bytes used.
 * Against the body: at most as many bytes decoded as it has; a body in
 * the plainest valid form (1..8 hex digits, CRLF, data, CRLF, ...,
 * "0\r\n\r\n", no extension nor trailer) is DONE after exactly its bytes
 * with exactly its data; a first chunk size over 64 bits (more than 16
 * significant hex digits) decodes nothing and never gets past the size
 * line.
 */
#include "../src/http/wire.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct run {
	char *out;      /* decoded bytes */
	size_t out_n;
	size_t used;    /* body bytes the decoder took */
	enum wire_chunk_state st;
	uint64_t total;
};

static void
feed_one(struct wire_chunked *c, const uint8_t *p, size_t len, struct run *r)
{
	enum wire_chunk_state before = c->st;
	char *piece = malloc(len);
	size_t out_n = SIZE_MAX, used;

	assert(piece != NULL || len == 0);
	if (len)
		memcpy(piece, p, len);
	used = wire_chunked_feed(c, piece, len, &out_n);
	assert((unsigned)c->st <= WIRE_CH_ERROR);
	assert(used <= len);
	assert(out_n <= used);
	if (used < len)
		assert(c->st == WIRE_CH_DONE);
	if (before == WIRE_CH_DONE || before == WIRE_CH_ERROR) {
		assert(c->st == before);
		assert(out_n == 0);
		if (before == WIRE_CH_DONE)
			assert(used == 0);
	}
	if (out_n)
		memcpy(r->out + r->out_n, piece, out_n);
	r->out_n += out_n;
	r->used += used;
	assert(c->total == r->out_n);
	free(piece);
}

/* Decodes body[0..n) in pieces of sizes[0..m) in turn (1 byte if m == 0). */
static void
decode(const uint8_t *body, size_t n, const size_t *sizes, size_t m,
    struct run *r)
{
	static const uint8_t last[] = "0\r\n\r\n";
	struct wire_chunked c;
	size_t pos = 0, i = 0;

	memset(r, 0, sizeof(*r));
	r->out = malloc(n + 1);
	wire_chunked_init(&c);
	assert(c.st == WIRE_CH_SIZE && c.total == 0);
	while (pos < n) {
		size_t len = m ? sizes[i++ % m] : 1;

		if (len > n - pos)
			len = n - pos;
		feed_one(&c, body + pos, len, r);
		pos += len;
	}
	if (c.st == WIRE_CH_DONE || c.st == WIRE_CH_ERROR) {
		size_t used = r->used;
		feed_one(&c, last, sizeof(last) - 1, r);
		assert(c.st != WIRE_CH_DONE || r->used == used);
		r->used = used;
	}
	assert(r->out_n <= n && r->used <= n);
	r->st = c.st;
	r->total = c.total;
}

static int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The plainest valid chunked body at the start of p[0..n): 1..8 hex
 * digits, CRLF, data, CRLF..., "0" CRLF CRLF (any decoder limit on the
 * digits of a size line lets 8 through). true with its length and
 * data (into out), false for anything else, complete or not.
 */
static bool
plain_chunked(const uint8_t *p, size_t n, size_t *len, char *out,
    size_t *out_n)
{
	size_t i = 0;

	*out_n = 0;
	for (;;) {
		uint64_t size = 0;
		unsigned digits = 0;

		while (i < n && hexval(p[i]) >= 0 && digits < 9) {
			size = size * 16 + (uint64_t)hexval(p[i++]);
			digits++;
		}
		if (digits == 0 || digits > 8)
			return false;
		if (n - i < 2 || p[i] != '\r' || p[i + 1] != '\n')
			return false;
		i += 2;
		if (size == 0)
			break;
		if (size > n - i || n - i - size < 2)
			return false;
		memcpy(out + *out_n, p + i, size);
		*out_n += size;
		i += size;
		if (p[i] != '\r' || p[i + 1] != '\n')
			return false;
		i += 2;
	}
	if (n - i < 2 || p[i] != '\r' || p[i + 1] != '\n')
		return false;
	*len = i + 2;
	return true;
}

/* The first size line has more than 16 significant hex digits. */
static bool
first_size_overflows(const uint8_t *p, size_t n)
{
	size_t i = 0, sig = 0;

	while (i < n && p[i] == '0')
		i++;
	while (i < n && hexval(p[i]) >= 0) {
		i++;
		sig++;
	}
	return sig > 16;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t sizes[7], m, hdr, one, n, plain_len, plain_n;
	bool nonzero = false;
	struct run a, b;
	const uint8_t *body;
	char *plain;

	if (size == 0)
		return 0;
	hdr = data[0] & 7;
	if (hdr > size - 1)
		hdr = size - 1;
	for (size_t i = 0; i < hdr; i++) {
		sizes[i] = data[1 + i];
		nonzero |= sizes[i] != 0;
	}
	m = nonzero ? hdr : 0;
	body = data + 1 + hdr;
	n = size - 1 - hdr;

	one = n;
	decode(body, n, &one, 1, &a);
	decode(body, n, sizes, m, &b);

	assert(a.st == b.st);
	assert(a.total == b.total);
	assert(a.out_n == b.out_n);
	assert(a.out_n == 0 || memcmp(a.out, b.out, a.out_n) == 0);
	if (a.st == WIRE_CH_DONE)
		assert(a.used == b.used);

	plain = malloc(n + 1);
	if (plain_chunked(body, n, &plain_len, plain, &plain_n)) {
		assert(a.st == WIRE_CH_DONE);
		assert(a.used == plain_len);
		assert(a.out_n == plain_n);
		assert(plain_n == 0 || memcmp(a.out, plain, plain_n) == 0);
	}
	if (first_size_overflows(body, n)) {
		assert(a.total == 0);
		assert(a.st == WIRE_CH_SIZE || a.st == WIRE_CH_EXT ||
		    a.st == WIRE_CH_SIZE_LF || a.st == WIRE_CH_ERROR);
	}
	free(plain);
	free(a.out);
	free(b.out);
	return 0;
}
