/*
 * guard: abuse defence for anonymous readers. Every secret-dependent value
 * is a keyed BLAKE2b MAC (crypto_generichash) whose input starts with a
 * purpose tag, so a MAC minted for one purpose never verifies for another;
 * every MAC compare is constant time. Parsers of outside input (cookies,
 * form tokens) accept one canonical spelling and never read past a NUL.
 */
#include "guard.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUARD_SECRET_SETTING "secret.key"
#define GUARD_ID_BYTES 16  /* random part of a visitor id */
#define GUARD_MAC_BYTES 16 /* crypto_generichash_BYTES_MIN */
/* "<32 hex>.<32 hex>" */
#define GUARD_VISITOR_LEN (2 * GUARD_ID_BYTES + 1 + 2 * GUARD_MAC_BYTES)
/* "<hour>.<32 hex>": the hour is at most 20 characters ("-" and 19 digits) */
#define GUARD_TOKEN_MAX (20 + 1 + 2 * GUARD_MAC_BYTES)
#define GUARD_DAILY_BYTES 6 /* 48 bits make exactly 8 base64 characters */
#define GUARD_LIMIT_KEY_MAX 64 /* limiter key bytes kept (an IPv6 text is 45) */
#define GUARD_LIMIT_MAX_KEYS ((size_t)1 << 22) /* caps the hash-head array */
#define GUARD_EVICT_SCAN 16 /* LRU entries searched for an idle bucket */

_Static_assert(GUARD_MAC_BYTES >= crypto_generichash_BYTES_MIN,
    "MAC shorter than BLAKE2b allows");
_Static_assert(GUARD_KEY_BYTES >= crypto_generichash_KEYBYTES_MIN &&
    GUARD_KEY_BYTES <= crypto_generichash_KEYBYTES_MAX, "bad key size");
_Static_assert(sodium_base64_ENCODED_LEN(GUARD_DAILY_BYTES,
    sodium_base64_VARIANT_ORIGINAL_NO_PADDING) == 9, "daily id is 8 chars");

static pthread_once_t guard_once = PTHREAD_ONCE_INIT;

/* sodium_init fails only when the system has no usable randomness; nothing
 * here is safe without it, so stop rather than mint guessable ids. */
static void
guard_sodium_init(void)
{
	if (sodium_init() < 0) {
		fputs("kiji: libsodium failed to initialise\n", stderr);
		abort();
	}
}

/* Every public entry that touches libsodium calls this first; pthread_once
 * makes the first call from concurrent request threads safe. */
static void
guard_init(void)
{
	pthread_once(&guard_once, guard_sodium_init);
}

/* ---- helpers ---------------------------------------------------------------- */

/* Starts a MAC over a NUL-terminated purpose tag. The tags ("visitor",
 * "address", "form", "daily") are prefix-free, so inputs of different purposes can
 * never collide whatever follows them. */
static void
guard_mac_begin(crypto_generichash_state *st,
    const unsigned char key[GUARD_KEY_BYTES], const char *tag)
{
	guard_init();
	crypto_generichash_init(st, key, GUARD_KEY_BYTES, GUARD_MAC_BYTES);
	crypto_generichash_update(st, (const unsigned char *)tag,
	    strlen(tag) + 1);
}

/* Feeds an int64 in a fixed width and byte order, so the MAC does not
 * depend on the host or on how the number was spelled. */
static void
guard_mac_i64(crypto_generichash_state *st, int64_t v)
{
	unsigned char b[8];
	uint64_t u = (uint64_t)v;
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(u >> (8 * i));
	crypto_generichash_update(st, b, sizeof b);
}

/* Value of one lowercase hex digit, or -1. Uppercase is refused so each
 * value has exactly one spelling (a visitor id is a database key). */
static int
guard_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes exactly 2*n lowercase hex characters from s into out[0..n).
 * The caller has checked that s holds that many bytes. */
