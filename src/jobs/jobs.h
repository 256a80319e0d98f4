/*
 * jobs: the background job runner. One thread per server claims due rows
 * of the jobs table with a lease (store_job_claim), runs the handler of
 * the job's kind and records the outcome: done, or the error and a retry
 * after an exponential backoff, given up (kept, with its last error) after
 * max_attempts. A runner that dies mid-job leaves its lease to expire and
 * another claim runs the job again: jobs run at least once, so every
 * handler is idempotent. Several runners (processes, later nodes) may
 * share one database; a job is held by one of them at a time.
 *
 * Time is text_now(), the clock the site's requests use, so a scheduled
 * article goes live by the same clock that decides what readers see.
 */
#ifndef KIJI_JOBS_H
#define KIJI_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"
#include "../text/text.h"

/* The job kinds this build runs; names are the jobs.kind column. */
enum jobs_kind {
	JOBS_PUBLISH, /* "publish", payload {"article":ID}, key "publish:ID":
	               * content_publish_due(ID) — a scheduled article goes
	               * live */
	JOBS__MAX
};

/* What a handler reports. */
enum jobs_outcome {
	JOBS_OK,    /* done */
	JOBS_RETRY, /* failed for now (database busy, network): try again later */
	JOBS_FAIL,  /* can never succeed (malformed payload): give up now */
	JOBS_OUTCOME__MAX
};

/* Runs one job. err gets a one-line reason on RETRY or FAIL (kept in
 * jobs.last_error). Must be idempotent: it may run again after a crash. */
typedef enum jobs_outcome (*jobs_fn)(store *st, const char *payload,
    int64_t now, buf *err);

struct jobs_kind_def {
	const char *name; /* jobs.kind */
	jobs_fn run;
};
/* The "publish" handler (for tables composed above this layer). */
enum jobs_outcome jobs_publish(store *st, const char *payload, int64_t now,
    buf *err);
/* The built-in table, indexed by enum jobs_kind. */
extern const struct jobs_kind_def jobs_kinds[JOBS__MAX];

struct jobs_config {
	int64_t lease;         /* seconds a claim holds (default 300): longer
	                        * than any job takes */
	int max_attempts;      /* claims before giving up (default 8) */
	int64_t backoff_base;  /* first retry after this many seconds
	                        * (default 30), doubling each time */
	int64_t backoff_max;   /* cap of the delay (default 3600) */
	unsigned poll_ms;      /* look for due jobs at least this often
	                        * (default and maximum 1000) */
	const struct jobs_kind_def *kinds; /* NULL: jobs_kinds */
	size_t nkinds;
	int64_t (*now)(void);  /* NULL: text_now (unit tests pass their own) */
};

/* Seconds to wait after the given failed attempt (1-based) under cfg:
 * base * 2^(attempt-1), capped at backoff_max. */
int64_t jobs_backoff(const struct jobs_config *cfg, int64_t attempt);

/*
 * Claims and runs at most one due job at now. *ran (when not NULL) says
 * whether there was one. Returns false on a store error (logged). The
 * runner thread calls this in a loop; tests call it directly.
 */
bool jobs_run_one(store *st, const struct jobs_config *cfg, int64_t now,
    bool *ran);

typedef struct jobs_runner jobs_runner;

/* Starts the runner thread (cfg NULL: the defaults) and hooks the store
 * so a job added by this process wakes it. NULL with err on failure. */
jobs_runner *jobs_start(store *st, const struct jobs_config *cfg, buf *err);
/* Wakes the runner now (a job was added). */
void jobs_wake(jobs_runner *r);
/* Stops the thread after the job in hand (if any) and unhooks the store;
 * call before store_close. NULL-safe. */
void jobs_stop(jobs_runner *r);
/* Jobs this runner has finished (done, retried or given up) so far. */
uint64_t jobs_count(jobs_runner *r);

#endif
