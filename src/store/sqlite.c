/*
 * store.h on SQLite. Each thread gets its own connection (pthread TLS) with
 * its own prepared statements; every statement comes from the one table
 * below, is prepared lazily once per connection and has all its values
 * bound. WAL + synchronous=FULL: a write that returned is on disk.
 */
#include "store.h"
#include "schema.h"
#include "fts.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#define STORE_BUSY_MS 5000      /* wait this long for another writer */
#define STORE_LIST_TEXT 600     /* bytes of body_text kept in listings */
#define STORE_DAY 86400         /* views_daily.day = UTC epoch day */
#define STORE_MEDIA_NAME 255    /* longest media name */

/* Per connection: WAL survives in the file, the rest is per connection.
 * 4 MiB page cache per thread. Reads go through pread, not mmap: the
 * kernel's page cache holds the file either way, but mapped pages count
 * in kiji's RSS (up to the mmap size per thread) and a big site would
 * look hundreds of MB large. */
static const char store_pragmas[] =
    "PRAGMA journal_mode = WAL;"
    "PRAGMA synchronous = FULL;"
    "PRAGMA foreign_keys = ON;"
    "PRAGMA cache_size = -4096;"
    "PRAGMA mmap_size = 0;"
    "PRAGMA temp_store = MEMORY;"
    "PRAGMA journal_size_limit = 67108864;";

/* ---- enums as the TEXT values the schema checks ----------------------- */

static const char *const role_names[ROLE__MAX] = {
	[ROLE_ADMIN] = "admin",
	[ROLE_EDITOR] = "editor",
	[ROLE_AUTHOR] = "author",
};
static const char *const kind_names[KIND__MAX] = {
	[KIND_POST] = "post",
	[KIND_PAGE] = "page",
};
static const char *const status_names[STATUS__MAX] = {
	[STATUS_DRAFT] = "draft",
	[STATUS_SCHEDULED] = "scheduled",
	[STATUS_PUBLISHED] = "published",
	[STATUS_TRASH] = "trash",
};
static const char *const format_names[FORMAT__MAX] = {
	[FORMAT_MARKDOWN] = "markdown",
	[FORMAT_HTML] = "html",
};
static const char *const ctype_names[CTYPE__MAX] = {
	[CTYPE_COMMENT] = "comment",
	[CTYPE_TRACKBACK] = "trackback",
	[CTYPE_PINGBACK] = "pingback",
};
static const char *const cstatus_names[CSTATUS__MAX] = {
	[CSTATUS_PENDING] = "pending",
	[CSTATUS_APPROVED] = "approved",
	[CSTATUS_SPAM] = "spam",
	[CSTATUS_TRASH] = "trash",
};

static const char *const err_names[STORE__MAX] = {
	[STORE_OK] = "ok",
	[STORE_NOTFOUND] = "not found",
	[STORE_CONFLICT] = "already exists",
	[STORE_INVALID] = "invalid value",
	[STORE_BUSY] = "database busy",
	[STORE_ERROR] = "database error",
};

/* ---- the statement table ------------------------------------------------ */

/*
 * THE visibility rule for every public read: published and its time has
 * come. Listings additionally want posts, not pages. Every statement
 * aliases articles as "a" so these paste in anywhere.
 */
#define VISIBLE "a.status = 'published' AND a.published_at <= :now"
#define VISIBLE_POST VISIBLE " AND a.kind = 'post'"

/* Article columns in art_col order; listings blank body and body_html. */
#define ART_COLS(body, html)                                                  \
	"a.id, a.kind, a.title, a.slug, " body ", a.body_format, " html ", "  \
	"a.body_text, a.excerpt, a.status, a.published_at, a.updated_at, "   \
	"COALESCE(a.author_id, 0), COALESCE(a.category_id, 0), a.eyecatch, "  \
	"a.eyecatch_credit, a.comments_open, COALESCE(a.guid, ''), "          \
	"a.legacy_id, COALESCE(u.display_name, ''), COALESCE(c.slug, ''), "   \
	"COALESCE(c.name, ''), a.comment_count"
#define ART_FULL ART_COLS("a.body", "a.body_html")
#define ART_LIGHT ART_COLS("''", "''")
#define ART_JOINS                                                             \
	" LEFT JOIN users u ON u.id = a.author_id"                            \
	" LEFT JOIN categories c ON c.id = a.category_id"
#define ART_RANGE " AND a.published_at >= :from AND a.published_at < :until"
#define ART_ORDER " ORDER BY a.published_at DESC, a.id DESC"
/* Whole light rows for a page of ids chosen by the subquery. */
#define ART_PAGE(ids)                                                         \
	"SELECT " ART_LIGHT " FROM (" ids ") AS page"                         \
	" JOIN articles a ON a.id = page.id" ART_JOINS ART_ORDER

enum art_col {
	AC_ID, AC_KIND, AC_TITLE, AC_SLUG, AC_BODY, AC_FORMAT, AC_HTML, AC_TEXT,
	AC_EXCERPT, AC_STATUS, AC_PUBLISHED, AC_UPDATED, AC_AUTHOR, AC_CATEGORY,
	AC_EYECATCH, AC_CREDIT, AC_OPEN, AC_GUID, AC_LEGACY, AC_AUTHOR_NAME,
	AC_CAT_SLUG, AC_CAT_NAME, AC_COMMENTS
};

#define COMMENT_COLS                                                          \
	"id, article_id, COALESCE(parent_id, 0), type, nickname, email, url, "\
	"ip, visitor_id, body, created_at, status, like_count, legacy_id, "   \
	"pending_reason"
/* The same columns for a placeholder: nothing of what was said or who
 * said it (the comment was spammed or trashed). */
#define COMMENT_COLS_HIDDEN                                                   \
	"id, article_id, COALESCE(parent_id, 0), type, '', '', '', '', '', "  \
	"'', created_at, status, 0, legacy_id, ''"

#define CATEGORY_COLS "id, COALESCE(parent_id, 0), slug, name, description"

/* rev_read's order; a list leaves the bodies out */
#define REV_COLS(body)                                                        \
	"r.id, r.article_id, r.title, " body ", r.body_format, r.created_at, "\
	"COALESCE(r.author_id, 0), r.meta, COALESCE(u.display_name, '')"
#define REV_JOINS " LEFT JOIN users u ON u.id = r.author_id"
/* store_articles_any's filter: NULL status is everything but the trash */
#define ART_ANY                                                               \
	"(a.status = :status OR (:status IS NULL AND a.status <> 'trash'))"   \
	" AND (:kind IS NULL OR a.kind = :kind)"

/* the editor area's article list: ART_ANY, a category, an author and a
 * substring of the title or slug (instr: no LIKE wildcards to escape) */
#define ART_ADMIN                                                             \
	ART_ANY " AND (:category = 0 OR a.category_id = :category)"           \
	" AND (:author = 0 OR a.author_id = :author)"                         \
	" AND (:text = '' OR instr(lower(a.title), lower(:text)) > 0"         \
	" OR instr(a.slug, lower(:text)) > 0)"

/* media_read's order */
#define MEDIA_COLS                                                            \
	"m.name, m.type, m.width, m.height, m.filename,"                      \
	" COALESCE(m.uploader_id, 0), m.mtime, COALESCE(u.display_name, '')"
#define MEDIA_JOINS " LEFT JOIN users u ON u.id = m.uploader_id"

/* user_read's order */
#define USER_COLS                                                             \
	"id, name, display_name, role, pass_hash, email, disabled, "          \
	"cred_epoch, created_at"

/* job_read's order */
#define JOB_COLS                                                              \
	"id, kind, payload, run_at, lease_until, attempts, "                  \
	"COALESCE(done_at, 0), COALESCE(dedup_key, ''), last_error"

enum stmt {
	STMT_BEGIN,
	STMT_BEGIN_IMMEDIATE,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_RELEASE,
	STMT_ROLLBACK_TO,
	STMT_DATA_VERSION,
	STMT_JOURNAL_MODE,
	STMT_SYNCHRONOUS,
	STMT_MIGRATIONS_INIT,
	STMT_MIGRATIONS_MAX,
	STMT_MIGRATION_HAS,
	STMT_MIGRATION_RECORD,
	STMT_SETTING_GET,
	STMT_SETTING_SET,
	STMT_SETTINGS_ALL,
	STMT_USER_ADD,
	STMT_USER_GET,
	STMT_USER_BY_NAME,
	STMT_USER_LIST,
	STMT_USER_SET_PASSWORD,
	STMT_USER_SET_ROLE,
	STMT_USER_SET_DISABLED,
	STMT_USER_SET_EMAIL,
	STMT_USER_SET_DISPLAY,
	STMT_CATEGORY_ADD,
	STMT_CATEGORY_BY_SLUG,
	STMT_CATEGORY_GET,
	STMT_CATEGORIES,
	STMT_TAG_ADD,
	STMT_TAG_BY_SLUG,
	STMT_ARTICLE_ADD,
	STMT_ARTICLE_UPDATE,
	STMT_SOURCES_DELETE,
	STMT_SOURCE_ADD,
	STMT_ARTICLE_TAGS_DELETE,
	STMT_ARTICLE_TAG_ADD,
	STMT_REVISION_ADD,
	/* the save path (content/): revisions, slugs, trash, batches */
	STMT_REVISION_LATEST,
	STMT_REVISIONS,
	STMT_REVISIONS_COUNT,
	STMT_REVISION_GET,
	STMT_ARTICLE_SLUG_OWNER,
	STMT_ARTICLE_STATE,
	STMT_ARTICLES_ANY,
	STMT_ARTICLES_ANY_COUNT,
	STMT_ARTICLES_ADMIN,
	STMT_ARTICLES_ADMIN_COUNT,
	STMT_TAG_BY_NAME,
	STMT_ARTICLE_PUBLISH_DUE,
	STMT_ARTICLE_TRASH,
	STMT_ARTICLE_RESTORE,
	STMT_FTS_INDEX_MANY,
	STMT_ARTICLE_GET,
	STMT_ARTICLE_GET_ANY,
	STMT_ARTICLE_SOURCES,
	STMT_ARTICLE_TAGS,
	STMT_LIST_ALL,
	STMT_LIST_CAT,
	STMT_LIST_TAG,
	STMT_COUNT_ALL,
	STMT_COUNT_CAT,
	STMT_COUNT_TAG,
	STMT_ADJ_PREV,
	STMT_ADJ_NEXT,
	STMT_RELATED,
	STMT_POPULAR,
	STMT_VIEWS_ADD,
	STMT_ARTICLES_COUNT,
	STMT_ARTICLE_VISIBLE,
	STMT_FEED_ALL,
	STMT_FEED_CAT,
	STMT_STAMPS_ARTICLES,
	STMT_STAMPS_CATEGORIES,
	STMT_STAMPS_CHUNKS,
	STMT_COMMENT_STATE,
	STMT_COMMENT_ADD,
	STMT_COMMENT_GET,
	STMT_COMMENTS_FOR_ARTICLE,
	STMT_COMMENT_SET_STATUS,
	STMT_COMMENTS_BY_STATUS,
	STMT_CHANGES_SINCE,
	STMT_CHANGES_LAST,
	STMT_CHANGES_PRUNE,
	STMT_NEXT_PUBLISH,
	STMT_VISITOR_APPROVED,
	STMT_VISITOR_LIKES,
	STMT_COMMENT_COUNT_ADJ,
	STMT_LIKE_COUNT,
	STMT_LIKE_ADD,
	STMT_LIKE_DEL,
	STMT_LIKE_INC,
	STMT_LIKE_DEC,
	STMT_REDIRECT_ADD,
	STMT_REDIRECT_GET,
	/* editor area (admin/): redirects, sessions, login throttling,
	 * moderation, bans, taxonomy edits */
	STMT_REDIRECT_SET,
	STMT_REDIRECT_DELETE,
	STMT_REDIRECTS_PAGE,
	STMT_REDIRECTS_COUNT,
	STMT_SESSION_ADD,
	STMT_SESSION_GET,
	STMT_SESSION_TOUCH,
	STMT_SESSION_DELETE,
	STMT_SESSIONS_PRUNE,
	STMT_LOGIN_FAILURES_GET,
	STMT_LOGIN_FAIL,
	STMT_LOGIN_CLEAR,
	STMT_LOGIN_PRUNE,
	STMT_COMMENT_COUNTS,
	STMT_COMMENTS_QUEUE,
	STMT_COMMENTS_QUEUE_COUNT,
	STMT_COMMENT_SET_BODY,
	STMT_ARTICLE_STATUS_COUNTS,
	STMT_BAN_ADD,
	STMT_BAN_DELETE,
	STMT_BANS,
	STMT_BAN_EXACT,
	STMT_CATEGORY_UPDATE,
	STMT_CATEGORY_REASSIGN,
	STMT_CATEGORY_REPARENT,
	STMT_CATEGORY_DELETE,
	STMT_CATEGORY_USAGE,
	STMT_CHANGE_ALL,
	STMT_TAG_GET,
	STMT_TAG_UPDATE,
	STMT_TAG_REASSIGN,
	STMT_TAG_DELETE,
	STMT_TAGS_PAGE,
	STMT_TAGS_COUNT,
	STMT_MEDIA_PUT,
	STMT_MEDIA_GET,
	STMT_MEDIA_ADD,
	STMT_MEDIA_META,
	STMT_MEDIA_LIST,
	STMT_MEDIA_COUNT,
	STMT_JOB_ADD,
	STMT_JOB_SCHEDULE,
	STMT_JOB_DUE,
	STMT_JOB_CLAIM,
	STMT_JOB_DONE,
	STMT_JOB_FAIL,
	STMT_JOB_GET,
	STMT_FTS_UNINDEX,
	STMT_FTS_INDEX,
	STMT_SEARCH,
	STMT_SEARCH_COUNT,
	STMT_ARTICLE_DELETE,
	STMT__MAX
};

#define S(id, sql) [STMT_##id] = { #id, sql }

