/*
 * Reader comments and likes: the form post, the JSON API and the like
 * buttons all go through comment_submit / like_toggle, so validation, NG
 * words, moderation and rate limits are the same whichever door is used
 * (and the same as for pings: screen.c).
 */
#include "site_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VISITOR_COOKIE "kiji_v"
#define PENDING_COOKIE "kiji_p"
#define VISITOR_MAX_AGE (2 * 365 * 86400LL)
#define PENDING_MAX_AGE (14 * 86400LL)

/* Why a comment was refused: HTTP status, API code, message for readers. */
static const struct {
	int status;
	const char *code;
	const char *ja;
} cerr_info[CE__MAX] = {
	[CE_OK] = {201, "ok", ""},
	[CE_EMPTY_BODY] = {422, "empty_body", "コメント本文を入力してください。"},
	[CE_BODY_LONG] = {422, "body_too_long",
	    "コメントが長すぎます。%ld文字以内にしてください。"},
	[CE_NICK_LONG] = {422, "nickname_too_long",
	    "名前が長すぎます。%ld文字以内にしてください。"},
	[CE_BAD_TEXT] = {400, "invalid_text",
	    "使用できない文字(制御文字や不正な文字コード)が含まれています。"},
	[CE_MARKS] = {422, "too_many_marks",
	    "濁点やアクセント記号などの結合文字が続きすぎている箇所があります。"
	    "続けて使えるのは30個までです。"},
	[CE_NICK_BIDI] = {422, "nickname_bidi",
	    "名前に文字の表示方向を変える制御文字は使えません。"},
	[CE_NICK_BLANK] = {422, "nickname_invisible",
	    "名前が空白や見えない文字だけになっています。名前を入力するか、空欄のまま送信してください。"},
	[CE_NICK_CONFUSABLE] = {422, "nickname_confusable",
	    "この名前は既定の名前(%s)や運営者の名前と紛らわしいため使えません。別の名前にしてください。"},
	[CE_NO_PARENT] = {422, "unknown_parent",
	    "返信先のコメントが見つかりません。"},
	[CE_TOKEN_MISSING] = {403, "token_missing",
	    "フォームの有効期限情報がありません。ページを再読み込みしてから送信してください。"},
	[CE_TOKEN_INVALID] = {403, "token_invalid",
	    "フォームが正しくありません。ページを再読み込みしてから送信してください。"},
	[CE_TOKEN_EXPIRED] = {403, "token_expired",
	    "フォームの有効期限が切れました。内容を確認してもう一度送信してください。"},
	[CE_TOO_FAST] = {429, "too_fast",
	    "送信が早すぎます。数秒待ってからもう一度送信してください。"},
	[CE_SPAM] = {400, "rejected", "このコメントは受け付けられません。"},
	[CE_NG] = {422, "ng_word",
	    "使用できない語句が含まれています。表現を変えてください。"},
	[CE_CLOSED] = {403, "comments_closed",
	    "この記事へのコメントは締め切られています。"},
	[CE_RATE] = {429, "rate_limited",
	    "短時間に送信が集中しています。しばらく待ってからもう一度送信してください。"},
	[CE_CROSS_ORIGIN] = {403, "cross_origin",
	    "他のサイトからの送信は受け付けられません。"},
	[CE_BAD_JSON] = {400, "bad_json", "JSON の形式が正しくありません。"},
	[CE_STORE] = {503, "unavailable",
	    "ただいま混み合っています。少し待ってからもう一度送信してください。"},
	/* not "busy": waiting a few seconds will not help, the operator must
	 * free space or fix permissions; the text is kept (form re-shown) */
	[CE_CANNOT_SAVE] = {503, "cannot_save",
	    "サーバーの保存領域の問題で、ただいまコメントを保存できません。"
	    "書いた内容は消えていません。時間をおいてもう一度送信してください。"},
	[CE_EMAIL_INVALID] = {422, "invalid_email",
	    "メールアドレスの形式が正しくありません（例: name@example.com）。"},
	[CE_EMAIL_MISSING] = {422, "email_required",
	    "返信をメールで受け取るには、メールアドレスを入力してください。"},
};

