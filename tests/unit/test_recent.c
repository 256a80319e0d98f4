/*
 * The site's recent comments in the store (sqlite_recent.c): approved
 * comments only, not pings, only on visible posts (not pages), newest first with
 * ties by id, offset and limit, what a row carries (never the e-mail or
 * the address), the bounded count, and the query plan that walks the
 * status index in order instead of sorting the whole table.
 */
#include "../../src/store/store_int.h"

#include <sqlite3.h>
#include "t_db.h"

#define NOW ((int64_t)1700000000)
#define HOUR ((int64_t)3600)

static int64_t
add_article(store *s, const char *title, enum store_kind kind,
    enum store_status st, int64_t pub)
{
	struct store_article a = {
		.kind = kind,
		.title = title,
		.slug = kind == KIND_PAGE ? "about" : "",
		.body = "body",
		.body_format = FORMAT_MARKDOWN,
		.body_html = "<p>body</p>",
		.body_text = "body",
		.status = st,
		.published_at = pub,
		.updated_at = pub,
		.comments_open = true,
	};
	T_CHECK(store_article_add(s, &a) == STORE_OK);
	return a.id;
}

static int64_t
add_comment(store *s, int64_t art, enum store_ctype type,
    enum store_cstatus st, const char *nick, int64_t at)
{
	struct store_comment c = {
		.article_id = art,
		.type = type,
		.nickname = nick,
		.email = "secret@example.com",
		.ip = "192.0.2.7",
		.visitor_id = "visitor-1",
		.url = type == CTYPE_COMMENT ? "" : "http://example.com/p",
		.body = "本文です",
		.created_at = at,
		.status = st,
	};
	T_CHECK(store_comment_add(s, &c) == STORE_OK);
	return c.id;
}

static void
test_recent_rows(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	T_CHECK(s != NULL);
	if (s == NULL)
		return;
	int64_t post = add_article(s, "記事A", KIND_POST, STATUS_PUBLISHED,
	    NOW - 10 * HOUR);
	int64_t page = add_article(s, "固定ページ", KIND_PAGE, STATUS_PUBLISHED,
	    NOW - 10 * HOUR);
	int64_t draft = add_article(s, "下書き", KIND_POST, STATUS_DRAFT,
	    NOW - 10 * HOUR);
	int64_t future = add_article(s, "予約", KIND_POST, STATUS_PUBLISHED,
	    NOW + HOUR);
	int64_t c1 = add_comment(s, post, CTYPE_COMMENT, CSTATUS_APPROVED, "一",
	    NOW - 5 * HOUR);
	/* a page's: pages stay out of the site's lists */
	add_comment(s, page, CTYPE_COMMENT, CSTATUS_APPROVED, "二",
	    NOW - 4 * HOUR);
	/* two at the same second: the later id first */
	int64_t c3 = add_comment(s, post, CTYPE_COMMENT, CSTATUS_APPROVED, "三",
	    NOW - 3 * HOUR);
	int64_t c4 = add_comment(s, post, CTYPE_COMMENT, CSTATUS_APPROVED, "四",
	    NOW - 3 * HOUR);
	/* none of these is shown */
	add_comment(s, post, CTYPE_COMMENT, CSTATUS_PENDING, "保留", NOW - HOUR);
	add_comment(s, post, CTYPE_COMMENT, CSTATUS_SPAM, "スパム", NOW - HOUR);
	add_comment(s, post, CTYPE_COMMENT, CSTATUS_TRASH, "ゴミ", NOW - HOUR);
	add_comment(s, post, CTYPE_TRACKBACK, CSTATUS_APPROVED, "TB", NOW - HOUR);
	add_comment(s, post, CTYPE_PINGBACK, CSTATUS_APPROVED, "PB", NOW - HOUR);
	add_comment(s, draft, CTYPE_COMMENT, CSTATUS_APPROVED, "下", NOW - HOUR);
	add_comment(s, future, CTYPE_COMMENT, CSTATUS_APPROVED, "未", NOW - HOUR);

	struct store_recent_comment *r = NULL;
	size_t n = 0;
	T_CHECK(store_comments_recent(s, NOW, 0, 10, a, &r, &n) == STORE_OK);
	T_CHECK(n == 3);
	if (n == 3) {
		T_CHECK(r[0].id == c4 && r[1].id == c3 && r[2].id == c1);
		T_STREQ(r[0].nickname, "四");
		T_STREQ(r[0].body, "本文です");
		T_CHECK(r[0].created_at == NOW - 3 * HOUR);
		T_CHECK(r[0].art.id == post && r[0].art.kind == KIND_POST);
		T_STREQ(r[0].art.title, "記事A");
	}
	/* offset and limit */
	T_CHECK(store_comments_recent(s, NOW, 1, 2, a, &r, &n) == STORE_OK);
	T_CHECK(n == 2 && r[0].id == c3 && r[1].id == c1);
	T_CHECK(store_comments_recent(s, NOW, 3, 2, a, &r, &n) == STORE_OK);
	T_CHECK(n == 0);
	T_CHECK(store_comments_recent(s, NOW, 0, 0, a, &r, &n) == STORE_OK);
	T_CHECK(n == 0);
	T_CHECK(store_comments_recent(s, NOW, -1, 2, a, &r, &n) == STORE_INVALID);
	/* the scheduled article's comment once its time has come */
	T_CHECK(store_comments_recent(s, NOW + 2 * HOUR, 0, 10, a, &r, &n) ==
	    STORE_OK);
	T_CHECK(n == 4 && r[0].art.id == future);
	/* a comment moderated away leaves the list */
	T_CHECK(store_comment_set_status(s, c4, CSTATUS_SPAM) == STORE_OK);
	T_CHECK(store_comments_recent(s, NOW, 0, 10, a, &r, &n) == STORE_OK);
	T_CHECK(n == 2 && r[0].id == c3);

	int64_t cnt = -1;
	T_CHECK(store_comments_recent_count(s, NOW, 1000, &cnt) == STORE_OK);
	T_CHECK(cnt == 2);
	T_CHECK(store_comments_recent_count(s, NOW, 1, &cnt) == STORE_OK);
	T_CHECK(cnt == 1); /* bounded */
	T_CHECK(store_comments_recent_count(s, NOW, 0, &cnt) == STORE_OK);
	T_CHECK(cnt == 0);
	arena_free(a);
	store_close(s);
}

