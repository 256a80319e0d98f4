/*
 * What the importer learns of the file before it writes: a first pass over
 * the export (the same walker as the import, writing nothing) records, per
 * post, page and attachment, its WordPress id, type, parent, permalink path
 * and slug, and an attachment's file, caption and alt text. That map is
 * what bodies are made with: [gallery] finds its images, links to the old
 * site find the post they name even when it comes later in the file, the
 * featured image its attachment; --uploads files are copied (wxr_media.c)
 * before the first post is saved. Memory: a few short strings per item,
 * never a body. At the end, bodies that named a post saved after them are
 * saved again (through content_save), and attachment pages get redirects.
 */
#include "port.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../content/content.h"

#define MAP_ITEMS_MAX 2000000  /* items mapped; the rest imported unmapped */
#define MAP_PATH_MAX 2000      /* bytes of a permalink path kept */
#define MAP_TEXT_MAX 4096      /* bytes of a caption, URL or alt text kept */
#define MAP_LATER_MAX 1000000  /* bodies waiting for later posts */

struct map_ent {
	int64_t id, parent;
	char type;           /* 'p' post, 'g' page, 'a' attachment */
	char *path;          /* the <link>'s path, decoded; NULL: none */
	char *slug;          /* post_name, decoded */
	char *url, *rel;     /* attachments: the file's URL, path in uploads */
	char *caption, *alt;
	char *media;         /* "/media/<name>" when imported */
	int64_t kiji;        /* the article, once known */
};

struct port_map {
	store *st;
	struct port_wxr_more *x;
	bool dry;
	int64_t now;
	struct map_ent *e;
	size_t n, cap;
	size_t *by_path, *by_slug, *by_rel, *by_parent;
	size_t npath, nslug, nrel, nparent;
	struct port_hosts hosts;
	int64_t *later;
	size_t nlater, latercap;
	arena *a;            /* one body's scratch */
	bool body_later;     /* that body named a post not saved yet */
};

static char *
map_dup(const char *s, size_t max)
{
	return s && *s && strlen(s) <= max ? xstrdup(s) : NULL;
}

struct port_map *
port_map_new(store *st, struct port_wxr_more *x, bool dry, int64_t now)
{
	struct port_map *m = xcalloc(1, sizeof(*m));
	m->st = st;
	m->x = x;
	m->dry = dry;
	m->now = now;
	m->a = arena_new(0);
	return m;
}

void
port_map_free(struct port_map *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++) {
		struct map_ent *e = &m->e[i];
		free(e->path);
		free(e->slug);
		free(e->url);
		free(e->rel);
		free(e->caption);
		free(e->alt);
		free(e->media);
	}
	free(m->e);
	free(m->by_path);
	free(m->by_slug);
	free(m->by_rel);
	free(m->by_parent);
	free(m->later);
	arena_free(m->a);
	free(m);
}

void
port_map_site(struct port_map *m, const char *name, const char *value)
{
	if (strcmp(name, "base_site_url") == 0 ||
	    strcmp(name, "base_blog_url") == 0)
		port_hosts_add(&m->hosts, value, false);
}

/* The path of a permalink (scheme and host off, query and fragment off),
 * decoded; NULL for none, the front page or a query form. */
static const char *
map_link_path(arena *a, const char *link)
{
	const char *p = link ? strstr(link, "://") : NULL;
	if (p == NULL)
		return NULL;
	p += 3;
	p += strcspn(p, "/?#");
	size_t n = strcspn(p, "?#");
	if (n <= 1 || p[0] != '/' || n > MAP_PATH_MAX)
		return NULL;
	const char *path = port_pct_decode(a, arena_strndup(a, p, n));
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return NULL;
	return *path ? path : NULL;
}

void
port_map_add(struct port_map *m, const struct port_map_item *it)
{
	const char *type = it->type ? it->type : "";
	char t = strcmp(type, "post") == 0 ? 'p' : strcmp(type, "page") == 0 ?
	    'g' : strcmp(type, "attachment") == 0 ? 'a' : 0;
	int64_t id = it->id ? strtoll(it->id, NULL, 10) : 0;
	if (t == 0 || id <= 0 || m->n >= MAP_ITEMS_MAX)
		return;
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 256;
		m->e = xrealloc(m->e, m->cap * sizeof(*m->e));
	}
	arena *a = m->a;
	struct map_ent *e = &m->e[m->n++];
	memset(e, 0, sizeof(*e));
	e->id = id;
	e->type = t;
	e->parent = it->parent ? strtoll(it->parent, NULL, 10) : 0;
	e->path = map_dup(map_link_path(a, it->link), MAP_PATH_MAX);
	e->slug = map_dup(port_pct_decode(a, it->slug ? it->slug : ""),
	    MAP_PATH_MAX);
	if (t == 'a') {
		e->url = map_dup(it->attachment_url, MAP_TEXT_MAX);
		e->rel = map_dup(port_upload_rel(a, it->attached_file,
		    it->attachment_url), MAP_TEXT_MAX);
		e->caption = map_dup(it->caption, MAP_TEXT_MAX);
		e->alt = map_dup(it->alt, MAP_TEXT_MAX);
		port_hosts_add(&m->hosts, it->attachment_url, true);
	}
	arena_reset(a);
}

