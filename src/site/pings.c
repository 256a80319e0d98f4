/*
 * Pings received: TrackBack 1.2 (POST /articles/<id>/trackback, and
 * WordPress's /wp-trackback.php?p=ID answered in place: clients do not
 * follow redirects), Pingback 1.0 (XML-RPC pingback.ping at /xmlrpc and
 * /xmlrpc.php) and W3C Webmention (POST /webmention), and what an article
 * page says so that other blogs find these doors.
 *
 * Every ping is verified by fetching its source (net_fetch: size, time,
 * redirect and address limits, a budget per source host) and looking for
 * a link to the article. TrackBack and Pingback answer after that check,
 * which may take seconds: the handler defers its request (http_defer) and
 * queues the ping for one of PING_THREADS threads, which fetch, check and
 * store it and resume the request, answered on its own thread (as the
 * login's password checks are, admin/verifier.c). Webmention answers 202
 * at once and leaves the check to a job (site_job_webmention), which also
 * notices a source that changed or went away.
 *
 * A ping is stored as a comment of type trackback (TrackBack) or pingback
 * (Pingback, Webmention) with the source as its url, after what a comment
 * passes (screen.c): the per-IP rate, bans, NG words and the moderation
 * setting. An article keeps one ping per source URL, whatever its type.
 */
#include "site_int.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../net/net.h"
#include "../port/port.h"

#define PING_THREADS 2        /* source fetches at once */
#define PING_QUEUE_MAX 16     /* pings waiting for a thread; more: busy */
#define PING_SOURCE_MAX ((size_t)1 << 20) /* bytes of a source read */
#define PING_NAME_MAX 100     /* characters of the name a ping shows */
#define PING_TEXT_MAX 300     /* characters of its excerpt */
#define PING_LINKS_MAX 200    /* links of a TrackBack source looked at */
#define PING_RESOLVE_MAX 20   /* of them, on this site, resolved */
#define PING_QUERY_ARGS 32    /* query arguments of a target URL */
#define PING_OK 1             /* no Pingback fault has this code */

/* ---- targets ------------------------------------------------------------------ */

/* The id of "/articles/<id>" (a trailing slash allowed), as the router
 * reads {id}; 0 for any other path. */
static int64_t
ping_article_path(const char *path)
{
	const char *s = path;
	if (strncmp(s, "/articles/", 10) != 0)
		return 0;
	s += 10;
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > 18 || (s[0] == '0') ||
	    !(s[n] == '\0' || (s[n] == '/' && s[n + 1] == '\0')))
		return 0;
	return strtoll(s, NULL, 10);
}

/*
 * An old URL of this site: the redirects table, then legacy.c's
 * WordPress permalinks, asked as if the URL had been requested (a GET
 * no route matched), with legacy.c telling where it leads instead of
 * answering. The article id it leads to, 0 when none.
 */
static int64_t
ping_legacy(struct req *q, const char *path, const char *query)
{
	arena *a = q->r->a;
	const char *to = NULL;
	if (store_redirect_get(q->s->st, path, a, &to) == STORE_OK)
		return ping_article_path(to);
	struct http_req r = {
		.method = HTTP_GET,
		.path = path,
		.query = query,
		.content_type = "",
		.ip = q->r->ip,
		.peer_ip = q->r->peer_ip,
		.now = q->r->now,
		.a = a,
		.minor = 1,
	};
	if (*query && !http_parse_urlencoded(query, strlen(query), a,
	    PING_QUERY_ARGS, &r.args, &r.nargs))
		return 0;
	struct req lq = *q;
	lq.r = &r;
	lq.root = NULL;
	lq.moved_to = &to;
	bool moved = strcmp(path, "/") == 0 ?
	    r.nargs > 0 && site_legacy_query(&lq) : site_legacy_path(&lq);
	return moved && to != NULL ? ping_article_path(to) : 0;
}

/* What a target URL is to this site. */
enum ping_tgt {
	TGT_ARTICLE, /* names an article (*id) */
	TGT_MISSING, /* on this site, naming no article */
	TGT_ELSEWHERE, /* not this site's, or not an http(s) URL */
};

/* The article a URL names: /articles/<id> on site.base_url's host (either
 * scheme), else an old URL (ping_legacy). */
