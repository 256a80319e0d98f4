/*
 * Page handlers: the article page and the listings (front, category, tag).
 * Each reads the store, builds a view model (tv tree in the request arena)
 * and renders one template. No SQL here, no HTML here.
 */
#include "site_int.h"

#include "../content/content.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies one string setting/field into a dict. */
static void
put(struct req *q, tv *d, const char *key, const char *val)
{
	tv_set(d, key, tv_str(q->r->a, val ? val : ""));
}

static const char *
article_url(struct req *q, int64_t id)
{
	return arena_printf(q->r->a, "/articles/%lld", (long long)id);
}

/* Posts at /articles/<id>, pages at /pages/<path> (content/pagetree.c). */
const char *
site_article_url(struct req *q, const struct store_article *art)
{
	return content_article_path(q->s->st, art, q->r->a);
}

static const char *
category_url(struct req *q, const char *slug)
{
	buf b;
	buf_init(&b, 4096);
	buf_puts(&b, "/category/");
	http_url_encode(&b, slug, strlen(slug));
	const char *u = arena_strndup(q->r->a, buf_cstr(&b), b.len);
	buf_free(&b);
	return u;
}

const char *
site_category_path(struct req *q, const char *slug)
{
	return category_url(q, slug);
}

/* "2022年 1月 09日" and an RFC 3339 stamp for <time datetime>, as
 * <prefix>_ja and <prefix>_iso (prefix: "date" or "updated"). */
static void
put_dates(struct req *q, tv *d, const char *prefix, int64_t t)
{
	arena *a = q->r->a;
	bool upd = strcmp(prefix, "updated") == 0;
	char ja[TEXT_DATE_MAX], iso[TEXT_DATE_MAX];
	size_t nja, niso;
	text_dates_s(ja, &nja, iso, &niso, t);
	tv_set(d, upd ? "updated_ja" : "date_ja", tv_strn(a, ja, nja));
	tv_set(d, upd ? "updated_iso" : "date_iso", tv_strn(a, iso, niso));
}

/* Plain-text excerpt cut to n grapheme clusters, ending in … when cut. */
static tv *
excerpt(struct req *q, const struct store_article *art, size_t n)
{
	const char *src = art->excerpt && *art->excerpt ? art->excerpt :
	    art->body_text ? art->body_text : "";
	buf sq, out;
	buf_init(&sq, 1 << 20);
	buf_init(&out, 1 << 20);
	text_squash_space(&sq, src, strlen(src));
	text_truncate(&out, buf_cstr(&sq), sq.len, n);
	tv *v = tv_strn(q->r->a, buf_cstr(&out), out.len);
	buf_free(&sq);
	buf_free(&out);
	return v;
}

/* A title cut for narrow places (ranking). */
static char *
cut(arena *a, const char *s, size_t n)
{
	buf out;
	buf_init(&out, 1 << 16);
	text_truncate(&out, s, strlen(s), n);
	char *r = arena_strndup(a, buf_cstr(&out), out.len);
	buf_free(&out);
	return r;
}

tv *
site_card(struct req *q, const struct store_article *art)
{
	arena *a = q->r->a;
	tv *d = tv_dict(a);
	site_tag(q, TAG_CARD(art->id));
	tv_set_int(a, d, "id", art->id);
	put(q, d, "url", site_article_url(q, art));
	put(q, d, "title", art->title);
	put_dates(q, d, "date", art->published_at);
	tv_set(d, "excerpt", excerpt(q, art, (size_t)q->c->num[CONF_EXCERPT_LEN]));
	tv_set_int(a, d, "comment_count", art->comment_count);
	if (art->eyecatch && *art->eyecatch)
		put(q, d, "eyecatch", art->eyecatch);
	if (art->category_slug && *art->category_slug) {
		put(q, d, "cat_name", art->category_name);
		put(q, d, "cat_url", category_url(q, art->category_slug));
	}
	return d;
}

/* Entries /ranking shows; the side block shows the first ranking.count. */
#define RANKING_PAGE 20

/* The ranking window of the settings, in days. */
static int64_t
ranking_days(const struct site_conf *c)
{
	const char *win = c->str[CONF_RANK_WINDOW];
	return strcmp(win, "day") == 0 ? 1 : strcmp(win, "month") == 0 ? 30 : 7;
}

void
site_ranking_free(site *s)
{
	for (size_t i = 0; i < s->nranking; i++) {
		free(s->ranking[i].title);
		free(s->ranking[i].cat_name);
		free(s->ranking[i].cat_slug);
		free(s->ranking[i].cut_title);
	}
	free(s->ranking);
	s->ranking = NULL;
	s->nranking = 0;
}

/* Recomputes the popular ranking when it is older than a minute, or when
 * the view counter has written new counts since (views.c clears
 * ranking_at): the aggregate is not free, and views arrive in batches. */
