/*
 * Old URLs keep working: the WordPress permalinks an imported site was
 * linked by (/?p=ID, /?page_id=ID, /archives/ID, /YYYY/MM/DD/slug/,
 * /slug/, /parent/child/ pages, category, tag and feed URLs) and kiji's
 * own URLs with a trailing slash answer 301 with the kiji URL (a page's
 * is /pages/parent/child). Nothing here runs for a request a route answers,
 * except "/" carrying one of WordPress's query keys: the normal path pays
 * nothing. Articles are found by articles.legacy_id (the WordPress post
 * id) and articles.slug, as the importer (port/) fills them.
 */
#include "site_int.h"

#include <stdlib.h>

#include "../port/port.h"
#include <string.h>

#define LEGACY_SEGS 8         /* path segments looked at; more: not ours */
#define LEGACY_SLUG_MAX 600   /* bytes of one decoded segment */
#define LEGACY_HITS 16        /* articles sharing one slug, looked at */
#define LEGACY_LOCATION_MAX 8000 /* http_resp_redirect's bound on Location */

/* A 301 to location, which the CDN may keep a while (as site_moved). */
static bool
legacy_moved(struct req *q, const char *location)
{
	if (q->moved_to != NULL) {
		*q->moved_to = location;
		return true;
	}
	http_resp_header(q->r, q->w, "Cache-Control", "public, max-age=300");
	http_resp_redirect(q->r, q->w, 301, location);
	return true;
}

/* Appends the raw query string, escaping any byte a Location header may
 * not carry (the request line's bytes are not all guaranteed ASCII). */
static void
legacy_put_query(buf *b, const char *query)
{
	static const char hex[] = "0123456789ABCDEF";
	if (*query == '\0')
		return;
	buf_putc(b, '?');
	for (const unsigned char *p = (const unsigned char *)query; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f || *p == '\\') {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			buf_put(b, e, 3);
		} else {
			buf_putc(b, (char)*p);
		}
	}
}

/* path (decoded) percent-encoded segment by segment, '/' kept, then the
 * query when given; arena-allocated, NULL when too long for a Location. */
static const char *
legacy_encode_path(struct req *q, const char *path, size_t n,
    const char *query)
{
	buf b;
	buf_init(&b, LEGACY_LOCATION_MAX);
	for (size_t i = 0; i < n;) {
		if (path[i] == '/') {
			buf_putc(&b, '/');
			i++;
			continue;
		}
		size_t k = strcspn(path + i, "/");
		if (k > n - i)
			k = n - i;
		http_url_encode(&b, path + i, k);
		i += k;
	}
	if (query)
		legacy_put_query(&b, query);
	const char *s = b.err ? NULL : arena_strndup(q->r->a, buf_cstr(&b),
	    b.len);
	buf_free(&b);
	return s;
}

/* "/category/<slug>" or "/tag/<slug>" with the slug encoded. */
static const char *
legacy_slug_url(struct req *q, const char *prefix, const char *slug)
{
	buf b;
	buf_init(&b, 4096);
	buf_puts(&b, prefix);
	http_url_encode(&b, slug, strlen(slug));
	const char *s = b.err ? NULL : arena_strndup(q->r->a, buf_cstr(&b),
	    b.len);
	buf_free(&b);
	return s;
}

/*
 * The spellings one decoded slug may be stored under: as decoded (what
 * the importer writes), and percent-encoded with upper and with lower hex
 * digits (WordPress keeps post_name encoded, lower hex). A plain ASCII
 * slug gets its lower-case form instead (WordPress slugs are lower case).
 * Returns how many were set (1..STORE_LEGACY_SLUGS).
 */
