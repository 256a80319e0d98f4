/*
 * content/: the one save path against real database files: every field's
 * refusal, slugs (ASCII, Japanese, unique per kind), excerpts by grapheme
 * clusters, a revision per save, conflicts on a stale base revision,
 * trash and restore, scheduled publishing (idempotent), the search index
 * kept in step (batch mode too) and safe Markdown. Also the `kiji post`
 * front matter: parse, errors with lines, write and read back.
 */
#include "../../src/content/content.h"
#include "../../src/content/frontmatter.h"
#include "t_db.h"

#include <sys/stat.h>
#include <unistd.h>

#define NOW ((int64_t)1700000000) /* 2023-11-14 22:13:20 UTC, 11-15 JST */

static int64_t t_user, t_cat;

/* A fresh site with one user ("ed") and one category ("world"). */
static store *
db_open(void)
{
	store *s = t_db_open();
	if (s != NULL) {
		struct store_user u = {.name = "ed", .display_name = "Ed",
		    .role = ROLE_EDITOR};
		struct store_category c = {.slug = "world", .name = "世界"};
		T_CHECK(store_user_add(s, &u, &t_user) == STORE_OK);
		T_CHECK(store_category_add(s, &c, &t_cat) == STORE_OK);
	}
	return s;
}

/* A valid published post to vary. */
static struct content_input
post(const char *title, const char *body)
{
	struct content_input in = {0};
	in.kind = KIND_POST;
	in.title = title;
	in.body = body;
	in.body_format = FORMAT_MARKDOWN;
	in.status = STATUS_PUBLISHED;
	in.published_at = NOW - 3600;
	in.author_id = t_user;
	in.category_id = t_cat;
	in.comments_open = true;
	in.now = NOW;
	return in;
}

/* Saves in, expecting want; returns the id (0 on a refusal). */
static int64_t
save(store *s, const struct content_input *in, arena *a,
    enum content_err want, struct content_result *res)
{
	struct content_result r;
	if (res == NULL)
		res = &r;
	enum content_err e = content_save(s, in, a, res);
	if (e != want)
		printf("  content_save: %d (want %d) field=%s %s\n", e, want,
		    res->field ? res->field : "-", res->message_en ? res->message_en : "");
	T_CHECK(e == want);
	return e == CONTENT_OK ? res->id : 0;
}

/* Expects a refusal naming field (and item). */
static void
refused(store *s, const struct content_input *in, arena *a, const char *field,
    size_t item)
{
	struct content_result r;
	save(s, in, a, CONTENT_INVALID, &r);
	T_STREQ(r.field, field);
	T_CHECK(r.item == item);
	T_CHECK(r.message != NULL && *r.message && r.message_en != NULL);
}

/* A string of n copies of s, in a. */
static const char *
rep(arena *a, const char *s, size_t n)
{
	size_t k = strlen(s);
	char *out = arena_alloc(a, k * n + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * k, s, k);
	return out;
}

static int64_t
count_revisions(store *s, int64_t id, arena *a)
{
	struct store_revision *v;
	size_t n;
	int64_t total = -1;
	T_CHECK(store_revisions(s, id, 0, 10, a, &v, &n, &total) == STORE_OK);
	return total;
}

static int64_t
hits(store *s, const char *q, arena *a)
{
	struct store_hit *h;
	size_t n;
	int64_t total = -1;
	T_CHECK(store_search(s, q, NOW + 86400, 0, 10, a, &h, &n, &total) ==
	    STORE_OK);
	return total;
}

/* ---- validation ------------------------------------------------------------- */

static void
test_refusals(void)
{
	store *s = db_open();
	arena *a = arena_new(0);
	struct content_input in;
	const char *tags51[51], *tags2[2] = {"ok", ""};
	struct store_source src[51];

	in = post("", "x");
	refused(s, &in, a, "title", 0);
	in = post("   \t ", "x");
	refused(s, &in, a, "title", 0);
	in = post(rep(a, "字", 301), "x");
	refused(s, &in, a, "title", 0);
	in = post(rep(a, "字", 300), "x");
	save(s, &in, a, CONTENT_OK, NULL);
	in = post("bad \xff title", "x");
	refused(s, &in, a, "title", 0);
	in = post("ctl \x01 title", "x");
	refused(s, &in, a, "title", 0);
	in = post("t", "x");
	in.kind = KIND__MAX;
	refused(s, &in, a, "kind", 0);
	in = post("t", "x");
	in.body_format = FORMAT__MAX;
	refused(s, &in, a, "format", 0);
	in = post("t", "x");
	in.status = STATUS_TRASH;
	refused(s, &in, a, "status", 0);
	in = post("t", "x");
	in.slug = "has space";
	refused(s, &in, a, "slug", 0);
	in.slug = "a/b";
	refused(s, &in, a, "slug", 0);
	in.slug = rep(a, "a", 201);
	refused(s, &in, a, "slug", 0);
	in = post("t", rep(a, "a", CONTENT_BODY_MAX + 1));
	refused(s, &in, a, "body", 0);
	in = post("t", "bad \xc3\x28 body");
	refused(s, &in, a, "body", 0);
	in = post("t", "x");
	in.excerpt = rep(a, "あ", 1001);
	refused(s, &in, a, "excerpt", 0);
	in = post("t", "x");
	in.eyecatch_credit = rep(a, "c", 301);
	refused(s, &in, a, "credit", 0);
	in = post("t", "x");
	in.eyecatch = "javascript:alert(1)";
	refused(s, &in, a, "eyecatch", 0);
	in.eyecatch = "/media/../secret";
	refused(s, &in, a, "eyecatch", 0);
	in.eyecatch = "ftp://example.com/a.png";
	refused(s, &in, a, "eyecatch", 0);
	in.eyecatch = "https:///nohost";
	refused(s, &in, a, "eyecatch", 0);
	in.eyecatch = "/media/a1b2.png";
	save(s, &in, a, CONTENT_OK, NULL);
	in = post("t", "x");
	in.eyecatch = "https://img.example.com/a.jpg";
	save(s, &in, a, CONTENT_OK, NULL);

	/* dates: scheduled needs the future; published without one is now */
	in = post("t", "x");
	in.status = STATUS_SCHEDULED;
	in.published_at = 0;
	refused(s, &in, a, "date", 0);
	in.published_at = NOW - 1;
	refused(s, &in, a, "date", 0);
	in.published_at = NOW;
	refused(s, &in, a, "date", 0);
	in.published_at = -5;
	refused(s, &in, a, "date", 0);
	in = post("now", "x");
	in.published_at = 0;
	int64_t id = save(s, &in, a, CONTENT_OK, NULL);
	struct store_article g;
	T_CHECK(store_article_get_any(s, id, a, &g) == STORE_OK);
	T_CHECK(g.published_at == NOW && g.updated_at == NOW);

	/* references */
	in = post("t", "x");
	in.category_id = 999;
	refused(s, &in, a, "category", 0);
	in = post("t", "x");
	in.author_id = 999;
	refused(s, &in, a, "author", 0);
	in = post("t", "x");
	in.editor_id = 998;
	refused(s, &in, a, "editor", 0);

	/* tags: at most 50, each 1..100 characters */
	for (int i = 0; i < 51; i++)
		tags51[i] = arena_printf(a, "tag%d", i);
	in = post("t", "x");
	in.tags = tags51;
	in.ntags = 51;
	refused(s, &in, a, "tags", 50);
	in.ntags = 50;
	save(s, &in, a, CONTENT_OK, NULL);
	in.tags = tags2;
	in.ntags = 2;
	refused(s, &in, a, "tags", 1);
	tags2[1] = rep(a, "タ", 101);
	refused(s, &in, a, "tags", 1);

	/* sources: at most 50, each a title and an http(s) URL */
	for (int i = 0; i < 51; i++) {
		src[i].title = arena_printf(a, "Source %d", i);
		src[i].url = arena_printf(a, "https://example.com/%d", i);
	}
	in = post("t", "x");
	in.sources = src;
	in.nsources = 51;
	refused(s, &in, a, "sources", 50);
	in.nsources = 3;
	src[2].url = "javascript:alert(1)";
	refused(s, &in, a, "sources", 2);
	src[2].url = "https://ja.wikipedia.org/wiki/防衛";
	src[1].title = " ";
	refused(s, &in, a, "sources", 1);
	src[1].title = "ok";
	save(s, &in, a, CONTENT_OK, NULL);

	/* a refused edit changes nothing */
	in = post("", "changed");
	in.id = id;
	refused(s, &in, a, "title", 0);
	T_CHECK(store_article_get_any(s, id, a, &g) == STORE_OK);
	T_STREQ(g.title, "now");
	T_CHECK(count_revisions(s, id, a) == 1);
	in = post("t", "x");
	in.id = 424242;
	save(s, &in, a, CONTENT_NOTFOUND, NULL);
	arena_free(a);
	store_close(s);
}