static const struct {
	const char *name; /* for log lines */
	const char *sql;
} stmts[STMT__MAX] = {
	S(BEGIN, "BEGIN"),
	/* writers take the lock up front: a deferred transaction that read
	 * first cannot wait for it (SQLITE_BUSY_SNAPSHOT) */
	S(BEGIN_IMMEDIATE, "BEGIN IMMEDIATE"),
	S(COMMIT, "COMMIT"),
	S(ROLLBACK, "ROLLBACK"),
	S(SAVEPOINT, "SAVEPOINT store_op"),
	S(RELEASE, "RELEASE store_op"),
	S(ROLLBACK_TO, "ROLLBACK TO store_op"),
	S(DATA_VERSION, "PRAGMA data_version"),
	S(JOURNAL_MODE, "PRAGMA journal_mode"),
	S(SYNCHRONOUS, "PRAGMA synchronous"),

	S(MIGRATIONS_INIT,
	    "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"),
	S(MIGRATIONS_MAX,
	    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"),
	S(MIGRATION_HAS, "SELECT 1 FROM schema_migrations WHERE version = :v"),
	S(MIGRATION_RECORD,
	    "INSERT INTO schema_migrations(version, applied_at) VALUES (:v, :now)"),

	S(SETTING_GET, "SELECT value FROM settings WHERE key = :key"),
	S(SETTING_SET,
	    "INSERT INTO settings(key, value) VALUES (:key, :value) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
	S(SETTINGS_ALL, "SELECT key, value FROM settings ORDER BY key"),

	S(USER_ADD,
	    "INSERT INTO users(name, display_name, role, pass_hash, email, "
	    "disabled, created_at) "
	    "VALUES (:name, :display, :role, :hash, :email, :disabled, :now)"),
	S(USER_GET, "SELECT " USER_COLS " FROM users WHERE id = :id"),
	S(USER_BY_NAME, "SELECT " USER_COLS " FROM users WHERE name = :name"),
	S(USER_LIST, "SELECT " USER_COLS " FROM users ORDER BY name"),
	/* a new password ends every session made with the old one */
	S(USER_SET_PASSWORD,
	    "UPDATE users SET pass_hash = :hash, cred_epoch = cred_epoch + 1 "
	    "WHERE id = :id"),
	S(USER_SET_ROLE, "UPDATE users SET role = :role WHERE id = :id"),
	/* disabling ends the user's sessions too */
	S(USER_SET_DISABLED,
	    "UPDATE users SET disabled = :disabled, "
	    "cred_epoch = cred_epoch + :disabled WHERE id = :id"),
	S(USER_SET_EMAIL, "UPDATE users SET email = :email WHERE id = :id"),
	S(USER_SET_DISPLAY,
	    "UPDATE users SET display_name = :display WHERE id = :id"),

	S(CATEGORY_ADD,
	    "INSERT INTO categories(parent_id, slug, name, description) "
	    "VALUES (:parent, :slug, :name, :description)"),
	S(CATEGORY_BY_SLUG,
	    "SELECT " CATEGORY_COLS " FROM categories WHERE slug = :slug"),
	S(CATEGORY_GET, "SELECT " CATEGORY_COLS " FROM categories WHERE id = :id"),
	S(CATEGORIES, "SELECT " CATEGORY_COLS " FROM categories ORDER BY name, id"),

	S(TAG_ADD, "INSERT INTO tags(slug, name) VALUES (:slug, :name)"),
	S(TAG_BY_SLUG, "SELECT id, slug, name FROM tags WHERE slug = :slug"),

	S(ARTICLE_ADD,
	    "INSERT INTO articles(kind, title, slug, body, body_format, "
	    "body_html, body_text, excerpt, status, published_at, updated_at, "
	    "author_id, category_id, eyecatch, eyecatch_credit, comments_open, "
	    "guid, legacy_id) VALUES (:kind, :title, :slug, :body, :format, "
	    ":html, :text, :excerpt, :status, :published, :updated, :author, "
	    ":category, :eyecatch, :credit, :open, :guid, :legacy)"),
	/* comment_count is the store's; an empty guid keeps the old one */
	S(ARTICLE_UPDATE,
	    "UPDATE articles SET kind = :kind, title = :title, slug = :slug, "
	    "body = :body, body_format = :format, body_html = :html, "
	    "body_text = :text, excerpt = :excerpt, status = :status, "
	    "published_at = :published, updated_at = :updated, "
	    "author_id = :author, category_id = :category, "
	    "eyecatch = :eyecatch, eyecatch_credit = :credit, "
	    "comments_open = :open, guid = COALESCE(:guid, guid), "
	    "legacy_id = :legacy WHERE id = :id"),
	S(SOURCES_DELETE, "DELETE FROM sources WHERE article_id = :id"),
	S(SOURCE_ADD,
	    "INSERT INTO sources(article_id, pos, title, url) "
	    "VALUES (:id, :pos, :title, :url)"),
	S(ARTICLE_TAGS_DELETE, "DELETE FROM article_tags WHERE article_id = :id"),
	S(ARTICLE_TAG_ADD,
	    "INSERT INTO article_tags(article_id, tag_id) VALUES (:id, :tag) "
	    "ON CONFLICT DO NOTHING"),
	S(REVISION_ADD,
	    "INSERT INTO revisions(article_id, title, body, body_format, "
	    "created_at, author_id, meta) "
	    "VALUES (:id, :title, :body, :format, :created, :author, :meta)"),
	/* ---- the save path (content/) ---- */
	S(REVISION_LATEST,
	    "SELECT COALESCE(MAX(id), 0) FROM revisions WHERE article_id = :id"),
	S(REVISIONS,
	    "SELECT " REV_COLS("''") " FROM revisions r" REV_JOINS
	    " WHERE r.article_id = :id ORDER BY r.id DESC"
	    " LIMIT :limit OFFSET :offset"),
	S(REVISIONS_COUNT, "SELECT COUNT(*) FROM revisions WHERE article_id = :id"),
	S(REVISION_GET,
	    "SELECT " REV_COLS("r.body") " FROM revisions r" REV_JOINS
	    " WHERE r.id = :id"),
	S(ARTICLE_SLUG_OWNER,
	    "SELECT id FROM articles WHERE slug = :slug AND kind = :kind"
	    " AND id <> :except ORDER BY id LIMIT 1"),
	S(ARTICLE_STATE,
	    "SELECT status, published_at FROM articles WHERE id = :id"),
	S(ARTICLES_ANY,
	    "SELECT " ART_LIGHT " FROM articles a" ART_JOINS " WHERE " ART_ANY
	    " ORDER BY a.id DESC LIMIT :limit OFFSET :offset"),
	S(ARTICLES_ANY_COUNT, "SELECT COUNT(*) FROM articles a WHERE " ART_ANY),
	/* the editor area's list: ART_ANY and its filters */
	S(ARTICLES_ADMIN,
	    "SELECT " ART_LIGHT " FROM articles a" ART_JOINS " WHERE " ART_ADMIN
	    " ORDER BY a.id DESC LIMIT :limit OFFSET :offset"),
	S(ARTICLES_ADMIN_COUNT,
	    "SELECT COUNT(*) FROM articles a WHERE " ART_ADMIN),
	S(TAG_BY_NAME,
	    "SELECT id, slug, name FROM tags WHERE name = :name ORDER BY id LIMIT 1"),
	S(ARTICLE_PUBLISH_DUE,
	    "UPDATE articles SET status = 'published' WHERE id = :id"
	    " AND status = 'scheduled' AND published_at <= :now"),
	S(ARTICLE_TRASH,
	    "UPDATE articles SET trashed_from = status, trashed_at = :now,"
	    " status = 'trash' WHERE id = :id AND status <> 'trash'"),
	S(ARTICLE_RESTORE,
	    "UPDATE articles SET status = CASE WHEN trashed_from IN"
	    " ('draft', 'scheduled', 'published') THEN trashed_from"
	    " ELSE 'draft' END, trashed_from = '', trashed_at = 0"
	    " WHERE id = :id AND status = 'trash' RETURNING status, published_at"),
	/* batch mode: the deferred articles' entries in one statement, in
	 * rowid order (what FTS5 appends fastest) */
	S(FTS_INDEX_MANY,
	    "INSERT INTO articles_fts(rowid, title, body)"
	    " SELECT id, title, body FROM articles_fts_source"
	    " WHERE id IN (SELECT value FROM json_each(:ids)) ORDER BY id"),

	S(ARTICLE_GET,
	    "SELECT " ART_FULL " FROM articles a" ART_JOINS
	    " WHERE a.id = :id AND " VISIBLE),
	S(ARTICLE_GET_ANY,
	    "SELECT " ART_FULL " FROM articles a" ART_JOINS " WHERE a.id = :id"),
	S(ARTICLE_SOURCES,
	    "SELECT title, url FROM sources WHERE article_id = :id ORDER BY pos"),
	S(ARTICLE_TAGS,
	    "SELECT t.id, t.slug, t.name FROM article_tags x "
	    "JOIN tags t ON t.id = x.tag_id WHERE x.article_id = :id "
	    "ORDER BY t.name, t.id"),

	/*
	 * One statement per filter shape so each gets its own index. The
	 * page's ids are chosen first, from the index alone, and only those
	 * rows are read: sorting or skipping (OFFSET) whole rows would drag
	 * every body_text through the sorter. Tag listings start from the
	 * tag's rows (CROSS JOIN fixes the loop order in SQLite and is plain
	 * SQL elsewhere), so a rare tag never scans the whole date index.
	 */
	S(LIST_ALL, ART_PAGE(
	    "SELECT a.id AS id FROM articles a WHERE " VISIBLE_POST ART_RANGE
	    ART_ORDER " LIMIT :limit OFFSET :offset")),
	S(LIST_CAT, ART_PAGE(
	    "SELECT a.id AS id FROM articles a WHERE a.category_id = :cat AND "
	    VISIBLE_POST ART_RANGE ART_ORDER " LIMIT :limit OFFSET :offset")),
	S(LIST_TAG, ART_PAGE(
	    "SELECT a.id AS id FROM article_tags x CROSS JOIN articles a"
	    " WHERE x.tag_id = :tag AND a.id = x.article_id"
	    " AND (:cat = 0 OR a.category_id = :cat) AND " VISIBLE_POST ART_RANGE
	    ART_ORDER " LIMIT :limit OFFSET :offset")),
	S(COUNT_ALL,
	    "SELECT COUNT(*) FROM articles a WHERE " VISIBLE_POST ART_RANGE),
	S(COUNT_CAT,
	    "SELECT COUNT(*) FROM articles a WHERE a.category_id = :cat AND "
	    VISIBLE_POST ART_RANGE),
	S(COUNT_TAG,
	    "SELECT COUNT(*) FROM article_tags x CROSS JOIN articles a"
	    " WHERE x.tag_id = :tag AND a.id = x.article_id"
	    " AND (:cat = 0 OR a.category_id = :cat) AND "
	    VISIBLE_POST ART_RANGE),

	/* (published_at, id) order, ties broken by id both ways */
	S(ADJ_PREV,
	    "SELECT " ART_LIGHT " FROM articles a" ART_JOINS " WHERE " VISIBLE_POST
	    " AND a.published_at <= :t AND (a.published_at < :t OR a.id < :id)"
	    ART_ORDER " LIMIT 1"),
	S(ADJ_NEXT,
	    "SELECT " ART_LIGHT " FROM articles a" ART_JOINS " WHERE " VISIBLE_POST
	    " AND a.published_at >= :t AND (a.published_at > :t OR a.id > :id)"
	    " ORDER BY a.published_at, a.id LIMIT 1"),

	/*
	 * Candidates are the best :lim articles sharing tags plus the newest
	 * :lim of the category; the top :lim of their union by (shared,
	 * published_at) equals the top :lim of the whole category, without
	 * counting tags for every article in it.
	 */
	S(RELATED,
	    "WITH shared AS ("
	    " SELECT t2.article_id AS id, COUNT(*) AS n FROM article_tags t1"
	    " JOIN article_tags t2 ON t2.tag_id = t1.tag_id"
	    " WHERE t1.article_id = :id AND t2.article_id <> :id"
	    " GROUP BY t2.article_id),"
	    " cand AS ("
	    " SELECT id, n FROM (SELECT a.id AS id, s.n AS n FROM shared s"
	    " JOIN articles a ON a.id = s.id WHERE a.category_id = :cat AND "
	    VISIBLE_POST " ORDER BY s.n DESC, a.published_at DESC, a.id DESC"
	    " LIMIT :lim) AS by_tags"
	    " UNION ALL"
	    " SELECT id, 0 FROM (SELECT a.id AS id FROM articles a"
	    " WHERE a.category_id = :cat AND a.id <> :id AND " VISIBLE_POST
	    ART_ORDER " LIMIT :lim) AS by_date)"
	    " SELECT " ART_LIGHT " FROM (SELECT id, MAX(n) AS n FROM cand"
	    " GROUP BY id) r JOIN articles a ON a.id = r.id" ART_JOINS
	    " ORDER BY r.n DESC, a.published_at DESC, a.id DESC LIMIT :lim"),
	/* ranked on ids and sums first; whole rows only for the winners */
	S(POPULAR,
	    "SELECT " ART_LIGHT ", top.views FROM (SELECT a.id AS id, v.views AS views"
	    " FROM (SELECT article_id, SUM(count) AS views FROM views_daily"
	    " WHERE day >= :from AND day < :until GROUP BY article_id) AS v"
	    " JOIN articles a ON a.id = v.article_id WHERE " VISIBLE_POST
	    " ORDER BY v.views DESC, a.published_at DESC, a.id DESC LIMIT :lim)"
	    " AS top JOIN articles a ON a.id = top.id" ART_JOINS
	    " ORDER BY top.views DESC, a.published_at DESC, a.id DESC"),
	S(VIEWS_ADD,
	    "INSERT INTO views_daily(article_id, day, count) "
	    "VALUES (:id, :day, :n) ON CONFLICT(article_id, day) "
	    "DO UPDATE SET count = views_daily.count + excluded.count"),
	S(ARTICLES_COUNT, "SELECT COUNT(*) FROM articles a WHERE " VISIBLE_POST),
	S(ARTICLE_VISIBLE,
	    "SELECT 1 FROM articles a WHERE a.id = :id AND " VISIBLE_POST),
	/* feeds want the rendered body but never the source */
	S(FEED_ALL,
	    "SELECT " ART_COLS("''", "a.body_html") " FROM articles a" ART_JOINS
	    " WHERE " VISIBLE_POST ART_ORDER " LIMIT :limit"),
	S(FEED_CAT,
	    "SELECT " ART_COLS("''", "a.body_html") " FROM articles a" ART_JOINS
	    " WHERE a.category_id = :cat AND " VISIBLE_POST ART_ORDER
	    " LIMIT :limit"),
	/* sitemap: a change is an edit or, for a scheduled post, going live */
	S(STAMPS_ARTICLES,
	    "SELECT a.id, MAX(a.updated_at, a.published_at) FROM articles a"
	    " WHERE " VISIBLE_POST ART_ORDER " LIMIT :limit OFFSET :offset"),
	S(STAMPS_CATEGORIES,
	    "SELECT a.category_id, MAX(MAX(a.updated_at, a.published_at))"
	    " FROM articles a WHERE a.category_id IS NOT NULL AND " VISIBLE_POST
	    " GROUP BY a.category_id ORDER BY a.category_id"),
	S(STAMPS_CHUNKS,
	    "SELECT (:skip + rn) / :per AS k, MAX(t) FROM ("
	    " SELECT ROW_NUMBER() OVER (ORDER BY a.published_at DESC, a.id DESC)"
	    " - 1 AS rn, MAX(a.updated_at, a.published_at) AS t"
	    " FROM articles a WHERE " VISIBLE_POST ") AS r GROUP BY k ORDER BY k"),

	S(COMMENT_STATE,
	    "SELECT article_id, status FROM comments WHERE id = :id"),
	S(COMMENT_ADD,
	    "INSERT INTO comments(article_id, parent_id, type, nickname, email, "
	    "url, ip, visitor_id, body, created_at, status, like_count, "
	    "legacy_id, pending_reason) VALUES (:article, :parent, :type, "
	    ":nickname, :email, :url, :ip, :visitor, :body, :created, :status, "
	    ":likes, :legacy, :reason)"),
	S(COMMENT_GET, "SELECT " COMMENT_COLS " FROM comments WHERE id = :id"),
	/* What a reader sees, and above it every spam or trashed ancestor
	 * of something they see, as a placeholder (last column 1): replies
	 * keep their place under "deleted" instead of jumping to the top. */
	S(COMMENTS_FOR_ARTICLE,
	    "WITH RECURSIVE shown(id, parent_id) AS ("
	    " SELECT id, parent_id FROM comments WHERE article_id = :article"
	    " AND (status = 'approved' OR"
	    " (status = 'pending' AND visitor_id = :visitor))"
	    " AND (:type IS NULL OR type = :type)),"
	    " up(id) AS (SELECT parent_id FROM shown WHERE parent_id IS NOT NULL"
	    " UNION SELECT c.parent_id FROM comments c JOIN up ON c.id = up.id"
	    " WHERE c.status IN ('spam', 'trash') AND c.parent_id IS NOT NULL)"
	    " SELECT " COMMENT_COLS ", 0 AS hidden FROM comments"
	    " WHERE id IN (SELECT id FROM shown)"
	    " UNION ALL SELECT " COMMENT_COLS_HIDDEN ", 1 FROM comments"
	    " WHERE id IN (SELECT id FROM up) AND article_id = :article"
	    " AND status IN ('spam', 'trash')"
	    " ORDER BY created_at, id"),
	S(COMMENT_SET_STATUS, "UPDATE comments SET status = :status WHERE id = :id"),
	S(CHANGES_SINCE,
	    "SELECT seq, kind, article_id FROM change_log WHERE seq > :after"
	    " ORDER BY seq LIMIT :limit"),
	S(CHANGES_LAST, "SELECT COALESCE(MAX(seq), 0) FROM change_log"),
	S(CHANGES_PRUNE, "DELETE FROM change_log WHERE seq <= :upto"),
	S(NEXT_PUBLISH,
	    "SELECT COALESCE(MIN(published_at), 0) FROM articles"
	    " WHERE status IN ('published', 'scheduled') AND published_at > :now"),
	S(COMMENTS_BY_STATUS,
	    "SELECT " COMMENT_COLS " FROM comments"
	    " WHERE (:status IS NULL OR status = :status)"
	    " ORDER BY created_at DESC, id DESC LIMIT :limit"),
	S(VISITOR_APPROVED,
	    "SELECT EXISTS (SELECT 1 FROM comments WHERE visitor_id = :visitor"
	    " AND status = 'approved')"),
	S(VISITOR_LIKES,
	    "SELECT l.comment_id FROM likes l JOIN comments c ON c.id = l.comment_id"
	    " WHERE l.visitor_id = :visitor AND c.article_id = :article"
	    " ORDER BY l.comment_id"),
	S(COMMENT_COUNT_ADJ,
	    "UPDATE articles SET comment_count = comment_count + :delta "
	    "WHERE id = :id"),

	S(LIKE_COUNT, "SELECT like_count FROM comments WHERE id = :id"),
	S(LIKE_ADD,
	    "INSERT INTO likes(comment_id, visitor_id, created_at) "
	    "VALUES (:id, :visitor, :now) ON CONFLICT DO NOTHING"),
	S(LIKE_DEL, "DELETE FROM likes WHERE comment_id = :id AND visitor_id = :visitor"),
	S(LIKE_INC, "UPDATE comments SET like_count = like_count + 1 WHERE id = :id"),
	/* historic counts (import, demo) may exceed the rows in likes */
	S(LIKE_DEC,
	    "UPDATE comments SET like_count = CASE WHEN like_count > 0 "
	    "THEN like_count - 1 ELSE 0 END WHERE id = :id"),

	S(REDIRECT_ADD, "INSERT INTO redirects(from_path, to_path) VALUES (:from, :to)"),
	S(REDIRECT_GET, "SELECT to_path FROM redirects WHERE from_path = :from"),

	/* ---- editor area (admin/) ---- */
	S(REDIRECT_SET,
	    "INSERT INTO redirects(from_path, to_path) VALUES (:from, :to)"
	    " ON CONFLICT(from_path) DO UPDATE SET to_path = excluded.to_path"),
	S(REDIRECT_DELETE, "DELETE FROM redirects WHERE from_path = :from"),
	S(REDIRECTS_PAGE,
	    "SELECT from_path, to_path FROM redirects ORDER BY from_path"
	    " LIMIT :limit OFFSET :offset"),
	S(REDIRECTS_COUNT, "SELECT COUNT(*) FROM redirects"),
	/* the session records the user's credentials epoch of its birth */
	S(SESSION_ADD,
	    "INSERT INTO sessions(id_hash, user_id, csrf, cred_epoch, created_at,"
	    " seen_at, ip, user_agent) SELECT :hash, id, :csrf, cred_epoch, :now,"
	    " :now, :ip, :ua FROM users WHERE id = :user"),
	S(SESSION_GET,
	    "SELECT s.user_id, s.csrf, s.created_at, s.seen_at,"
	    " s.cred_epoch < u.cred_epoch, u.disabled, u.role, u.name,"
	    " u.display_name FROM sessions s JOIN users u ON u.id = s.user_id"
	    " WHERE s.id_hash = :hash"),
	S(SESSION_TOUCH, "UPDATE sessions SET seen_at = :now WHERE id_hash = :hash"),
	S(SESSION_DELETE, "DELETE FROM sessions WHERE id_hash = :hash"),
	S(SESSIONS_PRUNE,
	    "DELETE FROM sessions WHERE seen_at < :idle OR created_at < :created"),
	S(LOGIN_FAILURES_GET,
	    "SELECT failures, last_at FROM login_failures WHERE key = :key"),
	S(LOGIN_FAIL,
	    "INSERT INTO login_failures(key, failures, last_at) VALUES (:key, 1,"
	    " :now) ON CONFLICT(key) DO UPDATE SET failures = CASE WHEN"
	    " login_failures.last_at < :forget THEN 1 ELSE"
	    " login_failures.failures + 1 END, last_at = :now"),
	S(LOGIN_CLEAR, "DELETE FROM login_failures WHERE key = :key"),
	S(LOGIN_PRUNE, "DELETE FROM login_failures WHERE last_at < :before"),
	S(COMMENT_COUNTS,
	    "SELECT status, COUNT(*) FROM comments"
	    " WHERE :article = 0 OR article_id = :article GROUP BY status"),
	/* the page's rows first (index on status, created_at), titles after */
	S(COMMENTS_QUEUE,
	    "SELECT x.*, COALESCE(a.title, '') FROM (SELECT " COMMENT_COLS
	    " FROM comments WHERE (:status IS NULL OR status = :status)"
	    " AND (:article = 0 OR article_id = :article)"
	    " ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset) AS x"
	    " LEFT JOIN articles a ON a.id = x.article_id"
	    " ORDER BY x.created_at DESC, x.id DESC"),
	S(COMMENTS_QUEUE_COUNT,
	    "SELECT COUNT(*) FROM comments WHERE (:status IS NULL OR status = :status)"
	    " AND (:article = 0 OR article_id = :article)"),
	S(COMMENT_SET_BODY, "UPDATE comments SET body = :body WHERE id = :id"),
	S(ARTICLE_STATUS_COUNTS, "SELECT status, COUNT(*) FROM articles GROUP BY status"),
	S(BAN_ADD,
	    "INSERT INTO bans(kind, value, note, created_at)"
	    " VALUES (:kind, :value, :note, :now)"),
	S(BAN_DELETE, "DELETE FROM bans WHERE id = :id"),
	S(BANS,
	    "SELECT id, kind, value, note, created_at FROM bans"
	    " ORDER BY created_at DESC, id DESC LIMIT :limit"),
	S(BAN_EXACT,
	    "SELECT EXISTS (SELECT 1 FROM bans WHERE (kind = 'ip' AND value = :ip)"
	    " OR (kind = 'visitor' AND value = :visitor))"),
	S(CATEGORY_UPDATE,
	    "UPDATE categories SET parent_id = :parent, slug = :slug, name = :name,"
	    " description = :description WHERE id = :id"),
	S(CATEGORY_REASSIGN,
	    "UPDATE articles SET category_id = :to WHERE category_id = :id"),
	S(CATEGORY_REPARENT,
	    "UPDATE categories SET parent_id = :parent WHERE parent_id = :id"),
	S(CATEGORY_DELETE, "DELETE FROM categories WHERE id = :id"),
	S(CATEGORY_USAGE,
	    "SELECT category_id, COUNT(*) FROM articles"
	    " WHERE category_id IS NOT NULL GROUP BY category_id"),
	/* deletes of categories and tags have no trigger: say it here */
	S(CHANGE_ALL, "INSERT INTO change_log(kind) VALUES ('all')"),
	S(TAG_GET, "SELECT id, slug, name FROM tags WHERE id = :id"),
	S(TAG_UPDATE, "UPDATE tags SET slug = :slug, name = :name WHERE id = :id"),
	S(TAG_REASSIGN,
	    "INSERT INTO article_tags(article_id, tag_id) SELECT article_id, :to"
	    " FROM article_tags WHERE tag_id = :id ON CONFLICT DO NOTHING"),
	S(TAG_DELETE, "DELETE FROM tags WHERE id = :id"),
	S(TAGS_PAGE,
	    "SELECT t.id, t.slug, t.name, (SELECT COUNT(*) FROM article_tags x"
	    " WHERE x.tag_id = t.id) FROM tags t ORDER BY t.name, t.id"
	    " LIMIT :limit OFFSET :offset"),
	S(TAGS_COUNT, "SELECT COUNT(*) FROM tags"),

	S(MEDIA_PUT,
	    "INSERT INTO media(name, type, data, mtime) "
	    "VALUES (:name, :type, :data, :mtime) ON CONFLICT(name) DO UPDATE "
	    "SET type = excluded.type, data = excluded.data, mtime = excluded.mtime"),
	S(MEDIA_GET, "SELECT type, data, mtime FROM media WHERE name = :name"),
	/* same name, same bytes (content hash): keep the blob, fill in what
	 * an older row lacks */
	S(MEDIA_ADD,
	    "INSERT INTO media(name, type, data, mtime, width, height, filename,"
	    " uploader_id) VALUES (:name, :type, :data, :mtime, :width, :height,"
	    " :filename, :uploader) ON CONFLICT(name) DO UPDATE SET"
	    " width = excluded.width, height = excluded.height,"
	    " filename = CASE WHEN media.filename = '' THEN excluded.filename"
	    " ELSE media.filename END,"
	    " uploader_id = COALESCE(media.uploader_id, excluded.uploader_id)"),
	S(MEDIA_META,
	    "SELECT " MEDIA_COLS " FROM media m" MEDIA_JOINS
	    " WHERE m.name = :name"),
	/* rowid order is upload order and needs no sort: only the page's
	 * rows are read (their columns sit after the blob) */
	S(MEDIA_LIST,
	    "SELECT " MEDIA_COLS " FROM media m" MEDIA_JOINS
	    " ORDER BY m.rowid DESC LIMIT :limit OFFSET :offset"),
	S(MEDIA_COUNT, "SELECT COUNT(*) FROM media"),

	S(JOB_ADD,
	    "INSERT INTO jobs(kind, payload, run_at) VALUES (:kind, :payload, :run_at)"),
	/* One job per key: scheduling again moves it (new time and payload)
	 * and makes it pending afresh. A runner holding the old claim loses
	 * it (attempts and lease no longer match), so its outcome is not
	 * written over the new schedule. */
	S(JOB_SCHEDULE,
	    "INSERT INTO jobs(kind, payload, run_at, dedup_key)"
	    " VALUES (:kind, :payload, :run_at, :key)"
	    " ON CONFLICT(dedup_key) WHERE dedup_key IS NOT NULL DO UPDATE SET"
	    " kind = excluded.kind, payload = excluded.payload,"
	    " run_at = excluded.run_at, lease_until = 0, attempts = 0,"
	    " done_at = NULL, last_error = ''"
	    " RETURNING id"),
	/* the runner's cheap look before it takes the write lock */
	S(JOB_DUE,
	    "SELECT EXISTS (SELECT 1 FROM jobs WHERE done_at IS NULL"
	    " AND run_at <= :now AND lease_until < :now)"),
	/* Claims the oldest due job that nobody holds; run inside BEGIN
	 * IMMEDIATE, so two runners (processes, nodes) never both get it. A
	 * claim that was never finished (the runner died) expires with its
	 * lease and the job is claimed again: at least once. */
	S(JOB_CLAIM,
	    "UPDATE jobs SET lease_until = :now + :lease, attempts = attempts + 1"
	    " WHERE id = (SELECT id FROM jobs WHERE done_at IS NULL"
	    " AND run_at <= :now AND lease_until < :now ORDER BY run_at, id"
	    " LIMIT 1) RETURNING " JOB_COLS),
	/* finishing needs the claim still held: same attempt, same lease */
	S(JOB_DONE,
	    "UPDATE jobs SET done_at = :now, last_error = ''"
	    " WHERE id = :id AND attempts = :attempts AND lease_until = :lease"
	    " AND done_at IS NULL"),
	S(JOB_FAIL,
	    "UPDATE jobs SET last_error = :error, run_at = :run_at,"
	    " lease_until = 0, done_at = :done"
	    " WHERE id = :id AND attempts = :attempts AND lease_until = :lease"
	    " AND done_at IS NULL"),
	S(JOB_GET, "SELECT " JOB_COLS " FROM jobs WHERE id = :id"),

	/*
	 * Full-text search (fts.c). The index holds exactly the rows of the
	 * view articles_fts_source (published and scheduled articles), with
	 * the values the view shows: so every statement that changes an
	 * article's title, body_text or status, or deletes one, runs between
	 * FTS_UNINDEX (old values out) and FTS_INDEX (new values in) for it
	 * (fts_sync; in batch mode an article added in the batch is indexed
	 * by FTS_INDEX_MANY at the commit instead, and skipped until then).
	 */
	S(FTS_UNINDEX,
	    "INSERT INTO articles_fts(articles_fts, rowid, title, body)"
	    " SELECT 'delete', id, title, body FROM articles_fts_source"
	    " WHERE id = :id"),
	S(FTS_INDEX,
	    "INSERT INTO articles_fts(rowid, title, body)"
	    " SELECT id, title, body FROM articles_fts_source WHERE id = :id"),
	/* The page: bm25 next to the MATCH (the only place FTS5 defines
	 * it), the visibility rule and the recency boost (x2 today, x1.5 at
	 * 30 days, fading) from a narrow index, a top-N sort; whole rows
	 * for the page only. SEARCH_COUNT, in the same read transaction,
	 * counts every visible match without ranking any. */
	S(SEARCH,
	    "SELECT " ART_LIGHT ", page.score FROM (SELECT a.id AS id,"
	    " bm25(articles_fts, 4.0, 1.0) * (1.0 + 1.0 / (1.0 +"
	    " MAX(:now - a.published_at, 0) / 2592000.0)) AS score"
	    " FROM articles_fts CROSS JOIN articles a"
	    " INDEXED BY articles_id_visibility"
	    " WHERE articles_fts MATCH :q AND a.id = articles_fts.rowid AND "
	    VISIBLE_POST " ORDER BY score, a.published_at DESC, a.id DESC"
	    " LIMIT :limit OFFSET :offset) AS page"
	    " JOIN articles a ON a.id = page.id" ART_JOINS
	    " ORDER BY page.score, a.published_at DESC, a.id DESC"),
	S(SEARCH_COUNT,
	    "SELECT COUNT(*) FROM articles_fts CROSS JOIN articles a"
	    " INDEXED BY articles_id_visibility"
	    " WHERE articles_fts MATCH :q AND a.id = articles_fts.rowid AND "
	    VISIBLE_POST),
	S(ARTICLE_DELETE, "DELETE FROM articles WHERE id = :id"),
};

#undef S

/* ---- handles -------------------------------------------------------------- */

/* One thread's connection; owned by the store's list, found through TLS. */
struct conn {
	store *s;
	sqlite3 *db;
	bool in_tx;                    /* inside store_begin */
	bool fts_defer;                /* store_fts_defer is on */
	int64_t *fts_ids;              /* articles whose index entry waits */
	size_t fts_n, fts_cap;
	struct conn *prev, *next;
	sqlite3_stmt *st[STMT__MAX];   /* prepared on first use */
};

struct store {
	char *path;
	pthread_key_t key;             /* this thread's struct conn */
	bool key_ok;
	pthread_mutex_t mu;            /* guards conns and the job hook */
	struct conn *conns;
	void (*job_hook)(void *ctx);   /* store_job_hook: a job was added */
	void *job_hook_ctx;
};

/* One use of one statement: binds collect the first error so a caller
 * binds everything and checks once, at the step. */
struct q {
	struct conn *c;
	enum stmt id;
	sqlite3_stmt *st;
	int rc;
};

/* A transaction or, nested in one, a savepoint. */
struct tx {
	bool active;
	bool outer;
};

/* Appends a formatted message to err when the caller gave one. */
static void __attribute__((format(printf, 2, 3)))
errf(buf *err, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL)
		return;
	va_start(ap, fmt);
	buf_vprintf(err, fmt, ap);
	va_end(ap);
}

/* SQLite result code -> store_err. Extended codes are on, so unique and
 * primary-key violations can be told from CHECK/NOT NULL/foreign keys. */
static enum store_err
err_map(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return STORE_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_BUSY;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE ||
		    rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return STORE_CONFLICT;
		return STORE_INVALID;
	case SQLITE_TOOBIG:
	case SQLITE_MISMATCH:
		return STORE_INVALID;
	default:
		return STORE_ERROR;
	}
}

