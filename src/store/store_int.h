/*
 * Private to src/store/: what the store's files share, above and below the
 * backend seam. db.c owns the neutral plumbing (connections per thread,
 * statements by name, binding and stepping, transactions, open/migrate/
 * close, the enum name tables); stmts.c holds the portable statement
 * table; <area>.c hold the store.h functions of each area, on db_* only.
 * Below the seam a driver (struct db_driver: sqlite.c, pg.c) opens
 * connections, prepares its dialect of each statement, binds, steps and
 * reads columns. Every shared helper is db_-prefixed and documented at its
 * definition.
 */
#ifndef KIJI_STORE_INT_H
#define KIJI_STORE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* db_article_read's columns: ART_COLS order (stmts.c). */
enum art_col {
	AC_ID, AC_KIND, AC_TITLE, AC_SLUG, AC_BODY, AC_FORMAT, AC_HTML, AC_TEXT,
	AC_EXCERPT, AC_STATUS, AC_PUBLISHED, AC_UPDATED, AC_AUTHOR, AC_CATEGORY,
	AC_EYECATCH, AC_CREDIT, AC_OPEN, AC_GUID, AC_LEGACY, AC_PARENT,
	AC_MENU_ORDER, AC_AUTHOR_NAME,
	AC_CAT_SLUG, AC_CAT_NAME, AC_COMMENTS
};

