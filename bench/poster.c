/*
 * Paced comment poster for bench/breaking.sh: posts comments to one
 * article through the JSON API (POST /api/articles/<id>/comments) at a
 * fixed rate for a bounded time, as readers of a breaking story would.
 *
 *     poster --port P --article ID --rate N --seconds S [--token T]
 *            [--workers N] [--tag T]
 *
 * The posters of a breaking story are on other machines; here they share
 * two cores with the server and the readers' client, so what they cost
 * comes out of the figures. This is the same poster as the Python one it
 * replaces (same schedule, requests and output line) at a tenth of its
 * CPU: libcurl keep-alive handles (cookies kept per handle, as a browser
 * would), jansson for the JSON, kiji's buf for what it keeps.
 *
 * Pacing is a shared schedule (a token bucket refilled at --rate, burst
 * of one): post k is due at start + k/rate; a worker that is late sends
 * at once, and a post more than a second overdue is skipped and counted
 * as missed, so a slow server shows as a rate below target, never as a
 * burst afterwards. Several keep-alive connections (one per worker
 * thread) keep the rate when one answer takes longer than the interval.
 * Nothing is sent after --seconds; a request that hangs gives up after
 * 10 s.
 *
 * Prints one line on stdout:
 *     POSTER target=R seconds=S ok=N other=N errors=N missed=N rate=R
 *            p50_ms=X p99_ms=X workers=N codes=CODE:N,...
 * where ok counts 201 answers (comments accepted) and rate is ok/seconds.
 * 127.0.0.1 only.
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/text/text.h"

#define MAX_WORKERS 32
#define MAX_POSTS 6000000 /* rate 10,000 for 600 s */
#define MAX_STATUS 600  /* HTTP status codes are 100..599 */

struct sched {
	pthread_mutex_t mu;
	double start, end, interval;
	long k, missed;
	/* results, under mu */
	long ok, other, errors;
	double *lat; /* seconds, one per answer */
	size_t nlat, cap;
	long codes[MAX_STATUS]; /* answers other than 201, by status */
};

struct opts {
	int port;
	long article;
	double rate, seconds;
	const char *token, *tag;
	int workers;
	char url[128]; /* the article's comments in the JSON API */
};

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The next post's slot (its number, its due time); false when time is up. */
static bool
sched_take(struct sched *s, long *k, double *due)
{
	bool got = false;
	pthread_mutex_lock(&s->mu);
	double now = now_s();
	for (;;) {
		double d = s->start + (double)s->k * s->interval;
		if (d >= s->end)
			break;
		s->k++;
		if (now - d <= 1.0) {
			*k = s->k;
			*due = d;
			got = true;
			break;
		}
		s->missed++;
	}
	pthread_mutex_unlock(&s->mu);
	return got;
}

static void
sched_count(struct sched *s, long code, double lat)
{
	pthread_mutex_lock(&s->mu);
	if (code == 0) {
		s->errors++;
	} else {
		if (s->nlat < s->cap)
			s->lat[s->nlat++] = lat;
		if (code == 201) {
			s->ok++;
		} else {
			s->other++;
			s->codes[code > 0 && code < MAX_STATUS ? code : 0]++;
		}
	}
	pthread_mutex_unlock(&s->mu);
}

/* Answers are read and dropped (the poster needs the status only). */
static size_t
sink(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

/* Into a buf (kiji's, bounded: a token answer is small). */
static size_t
keep(char *p, size_t size, size_t n, void *ud)
{
	return buf_put(ud, p, size * n) ? size * n : 0;
}

/* A handle on the article's comments with the request headers hd. */
static CURL *
easy_new(const struct opts *o, struct curl_slist *hd)
{
	CURL *h = curl_easy_init();
	if (h == NULL)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, o->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	return h;
}

/* The article's comment form token, from GET /api/articles/<id>/comments. */
static char *
fetch_token(const struct opts *o)
{
	struct curl_slist *hd = curl_slist_append(NULL, "Accept: application/json");
	CURL *h = easy_new(o, hd);
	if (h == NULL) {
		curl_slist_free_all(hd);
		return NULL;
	}
	buf g;
	buf_init(&g, 1 << 20);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &g);
	long code = 0;
	char *token = NULL;
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (code == 200) {
		json_t *j = json_loads(buf_cstr(&g), 0, NULL);
		const char *t = json_string_value(json_object_get(j, "token"));
		if (t != NULL)
			token = strdup(t);
		json_decref(j);
	}
	if (token == NULL)
		fprintf(stderr, "poster: GET token: HTTP %ld\n", code);
	buf_free(&g);
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
	return token;
}

