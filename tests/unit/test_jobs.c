/*
 * The job runner (jobs/) and its store calls against real database files:
 * claim and lease, done, retry with exponential backoff, giving up, a
 * lease that expires (a crashed runner) and the job claimed again, keyed
 * jobs moved by scheduling them again, the wake-up hook, two runners on
 * one database never running a job twice, the publish kind, and the
 * injectable clock of test builds.
 */
#include "../../src/jobs/jobs.h"
#include "t_db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define NOW ((int64_t)1700000000)

/* ---- fake handlers ------------------------------------------------------------ */

#define MAXJOBS 400

static atomic_int runs[MAXJOBS];   /* by payload number */
static atomic_int flaky_left;      /* failures before "flaky" succeeds */

/* "count": payload is a number; counts how often each ran. */
static enum jobs_outcome
h_count(store *st, const char *payload, int64_t now, buf *err)
{
	int i = atoi(payload);
	if (i < 0 || i >= MAXJOBS) {
		buf_puts(err, "bad index");
		return JOBS_FAIL;
	}
	atomic_fetch_add(&runs[i], 1);
	usleep(200); /* long enough for the other runner to try the same row */
	return JOBS_OK;
}

static enum jobs_outcome
h_flaky(store *st, const char *payload, int64_t now, buf *err)
{
	if (atomic_fetch_sub(&flaky_left, 1) > 0) {
		buf_printf(err, "flaky failure at %lld", (long long)now);
		return JOBS_RETRY;
	}
	return JOBS_OK;
}

static enum jobs_outcome
h_broken(store *st, const char *payload, int64_t now, buf *err)
{
	buf_puts(err, "cannot ever work");
	return JOBS_FAIL;
}

static const struct jobs_kind_def fake_kinds[] = {
	{"count", h_count},
	{"flaky", h_flaky},
	{"broken", h_broken},
};

static struct jobs_config
fake_config(void)
{
	struct jobs_config c = {.lease = 60, .max_attempts = 4,
	    .backoff_base = 10, .backoff_max = 100, .poll_ms = 50,
	    .kinds = fake_kinds, .nkinds = sizeof(fake_kinds) / sizeof(fake_kinds[0])};
	return c;
}

/* The one job of a fresh database (ids start at 1). */
static struct store_job
job1(store *s, arena *a)
{
	struct store_job j = {0};
	T_CHECK(store_job_get(s, 1, a, &j) == STORE_OK);
	return j;
}

/* ---- store: claim, lease, done ------------------------------------------------ */

static void
test_claim_lease_done(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	struct store_job j, j2;
	bool due = true;
	T_CHECK(store_job_add(s, "count", "1", NOW) == STORE_OK);
	T_CHECK(store_job_due(s, NOW - 1, &due) == STORE_OK && !due);
	T_CHECK(store_job_claim(s, NOW - 1, 60, a, &j) == STORE_NOTFOUND);
	T_CHECK(store_job_due(s, NOW, &due) == STORE_OK && due);
	T_CHECK(store_job_claim(s, NOW, 60, a, &j) == STORE_OK);
	T_CHECK(j.id == 1);
	T_STREQ(j.kind, "count");
	T_STREQ(j.payload, "1");
	T_CHECK(j.attempts == 1);
	T_CHECK(j.lease_until == NOW + 60);
	T_CHECK(j.done_at == 0);
	/* held: nobody else gets it, and it does not count as due */
	T_CHECK(store_job_claim(s, NOW + 59, 60, a, &j2) == STORE_NOTFOUND);
	T_CHECK(store_job_due(s, NOW + 59, &due) == STORE_OK && !due);
	T_CHECK(store_job_done(s, &j, NOW + 1) == STORE_OK);
	j2 = job1(s, a);
	T_CHECK(j2.done_at == NOW + 1);
	T_STREQ(j2.last_error, "");
	/* done is done: never claimed again, a second done is refused */
	T_CHECK(store_job_claim(s, NOW + 1000, 60, a, &j2) == STORE_NOTFOUND);
	T_CHECK(store_job_done(s, &j, NOW + 2) == STORE_NOTFOUND);
	T_CHECK(store_job_claim(s, NOW, 0, a, &j2) == STORE_INVALID);
	T_CHECK(store_job_get(s, 99, a, &j2) == STORE_NOTFOUND);
	arena_free(a);
	store_close(s);
}