static bool
guard_unhex(const char *s, size_t n, unsigned char *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = guard_hexval((unsigned char)s[2 * i]);
		int lo = guard_hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

/* ---- site secret --------------------------------------------------------------- */

/*
 * Reads the key, creating it on first use. Two processes (or nodes on one
 * PostgreSQL) creating it at the same moment insert-or-nothing and read
 * back: the first stored is the key of all, so a visitor's cookie is good
 * on every node. A stored value that is not 64 hex digits is refused, not
 * replaced: silently rotating the secret would log every visitor out.
 */
bool
guard_secret_load(store *st, unsigned char key[GUARD_KEY_BYTES])
{
	bool ok = false;
	buf b;
	enum store_err e;

	guard_init();
	buf_init(&b, 256); /* one allocation: no realloc leaves key copies */
	e = store_setting_get(st, GUARD_SECRET_SETTING, &b);
	if (e == STORE_NOTFOUND) {
		unsigned char fresh[GUARD_KEY_BYTES];
		char hex[2 * GUARD_KEY_BYTES + 1];
		randombytes_buf(fresh, sizeof fresh);
		sodium_bin2hex(hex, sizeof hex, fresh, sizeof fresh);
		bool added;
		/* another node may be making one at this moment: the
		 * first one stored is everybody's */
		e = store_setting_add(st, GUARD_SECRET_SETTING, hex, &added);
		sodium_memzero(fresh, sizeof fresh);
		sodium_memzero(hex, sizeof hex);
		if (e != STORE_OK)
			goto out;
		buf_reset(&b);
		e = store_setting_get(st, GUARD_SECRET_SETTING, &b);
	}
	if (e != STORE_OK || b.err || b.len != 2 * GUARD_KEY_BYTES)
		goto out;

	size_t n = 0;
	const char *end = NULL;
	ok = sodium_hex2bin(key, GUARD_KEY_BYTES, b.ptr, b.len, NULL, &n,
	    &end) == 0 && n == GUARD_KEY_BYTES && end == b.ptr + b.len;
out:
	if (b.ptr)
		sodium_memzero(b.ptr, b.cap);
	buf_free(&b);
	if (!ok)
		sodium_memzero(key, GUARD_KEY_BYTES);
	return ok;
}

/* ---- token-bucket rate limiter ------------------------------------------------- */

struct guard_bucket {
	struct guard_bucket *hnext;       /* hash chain */
	struct guard_bucket *prev, *next; /* LRU list, most recent first */
	double tokens;                    /* as of `last` */
	double last;                      /* time of the last refill */
	uint64_t hash;
	size_t klen;
	char key[GUARD_LIMIT_KEY_MAX];
};

/*
 * One mutex guards the whole table: a take is a hash probe and a few
 * float operations, limiters serve only POSTs, and a single lock keeps
 * the bucket arithmetic and the LRU order exact without lock ordering.
 */
struct guard_limiter {
	pthread_mutex_t mu;
	double rate;     /* tokens per second; <= 0 allows all */
	double burst;    /* bucket size, >= 1 */
	double clock;    /* latest finite `now` seen */
	size_t max_keys; /* buckets never exceed this */
	size_t nkeys;    /* buckets allocated so far */
	size_t mask;     /* heads has mask + 1 slots */
	struct guard_bucket **heads;
	struct guard_bucket *mru, *lru;
	unsigned char hkey[crypto_shorthash_KEYBYTES];
	uint64_t refused; /* takes refused, for /metrics */
};

/* Stores sanitised rates: NaN or <= 0 per_minute means unlimited, and a
 * burst below one token would refuse everyone forever. */
static void
guard_limiter_rates(guard_limiter *l, double per_minute, double burst)
{
	l->rate = per_minute > 0 ? per_minute / 60.0 : 0;
	l->burst = burst >= 1 ? burst : 1;
}

/* Allocates the table heads up front (buckets come lazily, so a large
 * max_keys costs memory only once that many clients show up). The hash
 * is SipHash with a random key: clients cannot aim keys at one chain. */
guard_limiter *
guard_limiter_new(double per_minute, double burst, size_t max_keys)
{
	guard_limiter *l;
	size_t slots = 16;

	guard_init();
	if (max_keys < 1)
		max_keys = 1;
	if (max_keys > GUARD_LIMIT_MAX_KEYS)
		max_keys = GUARD_LIMIT_MAX_KEYS;
	while (slots < max_keys)
		slots *= 2;
	l = xcalloc(1, sizeof(*l));
	if (pthread_mutex_init(&l->mu, NULL) != 0) {
		free(l);
		return NULL;
	}
	guard_limiter_rates(l, per_minute, burst);
	l->max_keys = max_keys;
	l->mask = slots - 1;
	l->heads = xcalloc(slots, sizeof(*l->heads));
	randombytes_buf(l->hkey, sizeof l->hkey);
	return l;
}

/* Frees every bucket (each is on the LRU list exactly once). */
void
guard_limiter_free(guard_limiter *l)
{
	if (l == NULL)
		return;
	for (struct guard_bucket *b = l->mru, *nx; b != NULL; b = nx) {
		nx = b->next;
		free(b);
	}
	free(l->heads);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

/* Existing buckets keep their tokens; a lower burst clips them at the
 * next take, a new rate applies from then on. */
void
guard_limiter_set(guard_limiter *l, double per_minute, double burst)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	guard_limiter_rates(l, per_minute, burst);
	pthread_mutex_unlock(&l->mu);
}

/* Tokens the bucket holds at time now (refilled, capped at burst). */
static double
guard_level(const guard_limiter *l, const struct guard_bucket *b, double now)
{
	double t = b->tokens;
	if (now > b->last)
		t += (now - b->last) * l->rate;
	return t < l->burst ? t : l->burst;
}

/* The LRU list is doubly linked so a touched bucket moves to the front,
 * and the tail is evicted, in O(1). */
static void
guard_lru_unlink(guard_limiter *l, struct guard_bucket *b)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		l->mru = b->next;
	if (b->next)
		b->next->prev = b->prev;
	else
		l->lru = b->prev;
	b->prev = b->next = NULL;
}

