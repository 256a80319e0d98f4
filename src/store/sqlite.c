/*
 * store.h on SQLite: the plumbing. Each thread gets its own connection
 * (pthread TLS) with its own prepared statements; every statement comes
 * from the one table in sqlite_stmts.c, is prepared lazily once per
 * connection and has all its values bound. WAL + synchronous=FULL: a write
 * that returned is on disk. The public functions of each area live in
 * sqlite_<area>.c on the helpers declared in sqlite_int.h.
 */
#include "sqlite_int.h"
#include "schema.h"
#include "fts.h"
#include "../obs/obs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#define STORE_BUSY_MS 5000      /* wait this long for another writer */
#define STORE_REOPEN_S 1        /* a connection that opened read-only tries
                                 * again at most this often */

/* Per connection: WAL survives in the file, the rest is per connection.
 * 4 MiB page cache per thread. Reads go through pread, not mmap: the
 * kernel's page cache holds the file either way, but mapped pages count
 * in kiji's RSS (up to the mmap size per thread) and a big site would
 * look hundreds of MB large. */
static const char store_pragmas[] =
    "PRAGMA journal_mode = WAL;" SQ_CONN_PRAGMAS;

/* ---- enums as the TEXT values the schema checks ----------------------- */

const char *const sq_role_names[ROLE__MAX] = {
	[ROLE_ADMIN] = "admin",
	[ROLE_EDITOR] = "editor",
	[ROLE_AUTHOR] = "author",
};
const char *const sq_kind_names[KIND__MAX] = {
	[KIND_POST] = "post",
	[KIND_PAGE] = "page",
};
const char *const sq_status_names[STATUS__MAX] = {
	[STATUS_DRAFT] = "draft",
	[STATUS_SCHEDULED] = "scheduled",
	[STATUS_PUBLISHED] = "published",
	[STATUS_TRASH] = "trash",
};
const char *const sq_format_names[FORMAT__MAX] = {
	[FORMAT_MARKDOWN] = "markdown",
	[FORMAT_HTML] = "html",
};
const char *const sq_ctype_names[CTYPE__MAX] = {
	[CTYPE_COMMENT] = "comment",
	[CTYPE_TRACKBACK] = "trackback",
	[CTYPE_PINGBACK] = "pingback",
};
const char *const sq_cstatus_names[CSTATUS__MAX] = {
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

/* Appends a formatted message to err when the caller gave one. */
static void __attribute__((format(printf, 2, 3)))
errf(buf *err, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL)
		return;
	va_start(ap, fmt);
	buf_vprintf(err, fmt, ap);
	va_end(ap);
}

/* SQLite result code -> store_err. Extended codes are on, so unique and
 * primary-key violations can be told from CHECK/NOT NULL/foreign keys.
 * SQLite reports ENOSPC and short writes as SQLITE_FULL; other refused
 * writes (EDQUOT, EFBIG, EROFS) come as SQLITE_IOERR, told apart by the
 * system's errno: SQLite's own record of it (sqlite3_system_errno) is not
 * kept on the commit path, so sys is errno as the failed step left it. */
static enum store_err
err_map(int rc, sqlite3 *db, int sys)
{
	if (db != NULL && sqlite3_system_errno(db) != 0)
		sys = sqlite3_system_errno(db);
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return STORE_FULL;
	case SQLITE_READONLY:
		return STORE_READONLY;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
		if (sys == ENOSPC || sys == EDQUOT || sys == EFBIG)
			return STORE_FULL;
		if (sys == EROFS || sys == EACCES || sys == EPERM)
			return STORE_READONLY;
		return STORE_ERROR;
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return STORE_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_BUSY;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE ||
		    rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return STORE_CONFLICT;
		return STORE_INVALID;
	case SQLITE_TOOBIG:
	case SQLITE_MISMATCH:
		return STORE_INVALID;
	default:
		return STORE_ERROR;
	}
}

/* Name of enum value v in names[max], NULL when out of range (the caller
 * answers STORE_INVALID). */
const char *
sq_enum_name(const char *const *names, int max, int v)
{
	return v >= 0 && v < max ? names[v] : NULL;
}

/* Column text -> enum index; the schema's CHECKs make a miss impossible,
 * 0 keeps it harmless anyway. */
