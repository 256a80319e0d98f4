/*
 * store: the one storage interface. All SQL lives below this header
 * (sqlite*.c today, pg.c later); no database types leak out. Times are UTC
 * epoch seconds. Strings returned in structs are allocated in the caller's
 * arena and NUL-terminated.
 *
 * Threads: a store handle may be used from any number of threads; each
 * thread gets its own database connection and prepared statements on first
 * use (thread-local), so calls never share a connection.
 */
#ifndef KIJI_STORE_H
#define KIJI_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../text/text.h"

enum store_err {
	STORE_OK = 0,
	STORE_NOTFOUND, /* no such row (or not visible) */
	STORE_CONFLICT, /* unique constraint: slug, like already there */
	STORE_INVALID,  /* a value the schema refuses (bad enum, bad parent) */
	STORE_BUSY,     /* database locked past the busy timeout */
	STORE_ERROR,    /* anything else; details logged */
	STORE_FULL,     /* no space left (disk full, quota, file size limit):
	                 * later writes may succeed once space is freed */
	STORE_READONLY, /* the database cannot be written (permissions, a
	                 * read-only file system); the connection is reopened
	                 * before the next call, so fixing it needs no restart */
	STORE__MAX
};

typedef struct store store;

/* Opens (creating, mode 0600) and migrates the database. NULL on failure,
 * with a message in err; a file or directory this user cannot write is
 * refused with a message saying how to fix it (SQLite would quietly open
 * it read-only). Holds a shared flock(2) on the file until store_close,
 * which kiji restore's exclusive one waits for (see store_restore). */
store *store_open(const char *path, buf *err);
/* The check store_open makes first: false, with the chown and chmod that
 * would fix it in err, when this process's user cannot write the database,
 * its existing -wal or -shm file or their directory (kiji serve --user
 * calls it as the target user, to refuse to start with exit 2). */
bool store_writable(const char *path, buf *err);
/* NULL-safe; closes every thread's connection, so call it once the other
 * threads are done with the store (joined, or at least idle). */
void store_close(store *s);
const char *store_strerror(enum store_err e);

/* Wraps many writes in one transaction (demo, import). Per thread. */
enum store_err store_begin(store *s);
enum store_err store_commit(store *s);
/* Ends what store_begin started; a no-op (OK) when SQLite already ended it
 * (a failed commit or a disk-full error rolls back on its own), so callers
 * may always roll back after a failure. */
enum store_err store_rollback(store *s);

/* A number that changes whenever another connection (process, node)
 * commits: SQLite's PRAGMA data_version; on PostgreSQL a counter its
 * listener thread bumps at each NOTIFY of a change-log row and after each
 * reconnection (and every 100 ms while it cannot listen), no round trip.
 * Lets the server notice CLI and other nodes' writes. Per thread:
 * compare only values read on the same thread. -1 on error. */
int64_t store_data_version(store *s);
/* Whether the database is reached over the network (PostgreSQL): each
 * statement is a round trip that blocks its thread, so the server runs
 * more threads than cores (site_http_config). */
bool store_remote(store *s);
/* The journal mode and synchronous level actually in force ("wal", 2). */
enum store_err store_durability(store *s, buf *journal_mode, int *synchronous);

/* ---- backups (sqlite_backup.c) -------------------------------------------- */

struct store_backup_opts {
	bool force;              /* replace an existing out */
	bool without_addresses;  /* blank commenters' e-mail and IP addresses
	                          * in the copy (comments.email, comments.ip)
	                          * and drop reply-mail subscribers */
};
/*
 * Copies the database at path to out while others keep using it: one
 * read snapshot (WAL: writers go on), copied a chunk of pages at a time
 * with SQLite's backup API into a temporary file beside out (mode 0600),
 * checked (integrity_check) and then linked to out, or renamed over it
 * with force. The copy is a single file (rollback journal mode). Images
 * live in the database and come along. STORE_CONFLICT when out exists and
 * !force; other failures say why in err.
 */
enum store_err store_backup(const char *path, const char *out,
    const struct store_backup_opts *o, buf *err);
/*
 * Replaces the database at path (created 0600 when missing) with the
 * backup's content. The backup must pass integrity_check and be no newer
 * than this kiji (STORE_INVALID, why in err); STORE_BUSY when a kiji
 * process has path open (its shared flock: a running server), so nothing
 * is written under it. The caller opens the result with store_open,
 * which migrates an older backup.
 */
enum store_err store_restore(const char *path, const char *backup, buf *err);

/* ---- kiji migrate: one store copied into another (copy.c) ------------------- */

/* Whether url names a PostgreSQL database (postgresql:// or postgres://)
 * rather than a SQLite file. */
bool store_url_is_pg(const char *url);
/* The SQLite file url names ("sqlite:" dropped; a pointer into url), or
 * NULL for a PostgreSQL URL: what has a directory, -wal and -shm files,
 * a lock and a mail key beside it. */
const char *store_file(const char *url);
/* url for messages into out (size bytes, cut short if need be; returned):
 * a PostgreSQL URL's password (user:PASSWORD@ in the authority,
 * password=... in the query) blanked as ***; a file path as it is. */
const char *store_url_safe(const char *url, char *out, size_t size);

/* Where a copy is: rows done of the table being copied (or, checking,
 * read back from the copy) and of all tables. */
struct store_copy_progress {
	const char *table;
	int64_t table_done, table_total;
	int64_t done, total;
	bool checking;          /* reading the copy back for its checksums */
};
/* Told after every page of rows (a thousand at most). */
typedef void store_copy_progress_fn(void *ctx,
    const struct store_copy_progress *p);
/*
 * Copies every row of every table of from into to (any drivers: SQLite,
 * PostgreSQL), ids, the change log's sequence numbers and blobs kept,
 * from one read snapshot of from, a thousand rows per write transaction.
 * to must be empty (a freshly opened, migrated database): STORE_CONFLICT
 * otherwise, the tables that hold rows named in err. Then to's sequences
 * continue past the copied ids and its search index is rebuilt
 * (store_search_reindex), and every table of to is read back: report gets
 * a line per table with both row counts, a checksum of its content
 * (BLAKE2b over each row's columns, computed here, not by a database)
 * and ok or MISMATCH. STORE_ERROR when any table differs (named in err);
 * other failures say what in err. cb (when not NULL) is told the progress.
 */
enum store_err store_copy(store *from, store *to, store_copy_progress_fn *cb,
    void *ctx, buf *report, buf *err);
/* Compares two stores table by table the same way (counts, checksums,
 * report), copying nothing: STORE_ERROR when any table differs. */
enum store_err store_copy_verify(store *a, store *b,
    store_copy_progress_fn *cb, void *ctx, buf *report, buf *err);
/* Builds the search index anew from the articles (the driver's
 * fts_rebuild: SQLite's FTS5 rebuild, PostgreSQL's search_docs rows). */
enum store_err store_search_reindex(store *s);

/* ---- kiji doctor (sqlite_doctor.c) ------------------------------------------ */

/* A database opened read-only for inspection: never created, never
 * migrated, nothing written (kiji doctor may run beside a live server). */
typedef struct store_ro store_ro;
/* NULL with the reason in err (missing, unreadable, not a database). */
store_ro *store_ro_open(const char *path, buf *err);
void store_ro_close(store_ro *r); /* NULL-safe */
/* SQLite's quick_check: STORE_OK when it says "ok", STORE_INVALID with
 * its first problems ("; "-joined) in problems, or the error. */
