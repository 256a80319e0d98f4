/*
 * The PostgreSQL driver (struct db_driver, store_int.h) on libpq: one
 * connection per thread, like SQLite's, opened from the store's
 * postgresql:// URL with UTF-8, UTC and synchronous_commit on. Statements
 * keep the store's ":name" parameters in their SQL; prepare rewrites them
 * into $1..$n and PQprepares the result under a name unique on the
 * connection. Values go as text (integers formatted into the statement's
 * own storage), blobs as binary; results come whole, as text, and steps
 * walk their rows. A connection found lost is reset once; its statements
 * are prepared anew at their next step (a generation counter), and a read
 * that failed that way outside a transaction is run again once.
 */
#include "pg_int.h"
#include "schema.h"
#include "../obs/obs.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_CONNECT_TIMEOUT "5"  /* seconds, unless the URL says */
#define PG_BYTEA_OID 17         /* pg_type.oid of bytea */

/* The driver's own codes (> 0), which pg_err_map reads with the
 * connection's last SQLSTATE. */
enum {
	PG_FAILED = 1,   /* the server refused: SQLSTATE in pg_conn */
	PG_LOST,         /* the connection broke (reset since) */
	PG_ABORTED,      /* COMMIT found the transaction failed: rolled back */
	PG_NOMEM,
};

/* One thread's connection. */
struct pg_conn {
	PGconn *pg;
	unsigned gen;        /* bumped at each reset: statements re-prepare */
	unsigned seq;        /* statement names on this connection */
	int busy;            /* statements holding unread rows */
	int64_t changes;     /* rows the last INSERT/UPDATE/DELETE touched */
	int64_t last_id;     /* the last INSERT ... RETURNING's first value */
	char state[6];       /* SQLSTATE of the last error, "" for none */
	char msg[512];       /* the last error's primary text */
};

/* One prepared statement of one connection. */
struct pg_stmt {
	struct pg_conn *c;
	enum stmt id;        /* for log lines */
	char name[32];       /* the server's name for it */
	char *sql;           /* with $1..$n */
	bool read;           /* a plain SELECT: safe to run again */
	bool commit;         /* COMMIT: its tag says whether it rolled back */
	unsigned gen;        /* c->gen it was prepared in */
	int n;               /* parameters */
	char **names;        /* ":name" of $i+1 */
	const char **vals;   /* bound values; NULL is SQL NULL */
	int *lens;
	int *fmts;           /* 0 text, 1 binary */
	char (*ints)[24];    /* integers bound, as text */
	PGresult *res;       /* the whole result of the current run */
	int row;             /* current row of res; -1 before the first */
	bool done;           /* res walked to its end */
	unsigned char **blobs; /* decoded bytea of the current row, by column */
	size_t *blens;       /* their lengths */
	int nblobs;
};

/* ---- errors ---------------------------------------------------------------- */

/* Keeps msg (up to its first newline) as c's last error. */
static void
pg_set_msg(struct pg_conn *c, const char *state, const char *msg)
{
	size_t n;
	snprintf(c->state, sizeof c->state, "%s", state ? state : "");
	if (msg == NULL || *msg == '\0')
		msg = "unknown error";
	/* libpq's own messages carry the severity: the text is enough */
	if (strncmp(msg, "FATAL:  ", 8) == 0 || strncmp(msg, "ERROR:  ", 8) == 0)
		msg += 8;
	n = strcspn(msg, "\n");
	if (n >= sizeof c->msg)
		n = sizeof c->msg - 1;
	memcpy(c->msg, msg, n);
	c->msg[n] = '\0';
}

/* Runs a connection's own settings after it opened or was reset: UTC
 * times, commits that wait for the disk. */
static bool
pg_session(PGconn *pg)
{
	PGresult *r = PQexec(pg, "SET TimeZone = 'UTC';"
	    " SET synchronous_commit = on");
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	return ok;
}

/*
 * Records a failure of c (res may be NULL, and is cleared): the SQLSTATE
 * and message. When the connection is gone, resets it once (a new
 * generation: every statement prepares again) and answers PG_LOST.
 */
