/*
 * port/wxr_export.c and wxr_kiji.c: what the export writes for awkward
 * values (a "]]>" split over two CDATA sections, a carriage return
 * escaped, C0 controls dropped, bytes that are not UTF-8 (refused by the
 * store, but an older kiji's SQLite file may hold them) replaced, the
 * trash left out, addresses only when asked) and the `_kiji_*` meta read
 * back (sources JSON, like counts, pending reasons) — then the file goes
 * through the importer into a second store and comes back the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "src/content/content.h"
#include "src/port/port.h"
#include "src/store/store.h"
#include "t_db.h"

static int64_t
article(store *s, arena *a, const char *title, const char *body,
    enum store_status st)
{
	struct content_input in;
	struct content_result res;
	static const struct store_source src[] = {
		{"Source \"one\" & <two>", "https://example.org/a?b=1&c=2"},
		{"二つ目", "https://example.jp/x"},
	};
	memset(&in, 0, sizeof(in));
	in.title = title;
	in.body = body;
	in.body_format = FORMAT_MARKDOWN;
	in.status = STATUS_PUBLISHED;
	in.published_at = 1700000000;
	in.sources = src;
	in.nsources = 2;
	in.eyecatch = "https://img.example.org/e.jpg";
	in.eyecatch_credit = "出典: 架空通信";
	in.comments_open = true;
	in.now = 1700000000;
	T_CHECK(content_save(s, &in, a, &res) == CONTENT_OK);
	if (st == STATUS_TRASH)
		T_CHECK(content_trash(s, res.id, 1700000001) == CONTENT_OK);
	return res.id;
}

static int64_t
comment(store *s, int64_t art, int64_t parent, const char *body,
    const char *email, int64_t likes, enum store_cstatus st)
{
	struct store_comment c;
	memset(&c, 0, sizeof(c));
	c.article_id = art;
	c.parent_id = parent;
	c.nickname = "名無し";
	c.email = email;
	c.url = "";
	c.ip = "192.0.2.44";
	c.visitor_id = "v";
	c.body = body;
	c.created_at = 1700000100 + parent;
	c.status = st;
	c.like_count = likes;
	c.legacy_id = "";
	c.pending_reason = st == CSTATUS_PENDING ? "ngword" : "";
	T_CHECK(store_comment_add(s, &c) == STORE_OK);
	return c.id;
}

/* Writes body, which need not be UTF-8, into comment id of the SQLite
 * file t_db_last behind the store's back, as an older kiji could have. */