enum store_err store_ro_check(store_ro *r, buf *problems);
/* The journal mode in the file ("wal" once kiji has opened it, else
 * "rollback journal") and the synchronous level a kiji connection runs
 * with (2 = FULL). */
enum store_err store_ro_durability(store_ro *r, buf *journal_mode,
    int *synchronous);
/* A setting's stored value; STORE_NOTFOUND when it was never set. */
enum store_err store_ro_setting(store_ro *r, const char *key, buf *value);
/* Of the newest limit comments with an address, how many there are (*n)
 * and how many came from this machine (127.0.0.0/8, ::1). */
enum store_err store_ro_recent_ips(store_ro *r, int limit, int64_t *n,
    int64_t *loopback);
/* What kiji doctor says of any backend's database. */
struct store_facts {
	char backend[16];   /* the driver: "sqlite", "postgresql" */
	char server[128];   /* "SQLite 3.40.1", "PostgreSQL 15.8 (...)" */
	int64_t schema;     /* the schema version the database records */
	int64_t latest;     /* the newest this kiji knows */
};
/* Opens the database at url (a SQLite file or a postgresql:// URL) for a
 * look: nothing is created, no migration runs, and the caller only reads
 * (store_setting_get, store_durability, store_recent_ips). NULL with why
 * in err when it cannot be opened or holds no kiji site. */
store *store_open_inspect(const char *url, struct store_facts *f, buf *err);
/* store_ro_recent_ips on an open store. */
enum store_err store_recent_ips(store *s, int limit, int64_t *n,
    int64_t *loopback);
/* Writes the database without changing anything it holds (the file's
 * application id, to the WAL and synced): STORE_OK when it can be
 * written now, STORE_FULL, STORE_READONLY or STORE_ERROR when not. */
enum store_err store_probe_write(store *s);
/* Jobs not done: *waiting in all (scheduled later too), *due now. */
enum store_err store_jobs_pending(store *s, int64_t now, int64_t *waiting,
    int64_t *due);

/* Blanks the IP address of every comment created before `before`; *n
 * (when not NULL) is how many were blanked. */
enum store_err store_comments_forget_ips(store *s, int64_t before,
    int64_t *n);

/* ---- settings ------------------------------------------------------------ */

/* Settings are (key, value) text pairs; defaults live in site/, not here. */
enum store_err store_setting_get(store *s, const char *key, buf *out);
enum store_err store_setting_set(store *s, const char *key, const char *value);
/* Sets key only when it has no value yet (*added then): of processes
 * making one at once, the first wins and the others read it. */
enum store_err store_setting_add(store *s, const char *key, const char *value,
    bool *added);
/* Calls fn for every stored setting, ordered by key. */
enum store_err store_settings_each(store *s,
    void (*fn)(void *ctx, const char *key, const char *value), void *ctx);

/* ---- users, categories, tags ---------------------------------------------- */

enum store_role { ROLE_ADMIN, ROLE_EDITOR, ROLE_AUTHOR, ROLE__MAX };

struct store_user {
	int64_t id;
	const char *name;         /* login name, unique */
	const char *display_name;
	enum store_role role;
	const char *pass_hash;    /* Argon2id string or "" */
	const char *email;        /* "" when none */
	bool disabled;            /* may not log in */
	int64_t cred_epoch;       /* bumped by a new password or disabling:
	                           * sessions of an older epoch are dead */
	int64_t created_at;       /* filled by reads */
};
/* Writes name, display_name, role, pass_hash, email, disabled (the raw
 * store: admin/account.c validates and hashes first). */
enum store_err store_user_add(store *s, const struct store_user *u, int64_t *id);
enum store_err store_user_get(store *s, int64_t id, arena *a, struct store_user *out);

/* ---- accounts (admin/account.c is the caller that validates) ---- */

enum store_err store_user_by_name(store *s, const char *name, arena *a,
    struct store_user *out);
/* Every user ordered by name; *out arena-allocated. */
enum store_err store_user_list(store *s, arena *a, struct store_user **out,
    size_t *n);
/* Each answers NOTFOUND when no user has the id. Setting a password
 * bumps cred_epoch ("log out everywhere"); so does disabling. */
enum store_err store_user_set_password(store *s, int64_t id,
    const char *pass_hash);
enum store_err store_user_set_role(store *s, int64_t id, enum store_role role);
enum store_err store_user_set_disabled(store *s, int64_t id, bool disabled);
enum store_err store_user_set_email(store *s, int64_t id, const char *email);
enum store_err store_user_set_display_name(store *s, int64_t id,
    const char *display_name);

struct store_category {
	int64_t id;
	int64_t parent_id; /* 0 for none */
	const char *slug;
	const char *name;
	const char *description;
};
enum store_err store_category_add(store *s, const struct store_category *c, int64_t *id);
enum store_err store_category_by_slug(store *s, const char *slug, arena *a,
    struct store_category *out);
enum store_err store_category_get(store *s, int64_t id, arena *a,
    struct store_category *out);
/* All categories ordered by name; *out arena-allocated. */
enum store_err store_categories(store *s, arena *a, struct store_category **out,
    size_t *n);

struct store_tag {
	int64_t id;
	const char *slug;
	const char *name;
};
enum store_err store_tag_add(store *s, const struct store_tag *t, int64_t *id);
enum store_err store_tag_by_slug(store *s, const char *slug, arena *a,
    struct store_tag *out);

/* ---- articles -------------------------------------------------------------- */

enum store_kind { KIND_POST, KIND_PAGE, KIND__MAX };
enum store_status {
	STATUS_DRAFT,
	STATUS_SCHEDULED,
	STATUS_PUBLISHED,
	STATUS_TRASH,
	STATUS__MAX
};
enum store_format { FORMAT_MARKDOWN, FORMAT_HTML, FORMAT__MAX };

struct store_source { /* one 参考 line */
	const char *title;
	const char *url;
};

/*
 * An article as stored, plus the joined names a page needs. body_html and
 * body_text are the rendered HTML and plain text, kept beside the source so
 * pages and search never render Markdown on the read path; content_save
 * (src/content/, the one save path) fills them on every save.
 */
struct store_article {
	int64_t id;
	enum store_kind kind;
	const char *title;
	const char *slug;
	const char *body;       /* source, in body_format */
	enum store_format body_format;
	const char *body_html;  /* rendered, trusted HTML */
	const char *body_text;  /* rendered plain text */
	const char *excerpt;    /* explicit excerpt or "" */
	enum store_status status;
	int64_t published_at;
	int64_t updated_at;
	int64_t author_id;
	int64_t category_id;    /* 0 for none */
	const char *eyecatch;   /* image URL or "" */
	const char *eyecatch_credit;
	bool comments_open;
	const char *guid;
	const char *legacy_id;  /* e.g. WordPress post ID, or "" */
	int64_t parent_id;      /* pages: the parent page, 0 for none */
	int64_t menu_order;     /* pages: place among siblings (ascending) */
	/* filled by reads only: */
	const char *author_name;    /* display name */
	const char *category_slug;  /* "" when none */
	const char *category_name;
	int64_t comment_count;      /* approved comments and pings */
	int64_t views;              /* store_popular: views in the window */
	struct store_source *sources;
	size_t nsources;
	struct store_tag *tags;
	size_t ntags;
};

/* Adds an article; sources and tags are written too (tags by id). Sets
 * a->id. An empty guid gets a fresh "urn:uuid:..." one. Only content/
 * calls this (and store_article_update): it renders, validates and
 * writes the revision (store_revision_add). */
enum store_err store_article_add(store *s, struct store_article *a);
/* Replaces an article's fields, sources and tags. An empty guid keeps the
 * stored one; comment_count is the store's. */
