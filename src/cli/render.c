/*
 * kiji render: the public site as files for a CDN or any web server. Every
 * page is the answer of the real handler (site_handle, in process) for a
 * GET of its URL; the pages are found by following the site's own links
 * from the front page, the sitemap, the feeds and the monthly archives.
 * Incremental: DIR/.kiji-export remembers the change number exported and
 * the cache tags each file was built from, so the next run reads the
 * change log since then and renders only the files those changes touch
 * (the page cache's invalidation, site_sync), or everything when the log
 * no longer reaches back. Files are written atomically and only when
 * their bytes changed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../site/site.h"
#include "cli.h"
#include "render.h"

#define STATE_FILE ".kiji-export"
#define STATE_MAGIC "kiji-export 1"
#define NGINX_FILE "nginx-kiji.conf"

static const char usage_render[] =
    "usage: kiji render --db FILE --out DIR [--base-url URL]\n"
    "                   [--live-origin URL] [--full] [--verbose]\n"
    "\n"
    "Writes the public site as static files into DIR: every article, page,\n"
    "listing (its ?page=N pages as <listing>/page/N/), monthly archive,\n"
    "feed, sitemap, robots.txt, theme file and image, each URL /x as\n"
    "x/index.html (feeds x/index.xml, files at their own path), the bytes\n"
    "the server sends for that URL, and DIR/nginx-kiji.conf for nginx.\n"
    "The next run renders only what changed since (read from the change\n"
    "log; everything when the log no longer reaches back) and rewrites\n"
    "only files whose bytes changed.\n"
    "\n"
    "  --db FILE          the site's database (required)\n"
    "  --out DIR          the folder to write (made when missing)\n"
    "  --base-url URL     the copy's address (default: site.base_url)\n"
    "  --live-origin URL  comment and like forms and search go to the kiji\n"
    "                     serving there (which must list the copy's origin\n"
    "                     in http.origin_allow); default: a read-only copy,\n"
    "                     comments shown without forms, no search box\n"
    "  --full             render everything, not only what changed\n"
    "  --verbose          name every file written or removed on stdout\n"
    "  -h, --help         this help\n";

/* One URL of the copy, from the last export or found in this one. */
struct rx_entry {
	char *url;         /* decoded path, "?page=N" after a listing's path */
	char *file;        /* below DIR */
	enum site_xkind kind;
	int64_t *tags;     /* cache tags its answer was built from */
	size_t ntags;
	bool untagged;     /* no tags: rendered again every run */
	bool old;          /* in the last export's state */
	bool queued;       /* rendered (or to be) in this run */
	bool gone;         /* no longer answered: removed */
};

struct rx {
	site *s;
	const char *dir;
	const char *base;   /* the copy's base URL, without a final '/' */
	const char *live;   /* --live-origin, or NULL */
	bool verbose, progress;
	bool incr;          /* only what the changes touched */
	int64_t now;
	struct rx_entry *e;
	size_t n, cap;
	size_t *slots;      /* open addressing over e: index + 1, 0 empty */
	size_t nslots;
	size_t *queue;      /* indexes of e to render, in order */
	size_t qhead, qn, qcap;
	int64_t *dirty;     /* sorted tags the changes touched */
	size_t ndirty;
	int64_t rendered, wrote, same, removed, failed;
	struct timespec drawn;
};

static uint64_t
rx_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void
rx_rehash(struct rx *x)
{
	free(x->slots);
	x->nslots = x->nslots ? x->nslots * 2 : 1024;
	x->slots = xcalloc(x->nslots, sizeof(*x->slots));
	for (size_t i = 0; i < x->n; i++) {
		size_t j = rx_hash(x->e[i].url) & (x->nslots - 1);
		while (x->slots[j])
			j = (j + 1) & (x->nslots - 1);
		x->slots[j] = i + 1;
	}
}

