/*
 * Full-text search through the store: the index follows add, edit,
 * unpublish, trash and delete; scheduled posts stay unfound until their
 * time; newest first and best first, the count's limit, paging,
 * snippets and marks; odd queries. And the recall test: on a demo site,
 * hundreds of random CJK substrings and Latin words and prefixes from the
 * corpus are searched, and each full result set (in both orders) and
 * first page (newest first) is compared with a brute-force scan of the
 * NFKC-casefolded text of the visible posts that does not use the
 * tokenizer. They must agree exactly.
 */
#include "../../src/site/site.h"
#include "../../src/store/fts.h"
#include "../../src/store/store.h"
#include "t_db.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>

#define NOW ((int64_t)1700000000) /* 2023-11-14 22:13:20 UTC */
#define DAY ((int64_t)86400)
#define RECALL_ARTICLES 240
#define RECALL_SEED 4242

/* Closes the store t_db_open opened last and removes its files. */
static void
db_close(store *s)
{
	store_close(s);
	t_db_remove(t_db_last);
}

/* Adds a published post (or with the given status and time). */
static int64_t
add(store *s, const char *title, const char *text, enum store_status st,
    int64_t published)
{
	struct store_article a = {
		.kind = KIND_POST, .title = title, .body = text,
		.body_format = FORMAT_MARKDOWN, .body_html = "", .body_text = text,
		.status = st, .published_at = published, .updated_at = published,
		.comments_open = true,
	};
	T_CHECK(store_article_add(s, &a) == STORE_OK);
	return a.id;
}

/* The ids a query finds (all of them), ascending, as "1 2 3". */
static const char *
found(store *s, const char *q, int64_t now)
{
	static char res[4096];
	arena *a = arena_new(0);
	struct store_hit *h;
	size_t n = 0;
	int64_t total = -1;
	enum store_err e = store_search(s, q, now, 0, 1000, a, &h, &n, &total);
	int64_t ids[512];
	size_t m = 0;
	for (size_t i = 0; i < n && m < 512; i++)
		ids[m++] = h[i].article.id;
	for (size_t i = 1; i < m; i++)
		for (size_t j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
			int64_t x = ids[j];
			ids[j] = ids[j - 1];
			ids[j - 1] = x;
		}
	res[0] = '\0';
	if (e != STORE_OK)
		snprintf(res, sizeof(res), "(%s)", store_strerror(e));
	for (size_t i = 0; i < m; i++)
		snprintf(res + strlen(res), sizeof(res) - strlen(res), "%s%lld",
		    i ? " " : "", (long long)ids[i]);
	T_CHECK(total == (int64_t)n);
	arena_free(a);
	return res;
}

/* "%lld" of one id, for comparing with found(). */
static const char *
one(int64_t id)
{
	static char res[32];
	snprintf(res, sizeof(res), "%lld", (long long)id);
	return res;
}

/* ---- index upkeep ---------------------------------------------------------- */

static void
test_index_follows_writes(void)
{
	store *s = t_db_open();
	if (s == NULL)
		return;
	int64_t id = add(s, "米国の新型戦闘機", "ノルヴィアはF-35Aを導入する。",
	    STATUS_PUBLISHED, NOW - DAY);
	T_STREQ(found(s, "米国", NOW), one(id));
	T_STREQ(found(s, "米", NOW), one(id));
	T_STREQ(found(s, "F-35", NOW), one(id));
	T_STREQ(found(s, "ノルヴィア", NOW), one(id));

	/* edit: the old words go, the new come */
	struct store_article a;
	arena *ar = arena_new(0);
	T_CHECK(store_article_get_any(s, id, ar, &a) == STORE_OK);
	a.title = "欧州の新型潜水艦";
	a.body_text = "ザリエンはUAVを導入する。";
	a.guid = "";
	T_CHECK(store_article_update(s, &a) == STORE_OK);
	T_STREQ(found(s, "米国", NOW), "");
	T_STREQ(found(s, "F-35", NOW), "");
	T_STREQ(found(s, "潜水艦", NOW), one(id));
	T_STREQ(found(s, "uav", NOW), one(id));

	/* unpublish (draft), publish again, trash */
	a.status = STATUS_DRAFT;
	T_CHECK(store_article_update(s, &a) == STORE_OK);
	T_STREQ(found(s, "潜水艦", NOW), "");
	a.status = STATUS_PUBLISHED;
	T_CHECK(store_article_update(s, &a) == STORE_OK);
	T_STREQ(found(s, "潜水艦", NOW), one(id));
	a.status = STATUS_TRASH;
	T_CHECK(store_article_update(s, &a) == STORE_OK);
	T_STREQ(found(s, "潜水艦", NOW), "");
	a.status = STATUS_PUBLISHED;
	T_CHECK(store_article_update(s, &a) == STORE_OK);

	/* delete */
	int64_t other = add(s, "潜水艦の話", "別の記事", STATUS_PUBLISHED, NOW - DAY);
	T_CHECK(store_article_delete(s, id) == STORE_OK);
	T_CHECK(store_article_delete(s, id) == STORE_NOTFOUND);
	T_STREQ(found(s, "潜水艦", NOW), one(other));
	T_STREQ(found(s, "uav", NOW), "");

	/* a page (kind) is not a post: never listed */
	struct store_article pg = {
		.kind = KIND_PAGE, .title = "潜水艦について", .body = "",
		.body_text = "", .status = STATUS_PUBLISHED,
		.published_at = NOW - DAY,
	};
	T_CHECK(store_article_add(s, &pg) == STORE_OK);
	T_STREQ(found(s, "潜水艦", NOW), one(other));
	arena_free(ar);
	db_close(s);
}

