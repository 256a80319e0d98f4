/*
 * Unit tests for src/site/guard: the token-bucket limiter (burst, refill,
 * unlimited, the max_keys bound and its eviction order, exactness under
 * threads), signed visitor ids, form tokens, NG words, daily ids and the
 * site secret kept in the store.
 */
#include "../../src/site/guard.h"
#include "t_db.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T_NOW 1641654000.0       /* any fixed instant */
#define T_EPOCH INT64_C(1641654000) /* on an hour boundary */

static unsigned char key1[GUARD_KEY_BYTES], key2[GUARD_KEY_BYTES];

/* Two fixed, different keys: failures reproduce run to run. */
static void
keys_init(void)
{
	for (int i = 0; i < GUARD_KEY_BYTES; i++) {
		key1[i] = (unsigned char)(i * 7 + 1);
		key2[i] = (unsigned char)(i * 13 + 5);
	}
}

/* ---- limiter ----------------------------------------------------------- */

static void
test_limiter_burst(void)
{
	guard_limiter *l = guard_limiter_new(6, 3, 100); /* one per 10 s */
	int ra = -1;

	T_CHECK(l != NULL);
	for (int i = 0; i < 3; i++) {
		T_CHECK(guard_limiter_take(l, "192.0.2.1", T_NOW, &ra));
		T_CHECK(ra == 0);
	}
	T_CHECK(!guard_limiter_take(l, "192.0.2.1", T_NOW, &ra));
	T_CHECK(ra == 10);
	T_CHECK(!guard_limiter_take(l, "192.0.2.1", T_NOW + 4, &ra));
	T_CHECK(ra == 6);
	/* other keys have their own buckets */
	T_CHECK(guard_limiter_take(l, "192.0.2.2", T_NOW, &ra));
	T_CHECK(guard_limiter_take(l, "2001:db8::1", T_NOW, &ra));
	/* retry_after may be NULL */
	T_CHECK(!guard_limiter_take(l, "192.0.2.1", T_NOW + 4, NULL));
	guard_limiter_free(l);
	guard_limiter_free(NULL);
}

static void
test_limiter_refill(void)
{
	guard_limiter *l = guard_limiter_new(60, 2, 100); /* one per second */
	const char *k = "198.51.100.7";
	int ra = 0;

	T_CHECK(guard_limiter_take(l, k, T_NOW, &ra));
	T_CHECK(guard_limiter_take(l, k, T_NOW, &ra));
	T_CHECK(!guard_limiter_take(l, k, T_NOW + 0.5, &ra));
	T_CHECK(ra == 1);
	T_CHECK(guard_limiter_take(l, k, T_NOW + 1.0, &ra));
	T_CHECK(!guard_limiter_take(l, k, T_NOW + 1.0, &ra));
	/* a long pause refills to burst, never beyond */
	T_CHECK(guard_limiter_take(l, k, T_NOW + 1000, &ra));
	T_CHECK(guard_limiter_take(l, k, T_NOW + 1000, &ra));
	T_CHECK(!guard_limiter_take(l, k, T_NOW + 1000, &ra));
	T_CHECK(ra == 1);
	/* a clock stepped back pauses the refill, gives nothing extra */
	T_CHECK(!guard_limiter_take(l, k, T_NOW + 500, &ra));
	T_CHECK(!guard_limiter_take(l, k, T_NOW + 1000.5, &ra));
	T_CHECK(guard_limiter_take(l, k, T_NOW + 1001, &ra));
	/* times reaching the lock out of order are not credited twice */
	T_CHECK(!guard_limiter_take(l, k, T_NOW + 990, &ra));
	T_CHECK(!guard_limiter_take(l, k, T_NOW + 1001.5, &ra));
	guard_limiter_free(l);
}

static void
test_limiter_unlimited(void)
{
	guard_limiter *l = guard_limiter_new(0, 1, 4);
	int ra = -1;

	for (int i = 0; i < 1000; i++) {
		char k[32];
		snprintf(k, sizeof(k), "10.0.%d.%d", i / 256, i % 256);
		T_CHECK(guard_limiter_take(l, "10.0.0.1", T_NOW, &ra));
		T_CHECK(guard_limiter_take(l, k, T_NOW, &ra));
	}
	T_CHECK(ra == 0);
	/* turning the limit on and off again keeps working */
	guard_limiter_set(l, 60, 1);
	T_CHECK(guard_limiter_take(l, "10.0.0.1", T_NOW, &ra));
	T_CHECK(!guard_limiter_take(l, "10.0.0.1", T_NOW, &ra));
	T_CHECK(ra == 1);
	guard_limiter_set(l, -5, 1);
	T_CHECK(guard_limiter_take(l, "10.0.0.1", T_NOW, &ra));
	guard_limiter_free(l);
	T_CHECK(guard_limiter_take(NULL, "x", T_NOW, &ra)); /* no limiter */
}

