/*
 * Comment threads sorted and paged, on the article page: ?csort=
 * old|new|likes orders the top-level threads (replies stay under their
 * parent in time order), ?cpage=N shows comments.per_page threads at a
 * time, and GET /comments/<cid> finds the page that holds a comment.
 *
 * The store hands over an article's comments in time order (with the
 * placeholders that keep replies under a deleted parent); the threads are
 * grouped (cview.c) and cut here, so what counts as a thread is exactly
 * what the page shows at the top, for every reader (their own pending
 * comments included). Each view is one cache entry under the article's
 * tag, so a comment, like or moderation invalidates every sort and page
 * at once.
 */
#include "site_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- the request ----------------------------------------------------------- */

static enum csort
csort_default(const struct site_conf *c)
{
	int s = csort_parse(c->str[CONF_COMMENT_SORT]);
	return s < 0 ? CSORT_OLD : (enum csort)s;
}

bool
cpage_read(struct req *q)
{
	struct http_req *r = q->r;
	enum csort def = csort_default(q->c);
	struct cview v;
	enum cview_verdict e = cview_args(r->args, r->nargs, def, &v);
	q->cp.on = true;
	q->cp.sort = (int)v.sort;
	q->cp.page = v.page;
	if (e == CVIEW_OK)
		return true;
	if (e == CVIEW_NOTFOUND) {
		site_error(q, 404);
		return false;
	}
	/* The canonical URL, with any other argument kept as sent. */
	buf b;
	buf_init(&b, 8192);
	buf_puts(&b, cpage_url(r->a, r->match.num[0], v.sort, def, v.page));
	bool first = strchr(buf_cstr(&b), '?') == NULL;
	for (size_t i = 0; i < r->nargs; i++) {
		const char *n = r->args[i].name;
		if (strcmp(n, "csort") == 0 || strcmp(n, "cpage") == 0)
			continue;
		buf_putc(&b, first ? '?' : '&');
		first = false;
		http_url_encode(&b, n, strlen(n));
		buf_putc(&b, '=');
		http_url_encode(&b, r->args[i].value, r->args[i].value_len);
	}
	if (b.err)
		site_error(q, 404); /* past the buffer's bound: no view */
	else
		http_resp_redirect(r, q->w, 302, arena_printf(r->a, "%s",
		    buf_cstr(&b)));
	buf_free(&b);
	return false;
}

const char *
cpage_key_suffix(struct req *q)
{
	if (!q->cp.on)
		return "";
	const char *u = cpage_url(q->r->a, 0, (enum csort)q->cp.sort,
	    csort_default(q->c), q->cp.page);
	const char *s = strchr(u, '?');
	return s ? s : "";
}

/* ---- the view -------------------------------------------------------------- */

struct cpage_ctx {
	int64_t article_id;
	enum csort sort, def;
};

static const char *
cpage_link(struct req *q, int64_t page, const void *ctx)
{
	const struct cpage_ctx *c = ctx;
	return cpage_url(q->r->a, c->article_id, c->sort, c->def, page);
}

static const enum msg_id csort_msgs[CSORT__MAX] = {
	[CSORT_OLD] = MSG_CSORT_OLD,
	[CSORT_NEW] = MSG_CSORT_NEW,
	[CSORT_LIKES] = MSG_CSORT_LIKES,
};

/*
 * The readers' comments (type comment) of an article in threads for sort:
 * *t over *cs[0, *n). By their places alone (no text read: *pl[0, *npl)
 * are the places of every type) when every reply's parent is among them;
 * else *whole, and (when read_whole) from the full read, whose
 * placeholders make the threads the page shows.
 */
static enum store_err
cpage_threads(struct req *q, int64_t article_id, const char *visitor,
    enum csort sort, struct cthreads *t, struct store_comment **cs,
    size_t *n, struct store_comment **pl, size_t *npl, bool *whole,
    bool read_whole)
{
	arena *a = q->r->a;
	enum store_err e = store_comment_places(q->s->st, article_id, visitor,
	    a, pl, npl);
	*whole = false;
	if (e == STORE_OK) {
		*cs = arena_alloc(a, (*npl ? *npl : 1) * sizeof(**cs));
		*n = 0;
		for (size_t i = 0; i < *npl; i++)
			if ((*pl)[i].type == CTYPE_COMMENT)
				(*cs)[(*n)++] = (*pl)[i];
		cthreads_build(t, *cs, *n, sort, a);
		if (t->norphans == 0)
			return STORE_OK;
	}
	*whole = true;
	if (!read_whole)
		return e;
	if ((e = store_comments_for_article(q->s->st, article_id, CTYPE_COMMENT,
	    visitor, a, cs, n)) != STORE_OK)
		return e;
	cthreads_build(t, *cs, *n, sort, a);
	return STORE_OK;
}

