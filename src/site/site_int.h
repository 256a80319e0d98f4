/* Private to site/: the site object, per-request context, shared helpers. */
#ifndef KIJI_SITE_INT_H
#define KIJI_SITE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "../admin/admin.h"
#include "../cache/cache.h"
#include "../render/render.h"
#include "../obs/obs.h"
#include "guard.h"
#include "site.h"

enum site_route {
	R_FRONT,
	R_ARTICLE,
	R_CATEGORY,
	R_TAG,
	R_STATIC,
	R_MEDIA,
	R_ROBOTS,
	R_POST_COMMENT,
	R_LIKE,
	R_UNLIKE,
	R_API_COMMENTS,
	R_API_POST_COMMENT,
	R_COMMENT_FEED,
	R_ARCHIVE_MONTH,
	R_FEED_RSS,
	R_FEED_ATOM,
	R_CAT_FEED_RSS,
	R_CAT_FEED_ATOM,
	R_SITEMAP,
	R_SITEMAP_N,
	R_VIEW_BEACON,
	R_VIEW_GIF,
	R_RANKING,
	R_SEARCH,
	R_PAGE,          /* GET /pages/<slug>[/<slug>…] */
	R_TRACKBACK,     /* POST /articles/<id>/trackback */
	R_WP_TRACKBACK,  /* POST /wp-trackback.php?p=<WordPress id> */
	R_XMLRPC,        /* POST /xmlrpc, /xmlrpc.php: pingback.ping */
	R_WEBMENTION,    /* POST /webmention */
	R_METRICS,       /* GET /metrics: metrics.allow only (observe.c) */
	R_HEALTHZ,       /* GET /healthz: 200 while serving */
	R_READYZ,        /* GET /readyz: 200 when writable and in sync */
	R_COMMENTS,      /* GET /comments: the site's latest comments */
	R_COMMENTS_FEED, /* GET /comments/feed: RSS of them */
	R_COMMENT_FEED_ATOM, /* GET /articles/<id>/feed/atom */
	R_COMMENT_GOTO,  /* GET /comments/<cid>: 302 to its page and anchor */
	R_EVENTS,        /* GET /articles/<id>/events: live comments (live.c) */
	R_MAIL_CONFIRM,  /* GET, POST /mail/confirm: a signed link (mail.c) */
	R_MAIL_UNSUB,    /* GET, POST /mail/unsubscribe: a signed link */
	R__MAX
};

struct site_static {
	char *name;       /* path below static/ */
	char *data;
	size_t len;
	const char *type;
	char etag[24];
};

/* The popular ranking, recomputed at most once a minute (and after the
 * view counter wrote new counts). */
struct site_ranked {
	int64_t id;
	char *title;
	char *cat_name;
	char *cat_slug;
	int64_t views; /* in the ranking window */
	char *cut_title; /* title cut to cut_n clusters (pages.c), or NULL */
	size_t cut_n;
};

/* The view counter (views.c): deduplication, counts waiting for a flush,
 * the flushing thread. */
struct site_views;

/* The theme: templates and static files, loaded at start and again on
 * SIGHUP. Requests take a reference while they use it (site_theme_get),
 * so a reload never frees what a worker is rendering with. */
struct site_theme {
	atomic_uint refs;
	uint64_t gen;    /* this load's number: part of a kept box's key */
	bool boxes;      /* has comment_box: comments are kept as boxes */
	tmpl_set *tmpl;
	struct site_static *statics;
	size_t nstatics;
};