/* PostgreSQL: search_docs holds a row for exactly the published and
 * scheduled articles (what the rows hold, the searches check). */
static void
pg_index_check(void)
{
	PGconn *pg = PQconnectdb(t_db_last);
	T_CHECK(PQstatus(pg) == CONNECTION_OK);
	PGresult *r = PQexec(pg, "SELECT (SELECT string_agg(id::text, ' '"
	    " ORDER BY id) FROM articles WHERE status IN ('published',"
	    " 'scheduled')), (SELECT string_agg(article_id::text, ' '"
	    " ORDER BY article_id) FROM search_docs)");
	T_CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		T_STREQ(PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 0));
		T_CHECK(PQgetlength(r, 0, 0) > 0);
	}
	PQclear(r);
	PQfinish(pg);
}

/* The index and the table agree after all that: FTS5's own check (on
 * PostgreSQL, pg_index_check). */
static void
test_index_integrity(void)
{
	store *s = t_db_open();
	if (s == NULL)
		return;
	arena *ar = arena_new(0);
	int64_t ids[20];
	for (int i = 0; i < 20; i++)
		ids[i] = add(s, "記事", i % 2 ? "本文その一" : "本文その二",
		    i % 3 ? STATUS_PUBLISHED : STATUS_DRAFT, NOW - i * DAY);
	for (int i = 0; i < 20; i += 2) {
		struct store_article a;
		T_CHECK(store_article_get_any(s, ids[i], ar, &a) == STORE_OK);
		a.status = (enum store_status)(i / 2 % STATUS__MAX);
		a.body_text = "書き換えた本文";
		a.guid = "";
		T_CHECK(store_article_update(s, &a) == STORE_OK);
	}
	for (int i = 1; i < 20; i += 4)
		T_CHECK(store_article_delete(s, ids[i]) == STORE_OK);
	store_close(s);
	arena_free(ar);
	if (t_pg()) {
		pg_index_check();
		return;
	}

	sqlite3 *db = NULL;
	T_CHECK(sqlite3_open(t_db_last, &db) == SQLITE_OK);
	T_CHECK(store_fts_register(db) == SQLITE_OK);
	char *msg = NULL;
	int rc = sqlite3_exec(db, "INSERT INTO articles_fts(articles_fts, rank)"
	    " VALUES ('integrity-check', 1)", NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		printf("integrity-check: %s\n", msg ? msg : "?");
	T_CHECK(rc == SQLITE_OK);
	sqlite3_free(msg);
	sqlite3_close(db);
	t_db_remove(t_db_last);
}

/* An article written before search existed is indexed by the migration:
 * drop the index, forget the migration, open again. */
static void
test_migration_rebuilds(void)
{
	if (t_sqlite_only()) /* FTS5 and SQLite's file */
		return;
	store *s = t_db_open();
	if (s == NULL)
		return;
	int64_t id = add(s, "古い記事", "移行前に書かれた本文", STATUS_PUBLISHED,
	    NOW - DAY);
	store_close(s);
	sqlite3 *db = NULL;
	T_CHECK(sqlite3_open(t_db_last, &db) == SQLITE_OK);
	T_CHECK(store_fts_register(db) == SQLITE_OK);
	T_CHECK(sqlite3_exec(db, "DROP TABLE articles_fts;"
	    "DROP VIEW articles_fts_source;"
	    "DROP INDEX articles_id_visibility;"
	    "DELETE FROM schema_migrations WHERE version = 3;", NULL, NULL,
	    NULL) == SQLITE_OK);
	sqlite3_close(db);
	s = t_db_open_at(t_db_last);
	T_CHECK(s != NULL);
	if (s == NULL) {
		t_db_remove(t_db_last);
		return;
	}
	T_STREQ(found(s, "移行", NOW), one(id));
	db_close(s);
}

/* ---- visibility ---------------------------------------------------------------- */

static void
test_scheduled_never_found(void)
{
	store *s = t_db_open();
	if (s == NULL)
		return;
	int64_t past = add(s, "公開済みの記事", "空母の話", STATUS_PUBLISHED,
	    NOW - DAY);
	int64_t future = add(s, "予約投稿の記事", "空母の続報", STATUS_PUBLISHED,
	    NOW + DAY);
	int64_t sched = add(s, "予約状態の記事", "空母の予定", STATUS_SCHEDULED,
	    NOW - DAY);
	int64_t draft = add(s, "下書き", "空母の下書き", STATUS_DRAFT, NOW - DAY);
	(void)sched;
	(void)draft;
	T_STREQ(found(s, "空母", NOW), one(past));
	T_STREQ(found(s, "予約", NOW), "");
	T_STREQ(found(s, "続報", NOW + DAY - 1), "");
	/* its time comes: found, with no write in between */
	T_STREQ(found(s, "続報", NOW + DAY), one(future));
	char both[64];
	snprintf(both, sizeof(both), "%lld %lld", (long long)past,
	    (long long)future);
	T_STREQ(found(s, "空母", NOW + DAY), both);
	db_close(s);
}

/* ---- ranking, paging, snippets ----------------------------------------------- */

static void
test_rank_and_pages(void)
{
	store *s = t_db_open();
	if (s == NULL)
		return;
	/* body-only match, recent */
	int64_t body = add(s, "週刊まとめ", "今週は駆逐艦の進水式があった。", STATUS_PUBLISHED,
	    NOW - DAY);
	/* title match, same age: title outweighs body */
	int64_t title = add(s, "駆逐艦の進水式", "今週の進水式について。", STATUS_PUBLISHED,
	    NOW - DAY);
	arena *a = arena_new(0);
	struct store_hit *h;
	size_t n;
	int64_t total;
	T_CHECK(store_search_sorted(s, "駆逐艦", SEARCH_RELEVANCE, NOW, 0, 10, a,
	    &h, &n, &total) == STORE_OK);
	T_CHECK(n == 2 && total == 2);
	if (n == 2) {
		T_CHECK(h[0].article.id == title && h[1].article.id == body);
		T_CHECK(h[0].score <= h[1].score);
	}

	/* same text, different age: the newer ranks first */
	int64_t old = add(s, "哨戒機の配備", "哨戒機を配備した。", STATUS_PUBLISHED,
	    NOW - 400 * DAY);
	int64_t fresh = add(s, "哨戒機の配備", "哨戒機を配備した。", STATUS_PUBLISHED,
	    NOW - DAY);
	T_CHECK(store_search_sorted(s, "哨戒機", SEARCH_RELEVANCE, NOW, 0, 10, a,
	    &h, &n, &total) == STORE_OK);
	T_CHECK(n == 2 && h[0].article.id == fresh && h[1].article.id == old);

	/* paging: 25 matches, pages of 10 */
	for (int i = 0; i < 23; i++)
		add(s, "輸送機", "輸送機の記事", STATUS_PUBLISHED, NOW - (i + 2) * DAY);
	int64_t seen[32];
	size_t nseen = 0;
	for (int64_t off = 0; off < 30; off += 10) {
		T_CHECK(store_search(s, "輸送機", NOW, off, 10, a, &h, &n, &total) ==
		    STORE_OK);
		T_CHECK(total == 23);
		T_CHECK(n == (size_t)(off < 20 ? 10 : 3));
		for (size_t i = 0; i < n && nseen < 32; i++)
			seen[nseen++] = h[i].article.id;
	}
	T_CHECK(nseen == 23);
	for (size_t i = 0; i < nseen; i++)
		for (size_t j = i + 1; j < nseen; j++)
			T_CHECK(seen[i] != seen[j]);
	/* past the end: no rows, the total still right */
	T_CHECK(store_search(s, "輸送機", NOW, 100, 10, a, &h, &n, &total) ==
	    STORE_OK);
	T_CHECK(n == 0 && total == 23);
	/* just counting */
	T_CHECK(store_search(s, "輸送機", NOW, 0, 0, a, &h, &n, &total) ==
	    STORE_OK);
	T_CHECK(n == 0 && total == 23);
	arena_free(a);
	db_close(s);
}

/* A post's date and id, sorted newest first (the listings' order). */
struct dated {
	int64_t at, id;
};

static int
dated_cmp(const void *a, const void *b)
{
	const struct dated *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? 1 : -1;
	return (x->id < y->id) - (x->id > y->id);
}

/* Pages of 3 of q, newest first, concatenated, must be exactly want[]
 * (sorted newest first); best first, the same set with no repeat. */
static void
order_pages(store *s, const char *q, struct dated *want, size_t nwant)
{
	arena *a = arena_new(0);
	struct store_hit *h;
	size_t n;
	int64_t total;
	qsort(want, nwant, sizeof(*want), dated_cmp);
	for (int sort = 0; sort < SEARCH__MAX; sort++) {
		int64_t seen[256];
		size_t nseen = 0;
		for (int64_t off = 0; off < (int64_t)nwant + 3; off += 3) {
			T_CHECK(store_search_sorted(s, q, (enum store_search_sort)sort,
			    NOW, off, 3, a, &h, &n, &total) == STORE_OK);
			T_CHECK(total == (int64_t)nwant);
			for (size_t i = 0; i < n && nseen < 256; i++)
				seen[nseen++] = h[i].article.id;
		}
		T_CHECK(nseen == nwant);
		for (size_t i = 0; i < nseen && i < nwant; i++) {
			if (sort == SEARCH_NEWEST)
				T_CHECK(seen[i] == want[i].id);
			size_t k = 0;
			while (k < nwant && want[k].id != seen[i])
				k++;
			T_CHECK(k < nwant);
			for (size_t j = i + 1; j < nseen; j++)
				T_CHECK(seen[i] != seen[j]);
		}
	}
	arena_free(a);
}

/*
 * Newest first by default, best first when asked; the sort is checked;
 * the count leaves out what readers cannot see; pages in either order are
 * slices of one order. The sizes make each way of building a newest-first
 * page run: the walk through the listing index (a broad query, an early
 * page), the probe (a deep page, or few matches), and the walk giving up
 * for the probe (the newest posts do not match).
 */
static void
test_order(void)
{
	store *s = t_db_open();
	if (s == NULL)
		return;
	/* ids out of date order: a backdated post added last, and a tie */
	int64_t titled = add(s, "巡洋艦の話", "本文。", STATUS_PUBLISHED,
	    NOW - 10 * DAY);
	int64_t recent = add(s, "週報", "巡洋艦が寄港した。", STATUS_PUBLISHED,
	    NOW - 2 * DAY);
	int64_t tie = add(s, "週報", "巡洋艦の模型。", STATUS_PUBLISHED,
	    NOW - 2 * DAY);
	int64_t back = add(s, "週報", "巡洋艦の写真。", STATUS_PUBLISHED,
	    NOW - 5 * DAY);
	/* indexed but not shown: scheduled, future, a page; and a draft */
	add(s, "巡洋艦", "巡洋艦", STATUS_SCHEDULED, NOW + DAY);
	add(s, "巡洋艦", "巡洋艦", STATUS_PUBLISHED, NOW + DAY);
	add(s, "巡洋艦", "巡洋艦", STATUS_DRAFT, NOW - DAY);
	struct store_article pg = {
		.kind = KIND_PAGE, .title = "巡洋艦", .slug = "junyokan",
		.body = "巡洋艦", .body_format = FORMAT_MARKDOWN,
		.body_html = "", .body_text = "巡洋艦",
		.status = STATUS_PUBLISHED, .published_at = NOW - DAY,
		.updated_at = NOW - DAY,
	};
	T_CHECK(store_article_add(s, &pg) == STORE_OK);

	arena *a = arena_new(0);
	struct store_hit *h;
	size_t n;
	int64_t total;
	T_CHECK(store_search(s, "巡洋艦", NOW, 0, 10, a, &h, &n, &total) ==
	    STORE_OK);
	T_CHECK(n == 4 && total == 4);
	if (n == 4) {
		T_CHECK(h[0].article.id == tie && h[1].article.id == recent);
		T_CHECK(h[2].article.id == back && h[3].article.id == titled);
	}
	T_CHECK(store_search_sorted(s, "巡洋艦", SEARCH_NEWEST, NOW, 0, 10, a,
	    &h, &n, &total) == STORE_OK);
	T_CHECK(n == 4 && total == 4 && h[0].article.id == tie);
	/* best first: the title match before the newer body matches */
	T_CHECK(store_search_sorted(s, "巡洋艦", SEARCH_RELEVANCE, NOW, 0, 10, a,
	    &h, &n, &total) == STORE_OK);
	T_CHECK(n == 4 && total == 4 && h[0].article.id == titled);
	/* an order that is none */
	T_CHECK(store_search_sorted(s, "巡洋艦", SEARCH__MAX, NOW, 0, 10, a,
	    &h, &n, &total) == STORE_INVALID);
	T_CHECK(n == 0 && total == 0);

	/* 60 posts of 駆逐 interleaved with 60 without, ids shuffled
	 * against dates: the walk (early pages), the probe (deep ones) */
	struct dated want[64];
	for (int i = 0; i < 60; i++) {
		int64_t at = NOW - 20 * DAY + (int64_t)((i * 37) % 60) * 7200;
		want[i] = (struct dated){at, add(s, "駆逐の話", "駆逐の記事",
		    STATUS_PUBLISHED, at)};
		add(s, "別の話", "関係のない記事", STATUS_PUBLISHED, at - 3600);
	}
	/* one pair on the same second: id breaks the tie */
	int64_t twin = add(s, "駆逐の話", "駆逐", STATUS_PUBLISHED, want[7].at);
	want[60] = (struct dated){want[7].at, twin};
	order_pages(s, "駆逐", want, 61);

	/* 15 old posts of 給油 under 100 newer ones without: the walk gives
	 * up for the probe (and for 駆逐 now too) */
	struct dated few[16];
	for (int i = 0; i < 15; i++) {
		int64_t at = NOW - 40 * DAY + (int64_t)((i * 7) % 15) * 3600;
		few[i] = (struct dated){at, add(s, "給油の話", "給油の記事",
		    STATUS_PUBLISHED, at)};
	}
	for (int i = 0; i < 100; i++)
		add(s, "別の話", "新しい記事", STATUS_PUBLISHED, NOW - 1000 - i);
	order_pages(s, "給油", few, 15);
	order_pages(s, "駆逐", want, 61);
	arena_free(a);
	db_close(s);
}

/*
 * Newest first counts to STORE_SEARCH_COUNT_MAX and then says "more";
 * best first ranks the newest (by id) STORE_SEARCH_COUNT_MAX + 1. The count leaves out the hidden matches
 * right at the limit; pages end at the limit; and a post with the lowest
 * id but the newest date (below the rowid ranges the count needed) still
 * comes first.
 */
static void
test_count_cap(void)
{
	store *s = t_db_open();
	if (s == NULL)
		return;
	int64_t first = add(s, "掃海の話", "掃海", STATUS_PUBLISHED, NOW - 1);
	for (int i = 0; i < 3; i++)
		add(s, "掃海", "掃海", STATUS_SCHEDULED, NOW + DAY);
	for (int i = 1; i < STORE_SEARCH_COUNT_MAX; i++)
		add(s, "掃海の話", "掃海", STATUS_PUBLISHED, NOW - 100 - i);
	arena *a = arena_new(0);
	struct store_hit *h;
	size_t n;
	int64_t total;
	/* exactly the most counted, with hidden matches above it */
	T_CHECK(store_search(s, "掃海", NOW, 0, 10, a, &h, &n, &total) ==
	    STORE_OK);
	T_CHECK(total == STORE_SEARCH_COUNT_MAX && n == 10);
	T_CHECK(n > 0 && h[0].article.id == first);
	T_CHECK(store_search(s, "掃海", NOW, STORE_SEARCH_COUNT_MAX - 4, 10, a,
	    &h, &n, &total) == STORE_OK);
	T_CHECK(total == STORE_SEARCH_COUNT_MAX && n == 4);
	/* 102 more: "more than", the pages still end at the most counted;
	 * the count is reached before the ranges read reach the first post
	 * (in test builds, whose ranges are narrow) */
	int64_t last = add(s, "掃海の話", "掃海", STATUS_PUBLISHED, NOW - 50);
	int64_t extra = add(s, "掃海の話", "掃海", STATUS_PUBLISHED, NOW - 60);
	for (int i = 0; i < 100; i++)
		add(s, "掃海の話", "掃海", STATUS_PUBLISHED, NOW - 5000 - i);
	T_CHECK(store_search(s, "掃海", NOW, 0, 10, a, &h, &n, &total) ==
	    STORE_OK);
	T_CHECK(total == STORE_SEARCH_COUNT_MAX + 1 && n == 10);
	T_CHECK(n > 2 && h[0].article.id == first && h[1].article.id == last &&
	    h[2].article.id == extra);
	T_CHECK(store_search(s, "掃海", NOW, STORE_SEARCH_COUNT_MAX - 4, 10, a,
	    &h, &n, &total) == STORE_OK);
	T_CHECK(total == STORE_SEARCH_COUNT_MAX + 1 && n == 4);
	T_CHECK(store_search(s, "掃海", NOW, STORE_SEARCH_COUNT_MAX, 10, a,
	    &h, &n, &total) == STORE_OK);
	T_CHECK(total == STORE_SEARCH_COUNT_MAX + 1 && n == 0);
	/* best first ranks the newest COUNT_MAX + 1 matches (by id): the
	 * same count, the same end of the pages */
	T_CHECK(store_search_sorted(s, "掃海", SEARCH_RELEVANCE, NOW, 0, 10, a,
	    &h, &n, &total) == STORE_OK);
	T_CHECK(total == STORE_SEARCH_COUNT_MAX + 1 && n == 10);
	/* first, the lowest id, is not among them (it would lead: the same
	 * text, the newest date) */
	for (size_t i = 0; i < n; i++)
		T_CHECK(h[i].article.id != first);
	T_CHECK(store_search_sorted(s, "掃海", SEARCH_RELEVANCE, NOW,
	    STORE_SEARCH_COUNT_MAX - 4, 10, a, &h, &n, &total) == STORE_OK);
	T_CHECK(total == STORE_SEARCH_COUNT_MAX + 1 && n == 4);
	arena_free(a);
	db_close(s);
}

/* The mark of span i of hit h's snippet, as text. */
static const char *
mark(const struct store_hit *h, size_t i)
{
	static char res[256];
	snprintf(res, sizeof(res), "%.*s", (int)h->marks[i].len,
	    h->snippet + h->marks[i].off);
	return res;
}

static void
test_snippets(void)
{
	store *s = t_db_open();
	if (s == NULL)
		return;
	char body[4096] = "";
	for (int i = 0; i < 30; i++)
		strcat(body, "前置きの文章です。");
	strcat(body, "\nここでＮＡＴＯとF-35Aの話になる。<b>太字</b>ではない。");
	for (int i = 0; i < 30; i++)
		strcat(body, "後書きの文章です。");
	add(s, "NATOの話題", body, STATUS_PUBLISHED, NOW - DAY);
	arena *a = arena_new(0);
	struct store_hit *h;
	size_t n;
	int64_t total;
	T_CHECK(store_search(s, "nato f-35", NOW, 0, 10, a, &h, &n, &total) ==
	    STORE_OK);
	T_CHECK(n == 1);
	if (n == 1) {
		/* starts at the line with the match, ends cut with … */
		T_CHECK(strncmp(h->snippet, "…ここで", strlen("…ここで")) == 0);
		T_CHECK(strstr(h->snippet, "…") != NULL);
		size_t len = strlen(h->snippet);
		T_CHECK(len > 3 && strcmp(h->snippet + len - 3, "…") == 0);
		T_CHECK(h->nmarks == 2);
		if (h->nmarks == 2) {
			T_STREQ(mark(h, 0), "ＮＡＴＯ");
			T_STREQ(mark(h, 1), "F-35A");
		}
		/* markup in the text stays text: escaping is the page's job */
		T_CHECK(strstr(h->snippet, "<b>太字</b>") != NULL);
		T_CHECK(h->ntitle_marks == 1);
		if (h->ntitle_marks == 1)
			T_CHECK(h->title_marks[0].off == 0 &&
			    h->title_marks[0].len == 4);
	}
	/* a title-only match: the snippet is the start of the body */
	T_CHECK(store_search(s, "話題", NOW, 0, 10, a, &h, &n, &total) ==
	    STORE_OK);
	T_CHECK(n == 1);
	if (n == 1) {
		T_CHECK(strncmp(h->snippet, "前置き", strlen("前置き")) == 0);
		T_CHECK(h->nmarks == 0);
	}
	/* the verbatim shortcut: a later line with the word in capitals */
	char late[4096] = "";
	for (int i = 0; i < 40; i++)
		strcat(late, "関係のない段落です。\n");
	strcat(late, "最後の段落でNATO軍が動いた。");
	int64_t lid = add(s, "無題", late, STATUS_PUBLISHED, NOW - 2 * DAY);
	T_CHECK(store_search(s, "nato軍", NOW, 0, 10, a, &h, &n, &total) ==
	    STORE_OK);
	T_CHECK(n == 1 && h->article.id == lid);
	if (n == 1) {
		T_CHECK(strncmp(h->snippet, "…最後の段落", strlen("…最後の段落")) == 0);
		T_CHECK(h->nmarks == 1);
		if (h->nmarks == 1)
			T_STREQ(mark(h, 0), "NATO軍");
	}
	/* ... and a verbatim occurrence that is no match (inside a word):
	 * the snippet falls back to the start, unmarked */
	int64_t wid = add(s, "XYZZYの会議", "冒頭の文。\n語中のfooxyzzyは別の語。",
	    STATUS_PUBLISHED, NOW - 3 * DAY);
	T_CHECK(store_search(s, "xyzzy", NOW, 0, 10, a, &h, &n, &total) ==
	    STORE_OK);
	T_CHECK(n == 1 && h->article.id == wid);
	if (n == 1) {
		T_CHECK(strncmp(h->snippet, "冒頭の文。", strlen("冒頭の文。")) == 0);
		T_CHECK(h->nmarks == 0 && h->ntitle_marks == 1);
	}
	/* overlapping phrases merge into one mark */
	T_CHECK(store_search(s, "前置き 置きの", NOW, 0, 10, a, &h, &n, &total) ==
	    STORE_OK);
	T_CHECK(n == 1);
	if (n == 1 && h->nmarks > 0)
		T_STREQ(mark(h, 0), "前置きの");
	arena_free(a);
	db_close(s);
}

static void
test_odd_queries(void)
{
	store *s = t_db_open();
	if (s == NULL)
		return;
	add(s, "記事", "本文 (括弧) \"引用\" OR AND NOT NEAR * ^", STATUS_PUBLISHED,
	    NOW - DAY);
	static const char *const none[] = {
		"", "   ", "、。！？", "😀👍🏽", "\"", "***", "()", "^-", "\xE3\x80\x80",
	};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		T_STREQ(found(s, none[i], NOW), "");
	/* FTS5 syntax is matched as words, never interpreted */
	T_STREQ(found(s, "OR", NOW), "1");
	T_STREQ(found(s, "\"引用\" OR", NOW), "1");
	T_STREQ(found(s, "NEAR(本文 括弧)", NOW), "1");
	T_STREQ(found(s, "body:本文", NOW), "");
	T_STREQ(found(s, "ab\xFF", NOW), "(invalid value)");
	/* long queries are bounded, not refused */
	char big[8192] = "";
	for (int i = 0; i < 600; i++)
		strcat(big, "本文 ");
	T_STREQ(found(s, big, NOW), "1");
	db_close(s);
}

/* ---- recall ------------------------------------------------------------------------ */

/* CJK as the test sees it, from the Unicode blocks, not from ngram.c. */
static bool
r_cjk(int32_t c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3041 && c <= 0x3096) ||
	    (c >= 0x30A1 && c <= 0x30FA) || c == 0x30FC || c == 0x3005;
}

