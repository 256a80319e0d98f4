/*
 * `kiji import-wxr`: a WordPress export (WXR 1.0–1.2) read with libxml2's
 * streaming reader, so memory stays flat whatever the file's size: one
 * <item> at a time is held (with its comments) in an arena that is reset
 * after it. Nothing is fetched: no network, no DTD, no external entity;
 * a DOCTYPE that declares entities is refused before any is expanded.
 * The file is read twice: the first pass only fills the map of ids,
 * links and files bodies are made with (wxr_map.c; --uploads copied
 * after it). Articles go through content_save (batched); comments,
 * categories, tags and authors through the store. Matching on WordPress ids
 * (legacy_id) makes a second run change nothing.
 */
#include "port.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libxml/entities.h>
#include <libxml/hash.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlreader.h>

#include "../content/content.h"

#define WXR_FIELD_MAX (4u << 20)    /* bytes of one element's text */
#define WXR_SHORT_MAX (64u << 10)   /* bytes kept of a short field */
#define WXR_COMMENTS_MAX 100000     /* comments of one item */
#define WXR_COMMENT_MAX (64u << 10) /* bytes of one comment's text */
#define WXR_ITEM_CATS_MAX 1000      /* category elements of one item */
#define WXR_TERMS_MAX 200000        /* channel categories kept for parents */
#define WXR_USERS_MAX 100000
#define WXR_ENTITIES_MAX 16         /* internal entities a DOCTYPE may declare */
#define WXR_ENTITY_LEN 1024         /* bytes of one entity's replacement */
#define WXR_REASONS_MAX 30          /* failure lines printed, then counted */
#define WXR_DEPTH_MAX 64
/* Bytes the reader may take from the file for one step (one node). libxml2's
 * reader is quadratic on a long CDATA section (8 MB: 8 s), so the file is
 * fed through wxr_in_read, which cuts it off past this many bytes without
 * a node: a field longer than WXR_FIELD_MAX is refused anyway. */
#define WXR_STEP_BYTES (WXR_FIELD_MAX + (64u << 10))

enum wxr_ns { NS_NONE, NS_WP, NS_CONTENT, NS_EXCERPT, NS_DC, NS_OTHER };

/* One <wp:comment>. */
struct wxr_comment {
	const char *id, *parent, *author, *email, *url, *ip, *date, *date_gmt,
	    *content, *approved, *type;
	int64_t kiji_id; /* once stored (or found) */
	bool done;
	const char *meta_key;          /* the current wp:commentmeta's key */
	struct port_kiji_cmeta kiji;   /* kiji's commentmeta (wxr_kiji.c) */
};

/* One <category> of an item. */
struct wxr_cat {
	const char *domain, *nicename, *name;
};

/* One <item> as read; strings in the item arena. */
struct wxr_item {
	const char *title, *link, *creator, *content, *excerpt, *post_id,
	    *post_date, *post_date_gmt, *post_name, *status, *post_type,
	    *comment_status, *attachment_url, *thumbnail_id;
	const char *post_parent, *modified, *modified_gmt, *attached_file,
	    *image_alt;
	struct wxr_cat *cats;
	size_t ncats, catcap;
	struct wxr_comment *comments;
	size_t ncomments, comcap;
	const char *meta_key;          /* the current wp:postmeta's key */
	struct port_kiji_meta kiji;    /* kiji's postmeta (wxr_kiji.c) */
	bool too_big;                  /* a field passed WXR_FIELD_MAX */
};

/* A channel category waiting for its parent. */
struct wxr_term {
	char *slug, *parent, *name, *desc;
	bool done;
};

struct wxr_user {
	char *login;
	int64_t id;
};

struct wxr {
	store *st;
	const struct port_wxr_opts *o;
	struct port_wxr_stats *s;
	buf *err;
	int64_t now;
	xmlTextReaderPtr r;
	int fd;                 /* the export, fed to r by wxr_in_read */
	size_t step_bytes;      /* read from fd since the last node */
	bool step_over;         /* cut off: one node past WXR_STEP_BYTES */
	char xml_err[512];      /* the first error libxml2 reported */
	bool failed;
	bool is_rss, seen_wp, in_channel, terms_flushed;
	/* the element stack: namespace class and local name */
	struct {
		enum wxr_ns ns;
		char name[40];
	} stack[WXR_DEPTH_MAX];
	int depth;
	buf text;               /* the text of the innermost element */
	bool text_over;
	/* the record being read */
	enum { REC_NONE, REC_AUTHOR, REC_CATEGORY, REC_TAG, REC_ITEM } rec;
	struct wxr_comment *comment;   /* inside wp:comment */
	arena *ia;              /* the current item's (or record's) arena */
	struct wxr_item item;
	const char *f[6];       /* author/category/tag record fields */
	struct wxr_term *terms;
	size_t nterms, termcap;
	struct wxr_user *users;
	size_t nusers, usercap;
	struct port_map *map;   /* the file's ids, links, files (wxr_map.c) */
	bool scan;              /* the first pass: fills the map, writes nothing */
	struct port_parents *parents; /* pages to hang under theirs (wxr_pages.c) */
	int reasons;
	int64_t last_progress;
};

/* ---- small helpers ---- */

static void
wxr_reason(struct wxr *w, const char *fmt, ...)
{
	va_list ap;
	if (w->reasons++ >= WXR_REASONS_MAX)
		return;
	va_start(ap, fmt);
	fputs("kiji import-wxr: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void *
wxr_grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	size_t c = *cap ? *cap * 2 : 64;
	while (c < need)
		c *= 2;
	*cap = c;
	return xrealloc(p, c * size);
}

static const char *
nz(const char *s)
{
	return s ? s : "";
}

/* s as NFC text with spaces squashed (the form content_save stores). */
static const char *
wxr_norm(arena *a, const char *s, bool squash)
{
	size_t n = strlen(nz(s));
	buf nfc, sq;
	const char *r = "";
	if (n == 0 || !text_utf8_valid(s, n))
		return "";
	buf_init(&nfc, 0);
	buf_init(&sq, 0);
	if (text_nfc(&nfc, s, n)) {
		if (squash) {
			text_squash_space(&sq, buf_cstr(&nfc), nfc.len);
			r = arena_strndup(a, buf_cstr(&sq), sq.len);
		} else {
			r = arena_strndup(a, buf_cstr(&nfc), nfc.len);
		}
	}
	buf_free(&nfc);
	buf_free(&sq);
	return r;
}

/* ---- libxml2 ---- */

/* Every error (not warnings) is fatal: truncation, bad bytes for the
 * declared encoding, entity loops, huge text nodes. */
static void
wxr_xml_error(void *ctx, xmlErrorPtr e)
{
	struct wxr *w = ctx;
	if (e == NULL || e->level < XML_ERR_ERROR || w->failed)
		return;
	w->failed = true;
	snprintf(w->xml_err, sizeof(w->xml_err), "line %d: %s", e->line,
	    e->message ? e->message : "XML error");
	size_t n = strlen(w->xml_err);
	while (n > 0 && (w->xml_err[n - 1] == '\n' || w->xml_err[n - 1] == ' '))
		w->xml_err[--n] = '\0';
}

/* libxml2's unstructured messages (encoding conversion) are reported
 * through the structured handler; nothing is printed directly. */
static void
wxr_xml_quiet(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

/* No file or URL is ever loaded for an entity or a DTD. */
static xmlParserInputPtr
wxr_no_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)id;
	(void)ctxt;
	(void)url;
	return NULL;
}