int
sq_enum_col(const char *const *names, int max, sqlite3_stmt *st, int col)
{
	const char *v = (const char *)sqlite3_column_text(st, col);
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
sq_fail(struct q *q)
{
	struct conn *c = q->c;
	enum store_err e = err_map(q->rc, c->db, q->sys_errno);
	if (e == STORE_OK)
		e = STORE_ERROR;
	if (e == STORE_FULL || e == STORE_READONLY)
		obs_error("store: %s: cannot write %s: %s (%s; %s)",
		    sq_stmts[q->id].name, c->s->path, store_strerror(e),
		    sqlite3_errmsg(c->db), e == STORE_FULL ?
		    "free some space: writes succeed again without a restart" :
		    "make the file and its directory writable by kiji's user");
	else if (e != STORE_CONFLICT)
		obs_error("store: %s: %s (%d)", sq_stmts[q->id].name,
		    sqlite3_errmsg(c->db), q->rc);
	if (c->in_tx && c->tx_err == STORE_OK && sqlite3_get_autocommit(c->db))
		c->tx_err = e;
	if (e == STORE_READONLY)
		c->reopen = true;
	return e;
}

/* Readies statement id on c for one use, preparing it on first use. */
enum store_err
sq_open(struct q *q, struct conn *c, enum stmt id)
{
	q->c = c;
	q->id = id;
	q->st = NULL;
	q->rc = SQLITE_OK;
	if (c->st[id] == NULL) {
		q->rc = sqlite3_prepare_v3(c->db, sq_stmts[id].sql, -1,
		    SQLITE_PREPARE_PERSISTENT, &c->st[id], NULL);
		if (q->rc != SQLITE_OK)
			return sq_fail(q);
	}
	q->st = c->st[id];
	return STORE_OK;
}

/* Resets q's statement and drops its bindings (so no caller memory stays
 * referenced); safe on a q that never opened. */
void
sq_close(struct q *q)
{
	if (q->st == NULL)
		return;
	sqlite3_reset(q->st);
	sqlite3_clear_bindings(q->st);
	q->st = NULL;
}

/* Index of parameter name, 0 (and an error kept in q) when the statement
 * has none: a typo here is a bug and must not pass silently as NULL. */
static int
sq_param(struct q *q, const char *name)
{
	if (q->rc != SQLITE_OK || q->st == NULL)
		return 0;
	int i = sqlite3_bind_parameter_index(q->st, name);
	if (i == 0) {
		obs_error("store: %s: no parameter %s",
		    sq_stmts[q->id].name, name);
		q->rc = SQLITE_MISUSE;
	}
	return i;
}

/* Binds an integer; like every sq_* bind, a failure waits in q->rc. */
void
sq_int(struct q *q, const char *name, int64_t v)
{
	int i = sq_param(q, name);
	if (i)
		q->rc = sqlite3_bind_int64(q->st, i, (sqlite3_int64)v);
}

/* An optional reference: 0 is NULL in the database. */
void
sq_id(struct q *q, const char *name, int64_t v)
{
	int i = sq_param(q, name);
	if (i)
		q->rc = v ? sqlite3_bind_int64(q->st, i, (sqlite3_int64)v)
			  : sqlite3_bind_null(q->st, i);
}

/* Text for a NOT NULL column: NULL is taken as "". The caller's memory
 * is referenced until sq_close. */
void
sq_text(struct q *q, const char *name, const char *v)
{
	int i = sq_param(q, name);
	if (i)
		q->rc = sqlite3_bind_text(q->st, i, v ? v : "", -1, SQLITE_STATIC);
}

/* Optional text: NULL or "" is SQL NULL. */
void
sq_text_null(struct q *q, const char *name, const char *v)
{
	int i = sq_param(q, name);
	if (i)
		q->rc = v && *v ? sqlite3_bind_text(q->st, i, v, -1, SQLITE_STATIC)
				: sqlite3_bind_null(q->st, i);
}

/* Binds bytes; the caller keeps them alive until sq_close. */
void
sq_blob(struct q *q, const char *name, const void *p, size_t n)
{
	int i = sq_param(q, name);
	if (i)
		/* a NULL pointer would bind SQL NULL, not an empty blob */
		q->rc = n ? sqlite3_bind_blob64(q->st, i, p, n, SQLITE_STATIC)
			  : sqlite3_bind_zeroblob(q->st, i, 0);
}

/* Steps q: true with a row ready; false when done (*e = OK) or failed
 * (*e says how, logged). A bind error surfaces here. */
bool
sq_row(struct q *q, enum store_err *e)
{
	if (q->rc == SQLITE_OK) {
		errno = 0;
		int rc = sqlite3_step(q->st);
		q->sys_errno = errno;
		if (rc == SQLITE_ROW) {
			*e = STORE_OK;
			return true;
		}
		if (rc == SQLITE_DONE) {
			*e = STORE_OK;
			return false;
		}
		q->rc = rc;
	}
	*e = sq_fail(q);
	return false;
}

/* Runs q to completion (rows, if any, ignored). */
enum store_err
sq_exec(struct q *q)
{
	enum store_err e;
	while (sq_row(q, &e))
		;
	return e;
}

/* Column i as arena text ("" for NULL). */
const char *
sq_col_str(arena *a, sqlite3_stmt *st, int i)
{
	const char *p = (const char *)sqlite3_column_text(st, i);
	if (p == NULL)
		return "";
	return arena_strndup(a, p, (size_t)sqlite3_column_bytes(st, i));
}

/* Column i cut to at most max bytes, backing off to the start of a UTF-8
 * sequence so the result stays valid; listings stay light this way. */
const char *
sq_col_str_cut(arena *a, sqlite3_stmt *st, int i, size_t max)
{
	const char *p = (const char *)sqlite3_column_text(st, i);
	if (p == NULL)
		return "";
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
			n--;
	}
	return arena_strndup(a, p, n);
}