/* Letters, digits and marks that are not CJK: what words are made of. */
static bool
r_wordch(int32_t c)
{
	if (r_cjk(c))
		return false;
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
	case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME:
		return true;
	default:
		return false;
	}
}

/* One visible post's text, NFKC-casefolded whole by text_nfkc_fold. */
struct r_doc {
	int64_t id;
	buf title, body;
};

static uint64_t r_state = RECALL_SEED;

static uint64_t
r_rand(void)
{
	r_state ^= r_state << 13;
	r_state ^= r_state >> 7;
	r_state ^= r_state << 17;
	return r_state;
}

/* The code point before byte i of s (0 at the start). */
static int32_t
r_prev_cp(const char *s, size_t i)
{
	if (i == 0)
		return 0;
	size_t j = i - 1;
	while (j > 0 && ((unsigned char)s[j] & 0xC0) == 0x80)
		j--;
	utf8proc_int32_t c = 0;
	utf8proc_iterate((const utf8proc_uint8_t *)s + j, (utf8proc_ssize_t)(i - j),
	    &c);
	return c;
}

/* Brute force: does text t contain q (a CJK substring, or a word prefix
 * that must start a word)? memmem, plus a look at the code point before. */
static bool
r_has(const buf *t, const char *q, bool word)
{
	size_t n = strlen(q);
	const char *p = t->ptr, *end = t->ptr + t->len;
	if (t->len == 0)
		return false;
	while (p < end && (p = memmem(p, (size_t)(end - p), q, n)) != NULL) {
		if (!word || !r_wordch(r_prev_cp(t->ptr, (size_t)(p - t->ptr))))
			return true;
		p++;
	}
	return false;
}

