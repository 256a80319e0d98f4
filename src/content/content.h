/*
 * content: the one article save path. The admin editor, `kiji post`, the
 * WordPress importer and the demo generator all write articles through
 * content_save and nothing else: it validates, renders Markdown (or
 * sanitises HTML) to the stored HTML, computes the search text, makes a
 * unique slug, writes the article with its sources and tags and a
 * revision, keeps the search index in step and schedules the publish job
 * of a scheduled article and the "pings" job (net/send.c) of an article
 * that goes live or changes its body while live. Also `kiji post`'s front
 * matter (frontmatter.c).
 */
#ifndef KIJI_CONTENT_H
#define KIJI_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../store/store.h"
#include "../text/text.h"

/* Limits content_save enforces (forms may declare the same). Characters
 * are grapheme clusters. */
#define CONTENT_TITLE_MAX 300          /* characters */
#define CONTENT_SLUG_MAX 200           /* bytes, as the router takes them */
#define CONTENT_BODY_MAX (2u << 20)    /* bytes of source */
#define CONTENT_EXCERPT_MAX 1000       /* characters */
#define CONTENT_TAGS_MAX 50
#define CONTENT_TAG_MAX 100            /* characters per tag name */
#define CONTENT_SOURCES_MAX 50
#define CONTENT_SOURCE_TITLE_MAX 300   /* characters */
#define CONTENT_URL_MAX 2048           /* bytes (source and eyecatch URLs) */
#define CONTENT_CREDIT_MAX 300         /* characters */
#define CONTENT_AUTO_EXCERPT 120       /* characters of the computed excerpt */
#define CONTENT_BATCH 500              /* saves per transaction in a batch */

/* What a writer supplies. Strings are UTF-8; NULL means "". An edit
 * replaces every field: start from content_input_from to change a few. */
struct content_input {
	int64_t id;               /* 0: a new article */
	int64_t base_revision;    /* edit: the revision the writer started
	                           * from; a newer stored one → CONFLICT.
	                           * 0: do not check */
	enum store_kind kind;
	const char *title;
	const char *slug;         /* "" or NULL: made from the title */
	const char *body;
	enum store_format body_format;
	const char *excerpt;      /* "": none (pages cut one from the text) */
	enum store_status status; /* draft, scheduled, published (trash
	                           * only through content_trash) */
	int64_t published_at;     /* 0: now when published; required when
	                           * scheduled (and in the future) */
	int64_t author_id;        /* 0: none */
	int64_t editor_id;        /* who saves (the revision's author);
	                           * 0: author_id */
	int64_t category_id;      /* 0: none */
	const char *const *tags;  /* tag names; created when new */
	size_t ntags;
	const struct store_source *sources;
	size_t nsources;
	const char *eyecatch;     /* "", a /media/ URL or an http(s) URL */
	const char *eyecatch_credit;
	bool comments_open;
	const char *legacy_id;    /* importer: WordPress id, or "" */
	int64_t parent_id;        /* pages: the parent page (0: top level);
	                           * never itself or below itself, at most
	                           * STORE_PAGE_DEPTH levels; posts: 0 */
	int64_t menu_order;       /* pages: place among siblings */
	const char *guid;         /* "" : the store makes one (new), or keeps
	                           * the stored one (edit) */
	int64_t now;              /* the writer's clock (tests inject it) */
	int64_t updated_at;       /* importer: when it was last modified
	                           * (WordPress's post_modified); 0: now */
	bool no_pings;            /* importer, demo: publishing this sends no
	                           * TrackBack/Pingback/Webmention (old posts
	                           * are not news) */
};

enum content_err {
	CONTENT_OK,
	CONTENT_INVALID,   /* a field is wrong: res->field, res->message */
	CONTENT_CONFLICT,  /* saved over a newer revision: nothing written */
	CONTENT_NOTFOUND,  /* no such article (edit) */
	CONTENT_STORE,     /* the database failed */
	CONTENT__MAX
};

struct content_result {
	int64_t id;               /* the article */
	int64_t revision;         /* the revision this save wrote; on
	                           * CONFLICT the newest stored one */
	const char *field;        /* INVALID: which field: title, slug, kind,
	                           * body, format, excerpt, status, date,
	                           * author, category, tags, sources,
	                           * eyecatch, credit, legacy_id, guid,
	                           * parent */
	size_t item;              /* tags, sources: the entry at fault
	                           * (0-based) */
	const char *message;      /* why, in Japanese, for people (static) */
	const char *message_en;   /* the same in English (CLI, site.lang en) */
};