struct worker {
	const struct opts *o;
	struct sched *s;
	pthread_t th;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	const struct opts *o = w->o;
	struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
	hd = curl_slist_append(hd, "Accept: application/json");
	CURL *h = easy_new(o, hd);
	if (h == NULL) {
		curl_slist_free_all(hd);
		return NULL;
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_COOKIEFILE, ""); /* keep what it is given */
	long k;
	double due;
	while (sched_take(w->s, &k, &due)) {
		double wait = due - now_s();
		if (wait > 0)
			sleep_s(wait);
		char nick[32], text[256];
		snprintf(nick, sizeof(nick), "速報読者%ld", k % 97);
		snprintf(text, sizeof(text),
		    "%s コメント%ld: 続報を待っています。現地の状況はどうなっているのか。",
		    o->tag, k);
		json_t *j = json_pack("{s:s, s:s, s:s, s:i}", "nickname", nick,
		    "body", text, "token", o->token, "parent", 0);
		char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		if (body == NULL) {
			sched_count(w->s, 0, 0);
			continue;
		}
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		double t0 = now_s();
		long code = 0;
		if (curl_easy_perform(h) == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		sched_count(w->s, code, now_s() - t0);
		free(body);
	}
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double
pct(const double *lat, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t i = (size_t)(p * (double)n);
	return lat[i < n ? i : n - 1] * 1000;
}

static int
usage(void)
{
	fprintf(stderr, "usage: poster --port P --article ID --rate N --seconds S "
	    "[--token T] [--workers N] [--tag T]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct opts o = {.tag = "bench"};
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL)
			return usage();
		if (strcmp(a, "--port") == 0)
			o.port = atoi(v);
		else if (strcmp(a, "--article") == 0)
			o.article = atol(v);
		else if (strcmp(a, "--rate") == 0)
			o.rate = atof(v);
		else if (strcmp(a, "--seconds") == 0)
			o.seconds = atof(v);
		else if (strcmp(a, "--token") == 0)
			o.token = v;
		else if (strcmp(a, "--workers") == 0)
			o.workers = atoi(v);
		else if (strcmp(a, "--tag") == 0)
			o.tag = v;
		else
			return usage();
	}
	if (o.port <= 0 || o.port > 65535 || o.article <= 0)
		return usage();
	if (!(o.rate > 0 && o.rate <= 10000 && o.seconds > 0 && o.seconds <= 600)) {
		fprintf(stderr, "poster: --rate in (0, 10000], --seconds in (0, 600]\n");
		return 2;
	}
	if (strlen(o.tag) > 64) {
		fprintf(stderr, "poster: --tag is at most 64 bytes\n");
		return 2;
	}
	snprintf(o.url, sizeof(o.url), "http://127.0.0.1:%d/api/articles/%ld/comments",
	    o.port, o.article);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	char *token = NULL;
	if (o.token == NULL || *o.token == '\0') {
		if ((token = fetch_token(&o)) == NULL)
			return 1;
		o.token = token;
	}
	/* One connection per ~8 posts/s: enough that answers of up to
	 * ~100 ms keep the rate. */
	int n = o.workers > 0 ? o.workers : (int)(o.rate / 8) + 1;
	n = n < 2 ? 2 : n > MAX_WORKERS ? MAX_WORKERS : n;
	struct sched s = {.interval = 1.0 / o.rate};
	pthread_mutex_init(&s.mu, NULL);
	s.cap = (size_t)(o.rate * o.seconds) + 2;
	s.cap = s.cap < MAX_POSTS ? s.cap : MAX_POSTS;
	s.lat = calloc(s.cap, sizeof(double));
	if (s.lat == NULL)
		return 1;
	s.start = now_s();
	s.end = s.start + o.seconds;
	struct worker ws[MAX_WORKERS];
	int started = 0;
	for (int i = 0; i < n; i++) {
		ws[i] = (struct worker){.o = &o, .s = &s};
		if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]) == 0)
			started++;
		else
			break;
	}
	for (int i = 0; i < started; i++)
		pthread_join(ws[i].th, NULL);
	double secs = now_s() - s.start;
	qsort(s.lat, s.nlat, sizeof(double), cmp_double);
	buf codes;
	buf_init(&codes, 0);
	for (int c = 0; c < MAX_STATUS; c++)
		if (s.codes[c] != 0)
			buf_printf(&codes, "%s%d:%ld", codes.len ? "," : "", c,
			    s.codes[c]);
	printf("POSTER target=%g seconds=%.2f ok=%ld other=%ld errors=%ld missed=%ld "
	    "rate=%.1f p50_ms=%.1f p99_ms=%.1f workers=%d codes=%s\n",
	    o.rate, secs, s.ok, s.other, s.errors, s.missed,
	    (double)s.ok / (secs > 1e-9 ? secs : 1e-9), pct(s.lat, s.nlat, 0.5),
	    pct(s.lat, s.nlat, 0.99), started, codes.len ? buf_cstr(&codes) : "-");
	buf_free(&codes);
	free(s.lat);
	free(token);
	curl_global_cleanup();
	return started == n ? 0 : 1;
}