enum cerr
cerr_from_store(enum store_err e)
{
	switch (e) {
	case STORE_OK: return CE_OK;
	case STORE_INVALID: return CE_NO_PARENT;
	case STORE_FULL:
	case STORE_READONLY: return CE_CANNOT_SAVE;
	default: return CE_STORE;
	}
}

const char *
cerr_code(enum cerr e)
{
	return (unsigned)e < CE__MAX ? cerr_info[e].code : "unknown";
}

int
cerr_status(enum cerr e)
{
	return cerr_info[e].status;
}

/* The reader-facing message of e (limits filled in from the settings). */
const char *
cerr_message(struct req *q, enum cerr e)
{
	if (e == CE_BODY_LONG)
		return arena_printf(q->r->a, cerr_info[e].ja,
		    q->c->num[CONF_MAX_COMMENT]);
	if (e == CE_NICK_LONG)
		return arena_printf(q->r->a, cerr_info[e].ja,
		    q->c->num[CONF_MAX_NICKNAME]);
	if (e == CE_NICK_CONFUSABLE)
		return arena_printf(q->r->a, cerr_info[e].ja,
		    q->c->str[CONF_DEFAULT_NAME]);
	return cerr_info[e].ja;
}

static void comment_form_error(struct req *q, const struct store_article *art,
    const struct comment_in *in, enum cerr e);
static void api_comment_done(struct post *p, enum cerr e);
static void like_finish(void *ctx);

/*
 * Who the reader is, for likes, pending comments and "first comment"
 * moderation: the id of the signed kiji_v cookie; without one, when issue
 * is set and the address may still be handed new ids (visitors.rate_*,
 * per http_ip_key), a new id whose cookie goes on this response; else the
 * address's own id (guard_address_id), so that every request without a
 * cookie from one address (an IPv6 /64) is one visitor, and a fresh
 * identity per request is not to be had. Ids are handed out by the view
 * beacon and the comment post, never by a like: a like is a write that
 * must find its visitor already known. Never NULL; arena-allocated.
 */
const char *
visitor_get(struct req *q, bool issue)
{
	char id[33], key[HTTP_IP_KEY_MAX];
	const char *ck = http_req_cookie(q->r, VISITOR_COOKIE);
	if (ck && guard_visitor_check(q->s->key, ck, id))
		return arena_strdup(q->r->a, id);
	if (issue && screen_take(q->s->lim_visitor, q->r->ip, NULL)) {
		buf b;
		buf_init(&b, 256);
		guard_visitor_new(q->s->key, &b);
		bool ok = guard_visitor_check(q->s->key, buf_cstr(&b), id);
		if (ok)
			http_resp_cookie(q->r, q->w, VISITOR_COOKIE, buf_cstr(&b),
			    VISITOR_MAX_AGE);
		buf_free(&b);
		if (ok)
			return arena_strdup(q->r->a, id);
	}
	guard_address_id(q->s->key, http_ip_key(q->r->ip, key), id);
	return arena_strdup(q->r->a, id);
}

/* True when the pending-marker cookie lists this article: the visitor has
 * a comment awaiting moderation there and must see it. */
bool
visitor_has_pending(struct req *q, int64_t article_id)
{
	const char *ck = http_req_cookie(q->r, PENDING_COOKIE);
	if (ck == NULL)
		return false;
	if (article_id == 0)
		return *ck != '\0'; /* any article (a page's id comes later) */
	char want[32];
	snprintf(want, sizeof(want), "%lld", (long long)article_id);
	size_t wn = strlen(want);
	for (const char *p = ck; *p;) {
		size_t n = strcspn(p, ".");
		if (n == wn && memcmp(p, want, n) == 0)
			return true;
		p += n + (p[n] == '.');
	}
	return false;
}

