/*
 * kiji's HTTP/1.1 server: one epoll event loop per core, all sharing one
 * listening socket (EPOLLEXCLUSIVE), connections owned by the thread that
 * accepted them. Heads are parsed strictly (wire.c), bodies read under the
 * matched route's limit and refused mid-body, refusals answered with a
 * status line and a lingering close, idle connections shed oldest-first
 * when the global budget is reached, and slow clients timed out.
 *
 * Why our own and not libmicrohttpd 0.9.75: its parser accepts smuggling
 * framings (CL+TE, duplicate Content-Length, "Transfer-Encoding :") and it
 * cannot answer while a body is being read; Debian 12's h2o (2.2.5) is old
 * and its framing was not ours to fix. The loop is small enough to hold
 * in one's head and measured level with nginx (bench/RESULTS.md).
 */
#include "server_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HTTP_DEF_TIMEOUT 30
#define HTTP_DEF_HEADER_TIMEOUT 10
#define HTTP_DEF_BODY_TIMEOUT 30
#define HTTP_DEF_MAX_CONNS 10000
#define HTTP_DEF_MAX_STREAMS 1000
#define HTTP_DEF_STREAMS_PER_IP 8
#define HTTP_DEF_MAX_BODY ((size_t)1 << 20)
#define HTTP_DEF_MAX_FIELDS 256
#define HTTP_DEF_MAX_FIELD_LEN ((size_t)64 << 10)
#define HTTP_CONN_SLACK 64         /* accepted past the budget while
                                    * other threads shed */
#define HTTP_IN_INIT 4096
#define HTTP_IN_BODY 16384         /* read size while taking a body */
#define HTTP_IN_MAX (WIRE_MAX_HEAD + HTTP_IN_BODY)
#define HTTP_LINGER_MS 2000
#define HTTP_LINGER_BYTES ((size_t)128 << 20)
#define HTTP_ARENA_CHUNK 16384
#define HTTP_SWEEP_MS 250
#define HTTP_EVENTS 256
#define HTTP_DRAIN_LINGER_MS 500   /* an idle keep-alive connection told
                                    * to go at a drain */
#define HTTP_DRAIN_FRESH_MS 1000   /* a connection accepted but silent when
                                    * a drain starts: its request is due */


/* Markers in epoll data for the two non-connection descriptors. */
static char http_tag_listen, http_tag_event;

static int64_t
http_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
http_wake(struct http_worker *w)
{
	uint64_t one = 1;
	ssize_t r = write(w->evfd, &one, sizeof(one));
	(void)r; /* a full counter still wakes the loop */
}

/* ---- idle list and connection life ------------------------------------------ */

static void
conn_idle_del(struct http_conn *c)
{
	struct http_worker *w = c->w;
	if (!c->idle_listed)
		return;
	if (c->iprev)
		c->iprev->inext = c->inext;
	else
		w->idle_head = c->inext;
	if (c->inext)
		c->inext->iprev = c->iprev;
	else
		w->idle_tail = c->iprev;
	c->iprev = c->inext = NULL;
	c->idle_listed = false;
}

static void
conn_idle_add(struct http_conn *c)
{
	struct http_worker *w = c->w;
	if (c->idle_listed)
		return;
	c->iprev = w->idle_tail;
	c->inext = NULL;
	if (w->idle_tail)
		w->idle_tail->inext = c;
	else
		w->idle_head = c;
	w->idle_tail = c;
	c->idle_listed = true;
}

static arena *
worker_arena(struct http_worker *w)
{
	if (w->nspare > 0)
		return w->spare[--w->nspare];
	return arena_new(HTTP_ARENA_CHUNK);
}

/* Ends the request under way: its files, buffers and arena. */
static void
conn_end_request(struct http_conn *c)
{
	struct http_worker *w = c->w;
	struct http_rq *q = c->q;

	http_out_free(&c->out);
	if (q == NULL)
		return;
	if (q->resp.shared && q->resp.shared_done)
		q->resp.shared_done(q->resp.shared_ctx);
	q->resp.shared = NULL;
	http_rq_free(q);
	arena *a = q->a;
	c->q = NULL;
	if (w->nspare < HTTP_SPARE_ARENAS) {
		arena_reset(a);
		w->spare[w->nspare++] = a;
	} else {
		arena_free(a);
	}
}


void
conn_close(struct http_conn *c)
{
	struct http_worker *w = c->w;
	http_server *s = w->s;

	conn_idle_del(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->all = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->stream != NULL) {
		http_stream *st = c->stream;
		pthread_mutex_lock(&st->mu);
		st->dead = true;
		st->c = NULL;
		st->w = NULL; /* the loop may be stopping: never queue again */
		pthread_mutex_unlock(&st->mu);
		if (st->ip_counted)
			http_ip_give(&s->addrs, &st->ip, true);
		atomic_fetch_sub(&s->nstreams, 1);
		c->stream = NULL;
		stream_unref(st);
	}
	buf_free(&c->sout);
	conn_end_request(c);
	close(c->fd);
	if (c->counted)
		http_ip_give(&s->addrs, &c->ip, false);
	atomic_fetch_sub(&s->nconns, 1);
	atomic_fetch_sub(&w->nconn, 1);
	free(c->in);
	c->in = NULL;
	c->dead = true;
	c->next = w->graveyard;
	w->graveyard = c;
}

