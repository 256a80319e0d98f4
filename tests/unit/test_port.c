/*
 * port/: wpautop's paragraphs and line breaks, the store's legacy id
 * lookups the importer's idempotence rests on, the shortcode converter
 * (and that what it writes passes the sanitiser), the classification of
 * links to the old site and the href/src rewriter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/port/port.h"
#include "src/render/render.h"
#include "src/store/store.h"
#include "t_db.h"

static const char *
autop(buf *b, const char *s)
{
	buf_reset(b);
	T_CHECK(port_wpautop(b, s, strlen(s)));
	return buf_cstr(b);
}

static void
test_wpautop(void)
{
	buf b;
	buf_init(&b, 0);
	T_STREQ(autop(&b, "one\ntwo\n\nthree"),
	    "<p>one<br />\ntwo</p>\n\n<p>three</p>\n\n");
	/* blank lines holding spaces still part paragraphs; ends trimmed */
	T_STREQ(autop(&b, "  a \n \t \nb\n\n\n"), "<p>a</p>\n\n<p>b</p>\n\n");
	/* a block element is left as it is */
	T_STREQ(autop(&b, "<h2>T</h2>\n\n<ul>\n<li>x</li>\n</ul>"),
	    "<h2>T</h2>\n\n<ul>\n<li>x</li>\n</ul>\n\n");
	/* Gutenberg's block comments are blocks too */
	T_STREQ(autop(&b, "<!-- wp:paragraph -->\n<p>x</p>\n<!-- /wp:paragraph -->"),
	    "<!-- wp:paragraph -->\n<p>x</p>\n<!-- /wp:paragraph -->\n\n");
	/* inside <pre> nothing is wrapped, across blank lines */
	T_STREQ(autop(&b, "<pre>a\n\nb</pre>\n\nc"),
	    "<pre>a\n\nb</pre>\n\n<p>c</p>\n\n");
	/* a newline inside a tag is not a line break; inline tags wrap */
	T_STREQ(autop(&b, "<a\nhref=\"x\">l</a> t"), "<p><a\nhref=\"x\">l</a> t</p>\n\n");
	T_STREQ(autop(&b, ""), "");
	T_STREQ(autop(&b, "\n\n\n"), "");
	buf_free(&b);
}

static void
test_legacy_lookups(void)
{
	store *s = t_db_open();
	T_CHECK(s != NULL);
	if (s == NULL)
		return;
	int64_t id = 42;
	T_CHECK(store_article_by_legacy(s, KIND_POST, "7", &id) == STORE_OK);
	T_CHECK(id == 0);
	struct store_article a;
	memset(&a, 0, sizeof(a));
	a.kind = KIND_PAGE;
	a.title = "t";
	a.slug = "t";
	a.body = a.body_html = a.body_text = a.excerpt = "";
	a.eyecatch = a.eyecatch_credit = a.guid = "";
	a.status = STATUS_PUBLISHED;
	a.legacy_id = "7";
	T_CHECK(store_article_add(s, &a) == STORE_OK);
	/* matched on kind too: post 7 and page 7 are different items */
	T_CHECK(store_article_by_legacy(s, KIND_POST, "7", &id) == STORE_OK);
	T_CHECK(id == 0);
	T_CHECK(store_article_by_legacy(s, KIND_PAGE, "7", &id) == STORE_OK);
	T_CHECK(id == a.id);
	/* "" never matches the articles written without a legacy id */
	T_CHECK(store_article_by_legacy(s, KIND_PAGE, "", &id) == STORE_OK);
	T_CHECK(id == 0);

	struct store_comment c;
	memset(&c, 0, sizeof(c));
	c.article_id = a.id;
	c.nickname = c.email = c.url = c.ip = c.visitor_id = "";
	c.pending_reason = "";
	c.body = "hi";
	c.status = CSTATUS_APPROVED;
	c.legacy_id = "99";
	T_CHECK(store_comment_add(s, &c) == STORE_OK);
	T_CHECK(store_comment_by_legacy(s, a.id, "99", &id) == STORE_OK);
	T_CHECK(id == c.id);
	T_CHECK(store_comment_by_legacy(s, a.id + 1, "99", &id) == STORE_OK);
	T_CHECK(id == 0);
	T_CHECK(store_comment_by_legacy(s, a.id, "98", &id) == STORE_OK);
	T_CHECK(id == 0);
	store_close(s);
}

