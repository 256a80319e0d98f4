/*
 * PostgreSQL's change listener (src/store/pg_listen.c): a write through
 * another connection moves store_data_version without a query of ours;
 * its backend terminated, the listener comes back and keeps working;
 * store_close stops it at once. On a database of its own, so other
 * tests' NOTIFYs do not reach it. Runs only with KIJI_TEST_PG set.
 */
#include "../../src/store/store.h"
#include "t.h"
#include "t_db.h"

#include <libpq-fe.h>
#include <time.h>

#define APP "kiji_tlisten"

static char url[T_PATH_MAX + 256];  /* the test database, named APP */
static char dbname[64];

/* Milliseconds on the monotonic clock. */
static int64_t
ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps n milliseconds. */
static void
nap(int n)
{
	struct timespec ts = {n / 1000, (long)(n % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Runs sql on the server's maintenance database (KIJI_TEST_PG itself);
 * the first value of its answer into out (when not NULL). */
static bool
admin_sql(const char *conninfo, const char *sql, char *out, size_t n)
{
	PGconn *pg = PQconnectdb(conninfo);
	PGresult *r = PQexec(pg, sql);
	ExecStatusType st = PQresultStatus(r);
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok)
		printf("%s: %s", sql, PQerrorMessage(pg));
	if (ok && out != NULL)
		snprintf(out, n, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	PQfinish(pg);
	return ok;
}

/* The pid of the backend LISTENing for our store, "" when none. */
static void
listener_pid(char *out, size_t n)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT COALESCE(MAX(pid), 0)::text FROM"
	    " pg_stat_activity WHERE datname = '%s' AND query ="
	    " 'LISTEN kiji_change'", dbname);
	if (!admin_sql(t_pg_base(), sql, out, n) || strcmp(out, "0") == 0)
		out[0] = '\0';
}

/* Waits (5 s at most) for a listener other than the one whose pid is
 * not_pid; its pid into out. */
static bool
listener_wait(const char *not_pid, char *out, size_t n)
{
	int64_t end = ms() + 5000;
	do {
		listener_pid(out, n);
		if (out[0] != '\0' && strcmp(out, not_pid) != 0)
			return true;
		nap(20);
	} while (ms() < end);
	return false;
}

/* Writes a setting through w and waits (2 s at most) for s's data
 * version to move; the delay in ms, -1 when it did not. */
static int64_t
write_seen(store *s, store *w, const char *value)
{
	int64_t v0 = store_data_version(s), t0 = ms();
	if (store_setting_set(w, "site.title", value) != STORE_OK)
		return -1;
	while (ms() - t0 < 2000) {
		if (store_data_version(s) != v0)
			return ms() - t0;
		nap(1);
	}
	return -1;
}

/* A NOTIFY moves the version; nothing moves it otherwise. */
static void
test_notify(void)
{
	buf err;
	char pid[32];
	buf_init(&err, 0);
	store *s = store_open(url, &err), *w = store_open(url, &err);
	T_CHECK(s != NULL && w != NULL);
	if (s == NULL || w == NULL) {
		printf("%s\n", buf_cstr(&err));
		goto out;
	}
	(void)store_data_version(s); /* starts the listener */
	T_CHECK(listener_wait("", pid, sizeof(pid)));
	nap(50);
	int64_t v = store_data_version(s);
	nap(300);
	T_CHECK(store_data_version(s) == v); /* quiet: no tick while up */
	int64_t d = write_seen(s, w, "one");
	printf("  listener: a write seen after %lld ms\n", (long long)d);
	T_CHECK(d >= 0 && d < 500);
	/* the change log has the row the version announced */
	int64_t last = 0;
	T_CHECK(store_changes_last(s, &last) == STORE_OK && last > 0);
out:
	store_close(w);
	store_close(s);
	buf_free(&err);
}

/* The listener's backend terminated: the version moves (the log must be
 * read: notifications may have been missed), a new listener comes, and
 * writes are seen again. */
static void
test_terminated(void)
{
	buf err;
	char pid[32], pid2[32], sql[96];
	buf_init(&err, 0);
	store *s = store_open(url, &err), *w = store_open(url, &err);
	T_CHECK(s != NULL && w != NULL);
	if (s == NULL || w == NULL)
		goto out;
	(void)store_data_version(s);
	T_CHECK(listener_wait("", pid, sizeof(pid)));
	nap(50);
	int64_t v = store_data_version(s);
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%s, 5000)", pid);
	T_CHECK(admin_sql(t_pg_base(), sql, NULL, 0));
	/* a write while it is away is not lost: the version moves */
	T_CHECK(store_setting_set(w, "site.title", "away") == STORE_OK);
	nap(150);
	T_CHECK(store_data_version(s) != v);
	T_CHECK(listener_wait(pid, pid2, sizeof(pid2)));
	nap(50);
	int64_t d = write_seen(s, w, "back");
	printf("  listener: back as pid %s, a write seen after %lld ms\n",
	    pid2, (long long)d);
	T_CHECK(d >= 0 && d < 500);
	/* closing stops its thread at once, not after a poll's timeout */
	int64_t t0 = ms();
	store_close(s);
	s = NULL;
	T_CHECK(ms() - t0 < 500);
	nap(100);
	listener_pid(pid, sizeof(pid));
	T_CHECK(pid[0] == '\0');
out:
	store_close(w);
	store_close(s);
	buf_free(&err);
}

/* A server that is not there: the version still moves (by the clock),
 * nothing crashes, and close is prompt. */
static void
test_no_server(void)
{
	buf err;
	buf_init(&err, 0);
	store *s = store_open(url, &err);
	T_CHECK(s != NULL);
	if (s == NULL)
		goto out;
	/* the listener's database dropped under it: connecting fails */
	char sql[128];
	snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS false",
	    dbname);
	T_CHECK(admin_sql(t_pg_base(), sql, NULL, 0));
	int64_t v = store_data_version(s);
	nap(250);
	T_CHECK(store_data_version(s) != v);
	int64_t t0 = ms();
	store_close(s);
	T_CHECK(ms() - t0 < 500);
	snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS true",
	    dbname);
	T_CHECK(admin_sql(t_pg_base(), sql, NULL, 0));
out:
	buf_free(&err);
}

int
main(void)
{
	char sql[128];
	const char *base;
	if (!t_pg()) {
		printf("test_pg_listen: skipped (KIJI_TEST_PG not set)\n");
		T_DONE();
	}
	base = t_pg_base();
	snprintf(dbname, sizeof(dbname), "tlisten_%ld", (long)getpid());
	/* the base URL with our database instead of its own */
	const char *a = strstr(base, "://");
	const char *p = a ? strchr(a + 3, '/') : NULL;
	if (p == NULL) {
		printf("FAIL test_pg_listen: %s has no database name\n", base);
		return 1;
	}
	snprintf(url, sizeof(url), "%.*s/%s?application_name=" APP,
	    (int)(p - base), base, dbname);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s ENCODING 'UTF8'"
	    " TEMPLATE template0", dbname);
	if (!admin_sql(base, sql, NULL, 0))
		return 1;
	T_RUN(test_notify);
	T_RUN(test_terminated);
	T_RUN(test_no_server);
	snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)", dbname);
	admin_sql(base, sql, NULL, 0);
	T_DONE();
}