static size_t
legacy_spellings(struct req *q, const char *slug, const char **out)
{
	buf b;
	size_t n = 0;
	out[n++] = slug;
	buf_init(&b, 4096);
	http_url_encode(&b, slug, strlen(slug));
	if (b.err) {
		buf_free(&b);
		return n;
	}
	char *up = arena_strndup(q->r->a, buf_cstr(&b), b.len);
	buf_free(&b);
	char *low = arena_strdup(q->r->a, up);
	bool encoded = false;
	for (char *p = low; *p; p++) {
		if (*p == '%') {
			encoded = true;
			for (int k = 1; k <= 2; k++)
				if (p[k] >= 'A' && p[k] <= 'F')
					p[k] = (char)(p[k] | 0x20);
			p += 2;
		}
	}
	if (encoded) {
		out[n++] = up;
		out[n++] = low;
		return n;
	}
	for (char *p = low; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p | 0x20);
	if (strcmp(low, slug) != 0)
		out[n++] = low;
	return n;
}

/* Whether s is 1..digits decimal digits (a WordPress id, a year). */
static bool
legacy_digits(const char *s, size_t min, size_t max)
{
	size_t n = strspn(s, "0123456789");
	return s[n] == '\0' && n >= min && n <= max;
}

/* The visible article imported from WordPress id s; 0 when none. */
static int64_t
legacy_by_id(struct req *q, const char *s)
{
	int64_t id = 0;
	if (!legacy_digits(s, 1, 18))
		return 0;
	if (store_legacy_by_id(q->s->st, s, q->r->now, &id) != STORE_OK)
		return 0;
	return id;
}

/*
 * The visible article an old slug names; y/mon/day (0: not in the URL)
 * are the date WordPress put in the permalink, in the site's zone. A
 * dated URL names a post: the one of that date, else the only post with
 * the slug (a zone set differently on the old site shifts days). An
 * undated one takes pages first, as WordPress does. 0 when none.
 */
static int64_t
legacy_by_slug(struct req *q, const char *slug, int y, int mon, int day)
{
	const char *sp[STORE_LEGACY_SLUGS];
	struct store_legacy_hit hits[LEGACY_HITS];
	size_t n = 0;
	if (*slug == '\0' || strlen(slug) > LEGACY_SLUG_MAX)
		return 0;
	size_t ns = legacy_spellings(q, slug, sp);
	if (store_legacy_by_slug(q->s->st, sp, ns, q->r->now, hits, LEGACY_HITS,
	    &n) != STORE_OK || n == 0)
		return 0;
	if (y == 0)
		return hits[0].id;
	int64_t only = 0;
	size_t posts = 0;
	for (size_t i = 0; i < n; i++) {
		if (hits[i].kind != KIND_POST)
			continue;
		struct text_tm tm;
		text_localtime(hits[i].published_at, &tm);
		if (tm.year == y && tm.mon == mon && (day == 0 || tm.mday == day))
			return hits[i].id;
		only = hits[i].id;
		posts++;
	}
	return posts == 1 ? only : 0;
}

/* Where visible article id lives now (a page: /pages/...); NULL when it
 * is not visible. */
static const char *
legacy_url(struct req *q, int64_t id)
{
	struct store_article art;
	if (store_article_get(q->s->st, id, q->r->now, q->r->a, &art) !=
	    STORE_OK)
		return NULL;
	return site_article_url(q, &art);
}

/*
 * The visible page whose slugs, from the top, are seg[0..n) (WordPress's
 * /parent/child/ page permalinks; each slug in any spelling); 0 when the
 * whole chain does not match.
 */
static int64_t
legacy_page_path(struct req *q, char **seg, size_t n)
{
	const char *sp[STORE_LEGACY_SLUGS];
	struct store_article art;
	int64_t id = 0, parent = 0;
	if (n == 0 || n > STORE_PAGE_DEPTH)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (strlen(seg[i]) > LEGACY_SLUG_MAX)
			return 0;
		size_t ns = legacy_spellings(q, seg[i], sp);
		if (store_page_child(q->s->st, parent, sp, ns, &id) != STORE_OK ||
		    id == 0)
			return 0;
		parent = id;
	}
	return store_article_get(q->s->st, id, q->r->now, q->r->a, &art) ==
	    STORE_OK ? id : 0;
}

