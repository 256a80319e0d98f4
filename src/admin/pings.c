/*
 * Outgoing pings, read-only: /admin/pings lists what net/send.c recorded
 * for the links of published articles (newest activity first, or one
 * article's with ?article=ID), and an article's edit page shows its own.
 * Nothing here changes anything: sending is the job runner's.
 */
#include "admin_int.h"

#define PINGS_PAGE 50     /* rows per page */
#define PINGS_ARTICLE 20  /* rows on an article's edit page */

/* Status names as the interface says them. */
static const enum admin_msg ping_status_msg[PSTATUS__MAX] = {
	[PSTATUS_PENDING] = AMSG_PING_PENDING,
	[PSTATUS_SENT] = AMSG_PING_SENT,
	[PSTATUS_FAILED] = AMSG_PING_FAILED,
	[PSTATUS_NONE] = AMSG_PING_NONE,
};

/* Kinds as their specifications spell them. */
static const char *const ping_kind_label[PKIND__MAX] = {
	[PKIND_WEBMENTION] = "Webmention",
	[PKIND_PINGBACK] = "Pingback",
	[PKIND_TRACKBACK] = "TrackBack",
};

/* One row of the view: date, article, target, status (its word and a
 * class), kind, attempts, error. */
static void
ping_row(struct admin_req *q, tv *list, const struct store_ping *p)
{
	arena *a = q->a;
	tv *d = tv_push(list, tv_dict(a));
	tv_set_str(a, d, "date", admin_datetime(q, p->updated_at));
	tv_set_int(a, d, "article_id", p->article_id);
	tv_set_str(a, d, "article_title", p->article_title);
	tv_set_str(a, d, "target", p->target);
	tv_set_str(a, d, "status", admin_msg(q, ping_status_msg[p->status]));
	tv_set_str(a, d, "status_key", store_ping_status_name(p->status));
	tv_set_str(a, d, "kind", ping_kind_label[p->kind] ?
	    ping_kind_label[p->kind] : p->kind == PKIND_NONE ? "—" :
	    admin_msg(q, AMSG_PING_UNKNOWN));
	tv_set_int(a, d, "attempts", p->attempts);
	tv_set_str(a, d, "error", p->last_error);
}

ADMIN_HANDLER(admin_page_pings)
{
	struct admin_req *q = qv;
	arena *a = q->a;
	(void)m;
	int64_t page = admin_page_arg(q);
	int64_t article = admin_arg_id(q, "article");
	struct store_ping *ps;
	size_t n;
	int64_t total;
	if (page == 0 || (*admin_arg(q, "article") && article == 0)) {
		admin_error(q, 404);
		return;
	}
	if (store_pings_list(q->ad->st, article, (page - 1) * PINGS_PAGE,
	    PINGS_PAGE, a, &ps, &n, &total) != STORE_OK) {
		admin_error(q, 503);
		return;
	}
	int64_t pages = (total + PINGS_PAGE - 1) / PINGS_PAGE;
	if (page > 1 && page > pages) {
		admin_error(q, 404);
		return;
	}
	admin_view(q, admin_msg(q, AMSG_PINGS));
	tv *list = tv_set(q->root, "pings", tv_list(a));
	for (size_t i = 0; i < n; i++)
		ping_row(q, list, &ps[i]);
	tv_set_bool(a, q->root, "empty", n == 0);
	if (article) {
		tv_set_int(a, q->root, "article_id", article);
		if (n > 0)
			tv_set_str(a, q->root, "article_title", ps[0].article_title);
	}
	admin_pager(q, article ? arena_printf(a, "/admin/pings?article=%lld",
	    (long long)article) : "/admin/pings", page, pages);
	admin_render(q, "admin_pings", 200);
}

void
admin_pings_of_article(struct admin_req *q, tv *into, int64_t id)
{
	arena *a = q->a;
	struct store_ping *ps;
	size_t n;
	int64_t total;
	if (store_pings_list(q->ad->st, id, 0, PINGS_ARTICLE, a, &ps, &n,
	    &total) != STORE_OK || n == 0)
		return; /* the editor works without this list */
	tv_set_bool(a, into, "has_pings", true);
	tv_set_bool(a, into, "more_pings", total > (int64_t)n);
	tv *list = tv_set(into, "pings", tv_list(a));
	for (size_t i = 0; i < n; i++)
		ping_row(q, list, &ps[i]);
}