static int
pg_fail(struct pg_conn *c, PGresult *res)
{
	const char *state = NULL, *msg = NULL;
	if (res != NULL) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	}
	pg_set_msg(c, state, msg ? msg : PQerrorMessage(c->pg));
	PQclear(res);
	if (PQstatus(c->pg) != CONNECTION_BAD)
		return PG_FAILED;
	obs_warn("store: PostgreSQL connection lost (%s); reconnecting",
	    c->msg);
	PQreset(c->pg);
	c->gen++;
	if (PQstatus(c->pg) == CONNECTION_OK && !pg_session(c->pg))
		obs_error("store: PostgreSQL: session settings failed: %s",
		    PQerrorMessage(c->pg));
	else if (PQstatus(c->pg) != CONNECTION_OK)
		obs_error("store: PostgreSQL: reconnecting failed: %s",
		    PQerrorMessage(c->pg));
	return PG_LOST;
}

/* SQLSTATE classes: see PostgreSQL's "Errcodes" appendix. */
static enum store_err
pg_err_map(void *h, int rc, int sys)
{
	struct pg_conn *c = h;
	const char *s = c != NULL ? c->state : "";
	(void)sys;
	switch (rc) {
	case DB_OK:
	case DB_ROW:
	case DB_DONE:
		return STORE_OK;
	case PG_LOST:
		return STORE_BUSY; /* the site answers 503: try again */
	case PG_FAILED:
		break;
	default:
		return STORE_ERROR; /* DB_MISUSE, PG_ABORTED, PG_NOMEM */
	}
	if (strcmp(s, "23505") == 0)
		return STORE_CONFLICT;
	if (strncmp(s, "23", 2) == 0 || strncmp(s, "22", 2) == 0)
		return STORE_INVALID;
	if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0 ||
	    strcmp(s, "55P03") == 0 || strcmp(s, "57014") == 0)
		return STORE_BUSY;
	if (strcmp(s, "53100") == 0)
		return STORE_FULL;
	if (strcmp(s, "25006") == 0)
		return STORE_READONLY;
	/* the server going away (admin shutdown, crash, too many clients) */
	if (strncmp(s, "08", 2) == 0 || strcmp(s, "57P01") == 0 ||
	    strcmp(s, "57P02") == 0 || strcmp(s, "57P03") == 0 ||
	    strcmp(s, "53300") == 0)
		return STORE_BUSY;
	return STORE_ERROR;
}

/* The last error's primary text. */
static const char *
pg_errmsg(void *h)
{
	struct pg_conn *c = h;
	return c->msg[0] ? c->msg : "no error";
}

/* ---- statements ------------------------------------------------------------- */

/* Whether sql, past leading blanks, starts with the word w (any case). */
static bool
starts_word(const char *sql, const char *w)
{
	size_t n = strlen(w);
	while (isspace((unsigned char)*sql) || *sql == '(')
		sql++;
	return strncasecmp(sql, w, n) == 0 &&
	    !isalnum((unsigned char)sql[n]) && sql[n] != '_';
}

/* Whether c can start a parameter name. */
static bool
name_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

/* Whether c can continue one. */
static bool
name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Index (1-based) of ":name" (len bytes) among st's parameters, 0 when
 * it has none by that name. */
static int
find_param(const struct pg_stmt *st, const char *name, size_t len)
{
	for (int i = 0; i < st->n; i++)
		if (strlen(st->names[i]) == len &&
		    memcmp(st->names[i], name, len) == 0)
			return i + 1;
	return 0;
}

/*
 * Rewrites sql's ":name" parameters into $1..$n into st (sql and names).
 * Quoted text ('...'), quoted identifiers ("...") and comments are
 * copied as they are, and so is "::" (a cast): a ':' next to another ':'
 * is never a parameter. A name used twice is the same $n.
 */
static void
rewrite(struct pg_stmt *st, const char *sql)
{
	buf out;
	int cap = 0;
	buf_init(&out, 0);
	for (const char *p = sql; *p != '\0';) {
		if (*p == '\'' || *p == '"') {
			const char *e = strchr(p + 1, *p);
			size_t n = e ? (size_t)(e - p) + 1 : strlen(p);
			buf_put(&out, p, n);
			p += n;
		} else if (p[0] == '-' && p[1] == '-') {
			size_t n = strcspn(p, "\n");
			buf_put(&out, p, n);
			p += n;
		} else if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			size_t n = e ? (size_t)(e - p) + 2 : strlen(p);
			buf_put(&out, p, n);
			p += n;
		} else if (p[0] == ':' && p[1] == ':') {
			buf_puts(&out, "::");
			p += 2;
		} else if (p[0] == ':' && name_start(p[1])) {
			size_t len = 1;
			int i;
			while (name_char(p[len]))
				len++;
			if ((i = find_param(st, p, len)) == 0) {
				if (st->n == cap) {
					cap = cap ? cap * 2 : 8;
					st->names = xrealloc(st->names,
					    (size_t)cap * sizeof(*st->names));
				}
				st->names[st->n] = xmalloc(len + 1);
				memcpy(st->names[st->n], p, len);
				st->names[st->n++][len] = '\0';
				i = st->n;
			}
			buf_printf(&out, "$%d", i);
			p += len;
		} else {
			buf_putc(&out, *p++);
		}
	}
	if (out.err)
		text_oom(); /* statements are far below BUF_DEFAULT_MAX */
	st->sql = buf_detach(&out, NULL);
}