/* ---- indexes ---- */

static int
map_cmp_id(const void *x, const void *y)
{
	const struct map_ent *a = x, *b = y;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* Paths compare without a trailing slash: /a/b/ is /a/b. */
static int
map_pathcmp(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	if (na > 1 && a[na - 1] == '/')
		na--;
	if (nb > 1 && b[nb - 1] == '/')
		nb--;
	int c = memcmp(a, b, na < nb ? na : nb);
	return c ? c : na < nb ? -1 : na > nb;
}

static int
map_cmp_path(const void *x, const void *y, void *ctx)
{
	const struct map_ent *e = ((struct port_map *)ctx)->e;
	return map_pathcmp(e[*(const size_t *)x].path, e[*(const size_t *)y].path);
}

static int
map_cmp_slug(const void *x, const void *y, void *ctx)
{
	const struct map_ent *e = ((struct port_map *)ctx)->e;
	return strcmp(e[*(const size_t *)x].slug, e[*(const size_t *)y].slug);
}

static int
map_cmp_rel(const void *x, const void *y, void *ctx)
{
	const struct map_ent *e = ((struct port_map *)ctx)->e;
	return strcmp(e[*(const size_t *)x].rel, e[*(const size_t *)y].rel);
}

static int
map_cmp_parent(const void *x, const void *y, void *ctx)
{
	const struct map_ent *e = ((struct port_map *)ctx)->e;
	const struct map_ent *a = &e[*(const size_t *)x],
	    *b = &e[*(const size_t *)y];
	if (a->parent != b->parent)
		return a->parent < b->parent ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* An index of the entries has() picks, sorted by cmp. */
static size_t *
map_index(struct port_map *m, size_t *n, bool (*has)(const struct map_ent *),
    int (*cmp)(const void *, const void *, void *))
{
	size_t *ix = xcalloc(m->n + 1, sizeof(*ix));
	*n = 0;
	for (size_t i = 0; i < m->n; i++)
		if (has(&m->e[i]))
			ix[(*n)++] = i;
	qsort_r(ix, *n, sizeof(*ix), cmp, m);
	return ix;
}

static bool
has_path(const struct map_ent *e)
{
	return e->path != NULL;
}

static bool
has_slug(const struct map_ent *e)
{
	return e->slug != NULL && e->type != 'a';
}

static bool
has_rel(const struct map_ent *e)
{
	return e->rel != NULL;
}

static bool
has_parent(const struct map_ent *e)
{
	return e->type == 'a' && e->parent > 0;
}

static struct map_ent *
map_by_id(struct port_map *m, int64_t id)
{
	struct map_ent key = {.id = id};
	return m->n ? bsearch(&key, m->e, m->n, sizeof(*m->e), map_cmp_id) : NULL;
}

/* The entry whose string (via get) equals s in index ix (unique: NULL
 * when two share it, unless first is set). */
static struct map_ent *
map_find(struct port_map *m, const size_t *ix, size_t n, const char *s,
    int (*cmp)(const char *, const char *),
    const char *(*get)(const struct map_ent *), bool first)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp(get(&m->e[ix[mid]]), s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= n || cmp(get(&m->e[ix[lo]]), s) != 0)
		return NULL;
	if (!first && lo + 1 < n && cmp(get(&m->e[ix[lo + 1]]), s) == 0)
		return NULL;
	return &m->e[ix[lo]];
}

static const char *
get_path(const struct map_ent *e)
{
	return e->path;
}

static const char *
get_slug(const struct map_ent *e)
{
	return e->slug;
}

static const char *
get_rel(const struct map_ent *e)
{
	return e->rel;
}

/* ---- what entries point at ---- */

/* The kiji URL of a post or page; NULL when it is not saved (yet). */
static const char *
map_article_url(struct port_map *m, struct map_ent *e)
{
	if (e->kiji == 0) {
		char id[24];
		snprintf(id, sizeof(id), "%lld", (long long)e->id);
		int64_t k = 0;
		if (store_article_by_legacy(m->st, e->type == 'g' ? KIND_PAGE :
		    KIND_POST, id, &k) == STORE_OK && k > 0)
			e->kiji = k;
	}
	if (e->kiji == 0) {
		m->body_later = true;
		return NULL;
	}
	return arena_printf(m->a, "/articles/%lld", (long long)e->kiji);
}

/* An attachment page's target: its file once imported, else the post it
 * is attached to; NULL for none. */
static const char *
map_attachment_url(struct port_map *m, struct map_ent *e)
{
	if (e->media)
		return e->media;
	struct map_ent *p = e->parent > 0 ? map_by_id(m, e->parent) : NULL;
	return p && p->type != 'a' ? map_article_url(m, p) : NULL;
}

/* The imported file for a path under uploads, size variants included. */
static const char *
map_upload_url(struct port_map *m, const char *rel)
{
	struct map_ent *e = map_find(m, m->by_rel, m->nrel, rel, strcmp,
	    get_rel, true);
	if (e == NULL) {
		const char *bare = port_upload_unsized(m->a, rel);
		if (bare)
			e = map_find(m, m->by_rel, m->nrel, bare, strcmp, get_rel,
			    true);
	}
	return e ? e->media : NULL;
}

/* "/category/<slug>" or "/tag/<slug>", the slug percent-encoded as the
 * router reads it. */
static const char *
map_slug_url(arena *a, const char *prefix, const char *slug)
{
	static const char hex[] = "0123456789ABCDEF";
	buf b;
	buf_init(&b, 8192);
	buf_puts(&b, prefix);
	for (const unsigned char *p = (const unsigned char *)slug; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.' || *p == '~') {
			buf_putc(&b, (char)*p);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			buf_put(&b, e, 3);
		}
	}
	const char *s = b.err ? NULL : arena_strndup(a, buf_cstr(&b), b.len);
	buf_free(&b);
	return s;
}