/* Parses a 1..2 digit month or day within [1, max]; 0 when not one. */
static int
legacy_num(const char *s, int max)
{
	if (!legacy_digits(s, 1, 2))
		return 0;
	int v = (s[0] - '0') * (s[1] ? 10 : 1) + (s[1] ? s[1] - '0' : 0);
	return v >= 1 && v <= max ? v : 0;
}

/*
 * The article a WordPress permalink's segments name: /archives/ID,
 * /YYYY/MM/DD/slug, /YYYY/MM/slug, a page by its whole chain of slugs
 * (/parent/child), or any other path by its last segment (/slug, a page
 * moved since, /%category%/%postname%). 0 when none.
 */
static int64_t
legacy_article(struct req *q, char **seg, size_t n)
{
	if (n == 0)
		return 0;
	if (n == 2 && strcmp(seg[0], "archives") == 0)
		return legacy_by_id(q, seg[1]);
	if (n >= 3 && legacy_digits(seg[0], 4, 4)) {
		int y = (int)strtol(seg[0], NULL, 10);
		int mon = legacy_num(seg[1], 12);
		int day = n == 4 ? legacy_num(seg[2], 31) : 0;
		if (mon == 0 || (n == 4 && day == 0) || n > 4)
			return 0;
		return legacy_by_slug(q, seg[n - 1], y, mon, day);
	}
	/* kiji's own prefixes and WordPress's files are never slugs */
	static const char *const not_slugs[] = {"wp-content", "wp-includes",
	    "wp-admin", "category", "tag", "articles", "static", "media",
	    "admin", "api", "archive"};
	for (size_t i = 0; i < sizeof(not_slugs) / sizeof(not_slugs[0]); i++)
		if (strcmp(seg[0], not_slugs[i]) == 0)
			return 0;
	int64_t page = legacy_page_path(q, seg, n);
	return page > 0 ? page : legacy_by_slug(q, seg[n - 1], 0, 0, 0);
}

/* A category by the last segment of /category/parent/child (any stored
 * spelling); its kiji URL, or NULL. */
static const char *
legacy_category(struct req *q, const char *slug)
{
	const char *sp[STORE_LEGACY_SLUGS];
	struct store_category cat;
	if (strlen(slug) > LEGACY_SLUG_MAX)
		return NULL;
	size_t ns = legacy_spellings(q, slug, sp);
	for (size_t i = 0; i < ns; i++)
		if (store_category_by_slug(q->s->st, sp[i], q->r->a, &cat) ==
		    STORE_OK)
			return site_category_path(q, cat.slug);
	return NULL;
}

/* The same for /tag/x. */
static const char *
legacy_tag(struct req *q, const char *slug)
{
	const char *sp[STORE_LEGACY_SLUGS];
	struct store_tag tag;
	if (strlen(slug) > LEGACY_SLUG_MAX)
		return NULL;
	size_t ns = legacy_spellings(q, slug, sp);
	for (size_t i = 0; i < ns; i++)
		if (store_tag_by_slug(q->s->st, sp[i], q->r->a, &tag) == STORE_OK)
			return legacy_slug_url(q, "/tag/", tag.slug);
	return NULL;
}

/* The kiji feed for WordPress's ?feed= type (without "comments-": there
 * is no site-wide comment feed, so the site feed); NULL for an unknown
 * type. */
static const char *
legacy_feed_suffix(const char *type)
{
	if (strcmp(type, "rss2") == 0 ||
	    strcmp(type, "rss") == 0 || strcmp(type, "rdf") == 0 ||
	    strcmp(type, "") == 0)
		return "/feed";
	if (strcmp(type, "atom") == 0)
		return "/feed/atom";
	return NULL;
}

/* The value of query argument name, or NULL. */
static const char *
legacy_arg(struct req *q, const char *name)
{
	for (size_t i = 0; i < q->r->nargs; i++)
		if (strcmp(q->r->args[i].name, name) == 0)
			return q->r->args[i].value;
	return NULL;
}

