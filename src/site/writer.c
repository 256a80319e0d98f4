/*
 * Group commit for comment posts and likes. Every posting connection is suspended
 * (http_defer) and its comment queued; one writer thread takes whatever
 * has queued up, writes it in one transaction (a savepoint each, so one
 * bad comment does not sink the rest) and commits once: one fsync for the
 * whole batch, so durable throughput grows with concurrency instead of
 * being one fsync per comment. Only then are the connections resumed and
 * answered, so a 303/201 still means "on disk".
 */
#include "site_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define WRITER_BATCH 512 /* at most this many comments per transaction */

/* Batch sizes counted in powers of two up to WRITER_BATCH. */
static const uint64_t writer_le_batch[] = {1, 2, 4, 8, 16, 32, 64, 128,
    256, 512};
/* Commit (fsync) latencies, microseconds: 0.1 ms .. 5 s. */
static const uint64_t writer_le_commit[] = {100, 250, 500, 1000, 2500, 5000,
    10000, 25000, 50000, 100000, 250000, 1000000, 5000000};

struct writer {
	store *st;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct post *head, *tail;
	bool stopping; /* no new jobs; drain and exit */
	bool running;
	uint64_t posts, batches; /* for the log line at stop */
	struct obs_hist batch_size; /* posts per commit */
	struct obs_hist commit_us;  /* COMMIT, the fsync with it */
	obs_counter commit_failed;
};

void
writer_apply(store *st, struct post *p)
{
	switch (p->kind) {
	case POST_LIKE:
		p->err = store_like(st, p->cm.id, p->visitor, &p->count);
		break;
	case POST_UNLIKE:
		p->err = store_unlike(st, p->cm.id, p->visitor, &p->count);
		break;
	case POST_COMMENT:
	case POST__MAX:
		p->err = store_comment_add(st, &p->cm);
		/* its mails are queued in the same commit (mail.c) */
		if (p->err == STORE_OK)
			site_mail_after_post(p);
		break;
	}
}

/* Writes one batch and resumes its connections. */
static void
writer_batch(struct writer *w, struct post *batch)
{
	bool tx = store_begin(w->st) == STORE_OK;
	enum store_err e = STORE_OK;
	uint64_t n = 0;
	for (struct post *p = batch; p; p = p->next, n++)
		writer_apply(w->st, p);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (tx)
		e = store_commit(w->st);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	obs_hist_observe(&w->batch_size, n);
	if (tx)
		obs_hist_observe(&w->commit_us, (uint64_t)((t1.tv_sec -
		    t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000));
	if (tx && e != STORE_OK) {
		obs_add(&w->commit_failed, 1);
		store_rollback(w->st);
		/* nothing of it reached the disk: say why (disk full...) */
		for (struct post *p = batch; p; p = p->next)
			p->err = e;
	}
	/* One sync for the batch, here, rather than one a post on the
	 * connections' threads (a data_version and a change log read each):
	 * the pages its posts change are stale before any of them is
	 * answered, so the next request shows them. */
	if (tx && e == STORE_OK) {
		site_sync(batch->q.s, SYNC_FORCE);
		for (struct post *p = batch; p; p = p->next)
			p->synced = true;
	}
	/* Resuming hands the post back to its connection's thread: read
	 * next before, the post may be gone after. */
	for (struct post *p = batch, *next; p; p = next) {
		next = p->next;
		http_resume(p->deferred);
	}
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	pthread_setname_np(pthread_self(), "kiji-writer"); /* top -H, perf */
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->head == NULL && !w->stopping)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->head == NULL && w->stopping)
			break;
		/* Take up to WRITER_BATCH queued posts. */
		struct post *batch = w->head, *last = batch;
		size_t n = 1;
		while (last->next && n < WRITER_BATCH) {
			last = last->next;
			n++;
		}
		w->head = last->next;
		if (w->head == NULL)
			w->tail = NULL;
		last->next = NULL;
		w->posts += n;
		w->batches++;
		pthread_mutex_unlock(&w->mu);
		writer_batch(w, batch);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct writer *
writer_new(store *st)
{
	struct writer *w = xcalloc(1, sizeof(*w));
	w->st = st;
	obs_hist_init(&w->batch_size, writer_le_batch,
	    sizeof(writer_le_batch) / sizeof(writer_le_batch[0]), 1);
	obs_hist_init(&w->commit_us, writer_le_commit,
	    sizeof(writer_le_commit) / sizeof(writer_le_commit[0]), 1e6);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->th, NULL, writer_main, w) != 0) {
		obs_warn("no writer thread; comments commit one by one");
		w->stopping = true;
	} else {
		w->running = true;
	}
	return w;
}

/*
 * Queues a validated post and suspends its connection; post_finish runs
 * on the connection's thread once the batch is on disk. false when the
 * writer is stopping or the request cannot be suspended: the caller then
 * stores it itself.
 */
bool
writer_submit(struct writer *w, struct post *p, void (*finish)(void *))
{
	pthread_mutex_lock(&w->mu);
	bool ok = !w->stopping;
	if (ok) {
		p->deferred = http_defer(p->q.r, finish, p);
		ok = p->deferred != NULL;
	}
	if (ok) {
		p->next = NULL;
		if (w->tail)
			w->tail->next = p;
		else
			w->head = p;
		w->tail = p;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return ok;
}

/* Stops taking posts, writes and answers what is queued, joins the
 * thread. Must run before the HTTP server stops (it refuses to stop with
 * suspended connections). */
void
writer_stop(struct writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->running) {
		pthread_join(w->th, NULL);
		w->running = false;
		if (w->batches)
			obs_info("writer: %llu comments and likes in %llu commits",
			    (unsigned long long)w->posts,
			    (unsigned long long)w->batches);
	}
}

void
writer_free(struct writer *w)
{
	if (w == NULL)
		return;
	writer_stop(w);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}

/* The group commit's part of /metrics. */
void
writer_metrics(struct writer *w, buf *out)
{
	obs_prom_family(out, "kiji_commit_batch_size", "histogram",
	    "Comments and likes written per group commit.");
	obs_prom_hist(out, "kiji_commit_batch_size", NULL, &w->batch_size);
	obs_prom_family(out, "kiji_commit_fsync_seconds", "histogram",
	    "Time a group commit took to COMMIT (the fsync of the WAL).");
	obs_prom_hist(out, "kiji_commit_fsync_seconds", NULL, &w->commit_us);
	obs_prom_family(out, "kiji_commit_failures_total", "counter",
	    "Group commits that failed (disk full, read-only, I/O error).");
	obs_prom_u64(out, "kiji_commit_failures_total", NULL,
	    obs_get(&w->commit_failed));
}
