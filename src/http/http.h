/*
 * http: kiji's own HTTP/1.1 server (strict framing, per-route limits,
 * streaming bodies and responses), the router, request and form parsing,
 * cookies and limits. Handlers (site/, admin/) see a parsed, bounded,
 * validated request and fill a response; they never see the wire.
 */
#ifndef KIJI_HTTP_H
#define KIJI_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../text/text.h"

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_OTHER,  /* a known method kiji does not serve: 405 */
	HTTP_METHOD__MAX
};

/* ---- routes ------------------------------------------------------------------ */

/* How a route takes a request body. */
enum http_body {
	HTTP_BODY_NONE, /* none expected: up to 8 KiB read and dropped */
	HTTP_BODY_FORM, /* urlencoded or multipart/form-data fields */
	HTTP_BODY_RAW,  /* the bytes as sent (JSON, XML), buffered */
	HTTP_BODY_FORM_CHARSET, /* urlencoded fields in the charset the
	                 * Content-Type names (TrackBack), converted to
	                 * UTF-8; a field refused is told to the handler
	                 * (http_req.form_err), which answers in its own
	                 * protocol. No multipart. */
};

/* Why a HTTP_BODY_FORM_CHARSET form was refused; the handler then sees
 * no fields at all. */
enum http_form_err {
	HTTP_FORM_OK,       /* every field passed */
	HTTP_FORM_CHARSET,  /* a charset not on kiji's list (http_req.charset
	                     * says which) */
	HTTP_FORM_ENCODING, /* bytes invalid in the declared charset, or NUL */
	HTTP_FORM_LARGE,    /* a field over its declared limit (counted in
	                     * bytes as sent, before conversion) */
	HTTP_FORM_TOO_MANY, /* more than max_fields fields */
	HTTP_FORM_BAD,      /* not urlencoded, a bad %-escape, or a value its
	                     * declaration refuses (a LINE with a newline) */
	HTTP_FORM_ERR__MAX
};

/* What a declared form field may hold; checked before the handler runs. */
enum http_field_kind {
	HTTP_FIELD_TEXT, /* UTF-8 text without NUL (other control bytes are
	                  * left to the handler, which can explain them) */
	HTTP_FIELD_LINE, /* the same on one line: no CR or LF */
	HTTP_FIELD_ID,   /* "" or a decimal of at most 18 digits */
	HTTP_FIELD_FILE, /* a multipart file part (see http_req.files) */
};

struct http_field {
	const char *name;          /* NULL ends a list */
	enum http_field_kind kind;
	size_t max;                /* bytes; 0: the route's body limit */
};

struct http_match;
/*
 * One route: what it matches and what it accepts, read by the server
 * before the body (so limits hold mid-body and 100-continue is only sent
 * when the request can succeed). fn is the application's handler, called
 * by the application's dispatch (http_handler) with its own request
 * context; the server never calls it.
 */
struct http_route {
	enum http_method method; /* HTTP_GET also matches HEAD */
	const char *pattern;
	int id;                  /* caller's route enum */
	void (*fn)(void *q, const struct http_match *m);
	enum http_body body;
	size_t body_max;         /* bytes; 0: http_config.max_body */
	const struct http_field *fields; /* declared form fields, or NULL
	                          * for any (bounded by max_fields) */
	bool cacheable;          /* the same answer for every visitor */
	bool stream;             /* may answer with http_stream_open */
	unsigned flags;          /* HTTP_RF_*: checked by the application's
	                          * dispatch before fn, never by fn itself */
};
#define HTTP_RF_LOGIN  0x01u /* a logged-in account (the editor area) */
#define HTTP_RF_CSRF   0x02u /* changes state: session-bound token and
                              * same-origin check */
#define HTTP_RF_EDITOR 0x04u /* role editor or admin */
#define HTTP_RF_ADMIN  0x08u /* role admin */
#define HTTP_RF_ORIGIN 0x10u /* public but changes state: same origin */

/* One name=value pair (query, form field, cookie). Both NUL-terminated and
 * valid UTF-8 (requests with invalid UTF-8 in these are refused with 400
 * before a handler runs; on a HTTP_BODY_FORM_CHARSET route form fields
 * are converted to UTF-8 or refused through form_err). */
struct http_kv {
	const char *name;
	const char *value;
	size_t value_len;
};

/* A multipart file part, spooled to an unlinked temporary file. */
struct http_file {
	const char *field;        /* form field name */
	const char *filename;     /* as the client sent it (UTF-8, no NUL) */
	const char *content_type; /* as declared; "" when absent */
	int fd;                   /* positioned at 0; closed by the server */
	uint64_t size;
};