static void
ranking_refresh(struct req *q)
{
	site *s = q->s;
	int64_t now = q->r->now;
	pthread_mutex_lock(&s->mu);
	bool fresh = s->ranking_at != 0 && now - s->ranking_at < 60 &&
	    now >= s->ranking_at;
	pthread_mutex_unlock(&s->mu);
	if (fresh)
		return;
	int64_t days = ranking_days(q->c);
	struct store_article *list = NULL;
	size_t n = 0;
	if (store_popular(s->st, now - days * 86400, now, RANKING_PAGE, q->r->a,
	    &list, &n) != STORE_OK)
		n = 0;
	struct site_ranked *r = xcalloc(n ? n : 1, sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		r[i].id = list[i].id;
		r[i].title = xstrdup(list[i].title);
		r[i].cat_name = xstrdup(list[i].category_name ?
		    list[i].category_name : "");
		r[i].cat_slug = xstrdup(list[i].category_slug ?
		    list[i].category_slug : "");
		r[i].views = list[i].views;
	}
	pthread_mutex_lock(&s->mu);
	site_ranking_free(s);
	s->ranking = r;
	s->nranking = n;
	s->ranking_at = now;
	pthread_mutex_unlock(&s->mu);
}

/* The first max entries of the (refreshed) ranking as a list of dicts:
 * rank, url, title (cut), full_title, views, cat_name, cat_url. */
static tv *
ranking_list(struct req *q, size_t max)
{
	arena *a = q->r->a;
	ranking_refresh(q);
	tv *rank = tv_list(a);
	size_t tlen = (size_t)q->c->num[CONF_RANK_TITLE_LEN];
	pthread_mutex_lock(&q->s->mu);
	for (size_t i = 0; i < q->s->nranking && i < max; i++) {
		struct site_ranked *r = &q->s->ranking[i];
		tv *d = tv_push(rank, tv_dict(a));
		tv_set_int(a, d, "rank", (int64_t)i + 1);
		put(q, d, "url", article_url(q, r->id));
		/* Cut once per refresh, not per page: grapheme breaking
		 * every title was a twentieth of a 100-comment render. */
		if (r->cut_title == NULL || r->cut_n != tlen) {
			free(r->cut_title);
			r->cut_title = xstrdup(cut(a, r->title, tlen));
			r->cut_n = tlen;
		}
		tv_set(d, "title", tv_str(a, r->cut_title));
		put(q, d, "full_title", r->title);
		tv_set_int(a, d, "views", r->views);
		/* Set even when empty: names resolve outwards. */
		put(q, d, "cat_name", *r->cat_slug ? r->cat_name : "");
		put(q, d, "cat_url", *r->cat_slug ? category_url(q, r->cat_slug) :
		    "");
	}
	pthread_mutex_unlock(&q->s->mu);
	return rank;
}

/* The message table as {{msg.KEY}}. */
void
site_view_msgs(struct req *q, tv *root)
{
	arena *a = q->r->a;
	tv *msg = tv_set(root, "msg", tv_dict(a));
	for (int i = 0; i < MSG__MAX; i++)
		tv_set(msg, msg_key((enum msg_id)i),
		    tv_str_nocopy(a, site_msg(q, (enum msg_id)i),
			strlen(site_msg(q, (enum msg_id)i))));
}

void
site_view_base(struct req *q, const char *title, const char *path)
{
	arena *a = q->r->a;
	const struct site_conf *c = q->c;
	q->root = tv_dict(a);
	tv *sd = tv_set(q->root, "site", tv_dict(a));
	put(q, sd, "title", c->str[CONF_TITLE]);
	put(q, sd, "tagline", c->str[CONF_TAGLINE]);
	put(q, sd, "base_url", c->str[CONF_BASE_URL]);
	put(q, sd, "static_v", atomic_load(&q->s->static_v));
	site_export_view(q, sd); /* kiji render: read-only or live copy */
	/* content.embeds: kiji.js turns p.embed links into players. Only
	 * while the setting is on and the CSP read at start allows the
	 * frames: on takes a restart, off applies at once. */
	if (q->s->csp_youtube && strcmp(c->str[CONF_EMBEDS], "youtube") == 0)
		put(q, sd, "embeds", "youtube");
	put(q, sd, "lang", q->lang == LANG_EN ? "en" : "ja");
	put(q, sd, "locale", q->lang == LANG_EN ? "en_US" : "ja_JP"); /* OGP */
	site_view_msgs(q, q->root);
	if (title && *title)
		put(q, q->root, "page_title",
		    arena_printf(a, "%s | %s", title, c->str[CONF_TITLE]));
	else
		put(q, q->root, "page_title", c->str[CONF_TITLE]);
	/* Pages with something better to say replace it. */
	put(q, q->root, "description", *c->str[CONF_TAGLINE] ?
	    c->str[CONF_TAGLINE] : c->str[CONF_TITLE]);
	if (path)
		put(q, q->root, "canonical", site_abs(q, path));

	struct store_category *cats = NULL;
	size_t ncats = 0;
	tv *nav = tv_set(q->root, "nav", tv_list(a));
	if (store_categories(q->s->st, a, &cats, &ncats) == STORE_OK)
		for (size_t i = 0; i < ncats; i++) {
			tv *d = tv_push(nav, tv_dict(a));
			put(q, d, "name", cats[i].name);
			put(q, d, "url", category_url(q, cats[i].slug));
		}

	tv_set(q->root, "ranking", ranking_list(q,
	    (size_t)c->num[CONF_RANK_COUNT]));
}

