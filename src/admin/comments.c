/*
 * Comment moderation: the queue by status (pending, approved, spam,
 * trash), per article, with who wrote what from where and why it waits;
 * bulk and one-click approve / spam / trash; editing a comment's text;
 * bans of an address, an address range or a visitor id (the comment form
 * puts a banned poster's comments into spam).
 */
#include "admin_int.h"

#include <string.h>

#define QUEUE_PAGE 50          /* rows per page: the bulk form carries one
                                * id per row under http's 64-field cap */
#define COMMENT_EDIT_MAX 100000 /* characters an edited comment may hold */
#define BANS_MAX 1000          /* bans listed */

static const struct {
	const char *name; /* ?status= and the bulk action's target */
	enum admin_msg label;
	enum admin_msg verb;
} cstatus_ui[CSTATUS__MAX] = {
	[CSTATUS_PENDING] = {"pending", AMSG_PENDING, AMSG_PENDING},
	[CSTATUS_APPROVED] = {"approved", AMSG_APPROVED, AMSG_APPROVE},
	[CSTATUS_SPAM] = {"spam", AMSG_SPAM, AMSG_MARK_SPAM},
	[CSTATUS_TRASH] = {"trash", AMSG_TRASH, AMSG_MOVE_TRASH},
};

/* Status by name; CSTATUS__MAX for "all", -1 when unknown. */
static int
cstatus_of(const char *s)
{
	if (strcmp(s, "all") == 0)
		return CSTATUS__MAX;
	for (int i = 0; i < CSTATUS__MAX; i++)
		if (strcmp(s, cstatus_ui[i].name) == 0)
			return i;
	return -1;
}

/* The pending reason as people read it ("" when none). */
static const char *
reason_text(struct admin_req *q, const char *r)
{
	if (strcmp(r, "first") == 0)
		return admin_msg(q, AMSG_REASON_FIRST);
	if (strcmp(r, "ngword") == 0)
		return admin_msg(q, AMSG_REASON_NGWORD);
	if (strcmp(r, "all") == 0)
		return admin_msg(q, AMSG_REASON_ALL);
	if (strcmp(r, "ban") == 0)
		return admin_msg(q, AMSG_REASON_BAN);
	return "";
}

/* A return path (form field or query argument): only the queue
 * itself, else the queue. */