/* Scans a DOCTYPE's entity declarations: external ones and more than a
 * few, long or nested internal ones are refused (billion laughs). */
struct wxr_ent_scan {
	int n;
	bool bad;
};

static void
wxr_ent_check(void *payload, void *data, const xmlChar *name)
{
	xmlEntityPtr ent = payload;
	struct wxr_ent_scan *sc = data;
	(void)name;
	sc->n++;
	if (ent->etype != XML_INTERNAL_GENERAL_ENTITY &&
	    ent->etype != XML_INTERNAL_PARAMETER_ENTITY)
		sc->bad = true;
	else if (ent->content == NULL ||
	    strlen((const char *)ent->content) > WXR_ENTITY_LEN ||
	    strchr((const char *)ent->content, '&') != NULL ||
	    strchr((const char *)ent->content, '%') != NULL)
		sc->bad = true;
}

static bool
wxr_doctype_ok(struct wxr *w)
{
	/* (not xmlTextReaderCurrentDoc: it would keep the whole tree) */
	xmlNodePtr n = xmlTextReaderCurrentNode(w->r);
	struct wxr_ent_scan sc = {0, false};
	if (n && n->type == XML_DTD_NODE) {
		xmlDtdPtr dtd = (xmlDtdPtr)n;
		if (dtd->entities)
			xmlHashScan(dtd->entities, wxr_ent_check, &sc);
		if (dtd->pentities)
			xmlHashScan(dtd->pentities, wxr_ent_check, &sc);
	}
	return !sc.bad && sc.n <= WXR_ENTITIES_MAX;
}

/* The namespace class of the reader's current node. */
static enum wxr_ns
wxr_ns_of(const char *uri)
{
	if (uri == NULL || *uri == '\0')
		return NS_NONE;
	const char *p = NULL;
	if (strncmp(uri, "http://wordpress.org/export/1.", 30) == 0)
		p = uri + 30;
	else if (strncmp(uri, "https://wordpress.org/export/1.", 31) == 0)
		p = uri + 31;
	if (p != NULL && *p >= '0' && *p <= '2' && p[1] == '/') {
		if (p[2] == '\0')
			return NS_WP;
		if (strcmp(p + 2, "excerpt/") == 0)
			return NS_EXCERPT;
	}
	if (strcmp(uri, "http://purl.org/rss/1.0/modules/content/") == 0)
		return NS_CONTENT;
	if (strcmp(uri, "http://purl.org/dc/elements/1.1/") == 0)
		return NS_DC;
	return NS_OTHER;
}

/* ---- users, terms ---- */

/* The user for a WordPress login: found by name, else added (no
 * password, role author). 0 when there is no login. */
static int64_t
wxr_user(struct wxr *w, const char *login, const char *display,
    const char *email, bool count)
{
	arena *a;
	struct store_user u;
	int64_t id = 0;
	login = nz(login);
	if (*login == '\0' || strlen(login) > 200 ||
	    !text_clean(login, strlen(login)))
		return 0;
	for (size_t i = 0; i < w->nusers; i++)
		if (strcmp(w->users[i].login, login) == 0) {
			if (count)
				w->s->authors.unchanged++;
			return w->users[i].id;
		}
	a = arena_new(0);
	if (store_user_by_name(w->st, login, a, &u) == STORE_OK) {
		id = u.id;
		if (count)
			w->s->authors.unchanged++;
	} else if (w->o->dry_run) {
		w->s->authors.imported++;
		id = -1;
	} else {
		memset(&u, 0, sizeof(u));
		u.name = login;
		u.display_name = *wxr_norm(a, display, true) ?
		    wxr_norm(a, display, true) : login;
		u.role = ROLE_AUTHOR;
		u.pass_hash = "";
		u.email = strchr(nz(email), '@') && strlen(email) <= 254 &&
		    text_clean(email, strlen(email)) ? email : "";
		if (store_user_add(w->st, &u, &id) == STORE_OK) {
			w->s->authors.imported++;
		} else {
			w->s->authors.failed++;
			wxr_reason(w, "author %s: cannot be added", login);
			id = 0;
		}
	}
	arena_free(a);
	if (w->nusers < WXR_USERS_MAX) {
		w->users = wxr_grow(w->users, &w->usercap, w->nusers + 1,
		    sizeof(*w->users));
		w->users[w->nusers].login = xstrdup(login);
		w->users[w->nusers++].id = id;
	}
	return id < 0 ? 0 : id;
}

static bool
wxr_known_user(struct wxr *w, const char *login)
{
	for (size_t i = 0; i < w->nusers; i++)
		if (strcmp(w->users[i].login, login) == 0)
			return true;
	return false;
}

/* A category by slug: found, else added under parent (0: top). */
static int64_t
wxr_category(struct wxr *w, const char *slug, const char *name,
    const char *desc, int64_t parent, bool count)
{
	arena *a = arena_new(0);
	struct store_category c;
	int64_t id = 0;
	slug = port_pct_decode(a, nz(slug));
	name = wxr_norm(a, name, true);
	if (*name == '\0')
		name = slug;
	if (*slug == '\0' || strlen(slug) > CONTENT_SLUG_MAX) {
		if (count) {
			w->s->categories.failed++;
			wxr_reason(w, "category '%s': no usable slug", name);
		}
	} else if (store_category_by_slug(w->st, slug, a, &c) == STORE_OK) {
		id = c.id;
		if (count)
			w->s->categories.unchanged++;
	} else if (w->o->dry_run) {
		if (count)
			w->s->categories.imported++;
	} else {
		memset(&c, 0, sizeof(c));
		c.slug = slug;
		c.name = name;
		c.description = wxr_norm(a, desc, false);
		c.parent_id = parent;
		if (store_category_add(w->st, &c, &id) == STORE_OK) {
			if (count)
				w->s->categories.imported++;
		} else {
			id = 0;
			w->s->categories.failed++;
			wxr_reason(w, "category %s: cannot be added", slug);
		}
	}
	arena_free(a);
	return id;
}

/* Adds the channel's categories, parents before children whatever the
 * file's order (a parent not in the file: top level). */
static void
wxr_flush_terms(struct wxr *w)
{
	bool progress = true;
	if (w->terms_flushed)
		return;
	w->terms_flushed = true;
	while (progress) {
		progress = false;
		for (size_t i = 0; i < w->nterms; i++) {
			struct wxr_term *t = &w->terms[i];
			bool parent_waits = false;
			if (t->done)
				continue;
			for (size_t k = 0; *t->parent && k < w->nterms; k++)
				if (k != i && !w->terms[k].done &&
				    strcmp(w->terms[k].slug, t->parent) == 0)
					parent_waits = true;
			if (parent_waits)
				continue;
			int64_t pid = 0;
			if (*t->parent) {
				arena *a = arena_new(0);
				struct store_category pc;
				if (store_category_by_slug(w->st,
				    port_pct_decode(a, t->parent), a, &pc) == STORE_OK)
					pid = pc.id;
				arena_free(a);
			}
			wxr_category(w, t->slug, t->name, t->desc, pid, true);
			t->done = progress = true;
		}
	}
	/* a loop of parents: the rest at the top level */
	for (size_t i = 0; i < w->nterms; i++)
		if (!w->terms[i].done) {
			wxr_category(w, w->terms[i].slug, w->terms[i].name,
			    w->terms[i].desc, 0, true);
			w->terms[i].done = true;
		}
}

