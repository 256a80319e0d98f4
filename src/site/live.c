/*
 * Live comments: GET /articles/<id>/events, a server-sent event stream per
 * reader of an article page (comments.live). The change log drives it:
 * site_sync hands every comment row it reads, whoever wrote it (this
 * server, the CLI, another node), to live_note; one thread renders the
 * comment once, with the template the page uses, and queues the same bytes
 * to every listener of that article. An event's id is the change-log seq
 * of its row, so a reader coming back (Last-Event-ID, or ?since= the seq a
 * cached page was rendered at) is sent exactly the rows it missed: from
 * the article's ring of recent events, else read back from the log, else
 * (the log was pruned past it) a "reset" telling the page to reload its
 * comments.
 *
 * Several nodes: each follows the shared change log (on PostgreSQL woken
 * by LISTEN/NOTIFY where this polls the SQLite data version) and fans out
 * to its own listeners; nothing here depends on which node wrote a row.
 *
 * Events:  id: <seq>  event: comment  data: {"id":C,"parent":P,"html":"<li…"}
 *          id: <seq>  event: remove   data: {"id":C}
 *                     event: reset    data: {}
 * A listener costs one stream of the HTTP core and a pointer here.
 */
#include "site_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIVE_RING 64            /* recent events kept per article */
#define LIVE_REPLAY_MAX 512     /* log rows read back for one reader */
#define LIVE_IDLE_MS 60000      /* an article nobody listens to is kept
                                 * this long (readers reconnecting) */
#define LIVE_POLL_MS 250        /* other processes' commits noticed */
#define LIVE_SWEEP_MS 5000      /* gone listeners let go */
#define LIVE_RETRY_MS 3000      /* the reconnect delay readers are told */
#define LIVE_RETRY_AFTER "30"   /* seconds, when the stream caps refuse */
#define LIVE_BUCKETS 1024       /* articles with listeners, hashed */
#define LIVE_LAST_MAX 262144    /* articles whose last comment row is
                                 * remembered before starting afresh */

/* One event, framed for the wire once. */
struct live_ev {
	int64_t seq;
	int64_t cid;
	char *text;
	size_t len;
};

/* A comment row noted but not yet sent. */
struct live_row {
	int64_t seq;
	int64_t cid;
	bool added;
	struct live_row *next;
};

/* One article with listeners (or had them lately). */
struct live_chan {
	int64_t article;
	int64_t floor;        /* every comment row of the article with a seq
	                       * above this reaches the chan (noted after) */
	int64_t ring_floor;   /* the ring holds every event above this */
	struct live_ev ring[LIVE_RING];
	unsigned rfirst, rn;
	http_stream **ls;     /* the listeners */
	size_t nls, cap;
	struct live_row *rows, *rows_tail;
	bool queued;          /* on the work queue */
	unsigned busy;        /* being rendered for or joined: kept */
	int64_t idle_ms;      /* without listeners since (0: has some) */
	struct live_chan *next;  /* hash chain */
	struct live_chan *qnext; /* work queue */
};

/* article -> seq of its last comment row seen (open addressing). */
struct live_last {
	int64_t article;
	int64_t seq;
};

struct live {
	site *s;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	bool started, stop;
	struct live_chan *tab[LIVE_BUCKETS];
	struct live_chan *qhead, *qtail;
	int64_t start;        /* last[] holds every comment row above this */
	int64_t seen;         /* every row up to here has been noted */
	struct live_last *last;
	size_t nlast, caplast;
	size_t listeners;
};

static int64_t
live_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t
live_hash(int64_t id)
{
	return (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15u) >> 40);
}

/* ---- last comment row per article ------------------------------------------ */

static int64_t
last_get(const struct live *l, int64_t article)
{
	if (l->caplast == 0)
		return 0;
	size_t m = l->caplast - 1;
	for (size_t i = live_hash(article) & m;; i = (i + 1) & m) {
		if (l->last[i].article == article)
			return l->last[i].seq;
		if (l->last[i].article == 0)
			return 0;
	}
}