/* Grows an arena array to hold n+1 elements; old copies stay in the arena
 * (at most as much again), which is cheaper than malloc bookkeeping. */
void *
sq_grow(arena *a, void *p, size_t n, size_t *cap, size_t size)
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
sq_rows(struct q *q, arena *a, size_t size, sq_read_fn *read, size_t *n,
    enum store_err *e)
{
	char *v = NULL;
	size_t cnt = 0, cap = 0;
	while (sq_row(q, e)) {
		v = sq_grow(a, v, cnt, &cap, size);
		read(q->st, a, v + cnt++ * size);
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
sq_one(struct q *q, arena *a, sq_read_fn *read, void *row)
{
	enum store_err e;
	if (sq_row(q, &e))
		read(q->st, a, row);
	else if (e == STORE_OK)
		e = STORE_NOTFOUND;
	return e;
}

/* Column 0 as an int64_t: the reader of a list of ids. */
void
sq_id_row(sqlite3_stmt *st, arena *a, void *row)
{
	(void)a;
	*(int64_t *)row = sqlite3_column_int64(st, 0);
}

/* (id, t) as a struct store_stamp: the sitemap's rows. */
void
sq_stamp_row(sqlite3_stmt *st, arena *a, void *row)
{
	struct store_stamp *o = row;
	(void)a;
	o->id = sqlite3_column_int64(st, 0);
	o->t = sqlite3_column_int64(st, 1);
}

/* (id, slug, name) as a struct store_tag. */
void
sq_tag_row(sqlite3_stmt *st, arena *a, void *row)
{
	struct store_tag *o = row;
	o->id = sqlite3_column_int64(st, 0);
	o->slug = sq_col_str(a, st, 1);
	o->name = sq_col_str(a, st, 2);
}

/* One integer from a one-row statement with an optional :now. */
enum store_err
sq_one_int(store *s, enum stmt id, const char *param, int64_t arg,
    int64_t *out)
{
	struct conn *c = sq_conn_get(s);
	struct q q = {0};
	enum store_err e;

	*out = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = sq_open(&q, c, id)) != STORE_OK)
		goto err;
	if (param)
		sq_int(&q, param, arg);
	if (sq_row(&q, &e))
		*out = sqlite3_column_int64(q.st, 0);
err:
	sq_close(&q);
	return e;
}

/* Runs a one-row write keyed by one text parameter; NOTFOUND when it
 * changed nothing. */
enum store_err
sq_exec_text(store *s, enum stmt id, const char *param, const char *v)
{
	struct conn *c = sq_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = sq_open(&q, c, id)) != STORE_OK)
		goto err;
	sq_text(&q, param, v);
	if ((e = sq_exec(&q)) == STORE_OK && sqlite3_changes(c->db) == 0)
		e = STORE_NOTFOUND;
