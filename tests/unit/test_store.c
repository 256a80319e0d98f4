/*
 * store on SQLite, against real database files in a temporary directory:
 * open/migrate, durability settings, every read and write in store.h, the
 * visibility rule, comment counts, likes under concurrency and the
 * thread-local connections.
 */
#include "../../src/store/store.h"
#include "t_db.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOW ((int64_t)1700000000) /* 2023-11-14 22:13:20 UTC */
#define HOUR ((int64_t)3600)
#define DAY ((int64_t)86400)

static int64_t
add_category(store *s, const char *slug, const char *name)
{
	struct store_category c = {.slug = slug, .name = name};
	int64_t id = 0;
	T_CHECK(store_category_add(s, &c, &id) == STORE_OK);
	return id;
}

static int64_t
add_tag(store *s, const char *slug)
{
	struct store_tag t = {.slug = slug, .name = slug};
	int64_t id = 0;
	T_CHECK(store_tag_add(s, &t, &id) == STORE_OK);
	return id;
}

/* A post with the given status/time/category/tags; returns its id. */
static int64_t
add_post(store *s, const char *title, enum store_status st, int64_t pub,
    int64_t cat, const int64_t *tags, size_t ntags)
{
	struct store_tag tv[8];
	struct store_article a = {
		.kind = KIND_POST,
		.title = title,
		.body = "body",
		.body_format = FORMAT_MARKDOWN,
		.body_html = "<p>body</p>",
		.body_text = "body",
		.status = st,
		.published_at = pub,
		.updated_at = pub,
		.category_id = cat,
		.comments_open = true,
	};
	for (size_t i = 0; i < ntags && i < 8; i++)
		tv[i] = (struct store_tag){.id = tags[i]};
	a.tags = tv;
	a.ntags = ntags;
	T_CHECK(store_article_add(s, &a) == STORE_OK);
	T_CHECK(a.id > 0);
	return a.id;
}

static int64_t
add_comment(store *s, int64_t art, int64_t parent, enum store_cstatus st,
    const char *visitor, int64_t at)
{
	struct store_comment c = {
		.article_id = art,
		.parent_id = parent,
		.type = CTYPE_COMMENT,
		.nickname = "名無し",
		.visitor_id = visitor,
		.body = "コメント",
		.created_at = at,
		.status = st,
	};
	T_CHECK(store_comment_add(s, &c) == STORE_OK);
	return c.id;
}

static int
file_mode(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return -1;
	return (int)(st.st_mode & 07777);
}

/* ---- cases ------------------------------------------------------------------ */

static void
test_open_migrate_twice(void)
{
	char path[128], wal[160];
	buf err, v;
	buf_init(&err, 0);
	buf_init(&v, 0);
	t_db_path(path, sizeof(path));
	mode_t old = umask(0); /* mode must not depend on the umask */
	store *s = store_open(path, &err);
	umask(old);
	T_CHECK(s != NULL);
	if (s == NULL)
		goto out;
	T_CHECK(file_mode(path) == 0600);
	T_CHECK(store_setting_set(s, "site.title", "軍事ニュース") == STORE_OK);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	T_CHECK(file_mode(wal) == 0600);
	store_close(s);

	s = store_open(path, &err); /* migrations already applied */
	T_CHECK(s != NULL);
	if (s == NULL)
		goto out;
	T_CHECK(store_setting_get(s, "site.title", &v) == STORE_OK);
	T_STREQ(buf_cstr(&v), "軍事ニュース");
	store_close(s);
	s = store_open(path, &err);
	T_CHECK(s != NULL);
	store_close(s);
	T_CHECK(file_mode(path) == 0600);
out:
	buf_free(&err);
	buf_free(&v);
}

/* The value of a one-row, one-column query on h (-1 when none). */
static int64_t
sql_int(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Schema v12: the hot tables' value lists are checked with OR (SQLite
 * builds no temporary table for each row), and still refuse a value
 * outside the list; the file stays sound. */
