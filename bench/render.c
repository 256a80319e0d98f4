/*
 * bench/render: how long one article page takes to build from the store,
 * in process and without an HTTP server: site_handle() on a synthesised
 * GET request (conn = NULL, no headers, no cookies), timed call by call
 * with CLOCK_MONOTONIC. This is the cost of a page-cache miss (store reads,
 * view model, template); bench/run.sh turns the page cache off in the
 * database it passes, and this program reports whether any answer still
 * came from a cache (X-Cache: hit, or a shared prebuilt response).
 *
 * usage: render DB ARTICLE_ID [MAX_RUNS [MAX_SECONDS]]
 * prints one line:
 *   render id=ID runs=N median_us=.. p10_us=.. p90_us=.. min_us=..
 *   max_us=.. bytes=.. cache=miss|hit|none
 * cache=none: no X-Cache header was seen (no page cache in this build).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "src/http/http.h"
#include "src/site/site.h"
#include "src/store/store.h"
#include "src/text/text.h"

#define WARMUP 5
#define MIN_RUNS 30

static double
now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The value of an X-Cache header in w, or NULL. */
static const char *
x_cache(const struct http_resp *w)
{
	for (size_t i = 0; i < w->nheaders; i++)
		if (strncasecmp(w->headers[i], "X-Cache:", 8) == 0)
			return w->headers[i] + 8 + strspn(w->headers[i] + 8, " \t");
	return NULL;
}

int
main(int argc, char **argv)
{
	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: render DB ARTICLE_ID [MAX_RUNS [MAX_SECONDS]]\n");
		return 2;
	}
	const char *db = argv[1];
	long long id = strtoll(argv[2], NULL, 10);
	long max_runs = argc > 3 ? strtol(argv[3], NULL, 10) : 2000;
	double max_s = argc > 4 ? strtod(argv[4], NULL) : 5.0;
	if (id <= 0 || max_runs < MIN_RUNS || max_s <= 0) {
		fprintf(stderr, "render: bad arguments\n");
		return 2;
	}

	buf err;
	buf_init(&err, 4096);
	store *st = store_open(db, &err);
	if (st == NULL) {
		fprintf(stderr, "render: %s: %s\n", db, buf_cstr(&err));
		return 1;
	}
	site *s = site_new(st, NULL, &err);
	if (s == NULL) {
		fprintf(stderr, "render: site: %s\n", buf_cstr(&err));
		store_close(st);
		return 1;
	}

	struct http_config cfg = {0};
	site_http_config(s, &cfg);
	char path[64];
	snprintf(path, sizeof(path), "/articles/%lld", id);
	double *t = calloc((size_t)max_runs, sizeof(*t));
	if (t == NULL)
		return 1;
	arena *a = arena_new(0);
	size_t bytes = 0;
	bool hit = false, saw_header = false;
	long n = 0;
	double start = now_us();
	for (long i = 0; i < max_runs + WARMUP; i++) {
		struct http_req r = {
			.method = HTTP_GET,
			.path = path,
			.query = "",
			.body = "",
			.content_type = "",
			.ip = "127.0.0.1",
			.peer_ip = "127.0.0.1",
			.now = (int64_t)time(NULL),
			.a = a,
			.conn = NULL,
		};
		/* The HTTP core matches the route before a handler runs. */
		r.route = http_route(cfg.routes, cfg.nroutes, r.method, r.path, a,
		    &r.match);
		struct http_resp w = {0};
		buf_init(&w.body, 0);
		double t0 = now_us();
		site_handle(s, &r, &w);
		double t1 = now_us();
		int status = w.status ? w.status : 200;
		if (status != 200) {
			fprintf(stderr, "render: %s answered %d\n", path, status);
			return 1;
		}
		const char *xc = x_cache(&w);
		if (xc != NULL) {
			saw_header = true;
			if (strncasecmp(xc, "hit", 3) == 0)
				hit = true;
		}
		if (w.shared != NULL) {
			hit = true;
			if (w.shared_done != NULL)
				w.shared_done(w.shared_ctx);
		}
		if (w.body.len > 0)
			bytes = w.body.len;
		buf_free(&w.body);
		arena_reset(a);
		if (i >= WARMUP)
			t[n++] = t1 - t0;
		if (n >= MIN_RUNS && (t1 - start) / 1e6 > max_s)
			break;
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	printf("render id=%lld runs=%ld median_us=%.1f p10_us=%.1f p90_us=%.1f "
	    "min_us=%.1f max_us=%.1f bytes=%zu cache=%s\n",
	    id, n, t[n / 2], t[n / 10], t[n * 9 / 10], t[0], t[n - 1], bytes,
	    hit ? "hit" : saw_header ? "miss" : "none");
	free(t);
	arena_free(a);
	site_free(s);
	store_close(st);
	buf_free(&err);
	return 0;
}