/* Text is stored NFC with its white space squashed; tags deduplicated. */
static void
test_normalised(void)
{
	store *s = db_open();
	arena *a = arena_new(0);
	const char *tags[] = {"  防衛  ", "防衛", "cafe\xcc\x81"};
	struct content_input in = post("  二つの\n 空白  ", "本文");
	in.tags = tags;
	in.ntags = 3;
	int64_t id = save(s, &in, a, CONTENT_OK, NULL);
	struct store_article g;
	T_CHECK(store_article_get_any(s, id, a, &g) == STORE_OK);
	T_STREQ(g.title, "二つの 空白");
	T_CHECK(g.ntags == 2);
	struct store_tag t;
	T_CHECK(store_tag_by_name(s, "caf\xc3\xa9", a, &t) == STORE_OK);
	T_STREQ(t.slug, "cafe");
	T_CHECK(store_tag_by_name(s, "防衛", a, &t) == STORE_OK);
	T_STREQ(t.slug, "防衛");
	arena_free(a);
	store_close(s);
}

/* ---- slugs --------------------------------------------------------------------- */

static void
test_slugify(void)
{
	arena *a = arena_new(0);
	text_tz_set("Asia/Tokyo");
	T_STREQ(content_slugify(a, "NATO Summit: New Plan", NOW), "nato-summit-new-plan");
	T_STREQ(content_slugify(a, "Café au lait, s'il vous plaît", NOW),
	    "cafe-au-lait-sil-vous-plait");
	T_STREQ(content_slugify(a, "Japan's F-35A order", NOW), "japans-f-35a-order");
	T_STREQ(content_slugify(a, "Ｆ－３５Ａ　ＵＰＤＡＴＥ", NOW), "f-35a-update");
	/* Japanese titles: the date in the site zone (JST: already the 15th) */
	T_STREQ(content_slugify(a, "防衛省が新方針を発表", NOW), "2023-11-15");
	T_STREQ(content_slugify(a, "F-35の配備を前倒し、議会は予算の精査を要求", NOW),
	    "2023-11-15");
	T_STREQ(content_slugify(a, "！？「」", NOW), "2023-11-15");
	T_STREQ(content_slugify(a, "", NOW), "2023-11-15");
	/* long titles cut at a word's end, within 80 bytes */
	const char *l = content_slugify(a, "alpha bravo charlie delta echo foxtrot "
	    "golf hotel india juliett kilo lima mike november oscar papa", NOW);
	T_CHECK(strlen(l) <= 80 && l[strlen(l) - 1] != '-');
	T_CHECK(strncmp(l, "alpha-bravo-charlie", 19) == 0);
	T_STREQ(content_tag_slug(a, "F-35"), "f-35");
	T_STREQ(content_tag_slug(a, "次世代 戦闘機"), "次世代-戦闘機");
	T_STREQ(content_tag_slug(a, "日本・米国"), "日本-米国");
	T_STREQ(content_tag_slug(a, "!!!"), "tag");
	arena_free(a);
}

static void
test_slug_unique(void)
{
	store *s = db_open();
	arena *a = arena_new(0);
	struct content_result r;
	struct content_input in = post("防衛省が新方針", "x");
	struct store_article g;
	text_tz_set("Asia/Tokyo");
	int64_t a1 = save(s, &in, a, CONTENT_OK, NULL);
	int64_t a2 = save(s, &in, a, CONTENT_OK, NULL);
	int64_t a3 = save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(store_article_get_any(s, a1, a, &g) == STORE_OK);
	T_STREQ(g.slug, "2023-11-15"); /* published_at NOW - 1h, JST */
	T_CHECK(store_article_get_any(s, a2, a, &g) == STORE_OK);
	T_STREQ(g.slug, "2023-11-15-2");
	T_CHECK(store_article_get_any(s, a3, a, &g) == STORE_OK);
	T_STREQ(g.slug, "2023-11-15-3");
	/* unique per kind: a page may have a post's slug */
	in.kind = KIND_PAGE;
	int64_t p1 = save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(store_article_get_any(s, p1, a, &g) == STORE_OK);
	T_STREQ(g.slug, "2023-11-15");
	/* an explicit slug already taken is refused, one's own is kept */
	in = post("About", "x");
	in.slug = "2023-11-15-2";
	save(s, &in, a, CONTENT_INVALID, &r);
	T_STREQ(r.field, "slug");
	in.id = a2;
	save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(store_article_by_slug(s, KIND_POST, "2023-11-15-2", a, &g) == STORE_OK);
	T_CHECK(g.id == a2);
	T_STREQ(g.title, "About");
	/* an edit without a slug makes one again, skipping its own */
	in.slug = "";
	in.title = "About us";
	save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(store_article_get_any(s, a2, a, &g) == STORE_OK);
	T_STREQ(g.slug, "about-us");
	T_CHECK(store_article_by_slug(s, KIND_POST, "nope", a, &g) == STORE_NOTFOUND);
	arena_free(a);
	store_close(s);
}

