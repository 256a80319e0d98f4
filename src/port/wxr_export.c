/*
 * `kiji export-wxr`: the site as a WordPress export (WXR 1.2), written
 * with libxml2's xmlTextWriter straight to a FILE, so every value is
 * escaped by construction and memory holds one page of rows, never the
 * site: articles by id a page at a time, each with its comments a page
 * at a time, all inside one read snapshot (store_snapshot_begin) so a
 * running server goes on writing and the file is still consistent.
 *
 * The layout is WordPress 6's (the prefixes excerpt, content, wfw, dc
 * and wp are what its importer matches on, CDATA where it writes CDATA);
 * what WXR has no element for travels as `_kiji_*` postmeta and
 * commentmeta (see port.h), which kiji's importer reads back. The trash
 * is left out: an export is for moving a site or handing it over, and
 * what editors threw away should not travel (a backup keeps it).
 * Commenters' e-mail and IP addresses (and users' e-mail) are written
 * only with with_emails.
 */
#include "port.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libxml/xmlwriter.h>

#include "../content/content.h"

#define EXPORT_ARTICLE_PAGE 200   /* article ids per store read */
#define EXPORT_COMMENT_PAGE 500   /* comments per store read */
#define EXPORT_TAG_PAGE 1000      /* tags per store read */

#define WXR_NS "https://wordpress.org/export/1.2/"

/* The writer and what every write shares. */
struct xw {
	xmlTextWriterPtr w;
	const struct port_export_opts *o;
	struct port_export_stats *s;
	bool failed;            /* a write failed (disk full, closed pipe) */
	buf clean;              /* xw_clean's output */
	const char *base;       /* base URL without a trailing '/' */
	/* the authors (dc:creator's login by user id), sorted by id */
	struct store_user *users;
	size_t nusers;
};

/* ---- text as XML takes it ---- */

/*
 * s as XML 1.0 character data: bytes that are not UTF-8 become U+FFFD
 * and characters XML cannot carry at all (C0 controls but tab, newline
 * and carriage return; U+FFFE, U+FFFF) are dropped. Stored text passed
 * text_clean on its way in; this holds whatever else a database has.
 * The result lives in x->clean until the next call.
 */
static const char *
xw_clean(struct xw *x, const char *s)
{
	size_t n = s ? strlen(s) : 0, i = 0;
	buf_reset(&x->clean);
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (c < 0x80) {
			if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
				buf_putc(&x->clean, (char)c);
			i++;
		} else if (c < 0xc2 || c > 0xf4 || i + len > n ||
		    !text_utf8_valid(s + i, len)) {
			buf_puts(&x->clean, "\xef\xbf\xbd");
			i++;
		} else {
			/* U+FFFE and U+FFFF: EF BF BE, EF BF BF */
			if (!(len == 3 && c == 0xef && (unsigned char)s[i + 1] == 0xbf &&
			    (unsigned char)s[i + 2] >= 0xbe))
				buf_put(&x->clean, s + i, len);
			i += len;
		}
	}
	if (x->clean.err)
		x->failed = true;
	return buf_cstr(&x->clean);
}

/* Records a failed libxml2 write (they return -1). */
static void
xw_rc(struct xw *x, int rc)
{
	if (rc < 0)
		x->failed = true;
}

static void
xw_start(struct xw *x, const char *name)
{
	xw_rc(x, xmlTextWriterStartElement(x->w, BAD_CAST name));
}

static void
xw_end(struct xw *x)
{
	xw_rc(x, xmlTextWriterFullEndElement(x->w));
}

static void
xw_attr(struct xw *x, const char *name, const char *v)
{
	xw_rc(x, xmlTextWriterWriteAttribute(x->w, BAD_CAST name,
	    BAD_CAST xw_clean(x, v)));
}

/* <name>v</name>, v escaped. */
static void
xw_text(struct xw *x, const char *name, const char *v)
{
	xw_start(x, name);
	xw_rc(x, xmlTextWriterWriteString(x->w, BAD_CAST xw_clean(x, v)));
	xw_end(x);
}

static void
xw_int(struct xw *x, const char *name, int64_t v)
{
	char n[24];
	snprintf(n, sizeof(n), "%lld", (long long)v);
	xw_text(x, name, n);
}

