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
/* Makes room for n more bytes up front (one allocation instead of a
 * series of doublings); false past max. */
bool buf_reserve(buf *b, size_t n);
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
/*
 * What text_check finds wrong with outside text, first problem in input
 * order. Every normalisation is bounded by the stream-safe rule: a run of
 * more than TEXT_MAX_NONSTARTERS non-starters (combining marks, counted
 * over NFKD as UAX #15 does) costs utf8proc's canonical reordering time
 * quadratic in the run, so such text is refused before normalising.
 */
enum text_bad {
	TEXT_GOOD,
	TEXT_BAD_UTF8,    /* ill-formed UTF-8 */
	TEXT_BAD_CONTROL, /* NUL and C0 but \t \n \r, DEL, C1 (U+0080..9F) */
	TEXT_BAD_NONCHAR, /* U+FDD0..FDEF, U+xFFFE, U+xFFFF */
	TEXT_BAD_MARKS,   /* a run of over TEXT_MAX_NONSTARTERS non-starters */
};
#define TEXT_MAX_NONSTARTERS 30
/* The raw bytes a limit of n characters allows before normalising: four
 * per character, a code point's longest spelling, so no text within the
 * limit is refused for its bytes but a mark run cannot hide in one
 * "character". */
#define TEXT_RAW_BYTES(n) ((size_t)(n) * 4)
enum text_bad text_check(const char *s, size_t n);
/* text_check(s, n) == TEXT_GOOD: the contract of every stored text. */
bool text_clean(const char *s, size_t n);
/* Well-formed and within the stream-safe limit (controls allowed): what
 * text_nfc and text_nfkc_fold accept. */
bool text_stream_safe(const char *s, size_t n);

/*
 * NFC / NFKC+casefold normalisation into out (appended). Returns false on
 * invalid UTF-8 or text that is not stream-safe (nothing appended; work
 * stays linear in n), or when out refuses the append (out->err is then
 * set). NFKC+casefold is what search and the NG-word filter compare:
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

/* ---- comparison keys (fold.c) ------------------------------------------- */

enum text_fold_flags {
	TEXT_FOLD_SEPARATORS = 1, /* drop white space, punctuation (・ 、 .),
	                           * controls and format characters */
	TEXT_FOLD_KANA = 2,       /* katakana as hiragana: バカ keys as ばか */
};
/*
 * Appends the comparison key of s to out: NFKC_Casefold without
 * default-ignorables, then flags, then the UTS #39 confusable skeleton
 * (ICU), ASCII lowered. Two texts that look alike get the same key, and a
 * key of a substring is a substring of the text's key. False (nothing
 * useful appended) when s is not valid stream-safe UTF-8. Linear in n.
 */
bool text_fold(buf *out, const char *s, size_t n, unsigned flags);
/* True when a and b have the same non-empty key with separators dropped:
 * "名無しさん" and "名無し さん" + U+200B, "Admin" and "Аdmin" (Cyrillic). */
bool text_confusable(const char *a, size_t an, const char *b, size_t bn);
/* True when s holds a bidi control (U+202A..202E, U+2066..2069, LRM, RLM,
 * ALM): it could reorder what is shown after it. */
bool text_has_bidi(const char *s, size_t n);
/* True when nothing of s shows: only default-ignorables, white space,
 * controls, format characters, lone combining marks, U+2800 (or empty). */
bool text_invisible(const char *s, size_t n);

/* ---- search tokenizer (ngram.c) ------------------------------------------ */

/*
 * Full-text search tokens over NFKC-casefolded text (text_nfkc_fold's
 * options, applied cluster by cluster): CJK characters (kanji, kana, ー,
 * 々) as unigrams and bigrams, other letters and digits as whole words,
 * everything else (punctuation, emoji, spaces, invalid bytes) separating.
 */