static void
test_schema_checks(void)
{
	if (t_sqlite_only())
		return;
	store *s = t_db_open();
	T_CHECK(s != NULL);
	if (s == NULL)
		return;
	int64_t art = add_post(s, "a", STATUS_PUBLISHED, NOW - DAY, 0, NULL, 0);
	add_comment(s, art, 0, CSTATUS_APPROVED, "v1", NOW - 5);
	store_close(s);
	sqlite3 *h = NULL;
	T_CHECK(sqlite3_open(t_db_last, &h) == SQLITE_OK);
	T_CHECK(sql_int(h, "SELECT max(version) FROM schema_migrations") >= 12);
	T_CHECK(sql_int(h, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	    " AND name IN ('comments', 'change_log', 'articles')"
	    " AND (sql LIKE '%status IN (%' OR sql LIKE '%type IN (%'"
	    " OR sql LIKE '%kind IN (''comment''%')") == 0);
	/* no OpenEphemeral in the program of a comment's insert */
	sqlite3_stmt *st = NULL;
	int eph = 0;
	T_CHECK(sqlite3_prepare_v2(h, "EXPLAIN INSERT INTO comments(article_id,"
	    " type, created_at, status, body) VALUES (1, 'comment', 1,"
	    " 'approved', 'x')", -1, &st, NULL) == SQLITE_OK);
	while (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		eph += strcmp((const char *)sqlite3_column_text(st, 1),
		    "OpenEphemeral") == 0;
	sqlite3_finalize(st);
	T_CHECK(eph == 0);
	static const char *const bad[] = {
		"INSERT INTO comments(article_id, type, created_at, status, body)"
		" VALUES (1, 'comment', 1, 'nope', 'x')",
		"INSERT INTO comments(article_id, type, created_at, status, body)"
		" VALUES (1, 'bogus', 1, 'approved', 'x')",
		"INSERT INTO change_log(kind) VALUES ('nope')",
		"UPDATE articles SET status = 'nope'",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_CHECK(sqlite3_exec(h, bad[i], NULL, NULL, NULL) ==
		    SQLITE_CONSTRAINT);
	T_CHECK(sqlite3_exec(h, "INSERT INTO change_log(kind) VALUES ('all')",
	    NULL, NULL, NULL) == SQLITE_OK);
	T_CHECK(sql_int(h, "SELECT count(*) FROM pragma_integrity_check"
	    " WHERE integrity_check <> 'ok'") == 0);
	sqlite3_close(h);
	s = t_db_open_at(t_db_last); /* opens again: nothing left to apply */
	T_CHECK(s != NULL);
	store_close(s);
}

static void
test_open_existing_empty_and_garbage(void)
{
	char path[128];
	buf err;
	buf_init(&err, 0);

	/* an empty file someone pre-created is a new database: mode 0600 */
	t_db_path(path, sizeof(path));
	int fd = open(path, O_CREAT | O_WRONLY, 0644);
	T_CHECK(fd >= 0);
	fchmod(fd, 0644);
	close(fd);
	store *s = store_open(path, &err);
	T_CHECK(s != NULL);
	T_CHECK(file_mode(path) == 0600);
	store_close(s);

	/* not a database: a clear error, no crash */
	t_db_path(path, sizeof(path));
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	T_CHECK(write(fd, "this is not a database, not at all, no.......",
	    46) == 46);
	close(fd);
	s = store_open(path, &err);
	T_CHECK(s == NULL);
	T_CHECK(err.len > 0);
	store_close(NULL);

	buf_reset(&err);
	T_CHECK(store_open("/nonexistent-dir/x.db", &err) == NULL);
	T_CHECK(err.len > 0);
	buf_free(&err);
	T_STREQ(store_strerror(STORE_CONFLICT), "already exists");
}

/* The journal mode store_durability must report: SQLite's WAL, or on
 * PostgreSQL commits that wait for their WAL record (tests/pg/cluster.sh
 * and pg.c's session both keep synchronous_commit on). */
static const char *
durable_mode(void)
{
	return t_pg() ? "synchronous_commit on" : "wal";
}

static void
test_durability(void)
{
	store *s = t_db_open();
	buf jm;
	int sync = -1;
	buf_init(&jm, 0);
	T_CHECK(store_durability(s, &jm, &sync) == STORE_OK);
	T_STREQ(buf_cstr(&jm), durable_mode());
	T_CHECK(sync == 2); /* FULL; PostgreSQL: commits wait for the flush */
	buf_free(&jm);
	store_close(s);
}

static void
test_data_version(void)
{
	char path[128];
	buf err;
	buf_init(&err, 0);
	t_db_path(path, sizeof(path));
	store *a = store_open(path, &err), *b = store_open(path, &err);
	T_CHECK(a != NULL && b != NULL);
	int64_t v1 = store_data_version(a);
	T_CHECK(v1 >= 0);
	T_CHECK(store_setting_set(a, "k", "own write") == STORE_OK);
	T_CHECK(store_data_version(a) == v1); /* own commits do not count */
	T_CHECK(store_setting_set(b, "k", "other write") == STORE_OK);
	T_CHECK(store_data_version(a) != v1);
	store_close(a);
	store_close(b);
	buf_free(&err);
}

/* The log is pruned up to the bound asked, but never past a node seen
 * since the given time that has not read that far; nodes not seen since
 * are forgotten and hold nothing back. */
static void
test_change_readers(void)
{
	store *s = t_db_open();
	int64_t first = 0, last = 0, base = 0;
	char v[16];
	T_CHECK(s != NULL);
	if (s == NULL)
		return;
	T_CHECK(store_changes_last(s, &base) == STORE_OK);
	for (int i = 0; i < 10; i++) {
		snprintf(v, sizeof(v), "%d", i);
		T_CHECK(store_setting_set(s, "k", v) == STORE_OK);
	}
	T_CHECK(store_changes_last(s, &last) == STORE_OK && last >= base + 10);
	T_CHECK(store_change_reader_set(s, "", 1, 1) == STORE_INVALID);
	/* a: seen now, at the 3rd change; b: two hours ago, at the 1st */
	T_CHECK(store_change_reader_set(s, "a", base + 3, 10000) == STORE_OK);
	T_CHECK(store_change_reader_set(s, "b", base + 1, 10000 - 7200) ==
	    STORE_OK);
	T_CHECK(store_changes_prune(s, base + 8, 10000 - 3600) == STORE_OK);
	T_CHECK(store_changes_first(s, &first) == STORE_OK);
	T_CHECK(first == base + 4); /* held back by a, not by b */
	/* a moves on (an upsert), past the bound: the bound holds */
	T_CHECK(store_change_reader_set(s, "a", base + 9, 10001) == STORE_OK);
	T_CHECK(store_changes_prune(s, base + 8, 10001 - 3600) == STORE_OK);
	T_CHECK(store_changes_first(s, &first) == STORE_OK);
	T_CHECK(first == base + 9);
	/* a gone quiet for an hour: forgotten, the bound alone decides */
	T_CHECK(store_change_reader_set(s, "a", base + 9, 10002) == STORE_OK);
	T_CHECK(store_changes_prune(s, base + 9, 20000) == STORE_OK);
	T_CHECK(store_changes_first(s, &first) == STORE_OK);
	T_CHECK(first == base + 10);
	T_CHECK(store_changes_last(s, &last) == STORE_OK && last == base + 10);
	store_close(s);
}

static void
collect(void *ctx, const char *k, const char *v)
{
	buf_printf(ctx, "%s=%s;", k, v);
}

static void
test_settings(void)
{
	store *s = t_db_open();
	buf v, all;
	buf_init(&v, 0);
	buf_init(&all, 0);
	T_CHECK(store_setting_get(s, "missing", &v) == STORE_NOTFOUND);
	T_CHECK(store_setting_set(s, "b", "2") == STORE_OK);
	T_CHECK(store_setting_set(s, "a", "1") == STORE_OK);
	T_CHECK(store_setting_set(s, "b", "二") == STORE_OK);
	T_CHECK(store_setting_set(s, "empty", "") == STORE_OK);
	T_CHECK(store_setting_get(s, "b", &v) == STORE_OK);
	T_STREQ(buf_cstr(&v), "二");
	T_CHECK(store_setting_get(s, "empty", &v) == STORE_OK);
	T_STREQ(buf_cstr(&v), "");
	T_CHECK(store_settings_each(s, collect, &all) == STORE_OK);
	T_STREQ(buf_cstr(&all), "a=1;b=二;empty=;");
	T_CHECK(store_setting_set(s, "", "x") == STORE_INVALID);
	buf_free(&v);
	buf_free(&all);
	store_close(s);
}

static void
test_users_categories_tags(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	struct store_user u = {.name = "editor", .display_name = "編集部",
	    .role = ROLE_EDITOR, .pass_hash = "$argon2id$x"}, got;
	int64_t uid = 0, id = 0;
	T_CHECK(store_user_add(s, &u, &uid) == STORE_OK);
	T_CHECK(store_user_get(s, uid, a, &got) == STORE_OK);
	T_STREQ(got.name, "editor");
	T_STREQ(got.display_name, "編集部");
	T_CHECK(got.role == ROLE_EDITOR);
	T_STREQ(got.pass_hash, "$argon2id$x");
	T_CHECK(store_user_add(s, &u, &id) == STORE_CONFLICT);
	u.name = "x";
	u.role = (enum store_role)7;
	T_CHECK(store_user_add(s, &u, &id) == STORE_INVALID);
	T_CHECK(store_user_get(s, 999, a, &got) == STORE_NOTFOUND);

	int64_t us = add_category(s, "us", "米国関連");
	struct store_category sub = {.parent_id = us, .slug = "us-navy",
	    .name = "A 海軍", .description = "d"}, cg;
	T_CHECK(store_category_add(s, &sub, &id) == STORE_OK);
	T_CHECK(store_category_add(s, &sub, &id) == STORE_CONFLICT);
	sub.slug = "orphan";
	sub.parent_id = 12345;
	T_CHECK(store_category_add(s, &sub, &id) == STORE_INVALID);
	T_CHECK(store_category_by_slug(s, "us-navy", a, &cg) == STORE_OK);
	T_CHECK(cg.parent_id == us);
	T_STREQ(cg.name, "A 海軍");
	T_STREQ(cg.description, "d");
	T_CHECK(store_category_get(s, us, a, &cg) == STORE_OK);
	T_CHECK(cg.parent_id == 0);
	T_STREQ(cg.slug, "us");
	T_CHECK(store_category_by_slug(s, "nope", a, &cg) == STORE_NOTFOUND);
	struct store_category *all;
	size_t n = 0;
	T_CHECK(store_categories(s, a, &all, &n) == STORE_OK);
	T_CHECK(n == 2);
	if (n == 2) {
		T_STREQ(all[0].slug, "us-navy"); /* "A 海軍" sorts first */
		T_STREQ(all[1].slug, "us");
	}

	struct store_tag tg;
	int64_t t1 = add_tag(s, "f-35");
	T_CHECK(store_tag_by_slug(s, "f-35", a, &tg) == STORE_OK);
	T_CHECK(tg.id == t1);
	T_STREQ(tg.name, "f-35");
	T_CHECK(store_tag_add(s, &tg, &id) == STORE_CONFLICT);
	T_CHECK(store_tag_by_slug(s, "nope", a, &tg) == STORE_NOTFOUND);
	arena_free(a);
	store_close(s);
}

static void
test_article_roundtrip(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	struct store_user u = {.name = "kiji", .display_name = "管理人",
	    .role = ROLE_AUTHOR, .pass_hash = ""};
	int64_t uid = 0;
	T_CHECK(store_user_add(s, &u, &uid) == STORE_OK);
	int64_t cat = add_category(s, "us", "米国関連");
	int64_t t1 = add_tag(s, "navy"), t2 = add_tag(s, "aircraft");
	struct store_source src[2] = {
		{"米海軍の発表", "https://example.com/a"},
		{"Reuters", "https://example.com/b"},
	};
	struct store_tag tags[3] = {{.id = t1}, {.id = t2}, {.id = t1}};
	struct store_article in = {
		.kind = KIND_POST, .title = "新型艦の配備", .slug = "new-ship",
		.body = "# 見出し\n本文", .body_format = FORMAT_MARKDOWN,
		.body_html = "<h1>見出し</h1><p>本文</p>", .body_text = "見出し 本文",
		.excerpt = "", .status = STATUS_PUBLISHED,
		.published_at = NOW - DAY, .updated_at = NOW - DAY,
		.author_id = uid, .category_id = cat,
		.eyecatch = "/media/ship.jpg", .eyecatch_credit = "U.S. Navy",
		.comments_open = true, .guid = NULL, .legacy_id = "wp-42",
		.sources = src, .nsources = 2, .tags = tags, .ntags = 3,
	}, out;
	T_CHECK(store_article_add(s, &in) == STORE_OK);
	T_CHECK(store_article_get(s, in.id, NOW, a, &out) == STORE_OK);
	T_CHECK(out.id == in.id);
	T_STREQ(out.title, "新型艦の配備");
	T_STREQ(out.slug, "new-ship");
	T_STREQ(out.body, "# 見出し\n本文");
	T_STREQ(out.body_html, "<h1>見出し</h1><p>本文</p>");
	T_STREQ(out.body_text, "見出し 本文");
	T_CHECK(out.kind == KIND_POST && out.status == STATUS_PUBLISHED);
	T_CHECK(out.body_format == FORMAT_MARKDOWN);
	T_CHECK(out.published_at == NOW - DAY && out.author_id == uid);
	T_STREQ(out.author_name, "管理人");
	T_STREQ(out.category_slug, "us");
	T_STREQ(out.category_name, "米国関連");
	T_STREQ(out.eyecatch_credit, "U.S. Navy");
	T_STREQ(out.legacy_id, "wp-42");
	T_CHECK(out.comments_open);
	T_CHECK(strncmp(out.guid, "urn:uuid:", 9) == 0 && strlen(out.guid) == 45);
	T_CHECK(out.comment_count == 0);
	T_CHECK(out.nsources == 2);
	if (out.nsources == 2) {
		T_STREQ(out.sources[0].title, "米海軍の発表");
		T_STREQ(out.sources[1].url, "https://example.com/b");
	}
	T_CHECK(out.ntags == 2); /* duplicate tag ids collapse */
	if (out.ntags == 2) {
		T_STREQ(out.tags[0].slug, "aircraft"); /* ordered by name */
		T_STREQ(out.tags[1].slug, "navy");
	}
	const char *guid = out.guid;

	/* the head: the same row without its texts, sources or tags */
	struct store_article head;
	T_CHECK(store_article_head(s, in.id, NOW, a, &head) == STORE_OK);
	T_CHECK(head.id == in.id && head.kind == KIND_POST && head.comments_open);
	T_CHECK(head.status == STATUS_PUBLISHED && head.published_at == NOW - DAY);
	T_STREQ(head.title, "新型艦の配備");
	T_STREQ(head.author_name, "管理人");
	T_STREQ(head.category_name, "米国関連");
	T_STREQ(head.guid, guid);
	T_STREQ(head.body, "");
	T_STREQ(head.body_html, "");
	T_STREQ(head.body_text, "");
	T_CHECK(head.nsources == 0 && head.ntags == 0);

	/* update: new fields, sources replaced, guid kept when not given */
	struct store_source src2[1] = {{"防衛省", "https://example.jp/"}};
	in.title = "新型艦の配備(更新)";
	in.sources = src2;
	in.nsources = 1;
	in.ntags = 1;
	in.category_id = 0;
	in.comments_open = false;
	T_CHECK(store_article_update(s, &in) == STORE_OK);
	T_CHECK(store_article_get(s, in.id, NOW, a, &out) == STORE_OK);
	T_STREQ(out.title, "新型艦の配備(更新)");
	T_STREQ(out.guid, guid);
	T_CHECK(out.nsources == 1 && out.ntags == 1);
	T_CHECK(out.category_id == 0);
	T_STREQ(out.category_slug, "");
	T_CHECK(!out.comments_open);

	/* explicit guid, and guid uniqueness */
	struct store_article g = in;
	g.guid = "http://old.example.com/?p=42";
	g.nsources = 0;
	g.ntags = 0;
	T_CHECK(store_article_add(s, &g) == STORE_OK);
	T_CHECK(store_article_get_any(s, g.id, a, &out) == STORE_OK);
	T_STREQ(out.guid, "http://old.example.com/?p=42");
	T_CHECK(store_article_add(s, &g) == STORE_CONFLICT);

	/* refused values */
	g.guid = NULL;
	g.status = (enum store_status)9;
	T_CHECK(store_article_add(s, &g) == STORE_INVALID);
	g.status = STATUS_DRAFT;
	g.author_id = 999;
	T_CHECK(store_article_add(s, &g) == STORE_INVALID);
	g.author_id = 0;
	struct store_tag bad = {.id = 999};
	g.tags = &bad;
	g.ntags = 1;
	T_CHECK(store_article_add(s, &g) == STORE_INVALID);
	in.id = 9999;
	T_CHECK(store_article_update(s, &in) == STORE_NOTFOUND);
	T_CHECK(store_article_get_any(s, 9999, a, &out) == STORE_NOTFOUND);
	arena_free(a);
	store_close(s);
}

static void
test_visibility(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	struct store_article out;
	int64_t pub = add_post(s, "公開", STATUS_PUBLISHED, NOW - HOUR, 0, NULL, 0);
	int64_t draft = add_post(s, "下書き", STATUS_DRAFT, NOW - HOUR, 0, NULL, 0);
	int64_t sched = add_post(s, "予約", STATUS_SCHEDULED, NOW + HOUR, 0, NULL, 0);
	int64_t future = add_post(s, "未来", STATUS_PUBLISHED, NOW + HOUR, 0, NULL, 0);
	int64_t trash = add_post(s, "ゴミ箱", STATUS_TRASH, NOW - HOUR, 0, NULL, 0);
	int64_t n = -1;

	T_CHECK(store_article_get(s, pub, NOW, a, &out) == STORE_OK);
	T_CHECK(store_article_get(s, draft, NOW, a, &out) == STORE_NOTFOUND);
	T_CHECK(store_article_get(s, sched, NOW, a, &out) == STORE_NOTFOUND);
	T_CHECK(store_article_get(s, future, NOW, a, &out) == STORE_NOTFOUND);
	T_CHECK(store_article_get(s, trash, NOW, a, &out) == STORE_NOTFOUND);
	T_CHECK(store_article_get_any(s, draft, a, &out) == STORE_OK);
	T_STREQ(out.title, "下書き");
	/* the head is as visible as the article */
	T_CHECK(store_article_head(s, pub, NOW, a, &out) == STORE_OK);
	T_CHECK(store_article_head(s, draft, NOW, a, &out) == STORE_NOTFOUND);
	T_CHECK(store_article_head(s, future, NOW, a, &out) == STORE_NOTFOUND);
	T_CHECK(store_article_head(s, trash, NOW, a, &out) == STORE_NOTFOUND);
	T_CHECK(store_article_head(s, 9999, NOW, a, &out) == STORE_NOTFOUND);
	T_CHECK(store_articles_count(s, NOW, &n) == STORE_OK && n == 1);

	/* its time comes */
	T_CHECK(store_article_get(s, future, NOW + HOUR, a, &out) == STORE_OK);
	T_CHECK(store_article_get(s, sched, NOW + HOUR, a, &out) == STORE_NOTFOUND);
	T_CHECK(store_articles_count(s, NOW + HOUR, &n) == STORE_OK && n == 2);

	/* pages are visible by id but are not posts in listings */
	struct store_article page = {.kind = KIND_PAGE, .title = "About",
	    .body = "", .status = STATUS_PUBLISHED, .published_at = NOW - DAY};
	T_CHECK(store_article_add(s, &page) == STORE_OK);
	T_CHECK(store_article_get(s, page.id, NOW, a, &out) == STORE_OK);
	T_CHECK(out.kind == KIND_PAGE);
	T_CHECK(store_articles_count(s, NOW, &n) == STORE_OK && n == 1);
	arena_free(a);
	store_close(s);
}

static void
test_list(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	int64_t c1 = add_category(s, "c1", "一"), c2 = add_category(s, "c2", "二");
	int64_t tg = add_tag(s, "tg");
	int64_t ids[25];
	/* 25 posts one hour apart, newest last; odd ones in c2, every third tagged */
	for (int i = 0; i < 25; i++) {
		char title[16];
		snprintf(title, sizeof(title), "p%02d", i);
		ids[i] = add_post(s, title, STATUS_PUBLISHED,
		    NOW - (25 - i) * HOUR, i % 2 ? c2 : c1, &tg, i % 3 == 0);
	}
	add_post(s, "draft", STATUS_DRAFT, NOW - HOUR, c1, &tg, 1);
	add_post(s, "future", STATUS_PUBLISHED, NOW + HOUR, c1, &tg, 1);

	struct store_article *v;
	size_t n = 0;
	int64_t total = 0;
	struct store_filter f = {0};
	T_CHECK(store_articles_list(s, &f, NOW, 0, 10, a, &v, &n, &total) == STORE_OK);
	T_CHECK(n == 10 && total == 25);
	if (n == 10) {
		T_CHECK(v[0].id == ids[24]);
		T_CHECK(v[9].id == ids[15]);
		T_STREQ(v[0].body, "");
		T_STREQ(v[0].body_html, "");
		T_STREQ(v[0].body_text, "body");
		T_STREQ(v[0].category_slug, "c1");
	}
	T_CHECK(store_articles_list(s, &f, NOW, 20, 10, a, &v, &n, &total) == STORE_OK);
	T_CHECK(n == 5 && total == 25);
	if (n == 5)
		T_CHECK(v[4].id == ids[0]);
	T_CHECK(store_articles_list(s, NULL, NOW, 40, 10, a, &v, &n, &total) == STORE_OK);
	T_CHECK(n == 0 && v == NULL && total == 25);

	f.category_id = c2; /* odd i: 12 */
	T_CHECK(store_articles_list(s, &f, NOW, 0, 100, a, &v, &n, &total) == STORE_OK);
	T_CHECK(n == 12 && total == 12);
	for (size_t i = 0; i < n; i++)
		T_CHECK(v[i].category_id == c2);
	f.category_id = 0;
	f.tag_id = tg; /* i % 3 == 0: 9 */
	T_CHECK(store_articles_list(s, &f, NOW, 0, 5, a, &v, &n, &total) == STORE_OK);
	T_CHECK(n == 5 && total == 9);
	if (n == 5)
		T_CHECK(v[0].id == ids[24] && v[1].id == ids[21]);
	f.category_id = c1; /* tagged and even: 0 6 12 18 24 */
	T_CHECK(store_articles_list(s, &f, NOW, 0, 100, a, &v, &n, &total) == STORE_OK);
	T_CHECK(n == 5 && total == 5);

	/* a range: [NOW-10h, NOW-5h) holds i = 15..19 */
	struct store_filter r = {.from = NOW - 10 * HOUR, .until = NOW - 5 * HOUR};
	T_CHECK(store_articles_list(s, &r, NOW, 0, 100, a, &v, &n, &total) == STORE_OK);
	T_CHECK(n == 5 && total == 5);
	if (n == 5)
		T_CHECK(v[0].id == ids[19] && v[4].id == ids[15]);

	/* body_text in listings: first 600 bytes, cut on a UTF-8 boundary */
	char text[1024] = "a";
	for (int i = 0; i < 250; i++)
		strcat(text, "あ"); /* 1 + 750 bytes */
	struct store_article big = {.kind = KIND_POST, .title = "長文",
	    .body = text, .body_text = text, .body_html = text,
	    .status = STATUS_PUBLISHED, .published_at = NOW};
	T_CHECK(store_article_add(s, &big) == STORE_OK);
	T_CHECK(store_articles_list(s, NULL, NOW, 0, 1, a, &v, &n, &total) == STORE_OK);
	T_CHECK(n == 1);
	if (n == 1) {
		T_CHECK(v[0].id == big.id);
		T_CHECK(strlen(v[0].body_text) == 598); /* 'a' + 199 × 3 */
		T_CHECK(strncmp(v[0].body_text, text, 598) == 0);
		T_STREQ(v[0].body, "");
	}
	struct store_article full;
	T_CHECK(store_article_get(s, big.id, NOW, a, &full) == STORE_OK);
	T_CHECK(strlen(full.body_text) == 751);
	arena_free(a);
	store_close(s);
}

static void
test_adjacent(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	int64_t p1 = add_post(s, "一", STATUS_PUBLISHED, NOW - 3 * HOUR, 0, NULL, 0);
	int64_t p2 = add_post(s, "二", STATUS_PUBLISHED, NOW - 2 * HOUR, 0, NULL, 0);
	int64_t p2b = add_post(s, "二b", STATUS_PUBLISHED, NOW - 2 * HOUR, 0, NULL, 0);
	add_post(s, "下書き", STATUS_DRAFT, NOW - 90 * 60, 0, NULL, 0);
	int64_t p3 = add_post(s, "三", STATUS_PUBLISHED, NOW - HOUR, 0, NULL, 0);
	add_post(s, "未来", STATUS_PUBLISHED, NOW + HOUR, 0, NULL, 0);
	struct store_article art, *prev, *next;

	T_CHECK(store_article_get(s, p2, NOW, a, &art) == STORE_OK);
	T_CHECK(store_article_adjacent(s, &art, NOW, a, &prev, &next) == STORE_OK);
	T_CHECK(prev && prev->id == p1);
	T_CHECK(next && next->id == p2b); /* same time: id breaks the tie */
	if (prev)
		T_STREQ(prev->title, "一");

	T_CHECK(store_article_get(s, p2b, NOW, a, &art) == STORE_OK);
	T_CHECK(store_article_adjacent(s, &art, NOW, a, &prev, &next) == STORE_OK);
	T_CHECK(prev && prev->id == p2);
	T_CHECK(next && next->id == p3); /* the draft is skipped */

	T_CHECK(store_article_get(s, p1, NOW, a, &art) == STORE_OK);
	T_CHECK(store_article_adjacent(s, &art, NOW, a, &prev, &next) == STORE_OK);
	T_CHECK(prev == NULL);
	T_CHECK(store_article_get(s, p3, NOW, a, &art) == STORE_OK);
	T_CHECK(store_article_adjacent(s, &art, NOW, a, &prev, &next) == STORE_OK);
	T_CHECK(next == NULL); /* the future post is not visible yet */
	T_CHECK(store_article_adjacent(s, &art, NOW + 2 * HOUR, a, &prev, &next)
	    == STORE_OK);
	T_CHECK(next != NULL);
	arena_free(a);
	store_close(s);
}

static void
test_related(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	int64_t cat = add_category(s, "c", "c"), other = add_category(s, "o", "o");
	int64_t t[3] = {add_tag(s, "t1"), add_tag(s, "t2"), add_tag(s, "t3")};
	int64_t x = add_post(s, "X", STATUS_PUBLISHED, NOW - 10 * HOUR, cat, t, 3);
	int64_t A = add_post(s, "A", STATUS_PUBLISHED, NOW - 9 * HOUR, cat, t, 3);
	int64_t B = add_post(s, "B", STATUS_PUBLISHED, NOW - 2 * HOUR, cat, t + 2, 1);
	int64_t B2 = add_post(s, "B2", STATUS_PUBLISHED, NOW - 3 * HOUR, cat, t + 1, 1);
	int64_t C = add_post(s, "C", STATUS_PUBLISHED, NOW - HOUR, cat, NULL, 0);
	int64_t C2 = add_post(s, "C2", STATUS_PUBLISHED, NOW - 4 * HOUR, cat, NULL, 0);
	add_post(s, "D", STATUS_PUBLISHED, NOW - HOUR, other, t, 3);
	add_post(s, "E", STATUS_DRAFT, NOW - HOUR, cat, t, 3);
	add_post(s, "F", STATUS_PUBLISHED, NOW + HOUR, cat, t, 3);
	/* many newer untagged posts must not push out the tagged ones */
	for (int i = 0; i < 10; i++)
		add_post(s, "new", STATUS_PUBLISHED, NOW - 30 * 60, cat, NULL, 0);

	struct store_article art, *v;
	size_t n = 0;
	T_CHECK(store_article_get(s, x, NOW, a, &art) == STORE_OK);
	T_CHECK(store_related(s, &art, NOW, 3, a, &v, &n) == STORE_OK);
	T_CHECK(n == 3);
	if (n == 3)
		T_CHECK(v[0].id == A && v[1].id == B && v[2].id == B2);
	T_CHECK(store_related(s, &art, NOW, 100, a, &v, &n) == STORE_OK);
	T_CHECK(n == 15); /* A B B2 C C2 + 10 new; not X, D, E, F */
	bool seen_c = false, seen_c2 = false;
	for (size_t i = 0; i < n; i++) {
		T_CHECK(v[i].id != x);
		seen_c |= v[i].id == C;
		seen_c2 |= v[i].id == C2;
	}
	T_CHECK(seen_c && seen_c2);
	if (n == 15)
		T_CHECK(v[14].id == C2); /* oldest of the untagged */
	T_CHECK(store_related(s, &art, NOW, 4, a, &v, &n) == STORE_OK);
	T_CHECK(n == 4);
	if (n == 4)
		T_STREQ(v[3].title, "new"); /* then the newest untagged */
	art.category_id = 0;
	T_CHECK(store_related(s, &art, NOW, 6, a, &v, &n) == STORE_OK && n == 0);
	arena_free(a);
	store_close(s);
}

static void
test_popular(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	int64_t p1 = add_post(s, "1", STATUS_PUBLISHED, NOW - 9 * DAY, 0, NULL, 0);
	int64_t p2 = add_post(s, "2", STATUS_PUBLISHED, NOW - 8 * DAY, 0, NULL, 0);
	int64_t p3 = add_post(s, "3", STATUS_PUBLISHED, NOW - 7 * DAY, 0, NULL, 0);
	int64_t dr = add_post(s, "d", STATUS_DRAFT, NOW - 7 * DAY, 0, NULL, 0);
	int64_t old = add_post(s, "old", STATUS_PUBLISHED, NOW - 30 * DAY, 0, NULL, 0);
	T_CHECK(store_views_add(s, p1, NOW - 2 * DAY, 10) == STORE_OK);
	T_CHECK(store_views_add(s, p1, NOW - 2 * DAY, 5) == STORE_OK);
	T_CHECK(store_views_add(s, p2, NOW - DAY, 20) == STORE_OK);
	T_CHECK(store_views_add(s, p3, NOW - 60, 15) == STORE_OK); /* today */
	T_CHECK(store_views_add(s, dr, NOW - DAY, 1000) == STORE_OK);
	T_CHECK(store_views_add(s, old, NOW - 20 * DAY, 1000) == STORE_OK);
	T_CHECK(store_views_add(s, 9999, NOW, 1) == STORE_INVALID);

	struct store_article *v;
	size_t n = 0;
	T_CHECK(store_popular(s, NOW - 7 * DAY, NOW, 5, a, &v, &n) == STORE_OK);
	T_CHECK(n == 3);
	if (n == 3) {
		T_CHECK(v[0].id == p2); /* 20 */
		T_CHECK(v[1].id == p3); /* 15, newer than p1's 15 */
		T_CHECK(v[2].id == p1); /* 10 + 5 */
		T_CHECK(v[0].views == 20 && v[1].views == 15 && v[2].views == 15);
	}
	T_CHECK(store_popular(s, NOW - 7 * DAY, NOW, 1, a, &v, &n) == STORE_OK);
	T_CHECK(n == 1 && v[0].id == p2);
	T_CHECK(store_popular(s, NOW - 30 * DAY, NOW, 5, a, &v, &n) == STORE_OK);
	T_CHECK(n == 4 && v[0].id == old);
	arena_free(a);
	store_close(s);
}

/* Feeds, the sitemap's stamps and chunks, the beacon's visibility check:
 * all under the one visibility rule. */
static void
test_crawler_reads(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	int64_t c1 = add_category(s, "c1", "C1");
	int64_t c2 = add_category(s, "c2", "C2");
	add_category(s, "empty", "Empty");
	int64_t p[6];
	for (int i = 0; i < 6; i++) /* p[5] newest */
		p[i] = add_post(s, "p", STATUS_PUBLISHED, NOW - (6 - i) * HOUR,
		    i % 2 ? c2 : c1, NULL, 0);
	int64_t fut = add_post(s, "f", STATUS_PUBLISHED, NOW + HOUR, c1, NULL, 0);
	int64_t dr = add_post(s, "d", STATUS_DRAFT, NOW - HOUR, c2, NULL, 0);
	/* p[0] edited after the others went out */
	struct store_article e;
	T_CHECK(store_article_get_any(s, p[0], a, &e) == STORE_OK);
	e.updated_at = NOW - 10;
	T_CHECK(store_article_update(s, &e) == STORE_OK);

	bool yes = true;
	T_CHECK(store_article_visible(s, p[3], NOW, &yes) == STORE_OK && yes);
	T_CHECK(store_article_visible(s, fut, NOW, &yes) == STORE_OK && !yes);
	T_CHECK(store_article_visible(s, fut, NOW + HOUR, &yes) == STORE_OK && yes);
	T_CHECK(store_article_visible(s, dr, NOW, &yes) == STORE_OK && !yes);
	T_CHECK(store_article_visible(s, 9999, NOW, &yes) == STORE_OK && !yes);

	struct store_article *v;
	size_t n = 0;
	T_CHECK(store_articles_feed(s, 0, NOW, 4, a, &v, &n) == STORE_OK);
	T_CHECK(n == 4 && v[0].id == p[5] && v[3].id == p[2]);
	T_CHECK(n > 0 && strcmp(v[0].body_html, "<p>body</p>") == 0 &&
	    strcmp(v[0].body, "") == 0 && strcmp(v[0].category_slug, "c2") == 0);
	T_CHECK(store_articles_feed(s, c1, NOW, 10, a, &v, &n) == STORE_OK);
	T_CHECK(n == 3 && v[0].id == p[4] && v[2].id == p[0]);
	T_CHECK(store_articles_feed(s, c1, NOW + HOUR, 10, a, &v, &n) ==
	    STORE_OK && n == 4 && v[0].id == fut);

	struct store_stamp *st;
	T_CHECK(store_article_stamps(s, NOW, 1, 3, a, &st, &n) == STORE_OK);
	T_CHECK(n == 3 && st[0].id == p[4] && st[2].id == p[2]);
	T_CHECK(n == 3 && st[0].t == NOW - 2 * HOUR);
	T_CHECK(store_article_stamps(s, NOW, 5, 10, a, &st, &n) == STORE_OK);
	T_CHECK(n == 1 && st[0].id == p[0] && st[0].t == NOW - 10);
	T_CHECK(store_category_stamps(s, NOW, a, &st, &n) == STORE_OK);
	T_CHECK(n == 2 && st[0].id == c1 && st[0].t == NOW - 10 &&
	    st[1].id == c2 && st[1].t == NOW - HOUR);
	/* positions 3.. (after front + 2 categories) in chunks of 4:
	 * chunk 0 = p5, chunk 1 = p4..p1, chunk 2 = p0 */
	T_CHECK(store_article_chunks(s, NOW, 3, 4, a, &st, &n) == STORE_OK);
	T_CHECK(n == 3 && st[0].id == 0 && st[0].t == NOW - HOUR &&
	    st[1].id == 1 && st[1].t == NOW - 2 * HOUR &&
	    st[2].id == 2 && st[2].t == NOW - 10);
	T_CHECK(store_article_chunks(s, NOW, 0, 0, a, &st, &n) == STORE_INVALID);
	arena_free(a);
	store_close(s);
}

/* A page (published at pub) under parent with slug; returns its id. */
static int64_t
add_page(store *s, const char *slug, int64_t parent, enum store_status st,
    int64_t pub, int64_t order)
{
	struct store_article a = {
		.kind = KIND_PAGE, .title = slug, .slug = slug, .body = "b",
		.body_format = FORMAT_MARKDOWN, .body_html = "<p>b</p>",
		.body_text = "b", .status = st, .published_at = pub,
		.updated_at = pub, .parent_id = parent, .menu_order = order,
	};
	T_CHECK(store_article_add(s, &a) == STORE_OK);
	return a.id;
}

/* The hierarchy of pages: chain, children, lookups by slug, and the
 * bounds that hold even for a loop written past content_save. */
static void
test_pages(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	struct store_page *v;
	struct store_article g;
	struct store_stamp *st;
	size_t n;
	int64_t id, h;

	int64_t top = add_page(s, "top", 0, STATUS_PUBLISHED, NOW - HOUR, 0);
	int64_t b = add_page(s, "b", top, STATUS_PUBLISHED, NOW - HOUR, 2);
	int64_t c = add_page(s, "c", top, STATUS_PUBLISHED, NOW - HOUR, 1);
	int64_t d = add_page(s, "d", top, STATUS_DRAFT, 0, 0);
	int64_t f = add_page(s, "f", top, STATUS_PUBLISHED, NOW + HOUR, 0);
	int64_t cc = add_page(s, "%e6%97%a5", c, STATUS_PUBLISHED, NOW - HOUR, 0);
	T_CHECK(store_article_get_any(s, b, a, &g) == STORE_OK);
	T_CHECK(g.parent_id == top && g.menu_order == 2);
	/* a post never hangs under anything */
	int64_t post = add_post(s, "p", STATUS_PUBLISHED, NOW - HOUR, 0, NULL, 0);
	T_CHECK(store_article_get_any(s, post, a, &g) == STORE_OK);
	g.parent_id = top;
	T_CHECK(store_article_update(s, &g) == STORE_OK);
	T_CHECK(store_article_get_any(s, post, a, &g) == STORE_OK &&
	    g.parent_id == 0);

	T_CHECK(store_page_chain(s, cc, NOW, a, &v, &n) == STORE_OK && n == 3);
	T_CHECK(v[0].id == top && v[1].id == c && v[2].id == cc && v[0].visible);
	T_STREQ(v[1].slug, "c");
	T_CHECK(store_page_chain(s, d, NOW, a, &v, &n) == STORE_OK && n == 2 &&
	    !v[1].visible);
	T_CHECK(store_page_chain(s, post, NOW, a, &v, &n) == STORE_NOTFOUND);
	/* children: visible, by menu_order (c before b) */
	T_CHECK(store_page_children(s, top, NOW, 10, a, &v, &n) == STORE_OK);
	T_CHECK(n == 2 && v[0].id == c && v[1].id == b);
	T_CHECK(store_page_children(s, top, NOW + 2 * HOUR, 10, a, &v, &n) ==
	    STORE_OK && n == 3 && v[0].id == f);
	T_CHECK(store_page_children(s, top, NOW, 1, a, &v, &n) == STORE_OK &&
	    n == 1);
	T_CHECK(store_pages_all(s, NOW, 100, a, &v, &n) == STORE_OK && n == 6);
	/* a level by any of its spellings; drafts are found (a path is a
	 * path), the trash is not */
	const char *sp[3] = {"日", "%E6%97%A5", "%e6%97%a5"};
	T_CHECK(store_page_child(s, c, sp, 3, &id) == STORE_OK && id == cc);
	T_CHECK(store_page_child(s, top, sp, 3, &id) == STORE_OK && id == 0);
	sp[0] = "d";
	T_CHECK(store_page_child(s, top, sp, 1, &id) == STORE_OK && id == d);
	T_CHECK(store_article_trash(s, d, NOW) == STORE_OK);
	T_CHECK(store_page_child(s, top, sp, 1, &id) == STORE_OK && id == 0);
	T_CHECK(store_page_child(s, top, sp, 0, &id) == STORE_INVALID);
	T_CHECK(store_page_slug_owner(s, top, "b", 0, &id) == STORE_OK && id == b);
	T_CHECK(store_page_slug_owner(s, top, "b", b, &id) == STORE_OK && id == 0);
	T_CHECK(store_page_slug_owner(s, 0, "b", 0, &id) == STORE_OK && id == 0);
	T_CHECK(store_page_height(s, top, &h) == STORE_OK && h == 2);
	/* the sitemap's reads: visible pages only */
	T_CHECK(store_pages_count(s, NOW, &id) == STORE_OK && id == 4);
	T_CHECK(store_page_stamps(s, NOW, 1, 10, a, &st, &n) == STORE_OK &&
	    n == 3 && st[0].id == b);

	/* a loop written behind content_save's back stays bounded */
	T_CHECK(store_article_get_any(s, top, a, &g) == STORE_OK);
	g.parent_id = cc;
	T_CHECK(store_article_update(s, &g) == STORE_OK);
	T_CHECK(store_page_chain(s, cc, NOW, a, &v, &n) == STORE_OK);
	T_CHECK(n == STORE_PAGE_DEPTH && v[0].parent_id != 0);
	T_CHECK(store_page_height(s, top, &h) == STORE_OK &&
	    h == STORE_PAGE_DEPTH);
	arena_free(a);
	store_close(s);
}

/* A thread in one call: parents by place, one count move, all or nothing. */
static void
test_comments_batch(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	int64_t art = add_post(s, "a", STATUS_PUBLISHED, NOW - DAY, 0, NULL, 0);
	int64_t art2 = add_post(s, "b", STATUS_PUBLISHED, NOW - DAY, 0, NULL, 0);
	int64_t old = add_comment(s, art, 0, CSTATUS_APPROVED, "v0", NOW - 90);
	struct store_comment cs[4];
	int64_t par[4] = {-1, 0, 1, -1};
	for (int i = 0; i < 4; i++)
		cs[i] = (struct store_comment){.article_id = art,
		    .type = CTYPE_COMMENT, .nickname = "名無し", .body = "スレッド",
		    .created_at = NOW - 50 + i, .status = CSTATUS_APPROVED};
	cs[2].status = CSTATUS_PENDING;
	cs[3].parent_id = old;
	T_CHECK(store_comments_add(s, cs, par, 4) == STORE_OK);
	struct store_comment got;
	T_CHECK(cs[0].id > old && cs[1].id > cs[0].id && cs[3].id > cs[2].id);
	T_CHECK(store_comment_get(s, cs[1].id, a, &got) == STORE_OK &&
	    got.parent_id == cs[0].id);
	T_CHECK(store_comment_get(s, cs[2].id, a, &got) == STORE_OK &&
	    got.parent_id == cs[1].id && got.status == CSTATUS_PENDING);
	T_CHECK(store_comment_get(s, cs[3].id, a, &got) == STORE_OK &&
	    got.parent_id == old);
	struct store_article g;
	T_CHECK(store_article_get_any(s, art, a, &g) == STORE_OK);
	T_CHECK(g.comment_count == 4); /* old and three approved */

	/* a bad parent last: nothing of the batch is kept */
	for (int i = 0; i < 4; i++)
		cs[i].id = 0;
	cs[0].parent_id = 0;
	cs[3].parent_id = 999999;
	T_CHECK(store_comments_add(s, cs, par, 4) == STORE_INVALID);
	for (int i = 0; i < 4; i++)
		T_CHECK(cs[i].id == 0);
	T_CHECK(store_article_get_any(s, art, a, &g) == STORE_OK);
	T_CHECK(g.comment_count == 4);
	struct store_comment *v;
	size_t n = 0;
	T_CHECK(store_comments_for_article(s, art, CTYPE__MAX, NULL, a, &v, &n)
	    == STORE_OK && n == 4);
	/* one article a call; a parent's place before its reply */
	cs[3].parent_id = old;
	cs[2].article_id = art2;
	T_CHECK(store_comments_add(s, cs, par, 4) == STORE_INVALID);
	cs[2].article_id = art;
	int64_t ahead[4] = {-1, 2, 1, -1};
	T_CHECK(store_comments_add(s, cs, ahead, 4) == STORE_INVALID);
	T_CHECK(store_comments_add(s, cs, NULL, 0) == STORE_OK);
	T_CHECK(store_comments_for_article(s, art, CTYPE__MAX, NULL, a, &v, &n)
	    == STORE_OK && n == 4);
	arena_free(a);
	store_close(s);
}

static void
test_comments(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	int64_t art = add_post(s, "a", STATUS_PUBLISHED, NOW - DAY, 0, NULL, 0);
	int64_t art2 = add_post(s, "b", STATUS_PUBLISHED, NOW - DAY, 0, NULL, 0);
	int64_t top = add_comment(s, art, 0, CSTATUS_APPROVED, "v1", NOW - 50);
	int64_t reply = add_comment(s, art, top, CSTATUS_APPROVED, "v2", NOW - 40);
	int64_t deep = add_comment(s, art, reply, CSTATUS_APPROVED, "v1", NOW - 30);
	int64_t pend = add_comment(s, art, top, CSTATUS_PENDING, "v3", NOW - 20);
	add_comment(s, art, 0, CSTATUS_PENDING, "", NOW - 15);
	add_comment(s, art, 0, CSTATUS_SPAM, "v3", NOW - 10);
	int64_t other = add_comment(s, art2, 0, CSTATUS_APPROVED, "v1", NOW - 5);
	struct store_comment c = {.article_id = art, .parent_id = other,
	    .type = CTYPE_COMMENT, .body = "x", .created_at = NOW,
	    .status = CSTATUS_APPROVED};
	T_CHECK(store_comment_add(s, &c) == STORE_INVALID); /* other article */
	c.parent_id = 9999;
	T_CHECK(store_comment_add(s, &c) == STORE_INVALID); /* no such parent */
	c.parent_id = 0;
	c.article_id = 9999;
	T_CHECK(store_comment_add(s, &c) == STORE_INVALID); /* no such article */
	c.article_id = art;
	c.type = (enum store_ctype)5;
	T_CHECK(store_comment_add(s, &c) == STORE_INVALID);

	struct store_comment tb = {.article_id = art, .type = CTYPE_TRACKBACK,
	    .nickname = "他所のブログ", .url = "https://blog.example/1",
	    .body = "抜粋", .created_at = NOW - 1, .status = CSTATUS_APPROVED,
	    .like_count = 7, .legacy_id = "wp-c-9"}, got;
	T_CHECK(store_comment_add(s, &tb) == STORE_OK);
	T_CHECK(store_comment_get(s, tb.id, a, &got) == STORE_OK);
	T_CHECK(got.type == CTYPE_TRACKBACK && got.like_count == 7);
	T_STREQ(got.url, "https://blog.example/1");
	T_STREQ(got.legacy_id, "wp-c-9");
	T_CHECK(got.parent_id == 0 && got.status == CSTATUS_APPROVED);
	T_CHECK(store_comment_get(s, deep, a, &got) == STORE_OK);
	T_CHECK(got.parent_id == reply); /* the true parent, at any depth */
	T_CHECK(store_comment_get(s, 9999, a, &got) == STORE_NOTFOUND);

	struct store_comment *v;
	size_t n = 0;
	/* approved only, all types, in time order */
	T_CHECK(store_comments_for_article(s, art, CTYPE__MAX, NULL, a, &v, &n)
	    == STORE_OK);
	T_CHECK(n == 4);
	if (n == 4)
		T_CHECK(v[0].id == top && v[1].id == reply && v[2].id == deep &&
		    v[3].id == tb.id);
	/* plus the pending one of this visitor */
	T_CHECK(store_comments_for_article(s, art, CTYPE_COMMENT, "v3", a, &v, &n)
	    == STORE_OK);
	T_CHECK(n == 4);
	if (n == 4)
		T_CHECK(v[3].id == pend && v[3].status == CSTATUS_PENDING);
	/* not someone else's; an empty visitor never matches */
	T_CHECK(store_comments_for_article(s, art, CTYPE_COMMENT, "v1", a, &v, &n)
	    == STORE_OK && n == 3);
	T_CHECK(store_comments_for_article(s, art, CTYPE_COMMENT, "", a, &v, &n)
	    == STORE_OK && n == 3);
	T_CHECK(store_comments_for_article(s, art, CTYPE_TRACKBACK, NULL, a, &v, &n)
	    == STORE_OK && n == 1);
	T_CHECK(store_comments_for_article(s, art, CTYPE_PINGBACK, NULL, a, &v, &n)
	    == STORE_OK && n == 0 && v == NULL);
	arena_free(a);
	store_close(s);
}

/* The comment pages' reads: places without text, then rows by id. */
static void
test_comment_places(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	int64_t art = add_post(s, "a", STATUS_PUBLISHED, NOW - DAY, 0, NULL, 0);
	int64_t art2 = add_post(s, "b", STATUS_PUBLISHED, NOW - DAY, 0, NULL, 0);
	int64_t top = add_comment(s, art, 0, CSTATUS_APPROVED, "v1", NOW - 50);
	int64_t reply = add_comment(s, art, top, CSTATUS_APPROVED, "v2", NOW - 40);
	int64_t pend = add_comment(s, art, top, CSTATUS_PENDING, "v3", NOW - 20);
	int64_t spam = add_comment(s, art, 0, CSTATUS_SPAM, "v3", NOW - 10);
	int64_t other = add_comment(s, art2, 0, CSTATUS_APPROVED, "v1", NOW - 5);
	struct store_comment tb = {.article_id = art, .type = CTYPE_TRACKBACK,
	    .nickname = "他所", .url = "https://blog.example/1", .body = "抜粋",
	    .created_at = NOW - 1, .status = CSTATUS_APPROVED};
	T_CHECK(store_comment_add(s, &tb) == STORE_OK);

	struct store_comment *v;
	size_t n = 0;
	/* what store_comments_for_article shows, every type, no text */
	T_CHECK(store_comment_places(s, art, NULL, a, &v, &n) == STORE_OK);
	T_CHECK(n == 3);
	if (n == 3) {
		T_CHECK(v[0].id == top && v[1].id == reply && v[2].id == tb.id);
		T_CHECK(v[1].parent_id == top && v[0].parent_id == 0);
		T_CHECK(v[1].created_at == NOW - 40);
		T_CHECK(v[2].type == CTYPE_TRACKBACK && v[0].type == CTYPE_COMMENT);
		T_CHECK(v[0].status == CSTATUS_APPROVED && v[0].article_id == art);
		T_STREQ(v[0].body, "");
		T_STREQ(v[0].nickname, "");
	}
	T_CHECK(store_comment_places(s, art, "v3", a, &v, &n) == STORE_OK);
	T_CHECK(n == 4 && v[2].id == pend && v[2].status == CSTATUS_PENDING);
	T_CHECK(store_comment_places(s, art, "", a, &v, &n) == STORE_OK && n == 3);

	/* rows in the order asked; others' pending, spam, another article's
	 * and unknown ids are left out */
	int64_t ids[] = {tb.id, reply, spam, pend, other, 99999, top};
	T_CHECK(store_comments_by_ids(s, art, ids, 7, NULL, a, &v, &n) ==
	    STORE_OK);
	T_CHECK(n == 3);
	if (n == 3) {
		T_CHECK(v[0].id == tb.id && v[1].id == reply && v[2].id == top);
		T_STREQ(v[0].body, "抜粋");
		T_CHECK(!v[1].placeholder && v[1].parent_id == top);
		T_STREQ(v[1].email, ""); /* never shown to readers */
	}
	T_CHECK(store_comments_by_ids(s, art, ids, 7, "v3", a, &v, &n) ==
	    STORE_OK && n == 4 && v[2].id == pend);
	T_CHECK(store_comments_by_ids(s, art, ids, 0, NULL, a, &v, &n) ==
	    STORE_OK && n == 0 && v == NULL);
	arena_free(a);
	store_close(s);
}

/* comment_count of art, as a reader sees it. */
static int64_t
count_of(store *s, int64_t art)
{
	arena *a = arena_new(0);
	struct store_article out;
	int64_t n = -1;
	if (store_article_get_any(s, art, a, &out) == STORE_OK)
		n = out.comment_count;
	arena_free(a);
	return n;
}

static void
test_comment_count(void)
{
	store *s = t_db_open();
	int64_t art = add_post(s, "a", STATUS_PUBLISHED, NOW - DAY, 0, NULL, 0);
	int64_t c1 = add_comment(s, art, 0, CSTATUS_APPROVED, "v", NOW);
	T_CHECK(count_of(s, art) == 1);
	int64_t c2 = add_comment(s, art, 0, CSTATUS_PENDING, "v", NOW);
	T_CHECK(count_of(s, art) == 1);
	T_CHECK(store_comment_set_status(s, c2, CSTATUS_APPROVED) == STORE_OK);
	T_CHECK(count_of(s, art) == 2);
	T_CHECK(store_comment_set_status(s, c2, CSTATUS_APPROVED) == STORE_OK);
	T_CHECK(count_of(s, art) == 2); /* no change, no drift */
	T_CHECK(store_comment_set_status(s, c1, CSTATUS_SPAM) == STORE_OK);
	T_CHECK(count_of(s, art) == 1);
	T_CHECK(store_comment_set_status(s, c1, CSTATUS_TRASH) == STORE_OK);
	T_CHECK(count_of(s, art) == 1);
	T_CHECK(store_comment_set_status(s, c1, CSTATUS_APPROVED) == STORE_OK);
	T_CHECK(count_of(s, art) == 2);
	struct store_comment pb = {.article_id = art, .type = CTYPE_PINGBACK,
	    .body = "", .created_at = NOW, .status = CSTATUS_APPROVED};
	T_CHECK(store_comment_add(s, &pb) == STORE_OK);
	T_CHECK(count_of(s, art) == 3); /* pings count too */
	T_CHECK(store_comment_set_status(s, pb.id, CSTATUS_PENDING) == STORE_OK);
	T_CHECK(count_of(s, art) == 2);
	T_CHECK(store_comment_set_status(s, 9999, CSTATUS_APPROVED) == STORE_NOTFOUND);
	T_CHECK(store_comment_set_status(s, c1, (enum store_cstatus)8) == STORE_INVALID);
	T_CHECK(count_of(s, art) == 2);
	store_close(s);
}

static void
test_likes(void)
{
	store *s = t_db_open();
	int64_t art = add_post(s, "a", STATUS_PUBLISHED, NOW - DAY, 0, NULL, 0);
	int64_t cid = add_comment(s, art, 0, CSTATUS_APPROVED, "v", NOW);
	int64_t n = -1;
	T_CHECK(store_like(s, cid, "alice", &n) == STORE_OK && n == 1);
	T_CHECK(store_like(s, cid, "alice", &n) == STORE_CONFLICT && n == 1);
	T_CHECK(store_like(s, cid, "bob", &n) == STORE_OK && n == 2);
	T_CHECK(store_unlike(s, cid, "alice", &n) == STORE_OK && n == 1);
	T_CHECK(store_unlike(s, cid, "alice", &n) == STORE_NOTFOUND && n == 1);
	T_CHECK(store_like(s, cid, "alice", &n) == STORE_OK && n == 2);
	T_CHECK(store_like(s, 9999, "alice", &n) == STORE_NOTFOUND && n == 0);
	T_CHECK(store_unlike(s, 9999, "alice", &n) == STORE_NOTFOUND && n == 0);
	T_CHECK(store_like(s, cid, "", &n) == STORE_INVALID);

	/* a historic count is kept and counted on from */
	struct store_comment old = {.article_id = art, .type = CTYPE_COMMENT,
	    .body = "昔の", .created_at = NOW, .status = CSTATUS_APPROVED,
	    .like_count = 41};
	T_CHECK(store_comment_add(s, &old) == STORE_OK);
	T_CHECK(store_like(s, old.id, "carol", &n) == STORE_OK && n == 42);
	T_CHECK(store_unlike(s, old.id, "carol", &n) == STORE_OK && n == 41);
	store_close(s);
}

#define LIKE_THREADS 8
#define LIKES_EACH 25

struct like_job {
	store *s;
	int64_t cid;
	int no;
	int ok, conflict, other;
};

/* Each thread likes with its own visitors, then retries one (CONFLICT). */
static void *
like_worker(void *p)
{
	struct like_job *j = p;
	char v[32];
	int64_t n;
	for (int i = 0; i < LIKES_EACH; i++) {
		snprintf(v, sizeof(v), "t%d-v%d", j->no, i);
		enum store_err e = store_like(j->s, j->cid, v, &n);
		e == STORE_OK ? j->ok++ : j->other++;
	}
	/* everyone also likes as the same shared visitor: exactly one wins */
	enum store_err e = store_like(j->s, j->cid, "shared", &n);
	e == STORE_OK ? j->ok++ : e == STORE_CONFLICT ? j->conflict++ : j->other++;
	return NULL;
}

static void
test_likes_concurrent(void)
{
	store *s = t_db_open();
	int64_t art = add_post(s, "a", STATUS_PUBLISHED, NOW - DAY, 0, NULL, 0);
	int64_t cid = add_comment(s, art, 0, CSTATUS_APPROVED, "v", NOW);
	pthread_t th[LIKE_THREADS];
	struct like_job jobs[LIKE_THREADS];
	int ok = 0, conflict = 0, other = 0;
	for (int i = 0; i < LIKE_THREADS; i++) {
		jobs[i] = (struct like_job){.s = s, .cid = cid, .no = i};
		pthread_create(&th[i], NULL, like_worker, &jobs[i]);
	}
	for (int i = 0; i < LIKE_THREADS; i++) {
		pthread_join(th[i], NULL);
		ok += jobs[i].ok;
		conflict += jobs[i].conflict;
		other += jobs[i].other;
	}
	T_CHECK(other == 0);
	T_CHECK(conflict == LIKE_THREADS - 1);
	T_CHECK(ok == LIKE_THREADS * LIKES_EACH + 1);
	arena *a = arena_new(0);
	struct store_comment c;
	T_CHECK(store_comment_get(s, cid, a, &c) == STORE_OK);
	T_CHECK(c.like_count == LIKE_THREADS * LIKES_EACH + 1);
	int64_t n = 0;
	T_CHECK(store_like(s, cid, "shared", &n) == STORE_CONFLICT);
	T_CHECK(n == LIKE_THREADS * LIKES_EACH + 1);
	arena_free(a);
	store_close(s);
}

static void
test_media(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
	const char *type;
	const void *data;
	size_t n = 0;
	int64_t mtime = 0;
	T_CHECK(store_media_put(s, "ship-1.png", "image/png", png, sizeof(png) - 1,
	    NOW) == STORE_OK);
	T_CHECK(store_media_get(s, "ship-1.png", a, &type, &data, &n, &mtime)
	    == STORE_OK);
	T_STREQ(type, "image/png");
	T_CHECK(n == sizeof(png) - 1 && memcmp(data, png, n) == 0);
	T_CHECK(mtime == NOW);
	/* replace */
	T_CHECK(store_media_put(s, "ship-1.png", "image/jpeg", "JFIF", 4, NOW + 1)
	    == STORE_OK);
	T_CHECK(store_media_get(s, "ship-1.png", a, &type, &data, &n, &mtime)
	    == STORE_OK);
	T_STREQ(type, "image/jpeg");
	T_CHECK(n == 4 && mtime == NOW + 1);
	/* empty file */
	T_CHECK(store_media_put(s, "empty.txt", "text/plain", NULL, 0, NOW) == STORE_OK);
	T_CHECK(store_media_get(s, "empty.txt", a, &type, &data, &n, &mtime)
	    == STORE_OK);
	T_CHECK(n == 0 && data != NULL);
	/* names that could escape a directory or a URL */
	T_CHECK(store_media_put(s, "../x", "text/plain", "x", 1, NOW) == STORE_INVALID);
	T_CHECK(store_media_put(s, ".htaccess", "text/plain", "x", 1, NOW) == STORE_INVALID);
	T_CHECK(store_media_put(s, "a b", "text/plain", "x", 1, NOW) == STORE_INVALID);
	T_CHECK(store_media_put(s, "", "text/plain", "x", 1, NOW) == STORE_INVALID);
	T_CHECK(store_media_get(s, "nope.png", a, &type, &data, &n, &mtime)
	    == STORE_NOTFOUND);
	arena_free(a);
	store_close(s);
}

static void
test_redirects_jobs(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	const char *to = NULL;
	T_CHECK(store_redirect_add(s, "/2022/01/09/old-post/", "/articles/1") == STORE_OK);
	T_CHECK(store_redirect_get(s, "/2022/01/09/old-post/", a, &to) == STORE_OK);
	T_STREQ(to, "/articles/1");
	T_CHECK(store_redirect_add(s, "/2022/01/09/old-post/", "/articles/2")
	    == STORE_CONFLICT);
	T_CHECK(store_redirect_get(s, "/nope", a, &to) == STORE_NOTFOUND);
	T_CHECK(store_job_add(s, "ping", "{\"article\":1}", NOW) == STORE_OK);
	T_CHECK(store_job_add(s, "", "{}", NOW) == STORE_INVALID);
	arena_free(a);
	store_close(s);
}

static void
test_transactions(void)
{
	store *s = t_db_open();
	int64_t n = 0;
	T_CHECK(store_begin(s) == STORE_OK);
	T_CHECK(store_begin(s) == STORE_ERROR); /* not nested */
	for (int i = 0; i < 100; i++)
		add_post(s, "x", STATUS_PUBLISHED, NOW - HOUR, 0, NULL, 0);
	T_CHECK(store_rollback(s) == STORE_OK);
	T_CHECK(store_articles_count(s, NOW, &n) == STORE_OK && n == 0);

	T_CHECK(store_begin(s) == STORE_OK);
	int64_t art = add_post(s, "y", STATUS_PUBLISHED, NOW - HOUR, 0, NULL, 0);
	/* a failing call undoes only itself */
	struct store_comment bad = {.article_id = art, .parent_id = 9999,
	    .type = CTYPE_COMMENT, .body = "x", .status = CSTATUS_APPROVED};
	T_CHECK(store_comment_add(s, &bad) == STORE_INVALID);
	add_comment(s, art, 0, CSTATUS_APPROVED, "v", NOW);
	T_CHECK(store_commit(s) == STORE_OK);
	T_CHECK(store_articles_count(s, NOW, &n) == STORE_OK && n == 1);
	T_CHECK(count_of(s, art) == 1);
	T_CHECK(store_commit(s) == STORE_ERROR);
	/* nothing to roll back is fine: callers roll back after any failure */
	T_CHECK(store_rollback(s) == STORE_OK);
	store_close(s);
}

#define THREADS 4

struct thread_job {
	store *s;
	int no;
	int64_t cat;
	int failures;
};

/* Writes and reads through this thread's own connection. */
static void *
thread_worker(void *p)
{
	struct thread_job *j = p;
	arena *a = arena_new(0);
	char key[32], val[32];
	buf b, jm;
	int sync = 0;
	buf_init(&b, 0);
	buf_init(&jm, 0);
	if (store_durability(j->s, &jm, &sync) != STORE_OK ||
	    strcmp(buf_cstr(&jm), durable_mode()) != 0 || sync != 2)
		j->failures++;
	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "t%d.k%d", j->no, i);
		snprintf(val, sizeof(val), "v%d", i);
		if (store_setting_set(j->s, key, val) != STORE_OK ||
		    store_setting_get(j->s, key, &b) != STORE_OK ||
		    strcmp(buf_cstr(&b), val) != 0)
			j->failures++;
		struct store_article art = {.kind = KIND_POST, .title = key,
		    .body = "", .status = STATUS_PUBLISHED,
		    .published_at = NOW - i, .category_id = j->cat};
		struct store_article out;
		if (store_article_add(j->s, &art) != STORE_OK ||
		    store_article_get(j->s, art.id, NOW, a, &out) != STORE_OK ||
		    strcmp(out.title, key) != 0)
			j->failures++;
		arena_reset(a);
	}
	buf_free(&b);
	buf_free(&jm);
	arena_free(a);
	return NULL;
}