#define HTTP_MAX_PARAMS 4
struct http_match {
	int id;
	int64_t num[HTTP_MAX_PARAMS];      /* {id} captures in order */
	const char *str[HTTP_MAX_PARAMS];  /* {slug} / {slugs} / {*} captures
	                                    * (arena) */
	size_t nnum, nstr;
	bool method_mismatch; /* path matched some route but not the method */
};

struct http_req {
	enum http_method method;
	const struct http_route *route; /* the matched route, or NULL */
	struct http_match match;        /* its captures (method_mismatch
	                                 * when route is NULL) */
	const char *path;     /* decoded path, valid UTF-8, no NUL, starts '/' */
	const char *query;    /* raw query string after '?', or "" */
	struct http_kv *args; /* query arguments, decoded */
	size_t nargs;
	struct http_kv *form; /* urlencoded/multipart POST fields */
	size_t nform;
	struct http_kv *cookies;
	size_t ncookies;
	struct http_file *files; /* multipart file parts */
	size_t nfiles;
	const char *body;     /* raw body (HTTP_BODY_RAW routes) */
	size_t body_len;
	const char *content_type; /* "" when absent */
	enum http_form_err form_err; /* HTTP_BODY_FORM_CHARSET routes only */
	const char *charset;  /* and the charset their form was read in:
	                       * "UTF-8", "EUC-JP", "Shift_JIS", ..., or an
	                       * unknown name as sent (clipped, printable) */
	const char *ip;       /* client address (X-Forwarded-For honoured only
	                       * from a trusted proxy) */
	const char *peer_ip;  /* the TCP peer */
	bool https;           /* reached the front end over TLS: a trusted
	                       * proxy sent one X-Forwarded-Proto: https
	                       * (cookies then get Secure) */
	int64_t now;          /* request time, epoch seconds */
	arena *a;             /* dies with the request */
	void *conn;           /* opaque, for http_req_header */
	int minor;            /* HTTP/1.<minor> */
};

/* Request header value (case-insensitive name) or NULL. */
const char *http_req_header(const struct http_req *r, const char *name);
const char *http_req_arg(const struct http_req *r, const char *name);
const char *http_req_field(const struct http_req *r, const char *name);
const char *http_req_cookie(const struct http_req *r, const char *name);
/* Whether a state-changing request comes from the site itself (Origin,
 * else Sec-Fetch-Site; allow: extra origins, space-separated). With
 * neither header, !require. The one check for every such route. */
bool http_same_origin(const struct http_req *r, const char *base_url,
    const char *allow, bool require);

/* A response the server sends once the handler returns. */
struct http_resp {
	int status;               /* 200 unless set */
	const char *content_type; /* "text/html; charset=utf-8" unless set */
	buf body;
	char **headers;           /* "Name: value" lines, arena-allocated */
	size_t nheaders;
	/* A prebuilt shared response (page cache) to send instead of body
	 * (from http_shared_new; the server takes its own reference). */
	void *shared;
	/* Called (with shared_ctx) once the shared response is queued, so
	 * its owner can drop the reference it took for this request. */
	void (*shared_done)(void *ctx);
	void *shared_ctx;
	bool ranges;              /* body may be sent in part (Range, If-Range
	                           * against the ETag header set here) */
	char cache;               /* for the access log: 'h' answered from
	                           * the page cache, 'm' rendered for it, 0
	                           * not a cacheable answer */
};

/*
 * A response built once and sent many times (the page cache). The body is
 * copied and the head serialised once; headers are "Name: value" lines.
 * Reference-counted: http_shared_free drops the creator's reference,
 * connections still sending it keep theirs. NULL on failure.
 */
void *http_shared_new(int status, const char *content_type, const void *body,
    size_t n, const char *const *headers, size_t nheaders);
void http_shared_free(void *shared); /* NULL-safe */

void http_resp_header(struct http_req *r, struct http_resp *w,
    const char *name, const char *value);
/* Set-Cookie with Path=/, HttpOnly, SameSite=Lax, Max-Age (0: session),
 * and Secure when the request came over https (r->https). */
void http_resp_cookie(struct http_req *r, struct http_resp *w,
    const char *name, const char *value, int64_t max_age);
/* The same with Secure added when secure (an https site). */
void http_resp_cookie_secure(struct http_req *r, struct http_resp *w,
    const char *name, const char *value, int64_t max_age, bool secure);
void http_resp_redirect(struct http_req *r, struct http_resp *w, int status,
    const char *location);

typedef void (*http_handler)(void *ctx, struct http_req *r, struct http_resp *w);

