/*
 * The editor area's own pieces that need no server: the revision line
 * diff (admin/diff.c: minimal edits, common head and tail, the
 * 2,000-line bound, line numbers) and the store calls behind the article
 * list and the media library (filters, authors, text search, media rows
 * with their sizes, a second upload of the same bytes).
 */
#include "../../src/admin/admin_int.h"
#include "t_db.h"

/* The diff as "+x -y  z" lines joined by '|', for comparing. */
static const char *
diff_str(arena *a, const char *x, const char *y)
{
	struct admin_diff_line *v;
	size_t n;
	if (!admin_diff_lines(a, x, y, &v, &n))
		return NULL;
	buf b;
	buf_init(&b, 1 << 20);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%c%s", i ? "|" : "", v[i].op == DIFF_ADD ? '+' :
		    v[i].op == DIFF_DEL ? '-' : ' ', v[i].text);
	const char *s = arena_strdup(a, buf_cstr(&b));
	buf_free(&b);
	return s;
}

static void
test_diff_basic(void)
{
	arena *a = arena_new(0);
	T_STREQ(diff_str(a, "a\nb\nc\n", "a\nb\nc\n"), " a| b| c");
	T_STREQ(diff_str(a, "a\nb\nc\n", "a\nx\nc\n"), " a|-b|+x| c");
	T_STREQ(diff_str(a, "", "a\nb"), "+a|+b");
	T_STREQ(diff_str(a, "a\nb", ""), "-a|-b");
	T_STREQ(diff_str(a, "", ""), "");
	/* a moved line is one delete and one add, the rest kept */
	T_STREQ(diff_str(a, "1\n2\n3\n4\n", "2\n3\n4\n1\n"), "-1| 2| 3| 4|+1");
	/* the longest common part is kept (not a greedy match) */
	T_STREQ(diff_str(a, "x\na\nb\nc\n", "a\nb\nc\nx\n"), "-x| a| b| c|+x");
	T_STREQ(diff_str(a, "日本\n語\n", "日本\n英語\n語\n"), " 日本|+英語| 語");
	/* a final newline or not is the same last line */
	T_STREQ(diff_str(a, "a\nb", "a\nb\n"), " a| b");
	arena_free(a);
}

static void
test_diff_line_numbers(void)
{
	arena *a = arena_new(0);
	struct admin_diff_line *v;
	size_t n;
	T_CHECK(admin_diff_lines(a, "a\nb\nc\nd\n", "a\nc\nd\ne\n", &v, &n));
	T_CHECK(n == 5);
	T_CHECK(v[0].op == DIFF_SAME && v[0].old_no == 1 && v[0].new_no == 1);
	T_CHECK(v[1].op == DIFF_DEL && v[1].old_no == 2 && v[1].new_no == 0);
	T_CHECK(v[2].op == DIFF_SAME && v[2].old_no == 3 && v[2].new_no == 2);
	T_CHECK(v[3].op == DIFF_SAME && v[3].old_no == 4 && v[3].new_no == 3);
	T_CHECK(v[4].op == DIFF_ADD && v[4].old_no == 0 && v[4].new_no == 4);
	arena_free(a);
}

/* Every line of both sides appears once, in order, and the kept lines
 * are a common subsequence as long as the true LCS. */
static void
test_diff_bounds(void)
{
	arena *a = arena_new(0);
	buf x, y;
	buf_init(&x, 1 << 20);
	buf_init(&y, 1 << 20);
	for (int i = 0; i < ADMIN_DIFF_MAX_LINES; i++) {
		buf_printf(&x, "line %d\n", i);
		buf_printf(&y, "line %d\n", i % 7 == 3 ? i + 100000 : i);
	}
	struct admin_diff_line *v;
	size_t n, same = 0, del = 0, add = 0;
	T_CHECK(admin_diff_lines(a, buf_cstr(&x), buf_cstr(&y), &v, &n));
	for (size_t i = 0; i < n; i++)
		*(v[i].op == DIFF_SAME ? &same : v[i].op == DIFF_DEL ? &del : &add) += 1;
	size_t changed = 0;
	for (int i = 0; i < ADMIN_DIFF_MAX_LINES; i++)
		changed += i % 7 == 3;
	T_CHECK(same == ADMIN_DIFF_MAX_LINES - changed);
	T_CHECK(del == changed && add == changed);
	/* one line more than the bound: not diffed at all */
	buf_puts(&x, "one too many\n");
	T_CHECK(!admin_diff_lines(a, buf_cstr(&x), buf_cstr(&y), &v, &n));
	T_CHECK(!admin_diff_lines(a, buf_cstr(&y), buf_cstr(&x), &v, &n));
	buf_free(&x);
	buf_free(&y);
	arena_free(a);
}

