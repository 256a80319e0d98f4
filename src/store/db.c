/*
 * store.h's plumbing above the backend seam: each thread gets its own
 * connection (pthread TLS) with its own prepared statements; every
 * statement comes from the driver's dialect or the portable table
 * (stmts.c), is prepared lazily once per connection and has all its
 * values bound by name. Transactions and savepoints, the deferred search
 * index, open (a file path or sqlite:FILE for SQLite, postgresql:// for
 * PostgreSQL), migrations and close are here too; what a database does
 * is the driver's (struct db_driver, store_int.h).
 */
#include "store_int.h"
#include "../obs/obs.h"
#include "../text/text.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STORE_REOPEN_S 1        /* a connection that opened read-only tries
                                 * again at most this often */

/* ---- enums as the TEXT values the schema checks ----------------------- */

const char *const db_role_names[ROLE__MAX] = {
	[ROLE_ADMIN] = "admin",
	[ROLE_EDITOR] = "editor",
	[ROLE_AUTHOR] = "author",
};
const char *const db_kind_names[KIND__MAX] = {
	[KIND_POST] = "post",
	[KIND_PAGE] = "page",
};
const char *const db_status_names[STATUS__MAX] = {
	[STATUS_DRAFT] = "draft",
	[STATUS_SCHEDULED] = "scheduled",
	[STATUS_PUBLISHED] = "published",
	[STATUS_TRASH] = "trash",
};
const char *const db_format_names[FORMAT__MAX] = {
	[FORMAT_MARKDOWN] = "markdown",
	[FORMAT_HTML] = "html",
};
const char *const db_ctype_names[CTYPE__MAX] = {
	[CTYPE_COMMENT] = "comment",
	[CTYPE_TRACKBACK] = "trackback",
	[CTYPE_PINGBACK] = "pingback",
};
const char *const db_cstatus_names[CSTATUS__MAX] = {
	[CSTATUS_PENDING] = "pending",
	[CSTATUS_APPROVED] = "approved",
	[CSTATUS_SPAM] = "spam",
	[CSTATUS_TRASH] = "trash",
};

static const char *const err_names[STORE__MAX] = {
	[STORE_OK] = "ok",
	[STORE_NOTFOUND] = "not found",
	[STORE_CONFLICT] = "already exists",
	[STORE_INVALID] = "invalid value",
	[STORE_BUSY] = "database busy",
	[STORE_ERROR] = "database error",
	[STORE_FULL] = "no space left for the database",
	[STORE_READONLY] = "database is read-only",
};

/* See store_int.h. */
void
db_errf(buf *err, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL)
		return;
	va_start(ap, fmt);
	buf_vprintf(err, fmt, ap);
	va_end(ap);
}

/* Name of enum value v in names[max], NULL when out of range (the caller
 * answers STORE_INVALID). */
const char *
db_enum_name(const char *const *names, int max, int v)
{
	return v >= 0 && v < max ? names[v] : NULL;
}

/* Column text -> enum index; the schema's CHECKs make a miss impossible,
 * 0 keeps it harmless anyway. */
int
db_enum_col(const char *const *names, int max, struct q *st, int col)
{
	const char *v = db_col_text(st, col, NULL);
	for (int i = 0; v != NULL && i < max; i++)
		if (strcmp(names[i], v) == 0)
			return i;
	return 0;
}

/* ---- statements ------------------------------------------------------------- */

/* Logs q's failure with the statement name and maps it. Conflicts are
 * ordinary answers (slug taken, like already there) and not logged. A
 * failure that ended store_begin's transaction is kept for the calls that
 * follow (they answer it rather than a bare error); a read-only one makes
 * the connection reopen before the next call. */