/* Picks a random query from the corpus: a run of 1..4 CJK characters, or
 * a whole ASCII word or a prefix of one. false when the spot has none. */
static bool
r_pick(const struct r_doc *d, bool cjk, char *out, size_t cap)
{
	const buf *t = r_rand() % 4 == 0 ? &d->title : &d->body;
	if (t->len == 0)
		return false;
	size_t i = r_rand() % t->len;
	while (i > 0 && ((unsigned char)t->ptr[i] & 0xC0) == 0x80)
		i--;
	const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)t->ptr;
	utf8proc_int32_t c;
	if (cjk) {
		size_t want = 1 + r_rand() % 4, got = 0, j = i;
		while (got < want && j < t->len) {
			utf8proc_ssize_t k = utf8proc_iterate(s + j,
			    (utf8proc_ssize_t)(t->len - j), &c);
			if (k <= 0 || !r_cjk(c))
				break;
			j += (size_t)k;
			got++;
		}
		if (got != want || j - i >= cap)
			return false;
		memcpy(out, t->ptr + i, j - i);
		out[j - i] = '\0';
		return true;
	}
	/* words: ASCII letters/digits starting a word */
	if (!((t->ptr[i] >= 'a' && t->ptr[i] <= 'z') ||
	    (t->ptr[i] >= '0' && t->ptr[i] <= '9')) ||
	    r_wordch(r_prev_cp(t->ptr, i)))
		return false;
	size_t j = i;
	while (j < t->len && ((t->ptr[j] >= 'a' && t->ptr[j] <= 'z') ||
	    (t->ptr[j] >= '0' && t->ptr[j] <= '9')))
		j++;
	/* the whole word must be plain ASCII alnum up to a non-word char */
	if (j < t->len) {
		utf8proc_iterate(s + j, (utf8proc_ssize_t)(t->len - j), &c);
		if (r_wordch(c))
			return false;
	}
	size_t len = j - i;
	if (r_rand() % 2)
		len = 1 + r_rand() % len; /* a prefix */
	if (len >= cap)
		return false;
	memcpy(out, t->ptr + i, len);
	out[len] = '\0';
	return true;
}