/*
 * <name><![CDATA[v]]></name>, as WordPress writes its texts: a "]]>"
 * inside is split across two sections ("]]" ends one, ">" starts the
 * next), as WordPress's wxr_cdata does. A value holding a carriage
 * return is written escaped instead (&#13;): XML parsers turn a raw CR
 * in CDATA into a newline, and a Markdown source must come back as it
 * was.
 */
static void
xw_cdata(struct xw *x, const char *name, const char *v)
{
	const char *p = xw_clean(x, v);
	xw_start(x, name);
	/* (an empty section would leave libxml2's indentation on, which
	 * then writes white space into the element: nothing instead) */
	if (*p == '\0' || strchr(p, '\r') != NULL) {
		xw_rc(x, xmlTextWriterWriteString(x->w, BAD_CAST p));
	} else {
		do {
			const char *q = strstr(p, "]]>");
			size_t n = q ? (size_t)(q - p) + 2 : strlen(p);
			xw_rc(x, xmlTextWriterStartCDATA(x->w));
			if (n > 0 && n <= (size_t)INT32_MAX)
				xw_rc(x, xmlTextWriterWriteRawLen(x->w, BAD_CAST p,
				    (int)n));
			xw_rc(x, xmlTextWriterEndCDATA(x->w));
			p += n;
		} while (*p);
	}
	xw_end(x);
}

/* ---- dates ---- */

/* "YYYY-MM-DD HH:MM:SS" in UTC, or WordPress's 0000-00-00 00:00:00 for
 * "no date" (a draft never given one). */
static void
xw_date_gmt(char out[32], int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (t <= 0 || gmtime_r(&tt, &tm) == NULL) {
		snprintf(out, 32, "0000-00-00 00:00:00");
		return;
	}
	if (strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(out, 32, "0000-00-00 00:00:00");
}

/* The same in the site's time zone (text_tz_set). */
static void
xw_date_local(char out[32], int64_t t)
{
	struct text_tm tm;
	if (t <= 0) {
		snprintf(out, 32, "0000-00-00 00:00:00");
		return;
	}
	text_localtime(t, &tm);
	snprintf(out, 32, "%04d-%02d-%02d %02d:%02d:%02d", tm.year, tm.mon,
	    tm.mday, tm.hour, tm.min, tm.sec);
}

/* RSS's pubDate: "Mon, 16 Jan 2023 07:08:31 +0000". */
static void
xw_rfc822(char out[48], int64_t t)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	time_t tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL) {
		out[0] = '\0';
		return;
	}
	snprintf(out, 48, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* A slug as WordPress stores one: bytes past ASCII (and '%') as
 * lowercase %XX; the importer decodes them. */
static const char *
xw_slug(arena *a, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(s), k = 0;
	char *o = arena_alloc(a, 3 * n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80 || c == '%' || c <= 0x20) {
			o[k++] = '%';
			o[k++] = hex[c >> 4];
			o[k++] = hex[c & 15];
		} else {
			o[k++] = (char)c;
		}
	}
	o[k] = '\0';
	return o;
}

/* ---- postmeta ---- */

static void
xw_meta(struct xw *x, const char *elem, const char *key, const char *value)
{
	xw_start(x, elem);
	xw_cdata(x, "wp:meta_key", key);
	xw_cdata(x, "wp:meta_value", value);
	xw_end(x);
}

/* The sources as a JSON array of {title, url}, in their order. */
static void
xw_sources(struct xw *x, const struct store_article *art)
{
	json_t *arr = json_array();
	char *js = NULL;
	for (size_t i = 0; arr && i < art->nsources; i++) {
		char *t = xstrdup(xw_clean(x, art->sources[i].title));
		json_t *o = json_pack("{s:s, s:s}", "title", t, "url",
		    xw_clean(x, art->sources[i].url));
		free(t);
		if (o == NULL || json_array_append_new(arr, o) != 0)
			x->failed = true;
	}
	if (arr)
		js = json_dumps(arr, JSON_COMPACT);
	if (js == NULL)
		x->failed = true;
	else
		xw_meta(x, "wp:postmeta", PORT_KIJI_SOURCES, js);
	free(js);
	json_decref(arr);
}

/* ---- channel ---- */

static int
xw_cmp_user(const void *p, const void *q)
{
	const struct store_user *a = p, *b = q;
	return a->id < b->id ? -1 : a->id > b->id;
}

static const char *
xw_login(const struct xw *x, int64_t id)
{
	struct store_user key = {.id = id};
	const struct store_user *u = x->nusers ? bsearch(&key, x->users,
	    x->nusers, sizeof(*x->users), xw_cmp_user) : NULL;
	return u ? u->name : "";
}

