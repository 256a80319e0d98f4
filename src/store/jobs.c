/*
 * store.h (every backend): the background side. The job queue (leases, retries,
 * keyed schedules) and the change log that caches and live pages poll.
 */
#include "store_int.h"

#include <pthread.h>
#include <string.h>

/* ---- jobs ------------------------------------------------------------------------- */

void
store_job_hook(store *s, void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&s->mu);
	s->job_hook = fn;
	s->job_hook_ctx = ctx;
	pthread_mutex_unlock(&s->mu);
}

/* Tells this process's runner (src/jobs/) that a job was added, so it
 * need not wait for its next poll. Called under s->mu, so once
 * store_job_hook(NULL) has returned no call to the old hook is running. */
void
db_job_added(store *s)
{
	pthread_mutex_lock(&s->mu);
	if (s->job_hook != NULL)
		s->job_hook(s->job_hook_ctx);
	pthread_mutex_unlock(&s->mu);
}

/* A job with no key: every call adds one. */
enum store_err
store_job_add(store *s, const char *kind, const char *payload, int64_t run_at)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (kind == NULL || *kind == '\0')
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_JOB_ADD)) != STORE_OK)
		goto err;
	db_text(&q, ":kind", kind);
	db_text(&q, ":payload", payload);
	db_int(&q, ":run_at", run_at);
	e = db_exec(&q);
err:
	db_close(&q);
	if (e == STORE_OK)
		db_job_added(s);
	return e;
}

/* Upsert on the key (see JOB_SCHEDULE); RETURNING gives the id both ways. */
enum store_err
store_job_schedule(store *s, const char *kind, const char *payload,
    int64_t run_at, const char *key, int64_t *id)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (kind == NULL || *kind == '\0' || key == NULL || *key == '\0')
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_JOB_SCHEDULE)) != STORE_OK)
		goto err;
	db_text(&q, ":kind", kind);
	db_text(&q, ":payload", payload);
	db_int(&q, ":run_at", run_at);
	db_text(&q, ":key", key);
	if (db_row(&q, &e) && id != NULL)
		*id = db_col_int(&q, 0);
	if (e == STORE_OK)
		e = db_exec(&q);
err:
	db_close(&q);
	if (e == STORE_OK)
		db_job_added(s);
	return e;
}

/* Insert-or-nothing on the key (see JOB_ADD_KEY). */
enum store_err
store_job_add_key(store *s, const char *kind, const char *payload,
    int64_t run_at, const char *key, bool *added)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	bool n = false;
	if (added != NULL)
		*added = false;
	if (c == NULL)
		return STORE_ERROR;
	if (kind == NULL || *kind == '\0' || key == NULL || *key == '\0')
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_JOB_ADD_KEY)) != STORE_OK)
		goto err;
	db_text(&q, ":kind", kind);
	db_text(&q, ":payload", payload);
	db_int(&q, ":run_at", run_at);
	db_text(&q, ":key", key);
	if ((e = db_exec(&q)) == STORE_OK)
		n = db_changes(c) > 0;
err:
	db_close(&q);
	if (added != NULL)
		*added = n;
	if (n)
		db_job_added(s);
	return e;
}

/* One jobs row in JOB_COLS order. */
static void
job_read(struct q *st, arena *a, void *row)
{
	struct store_job *out = row;
	out->id = db_col_int(st, 0);
	out->kind = db_col_str(a, st, 1);
	out->payload = db_col_str(a, st, 2);
	out->run_at = db_col_int(st, 3);
	out->lease_until = db_col_int(st, 4);
	out->attempts = db_col_int(st, 5);
	out->done_at = db_col_int(st, 6);
	out->dedup_key = db_col_str(a, st, 7);
	out->last_error = db_col_str(a, st, 8);
}

enum store_err
store_job_due(store *s, int64_t now, bool *yes)
{
	int64_t v = 0;
	enum store_err e = db_one_int(s, STMT_JOB_DUE, ":now", now, &v);
	*yes = e == STORE_OK && v != 0;
	return e;
}

/*
 * BEGIN IMMEDIATE takes the write lock before the due row is chosen: a
 * claim in one autocommit statement would read a snapshot first and fail
 * with BUSY_SNAPSHOT when another runner committed in between. The row
 * is read whole before COMMIT (RETURNING rows end with the statement).
 */
enum store_err
store_job_claim(store *s, int64_t now, int64_t lease, arena *a,
    struct store_job *out)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	struct tx t;
	enum store_err e;
	bool got = false;
	if (c == NULL)
		return STORE_ERROR;
	if (lease < 1)
		return STORE_INVALID;
	if ((e = db_tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if ((e = db_open(&q, c, STMT_JOB_CLAIM)) != STORE_OK)
		goto err;
	db_int(&q, ":now", now);
	db_int(&q, ":lease", lease);
	if (db_row(&q, &e)) {
		job_read(&q, a, out);
		got = true;
		e = db_exec(&q);
	}
err:
	db_close(&q);
	e = db_tx_end(c, &t, e);
	if (e == STORE_OK && !got)
		e = STORE_NOTFOUND;
	return e;
}

/* NOTFOUND: the claim was lost (lease expired and taken, or the job was
 * scheduled anew); the outcome is not recorded. */
static enum store_err
job_finish(store *s, enum stmt id, const struct store_job *j, int64_t now,
    const char *error, int64_t run_at, int64_t done)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, id)) != STORE_OK)
		goto err;
	db_int(&q, ":id", j->id);
	db_int(&q, ":attempts", j->attempts);
	db_int(&q, ":lease", j->lease_until);
	if (id == STMT_JOB_DONE) {
		db_int(&q, ":now", now);
	} else {
		db_text(&q, ":error", error);
		db_int(&q, ":run_at", run_at);
		db_id(&q, ":done", done);
	}
	if ((e = db_exec(&q)) == STORE_OK && db_changes(c) == 0)
		e = STORE_NOTFOUND;