/* Adds the article to the marker cookie: the visitor has something of
 * their own there (a pending comment, likes), so its page is rendered for
 * them instead of served from the shared cache. At most 20 ids kept. */
static void
personal_mark(struct req *q, int64_t article_id)
{
	if (visitor_has_pending(q, article_id))
		return;
	buf b;
	buf_init(&b, 512);
	buf_printf(&b, "%lld", (long long)article_id);
	const char *old = http_req_cookie(q->r, PENDING_COOKIE);
	int kept = 0;
	for (const char *p = old ? old : ""; *p && kept < 19;) {
		size_t n = strcspn(p, ".");
		bool digits = n > 0 && n < 19;
		for (size_t i = 0; i < n; i++)
			digits = digits && p[i] >= '0' && p[i] <= '9';
		if (digits) {
			buf_putc(&b, '.');
			buf_put(&b, p, n);
			kept++;
		}
		p += n + (p[n] == '.');
	}
	http_resp_cookie(q->r, q->w, PENDING_COOKIE, buf_cstr(&b), PENDING_MAX_AGE);
	buf_free(&b);
}

/*
 * Validates one comment and fills *out for the store (strings in the
 * request arena). Everything that can refuse a comment is here, in the
 * order that costs least first.
 */
enum cerr
comment_check(struct req *q, const struct store_article *art,
    const struct comment_in *in, struct store_comment *out,
    const char **email_out)
{
	const struct site_conf *c = q->c;
	int retry = 0;
	if (!art->comments_open)
		return CE_CLOSED;
	if (!screen_take(q->s->lim_comment, q->r->ip, &retry)) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", retry);
		http_resp_header(q->r, q->w, "Retry-After", ra);
		return CE_RATE;
	}
	if (in->honeypot && *in->honeypot)
		return CE_SPAM;
	switch (guard_form_check(q->s->key, art->id, in->token, q->r->now,
	    (int)c->num[CONF_TOKEN_HOURS])) {
	case GUARD_TOKEN_OK: break;
	case GUARD_TOKEN_MISSING: return CE_TOKEN_MISSING;
	case GUARD_TOKEN_EXPIRED: return CE_TOKEN_EXPIRED;
	default: return CE_TOKEN_INVALID;
	}
	if (in->opened && *in->opened) {
		char *end;
		long long t = strtoll(in->opened, &end, 10);
		if (*end || t <= 0)
			return CE_SPAM;
		if (q->r->now - t < c->num[CONF_MIN_FILL])
			return CE_TOO_FAST;
	}
	/* Sizes first, on the raw bytes: nothing is normalised (or even
	 * scanned twice) past what the limits allow. */
	const char *nick_in = in->nickname ? in->nickname : "";
	const char *body_in = in->body ? in->body : "";
	if (strlen(body_in) > TEXT_RAW_BYTES(c->num[CONF_MAX_COMMENT]))
		return CE_BODY_LONG;
	if (strlen(nick_in) > TEXT_RAW_BYTES(c->num[CONF_MAX_NICKNAME]))
		return CE_NICK_LONG;
	enum text_bad nbad, bbad;
	const char *nick = screen_text(q->r->a, nick_in, false, &nbad);
	const char *body = screen_text(q->r->a, body_in, true, &bbad);
	if (nick == NULL || body == NULL)
		return (nbad == TEXT_GOOD || nbad == TEXT_BAD_MARKS) &&
		    (bbad == TEXT_GOOD || bbad == TEXT_BAD_MARKS) ? CE_MARKS :
		    CE_BAD_TEXT;
	if (*body == '\0')
		return CE_EMPTY_BODY;
	if (text_graphemes(body, strlen(body)) > (size_t)c->num[CONF_MAX_COMMENT])
		return CE_BODY_LONG;
	if (text_graphemes(nick, strlen(nick)) > (size_t)c->num[CONF_MAX_NICKNAME])
		return CE_NICK_LONG;
	if (*nick == '\0') {
		nick = c->str[CONF_DEFAULT_NAME];
	} else {
		enum cerr ne = screen_nickname(q->s->st, c, nick, q->r->a);
		if (ne != CE_OK)
			return ne;
	}
	const char *email = NULL;
	enum cerr me = site_mail_check(q, in, &email);
	if (me != CE_OK)
		return me;
	if (in->parent != 0) {
		struct store_comment p;
		if (store_comment_get(q->s->st, in->parent, q->r->a, &p) != STORE_OK ||
		    p.article_id != art->id || p.status != CSTATUS_APPROVED ||
		    p.type != CTYPE_COMMENT)
			return CE_NO_PARENT;
	}
	const char *visitor = visitor_get(q, true);
	enum store_cstatus st;
	const char *reason; /* why pending, for the moderation queue */
	const char *texts[] = {nick, body};
	if (!screen_moderate(q->s->st, c, site_ngwords(q), visitor, texts, 2, &st,
	    &reason))
		return CE_NG;
	/* A banned poster is not told: the comment goes to spam. */
	if (screen_banned(q->s->st, q->r->ip, visitor, q->r->a)) {
		st = CSTATUS_SPAM;
		reason = "ban";
	}
	*out = (struct store_comment){
		.article_id = art->id,
		.parent_id = in->parent,
		.type = CTYPE_COMMENT,
		.nickname = nick,
		.email = "",
		.url = "",
		.ip = q->r->ip,
		.visitor_id = visitor,
		.body = body,
		.created_at = q->r->now,
		.status = st,
		.legacy_id = "",
		.pending_reason = reason,
	};
	*email_out = email;
	return CE_OK;
}