struct site {
	store *st;
	pthread_mutex_t theme_mu; /* guards the theme pointer */
	struct site_theme *theme;
	char *theme_dir;   /* --theme DIR, or NULL: the compiled-in theme */
	/* changes when any static file changes; every value made is kept
	 * till site_free, as a request may still be writing one out */
	_Atomic(const char *) static_v;
	char **static_vs;
	size_t nstatic_vs;
	struct site_obs *obs; /* counters for /metrics (observe.c) */
	char host[256];    /* host[:port] of site.base_url, at start */
	bool csp_youtube;  /* the CSP, set at start, lets youtube-nocookie
	                    * frames in (content.embeds was youtube) */
	pthread_mutex_t mu; /* guards conf, retired, ranking */
	struct site_conf *conf;
	struct site_conf **retired;
	size_t nretired;
	guard_ngwords *ng;  /* compiled from the current conf */
	guard_ngwords **retired_ng;
	size_t nretired_ng;
	unsigned char key[GUARD_KEY_BYTES]; /* site secret: cookies, tokens */
	guard_limiter *lim_comment;
	guard_limiter *lim_like;
	guard_limiter *lim_view;    /* view beacons counted per address */
	guard_limiter *lim_visitor; /* new visitor ids per address */
	struct site_ranked *ranking;
	size_t nranking;
	struct site_views *views; /* view counter (views.c) */
	cache *cache;
	cache_purger *purger;    /* CDN purge hook */
	struct writer *writer;   /* group commit of comment posts */
	struct refresher *refresher; /* hot pages' refreshes (refresh.c) */
	pthread_mutex_t sync_mu; /* guards change_seq, next_publish */
	int64_t change_seq;      /* last change_log row acted on */
	int64_t pruned_seq;
	char node[128];          /* this process in change_readers:
	                          * host/pid/start time */
	_Atomic int64_t reader_try; /* when site_sync last went to record
	                          * change_seq there (once a second) */
	int64_t reader_ok;       /* when that last succeeded (sync_mu) */
	int64_t reader_seq;      /* the seq it recorded (sync_mu) */
	int64_t next_publish;    /* when a scheduled article goes live */
	int64_t ranking_at;
	/* recent.c: the newest comment change not yet acted on for the
	 * recent-comments pages, and when the first such change was read
	 * (0: none); both under sync_mu, since also read without it */
	int64_t recent_seq;
	_Atomic int64_t recent_since;
	admin *admin;            /* the editor area (admin/) */
	struct http_route *routes; /* site_routes + admin_routes, for the
	                          * HTTP core's one table */
	size_t nroutes;
	struct ping_pool *pings; /* received pings' source fetches (pings.c) */
	struct live *live;       /* live comment streams (live.c) */
	struct site_export *xp;  /* kiji render's export mode, or NULL */
	struct site_related *related; /* related cards kept (related.c) */
	struct site_frags *frags;     /* comment boxes kept (frag.c) */
	struct site_counts *counts;   /* listing totals kept (counts.c) */
	_Atomic uint64_t related_seq; /* the newest change that may change
	                          * them: not a comment's, not a like's */
};

/* One request as the handlers see it. */
struct req {
	site *s;
	struct http_req *r;
	struct http_resp *w;
	const struct site_conf *c;
	enum msg_lang lang;
	tv *root; /* the view model being built */
	bool nocache;         /* a handler says: this answer must not be cached */
	bool cached;          /* the page cache will keep it (and does ETags) */
	bool refresh;         /* the refresh thread's render: never a hit */
	int64_t tags[96];     /* cache tags of the page being built */
	uint64_t seq;         /* the change log as far as this render sees */
	size_t ntags;
	const char **moved_to; /* legacy.c: when set, where an old URL leads is
	                        * put here instead of answering 301 (pings ask
	                        * which article a target URL names) */
	struct {              /* cpage.c: the comment view of an article */
		bool on;      /* this page sorts and pages its threads */
		bool gone;    /* ?cpage= is past the last page */
		bool cut;     /* cpage_comments gave the page's comments
		               * alone, in thread order */
		int sort;     /* enum csort asked for */
		int64_t page; /* comment page asked for, from 1 */
		int64_t pages;/* how many there are (cut only) */
	} cp;
};

/* Cache tags: a page showing article X's comments or likes; a listing or
 * feed showing X (its comment count); a page showing X's card (title,
 * excerpt, eyecatch: related articles); the sitemaps (every article's
 * date). */
#define TAG_ARTICLE(x) ((int64_t)(x) * 4)
#define TAG_LISTED(x) ((int64_t)(x) * 4 + 1)
#define TAG_CARD(x) ((int64_t)(x) * 4 + 2)
#define TAG_SITEMAP ((int64_t)-1)
/* Pages showing the site's recent comments (recent.c): refreshed by a
 * timer, not by each comment. */
#define TAG_RECENT ((int64_t)-2)
void site_tag(struct req *q, int64_t tag);
/* How site_sync looks for changes: SYNC_LAZY as a read does (on SQLite
 * at most once a millisecond a thread; on PostgreSQL the listener's
 * counter), SYNC_LOOK before a write (every commit made before it, from
 * another process too: on SQLite the version without the pause, on
 * PostgreSQL the change log itself, as a notification may still be on
 * its way), SYNC_FORCE after this thread's own write (the log, always). */
enum site_sync_mode { SYNC_LAZY, SYNC_LOOK, SYNC_FORCE };
void site_sync(site *s, enum site_sync_mode m);
/* The last change acted on: what a render starting now shows at least. */
uint64_t site_seq(site *s);
/* After a reader's own write: a short-lived cookie with site_seq, so the
 * pages they read next are never stale copies older than their write. */