/* Closes the oldest idle connection of this worker; false if none. */
static bool
worker_shed_one(struct http_worker *w)
{
	struct http_conn *c = w->idle_head;
	if (c == NULL)
		return false;
	conn_close(c);
	return true;
}

/* ---- input ------------------------------------------------------------------------ */

/* Room for at least want more bytes; false past HTTP_IN_MAX. */
static bool
conn_in_room(struct http_conn *c, size_t want)
{
	if (c->off > 0 && c->off == c->len)
		c->off = c->len = 0;
	if (c->cap - c->len >= want)
		return true;
	if (c->off > 0) {
		memmove(c->in, c->in + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
		if (c->cap - c->len >= want)
			return true;
	}
	size_t cap = c->cap ? c->cap : HTTP_IN_INIT;
	while (cap - c->len < want)
		cap *= 2;
	if (cap > HTTP_IN_MAX)
		cap = HTTP_IN_MAX;
	if (cap - c->len == 0)
		return false;
	c->in = xrealloc(c->in, cap);
	c->cap = cap;
	return true;
}

/* Reads what the socket has. >0 bytes, 0 EOF, -1 would block, -2 error. */
static ssize_t
conn_read(struct http_conn *c, size_t want)
{
	if (c->in == NULL) {
		/* An idle connection owns no buffer until bytes arrive: read
		 * into the loop's scratch first, so waking to nothing (or a
		 * new connection that has sent nothing yet) costs no memory. */
		ssize_t n;
		do
			n = read(c->fd, c->w->scratch, want);
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			c->drained = n < 0;
			return n == 0 ? 0 : errno == EAGAIN ||
			    errno == EWOULDBLOCK ? -1 : -2;
		}
		c->drained = (size_t)n < want;
		if (!conn_in_room(c, (size_t)n))
			return -2;
		memcpy(c->in, c->w->scratch, (size_t)n);
		c->len = (size_t)n;
		return n;
	}
	if (!conn_in_room(c, want))
		return -2;
	for (;;) {
		size_t room = c->cap - c->len;
		ssize_t n = read(c->fd, c->in + c->len, room);
		if (n > 0) {
			c->len += (size_t)n;
			c->drained = (size_t)n < room;
			return n;
		}
		c->drained = n < 0;
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
	}
}

/* ---- output ------------------------------------------------------------------------ */

/* Writes what is queued in c->out. 1 all sent, 0 would block, -1 error. */
static int
conn_flush(struct http_conn *c)
{
	struct http_out *o = &c->out;
	int first = 0;

	while (first < o->niov) {
		struct msghdr mh = { .msg_iov = o->iov + first,
			.msg_iovlen = (size_t)(o->niov - first) };
		/* MSG_MORE: the head waits for the file's first pages rather
		 * than leaving in a segment of its own. */
		ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL |
		    (o->file_len > 0 ? MSG_MORE : 0));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				/* keep the unsent iovecs at the front */
				memmove(o->iov, o->iov + first,
				    (size_t)(o->niov - first) * sizeof(o->iov[0]));
				o->niov -= first;
				return 0;
			}
			return -1;
		}
		size_t k = (size_t)n;
		while (first < o->niov && k >= o->iov[first].iov_len)
			k -= o->iov[first++].iov_len;
		if (k > 0) {
			o->iov[first].iov_base = (char *)o->iov[first].iov_base + k;
			o->iov[first].iov_len -= k;
		}
		c->deadline = c->w->now + (int64_t)c->w->s->cfg.conn_timeout * 1000;
	}
	o->niov = 0;
	while (o->file_len > 0) {
		ssize_t n = sendfile(c->fd, o->file_fd, &o->file_off, o->file_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		o->file_len -= (size_t)n;
		c->deadline = c->w->now + (int64_t)c->w->s->cfg.conn_timeout * 1000;
	}
	return 1;
}

/* Queues the answer to the request under way (or the refusal f). */
static void
conn_respond(struct http_conn *c, enum http_fail f)
{
	http_server *s = c->w->s;
	bool stop = atomic_load(&s->stopping) || atomic_load(&s->draining);

	if (f != HTTP_FAIL_NONE || !c->keep_alive || stop)
		c->close_after = true;
	if (c->q == NULL)
		c->q = http_rq_new(s, worker_arena(c->w));
	http_out_free(&c->out);
	http_out_build(c->q, f, c->close_after, c->head_only, http_date_now(),
	    &c->out);
	http_obs_answer(s, c->q, &c->out, &c->ip);
	/* The shared response is referenced by c->out now: its cache
	 * entry can be released at once. */
	struct http_resp *w = &c->q->resp;
	if (w->shared && w->shared_done)
		w->shared_done(w->shared_ctx);
	w->shared = NULL;
	w->shared_done = NULL;
	conn_idle_del(c);
	c->st = CS_WRITE;
	c->deadline = c->w->now + (int64_t)s->cfg.conn_timeout * 1000;
}