/* Makes b the most recently used. */
static void
guard_lru_push(guard_limiter *l, struct guard_bucket *b)
{
	b->prev = NULL;
	b->next = l->mru;
	if (l->mru)
		l->mru->prev = b;
	else
		l->lru = b;
	l->mru = b;
}

/* Removes b from its hash chain (chains are short: load factor <= 1). */
static void
guard_chain_unlink(guard_limiter *l, struct guard_bucket *b)
{
	struct guard_bucket **pp = &l->heads[b->hash & l->mask];
	while (*pp != b)
		pp = &(*pp)->hnext;
	*pp = b->hnext;
	b->hnext = NULL;
}

/*
 * A bucket for a new key. Below max_keys it is a fresh allocation; at the
 * bound an old bucket is recycled: first one that has refilled to burst
 * (forgetting it loses nothing, a new one starts full), searched among the
 * GUARD_EVICT_SCAN least recently used so the cost stays O(1); else the
 * least recently used itself.
 */
static struct guard_bucket *
guard_bucket_slot(guard_limiter *l, double now)
{
	struct guard_bucket *b = l->lru, *victim = l->lru;

	/* at the bound the list holds max_keys >= 1 buckets, so victim is
	 * never NULL there; the test says so to the analyser too */
	if (l->nkeys < l->max_keys || victim == NULL) {
		l->nkeys++;
		return xcalloc(1, sizeof(*b));
	}
	for (size_t i = 0; b != NULL && i < GUARD_EVICT_SCAN; b = b->prev, i++)
		if (guard_level(l, b, now) >= l->burst) {
			victim = b;
			break;
		}
	guard_lru_unlink(l, victim);
	guard_chain_unlink(l, victim);
	return victim;
}

/* Finds or makes key's bucket and moves it to the front of the LRU list.
 * Keys longer than GUARD_LIMIT_KEY_MAX share a bucket per 64-byte prefix,
 * which can only limit more, never less. */
