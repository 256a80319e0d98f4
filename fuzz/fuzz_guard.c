/*
 * libFuzzer target for src/site/guard's parsers of outside input: the
 * visitor cookie and the form token. Arbitrary bytes must never crash
 * them, and must never validate: a forgery would need the MAC, so any
 * success has to be a byte-exact copy of what guard itself would mint.
 * The first byte picks a mode: raw input, or the input XORed onto a
 * genuine cookie / token (tampering), which must then fail unless the
 * XOR changed nothing. The input also goes through the NG-word filter
 * (as list and as text), the limiter (as key) and the rate-limit key of
 * an address (http_ip_key) for crashes.
 *
 * fuzz/Makefile links only the layers below site/, so guard.c (which
 * needs just text/ and store/) is compiled in here; drop this include if
 * src/site/guard.c is ever added to that SRC list.
 */
#include "../src/site/guard.c"
#include "../src/http/http.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the failed invariant: libFuzzer saves the input. */
#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "fuzz_guard: %s:%d: %s\n", __FILE__, \
			    __LINE__, #expr);                              \
			abort();                                           \
		}                                                          \
	} while (0)

#define FZ_ARTICLE 42
#define FZ_NOW INT64_C(1641654000)

static unsigned char fz_key[GUARD_KEY_BYTES];
static char fz_cookie[GUARD_VISITOR_LEN + 1]; /* one genuine cookie */
static char fz_token[GUARD_TOKEN_MAX + 1];     /* the genuine token */
static guard_limiter *fz_lim;

/* A fixed key keeps runs reproducible; the cookie's id is random but only
 * its validity matters, which does not depend on the id. */
static void
fz_setup(void)
{
	buf b;

	for (int i = 0; i < GUARD_KEY_BYTES; i++)
		fz_key[i] = (unsigned char)(0xA5 ^ i);
	buf_init(&b, 0);
	guard_visitor_new(fz_key, &b);
	snprintf(fz_cookie, sizeof(fz_cookie), "%s", buf_cstr(&b));
	buf_reset(&b);
	guard_form_token(fz_key, FZ_ARTICLE, FZ_NOW, &b);
	snprintf(fz_token, sizeof(fz_token), "%s", buf_cstr(&b));
	buf_free(&b);
	fz_lim = guard_limiter_new(60, 5, 64);
}

/* The cookie check: success only for a canonical, genuinely minted value
 * (same MAC recomputed), and id_out is then its first 32 characters. */
static void
fz_cookie_check(const char *s)
{
	char id[33];
	bool ok = guard_visitor_check(fz_key, s, id);

	if (!ok) {
		CHECK(id[0] == '\0');
		return;
	}
	CHECK(strlen(s) == GUARD_VISITOR_LEN && strcmp(s, fz_cookie) == 0);
	CHECK(strlen(id) == 32 && memcmp(id, s, 32) == 0);
}

/* The token check: OK or EXPIRED means "our MAC", so the input must be
 * exactly what guard_form_token prints for that hour. */
static void
fz_token_check(const char *s)
{
	enum guard_token r = guard_form_check(fz_key, FZ_ARTICLE, s, FZ_NOW, 6);
	int64_t hour;
	buf b;

	CHECK(r < GUARD_TOKEN__MAX);
	CHECK((r == GUARD_TOKEN_MISSING) == (s[0] == '\0'));
	if (r != GUARD_TOKEN_OK && r != GUARD_TOKEN_EXPIRED)
		return;
	CHECK(strcmp(s, fz_token) == 0); /* no other hour is forgeable */
	CHECK(sscanf(s, "%" SCNd64, &hour) == 1);
	buf_init(&b, 0);
	guard_form_token(fz_key, FZ_ARTICLE, hour * 3600, &b);
	CHECK(strcmp(buf_cstr(&b), s) == 0);
	buf_free(&b);
}

/* s XOR data, over s's length; NUL bytes in data leave s's byte. */
static void
fz_tamper(char *out, const char *s, const uint8_t *data, size_t size)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (i < size && (char)(c ^ data[i]) != '\0')
			c = (char)(c ^ data[i]);
		out[i] = c;
	}
	out[n] = '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	char *s;
	char t[128];
	buf w;

	if (!ready) {
		fz_setup();
		ready = true;
	}
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 1: /* tampered cookie */
		fz_tamper(t, fz_cookie, data + 1, size - 1);
		if (strcmp(t, fz_cookie) != 0)
			CHECK(!guard_visitor_check(fz_key, t, NULL));
		fz_cookie_check(t);
		return 0;
	case 2: /* tampered token */
		fz_tamper(t, fz_token, data + 1, size - 1);
		if (strcmp(t, fz_token) != 0)
			CHECK(guard_form_check(fz_key, FZ_ARTICLE, t, FZ_NOW, 6) ==
			    GUARD_TOKEN_INVALID);
		fz_token_check(t);
		return 0;
	default:
		break;
	}

	/* raw: a NUL-terminated copy, so the parsers see exactly size-1 bytes
	 * (or fewer at an embedded NUL) and ASan sees any over-read */
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	fz_cookie_check(s);
	fz_token_check(s);

	guard_ngwords *g = guard_ngwords_new(s);
	buf_init(&w, 0);
	if (guard_ngwords_match(g, s, size - 1, &w))
		CHECK(w.len > 0);
	else
		CHECK(w.len == 0);
	buf_free(&w);
	guard_ngwords_free(g);

	int ra;
	if (!guard_limiter_take(fz_lim, s, (double)FZ_NOW, &ra))
		CHECK(ra >= 1);

	/* the rate-limit key of an address (http/addr.c): bounded, and a key
	 * is its own key (an IPv6 key "…::/64" is no address, so it stays) */
	char key[HTTP_IP_KEY_MAX], key2[HTTP_IP_KEY_MAX], aid[33];
	http_ip_key(s, key);
	CHECK(strlen(key) < HTTP_IP_KEY_MAX);
	CHECK(strcmp(http_ip_key(key, key2), key) == 0);
	guard_address_id(fz_key, key, aid);
	CHECK(strlen(aid) == 32);
	free(s);
	return 0;
}