static enum ping_tgt
ping_target(struct req *q, const char *url, int64_t *id)
{
	arena *a = q->r->a;
	struct ping_url u, base;
	*id = 0;
	if (!ping_url_parse(a, url, &u) ||
	    !ping_url_parse(a, q->c->str[CONF_BASE_URL], &base) ||
	    strcmp(u.host, base.host) != 0)
		return TGT_ELSEWHERE;
	/* a site served below a path: its routes see what follows it */
	const char *path = u.path;
	size_t bl = strlen(base.path);
	while (bl > 0 && base.path[bl - 1] == '/')
		bl--;
	if (bl > 0) {
		if (strncmp(path, base.path, bl) != 0 ||
		    (path[bl] != '/' && path[bl] != '\0'))
			return TGT_ELSEWHERE;
		path = path[bl] ? path + bl : "/";
	}
	if (strstr(path, "%00") != NULL)
		return TGT_MISSING;
	path = port_pct_decode(a, path);
	if (*path != '/')
		return TGT_MISSING;
	if ((*id = ping_article_path(path)) == 0)
		*id = ping_legacy(q, path, u.query);
	return *id > 0 ? TGT_ARTICLE : TGT_MISSING;
}

/* Whether article id takes pings now: PING_OK (art filled), or the
 * Pingback fault: 32 no such article, 33 one that takes none (a page,
 * not published, comments closed). */
static int
ping_article(struct req *q, int64_t id, struct store_article *art)
{
	if (store_article_get(q->s->st, id, q->r->now, q->r->a, art) ==
	    STORE_OK)
		return art->kind == KIND_POST && art->comments_open ? PING_OK :
		    NET_PB_TARGET_INVALID;
	struct store_article any;
	if (store_article_get_any(q->s->st, id, q->r->a, &any) == STORE_OK)
		return NET_PB_TARGET_INVALID;
	return NET_PB_TARGET_MISSING;
}

/* ---- fetching and storing (request threads and the job alike) ------------------ */

/* What fetching a source showed. */
enum ping_src {
	SRC_OK,       /* a 2xx page: look for the link */
	SRC_GONE,     /* 404 or 410 */
	SRC_MISSING,  /* refused address, no such host, other 4xx, redirects */
	SRC_TOO_BIG,
	SRC_UPSTREAM, /* timeout, 5xx, the host's fetch budget spent */
	SRC__MAX
};

/* GET source under the settings' limits; *why says what went wrong. */
static enum ping_src
ping_get(const struct site_conf *c, const char *source, arena *a,
    struct net_response *r, const char **why)
{
	long ms = c->num[CONF_PINGS_FETCH_TIMEOUT] * 1000;
	struct net_limits lim = {
		.max_bytes = PING_SOURCE_MAX,
		.timeout_ms = ms,
		.connect_timeout_ms = ms < 5000 ? ms : 5000,
		.per_host_minute = (int)c->num[CONF_PINGS_HOST_RATE],
		.allow_loopback = c->str[CONF_NET_ALLOW_LOOPBACK][0] == '1',
		.user_agent = arena_printf(a, "kiji (pings; +%s)",
		    c->str[CONF_BASE_URL]),
	};
	buf err;
	buf_init(&err, 1024);
	memset(r, 0, sizeof(*r));
	enum net_err e = net_fetch(&lim, source, NULL, NULL, 0, a, r, &err);
	*why = arena_strdup(a, buf_cstr(&err));
	buf_free(&err);
	switch (e) {
	case NET_OK:
		break;
	case NET_TOO_BIG:
		return SRC_TOO_BIG;
	case NET_TIMEOUT:
	case NET_RATE:
		return SRC_UPSTREAM;
	case NET_BAD_URL:
	case NET_REFUSED:
	case NET_FAILED:
	case NET__MAX:
	default:
		return SRC_MISSING;
	}
	*why = arena_printf(a, "the source answered %ld", r->status);
	if (r->status >= 200 && r->status <= 299)
		return SRC_OK;
	if (r->status == 404 || r->status == 410)
		return SRC_GONE;
	return r->status >= 500 ? SRC_UPSTREAM : SRC_MISSING;
}

/* s as a ping shows it: clean one-line (or multi-line) NFC text cut to
 * max characters; "" for text that is not clean. */
static const char *
ping_clip(arena *a, const char *s, size_t max, bool multiline)
{
	const char *t = screen_text(a, s ? s : "", multiline, NULL);
	if (t == NULL || *t == '\0')
		return "";
	buf b;
	buf_init(&b, 1 << 22);
	text_truncate(&b, t, strlen(t), max);
	const char *r = b.err ? "" : arena_strndup(a, buf_cstr(&b), b.len);
	buf_free(&b);
	return r;
}

/* The pseudo-visitor of a ping: its source's host, so that under
 * moderation "first" a blog whose ping was approved once is known. */
static const char *
ping_visitor(arena *a, const char *source)
{
	struct ping_url u;
	return ping_url_parse(a, source, &u) ?
	    arena_printf(a, "ping:%s", u.host) : "ping:";
}

/* A ping on its way to the store. */
struct ping_rec {
	int64_t article_id;
	enum store_ctype type;
	const char *source;
	const char *name;  /* clipped */
	const char *text;  /* clipped */
	const char *ip;
	int64_t now;
};