/* ---- shortcodes ---- */

/* A fake attachment table: 11 and 12 are images of post 5, 13 is not. */
static bool
fake_media(void *ctx, int64_t id, struct port_sc_media *out)
{
	(void)ctx;
	if (id == 11) {
		out->url = "/media/a.png";
		out->caption = "出典: <a href=\"https://ex.jp/\">ex</a>";
		out->alt = "A \"q\"";
		return true;
	}
	if (id == 12) {
		out->url = "https://old.example/b.jpg";
		out->caption = "";
		out->alt = "";
		return true;
	}
	return false;
}

static size_t
fake_children(void *ctx, int64_t parent, int64_t *ids, size_t max)
{
	(void)ctx;
	if (parent != 5 || max < 3)
		return 0;
	ids[0] = 11;
	ids[1] = 12;
	ids[2] = 13;
	return 3;
}

static struct port_sc_stats sc_st;

static const char *
sc(buf *b, const char *s)
{
	struct port_sc_ctx c = {fake_media, fake_children, NULL, 5};
	buf_reset(b);
	T_CHECK(port_shortcodes(b, s, strlen(s), &c, &sc_st));
	return buf_cstr(b);
}

static void
test_shortcodes(void)
{
	buf b, h;
	buf_init(&b, 0);
	buf_init(&h, 0);
	memset(&sc_st, 0, sizeof(sc_st));
	/* [caption]: the image (in its link) and the text as a figure */
	T_STREQ(sc(&b, "[caption id=\"attachment_9\" align=\"alignright\" "
	    "width=\"300\"]<a href=\"/x\"><img src=\"/i.jpg\" /></a> 出典: "
	    "防衛省[/caption]"),
	    "<figure class=\"wp-caption alignright\"><a href=\"/x\"><img "
	    "src=\"/i.jpg\" /></a><figcaption class=\"wp-caption-text\">出典: "
	    "防衛省</figcaption></figure>");
	/* the old form: caption= attribute; an unknown align is dropped */
	T_STREQ(sc(&b, "[caption align=\"evil\\\" x\" caption=\"cap\"]<img "
	    "src=\"/i.jpg\">[/caption]"),
	    "<figure class=\"wp-caption\"><img src=\"/i.jpg\"><figcaption "
	    "class=\"wp-caption-text\">cap</figcaption></figure>");
	/* no image: the content as it is */
	T_STREQ(sc(&b, "[caption]just text[/caption]"), "just text");
	T_CHECK(sc_st.converted == 2);
	/* the figure survives the sanitiser (class names allow-listed) */
	sc(&b, "[caption align=\"aligncenter\"]<img src=\"/i.jpg\" alt=\"\"> "
	    "出典: <a href=\"https://ex.jp/\">ex</a>[/caption]");
	T_CHECK(render_html_sanitize(&h, b.ptr, b.len));
	T_STREQ(buf_cstr(&h), "<figure class=\"wp-caption aligncenter\"><img "
	    "src=\"/i.jpg\" alt=\"\" loading=\"lazy\"><figcaption "
	    "class=\"wp-caption-text\">出典: <a href=\"https://ex.jp/\" "
	    "rel=\"nofollow noopener\">ex</a></figcaption></figure>");

	/* [gallery ids=…]: known images only, in the given order */
	T_STREQ(sc(&b, "[gallery ids=\"12, 99,11\" columns=3]"),
	    "<ul class=\"gallery\"><li><figure><a href=\"https://old.example/"
	    "b.jpg\"><img src=\"https://old.example/b.jpg\" alt=\"\"></a>"
	    "</figure></li><li><figure><a href=\"/media/a.png\"><img src=\""
	    "/media/a.png\" alt=\"A &quot;q&quot;\"></a><figcaption>出典: <a "
	    "href=\"https://ex.jp/\">ex</a></figcaption></figure></li></ul>");
	/* without ids: the post's attached images */
	const char *g = sc(&b, "[gallery]");
	T_CHECK(strstr(g, "/media/a.png") && strstr(g, "old.example/b.jpg"));
	buf_reset(&h);
	T_CHECK(render_html_sanitize(&h, b.ptr, b.len));
	T_CHECK(strncmp(buf_cstr(&h), "<ul class=\"gallery\"><li><figure>",
	    strlen("<ul class=\"gallery\"><li><figure>")) == 0);
	T_CHECK(strstr(buf_cstr(&h), "<figcaption>出典:") != NULL);
	/* nothing to show: nothing */
	T_STREQ(sc(&b, "a[gallery ids=\"13\"]b"), "ab");

	/* embeds: plain links in a p.embed (never an iframe); media: plain
	 * links without the mark */
	T_STREQ(sc(&b, "[embed]https://www.youtube.com/watch?v=abc&amp;t=1[/embed]"),
	    "<p class=\"embed\"><a href=\"https://www.youtube.com/watch?v=abc"
	    "&amp;t=1\">https://www.youtube.com/watch?v=abc&amp;t=1</a></p>");
	T_STREQ(sc(&b, "[embed width=\"500\"] https://x.com/a/status/9 [/embed]"),
	    "<p class=\"embed\"><a href=\"https://x.com/a/status/9\">"
	    "https://x.com/a/status/9</a></p>");
	T_STREQ(sc(&b, "[embed]javascript:alert(1)[/embed]"), "javascript:alert(1)");
	T_STREQ(sc(&b, "[embed]https://ex.jp/\"><iframe src=x>[/embed]"),
	    "https://ex.jp/\"><iframe src=x>");
	T_STREQ(sc(&b, "[audio https://ex.jp/a.mp3]"),
	    "<p><a href=\"https://ex.jp/a.mp3\">https://ex.jp/a.mp3</a></p>");
	T_STREQ(sc(&b, "[video width=\"640\" mp4=\"https://ex.jp/v.mp4\"][/video]."),
	    "<p><a href=\"https://ex.jp/v.mp4\">https://ex.jp/v.mp4</a></p>.");
	/* a URL alone on a line (YouTube, X ...): an embed link; inside
	 * text: not */
	T_STREQ(sc(&b, "intro\n  https://x.com/a/status/1 \nsee https://x.com/b"),
	    "intro\n<p class=\"embed\"><a href=\"https://x.com/a/status/1\">"
	    "https://x.com/a/status/1</a></p>\nsee https://x.com/b");
	T_STREQ(sc(&b, "https://youtu.be/ex8fMxXJDJw"),
	    "<p class=\"embed\"><a href=\"https://youtu.be/ex8fMxXJDJw\">"
	    "https://youtu.be/ex8fMxXJDJw</a></p>");
	T_STREQ(sc(&b, "https://ex.jp/\"onmouseover=\"x"),
	    "https://ex.jp/\"onmouseover=\"x");
	/* Gutenberg's embed block: the URL alone on a line in its wrapper */
	T_STREQ(sc(&b, "<figure class=\"wp-block-embed\"><div class=\""
	    "wp-block-embed__wrapper\">\nhttps://youtu.be/ex8fMxXJDJw\n"
	    "</div></figure>"),
	    "<figure class=\"wp-block-embed\"><div class=\"wp-block-embed__"
	    "wrapper\">\n<p class=\"embed\"><a href=\"https://youtu.be/"
	    "ex8fMxXJDJw\">https://youtu.be/ex8fMxXJDJw</a></p>\n</div>"
	    "</figure>");
	/* the mark survives wpautop and the sanitiser, nothing else does */
	sc(&b, "text\n\nhttps://www.youtube.com/watch?v=ex8fMxXJDJw\n\n"
	    "[audio https://ex.jp/a.mp3]\n\n<p class=\"embed wp-x\" "
	    "onclick=\"x\">own</p><iframe src=\"https://www.youtube.com/embed/"
	    "ex8fMxXJDJw\"></iframe>");
	buf ap;
	buf_init(&ap, 0);
	T_CHECK(port_wpautop(&ap, b.ptr, b.len));
	buf_reset(&h);
	T_CHECK(render_html_sanitize(&h, ap.ptr, ap.len));
	T_STREQ(buf_cstr(&h), "<p>text</p>\n\n<p class=\"embed\"><a href=\""
	    "https://www.youtube.com/watch?v=ex8fMxXJDJw\" rel=\"nofollow "
	    "noopener\">https://www.youtube.com/watch?v=ex8fMxXJDJw</a></p>\n\n"
	    "<p><a href=\"https://ex.jp/a.mp3\" rel=\"nofollow noopener\">"
	    "https://ex.jp/a.mp3</a></p>\n\n<p class=\"embed\">own</p>\n\n");
	buf_free(&ap);
	/* nothing else the converter writes carries the mark */
	T_CHECK(strstr(sc(&b, "[caption]<img src=\"/i.jpg\"> c[/caption]"
	    "[gallery ids=\"11\"][video src=\"https://youtu.be/ex8fMxXJDJw\"]"
	    "see https://youtu.be/ex8fMxXJDJw [[embed]]"), "embed\"") == NULL);

	/* unknown shortcodes stay, counted by name; [[x]] is a literal [x] */
	memset(&sc_st, 0, sizeof(sc_st));
	T_STREQ(sc(&b, "[simple boat] [contact-form id=1][/contact-form] [simple]"),
	    "[simple boat] [contact-form id=1][/contact-form] [simple]");
	T_CHECK(sc_st.unknown_total == 3 && sc_st.converted == 0);
	T_STREQ(sc_st.unknown[0].name, "simple");
	T_CHECK(sc_st.unknown[0].n == 2 && sc_st.unknown[1].n == 1);
	T_STREQ(sc(&b, "[[gallery]] and [[caption]x[/caption]] [[foo bar]]"),
	    "[gallery] and [caption]x[/caption] [foo bar]");
	/* not shortcodes: footnote numbers, JSON in a block comment, tags */
	T_STREQ(sc(&b, "[1] [注] <!-- wp:gallery {\"ids\":[1,2]} --> <a "
	    "title=\"[gallery]\">x</a>"),
	    "[1] [注] <!-- wp:gallery {\"ids\":[1,2]} --> <a "
	    "title=\"[gallery]\">x</a>");
	T_CHECK(sc_st.converted == 0);

	/* bounded: nesting past the depth stays text; thousands of tags and
	 * unclosed enclosing ones are linear */
	buf big;
	buf_init(&big, 0);
	for (int i = 0; i < 20; i++)
		buf_puts(&big, "[caption]<img src=\"/a\"> t");
	for (int i = 0; i < 20; i++)
		buf_puts(&big, "[/caption]");
	struct port_sc_ctx c = {NULL, NULL, NULL, 0};
	buf_reset(&b);
	T_CHECK(port_shortcodes(&b, big.ptr, big.len, &c, &sc_st));
	T_CHECK(strstr(buf_cstr(&b), "<figure") != NULL);
	buf_reset(&big);
	for (int i = 0; i < 100000; i++)
		buf_puts(&big, "[caption][embed][x]");
	memset(&sc_st, 0, sizeof(sc_st));
	buf_reset(&b);
	T_CHECK(port_shortcodes(&b, big.ptr, big.len, &c, &sc_st));
	T_CHECK(sc_st.unknown_total + sc_st.converted <= 2000);
	buf_free(&big);
	buf_free(&b);
	buf_free(&h);
}

