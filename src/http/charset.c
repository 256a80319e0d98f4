/*
 * Form charsets: reading the charset a Content-Type names and converting
 * form fields from it to UTF-8, for routes that take forms in the
 * sender's charset (TrackBack: old Japanese blogs ping in EUC-JP or
 * Shift_JIS and say so in the Content-Type). Only a short list of labels
 * is accepted; anything else is refused, never guessed.
 *
 * The conversion is glibc's iconv: glibc has it (no new dependency), and
 * its tables for the Japanese charsets are complete and well tested,
 * which a hand-written decoder's would not be.
 */
#include "http.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct http_charset {
	const char *name; /* usual name, for messages */
	bool utf8;        /* UTF-8: checked, not converted */
	iconv_t cd;       /* to UTF-8, when !utf8 */
};

/*
 * The labels accepted and the glibc converter each is read with. Shift_JIS
 * and its aliases are read as CP932 (Windows-31J), as browsers do: glibc's
 * strict SJIS turns 0x5C and 0x7E into YEN SIGN and OVERLINE, which would
 * break every URL with a '~' or '\', and Japanese Windows software sent
 * CP932's NEC and IBM characters (①, ㈱) under the Shift_JIS name.
 * EUC-JP is read as EUC-JP-MS for the same characters; both then map the
 * wave dash alike (U+FF5E), so one text sent in either gives one string.
 */
static const struct {
	const char *label;
	const char *name;
	const char *iconv; /* NULL: UTF-8 */
} http_charsets[] = {
	{ "utf-8", "UTF-8", NULL },
	{ "utf8", "UTF-8", NULL },
	{ "euc-jp", "EUC-JP", "EUC-JP-MS" },
	{ "eucjp", "EUC-JP", "EUC-JP-MS" },
	{ "x-euc-jp", "EUC-JP", "EUC-JP-MS" },
	{ "shift_jis", "Shift_JIS", "CP932" },
	{ "shift-jis", "Shift_JIS", "CP932" },
	{ "sjis", "Shift_JIS", "CP932" },
	{ "x-sjis", "Shift_JIS", "CP932" },
	{ "ms_kanji", "Shift_JIS", "CP932" },
	{ "windows-31j", "Shift_JIS", "CP932" },
	{ "cp932", "Shift_JIS", "CP932" },
	{ "ms932", "Shift_JIS", "CP932" },
	{ "iso-2022-jp", "ISO-2022-JP", "ISO-2022-JP" },
	{ "iso-8859-1", "ISO-8859-1", "ISO-8859-1" },
	{ "iso8859-1", "ISO-8859-1", "ISO-8859-1" },
	{ "latin1", "ISO-8859-1", "ISO-8859-1" },
	{ "us-ascii", "US-ASCII", "US-ASCII" },
	{ "ascii", "US-ASCII", "US-ASCII" },
};

/* Skips optional white space. */
static const char *
http_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * "type/sub; a=1; charset=\"x\"": the parameters after the first ';' are
 * name=value pairs (RFC 9110 §8.3.1), a value a token or a quoted string
 * (backslash escapes kept as sent: no charset label needs one). The first
 * pair called name (case-insensitive) wins.
 */
const char *
http_ctype_param(arena *a, const char *ct, const char *name)
{
	size_t nl = strlen(name);
	const char *p = ct ? strchr(ct, ';') : NULL;

	while (p != NULL && *p == ';') {
		p = http_ows(p + 1);
		size_t k = strcspn(p, "=;");
		bool hit = k == nl && strncasecmp(p, name, nl) == 0;
		p += k;
		if (*p != '=')
			continue; /* a bare word: skipped */
		p++;
		const char *v = p;
		size_t vn;
		if (*p == '"') {
			const char *q = strchr(p + 1, '"');
			if (q == NULL)
				return NULL; /* unterminated: no value at all */
			v = p + 1;
			vn = (size_t)(q - v);
			p = q + 1;
		} else {
			vn = strcspn(p, "; \t");
			p += vn;
		}
		if (hit)
			return arena_strndup(a, v, vn);
		p = strchr(p, ';');
	}
	return NULL;
}

http_charset *
http_charset_new(const char *label)
{
	size_t i, n = sizeof(http_charsets) / sizeof(http_charsets[0]);

	if (label == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strcasecmp(label, http_charsets[i].label) == 0)
			break;
	if (i == n)
		return NULL;
	http_charset *cs = xcalloc(1, sizeof(*cs));
	cs->name = http_charsets[i].name;
	cs->utf8 = http_charsets[i].iconv == NULL;
	if (!cs->utf8) {
		cs->cd = iconv_open("UTF-8", http_charsets[i].iconv);
		if (cs->cd == (iconv_t)-1) {
			free(cs); /* glibc without its gconv modules */
			return NULL;
		}
	}
	return cs;
}

void
http_charset_free(http_charset *cs)
{
	if (cs == NULL)
		return;
	if (!cs->utf8)
		iconv_close(cs->cd);
	free(cs);
}

const char *
http_charset_name(const http_charset *cs)
{
	return cs->name;
}

/*
 * One value, whole: the output is sized before converting, since no
 * accepted charset grows more than HTTP_CHARSET_GROWTH times (a one-byte
 * half-width katakana in Shift_JIS is three bytes of UTF-8; two-byte
 * kanji become three). A truncated multibyte character or shift sequence
 * at the end is as invalid as a wrong byte. The result is checked as
 * UTF-8 again, so nothing a converter might let through reaches a handler.
 */
enum http_form_err
http_charset_to_utf8(http_charset *cs, const char *s, size_t n, arena *a,
    char **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	if (memchr(s, '\0', n) != NULL)
		return HTTP_FORM_ENCODING;
	if (cs->utf8) {
		if (!text_utf8_valid(s, n))
			return HTTP_FORM_ENCODING;
		*out = arena_strndup(a, s, n);
		*outlen = n;
		return HTTP_FORM_OK;
	}
	if (n > (SIZE_MAX - 1) / HTTP_CHARSET_GROWTH)
		return HTTP_FORM_LARGE;
	size_t cap = n * HTTP_CHARSET_GROWTH;
	char *o = arena_alloc(a, cap + 1);
	char *ip = (char *)s, *op = o;
	size_t il = n, ol = cap;

	iconv(cs->cd, NULL, NULL, NULL, NULL); /* initial shift state */
	size_t r = iconv(cs->cd, &ip, &il, &op, &ol);
	if (r != (size_t)-1)
		r = iconv(cs->cd, NULL, NULL, &op, &ol); /* end of the value */
	if (r == (size_t)-1 || il != 0)
		return errno == E2BIG ? HTTP_FORM_LARGE : HTTP_FORM_ENCODING;
	size_t len = (size_t)(op - o);
	o[len] = '\0';
	if (memchr(o, '\0', len) != NULL || !text_utf8_valid(o, len))
		return HTTP_FORM_ENCODING;
	*out = o;
	*outlen = len;
	return HTTP_FORM_OK;
}