void site_mark_write(site *s, struct http_req *r, struct http_resp *w);
/* That cookie's seq (0: none, or one from the future: forged). */
uint64_t site_reader_seq(struct req *q);

/* LIST_MONTH's slug is "<yyyy>/<mm>" as the URL has it. */
enum list_kind { LIST_FRONT, LIST_CATEGORY, LIST_TAG, LIST_MONTH, LIST__MAX };

const char *site_mime(const char *path);
/* The current theme, with a reference the caller gives back. */
struct site_theme *site_theme_get(site *s);
void site_theme_put(struct site_theme *t);
/* Renders template name with the current theme; false as tmpl_render. */
bool site_tmpl_render(site *s, const char *name, const tv *root, buf *out);
/* Loads the theme again from the --theme directory and swaps it in
 * (cached pages dropped); the old one stays while requests use it.
 * false with a reason when the new one does not load (the old is kept). */
bool site_theme_reload(site *s, buf *err);
const char *site_msg(const struct req *q, enum msg_id id);
const char *site_abs(const struct req *q, const char *path);
void site_render(struct req *q, const char *name, int status);
void site_render_as(struct req *q, const char *name, int status,
    const char *content_type);
void site_error(struct req *q, int status);
/* The route table (router.c), given to the HTTP core. */
extern const struct http_route site_routes[];
extern const size_t site_nroutes;
/* When cached pages must be rebuilt for a scheduled article. */
int64_t site_next_publish(site *s, int64_t now);
/* The current settings snapshot (rebuilt by site_sync on change);
 * site_conf_as looks for changes as m says (SYNC_LOOK before a write). */
const struct site_conf *site_conf(site *s);
const struct site_conf *site_conf_as(site *s, enum site_sync_mode m);
/* Theme files, images from the database, robots.txt (site.c). */
void site_static(struct req *q, const char *name);
void site_media(struct req *q, const char *name);
/* Whether a media name is a content hash (served immutable). */
bool site_media_hashed(const char *name);
void site_robots(struct req *q);
bool site_etag(struct req *q, const char *etag);

/* Builds q->root with what every page shows: site, msg, nav, ranking,
 * canonical URL (path NULL: none), page title. */
void site_view_base(struct req *q, const char *title, const char *path);
void site_view_msgs(struct req *q, tv *root);
void site_view_pagination(struct req *q, int64_t page, int64_t pages,
    const char *(*url)(struct req *, int64_t, const void *), const void *ctx);

/* Form fields (token, parent, typed text) into q->root.form. */
void site_view_form(struct req *q, int64_t article_id, int64_t parent,
    const char *nickname, const char *body);
const guard_ngwords *site_ngwords(struct req *q);
/* One comment's view model, for the page and for the API's html field. */
tv *site_comment_node(struct req *q, const struct store_comment *c,
    int64_t article_id, bool liked, buf *scratch);

void site_page_article(struct req *q, int64_t id);
/* Where readers find art (posts /articles/<id>, pages /pages/<path>):
 * every link to an article is made by this (content_article_path). */
const char *site_article_url(struct req *q, const struct store_article *art);
/* q->root with the frame and q->root.article for art (path: canonical,
 * NULL for a preview); the comments part, true when it is the reader's
 * own (never cached then). Shared by articles and pages. */
void site_view_article(struct req *q, const struct store_article *art,
    const char *path);
bool site_view_comments(struct req *q, const struct store_article *art);
/* pagetree.c: GET /pages/<path>, path the router's {slugs}. */
void site_page_page(struct req *q, const char *path);
/* The editor's preview of art (saved or not) with the article template:
 * no comments or neighbours, never cached, noindex. */
void site_page_preview(struct req *q, const struct store_article *art);
void site_page_listing(struct req *q, enum list_kind kind, const char *slug);
void site_page_ranking(struct req *q);
/* search.c: GET /search?q=&page= */
void site_page_search(struct req *q);
void site_ranking_free(site *s);
/* An article card for listings and the related block (pages.c). */
tv *site_card(struct req *q, const struct store_article *art);
/* related.c: the related block of art as a list of cards; keep: from and
 * into the per-article store of them (not for a preview). */
tv *site_view_related(struct req *q, const struct store_article *art,
    bool keep);
/* ---- frag.c: comment boxes kept between renders ------------------------------ */

struct site_frag_key {
	uint64_t k0, k1;
};
struct site_frag_stats {
	uint64_t hits, misses;
	size_t bytes;
};
void site_frags_init(site *s);
void site_frags_free(site *s);
/* Whether article_id's boxes are worth keeping: it was rendered before
 * (lately); notes this render. */