/* Open file descriptors of this process: each connection holds the
 * database, its WAL and its shm file open. */
static int
fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static void
test_threads(void)
{
	store *s = t_db_open();
	pthread_t th[THREADS];
	struct thread_job jobs[THREADS];
	int64_t cat = add_category(s, "c", "c"), n = 0;
	int fds = fd_count();
	for (int i = 0; i < THREADS; i++) {
		jobs[i] = (struct thread_job){.s = s, .no = i, .cat = cat};
		pthread_create(&th[i], NULL, thread_worker, &jobs[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		T_CHECK(jobs[i].failures == 0);
	}
	T_CHECK(store_articles_count(s, NOW, &n) == STORE_OK);
	T_CHECK(n == THREADS * 20);
	/* Threads that exited closed their connections. SQLite parks a
	 * closed connection's database fd while another connection of the
	 * process holds a lock on the file and reuses it on the next open,
	 * so a second round of threads must not add any. */
	int fds1 = fd_count();
	T_CHECK(fds1 <= fds + THREADS);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, thread_worker, &jobs[i]);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		T_CHECK(jobs[i].failures == 0);
	}
	T_CHECK(fd_count() == fds1);
	T_CHECK(store_articles_count(s, NOW, &n) == STORE_OK);
	T_CHECK(n == THREADS * 40);
	store_close(s);
}

int
main(void)
{
	if (!t_tmpdir(t_dir, sizeof(t_dir), "store"))
		return 1;
	T_RUN(test_open_migrate_twice);
	T_RUN(test_schema_checks);
	T_RUN(test_open_existing_empty_and_garbage);
	T_RUN(test_durability);
	T_RUN(test_data_version);
	T_RUN(test_change_readers);
	T_RUN(test_settings);
	T_RUN(test_users_categories_tags);
	T_RUN(test_article_roundtrip);
	T_RUN(test_visibility);
	T_RUN(test_list);
	T_RUN(test_adjacent);
	T_RUN(test_related);
	T_RUN(test_popular);
	T_RUN(test_crawler_reads);
	T_RUN(test_pages);
	T_RUN(test_comments);
	T_RUN(test_comments_batch);
	T_RUN(test_comment_places);
	T_RUN(test_comment_count);
	T_RUN(test_likes);
	T_RUN(test_likes_concurrent);
	T_RUN(test_media);
	T_RUN(test_redirects_jobs);
	T_RUN(test_transactions);
	T_RUN(test_threads);
	t_tmpdir_remove(t_dir);
	T_DONE();
}
