/*
 * GET /search?q=...&page=N&sort=relevance: Japanese full-text search
 * (store_search_sorted) in the site's layout, newest first unless
 * ?sort=relevance asks for the best matches first (?sort=newest is the
 * default spelled out; any other value is a 400, not a silent default,
 * so a mistyped link says so). The page cache never holds a search, so the
 * argument adds no cache keys. Newest first stops counting past
 * STORE_SEARCH_COUNT_MAX matches: the page says "more than" that many and
 * its pages end there, and best first shows the same (its exact count
 * would only make the number change with the order). The query is cleaned (controls out, white space
 * squashed) and cut to SEARCH_MAX_CHARS characters; a query with nothing
 * to search for (empty, punctuation, emoji) gets a page asking for a term.
 * Matches come back from the store as byte spans; they become a list of
 * text parts the template wraps in <mark>, so every byte still goes through
 * the escaping writer. Invalid UTF-8 never gets here (http answers 400).
 */
#include "site_int.h"

#include <string.h>

#define SEARCH_MAX_CHARS 100 /* grapheme clusters of the query searched
                              * (MSG_SEARCH_TRIMMED says 100) */
#define SEARCH_MAX_PAGE 999999

/* ?sort=: SEARCH_NEWEST when absent, SEARCH__MAX when not a known order. */
static enum store_search_sort
search_sort_arg(struct req *q)
{
	const char *p = http_req_arg(q->r, "sort");
	if (p == NULL || strcmp(p, "newest") == 0)
		return SEARCH_NEWEST;
	if (strcmp(p, "relevance") == 0)
		return SEARCH_RELEVANCE;
	return SEARCH__MAX;
}

/*
 * The query as searched and shown: C0 controls and DEL become spaces,
 * white space runs squash to one, the ends are trimmed, and the text is
 * cut to SEARCH_MAX_CHARS clusters (*trimmed says so).
 */
static const char *
search_clean(struct req *q, const char *raw, bool *trimmed)
{
	size_t n = strlen(raw);
	buf c, sq, cut;
	buf_init(&c, 0);
	buf_init(&sq, 0);
	buf_init(&cut, 0);
	buf_put(&c, raw, n);
	for (size_t i = 0; i < c.len; i++)
		if ((unsigned char)c.ptr[i] < 0x20 || c.ptr[i] == 0x7F)
			c.ptr[i] = ' ';
	text_squash_space(&sq, c.len ? c.ptr : "", c.len);
	*trimmed = text_truncate(&cut, sq.len ? sq.ptr : "", sq.len,
	    SEARCH_MAX_CHARS);
	if (*trimmed)
		cut.len -= strlen("…"); /* the query, not a display */
	const char *s = arena_strndup(q->r->a, cut.len ? cut.ptr : "", cut.len);
	buf_free(&c);
	buf_free(&sq);
	buf_free(&cut);
	return s;
}

/* s split at the spans into [{text, mark}] for the template's <mark>. */
static tv *
search_parts(struct req *q, const char *s, const struct store_span *sp,
    size_t nsp)
{
	arena *a = q->r->a;
	tv *list = tv_list(a);
	size_t at = 0, n = strlen(s);
	for (size_t i = 0; i <= nsp; i++) {
		size_t b = i < nsp ? sp[i].off : n;
		size_t e = i < nsp ? sp[i].off + sp[i].len : n;
		if (b > n || e > n || b < at)
			break; /* spans are checked by the store; never trust */
		if (b > at) {
			tv *d = tv_push(list, tv_dict(a));
			tv_set(d, "text", tv_strn(a, s + at, b - at));
			tv_set_bool(a, d, "mark", false);
		}
		if (e > b) {
			tv *d = tv_push(list, tv_dict(a));
			tv_set(d, "text", tv_strn(a, s + b, e - b));
			tv_set_bool(a, d, "mark", true);
		}
		at = e;
	}
	return list;
}

/* "2022年 1月 09日" and RFC 3339, as the other cards show dates. */
static void
search_dates(struct req *q, tv *d, int64_t t)
{
	arena *a = q->r->a;
	buf b;
	buf_init(&b, 256);
	text_ja_date(&b, t);
	tv_set(d, "date_ja", tv_strn(a, buf_cstr(&b), b.len));
	buf_reset(&b);
	text_rfc3339(&b, t);
	tv_set(d, "date_iso", tv_strn(a, buf_cstr(&b), b.len));
	buf_free(&b);
}

/* One result card: the listing card's fields, with the title and the
 * snippet as marked parts. */
static tv *
search_card(struct req *q, const struct store_hit *h)
{
	arena *a = q->r->a;
	const struct store_article *art = &h->article;
	tv *d = tv_dict(a);
	tv_set_int(a, d, "id", art->id);
	tv_set(d, "url", tv_str(a, site_article_url(q, art)));
	tv_set(d, "title", tv_str(a, art->title));
	tv_set(d, "title_parts", search_parts(q, art->title, h->title_marks,
	    h->ntitle_marks));
	tv_set(d, "snippet", search_parts(q, h->snippet, h->marks, h->nmarks));
	search_dates(q, d, art->published_at);
	tv_set_int(a, d, "comment_count", art->comment_count);
	if (art->eyecatch && *art->eyecatch)
		tv_set(d, "eyecatch", tv_str(a, art->eyecatch));
	if (art->category_slug && *art->category_slug)
		tv_set(d, "cat_name", tv_str(a, art->category_name));
	return d;
}

