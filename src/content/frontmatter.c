/*
 * `kiji post` files (frontmatter.h): YAML front matter between "---"
 * lines, then the body. Parsed with libyaml's event API into a small
 * bounded tree (depth, entries, events), then read key by key, so every
 * error names its line and key. Written back with libyaml's emitter, so
 * whatever it writes, the parser reads back.
 */
#include "frontmatter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define FM_DEPTH 4         /* map → sequence → map → scalar */
#define FM_ENTRIES 200     /* per mapping or sequence */
#define FM_EVENTS 20000

const char *const content_kind_names[KIND__MAX] = {
	[KIND_POST] = "post",
	[KIND_PAGE] = "page",
};
const char *const content_status_names[STATUS__MAX] = {
	[STATUS_DRAFT] = "draft",
	[STATUS_SCHEDULED] = "scheduled",
	[STATUS_PUBLISHED] = "published",
	[STATUS_TRASH] = "trash",
};
const char *const content_format_names[FORMAT__MAX] = {
	[FORMAT_MARKDOWN] = "markdown",
	[FORMAT_HTML] = "html",
};

const char *const content_fm_names[FM__MAX] = {
	[FM_TITLE] = "title", [FM_SLUG] = "slug", [FM_KIND] = "kind",
	[FM_STATUS] = "status", [FM_DATE] = "date", [FM_AUTHOR] = "author",
	[FM_CATEGORY] = "category", [FM_TAGS] = "tags",
	[FM_SOURCES] = "sources", [FM_EYECATCH] = "eyecatch",
	[FM_CREDIT] = "credit", [FM_EXCERPT] = "excerpt",
	[FM_COMMENTS] = "comments", [FM_FORMAT] = "format",
	[FM_PARENT] = "parent",
};

/* ---- the tree ------------------------------------------------------------------ */

enum fm_type { FN_SCALAR, FN_SEQ, FN_MAP };

struct fm_node {
	enum fm_type type;
	int line;
	const char *s;          /* scalar text */
	bool null;              /* a plain "", "~" or "null" */
	struct fm_node *kids;   /* entries; a map's are its values */
	const char **keys;      /* a map's keys (scalars only) */
	int *key_lines;
	size_t n;
};

/* One parse: libyaml's state, where the YAML began in the file, and the
 * first error (the rest is not reported). */
struct fm_parse {
	yaml_parser_t yp;
	arena *a;
	buf *err;
	int line0;          /* file line of the YAML's first line */
	size_t events;
	bool failed;
};

/* Records the first error as "LINE: what". */
static void __attribute__((format(printf, 3, 4)))
fm_error(struct fm_parse *p, int line, const char *fmt, ...)
{
	va_list ap;
	if (p->failed)
		return;
	p->failed = true;
	buf_printf(p->err, "%d: ", line);
	va_start(ap, fmt);
	buf_vprintf(p->err, fmt, ap);
	va_end(ap);
}

/* The next event, or false (error recorded). */
static bool
fm_next(struct fm_parse *p, yaml_event_t *ev)
{
	if (++p->events > FM_EVENTS) {
		fm_error(p, p->line0, "front matter too complex");
		return false;
	}
	if (!yaml_parser_parse(&p->yp, ev)) {
		fm_error(p, p->line0 + (int)p->yp.problem_mark.line,
		    "not YAML: %s", p->yp.problem ? p->yp.problem : "syntax error");
		return false;
	}
	return true;
}

/* True when a node event carries an anchor (refused: aliases could
 * multiply what we read). */
static bool
fm_anchored(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return ev->data.scalar.anchor != NULL;
	case YAML_SEQUENCE_START_EVENT:
		return ev->data.sequence_start.anchor != NULL;
	case YAML_MAPPING_START_EVENT:
		return ev->data.mapping_start.anchor != NULL;
	default:
		return false;
	}
}

static struct fm_node *fm_node(struct fm_parse *p, yaml_event_t *ev, int depth);