enum store_err store_article_update(store *s, const struct store_article *a);
/* One visible article (published, published_at <= now) with sources, tags,
 * author and category names. NOTFOUND when missing or not visible. */
enum store_err store_article_get(store *s, int64_t id, int64_t now, arena *a,
    struct store_article *out);
/* As store_article_get but ignoring visibility (admin, CLI). */
enum store_err store_article_get_any(store *s, int64_t id, arena *a,
    struct store_article *out);
/* As store_article_get without the texts (body, body_html and body_text
 * are ""), sources or tags: one row, for what only checks an article
 * (a comment or like post: is it there, open, its title). */
enum store_err store_article_head(store *s, int64_t id, int64_t now, arena *a,
    struct store_article *out);

/* Which visible articles a listing wants. Zero fields do not filter. */
struct store_filter {
	int64_t category_id;
	int64_t tag_id;
	int64_t from, until; /* published_at in [from, until) when until > 0 */
};
/*
 * One page of visible posts, newest first (published_at DESC, id DESC),
 * without sources/tags/body (body_html/body_text/body are ""; excerpt comes
 * from the stored excerpt or, when empty, the first plain-text characters
 * are left to the caller: body_text is filled, cut to its first 600 bytes
 * on a character boundary). *total is the number of matching articles.
 */
enum store_err store_articles_list(store *s, const struct store_filter *f,
    int64_t now, int64_t offset, int64_t limit, arena *a,
    struct store_article **out, size_t *n, int64_t *total);

/* Previous (older) and next (newer) visible posts in publish order;
 * *prev / *next are NULL when there is none. Title, id, slug filled. */
enum store_err store_article_adjacent(store *s, const struct store_article *art,
    int64_t now, arena *a, struct store_article **prev,
    struct store_article **next);

/* Up to limit visible posts of the same category, never the article
 * itself, ordered by number of shared tags, then published_at DESC; tags
 * are counted among each tag's newest STORE_RELATED_DEPTH articles only
 * (a news site's related reading is recent anyway). Filled as by
 * store_articles_list. The tags are art->tags (by id).
 *
 * The same in steps, for a caller that keeps some (site/related.c):
 * store_tag_recent reads one tag's window and store_related_rank ranks
 * the windows of art's tags; store_category_recent gives the category's
 * newest; store_related_merge takes the best ids of both, and
 * store_articles_by_ids reads them. */
#define STORE_RELATED_DEPTH 50
enum store_err store_related(store *s, const struct store_article *art,
    int64_t now, size_t limit, arena *a, struct store_article **out, size_t *n);

/* An article in a tag's window: what ranking it needs. */
struct store_tagged {
	int64_t id;
	int64_t category_id;    /* 0 for none */
	int64_t published_at;
	bool listed;            /* a published post (visible from published_at) */
};
/* The tag's newest limit articles by id, in any state, newest first. */
enum store_err store_tag_recent(store *s, int64_t tag_id, size_t limit,
    arena *a, struct store_tagged **out, size_t *n);

struct store_related_cand {
	int64_t id;
	int64_t shared;         /* tags in common (0: the category's newest) */
	int64_t published_at;
};
/* Ranks the articles of the windows (wins[i], nwin[i] entries, one per
 * tag of art): visible at now, in art's category, not art; the best limit
 * by (shared DESC, published_at DESC, id DESC) into *out. Returns how
 * many. */
size_t store_related_rank(const struct store_article *art,
    const struct store_tagged *const *wins, const size_t *nwin, size_t nwins,
    int64_t now, size_t limit, arena *a, struct store_related_cand **out);
/* The newest limit visible posts of art's category but art (shared 0). */
enum store_err store_category_recent(store *s, const struct store_article *art,
    int64_t now, size_t limit, arena *a, struct store_related_cand **out,
    size_t *n);
/* The best limit ids of both lists by the order above (an article in
 * both counts its tags), into *ids; returns how many. */
size_t store_related_merge(const struct store_related_cand *by_tags,
    size_t ntags, const struct store_related_cand *by_date, size_t ndate,
    size_t limit, arena *a, int64_t **ids);
/* The visible posts among ids, in their order, filled as by
 * store_articles_list. */
enum store_err store_articles_by_ids(store *s, const int64_t *ids, size_t nids,
    int64_t now, arena *a, struct store_article **out, size_t *n);

/* Up to limit visible posts with the most views in [since, now), views
 * DESC then published_at DESC. Filled as by store_articles_list. Views are
 * counted per UTC day (see store_views_add): a day counts when any part of
 * it lies in [since, now), so today's views count as they come in. */
enum store_err store_popular(store *s, int64_t since, int64_t now, size_t limit,
    arena *a, struct store_article **out, size_t *n);

/* Adds n views to an article's count for the UTC day containing t.
 * Days are UTC day numbers, floor(t / 86400). */
enum store_err store_views_add(store *s, int64_t article_id, int64_t t, int64_t n);

/* Number of visible posts (for the sitemap, demo progress). */
enum store_err store_articles_count(store *s, int64_t now, int64_t *n);

/* *yes when id is a visible post (one primary-key read; view beacons). */
enum store_err store_article_visible(store *s, int64_t id, int64_t now,
    bool *yes);

/* Up to limit visible posts, newest first, of one category (0: all), with
 * body_html and body_text filled (sources and tags are not): feeds. */
enum store_err store_articles_feed(store *s, int64_t category_id, int64_t now,
    int64_t limit, arena *a, struct store_article **out, size_t *n);

/* ---- crawler reads (sitemap) ---------------------------------------------- */

/* Something and when it last changed: t = max(updated_at, published_at). */
struct store_stamp {
	int64_t id;
	int64_t t;
};
/* Visible posts in listing order (newest first) from offset, at most limit. */
enum store_err store_article_stamps(store *s, int64_t now, int64_t offset,
    int64_t limit, arena *a, struct store_stamp **out, size_t *n);
/* Every category holding visible posts, by id, with its latest change. */
enum store_err store_category_stamps(store *s, int64_t now, arena *a,
    struct store_stamp **out, size_t *n);
/* The visible posts in listing order, numbered from skip, cut into chunks
 * of per: (*out)[k].id = k, .t = the latest change within chunk k, for
 * every chunk holding at least one post (ascending k). Sitemap indexes. */
enum store_err store_article_chunks(store *s, int64_t now, int64_t skip,
    int64_t per, arena *a, struct store_stamp **out, size_t *n);

/* ---- the save path's own reads and writes (content/) ---------------------- */

/*
 * One saved version of an article. meta is a JSON object with the fields
 * an editor can change besides title and body (content.c writes it):
 * slug, kind, status, date (published_at), category (id), tags (names),
 * sources ([{title, url}]), eyecatch, credit, excerpt, comments (open).
 */
struct store_revision {
	int64_t id;
	int64_t article_id;
	const char *title;
	const char *body;         /* "" in store_revisions (a list) */
	enum store_format body_format;
	int64_t created_at;
	int64_t author_id;        /* who saved it; 0 when unknown */
	const char *meta;         /* JSON object */
	const char *author_name;  /* reads: display name, "" when none */
};
/* Adds a revision; sets r->id. Revision ids grow with every save. */
enum store_err store_revision_add(store *s, struct store_revision *r);
/* The newest revision of an article; *id 0 when it has none. */
enum store_err store_revision_latest(store *s, int64_t article_id, int64_t *id);
/* One page of an article's revisions, newest first, bodies left out;
 * *total (when not NULL) counts them all. */
