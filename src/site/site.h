/*
 * site: the handlers (article, archives, static, errors ...), settings
 * with their defaults, the message table and the demo-site generator.
 * Sits above http/, store/, render/ and text/.
 */
#ifndef KIJI_SITE_H
#define KIJI_SITE_H

#include <stdbool.h>
#include <stdint.h>

#include "../http/http.h"
#include "../jobs/jobs.h"
#include "../store/store.h"
#include "../text/text.h"

/* ---- settings (conf.c) -------------------------------------------------------- */

/*
 * Every tunable lives in the settings table; this is the list of keys with
 * their defaults, types and bounds. A site_conf is an immutable snapshot
 * of all of them, rebuilt when the database changes.
 */
enum conf_key {
	CONF_TITLE,          /* site.title */
	CONF_TAGLINE,        /* site.tagline */
	CONF_BASE_URL,       /* site.base_url: absolute URLs, never from Host */
	CONF_TIMEZONE,       /* site.timezone: IANA name */
	CONF_LANG,           /* site.lang: ja | en (message table) */
	CONF_PER_PAGE,       /* listing.per_page */
	CONF_EXCERPT_LEN,    /* listing.excerpt_length: grapheme clusters */
	CONF_RELATED_COUNT,  /* related.count */
	CONF_RANK_COUNT,     /* ranking.count */
	CONF_RANK_TITLE_LEN, /* ranking.title_length: grapheme clusters */
	CONF_RANK_WINDOW,    /* ranking.window: day | week | month */
	CONF_DISPLAY_DEPTH,  /* comments.display_depth */
	CONF_DEFAULT_NAME,   /* comments.default_name */
	CONF_MODERATION,     /* comments.moderation: none | first | all */
	CONF_MAX_NICKNAME,   /* comments.max_nickname: characters */
	CONF_MAX_COMMENT,    /* comments.max_body: characters */
	CONF_NGWORDS,        /* comments.ngwords: comma/newline separated */
	CONF_NG_ACTION,      /* comments.ng_action: pending | reject */
	CONF_COMMENT_RATE,   /* comments.rate_per_minute per IP; 0 = off */
	CONF_COMMENT_BURST,  /* comments.rate_burst */
	CONF_TOKEN_HOURS,    /* comments.token_hours: form token lifetime */
	CONF_MIN_FILL,       /* comments.min_fill_seconds (when JS stamps) */
	CONF_DAILY_ID,       /* comments.daily_id: 0 | 1 */
	CONF_LIKE_RATE,      /* likes.rate_per_minute per address; 0 = off */
	CONF_LIKE_BURST,     /* likes.rate_burst */
	CONF_CACHE_BYTES,    /* cache.max_bytes: page cache budget, 0 = off */
	CONF_CACHE_TTL,      /* cache.ttl: seconds a cached page lives */
	CONF_PURGE_URL,      /* cache.purge_url: CDN purge hook, "" = off */
	CONF_HTTP_THREADS,   /* http.threads: 0 = number of cores */
	CONF_HTTP_TIMEOUT,   /* http.timeout: seconds */
	CONF_HTTP_PER_IP,    /* http.per_ip_limit: connections, 0 = none */
	CONF_HTTP_MAX_BODY,  /* http.max_body: bytes */
	CONF_TRUSTED_PROXIES,/* http.trusted_proxies: space-separated IPs */
	CONF_HTTP_HEADER_TIMEOUT, /* http.header_timeout: s for a whole head */
	CONF_HTTP_BODY_TIMEOUT,   /* http.body_timeout: s for a body (+1/64 KiB) */
	CONF_HTTP_MAX_CONNS, /* http.max_connections: global budget */
	CONF_HTTP_MAX_STREAMS,    /* http.max_streams: open event streams */
	CONF_HTTP_STREAMS_PER_IP, /* http.streams_per_ip */
	CONF_CSP_FORM_ACTION,/* http.csp_form_action: extra sources */
	CONF_CSP_CONNECT_SRC,/* http.csp_connect_src: extra sources */
	CONF_ORIGIN_ALLOW,   /* http.origin_allow: extra same origins */
	CONF_FEED_FULL,      /* feed.full_content: 0 | 1 (else excerpts only) */
	CONF_FEED_ITEMS,     /* feed.items: entries per feed */
	CONF_VIEWS_FLUSH,    /* views.flush_seconds: view counts to the store */
	CONF_VIEW_RATE,      /* views.rate_per_minute: beacons per address */
	CONF_VIEW_BURST,     /* views.rate_burst */
	CONF_VISITOR_RATE,   /* visitors.rate_per_minute: new ids per address */
	CONF_VISITOR_BURST,  /* visitors.rate_burst */
	CONF_SITEMAP_URLS,   /* sitemap.urls_per_file: more → a sitemap index */
	CONF_SESSION_IDLE,   /* admin.session_idle_minutes: idle logout */
	CONF_SESSION_MAX,    /* admin.session_max_hours: absolute logout */
	CONF_AUTHORS_PUBLISH,/* admin.authors_publish: 0 | 1 */
	CONF_UPLOAD_MAX,     /* admin.upload_max: bytes of one image upload */
	CONF_NET_ALLOW_LOOPBACK, /* net.allow_loopback: 0 | 1 (tests only) */
	CONF_PINGS_FETCH_TIMEOUT, /* pings.fetch_timeout: s per source fetch */
	CONF_PINGS_HOST_RATE,     /* pings.fetches_per_host_minute */
	CONF_EMBEDS,         /* content.embeds: off | youtube (CSP at start) */
	CONF_PRIVACY_IP_DAYS,/* privacy.ip_days: commenters' IPs kept, 0 = ever */
	CONF_LOG_LEVEL,      /* log.level: error | warn | info | debug */
	CONF_LOG_ACCESS,     /* log.access: on | off */
	CONF_LOG_FORMAT,     /* log.format: combined | json */
	CONF_LOG_ACCESS_FILE,/* log.access_file: absolute path, "" = stdout */
	CONF_LOG_SAMPLE,     /* log.access_sample: one request in N */
	CONF_LOG_IP_MASK,    /* log.ip_mask: 0 | 1 (/24, /48) */
	CONF_METRICS_ALLOW,  /* metrics.allow: CIDRs that may read /metrics */
	CONF_CACHE_COALESCE, /* cache.coalesce: hold a hot page N x its refresh */
	CONF_CACHE_HOLD_MIN, /* cache.hold_min_ms: ... and at least this long */
	CONF_RECENT_COUNT,   /* comments.recent_count: block size, 0 = hidden */
	CONF_RECENT_REFRESH, /* comments.recent_refresh: s the block may lag */
	CONF_COMMENT_SORT,   /* comments.sort: old | new | likes (threads) */
	CONF_COMMENT_PER_PAGE, /* comments.per_page: threads a page, 0 = all */
	CONF_LIVE,           /* comments.live: 0 | 1 (server-sent events) */
	CONF_LIVE_HEARTBEAT, /* comments.live_heartbeat: seconds of silence */
	CONF_MAIL_SMTP_URL,  /* mail.smtp_url: smtp[s]://host[:port], "" = off */
	CONF_MAIL_SMTP_USER, /* mail.smtp_user */
	CONF_MAIL_SMTP_PASSWORD, /* mail.smtp_password */
	CONF_MAIL_FROM,      /* mail.from: the sender address */
	CONF_MAIL_BATCH,     /* mail.batch_seconds: replies gathered into one */
	CONF_MAIL_DAILY_MAX, /* mail.daily_max: reply mails per address a day */
	CONF_MAIL_CONFIRM_MAX, /* mail.confirm_max: confirmations a day */
	CONF_MAIL_OWNER_NOTIFY, /* mail.owner_notify: none | all | pending */
	CONF_MAIL_OWNER_ADDRESS, /* mail.owner_address */
	CONF__MAX
};

