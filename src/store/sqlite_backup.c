/*
 * store.h on SQLite: backups and restores. Both work on files rather than
 * on an open store (a backup reads a database a server is using, a restore
 * writes one nobody may be using), so they hold their own connections;
 * their SQL still comes from the statement table.
 */
#include "store_int.h"
#include "schema.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#define BACKUP_STEP_PAGES 1024  /* pages per backup step (4 MiB at 4 KiB) */
#define BACKUP_BUSY_TRIES 200   /* steps answered BUSY before giving up */
#define BACKUP_BUSY_MS 25       /* wait between them */

static void __attribute__((format(printf, 2, 3)))
berr(buf *err, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL)
		return;
	va_start(ap, fmt);
	buf_vprintf(err, fmt, ap);
	va_end(ap);
}

/* Opens path with flags; NULL with the reason in err. */
static sqlite3 *
raw_open(const char *path, int flags, buf *err)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		berr(err, "%s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

/* Runs statement id to the end; with text (not NULL) the first row's first
 * column goes there. SQLITE_OK or the error, said in err. */
static int
raw_run(sqlite3 *db, enum stmt id, char *text, size_t textsz, buf *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, db_stmts[id].sql, -1, &st, NULL);
	bool first = true;
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (first && text != NULL)
			snprintf(text, textsz, "%s",
			    (const char *)sqlite3_column_text(st, 0) ?
			    (const char *)sqlite3_column_text(st, 0) : "");
		first = false;
		rc = SQLITE_OK;
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	if (rc != SQLITE_OK)
		berr(err, "%s: %s", db_stmts[id].name, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* Whether db passes integrity_check; the first problem in err when not. */
static bool
raw_intact(sqlite3 *db, const char *what, buf *err)
{
	char res[512] = "";
	if (raw_run(db, STMT_INTEGRITY_CHECK, res, sizeof res, err) != SQLITE_OK)
		return false;
	if (strcmp(res, "ok") == 0)
		return true;
	berr(err, "%s fails the integrity check: %s", what, res);
	return false;
}

/* Copies src's main database into dst's in chunks, retrying BUSY steps a
 * bounded number of times. */
static bool
raw_copy(sqlite3 *dst, sqlite3 *src, const char *what, buf *err)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	int rc, busy = 0;
	if (b == NULL) {
		berr(err, "%s: %s", what, sqlite3_errmsg(dst));
		return false;
	}
	do {
		rc = sqlite3_backup_step(b, BACKUP_STEP_PAGES);
		if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) &&
		    ++busy < BACKUP_BUSY_TRIES) {
			sqlite3_sleep(BACKUP_BUSY_MS);
			rc = SQLITE_OK;
		}
	} while (rc == SQLITE_OK);
	int fin = sqlite3_backup_finish(b);
	if (rc == SQLITE_DONE && fin == SQLITE_OK)
		return true;
	berr(err, "%s: %s", what, sqlite3_errstr(rc == SQLITE_DONE ? fin : rc));
	return false;
}