/* Name of enum value v in names[max], NULL when out of range (the caller
 * answers STORE_INVALID). */
static const char *
enum_name(const char *const *names, int max, int v)
{
	return v >= 0 && v < max ? names[v] : NULL;
}

/* Column text -> enum index; the schema's CHECKs make a miss impossible,
 * 0 keeps it harmless anyway. */
static int
enum_col(const char *const *names, int max, sqlite3_stmt *st, int col)
{
	const char *v = (const char *)sqlite3_column_text(st, col);
	for (int i = 0; v != NULL && i < max; i++)
		if (strcmp(names[i], v) == 0)
			return i;
	return 0;
}

/* ---- statements ------------------------------------------------------------- */

/* Logs q's failure with the statement name and maps it. Conflicts are
 * ordinary answers (slug taken, like already there) and not logged. */
static enum store_err
q_fail(struct q *q)
{
	enum store_err e = err_map(q->rc);
	if (e == STORE_OK)
		e = STORE_ERROR;
	if (e != STORE_CONFLICT)
		fprintf(stderr, "store: %s: %s (%d)\n", stmts[q->id].name,
		    sqlite3_errmsg(q->c->db), q->rc);
	return e;
}

/* Readies statement id on c for one use, preparing it on first use. */
static enum store_err
q_open(struct q *q, struct conn *c, enum stmt id)
{
	q->c = c;
	q->id = id;
	q->st = NULL;
	q->rc = SQLITE_OK;
	if (c->st[id] == NULL) {
		q->rc = sqlite3_prepare_v3(c->db, stmts[id].sql, -1,
		    SQLITE_PREPARE_PERSISTENT, &c->st[id], NULL);
		if (q->rc != SQLITE_OK)
			return q_fail(q);
	}
	q->st = c->st[id];
	return STORE_OK;
}

/* Resets q's statement and drops its bindings (so no caller memory stays
 * referenced); safe on a q that never opened. */
static void
q_close(struct q *q)
{
	if (q->st == NULL)
		return;
	sqlite3_reset(q->st);
	sqlite3_clear_bindings(q->st);
	q->st = NULL;
}

/* Index of parameter name, 0 (and an error kept in q) when the statement
 * has none: a typo here is a bug and must not pass silently as NULL. */
static int
q_param(struct q *q, const char *name)
{
	if (q->rc != SQLITE_OK || q->st == NULL)
		return 0;
	int i = sqlite3_bind_parameter_index(q->st, name);
	if (i == 0) {
		fprintf(stderr, "store: %s: no parameter %s\n",
		    stmts[q->id].name, name);
		q->rc = SQLITE_MISUSE;
	}
	return i;
}

/* Binds an integer; like every q_* bind, a failure waits in q->rc. */
static void
q_int(struct q *q, const char *name, int64_t v)
{
	int i = q_param(q, name);
	if (i)
		q->rc = sqlite3_bind_int64(q->st, i, (sqlite3_int64)v);
}

/* An optional reference: 0 is NULL in the database. */
static void
q_id(struct q *q, const char *name, int64_t v)
{
	int i = q_param(q, name);
	if (i)
		q->rc = v ? sqlite3_bind_int64(q->st, i, (sqlite3_int64)v)
			  : sqlite3_bind_null(q->st, i);
}

/* Text for a NOT NULL column: NULL is taken as "". The caller's memory
 * is referenced until q_close. */
static void
q_text(struct q *q, const char *name, const char *v)
{
	int i = q_param(q, name);
	if (i)
		q->rc = sqlite3_bind_text(q->st, i, v ? v : "", -1, SQLITE_STATIC);
}

/* Optional text: NULL or "" is SQL NULL. */
static void
q_text_null(struct q *q, const char *name, const char *v)
{
	int i = q_param(q, name);
	if (i)
		q->rc = v && *v ? sqlite3_bind_text(q->st, i, v, -1, SQLITE_STATIC)
				: sqlite3_bind_null(q->st, i);
}

/* Binds bytes; the caller keeps them alive until q_close. */
static void
q_blob(struct q *q, const char *name, const void *p, size_t n)
{
	int i = q_param(q, name);
	if (i)
		/* a NULL pointer would bind SQL NULL, not an empty blob */
		q->rc = n ? sqlite3_bind_blob64(q->st, i, p, n, SQLITE_STATIC)
			  : sqlite3_bind_zeroblob(q->st, i, 0);
}

/* Steps q: true with a row ready; false when done (*e = OK) or failed
 * (*e says how, logged). A bind error surfaces here. */
static bool
q_row(struct q *q, enum store_err *e)
{
	if (q->rc == SQLITE_OK) {
		int rc = sqlite3_step(q->st);
		if (rc == SQLITE_ROW) {
			*e = STORE_OK;
			return true;
		}
		if (rc == SQLITE_DONE) {
			*e = STORE_OK;
			return false;
		}
		q->rc = rc;
	}
	*e = q_fail(q);
	return false;
}

/* Runs q to completion (rows, if any, ignored). */
static enum store_err
q_exec(struct q *q)
{
	enum store_err e;
	while (q_row(q, &e))
		;
	return e;
}

/* Column i as arena text ("" for NULL). */
static const char *
col_str(arena *a, sqlite3_stmt *st, int i)
{
	const char *p = (const char *)sqlite3_column_text(st, i);
	if (p == NULL)
		return "";
	return arena_strndup(a, p, (size_t)sqlite3_column_bytes(st, i));
}

/* Column i cut to at most max bytes, backing off to the start of a UTF-8
 * sequence so the result stays valid; listings stay light this way. */
static const char *
col_str_cut(arena *a, sqlite3_stmt *st, int i, size_t max)
{
	const char *p = (const char *)sqlite3_column_text(st, i);
	if (p == NULL)
		return "";
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
			n--;
	}
	return arena_strndup(a, p, n);
}

/* Grows an arena array to hold n+1 elements; old copies stay in the arena
 * (at most as much again), which is cheaper than malloc bookkeeping. */
static void *
grow(arena *a, void *p, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return p;
	size_t nc = *cap ? *cap * 2 : 8;
	void *np = arena_alloc(a, nc * size);
	if (n)
		memcpy(np, p, n * size);
	*cap = nc;
	return np;
}

/* ---- connections ------------------------------------------------------------ */

/* Finalizes every statement and closes the connection. */
static void
conn_free(struct conn *c)
{
	for (int i = 0; i < STMT__MAX; i++)
		sqlite3_finalize(c->st[i]);
	if (sqlite3_close(c->db) != SQLITE_OK)
		fprintf(stderr, "store: close: %s\n", sqlite3_errmsg(c->db));
	free(c->fts_ids);
	free(c);
}

/* TLS destructor: a thread that used the store exits; drop its
 * connection from the list and close it. */
static void
conn_destructor(void *p)
{
	struct conn *c = p;
	store *s = c->s;
	pthread_mutex_lock(&s->mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&s->mu);
	conn_free(c);
}

/* Runs a one-shot control statement (BEGIN, COMMIT, ...). */
static enum store_err
conn_run(struct conn *c, enum stmt id)
{
	struct q q = {0};
	enum store_err e = q_open(&q, c, id);
	if (e == STORE_OK)
		e = q_exec(&q);
	q_close(&q);
	return e;
}

/* Opens this thread's connection, sets it up and registers it in TLS and
 * in the store's list. NULL on failure, with a message in err. */
static struct conn *
conn_attach(store *s, buf *err)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	struct q q = {0};
	enum store_err e;
	char *msg = NULL;
	int rc;

	c->s = s;
	/* NOMUTEX: a connection never leaves its thread */
	rc = sqlite3_open_v2(s->path, &c->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		errf(err, "%s: %s", s->path,
		    c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		goto err;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, STORE_BUSY_MS);
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	/* the schema's FTS5 table names our tokenizer */
	if ((rc = store_fts_register(c->db)) != SQLITE_OK) {
		errf(err, "%s: cannot register the search tokenizer (FTS5): %s",
		    s->path, sqlite3_errstr(rc));
		goto err;
	}
	if (sqlite3_exec(c->db, store_pragmas, NULL, NULL, &msg) != SQLITE_OK) {
		errf(err, "%s: %s", s->path, msg ? msg : "pragmas failed");
		goto err;
	}
	/* WAL can be refused (e.g. no shared memory on the file system); the
	 * durability promise rests on it, so say so instead of carrying on. */
	if ((e = q_open(&q, c, STMT_JOURNAL_MODE)) != STORE_OK ||
	    !q_row(&q, &e) || sqlite3_column_text(q.st, 0) == NULL ||
	    strcmp((const char *)sqlite3_column_text(q.st, 0), "wal") != 0) {
		errf(err, "%s: cannot use WAL journal mode", s->path);
		goto err;
	}
	q_close(&q);

	pthread_mutex_lock(&s->mu);
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	pthread_mutex_unlock(&s->mu);
	if (pthread_setspecific(s->key, c) != 0) {
		conn_destructor(c);
		errf(err, "store: pthread_setspecific failed");
		return NULL;
	}
	return c;
err:
	q_close(&q);
	sqlite3_free(msg);
	conn_free(c);
	return NULL;
}

/* This thread's connection, opened on first use. NULL (logged) when it
 * cannot be opened. */
static struct conn *
conn_get(store *s)
{
	struct conn *c = pthread_getspecific(s->key);
	buf err;
	if (c != NULL)
		return c;
	buf_init(&err, 1024);
	c = conn_attach(s, &err);
	if (c == NULL)
		fprintf(stderr, "store: %s\n", buf_cstr(&err));
	buf_free(&err);
	return c;
}

/* ---- transactions ------------------------------------------------------------ */

/*
 * Starts what one store call needs to be atomic: a transaction (IMMEDIATE
 * for writes) or, inside store_begin's, a savepoint so a failed call undoes
 * only itself.
 */
static enum store_err
tx_begin(struct conn *c, bool write, struct tx *t)
{
	bool autocommit = sqlite3_get_autocommit(c->db) != 0;
	enum store_err e;

	t->active = false;
	if (c->in_tx && autocommit) {
		/* SQLite rolled store_begin's transaction back after an
		 * error; writing on in autocommit would lose atomicity */
		fprintf(stderr, "store: transaction was rolled back; "
		    "call store_rollback\n");
		return STORE_ERROR;
	}
	t->outer = autocommit;
	e = conn_run(c, !t->outer ? STMT_SAVEPOINT
	    : write ? STMT_BEGIN_IMMEDIATE : STMT_BEGIN);
	t->active = e == STORE_OK;
	return e;
}

/* Ends t: commits (or releases) when e is OK, else rolls back. Returns e,
 * or the commit's error. Callers close their statements first. */
static enum store_err
tx_end(struct conn *c, struct tx *t, enum store_err e)
{
	if (!t->active)
		return e;
	t->active = false;
	if (e == STORE_OK) {
		e = conn_run(c, t->outer ? STMT_COMMIT : STMT_RELEASE);
		if (e == STORE_OK)
			return e;
	}
	if (sqlite3_get_autocommit(c->db))
		return e; /* SQLite already rolled everything back */
	if (t->outer) {
		conn_run(c, STMT_ROLLBACK);
	} else {
		conn_run(c, STMT_ROLLBACK_TO);
		conn_run(c, STMT_RELEASE);
	}
	return e;
}

/* IMMEDIATE: the batch will write, so take the lock now rather than
 * fail with BUSY halfway through. Not nestable. */
enum store_err
store_begin(store *s)
{
	struct conn *c = conn_get(s);
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (c->in_tx || !sqlite3_get_autocommit(c->db)) {
		fprintf(stderr, "store: store_begin inside a transaction\n");
		return STORE_ERROR;
	}
	e = conn_run(c, STMT_BEGIN_IMMEDIATE);
	if (e == STORE_OK)
		c->in_tx = true;
	return e;
}

static enum store_err fts_flush(struct conn *c);

/* On failure (BUSY) the transaction stays open: retry or roll back. */
enum store_err
store_commit(store *s)
{
	struct conn *c = conn_get(s);
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (!c->in_tx) {
		fprintf(stderr, "store: store_commit without store_begin\n");
		return STORE_ERROR;
	}
	if (sqlite3_get_autocommit(c->db)) {
		c->in_tx = false;
		c->fts_n = 0;
		fprintf(stderr, "store: transaction was rolled back earlier\n");
		return STORE_ERROR;
	}
	/* deferred index entries commit with their articles, never after */
	if ((e = fts_flush(c)) != STORE_OK)
		return e;
	e = conn_run(c, STMT_COMMIT);
	if (e == STORE_OK || sqlite3_get_autocommit(c->db))
		c->in_tx = false;
	return e;
}

/* Also clears a transaction SQLite already rolled back itself. */
enum store_err
store_rollback(store *s)
{
	struct conn *c = conn_get(s);
	enum store_err e = STORE_OK;
	if (c == NULL)
		return STORE_ERROR;
	if (!c->in_tx) {
		fprintf(stderr, "store: store_rollback without store_begin\n");
		return STORE_ERROR;
	}
	if (!sqlite3_get_autocommit(c->db))
		e = conn_run(c, STMT_ROLLBACK);
	c->in_tx = false;
	c->fts_n = 0; /* their articles are gone too */
	return e;
}

/* ---- open, migrate, close ------------------------------------------------------- */

/*
 * Creates the database file mode 0600 before SQLite sees it (SQLite would
 * use the umask, and the file holds secrets); an existing empty file is
 * new too and gets the same mode. SQLite gives -wal/-shm the file's mode.
 */
static bool
file_create(const char *path, buf *err)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		/* the umask could only have removed bits; make it exact */
		if (fchmod(fd, 0600) != 0) {
			errf(err, "%s: chmod: %s", path, strerror(errno));
			close(fd);
			return false;
		}
		close(fd);
		return true;
	}
	if (errno != EEXIST) {
		errf(err, "%s: %s", path, strerror(errno));
		return false;
	}
	if (stat(path, &st) != 0) {
		errf(err, "%s: %s", path, strerror(errno));
		return false;
	}
	if (S_ISREG(st.st_mode) && st.st_size == 0 &&
	    (st.st_mode & 07777) != 0600 && chmod(path, 0600) != 0) {
		errf(err, "%s: chmod: %s", path, strerror(errno));
		return false;
	}
	return true;
}