static void
test_limiter_set(void)
{
	guard_limiter *l = guard_limiter_new(60, 5, 10);
	int ra;

	T_CHECK(guard_limiter_take(l, "a", T_NOW, &ra)); /* 4 left */
	guard_limiter_set(l, 6, 2); /* burst now clips the 4 to 2 */
	T_CHECK(guard_limiter_take(l, "a", T_NOW, &ra));
	T_CHECK(guard_limiter_take(l, "a", T_NOW, &ra));
	T_CHECK(!guard_limiter_take(l, "a", T_NOW, &ra));
	T_CHECK(ra == 10); /* the new rate */
	guard_limiter_free(l);
}

/* Keys past 64 bytes share the bucket of their prefix; NULL is "". */
static void
test_limiter_keys(void)
{
	guard_limiter *l = guard_limiter_new(1, 1, 10);
	char a[100], b[100];
	int ra;

	memset(a, 'x', 99);
	a[99] = '\0';
	memcpy(b, a, sizeof(b));
	b[80] = 'y';
	T_CHECK(guard_limiter_take(l, a, T_NOW, &ra));
	T_CHECK(!guard_limiter_take(l, b, T_NOW, &ra));
	T_CHECK(guard_limiter_take(l, NULL, T_NOW, &ra));
	T_CHECK(!guard_limiter_take(l, "", T_NOW, &ra));
	guard_limiter_free(l);
}

static void
test_limiter_max_keys(void)
{
	int ra;

	/* 1000 clients through 4 slots: the earliest are forgotten (and so
	 * get a fresh burst), the latest are still limited */
	guard_limiter *l = guard_limiter_new(1, 1, 4);
	char k[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "10.1.%d.%d", i / 256, i % 256);
		T_CHECK(guard_limiter_take(l, k, T_NOW, &ra));
	}
	T_CHECK(guard_limiter_take(l, "10.1.0.0", T_NOW, &ra));
	snprintf(k, sizeof(k), "10.1.%d.%d", 999 / 256, 999 % 256);
	T_CHECK(!guard_limiter_take(l, k, T_NOW, &ra));
	guard_limiter_free(l);

	/* none idle: the least recently used goes */
	l = guard_limiter_new(1, 1, 2);
	T_CHECK(guard_limiter_take(l, "a", T_NOW, &ra));
	T_CHECK(guard_limiter_take(l, "b", T_NOW + 1, &ra));
	T_CHECK(guard_limiter_take(l, "c", T_NOW + 2, &ra)); /* evicts a */
	T_CHECK(!guard_limiter_take(l, "b", T_NOW + 3, &ra)); /* kept */
	T_CHECK(guard_limiter_take(l, "a", T_NOW + 4, &ra)); /* fresh; evicts c */
	T_CHECK(guard_limiter_take(l, "c", T_NOW + 5, &ra)); /* fresh */
	guard_limiter_free(l);

	/* an idle (refilled) bucket goes before the least recently used:
	 * a is emptied at 0, b spends one at 1; at 2.5 b is full again,
	 * a holds 2.5 of 3 */
	l = guard_limiter_new(60, 3, 2);
	for (int i = 0; i < 3; i++)
		T_CHECK(guard_limiter_take(l, "a", T_NOW, &ra));
	T_CHECK(guard_limiter_take(l, "b", T_NOW + 1, &ra));
	T_CHECK(guard_limiter_take(l, "c", T_NOW + 2.5, &ra)); /* evicts b */
	T_CHECK(guard_limiter_take(l, "a", T_NOW + 2.5, &ra));
	T_CHECK(guard_limiter_take(l, "a", T_NOW + 2.5, &ra));
	T_CHECK(!guard_limiter_take(l, "a", T_NOW + 2.5, &ra)); /* a was kept */
	guard_limiter_free(l);
}

struct hammer {
	guard_limiter *l;
	pthread_barrier_t go; /* all threads start together */
	atomic_int granted;
};