static const char *
back_path(const char *b)
{
	if (strncmp(b, "/admin/comments", 15) != 0 || strstr(b, "//") ||
	    strchr(b, '\\') || (b[15] != '\0' && b[15] != '?'))
		return "/admin/comments";
	for (const char *p = b; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return "/admin/comments";
	return b;
}

/* GET /admin/comments?status=&article=&page= */
ADMIN_HANDLER(admin_page_comments)
{
	struct admin_req *q = qv;
	(void)m;
	arena *a = q->a;
	const char *sname = http_req_arg(q->r, "status");
	int st = sname ? cstatus_of(sname) : CSTATUS_PENDING;
	int64_t article = admin_arg_id(q, "article");
	int64_t page = admin_page_arg(q);
	if (st < 0 || page == 0) {
		admin_error(q, 404);
		return;
	}
	int64_t counts[CSTATUS__MAX];
	struct store_comment *cs;
	size_t n;
	int64_t total;
	if (store_comment_counts(q->ad->st, article, counts) != STORE_OK ||
	    store_comments_queue(q->ad->st, (enum store_cstatus)st, article,
		(page - 1) * QUEUE_PAGE, QUEUE_PAGE, a, &cs, &n, &total) !=
	    STORE_OK) {
		admin_error(q, 503);
		return;
	}
	int64_t pages = (total + QUEUE_PAGE - 1) / QUEUE_PAGE;
	if (page > 1 && page > pages) {
		admin_error(q, 404);
		return;
	}
	admin_view(q, admin_msg(q, AMSG_COMMENTS));
	const char *art_q = article ? arena_printf(a, "&article=%lld",
	    (long long)article) : "";
	const char *self = arena_printf(a, "/admin/comments?status=%s%s",
	    st == CSTATUS__MAX ? "all" : cstatus_ui[st].name, art_q);
	tv *tabs = tv_set(q->root, "tabs", tv_list(a));
	int64_t all = 0;
	for (int i = 0; i <= CSTATUS__MAX; i++) {
		tv *t = tv_push(tabs, tv_dict(a));
		const char *nm = i == CSTATUS__MAX ? "all" : cstatus_ui[i].name;
		tv_set_str(a, t, "label", admin_msg(q, i == CSTATUS__MAX ?
		    AMSG_ALL : cstatus_ui[i].label));
		tv_set_int(a, t, "n", i == CSTATUS__MAX ? all : counts[i]);
		tv_set_str(a, t, "url", arena_printf(a,
		    "/admin/comments?status=%s%s", nm, art_q));
		tv_set_bool(a, t, "current", i == st);
		if (i < CSTATUS__MAX)
			all += counts[i];
	}
	if (article) {
		tv *ad = tv_set(q->root, "article", tv_dict(a));
		tv_set_int(a, ad, "id", article);
		tv_set_str(a, ad, "title", n ? cs[0].article_title : "");
		tv_set_str(a, ad, "all_url", arena_printf(a,
		    "/admin/comments?status=%s",
		    st == CSTATUS__MAX ? "all" : cstatus_ui[st].name));
	}
	tv *acts = tv_set(q->root, "actions", tv_list(a));
	for (int i = 0; i < CSTATUS__MAX; i++) {
		if (i == st || i == CSTATUS_PENDING)
			continue;
		tv *d = tv_push(acts, tv_dict(a));
		tv_set_str(a, d, "name", cstatus_ui[i].name);
		tv_set_str(a, d, "label", admin_msg(q, cstatus_ui[i].verb));
	}
	const char *back = page > 1 ? arena_printf(a, "%s&page=%lld", self,
	    (long long)page) : self;
	tv_set_str(a, q->root, "back", back);
	tv *list = tv_set(q->root, "comments", tv_list(a));
	for (size_t i = 0; i < n; i++) {
		const struct store_comment *c = &cs[i];
		tv *d = tv_push(list, tv_dict(a));
		tv_set_int(a, d, "id", c->id);
		tv_set_int(a, d, "article_id", c->article_id);
		tv_set_str(a, d, "article_title", c->article_title);
		tv_set_str(a, d, "article_url", arena_printf(a,
		    "/admin/comments?status=%s&article=%lld",
		    st == CSTATUS__MAX ? "all" : cstatus_ui[st].name,
		    (long long)c->article_id));
		tv_set_str(a, d, "public_url", arena_printf(a,
		    "/articles/%lld#comment-%lld", (long long)c->article_id,
		    (long long)c->id));
		tv_set_str(a, d, "nickname", c->nickname);
		tv_set_str(a, d, "ip", c->ip);
		tv_set_str(a, d, "visitor", c->visitor_id);
		tv_set_str(a, d, "date", admin_datetime(q, c->created_at));
		tv_set_str(a, d, "status", admin_msg(q, cstatus_ui[c->status].label));
		tv_set_str(a, d, "status_name", cstatus_ui[c->status].name);
		tv_set_str(a, d, "reason", c->status == CSTATUS_PENDING ?
		    reason_text(q, c->pending_reason) : "");
		tv_set_str(a, d, "body", c->body);
		tv_set_int(a, d, "likes", c->like_count);
		tv_set_bool(a, d, "is_reply", c->parent_id != 0);
		buf eu;
		buf_init(&eu, 2048);
		buf_printf(&eu, "/admin/comments/%lld/edit?back=", (long long)c->id);
		http_url_encode(&eu, back, strlen(back));
		tv_set_str(a, d, "edit_url", buf_cstr(&eu));
		buf_free(&eu);
		tv_set_str(a, d, "only_url", arena_printf(a,
		    "/admin/comments/bulk?only=%lld", (long long)c->id));
		buf u;
		buf_init(&u, 1024);
		if (*c->ip) {
			buf_puts(&u, "/admin/bans?kind=ip&value=");
			http_url_encode(&u, c->ip, strlen(c->ip));
			tv_set_str(a, d, "ban_ip_url", buf_cstr(&u));
		}
		if (*c->visitor_id) {
			buf_reset(&u);
			buf_puts(&u, "/admin/bans?kind=visitor&value=");
			http_url_encode(&u, c->visitor_id, strlen(c->visitor_id));
			tv_set_str(a, d, "ban_visitor_url", buf_cstr(&u));
		}
		buf_free(&u);
	}
	tv_set_bool(a, q->root, "empty", n == 0);
	admin_pager(q, self, page, pages);
	admin_render(q, "admin_comments", 200);
}

/*
 * POST /admin/comments/bulk: action (approved, spam, trash, pending) on
 * every ticked id, or on ?only=<id> (the row's own button). Unknown ids
 * are skipped; the flash says how many moved.
 */
ADMIN_HANDLER(admin_page_comments_bulk)
{
	struct admin_req *q = qv;
	(void)m;
	int to = cstatus_of(admin_field(q, "action"));
	if (to < 0 || to == CSTATUS__MAX) {
		admin_error(q, 400);
		return;
	}
	const char *back = back_path(admin_field(q, "back"));
	int64_t only = admin_arg_id(q, "only");
	int64_t done = 0;
	bool failed = false;
	if (only) {
		enum store_err e = store_comment_set_status(q->ad->st, only,
		    (enum store_cstatus)to);
		done += e == STORE_OK;
		failed = e != STORE_OK && e != STORE_NOTFOUND;
	} else {
		for (size_t i = 0; i < q->r->nform; i++) {
			const struct http_kv *kv = &q->r->form[i];
			int64_t id = 0;
			if (strcmp(kv->name, "id") != 0)
				continue;
			for (const char *p = kv->value; *p; p++)
				id = id * 10 + (*p - '0'); /* HTTP_FIELD_ID */
			if (id == 0)
				continue;
			enum store_err e = store_comment_set_status(q->ad->st, id,
			    (enum store_cstatus)to);
			done += e == STORE_OK;
			failed |= e != STORE_OK && e != STORE_NOTFOUND;
		}
	}
	if (done)
		admin_changed(q);
	if (failed) {
		admin_error(q, 503);
		return;
	}
	admin_redirect(q, back, done ? AMSG_UPDATED : AMSG_NONE_SELECTED, done);
}

/* The edit form of comment c, with text (what was typed, or the stored
 * text) and an error message when refused. */
static void
comment_edit_form(struct admin_req *q, const struct store_comment *c,
    const char *text, enum admin_msg err, int status)
{
	arena *a = q->a;
	admin_view(q, admin_msg(q, AMSG_EDIT_COMMENT));
	if (err != AMSG__MAX)
		admin_form_error(q, err);
	tv *d = tv_set(q->root, "comment", tv_dict(a));
	tv_set_int(a, d, "id", c->id);
	tv_set_str(a, d, "nickname", c->nickname);
	tv_set_str(a, d, "ip", c->ip);
	tv_set_str(a, d, "date", admin_datetime(q, c->created_at));
	tv_set_str(a, d, "body", text);
	tv_set_str(a, d, "public_url", arena_printf(a,
	    "/articles/%lld#comment-%lld", (long long)c->article_id,
	    (long long)c->id));
	tv_set_str(a, q->root, "back", back_path(*admin_field(q, "back") ?
	    admin_field(q, "back") : admin_arg(q, "back")));
	admin_render(q, "admin_comment_edit", status);
}

ADMIN_HANDLER(admin_page_comment_edit_form)
{
	struct admin_req *q = qv;
	struct store_comment c;
	enum store_err e = store_comment_get(q->ad->st, m->num[0], q->a, &c);
	if (e != STORE_OK) {
		admin_error(q, e == STORE_NOTFOUND ? 404 : 503);
		return;
	}
	comment_edit_form(q, &c, c.body, AMSG__MAX, 200);
}

/* POST /admin/comments/<id>/edit: the same text rules as the comment
 * form (clean UTF-8, NFC, not empty), a larger length limit. */
ADMIN_HANDLER(admin_page_comment_edit)
{
	struct admin_req *q = qv;
	struct store_comment c;
	enum store_err e = store_comment_get(q->ad->st, m->num[0], q->a, &c);
	if (e != STORE_OK) {
		admin_error(q, e == STORE_NOTFOUND ? 404 : 503);
		return;
	}
	const char *raw = admin_field(q, "body");
	const char *body = admin_text(q, raw, true);
	enum admin_msg err = body == NULL ? AMSG_COMMENT_BAD_TEXT :
	    *body == '\0' ? AMSG_COMMENT_EMPTY :
	    text_graphemes(body, strlen(body)) > COMMENT_EDIT_MAX ?
	    AMSG_COMMENT_TOO_LONG : AMSG__MAX;
	if (err != AMSG__MAX) {
		comment_edit_form(q, &c, raw, err, 422);
		return;
	}
	if (store_comment_set_body(q->ad->st, c.id, body) != STORE_OK) {
		admin_error(q, 503);
		return;
	}
	admin_changed(q);
	admin_redirect(q, back_path(admin_field(q, "back")), AMSG_SAVED, 0);
}

/* ---- bans ------------------------------------------------------------------ */

static const struct {
	const char *name;
	enum admin_msg label;
} ban_ui[BAN__MAX] = {
	[BAN_IP] = {"ip", AMSG_BAN_IP},
	[BAN_RANGE] = {"range", AMSG_BAN_RANGE},
	[BAN_VISITOR] = {"visitor", AMSG_BAN_VISITOR},
};

/* A visitor id as the comment path stores them (hex today; imported
 * ones may differ): [A-Za-z0-9._-], 1..64. */
static bool
visitor_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' ||
		    s[i] == '-'))
			return false;
	return true;
}