/* Reads a sequence's or mapping's entries up to its end event. */
static bool
fm_children(struct fm_parse *p, struct fm_node *nd, int depth)
{
	size_t cap = 8;
	bool map = nd->type == FN_MAP;
	yaml_event_t ev;
	nd->kids = arena_alloc(p->a, cap * sizeof(nd->kids[0]));
	if (map) {
		nd->keys = arena_alloc(p->a, cap * sizeof(*nd->keys));
		nd->key_lines = arena_alloc(p->a, cap * sizeof(*nd->key_lines));
	}
	for (;;) {
		if (!fm_next(p, &ev))
			return false;
		if (ev.type == YAML_SEQUENCE_END_EVENT ||
		    ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return true;
		}
		int line = p->line0 + (int)ev.start_mark.line;
		if (nd->n == FM_ENTRIES) {
			yaml_event_delete(&ev);
			fm_error(p, line, "more than %d entries", FM_ENTRIES);
			return false;
		}
		if (nd->n == cap) {
			/* arena: the old arrays stay, at most as much again */
			size_t nc = cap * 2;
			struct fm_node *k = arena_alloc(p->a, nc * sizeof(k[0]));
			memcpy(k, nd->kids, cap * sizeof(k[0]));
			nd->kids = k;
			if (map) {
				const char **ks = arena_alloc(p->a, nc * sizeof(*ks));
				int *kl = arena_alloc(p->a, nc * sizeof(*kl));
				memcpy(ks, nd->keys, cap * sizeof(*ks));
				memcpy(kl, nd->key_lines, cap * sizeof(*kl));
				nd->keys = ks;
				nd->key_lines = kl;
			}
			cap = nc;
		}
		if (map) {
			if (ev.type != YAML_SCALAR_EVENT || fm_anchored(&ev)) {
				yaml_event_delete(&ev);
				fm_error(p, line, "keys must be plain words");
				return false;
			}
			nd->keys[nd->n] = arena_strndup(p->a,
			    (const char *)ev.data.scalar.value, ev.data.scalar.length);
			nd->key_lines[nd->n] = line;
			yaml_event_delete(&ev);
			if (!fm_next(p, &ev))
				return false;
		}
		struct fm_node *kid = fm_node(p, &ev, depth + 1);
		yaml_event_delete(&ev);
		if (kid == NULL)
			return false;
		nd->kids[nd->n++] = *kid;
	}
}

/* The node that starts with ev (which the caller deletes). */
static struct fm_node *
fm_node(struct fm_parse *p, yaml_event_t *ev, int depth)
{
	int line = p->line0 + (int)ev->start_mark.line;
	if (ev->type == YAML_ALIAS_EVENT || fm_anchored(ev)) {
		fm_error(p, line, "anchors and aliases are not supported");
		return NULL;
	}
	if (depth > FM_DEPTH) {
		fm_error(p, line, "nested too deeply");
		return NULL;
	}
	struct fm_node *nd = arena_alloc(p->a, sizeof(*nd));
	nd->line = line;
	switch (ev->type) {
	case YAML_SCALAR_EVENT: {
		const char *v = (const char *)ev->data.scalar.value;
		size_t n = ev->data.scalar.length;
		nd->type = FN_SCALAR;
		if (memchr(v, '\0', n) != NULL) {
			fm_error(p, line, "NUL character");
			return NULL;
		}
		nd->s = arena_strndup(p->a, v, n);
		nd->null = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    (n == 0 || strcmp(nd->s, "~") == 0 ||
		    strcasecmp(nd->s, "null") == 0);
		return nd;
	}
	case YAML_SEQUENCE_START_EVENT:
		nd->type = FN_SEQ;
		return fm_children(p, nd, depth) ? nd : NULL;
	case YAML_MAPPING_START_EVENT:
		nd->type = FN_MAP;
		return fm_children(p, nd, depth) ? nd : NULL;
	default:
		fm_error(p, line, "unexpected YAML");
		return NULL;
	}
}

/* The front matter's top node: a mapping, or NULL for an empty one (and
 * on error, with p->failed). */