static void *
hammer_run(void *arg)
{
	struct hammer *h = arg;
	pthread_barrier_wait(&h->go);
	for (int i = 0; i < 20000; i++)
		if (guard_limiter_take(h->l, "203.0.113.9", T_NOW, NULL))
			atomic_fetch_add(&h->granted, 1);
	return NULL;
}

/* At a frozen time exactly `burst` takes succeed, however many threads. */
static void
test_limiter_threads(void)
{
	struct hammer h = {.l = guard_limiter_new(1, 50000, 64)};
	pthread_t th[8];

	atomic_init(&h.granted, 0);
	pthread_barrier_init(&h.go, NULL, 8);
	for (int i = 0; i < 8; i++)
		T_CHECK(pthread_create(&th[i], NULL, hammer_run, &h) == 0);
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	T_CHECK(atomic_load(&h.granted) == 50000);
	pthread_barrier_destroy(&h.go);
	guard_limiter_free(h.l);
}

/* ---- visitor ids ------------------------------------------------------------ */

static void
test_visitor_roundtrip(void)
{
	buf b;
	char id[33], id2[33];

	buf_init(&b, 0);
	guard_visitor_new(key1, &b);
	T_CHECK(b.len == 65 && b.ptr[32] == '.');
	T_CHECK(strspn(b.ptr, "0123456789abcdef.") == 65);
	T_CHECK(guard_visitor_check(key1, buf_cstr(&b), id));
	T_CHECK(strlen(id) == 32 && memcmp(id, b.ptr, 32) == 0);
	/* out is appended to, and ids are random */
	guard_visitor_new(key1, &b);
	T_CHECK(b.len == 130);
	T_CHECK(guard_visitor_check(key1, b.ptr + 65, id2));
	T_CHECK(strcmp(id, id2) != 0);
	/* NULL id_out is allowed */
	T_CHECK(guard_visitor_check(key1, b.ptr + 65, NULL));
	buf_free(&b);
}

static void
test_visitor_reject(void)
{
	buf b;
	char c[80], id[33];

	buf_init(&b, 0);
	guard_visitor_new(key1, &b);
	T_CHECK(!guard_visitor_check(key2, buf_cstr(&b), id));
	T_CHECK(id[0] == '\0');

	/* any one character changed, in the id or the MAC */
	for (size_t i = 0; i < 65; i++) {
		if (i == 32)
			continue;
		memcpy(c, b.ptr, 66);
		c[i] = c[i] == '0' ? '1' : '0';
		T_CHECK(!guard_visitor_check(key1, c, id));
	}
	/* uppercase spelling of the same bytes */
	memcpy(c, b.ptr, 66);
	for (size_t i = 0; i < 65; i++)
		if (c[i] >= 'a' && c[i] <= 'f') {
			c[i] -= 'a' - 'A';
			T_CHECK(!guard_visitor_check(key1, c, id));
			c[i] += 'a' - 'A';
		}
	/* length and separator */
	memcpy(c, b.ptr, 66);
	c[64] = '\0';
	T_CHECK(!guard_visitor_check(key1, c, id));
	snprintf(c, sizeof(c), "%s0", b.ptr);
	T_CHECK(!guard_visitor_check(key1, c, id));
	snprintf(c, sizeof(c), "%s ", b.ptr);
	T_CHECK(!guard_visitor_check(key1, c, id));
	snprintf(c, sizeof(c), " %.64s", b.ptr);
	T_CHECK(!guard_visitor_check(key1, c, id));
	memcpy(c, b.ptr, 66);
	c[32] = '-';
	T_CHECK(!guard_visitor_check(key1, c, id));
	/* the id alone, the MAC moved, junk */
	snprintf(c, sizeof(c), "%.32s", b.ptr);
	T_CHECK(!guard_visitor_check(key1, c, id));
	snprintf(c, sizeof(c), "%.32s.%.32s", b.ptr + 33, b.ptr);
	T_CHECK(!guard_visitor_check(key1, c, id));
	T_CHECK(!guard_visitor_check(key1, "", id));
	T_CHECK(!guard_visitor_check(key1, NULL, id));
	T_CHECK(!guard_visitor_check(key1,
	    "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz.zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
	    id));
	T_CHECK(id[0] == '\0');
	buf_free(&b);
}

/* A cookie cut short at the end of a heap block: the check must stop at
 * the NUL (ASan catches any read past it). */