/* ---- links ---- */

static struct port_hosts hosts;

static const char *
url_kind(arena *a, const char *u, enum port_url_kind *k, int64_t *id)
{
	struct port_url r;
	port_url_parse(a, &hosts, u, strlen(u), &r);
	*k = r.kind;
	*id = r.id;
	return r.path ? r.path : "";
}

static void
test_links(void)
{
	arena *a = arena_new(0);
	enum port_url_kind k;
	int64_t id;
	memset(&hosts, 0, sizeof(hosts));
	port_hosts_add(&hosts, "https://www.Old-Site.example/", false);
	port_hosts_add(&hosts, "http://blog.example", false);
	port_hosts_add(&hosts, "https://old.files.wordpress.com/2008/06/a.jpg",
	    true);
	port_hosts_add(&hosts, "https://evil.example/x.jpg", true); /* ignored */
	T_CHECK(hosts.n == 3);

	url_kind(a, "http://old-site.example/?p=12", &k, &id);
	T_CHECK(k == PURL_ID && id == 12);
	url_kind(a, "https://www.old-site.example/index.php?x=1&page_id=7#c", &k, &id);
	T_CHECK(k == PURL_ID && id == 7);
	url_kind(a, "//blog.example/?attachment_id=99", &k, &id);
	T_CHECK(k == PURL_ATTACHMENT && id == 99);
	url_kind(a, "/archives/345/", &k, &id);
	T_CHECK(k == PURL_ID && id == 345);
	T_STREQ(url_kind(a, "https://old-site.example/2008/06/%E6%97%A5%e6%9c%ac/",
	    &k, &id), "/2008/06/日本/");
	T_CHECK(k == PURL_PATH);
	T_STREQ(url_kind(a, "https://old-site.example/category/news/%E6%97%A5/", &k,
	    &id), "日");
	T_CHECK(k == PURL_CATEGORY);
	T_STREQ(url_kind(a, "http://old-site.example/tag/c99", &k, &id), "c99");
	T_CHECK(k == PURL_TAG);
	T_STREQ(url_kind(a, "https://old-site.example/wp-content/uploads/2010/08/"
	    "x-300x200.jpg?w=1", &k, &id), "2010/08/x-300x200.jpg");
	T_CHECK(k == PURL_UPLOAD);
	T_STREQ(url_kind(a, "https://old.files.wordpress.com/2008/06/a.jpg?w=604",
	    &k, &id), "2008/06/a.jpg");
	T_CHECK(k == PURL_UPLOAD);
	/* not the old site's, or nothing we map */
	static const char *const none[] = {"https://other.example/?p=1",
	    "https://user@old-site.example/?p=1", "https://old-site.example:8080/?p=1",
	    "https://old-site.example/", "https://old-site.example/?p=x",
	    "mailto:a@old-site.example", "relative/?p=1", "#top",
	    "https://old-site.example/%ff/", "https://old-site.example.evil/?p=1",
	    "https://old-site.example/tag/a/b/", "/category/feed/", NULL};
	for (size_t i = 0; none[i]; i++) {
		url_kind(a, none[i], &k, &id);
		if (k != PURL_NONE)
			printf("  not NONE: %s\n", none[i]);
		T_CHECK(k == PURL_NONE);
	}

	/* a file's path under uploads, and its size variants */
	T_STREQ(port_upload_rel(a, "2008/06/日本.jpg", "https://x/y.jpg"),
	    "2008/06/日本.jpg");
	T_STREQ(port_upload_rel(a, NULL, "http://s.example/wp-content/uploads/2020/"
	    "01/%E5%86%99.png"), "2020/01/写.png");
	T_STREQ(port_upload_rel(a, "", "https://old.files.wordpress.com/2008/06/"
	    "a.jpg"), "2008/06/a.jpg");
	T_CHECK(port_upload_rel(a, "../etc/passwd", NULL) == NULL);
	T_CHECK(port_upload_rel(a, "/etc/passwd", NULL) == NULL);
	T_CHECK(port_upload_rel(a, "a//b.jpg", NULL) == NULL);
	T_CHECK(port_upload_rel(a, NULL, "https://s.example/wp-content/uploads/"
	    "2020/../../x.png") == NULL);
	T_CHECK(port_upload_rel(a, NULL, "https://s.example/x.png") == NULL);
	T_STREQ(port_upload_unsized(a, "2008/06/a-b-300x200.jpg"), "2008/06/a-b.jpg");
	T_STREQ(port_upload_unsized(a, "/wp-content/uploads/x-1x1.png"),
	    "/wp-content/uploads/x.png");
	T_CHECK(port_upload_unsized(a, "2008/06/a.jpg") == NULL);
	T_CHECK(port_upload_unsized(a, "2008/06/-300x200.jpg") == NULL);
	T_CHECK(port_upload_unsized(a, "2008/06/a-300x.jpg") == NULL);
	T_CHECK(port_upload_unsized(a, "2008/06/a300x200.jpg") == NULL);
	T_CHECK(port_upload_unsized(a, "a-1x1.d/b") == NULL);
	arena_free(a);
}