static enum store_err
db_fail(struct q *q)
{
	struct conn *c = q->c;
	const struct db_driver *d = c->s->drv;
	enum store_err e = q->rc == DB_BADTEXT ? STORE_INVALID :
	    d->err_map(c->h, q->rc, q->sys_errno);
	if (e == STORE_OK)
		e = STORE_ERROR;
	if (q->rc == DB_BADTEXT)
		obs_warn("store: %s: text that is not UTF-8 refused",
		    db_stmts[q->id].name);
	else if (e == STORE_FULL || e == STORE_READONLY)
		obs_error("store: %s: cannot write %s: %s (%s; %s)",
		    db_stmts[q->id].name, c->s->path, store_strerror(e),
		    d->errmsg(c->h), e == STORE_FULL ?
		    "free some space: writes succeed again without a restart" :
		    "make the file and its directory writable by kiji's user");
	else if (e != STORE_CONFLICT)
		obs_error("store: %s: %s (%d)", db_stmts[q->id].name,
		    d->errmsg(c->h), q->rc);
	if (c->in_tx && c->tx_err == STORE_OK && d->autocommit(c->h))
		c->tx_err = e;
	if (e == STORE_READONLY)
		c->reopen = true;
	return e;
}

/* See store_int.h. */
const char *
db_sql(const struct db_driver *d, enum stmt id)
{
	return d->sql != NULL && d->sql[id] != NULL ? d->sql[id]
						    : db_stmts[id].sql;
}

/* Readies statement id on c for one use, preparing it on first use. */
enum store_err
db_open(struct q *q, struct conn *c, enum stmt id)
{
	const struct db_driver *d = c->s->drv;
	q->c = c;
	q->id = id;
	q->st = NULL;
	q->rc = DB_OK;
	if (c->st[id] == NULL) {
		q->rc = d->prepare(c->h, id, db_sql(d, id), &c->st[id]);
		if (q->rc != DB_OK) {
			c->st[id] = NULL;
			return db_fail(q);
		}
	}
	q->st = c->st[id];
	return STORE_OK;
}

/* Resets q's statement and drops its bindings (so no caller memory stays
 * referenced); safe on a q that never opened. */
void
db_close(struct q *q)
{
	if (q->st == NULL)
		return;
	q->c->s->drv->reset(q->st);
	q->st = NULL;
}

/* Whether q's statement has parameter name (statements that share a
 * caller but not every parameter). */
bool
db_has_param(struct q *q, const char *name)
{
	return q->st != NULL && q->c->s->drv->param(q->st, name) != 0;
}

/* Index of parameter name, 0 (and an error kept in q) when the statement
 * has none: a typo here is a bug and must not pass silently as NULL. */
static int
db_param(struct q *q, const char *name)
{
	if (q->rc != DB_OK || q->st == NULL)
		return 0;
	int i = q->c->s->drv->param(q->st, name);
	if (i == 0) {
		obs_error("store: %s: no parameter %s",
		    db_stmts[q->id].name, name);
		q->rc = DB_MISUSE;
	}
	return i;
}

/* Binds an integer; like every db_* bind, a failure waits in q->rc. */
void
db_int(struct q *q, const char *name, int64_t v)
{
	int i = db_param(q, name);
	if (i)
		q->rc = q->c->s->drv->bind_int(q->st, i, v);
}

/* An optional reference: 0 is NULL in the database. */
void
db_id(struct q *q, const char *name, int64_t v)
{
	int i = db_param(q, name);
	if (i)
		q->rc = v ? q->c->s->drv->bind_int(q->st, i, v)
			  : q->c->s->drv->bind_null(q->st, i);
}

/* Text for a NOT NULL column: NULL is taken as "". Text that is not
 * UTF-8 fails the statement (STORE_INVALID) on every backend. The
 * caller's memory is referenced until db_close. */
void
db_text(struct q *q, const char *name, const char *v)
{
	int i = db_param(q, name);
	if (i && v != NULL && !text_utf8_valid(v, strlen(v)))
		q->rc = DB_BADTEXT;
	else if (i)
		q->rc = q->c->s->drv->bind_text(q->st, i, v ? v : "");
}

/* ids as a JSON array ("[1,2,3]") in a, for a statement that reads
 * them with json_each (json_array_elements_text on PostgreSQL): one
 * prepared statement for any number of ids. */
const char *
db_ids_json(arena *a, const int64_t *ids, size_t n)
{
	char *out = arena_alloc(a, n * 21 + 3), *p = out;
	*p++ = '[';
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s%lld", i ? "," : "", (long long)ids[i]);
	*p++ = ']';
	*p = '\0';
	return out;
}