static void
test_visitor_bounds(void)
{
	for (size_t n = 0; n < 70; n++) {
		char *s = malloc(n + 1);
		memset(s, 'a', n);
		if (n > 32)
			s[32] = '.';
		s[n] = '\0';
		T_CHECK(!guard_visitor_check(key1, s, NULL));
		free(s);
	}
}

/* ---- form tokens ------------------------------------------------------------- */

static enum guard_token
check_token(int64_t art, const char *tok, int64_t now)
{
	return guard_form_check(key1, art, tok, now, 6);
}

static void
test_form_token(void)
{
	buf b;
	char c[80];
	const int64_t now = T_EPOCH + 1234;

	buf_init(&b, 0);
	guard_form_token(key1, 42, now, &b);
	const char *tok = buf_cstr(&b);
	snprintf(c, sizeof(c), "%lld.", (long long)(now / 3600));
	T_CHECK(strncmp(tok, c, strlen(c)) == 0);
	T_CHECK(strlen(tok) == strlen(c) + 32);

	T_CHECK(check_token(42, tok, now) == GUARD_TOKEN_OK);
	T_CHECK(check_token(42, tok, now + 6 * 3600) == GUARD_TOKEN_OK);
	T_CHECK(check_token(42, tok, now + 7 * 3600) == GUARD_TOKEN_EXPIRED);
	T_CHECK(check_token(42, tok, now + 1000 * 3600) == GUARD_TOKEN_EXPIRED);
	/* a page from the next hour (clock skew between nodes) is fine,
	 * one from further ahead is not */
	T_CHECK(check_token(42, tok, now - 3600) == GUARD_TOKEN_OK);
	T_CHECK(check_token(42, tok, now - 2 * 3600) == GUARD_TOKEN_EXPIRED);
	/* other article, other key */
	T_CHECK(check_token(43, tok, now) == GUARD_TOKEN_INVALID);
	T_CHECK(check_token(-42, tok, now) == GUARD_TOKEN_INVALID);
	T_CHECK(guard_form_check(key2, 42, tok, now, 6) == GUARD_TOKEN_INVALID);
	/* valid_hours 0: only this hour and the next */
	T_CHECK(guard_form_check(key1, 42, tok, now + 3600, 0) ==
	    GUARD_TOKEN_EXPIRED);
	T_CHECK(guard_form_check(key1, 42, tok, now, -3) == GUARD_TOKEN_OK);

	/* missing */
	T_CHECK(check_token(42, "", now) == GUARD_TOKEN_MISSING);
	T_CHECK(check_token(42, NULL, now) == GUARD_TOKEN_MISSING);
	/* garbage */
	static const char *junk[] = {
		"x", ".", "abc", "1.2", "123456.", ".0123456789abcdef0123456789abcdef",
		"-.0123456789abcdef0123456789abcdef",
		"-0.0123456789abcdef0123456789abcdef",
		"99999999999999999999.0123456789abcdef0123456789abcdef",
		"9223372036854775808.0123456789abcdef0123456789abcdef",
		"1 .0123456789abcdef0123456789abcdef",
		"+1.0123456789abcdef0123456789abcdef",
	};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		T_CHECK(check_token(42, junk[i], now) == GUARD_TOKEN_INVALID);

	/* tampered MAC, hour, case, length, leading zero */
	size_t n = strlen(tok);
	for (size_t i = 0; i < n; i++) {
		if (tok[i] == '.')
			continue;
		memcpy(c, tok, n + 1);
		c[i] = c[i] == '1' ? '2' : '1';
		T_CHECK(check_token(42, c, now) == GUARD_TOKEN_INVALID);
	}
	snprintf(c, sizeof(c), "0%s", tok);
	T_CHECK(check_token(42, c, now) == GUARD_TOKEN_INVALID);
	snprintf(c, sizeof(c), "%s0", tok);
	T_CHECK(check_token(42, c, now) == GUARD_TOKEN_INVALID);
	snprintf(c, sizeof(c), "%s ", tok);
	T_CHECK(check_token(42, c, now) == GUARD_TOKEN_INVALID);
	snprintf(c, sizeof(c), "%.*s", (int)n - 1, tok);
	T_CHECK(check_token(42, c, now) == GUARD_TOKEN_INVALID);
	memcpy(c, tok, n + 1);
	for (size_t i = 0; i < n; i++)
		if (c[i] >= 'a' && c[i] <= 'f')
			c[i] -= 'a' - 'A';
	T_CHECK(strcmp(c, tok) == 0 || check_token(42, c, now) ==
	    GUARD_TOKEN_INVALID);
	buf_free(&b);
}

