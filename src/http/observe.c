/*
 * What the server tells its operator about requests: a count per route
 * and status, a latency histogram per route (the route's pattern is the
 * label, so a million article ids make one series, not a million), open
 * connections and streams for /metrics, and the access log line of every
 * answer (src/obs/ formats and writes it). Called by the event loop once
 * per answer, on the answering thread: relaxed atomic adds and, when the
 * log takes this request, one line formatted into a thread buffer.
 */
#include "http_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The statuses counted under their own label; anything else is "other". */
static const short http_obs_codes[] = {200, 201, 202, 204, 206, 301, 302,
    303, 304, 307, 308, 400, 401, 403, 404, 405, 406, 408, 409, 410, 411,
    412, 413, 414, 415, 416, 417, 421, 422, 429, 431, 500, 501, 502, 503,
    504, 505};
#define HTTP_OBS_NCODES (sizeof(http_obs_codes) / sizeof(http_obs_codes[0]))
#define HTTP_OBS_SLOTS (HTTP_OBS_NCODES + 1) /* + other */

struct http_obs {
	http_server *s;
	size_t nroutes;       /* the table's; index nroutes: no route */
	obs_counter *count;   /* [(nroutes + 1) * HTTP_OBS_SLOTS] */
	struct obs_hist *dur; /* [nroutes + 1], microseconds */
};

static unsigned char http_obs_slot_of[600];
static pthread_once_t http_obs_once = PTHREAD_ONCE_INIT;

static void
http_obs_slots_init(void)
{
	memset(http_obs_slot_of, HTTP_OBS_NCODES, sizeof(http_obs_slot_of));
	for (size_t i = 0; i < HTTP_OBS_NCODES; i++)
		http_obs_slot_of[http_obs_codes[i]] = (unsigned char)i;
}

int64_t
http_obs_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const char *
http_obs_method(enum http_method m)
{
	return m == HTTP_GET ? "GET" : m == HTTP_HEAD ? "HEAD" :
	    m == HTTP_POST ? "POST" : "OTHER";
}

/* Route i's labels (method, route) into out. */
static void
http_obs_labels(const struct http_obs *ob, size_t i, buf *out)
{
	buf_reset(out);
	if (i < ob->nroutes) {
		obs_prom_label(out, "method",
		    http_obs_method(ob->s->cfg.routes[i].method));
		obs_prom_label(out, "route", ob->s->cfg.routes[i].pattern);
	} else {
		obs_prom_label(out, "method", "any");
		obs_prom_label(out, "route", "unmatched");
	}
}

/* The server's part of /metrics. */
static void
http_obs_collect(void *ctx, buf *out)
{
	struct http_obs *ob = ctx;
	buf lb, l2;
	buf_init(&lb, 4096);
	buf_init(&l2, 4096);

	obs_prom_family(out, "kiji_http_requests_total", "counter",
	    "Requests answered, by route (its pattern) and status.");
	for (size_t i = 0; i <= ob->nroutes; i++) {
		for (size_t k = 0; k < HTTP_OBS_SLOTS; k++) {
			uint64_t v = obs_get(&ob->count[i * HTTP_OBS_SLOTS + k]);
			if (v == 0)
				continue;
			http_obs_labels(ob, i, &lb);
			char st[8];
			if (k < HTTP_OBS_NCODES)
				snprintf(st, sizeof(st), "%d", http_obs_codes[k]);
			else
				strcpy(st, "other");
			obs_prom_label(&lb, "status", st);
			obs_prom_u64(out, "kiji_http_requests_total",
			    buf_cstr(&lb), v);
		}
	}
	obs_prom_family(out, "kiji_http_request_duration_seconds", "histogram",
	    "Time from a request's head read to its answer queued, by route.");
	for (size_t i = 0; i <= ob->nroutes; i++) {
		struct obs_hist *h = &ob->dur[i];
		uint64_t n = 0;
		for (size_t k = 0; k <= h->n; k++)
			n += atomic_load_explicit(&h->bucket[k],
			    memory_order_relaxed);
		if (n == 0)
			continue;
		http_obs_labels(ob, i, &l2);
		obs_prom_hist(out, "kiji_http_request_duration_seconds",
		    buf_cstr(&l2), h);
	}
	obs_prom_family(out, "kiji_http_connections_open", "gauge",
	    "Client connections open now.");
	obs_prom_u64(out, "kiji_http_connections_open", NULL,
	    atomic_load(&ob->s->nconns));
	obs_prom_family(out, "kiji_http_loop_connections", "gauge",
	    "Client connections each event loop serves now (a new one goes "
	    "to the loop with the fewest).");
	for (unsigned i = 0; i < ob->s->nworkers; i++) {
		char lab[32];
		snprintf(lab, sizeof(lab), "loop=\"%u\"", i);
		obs_prom_u64(out, "kiji_http_loop_connections", lab,
		    http_loop_conns(ob->s, i));
	}
	obs_prom_family(out, "kiji_http_connections_max", "gauge",
	    "The connection budget (http.max_connections, capped by the "
	    "open-file limit).");
	obs_prom_u64(out, "kiji_http_connections_max", NULL, ob->s->max_conns);
	obs_prom_family(out, "kiji_http_streams_open", "gauge",
	    "Server-sent event streams open now.");
	obs_prom_u64(out, "kiji_http_streams_open", NULL,
	    atomic_load(&ob->s->nstreams));
	buf_free(&lb);
	buf_free(&l2);
}