/* The plan of the store's own statement: comments found through
 * comments_status in the order asked for (no temporary B-tree sorting
 * every approved comment), each article by its id. Asked of SQLite
 * directly, on the store's file. */
static void
test_recent_plan(void)
{
	if (t_sqlite_only()) /* SQLite's query plan */
		return;
	store *s = t_db_open();
	T_CHECK(s != NULL);
	if (s == NULL)
		return;
	store_close(s);
	sqlite3 *db = NULL;
	T_CHECK(sqlite3_open_v2(t_db_last, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK);
	static const enum stmt ids[] = {STMT_COMMENTS_RECENT,
	    STMT_COMMENTS_RECENT_COUNT};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		char sql[2048];
		snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s",
		    db_stmts[ids[i]].sql);
		sqlite3_stmt *st = NULL;
		T_CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
		/* rows come outer loop first: comments, then articles */
		int row = 0, index = 0, article_key = 0;
		bool temp = false;
		while (st && sqlite3_step(st) == SQLITE_ROW) {
			const char *d = (const char *)sqlite3_column_text(st, 3);
			row++;
			if (d && strstr(d, "SEARCH c USING INDEX comments_status"))
				index = row;
			if (d && strstr(d, "TEMP B-TREE"))
				temp = true;
			if (d && strstr(d, "SEARCH a USING INTEGER PRIMARY KEY"))
				article_key = row;
		}
		sqlite3_finalize(st);
		T_CHECK(index > 0);
		T_CHECK(!temp);
		T_CHECK(article_key > index);
	}
	sqlite3_close(db);
}

int
main(void)
{
	if (!t_tmpdir(t_dir, sizeof(t_dir), "recent"))
		return 1;
	T_RUN(test_recent_rows);
	T_RUN(test_recent_plan);
	t_tmpdir_remove(t_dir);
	T_DONE();
}