/* Optional text: NULL or "" is SQL NULL; not UTF-8 as db_text. */
void
db_text_null(struct q *q, const char *name, const char *v)
{
	int i = db_param(q, name);
	if (i && v != NULL && !text_utf8_valid(v, strlen(v)))
		q->rc = DB_BADTEXT;
	else if (i)
		q->rc = v && *v ? q->c->s->drv->bind_text(q->st, i, v)
				: q->c->s->drv->bind_null(q->st, i);
}

/* Binds bytes; the caller keeps them alive until db_close. */
void
db_blob(struct q *q, const char *name, const void *p, size_t n)
{
	int i = db_param(q, name);
	if (i)
		q->rc = q->c->s->drv->bind_blob(q->st, i, p, n);
}

/* Steps q: true with a row ready; false when done (*e = OK) or failed
 * (*e says how, logged). A bind error surfaces here. */
bool
db_row(struct q *q, enum store_err *e)
{
	if (q->rc == DB_OK) {
		errno = 0;
		int rc = q->c->s->drv->step(q->st);
		q->sys_errno = errno;
		if (rc == DB_ROW) {
			*e = STORE_OK;
			return true;
		}
		if (rc == DB_DONE) {
			*e = STORE_OK;
			return false;
		}
		q->rc = rc;
	}
	*e = db_fail(q);
	return false;
}

/* Runs q to completion (rows, if any, ignored). */
enum store_err
db_exec(struct q *q)
{
	enum store_err e;
	while (db_row(q, &e))
		;
	return e;
}

/* Column i of q's current row as an integer (0 for NULL). */
int64_t
db_col_int(struct q *q, int i)
{
	return q->c->s->drv->col_int(q->st, i);
}

double
db_col_double(struct q *q, int i)
{
	return q->c->s->drv->col_double(q->st, i);
}

/* Column i's text and its length in *n (when n is not NULL); NULL for
 * NULL. Valid until the next step. */
const char *
db_col_text(struct q *q, int i, size_t *n)
{
	size_t len = 0;
	const char *p = q->c->s->drv->col_text(q->st, i, &len);
	if (n != NULL)
		*n = p ? len : 0;
	return p;
}

/* Column i's bytes and their length in *n. */
const void *
db_col_blob(struct q *q, int i, size_t *n)
{
	size_t len = 0;
	const void *p = q->c->s->drv->col_blob(q->st, i, &len);
	*n = p ? len : 0;
	return p;
}

/* Column i as arena text ("" for NULL). */
const char *
db_col_str(arena *a, struct q *q, int i)
{
	size_t n;
	const char *p = db_col_text(q, i, &n);
	return p == NULL ? "" : arena_strndup(a, p, n);
}

/* Column i cut to at most max bytes, backing off to the start of a UTF-8
 * sequence so the result stays valid; listings stay light this way. */
const char *
db_col_str_cut(arena *a, struct q *q, int i, size_t max)
{
	size_t n;
	const char *p = db_col_text(q, i, &n);
	if (p == NULL)
		return "";
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
			n--;
	}
	return arena_strndup(a, p, n);
}

/* Rows the connection's last write touched. */
int64_t
db_changes(struct conn *c)
{
	return c->s->drv->changes(c->h);
}

/* The id the connection's last insert made. */
int64_t
db_last_id(struct conn *c)
{
	return c->s->drv->last_id(c->h);
}

/* Whether no transaction is open on c. */
bool
db_autocommit(struct conn *c)
{
	return c->s->drv->autocommit(c->h);
}

/* Grows an arena array to hold n+1 elements; old copies stay in the arena
 * (at most as much again), which is cheaper than malloc bookkeeping. */
void *
db_grow(arena *a, void *p, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return p;
	size_t nc = *cap ? *cap * 2 : 8;
	void *np = arena_alloc(a, nc * size);
	if (n)
		memcpy(np, p, n * size);
	*cap = nc;
	return np;
}

/* Steps q through its remaining rows into an arena array of size-byte
 * elements, read filling each (arena memory: fields it leaves are zero).
 * The array and its length in *n; on an error NULL and 0, the error in
 * *e (STORE_OK otherwise). */