/* fsync of a file or directory by path. */
static bool
sync_path(const char *path, buf *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && fsync(fd) == 0;
	if (!ok)
		berr(err, "%s: sync: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return ok;
}

/* The copy in tmp made a standalone file: rollback journal kept in memory
 * (no journal file with the old values), addresses blanked when asked
 * (secure_delete zeroes what they leave), then checked. */
static bool
backup_finish_copy(const char *tmp, bool without_addresses, buf *err)
{
	sqlite3 *db = raw_open(tmp, SQLITE_OPEN_READWRITE, err);
	bool ok = db != NULL &&
	    raw_run(db, STMT_JOURNAL_MEMORY, NULL, 0, err) == SQLITE_OK &&
	    raw_run(db, STMT_SECURE_DELETE, NULL, 0, err) == SQLITE_OK &&
	    (!without_addresses ||
	    (raw_run(db, STMT_FORGET_ADDRESSES, NULL, 0, err) == SQLITE_OK &&
	    raw_run(db, STMT_MAIL_FORGET_QUEUE, NULL, 0, err) == SQLITE_OK &&
	    raw_run(db, STMT_MAIL_FORGET_SUBS, NULL, 0, err) == SQLITE_OK &&
	    raw_run(db, STMT_MAIL_FORGET_LOG, NULL, 0, err) == SQLITE_OK &&
	    raw_run(db, STMT_MAIL_FORGET_ADDRESSES, NULL, 0, err) ==
	    SQLITE_OK)) &&
	    raw_intact(db, "the copy", err);
	if (db != NULL && sqlite3_close(db) != SQLITE_OK)
		ok = false;
	return ok;
}

enum store_err
store_backup(const char *path, const char *out,
    const struct store_backup_opts *o, buf *err)
{
	struct store_backup_opts none = {0};
	char tmp[PATH_MAX];
	sqlite3 *src = NULL, *dst = NULL;
	enum store_err e = STORE_ERROR;
	int lock = -1, fd;
	bool made = false;

	o = o ? o : &none;
	if (!o->force && access(out, F_OK) == 0) {
		berr(err, "%s exists (--force replaces it)", out);
		return STORE_CONFLICT;
	}
	/* shared, as a server's: no restore rewrites it meanwhile */
	if ((lock = db_file_lock(path, LOCK_SH, err)) < 0) {
		if (errno == EWOULDBLOCK)
			berr(err, "%s is being restored; try again later", path);
		return STORE_ERROR;
	}
	if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", out) >= (int)sizeof tmp) {
		berr(err, "%s: name too long", out);
		goto out;
	}
	if ((fd = mkstemp(tmp)) < 0) { /* mode 0600 */
		berr(err, "%s: %s", out, strerror(errno));
		goto out;
	}
	close(fd);
	made = true;
	if ((src = raw_open(path, SQLITE_OPEN_READONLY, err)) == NULL ||
	    (dst = raw_open(tmp, SQLITE_OPEN_READWRITE, err)) == NULL)
		goto out;
	/* One read transaction across every step: the copy is one snapshot,
	 * and commits meanwhile (WAL lets them go on) never restart it. */
	if (raw_run(src, STMT_BEGIN, NULL, 0, err) != SQLITE_OK ||
	    raw_run(src, STMT_MIGRATIONS_MAX, NULL, 0, err) != SQLITE_OK ||
	    !raw_copy(dst, src, path, err))
		goto out;
	sqlite3_close(dst);
	dst = NULL;
	if (!backup_finish_copy(tmp, o->without_addresses, err) ||
	    !sync_path(tmp, err))
		goto out;
	if (o->force ? rename(tmp, out) != 0 : link(tmp, out) != 0) {
		if (errno == EEXIST)
			e = STORE_CONFLICT;
		berr(err, "%s: %s", out, strerror(errno));
		goto out;
	}
	char *dircopy = xstrdup(out);
	bool synced = sync_path(dirname(dircopy), err);
	free(dircopy);
	e = synced ? STORE_OK : STORE_ERROR;
out:
	sqlite3_close(dst);
	sqlite3_close(src); /* ends the read transaction */
	if (made)
		unlink(tmp); /* gone already after rename; the link stays */
	if (lock >= 0)
		close(lock);
	return e;
}

/* Whether the file at backup is a whole kiji database this kiji can use. */
static bool
restore_check(sqlite3 *db, const char *backup, buf *err)
{
	char v[32] = "";
	if (!raw_intact(db, backup, err))
		return false;
	if (raw_run(db, STMT_MIGRATIONS_MAX, v, sizeof v, NULL) != SQLITE_OK) {
		berr(err, "%s is not a kiji database", backup);
		return false;
	}
	if (atol(v) < 1) {
		berr(err, "%s is not a kiji database", backup);
		return false;
	}
	if (atol(v) > store_schema_version()) {
		berr(err, "%s was made by a newer kiji (schema %s; this kiji "
		    "knows up to %d): restore it with that version", backup, v,
		    store_schema_version());
		return false;
	}
	return true;
}

enum store_err
store_restore(const char *path, const char *backup, buf *err)
{
	sqlite3 *src = NULL, *dst = NULL;
	enum store_err e = STORE_INVALID;
	int lock = -1;
	struct stat a, b;

	if (stat(path, &a) == 0 && stat(backup, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
		berr(err, "%s is the database itself", backup);
		return STORE_INVALID;
	}
	if ((src = raw_open(backup, SQLITE_OPEN_READONLY, err)) == NULL)
		return STORE_INVALID;
	if (!restore_check(src, backup, err))
		goto out;
	e = STORE_ERROR;
	if (!db_file_create(path, err))
		goto out;
	/* exclusive: no server (nor any kiji command) has it open */
	if ((lock = db_file_lock(path, LOCK_EX, err)) < 0) {
		if (errno == EWOULDBLOCK) {
			berr(err, "%s is in use: a kiji server (or another kiji "
			    "command) has it open; stop it, then restore", path);
			e = STORE_BUSY;
		}
		goto out;
	}
	if ((dst = raw_open(path, SQLITE_OPEN_READWRITE, err)) == NULL ||
	    !raw_copy(dst, src, path, err))
		goto out;
	e = STORE_OK;
out:
	if (dst != NULL && sqlite3_close(dst) != SQLITE_OK && e == STORE_OK) {
		berr(err, "%s: close failed", path);
		e = STORE_ERROR;
	}
	sqlite3_close(src);
	if (lock >= 0)
		close(lock); /* after SQLite's descriptors (POSIX locks) */
	return e;
}
