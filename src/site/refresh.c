/*
 * Background refreshes of pages that keep changing. When a comment
 * arrives every few ms on a 2,000-comment article, its page falls due
 * for a refresh every few tens of ms (cache.c's coalescing hold), and
 * the reader that claimed it rendered it (~2.5 ms) and gzip'd it
 * (~7 ms) on its event loop, holding up that loop's other readers for
 * the whole time. Such a refresh is handed here instead (cache_get's
 * bg): the claiming reader gets the previous bytes like the others, and
 * one thread renders the page as an anonymous GET of its cache key and
 * puts it. A reader whose own write the page lacks still renders at
 * once (min_seq), and a page quiet for longer than the stale window, or
 * read by few (cache.c's BG_READS), is refreshed by its next reader, as
 * before.
 *
 * The queue is small and each key is in it once: a full queue (the
 * thread is behind) hands the refresh back to the reader, so the stale
 * window never grows past its bound.
 */
#include "site_int.h"

#include <stdlib.h>
#include <string.h>

#define REFRESH_QUEUE 32
#define REFRESH_KEY_MAX 2048 /* longer keys are refreshed by their reader */

struct refresher {
	site *s;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *keys[REFRESH_QUEUE]; /* FIFO, head first */
	size_t n;
	bool stopping, running;
	obs_counter done, refused;
};

/* One refresh: the key is a path and, maybe, "?" and its canonical query
 * (site_cache_key); it is rendered as that GET with no cookies, which is
 * what a cached page is. */
static void
refresh_one(site *s, const char *key, arena *a)
{
	const char *qm = strchr(key, '?');
	const char *path = qm ? arena_strndup(a, key, (size_t)(qm - key)) : key;
	struct http_req r;
	if (!site_internal_get(s, &r, path, qm ? qm + 1 : NULL, text_now(), a))
		return;
	struct http_resp w = {0};
	buf_init(&w.body, 0);
	site_handle_refresh(s, &r, &w);
	if (w.shared != NULL && w.shared_done != NULL)
		w.shared_done(w.shared_ctx);
	buf_free(&w.body);
}

static void *
refresh_main(void *arg)
{
	struct refresher *f = arg;
	arena *a = arena_new(16384);
	pthread_setname_np(pthread_self(), "kiji-refresh"); /* top -H, perf */
	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (f->n == 0 && !f->stopping)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->stopping)
			break;
		char *key = f->keys[0];
		memmove(f->keys, f->keys + 1, --f->n * sizeof(f->keys[0]));
		pthread_mutex_unlock(&f->mu);
		refresh_one(f->s, key, a);
		obs_add(&f->done, 1);
		free(key);
		arena_reset(a);
		pthread_mutex_lock(&f->mu);
	}
	pthread_mutex_unlock(&f->mu);
	arena_free(a);
	return NULL;
}

struct refresher *
refresher_new(site *s)
{
	struct refresher *f = xcalloc(1, sizeof(*f));
	f->s = s;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	if (pthread_create(&f->th, NULL, refresh_main, f) != 0) {
		obs_warn("no refresh thread; readers refresh pages themselves");
		f->stopping = true;
	} else {
		f->running = true;
	}
	return f;
}

bool
refresher_submit(struct refresher *f, const char *key)
{
	if (f == NULL || strlen(key) > REFRESH_KEY_MAX)
		return false;
	pthread_mutex_lock(&f->mu);
	bool queued = false;
	for (size_t i = 0; i < f->n && !queued; i++)
		queued = strcmp(f->keys[i], key) == 0; /* its render is to come */
	bool ok = !f->stopping && (queued || f->n < REFRESH_QUEUE);
	if (ok && !queued) {
		f->keys[f->n++] = xstrdup(key);
		pthread_cond_signal(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
	if (!ok)
		obs_add(&f->refused, 1);
	return ok;
}

void
refresher_free(struct refresher *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	f->stopping = true;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	if (f->running)
		pthread_join(f->th, NULL);
	for (size_t i = 0; i < f->n; i++)
		free(f->keys[i]);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
}

void
refresher_counts(struct refresher *f, uint64_t *done, uint64_t *back)
{
	*done = f ? obs_get(&f->done) : 0;
	*back = f ? obs_get(&f->refused) : 0;
}
