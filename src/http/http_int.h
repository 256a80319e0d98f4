/*
 * Private to src/http/: what the server's files share. addr.c (client
 * addresses, trusted proxies, per-IP counts), request.c (a request from a
 * parsed head and its body), response.c (serialising answers, shared
 * responses, ranges, refusal pages) and server.c (the event loop).
 */
#ifndef KIJI_HTTP_INT_H
#define KIJI_HTTP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "http.h"
#include "wire.h"
#include "../obs/obs.h"

#define HTTP_MAX_PROXIES 32
#define HTTP_IP_BUCKETS 1024
#define HTTP_NOBODY_MAX 8192 /* a body sent to a route that takes none */
#define HTTP_SENDFILE_MIN 32768 /* shared bodies this large use sendfile */

/* ---- addresses (addr.c) -------------------------------------------------- */

/* Addresses are compared as 16 bytes, IPv4 as v4-mapped IPv6. */
struct http_ip {
	uint8_t b[16];
};

/* Open connections and streams from one address. */
struct http_ipcount {
	struct http_ipcount *next;
	struct http_ip ip;
	unsigned n, streams;
};

struct http_addrs {
	struct http_ip proxies[HTTP_MAX_PROXIES];
	size_t nproxies;
	uint64_t seed;
	pthread_mutex_t mu;
	struct http_ipcount *tab[HTTP_IP_BUCKETS];
};

bool http_ip_from_sa(const struct sockaddr *sa, struct http_ip *ip);
bool http_ip_parse(const char *s, size_t n, struct http_ip *ip);
const char *http_ip_str(arena *a, const struct http_ip *ip);
bool http_ip_trusted(const struct http_addrs *t, const struct http_ip *ip);
bool http_addrs_init(struct http_addrs *t, const char *proxies, buf *err);
void http_addrs_free(struct http_addrs *t);
/* Takes a connection (or stream) slot for ip; false at the limit. */
bool http_ip_take(struct http_addrs *t, const struct http_ip *ip,
    unsigned limit, bool stream);
void http_ip_give(struct http_addrs *t, const struct http_ip *ip, bool stream);
/* The client address given the peer and the X-Forwarded-For values in
 * order (only believed from a trusted proxy). */
const char *http_client_ip(const struct http_addrs *t, arena *a,
    const struct http_ip *peer, const char *peer_str,
    const char *const *xff, int nxff);

/* ---- refusals (response.c) ------------------------------------------------- */

/* Why a request was refused before or instead of its handler. */
enum http_fail {
	HTTP_FAIL_NONE,
	HTTP_FAIL_BAD_REQUEST,  /* malformed head, path, query or body */
	HTTP_FAIL_ENCODING,     /* invalid UTF-8 or NUL in input */
	HTTP_FAIL_TOO_MANY,     /* more than max_fields fields */
	HTTP_FAIL_METHOD,       /* a known method we do not serve: 405 */
	HTTP_FAIL_NOT_IMPL,     /* unknown method or transfer coding: 501 */
	HTTP_FAIL_TOO_LARGE,    /* body over the route's limit */
	HTTP_FAIL_FIELD_LARGE,  /* one field over its limit */
	HTTP_FAIL_URI_LONG,     /* request line over 8 KiB */
	HTTP_FAIL_FIELDS_LARGE, /* header section too large: 431 */
	HTTP_FAIL_VERSION,      /* HTTP version not 1.0/1.1: 505 */
	HTTP_FAIL_EXPECT,       /* an Expect we cannot meet: 417 */
	HTTP_FAIL_TIMEOUT,      /* head or body too slow: 408 */
	HTTP_FAIL_UNAVAILABLE,  /* stream caps, shutting down: 503 */
	HTTP_FAIL_INTERNAL,     /* handler produced an unusable response */
	HTTP_FAIL__MAX
};

enum http_fail http_fail_of_wire(enum wire_status st);

/* ---- one request (request.c) ------------------------------------------------ */

/* A form field being received, possibly in pieces. */
struct http_rfield {
	const char *name;
	const struct http_field *spec; /* its declaration, if any */
	buf val;
	struct http_file *file;        /* a file part, spooled */
	bool misfit;                   /* a file where text was declared */
};