/* Every statement; its SQL is the driver's own (db_driver.sql[STMT_x])
 * when it has one, else the portable db_stmts[STMT_x] (stmts.c). */
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
	STMT_MIGRATE_LOCK,       /* kiji processes migrating at once */
	STMT_MIGRATE_UNLOCK,
	STMT_MIGRATIONS_MAX,
	STMT_MIGRATION_HAS,
	STMT_MIGRATION_RECORD,
	STMT_SETTING_GET,
	STMT_SETTING_SET,
	STMT_SETTING_ADD,
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
	STMT_ARTICLE_BY_LEGACY,  /* importer (port/) */
	STMT_LEGACY_BY_ID,       /* old WordPress URLs (site/legacy.c) */
	STMT_LEGACY_BY_SLUG,
	STMT_PAGE_CHAIN,         /* pages (pages.c) */
	STMT_PAGE_CHILD,
	STMT_PAGE_CHILDREN,
	STMT_PAGES_ALL,
	STMT_PAGE_HEIGHT,
	STMT_PAGE_SLUG_OWNER,
	STMT_PAGE_STAMPS,
	STMT_PAGES_COUNT,
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
	STMT_ARTICLE_HEAD,
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
	STMT_TAG_RECENT,
	STMT_CATEGORY_RECENT,
	STMT_ARTICLES_BY_IDS,
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
	STMT_COMMENTS_SHOWN,
	STMT_COMMENT_PLACES,
	STMT_COMMENTS_BY_IDS,
	STMT_COMMENT_SET_STATUS,
	STMT_COMMENTS_BY_STATUS,
	STMT_CHANGES_SINCE,
	STMT_CHANGES_LAST,
	STMT_CHANGES_PRUNE,
	STMT_CHANGES_FIRST,
	STMT_CHANGES_COMMENTS,
	STMT_CHANGES_SPAN,  /* static export: oldest kept, newest ever */
	STMT_CHANGE_READER_SET,  /* a node's position in the log */
	STMT_CHANGE_READERS_PRUNE,
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
	STMT_COMMENT_BY_LEGACY,  /* importer (port/) */
	STMT_COMMENT_PING_FIND,  /* received pings (site/pings.c) */
	STMT_COMMENT_PING_UPDATE,
	STMT_COMMENT_PING_DELETE,
	STMT_COMMENT_SET_LIKES,  /* importer (port/) */
	/* export (port/wxr_export.c): pages by key */
	STMT_EXPORT_ARTICLE_IDS,
	STMT_EXPORT_AUTHOR_IDS,
	STMT_EXPORT_COMMENTS,
	STMT_EXPORT_TAGS,
	STMT_ARTICLE_STATUS_COUNTS,
	STMT_BAN_ADD,
	STMT_BAN_DELETE,
	STMT_BANS,
	STMT_BAN_RANGES,
	STMT_BAN_EXACT,
	STMT_CATEGORY_UPDATE,
	STMT_CATEGORY_REASSIGN,
	STMT_CATEGORY_REPARENT,
	STMT_CATEGORY_DELETE,
	STMT_CATEGORY_USAGE,
	STMT_CHANGE_ALL,
	STMT_CHANGE_ARTICLE,
	STMT_CHANGE_ARTICLE_TEXT,
	STMT_ARTICLE_TAG_IDS,
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
	STMT_JOB_ADD_KEY,
	/* outgoing pings (pings.c) */
	STMT_PING_ADD,
	STMT_PING_GET,
	STMT_PING_UPDATE,
	STMT_PINGS_LIST,
	STMT_PINGS_COUNT,
	STMT_FTS_UNINDEX,
	STMT_FTS_INDEX,
	STMT_SEARCH,
	STMT_SEARCH_TOP,
	STMT_SEARCH_IDS,
	STMT_SEARCH_HIDDEN,
	STMT_SEARCH_WALK,
	STMT_SEARCH_PROBE,
	STMT_SEARCH_ROW,
	STMT_ARTICLE_DELETE,
	/* backups, restores, privacy (sqlite_backup.c) */
	STMT_INTEGRITY_CHECK,
	STMT_SECURE_DELETE,
	STMT_JOURNAL_MEMORY,
	STMT_FORGET_ADDRESSES,
	STMT_COMMENTS_FORGET_IPS,
	/* kiji doctor (sqlite_doctor.c) */
	STMT_QUICK_CHECK,
	STMT_DOCTOR_SETTING,
	STMT_DOCTOR_RECENT_IPS,
	STMT_SERVER_VERSION,
	STMT_SCHEMA_PRESENT,
	STMT_WRITE_LOCK,
	/* operations: /readyz and /metrics (sqlite_backup.c) */
	STMT_PROBE_WRITE,
	STMT_JOBS_WAITING,
	STMT_JOBS_DUE,
	/* the site's recent comments (recent.c) */
	STMT_COMMENTS_RECENT,
	STMT_COMMENTS_RECENT_COUNT,
	/* reply notifications by e-mail (mail.c) */
	STMT_MAIL_ADDRESS_ADD,
	STMT_MAIL_ADDRESS_GET,
	STMT_MAIL_ADDRESS_RESTART,
	STMT_MAIL_SUBSCRIBE,
	STMT_MAIL_ASKED_COUNT,
	STMT_MAIL_ASKED_IP_COUNT,
	STMT_MAIL_LOG_ADD,
	STMT_MAIL_LOGGED,
	STMT_MAIL_SENT_COUNT,
	STMT_MAIL_CONFIRM,
	STMT_MAIL_UNSUBSCRIBE,
	STMT_MAIL_QUEUE_DROP,
	STMT_MAIL_REPLY_WATCHED,
	STMT_MAIL_QUEUE_REPLY,
	STMT_MAIL_BATCH_OPEN,
	STMT_MAIL_WAITING,
	STMT_MAIL_QUEUE_SENT,
	STMT_MAIL_NEXT_WAITING,
	STMT_MAIL_BATCH_CLOSE,
	STMT_MAIL_LOG_PRUNE,
	STMT_MAIL_IP_FORGET,
	STMT_MAIL_FORGET_QUEUE,     /* kiji backup --without-addresses */
	STMT_MAIL_FORGET_SUBS,
	STMT_MAIL_FORGET_LOG,
	STMT_MAIL_FORGET_ADDRESSES,
	/* kiji migrate (copy.c): every table read a page at a time in key
	 * order and written back whole, ids kept */
	STMT_COPY_COUNTS,
	STMT_COPY_READ_SETTINGS,
	STMT_COPY_WRITE_SETTINGS,
	STMT_COPY_READ_USERS,
	STMT_COPY_WRITE_USERS,
	STMT_COPY_READ_CATEGORIES,
	STMT_COPY_WRITE_CATEGORIES,
	STMT_COPY_READ_TAGS,
	STMT_COPY_WRITE_TAGS,
	STMT_COPY_READ_ARTICLES,
	STMT_COPY_WRITE_ARTICLES,
	STMT_COPY_READ_ARTICLE_TAGS,
	STMT_COPY_WRITE_ARTICLE_TAGS,
	STMT_COPY_READ_SOURCES,
	STMT_COPY_WRITE_SOURCES,
	STMT_COPY_READ_REVISIONS,
	STMT_COPY_WRITE_REVISIONS,
	STMT_COPY_READ_COMMENTS,
	STMT_COPY_WRITE_COMMENTS,
	STMT_COPY_READ_LIKES,
	STMT_COPY_WRITE_LIKES,
	STMT_COPY_READ_VIEWS_DAILY,
	STMT_COPY_WRITE_VIEWS_DAILY,
	STMT_COPY_READ_REDIRECTS,
	STMT_COPY_WRITE_REDIRECTS,
	STMT_COPY_READ_SESSIONS,
	STMT_COPY_WRITE_SESSIONS,
	STMT_COPY_READ_LOGIN_FAILURES,
	STMT_COPY_WRITE_LOGIN_FAILURES,
	STMT_COPY_READ_BANS,
	STMT_COPY_WRITE_BANS,
	STMT_COPY_READ_MEDIA,
	STMT_COPY_WRITE_MEDIA,
	STMT_COPY_READ_JOBS,
	STMT_COPY_WRITE_JOBS,
	STMT_COPY_READ_PINGS,
	STMT_COPY_WRITE_PINGS,
	STMT_COPY_READ_MAIL_ADDRESSES,
	STMT_COPY_WRITE_MAIL_ADDRESSES,
	STMT_COPY_READ_MAIL_SUBSCRIPTIONS,
	STMT_COPY_WRITE_MAIL_SUBSCRIPTIONS,
	STMT_COPY_READ_MAIL_QUEUE,
	STMT_COPY_WRITE_MAIL_QUEUE,
	STMT_COPY_READ_MAIL_LOG,
	STMT_COPY_WRITE_MAIL_LOG,
	STMT_COPY_READ_CHANGE_LOG,
	STMT_COPY_WRITE_CHANGE_LOG,
	STMT_COPY_CHANGES_CLEAR,
	STMT_COPY_FIX_CATEGORY_PARENT,
	STMT_COPY_FIX_ARTICLE_PARENT,
	STMT_COPY_FIX_COMMENT_PARENT,
	STMT_COPY_SEQUENCES,
	STMT_SEARCH_REBUILD,
	STMT__MAX
};