bool site_frags_admit(site *s, int64_t article_id);
/* The key of comment c's box as shown on article_id to a reader who
 * liked it or not, with theme gen theme (made in scratch); false when
 * scratch refused it. */
bool site_frag_key(const struct req *q, uint64_t theme,
    const struct store_comment *c, int64_t article_id, bool liked,
    buf *scratch, struct site_frag_key *k);
/* The kept box as trusted HTML in a, or NULL. */
tv *site_frag_get(site *s, const struct site_frag_key *k, arena *a);
void site_frag_put(site *s, const struct site_frag_key *k, const char *html,
    size_t n);
void site_frags_stats(const site *s, struct site_frag_stats *st);

void site_related_init(site *s);
void site_related_free(site *s);
/* A change at seq that may change related blocks (site_sync). */
void site_related_note(site *s, uint64_t seq);
/* Until when what this render read may be kept (related.c's rule, also
 * counts.c's): the next scheduled article's time or now + max_age,
 * whichever comes first; 0 when an article changed since q->seq. */
int64_t site_keep_until(struct req *q, int64_t max_age);
void site_counts_init(site *s);
void site_counts_free(site *s);
/* The total of visible posts f holds, as kept by an earlier render that
 * no article change has outdated since; false when there is none. */
bool site_count_get(struct req *q, const struct store_filter *f,
    int64_t *total);
/* Keeps the total f's render read (at q->seq). */
void site_count_put(struct req *q, const struct store_filter *f,
    int64_t total);
/* /category/<slug> (path-encoded slug), arena-allocated. */
const char *site_category_path(struct req *q, const char *slug);

/* FNV-1a 64 of n bytes: ETags of static files and generated bodies. */
/* Conditional GET on the body already in q->w: sets a strong ETag (hash
 * of the body) and, when If-None-Match names it, turns the answer into an
 * empty 304. Call last, after the body and status 200 are final. */
void site_etag_reply(struct req *q);

/* ---- export.c: kiji render's side of the site ------------------------------ */

/* Swaps in a new settings snapshot when the stored settings changed. */
void site_conf_refresh(site *s);
/* In export mode: the settings snapshot c gets the export's base URL and
 * no page cache. */
void site_export_conf(site *s, struct site_conf *c);
void site_export_free(struct site_export *x); /* NULL-safe */
/* site.readonly / site.live in the page's view model (export mode). */
void site_export_view(struct req *q, tv *sd);
/* An anonymous GET of path?query from inside the process (kiji render):
 * the route matched and the query read as the HTTP
 * core would. false when no route matches or the query is malformed. */
bool site_internal_get(site *s, struct http_req *r, const char *path,
    const char *query, int64_t now, arena *a);

/* Whether pages may open the live comment stream (not on a read-only
 * or cross-origin copy). */
bool site_export_streams(const site *s);
/* After a handler: what the page was built from (export mode). */
void site_export_note(struct req *q);
/* Access-Control-Allow-Origin for an Origin in http.origin_allow. */
void site_cors(struct req *q);

/* ---- feeds.c: RSS/Atom feeds and the sitemap ------------------------------ */

/* Site feed (cat_slug NULL) or a category's; atom selects the format. */
void site_feed(struct req *q, const char *cat_slug, bool atom);
/* /sitemap.xml (n == 0): the URL set, or an index when it needs several
 * files; /sitemap-<n>.xml (n >= 1): file n of that index. */
void site_sitemap(struct req *q, int64_t n);

/* ---- live.c: live comments (server-sent events) ------------------------------ */

struct live;
/* The live streams' state; rows above seq are the ones it will be told
 * of. Its thread starts with the first listener. */
struct live *live_new(site *s, int64_t seq);
/* Stops the thread and ends every stream. NULL-safe. */
void live_free(struct live *l);
/* From site_sync (sync_mu held): a batch of change rows, oldest first;
 * the comment rows are sent to the articles' listeners. */
void live_note(struct live *l, const struct store_change *ch, size_t n);
/* Listeners now (metrics, tests). */
size_t live_listeners(struct live *l);
/* GET /articles/<id>/events. */
void site_live_events(struct req *q, int64_t article_id);
/* q->root.live (url, seq, depth, deleted) for an article page, when
 * comments.live is on: where its stream resumes. */
void site_live_view(struct req *q, int64_t article_id);

/* ---- views.c: view beacons and their counts -------------------------------- */

