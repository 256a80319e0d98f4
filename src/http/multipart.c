/*
 * multipart/form-data (RFC 7578 over RFC 2046) as a stream: the body is
 * fed in pieces of any size, part data goes to a callback as it comes,
 * and only one part's header block is ever held. So a file part can be
 * written to disk as it arrives, never whole in memory.
 */
#include "wire.h"

#include <string.h>
#include <strings.h>

/* boundary := 0*69<bchars> bcharsnospace (RFC 2046 §5.1.1) */
static bool
wire_mp_bchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || strchr("'()+_,-./:=? ", c) != NULL;
}

/* Finds parameter name (case-insensitive) in a header value's ";"
 * parameters; copies its value (token or quoted string, unescaped) into
 * out. Returns 1 found, 0 absent, -1 malformed or too long. */
static int
wire_mp_param(const char *v, size_t n, const char *name, char *out,
    size_t outsz)
{
	size_t i = 0, nl = strlen(name);

	while (i < n && v[i] != ';')
		i++;
	while (i < n) {
		i++; /* ';' */
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		size_t b = i;
		while (i < n && v[i] != '=' && v[i] != ';')
			i++;
		size_t e = i;
		while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		bool match = e - b == nl && strncasecmp(v + b, name, nl) == 0;
		size_t o = 0;
		if (i < n && v[i] == '=') {
			i++;
			while (i < n && (v[i] == ' ' || v[i] == '\t'))
				i++;
			if (i < n && v[i] == '"') {
				for (i++; i < n && v[i] != '"'; i++) {
					if (v[i] == '\\' && i + 1 < n)
						i++;
					if (match && o + 1 >= outsz)
						return -1;
					if (match)
						out[o++] = v[i];
				}
				if (i >= n)
					return -1;
				i++;
			} else {
				for (; i < n && v[i] != ';' && v[i] != ' ' &&
				    v[i] != '\t'; i++) {
					if (match && o + 1 >= outsz)
						return -1;
					if (match)
						out[o++] = v[i];
				}
			}
			while (i < n && v[i] != ';')
				i++;
		}
		if (match) {
			out[o] = '\0';
			return 1;
		}
	}
	return 0;
}

bool
wire_mp_init(struct wire_mp *m, const char *ct, size_t n,
    const struct wire_mp_cb *cb)
{
	char b[WIRE_MP_MAX_BOUNDARY + 2];

	memset(m, 0, sizeof(*m));
	m->st = WIRE_MP_ERROR;
	if (n < 19 || strncasecmp(ct, "multipart/form-data", 19) != 0 ||
	    (n > 19 && ct[19] != ';' && ct[19] != ' ' && ct[19] != '\t'))
		return false;
	if (wire_mp_param(ct, n, "boundary", b, sizeof(b)) != 1)
		return false;
	size_t bl = strlen(b);
	if (bl == 0 || bl > WIRE_MP_MAX_BOUNDARY || b[bl - 1] == ' ')
		return false;
	for (size_t i = 0; i < bl; i++)
		if (!wire_mp_bchar((unsigned char)b[i]))
			return false;
	memcpy(m->delim, "\r\n--", 4);
	memcpy(m->delim + 4, b, bl);
	m->dlen = bl + 4;
	m->cb = *cb;
	m->st = WIRE_MP_PREAMBLE;
	m->match = 2; /* the first delimiter needs no CRLF before it */
	return true;
}

static bool
wire_mp_fail(struct wire_mp *m)
{
	m->st = WIRE_MP_ERROR;
	return false;
}