static struct fm_node *
fm_document(struct fm_parse *p, const char *y, size_t n)
{
	yaml_event_t ev;
	struct fm_node *root = NULL;
	yaml_parser_set_input_string(&p->yp, (const unsigned char *)y, n);
	yaml_parser_set_encoding(&p->yp, YAML_UTF8_ENCODING);
	while (!p->failed && fm_next(p, &ev)) {
		yaml_event_type_t t = ev.type;
		if (t == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (t == YAML_DOCUMENT_START_EVENT && root != NULL) {
			fm_error(p, p->line0 + (int)ev.start_mark.line,
			    "one YAML document only");
		} else if (t == YAML_SCALAR_EVENT || t == YAML_SEQUENCE_START_EVENT ||
		    t == YAML_MAPPING_START_EVENT || t == YAML_ALIAS_EVENT) {
			root = fm_node(p, &ev, 1);
			if (root != NULL && !(root->type == FN_MAP ||
			    (root->type == FN_SCALAR && root->null)))
				fm_error(p, root->line, "front matter must be "
				    "'key: value' lines");
		}
		yaml_event_delete(&ev);
	}
	return p->failed || root == NULL || root->type != FN_MAP ? NULL : root;
}

/* ---- reading the keys ------------------------------------------------------------- */

/* A scalar's text ("" for null), or NULL with an error naming key. */
static const char *
fm_text(struct fm_parse *p, const struct fm_node *v, const char *key)
{
	if (v->type != FN_SCALAR) {
		fm_error(p, v->line, "%s: must be text, not a list", key);
		return NULL;
	}
	return v->null ? "" : v->s;
}

/* v as one of names[0..n), or -1 with an error. */
static int
fm_enum(struct fm_parse *p, const struct fm_node *v, const char *key,
    const char *const *names, int n)
{
	const char *s = fm_text(p, v, key);
	for (int i = 0; s != NULL && i < n; i++)
		if (names[i] != NULL && strcmp(s, names[i]) == 0)
			return i;
	if (s != NULL) {
		buf all;
		buf_init(&all, 256);
		for (int i = 0; i < n; i++)
			if (names[i] != NULL)
				buf_printf(&all, "%s%s", all.len ? ", " : "", names[i]);
		fm_error(p, v->line, "%s: must be one of %s", key, buf_cstr(&all));
		buf_free(&all);
	}
	return -1;
}

/* "YYYY-MM-DDTHH:MM[:SS](Z|±HH:MM)": a date that says its zone. */
static bool
fm_iso_with_offset(const char *s, int64_t *t)
{
	size_t n = strlen(s);
	if (n < 17 || s[10] != 'T')
		return false;
	bool zone = s[n - 1] == 'Z' || (n >= 6 && (s[n - 6] == '+' ||
	    s[n - 6] == '-') && s[n - 3] == ':');
	return zone && text_parse_iso8601(s, t);
}

/* tags: a list of names (or one name). */
static void
fm_tags(struct fm_parse *p, const struct fm_node *v, struct content_fm *o)
{
	if (v->type == FN_MAP) {
		fm_error(p, v->line, "tags: must be a list of names");
		return;
	}
	size_t n = v->type == FN_SEQ ? v->n : v->null ? 0 : 1;
	o->tags = arena_alloc(p->a, (n + 1) * sizeof(*o->tags));
	o->tag_lines = arena_alloc(p->a, (n + 1) * sizeof(*o->tag_lines));
	for (size_t i = 0; i < n; i++) {
		const struct fm_node *t = v->type == FN_SEQ ? &v->kids[i] : v;
		if (t->type != FN_SCALAR || t->null) {
			fm_error(p, t->line, "tags: entry %zu must be a name", i + 1);
			return;
		}
		o->tags[i] = t->s;
		o->tag_lines[i] = t->line;
	}
	o->ntags = n;
}

/* sources: a list of {title, url}. */
static void
fm_sources(struct fm_parse *p, const struct fm_node *v, struct content_fm *o)
{
	if (v->type == FN_SCALAR && v->null)
		return;
	if (v->type != FN_SEQ) {
		fm_error(p, v->line, "sources: must be a list of {title, url}");
		return;
	}
	o->sources = arena_alloc(p->a, (v->n + 1) * sizeof(*o->sources));
	o->source_lines = arena_alloc(p->a, (v->n + 1) * sizeof(*o->source_lines));
	for (size_t i = 0; i < v->n; i++) {
		const struct fm_node *s = &v->kids[i];
		const char *title = NULL, *url = NULL;
		if (s->type != FN_MAP) {
			fm_error(p, s->line, "sources: entry %zu must be "
			    "{title, url}", i + 1);
			return;
		}
		for (size_t k = 0; k < s->n; k++) {
			const char **dst = strcmp(s->keys[k], "title") == 0 ? &title
			    : strcmp(s->keys[k], "url") == 0 ? &url : NULL;
			if (dst == NULL || *dst != NULL) {
				fm_error(p, s->key_lines[k], "sources: entry %zu: %s "
				    "key '%s' (title and url only)", i + 1,
				    dst ? "repeated" : "unknown", s->keys[k]);
				return;
			}
			if ((*dst = fm_text(p, &s->kids[k], "sources")) == NULL)
				return;
		}
		if (title == NULL || url == NULL) {
			fm_error(p, s->line, "sources: entry %zu needs a title and "
			    "a url", i + 1);
			return;
		}
		o->sources[i].title = title;
		o->sources[i].url = url;
		o->source_lines[i] = s->line;
	}
	o->nsources = v->n;
}

/* One key's value into o. */
static void
fm_key(struct fm_parse *p, enum content_fm_key k, const struct fm_node *v,
    struct content_fm *o)
{
	static const char *const yes[] = {"true", "yes", "on", "open"};
	static const char *const no[] = {"false", "no", "off", "closed"};
	const char *key = content_fm_names[k], *s = NULL;
	int e;
	switch (k) {
	case FM_TITLE: o->title = fm_text(p, v, key); break;
	case FM_SLUG: o->slug = fm_text(p, v, key); break;
	case FM_AUTHOR: o->author = fm_text(p, v, key); break;
	case FM_CATEGORY: o->category = fm_text(p, v, key); break;
	case FM_EYECATCH: o->eyecatch = fm_text(p, v, key); break;
	case FM_CREDIT: o->credit = fm_text(p, v, key); break;
	case FM_EXCERPT: o->excerpt = fm_text(p, v, key); break;
	case FM_PARENT: o->parent = fm_text(p, v, key); break;
	case FM_KIND:
		if ((e = fm_enum(p, v, key, content_kind_names, KIND__MAX)) >= 0)
			o->kind = (enum store_kind)e;
		break;
	case FM_STATUS:
		/* the trash is reached through content_trash, never a file */
		if ((e = fm_enum(p, v, key, content_status_names,
		    STATUS_TRASH)) >= 0)
			o->status = (enum store_status)e;
		break;
	case FM_FORMAT:
		if ((e = fm_enum(p, v, key, content_format_names, FORMAT__MAX)) >= 0)
			o->format = (enum store_format)e;
		break;
	case FM_DATE:
		if ((s = fm_text(p, v, key)) != NULL && *s &&
		    !fm_iso_with_offset(s, &o->date))
			fm_error(p, v->line, "date: not ISO 8601 with an offset "
			    "(like 2026-12-03T09:00:00+09:00)");
		break;
	case FM_COMMENTS:
		if ((s = fm_text(p, v, key)) == NULL)
			break;
		for (size_t i = 0; i < 4; i++) {
			if (strcasecmp(s, yes[i]) == 0) {
				o->comments = true;
				return;
			}
			if (strcasecmp(s, no[i]) == 0) {
				o->comments = false;
				return;
			}
		}
		fm_error(p, v->line, "comments: must be true (open) or false "
		    "(closed)");
		break;
	case FM_TAGS: fm_tags(p, v, o); break;
	case FM_SOURCES: fm_sources(p, v, o); break;
	case FM__MAX: break;
	}
}

/* ---- the file ------------------------------------------------------------------ */

/* Length of the line at s (without its \n), and whether it is a fence:
 * "---" (or "...", to close) with only trailing white space. */
static bool
fm_fence(const char *s, size_t n, bool close)
{
	if (n < 3 || !(memcmp(s, "---", 3) == 0 || (close && memcmp(s, "...", 3) == 0)))
		return false;
	for (size_t i = 3; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* The line number of byte off. */
static int
fm_line_of(const char *s, size_t off)
{
	int line = 1;
	for (size_t i = 0; i < off; i++)
		line += s[i] == '\n';
	return line;
}

/* Bounds and UTF-8 first, then the fences, the YAML and the body. */
bool
content_fm_parse(const char *src, size_t n, arena *a, struct content_fm *out,
    buf *err)
{
	struct fm_parse p = {.a = a, .err = err, .line0 = 2};
	size_t off = 0, body = 0;
	int body_line = 1;

	memset(out, 0, sizeof(*out));
	out->kind = KIND_POST;
	out->status = STATUS_DRAFT;
	out->format = FORMAT_MARKDOWN;
	out->comments = true;
	out->body = "";
	if (n > CONTENT_FILE_MAX) {
		buf_printf(err, "1: larger than %u MiB", CONTENT_FILE_MAX >> 20);
		return false;
	}
	/* line by line, so the message can say which ('\n' never occurs
	 * inside a UTF-8 sequence) */
	for (size_t i = 0, line = 1; i < n; line++) {
		const char *e = memchr(src + i, '\n', n - i);
		size_t len = (e ? (size_t)(e - src) : n) - i;
		if (memchr(src + i, '\0', len) || !text_utf8_valid(src + i, len)) {
			buf_printf(err, "%zu: not UTF-8 text", line);
			return false;
		}
		i += len + 1;
	}
	if (n >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0)
		off = 3; /* a byte-order mark some editors write */

	const char *nl = memchr(src + off, '\n', n - off);
	size_t first = (nl ? (size_t)(nl - src) : n) - off;
	if (fm_fence(src + off, first, false)) {
		size_t y = nl ? (size_t)(nl - src) + 1 : n, ye = y;
		bool closed = false;
		while (ye < n) {
			const char *e = memchr(src + ye, '\n', n - ye);
			size_t len = (e ? (size_t)(e - src) : n) - ye;
			if (fm_fence(src + ye, len, true)) {
				closed = true;
				body = e ? (size_t)(e - src) + 1 : n;
				break;
			}
			ye = e ? (size_t)(e - src) + 1 : n;
		}
		if (!closed) {
			buf_puts(err, "1: front matter has no closing '---' line");
			return false;
		}
		if (ye - y > CONTENT_FM_MAX) {
			buf_printf(err, "1: front matter larger than %u KiB",
			    CONTENT_FM_MAX >> 10);
			return false;
		}
		if (!yaml_parser_initialize(&p.yp)) {
			buf_puts(err, "1: out of memory");
			return false;
		}
		struct fm_node *root = fm_document(&p, src + y, ye - y);
		for (size_t i = 0; root != NULL && !p.failed && i < root->n; i++) {
			int k = 0;
			while (k < FM__MAX &&
			    strcmp(root->keys[i], content_fm_names[k]) != 0)
				k++;
			if (k == FM__MAX) {
				fm_error(&p, root->key_lines[i], "%s: unknown key (title, "
				    "slug, kind, status, date, author, category, tags, "
				    "sources, eyecatch, credit, excerpt, comments, format, "
				    "parent)",
				    root->keys[i]);
			} else if (out->has[k]) {
				fm_error(&p, root->key_lines[i], "%s: given twice",
				    root->keys[i]);
			} else {
				out->has[k] = true;
				out->line[k] = root->key_lines[i];
				fm_key(&p, (enum content_fm_key)k, &root->kids[i], out);
			}
		}
		yaml_parser_delete(&p.yp);
		if (p.failed)
			return false;
		body_line = fm_line_of(src, body);
	} else {
		body = off;
	}

	/* the body: blank lines at either end dropped */
	while (body < n) {
		size_t i = body;
		while (i < n && (src[i] == ' ' || src[i] == '\t' || src[i] == '\r'))
			i++;
		if (i >= n || src[i] != '\n')
			break;
		body = i + 1;
		body_line++;
	}
	size_t end = n;
	while (end > body && (src[end - 1] == '\n' || src[end - 1] == '\r' ||
	    src[end - 1] == ' ' || src[end - 1] == '\t'))
		end--;
	out->body = arena_strndup(a, src + body, end - body);
	out->body_line = body_line;
	return true;
}

/* ---- writing -------------------------------------------------------------------- */

/* libyaml's output callback: appends to a buf. */
static int
fm_sink(void *data, unsigned char *s, size_t n)
{
	return buf_put(data, s, n) ? 1 : 0;
}

/* True when s holds what YAML may fold or take as a line break (C0
 * controls, DEL, NEL, LS, PS, BOM): written double-quoted, escaped. */
static bool
fm_breaks(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xC2 && p[1] == 0x85) ||
		    (p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) ||
		    (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF))
			return true;
	return false;
}

/* Emits one scalar; text that would read back as null (or as a different
 * string) is double-quoted. */
static void
fm_scalar(yaml_emitter_t *em, const char *s, bool text)
{
	yaml_event_t ev;
	bool quote = text && (*s == '\0' || strcmp(s, "~") == 0 ||
	    strcasecmp(s, "null") == 0 || fm_breaks(s));
	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s,
	    (int)strlen(s), 1, 1, quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
					: YAML_ANY_SCALAR_STYLE);
	yaml_emitter_emit(em, &ev);
}