/* wp:author for every user who wrote an exported article (as WordPress:
 * accounts with nothing to show are not named in the file). */
static enum store_err
xw_authors(struct xw *x, store *st, arena *a)
{
	int64_t *ids;
	size_t n;
	enum store_err e = store_export_author_ids(st, a, &ids, &n);
	if (e != STORE_OK)
		return e;
	x->users = arena_alloc(a, (n + 1) * sizeof(*x->users));
	for (size_t i = 0; i < n; i++) {
		struct store_user *u = &x->users[x->nusers];
		if ((e = store_user_get(st, ids[i], a, u)) == STORE_NOTFOUND)
			continue;
		if (e != STORE_OK)
			return e;
		x->nusers++;
		xw_start(x, "wp:author");
		xw_int(x, "wp:author_id", u->id);
		xw_cdata(x, "wp:author_login", u->name);
		xw_cdata(x, "wp:author_email", x->o->with_emails ? u->email : "");
		xw_cdata(x, "wp:author_display_name", u->display_name);
		xw_cdata(x, "wp:author_first_name", "");
		xw_cdata(x, "wp:author_last_name", "");
		xw_end(x);
	}
	if (x->nusers > 1)
		qsort(x->users, x->nusers, sizeof(*x->users), xw_cmp_user);
	x->s->authors = (int64_t)x->nusers;
	return STORE_OK;
}

static int
xw_cmp_cat(const void *p, const void *q)
{
	const struct store_category *a = p, *b = q;
	return a->id < b->id ? -1 : a->id > b->id;
}

static void
xw_category(struct xw *x, arena *a, const struct store_category *c,
    const struct store_category *parent)
{
	xw_start(x, "wp:category");
	xw_int(x, "wp:term_id", c->id);
	xw_cdata(x, "wp:category_nicename", xw_slug(a, c->slug));
	xw_cdata(x, "wp:category_parent", parent ? xw_slug(a, parent->slug) : "");
	xw_cdata(x, "wp:cat_name", c->name);
	xw_cdata(x, "wp:category_description", c->description);
	xw_end(x);
}

/* wp:category, parents before children (WordPress's importer looks a
 * parent up by its nicename when it meets the child), by id among
 * equals. The categories of a site are few: read at once. *max_id is
 * the largest id (tags' term ids are put past it: WordPress keeps
 * categories and tags in one table of terms). */
static enum store_err
xw_categories(struct xw *x, store *st, arena *a, int64_t *max_id)
{
	struct store_category *cats;
	size_t n, left;
	enum store_err e = store_categories(st, a, &cats, &n);
	if (e != STORE_OK || n == 0)
		return e;
	qsort(cats, n, sizeof(*cats), xw_cmp_cat);
	bool *done = arena_alloc(a, n + 1);
	*max_id = n ? cats[n - 1].id : 0;
	left = n;
	while (left > 0) {
		size_t before = left;
		for (size_t i = 0; i < n; i++) {
			struct store_category key = {.id = cats[i].parent_id};
			const struct store_category *p = NULL;
			if (done[i])
				continue;
			if (key.id)
				p = bsearch(&key, cats, n, sizeof(*cats), xw_cmp_cat);
			if (p && !done[p - cats])
				continue; /* its parent first */
			xw_category(x, a, &cats[i], p);
			done[i] = true;
			left--;
		}
		if (left == before) /* a loop of parents: the rest at the top */
			for (size_t i = 0; i < n; i++)
				if (!done[i]) {
					xw_category(x, a, &cats[i], NULL);
					done[i] = true;
					left--;
				}
	}
	x->s->categories = (int64_t)n;
	return STORE_OK;
}

/* wp:tag, a page at a time, by id. */
static enum store_err
xw_tags(struct xw *x, store *st, int64_t term_base)
{
	int64_t after = 0;
	arena *a = arena_new(0);
	enum store_err e;
	for (;;) {
		struct store_tag *tags;
		size_t n;
		arena_reset(a);
		e = store_export_tags(st, after, EXPORT_TAG_PAGE, a, &tags, &n);
		if (e != STORE_OK || n == 0)
			break;
		for (size_t i = 0; i < n; i++) {
			xw_start(x, "wp:tag");
			xw_int(x, "wp:term_id", term_base + tags[i].id);
			xw_cdata(x, "wp:tag_slug", xw_slug(a, tags[i].slug));
			xw_cdata(x, "wp:tag_name", tags[i].name);
			xw_end(x);
			after = tags[i].id;
			x->s->tags++;
		}
		if (x->failed)
			break;
	}
	arena_free(a);
	return e;
}