/* Answers a post once it is stored (or failed), on the connection's own
 * thread: 303 to the comment / 201 JSON, or the error. */
static void
post_finish(void *ctx)
{
	struct post *p = ctx;
	struct req *q = &p->q;
	enum cerr e = cerr_from_store(p->err);
	site_obs_comment(q->s, e, p->cm.status == CSTATUS_PENDING);
	if (e == CE_OK) {
		if (!p->synced) /* the next request must show it */
			site_sync(q->s, SYNC_FORCE);
		site_mark_write(q->s, q->r, q->w);
		if (p->cm.status == CSTATUS_PENDING)
			personal_mark(q, p->art.id);
	}
	if (p->api)
		api_comment_done(p, e);
	else if (e != CE_OK)
		comment_form_error(q, &p->art, &p->in, e);
	else /* the page that holds it (cpage.c), in the default sort */
		http_resp_redirect(q->r, q->w, 303, cpage_comment_url(q,
		    &p->art, p->cm.id, p->cm.visitor_id));
}

/*
 * Validates a comment and, when it passes, hands it to the writer (group
 * commit; the answer comes from post_finish once it is on disk) or, when
 * the writer cannot take it, stores it here and answers at once.
 */
void
comment_submit(struct req *q, const struct store_article *art,
    const struct comment_in *in, bool api)
{
	struct post *p = arena_alloc(q->r->a, sizeof(*p));
	p->q = *q;
	p->art = *art;
	p->in = *in;
	p->api = api;
	enum cerr e = comment_check(q, art, in, &p->cm, &p->email);
	if (e != CE_OK) {
		site_obs_comment(q->s, e, false);
		if (api)
			api_error(q, e);
		else
			comment_form_error(q, art, in, e);
		return;
	}
	if (q->s->writer && writer_submit(q->s->writer, p, post_finish))
		return;
	writer_apply(q->s->st, p);
	post_finish(p);
}

/* Reads a positive id field; 0 when absent or empty, -1 when malformed. */
static int64_t
id_field(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	int64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || p - s > 17)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