enum ping_verdict {
	PV_STORED,
	PV_DUPLICATE, /* the article has a ping from this source */
	PV_NG,        /* an NG word, ng_action reject */
	PV_ERROR,     /* the store failed */
};

/* Screens p as a comment is screened (moderation, NG words; a banned
 * address gets spam: sync pings refuse bans before this) and stores it;
 * *status says how. */
static enum ping_verdict
ping_store(store *st, const struct site_conf *c, const guard_ngwords *ng,
    const struct ping_rec *p, arena *a, enum store_cstatus *status)
{
	const char *visitor = ping_visitor(a, p->source);
	const char *texts[] = {p->name, p->text, p->source};
	const char *reason;
	if (!screen_moderate(st, c, ng, visitor, texts, 3, status, &reason))
		return PV_NG;
	if (screen_banned(st, p->ip, visitor, a)) {
		*status = CSTATUS_SPAM;
		reason = "ban";
	}
	struct store_comment cm = {
		.article_id = p->article_id,
		.type = p->type,
		.nickname = p->name,
		.email = "",
		.url = p->source,
		.ip = p->ip,
		.visitor_id = visitor,
		.body = p->text,
		.created_at = p->now,
		.status = *status,
		.legacy_id = "",
		.pending_reason = reason,
	};
	switch (store_comment_ping_add(st, &cm)) {
	case STORE_OK:
		return PV_STORED;
	case STORE_CONFLICT:
		return PV_DUPLICATE;
	default:
		return PV_ERROR;
	}
}

/* The host of a URL for a name of last resort. */
static const char *
ping_host(arena *a, const char *url)
{
	struct ping_url u;
	return ping_url_parse(a, url, &u) ? u.host : "";
}

/* ---- the fetching threads ------------------------------------------------------ */

enum ping_proto { PROTO_TRACKBACK, PROTO_PINGBACK, PROTO__MAX };

/* One TrackBack or Pingback, from its handler to its answer; in the
 * request arena (the handler's frame is gone when a thread has it). */
struct ping {
	enum ping_proto proto;
	struct req q;
	struct store_article art;
	const char *source;
	const char *target;      /* the URL the source must link to */
	const char *blog_name;   /* TrackBack's fields, clean text or "" */
	const char *title;
	const char *excerpt;
	int fault;               /* PING_OK, or a Pingback fault code */
	const char *message;
	void *deferred;
	struct ping *next;
};

struct ping_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ping *head, *tail;
	unsigned len;
	bool stopping;
	pthread_t th[PING_THREADS];
	int nth;
};

static void
ping_fail(struct ping *p, int fault, const char *message)
{
	p->fault = fault;
	p->message = message;
}

/* Whether a TrackBack source links to the article: its canonical URL,
 * or any link of this site's that resolves to it (an old permalink, the
 * other scheme, a trailing slash). */
static bool
ping_tb_links(struct ping *p, const struct net_response *r)
{
	struct req *q = &p->q;
	if (net_links_to(r->body, r->len, r->content_type, r->url, p->target))
		return true;
	const char **links = arena_alloc(q->r->a, PING_LINKS_MAX *
	    sizeof(*links));
	size_t n = net_links(r->body, r->len, r->url, q->r->a, links,
	    PING_LINKS_MAX);
	int64_t id;
	for (size_t i = 0, tried = 0; i < n && tried < PING_RESOLVE_MAX; i++) {
		enum ping_tgt t = ping_target(q, links[i], &id);
		if (t == TGT_ELSEWHERE)
			continue;
		tried++;
		if (t == TGT_ARTICLE && id == p->art.id)
			return true;
	}
	return false;
}

/* Fetches the source, checks its link and stores the ping: the work a
 * pool thread does while the request waits. Sets p->fault. */
