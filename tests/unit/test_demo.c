/*
 * The demo generator: same seed + same now gives the same site; the site
 * has what the pages and tests downstream rely on (categories, deep reply
 * threads, silent articles, trackbacks, credited figures, sources, drafts
 * and scheduled posts that stay invisible). Also content_save's HTML
 * path next to the demo's articles. Runs in tests/unit; databases go to
 * /tmp and are removed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../src/content/content.h"
#include "../../src/render/render.h"
#include "../../src/site/site.h"
#include "t.h"

#define NOW 1700000000   /* 2023-11-14 22:13:20 UTC */
#define NART 60
#define NCOM 8
#define NEXTRA 4          /* 2 drafts + 2 scheduled after the NART posts */

static store *sa, *sb, *sc; /* seed 42, seed 42 again, seed 43 */
static char pa[128], pb[128], pc[128];

static void
rm_db(const char *path)
{
	char p[160];
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-journal", path);
	unlink(p);
}

static store *
make(char *path, size_t n, const char *tag, uint64_t seed)
{
	snprintf(path, n, "/tmp/kiji-test-demo-%d-%s.db", (int)getpid(), tag);
	rm_db(path);
	buf err;
	buf_init(&err, 0);
	store *st = store_open(path, &err);
	if (st == NULL) {
		printf("store_open %s: %s\n", path, buf_cstr(&err));
	} else {
		struct site_demo_opts o = {NART, NCOM, seed, NOW, false};
		if (!site_demo(st, &o, &err)) {
			printf("site_demo: %s\n", buf_cstr(&err));
			store_close(st);
			st = NULL;
		}
	}
	buf_free(&err);
	return st;
}

static void
collect_setting(void *ctx, const char *key, const char *value)
{
	buf_printf(ctx, "%s=%s\n", key, value);
}

