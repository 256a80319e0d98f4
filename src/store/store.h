/*
 * store: the one storage interface. All SQL lives below this header
 * (sqlite.c today, pg.c later); no database types leak out. Times are UTC
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
	STORE__MAX
};

typedef struct store store;

/* Opens (creating, mode 0600) and migrates the database. NULL on failure,
 * with a message in err. */
store *store_open(const char *path, buf *err);
/* NULL-safe; closes every thread's connection, so call it once the other
 * threads are done with the store (joined, or at least idle). */
void store_close(store *s);
const char *store_strerror(enum store_err e);

/* Wraps many writes in one transaction (demo, import). Per thread. */
enum store_err store_begin(store *s);
enum store_err store_commit(store *s);
enum store_err store_rollback(store *s);

/* A number that changes whenever another connection (process) commits;
 * SQLite's PRAGMA data_version. Lets the server notice CLI writes.
 * Per thread: compare only values read on the same thread. -1 on error. */
int64_t store_data_version(store *s);
/* The journal mode and synchronous level actually in force ("wal", 2). */
enum store_err store_durability(store *s, buf *journal_mode, int *synchronous);

/* ---- settings ------------------------------------------------------------ */

/* Settings are (key, value) text pairs; defaults live in site/, not here. */
enum store_err store_setting_get(store *s, const char *key, buf *out);
enum store_err store_setting_set(store *s, const char *key, const char *value);
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
};
enum store_err store_user_add(store *s, const struct store_user *u, int64_t *id);
enum store_err store_user_get(store *s, int64_t id, arena *a, struct store_user *out);

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
 * pages and search never render Markdown on the read path; the site layer
 * fills them on every save.
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

/* Adds an article (and a revision); sources and tags are written too (tags
 * by id). Sets a->id. An empty guid gets a fresh "urn:uuid:..." one. */
enum store_err store_article_add(store *s, struct store_article *a);
/* Replaces an article's fields, sources and tags; writes a revision. An
 * empty guid keeps the stored one; comment_count is the store's. */
enum store_err store_article_update(store *s, const struct store_article *a);
/* One visible article (published, published_at <= now) with sources, tags,
 * author and category names. NOTFOUND when missing or not visible. */
enum store_err store_article_get(store *s, int64_t id, int64_t now, arena *a,
    struct store_article *out);
/* As store_article_get but ignoring visibility (admin, CLI). */
enum store_err store_article_get_any(store *s, int64_t id, arena *a,
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
 * itself, ordered by number of shared tags, then published_at DESC.
 * Filled as by store_articles_list. */
enum store_err store_related(store *s, const struct store_article *art,
    int64_t now, size_t limit, arena *a, struct store_article **out, size_t *n);

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

/*
 * Visible posts matching what a reader typed, best first (bm25 over
 * NFKC-casefolded title and body, title weighted higher, with a boost for
 * recent posts), one page of them. The query is parsed by
 * text_query_parse and never passed through as syntax: CJK runs match as
 * substrings (1 character as its unigram, longer ones as bigram chains),
 * words as whole words or prefixes, all phrases ANDed. A query with no
 * searchable phrase gives no hits (*total 0). STORE_INVALID on invalid
 * UTF-8. *total (when not NULL) counts every visible match.
 */
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
};

/* Adds a comment; the parent (if any) must belong to the same article,
 * else STORE_INVALID. Sets c->id. Committed durably before it returns
 * (unless inside store_begin). */
enum store_err store_comment_add(store *s, struct store_comment *c);
enum store_err store_comment_get(store *s, int64_t id, arena *a,
    struct store_comment *out);
/*
 * Every comment of an article that is approved, plus the pending ones whose
 * visitor_id equals visitor (when not NULL), of the given type (or all types
 * when type == CTYPE__MAX), in one query, ordered by created_at, id.
 */
enum store_err store_comments_for_article(store *s, int64_t article_id,
    enum store_ctype type, const char *visitor, arena *a,
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

/* ---- redirects ------------------------------------------------------------------ */

/* CONFLICT when from already redirects. */
enum store_err store_redirect_add(store *s, const char *from, const char *to);
enum store_err store_redirect_get(store *s, const char *from, arena *a,
    const char **to);

/* ---- media (uploaded and generated images live in the database too) ---------- */

/* Stores (or replaces) a file served at /media/<name>. name: [A-Za-z0-9._-]. */
enum store_err store_media_put(store *s, const char *name, const char *type,
    const void *data, size_t n, int64_t mtime);
/* *data is arena-allocated. */
enum store_err store_media_get(store *s, const char *name, arena *a,
    const char **type, const void **data, size_t *n, int64_t *mtime);

/* ---- change log (what changed, for cache invalidation) -------------------- */

enum store_change_kind {
	CHANGE_COMMENT,  /* a comment of article_id added, moderated, edited */
	CHANGE_LIKE,     /* a like count of one of article_id's comments */
	CHANGE_ARTICLE,  /* article_id added, edited, (un)published, deleted */
	CHANGE_SETTINGS, /* any setting */
	CHANGE_ALL,      /* categories and the like: everything may show it */
	CHANGE__MAX
};
struct store_change {
	int64_t seq;
	enum store_change_kind kind;
	int64_t article_id;
};
/* Up to limit changes with seq > after, oldest first. Every writer (any
 * process) records its changes; triggers keep it complete. */
enum store_err store_changes_since(store *s, int64_t after, size_t limit,
    arena *a, struct store_change **out, size_t *n);
/* The newest seq (0 when the log is empty). */
enum store_err store_changes_last(store *s, int64_t *seq);
/* Forgets changes with seq <= upto (they have been read). */
enum store_err store_changes_prune(store *s, int64_t upto);
/* The earliest published_at > now of a published or scheduled article
 * (0 when none): when cached listings must be rebuilt. */
enum store_err store_next_publish(store *s, int64_t now, int64_t *t);

/* ---- jobs ------------------------------------------------------------------------ */

/* Background work (pings, scheduled publish): kind + JSON payload. */
enum store_err store_job_add(store *s, const char *kind, const char *payload,
    int64_t run_at);

#endif