static struct guard_bucket *
guard_bucket_find(guard_limiter *l, const char *key, double now)
{
	size_t klen = strnlen(key, GUARD_LIMIT_KEY_MAX);
	unsigned char h8[crypto_shorthash_BYTES];
	uint64_t h = 0;
	struct guard_bucket *b;

	crypto_shorthash(h8, (const unsigned char *)key, klen, l->hkey);
	for (size_t i = 0; i < sizeof h8; i++)
		h = h << 8 | h8[i];
	for (b = l->heads[h & l->mask]; b != NULL; b = b->hnext)
		if (b->hash == h && b->klen == klen &&
		    memcmp(b->key, key, klen) == 0)
			break;
	if (b != NULL) {
		guard_lru_unlink(l, b);
	} else {
		b = guard_bucket_slot(l, now);
		b->hash = h;
		b->klen = klen;
		memcpy(b->key, key, klen);
		b->tokens = l->burst;
		b->last = now;
		b->hnext = l->heads[h & l->mask];
		l->heads[h & l->mask] = b;
	}
	guard_lru_push(l, b);
	return b;
}

/*
 * Refill, then take one token. `last` only moves forward, so two threads
 * whose `now` values reach the lock out of order are not both credited
 * for the same interval; a clock stepped back just pauses the refill.
 * A NULL limiter allows (no limiter configured).
 */
bool
guard_limiter_take(guard_limiter *l, const char *key, double now,
    int *retry_after)
{
	bool ok;

	if (retry_after)
		*retry_after = 0;
	if (l == NULL)
		return true;
	pthread_mutex_lock(&l->mu);
	if (!(l->rate > 0)) {
		pthread_mutex_unlock(&l->mu);
		return true;
	}
	if (!isfinite(now))
		now = l->clock;
	else if (now > l->clock)
		l->clock = now;

	struct guard_bucket *b = guard_bucket_find(l, key ? key : "", now);
	b->tokens = guard_level(l, b, now);
	if (now > b->last)
		b->last = now;
	ok = b->tokens >= 1;
	if (!ok)
		l->refused++;
	if (ok) {
		b->tokens -= 1;
	} else if (retry_after) {
		/* the epsilon keeps float dust from adding a whole second */
		double wait = ceil((1 - b->tokens) / l->rate - 1e-9);
		*retry_after = wait < 1 ? 1 : wait > INT_MAX ? INT_MAX : (int)wait;
	}
	pthread_mutex_unlock(&l->mu);
	return ok;
}

uint64_t
guard_limiter_refused(guard_limiter *l)
{
	if (l == NULL)
		return 0;
	pthread_mutex_lock(&l->mu);
	uint64_t n = l->refused;
	pthread_mutex_unlock(&l->mu);
	return n;
}

/* ---- signed visitor ids ------------------------------------------------------- */

/* The MAC of a visitor id is over its raw bytes, not its spelling. */
static void
guard_visitor_mac(const unsigned char key[GUARD_KEY_BYTES],
    const unsigned char id[GUARD_ID_BYTES], unsigned char mac[GUARD_MAC_BYTES])
{
	crypto_generichash_state st;
	guard_mac_begin(&st, key, "visitor");
	crypto_generichash_update(&st, id, GUARD_ID_BYTES);
	crypto_generichash_final(&st, mac, GUARD_MAC_BYTES);
}

/* Appends "<id hex>.<mac hex>" in one put, so out never holds half. */
void
guard_visitor_new(const unsigned char key[GUARD_KEY_BYTES], buf *out)
{
	unsigned char id[GUARD_ID_BYTES], mac[GUARD_MAC_BYTES];
	char s[GUARD_VISITOR_LEN + 1];

	guard_init();
	randombytes_buf(id, sizeof id);
	guard_visitor_mac(key, id, mac);
	sodium_bin2hex(s, 2 * GUARD_ID_BYTES + 1, id, sizeof id);
	s[2 * GUARD_ID_BYTES] = '.';
	sodium_bin2hex(s + 2 * GUARD_ID_BYTES + 1, 2 * GUARD_MAC_BYTES + 1, mac,
	    sizeof mac);
	buf_put(out, s, GUARD_VISITOR_LEN);
}

