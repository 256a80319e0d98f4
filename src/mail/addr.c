/*
 * The one validator of an e-mail address a reader types (mail.h). It is
 * deliberately narrower than RFC 5322: a dot-atom local part and a DNS
 * domain, ASCII only. What it passes can go into a header, an SMTP
 * command and a blind index as it is; quoted local parts, comments,
 * address literals and internationalised addresses are refused rather
 * than half-supported.
 */
#include "mail.h"

#include <string.h>

#define MAIL_LOCAL_MAX 64   /* RFC 5321 4.5.3.1.1 */
#define MAIL_LABEL_MAX 63

/* RFC 5322 atext: letters, digits and these. */
static bool
mail_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool
mail_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* A dot-atom: atoms of atext joined by single dots. */
static bool
mail_local_ok(const char *s, size_t n)
{
	if (n == 0 || n > MAIL_LOCAL_MAX || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (s[i + 1] == '.')
				return false;
		} else if (!mail_atext(c)) {
			return false;
		}
	}
	return true;
}

/* Two or more labels, no empty one, none starting or ending with '-',
 * the last not all digits (that is an address, not a name). */
static bool
mail_domain_ok(const char *s, size_t n)
{
	size_t labels = 0, start = 0;
	bool digits = true;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			if (!mail_ldh((unsigned char)s[i]))
				return false;
			digits = digits && s[i] >= '0' && s[i] <= '9';
			continue;
		}
		size_t len = i - start;
		if (len == 0 || len > MAIL_LABEL_MAX || s[start] == '-' ||
		    s[i - 1] == '-')
			return false;
		labels++;
		if (i < n)
			digits = true;
		start = i + 1;
	}
	return labels >= 2 && !digits;
}

bool
mail_addr_check(const char *s, size_t n, buf *norm)
{
	if (s == NULL || n == 0 || n > MAIL_ADDR_MAX)
		return false;
	const char *at = memchr(s, '@', n);
	if (at == NULL || memchr(at + 1, '@', n - (size_t)(at - s) - 1))
		return false;
	size_t ln = (size_t)(at - s);
	if (!mail_local_ok(s, ln) || !mail_domain_ok(at + 1, n - ln - 1))
		return false;
	if (norm != NULL) {
		for (size_t i = 0; i < n; i++) {
			char c = s[i];
			buf_putc(norm, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') :
			    c);
		}
	}
	return true;
}