/* ---- store: the article list and the media library ---------------------- */

/* Adds an article straight through the store (the list only reads). */
static int64_t
add_article(store *s, const char *title, const char *slug,
    enum store_status st, enum store_kind kind, int64_t author, int64_t cat)
{
	struct store_article art = {
		.kind = kind, .title = title, .slug = slug, .body = "",
		.body_html = "", .body_text = "", .excerpt = "", .status = st,
		.published_at = st == STATUS_PUBLISHED ? 1000 : 0,
		.updated_at = 1000, .author_id = author, .category_id = cat,
		.eyecatch = "", .eyecatch_credit = "", .guid = "", .legacy_id = "",
	};
	return store_article_add(s, &art) == STORE_OK ? art.id : 0;
}

static void
test_store_article_list(void)
{
	store *s = t_db_open();
	T_CHECK(s != NULL);
	if (s == NULL)
		return;
	arena *a = arena_new(0);
	struct store_user u = {.name = "w1", .display_name = "W1",
	    .role = ROLE_AUTHOR, .pass_hash = "", .email = ""};
	int64_t u1 = 0, u2 = 0, cat = 0;
	T_CHECK(store_user_add(s, &u, &u1) == STORE_OK);
	u.name = "w2";
	T_CHECK(store_user_add(s, &u, &u2) == STORE_OK);
	struct store_category c = {.slug = "c", .name = "C", .description = ""};
	T_CHECK(store_category_add(s, &c, &cat) == STORE_OK);
	int64_t d1 = add_article(s, "Draft Alpha", "draft-alpha", STATUS_DRAFT,
	    KIND_POST, u1, cat);
	int64_t p1 = add_article(s, "Published Beta", "beta", STATUS_PUBLISHED,
	    KIND_POST, u2, 0);
	int64_t g1 = add_article(s, "会社案内ページ", "about", STATUS_PUBLISHED,
	    KIND_PAGE, u1, 0);
	int64_t t1 = add_article(s, "Trashed Gamma", "gamma", STATUS_DRAFT,
	    KIND_POST, u1, 0);
	T_CHECK(store_article_trash(s, t1, 2000) == STORE_OK);

	struct store_article *v;
	size_t n;
	int64_t total;
	struct store_article_query q = {.status = STATUS__MAX, .kind = KIND__MAX};
	T_CHECK(store_articles_admin(s, &q, 0, 10, a, &v, &n, &total) == STORE_OK);
	T_CHECK(n == 3 && total == 3); /* the trash only when asked */
	T_CHECK(n == 3 && v[0].id == g1 && v[1].id == p1 && v[2].id == d1);
	q.status = STATUS_TRASH;
	T_CHECK(store_articles_admin(s, &q, 0, 10, a, &v, &n, &total) == STORE_OK);
	T_CHECK(n == 1 && v[0].id == t1);
	q = (struct store_article_query){.status = STATUS__MAX, .kind = KIND_PAGE};
	T_CHECK(store_articles_admin(s, &q, 0, 10, a, &v, &n, &total) == STORE_OK);
	T_CHECK(n == 1 && v[0].id == g1);
	q = (struct store_article_query){.status = STATUS__MAX, .kind = KIND__MAX,
	    .author_id = u1};
	T_CHECK(store_articles_admin(s, &q, 0, 10, a, &v, &n, &total) == STORE_OK);
	T_CHECK(n == 2 && total == 2);
	q.category_id = cat;
	T_CHECK(store_articles_admin(s, &q, 0, 10, a, &v, &n, &total) == STORE_OK);
	T_CHECK(n == 1 && v[0].id == d1 && strcmp(v[0].category_name, "C") == 0);
	/* text: case folded ASCII, Japanese substrings, slugs; % is literal */
	q = (struct store_article_query){.status = STATUS__MAX, .kind = KIND__MAX,
	    .text = "ALPHA"};
	T_CHECK(store_articles_admin(s, &q, 0, 10, a, &v, &n, &total) == STORE_OK);
	T_CHECK(n == 1 && v[0].id == d1);
	q.text = "案内";
	T_CHECK(store_articles_admin(s, &q, 0, 10, a, &v, &n, &total) == STORE_OK);
	T_CHECK(n == 1 && v[0].id == g1);
	q.text = "beta";
	T_CHECK(store_articles_admin(s, &q, 0, 10, a, &v, &n, &total) == STORE_OK);
	T_CHECK(n == 1 && v[0].id == p1);
	q.text = "%";
	T_CHECK(store_articles_admin(s, &q, 0, 10, a, &v, &n, &total) == STORE_OK);
	T_CHECK(n == 0 && total == 0);
	/* pages */
	q = (struct store_article_query){.status = STATUS__MAX, .kind = KIND__MAX};
	T_CHECK(store_articles_admin(s, &q, 2, 2, a, &v, &n, &total) == STORE_OK);
	T_CHECK(n == 1 && total == 3 && v[0].id == d1);

	/* media: sizes, names, uploaders; the same name again keeps the row */
	struct store_media m = {.name = "0123456789abcdef0123456789abcdef.png",
	    .type = "image/png", .width = 640, .height = 480,
	    .filename = "写真.png", .uploader_id = u1, .mtime = 5};
	T_CHECK(store_media_add(s, &m, "PNGDATA", 7) == STORE_OK);
	struct store_media m2 = m;
	m2.name = "fedcba9876543210fedcba9876543210.jpg";
	m2.type = "image/jpeg";
	m2.filename = "";
	m2.uploader_id = 0;
	T_CHECK(store_media_add(s, &m2, "JPG", 3) == STORE_OK);
	struct store_media again = m;
	again.filename = "other.png";
	again.uploader_id = u2;
	T_CHECK(store_media_add(s, &again, "PNGDATA", 7) == STORE_OK);
	struct store_media got;
	T_CHECK(store_media_meta(s, m.name, a, &got) == STORE_OK);
	T_CHECK(got.width == 640 && got.height == 480);
	T_STREQ(got.filename, "写真.png");
	T_CHECK(got.uploader_id == u1);
	T_STREQ(got.uploader_name, "W1");
	T_CHECK(store_media_meta(s, "nope.png", a, &got) == STORE_NOTFOUND);
	T_CHECK(store_media_meta(s, "../x", a, &got) == STORE_NOTFOUND);
	struct store_media *ml;
	T_CHECK(store_media_list(s, 0, 10, a, &ml, &n, &total) == STORE_OK);
	T_CHECK(n == 2 && total == 2);
	T_CHECK(n == 2 && strcmp(ml[0].name, m2.name) == 0 &&
	    strcmp(ml[1].name, m.name) == 0); /* latest first */
	T_CHECK(store_media_list(s, 1, 10, a, &ml, &n, &total) == STORE_OK);
	T_CHECK(n == 1 && total == 2);
	const char *type;
	const void *data;
	size_t len;
	int64_t mtime;
	T_CHECK(store_media_get(s, m.name, a, &type, &data, &len, &mtime) ==
	    STORE_OK);
	T_CHECK(len == 7 && memcmp(data, "PNGDATA", 7) == 0);
	struct store_media bad = m;
	bad.name = "a b.png";
	T_CHECK(store_media_add(s, &bad, "x", 1) == STORE_INVALID);
	bad = m;
	bad.width = -1;
	T_CHECK(store_media_add(s, &bad, "x", 1) == STORE_INVALID);

	arena_free(a);
	store_close(s);
}

int
main(void)
{
	if (!t_tmpdir(t_dir, sizeof(t_dir), "editor"))
		return 1;
	T_RUN(test_diff_basic);
	T_RUN(test_diff_line_numbers);
	T_RUN(test_diff_bounds);
	T_RUN(test_store_article_list);
	t_tmpdir_remove(t_dir);
	T_DONE();
}
