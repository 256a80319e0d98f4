/*
 * libFuzzer target for `kiji import-wxr`: the input is the export file,
 * read by the real port_wxr_import in dry-run mode (both passes: the map,
 * then the walk with bodies, shortcodes, links, kiji's JSON meta) against
 * a real store made once with the real schema and a small WXR imported
 * for real, so the "already there" paths run too. The file is a memfd
 * opened by its /proc/self/fd path. Inputs are capped at 64 KiB (libxml2's
 * reader and the map are linear, so more finds nothing new, only slower).
 *
 * Asserts: never a crash, leak or hang; true exactly when err is empty;
 * a dry run commits nothing (PRAGMA data_version from a connection of
 * our own is unchanged); every item counted once (items = posts + pages
 * + attachments + skipped types), the skipped types add up, the comment
 * sub-counts stay within the comments imported; the same file read
 * twice gives the same stats. An accepted file with a DOCTYPE declaring
 * an external entity, a nested entity or 17 entities put in front of its
 * root is refused.
 */
#include "../src/port/port.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the failed invariant: libFuzzer saves the input. */
#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "fuzz_wxr: %s:%d: %s\n", __FILE__, \
			    __LINE__, #expr);                              \
			abort();                                           \
		}                                                          \
	} while (0)

#define FZ_MAX (64u << 10)
#define FZ_NOW INT64_C(1700000000)

/* What the store holds before any input: an author, categories (one a
 * child), a tag, posts 1 and 2 (with comments and kiji's meta), page 3. */