/* Re-shows the form with what the reader typed and what to fix. */
static void
comment_form_error(struct req *q, const struct store_article *art,
    const struct comment_in *in, enum cerr e)
{
	arena *a = q->r->a;
	site_view_base(q, site_msg(q, MSG_LEAVE_COMMENT), NULL);
	tv *d = tv_set(q->root, "article", tv_dict(a));
	tv_set_int(a, d, "id", art->id);
	tv_set(d, "title", tv_str(a, art->title));
	tv_set(d, "url", tv_str(a, arena_printf(a, "/articles/%lld",
	    (long long)art->id)));
	tv_set_bool(a, d, "comments_open", art->comments_open);
	tv_set(q->root, "error_message", tv_str(a, cerr_message(q, e)));
	site_view_form(q, art->id, in->parent, in->nickname ? in->nickname : "",
	    in->body ? in->body : "");
	tv *f = tv_get(q->root, "form");
	if (f != NULL) {
		tv_set(f, "email", tv_str(a, in->email ? in->email : ""));
		tv_set_bool(a, f, "notify", in->notify);
	}
	http_resp_header(q->r, q->w, "Cache-Control", "no-store");
	site_render(q, "comment_form", cerr_info[e].status);
}

/* POST /articles/<id>/comments (form): 303 to the new comment. */
void
site_post_comment(struct req *q, int64_t article_id)
{
	struct store_article art;
	if (store_article_head(q->s->st, article_id, q->r->now, q->r->a, &art) !=
	    STORE_OK) {
		site_error(q, 404);
		return;
	}
	struct comment_in in = {
		.nickname = http_req_field(q->r, "nickname"),
		.body = http_req_field(q->r, "body"),
		.token = http_req_field(q->r, "token"),
		.honeypot = http_req_field(q->r, "url"),
		.opened = http_req_field(q->r, "opened"),
		.email = http_req_field(q->r, "email"),
	};
	const char *notify = http_req_field(q->r, "notify");
	in.notify = notify != NULL && *notify != '\0';
	in.parent = id_field(http_req_field(q->r, "parent"));
	if (in.parent < 0) {
		in.parent = 0;
		site_obs_comment(q->s, CE_NO_PARENT, false);
		comment_form_error(q, &art, &in, CE_NO_PARENT);
		return;
	}
	comment_submit(q, &art, &in, false);
}

/* POST /comments/<id>/like and /unlike: idempotent; JSON or 303. */
void
site_post_like(struct req *q, int64_t cid, bool like)
{
	struct store_comment cm;
	if (store_comment_get(q->s->st, cid, q->r->a, &cm) != STORE_OK ||
	    cm.status != CSTATUS_APPROVED) {
		site_obs_like(q->s, like, LIKE_NOT_FOUND);
		site_error(q, 404);
		return;
	}
	const char *accept = http_req_header(q->r, "Accept");
	bool json = accept && strstr(accept, "application/json");
	int retry = 0;
	if (!screen_take(q->s->lim_like, q->r->ip, &retry)) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", retry);
		http_resp_header(q->r, q->w, "Retry-After", ra);
		site_obs_like(q->s, like, LIKE_RATE);
		if (json)
			api_error(q, CE_RATE);
		else
			site_error(q, 429);
		return;
	}
	/* No id is handed out here: likes sent at once by a reader whose
	 * page has not yet got its cookie all count as the address's one. */
	struct post *p = arena_alloc(q->r->a, sizeof(*p));
	p->q = *q;
	p->kind = like ? POST_LIKE : POST_UNLIKE;
	p->api = json;
	p->cm = cm;
	p->visitor = visitor_get(q, false);
	p->count = cm.like_count;
	/* Likes ride the same group commit as comments: one fsync a batch. */
	if (q->s->writer && writer_submit(q->s->writer, p, like_finish))
		return;
	writer_apply(q->s->st, p);
	like_finish(p);
}

