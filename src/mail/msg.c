/*
 * Messages as they go over SMTP (mail.h): headers written here only, each
 * value checked for CR and LF (refused: no header injection) and for
 * valid UTF-8; non-ASCII header text as RFC 2047 encoded words; the body
 * base64 (7-bit safe, no line-length or dot-stuffing questions, and any
 * "From " or lone "." in a reader's text stays inside it).
 */
#include "mail.h"

#include <sodium.h>
#include <string.h>
#include <time.h>

#define MAIL_WORD_MAX 75     /* bytes of one encoded word (RFC 2047 2) */
#define MAIL_B64_LINE 76     /* base64 characters a body line */
#define MAIL_ID_MAX 128      /* bytes of a Message-ID's left part */

/* True when s has no byte a one-line header value must not hold. */
static bool
mail_one_line(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

/* Whether s is all printable ASCII (and spaces): written as it is. */
static bool
mail_plain(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	return true;
}

/* Bytes of the UTF-8 sequence starting with lead byte c (1 for a stray
 * continuation byte: never cut in the middle of nothing). */
static size_t
mail_utf8_len(unsigned char c)
{
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	if (c >= 0xc0)
		return 2;
	return 1;
}

void
mail_header_text(buf *out, const char *s)
{
	if (mail_plain(s)) {
		buf_puts(out, s);
		return;
	}
	/* "=?UTF-8?B?" + base64 + "?=": 12 bytes of frame; 39 bytes of text
	 * make 52 of base64, a 64-byte word, so "Subject: " and a word stay
	 * within 78 bytes a line (RFC 5322 2.1.1), and far within 75 a word */
	const size_t chunk = 39;
	size_t n = strlen(s), i = 0;
	bool first = true;
	while (i < n) {
		size_t take = 0;
		while (i + take < n) {
			size_t l = mail_utf8_len((unsigned char)s[i + take]);
			if (take + l > chunk)
				break;
			take += l;
		}
		if (take == 0) /* a sequence longer than a chunk: cannot be */
			take = n - i < chunk ? n - i : chunk;
		char b64[sodium_base64_ENCODED_LEN(39,
		    sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)s + i,
		    take, sodium_base64_VARIANT_ORIGINAL);
		if (!first)
			buf_puts(out, "\r\n "); /* folding white space */
		buf_printf(out, "=?UTF-8?B?%s?=", b64);
		first = false;
		i += take;
	}
}

void
mail_date(buf *out, int64_t t)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	buf_printf(out, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* A Message-ID left part: letters, digits, '.' and '-', not empty. */
static bool
mail_id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > MAIL_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* A URL for List-Unsubscribe: printable ASCII without '<', '>' and
 * spaces (it is written between angle brackets). */
static bool
mail_url_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 2000 || (strncmp(s, "https://", 8) != 0 &&
	    strncmp(s, "http://", 7) != 0))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] > 0x7e || s[i] == '<' || s[i] == '>')
			return false;
	return true;
}

/* The body as base64 lines of MAIL_B64_LINE characters, LF made CRLF
 * first (the canonical form of text/plain). */
static void
mail_body(buf *out, const char *body)
{
	buf canon;
	buf_init(&canon, 0);
	for (const char *p = body; *p; p++) {
		if (*p == '\n' && (p == body || p[-1] != '\r'))
			buf_putc(&canon, '\r');
		buf_putc(&canon, *p);
	}
	const unsigned char *b = (const unsigned char *)canon.ptr;
	size_t n = canon.len;
	/* 57 bytes make 76 base64 characters */
	for (size_t i = 0; i < n; i += 57) {
		size_t take = n - i < 57 ? n - i : 57;
		char line[MAIL_B64_LINE + 1];
		sodium_bin2base64(line, sizeof(line), b + i, take,
		    sodium_base64_VARIANT_ORIGINAL);
		buf_puts(out, line);
		buf_puts(out, "\r\n");
	}
	buf_free(&canon);
}

bool
mail_build(const struct mail_msg *m, buf *out, buf *err)
{
	const char *name = m->from_name ? m->from_name : "";
	const char *fields[] = {name, m->subject, m->from, m->to, m->id_left};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (fields[i] == NULL || !mail_one_line(fields[i]) ||
		    !text_utf8_valid(fields[i], strlen(fields[i]))) {
			buf_puts(err, "a header field holds a line break or "
			    "invalid UTF-8");
			return false;
		}
	}
	if (m->body == NULL || !text_utf8_valid(m->body, strlen(m->body))) {
		buf_puts(err, "the body is not valid UTF-8");
		return false;
	}
	if (!mail_addr_check(m->from, strlen(m->from), NULL) ||
	    !mail_addr_check(m->to, strlen(m->to), NULL)) {
		buf_puts(err, "not a valid address (From or To)");
		return false;
	}
	if (!mail_id_ok(m->id_left)) {
		buf_puts(err, "bad Message-ID");
		return false;
	}
	if (m->unsubscribe != NULL && !mail_url_ok(m->unsubscribe)) {
		buf_puts(err, "bad List-Unsubscribe URL");
		return false;
	}
	buf_puts(out, "From: ");
	if (*name) {
		/* a plain name goes in quotes, with \ and " escaped */
		if (mail_plain(name)) {
			buf_putc(out, '"');
			for (const char *p = name; *p; p++) {
				if (*p == '"' || *p == '\\')
					buf_putc(out, '\\');
				buf_putc(out, *p);
			}
			buf_putc(out, '"');
			buf_putc(out, ' ');
		} else {
			/* the address on a line of its own: within 78 */
			mail_header_text(out, name);
			buf_puts(out, "\r\n ");
		}
	}
	buf_printf(out, "<%s>\r\nTo: <%s>\r\nSubject: ", m->from, m->to);
	mail_header_text(out, m->subject);
	buf_puts(out, "\r\nDate: ");
	mail_date(out, m->date);
	buf_printf(out, "\r\nMessage-ID: <%s@%s>\r\n", m->id_left,
	    strchr(m->from, '@') + 1);
	buf_puts(out, "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Auto-Submitted: auto-generated\r\n");
	if (m->unsubscribe != NULL)
		buf_printf(out, "List-Unsubscribe: <%s>\r\n"
		    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
		    m->unsubscribe);
	buf_puts(out, "\r\n");
	mail_body(out, m->body);
	if (out->err) {
		buf_puts(err, "the message is too long");
		return false;
	}
	return true;
}