/* The bans page with the add form holding kind and value. */
static void
bans_page(struct admin_req *q, const char *kind, const char *value,
    const char *note, enum admin_msg err, int status)
{
	arena *a = q->a;
	struct store_ban *bs;
	size_t n;
	if (store_bans(q->ad->st, BANS_MAX, a, &bs, &n) != STORE_OK) {
		admin_error(q, 503);
		return;
	}
	admin_view(q, admin_msg(q, AMSG_BANS));
	if (err != AMSG__MAX)
		admin_form_error(q, err);
	tv *kinds = tv_set(q->root, "kinds", tv_list(a));
	for (int i = 0; i < BAN__MAX; i++) {
		tv *d = tv_push(kinds, tv_dict(a));
		tv_set_str(a, d, "name", ban_ui[i].name);
		tv_set_str(a, d, "label", admin_msg(q, ban_ui[i].label));
		tv_set_bool(a, d, "selected", strcmp(kind, ban_ui[i].name) == 0);
	}
	tv_set_str(a, q->root, "value", value);
	tv_set_str(a, q->root, "note", note);
	tv *list = tv_set(q->root, "bans", tv_list(a));
	for (size_t i = 0; i < n; i++) {
		tv *d = tv_push(list, tv_dict(a));
		tv_set_int(a, d, "id", bs[i].id);
		tv_set_str(a, d, "kind", admin_msg(q, ban_ui[bs[i].kind].label));
		tv_set_str(a, d, "value", bs[i].value);
		tv_set_str(a, d, "note", bs[i].note);
		tv_set_str(a, d, "date", admin_datetime(q, bs[i].created_at));
	}
	tv_set_bool(a, q->root, "empty", n == 0);
	admin_render(q, "admin_bans", status);
}

