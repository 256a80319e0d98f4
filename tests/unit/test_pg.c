/*
 * The PostgreSQL driver (src/store/pg.c) on a real server: parameter
 * rewriting, values there and back, changes and ids, error mapping,
 * transactions after an error, and a connection killed under it. Runs only
 * with KIJI_TEST_PG set (tests/run.sh starts a cluster with
 * tests/pg/cluster.sh); otherwise it says it skipped.
 */
#include "../../src/store/store_int.h"
#include "t.h"
#include "t_db.h"

#include <inttypes.h>
#include <libpq-fe.h>

static store *s;       /* this binary's store, on a schema of its own */
static struct conn *c; /* this thread's connection to it */

/* Prepares sql on c (the enum id only names it); NULL, said, on error. */
static void *
prep(const char *sql)
{
	void *st = NULL;
	int rc = s->drv->prepare(c->h, STMT_BEGIN, sql, &st);
	if (rc != DB_OK)
		printf("prepare %s: %s\n", sql, s->drv->errmsg(c->h));
	return st;
}

/* The store error sql (a script) ends with. */
static enum store_err
script(const char *sql)
{
	buf err;
	buf_init(&err, 0);
	int rc = s->drv->script(c->h, sql, &err);
	if (rc != DB_OK)
		printf("script: %s\n", buf_cstr(&err));
	buf_free(&err);
	return s->drv->err_map(c->h, rc, 0);
}

/* Steps st to its end: the store error it ends with. */
static enum store_err
run(void *st)
{
	int rc;
	while ((rc = s->drv->step(st)) == DB_ROW)
		;
	s->drv->reset(st);
	return rc == DB_DONE ? STORE_OK : s->drv->err_map(c->h, rc, 0);
}

/* The one integer a one-row query answers; -1 on error. */
static int64_t
one_int(const char *sql)
{
	void *st = prep(sql);
	int64_t v = -1;
	if (st == NULL)
		return -1;
	if (s->drv->step(st) == DB_ROW)
		v = s->drv->col_int(st, 0);
	s->drv->reset(st);
	s->drv->finalize(st);
	return v;
}

/* Ends the backend behind c from a connection of our own, and waits
 * until it has gone. */
static bool
kill_backend(int64_t pid)
{
	char sql[96];
	PGconn *pg = PQconnectdb(t_db_last);
	PGresult *r;
	bool ok;
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%" PRId64
	    ", 5000)", pid);
	r = PQexec(pg, sql);
	ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
	    strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	if (!ok)
		printf("kill_backend: %s", PQerrorMessage(pg));
	PQclear(r);
	PQfinish(pg);
	return ok;
}

/* ":a" twice is one $n; "::int" is a cast; quoted ':x' and "..."
 * identifiers are left alone. */
static void
test_params(void)
{
	void *st = prep("SELECT :a::int + :b AS \"sum:y\", ':x' AS lit, :a,"
	    " E'\\\\:z', 1 -- :c\n");
	size_t n;
	T_CHECK(st != NULL);
	if (st == NULL)
		return;
	T_CHECK(s->drv->param(st, ":a") == 1);
	T_CHECK(s->drv->param(st, ":b") == 2);
	T_CHECK(s->drv->param(st, ":x") == 0);
	T_CHECK(s->drv->param(st, ":y") == 0);
	T_CHECK(s->drv->param(st, ":z") == 0);
	T_CHECK(s->drv->param(st, ":c") == 0);
	T_CHECK(s->drv->param(st, ":int") == 0);
	T_CHECK(s->drv->bind_int(st, 1, 2) == DB_OK);
	T_CHECK(s->drv->bind_int(st, 2, 40) == DB_OK);
	T_CHECK(s->drv->step(st) == DB_ROW);
	T_CHECK(s->drv->col_int(st, 0) == 42);
	T_STREQ(s->drv->col_text(st, 1, &n), ":x");
	T_CHECK(s->drv->col_int(st, 2) == 2);
	T_STREQ(s->drv->col_text(st, 3, &n), "\\:z");
	T_CHECK(s->drv->step(st) == DB_DONE);
	s->drv->reset(st);
	s->drv->finalize(st);
}

/* Integers at both ends, UTF-8 text, NULL, and bytes with zeros in them
 * go in and come back as they were; changes and last_id follow. */
