/* Settings: the list of keys with defaults and bounds, and snapshots. */
#include "site.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../mail/mail.h"

const struct conf_def conf_defs[CONF__MAX] = {
	[CONF_TITLE] = {"site.title", CONF_STR, "kiji", 0, 200, NULL,
	    "site name shown in the header, titles and feeds"},
	[CONF_TAGLINE] = {"site.tagline", CONF_STR, "", 0, 400, NULL,
	    "one line under the site name"},
	[CONF_BASE_URL] = {"site.base_url", CONF_STR, "http://127.0.0.1:8080", 0, 400,
	    NULL, "absolute URL of the site (canonical links, feeds); no trailing /"},
	[CONF_TIMEZONE] = {"site.timezone", CONF_STR, "Asia/Tokyo", 0, 64, NULL,
	    "IANA time zone for dates shown to readers"},
	[CONF_LANG] = {"site.lang", CONF_ENUM, "ja", 0, 0, "ja|en",
	    "language of the interface strings"},
	[CONF_PER_PAGE] = {"listing.per_page", CONF_INT, "20", 1, 100, NULL,
	    "articles per listing page"},
	[CONF_EXCERPT_LEN] = {"listing.excerpt_length", CONF_INT, "60", 10, 1000,
	    NULL, "excerpt length in characters (grapheme clusters)"},
	[CONF_RELATED_COUNT] = {"related.count", CONF_INT, "6", 0, 24, NULL,
	    "related articles under an article"},
	[CONF_RANK_COUNT] = {"ranking.count", CONF_INT, "5", 0, 20, NULL,
	    "articles in the popular ranking"},
	[CONF_RANK_TITLE_LEN] = {"ranking.title_length", CONF_INT, "40", 5, 200,
	    NULL, "ranking titles are cut to this many characters"},
	[CONF_RANK_WINDOW] = {"ranking.window", CONF_ENUM, "week", 0, 0,
	    "day|week|month", "period of views the ranking counts"},
	[CONF_DISPLAY_DEPTH] = {"comments.display_depth", CONF_INT, "5", 1, 10,
	    NULL, "replies deeper than this are shown at this depth"},
	[CONF_DEFAULT_NAME] = {"comments.default_name", CONF_STR, "名無しさん", 1,
	    100, NULL, "nickname used when a commenter leaves it empty"},
	[CONF_MODERATION] = {"comments.moderation", CONF_ENUM, "none", 0, 0,
	    "none|first|all", "hold comments for approval: none, a visitor's "
	    "first comment, or all"},
	[CONF_MAX_NICKNAME] = {"comments.max_nickname", CONF_INT, "40", 1, 200,
	    NULL, "longest nickname, characters"},
	[CONF_MAX_COMMENT] = {"comments.max_body", CONF_INT, "4000", 10, 100000,
	    NULL, "longest comment, characters"},
	[CONF_NGWORDS] = {"comments.ngwords", CONF_STR, "", 0, 100000, NULL,
	    "NG words, comma or newline separated (matched after NFKC)"},
	[CONF_NG_ACTION] = {"comments.ng_action", CONF_ENUM, "pending", 0, 0,
	    "pending|reject", "what an NG word does to a comment"},
	[CONF_COMMENT_RATE] = {"comments.rate_per_minute", CONF_INT, "6", 0,
	    100000, NULL, "comment posts per minute per address (an IPv6 /64); 0 = unlimited"},
	[CONF_COMMENT_BURST] = {"comments.rate_burst", CONF_INT, "5", 1, 100000,
	    NULL, "comment posts an address may make at once"},
	[CONF_TOKEN_HOURS] = {"comments.token_hours", CONF_INT, "48", 1, 8760,
	    NULL, "hours a comment form stays valid after the page was made"},
	[CONF_MIN_FILL] = {"comments.min_fill_seconds", CONF_INT, "3", 0, 600,
	    NULL, "fastest a form may be filled in (checked when JS is on)"},
	[CONF_DAILY_ID] = {"comments.daily_id", CONF_ENUM, "0", 0, 0, "0|1",
	    "show a daily poster ID (hash of IP and date) by the nickname"},
	[CONF_LIKE_RATE] = {"likes.rate_per_minute", CONF_INT, "120", 0, 100000,
	    NULL, "likes per minute per address (an IPv6 /64); 0 = unlimited"},
	[CONF_LIKE_BURST] = {"likes.rate_burst", CONF_INT, "60", 1, 100000,
	    NULL, "likes an address may make at once"},
	[CONF_CACHE_BYTES] = {"cache.max_bytes", CONF_INT, "67108864", 0,
	    1073741824, NULL, "page cache budget in bytes; 0 turns the cache off"},
	[CONF_CACHE_TTL] = {"cache.ttl", CONF_INT, "60", 1, 86400, NULL,
	    "seconds a cached page lives (the ranking block refreshes this often)"},
	[CONF_PURGE_URL] = {"cache.purge_url", CONF_STR, "", 0, 400, NULL,
	    "URL that gets a JSON POST {\"paths\": [...]} of changed pages "
	    "(CDN purge); empty: off"},
	[CONF_HTTP_THREADS] = {"http.threads", CONF_INT, "0", 0, 256, NULL,
	    "HTTP worker threads; 0 = number of cores (8 a core on PostgreSQL)"},
	[CONF_HTTP_TIMEOUT] = {"http.timeout", CONF_INT, "30", 1, 3600, NULL,
	    "idle connection timeout, seconds"},
	[CONF_HTTP_PER_IP] = {"http.per_ip_limit", CONF_INT, "256", 0, 100000, NULL,
	    "open connections per client IP (trusted proxies exempt); 0 = no limit"},
	[CONF_HTTP_MAX_BODY] = {"http.max_body", CONF_INT, "1048576", 1024,
	    268435456, NULL, "largest request body accepted, bytes"},
	[CONF_TRUSTED_PROXIES] = {"http.trusted_proxies", CONF_STR, "", 0, 1000,
	    NULL, "space-separated proxy IPs whose X-Forwarded-For is believed"},
	[CONF_HTTP_HEADER_TIMEOUT] = {"http.header_timeout", CONF_INT, "10", 1,
	    600, NULL, "seconds a client has to send a whole request head "
	    "(408 after; read at start)"},
	[CONF_HTTP_BODY_TIMEOUT] = {"http.body_timeout", CONF_INT, "30", 1, 3600,
	    NULL, "seconds a client has to send a request body, plus one per "
	    "64 KiB received (408 after; read at start)"},
	[CONF_HTTP_MAX_CONNS] = {"http.max_connections", CONF_INT, "10000", 16,
	    1000000, NULL, "open connections in all (capped by the open-file "
	    "limit); past it the oldest idle ones are closed (read at start)"},
	[CONF_HTTP_MAX_STREAMS] = {"http.max_streams", CONF_INT, "1000", 1,
	    1000000, NULL, "open event streams in all (read at start)"},
	[CONF_HTTP_STREAMS_PER_IP] = {"http.streams_per_ip", CONF_INT, "8", 1,
	    10000, NULL, "open event streams per client IP (read at start)"},
	[CONF_CSP_FORM_ACTION] = {"http.csp_form_action", CONF_STR, "", 0, 400,
	    NULL, "extra form-action sources in the Content-Security-Policy, "
	    "e.g. a static copy's origin (read at start)"},
	[CONF_CSP_CONNECT_SRC] = {"http.csp_connect_src", CONF_STR, "", 0, 400,
	    NULL, "extra connect-src sources in the Content-Security-Policy "
	    "(read at start)"},
	[CONF_ORIGIN_ALLOW] = {"http.origin_allow", CONF_STR, "", 0, 1000, NULL,
	    "other origins (scheme://host[:port], space-separated) whose pages "
	    "may post comments, likes and admin forms here"},
	[CONF_FEED_FULL] = {"feed.full_content", CONF_ENUM, "1", 0, 0, "0|1",
	    "feeds carry the whole article (1) or only its excerpt (0)"},
	[CONF_FEED_ITEMS] = {"feed.items", CONF_INT, "20", 1, 100, NULL,
	    "newest articles in each RSS/Atom feed"},
	[CONF_VIEWS_FLUSH] = {"views.flush_seconds", CONF_INT, "10", 1, 3600,
	    NULL, "seconds between writes of counted page views to the database"},
	[CONF_VIEW_RATE] = {"views.rate_per_minute", CONF_INT, "30", 0, 100000,
	    NULL, "view beacons counted per minute per address (an IPv6 /64); "
	    "0 = unlimited"},
	[CONF_VIEW_BURST] = {"views.rate_burst", CONF_INT, "60", 1, 100000,
	    NULL, "view beacons an address may send at once"},
	[CONF_VISITOR_RATE] = {"visitors.rate_per_minute", CONF_INT, "6", 0,
	    100000, NULL, "new visitor ids (kiji_v cookies) handed out per "
	    "minute per address; 0 = unlimited"},
	[CONF_VISITOR_BURST] = {"visitors.rate_burst", CONF_INT, "20", 1,
	    100000, NULL, "new visitor ids an address may get at once"},
	[CONF_SITEMAP_URLS] = {"sitemap.urls_per_file", CONF_INT, "50000", 10,
	    50000, NULL, "URLs per sitemap file; more make /sitemap.xml an index"},
	[CONF_SESSION_IDLE] = {"admin.session_idle_minutes", CONF_INT, "120", 5,
	    43200, NULL, "an editor's login ends after this many minutes "
	    "without a request"},
	[CONF_SESSION_MAX] = {"admin.session_max_hours", CONF_INT, "168", 1,
	    8760, NULL, "an editor's login ends this many hours after it began, "
	    "however busy"},
	[CONF_AUTHORS_PUBLISH] = {"admin.authors_publish", CONF_ENUM, "0", 0, 0,
	    "0|1", "authors may publish and schedule their own articles (1) "
	    "or only write drafts for an editor to publish (0)"},
	[CONF_UPLOAD_MAX] = {"admin.upload_max", CONF_INT, "10485760", 65536,
	    268435456, NULL, "largest image upload, bytes (the upload routes' "
	    "body limit is read at start)"},
	[CONF_NET_ALLOW_LOOPBACK] = {"net.allow_loopback", CONF_ENUM, "0", 0, 0,
	    "0|1", "let outgoing fetches (pings sent, sources of pings "
	    "received) reach 127.0.0.0/8 and ::1; for tests only"},
	[CONF_PINGS_FETCH_TIMEOUT] = {"pings.fetch_timeout", CONF_INT, "10", 1,
	    60, NULL, "seconds a received ping's source may take to fetch "
	    "(TrackBack and Pingback answer after it)"},
	[CONF_PINGS_HOST_RATE] = {"pings.fetches_per_host_minute", CONF_INT, "6",
	    1, 100000, NULL, "source fetches for received pings per source "
	    "host per minute; past it Pingback answers fault 50"},
	[CONF_EMBEDS] = {"content.embeds", CONF_ENUM, "off", 0, 0, "off|youtube",
	    "players for imported embed links: off (links), or youtube (kiji.js "
	    "shows YouTube videos from youtube-nocookie.com in a sandboxed "
	    "frame; stored HTML stays a link). On needs a restart (the CSP's "
	    "frame-src is read at start); off applies at once"},
	[CONF_PRIVACY_IP_DAYS] = {"privacy.ip_days", CONF_INT, "90", 0, 36500,
	    NULL, "days commenters' IP addresses are kept; a daily job erases "
	    "older ones (0 = keep them)"},
	[CONF_LOG_LEVEL] = {"log.level", CONF_ENUM, "info", 0, 0,
	    "error|warn|info|debug", "error log (standard error): the least "
	    "severe level written"},
	[CONF_LOG_ACCESS] = {"log.access", CONF_ENUM, "on", 0, 0, "on|off",
	    "access log: one line per request"},
	[CONF_LOG_FORMAT] = {"log.format", CONF_ENUM, "combined", 0, 0,
	    "combined|json", "access log format: combined (as nginx) or JSON "
	    "lines"},
	[CONF_LOG_ACCESS_FILE] = {"log.access_file", CONF_STR, "", 0, 1024, NULL,
	    "access log file (absolute path, reopened on SIGHUP); empty = "
	    "standard output. Read at start: its directory is opened in the "
	    "sandbox"},
	[CONF_LOG_SAMPLE] = {"log.access_sample", CONF_INT, "1", 1, 1000000,
	    NULL, "log one request in this many (1 = all)"},
	[CONF_LOG_IP_MASK] = {"log.ip_mask", CONF_ENUM, "0", 0, 0, "0|1",
	    "access log keeps only the network: an IPv4 /24, an IPv6 /48"},
	[CONF_METRICS_ALLOW] = {"metrics.allow", CONF_STR, "127.0.0.0/8 ::1", 0,
	    1000, NULL, "space-separated addresses or CIDR ranges that may read "
	    "/metrics (the client as resolved through trusted proxies); "
	    "others get 404"},
	[CONF_CACHE_COALESCE] = {"cache.coalesce", CONF_INT, "4", 0, 16, NULL,
	    "a page that changes faster than it renders is kept for readers "
	    "this many times what its last refresh cost (at most 100 ms) "
	    "before the next; 0: every write shows to the next reader"},
	[CONF_CACHE_HOLD_MIN] = {"cache.hold_min_ms", CONF_INT, "50", 0, 100,
	    NULL, "while coalescing, a page that keeps changing is kept for "
	    "readers at least this long before its next render (at most 20 "
	    "renders a second at 50); 0: only cache.coalesce counts"},
	[CONF_RECENT_COUNT] = {"comments.recent_count", CONF_INT, "10", 0, 50,
	    NULL, "latest approved comments in the block on the front page and "
	    "listings (never on article pages); 0 hides it"},
	[CONF_RECENT_REFRESH] = {"comments.recent_refresh", CONF_INT, "60", 0,
	    86400, NULL, "seconds a new comment may wait before cached "
	    "listings, /comments and /comments/feed show it (they are "
	    "refreshed at most this often for comments)"},
	[CONF_COMMENT_SORT] = {"comments.sort", CONF_ENUM, "old", 0, 0,
	    "old|new|likes", "default order of comment threads: oldest, newest "
	    "or most liked first (readers pick with ?csort=)"},
	[CONF_COMMENT_PER_PAGE] = {"comments.per_page", CONF_INT, "0", 0, 1000,
	    NULL, "top-level comment threads a page (?cpage=N); 0 = all on one "
	    "page"},
	[CONF_LIVE] = {"comments.live", CONF_ENUM, "1", 0, 0, "0|1",
	    "1: new comments appear on open article pages without a reload "
	    "(server-sent events at /articles/<id>/events); 0: no stream"},
	[CONF_LIVE_HEARTBEAT] = {"comments.live_heartbeat", CONF_INT, "15", 1,
	    300, NULL, "a live comment stream sends a comment line after this "
	    "many seconds of silence, so proxies keep it open"},
	[CONF_MAIL_SMTP_URL] = {"mail.smtp_url", CONF_STR, "", 0, 400, NULL,
	    "SMTP server for reply notifications, smtp://host:587 (STARTTLS "
	    "required unless on loopback) or smtps://host:465; empty: no mail"},
	[CONF_MAIL_SMTP_USER] = {"mail.smtp_user", CONF_STR, "", 0, 200, NULL,
	    "SMTP login name; empty: no authentication"},
	[CONF_MAIL_SMTP_PASSWORD] = {"mail.smtp_password", CONF_STR, "", 0, 400,
	    NULL, "SMTP password (never shown; set it again to change it)"},
	[CONF_MAIL_FROM] = {"mail.from", CONF_STR, "", 0, 254, NULL,
	    "sender address of kiji's mails (needed for any mail)"},
	[CONF_MAIL_BATCH] = {"mail.batch_seconds", CONF_INT, "300", 0, 86400,
	    NULL, "replies to one address within this many seconds go out as "
	    "one mail"},
	[CONF_MAIL_DAILY_MAX] = {"mail.daily_max", CONF_INT, "10", 1, 1000, NULL,
	    "reply mails to one address a day (UTC) at most; more wait for "
	    "the next day"},
	[CONF_MAIL_CONFIRM_MAX] = {"mail.confirm_max", CONF_INT, "3", 1, 100,
	    NULL, "confirmation mails a day per address and per poster's IP"},
	[CONF_MAIL_OWNER_NOTIFY] = {"mail.owner_notify", CONF_ENUM, "none", 0, 0,
	    "none|all|pending", "mail the owner (mail.owner_address) about "
	    "every new comment, each pending one, or none"},
	[CONF_MAIL_OWNER_ADDRESS] = {"mail.owner_address", CONF_STR, "", 0, 254,
	    NULL, "the site owner's address for mail.owner_notify"},
};