enum store_err store_revisions(store *s, int64_t article_id, int64_t offset,
    int64_t limit, arena *a, struct store_revision **out, size_t *n,
    int64_t *total);
/* One revision with its body. NOTFOUND when there is none. */
enum store_err store_revision_get(store *s, int64_t id, arena *a,
    struct store_revision *out);

/* The lowest id of an article of kind with this slug other than except
 * (any status); *id 0 when the slug is free. */
enum store_err store_article_slug_owner(store *s, enum store_kind kind,
    const char *slug, int64_t except, int64_t *id);
/* The article of kind with this slug (the lowest id), any status, read as
 * store_article_get_any. NOTFOUND when none. */
enum store_err store_article_by_slug(store *s, enum store_kind kind,
    const char *slug, arena *a, struct store_article *out);
/* The article of kind imported from legacy_id (a WordPress post id): the
 * lowest id, any status; *id 0 when none (the importer's idempotence). */
enum store_err store_article_by_legacy(store *s, enum store_kind kind,
    const char *legacy_id, int64_t *id);
/* An article's status and publish time without reading the row's texts.
 * NOTFOUND when there is no such article. */
enum store_err store_article_state(store *s, int64_t id,
    enum store_status *status, int64_t *published_at);
/* One page of articles of any status (status STATUS__MAX: all but the
 * trash; kind KIND__MAX: both kinds), newest id first, read as
 * store_articles_list reads; *total (when not NULL) counts them all. */
enum store_err store_articles_any(store *s, enum store_status status,
    enum store_kind kind, int64_t offset, int64_t limit, arena *a,
    struct store_article **out, size_t *n, int64_t *total);
/* What the editor area's article list asks for. */
struct store_article_query {
	enum store_status status; /* STATUS__MAX: all but the trash */
	enum store_kind kind;     /* KIND__MAX: posts and pages */
	int64_t category_id;      /* 0: any */
	int64_t author_id;        /* 0: anyone */
	const char *text;         /* "" or NULL: any; else a substring of the
	                           * title or slug (ASCII case folded) */
};
/* One page of articles matching f, newest id first, read as
 * store_articles_list reads; *total (when not NULL) counts them all. */
enum store_err store_articles_admin(store *s,
    const struct store_article_query *f, int64_t offset, int64_t limit,
    arena *a, struct store_article **out, size_t *n, int64_t *total);
/* The tag named exactly name (the lowest id). NOTFOUND when none. */
enum store_err store_tag_by_name(store *s, const char *name, arena *a,
    struct store_tag *out);

/* scheduled → published when published_at <= now; *changed says whether
 * it did (false when already published, not scheduled or not yet due).
 * NOTFOUND when there is no such article. */
enum store_err store_article_publish_due(store *s, int64_t id, int64_t now,
    bool *changed);
/* Moves an article to the trash, remembering its status (trashed_from)
 * and when; a no-op when it is there already. NOTFOUND without it. */
enum store_err store_article_trash(store *s, int64_t id, int64_t now);
/* Takes an article out of the trash with the status it had (draft when
 * unknown) into *status, and its published_at; NOTFOUND when there is no
 * such article, STORE_INVALID when it is not in the trash. */
enum store_err store_article_restore(store *s, int64_t id,
    enum store_status *status, int64_t *published_at);

/*
 * Makes what follows atomic until store_atomic_end: a transaction (BEGIN
 * IMMEDIATE) or, inside one (store_begin's), a savepoint, so a failed unit
 * undoes only itself. end commits (or releases) when e is STORE_OK and
 * rolls back otherwise; returns e or the commit's error. Per thread.
 */
struct store_atomic {
	bool active, outer;
};
enum store_err store_atomic_begin(store *s, struct store_atomic *t);
enum store_err store_atomic_end(store *s, struct store_atomic *t,
    enum store_err e);

/*
 * Batch writes (the demo, imports): while on, this thread's article
 * writes leave their search-index entries to be written together by the
 * next store_commit (in one statement, a quarter of the cost of one per
 * article) or by turning it off; store_rollback forgets them. Edits of
 * articles written before it was turned on index at once, as always.
 * Meanwhile this thread's connection keeps a page cache of cache_mib
 * MiB (0: the usual 4; SQLite only): a batch builds B-trees far bigger
 * than that (at 4 MB a 100,000-article demo spent a fifth of its time
 * paging through the kernel), and it is memory the process holds until
 * the batch ends.
 */
enum store_err store_fts_defer(store *s, bool on, int cache_mib);

/* ---- full-text search (fts.c) --------------------------------------------- */

/* A byte range [off, off + len) of a string, to highlight. */
struct store_span {
	size_t off, len;
};

/* One search result. */
struct store_hit {
	struct store_article article; /* as store_articles_list, but body_text
	                               * is whole */
	double score;                 /* bm25 x recency boost; lower first */
	const char *snippet;          /* plain text around the first match in
	                               * the body, "…" where cut ("" if none) */
	struct store_span *marks;     /* matches within snippet: ascending,
	                               * disjoint, on character boundaries */
	size_t nmarks;
	struct store_span *title_marks; /* matches within article.title */
	size_t ntitle_marks;
};

/* The order of search hits: newest first (published_at, then id, both
 * descending: the listings' order), or best first (bm25 over
 * NFKC-casefolded title and body, title weighted higher, with a boost for
 * recent posts). */
enum store_search_sort { SEARCH_NEWEST, SEARCH_RELEVANCE, SEARCH__MAX };

/* Newest first counts matches up to this many; a broader query's *total
 * is one more ("more than"), and its pages end there. Best first counts
 * every match. */
#define STORE_SEARCH_COUNT_MAX 1000

/*
 * Visible posts matching what a reader typed, in the order sort names,
 * one page of them. The query is parsed by
 * text_query_parse and never passed through as syntax: CJK runs match as
 * substrings (1 character as its unigram, longer ones as bigram chains),
 * words as whole words or prefixes, all phrases ANDed. A query with no
 * searchable phrase gives no hits (*total 0). STORE_INVALID on invalid
 * UTF-8. *total (when not NULL) counts every visible match (newest
 * first: up to STORE_SEARCH_COUNT_MAX, see there).
 */
enum store_err store_search_sorted(store *s, const char *query,
    enum store_search_sort sort, int64_t now, int64_t offset, int64_t limit,
    arena *a, struct store_hit **out, size_t *n, int64_t *total);

/* store_search_sorted, newest first. */
enum store_err store_search(store *s, const char *query, int64_t now,
    int64_t offset, int64_t limit, arena *a, struct store_hit **out,
    size_t *n, int64_t *total);

/* Deletes an article with everything hanging off it (comments, likes,
 * sources, tags, revisions, views) and its search index entry.
 * NOTFOUND when there is no such article. */
enum store_err store_article_delete(store *s, int64_t id);

/* ---- comments ------------------------------------------------------------------ */

enum store_ctype { CTYPE_COMMENT, CTYPE_TRACKBACK, CTYPE_PINGBACK, CTYPE__MAX };
enum store_cstatus {
	CSTATUS_PENDING,
	CSTATUS_APPROVED,
	CSTATUS_SPAM,
	CSTATUS_TRASH,
	CSTATUS__MAX
};

struct store_comment {
	int64_t id;
	int64_t article_id;
	int64_t parent_id;  /* 0 for top level; always the true parent */
	enum store_ctype type;
	const char *nickname;
	const char *email;
	const char *url;    /* pings: source URL */
	const char *ip;
	const char *visitor_id;
	const char *body;   /* plain text as typed (NFC) */
	int64_t created_at;
	enum store_cstatus status;
	int64_t like_count;
	const char *legacy_id;
	const char *pending_reason; /* why pending: "first", "ngword", "all",
	                             * "ban" or "" */
	/* filled by some reads only: */
	bool placeholder;           /* store_comments_for_article: a spam or
	                             * trashed comment kept only because visible
	                             * replies hang under it; body, nickname,
	                             * email, url, ip, visitor are "" and
	                             * like_count 0 */
	const char *article_title;  /* store_comments_queue */
};

