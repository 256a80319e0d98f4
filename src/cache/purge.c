/*
 * The CDN purge hook: paths whose pages changed are queued and POSTed, in
 * batches, to the URL of the cache.purge_url setting as
 * {"paths": ["/articles/42", ...]} (the single path "/" + "*" when everything changed). A
 * background thread does the sending (libcurl), so no request waits on
 * the CDN; a failed POST is logged and dropped (entries at the CDN expire
 * after s-maxage anyway).
 */
#include "cache.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../obs/obs.h"
#include "../text/text.h"

#define PURGE_MAX_QUEUE 4096 /* past this, one purge-all replaces the list */
#define PURGE_BATCH 256

struct cache_purger {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *url;
	char **paths;
	size_t n;
	bool all;
	bool stop;
	uint64_t sent, failed;
};

/* Sends one batch; false on any failure (logged). */
static bool
purge_post(const char *url, char **paths, size_t n, bool all)
{
	json_t *arr = json_array();
	if (all)
		json_array_append_new(arr, json_string("/*"));
	for (size_t i = 0; !all && i < n; i++)
		json_array_append_new(arr, json_string(paths[i]));
	json_t *doc = json_pack("{s:o}", "paths", arr);
	char *body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (body == NULL)
		return false;
	CURL *h = curl_easy_init();
	bool ok = false;
	if (h) {
		struct curl_slist *hdr = curl_slist_append(NULL,
		    "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(h, CURLOPT_TIMEOUT, 5L);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_USERAGENT, "kiji-purge/1");
		CURLcode rc = curl_easy_perform(h);
		long status = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		ok = rc == CURLE_OK && status >= 200 && status < 300;
		if (!ok)
			obs_error("purge %s: %s (HTTP %ld)", url,
			    curl_easy_strerror(rc), status);
		curl_slist_free_all(hdr);
		curl_easy_cleanup(h);
	}
	free(body);
	return ok;
}

static void *
purge_main(void *arg)
{
	struct cache_purger *p = arg;
	pthread_setname_np(pthread_self(), "kiji-purge"); /* top -H, perf */
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->n == 0 && !p->all)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->n == 0 && !p->all && p->stop)
			break;
		/* Gather for a moment: changes come in bursts. */
		if (!p->stop) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&p->cv, &p->mu, &ts);
		}
		size_t n = p->n < PURGE_BATCH ? p->n : PURGE_BATCH;
		char **batch = xmalloc((n ? n : 1) * sizeof(*batch));
		memcpy(batch, p->paths, n * sizeof(*batch));
		memmove(p->paths, p->paths + n, (p->n - n) * sizeof(*batch));
		p->n -= n;
		bool all = p->all;
		p->all = false;
		char *url = p->url ? xstrdup(p->url) : NULL;
		pthread_mutex_unlock(&p->mu);
		bool ok = url == NULL || purge_post(url, batch, n, all);
		for (size_t i = 0; i < n; i++)
			free(batch[i]);
		free(batch);
		free(url);
		pthread_mutex_lock(&p->mu);
		if (ok)
			p->sent++;
		else
			p->failed++;
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void
purge_curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

cache_purger *
cache_purger_new(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, purge_curl_init);
	struct cache_purger *p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->paths = xmalloc(PURGE_MAX_QUEUE * sizeof(*p->paths));
	if (pthread_create(&p->th, NULL, purge_main, p) != 0) {
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
		free(p->paths);
		free(p);
		return NULL;
	}
	return p;
}

void
cache_purger_set_url(cache_purger *p, const char *url)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	free(p->url);
	p->url = url && *url ? xstrdup(url) : NULL;
	pthread_mutex_unlock(&p->mu);
}

/* True when a purge URL is set (callers skip queueing otherwise). */
static bool
purge_enabled(cache_purger *p)
{
	return p != NULL && p->url != NULL;
}

void
cache_purger_add(cache_purger *p, const char *path)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	if (purge_enabled(p) && !p->all) {
		if (p->n < PURGE_MAX_QUEUE)
			p->paths[p->n++] = xstrdup(path);
		else
			p->all = true; /* cheaper than thousands of paths */
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
}

void
cache_purger_all(cache_purger *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	if (purge_enabled(p)) {
		for (size_t i = 0; i < p->n; i++)
			free(p->paths[i]);
		p->n = 0;
		p->all = true;
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
}

void
cache_purger_stats(cache_purger *p, uint64_t *sent, uint64_t *failed)
{
	pthread_mutex_lock(&p->mu);
	*sent = p->sent;
	*failed = p->failed;
	pthread_mutex_unlock(&p->mu);
}

void
cache_purger_free(cache_purger *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->th, NULL);
	for (size_t i = 0; i < p->n; i++)
		free(p->paths[i]);
	free(p->paths);
	free(p->url);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}