/* A channel <wp:tag>: found by slug, else added. */
static void
wxr_tag(struct wxr *w, const char *slug, const char *name)
{
	arena *a = arena_new(0);
	struct store_tag t;
	slug = port_pct_decode(a, nz(slug));
	name = wxr_norm(a, name, true);
	if (*name == '\0')
		name = slug;
	if (*slug == '\0' || *name == '\0' || strlen(slug) > CONTENT_SLUG_MAX) {
		w->s->tags.failed++;
		wxr_reason(w, "tag '%s': no usable slug or name", name);
	} else if (store_tag_by_slug(w->st, slug, a, &t) == STORE_OK ||
	    store_tag_by_name(w->st, name, a, &t) == STORE_OK) {
		w->s->tags.unchanged++;
	} else if (w->o->dry_run) {
		w->s->tags.imported++;
	} else {
		t.id = 0;
		t.slug = slug;
		t.name = name;
		if (store_tag_add(w->st, &t, &t.id) == STORE_OK) {
			w->s->tags.imported++;
		} else {
			w->s->tags.failed++;
			wxr_reason(w, "tag %s: cannot be added", slug);
		}
	}
	arena_free(a);
}

/* ---- items ---- */

/* An item's tag by its slug (the name the store has for it, so
 * content_save finds it); one the channel did not declare is added with
 * the item's slug and name. */
static const char *
wxr_item_tag(struct wxr *w, arena *a, const struct wxr_cat *c)
{
	struct store_tag t;
	const char *slug = port_pct_decode(a, nz(c->nicename));
	const char *name = wxr_norm(a, c->name, true);
	if (*slug && store_tag_by_slug(w->st, slug, a, &t) == STORE_OK)
		return t.name;
	if (*name == '\0' || store_tag_by_name(w->st, name, a, &t) == STORE_OK)
		return name;
	w->s->tags_undeclared++;
	if (*slug && strlen(slug) <= CONTENT_SLUG_MAX && !w->o->dry_run) {
		t.id = 0;
		t.slug = slug;
		t.name = name;
		if (store_tag_add(w->st, &t, &t.id) == STORE_OK)
			w->s->tags.imported++;
	}
	return name;
}

static void
wxr_skip_type(struct wxr *w, const char *type)
{
	struct port_wxr_stats *s = w->s;
	size_t k;
	s->skipped_total++;
	for (k = 0; k < PORT_SKIP_TYPES && s->skipped[k].name[0]; k++)
		if (strcmp(s->skipped[k].name, type) == 0)
			break;
	if (k < PORT_SKIP_TYPES && s->skipped[k].name[0] == '\0')
		snprintf(s->skipped[k].name, sizeof(s->skipped[k].name), "%s",
		    *type ? type : "(none)");
	s->skipped[k].n++;
}

/* What kiji's router takes as a slug (content_save checks the same):
 * [A-Za-z0-9_-] or non-ASCII UTF-8, 1..CONTENT_SLUG_MAX bytes. */
static bool
wxr_slug_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > CONTENT_SLUG_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(c >= 0x80 || isalnum(c) || c == '_' || c == '-'))
			return false;
	}
	return text_utf8_valid(s, n);
}

/* An attachment URL content_save takes as an eyecatch. */
static bool
wxr_url_ok(const char *u)
{
	size_t n = strlen(u);
	if (n > CONTENT_URL_MAX || !(strncasecmp(u, "http://", 7) == 0 ||
	    strncasecmp(u, "https://", 8) == 0))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] <= 0x20 || u[i] == 0x7f)
			return false;
	return text_utf8_valid(u, n);
}

/* True when stored art already holds what in would save. */
static bool
wxr_same(arena *a, const struct store_article *art,
    const struct content_input *in)
{
	if (strcmp(art->title, wxr_norm(a, in->title, true)) != 0 ||
	    (*nz(in->slug) && strcmp(art->slug, wxr_norm(a, in->slug, true))) ||
	    strcmp(art->body, wxr_norm(a, in->body, false)) != 0 ||
	    strcmp(art->excerpt, wxr_norm(a, in->excerpt, true)) != 0 ||
	    art->status != in->status || art->published_at != in->published_at ||
	    art->author_id != in->author_id ||
	    art->category_id != in->category_id ||
	    strcmp(art->eyecatch, nz(in->eyecatch)) != 0 ||
	    art->comments_open != in->comments_open ||
	    art->body_format != in->body_format ||
	    (in->updated_at > 0 && art->updated_at != in->updated_at))
		return false;
	size_t distinct = 0;
	for (size_t i = 0; i < in->ntags; i++) {
		const char *t = wxr_norm(a, in->tags[i], true);
		bool found = false, dup = false;
		for (size_t k = 0; k < i && !dup; k++)
			dup = strcmp(wxr_norm(a, in->tags[k], true), t) == 0;
		if (dup)
			continue;
		distinct++;
		for (size_t k = 0; k < art->ntags && !found; k++)
			found = strcmp(art->tags[k].name, t) == 0;
		if (!found)
			return false;
	}
	return distinct == art->ntags;
}

static enum store_cstatus
wxr_cstatus(const char *s)
{
	if (strcmp(s, "1") == 0 || strcmp(s, "approve") == 0)
		return CSTATUS_APPROVED;
	if (strcmp(s, "0") == 0 || strcmp(s, "hold") == 0 || *s == '\0')
		return CSTATUS_PENDING;
	if (strcmp(s, "spam") == 0)
		return CSTATUS_SPAM;
	return CSTATUS_TRASH; /* trash, post-trashed */
}

