/*
 * The request head parser and chunked decoder (RFC 9112), strict: one
 * reading of where a request ends, and every ambiguous framing refused
 * rather than guessed, since a front end that guesses differently is how
 * request smuggling works. Why hand-written: see wire.h.
 */
#include "wire.h"

#include <string.h>
#include <strings.h>

/* RFC 9110 tchar. */
static const unsigned char wire_tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

static bool
wire_is_tchar(unsigned char c)
{
	return wire_tchar[c] != 0;
}

/* field-vchar / obs-text, SP and HTAB: what a header value may hold. */
static bool
wire_is_vbyte(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool
wire_eq(struct wire_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n == n && memcmp(s.p, lit, n) == 0;
}

static bool
wire_ieq(struct wire_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n == n && strncasecmp(s.p, lit, n) == 0;
}

/* Methods we serve, methods we know and refuse with 405; anything else
 * is 501. Method names are case-sensitive (RFC 9110 §9.1). */
static enum wire_status
wire_method(struct wire_str m, enum http_method *out)
{
	static const char *const known[] = { "PUT", "DELETE", "CONNECT",
		"OPTIONS", "TRACE", "PATCH" };

	if (wire_eq(m, "GET"))
		*out = HTTP_GET;
	else if (wire_eq(m, "HEAD"))
		*out = HTTP_HEAD;
	else if (wire_eq(m, "POST"))
		*out = HTTP_POST;
	else {
		*out = HTTP_OTHER;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (wire_eq(m, known[i]))
				return WIRE_OK;
		return WIRE_METHOD;
	}
	return WIRE_OK;
}

/*
 * The request line "METHOD SP target SP HTTP/d.d" (ending at p[n], the
 * CR). One space exactly between parts, a target of visible bytes.
 */
static enum wire_status
wire_request_line(const char *p, size_t n, struct wire_head *h)
{
	size_t i = 0;
	enum wire_status st;

	while (i < n && wire_is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ' ')
		return WIRE_BAD;
	h->method_str = (struct wire_str){ p, i };
	size_t t = ++i;
	while (i < n && (unsigned char)p[i] > 0x20 && p[i] != 0x7f)
		i++;
	if (i == t || i == n || p[i] != ' ')
		return WIRE_BAD;
	h->target = (struct wire_str){ p + t, i - t };
	const char *v = p + i + 1;
	size_t vn = n - i - 1;
	/* HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive. */
	if (vn != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' ||
	    v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
		return WIRE_BAD;
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return WIRE_VERSION;
	h->minor = v[7] - '0';
	if ((st = wire_method(h->method_str, &h->method)) != WIRE_OK)
		return st;
	/* origin-form, absolute-form (checked against our host later) or
	 * asterisk-form; authority-form is only for CONNECT (405 anyway). */
	if (h->target.p[0] != '/' && !wire_eq(h->target, "*") &&
	    !(h->target.n > 7 && (strncasecmp(h->target.p, "http://", 7) == 0 ||
	    strncasecmp(h->target.p, "https://", 8) == 0)))
		return WIRE_BAD;
	return WIRE_OK;
}

/* Content-Length: 1*DIGIT, or a list of identical such values. */
static enum wire_status
wire_content_length(struct wire_str v, struct wire_head *h)
{
	size_t i = 0;

	if (v.n == 0)
		return WIRE_BAD;
	while (i < v.n) {
		uint64_t x = 0;
		size_t d = 0;
		while (i < v.n && v.p[i] >= '0' && v.p[i] <= '9') {
			if (++d > 18)
				return WIRE_BAD;
			x = x * 10 + (uint64_t)(v.p[i++] - '0');
		}
		if (d == 0)
			return WIRE_BAD;
		if (h->has_length && h->length != x)
			return WIRE_BAD;
		h->has_length = true;
		h->length = x;
		while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t'))
			i++;
		if (i == v.n)
			break;
		if (v.p[i++] != ',')
			return WIRE_BAD;
		while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t'))
			i++;
		if (i == v.n)
			return WIRE_BAD;
	}
	return WIRE_OK;
}

/*
 * Transfer-Encoding: a list of codings, parameters allowed. chunked must
 * be the last and appear once; any other coding is one we do not decode
 * (501). Several headers form one list, in order.
 */
static enum wire_status
wire_transfer_encoding(struct wire_str v, struct wire_head *h, bool *unknown)
{
	size_t i = 0;

	while (i < v.n) {
		while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t'))
			i++;
		size_t b = i;
		while (i < v.n && wire_is_tchar((unsigned char)v.p[i]))
			i++;
		struct wire_str c = { v.p + b, i - b };
		if (c.n == 0)
			return WIRE_BAD;
		if (h->chunked)
			return WIRE_BAD; /* something after chunked */
		if (wire_ieq(c, "chunked"))
			h->chunked = true;
		else
			*unknown = true;
		/* Skip parameters (";name=value", quoted values included). */
		while (i < v.n && v.p[i] != ',') {
			if (v.p[i] == '"') {
				for (i++; i < v.n && v.p[i] != '"'; i++)
					if (v.p[i] == '\\')
						i++;
				if (i >= v.n)
					return WIRE_BAD;
			} else if (v.p[i] != ';' && v.p[i] != '=' &&
			    v.p[i] != ' ' && v.p[i] != '\t' &&
			    !wire_is_tchar((unsigned char)v.p[i])) {
				return WIRE_BAD;
			}
			i++;
		}
		if (i < v.n) {
			i++; /* the comma */
			if (i == v.n)
				return WIRE_BAD;
		}
	}
	return WIRE_OK;
}

/* Whether the comma-separated list v holds token tok (case-insensitive). */
static bool
wire_list_has(struct wire_str v, const char *tok)
{
	size_t i = 0, tn = strlen(tok);

	while (i < v.n) {
		while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
			i++;
		size_t b = i;
		while (i < v.n && v.p[i] != ',')
			i++;
		size_t e = i;
		while (e > b && (v.p[e - 1] == ' ' || v.p[e - 1] == '\t'))
			e--;
		if (e - b == tn && strncasecmp(v.p + b, tok, tn) == 0)
			return true;
	}
	return false;
}

/* Host = uri-host [ ":" port ]: reg-name, IPv4 or [IPv6] characters. */
static bool
wire_host_ok(struct wire_str v)
{
	if (v.n > 255)
		return false; /* empty is allowed: a target without authority */
	for (size_t i = 0; i < v.n; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~:[]%!$&'()*+,;=", c)))
			return false;
	}
	return true;
}

/* Settles framing and connection semantics once every header is in. */
static enum wire_status
wire_framing(struct wire_head *h)
{
	bool te = false, unknown = false, conn_close = false, conn_keep = false;
	enum wire_status st;

	for (size_t i = 0; i < h->nheaders; i++) {
		const struct wire_header *f = &h->headers[i];
		if (wire_ieq(f->name, "Content-Length")) {
			if ((st = wire_content_length(f->value, h)) != WIRE_OK)
				return st;
		} else if (wire_ieq(f->name, "Transfer-Encoding")) {
			te = true;
			if ((st = wire_transfer_encoding(f->value, h,
			    &unknown)) != WIRE_OK)
				return st;
		} else if (wire_ieq(f->name, "Host")) {
			if (h->has_host || !wire_host_ok(f->value))
				return WIRE_BAD;
			h->has_host = true;
			h->host = f->value;
		} else if (wire_ieq(f->name, "Connection")) {
			conn_close |= wire_list_has(f->value, "close");
			conn_keep |= wire_list_has(f->value, "keep-alive");
		} else if (wire_ieq(f->name, "Expect")) {
			if (!wire_ieq(f->value, "100-continue"))
				return WIRE_EXPECT;
			h->expect_continue = true;
		}
	}
	if (h->minor == 1 && !h->has_host)
		return WIRE_BAD;
	if (te) {
		/* Never both: a front end honouring the other one would see
		 * a different request boundary (RFC 9112 §6.1). */
		if (h->has_length || h->minor == 0)
			return WIRE_BAD;
		if (!h->chunked)
			return unknown ? WIRE_METHOD : WIRE_BAD;
		if (unknown)
			return WIRE_METHOD; /* e.g. gzip, chunked */
	}
	h->keep_alive = h->minor == 1 ? !conn_close : (conn_keep && !conn_close);
	if (h->minor == 0)
		h->expect_continue = false; /* 100 is not for HTTP/1.0 */
	return WIRE_OK;
}

enum wire_status
wire_head_parse(const char *p, size_t n, struct wire_head *h)
{
	size_t i = 0;
	enum wire_status st;

	memset(h, 0, sizeof(*h));
	/* A few empty lines before a request are tolerated (§2.2). */
	for (int k = 0; k < 4 && n - i >= 2 && p[i] == '\r' && p[i + 1] == '\n'; k++)
		i += 2;
	/* The request line. */
	const char *cr = memchr(p + i, '\r', n - i);
	size_t limit = n - i < WIRE_MAX_LINE + 1 ? n - i : WIRE_MAX_LINE + 1;
	if (cr == NULL || (size_t)(cr - (p + i)) >= limit) {
		/* Bytes seen so far must still be a possible request line. */
		for (size_t k = i; k < i + limit; k++) {
			unsigned char c = (unsigned char)p[k];
			if (c == '\n' || c == '\0' || (c < 0x20 && c != '\t') ||
			    c == 0x7f)
				return WIRE_BAD;
		}
		return n - i > WIRE_MAX_LINE ? WIRE_URI_LONG : WIRE_INCOMPLETE;
	}
	size_t ln = (size_t)(cr - (p + i));
	if (memchr(p + i, '\n', ln) != NULL)
		return WIRE_BAD;
	if (ln == 0 && (size_t)(cr - p) + 1 >= n)
		return WIRE_INCOMPLETE; /* may be a leading empty line */
	if ((st = wire_request_line(p + i, ln, h)) != WIRE_OK)
		return st;
	if ((size_t)(cr - p) + 1 >= n)
		return WIRE_INCOMPLETE;
	if (cr[1] != '\n')
		return WIRE_BAD;
	i = (size_t)(cr - p) + 2;
	size_t fields_start = i;

	/* Header fields, up to the empty line. */
	for (;;) {
		if (i - fields_start > WIRE_MAX_FIELDS)
			return WIRE_FIELDS_LARGE;
		if (i >= n)
			return WIRE_INCOMPLETE;
		if (p[i] == '\r') {
			if (i + 1 >= n)
				return WIRE_INCOMPLETE;
			if (p[i + 1] != '\n')
				return WIRE_BAD;
			h->head_len = i + 2;
			break;
		}
		if (p[i] == ' ' || p[i] == '\t')
			return WIRE_BAD; /* obs-fold, or whitespace before a name */
		if (h->nheaders == WIRE_MAX_HEADERS)
			return WIRE_FIELDS_LARGE;
		size_t b = i;
		while (i < n && wire_is_tchar((unsigned char)p[i]))
			i++;
		if (i >= n)
			return i - fields_start > WIRE_MAX_FIELDS ?
			    WIRE_FIELDS_LARGE : WIRE_INCOMPLETE;
		if (i == b || p[i] != ':')
			return WIRE_BAD; /* empty name, or a space before ':' */
		struct wire_header *f = &h->headers[h->nheaders];
		f->name = (struct wire_str){ p + b, i - b };
		i++;
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		size_t vb = i;
		while (i < n && wire_is_vbyte((unsigned char)p[i]))
			i++;
		if (i - fields_start > WIRE_MAX_FIELDS)
			return WIRE_FIELDS_LARGE;
		if (i >= n)
			return WIRE_INCOMPLETE;
		if (p[i] != '\r')
			return WIRE_BAD; /* bare LF, NUL or another control */
		if (i + 1 >= n)
			return WIRE_INCOMPLETE;
		if (p[i + 1] != '\n')
			return WIRE_BAD; /* bare CR */
		size_t ve = i;
		while (ve > vb && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
			ve--;
		f->value = (struct wire_str){ p + vb, ve - vb };
		h->nheaders++;
		i += 2;
	}
	return wire_framing(h);
}

const struct wire_header *
wire_header_find(const struct wire_head *h, const char *name)
{
	for (size_t i = 0; i < h->nheaders; i++)
		if (wire_ieq(h->headers[i].name, name))
			return &h->headers[i];
	return NULL;
}

/* ---- chunked ----------------------------------------------------------------- */

void
wire_chunked_init(struct wire_chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->st = WIRE_CH_SIZE;
}

static int
wire_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

size_t
wire_chunked_feed(struct wire_chunked *c, char *in, size_t n, size_t *out_n)
{
	size_t i = 0, out = 0;

	while (i < n && c->st != WIRE_CH_DONE && c->st != WIRE_CH_ERROR) {
		unsigned char ch = (unsigned char)in[i];
		switch (c->st) {
		case WIRE_CH_SIZE: {
			int d = wire_hex(ch);
			if (d >= 0) {
				/* 15 hex digits: far past any body limit,
				 * and no overflow. */
				if (++c->digits > 15) {
					c->st = WIRE_CH_ERROR;
					break;
				}
				c->left = c->left * 16 + (uint64_t)d;
				i++;
			} else if (c->digits > 0 && ch == ';') {
				c->st = WIRE_CH_EXT;
			} else if (c->digits > 0 && (ch == ' ' || ch == '\t')) {
				c->st = WIRE_CH_BWS; /* only before a ';' */
				i++;
			} else if (c->digits > 0 && ch == '\r') {
				c->st = WIRE_CH_SIZE_LF;
				i++;
			} else {
				c->st = WIRE_CH_ERROR;
			}
			break;
		}
		case WIRE_CH_BWS:
			if (ch == ';')
				c->st = WIRE_CH_EXT;
			else if ((ch != ' ' && ch != '\t') ||
			    ++c->ext > WIRE_MAX_CHUNK_EXT)
				c->st = WIRE_CH_ERROR;
			else
				i++;
			break;
		case WIRE_CH_EXT:
			if (ch == '\r') {
				c->st = WIRE_CH_SIZE_LF;
			} else if (ch == '\n' || ch == 0x7f ||
			    (ch < 0x20 && ch != '\t') ||
			    ++c->ext > WIRE_MAX_CHUNK_EXT) {
				c->st = WIRE_CH_ERROR;
				break;
			}
			i++;
			break;
		case WIRE_CH_SIZE_LF:
			if (ch != '\n') {
				c->st = WIRE_CH_ERROR;
				break;
			}
			i++;
			c->digits = 0;
			c->ext = 0;
			if (c->left == 0) {
				c->st = WIRE_CH_TRAILER;
				c->line = 0;
				c->cr = false;
			} else {
				c->st = WIRE_CH_DATA;
			}
			break;
		case WIRE_CH_DATA: {
			size_t k = n - i;
			if ((uint64_t)k > c->left)
				k = (size_t)c->left;
			memmove(in + out, in + i, k);
			out += k;
			i += k;
			c->left -= k;
			c->total += k;
			if (c->left == 0)
				c->st = WIRE_CH_DATA_CR;
			break;
		}
		case WIRE_CH_DATA_CR:
			c->st = ch == '\r' ? WIRE_CH_DATA_LF : WIRE_CH_ERROR;
			i += ch == '\r';
			break;
		case WIRE_CH_DATA_LF:
			c->st = ch == '\n' ? WIRE_CH_SIZE : WIRE_CH_ERROR;
			i += ch == '\n';
			break;
		case WIRE_CH_TRAILER:
			/* Trailer fields are read and dropped: none is used,
			 * and none may change framing. CRLF-terminated lines
			 * of field bytes, bounded in total. */
			i++;
			if (++c->trailer > WIRE_MAX_TRAILER) {
				c->st = WIRE_CH_ERROR;
				break;
			}
			if (c->cr) {
				if (ch != '\n') {
					c->st = WIRE_CH_ERROR;
					break;
				}
				c->cr = false;
				if (c->line == 0)
					c->st = WIRE_CH_DONE;
				c->line = 0;
			} else if (ch == '\r') {
				c->cr = true;
			} else if (ch == '\n' || (c->line == 0 && (ch == ' ' ||
			    ch == '\t')) || !wire_is_vbyte(ch)) {
				c->st = WIRE_CH_ERROR;
			} else {
				c->line++;
			}
			break;
		case WIRE_CH_DONE:
		case WIRE_CH_ERROR:
			break;
		}
	}
	*out_n = out;
	return c->st == WIRE_CH_ERROR ? n : i;
}