/* ---- rendering ------------------------------------------------------------------ */

/* The excerpt: 120 grapheme clusters of the text, never a split one. */
static void
test_excerpt(void)
{
	arena *a = arena_new(0);
	struct content_result r;
	const char *html, *text, *ex;
	/* a family emoji is 5 code points and one cluster */
	const char *fam = "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D"
			  "\xF0\x9F\x91\xA7";
	struct content_input in = post("t", rep(a, fam, 200));
	T_CHECK(content_render(&in, a, &html, &text, &ex, &r) == CONTENT_OK);
	T_CHECK(text_graphemes(ex, strlen(ex)) == 121);
	size_t n = strlen(ex);
	T_CHECK(n > 3 && strcmp(ex + n - 3, "…") == 0);
	T_CHECK(memcmp(ex, rep(a, fam, 120), 120 * strlen(fam)) == 0);
	in.body = "## 見出し\n\n短い  本文。\n\n次の段落";
	T_CHECK(content_render(&in, a, &html, &text, &ex, &r) == CONTENT_OK);
	T_STREQ(ex, "見出し 短い 本文。 次の段落");
	in.excerpt = "編集者の抜粋";
	T_CHECK(content_render(&in, a, &html, &text, &ex, &r) == CONTENT_OK);
	T_STREQ(ex, "編集者の抜粋");
	in.title = "";
	T_CHECK(content_render(&in, a, &html, &text, &ex, &r) == CONTENT_INVALID);
	T_STREQ(r.field, "title");
	arena_free(a);
}

/* Markdown is safe with no options: no raw HTML, no javascript: URLs. */
static void
test_markdown_safe(void)
{
	store *s = db_open();
	arena *a = arena_new(0);
	struct content_input in = post("安全", "<script>alert(1)</script>\n\n"
	    "<img src=x onerror=alert(1)>\n\n[a](javascript:alert(1)) "
	    "[b](JaVaScRiPt:alert(2)) ![c](vbscript:x) <a href=\"x\">raw</a>\n\n"
	    "[ok](https://example.com/) **太字**");
	int64_t id = save(s, &in, a, CONTENT_OK, NULL);
	struct store_article g;
	T_CHECK(store_article_get_any(s, id, a, &g) == STORE_OK);
	if (!t_cur_failed) {
		T_CHECK(strstr(g.body_html, "<script") == NULL);
		T_CHECK(strstr(g.body_html, "<img") == NULL);
		T_CHECK(strstr(g.body_html, "<a href=\"x\"") == NULL);
		T_CHECK(strcasestr(g.body_html, "javascript:") == NULL);
		T_CHECK(strcasestr(g.body_html, "vbscript:") == NULL);
		T_CHECK(strstr(g.body_html, "<a href=\"https://example.com/\"") != NULL);
		T_CHECK(strstr(g.body_html, "<strong>太字</strong>") != NULL);
		T_CHECK(strstr(g.body_text, "太字") != NULL);
		T_CHECK(strstr(g.body_text, "<strong>") == NULL);
	}
	arena_free(a);
	store_close(s);
}

/* ---- revisions and conflicts ---------------------------------------------------- */

static void
test_revisions(void)
{
	store *s = db_open();
	arena *a = arena_new(0);
	struct content_result r1, r2, r3;
	const char *tags[] = {"NATO"};
	struct content_input in = post("初版", "本文一");
	in.tags = tags;
	in.ntags = 1;
	int64_t id = save(s, &in, a, CONTENT_OK, &r1);
	T_CHECK(r1.revision > 0);
	in.id = id;
	in.title = "第二版";
	in.body = "本文二";
	in.base_revision = r1.revision;
	in.now = NOW + 60;
	save(s, &in, a, CONTENT_OK, &r2);
	T_CHECK(r2.revision > r1.revision);
	T_CHECK(count_revisions(s, id, a) == 2);

	struct store_revision *v;
	size_t n;
	T_CHECK(store_revisions(s, id, 0, 10, a, &v, &n, NULL) == STORE_OK);
	T_CHECK(n == 2 && v[0].id == r2.revision && v[1].id == r1.revision);
	if (n == 2) {
		T_STREQ(v[0].title, "第二版");
		T_STREQ(v[0].body, ""); /* lists leave bodies out */
		T_CHECK(v[0].author_id == t_user && v[0].created_at == NOW + 60);
		T_STREQ(v[0].author_name, "Ed");
		T_CHECK(strstr(v[0].meta, "\"tags\":[\"NATO\"]") != NULL);
		T_CHECK(strstr(v[0].meta, "\"status\":\"published\"") != NULL);
	}
	struct store_revision one;
	T_CHECK(store_revision_get(s, r1.revision, a, &one) == STORE_OK);
	T_STREQ(one.body, "本文一");

	/* a writer who started from r1 saves over r2: refused, nothing written */
	in.title = "上書き";
	in.base_revision = r1.revision;
	save(s, &in, a, CONTENT_CONFLICT, &r3);
	T_CHECK(r3.revision == r2.revision);
	T_CHECK(count_revisions(s, id, a) == 2);
	struct store_article g;
	T_CHECK(store_article_get_any(s, id, a, &g) == STORE_OK);
	T_STREQ(g.title, "第二版");

	/* restoring r1: its text and meta come back as a new revision */
	struct content_input back;
	content_input_from(&back, &g, a);
	T_CHECK(content_input_revision(s, &back, r1.revision, a) == CONTENT_OK);
	back.base_revision = r2.revision;
	back.now = NOW + 120;
	save(s, &back, a, CONTENT_OK, &r3);
	T_CHECK(r3.revision > r2.revision);
	T_CHECK(store_article_get_any(s, id, a, &g) == STORE_OK);
	T_STREQ(g.title, "初版");
	T_STREQ(g.body, "本文一");
	T_CHECK(g.ntags == 1);
	T_CHECK(count_revisions(s, id, a) == 3);
	/* a revision of another article is not this one's */
	in = post("他", "x");
	int64_t id2 = save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(store_article_get_any(s, id2, a, &g) == STORE_OK);
	content_input_from(&back, &g, a);
	T_CHECK(content_input_revision(s, &back, r1.revision, a) == CONTENT_NOTFOUND);
	arena_free(a);
	store_close(s);
}