struct http_config {
	const char *listen;          /* "127.0.0.1:8080" or "[::1]:8080" */
	unsigned threads;            /* event-loop threads; 0 = cores */
	unsigned conn_timeout;       /* keep-alive idle and write stall, s */
	unsigned header_timeout;     /* a whole request head, s */
	unsigned body_timeout;       /* a body: this + 1 s per 64 KiB, s */
	unsigned max_conns;          /* global budget; 0 = 10000 (capped by
	                              * the open-file limit) */
	unsigned per_ip_limit;       /* connections per IP; 0 = no limit */
	unsigned max_streams;        /* open streams in all; 0 = 1000 */
	unsigned streams_per_ip;     /* open streams per IP; 0 = 8 */
	size_t max_body;             /* default route body limit → 413 */
	size_t max_fields;           /* form/query fields; more → 400 */
	size_t max_field_len;        /* one field's bytes; more → 413 */
	const char *trusted_proxies; /* space-separated IPs; "" for none */
	const char *hosts;           /* space-separated host[:port] names an
	                              * absolute-form target may carry */
	const char *csp_form_action; /* extra form-action sources, or "" */
	const char *csp_connect_src; /* extra connect-src sources, or "" */
	const char *csp_frame_src;   /* extra frame-src sources, or "" (none:
	                              * frames only from 'self', the default) */
	const char *tmp_dir;         /* upload spool directory; NULL: /tmp */
	int listen_fd;               /* a socket from http_bind, which
	                              * http_start then owns; 0: it binds
	                              * listen itself */
	const struct http_route *routes; /* matched before the body */
	size_t nroutes;
	bool unobserved;             /* no access log lines and no metrics
	                              * (the --metrics-listen listener) */
};

typedef struct http_server http_server;

/* Starts serving; the handler runs on the event-loop threads, with
 * r->route matched. NULL on failure, with a message in err. */
http_server *http_start(const struct http_config *cfg, http_handler h,
    void *ctx, buf *err);
/* Binds and listens on "host:port" or "[v6]:port"; the descriptor
 * (close-on-exec, above 2) or -1 with a message in err. For binding before
 * giving up root (kiji serve --user): pass it as http_config.listen_fd. */
int http_bind(const char *addr, buf *err);
/* Whether something accepts connections at "host:port" now (a wildcard
 * host is tried on loopback): another server, maybe a kiji that a new
 * one would share the port with (http_bind sets SO_REUSEPORT). */
bool http_listening(const char *addr);
/* "host:port" or "[v6]:port" of a listening TCP socket (one handed over
 * by systemd); false for anything else. */
bool http_listen_name(int fd, char *out, size_t n);
/* The port actually bound (useful with port 0). */
unsigned http_port(const http_server *s);
/*
 * A graceful stop, before http_stop: takes what waits on the listening
 * socket and closes it (a successor on the same port, or systemd's
 * socket, gets the new connections), lets idle keep-alive connections go,
 * ends streams (an SSE stream with a "retry:" hint) and answers requests
 * under way with Connection: close, including those deferred (the group
 * commit still runs). Waits until no connection is left; false when
 * timeout_ms passed first. NULL-safe.
 */
bool http_drain(http_server *s, unsigned timeout_ms);
/* Open connections now (drain progress, metrics). */
unsigned http_conn_count(const http_server *s);
/* Whether every event loop has turned within the last within_ms (the
 * systemd watchdog: a loop stuck in a handler stops the pings). */
bool http_alive(const http_server *s, unsigned within_ms);
void http_stop(http_server *s); /* NULL-safe */

/*
 * Deferred answers (group commit). A handler calls http_defer and returns
 * without answering; the connection is suspended (other requests keep
 * flowing). Another thread does the slow work and calls http_resume with
 * the handle; finish(ctx) then runs on the connection's own thread to fill
 * the response, which is sent. The request (its arena too) lives until
 * then. NULL when the request cannot be deferred (answer at once).
 */
void *http_defer(struct http_req *r, void (*finish)(void *ctx), void *ctx);
void http_resume(void *deferred);

/*
 * Streaming responses (server-sent events). A handler on a route marked
 * stream fills status, content type and headers in w and calls
 * http_stream_open; the head is sent and the connection held open
 * (chunked on HTTP/1.1). Any thread may then send and finally close.
 * heartbeat (e.g. ":\n\n") is sent after every heartbeat_s seconds of
 * silence. NULL when the per-IP or global stream cap is reached (answer
 * 503) or the route is not a stream route.
 */
typedef struct http_stream http_stream;
http_stream *http_stream_open(struct http_req *r, struct http_resp *w,
    const char *heartbeat, unsigned heartbeat_s);
/* Queues bytes; false once the client has gone or fell too far behind
 * (the stream is then dead: close it). Thread-safe. */