/* One comment whose parent (if any) is stored. */
static void
wxr_comment_save(struct wxr *w, int64_t article, struct wxr_comment *c,
    int64_t parent, arena *a)
{
	struct port_wxr_stats *s = w->s;
	int64_t id = 0;
	const char *type = nz(c->type);
	enum store_ctype ct = strcmp(type, "trackback") == 0 ? CTYPE_TRACKBACK
	    : strcmp(type, "pingback") == 0 ? CTYPE_PINGBACK : CTYPE_COMMENT;
	enum store_cstatus cs = wxr_cstatus(nz(c->approved));
	/* a file from kiji says what to match on (wxr_kiji.c) */
	const char *key = c->kiji.legacy && *c->kiji.legacy ? c->kiji.legacy
	    : nz(c->id);
	int64_t likes = port_kiji_likes(&c->kiji);
	c->done = true;
	if (article > 0 && store_comment_by_legacy(w->st, article, key,
	    &id) == STORE_OK && id != 0) {
		struct store_comment old;
		bool st_new, likes_new;
		c->kiji_id = id;
		if (store_comment_get(w->st, id, a, &old) != STORE_OK) {
			s->comments.unchanged++;
			return;
		}
		st_new = old.status != cs;
		likes_new = likes >= 0 && old.like_count != likes;
		if ((st_new || likes_new) && !w->o->dry_run &&
		    (!st_new || store_comment_set_status(w->st, id, cs) == STORE_OK) &&
		    (!likes_new || store_comment_set_likes(w->st, id, likes) == STORE_OK))
			s->comments.updated++;
		else if ((st_new || likes_new) && w->o->dry_run)
			s->comments.updated++;
		else
			s->comments.unchanged++;
		return;
	}
	const char *body = wxr_norm(a, c->content, false);
	/* "" from text that was not: invalid, or a run of marks past the
	 * stream-safe limit (refused, not imported empty) */
	if (strlen(body) > WXR_COMMENT_MAX || !text_clean(body, strlen(body)) ||
	    (*body == '\0' && *nz(c->content) != '\0')) {
		s->comments.failed++;
		wxr_reason(w, "comment %s: text too long or not text", nz(c->id));
		return;
	}
	if (cs == CSTATUS_PENDING)
		s->comments_pending++;
	if (ct == CTYPE_TRACKBACK)
		s->trackbacks++;
	else if (ct == CTYPE_PINGBACK)
		s->pingbacks++;
	if (w->o->dry_run) {
		s->comments.imported++;
		c->kiji_id = -1;
		return;
	}
	struct store_comment cm;
	memset(&cm, 0, sizeof(cm));
	cm.article_id = article;
	cm.parent_id = parent;
	cm.type = ct;
	cm.nickname = wxr_norm(a, c->author, true);
	cm.email = wxr_norm(a, c->email, true);
	cm.url = wxr_norm(a, c->url, true);
	cm.ip = wxr_norm(a, c->ip, true);
	cm.visitor_id = "";
	cm.body = body;
	cm.created_at = port_wp_date(c->date_gmt, c->date);
	cm.status = cs;
	cm.legacy_id = key;
	cm.like_count = likes > 0 ? likes : 0;
	cm.pending_reason = cs == CSTATUS_PENDING ? port_kiji_pending(&c->kiji)
	    : "";
	if (store_comment_add(w->st, &cm) == STORE_OK) {
		c->kiji_id = cm.id;
		s->comments.imported++;
	} else {
		s->comments.failed++;
		wxr_reason(w, "comment %s: the database refused it", nz(c->id));
	}
}

static int
wxr_cmp_id(const void *x, const void *y)
{
	int64_t a = ((const int64_t *)x)[0], b = ((const int64_t *)y)[0];
	return a < b ? -1 : a > b;
}

/* The item's comments, parents first whatever their order in the file:
 * passes until none moves (one pass when the file lists parents first);
 * a parent not in the file puts its reply at the top level. Parents are
 * found by id in a sorted (id, index) table. */
static void
wxr_comments(struct wxr *w, int64_t article)
{
	struct wxr_item *it = &w->item;
	size_t n = it->ncomments;
	arena *a = arena_new(0);
	int64_t *ix = xcalloc(n + 1, 2 * sizeof(*ix));
	bool moved = true;
	for (size_t i = 0; i < n; i++) {
		ix[2 * i] = strtoll(nz(it->comments[i].id), NULL, 10);
		ix[2 * i + 1] = (int64_t)i;
	}
	qsort(ix, n, 2 * sizeof(*ix), wxr_cmp_id);
	while (moved) {
		moved = false;
		for (size_t i = 0; i < n; i++) {
			struct wxr_comment *c = &it->comments[i];
			int64_t p = strtoll(nz(c->parent), NULL, 10), parent = 0;
			if (c->done)
				continue;
			if (p > 0) {
				int64_t key[2] = {p, 0};
				int64_t *hit = bsearch(key, ix, n, 2 * sizeof(*ix),
				    wxr_cmp_id);
				struct wxr_comment *pc = hit ? &it->comments[hit[1]]
				    : NULL;
				if (pc == c)
					pc = NULL;
				if (pc != NULL && !pc->done)
					continue;
				if (pc == NULL)
					w->s->comments_orphan++;
				else
					parent = pc->kiji_id;
			}
			wxr_comment_save(w, article, c, parent < 0 ? 0 : parent, a);
			arena_reset(a);
			moved = true;
		}
	}
	for (size_t i = 0; i < n; i++) /* a loop of parents */
		if (!it->comments[i].done) {
			w->s->comments_orphan++;
			wxr_comment_save(w, article, &it->comments[i], 0, a);
		}
	free(ix);
	arena_free(a);
}

/* One post or page: saved new, saved over the stored one when it
 * differs, or left alone; then its comments. */