/* ---- life cycle ---------------------------------------------------------------------- */

static void
test_trash_restore(void)
{
	store *s = db_open();
	arena *a = arena_new(0);
	enum store_status st;
	int64_t pub;
	struct content_input in = post("ゴミ箱テスト zzquux", "本文");
	int64_t id = save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(hits(s, "zzquux", a) == 1);
	T_CHECK(content_delete(s, id) == CONTENT_INVALID); /* not in the trash */
	T_CHECK(content_trash(s, id, NOW) == CONTENT_OK);
	T_CHECK(content_trash(s, id, NOW + 5) == CONTENT_OK); /* a no-op */
	T_CHECK(store_article_state(s, id, &st, &pub) == STORE_OK);
	T_CHECK(st == STATUS_TRASH);
	T_CHECK(hits(s, "zzquux", a) == 0);
	struct store_article *v;
	size_t n;
	int64_t total;
	T_CHECK(store_articles_any(s, STATUS__MAX, KIND__MAX, 0, 10, a, &v, &n,
	    &total) == STORE_OK);
	T_CHECK(total == 0 && n == 0);
	T_CHECK(store_articles_any(s, STATUS_TRASH, KIND__MAX, 0, 10, a, &v, &n,
	    &total) == STORE_OK);
	T_CHECK(total == 1 && n == 1);
	/* a trashed article is restored before it is edited */
	struct content_result r;
	in.id = id;
	save(s, &in, a, CONTENT_INVALID, &r);
	T_STREQ(r.field, "status");
	T_CHECK(content_restore(s, id, NOW) == CONTENT_OK);
	T_CHECK(store_article_state(s, id, &st, &pub) == STORE_OK);
	T_CHECK(st == STATUS_PUBLISHED);
	T_CHECK(hits(s, "zzquux", a) == 1);
	T_CHECK(content_restore(s, id, NOW) == CONTENT_INVALID);
	T_CHECK(content_trash(s, id, NOW) == CONTENT_OK);
	T_CHECK(content_delete(s, id) == CONTENT_OK);
	T_CHECK(store_article_state(s, id, &st, &pub) == STORE_NOTFOUND);
	T_CHECK(hits(s, "zzquux", a) == 0);
	T_CHECK(content_trash(s, id, NOW) == CONTENT_NOTFOUND);
	T_CHECK(content_restore(s, id, NOW) == CONTENT_NOTFOUND);
	T_CHECK(content_delete(s, id) == CONTENT_NOTFOUND);

	/* a draft comes back a draft */
	in = post("下書き", "x");
	in.status = STATUS_DRAFT;
	id = save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(content_trash(s, id, NOW) == CONTENT_OK);
	T_CHECK(content_restore(s, id, NOW) == CONTENT_OK);
	T_CHECK(store_article_state(s, id, &st, &pub) == STORE_OK);
	T_CHECK(st == STATUS_DRAFT);
	arena_free(a);
	store_close(s);
}

/* The "publish" job's handler: only when due, and twice is once. */
static void
test_publish_due(void)
{
	store *s = db_open();
	arena *a = arena_new(0);
	enum store_status st;
	int64_t pub;
	struct content_input in = post("予約投稿", "予約の本文");
	in.status = STATUS_SCHEDULED;
	in.published_at = NOW + 100;
	int64_t id = save(s, &in, a, CONTENT_OK, NULL);
	struct store_job j;
	bool found = false;
	for (int64_t jid = 1; jid <= 5 && !found; jid++)
		if (store_job_get(s, jid, a, &j) == STORE_OK &&
		    strcmp(j.dedup_key, arena_printf(a, "publish:%lld",
		    (long long)id)) == 0)
			found = true;
	T_CHECK(found);
	if (found) {
		T_STREQ(j.kind, "publish");
		T_CHECK(j.run_at == NOW + 100);
		T_STREQ(j.payload, arena_printf(a, "{\"article\":%lld}", (long long)id));
	}
	T_CHECK(content_publish_due(s, id, NOW + 99) == CONTENT_OK);
	T_CHECK(store_article_state(s, id, &st, &pub) == STORE_OK);
	T_CHECK(st == STATUS_SCHEDULED);
	T_CHECK(content_publish_due(s, id, NOW + 100) == CONTENT_OK);
	T_CHECK(store_article_state(s, id, &st, &pub) == STORE_OK);
	T_CHECK(st == STATUS_PUBLISHED && pub == NOW + 100);
	T_CHECK(content_publish_due(s, id, NOW + 200) == CONTENT_OK);
	T_CHECK(store_article_state(s, id, &st, &pub) == STORE_OK);
	T_CHECK(st == STATUS_PUBLISHED && pub == NOW + 100);
	T_CHECK(count_revisions(s, id, a) == 1);
	T_CHECK(content_publish_due(s, 31337, NOW) == CONTENT_NOTFOUND);
	T_CHECK(hits(s, "予約", a) == 1);

	/* a draft is never published by a stale job */
	in.status = STATUS_DRAFT;
	in.id = id;
	save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(content_publish_due(s, id, NOW + 500) == CONTENT_OK);
	T_CHECK(store_article_state(s, id, &st, &pub) == STORE_OK);
	T_CHECK(st == STATUS_DRAFT);

	/* trashed while scheduled, restored after its time: published */
	in = post("ゴミ箱の予約", "x");
	in.status = STATUS_SCHEDULED;
	in.published_at = NOW + 100;
	id = save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(content_trash(s, id, NOW) == CONTENT_OK);
	T_CHECK(content_publish_due(s, id, NOW + 150) == CONTENT_OK);
	T_CHECK(store_article_state(s, id, &st, &pub) == STORE_OK);
	T_CHECK(st == STATUS_TRASH);
	T_CHECK(content_restore(s, id, NOW + 150) == CONTENT_OK);
	T_CHECK(store_article_state(s, id, &st, &pub) == STORE_OK);
	T_CHECK(st == STATUS_PUBLISHED);
	arena_free(a);
	store_close(s);
}

/* ---- the search index --------------------------------------------------------------- */