/* Rewrites what names /old/N to /articles/N. */
static const char *
fake_link(void *ctx, const char *url, size_t n)
{
	arena *a = ctx;
	if (n > 5 && strncmp(url, "/old/", 5) == 0)
		return arena_printf(a, "/articles/%s", url + 5);
	if (strcmp(url, "/q?a=1&b=2") == 0)
		return "/x?a=1&b=2";
	return NULL;
}

static void
test_links_rewrite(void)
{
	arena *a = arena_new(0);
	buf b;
	buf_init(&b, 0);
	const char *in = "<p>see <a class=x href=\"/old/1\">one</a>, <A HREF='/old/2'"
	    ">two</a>, <img alt=\"/old/9\" src=/old/3>, <a href=\"/q?a=1&amp;b=2\""
	    ">q</a> <a href=\"/keep\">k</a> href=\"/old/4\" <!-- <a href=\"/old/5"
	    "\"> --></p>";
	int64_t n = port_links_rewrite(&b, in, strlen(in), fake_link, a);
	T_CHECK(n == 4);
	T_STREQ(buf_cstr(&b), "<p>see <a class=x href=\"/articles/1\">one</a>, "
	    "<A HREF=\"/articles/2\">two</a>, <img alt=\"/old/9\" src=\""
	    "/articles/3\">, <a href=\"/x?a=1&amp;b=2\">q</a> <a href=\"/keep\">"
	    "k</a> href=\"/old/4\" <!-- <a href=\"/old/5\"> --></p>");
	/* broken markup is copied as it is */
	buf_reset(&b);
	const char *bad = "<a href=\"/old/7 <b href='/old/8";
	T_CHECK(port_links_rewrite(&b, bad, strlen(bad), fake_link, a) == 0);
	T_STREQ(buf_cstr(&b), bad);
	buf_free(&b);
	arena_free(a);
}