err:
	sq_close(&q);
	return e;
}

/* The same keyed by one integer. */
enum store_err
sq_exec_int(store *s, enum stmt id, const char *param, int64_t v)
{
	struct conn *c = sq_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = sq_open(&q, c, id)) != STORE_OK)
		goto err;
	sq_int(&q, param, v);
	if ((e = sq_exec(&q)) == STORE_OK && sqlite3_changes(c->db) == 0)
		e = STORE_NOTFOUND;
err:
	sq_close(&q);
	return e;
}

/* Rows of (status name, count) into counts[] by enum. */
enum store_err
sq_status_counts(struct q *q, const char *const *names, int max,
    int64_t *counts)
{
	enum store_err e;
	for (int i = 0; i < max; i++)
		counts[i] = 0;
	while (sq_row(q, &e))
		counts[sq_enum_col(names, max, q->st, 0)] +=
		    sqlite3_column_int64(q->st, 1);
	return e;
}

/* ---- connections ------------------------------------------------------------ */

/* Finalizes every statement and closes the connection. */
static void
conn_free(struct conn *c)
{
	for (int i = 0; i < STMT__MAX; i++)
		sqlite3_finalize(c->st[i]);
	if (sqlite3_close(c->db) != SQLITE_OK)
		obs_error("store: close: %s", sqlite3_errmsg(c->db));
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

/* Runs a one-shot control statement (BEGIN, COMMIT, ...). */
enum store_err
sq_conn_run(struct conn *c, enum stmt id)
{
	struct q q = {0};
	enum store_err e = sq_open(&q, c, id);
	if (e == STORE_OK)
		e = sq_exec(&q);
	sq_close(&q);
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

/* The name of the user this process runs as, for advice that must say
 * whom to give the files to; its number when the name cannot be looked
 * up (kiji serve's sandbox keeps /etc/passwd out of reach). */
static void
run_as(char *name, size_t size)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];
	if (getpwuid_r(geteuid(), &pw, tmp, sizeof tmp, &res) == 0 &&
	    res != NULL && strlen(pw.pw_name) < size)
		snprintf(name, size, "%s", pw.pw_name);
	else
		snprintf(name, size, "%u", (unsigned)geteuid());
}

/* The advice for a database this user cannot write, appended to err: the
 * chown and chmod that fix it, naming the files that exist. */
static void
readonly_advice(const char *path, buf *err)
{
	char user[64], side[PATH_MAX];
	char *copy = xstrdup(path);
	run_as(user, sizeof user);
	errf(err, "cannot be written by this user (%s, uid %u): kiji needs to "
	    "write the database, its -wal and -shm files and their directory; "
	    "give them to the user kiji runs as (chown %s", user,
	    (unsigned)geteuid(), user);
	for (int i = 0; i < 3; i++) {
		snprintf(side, sizeof side, "%s%s", path,
		    i == 0 ? "" : i == 1 ? "-wal" : "-shm");
		if (i == 0 || access(side, F_OK) == 0)
			errf(err, " %s", side);
	}
	errf(err, " %s && chmod u+rw %s) or run kiji as their owner",
	    dirname(copy), path);
	free(copy);
}

/* Opens this thread's connection, sets it up and registers it in TLS and
 * in the store's list. NULL on failure, with a message in err. SQLite
 * opens a file it may not write read-only without a word: the first
 * connection (store_open) refuses that; a later one is kept for reading
 * and marked to try again (the permissions may be fixed meanwhile). */
