/*
 * The HTTP server's insides shared by its event loops (server.c) and its
 * streaming responses (stream.c): connections, streams, workers. Private
 * to src/http.
 */
#ifndef KIJI_SERVER_INT_H
#define KIJI_SERVER_INT_H

#include "http_int.h"

#include <pthread.h>
#include <stdatomic.h>

#define HTTP_STREAM_BACKLOG ((size_t)1 << 20)
#define HTTP_SPARE_ARENAS 32
#define HTTP_RETRY_MIN_MS 1000     /* the SSE retry hint at a drain, spread
                                    * over this much more so readers do not
                                    * all come back at once */
#define HTTP_RETRY_SPREAD_MS 2000

enum conn_state {
	CS_IDLE,   /* between requests, nothing buffered: may be shed */
	CS_HEAD,   /* reading a request head */
	CS_BODY,   /* reading its body */
	CS_DEFER,  /* handler deferred the answer (http_defer) */
	CS_WRITE,  /* sending an answer */
	CS_STREAM, /* a streaming response is open */
	CS_LINGER, /* answered with close: draining, then closing */
};

struct http_worker;

/* One TCP connection, owned by its worker thread. */
struct http_conn {
	int fd;
	struct http_worker *w;
	enum conn_state st;
	struct http_ip ip;
	bool counted;           /* holds a per-IP slot */
	char *in;               /* unparsed bytes are in[off, len) */
	size_t off, len, cap;
	struct http_rq *q;      /* the request under way */
	bool keep_alive, head_only, close_after;
	bool head_pending;      /* buffered bytes not yet parsed as a head */
	bool drained;           /* the last read emptied the socket */
	bool wait_event;        /* idle after an answer with the socket
	                         * drained: the next bytes bring an event,
	                         * so no read is tried before it */
	bool chunked;
	struct wire_chunked ch;
	uint64_t body_left;     /* Content-Length bytes still to come */
	uint64_t body_raw;      /* body bytes read off the wire */
	int64_t body_start;
	struct http_out out;
	int64_t deadline;       /* ms, monotonic; 0: none */
	size_t lingered;
	http_stream *stream;
	buf sout;               /* stream bytes being written */
	struct http_conn *prev, *next;   /* every connection of the worker */
	struct http_conn *iprev, *inext; /* idle, oldest first */
	bool idle_listed;
	struct http_conn *rnext;         /* resume queue */
	bool dead;                       /* closed; freed after this turn */
	bool reused;                     /* an answer was sent on it: a
	                                  * client may send the next request
	                                  * at any time, and retries it if
	                                  * the connection closes first */
};

struct http_stream {
	atomic_uint refs;       /* the connection's, the caller's, queued */
	pthread_mutex_t mu;
	buf pending;            /* framed bytes not yet taken by the loop */
	bool dead;              /* client gone, overflow or stopping */
	bool closing;           /* the caller closed it */
	bool queued;            /* on the worker's dirty list */
	bool chunked;
	struct http_stream *next;
	struct http_conn *c;    /* NULL once the connection is gone */
	struct http_worker *w;
	char *heartbeat;
	int64_t hb_ms, last_ms;
	struct http_ip ip;
	bool ip_counted;
	char farewell[32];      /* sent before the end at a drain (an SSE
	                         * retry hint), or "" */
};

struct http_worker {
	http_server *s;
	pthread_t th;
	int ep, evfd;
	struct http_conn *all;
	struct http_conn *idle_head, *idle_tail;
	struct http_conn *graveyard;    /* closed this turn (events in the
	                                 * same batch may still name them) */
	pthread_mutex_t mu;     /* guards resumed, dirty and handed */
	struct http_conn *resumed;
	struct http_stream *dirty;
	struct http_handoff *handed; /* accepted by another loop for this one */
	atomic_uint nconn;      /* connections this loop owns or is handed */
	arena *spare[HTTP_SPARE_ARENAS];
	int nspare;
	struct wire_head head;  /* the head being parsed */
	char scratch[65536];
	int spare_fd;           /* closed to accept-and-close at EMFILE */
	int64_t now;            /* ms, monotonic, per loop turn */
	atomic_int_least64_t beat; /* now, for http_alive (other threads) */
	bool drained;           /* this loop has begun the drain */
};

/* A connection accepted by one loop for another, which has fewer. */
struct http_handoff {
	struct http_handoff *next;
	int fd;
	struct http_ip ip;
	bool counted;
};

/* server.c */
void http_wake(struct http_worker *w);
void conn_close(struct http_conn *c);
void conn_run(struct http_conn *c);

/* stream.c */
void stream_unref(http_stream *st);
/* Appends one piece in the stream's framing (st->mu held); false when
 * the reader fell too far behind (the stream is then dead). */
bool stream_frame(http_stream *st, const void *p, size_t n);
/* The connection's stream is over: its slots given back. */
void conn_stream_end(struct http_conn *c);
/* Sends what the stream has pending; closes the connection at its end. */
void stream_flush(struct http_conn *c);

#endif