enum text_ngram_mode {
	NGRAM_INDEX, /* documents: every CJK character's unigram, and at the
	              * same position (colocated) the bigram it starts */
	NGRAM_QUERY, /* query strings: a 1-character CJK run as its unigram,
	              * a longer run as its chain of bigrams, nothing more */
};
enum text_ngram_kind {
	NGRAM_WORD, /* letters/digits, at most TEXT_NGRAM_WORD_MAX bytes kept */
	NGRAM_UNI,  /* one CJK character */
	NGRAM_BI,   /* two consecutive CJK characters */
};
#define TEXT_NGRAM_WORD_MAX 64

struct text_ngram_tok {
	const char *tok;   /* normalised bytes (not NUL-terminated), valid
	                    * only during the callback */
	size_t len;
	size_t start, end; /* the byte range of the ORIGINAL input it comes
	                    * from (whole clusters; a bigram spans both) */
	enum text_ngram_kind kind;
	bool colocated;    /* same position as the token before it */
	bool run_start;    /* first token of a word or of a CJK run */
	bool space_before; /* white space lies between it and the one before */
};
/* Called per token in order; a nonzero return stops text_ngram, which
 * returns that value (0 when it ran to the end). Never fails otherwise. */
typedef int (*text_ngram_fn)(void *ctx, const struct text_ngram_tok *t);
int text_ngram(const char *s, size_t n, enum text_ngram_mode mode,
    text_ngram_fn fn, void *ctx);

/*
 * A reader's query as phrases that must all match (AND): each phrase is a
 * sequence of tokens at consecutive positions. Words joined by punctuation
 * only ("F-35") form one phrase whose last token matches as a prefix; a CJK
 * run is one unigram or a chain of bigrams. Space-separated terms, and
 * CJK/word changes, start new phrases.
 */
enum text_query_kind {
	TEXT_QUERY_WORDS,   /* words; the last one a prefix */
	TEXT_QUERY_UNIGRAM, /* one CJK character */
	TEXT_QUERY_BIGRAMS, /* a CJK run of 2+ characters as its bigrams */
};
struct text_query_phrase {
	enum text_query_kind kind;
	const char **tok; /* normalised tokens, NUL-terminated */
	size_t ntok;
};
struct text_query {
	struct text_query_phrase *ph;
	size_t nph;       /* 0: nothing searchable (empty, punctuation, emoji) */
};
#define TEXT_QUERY_MAX_PHRASES 32
#define TEXT_QUERY_MAX_TOKENS 128 /* over all phrases; the rest is dropped */
/* Parses s into out (arena-allocated). false on invalid UTF-8. */
bool text_query_parse(arena *a, const char *s, size_t n, struct text_query *out);

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
/* text_ja_date into ja and text_rfc3339 into iso, one zone lookup. */
void text_dates(buf *ja, buf *iso, int64_t t);
/* The same into arrays of TEXT_DATE_MAX bytes, with their lengths. */
#define TEXT_DATE_MAX 64
void text_dates_s(char *ja, size_t *nja, char *iso, size_t *niso, int64_t t);
/* "2022年 1月 09日 13:05" */
void text_ja_datetime(buf *out, int64_t t);
/* RFC 3339 in the site zone, e.g. "2022-01-09T13:05:00+09:00". */
void text_rfc3339(buf *out, int64_t t);
/* RFC 1123 in UTC for HTTP and RSS: "Sun, 09 Jan 2022 04:05:00 GMT". */
void text_http_date(buf *out, int64_t t);
/* Parses "YYYY-MM-DDTHH:MM[:SS](Z|±HH:MM)" or "YYYY-MM-DD" (UTC). */
bool text_parse_iso8601(const char *s, int64_t *out);

/* ---- clock (clock.c) ------------------------------------------------------ */

/*
 * The wall clock in epoch seconds, for everything that decides what is
 * visible or due: the request time of the site and the job runner, so a
 * scheduled article is published and shown by the same clock. Test
 * builds (-DKIJI_TEST_HOOKS, the SANITIZE=1 build) add the offset in
 * seconds written in the file named by KIJI_TEST_CLOCK_FILE, re-read at
 * most every 100 ms; release builds have no such code.
 */
int64_t text_now(void);

#endif
