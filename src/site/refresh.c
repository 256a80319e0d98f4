/*
 * Background refresh of hot pages. When a protected page's refresh is
 * claimed (cache_get_bg), the reader who claimed it gets the previous
 * bytes like everyone else and the page's key comes here: one thread,
 * started on first use and run at a lower priority than the workers,
 * renders it as an anonymous GET through the site's own handler with the
 * cache lookup skipped (site_handle_fresh), which puts the new copy. So a
 * page that keeps changing (a breaking story taking comments) is rendered
 * beside the readers, not in front of some of them. The queue is small
 * and a full one drops the key: its claim then lapses after
 * CACHE_STALE_MS and a later reader claims it again.
 */
#include "site_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define REFRESH_QUEUE 64

struct site_refresher {
	site *s;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *keys[REFRESH_QUEUE];
	size_t head, n;
	bool started, stop;
};

site_refresher *
site_refresher_new(site *s)
{
	site_refresher *f = xcalloc(1, sizeof(*f));
	f->s = s;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	return f;
}

/* Renders key (a path, with the query the cache key keeps) afresh. */
static void
refresh_one(site *s, const char *key)
{
	arena *a = arena_new(0);
	const char *q = strchr(key, '?');
	const char *path = q ? arena_strndup(a, key, (size_t)(q - key)) : key;
	struct http_req r;
	if (site_internal_get(s, &r, path, q ? q + 1 : "", time(NULL), a)) {
		struct http_resp w = {0};
		buf_init(&w.body, 0);
		site_handle_fresh(s, &r, &w);
		if (w.shared != NULL && w.shared_done != NULL)
			w.shared_done(w.shared_ctx);
		buf_free(&w.body);
	}
	arena_free(a);
}

static void *
refresher_main(void *arg)
{
	site_refresher *f = arg;
	/* Readers first: the workers preempt this thread (Linux nice is per
	 * thread). Refused (a sandbox) only means equal priority. */
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (f->n == 0 && !f->stop)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->stop)
			break;
		char *key = f->keys[f->head];
		f->head = (f->head + 1) % REFRESH_QUEUE;
		f->n--;
		pthread_mutex_unlock(&f->mu);
		refresh_one(f->s, key);
		free(key);
		pthread_mutex_lock(&f->mu);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

bool
site_refresh_enqueue(site_refresher *f, const char *key)
{
	bool ok = false;
	pthread_mutex_lock(&f->mu);
	if (!f->stop && !f->started) {
		f->started = pthread_create(&f->th, NULL, refresher_main, f) == 0;
		if (!f->started)
			f->stop = true; /* no thread: readers render as before */
	}
	if (!f->stop && f->n < REFRESH_QUEUE) {
		f->keys[(f->head + f->n) % REFRESH_QUEUE] = xstrdup(key);
		f->n++;
		ok = true;
		pthread_cond_signal(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
	return ok;
}

/* Stops the thread (after the render in hand); what is queued is dropped. */
void
site_refresher_stop(site_refresher *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	bool join = f->started;
	f->stop = true;
	f->started = false;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	if (join)
		pthread_join(f->th, NULL);
}

void
site_refresher_free(site_refresher *f)
{
	if (f == NULL)
		return;
	site_refresher_stop(f);
	for (size_t i = 0; i < f->n; i++)
		free(f->keys[(f->head + i) % REFRESH_QUEUE]);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
}