/* Oldest first; a crashed runner's claim expires and the job runs again,
 * and the crashed claim can no longer record anything. */
static void
test_lease_expiry(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	struct store_job j, again, other;
	T_CHECK(store_job_add(s, "count", "1", NOW - 5) == STORE_OK);
	T_CHECK(store_job_add(s, "count", "2", NOW - 10) == STORE_OK);
	T_CHECK(store_job_claim(s, NOW, 60, a, &j) == STORE_OK);
	T_STREQ(j.payload, "2"); /* the older run_at first */
	T_CHECK(store_job_claim(s, NOW, 60, a, &other) == STORE_OK);
	T_STREQ(other.payload, "1");
	T_CHECK(store_job_done(s, &other, NOW) == STORE_OK);

	/* the runner holding j "crashes": nothing happens until the lease
	 * ends, then the job is claimed again with one more attempt */
	T_CHECK(store_job_claim(s, NOW + 60, 60, a, &again) == STORE_NOTFOUND);
	T_CHECK(store_job_claim(s, NOW + 61, 60, a, &again) == STORE_OK);
	T_CHECK(again.id == j.id);
	T_CHECK(again.attempts == 2);
	T_CHECK(again.lease_until == NOW + 121);
	/* the old claim is stale: its outcome is not recorded */
	T_CHECK(store_job_done(s, &j, NOW + 62) == STORE_NOTFOUND);
	T_CHECK(store_job_fail(s, &j, "late", NOW + 500, NOW + 62) == STORE_NOTFOUND);
	T_CHECK(store_job_done(s, &again, NOW + 63) == STORE_OK);
	struct store_job row;
	T_CHECK(store_job_get(s, j.id, a, &row) == STORE_OK);
	T_CHECK(row.done_at == NOW + 63);
	T_CHECK(row.attempts == 2);
	arena_free(a);
	store_close(s);
}

/* ---- runner: retry, backoff, give up ---------------------------------------------- */

static void
test_backoff_values(void)
{
	struct jobs_config c = fake_config();
	T_CHECK(jobs_backoff(&c, 1) == 10);
	T_CHECK(jobs_backoff(&c, 2) == 20);
	T_CHECK(jobs_backoff(&c, 3) == 40);
	T_CHECK(jobs_backoff(&c, 4) == 80);
	T_CHECK(jobs_backoff(&c, 5) == 100);
	T_CHECK(jobs_backoff(&c, 60) == 100);
	T_CHECK(jobs_backoff(NULL, 1) == 30); /* the defaults */
	T_CHECK(jobs_backoff(NULL, 8) == 3600);
}

/* The runner's clock in these tests: set by hand. */
static int64_t fixed_now;
static int64_t
fixed_clock(void)
{
	return fixed_now;
}

/* Fails twice, then works: due again after 10 s, then after 20 s, then
 * done with its error cleared. */
