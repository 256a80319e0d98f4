/*
 * PostgreSQL's schema and statement table (schema_pg.c, pg_stmts.c)
 * against a real server, when KIJI_TEST_PG names one (a base URL such as
 * postgresql://postgres@127.0.0.1:5432/postgres): in a fresh schema the
 * migrations apply as db.c applies them, a second run of v1 is refused
 * without harm, and every statement prepares, runs with NULL parameters
 * without a syntax or planning error, and has the columns and named
 * parameters its SQLite version has. Without KIJI_TEST_PG: skipped.
 */
#include "../../src/store/schema.h"
#include "../../src/store/store_int.h"
#include "t_db.h"

#include <libpq-fe.h>
#include <sqlite3.h>

static PGconn *pg;

/* The statements with no PostgreSQL version (SQLite's file tools, and
 * SQLite's newest-first search machinery, which pg_search.c does not
 * need): skipped when db_pg_sql has none. */
static const enum stmt sqlite_only[] = {
	STMT_INTEGRITY_CHECK, STMT_QUICK_CHECK, STMT_SECURE_DELETE,
	STMT_JOURNAL_MEMORY, STMT_FTS_INDEX, STMT_FTS_UNINDEX,
	STMT_FTS_INDEX_MANY, STMT_SEARCH, STMT_SEARCH_TOP, STMT_SEARCH_IDS,
	STMT_SEARCH_HIDDEN, STMT_SEARCH_WALK, STMT_SEARCH_PROBE,
	STMT_SEARCH_ROW,
};

/* Statements each backend writes its own way, prepared and run here but
 * not compared with SQLite's: full-text search (behind db_driver.fts_*:
 * sqlite_search.c over FTS5, pg_search.c over search_docs) and kiji
 * migrate's sequences. */
static const enum stmt own_shape[] = {
	STMT_FTS_INDEX, STMT_FTS_UNINDEX, STMT_FTS_INDEX_MANY, STMT_SEARCH,
	STMT_SEARCH_IDS, STMT_SEARCH_WALK, STMT_SEARCH_REBUILD,
	/* kiji migrate's sequences: SQLite sets its one counter, PostgreSQL
	 * each identity's (a setval per column) */
	STMT_COPY_SEQUENCES,
};

#define MAX_PARAMS 32

/* A statement with its ":name" parameters numbered $1.. (the same name,
 * the same number); quoted text and "::" casts are left alone. */
struct pg_sql {
	char sql[8192];
	char names[MAX_PARAMS][32];
	int n;
};

/* Whether ch may be in a parameter's name (digits not first). */
static bool
name_char(char ch, bool digit)
{
	return ch == '_' || (ch >= 'a' && ch <= 'z') ||
	    (ch >= 'A' && ch <= 'Z') || (digit && ch >= '0' && ch <= '9');
}

/* Rewrites sql into out; false when it does not fit. */
static bool
pg_rewrite(const char *sql, struct pg_sql *out)
{
	size_t o = 0, cap = sizeof(out->sql);
	out->n = 0;
	for (const char *p = sql; *p; ) {
		char num[16];
		const char *from = p;
		if (*p == '\'' || *p == '"') {
			char qc = *p++;
			while (*p && *p != qc)
				p++;
			if (*p)
				p++;
		} else if (p[0] == ':' && p[1] == ':') {
			p += 2;
		} else if (*p == ':' && name_char(p[1], false)) {
			size_t len = 1;
			int i;
			while (name_char(p[len], true))
				len++;
			if (len >= sizeof(out->names[0]))
				return false;
			for (i = 0; i < out->n; i++)
				if (strncmp(out->names[i], p, len) == 0 &&
				    out->names[i][len] == '\0')
					break;
			if (i == out->n) {
				if (out->n == MAX_PARAMS)
					return false;
				memcpy(out->names[i], p, len);
				out->names[i][len] = '\0';
				out->n++;
			}
			snprintf(num, sizeof(num), "$%d", i + 1);
			if (o + strlen(num) >= cap)
				return false;
			memcpy(out->sql + o, num, strlen(num));
			o += strlen(num);
			p += len;
			continue;
		} else {
			p++;
		}
		if (o + (size_t)(p - from) >= cap)
			return false;
		memcpy(out->sql + o, from, (size_t)(p - from));
		o += (size_t)(p - from);
	}
	out->sql[o] = '\0';
	return true;
}