/* Applies every migration not yet recorded, each in its own IMMEDIATE
 * transaction (so two processes opening a new file at once apply each
 * migration once). Refuses a database from a newer kiji. */
static enum store_err
migrate(struct conn *c, buf *err)
{
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	int64_t have = 0;
	char *msg = NULL;

	if ((e = conn_run(c, STMT_MIGRATIONS_INIT)) != STORE_OK)
		goto err;
	if ((e = q_open(&q, c, STMT_MIGRATIONS_MAX)) != STORE_OK)
		goto err;
	if (q_row(&q, &e))
		have = sqlite3_column_int64(q.st, 0);
	q_close(&q);
	if (e != STORE_OK)
		goto err;
	if (have > store_schema_version()) {
		errf(err, "database schema version %" PRId64 " is newer than "
		    "this kiji's (%d)", have, store_schema_version());
		return STORE_ERROR;
	}
	for (int v = 1; v <= store_schema_version(); v++) {
		bool done;
		if ((e = tx_begin(c, true, &t)) != STORE_OK)
			goto err;
		if ((e = q_open(&q, c, STMT_MIGRATION_HAS)) != STORE_OK)
			goto err;
		q_int(&q, ":v", v);
		done = q_row(&q, &e);
		q_close(&q);
		if (e != STORE_OK)
			goto err;
		if (!done) {
			if (sqlite3_exec(c->db, store_schema_migration(v), NULL,
			    NULL, &msg) != SQLITE_OK) {
				errf(err, "migration %d: %s", v,
				    msg ? msg : sqlite3_errmsg(c->db));
				e = STORE_ERROR;
				goto err;
			}
			if ((e = q_open(&q, c, STMT_MIGRATION_RECORD)) != STORE_OK)
				goto err;
			q_int(&q, ":v", v);
			q_int(&q, ":now", (int64_t)time(NULL));
			e = q_exec(&q);
			q_close(&q);
			if (e != STORE_OK)
				goto err;
		}
		if ((e = tx_end(c, &t, STORE_OK)) != STORE_OK)
			goto err;
	}
	return STORE_OK;
err:
	q_close(&q);
	sqlite3_free(msg);
	e = tx_end(c, &t, e);
	if (err != NULL && err->len == 0)
		errf(err, "migrating: %s", sqlite3_errmsg(c->db));
	return e;
}

/* File first (mode 0600), then this thread's connection, then the
 * migrations; any failure undoes all of it and says why in err. */
store *
store_open(const char *path, buf *err)
{
	store *s = NULL;
	struct conn *c;

	if (path == NULL || *path == '\0') {
		errf(err, "no database path");
		return NULL;
	}
	if (strcmp(path, ":memory:") == 0) {
		/* every thread would get its own empty database */
		errf(err, "an in-memory database cannot be shared; use a file");
		return NULL;
	}
	if (!sqlite3_threadsafe()) {
		errf(err, "SQLite was built without thread support");
		return NULL;
	}
	if (!file_create(path, err))
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	pthread_mutex_init(&s->mu, NULL);
	if (pthread_key_create(&s->key, conn_destructor) != 0) {
		errf(err, "pthread_key_create failed");
		goto err;
	}
	s->key_ok = true;
	if ((c = conn_attach(s, err)) == NULL)
		goto err;
	if (migrate(c, err) != STORE_OK)
		goto err;
	return s;
err:
	store_close(s);
	return NULL;
}

/* Call when no other thread is inside the store any more (after joining
 * the server's workers): it closes their connections under them. */
void
store_close(store *s)
{
	if (s == NULL)
		return;
	if (s->key_ok)
		pthread_key_delete(s->key); /* no destructor runs after this */
	pthread_mutex_lock(&s->mu);
	while (s->conns) {
		struct conn *c = s->conns;
		s->conns = c->next;
		conn_free(c);
	}
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_destroy(&s->mu);
	free(s->path);
	free(s);
}

/* Short English names for logs and CLI messages. */
const char *
store_strerror(enum store_err e)
{
	const char *m = enum_name(err_names, STORE__MAX, (int)e);
	return m ? m : "unknown store error";
}

/* Per connection: compare values taken on the same thread only. -1 on
 * error. */
int64_t
store_data_version(store *s)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	int64_t v = -1;
	if (c == NULL)
		return -1;
	if (q_open(&q, c, STMT_DATA_VERSION) == STORE_OK && q_row(&q, &e))
		v = sqlite3_column_int64(q.st, 0);
	q_close(&q);
	return v;
}

/* What is actually in force on this thread's connection, for tests and
 * the operator's status page. */
enum store_err
store_durability(store *s, buf *journal_mode, int *synchronous)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_JOURNAL_MODE)) != STORE_OK)
		goto err;
	if (!q_row(&q, &e)) {
		if (e == STORE_OK)
			e = STORE_ERROR; /* a pragma always answers */
		goto err;
	}
	buf_reset(journal_mode);
	buf_puts(journal_mode, (const char *)sqlite3_column_text(q.st, 0));
	q_close(&q);
	if ((e = q_open(&q, c, STMT_SYNCHRONOUS)) != STORE_OK)
		goto err;
	if (!q_row(&q, &e)) {
		if (e == STORE_OK)
			e = STORE_ERROR;
		goto err;
	}
	*synchronous = sqlite3_column_int(q.st, 0);
err:
	q_close(&q);
	return e;
}

/* ---- settings ---------------------------------------------------------------------- */

/* NOTFOUND when the key was never set: defaults live in site/. */
enum store_err
store_setting_get(store *s, const char *key, buf *out)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_SETTING_GET)) != STORE_OK)
		goto err;
	q_text(&q, ":key", key);
	if (q_row(&q, &e)) {
		buf_reset(out);
		buf_put(out, sqlite3_column_text(q.st, 0),
		    (size_t)sqlite3_column_bytes(q.st, 0));
		if (out->err)
			e = STORE_ERROR;
	} else if (e == STORE_OK) {
		e = STORE_NOTFOUND;
	}
err:
	q_close(&q);
	return e;
}

/* Upsert: settings have no history. */
enum store_err
store_setting_set(store *s, const char *key, const char *value)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (key == NULL || *key == '\0' || value == NULL)
		return STORE_INVALID;
	if ((e = q_open(&q, c, STMT_SETTING_SET)) != STORE_OK)
		goto err;
	q_text(&q, ":key", key);
	q_text(&q, ":value", value);
	e = q_exec(&q);
err:
	q_close(&q);
	return e;
}

/* Copies the settings out first and calls fn afterwards, so fn may use
 * the store (even write settings) without meeting a half-read statement. */
enum store_err
store_settings_each(store *s,
    void (*fn)(void *ctx, const char *key, const char *value), void *ctx)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	arena *a = NULL;
	const char **kv = NULL;
	size_t n = 0, cap = 0;
	if (c == NULL)
		return STORE_ERROR;
	a = arena_new(0);
	if ((e = q_open(&q, c, STMT_SETTINGS_ALL)) != STORE_OK)
		goto err;
	while (q_row(&q, &e)) {
		kv = grow(a, kv, n, &cap, 2 * sizeof(*kv));
		kv[2 * n] = col_str(a, q.st, 0);
		kv[2 * n + 1] = col_str(a, q.st, 1);
		n++;
	}
	q_close(&q);
	if (e != STORE_OK)
		goto err;
	for (size_t i = 0; i < n; i++)
		fn(ctx, kv[2 * i], kv[2 * i + 1]);
err:
	q_close(&q);
	arena_free(a);
	return e;
}

/* ---- users, categories, tags ---------------------------------------------------- */

/* created_at is the wall clock; the display name defaults to the login. */
enum store_err
store_user_add(store *s, const struct store_user *u, int64_t *id)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	const char *role = enum_name(role_names, ROLE__MAX, (int)u->role);
	if (c == NULL)
		return STORE_ERROR;
	if (role == NULL || u->name == NULL || *u->name == '\0')
		return STORE_INVALID;
	if ((e = q_open(&q, c, STMT_USER_ADD)) != STORE_OK)
		goto err;
	q_text(&q, ":name", u->name);
	q_text(&q, ":display", u->display_name ? u->display_name : u->name);
	q_text(&q, ":role", role);
	q_text(&q, ":hash", u->pass_hash);
	q_text(&q, ":email", u->email);
	q_int(&q, ":disabled", u->disabled ? 1 : 0);
	q_int(&q, ":now", (int64_t)time(NULL));
	if ((e = q_exec(&q)) == STORE_OK && id != NULL)
		*id = sqlite3_last_insert_rowid(c->db);
err:
	q_close(&q);
	return e;
}

/* One users row in USER_COLS order. */
static void
user_read(sqlite3_stmt *st, arena *a, struct store_user *out)
{
	out->id = sqlite3_column_int64(st, 0);
	out->name = col_str(a, st, 1);
	out->display_name = col_str(a, st, 2);
	out->role = (enum store_role)enum_col(role_names, ROLE__MAX, st, 3);
	out->pass_hash = col_str(a, st, 4);
	out->email = col_str(a, st, 5);
	out->disabled = sqlite3_column_int64(st, 6) != 0;
	out->cred_epoch = sqlite3_column_int64(st, 7);
	out->created_at = sqlite3_column_int64(st, 8);
}

/* One user by id (key :id) or name (key :name). */
static enum store_err
user_one(store *s, enum stmt id, int64_t uid, const char *name, arena *a,
    struct store_user *out)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, id)) != STORE_OK)
		goto err;
	if (name != NULL)
		q_text(&q, ":name", name);
	else
		q_int(&q, ":id", uid);
	if (q_row(&q, &e))
		user_read(q.st, a, out);
	else if (e == STORE_OK)
		e = STORE_NOTFOUND;
err:
	q_close(&q);
	return e;
}

/* The pass_hash comes along: login checks read it here. */
enum store_err
store_user_get(store *s, int64_t id, arena *a, struct store_user *out)
{
	return user_one(s, STMT_USER_GET, id, NULL, a, out);
}

/* ---- accounts ---------------------------------------------------------------------- */

enum store_err
store_user_by_name(store *s, const char *name, arena *a, struct store_user *out)
{
	if (name == NULL)
		return STORE_NOTFOUND;
	return user_one(s, STMT_USER_BY_NAME, 0, name, a, out);
}

/* Every user, by login name; a site has a handful, so no paging. */
enum store_err
store_user_list(store *s, arena *a, struct store_user **out, size_t *n)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	struct store_user *v = NULL;
	size_t cnt = 0, cap = 0;

	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_USER_LIST)) != STORE_OK)
		goto err;
	while (q_row(&q, &e)) {
		v = grow(a, v, cnt, &cap, sizeof(*v));
		user_read(q.st, a, &v[cnt++]);
	}
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	}
err:
	q_close(&q);
	return e;
}

/* One account change: statement id with :id and one value, either text
 * (when text is not NULL) or an integer. NOTFOUND when no user has that id. */
static enum store_err
user_update(store *s, enum stmt id, int64_t uid, const char *name,
    const char *text, int64_t num)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, id)) != STORE_OK)
		goto err;
	q_int(&q, ":id", uid);
	if (text != NULL)
		q_text(&q, name, text);
	else
		q_int(&q, name, num);
	if ((e = q_exec(&q)) == STORE_OK && sqlite3_changes(c->db) == 0)
		e = STORE_NOTFOUND;
err:
	q_close(&q);
	return e;
}

/* Bumps cred_epoch in the same statement: old sessions end. */
enum store_err
store_user_set_password(store *s, int64_t id, const char *pass_hash)
{
	if (pass_hash == NULL)
		return STORE_INVALID;
	return user_update(s, STMT_USER_SET_PASSWORD, id, ":hash", pass_hash, 0);
}

enum store_err
store_user_set_role(store *s, int64_t id, enum store_role role)
{
	const char *r = enum_name(role_names, ROLE__MAX, (int)role);
	if (r == NULL)
		return STORE_INVALID;
	return user_update(s, STMT_USER_SET_ROLE, id, ":role", r, 0);
}

/* Disabling bumps cred_epoch (sessions end); enabling does not. */
enum store_err
store_user_set_disabled(store *s, int64_t id, bool disabled)
{
	return user_update(s, STMT_USER_SET_DISABLED, id, ":disabled", NULL,
	    disabled ? 1 : 0);
}

enum store_err
store_user_set_email(store *s, int64_t id, const char *email)
{
	return user_update(s, STMT_USER_SET_EMAIL, id, ":email",
	    email ? email : "", 0);
}

enum store_err
store_user_set_display_name(store *s, int64_t id, const char *display_name)
{
	if (display_name == NULL || *display_name == '\0')
		return STORE_INVALID;
	return user_update(s, STMT_USER_SET_DISPLAY, id, ":display",
	    display_name, 0);
}

/* A parent that does not exist is STORE_INVALID (foreign key). */
enum store_err
store_category_add(store *s, const struct store_category *cat, int64_t *id)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (cat->slug == NULL || *cat->slug == '\0' || cat->name == NULL)
		return STORE_INVALID;
	if ((e = q_open(&q, c, STMT_CATEGORY_ADD)) != STORE_OK)
		goto err;
	q_id(&q, ":parent", cat->parent_id);
	q_text(&q, ":slug", cat->slug);
	q_text(&q, ":name", cat->name);
	q_text(&q, ":description", cat->description);
	if ((e = q_exec(&q)) == STORE_OK && id != NULL)
		*id = sqlite3_last_insert_rowid(c->db);
err:
	q_close(&q);
	return e;
}

/* One row of CATEGORY_COLS. */
static void
category_read(sqlite3_stmt *st, arena *a, struct store_category *out)
{
	out->id = sqlite3_column_int64(st, 0);
	out->parent_id = sqlite3_column_int64(st, 1);
	out->slug = col_str(a, st, 2);
	out->name = col_str(a, st, 3);
	out->description = col_str(a, st, 4);
}

/* by_slug and get differ only in the statement and its key. */
static enum store_err
category_one(store *s, enum stmt id, const char *slug, int64_t cid, arena *a,
    struct store_category *out)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, id)) != STORE_OK)
		goto err;
	if (slug != NULL)
		q_text(&q, ":slug", slug);
	else
		q_int(&q, ":id", cid);
	if (q_row(&q, &e))
		category_read(q.st, a, out);
	else if (e == STORE_OK)
		e = STORE_NOTFOUND;
err:
	q_close(&q);
	return e;
}

/* Category archives resolve /category/<slug> here. */
enum store_err
store_category_by_slug(store *s, const char *slug, arena *a,
    struct store_category *out)
{
	if (slug == NULL)
		return STORE_NOTFOUND;
	return category_one(s, STMT_CATEGORY_BY_SLUG, slug, 0, a, out);
}

/* The article page resolves its category label here. */
enum store_err
store_category_get(store *s, int64_t id, arena *a, struct store_category *out)
{
	return category_one(s, STMT_CATEGORY_GET, NULL, id, a, out);
}

/* The whole (small) list for the site nav and the admin. */
enum store_err
store_categories(store *s, arena *a, struct store_category **out, size_t *n)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	struct store_category *v = NULL;
	size_t cnt = 0, cap = 0;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_CATEGORIES)) != STORE_OK)
		goto err;
	while (q_row(&q, &e)) {
		v = grow(a, v, cnt, &cap, sizeof(*v));
		category_read(q.st, a, &v[cnt++]);
	}
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	}
err:
	q_close(&q);
	return e;
}

/* CONFLICT on a taken slug. */
enum store_err
store_tag_add(store *s, const struct store_tag *t, int64_t *id)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (t->slug == NULL || *t->slug == '\0' || t->name == NULL)
		return STORE_INVALID;
	if ((e = q_open(&q, c, STMT_TAG_ADD)) != STORE_OK)
		goto err;
	q_text(&q, ":slug", t->slug);
	q_text(&q, ":name", t->name);
	if ((e = q_exec(&q)) == STORE_OK && id != NULL)
		*id = sqlite3_last_insert_rowid(c->db);
err:
	q_close(&q);
	return e;
}

/* Tag archives resolve /tag/<slug> here. */
enum store_err
store_tag_by_slug(store *s, const char *slug, arena *a, struct store_tag *out)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_TAG_BY_SLUG)) != STORE_OK)
		goto err;
	q_text(&q, ":slug", slug);
	if (q_row(&q, &e)) {
		out->id = sqlite3_column_int64(q.st, 0);
		out->slug = col_str(a, q.st, 1);
		out->name = col_str(a, q.st, 2);
	} else if (e == STORE_OK) {
		e = STORE_NOTFOUND;
	}
err:
	q_close(&q);
	return e;
}

/* ---- articles ---------------------------------------------------------------------- */

/* A fresh RFC 4122 random UUID as a URN: a feed id that survives a change
 * of domain or URL scheme. */
static bool
guid_new(char out[46])
{
	unsigned char r[16];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return false;
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, 46, "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
	    r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
	    r[15]);
	return true;
}

/* True when the enums are in range and the lists are where they say. */
static bool
article_valid(const struct store_article *a)
{
	return enum_name(kind_names, KIND__MAX, (int)a->kind) &&
	    enum_name(status_names, STATUS__MAX, (int)a->status) &&
	    enum_name(format_names, FORMAT__MAX, (int)a->body_format) &&
	    (a->nsources == 0 || a->sources != NULL) &&
	    (a->ntags == 0 || a->tags != NULL);
}

/* Binds the columns ARTICLE_ADD and ARTICLE_UPDATE share. */
static void
article_bind(struct q *q, const struct store_article *a, const char *guid)
{
	q_text(q, ":kind", kind_names[a->kind]);
	q_text(q, ":title", a->title);
	q_text(q, ":slug", a->slug);
	q_text(q, ":body", a->body);
	q_text(q, ":format", format_names[a->body_format]);
	q_text(q, ":html", a->body_html);
	q_text(q, ":text", a->body_text);
	q_text(q, ":excerpt", a->excerpt);
	q_text(q, ":status", status_names[a->status]);
	q_int(q, ":published", a->published_at);
	q_int(q, ":updated", a->updated_at);
	q_id(q, ":author", a->author_id);
	q_id(q, ":category", a->category_id);
	q_text(q, ":eyecatch", a->eyecatch);
	q_text(q, ":credit", a->eyecatch_credit);
	q_int(q, ":open", a->comments_open ? 1 : 0);
	q_text_null(q, ":guid", guid);
	q_text(q, ":legacy", a->legacy_id);
}

/* Writes an article's sources and tags, replacing what was there (the
 * revision is content/'s: store_revision_add). Runs inside the caller's
 * transaction. */
static enum store_err
article_children(struct conn *c, int64_t id, const struct store_article *a,
    bool replace)
{
	struct q q = {0};
	enum store_err e = STORE_OK;

	if (replace) {
		if ((e = q_open(&q, c, STMT_SOURCES_DELETE)) != STORE_OK)
			goto err;
		q_int(&q, ":id", id);
		if ((e = q_exec(&q)) != STORE_OK)
			goto err;
		q_close(&q);
		if ((e = q_open(&q, c, STMT_ARTICLE_TAGS_DELETE)) != STORE_OK)
			goto err;
		q_int(&q, ":id", id);
		if ((e = q_exec(&q)) != STORE_OK)
			goto err;
		q_close(&q);
	}
	for (size_t i = 0; i < a->nsources; i++) {
		if ((e = q_open(&q, c, STMT_SOURCE_ADD)) != STORE_OK)
			goto err;
		q_int(&q, ":id", id);
		q_int(&q, ":pos", (int64_t)i);
		q_text(&q, ":title", a->sources[i].title);
		q_text(&q, ":url", a->sources[i].url);
		if ((e = q_exec(&q)) != STORE_OK)
			goto err;
		q_close(&q);
	}
	for (size_t i = 0; i < a->ntags; i++) {
		if ((e = q_open(&q, c, STMT_ARTICLE_TAG_ADD)) != STORE_OK)
			goto err;
		q_int(&q, ":id", id);
		q_int(&q, ":tag", a->tags[i].id);
		if ((e = q_exec(&q)) != STORE_OK)
			goto err;
		q_close(&q);
	}
err:
	q_close(&q);
	return e;
}

/* True when article's index entry waits for fts_flush (batch mode):
 * nothing of it is in the index yet, so there is nothing to take out
 * and the flush will write whatever it holds by then. */