/* Answers a like or unlike once it is on disk: JSON or 303 back. */
static void
like_finish(void *ctx)
{
	struct post *p = ctx;
	struct req *q = &p->q;
	bool like = p->kind == POST_LIKE;
	enum store_err e = p->err;
	if (e != STORE_OK && e != STORE_CONFLICT && e != STORE_NOTFOUND) {
		site_obs_like(q->s, like, cerr_from_store(e) == CE_CANNOT_SAVE ?
		    LIKE_CANNOT_SAVE : LIKE_UNAVAILABLE);
		if (p->api)
			api_error(q, e == STORE_INVALID ? CE_STORE :
			    cerr_from_store(e));
		else
			site_error(q, 503);
		return;
	}
	site_obs_like(q->s, like, LIKE_OK);
	if (e == STORE_OK) {
		if (!p->synced)
			site_sync(q->s, SYNC_FORCE);
		site_mark_write(q->s, q->r, q->w);
	}
	if (like)
		personal_mark(q, p->cm.article_id);
	if (p->api) {
		q->w->content_type = "application/json";
		http_resp_header(q->r, q->w, "Cache-Control", "no-store");
		buf_printf(&q->w->body, "{\"id\":%lld,\"count\":%lld,\"liked\":%s}",
		    (long long)p->cm.id, (long long)p->count, like ? "true" : "false");
		return;
	}
	/* back to the comment, on its page when comments are paged */
	struct store_article art;
	if (q->c->num[CONF_COMMENT_PER_PAGE] > 0 && store_article_head(q->s->st,
	    p->cm.article_id, q->r->now, q->r->a, &art) == STORE_OK) {
		http_resp_redirect(q->r, q->w, 303, cpage_comment_url(q, &art,
		    p->cm.id, p->visitor));
		return;
	}
	http_resp_redirect(q->r, q->w, 303, arena_printf(q->r->a,
	    "/articles/%lld#comment-%lld", (long long)p->cm.article_id,
	    (long long)p->cm.id));
}

/* ---- JSON API --------------------------------------------------------------- */

/* Sends a JSON body built with jansson (which escapes every string). */
static void
api_send(struct req *q, int status, json_t *j)
{
	q->w->status = status;
	q->w->content_type = "application/json";
	http_resp_header(q->r, q->w, "Cache-Control", "no-store");
	char *s = json_dumps(j, JSON_COMPACT);
	if (s) {
		buf_puts(&q->w->body, s);
		free(s);
	}
	json_decref(j);
}

void
api_error(struct req *q, enum cerr e)
{
	api_send(q, cerr_info[e].status, json_pack("{s:{s:s,s:s}}", "error",
	    "code", cerr_info[e].code, "message", cerr_message(q, e)));
}

void
api_error_status(struct req *q, int status, const char *code, const char *msg)
{
	api_send(q, status, json_pack("{s:{s:s,s:s}}", "error", "code", code,
	    "message", msg));
}

/* The comment tree as JSON: replies nested under their true parent. */
static json_t *
api_tree(struct req *q, const struct store_comment *cs, size_t n)
{
	json_t *top = json_array();
	json_t **kids = arena_alloc(q->r->a, (n ? n : 1) * sizeof(*kids));
	buf b;
	buf_init(&b, 256);
	for (size_t i = 0; i < n; i++) {
		const struct store_comment *c = &cs[i];
		buf_reset(&b);
		text_rfc3339(&b, c->created_at);
		/* A placeholder (spammed or trashed parent of visible
		 * replies) says "deleted" and nothing of what it said. */
		json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:s,s:I,s:s}",
		    "id", (json_int_t)c->id, "parent", (json_int_t)c->parent_id,
		    "author", c->nickname, "date", buf_cstr(&b), "body", c->body,
		    "like_count", (json_int_t)c->like_count, "status",
		    c->placeholder ? "deleted" :
		    c->status == CSTATUS_PENDING ? "pending" : "approved");
		if (o == NULL)
			continue; /* only on invalid UTF-8, which we never store */
		kids[i] = json_array();
		json_object_set_new(o, "replies", kids[i]);
		json_t *into = top;
		for (size_t j = 0; c->parent_id && j < i; j++)
			if (cs[j].id == c->parent_id && kids[j]) {
				into = kids[j];
				break;
			}
		json_array_append_new(into, o);
	}
	buf_free(&b);
	return top;
}