static const char fz_site[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<rss version=\"2.0\" xmlns:excerpt=\"http://wordpress.org/export/1.2/excerpt/\""
    " xmlns:content=\"http://purl.org/rss/1.0/modules/content/\""
    " xmlns:dc=\"http://purl.org/dc/elements/1.1/\""
    " xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel>\n"
    "<wp:base_site_url>http://old.example</wp:base_site_url>\n"
    "<wp:author><wp:author_login>taro</wp:author_login>"
    "<wp:author_email>t@example.jp</wp:author_email>"
    "<wp:author_display_name>太郎</wp:author_display_name></wp:author>\n"
    "<wp:category><wp:category_nicename>news</wp:category_nicename>"
    "<wp:category_parent></wp:category_parent><wp:cat_name>ニュース</wp:cat_name>"
    "</wp:category>\n"
    "<wp:category><wp:category_nicename>local</wp:category_nicename>"
    "<wp:category_parent>news</wp:category_parent><wp:cat_name>地域</wp:cat_name>"
    "</wp:category>\n"
    "<wp:tag><wp:tag_slug>rain</wp:tag_slug><wp:tag_name>雨</wp:tag_name></wp:tag>\n"
    "<item><title>一</title><link>http://old.example/?p=1</link>"
    "<dc:creator>taro</dc:creator>"
    "<content:encoded><![CDATA[本文 [caption]x[/caption]\n\n"
    "<a href=\"http://old.example/?p=2\">next</a>]]></content:encoded>"
    "<excerpt:encoded></excerpt:encoded><wp:post_id>1</wp:post_id>"
    "<wp:post_date>2020-01-02 03:04:05</wp:post_date>"
    "<wp:post_date_gmt>2020-01-01 18:04:05</wp:post_date_gmt>"
    "<wp:post_name>one</wp:post_name><wp:status>publish</wp:status>"
    "<wp:post_type>post</wp:post_type>"
    "<category domain=\"category\" nicename=\"local\">地域</category>"
    "<category domain=\"post_tag\" nicename=\"rain\">雨</category>"
    "<wp:postmeta><wp:meta_key>_kiji_sources</wp:meta_key>"
    "<wp:meta_value>[{\"title\":\"s\",\"url\":\"https://s.example/\"}]"
    "</wp:meta_value></wp:postmeta>"
    "<wp:comment><wp:comment_id>10</wp:comment_id>"
    "<wp:comment_author>花子</wp:comment_author>"
    "<wp:comment_date_gmt>2020-01-03 00:00:00</wp:comment_date_gmt>"
    "<wp:comment_content>はい</wp:comment_content>"
    "<wp:comment_approved>1</wp:comment_approved>"
    "<wp:comment_parent>0</wp:comment_parent>"
    "<wp:commentmeta><wp:meta_key>_kiji_like_count</wp:meta_key>"
    "<wp:meta_value>2</wp:meta_value></wp:commentmeta></wp:comment>"
    "<wp:comment><wp:comment_id>11</wp:comment_id>"
    "<wp:comment_content>返信</wp:comment_content>"
    "<wp:comment_approved>0</wp:comment_approved>"
    "<wp:comment_parent>10</wp:comment_parent></wp:comment></item>\n"
    "<item><title>二</title><wp:post_id>2</wp:post_id>"
    "<wp:post_date>2020-02-02 03:04:05</wp:post_date>"
    "<wp:status>draft</wp:status><wp:post_type>post</wp:post_type>"
    "<content:encoded>two</content:encoded></item>\n"
    "<item><title>ページ</title><wp:post_id>3</wp:post_id>"
    "<wp:post_name>about</wp:post_name><wp:status>publish</wp:status>"
    "<wp:post_type>page</wp:post_type><wp:post_parent>0</wp:post_parent>"
    "<content:encoded>about</content:encoded></item>\n"
    "</channel></rss>\n";

/* DOCTYPEs that must be refused whatever follows. */
static const char *const fz_doctypes[] = {
	"<!DOCTYPE rss [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n",
	"<!DOCTYPE rss [<!ENTITY a \"ha\"><!ENTITY b \"&a;&a;\">]>\n",
	"<!DOCTYPE rss [<!ENTITY a \"1\"><!ENTITY b \"2\"><!ENTITY c \"3\">"
	"<!ENTITY d \"4\"><!ENTITY e \"5\"><!ENTITY f \"6\"><!ENTITY g \"7\">"
	"<!ENTITY h \"8\"><!ENTITY i \"9\"><!ENTITY j \"10\"><!ENTITY k \"11\">"
	"<!ENTITY l \"12\"><!ENTITY m \"13\"><!ENTITY n \"14\"><!ENTITY o \"15\">"
	"<!ENTITY p \"16\"><!ENTITY q \"17\">]>\n",
};

static char fz_dir[64];
static char fz_db[96];
static char fz_path[64]; /* the memfd, by name */
static int fz_fd = -1;
static store *fz_st;
static sqlite3 *fz_watch; /* our own connection: sees others' commits */

/* Removes dir's database files and dir. */
static void
fz_remove(const char *dir)
{
	static const char *const ext[] = {"", "-wal", "-shm", "-journal"};
	char p[160];
	for (size_t i = 0; i < sizeof(ext) / sizeof(*ext); i++) {
		snprintf(p, sizeof(p), "%s/site.db%s", dir, ext[i]);
		unlink(p);
	}
	rmdir(dir);
}

static void
fz_cleanup(void)
{
	if (fz_watch)
		sqlite3_close(fz_watch);
	if (fz_st)
		store_close(fz_st);
	fz_remove(fz_dir);
}

/* A crash (abort, a sanitizer) skips atexit: the folders of runs whose
 * process is gone are removed by the next run. */
static void
fz_sweep(const char *tmp)
{
	DIR *d = opendir(tmp);
	struct dirent *e;
	char p[160];
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		long pid;
		if (sscanf(e->d_name, "kiji-fuzz-wxr-%ld", &pid) != 1 || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmp, e->d_name);
		fz_remove(p);
	}
	closedir(d);
}

static void
fz_write(const void *p, size_t n)
{
	CHECK(ftruncate(fz_fd, 0) == 0);
	CHECK(pwrite(fz_fd, p, n, 0) == (ssize_t)n);
}

static bool
fz_import(bool dry, struct port_wxr_stats *s, buf *err)
{
	struct port_wxr_opts o = {.path = fz_path, .dry_run = dry,
	    .now = FZ_NOW};
	buf_reset(err);
	return port_wxr_import(fz_st, &o, s, err);
}

static void
fz_setup(void)
{
	buf err;
	struct port_wxr_stats s;
	const char *tmp = getenv("TMPDIR");
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 30)
		tmp = "/tmp";
	fz_sweep(tmp);
	snprintf(fz_dir, sizeof(fz_dir), "%s/kiji-fuzz-wxr-%ld", tmp,
	    (long)getpid());
	fz_remove(fz_dir); /* a folder of a process that had our pid */
	CHECK(mkdir(fz_dir, 0700) == 0);
	snprintf(fz_db, sizeof(fz_db), "%s/site.db", fz_dir);
	buf_init(&err, 4096);
	fz_st = store_open(fz_db, &err);
	if (fz_st == NULL)
		fprintf(stderr, "fuzz_wxr: %s\n", buf_cstr(&err));
	CHECK(fz_st != NULL);
	atexit(fz_cleanup);
	fz_fd = memfd_create("fuzz_wxr", MFD_CLOEXEC);
	CHECK(fz_fd >= 0);
	snprintf(fz_path, sizeof(fz_path), "/proc/self/fd/%d", fz_fd);
	fz_write(fz_site, sizeof(fz_site) - 1);
	bool ok = fz_import(false, &s, &err);
	if (!ok)
		fprintf(stderr, "fuzz_wxr: the site: %s\n", buf_cstr(&err));
	CHECK(ok && s.posts.imported == 2 && s.pages.imported == 1 &&
	    s.comments.imported == 2 && s.categories.imported == 2);
	buf_free(&err);
	CHECK(sqlite3_open_v2(fz_db, &fz_watch, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK);
}

