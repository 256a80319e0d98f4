/*
 * port: moving a site in (and, later, out). `kiji import-wxr` reads a
 * WordPress export (WXR 1.0–1.2) with libxml2's streaming reader and
 * writes every post and page through content_save, the one save path;
 * categories, tags, authors and comments through the store. Layering:
 * port uses content, store, render and text only.
 */
#ifndef KIJI_PORT_H
#define KIJI_PORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../store/store.h"
#include "../text/text.h"

#define PORT_SKIP_TYPES 16 /* distinct skipped post types counted by name */
#define PORT_SC_NAMES 16   /* distinct unknown shortcodes counted by name */

/* What port_shortcodes did (summed over bodies). */
struct port_sc_stats {
	int64_t converted;                  /* shortcodes and embed lines made HTML */
	int64_t unknown_total;              /* left as text */
	struct {
		char name[32];
		int64_t n;
	} unknown[PORT_SC_NAMES + 1];       /* the last: every other name */
};

/* Why an attachment's file was not copied from --uploads (wxr_media.c). */
enum port_media_why {
	PMEDIA_OK,         /* copied (or there already) */
	PMEDIA_MISSING,    /* no file at its path under the folder */
	PMEDIA_UNREADABLE, /* not a plain file, or unreadable */
	PMEDIA_TYPE,       /* not a JPEG, PNG, WebP or GIF */
	PMEDIA_LARGE,      /* over admin.upload_max */
	PMEDIA_BROKEN,     /* an image that does not parse */
	PMEDIA_STORE,      /* the database refused it */
	PMEDIA__MAX
};
extern const char *const port_media_why_names[PMEDIA__MAX];

/* Bodies and media of an import (wxr_map.c). */
struct port_wxr_more {
	struct port_sc_stats sc;
	int64_t links;                      /* links to the old site rewritten */
	int64_t links_later;                /* bodies saved again for them */
	int64_t media[PMEDIA__MAX];         /* --uploads files by outcome */
	int64_t media_unchanged;            /* of media[PMEDIA_OK]: there already */
	int64_t attach_redirects;           /* attachment page redirects added */
};

/* What an import did; a dry run fills the same counters with what it
 * would do. "unchanged" items were already there (a second run). */
struct port_counts {
	int64_t imported, updated, unchanged, failed;
};
struct port_wxr_stats {
	struct port_counts posts, pages, comments, categories, tags, authors;
	int64_t scheduled, drafts;          /* of the imported/updated posts */
	int64_t trackbacks, pingbacks;      /* of the imported comments */
	int64_t comments_pending;           /* imported as pending */
	int64_t comments_orphan;            /* parent not in the file: top */
	int64_t attachments;                /* attachment items seen */
	int64_t eyecatches;                 /* featured images set */
	int64_t extra_categories;           /* categories past the first */
	int64_t tags_dropped;               /* past CONTENT_TAGS_MAX */
	int64_t untitled, slug_fallback;    /* fixed up on the way */
	int64_t tags_undeclared;            /* item tags not in the channel */
	int64_t authors_unknown;            /* dc:creator not a wp:author */
	int64_t skipped_total;
	struct {
		char name[32];
		int64_t n;
	} skipped[PORT_SKIP_TYPES + 1];     /* the last: every other type */
	int64_t items;                      /* <item>s read */
	struct port_wxr_more more;          /* bodies and media */
};

struct port_wxr_opts {
	const char *path;   /* the export file */
	bool dry_run;       /* parse and count, write nothing */
	const char *uploads; /* NULL, or the old wp-content/uploads folder */
	bool progress;      /* a progress line on stderr (a terminal) */
	int64_t now;        /* 0: text_now() */
};

/*
 * Imports one WXR file. Fatal problems (not XML, not WXR, truncated, an
 * encoding error, a DOCTYPE declaring entities, the database failing)
 * stop it: false with a message in err; what earlier batches committed
 * stays and a second run completes it without duplicates (articles are
 * matched on legacy_id and kind, comments on legacy_id and article).
 * Items that cannot be saved are counted as failed with their reason on
 * stderr, and the import goes on.
 */