/* ---- requests --------------------------------------------------------------------- */

/* Runs the handler on a complete request, then queues its answer unless
 * it deferred or opened a stream. */
static void
conn_dispatch(struct http_conn *c)
{
	http_server *s = c->w->s;
	struct http_rq *q = c->q;

	http_rq_finish(q);
	if (q->fail != HTTP_FAIL_NONE) {
		conn_respond(c, q->fail);
		return;
	}
	q->req.now = text_now(); /* the clock the job runner uses too */
	s->h(s->ctx, &q->req, &q->resp);
	if (q->deferred) {
		c->st = CS_DEFER;
		c->deadline = 0;
		return;
	}
	if (q->stream != NULL) {
		c->st = CS_STREAM;
		c->deadline = 0;
		/* A stream is the connection's last answer: its request (the
		 * arena) and read buffer go now, so that thousands of held
		 * streams cost their structs and what they have to send. */
		conn_end_request(c);
		free(c->in);
		c->in = NULL;
		c->off = c->len = c->cap = 0;
		/* Opened while draining: the head, the retry hint, the end
		 * (a 503 would make an EventSource give up for good). */
		if (atomic_load(&s->draining))
			conn_stream_end(c);
		return;
	}
	if (q->resp.status < 0 || q->resp.status > 599 ||
	    (q->resp.status != 0 && q->resp.status < 200) || q->resp.body.err) {
		conn_respond(c, HTTP_FAIL_INTERNAL);
		return;
	}
	conn_respond(c, HTTP_FAIL_NONE);
}

/* A complete head at c->in + c->off: starts the request. */
static void
conn_start(struct http_conn *c, const struct wire_head *h)
{
	http_server *s = c->w->s;
	struct http_rq *q = http_rq_new(s, worker_arena(c->w));

	q->t0_ns = http_obs_now_ns();
	c->q = q;
	q->conn = c;
	http_rq_begin(q, h, &c->ip);
	c->off += h->head_len;
	c->keep_alive = h->keep_alive;
	c->head_only = h->method == HTTP_HEAD;
	c->close_after = false;
	c->chunked = h->chunked;
	c->body_left = h->has_length ? h->length : 0;
	c->body_raw = 0;
	if (q->fail != HTTP_FAIL_NONE) {
		conn_respond(c, q->fail);
		return;
	}
	if (!c->chunked && c->body_left == 0) {
		conn_dispatch(c);
		return;
	}
	if (c->chunked)
		wire_chunked_init(&c->ch);
	if (h->expect_continue && c->off == c->len) {
		/* Only now that route and size are known to be acceptable;
		 * best effort (a client that hears nothing sends anyway). */
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		ssize_t n = send(c->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL);
		(void)n;
	}
	c->st = CS_BODY;
	c->body_start = c->w->now;
	c->deadline = c->w->now + (int64_t)s->cfg.body_timeout * 1000;
}

/* Takes body bytes from the input buffer. true when the body is
 * complete or the request has been refused (state moved on). */
static bool
conn_body(struct http_conn *c)
{
	struct http_rq *q = c->q;

	while (c->off < c->len) {
		char *p = c->in + c->off;
		size_t avail = c->len - c->off;
		if (c->chunked) {
			size_t out;
			size_t used = wire_chunked_feed(&c->ch, p, avail, &out);
			c->off += used;
			if (c->ch.st == WIRE_CH_ERROR) {
				conn_respond(c, HTTP_FAIL_BAD_REQUEST);
				return true;
			}
			http_rq_body(q, p, out);
		} else {
			size_t k = avail < c->body_left ? avail :
			    (size_t)c->body_left;
			http_rq_body(q, p, k);
			c->off += k;
			c->body_left -= k;
		}
		if (q->fail != HTTP_FAIL_NONE) {
			/* Mid-body: answered now, the rest never read. */
			conn_respond(c, q->fail);
			return true;
		}
		if (c->chunked ? c->ch.st == WIRE_CH_DONE : c->body_left == 0) {
			conn_dispatch(c);
			return true;
		}
	}
	return false;
}

/* Whether the bytes just read could decide the head: the first read, a
 * line end, a byte no head may hold (so garbage is refused at once), or
 * the head limit. Parsing only then keeps a head trickling in a byte at a
 * time linear, not quadratic, in its size. */