static void
test_retry_then_done(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	struct jobs_config c = fake_config();
	struct store_job j;
	bool ran;
	c.now = fixed_clock;
	atomic_store(&flaky_left, 2);
	T_CHECK(store_job_add(s, "flaky", "", NOW) == STORE_OK);

	fixed_now = NOW;
	T_CHECK(jobs_run_one(s, &c, NOW, &ran) && ran);
	j = job1(s, a);
	T_CHECK(j.attempts == 1);
	T_CHECK(j.done_at == 0);
	T_CHECK(j.lease_until == 0); /* released: due again at run_at */
	T_CHECK(strstr(j.last_error, "flaky failure") != NULL);
	T_CHECK(j.run_at == NOW + 10);

	fixed_now = NOW + 9;
	T_CHECK(jobs_run_one(s, &c, NOW + 9, &ran) && !ran);
	fixed_now = NOW + 10;
	T_CHECK(jobs_run_one(s, &c, NOW + 10, &ran) && ran);
	j = job1(s, a);
	T_CHECK(j.attempts == 2);
	T_CHECK(j.run_at == NOW + 10 + 20);

	fixed_now = NOW + 30;
	T_CHECK(jobs_run_one(s, &c, NOW + 30, &ran) && ran);
	j = job1(s, a);
	T_CHECK(j.attempts == 3);
	T_CHECK(j.done_at == NOW + 30);
	T_STREQ(j.last_error, "");
	T_CHECK(jobs_run_one(s, &c, NOW + 100000, &ran) && !ran);
	arena_free(a);
	store_close(s);
}

/* Always failing: given up after max_attempts, kept with its error; a
 * permanent failure and an unknown kind. */

static void
test_give_up(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	struct jobs_config c = fake_config();
	struct store_job j;
	bool ran;
	c.now = fixed_clock;
	atomic_store(&flaky_left, 1000);
	T_CHECK(store_job_add(s, "flaky", "", NOW) == STORE_OK);
	int64_t t = NOW;
	int64_t want[] = {10, 20, 40};
	for (int i = 0; i < 3; i++) {
		fixed_now = t;
		T_CHECK(jobs_run_one(s, &c, t, &ran) && ran);
		j = job1(s, a);
		T_CHECK(j.attempts == i + 1);
		T_CHECK(j.done_at == 0);
		T_CHECK(j.run_at == t + want[i]);
		t = j.run_at;
	}
	fixed_now = t;
	T_CHECK(jobs_run_one(s, &c, t, &ran) && ran);
	j = job1(s, a);
	T_CHECK(j.attempts == 4);
	T_CHECK(j.done_at == t); /* given up, kept */
	T_CHECK(strstr(j.last_error, "flaky failure") != NULL);
	T_CHECK(jobs_run_one(s, &c, t + 100000, &ran) && !ran);

	/* JOBS_FAIL: given up at the first attempt */
	T_CHECK(store_job_add(s, "broken", "", NOW) == STORE_OK);
	fixed_now = NOW;
	T_CHECK(jobs_run_one(s, &c, NOW, &ran) && ran);
	T_CHECK(store_job_get(s, 2, a, &j) == STORE_OK);
	T_CHECK(j.attempts == 1 && j.done_at == NOW);
	T_STREQ(j.last_error, "cannot ever work");

	/* a kind this build does not know is retried, not dropped */
	T_CHECK(store_job_add(s, "from-the-future", "", NOW) == STORE_OK);
	T_CHECK(jobs_run_one(s, &c, NOW, &ran) && ran);
	T_CHECK(store_job_get(s, 3, a, &j) == STORE_OK);
	T_CHECK(j.done_at == 0 && j.run_at == NOW + 10);
	T_CHECK(strstr(j.last_error, "no handler") != NULL);
	arena_free(a);
	store_close(s);
}

/* ---- keyed jobs and the wake-up hook ------------------------------------------------ */

static atomic_int hook_calls;
static void
count_hook(void *ctx)
{
	atomic_fetch_add(&hook_calls, 1);
}

