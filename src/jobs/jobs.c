/*
 * The job runner: a thread that claims due jobs (store_job_claim, a lease
 * in one write transaction), runs them through the kind table and records
 * the outcome. It sleeps on a condition variable between looks: a job
 * added by this process wakes it at once (store_job_hook), otherwise it
 * looks again within a second, which also notices jobs other processes
 * add and scheduled times that pass.
 */
#include "jobs.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../content/content.h"
#include "../obs/obs.h"

#define JOBS_LEASE 300        /* s: far longer than any job takes */
#define JOBS_MAX_ATTEMPTS 8   /* 30 s, 1, 2, 4, 8, 16, 32 min: about 1 h */
#define JOBS_BACKOFF_BASE 30  /* s */
#define JOBS_BACKOFF_MAX 3600 /* s */
#define JOBS_POLL_MS 1000     /* look at least once a second */
#define JOBS_BATCH 64         /* jobs run per wake-up before looking at
                               * the stop flag and the clock again */
#define JOBS_PAYLOAD_MAX 4096 /* bytes of payload a handler parses */
#define JOBS_ERR_MAX 1024     /* bytes of last_error */

/* What became of the jobs this process ran (done, retried, given up), for
 * /metrics: counted here, as jobs_run_one runs without a runner too. */
enum jobs_end { JOBS_END_DONE, JOBS_END_RETRY, JOBS_END_FAILED, JOBS_END__MAX };
static obs_counter jobs_ends[JOBS_END__MAX];
static const char *const jobs_end_names[JOBS_END__MAX] = {"done", "retry",
    "failed"};

/* ---- kinds ------------------------------------------------------------------- */

/* The article id of a publish payload {"article":ID}; 0 when malformed. */
static int64_t
jobs_payload_article(const char *payload)
{
	size_t n = strnlen(payload, JOBS_PAYLOAD_MAX + 1);
	int64_t id = 0;
	if (n > JOBS_PAYLOAD_MAX)
		return 0;
	json_t *root = json_loadb(payload, n, JSON_REJECT_DUPLICATES, NULL);
	json_t *v = json_object_get(root, "article");
	if (json_is_integer(v) && json_integer_value(v) > 0)
		id = (int64_t)json_integer_value(v);
	json_decref(root);
	return id;
}

/* "publish": a scheduled article whose time has come goes live.
 * content_publish_due is a no-op for an article already published, so a
 * second run (after a crash) changes nothing. */
enum jobs_outcome
jobs_publish(store *st, const char *payload, int64_t now, buf *err)
{
	int64_t id = jobs_payload_article(payload);
	if (id == 0) {
		buf_puts(err, "payload is not {\"article\": ID}");
		return JOBS_FAIL;
	}
	switch (content_publish_due(st, id, now)) {
	case CONTENT_OK:
		return JOBS_OK;
	case CONTENT_NOTFOUND:
		/* deleted meanwhile: nothing left to publish */
		return JOBS_OK;
	case CONTENT_STORE:
		buf_printf(err, "article %" PRId64 ": database error", id);
		return JOBS_RETRY;
	default:
		buf_printf(err, "article %" PRId64 ": cannot be published", id);
		return JOBS_FAIL;
	}
}

const struct jobs_kind_def jobs_kinds[JOBS__MAX] = {
	[JOBS_PUBLISH] = {"publish", jobs_publish},
};

/* ---- one job ------------------------------------------------------------------- */

/* cfg with every zero field at its default. */
static struct jobs_config
jobs_config_norm(const struct jobs_config *in)
{
	struct jobs_config c = in ? *in : (struct jobs_config){0};
	if (c.lease <= 0)
		c.lease = JOBS_LEASE;
	if (c.max_attempts <= 0)
		c.max_attempts = JOBS_MAX_ATTEMPTS;
	if (c.backoff_base <= 0)
		c.backoff_base = JOBS_BACKOFF_BASE;
	if (c.backoff_max <= 0)
		c.backoff_max = JOBS_BACKOFF_MAX;
	if (c.poll_ms == 0 || c.poll_ms > JOBS_POLL_MS)
		c.poll_ms = JOBS_POLL_MS;
	if (c.kinds == NULL) {
		c.kinds = jobs_kinds;
		c.nkinds = JOBS__MAX;
	}
	if (c.now == NULL)
		c.now = text_now;
	return c;
}

