/*
 * guard: abuse defence for anonymous readers (private to site/). Rate
 * limiting, signed visitor ids, form tokens, NG words, daily poster ids.
 * Keys come from libsodium; nothing here touches the network or the store
 * except guard_secret_load.
 */
#ifndef KIJI_GUARD_H
#define KIJI_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"
#include "../text/text.h"

#define GUARD_KEY_BYTES 32

/* The site secret (32 random bytes), kept in the settings table under
 * "secret.key" as hex; created with randombytes_buf on first use. */
bool guard_secret_load(store *st, unsigned char key[GUARD_KEY_BYTES]);

/* ---- token-bucket rate limiter ------------------------------------------ */

/*
 * One limiter per purpose (comment posts, likes). Each key (client IP)
 * gets a bucket of `burst` tokens refilled at `per_minute`/60 per second.
 * Memory is bounded: at most max_keys buckets; when full, the stalest are
 * dropped. Thread-safe.
 */
typedef struct guard_limiter guard_limiter;
guard_limiter *guard_limiter_new(double per_minute, double burst, size_t max_keys);
void guard_limiter_free(guard_limiter *l); /* NULL-safe */
/* Changes the rates (settings reload) without dropping buckets. */
void guard_limiter_set(guard_limiter *l, double per_minute, double burst);
/* Takes one token for key at time now (seconds, fractional ok). Returns
 * true when allowed; otherwise false and *retry_after (whole seconds,
 * >= 1) says when the next token is due. per_minute <= 0 allows all. */
bool guard_limiter_take(guard_limiter *l, const char *key, double now,
    int *retry_after);
/* How many takes this limiter refused since it was made. */
uint64_t guard_limiter_refused(guard_limiter *l);

/* ---- signed visitor ids --------------------------------------------------- */

/* A new visitor cookie value: 16 random bytes in hex, ".", and a 16-byte
 * keyed BLAKE2b MAC in hex (base64url is fine too; ASCII, no ';' ','). */
void guard_visitor_new(const unsigned char key[GUARD_KEY_BYTES], buf *out);
/* True when cookie is a well-formed, correctly signed visitor value; the
 * id part (before '.') is copied to id_out (33 bytes with NUL). Constant-
 * time MAC compare (sodium_memcmp / crypto_auth_verify). */
bool guard_visitor_check(const unsigned char key[GUARD_KEY_BYTES],
    const char *cookie, char id_out[33]);

/* The visitor id of an address (its rate-limit key, http_ip_key) for
 * requests that bring no visitor cookie: 32 hex digits like a cookie's id,
 * a MAC so it reveals nothing of the address and cannot be aimed at a
 * cookie's id. out holds 33 bytes with the NUL. */
void guard_address_id(const unsigned char key[GUARD_KEY_BYTES],
    const char *addr_key, char out[33]);

/* ---- form tokens ----------------------------------------------------------- */

/*
 * A token bound to an article and a time bucket (hour number), so a page
 * served from a cache for hours still posts: "<hour>.<mac>" where mac =
 * MAC(key, "form", article_id, hour). guard_form_check accepts tokens whose
 * hour is within [now_hour - valid_hours, now_hour + 1].
 */
void guard_form_token(const unsigned char key[GUARD_KEY_BYTES],
    int64_t article_id, int64_t now, buf *out);
enum guard_token {
	GUARD_TOKEN_OK,
	GUARD_TOKEN_MISSING,  /* empty or absent */
	GUARD_TOKEN_INVALID,  /* malformed or wrong MAC (other article) */
	GUARD_TOKEN_EXPIRED,  /* correct MAC, too old (or from the future) */
	GUARD_TOKEN__MAX
};
enum guard_token guard_form_check(const unsigned char key[GUARD_KEY_BYTES],
    int64_t article_id, const char *token, int64_t now, int valid_hours);

/* ---- NG words ---------------------------------------------------------------- */

/*
 * A list of words (one per line, or separated by , ， 、), each compared
 * by its text_fold key (NFKC, case, katakana as hiragana, separators and
 * default-ignorables dropped, confusable skeleton); matching folds the
 * text the same way, so ＢＡＤ, b a d, bаd (Cyrillic а) match "bad", and
 * バカ, ば・か, ﾊﾞｶ match "ばか".
 */
typedef struct guard_ngwords guard_ngwords;
guard_ngwords *guard_ngwords_new(const char *list);
void guard_ngwords_free(guard_ngwords *g); /* NULL-safe */
/* True when text (valid UTF-8) contains any word; the first word matched
 * (NFKC-folded, trimmed) is appended to which when not NULL. */
bool guard_ngwords_match(const guard_ngwords *g, const char *text, size_t n,
    buf *which);

/* ---- daily poster id ---------------------------------------------------------- */

/* 5ch-style ID: 8 characters [A-Za-z0-9+/] from MAC(key, ip, day), where
 * day is the site-local date "YYYY-MM-DD". */
void guard_daily_id(const unsigned char key[GUARD_KEY_BYTES], const char *ip,
    const char *day, char out[9]);

#endif