static void
test_schedule_key_hook(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	struct store_job j, row;
	int64_t id1 = 0, id2 = 0;
	store_job_hook(s, count_hook, NULL);
	atomic_store(&hook_calls, 0);
	T_CHECK(store_job_schedule(s, "count", "1", NOW + 100, "k:1", &id1) == STORE_OK);
	T_CHECK(store_job_schedule(s, "count", "2", NOW + 50, "k:1", &id2) == STORE_OK);
	T_CHECK(id1 > 0 && id1 == id2); /* moved, not added */
	T_CHECK(store_job_get(s, id1, a, &row) == STORE_OK);
	T_CHECK(row.run_at == NOW + 50);
	T_STREQ(row.payload, "2");
	T_STREQ(row.dedup_key, "k:1");
	T_CHECK(store_job_add(s, "count", "3", NOW + 150) == STORE_OK);
	T_CHECK(atomic_load(&hook_calls) == 3);

	/* claimed, then scheduled anew while held: the claim is lost, the
	 * job waits for its new time */
	T_CHECK(store_job_claim(s, NOW + 60, 60, a, &j) == STORE_OK);
	T_CHECK(j.id == id1);
	T_CHECK(store_job_schedule(s, "count", "4", NOW + 200, "k:1", NULL) == STORE_OK);
	T_CHECK(store_job_done(s, &j, NOW + 61) == STORE_NOTFOUND);
	T_CHECK(store_job_get(s, id1, a, &row) == STORE_OK);
	T_CHECK(row.done_at == 0 && row.attempts == 0 && row.run_at == NOW + 200);
	T_CHECK(store_job_claim(s, NOW + 199, 60, a, &j) == STORE_OK);
	T_CHECK(j.id != id1); /* the unkeyed one */
	T_CHECK(store_job_done(s, &j, NOW + 199) == STORE_OK);
	T_CHECK(store_job_claim(s, NOW + 200, 60, a, &j) == STORE_OK);
	T_CHECK(j.id == id1);
	T_CHECK(store_job_done(s, &j, NOW + 200) == STORE_OK);
	/* a done keyed job scheduled again is pending again */
	T_CHECK(store_job_schedule(s, "count", "5", NOW + 300, "k:1", NULL) == STORE_OK);
	T_CHECK(store_job_get(s, id1, a, &row) == STORE_OK);
	T_CHECK(row.done_at == 0 && row.run_at == NOW + 300);

	T_CHECK(store_job_schedule(s, "count", "", NOW, "", NULL) == STORE_INVALID);
	T_CHECK(store_job_add(s, "", "", NOW) == STORE_INVALID);
	store_job_hook(s, NULL, NULL);
	T_CHECK(store_job_add(s, "count", "6", NOW) == STORE_OK);
	T_CHECK(atomic_load(&hook_calls) == 5); /* not 6: unhooked */
	arena_free(a);
	store_close(s);
}

/* ---- two runners, one database --------------------------------------------------- */

#define RACE_JOBS 300

struct racer {
	store *s;
	int done;
};

static void *
racer_main(void *arg)
{
	struct racer *r = arg;
	struct jobs_config c = fake_config();
	c.now = fixed_clock;
	for (int i = 0; i < 10 * RACE_JOBS; i++) {
		bool ran = false;
		if (!jobs_run_one(r->s, &c, NOW, &ran)) {
			usleep(1000); /* busy: try again */
			continue;
		}
		if (!ran)
			break;
		r->done++;
	}
	return NULL;
}

/* Four claimers over two store handles (two "processes", each its own
 * connections) on one file: every job runs exactly once. */