/* Compares store_search's whole answer for q (terms ANDed) with the brute
 * force over docs (which are in listing order, newest first): the set,
 * the total, the first page of ten in that order (the walk through the
 * listing index that broad queries take) and, best first, the same set
 * and total. Returns the number of hits compared; prints and fails on a
 * difference. */
static size_t
r_compare(store *s, const struct r_doc *docs, size_t ndocs, char **terms,
    const bool *word, size_t nterms, const char *q)
{
	arena *a = arena_new(0);
	struct store_hit *h;
	size_t n = 0;
	int64_t total = 0;
	enum store_err e = store_search(s, q, NOW, 0, 100000, a, &h, &n, &total);
	T_CHECK(e == STORE_OK);
	T_CHECK(total == (int64_t)n);
	bool *got = calloc(ndocs, sizeof(*got));
	bool *match = calloc(ndocs, sizeof(*match));
	size_t want = 0, diff = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		while (k < ndocs && docs[k].id != h[i].article.id)
			k++;
		if (k == ndocs) {
			printf("recall %s: hit %lld is not a visible post\n", q,
			    (long long)h[i].article.id);
			diff++;
			continue;
		}
		got[k] = true;
	}
	for (size_t k = 0; k < ndocs; k++) {
		bool all = true;
		for (size_t t = 0; t < nterms && all; t++)
			all = r_has(&docs[k].title, terms[t], word[t]) ||
			    r_has(&docs[k].body, terms[t], word[t]);
		want += all;
		match[k] = all;
		if (all != got[k]) {
			if (diff < 5)
				printf("recall [%s]: article %lld %s by the index,"
				    " %s by brute force\n", q,
				    (long long)docs[k].id,
				    got[k] ? "found" : "missed",
				    all ? "found" : "not found");
			diff++;
		}
	}
	T_CHECK(diff == 0);
	T_CHECK(want == n);

	/* the first page, newest first: the first matches in listing order */
	size_t n1 = 0;
	int64_t total1 = -1;
	T_CHECK(store_search(s, q, NOW, 0, 10, a, &h, &n1, &total1) ==
	    STORE_OK);
	T_CHECK(total1 == (int64_t)want && n1 == (want < 10 ? want : 10));
	for (size_t k = 0, i = 0; k < ndocs && i < n1; k++)
		if (match[k]) {
			if (h[i].article.id != docs[k].id && diff++ < 5)
				printf("recall [%s]: first page, hit %zu is %lld,"
				    " not %lld\n", q, i,
				    (long long)h[i].article.id,
				    (long long)docs[k].id);
			i++;
		}

	/* best first: the same set, the same total */
	size_t nr = 0;
	int64_t totalr = -1;
	T_CHECK(store_search_sorted(s, q, SEARCH_RELEVANCE, NOW, 0, 100000, a,
	    &h, &nr, &totalr) == STORE_OK);
	T_CHECK(totalr == (int64_t)want && nr == want);
	for (size_t i = 0; i < nr; i++) {
		size_t k = 0;
		while (k < ndocs && docs[k].id != h[i].article.id)
			k++;
		if ((k == ndocs || !match[k]) && diff++ < 5)
			printf("recall [%s]: best first found %lld\n", q,
			    (long long)h[i].article.id);
	}
	T_CHECK(diff == 0);
	free(match);
	free(got);
	arena_free(a);
	return n;
}

