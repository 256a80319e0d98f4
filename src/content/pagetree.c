/*
 * Where an article lives: the one maker of article URLs. A post is
 * /articles/<id>; a page is /pages/ and the slugs of its ancestors and
 * its own, each percent-encoded (WordPress's /parent/child/ under a
 * prefix of ours, so a page never shadows another route).
 */
#include "content.h"

#include <string.h>

#include "../http/http.h"

#define CONTENT_PATH_MAX 4096 /* bytes of a page path (8 slugs of 200
                               * bytes, encoded, fit) */

/* "/articles/<id>": what every article answers at, pages by a redirect. */
static const char *
content_id_path(int64_t id, arena *a)
{
	return arena_printf(a, "/articles/%lld", (long long)id);
}

/* NULL when a slug is empty (a draft's) or the chain is cut short. */
const char *
content_page_path(const struct store_page *chain, size_t n, arena *a)
{
	buf b;
	const char *r = NULL;
	if (n == 0 || chain[0].parent_id != 0)
		return NULL;
	buf_init(&b, CONTENT_PATH_MAX);
	buf_puts(&b, "/pages");
	for (size_t i = 0; i < n; i++) {
		if (chain[i].slug == NULL || *chain[i].slug == '\0')
			goto out;
		buf_putc(&b, '/');
		http_url_encode(&b, chain[i].slug, strlen(chain[i].slug));
	}
	if (!b.err)
		r = arena_strndup(a, buf_cstr(&b), b.len);
out:
	buf_free(&b);
	return r;
}

/* A page costs one read of its chain (a recursive query, at most
 * STORE_PAGE_DEPTH rows); a post costs nothing. */
const char *
content_article_path(store *st, const struct store_article *art, arena *a)
{
	struct store_page *chain = NULL;
	size_t n = 0;
	const char *p = NULL;
	if (art->kind != KIND_PAGE)
		return content_id_path(art->id, a);
	if (*art->slug && art->parent_id == 0) {
		struct store_page self = {.id = art->id, .slug = art->slug};
		p = content_page_path(&self, 1, a);
	} else if (store_page_chain(st, art->id, 0, a, &chain, &n) == STORE_OK) {
		p = content_page_path(chain, n, a);
	}
	return p ? p : content_id_path(art->id, a);
}