static void
test_search_in_step(void)
{
	store *s = db_open();
	arena *a = arena_new(0);
	struct content_input in = post("索引テスト", "qwertyword の本文");
	int64_t id = save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(hits(s, "qwertyword", a) == 1);
	in.id = id;
	in.body = "asdfword に変わった";
	save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(hits(s, "qwertyword", a) == 0);
	T_CHECK(hits(s, "asdfword", a) == 1);
	in.status = STATUS_DRAFT;
	save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(hits(s, "asdfword", a) == 0);
	arena_free(a);
	store_close(s);
}

/* Batch mode: hundreds of saves, the index written per commit, each
 * save still atomic, abort drops what is not committed. */
static void
test_batch(void)
{
	store *s = db_open();
	arena *a = arena_new(0);
	struct content_result r;
	int64_t first = 0, pre;
	struct content_input in = post("前からある記事 zxcvpre", "x");
	pre = save(s, &in, a, CONTENT_OK, NULL);

	T_CHECK(content_batch_begin(s, 0) == CONTENT_OK);
	T_CHECK(content_batch_begin(s, 0) == CONTENT_STORE); /* not nestable */
	for (int i = 0; i < CONTENT_BATCH + 20; i++) {
		arena_reset(a);
		in = post(arena_printf(a, "Batch article %d", i),
		    arena_printf(a, "batchword%d common batchcommon", i));
		int64_t id = save(s, &in, a, CONTENT_OK, NULL);
		if (i == 0)
			first = id;
		if (i == 10) {
			/* a refusal in the middle undoes only itself */
			in.title = "";
			save(s, &in, a, CONTENT_INVALID, &r);
			/* an edit of a pending article stays pending */
			in.title = "Batch article 10 edited";
			in.id = id;
			in.body = "batchword10 edited batchcommon";
			save(s, &in, a, CONTENT_OK, NULL);
			/* an edit of an older (indexed) one indexes at once */
			in = post("前からある記事 zxcvpost", "x");
			in.id = pre;
			save(s, &in, a, CONTENT_OK, NULL);
		}
	}
	T_CHECK(content_batch_end(s) == CONTENT_OK);
	T_CHECK(hits(s, "batchcommon", a) == CONTENT_BATCH + 20);
	T_CHECK(hits(s, "batchword0", a) == 1);
	T_CHECK(hits(s, "edited", a) == 1);
	T_CHECK(hits(s, "zxcvpre", a) == 0);
	T_CHECK(hits(s, "zxcvpost", a) == 1);
	T_CHECK(first > 0 && count_revisions(s, first, a) == 1);

	/* abort: the saves since the last commit are gone, index included */
	T_CHECK(content_batch_begin(s, 0) == CONTENT_OK);
	for (int i = 0; i < 3; i++) {
		in = post(arena_printf(a, "Aborted %d", i), "abortword");
		save(s, &in, a, CONTENT_OK, NULL);
	}
	T_CHECK(content_batch_abort(s) == CONTENT_OK);
	T_CHECK(hits(s, "abortword", a) == 0);
	/* and a normal save afterwards indexes at once again */
	in = post("After", "afterword");
	save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(hits(s, "afterword", a) == 1);
	arena_free(a);
	store_close(s);
}

/* ---- front matter ------------------------------------------------------------------ */

static const char fm_file[] =
    "---\n"
    "title: \"NATO首脳会議: 新方針\"\n"
    "slug: nato-summit\n"
    "status: scheduled\n"
    "date: 2026-12-03T09:00:00+09:00\n"
    "tags:\n"
    "  - NATO\n"
    "  - 防衛\n"
    "sources:\n"
    "  - title: 出典 A\n"
    "    url: https://example.com/a\n"
    "  - {title: B, url: 'https://example.com/b'}\n"
    "comments: false\n"
    "eyecatch: /media/x.png\n"
    "---\n"
    "\n"
    "\n"
    "本文の一行目\n"
    "\n";

static void
test_fm_parse(void)
{
	arena *a = arena_new(0);
	struct content_fm fm;
	buf err;
	buf_init(&err, 0);
	T_CHECK(content_fm_parse(fm_file, sizeof(fm_file) - 1, a, &fm, &err));
	if (!t_cur_failed) {
		T_STREQ(fm.title, "NATO首脳会議: 新方針");
		T_CHECK(fm.has[FM_TITLE] && fm.line[FM_TITLE] == 2);
		T_STREQ(fm.slug, "nato-summit");
		T_CHECK(fm.status == STATUS_SCHEDULED && fm.line[FM_STATUS] == 4);
		T_CHECK(fm.date == 1796256000); /* 2026-12-03T00:00:00Z */
		T_CHECK(fm.ntags == 2 && fm.tag_lines[1] == 8);
		T_STREQ(fm.tags[1], "防衛");
		T_CHECK(fm.nsources == 2 && fm.source_lines[1] == 12);
		T_STREQ(fm.sources[1].url, "https://example.com/b");
		T_CHECK(!fm.comments);
		T_CHECK(!fm.has[FM_AUTHOR] && !fm.has[FM_KIND]);
		T_CHECK(fm.kind == KIND_POST && fm.format == FORMAT_MARKDOWN);
		T_STREQ(fm.body, "本文の一行目");
		T_CHECK(fm.body_line == 18);
	}
	/* no front matter: all body */
	T_CHECK(content_fm_parse("just text\n", 10, a, &fm, &err));
	T_STREQ(fm.body, "just text");
	T_CHECK(!fm.has[FM_TITLE]);
	/* empty front matter */
	T_CHECK(content_fm_parse("---\n---\nbody", 12, a, &fm, &err));
	T_STREQ(fm.body, "body");
	buf_free(&err);
	arena_free(a);
}

