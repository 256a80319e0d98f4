/*
 * The site's recent comments: the 最近のコメント block on the front page
 * and the listings, the /comments pages, the RSS feed of them
 * (/comments/feed), and the Atom feed of one article's comments
 * (/articles/<id>/feed/atom).
 *
 * Invalidation: a comment drops its own article's page and the listings
 * showing its count at once (site_sync), but the block is on every
 * listing, and a comment on one article must not throw them all away.
 * So pages showing recent comments carry TAG_RECENT, site_sync only
 * notes the comment change (site_recent_note), and the first request
 * once comments.recent_refresh seconds have passed since the first
 * change noted marks them stale (site_recent_tick): they show a new
 * comment at most that late, and are re-rendered at most that often for
 * comments. Article pages never show the block, so they never carry the
 * tag. Each node keeps its own timer from the change log it reads.
 */
#include "site_int.h"

#include <stdio.h>
#include <string.h>

/* Clusters of a comment's text in the block and on /comments. */
#define RECENT_SNIPPET 40
#define RECENT_PAGE_SNIPPET 200
/* Clusters of an article title in the block (a narrow side column). */
#define RECENT_TITLE 40
/* /comments goes this many pages back (the count is bounded by it). */
#define RECENT_PAGES_MAX 50
/* Entries of a comment feed (as the RSS one of comments.c). */
#define COMMENT_FEED_ITEMS 50

/* ---- invalidation -------------------------------------------------------------- */

void
site_recent_note(site *s, int64_t seq)
{
	if (seq > s->recent_seq)
		s->recent_seq = seq;
	if (atomic_load(&s->recent_since) == 0)
		atomic_store(&s->recent_since, text_now());
}

void
site_recent_tick(struct req *q)
{
	site *s = q->s;
	int64_t since = atomic_load_explicit(&s->recent_since,
	    memory_order_relaxed);
	int64_t now = q->r->now;
	/* a clock set back acts at once rather than never */
	if (since == 0 || (now - since < q->c->num[CONF_RECENT_REFRESH] &&
	    now >= since))
		return;
	pthread_mutex_lock(&s->sync_mu);
	since = atomic_load(&s->recent_since);
	int64_t seq = s->recent_seq;
	bool due = since != 0;
	if (due)
		atomic_store(&s->recent_since, 0);
	pthread_mutex_unlock(&s->sync_mu);
	/* Pages rendered from a state older than the newest change noted are
	 * stale; those rendered after it show it already. */
	if (due)
		cache_stale(s->cache, TAG_RECENT, (uint64_t)seq);
}

/* ---- view models ----------------------------------------------------------------- */

/* The comment's text as one line cut to n grapheme clusters (… when cut),
 * in the request arena; scratch is the caller's reusable buffer. */
static const char *
recent_snippet(struct req *q, const char *body, size_t n, buf *scratch)
{
	buf out;
	buf_reset(scratch);
	text_squash_space(scratch, body, strlen(body));
	buf_init(&out, 1 << 16);
	text_truncate(&out, buf_cstr(scratch), scratch->len, n);
	const char *s = out.err ? "" : arena_strndup(q->r->a, buf_cstr(&out),
	    out.len);
	buf_free(&out);
	return s;
}

/* Where the comment is: its article's address and its anchor there, or
 * with comment pages on, /comments/<cid> (302 to the page holding it). */
static const char *
recent_url(struct req *q, const struct store_recent_comment *c)
{
	if (q->c->num[CONF_COMMENT_PER_PAGE] > 0)
		return arena_printf(q->r->a, "/comments/%lld", (long long)c->id);
	return arena_printf(q->r->a, "%s#comment-%lld", site_article_url(q,
	    &c->art), (long long)c->id);
}

/* One comment for the block or the page: nickname, snippet (cut to cut
 * clusters), article title (to title_cut, 0: whole) and full_title, url
 * (of the comment), article_url, dates. Never the e-mail or the address:
 * the store does not read them. */
static tv *
recent_item(struct req *q, const struct store_recent_comment *c, size_t cut,
    size_t title_cut, buf *scratch)
{
	arena *a = q->r->a;
	tv *d = tv_dict(a);
	tv_set_int(a, d, "id", c->id);
	tv_set_str(a, d, "nickname", c->nickname);
	tv_set_str(a, d, "snippet", recent_snippet(q, c->body, cut, scratch));
	tv_set_str(a, d, "title", title_cut ? recent_snippet(q, c->art.title,
	    title_cut, scratch) : c->art.title);
	tv_set_str(a, d, "full_title", c->art.title);
	tv_set_str(a, d, "url", recent_url(q, c));
	tv_set_str(a, d, "article_url", site_article_url(q, &c->art));
	char ja[TEXT_DATE_MAX], iso[TEXT_DATE_MAX];
	size_t nja, niso;
	text_dates_s(ja, &nja, iso, &niso, c->created_at);
	tv_set(d, "date_ja", tv_strn(a, ja, nja));
	tv_set(d, "date_iso", tv_strn(a, iso, niso));
	return d;
}