/* Hours of any sign and size go through the same parser. */
static void
test_form_token_extremes(void)
{
	static const int64_t times[] = {0, -1, -3600, -3601, INT64_MIN,
	    INT64_MAX, INT64_C(253402300799)};
	buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		buf_reset(&b);
		guard_form_token(key1, 7, times[i], &b);
		T_CHECK(!b.err);
		T_CHECK(guard_form_check(key1, 7, buf_cstr(&b), times[i], 1) ==
		    GUARD_TOKEN_OK);
		T_CHECK(guard_form_check(key1, 8, buf_cstr(&b), times[i], 1) ==
		    GUARD_TOKEN_INVALID);
	}
	buf_free(&b);
}

/* ---- NG words ------------------------------------------------------------------- */

static bool
ng(const guard_ngwords *g, const char *text, char *which, size_t wn)
{
	buf b;
	buf_init(&b, 0);
	bool hit = guard_ngwords_match(g, text, strlen(text), &b);
	snprintf(which, wn, "%s", buf_cstr(&b));
	buf_free(&b);
	return hit;
}

static void
test_ngwords(void)
{
	/* full-width BAD, a blank entry, カタカナ, スパム in half-width,
	 * two words joined by a full-width comma, CRLF lines */
	guard_ngwords *g = guard_ngwords_new(
	    "\xEF\xBC\xA2\xEF\xBC\xA1\xEF\xBC\xA4, , \n"
	    "\xE3\x82\xAB\xE3\x82\xBF\xE3\x82\xAB\xE3\x83\x8A\r\n"
	    "\xEF\xBD\xBD\xEF\xBE\x8A\xEF\xBE\x9F\xEF\xBE\x91,,\n"
	    "foo\xEF\xBC\x8C" "bar\n"
	    "\xE3\x80\x80" "Viagra\xE3\x80\x80\n");
	char w[64];

	T_CHECK(g != NULL);
	T_CHECK(ng(g, "this is bad", w, sizeof(w)));
	T_STREQ(w, "bad");
	T_CHECK(ng(g, "so BaD!", w, sizeof(w)));
	T_CHECK(ng(g, "\xEF\xBC\xA2\xEF\xBC\xA1\xEF\xBC\xA4", w, sizeof(w)));
	T_CHECK(ng(g, "\xEF\xBD\x82\xEF\xBD\x81\xEF\xBD\x84", w, sizeof(w)));
	T_STREQ(w, "bad");
	/* half-width ｶﾀｶﾅ matches the word カタカナ */
	T_CHECK(ng(g, "\xE3\x81\x93\xEF\xBD\xB6\xEF\xBE\x80\xEF\xBD\xB6\xEF\xBE\x85",
	    w, sizeof(w)));
	T_STREQ(w, "\xE3\x82\xAB\xE3\x82\xBF\xE3\x82\xAB\xE3\x83\x8A");
	/* the word ｽﾊﾟﾑ was stored as スパム (voiced mark composed) */
	T_CHECK(ng(g, "\xE3\x82\xB9\xE3\x83\x91\xE3\x83\xA0\xE3\x81\xA7\xE3\x81\x99",
	    w, sizeof(w)));
	T_STREQ(w, "\xE3\x82\xB9\xE3\x83\x91\xE3\x83\xA0");
	T_CHECK(ng(g, "FOO", w, sizeof(w)));
	T_CHECK(ng(g, "crowbar", w, sizeof(w)));
	T_STREQ(w, "bar");
	T_CHECK(ng(g, "buy VIAGRA now", w, sizeof(w)));
	T_STREQ(w, "viagra");

	/* no false positives: near misses, split words, empty text */
	T_CHECK(!ng(g, "good text", w, sizeof(w)));
	T_STREQ(w, "");
	T_CHECK(!ng(g, "bat dab", w, sizeof(w)));
	T_CHECK(!ng(g, "\xE3\x82\xAB\xE3\x82\xBF", w, sizeof(w)));
	T_CHECK(!ng(g, "\xE3\x82\xB9\xE3\x83\x8F\xE3\x83\xA0", w, sizeof(w)));
	T_CHECK(!ng(g, "", w, sizeof(w)));
	T_CHECK(!ng(g, "fo\xEF\xBC\x8C" "ba", w, sizeof(w)));
	T_CHECK(!guard_ngwords_match(g, "bad", 2, NULL)); /* only "ba" */
	T_CHECK(guard_ngwords_match(g, "bad", 3, NULL));
	/* invalid UTF-8 is still searched */
	T_CHECK(guard_ngwords_match(g, "\xFF" "bad", 4, NULL));
	guard_ngwords_free(g);

	/* empty and blank lists match nothing */
	g = guard_ngwords_new("");
	T_CHECK(!ng(g, "anything", w, sizeof(w)));
	guard_ngwords_free(g);
	g = guard_ngwords_new(" , \n\n\xE3\x80\x80,");
	T_CHECK(!ng(g, "anything at all", w, sizeof(w)));
	guard_ngwords_free(g);
	g = guard_ngwords_new(NULL);
	T_CHECK(!ng(g, "x", w, sizeof(w)));
	guard_ngwords_free(g);
	/* an invalid piece is skipped, the rest kept */
	g = guard_ngwords_new("\xFF\xFE,ok");
	T_CHECK(ng(g, "OK", w, sizeof(w)));
	guard_ngwords_free(g);
	guard_ngwords_free(NULL);
	T_CHECK(!guard_ngwords_match(NULL, "bad", 3, NULL));
}