/* Every refusal names its line (and key). */
static void
test_fm_errors(void)
{
	static const struct {
		const char *src, *want;
	} cases[] = {
		{"---\ntitle: x\ndate: 2026-12-03 09:00\n---\n", "3: date: not ISO 8601"},
		{"---\ntitle: x\ndate: 2026-12-03\n---\n", "3: date: not ISO 8601"},
		{"---\ntitle: x\ndate: 2026-12-03T09:00:00\n---\n", "3: date: not ISO"},
		{"---\ntitel: x\n---\n", "2: titel: unknown key"},
		{"---\ntitle: a\ntitle: b\n---\n", "3: title: given twice"},
		{"---\ntitle: [a, b]\n---\n", "2: title: must be text"},
		{"---\nkind: article\n---\n", "2: kind: must be one of post, page"},
		{"---\nstatus: trash\n---\n", "2: status: must be one of draft"},
		{"---\ncomments: maybe\n---\n", "2: comments: must be true"},
		{"---\ntags: {a: b}\n---\n", "2: tags: must be a list"},
		{"---\ntags:\n  - a\n  - [b]\n---\n", "4: tags: entry 2 must be a name"},
		{"---\nsources:\n  - title: a\n---\n", "3: sources: entry 1 needs a title and a url"},
		{"---\nsources:\n  - title: a\n    link: b\n---\n", "4: sources: entry 1: unknown key 'link'"},
		{"---\nsources: x\n---\n", "2: sources: must be a list"},
		{"---\ntitle: &a x\nslug: *a\n---\n", "2: anchors and aliases"},
		{"---\ntitle: x\n", "1: front matter has no closing"},
		{"---\ntitle: [unclosed\n---\n", "not YAML"},
		{"---\n- a\n- b\n---\n", "2: front matter must be 'key: value'"},
		{"---\ntitle: x\n---\nok\n\xff\n", "5: not UTF-8"},
		{"---\ntags: [[[[[[a]]]]]]\n---\n", "nested too deeply"},
	};
	arena *a = arena_new(0);
	struct content_fm fm;
	buf err;
	buf_init(&err, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&err);
		bool ok = content_fm_parse(cases[i].src, strlen(cases[i].src), a,
		    &fm, &err);
		if (ok || strstr(buf_cstr(&err), cases[i].want) == NULL) {
			printf("  case %zu: got %s [%s], want [%s]\n", i,
			    ok ? "ok" : "error", buf_cstr(&err), cases[i].want);
			T_CHECK(!"front matter error");
		}
	}
	/* the size bound comes before any parsing */
	size_t big = CONTENT_FILE_MAX + 1;
	char *p = calloc(1, big);
	memset(p, 'a', big);
	buf_reset(&err);
	T_CHECK(!content_fm_parse(p, big, a, &fm, &err));
	T_CHECK(strstr(buf_cstr(&err), "larger than") != NULL);
	free(p);
	buf_free(&err);
	arena_free(a);
}

/* What content_fm_write writes parses back to the same fields, tricky
 * strings included. */
static void
test_fm_roundtrip(void)
{
	arena *a = arena_new(0);
	struct store_tag tags[3] = {{0, "null", "null"}, {0, "x", "- dash"},
	    {0, "y", "日本語: タグ"}};
	struct store_source src[1] = {{"\"引用\" #1", "https://example.com/?a=1&b=2"}};
	struct store_article art = {0};
	art.title = "true";
	art.slug = "";
	art.kind = KIND_PAGE;
	art.status = STATUS_PUBLISHED;
	art.published_at = 1796256000;
	art.body = "# 見出し\n\n---\n\n本文";
	art.body_format = FORMAT_HTML;
	art.category_slug = "world";
	art.eyecatch = "";
	art.eyecatch_credit = "~";
	art.excerpt = "'quoted' and: colon";
	art.comments_open = false;
	art.tags = tags;
	art.ntags = 3;
	art.sources = src;
	art.nsources = 1;
	buf out, err;
	buf_init(&out, 0);
	buf_init(&err, 0);
	text_tz_set("Asia/Tokyo");
	content_fm_write(&out, &art, "ed");
	T_CHECK(!out.err);
	T_CHECK(strstr(buf_cstr(&out), "date: 2026-12-03T09:00:00+09:00\n") != NULL);
	struct content_fm fm;
	T_CHECK(content_fm_parse(out.ptr, out.len, a, &fm, &err));
	if (!t_cur_failed) {
		for (int k = 0; k < FM__MAX; k++)
			T_CHECK(fm.has[k]);
		T_STREQ(fm.title, "true");
		T_STREQ(fm.slug, "");
		T_CHECK(fm.kind == KIND_PAGE && fm.status == STATUS_PUBLISHED);
		T_CHECK(fm.date == 1796256000);
		T_STREQ(fm.author, "ed");
		T_STREQ(fm.category, "world");
		T_STREQ(fm.parent, ""); /* a page at the top level */
		T_CHECK(fm.ntags == 3);
		T_STREQ(fm.tags[0], "null");
		T_STREQ(fm.tags[1], "- dash");
		T_STREQ(fm.tags[2], "日本語: タグ");
		T_CHECK(fm.nsources == 1);
		T_STREQ(fm.sources[0].title, "\"引用\" #1");
		T_STREQ(fm.sources[0].url, "https://example.com/?a=1&b=2");
		T_STREQ(fm.eyecatch, "");
		T_STREQ(fm.credit, "~");
		T_STREQ(fm.excerpt, "'quoted' and: colon");
		T_CHECK(!fm.comments);
		T_CHECK(fm.format == FORMAT_HTML);
		T_STREQ(fm.body, "# 見出し\n\n---\n\n本文");
	}
	buf_free(&out);
	buf_free(&err);
	arena_free(a);
}

/* ---- outgoing pings: the "pings" job of a save ---------------------------------- */

/* The "pings" jobs of article id (payload {"article":ID}), in id order:
 * how many, and the last one in *last. */
static int
pings_jobs(store *s, int64_t id, arena *a, struct store_job *last)
{
	const char *want = arena_printf(a, "{\"article\":%lld}", (long long)id);
	int n = 0, misses = 0;
	for (int64_t jid = 1; jid <= 500 && misses < 3; jid++) {
		struct store_job j;
		enum store_err e = store_job_get(s, jid, a, &j);
		if (e == STORE_NOTFOUND) {
			misses++;
			continue;
		}
		misses = 0;
		if (e == STORE_OK && strcmp(j.kind, "pings") == 0 &&
		    strcmp(j.payload, want) == 0) {
			n++;
			if (last)
				*last = j;
		}
	}
	return n;
}

/*
 * A save that leaves an article live with links queues one "pings" job
 * per version of its body: a new publish does, the same save again does
 * not, an edit of the body does, drafts, bodies without links and
 * importer saves (no_pings) do not; a scheduled article's goes with its
 * publication, once; a date still ahead delays it.
 */