/* ---- comments ------------------------------------------------------------- */

/* id → index of the comment, for finding parents in one pass. */
struct cmap {
	int64_t *keys;
	size_t *vals;
	size_t cap;
};

static void
cmap_init(struct cmap *m, arena *a, size_t n)
{
	m->cap = 16;
	while (m->cap < n * 2)
		m->cap *= 2;
	m->keys = arena_alloc(a, m->cap * sizeof(*m->keys));
	m->vals = arena_alloc(a, m->cap * sizeof(*m->vals));
}

static void
cmap_put(struct cmap *m, int64_t k, size_t v)
{
	size_t i = (size_t)k * 0x9E3779B97F4A7C15ULL & (m->cap - 1);
	while (m->keys[i] != 0 && m->keys[i] != k)
		i = (i + 1) & (m->cap - 1);
	m->keys[i] = k;
	m->vals[i] = v;
}

static bool
cmap_get(const struct cmap *m, int64_t k, size_t *v)
{
	size_t i = (size_t)k * 0x9E3779B97F4A7C15ULL & (m->cap - 1);
	while (m->keys[i] != 0) {
		if (m->keys[i] == k) {
			*v = m->vals[i];
			return true;
		}
		i = (i + 1) & (m->cap - 1);
	}
	return false;
}

/*
 * Builds the threaded comment list. The true parent is what the store
 * holds; a reply whose parent already sits at the display depth is shown
 * beside its parent, under the deepest ancestor that still has room.
 */