/* Adds a comment; the parent (if any) must belong to the same article,
 * else STORE_INVALID. Sets c->id. Committed durably before it returns
 * (unless inside store_begin). */
enum store_err store_comment_add(store *s, struct store_comment *c);
/* n comments of one article (else STORE_INVALID) in one unit, with the
 * rules of store_comment_add for each and the article's count moved once:
 * a generated or imported thread. cs[i]'s parent is cs[parent_ix[i]]
 * when parent_ix is given and parent_ix[i] >= 0 (it must be < i), else
 * cs[i].parent_id. Sets every id; on error none is kept (ids 0). */
enum store_err store_comments_add(store *s, struct store_comment *cs,
    const int64_t *parent_ix, size_t n);
enum store_err store_comment_get(store *s, int64_t id, arena *a,
    struct store_comment *out);
/*
 * Every comment of an article that is approved, plus the pending ones whose
 * visitor_id equals visitor (when not NULL), of the given type (or all types
 * when type == CTYPE__MAX), in one query, ordered by created_at, id. A spam
 * or trashed comment with such a comment below it comes too, as a
 * placeholder (see store_comment.placeholder), so replies keep their place.
 * What readers are never shown is left empty: email, visitor_id, legacy_id
 * and pending_reason.
 */
enum store_err store_comments_for_article(store *s, int64_t article_id,
    enum store_ctype type, const char *visitor, arena *a,
    struct store_comment **out, size_t *n);
/* The rows store_comments_for_article gives (placeholders aside) with
 * only id, article_id, parent_id, type, created_at, status and like_count
 * (text fields ""): enough to place them in threads. */
enum store_err store_comment_places(store *s, int64_t article_id,
    const char *visitor, arena *a, struct store_comment **out, size_t *n);
/* Of the comments ids[0, nids), those of article_id that
 * store_comments_for_article would show visitor (placeholders aside),
 * whole, in the order of ids. */
enum store_err store_comments_by_ids(store *s, int64_t article_id,
    const int64_t *ids, size_t nids, const char *visitor, arena *a,
    struct store_comment **out, size_t *n);
enum store_err store_comment_set_status(store *s, int64_t id,
    enum store_cstatus st);
/* Up to limit comments with status st (CSTATUS__MAX: any), newest first. */
enum store_err store_comments_by_status(store *s, enum store_cstatus st,
    size_t limit, arena *a, struct store_comment **out, size_t *n);
/* *yes when the visitor has at least one approved comment. */
enum store_err store_visitor_approved(store *s, const char *visitor, bool *yes);
/* Ids (ascending) of the article's comments the visitor likes. */
enum store_err store_visitor_likes(store *s, int64_t article_id,
    const char *visitor, arena *a, int64_t **ids, size_t *n);

/* Likes: one per (comment, visitor). like returns CONFLICT when already
 * liked, unlike NOTFOUND when not; both leave *count with the new total. */
enum store_err store_like(store *s, int64_t comment_id, const char *visitor,
    int64_t *count);
enum store_err store_unlike(store *s, int64_t comment_id, const char *visitor,
    int64_t *count);

/* ---- the site's recent comments (site/recent.c) ---------------------------- */

/* One approved comment of the site-wide list: what readers see of it and
 * the post it is on (art: id, kind, title, slug, parent_id, status only;
 * the rest zero). Never the commenter's e-mail, IP or visitor id. */
struct store_recent_comment {
	int64_t id;
	int64_t created_at;
	const char *nickname;
	const char *body;
	struct store_article art;
};
/* Up to limit approved comments (type comment, not pings) on posts
 * visible at now (pages stay out, as from every listing), newest first
 * (created_at, id), skipping offset. Walks
 * the comments_status index in that order and stops at offset + limit
 * rows: never the whole table. */
enum store_err store_comments_recent(store *s, int64_t now, int64_t offset,
    int64_t limit, arena *a, struct store_recent_comment **out, size_t *n);
/* How many such comments there are, counted up to max (a bound, so the
 * count reads at most max index entries). */
enum store_err store_comments_recent_count(store *s, int64_t now, int64_t max,
    int64_t *n);

/* ---- received pings: comments of type trackback / pingback (site/pings.c) ----- */

/* The ping (trackback or pingback, any status) of article_id whose source
 * is url, the oldest; NOTFOUND when none. */
enum store_err store_comment_ping_find(store *s, int64_t article_id,
    const char *url, arena *a, struct store_comment *out);
/* Adds ping c (store_comment_add's rules) unless article c->article_id
 * already has a ping of any type and status from c->url: CONFLICT then.
 * The check and the insert are one transaction. */
enum store_err store_comment_ping_add(store *s, struct store_comment *c);
/* Replaces a ping's nickname and body (a Webmention source that changed);
 * its status stays. NOTFOUND when id is no ping. */
enum store_err store_comment_ping_update(store *s, int64_t id,
    const char *nickname, const char *body);
/* Removes a ping (its source is gone): deleted, or trashed when replies
 * hang under it (an import may bring such); comment_count follows.
 * NOTFOUND when id is no ping. */
enum store_err store_comment_ping_delete(store *s, int64_t id);

/* ---- old WordPress URLs (site/legacy.c) ---------------------------------------- */

/* The visible article (post or page) imported from WordPress post id
 * legacy_id, the lowest id; NOTFOUND when none is visible. */
enum store_err store_legacy_by_id(store *s, const char *legacy_id, int64_t now,
    int64_t *id);
/* One visible article an old slug names. */
struct store_legacy_hit {
	int64_t id;
	enum store_kind kind;
	int64_t published_at;
};
#define STORE_LEGACY_SLUGS 3 /* spellings asked for at once */
/* Up to max visible articles whose slug is one of slugs[0..nslugs)
 * (nslugs <= STORE_LEGACY_SLUGS: the decoded slug and its percent-encoded
 * spellings), pages first, then by id; *n 0 when none. */
enum store_err store_legacy_by_slug(store *s, const char *const *slugs,
    size_t nslugs, int64_t now, struct store_legacy_hit *out, size_t max,
    size_t *n);

/* ---- pages (their hierarchy: /pages/parent/child) -------------------------------- */

#define STORE_PAGE_DEPTH 8 /* levels of pages, the top one included */

/* One page as the hierarchy shows it (breadcrumbs, children, pickers). */
struct store_page {
	int64_t id;
	int64_t parent_id;  /* 0 for a top-level page */
	int64_t menu_order;
	const char *slug;
	const char *title;
	bool visible;       /* published and its time has come (at now) */
};
/*
 * The page id and its ancestors, the top one first and the page itself
 * last (*n >= 1), any status, at most STORE_PAGE_DEPTH of them: a chain
 * that goes on (a loop, or too deep) ends with *n == STORE_PAGE_DEPTH
 * and out[0].parent_id != 0. NOTFOUND when id is not a page.
 */
enum store_err store_page_chain(store *s, int64_t id, int64_t now, arena *a,
    struct store_page **out, size_t *n);
/* The page (any status but the trash; the lowest id) under parent (0:
 * the top level) whose slug is one of slugs[0..nslugs) (nslugs <=
 * STORE_LEGACY_SLUGS: spellings of one slug); *id 0 when none. */