static bool
conn_head_ready(const struct http_conn *c, size_t fresh)
{
	const unsigned char *p = (const unsigned char *)c->in + c->len - fresh;

	if (c->len - c->off == fresh || c->len - c->off >= WIRE_MAX_HEAD)
		return true;
	for (size_t i = 0; i < fresh; i++)
		if ((p[i] < 0x20 && p[i] != '\r' && p[i] != '\t') || p[i] == 0x7f)
			return true; /* LF included */
	return false;
}

/* Parses the head at c->off. true when it moved the state on. */
static bool
conn_try_head(struct http_conn *c)
{
	struct wire_head *h = &c->w->head;
	enum wire_status st = wire_head_parse(c->in + c->off, c->len - c->off, h);

	if (st == WIRE_INCOMPLETE)
		return false;
	if (st != WIRE_OK) {
		c->keep_alive = false;
		c->head_only = false;
		conn_respond(c, http_fail_of_wire(st));
		return true;
	}
	conn_start(c, h);
	return true;
}

/* ---- the state machine ---------------------------------------------------------- */


/* After an answer is sent: the next request, a lingering close, or idle. */
static void
conn_next(struct http_conn *c)
{
	http_server *s = c->w->s;

	conn_end_request(c);
	c->reused = true;
	if (c->close_after) {
		shutdown(c->fd, SHUT_WR);
		c->st = CS_LINGER;
		c->lingered = 0;
		c->deadline = c->w->now + HTTP_LINGER_MS;
		return;
	}
	if (c->off < c->len) {
		c->st = CS_HEAD;
		c->head_pending = true;
		c->deadline = c->w->now + (int64_t)s->cfg.header_timeout * 1000;
		return;
	}
	/* Idle connections hold no buffer: ten thousand of them cost only
	 * their struct and the kernel's socket. */
	free(c->in);
	c->in = NULL;
	c->off = c->len = c->cap = 0;
	c->st = CS_IDLE;
	c->deadline = c->w->now + (int64_t)s->cfg.conn_timeout * 1000;
	c->wait_event = c->drained;
	conn_idle_add(c);
}

/* Runs the connection until it must wait for the socket or another
 * thread. May free c. */
void
conn_run(struct http_conn *c)
{
	http_server *s = c->w->s;
	ssize_t n;

	if (c->dead)
		return;
	for (;;) {
		switch (c->st) {
		case CS_IDLE:
		case CS_HEAD:
			if (c->wait_event) {
				/* edge-triggered: bytes arriving since the read
				 * that drained the socket queue an event */
				c->wait_event = false;
				return;
			}
			if (c->head_pending) {
				/* pipelined bytes left by the last request */
				c->head_pending = false;
				if (conn_try_head(c))
					continue;
			}
			n = conn_read(c, 2048);
			if (n == -1)
				return;
			if (n == 0 || n == -2) {
				conn_close(c);
				return;
			}
			if (c->st == CS_IDLE) {
				conn_idle_del(c);
				c->st = CS_HEAD;
				c->deadline = c->w->now +
				    (int64_t)s->cfg.header_timeout * 1000;
			}
			if (conn_head_ready(c, (size_t)n) && conn_try_head(c))
				continue;
			break;
		case CS_BODY:
			if (conn_body(c))
				continue;
			n = conn_read(c, HTTP_IN_BODY);
			if (n == -1)
				return;
			if (n == 0 || n == -2) {
				conn_close(c);
				return;
			}
			c->body_raw += (uint64_t)n;
			c->deadline = c->body_start + ((int64_t)s->cfg.body_timeout +
			    (int64_t)(c->body_raw >> 16)) * 1000;
			break;
		case CS_WRITE: {
			int r = conn_flush(c);
			if (r == 0)
				return;
			if (r < 0) {
				conn_close(c);
				return;
			}
			conn_next(c);
			break;
		}
		case CS_LINGER:
			for (;;) {
				ssize_t k = read(c->fd, c->w->scratch,
				    sizeof(c->w->scratch));
				if (k > 0) {
					c->lingered += (size_t)k;
					if (c->lingered > HTTP_LINGER_BYTES)
						break;
					continue;
				}
				if (k < 0 && errno == EINTR)
					continue;
				if (k < 0 && (errno == EAGAIN ||
				    errno == EWOULDBLOCK))
					return;
				break;
			}
			conn_close(c);
			return;
		case CS_STREAM:
			stream_flush(c);
			return;
		case CS_DEFER:
			return;
		}
	}
}

/* ---- deferred answers ---------------------------------------------------------- */

void *
http_defer(struct http_req *r, void (*finish)(void *ctx), void *ctx)
{
	struct http_rq *q = r->conn;
	if (q == NULL || q->conn == NULL)
		return NULL;
	q->deferred = true;
	q->finish = finish;
	q->finish_ctx = ctx;
	return q;
}

void
http_resume(void *deferred)
{
	struct http_rq *q = deferred;
	struct http_conn *c = q->conn;
	struct http_worker *w = c->w;

	pthread_mutex_lock(&w->mu);
	c->rnext = w->resumed;
	w->resumed = c;
	pthread_mutex_unlock(&w->mu);
	http_wake(w);
}