/* Starts the counter and its flushing thread; NULL-free (aborts on OOM). */
struct site_views *site_views_new(site *s);
/* Stops the thread, writes what is still counted, frees. NULL-safe. */
void site_views_free(struct site_views *v);
/* POST /views/<id> (204) or GET /views/<id>.gif (a 1×1 GIF). */
void site_view_beacon(struct req *q, int64_t article_id, bool gif);

/* ---- comments.c ---------------------------------------------------------- */

/* Why a comment was refused. */
enum cerr {
	CE_OK,
	CE_EMPTY_BODY,
	CE_BODY_LONG,
	CE_NICK_LONG,
	CE_BAD_TEXT,      /* control characters, NUL, DEL, C1, noncharacters */
	CE_MARKS,         /* a run of combining marks past the stream-safe
	                   * limit (TEXT_MAX_NONSTARTERS) */
	CE_NICK_BIDI,     /* bidi control characters in the nickname */
	CE_NICK_BLANK,    /* nickname shows nothing (ZWSP, U+3164, NBSP) */
	CE_NICK_CONFUSABLE, /* looks like the default name or a staff name */
	CE_NO_PARENT,     /* unknown, other article, not approved */
	CE_TOKEN_MISSING,
	CE_TOKEN_INVALID,
	CE_TOKEN_EXPIRED,
	CE_TOO_FAST,      /* JS stamp younger than the minimum fill time */
	CE_SPAM,          /* honeypot filled, malformed stamp */
	CE_NG,            /* NG word with ng_action = reject */
	CE_CLOSED,
	CE_RATE,          /* per-IP token bucket empty (Retry-After set) */
	CE_CROSS_ORIGIN,
	CE_BAD_JSON,
	CE_STORE,         /* database busy or failing */
	CE_CANNOT_SAVE,   /* database full or read-only: said plainly */
	CE_EMAIL_INVALID, /* the e-mail field is not a plain address */
	CE_EMAIL_MISSING, /* notify asked for without an address */
	CE__MAX
};

/* One comment as submitted (form or JSON), before validation. */
struct comment_in {
	const char *nickname;
	const char *body;
	const char *token;
	const char *honeypot;
	const char *opened; /* JS stamp: epoch seconds the form was opened */
	const char *email;  /* for reply notifications (mail.c); NULL: none */
	bool notify;        /* the reader asked for reply notifications */
	int64_t parent;
};
/*
 * The JSON API's body (len bytes) as a comment_in, strings in a. false
 * (in zeroed) unless it is one JSON object (valid UTF-8, no duplicate
 * key) whose "nickname", "body", "token", "url", "opened" and "email"
 * are absent (NULL) or strings, whose "notify" is absent or a boolean,
 * and whose "parent" is absent, null or an integer >= 0; other keys are
 * ignored. A string holding U+0000 becomes "\x01",
 * which comment_check refuses as invalid text (commentjson.c).
 */
bool comment_in_from_json(arena *a, const char *body, size_t len,
    struct comment_in *in);

/* A validated comment on its way to the disk (writer.c), in the request
 * arena: the handler's stack frame is gone when it is finished. */
enum post_kind { POST_COMMENT, POST_LIKE, POST_UNLIKE, POST__MAX };
struct post {
	enum post_kind kind;
	struct req q;
	struct store_article art;
	struct comment_in in;
	struct store_comment cm;
	const char *email;    /* a checked address to subscribe (comment_check:
	                       * notify asked for and mail on), else NULL */
	bool api;             /* answer JSON (else 303 / the form page) */
	const char *visitor;  /* likes: who */
	int64_t count;        /* likes: the count after, set by the writer */
	enum store_err err;   /* set by the writer */
	bool synced;          /* the writer synced the site after its commit
	                       * (else the finish does, site_sync) */
	void *deferred;       /* http_defer handle */
	struct post *next;    /* writer queue */
};
struct writer;
struct writer *writer_new(store *st);
bool writer_submit(struct writer *w, struct post *p, void (*finish)(void *));
/* Writes one post (comment, like, unlike) and sets p->err (and p->count). */
void writer_apply(store *st, struct post *p);
void writer_stop(struct writer *w);
void writer_free(struct writer *w);
/* Batch sizes and commit latencies for /metrics. */
void writer_metrics(struct writer *w, buf *out);

/* The refresh thread of pages that keep changing (refresh.c). */
struct refresher;
struct refresher *refresher_new(site *s);
/* Queues the refresh of the page under key (cache_get's bg claim); false
 * when it cannot be queued: the caller renders it. */