/* ---- items ---- */

static const char *const xw_approved[CSTATUS__MAX] = {
	[CSTATUS_PENDING] = "0",
	[CSTATUS_APPROVED] = "1",
	[CSTATUS_SPAM] = "spam",
	[CSTATUS_TRASH] = "trash",
};

/* WordPress 5.5 and later write "comment"; both importers read "" the
 * same. */
static const char *const xw_ctype[CTYPE__MAX] = {
	[CTYPE_COMMENT] = "comment",
	[CTYPE_TRACKBACK] = "trackback",
	[CTYPE_PINGBACK] = "pingback",
};

static void
xw_comment(struct xw *x, arena *a, const struct store_article *art,
    const struct store_comment *c)
{
	char d[32];
	bool pii = x->o->with_emails;
	xw_start(x, "wp:comment");
	xw_int(x, "wp:comment_id", c->id);
	xw_cdata(x, "wp:comment_author", c->nickname);
	xw_cdata(x, "wp:comment_author_email", pii ? c->email : "");
	xw_text(x, "wp:comment_author_url", c->url);
	xw_text(x, "wp:comment_author_IP", pii ? c->ip : "");
	xw_date_local(d, c->created_at);
	xw_cdata(x, "wp:comment_date", d);
	xw_date_gmt(d, c->created_at);
	xw_cdata(x, "wp:comment_date_gmt", d);
	xw_cdata(x, "wp:comment_content", c->body);
	xw_cdata(x, "wp:comment_approved",
	    (unsigned)c->status < CSTATUS__MAX ? xw_approved[c->status] : "0");
	xw_cdata(x, "wp:comment_type",
	    (unsigned)c->type < CTYPE__MAX ? xw_ctype[c->type] : "comment");
	xw_int(x, "wp:comment_parent", c->parent_id);
	xw_int(x, "wp:comment_user_id", 0);
	xw_meta(x, "wp:commentmeta", PORT_KIJI_LIKES,
	    arena_printf(a, "%lld", (long long)c->like_count));
	/* what a second import matches on: the WordPress id it came from,
	 * else this site's article guid and comment id (unique anywhere) */
	xw_meta(x, "wp:commentmeta", PORT_KIJI_LEGACY, *c->legacy_id ?
	    c->legacy_id : arena_printf(a, "%s#comment-%lld", art->guid,
	    (long long)c->id));
	if (*c->pending_reason)
		xw_meta(x, "wp:commentmeta", PORT_KIJI_PENDING, c->pending_reason);
	xw_end(x);
}

/* The article's comments, a page at a time, by id (a parent's id is
 * always below its replies'). */
static enum store_err
xw_comments(struct xw *x, store *st, const struct store_article *art)
{
	int64_t after = 0;
	arena *a = arena_new(0);
	enum store_err e;
	for (;;) {
		struct store_comment *cs;
		size_t n;
		arena_reset(a);
		e = store_export_comments(st, art->id, after, EXPORT_COMMENT_PAGE,
		    a, &cs, &n);
		if (e != STORE_OK || n == 0)
			break;
		for (size_t i = 0; i < n; i++) {
			xw_comment(x, a, art, &cs[i]);
			after = cs[i].id;
			x->s->comments++;
		}
		if (x->failed)
			break;
	}
	arena_free(a);
	return e;
}

static const char *
xw_status(const struct store_article *art)
{
	switch (art->status) {
	case STATUS_PUBLISHED:
		return "publish";
	case STATUS_SCHEDULED:
		return "future";
	case STATUS_TRASH:
		return "trash";
	default:
		return "draft";
	}
}