struct db_stmt {
	const char *name; /* for log lines */
	const char *sql;
};
extern const struct db_stmt db_stmts[STMT__MAX];

/* ---- the backend seam ----------------------------------------------------- */

/* What a driver's step answers besides its own error codes (> 0);
 * DB_MISUSE is the seam's own (a parameter the statement lacks), which
 * every err_map takes as STORE_ERROR; DB_BADTEXT too (text bound that is
 * not UTF-8), which db.c answers as STORE_INVALID before any driver sees
 * it: SQLite would keep such bytes, PostgreSQL refuses them, and the
 * store must behave the same on both. */
enum { DB_OK = 0, DB_ROW = -1, DB_DONE = -2, DB_MISUSE = 0x10000,
	DB_BADTEXT = 0x10001 };

struct conn;
struct pg_listen;

/*
 * A database backend. Its connection (h) belongs to one thread; its
 * prepared statements (st) to one connection. Codes are the driver's own:
 * 0 is success, DB_ROW/DB_DONE come from step, anything else is an error
 * that err_map turns into a store_err. Text and blobs bound stay the
 * caller's until reset; columns read stay valid until the next step.
 */
struct db_driver {
	const char *name;                   /* "sqlite", "postgresql" */
	bool remote;                        /* a server over the network */
	const char *const *sql;             /* its dialect by enum stmt; NULL
	                                     * entries take db_stmts' SQL */
	/* connections */
	void *(*open)(store *s, bool first, bool *readonly, buf *err);
	void (*close)(void *h);
	bool (*idle)(void *h);              /* no transaction, nothing running */
	bool (*autocommit)(void *h);        /* no transaction open */
	int64_t (*changes)(void *h);        /* rows the last write touched */
	int64_t (*last_id)(void *h);        /* id the last insert made */
	const char *(*errmsg)(void *h);
	enum store_err (*err_map)(void *h, int rc, int sys_errno);
	int (*script)(void *h, const char *sql, buf *err); /* migrations */
	void (*bulk)(void *h, int cache_mib); /* store_fts_defer's page
	                                       * cache (0: the usual) */
	int64_t (*data_version)(struct conn *c);
	void (*shutdown)(store *s);         /* store_close, before the
	                                     * connections go (NULL: none) */
	/* the schema: migrations 1..version of this dialect */
	int (*schema_version)(void);
	const char *(*migration)(int v);
	/* statements */
	int (*prepare)(void *h, enum stmt id, const char *sql, void **st);
	void (*finalize)(void *st);
	int (*param)(void *st, const char *name);  /* index; 0: no such */
	int (*bind_int)(void *st, int i, int64_t v);
	int (*bind_null)(void *st, int i);
	int (*bind_text)(void *st, int i, const char *v);
	int (*bind_blob)(void *st, int i, const void *p, size_t n);
	int (*step)(void *st);
	void (*reset)(void *st);
	int64_t (*col_int)(void *st, int i);
	double (*col_double)(void *st, int i);
	const char *(*col_text)(void *st, int i, size_t *n); /* NULL: NULL */
	const void *(*col_blob)(void *st, int i, size_t *n);
	/* full-text search, inside the caller's transaction: the index
	 * entries of articles ids[0..n) made from their current title,
	 * body_text and status (none for those neither published nor
	 * scheduled); an article's entry taken out (before a write changes
	 * what was indexed, or deletes it); one page of visible posts
	 * matching q in sort's order, as light rows (store_articles_list)
	 * but with body_text whole and score set (0 newest first), snippets
	 * left to fts.c, *total (when not NULL) the visible matches counted
	 * up to STORE_SEARCH_COUNT_MAX + 1 ("more"), with no page past
	 * STORE_SEARCH_COUNT_MAX; offset >= 0. */
	enum store_err (*fts_index)(struct conn *c, const int64_t *ids,
	    size_t n);
	/* the whole index made anew from the articles (after a copy) */
	enum store_err (*fts_rebuild)(struct conn *c);
	enum store_err (*fts_page)(struct conn *c, const struct text_query *q,
	    enum store_search_sort sort, int64_t now, int64_t offset,
	    int64_t limit, arena *a, struct store_hit **out, size_t *n,
	    int64_t *total);
};

