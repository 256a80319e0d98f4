/*
 * kiji migrate's store side (store_copy, copy.c), SQLite to SQLite: a site
 * with something in every table is copied into a new file; the copy's
 * counts and checksums equal the source's, its rows read back the same
 * through the store, search works on it, new ids continue past the copied
 * ones, a non-empty destination is refused and a changed copy is caught.
 */
#include "../../src/store/store.h"
#include "t_db.h"

#define NOW ((int64_t)1700000000)

/* What build_site made, to look for in the copy. */
struct site {
	int64_t user, post, page_child, page_parent, cat_child, cat_parent;
	int64_t comment, reply, job, last_change;
};

/* An article; its id. */
static int64_t
add_article(store *s, enum store_kind kind, const char *title,
    const char *slug, const char *text, int64_t category, int64_t author)
{
	struct store_source src[] = {{"出典", "https://example.org/src"}};
	struct store_article a = {
		.kind = kind, .title = title, .slug = slug, .body = text,
		.body_format = FORMAT_MARKDOWN, .body_html = "<p>x</p>",
		.body_text = text, .status = STATUS_PUBLISHED,
		.published_at = NOW - 3600, .updated_at = NOW - 3600,
		.comments_open = true, .category_id = category,
		.author_id = author, .sources = src, .nsources = 1,
	};
	T_CHECK(store_article_add(s, &a) == STORE_OK);
	return a.id;
}

/* A comment on article (parent 0: top level); its id. */
static int64_t
add_comment(store *s, int64_t article, int64_t parent, const char *body)
{
	struct store_comment c = {.article_id = article, .parent_id = parent,
	    .type = CTYPE_COMMENT, .nickname = "読者", .email = "r@example.org",
	    .ip = "192.0.2.7", .visitor_id = "v1", .body = body,
	    .created_at = NOW - 60, .status = CSTATUS_APPROVED};
	T_CHECK(store_comment_add(s, &c) == STORE_OK);
	return c.id;
}

/* A site with rows in every table the copy knows. A category and a page
 * get a parent made after them (a later id), as reparenting leaves it. */
static void
build_site(store *s, struct site *o)
{
	arena *a = arena_new(0);
	struct store_user u = {.name = "editor", .display_name = "編集者",
	    .role = ROLE_EDITOR, .pass_hash = "", .email = "e@example.org"};
	T_CHECK(store_user_add(s, &u, &o->user) == STORE_OK);
	T_CHECK(store_setting_set(s, "site.title", "試験") == STORE_OK);
	T_CHECK(store_setting_set(s, "secret.key", "00112233") == STORE_OK);

	struct store_category cc = {.slug = "child", .name = "子",
	    .description = ""};
	T_CHECK(store_category_add(s, &cc, &o->cat_child) == STORE_OK);
	struct store_category cp = {.slug = "parent", .name = "親",
	    .description = "d"};
	T_CHECK(store_category_add(s, &cp, &o->cat_parent) == STORE_OK);
	cc.id = o->cat_child;
	cc.parent_id = o->cat_parent;
	T_CHECK(store_category_update(s, &cc) == STORE_OK);
	struct store_tag tg = {.slug = "tag", .name = "タグ"};
	int64_t tag;
	T_CHECK(store_tag_add(s, &tg, &tag) == STORE_OK);

	o->post = add_article(s, KIND_POST, "輸送機の記事", "post",
	    "新しい輸送機が初飛行した", o->cat_child, o->user);
	o->page_child = add_article(s, KIND_PAGE, "子ページ", "child", "子",
	    0, 0);
	o->page_parent = add_article(s, KIND_PAGE, "親ページ", "parent", "親",
	    0, 0);
	struct store_article pc;
	T_CHECK(store_article_get_any(s, o->page_child, a, &pc) == STORE_OK);
	pc.parent_id = o->page_parent;
	T_CHECK(store_article_update(s, &pc) == STORE_OK);
	struct store_article post;
	T_CHECK(store_article_get_any(s, o->post, a, &post) == STORE_OK);
	struct store_tag tags[] = {{.id = tag}};
	post.tags = tags;
	post.ntags = 1;
	T_CHECK(store_article_update(s, &post) == STORE_OK);
	struct store_revision rv = {.article_id = o->post, .title = "t",
	    .body = "b", .body_format = FORMAT_MARKDOWN, .created_at = NOW,
	    .author_id = o->user, .meta = "{}"};
	T_CHECK(store_revision_add(s, &rv) == STORE_OK);

	o->comment = add_comment(s, o->post, 0, "最初のコメント");
	o->reply = add_comment(s, o->post, o->comment, "返信");
	int64_t likes = 0;
	T_CHECK(store_like(s, o->comment, "v2", &likes) == STORE_OK);
	T_CHECK(store_views_add(s, o->post, NOW, 5) == STORE_OK);
	T_CHECK(store_redirect_add(s, "/old", "/post") == STORE_OK);
	T_CHECK(store_session_add(s, "abcdef", o->user, "csrf", NOW,
	    "192.0.2.1", "ua") == STORE_OK);
	T_CHECK(store_login_fail(s, "editor|192.0.2.1", NOW, 0) == STORE_OK);
	struct store_ban b = {.kind = BAN_IP, .value = "198.51.100.1",
	    .note = "spam", .created_at = NOW};
	int64_t ban;
	T_CHECK(store_ban_add(s, &b, &ban) == STORE_OK);
	T_CHECK(store_media_put(s, "empty.png", "image/png", "", 0, NOW) ==
	    STORE_OK);
	T_CHECK(store_media_put(s, "bin.png", "image/png", "\0\x01\xff\0", 4,
	    NOW) == STORE_OK);
	T_CHECK(store_job_schedule(s, "publish", "{\"article\":1}", NOW + 60,
	    "publish:1", &o->job) == STORE_OK);
	T_CHECK(store_job_add(s, "ping", "{}", NOW) == STORE_OK);
	struct store_ping p;
	T_CHECK(store_ping_add(s, o->post, "https://b.example/", NOW, a, &p,
	    NULL) == STORE_OK);
	struct store_mail_sub in = {.comment_id = o->comment,
	    .blind = "b1ind", .sealed = "\0sealed", .sealed_len = 7,
	    .ip_hash = "iph", .now = NOW, .since = NOW - 10, .ask_max = 3};
	struct store_mail_sub_out mo;
	T_CHECK(store_mail_subscribe(s, &in, &mo) == STORE_OK);
	T_CHECK(store_mail_log(s, "owner", "owner:1", 0, NOW) == STORE_OK);
	T_CHECK(store_changes_last(s, &o->last_change) == STORE_OK);
	arena_free(a);
}