/* The entry of url, or (add) a new one; SIZE_MAX when absent. */
static size_t
rx_find(struct rx *x, const char *url, bool add)
{
	if (x->nslots == 0 || (add && (x->n + 1) * 2 > x->nslots))
		rx_rehash(x);
	size_t j = rx_hash(url) & (x->nslots - 1);
	for (; x->slots[j]; j = (j + 1) & (x->nslots - 1))
		if (strcmp(x->e[x->slots[j] - 1].url, url) == 0)
			return x->slots[j] - 1;
	if (!add)
		return SIZE_MAX;
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 1024;
		x->e = xrealloc(x->e, x->cap * sizeof(*x->e));
	}
	memset(&x->e[x->n], 0, sizeof(x->e[0]));
	x->e[x->n].url = xstrdup(url);
	x->slots[j] = x->n + 1;
	return x->n++;
}

static void
rx_enqueue(struct rx *x, size_t i)
{
	if (x->e[i].queued)
		return;
	x->e[i].queued = true;
	if (x->qn == x->qcap) {
		x->qcap = x->qcap ? x->qcap * 2 : 1024;
		x->queue = xrealloc(x->queue, x->qcap * sizeof(*x->queue));
	}
	x->queue[x->qn++] = i;
}

/* Adds url (of kind, page) to the export, queued, unless known. */
static void
rx_add(struct rx *x, const char *path, int64_t page, enum site_xkind kind)
{
	char *url = page > 1 ? NULL : (char *)path;
	if (page > 1) {
		size_t n = strlen(path) + 24;
		url = xmalloc(n);
		snprintf(url, n, "%s?page=%lld", path, (long long)page);
	}
	size_t before = x->n;
	size_t i = rx_find(x, url, true);
	if (i == before) {
		buf f;
		buf_init(&f, 0);
		x->e[i].kind = kind;
		if (render_file_path(path, page, kind, &f))
			x->e[i].file = xstrdup(buf_cstr(&f));
		buf_free(&f);
	}
	/* an incremental run renders what changed, and what is new */
	if (i == before || !x->incr)
		rx_enqueue(x, i);
	if (url != path)
		free(url);
}

static enum site_xkind
rx_kind(void *ctx, const char *path, arena *a)
{
	const struct rx *x = ctx;
	return site_export_kind(x->s, path, a);
}

static void
rx_found(void *ctx, const struct render_link *l)
{
	rx_add(ctx, l->path, l->page, l->kind);
}

/* `\r[####....] 420/1200 files` on stderr, ~20 times a second. */
static void
rx_progress(struct rx *x, bool last)
{
	if (!x->progress)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t ms = (int64_t)(now.tv_sec - x->drawn.tv_sec) * 1000 +
	    (now.tv_nsec - x->drawn.tv_nsec) / 1000000;
	if (!last && ms < 50)
		return;
	x->drawn = now;
	char bar[31];
	int fill = x->qn ? (int)(x->qhead * 30 / x->qn) : 30;
	for (int j = 0; j < 30; j++)
		bar[j] = j < fill ? '#' : '.';
	bar[30] = '\0';
	fprintf(stderr, "\r[%s] %zu/%zu files", bar, x->qhead, x->qn);
	if (last)
		fputc('\n', stderr);
	fflush(stderr);
}