static void
test_round_trip(void)
{
	static const unsigned char bytes[] = {'a', 0, 'b', 0, 0xff, 0x5c};
	const char *utf8 = "記事 — ✓ «ça»";
	void *ins, *sel;
	const void *b;
	size_t n;

	T_CHECK(script("CREATE TABLE rt (id BIGSERIAL PRIMARY KEY, i BIGINT,"
	    " t TEXT, b BYTEA, u TEXT UNIQUE, ok BOOLEAN)") == STORE_OK);
	ins = prep("INSERT INTO rt (i, t, b, u, ok) VALUES (:i, :t, :b, :u,"
	    " :i::bigint > 0) RETURNING id");
	sel = prep("SELECT i, t, b, u, ok, i::float8 / 4 FROM rt"
	    " WHERE id = :id");
	T_CHECK(ins != NULL && sel != NULL);
	if (ins == NULL || sel == NULL)
		goto out;
	T_CHECK(s->drv->bind_int(ins, 1, INT64_MAX) == DB_OK);
	T_CHECK(s->drv->bind_text(ins, 2, utf8) == DB_OK);
	T_CHECK(s->drv->bind_blob(ins, 3, bytes, sizeof(bytes)) == DB_OK);
	T_CHECK(s->drv->bind_null(ins, 4) == DB_OK);
	T_CHECK(run(ins) == STORE_OK);
	T_CHECK(s->drv->changes(c->h) == 1);
	T_CHECK(s->drv->last_id(c->h) == 1);

	T_CHECK(s->drv->bind_int(ins, 1, INT64_MIN) == DB_OK);
	T_CHECK(s->drv->bind_text(ins, 2, "") == DB_OK);
	T_CHECK(s->drv->bind_blob(ins, 3, NULL, 0) == DB_OK);
	T_CHECK(s->drv->bind_text(ins, 4, "one") == DB_OK);
	T_CHECK(run(ins) == STORE_OK);
	T_CHECK(s->drv->last_id(c->h) == 2);

	T_CHECK(s->drv->bind_int(sel, 1, 1) == DB_OK);
	T_CHECK(s->drv->step(sel) == DB_ROW);
	T_CHECK(s->drv->col_int(sel, 0) == INT64_MAX);
	T_STREQ(s->drv->col_text(sel, 1, &n), utf8);
	T_CHECK(n == strlen(utf8));
	b = s->drv->col_blob(sel, 2, &n);
	T_CHECK(b != NULL && n == sizeof(bytes) &&
	    memcmp(b, bytes, sizeof(bytes)) == 0);
	T_CHECK(s->drv->col_text(sel, 3, &n) == NULL);
	T_CHECK(s->drv->col_int(sel, 3) == 0);
	T_CHECK(s->drv->col_blob(sel, 3, &n) == NULL);
	T_CHECK(s->drv->col_int(sel, 4) == 1);
	T_CHECK(s->drv->col_double(sel, 5) == (double)INT64_MAX / 4);
	T_CHECK(s->drv->step(sel) == DB_DONE);
	s->drv->reset(sel);

	T_CHECK(s->drv->bind_int(sel, 1, 2) == DB_OK);
	T_CHECK(s->drv->step(sel) == DB_ROW);
	T_CHECK(s->drv->col_int(sel, 0) == INT64_MIN);
	T_STREQ(s->drv->col_text(sel, 1, &n), "");
	b = s->drv->col_blob(sel, 2, &n);
	T_CHECK(b != NULL && n == 0); /* empty, not NULL */
	T_STREQ(s->drv->col_text(sel, 3, &n), "one");
	T_CHECK(s->drv->col_int(sel, 4) == 0);
	s->drv->reset(sel);
	T_CHECK(s->drv->idle(c->h));

	/* an UPDATE's count; a SELECT after it leaves changes alone */
	T_CHECK(script("UPDATE rt SET i = 0") == STORE_OK);
	T_CHECK(one_int("UPDATE rt SET i = 1 RETURNING 7") == 7);
	T_CHECK(s->drv->changes(c->h) == 2);
	T_CHECK(one_int("SELECT count(*) FROM rt") == 2);
	T_CHECK(s->drv->changes(c->h) == 2);
out:
	s->drv->finalize(ins);
	s->drv->finalize(sel);
}

/* A unique violation is a conflict; bad values and NOT NULL are invalid;
 * a statement mid-result makes the connection busy. */