static void
test_claim_race(void)
{
	store *s1 = t_db_open();
	store *s2 = t_db_open_at(t_db_last);
	struct racer r[4] = {{s1, 0}, {s2, 0}, {s1, 0}, {s2, 0}};
	pthread_t th[4];
	char p[16];
	fixed_now = NOW;
	for (int i = 0; i < MAXJOBS; i++)
		atomic_store(&runs[i], 0);
	T_CHECK(store_begin(s1) == STORE_OK);
	for (int i = 0; i < RACE_JOBS; i++) {
		snprintf(p, sizeof(p), "%d", i);
		T_CHECK(store_job_add(s1, "count", p, NOW - i % 7) == STORE_OK);
	}
	T_CHECK(store_commit(s1) == STORE_OK);
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, racer_main, &r[i]);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	int twice = 0, never = 0;
	for (int i = 0; i < RACE_JOBS; i++) {
		int n = atomic_load(&runs[i]);
		twice += n > 1;
		never += n == 0;
	}
	T_CHECK(twice == 0);
	T_CHECK(never == 0);
	T_CHECK(r[0].done + r[1].done + r[2].done + r[3].done == RACE_JOBS);
	bool due = true;
	T_CHECK(store_job_due(s1, NOW + 100000, &due) == STORE_OK && !due);
	store_close(s2);
	store_close(s1);
}

/* The real runner threads (jobs_start) of two "processes": all jobs
 * done, none twice, and both stop cleanly. */
static void
test_two_runners(void)
{
	store *s1 = t_db_open();
	store *s2 = t_db_open_at(t_db_last);
	struct jobs_config c = fake_config();
	char p[16];
	buf err;
	buf_init(&err, 0);
	fixed_now = NOW;
	c.now = fixed_clock;
	for (int i = 0; i < MAXJOBS; i++)
		atomic_store(&runs[i], 0);
	jobs_runner *r1 = jobs_start(s1, &c, &err);
	jobs_runner *r2 = jobs_start(s2, &c, &err);
	T_CHECK(r1 != NULL && r2 != NULL);
	/* added while they run: the adding handle's runner is woken */
	for (int i = 0; i < 200; i++) {
		snprintf(p, sizeof(p), "%d", i);
		T_CHECK(store_job_add(i % 2 ? s1 : s2, "count", p, NOW) == STORE_OK);
	}
	/* bounded wait for the work to be done (not a speed check) */
	for (int k = 0; k < 3000 && jobs_count(r1) + jobs_count(r2) < 200; k++)
		usleep(10000);
	jobs_stop(r1);
	jobs_stop(r2);
	int twice = 0, never = 0;
	for (int i = 0; i < 200; i++) {
		int n = atomic_load(&runs[i]);
		twice += n > 1;
		never += n == 0;
	}
	T_CHECK(twice == 0);
	T_CHECK(never == 0);
	jobs_stop(NULL);
	buf_free(&err);
	store_close(s2);
	store_close(s1);
}

/* ---- the publish kind -------------------------------------------------------------- */

/* A scheduled article goes live through the real "publish" handler
 * (content_publish_due) when its job runs; the next publish time the
 * site caps cached pages at counts scheduled rows. */