static void
wxr_article(struct wxr *w, enum store_kind kind)
{
	struct wxr_item *it = &w->item;
	struct port_wxr_stats *s = w->s;
	struct port_counts *cnt = kind == KIND_PAGE ? &s->pages : &s->posts;
	arena *a = arena_new(0);
	struct content_input in;
	struct content_result res;
	const char *status = nz(it->status);
	int64_t existing = 0;
	buf body;

	buf_init(&body, 0);
	memset(&in, 0, sizeof(in));
	in.kind = kind;
	in.now = w->now;
	in.no_pings = true; /* old posts are not news */
	in.legacy_id = nz(it->post_id);
	in.title = wxr_norm(a, it->title, true);
	if (*in.title == '\0') {
		in.title = "(無題)";
		s->untitled++;
	}
	in.slug = port_pct_decode(a, nz(it->post_name));
	if (*in.slug && !wxr_slug_ok(in.slug)) {
		s->slug_fallback++;
		in.slug = "";
	}
	in.body_format = FORMAT_HTML;
	/* WordPress bodies: CRLF to LF, then shortcodes, paragraphs, links */
	bool later = false;
	{
		const char *src = nz(it->content);
		size_t n = strlen(src);
		char *lf = arena_alloc(a, n + 1);
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (src[i] != '\r')
				lf[k++] = src[i];
		port_map_body(w->map, it->post_id, lf, k, &body, &later);
		in.body = buf_cstr(&body);
	}
	{
		buf cut;
		buf_init(&cut, 0);
		const char *ex = wxr_norm(a, it->excerpt, true);
		text_truncate(&cut, ex, strlen(ex), CONTENT_EXCERPT_MAX);
		in.excerpt = arena_strndup(a, buf_cstr(&cut), cut.len);
		buf_free(&cut);
	}
	in.published_at = port_wp_date(it->post_date_gmt, it->post_date);
	in.updated_at = port_wp_date(it->modified_gmt, it->modified);
	if (in.updated_at == 0 && in.published_at <= w->now)
		in.updated_at = in.published_at; /* never modified: its date */
	if (strcmp(status, "publish") == 0) {
		in.status = STATUS_PUBLISHED;
	} else if (strcmp(status, "future") == 0) {
		in.status = in.published_at > w->now ? STATUS_SCHEDULED
		    : STATUS_PUBLISHED;
	} else {
		in.status = STATUS_DRAFT; /* draft, pending, private, auto-draft */
	}
	in.comments_open = strcmp(nz(it->comment_status), "closed") != 0;
	/* as WordPress's importer: a creator the channel does not list as a
	 * wp:author gets no author (WXR 1.0 lists none: made from dc:creator) */
	if (w->nusers == 0 || wxr_known_user(w, nz(it->creator)))
		in.author_id = wxr_user(w, it->creator, NULL, NULL, false);
	else if (*nz(it->creator))
		s->authors_unknown++;
	/* categories: the first one is the article's; tags by name */
	const char **tags = arena_alloc(a, (it->ncats + 1) * sizeof(*tags));
	size_t ntags = 0;
	bool have_cat = false;
	for (size_t i = 0; i < it->ncats; i++) {
		struct wxr_cat *c = &it->cats[i];
		if (strcmp(nz(c->domain), "category") == 0) {
			if (have_cat) {
				s->extra_categories++;
				continue;
			}
			have_cat = true;
			in.category_id = wxr_category(w, c->nicename, c->name, "", 0,
			    false);
		} else if (strcmp(nz(c->domain), "post_tag") == 0) {
			const char *t = wxr_item_tag(w, a, c);
			if (*t == '\0')
				continue;
			if (ntags >= CONTENT_TAGS_MAX) {
				s->tags_dropped++;
				continue;
			}
			tags[ntags++] = t;
		}
	}
	in.tags = tags;
	in.ntags = ntags;
	/* the featured image: its file imported, else its original URL */
	const char *thumb = port_map_eyecatch(w->map, strtoll(nz(it->thumbnail_id),
	    NULL, 10));
	in.eyecatch = thumb && (wxr_url_ok(thumb) || strncmp(thumb, "/media/",
	    7) == 0) ? thumb : "";
	port_kiji_apply(&it->kiji, &in, a); /* a file from kiji */

	if (store_article_by_legacy(w->st, kind, in.legacy_id, &existing) !=
	    STORE_OK) {
		cnt->failed++;
		wxr_reason(w, "%s %s: cannot read the database",
		    kind == KIND_PAGE ? "page" : "post", in.legacy_id);
		goto done;
	}
	if (existing) {
		struct store_article art;
		if (store_article_get_any(w->st, existing, a, &art) != STORE_OK) {
			cnt->failed++;
			goto done;
		}
		int64_t owner = 0;
		/* a slug another article holds was replaced on the first run */
		if (*in.slug == '\0' || (strcmp(art.slug, in.slug) != 0 &&
		    store_article_slug_owner(w->st, kind, in.slug, existing,
		    &owner) == STORE_OK && owner != 0))
			in.slug = art.slug;
		if (in.published_at == 0)
			in.published_at = art.published_at;
		in.parent_id = art.parent_id; /* port_parents_apply's */
		if (wxr_same(a, &art, &in) && port_kiji_same(&it->kiji, &in, &art)) {
			cnt->unchanged++;
			goto comments;
		}
		in.id = existing;
		in.guid = "";
	}
	if (w->o->dry_run) {
		if (existing)
			cnt->updated++;
		else
			cnt->imported++;
		goto comments;
	}
	enum content_err ce = content_save(w->st, &in, a, &res);
	if (ce == CONTENT_INVALID && res.field && strcmp(res.field, "slug") == 0
	    && *in.slug) {
		/* a slug kiji's router cannot take, or a page's slug shared
		 * under another parent: let content_save make one */
		s->slug_fallback++;
		in.slug = "";
		ce = content_save(w->st, &in, a, &res);
	}
	if (ce != CONTENT_OK) {
		cnt->failed++;
		wxr_reason(w, "%s %s: %s%s%s", kind == KIND_PAGE ? "page" : "post",
		    in.legacy_id, res.field ? res.field : "",
		    res.field ? ": " : "", res.message_en ? res.message_en
		    : "cannot be saved");
		goto done;
	}
	existing = res.id;
	if (later)
		port_map_later(w->map, existing); /* links to posts after it */
	if (!port_map_permalink(w->map, it->link, existing))
		wxr_reason(w, "article %lld: old permalink %s not kept",
		    (long long)existing, nz(it->link));
	if (in.id)
		cnt->updated++;
	else
		cnt->imported++;
	if (kind == KIND_POST && in.status == STATUS_SCHEDULED)
		s->scheduled++;
	if (kind == KIND_POST && in.status == STATUS_DRAFT)
		s->drafts++;
	if (*in.eyecatch)
		s->eyecatches++;
comments:
	if (kind == KIND_PAGE && !w->o->dry_run)
		port_parents_note(&w->parents, existing, it->post_id,
		    it->post_parent, port_pct_decode(a, nz(it->post_name)));
	wxr_comments(w, existing);
done:
	buf_free(&body);
	arena_free(a);
}

static void
wxr_item_end(struct wxr *w)
{
	struct wxr_item *it = &w->item;
	const char *type = nz(it->post_type);
	if (w->scan) {
		struct port_map_item mi = {it->post_id, it->post_type,
		    it->post_parent, it->link, it->post_name, it->attachment_url,
		    it->attached_file, it->excerpt, it->image_alt};
		port_map_add(w->map, &mi);
		goto next;
	}
	w->s->items++;
	wxr_flush_terms(w);
	if (strcmp(type, "attachment") == 0) {
		w->s->attachments++;
	} else if (it->too_big) {
		struct port_counts *c = strcmp(type, "page") == 0 ? &w->s->pages
		    : &w->s->posts;
		c->failed++;
		wxr_reason(w, "item %s: a field is larger than %u bytes",
		    nz(it->post_id), WXR_FIELD_MAX);
	} else if (strcmp(type, "post") == 0) {
		wxr_article(w, KIND_POST);
	} else if (strcmp(type, "page") == 0) {
		wxr_article(w, KIND_PAGE);
	} else {
		wxr_skip_type(w, type);
	}
	if (w->o->progress && (w->s->items - w->last_progress >= 50)) {
		w->last_progress = w->s->items;
		fprintf(stderr, "\r%lld items…", (long long)w->s->items);
	}
next:
	memset(it, 0, sizeof(*it));
	arena_reset(w->ia);
}

/* ---- the element walk ---- */

static bool
wxr_is(struct wxr *w, int up, enum wxr_ns ns, const char *name)
{
	int k = w->depth - 1 - up;
	return k >= 0 && w->stack[k].ns == ns && strcmp(w->stack[k].name, name) == 0;
}

