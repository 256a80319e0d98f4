/*
 * text: the bottom layer. Bounded buffers, per-request arenas, UTF-8
 * validation and normalisation (utf8proc), grapheme-safe truncation,
 * Japanese dates in the site time zone. Depends on nothing else in kiji.
 */
#ifndef KIJI_TEXT_H
#define KIJI_TEXT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- bounded buffer (buf.c) ------------------------------------------ */

/*
 * One growable byte buffer with a hard cap. Every append is checked: an
 * append that would pass `max` (or fails to allocate) appends nothing and
 * sets `err`, and every later append is refused too, so callers may append
 * many times and check `err` once. ptr is always NUL-terminated when len>0.
 */
typedef struct buf {
	char *ptr;
	size_t len;
	size_t cap;
	size_t max; /* hard cap on len; 0 means BUF_DEFAULT_MAX */
	bool err;   /* an append was refused (over max or out of memory) */
} buf;

#define BUF_DEFAULT_MAX ((size_t)64 << 20)

void buf_init(buf *b, size_t max);
bool buf_put(buf *b, const void *p, size_t n);
bool buf_puts(buf *b, const char *s);
bool buf_putc(buf *b, char c);
bool buf_printf(buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool buf_vprintf(buf *b, const char *fmt, va_list ap);
/* Empties the buffer (keeps memory and clears err). */
void buf_reset(buf *b);
/* Frees memory; the buffer may be reused after buf_init. NULL-safe. */
void buf_free(buf *b);
/* Returns the NUL-terminated contents ("" when empty); owned by b. */
const char *buf_cstr(buf *b);
/* Hands the malloc'd contents to the caller (NUL-terminated) and resets b. */
char *buf_detach(buf *b, size_t *len);

/* ---- arena (arena.c) -------------------------------------------------- */

/*
 * Per-request bump allocator: everything a request allocates dies with it
 * in one arena_free. Allocation failure aborts (the OOM policy lives in
 * text_oom(), one place).
 */
typedef struct arena arena;

arena *arena_new(size_t chunk);
void arena_free(arena *a); /* NULL-safe */
void arena_reset(arena *a); /* frees all but the first chunk */
void *arena_alloc(arena *a, size_t n); /* 16-byte aligned, zeroed */
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_strdup(arena *a, const char *s);
char *arena_printf(arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Out-of-memory policy: log and abort. Called by every allocator wrapper. */
_Noreturn void text_oom(void);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* ---- UTF-8 and normalisation (utf8.c) ---------------------------------- */

/* True when s[0..n) is well-formed UTF-8 (no overlongs, surrogates, >U+10FFFF). */
bool text_utf8_valid(const char *s, size_t n);
/* True when valid UTF-8 and free of NUL and C0 controls other than \t \n \r. */
bool text_clean(const char *s, size_t n);

/*
 * NFC / NFKC+casefold normalisation into out (appended). Returns false on
 * invalid UTF-8 (nothing appended), or when out refuses the append (out->err
 * is then set). NFKC+casefold is what search and the NG-word filter compare:
 * full-width ＡＢＣ and half-width abc become equal.
 */
bool text_nfc(buf *out, const char *s, size_t n);
bool text_nfkc_fold(buf *out, const char *s, size_t n);

/* Number of grapheme clusters in valid UTF-8 s (utf8proc's segmentation). */
size_t text_graphemes(const char *s, size_t n);

/*
 * Appends s to out cut to at most max_graphemes extended grapheme clusters;
 * when cut, the kept part is followed by "…" (U+2026, not counted in max).
 * Returns true when it cut. s must be valid UTF-8.
 */
bool text_truncate(buf *out, const char *s, size_t n, size_t max_graphemes);

/* Collapses runs of white space (ASCII and U+3000) into one ASCII space and
 * trims both ends; appends to out. Used to make excerpts from plain text. */
void text_squash_space(buf *out, const char *s, size_t n);

/* ---- time (date.c) ------------------------------------------------------- */

/*
 * The site time zone, an IANA name from the tz database ("Asia/Tokyo").
 * Returns false (and keeps the old zone) for an unknown name. Thread-safe
 * against concurrent text_ja_date/text_localtime calls.
 */
bool text_tz_set(const char *tzname);

/* Broken-down local time of epoch t in the site zone. */
struct text_tm {
	int year, mon, mday, hour, min, sec, wday; /* mon 1..12 */
	long gmtoff; /* seconds east of UTC */
};
void text_localtime(int64_t t, struct text_tm *out);

/* "2022年 1月 09日": year, month without padding, day zero-padded, literal spaces. */
void text_ja_date(buf *out, int64_t t);
/* "2022年 1月 09日 13:05" */
void text_ja_datetime(buf *out, int64_t t);
/* RFC 3339 in the site zone, e.g. "2022-01-09T13:05:00+09:00". */
void text_rfc3339(buf *out, int64_t t);
/* RFC 1123 in UTC for HTTP and RSS: "Sun, 09 Jan 2022 04:05:00 GMT". */
void text_http_date(buf *out, int64_t t);
/* Parses "YYYY-MM-DDTHH:MM[:SS](Z|±HH:MM)" or "YYYY-MM-DD" (UTC). */
bool text_parse_iso8601(const char *s, int64_t *out);

#endif