static enum store_err
xw_item(struct xw *x, store *st, arena *a, const struct store_article *art)
{
	char d[48];
	bool page = art->kind == KIND_PAGE;
	xw_start(x, "item");
	xw_cdata(x, "title", art->title);
	xw_text(x, "link", arena_printf(a, "%s%s", x->base,
	    content_article_path(st, art, a)));
	if (art->published_at > 0) {
		xw_rfc822(d, art->published_at);
		xw_text(x, "pubDate", d);
	}
	xw_cdata(x, "dc:creator", xw_login(x, art->author_id));
	xw_start(x, "guid");
	xw_attr(x, "isPermaLink", "false");
	xw_rc(x, xmlTextWriterWriteString(x->w, BAD_CAST xw_clean(x, art->guid)));
	xw_end(x);
	xw_text(x, "description", "");
	/* what the site shows; the source comes back from the postmeta */
	xw_cdata(x, "content:encoded", art->body_html);
	xw_cdata(x, "excerpt:encoded", art->excerpt);
	xw_int(x, "wp:post_id", art->id);
	xw_date_local(d, art->published_at);
	xw_cdata(x, "wp:post_date", d);
	xw_date_gmt(d, art->published_at);
	xw_cdata(x, "wp:post_date_gmt", d);
	xw_date_local(d, art->updated_at);
	xw_cdata(x, "wp:post_modified", d);
	xw_date_gmt(d, art->updated_at);
	xw_cdata(x, "wp:post_modified_gmt", d);
	xw_cdata(x, "wp:comment_status", art->comments_open ? "open" : "closed");
	xw_cdata(x, "wp:ping_status", art->comments_open ? "open" : "closed");
	xw_cdata(x, "wp:post_name", xw_slug(a, art->slug));
	xw_cdata(x, "wp:status", xw_status(art));
	xw_int(x, "wp:post_parent", page ? art->parent_id : 0);
	xw_int(x, "wp:menu_order", page ? art->menu_order : 0);
	xw_cdata(x, "wp:post_type", page ? "page" : "post");
	xw_cdata(x, "wp:post_password", "");
	xw_int(x, "wp:is_sticky", 0);
	if (art->category_id && *art->category_slug) {
		xw_start(x, "category");
		xw_attr(x, "domain", "category");
		xw_attr(x, "nicename", xw_slug(a, art->category_slug));
		xw_rc(x, xmlTextWriterWriteCDATA(x->w,
		    BAD_CAST xw_clean(x, art->category_name)));
		xw_end(x);
	}
	for (size_t i = 0; i < art->ntags; i++) {
		xw_start(x, "category");
		xw_attr(x, "domain", "post_tag");
		xw_attr(x, "nicename", xw_slug(a, art->tags[i].slug));
		xw_rc(x, xmlTextWriterWriteCDATA(x->w,
		    BAD_CAST xw_clean(x, art->tags[i].name)));
		xw_end(x);
	}
	/* kiji's own fields, always written so that a newer export that
	 * empties one is seen as a change */
	xw_meta(x, "wp:postmeta", art->body_format == FORMAT_MARKDOWN ?
	    PORT_KIJI_MARKDOWN : PORT_KIJI_HTML, art->body);
	xw_sources(x, art);
	xw_meta(x, "wp:postmeta", PORT_KIJI_EYECATCH, art->eyecatch);
	xw_meta(x, "wp:postmeta", PORT_KIJI_CREDIT, art->eyecatch_credit);
	/* what a second import matches on: the WordPress id it came from,
	 * else this site's guid (unique anywhere, unlike an id) */
	xw_meta(x, "wp:postmeta", PORT_KIJI_LEGACY, *art->legacy_id ?
	    art->legacy_id : art->guid);
	enum store_err e = xw_comments(x, st, art);
	xw_end(x);
	if (page)
		x->s->pages++;
	else
		x->s->posts++;
	return e;
}

/* Every article (but the trash), by id, a page of ids at a time; each
 * read whole (sources, tags) in its own arena. */
static enum store_err
xw_items(struct xw *x, store *st)
{
	arena *ia = arena_new(0), *a = arena_new(0);
	int64_t after = 0;
	enum store_err e;
	for (;;) {
		int64_t *ids;
		size_t n;
		arena_reset(ia);
		e = store_export_article_ids(st, after, EXPORT_ARTICLE_PAGE, ia,
		    &ids, &n);
		if (e != STORE_OK || n == 0)
			break;
		for (size_t i = 0; i < n && e == STORE_OK && !x->failed; i++) {
			struct store_article art;
			arena_reset(a);
			after = ids[i];
			e = store_article_get_any(st, ids[i], a, &art);
			if (e == STORE_NOTFOUND) {
				e = STORE_OK;
				continue;
			}
			if (e == STORE_OK)
				e = xw_item(x, st, a, &art);
		}
		if (e != STORE_OK || x->failed)
			break;
		if (x->o->progress)
			fprintf(stderr, "\r%lld articles…",
			    (long long)(x->s->posts + x->s->pages));
	}
	if (x->o->progress)
		fputc('\n', stderr);
	arena_free(a);
	arena_free(ia);
	return e;
}