err:
	db_close(&q);
	return e;
}

enum store_err
store_job_done(store *s, const struct store_job *j, int64_t now)
{
	return job_finish(s, STMT_JOB_DONE, j, now, NULL, 0, 0);
}

enum store_err
store_job_fail(store *s, const struct store_job *j, const char *error,
    int64_t retry_at, int64_t now)
{
	if (retry_at > 0)
		return job_finish(s, STMT_JOB_FAIL, j, now, error, retry_at, 0);
	return job_finish(s, STMT_JOB_FAIL, j, now, error, j->run_at,
	    now > 0 ? now : 1);
}

enum store_err
store_job_get(store *s, int64_t id, arena *a, struct store_job *out)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_JOB_GET)) != STORE_OK)
		goto err;
	db_int(&q, ":id", id);
	e = db_one(&q, a, job_read, out);
err:
	db_close(&q);
	return e;
}

/* ---- the change log ------------------------------------------------ */

static const char *const change_names[CHANGE_ARTICLE_TEXT] = {
	[CHANGE_COMMENT] = "comment",
	[CHANGE_LIKE] = "like",
	[CHANGE_ARTICLE] = "article",
	[CHANGE_SETTINGS] = "settings",
	[CHANGE_ALL] = "all",
};

/* (seq, kind, article) into a struct store_change; a kind this build
 * does not know is read as CHANGE_ALL. */
static void
change_read(struct q *st, arena *a, void *row)
{
	struct store_change *o = row;
	const char *k = db_col_text(st, 1, NULL);
	(void)a;
	o->seq = db_col_int(st, 0);
	o->kind = CHANGE_ALL;
	for (int i = 0; k && i < CHANGE_ARTICLE_TEXT; i++)
		if (strcmp(k, change_names[i]) == 0)
			o->kind = (enum store_change_kind)i;
	o->article_id = db_col_int(st, 2);
	const char *scope = db_col_text(st, 3, NULL);
	if (o->kind == CHANGE_ARTICLE && scope && strcmp(scope, "text") == 0)
		o->kind = CHANGE_ARTICLE_TEXT;
	o->comment_id = o->kind == CHANGE_COMMENT ?
	    db_col_int(st, 4) : 0;
	o->added = o->kind == CHANGE_COMMENT && scope &&
	    strcmp(scope, "new") == 0;
}

enum store_err
store_changes_since(store *s, int64_t after, size_t limit, arena *a,
    struct store_change **out, size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;

	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_CHANGES_SINCE)) != STORE_OK)
		goto err;
	db_int(&q, ":after", after);
	db_int(&q, ":limit", (int64_t)limit);
	*out = db_rows(&q, a, sizeof(**out), change_read, n, &e);
err:
	db_close(&q);
	return e;
}

enum store_err
store_changes_last(store *s, int64_t *seq)
{
	return db_one_int(s, STMT_CHANGES_LAST, NULL, 0, seq);
}

enum store_err
store_changes_first(store *s, int64_t *seq)
{
	return db_one_int(s, STMT_CHANGES_FIRST, NULL, 0, seq);
}

enum store_err
store_changes_comments(store *s, int64_t article_id, int64_t after,
    int64_t upto, size_t limit, arena *a, struct store_change **out,
    size_t *n)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;

	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_CHANGES_COMMENTS)) != STORE_OK)
		goto err;
	db_int(&q, ":article", article_id);
	db_int(&q, ":after", after);
	db_int(&q, ":upto", upto);
	db_int(&q, ":limit", (int64_t)limit);
	*out = db_rows(&q, a, sizeof(**out), change_read, n, &e);
err:
	db_close(&q);
	return e;
}

enum store_err
store_changes_span(store *s, int64_t *oldest, int64_t *newest)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;

	*oldest = *newest = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_CHANGES_SPAN)) != STORE_OK)
		goto err;
	if (db_row(&q, &e)) {
		*oldest = db_col_int(&q, 0);
		*newest = db_col_int(&q, 1);
	}
err:
	db_close(&q);
	return e;
}

enum store_err
store_next_publish(store *s, int64_t now, int64_t *t)
{
	return db_one_int(s, STMT_NEXT_PUBLISH, ":now", now, t);
}

/* An upsert on the node's name. */
enum store_err
store_change_reader_set(store *s, const char *node, int64_t seq, int64_t now)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;

	if (c == NULL)
		return STORE_ERROR;
	if (node == NULL || *node == '\0')
		return STORE_INVALID;
	if ((e = db_open(&q, c, STMT_CHANGE_READER_SET)) != STORE_OK)
		goto err;
	db_text(&q, ":node", node);
	db_int(&q, ":seq", seq);
	db_int(&q, ":now", now);
	e = db_exec(&q);
err:
	db_close(&q);
	return e;
}

/* The log first (its bound reads the readers seen since), then the
 * readers gone; two statements, each complete on its own. */
enum store_err
store_changes_prune(store *s, int64_t upto, int64_t since)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;

	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_CHANGES_PRUNE)) != STORE_OK)
		goto err;
	db_int(&q, ":upto", upto);
	db_int(&q, ":since", since);
	if ((e = db_exec(&q)) != STORE_OK)
		goto err;
	db_close(&q);
	if ((e = db_open(&q, c, STMT_CHANGE_READERS_PRUNE)) != STORE_OK)
		goto err;
	db_int(&q, ":since", since);
	e = db_exec(&q);
err:
	db_close(&q);
	return e;
}