void *
db_rows(struct q *q, arena *a, size_t size, db_read_fn *read, size_t *n,
    enum store_err *e)
{
	char *v = NULL;
	size_t cnt = 0, cap = 0;
	while (db_row(q, e)) {
		v = db_grow(a, v, cnt, &cap, size);
		read(q, a, v + cnt++ * size);
	}
	if (*e != STORE_OK) {
		v = NULL;
		cnt = 0;
	}
	*n = cnt;
	return v;
}

/* Reads q's one row into *row with read: STORE_NOTFOUND when there is
 * none, q's error when stepping fails. */
enum store_err
db_one(struct q *q, arena *a, db_read_fn *read, void *row)
{
	enum store_err e;
	if (db_row(q, &e))
		read(q, a, row);
	else if (e == STORE_OK)
		e = STORE_NOTFOUND;
	return e;
}

/* Column 0 as an int64_t: the reader of a list of ids. */
void
db_id_row(struct q *st, arena *a, void *row)
{
	(void)a;
	*(int64_t *)row = db_col_int(st, 0);
}

/* (id, t) as a struct store_stamp: the sitemap's rows. */
void
db_stamp_row(struct q *st, arena *a, void *row)
{
	struct store_stamp *o = row;
	(void)a;
	o->id = db_col_int(st, 0);
	o->t = db_col_int(st, 1);
}

/* (id, slug, name) as a struct store_tag. */
void
db_tag_row(struct q *st, arena *a, void *row)
{
	struct store_tag *o = row;
	o->id = db_col_int(st, 0);
	o->slug = db_col_str(a, st, 1);
	o->name = db_col_str(a, st, 2);
}

/* One integer from a one-row statement with an optional :now. */
enum store_err
db_one_int(store *s, enum stmt id, const char *param, int64_t arg,
    int64_t *out)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;

	*out = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, id)) != STORE_OK)
		goto err;
	if (param)
		db_int(&q, param, arg);
	if (db_row(&q, &e))
		*out = db_col_int(&q, 0);
err:
	db_close(&q);
	return e;
}

/* Runs a one-row write keyed by one text parameter; NOTFOUND when it
 * changed nothing. */
enum store_err
db_exec_text(store *s, enum stmt id, const char *param, const char *v)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, id)) != STORE_OK)
		goto err;
	db_text(&q, param, v);
	if ((e = db_exec(&q)) == STORE_OK && db_changes(c) == 0)
		e = STORE_NOTFOUND;
err:
	db_close(&q);
	return e;
}

/* The same keyed by one integer. */
enum store_err
db_exec_int(store *s, enum stmt id, const char *param, int64_t v)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, id)) != STORE_OK)
		goto err;
	db_int(&q, param, v);
	if ((e = db_exec(&q)) == STORE_OK && db_changes(c) == 0)
		e = STORE_NOTFOUND;
err:
	db_close(&q);
	return e;
}

/* Rows of (status name, count) into counts[] by enum. */
enum store_err
db_status_counts(struct q *q, const char *const *names, int max,
    int64_t *counts)
{
	enum store_err e;
	for (int i = 0; i < max; i++)
		counts[i] = 0;
	while (db_row(q, &e))
		counts[db_enum_col(names, max, q, 0)] += db_col_int(q, 1);
	return e;
}

/* ---- connections ------------------------------------------------------------ */

/* Finalizes every statement and closes the connection. */
static void
conn_free(struct conn *c)
{
	const struct db_driver *d = c->s->drv;
	for (int i = 0; i < STMT__MAX; i++)
		if (c->st[i] != NULL)
			d->finalize(c->st[i]);
	if (c->h != NULL)
		d->close(c->h);
	free(c->fts_ids);
	free(c);
}

/* TLS destructor: a thread that used the store exits; drop its
 * connection from the list and close it. */
static void
conn_destructor(void *p)
{
	struct conn *c = p;
	store *s = c->s;
	pthread_mutex_lock(&s->mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&s->mu);
	conn_free(c);
}

/* Begins a write transaction: BEGIN_IMMEDIATE, then the dialect's
 * WRITE_LOCK when it has one (PostgreSQL: see pg_stmts.c); rolled back
 * when the lock is not had. */
