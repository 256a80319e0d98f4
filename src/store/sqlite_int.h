/*
 * Private to src/store/: what the SQLite driver's files share. sqlite.c
 * owns the plumbing (connections per thread, statements, binding and
 * stepping, transactions, open/migrate/close) and the enum name tables;
 * sqlite_stmts.c holds the one statement table; sqlite_<area>.c hold the
 * store.h functions of each area. Every shared helper is sq_-prefixed and
 * documented at its definition.
 */
#ifndef KIJI_STORE_SQLITE_INT_H
#define KIJI_STORE_SQLITE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store.h"

/* sq_article_read's columns: ART_COLS order (sqlite_stmts.c). */
enum art_col {
	AC_ID, AC_KIND, AC_TITLE, AC_SLUG, AC_BODY, AC_FORMAT, AC_HTML, AC_TEXT,
	AC_EXCERPT, AC_STATUS, AC_PUBLISHED, AC_UPDATED, AC_AUTHOR, AC_CATEGORY,
	AC_EYECATCH, AC_CREDIT, AC_OPEN, AC_GUID, AC_LEGACY, AC_PARENT,
	AC_MENU_ORDER, AC_AUTHOR_NAME,
	AC_CAT_SLUG, AC_CAT_NAME, AC_COMMENTS
};

/* Every statement; its SQL is sq_stmts[STMT_x] (sqlite_stmts.c). */
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
	STMT_ARTICLE_BY_LEGACY,  /* importer (port/) */
	STMT_LEGACY_BY_ID,       /* old WordPress URLs (site/legacy.c) */
	STMT_LEGACY_BY_SLUG,
	STMT_PAGE_CHAIN,         /* pages (sqlite_pages.c) */
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
	/* outgoing pings (sqlite_pings.c) */
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
	/* operations: /readyz and /metrics (sqlite_backup.c) */
	STMT_PROBE_WRITE,
	STMT_JOBS_WAITING,
	STMT_JOBS_DUE,
	/* the site's recent comments (sqlite_recent.c) */
	STMT_COMMENTS_RECENT,
	STMT_COMMENTS_RECENT_COUNT,
	/* reply notifications by e-mail (sqlite_mail.c) */
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
	STMT__MAX
};

struct sq_stmt {
	const char *name; /* for log lines */
	const char *sql;
};
extern const struct sq_stmt sq_stmts[STMT__MAX];

/* ---- handles -------------------------------------------------------------- */

/* One thread's connection; owned by the store's list, found through TLS. */
struct conn {
	store *s;
	sqlite3 *db;
	bool in_tx;                    /* inside store_begin */
	enum store_err tx_err;         /* what ended it, when SQLite did */
	bool reopen;                   /* read-only: open anew when idle */
	int64_t reopen_at;             /* not before this (monotonic s) */
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
	int lock_fd;                   /* shared flock held while open */
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
	int sys_errno; /* errno after the last step (see err_map) */
};

/* A transaction or, nested in one, a savepoint. */
struct tx {
	bool active;
	bool outer;
};

/* ---- enums as the TEXT values the schema checks (sqlite.c) ------------ */

extern const char *const sq_role_names[ROLE__MAX];
extern const char *const sq_kind_names[KIND__MAX];
extern const char *const sq_status_names[STATUS__MAX];
extern const char *const sq_format_names[FORMAT__MAX];
extern const char *const sq_ctype_names[CTYPE__MAX];
extern const char *const sq_cstatus_names[CSTATUS__MAX];

const char *sq_enum_name(const char *const *names, int max, int v);
int sq_enum_col(const char *const *names, int max, sqlite3_stmt *st, int col);

/* ---- statements (sqlite.c) ------------------------------------------------ */

enum store_err sq_open(struct q *q, struct conn *c, enum stmt id);
void sq_close(struct q *q);
void sq_int(struct q *q, const char *name, int64_t v);
void sq_id(struct q *q, const char *name, int64_t v);
void sq_text(struct q *q, const char *name, const char *v);
void sq_text_null(struct q *q, const char *name, const char *v);
void sq_blob(struct q *q, const char *name, const void *p, size_t n);
bool sq_row(struct q *q, enum store_err *e);
enum store_err sq_exec(struct q *q);
const char *sq_col_str(arena *a, sqlite3_stmt *st, int i);
const char *sq_col_str_cut(arena *a, sqlite3_stmt *st, int i, size_t max);
void *sq_grow(arena *a, void *p, size_t n, size_t *cap, size_t size);
/* Reads the current row of st into *row, a struct of the caller's type;
 * text goes to a. One reader per struct, shared by its queries. */
typedef void sq_read_fn(sqlite3_stmt *st, arena *a, void *row);
void *sq_rows(struct q *q, arena *a, size_t size, sq_read_fn *read, size_t *n,
    enum store_err *e);
enum store_err sq_one(struct q *q, arena *a, sq_read_fn *read, void *row);
void sq_id_row(sqlite3_stmt *st, arena *a, void *row);
void sq_stamp_row(sqlite3_stmt *st, arena *a, void *row);
void sq_tag_row(sqlite3_stmt *st, arena *a, void *row);
enum store_err sq_one_int(store *s, enum stmt id, const char *param,
    int64_t arg, int64_t *out);
enum store_err sq_exec_text(store *s, enum stmt id, const char *param,
    const char *v);
enum store_err sq_exec_int(store *s, enum stmt id, const char *param,
    int64_t v);
enum store_err sq_status_counts(struct q *q, const char *const *names,
    int max, int64_t *counts);

/* ---- connections and transactions (sqlite.c) -------------------------------- */

struct conn *sq_conn_get(store *s);
enum store_err sq_conn_run(struct conn *c, enum stmt id);
enum store_err sq_tx_begin(struct conn *c, bool write, struct tx *t);
enum store_err sq_tx_end(struct conn *c, struct tx *t, enum store_err e);

/* The per-connection settings every kiji connection runs after WAL (which
 * lives in the file): sqlite.c's connections and kiji doctor's read-only
 * look at the same values. */
#define SQ_CONN_PRAGMAS                                                      \
	"PRAGMA synchronous = FULL;"                                         \
	"PRAGMA foreign_keys = ON;"                                          \
	"PRAGMA cache_size = -4096;"                                         \
	"PRAGMA mmap_size = 0;"                                              \
	"PRAGMA temp_store = MEMORY;"                                        \
	"PRAGMA journal_size_limit = 67108864;"

/* ---- files (sqlite.c) ----------------------------------------------------------- */

/* Creates path mode 0600 unless it exists (an empty one is made 0600). */
bool sq_file_create(const char *path, buf *err);
/* Opens path and takes flock(2) op (LOCK_SH or LOCK_EX) without waiting;
 * the descriptor (to close when done), or -1 with errno EWOULDBLOCK when
 * another process holds a conflicting lock, or another errno (in err). */
int sq_file_lock(const char *path, int op, buf *err);

/* ---- shared between the areas ---------------------------------------------- */

/* sqlite_jobs.c: wakes this process's job runner (a job was added; call
 * after the transaction that added it). */
void sq_job_added(store *s);
/* sqlite_mail.c: queues a reply notification for comment id when it is
 * an approved reader comment whose parent has a confirmed, subscribed
 * address, and opens that address's batch job (inside the caller's
 * transaction); *queued says whether a job was added. */
enum store_err sq_mail_reply(struct conn *c, int64_t id, int64_t now,
    bool *queued);

/* sqlite_articles.c: one ART_COLS row (listings read them too). */
void sq_article_read(sqlite3_stmt *st, arena *a, struct store_article *o,
    bool light);

#endif