void
http_obs_start(http_server *s)
{
	if (s->cfg.unobserved)
		return;
	pthread_once(&http_obs_once, http_obs_slots_init);
	struct http_obs *ob = xcalloc(1, sizeof(*ob));
	ob->s = s;
	ob->nroutes = s->cfg.routes != NULL ? s->cfg.nroutes : 0;
	ob->count = xcalloc((ob->nroutes + 1) * HTTP_OBS_SLOTS,
	    sizeof(*ob->count));
	ob->dur = xcalloc(ob->nroutes + 1, sizeof(*ob->dur));
	for (size_t i = 0; i <= ob->nroutes; i++)
		obs_hist_init(&ob->dur[i], obs_le_latency_us, obs_le_latency_n,
		    1e6);
	s->obs = ob;
	obs_metrics_add(http_obs_collect, ob);
}

void
http_obs_stop(http_server *s)
{
	struct http_obs *ob = s->obs;
	if (ob == NULL)
		return;
	obs_metrics_remove(http_obs_collect, ob);
	free(ob->count);
	free(ob->dur);
	free(ob);
	s->obs = NULL;
}

void
http_obs_answer(http_server *s, struct http_rq *q, const struct http_out *o,
    const struct http_ip *peer)
{
	struct http_obs *ob = s->obs;
	if (ob == NULL)
		return;
	int64_t now = http_obs_now_ns();
	uint64_t dur = q->t0_ns > 0 && now > q->t0_ns ?
	    (uint64_t)(now - q->t0_ns) / 1000 : 0;
	const struct http_route *rt = q->req.route;
	size_t ri = ob->nroutes;
	if (rt != NULL && rt >= s->cfg.routes &&
	    rt < s->cfg.routes + ob->nroutes)
		ri = (size_t)(rt - s->cfg.routes);
	int st = o->status;
	size_t slot = st >= 0 && st < 600 ? http_obs_slot_of[st] :
	    HTTP_OBS_NCODES;
	obs_add(&ob->count[ri * HTTP_OBS_SLOTS + slot], 1);
	obs_hist_observe(&ob->dur[ri], dur);

	if (!obs_access_want())
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct http_req *r = &q->req;
	const char *ip = r->ip;
	if (q->target == NULL && peer != NULL)
		ip = http_ip_str(q->a, peer); /* refused before a head */
	const char *path = NULL, *query = "";
	if (q->target != NULL) {
		size_t pn = strcspn(q->target, "?");
		path = arena_strndup(q->a, q->target, pn);
		query = q->target[pn] ? q->target + pn + 1 : "";
	}
	/* decoded, as the router saw it: "/%61dmin" is the editor area too */
	bool priv = strncmp(r->path, "/admin", 6) == 0 &&
	    (r->path[6] == '\0' || r->path[6] == '/');
	struct obs_access_rec rec = {
		.time_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000,
		.ip = ip,
		.method = q->method_str,
		.path = path,
		.query = query,
		.private_query = priv,
		.minor = q->target != NULL ? r->minor : -1,
		.status = st,
		.bytes = o->body_len,
		.dur_us = dur,
		.cache = q->resp.cache,
		.referer = q->target ? http_req_header(r, "Referer") : NULL,
		.ua = q->target ? http_req_header(r, "User-Agent") : NULL,
	};
	obs_access_log(&rec);
}

void
http_obs_flush(void)
{
	obs_access_flush();
}