/* ---- the loop ---------------------------------------------------------------------- */

/* Makes fd, accepted (and counted in s->nconns and w->nconn), a
 * connection of loop w, and serves what it has sent. */
static void
conn_adopt(struct http_worker *w, int fd, const struct http_ip *ip,
    bool counted)
{
	http_server *s = w->s;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct http_conn *c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->w = w;
	c->ip = *ip;
	c->counted = counted;
	c->st = CS_IDLE;
	c->deadline = w->now + (int64_t)s->cfg.header_timeout * 1000;
	buf_init(&c->sout, HTTP_STREAM_BACKLOG * 2);
	c->next = w->all;
	if (w->all)
		w->all->prev = c;
	w->all = c;
	conn_idle_add(c);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT |
		EPOLLRDHUP | EPOLLET, .data.ptr = c };
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		conn_close(c);
		return;
	}
	conn_run(c);
}

/*
 * The loop a connection accepted by w goes to: w, unless another has
 * fewer by two or more. EPOLLEXCLUSIVE wakes one loop for a burst of
 * connects, and its accept batch took most of them: 54 of wrk's 64 on one
 * of two loops, whose readers then waited four times as long as the
 * others' (p99 100+ ms against a median of 20 on the long tail). Not
 * while draining: a loop that has drained takes no new connection.
 */
static struct http_worker *
worker_pick(struct http_worker *w)
{
	http_server *s = w->s;
	struct http_worker *best = w;
	unsigned least = atomic_load(&w->nconn);
	if (s->nworkers < 2 || atomic_load(&s->draining))
		return w;
	for (unsigned i = 0; i < s->nworkers; i++) {
		unsigned n = atomic_load(&s->workers[i].nconn);
		if (n + 1 < least) {
			least = n + 1;
			best = &s->workers[i];
		}
	}
	return best;
}

/* Hands the connections other loops accepted for w back to their fates:
 * adopted (serve), or closed (stop: the loop is ending). */
static void
worker_handed(struct http_worker *w, bool serve)
{
	pthread_mutex_lock(&w->mu);
	struct http_handoff *h = w->handed;
	w->handed = NULL;
	pthread_mutex_unlock(&w->mu);
	while (h != NULL) {
		struct http_handoff *next = h->next;
		if (serve) {
			conn_adopt(w, h->fd, &h->ip, h->counted);
		} else {
			close(h->fd);
			if (h->counted)
				http_ip_give(&w->s->addrs, &h->ip, false);
			atomic_fetch_sub(&w->s->nconns, 1);
			atomic_fetch_sub(&w->nconn, 1);
		}
		free(h);
		h = next;
	}
}

unsigned
http_loop_conns(http_server *s, unsigned i)
{
	return i < s->nworkers ? atomic_load(&s->workers[i].nconn) : 0;
}

/* Accepts what is pending on the listening socket: the per-IP limit
 * (trusted proxies exempt) and the global budget, shedding the oldest
 * idle connections when it is reached. true when it stopped at its batch
 * size (more may be waiting). */
static bool
worker_accept(struct http_worker *w)
{
	http_server *s = w->s;

	for (int k = 0; k < 64; k++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) &&
			    !worker_shed_one(w) && w->spare_fd >= 0) {
				/* No fd to accept with and nobody idle: take
				 * the spare fd, refuse one client, keep going. */
				close(w->spare_fd);
				fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
				if (fd >= 0)
					close(fd);
				w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
				continue;
			}
			return false;
		}
		struct http_ip ip;
		bool counted = false;
		if (!http_ip_from_sa((struct sockaddr *)&ss, &ip))
			memset(&ip, 0, sizeof(ip));
		else if (s->cfg.per_ip_limit != 0 &&
		    !http_ip_trusted(&s->addrs, &ip)) {
			if (!http_ip_take(&s->addrs, &ip, s->cfg.per_ip_limit,
			    false)) {
				close(fd);
				continue;
			}
			counted = true;
		}
		unsigned n = atomic_fetch_add(&s->nconns, 1) + 1;
		if (n > s->max_conns && !worker_shed_one(w)) {
			/* Others may hold the idle ones: ask them. */
			atomic_fetch_add(&s->shed_debt, 1);
			for (unsigned i = 0; i < s->nworkers; i++)
				if (&s->workers[i] != w)
					http_wake(&s->workers[i]);
			if (n > s->max_conns + HTTP_CONN_SLACK) {
				atomic_fetch_sub(&s->nconns, 1);
				if (counted)
					http_ip_give(&s->addrs, &ip, false);
				close(fd);
				continue;
			}
		}
		struct http_worker *to = worker_pick(w);
		atomic_fetch_add(&to->nconn, 1);
		if (to == w) {
			conn_adopt(w, fd, &ip, counted);
			continue;
		}
		struct http_handoff *h = xmalloc(sizeof(*h));
		h->fd = fd;
		h->ip = ip;
		h->counted = counted;
		pthread_mutex_lock(&to->mu);
		h->next = to->handed;
		to->handed = h;
		pthread_mutex_unlock(&to->mu);
		http_wake(to);
	}
	return true;
}