static void
wxr_start(struct wxr *w, enum wxr_ns ns, const char *name)
{
	if (w->depth == 0) {
		w->is_rss = ns == NS_NONE && strcmp(name, "rss") == 0;
	}
	if (ns == NS_WP)
		w->seen_wp = true;
	if (w->depth < WXR_DEPTH_MAX) {
		w->stack[w->depth].ns = ns;
		snprintf(w->stack[w->depth].name, sizeof(w->stack[0].name), "%s",
		    name);
	}
	w->depth++;
	buf_reset(&w->text);
	w->text_over = false;
	if (w->depth == 3 && wxr_is(w, 1, NS_NONE, "channel")) {
		memset(w->f, 0, sizeof(w->f));
		if (ns == NS_NONE && strcmp(name, "item") == 0)
			w->rec = REC_ITEM;
		else if (ns == NS_WP && strcmp(name, "author") == 0)
			w->rec = REC_AUTHOR;
		else if (ns == NS_WP && strcmp(name, "category") == 0)
			w->rec = REC_CATEGORY;
		else if (ns == NS_WP && strcmp(name, "tag") == 0)
			w->rec = REC_TAG;
		else
			w->rec = REC_NONE;
		if (w->scan && w->rec != REC_ITEM)
			w->rec = REC_NONE; /* the first pass maps items only */
	}
	if (w->rec == REC_ITEM && w->depth == 4 && ns == NS_WP &&
	    strcmp(name, "comment") == 0) {
		struct wxr_item *it = &w->item;
		if (it->ncomments < WXR_COMMENTS_MAX) {
			if (it->ncomments == it->comcap) {
				size_t cap = it->comcap ? it->comcap * 2 : 16;
				struct wxr_comment *n = arena_alloc(w->ia,
				    cap * sizeof(*n));
				if (it->ncomments)
					memcpy(n, it->comments,
					    it->ncomments * sizeof(*n));
				it->comments = n;
				it->comcap = cap;
			}
			w->comment = &it->comments[it->ncomments++];
			memset(w->comment, 0, sizeof(*w->comment));
		}
	}
	if (w->rec == REC_ITEM && w->depth == 4 && ns == NS_NONE &&
	    strcmp(name, "category") == 0) {
		struct wxr_item *it = &w->item;
		if (it->ncats < WXR_ITEM_CATS_MAX) {
			if (it->ncats == it->catcap) {
				size_t cap = it->catcap ? it->catcap * 2 : 8;
				struct wxr_cat *n = arena_alloc(w->ia, cap * sizeof(*n));
				if (it->ncats)
					memcpy(n, it->cats, it->ncats * sizeof(*n));
				it->cats = n;
				it->catcap = cap;
			}
			struct wxr_cat *c = &it->cats[it->ncats++];
			xmlChar *d = xmlTextReaderGetAttribute(w->r,
			    BAD_CAST "domain");
			xmlChar *nn = xmlTextReaderGetAttribute(w->r,
			    BAD_CAST "nicename");
			c->domain = arena_strdup(w->ia, d ? (char *)d : "");
			c->nicename = arena_strdup(w->ia, nn ? (char *)nn : "");
			c->name = "";
			xmlFree(d);
			xmlFree(nn);
		}
	}
}

/* A leaf element ended with its text in w->text. */
static void
wxr_end(struct wxr *w)
{
	int d = w->depth; /* the ending element's depth, 1-based */
	const char *v;
	if (d < 1)
		return;
	enum wxr_ns ns = w->stack[d - 1].ns;
	const char *name = w->stack[d - 1].name;
	struct wxr_item *it = &w->item;
	size_t keep = w->text.len;
	if (w->text_over) {
		it->too_big = true;
		keep = 0;
	}
	v = arena_strndup(w->ia, w->text.ptr ? w->text.ptr : "", keep);

	if (d == 3 && w->rec == REC_ITEM) {
		wxr_item_end(w);
		w->rec = REC_NONE;
	} else if (d == 3 && w->rec == REC_AUTHOR) {
		wxr_user(w, w->f[0], w->f[2], w->f[1], true);
		arena_reset(w->ia);
		w->rec = REC_NONE;
	} else if (d == 3 && w->rec == REC_CATEGORY) {
		if (w->nterms < WXR_TERMS_MAX) {
			w->terms = wxr_grow(w->terms, &w->termcap, w->nterms + 1,
			    sizeof(*w->terms));
			struct wxr_term *t = &w->terms[w->nterms++];
			t->slug = xstrdup(nz(w->f[0]));
			t->parent = xstrdup(nz(w->f[1]));
			t->name = xstrdup(nz(w->f[2]));
			t->desc = xstrdup(nz(w->f[3]));
			t->done = false;
		}
		arena_reset(w->ia);
		w->rec = REC_NONE;
	} else if (d == 3 && w->rec == REC_TAG) {
		wxr_tag(w, w->f[0], w->f[1]);
		arena_reset(w->ia);
		w->rec = REC_NONE;
	} else if (d <= 3) {
		if (d == 3 && ns == NS_WP && w->scan)
			port_map_site(w->map, name, v); /* wp:base_site_url */
		arena_reset(w->ia); /* channel-level: nothing kept */
	} else if (d == 4 && w->rec == REC_AUTHOR && ns == NS_WP) {
		if (strcmp(name, "author_login") == 0)
			w->f[0] = v;
		else if (strcmp(name, "author_email") == 0)
			w->f[1] = v;
		else if (strcmp(name, "author_display_name") == 0)
			w->f[2] = v;
	} else if (d == 4 && w->rec == REC_CATEGORY && ns == NS_WP) {
		if (strcmp(name, "category_nicename") == 0)
			w->f[0] = v;
		else if (strcmp(name, "category_parent") == 0)
			w->f[1] = v;
		else if (strcmp(name, "cat_name") == 0)
			w->f[2] = v;
		else if (strcmp(name, "category_description") == 0)
			w->f[3] = v;
	} else if (d == 4 && w->rec == REC_TAG && ns == NS_WP) {
		if (strcmp(name, "tag_slug") == 0)
			w->f[0] = v;
		else if (strcmp(name, "tag_name") == 0)
			w->f[1] = v;
	} else if (d == 4 && w->rec == REC_ITEM) {
		if (ns == NS_NONE && strcmp(name, "title") == 0)
			it->title = v;
		else if (ns == NS_NONE && strcmp(name, "link") == 0)
			it->link = v;
		else if (ns == NS_NONE && strcmp(name, "category") == 0 &&
		    it->ncats > 0)
			it->cats[it->ncats - 1].name = v;
		else if (ns == NS_DC && strcmp(name, "creator") == 0)
			it->creator = v;
		else if (ns == NS_CONTENT && strcmp(name, "encoded") == 0)
			it->content = v;
		else if (ns == NS_EXCERPT && strcmp(name, "encoded") == 0)
			it->excerpt = v;
		else if (ns == NS_WP && strcmp(name, "post_id") == 0)
			it->post_id = v;
		else if (ns == NS_WP && strcmp(name, "post_date") == 0)
			it->post_date = v;
		else if (ns == NS_WP && strcmp(name, "post_date_gmt") == 0)
			it->post_date_gmt = v;
		else if (ns == NS_WP && strcmp(name, "post_name") == 0)
			it->post_name = v;
		else if (ns == NS_WP && strcmp(name, "status") == 0)
			it->status = v;
		else if (ns == NS_WP && strcmp(name, "post_type") == 0)
			it->post_type = v;
		else if (ns == NS_WP && strcmp(name, "comment_status") == 0)
			it->comment_status = v;
		else if (ns == NS_WP && strcmp(name, "attachment_url") == 0)
			it->attachment_url = v;
		else if (ns == NS_WP && strcmp(name, "post_parent") == 0)
			it->post_parent = v;
		else if (ns == NS_WP && strcmp(name, "menu_order") == 0)
			it->kiji.menu_order = v; /* wxr_kiji.c */
		else if (ns == NS_WP && strcmp(name, "post_modified") == 0)
			it->modified = v;
		else if (ns == NS_WP && strcmp(name, "post_modified_gmt") == 0)
			it->modified_gmt = v;
		else if (ns == NS_WP && strcmp(name, "comment") == 0)
			w->comment = NULL;
	} else if (d == 5 && w->rec == REC_ITEM && ns == NS_WP &&
	    wxr_is(w, 1, NS_WP, "postmeta")) {
		if (strcmp(name, "meta_key") == 0)
			it->meta_key = v;
		else if (strcmp(name, "meta_value") == 0 && it->meta_key &&
		    strcmp(it->meta_key, "_thumbnail_id") == 0)
			it->thumbnail_id = v;
		else if (strcmp(name, "meta_value") == 0 && it->meta_key &&
		    strcmp(it->meta_key, "_wp_attached_file") == 0)
			it->attached_file = v;
		else if (strcmp(name, "meta_value") == 0 && it->meta_key &&
		    strcmp(it->meta_key, "_wp_attachment_image_alt") == 0)
			it->image_alt = v;
		else if (strcmp(name, "meta_value") == 0)
			port_kiji_meta_set(&it->kiji, it->meta_key, v);
	} else if (d == 6 && w->rec == REC_ITEM && ns == NS_WP &&
	    w->comment != NULL && wxr_is(w, 1, NS_WP, "commentmeta")) {
		if (strcmp(name, "meta_key") == 0)
			w->comment->meta_key = v;
		else if (strcmp(name, "meta_value") == 0)
			port_kiji_cmeta_set(&w->comment->kiji, w->comment->meta_key, v);
	} else if (d == 5 && w->rec == REC_ITEM && ns == NS_WP &&
	    w->comment != NULL && wxr_is(w, 1, NS_WP, "comment")) {
		struct wxr_comment *c = w->comment;
		static const struct {
			const char *name;
			size_t off;
		} cf[] = {
			{"comment_id", offsetof(struct wxr_comment, id)},
			{"comment_parent", offsetof(struct wxr_comment, parent)},
			{"comment_author", offsetof(struct wxr_comment, author)},
			{"comment_author_email", offsetof(struct wxr_comment, email)},
			{"comment_author_url", offsetof(struct wxr_comment, url)},
			{"comment_author_IP", offsetof(struct wxr_comment, ip)},
			{"comment_date", offsetof(struct wxr_comment, date)},
			{"comment_date_gmt", offsetof(struct wxr_comment, date_gmt)},
			{"comment_content", offsetof(struct wxr_comment, content)},
			{"comment_approved", offsetof(struct wxr_comment, approved)},
			{"comment_type", offsetof(struct wxr_comment, type)},
		};
		for (size_t k = 0; k < sizeof(cf) / sizeof(*cf); k++)
			if (strcmp(name, cf[k].name) == 0) {
				*(const char **)((char *)c + cf[k].off) = v;
				break;
			}
	}
	w->depth--;
	buf_reset(&w->text);
	w->text_over = false;
}