static enum store_err
db_begin_write(struct conn *c)
{
	const struct db_driver *d = c->s->drv;
	enum store_err e = db_conn_run(c, STMT_BEGIN_IMMEDIATE);
	if (e == STORE_OK && d->sql != NULL && d->sql[STMT_WRITE_LOCK] != NULL &&
	    (e = db_conn_run(c, STMT_WRITE_LOCK)) != STORE_OK)
		db_conn_run(c, STMT_ROLLBACK);
	return e;
}

/* Runs a one-shot control statement (BEGIN, COMMIT, ...). */
enum store_err
db_conn_run(struct conn *c, enum stmt id)
{
	struct q q = {0};
	enum store_err e = db_open(&q, c, id);
	if (e == STORE_OK)
		e = db_exec(&q);
	db_close(&q);
	return e;
}

/* Seconds on the monotonic clock (reopen throttling). */
static int64_t
mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* Opens this thread's connection and registers it in TLS and in the
 * store's list. NULL on failure, with a message in err. A driver may open
 * a database it cannot write read-only (SQLite does, without a word): the
 * first connection (store_open) has been refused by the driver then; a
 * later one is kept for reading and marked to try again (the permissions
 * may be fixed meanwhile). */
static struct conn *
conn_attach(store *s, bool first, buf *err)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	bool readonly = false;

	c->s = s;
	if ((c->h = s->drv->open(s, first, &readonly, err)) == NULL) {
		conn_free(c);
		return NULL;
	}
	if (readonly) {
		c->reopen = true;
		c->reopen_at = mono_s() + STORE_REOPEN_S;
	}
	pthread_mutex_lock(&s->mu);
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	pthread_mutex_unlock(&s->mu);
	if (pthread_setspecific(s->key, c) != 0) {
		conn_destructor(c);
		db_errf(err, "store: pthread_setspecific failed");
		return NULL;
	}
	return c;
}

/* Whether c is between calls: no transaction, no statement running. */
static bool
conn_idle(struct conn *c)
{
	return !c->in_tx && c->s->drv->idle(c->h);
}

/* This thread's connection, opened on first use. NULL (logged) when it
 * cannot be opened. One that met a read-only database is replaced by a
 * fresh one when idle (SQLite never upgrades a connection that opened
 * read-only, nor one whose file was moved away), so fixing permissions
 * needs no restart; when the new one cannot open the old one stays. */
struct conn *
db_conn_get(store *s)
{
	struct conn *c = pthread_getspecific(s->key), *old = NULL;
	buf err;
	if (c != NULL && !c->reopen)
		return c;
	if (c != NULL) {
		if (c->reopen_at > mono_s() || !conn_idle(c))
			return c;
		old = c;
		old->reopen_at = mono_s() + STORE_REOPEN_S;
	}
	buf_init(&err, 1024);
	c = conn_attach(s, false, &err);
	if (c == NULL) {
		obs_error("store: %s", buf_cstr(&err));
		c = old;
		if (old != NULL)
			pthread_setspecific(s->key, old);
	} else if (old != NULL) {
		conn_destructor(old);
	}
	buf_free(&err);
	return c;
}

/* ---- transactions ------------------------------------------------------------ */

/*
 * Starts what one store call needs to be atomic: a transaction (IMMEDIATE
 * for writes) or, inside store_begin's, a savepoint so a failed call undoes
 * only itself.
 */
enum store_err
db_tx_begin(struct conn *c, bool write, struct tx *t)
{
	bool autocommit = db_autocommit(c) != 0;
	enum store_err e;

	t->active = false;
	if (c->in_tx && autocommit) {
		/* SQLite rolled store_begin's transaction back after an
		 * error; writing on in autocommit would lose atomicity */
		return c->tx_err != STORE_OK ? c->tx_err : STORE_ERROR;
	}
	t->outer = autocommit;
	e = !t->outer ? db_conn_run(c, STMT_SAVEPOINT) : write ?
	    db_begin_write(c) : db_conn_run(c, STMT_BEGIN);
	t->active = e == STORE_OK;
	return e;
}

/* Ends t: commits (or releases) when e is OK, else rolls back. Returns e,
 * or the commit's error. Callers close their statements first. */