/* An attachment page, ?attachment_id=ID: the redirect row the importer
 * made for it (to its file, else its post); -1 when there is none. */
static int
legacy_attachment(struct req *q, const char *id)
{
	const char *to;
	if (!legacy_digits(id, 1, 18) || store_redirect_get(q->s->st,
	    arena_printf(q->r->a, "/?attachment_id=%s", id), q->r->a, &to) !=
	    STORE_OK)
		return -1;
	return legacy_moved(q, to);
}

/*
 * WordPress's query keys: ?p=ID and ?page_id=ID (with &feed=: that
 * article's comment feed), ?feed=rss2|rss|rdf|atom|comments-rss2|
 * comments-atom, ?s=word, ?attachment_id=ID. 1: answered with a 301;
 * 0: none of the keys; -1: a key naming nothing (unknown id or feed
 * type), the caller's 404.
 */
static int
legacy_query(struct req *q)
{
	arena *a = q->r->a;
	if (q->r->nargs == 0)
		return 0;
	const char *p = legacy_arg(q, "p");
	if (p == NULL)
		p = legacy_arg(q, "page_id");
	const char *feed = legacy_arg(q, "feed");
	if (p == NULL && legacy_arg(q, "attachment_id") != NULL)
		return legacy_attachment(q, legacy_arg(q, "attachment_id"));
	if (p != NULL) {
		int64_t id = legacy_by_id(q, p);
		if (id == 0 && feed == NULL)
			return legacy_attachment(q, p); /* ?p= of an attachment */
		const char *to = id == 0 ? NULL : feed ? arena_printf(a,
		    "/articles/%lld/feed", (long long)id) : legacy_url(q, id);
		if (to == NULL)
			return -1;
		return legacy_moved(q, to);
	}
	if (feed != NULL) {
		const char *type = feed;
		bool comments = strncmp(type, "comments-", 9) == 0;
		if (comments)
			type += 9;
		const char *suffix = legacy_feed_suffix(type);
		if (suffix == NULL)
			return -1;
		/* the site's comments have one feed, RSS (recent.c) */
		return legacy_moved(q, comments ? "/comments/feed" : suffix);
	}
	const char *s = legacy_arg(q, "s");
	if (s != NULL) {
		buf b;
		buf_init(&b, LEGACY_LOCATION_MAX);
		buf_puts(&b, "/search?q=");
		http_url_encode(&b, s, strlen(s));
		const char *to = b.err ? NULL : arena_strndup(a, buf_cstr(&b),
		    b.len);
		buf_free(&b);
		return to == NULL ? -1 : legacy_moved(q, to);
	}
	return 0;
}

/* Trailing slash on a kiji URL: the path without it, when that path is a
 * GET route; the query string is kept. */
static bool
legacy_trailing_slash(struct req *q)
{
	const char *path = q->r->path;
	size_t n = strlen(path);
	struct http_match m;
	if (n < 2 || path[n - 1] != '/' || path[1] == '/' || path[n - 2] == '/')
		return false;
	char *bare = arena_strndup(q->r->a, path, n - 1);
	if (http_route(q->s->routes, q->s->nroutes, HTTP_GET, bare, q->r->a,
	    &m) == NULL)
		return false;
	const char *to = legacy_encode_path(q, bare, n - 1, q->r->query);
	return to != NULL && legacy_moved(q, to);
}

/*
 * The path forms, for a GET no route matched (called from the 404 page,
 * after the redirects table): kiji's URLs with a trailing slash, then
 * WordPress's. True when answered with a 301; false: the caller's 404.
 * A /wp-content/uploads/ file the table does not know may be one of
 * WordPress's size variants (name-300x200.jpg) of a file it knows.
 */