/* What a search page's links keep: the query and the order. */
struct search_args {
	const char *query;
	enum store_search_sort sort;
};

/* "/search?q=<encoded>", "&sort=relevance" when asked, and, past page 1,
 * "&page=N". */
static const char *
search_url(struct req *q, const struct search_args *sa, int64_t page)
{
	buf b;
	buf_init(&b, 4096);
	buf_puts(&b, "/search?q=");
	http_url_encode(&b, sa->query, strlen(sa->query));
	if (sa->sort == SEARCH_RELEVANCE)
		buf_puts(&b, "&sort=relevance");
	if (page > 1)
		buf_printf(&b, "&page=%lld", (long long)page);
	const char *u = arena_strndup(q->r->a, buf_cstr(&b), b.len);
	buf_free(&b);
	return u;
}

/* site_view_pagination's address of page n of this query. */
static const char *
search_page_url(struct req *q, int64_t page, const void *sa)
{
	return search_url(q, sa, page);
}

void
site_page_search(struct req *q)
{
	arena *a = q->r->a;
	const char *raw = http_req_arg(q->r, "q");
	bool trimmed = false;
	struct text_query tq;

	if (raw == NULL)
		raw = "";
	/* http refuses invalid UTF-8 in arguments; this is the backstop */
	if (!text_utf8_valid(raw, strlen(raw))) {
		site_error(q, 400);
		return;
	}
	int64_t page = site_page_arg(q, "page");
	if (page < 1 || page > SEARCH_MAX_PAGE) {
		site_error(q, 404);
		return;
	}
	enum store_search_sort sort = search_sort_arg(q);
	if (sort == SEARCH__MAX) {
		site_error(q, 400);
		return;
	}
	const char *query = search_clean(q, raw, &trimmed);
	if (!text_query_parse(a, query, strlen(query), &tq)) {
		site_error(q, 400);
		return;
	}

	int64_t per = q->c->num[CONF_PER_PAGE];
	struct store_hit *hits = NULL;
	size_t n = 0;
	int64_t total = 0;
	if (tq.nph > 0) {
		enum store_err e = store_search_sorted(q->s->st, query, sort,
		    q->r->now, (page - 1) * per, per, a, &hits, &n, &total);
		if (e == STORE_INVALID) {
			site_error(q, 400);
			return;
		}
		if (e != STORE_OK) {
			site_error(q, 503);
			return;
		}
	}
	/* newest first stops counting at STORE_SEARCH_COUNT_MAX: "more than
	 * that many", and the pages end there (best first too: one count
	 * whatever the order) */
	bool more = total > STORE_SEARCH_COUNT_MAX;
	if (more)
		total = STORE_SEARCH_COUNT_MAX;
	int64_t pages = total ? (total + per - 1) / per : 1;
	if (page > pages) {
		site_error(q, 404);
		return;
	}

	const char *heading = tq.nph == 0 ? site_msg(q, MSG_SEARCH) :
	    arena_printf(a, "%s: %s", site_msg(q, MSG_SEARCH_RESULTS), query);
	const char *title = page == 1 ? heading :
	    arena_printf(a, "%s (%lld)", heading, (long long)page);
	site_view_base(q, title, NULL);
	tv_set_bool(a, q->root, "noindex", true);
	tv *sd = tv_set(q->root, "search", tv_dict(a));
	tv_set(sd, "q", tv_str(a, query));
	tv_set(sd, "heading", tv_str(a, heading));
	if (trimmed)
		tv_set(sd, "notice", tv_str(a, site_msg(q, MSG_SEARCH_TRIMMED)));
	tv_set_bool(a, sd, "prompt", tq.nph == 0);
	tv_set_bool(a, sd, "none", tq.nph > 0 && total == 0);
	tv_set_bool(a, sd, "has_results", total > 0);
	tv_set_int(a, sd, "total", total);
	tv_set_bool(a, sd, "more", more);
	/* the other order's first page (the current one is not a link) */
	struct search_args sa = {query, sort}, other = {query,
	    sort == SEARCH_NEWEST ? SEARCH_RELEVANCE : SEARCH_NEWEST};
	tv_set_bool(a, sd, "relevance", sort == SEARCH_RELEVANCE);
	tv_set(sd, "other_url", tv_str(a, search_url(q, &other, 1)));
	tv *cards = tv_set(q->root, "cards", tv_list(a));
	for (size_t i = 0; i < n; i++)
		tv_push(cards, search_card(q, &hits[i]));
	site_view_pagination(q, page, pages, search_page_url, &sa);

	/* results move with every article change; a CDN may hold them for a
	 * minute, the way it holds listings */
	http_resp_header(q->r, q->w, "Cache-Control",
	    "public, max-age=0, s-maxage=60");
	site_render(q, "search", 200);
}