/* Shape first (strnlen bounds the read), then the MAC in constant time.
 * Only lowercase hex passes, so one visitor has one id (likes count once).
 * id_out is "" on failure. */
bool
guard_visitor_check(const unsigned char key[GUARD_KEY_BYTES],
    const char *cookie, char id_out[33])
{
	unsigned char id[GUARD_ID_BYTES], mac[GUARD_MAC_BYTES];
	unsigned char want[GUARD_MAC_BYTES];

	if (id_out)
		id_out[0] = '\0';
	if (cookie == NULL ||
	    strnlen(cookie, GUARD_VISITOR_LEN + 1) != GUARD_VISITOR_LEN ||
	    cookie[2 * GUARD_ID_BYTES] != '.' ||
	    !guard_unhex(cookie, GUARD_ID_BYTES, id) ||
	    !guard_unhex(cookie + 2 * GUARD_ID_BYTES + 1, GUARD_MAC_BYTES, mac))
		return false;
	guard_visitor_mac(key, id, want);
	if (sodium_memcmp(mac, want, GUARD_MAC_BYTES) != 0)
		return false;
	if (id_out) {
		memcpy(id_out, cookie, 2 * GUARD_ID_BYTES);
		id_out[2 * GUARD_ID_BYTES] = '\0';
	}
	return true;
}

/* MAC(key, "address", addr_key): the tag keeps it apart from the MACs of
 * cookies, and no cookie id can be made to equal it (ids are signed). */
void
guard_address_id(const unsigned char key[GUARD_KEY_BYTES],
    const char *addr_key, char out[33])
{
	crypto_generichash_state st;
	unsigned char mac[GUARD_MAC_BYTES];

	_Static_assert(GUARD_MAC_BYTES == GUARD_ID_BYTES,
	    "an address id is shaped like a cookie's id");
	addr_key = addr_key ? addr_key : "";
	guard_mac_begin(&st, key, "address");
	crypto_generichash_update(&st, (const unsigned char *)addr_key,
	    strlen(addr_key) + 1);
	crypto_generichash_final(&st, mac, GUARD_MAC_BYTES);
	sodium_bin2hex(out, 33, mac, sizeof mac);
}

/* ---- form tokens -------------------------------------------------------------- */

/* Hour number of epoch time t, rounding down for times before 1970 too. */
static int64_t
guard_hour(int64_t t)
{
	return t / 3600 - (t % 3600 < 0);
}

/* MAC(key, "form", article_id, hour): binds a token to one article and
 * one hour, both fixed-width so no two pairs feed the same bytes. */
static void
guard_form_mac(const unsigned char key[GUARD_KEY_BYTES], int64_t article_id,
    int64_t hour, unsigned char mac[GUARD_MAC_BYTES])
{
	crypto_generichash_state st;
	guard_mac_begin(&st, key, "form");
	guard_mac_i64(&st, article_id);
	guard_mac_i64(&st, hour);
	crypto_generichash_final(&st, mac, GUARD_MAC_BYTES);
}

/* Parses s[0..n) as an int64 in its one canonical decimal spelling: an
 * optional '-', digits, no leading zeros, no "-0", no overflow. */