bool port_wxr_import(store *st, const struct port_wxr_opts *o,
    struct port_wxr_stats *stats, buf *err);
/* The summary lines (imported / updated / skipped with reasons). */
void port_wxr_summary(const struct port_wxr_stats *s, bool dry_run, FILE *out);

/* WordPress's wpautop, small: paragraphs separated by blank lines become
 * <p>…</p> and single newlines inside them <br />; blocks that start
 * with a block-level tag and everything inside <pre> are left alone. */
bool port_wpautop(buf *out, const char *s, size_t n);

/* ---- shortcodes (shortcode.c) ---------------------------------------------- */

/* An attachment as a gallery shows it. */
struct port_sc_media {
	const char *url;     /* the file: a /media/ URL or its original URL */
	const char *caption; /* HTML (sanitised later), "" when none */
	const char *alt;
};
/* Where port_shortcodes finds attachments; NULL callbacks: nowhere. */
struct port_sc_ctx {
	/* the attachment (an image) with WordPress id `id`; false: none */
	bool (*media)(void *ctx, int64_t id, struct port_sc_media *out);
	/* up to max ids of the attachments of post `parent`, by id */
	size_t (*children)(void *ctx, int64_t parent, int64_t *ids, size_t max);
	void *ctx;
	int64_t post_id;     /* whose body it is ([gallery] without ids) */
};
/*
 * Appends s with WordPress's shortcodes made HTML: [caption] a <figure>
 * with its <figcaption>, [gallery] a <ul class="gallery"> of figures,
 * [embed], [audio], [video] and a http(s) URL alone on a line a link in
 * a <p>; [[x]] is the literal [x]; other [names] stay as text, counted
 * in st. Bounded (nesting, count, attribute length); false only when out
 * refused an append.
 */
bool port_shortcodes(buf *out, const char *s, size_t n,
    const struct port_sc_ctx *c, struct port_sc_stats *st);

/* ---- links to the old site (wxr_links.c) ----------------------------------- */

#define PORT_HOSTS_MAX 8
/* The old site's host names, lowercased, without "www.". */
struct port_hosts {
	size_t n;
	struct {
		char name[128];
		bool files;  /* <x>.files.wordpress.com: every path is a file */
	} h[PORT_HOSTS_MAX];
};
/* Adds url's host (files: only a *.files.wordpress.com one). */
void port_hosts_add(struct port_hosts *h, const char *url, bool files);

enum port_url_kind {
	PURL_NONE,       /* not the old site's, or nothing kiji maps */
	PURL_ID,         /* /?p=ID, /?page_id=ID, /archives/ID: id */
	PURL_ATTACHMENT, /* /?attachment_id=ID: id */
	PURL_PATH,       /* another path: a permalink? (path) */
	PURL_CATEGORY,   /* /category/a/b/: path "b" */
	PURL_TAG,        /* /tag/x/: path "x" */
	PURL_UPLOAD,     /* /wp-content/uploads/REL, or a files host: REL */
};
struct port_url {
	enum port_url_kind kind;
	int64_t id;
	const char *path;  /* decoded, in the arena */
	const char *frag;  /* "#…" or "" */
};
/* What url (n bytes; absolute on one of h's hosts, or root-relative)
 * names on the old site. */
void port_url_parse(arena *a, const struct port_hosts *h, const char *url,
    size_t n, struct port_url *out);
/* An attachment's path under the uploads folder: _wp_attached_file, else
 * its URL's path after /wp-content/uploads/ (or the whole path on a
 * files.wordpress.com host), decoded; NULL when none or not a safe
 * relative path (no "..", ".", empty segment, control byte, '\'). */
const char *port_upload_rel(arena *a, const char *attached_file,
    const char *url);