/* port_link_fn: a link's kiji URL, or NULL to keep it. */
static const char *
map_link(void *ctx, const char *url, size_t n)
{
	struct port_map *m = ctx;
	struct port_url u;
	struct map_ent *e = NULL;
	const char *to = NULL;
	port_url_parse(m->a, &m->hosts, url, n, &u);
	switch (u.kind) {
	case PURL_ID:
	case PURL_ATTACHMENT:
		e = map_by_id(m, u.id);
		break;
	case PURL_PATH:
		e = map_find(m, m->by_path, m->npath, u.path, map_pathcmp,
		    get_path, true);
		if (e == NULL) {
			/* a dated or bare permalink whose date or parents
			 * changed: the post's slug alone, when only one has it */
			const char *p = u.path + 1;
			size_t len = strlen(p), b;
			while (len > 0 && p[len - 1] == '/')
				len--;
			for (b = len; b > 0 && p[b - 1] != '/'; b--)
				;
			bool dated = strspn(p, "0123456789") == 4 && p[4] == '/';
			if (len > b && (b == 0 || dated))
				e = map_find(m, m->by_slug, m->nslug,
				    arena_strndup(m->a, p + b, len - b), strcmp,
				    get_slug, false);
		}
		break;
	case PURL_CATEGORY: {
		struct store_category c;
		if (store_category_by_slug(m->st, u.path, m->a, &c) == STORE_OK)
			to = map_slug_url(m->a, "/category/", c.slug);
		break;
	}
	case PURL_TAG: {
		struct store_tag t;
		if (store_tag_by_slug(m->st, u.path, m->a, &t) == STORE_OK)
			to = map_slug_url(m->a, "/tag/", t.slug);
		break;
	}
	case PURL_UPLOAD:
		return map_upload_url(m, u.path);
	default:
		return NULL;
	}
	if (e != NULL)
		to = e->type == 'a' ? map_attachment_url(m, e) :
		    map_article_url(m, e);
	if (to && *u.frag && e && e->type != 'a')
		to = arena_printf(m->a, "%s%s", to, u.frag);
	return to;
}

/* ---- galleries ---- */

/* Whether an attachment is an image by its file name (WordPress shows
 * only images in a gallery). */
static bool
map_is_image(const struct map_ent *e)
{
	if (e->media)
		return true;
	const char *f = e->rel ? e->rel : e->url ? e->url : "";
	const char *dot = strrchr(f, '.');
	static const char *const ext[] = {".jpg", ".jpeg", ".png", ".gif",
	    ".webp", NULL};
	for (size_t i = 0; dot && ext[i]; i++)
		if (strcasecmp(dot, ext[i]) == 0)
			return true;
	return false;
}