/* Runs sql (no parameters); true when the server took it, else says why. */
static bool
pg_run(const char *sql)
{
	PGresult *r = PQexec(pg, sql);
	ExecStatusType st = PQresultStatus(r);
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok)
		printf("  %.60s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	return ok;
}

/* Runs statement id with its parameters given in order as vals (text);
 * the result, for the caller to clear. */
static PGresult *
pg_stmt(enum stmt id, int n, const char *const *vals)
{
	static struct pg_sql q;
	const char *sql = db_sql(&(struct db_driver){ .sql = db_pg_sql }, id);
	if (!pg_rewrite(sql, &q) || q.n != n)
		return NULL;
	return PQexecParams(pg, q.sql, n, NULL, vals, NULL, NULL, 0);
}

/* MIGRATIONS_MAX: the newest version recorded; -1 on error. */
static int
pg_schema_max(void)
{
	PGresult *r = pg_stmt(STMT_MIGRATIONS_MAX, 0, NULL);
	int v = -1;
	if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

/* db.c's migrate(): the table, then each version not yet recorded in a
 * transaction of its own, recorded in it. */
static void
test_migrate(void)
{
	PGresult *r;
	T_CHECK((r = pg_stmt(STMT_MIGRATIONS_INIT, 0, NULL)) != NULL &&
	    PQresultStatus(r) == PGRES_COMMAND_OK);
	PQclear(r);
	T_CHECK(store_pg_schema_version() >= 1);
	T_CHECK(store_pg_schema_migration(0) == NULL);
	T_CHECK(store_pg_schema_migration(store_pg_schema_version() + 1) == NULL);
	for (int v = 1; v <= store_pg_schema_version(); v++) {
		char vs[16];
		const char *vals[2] = { vs, "1700000000" };
		snprintf(vs, sizeof(vs), "%d", v);
		T_CHECK(pg_run("BEGIN"));
		r = pg_stmt(STMT_MIGRATION_HAS, 1, vals);
		T_CHECK(r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK &&
		    PQntuples(r) == 0);
		PQclear(r);
		T_CHECK(pg_run(store_pg_schema_migration(v)));
		r = pg_stmt(STMT_MIGRATION_RECORD, 2, vals);
		T_CHECK(r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK);
		PQclear(r);
		T_CHECK(pg_run("COMMIT"));
	}
	T_CHECK(pg_schema_max() == store_pg_schema_version());
}

/* v1 again (two nodes migrating a new database at once: the second
 * waits for the first, then) fails as a whole and changes nothing; the
 * migrations table is created again without complaint. */
static void
test_migrate_again(void)
{
	PGresult *r;
	T_CHECK((r = pg_stmt(STMT_MIGRATIONS_INIT, 0, NULL)) != NULL &&
	    PQresultStatus(r) == PGRES_COMMAND_OK);
	PQclear(r);
	T_CHECK(pg_run("BEGIN"));
	r = PQexec(pg, store_pg_schema_migration(1));
	T_CHECK(PQresultStatus(r) == PGRES_FATAL_ERROR);
	T_CHECK(strstr(PQresultErrorMessage(r), "already exists") != NULL);
	PQclear(r);
	T_CHECK(pg_run("ROLLBACK"));
	T_CHECK(pg_schema_max() == store_pg_schema_version());
	T_CHECK(pg_run("INSERT INTO articles(status, title, body)"
	    " VALUES ('draft', 't', 'b')"));
	r = PQexec(pg, "SELECT kind, article_id FROM change_log");
	T_CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1);
	if (PQntuples(r) == 1)
		T_STREQ(PQgetvalue(r, 0, 0), "article");
	PQclear(r);
	T_CHECK(pg_run("TRUNCATE articles, change_log CASCADE"));
}

/* Whether id is one of own_shape. */
static bool
is_own_shape(enum stmt id)
{
	for (size_t i = 0; i < sizeof(own_shape) / sizeof(own_shape[0]); i++)
		if (own_shape[i] == id)
			return true;
	return false;
}

/* Whether id has no PostgreSQL version. */
static bool
is_sqlite_only(enum stmt id)
{
	for (size_t i = 0; i < sizeof(sqlite_only) / sizeof(sqlite_only[0]); i++)
		if (sqlite_only[i] == id)
			return true;
	return false;
}

/* Transaction control runs only where the caller's transaction is. */
static bool
is_tx_control(enum stmt id)
{
	return id <= STMT_ROLLBACK_TO;
}