/* Prepares st on its connection (again, after a reset). Preparing runs
 * nothing, so when the connection was found lost it tries once more on
 * the new one, unless (retry false) a transaction was open: that is gone
 * with the old connection, and the caller must hear so. */
static int
pg_prepare_remote(struct pg_stmt *st, bool retry)
{
	struct pg_conn *c = st->c;
	for (int attempt = 0;; attempt++) {
		PGresult *r = PQprepare(c->pg, st->name, st->sql, st->n, NULL);
		if (PQresultStatus(r) == PGRES_COMMAND_OK) {
			PQclear(r);
			st->gen = c->gen;
			return DB_OK;
		}
		int rc = pg_fail(c, r);
		if (rc != PG_LOST || !retry || attempt > 0 ||
		    PQstatus(c->pg) != CONNECTION_OK)
			return rc;
	}
}

static void pg_finalize(void *p);

/* Rewrites sql's parameters, prepares it on h under a name of its own
 * (k<id>_<n>) and readies its binding arrays. */
static int
pg_prepare(void *h, enum stmt id, const char *sql, void **out)
{
	struct pg_conn *c = h;
	struct pg_stmt *st = xcalloc(1, sizeof(*st));
	int rc;

	st->c = c;
	st->id = id;
	snprintf(st->name, sizeof st->name, "k%d_%u", (int)id, ++c->seq);
	rewrite(st, sql);
	st->read = starts_word(sql, "SELECT") || starts_word(sql, "VALUES");
	st->commit = starts_word(sql, "COMMIT") || starts_word(sql, "END");
	st->row = -1;
	if (st->n > 0) {
		size_t n = (size_t)st->n;
		st->vals = xcalloc(n, sizeof(*st->vals));
		st->lens = xcalloc(n, sizeof(*st->lens));
		st->fmts = xcalloc(n, sizeof(*st->fmts));
		st->ints = xcalloc(n, sizeof(*st->ints));
	}
	rc = pg_prepare_remote(st, PQtransactionStatus(c->pg) == PQTRANS_IDLE);
	if (rc != DB_OK) {
		pg_finalize(st);
		*out = NULL;
		return rc;
	}
	*out = st;
	return DB_OK;
}

/* Frees the current row's decoded blobs. */
static void
blobs_free(struct pg_stmt *st)
{
	for (int i = 0; i < st->nblobs; i++) {
		if (st->blobs[i] != NULL)
			PQfreemem(st->blobs[i]);
		st->blobs[i] = NULL;
	}
}

/* Drops st's result and its bindings; its rows no longer count as busy. */
static void
pg_reset(void *p)
{
	struct pg_stmt *st = p;
	blobs_free(st);
	if (st->res != NULL && !st->done)
		st->c->busy--;
	PQclear(st->res);
	st->res = NULL;
	st->row = -1;
	st->done = false;
	for (int i = 0; i < st->n; i++) {
		st->vals[i] = NULL;
		st->lens[i] = 0;
		st->fmts[i] = 0;
	}
}

/* Frees st; its server-side statement goes with its connection. */
static void
pg_finalize(void *p)
{
	struct pg_stmt *st = p;
	if (st == NULL)
		return;
	pg_reset(st);
	for (int i = 0; i < st->n; i++)
		free(st->names[i]);
	free(st->names);
	free(st->vals);
	free(st->lens);
	free(st->fmts);
	free(st->ints);
	free(st->blobs);
	free(st->blens);
	free(st->sql);
	free(st);
}

/* Index of parameter name (":name"), 1-based; 0 when it has none. */
static int
pg_param(void *p, const char *name)
{
	return find_param(p, name, strlen(name));
}

/* An integer, formatted into the statement's own storage. */
static int
pg_bind_int(void *p, int i, int64_t v)
{
	struct pg_stmt *st = p;
	snprintf(st->ints[i - 1], sizeof st->ints[i - 1], "%" PRId64, v);
	st->vals[i - 1] = st->ints[i - 1];
	st->fmts[i - 1] = 0;
	return DB_OK;
}

