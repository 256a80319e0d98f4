/*
 * port/: wpautop's paragraphs and line breaks, and the store's legacy id
 * lookups the importer's idempotence rests on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/port/port.h"
#include "src/store/store.h"
#include "t.h"

static char t_dir[64];

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
	char path[128];
	buf err;
	buf_init(&err, 1024);
	snprintf(path, sizeof(path), "%s/p.db", t_dir);
	store *s = store_open(path, &err);
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
	buf_free(&err);
}

int
main(void)
{
	snprintf(t_dir, sizeof(t_dir), "/tmp/kiji-port-XXXXXX");
	if (mkdtemp(t_dir) == NULL)
		return 1;
	T_RUN(test_wpautop);
	T_RUN(test_legacy_lookups);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t_dir);
	if (system(cmd) != 0)
		return 1;
	T_DONE();
}