static void
ping_verify(struct ping *p)
{
	struct req *q = &p->q;
	arena *a = q->r->a;
	struct net_response r;
	const char *why;
	switch (ping_get(q->c, p->source, a, &r, &why)) {
	case SRC_OK:
		break;
	case SRC_TOO_BIG:
		ping_fail(p, NET_PB_GENERIC, "The source is too large to check.");
		return;
	case SRC_UPSTREAM:
		ping_fail(p, NET_PB_UPSTREAM, arena_printf(a,
		    "The source could not be fetched now (%s).", why));
		return;
	case SRC_GONE:
	case SRC_MISSING:
	case SRC__MAX:
	default:
		ping_fail(p, NET_PB_SOURCE_MISSING, arena_printf(a,
		    "The source does not exist (%s).", why));
		return;
	}
	bool linked = p->proto == PROTO_PINGBACK ?
	    net_links_to(r.body, r.len, r.content_type, r.url, p->target) :
	    ping_tb_links(p, &r);
	if (!linked) {
		ping_fail(p, NET_PB_NO_LINK,
		    "The source does not link to the target.");
		return;
	}
	const char *stitle = "", *sexcerpt = "";
	net_source_summary(r.body, r.len, r.url, p->target, a, &stitle,
	    &sexcerpt);
	const char *name, *text;
	if (p->proto == PROTO_TRACKBACK) {
		name = *p->blog_name ? p->blog_name : *p->title ? p->title :
		    stitle;
		/* the blog's name shows as the name: keep the entry's title */
		text = *p->blog_name && *p->title ?
		    arena_printf(a, "%s\n%s", p->title, p->excerpt) :
		    *p->excerpt ? p->excerpt : sexcerpt;
	} else {
		name = stitle;
		text = sexcerpt;
	}
	struct ping_rec rec = {
		.article_id = p->art.id,
		.type = p->proto == PROTO_TRACKBACK ? CTYPE_TRACKBACK :
		    CTYPE_PINGBACK,
		.source = p->source,
		.name = ping_clip(a, name, PING_NAME_MAX, false),
		.text = ping_clip(a, text, PING_TEXT_MAX, true),
		.ip = q->r->ip,
		.now = q->r->now,
	};
	if (*rec.name == '\0')
		rec.name = ping_host(a, p->source);
	enum store_cstatus st;
	switch (ping_store(q->s->st, q->c, site_ngwords(q), &rec, a, &st)) {
	case PV_STORED:
		ping_fail(p, PING_OK, st == CSTATUS_APPROVED ?
		    "The ping was registered." :
		    "The ping was registered and awaits moderation.");
		break;
	case PV_DUPLICATE:
		ping_fail(p, NET_PB_ALREADY,
		    "The ping has already been registered.");
		break;
	case PV_NG:
		ping_fail(p, NET_PB_DENIED, "Access denied.");
		break;
	case PV_ERROR:
	default:
		ping_fail(p, NET_PB_GENERIC, "Busy; please try again later.");
		break;
	}
}

static void *
ping_thread(void *arg)
{
	struct ping_pool *pp = arg;
	pthread_setname_np(pthread_self(), "kiji-ping"); /* top -H, perf */
	pthread_mutex_lock(&pp->mu);
	for (;;) {
		while (pp->head == NULL && !pp->stopping)
			pthread_cond_wait(&pp->cv, &pp->mu);
		if (pp->head == NULL)
			break; /* stopping and drained */
		struct ping *p = pp->head;
		pp->head = p->next;
		if (pp->head == NULL)
			pp->tail = NULL;
		pp->len--;
		bool stopping = pp->stopping;
		pthread_mutex_unlock(&pp->mu);
		/* The request is suspended: its arena is ours until resumed.
		 * At shutdown what waits is answered "busy", not fetched. */
		if (stopping)
			ping_fail(p, NET_PB_GENERIC,
			    "Busy; please try again in a minute.");
		else
			ping_verify(p);
		http_resume(p->deferred);
		pthread_mutex_lock(&pp->mu);
	}
	pthread_mutex_unlock(&pp->mu);
	return NULL;
}

struct ping_pool *
ping_pool_new(void)
{
	struct ping_pool *pp = xcalloc(1, sizeof(*pp));
	pthread_mutex_init(&pp->mu, NULL);
	pthread_cond_init(&pp->cv, NULL);
	for (int i = 0; i < PING_THREADS; i++)
		if (pthread_create(&pp->th[pp->nth], NULL, ping_thread, pp) == 0)
			pp->nth++;
	return pp;
}

void
ping_pool_stop(struct ping_pool *pp)
{
	if (pp == NULL)
		return;
	pthread_mutex_lock(&pp->mu);
	bool was = pp->stopping;
	pp->stopping = true;
	pthread_cond_broadcast(&pp->cv);
	pthread_mutex_unlock(&pp->mu);
	if (was)
		return;
	for (int i = 0; i < pp->nth; i++)
		pthread_join(pp->th[i], NULL);
	pp->nth = 0;
}

void
ping_pool_free(struct ping_pool *pp)
{
	if (pp == NULL)
		return;
	ping_pool_stop(pp);
	pthread_cond_destroy(&pp->cv);
	pthread_mutex_destroy(&pp->mu);
	free(pp);
}

/* ---- answers -------------------------------------------------------------------- */

/* TrackBack's answer: error 0 (error NULL), or error 1 with a message. */
static void
tb_reply(struct req *q, const char *error)
{
	q->w->status = 200;
	q->w->content_type = "text/xml; charset=utf-8";
	http_resp_header(q->r, q->w, "Cache-Control", "no-store");
	buf_reset(&q->w->body);
	net_trackback_reply(&q->w->body, error);
}