/* SQL NULL. */
static int
pg_bind_null(void *p, int i)
{
	struct pg_stmt *st = p;
	st->vals[i - 1] = NULL;
	return DB_OK;
}

/* Text, sent as text: the caller's memory until reset. */
static int
pg_bind_text(void *p, int i, const char *v)
{
	struct pg_stmt *st = p;
	st->vals[i - 1] = v;
	st->fmts[i - 1] = 0;
	return DB_OK;
}

/* Bytes, sent binary (zeros and all): the caller's until reset. */
static int
pg_bind_blob(void *p, int i, const void *v, size_t n)
{
	struct pg_stmt *st = p;
	if (n > INT32_MAX) {
		pg_set_msg(st->c, "54000", "blob too large");
		return PG_FAILED;
	}
	st->vals[i - 1] = n ? v : ""; /* NULL would be SQL NULL */
	st->lens[i - 1] = (int)n;
	st->fmts[i - 1] = 1;
	return DB_OK;
}

/* Takes in the result of a command that succeeded: the rows it changed,
 * the id an INSERT ... RETURNING answered. */
static void
note_command(struct pg_conn *c, PGresult *res)
{
	const char *tag = PQcmdStatus(res);
	if (strncmp(tag, "INSERT ", 7) == 0 || strncmp(tag, "UPDATE ", 7) == 0 ||
	    strncmp(tag, "DELETE ", 7) == 0 || strncmp(tag, "MERGE ", 6) == 0)
		c->changes = strtoll(PQcmdTuples(res), NULL, 10);
	if (strncmp(tag, "INSERT ", 7) == 0 && PQnfields(res) > 0 &&
	    PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		c->last_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
}

/*
 * Runs st with its bindings and keeps the whole result. A statement
 * prepared before a reset is prepared again first. A read that failed
 * because the connection was lost, with no transaction open before it,
 * runs once more on the new connection; anything else lost answers
 * PG_LOST (STORE_BUSY: whether a write happened is unknown).
 */
static int
pg_run(struct pg_stmt *st)
{
	struct pg_conn *c = st->c;
	bool idle = PQtransactionStatus(c->pg) == PQTRANS_IDLE;
	for (int attempt = 0;; attempt++) {
		PGresult *res;
		ExecStatusType s;
		int rc;
		if (st->gen != c->gen &&
		    (rc = pg_prepare_remote(st, idle)) != DB_OK)
			return rc;
		res = PQexecPrepared(c->pg, st->name, st->n, st->vals,
		    st->lens, st->fmts, 0);
		s = PQresultStatus(res);
		if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) {
			if (st->commit && strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
				/* COMMIT of a failed transaction rolls back */
				pg_set_msg(c, "", "the transaction was rolled "
				    "back after an earlier error");
				PQclear(res);
				return PG_ABORTED;
			}
			note_command(c, res);
			st->res = res;
			return DB_OK;
		}
		if (res == NULL && PQstatus(c->pg) == CONNECTION_OK) {
			pg_set_msg(c, "", "out of memory");
			return PG_NOMEM;
		}
		rc = pg_fail(c, res);
		if (rc != PG_LOST || !st->read || !idle || attempt > 0 ||
		    PQstatus(c->pg) != CONNECTION_OK)
			return rc;
		obs_info("store: %s: running it again on the new connection",
		    st->id < STMT__MAX ? db_stmts[st->id].name : st->name);
	}
}

/* The first step runs the statement; each step then answers its next
 * row, and DB_DONE past the last. */
static int
pg_step(void *p)
{
	struct pg_stmt *st = p;
	if (st->done)
		return DB_DONE;
	if (st->res == NULL) {
		int rc = pg_run(st);
		if (rc != DB_OK)
			return rc;
		st->c->busy++;
		st->row = -1;
		if (st->nblobs < PQnfields(st->res)) {
			st->nblobs = PQnfields(st->res);
			free(st->blobs);
			free(st->blens);
			st->blobs = xcalloc((size_t)st->nblobs,
			    sizeof(*st->blobs));
			st->blens = xcalloc((size_t)st->nblobs,
			    sizeof(*st->blens));
		}
	}
	blobs_free(st);
	if (++st->row < PQntuples(st->res))
		return DB_ROW;
	st->done = true;
	st->c->busy--;
	return DB_DONE;
}