extern const struct db_driver db_sqlite;
extern const struct db_driver db_pg;
/* PostgreSQL's search (pg_search.c): db_pg's fts_index, fts_rebuild and
 * fts_page (see struct db_driver). */
enum store_err db_pg_fts_index(struct conn *c, const int64_t *ids, size_t n);
enum store_err db_pg_fts_rebuild(struct conn *c);
enum store_err db_pg_fts_page(struct conn *c, const struct text_query *q,
    enum store_search_sort sort, int64_t now, int64_t offset, int64_t limit,
    arena *a, struct store_hit **out, size_t *n, int64_t *total);

/* PostgreSQL's dialect by enum stmt (pg_stmts.c); NULL: db_stmts' SQL. */
extern const char *const db_pg_sql[STMT__MAX];

/* ---- handles -------------------------------------------------------------- */

/* One thread's connection; owned by the store's list, found through TLS. */
struct conn {
	store *s;
	void *h;                       /* the driver's connection */
	bool in_tx;                    /* inside store_begin */
	enum store_err tx_err;         /* what ended it, when the database did */
	bool reopen;                   /* read-only: open anew when idle */
	int64_t reopen_at;             /* not before this (monotonic s) */
	bool fts_defer;                /* store_fts_defer is on */
	int64_t *fts_ids;              /* articles whose index entry waits */
	size_t fts_n, fts_cap;
	struct conn *prev, *next;
	void *st[STMT__MAX];           /* prepared on first use */
};

struct store {
	const struct db_driver *drv;
	char *path;                    /* a file (SQLite) or a URL */
	pthread_key_t key;             /* this thread's struct conn */
	bool key_ok;
	pthread_mutex_t mu;            /* guards conns and the job hook */
	struct conn *conns;
	int lock_fd;                   /* shared flock held while open */
	void (*job_hook)(void *ctx);   /* store_job_hook: a job was added */
	void *job_hook_ctx;
	struct pg_listen *listen;      /* PostgreSQL's change listener
	                                * (pg_listen.c), under mu */
	bool listen_failed;            /* its thread could not start */
};

/* One use of one statement: binds collect the first error so a caller
 * binds everything and checks once, at the step. */
struct q {
	struct conn *c;
	enum stmt id;
	void *st;
	int rc;
	int sys_errno; /* errno after the last step (see err_map) */
};

/* A transaction or, nested in one, a savepoint. */
struct tx {
	bool active;
	bool outer;
};

/* ---- enums as the TEXT values the schema checks (db.c) ------------ */

extern const char *const db_role_names[ROLE__MAX];
extern const char *const db_kind_names[KIND__MAX];
extern const char *const db_status_names[STATUS__MAX];
extern const char *const db_format_names[FORMAT__MAX];
extern const char *const db_ctype_names[CTYPE__MAX];
extern const char *const db_cstatus_names[CSTATUS__MAX];

const char *db_enum_name(const char *const *names, int max, int v);
int db_enum_col(const char *const *names, int max, struct q *st, int col);

/* ---- statements (db.c) ------------------------------------------------ */