static void
test_pings_enqueued(void)
{
	store *s = db_open();
	arena *a = arena_new(0);
	struct store_job j = {0};
	const char *body = "本文に [リンク](https://blog.example.net/entry/1) がある。";

	struct content_input in = post("リンクのある記事", body);
	int64_t id = save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(pings_jobs(s, id, a, &j) == 1);
	T_CHECK(strncmp(j.dedup_key, arena_printf(a, "pings:%lld:",
	    (long long)id), strlen(arena_printf(a, "pings:%lld:",
	    (long long)id))) == 0);
	T_CHECK(j.run_at == NOW && j.done_at == 0);

	/* the same save again (a retried request, a tag change): nothing */
	in.id = id;
	in.tags = (const char *const[]){"新しいタグ"};
	in.ntags = 1;
	save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(pings_jobs(s, id, a, NULL) == 1);
	/* a new body: another */
	in.body = "本文に [リンク](https://blog.example.net/entry/1) と "
	    "[もう一つ](https://other.example.org/post) がある。";
	save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(pings_jobs(s, id, a, &j) == 2);
	T_CHECK(j.done_at == 0);
	/* back to a draft and edited: not live, nothing */
	in.status = STATUS_DRAFT;
	in.body = "下書きの [リンク](https://third.example.com/)";
	save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(pings_jobs(s, id, a, NULL) == 2);
	/* published again with the body it has: it goes live, so one */
	in.status = STATUS_PUBLISHED;
	save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(pings_jobs(s, id, a, NULL) == 3);

	/* no links, or an importer's save: none */
	in = post("リンクのない記事", "リンクはない。");
	int64_t plain = save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(pings_jobs(s, plain, a, NULL) == 0);
	in = post("取り込んだ記事", body);
	in.no_pings = true;
	int64_t imported = save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(pings_jobs(s, imported, a, NULL) == 0);
	/* ... and an edit that keeps its body does not announce it later */
	in.id = imported;
	in.no_pings = false;
	in.title = "取り込んだ記事（題名を修正）";
	save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(pings_jobs(s, imported, a, NULL) == 0);

	/* a draft with links: none */
	in = post("下書き", body);
	in.status = STATUS_DRAFT;
	int64_t draft = save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(pings_jobs(s, draft, a, NULL) == 0);

	/* scheduled: with its publication, once */
	in = post("予約の記事", body);
	in.status = STATUS_SCHEDULED;
	in.published_at = NOW + 100;
	int64_t sched = save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(pings_jobs(s, sched, a, NULL) == 0);
	T_CHECK(content_publish_due(s, sched, NOW + 50) == CONTENT_OK);
	T_CHECK(pings_jobs(s, sched, a, NULL) == 0);
	T_CHECK(content_publish_due(s, sched, NOW + 100) == CONTENT_OK);
	T_CHECK(pings_jobs(s, sched, a, &j) == 1);
	T_CHECK(j.run_at == NOW + 100);
	T_CHECK(content_publish_due(s, sched, NOW + 200) == CONTENT_OK);
	T_CHECK(pings_jobs(s, sched, a, NULL) == 1);

	/* published with a date still ahead: due from that date */
	in = post("未来の日付", body);
	in.published_at = NOW + 7200;
	int64_t ahead = save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(pings_jobs(s, ahead, a, &j) == 1);
	T_CHECK(j.run_at == NOW + 7200);

	/* batch mode (the importer's) with no_pings: none either */
	T_CHECK(content_batch_begin(s, 0) == CONTENT_OK);
	in = post("一括", body);
	in.no_pings = true;
	int64_t batch = save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(content_batch_end(s) == CONTENT_OK);
	T_CHECK(pings_jobs(s, batch, a, NULL) == 0);
	arena_free(a);
	store_close(s);
}

/* ---- pages: their hierarchy ----------------------------------------------- */

/* A published page under parent (0: top level) with this slug. */
static int64_t
page_add(store *s, arena *a, const char *title, const char *slug,
    int64_t parent, enum content_err want)
{
	struct content_input in = post(title, "本文");
	in.kind = KIND_PAGE;
	in.category_id = 0;
	in.slug = slug;
	in.parent_id = parent;
	return save(s, &in, a, want, NULL);
}

/* Saves page id again under parent, expecting a refusal naming field. */
static void
page_move_refused(store *s, arena *a, int64_t id, int64_t parent,
    enum store_kind kind, const char *field)
{
	struct store_article g;
	struct content_input in;
	T_CHECK(store_article_get_any(s, id, a, &g) == STORE_OK);
	content_input_from(&in, &g, a);
	in.now = NOW;
	in.kind = kind;
	in.parent_id = parent;
	refused(s, &in, a, field, 0);
}

