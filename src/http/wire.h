/*
 * http wire parsers: the request head (RFC 9112 §2–§6, strictly), the
 * chunked body decoder and the multipart/form-data stream parser. Pure
 * functions over bytes, no I/O and no allocation of their own, so the
 * server and the fuzz targets drive exactly the same code. Private to
 * src/http/ (and fuzz/): handlers see only http.h.
 *
 * Hand-written because no Debian C library parses HTTP/1.1 strictly
 * enough (libmicrohttpd 0.9.75 accepts smuggling framings; picohttpparser
 * is not packaged and is lenient by design).
 */
#ifndef KIJI_HTTP_WIRE_H
#define KIJI_HTTP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

#define WIRE_MAX_LINE 8192     /* request line; longer → 414 */
#define WIRE_MAX_HEADERS 100   /* header lines; more → 431 */
#define WIRE_MAX_FIELDS 32768  /* header section bytes; more → 431 */
/* The most bytes a complete head can take (request line, its CRLF, a
 * few leading empty lines, the header section and the final CRLF). */
#define WIRE_MAX_HEAD (WIRE_MAX_LINE + WIRE_MAX_FIELDS + 64)

/* Outcome of parsing a head; every value but OK/INCOMPLETE is the status
 * the request is refused with. */
enum wire_status {
	WIRE_OK = 0,           /* a complete, valid head */
	WIRE_INCOMPLETE = 1,   /* valid so far; need more bytes */
	WIRE_BAD = 400,        /* malformed: framing, syntax, bytes */
	WIRE_EXPECT = 417,     /* an Expect other than 100-continue */
	WIRE_URI_LONG = 414,   /* request line over WIRE_MAX_LINE */
	WIRE_FIELDS_LARGE = 431, /* too many or too large header fields */
	WIRE_METHOD = 501,     /* unknown method, or transfer coding */
	WIRE_VERSION = 505,    /* HTTP/x.y other than 1.0 and 1.1 */
};

/* A span of the input. */
struct wire_str {
	const char *p;
	size_t n;
};

struct wire_header {
	struct wire_str name;  /* a token, as sent */
	struct wire_str value; /* OWS trimmed; no CR, LF, NUL or controls */
};

/* A parsed head. Spans point into the parsed bytes. */
struct wire_head {
	enum http_method method;   /* HTTP_OTHER for a known method we do
	                            * not serve (PUT, DELETE...): 405 */
	struct wire_str method_str;
	struct wire_str target;    /* origin-form, absolute-form or "*" */
	int minor;                 /* HTTP/1.<minor>: 0 or 1 */
	struct wire_header headers[WIRE_MAX_HEADERS];
	size_t nheaders;
	size_t head_len;           /* bytes the head takes, final CRLF too */
	/* Framing, decided once here (RFC 9112 §6.3). */
	bool chunked;              /* body is chunked */
	bool has_length;           /* Content-Length given */
	uint64_t length;           /* its value */
	bool keep_alive;           /* the client allows another request */
	bool expect_continue;      /* Expect: 100-continue */
	struct wire_str host;      /* the one Host value (may be empty on 1.0) */
	bool has_host;
};

/*
 * Parses the head at the start of p[0..n). WIRE_OK fills h (head_len says
 * where the body starts); WIRE_INCOMPLETE means every byte so far is
 * valid and more are needed (the limits are checked on partial input
 * too, so a caller never buffers more than WIRE_MAX_HEAD); any other
 * value is the refusal status. h may be partly filled on refusal:
 * h->minor is set once the request line is known (0 before).
 */
enum wire_status wire_head_parse(const char *p, size_t n, struct wire_head *h);

/* The first header called name (case-insensitive), or NULL. */
const struct wire_header *wire_header_find(const struct wire_head *h,
    const char *name);

/* ---- chunked transfer coding (RFC 9112 §7.1) -------------------------------- */

#define WIRE_MAX_CHUNK_EXT 1024   /* extension bytes per chunk line */
#define WIRE_MAX_TRAILER 8192     /* trailer section bytes */