/* Copies from into a new store; the copy (NULL on failure). */
static store *
copy_new(store *from, buf *report)
{
	store *to = t_db_open();
	buf err;
	buf_init(&err, 0);
	T_CHECK(to != NULL);
	enum store_err e = store_copy(from, to, NULL, NULL, report, &err);
	if (e != STORE_OK)
		printf("store_copy: %s: %s\n%s", store_strerror(e),
		    buf_cstr(&err), buf_cstr(report));
	T_CHECK(e == STORE_OK);
	buf_free(&err);
	return to;
}

/* Lines of s that end in " ok". */
static int
oks(buf *report)
{
	int n = 0;
	for (const char *p = buf_cstr(report); (p = strstr(p, " ok\n")); p++)
		n++;
	return n;
}

/* Everything comes over: counts and checksums agree on all 23 tables,
 * and the rows read back through the store are the source's. */
static void
test_copy_site(void)
{
	arena *a = arena_new(0);
	struct site o = {0};
	buf report;
	buf_init(&report, 0);
	store *from = t_db_open();
	T_CHECK(from != NULL);
	build_site(from, &o);
	store *to = copy_new(from, &report);
	T_CHECK(oks(&report) == 23);
	T_CHECK(strstr(buf_cstr(&report), "MISMATCH") == NULL);
	T_CHECK(strstr(buf_cstr(&report), "media                         2 "
	    "         2") != NULL);

	struct store_article art;
	T_CHECK(store_article_get(to, o.post, NOW, a, &art) == STORE_OK);
	T_STREQ(art.title, "輸送機の記事");
	T_CHECK(art.ntags == 1 && art.nsources == 1);
	T_CHECK(art.comment_count == 2);
	T_STREQ(art.category_slug, "child");
	T_CHECK(store_article_get_any(to, o.page_child, a, &art) == STORE_OK);
	T_CHECK(art.parent_id == o.page_parent);
	struct store_category cat;
	T_CHECK(store_category_get(to, o.cat_child, a, &cat) == STORE_OK);
	T_CHECK(cat.parent_id == o.cat_parent);
	struct store_comment c;
	T_CHECK(store_comment_get(to, o.reply, a, &c) == STORE_OK);
	T_CHECK(c.parent_id == o.comment);
	T_STREQ(c.body, "返信");
	T_CHECK(store_comment_get(to, o.comment, a, &c) == STORE_OK);
	T_CHECK(c.like_count == 1);
	const char *type;
	const void *data;
	size_t n = 99;
	int64_t mtime;
	T_CHECK(store_media_get(to, "empty.png", a, &type, &data, &n,
	    &mtime) == STORE_OK);
	T_CHECK(n == 0);
	T_CHECK(store_media_get(to, "bin.png", a, &type, &data, &n,
	    &mtime) == STORE_OK);
	T_CHECK(n == 4 && memcmp(data, "\0\x01\xff\0", 4) == 0);
	struct store_media *ml;
	int64_t nm = 0;
	T_CHECK(store_media_list(to, 0, 10, a, &ml, &n, &nm) == STORE_OK);
	T_CHECK(n == 2);
	T_STREQ(ml[0].name, "bin.png"); /* upload order, newest first */
	buf v;
	buf_init(&v, 0);
	T_CHECK(store_setting_get(to, "secret.key", &v) == STORE_OK);
	T_STREQ(buf_cstr(&v), "00112233");
	buf_free(&v);
	struct store_job j;
	T_CHECK(store_job_get(to, o.job, a, &j) == STORE_OK);
	T_STREQ(j.kind, "publish");

	/* the change log kept its numbers; search found its articles */
	int64_t last = 0;
	T_CHECK(store_changes_last(to, &last) == STORE_OK);
	T_CHECK(last == o.last_change);
	struct store_hit *h;
	int64_t total = 0;
	T_CHECK(store_search(to, "輸送機", NOW, 0, 10, a, &h, &n, &total) ==
	    STORE_OK);
	T_CHECK(n == 1 && h[0].article.id == o.post);

	/* new rows continue past the copied ids */
	int64_t id = add_article(to, KIND_POST, "後", "after", "後", 0, 0);
	T_CHECK(id > o.page_parent);
	T_CHECK(add_comment(to, id, 0, "新") > o.reply);
	T_CHECK(store_changes_last(to, &last) == STORE_OK);
	T_CHECK(last > o.last_change);

	store_close(to);
	store_close(from);
	buf_free(&report);
	arena_free(a);
}