static struct conn *
conn_attach(store *s, bool first, buf *err)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	struct q q = {0};
	enum store_err e;
	char *msg = NULL;
	int rc;

	c->s = s;
	/* NOMUTEX: a connection never leaves its thread */
	rc = sqlite3_open_v2(s->path, &c->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		errf(err, "%s: %s", s->path,
		    c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		goto err;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, STORE_BUSY_MS);
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	/* the schema's FTS5 table names our tokenizer */
	if ((rc = store_fts_register(c->db)) != SQLITE_OK) {
		errf(err, "%s: cannot register the search tokenizer (FTS5): %s",
		    s->path, sqlite3_errstr(rc));
		goto err;
	}
	if (sqlite3_exec(c->db, store_pragmas, NULL, NULL, &msg) != SQLITE_OK) {
		errf(err, "%s: %s", s->path, msg ? msg : "pragmas failed");
		goto err;
	}
	/* WAL can be refused (e.g. no shared memory on the file system); the
	 * durability promise rests on it, so say so instead of carrying on. */
	if ((e = sq_open(&q, c, STMT_JOURNAL_MODE)) != STORE_OK ||
	    !sq_row(&q, &e) || sqlite3_column_text(q.st, 0) == NULL ||
	    strcmp((const char *)sqlite3_column_text(q.st, 0), "wal") != 0) {
		errf(err, "%s: cannot use WAL journal mode", s->path);
		goto err;
	}
	sq_close(&q);
	if (sqlite3_db_readonly(c->db, "main") == 1) {
		if (first) {
			readonly_advice(s->path, err);
			goto err;
		}
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
		errf(err, "store: pthread_setspecific failed");
		return NULL;
	}
	return c;
err:
	sq_close(&q);
	sqlite3_free(msg);
	conn_free(c);
	return NULL;
}

/* Whether c is between calls: no transaction, no statement running. */
static bool
conn_idle(struct conn *c)
{
	if (c->in_tx || !sqlite3_get_autocommit(c->db))
		return false;
	for (sqlite3_stmt *p = sqlite3_next_stmt(c->db, NULL); p != NULL;
	    p = sqlite3_next_stmt(c->db, p))
		if (sqlite3_stmt_busy(p))
			return false;
	return true;
}

/* This thread's connection, opened on first use. NULL (logged) when it
 * cannot be opened. One that met a read-only database is replaced by a
 * fresh one when idle (SQLite never upgrades a connection that opened
 * read-only, nor one whose file was moved away), so fixing permissions
 * needs no restart; when the new one cannot open the old one stays. */
struct conn *
sq_conn_get(store *s)
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
sq_tx_begin(struct conn *c, bool write, struct tx *t)
{
	bool autocommit = sqlite3_get_autocommit(c->db) != 0;
	enum store_err e;

	t->active = false;
	if (c->in_tx && autocommit) {
		/* SQLite rolled store_begin's transaction back after an
		 * error; writing on in autocommit would lose atomicity */
		return c->tx_err != STORE_OK ? c->tx_err : STORE_ERROR;
	}
	t->outer = autocommit;
	e = sq_conn_run(c, !t->outer ? STMT_SAVEPOINT
	    : write ? STMT_BEGIN_IMMEDIATE : STMT_BEGIN);
	t->active = e == STORE_OK;
	return e;
}

/* Ends t: commits (or releases) when e is OK, else rolls back. Returns e,
 * or the commit's error. Callers close their statements first. */
enum store_err
sq_tx_end(struct conn *c, struct tx *t, enum store_err e)
{
	if (!t->active)
		return e;
	t->active = false;
	if (e == STORE_OK) {
		e = sq_conn_run(c, t->outer ? STMT_COMMIT : STMT_RELEASE);
		if (e == STORE_OK)
			return e;
	}
	if (sqlite3_get_autocommit(c->db))
		return e; /* SQLite already rolled everything back */
	if (t->outer) {
		sq_conn_run(c, STMT_ROLLBACK);
	} else {
		sq_conn_run(c, STMT_ROLLBACK_TO);
		sq_conn_run(c, STMT_RELEASE);
	}
	return e;
}

/* IMMEDIATE: the batch will write, so take the lock now rather than
 * fail with BUSY halfway through. Not nestable. */
enum store_err
store_begin(store *s)
{
	struct conn *c = sq_conn_get(s);
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (c->in_tx || !sqlite3_get_autocommit(c->db)) {
		obs_error("store: store_begin inside a transaction");
		return STORE_ERROR;
	}
	e = sq_conn_run(c, STMT_BEGIN_IMMEDIATE);
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
	struct conn *c = sq_conn_get(s);
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (!c->in_tx) {
		obs_error("store: store_commit without store_begin");
		return STORE_ERROR;
	}
	if (sqlite3_get_autocommit(c->db)) {
		/* an error ended it; that error was logged where it happened */
		c->in_tx = false;
		c->fts_n = 0;
		return c->tx_err != STORE_OK ? c->tx_err : STORE_ERROR;
	}
	/* deferred index entries commit with their articles, never after */
	if ((e = fts_flush(c)) != STORE_OK)
		return e;
	e = sq_conn_run(c, STMT_COMMIT);
	if (e == STORE_OK || sqlite3_get_autocommit(c->db))
		c->in_tx = false;
	return e;
}