static bool
fts_pending(const struct conn *c, int64_t article)
{
	for (size_t i = c->fts_n; i > 0; i--)
		if (c->fts_ids[i - 1] == article)
			return true;
	return false;
}

/* Runs FTS_UNINDEX or FTS_INDEX for one article, inside the caller's
 * transaction (see the statement table); nothing for a pending one. */
static enum store_err
fts_sync(struct conn *c, enum stmt id, int64_t article)
{
	struct q q = {0};
	if (c->fts_n > 0 && fts_pending(c, article))
		return STORE_OK;
	enum store_err e = q_open(&q, c, id);
	if (e == STORE_OK) {
		q_int(&q, ":id", article);
		e = q_exec(&q);
	}
	q_close(&q);
	return e;
}

/* An empty guid gets a fresh UUID URN; the caller may always set one
 * (WordPress import keeps the old guids so feed readers see no new posts). */
enum store_err
store_article_add(store *s, struct store_article *a)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	char fresh[46];
	const char *guid = a->guid;
	int64_t id = 0;

	if (c == NULL)
		return STORE_ERROR;
	if (!article_valid(a))
		return STORE_INVALID;
	if (guid == NULL || *guid == '\0') {
		if (!guid_new(fresh)) {
			fprintf(stderr, "store: getrandom: %s\n", strerror(errno));
			return STORE_ERROR;
		}
		guid = fresh;
	}
	if ((e = tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if ((e = q_open(&q, c, STMT_ARTICLE_ADD)) != STORE_OK)
		goto err;
	article_bind(&q, a, guid);
	if ((e = q_exec(&q)) != STORE_OK)
		goto err;
	id = sqlite3_last_insert_rowid(c->db);
	q_close(&q);
	if (c->fts_defer) {
		/* a rolled-back add leaves its id here: harmless, the flush
		 * finds no row (or the row that reused the id, also new) */
		if (c->fts_n == c->fts_cap) {
			c->fts_cap = c->fts_cap ? c->fts_cap * 2 : 256;
			c->fts_ids = xrealloc(c->fts_ids,
			    c->fts_cap * sizeof(*c->fts_ids));
		}
		c->fts_ids[c->fts_n++] = id;
	} else if ((e = fts_sync(c, STMT_FTS_INDEX, id)) != STORE_OK) {
		goto err;
	}
	e = article_children(c, id, a, false);
err:
	q_close(&q);
	e = tx_end(c, &t, e);
	if (e == STORE_OK)
		a->id = id;
	return e;
}

/* Keeps comment_count (the store's) and, when a->guid is empty, the guid. */
enum store_err
store_article_update(store *s, const struct store_article *a)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;

	if (c == NULL)
		return STORE_ERROR;
	if (!article_valid(a))
		return STORE_INVALID;
	if ((e = tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if ((e = fts_sync(c, STMT_FTS_UNINDEX, a->id)) != STORE_OK)
		goto err;
	if ((e = q_open(&q, c, STMT_ARTICLE_UPDATE)) != STORE_OK)
		goto err;
	article_bind(&q, a, a->guid);
	q_int(&q, ":id", a->id);
	if ((e = q_exec(&q)) != STORE_OK)
		goto err;
	if (sqlite3_changes(c->db) == 0) {
		e = STORE_NOTFOUND;
		goto err;
	}
	q_close(&q);
	if ((e = fts_sync(c, STMT_FTS_INDEX, a->id)) != STORE_OK)
		goto err;
	e = article_children(c, a->id, a, true);
err:
	q_close(&q);
	return tx_end(c, &t, e);
}

/* One row of ART_COLS. Light rows (listings) keep body_text's first
 * STORE_LIST_TEXT bytes; body and body_html are "" there by the SQL. */
static void
article_read(sqlite3_stmt *st, arena *a, struct store_article *o, bool light)
{
	memset(o, 0, sizeof(*o));
	o->id = sqlite3_column_int64(st, AC_ID);
	o->kind = (enum store_kind)enum_col(kind_names, KIND__MAX, st, AC_KIND);
	o->title = col_str(a, st, AC_TITLE);
	o->slug = col_str(a, st, AC_SLUG);
	o->body = col_str(a, st, AC_BODY);
	o->body_format = (enum store_format)enum_col(format_names, FORMAT__MAX,
	    st, AC_FORMAT);
	o->body_html = col_str(a, st, AC_HTML);
	o->body_text = light ? col_str_cut(a, st, AC_TEXT, STORE_LIST_TEXT)
			     : col_str(a, st, AC_TEXT);
	o->excerpt = col_str(a, st, AC_EXCERPT);
	o->status = (enum store_status)enum_col(status_names, STATUS__MAX, st,
	    AC_STATUS);
	o->published_at = sqlite3_column_int64(st, AC_PUBLISHED);
	o->updated_at = sqlite3_column_int64(st, AC_UPDATED);
	o->author_id = sqlite3_column_int64(st, AC_AUTHOR);
	o->category_id = sqlite3_column_int64(st, AC_CATEGORY);
	o->eyecatch = col_str(a, st, AC_EYECATCH);
	o->eyecatch_credit = col_str(a, st, AC_CREDIT);
	o->comments_open = sqlite3_column_int(st, AC_OPEN) != 0;
	o->guid = col_str(a, st, AC_GUID);
	o->legacy_id = col_str(a, st, AC_LEGACY);
	o->author_name = col_str(a, st, AC_AUTHOR_NAME);
	o->category_slug = col_str(a, st, AC_CAT_SLUG);
	o->category_name = col_str(a, st, AC_CAT_NAME);
	o->comment_count = sqlite3_column_int64(st, AC_COMMENTS);
}

/* Reads every remaining row of q as a light article into an arena array. */
static enum store_err
article_rows(struct q *q, arena *a, struct store_article **out, size_t *n)
{
	struct store_article *v = NULL;
	size_t cnt = 0, cap = 0;
	enum store_err e;
	while (q_row(q, &e)) {
		v = grow(a, v, cnt, &cap, sizeof(*v));
		article_read(q->st, a, &v[cnt++], true);
	}
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	}
	return e;
}

/* get and get_any: the article row, its sources and tags, read in one
 * transaction so they agree. out is written only on success. */
static enum store_err
article_get(store *s, enum stmt id, int64_t aid, int64_t now, arena *a,
    struct store_article *out)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	struct store_article art;
	size_t cap;
	enum store_err e;

	if (c == NULL)
		return STORE_ERROR;
	if ((e = tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if ((e = q_open(&q, c, id)) != STORE_OK)
		goto err;
	q_int(&q, ":id", aid);
	if (id == STMT_ARTICLE_GET)
		q_int(&q, ":now", now);
	if (!q_row(&q, &e)) {
		if (e == STORE_OK)
			e = STORE_NOTFOUND;
		goto err;
	}
	article_read(q.st, a, &art, false);
	q_close(&q);

	if ((e = q_open(&q, c, STMT_ARTICLE_SOURCES)) != STORE_OK)
		goto err;
	q_int(&q, ":id", aid);
	cap = 0;
	while (q_row(&q, &e)) {
		art.sources = grow(a, art.sources, art.nsources, &cap,
		    sizeof(*art.sources));
		art.sources[art.nsources].title = col_str(a, q.st, 0);
		art.sources[art.nsources].url = col_str(a, q.st, 1);
		art.nsources++;
	}
	if (e != STORE_OK)
		goto err;
	q_close(&q);

	if ((e = q_open(&q, c, STMT_ARTICLE_TAGS)) != STORE_OK)
		goto err;
	q_int(&q, ":id", aid);
	cap = 0;
	while (q_row(&q, &e)) {
		art.tags = grow(a, art.tags, art.ntags, &cap, sizeof(*art.tags));
		art.tags[art.ntags].id = sqlite3_column_int64(q.st, 0);
		art.tags[art.ntags].slug = col_str(a, q.st, 1);
		art.tags[art.ntags].name = col_str(a, q.st, 2);
		art.ntags++;
	}
err:
	q_close(&q);
	e = tx_end(c, &t, e);
	if (e == STORE_OK)
		*out = art;
	return e;
}

/* The public read: visibility is applied by ARTICLE_GET. */
enum store_err
store_article_get(store *s, int64_t id, int64_t now, arena *a,
    struct store_article *out)
{
	return article_get(s, STMT_ARTICLE_GET, id, now, a, out);
}

/* Admin and CLI reads: drafts, schedules and trash included. */
enum store_err
store_article_get_any(store *s, int64_t id, arena *a, struct store_article *out)
{
	return article_get(s, STMT_ARTICLE_GET_ANY, id, 0, a, out);
}

/* Binds a listing's filter; tag takes precedence in choosing the
 * statement, category then filters within it. */
static void
filter_bind(struct q *q, const struct store_filter *f, int64_t now)
{
	q_int(q, ":now", now);
	q_int(q, ":from", f->from ? f->from : INT64_MIN);
	q_int(q, ":until", f->until > 0 ? f->until : INT64_MAX);
	if (q->id == STMT_LIST_TAG || q->id == STMT_COUNT_TAG) {
		q_int(q, ":tag", f->tag_id);
		q_int(q, ":cat", f->category_id);
	} else if (q->id == STMT_LIST_CAT || q->id == STMT_COUNT_CAT) {
		q_int(q, ":cat", f->category_id);
	}
}

/* Binds ART_ANY's :status and :kind (NULL: no filter). */
static void
any_bind(struct q *q, enum store_status status, enum store_kind kind)
{
	q_text_null(q, ":status", enum_name(status_names, STATUS__MAX, (int)status));
	q_text_null(q, ":kind", enum_name(kind_names, KIND__MAX, (int)kind));
}

/* The count and the page come from one read transaction, so the total
 * matches the page. */
enum store_err
store_articles_list(store *s, const struct store_filter *f, int64_t now,
    int64_t offset, int64_t limit, arena *a, struct store_article **out,
    size_t *n, int64_t *total)
{
	static const struct store_filter none;
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum stmt list = STMT_LIST_ALL, count = STMT_COUNT_ALL;
	enum store_err e;

	*out = NULL;
	*n = 0;
	if (total)
		*total = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (f == NULL)
		f = &none;
	if (f->tag_id) {
		list = STMT_LIST_TAG;
		count = STMT_COUNT_TAG;
	} else if (f->category_id) {
		list = STMT_LIST_CAT;
		count = STMT_COUNT_CAT;
	}
	if ((e = tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if (total != NULL) {
		if ((e = q_open(&q, c, count)) != STORE_OK)
			goto err;
		filter_bind(&q, f, now);
		if (q_row(&q, &e))
			*total = sqlite3_column_int64(q.st, 0);
		if (e != STORE_OK)
			goto err;
		q_close(&q);
	}
	if (limit <= 0)
		goto err;
	if ((e = q_open(&q, c, list)) != STORE_OK)
		goto err;
	filter_bind(&q, f, now);
	q_int(&q, ":limit", limit);
	q_int(&q, ":offset", offset > 0 ? offset : 0);
	e = article_rows(&q, a, out, n);
err:
	q_close(&q);
	return tx_end(c, &t, e);
}

/* Reads the one row of an adjacency statement, if any, into *out. */
static enum store_err
adjacent_one(struct conn *c, enum stmt id, const struct store_article *art,
    int64_t now, arena *a, struct store_article **out)
{
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	if ((e = q_open(&q, c, id)) != STORE_OK)
		goto err;
	q_int(&q, ":now", now);
	q_int(&q, ":t", art->published_at);
	q_int(&q, ":id", art->id);
	if (q_row(&q, &e)) {
		*out = arena_alloc(a, sizeof(**out));
		article_read(q.st, a, *out, true);
	}
err:
	q_close(&q);
	return e;
}

/* Uses art's id and published_at as given, so a preview of an unsaved
 * date still finds its neighbours. */
enum store_err
store_article_adjacent(store *s, const struct store_article *art, int64_t now,
    arena *a, struct store_article **prev, struct store_article **next)
{
	struct conn *c = conn_get(s);
	struct tx t = {0};
	enum store_err e;
	*prev = *next = NULL;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = tx_begin(c, false, &t)) != STORE_OK)
		return e;
	e = adjacent_one(c, STMT_ADJ_PREV, art, now, a, prev);
	if (e == STORE_OK)
		e = adjacent_one(c, STMT_ADJ_NEXT, art, now, a, next);
	e = tx_end(c, &t, e);
	if (e != STORE_OK)
		*prev = *next = NULL;
	return e;
}

/* An article without a category has no related articles. */
enum store_err
store_related(store *s, const struct store_article *art, int64_t now,
    size_t limit, arena *a, struct store_article **out, size_t *n)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (art->category_id == 0 || limit == 0)
		return STORE_OK;
	if ((e = q_open(&q, c, STMT_RELATED)) != STORE_OK)
		goto err;
	q_int(&q, ":id", art->id);
	q_int(&q, ":cat", art->category_id);
	q_int(&q, ":now", now);
	q_int(&q, ":lim", limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	e = article_rows(&q, a, out, n);
err:
	q_close(&q);
	return e;
}

/* UTC day number of t, rounding toward minus infinity. */
static int64_t
day_of(int64_t t)
{
	return t >= 0 ? t / STORE_DAY : -((-t + STORE_DAY - 1) / STORE_DAY);
}

/* Views are kept per UTC day, so a day counts when any part of it lies in
 * [since, now): today's views count from the first one on. */
enum store_err
store_popular(store *s, int64_t since, int64_t now, size_t limit, arena *a,
    struct store_article **out, size_t *n)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (since >= now || limit == 0)
		return STORE_OK;
	if ((e = q_open(&q, c, STMT_POPULAR)) != STORE_OK)
		goto err;
	q_int(&q, ":from", day_of(since));
	q_int(&q, ":until", day_of(now - 1) + 1);
	q_int(&q, ":now", now);
	q_int(&q, ":lim", limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	/* as article_rows, plus the views column after the article's */
	struct store_article *v = NULL;
	size_t cnt = 0, cap = 0;
	while (q_row(&q, &e)) {
		v = grow(a, v, cnt, &cap, sizeof(*v));
		article_read(q.st, a, &v[cnt], true);
		v[cnt++].views = sqlite3_column_int64(q.st, AC_COMMENTS + 1);
	}
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	}
err:
	q_close(&q);
	return e;
}

/* One upsert; an article that does not exist is STORE_INVALID. */
enum store_err
store_views_add(store *s, int64_t article_id, int64_t t, int64_t n)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (n < 0)
		return STORE_INVALID;
	if (n == 0)
		return STORE_OK;
	if ((e = q_open(&q, c, STMT_VIEWS_ADD)) != STORE_OK)
		goto err;
	q_int(&q, ":id", article_id);
	q_int(&q, ":day", day_of(t));
	q_int(&q, ":n", n);
	e = q_exec(&q);
err:
	q_close(&q);
	return e;
}

/* Answered from the status index alone. */
enum store_err
store_articles_count(store *s, int64_t now, int64_t *n)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_ARTICLES_COUNT)) != STORE_OK)
		goto err;
	q_int(&q, ":now", now);
	if (q_row(&q, &e))
		*n = sqlite3_column_int64(q.st, 0);
err:
	q_close(&q);
	return e;
}

enum store_err
store_article_visible(store *s, int64_t id, int64_t now, bool *yes)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	*yes = false;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_ARTICLE_VISIBLE)) != STORE_OK)
		goto err;
	q_int(&q, ":id", id);
	q_int(&q, ":now", now);
	*yes = q_row(&q, &e);
err:
	q_close(&q);
	return e;
}

/* Whole rows (body_text uncut) for feeds; bodies are "" by the SQL. */
enum store_err
store_articles_feed(store *s, int64_t category_id, int64_t now, int64_t limit,
    arena *a, struct store_article **out, size_t *n)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct store_article *v = NULL;
	size_t cnt = 0, cap = 0;
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (limit <= 0)
		return STORE_OK;
	if ((e = q_open(&q, c, category_id ? STMT_FEED_CAT : STMT_FEED_ALL)) !=
	    STORE_OK)
		goto err;
	if (category_id)
		q_int(&q, ":cat", category_id);
	q_int(&q, ":now", now);
	q_int(&q, ":limit", limit);
	while (q_row(&q, &e)) {
		v = grow(a, v, cnt, &cap, sizeof(*v));
		article_read(q.st, a, &v[cnt++], false);
	}
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	}
err:
	q_close(&q);
	return e;
}

/* Reads (integer, integer) rows of q into an arena array of stamps. */
static enum store_err
stamp_rows(struct q *q, arena *a, struct store_stamp **out, size_t *n)
{
	struct store_stamp *v = NULL;
	size_t cnt = 0, cap = 0;
	enum store_err e;
	while (q_row(q, &e)) {
		v = grow(a, v, cnt, &cap, sizeof(*v));
		v[cnt].id = sqlite3_column_int64(q->st, 0);
		v[cnt++].t = sqlite3_column_int64(q->st, 1);
	}
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	}
	return e;
}

/* Answered from the status index plus one row read per post. */
enum store_err
store_article_stamps(store *s, int64_t now, int64_t offset, int64_t limit,
    arena *a, struct store_stamp **out, size_t *n)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (limit <= 0)
		return STORE_OK;
	if ((e = q_open(&q, c, STMT_STAMPS_ARTICLES)) != STORE_OK)
		goto err;
	q_int(&q, ":now", now);
	q_int(&q, ":limit", limit);
	q_int(&q, ":offset", offset > 0 ? offset : 0);
	e = stamp_rows(&q, a, out, n);
err:
	q_close(&q);
	return e;
}

enum store_err
store_category_stamps(store *s, int64_t now, arena *a, struct store_stamp **out,
    size_t *n)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_STAMPS_CATEGORIES)) != STORE_OK)
		goto err;
	q_int(&q, ":now", now);
	e = stamp_rows(&q, a, out, n);
err:
	q_close(&q);
	return e;
}

/* One pass over the visible posts numbers them (a window function) and
 * groups the numbers into chunks; nothing but two integers per post. */
enum store_err
store_article_chunks(store *s, int64_t now, int64_t skip, int64_t per,
    arena *a, struct store_stamp **out, size_t *n)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (per <= 0 || skip < 0)
		return STORE_INVALID;
	if ((e = q_open(&q, c, STMT_STAMPS_CHUNKS)) != STORE_OK)
		goto err;
	q_int(&q, ":now", now);
	q_int(&q, ":skip", skip);
	q_int(&q, ":per", per);
	e = stamp_rows(&q, a, out, n);
err:
	q_close(&q);
	return e;
}

/* ---- comments ------------------------------------------------------------------------ */

/* One row of COMMENT_COLS. */
static void
comment_read(sqlite3_stmt *st, arena *a, struct store_comment *o)
{
	o->id = sqlite3_column_int64(st, 0);
	o->article_id = sqlite3_column_int64(st, 1);
	o->parent_id = sqlite3_column_int64(st, 2);
	o->type = (enum store_ctype)enum_col(ctype_names, CTYPE__MAX, st, 3);
	o->nickname = col_str(a, st, 4);
	o->email = col_str(a, st, 5);
	o->url = col_str(a, st, 6);
	o->ip = col_str(a, st, 7);
	o->visitor_id = col_str(a, st, 8);
	o->body = col_str(a, st, 9);
	o->created_at = sqlite3_column_int64(st, 10);
	o->status = (enum store_cstatus)enum_col(cstatus_names, CSTATUS__MAX,
	    st, 11);
	o->like_count = sqlite3_column_int64(st, 12);
	o->legacy_id = col_str(a, st, 13);
	o->pending_reason = col_str(a, st, 14);
	o->placeholder = false;
	o->article_title = "";
}

/* Looks up a comment's article and status inside the caller's
 * transaction; NOTFOUND when there is no such comment. */
static enum store_err
comment_state(struct conn *c, int64_t id, int64_t *article,
    enum store_cstatus *st)
{
	struct q q = {0};
	enum store_err e;
	if ((e = q_open(&q, c, STMT_COMMENT_STATE)) != STORE_OK)
		goto err;
	q_int(&q, ":id", id);
	if (q_row(&q, &e)) {
		*article = sqlite3_column_int64(q.st, 0);
		*st = (enum store_cstatus)enum_col(cstatus_names, CSTATUS__MAX,
		    q.st, 1);
	} else if (e == STORE_OK) {
		e = STORE_NOTFOUND;
	}
err:
	q_close(&q);
	return e;
}