/* Issue 13: words match over text_fold's key, both sides folded alike:
 * kana of either script, separators and zero-width characters inside the
 * word, Latin look-alikes from other scripts. */
static void
test_ngwords_folded(void)
{
	/* ばか, and "scam" in the list */
	guard_ngwords *g = guard_ngwords_new("\xE3\x81\xB0\xE3\x81\x8B\nscam");
	guard_ngwords *k = guard_ngwords_new("\xE3\x83\x90\xE3\x82\xAB"); /* バカ */
	char w[64];
	static const char *const hits[] = {
		"\xE3\x83\x90\xE3\x82\xAB",                    /* バカ */
		"\xE3\x81\xB0\xE3\x81\x8B",                    /* ばか */
		"\xEF\xBE\x8A\xEF\xBE\x9E\xEF\xBD\xB6",         /* ﾊﾞｶ */
		"\xE3\x81\xB0 \xE3\x81\x8B",                   /* ば か */
		"\xE3\x81\xB0\xE3\x80\x80\xE3\x81\x8B",         /* ば　か */
		"\xE3\x81\xB0\xE3\x83\xBB\xE3\x81\x8B",         /* ば・か */
		"\xE3\x81\xB0\n\xE3\x81\x8B",                  /* newline */
		"\xE3\x81\xB0\xE2\x80\x8B\xE3\x81\x8B",         /* ZWSP */
		"\xE3\x83\x90\xE3\x80\x81\xE3\x82\xAB\xEF\xBC\x81", /* バ、カ！ */
		"\xE3\x81\xAF\xE3\x82\x99\xE3\x81\x8B",         /* は+゙ (NFD) */
	};
	for (size_t i = 0; i < sizeof hits / sizeof *hits; i++) {
		T_CHECK(ng(g, hits[i], w, sizeof(w)));
		T_CHECK(ng(k, hits[i], w, sizeof(w)));
	}
	T_CHECK(ng(g, "\xE3\x83\x90\xE3\x82\xAB", w, sizeof(w)));
	T_STREQ(w, "\xE3\x81\xB0\xE3\x81\x8B"); /* reported as listed */
	/* Cyrillic ѕ, с, а and m-less look-alikes; zero-width joiner,
	 * soft hyphen, full-width, dots and spaces inside */
	static const char *const latin[] = {
		"\xD1\x95\xD1\x81\xD0\xB0m",        /* ѕса + m */
		"S C A M", "s.c.a.m", "s\xE2\x80\x8D" "ca\xC2\xAD" "m",
		"\xEF\xBD\x93\xEF\xBD\x83\xEF\xBD\x81\xEF\xBD\x8D", /* ｓｃａｍ */
		"\xD0\x85\xD0\xA1\xD0\x90M", /* ЅСА capitals + M */
	};
	for (size_t i = 0; i < sizeof latin / sizeof *latin; i++) {
		if (!ng(g, latin[i], w, sizeof(w)))
			printf("  missed: %s\n", latin[i]);
		T_CHECK(ng(g, latin[i], w, sizeof(w)));
	}
	/* still no match for other words */
	T_CHECK(!ng(g, "scan them", w, sizeof(w)));
	T_CHECK(!ng(g, "\xE3\x81\xAF\xE3\x81\x8B", w, sizeof(w))); /* はか */
	T_CHECK(!ng(g, "\xE3\x81\xB0\xE3\x81\x8C", w, sizeof(w))); /* ばが */
	/* a word of only punctuation or spaces is dropped, not "match all" */
	guard_ngwords *p = guard_ngwords_new("\xE3\x83\xBB\n- -\n...");
	T_CHECK(!ng(p, "anything - at all...", w, sizeof(w)));
	guard_ngwords_free(p);
	/* a long run of marks is bounded, not a hang, and still searched */
	buf m;
	buf_init(&m, 0);
	buf_puts(&m, "scam a");
	for (int i = 0; i < 20000; i++)
		buf_puts(&m, i % 2 ? "\xCC\x96" : "\xCC\x81");
	T_CHECK(guard_ngwords_match(g, m.ptr, m.len, NULL));
	buf_free(&m);
	guard_ngwords_free(g);
	guard_ngwords_free(k);
}