/* Whether statement id's PostgreSQL version has the columns and the
 * parameters of its SQLite version (db is a migrated SQLite database);
 * an INSERT that only adds RETURNING id (for db_last_id), and the write
 * probe that reads what it wrote, may have one column more. */
static bool
same_shape(sqlite3 *db, enum stmt id, PGresult *desc, const struct pg_sql *q)
{
	sqlite3_stmt *st;
	int cols, params;
	bool ok = true;
	if (sqlite3_prepare_v2(db, db_stmts[id].sql, -1, &st, NULL) != SQLITE_OK) {
		printf("  %s: SQLite: %s\n", db_stmts[id].name, sqlite3_errmsg(db));
		return false;
	}
	cols = sqlite3_column_count(st);
	params = sqlite3_bind_parameter_count(st);
	if (cols != PQnfields(desc) && !(cols == 0 && PQnfields(desc) == 1 &&
	    (strstr(q->sql, "RETURNING id") || id == STMT_PROBE_WRITE))) {
		printf("  %s: %d columns on SQLite, %d here\n",
		    db_stmts[id].name, cols, PQnfields(desc));
		ok = false;
	}
	if (params != q->n || PQnparams(desc) != q->n) {
		printf("  %s: %d parameters on SQLite, %d here\n",
		    db_stmts[id].name, params, q->n);
		ok = false;
	}
	for (int i = 1; ok && i <= params; i++) {
		const char *name = sqlite3_bind_parameter_name(st, i);
		int j;
		for (j = 0; j < q->n && strcmp(name, q->names[j]); j++)
			;
		if (j == q->n) {
			printf("  %s: no %s here\n", db_stmts[id].name, name);
			ok = false;
		}
	}
	sqlite3_finalize(st);
	return ok;
}

/* Every statement: prepared (PostgreSQL parses, analyses and types it
 * then), shaped like SQLite's, and run once with every parameter NULL
 * inside a transaction that is rolled back: planning errors (an ON
 * CONFLICT without its index) show only then; data errors (NULL in a
 * NOT NULL column) are expected and fine. */
static void
test_statements(void)
{
	char path[T_PATH_MAX];
	buf err = {0};
	store *s = store_open(t_db_path(path, sizeof(path)), &err);
	struct conn *c = s ? db_conn_get(s) : NULL;
	sqlite3 *db = c ? db_sqlite_handle(c->h) : NULL;
	static struct pg_sql q;
	int prepared = 0, skipped = 0;

	T_CHECK(db != NULL);
	if (db == NULL) {
		store_close(s);
		return;
	}
	T_CHECK(pg_run("BEGIN"));
	for (int id = 0; id < STMT__MAX; id++) {
		const char *sql = db_pg_sql[id] ? db_pg_sql[id] : db_stmts[id].sql;
		const char *name = db_stmts[id].name;
		const char *nulls[MAX_PARAMS] = {0};
		char sname[16];
		PGresult *r;

		if (is_sqlite_only(id) && db_pg_sql[id] == NULL) {
			skipped++;
			continue;
		}
		if (!pg_rewrite(sql, &q)) {
			printf("FAIL %s: %s does not fit the rewrite\n", t_cur, name);
			t_cur_failed = 1;
			continue;
		}
		snprintf(sname, sizeof(sname), "s%d", id);
		r = PQprepare(pg, sname, q.sql, 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			printf("FAIL %s: %s: %s", t_cur, name,
			    PQresultErrorMessage(r));
			t_cur_failed = 1;
			PQclear(r);
			pg_run("ROLLBACK");
			pg_run("BEGIN");
			continue;
		}
		PQclear(r);
		prepared++;
		r = PQdescribePrepared(pg, sname);
		if (!is_own_shape(id) && !same_shape(db, id, r, &q)) {
			printf("FAIL %s: %s differs from SQLite's\n", t_cur, name);
			t_cur_failed = 1;
		}
		PQclear(r);
		if (is_tx_control(id))
			continue;
		T_CHECK(pg_run("SAVEPOINT t"));
		r = PQexecPrepared(pg, sname, q.n, nulls, NULL, NULL, 0);
		if (PQresultStatus(r) == PGRES_FATAL_ERROR) {
			const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
			/* 42: syntax or access rule; 0A: not supported */
			if (code && (strncmp(code, "42", 2) == 0 ||
			    strncmp(code, "0A", 2) == 0)) {
				printf("FAIL %s: %s runs: %s", t_cur, name,
				    PQresultErrorMessage(r));
				t_cur_failed = 1;
			}
		}
		PQclear(r);
		T_CHECK(pg_run("ROLLBACK TO t"));
	}
	T_CHECK(pg_run("ROLLBACK"));
	printf("  %d statements prepared, %d SQLite-only skipped\n", prepared,
	    skipped);
	T_CHECK(prepared + skipped == STMT__MAX);
	store_close(s);
}