static void
last_put(struct live *l, int64_t article, int64_t seq)
{
	if (article <= 0)
		return;
	if (l->nlast + 1 > l->caplast / 2) {
		if (l->caplast >= LIVE_LAST_MAX) {
			/* Forget, and answer from the log for rows before now. */
			memset(l->last, 0, l->caplast * sizeof(*l->last));
			l->nlast = 0;
			l->start = l->seen;
		} else {
			size_t old = l->caplast;
			struct live_last *o = l->last;
			l->caplast = old ? old * 2 : 1024;
			l->last = xcalloc(l->caplast, sizeof(*l->last));
			l->nlast = 0;
			for (size_t i = 0; i < old; i++)
				if (o[i].article)
					last_put(l, o[i].article, o[i].seq);
			free(o);
		}
	}
	size_t m = l->caplast - 1;
	for (size_t i = live_hash(article) & m;; i = (i + 1) & m) {
		if (l->last[i].article == article || l->last[i].article == 0) {
			if (l->last[i].article == 0)
				l->nlast++;
			l->last[i].article = article;
			l->last[i].seq = seq;
			return;
		}
	}
}

/* ---- chans ------------------------------------------------------------------- */

static struct live_chan *
chan_find(struct live *l, int64_t article)
{
	struct live_chan *c = l->tab[live_hash(article) % LIVE_BUCKETS];
	while (c != NULL && c->article != article)
		c = c->next;
	return c;
}

static struct live_chan *
chan_get(struct live *l, int64_t article)
{
	struct live_chan *c = chan_find(l, article);
	if (c != NULL)
		return c;
	c = xcalloc(1, sizeof(*c));
	c->article = article;
	c->floor = c->ring_floor = l->seen;
	size_t b = live_hash(article) % LIVE_BUCKETS;
	c->next = l->tab[b];
	l->tab[b] = c;
	return c;
}

static void
chan_free(struct live_chan *c)
{
	for (size_t i = 0; i < c->nls; i++)
		http_stream_close(c->ls[i]);
	free(c->ls);
	for (unsigned i = 0; i < c->rn; i++)
		free(c->ring[(c->rfirst + i) % LIVE_RING].text);
	while (c->rows != NULL) {
		struct live_row *r = c->rows;
		c->rows = r->next;
		free(r);
	}
	free(c);
}

static void
chan_drop_listener(struct live *l, struct live_chan *c, size_t i)
{
	http_stream_close(c->ls[i]);
	c->ls[i] = c->ls[--c->nls];
	l->listeners--;
}

/* Sends one event to every listener; the gone ones are let go. */
static void
chan_fanout(struct live *l, struct live_chan *c, const char *p, size_t n)
{
	for (size_t i = 0; i < c->nls;) {
		if (http_stream_send(c->ls[i], p, n))
			i++;
		else
			chan_drop_listener(l, c, i);
	}
}

static void
ring_push(struct live_chan *c, struct live_ev *ev)
{
	if (c->rn == LIVE_RING) {
		struct live_ev *old = &c->ring[c->rfirst];
		c->ring_floor = old->seq;
		free(old->text);
		c->rfirst = (c->rfirst + 1) % LIVE_RING;
		c->rn--;
	}
	c->ring[(c->rfirst + c->rn) % LIVE_RING] = *ev;
	c->rn++;
}

/* ---- rendering ---------------------------------------------------------------- */

/*
 * The event for comment row w of article (as the comment is now): a
 * "comment" with its HTML when readers see it, a "remove" when they no
 * longer do. false when there is nothing to say (a comment held for
 * moderation from its first moment, a ping, a row without a comment).
 */
static bool
live_render(site *s, int64_t article, int64_t seq, int64_t cid, bool added,
    struct live_ev *ev)
{
	if (cid <= 0)
		return false;
	arena *a = arena_new(0);
	struct store_comment c;
	enum store_err e = store_comment_get(s->st, cid, a, &c);
	if (e != STORE_OK && e != STORE_NOTFOUND) {
		arena_free(a);
		obs_error("live comments: cannot read comment %lld",
		    (long long)cid);
		return false;
	}
	bool found = e == STORE_OK && c.article_id == article;
	if (found && c.type != CTYPE_COMMENT) {
		arena_free(a);
		return false;
	}
	bool shown = found && c.status == CSTATUS_APPROVED;
	buf out;
	buf_init(&out, 4 << 20);
	if (shown) {
		const struct site_conf *conf = site_conf(s);
		struct http_req r = {.a = a, .now = text_now(), .path = "/",
		    .query = ""};
		struct req q = {.s = s, .r = &r, .c = conf,
		    .lang = msg_lang_of(conf->str[CONF_LANG])};
		buf html, scratch;
		buf_init(&html, 1 << 20);
		buf_init(&scratch, 1 << 20);
		tv *node = site_comment_node(&q, &c, article, false, &scratch);
		site_view_msgs(&q, node);
		bool ok = site_tmpl_render(s, "comment", node, &html) && !html.err;
		if (ok) {
			buf_printf(&out, "id: %lld\nevent: comment\ndata: "
			    "{\"id\":%lld,\"parent\":%lld,\"html\":",
			    (long long)seq, (long long)cid,
			    (long long)c.parent_id);
			html_json_string(&out, html.ptr, html.len);
			buf_puts(&out, "}\n\n");
		}
		buf_free(&html);
		buf_free(&scratch);
		if (!ok) {
			obs_error("live comments: rendering comment %lld failed",
			    (long long)cid);
			buf_free(&out);
			arena_free(a);
			return false;
		}
	} else if (added && found) {
		buf_free(&out);
		arena_free(a);
		return false; /* held from the start: no reader saw it */
	} else {
		buf_printf(&out, "id: %lld\nevent: remove\ndata: {\"id\":%lld}\n\n",
		    (long long)seq, (long long)cid);
	}
	arena_free(a);
	if (out.err) {
		buf_free(&out);
		return false;
	}
	ev->seq = seq;
	ev->cid = cid;
	ev->len = out.len;
	ev->text = xmalloc(out.len + 1);
	memcpy(ev->text, out.ptr, out.len);
	ev->text[out.len] = '\0';
	buf_free(&out);
	return true;
}