enum conf_type { CONF_STR, CONF_INT, CONF_ENUM, CONF_TYPE__MAX };

struct conf_def {
	const char *key;
	enum conf_type type;
	const char *def;
	long min, max;       /* CONF_INT bounds; CONF_STR max length */
	const char *choices; /* CONF_ENUM: "day|week|month" */
	const char *help;
};
extern const struct conf_def conf_defs[CONF__MAX];

struct site_conf {
	char *str[CONF__MAX]; /* every value as text */
	long num[CONF__MAX];  /* CONF_INT values */
};

/* A password (mail.smtp_password): never shown (config list/get, the
 * admin's settings page), only replaced. */
bool conf_secret(enum conf_key k);
/* Finds a key; CONF__MAX when unknown. */
enum conf_key conf_find(const char *key);
/* Checks a value against the key's type and bounds; false with a reason. */
bool conf_valid(enum conf_key k, const char *value, buf *why);
/* Snapshot of all settings (defaults where unset or invalid). */
struct site_conf *conf_load(store *st);
void conf_free(struct site_conf *c);

/* ---- messages (msg.c) ------------------------------------------------------------ */

enum msg_id {
	MSG_COMMENTS, MSG_TRACKBACKS, MSG_NO_TRACKBACKS, MSG_RELATED,
	MSG_RANKING, MSG_PREV, MSG_NEXT, MSG_PAGE_TOP, MSG_SOURCE,
	MSG_RELATED_LINK, MSG_EYECATCH_CREDIT, MSG_REPLY, MSG_LIKE,
	MSG_LEAVE_COMMENT, MSG_NICKNAME, MSG_BODY, MSG_SUBMIT, MSG_LATEST,
	MSG_CATEGORY, MSG_TAG, MSG_PAGE_N, MSG_NEWER, MSG_OLDER,
	MSG_NOT_FOUND, MSG_NOT_FOUND_TEXT, MSG_BAD_REQUEST,
	MSG_BAD_REQUEST_TEXT, MSG_BACK_HOME, MSG_NO_COMMENTS, MSG_COMMENT_COUNT,
	MSG_READ_MORE, MSG_HOME, MSG_POSTED_BY, MSG_TOO_MANY,
	MSG_TOO_MANY_TEXT, MSG_UNAVAILABLE, MSG_UNAVAILABLE_TEXT, MSG_PENDING,
	MSG_REPLY_TO, MSG_CANCEL_REPLY, MSG_UNLIKE, MSG_FIX_AND_RESEND,
	MSG_BACK_TO_ARTICLE, MSG_COMMENT_FEED, MSG_COMMENTS_CLOSED,
	MSG_RANKING_DAY, MSG_RANKING_WEEK, MSG_RANKING_MONTH, MSG_VIEWS,
	MSG_RANKING_MORE, MSG_NO_RANKING, MSG_ARTICLES_OF, MSG_FEED,
	MSG_SEARCH, MSG_SEARCH_LABEL, MSG_SEARCH_PLACEHOLDER, MSG_SEARCH_RESULTS,
	MSG_SEARCH_COUNT, MSG_SEARCH_ENTER, MSG_SEARCH_NONE, MSG_SEARCH_TRIMMED,
	MSG_DELETED, MSG_PREVIEW_BANNER, MSG_TRACKBACK_URL,
	MSG_BREADCRUMBS, MSG_SUBPAGES,
	MSG_SEARCH_ORDER, MSG_SEARCH_NEWEST, MSG_SEARCH_RELEVANCE,
	MSG_SEARCH_COUNT_MORE,
	MSG_RECENT_COMMENTS, MSG_RECENT_ON, MSG_RECENT_MORE,
	MSG_CSORT, MSG_CSORT_OLD, MSG_CSORT_NEW, MSG_CSORT_LIKES, MSG_CPAGES,
	MSG_CPAGE_PREV, MSG_CPAGE_NEXT,
	MSG_EMAIL, MSG_NOTIFY,
	MSG__MAX
};
enum msg_lang { LANG_JA, LANG_EN, LANG__MAX };
/* The UI string for id in lang (UTF-8, static). */
const char *msg_get(enum msg_lang lang, enum msg_id id);
/* The template key of id, e.g. "comments" (templates say {{msg.comments}}). */
const char *msg_key(enum msg_id id);
enum msg_lang msg_lang_of(const char *code);