bool
conf_secret(enum conf_key k)
{
	return k == CONF_MAIL_SMTP_PASSWORD;
}

enum conf_key
conf_find(const char *key)
{
	for (int k = 0; k < CONF__MAX; k++)
		if (strcmp(conf_defs[k].key, key) == 0)
			return (enum conf_key)k;
	return CONF__MAX;
}

/* True when value is one of the |-separated choices. */
static bool
conf_choice(const char *choices, const char *value)
{
	size_t n = strlen(value);
	const char *p = choices;
	while (*p) {
		const char *e = strchr(p, '|');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && memcmp(p, value, n) == 0)
			return true;
		p += len + (e != NULL);
	}
	return false;
}

/* A space-separated list of addresses and CIDR ranges. */
static bool
conf_cidrs_ok(const char *v, buf *why)
{
	while (*v) {
		size_t n = strcspn(v, " ,");
		if (n > 0) {
			char one[64];
			if (n >= sizeof(one) || (memcpy(one, v, n), one[n] = '\0',
			    !http_cidr_ok(one))) {
				buf_printf(why, "'%.*s' is not an address or a "
				    "CIDR range", (int)(n < 64 ? n : 64), v);
				return false;
			}
		}
		v += n;
		v += strspn(v, " ,");
	}
	return true;
}

