/*
 * kiji render's file side (src/cli/render_files.c): URL → file path below
 * the export directory, refusing every path that could leave it or name
 * an odd file; the links of a page and the rewrite of ?page=N links;
 * writes that skip identical bytes and replace a file atomically;
 * removal of a file and the folders it leaves empty.
 */
#include <dirent.h>
#include <sys/stat.h>

#include "../../src/cli/render.h"
#include "../../src/site/site.h"
#include "t_db.h"

static const char *
mapped(const char *path, int64_t page, enum site_xkind kind)
{
	static buf b;
	static bool init;
	if (!init) {
		buf_init(&b, 0);
		init = true;
	}
	return render_file_path(path, page, kind, &b) ? buf_cstr(&b) : NULL;
}

static void
test_paths(void)
{
	T_STREQ(mapped("/", 0, SITE_X_PAGED), "index.html");
	T_STREQ(mapped("/", 1, SITE_X_PAGED), "index.html");
	T_STREQ(mapped("/", 2, SITE_X_PAGED), "page/2/index.html");
	T_STREQ(mapped("/articles/5", 0, SITE_X_HTML), "articles/5/index.html");
	T_STREQ(mapped("/category/米国", 3, SITE_X_PAGED),
	    "category/米国/page/3/index.html");
	T_STREQ(mapped("/archive/2026/01", 0, SITE_X_PAGED),
	    "archive/2026/01/index.html");
	T_STREQ(mapped("/pages/about/team", 0, SITE_X_HTML),
	    "pages/about/team/index.html");
	T_STREQ(mapped("/feed", 0, SITE_X_FEED), "feed/index.xml");
	T_STREQ(mapped("/feed/atom", 0, SITE_X_FEED), "feed/atom/index.xml");
	T_STREQ(mapped("/articles/5/feed", 0, SITE_X_FEED),
	    "articles/5/feed/index.xml");
	T_STREQ(mapped("/static/kiji.css", 0, SITE_X_FILE), "static/kiji.css");
	T_STREQ(mapped("/sitemap-2.xml", 0, SITE_X_FILE), "sitemap-2.xml");
	T_STREQ(mapped("/robots.txt", 0, SITE_X_FILE), "robots.txt");
}

static void
test_paths_refused(void)
{
	static const char *const bad[] = {
		"", "articles/5", "/..", "/../etc/passwd", "/a/../../b",
		"/a/./b", "/.", "/a//b", "//a", "/a/", "/.kiji-export",
		"/static/.hidden", "/a\\..\\b", "/a\x01", "/a\x7f", "/\xff\xfe",
		"/a\nb",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (int k = SITE_X_HTML; k < SITE_X__MAX; k++)
			if (mapped(bad[i], 0, (enum site_xkind)k) != NULL) {
				printf("  accepted [%s] kind %d\n", bad[i], k);
				T_CHECK(false);
			}
	}
	/* a file needs a name; a feed is never the root */
	T_CHECK(mapped("/", 0, SITE_X_FILE) == NULL);
	T_CHECK(mapped("/", 0, SITE_X_FEED) == NULL);
	T_CHECK(mapped("/", 0, SITE_X_NO) == NULL);
	/* pages only for listings, and within bounds */
	T_CHECK(mapped("/articles/5", 2, SITE_X_HTML) == NULL);
	T_CHECK(mapped("/feed", 2, SITE_X_FEED) == NULL);
	T_CHECK(mapped("/", -1, SITE_X_PAGED) == NULL);
	T_CHECK(mapped("/", 1000000, SITE_X_PAGED) == NULL);
	char seg[300] = "/";
	memset(seg + 1, 'a', 256);
	seg[257] = '\0';
	T_CHECK(mapped(seg, 0, SITE_X_HTML) == NULL);
	seg[256] = '\0'; /* 255 bytes: a name the file system takes */
	T_CHECK(mapped(seg, 0, SITE_X_HTML) != NULL);
	char longp[1100];
	for (size_t i = 0; i < 1090; i += 2)
		memcpy(longp + i, "/a", 2);
	longp[1090] = '\0';
	T_CHECK(mapped(longp, 0, SITE_X_HTML) == NULL);
}

struct found {
	site *s;
	char urls[16][128];
	int n;
};

static enum site_xkind
kind_of(void *ctx, const char *path, arena *a)
{
	struct found *f = ctx;
	return site_export_kind(f->s, path, a);
}

static void
collect(void *ctx, const struct render_link *l)
{
	struct found *f = ctx;
	if (f->n < 16)
		snprintf(f->urls[f->n++], sizeof(f->urls[0]), "%d %s %lld",
		    (int)l->kind, l->path, (long long)l->page);
}