static void
wxr_text(struct wxr *w, const char *s)
{
	size_t n = strlen(s);
	if (w->text_over || w->text.len + n > WXR_FIELD_MAX) {
		w->text_over = true;
		return;
	}
	buf_put(&w->text, s, n);
}

/* One step of the reader. libxml2's global handlers catch what the
 * reader's own does not (encoding conversion); they are set only around
 * the step, as content_save's HTML sanitiser uses libxml2 too. */
static int
wxr_in_read(void *ctx, char *p, int len)
{
	struct wxr *w = ctx;
	if (w->step_bytes > WXR_STEP_BYTES) {
		w->step_over = true;
		return -1;
	}
	ssize_t n;
	do
		n = read(w->fd, p, (size_t)len);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		w->step_bytes += (size_t)n;
	return n < 0 ? -1 : (int)n;
}

static int
wxr_in_close(void *ctx)
{
	(void)ctx; /* port_wxr_import closes the file */
	return 0;
}

static int
wxr_read(struct wxr *w)
{
	w->step_bytes = 0;
	xmlSetGenericErrorFunc(NULL, wxr_xml_quiet);
	xmlSetStructuredErrorFunc(w, wxr_xml_error);
	int rc = xmlTextReaderRead(w->r);
	xmlSetStructuredErrorFunc(NULL, NULL);
	xmlSetGenericErrorFunc(NULL, NULL);
	return rc;
}

/* The reader's loop. false on a fatal problem, message in w->err. */
static bool
wxr_walk(struct wxr *w)
{
	int rc;
	while ((rc = wxr_read(w)) == 1 && !w->failed) {
		int type = xmlTextReaderNodeType(w->r);
		switch (type) {
		case XML_READER_TYPE_DOCUMENT_TYPE:
			if (!wxr_doctype_ok(w)) {
				buf_printf(w->err, "%s: the DOCTYPE declares external "
				    "or nested entities (or too many): refused, "
				    "nothing expanded", w->o->path);
				return false;
			}
			break;
		case XML_READER_TYPE_ENTITY_REFERENCE:
			buf_printf(w->err, "%s: an entity reference (&%s;) that is "
			    "not XML's own: refused", w->o->path,
			    (const char *)xmlTextReaderConstName(w->r));
			return false;
		case XML_READER_TYPE_ELEMENT: {
			const char *local = (const char *)xmlTextReaderConstLocalName(w->r);
			enum wxr_ns ns = wxr_ns_of(
			    (const char *)xmlTextReaderConstNamespaceUri(w->r));
			wxr_start(w, ns, local ? local : "");
			if (w->depth == 1 && !w->is_rss) {
				buf_printf(w->err, "%s: not a WordPress export (the root "
				    "element is <%s>, not <rss>)", w->o->path, local);
				return false;
			}
			if (xmlTextReaderIsEmptyElement(w->r))
				wxr_end(w);
			break;
		}
		case XML_READER_TYPE_END_ELEMENT:
			wxr_end(w);
			break;
		case XML_READER_TYPE_TEXT:
		case XML_READER_TYPE_CDATA:
		case XML_READER_TYPE_WHITESPACE:
		case XML_READER_TYPE_SIGNIFICANT_WHITESPACE: {
			const char *v = (const char *)xmlTextReaderConstValue(w->r);
			if (v)
				wxr_text(w, v);
			break;
		}
		default:
			break;
		}
	}
	if (w->step_over) {
		buf_printf(w->err, "%s: one element's text is longer than %u "
		    "MiB: refused (line %d)", w->o->path, WXR_FIELD_MAX >> 20,
		    xmlTextReaderGetParserLineNumber(w->r));
		return false;
	}
	if (w->failed || rc < 0) {
		buf_printf(w->err, "%s: refused by the XML parser (truncated, "
		    "bytes that contradict the declared encoding, or entities "
		    "past the limits): %s", w->o->path,
		    w->xml_err[0] ? w->xml_err : "read error");
		return false;
	}
	if (!w->is_rss || !w->seen_wp) {
		buf_printf(w->err, "%s: not a WordPress export (no WXR elements "
		    "in the http(s)://wordpress.org/export/1.x/ namespace)",
		    w->o->path);
		return false;
	}
	if (!w->scan)
		wxr_flush_terms(w);
	return true;
}