static bool
map_sc_media(void *ctx, int64_t id, struct port_sc_media *out)
{
	struct port_map *m = ctx;
	struct map_ent *e = map_by_id(m, id);
	if (e == NULL || e->type != 'a' || !map_is_image(e))
		return false;
	out->url = e->media ? e->media : e->url;
	out->caption = e->caption ? e->caption : "";
	out->alt = e->alt ? e->alt : "";
	return out->url != NULL;
}

static size_t
map_sc_children(void *ctx, int64_t parent, int64_t *ids, size_t max)
{
	struct port_map *m = ctx;
	size_t lo = 0, hi = m->nparent, k = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->e[m->by_parent[mid]].parent < parent)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < m->nparent && k < max &&
	    m->e[m->by_parent[lo]].parent == parent; lo++)
		ids[k++] = m->e[m->by_parent[lo]].id;
	return k;
}

/* ---- the steps ---- */

/* Adds or replaces from → to unless it is there already. */
static bool
map_redirect(struct port_map *m, const char *from, const char *to)
{
	const char *cur;
	if (store_redirect_get(m->st, from, m->a, &cur) == STORE_OK &&
	    strcmp(cur, to) == 0)
		return false;
	return !m->dry && store_redirect_set(m->st, from, to) == STORE_OK;
}

