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
};

struct port_wxr_opts {
	const char *path;   /* the export file */
	bool dry_run;       /* parse and count, write nothing */
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

/* ---- WordPress's text forms (wptext.c) ------------------------------------- */

/* Decodes %XX (any hex case) into the arena; "" when the result is not
 * valid UTF-8. */
const char *port_pct_decode(arena *a, const char *s);
/* A WordPress date: the GMT one, else the local one read in the site's
 * time zone, else 0 (0000-00-00, malformed). Epoch seconds. */
int64_t port_wp_date(const char *gmt, const char *local);

#endif