/* key: value (text). */
static void
fm_pair(yaml_emitter_t *em, enum content_fm_key k, const char *v, bool text)
{
	fm_scalar(em, content_fm_names[k], false);
	fm_scalar(em, v ? v : "", text);
}

/* Every key in content_fm_names order, then a blank line and the body. */
void
content_fm_write(buf *out, const struct store_article *art,
    const char *author_login)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	buf date;

	buf_init(&date, 64);
	if (art->published_at)
		text_rfc3339(&date, art->published_at);
	buf_puts(out, "---\n");
	if (!yaml_emitter_initialize(&em)) {
		out->err = true;
		buf_free(&date);
		return;
	}
	yaml_emitter_set_output(&em, fm_sink, out);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	yaml_emitter_emit(&em, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	yaml_emitter_emit(&em, &ev);
	yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
	    YAML_BLOCK_MAPPING_STYLE);
	yaml_emitter_emit(&em, &ev);

	fm_pair(&em, FM_TITLE, art->title, true);
	fm_pair(&em, FM_SLUG, art->slug, true);
	fm_pair(&em, FM_KIND, content_kind_names[art->kind], false);
	fm_pair(&em, FM_STATUS, content_status_names[art->status], false);
	if (art->published_at)
		fm_pair(&em, FM_DATE, buf_cstr(&date), false);
	fm_pair(&em, FM_AUTHOR, author_login, true);
	fm_pair(&em, FM_CATEGORY, art->category_slug, true);

	fm_scalar(&em, content_fm_names[FM_TAGS], false);
	yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, art->ntags ?
	    YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE);
	yaml_emitter_emit(&em, &ev);
	for (size_t i = 0; i < art->ntags; i++)
		fm_scalar(&em, art->tags[i].name, true);
	yaml_sequence_end_event_initialize(&ev);
	yaml_emitter_emit(&em, &ev);

	fm_scalar(&em, content_fm_names[FM_SOURCES], false);
	yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, art->nsources ?
	    YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE);
	yaml_emitter_emit(&em, &ev);
	for (size_t i = 0; i < art->nsources; i++) {
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		    YAML_BLOCK_MAPPING_STYLE);
		yaml_emitter_emit(&em, &ev);
		fm_scalar(&em, "title", false);
		fm_scalar(&em, art->sources[i].title, true);
		fm_scalar(&em, "url", false);
		fm_scalar(&em, art->sources[i].url, true);
		yaml_mapping_end_event_initialize(&ev);
		yaml_emitter_emit(&em, &ev);
	}
	yaml_sequence_end_event_initialize(&ev);
	yaml_emitter_emit(&em, &ev);

	fm_pair(&em, FM_EYECATCH, art->eyecatch, true);
	fm_pair(&em, FM_CREDIT, art->eyecatch_credit, true);
	fm_pair(&em, FM_EXCERPT, art->excerpt, true);
	fm_pair(&em, FM_COMMENTS, art->comments_open ? "true" : "false", false);
	fm_pair(&em, FM_FORMAT, content_format_names[art->body_format], false);
	if (art->kind == KIND_PAGE) { /* its parent's id, "" at the top */
		char pid[24] = "";
		if (art->parent_id > 0)
			snprintf(pid, sizeof(pid), "%lld", (long long)art->parent_id);
		fm_pair(&em, FM_PARENT, pid, true);
	}

	yaml_mapping_end_event_initialize(&ev);
	yaml_emitter_emit(&em, &ev);
	yaml_document_end_event_initialize(&ev, 1);
	yaml_emitter_emit(&em, &ev);
	yaml_stream_end_event_initialize(&ev);
	if (!yaml_emitter_emit(&em, &ev) || !yaml_emitter_flush(&em))
		out->err = true;
	yaml_emitter_delete(&em);
	buf_free(&date);
	buf_puts(out, "---\n\n");
	buf_puts(out, art->body ? art->body : "");
	buf_putc(out, '\n');
}

/* content_result.field names are the file's keys. */
enum content_fm_key
content_fm_key_of(const char *field)
{
	for (int k = 0; field != NULL && k < FM__MAX; k++)
		if (strcmp(field, content_fm_names[k]) == 0)
			return (enum content_fm_key)k;
	return FM__MAX;
}