static void
test_errors(void)
{
	void *ins = prep("INSERT INTO rt (u, i) VALUES (:u, :i)");
	void *st;
	T_CHECK(ins != NULL);
	if (ins == NULL)
		return;
	T_CHECK(s->drv->bind_text(ins, 1, "dup") == DB_OK);
	T_CHECK(run(ins) == STORE_OK);
	T_CHECK(s->drv->bind_text(ins, 1, "dup") == DB_OK);
	T_CHECK(run(ins) == STORE_CONFLICT);
	T_CHECK(strstr(s->drv->errmsg(c->h), "unique") != NULL);
	T_CHECK(s->drv->bind_text(ins, 1, "x") == DB_OK);
	T_CHECK(s->drv->bind_text(ins, 2, "not a number") == DB_OK);
	T_CHECK(run(ins) == STORE_INVALID);
	s->drv->finalize(ins);
	T_CHECK(script("ALTER TABLE rt ALTER COLUMN i SET NOT NULL") ==
	    STORE_INVALID); /* a row has i NULL: 23502 */

	int rc = s->drv->prepare(c->h, STMT_BEGIN, "SELEC nothing", &st);
	T_CHECK(rc != DB_OK && s->drv->err_map(c->h, rc, 0) == STORE_ERROR);
	T_CHECK(strstr(s->drv->errmsg(c->h), "syntax") != NULL);
	T_CHECK(s->drv->err_map(c->h, DB_MISUSE, 0) == STORE_ERROR);

	st = prep("SELECT id FROM rt");
	T_CHECK(st != NULL && s->drv->step(st) == DB_ROW);
	T_CHECK(!s->drv->idle(c->h));
	s->drv->reset(st);
	T_CHECK(s->drv->idle(c->h));
	s->drv->finalize(st);
}

/* Inserts u into rt through the store's plumbing: the store error. */
static enum store_err
insert_u(void *ins, const char *u)
{
	s->drv->bind_text(ins, 1, u);
	return run(ins);
}

/* A failed statement leaves PostgreSQL's transaction failed (not idle):
 * db_tx_end's ROLLBACK and ROLLBACK TO must leave the connection clean,
 * and a COMMIT of a failed transaction is an error, not a success. */
static void
test_transactions(void)
{
	void *ins = prep("INSERT INTO rt (u) VALUES (:u)");
	struct tx outer = {0}, inner = {0};
	T_CHECK(ins != NULL);
	if (ins == NULL)
		return;
	/* outer: the error rolls everything back */
	T_CHECK(db_tx_begin(c, true, &outer) == STORE_OK);
	T_CHECK(!db_autocommit(c));
	T_CHECK(insert_u(ins, "tx1") == STORE_OK);
	T_CHECK(insert_u(ins, "dup") == STORE_CONFLICT);
	T_CHECK(!db_autocommit(c)); /* failed, still open */
	T_CHECK(db_tx_end(c, &outer, STORE_CONFLICT) == STORE_CONFLICT);
	T_CHECK(db_autocommit(c));
	T_CHECK(one_int("SELECT count(*) FROM rt WHERE u = 'tx1'") == 0);

	/* a savepoint undoes only itself */
	T_CHECK(db_tx_begin(c, true, &outer) == STORE_OK);
	T_CHECK(insert_u(ins, "tx2") == STORE_OK);
	T_CHECK(db_tx_begin(c, true, &inner) == STORE_OK);
	T_CHECK(!inner.outer);
	T_CHECK(insert_u(ins, "tx3") == STORE_OK);
	T_CHECK(insert_u(ins, "dup") == STORE_CONFLICT);
	T_CHECK(db_tx_end(c, &inner, STORE_CONFLICT) == STORE_CONFLICT);
	T_CHECK(insert_u(ins, "tx4") == STORE_OK);
	T_CHECK(db_tx_end(c, &outer, STORE_OK) == STORE_OK);
	T_CHECK(db_autocommit(c));
	T_CHECK(one_int("SELECT count(*) FROM rt WHERE u IN ('tx2', 'tx4')")
	    == 2);
	T_CHECK(one_int("SELECT count(*) FROM rt WHERE u = 'tx3'") == 0);

	/* COMMIT after an error: PostgreSQL rolls back and says COMMIT
	 * succeeded; the driver says it did not */
	T_CHECK(db_conn_run(c, STMT_BEGIN) == STORE_OK);
	T_CHECK(insert_u(ins, "tx5") == STORE_OK);
	T_CHECK(insert_u(ins, "dup") == STORE_CONFLICT);
	T_CHECK(db_conn_run(c, STMT_COMMIT) == STORE_ERROR);
	T_CHECK(db_autocommit(c));
	T_CHECK(one_int("SELECT count(*) FROM rt WHERE u = 'tx5'") == 0);

	/* store_begin .. store_commit through the store's API */
	T_CHECK(store_begin(s) == STORE_OK);
	T_CHECK(insert_u(ins, "tx6") == STORE_OK);
	T_CHECK(store_commit(s) == STORE_OK);
	T_CHECK(one_int("SELECT count(*) FROM rt WHERE u = 'tx6'") == 1);
	s->drv->finalize(ins);
}