int64_t
jobs_backoff(const struct jobs_config *cfg, int64_t attempt)
{
	struct jobs_config c = jobs_config_norm(cfg);
	int64_t d = c.backoff_base;
	for (int64_t i = 1; i < attempt && d < c.backoff_max; i++)
		d *= 2;
	return d < c.backoff_max ? d : c.backoff_max;
}

static const struct jobs_kind_def *
jobs_kind_find(const struct jobs_config *c, const char *name)
{
	for (size_t i = 0; i < c->nkinds; i++)
		if (c->kinds[i].name && strcmp(c->kinds[i].name, name) == 0)
			return &c->kinds[i];
	return NULL;
}

/* Records what became of job j; a lost claim (another runner took the job
 * after our lease ran out) leaves the record to that runner. */
static bool
jobs_record(store *st, const struct jobs_config *c, const struct store_job *j,
    enum jobs_outcome out, buf *err, int64_t now)
{
	enum store_err e;
	const char *why = err->len ? buf_cstr(err) : "failed";
	int64_t retry = 0;

	if (out == JOBS_OK) {
		e = store_job_done(st, j, now);
		obs_add(&jobs_ends[JOBS_END_DONE], 1);
	} else {
		if (out == JOBS_RETRY && j->attempts < c->max_attempts)
			retry = now + jobs_backoff(c, j->attempts);
		e = store_job_fail(st, j, why, retry, now);
		obs_add(&jobs_ends[retry ? JOBS_END_RETRY : JOBS_END_FAILED], 1);
		if (retry)
			obs_warn("job %" PRId64 " (%s) attempt %" PRId64
			    ": %s; again in %" PRId64 " s", j->id, j->kind,
			    j->attempts, why, retry - now);
		else
			obs_error("job %" PRId64 " (%s) given up after "
			    "%" PRId64 " attempts: %s", j->id, j->kind,
			    j->attempts, why);
	}
	if (e == STORE_NOTFOUND) {
		obs_warn("job %" PRId64 " (%s): claim lost before it "
		    "finished; it runs again", j->id, j->kind);
		return true;
	}
	if (e != STORE_OK) {
		/* the lease runs out and the job is claimed again */
		obs_error("job %" PRId64 " (%s): cannot record the "
		    "outcome: %s", j->id, j->kind, store_strerror(e));
		return false;
	}
	return true;
}

bool
jobs_run_one(store *st, const struct jobs_config *cfg, int64_t now, bool *ran)
{
	struct jobs_config c = jobs_config_norm(cfg);
	arena *a = arena_new(0);
	struct store_job j;
	buf err;
	bool ok = true;

	buf_init(&err, JOBS_ERR_MAX);
	if (ran)
		*ran = false;
	enum store_err e = store_job_claim(st, now, c.lease, a, &j);
	if (e == STORE_NOTFOUND)
		goto out;
	if (e != STORE_OK) {
		obs_error("jobs: cannot claim a job: %s", store_strerror(e));
		ok = false;
		goto out;
	}
	if (ran)
		*ran = true;
	const struct jobs_kind_def *k = jobs_kind_find(&c, j.kind);
	enum jobs_outcome out;
	if (k == NULL) {
		/* perhaps a newer kiji on another node knows it: retry */
		buf_puts(&err, "no handler for this kind in this build");
		out = JOBS_RETRY;
	} else {
		out = k->run(st, j.payload, now, &err);
		if (err.err) { /* the reason did not fit: keep a word */
			buf_reset(&err);
			buf_puts(&err, "failed (reason too long)");
		}
	}
	ok = jobs_record(st, &c, &j, out, &err, c.now());
out:
	buf_free(&err);
	arena_free(a);
	return ok;
}

/* ---- the runner thread ------------------------------------------------------------ */