/* ---- the thread ------------------------------------------------------------------ */

/* Lets go of gone listeners and of articles nobody listened to lately
 * (l->mu held). */
static void
live_sweep(struct live *l, int64_t now)
{
	for (size_t b = 0; b < LIVE_BUCKETS; b++) {
		struct live_chan **pp = &l->tab[b];
		while (*pp != NULL) {
			struct live_chan *c = *pp;
			for (size_t i = 0; i < c->nls;) {
				if (http_stream_alive(c->ls[i]))
					i++;
				else
					chan_drop_listener(l, c, i);
			}
			if (c->nls > 0) {
				c->idle_ms = 0;
			} else if (c->idle_ms == 0) {
				c->idle_ms = now;
			} else if (now - c->idle_ms > LIVE_IDLE_MS && !c->queued &&
			    c->busy == 0) {
				*pp = c->next;
				chan_free(c);
				continue;
			}
			pp = &c->next;
		}
	}
}

static void *
live_main(void *arg)
{
	struct live *l = arg;
	int64_t synced = 0, swept = live_ms();
	pthread_setname_np(pthread_self(), "kiji-live"); /* top -H, perf */

	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		int64_t now = live_ms();
		if (now - synced >= LIVE_POLL_MS) {
			/* Commits of other processes (CLI, other nodes) reach
			 * live_note through the one change-log reader. */
			pthread_mutex_unlock(&l->mu);
			site_sync(l->s, SYNC_LAZY);
			pthread_mutex_lock(&l->mu);
			synced = now = live_ms();
		}
		if (now - swept >= LIVE_SWEEP_MS) {
			live_sweep(l, now);
			swept = now;
		}
		struct live_chan *c = l->qhead;
		if (c == NULL) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += LIVE_POLL_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&l->cv, &l->mu, &ts);
			continue;
		}
		l->qhead = c->qnext;
		if (l->qhead == NULL)
			l->qtail = NULL;
		c->queued = false;
		struct live_row *rows = c->rows;
		c->rows = c->rows_tail = NULL;
		c->busy++;
		int64_t article = c->article;
		pthread_mutex_unlock(&l->mu);
		/* Rendered once, outside the lock; sent in log order. */
		while (rows != NULL) {
			struct live_row *w = rows;
			rows = w->next;
			struct live_ev ev;
			bool have = live_render(l->s, article, w->seq, w->cid,
			    w->added, &ev);
			free(w);
			if (!have)
				continue;
			pthread_mutex_lock(&l->mu);
			chan_fanout(l, c, ev.text, ev.len);
			ring_push(c, &ev);
			pthread_mutex_unlock(&l->mu);
		}
		pthread_mutex_lock(&l->mu);
		c->busy--;
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

/* ---- the site's side ------------------------------------------------------------ */

struct live *
live_new(site *s, int64_t seq)
{
	struct live *l = xcalloc(1, sizeof(*l));
	l->s = s;
	l->start = l->seen = seq;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	return l;
}