bool refresher_submit(struct refresher *f, const char *key);
void refresher_free(struct refresher *f); /* stops and joins; NULL-safe */
/* Refreshes made by the thread, and handed back to their reader. */
void refresher_counts(struct refresher *f, uint64_t *done, uint64_t *back);
/* site_handle for a refresh: renders and puts key's page, never
 * answering it from the cache (router.c). */
void site_handle_refresh(site *s, struct http_req *r, struct http_resp *w);

int cerr_status(enum cerr e);
/* The API's error code of e ("rate_limited"...), also the metrics label. */
const char *cerr_code(enum cerr e);
/* The refusal a store error on a write means (CE_OK for STORE_OK). */
enum cerr cerr_from_store(enum store_err e);
const char *cerr_message(struct req *q, enum cerr e);
/* The reader's visitor id: the kiji_v cookie's, a new one (issue, within
 * the address's visitors.rate_*), or the address's (comments.c). */
const char *visitor_get(struct req *q, bool issue);
/* Whether the visitor has their own state (a pending comment, likes) on
 * article_id, or on any article when article_id is 0. */
bool visitor_has_pending(struct req *q, int64_t article_id);
/* Validates one comment into *out and *email (the address to subscribe,
 * or NULL). */
enum cerr comment_check(struct req *q, const struct store_article *art,
    const struct comment_in *in, struct store_comment *out,
    const char **email);
void comment_submit(struct req *q, const struct store_article *art,
    const struct comment_in *in, bool api);
void site_post_comment(struct req *q, int64_t article_id);
void site_post_like(struct req *q, int64_t cid, bool like);
void site_refuse_cross_origin(struct req *q);
void site_api_comments(struct req *q, int64_t article_id);
void site_api_post_comment(struct req *q, int64_t article_id);
void api_error(struct req *q, enum cerr e);
void api_error_status(struct req *q, int status, const char *code,
    const char *msg);
void site_comment_feed(struct req *q, int64_t article_id);
/* A comment feed's article and comments; false when answered 404/503. */
bool site_comment_feed_rows(struct req *q, int64_t article_id,
    struct store_article *art, struct store_comment **cs, size_t *n);
/* t as RFC 822 (RSS) or RFC 3339 (Atom, sitemaps), arena-allocated. */
const char *site_feed_date(struct req *q, int64_t t, bool rfc3339);

/* ---- mail.c: reply notifications by e-mail ------------------------------------- */

/* Whether the settings let kiji send mail (mail.smtp_url and mail.from). */
bool site_mail_on(const struct site_conf *c);
/* The e-mail field of a comment: CE_OK with *addr the address to
 * subscribe (NULL when none is to be: notify not asked for, or mail off),
 * CE_EMAIL_INVALID or CE_EMAIL_MISSING. */
enum cerr site_mail_check(struct req *q, const struct comment_in *in,
    const char **addr);
/* After the writer stored p's comment (inside its transaction): the
 * subscription (and its confirmation mail) and the owner's mail. A
 * failure here is logged and never undoes the comment. */
void site_mail_after_post(struct post *p);
/* GET and POST /mail/confirm, /mail/unsubscribe (signed links). */
void site_mail_confirm(struct req *q);
void site_mail_unsubscribe(struct req *q);

/* ---- screen.c: what comments and pings both pass ----------------------------- */

/* Takes one token of limiter l for ip's rate-limit key (http_ip_key: the
 * IPv4 address, the IPv6 /64) on the monotonic clock; false with
 * *retry_after (seconds) when the bucket is empty. */
bool screen_take(guard_limiter *l, const char *ip, int *retry_after);
/* s NFC-normalised into a (CRLF → LF, single line when !multiline, white
 * space and U+3000 trimmed at both ends); NULL when s is not clean UTF-8
 * text (text_check: control characters, invalid bytes, noncharacters, a
 * run of combining marks past the stream-safe limit), *why (when not
 * NULL) then saying which. Linear in strlen(s): nothing is normalised
 * before the check passes. */
const char *screen_text(arena *a, const char *s, bool multiline,
    enum text_bad *why);
/* The rules of a reader's nickname (NFC, from screen_text, not empty):
 * no bidi controls, something visible, not confusable with the default
 * name (unless it is that name) or a staff account's display name.
 * CE_OK, CE_NICK_BIDI, CE_NICK_BLANK, CE_NICK_CONFUSABLE or CE_STORE. */
enum cerr screen_nickname(store *st, const struct site_conf *c,
    const char *nick, arena *a);
/* Whether ip or visitor (NULL: none) is banned: exact bans in one read,
 * ranges matched here; a failing read bans nobody. */