/* A file of a channel without items (a site with only categories and
 * tags, or nothing): imported, dry and for real, with nothing counted.
 * The map of no items once passed qsort a NULL table (found by
 * fuzz/fuzz_wxr, UBSan's nonnull check). */
static void
test_import_no_items(void)
{
	char path[128], xml[128];
	buf err;
	buf_init(&err, 1024);
	snprintf(path, sizeof(path), "%s/empty.db", t_dir);
	snprintf(xml, sizeof(xml), "%s/empty.xml", t_dir);
	FILE *f = fopen(xml, "w");
	T_CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs("<?xml version=\"1.0\"?>\n<rss version=\"2.0\" "
	    "xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel>"
	    "<wp:wxr_version>1.2</wp:wxr_version><wp:tag><wp:tag_slug>t"
	    "</wp:tag_slug><wp:tag_name>T</wp:tag_name></wp:tag>"
	    "</channel></rss>\n", f);
	fclose(f);
	store *s = store_open(path, &err);
	T_CHECK(s != NULL);
	if (s == NULL)
		return;
	struct port_wxr_opts o = {.path = xml, .dry_run = true,
	    .now = 1700000000};
	struct port_wxr_stats st;
	T_CHECK(port_wxr_import(s, &o, &st, &err));
	T_CHECK(st.items == 0 && st.tags.imported == 1 && err.len == 0);
	o.dry_run = false;
	T_CHECK(port_wxr_import(s, &o, &st, &err));
	T_CHECK(st.items == 0 && st.tags.imported == 1 && err.len == 0);
	T_CHECK(port_wxr_import(s, &o, &st, &err));
	T_CHECK(st.items == 0 && st.tags.unchanged == 1);
	store_close(s);
	buf_free(&err);
}

int
main(void)
{
	if (!t_tmpdir(t_dir, sizeof(t_dir), "port"))
		return 1;
	T_RUN(test_wpautop);
	T_RUN(test_legacy_lookups);
	T_RUN(test_shortcodes);
	T_RUN(test_links);
	T_RUN(test_links_rewrite);
	T_RUN(test_import_no_items);
	t_tmpdir_remove(t_dir);
	T_DONE();
}
