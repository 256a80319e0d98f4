/*
 * kiji render's file side (render_files.c), apart from the command so unit
 * tests reach it: where a URL's answer goes below the export directory,
 * the links of a rendered page, writing a file only when its bytes
 * changed (atomically), and removing one.
 */
#ifndef KIJI_CLI_RENDER_H
#define KIJI_CLI_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../site/site.h"

/*
 * The file, relative to the export directory, that holds the answer of
 * decoded path (page > 1: ?page=<page> of a listing) of kind:
 *   SITE_X_HTML   /x → x/index.html, / → index.html
 *   SITE_X_PAGED  the same; page N → x/page/N/index.html (/page/N/...)
 *   SITE_X_FEED   /x/feed → x/feed/index.xml
 *   SITE_X_FILE   /static/kiji.css → static/kiji.css (a name is needed)
 * false (out unspecified) for any path that could leave the directory or
 * name something odd: not starting with '/', empty, "." or ".." segments,
 * a segment starting with '.', control bytes, backslashes, a segment
 * over 255 bytes or a path over 1024.
 */
bool render_file_path(const char *path, int64_t page, enum site_xkind kind,
    buf *out);

/* A site link found in a page: raw is the URL as written (percent-
 * encoded, &amp; undone), path its decoded path, page the ?page=N of a
 * listing (0: none). */
struct render_link {
	const char *path;
	int64_t page;
	enum site_xkind kind;
};

/* What the copy makes of a decoded path (site_export_kind, or a stand-in
 * in the fuzz target). */
typedef enum site_xkind (*render_kind_fn)(void *ctx, const char *path,
    arena *a);

/*
 * Reads a rendered page (body[0..n)) for links to this site: attribute
 * values and element text starting with '/' (not "//") or with base (the
 * copy's base URL). Each link a static copy holds (kind(ctx, path) says
 * which) is passed to found(ctx, link) — a query other than ?page=N on a
 * listing or ?v= on a static file makes it no link. When out is not NULL
 * the page is copied there with every ?page=N link written as the copy's
 * /page/N/ path.
 */
void render_scan(const char *body, size_t n, const char *base, arena *a,
    buf *out, render_kind_fn kind,
    void (*found)(void *ctx, const struct render_link *l), void *ctx);

/* Outcome of render_put. */
enum render_put { RENDER_SAME, RENDER_WROTE, RENDER_ERR };

/*
 * Makes dir/rel hold exactly p[0..n): nothing when it already does, else
 * written to a temporary file beside it and renamed over it (readers see
 * the old file or the new one). Parent folders are made (0755, files
 * 0644). RENDER_ERR with errno set.
 */
enum render_put render_put(const char *dir, const char *rel, const void *p,
    size_t n);
/* Removes dir/rel and the folders it leaves empty (up to dir). */
void render_remove(const char *dir, const char *rel);

#endif
