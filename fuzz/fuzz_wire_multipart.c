/*
 * libFuzzer target for the multipart/form-data stream parser (wire_mp_*,
 * RFC 7578 / RFC 2046 §5.1). Input layout: byte 0 = c, m = c & 7 piece
 * sizes follow (0..255, used in turn; m == 0 or all zero: one byte at a
 * time), then the Content-Type value up to the first '\n' (at most 256
 * bytes) given to wire_mp_init, then the body. The body goes to
 * wire_mp_feed twice, in one piece and in those pieces, each copied into
 * a fresh buffer of exactly its size and freed right after the call (ASan
 * catches a read past it or a pointer kept into it), then wire_mp_finish.
 * When c >> 3 is k > 0, the k-th begin/end callback refuses.
 *
 * Asserts: callbacks nest (begin only outside a part, data and end only
 * inside one) and none comes after a refusal or a failed feed; a part's
 * name, filename and content_type are NUL-terminated within their arrays
 * and filename is "" when is_file is false; wire_mp_feed is false exactly
 * when the state is WIRE_MP_ERROR, stays false once it was, and is false
 * when a callback refused; wire_mp_finish is true only after a clean feed
 * that reached the epilogue with every part ended; the delimiter wire_mp_init
 * stores starts "\r\n--" and is 5..74 bytes; data never holds the
 * delimiter and adds up to at most the body size; the one-piece and the
 * piecewise run give the same parts, the same data per part and the same
 * results.
 */
#include "../src/http/wire.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CT_MAX 256

struct prec {
	struct wire_mp_part part;
	char *data;
	size_t n;
	bool ended;
};

struct rec {
	struct prec *parts;
	size_t nparts;
	bool open;          /* between begin and end */
	bool stopped;       /* refused or failed: no callback may follow */
	bool refused;
	unsigned events;    /* begin and end callbacks so far */
	unsigned refuse_at; /* 0: never */
	size_t data_total;
	size_t body_n;
	bool init_ok, feed_ok, fin_ok;
	enum wire_mp_state st; /* before wire_mp_finish */
	char delim[WIRE_MP_MAX_BOUNDARY + 4];
	size_t dlen;
};

static bool
event(struct rec *r)
{
	if (++r->events == r->refuse_at) {
		r->stopped = r->refused = true;
		return false;
	}
	return true;
}

static bool
cb_begin(void *ctx, const struct wire_mp_part *part)
{
	struct rec *r = ctx;
	struct prec *p;

	assert(!r->stopped && !r->open);
	assert(memchr(part->name, '\0', sizeof(part->name)) != NULL);
	assert(memchr(part->filename, '\0', sizeof(part->filename)) != NULL);
	assert(memchr(part->content_type, '\0',
	    sizeof(part->content_type)) != NULL);
	if (!part->is_file)
		assert(part->filename[0] == '\0');
	r->parts = realloc(r->parts, (r->nparts + 1) * sizeof(*r->parts));
	p = &r->parts[r->nparts++];
	memset(p, 0, sizeof(*p));
	p->part = *part;
	r->open = true;
	return event(r);
}

static bool
cb_data(void *ctx, const char *d, size_t n)
{
	struct rec *r = ctx;
	struct prec *p;

	assert(!r->stopped && r->open && r->nparts > 0);
	if (n == 0)
		return true;
	assert(d != NULL);
	p = &r->parts[r->nparts - 1];
	p->data = realloc(p->data, p->n + n);
	memcpy(p->data + p->n, d, n);
	p->n += n;
	r->data_total += n;
	assert(r->data_total <= r->body_n);
	return true;
}

static bool
cb_end(void *ctx)
{
	struct rec *r = ctx;

	assert(!r->stopped && r->open && r->nparts > 0);
	r->open = false;
	r->parts[r->nparts - 1].ended = true;
	return event(r);
}

static void
rec_free(struct rec *r)
{
	for (size_t i = 0; i < r->nparts; i++)
		free(r->parts[i].data);
	free(r->parts);
}