bool screen_banned(store *st, const char *ip, const char *visitor, arena *a);
/* The status a submission gets from the moderation setting (visitor's
 * first: by store_visitor_approved) and NG words in any of texts (NULL
 * entries skipped): false when an NG word matched and ng_action is
 * reject; else *status and *reason (why pending, "" when approved). */
bool screen_moderate(store *st, const struct site_conf *c,
    const guard_ngwords *ng, const char *visitor, const char *const *texts,
    size_t ntexts, enum store_cstatus *status, const char **reason);

/* ---- pings.c: TrackBack, Pingback and Webmention received ---------------- */

/* The pool of threads that fetch ping sources off the event loops. */
struct ping_pool;
struct ping_pool *ping_pool_new(void);
/* Answers what is queued ("busy" for what no thread has started), then
 * stops the threads; before http_stop. */
void ping_pool_stop(struct ping_pool *p);
void ping_pool_free(struct ping_pool *p); /* NULL-safe */
/* POST /articles/<id>/trackback (id > 0) and /wp-trackback.php?p= (id 0). */
void site_ping_trackback(struct req *q, int64_t article_id);
/* POST /xmlrpc and /xmlrpc.php: XML-RPC pingback.ping. */
void site_ping_xmlrpc(struct req *q);
/* POST /webmention: checked now, verified later by a job (202). */
void site_ping_webmention(struct req *q);
/* The article page's ping discovery: X-Pingback and Link headers, and
 * q->root.article's pingback_url, webmention_url, trackback_url and
 * trackback_rdf (TrackBack auto-discovery, a comment of trusted XML). */
void site_ping_discovery(struct req *q, const struct store_article *art);

/* pingurl.c: a URL split for comparing with site.base_url: scheme and
 * host folded to lower case, the port given only when not the scheme's
 * default, path ("/" when empty) and query as written (fragment dropped).
 * false when not an absolute http(s) URL with a host, or with user@,
 * white space, control bytes or invalid UTF-8 in it, or over 2,048 bytes. */
struct ping_url {
	const char *scheme;
	const char *host; /* host[:port] */
	const char *path;
	const char *query; /* "" when none */
};
bool ping_url_parse(arena *a, const char *url, struct ping_url *out);

/* ---- observe.c: /metrics, /healthz, /readyz, the site's counters ---------- */

/* Why a like (or unlike) was refused; LIKE_OK when it was taken. */
enum like_refusal {
	LIKE_OK,
	LIKE_RATE,        /* likes.rate_per_minute */
	LIKE_NOT_FOUND,   /* no such approved comment */
	LIKE_UNAVAILABLE, /* database busy or failing */
	LIKE_CANNOT_SAVE, /* database full or read-only */
	LIKE__MAX
};
struct site_obs;
/* Registers the site's part of /metrics; freed (and removed) by
 * site_obs_free. */
struct site_obs *site_obs_new(site *s);
void site_obs_free(struct site_obs *o); /* NULL-safe */
/* A comment answered: e (CE_OK: stored, pending or approved). */
void site_obs_comment(site *s, enum cerr e, bool pending);
void site_obs_like(site *s, bool like, enum like_refusal why);
/* Applies log.level and the access log settings of c. */
void site_obs_conf(site *s, const struct site_conf *c);
void site_metrics(struct req *q);
void site_healthz(struct req *q);
void site_readyz(struct req *q);

/* ---- recent.c: the site's recent comments ------------------------------------ */

/* site_sync read comment change seq (the caller holds sync_mu). */
void site_recent_note(site *s, int64_t seq);
/* Once comments.recent_refresh seconds have passed since the first
 * change noted, marks the pages showing recent comments stale (every
 * request calls it: one atomic load when nothing is due). */
void site_recent_tick(struct req *q);
/* The recent-comments block into q->root.recent (and its feed link),
 * for listings; nothing when comments.recent_count is 0. */
void site_view_recent(struct req *q);
/* GET /comments?page=N, GET /comments/feed (RSS 2.0). */
void site_page_comments(struct req *q);
void site_recent_feed(struct req *q);
/* GET /articles/<id>/feed/atom: the article's comments as Atom. */
void site_comment_feed_atom(struct req *q, int64_t article_id);

/* ---- legacy.c: old (WordPress) URLs answered with 301 ---------------------- */

/* A GET no route matched (from the 404 page, after the redirects table):
 * kiji URLs with a trailing slash and WordPress permalinks. True when
 * answered with a 301. */
bool site_legacy_path(struct req *q);
/* "/" with ?p=, ?page_id=, ?feed= or ?s=: true when answered (301, or
 * 404 for an unknown id); false when none of the keys is there. */