enum store_err
db_tx_end(struct conn *c, struct tx *t, enum store_err e)
{
	if (!t->active)
		return e;
	t->active = false;
	if (e == STORE_OK) {
		e = db_conn_run(c, t->outer ? STMT_COMMIT : STMT_RELEASE);
		if (e == STORE_OK)
			return e;
	}
	if (db_autocommit(c))
		return e; /* SQLite already rolled everything back */
	if (t->outer) {
		db_conn_run(c, STMT_ROLLBACK);
	} else {
		db_conn_run(c, STMT_ROLLBACK_TO);
		db_conn_run(c, STMT_RELEASE);
	}
	return e;
}

/* IMMEDIATE: the batch will write, so take the lock now rather than
 * fail with BUSY halfway through. Not nestable. */
enum store_err
store_begin(store *s)
{
	struct conn *c = db_conn_get(s);
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (c->in_tx || !db_autocommit(c)) {
		obs_error("store: store_begin inside a transaction");
		return STORE_ERROR;
	}
	e = db_begin_write(c);
	if (e == STORE_OK)
		c->in_tx = true;
	c->tx_err = STORE_OK;
	return e;
}

static enum store_err fts_flush(struct conn *c);

/* On failure (BUSY) the transaction stays open: retry or roll back. */
enum store_err
store_commit(store *s)
{
	struct conn *c = db_conn_get(s);
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (!c->in_tx) {
		obs_error("store: store_commit without store_begin");
		return STORE_ERROR;
	}
	if (db_autocommit(c)) {
		/* an error ended it; that error was logged where it happened */
		c->in_tx = false;
		c->fts_n = 0;
		return c->tx_err != STORE_OK ? c->tx_err : STORE_ERROR;
	}
	/* deferred index entries commit with their articles, never after */
	if ((e = fts_flush(c)) != STORE_OK)
		return e;
	e = db_conn_run(c, STMT_COMMIT);
	if (e == STORE_OK || db_autocommit(c))
		c->in_tx = false;
	return e;
}

/* Also clears a transaction SQLite already rolled back itself. */
enum store_err
store_rollback(store *s)
{
	struct conn *c = db_conn_get(s);
	enum store_err e = STORE_OK;
	if (c == NULL)
		return STORE_ERROR;
	if (!db_autocommit(c))
		e = db_conn_run(c, STMT_ROLLBACK);
	c->in_tx = false;
	c->fts_n = 0; /* their articles are gone too */
	return e;
}

/* See store.h; db_tx_begin/db_tx_end for callers above the store. The outer
 * transaction marks the connection in_tx so that store calls inside it
 * notice a rollback SQLite did on its own. */
enum store_err
store_atomic_begin(store *s, struct store_atomic *t)
{
	struct conn *c = db_conn_get(s);
	struct tx x = {0};
	enum store_err e;
	t->active = t->outer = false;
	if (c == NULL)
		return STORE_ERROR;
	e = db_tx_begin(c, true, &x);
	t->active = x.active;
	t->outer = x.outer;
	if (e == STORE_OK && x.outer)
		c->in_tx = true;
	return e;
}

enum store_err
store_atomic_end(store *s, struct store_atomic *t, enum store_err e)
{
	struct conn *c = db_conn_get(s);
	struct tx x = {t->active, t->outer};
	if (c == NULL)
		return STORE_ERROR;
	if (!t->active)
		return e;
	t->active = false;
	if (x.outer && e == STORE_OK)
		e = fts_flush(c);
	if (x.outer) {
		c->in_tx = false;
		if (e != STORE_OK)
			c->fts_n = 0;
	}
	return db_tx_end(c, &x, e);
}

/* Indexes every pending article (the driver's fts_index), then forgets
 * them. */
static enum store_err
fts_flush(struct conn *c)
{
	enum store_err e;
	if (c->fts_n == 0)
		return STORE_OK;
	e = c->s->drv->fts_index(c, c->fts_ids, c->fts_n);
	if (e == STORE_OK)
		c->fts_n = 0;
	return e;
}