enum store_err store_page_child(store *s, int64_t parent,
    const char *const *slugs, size_t nslugs, int64_t *id);
/* The visible child pages of parent, by menu_order, title, id; at most
 * limit. */
enum store_err store_page_children(store *s, int64_t parent, int64_t now,
    size_t limit, arena *a, struct store_page **out, size_t *n);
/* Every page but the trashed ones (the editor's parent picker), by
 * menu_order, title, id; at most limit. */
enum store_err store_pages_all(store *s, int64_t now, size_t limit, arena *a,
    struct store_page **out, size_t *n);
/* How many levels of pages hang below id (0: none), looked at down to
 * STORE_PAGE_DEPTH levels. */
enum store_err store_page_height(store *s, int64_t id, int64_t *height);
/* The lowest id of a page under parent (0: top level) with this slug,
 * other than except, any status; *id 0 when the slug is free there. */
enum store_err store_page_slug_owner(store *s, int64_t parent,
    const char *slug, int64_t except, int64_t *id);
/* Visible pages (for the sitemap) by id, at most limit from offset. */
enum store_err store_page_stamps(store *s, int64_t now, int64_t offset,
    int64_t limit, arena *a, struct store_stamp **out, size_t *n);
/* Number of visible pages. */
enum store_err store_pages_count(store *s, int64_t now, int64_t *n);

/* ---- redirects ------------------------------------------------------------------ */

/* CONFLICT when from already redirects. */
enum store_err store_redirect_add(store *s, const char *from, const char *to);
enum store_err store_redirect_get(store *s, const char *from, arena *a,
    const char **to);
/* Adds or replaces (a slug changed twice): from now answers to. */
enum store_err store_redirect_set(store *s, const char *from, const char *to);
/* NOTFOUND when from does not redirect. */
enum store_err store_redirect_delete(store *s, const char *from);
struct store_redirect {
	const char *from;
	const char *to;
};
/* One page of redirects ordered by from; *total counts them all. */
enum store_err store_redirects(store *s, int64_t offset, int64_t limit,
    arena *a, struct store_redirect **out, size_t *n, int64_t *total);

/* ---- media (uploaded and generated images live in the database too) ---------- */

/* Stores (or replaces) a file served at /media/<name>. name: [A-Za-z0-9._-]. */
enum store_err store_media_put(store *s, const char *name, const char *type,
    const void *data, size_t n, int64_t mtime);
/* *data is arena-allocated. */
enum store_err store_media_get(store *s, const char *name, arena *a,
    const char **type, const void **data, size_t *n, int64_t *mtime);

/* ---- media library (admin/media.c, admin/articles.c) ---- */

/* One stored file with what the library shows; reads leave data out. */
struct store_media {
	const char *name;         /* served at /media/<name> */
	const char *type;         /* "image/png" ... */
	int64_t width, height;    /* pixels; 0 when unknown (old rows, SVG) */
	const char *filename;     /* as uploaded, "" when unknown */
	int64_t uploader_id;      /* 0 when unknown */
	int64_t mtime;
	const char *uploader_name; /* reads: display name, "" when none */
};
/*
 * Stores an uploaded image with its dimensions, file name and uploader.
 * Names are content hashes, so a name already stored holds these very
 * bytes: the row is kept and only its dimensions (and an empty file name
 * or uploader) are filled in, the blob is not written again.
 */
enum store_err store_media_add(store *s, const struct store_media *m,
    const void *data, size_t n);
/* One file's row without its bytes. NOTFOUND when there is none. */
enum store_err store_media_meta(store *s, const char *name, arena *a,
    struct store_media *out);
/* One page of files, the latest stored first (without bytes); *total
 * (when not NULL) counts them all. */
enum store_err store_media_list(store *s, int64_t offset, int64_t limit,
    arena *a, struct store_media **out, size_t *n, int64_t *total);

/* ---- change log (what changed, for cache invalidation) -------------------- */

enum store_change_kind {
	CHANGE_COMMENT,  /* a comment of article_id added, moderated, edited */
	CHANGE_LIKE,     /* a like count of one of article_id's comments */
	CHANGE_ARTICLE,  /* article_id added, edited, (un)published, deleted */
	CHANGE_SETTINGS, /* any setting */
	CHANGE_ALL,      /* categories and the like: everything may show it */
	CHANGE_ARTICLE_TEXT, /* only article_id's text: body, excerpt, eyecatch,
	                      * sources, updated date (not its title, place
	                      * or visibility): the pages showing it */
	CHANGE__MAX
};
struct store_change {
	int64_t seq;
	enum store_change_kind kind;
	int64_t article_id;
	int64_t comment_id; /* CHANGE_COMMENT: the comment (0 in rows
	                     * logged before schema v7) */
	bool added;         /* CHANGE_COMMENT: written by its insert */
};
/* Up to limit changes with seq > after, oldest first. Every writer (any
 * process) records its changes; triggers keep it complete. */
enum store_err store_changes_since(store *s, int64_t after, size_t limit,
    arena *a, struct store_change **out, size_t *n);
/* The newest seq (0 when the log is empty). */
enum store_err store_changes_last(store *s, int64_t *seq);
/* The oldest seq still logged (0 when the log is empty). */
enum store_err store_changes_first(store *s, int64_t *seq);
/* Up to limit CHANGE_COMMENT rows of article_id with after < seq <= upto,
 * oldest first (live comments: what a returning reader missed). */
enum store_err store_changes_comments(store *s, int64_t article_id,
    int64_t after, int64_t upto, size_t limit, arena *a,
    struct store_change **out, size_t *n);
/* Records that node (a name unique to one process: site.c) has read the
 * log up to seq, at now. */
enum store_err store_change_reader_set(store *s, const char *node,
    int64_t seq, int64_t now);
/* Forgets changes with seq <= upto that every node seen at or after
 * since has read, and the nodes not seen since then. */
enum store_err store_changes_prune(store *s, int64_t upto, int64_t since);
/* The oldest seq still in the log (0 when it is empty) and the newest
 * ever given (kept when pruning empties the log): whether a reader that
 * stopped at seq L can still see every change since (static export). */
enum store_err store_changes_span(store *s, int64_t *oldest, int64_t *newest);
/* The earliest published_at > now of a published or scheduled article
 * (0 when none): when cached listings must be rebuilt. */
enum store_err store_next_publish(store *s, int64_t now, int64_t *t);

/* ---- editor area: sessions, login throttling, moderation, taxonomy --------- */

/*
 * A logged-in browser. The cookie's value is never stored: id_hash is its
 * SHA-256 (hex). Read joined with its user, so one query tells whether
 * the session still holds (user enabled, password unchanged since).
 */
struct store_session {
	int64_t user_id;
	const char *csrf;       /* the session's form token */
	int64_t created_at;     /* absolute expiry counts from here */
	int64_t seen_at;        /* idle expiry counts from here */
	bool stale;             /* made before the user's last password
	                         * change or disable (cred_epoch older) */
	bool disabled;          /* the user is disabled */
	enum store_role role;
	const char *name;       /* login name */
	const char *display_name;
};
/* cred_epoch is copied from the user row; NOTFOUND without that user. */
enum store_err store_session_add(store *s, const char *id_hash,
    int64_t user_id, const char *csrf, int64_t now, const char *ip,
    const char *user_agent);
enum store_err store_session_get(store *s, const char *id_hash, arena *a,
    struct store_session *out);
enum store_err store_session_touch(store *s, const char *id_hash, int64_t now);
enum store_err store_session_delete(store *s, const char *id_hash);
/* Drops sessions idle since before idle_before or made before
 * created_before. */