/* articles.comment_count += delta, in the caller's transaction. */
static enum store_err
comment_count_adj(struct conn *c, int64_t article, int64_t delta)
{
	struct q q = {0};
	enum store_err e;
	if (delta == 0)
		return STORE_OK;
	if ((e = q_open(&q, c, STMT_COMMENT_COUNT_ADJ)) == STORE_OK) {
		q_int(&q, ":delta", delta);
		q_int(&q, ":id", article);
		e = q_exec(&q);
	}
	q_close(&q);
	return e;
}

/* Parent check, insert and comment_count in one transaction; the count
 * moves only for an approved comment. like_count is stored as given
 * (historic counts from import or the demo). */
enum store_err
store_comment_add(store *s, struct store_comment *cm)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	const char *type = enum_name(ctype_names, CTYPE__MAX, (int)cm->type);
	const char *status = enum_name(cstatus_names, CSTATUS__MAX,
	    (int)cm->status);
	int64_t id = 0;

	if (c == NULL)
		return STORE_ERROR;
	if (type == NULL || status == NULL || cm->like_count < 0)
		return STORE_INVALID;
	if ((e = tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if (cm->parent_id != 0) {
		int64_t art = 0;
		enum store_cstatus pst;
		e = comment_state(c, cm->parent_id, &art, &pst);
		if (e == STORE_NOTFOUND || (e == STORE_OK && art != cm->article_id))
			e = STORE_INVALID;
		if (e != STORE_OK)
			goto err;
	}
	if ((e = q_open(&q, c, STMT_COMMENT_ADD)) != STORE_OK)
		goto err;
	q_int(&q, ":article", cm->article_id);
	q_id(&q, ":parent", cm->parent_id);
	q_text(&q, ":type", type);
	q_text(&q, ":nickname", cm->nickname);
	q_text(&q, ":email", cm->email);
	q_text(&q, ":url", cm->url);
	q_text(&q, ":ip", cm->ip);
	q_text(&q, ":visitor", cm->visitor_id);
	q_text(&q, ":body", cm->body);
	q_int(&q, ":created", cm->created_at);
	q_text(&q, ":status", status);
	q_int(&q, ":likes", cm->like_count);
	q_text(&q, ":legacy", cm->legacy_id);
	q_text(&q, ":reason", cm->pending_reason);
	if ((e = q_exec(&q)) != STORE_OK)
		goto err;
	id = sqlite3_last_insert_rowid(c->db);
	q_close(&q);
	if (cm->status == CSTATUS_APPROVED)
		e = comment_count_adj(c, cm->article_id, 1);
err:
	q_close(&q);
	e = tx_end(c, &t, e);
	if (e == STORE_OK)
		cm->id = id;
	return e;
}

/* Any status: moderation and likes need pending/spam ones too. */
enum store_err
store_comment_get(store *s, int64_t id, arena *a, struct store_comment *out)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_COMMENT_GET)) != STORE_OK)
		goto err;
	q_int(&q, ":id", id);
	if (q_row(&q, &e))
		comment_read(q.st, a, out);
	else if (e == STORE_OK)
		e = STORE_NOTFOUND;
err:
	q_close(&q);
	return e;
}

/* An empty visitor is no visitor: imported pending comments have none and
 * must stay hidden. */
enum store_err
store_comments_for_article(store *s, int64_t article_id, enum store_ctype type,
    const char *visitor, arena *a, struct store_comment **out, size_t *n)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	struct store_comment *v = NULL;
	size_t cnt = 0, cap = 0;
	const char *tname = NULL;

	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (type != CTYPE__MAX &&
	    (tname = enum_name(ctype_names, CTYPE__MAX, (int)type)) == NULL)
		return STORE_INVALID;
	if ((e = q_open(&q, c, STMT_COMMENTS_FOR_ARTICLE)) != STORE_OK)
		goto err;
	q_int(&q, ":article", article_id);
	q_text_null(&q, ":visitor", visitor);
	q_text_null(&q, ":type", tname);
	while (q_row(&q, &e)) {
		v = grow(a, v, cnt, &cap, sizeof(*v));
		comment_read(q.st, a, &v[cnt]);
		v[cnt++].placeholder = sqlite3_column_int(q.st, 15) != 0;
	}
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	}
err:
	q_close(&q);
	return e;
}

/* The moderation queue and the CLI's list: newest first. */
enum store_err
store_comments_by_status(store *s, enum store_cstatus st, size_t limit,
    arena *a, struct store_comment **out, size_t *n)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	struct store_comment *v = NULL;
	size_t cnt = 0, cap = 0;
	const char *name = NULL;

	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (st != CSTATUS__MAX &&
	    (name = enum_name(cstatus_names, CSTATUS__MAX, (int)st)) == NULL)
		return STORE_INVALID;
	if ((e = q_open(&q, c, STMT_COMMENTS_BY_STATUS)) != STORE_OK)
		goto err;
	q_text_null(&q, ":status", name);
	q_int(&q, ":limit", (int64_t)limit);
	while (q_row(&q, &e)) {
		v = grow(a, v, cnt, &cap, sizeof(*v));
		comment_read(q.st, a, &v[cnt++]);
	}
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	}
err:
	q_close(&q);
	return e;
}

static const char *const change_names[CHANGE__MAX] = {
	[CHANGE_COMMENT] = "comment",
	[CHANGE_LIKE] = "like",
	[CHANGE_ARTICLE] = "article",
	[CHANGE_SETTINGS] = "settings",
	[CHANGE_ALL] = "all",
};

enum store_err
store_changes_since(store *s, int64_t after, size_t limit, arena *a,
    struct store_change **out, size_t *n)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	struct store_change *v = NULL;
	size_t cnt = 0, cap = 0;

	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_CHANGES_SINCE)) != STORE_OK)
		goto err;
	q_int(&q, ":after", after);
	q_int(&q, ":limit", (int64_t)limit);
	while (q_row(&q, &e)) {
		v = grow(a, v, cnt, &cap, sizeof(*v));
		v[cnt].seq = sqlite3_column_int64(q.st, 0);
		const char *k = (const char *)sqlite3_column_text(q.st, 1);
		v[cnt].kind = CHANGE_ALL;
		for (int i = 0; k && i < CHANGE__MAX; i++)
			if (strcmp(k, change_names[i]) == 0)
				v[cnt].kind = (enum store_change_kind)i;
		v[cnt].article_id = sqlite3_column_int64(q.st, 2);
		cnt++;
	}
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	}
err:
	q_close(&q);
	return e;
}

/* One integer from a one-row statement with an optional :now. */
static enum store_err
store_one_int(store *s, enum stmt id, const char *param, int64_t arg,
    int64_t *out)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;

	*out = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, id)) != STORE_OK)
		goto err;
	if (param)
		q_int(&q, param, arg);
	if (q_row(&q, &e))
		*out = sqlite3_column_int64(q.st, 0);
err:
	q_close(&q);
	return e;
}

enum store_err
store_changes_last(store *s, int64_t *seq)
{
	return store_one_int(s, STMT_CHANGES_LAST, NULL, 0, seq);
}

enum store_err
store_next_publish(store *s, int64_t now, int64_t *t)
{
	return store_one_int(s, STMT_NEXT_PUBLISH, ":now", now, t);
}

enum store_err
store_changes_prune(store *s, int64_t upto)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;

	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_CHANGES_PRUNE)) != STORE_OK)
		goto err;
	q_int(&q, ":upto", upto);
	e = q_exec(&q);
err:
	q_close(&q);
	return e;
}

/* Moderation "first": has this visitor ever had a comment approved? */
enum store_err
store_visitor_approved(store *s, const char *visitor, bool *yes)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;

	*yes = false;
	if (c == NULL)
		return STORE_ERROR;
	if (visitor == NULL || *visitor == '\0')
		return STORE_OK;
	if ((e = q_open(&q, c, STMT_VISITOR_APPROVED)) != STORE_OK)
		goto err;
	q_text(&q, ":visitor", visitor);
	if (q_row(&q, &e))
		*yes = sqlite3_column_int64(q.st, 0) != 0;
err:
	q_close(&q);
	return e;
}

/* Ids of the comments of one article this visitor likes, ascending. */
enum store_err
store_visitor_likes(store *s, int64_t article_id, const char *visitor,
    arena *a, int64_t **ids, size_t *n)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	int64_t *v = NULL;
	size_t cnt = 0, cap = 0;

	*ids = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_VISITOR_LIKES)) != STORE_OK)
		goto err;
	q_text(&q, ":visitor", visitor);
	q_int(&q, ":article", article_id);
	while (q_row(&q, &e)) {
		v = grow(a, v, cnt, &cap, sizeof(*v));
		v[cnt++] = sqlite3_column_int64(q.st, 0);
	}
	if (e == STORE_OK) {
		*ids = v;
		*n = cnt;
	}
err:
	q_close(&q);
	return e;
}

/* comment_count follows the move into or out of 'approved' in the same
 * transaction, so it stays exact. */
enum store_err
store_comment_set_status(store *s, int64_t id, enum store_cstatus st)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	const char *name = enum_name(cstatus_names, CSTATUS__MAX, (int)st);
	enum store_cstatus old = CSTATUS_PENDING;
	int64_t article = 0;

	if (c == NULL)
		return STORE_ERROR;
	if (name == NULL)
		return STORE_INVALID;
	if ((e = tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if ((e = comment_state(c, id, &article, &old)) != STORE_OK)
		goto err;
	if (old == st)
		goto err;
	if ((e = q_open(&q, c, STMT_COMMENT_SET_STATUS)) != STORE_OK)
		goto err;
	q_text(&q, ":status", name);
	q_int(&q, ":id", id);
	if ((e = q_exec(&q)) != STORE_OK)
		goto err;
	q_close(&q);
	e = comment_count_adj(c, article,
	    (st == CSTATUS_APPROVED) - (old == CSTATUS_APPROVED));
err:
	q_close(&q);
	return tx_end(c, &t, e);
}

/* Reads a comment's like_count inside the caller's transaction. */
static enum store_err
like_count(struct conn *c, int64_t id, int64_t *count)
{
	struct q q = {0};
	enum store_err e;
	if ((e = q_open(&q, c, STMT_LIKE_COUNT)) != STORE_OK)
		goto err;
	q_int(&q, ":id", id);
	if (q_row(&q, &e))
		*count = sqlite3_column_int64(q.st, 0);
	else if (e == STORE_OK)
		e = STORE_NOTFOUND;
err:
	q_close(&q);
	return e;
}

/*
 * like and unlike: the (comment, visitor) row and like_count move together
 * under one IMMEDIATE transaction, so concurrent likers serialize and the
 * count stays exact. add selects LIKE_ADD+LIKE_INC or LIKE_DEL+LIKE_DEC.
 */
static enum store_err
like_change(store *s, int64_t comment_id, const char *visitor, bool add,
    int64_t *count)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	int64_t n = 0;

	*count = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (visitor == NULL || *visitor == '\0')
		return STORE_INVALID;
	if ((e = tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if ((e = like_count(c, comment_id, &n)) != STORE_OK)
		goto err;
	if ((e = q_open(&q, c, add ? STMT_LIKE_ADD : STMT_LIKE_DEL)) != STORE_OK)
		goto err;
	q_int(&q, ":id", comment_id);
	q_text(&q, ":visitor", visitor);
	if (add)
		q_int(&q, ":now", (int64_t)time(NULL));
	if ((e = q_exec(&q)) != STORE_OK)
		goto err;
	q_close(&q);
	if (sqlite3_changes(c->db) == 0) {
		e = add ? STORE_CONFLICT : STORE_NOTFOUND;
		goto err;
	}
	if ((e = q_open(&q, c, add ? STMT_LIKE_INC : STMT_LIKE_DEC)) != STORE_OK)
		goto err;
	q_int(&q, ":id", comment_id);
	if ((e = q_exec(&q)) != STORE_OK)
		goto err;
	n = add ? n + 1 : n > 0 ? n - 1 : 0;
err:
	q_close(&q);
	e = tx_end(c, &t, e);
	/* CONFLICT and NOTFOUND still report the count (0 without a comment) */
	if (e == STORE_OK || e == STORE_CONFLICT || e == STORE_NOTFOUND)
		*count = n;
	return e;
}

/* See like_change. */
enum store_err
store_like(store *s, int64_t comment_id, const char *visitor, int64_t *count)
{
	return like_change(s, comment_id, visitor, true, count);
}

/* See like_change. */
enum store_err
store_unlike(store *s, int64_t comment_id, const char *visitor, int64_t *count)
{
	return like_change(s, comment_id, visitor, false, count);
}

/* ---- redirects ------------------------------------------------------------------- */

/* CONFLICT when from already redirects somewhere. */
enum store_err
store_redirect_add(store *s, const char *from, const char *to)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (from == NULL || *from == '\0' || to == NULL || *to == '\0')
		return STORE_INVALID;
	if ((e = q_open(&q, c, STMT_REDIRECT_ADD)) != STORE_OK)
		goto err;
	q_text(&q, ":from", from);
	q_text(&q, ":to", to);
	e = q_exec(&q);
err:
	q_close(&q);
	return e;
}

/* Exact path match; normalising the path is the router's job. */
enum store_err
store_redirect_get(store *s, const char *from, arena *a, const char **to)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_REDIRECT_GET)) != STORE_OK)
		goto err;
	q_text(&q, ":from", from);
	if (q_row(&q, &e))
		*to = col_str(a, q.st, 0);
	else if (e == STORE_OK)
		e = STORE_NOTFOUND;
err:
	q_close(&q);
	return e;
}

/* ---- editor area: redirects, sessions, throttling, moderation, taxonomy --- */

/* Upsert: a slug changed twice points the old path at the newest. */
enum store_err
store_redirect_set(store *s, const char *from, const char *to)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (from == NULL || *from == '\0' || to == NULL || *to == '\0')
		return STORE_INVALID;
	if ((e = q_open(&q, c, STMT_REDIRECT_SET)) != STORE_OK)
		goto err;
	q_text(&q, ":from", from);
	q_text(&q, ":to", to);
	e = q_exec(&q);
err:
	q_close(&q);
	return e;
}

/* Runs a one-row write keyed by one text parameter; NOTFOUND when it
 * changed nothing. */
static enum store_err
admin_exec_text(store *s, enum stmt id, const char *param, const char *v)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, id)) != STORE_OK)
		goto err;
	q_text(&q, param, v);
	if ((e = q_exec(&q)) == STORE_OK && sqlite3_changes(c->db) == 0)
		e = STORE_NOTFOUND;
err:
	q_close(&q);
	return e;
}

/* The same keyed by one integer. */
static enum store_err
admin_exec_int(store *s, enum stmt id, const char *param, int64_t v)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, id)) != STORE_OK)
		goto err;
	q_int(&q, param, v);
	if ((e = q_exec(&q)) == STORE_OK && sqlite3_changes(c->db) == 0)
		e = STORE_NOTFOUND;
err:
	q_close(&q);
	return e;
}

enum store_err
store_redirect_delete(store *s, const char *from)
{
	return admin_exec_text(s, STMT_REDIRECT_DELETE, ":from", from);
}

/* Count and page in one read transaction, so they agree. */
enum store_err
store_redirects(store *s, int64_t offset, int64_t limit, arena *a,
    struct store_redirect **out, size_t *n, int64_t *total)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	struct store_redirect *v = NULL;
	size_t cnt = 0, cap = 0;
	*out = NULL;
	*n = 0;
	*total = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if ((e = q_open(&q, c, STMT_REDIRECTS_COUNT)) != STORE_OK)
		goto err;
	if (q_row(&q, &e))
		*total = sqlite3_column_int64(q.st, 0);
	q_close(&q);
	if (e != STORE_OK || (e = q_open(&q, c, STMT_REDIRECTS_PAGE)) != STORE_OK)
		goto err;
	q_int(&q, ":limit", limit);
	q_int(&q, ":offset", offset);
	while (q_row(&q, &e)) {
		v = grow(a, v, cnt, &cap, sizeof(*v));
		v[cnt].from = col_str(a, q.st, 0);
		v[cnt].to = col_str(a, q.st, 1);
		cnt++;
	}
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	}
err:
	q_close(&q);
	return tx_end(c, &t, e);
}

/* NOTFOUND when the user is gone (the INSERT ... SELECT wrote nothing). */
enum store_err
store_session_add(store *s, const char *id_hash, int64_t user_id,
    const char *csrf, int64_t now, const char *ip, const char *user_agent)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (id_hash == NULL || *id_hash == '\0' || csrf == NULL || *csrf == '\0')
		return STORE_INVALID;
	if ((e = q_open(&q, c, STMT_SESSION_ADD)) != STORE_OK)
		goto err;
	q_text(&q, ":hash", id_hash);
	q_int(&q, ":user", user_id);
	q_text(&q, ":csrf", csrf);
	q_int(&q, ":now", now);
	q_text(&q, ":ip", ip);
	q_text(&q, ":ua", user_agent);
	if ((e = q_exec(&q)) == STORE_OK && sqlite3_changes(c->db) == 0)
		e = STORE_NOTFOUND;
err:
	q_close(&q);
	return e;
}

/* Every request of a logged-in editor starts here: one indexed read. */
enum store_err
store_session_get(store *s, const char *id_hash, arena *a,
    struct store_session *out)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_SESSION_GET)) != STORE_OK)
		goto err;
	q_text(&q, ":hash", id_hash);
	if (q_row(&q, &e)) {
		out->user_id = sqlite3_column_int64(q.st, 0);
		out->csrf = col_str(a, q.st, 1);
		out->created_at = sqlite3_column_int64(q.st, 2);
		out->seen_at = sqlite3_column_int64(q.st, 3);
		out->stale = sqlite3_column_int(q.st, 4) != 0;
		out->disabled = sqlite3_column_int(q.st, 5) != 0;
		out->role = (enum store_role)enum_col(role_names, ROLE__MAX, q.st, 6);
		out->name = col_str(a, q.st, 7);
		out->display_name = col_str(a, q.st, 8);
	} else if (e == STORE_OK) {
		e = STORE_NOTFOUND;
	}
err:
	q_close(&q);
	return e;
}

enum store_err
store_session_touch(store *s, const char *id_hash, int64_t now)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_SESSION_TOUCH)) != STORE_OK)
		goto err;
	q_int(&q, ":now", now);
	q_text(&q, ":hash", id_hash);
	e = q_exec(&q);
err:
	q_close(&q);
	return e;
}

enum store_err
store_session_delete(store *s, const char *id_hash)
{
	return admin_exec_text(s, STMT_SESSION_DELETE, ":hash", id_hash);
}

enum store_err
store_sessions_prune(store *s, int64_t idle_before, int64_t created_before)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_SESSIONS_PRUNE)) != STORE_OK)
		goto err;
	q_int(&q, ":idle", idle_before);
	q_int(&q, ":created", created_before);
	e = q_exec(&q);
err:
	q_close(&q);
	return e;
}

enum store_err
store_login_failures(store *s, const char *key, int64_t *failures,
    int64_t *last_at)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	*failures = 0;
	*last_at = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_LOGIN_FAILURES_GET)) != STORE_OK)
		goto err;
	q_text(&q, ":key", key);
	if (q_row(&q, &e)) {
		*failures = sqlite3_column_int64(q.st, 0);
		*last_at = sqlite3_column_int64(q.st, 1);
	}
err:
	q_close(&q);
	return e;
}

/* One upsert, so concurrent failures on the same key all count. */
enum store_err
store_login_fail(store *s, const char *key, int64_t now, int64_t forget_before)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_LOGIN_FAIL)) != STORE_OK)
		goto err;
	q_text(&q, ":key", key);
	q_int(&q, ":now", now);
	q_int(&q, ":forget", forget_before);
	e = q_exec(&q);
err:
	q_close(&q);
	return e;
}

enum store_err
store_login_clear(store *s, const char *key)
{
	enum store_err e = admin_exec_text(s, STMT_LOGIN_CLEAR, ":key", key);
	return e == STORE_NOTFOUND ? STORE_OK : e;
}

enum store_err
store_login_prune(store *s, int64_t before)
{
	enum store_err e = admin_exec_int(s, STMT_LOGIN_PRUNE, ":before", before);
	return e == STORE_NOTFOUND ? STORE_OK : e;
}

/* Rows of (status name, count) into counts[] by enum. */
static enum store_err
admin_status_counts(struct q *q, const char *const *names, int max,
    int64_t *counts)
{
	enum store_err e;
	for (int i = 0; i < max; i++)
		counts[i] = 0;
	while (q_row(q, &e))
		counts[enum_col(names, max, q->st, 0)] +=
		    sqlite3_column_int64(q->st, 1);
	return e;
}