bool
conf_valid(enum conf_key k, const char *value, buf *why)
{
	const struct conf_def *d = &conf_defs[k];
	size_t n = strlen(value);
	if (!text_clean(value, n)) {
		buf_puts(why, "not valid UTF-8 text");
		return false;
	}
	switch (d->type) {
	case CONF_INT: {
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (n == 0 || *end || errno) {
			buf_puts(why, "not a whole number");
			return false;
		}
		if (v < d->min || v > d->max) {
			buf_printf(why, "must be between %ld and %ld", d->min, d->max);
			return false;
		}
		return true;
	}
	case CONF_ENUM:
		if (!conf_choice(d->choices, value)) {
			buf_printf(why, "must be one of %s", d->choices);
			return false;
		}
		return true;
	case CONF_STR:
	default:
		if ((long)n < d->min || (long)n > d->max) {
			buf_printf(why, "length must be between %ld and %ld bytes",
			    d->min, d->max);
			return false;
		}
		if ((k == CONF_BASE_URL || k == CONF_PURGE_URL) && n > 0 &&
		    (strncmp(value, "http://", 7) && strncmp(value, "https://", 8))) {
			buf_puts(why, "must start with http:// or https://");
			return false;
		}
		if (k == CONF_TIMEZONE && (strstr(value, "..") || value[0] == '/')) {
			buf_puts(why, "not a time zone name");
			return false;
		}
		if (k == CONF_LOG_ACCESS_FILE && n > 0 && (value[0] != '/' ||
		    value[n - 1] == '/' || strpbrk(value, "\n\r") != NULL)) {
			buf_puts(why, "must be an absolute file path");
			return false;
		}
		if (k == CONF_METRICS_ALLOW && !conf_cidrs_ok(value, why))
			return false;
		if (k == CONF_MAIL_SMTP_URL && n > 0 && (strncmp(value, "smtp://",
		    7) && strncmp(value, "smtps://", 8))) {
			buf_puts(why, "must start with smtp:// or smtps://");
			return false;
		}
		if ((k == CONF_MAIL_FROM || k == CONF_MAIL_OWNER_ADDRESS) && n > 0 &&
		    !mail_addr_check(value, n, NULL)) {
			buf_puts(why, "not a plain e-mail address (name@example.com)");
			return false;
		}
		return true;
	}
}

