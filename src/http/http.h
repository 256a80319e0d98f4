/*
 * http: the server wrapper over libmicrohttpd, the router, request and form
 * parsing, cookies and limits. Handlers (site/) see a parsed, bounded,
 * validated request and fill a response; they never touch MHD.
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
	HTTP_OTHER,
	HTTP_METHOD__MAX
};

/* One name=value pair (query, form field, cookie). Both NUL-terminated and
 * valid UTF-8 (requests with invalid UTF-8 in these are refused with 400
 * before a handler runs). */
struct http_kv {
	const char *name;
	const char *value;
	size_t value_len;
};

struct http_req {
	enum http_method method;
	const char *path;     /* decoded path, valid UTF-8, no NUL, starts '/' */
	const char *query;    /* raw query string after '?', or "" */
	struct http_kv *args; /* query arguments, decoded */
	size_t nargs;
	struct http_kv *form; /* urlencoded/multipart POST fields */
	size_t nform;
	struct http_kv *cookies;
	size_t ncookies;
	const char *body;     /* raw body for other content types (JSON, XML) */
	size_t body_len;
	const char *content_type; /* "" when absent */
	const char *ip;       /* client address (X-Forwarded-For honoured only
	                       * from a trusted proxy) */
	const char *peer_ip;  /* the TCP peer */
	int64_t now;          /* request time, epoch seconds */
	arena *a;             /* dies with the request */
	void *conn;           /* opaque, for http_req_header */
};

/* Request header value (case-insensitive name) or NULL. */
const char *http_req_header(const struct http_req *r, const char *name);
const char *http_req_arg(const struct http_req *r, const char *name);
const char *http_req_field(const struct http_req *r, const char *name);
const char *http_req_cookie(const struct http_req *r, const char *name);

/* A response the wrapper turns into an MHD response. */
struct http_resp {
	int status;               /* 200 unless set */
	const char *content_type; /* "text/html; charset=utf-8" unless set */
	buf body;
	char **headers;           /* "Name: value" lines, arena-allocated */
	size_t nheaders;
	/* A prebuilt shared response (page cache) to queue instead of body:
	 * opaque struct MHD_Response *, reference held by the cache. */
	void *shared;
	/* Called (with shared_ctx) once the shared response is queued, so
	 * its owner can drop the reference it took for this request. */
	void (*shared_done)(void *ctx);
	void *shared_ctx;
	const char *file_path;    /* send this file (static), fd opened by http */
};

/*
 * A response built once and queued many times (the page cache). The body
 * is copied; headers are "Name: value" lines. MHD reference-counts it:
 * http_shared_free drops the creator's reference, connections still
 * sending it keep theirs. NULL on failure.
 */
void *http_shared_new(int status, const char *content_type, const void *body,
    size_t n, const char *const *headers, size_t nheaders);
void http_shared_free(void *shared); /* NULL-safe */

void http_resp_header(struct http_req *r, struct http_resp *w,
    const char *name, const char *value);
/* Set-Cookie with Path=/, HttpOnly, SameSite=Lax, Max-Age (0: session). */
void http_resp_cookie(struct http_req *r, struct http_resp *w,
    const char *name, const char *value, int64_t max_age);
void http_resp_redirect(struct http_req *r, struct http_resp *w, int status,
    const char *location);

typedef void (*http_handler)(void *ctx, struct http_req *r, struct http_resp *w);

struct http_config {
	const char *listen;          /* "127.0.0.1:8080" or "[::1]:8080" */
	unsigned threads;            /* MHD thread pool size; 0 = cores */
	unsigned conn_timeout;       /* seconds */
	unsigned per_ip_limit;       /* connections per IP; 0 = no limit */
	size_t max_body;             /* larger bodies answered 413 */
	size_t max_fields;           /* form/query fields; more → 400 */
	size_t max_field_len;        /* one field's bytes; more → 413 */
	const char *trusted_proxies; /* space-separated IPs; "" for none */
};

typedef struct http_server http_server;

/* Starts serving; handler runs on MHD's pool threads. NULL on failure,
 * with a message in err. */
http_server *http_start(const struct http_config *cfg, http_handler h,
    void *ctx, buf *err);
/* The port actually bound (useful with port 0). */
unsigned http_port(const http_server *s);
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

/* ---- router (router.c) ------------------------------------------------------ */

/*
 * Patterns are literal segments and typed captures: "/articles/{id}" where
 * {id} matches a positive decimal integer (no leading zeros beyond "0",
 * at most 18 digits), "{slug}" one segment of [A-Za-z0-9_-] or any
 * non-ASCII UTF-8 (1..200 bytes), "{*}" the rest of the path. {id} may
 * also sit between literal text in one segment: "sitemap-{id}.xml".
 */
struct http_route {
	enum http_method method; /* HTTP_GET also matches HEAD */
	const char *pattern;
	int id;                  /* caller's route enum */
};
#define HTTP_MAX_PARAMS 4
struct http_match {
	int id;
	int64_t num[HTTP_MAX_PARAMS];      /* {id} captures in order */
	const char *str[HTTP_MAX_PARAMS];  /* {slug} / {*} captures (arena) */
	size_t nnum, nstr;
	bool method_mismatch; /* path matched some route but not the method */
};
/* Finds the first route matching method and path. false when none. */
bool http_route(const struct http_route *routes, size_t n,
    enum http_method method, const char *path, arena *a, struct http_match *m);

/* ---- forms and encodings (form.c) ------------------------------------------------ */

/* Decodes application/x-www-form-urlencoded s into pairs (arena). Returns
 * false on malformed %-escapes, invalid UTF-8, NUL, or more than max pairs. */
bool http_parse_urlencoded(const char *s, size_t n, arena *a, size_t max,
    struct http_kv **out, size_t *nout);
/* Parses a Cookie header. Malformed pairs are skipped. */
void http_parse_cookies(const char *s, arena *a, struct http_kv **out,
    size_t *nout);
/* Percent-encodes s for a URL path segment or query value. */
void http_url_encode(buf *out, const char *s, size_t n);

#endif