/* Also clears a transaction SQLite already rolled back itself. */
enum store_err
store_rollback(store *s)
{
	struct conn *c = sq_conn_get(s);
	enum store_err e = STORE_OK;
	if (c == NULL)
		return STORE_ERROR;
	if (!sqlite3_get_autocommit(c->db))
		e = sq_conn_run(c, STMT_ROLLBACK);
	c->in_tx = false;
	c->fts_n = 0; /* their articles are gone too */
	return e;
}

/* See store.h; sq_tx_begin/sq_tx_end for callers above the store. The outer
 * transaction marks the connection in_tx so that store calls inside it
 * notice a rollback SQLite did on its own. */
enum store_err
store_atomic_begin(store *s, struct store_atomic *t)
{
	struct conn *c = sq_conn_get(s);
	struct tx x = {0};
	enum store_err e;
	t->active = t->outer = false;
	if (c == NULL)
		return STORE_ERROR;
	e = sq_tx_begin(c, true, &x);
	t->active = x.active;
	t->outer = x.outer;
	if (e == STORE_OK && x.outer)
		c->in_tx = true;
	return e;
}

enum store_err
store_atomic_end(store *s, struct store_atomic *t, enum store_err e)
{
	struct conn *c = sq_conn_get(s);
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
	return sq_tx_end(c, &x, e);
}

/* Indexes every pending article in statements of up to 4096 ids (a
 * bounded JSON list), then forgets them. */
static enum store_err
fts_flush(struct conn *c)
{
	struct q q = {0};
	enum store_err e = STORE_OK;
	buf ids;
	size_t i = 0;

	if (c->fts_n == 0)
		return STORE_OK;
	buf_init(&ids, 0);
	while (i < c->fts_n && e == STORE_OK) {
		buf_reset(&ids);
		buf_putc(&ids, '[');
		for (size_t k = 0; k < 4096 && i < c->fts_n; k++, i++)
			buf_printf(&ids, "%s%" PRId64, k ? "," : "", c->fts_ids[i]);
		buf_putc(&ids, ']');
		if (ids.err) {
			e = STORE_ERROR;
			break;
		}
		if ((e = sq_open(&q, c, STMT_FTS_INDEX_MANY)) != STORE_OK)
			break;
		sq_text(&q, ":ids", buf_cstr(&ids));
		e = sq_exec(&q);
		sq_close(&q);
	}
	sq_close(&q);
	buf_free(&ids);
	if (e == STORE_OK)
		c->fts_n = 0;
	return e;
}

/* Turning it off writes what waits, in the caller's transaction. */
enum store_err
store_fts_defer(store *s, bool on)
{
	struct conn *c = sq_conn_get(s);
	if (c == NULL)
		return STORE_ERROR;
	c->fts_defer = on;
	/* A batch builds B-trees far bigger than the usual page cache: at
	 * 4 MB a 100,000-article demo spent a fifth of its time paging
	 * through the kernel (pread/pwrite). Turning it off gives the
	 * memory back (SQLite shrinks the cache to the new size). */
	sqlite3_exec(c->db, on ? "PRAGMA cache_size = -262144;" :
	    "PRAGMA cache_size = -4096;", NULL, NULL, NULL);
	return on ? STORE_OK : fts_flush(c);
}

/* ---- open, migrate, close ------------------------------------------------------- */

/*
 * Creates the database file mode 0600 before SQLite sees it (SQLite would
 * use the umask, and the file holds secrets); an existing empty file is
 * new too and gets the same mode. SQLite gives -wal/-shm the file's mode.
 */