static bool
guard_parse_i64(const char *s, size_t n, int64_t *out)
{
	size_t i = 0;
	bool neg = n > 0 && s[0] == '-';
	uint64_t v = 0, lim;

	if (neg)
		i = 1;
	if (i == n || (s[i] == '0' && (neg || n - i > 1)))
		return false;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (lim - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* "<hour>.<mac hex>"; the hour is in clear so the check knows which MAC
 * to compute, the MAC binds it to this article. */
void
guard_form_token(const unsigned char key[GUARD_KEY_BYTES], int64_t article_id,
    int64_t now, buf *out)
{
	unsigned char mac[GUARD_MAC_BYTES];
	char hex[2 * GUARD_MAC_BYTES + 1];
	int64_t hour = guard_hour(now);

	guard_form_mac(key, article_id, hour, mac);
	sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
	buf_printf(out, "%" PRId64 ".%s", hour, hex);
}

/* The MAC is checked before the age, so EXPIRED always means "ours, but
 * stale": the page can say "reload and retry" instead of "bad request". */
enum guard_token
guard_form_check(const unsigned char key[GUARD_KEY_BYTES], int64_t article_id,
    const char *token, int64_t now, int valid_hours)
{
	unsigned char mac[GUARD_MAC_BYTES], want[GUARD_MAC_BYTES];
	size_t n, hlen;
	int64_t hour, now_hour;

	if (token == NULL || token[0] == '\0')
		return GUARD_TOKEN_MISSING;
	n = strnlen(token, GUARD_TOKEN_MAX + 1);
	if (n > GUARD_TOKEN_MAX || n < 2 * GUARD_MAC_BYTES + 2)
		return GUARD_TOKEN_INVALID;
	hlen = n - 2 * GUARD_MAC_BYTES - 1;
	if (token[hlen] != '.' || !guard_parse_i64(token, hlen, &hour) ||
	    !guard_unhex(token + hlen + 1, GUARD_MAC_BYTES, mac))
		return GUARD_TOKEN_INVALID;
	guard_form_mac(key, article_id, hour, want);
	if (sodium_memcmp(mac, want, GUARD_MAC_BYTES) != 0)
		return GUARD_TOKEN_INVALID;
	if (valid_hours < 0)
		valid_hours = 0;
	now_hour = guard_hour(now); /* |now_hour| <= 2^63/3600: no overflow */
	if (hour > now_hour + 1 || hour < now_hour - valid_hours)
		return GUARD_TOKEN_EXPIRED;
	return GUARD_TOKEN_OK;
}

/* ---- NG words ------------------------------------------------------------------- */

struct guard_ngword {
	char *s; /* text_fold key (GUARD_NG_FOLD), not empty */
	size_t n;
	char *word; /* the piece NFKC-folded and trimmed, for `which` */
};

struct guard_ngwords {
	struct guard_ngword *w;
	size_t n, cap;
};

/* How words and texts are folded: the same way on both sides, so ばか in
 * the list catches バカ, ば か, ば・か, ば<ZWSP>か; "baka" catches "bаkа"
 * (Cyrillic а) and "ｂａｋａ". */
#define GUARD_NG_FOLD (TEXT_FOLD_SEPARATORS | TEXT_FOLD_KANA)
/* Bytes of one list entry kept: a word, not a paragraph. */
#define GUARD_NG_WORD_MAX 1024

/* Adds one word of the list (a comma- or line-separated piece) by its
 * key; a piece that folds to nothing (only punctuation or spaces) or does
 * not fold (not UTF-8) would match everything or nothing, and is left
 * out. */
static void
guard_ngwords_add(guard_ngwords *g, const char *s, size_t n, buf *f)
{
	buf_reset(f);
	if (n > GUARD_NG_WORD_MAX || !text_fold(f, s, n, GUARD_NG_FOLD) ||
	    f->err || f->len == 0)
		return;
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 16;
		g->w = xrealloc(g->w, g->cap * sizeof(*g->w));
	}
	g->w[g->n].s = memcpy(xmalloc(f->len + 1), f->ptr, f->len);
	g->w[g->n].s[f->len] = '\0';
	g->w[g->n].n = f->len;
	/* `which` shows the word NFKC-folded and trimmed, as the list
	 * meant it, not its skeleton */
	buf_reset(f);
	text_nfkc_fold(f, s, n);
	size_t a = 0, b = f->len;
	while (a < b && f->ptr[a] == ' ')
		a++;
	while (b > a && f->ptr[b - 1] == ' ')
		b--;
	g->w[g->n].word = memcpy(xmalloc(b - a + 1), f->ptr ? f->ptr + a : "",
	    b - a);
	g->w[g->n].word[b - a] = '\0';
	g->n++;
}

/* Pieces split at ',' '，' '、' and line ends, each folded on its own, so
 * one piece of invalid UTF-8 loses only itself. The split comes before
 * folding because folding drops the separators. */
guard_ngwords *
guard_ngwords_new(const char *list)
{
	static const char *const seps[] = {",", "\r", "\n", "\xEF\xBC\x8C",
	    "\xE3\x80\x81"};
	guard_ngwords *g = xcalloc(1, sizeof(*g));
	const char *p = list ? list : "";
	buf f;

	buf_init(&f, 0);
	while (*p != '\0') {
		size_t k = 0, sl = 0;
		for (; p[k] != '\0'; k++) {
			for (size_t j = 0; j < sizeof seps / sizeof *seps && !sl; j++)
				if (strncmp(p + k, seps[j], strlen(seps[j])) == 0)
					sl = strlen(seps[j]);
			if (sl)
				break;
		}
		if (k > 0)
			guard_ngwords_add(g, p, k, &f);
		p += k + sl;
	}
	buf_free(&f);
	return g;
}

/* Frees every word and the list; NULL-safe. */
void
guard_ngwords_free(guard_ngwords *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < g->n; i++) {
		free(g->w[i].s);
		free(g->w[i].word);
	}
	free(g->w);
	free(g);
}

