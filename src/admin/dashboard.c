/* The dashboard: what waits for the editors (drafts, scheduled articles,
 * comments awaiting approval), each linking to its list. */
#include "admin_int.h"

ADMIN_HANDLER(admin_page_dashboard)
{
	struct admin_req *q = qv;
	(void)m;
	arena *a = q->a;
	int64_t arts[STATUS__MAX], cms[CSTATUS__MAX];
	if (store_article_status_counts(q->ad->st, arts) != STORE_OK ||
	    store_comment_counts(q->ad->st, 0, cms) != STORE_OK) {
		admin_error(q, 503);
		return;
	}
	admin_view(q, admin_msg(q, AMSG_DASHBOARD));
	tv *cards = tv_set(q->root, "cards", tv_list(a));
	struct {
		enum admin_msg label;
		int64_t n;
		const char *url;
		bool editor; /* only editors and admins see it */
	} c[] = {
		{AMSG_DRAFTS, arts[STATUS_DRAFT], "/admin/articles?status=draft",
		    false},
		{AMSG_SCHEDULED, arts[STATUS_SCHEDULED],
		    "/admin/articles?status=scheduled", false},
		{AMSG_PUBLISHED, arts[STATUS_PUBLISHED],
		    "/admin/articles?status=published", false},
		{AMSG_PENDING_COMMENTS, cms[CSTATUS_PENDING],
		    "/admin/comments?status=pending", true},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		if (c[i].editor && !admin_role_at_least(q, ROLE_EDITOR))
			continue;
		tv *d = tv_push(cards, tv_dict(a));
		tv_set_str(a, d, "label", admin_msg(q, c[i].label));
		tv_set_int(a, d, "n", c[i].n);
		tv_set_str(a, d, "url", c[i].url);
	}
	admin_render(q, "admin_dashboard", 200);
}
