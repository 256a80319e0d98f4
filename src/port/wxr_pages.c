/*
 * Pages' parents in a WordPress import. An export lists pages in any
 * order (children often before their parents), so each page is saved at
 * the top level first and noted here with its WordPress id, its parent's
 * and the slug it wants; after the walk every noted page is moved under
 * its parent through content_save (the one save path, which refuses
 * loops and depth), only when it is elsewhere: a second run of the same
 * file moves nothing.
 */
#include "port.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../content/content.h"

#define PORT_PARENTS_MAX 1000000 /* pages noted in one import */

struct port_parent {
	int64_t article;  /* the page here */
	int64_t wp_id;    /* its WordPress id (the file's wp:post_id) */
	int64_t wp_parent;/* its parent's, 0 for none */
	char *slug;       /* the slug it asked for ("" for any) */
};

struct port_parents {
	struct port_parent *v;
	size_t n, cap;
};

/* A WordPress id: 1..18 digits; 0 for anything else ("0", "", junk). */
static int64_t
parents_id(const char *s)
{
	int64_t v = 0;
	size_t n = 0;
	for (; s && s[n] >= '0' && s[n] <= '9' && n < 18; n++)
		v = v * 10 + (s[n] - '0');
	return s && s[n] == '\0' ? v : 0;
}

void
port_parents_note(struct port_parents **pp, int64_t article,
    const char *wp_id, const char *wp_parent, const char *slug)
{
	struct port_parents *p = *pp;
	if (article <= 0)
		return;
	if (p == NULL)
		p = *pp = xcalloc(1, sizeof(*p));
	if (p->n >= PORT_PARENTS_MAX)
		return;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	p->v[p->n++] = (struct port_parent){article, parents_id(wp_id),
	    parents_id(wp_parent), xstrdup(slug ? slug : "")};
}

static int
parents_cmp(const void *x, const void *y)
{
	const struct port_parent *a = x, *b = y;
	return (a->wp_id > b->wp_id) - (a->wp_id < b->wp_id);
}

/* The article the parent WordPress id names: a page of this file, else
 * a page an earlier import brought in; 0 for none (the top level). */
static int64_t
parents_find(const struct port_parents *p, store *st, int64_t wp_parent)
{
	struct port_parent key = {.wp_id = wp_parent};
	const struct port_parent *hit;
	char legacy[24];
	int64_t id = 0;
	if (wp_parent <= 0)
		return 0;
	hit = bsearch(&key, p->v, p->n, sizeof(*p->v), parents_cmp);
	if (hit != NULL)
		return hit->article;
	snprintf(legacy, sizeof(legacy), "%lld", (long long)wp_parent);
	if (store_article_by_legacy(st, KIND_PAGE, legacy, &id) != STORE_OK)
		return 0;
	return id;
}

/* A slug kiji's router takes ([A-Za-z0-9_-] or non-ASCII UTF-8, at most
 * CONTENT_SLUG_MAX bytes): only such a one is asked for back. */
static bool
parents_slug_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > CONTENT_SLUG_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(c >= 0x80 || (c >= '0' && c <= '9') || c == '_' ||
		    c == '-' || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')))
			return false;
	}
	return text_utf8_valid(s, n);
}

/* Moves one noted page (see the top); false when content_save refused. */
static bool
parents_move(store *st, const struct port_parent *e, int64_t parent,
    int64_t now)
{
	arena *a = arena_new(0);
	struct store_article art;
	struct content_input in;
	struct content_result res;
	bool ok = true;
	if (store_article_get_any(st, e->article, a, &art) != STORE_OK ||
	    art.kind != KIND_PAGE || art.status == STATUS_TRASH)
		goto out;
	bool slug_back = parents_slug_ok(e->slug) &&
	    strcmp(art.slug, e->slug) != 0;
	if (art.parent_id == parent && !slug_back)
		goto out;
	content_input_from(&in, &art, a);
	in.parent_id = parent;
	in.updated_at = art.updated_at; /* moved, not modified */
	in.now = now;
	in.no_pings = true;
	in.updated_at = art.updated_at; /* a move, not an edit: a second
	                                 * import compares it with the file */
	/* the slug it gave up at the top level is free among its siblings */
	if (slug_back)
		in.slug = e->slug;
	enum content_err ce = content_save(st, &in, a, &res);
	/* the slug is taken there: only the slug was to change (leave it
	 * as it is), else the slug it has, else one content_save makes */
	for (int k = 0; k < 2 && ce == CONTENT_INVALID && res.field &&
	    strcmp(res.field, "slug") == 0; k++) {
		if (art.parent_id == parent)
			goto out;
		if (k == 0 && !slug_back)
			k++;
		in.slug = k == 0 ? art.slug : "";
		ce = content_save(st, &in, a, &res);
	}
	if (ce != CONTENT_OK) {
		fprintf(stderr, "kiji import-wxr: page %lld: parent %lld: %s\n",
		    (long long)e->wp_id, (long long)e->wp_parent,
		    res.message_en ? res.message_en : "cannot be saved");
		ok = false;
	}
out:
	arena_free(a);
	return ok;
}

int64_t
port_parents_apply(struct port_parents *p, store *st, int64_t now)
{
	int64_t failed = 0;
	if (p == NULL || p->n == 0)
		return 0;
	qsort(p->v, p->n, sizeof(*p->v), parents_cmp);
	for (size_t i = 0; i < p->n; i++) {
		int64_t parent = parents_find(p, st, p->v[i].wp_parent);
		if (parent == p->v[i].article)
			parent = 0;
		if (!parents_move(st, &p->v[i], parent, now))
			failed++;
	}
	return failed;
}

void
port_parents_free(struct port_parents *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].slug);
	free(p->v);
	free(p);
}