/*
 * Folds text once (linear: the callers' texts are length-bounded and
 * stream-safe), then memmem per word: fine for the dozens of words a site
 * keeps. For thousands, build one Aho-Corasick automaton over the keys in
 * guard_ngwords_new and scan the text once. Text that does not fold
 * (invalid UTF-8, or not stream-safe: outside the contract) is searched as
 * is rather than waved through.
 */
bool
guard_ngwords_match(const guard_ngwords *g, const char *text, size_t n,
    buf *which)
{
	const char *hay = text;
	size_t hn = n;
	bool hit = false, folded;
	buf f;

	if (g == NULL || g->n == 0 || text == NULL)
		return false;
	buf_init(&f, 0);
	folded = text_fold(&f, text, n, GUARD_NG_FOLD) && !f.err;
	if (folded) {
		hay = buf_cstr(&f);
		hn = f.len;
	}
	for (size_t i = 0; i < g->n && !hit; i++) {
		/* unfolded text is searched for the words, not their keys */
		const char *w = folded ? g->w[i].s : g->w[i].word;
		size_t wn = folded ? g->w[i].n : strlen(g->w[i].word);
		if (wn == 0 || wn > hn || memmem(hay, hn, w, wn) == NULL)
			continue;
		hit = true;
		if (which)
			buf_puts(which, g->w[i].word);
	}
	buf_free(&f);
	return hit;
}

/* ---- daily poster id -------------------------------------------------------------- */

/* ip and day go in NUL-terminated, so ("1.2.3.4", "5") and ("1.2.3.45", "")
 * are different inputs. 48 bits of MAC: collisions among one day's
 * posters are rare, and the id reveals nothing about the address. */
void
guard_daily_id(const unsigned char key[GUARD_KEY_BYTES], const char *ip,
    const char *day, char out[9])
{
	crypto_generichash_state st;
	unsigned char mac[GUARD_MAC_BYTES];

	ip = ip ? ip : "";
	day = day ? day : "";
	guard_mac_begin(&st, key, "daily");
	crypto_generichash_update(&st, (const unsigned char *)ip, strlen(ip) + 1);
	crypto_generichash_update(&st, (const unsigned char *)day,
	    strlen(day) + 1);
	crypto_generichash_final(&st, mac, sizeof mac);
	sodium_bin2base64(out, 9, mac, GUARD_DAILY_BYTES,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}