/* One pass over the file: the first (w->scan) fills the map, the second
 * imports. NONET; no NOENT, no DTDLOAD, no HUGE: entities stay
 * unexpanded, no DTD is read and libxml2's own size limits hold. */
static bool
wxr_pass(struct wxr *w)
{
	w->depth = 0;
	w->rec = REC_NONE;
	w->is_rss = w->seen_wp = w->failed = w->step_over = false;
	w->fd = open(w->o->path, O_RDONLY | O_CLOEXEC);
	if (w->fd < 0) {
		buf_printf(w->err, "%s: cannot open: %s", w->o->path,
		    strerror(errno));
		return false;
	}
	w->r = xmlReaderForIO(wxr_in_read, wxr_in_close, w, w->o->path, NULL,
	    XML_PARSE_NONET);
	if (w->r == NULL) {
		buf_printf(w->err, "%s: cannot open", w->o->path);
		return false;
	}
	xmlTextReaderSetStructuredErrorHandler(w->r, wxr_xml_error, w);
	bool ok = wxr_walk(w);
	xmlFreeTextReader(w->r);
	w->r = NULL;
	close(w->fd);
	w->fd = -1;
	return ok;
}

bool
port_wxr_import(store *st, const struct port_wxr_opts *o,
    struct port_wxr_stats *stats, buf *err)
{
	struct wxr w;
	bool ok = false, batch = false;
	buf tz;

	memset(&w, 0, sizeof(w));
	w.fd = -1;
	memset(stats, 0, sizeof(*stats));
	w.st = st;
	w.o = o;
	w.s = stats;
	w.err = err;
	w.now = o->now ? o->now : text_now();
	w.ia = arena_new(0);
	buf_init(&w.text, 0);
	buf_init(&tz, 256);
	if (store_setting_get(st, "site.timezone", &tz) == STORE_OK)
		text_tz_set(buf_cstr(&tz));
	buf_free(&tz);

	xmlInitParser();
	xmlSetExternalEntityLoader(wxr_no_loader);

	/* the map first: links to later posts, galleries, files */
	w.map = port_map_new(st, &stats->more, o->dry_run, w.now);
	w.scan = true;
	if (!wxr_pass(&w))
		goto out;
	w.scan = false;
	if (!o->dry_run) {
		/* with the usual page cache: 256 MB (the demo's) took 10,000
		 * posts and 200,000 comments from 12.7 to 12.1 s and the
		 * import's peak RSS from 34 to 172 MiB, no longer flat */
		if (content_batch_begin(st, 0) != CONTENT_OK) {
			buf_printf(err, "cannot start writing to the database");
			goto out;
		}
		batch = true;
	}
	port_map_ready(w.map, o->uploads);
	if (!wxr_pass(&w))
		goto out;
	port_map_finish(w.map);
	port_parents_apply(w.parents, st, w.now);
	ok = true;
out:
	if (batch) {
		/* what the walk saved before a fatal error stays: a second
		 * run after fixing the file picks up from there */
		if (content_batch_end(st) != CONTENT_OK && ok) {
			buf_printf(err, "cannot commit to the database");
			ok = false;
		}
	}
	if (o->progress && stats->items >= 50)
		fputc('\n', stderr);
	if (w.reasons > WXR_REASONS_MAX)
		fprintf(stderr, "kiji import-wxr: … and %d more problems\n",
		    w.reasons - WXR_REASONS_MAX);
	if (w.r)
		xmlFreeTextReader(w.r);
	if (w.fd >= 0)
		close(w.fd);
	xmlSetExternalEntityLoader(NULL);

	for (size_t i = 0; i < w.nterms; i++) {
		free(w.terms[i].slug);
		free(w.terms[i].parent);
		free(w.terms[i].name);
		free(w.terms[i].desc);
	}
	free(w.terms);
	for (size_t i = 0; i < w.nusers; i++)
		free(w.users[i].login);
	free(w.users);
	port_map_free(w.map);
	port_parents_free(w.parents);
	buf_free(&w.text);
	arena_free(w.ia);
	return ok;
}

static void
wxr_line(FILE *out, const char *what, const struct port_counts *c,
    bool dry)
{
	fprintf(out, "  %-11s %lld %s, %lld updated, %lld unchanged, %lld failed\n",
	    what, (long long)c->imported, dry ? "to import" : "imported",
	    (long long)c->updated, (long long)c->unchanged, (long long)c->failed);
}

void
port_wxr_summary(const struct port_wxr_stats *s, bool dry, FILE *out)
{
	fprintf(out, "kiji import-wxr: %s%lld items read\n",
	    dry ? "dry run (nothing written): " : "", (long long)s->items);
	wxr_line(out, "posts", &s->posts, dry);
	fprintf(out, "              of which %lld scheduled, %lld drafts\n",
	    (long long)s->scheduled, (long long)s->drafts);
	wxr_line(out, "pages", &s->pages, dry);
	wxr_line(out, "comments", &s->comments, dry);
	fprintf(out, "              of which %lld trackbacks, %lld pingbacks, "
	    "%lld pending; %lld without their parent (put at the top)\n",
	    (long long)s->trackbacks, (long long)s->pingbacks,
	    (long long)s->comments_pending, (long long)s->comments_orphan);
	wxr_line(out, "categories", &s->categories, dry);
	wxr_line(out, "tags", &s->tags, dry);
	wxr_line(out, "authors", &s->authors, dry);
	fprintf(out, "  attachments %lld seen (%lld featured images set)\n",
	    (long long)s->attachments, (long long)s->eyecatches);
	port_map_summary(&s->more, dry, out);
	if (s->skipped_total) {
		fprintf(out, "  skipped     %lld items kiji has no place for:",
		    (long long)s->skipped_total);
		for (size_t k = 0; k <= PORT_SKIP_TYPES; k++)
			if (s->skipped[k].n)
				fprintf(out, " %s %lld", k == PORT_SKIP_TYPES ? "other"
				    : s->skipped[k].name, (long long)s->skipped[k].n);
		fputc('\n', out);
	}
	if (s->extra_categories)
		fprintf(out, "  %lld categories past an article's first were left "
		    "out (kiji keeps one per article)\n",
		    (long long)s->extra_categories);
	if (s->tags_dropped)
		fprintf(out, "  %lld tags past 50 on an article were left out\n",
		    (long long)s->tags_dropped);
	if (s->tags_undeclared)
		fprintf(out, "  %lld tag uses named a tag the channel does not "
		    "declare (added with the item's slug)\n",
		    (long long)s->tags_undeclared);
	if (s->authors_unknown)
		fprintf(out, "  %lld articles name an author (dc:creator) that is "
		    "not among the file's authors: imported without one\n",
		    (long long)s->authors_unknown);
	if (s->untitled)
		fprintf(out, "  %lld untitled articles were titled 「(無題)」\n",
		    (long long)s->untitled);
	if (s->slug_fallback)
		fprintf(out, "  %lld slugs kiji cannot take (or taken) were made "
		    "anew from the title\n", (long long)s->slug_fallback);
}
