/*
 * Streaming responses (server-sent events): a handler opens a stream on
 * its connection (http_stream_open), any thread sends framed bytes to it,
 * and the connection's event loop writes them out (stream_flush) with
 * heartbeats in the silences; a drain ends each with a retry hint.
 */
#include "server_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void
stream_unref(http_stream *st)
{
	if (atomic_fetch_sub(&st->refs, 1) != 1)
		return;
	buf_free(&st->pending);
	free(st->heartbeat);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

/* Puts st on its worker's dirty list (st->mu held). */
static void
stream_queue(http_stream *st)
{
	if (st->queued || st->w == NULL)
		return;
	st->queued = true;
	atomic_fetch_add(&st->refs, 1);
	struct http_worker *w = st->w;
	pthread_mutex_lock(&w->mu);
	/* One wake per batch: a list already waiting has its wake coming
	 * (the loop takes the whole list under mu after it). A fan-out to
	 * thousands of streams then costs a few wakes, not thousands. */
	bool wake = w->dirty == NULL;
	st->next = w->dirty;
	w->dirty = st;
	pthread_mutex_unlock(&w->mu);
	if (wake)
		http_wake(w);
}

/* Appends one piece in the stream's framing (st->mu held). */
bool
stream_frame(http_stream *st, const void *p, size_t n)
{
	if (n == 0)
		return true;
	if (st->pending.len + n + 32 > HTTP_STREAM_BACKLOG) {
		st->dead = true; /* the reader fell too far behind */
		return false;
	}
	if (st->chunked)
		buf_printf(&st->pending, "%zx\r\n", n);
	buf_put(&st->pending, p, n);
	if (st->chunked)
		buf_puts(&st->pending, "\r\n");
	return !st->pending.err;
}

http_stream *
http_stream_open(struct http_req *r, struct http_resp *w, const char *heartbeat,
    unsigned heartbeat_s)
{
	struct http_rq *q = r->conn;
	struct http_conn *c = q ? q->conn : NULL;
	http_server *s = q ? q->s : NULL;

	if (c == NULL || r->route == NULL || !r->route->stream ||
	    q->stream != NULL || atomic_load(&s->stopping))
		return NULL;
	if (atomic_fetch_add(&s->nstreams, 1) >= s->cfg.max_streams) {
		atomic_fetch_sub(&s->nstreams, 1);
		return NULL;
	}
	http_stream *st = xcalloc(1, sizeof(*st));
	if (!http_ip_trusted(&s->addrs, &c->ip)) {
		if (!http_ip_take(&s->addrs, &c->ip, s->cfg.streams_per_ip,
		    true)) {
			atomic_fetch_sub(&s->nstreams, 1);
			free(st);
			return NULL;
		}
		st->ip = c->ip;
		st->ip_counted = true;
	}
	pthread_mutex_init(&st->mu, NULL);
	atomic_init(&st->refs, 2); /* the connection's and the caller's */
	buf_init(&st->pending, HTTP_STREAM_BACKLOG * 2);
	st->chunked = r->minor == 1;
	st->c = c;
	st->w = c->w;
	st->heartbeat = xstrdup(heartbeat ? heartbeat : "");
	st->hb_ms = (int64_t)(heartbeat_s ? heartbeat_s : 15) * 1000;
	st->last_ms = c->w->now;
	/* Server-sent events hear at a drain when to come back: a second or
	 * more, spread so that a restart's readers do not return at once. */
	if (w->content_type != NULL &&
	    strncmp(w->content_type, "text/event-stream", 17) == 0)
		snprintf(st->farewell, sizeof(st->farewell), "retry: %u\n\n",
		    HTTP_RETRY_MIN_MS + (unsigned)((uint64_t)c->w->now * 2654435761u +
		    (unsigned)c->fd) % HTTP_RETRY_SPREAD_MS);
	q->stream = st;
	c->stream = st;

	/* HEAD: the head alone, and the stream is over before it began
	 * (sends fail; the caller still closes its handle). */
	if (r->method == HTTP_HEAD)
		st->closing = true;
	/* The head goes out first, then whatever is sent. */
	int status = w->status ? w->status : 200;
	w->status = status;
	http_resp_header(r, w, "Cache-Control", "no-store");
	http_resp_header(r, w, "X-Accel-Buffering", "no");
	struct http_out o;
	buf_reset(&w->body);
	c->close_after = true;
	http_out_build(q, HTTP_FAIL_NONE, true, true, http_date_now(), &o);
	http_obs_answer(s, q, &o, &c->ip);
	/* The built head carries Content-Length: 0 for the empty body;
	 * a stream is framed by chunks (1.1) or by the close (1.0). */
	const char *head = o.iov[0].iov_base;
	size_t hl = o.iov[0].iov_len;
	const char *cl = strstr(head, "Content-Length: 0\r\n");
	if (cl != NULL) {
		buf_put(&st->pending, head, (size_t)(cl - head));
		if (st->chunked)
			buf_puts(&st->pending, "Transfer-Encoding: chunked\r\n");
		buf_put(&st->pending, cl + 19, hl - (size_t)(cl + 19 - head));
	} else {
		buf_put(&st->pending, head, hl);
	}
	http_out_free(&o);
	return st;
}

bool
http_stream_send(http_stream *st, const void *p, size_t n)
{
	if (st == NULL)
		return false;
	pthread_mutex_lock(&st->mu);
	bool ok = !st->dead && !st->closing && stream_frame(st, p, n);
	if (ok || st->dead)
		stream_queue(st);
	pthread_mutex_unlock(&st->mu);
	return ok;
}

void
http_stream_close(http_stream *st)
{
	if (st == NULL)
		return;
	pthread_mutex_lock(&st->mu);
	if (!st->closing) {
		st->closing = true;
		if (st->chunked && !st->dead)
			buf_puts(&st->pending, "0\r\n\r\n");
		stream_queue(st);
	}
	pthread_mutex_unlock(&st->mu);
	stream_unref(st);
}

bool
http_stream_alive(http_stream *st)
{
	if (st == NULL)
		return false;
	pthread_mutex_lock(&st->mu);
	bool ok = !st->dead && !st->closing;
	pthread_mutex_unlock(&st->mu);
	return ok;
}

unsigned
http_stream_count(const http_server *s)
{
	return s ? atomic_load(&((http_server *)s)->nstreams) : 0;
}

/* Ends an open stream at a drain: its farewell (an SSE retry hint), the
 * end of the response, and the connection once that is sent. The
 * handler's next http_stream_send says false, as for a client gone. */
void
conn_stream_end(struct http_conn *c)
{
	http_stream *st = c->stream;

	pthread_mutex_lock(&st->mu);
	if (!st->closing && !st->dead) {
		stream_frame(st, st->farewell, strlen(st->farewell));
		if (st->chunked)
			buf_puts(&st->pending, "0\r\n\r\n");
		st->closing = true;
	}
	pthread_mutex_unlock(&st->mu);
	conn_run(c);
}

/* Moves the stream's pending bytes to the socket; ends the connection
 * when the client left, the stream died or was closed and all is sent. */
void
stream_flush(struct http_conn *c)
{
	http_stream *st = c->stream;
	bool closing, dead;

	/* Reads only to notice the client leaving (it sends nothing). */
	for (;;) {
		ssize_t k = read(c->fd, c->w->scratch, sizeof(c->w->scratch));
		if (k > 0)
			continue;
		if (k < 0 && errno == EINTR)
			continue;
		if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			conn_close(c);
			return;
		}
		break;
	}
	pthread_mutex_lock(&st->mu);
	if (st->pending.len > 0 && c->sout.len == 0) {
		/* the pending bytes become the ones being written, uncopied */
		buf t = c->sout;
		c->sout = st->pending;
		st->pending = t;
		buf_reset(&st->pending);
	} else if (st->pending.len > 0) {
		buf_put(&c->sout, st->pending.ptr, st->pending.len);
		buf_reset(&st->pending);
	}
	closing = st->closing;
	dead = st->dead;
	pthread_mutex_unlock(&st->mu);
	if (dead || c->sout.err) {
		conn_close(c);
		return;
	}
	size_t done = 0;
	while (done < c->sout.len) {
		ssize_t k = send(c->fd, c->sout.ptr + done, c->sout.len - done,
		    MSG_NOSIGNAL);
		if (k > 0) {
			done += (size_t)k;
			st->last_ms = c->w->now;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		conn_close(c);
		return;
	}
	if (done > 0) {
		memmove(c->sout.ptr, c->sout.ptr + done, c->sout.len - done);
		c->sout.len -= done;
	}
	if (c->sout.len > 0) {
		if (c->deadline == 0)
			c->deadline = c->w->now +
			    (int64_t)c->w->s->cfg.conn_timeout * 1000;
		return;
	}
	c->deadline = 0;
	/* All sent: an idle stream holds no buffer (the next bytes are
	 * queued into a new one). */
	buf_free(&c->sout);
	pthread_mutex_lock(&st->mu);
	if (st->pending.len == 0)
		buf_free(&st->pending);
	pthread_mutex_unlock(&st->mu);
	if (closing)
		conn_close(c);
}