bool
sq_file_create(const char *path, buf *err)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		/* the umask could only have removed bits; make it exact */
		if (fchmod(fd, 0600) != 0) {
			errf(err, "%s: chmod: %s", path, strerror(errno));
			close(fd);
			return false;
		}
		close(fd);
		return true;
	}
	if (errno != EEXIST) {
		errf(err, "%s: %s", path, strerror(errno));
		return false;
	}
	if (stat(path, &st) != 0) {
		errf(err, "%s: %s", path, strerror(errno));
		return false;
	}
	if (S_ISREG(st.st_mode) && st.st_size == 0 &&
	    (st.st_mode & 07777) != 0600 && chmod(path, 0600) != 0) {
		errf(err, "%s: chmod: %s", path, strerror(errno));
		return false;
	}
	return true;
}

/*
 * See store.h. Whether this user may write what SQLite needs: the
 * directory (the -wal and -shm files are made there, uploads are spooled
 * there) and the files that exist. Said plainly here, because SQLite
 * itself would open an unwritable file read-only and fail only at the
 * first write. access(2) checks the real ids: right after kiji serve
 * --user has dropped root, both are the target user's.
 */
bool
store_writable(const char *path, buf *err)
{
	char *copy = xstrdup(path);
	const char *dir = dirname(copy);
	char side[PATH_MAX];
	bool ok = true;
	if (access(dir, W_OK | X_OK) != 0) {
		const char *why = strerror(errno);
		char user[64];
		run_as(user, sizeof user);
		errf(err, "the directory %s cannot be written by this user (%s, "
		    "uid %u): %s; SQLite keeps the database's -wal and -shm "
		    "files beside it, so give the directory to the user kiji "
		    "runs as (chown %s %s && chmod u+rwx %s; every directory "
		    "above it must be searchable by %s)", dir, user,
		    (unsigned)geteuid(), why, user, dir, dir, user);
		ok = false;
	}
	for (int i = 0; ok && i < 3; i++) {
		snprintf(side, sizeof side, "%s%s", path,
		    i == 0 ? "" : i == 1 ? "-wal" : "-shm");
		if (access(side, F_OK) == 0 && access(side, W_OK) != 0) {
			int saved = errno;
			readonly_advice(path, err);
			errf(err, " (%s: %s)", side, strerror(saved));
			ok = false;
		}
	}
	free(copy);
	return ok;
}

/* See sqlite_int.h. */
int
sq_file_lock(const char *path, int op, buf *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errf(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, op | LOCK_NB) == 0)
		return fd;
	int saved = errno;
	if (saved != EWOULDBLOCK)
		errf(err, "%s: flock: %s", path, strerror(saved));
	close(fd);
	errno = saved;
	return -1;
}

/* The shared lock every open store holds on its file: kiji restore takes
 * it exclusively, so it never writes under a server, and a server does not
 * start in the middle of a restore. The kernel drops it when the process
 * dies, kill -9 included. flock(2) locks are apart from the POSIX locks
 * SQLite takes; the descriptor stays open until store_close, after
 * SQLite's (closing any descriptor of the file drops POSIX locks). */
static bool
file_lock_shared(store *s, buf *err)
{
	s->lock_fd = sq_file_lock(s->path, LOCK_SH, err);
	if (s->lock_fd < 0 && errno == EWOULDBLOCK)
		errf(err, "%s is being restored (kiji restore holds it); try "
		    "again when the restore has finished", s->path);
	return s->lock_fd >= 0;
}

/* Applies every migration not yet recorded, each in its own IMMEDIATE
 * transaction (so two processes opening a new file at once apply each
 * migration once). Refuses a database from a newer kiji. */