void
site_view_recent(struct req *q)
{
	arena *a = q->r->a;
	int64_t count = q->c->num[CONF_RECENT_COUNT];
	if (count <= 0)
		return;
	/* Tagged even when empty: the first comment must show up. */
	site_tag(q, TAG_RECENT);
	tv_set_bool(a, q->root, "comments_feed", true);
	struct store_recent_comment *list = NULL;
	size_t n = 0;
	if (store_comments_recent(q->s->st, q->r->now, 0, count, a, &list, &n) !=
	    STORE_OK) {
		q->nocache = true; /* a page without it must not be kept */
		return;
	}
	if (n == 0)
		return;
	tv *r = tv_set(q->root, "recent", tv_dict(a));
	tv *items = tv_set(r, "items", tv_list(a));
	buf scratch;
	buf_init(&scratch, 1 << 22);
	for (size_t i = 0; i < n; i++)
		tv_push(items, recent_item(q, &list[i], RECENT_SNIPPET,
		    RECENT_TITLE, &scratch));
	buf_free(&scratch);
}

/* ---- /comments ------------------------------------------------------------------- */

static const char *
recent_page_url(struct req *q, int64_t page, const void *ctx)
{
	(void)ctx;
	return page == 1 ? "/comments" : arena_printf(q->r->a,
	    "/comments?page=%lld", (long long)page);
}

void
site_page_comments(struct req *q)
{
	arena *a = q->r->a;
	store *st = q->s->st;
	int64_t page = site_page_arg(q, "page");
	int64_t per = q->c->num[CONF_PER_PAGE];
	int64_t total = 0;
	if (page < 1 || page > RECENT_PAGES_MAX) {
		site_error(q, 404);
		return;
	}
	if (store_comments_recent_count(st, q->r->now, per * RECENT_PAGES_MAX,
	    &total) != STORE_OK) {
		site_error(q, 503);
		return;
	}
	int64_t pages = total ? (total + per - 1) / per : 1;
	if (page > pages) {
		site_error(q, 404);
		return;
	}
	struct store_recent_comment *list = NULL;
	size_t n = 0;
	if (store_comments_recent(st, q->r->now, (page - 1) * per, per, a, &list,
	    &n) != STORE_OK) {
		site_error(q, 503);
		return;
	}
	const char *heading = site_msg(q, MSG_RECENT_COMMENTS);
	const char *title = page == 1 ? heading : arena_printf(a, "%s (%lld)",
	    heading, (long long)page);
	site_view_base(q, title, recent_page_url(q, page, NULL));
	tv_set_str(a, q->root, "heading", heading);
	tv_set_str(a, q->root, "description", *q->c->str[CONF_TAGLINE] ?
	    arena_printf(a, "%s | %s", title, q->c->str[CONF_TAGLINE]) : title);
	tv_set_bool(a, q->root, "comments_feed", true);
	site_tag(q, TAG_RECENT);
	tv *items = tv_set(q->root, "entries", tv_list(a));
	buf scratch;
	buf_init(&scratch, 1 << 22);
	for (size_t i = 0; i < n; i++)
		tv_push(items, recent_item(q, &list[i], RECENT_PAGE_SNIPPET, 0,
		    &scratch));
	buf_free(&scratch);
	site_view_pagination(q, page, pages, recent_page_url, NULL);
	http_resp_header(q->r, q->w, "Cache-Control",
	    "public, max-age=0, s-maxage=60, stale-while-revalidate=30");
	site_render(q, "comments", 200);
}

/* ---- feeds ------------------------------------------------------------------------ */

/* The root of a comment feed: site title and language, the messages. */
static void
recent_feed_root(struct req *q)
{
	arena *a = q->r->a;
	q->root = tv_dict(a);
	tv *sd = tv_set(q->root, "site", tv_dict(a));
	tv_set_str(a, sd, "title", q->c->str[CONF_TITLE]);
	tv_set_str(a, sd, "lang", q->lang == LANG_EN ? "en" : "ja");
	site_view_msgs(q, q->root);
}