/* Copies a stored setting over the default when it is valid. */
static void
conf_apply(void *ctx, const char *key, const char *value)
{
	struct site_conf *c = ctx;
	enum conf_key k = conf_find(key);
	if (k == CONF__MAX)
		return; /* settings of later versions or other modules */
	buf why;
	buf_init(&why, 256);
	if (conf_valid(k, value, &why)) {
		free(c->str[k]);
		c->str[k] = xstrdup(value);
	}
	buf_free(&why);
}

struct site_conf *
conf_load(store *st)
{
	struct site_conf *c = xcalloc(1, sizeof(*c));
	for (int k = 0; k < CONF__MAX; k++)
		c->str[k] = xstrdup(conf_defs[k].def);
	if (st != NULL)
		store_settings_each(st, conf_apply, c);
	/* A base URL ends without '/', so paths can be appended as they are. */
	size_t n = strlen(c->str[CONF_BASE_URL]);
	while (n > 0 && c->str[CONF_BASE_URL][n - 1] == '/')
		c->str[CONF_BASE_URL][--n] = '\0';
	for (int k = 0; k < CONF__MAX; k++)
		if (conf_defs[k].type == CONF_INT)
			c->num[k] = strtol(c->str[k], NULL, 10);
	return c;
}

void
conf_free(struct site_conf *c)
{
	if (c == NULL)
		return;
	for (int k = 0; k < CONF__MAX; k++)
		free(c->str[k]);
	free(c);
}