/* Per-request state; lives in the request's arena. */
struct http_rq {
	http_server *s;
	arena *a;
	struct http_req req;
	struct http_resp resp;
	enum http_fail fail;
	/* body */
	enum http_body body;
	size_t limit;           /* body bytes allowed */
	uint64_t total;         /* body bytes received (decoded) */
	bool multipart;
	struct wire_mp mp;
	buf raw;                /* RAW and urlencoded bodies */
	struct http_rfield *fields; /* malloc'd */
	size_t nfields, capfields;
	/* headers, NUL-terminated copies */
	struct http_kv *hdrs;
	size_t nhdrs;
	/* deferred answer */
	bool deferred;
	void (*finish)(void *ctx);
	void *finish_ctx;
	void *conn;             /* struct http_conn * */
	http_stream *stream;    /* opened by the handler */
	int64_t t0_ns;          /* monotonic, when the head was read (0:
	                         * refused before one was) */
	const char *method_str; /* the method and the target as sent, for */
	const char *target;     /* the access log (NULL: no request line) */
};

struct http_rq *http_rq_new(http_server *s, arena *a);
/* Fills the request from a parsed head; sets q->fail on refusal. */
void http_rq_begin(struct http_rq *q, const struct wire_head *h,
    const struct http_ip *peer);
/* Body bytes (decoded); sets q->fail on refusal. */
void http_rq_body(struct http_rq *q, const char *p, size_t n);
/* The body is complete: parses and checks fields. */
void http_rq_finish(struct http_rq *q);
/* Frees what the request holds outside its arena (fields, files). */
void http_rq_free(struct http_rq *q);

/* ---- the server (server.c), as request.c and response.c see it ------------ */

/* Raises the open-file limit to its hard limit and returns the number of
 * descriptors connections may use under it (listen.c). */
unsigned http_fd_budget(void);

struct http_server {
	http_handler h;
	void *ctx;
	struct http_config cfg; /* strings copied below */
	struct http_addrs addrs;
	char *hosts, *tmp_dir, *csp;
	size_t max_body, max_fields, max_field_len;
	unsigned port;
	int lfd;
	unsigned nworkers;
	struct http_worker *workers;
	atomic_uint nconns, nstreams;
	atomic_uint shed_debt;
	unsigned max_conns;
	atomic_bool stopping;
	atomic_bool draining;   /* http_drain: finishing, taking no more */
	atomic_uint drain_acks; /* loops that have begun the drain */
	struct http_obs *obs;   /* access log and metrics (observe.c); NULL
	                         * for an unobserved server */
};

/* ---- answers (response.c) ------------------------------------------------- */

/* A shared response: a serialised header block and a body. */
struct http_shared {
	atomic_uint refs;
	int status;
	char *head;      /* "Name: value\r\n" lines, Content-Length included */
	size_t head_len;
	char *body;      /* NULL when fd holds it */
	size_t len;
	int fd;          /* a memfd holding the body when it is large (sent
	                  * with sendfile, as nginx sends files), else -1 */
};

/* What a connection writes for one answer: iovecs over memory owned by
 * the request's arena, the response body or a shared response. */
struct http_out {
	struct iovec iov[4];
	int niov;
	struct http_shared *shared; /* reference held until written */
	char *body;                 /* malloc'd body, freed when written */
	int file_fd;                /* then file_len bytes of this fd from
	                             * file_off (shared->fd), or -1 */
	off_t file_off;
	size_t file_len;
	int status;                 /* the status line's code */
	uint64_t body_len;          /* body bytes (the access log's) */
};

/* Serialises q's response (or the refusal f) for the client's method and
 * version. close: send Connection: close. */
void http_out_build(struct http_rq *q, enum http_fail f, bool close,
    bool head_only, const char *date, struct http_out *o);
void http_out_free(struct http_out *o);
/* A bare refusal without a request (head unparsable, no arena yet). */
size_t http_fail_bytes(enum http_fail f, const char *date, const char *csp,
    const char **body, char *head, size_t headsz);
/* Sets the CSP of HTML answers with extra form-action / connect-src /
 * frame-src sources; false when they are not plain source expressions. */
bool http_csp_set(const char *form_action, const char *connect_src,
    const char *frame_src);
/* "Date: ..." value of now, per thread, refreshed each second. */
const char *http_date_now(void);

/* ---- observation (observe.c) ---------------------------------------------- */

/* Per-route request counts and latencies, and the server's part of
 * /metrics; nothing when cfg.unobserved. */
/* Connections loop i serves now (server.c). */
unsigned http_loop_conns(http_server *s, unsigned i);
void http_obs_start(http_server *s);
void http_obs_stop(http_server *s); /* before the server is freed */
/* An answer was queued: counts it and writes its access log line. */
void http_obs_answer(http_server *s, struct http_rq *q,
    const struct http_out *o, const struct http_ip *peer);
/* The end of a loop turn: this thread's access log lines go out. */
void http_obs_flush(void);
/* Monotonic nanoseconds (the start of a request). */
int64_t http_obs_now_ns(void);

#endif