static const char wxr_comment[] =
    "\n This is a WordPress eXtended RSS file (WXR 1.2) written by kiji: a\n"
    " site's posts, pages, comments, categories and tags. WordPress's\n"
    " importer (Tools > Import > WordPress) reads it, and so does\n"
    " 'kiji import-wxr', which also reads back kiji's own fields from the\n"
    " _kiji_* postmeta and commentmeta. Commenters' e-mail and IP\n"
    " addresses are in it only when it was written with the with-emails\n"
    " option.\n";

bool
port_wxr_export(store *st, const struct port_export_opts *o, FILE *out,
    struct port_export_stats *stats, buf *err)
{
	struct xw x;
	xmlOutputBufferPtr ob;
	enum store_err e = STORE_OK;
	bool snap = false, started = false, ok = true;
	arena *a = arena_new(0);
	int64_t max_cat = 0;

	memset(&x, 0, sizeof(x));
	memset(stats, 0, sizeof(*stats));
	x.o = o;
	x.s = stats;
	buf_init(&x.clean, 0);
	{
		const char *b = o->base_url ? o->base_url : "";
		size_t n = strlen(b);
		while (n > 0 && b[n - 1] == '/')
			n--;
		x.base = arena_strndup(a, b, n);
	}
	if (o->timezone && *o->timezone)
		text_tz_set(o->timezone);

	xmlInitParser();
	ob = xmlOutputBufferCreateFile(out, NULL);
	if (ob == NULL || (x.w = xmlNewTextWriter(ob)) == NULL) {
		if (ob)
			xmlOutputBufferClose(ob);
		buf_printf(err, "cannot start the XML writer");
		goto out;
	}
	started = true;
	xmlTextWriterSetIndent(x.w, 1);
	xmlTextWriterSetIndentString(x.w, BAD_CAST "\t");

	if ((e = store_snapshot_begin(st)) != STORE_OK)
		goto out;
	snap = true;

	xw_rc(&x, xmlTextWriterStartDocument(x.w, "1.0", "UTF-8", NULL));
	xw_rc(&x, xmlTextWriterWriteComment(x.w, BAD_CAST wxr_comment));
	xw_start(&x, "rss");
	xw_attr(&x, "version", "2.0");
	xw_attr(&x, "xmlns:excerpt", WXR_NS "excerpt/");
	xw_attr(&x, "xmlns:content", "http://purl.org/rss/1.0/modules/content/");
	xw_attr(&x, "xmlns:wfw", "http://wellformedweb.org/CommentAPI/");
	xw_attr(&x, "xmlns:dc", "http://purl.org/dc/elements/1.1/");
	xw_attr(&x, "xmlns:wp", WXR_NS);
	xw_start(&x, "channel");
	xw_text(&x, "title", o->title);
	xw_text(&x, "link", x.base);
	xw_text(&x, "description", o->description);
	xw_text(&x, "language", o->lang);
	xw_text(&x, "wp:wxr_version", "1.2");
	xw_text(&x, "wp:base_site_url", x.base);
	xw_text(&x, "wp:base_blog_url", x.base);
	if ((e = xw_authors(&x, st, a)) != STORE_OK ||
	    (e = xw_categories(&x, st, a, &max_cat)) != STORE_OK ||
	    (e = xw_tags(&x, st, max_cat)) != STORE_OK)
		goto out;
	xw_text(&x, "generator", o->generator);
	if ((e = xw_items(&x, st)) != STORE_OK)
		goto out;
	xw_end(&x); /* channel */
	xw_end(&x); /* rss */
	xw_rc(&x, xmlTextWriterEndDocument(x.w));
	xw_rc(&x, xmlTextWriterFlush(x.w));
out:
	if (snap)
		store_snapshot_end(st);
	if (x.w)
		xmlFreeTextWriter(x.w); /* closes ob, flushing it */
	if (!started) {
		ok = false;
	} else if (e != STORE_OK) {
		buf_printf(err, "cannot read the site: %s", store_strerror(e));
		ok = false;
	} else if (x.failed || fflush(out) != 0 || ferror(out)) {
		buf_printf(err, "cannot write the export (disk full, or the "
		    "reader went away)");
		ok = false;
	}
	buf_free(&x.clean);
	arena_free(a);
	return ok;
}