/* XML-RPC's answer: a string, or a fault (code != PING_OK). */
static void
xr_reply(struct req *q, int code, const char *message)
{
	q->w->status = 200;
	q->w->content_type = "text/xml; charset=utf-8";
	http_resp_header(q->r, q->w, "Cache-Control", "no-store");
	buf_reset(&q->w->body);
	if (code == PING_OK)
		net_xmlrpc_success(&q->w->body, message);
	else
		net_xmlrpc_fault(&q->w->body, code, message);
}

/* A verified ping's answer, on its request's own thread. */
static void
ping_finish(void *ctx)
{
	struct ping *p = ctx;
	struct req *q = &p->q;
	if (p->fault == PING_OK)
		site_sync(q->s, SYNC_FORCE); /* the next page view shows it */
	if (p->proto == PROTO_TRACKBACK)
		tb_reply(q, p->fault == PING_OK ? NULL : p->message);
	else
		xr_reply(q, p->fault, p->message);
}

/* Hands p to the pool (its answer comes from ping_finish), or, when the
 * request cannot wait, verifies it here and answers; a full queue is
 * answered "busy" at once. */
static void
ping_run(struct ping *p)
{
	struct ping_pool *pp = p->q.s->pings;
	bool here = pp == NULL;
	if (!here) {
		pthread_mutex_lock(&pp->mu);
		if (pp->stopping || pp->nth == 0) {
			here = true;
		} else if (pp->len >= PING_QUEUE_MAX) {
			pthread_mutex_unlock(&pp->mu);
			ping_fail(p, NET_PB_GENERIC,
			    "Busy; please try again in a minute.");
			ping_finish(p);
			return;
		} else if ((p->deferred = http_defer(p->q.r, ping_finish, p)) ==
		    NULL) {
			here = true;
		} else {
			p->next = NULL;
			if (pp->tail)
				pp->tail->next = p;
			else
				pp->head = p;
			pp->tail = p;
			pp->len++;
			pthread_cond_signal(&pp->cv);
		}
		pthread_mutex_unlock(&pp->mu);
	}
	if (here) {
		ping_verify(p);
		ping_finish(p);
	}
}

/*
 * What every TrackBack and Pingback passes before its source is fetched
 * (p->source and p->art set): an http(s) source that is not the target,
 * the per-IP rate (as comments), no ban, no ping from this source yet.
 * PING_OK, or the fault with p->message.
 */
static int
ping_admit(struct ping *p)
{
	struct req *q = &p->q;
	arena *a = q->r->a;
	struct ping_url u;
	int retry = 0;
	if (!ping_url_parse(a, p->source, &u)) {
		ping_fail(p, NET_PB_SOURCE_MISSING,
		    "The source must be an http or https URL.");
	} else if (strcmp(p->source, p->target) == 0) {
		ping_fail(p, NET_PB_GENERIC,
		    "The source and the target are the same.");
	} else if (!screen_take(q->s->lim_comment, q->r->ip, &retry)) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", retry);
		http_resp_header(q->r, q->w, "Retry-After", ra);
		ping_fail(p, NET_PB_DENIED,
		    "Too many pings from your address; try again later.");
	} else if (screen_banned(q->s->st, q->r->ip, NULL, a)) {
		ping_fail(p, NET_PB_DENIED, "Access denied.");
	} else {
		struct store_comment old;
		enum store_err e = store_comment_ping_find(q->s->st, p->art.id,
		    p->source, a, &old);
		if (e == STORE_OK)
			ping_fail(p, NET_PB_ALREADY,
			    "The ping has already been registered.");
		else if (e != STORE_NOTFOUND)
			ping_fail(p, NET_PB_GENERIC,
			    "Busy; please try again later.");
		else
			p->fault = PING_OK;
	}
	return p->fault;
}

static struct ping *
ping_new(struct req *q, enum ping_proto proto)
{
	struct ping *p = arena_alloc(q->r->a, sizeof(*p));
	p->proto = proto;
	p->q = *q;
	p->blog_name = p->title = p->excerpt = "";
	p->fault = NET_PB_GENERIC;
	p->message = "";
	return p;
}

/* ---- TrackBack ---------------------------------------------------------------- */

/* Why the HTTP core refused a TrackBack's form (its route reads forms in
 * the sender's charset and leaves refusals to us), as error 1's message;
 * NULL when the form passed. */