enum store_err
store_comment_counts(store *s, int64_t article_id, int64_t counts[CSTATUS__MAX])
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_COMMENT_COUNTS)) != STORE_OK)
		goto err;
	q_int(&q, ":article", article_id);
	e = admin_status_counts(&q, cstatus_names, CSTATUS__MAX, counts);
err:
	q_close(&q);
	return e;
}

enum store_err
store_article_status_counts(store *s, int64_t counts[STATUS__MAX])
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_ARTICLE_STATUS_COUNTS)) != STORE_OK)
		goto err;
	e = admin_status_counts(&q, status_names, STATUS__MAX, counts);
err:
	q_close(&q);
	return e;
}

/* Count and page in one read transaction, so the tabs and the list agree. */
enum store_err
store_comments_queue(store *s, enum store_cstatus st, int64_t article_id,
    int64_t offset, int64_t limit, arena *a, struct store_comment **out,
    size_t *n, int64_t *total)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	struct store_comment *v = NULL;
	size_t cnt = 0, cap = 0;
	const char *name = NULL;

	*out = NULL;
	*n = 0;
	*total = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (st != CSTATUS__MAX &&
	    (name = enum_name(cstatus_names, CSTATUS__MAX, (int)st)) == NULL)
		return STORE_INVALID;
	if ((e = tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if ((e = q_open(&q, c, STMT_COMMENTS_QUEUE_COUNT)) != STORE_OK)
		goto err;
	q_text_null(&q, ":status", name);
	q_int(&q, ":article", article_id);
	if (q_row(&q, &e))
		*total = sqlite3_column_int64(q.st, 0);
	q_close(&q);
	if (e != STORE_OK || (e = q_open(&q, c, STMT_COMMENTS_QUEUE)) != STORE_OK)
		goto err;
	q_text_null(&q, ":status", name);
	q_int(&q, ":article", article_id);
	q_int(&q, ":limit", limit);
	q_int(&q, ":offset", offset);
	while (q_row(&q, &e)) {
		v = grow(a, v, cnt, &cap, sizeof(*v));
		comment_read(q.st, a, &v[cnt]);
		v[cnt++].article_title = col_str(a, q.st, 15);
	}
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	}
err:
	q_close(&q);
	return tx_end(c, &t, e);
}

enum store_err
store_comment_set_body(store *s, int64_t id, const char *body)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (body == NULL)
		return STORE_INVALID;
	if ((e = q_open(&q, c, STMT_COMMENT_SET_BODY)) != STORE_OK)
		goto err;
	q_text(&q, ":body", body);
	q_int(&q, ":id", id);
	if ((e = q_exec(&q)) == STORE_OK && sqlite3_changes(c->db) == 0)
		e = STORE_NOTFOUND;
err:
	q_close(&q);
	return e;
}

static const char *const ban_names[BAN__MAX] = {
	[BAN_IP] = "ip",
	[BAN_RANGE] = "range",
	[BAN_VISITOR] = "visitor",
};

enum store_err
store_ban_add(store *s, const struct store_ban *b, int64_t *id)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	const char *kind = enum_name(ban_names, BAN__MAX, (int)b->kind);
	if (c == NULL)
		return STORE_ERROR;
	if (kind == NULL || b->value == NULL || *b->value == '\0')
		return STORE_INVALID;
	if ((e = q_open(&q, c, STMT_BAN_ADD)) != STORE_OK)
		goto err;
	q_text(&q, ":kind", kind);
	q_text(&q, ":value", b->value);
	q_text(&q, ":note", b->note);
	q_int(&q, ":now", b->created_at);
	if ((e = q_exec(&q)) == STORE_OK && id != NULL)
		*id = sqlite3_last_insert_rowid(c->db);
err:
	q_close(&q);
	return e;
}

enum store_err
store_ban_delete(store *s, int64_t id)
{
	return admin_exec_int(s, STMT_BAN_DELETE, ":id", id);
}

enum store_err
store_bans(store *s, size_t limit, arena *a, struct store_ban **out, size_t *n)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	struct store_ban *v = NULL;
	size_t cnt = 0, cap = 0;
	*out = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_BANS)) != STORE_OK)
		goto err;
	q_int(&q, ":limit", (int64_t)limit);
	while (q_row(&q, &e)) {
		v = grow(a, v, cnt, &cap, sizeof(*v));
		v[cnt].id = sqlite3_column_int64(q.st, 0);
		v[cnt].kind = (enum store_ban_kind)enum_col(ban_names, BAN__MAX,
		    q.st, 1);
		v[cnt].value = col_str(a, q.st, 2);
		v[cnt].note = col_str(a, q.st, 3);
		v[cnt].created_at = sqlite3_column_int64(q.st, 4);
		cnt++;
	}
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	}
err:
	q_close(&q);
	return e;
}

enum store_err
store_ban_exact(store *s, const char *ip, const char *visitor, bool *yes)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	*yes = false;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_BAN_EXACT)) != STORE_OK)
		goto err;
	q_text_null(&q, ":ip", ip);
	q_text_null(&q, ":visitor", visitor);
	if (q_row(&q, &e))
		*yes = sqlite3_column_int(q.st, 0) != 0;
err:
	q_close(&q);
	return e;
}

/* Parent of category id inside the caller's transaction (0: none). */
static enum store_err
category_parent(struct conn *c, int64_t id, int64_t *parent)
{
	struct q q = {0};
	enum store_err e;
	if ((e = q_open(&q, c, STMT_CATEGORY_GET)) != STORE_OK)
		goto err;
	q_int(&q, ":id", id);
	if (q_row(&q, &e))
		*parent = sqlite3_column_int64(q.st, 1);
	else if (e == STORE_OK)
		e = STORE_NOTFOUND;
err:
	q_close(&q);
	return e;
}

/* The parent chain is walked in the same transaction, so no concurrent
 * edit can close a loop between the check and the write. */
enum store_err
store_category_update(store *s, const struct store_category *cat)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (cat->slug == NULL || *cat->slug == '\0' || cat->name == NULL)
		return STORE_INVALID;
	if ((e = tx_begin(c, true, &t)) != STORE_OK)
		return e;
	int64_t p = cat->parent_id;
	for (int depth = 0; p != 0 && e == STORE_OK; depth++) {
		if (p == cat->id || depth > 1000) {
			e = STORE_INVALID;
			break;
		}
		e = category_parent(c, p, &p);
		if (e == STORE_NOTFOUND)
			e = STORE_INVALID;
	}
	if (e != STORE_OK)
		goto err;
	if ((e = q_open(&q, c, STMT_CATEGORY_UPDATE)) != STORE_OK)
		goto err;
	q_id(&q, ":parent", cat->parent_id);
	q_text(&q, ":slug", cat->slug);
	q_text(&q, ":name", cat->name);
	q_text(&q, ":description", cat->description);
	q_int(&q, ":id", cat->id);
	if ((e = q_exec(&q)) == STORE_OK && sqlite3_changes(c->db) == 0)
		e = STORE_NOTFOUND;
err:
	q_close(&q);
	return tx_end(c, &t, e);
}

/* Runs statement id with :id and one more integer (or NULL for 0)
 * parameter inside the caller's transaction. */
static enum store_err
admin_run2(struct conn *c, enum stmt id, int64_t key, const char *param,
    int64_t v)
{
	struct q q = {0};
	enum store_err e;
	if ((e = q_open(&q, c, id)) != STORE_OK)
		goto err;
	q_int(&q, ":id", key);
	if (param)
		q_id(&q, param, v);
	e = q_exec(&q);
err:
	q_close(&q);
	return e;
}

enum store_err
store_category_delete(store *s, int64_t id, int64_t reassign)
{
	struct conn *c = conn_get(s);
	struct tx t = {0};
	enum store_err e;
	int64_t parent = 0, p2 = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (reassign == id)
		return STORE_INVALID;
	if ((e = tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if ((e = category_parent(c, id, &parent)) != STORE_OK)
		goto err;
	if (reassign != 0 && (e = category_parent(c, reassign, &p2)) != STORE_OK) {
		if (e == STORE_NOTFOUND)
			e = STORE_INVALID;
		goto err;
	}
	if ((e = admin_run2(c, STMT_CATEGORY_REASSIGN, id, ":to", reassign)) ||
	    (e = admin_run2(c, STMT_CATEGORY_REPARENT, id, ":parent", parent)) ||
	    (e = admin_run2(c, STMT_CATEGORY_DELETE, id, NULL, 0)))
		goto err;
	e = conn_run(c, STMT_CHANGE_ALL);
err:
	return tx_end(c, &t, e);
}

enum store_err
store_category_usage(store *s, arena *a, int64_t **ids, int64_t **counts,
    size_t *n)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	int64_t *vi = NULL, *vc = NULL;
	size_t cnt = 0, cap = 0, cap2 = 0;
	*ids = *counts = NULL;
	*n = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_CATEGORY_USAGE)) != STORE_OK)
		goto err;
	while (q_row(&q, &e)) {
		vi = grow(a, vi, cnt, &cap, sizeof(*vi));
		vc = grow(a, vc, cnt, &cap2, sizeof(*vc));
		vi[cnt] = sqlite3_column_int64(q.st, 0);
		vc[cnt++] = sqlite3_column_int64(q.st, 1);
	}
	if (e == STORE_OK) {
		*ids = vi;
		*counts = vc;
		*n = cnt;
	}
err:
	q_close(&q);
	return e;
}

enum store_err
store_tag_get(store *s, int64_t id, arena *a, struct store_tag *out)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_TAG_GET)) != STORE_OK)
		goto err;
	q_int(&q, ":id", id);
	if (q_row(&q, &e)) {
		out->id = sqlite3_column_int64(q.st, 0);
		out->slug = col_str(a, q.st, 1);
		out->name = col_str(a, q.st, 2);
	} else if (e == STORE_OK) {
		e = STORE_NOTFOUND;
	}
err:
	q_close(&q);
	return e;
}

enum store_err
store_tag_update(store *s, const struct store_tag *tg)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (tg->slug == NULL || *tg->slug == '\0' || tg->name == NULL)
		return STORE_INVALID;
	if ((e = q_open(&q, c, STMT_TAG_UPDATE)) != STORE_OK)
		goto err;
	q_text(&q, ":slug", tg->slug);
	q_text(&q, ":name", tg->name);
	q_int(&q, ":id", tg->id);
	if ((e = q_exec(&q)) == STORE_OK && sqlite3_changes(c->db) == 0)
		e = STORE_NOTFOUND;
err:
	q_close(&q);
	return e;
}

enum store_err
store_tag_delete(store *s, int64_t id, int64_t reassign)
{
	struct conn *c = conn_get(s);
	struct tx t = {0};
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (reassign == id)
		return STORE_INVALID;
	if ((e = tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if (reassign != 0) {
		if ((e = q_open(&q, c, STMT_TAG_GET)) != STORE_OK)
			goto err;
		q_int(&q, ":id", reassign);
		if (!q_row(&q, &e) && e == STORE_OK)
			e = STORE_INVALID;
		q_close(&q);
		if (e != STORE_OK ||
		    (e = admin_run2(c, STMT_TAG_REASSIGN, id, ":to", reassign)))
			goto err;
	}
	if ((e = admin_run2(c, STMT_TAG_DELETE, id, NULL, 0)) != STORE_OK)
		goto err;
	if (sqlite3_changes(c->db) == 0) {
		e = STORE_NOTFOUND;
		goto err;
	}
	e = conn_run(c, STMT_CHANGE_ALL);
err:
	q_close(&q);
	return tx_end(c, &t, e);
}

enum store_err
store_tags_page(store *s, int64_t offset, int64_t limit, arena *a,
    struct store_tag **out, int64_t **counts, size_t *n, int64_t *total)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	struct store_tag *v = NULL;
	int64_t *vc = NULL;
	size_t cnt = 0, cap = 0, cap2 = 0;
	*out = NULL;
	*counts = NULL;
	*n = 0;
	*total = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if ((e = q_open(&q, c, STMT_TAGS_COUNT)) != STORE_OK)
		goto err;
	if (q_row(&q, &e))
		*total = sqlite3_column_int64(q.st, 0);
	q_close(&q);
	if (e != STORE_OK || (e = q_open(&q, c, STMT_TAGS_PAGE)) != STORE_OK)
		goto err;
	q_int(&q, ":limit", limit);
	q_int(&q, ":offset", offset);
	while (q_row(&q, &e)) {
		v = grow(a, v, cnt, &cap, sizeof(*v));
		vc = grow(a, vc, cnt, &cap2, sizeof(*vc));
		v[cnt].id = sqlite3_column_int64(q.st, 0);
		v[cnt].slug = col_str(a, q.st, 1);
		v[cnt].name = col_str(a, q.st, 2);
		vc[cnt++] = sqlite3_column_int64(q.st, 3);
	}
	if (e == STORE_OK) {
		*out = v;
		*counts = vc;
		*n = cnt;
	}
err:
	q_close(&q);
	return tx_end(c, &t, e);
}

/* ---- media ------------------------------------------------------------------------ */

/* [A-Za-z0-9._-]+, not starting with '.', so a name is also a safe file
 * name when the site is exported to a directory. */
static bool
media_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > STORE_MEDIA_NAME || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-'))
			return false;
	}
	return true;
}

/* Upsert: a re-upload under the same name replaces the file. */
enum store_err
store_media_put(store *s, const char *name, const char *type, const void *data,
    size_t n, int64_t mtime)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (!media_name_ok(name) || type == NULL || *type == '\0' ||
	    (n > 0 && data == NULL))
		return STORE_INVALID;
	if ((e = q_open(&q, c, STMT_MEDIA_PUT)) != STORE_OK)
		goto err;
	q_text(&q, ":name", name);
	q_text(&q, ":type", type);
	q_blob(&q, ":data", data, n);
	q_int(&q, ":mtime", mtime);
	e = q_exec(&q);
err:
	q_close(&q);
	return e;
}

/* *data is never NULL on success, even for an empty file. */
enum store_err
store_media_get(store *s, const char *name, arena *a, const char **type,
    const void **data, size_t *n, int64_t *mtime)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (!media_name_ok(name))
		return STORE_NOTFOUND;
	if ((e = q_open(&q, c, STMT_MEDIA_GET)) != STORE_OK)
		goto err;
	q_text(&q, ":name", name);
	if (q_row(&q, &e)) {
		const void *p = sqlite3_column_blob(q.st, 1);
		size_t len = (size_t)sqlite3_column_bytes(q.st, 1);
		void *copy = arena_alloc(a, len ? len : 1);
		if (len)
			memcpy(copy, p, len);
		*type = col_str(a, q.st, 0);
		*data = copy;
		*n = len;
		*mtime = sqlite3_column_int64(q.st, 2);
	} else if (e == STORE_OK) {
		e = STORE_NOTFOUND;
	}
err:
	q_close(&q);
	return e;
}

/* ---- editor area: article list and media library ---------------------------------- */

/* Binds ART_ADMIN's parameters from f. */
static void
admin_list_bind(struct q *q, const struct store_article_query *f)
{
	any_bind(q, f->status, f->kind);
	q_int(q, ":category", f->category_id);
	q_int(q, ":author", f->author_id);
	q_text(q, ":text", f->text ? f->text : "");
}

/* The count and the page come from one read transaction. */
enum store_err
store_articles_admin(store *s, const struct store_article_query *f,
    int64_t offset, int64_t limit, arena *a, struct store_article **out,
    size_t *n, int64_t *total)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;

	*out = NULL;
	*n = 0;
	if (total != NULL)
		*total = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if (total != NULL) {
		if ((e = q_open(&q, c, STMT_ARTICLES_ADMIN_COUNT)) != STORE_OK)
			goto err;
		admin_list_bind(&q, f);
		if (q_row(&q, &e))
			*total = sqlite3_column_int64(q.st, 0);
		q_close(&q);
		if (e != STORE_OK)
			goto err;
	}
	if ((e = q_open(&q, c, STMT_ARTICLES_ADMIN)) != STORE_OK)
		goto err;
	admin_list_bind(&q, f);
	q_int(&q, ":limit", limit);
	q_int(&q, ":offset", offset > 0 ? offset : 0);
	e = article_rows(&q, a, out, n);
err:
	q_close(&q);
	return tx_end(c, &t, e);
}

/* One row of MEDIA_COLS. */
static void
media_read(sqlite3_stmt *st, arena *a, struct store_media *o)
{
	o->name = col_str(a, st, 0);
	o->type = col_str(a, st, 1);
	o->width = sqlite3_column_int64(st, 2);
	o->height = sqlite3_column_int64(st, 3);
	o->filename = col_str(a, st, 4);
	o->uploader_id = sqlite3_column_int64(st, 5);
	o->mtime = sqlite3_column_int64(st, 6);
	o->uploader_name = col_str(a, st, 7);
}

enum store_err
store_media_add(store *s, const struct store_media *m, const void *data,
    size_t n)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (!media_name_ok(m->name) || m->type == NULL || *m->type == '\0' ||
	    (n > 0 && data == NULL) || m->width < 0 || m->height < 0)
		return STORE_INVALID;
	if ((e = q_open(&q, c, STMT_MEDIA_ADD)) != STORE_OK)
		goto err;
	q_text(&q, ":name", m->name);
	q_text(&q, ":type", m->type);
	q_blob(&q, ":data", data, n);
	q_int(&q, ":mtime", m->mtime);
	q_int(&q, ":width", m->width);
	q_int(&q, ":height", m->height);
	q_text(&q, ":filename", m->filename);
	q_id(&q, ":uploader", m->uploader_id);
	e = q_exec(&q);
err:
	q_close(&q);
	return e;
}

enum store_err
store_media_meta(store *s, const char *name, arena *a, struct store_media *out)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (!media_name_ok(name))
		return STORE_NOTFOUND;
	if ((e = q_open(&q, c, STMT_MEDIA_META)) != STORE_OK)
		goto err;
	q_text(&q, ":name", name);
	if (q_row(&q, &e))
		media_read(q.st, a, out);
	else if (e == STORE_OK)
		e = STORE_NOTFOUND;
err:
	q_close(&q);
	return e;
}

enum store_err
store_media_list(store *s, int64_t offset, int64_t limit, arena *a,
    struct store_media **out, size_t *n, int64_t *total)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	struct store_media *v = NULL;
	size_t cnt = 0, cap = 0;
	enum store_err e;

	*out = NULL;
	*n = 0;
	if (total != NULL)
		*total = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if (total != NULL) {
		if ((e = q_open(&q, c, STMT_MEDIA_COUNT)) != STORE_OK)
			goto err;
		if (q_row(&q, &e))
			*total = sqlite3_column_int64(q.st, 0);
		q_close(&q);
		if (e != STORE_OK)
			goto err;
	}
	if ((e = q_open(&q, c, STMT_MEDIA_LIST)) != STORE_OK)
		goto err;
	q_int(&q, ":limit", limit);
	q_int(&q, ":offset", offset > 0 ? offset : 0);
	while (q_row(&q, &e)) {
		v = grow(a, v, cnt, &cap, sizeof(*v));
		media_read(q.st, a, &v[cnt++]);
	}
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	}
err:
	q_close(&q);
	return tx_end(c, &t, e);
}

/* ---- jobs ------------------------------------------------------------------------- */

void
store_job_hook(store *s, void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&s->mu);
	s->job_hook = fn;
	s->job_hook_ctx = ctx;
	pthread_mutex_unlock(&s->mu);
}

/* Tells this process's runner (src/jobs/) that a job was added, so it
 * need not wait for its next poll. Called under s->mu, so once
 * store_job_hook(NULL) has returned no call to the old hook is running. */
static void
job_added(store *s)
{
	pthread_mutex_lock(&s->mu);
	if (s->job_hook != NULL)
		s->job_hook(s->job_hook_ctx);
	pthread_mutex_unlock(&s->mu);
}

/* A job with no key: every call adds one. */
enum store_err
store_job_add(store *s, const char *kind, const char *payload, int64_t run_at)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (kind == NULL || *kind == '\0')
		return STORE_INVALID;
	if ((e = q_open(&q, c, STMT_JOB_ADD)) != STORE_OK)
		goto err;
	q_text(&q, ":kind", kind);
	q_text(&q, ":payload", payload);
	q_int(&q, ":run_at", run_at);
	e = q_exec(&q);
err:
	q_close(&q);
	if (e == STORE_OK)
		job_added(s);
	return e;
}