/* Work handed over by other threads: resumed answers, stream bytes, and
 * idle connections to shed for another thread's accept. */
static void
worker_events(struct http_worker *w)
{
	uint64_t v;
	ssize_t r = read(w->evfd, &v, sizeof(v));
	(void)r;
	worker_handed(w, true);
	pthread_mutex_lock(&w->mu);
	struct http_conn *res = w->resumed;
	http_stream *dirty = w->dirty;
	w->resumed = NULL;
	w->dirty = NULL;
	pthread_mutex_unlock(&w->mu);
	while (res != NULL) {
		struct http_conn *c = res;
		res = c->rnext;
		struct http_rq *q = c->q;
		q->deferred = false;
		if (q->finish)
			q->finish(q->finish_ctx);
		conn_respond(c, HTTP_FAIL_NONE);
		conn_run(c);
	}
	while (dirty != NULL) {
		http_stream *st = dirty;
		dirty = st->next;
		pthread_mutex_lock(&st->mu);
		st->queued = false;
		struct http_conn *c = st->c;
		pthread_mutex_unlock(&st->mu);
		if (c != NULL)
			conn_run(c);
		stream_unref(st);
	}
	unsigned debt = atomic_load(&w->s->shed_debt);
	while (debt > 0 && w->idle_head != NULL) {
		/* A debt is owed only while over budget: once closes elsewhere
		 * have paid it, shedding more would close a reader's
		 * connection for nothing (seen: the newest idle connection
		 * shed long after the budget was met). */
		if (atomic_load(&w->s->nconns) <= w->s->max_conns) {
			atomic_store(&w->s->shed_debt, 0);
			break;
		}
		if (atomic_compare_exchange_weak(&w->s->shed_debt, &debt,
		    debt - 1)) {
			worker_shed_one(w);
			debt--;
		}
	}
}

/* Every HTTP_SWEEP_MS: deadlines (408 for slow heads and bodies, close
 * for idle, stalled or lingering connections) and stream heartbeats. */
static void
worker_sweep(struct http_worker *w)
{
	struct http_conn *c = w->all, *next;

	for (; c != NULL; c = next) {
		next = c->next;
		if (c->st == CS_STREAM) {
			http_stream *st = c->stream;
			if (c->deadline != 0 && w->now >= c->deadline) {
				conn_close(c);
				continue;
			}
			if (w->now - st->last_ms >= st->hb_ms && *st->heartbeat) {
				pthread_mutex_lock(&st->mu);
				stream_frame(st, st->heartbeat, strlen(st->heartbeat));
				pthread_mutex_unlock(&st->mu);
				st->last_ms = w->now;
				conn_run(c);
			}
			continue;
		}
		if (c->deadline == 0 || w->now < c->deadline)
			continue;
		switch (c->st) {
		case CS_HEAD:
		case CS_BODY:
			/* The head's socket buffer may hold a partial next
			 * request: it is never read now (close follows). */
			conn_respond(c, HTTP_FAIL_TIMEOUT);
			conn_run(c);
			break;
		case CS_IDLE:
		case CS_WRITE:
		case CS_LINGER:
			conn_close(c);
			break;
		case CS_DEFER:
		case CS_STREAM:
			break;
		}
	}
}

/* An idle connection at a drain. One that has had an answer is told to
 * go (its client retries the next request on a new connection, as
 * HTTP/1.1 clients do when a kept-alive connection closes before any
 * answer), after a last look for a request already sent; a new one that
 * has sent nothing yet gets a short grace for its first request. */
static void
drain_idle(struct http_conn *c)
{
	struct http_worker *w = c->w;

	if (!c->reused) {
		int64_t d = w->now + HTTP_DRAIN_FRESH_MS;
		if (c->deadline == 0 || c->deadline > d)
			c->deadline = d;
		return;
	}
	c->wait_event = false;
	conn_run(c); /* answered with Connection: close if bytes came */
	if (c->dead || c->st != CS_IDLE)
		return;
	/* FIN, then read until the client closes: a request crossing it on
	 * the wire is read and dropped, not answered with a reset. */
	conn_idle_del(c);
	shutdown(c->fd, SHUT_WR);
	c->st = CS_LINGER;
	c->lingered = 0;
	c->deadline = w->now + HTTP_DRAIN_LINGER_MS;
}

/* This loop's part of a drain (http_drain): take what waits on the
 * listening socket and stop listening, let idle connections go and end
 * streams; requests under way go on, answered with Connection: close.
 * The last loop closes the listening socket, after one more look at its
 * queue: a connection left there would be reset (a successor sharing the
 * port with SO_REUSEPORT gets the new ones; with socket activation the
 * socket stays open in systemd). */
