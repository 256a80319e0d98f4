/*
 * kiji's own fields in a WXR file: the `_kiji_*` postmeta and commentmeta
 * that `kiji export-wxr` writes for what WordPress has no element for
 * (the Markdown or HTML source, sources, eyecatch and its credit, like
 * counts, the key a second import matches on). The importer (wxr.c)
 * keeps them as it reads an item and applies them here before the save;
 * a WordPress file has none and imports as before.
 */
#include "port.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../content/content.h"

#define KIJI_META_KEY_MAX 64       /* longer keys are not ours */
#define KIJI_COMMENT_KEY_MAX 300   /* bytes of a comment's match key */

bool
port_kiji_meta_set(struct port_kiji_meta *m, const char *key,
    const char *value)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{PORT_KIJI_MARKDOWN, offsetof(struct port_kiji_meta, markdown)},
		{PORT_KIJI_HTML, offsetof(struct port_kiji_meta, html)},
		{PORT_KIJI_SOURCES, offsetof(struct port_kiji_meta, sources)},
		{PORT_KIJI_EYECATCH, offsetof(struct port_kiji_meta, eyecatch)},
		{PORT_KIJI_CREDIT, offsetof(struct port_kiji_meta, credit)},
		{PORT_KIJI_LEGACY, offsetof(struct port_kiji_meta, legacy)},
	};
	if (key == NULL || value == NULL || strncmp(key, "_kiji_", 6) != 0 ||
	    strlen(key) > KIJI_META_KEY_MAX)
		return false;
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		if (strcmp(key, keys[i].key) == 0) {
			*(const char **)((char *)m + keys[i].off) = value;
			return true;
		}
	return false;
}

bool
port_kiji_cmeta_set(struct port_kiji_cmeta *m, const char *key,
    const char *value)
{
	if (key == NULL || value == NULL)
		return false;
	if (strcmp(key, PORT_KIJI_LIKES) == 0)
		m->likes = value;
	else if (strcmp(key, PORT_KIJI_LEGACY) == 0)
		/* a key kiji wrote is short text; anything else is not
		 * taken (the comment is matched on its wp:comment_id) */
		m->legacy = strlen(value) <= KIJI_COMMENT_KEY_MAX &&
		    text_clean(value, strlen(value)) ? value : NULL;
	else if (strcmp(key, PORT_KIJI_PENDING) == 0)
		m->pending = value;
	else
		return false;
	return true;
}

/* The sources JSON as content_save takes them: an array of objects with
 * string title and url, at most CONTENT_SOURCES_MAX (the rest left out);
 * anything else in the array is skipped. */
static void
kiji_sources(const char *js, struct content_input *in, arena *a)
{
	json_error_t jerr;
	json_t *arr = json_loads(js, JSON_REJECT_DUPLICATES, &jerr);
	struct store_source *v;
	size_t n = 0;
	in->sources = NULL;
	in->nsources = 0;
	if (!json_is_array(arr)) {
		json_decref(arr);
		return;
	}
	v = arena_alloc(a, (CONTENT_SOURCES_MAX + 1) * sizeof(*v));
	for (size_t i = 0; i < json_array_size(arr) && n < CONTENT_SOURCES_MAX;
	    i++) {
		json_t *o = json_array_get(arr, i);
		const char *t = json_string_value(json_object_get(o, "title"));
		const char *u = json_string_value(json_object_get(o, "url"));
		if (!json_is_object(o) || t == NULL || u == NULL)
			continue;
		v[n].title = arena_strdup(a, t);
		v[n++].url = arena_strdup(a, u);
	}
	json_decref(arr);
	in->sources = v;
	in->nsources = n;
}

/* A menu order as content_save takes it (0 for junk). */
static int64_t
kiji_order(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	return end != s && *end == '\0' && v >= -1000000 && v <= 1000000 ?
	    (int64_t)v : 0;
}

void
port_kiji_apply(const struct port_kiji_meta *m, struct content_input *in,
    arena *a)
{
	if (m->legacy && *m->legacy)
		in->legacy_id = m->legacy;
	if (m->markdown) {
		in->body = m->markdown;
		in->body_format = FORMAT_MARKDOWN;
	} else if (m->html) {
		in->body = m->html;
		in->body_format = FORMAT_HTML;
	}
	if (m->sources)
		kiji_sources(m->sources, in, a);
	if (m->eyecatch)
		in->eyecatch = m->eyecatch;
	if (m->credit)
		in->eyecatch_credit = m->credit;
	if (m->menu_order && in->kind == KIND_PAGE)
		in->menu_order = kiji_order(m->menu_order);
}

bool
port_kiji_same(const struct port_kiji_meta *m, const struct content_input *in,
    const struct store_article *art)
{
	if (m->credit && strcmp(art->eyecatch_credit,
	    in->eyecatch_credit ? in->eyecatch_credit : "") != 0)
		return false;
	if (m->menu_order && in->kind == KIND_PAGE &&
	    in->menu_order != art->menu_order)
		return false;
	if (m->sources) {
		if (in->nsources != art->nsources)
			return false;
		for (size_t i = 0; i < in->nsources; i++)
			if (strcmp(in->sources[i].title, art->sources[i].title) ||
			    strcmp(in->sources[i].url, art->sources[i].url))
				return false;
	}
	return true;
}

int64_t
port_kiji_likes(const struct port_kiji_cmeta *m)
{
	char *end;
	long long v;
	if (m->likes == NULL || *m->likes < '0' || *m->likes > '9')
		return -1;
	v = strtoll(m->likes, &end, 10);
	return *end == '\0' && v >= 0 && v < (1LL << 50) ? (int64_t)v : -1;
}

const char *
port_kiji_pending(const struct port_kiji_cmeta *m)
{
	const char *p = m->pending;
	size_t n = p ? strlen(p) : 0;
	if (n == 0 || n > 32)
		return "";
	for (size_t i = 0; i < n; i++)
		if (p[i] < 'a' || p[i] > 'z')
			return "";
	return p;
}