/* ---- daily id ------------------------------------------------------------------ */

static void
test_daily_id(void)
{
	char a[9], b[9], c[9], d[9], e[9], f[9];

	guard_daily_id(key1, "192.0.2.1", "2022-01-09", a);
	guard_daily_id(key1, "192.0.2.1", "2022-01-09", b);
	guard_daily_id(key1, "192.0.2.1", "2022-01-10", c);
	guard_daily_id(key1, "192.0.2.2", "2022-01-09", d);
	guard_daily_id(key2, "192.0.2.1", "2022-01-09", e);
	T_STREQ(a, b);
	T_CHECK(strcmp(a, c) != 0);
	T_CHECK(strcmp(a, d) != 0);
	T_CHECK(strcmp(a, e) != 0);
	T_CHECK(strlen(a) == 8);
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	T_CHECK(strspn(a, b64) == 8 && strspn(c, b64) == 8);
	/* the ip/day boundary is part of the input */
	guard_daily_id(key1, "1.2.3.4", "5", e);
	guard_daily_id(key1, "1.2.3.45", "", f);
	T_CHECK(strcmp(e, f) != 0);
	guard_daily_id(key1, NULL, NULL, f);
	T_CHECK(strlen(f) == 8);
}

/* An address's visitor id: stable, per address and key, shaped like a
 * cookie's id, and never a valid cookie by itself. */
static void
test_address_id(void)
{
	char a[33], b[33], c[33], d[33], ck[100];

	guard_address_id(key1, "2001:db8:1:2::/64", a);
	guard_address_id(key1, "2001:db8:1:2::/64", b);
	guard_address_id(key1, "2001:db8:1:3::/64", c);
	guard_address_id(key2, "2001:db8:1:2::/64", d);
	T_STREQ(a, b);
	T_CHECK(strcmp(a, c) != 0);
	T_CHECK(strcmp(a, d) != 0);
	T_CHECK(strlen(a) == 32 && strspn(a, "0123456789abcdef") == 32);
	/* the address id with any MAC part is no visitor cookie */
	snprintf(ck, sizeof ck, "%s.%s", a, a);
	T_CHECK(!guard_visitor_check(key1, ck, NULL));
	guard_address_id(key1, NULL, c);
	guard_address_id(key1, "", d);
	T_STREQ(c, d);
}

/* ---- secret --------------------------------------------------------------------- */