/* GET /admin/bans[?kind=&value=]: the list and a form (prefilled from
 * the queue's "ban" links). */
ADMIN_HANDLER(admin_page_bans)
{
	struct admin_req *q = qv;
	(void)m;
	bans_page(q, admin_arg(q, "kind"), admin_arg(q, "value"), "", AMSG__MAX,
	    200);
}

ADMIN_HANDLER(admin_page_ban_add)
{
	struct admin_req *q = qv;
	(void)m;
	const char *kind = admin_field(q, "kind");
	const char *value = admin_field(q, "value");
	const char *note = admin_text(q, admin_field(q, "note"), false);
	int k = -1;
	for (int i = 0; i < BAN__MAX; i++)
		if (strcmp(kind, ban_ui[i].name) == 0)
			k = i;
	bool ok = note != NULL && k >= 0;
	if (ok && k == BAN_IP)
		ok = strchr(value, '/') == NULL && http_cidr_ok(value);
	else if (ok && k == BAN_RANGE)
		ok = strchr(value, '/') != NULL && http_cidr_ok(value);
	else if (ok)
		ok = visitor_ok(value);
	if (!ok) {
		bans_page(q, kind, value, note ? note : "", AMSG_BAN_BAD, 422);
		return;
	}
	struct store_ban b = {
		.kind = (enum store_ban_kind)k,
		.value = value,
		.note = note,
		.created_at = q->r->now,
	};
	enum store_err e = store_ban_add(q->ad->st, &b, NULL);
	if (e == STORE_CONFLICT) {
		bans_page(q, kind, value, note, AMSG_BAN_EXISTS, 409);
		return;
	}
	if (e != STORE_OK) {
		admin_error(q, 503);
		return;
	}
	admin_redirect(q, "/admin/bans", AMSG_ADDED, 0);
}

ADMIN_HANDLER(admin_page_ban_delete)
{
	struct admin_req *q = qv;
	enum store_err e = store_ban_delete(q->ad->st, m->num[0]);
	if (e != STORE_OK) {
		admin_error(q, e == STORE_NOTFOUND ? 404 : 503);
		return;
	}
	admin_redirect(q, "/admin/bans", AMSG_DELETED, 0);
}