/* GET /api/articles/<id>/comments */
void
site_api_comments(struct req *q, int64_t article_id)
{
	struct store_article art;
	if (store_article_get(q->s->st, article_id, q->r->now, q->r->a, &art) !=
	    STORE_OK) {
		api_error_status(q, 404, "not_found", "記事が見つかりません。");
		return;
	}
	const char *visitor = visitor_get(q, false);
	struct store_comment *cs = NULL;
	size_t n = 0;
	if (store_comments_for_article(q->s->st, article_id, CTYPE_COMMENT,
	    visitor, q->r->a, &cs, &n) != STORE_OK) {
		api_error(q, CE_STORE);
		return;
	}
	/* Readers' approved comments, as the page heading counts them
	 * (comment_count also counts trackbacks and pingbacks). */
	int64_t approved = 0;
	for (size_t i = 0; i < n; i++)
		approved += cs[i].status == CSTATUS_APPROVED;
	buf tok;
	buf_init(&tok, 256);
	guard_form_token(q->s->key, article_id, q->r->now, &tok);
	json_t *j = json_pack("{s:I,s:I,s:s,s:b,s:o}", "article",
	    (json_int_t)article_id, "count", (json_int_t)approved,
	    "token", buf_cstr(&tok), "comments_open", art.comments_open,
	    "comments", api_tree(q, cs, n));
	buf_free(&tok);
	api_send(q, 200, j);
}

/* A state-changing request from another site (the dispatch checks every
 * HTTP_RF_ORIGIN route with http_same_origin): JSON for API and JSON
 * clients, the error page otherwise. */
void
site_refuse_cross_origin(struct req *q)
{
	const char *accept = http_req_header(q->r, "Accept");
	if (q->r->route->body == HTTP_BODY_RAW ||
	    (accept && strstr(accept, "application/json")))
		api_error(q, CE_CROSS_ORIGIN);
	else
		site_error(q, 403);
}

/* POST /api/articles/<id>/comments with a JSON body. */
void
site_api_post_comment(struct req *q, int64_t article_id)
{
	struct store_article art;
	if (store_article_head(q->s->st, article_id, q->r->now, q->r->a, &art) !=
	    STORE_OK) {
		api_error_status(q, 404, "not_found", "記事が見つかりません。");
		return;
	}
	struct comment_in in;
	if (!comment_in_from_json(q->r->a, q->r->body, q->r->body_len, &in)) {
		site_obs_comment(q->s, CE_BAD_JSON, false);
		api_error(q, CE_BAD_JSON);
		return;
	}
	comment_submit(q, &art, &in, true);
}

/* The API's answer to a stored (or failed) post: 201 with the rendered
 * comment, so a page can show it without a reload. */
static void
api_comment_done(struct post *p, enum cerr e)
{
	struct req *q = &p->q;
	if (e != CE_OK) {
		api_error(q, e);
		return;
	}
	int64_t cid = p->cm.id;
	const char *url = arena_printf(q->r->a, "/articles/%lld#comment-%lld",
	    (long long)p->art.id, (long long)cid);
	http_resp_header(q->r, q->w, "Location", url);
	buf html, scratch;
	buf_init(&html, 1 << 20);
	buf_init(&scratch, 1 << 20);
	tv *node = site_comment_node(q, &p->cm, p->art.id, false, &scratch);
	site_view_msgs(q, node);
	site_tmpl_render(q->s, "comment", node, &html);
	api_send(q, 201, json_pack("{s:I,s:I,s:s,s:s,s:s}", "id", (json_int_t)cid,
	    "parent", (json_int_t)p->in.parent,
	    "status", p->cm.status == CSTATUS_PENDING ? "pending" : "approved",
	    "url", url, "html", buf_cstr(&html)));
	buf_free(&html);
	buf_free(&scratch);
}