void
port_map_ready(struct port_map *m, const char *uploads)
{
	int dirfd = -1;
	int64_t max = port_media_max(m->st);
	struct port_wxr_more *x = m->x;
	if (m->n > 1) /* a file without items has no table: qsort(NULL) */
		qsort(m->e, m->n, sizeof(*m->e), map_cmp_id);
	m->by_path = map_index(m, &m->npath, has_path, map_cmp_path);
	m->by_slug = map_index(m, &m->nslug, has_slug, map_cmp_slug);
	m->by_rel = map_index(m, &m->nrel, has_rel, map_cmp_rel);
	m->by_parent = map_index(m, &m->nparent, has_parent, map_cmp_parent);
	if (uploads != NULL) {
		dirfd = open(uploads, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			fprintf(stderr, "kiji import-wxr: --uploads %s: cannot "
			    "open the folder; attachments keep their URLs\n",
			    uploads);
	}
	for (size_t i = 0; i < m->n; i++) {
		struct map_ent *e = &m->e[i];
		const char *url = NULL, *from;
		bool fresh = false;
		if (e->type != 'a')
			continue;
		if (e->rel == NULL) {
			if (dirfd >= 0)
				x->media[PMEDIA_MISSING]++;
			continue;
		}
		from = arena_printf(m->a, "/wp-content/uploads/%s", e->rel);
		enum port_media_why why = dirfd < 0 ? PMEDIA_MISSING :
		    port_media_copy(m->st, dirfd, e->rel, max, m->now, m->dry,
		    m->a, &url, &fresh);
		if (dirfd >= 0)
			x->media[why]++;
		if (why == PMEDIA_OK && !fresh)
			x->media_unchanged++;
		if (url == NULL) {
			/* an earlier run's copy: its redirect row says where */
			const char *cur;
			if (store_redirect_get(m->st, from, m->a, &cur) == STORE_OK &&
			    strncmp(cur, "/media/", 7) == 0)
				e->media = xstrdup(cur);
		} else {
			e->media = xstrdup(url);
			map_redirect(m, from, url);
		}
		arena_reset(m->a);
	}
	if (dirfd >= 0)
		close(dirfd);
}

bool
port_map_body(struct port_map *m, const char *post_id, const char *src,
    size_t n, buf *out, bool *later)
{
	buf sc, ap;
	struct port_sc_ctx c = {map_sc_media, map_sc_children, m,
	    post_id ? strtoll(post_id, NULL, 10) : 0};
	buf_init(&sc, 0);
	buf_init(&ap, 0);
	bool ok = port_shortcodes(&sc, src, n, &c, &m->x->sc) &&
	    port_wpautop(&ap, sc.ptr ? sc.ptr : "", sc.len);
	m->body_later = false;
	if (ok)
		m->x->links += port_links_rewrite(out, ap.ptr ? ap.ptr : "", ap.len,
		    map_link, m);
	*later = m->body_later;
	arena_reset(m->a);
	buf_free(&sc);
	buf_free(&ap);
	return ok && !out->err;
}

const char *
port_map_eyecatch(struct port_map *m, int64_t id)
{
	struct map_ent *e = map_by_id(m, id);
	if (e == NULL || e->type != 'a')
		return NULL;
	return e->media ? e->media : e->url;
}

/*
 * The old permalink's path (the item's <link>) answers 301 to the
 * article: the redirects table is consulted before any WordPress URL
 * pattern, so whatever permalink structure the old site used, and slugs
 * changed since, keep working. Stored decoded, as the router sees paths.
 */
bool
port_map_permalink(struct port_map *m, const char *link, int64_t id)
{
	const char *path = map_link_path(m->a, link);
	bool ok = true;
	if (path != NULL && id > 0) {
		const char *to = arena_printf(m->a, "/articles/%lld", (long long)id);
		const char *cur;
		if (strcmp(path, to) != 0 && !(store_redirect_get(m->st, path, m->a,
		    &cur) == STORE_OK && strcmp(cur, to) == 0))
			ok = m->dry || store_redirect_set(m->st, path, to) == STORE_OK;
	}
	arena_reset(m->a);
	return ok;
}

void
port_map_later(struct port_map *m, int64_t article)
{
	if (article <= 0 || m->nlater >= MAP_LATER_MAX)
		return;
	if (m->nlater == m->latercap) {
		m->latercap = m->latercap ? m->latercap * 2 : 64;
		m->later = xrealloc(m->later, m->latercap * sizeof(*m->later));
	}
	m->later[m->nlater++] = article;
}

void
port_map_finish(struct port_map *m)
{
	if (m->dry)
		return;
	/* bodies that named posts saved after them */
	for (size_t i = 0; i < m->nlater; i++) {
		arena *a = arena_new(0);
		struct store_article art;
		struct content_input in;
		struct content_result res;
		buf body;
		buf_init(&body, 0);
		if (store_article_get_any(m->st, m->later[i], a, &art) == STORE_OK) {
			int64_t k = port_links_rewrite(&body, art.body,
			    strlen(art.body), map_link, m);
			if (k > 0 && !body.err && strcmp(buf_cstr(&body),
			    art.body) != 0) {
				content_input_from(&in, &art, a);
				in.body = buf_cstr(&body);
				in.updated_at = art.updated_at;
				in.no_pings = true;
				in.now = m->now;
				if (content_save(m->st, &in, a, &res) == CONTENT_OK) {
					m->x->links += k;
					m->x->links_later++;
				}
			}
		}
		buf_free(&body);
		arena_free(a);
		arena_reset(m->a);
	}
	/* attachment pages: their permalink and ?attachment_id=N */
	for (size_t i = 0; i < m->n; i++) {
		struct map_ent *e = &m->e[i];
		if (e->type != 'a')
			continue;
		const char *to = map_attachment_url(m, e);
		if (to != NULL) {
			const char *q = arena_printf(m->a, "/?attachment_id=%lld",
			    (long long)e->id);
			if (e->path && strcmp(e->path, to) != 0)
				m->x->attach_redirects += map_redirect(m, e->path, to);
			m->x->attach_redirects += map_redirect(m, q, to);
		}
		arena_reset(m->a);
	}
}

void
port_map_summary(const struct port_wxr_more *x, bool dry, FILE *out)
{
	const struct port_sc_stats *sc = &x->sc;
	fprintf(out, "  shortcodes  %lld converted to HTML", (long long)sc->converted);
	if (sc->unknown_total) {
		fprintf(out, "; %lld unknown, kept as text:",
		    (long long)sc->unknown_total);
		for (size_t k = 0; k <= PORT_SC_NAMES; k++)
			if (sc->unknown[k].n)
				fprintf(out, " [%s] %lld", k == PORT_SC_NAMES ?
				    "other" : sc->unknown[k].name,
				    (long long)sc->unknown[k].n);
	}
	fputc('\n', out);
	fprintf(out, "  links       %lld to the old site %s kiji URLs",
	    (long long)x->links, dry ? "would point at" : "now point at");
	if (x->links_later)
		fprintf(out, " (%lld bodies saved again once the posts they name "
		    "were in)", (long long)x->links_later);
	fputc('\n', out);
	int64_t seen = 0;
	for (int k = 0; k < PMEDIA__MAX; k++)
		seen += x->media[k];
	if (seen == 0 && x->attach_redirects == 0)
		return;
	fprintf(out, "  media       %lld %s from --uploads, %lld there already",
	    (long long)(x->media[PMEDIA_OK] - x->media_unchanged),
	    dry ? "to copy" : "copied", (long long)x->media_unchanged);
	for (int k = PMEDIA_MISSING; k < PMEDIA__MAX; k++)
		if (x->media[k])
			fprintf(out, ", %lld %s", (long long)x->media[k],
			    port_media_why_names[k]);
	fprintf(out, "; %lld attachment page redirects\n",
	    (long long)x->attach_redirects);
}