enum store_err
cpage_comments(struct req *q, int64_t article_id, const char *visitor,
    struct store_comment **out, size_t *n)
{
	arena *a = q->r->a;
	int64_t per = q->cp.on ? q->c->num[CONF_COMMENT_PER_PAGE] : 0;
	if (per <= 0)
		return store_comments_for_article(q->s->st, article_id, CTYPE__MAX,
		    visitor, a, out, n);
	struct cthreads t;
	struct store_comment *cs, *pl;
	size_t ncs, npl;
	bool whole;
	enum store_err e = cpage_threads(q, article_id, visitor,
	    (enum csort)q->cp.sort, &t, &cs, &ncs, &pl, &npl, &whole, false);
	if (whole) /* placeholders: cpage_slice pages the whole read */
		return store_comments_for_article(q->s->st, article_id, CTYPE__MAX,
		    visitor, a, out, n);
	*out = NULL;
	*n = 0;
	int64_t pages = cthreads_pages(t.nthreads, per);
	if (q->cp.page > pages) {
		q->cp.gone = true;
		return STORE_OK;
	}
	size_t t0 = (size_t)((q->cp.page - 1) * per);
	size_t t1 = (size_t)(q->cp.page * per);
	if (t1 > t.nthreads)
		t1 = t.nthreads;
	/* The page's comments in thread order, then every trackback and
	 * pingback (shown on every page) in time order. Both reads are one
	 * snapshot (site_handle): every id has its row. */
	size_t nids = 0;
	int64_t *ids = arena_alloc(a, (t.start[t1] - t.start[t0] + npl + 1) *
	    sizeof(*ids));
	for (size_t j = t.start[t0]; j < t.start[t1]; j++)
		ids[nids++] = cs[t.order[j]].id;
	for (size_t i = 0; i < npl; i++)
		if (pl[i].type != CTYPE_COMMENT)
			ids[nids++] = pl[i].id;
	if ((e = store_comments_by_ids(q->s->st, article_id, ids, nids, visitor,
	    a, out, n)) != STORE_OK)
		return e;
	q->cp.cut = true;
	q->cp.pages = pages;
	return STORE_OK;
}

/* The page's links: numbered pages, rel=prev/next. */
static void
cpage_links(struct req *q, int64_t article_id, enum csort sort,
    enum csort def, int64_t page, int64_t pages)
{
	arena *a = q->r->a;
	struct cpage_ctx *ctx = arena_alloc(a, sizeof(*ctx));
	*ctx = (struct cpage_ctx){article_id, sort, def};
	site_view_pagination(q, page, pages, cpage_link, ctx);
	if (page > 1)
		tv_set_str(a, q->root, "cpage_prev", cpage_link(q, page - 1, ctx));
	if (page < pages)
		tv_set_str(a, q->root, "cpage_next", cpage_link(q, page + 1, ctx));
}

