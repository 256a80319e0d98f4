/*
 * Received pings (site/pings.c, site/screen.c): the URL split that decides
 * whether a target is this site's, the text rules pings share with
 * comments, and the store's ping rows: one per article and source
 * whatever the type, updated in place, removed (or trashed when replies
 * hang below), comment_count kept exact.
 */
#include "../../src/site/site_int.h"
#include "t_db.h"

#define NOW ((int64_t)1700000000)

static void
test_url_parse(void)
{
	arena *a = arena_new(0);
	struct ping_url u;
	T_CHECK(ping_url_parse(a, "HTTP://Example.COM/articles/5?x=1#frag", &u));
	T_STREQ(u.scheme, "http");
	T_STREQ(u.host, "example.com");
	T_STREQ(u.path, "/articles/5");
	T_STREQ(u.query, "x=1");
	/* default ports vanish, others stay; empty path is "/" */
	T_CHECK(ping_url_parse(a, "https://example.com:443", &u));
	T_STREQ(u.host, "example.com");
	T_STREQ(u.path, "/");
	T_STREQ(u.query, "");
	T_CHECK(ping_url_parse(a, "http://example.com:80/a", &u));
	T_STREQ(u.host, "example.com");
	T_CHECK(ping_url_parse(a, "http://127.0.0.1:8080/a/b/", &u));
	T_STREQ(u.host, "127.0.0.1:8080");
	T_STREQ(u.path, "/a/b/");
	T_CHECK(ping_url_parse(a, "https://example.com:80/", &u));
	T_STREQ(u.host, "example.com:80");
	T_CHECK(ping_url_parse(a, "http://[::1]:8080/x", &u));
	T_STREQ(u.host, "[::1]:8080");
	T_CHECK(ping_url_parse(a, "http://example.com?p=4242", &u));
	T_STREQ(u.path, "/");
	T_STREQ(u.query, "p=4242");
	T_CHECK(ping_url_parse(a, "https://例え.jp/記事", &u));
	T_STREQ(u.host, "例え.jp");
	/* refused: other schemes, no host, credentials, bad ports, spaces,
	 * control bytes, invalid UTF-8, too long */
	static const char *const bad[] = {
		"", "ftp://example.com/", "javascript:alert(1)", "//example.com/",
		"http://", "http:///path", "http://user:pw@example.com/",
		"http://example.com@evil.test/", "http://example.com:/",
		"http://example.com:0/", "http://example.com:65536/",
		"http://example.com:8x/", "http://example.com:123456/",
		"http://exa mple.com/", "http://example.com/\x01",
		"http://example.com/\xff", "http://[::1/", "http://[::1]x/",
		"http://example.com\\@evil.test/", "mailto:a@example.com",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool ok = ping_url_parse(a, bad[i], &u);
		if (ok)
			printf("  accepted: %s\n", bad[i]);
		T_CHECK(!ok);
	}
	char *longu = arena_alloc(a, 2100);
	memcpy(longu, "http://example.com/", 19);
	memset(longu + 19, 'a', 2040);
	T_CHECK(!ping_url_parse(a, longu, &u));
	arena_free(a);
}

static void
test_screen_text(void)
{
	arena *a = arena_new(0);
	/* CRLF to LF, single line folds, U+3000 and spaces trimmed, NFC */
	T_STREQ(screen_text(a, " \xe3\x80\x80" "a\r\nb \xe3\x80\x80", true, NULL),
	    "a\nb");
	T_STREQ(screen_text(a, "a\r\nb\tc", false, NULL), "a b c");
	T_STREQ(screen_text(a, "e\xcc\x81", false, NULL), "\xc3\xa9");
	T_CHECK(screen_text(a, "bad\x01", false, NULL) == NULL);
	T_CHECK(screen_text(a, "bad\xff", true, NULL) == NULL);
	T_STREQ(screen_text(a, "", true, NULL), "");
	/* why: DEL, C1, noncharacters and a long run of marks */
	enum text_bad why = TEXT_GOOD;
	T_CHECK(screen_text(a, "a\x7f", true, &why) == NULL &&
	    why == TEXT_BAD_CONTROL);
	T_CHECK(screen_text(a, "a\xc2\x85", true, &why) == NULL &&
	    why == TEXT_BAD_CONTROL);
	T_CHECK(screen_text(a, "a\xef\xbf\xbf", true, &why) == NULL &&
	    why == TEXT_BAD_NONCHAR);
	buf m;
	buf_init(&m, 0);
	buf_putc(&m, 'a');
	for (int i = 0; i < 31; i++)
		buf_puts(&m, i % 2 ? "\xcc\x96" : "\xcc\x81");
	T_CHECK(screen_text(a, buf_cstr(&m), true, &why) == NULL &&
	    why == TEXT_BAD_MARKS);
	buf_free(&m);
	arena_free(a);
}

static int64_t
add_article(store *s, const char *slug)
{
	struct store_article art = {
		.kind = KIND_POST, .title = slug, .slug = slug, .body = "b",
		.body_format = FORMAT_MARKDOWN, .body_html = "<p>b</p>",
		.body_text = "b", .status = STATUS_PUBLISHED,
		.published_at = NOW - 100, .updated_at = NOW - 100,
		.comments_open = true, .legacy_id = "",
	};
	T_CHECK(store_article_add(s, &art) == STORE_OK);
	return art.id;
}

