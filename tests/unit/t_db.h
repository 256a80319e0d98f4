/*
 * Databases for the unit tests that need a store: files in the test
 * binary's temporary directory t_dir (main makes it with t_tmpdir and
 * removes it with t_tmpdir_remove), each test on a fresh, empty site;
 * a store that does not open says why. With KIJI_TEST_PG set to a
 * PostgreSQL base URL (tests/pg/cluster.sh prints one), t_db_open gives
 * each test a fresh schema on that server instead; t_pg() says so, and
 * the tests that read SQLite's file themselves skip those parts.
 */
#ifndef KIJI_T_DB_H
#define KIJI_T_DB_H

#include "../../src/store/store.h"
#include "t.h"

#include <stdlib.h>
#include <unistd.h>

#include <libpq-fe.h>

#define T_PATH_MAX 320 /* enough for t_dir, '/' and a short name, or a
                        * base URL and its search_path option */

static char t_dir[64];             /* this binary's directory */
static char t_db_last[T_PATH_MAX]; /* the file (or URL) t_db_open opened
                                    * last */

/* The PostgreSQL base URL the tests run on; NULL under SQLite. */
static inline const char *
t_pg_base(void)
{
	const char *u = getenv("KIJI_TEST_PG");
	return u != NULL && *u != '\0' ? u : NULL;
}

/* Whether the stores t_db_open makes are PostgreSQL ones. */
static inline bool
t_pg(void)
{
	return t_pg_base() != NULL;
}

/* Says that the current test does not apply under PostgreSQL (it reads
 * SQLite's file); true when the caller should return. */
static inline bool
t_sqlite_only(void)
{
	if (!t_pg())
		return false;
	printf("%s: skipped (SQLite only)\n", t_cur);
	return true;
}

/* "<t_dir>/<name>" into out (n bytes); returns out. */
static inline const char *
t_path(char *out, size_t n, const char *name)
{
	int len = snprintf(out, n, "%s/%s", t_dir, name);
	if (len < 0 || (size_t)len >= n)
		printf("t_path: %s/%s does not fit\n", t_dir, name);
	return out;
}

/* A path in t_dir no database has had yet (t1.db, t2.db, ...). */
static inline const char *
t_db_path(char *out, size_t n)
{
	static int seq;
	char name[32];
	snprintf(name, sizeof(name), "t%d.db", ++seq);
	return t_path(out, n, name);
}

/* The store at path (a new database when there is none); NULL, with
 * store_open's reason printed, when it does not open. */
static inline store *
t_db_open_at(const char *path)
{
	buf err;
	buf_init(&err, 0);
	store *s = store_open(path, &err);
	if (s == NULL)
		printf("store_open %s: %s\n", path, buf_cstr(&err));
	buf_free(&err);
	return s;
}

/* A new, empty schema t<pid>_<n> on the KIJI_TEST_PG server; its URL
 * (the base with options=-csearch_path=...) into out. False, with the
 * reason printed, when it cannot be made. */
static inline bool
t_pg_schema(char *out, size_t n)
{
	static int seq;
	char name[48], sql[96];
	const char *base = t_pg_base();
	PGconn *pg = PQconnectdb(base);
	PGresult *r;
	bool ok;
	int len;

	snprintf(name, sizeof(name), "t%ld_%d", (long)getpid(), ++seq);
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", name);
	r = PQexec(pg, sql);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		printf("t_pg_schema: %s: %s", name, PQerrorMessage(pg));
	PQclear(r);
	PQfinish(pg);
	len = snprintf(out, n, "%s%coptions=-csearch_path%%3D%s", base,
	    strchr(base, '?') ? '&' : '?', name);
	if (len < 0 || (size_t)len >= n) {
		printf("t_pg_schema: %s does not fit\n", base);
		return false;
	}
	return ok;
}

/* A fresh, empty database in t_dir (or schema under KIJI_TEST_PG); its
 * path or URL stays in t_db_last, for a second handle on it or for
 * reading the file directly. */
static inline store *
t_db_open(void)
{
	if (t_pg())
		return t_pg_schema(t_db_last, sizeof(t_db_last))
		    ? t_db_open_at(t_db_last) : NULL;
	return t_db_open_at(t_db_path(t_db_last, sizeof(t_db_last)));
}

/* Removes the database file at path and the -wal, -shm and -journal
 * files SQLite may have left beside it. */
static inline void
t_db_remove(const char *path)
{
	static const char *const sfx[] = {"-wal", "-shm", "-journal"};
	char p[T_PATH_MAX + 16];
	unlink(path);
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		unlink(p);
	}
}

#endif