/* rel without WordPress's size suffix: "a/b-300x200.jpg" → "a/b.jpg";
 * NULL when it has none. */
const char *port_upload_unsized(arena *a, const char *rel);
/* A link's new URL, or NULL to keep it (url: entities decoded). */
typedef const char *(*port_link_fn)(void *ctx, const char *url, size_t n);
/* Appends html with each tag's href and src passed through fn; returns
 * how many were replaced. Comments and text are copied as they are. */
int64_t port_links_rewrite(buf *out, const char *html, size_t n,
    port_link_fn fn, void *ctx);

/* ---- the import's map of the file (wxr_map.c, wxr_media.c) ------------------- */

struct port_map;
/* One item as the first pass reads it (strings borrowed; NULL: absent). */
struct port_map_item {
	const char *id, *type, *parent, *link, *slug, *attachment_url,
	    *attached_file, *caption, *alt;
};
struct port_map *port_map_new(store *st, struct port_wxr_more *x, bool dry,
    int64_t now);
void port_map_free(struct port_map *m);
/* A channel element: wp:base_site_url and wp:base_blog_url name the old
 * site's hosts. */
void port_map_site(struct port_map *m, const char *name, const char *value);
/* Posts, pages and attachments are kept; other types ignored. */
void port_map_add(struct port_map *m, const struct port_map_item *it);
/* After the first pass: indexes the map, then stores the attachments'
 * files found under uploads (NULL: none) as media, with a redirect from
 * each /wp-content/uploads/ path. */
void port_map_ready(struct port_map *m, const char *uploads);
/* A post's body as stored: shortcodes, wpautop, links rewritten. *later:
 * it names a post not saved yet (port_map_later once saved). */
bool port_map_body(struct port_map *m, const char *post_id, const char *src,
    size_t n, buf *out, bool *later);
/* Attachment id's file: its /media/ URL, else its URL; NULL: unknown. */
const char *port_map_eyecatch(struct port_map *m, int64_t id);
void port_map_later(struct port_map *m, int64_t article);
/* The permalink's path (decoded) redirects to /articles/<id>; false when
 * the database refused. */
bool port_map_permalink(struct port_map *m, const char *link, int64_t id);
/* After the import: the later bodies saved again (content_save), the
 * attachment pages' redirects (to their file, else their post). */
void port_map_finish(struct port_map *m);
void port_map_summary(const struct port_wxr_more *x, bool dry, FILE *out);
/* admin.upload_max (bytes), or its default. */
int64_t port_media_max(store *st);
/* Stores dirfd/rel as media (unless dry); *url its /media/ URL, *fresh
 * when it was not stored before. */
enum port_media_why port_media_copy(store *st, int dirfd, const char *rel,
    int64_t max, int64_t now, bool dry, arena *a, const char **url,
    bool *fresh);

/* ---- pages' parents (wxr_pages.c) -------------------------------------------- */

struct port_parents;
/* Notes that page article came from WordPress page wp_id under wp_parent
 * ("0": the top level) asking for slug (decoded post_name); *p is made
 * on first use. */
void port_parents_note(struct port_parents **p, int64_t article,
    const char *wp_id, const char *wp_parent, const char *slug);
/* After the walk: each noted page moved under its parent (a page of the
 * file, else one an earlier import brought) with the slug it asked for,
 * through content_save, when it is not there already. Returns how many
 * could not be moved (why on stderr). */
int64_t port_parents_apply(struct port_parents *p, store *st, int64_t now);
void port_parents_free(struct port_parents *p); /* NULL-safe */

/* ---- WordPress's text forms (wptext.c) ------------------------------------- */

/* Decodes %XX (any hex case) into the arena; "" when the result is not
 * valid UTF-8. */
const char *port_pct_decode(arena *a, const char *s);
/* A WordPress date: the GMT one, else the local one read in the site's
 * time zone, else 0 (0000-00-00, malformed). Epoch seconds. */
int64_t port_wp_date(const char *gmt, const char *local);