bool site_legacy_query(struct req *q);
/* A stored redirect's target made current: "/articles/<id>" of a page
 * becomes its /pages/ URL; anything else is kept as it is. */
const char *site_legacy_target(struct req *q, const char *to);

/* ---- cview.c, cpage.c: comment threads sorted and paged (?csort= ?cpage=) -- */

enum csort { CSORT_OLD, CSORT_NEW, CSORT_LIKES, CSORT__MAX };
/* "old", "new", "likes" → enum csort; -1 for anything else. */
int csort_parse(const char *s);
const char *csort_name(enum csort s);

/*
 * The comments of one article grouped in threads (a comment and every
 * comment under it), threads in sort order, each thread's comments in
 * the store's (time) order. A comment whose parent is not among the
 * earlier ones starts its own thread, as the page shows it at the top.
 */
struct cthreads {
	size_t nthreads;
	size_t *order;     /* n comment indexes, thread after thread */
	size_t *start;     /* nthreads + 1 offsets into order */
	size_t *thread_of; /* comment index → thread number in sort order */
	size_t norphans;   /* replies whose parent is not among the earlier
	                    * comments (each starts a thread) */
};
/* Builds t for cs[0, n) (created_at, id order) in the arena. */
void cthreads_build(struct cthreads *t, const struct store_comment *cs,
    size_t n, enum csort s, arena *a);
/* Pages of nthreads threads at per a page (per 0: one page); at least 1. */
int64_t cthreads_pages(size_t nthreads, int64_t per);
/* "/articles/<id>" with ?csort= (when not def) and ?cpage= (when > 1),
 * in that order: the one spelling of a comment view. */
const char *cpage_url(arena *a, int64_t article_id, enum csort s,
    enum csort def, int64_t page);

/* A comment view: its order and page (from 1). */
struct cview {
	enum csort sort;
	int64_t page;
};
enum cview_verdict {
	CVIEW_OK,       /* a view, spelled canonically */
	CVIEW_MOVED,    /* a view spelled otherwise: 302 to cpage_url */
	CVIEW_NOTFOUND, /* no view: 404 */
};
/* Reads ?csort= and ?cpage= from a request's arguments into v (def and 1
 * when absent). NOTFOUND for an unknown sort, a page that is not
 * 1..999999 in plain decimal, or either name twice; MOVED for the default
 * sort or page 1 spelled out, or cpage before csort. Pure (cview.c). */
/* A page number (?page=, ?cpage=): 1..999999 spelled one way, else 0. */
int64_t site_page_number(const char *p);
/* The request's ?name= page number: 1 when absent, 0 when malformed. */
int64_t site_page_arg(struct req *q, const char *name);
enum cview_verdict cview_args(const struct http_kv *args, size_t n,
    enum csort def, struct cview *v);

/* An article GET's ?csort= / ?cpage= read into q->cp.
 * False when answered: 404 for values that are no view (unknown sort,
 * malformed or zero page, a repeated name), 302 to the canonical URL for
 * a default spelled out (the default sort, page 1) or cpage before csort. */
bool cpage_read(struct req *q);
/* The cache key's suffix of the view cpage_read took: "" for the
 * default view, else "?csort=...&cpage=..." (cpage_url's spelling). */
const char *cpage_key_suffix(struct req *q);
/*
 * The comments (every type) the article page shows visitor: with comment
 * pages (comments.per_page), only those of the page q asks for in thread
 * order plus the trackbacks, read by their places first (q->cp.cut);
 * else store_comments_for_article's. q->cp.gone when the page is past the
 * last.
 */
enum store_err cpage_comments(struct req *q, int64_t article_id,
    const char *visitor, struct store_comment **out, size_t *n);
/* Orders and cuts cs[0, n) (readers' comments of article_id, the store's
 * order) to the page q asks for: reorders cs in place so that the page's
 * comments come first and returns how many; sets q->root's sort links,
 * comment pagination, rel=prev/next and canonical. Sets q->cp.gone when
 * the page is past the last. */
size_t cpage_slice(struct req *q, int64_t article_id, struct store_comment *cs,
    size_t n);
/* Where comment cid of art is shown to visitor (NULL: anyone): its page in
 * the default sort and its anchor, e.g. "/articles/7?cpage=3#comment-90". */
const char *cpage_comment_url(struct req *q, const struct store_article *art,
    int64_t cid, const char *visitor);
/* GET /comments/<cid>: 302 to cpage_comment_url, 404 when not shown. */
void site_comment_goto(struct req *q, int64_t cid);

#endif