static const char *
tb_form_refusal(struct req *q)
{
	arena *a = q->r->a;
	switch (q->r->form_err) {
	case HTTP_FORM_OK:
		return NULL;
	case HTTP_FORM_CHARSET:
		return arena_printf(a, "Unsupported charset \"%s\" (send UTF-8, "
		    "EUC-JP, Shift_JIS, ISO-2022-JP or ISO-8859-1).",
		    q->r->charset);
	case HTTP_FORM_ENCODING:
		return arena_printf(a, "The form holds bytes that are not valid "
		    "%s (the charset of the Content-Type, UTF-8 when none is "
		    "given).", q->r->charset);
	case HTTP_FORM_LARGE: {
		/* the limits as the route declares them */
		buf b;
		buf_init(&b, 512);
		buf_puts(&b, "A field is too long (in bytes as sent:");
		for (const struct http_field *f = q->r->route->fields; f && f->name;
		    f++)
			buf_printf(&b, "%s %s at most %zu", f == q->r->route->fields ?
			    "" : ",", f->name, f->max ? f->max :
			    q->r->route->body_max);
		buf_puts(&b, ").");
		const char *m = b.err ? "A field is too long." :
		    arena_strdup(a, buf_cstr(&b));
		buf_free(&b);
		return m;
	}
	case HTTP_FORM_TOO_MANY:
		return "The form has too many fields.";
	default:
		return "The ping must be an application/x-www-form-urlencoded "
		    "form, with url on one line.";
	}
}

void
site_ping_trackback(struct req *q, int64_t article_id)
{
	arena *a = q->r->a;
	struct ping *p = ping_new(q, PROTO_TRACKBACK);
	const char *refused = tb_form_refusal(q);
	if (refused != NULL) {
		tb_reply(q, refused);
		return;
	}
	if (article_id == 0) {
		/* /wp-trackback.php?p=<WordPress post id> */
		const char *wp = http_req_arg(q->r, "p");
		size_t n = wp ? strspn(wp, "0123456789") : 0;
		if (n == 0 || n > 18 || wp[n] != '\0' ||
		    store_legacy_by_id(q->s->st, wp, q->r->now, &article_id) !=
		    STORE_OK) {
			tb_reply(q, "No such article.");
			return;
		}
	}
	switch (ping_article(q, article_id, &p->art)) {
	case PING_OK:
		break;
	case NET_PB_TARGET_INVALID:
		tb_reply(q, "This article does not take trackbacks.");
		return;
	default:
		tb_reply(q, "No such article.");
		return;
	}
	const char *url = http_req_field(q->r, "url");
	if (url == NULL || *url == '\0') {
		tb_reply(q, "The url field (the entry that links here) is "
		    "required.");
		return;
	}
	p->source = url;
	p->target = site_abs(q, arena_printf(a, "/articles/%lld",
	    (long long)p->art.id));
	const char *f[3] = {http_req_field(q->r, "blog_name"),
	    http_req_field(q->r, "title"), http_req_field(q->r, "excerpt")};
	for (int i = 0; i < 3; i++)
		if (f[i] && screen_text(a, f[i], i == 2, NULL) == NULL) {
			tb_reply(q, "The title, excerpt or blog_name holds "
			    "characters that are not allowed.");
			return;
		}
	p->blog_name = f[0] ? ping_clip(a, f[0], PING_NAME_MAX, false) : "";
	p->title = f[1] ? ping_clip(a, f[1], PING_NAME_MAX, false) : "";
	p->excerpt = f[2] ? ping_clip(a, f[2], PING_TEXT_MAX, true) : "";
	if (ping_admit(p) != PING_OK) {
		tb_reply(q, p->message);
		return;
	}
	ping_run(p);
}

/* ---- Pingback -------------------------------------------------------------------- */

void
site_ping_xmlrpc(struct req *q)
{
	const char *method = NULL, *source = NULL, *target = NULL;
	int f = net_xmlrpc_parse_call(q->r->body ? q->r->body : "",
	    q->r->body_len, q->r->a, &method, &source, &target);
	if (f == NET_XMLRPC_PARSE) {
		xr_reply(q, f, "Parse error: not a well-formed methodCall.");
		return;
	}
	if (method == NULL || strcmp(method, "pingback.ping") != 0) {
		xr_reply(q, NET_XMLRPC_NO_METHOD,
		    "Method not found: this server has pingback.ping only.");
		return;
	}
	if (f != 0 || source == NULL || target == NULL) {
		xr_reply(q, NET_XMLRPC_BAD_PARAMS, "pingback.ping takes two "
		    "strings: the source URI and the target URI.");
		return;
	}
	struct ping *p = ping_new(q, PROTO_PINGBACK);
	p->source = source;
	p->target = target;
	int64_t id = 0;
	switch (ping_target(q, target, &id)) {
	case TGT_ELSEWHERE:
		xr_reply(q, NET_PB_TARGET_INVALID,
		    "The target is not an article of this site.");
		return;
	case TGT_MISSING:
		xr_reply(q, NET_PB_TARGET_MISSING,
		    "The target does not exist.");
		return;
	case TGT_ARTICLE:
		break;
	}
	if ((f = ping_article(q, id, &p->art)) != PING_OK) {
		xr_reply(q, f, f == NET_PB_TARGET_MISSING ?
		    "The target does not exist." :
		    "The target does not take pingbacks.");
		return;
	}
	if (ping_admit(p) != PING_OK) {
		xr_reply(q, p->fault, p->message);
		return;
	}
	ping_run(p);
}