/* Saves one article (new or edit) atomically: one transaction, or one
 * savepoint inside a batch. On CONFLICT and every error nothing is
 * written. res is always filled; its strings are static. */
enum content_err content_save(store *st, const struct content_input *in,
    arena *a, struct content_result *res);

/* Renders what content_save would store, without saving (the editor's
 * preview): body HTML, plain text and the excerpt a page would show (the
 * given one, else the first CONTENT_AUTO_EXCERPT characters of the text,
 * cut on grapheme clusters with "…"). Checks every field that needs no
 * database. Strings in a. */
enum content_err content_render(const struct content_input *in, arena *a,
    const char **html, const char **text, const char **excerpt,
    struct content_result *res);

/* A slug from a title: when its letters are mostly ASCII (after folding
 * accents and full-width forms), its ASCII words lowercased and joined by
 * '-' (at most 80 bytes); else the date t in the site zone, "2026-12-03".
 * Unique per kind ("-2", "-3" … appended) is content_save's job. */
const char *content_slugify(arena *a, const char *title, int64_t t);
/* A tag's slug: ASCII words as content_slugify, else the name itself with
 * spaces and punctuation as '-' (the router takes UTF-8 slugs). */
const char *content_tag_slug(arena *a, const char *name);

/*
 * Where readers find art: "/articles/<id>" for a post, "/pages/<slug>/…"
 * (each slug percent-encoded, its ancestors' first) for a page. The one
 * place article URLs are made (site, admin, sitemap). A page whose chain
 * cannot be read (the database failing, a loop) gets "/articles/<id>",
 * which answers with a redirect or a 404. Arena-allocated.
 */
const char *content_article_path(store *st, const struct store_article *art,
    arena *a);
/* The same from the page chain of store_page_chain (top first). */
const char *content_page_path(const struct store_page *chain, size_t n,
    arena *a);

/* An input that saves art unchanged (an edit's starting point): strings
 * point into art, tags and sources into a. now and base_revision are the
 * caller's. */
void content_input_from(struct content_input *in, const struct store_article *art,
    arena *a);
/* Turns in (filled by content_input_from) into revision rev of the same
 * article: title, body, format and the meta fields (a restore saves it
 * as a new revision). NOTFOUND when the revision is not the article's. */
enum content_err content_input_revision(store *st, struct content_input *in,
    int64_t rev, arena *a);

/*
 * Batch mode (demo, importer): saves share one transaction per
 * CONTENT_BATCH, committed along the way, and the search index is
 * written once per commit instead of once per article. Each save stays
 * atomic (a savepoint). Per thread; not nestable. end commits, abort
 * rolls back what the last commit left. cache_mib: the page cache the
 * batch's connection keeps meanwhile (store_fts_defer).
 */
enum content_err content_batch_begin(store *st, int cache_mib);
enum content_err content_batch_end(store *st);
enum content_err content_batch_abort(store *st);

/* Trash (restorable: remembers the status) and restore; delete for good
 * only from the trash (else CONTENT_INVALID). Restoring a scheduled
 * article whose time has passed publishes it; one still ahead gets its
 * publish job back. */
enum content_err content_trash(store *st, int64_t id, int64_t now);
enum content_err content_restore(store *st, int64_t id, int64_t now);
enum content_err content_delete(store *st, int64_t id);

/* Publishes a scheduled article whose time has come (the job runner's
 * "publish" job), with its "pings" job. Idempotent: publishing twice is a
 * no-op. */
enum content_err content_publish_due(store *st, int64_t id, int64_t now);

/* ---- `kiji post` (post.c) ---------------------------------------------- */

/*
 * `kiji post new` (id 0) and `kiji post edit ID`: reads path (at most
 * CONTENT_FILE_MAX bytes), takes its front matter and body over a new
 * article or over the stored one (what the file leaves out is kept),
 * resolves names (author login, category slug; an eyecatch that is a
 * local file, relative to path's folder, is stored as media under its
 * content hash) and saves with content_save. *saved gets the id.
 * INVALID: a bad file or field, with "path:LINE: field: why" in err.
 */
enum content_err content_post_save(store *st, const char *path, int64_t id,
    int64_t now, int64_t *saved, buf *err);
/* `kiji post get ID`: the article as a file post_save reads back. */
enum content_err content_post_get(store *st, int64_t id, buf *out, buf *err);
/* `kiji post list`: one line per article, newest first: id, status,
 * kind, date (site zone, "-" when none), slug, title, tab-separated.
 * status STATUS__MAX: all but the trash. */
enum content_err content_post_list(store *st, enum store_status status,
    FILE *out);

#endif