static bool
rx_tag_dirty(const struct rx *x, int64_t t)
{
	size_t lo = 0, hi = x->ndirty;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (x->dirty[mid] == t)
			return true;
		if (x->dirty[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* ---- state ------------------------------------------------------------------ */

/*
 * Reads DIR/.kiji-export into x (entries marked old) and returns the
 * change number it was taken at; -1 when there is none or it was made
 * for another base URL or mode (then everything is rendered again).
 * Lines: the magic, "seq N", "base URL", "live ORIGIN|-", then one
 * "e KIND TAGS\tURL" per file (TAGS "*" or comma-separated).
 */
static int64_t
rx_state_load(struct rx *x)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", x->dir, STATE_FILE);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int64_t seq = -1;
	int hdr = 0;
	bool ok = true;
	while (ok && (len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (hdr == 0) {
			ok = strcmp(line, STATE_MAGIC) == 0;
		} else if (hdr == 1) {
			long long v = -1;
			ok = strncmp(line, "seq ", 4) == 0 &&
			    parse_num(line + 4, 0, INT64_MAX, &v);
			seq = v;
		} else if (hdr == 2) {
			ok = strncmp(line, "base ", 5) == 0 &&
			    strcmp(line + 5, x->base) == 0;
		} else if (hdr == 3) {
			ok = strncmp(line, "live ", 5) == 0 &&
			    strcmp(line + 5, x->live ? x->live : "-") == 0;
		} else {
			char *tab = strchr(line, '\t');
			if (tab == NULL || line[0] != 'e' || line[1] != ' ' ||
			    line[2] < '1' || line[2] >= '0' + SITE_X__MAX) {
				ok = false;
				break;
			}
			*tab = '\0';
			enum site_xkind kind = (enum site_xkind)(line[2] - '0');
			size_t i = rx_find(x, tab + 1, true);
			struct rx_entry *e = &x->e[i];
			e->kind = kind;
			e->old = true;
			const char *t = line + 4;
			if (strcmp(t, "*") == 0) {
				e->untagged = true;
			} else {
				size_t nt = 1;
				for (const char *p = t; *p; p++)
					nt += *p == ',';
				e->tags = xcalloc(nt, sizeof(*e->tags));
				for (char *p = (char *)t; *p; ) {
					char *end;
					e->tags[e->ntags++] = strtoll(p, &end, 10);
					p = *end == ',' ? end + 1 : end;
					if (end == p && *p)
						break;
				}
			}
			/* where it lives follows from the URL and kind */
			char *q = strstr(e->url, "?page=");
			long long page = 0;
			if (q) {
				*q = '\0';
				page = strtoll(q + 6, NULL, 10);
			}
			buf fb;
			buf_init(&fb, 0);
			if (render_file_path(e->url, page, kind, &fb))
				e->file = xstrdup(buf_cstr(&fb));
			buf_free(&fb);
			if (q)
				*q = '?';
		}
		hdr++;
	}
	free(line);
	fclose(f);
	return ok && hdr >= 4 ? seq : -1;
}

static bool
rx_state_save(struct rx *x, int64_t seq)
{
	buf b;
	buf_init(&b, 0);
	buf_printf(&b, "%s\nseq %" PRId64 "\nbase %s\nlive %s\n", STATE_MAGIC,
	    seq, x->base, x->live ? x->live : "-");
	for (size_t i = 0; i < x->n; i++) {
		struct rx_entry *e = &x->e[i];
		if (e->gone || e->file == NULL || (!e->old && !e->queued))
			continue;
		buf_printf(&b, "e %d ", (int)e->kind);
		if (e->untagged)
			buf_putc(&b, '*');
		for (size_t t = 0; !e->untagged && t < e->ntags; t++)
			buf_printf(&b, "%s%" PRId64, t ? "," : "", e->tags[t]);
		buf_printf(&b, "\t%s\n", e->url);
	}
	bool ok = !b.err && render_put(x->dir, STATE_FILE, b.ptr, b.len) !=
	    RENDER_ERR;
	buf_free(&b);
	return ok;
}

/* ---- nginx ------------------------------------------------------------------ */

/*
 * DIR/nginx-kiji.conf, for a server { } serving DIR: /x finds x/index.html
 * without a redirect, feeds their index.xml with the feed's content type,
 * the sitemaps theirs; the copy's security headers (form-action and
 * connect-src name the live kiji when there is one).
 */
static bool
rx_nginx(struct rx *x)
{
	buf b;
	buf_init(&b, 0);
	const char *lv = x->live ? x->live : "";
	/* a folder nginx cannot read back from a quoted string: no root */
	bool plain = strcspn(x->dir, "\"\\$;{}\n\r\t") == strlen(x->dir);
	buf_printf(&b,
	    "# Written by kiji render for the static copy in %s;\n"
	    "# include it inside the server { } that serves it.\n"
	    "%sroot \"%s\";\n"
	    "index index.html;\n"
	    "add_header X-Content-Type-Options nosniff always;\n"
	    "add_header Referrer-Policy strict-origin-when-cross-origin always;\n"
	    "add_header Content-Security-Policy \"default-src 'self'; "
	    "script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
	    "form-action 'self'%s%s; connect-src 'self'%s%s; "
	    "frame-ancestors 'self'; base-uri 'self'; object-src 'none'\" "
	    "always;\n"
	    "location / {\n"
	    "\ttry_files $uri $uri/index.html =404;\n"
	    "}\n"
	    "# Atom feeds: /feed/atom, /category/<slug>/feed/atom\n"
	    "location ~ ^/(category/[^/]+/)?feed/atom/?$ {\n"
	    "\ttypes { }\n"
	    "\tdefault_type \"application/atom+xml; charset=utf-8\";\n"
	    "\ttry_files $uri/index.xml =404;\n"
	    "}\n"
	    "# RSS: /feed, /category/<slug>/feed, /articles/<id>/feed\n"
	    "location ~ ^/(category/[^/]+/|articles/[0-9]+/)?feed/?$ {\n"
	    "\ttypes { }\n"
	    "\tdefault_type \"application/rss+xml; charset=utf-8\";\n"
	    "\ttry_files $uri/index.xml =404;\n"
	    "}\n"
	    "location ~ ^/sitemap(-[0-9]+)?\\.xml$ {\n"
	    "\ttypes { }\n"
	    "\tdefault_type \"application/xml; charset=utf-8\";\n"
	    "}\n"
	    "location = /robots.txt {\n"
	    "\ttypes { }\n"
	    "\tdefault_type \"text/plain; charset=utf-8\";\n"
	    "}\n"
	    "location /static/ {\n"
	    "\tadd_header X-Content-Type-Options nosniff always;\n"
	    "\tadd_header Cache-Control \"public, max-age=86400\";\n"
	    "}\n"
	    "location /media/ {\n"
	    "\tadd_header X-Content-Type-Options nosniff always;\n"
	    "\tadd_header Cache-Control \"public, max-age=86400\";\n"
	    "\tadd_header Content-Security-Policy \"default-src 'none'; "
	    "style-src 'unsafe-inline'; sandbox\";\n"
	    "}\n", plain ? x->dir : "(a folder named oddly)", plain ? "" : "# ",
	    plain ? x->dir : "DIR", *lv ? " " : "", lv, *lv ? " " : "", lv);
	bool ok = !b.err && render_put(x->dir, NGINX_FILE, b.ptr, b.len) !=
	    RENDER_ERR;
	buf_free(&b);
	return ok;
}

/* ---- the export ----------------------------------------------------------------- */

/* Renders entry i and writes (or removes) its file; new links queued. */
static void
rx_one(struct rx *x, size_t i, arena *a, buf *rewritten)
{
	struct rx_entry *e = &x->e[i];
	if (e->file == NULL) {
		x->failed++; /* a URL no file may hold (render_file_path) */
		e->gone = true;
		return;
	}
	/* Images never change under one name once exported: kept (a full
	 * export checks them again). */
	if (x->incr && e->old && e->kind == SITE_X_FILE && strncmp(e->url, "/media/", 7) ==
	    0) {
		char p[4096];
		struct stat sb;
		snprintf(p, sizeof(p), "%s/%s", x->dir, e->file);
		if (stat(p, &sb) == 0)
			return;
	}
	const char *q = strstr(e->url, "?page=");
	const char *path = q ? arena_strndup(a, e->url, (size_t)(q - e->url)) :
	    e->url;
	struct site_xpage pg;
	x->rendered++;
	if (!site_export_get(x->s, path, q ? q + 1 : "", x->now, a, &pg) ||
	    pg.status != 200 || pg.body.err) {
		/* gone (404), moved (301) or broken: no file for it */
		buf_free(&pg.body);
		if (e->old) {
			render_remove(x->dir, e->file);
			x->removed++;
			if (x->verbose)
				printf("removed %s\n", e->file);
		}
		e->gone = true;
		return;
	}
	free(e->tags);
	e->tags = NULL;
	e->untagged = pg.untagged;
	e->ntags = pg.untagged ? 0 : pg.ntags;
	if (e->ntags) {
		e->tags = xcalloc(e->ntags, sizeof(*e->tags));
		memcpy(e->tags, pg.tags, e->ntags * sizeof(*e->tags));
	}
	const buf *out = &pg.body;
	bool html = e->kind == SITE_X_HTML || e->kind == SITE_X_PAGED;
	bool xml = e->kind == SITE_X_FEED || (e->kind == SITE_X_FILE &&
	    strncmp(e->url, "/sitemap", 8) == 0);
	if (html || xml) {
		buf_reset(rewritten);
		render_scan(pg.body.ptr, pg.body.len, x->base, a,
		    html ? rewritten : NULL, rx_kind, rx_found, x);
		e = &x->e[i]; /* the links found may have moved the table */
		if (html)
			out = rewritten;
	}
	enum render_put r = render_put(x->dir, e->file, out->ptr, out->len);
	if (r == RENDER_ERR) {
		fprintf(stderr, "kiji render: %s/%s: %s\n", x->dir, e->file,
		    strerror(errno));
		x->failed++;
	} else if (r == RENDER_WROTE) {
		x->wrote++;
		if (x->verbose)
			printf("wrote %s\n", e->file);
	} else {
		x->same++;
	}
	buf_free(&pg.body);
}

/*
 * Which files the changes after seq touch, as the page cache's tags
 * (site_sync); false when everything must be rendered again (an article
 * added, moved or retitled, a setting, the categories) or the log no
 * longer reaches back to seq.
 */
static bool
rx_changes(struct rx *x, store *st, int64_t seq, int64_t newest,
    int64_t oldest)
{
	if (newest == seq)
		return true;
	if (oldest == 0 || oldest > seq + 1 || newest < seq)
		return false; /* pruned past what we saw, or another database */
	arena *a = arena_new(0);
	size_t cap = 0;
	bool ok = true;
	for (int64_t after = seq; ok;) {
		struct store_change *ch;
		size_t n = 0;
		if (store_changes_since(st, after, 1024, a, &ch, &n) != STORE_OK) {
			ok = false;
			break;
		}
		for (size_t i = 0; ok && i < n; i++) {
			int64_t t[4];
			int nk = site_change_tags(&ch[i], t);
			if (nk < 0) {
				ok = false;
				break;
			}
			size_t nt = (size_t)nk;
			if (x->ndirty + nt > cap) {
				cap = (cap + nt) * 2;
				x->dirty = xrealloc(x->dirty, cap * sizeof(*x->dirty));
			}
			for (size_t k = 0; k < nt; k++)
				x->dirty[x->ndirty++] = t[k];
		}
		if (n > 0)
			after = ch[n - 1].seq;
		arena_reset(a);
		if (n < 1024)
			break;
	}
	arena_free(a);
	if (x->ndirty)
		qsort(x->dirty, x->ndirty, sizeof(*x->dirty), cmp_i64);
	return ok;
}

static int
rx_run(struct rx *x, store *st, bool full)
{
	int64_t oldest = 0, newest = 0;
	if (store_changes_span(st, &oldest, &newest) != STORE_OK) {
		fprintf(stderr, "kiji render: cannot read the change log\n");
		return 1;
	}
	int64_t seq = full ? -1 : rx_state_load(x);
	bool incr = seq >= 0 && rx_changes(x, st, seq, newest, oldest);
	x->incr = incr;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	arena *a = arena_new(0);
	if (incr) {
		/* what the changes touched, and what has no tags */
		for (size_t i = 0; i < x->n; i++) {
			struct rx_entry *e = &x->e[i];
			bool redo = e->untagged;
			for (size_t t = 0; !redo && t < e->ntags; t++)
				redo = rx_tag_dirty(x, e->tags[t]);
			if (redo)
				rx_enqueue(x, i);
		}
	} else {
		static const char *const seeds[] = {"/", "/sitemap.xml",
		    "/robots.txt", "/feed", "/feed/atom", "/ranking"};
		for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
			rx_add(x, seeds[i], 0, site_export_kind(x->s, seeds[i], a));
		const char **months;
		size_t nm = 0;
		if (site_export_months(x->s, x->now, a, &months, &nm))
			for (size_t i = 0; i < nm; i++)
				rx_add(x, months[i], 0, SITE_X_PAGED);
		/* the old entries not reached again are removed below */
	}
	buf rewritten;
	buf_init(&rewritten, 0);
	while (x->qhead < x->qn) {
		rx_one(x, x->queue[x->qhead++], a, &rewritten);
		arena_reset(a);
		rx_progress(x, false);
	}
	rx_progress(x, true);
	buf_free(&rewritten);
	if (!incr)
		for (size_t i = 0; i < x->n; i++) {
			struct rx_entry *e = &x->e[i];
			if (e->old && !e->queued && e->file) {
				render_remove(x->dir, e->file);
				x->removed++;
				e->gone = true;
				if (x->verbose)
					printf("removed %s\n", e->file);
			}
		}
	arena_free(a);
	bool ok = rx_nginx(x) && rx_state_save(x, newest);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("kiji render: %s export of change %" PRId64 " to %s: %" PRId64
	    " rendered, %" PRId64 " written, %" PRId64 " unchanged, %" PRId64
	    " removed, %" PRId64 " failed in %.2f s\n", incr ? "incremental" :
	    "full", newest, x->dir, x->rendered, x->wrote, x->same, x->removed,
	    x->failed, s);
	if (!ok)
		fprintf(stderr, "kiji render: cannot write %s/%s\n", x->dir,
		    STATE_FILE);
	return ok && x->failed == 0 ? 0 : 1;
}

/* An absolute http(s) URL without query, fragment or control bytes. */
static bool
url_ok(const char *u)
{
	if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
		return false;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '?' ||
		    *p == '#' || *p == '"' || *p == '\\')
			return false;
	return strlen(u) < 400;
}

int
cmd_render(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"out", required_argument, NULL, 'o'},
		{"base-url", required_argument, NULL, 'b'},
		{"live-origin", required_argument, NULL, 'l'},
		{"full", no_argument, NULL, 'F'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL, *out = NULL, *base = NULL, *live = NULL;
	bool full = false, verbose = false;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'o': out = optarg; break;
		case 'b': base = optarg; break;
		case 'l': live = optarg; break;
		case 'F': full = true; break;
		case 'v': verbose = true; break;
		case 'h': fputs(usage_render, stdout); return 0;
		default: die_getopt("render", c, argv);
		}
	}
	if (optind < argc)
		die_usage("render", "unexpected argument %s", argv[optind]);
	need_db("render", db);
	if (out == NULL || *out == '\0')
		die_usage("render", "--out DIR is required");
	if (base && !url_ok(base))
		die_usage("render", "--base-url: want http(s)://host[:port][/path]"
		    ", not '%s'", base);
	if (live && !url_ok(live))
		die_usage("render", "--live-origin: want http(s)://host[:port], "
		    "not '%s'", live);
	if (mkdir(out, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "kiji render: %s: %s\n", out, strerror(errno));
		return 1;
	}
	char *dir = realpath(out, NULL);
	if (dir == NULL) {
		fprintf(stderr, "kiji render: %s: %s\n", out, strerror(errno));
		return 1;
	}
	store *st = open_store(db);
	if (st == NULL) {
		free(dir);
		return 1;
	}
	buf err;
	buf_init(&err, 4096);
	int rc = 1;
	site *s = site_new(st, NULL, &err);
	if (s == NULL) {
		fprintf(stderr, "kiji render: theme: %s\n", buf_cstr(&err));
		goto out;
	}
	site_export_begin(s, &(struct site_export_opts){.base_url = base,
	    .live_origin = live}, &err);
	/* the base URL the pages are rendered with: the state is tied to it */
	char *b = site_export_base_url(s);
	struct rx x = {
		.s = s, .dir = dir, .base = b, .live = live,
		.verbose = verbose,
		.progress = isatty(STDERR_FILENO) && !verbose,
		.now = text_now(),
	};
	rc = rx_run(&x, st, full);
	for (size_t i = 0; i < x.n; i++) {
		free(x.e[i].url);
		free(x.e[i].file);
		free(x.e[i].tags);
	}
	free(x.e);
	free(x.slots);
	free(x.queue);
	free(x.dirty);
	free(b);
out:
	site_free(s);
	store_close(st);
	buf_free(&err);
	free(dir);
	return rc;
}
