/*
 * store.h on SQLite: the read-only look kiji doctor takes at a database.
 * Its own connection, opened read-only (SQLITE_OPEN_READONLY: no file is
 * created, no migration runs, nothing is written), so it can run beside a
 * live server and on a damaged file; its SQL comes from the statement
 * table like everyone's.
 */
#include "store_int.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#define RO_BUSY_MS 5000 /* a server's checkpoint may hold the file briefly */

struct store_ro {
	sqlite3 *db;
	char *path;
};

/* The store_err for SQLite's rc; its message (db's, or rc's when there is
 * no handle) into err, after "what: " when what is given. */
static enum store_err
ro_fail(sqlite3 *db, int rc, const char *what, buf *err)
{
	const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
	if (err != NULL && what != NULL)
		buf_printf(err, "%s: %s", what, msg);
	else if (err != NULL)
		buf_puts(err, msg);
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_BUSY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return STORE_INVALID;
	default:
		return STORE_ERROR;
	}
}

/*
 * Opens path read-only without leaving a file behind. A read-only WAL
 * connection creates -wal and -shm when they are missing (as whoever runs
 * doctor, root perhaps); they are missing only when no process has the
 * database open and everything is checkpointed, and then the file alone
 * is the whole database: opened immutable, SQLite reads just it.
 */
store_ro *
store_ro_open(const char *path, buf *err)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	buf wal, uri;
	buf_init(&wal, 8192);
	buf_init(&uri, 3 * 8192);
	buf_printf(&wal, "%s-wal", path);
	bool quiet = access(buf_cstr(&wal), F_OK) != 0;
	buf_puts(&uri, "file:");
	for (const char *p = path; *p; p++) {
		if (*p == '%' || *p == '?' || *p == '#')
			buf_printf(&uri, "%%%02x", (unsigned char)*p);
		else
			buf_putc(&uri, *p);
	}
	buf_puts(&uri, quiet ? "?mode=ro&immutable=1" : "?mode=ro");
	int rc = uri.err || wal.err ? SQLITE_TOOBIG : sqlite3_open_v2(
	    buf_cstr(&uri), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
	    SQLITE_OPEN_NOMUTEX, NULL);
	buf_free(&wal);
	buf_free(&uri);
	if (rc != SQLITE_OK) {
		ro_fail(db, rc, path, err);
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, RO_BUSY_MS);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	/* The settings a kiji connection runs with, so durability is read
	 * as the server has it. Reading the schema here also tells a file
	 * that is no database at all from one SQLite can open. */
	if ((rc = sqlite3_exec(db, DB_CONN_PRAGMAS, NULL, NULL, &msg)) !=
	    SQLITE_OK) {
		if (err != NULL)
			buf_printf(err, "%s: %s", path,
			    msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		sqlite3_close(db);
		return NULL;
	}
	store_ro *r = xcalloc(1, sizeof(*r));
	r->db = db;
	r->path = xstrdup(path);
	return r;
}

void
store_ro_close(store_ro *r)
{
	if (r == NULL)
		return;
	sqlite3_close(r->db);
	free(r->path);
	free(r);
}

/* Prepares statement id on r; NULL with the reason in err. */
static sqlite3_stmt *
ro_prepare(store_ro *r, enum stmt id, buf *err, enum store_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(r->db, db_stmts[id].sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		*e = ro_fail(r->db, rc, db_stmts[id].name, err);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

enum store_err
store_ro_check(store_ro *r, buf *problems)
{
	enum store_err e = STORE_OK;
	sqlite3_stmt *st = ro_prepare(r, STMT_QUICK_CHECK, problems, &e);
	int rc, rows = 0;
	bool ok = false;
	if (st == NULL)
		return e;
	buf_reset(problems);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		t = t ? t : "";
		if (rows++ == 0 && strcmp(t, "ok") == 0)
			ok = true;
		if (!ok) {
			if (problems->len > 0)
				buf_puts(problems, "; ");
			buf_puts(problems, t);
		}
	}
	if (rc != SQLITE_DONE) {
		buf_reset(problems);
		e = ro_fail(r->db, rc, NULL, problems);
	} else if (!ok) {
		e = STORE_INVALID;
	}
	sqlite3_finalize(st);
	return e;
}

/* The integer in the one row of a pragma statement. */
static enum store_err
ro_pragma_int(store_ro *r, enum stmt id, int *num)
{
	enum store_err e = STORE_OK;
	sqlite3_stmt *st = ro_prepare(r, id, NULL, &e);
	if (st == NULL)
		return e;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*num = sqlite3_column_int(st, 0);
	else
		e = ro_fail(r->db, rc, db_stmts[id].name, NULL);
	sqlite3_finalize(st);
	return e;
}

/* The journal mode is read from the file's header (bytes 18 and 19, the
 * read and write format versions: 2 for WAL, 1 for a rollback journal),
 * which is what the mode is; an immutable connection would say "delete". */
enum store_err
store_ro_durability(store_ro *r, buf *journal_mode, int *synchronous)
{
	unsigned char h[20];
	int fd = open(r->path, O_RDONLY | O_CLOEXEC);
	bool got = fd >= 0 && pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h);
	if (fd >= 0)
		close(fd);
	if (!got)
		return STORE_ERROR;
	buf_reset(journal_mode);
	buf_puts(journal_mode, h[18] == 2 && h[19] == 2 ? "wal" :
	    h[18] == 1 && h[19] == 1 ? "rollback journal" : "unknown");
	return ro_pragma_int(r, STMT_SYNCHRONOUS, synchronous);
}

enum store_err
store_ro_setting(store_ro *r, const char *key, buf *value)
{
	enum store_err e = STORE_OK;
	sqlite3_stmt *st = ro_prepare(r, STMT_DOCTOR_SETTING, NULL, &e);
	if (st == NULL)
		return e;
	sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":key"), key, -1,
	    SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		buf_reset(value);
		buf_puts(value, t ? t : "");
	} else if (rc == SQLITE_DONE) {
		e = STORE_NOTFOUND;
	} else {
		e = ro_fail(r->db, rc, "settings", NULL);
	}
	sqlite3_finalize(st);
	return e;
}

enum store_err
store_ro_recent_ips(store_ro *r, int limit, int64_t *n, int64_t *loopback)
{
	enum store_err e = STORE_OK;
	sqlite3_stmt *st = ro_prepare(r, STMT_DOCTOR_RECENT_IPS, NULL, &e);
	if (st == NULL)
		return e;
	sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":n"), limit);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*n = sqlite3_column_int64(st, 0);
		*loopback = sqlite3_column_int64(st, 1);
	} else {
		e = ro_fail(r->db, rc, "comments", NULL);
	}
	sqlite3_finalize(st);
	return e;
}
