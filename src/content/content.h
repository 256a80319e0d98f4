/*
 * content: the one article save path. The admin editor, `kiji post`, the
 * WordPress importer and the demo generator all write articles through
 * content_save and nothing else: it validates, renders Markdown (or
 * sanitises HTML) to the stored HTML, computes the excerpt and search
 * text, makes a unique slug, writes the article with its sources and tags
 * and a revision, keeps the search index in step and schedules the
 * publish job of a scheduled article.
 */
#ifndef KIJI_CONTENT_H
#define KIJI_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"
#include "../text/text.h"

/* What a writer supplies. Strings are UTF-8; NULL means "" (or, on an
 * edit with keep_missing, "keep the stored value"). */
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
	const char *excerpt;      /* "" : computed from the body */
	enum store_status status; /* draft, scheduled, published (trash
	                           * only through content_trash) */
	int64_t published_at;     /* 0: now when published; required when
	                           * scheduled (and in the future) */
	int64_t author_id;
	int64_t category_id;      /* 0: none */
	const char *const *tags;  /* tag names; created when new */
	size_t ntags;
	const struct store_source *sources;
	size_t nsources;
	const char *eyecatch;     /* a media URL or "" */
	const char *eyecatch_credit;
	bool comments_open;
	const char *legacy_id;    /* importer: WordPress id, or "" */
	const char *guid;         /* "" : the store makes one */
	int64_t now;              /* the writer's clock (tests inject it) */
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
	int64_t revision;         /* the revision this save wrote */
	const char *field;        /* INVALID: which field ("title", "date"…) */
	const char *message;      /* INVALID: why, in Japanese, for people */
};

/* Saves one article (new or edit) in one transaction. */
enum content_err content_save(store *st, const struct content_input *in,
    arena *a, struct content_result *res);

/* Renders what content_save would store, without saving (the editor's
 * preview): body HTML, plain text and excerpt. */
enum content_err content_render(const struct content_input *in, arena *a,
    const char **html, const char **text, const char **excerpt,
    struct content_result *res);

/* A slug from a title: ASCII words lowercased and joined by '-', else
 * the date ("2026-12-03-1"); unique per kind is content_save's job. */
const char *content_slugify(arena *a, const char *title, int64_t t);

/* Batch mode (demo, importer): many saves in one transaction with the
 * search index written once at the end. */
enum content_err content_batch_begin(store *st);
enum content_err content_batch_end(store *st);

/* Trash (restorable: remembers the status) and restore; delete for good
 * only from the trash. */
enum content_err content_trash(store *st, int64_t id, int64_t now);
enum content_err content_restore(store *st, int64_t id, int64_t now);
enum content_err content_delete(store *st, int64_t id);

/* Publishes a scheduled article whose time has come (the job runner's
 * "publish" job). Idempotent: publishing twice is a no-op. */
enum content_err content_publish_due(store *st, int64_t id, int64_t now);

#endif
