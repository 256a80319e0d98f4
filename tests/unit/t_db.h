/*
 * Databases for the unit tests that need a store: files in the test
 * binary's temporary directory t_dir (main makes it with t_tmpdir and
 * removes it with t_tmpdir_remove), each test on a fresh, empty site;
 * a store that does not open says why.
 */
#ifndef KIJI_T_DB_H
#define KIJI_T_DB_H

#include "../../src/store/store.h"
#include "t.h"

#include <unistd.h>

#define T_PATH_MAX 160 /* enough for t_dir, '/' and a short name */

static char t_dir[64];             /* this binary's directory */
static char t_db_last[T_PATH_MAX]; /* the file t_db_open opened last */

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

/* A fresh, empty database in t_dir; its path stays in t_db_last, for a
 * second handle on it or for reading the file directly. */
static inline store *
t_db_open(void)
{
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