/* The backend killed under an idle connection: a read runs again on a
 * new one; a write answers busy (it may or may not have happened) and
 * the next works; inside a transaction even a read answers busy. */
static void
test_lost_connection(void)
{
	void *rd = prep("SELECT count(*) FROM rt WHERE u = :u");
	void *wr = prep("INSERT INTO rt (u) VALUES (:u)");
	int64_t pid = one_int("SELECT pg_backend_pid()"), pid2;
	T_CHECK(rd != NULL && wr != NULL && pid > 0);
	if (rd == NULL || wr == NULL || pid <= 0)
		goto out;

	T_CHECK(kill_backend(pid));
	s->drv->bind_text(rd, 1, "tx6");
	T_CHECK(s->drv->step(rd) == DB_ROW);
	T_CHECK(s->drv->col_int(rd, 0) == 1);
	s->drv->reset(rd);
	pid2 = one_int("SELECT pg_backend_pid()");
	T_CHECK(pid2 > 0 && pid2 != pid);

	/* wr prepared on this connection: the loss shows when it runs */
	T_CHECK(insert_u(wr, "lost0") == STORE_OK);
	T_CHECK(kill_backend(pid2));
	T_CHECK(insert_u(wr, "lost1") == STORE_BUSY);
	T_CHECK(insert_u(wr, "lost2") == STORE_OK); /* prepared anew */
	T_CHECK(one_int("SELECT count(*) FROM rt WHERE u = 'lost2'") == 1);

	/* in a transaction: whether rd was prepared before the loss
	 * (it runs) or after it (it prepares again), the answer is busy */
	for (int i = 0; i < 2; i++) {
		if (i == 0) { /* prepared on the connection about to go */
			s->drv->bind_text(rd, 1, "tx6");
			T_CHECK(run(rd) == STORE_OK);
		}
		pid = one_int("SELECT pg_backend_pid()");
		T_CHECK(db_conn_run(c, STMT_BEGIN) == STORE_OK);
		T_CHECK(kill_backend(pid));
		s->drv->bind_text(rd, 1, "tx6");
		T_CHECK(run(rd) == STORE_BUSY);
		T_CHECK(db_autocommit(c)); /* gone with the connection */
	}
	s->drv->bind_text(rd, 1, "tx6");
	T_CHECK(s->drv->step(rd) == DB_ROW && s->drv->col_int(rd, 0) == 1);
	s->drv->reset(rd);

	/* the store's own statements come back too (data_version) */
	pid = one_int("SELECT pg_backend_pid()");
	T_CHECK(store_data_version(s) >= 0);
	T_CHECK(kill_backend(pid));
	T_CHECK(store_data_version(s) >= 0);
out:
	s->drv->finalize(rd);
	s->drv->finalize(wr);
}

/* The URL's password never shows in an error; a server that is not
 * there is said plainly. */
static void
test_open_errors(void)
{
	buf err;
	store *x;
	buf_init(&err, 0);
	x = store_open("postgresql://kiji:s3cret@127.0.0.1:1/none", &err);
	T_CHECK(x == NULL);
	T_CHECK(strstr(buf_cstr(&err), "s3cret") == NULL);
	T_CHECK(strstr(buf_cstr(&err), "cannot connect") != NULL);
	buf_reset(&err);
	x = store_open("postgresql://127.0.0.1:1/none?password=s3cret&x=1",
	    &err);
	T_CHECK(x == NULL);
	T_CHECK(strstr(buf_cstr(&err), "s3cret") == NULL);
	buf_free(&err);
}

int
main(void)
{
	if (!t_pg()) {
		printf("test_pg: skipped (KIJI_TEST_PG not set)\n");
		T_DONE();
	}
	s = t_db_open();
	if (s == NULL || (c = db_conn_get(s)) == NULL) {
		printf("FAIL test_pg: no store on %s\n", t_db_last);
		return 1;
	}
	T_RUN(test_params);
	T_RUN(test_round_trip);
	T_RUN(test_errors);
	T_RUN(test_transactions);
	T_RUN(test_lost_connection);
	T_RUN(test_open_errors);
	store_close(s);
	T_DONE();
}