static void
run(const uint8_t *ct, size_t ctn, const uint8_t *body, size_t n,
    const size_t *sizes, size_t m, unsigned refuse_at, struct rec *r)
{
	struct wire_mp_cb cb = { cb_begin, cb_data, cb_end, NULL };
	struct wire_mp *mp = malloc(sizeof(*mp));
	char *ctb = malloc(ctn);
	size_t pos = 0, i = 0;

	memset(r, 0, sizeof(*r));
	r->refuse_at = refuse_at;
	r->body_n = n;
	cb.ctx = r;
	if (ctn)
		memcpy(ctb, ct, ctn);
	r->init_ok = wire_mp_init(mp, ctb, ctn, &cb);
	free(ctb);
	if (!r->init_ok) {
		free(mp);
		return;
	}
	assert(mp->st == WIRE_MP_PREAMBLE);
	assert(mp->dlen >= 5 && mp->dlen <= WIRE_MP_MAX_BOUNDARY + 4);
	assert(memcmp(mp->delim, "\r\n--", 4) == 0);
	memcpy(r->delim, mp->delim, mp->dlen);
	r->dlen = mp->dlen;

	r->feed_ok = true;
	while (pos < n) {
		size_t len = m ? sizes[i++ % m] : 1;
		char *piece;
		bool ok;

		if (len > n - pos)
			len = n - pos;
		piece = malloc(len);
		if (len)
			memcpy(piece, body + pos, len);
		ok = wire_mp_feed(mp, piece, len);
		free(piece);
		pos += len;
		assert(ok == (mp->st != WIRE_MP_ERROR));
		if (!r->feed_ok || r->refused)
			assert(!ok);
		if (!ok) {
			r->feed_ok = false;
			r->stopped = true;
		}
	}
	r->st = mp->st;
	r->fin_ok = wire_mp_finish(mp);
	if (r->fin_ok)
		assert(r->feed_ok && r->st == WIRE_MP_EPILOGUE && !r->open);
	if (!r->feed_ok)
		assert(!r->fin_ok);
	free(mp);
}

static void
check_rec(const struct rec *r)
{
	for (size_t i = 0; i < r->nparts; i++) {
		const struct prec *p = &r->parts[i];
		/* The data of a part never holds the delimiter. */
		if (p->n >= r->dlen)
			assert(memmem(p->data, p->n, r->delim, r->dlen) == NULL);
	}
}

static void
same_rec(const struct rec *a, const struct rec *b)
{
	assert(a->init_ok == b->init_ok);
	assert(a->feed_ok == b->feed_ok);
	assert(a->fin_ok == b->fin_ok);
	assert(a->refused == b->refused);
	assert(a->nparts == b->nparts);
	assert(a->data_total == b->data_total);
	assert(a->st == b->st);
	for (size_t i = 0; i < a->nparts; i++) {
		const struct prec *x = &a->parts[i], *y = &b->parts[i];

		assert(strcmp(x->part.name, y->part.name) == 0);
		assert(strcmp(x->part.filename, y->part.filename) == 0);
		assert(strcmp(x->part.content_type, y->part.content_type) == 0);
		assert(x->part.is_file == y->part.is_file);
		assert(x->ended == y->ended);
		assert(x->n == y->n);
		assert(x->n == 0 || memcmp(x->data, y->data, x->n) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t sizes[7], hdr, m, one, rest_n, ctn, lim;
	const uint8_t *rest, *nl, *body;
	bool nonzero = false;
	unsigned refuse_at;
	struct rec a, b;

	if (size == 0)
		return 0;
	hdr = data[0] & 7;
	refuse_at = data[0] >> 3;
	if (hdr > size - 1)
		hdr = size - 1;
	for (size_t i = 0; i < hdr; i++) {
		sizes[i] = data[1 + i];
		nonzero |= sizes[i] != 0;
	}
	m = nonzero ? hdr : 0;
	rest = data + 1 + hdr;
	rest_n = size - 1 - hdr;
	lim = rest_n < CT_MAX + 1 ? rest_n : CT_MAX + 1;
	nl = memchr(rest, '\n', lim);
	if (nl != NULL) {
		ctn = (size_t)(nl - rest);
		body = nl + 1;
	} else {
		ctn = rest_n < CT_MAX ? rest_n : CT_MAX;
		body = rest + ctn;
	}

	one = rest_n - (size_t)(body - rest);
	run(rest, ctn, body, one, &one, 1, refuse_at, &a);
	run(rest, ctn, body, one, sizes, m, refuse_at, &b);
	check_rec(&a);
	check_rec(&b);
	same_rec(&a, &b);
	rec_free(&a);
	rec_free(&b);
	return 0;
}
