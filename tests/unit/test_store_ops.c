/*
 * store operations (issue 13): backup and restore at the store level, the
 * lock that keeps a restore and an open store apart, erasing commenters'
 * IP addresses, and transaction endings that are not errors.
 */
#include "../../src/store/store.h"
#include "t_db.h"

#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOW ((int64_t)1700000000)
#define DAY ((int64_t)86400)

/* One article with one comment from ip and email at time at; its id. */
static int64_t
add_commented(store *s, const char *ip, const char *email, int64_t at)
{
	static int n;
	char slug[32];
	snprintf(slug, sizeof slug, "a%d", ++n);
	struct store_article a = {.title = "記事", .slug = slug, .body = "b",
	    .body_html = "<p>b</p>", .body_text = "b", .status = STATUS_PUBLISHED,
	    .published_at = NOW - 100 * DAY, .updated_at = NOW - 100 * DAY,
	    .comments_open = true};
	T_CHECK(store_article_add(s, &a) == STORE_OK);
	struct store_comment c = {.article_id = a.id, .type = CTYPE_COMMENT,
	    .nickname = "n", .email = email, .ip = ip, .visitor_id = "",
	    .body = "コメント", .created_at = at, .status = CSTATUS_APPROVED};
	T_CHECK(store_comment_add(s, &c) == STORE_OK);
	return c.id;
}

static const char *
comment_ip(store *s, int64_t id, arena *a)
{
	struct store_comment c;
	if (store_comment_get(s, id, a, &c) != STORE_OK)
		return "(none)";
	return c.ip;
}

/* Nothing to roll back is not an error (the callers that roll back after
 * a failed begin or commit must not log a misuse). */
static void
test_rollback_without_transaction(void)
{
	store *s = t_db_open();
	T_CHECK(s != NULL);
	T_CHECK(store_rollback(s) == STORE_OK);
	T_CHECK(store_begin(s) == STORE_OK);
	T_CHECK(store_rollback(s) == STORE_OK);
	T_CHECK(store_rollback(s) == STORE_OK);
	T_CHECK(store_begin(s) == STORE_OK); /* usable again */
	T_CHECK(store_commit(s) == STORE_OK);
	store_close(s);
}

static void
test_ip_days(void)
{
	arena *a = arena_new(0);
	store *s = t_db_open();
	T_CHECK(s != NULL);
	int64_t old = add_commented(s, "192.0.2.1", "", NOW - 91 * DAY);
	int64_t young = add_commented(s, "192.0.2.2", "", NOW - 89 * DAY);
	int64_t n = -1;
	T_CHECK(store_comments_forget_ips(s, NOW - 90 * DAY, &n) == STORE_OK);
	T_CHECK(n == 1);
	T_STREQ(comment_ip(s, old, a), "");
	T_STREQ(comment_ip(s, young, a), "192.0.2.2");
	T_CHECK(store_comments_forget_ips(s, NOW - 90 * DAY, &n) == STORE_OK);
	T_CHECK(n == 0); /* idempotent */
	store_close(s);
	arena_free(a);
}

/* The count of rows of one query on a file (sqlite3 directly). */
static int
count_in(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void
test_backup_restore(void)
{
	char db[T_PATH_MAX], out[T_PATH_MAX], out2[T_PATH_MAX], other[T_PATH_MAX];
	buf err;
	buf_init(&err, 0);
	t_path(db, sizeof db, "site.db");
	t_path(out, sizeof out, "copy.db");
	t_path(out2, sizeof out2, "noaddr.db");
	t_path(other, sizeof other, "other.db");
	store *s = store_open(db, &err);
	T_CHECK(s != NULL);
	add_commented(s, "192.0.2.7", "a@example.org", NOW);

	/* online: the store stays open */
	T_CHECK(store_backup(db, out, NULL, &err) == STORE_OK);
	struct stat sb;
	T_CHECK(stat(out, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	T_CHECK(count_in(out, "SELECT COUNT(*) FROM comments WHERE ip = "
	    "'192.0.2.7' AND email = 'a@example.org'") == 1);
	buf_reset(&err);
	T_CHECK(store_backup(db, out, NULL, &err) == STORE_CONFLICT);
	T_CHECK(strstr(buf_cstr(&err), "exists") != NULL);
	struct store_backup_opts o = {.force = true, .without_addresses = true};
	T_CHECK(store_backup(db, out2, &o, &err) == STORE_OK);
	T_CHECK(count_in(out2, "SELECT COUNT(*) FROM comments WHERE ip <> '' "
	    "OR email <> ''") == 0);
	T_CHECK(count_in(out2, "SELECT COUNT(*) FROM comments") == 1);
	/* no temporary left behind */
	DIR *d = opendir(t_dir);
	struct dirent *de;
	int tmps = 0;
	while (d && (de = readdir(d)) != NULL)
		tmps += strstr(de->d_name, ".tmp-") != NULL;
	if (d)
		closedir(d);
	T_CHECK(tmps == 0);

	/* a later comment; restoring while open is refused */
	add_commented(s, "192.0.2.8", "", NOW);
	buf_reset(&err);
	T_CHECK(store_restore(db, out, &err) == STORE_BUSY);
	T_CHECK(strstr(buf_cstr(&err), "in use") != NULL);
	store_close(s);
	T_CHECK(count_in(db, "SELECT COUNT(*) FROM comments") == 2);
	T_CHECK(store_restore(db, out, &err) == STORE_OK);
	s = store_open(db, &err);
	T_CHECK(s != NULL);
	store_close(s);
	T_CHECK(count_in(db, "SELECT COUNT(*) FROM comments") == 1);

	/* not a kiji database; the database itself */
	sqlite3 *x = NULL;
	T_CHECK(sqlite3_open(other, &x) == SQLITE_OK);
	T_CHECK(sqlite3_exec(x, "CREATE TABLE t(a)", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(x);
	buf_reset(&err);
	T_CHECK(store_restore(db, other, &err) == STORE_INVALID);
	T_CHECK(strstr(buf_cstr(&err), "not a kiji database") != NULL);
	T_CHECK(store_restore(db, db, &err) == STORE_INVALID);
	T_CHECK(count_in(db, "SELECT COUNT(*) FROM comments") == 1);
	buf_free(&err);
}

/* A restore holds the file exclusively: a store does not open under it. */
static void
test_open_waits_for_restore(void)
{
	char db[T_PATH_MAX];
	buf err;
	buf_init(&err, 0);
	store *s = t_db_open_at(t_db_path(db, sizeof db));
	T_CHECK(s != NULL);
	store_close(s);
	int fd = open(db, O_RDONLY | O_CLOEXEC);
	T_CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0);
	buf_reset(&err);
	s = store_open(db, &err);
	T_CHECK(s == NULL);
	T_CHECK(strstr(buf_cstr(&err), "being restored") != NULL);
	close(fd);
	s = store_open(db, &err);
	T_CHECK(s != NULL);
	store_close(s);
	buf_free(&err);
}

int
main(void)
{
	if (!t_tmpdir(t_dir, sizeof(t_dir), "store-ops"))
		return 1;
	T_RUN(test_rollback_without_transaction);
	T_RUN(test_ip_days);
	T_RUN(test_backup_restore);
	T_RUN(test_open_waits_for_restore);
	t_tmpdir_remove(t_dir);
	T_DONE();
}