/* One part's header block (without the blank line) into m->part. */
static bool
wire_mp_head(struct wire_mp *m)
{
	const char *p = m->head, *end = m->head + m->hlen;
	bool disp = false;

	memset(&m->part, 0, sizeof(m->part));
	while (p < end) {
		const char *nl = memchr(p, '\r', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (nl != NULL && (nl + 1 >= end || nl[1] != '\n'))
			return false;
		const char *colon = memchr(p, ':', (size_t)(le - p));
		if (colon == NULL || colon == p)
			return false;
		size_t nn = (size_t)(colon - p);
		const char *v = colon + 1;
		while (v < le && (*v == ' ' || *v == '\t'))
			v++;
		size_t vn = (size_t)(le - v);
		for (size_t i = 0; i < vn; i++)
			if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
				return false;
		if (nn == 19 && strncasecmp(p, "Content-Disposition", 19) == 0) {
			if (disp || vn < 9 || strncasecmp(v, "form-data", 9) != 0 ||
			    (vn > 9 && v[9] != ';' && v[9] != ' '))
				return false;
			disp = true;
			if (wire_mp_param(v, vn, "name", m->part.name,
			    sizeof(m->part.name)) != 1)
				return false;
			int f = wire_mp_param(v, vn, "filename", m->part.filename,
			    sizeof(m->part.filename));
			if (f < 0)
				return false;
			m->part.is_file = f == 1;
		} else if (nn == 12 && strncasecmp(p, "Content-Type", 12) == 0) {
			if (vn >= sizeof(m->part.content_type))
				return false;
			memcpy(m->part.content_type, v, vn);
			m->part.content_type[vn] = '\0';
		}
		p = nl ? nl + 2 : end;
	}
	return disp;
}

/*
 * Looks for the delimiter in p[*i..n); bytes that turn out not to be
 * part of it go to the data callback when emit is set. true when the
 * whole delimiter has been matched (*i is just past it).
 */
static bool
wire_mp_scan(struct wire_mp *m, const char *p, size_t n, size_t *i, bool emit,
    bool *ok)
{
	*ok = true;
	while (*i < n) {
		if (m->match == 0) {
			const char *r = memchr(p + *i, '\r', n - *i);
			size_t e = r ? (size_t)(r - p) : n;
			if (emit && e > *i && !m->cb.data(m->cb.ctx, p + *i, e - *i)) {
				*ok = false;
				return false;
			}
			*i = e;
			if (e == n)
				return false;
			m->match = 1;
			(*i)++;
			continue;
		}
		if (p[*i] == m->delim[m->match]) {
			(*i)++;
			if (++m->match == m->dlen) {
				m->match = 0;
				return true;
			}
			continue;
		}
		/* Not the delimiter after all: what was held back is data
		 * (no CR can occur inside a boundary, so the only restart
		 * point is the current byte, handled by the next turn). */
		if (emit && !m->cb.data(m->cb.ctx, m->delim, m->match)) {
			*ok = false;
			return false;
		}
		m->match = 0;
	}
	return false;
}

bool
wire_mp_feed(struct wire_mp *m, const char *p, size_t n)
{
	size_t i = 0;
	bool ok;

	while (i < n) {
		switch (m->st) {
		case WIRE_MP_PREAMBLE:
			if (wire_mp_scan(m, p, n, &i, false, &ok)) {
				m->st = WIRE_MP_AFTER_DELIM;
				m->after = 0;
				m->hlen = 0;
			}
			break;
		case WIRE_MP_BODY:
			if (wire_mp_scan(m, p, n, &i, true, &ok)) {
				if (!m->cb.end(m->cb.ctx))
					return wire_mp_fail(m);
				m->st = WIRE_MP_AFTER_DELIM;
				m->after = 0;
				m->hlen = 0;
			} else if (!ok) {
				return wire_mp_fail(m);
			}
			break;
		case WIRE_MP_AFTER_DELIM:
			/* Transport padding (RFC 2046 §5.1.1) before the CRLF. */
			if (m->after == 0 && (p[i] == ' ' || p[i] == '\t')) {
				if (++m->hlen > WIRE_MP_MAX_PART_HEAD)
					return wire_mp_fail(m);
				i++;
				break;
			}
			m->after_buf[m->after++] = p[i++];
			if (m->after < 2)
				break;
			if (m->after_buf[0] == '-' && m->after_buf[1] == '-' &&
			    m->hlen == 0) {
				m->st = WIRE_MP_EPILOGUE;
			} else if (m->after_buf[0] == '\r' &&
			    m->after_buf[1] == '\n') {
				m->st = WIRE_MP_HEAD;
				m->hlen = 0;
			} else {
				return wire_mp_fail(m);
			}
			break;
		case WIRE_MP_HEAD: {
			if (m->hlen == sizeof(m->head))
				return wire_mp_fail(m);
			m->head[m->hlen++] = p[i++];
			if (m->hlen == 2 && memcmp(m->head, "\r\n", 2) == 0)
				return wire_mp_fail(m); /* no Content-Disposition */
			if (m->hlen < 4 || memcmp(m->head + m->hlen - 4,
			    "\r\n\r\n", 4) != 0)
				break;
			m->hlen -= 4;
			if (!wire_mp_head(m))
				return wire_mp_fail(m);
			m->parts++;
			if (!m->cb.begin(m->cb.ctx, &m->part))
				return wire_mp_fail(m);
			m->st = WIRE_MP_BODY;
			m->match = 0;
			break;
		}
		case WIRE_MP_EPILOGUE:
			return true;
		case WIRE_MP_ERROR:
			return false;
		}
	}
	return m->st != WIRE_MP_ERROR;
}

bool
wire_mp_finish(struct wire_mp *m)
{
	return m->st == WIRE_MP_EPILOGUE;
}