enum store_err store_sessions_prune(store *s, int64_t idle_before,
    int64_t created_before);

/* Failed logins per key ("a:<name>|<ip>", "i:<ip>"): *failures 0 and
 * *last_at 0 when none are recorded. */
enum store_err store_login_failures(store *s, const char *key,
    int64_t *failures, int64_t *last_at);
/* Counts one more failure at now; a count older than forget_before
 * restarts from 1. */
enum store_err store_login_fail(store *s, const char *key, int64_t now,
    int64_t forget_before);
enum store_err store_login_clear(store *s, const char *key);
enum store_err store_login_prune(store *s, int64_t before);

/* Comments per status (all articles when article_id is 0). */
enum store_err store_comment_counts(store *s, int64_t article_id,
    int64_t counts[CSTATUS__MAX]);
/* The moderation queue: one page of comments with status st (any when
 * CSTATUS__MAX), of one article when article_id is not 0, newest first,
 * with article_title filled. *total counts every match. */
enum store_err store_comments_queue(store *s, enum store_cstatus st,
    int64_t article_id, int64_t offset, int64_t limit, arena *a,
    struct store_comment **out, size_t *n, int64_t *total);
/* The comment of article_id imported from legacy_id (a WordPress comment
 * id): the lowest id, any status; *id 0 when none. */
enum store_err store_comment_by_legacy(store *s, int64_t article_id,
    const char *legacy_id, int64_t *id);
/* Sets a comment's like count (an import carries counts, not the
 * visitors who liked). NOTFOUND when there is no such comment. */
enum store_err store_comment_set_likes(store *s, int64_t id, int64_t likes);

/* ---- export reads (port/wxr_export.c): one page at a time, by key ---- */

/* One read snapshot around a long walk (no write lock: writers go on);
 * end is a no-op when none is open. Per thread, not nestable. */
enum store_err store_snapshot_begin(store *s);
enum store_err store_snapshot_end(store *s);

/* Up to limit ids (ascending) of the articles, posts and pages of every
 * status but the trash, with id > after; *ids in a. */
enum store_err store_export_article_ids(store *s, int64_t after, int64_t limit,
    arena *a, int64_t **ids, size_t *n);
/* The ids (ascending) of the users who wrote those articles; few. */
enum store_err store_export_author_ids(store *s, arena *a, int64_t **ids,
    size_t *n);
/* Up to limit comments of an article, every type and status, with
 * id > after, ascending, read whole (e-mail and IP included). */
enum store_err store_export_comments(store *s, int64_t article_id,
    int64_t after, int64_t limit, arena *a, struct store_comment **out,
    size_t *n);
/* Up to limit tags with id > after, ascending. */
enum store_err store_export_tags(store *s, int64_t after, int64_t limit,
    arena *a, struct store_tag **out, size_t *n);
/* Replaces a comment's text (NFC, checked by the caller). */
enum store_err store_comment_set_body(store *s, int64_t id, const char *body);

/* Articles per status (drafts, scheduled ...), posts and pages together. */
enum store_err store_article_status_counts(store *s,
    int64_t counts[STATUS__MAX]);

enum store_ban_kind { BAN_IP, BAN_RANGE, BAN_VISITOR, BAN__MAX };
struct store_ban {
	int64_t id;
	enum store_ban_kind kind;
	const char *value;  /* an address, a CIDR range, a visitor id */
	const char *note;
	int64_t created_at;
};
/* CONFLICT when the same ban exists. */
enum store_err store_ban_add(store *s, const struct store_ban *b, int64_t *id);
enum store_err store_ban_delete(store *s, int64_t id);
/* Every ban, newest first, at most limit. */
enum store_err store_bans(store *s, size_t limit, arena *a,
    struct store_ban **out, size_t *n);
/* Every ban of kind BAN_RANGE, however many other bans there are. */
enum store_err store_ban_ranges(store *s, arena *a, struct store_ban **out,
    size_t *n);
/* *yes when ip or visitor is banned by an exact ban; ranges (CIDR) are
 * the caller's to match (store_ban_ranges). */
enum store_err store_ban_exact(store *s, const char *ip, const char *visitor,
    bool *yes);

/* Category edits. Renaming or moving keeps the id; a parent that would
 * make a loop or does not exist is STORE_INVALID; a taken slug CONFLICT. */
enum store_err store_category_update(store *s, const struct store_category *c);
/* Moves its articles to reassign (0: none) and its children up to its
 * parent, then deletes it. */
enum store_err store_category_delete(store *s, int64_t id, int64_t reassign);
/* Number of articles (any status) per category id, for the admin list:
 * ids[i] has counts[i]. */
enum store_err store_category_usage(store *s, arena *a, int64_t **ids,
    int64_t **counts, size_t *n);

enum store_err store_tag_get(store *s, int64_t id, arena *a,
    struct store_tag *out);
enum store_err store_tag_update(store *s, const struct store_tag *t);
/* Its articles get tag reassign instead (0: the tag is just dropped). */
enum store_err store_tag_delete(store *s, int64_t id, int64_t reassign);
/* One page of tags by name with the number of articles of each
 * (counts[i] for out[i]); *total counts every tag. */
enum store_err store_tags_page(store *s, int64_t offset, int64_t limit,
    arena *a, struct store_tag **out, int64_t **counts, size_t *n,
    int64_t *total);

/* ---- jobs ------------------------------------------------------------------------ */

/*
 * Background work (pings, scheduled publish): kind + JSON payload, run by
 * src/jobs/ at or after run_at, at least once. A job is pending while
 * done_at is 0; done with last_error "" succeeded, done with a last_error
 * was given up after too many failures (kept for people to see).
 */
struct store_job {
	int64_t id;
	const char *kind;
	const char *payload;
	int64_t run_at;       /* due from then (moved on by each failure) */
	int64_t lease_until;  /* claimed by a runner until then */
	int64_t attempts;     /* claims so far, the current one included */
	int64_t done_at;      /* 0 while pending */
	const char *dedup_key;  /* "" when none */
	const char *last_error; /* "" when none */
};

/* Adds a job (no key: every call adds one). */
enum store_err store_job_add(store *s, const char *kind, const char *payload,
    int64_t run_at);
/*
 * Adds the job named key, or when one exists moves it: new kind, payload
 * and run_at, pending again with attempts 0 (a runner holding it loses its
 * claim). For jobs that stand for a state, e.g. article 42's publication:
 * kind "publish", payload {"article":42}, key "publish:42" (see
 * jobs/jobs.h). *id (when not NULL) is the job's id.
 */
enum store_err store_job_schedule(store *s, const char *kind,
    const char *payload, int64_t run_at, const char *key, int64_t *id);
/* Adds the job named key unless a job of that name exists, pending or
 * done: a retried request does not double it, a new key (say, with a hash
 * of what changed in it) adds another. *added (when not NULL) says which. */
enum store_err store_job_add_key(store *s, const char *kind,
    const char *payload, int64_t run_at, const char *key, bool *added);
/* Calls fn(ctx) after every job this process adds (the runner wakes up);
 * NULL removes it, and once that returns the old fn is not running. fn
 * must be quick and must not call the store (it runs under a lock). */
void store_job_hook(store *s, void (*fn)(void *ctx), void *ctx);
/* *yes when some job is due at now and not held (a read; no lock). */
enum store_err store_job_due(store *s, int64_t now, bool *yes);
/*
 * Claims the oldest due job nobody holds (run_at <= now, lease expired):
 * its lease runs to now + lease and attempts grows by one, in one write
 * transaction, so two runners never hold the same job. NOTFOUND when none
 * is due. *out's strings in a.
 */