/* Runs statement id with the named values in kv (":name", "value", ...,
 * NULL; names not given are NULL) and returns the first column of its
 * first row as a number; -1 when it failed or gave no row. */
static long long
pg_named(enum stmt id, const char *const *kv)
{
	static struct pg_sql q;
	const char *vals[MAX_PARAMS] = {0};
	PGresult *r;
	long long v = -1;
	if (!pg_rewrite(db_sql(&(struct db_driver){ .sql = db_pg_sql }, id), &q))
		return -1;
	for (int i = 0; i < q.n; i++)
		for (const char *const *p = kv; *p; p += 2)
			if (strcmp(p[0], q.names[i]) == 0)
				vals[i] = p[1];
	r = PQexecParams(pg, q.sql, q.n, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
		v = atoll(PQgetvalue(r, 0, 0));
	else if (PQresultStatus(r) == PGRES_FATAL_ERROR)
		printf("  %s: %s", db_stmts[id].name, PQresultErrorMessage(r));
	PQclear(r);
	return v;
}

/* A few statements whose PostgreSQL form differs in more than syntax,
 * with real values: new ids come back, JSON ids keep their order, a
 * top-level page is found by a NULL parent, the change log's span
 * survives pruning, a due job is claimed once. */
static void
test_behaviour(void)
{
	char art[24], page[24], c1[24], c2[24], ids[64], last[24];
	long long a, p, k1, k2, span;
	PGresult *r;

	T_CHECK(pg_run("BEGIN"));
	a = pg_named(STMT_ARTICLE_ADD, (const char *[]){ ":kind", "post",
	    ":title", "T", ":body", "b", ":format", "markdown", ":status",
	    "published", ":published", "1", ":updated", "1", ":open", "1",
	    ":order", "0", ":slug", "t", ":html", "", ":text", "",
	    ":excerpt", "", ":eyecatch", "", ":credit", "", ":legacy", "",
	    NULL });
	p = pg_named(STMT_ARTICLE_ADD, (const char *[]){ ":kind", "page",
	    ":title", "P", ":body", "b", ":format", "markdown", ":status",
	    "published", ":published", "1", ":updated", "1", ":open", "1",
	    ":order", "0", ":slug", "about", ":html", "", ":text", "",
	    ":excerpt", "", ":eyecatch", "", ":credit", "", ":legacy", "",
	    NULL });
	T_CHECK(a > 0 && p == a + 1);
	snprintf(art, sizeof(art), "%lld", a);
	snprintf(page, sizeof(page), "%lld", p);
	T_CHECK(pg_named(STMT_PAGE_CHILD, (const char *[]){ ":s0", "about",
	    ":s1", "x", ":s2", "y", NULL }) == p);
	T_CHECK(pg_named(STMT_PAGE_SLUG_OWNER, (const char *[]){ ":slug",
	    "about", ":except", "0", NULL }) == p);

#define COMMENT(body) pg_named(STMT_COMMENT_ADD, (const char *[]){           \
	":article", art, ":type", "comment", ":nickname", "n", ":email", "", \
	":url", "", ":ip", "", ":visitor", "v", ":body", body, ":created",   \
	"5", ":status", "approved", ":likes", "0", ":legacy", "",            \
	":reason", "", NULL })
	k1 = COMMENT("one");
	k2 = COMMENT("two");