static enum store_err
migrate(struct conn *c, buf *err)
{
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	int64_t have = 0;
	char *msg = NULL;

	if ((e = sq_conn_run(c, STMT_MIGRATIONS_INIT)) != STORE_OK)
		goto err;
	if ((e = sq_open(&q, c, STMT_MIGRATIONS_MAX)) != STORE_OK)
		goto err;
	if (sq_row(&q, &e))
		have = sqlite3_column_int64(q.st, 0);
	sq_close(&q);
	if (e != STORE_OK)
		goto err;
	if (have > store_schema_version()) {
		errf(err, "database schema version %" PRId64 " is newer than "
		    "this kiji's (%d)", have, store_schema_version());
		return STORE_ERROR;
	}
	for (int v = 1; v <= store_schema_version(); v++) {
		bool done;
		if ((e = sq_tx_begin(c, true, &t)) != STORE_OK)
			goto err;
		if ((e = sq_open(&q, c, STMT_MIGRATION_HAS)) != STORE_OK)
			goto err;
		sq_int(&q, ":v", v);
		done = sq_row(&q, &e);
		sq_close(&q);
		if (e != STORE_OK)
			goto err;
		if (!done) {
			if (sqlite3_exec(c->db, store_schema_migration(v), NULL,
			    NULL, &msg) != SQLITE_OK) {
				errf(err, "migration %d: %s", v,
				    msg ? msg : sqlite3_errmsg(c->db));
				e = STORE_ERROR;
				goto err;
			}
			if ((e = sq_open(&q, c, STMT_MIGRATION_RECORD)) != STORE_OK)
				goto err;
			sq_int(&q, ":v", v);
			sq_int(&q, ":now", (int64_t)time(NULL));
			e = sq_exec(&q);
			sq_close(&q);
			if (e != STORE_OK)
				goto err;
		}
		if ((e = sq_tx_end(c, &t, STORE_OK)) != STORE_OK)
			goto err;
	}
	return STORE_OK;
err:
	sq_close(&q);
	sqlite3_free(msg);
	e = sq_tx_end(c, &t, e);
	if (err != NULL && err->len == 0)
		errf(err, "migrating: %s", sqlite3_errmsg(c->db));
	return e;
}

/* File first (mode 0600), then this thread's connection, then the
 * migrations; any failure undoes all of it and says why in err. */
store *
store_open(const char *path, buf *err)
{
	store *s = NULL;
	struct conn *c;

	if (path == NULL || *path == '\0') {
		errf(err, "no database path");
		return NULL;
	}
	if (strcmp(path, ":memory:") == 0) {
		/* every thread would get its own empty database */
		errf(err, "an in-memory database cannot be shared; use a file");
		return NULL;
	}
	if (!sqlite3_threadsafe()) {
		errf(err, "SQLite was built without thread support");
		return NULL;
	}
	if (!store_writable(path, err) || !sq_file_create(path, err))
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	s->lock_fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	if (!file_lock_shared(s, err))
		goto err;
	if (pthread_key_create(&s->key, conn_destructor) != 0) {
		errf(err, "pthread_key_create failed");
		goto err;
	}
	s->key_ok = true;
	if ((c = conn_attach(s, true, err)) == NULL)
		goto err;
	if (migrate(c, err) != STORE_OK)
		goto err;
	return s;
err:
	store_close(s);
	return NULL;
}

/* Call when no other thread is inside the store any more (after joining
 * the server's workers): it closes their connections under them. */
void
store_close(store *s)
{
	if (s == NULL)
		return;
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
	const char *m = sq_enum_name(err_names, STORE__MAX, (int)e);
	return m ? m : "unknown store error";
}

/* Per connection: compare values taken on the same thread only. -1 on
 * error. */
int64_t
store_data_version(store *s)
{
	struct conn *c = sq_conn_get(s);
	struct q q = {0};
	enum store_err e;
	int64_t v = -1;
	if (c == NULL)
		return -1;
	if (sq_open(&q, c, STMT_DATA_VERSION) == STORE_OK && sq_row(&q, &e))
		v = sqlite3_column_int64(q.st, 0);
	sq_close(&q);
	return v;
}

/* What is actually in force on this thread's connection, for tests and
 * the operator's status page. */
enum store_err
store_durability(store *s, buf *journal_mode, int *synchronous)
{
	struct conn *c = sq_conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = sq_open(&q, c, STMT_JOURNAL_MODE)) != STORE_OK)
		goto err;
	if (!sq_row(&q, &e)) {
		if (e == STORE_OK)
			e = STORE_ERROR; /* a pragma always answers */
		goto err;
	}
	buf_reset(journal_mode);
	buf_puts(journal_mode, (const char *)sqlite3_column_text(q.st, 0));
	sq_close(&q);
	if ((e = sq_open(&q, c, STMT_SYNCHRONOUS)) != STORE_OK)
		goto err;
	if (!sq_row(&q, &e)) {
		if (e == STORE_OK)
			e = STORE_ERROR;
		goto err;
	}
	*synchronous = sqlite3_column_int(q.st, 0);
err:
	sq_close(&q);
	return e;
}