enum store_err store_job_claim(store *s, int64_t now, int64_t lease, arena *a,
    struct store_job *out);
/* Marks a claimed job done. NOTFOUND when the claim (j's attempts and
 * lease_until) no longer holds: another runner has the job now. */
enum store_err store_job_done(store *s, const struct store_job *j, int64_t now);
/* Records a failure of a claimed job: due again at retry_at, or given up
 * (done at now, last_error kept) when retry_at is 0. NOTFOUND as above. */
enum store_err store_job_fail(store *s, const struct store_job *j,
    const char *error, int64_t retry_at, int64_t now);
enum store_err store_job_get(store *s, int64_t id, arena *a,
    struct store_job *out);

/* ---- outgoing pings (sqlite_pings.c) --------------------------------------------- */

/*
 * One row per (article, link target) that kiji notifies (net/send.c): the
 * kind found by discovery, the endpoint, and what became of it. A row is
 * made pending when the article's links are listed and changed by each
 * attempt of its "ping" job.
 */
enum store_ping_kind {
	PKIND_UNKNOWN,    /* "": not discovered yet */
	PKIND_WEBMENTION,
	PKIND_PINGBACK,
	PKIND_TRACKBACK,
	PKIND_NONE,       /* the target announces no endpoint */
	PKIND__MAX
};
enum store_ping_status {
	PSTATUS_PENDING,  /* not tried yet, or retrying */
	PSTATUS_SENT,     /* the endpoint accepted it */
	PSTATUS_FAILED,   /* refused, or given up after retries (last_error) */
	PSTATUS_NONE,     /* nothing to send: no endpoint */
	PSTATUS__MAX
};
struct store_ping {
	int64_t id;
	int64_t article_id;
	const char *target;
	enum store_ping_kind kind;
	const char *endpoint;     /* "" until discovered */
	enum store_ping_status status;
	int64_t attempts;         /* tries so far */
	const char *last_error;   /* "" when none */
	int64_t created_at, updated_at;
	const char *article_title; /* lists only; "" otherwise */
};
/* The column text of a kind or status ("" for PKIND_UNKNOWN); NULL out of
 * range. */
const char *store_ping_kind_name(enum store_ping_kind k);
const char *store_ping_status_name(enum store_ping_status st);
/* Adds a pending row for (article_id, target) unless there is one; *out
 * (strings in a) is the row either way, *added (when not NULL) whether
 * it is new. NOTFOUND when the article does not exist. */
enum store_err store_ping_add(store *s, int64_t article_id, const char *target,
    int64_t now, arena *a, struct store_ping *out, bool *added);
/* The row of (article_id, target); NOTFOUND when none. */
enum store_err store_ping_get(store *s, int64_t article_id, const char *target,
    arena *a, struct store_ping *out);
/* Writes p's kind, endpoint, status, attempts, last_error and updated_at
 * (by p->id). NOTFOUND when the row is gone (its article was deleted). */
enum store_err store_ping_update(store *s, const struct store_ping *p);
/* Rows newest activity first (article_id 0: every article's), with the
 * article's title; *total counts them all. */
enum store_err store_pings_list(store *s, int64_t article_id, int64_t offset,
    int64_t limit, arena *a, struct store_ping **out, size_t *n,
    int64_t *total);

/* ---- reply notifications by e-mail (sqlite_mail.c) ------------------------------ */

/* The file the store keeps its database in (SQLite), NULL otherwise: the
 * mail key lives beside it (src/mail/key.c). */
const char *store_path(store *s);

/* A subscriber address: never in clear (src/mail/: sealed under the mail
 * key, found by its blind index). */
struct store_mail_address {
	int64_t id;
	const char *blind;       /* keyed hash of the address, hex */
	const void *sealed;      /* nonce + secretbox of the address */
	size_t sealed_len;
	int64_t created_at;
	int64_t confirmed_at;    /* 0 until the confirmation link is used */
	int64_t unsubscribed_at; /* 0 while subscribed */
	int64_t batch_at;        /* 0: no batch of replies on its way */
};
/* A comment's subscription as the post makes it. */
struct store_mail_sub {
	int64_t comment_id;
	const char *blind;
	const void *sealed;
	size_t sealed_len;
	const char *ip_hash;  /* poster's address, keyed hash ("" for none) */
	int64_t now;
	int64_t since;        /* confirmations counted from here (today) */
	int64_t ask_max;      /* confirmation mails a day, per address and
	                       * per ip_hash */
};
struct store_mail_sub_out {
	int64_t address_id;
	bool confirmed;       /* notifications go out already */
	bool asked;           /* a "mail-confirm" job was added */
};
/*
 * Ties comment in->comment_id to the address (added when new; one that
 * had unsubscribed starts over, unconfirmed). For an unconfirmed address
 * within the day's limits, logs the request ('asked') and adds the job
 * "mail-confirm" {"address":A,"ask":L} (key "mail-confirm:L"). One
 * transaction (a savepoint inside store_begin).
 */
enum store_err store_mail_subscribe(store *s, const struct store_mail_sub *in,
    struct store_mail_sub_out *out);
/* The address row (sealed bytes copied into a); NOTFOUND without it. */
enum store_err store_mail_address_get(store *s, int64_t id, arena *a,
    struct store_mail_address *out);
/* Marks a subscribed address confirmed (*changed: it was not yet). */
enum store_err store_mail_confirm(store *s, int64_t id, int64_t now,
    bool *changed);
/* Unsubscribes the address from everything and drops what waits for it
 * (*changed: it was subscribed). */
enum store_err store_mail_unsubscribe(store *s, int64_t id, int64_t now,
    bool *changed);
/* A reply waiting for its batch. Replies are queued by store_comment_add
 * and store_comment_set_status when a reader's reply is (or becomes)
 * approved under a comment with a confirmed subscription; the first one
 * of a batch adds the job "mail-replies" {"address":A}. */
struct store_mail_reply {
	int64_t queue_id;
	int64_t comment_id;
	int64_t queued_at;
	int64_t article_id;
	const char *nickname;
	const char *body;
	const char *article_title;
	const char *parent_body;  /* the subscriber's comment */
	bool skip;                /* not approved any more, or the
	                           * subscriber's own: not to be sent */
};
/* Up to limit waiting replies for the address, oldest first. */
enum store_err store_mail_waiting(store *s, int64_t address_id, size_t limit,
    arena *a, struct store_mail_reply **out, size_t *n);
/* After a batch mail (key: its dedup key, logged as 'reply'; NULL when
 * nothing was sent): the address's waiting replies up to last_queue_id
 * are done; replies queued since get the next job, else the batch is
 * closed. One transaction. */
enum store_err store_mail_batch_done(store *s, int64_t address_id,
    int64_t last_queue_id, const char *key, int64_t now);
/* Whether a mail with this dedup key was sent. */
enum store_err store_mail_logged(store *s, const char *key, bool *yes);
/* Logs a mail sent (kind "confirm", "reply" or "owner") by its key. */
enum store_err store_mail_log(store *s, const char *kind, const char *key,
    int64_t address_id, int64_t now);
/* Forgets the mail log before `before` (dedup keys, daily counts) and
 * the posters' address hashes before `ips_before`. */
enum store_err store_mail_prune(store *s, int64_t before, int64_t ips_before);
/* Mails of kind logged for the address since then. */
enum store_err store_mail_sent_count(store *s, int64_t address_id,
    const char *kind, int64_t since, int64_t *n);

#endif