#undef COMMENT
	T_CHECK(k1 > 0 && k2 == k1 + 1);
	snprintf(c1, sizeof(c1), "%lld", k1);
	snprintf(c2, sizeof(c2), "%lld", k2);
	snprintf(ids, sizeof(ids), "[%lld, %lld]", k2, k1);
	T_CHECK(pg_named(STMT_COMMENTS_BY_IDS, (const char *[]){ ":ids", ids,
	    ":article", art, ":visitor", "v", NULL }) == k2);

	/* 2 articles + 2 comments logged; pruned, the newest seq stays */
	span = pg_named(STMT_CHANGES_LAST, (const char *[]){ NULL });
	T_CHECK(span >= 4);
	snprintf(last, sizeof(last), "%lld", span);
	T_CHECK(pg_named(STMT_CHANGES_PRUNE, (const char *[]){ ":upto", last,
	    NULL }) == -1);
	{
		static struct pg_sql q;
		T_CHECK(pg_rewrite(db_pg_sql[STMT_CHANGES_SPAN], &q));
		r = PQexec(pg, q.sql);
		T_CHECK(PQresultStatus(r) == PGRES_TUPLES_OK &&
		    PQntuples(r) == 1);
		if (PQntuples(r) == 1) {
			T_STREQ(PQgetvalue(r, 0, 0), "0");
			T_STREQ(PQgetvalue(r, 0, 1), last);
		}
		PQclear(r);
	}

	T_CHECK(pg_run("INSERT INTO jobs(kind, run_at) VALUES ('x', 1)"));
	T_CHECK(pg_named(STMT_JOB_CLAIM, (const char *[]){ ":now", "10",
	    ":lease", "60", NULL }) > 0);
	T_CHECK(pg_named(STMT_JOB_CLAIM, (const char *[]){ ":now", "10",
	    ":lease", "60", NULL }) == -1);
	T_CHECK(pg_run("ROLLBACK"));
}

/* The largest "rows=N" of an EXPLAIN ANALYZE's lines: the most rows any
 * node of the plan returned. */
static long
plan_most_rows(PGresult *r)
{
	long most = -1;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *line = PQgetvalue(r, i, 0), *p = line;
		while ((p = strstr(p, "rows=")) != NULL) {
			/* "actual rows=N": not "Rows Removed by Filter" */
			if (p > line && p[-1] == ' ') {
				long n = strtol(p + 5, NULL, 10);
				if (n > most)
					most = n;
			}
			p += 5;
		}
	}
	return most;
}

/* Statement id's generic plan (as a prepared statement gets it after a
 * few runs) run once with EXPLAIN ANALYZE with kv's values (name, value
 * pairs, NULL-ended; names not given are NULL): the most rows one of its
 * nodes returned, -1 on error. KIJI_TEST_PLANS=1 prints the plans. */
static long
pg_plan_rows(enum stmt id, const char *const *kv)
{
	static struct pg_sql q;
	static char sql[12288];
	long most = -1;
	if (!pg_rewrite(db_sql(&(struct db_driver){ .sql = db_pg_sql }, id), &q))
		return -1;
	snprintf(sql, sizeof(sql), "PREPARE ordered AS %s", q.sql);
	if (!pg_run(sql))
		return -1;
	size_t o = (size_t)snprintf(sql, sizeof(sql), "EXPLAIN (ANALYZE, COSTS"
	    " OFF, TIMING OFF, SUMMARY OFF) EXECUTE ordered(");
	for (int i = 0; i < q.n && o < sizeof(sql); i++) {
		const char *v = NULL;
		for (const char *const *p = kv; *p; p += 2)
			if (strcmp(p[0], q.names[i]) == 0)
				v = p[1];
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, "%s%s%s%s",
		    i ? ", " : "", v ? "'" : "", v ? v : "NULL", v ? "'" : "");
	}
	if (o + 2 < sizeof(sql)) {
		strcat(sql, ")");
		PGresult *r = PQexec(pg, sql);
		if (PQresultStatus(r) == PGRES_TUPLES_OK) {
			bool show = getenv("KIJI_TEST_PLANS") != NULL;
			most = plan_most_rows(r);
			for (int i = 0; show && i < PQntuples(r); i++)
				printf("%s\n", PQgetvalue(r, i, 0));
		} else {
			printf("  %s: %s", db_stmts[id].name,
			    PQresultErrorMessage(r));
		}
		PQclear(r);
	}
	pg_run("DEALLOCATE ordered");
	return most;
}

/*
 * Reads in (date, id) order with a LIMIT stop at what they answer: an
 * article's previous and next, a listing's first page, the recent
 * comments. Schema v4's indexes end with id, as SQLite's do without
 * saying so; with v3's (no id) each of these read past its answer and
 * sorted (here the ties of one date: 3 rows for 1, 22 for 20; on a
 * 3,000-article site, with other statistics, every older article). 400
 * posts two to a second (ties broken by id), one comment each, analysed;
 * every node of each plan returns at most what the statement answers.
 */