/* ---- Webmention ---------------------------------------------------------------- */

static void
wm_reply(struct req *q, int status, const char *text)
{
	q->w->status = status;
	q->w->content_type = "text/plain; charset=utf-8";
	http_resp_header(q->r, q->w, "Cache-Control", "no-store");
	buf_reset(&q->w->body);
	buf_puts(&q->w->body, text);
	buf_putc(&q->w->body, '\n');
}

/* "webmention:" and BLAKE2b-128 of the pair, so a burst of one pair
 * queues one job, and a pair cannot be made to collide with another. */
static const char *
wm_key(arena *a, const char *source, const char *target)
{
	unsigned char h[16];
	char hex[33];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)source,
	    strlen(source) + 1); /* with its NUL: a separator */
	crypto_generichash_update(&st, (const unsigned char *)target,
	    strlen(target));
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	return arena_printf(a, "webmention:%s", hex);
}

void
site_ping_webmention(struct req *q)
{
	arena *a = q->r->a;
	const char *source = http_req_field(q->r, "source");
	const char *target = http_req_field(q->r, "target");
	struct ping_url su, tu;
	struct store_article art;
	int64_t id = 0;
	int retry = 0;
	if (source == NULL || *source == '\0' || target == NULL ||
	    *target == '\0') {
		wm_reply(q, 400, "Both source and target are required.");
		return;
	}
	if (!ping_url_parse(a, source, &su) || !ping_url_parse(a, target, &tu)) {
		wm_reply(q, 400, "source and target must be http or https URLs.");
		return;
	}
	if (strcmp(source, target) == 0) {
		wm_reply(q, 400, "source and target must differ.");
		return;
	}
	switch (ping_target(q, target, &id)) {
	case TGT_ELSEWHERE:
		wm_reply(q, 400, "The target is not on this site.");
		return;
	case TGT_MISSING:
		wm_reply(q, 400, "The target is not an article of this site.");
		return;
	case TGT_ARTICLE:
		break;
	}
	if (ping_article(q, id, &art) != PING_OK) {
		wm_reply(q, 400, "The target does not take webmentions.");
		return;
	}
	if (!screen_take(q->s->lim_comment, q->r->ip, &retry)) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", retry);
		http_resp_header(q->r, q->w, "Retry-After", ra);
		wm_reply(q, 429, "Too many webmentions from your address; try "
		    "again later.");
		return;
	}
	json_t *j = json_pack("{s:s,s:s,s:s,s:I}", "source", source, "target",
	    target, "ip", q->r->ip ? q->r->ip : "", "article", (json_int_t)id);
	char *payload = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	enum store_err e = payload ? store_job_schedule(q->s->st, "webmention",
	    payload, q->r->now, wm_key(a, source, target), NULL) : STORE_ERROR;
	free(payload);
	if (e != STORE_OK) {
		wm_reply(q, 503, "Busy; please try again later.");
		return;
	}
	wm_reply(q, 202, "Accepted: the source will be checked for a link to "
	    "the target.");
}

/*
 * The job: the source now, against what is stored. Runs with the store
 * only (the job thread), so the settings and NG words are read from it.
 */