static bool
same_str(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static void
test_created(void)
{
	T_CHECK(sa != NULL);
	T_CHECK(sb != NULL);
	T_CHECK(sc != NULL);
}

/* Articles, comments, settings and media are identical across two runs. */
static void
test_deterministic(void)
{
	if (!sa || !sb)
		return;
	arena *ar = arena_new(0);
	int diff = 0;
	for (int64_t id = 1; id <= NART + NEXTRA; id++) {
		struct store_article x, y;
		arena_reset(ar);
		T_CHECK(store_article_get_any(sa, id, ar, &x) == STORE_OK);
		T_CHECK(store_article_get_any(sb, id, ar, &y) == STORE_OK);
		if (t_cur_failed)
			break;
		diff += !same_str(x.title, y.title) || !same_str(x.body, y.body) ||
		    !same_str(x.body_html, y.body_html) ||
		    !same_str(x.body_text, y.body_text) ||
		    !same_str(x.eyecatch_credit, y.eyecatch_credit) ||
		    !same_str(x.guid, y.guid) || x.published_at != y.published_at ||
		    x.status != y.status || x.nsources != y.nsources ||
		    x.ntags != y.ntags || x.category_id != y.category_id ||
		    x.comment_count != y.comment_count;
		for (size_t j = 0; j < x.nsources && j < y.nsources; j++)
			diff += !same_str(x.sources[j].url, y.sources[j].url);
		struct store_comment *cx, *cy;
		size_t nx, ny;
		T_CHECK(store_comments_for_article(sa, id, CTYPE__MAX, NULL, ar, &cx,
		    &nx) == STORE_OK);
		T_CHECK(store_comments_for_article(sb, id, CTYPE__MAX, NULL, ar, &cy,
		    &ny) == STORE_OK);
		if (t_cur_failed)
			break;
		diff += nx != ny;
		for (size_t j = 0; j < nx && j < ny; j++)
			diff += cx[j].id != cy[j].id || cx[j].parent_id != cy[j].parent_id ||
			    cx[j].created_at != cy[j].created_at ||
			    cx[j].like_count != cy[j].like_count ||
			    !same_str(cx[j].nickname, cy[j].nickname) ||
			    !same_str(cx[j].body, cy[j].body) ||
			    !same_str(cx[j].visitor_id, cy[j].visitor_id);
	}
	T_CHECK(diff == 0);

	buf s1, s2;
	buf_init(&s1, 0);
	buf_init(&s2, 0);
	T_CHECK(store_settings_each(sa, collect_setting, &s1) == STORE_OK);
	T_CHECK(store_settings_each(sb, collect_setting, &s2) == STORE_OK);
	T_STREQ(buf_cstr(&s1), buf_cstr(&s2));
	T_CHECK(strstr(buf_cstr(&s1), "site.timezone=Asia/Tokyo\n") != NULL);
	T_CHECK(strstr(buf_cstr(&s1), "site.base_url=http://127.0.0.1:8080\n") != NULL);
	T_CHECK(strstr(buf_cstr(&s1), "site.title=") != NULL);
	buf_free(&s1);
	buf_free(&s2);

	const char *t1, *t2;
	const void *d1, *d2;
	size_t n1 = 0, n2 = 0;
	int64_t m1, m2;
	T_CHECK(store_media_get(sa, "demo-eye-3.svg", ar, &t1, &d1, &n1, &m1) == STORE_OK);
	T_CHECK(store_media_get(sb, "demo-eye-3.svg", ar, &t2, &d2, &n2, &m2) == STORE_OK);
	T_CHECK(n1 > 0 && n1 == n2 && memcmp(d1, d2, n1) == 0);
	arena_free(ar);
}

/* Another seed gives another site. */
static void
test_seed_matters(void)
{
	if (!sa || !sc)
		return;
	arena *ar = arena_new(0);
	int same = 0;
	for (int64_t id = 1; id <= NART; id++) {
		struct store_article x, y;
		arena_reset(ar);
		if (store_article_get_any(sa, id, ar, &x) != STORE_OK ||
		    store_article_get_any(sc, id, ar, &y) != STORE_OK) {
			T_CHECK(!"get_any failed");
			break;
		}
		same += same_str(x.title, y.title);
	}
	T_CHECK(same < NART / 4);
	arena_free(ar);
}

static void
test_categories(void)
{
	if (!sa)
		return;
	arena *ar = arena_new(0);
	struct store_category *c;
	size_t n = 0;
	T_CHECK(store_categories(sa, ar, &c, &n) == STORE_OK);
	T_CHECK(n >= 8);
	for (size_t i = 0; i < n; i++) {
		for (const char *p = c[i].slug; *p; p++)
			T_CHECK((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			    *p == '-');
	}
	struct store_tag t;
	T_CHECK(store_tag_by_slug(sa, "f-35", ar, &t) == STORE_OK);
	T_CHECK(store_tag_by_slug(sa, "nato", ar, &t) == STORE_OK);
	arena_free(ar);
}

/*
 * Comment shape: deep reply chains on several articles, some silent
 * articles, trackbacks somewhere, dates after publication and before now,
 * in order, parents listed before their replies.
 */
static void
test_comments(void)
{
	if (!sa)
		return;
	arena *ar = arena_new(0);
	int max_depth = 0, deep_articles = 0, silent = 0, trackbacks = 0;
	int64_t total = 0;
	bool order_ok = true, dates_ok = true, parents_ok = true;
	for (int64_t id = 1; id <= NART; id++) {
		struct store_article a;
		struct store_comment *c;
		size_t n;
		arena_reset(ar);
		if (store_article_get_any(sa, id, ar, &a) != STORE_OK ||
		    store_comments_for_article(sa, id, CTYPE__MAX, NULL, ar, &c, &n) !=
			STORE_OK) {
			T_CHECK(!"read failed");
			break;
		}
		int *depth = arena_alloc(ar, (n + 1) * sizeof(*depth));
		int art_max = 0, ncomments = 0;
		for (size_t i = 0; i < n; i++) {
			if (c[i].type == CTYPE_TRACKBACK) {
				trackbacks++;
				T_CHECK(strncmp(c[i].url, "https://blog.example.org/", 25) == 0);
				continue;
			}
			ncomments++;
			dates_ok &= c[i].created_at > a.published_at && c[i].created_at < NOW;
			if (i > 0)
				order_ok &= c[i - 1].created_at <= c[i].created_at;
			depth[i] = 1;
			if (c[i].parent_id) {
				size_t j = 0;
				while (j < i && c[j].id != c[i].parent_id)
					j++;
				parents_ok &= j < i;
				if (j < i)
					depth[i] = depth[j] + 1;
			}
			if (depth[i] > art_max)
				art_max = depth[i];
		}
		total += ncomments;
		silent += ncomments == 0;
		deep_articles += art_max >= 4;
		if (art_max > max_depth)
			max_depth = art_max;
	}
	T_CHECK(max_depth >= 4);
	T_CHECK(deep_articles >= 5);
	T_CHECK(silent >= 1);
	T_CHECK(trackbacks >= 1);
	T_CHECK(order_ok);
	T_CHECK(dates_ok);
	T_CHECK(parents_ok);
	/* About NCOM per article on average (approved, so a little under). */
	T_CHECK(total > NART * NCOM / 2 && total < NART * NCOM * 2);
	arena_free(ar);
}

/* Every body has a credited figure, a subheading, and 2+ sources. */
static void
test_bodies(void)
{
	if (!sa)
		return;
	arena *ar = arena_new(0);
	int bad_fig = 0, bad_src = 0, bad_head = 0, related = 0;
	for (int64_t id = 1; id <= NART + NEXTRA; id++) {
		struct store_article a;
		arena_reset(ar);
		if (store_article_get_any(sa, id, ar, &a) != STORE_OK) {
			T_CHECK(!"get_any failed");
			break;
		}
		const char *f = strstr(a.body_html, "<figure");
		const char *cap = f ? strstr(f, "<figcaption") : NULL;
		cap = cap ? strchr(cap, '>') : NULL;
		bad_fig += cap == NULL || strncmp(cap + 1, "出典", strlen("出典")) != 0;
		bad_head += strstr(a.body_html, "<h2") == NULL;
		bad_src += a.nsources < 2;
		for (size_t j = 0; j < a.nsources; j++)
			bad_src += strncmp(a.sources[j].url, "https://", 8) != 0 ||
			    a.sources[j].title[0] == '\0';
		related += strstr(a.body_html, "href=\"/articles/") != NULL;
		T_CHECK(a.ntags >= 1 && a.ntags <= 4);
		T_CHECK(strncmp(a.eyecatch, "/media/demo-eye-", 16) == 0);
		T_CHECK(a.eyecatch_credit[0] != '\0');
		T_CHECK(a.body_text[0] != '\0' && strchr(a.body_text, '<') == NULL);
		if (t_cur_failed)
			break;
	}
	T_CHECK(bad_fig == 0);
	T_CHECK(bad_head == 0);
	T_CHECK(bad_src == 0);
	T_CHECK(related >= NART - 1);
	arena_free(ar);
}

/* NART visible posts; the drafts and scheduled extras are not visible. */
static void
test_visibility(void)
{
	if (!sa)
		return;
	arena *ar = arena_new(0);
	int64_t n = 0;
	T_CHECK(store_articles_count(sa, NOW, &n) == STORE_OK);
	T_CHECK(n == NART);
	int drafts = 0, scheduled = 0;
	for (int64_t id = NART + 1; id <= NART + NEXTRA; id++) {
		struct store_article a;
		arena_reset(ar);
		T_CHECK(store_article_get_any(sa, id, ar, &a) == STORE_OK);
		if (t_cur_failed)
			break;
		drafts += a.status == STATUS_DRAFT;
		if (a.status == STATUS_SCHEDULED) {
			scheduled++;
			T_CHECK(a.published_at > NOW);
		}
		T_CHECK(store_article_get(sa, id, NOW, ar, &a) == STORE_NOTFOUND);
	}
	T_CHECK(drafts == 2);
	T_CHECK(scheduled == 2);
	struct store_article a;
	T_CHECK(store_article_get(sa, NART, NOW, ar, &a) == STORE_OK);
	T_CHECK(a.published_at < NOW && a.published_at > NOW - 3 * 3600);
	T_CHECK(a.status == STATUS_PUBLISHED);

	struct store_article *pop;
	size_t np = 0;
	T_CHECK(store_popular(sa, NOW - 7 * 86400, NOW, 5, ar, &pop, &np) == STORE_OK);
	T_CHECK(np == 5);
	arena_free(ar);
}

/* The demo's batch wrote the search index (in one big in-memory pass):
 * every visible post is found by the first four characters of its
 * title, and a draft is not. */
static void
test_search_index(void)
{
	if (!sa)
		return;
	arena *ar = arena_new(0);
	for (int64_t id = 1; id <= NART + NEXTRA; id++) {
		struct store_article a;
		arena_reset(ar);
		T_CHECK(store_article_get_any(sa, id, ar, &a) == STORE_OK);
		if (t_cur_failed)
			break;
		const char *p = a.title;
		for (int i = 0; i < 4 && *p; i++) /* four UTF-8 characters */
			do
				p++;
			while ((*p & 0xC0) == 0x80);
		char *q = arena_strndup(ar, a.title, (size_t)(p - a.title));
		struct store_hit *hits;
		size_t n = 0;
		int64_t total = 0;
		T_CHECK(store_search(sa, q, NOW, 0, 1000, ar, &hits, &n, &total)
		    == STORE_OK);
		bool found = false;
		for (size_t i = 0; i < n; i++)
			found = found || hits[i].article.id == id;
		T_CHECK(found == (a.status == STATUS_PUBLISHED &&
		    a.published_at <= NOW));
	}
	arena_free(ar);
}

/* Generated SVGs: the right type and size, nothing active or external. */
static void
test_media(void)
{
	if (!sa)
		return;
	arena *ar = arena_new(0);
	static const char *names[] = {"demo-img-1.svg", "demo-img-12.svg",
	    "demo-eye-1.svg", "demo-eye-6.svg"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *type;
		const void *data;
		size_t n = 0;
		int64_t mtime;
		T_CHECK(store_media_get(sa, names[i], ar, &type, &data, &n, &mtime) ==
		    STORE_OK);
		if (t_cur_failed)
			break;
		char *s = arena_strndup(ar, data, n);
		T_STREQ(type, "image/svg+xml");
		T_CHECK(strncmp(s, "<svg ", 5) == 0);
		T_CHECK(strstr(s, "<script") == NULL && strstr(s, "href") == NULL);
		T_CHECK(strstr(s, " on") == NULL); /* no event handlers */
		if (strncmp(names[i], "demo-eye", 8) == 0)
			T_CHECK(strstr(s, "width=\"1200\" height=\"630\"") != NULL);
	}
	arena_free(ar);
}

/* Articles written next to the demo's go through the same save path:
 * HTML bodies (the importer's) are sanitised, Markdown is safe. */
static void
test_article_add_html(void)
{
	if (!sa)
		return;
	arena *ar = arena_new(0);
	struct content_input a = {0};
	struct content_result res;
	a.kind = KIND_POST;
	a.title = "HTML本文のテスト";
	a.slug = "html-body-test";
	a.body = "<p>一行目 &amp; <b>太字</b></p><script>alert(1)</script>"
		 "<p><a href=\"javascript:x()\">リンク</a></p>";
	a.body_format = FORMAT_HTML;
	a.status = STATUS_PUBLISHED;
	a.published_at = NOW - 60;
	a.now = NOW - 60;
	a.author_id = 1;
	a.category_id = 1;
	a.comments_open = true;
	a.guid = "test-html-1";
	T_CHECK(content_save(sa, &a, ar, &res) == CONTENT_OK);
	T_CHECK(res.id > 0);
	struct store_article g;
	T_CHECK(store_article_get_any(sa, res.id, ar, &g) == STORE_OK);
	if (!t_cur_failed) {
		T_CHECK(strstr(g.body_html, "<script") == NULL);
		T_CHECK(strstr(g.body_html, "alert") == NULL);
		T_CHECK(strstr(g.body_html, "javascript:") == NULL);
		T_CHECK(strstr(g.body_html, "太字") != NULL);
		T_CHECK(strstr(g.body_text, "一行目 & 太字") != NULL);
		T_CHECK(strstr(g.body_text, "alert") == NULL);
	}

	struct content_input m = a;
	m.slug = "md-body-test";
	m.guid = "test-md-1";
	m.body = "本文 <script>x</script> [a](javascript:y)";
	m.body_format = FORMAT_MARKDOWN;
	T_CHECK(content_save(sa, &m, ar, &res) == CONTENT_OK);
	T_CHECK(store_article_get_any(sa, res.id, ar, &g) == STORE_OK);
	if (!t_cur_failed) {
		T_CHECK(strstr(g.body_html, "<script") == NULL);
		T_CHECK(strstr(g.body_html, "javascript:") == NULL);
	}

	struct content_input bad = m;
	bad.slug = "bad-utf8";
	bad.guid = "test-bad-1";
	bad.body = "\xff\xfe";
	T_CHECK(content_save(sa, &bad, ar, &res) == CONTENT_INVALID);
	T_STREQ(res.field, "body");
	arena_free(ar);
}

int
main(void)
{
	sa = make(pa, sizeof(pa), "a", 42);
	sb = make(pb, sizeof(pb), "b", 42);
	sc = make(pc, sizeof(pc), "c", 43);
	T_RUN(test_created);
	T_RUN(test_deterministic);
	T_RUN(test_seed_matters);
	T_RUN(test_categories);
	T_RUN(test_comments);
	T_RUN(test_bodies);
	T_RUN(test_visibility);
	T_RUN(test_search_index);
	T_RUN(test_media);
	T_RUN(test_article_add_html); /* last: it adds to sa */
	store_close(sa);
	store_close(sb);
	store_close(sc);
	rm_db(pa);
	rm_db(pb);
	rm_db(pc);
	T_DONE();
}