static void
test_page_tree(void)
{
	store *s = db_open();
	arena *a = arena_new(0);
	struct store_article g;
	struct store_page *v;
	size_t n;
	int64_t id, h;

	int64_t about = page_add(s, a, "About", "about", 0, CONTENT_OK);
	int64_t company = page_add(s, a, "会社", "company", about, CONTENT_OK);
	int64_t team = page_add(s, a, "Team", "team", company, CONTENT_OK);
	T_CHECK(about && company && team);
	/* the chain, top first, and the URL made of it */
	T_CHECK(store_page_chain(s, team, NOW, a, &v, &n) == STORE_OK && n == 3);
	T_CHECK(v[0].id == about && v[1].id == company && v[2].id == team);
	T_CHECK(v[0].parent_id == 0 && v[2].parent_id == company && v[1].visible);
	T_STREQ(v[1].title, "会社");
	T_CHECK(store_article_get_any(s, team, a, &g) == STORE_OK);
	T_CHECK(g.parent_id == company);
	T_STREQ(content_article_path(s, &g, a), "/pages/about/company/team");
	T_CHECK(store_article_get_any(s, about, a, &g) == STORE_OK);
	T_STREQ(content_article_path(s, &g, a), "/pages/about");
	struct content_input pin = post("記事", "x");
	int64_t p = save(s, &pin, a, CONTENT_OK, NULL);
	T_CHECK(store_article_get_any(s, p, a, &g) == STORE_OK && g.parent_id == 0);
	T_STREQ(content_article_path(s, &g, a),
	    arena_printf(a, "/articles/%lld", (long long)p));
	T_CHECK(store_page_chain(s, p, NOW, a, &v, &n) == STORE_NOTFOUND);
	/* slugs encoded per segment */
	int64_t ja = page_add(s, a, "概要", "概要", about, CONTENT_OK);
	T_CHECK(store_article_get_any(s, ja, a, &g) == STORE_OK);
	T_STREQ(content_article_path(s, &g, a),
	    "/pages/about/%E6%A6%82%E8%A6%81");

	/* found by path, one level at a time */
	const char *sl[1] = {"about"};
	T_CHECK(store_page_child(s, 0, sl, 1, &id) == STORE_OK && id == about);
	sl[0] = "company";
	T_CHECK(store_page_child(s, about, sl, 1, &id) == STORE_OK && id == company);
	T_CHECK(store_page_child(s, 0, sl, 1, &id) == STORE_OK && id == 0);
	/* the children, visible ones only, by menu order */
	struct content_input din = post("下書き", "x");
	din.kind = KIND_PAGE;
	din.category_id = 0;
	din.status = STATUS_DRAFT;
	din.parent_id = about;
	save(s, &din, a, CONTENT_OK, NULL);
	T_CHECK(store_page_children(s, about, NOW, 10, a, &v, &n) == STORE_OK);
	T_CHECK(n == 2 && v[0].id == company && v[1].id == ja);
	T_CHECK(store_pages_all(s, NOW, 100, a, &v, &n) == STORE_OK && n == 5);

	/* a slug is unique among siblings only (as WordPress has it) */
	T_CHECK(page_add(s, a, "Team", "team", about, CONTENT_OK) != 0);
	T_CHECK(page_add(s, a, "Team", "team", 0, CONTENT_OK) != 0);
	page_add(s, a, "Team", "team", company, CONTENT_INVALID);
	/* an empty slug is made unique among the siblings */
	int64_t t2 = page_add(s, a, "Team", "", company, CONTENT_OK);
	T_CHECK(store_article_get_any(s, t2, a, &g) == STORE_OK);
	T_STREQ(g.slug, "team-2");

	/* never itself, never below itself, only under a page */
	page_move_refused(s, a, about, about, KIND_PAGE, "parent");
	page_move_refused(s, a, about, team, KIND_PAGE, "parent");
	page_move_refused(s, a, company, team, KIND_PAGE, "parent");
	page_move_refused(s, a, team, p, KIND_PAGE, "parent");     /* a post */
	page_move_refused(s, a, team, 999999, KIND_PAGE, "parent");
	page_move_refused(s, a, p, about, KIND_POST, "parent");    /* posts: none */
	page_move_refused(s, a, about, 0, KIND_POST, "kind");      /* has subpages */
	/* an edit through content_input_from keeps the parent */
	T_CHECK(store_article_get_any(s, team, a, &g) == STORE_OK);
	content_input_from(&pin, &g, a);
	pin.now = NOW;
	pin.title = "Our team";
	save(s, &pin, a, CONTENT_OK, NULL);
	T_CHECK(store_article_get_any(s, team, a, &g) == STORE_OK);
	T_CHECK(g.parent_id == company);
	T_STREQ(g.title, "Our team");

	/* at most STORE_PAGE_DEPTH levels: about/company/team + 5 more */
	int64_t last = team;
	for (int i = 4; i <= STORE_PAGE_DEPTH; i++)
		last = page_add(s, a, "Level", arena_printf(a, "l%d", i), last,
		    CONTENT_OK);
	T_CHECK(last != 0);
	page_add(s, a, "Too deep", "l9", last, CONTENT_INVALID);
	T_CHECK(store_page_height(s, about, &h) == STORE_OK &&
	    h == STORE_PAGE_DEPTH - 1);
	T_CHECK(store_page_height(s, last, &h) == STORE_OK && h == 0);
	/* moving the whole tree under another page would make it 9 deep */
	int64_t other = page_add(s, a, "Other", "other", 0, CONTENT_OK);
	page_move_refused(s, a, about, other, KIND_PAGE, "parent");
	T_CHECK(store_article_get_any(s, last, a, &g) == STORE_OK);
	T_STREQ(content_article_path(s, &g, a),
	    "/pages/about/company/team/l4/l5/l6/l7/l8");

	/* deleting a parent lifts its children to the top */
	T_CHECK(content_trash(s, company, NOW) == CONTENT_OK);
	T_CHECK(content_delete(s, company) == CONTENT_OK);
	T_CHECK(store_article_get_any(s, team, a, &g) == STORE_OK);
	T_CHECK(g.parent_id == 0);
	T_STREQ(content_article_path(s, &g, a), "/pages/team");
	arena_free(a);
	store_close(s);
}

/* The change kinds logged for article id since seq *after (which moves
 * on): bit 1 << kind. */
static unsigned
changes_of(store *s, int64_t id, int64_t *after, arena *a)
{
	struct store_change *ch = NULL;
	size_t n = 0;
	unsigned kinds = 0;
	T_CHECK(store_changes_since(s, *after, 1000, a, &ch, &n) == STORE_OK);
	for (size_t i = 0; i < n; i++) {
		if (ch[i].article_id == id || ch[i].article_id == 0)
			kinds |= 1u << ch[i].kind;
		*after = ch[i].seq;
	}
	return kinds;
}

static void
test_change_scope(void)
{
	/* Appending to the body (追記) logs a text change: servers refresh the
	 * pages showing the article, not the whole site. A new title, date or
	 * tag set moves it in other pages: site-wide. */
	store *s = db_open();
	arena *a = arena_new(0);
	if (s == NULL)
		return;
	int64_t seq = 0;
	const char *tags1[] = {"政治"}, *tags2[] = {"政治", "経済"};
	struct content_input in = post("速報", "本文。");
	in.tags = tags1;
	in.ntags = 1;
	int64_t id = save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(changes_of(s, id, &seq, a) & (1u << CHANGE_ARTICLE));
	in.id = id;
	in.body = "本文。\n\n追記: 続報。";
	save(s, &in, a, CONTENT_OK, NULL);
	unsigned k = changes_of(s, id, &seq, a);
	T_CHECK(k == 1u << CHANGE_ARTICLE_TEXT);
	struct store_source src = {.title = "通信社", .url = "https://example.com/a"};
	in.sources = &src;
	in.nsources = 1;
	save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(changes_of(s, id, &seq, a) == 1u << CHANGE_ARTICLE_TEXT);
	in.tags = tags2;
	in.ntags = 2;
	save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(changes_of(s, id, &seq, a) & (1u << CHANGE_ARTICLE));
	in.title = "速報: 続報";
	save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(changes_of(s, id, &seq, a) & (1u << CHANGE_ARTICLE));
	in.published_at = NOW - 60;
	save(s, &in, a, CONTENT_OK, NULL);
	T_CHECK(changes_of(s, id, &seq, a) & (1u << CHANGE_ARTICLE));
	arena_free(a);
	store_close(s);
}

int
main(void)
{
	if (!t_tmpdir(t_dir, sizeof(t_dir), "content"))
		return 1;
	T_RUN(test_refusals);
	T_RUN(test_normalised);
	T_RUN(test_slugify);
	T_RUN(test_slug_unique);
	T_RUN(test_excerpt);
	T_RUN(test_markdown_safe);
	T_RUN(test_revisions);
	T_RUN(test_trash_restore);
	T_RUN(test_publish_due);
	T_RUN(test_pings_enqueued);
	T_RUN(test_search_in_step);
	T_RUN(test_batch);
	T_RUN(test_page_tree);
	T_RUN(test_change_scope);
	T_RUN(test_fm_parse);
	T_RUN(test_fm_errors);
	T_RUN(test_fm_roundtrip);
	t_tmpdir_remove(t_dir);
	T_DONE();
}