bool
site_legacy_path(struct req *q)
{
	arena *a = q->r->a;
	if (q->r->method != HTTP_GET && q->r->method != HTTP_HEAD)
		return false;
	if (strncmp(q->r->path, "/wp-content/uploads/", 20) == 0) {
		const char *bare = port_upload_unsized(a, q->r->path), *to;
		return bare != NULL && store_redirect_get(q->s->st, bare, a, &to) ==
		    STORE_OK && legacy_moved(q, to);
	}
	if (legacy_trailing_slash(q))
		return true;
	if (strcmp(q->r->path, "/index.php") == 0) {
		int k = legacy_query(q);
		return k > 0 || (k == 0 && legacy_moved(q, "/"));
	}
	/* split into segments, ignoring one trailing slash */
	char *p = arena_strdup(a, q->r->path + 1);
	char *seg[LEGACY_SEGS];
	size_t n = 0;
	size_t len = strlen(p);
	if (len > 0 && p[len - 1] == '/')
		p[--len] = '\0';
	if (len == 0)
		return false;
	for (char *s = p;; n++) {
		if (n == LEGACY_SEGS)
			return false;
		seg[n] = s;
		char *e = strchr(s, '/');
		if (e == NULL) {
			n++;
			break;
		}
		*e = '\0';
		s = e + 1;
	}
	for (size_t i = 0; i < n; i++)
		if (*seg[i] == '\0')
			return false; /* "//": nobody's permalink */

	/* feeds: /comments/feed, /category/.../x/feed, <permalink>/feed
	 * (that article's comments). WordPress's /feed/<type> aliases stay
	 * 404: kiji has one spelling per feed (/feed, /feed/atom). */
	if (n >= 2 && strcmp(seg[n - 1], "feed") == 0) {
		size_t f = n - 1;
		const char *suffix = "/feed";
		if (f == 1 && strcmp(seg[0], "comments") == 0)
			return legacy_moved(q, "/comments/feed");
		if (strcmp(seg[0], "category") == 0) {
			const char *cat = f >= 2 ? legacy_category(q, seg[f - 1]) :
			    NULL;
			return cat && legacy_moved(q, arena_printf(a, "%s%s", cat,
			    suffix));
		}
		int64_t id = legacy_article(q, seg, f);
		return id > 0 && legacy_moved(q, arena_printf(a,
		    "/articles/%lld/feed", (long long)id));
	}
	if (strcmp(seg[0], "category") == 0) {
		const char *cat = n >= 2 ? legacy_category(q, seg[n - 1]) : NULL;
		return cat && legacy_moved(q, cat);
	}
	if (strcmp(seg[0], "tag") == 0) {
		const char *tag = n == 2 ? legacy_tag(q, seg[1]) : NULL;
		return tag && legacy_moved(q, tag);
	}
	/* date archives: /YYYY/MM and /YYYY/MM/DD are the month's page */
	if (legacy_digits(seg[0], 4, 4) && (n == 2 || (n == 3 &&
	    legacy_digits(seg[2], 1, 2))) && legacy_num(seg[1], 12) > 0)
		return legacy_moved(q, arena_printf(a, "/archive/%s/%02d", seg[0],
		    legacy_num(seg[1], 12)));
	int64_t id = legacy_article(q, seg, n);
	const char *to = id > 0 ? legacy_url(q, id) : NULL;
	return to != NULL && legacy_moved(q, to);
}

/* A redirect's target as stored (the importer's "/articles/<id>" of an
 * old permalink): a page's is its /pages/ URL now, so one redirect gets
 * there; any other target is kept. */
const char *
site_legacy_target(struct req *q, const char *to)
{
	if (strncmp(to, "/articles/", 10) != 0 || !legacy_digits(to + 10, 1, 18))
		return to;
	const char *now = legacy_url(q, strtoll(to + 10, NULL, 10));
	return now != NULL ? now : to;
}


/* "/" with WordPress's query keys, before the front page or its cache:
 * true when answered (301, or 404 for a key naming nothing). */
bool
site_legacy_query(struct req *q)
{
	int k = legacy_query(q);
	if (k < 0)
		site_error(q, 404);
	return k != 0;
}