/* ---- the web site (site.c) --------------------------------------------------------- */

typedef struct site site;

/* Loads the theme (compiled-in, or from theme_dir when not NULL: a folder
 * holding templates/ and static/) and the settings. NULL with err. */
site *site_new(store *st, const char *theme_dir, buf *err);
void site_free(site *s); /* NULL-safe */
/* Answers queued comment posts and takes no more through the group-commit
 * writer; call before http_stop (MHD cannot stop with suspended
 * connections). Later posts are written one by one. */
void site_quiesce(site *s);
/* The http_handler for every request (ctx is the site). */
void site_handle(void *ctx, struct http_req *r, struct http_resp *w);
/* Server settings from the site's configuration. */
void site_http_config(site *s, struct http_config *cfg);

/* ---- static export (export.c; kiji render is src/cli/render.c) -------------- */

struct site_export_opts {
	const char *base_url;    /* the copy's base URL; NULL: site.base_url */
	const char *live_origin; /* forms, likes and search go there; NULL:
	                          * a read-only copy (no forms, no search) */
};
/* Puts s in export mode, before its first render: the base URL given,
 * no page cache, pages marked for the copy (templates read site.readonly
 * and site.live; a live origin equal to the base URL's is the server's
 * own page). */
bool site_export_begin(site *s, const struct site_export_opts *o, buf *err);