/* Whether column i of the current row exists and is not NULL. */
static bool
has_value(const struct pg_stmt *st, int i)
{
	return st->res != NULL && !st->done && st->row >= 0 &&
	    st->row < PQntuples(st->res) && i >= 0 && i < PQnfields(st->res) &&
	    !PQgetisnull(st->res, st->row, i);
}

/* An integer column; booleans (EXISTS, a comparison) are 1 and 0, NULL 0. */
static int64_t
pg_col_int(void *p, int i)
{
	struct pg_stmt *st = p;
	const char *v;
	if (!has_value(st, i))
		return 0;
	v = PQgetvalue(st->res, st->row, i);
	if (v[0] == 't' && v[1] == '\0')
		return 1;
	if (v[0] == 'f' && v[1] == '\0')
		return 0;
	return strtoll(v, NULL, 10);
}

/* A floating-point column; NULL is 0. */
static double
pg_col_double(void *p, int i)
{
	struct pg_stmt *st = p;
	return has_value(st, i) ? strtod(PQgetvalue(st->res, st->row, i), NULL)
				: 0.0;
}

/* A column's text and length; NULL for NULL. Valid until the next
 * row or reset. */
static const char *
pg_col_text(void *p, int i, size_t *n)
{
	struct pg_stmt *st = p;
	*n = 0;
	if (!has_value(st, i))
		return NULL;
	*n = (size_t)PQgetlength(st->res, st->row, i);
	return PQgetvalue(st->res, st->row, i);
}

/* A bytea column comes as hex text ("\x..."): decoded into the
 * statement's storage until the next row or reset. Other types answer
 * their text's bytes. */
static const void *
pg_col_blob(void *p, int i, size_t *n)
{
	struct pg_stmt *st = p;
	size_t len = 0;
	*n = 0;
	if (!has_value(st, i))
		return NULL;
	if (PQftype(st->res, i) != PG_BYTEA_OID)
		return pg_col_text(st, i, n);
	if (st->blobs[i] == NULL) {
		st->blobs[i] = PQunescapeBytea((const unsigned char *)
		    PQgetvalue(st->res, st->row, i), &len);
		if (st->blobs[i] == NULL)
			return NULL;
		st->blens[i] = len;
	}
	len = st->blens[i];
	*n = len;
	return len ? (const void *)st->blobs[i] : "";
}

/* ---- connections ------------------------------------------------------------ */

/* Drops the server's notices (IF NOT EXISTS skips and the like). */
static void
pg_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* See store.h. */
const char *
store_url_safe(const char *url, char *out, size_t size)
{
	const char *auth = strstr(url, "://"), *at = NULL, *colon = NULL;
	buf b;
	buf_init(&b, size - 1);
	if (auth != NULL) {
		size_t n = strcspn(auth + 3, "/?#");
		auth += 3;
		at = memchr(auth, '@', n);
		colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	}
	for (const char *p = url; *p != '\0';) {
		if (p == colon) {
			buf_puts(&b, ":***");
			p = at;
		} else if (strncmp(p, "password=", 9) == 0 &&
		    (p == url || p[-1] == '?' || p[-1] == '&')) {
			buf_puts(&b, "password=***");
			p += 9 + strcspn(p + 9, "&#");
		} else {
			buf_putc(&b, *p++);
		}
	}
	snprintf(out, size, "%s", buf_cstr(&b));
	buf_free(&b);
	return out;
}

/* Closes the connection. */
static void
pg_close(void *h)
{
	struct pg_conn *c = h;
	if (c == NULL)
		return;
	PQfinish(c->pg);
	free(c);
}

PGconn *
db_pg_connect(const char *url)
{
	/* entries before dbname are defaults the URL overrides; TCP
	 * keepalives find a server gone without a word within a minute */
	static const char *const keys[] = {"connect_timeout",
	    "application_name", "keepalives_idle", "keepalives_interval",
	    "keepalives_count", "dbname", "client_encoding", NULL};
	const char *vals[] = {PG_CONNECT_TIMEOUT, "kiji", "30", "10", "3",
	    url, "UTF8", NULL};
	return PQconnectdbParams(keys, vals, 1);
}

/*
 * Connects to s->path (a postgresql:// URL: db_pg_connect) and sets the
 * session up. A database that is not UTF-8 is refused. A hot standby is
 * read-only: the first connection refuses it, later ones say so in
 * *readonly.
 */