static int64_t
count_of(store *s, int64_t id)
{
	arena *a = arena_new(0);
	struct store_article art;
	int64_t n = -1;
	if (store_article_get_any(s, id, a, &art) == STORE_OK)
		n = art.comment_count;
	arena_free(a);
	return n;
}

static struct store_comment
ping(int64_t article, enum store_ctype type, const char *url,
    enum store_cstatus st)
{
	return (struct store_comment){
		.article_id = article, .type = type, .nickname = "blog",
		.email = "", .url = url, .ip = "192.0.2.1",
		.visitor_id = "ping:example.com", .body = "excerpt",
		.created_at = NOW, .status = st, .legacy_id = "",
		.pending_reason = "",
	};
}

static void
test_store_pings(void)
{
	store *s = t_db_open();
	T_CHECK(s != NULL);
	if (s == NULL)
		return;
	arena *a = arena_new(0);
	int64_t art = add_article(s, "one"), other = add_article(s, "two");
	const char *src = "https://blog.example/entry/1";

	struct store_comment c = ping(art, CTYPE_TRACKBACK, src, CSTATUS_APPROVED);
	T_CHECK(store_comment_ping_add(s, &c) == STORE_OK && c.id > 0);
	T_CHECK(count_of(s, art) == 1);
	/* the same source again, any type: refused, nothing written */
	struct store_comment d = ping(art, CTYPE_PINGBACK, src, CSTATUS_APPROVED);
	T_CHECK(store_comment_ping_add(s, &d) == STORE_CONFLICT);
	T_CHECK(count_of(s, art) == 1);
	/* another article may have a ping from it; a comment is no ping */
	struct store_comment e = ping(other, CTYPE_PINGBACK, src, CSTATUS_PENDING);
	T_CHECK(store_comment_ping_add(s, &e) == STORE_OK);
	T_CHECK(count_of(s, other) == 0);
	struct store_comment f = ping(art, CTYPE_COMMENT, src, CSTATUS_APPROVED);
	T_CHECK(store_comment_ping_add(s, &f) == STORE_INVALID);
	struct store_comment g = ping(art, CTYPE_PINGBACK, "", CSTATUS_APPROVED);
	T_CHECK(store_comment_ping_add(s, &g) == STORE_INVALID);

	struct store_comment got;
	T_CHECK(store_comment_ping_find(s, art, src, a, &got) == STORE_OK &&
	    got.id == c.id && got.type == CTYPE_TRACKBACK);
	T_CHECK(store_comment_ping_find(s, art, "https://blog.example/entry/2",
	    a, &got) == STORE_NOTFOUND);

	/* update: text and name, status kept; not for comments */
	T_CHECK(store_comment_ping_update(s, c.id, "新しい名前", "新しい抜粋") ==
	    STORE_OK);
	T_CHECK(store_comment_get(s, c.id, a, &got) == STORE_OK);
	T_STREQ(got.nickname, "新しい名前");
	T_STREQ(got.body, "新しい抜粋");
	T_CHECK(got.status == CSTATUS_APPROVED);
	struct store_comment reader = ping(art, CTYPE_COMMENT, "", CSTATUS_APPROVED);
	T_CHECK(store_comment_add(s, &reader) == STORE_OK);
	T_CHECK(count_of(s, art) == 2);
	T_CHECK(store_comment_ping_update(s, reader.id, "x", "y") ==
	    STORE_NOTFOUND);
	T_CHECK(store_comment_ping_delete(s, reader.id) == STORE_NOTFOUND);
	T_CHECK(store_comment_get(s, reader.id, a, &got) == STORE_OK);

	/* delete: gone, and comment_count follows */
	T_CHECK(store_comment_ping_delete(s, c.id) == STORE_OK);
	T_CHECK(store_comment_get(s, c.id, a, &got) == STORE_NOTFOUND);
	T_CHECK(count_of(s, art) == 1);
	T_CHECK(store_comment_ping_delete(s, c.id) == STORE_NOTFOUND);
	/* once gone, the source may ping again */
	struct store_comment h = ping(art, CTYPE_PINGBACK, src, CSTATUS_APPROVED);
	T_CHECK(store_comment_ping_add(s, &h) == STORE_OK);
	T_CHECK(count_of(s, art) == 2);
	/* a pending one goes without touching the count */
	T_CHECK(store_comment_ping_delete(s, e.id) == STORE_OK);
	T_CHECK(count_of(s, other) == 0);

	/* a ping with a reply under it (an import) is trashed, not deleted */
	struct store_comment reply = ping(art, CTYPE_COMMENT, "", CSTATUS_APPROVED);
	reply.parent_id = h.id;
	T_CHECK(store_comment_add(s, &reply) == STORE_OK);
	T_CHECK(count_of(s, art) == 3);
	T_CHECK(store_comment_ping_delete(s, h.id) == STORE_OK);
	T_CHECK(store_comment_get(s, h.id, a, &got) == STORE_OK &&
	    got.status == CSTATUS_TRASH);
	T_CHECK(count_of(s, art) == 2);

	arena_free(a);
	store_close(s);
}

int
main(void)
{
	if (!t_tmpdir(t_dir, sizeof(t_dir), "pingsrecv"))
		return 1;
	T_RUN(test_url_parse);
	T_RUN(test_screen_text);
	T_RUN(test_store_pings);
	t_tmpdir_remove(t_dir);
	T_DONE();
}