static void
test_publish_kind(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	struct store_article art = {.kind = KIND_POST, .title = "予定の記事",
	    .body = "本文", .body_format = FORMAT_MARKDOWN,
	    .body_html = "<p>本文</p>", .body_text = "本文",
	    .status = STATUS_SCHEDULED, .published_at = NOW + 600,
	    .updated_at = NOW, .comments_open = true};
	struct store_article got;
	struct jobs_config c = {.now = fixed_clock};
	bool ran, vis = true;
	char payload[64];
	int64_t next = 0;
	T_CHECK(store_article_add(s, &art) == STORE_OK);
	T_CHECK(store_next_publish(s, NOW, &next) == STORE_OK);
	T_CHECK(next == NOW + 600);
	snprintf(payload, sizeof(payload), "{\"article\":%lld}", (long long)art.id);
	T_CHECK(store_job_schedule(s, "publish", payload, NOW + 600,
	    "publish:x", NULL) == STORE_OK);

	fixed_now = NOW + 599;
	T_CHECK(jobs_run_one(s, &c, NOW + 599, &ran) && !ran);
	T_CHECK(store_article_visible(s, art.id, NOW + 599, &vis) == STORE_OK && !vis);
	fixed_now = NOW + 601;
	T_CHECK(jobs_run_one(s, &c, NOW + 601, &ran) && ran);
	T_CHECK(store_article_get(s, art.id, NOW + 601, a, &got) == STORE_OK);
	T_CHECK(got.status == STATUS_PUBLISHED);
	T_CHECK(got.published_at == NOW + 600);
	struct store_job j;
	T_CHECK(store_job_get(s, 1, a, &j) == STORE_OK);
	T_CHECK(j.done_at == NOW + 601);
	T_STREQ(j.last_error, "");
	T_CHECK(store_next_publish(s, NOW, &next) == STORE_OK);
	T_CHECK(next == NOW + 600); /* published now, still in the future at NOW */
	T_CHECK(store_next_publish(s, NOW + 600, &next) == STORE_OK && next == 0);

	/* at least once: running it again changes nothing */
	T_CHECK(store_job_schedule(s, "publish", payload, NOW + 600,
	    "publish:x", NULL) == STORE_OK);
	T_CHECK(jobs_run_one(s, &c, NOW + 602, &ran) && ran);
	T_CHECK(store_article_get(s, art.id, NOW + 602, a, &got) == STORE_OK);
	T_CHECK(got.status == STATUS_PUBLISHED && got.published_at == NOW + 600);

	/* a malformed payload is given up at once, with why */
	T_CHECK(store_job_add(s, "publish", "{\"article\":\"x\"}", NOW) == STORE_OK);
	T_CHECK(jobs_run_one(s, &c, NOW + 603, &ran) && ran);
	T_CHECK(store_job_get(s, 2, a, &j) == STORE_OK);
	T_CHECK(j.done_at == NOW + 601 && j.attempts == 1);
	T_CHECK(strstr(j.last_error, "payload") != NULL);
	arena_free(a);
	store_close(s);
}

/* ---- the injectable clock ---------------------------------------------------------- */

static void
test_clock(void)
{
	char path[T_PATH_MAX];
	t_path(path, sizeof(path), "clock");
	FILE *f = fopen(path, "w");
	T_CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs("3600\n", f);
	fclose(f);
	setenv("KIJI_TEST_CLOCK_FILE", path, 1);
	int64_t t = text_now();
	int64_t real = (int64_t)time(NULL);
#ifdef KIJI_TEST_HOOKS
	T_CHECK(t >= real + 3600 - 2 && t <= real + 3600 + 2);
	/* rewritten: seen again within a bounded wait (re-read every 0.1 s) */
	f = fopen(path, "w");
	fputs("-86400", f);
	fclose(f);
	for (int i = 0; i < 200 && text_now() > (int64_t)time(NULL); i++)
		usleep(10000);
	t = text_now();
	real = (int64_t)time(NULL);
	T_CHECK(t >= real - 86400 - 2 && t <= real - 86400 + 2);
	/* garbage keeps the last good offset */
	f = fopen(path, "w");
	fputs("soon", f);
	fclose(f);
	usleep(150000);
	t = text_now();
	T_CHECK(t <= (int64_t)time(NULL) - 86400 + 2);
#else
	/* release builds ignore the variable */
	T_CHECK(t >= real - 2 && t <= real + 2);
#endif
	unsetenv("KIJI_TEST_CLOCK_FILE");
	t = text_now();
	T_CHECK(t >= (int64_t)time(NULL) - 2 && t <= (int64_t)time(NULL) + 2);
}

int
main(void)
{
	if (!t_tmpdir(t_dir, sizeof(t_dir), "jobs"))
		return 1;
	T_RUN(test_claim_lease_done);
	T_RUN(test_lease_expiry);
	T_RUN(test_backoff_values);
	T_RUN(test_retry_then_done);
	T_RUN(test_give_up);
	T_RUN(test_schedule_key_hook);
	T_RUN(test_claim_race);
	T_RUN(test_two_runners);
	T_RUN(test_publish_kind);
	T_RUN(test_clock);
	t_tmpdir_remove(t_dir);
	T_DONE();
}