static void
test_ordered_reads(void)
{
	PGresult *r;
	char id[24] = "", t[24] = "", cat[24] = "";

	T_CHECK(pg_run("BEGIN"));
	T_CHECK(pg_run("INSERT INTO categories(slug, name) VALUES ('c', 'C')"));
	T_CHECK(pg_run("INSERT INTO articles(kind, status, title, body,"
	    " published_at, category_id) SELECT 'post', 'published', 't' || g,"
	    " 'b', 1000 + g / 2, (SELECT id FROM categories)"
	    " FROM generate_series(1, 400) g"));
	T_CHECK(pg_run("INSERT INTO comments(article_id, type, created_at,"
	    " status, body) SELECT id, 'comment', published_at + 5, 'approved',"
	    " 'c' FROM articles"));
	T_CHECK(pg_run("ANALYZE articles"));
	T_CHECK(pg_run("ANALYZE comments"));
	T_CHECK(pg_run("SET LOCAL plan_cache_mode = force_generic_plan"));
	r = PQexec(pg, "SELECT id, published_at, category_id FROM articles"
	    " WHERE title = 't200'");
	T_CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1);
	if (PQntuples(r) == 1) {
		snprintf(id, sizeof(id), "%s", PQgetvalue(r, 0, 0));
		snprintf(t, sizeof(t), "%s", PQgetvalue(r, 0, 1));
		snprintf(cat, sizeof(cat), "%s", PQgetvalue(r, 0, 2));
	}
	PQclear(r);
	T_CHECK(pg_plan_rows(STMT_ADJ_PREV, (const char *[]){ ":t", t,
	    ":now", "100000", ":id", id, NULL }) == 1);
	T_CHECK(pg_plan_rows(STMT_ADJ_NEXT, (const char *[]){ ":t", t,
	    ":now", "100000", ":id", id, NULL }) == 1);
	T_CHECK(pg_plan_rows(STMT_LIST_ALL, (const char *[]){ ":now", "100000",
	    ":from", "0", ":until", "100000", ":limit", "20", ":offset", "0",
	    NULL }) == 20);
	T_CHECK(pg_plan_rows(STMT_LIST_CAT, (const char *[]){ ":cat", cat,
	    ":now", "100000", ":from", "0", ":until", "100000", ":limit", "20",
	    ":offset", "0", NULL }) == 20);
	T_CHECK(pg_plan_rows(STMT_COMMENTS_RECENT, (const char *[]){ ":now",
	    "100000", ":limit", "20", ":offset", "0", NULL }) == 20);
	T_CHECK(pg_run("ROLLBACK"));
}

/* The rewrite itself: names numbered once each, quotes and casts kept. */
static void
test_rewrite(void)
{
	struct pg_sql q;
	T_CHECK(pg_rewrite("SELECT ':x', :a, :b::text, :a FROM t WHERE"
	    " \"c:d\" = :b_2", &q));
	T_STREQ(q.sql, "SELECT ':x', $1, $2::text, $1 FROM t WHERE"
	    " \"c:d\" = $3");
	T_CHECK(q.n == 3);
	T_STREQ(q.names[2], ":b_2");
}

int
main(void)
{
	const char *url = getenv("KIJI_TEST_PG");
	char schema[32], sql[224];

	if (url == NULL || *url == '\0') {
		printf("test_pg_stmts: skipped (no PostgreSQL)\n");
		T_DONE();
	}
	if (!t_tmpdir(t_dir, sizeof(t_dir), "pg_stmts"))
		return 1;
	pg = PQconnectdb(url);
	if (PQstatus(pg) != CONNECTION_OK) {
		printf("FAIL %s: %s", url, PQerrorMessage(pg));
		PQfinish(pg);
		return 1;
	}
	snprintf(schema, sizeof(schema), "kiji_test_%ld", (long)getpid());
	snprintf(sql, sizeof(sql), "SET client_min_messages = warning;"
	    " DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s;"
	    " SET search_path = %s", schema, schema, schema);
	if (!pg_run(sql)) {
		PQfinish(pg);
		return 1;
	}
	T_RUN(test_rewrite);
	T_RUN(test_migrate);
	T_RUN(test_migrate_again);
	T_RUN(test_statements);
	T_RUN(test_behaviour);
	T_RUN(test_ordered_reads);
	snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", schema);
	pg_run(sql);
	PQfinish(pg);
	t_tmpdir_remove(t_dir);
	T_DONE();
}