enum jobs_outcome
site_job_webmention(store *st, const char *payload, int64_t now, buf *err)
{
	json_error_t jerr;
	json_t *j = json_loads(payload ? payload : "", 0, &jerr);
	const char *source = NULL, *target = NULL, *ip = "";
	json_int_t article = 0;
	if (j == NULL || json_unpack(j, "{s:s,s:s,s?s,s:I}", "source", &source,
	    "target", &target, "ip", &ip, "article", &article) != 0 ||
	    article <= 0) {
		json_decref(j);
		buf_puts(err, "malformed webmention payload");
		return JOBS_FAIL;
	}
	enum jobs_outcome out = JOBS_OK;
	arena *a = arena_new(0);
	struct site_conf *c = conf_load(st);
	guard_ngwords *ng = *c->str[CONF_NGWORDS] ?
	    guard_ngwords_new(c->str[CONF_NGWORDS]) : NULL;
	struct store_comment old;
	enum store_err e = store_comment_ping_find(st, article, source, a, &old);
	bool have = e == STORE_OK;
	if (e != STORE_OK && e != STORE_NOTFOUND) {
		buf_puts(err, "database busy");
		out = JOBS_RETRY;
		goto done;
	}
	struct net_response r;
	const char *why;
	bool linked = false;
	switch (ping_get(c, source, a, &r, &why)) {
	case SRC_OK:
		linked = net_links_to(r.body, r.len, r.content_type, r.url, target);
		break;
	case SRC_GONE:
		break; /* deleted: the mention goes */
	case SRC_UPSTREAM:
		buf_puts(err, why);
		out = JOBS_RETRY;
		goto done;
	case SRC_TOO_BIG:
	case SRC_MISSING:
	case SRC__MAX:
	default:
		buf_puts(err, why);
		out = JOBS_FAIL;
		goto done;
	}
	if (!linked) {
		/* a mention a moderator spammed or trashed stays as it is */
		if (have && (old.status == CSTATUS_APPROVED ||
		    old.status == CSTATUS_PENDING) &&
		    store_comment_ping_delete(st, old.id) != STORE_OK) {
			buf_puts(err, "database busy");
			out = JOBS_RETRY;
		}
		goto done;
	}
	const char *stitle = "", *sexcerpt = "";
	net_source_summary(r.body, r.len, r.url, target, a, &stitle, &sexcerpt);
	struct ping_rec rec = {
		.article_id = article,
		.type = CTYPE_PINGBACK,
		.source = source,
		.name = ping_clip(a, stitle, PING_NAME_MAX, false),
		.text = ping_clip(a, sexcerpt, PING_TEXT_MAX, true),
		.ip = ip,
		.now = now,
	};
	if (*rec.name == '\0')
		rec.name = ping_host(a, source);
	enum store_cstatus status;
	if (have) {
		if (old.status != CSTATUS_APPROVED && old.status != CSTATUS_PENDING)
			goto done;
		const char *texts[] = {rec.name, rec.text, source};
		const char *reason;
		if (!screen_moderate(st, c, ng, ping_visitor(a, source), texts, 3,
		    &status, &reason))
			e = store_comment_ping_delete(st, old.id);
		else if ((e = store_comment_ping_update(st, old.id, rec.name,
		    rec.text)) == STORE_OK && status == CSTATUS_PENDING &&
		    strcmp(reason, "ngword") == 0)
			e = store_comment_set_status(st, old.id, CSTATUS_PENDING);
	} else {
		struct store_article art;
		if (store_article_get(st, article, now, a, &art) != STORE_OK ||
		    art.kind != KIND_POST || !art.comments_open) {
			buf_puts(err, "the target no longer takes webmentions");
			out = JOBS_FAIL;
			goto done;
		}
		switch (ping_store(st, c, ng, &rec, a, &status)) {
		case PV_STORED:
		case PV_DUPLICATE: /* a ping from elsewhere got there first */
		case PV_NG:
			e = STORE_OK;
			break;
		case PV_ERROR:
		default:
			e = STORE_ERROR;
			break;
		}
	}
	if (e != STORE_OK && e != STORE_NOTFOUND) {
		buf_puts(err, "database busy");
		out = JOBS_RETRY;
	}
done:
	guard_ngwords_free(ng);
	conf_free(c);
	arena_free(a);
	json_decref(j);
	return out;
}

/* ---- discovery on the article page ------------------------------------------------ */

void
site_ping_discovery(struct req *q, const struct store_article *art)
{
	arena *a = q->r->a;
	const char *pb = site_abs(q, "/xmlrpc");
	const char *wm = site_abs(q, "/webmention");
	http_resp_header(q->r, q->w, "X-Pingback", pb);
	http_resp_header(q->r, q->w, "Link", arena_printf(a,
	    "<%s>; rel=\"webmention\"", wm));
	tv *d = tv_get(q->root, "article");
	if (d == NULL)
		return;
	tv_set_str(a, d, "pingback_url", pb);
	tv_set_str(a, d, "webmention_url", wm);
	if (!art->comments_open)
		return;
	const char *path = arena_printf(a, "/articles/%lld", (long long)art->id);
	const char *tb = site_abs(q, arena_printf(a, "%s/trackback", path));
	tv_set_str(a, d, "trackback_url", tb);
	/* The RDF block TrackBack clients look for, inside an HTML comment:
	 * rendered by an XML template (every value escaped, '>' included,
	 * so nothing in it can end the comment), then wrapped. */
	tv *rdf = tv_dict(a);
	tv_set_str(a, rdf, "url", site_abs(q, path));
	tv_set_str(a, rdf, "title", art->title);
	tv_set_str(a, rdf, "ping", tb);
	buf b;
	buf_init(&b, 1 << 20);
	if (site_tmpl_render(q->s, "trackback_rdf", rdf, &b) && !b.err &&
	    strstr(buf_cstr(&b), "-->") == NULL &&
	    strstr(buf_cstr(&b), "--!>") == NULL)
		tv_set(d, "trackback_rdf", tv_html_trusted(a, arena_printf(a,
		    "<!--\n%s-->", buf_cstr(&b)), b.len + 8));
	buf_free(&b);
}