static void
worker_drain(struct http_worker *w)
{
	http_server *s = w->s;
	struct http_conn *c, *next;

	w->drained = true;
	while (worker_accept(w))
		;
	epoll_ctl(w->ep, EPOLL_CTL_DEL, s->lfd, NULL);
	if (atomic_fetch_add(&s->drain_acks, 1) + 1 == s->nworkers) {
		while (worker_accept(w))
			;
		close(s->lfd);
		s->lfd = -1;
	}
	for (c = w->all; c != NULL; c = next) {
		next = c->next;
		if (c->st == CS_IDLE)
			drain_idle(c);
		else if (c->st == CS_STREAM)
			conn_stream_end(c);
	}
}

/* Frees the connections closed during this turn of the loop. */
static void
worker_bury(struct http_worker *w)
{
	while (w->graveyard != NULL) {
		struct http_conn *c = w->graveyard;
		w->graveyard = c->next;
		free(c);
	}
}

static void *
worker_main(void *arg)
{
	struct http_worker *w = arg;
	http_server *s = w->s;
	pthread_setname_np(pthread_self(), "kiji-http"); /* top -H, perf */
	struct epoll_event evs[HTTP_EVENTS];
	int64_t next_sweep = 0;

	while (!atomic_load(&s->stopping)) {
		int n = epoll_wait(w->ep, evs, HTTP_EVENTS, HTTP_SWEEP_MS);
		w->now = http_mono_ms();
		atomic_store(&w->beat, w->now);
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &http_tag_listen)
				worker_accept(w);
			else if (p == &http_tag_event)
				worker_events(w);
			else
				conn_run(p);
		}
		if (w->now >= next_sweep) {
			worker_sweep(w);
			next_sweep = w->now + HTTP_SWEEP_MS;
		}
		if (!w->drained && atomic_load(&s->draining))
			worker_drain(w);
		worker_bury(w);
		http_obs_flush(); /* this turn's access log lines */
	}
	while (w->all != NULL)
		conn_close(w->all);
	worker_handed(w, false);
	worker_bury(w);
	/* Streams queued for a flush that will never come: drop their refs. */
	pthread_mutex_lock(&w->mu);
	http_stream *dirty = w->dirty;
	w->dirty = NULL;
	pthread_mutex_unlock(&w->mu);
	while (dirty != NULL) {
		http_stream *st = dirty;
		dirty = st->next;
		stream_unref(st);
	}
	return NULL;
}

/* ---- start / stop ---------------------------------------------------------------- */

static void
http_free(http_server *s)
{
	for (unsigned i = 0; s->workers && i < s->nworkers; i++) {
		struct http_worker *w = &s->workers[i];
		if (w->ep >= 0)
			close(w->ep);
		if (w->evfd >= 0)
			close(w->evfd);
		if (w->spare_fd >= 0)
			close(w->spare_fd);
		for (int k = 0; k < w->nspare; k++)
			arena_free(w->spare[k]);
		pthread_mutex_destroy(&w->mu);
	}
	free(s->workers);
	http_obs_stop(s);
	if (s->lfd >= 0)
		close(s->lfd);
	http_addrs_free(&s->addrs);
	free(s->hosts);
	free(s->tmp_dir);
	free(s);
}