/* What a static copy holds for a URL. */
enum site_xkind {
	SITE_X_NO,    /* nothing: forms, search, API, beacons, admin */
	SITE_X_HTML,  /* a page: <path>/index.html */
	SITE_X_PAGED, /* a listing, ?page=N too: <path>[/page/N]/index.html */
	SITE_X_FEED,  /* a feed: <path>/index.xml */
	SITE_X_FILE,  /* a file at its own path: static, media, robots.txt,
	               * sitemaps */
	SITE_X__MAX
};
struct site_xpage {
	int status;
	const char *content_type; /* arena */
	buf body;                 /* the caller frees it */
	const char *location;     /* a redirect's target, or NULL */
	enum site_xkind kind;
	int64_t tags[96];         /* the page cache's tags of what it shows */
	size_t ntags;
	bool untagged;            /* no tags: render again every time */
};
/* The base URL the pages are rendered with (the caller frees it). */
char *site_export_base_url(site *s);
/* What a static copy makes of the GET route matching path. */
enum site_xkind site_export_kind(site *s, const char *path, arena *a);
/* Renders GET path?query (decoded path, raw query) through site_handle
 * at time now; false when the route is not exported. */
bool site_export_get(site *s, const char *path, const char *query,
    int64_t now, arena *a, struct site_xpage *out);
/* The page-cache tags a change makes stale, as site_sync drops them
 * (up to 4 into out); -1 when it makes every page stale. */
int site_change_tags(const struct store_change *ch, int64_t out[4]);
/* The monthly archive paths with articles, which no page links. */
bool site_export_months(site *s, int64_t now, arena *a, const char ***out,
    size_t *n);

/* ---- what kiji serve tells its operator (observe.c) ------------------------- */

/* The access log file of the site at db (log.access_file), or NULL for
 * standard output: kiji serve opens its directory in the sandbox. */
char *site_access_log_file(const char *db);
/* Opens the access log and applies the log settings; false with err. */
bool site_observe_start(site *s, buf *err);
/* Writes what is buffered and closes the access log (after http_stop). */
void site_observe_stop(site *s);
/* SIGHUP: reopens the access log (logrotate moved it) and reads the
 * --theme directory again (a theme that does not load is refused, the
 * old one kept), saying what it did in the error log. */
void site_on_sighup(site *s);
/* --metrics-listen: /metrics, /healthz and /readyz alone, on the socket
 * fd bound to addr (owned by the server); stop with http_stop before
 * site_free. NULL with err. */
http_server *site_metrics_start(site *s, const char *addr, int fd, buf *err);

/* ---- received pings (pings.c) ------------------------------------------------ */

/*
 * The "webmention" job (payload {"source":…,"target":…,"ip":…}, key
 * "webmention:" and a hash of the pair): fetches the source; when it links
 * to the target the mention is added (through the comments' NG words,
 * bans and moderation, settings read from st) or its title and excerpt
 * updated; when the source is gone (404, 410) or no longer links, the
 * mention is removed. Network trouble and 5xx answers are retried.
 */
enum jobs_outcome site_job_webmention(store *st, const char *payload,
    int64_t now, buf *err);

/* ---- privacy (privacy.c) ------------------------------------------------------ */

/*
 * The daily "privacy" job (payload {}, key "privacy:" and the UTC day
 * number): erases the IP addresses of comments older than privacy.ip_days
 * (read from st; 0 keeps them), then adds the next day's job. Idempotent.
 */
/* Reply notifications by e-mail (mail.c): "mail-confirm" (the
 * confirmation of an address), "mail-replies" (one address's batch of
 * replies), "mail-owner" (the owner's mail about a comment). */
enum jobs_outcome site_job_mail_confirm(store *st, const char *payload,
    int64_t now, buf *err);
enum jobs_outcome site_job_mail_replies(store *st, const char *payload,
    int64_t now, buf *err);
enum jobs_outcome site_job_mail_owner(store *st, const char *payload,
    int64_t now, buf *err);
enum jobs_outcome site_job_privacy(store *st, const char *payload,
    int64_t now, buf *err);
/* Makes sure today's "privacy" job exists (kiji serve calls it at start:
 * a server that was down over midnight catches up). */
enum store_err site_privacy_schedule(store *st, int64_t now);

/* ---- demo site (demo.c) ----------------------------------------------------- */

struct site_demo_opts {
	int64_t articles; /* number of posts */
	int64_t comments; /* average comments per article */
	uint64_t seed;    /* same seed + same now = same site */
	int64_t now;      /* dates are laid out backwards from here */
	bool progress;    /* draw a progress bar on stderr */
};

/* Writes a deterministic synthetic Japanese news site into an empty store
 * (settings, users, categories, tags, articles, media, comments, views).
 * false with a message in err on failure. */
bool site_demo(store *st, const struct site_demo_opts *o, buf *err);

#endif