void
site_recent_feed(struct req *q)
{
	arena *a = q->r->a;
	struct store_recent_comment *list = NULL;
	size_t n = 0;
	if (store_comments_recent(q->s->st, q->r->now, 0,
	    q->c->num[CONF_FEED_ITEMS], a, &list, &n) != STORE_OK) {
		site_error(q, 503);
		return;
	}
	recent_feed_root(q);
	const char *heading = site_msg(q, MSG_RECENT_COMMENTS);
	tv_set_str(a, q->root, "feed_title", arena_printf(a, "%s | %s", heading,
	    q->c->str[CONF_TITLE]));
	tv_set_str(a, q->root, "feed_link", site_abs(q, "/comments"));
	tv_set_str(a, q->root, "feed_url", site_abs(q, "/comments/feed"));
	tv *items = tv_set(q->root, "items", tv_list(a));
	buf scratch;
	buf_init(&scratch, 1 << 22);
	for (size_t i = 0; i < n; i++) {
		const struct store_recent_comment *c = &list[i];
		tv *it = tv_push(items, tv_dict(a));
		tv_set_str(a, it, "author", c->nickname);
		tv_set_str(a, it, "article_title", c->art.title);
		tv_set_str(a, it, "snippet", recent_snippet(q, c->body,
		    RECENT_SNIPPET, &scratch));
		tv_set_str(a, it, "body", c->body);
		tv_set_str(a, it, "link", site_abs(q, recent_url(q, c)));
		tv_set_str(a, it, "date", site_feed_date(q, c->created_at, false));
		if (i == 0)
			tv_set_str(a, q->root, "last_date", site_feed_date(q,
			    c->created_at, false));
	}
	buf_free(&scratch);
	site_tag(q, TAG_RECENT);
	http_resp_header(q->r, q->w, "Cache-Control",
	    "public, max-age=0, s-maxage=60");
	site_render_as(q, "comments_recent_feed", 200,
	    "application/rss+xml; charset=utf-8");
	site_etag_reply(q);
}

void
site_comment_feed_atom(struct req *q, int64_t article_id)
{
	arena *a = q->r->a;
	struct store_article art;
	struct store_comment *cs = NULL;
	size_t n = 0;
	if (!site_comment_feed_rows(q, article_id, &art, &cs, &n))
		return;
	const char *path = site_article_url(q, &art);
	recent_feed_root(q);
	tv *d = tv_set(q->root, "article", tv_dict(a));
	tv_set_str(a, d, "title", art.title);
	tv_set_str(a, d, "abs_url", site_abs(q, path));
	tv_set_str(a, q->root, "feed_title", arena_printf(a, q->lang == LANG_JA ?
	    "「%s」へのコメント | %s" : "Comments on \"%s\" | %s", art.title,
	    q->c->str[CONF_TITLE]));
	tv_set_str(a, q->root, "feed_url", site_abs(q, arena_printf(a,
	    "/articles/%lld/feed/atom", (long long)article_id)));
	/* An empty feed still needs an <updated>: the article's own date. */
	int64_t updated = art.published_at;
	tv *items = tv_set(q->root, "items", tv_list(a));
	buf scratch;
	buf_init(&scratch, 1 << 22);
	/* Newest first; the store gives oldest first. */
	for (size_t k = 0, shown = 0; k < n && shown < COMMENT_FEED_ITEMS; k++) {
		const struct store_comment *c = &cs[n - 1 - k];
		if (c->placeholder)
			continue; /* spam or trash kept for its replies */
		if (shown++ == 0 && c->created_at > updated)
			updated = c->created_at;
		tv *it = tv_push(items, tv_dict(a));
		tv_set_str(a, it, "author", c->nickname);
		tv_set_str(a, it, "title", recent_snippet(q, c->body, RECENT_SNIPPET,
		    &scratch));
		tv_set_str(a, it, "body", c->body);
		tv_set_str(a, it, "link", site_abs(q,
		    q->c->num[CONF_COMMENT_PER_PAGE] > 0 ?
		    arena_printf(a, "/comments/%lld", (long long)c->id) :
		    arena_printf(a, "%s#comment-%lld", path, (long long)c->id)));
		tv_set_str(a, it, "date", site_feed_date(q, c->created_at, true));
	}
	buf_free(&scratch);
	tv_set_str(a, q->root, "updated", site_feed_date(q, updated, true));
	site_tag(q, TAG_ARTICLE(article_id));
	http_resp_header(q->r, q->w, "Cache-Control",
	    "public, max-age=0, s-maxage=60, stale-while-revalidate=30");
	site_render_as(q, "comments_feed_atom", 200,
	    "application/atom+xml; charset=utf-8");
	site_etag_reply(q);
}