struct jobs_runner {
	store *st;
	struct jobs_config cfg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;   /* on CLOCK_MONOTONIC */
	bool stop;           /* under mu */
	bool kicked;         /* under mu: a job was added since the last look */
	atomic_uint_fast64_t finished;
};

static void
jobs_hook(void *ctx)
{
	jobs_wake(ctx);
}

void
jobs_wake(jobs_runner *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->kicked = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static bool
jobs_stopping(jobs_runner *r)
{
	pthread_mutex_lock(&r->mu);
	bool stop = r->stop;
	pthread_mutex_unlock(&r->mu);
	return stop;
}

/* Looks (a cheap read), runs what is due, sleeps until woken or poll_ms
 * has passed; until jobs_stop. */
static void *
jobs_main(void *arg)
{
	jobs_runner *r = arg;
	pthread_setname_np(pthread_self(), "kiji-jobs"); /* top -H, perf */
	while (!jobs_stopping(r)) {
		bool due = false;
		int64_t now = r->cfg.now();
		if (store_job_due(r->st, now, &due) == STORE_OK && due) {
			for (int i = 0; i < JOBS_BATCH && !jobs_stopping(r); i++) {
				bool ran = false;
				if (!jobs_run_one(r->st, &r->cfg, r->cfg.now(), &ran) ||
				    !ran)
					break;
				atomic_fetch_add(&r->finished, 1);
			}
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += r->cfg.poll_ms / 1000;
		ts.tv_nsec += (long)(r->cfg.poll_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&r->mu);
		while (!r->stop && !r->kicked &&
		    pthread_cond_timedwait(&r->cv, &r->mu, &ts) == 0)
			;
		r->kicked = false;
		pthread_mutex_unlock(&r->mu);
	}
	return NULL;
}

/* The job runner's part of /metrics: the queue as the database holds
 * it (every runner's), and the outcomes of the jobs this one ran. */
static void
jobs_collect(void *ctx, buf *out)
{
	jobs_runner *r = ctx;
	int64_t waiting = 0, due = 0;
	if (store_jobs_pending(r->st, r->cfg.now(), &waiting, &due) ==
	    STORE_OK) {
		obs_prom_family(out, "kiji_jobs_due", "gauge",
		    "Jobs due now and not yet done (the queue's backlog).");
		obs_prom_u64(out, "kiji_jobs_due", NULL, (uint64_t)due);
		obs_prom_family(out, "kiji_jobs_waiting", "gauge",
		    "Jobs not done, scheduled ones included.");
		obs_prom_u64(out, "kiji_jobs_waiting", NULL, (uint64_t)waiting);
	}
	obs_prom_family(out, "kiji_jobs_runs_total", "counter",
	    "Jobs run by this process, by outcome (retry: failed for now; "
	    "failed: given up).");
	for (int i = 0; i < JOBS_END__MAX; i++) {
		buf l;
		buf_init(&l, 256);
		obs_prom_label(&l, "outcome", jobs_end_names[i]);
		obs_prom_u64(out, "kiji_jobs_runs_total", buf_cstr(&l),
		    obs_get(&jobs_ends[i]));
		buf_free(&l);
	}
}

jobs_runner *
jobs_start(store *st, const struct jobs_config *cfg, buf *err)
{
	jobs_runner *r = xcalloc(1, sizeof(*r));
	pthread_condattr_t ca;
	r->st = st;
	r->cfg = jobs_config_norm(cfg);
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&r->finished, 0);
	if (pthread_create(&r->thread, NULL, jobs_main, r) != 0) {
		buf_puts(err, "cannot start the job runner thread");
		pthread_cond_destroy(&r->cv);
		pthread_mutex_destroy(&r->mu);
		free(r);
		return NULL;
	}
	store_job_hook(st, jobs_hook, r);
	obs_metrics_add(jobs_collect, r);
	return r;
}

void
jobs_stop(jobs_runner *r)
{
	if (r == NULL)
		return;
	obs_metrics_remove(jobs_collect, r);
	store_job_hook(r->st, NULL, NULL);
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

uint64_t
jobs_count(jobs_runner *r)
{
	return r ? atomic_load(&r->finished) : 0;
}