static void *
pg_open(store *s, bool first, bool *readonly, buf *err)
{
	struct pg_conn *c = xcalloc(1, sizeof(*c));
	char safe[512];
	const char *enc, *standby;

	store_url_safe(s->path, safe, sizeof safe);
	c->pg = db_pg_connect(s->path);
	if (c->pg == NULL) {
		db_errf(err, "%s: out of memory", safe);
		goto err;
	}
	if (PQstatus(c->pg) != CONNECTION_OK) {
		const char *m = PQerrorMessage(c->pg);
		db_errf(err, "%s: cannot connect: %.*s", safe,
		    (int)strcspn(m, "\n"), m);
		goto err;
	}
	PQsetNoticeProcessor(c->pg, pg_notice, NULL);
	enc = PQparameterStatus(c->pg, "server_encoding");
	if (enc == NULL || strcmp(enc, "UTF8") != 0) {
		db_errf(err, "%s: the database's encoding is %s; kiji needs "
		    "UTF8 (createdb -E UTF8 -T template0)", safe,
		    enc ? enc : "unknown");
		goto err;
	}
	if (!pg_session(c->pg)) {
		const char *m = PQerrorMessage(c->pg);
		db_errf(err, "%s: session settings: %.*s", safe,
		    (int)strcspn(m, "\n"), m);
		goto err;
	}
	standby = PQparameterStatus(c->pg, "in_hot_standby");
	*readonly = standby != NULL && strcmp(standby, "on") == 0;
	if (*readonly && first) {
		db_errf(err, "%s: the server is a read-only standby; kiji "
		    "needs the primary", safe);
		goto err;
	}
	return c;
err:
	pg_close(c);
	return NULL;
}

/* No transaction open (not even a failed one). */
static bool
pg_autocommit(void *h)
{
	struct pg_conn *c = h;
	return PQtransactionStatus(c->pg) == PQTRANS_IDLE;
}

/* No transaction and no statement holding rows not yet stepped
 * through. */
static bool
pg_idle(void *h)
{
	struct pg_conn *c = h;
	return pg_autocommit(h) && c->busy == 0;
}

/* Rows the last INSERT, UPDATE or DELETE touched. */
static int64_t
pg_changes(void *h)
{
	return ((struct pg_conn *)h)->changes;
}

/* The id the last INSERT ... RETURNING id answered. */
static int64_t
pg_last_id(void *h)
{
	return ((struct pg_conn *)h)->last_id;
}

/* Runs a script of statements (a migration) in the caller's
 * transaction. */
static int
pg_script(void *h, const char *sql, buf *err)
{
	struct pg_conn *c = h;
	PGresult *r = PQexec(c->pg, sql);
	ExecStatusType s = PQresultStatus(r);
	int rc;
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
		PQclear(r);
		return DB_OK;
	}
	rc = pg_fail(c, r);
	db_errf(err, "%s", c->msg);
	return rc;
}

/* Nothing to do: the server's memory is the server's (work_mem and
 * shared_buffers are its administrator's), and a batch's inserts need no
 * more of it per statement than one at a time. */
static void
pg_bulk(void *h, int cache_mib)
{
	(void)h;
	(void)cache_mib;
}

/* The store's listener counter (pg_listen.c): no round trip. The same
 * for every thread of the process. */
static int64_t
pg_data_version(struct conn *c)
{
	return db_pg_listen_version(c->s);
}

const struct db_driver db_pg = {
	.name = "postgresql",
	.remote = true,
	.sql = db_pg_sql,
	.open = pg_open,
	.close = pg_close,
	.idle = pg_idle,
	.autocommit = pg_autocommit,
	.changes = pg_changes,
	.last_id = pg_last_id,
	.errmsg = pg_errmsg,
	.err_map = pg_err_map,
	.script = pg_script,
	.bulk = pg_bulk,
	.data_version = pg_data_version,
	.shutdown = db_pg_listen_stop,
	.schema_version = store_pg_schema_version,
	.migration = store_pg_schema_migration,
	.prepare = pg_prepare,
	.finalize = pg_finalize,
	.param = pg_param,
	.bind_int = pg_bind_int,
	.bind_null = pg_bind_null,
	.bind_text = pg_bind_text,
	.bind_blob = pg_bind_blob,
	.step = pg_step,
	.reset = pg_reset,
	.col_int = pg_col_int,
	.col_double = pg_col_double,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
	.fts_index = db_pg_fts_index,
	.fts_rebuild = db_pg_fts_rebuild,
	.fts_page = db_pg_fts_page,
};