/* ---- comment feed ---------------------------------------------------------- */

#define FEED_ITEMS 50

/* A comment feed's article and its comments (oldest first, as the store
 * gives them); false when it has answered 404 or 503. */
bool
site_comment_feed_rows(struct req *q, int64_t article_id,
    struct store_article *art, struct store_comment **cs, size_t *n)
{
	if (store_article_get(q->s->st, article_id, q->r->now, q->r->a, art) !=
	    STORE_OK) {
		site_error(q, 404);
		return false;
	}
	if (store_comments_for_article(q->s->st, article_id, CTYPE_COMMENT, NULL,
	    q->r->a, cs, n) != STORE_OK) {
		site_error(q, 503);
		return false;
	}
	return true;
}

/* GET /articles/<id>/feed: RSS 2.0 of the newest approved comments. */
void
site_comment_feed(struct req *q, int64_t article_id)
{
	arena *a = q->r->a;
	struct store_article art;
	struct store_comment *cs = NULL;
	size_t n = 0;
	if (!site_comment_feed_rows(q, article_id, &art, &cs, &n))
		return;
	const char *path = arena_printf(a, "/articles/%lld", (long long)article_id);
	site_view_base(q, NULL, NULL);
	tv *d = tv_set(q->root, "article", tv_dict(a));
	tv_set(d, "title", tv_str(a, art.title));
	tv_set(d, "abs_url", tv_str(a, site_abs(q, path)));
	tv_set(q->root, "feed_title", tv_str(a, arena_printf(a, q->lang == LANG_JA ?
	    "「%s」へのコメント | %s" : "Comments on \"%s\" | %s", art.title,
	    q->c->str[CONF_TITLE])));
	tv_set(q->root, "feed_url", tv_str(a, site_abs(q, arena_printf(a,
	    "%s/feed", path))));
	tv *items = tv_set(q->root, "items", tv_list(a));
	buf b;
	buf_init(&b, 1 << 16);
	/* Newest first; the store gives oldest first. */
	for (size_t k = 0, shown = 0; k < n && shown < FEED_ITEMS; k++) {
		const struct store_comment *c = &cs[n - 1 - k];
		if (c->placeholder)
			continue;
		shown++;
		tv *it = tv_push(items, tv_dict(a));
		tv_set(it, "author", tv_str(a, c->nickname));
		buf_reset(&b);
		text_truncate(&b, c->body, strlen(c->body), 40);
		tv_set(it, "title", tv_strn(a, buf_cstr(&b), b.len));
		tv_set(it, "body", tv_str(a, c->body));
		/* paged comments: the link that finds the page (cpage.c) */
		tv_set(it, "link", tv_str(a, site_abs(q,
		    q->c->num[CONF_COMMENT_PER_PAGE] > 0 ?
		    arena_printf(a, "/comments/%lld", (long long)c->id) :
		    arena_printf(a, "%s#comment-%lld", path, (long long)c->id))));
		buf_reset(&b);
		text_http_date(&b, c->created_at);
		tv_set(it, "date", tv_strn(a, buf_cstr(&b), b.len));
		if (shown == 1)
			tv_set(q->root, "last_date", tv_strn(a, buf_cstr(&b), b.len));
	}
	buf_free(&b);
	http_resp_header(q->r, q->w, "Cache-Control",
	    "public, max-age=0, s-maxage=60, stale-while-revalidate=30");
	site_tag(q, TAG_ARTICLE(article_id));
	site_render_as(q, "comments_feed", 200, "application/rss+xml; charset=utf-8");
}