http_server *
http_start(const struct http_config *cfg, http_handler h, void *ctx, buf *err)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	http_server *s = xcalloc(1, sizeof(*s));
	unsigned started = 0;

	s->lfd = cfg->listen_fd > 2 ? cfg->listen_fd : -1; /* ours now */
	s->h = h;
	s->ctx = ctx;
	s->cfg = *cfg;
	if (!http_addrs_init(&s->addrs, cfg->trusted_proxies, err))
		goto err;
	struct http_config *c = &s->cfg;
	if (!c->conn_timeout)
		c->conn_timeout = HTTP_DEF_TIMEOUT;
	if (!c->header_timeout)
		c->header_timeout = HTTP_DEF_HEADER_TIMEOUT;
	if (!c->body_timeout)
		c->body_timeout = HTTP_DEF_BODY_TIMEOUT;
	if (!c->max_streams)
		c->max_streams = HTTP_DEF_MAX_STREAMS;
	if (!c->streams_per_ip)
		c->streams_per_ip = HTTP_DEF_STREAMS_PER_IP;
	s->max_body = c->max_body ? c->max_body : HTTP_DEF_MAX_BODY;
	s->max_fields = c->max_fields ? c->max_fields : HTTP_DEF_MAX_FIELDS;
	s->max_field_len = c->max_field_len ? c->max_field_len :
	    HTTP_DEF_MAX_FIELD_LEN;
	unsigned fds = http_fd_budget();
	s->max_conns = c->max_conns ? c->max_conns : HTTP_DEF_MAX_CONNS;
	if (s->max_conns + HTTP_CONN_SLACK > fds)
		s->max_conns = fds > HTTP_CONN_SLACK * 2 ?
		    fds - HTTP_CONN_SLACK : fds / 2;
	s->tmp_dir = c->tmp_dir ? xstrdup(c->tmp_dir) : NULL;
	c->hosts = c->trusted_proxies = c->listen = c->tmp_dir = NULL;
	c->csp_form_action = c->csp_connect_src = c->csp_frame_src = NULL;
	if (h == NULL) {
		buf_puts(err, "no handler");
		goto err;
	}
	if (!http_csp_set(cfg->csp_form_action, cfg->csp_connect_src,
	    cfg->csp_frame_src)) {
		buf_puts(err, "bad extra CSP sources");
		goto err;
	}
	if (s->lfd < 0 && (s->lfd = http_bind(cfg->listen, err)) < 0)
		goto err;
	sl = sizeof(ss);
	getsockname(s->lfd, (struct sockaddr *)&ss, &sl);
	s->port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	/* Absolute-form targets may name the configured hosts, the listen
	 * address as bound, and localhost on our port. */
	const char *colon = strrchr(cfg->listen, ':');
	s->hosts = xstrdup("");
	char *hs = NULL;
	if (asprintf(&hs, "%s %.*s:%u localhost:%u", cfg->hosts ? cfg->hosts : "",
	    (int)(colon - cfg->listen), cfg->listen, s->port, s->port) > 0) {
		free(s->hosts);
		s->hosts = hs;
	}

	unsigned nw = c->threads;
	if (nw == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		nw = n > 0 ? (unsigned)n : 1;
	}
	s->nworkers = nw;
	s->workers = xcalloc(nw, sizeof(*s->workers));
	for (unsigned i = 0; i < nw; i++) {
		struct http_worker *w = &s->workers[i];
		w->s = s;
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		atomic_init(&w->beat, http_mono_ms());
		pthread_mutex_init(&w->mu, NULL);
		struct epoll_event le = { .events = EPOLLIN | EPOLLEXCLUSIVE,
			.data.ptr = &http_tag_listen };
		struct epoll_event ee = { .events = EPOLLIN,
			.data.ptr = &http_tag_event };
		if (w->ep < 0 || w->evfd < 0 ||
		    epoll_ctl(w->ep, EPOLL_CTL_ADD, s->lfd, &le) != 0 ||
		    epoll_ctl(w->ep, EPOLL_CTL_ADD, w->evfd, &ee) != 0) {
			buf_printf(err, "epoll: %s", strerror(errno));
			goto err;
		}
	}
	http_obs_start(s);
	for (; started < nw; started++) {
		if (pthread_create(&s->workers[started].th, NULL, worker_main,
		    &s->workers[started]) != 0) {
			buf_puts(err, "cannot start threads");
			goto err;
		}
	}
	return s;
err:
	atomic_store(&s->stopping, true);
	for (unsigned i = 0; i < started; i++) {
		http_wake(&s->workers[i]);
		pthread_join(s->workers[i].th, NULL);
	}
	http_free(s);
	return NULL;
}

unsigned
http_port(const http_server *s)
{
	return s ? s->port : 0;
}

/* See http.h. Each loop takes its part at its next turn (worker_drain);
 * this thread only watches the count of connections fall. */
bool
http_drain(http_server *s, unsigned timeout_ms)
{
	if (s == NULL)
		return true;
	atomic_store(&s->draining, true);
	for (unsigned i = 0; i < s->nworkers; i++)
		http_wake(&s->workers[i]);
	int64_t end = http_mono_ms() + timeout_ms;
	while (atomic_load(&s->nconns) > 0 ||
	    atomic_load(&s->drain_acks) < s->nworkers) {
		if (http_mono_ms() >= end)
			return false;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000000 }, NULL);
	}
	return true;
}

/* See http.h. */
unsigned
http_conn_count(const http_server *s)
{
	return s ? atomic_load(&((http_server *)s)->nconns) : 0;
}

/* See http.h. A loop turns at least every HTTP_SWEEP_MS when all is
 * quiet, so a beat older than that is a loop held up. */
bool
http_alive(const http_server *s, unsigned within_ms)
{
	if (s == NULL)
		return false;
	int64_t now = http_mono_ms();
	for (unsigned i = 0; i < s->nworkers; i++)
		if (now - atomic_load(&s->workers[i].beat) > (int64_t)within_ms)
			return false;
	return true;
}

/* Stops accepting, wakes every loop, which closes its connections
 * (deferred ones must have been resumed: the writer stops first). */
void
http_stop(http_server *s)
{
	if (s == NULL)
		return;
	atomic_store(&s->stopping, true);
	for (unsigned i = 0; i < s->nworkers; i++)
		http_wake(&s->workers[i]);
	for (unsigned i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i].th, NULL);
	http_free(s);
}