enum wire_chunk_state {
	WIRE_CH_SIZE,       /* reading hex digits */
	WIRE_CH_BWS,        /* whitespace after the size: ';' must follow */
	WIRE_CH_EXT,        /* in chunk extensions, up to CR */
	WIRE_CH_SIZE_LF,    /* after the CR of a size line */
	WIRE_CH_DATA,       /* chunk data, left bytes to go */
	WIRE_CH_DATA_CR,    /* CRLF after chunk data */
	WIRE_CH_DATA_LF,
	WIRE_CH_TRAILER,    /* trailer lines, up to the empty line */
	WIRE_CH_DONE,       /* the last chunk and its trailers are read */
	WIRE_CH_ERROR,      /* malformed: the connection must close */
};

struct wire_chunked {
	enum wire_chunk_state st;
	uint64_t left;         /* data bytes left in this chunk */
	unsigned digits;       /* hex digits of this size line */
	size_t ext;            /* extension bytes of this size line */
	size_t trailer;        /* trailer bytes so far */
	size_t line;           /* bytes on the current trailer line */
	bool cr;               /* inside the trailer: a CR was just seen */
	uint64_t total;        /* decoded data bytes so far */
};

void wire_chunked_init(struct wire_chunked *c);
/*
 * Decodes in[0..n) in place: data bytes are moved to the front of in and
 * their count stored in *out_n. Returns how many input bytes were used
 * (less than n only once DONE: the rest belongs to the next request).
 * Check c->st for WIRE_CH_DONE and WIRE_CH_ERROR after each call.
 */
size_t wire_chunked_feed(struct wire_chunked *c, char *in, size_t n,
    size_t *out_n);

/* ---- multipart/form-data (RFC 7578), as a stream ---------------------------- */

#define WIRE_MP_MAX_BOUNDARY 70
#define WIRE_MP_MAX_PART_HEAD 4096 /* one part's header bytes */

struct wire_mp_part {
	char name[256];        /* form field name (unquoted; may be "") */
	char filename[256];    /* "" when not a file part */
	bool is_file;          /* a filename parameter was present */
	char content_type[128];/* "" when absent */
};

/* Callbacks; each returns false to stop (the feed returns an error). */
struct wire_mp_cb {
	bool (*begin)(void *ctx, const struct wire_mp_part *part);
	bool (*data)(void *ctx, const char *p, size_t n);
	bool (*end)(void *ctx);
	void *ctx;
};

enum wire_mp_state {
	WIRE_MP_PREAMBLE,   /* before the first delimiter */
	WIRE_MP_AFTER_DELIM,/* after "--boundary": "--" or CRLF */
	WIRE_MP_HEAD,       /* part headers */
	WIRE_MP_BODY,       /* part data */
	WIRE_MP_EPILOGUE,   /* after the close delimiter: ignored */
	WIRE_MP_ERROR,
};

struct wire_mp {
	enum wire_mp_state st;
	char delim[WIRE_MP_MAX_BOUNDARY + 4]; /* "\r\n--" boundary */
	size_t dlen;
	size_t match;          /* delimiter bytes matched across feeds */
	char head[WIRE_MP_MAX_PART_HEAD];
	size_t hlen;
	unsigned after;        /* bytes seen after the delimiter */
	char after_buf[2];
	struct wire_mp_part part;
	struct wire_mp_cb cb;
	size_t parts;
};

/*
 * Takes the boundary from a Content-Type value ("multipart/form-data;
 * boundary=..."; quoted or token, 1..70 bytes). false if there is none or
 * it is malformed.
 */
bool wire_mp_init(struct wire_mp *m, const char *content_type, size_t n,
    const struct wire_mp_cb *cb);
/* Feeds body bytes; false on malformed input or a callback's refusal
 * (m->st is then WIRE_MP_ERROR). */
bool wire_mp_feed(struct wire_mp *m, const char *p, size_t n);
/* The body has ended: true only if the close delimiter was seen. */
bool wire_mp_finish(struct wire_mp *m);

#endif