void
live_free(struct live *l)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = true;
	pthread_cond_signal(&l->cv);
	bool started = l->started;
	pthread_mutex_unlock(&l->mu);
	if (started)
		pthread_join(l->th, NULL);
	for (size_t b = 0; b < LIVE_BUCKETS; b++)
		while (l->tab[b] != NULL) {
			struct live_chan *c = l->tab[b];
			l->tab[b] = c->next;
			chan_free(c);
		}
	free(l->last);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

void
live_note(struct live *l, const struct store_change *ch, size_t n)
{
	if (l == NULL || n == 0)
		return;
	bool work = false;
	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; i < n; i++) {
		if (ch[i].kind != CHANGE_COMMENT)
			continue;
		last_put(l, ch[i].article_id, ch[i].seq);
		struct live_chan *c = chan_find(l, ch[i].article_id);
		if (c == NULL || ch[i].seq <= c->floor)
			continue;
		struct live_row *w = xmalloc(sizeof(*w));
		w->seq = ch[i].seq;
		w->cid = ch[i].comment_id;
		w->added = ch[i].added;
		w->next = NULL;
		if (c->rows_tail)
			c->rows_tail->next = w;
		else
			c->rows = w;
		c->rows_tail = w;
		if (!c->queued) {
			c->queued = true;
			c->qnext = NULL;
			if (l->qtail)
				l->qtail->qnext = c;
			else
				l->qhead = c;
			l->qtail = c;
		}
		work = true;
	}
	if (ch[n - 1].seq > l->seen)
		l->seen = ch[n - 1].seq;
	if (work)
		pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

/* Whether the event list evs[0..n) holds a later one for cid. */
static bool
evs_later(const struct live_ev *evs, size_t n, size_t from, int64_t cid)
{
	for (size_t i = from; i < n; i++)
		if (evs[i].cid == cid)
			return true;
	return false;
}

static const char live_reset[] = "event: reset\ndata: {}\n\n";

/*
 * Adds st to article's listeners after sending what a reader at since
 * (-1: none) missed: rows up to the chan's floor read back from the log,
 * then the ring's; one event per comment (its latest).
 */
static void
live_join(struct live *l, int64_t article, int64_t since, http_stream *st)
{
	site *s = l->s;
	char retry[32];
	int k = snprintf(retry, sizeof(retry), "retry: %d\n\n", LIVE_RETRY_MS);
	http_stream_send(st, retry, (size_t)k);

	pthread_mutex_lock(&l->mu);
	if (!l->started && !l->stop) {
		if (pthread_create(&l->th, NULL, live_main, l) == 0)
			l->started = true;
		else
			obs_error("live comments: cannot start the thread: %s",
			    strerror(errno));
	}
	struct live_chan *c = chan_get(l, article);
	c->busy++;
	int64_t floor = c->floor;
	bool from_log = since >= 0 && since < floor &&
	    !(since >= l->start && last_get(l, article) <= since);
	pthread_mutex_unlock(&l->mu);

	/* What the ring cannot have: read back from the log (rows up to
	 * floor are all written and final). */
	bool reset = false;
	struct live_ev *evs = NULL;
	size_t nev = 0;
	if (from_log) {
		arena *a = arena_new(0);
		int64_t first = 0;
		struct store_change *rows = NULL;
		size_t n = 0;
		if (store_changes_first(s->st, &first) != STORE_OK || first == 0 ||
		    first > since + 1 ||
		    store_changes_comments(s->st, article, since, floor,
			LIVE_REPLAY_MAX + 1, a, &rows, &n) != STORE_OK ||
		    n > LIVE_REPLAY_MAX) {
			reset = true;
			n = 0;
		}
		evs = xcalloc(n ? n : 1, sizeof(*evs));
		for (size_t i = 0; i < n; i++) {
			/* the comment's latest row only: one event each */
			bool later = false;
			for (size_t j = i + 1; j < n && !later; j++)
				later = rows[j].comment_id == rows[i].comment_id;
			if (!later && live_render(s, article, rows[i].seq,
			    rows[i].comment_id, rows[i].added, &evs[nev]))
				nev++;
		}
		arena_free(a);
	}

	pthread_mutex_lock(&l->mu);
	c->busy--;
	int64_t lo = since > floor ? since : floor;
	if (since >= 0 && lo < c->ring_floor)
		reset = true; /* the ring moved on while the log was read */
	/* The ring's events above lo, as a list to check "later" against. */
	struct live_ev *ring = xcalloc(c->rn ? c->rn : 1, sizeof(*ring));
	size_t nring = 0;
	for (unsigned i = 0; since >= 0 && !reset && i < c->rn; i++) {
		const struct live_ev *e = &c->ring[(c->rfirst + i) % LIVE_RING];
		if (e->seq > lo)
			ring[nring++] = *e;
	}
	bool ok = true;
	if (reset) {
		ok = http_stream_send(st, live_reset, sizeof(live_reset) - 1);
	} else {
		for (size_t i = 0; ok && i < nev; i++)
			if (!evs_later(ring, nring, 0, evs[i].cid))
				ok = http_stream_send(st, evs[i].text, evs[i].len);
		for (size_t i = 0; ok && i < nring; i++)
			if (!evs_later(ring, nring, i + 1, ring[i].cid))
				ok = http_stream_send(st, ring[i].text, ring[i].len);
	}
	if (ok) {
		if (c->nls == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 8;
			c->ls = xrealloc(c->ls, c->cap * sizeof(*c->ls));
		}
		c->ls[c->nls++] = st;
		c->idle_ms = 0;
		l->listeners++;
	} else {
		http_stream_close(st);
	}
	pthread_mutex_unlock(&l->mu);
	free(ring);
	for (size_t i = 0; i < nev; i++)
		free(evs[i].text);
	free(evs);
}