static void
test_scan(void)
{
	store *st = t_db_open();
	T_CHECK(st != NULL);
	if (st == NULL)
		return;
	buf err, out;
	buf_init(&err, 0);
	buf_init(&out, 0);
	site *s = site_new(st, NULL, &err);
	T_CHECK(s != NULL);
	if (s == NULL) {
		printf("  site_new: %s\n", buf_cstr(&err));
		store_close(st);
		return;
	}
	T_CHECK(site_export_begin(s, &(struct site_export_opts){
	    .base_url = "https://copy.example/"}, &err));
	char *base = site_export_base_url(s);
	T_STREQ(base, "https://copy.example");
	static const char page[] =
	    "<link rel=\"canonical\" href=\"https://copy.example/category/%E7%B1%B3?page=2\">"
	    "<a href=\"/?page=3\">3</a><a href=\"/?page=1\">1</a>"
	    "<a href=\"/tag/x?page=2#top\">t</a>"
	    "<a href=\"https://other.example/?page=2\">o</a>"
	    "<a href=\"/search?q=a&amp;page=2\">s</a>"
	    "<a href=\"/articles/7?replytocom=3#respond\">r</a>"
	    "<a href=\"/articles/7\">a</a><img src=\"/static/kiji.css?v=abc\">"
	    "<a href=\"/admin/\">x</a><a href=\"//evil.example/\">e</a>"
	    "<a href=\"/articles/%ZZ\">bad</a><p>/feed</p>"
	    "<a href=\"/articles/8?page=2\">no</a>";
	struct found f = {.s = s};
	arena *a = arena_new(0);
	render_scan(page, sizeof(page) - 1, base, a, &out, kind_of, collect, &f);
	T_CHECK(f.n == 7);
	T_STREQ(f.urls[0], "2 /category/米 2");
	T_STREQ(f.urls[1], "2 / 3");
	T_STREQ(f.urls[2], "2 / 0");
	T_STREQ(f.urls[3], "2 /tag/x 2");
	T_STREQ(f.urls[4], "1 /articles/7 0");
	T_STREQ(f.urls[5], "4 /static/kiji.css 0");
	T_STREQ(f.urls[6], "3 /feed 0");
	const char *o = buf_cstr(&out);
	T_CHECK(strstr(o, "href=\"https://copy.example/category/%E7%B1%B3/page/2/\"") != NULL);
	T_CHECK(strstr(o, "href=\"/page/3/\"") != NULL);
	T_CHECK(strstr(o, "href=\"/\">1</a>") != NULL); /* page 1: the listing */
	T_CHECK(strstr(o, "href=\"/tag/x/page/2/#top\"") != NULL);
	/* not ours, or not a listing: left as written */
	T_CHECK(strstr(o, "href=\"https://other.example/?page=2\"") != NULL);
	T_CHECK(strstr(o, "href=\"/search?q=a&amp;page=2\"") != NULL);
	T_CHECK(strstr(o, "href=\"/articles/8?page=2\"") != NULL);
	T_CHECK(strstr(o, "?v=abc") != NULL);
	free(base);
	arena_free(a);
	buf_free(&out);
	buf_free(&err);
	site_free(s);
	store_close(st);
}

static void
test_put(void)
{
	char dir[T_PATH_MAX], p[T_PATH_MAX * 2];
	t_path(dir, sizeof(dir), "out");
	T_CHECK(mkdir(dir, 0755) == 0);
	T_CHECK(render_put(dir, "a/b/index.html", "one", 3) == RENDER_WROTE);
	snprintf(p, sizeof(p), "%s/a/b/index.html", dir);
	struct stat s1, s2;
	T_CHECK(stat(p, &s1) == 0 && s1.st_size == 3);
	/* the same bytes: not touched */
	T_CHECK(render_put(dir, "a/b/index.html", "one", 3) == RENDER_SAME);
	T_CHECK(stat(p, &s2) == 0 && s2.st_ino == s1.st_ino &&
	    s2.st_mtim.tv_nsec == s1.st_mtim.tv_nsec &&
	    s2.st_mtim.tv_sec == s1.st_mtim.tv_sec);
	/* other bytes of the same length: a new file renamed over it */
	T_CHECK(render_put(dir, "a/b/index.html", "two", 3) == RENDER_WROTE);
	T_CHECK(stat(p, &s2) == 0 && s2.st_ino != s1.st_ino);
	FILE *f = fopen(p, "r");
	char got[8] = {0};
	T_CHECK(f != NULL && fread(got, 1, sizeof(got) - 1, f) == 3);
	if (f)
		fclose(f);
	T_STREQ(got, "two");
	T_CHECK(render_put(dir, "a/b/index.html", "", 0) == RENDER_WROTE);
	T_CHECK(stat(p, &s2) == 0 && s2.st_size == 0);
	/* no temporary file left beside it */
	snprintf(p, sizeof(p), "%s/a/b", dir);
	int n = 0;
	DIR *d = opendir(p);
	T_CHECK(d != NULL);
	for (struct dirent *de; d && (de = readdir(d)) != NULL; )
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	if (d)
		closedir(d);
	T_CHECK(n == 1);
	/* a file where a folder is wanted: an error, nothing replaced */
	T_CHECK(render_put(dir, "a/b/index.html/x", "z", 1) == RENDER_ERR);
	T_CHECK(render_put(dir, "a/c.txt", "c", 1) == RENDER_WROTE);
	/* removal takes the folders it empties, never dir itself */
	render_remove(dir, "a/b/index.html");
	snprintf(p, sizeof(p), "%s/a/b", dir);
	T_CHECK(access(p, F_OK) != 0);
	snprintf(p, sizeof(p), "%s/a/c.txt", dir);
	T_CHECK(access(p, F_OK) == 0);
	render_remove(dir, "a/c.txt");
	snprintf(p, sizeof(p), "%s/a", dir);
	T_CHECK(access(p, F_OK) != 0);
	T_CHECK(access(dir, F_OK) == 0);
}

int
main(void)
{
	if (!t_tmpdir(t_dir, sizeof(t_dir), "render-export"))
		return 1;
	T_RUN(test_paths);
	T_RUN(test_paths_refused);
	T_RUN(test_scan);
	T_RUN(test_put);
	t_tmpdir_remove(t_dir);
	T_DONE();
}
