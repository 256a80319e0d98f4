/*
 * The `kiji post` file format, private to content/ (and its fuzz target):
 * YAML front matter between "---" lines (libyaml), then the Markdown
 * body. The parser sees outside input: sizes, nesting and counts are
 * bounded before and while parsing, anchors and aliases are refused.
 */
#ifndef KIJI_FRONTMATTER_H
#define KIJI_FRONTMATTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"
#include "../text/text.h"

#define CONTENT_FILE_MAX (4u << 20)   /* bytes of a whole .md file */
#define CONTENT_FM_MAX (256u << 10)   /* bytes of its front matter */

/* The enums' names as the file (and the database) spell them. */
extern const char *const content_kind_names[KIND__MAX];
extern const char *const content_status_names[STATUS__MAX];
extern const char *const content_format_names[FORMAT__MAX];

/* The front matter's keys, in the order content_fm_write writes them. */
enum content_fm_key {
	FM_TITLE, FM_SLUG, FM_KIND, FM_STATUS, FM_DATE, FM_AUTHOR,
	FM_CATEGORY, FM_TAGS, FM_SOURCES, FM_EYECATCH, FM_CREDIT, FM_EXCERPT,
	FM_COMMENTS, FM_FORMAT, FM_PARENT,
	FM__MAX
};
extern const char *const content_fm_names[FM__MAX];

/*
 * A parsed file. has[k] says key k was given (an edit keeps the rest);
 * line[k] is its line in the file (1-based), for messages. Names stay
 * names (author login, category slug, eyecatch URL or file path): the
 * caller resolves them. Strings in the caller's arena.
 */
struct content_fm {
	bool has[FM__MAX];
	int line[FM__MAX];
	const char *title, *slug, *author, *category, *eyecatch, *credit,
	    *excerpt;
	const char *parent;  /* a page's parent: its id, or its path
	                      * ("about/company", "/pages/about/company") */
	enum store_kind kind;
	enum store_status status;
	enum store_format format;
	int64_t date;
	bool comments;
	const char **tags;
	int *tag_lines;
	size_t ntags;
	struct store_source *sources;
	int *source_lines;
	size_t nsources;
	const char *body;  /* "" when the file has none */
	int body_line;     /* the line the body starts on */
};

/* Parses a whole file (n bytes, need not be NUL-terminated). false with
 * "LINE: KEY: what" (or "LINE: what") in err, in English. */
bool content_fm_parse(const char *src, size_t n, arena *a,
    struct content_fm *out, buf *err);
/* The file for an article: every key (author as login, category as slug,
 * "" where there is none) and the body; content_fm_parse reads back the
 * same fields. */
void content_fm_write(buf *out, const struct store_article *art,
    const char *author_login);
/* The key a content_result field names (FM__MAX: none of them). */
enum content_fm_key content_fm_key_of(const char *field);

#endif