/* Turning it off writes what waits, in the caller's transaction. */
enum store_err
store_fts_defer(store *s, bool on, int cache_mib)
{
	struct conn *c = db_conn_get(s);
	if (c == NULL)
		return STORE_ERROR;
	c->fts_defer = on;
	/* Turning it off gives the memory back (SQLite shrinks the cache
	 * to the new size). */
	s->drv->bulk(c->h, on ? cache_mib : 0);
	return on ? STORE_OK : fts_flush(c);
}

/* Applies every migration not yet recorded, each in its own IMMEDIATE
 * transaction (so two processes opening a new file at once apply each
 * migration once), under MIGRATE_LOCK (PostgreSQL: an advisory lock, as
 * its transactions do not take turns by themselves). Refuses a database
 * from a newer kiji. */
static enum store_err
migrate(struct conn *c, buf *err)
{
	const struct db_driver *d = c->s->drv;
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	int64_t have = 0;
	bool locked = false;

	if ((e = db_conn_run(c, STMT_MIGRATE_LOCK)) != STORE_OK)
		goto err;
	locked = true;
	if ((e = db_conn_run(c, STMT_MIGRATIONS_INIT)) != STORE_OK)
		goto err;
	if ((e = db_open(&q, c, STMT_MIGRATIONS_MAX)) != STORE_OK)
		goto err;
	if (db_row(&q, &e))
		have = db_col_int(&q, 0);
	db_close(&q);
	if (e != STORE_OK)
		goto err;
	if (have > d->schema_version()) {
		db_errf(err, "database schema version %" PRId64 " is newer "
		    "than this kiji's (%d)", have, d->schema_version());
		return STORE_ERROR;
	}
	for (int v = 1; v <= d->schema_version(); v++) {
		bool done;
		if ((e = db_tx_begin(c, true, &t)) != STORE_OK)
			goto err;
		if ((e = db_open(&q, c, STMT_MIGRATION_HAS)) != STORE_OK)
			goto err;
		db_int(&q, ":v", v);
		done = db_row(&q, &e);
		db_close(&q);
		if (e != STORE_OK)
			goto err;
		if (!done) {
			if (d->script(c->h, d->migration(v), err) != DB_OK) {
				db_errf(err, " (migration %d)", v);
				e = STORE_ERROR;
				goto err;
			}
			if ((e = db_open(&q, c, STMT_MIGRATION_RECORD)) != STORE_OK)
				goto err;
			db_int(&q, ":v", v);
			db_int(&q, ":now", (int64_t)time(NULL));
			e = db_exec(&q);
			db_close(&q);
			if (e != STORE_OK)
				goto err;
		}
		if ((e = db_tx_end(c, &t, STORE_OK)) != STORE_OK)
			goto err;
	}
	return db_conn_run(c, STMT_MIGRATE_UNLOCK);
err:
	db_close(&q);
	e = db_tx_end(c, &t, e);
	if (locked)
		(void)db_conn_run(c, STMT_MIGRATE_UNLOCK);
	if (err != NULL && err->len == 0)
		db_errf(err, "migrating: %s", d->errmsg(c->h));
	return e;
}

/* A SQLite path ("sqlite:" optional) or a PostgreSQL URL: the driver for
 * it (both are always built in). */
static const struct db_driver *
driver_for(const char *url, const char **path)
{
	*path = url;
	if (strncmp(url, "postgresql://", 13) == 0 ||
	    strncmp(url, "postgres://", 11) == 0)
		return &db_pg;
	if (strncmp(url, "sqlite:", 7) == 0)
		*path = url + 7;
	return &db_sqlite;
}

/* The driver's preparation (SQLite: the file, mode 0600, and its lock),
 * then this thread's connection, then (with migrate) the migrations; any
 * failure undoes all of it and says why in err. */