static void
test_secret_load(void)
{
	char path[T_PATH_MAX], p2[T_PATH_MAX];
	unsigned char k1[GUARD_KEY_BYTES], k2[GUARD_KEY_BYTES];
	unsigned char zero[GUARD_KEY_BYTES] = {0};
	char hex[2 * GUARD_KEY_BYTES + 1];
	buf err, v;

	bool made = t_tmpdir(t_dir, sizeof(t_dir), "test-guard");
	T_CHECK(made);
	if (!made)
		return;
	buf_init(&err, 0);
	buf_init(&v, 0);
	t_db_path(path, sizeof(path));
	t_db_path(p2, sizeof(p2));

	store *st = store_open(path, &err);
	T_CHECK(st != NULL);
	if (st == NULL)
		goto out;
	T_CHECK(store_setting_get(st, "secret.key", &v) == STORE_NOTFOUND);
	T_CHECK(guard_secret_load(st, k1));
	T_CHECK(memcmp(k1, zero, sizeof(zero)) != 0);
	T_CHECK(store_setting_get(st, "secret.key", &v) == STORE_OK);
	sodium_bin2hex(hex, sizeof(hex), k1, sizeof(k1));
	T_STREQ(buf_cstr(&v), hex);
	T_CHECK(guard_secret_load(st, k2));
	T_CHECK(memcmp(k1, k2, sizeof(k1)) == 0);
	store_close(st);

	/* survives reopening; another site gets another secret */
	st = store_open(path, &err);
	T_CHECK(st != NULL && guard_secret_load(st, k2));
	T_CHECK(memcmp(k1, k2, sizeof(k1)) == 0);
	store *st2 = store_open(p2, &err);
	T_CHECK(st2 != NULL && guard_secret_load(st2, k2));
	T_CHECK(memcmp(k1, k2, sizeof(k1)) != 0);

	/* a damaged value is refused (key zeroed), not silently replaced */
	T_CHECK(store_setting_set(st2, "secret.key", "not hex") == STORE_OK);
	T_CHECK(!guard_secret_load(st2, k2));
	T_CHECK(memcmp(k2, zero, sizeof(zero)) == 0);
	hex[5] = 'g';
	T_CHECK(store_setting_set(st2, "secret.key", hex) == STORE_OK);
	T_CHECK(!guard_secret_load(st2, k2));
	/* an uppercase value (pasted by an operator) is accepted */
	sodium_bin2hex(hex, sizeof(hex), k1, sizeof(k1));
	for (char *p = hex; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p -= 'a' - 'A';
	T_CHECK(store_setting_set(st2, "secret.key", hex) == STORE_OK);
	T_CHECK(guard_secret_load(st2, k2));
	T_CHECK(memcmp(k1, k2, sizeof(k1)) == 0);
	store_close(st2);
	store_close(st);
out:
	t_tmpdir_remove(t_dir);
	buf_free(&err);
	buf_free(&v);
}

#define RACERS 4

/* One racer: its own store handle on the shared database. */
struct racer {
	store *st;
	pthread_barrier_t *go;
	unsigned char key[GUARD_KEY_BYTES];
	bool ok;
};

/* Waits for the others, then loads (makes) the secret. */
static void *
racer_main(void *arg)
{
	struct racer *r = arg;
	pthread_barrier_wait(r->go);
	r->ok = guard_secret_load(r->st, r->key);
	return NULL;
}

/* Processes (nodes) starting at once on a new database make one secret
 * between them: every one of them reads the same (on PostgreSQL too). */
static void
test_secret_race(void)
{
	struct racer r[RACERS];
	pthread_t th[RACERS];
	pthread_barrier_t go;
	buf err;
	bool made = t_tmpdir(t_dir, sizeof(t_dir), "test-guard");
	T_CHECK(made);
	if (!made)
		return;
	buf_init(&err, 0);
	store *first = t_db_open();
	T_CHECK(first != NULL);
	pthread_barrier_init(&go, NULL, RACERS);
	for (int i = 0; i < RACERS; i++) {
		r[i] = (struct racer){.go = &go};
		r[i].st = store_open(t_db_last, &err);
		T_CHECK(r[i].st != NULL);
	}
	for (int i = 0; i < RACERS; i++)
		pthread_create(&th[i], NULL, racer_main, &r[i]);
	for (int i = 0; i < RACERS; i++) {
		pthread_join(th[i], NULL);
		T_CHECK(r[i].ok);
		T_CHECK(memcmp(r[i].key, r[0].key, GUARD_KEY_BYTES) == 0);
		store_close(r[i].st);
	}
	pthread_barrier_destroy(&go);
	store_close(first);
	t_tmpdir_remove(t_dir);
	buf_free(&err);
}

int
main(void)
{
	keys_init();
	T_RUN(test_limiter_burst);
	T_RUN(test_limiter_refill);
	T_RUN(test_limiter_unlimited);
	T_RUN(test_limiter_set);
	T_RUN(test_limiter_keys);
	T_RUN(test_limiter_max_keys);
	T_RUN(test_limiter_threads);
	T_RUN(test_visitor_roundtrip);
	T_RUN(test_visitor_reject);
	T_RUN(test_visitor_bounds);
	T_RUN(test_form_token);
	T_RUN(test_form_token_extremes);
	T_RUN(test_ngwords);
	T_RUN(test_ngwords_folded);
	T_RUN(test_daily_id);
	T_RUN(test_address_id);
	T_RUN(test_secret_load);
	T_RUN(test_secret_race);
	T_DONE();
}