/* ---- `kiji export-wxr` (wxr_export.c) ---------------------------------------- */

struct port_export_opts {
	bool with_emails;        /* commenters' e-mail and IP addresses and
	                          * authors' e-mail; else written empty */
	bool progress;           /* a progress line on stderr (a terminal) */
	const char *title;       /* the channel's: site.title */
	const char *description; /* site.tagline */
	const char *base_url;    /* site.base_url: links, wp:base_site_url */
	const char *lang;        /* site.lang */
	const char *timezone;    /* site.timezone: wp:post_date is local */
	const char *generator;   /* "kiji/0.1.0" */
};
struct port_export_stats {
	int64_t posts, pages, comments, categories, tags, authors;
};
/*
 * Writes the site as WXR 1.2 to out, streaming: every article but the
 * trash (posts and pages, by id) with its comments, after the authors,
 * categories (parents first) and tags. Reads one snapshot. false with a
 * message in err when the store or a write fails (out then holds a
 * truncated file).
 */
bool port_wxr_export(store *st, const struct port_export_opts *o, FILE *out,
    struct port_export_stats *stats, buf *err);

/* ---- kiji's own fields in WXR (wxr_kiji.c) ------------------------------------ */

/*
 * What WXR has no element for travels as postmeta / commentmeta with
 * these keys; the importer reads them back so a kiji → kiji move keeps
 * everything. PORT_KIJI_LEGACY is what a second import matches an item
 * on (instead of wp:post_id / wp:comment_id, which are the exporting
 * site's ids and collide with the WordPress ids some of its articles
 * keep): the WordPress id the article came from, else its guid; for a
 * comment, its WordPress id, else "<article guid>#comment-<id>".
 */
#define PORT_KIJI_MARKDOWN "_kiji_markdown"   /* the Markdown source */
#define PORT_KIJI_HTML "_kiji_html"           /* the HTML source */
#define PORT_KIJI_SOURCES "_kiji_sources"     /* [{"title","url"}…] */
#define PORT_KIJI_EYECATCH "_kiji_eyecatch"   /* its URL */
#define PORT_KIJI_CREDIT "_kiji_eyecatch_credit"
#define PORT_KIJI_LEGACY "_kiji_legacy_id"
#define PORT_KIJI_LIKES "_kiji_like_count"    /* commentmeta */
#define PORT_KIJI_PENDING "_kiji_pending_reason" /* commentmeta */

/* An item's kiji postmeta as read (NULL: not in the item; values in the
 * item's arena). */
struct port_kiji_meta {
	const char *markdown, *html, *sources, *eyecatch, *credit, *legacy;
	const char *menu_order; /* wp:menu_order (pages), WordPress's too */
};
/* A comment's kiji commentmeta as read. */
struct port_kiji_cmeta {
	const char *likes, *legacy, *pending;
};
/* Keeps value when key is one of kiji's; false for any other key. */
bool port_kiji_meta_set(struct port_kiji_meta *m, const char *key,
    const char *value);
bool port_kiji_cmeta_set(struct port_kiji_cmeta *m, const char *key,
    const char *value);
struct content_input;
/* Puts what m carries over in (body and format, sources, eyecatch,
 * credit, legacy id, a page's menu order); strings in a. Sources that are not a JSON array
 * of {title, url} strings are left out (content_save checks the rest). */
void port_kiji_apply(const struct port_kiji_meta *m, struct content_input *in,
    arena *a);
/* False when m carries sources, a credit or a page's menu order that
 * differ from art's (an item without them compares equal). */
bool port_kiji_same(const struct port_kiji_meta *m,
    const struct content_input *in, const struct store_article *art);
/* The like count m carries, -1 when none (or not a count). */
int64_t port_kiji_likes(const struct port_kiji_cmeta *m);
/* The pending reason m carries when it is one kiji knows, else "". */
const char *port_kiji_pending(const struct port_kiji_cmeta *m);

#endif