/* Upsert on the key (see JOB_SCHEDULE); RETURNING gives the id both ways. */
enum store_err
store_job_schedule(store *s, const char *kind, const char *payload,
    int64_t run_at, const char *key, int64_t *id)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if (kind == NULL || *kind == '\0' || key == NULL || *key == '\0')
		return STORE_INVALID;
	if ((e = q_open(&q, c, STMT_JOB_SCHEDULE)) != STORE_OK)
		goto err;
	q_text(&q, ":kind", kind);
	q_text(&q, ":payload", payload);
	q_int(&q, ":run_at", run_at);
	q_text(&q, ":key", key);
	if (q_row(&q, &e) && id != NULL)
		*id = sqlite3_column_int64(q.st, 0);
	if (e == STORE_OK)
		e = q_exec(&q);
err:
	q_close(&q);
	if (e == STORE_OK)
		job_added(s);
	return e;
}

/* One jobs row in JOB_COLS order. */
static void
job_read(sqlite3_stmt *st, arena *a, struct store_job *out)
{
	out->id = sqlite3_column_int64(st, 0);
	out->kind = col_str(a, st, 1);
	out->payload = col_str(a, st, 2);
	out->run_at = sqlite3_column_int64(st, 3);
	out->lease_until = sqlite3_column_int64(st, 4);
	out->attempts = sqlite3_column_int64(st, 5);
	out->done_at = sqlite3_column_int64(st, 6);
	out->dedup_key = col_str(a, st, 7);
	out->last_error = col_str(a, st, 8);
}

enum store_err
store_job_due(store *s, int64_t now, bool *yes)
{
	int64_t v = 0;
	enum store_err e = store_one_int(s, STMT_JOB_DUE, ":now", now, &v);
	*yes = e == STORE_OK && v != 0;
	return e;
}

/*
 * BEGIN IMMEDIATE takes the write lock before the due row is chosen: a
 * claim in one autocommit statement would read a snapshot first and fail
 * with BUSY_SNAPSHOT when another runner committed in between. The row
 * is read whole before COMMIT (RETURNING rows end with the statement).
 */
enum store_err
store_job_claim(store *s, int64_t now, int64_t lease, arena *a,
    struct store_job *out)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct tx t;
	enum store_err e;
	bool got = false;
	if (c == NULL)
		return STORE_ERROR;
	if (lease < 1)
		return STORE_INVALID;
	if ((e = tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if ((e = q_open(&q, c, STMT_JOB_CLAIM)) != STORE_OK)
		goto err;
	q_int(&q, ":now", now);
	q_int(&q, ":lease", lease);
	if (q_row(&q, &e)) {
		job_read(q.st, a, out);
		got = true;
		e = q_exec(&q);
	}
err:
	q_close(&q);
	e = tx_end(c, &t, e);
	if (e == STORE_OK && !got)
		e = STORE_NOTFOUND;
	return e;
}

/* NOTFOUND: the claim was lost (lease expired and taken, or the job was
 * scheduled anew); the outcome is not recorded. */
static enum store_err
job_finish(store *s, enum stmt id, const struct store_job *j, int64_t now,
    const char *error, int64_t run_at, int64_t done)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, id)) != STORE_OK)
		goto err;
	q_int(&q, ":id", j->id);
	q_int(&q, ":attempts", j->attempts);
	q_int(&q, ":lease", j->lease_until);
	if (id == STMT_JOB_DONE) {
		q_int(&q, ":now", now);
	} else {
		q_text(&q, ":error", error);
		q_int(&q, ":run_at", run_at);
		q_id(&q, ":done", done);
	}
	if ((e = q_exec(&q)) == STORE_OK && sqlite3_changes(c->db) == 0)
		e = STORE_NOTFOUND;
err:
	q_close(&q);
	return e;
}

enum store_err
store_job_done(store *s, const struct store_job *j, int64_t now)
{
	return job_finish(s, STMT_JOB_DONE, j, now, NULL, 0, 0);
}

enum store_err
store_job_fail(store *s, const struct store_job *j, const char *error,
    int64_t retry_at, int64_t now)
{
	if (retry_at > 0)
		return job_finish(s, STMT_JOB_FAIL, j, now, error, retry_at, 0);
	return job_finish(s, STMT_JOB_FAIL, j, now, error, j->run_at,
	    now > 0 ? now : 1);
}

enum store_err
store_job_get(store *s, int64_t id, arena *a, struct store_job *out)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_JOB_GET)) != STORE_OK)
		goto err;
	q_int(&q, ":id", id);
	if (q_row(&q, &e))
		job_read(q.st, a, out);
	else if (e == STORE_OK)
		e = STORE_NOTFOUND;
err:
	q_close(&q);
	return e;
}

/* ---- the save path (content/): revisions, slugs, trash, batches ---------- */

/* One row of REV_COLS. */
static void
rev_read(sqlite3_stmt *st, arena *a, struct store_revision *o)
{
	memset(o, 0, sizeof(*o));
	o->id = sqlite3_column_int64(st, 0);
	o->article_id = sqlite3_column_int64(st, 1);
	o->title = col_str(a, st, 2);
	o->body = col_str(a, st, 3);
	o->body_format = (enum store_format)enum_col(format_names, FORMAT__MAX,
	    st, 4);
	o->created_at = sqlite3_column_int64(st, 5);
	o->author_id = sqlite3_column_int64(st, 6);
	o->meta = col_str(a, st, 7);
	o->author_name = col_str(a, st, 8);
}

/* A missing article is STORE_INVALID (foreign key); meta "" is "{}". */
enum store_err
store_revision_add(store *s, struct store_revision *r)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	const char *fmt = enum_name(format_names, FORMAT__MAX, (int)r->body_format);
	if (c == NULL)
		return STORE_ERROR;
	if (fmt == NULL || r->article_id <= 0)
		return STORE_INVALID;
	if ((e = q_open(&q, c, STMT_REVISION_ADD)) != STORE_OK)
		goto err;
	q_int(&q, ":id", r->article_id);
	q_text(&q, ":title", r->title);
	q_text(&q, ":body", r->body);
	q_text(&q, ":format", fmt);
	q_int(&q, ":created", r->created_at);
	q_id(&q, ":author", r->author_id);
	q_text(&q, ":meta", r->meta && *r->meta ? r->meta : "{}");
	if ((e = q_exec(&q)) == STORE_OK)
		r->id = sqlite3_last_insert_rowid(c->db);
err:
	q_close(&q);
	return e;
}

/* Revision ids only grow, so the newest is the largest. */
enum store_err
store_revision_latest(store *s, int64_t article_id, int64_t *id)
{
	return store_one_int(s, STMT_REVISION_LATEST, ":id", article_id, id);
}

/* The count and the page come from one read transaction. */
enum store_err
store_revisions(store *s, int64_t article_id, int64_t offset, int64_t limit,
    arena *a, struct store_revision **out, size_t *n, int64_t *total)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	struct store_revision *v = NULL;
	size_t cnt = 0, cap = 0;
	enum store_err e;

	*out = NULL;
	*n = 0;
	if (total != NULL)
		*total = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if (total != NULL) {
		if ((e = q_open(&q, c, STMT_REVISIONS_COUNT)) != STORE_OK)
			goto err;
		q_int(&q, ":id", article_id);
		if (q_row(&q, &e))
			*total = sqlite3_column_int64(q.st, 0);
		q_close(&q);
		if (e != STORE_OK)
			goto err;
	}
	if ((e = q_open(&q, c, STMT_REVISIONS)) != STORE_OK)
		goto err;
	q_int(&q, ":id", article_id);
	q_int(&q, ":limit", limit);
	q_int(&q, ":offset", offset > 0 ? offset : 0);
	while (q_row(&q, &e)) {
		v = grow(a, v, cnt, &cap, sizeof(*v));
		rev_read(q.st, a, &v[cnt++]);
	}
err:
	q_close(&q);
	e = tx_end(c, &t, e);
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	}
	return e;
}

/* With the body: what a restore or a diff needs. */
enum store_err
store_revision_get(store *s, int64_t id, arena *a, struct store_revision *out)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_REVISION_GET)) != STORE_OK)
		goto err;
	q_int(&q, ":id", id);
	if (q_row(&q, &e))
		rev_read(q.st, a, out);
	else if (e == STORE_OK)
		e = STORE_NOTFOUND;
err:
	q_close(&q);
	return e;
}

/* Slugs are unique per kind by content_save's checks, not by the schema
 * (WordPress pages may share one), hence "the lowest id". */
enum store_err
store_article_slug_owner(store *s, enum store_kind kind, const char *slug,
    int64_t except, int64_t *id)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	const char *k = enum_name(kind_names, KIND__MAX, (int)kind);
	*id = 0;
	if (c == NULL)
		return STORE_ERROR;
	if (k == NULL || slug == NULL)
		return STORE_INVALID;
	if ((e = q_open(&q, c, STMT_ARTICLE_SLUG_OWNER)) != STORE_OK)
		goto err;
	q_text(&q, ":slug", slug);
	q_text(&q, ":kind", k);
	q_int(&q, ":except", except);
	if (q_row(&q, &e))
		*id = sqlite3_column_int64(q.st, 0);
err:
	q_close(&q);
	return e;
}

/* Exports and old-URL redirects find articles by slug. */
enum store_err
store_article_by_slug(store *s, enum store_kind kind, const char *slug,
    arena *a, struct store_article *out)
{
	int64_t id = 0;
	enum store_err e = store_article_slug_owner(s, kind, slug, 0, &id);
	if (e != STORE_OK)
		return e;
	if (id == 0)
		return STORE_NOTFOUND;
	return store_article_get_any(s, id, a, out);
}

/* One narrow read for the save path's decisions. */
enum store_err
store_article_state(store *s, int64_t id, enum store_status *status,
    int64_t *published_at)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_ARTICLE_STATE)) != STORE_OK)
		goto err;
	q_int(&q, ":id", id);
	if (q_row(&q, &e)) {
		*status = (enum store_status)enum_col(status_names, STATUS__MAX,
		    q.st, 0);
		*published_at = sqlite3_column_int64(q.st, 1);
	} else if (e == STORE_OK) {
		e = STORE_NOTFOUND;
	}
err:
	q_close(&q);
	return e;
}

/* The count and the page come from one read transaction. */
enum store_err
store_articles_any(store *s, enum store_status status, enum store_kind kind,
    int64_t offset, int64_t limit, arena *a, struct store_article **out,
    size_t *n, int64_t *total)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;

	*out = NULL;
	*n = 0;
	if (total != NULL)
		*total = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if (total != NULL) {
		if ((e = q_open(&q, c, STMT_ARTICLES_ANY_COUNT)) != STORE_OK)
			goto err;
		any_bind(&q, status, kind);
		if (q_row(&q, &e))
			*total = sqlite3_column_int64(q.st, 0);
		q_close(&q);
		if (e != STORE_OK)
			goto err;
	}
	if ((e = q_open(&q, c, STMT_ARTICLES_ANY)) != STORE_OK)
		goto err;
	any_bind(&q, status, kind);
	q_int(&q, ":limit", limit);
	q_int(&q, ":offset", offset > 0 ? offset : 0);
	e = article_rows(&q, a, out, n);
err:
	q_close(&q);
	return tx_end(c, &t, e);
}

/* Tags are named by people and found by name when an article is saved. */
enum store_err
store_tag_by_name(store *s, const char *name, arena *a, struct store_tag *out)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	enum store_err e;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = q_open(&q, c, STMT_TAG_BY_NAME)) != STORE_OK)
		goto err;
	q_text(&q, ":name", name);
	if (q_row(&q, &e)) {
		out->id = sqlite3_column_int64(q.st, 0);
		out->slug = col_str(a, q.st, 1);
		out->name = col_str(a, q.st, 2);
	} else if (e == STORE_OK) {
		e = STORE_NOTFOUND;
	}
err:
	q_close(&q);
	return e;
}

/*
 * Runs one of the status statements (PUBLISH_DUE, TRASH, RESTORE) for an
 * article between FTS_UNINDEX and FTS_INDEX, in one write transaction
 * (or savepoint), after reading its status: want is the status it must
 * have (STATUS__MAX: any but the trash). *changed when a row changed;
 * RESTORE's new status and published_at land in *st and *pub.
 */
static enum store_err
article_status_op(store *s, enum stmt op, int64_t id, int64_t now,
    enum store_status want, bool *changed, enum store_status *st,
    int64_t *pub)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;
	enum store_status cur = STATUS_DRAFT;
	int64_t at = 0;

	*changed = false;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if ((e = q_open(&q, c, STMT_ARTICLE_STATE)) != STORE_OK)
		goto err;
	q_int(&q, ":id", id);
	if (q_row(&q, &e)) {
		cur = (enum store_status)enum_col(status_names, STATUS__MAX, q.st, 0);
		at = sqlite3_column_int64(q.st, 1);
	} else if (e == STORE_OK) {
		e = STORE_NOTFOUND;
	}
	q_close(&q);
	if (e != STORE_OK)
		goto err;
	if (want == STATUS__MAX ? cur == STATUS_TRASH : cur != want) {
		/* nothing to do: not scheduled, already trashed; restoring
		 * what is not in the trash is the caller's mistake */
		if (op == STMT_ARTICLE_RESTORE)
			e = STORE_INVALID;
		goto err;
	}
	if (op == STMT_ARTICLE_PUBLISH_DUE && at > now)
		goto err;
	if ((e = fts_sync(c, STMT_FTS_UNINDEX, id)) != STORE_OK)
		goto err;
	if ((e = q_open(&q, c, op)) != STORE_OK)
		goto err;
	q_int(&q, ":id", id);
	if (op != STMT_ARTICLE_RESTORE)
		q_int(&q, ":now", now);
	if (q_row(&q, &e) && op == STMT_ARTICLE_RESTORE) {
		*st = (enum store_status)enum_col(status_names, STATUS__MAX, q.st, 0);
		*pub = sqlite3_column_int64(q.st, 1);
	}
	if (e == STORE_OK)
		e = q_exec(&q); /* RETURNING: the row is written by the end */
	if (e != STORE_OK)
		goto err;
	*changed = sqlite3_changes(c->db) > 0;
	q_close(&q);
	e = fts_sync(c, STMT_FTS_INDEX, id);
err:
	q_close(&q);
	e = tx_end(c, &t, e);
	if (e != STORE_OK)
		*changed = false;
	return e;
}

/* The job runner's "publish": idempotent by the status check. */
enum store_err
store_article_publish_due(store *s, int64_t id, int64_t now, bool *changed)
{
	enum store_status st;
	int64_t pub;
	return article_status_op(s, STMT_ARTICLE_PUBLISH_DUE, id, now,
	    STATUS_SCHEDULED, changed, &st, &pub);
}

/* A second trash is a no-op, so the first status is kept. */
enum store_err
store_article_trash(store *s, int64_t id, int64_t now)
{
	enum store_status st;
	int64_t pub;
	bool changed;
	return article_status_op(s, STMT_ARTICLE_TRASH, id, now, STATUS__MAX,
	    &changed, &st, &pub);
}

/* The status comes back from the row (trashed_from). */
enum store_err
store_article_restore(store *s, int64_t id, enum store_status *status,
    int64_t *published_at)
{
	bool changed;
	*status = STATUS_DRAFT;
	*published_at = 0;
	return article_status_op(s, STMT_ARTICLE_RESTORE, id, 0, STATUS_TRASH,
	    &changed, status, published_at);
}

/* See store.h; tx_begin/tx_end for callers above the store. The outer
 * transaction marks the connection in_tx so that store calls inside it
 * notice a rollback SQLite did on its own. */
enum store_err
store_atomic_begin(store *s, struct store_atomic *t)
{
	struct conn *c = conn_get(s);
	struct tx x = {0};
	enum store_err e;
	t->active = t->outer = false;
	if (c == NULL)
		return STORE_ERROR;
	e = tx_begin(c, true, &x);
	t->active = x.active;
	t->outer = x.outer;
	if (e == STORE_OK && x.outer)
		c->in_tx = true;
	return e;
}

enum store_err
store_atomic_end(store *s, struct store_atomic *t, enum store_err e)
{
	struct conn *c = conn_get(s);
	struct tx x = {t->active, t->outer};
	if (c == NULL)
		return STORE_ERROR;
	if (!t->active)
		return e;
	t->active = false;
	if (x.outer && e == STORE_OK)
		e = fts_flush(c);
	if (x.outer) {
		c->in_tx = false;
		if (e != STORE_OK)
			c->fts_n = 0;
	}
	return tx_end(c, &x, e);
}

/* Indexes every pending article in statements of up to 4096 ids (a
 * bounded JSON list), then forgets them. */
static enum store_err
fts_flush(struct conn *c)
{
	struct q q = {0};
	enum store_err e = STORE_OK;
	buf ids;
	size_t i = 0;

	if (c->fts_n == 0)
		return STORE_OK;
	buf_init(&ids, 0);
	while (i < c->fts_n && e == STORE_OK) {
		buf_reset(&ids);
		buf_putc(&ids, '[');
		for (size_t k = 0; k < 4096 && i < c->fts_n; k++, i++)
			buf_printf(&ids, "%s%" PRId64, k ? "," : "", c->fts_ids[i]);
		buf_putc(&ids, ']');
		if (ids.err) {
			e = STORE_ERROR;
			break;
		}
		if ((e = q_open(&q, c, STMT_FTS_INDEX_MANY)) != STORE_OK)
			break;
		q_text(&q, ":ids", buf_cstr(&ids));
		e = q_exec(&q);
		q_close(&q);
	}
	q_close(&q);
	buf_free(&ids);
	if (e == STORE_OK)
		c->fts_n = 0;
	return e;
}

/* Turning it off writes what waits, in the caller's transaction. */
enum store_err
store_fts_defer(store *s, bool on)
{
	struct conn *c = conn_get(s);
	if (c == NULL)
		return STORE_ERROR;
	c->fts_defer = on;
	return on ? STORE_OK : fts_flush(c);
}

/* ---- full-text search (the SQL side of fts.c) ------------------------------------ */

/* The index entry goes first, while the view still shows what was
 * indexed; the foreign keys cascade to everything else. */
enum store_err
store_article_delete(store *s, int64_t id)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	enum store_err e;

	if (c == NULL)
		return STORE_ERROR;
	if ((e = tx_begin(c, true, &t)) != STORE_OK)
		return e;
	if ((e = fts_sync(c, STMT_FTS_UNINDEX, id)) != STORE_OK)
		goto err;
	if ((e = q_open(&q, c, STMT_ARTICLE_DELETE)) != STORE_OK)
		goto err;
	q_int(&q, ":id", id);
	if ((e = q_exec(&q)) == STORE_OK && sqlite3_changes(c->db) == 0)
		e = STORE_NOTFOUND;
err:
	q_close(&q);
	return tx_end(c, &t, e);
}

/* The count and the page come from one read transaction, so the total
 * matches the page. */
enum store_err
store_fts_page(store *s, const char *expr, int64_t now, int64_t offset,
    int64_t limit, arena *a, struct store_hit **out, size_t *n,
    int64_t *total)
{
	struct conn *c = conn_get(s);
	struct q q = {0};
	struct tx t = {0};
	struct store_hit *v = NULL;
	size_t cnt = 0, cap = 0;
	enum store_err e;

	*out = NULL;
	*n = 0;
	if (total != NULL)
		*total = 0;
	if (c == NULL)
		return STORE_ERROR;
	if ((e = tx_begin(c, false, &t)) != STORE_OK)
		return e;
	if (total != NULL) {
		if ((e = q_open(&q, c, STMT_SEARCH_COUNT)) != STORE_OK)
			goto err;
		q_text(&q, ":q", expr);
		q_int(&q, ":now", now);
		if (q_row(&q, &e))
			*total = sqlite3_column_int64(q.st, 0);
		q_close(&q);
		if (e != STORE_OK || *total == 0)
			goto err;
	}
	if (limit <= 0)
		goto err;
	if ((e = q_open(&q, c, STMT_SEARCH)) != STORE_OK)
		goto err;
	q_text(&q, ":q", expr);
	q_int(&q, ":now", now);
	q_int(&q, ":limit", limit);
	q_int(&q, ":offset", offset > 0 ? offset : 0);
	while (q_row(&q, &e)) {
		v = grow(a, v, cnt, &cap, sizeof(*v));
		struct store_hit *h = &v[cnt++];
		memset(h, 0, sizeof(*h));
		article_read(q.st, a, &h->article, true);
		h->article.body_text = col_str(a, q.st, AC_TEXT);
		h->score = sqlite3_column_double(q.st, AC_COMMENTS + 1);
	}
err:
	q_close(&q);
	e = tx_end(c, &t, e);
	if (e == STORE_OK) {
		*out = v;
		*n = cnt;
	}
	return e;
}