static store *
store_open_as(const char *url, bool migrating, buf *err)
{
	store *s = NULL;
	const struct db_driver *d;
	const char *path;
	struct conn *c;

	if (url == NULL || *url == '\0') {
		db_errf(err, "no database path");
		return NULL;
	}
	d = driver_for(url, &path);
	if (*path == '\0') {
		db_errf(err, "no database path");
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->drv = d;
	s->path = xstrdup(path);
	s->lock_fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	if (d == &db_sqlite && !db_sqlite_prepare_file(s, err))
		goto err;
	if (pthread_key_create(&s->key, conn_destructor) != 0) {
		db_errf(err, "pthread_key_create failed");
		goto err;
	}
	s->key_ok = true;
	if ((c = conn_attach(s, true, err)) == NULL)
		goto err;
	if (migrating && migrate(c, err) != STORE_OK)
		goto err;
	return s;
err:
	store_close(s);
	return NULL;
}

/* See store.h. */
store *
store_open(const char *url, buf *err)
{
	return store_open_as(url, true, err);
}

/* See store.h: a SQLite file must exist (store_open would make it); the
 * schema version is read, never written (no MIGRATIONS_INIT). */
store *
store_open_inspect(const char *url, struct store_facts *f, buf *err)
{
	const char *path;
	struct conn *c;
	struct q q = {0};
	enum store_err e;
	bool present = false;
	store *s;

	memset(f, 0, sizeof(*f));
	if (url != NULL && driver_for(url, &path) == &db_sqlite &&
	    access(path, F_OK) != 0) {
		db_errf(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((s = store_open_as(url, false, err)) == NULL)
		return NULL;
	c = db_conn_get(s);
	snprintf(f->backend, sizeof f->backend, "%s", s->drv->name);
	f->latest = s->drv->schema_version();
	e = c ? db_open(&q, c, STMT_SERVER_VERSION) : STORE_ERROR;
	if (e == STORE_OK && db_row(&q, &e))
		snprintf(f->server, sizeof f->server, "%s",
		    db_col_text(&q, 0, NULL));
	db_close(&q);
	if (e == STORE_OK && (e = db_open(&q, c, STMT_SCHEMA_PRESENT)) ==
	    STORE_OK && db_row(&q, &e))
		present = db_col_int(&q, 0) > 0;
	db_close(&q);
	if (e == STORE_OK && present && (e = db_open(&q, c,
	    STMT_MIGRATIONS_MAX)) == STORE_OK && db_row(&q, &e))
		f->schema = db_col_int(&q, 0);
	db_close(&q);
	if (e != STORE_OK || f->schema == 0) {
		db_errf(err, "%s", e != STORE_OK ? store_strerror(e) :
		    "the database holds no kiji site");
		store_close(s);
		return NULL;
	}
	return s;
}

/* See store.h. */
enum store_err
store_recent_ips(store *s, int limit, int64_t *n, int64_t *loopback)
{
	struct conn *c = db_conn_get(s);
	struct q q = {0};
	enum store_err e;
	*n = *loopback = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = db_open(&q, c, STMT_DOCTOR_RECENT_IPS)) != STORE_OK)
		return e;
	db_int(&q, ":n", limit);
	if (db_row(&q, &e)) {
		*n = db_col_int(&q, 0);
		*loopback = db_col_int(&q, 1);
	}
	db_close(&q);
	return e;
}

/* Call when no other thread is inside the store any more (after joining
 * the server's workers): it closes their connections under them. */
void
store_close(store *s)
{
	if (s == NULL)
		return;
	if (s->drv != NULL && s->drv->shutdown != NULL)
		s->drv->shutdown(s);
	if (s->key_ok)
		pthread_key_delete(s->key); /* no destructor runs after this */
	pthread_mutex_lock(&s->mu);
	while (s->conns) {
		struct conn *c = s->conns;
		s->conns = c->next;
		conn_free(c);
	}
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_destroy(&s->mu);
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* after SQLite's descriptors: see above */
	free(s->path);
	free(s);
}

/* Short English names for logs and CLI messages. */
const char *
store_strerror(enum store_err e)
{
	const char *m = db_enum_name(err_names, STORE__MAX, (int)e);
	return m ? m : "unknown store error";
}

/* See store.h. */
bool
store_remote(store *s)
{
	return s->drv->remote;
}

/* What changed since: a number that moves when another connection (or
 * process, or node) has committed a write. Per connection on SQLite:
 * compare values taken on the same thread only. -1 on error. */
int64_t
store_data_version(store *s)
{
	struct conn *c = db_conn_get(s);
	return c == NULL ? -1 : s->drv->data_version(c);
}