static void
legacy_bytes(int64_t id, const char *body)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	T_CHECK(sqlite3_open(t_db_last, &db) == SQLITE_OK);
	T_CHECK(sqlite3_prepare_v2(db, "UPDATE comments SET body = ?1"
	    " WHERE id = ?2", -1, &st, NULL) == SQLITE_OK);
	sqlite3_bind_text(st, 1, body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	T_CHECK(sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The export of s as a string (malloc'd). */
static char *
export(store *s, bool emails, size_t *n)
{
	struct port_export_opts o = {0};
	struct port_export_stats st;
	char *out = NULL;
	buf err;
	buf_init(&err, 1024);
	o.with_emails = emails;
	o.title = "t & t";
	o.description = "";
	o.base_url = "https://news.example/";
	o.lang = "ja";
	o.timezone = "Asia/Tokyo";
	o.generator = "kiji/test";
	FILE *f = open_memstream(&out, n);
	T_CHECK(port_wxr_export(s, &o, f, &st, &err));
	fclose(f);
	T_CHECK(st.posts == 1 && st.comments == 3);
	buf_free(&err);
	return out;
}

static void
test_export_values(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	size_t n;
	T_CHECK(s != NULL);
	if (s == NULL)
		return;
	int64_t art = article(s, a, "A ]]> B", "line one\r\nline ]]> two",
	    STATUS_PUBLISHED);
	article(s, a, "thrown away", "x", STATUS_TRASH);
	/* bytes that are not UTF-8 never get in, on either backend */
	struct store_comment bad = {.article_id = art, .nickname = "n",
	    .body = "top \xff end", .status = CSTATUS_APPROVED};
	T_CHECK(store_comment_add(s, &bad) == STORE_INVALID);
	int64_t c1 = comment(s, art, 0, "top ]]> \x01text\xef\xbf\xbd end",
	    "x@mail.example", 7, CSTATUS_APPROVED);
	if (!t_pg()) /* an older kiji's SQLite file may hold them: repaired */
		legacy_bytes(c1, "top ]]> \x01text\xff end");
	comment(s, art, c1, "reply", "", 0, CSTATUS_PENDING);
	comment(s, art, 0, "spam", "s@mail.example", 0, CSTATUS_SPAM);

	char *x = export(s, false, &n);
	T_CHECK(x != NULL && strlen(x) == n);
	/* CDATA split as WordPress does; CR escaped; no raw control byte */
	T_CHECK(strstr(x, "<title><![CDATA[A ]]]]><![CDATA[> B]]></title>"));
	T_CHECK(strstr(x, "line one&#13;\nline ]]&gt; two"));
	T_CHECK(strstr(x, "top ]]]]><![CDATA[> text\xef\xbf\xbd end"));
	T_CHECK(strchr(x, '\x01') == NULL && strchr(x, '\r') == NULL);
	T_CHECK(strstr(x, "thrown away") == NULL);
	T_CHECK(strstr(x, "mail.example") == NULL && strstr(x, "192.0.2.44") == NULL);
	T_CHECK(strstr(x, "<link>https://news.example/articles/"));
	T_CHECK(strstr(x, "<wp:comment_approved><![CDATA[spam]]>"));
	T_CHECK(strstr(x, "<wp:meta_value><![CDATA[7]]></wp:meta_value>"));
	T_CHECK(strstr(x, "<title>t &amp; t</title>"));
	free(x);

	x = export(s, true, &n);
	T_CHECK(strstr(x, "x@mail.example") && strstr(x, "192.0.2.44"));
	/* back in through the importer, into an empty store */
	char path[T_PATH_MAX];
	t_path(path, sizeof(path), "x.xml");
	FILE *f = fopen(path, "w");
	T_CHECK(f != NULL && fwrite(x, 1, n, f) == n);
	fclose(f);
	free(x);
	store *b = t_db_open();
	struct port_wxr_opts io = {.path = path, .now = 1700000500};
	struct port_wxr_stats ist;
	buf err;
	buf_init(&err, 1024);
	T_CHECK(port_wxr_import(b, &io, &ist, &err));
	T_CHECK(ist.posts.imported == 1 && ist.comments.imported == 3);
	struct store_article ar, br;
	int64_t bid = 0;
	T_CHECK(store_article_get_any(s, art, a, &ar) == STORE_OK);
	T_CHECK(store_article_by_legacy(b, KIND_POST, ar.guid, &bid) == STORE_OK);
	T_CHECK(bid > 0 && store_article_get_any(b, bid, a, &br) == STORE_OK);
	T_STREQ(br.title, ar.title);
	T_STREQ(br.body, ar.body);
	T_CHECK(br.body_format == FORMAT_MARKDOWN);
	T_STREQ(br.eyecatch_credit, ar.eyecatch_credit);
	T_CHECK(br.nsources == 2);
	if (br.nsources == 2) {
		T_STREQ(br.sources[0].title, "Source \"one\" & <two>");
		T_STREQ(br.sources[1].url, "https://example.jp/x");
	}
	struct store_comment *cs;
	size_t nc;
	T_CHECK(store_export_comments(b, bid, 0, 10, a, &cs, &nc) == STORE_OK);
	T_CHECK(nc == 3);
	if (nc == 3) {
		T_CHECK(cs[0].like_count == 7 && cs[1].parent_id == cs[0].id);
		T_STREQ(cs[0].email, "x@mail.example");
		T_STREQ(cs[1].pending_reason, "ngword");
		T_CHECK(cs[2].status == CSTATUS_SPAM);
		T_STREQ(cs[0].body, "top ]]> text\xef\xbf\xbd end");
	}
	/* again: nothing changes */
	T_CHECK(port_wxr_import(b, &io, &ist, &err));
	T_CHECK(ist.posts.unchanged == 1 && ist.comments.unchanged == 3);
	buf_free(&err);
	store_close(b);
	arena_free(a);
	store_close(s);
}

static void
test_kiji_meta(void)
{
	struct port_kiji_meta m = {0};
	struct port_kiji_cmeta cm = {0};
	struct content_input in;
	arena *a = arena_new(0);
	memset(&in, 0, sizeof(in));
	T_CHECK(port_kiji_meta_set(&m, "_kiji_sources",
	    "[{\"title\":\"a\",\"url\":\"u\"},3,{\"title\":1,\"url\":\"v\"},"
	    "{\"title\":\"b\",\"url\":\"w\"}]"));
	T_CHECK(!port_kiji_meta_set(&m, "_thumbnail_id", "1"));
	T_CHECK(!port_kiji_meta_set(&m, "_kiji_unknown", "1"));
	port_kiji_apply(&m, &in, a);
	T_CHECK(in.nsources == 2); /* what is not {title, url} is skipped */
	m.sources = "{not json";
	port_kiji_apply(&m, &in, a);
	T_CHECK(in.nsources == 0);
	T_CHECK(port_kiji_likes(&cm) == -1);
	T_CHECK(port_kiji_cmeta_set(&cm, "_kiji_like_count", "12"));
	T_CHECK(port_kiji_likes(&cm) == 12);
	cm.likes = "-3";
	T_CHECK(port_kiji_likes(&cm) == -1);
	cm.likes = "12x";
	T_CHECK(port_kiji_likes(&cm) == -1);
	cm.pending = "<b>";
	T_STREQ(port_kiji_pending(&cm), "");
	cm.pending = "first";
	T_STREQ(port_kiji_pending(&cm), "first");
	arena_free(a);
}

int
main(void)
{
	if (!t_tmpdir(t_dir, sizeof(t_dir), "wxrx"))
		return 1;
	T_RUN(test_export_values);
	T_RUN(test_kiji_meta);
	t_tmpdir_remove(t_dir);
	T_DONE();
}