size_t
cpage_slice(struct req *q, int64_t article_id, struct store_comment *cs,
    size_t n)
{
	arena *a = q->r->a;
	enum csort def = csort_default(q->c);
	enum csort sort = q->cp.on ? (enum csort)q->cp.sort : def;
	int64_t per = q->cp.on ? q->c->num[CONF_COMMENT_PER_PAGE] : 0;
	int64_t page = q->cp.on ? q->cp.page : 1;
	size_t shown = n;
	if (q->cp.cut) {
		/* cpage_comments read this page alone, in order */
		cpage_links(q, article_id, sort, def, page, q->cp.pages);
	} else if (sort != CSORT_OLD || per > 0) {
		struct cthreads t;
		cthreads_build(&t, cs, n, sort, a);
		int64_t pages = cthreads_pages(t.nthreads, per);
		if (page > pages) {
			q->cp.gone = true;
			return 0;
		}
		size_t t0 = per ? (size_t)((page - 1) * per) : 0;
		size_t t1 = per ? (size_t)(page * per) : t.nthreads;
		if (t1 > t.nthreads)
			t1 = t.nthreads;
		/* The page's comments first, in thread order; the rest after
		 * them, so cs stays a permutation (the reply form looks in
		 * all of it). */
		struct store_comment *tmp = arena_alloc(a, (n ? n : 1) *
		    sizeof(*tmp));
		size_t k = 0;
		for (size_t j = t.start[t0]; j < t.start[t1]; j++)
			tmp[k++] = cs[t.order[j]];
		for (size_t j = 0; j < t.start[t0]; j++)
			tmp[k++] = cs[t.order[j]];
		for (size_t j = t.start[t1]; j < n; j++)
			tmp[k++] = cs[t.order[j]];
		memcpy(cs, tmp, n * sizeof(*cs));
		shown = t.start[t1] - t.start[t0];
		if (q->cp.on)
			cpage_links(q, article_id, sort, def, page, pages);
	} else if (page > 1) {
		q->cp.gone = true; /* all on one page */
		return 0;
	}
	if (!q->cp.on)
		return shown;
	/* A page of threads is its own page; a sort is a view of the same
	 * comments, so it names the default view (of its page 1). */
	if (sort != def || page > 1)
		tv_set_str(a, q->root, "canonical", site_abs(q, cpage_url(a,
		    article_id, def, def, sort == def ? page : 1)));
	/* Sort links, plain URLs (no JS), each landing on page 1; with
	 * comments only (nothing to order otherwise). */
	if (n > 0) {
		tv *l = tv_set(tv_set(q->root, "csort_nav", tv_dict(a)),
		    "items", tv_list(a));
		for (int s = 0; s < CSORT__MAX; s++) {
			tv *d = tv_push(l, tv_dict(a));
			tv_set_str(a, d, "label", msg_get(q->lang, csort_msgs[s]));
			tv_set_str(a, d, "url", cpage_url(a, article_id,
			    (enum csort)s, def, 1));
			tv_set_bool(a, d, "current", s == (int)sort);
		}
	}
	return shown;
}

const char *
cpage_comment_url(struct req *q, const struct store_article *art, int64_t cid,
    const char *visitor)
{
	arena *a = q->r->a;
	int64_t per = q->c->num[CONF_COMMENT_PER_PAGE];
	enum csort def = csort_default(q->c);
	int64_t page = 1;
	struct cthreads t;
	struct store_comment *cs, *pl;
	size_t n, npl, k = 0;
	bool whole;
	if (per > 0 && art->kind != KIND_PAGE && cpage_threads(q, art->id,
	    visitor, def, &t, &cs, &n, &pl, &npl, &whole, true) == STORE_OK) {
		while (k < n && cs[k].id != cid)
			k++;
		if (k < n)
			page = (int64_t)t.thread_of[k] / per + 1;
	}
	/* a page's comments are not paged: /articles/<id> leads to it */
	return arena_printf(a, "%s#comment-%lld", cpage_url(a, art->id, def,
	    def, page), (long long)cid);
}

void
site_comment_goto(struct req *q, int64_t cid)
{
	arena *a = q->r->a;
	struct store_comment cm;
	struct store_article art;
	const char *visitor = visitor_get(q, false);
	/* Only what the article page would show this reader. */
	if (store_comment_get(q->s->st, cid, a, &cm) != STORE_OK ||
	    !(cm.status == CSTATUS_APPROVED || (cm.status == CSTATUS_PENDING &&
	    visitor && cm.visitor_id && *cm.visitor_id &&
	    strcmp(visitor, cm.visitor_id) == 0)) ||
	    store_article_get(q->s->st, cm.article_id, q->r->now, a, &art) !=
	    STORE_OK) {
		site_error(q, 404);
		return;
	}
	const char *to = cm.type == CTYPE_COMMENT && art.kind != KIND_PAGE ?
	    cpage_comment_url(q, &art, cid, visitor) :
	    arena_printf(a, "%s#comment-%lld", site_article_url(q, &art),
		(long long)cid);
	/* Where it is changes as threads come and go: never kept. */
	http_resp_header(q->r, q->w, "Cache-Control", "no-store");
	http_resp_redirect(q->r, q->w, 302, to);
}