static int64_t
fz_data_version(void)
{
	sqlite3_stmt *q;
	int64_t v = -1;
	CHECK(sqlite3_prepare_v2(fz_watch, "PRAGMA data_version", -1, &q,
	    NULL) == SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

static int64_t
fz_sum(const struct port_counts *c)
{
	return c->imported + c->updated + c->unchanged + c->failed;
}

/* What holds of any run's stats. */
static void
fz_check_stats(const struct port_wxr_stats *s)
{
	int64_t skipped = 0;
	for (int k = 0; k <= PORT_SKIP_TYPES; k++) {
		CHECK(s->skipped[k].n >= 0);
		skipped += s->skipped[k].n;
		CHECK(memchr(s->skipped[k].name, '\0',
		    sizeof(s->skipped[k].name)) != NULL);
	}
	CHECK(skipped == s->skipped_total);
	CHECK(s->items == fz_sum(&s->posts) + fz_sum(&s->pages) +
	    s->attachments + s->skipped_total);
	CHECK(s->comments_pending >= 0 && s->trackbacks >= 0 &&
	    s->pingbacks >= 0);
	CHECK(s->comments_pending + s->trackbacks + s->pingbacks <=
	    3 * s->comments.imported);
	CHECK(s->comments_pending <= s->comments.imported);
	CHECK(s->trackbacks + s->pingbacks <= s->comments.imported);
	CHECK(s->comments_orphan <= fz_sum(&s->comments));
}

/* One dry run: its result and stats, with what every run must hold. */
static bool
fz_dry(const void *p, size_t n, struct port_wxr_stats *s, buf *err)
{
	fz_write(p, n);
	int64_t before = fz_data_version();
	bool ok = fz_import(true, s, err);
	CHECK(fz_data_version() == before);
	CHECK(ok == (err->len == 0));
	fz_check_stats(s);
	return ok;
}

/* The input with a DOCTYPE put before its root: after its XML
 * declaration (and a BOM) when it has one, else at the start. */
static size_t
fz_with_doctype(const uint8_t *d, size_t n, const char *dt, char *out)
{
	size_t at = 0;
	if (n >= 3 && memcmp(d, "\xef\xbb\xbf", 3) == 0)
		at = 3;
	if (n - at >= 5 && memcmp(d + at, "<?xml", 5) == 0) {
		const uint8_t *e = memmem(d + at, n - at, "?>", 2);
		at = e ? (size_t)(e - d) + 2 : 0;
	} else {
		at = 0;
	}
	size_t k = strlen(dt);
	memcpy(out, d, at);
	memcpy(out + at, dt, k);
	memcpy(out + at + k, d + at, n - at);
	return n + k;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		fz_setup();
		ready = true;
	}
	if (size > FZ_MAX)
		return 0;
	struct port_wxr_stats s1, s2;
	buf e1, e2;
	buf_init(&e1, 4096);
	buf_init(&e2, 4096);
	bool ok = fz_dry(data, size, &s1, &e1);
	/* the same file, the same store: the same answer */
	CHECK(fz_dry(data, size, &s2, &e2) == ok);
	CHECK(memcmp(&s1, &s2, sizeof(s1)) == 0);
	CHECK(strcmp(buf_cstr(&e1), buf_cstr(&e2)) == 0);
	if (ok) {
		char *v = malloc(size + 1024);
		for (size_t i = 0; i < sizeof(fz_doctypes) / sizeof(*fz_doctypes);
		    i++) {
			size_t n = fz_with_doctype(data, size, fz_doctypes[i], v);
			CHECK(strlen(fz_doctypes[i]) < 1024);
			CHECK(!fz_dry(v, n, &s2, &e2));
		}
		free(v);
	}
	buf_free(&e1);
	buf_free(&e2);
	return 0;
}
