/*
 * UTF-8: strict validation, NFC and NFKC+casefold through utf8proc,
 * extended-grapheme-cluster counting and truncation, white-space squashing.
 * Only validation is hand-written: it is the hot path for every form field
 * and must be exactly Unicode's Table 3-7, nothing looser.
 */
#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define TEXT_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD, stands in for bad bytes */
#define TEXT_ELLIPSIS "\xE2\x80\xA6"    /* U+2026, marks a cut */

/* Normalisation forms handed to utf8proc_map. */
#define TEXT_NFC (UTF8PROC_STABLE | UTF8PROC_COMPOSE)
/* NFKC_Casefold as utf8proc defines it: IGNORE drops default-ignorables
 * (ZWSP, soft hyphen, ...) so they cannot split an NG word. */
#define TEXT_NFKC_FOLD \
	(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | \
	    UTF8PROC_CASEFOLD | UTF8PROC_IGNORE)

/*
 * Decodes the code point starting at s (n > 0 bytes available) into *cp.
 * Returns its length 1..4, or 0 when s does not begin a well-formed
 * sequence: stray continuation, overlong, surrogate, > U+10FFFF, truncated.
 */
static size_t
utf8_decode(const unsigned char *s, size_t n, int32_t *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c < 0xC2) /* continuation byte, or C0/C1 overlong lead */
		return 0;
	if (c < 0xE0) {
		if (n < 2 || (s[1] & 0xC0) != 0x80)
			return 0;
		*cp = ((int32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
		return 2;
	}
	if (c < 0xF0) {
		if (c == 0xE0)
			lo = 0xA0; /* below is overlong */
		else if (c == 0xED)
			hi = 0x9F; /* above is a surrogate */
		if (n < 3 || s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80)
			return 0;
		*cp = ((int32_t)(c & 0x0F) << 12) |
		    ((int32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
		return 3;
	}
	if (c < 0xF5) {
		if (c == 0xF0)
			lo = 0x90; /* below is overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* above is past U+10FFFF */
		if (n < 4 || s[1] < lo || s[1] > hi ||
		    (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
			return 0;
		*cp = ((int32_t)(c & 0x07) << 18) |
		    ((int32_t)(s[1] & 0x3F) << 12) |
		    ((int32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
		return 4;
	}
	return 0;
}

/*
 * Reads the code point at s[*i] and advances *i past it. A byte that does
 * not start a valid sequence reads as U+FFFD and advances one byte, so
 * scanners make progress even on input that broke the "valid" contract.
 */
static int32_t
utf8_next(const unsigned char *s, size_t n, size_t *i)
{
	int32_t cp;
	size_t k = utf8_decode(s + *i, n - *i, &cp);

	if (k == 0) {
		*i += 1;
		return 0xFFFD;
	}
	*i += k;
	return cp;
}

/*
 * Appends s[0..n) to out with every ill-formed byte replaced by U+FFFD,
 * so what we append is valid UTF-8 whatever the caller passed.
 */
static void
put_valid(buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0, i = 0;
	int32_t cp;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t k = utf8_decode(p + i, n - i, &cp);
		if (k) {
			i += k;
			continue;
		}
		buf_put(out, s + run, i - run);
		buf_put(out, TEXT_REPLACEMENT, 3);
		run = ++i;
	}
	if (n > run)
		buf_put(out, s + run, n - run);
}

/* Strict validation; the ASCII fast path skips the decoder per byte. */
bool
text_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	int32_t cp;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t k = utf8_decode(p + i, n - i, &cp);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

/* True for the 66 noncharacters: U+FDD0..U+FDEF and the last two code
 * points of every plane (U+xFFFE, U+xFFFF). */
static bool
utf8_nonchar(int32_t cp)
{
	return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
}

/*
 * How many non-starters cp brings to a run, as UAX #15's stream-safe
 * format counts them: over cp's NFKD, *lead is the non-starters before its
 * first starter and *trail those after its last; *all says it has no
 * starter (then lead == trail == its length). Default-ignorables count as
 * nothing and break nothing (all, 0): NFKC_Casefold removes them before
 * reordering, so they must not split a run here either.
 */
static void
utf8_nonstarters(int32_t cp, size_t *lead, size_t *trail, bool *all)
{
	utf8proc_int32_t d[32];
	int bound = 0;

	*lead = *trail = 0;
	*all = false;
	if (cp < 0xA0)
		return; /* ASCII, C1: starters with no decomposition */
	if (utf8proc_get_property(cp)->ignorable) {
		*all = true;
		return;
	}
	utf8proc_ssize_t k = utf8proc_decompose_char(cp, d, 32,
	    UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT, &bound);
	if (k <= 0 || k > 32) /* cannot happen: 18 is Unicode's longest */
		return;
	utf8proc_ssize_t i = 0;
	while (i < k && utf8proc_get_property(d[i])->combining_class != 0)
		i++;
	*lead = (size_t)i;
	if (i == k) {
		*all = true;
		*trail = (size_t)i;
		return;
	}
	for (i = k; i > 0 && utf8proc_get_property(d[i - 1])->combining_class
	    != 0; i--)
		(*trail)++;
}

/*
 * One pass over s: well-formedness, then (when controls) the characters
 * text_check refuses, and the length of every run of non-starters. What
 * is refused first wins, in input order.
 */
static enum text_bad
utf8_scan(const char *s, size_t n, bool controls)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	int32_t cp;

	while (i < n) {
		if (p[i] < 0x80) {
			if (controls && ((p[i] < 0x20 && p[i] != '\t' &&
			    p[i] != '\n' && p[i] != '\r') || p[i] == 0x7F))
				return TEXT_BAD_CONTROL;
			run = 0;
			i++;
			continue;
		}
		size_t k = utf8_decode(p + i, n - i, &cp);
		if (k == 0)
			return TEXT_BAD_UTF8;
		i += k;
		if (controls && cp <= 0x9F)
			return TEXT_BAD_CONTROL; /* C1 */
		if (controls && utf8_nonchar(cp))
			return TEXT_BAD_NONCHAR;
		size_t lead, trail;
		bool all;
		utf8_nonstarters(cp, &lead, &trail, &all);
		if (all) {
			run += lead;
		} else {
			if (run + lead > TEXT_MAX_NONSTARTERS)
				return TEXT_BAD_MARKS;
			run = trail;
		}
		if (run > TEXT_MAX_NONSTARTERS)
			return TEXT_BAD_MARKS;
	}
	return TEXT_GOOD;
}

enum text_bad
text_check(const char *s, size_t n)
{
	return utf8_scan(s, n, true);
}

bool
text_clean(const char *s, size_t n)
{
	return utf8_scan(s, n, true) == TEXT_GOOD;
}

bool
text_stream_safe(const char *s, size_t n)
{
	return utf8_scan(s, n, false) == TEXT_GOOD;
}

/* True when s[0..n) is all ASCII: both forms leave it as is (bar case). */
static bool
is_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/*
 * Validates s and appends its utf8proc_map(opt) form to out. ASCII skips
 * utf8proc (no allocation): it is its own NFC, and its own NFKC_Casefold
 * once A-Z are lowered. False on invalid input or a refused append.
 */
static bool
normalize(buf *out, const char *s, size_t n, utf8proc_option_t opt)
{
	if (n == 0)
		return true;
	if (is_ascii(s, n)) {
		size_t at = out->len;
		if (!buf_put(out, s, n))
			return false;
		if (opt & UTF8PROC_CASEFOLD)
			for (size_t i = at; i < out->len; i++)
				if (out->ptr[i] >= 'A' && out->ptr[i] <= 'Z')
					out->ptr[i] += 'a' - 'A';
		return true;
	}
	/* Canonical reordering sorts each run of non-starters in place, in
	 * time quadratic in the run: a run over UAX #15's stream-safe limit
	 * is refused here, before utf8proc sees it, whoever the caller. */
	if (utf8_scan(s, n, false) != TEXT_GOOD)
		return false;
	if (n > (size_t)(PTRDIFF_MAX / 8)) { /* utf8proc works in int32s */
		out->err = true;
		return false;
	}

	utf8proc_uint8_t *dst = NULL;
	utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s,
	    (utf8proc_ssize_t)n, &dst, opt);
	if (r == UTF8PROC_ERROR_NOMEM)
		text_oom();
	if (r < 0) { /* only OVERFLOW is left once the input is valid */
		free(dst);
		out->err = true;
		return false;
	}
	bool ok = buf_put(out, dst, (size_t)r);
	free(dst);
	return ok;
}

/* Canonical composition: what we store, so equal text compares equal. */
bool
text_nfc(buf *out, const char *s, size_t n)
{
	return normalize(out, s, n, TEXT_NFC);
}

/* NFKC_Casefold: the comparison key for search and the NG-word filter. */
bool
text_nfkc_fold(buf *out, const char *s, size_t n)
{
	return normalize(out, s, n, TEXT_NFKC_FOLD);
}

/*
 * Walks s cluster by cluster (UAX #29 extended grapheme clusters, via
 * utf8proc's stateful break so ZWJ emoji and flag pairs stay whole).
 * Stops when cluster number limit+1 would begin and stores its byte
 * offset in *cut (n when s has at most limit clusters). Returns the count.
 */
static size_t
grapheme_scan(const char *s, size_t n, size_t limit, size_t *cut)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, count = 0;
	int32_t prev = 0, state = 0;

	*cut = n;
	while (i < n) {
		size_t at = i;
		int32_t cp = utf8_next(p, n, &i);
		if (count == 0 ||
		    utf8proc_grapheme_break_stateful(prev, cp, &state)) {
			if (count == limit) {
				*cut = at;
				return count;
			}
			count++;
		}
		prev = cp;
	}
	return count;
}

/* Counts every cluster: a scan with no limit. */
size_t
text_graphemes(const char *s, size_t n)
{
	size_t cut;

	return grapheme_scan(s, n, SIZE_MAX, &cut);
}

/* Keeps whole clusters only; bad bytes (out of contract) become U+FFFD. */
bool
text_truncate(buf *out, const char *s, size_t n, size_t max_graphemes)
{
	size_t cut;

	grapheme_scan(s, n, max_graphemes, &cut);
	put_valid(out, s, cut);
	if (cut == n)
		return false;
	buf_put(out, TEXT_ELLIPSIS, 3);
	return true;
}

/* Length of the white space at s[i] (ASCII or U+3000), 0 when none. */
static size_t
space_at(const char *s, size_t n, size_t i)
{
	switch (s[i]) {
	case ' ': case '\t': case '\n': case '\v': case '\f': case '\r':
		return 1;
	case '\xE3':
		if (n - i >= 3 && s[i + 1] == '\x80' && s[i + 2] == '\x80')
			return 3;
		return 0;
	default:
		return 0;
	}
}

/* Copies non-space runs whole; a pending space is written only between
 * two runs, which trims both ends for free. */
void
text_squash_space(buf *out, const char *s, size_t n)
{
	size_t i = 0;
	bool pending = false, any = false;

	while (i < n) {
		size_t k = space_at(s, n, i);
		if (k) {
			i += k;
			pending = true;
			continue;
		}
		size_t j = i + 1;
		while (j < n && space_at(s, n, j) == 0)
			j++;
		if (pending && any)
			buf_putc(out, ' ');
		buf_put(out, s + i, j - i);
		any = true;
		pending = false;
		i = j;
	}
}