bool http_stream_send(http_stream *st, const void *p, size_t n);
/* Ends the response and drops the caller's handle. Thread-safe. */
void http_stream_close(http_stream *st);
/* Whether a send could still succeed (the client is there, the stream
 * neither dead nor closed): lets a holder of many idle streams let go of
 * the gone ones without sending. Thread-safe. */
bool http_stream_alive(http_stream *st);
/* Open streams now (for tests and metrics). */
unsigned http_stream_count(const http_server *s);

/* ---- router (router.c) ------------------------------------------------------ */

/*
 * Patterns are literal segments and typed captures: "/articles/{id}" where
 * {id} matches a positive decimal integer (no leading zeros beyond "0",
 * at most 18 digits), "{slug}" one segment of [A-Za-z0-9_-] or any
 * non-ASCII UTF-8 (1..200 bytes), "{slugs}" the rest of the path as 1..8
 * such segments ("a/b/c", last in a pattern), "{*}" the rest of the path
 * as it is. {id} may
 * also sit between literal text in one segment: "sitemap-{id}.xml".
 * Finds the first route matching method and path; NULL when none.
 */
const struct http_route *http_route(const struct http_route *routes, size_t n,
    enum http_method method, const char *path, arena *a, struct http_match *m);

/* ---- forms and encodings (form.c) ------------------------------------------------ */

/* Decodes application/x-www-form-urlencoded s into pairs (arena). Returns
 * false on malformed %-escapes, invalid UTF-8, NUL, or more than max pairs. */
bool http_parse_urlencoded(const char *s, size_t n, arena *a, size_t max,
    struct http_kv **out, size_t *nout);
/* The same without the UTF-8 check: values are bytes in whatever
 * charset the sender used (still NUL-free and NUL-terminated), for
 * http_charset_to_utf8. */
bool http_parse_urlencoded_bytes(const char *s, size_t n, arena *a,
    size_t max, struct http_kv **out, size_t *nout);
/* Parses a Cookie header. Malformed pairs are skipped. */
void http_parse_cookies(const char *s, arena *a, struct http_kv **out,
    size_t *nout);
/* A server-sent events resume point (Last-Event-ID, or a query value
 * standing for it): NULL or "" is none (*out untouched, true); else 1 to
 * 18 ASCII digits into *out; false for anything else. */
bool http_parse_event_id(const char *s, int64_t *out);
/* Percent-encodes s for a URL path segment or query value. */
void http_url_encode(buf *out, const char *s, size_t n);

/* ---- charsets (charset.c) ------------------------------------------------------ */

/* A converter from one of the charsets kiji accepts in forms to UTF-8. */
typedef struct http_charset http_charset;

/* Value of parameter name (e.g. "charset") in a Content-Type, unquoted
 * (arena), or NULL when absent. */
const char *http_ctype_param(arena *a, const char *ct, const char *name);
/* A converter for charset label (case-insensitive: utf-8, euc-jp,
 * shift_jis and its aliases, iso-2022-jp, iso-8859-1, us-ascii), or NULL
 * for any other label. Free with http_charset_free. */
http_charset *http_charset_new(const char *label);
void http_charset_free(http_charset *cs); /* NULL-safe */
/* The charset's usual name ("EUC-JP", "Shift_JIS", ...). */
const char *http_charset_name(const http_charset *cs);
/* Converts s[0..n) to NUL-terminated UTF-8 in the arena (at most
 * HTTP_CHARSET_GROWTH * n bytes). HTTP_FORM_ENCODING when s is not valid
 * in the charset or holds a NUL; *out is then NULL. */
#define HTTP_CHARSET_GROWTH 3
enum http_form_err http_charset_to_utf8(http_charset *cs, const char *s,
    size_t n, arena *a, char **out, size_t *outlen);

/* ---- addresses (addr.c) ------------------------------------------------------- */

/* Whether s is an IPv4/IPv6 address or a range "addr/bits" (CIDR, host
 * bits may be set); bans and allow lists take these. */
bool http_cidr_ok(const char *s);
/* Whether address ip lies in cidr (a range or a single address);
 * false when either does not parse. */
bool http_ip_in_cidr(const char *ip, const char *cidr);
/*
 * The rate-limit key of client address ip, the one every per-address limit
 * uses: an IPv4 address (also written IPv4-mapped, ::ffff:a.b.c.d) as
 * itself, an IPv6 address as its /64 ("2001:db8:1:2::/64"), since one
 * subscriber holds a whole /64 and may send from any address in it. Text
 * that is no address is kept as it is, cut to fit. Returns out.
 */
#define HTTP_IP_KEY_MAX 64
const char *http_ip_key(const char *ip, char out[HTTP_IP_KEY_MAX]);

#endif