static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Appends v's decimal digits at p; returns the end. */
static char *
put_i64(char *p, int64_t v)
{
	char tmp[24];
	int n = 0;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*p++ = '-';
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* "/articles/<id>?replytocom=<cid>#respond" without printf, once per
 * comment. */
static tv *
reply_url(arena *a, int64_t article_id, int64_t cid)
{
	static const char a1[] = "/articles/", a2[] = "?replytocom=",
	    a3[] = "#respond";
	char s[sizeof(a1) + sizeof(a2) + sizeof(a3) + 48], *p = s;
	memcpy(p, a1, sizeof(a1) - 1);
	p = put_i64(p + sizeof(a1) - 1, article_id);
	memcpy(p, a2, sizeof(a2) - 1);
	p = put_i64(p + sizeof(a2) - 1, cid);
	memcpy(p, a3, sizeof(a3) - 1);
	p += sizeof(a3) - 1;
	return tv_strn(a, s, (size_t)(p - s));
}

/* One comment's view model (no children yet). */
tv *
site_comment_node(struct req *q, const struct store_comment *c, int64_t article_id,
    bool liked, buf *scratch)
{
	arena *a = q->r->a;
	/* Every key below is new to d (tv_add): 14 with comment_tree's
	 * children, so the entry array never grows. */
	tv *d = tv_dict_n(a, 16);
	char ja[TEXT_DATE_MAX], iso[TEXT_DATE_MAX];
	size_t nja, niso;
	tv_add(d, "id", tv_int(a, c->id));
	tv_add(d, "author", tv_str(a, c->nickname ? c->nickname : ""));
	text_dates_s(ja, &nja, iso, &niso, c->created_at);
	tv_add(d, "date_ja", tv_strn(a, ja, nja));
	tv_add(d, "date_iso", tv_strn(a, iso, niso));
	buf_reset(scratch);
	comment_format(scratch, c->body, strlen(c->body));
	tv_add(d, "body_html", tv_html_trusted(a, buf_cstr(scratch), scratch->len));
	tv_add(d, "like_count", tv_int(a, c->like_count));
	tv_add(d, "reply_url", reply_url(a, article_id, c->id));
	tv_add(d, "pending", tv_bool(a, c->status == CSTATUS_PENDING));
	/* A spammed or trashed parent kept for its replies: no text, no
	 * name, no likes, no reply or like buttons. */
	tv_add(d, "placeholder", tv_bool(a, c->placeholder));
	tv_add(d, "liked", tv_bool(a, liked));
	if (q->c->str[CONF_DAILY_ID][0] == '1' && c->ip && *c->ip &&
	    !c->placeholder) {
		struct text_tm tm;
		text_localtime(c->created_at, &tm);
		char day[16], did[9];
		snprintf(day, sizeof(day), "%04d-%02d-%02d", tm.year % 10000,
		    tm.mon % 100, tm.mday % 100);
		guard_daily_id(q->s->key, c->ip, day, did);
		tv_add(d, "daily_id", tv_str(a, did));
	} else {
		tv_add(d, "daily_id", tv_str(a, ""));
	}
	tv_add(d, "has_children", tv_bool(a, false));
	tv_add(d, "depth", tv_int(a, 1));
	return d;
}

/*
 * Comment c's node with its box (the theme's comment_box) as HTML: kept
 * from an earlier render (frag.c), else made from its whole view model
 * (and kept when keep). Only what comment.html shows around the box is
 * set beside.
 */
static tv *
comment_boxed(struct req *q, const struct site_theme *t, const tv *msgs,
    const struct store_comment *c, int64_t article_id, bool liked,
    bool keep, buf *scratch, buf *html)
{
	arena *a = q->r->a;
	struct site_frag_key k;
	bool keyed = site_frag_key(q, t->gen, c, article_id, liked, scratch,
	    &k);
	tv *box = keyed ? site_frag_get(q->s, &k, a) : NULL, *d;
	if (box != NULL) {
		d = tv_dict_n(a, 8);
		tv_add(d, "id", tv_int(a, c->id));
		tv_add(d, "pending", tv_bool(a, c->status == CSTATUS_PENDING));
		tv_add(d, "placeholder", tv_bool(a, c->placeholder));
		tv_add(d, "has_children", tv_bool(a, false));
		tv_add(d, "depth", tv_int(a, 1));
	} else {
		d = site_comment_node(q, c, article_id, liked, scratch);
		buf_reset(html);
		if (tmpl_render_in(t->tmpl, "comment_box", msgs, d, html)) {
			box = tv_html_trusted(a, buf_cstr(html), html->len);
			if (keyed && keep)
				site_frag_put(q->s, &k, html->ptr, html->len);
		} else {
			box = tv_bool(a, false); /* the page renders it inline */
		}
	}
	/* set on every node: a missing one would find its parent's */
	tv_add(d, "box", box);
	return d;
}

static tv *
comment_tree(struct req *q, const struct store_comment *cs, size_t n,
    int64_t article_id, const int64_t *liked, size_t nliked)
{
	arena *a = q->r->a;
	int maxd = (int)q->c->num[CONF_DISPLAY_DEPTH];
	tv *top = tv_list(a);
	tv **kids = arena_alloc(a, (n ? n : 1) * sizeof(*kids));
	tv **nodes = arena_alloc(a, (n ? n : 1) * sizeof(*nodes));
	int *depth = arena_alloc(a, (n ? n : 1) * sizeof(*depth));
	size_t *dparent = arena_alloc(a, (n ? n : 1) * sizeof(*dparent));
	struct cmap m;
	cmap_init(&m, a, n);
	buf b, html;
	buf_init(&b, 1 << 20);
	buf_init(&html, 1 << 20);
	/* Boxes are kept when the theme has comment_box, outside kiji
	 * render's export (its comment_export shows the whole model). The
	 * box sees msg.* beside the comment, nothing else of the page. */
	struct site_theme *t = site_theme_get(q->s);
	tv *msg = q->root ? tv_get(q->root, "msg") : NULL, *msgs = NULL;
	bool keep = false;
	if (t->boxes && q->s->xp == NULL && msg != NULL) {
		msgs = tv_dict_n(a, 1);
		tv_add(msgs, "msg", msg);
		keep = site_frags_admit(q->s, article_id);
	}
	for (size_t i = 0; i < n; i++) {
		const struct store_comment *c = &cs[i];
		bool lk = nliked && bsearch(&c->id, liked, nliked,
		    sizeof(*liked), cmp_i64) != NULL;
		tv *d = nodes[i] = msgs ? comment_boxed(q, t, msgs, c,
		    article_id, lk, keep, &b, &html) :
		    site_comment_node(q, c, article_id, lk, &b);
		kids[i] = tv_set(d, "children", tv_list(a));

		size_t p = 0;
		bool has_parent = c->parent_id && cmap_get(&m, c->parent_id, &p);
		/* At the display depth, climb to the deepest ancestor with
		 * room (a top-level comment always has room when maxd >= 2). */
		while (has_parent && depth[p] >= maxd && dparent[p] != p)
			p = dparent[p];
		if (has_parent && depth[p] >= maxd)
			has_parent = false; /* maxd == 1: everything at the top */
		if (has_parent) {
			depth[i] = depth[p] + 1;
			dparent[i] = p;
			tv_push(kids[p], d);
		} else {
			/* Top level, or a parent that is not shown (pending,
			 * deleted): show it at the top rather than lose it. */
			depth[i] = 1;
			dparent[i] = i;
			tv_push(top, d);
		}
		tv_set_int(a, d, "depth", depth[i]);
		cmap_put(&m, c->id, i);
	}
	/* Set on every node: names resolve outwards, so a missing key would
	 * find the parent's. */
	for (size_t i = 0; i < n; i++)
		tv_set_bool(a, nodes[i], "has_children", tv_len(kids[i]) > 0);
	site_theme_put(t);
	buf_free(&b);
	buf_free(&html);
	return top;
}

/* ---- article page --------------------------------------------------------- */

/* Width and height of the eyecatch for <img>, so the page does not jump
 * as it loads: an image of ours records them; others get the 1200×630
 * an eyecatch is made at. */
static void
eyecatch_size(struct req *q, tv *d, const char *url)
{
	struct store_media md;
	int64_t w = 1200, h = 630;
	if (strncmp(url, "/media/", 7) == 0 && store_media_meta(q->s->st,
	    url + 7, q->r->a, &md) == STORE_OK && md.width > 0 && md.height > 0) {
		w = md.width;
		h = md.height;
	}
	tv_set_int(q->r->a, d, "eyecatch_width", w);
	tv_set_int(q->r->a, d, "eyecatch_height", h);
}

/* The page's frame and q->root.article: everything the template shows of
 * art itself (not its neighbours, related articles or comments). path is
 * its canonical path, NULL for none (a preview). */
void
site_view_article(struct req *q, const struct store_article *art,
    const char *path)
{
	arena *a = q->r->a;
	site_view_base(q, art->title, path);
	if (path == NULL)
		path = site_article_url(q, art);
	tv *d = tv_set(q->root, "article", tv_dict(a));
	tv_set_int(a, d, "id", art->id);
	put(q, d, "url", path);
	put(q, d, "abs_url", site_abs(q, path));
	put(q, d, "title", art->title);
	put_dates(q, d, "date", art->published_at);
	/* A post written before its scheduled time changed when it went live. */
	put_dates(q, d, "updated", art->updated_at > art->published_at ?
	    art->updated_at : art->published_at);
	put(q, d, "author", art->author_name);
	tv_set(d, "body_html", tv_html_trusted(a, art->body_html,
	    strlen(art->body_html)));
	tv_set_int(a, d, "comment_count", art->comment_count);
	tv_set_bool(a, d, "comments_open", art->comments_open);
	if (art->category_slug && *art->category_slug) {
		tv *cat = tv_set(d, "category", tv_dict(a));
		put(q, cat, "name", art->category_name);
		put(q, cat, "url", category_url(q, art->category_slug));
	}
	if (art->eyecatch && *art->eyecatch) {
		put(q, d, "eyecatch", art->eyecatch);
		eyecatch_size(q, d, art->eyecatch);
		put(q, d, "eyecatch_abs", art->eyecatch[0] == '/' ?
		    site_abs(q, art->eyecatch) : art->eyecatch);
		if (art->eyecatch_credit && *art->eyecatch_credit)
			put(q, d, "eyecatch_credit", art->eyecatch_credit);
	}
	tv *srcs = tv_set(d, "sources", tv_list(a));
	for (size_t i = 0; i < art->nsources; i++) {
		tv *s = tv_push(srcs, tv_dict(a));
		put(q, s, "title", art->sources[i].title);
		put(q, s, "url", art->sources[i].url);
		tv_set_bool(a, s, "first", i == 0);
	}
	tv_set_bool(a, d, "has_sources", art->nsources > 0);
	tv_set_bool(a, d, "has_tags", art->ntags > 0);
	tv *tags = tv_set(d, "tags", tv_list(a));
	for (size_t i = 0; i < art->ntags; i++) {
		tv *t = tv_push(tags, tv_dict(a));
		put(q, t, "name", art->tags[i].name);
		buf b;
		buf_init(&b, 4096);
		buf_puts(&b, "/tag/");
		http_url_encode(&b, art->tags[i].slug, strlen(art->tags[i].slug));
		put(q, t, "url", buf_cstr(&b));
		buf_free(&b);
	}
	tv *ex = excerpt(q, art, 120);
	tv_set(q->root, "description", ex);
	tv_set_bool(a, q->root, "is_article", true);
}

void
site_page_article(struct req *q, int64_t id)
{
	arena *a = q->r->a;
	store *st = q->s->st;
	struct store_article art;
	enum store_err e = store_article_get(st, id, q->r->now, a, &art);
	if (e != STORE_OK) {
		site_error(q, 404);
		return;
	}
	if (art.kind == KIND_PAGE) {
		/* a page lives at /pages/...: one URL per page */
		const char *to = site_article_url(q, &art);
		if (strcmp(to, q->r->path) == 0) {
			site_error(q, 404); /* its chain cannot be read */
			return;
		}
		http_resp_header(q->r, q->w, "Cache-Control", "public, max-age=300");
		http_resp_redirect(q->r, q->w, 301, *q->r->query ?
		    arena_printf(a, "%s?%s", to, q->r->query) : to);
		return;
	}
	site_view_article(q, &art, article_url(q, id));
	site_ping_discovery(q, &art); /* X-Pingback, Link, TrackBack RDF */

	struct store_article *prev = NULL, *next = NULL;
	if (store_article_adjacent(st, &art, q->r->now, a, &prev, &next) ==
	    STORE_OK) {
		if (prev) {
			tv *p = tv_set(q->root, "prev", tv_dict(a));
			put(q, p, "url", article_url(q, prev->id));
			put(q, p, "title", prev->title);
		}
		if (next) {
			tv *p = tv_set(q->root, "next", tv_dict(a));
			put(q, p, "url", article_url(q, next->id));
			put(q, p, "title", next->title);
		}
	}

	tv_set(q->root, "related", site_view_related(q, &art, true));

	bool personal = site_view_comments(q, &art);
	if (q->cp.gone) {
		site_error(q, 404); /* past the last comment page */
		return;
	}
	site_tag(q, TAG_ARTICLE(id));
	http_resp_header(q->r, q->w, "Cache-Control",
	    personal || visitor_has_pending(q, id) ? "private, no-store" :
	    "public, max-age=0, s-maxage=60, stale-while-revalidate=30");
	site_render(q, "article", 200);
}

/*
 * q->root's comments, trackbacks, comments_total and form for art (the
 * article page, a page). True when what is shown is this reader's own
 * (their pending comments, their likes): then q->nocache is set too.
 */
bool
site_view_comments(struct req *q, const struct store_article *art)
{
	arena *a = q->r->a;
	store *st = q->s->st;
	int64_t id = art->id;
	/* A reader with a signed visitor cookie sees their own pending
	 * comments and which comments they like. */
	const char *visitor = visitor_get(q, false);
	int64_t *liked = NULL;
	size_t nliked = 0;
	if (visitor && store_visitor_likes(st, id, visitor, a, &liked, &nliked) !=
	    STORE_OK)
		nliked = 0;
	struct store_comment *cs = NULL;
	size_t ncs = 0;
	if (cpage_comments(q, id, visitor, &cs, &ncs) != STORE_OK)
		ncs = 0; /* (one page's, in order, when comments are paged) */
	/* What only this reader may see (their pending comments, their likes)
	 * makes the page theirs: never cached, here or at a CDN. */
	bool personal = nliked > 0;
	for (size_t i = 0; i < ncs && !personal; i++)
		personal = cs[i].status == CSTATUS_PENDING;
	if (personal)
		q->nocache = true;
	/* Split readers' comments from trackbacks/pingbacks, keeping order. */
	struct store_comment *only = arena_alloc(a, (ncs ? ncs : 1) * sizeof(*only));
	size_t nonly = 0;
	tv *tbs = tv_set(q->root, "trackbacks", tv_list(a));
	for (size_t i = 0; i < ncs; i++) {
		if (cs[i].type == CTYPE_COMMENT) {
			only[nonly++] = cs[i];
			continue;
		}
		tv *t = tv_push(tbs, tv_dict(a));
		tv_set_int(a, t, "id", cs[i].id);
		put(q, t, "author", cs[i].nickname);
		put(q, t, "url", cs[i].url);
		put(q, t, "body", cs[i].body);
		put_dates(q, t, "date", cs[i].created_at);
	}
	/* ?csort= and ?cpage= (cpage.c): only's page comes first */
	size_t nshow = cpage_slice(q, id, only, nonly);
	tv_set(q->root, "comments", comment_tree(q, only, nshow, id, liked,
	    nliked));
	tv_set_int(a, q->root, "comments_total", art->comment_count -
	    (int64_t)tv_len(tbs));
	site_live_view(q, id);

	/* ?replytocom=<cid> (no JS): the form replies to that comment. */
	int64_t parent = 0;
	const char *rt = http_req_arg(q->r, "replytocom");
	for (size_t i = 0; rt && i < nonly; i++)
		if (strtoll(rt, NULL, 10) == only[i].id && !only[i].placeholder &&
		    only[i].status == CSTATUS_APPROVED)
			parent = only[i].id;
	struct store_comment rc; /* on another comment page */
	if (rt && parent == 0 && q->cp.cut && store_comment_get(st,
	    strtoll(rt, NULL, 10), a, &rc) == STORE_OK && rc.article_id == id &&
	    rc.type == CTYPE_COMMENT && rc.status == CSTATUS_APPROVED)
		parent = rc.id;
	site_view_form(q, id, parent, "", "");
	return personal;
}

/* The editor's preview (admin hook): the article as readers will see it,
 * with the related block but no neighbours, comments or comment form;
 * never cached (the admin's answer is no-store) and never indexed. */
void
site_page_preview(struct req *q, const struct store_article *art)
{
	arena *a = q->r->a;
	site_view_article(q, art, NULL);
	tv_set_bool(a, q->root, "preview", true);
	tv_set_bool(a, q->root, "noindex", true);
	tv_set(q->root, "related", site_view_related(q, art, false));
	tv_set(q->root, "comments", tv_list(a));
	tv_set(q->root, "trackbacks", tv_list(a));
	tv_set_int(a, q->root, "comments_total", 0);
	q->nocache = true;
	site_render(q, "article", 200);
}

void
site_view_form(struct req *q, int64_t article_id, int64_t parent,
    const char *nickname, const char *body)
{
	arena *a = q->r->a;
	tv *f = tv_set(q->root, "form", tv_dict(a));
	buf tok;
	buf_init(&tok, 256);
	guard_form_token(q->s->key, article_id, q->r->now, &tok);
	put(q, f, "token", buf_cstr(&tok));
	buf_free(&tok);
	tv_set_int(a, f, "parent", parent);
	put(q, f, "nickname", nickname);
	put(q, f, "body", body);
	tv_set_int(a, f, "max_nickname", q->c->num[CONF_MAX_NICKNAME]);
	put(q, f, "default_name", q->c->str[CONF_DEFAULT_NAME]);
	tv_set_bool(a, f, "mail", site_mail_on(q->c)); /* e-mail, notify */
	struct store_comment pc;
	if (parent && store_comment_get(q->s->st, parent, a, &pc) == STORE_OK)
		put(q, f, "reply_to", pc.nickname);
}

/* ---- listings ------------------------------------------------------------- */

/* "<base>" for page 1, "<base>?page=N" after it. */
static const char *
listing_url(struct req *q, int64_t page, const void *base)
{
	return page == 1 ? base :
	    arena_printf(q->r->a, "%s?page=%lld", (const char *)base,
		(long long)page);
}

/*
 * Previous/next and numbered page links (first, last, and two around the
 * current one, gaps marked) as q->root.pagination; nothing when there is
 * one page. url(q, n, ctx) gives page n's address.
 */
void
site_view_pagination(struct req *q, int64_t page, int64_t pages,
    const char *(*url)(struct req *, int64_t, const void *), const void *ctx)
{
	arena *a = q->r->a;
	if (pages <= 1)
		return;
	tv *pg = tv_set(q->root, "pagination", tv_dict(a));
	if (page > 1)
		put(q, pg, "prev_url", url(q, page - 1, ctx));
	if (page < pages)
		put(q, pg, "next_url", url(q, page + 1, ctx));
	tv *nums = tv_set(pg, "pages", tv_list(a));
	int64_t last_shown = 0;
	for (int64_t i = 1; i <= pages; i++) {
		if (i != 1 && i != pages && (i < page - 2 || i > page + 2))
			continue;
		if (last_shown && i > last_shown + 1)
			tv_set_bool(a, tv_push(nums, tv_dict(a)), "gap", true);
		tv *d = tv_push(nums, tv_dict(a));
		tv_set_int(a, d, "n", i);
		put(q, d, "url", url(q, i, ctx));
		tv_set_bool(a, d, "current", i == page);
		last_shown = i;
	}
}

/* How "<yyyy>/<mm>" of a monthly archive URL reads. */
enum month_arg {
	MONTH_OK,    /* 2026/01 */
	MONTH_SHORT, /* 2026/1: valid, redirected to the two-digit form */
	MONTH_BAD,   /* anything else: 404 */
};

static enum month_arg
month_arg(const char *s, int *y, int *mon)
{
	int v = 0, digits = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9' && digits < 5; p++, digits++)
		v = v * 10 + (*p - '0');
	if (digits != 4 || *p != '/' || v < 1970 || v > 9999)
		return MONTH_BAD;
	*y = v;
	v = digits = 0;
	for (p++; *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
		v = v * 10 + (*p - '0');
	if (*p != '\0' || digits < 1 || digits > 2 || v < 1 || v > 12)
		return MONTH_BAD;
	*mon = v;
	return digits == 2 ? MONTH_OK : MONTH_SHORT;
}

/* Epoch of 00:00 on the first of the month in the site time zone. */
static int64_t
month_start(int y, int mon)
{
	/* days from 1970-01-01 to y-mon-01 (proleptic Gregorian) */
	int64_t yy = y - (mon <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t wall = (era * 146097 + doe - 719468) * 86400;
	/* the zone's offset at that wall time, found in two steps (DST) */
	struct text_tm tm;
	text_localtime(wall, &tm);
	int64_t t = wall - tm.gmtoff;
	text_localtime(t, &tm);
	return wall - tm.gmtoff;
}

static const char *const month_names[12] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December",
};

void
site_page_listing(struct req *q, enum list_kind kind, const char *slug)
{
	arena *a = q->r->a;
	store *st = q->s->st;
	struct store_filter f = {0};
	const char *heading = site_msg(q, MSG_LATEST);
	const char *base = "/";
	const char *desc = NULL; /* meta description, when not the default */
	const char *feed = NULL; /* the listing's own feed, when it has one */
	if (kind == LIST_CATEGORY) {
		struct store_category cat;
		if (store_category_by_slug(st, slug, a, &cat) != STORE_OK) {
			site_error(q, 404);
			return;
		}
		f.category_id = cat.id;
		heading = cat.name;
		base = category_url(q, cat.slug);
		desc = cat.description;
		feed = arena_printf(a, "%s/feed", base);
	} else if (kind == LIST_TAG) {
		struct store_tag tag;
		if (store_tag_by_slug(st, slug, a, &tag) != STORE_OK) {
			site_error(q, 404);
			return;
		}
		f.tag_id = tag.id;
		heading = tag.name;
		buf b;
		buf_init(&b, 4096);
		buf_puts(&b, "/tag/");
		http_url_encode(&b, tag.slug, strlen(tag.slug));
		base = arena_strdup(a, buf_cstr(&b));
		buf_free(&b);
	} else if (kind == LIST_MONTH) {
		int y = 0, mon = 0;
		enum month_arg ma = month_arg(slug, &y, &mon);
		if (ma == MONTH_BAD) {
			site_error(q, 404);
			return;
		}
		base = arena_printf(a, "/archive/%04d/%02d", y, mon);
		if (ma == MONTH_SHORT) { /* /archive/2026/1: one spelling only */
			http_resp_redirect(q->r, q->w, 301, *q->r->query ?
			    arena_printf(a, "%s?%s", base, q->r->query) : base);
			return;
		}
		f.from = month_start(y, mon);
		f.until = mon == 12 ? month_start(y + 1, 1) : month_start(y, mon + 1);
		heading = q->lang == LANG_EN ? arena_printf(a, "%s %d",
		    month_names[(unsigned)(mon + 11) % 12u], y) :
		    arena_printf(a, "%d年 %d月", y, mon);
	}
	int64_t page = site_page_arg(q, "page");
	if (page < 1) {
		site_error(q, 404);
		return;
	}
	int64_t per = q->c->num[CONF_PER_PAGE];
	struct store_article *list = NULL;
	size_t n = 0;
	int64_t total = 0;
	/* the total kept by an earlier render (counts.c), else read with
	 * the page and kept */
	bool kept = site_count_get(q, &f, &total);
	if (store_articles_list(st, &f, q->r->now, (page - 1) * per, per, a, &list,
	    &n, kept ? NULL : &total) != STORE_OK) {
		site_error(q, 500);
		return;
	}
	if (!kept)
		site_count_put(q, &f, total);
	int64_t pages = total ? (total + per - 1) / per : 1;
	/* An empty month is not a page: crawlers would find every month
	 * since 1970 otherwise. */
	if (page > pages || (kind == LIST_MONTH && total == 0)) {
		site_error(q, 404);
		return;
	}
	const char *path = page == 1 ? base :
	    arena_printf(a, "%s?page=%lld", base, (long long)page);
	const char *title = kind == LIST_FRONT && page == 1 ? NULL :
	    page == 1 ? heading :
	    arena_printf(a, "%s (%lld)", heading, (long long)page);
	site_view_base(q, title, path);
	if (kind != LIST_FRONT || page > 1) {
		/* "<heading>の記事一覧 (2) | <tagline>": distinct per page */
		const char *d = desc && *desc ? desc : kind == LIST_FRONT ? heading :
		    arena_printf(a, "%s%s", heading, site_msg(q, MSG_ARTICLES_OF));
		if (page > 1)
			d = arena_printf(a, "%s (%lld)", d, (long long)page);
		if (*q->c->str[CONF_TAGLINE])
			d = arena_printf(a, "%s | %s", d, q->c->str[CONF_TAGLINE]);
		put(q, q->root, "description", d);
	}
	if (feed)
		put(q, q->root, "feed_url", feed);
	put(q, q->root, "heading", heading);
	tv_set_bool(a, q->root, "is_front", kind == LIST_FRONT);
	tv *cards = tv_set(q->root, "cards", tv_list(a));
	for (size_t i = 0; i < n; i++) {
		tv_push(cards, site_card(q, &list[i]));
		site_tag(q, TAG_LISTED(list[i].id));
	}

	site_view_recent(q); /* 最近のコメント (recent.c) */
	site_view_pagination(q, page, pages, listing_url, base);
	http_resp_header(q->r, q->w, "Cache-Control", "public, max-age=0, s-maxage=60, stale-while-revalidate=30");
	site_render(q, "listing", 200);
}

/* ---- /ranking ------------------------------------------------------------- */

/* The popular ranking at length, with view counts over the window. */
void
site_page_ranking(struct req *q)
{
	arena *a = q->r->a;
	int64_t days = ranking_days(q->c); /* one page (?page= is a 404) */
	enum msg_id what = days == 1 ? MSG_RANKING_DAY : days == 30 ?
	    MSG_RANKING_MONTH : MSG_RANKING_WEEK;
	site_view_base(q, site_msg(q, MSG_RANKING), "/ranking");
	put(q, q->root, "heading", site_msg(q, MSG_RANKING));
	put(q, q->root, "window", site_msg(q, what));
	put(q, q->root, "description", *q->c->str[CONF_TAGLINE] ?
	    arena_printf(a, "%s | %s", site_msg(q, what), q->c->str[CONF_TAGLINE]) :
	    site_msg(q, what));
	tv_set(q->root, "entries", ranking_list(q, RANKING_PAGE));
	http_resp_header(q->r, q->w, "Cache-Control", "public, max-age=0, s-maxage=60");
	site_render(q, "ranking", 200);
}
