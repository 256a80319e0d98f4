/*
 * What crawlers and feed readers fetch: RSS 2.0 and Atom feeds of the site
 * and of each category, and the sitemap (sitemaps.org 0.9, an index of
 * several files past sitemap.urls_per_file URLs). Every URL is absolute,
 * made from site.base_url; bodies go out through the .xml templates, which
 * escape every value for XML. Answers carry a strong ETag (a hash of the
 * body) and honour If-None-Match.
 */
#include "site_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Plain-text summaries in feeds, grapheme clusters. */
#define FEED_EXCERPT 200

void
site_etag_reply(struct req *q)
{
	struct http_resp *w = q->w;
	if (w->status != 200 || w->body.err || q->cached)
		return; /* the page cache sets the ETag and answers 304s */
	char etag[24];
	snprintf(etag, sizeof(etag), "\"%016llx\"",
	    (unsigned long long)cache_hash(w->body.ptr, w->body.len));
	if (site_etag(q, etag))
		q->nocache = true;
}

/* The root of a feed or sitemap view: the site part of site_view_base,
 * without the navigation and ranking a page needs. */
static void
feed_root(struct req *q)
{
	arena *a = q->r->a;
	q->root = tv_dict(a);
	tv *sd = tv_set(q->root, "site", tv_dict(a));
	tv_set_str(a, sd, "title", q->c->str[CONF_TITLE]);
	tv_set_str(a, sd, "lang", q->lang == LANG_EN ? "en" : "ja");
	tv_set_str(a, sd, "base_url", q->c->str[CONF_BASE_URL]);
}

/* max(updated_at, published_at): when a post last changed for readers. */
static int64_t
feed_changed(const struct store_article *art)
{
	return art->updated_at > art->published_at ? art->updated_at :
	    art->published_at;
}

/* t as RFC 822 (RSS) or RFC 3339 (Atom, sitemaps), arena-allocated. */
const char *
site_feed_date(struct req *q, int64_t t, bool rfc3339)
{
	buf b;
	buf_init(&b, 128);
	if (rfc3339)
		text_rfc3339(&b, t);
	else
		text_http_date(&b, t);
	const char *s = arena_strndup(q->r->a, buf_cstr(&b), b.len);
	buf_free(&b);
	return s;
}

/* The stored excerpt, or the start of the plain text, cut to n clusters. */
static const char *
feed_excerpt(struct req *q, const struct store_article *art, size_t n)
{
	const char *src = art->excerpt && *art->excerpt ? art->excerpt :
	    art->body_text ? art->body_text : "";
	buf sq, out;
	buf_init(&sq, 1 << 22);
	buf_init(&out, 1 << 22);
	text_squash_space(&sq, src, strlen(src));
	text_truncate(&out, buf_cstr(&sq), sq.len, n);
	const char *s = arena_strndup(q->r->a, buf_cstr(&out), out.len);
	buf_free(&sq);
	buf_free(&out);
	return s;
}

/*
 * The body for a feed reader, who has no page to resolve our root-relative
 * links against: href="/..." and src="/..." become absolute. The HTML is
 * our renderer's (attribute values double-quoted, '"' escaped in text), so
 * ="/ only occurs where an attribute value starts.
 */
static const char *
feed_content(struct req *q, const char *html)
{
	const char *base = q->c->str[CONF_BASE_URL];
	buf b;
	buf_init(&b, 0);
	const char *p = html;
	for (;;) {
		const char *h = strstr(p, "=\"/");
		if (h == NULL) {
			buf_puts(&b, p);
			break;
		}
		bool attr = (h - html >= 4 && memcmp(h - 4, "href", 4) == 0) ||
		    (h - html >= 3 && memcmp(h - 3, "src", 3) == 0);
		buf_put(&b, p, (size_t)(h + 2 - p));
		if (attr && h[3] != '/')
			buf_puts(&b, base);
		p = h + 2;
	}
	const char *s = b.err ? html : arena_strndup(q->r->a, buf_cstr(&b), b.len);
	buf_free(&b);
	return s;
}