static void
test_recall(void)
{
	store *s = t_db_open();
	if (s == NULL)
		return;
	buf err;
	buf_init(&err, 0);
	struct site_demo_opts o = {RECALL_ARTICLES, 0, 77, NOW, false};
	T_CHECK(site_demo(s, &o, &err));
	buf_free(&err);

	/* the visible posts and their text, through the store's own reads */
	arena *a = arena_new(0);
	struct store_article *list;
	size_t nlist = 0;
	int64_t total = 0;
	T_CHECK(store_articles_list(s, NULL, NOW, 0, 100000, a, &list, &nlist,
	    &total) == STORE_OK);
	struct r_doc *docs = calloc(nlist ? nlist : 1, sizeof(*docs));
	size_t chars = 0;
	for (size_t i = 0; i < nlist; i++) {
		struct store_article full;
		T_CHECK(store_article_get(s, list[i].id, NOW, a, &full) == STORE_OK);
		docs[i].id = full.id;
		buf_init(&docs[i].title, 0);
		buf_init(&docs[i].body, 0);
		T_CHECK(text_nfkc_fold(&docs[i].title, full.title,
		    strlen(full.title)));
		T_CHECK(text_nfkc_fold(&docs[i].body, full.body_text,
		    strlen(full.body_text)));
		chars += text_graphemes(docs[i].body.ptr ? docs[i].body.ptr : "",
		    docs[i].body.len);
	}

	size_t ncjk[5] = {0}, nword = 0, nprefix = 0, nand = 0, hits = 0;
	char q[256], q2[256], both[520];
	for (int tries = 0; tries < 20000 &&
	    ncjk[1] + ncjk[2] + ncjk[3] + ncjk[4] < 300; tries++) {
		if (!r_pick(&docs[r_rand() % nlist], true, q, sizeof(q)))
			continue;
		char *terms[1] = {q};
		bool w[1] = {false};
		hits += r_compare(s, docs, nlist, terms, w, 1, q);
		ncjk[text_graphemes(q, strlen(q))]++;
	}
	for (int tries = 0; tries < 50000 && nword + nprefix < 120; tries++) {
		if (!r_pick(&docs[r_rand() % nlist], false, q, sizeof(q)))
			continue;
		char *terms[1] = {q};
		bool w[1] = {true};
		hits += r_compare(s, docs, nlist, terms, w, 1, q);
		/* whole word or prefix: does some word go on after it? */
		bool longer = false;
		for (size_t k = 0; k < nlist && !longer; k++) {
			const buf *ts[2] = {&docs[k].title, &docs[k].body};
			for (int t = 0; t < 2 && !longer; t++) {
				const char *p = ts[t]->ptr;
				size_t qn = strlen(q);
				while (p && (p = memmem(p, ts[t]->len -
				    (size_t)(p - ts[t]->ptr), q, qn)) != NULL) {
					size_t at = (size_t)(p - ts[t]->ptr) + qn;
					if (at < ts[t]->len && ((ts[t]->ptr[at] >= 'a' &&
					    ts[t]->ptr[at] <= 'z') ||
					    (ts[t]->ptr[at] >= '0' &&
						ts[t]->ptr[at] <= '9')))
						longer = true;
					p++;
				}
			}
		}
		longer ? nprefix++ : nword++;
	}
	/* two terms, space-separated: AND */
	for (int tries = 0; tries < 20000 && nand < 60; tries++) {
		bool w1 = r_rand() % 3 == 0, w2 = r_rand() % 3 == 0;
		if (!r_pick(&docs[r_rand() % nlist], !w1, q, sizeof(q)) ||
		    !r_pick(&docs[r_rand() % nlist], !w2, q2, sizeof(q2)))
			continue;
		snprintf(both, sizeof(both), "%s %s", q, q2);
		char *terms[2] = {q, q2};
		bool w[2] = {w1, w2};
		hits += r_compare(s, docs, nlist, terms, w, 2, both);
		nand++;
	}
	printf("recall: %zu visible posts of %d (%zu characters of body text),"
	    " NFKC-casefolded whole and scanned with memmem;\n"
	    "  %zu CJK substrings (1 char: %zu, 2: %zu, 3: %zu, 4: %zu),"
	    " %zu whole Latin words, %zu Latin prefixes, %zu two-term ANDs;\n"
	    "  %zu hits compared, index == brute force for every query\n",
	    nlist, RECALL_ARTICLES, chars,
	    ncjk[1] + ncjk[2] + ncjk[3] + ncjk[4], ncjk[1], ncjk[2], ncjk[3],
	    ncjk[4], nword, nprefix, nand, hits);
	T_CHECK(ncjk[1] + ncjk[2] + ncjk[3] + ncjk[4] == 300);
	T_CHECK(nword + nprefix == 120);
	for (size_t i = 0; i < nlist; i++) {
		buf_free(&docs[i].title);
		buf_free(&docs[i].body);
	}
	free(docs);
	arena_free(a);
	db_close(s);
}

int
main(void)
{
	if (!t_tmpdir(t_dir, sizeof(t_dir), "search"))
		return 1;
	T_RUN(test_index_follows_writes);
	T_RUN(test_index_integrity);
	T_RUN(test_migration_rebuilds);
	T_RUN(test_scheduled_never_found);
	T_RUN(test_rank_and_pages);
	T_RUN(test_order);
	T_RUN(test_count_cap);
	T_RUN(test_snippets);
	T_RUN(test_odd_queries);
	T_RUN(test_recall);
	t_tmpdir_remove(t_dir);
	T_DONE();
}