/* More rows than a page in tables keyed by text and by two columns:
 * every row arrives once. */
static void
test_copy_pages(void)
{
	buf report;
	buf_init(&report, 0);
	store *from = t_db_open();
	T_CHECK(from != NULL);
	int64_t art = add_article(from, KIND_POST, "t", "t", "t", 0, 0);
	T_CHECK(store_begin(from) == STORE_OK);
	for (int i = 0; i < 2345; i++) {
		char k[32];
		snprintf(k, sizeof k, "k%05d", i);
		T_CHECK(store_setting_set(from, k, k) == STORE_OK);
		T_CHECK(store_views_add(from, art, NOW + (int64_t)i * 86400,
		    i + 1) == STORE_OK);
	}
	T_CHECK(store_commit(from) == STORE_OK);
	store *to = copy_new(from, &report);
	T_CHECK(strstr(buf_cstr(&report), "settings                   2345 "
	    "      2345") != NULL);
	T_CHECK(strstr(buf_cstr(&report), "views_daily                2345 "
	    "      2345") != NULL);
	T_CHECK(oks(&report) == 23);
	buf v;
	buf_init(&v, 0);
	T_CHECK(store_setting_get(to, "k02344", &v) == STORE_OK);
	T_STREQ(buf_cstr(&v), "k02344");
	buf_free(&v);
	store_close(to);
	store_close(from);
	buf_free(&report);
}

/* A destination with anything in it is refused, its tables named, and
 * nothing is written to it. */
static void
test_copy_refuses_full(void)
{
	struct site o = {0};
	buf report, err;
	buf_init(&report, 0);
	buf_init(&err, 0);
	store *from = t_db_open(), *to = t_db_open();
	T_CHECK(from != NULL && to != NULL);
	build_site(from, &o);
	struct store_user u = {.name = "x", .display_name = "x",
	    .role = ROLE_ADMIN, .pass_hash = "", .email = ""};
	int64_t uid;
	T_CHECK(store_user_add(to, &u, &uid) == STORE_OK);
	T_CHECK(store_copy(from, to, NULL, NULL, &report, &err) ==
	    STORE_CONFLICT);
	T_CHECK(strstr(buf_cstr(&err), "not empty: users (1 rows)") != NULL);
	int64_t n = -1;
	T_CHECK(store_articles_count(to, NOW, &n) == STORE_OK && n == 0);
	T_CHECK(store_copy(from, from, NULL, NULL, &report, &err) ==
	    STORE_INVALID);
	store_close(to);
	store_close(from);
	buf_free(&report);
	buf_free(&err);
}

/* store_copy_verify: equal stores pass; one changed row is a MISMATCH
 * in its table only, and an error. */
static void
test_copy_verify(void)
{
	struct site o = {0};
	buf report, err;
	buf_init(&report, 0);
	buf_init(&err, 0);
	store *from = t_db_open();
	T_CHECK(from != NULL);
	build_site(from, &o);
	store *to = copy_new(from, &report);
	buf_reset(&report);
	T_CHECK(store_copy_verify(from, to, NULL, NULL, &report, &err) ==
	    STORE_OK);
	T_CHECK(oks(&report) == 23);
	T_CHECK(store_redirect_set(to, "/old", "/elsewhere") == STORE_OK);
	buf_reset(&report);
	T_CHECK(store_copy_verify(from, to, NULL, NULL, &report, &err) ==
	    STORE_ERROR);
	T_CHECK(strstr(buf_cstr(&report), "redirects                     1 "
	    "         1  ") != NULL);
	T_CHECK(strstr(buf_cstr(&report), "MISMATCH") != NULL);
	T_STREQ(buf_cstr(&err), "the copy differs from the source in: "
	    "redirects");
	store_close(to);
	store_close(from);
	buf_free(&report);
	buf_free(&err);
}

int
main(void)
{
	if (!t_tmpdir(t_dir, sizeof(t_dir), "kiji-copy"))
		return 1;
	T_RUN(test_copy_site);
	T_RUN(test_copy_pages);
	T_RUN(test_copy_refuses_full);
	T_RUN(test_copy_verify);
	t_tmpdir_remove(t_dir);
	T_DONE();
}