/* True when s starts with a URI scheme and ':' ("urn:uuid:...", "http:"). */
static bool
feed_is_uri(const char *s)
{
	if (!((*s | 32) >= 'a' && (*s | 32) <= 'z'))
		return false;
	for (s++; *s && *s != ':'; s++)
		if (!(((*s | 32) >= 'a' && (*s | 32) <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '+' || *s == '-' ||
		    *s == '.'))
			return false;
	return *s == ':' && s[1] != '\0';
}

void
site_feed(struct req *q, const char *cat_slug, bool atom)
{
	arena *a = q->r->a;
	const struct site_conf *c = q->c;
	struct store_category cat = {0};
	if (cat_slug && store_category_by_slug(q->s->st, cat_slug, a, &cat) !=
	    STORE_OK) {
		site_error(q, 404);
		return;
	}
	struct store_article *list = NULL;
	size_t n = 0;
	if (store_articles_feed(q->s->st, cat.id, q->r->now,
	    c->num[CONF_FEED_ITEMS], a, &list, &n) != STORE_OK) {
		site_error(q, 503);
		return;
	}
	bool full = c->str[CONF_FEED_FULL][0] == '1';
	const char *page = cat_slug ? site_category_path(q, cat.slug) : "/";
	const char *self = arena_printf(a, "%s%s", cat_slug ? page : "",
	    atom ? "/feed/atom" : "/feed");

	feed_root(q);
	tv *f = tv_set(q->root, "feed", tv_dict(a));
	const char *desc = *c->str[CONF_TAGLINE] ? c->str[CONF_TAGLINE] :
	    c->str[CONF_TITLE];
	if (cat_slug) {
		tv_set_str(a, f, "title", arena_printf(a, "%s | %s", cat.name,
		    c->str[CONF_TITLE]));
		desc = cat.description && *cat.description ? cat.description :
		    arena_printf(a, "%s%s", cat.name, site_msg(q, MSG_ARTICLES_OF));
	} else {
		tv_set_str(a, f, "title", c->str[CONF_TITLE]);
	}
	tv_set_str(a, f, "description", desc);
	tv_set_str(a, f, "link", site_abs(q, page));
	tv_set_str(a, f, "self", site_abs(q, self));

	int64_t newest = 0;
	tv *items = tv_set(q->root, "items", tv_list(a));
	for (size_t i = 0; i < n; i++) {
		const struct store_article *art = &list[i];
		const char *link = site_abs(q, site_article_url(q, art));
		int64_t changed = feed_changed(art);
		if (changed > newest)
			newest = changed;
		tv *it = tv_push(items, tv_dict(a));
		tv_set_str(a, it, "title", art->title);
		tv_set_str(a, it, "link", link);
		/* The guid outlives URL changes (imports keep WordPress's). */
		tv_set_str(a, it, "guid", *art->guid ? art->guid : link);
		/* Atom ids are IRIs; a guid that is not one (old imports) gives
		 * way to the permalink. */
		tv_set_str(a, it, "atom_id", feed_is_uri(art->guid) ? art->guid :
		    link);
		tv_set_str(a, it, "author", *art->author_name ? art->author_name :
		    c->str[CONF_TITLE]);
		tv_set_str(a, it, "category", art->category_name);
		tv_set_str(a, it, "category_term", art->category_slug);
		tv_set_str(a, it, "published", site_feed_date(q, art->published_at,
		    atom));
		tv_set_str(a, it, "updated", site_feed_date(q, changed, atom));
		tv_set_str(a, it, "excerpt", feed_excerpt(q, art, FEED_EXCERPT));
		/* Trusted HTML, but in XML it is text: the template escapes it. */
		tv_set_str(a, it, "content_html", full ?
		    feed_content(q, art->body_html) : "");
		site_tag(q, TAG_LISTED(art->id));
	}
	/* An empty feed still needs a stable <updated>: the epoch. */
	tv_set_str(a, f, "updated", site_feed_date(q, newest, atom));
	tv_set_bool(a, f, "has_items", n > 0);

	http_resp_header(q->r, q->w, "Cache-Control",
	    "public, max-age=0, s-maxage=60");
	site_render_as(q, atom ? "feed_atom" : "feed_rss", 200, atom ?
	    "application/atom+xml; charset=utf-8" :
	    "application/rss+xml; charset=utf-8");
	site_etag_reply(q);
}

/* ---- sitemap --------------------------------------------------------------- */

/* Adds one <url> (path made absolute) to list. */
static void
sitemap_url(struct req *q, tv *list, const char *path, int64_t t)
{
	arena *a = q->r->a;
	tv *u = tv_push(list, tv_dict(a));
	tv_set_str(a, u, "loc", site_abs(q, path));
	tv_set_str(a, u, "lastmod", t > 0 ? site_feed_date(q, t, true) : "");
}

/*
 * The URLs, in order: the front page, each category with visible posts,
 * every visible page (by id), then every visible post newest first. File
 * k (1-based) of an index holds positions [(k-1)*per, k*per) of that
 * sequence.
 */
void
site_sitemap(struct req *q, int64_t file)
{
	arena *a = q->r->a;
	store *st = q->s->st;
	int64_t now = q->r->now;
	int64_t per = q->c->num[CONF_SITEMAP_URLS];
	int64_t nart = 0, npages = 0;
	struct store_stamp *cats = NULL, *front = NULL;
	size_t ncats = 0, nfront = 0;
	if (store_articles_count(st, now, &nart) != STORE_OK ||
	    store_pages_count(st, now, &npages) != STORE_OK ||
	    store_category_stamps(st, now, a, &cats, &ncats) != STORE_OK ||
	    store_article_stamps(st, now, 0, q->c->num[CONF_PER_PAGE], a, &front,
	    &nfront) != STORE_OK) {
		site_error(q, 503);
		return;
	}
	site_tag(q, TAG_SITEMAP); /* every article's date shows here */
	int64_t ncat = 1 + (int64_t)ncats;  /* front + categories */
	int64_t head = ncat + npages;       /* ... + pages */
	int64_t total = head + nart;
	int64_t nfiles = (total + per - 1) / per;
	/* /sitemap-1.xml exists only when /sitemap.xml is an index. */
	if (file > 0 && (nfiles < 2 || file > nfiles)) {
		site_error(q, 404);
		return;
	}
	int64_t cats_t = 0, front_t = 0;
	for (size_t i = 0; i < ncats; i++)
		if (cats[i].t > cats_t)
			cats_t = cats[i].t;
	for (size_t i = 0; i < nfront; i++)
		if (front[i].t > front_t)
			front_t = front[i].t;
	feed_root(q);
	const char *tmpl = "sitemap";

	if (file == 0 && nfiles > 1) {
		struct store_stamp *chunks = NULL;
		size_t nchunks = 0;
		if (store_article_chunks(st, now, head, per, a, &chunks, &nchunks) !=
		    STORE_OK) {
			site_error(q, 503);
			return;
		}
		int64_t *last = arena_alloc(a, (size_t)nfiles * sizeof(*last));
		for (size_t i = 0; i < nchunks; i++)
			if (chunks[i].id >= 0 && chunks[i].id < nfiles)
				last[chunks[i].id] = chunks[i].t;
		if (cats_t > last[0])
			last[0] = cats_t;
		tv *maps = tv_set(q->root, "sitemaps", tv_list(a));
		for (int64_t k = 0; k < nfiles; k++)
			sitemap_url(q, maps, arena_printf(a, "/sitemap-%lld.xml",
			    (long long)k + 1), last[k]);
		tmpl = "sitemap_index";
	} else {
		int64_t start = file > 0 ? (file - 1) * per : 0;
		int64_t end = start + per < total ? start + per : total;
		tv *urls = tv_set(q->root, "urls", tv_list(a));
		int64_t pos = start;
		if (pos == 0) {
			sitemap_url(q, urls, "/", front_t);
			pos++;
		}
		struct store_category *all = NULL;
		size_t nall = 0;
		if (pos < head && pos < end &&
		    store_categories(st, a, &all, &nall) != STORE_OK) {
			site_error(q, 503);
			return;
		}
		for (; pos < ncat && pos < end; pos++) {
			const struct store_stamp *cs = &cats[pos - 1];
			for (size_t i = 0; i < nall; i++)
				if (all[i].id == cs->id)
					sitemap_url(q, urls,
					    site_category_path(q, all[i].slug), cs->t);
		}
		struct store_stamp *pgs = NULL;
		size_t npgs = 0;
		if (pos < head && pos < end && store_page_stamps(st, now,
		    pos - ncat, (end < head ? end : head) - pos, a, &pgs, &npgs) !=
		    STORE_OK) {
			site_error(q, 503);
			return;
		}
		for (size_t i = 0; i < npgs; i++, pos++) {
			struct store_article pg = {.id = pgs[i].id, .kind = KIND_PAGE,
			    .slug = ""};
			sitemap_url(q, urls, site_article_url(q, &pg), pgs[i].t);
		}
		pos = pos < head ? head : pos;
		struct store_stamp *arts = NULL;
		size_t narts = 0;
		if (end > pos && store_article_stamps(st, now, pos - head, end - pos,
		    a, &arts, &narts) != STORE_OK) {
			site_error(q, 503);
			return;
		}
		for (size_t i = 0; i < narts; i++) {
			struct store_article post = {.id = arts[i].id,
			    .kind = KIND_POST};
			sitemap_url(q, urls, site_article_url(q, &post), arts[i].t);
		}
	}
	http_resp_header(q->r, q->w, "Cache-Control",
	    "public, max-age=0, s-maxage=300");
	site_render_as(q, tmpl, 200, "application/xml; charset=utf-8");
	site_etag_reply(q);
}