/* The SQL statement id runs on driver d. */
const char *db_sql(const struct db_driver *d, enum stmt id);
enum store_err db_open(struct q *q, struct conn *c, enum stmt id);
void db_close(struct q *q);
bool db_has_param(struct q *q, const char *name);
void db_int(struct q *q, const char *name, int64_t v);
void db_id(struct q *q, const char *name, int64_t v);
void db_text(struct q *q, const char *name, const char *v);
void db_text_null(struct q *q, const char *name, const char *v);
const char *db_ids_json(arena *a, const int64_t *ids, size_t n);
void db_blob(struct q *q, const char *name, const void *p, size_t n);
bool db_row(struct q *q, enum store_err *e);
enum store_err db_exec(struct q *q);
int64_t db_col_int(struct q *q, int i);
double db_col_double(struct q *q, int i);
const char *db_col_text(struct q *q, int i, size_t *n);
const void *db_col_blob(struct q *q, int i, size_t *n);
const char *db_col_str(arena *a, struct q *q, int i);
const char *db_col_str_cut(arena *a, struct q *q, int i, size_t max);
int64_t db_changes(struct conn *c);
int64_t db_last_id(struct conn *c);
bool db_autocommit(struct conn *c);
void *db_grow(arena *a, void *p, size_t n, size_t *cap, size_t size);
/* Reads the current row of q into *row, a struct of the caller's type;
 * text goes to a. One reader per struct, shared by its queries. */
typedef void db_read_fn(struct q *q, arena *a, void *row);
void *db_rows(struct q *q, arena *a, size_t size, db_read_fn *read, size_t *n,
    enum store_err *e);
enum store_err db_one(struct q *q, arena *a, db_read_fn *read, void *row);
void db_id_row(struct q *st, arena *a, void *row);
void db_stamp_row(struct q *st, arena *a, void *row);
void db_tag_row(struct q *st, arena *a, void *row);
enum store_err db_one_int(store *s, enum stmt id, const char *param,
    int64_t arg, int64_t *out);
enum store_err db_exec_text(store *s, enum stmt id, const char *param,
    const char *v);
enum store_err db_exec_int(store *s, enum stmt id, const char *param,
    int64_t v);
enum store_err db_status_counts(struct q *q, const char *const *names,
    int max, int64_t *counts);

/* ---- connections and transactions (db.c) -------------------------------- */

struct conn *db_conn_get(store *s);
enum store_err db_conn_run(struct conn *c, enum stmt id);
enum store_err db_tx_begin(struct conn *c, bool write, struct tx *t);
enum store_err db_tx_end(struct conn *c, struct tx *t, enum store_err e);
/* Appends a formatted message to err when the caller gave one. */
void db_errf(buf *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- SQLite's files (sqlite.c) -------------------------------------------- */

/* The per-connection settings every kiji connection runs after WAL (which
 * lives in the file): sqlite.c's connections and kiji doctor's read-only
 * look at the same values. */
#define DB_CONN_PRAGMAS                                                      \
	"PRAGMA synchronous = FULL;"                                         \
	"PRAGMA foreign_keys = ON;"                                          \
	"PRAGMA cache_size = -4096;"                                         \
	"PRAGMA mmap_size = 0;"                                              \
	"PRAGMA temp_store = MEMORY;"                                        \
	"PRAGMA journal_size_limit = 67108864;"

/* Creates path mode 0600 unless it exists (an empty one is made 0600). */
bool db_file_create(const char *path, buf *err);
/* Opens path and takes flock(2) op (LOCK_SH or LOCK_EX) without waiting;
 * the descriptor (to close when done), or -1 with errno EWOULDBLOCK when
 * another process holds a conflicting lock, or another errno (in err). */
int db_file_lock(const char *path, int op, buf *err);
/* Prepares a SQLite store at path before its first connection: checks it
 * is writable, creates it 0600 and takes the shared lock (s->lock_fd). */
bool db_sqlite_prepare_file(store *s, buf *err);
/* The SQLite connection under h (sqlite_backup.c, sqlite_doctor.c). */
struct sqlite3;
struct sqlite3 *db_sqlite_handle(void *h);

/* ---- shared between the areas ---------------------------------------------- */

/* jobs.c: wakes this process's job runner (a job was added; call
 * after the transaction that added it). */
void db_job_added(store *s);
/* mail.c: queues a reply notification for comment id when it is
 * an approved reader comment whose parent has a confirmed, subscribed
 * address, and opens that address's batch job (inside the caller's
 * transaction); *queued says whether a job was added. */
enum store_err db_mail_reply(struct conn *c, int64_t id, int64_t now,
    bool *queued);

/* articles.c: one ART_COLS row (listings read them too). */
void db_article_read(struct q *st, arena *a, struct store_article *o,
    bool light);

#endif