/* GET /articles/<id>/events: the article's live comment stream. */
void
site_live_events(struct req *q, int64_t article_id)
{
	struct store_article art;
	if (q->c->str[CONF_LIVE][0] != '1' || q->s->live == NULL ||
	    store_article_get(q->s->st, article_id, q->r->now, q->r->a, &art) !=
	    STORE_OK) {
		site_error(q, 404);
		return;
	}
	/* The browser's own resume point wins over the page's. */
	int64_t since = -1;
	const char *lei = http_req_header(q->r, "Last-Event-ID");
	if (!http_parse_event_id(http_req_arg(q->r, "since"), &since) ||
	    !http_parse_event_id(lei, &since)) {
		site_error(q, 400);
		return;
	}
	q->w->content_type = "text/event-stream";
	http_stream *st = http_stream_open(q->r, q->w, ":\n\n",
	    (unsigned)q->c->num[CONF_LIVE_HEARTBEAT]);
	if (st == NULL) {
		/* The per-address or overall cap (http.streams_per_ip,
		 * http.max_streams): come back later. */
		q->w->status = 429;
		q->w->content_type = "text/plain; charset=utf-8";
		http_resp_header(q->r, q->w, "Retry-After", LIVE_RETRY_AFTER);
		http_resp_header(q->r, q->w, "Cache-Control", "no-store");
		buf_reset(&q->w->body);
		buf_puts(&q->w->body, "429 too many live streams\n");
		return;
	}
	if (q->r->method == HTTP_HEAD) {
		http_stream_close(st);
		return;
	}
	live_join(q->s->live, article_id, since, st);
}

/*
 * The number a page of article rendered at seq (what the render sees at
 * least) resumes from: the article's last comment row up to then, or the
 * start of what this process knows, when that is earlier. No comment row
 * of the article lies between it and seq, so the stream misses nothing;
 * and the page's bytes (its ETag) stay the same while its comments do.
 */
static int64_t
live_page_seq(struct live *l, int64_t article, int64_t seq)
{
	pthread_mutex_lock(&l->mu);
	int64_t d = last_get(l, article);
	if (d < l->start)
		d = l->start;
	pthread_mutex_unlock(&l->mu);
	return d < seq ? d : seq;
}

/* The page's side: where a stream of this page's comments resumes.
 * Not on a static copy (kiji render) whose host has no stream. */
void
site_live_view(struct req *q, int64_t article_id)
{
	if (q->c->str[CONF_LIVE][0] != '1' || q->s->live == NULL ||
	    !site_export_streams(q->s))
		return;
	arena *a = q->r->a;
	tv *d = tv_set(q->root, "live", tv_dict(a));
	tv_set(d, "url", tv_str(a, arena_printf(a, "/articles/%lld/events",
	    (long long)article_id)));
	tv_set_int(a, d, "seq", live_page_seq(q->s->live, article_id,
	    (int64_t)q->seq));
	tv_set_int(a, d, "depth", q->c->num[CONF_DISPLAY_DEPTH]);
	tv_set(d, "deleted", tv_str(a, site_msg(q, MSG_DELETED)));
}

size_t
live_listeners(struct live *l)
{
	if (l == NULL)
		return 0;
	pthread_mutex_lock(&l->mu);
	size_t n = l->listeners;
	pthread_mutex_unlock(&l->mu);
	return n;
}
