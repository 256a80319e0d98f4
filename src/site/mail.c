/*
 * Reply notifications by e-mail, the site's side (src/mail/ writes and
 * sends, src/store/sqlite_mail.c keeps the rows):
 *
 *  - the e-mail field of the comment form and the JSON API, checked with
 *    the rest of a comment (comment_check), and after the writer stored
 *    the comment the subscription, in the same commit: the address sealed
 *    and blind-indexed under the mail key (a file beside the database),
 *    never in clear, never in the comments table;
 *  - double opt-in: an unconfirmed address gets a confirmation mail (a
 *    few a day per address and per poster's IP, mail.confirm_max) whose
 *    link shows a page with a button; the POST confirms;
 *  - the jobs: "mail-confirm", "mail-replies" (one address's replies of
 *    mail.batch_seconds in one mail, at most mail.daily_max a day, each
 *    mail logged by its dedup key so a retried job never sends it twice)
 *    and "mail-owner" (mail.owner_notify);
 *  - the signed links: keyed BLAKE2b under the site secret over the
 *    address row and its blind index, so a link names one address and
 *    cannot be made for another; unsubscribing is one POST to the link
 *    (RFC 8058 One-Click), no login and no form token.
 */
#include "site_int.h"

#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../mail/mail.h"

#define MAIL_DAY 86400
#define MAIL_CONFIRM_VALID (7 * MAIL_DAY) /* a confirmation link lives */
#define MAIL_BATCH_MAX 50     /* replies in one mail; more: the next one */
#define MAIL_QUOTE_CHARS 120  /* characters of the subscriber's comment */
#define MAIL_SIG_BYTES 16
#define MAIL_PAYLOAD_MAX 4096

/* ---- settings and the e-mail field ------------------------------------------- */

bool
site_mail_on(const struct site_conf *c)
{
	return *c->str[CONF_MAIL_SMTP_URL] != '\0' &&
	    *c->str[CONF_MAIL_FROM] != '\0';
}

enum cerr
site_mail_check(struct req *q, const struct comment_in *in, const char **addr)
{
	*addr = NULL;
	/* with mail off the form has no such fields: anything sent is
	 * ignored, as any undeclared field would be */
	if (!site_mail_on(q->c))
		return CE_OK;
	const char *e = in->email ? in->email : "";
	size_t n = strlen(e);
	/* white space around a pasted address is not the reader's intent */
	while (n > 0 && (*e == ' ' || *e == '\t')) {
		e++;
		n--;
	}
	while (n > 0 && (e[n - 1] == ' ' || e[n - 1] == '\t'))
		n--;
	if (n == 0)
		return in->notify ? CE_EMAIL_MISSING : CE_OK;
	if (n > MAIL_ADDR_MAX || !text_utf8_valid(e, n) ||
	    !mail_addr_check(e, n, NULL))
		return CE_EMAIL_INVALID;
	if (in->notify)
		*addr = arena_strndup(q->r->a, e, n);
	return CE_OK;
}

/* ---- signed links -------------------------------------------------------------- */

/* The signature of a link: keyed BLAKE2b-128 in hex over what it is
 * for, the address row, the blind index and the time (0: none). */
static void
mail_sig(const unsigned char key[GUARD_KEY_BYTES], const char *what,
    int64_t id, const char *blind, int64_t t, char out[MAIL_SIG_BYTES * 2 + 1])
{
	crypto_generichash_state st;
	unsigned char h[MAIL_SIG_BYTES];
	char num[48];
	crypto_generichash_init(&st, key, GUARD_KEY_BYTES, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)"kiji-mail", 10);
	crypto_generichash_update(&st, (const unsigned char *)what,
	    strlen(what) + 1);
	int len = snprintf(num, sizeof(num), "%" PRId64 ".%" PRId64, id, t);
	crypto_generichash_update(&st, (const unsigned char *)num,
	    (size_t)len + 1);
	crypto_generichash_update(&st, (const unsigned char *)blind,
	    strlen(blind));
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(out, MAIL_SIG_BYTES * 2 + 1, h, sizeof(h));
}

static const char *
mail_confirm_url(arena *a, const char *base,
    const unsigned char key[GUARD_KEY_BYTES], int64_t id, const char *blind,
    int64_t t)
{
	char sig[MAIL_SIG_BYTES * 2 + 1];
	mail_sig(key, "confirm", id, blind, t, sig);
	return arena_printf(a, "%s/mail/confirm?a=%" PRId64 "&t=%" PRId64 "&s=%s",
	    base, id, t, sig);
}

static const char *
mail_unsub_url(arena *a, const char *base,
    const unsigned char key[GUARD_KEY_BYTES], int64_t id, const char *blind)
{
	char sig[MAIL_SIG_BYTES * 2 + 1];
	mail_sig(key, "unsubscribe", id, blind, 0, sig);
	return arena_printf(a, "%s/mail/unsubscribe?a=%" PRId64 "&s=%s", base, id,
	    sig);
}

/* ---- after a post ---------------------------------------------------------------- */

/* The poster's address as a keyed hash (its rate-limit key: an IPv6
 * /64), for the confirmations-per-IP limit without keeping the IP. */
static void
mail_ip_hash(const unsigned char key[GUARD_KEY_BYTES], const char *ip,
    char out[33])
{
	char k[HTTP_IP_KEY_MAX];
	unsigned char h[16];
	const char *ik = http_ip_key(ip ? ip : "", k);
	crypto_generichash(h, sizeof(h), (const unsigned char *)ik, strlen(ik),
	    key, GUARD_KEY_BYTES);
	sodium_bin2hex(out, 33, h, sizeof(h));
}

void
site_mail_after_post(struct post *p)
{
	struct req *q = &p->q;
	const struct site_conf *c = q->c;
	store *st = q->s->st;
	const struct store_comment *cm = &p->cm;
	if (!site_mail_on(c) || (cm->status != CSTATUS_APPROVED &&
	    cm->status != CSTATUS_PENDING))
		return;
	const char *owner = c->str[CONF_MAIL_OWNER_NOTIFY];
	if (*c->str[CONF_MAIL_OWNER_ADDRESS] && (strcmp(owner, "all") == 0 ||
	    (strcmp(owner, "pending") == 0 && cm->status == CSTATUS_PENDING))) {
		char payload[64], key[64];
		snprintf(payload, sizeof(payload), "{\"comment\":%" PRId64 "}",
		    cm->id);
		snprintf(key, sizeof(key), "mail-owner:%" PRId64, cm->id);
		if (store_job_add_key(st, "mail-owner", payload, q->r->now, key,
		    NULL) != STORE_OK)
			obs_warn("mail: comment %" PRId64 ": cannot queue the "
			    "owner's mail", cm->id);
	}
	if (p->email == NULL)
		return;
	unsigned char mk[MAIL_KEY_BYTES];
	buf err, norm, sealed;
	buf_init(&err, 512);
	buf_init(&norm, MAIL_ADDR_MAX + 1);
	buf_init(&sealed, 1024);
	if (!mail_key_load(store_path(st), true, mk, &err)) {
		obs_error("mail: %s; comment %" PRId64 " is not subscribed",
		    buf_cstr(&err), cm->id);
		goto out;
	}
	if (!mail_addr_check(p->email, strlen(p->email), &norm))
		goto out; /* comment_check passed it: cannot be */
	char blind[MAIL_BLIND_HEX], iph[33];
	mail_blind(mk, buf_cstr(&norm), blind);
	mail_seal(mk, p->email, &sealed);
	mail_ip_hash(q->s->key, q->r->ip, iph);
	struct store_mail_sub in = {
		.comment_id = cm->id,
		.blind = blind,
		.sealed = sealed.ptr,
		.sealed_len = sealed.len,
		.ip_hash = iph,
		.now = q->r->now,
		.since = q->r->now - q->r->now % MAIL_DAY,
		.ask_max = c->num[CONF_MAIL_CONFIRM_MAX],
	};
	struct store_mail_sub_out o;
	enum store_err e = store_mail_subscribe(st, &in, &o);
	if (e != STORE_OK)
		obs_error("mail: comment %" PRId64 ": cannot subscribe: %s",
		    cm->id, store_strerror(e));
	sodium_memzero(mk, sizeof(mk));
out:
	buf_free(&err);
	buf_free(&norm);
	buf_free(&sealed);
}

/* ---- the jobs --------------------------------------------------------------------- */

/* What every mail job reads first. */
struct mail_job {
	store *st;
	struct site_conf *c;
	arena *a;
	enum msg_lang lang;
	unsigned char key[GUARD_KEY_BYTES];   /* the site secret: links */
	unsigned char mk[MAIL_KEY_BYTES];     /* the mail key: addresses */
	bool have_mk;
};

/* Loads the settings and keys; false (err set) when the site secret
 * cannot be read. */
static bool
mail_job_open(struct mail_job *j, store *st, bool need_mk, buf *err)
{
	memset(j, 0, sizeof(*j));
	j->st = st;
	j->c = conf_load(st);
	j->a = arena_new(0);
	j->lang = msg_lang_of(j->c->str[CONF_LANG]);
	if (!guard_secret_load(st, j->key)) {
		buf_puts(err, "cannot read the site secret");
		return false;
	}
	if (need_mk) {
		j->have_mk = mail_key_load(store_path(st), false, j->mk, err);
		if (!j->have_mk)
			return false;
	}
	return true;
}

static void
mail_job_close(struct mail_job *j)
{
	sodium_memzero(j->mk, sizeof(j->mk));
	sodium_memzero(j->key, sizeof(j->key));
	conf_free(j->c);
	arena_free(j->a);
}

/* The integer field name of a job payload; 0 when absent or malformed. */
static int64_t
mail_payload_id(const char *payload, const char *name)
{
	size_t n = payload ? strnlen(payload, MAIL_PAYLOAD_MAX + 1) : 0;
	int64_t id = 0;
	if (n == 0 || n > MAIL_PAYLOAD_MAX)
		return 0;
	json_t *root = json_loadb(payload, n, JSON_REJECT_DUPLICATES, NULL);
	json_t *v = json_object_get(root, name);
	if (json_is_integer(v) && json_integer_value(v) > 0)
		id = (int64_t)json_integer_value(v);
	json_decref(root);
	return id;
}

/* The Message-ID of the mail with dedup key k: the same on every retry
 * (a mail system that got a first copy drops a second), different for
 * every site (keyed with its secret). */
static const char *
mail_msgid(struct mail_job *j, const char *k)
{
	unsigned char h[16];
	char hex[33];
	crypto_generichash(h, sizeof(h), (const unsigned char *)k, strlen(k),
	    j->key, GUARD_KEY_BYTES);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	return arena_printf(j->a, "kiji.%s", hex);
}

/* Builds and sends one mail; the job outcome it comes to. */
static enum jobs_outcome
mail_deliver(struct mail_job *j, const char *to, const char *subject,
    const char *body, const char *dedup, const char *unsub, int64_t now,
    buf *err)
{
	const struct site_conf *c = j->c;
	struct mail_msg m = {
		.from_name = c->str[CONF_TITLE],
		.from = c->str[CONF_MAIL_FROM],
		.to = to,
		.subject = subject,
		.body = body,
		.id_left = mail_msgid(j, dedup),
		.date = now,
		.unsubscribe = unsub,
	};
	buf msg;
	buf_init(&msg, (size_t)1 << 20);
	enum jobs_outcome out = JOBS_OK;
	if (!mail_build(&m, &msg, err)) {
		out = JOBS_FAIL;
		goto done;
	}
	struct mail_smtp smtp = {
		.url = c->str[CONF_MAIL_SMTP_URL],
		.user = c->str[CONF_MAIL_SMTP_USER],
		.password = c->str[CONF_MAIL_SMTP_PASSWORD],
	};
	switch (mail_send(&smtp, m.from, to, msg.ptr, msg.len, err)) {
	case MAIL_OK: break;
	case MAIL_TEMP: out = JOBS_RETRY; break;
	default: out = JOBS_FAIL; break;
	}
done:
	buf_free(&msg);
	return out;
}

/* The subscriber's address in clear, for the one mail being written. */
static const char *
mail_unseal_addr(struct mail_job *j, const struct store_mail_address *ad)
{
	buf b;
	buf_init(&b, MAIL_ADDR_MAX + 1);
	const char *addr = NULL;
	if (mail_unseal(j->mk, ad->sealed, ad->sealed_len, &b) &&
	    mail_addr_check(b.ptr, b.len, NULL))
		addr = arena_strndup(j->a, b.ptr, b.len);
	sodium_memzero(b.ptr, b.cap);
	buf_free(&b);
	return addr;
}

/* "mail-confirm" {"address":A,"ask":L}: the confirmation mail of an
 * address not yet confirmed. */
enum jobs_outcome
site_job_mail_confirm(store *st, const char *payload, int64_t now, buf *err)
{
	int64_t id = mail_payload_id(payload, "address");
	int64_t ask = mail_payload_id(payload, "ask");
	if (id == 0 || ask == 0) {
		buf_puts(err, "payload is not {\"address\": ID, \"ask\": N}");
		return JOBS_FAIL;
	}
	struct mail_job j;
	enum jobs_outcome out = JOBS_OK;
	struct store_mail_address ad;
	bool sent = false;
	if (!mail_job_open(&j, st, true, err)) {
		out = JOBS_RETRY;
		goto done;
	}
	if (!site_mail_on(j.c)) {
		buf_puts(err, "mail is off (mail.smtp_url, mail.from)");
		out = JOBS_FAIL;
		goto done;
	}
	enum store_err e = store_mail_address_get(st, id, j.a, &ad);
	if (e == STORE_NOTFOUND || (e == STORE_OK && (ad.confirmed_at ||
	    ad.unsubscribed_at)))
		goto done; /* nothing left to confirm */
	const char *key = arena_printf(j.a, "confirm:%" PRId64, ask);
	if (e == STORE_OK)
		e = store_mail_logged(st, key, &sent);
	if (e != STORE_OK) {
		buf_puts(err, "database busy");
		out = JOBS_RETRY;
		goto done;
	}
	if (sent)
		goto done;
	const char *to = mail_unseal_addr(&j, &ad);
	if (to == NULL) {
		buf_puts(err, "the address does not open with this mail key");
		out = JOBS_FAIL;
		goto done;
	}
	const char *title = j.c->str[CONF_TITLE];
	const char *url = mail_confirm_url(j.a, j.c->str[CONF_BASE_URL], j.key,
	    id, ad.blind, now);
	const char *subject, *body;
	if (j.lang == LANG_EN) {
		subject = arena_printf(j.a, "[%s] Please confirm your address",
		    title);
		body = arena_printf(j.a, "A comment on \"%s\" asked for replies "
		    "to be sent to this address.\n\nOpen this link and press the "
		    "button to confirm (valid for 7 days):\n%s\n\nIf that was "
		    "not you, ignore this mail: nothing is sent to this address "
		    "unless it is confirmed.\n", title, url);
	} else {
		subject = arena_printf(j.a, "[%s] メールアドレスの確認", title);
		body = arena_printf(j.a, "「%s」へのコメントで、返信をこのアドレス"
		    "で受け取る設定がされました。\n\n次のリンクを開き、表示される"
		    "ボタンを押すと確認が完了します（7日間有効）。\n%s\n\n"
		    "お心当たりがない場合は、このメールを破棄してください。確認"
		    "されない限り、このアドレスにメールは送られません。\n", title,
		    url);
	}
	out = mail_deliver(&j, to, subject, body, key, NULL, now, err);
	if (out == JOBS_OK && store_mail_log(st, "confirm", key, id, now) !=
	    STORE_OK)
		obs_warn("mail: confirmation %" PRId64 " sent but not logged",
		    ask);
done:
	mail_job_close(&j);
	return out;
}

/* Adds the address's batch job again at run_at (the window is not over,
 * or today's mails are spent). */
static enum jobs_outcome
mail_later(store *st, int64_t id, int64_t run_at, buf *err)
{
	char payload[64], key[96];
	snprintf(payload, sizeof(payload), "{\"address\":%" PRId64 "}", id);
	snprintf(key, sizeof(key), "mail-replies:%" PRId64 ":t%" PRId64, id,
	    run_at);
	if (store_job_add_key(st, "mail-replies", payload, run_at, key, NULL) !=
	    STORE_OK) {
		buf_puts(err, "database busy");
		return JOBS_RETRY;
	}
	return JOBS_OK;
}

/* The mail of a batch of replies: each reply's author, text and link,
 * what it answered, and how to stop. */
static void
mail_replies_text(struct mail_job *j, const struct store_mail_reply *rs,
    size_t n, const char *unsub, const char **subject, const char **body)
{
	const char *title = j->c->str[CONF_TITLE];
	const char *base = j->c->str[CONF_BASE_URL];
	bool en = j->lang == LANG_EN;
	size_t shown = 0;
	buf b, cut;
	buf_init(&b, (size_t)1 << 20);
	buf_init(&cut, 4096);
	for (size_t i = 0; i < n; i++) {
		const struct store_mail_reply *r = &rs[i];
		if (r->skip)
			continue;
		if (shown++ == 0)
			*subject = arena_printf(j->a, en ? "[%s] %s replied to your "
			    "comment" : "[%s] %sさんからコメントに返信がありました",
			    title, r->nickname);
		buf_reset(&cut);
		text_truncate(&cut, r->parent_body, strlen(r->parent_body),
		    MAIL_QUOTE_CHARS);
		buf_printf(&b, en ? "%s replied on \"%s\"\n" :
		    "%sさんから返信がありました（%s）\n", r->nickname,
		    r->article_title);
		buf_printf(&b, en ? "> Your comment: %s\n\n" :
		    "> あなたのコメント: %s\n\n", buf_cstr(&cut));
		buf_puts(&b, r->body);
		buf_printf(&b, "\n\n%s/articles/%" PRId64 "#comment-%" PRId64
		    "\n\n----\n", base, r->article_id, r->comment_id);
	}
	if (shown > 1)
		*subject = arena_printf(j->a, en ? "[%s] %zu replies to your "
		    "comments" : "[%s] コメントに%zu件の返信がありました", title,
		    shown);
	buf_printf(&b, en ? "You get this mail because you asked for replies "
	    "to your comments on %s.\nUnsubscribe: %s\n" :
	    "%s でコメントへの返信の通知を希望されたため、このメールをお送り"
	    "しています。\n配信停止: %s\n", title, unsub);
	*body = arena_strndup(j->a, buf_cstr(&b), b.len);
	buf_free(&b);
	buf_free(&cut);
}

/* "mail-replies" {"address":A}: the replies waiting for one address, in
 * one mail once the oldest has waited mail.batch_seconds, within
 * mail.daily_max mails a day (UTC). */
enum jobs_outcome
site_job_mail_replies(store *st, const char *payload, int64_t now, buf *err)
{
	int64_t id = mail_payload_id(payload, "address");
	if (id == 0) {
		buf_puts(err, "payload is not {\"address\": ID}");
		return JOBS_FAIL;
	}
	struct mail_job j;
	enum jobs_outcome out = JOBS_OK;
	struct store_mail_address ad;
	struct store_mail_reply *rs = NULL;
	size_t n = 0, live = 0;
	if (!mail_job_open(&j, st, true, err)) {
		out = JOBS_RETRY;
		goto done;
	}
	enum store_err e = store_mail_address_get(st, id, j.a, &ad);
	if (e == STORE_NOTFOUND)
		goto done;
	if (e == STORE_OK)
		e = store_mail_waiting(st, id, MAIL_BATCH_MAX, j.a, &rs, &n);
	if (e != STORE_OK)
		goto busy;
	int64_t last = n ? rs[n - 1].queue_id : 0, oldest = 0;
	for (size_t i = 0; i < n; i++)
		if (!rs[i].skip && live++ == 0)
			oldest = rs[i].queued_at;
	/* nothing to send (mail turned off, unsubscribed, replies gone):
	 * what waited is dropped and the batch closed */
	if (live == 0 || !site_mail_on(j.c) || ad.unsubscribed_at ||
	    !ad.confirmed_at) {
		if (store_mail_batch_done(st, id, last, NULL, now) != STORE_OK)
			goto busy;
		goto done;
	}
	int64_t due = oldest + j.c->num[CONF_MAIL_BATCH];
	if (now < due) {
		out = mail_later(st, id, due, err);
		goto done;
	}
	int64_t today = now - now % MAIL_DAY, sent_today = 0;
	if (store_mail_sent_count(st, id, "reply", today, &sent_today) !=
	    STORE_OK)
		goto busy;
	if (sent_today >= j.c->num[CONF_MAIL_DAILY_MAX]) {
		out = mail_later(st, id, today + MAIL_DAY, err);
		goto done;
	}
	const char *key = arena_printf(j.a, "reply:%" PRId64 ":%" PRId64, id,
	    last);
	bool sent = false;
	if (store_mail_logged(st, key, &sent) != STORE_OK)
		goto busy;
	if (!sent) {
		const char *to = mail_unseal_addr(&j, &ad);
		if (to == NULL) {
			buf_puts(err, "the address does not open with this mail "
			    "key");
			out = JOBS_FAIL;
			goto done;
		}
		const char *unsub = mail_unsub_url(j.a, j.c->str[CONF_BASE_URL],
		    j.key, id, ad.blind);
		const char *subject = "", *body = "";
		mail_replies_text(&j, rs, n, unsub, &subject, &body);
		out = mail_deliver(&j, to, subject, body, key, unsub, now, err);
		if (out != JOBS_OK)
			goto done;
	}
	/* sent (now or by an earlier run of this job): logged, done */
	if (store_mail_batch_done(st, id, last, sent ? NULL : key, now) !=
	    STORE_OK) {
		obs_warn("mail: %s sent but not recorded", key);
		goto busy;
	}
	goto done;
busy:
	buf_puts(err, "database busy");
	out = JOBS_RETRY;
done:
	mail_job_close(&j);
	return out;
}

/* "mail-owner" {"comment":C}: the site owner's mail about a new (or
 * pending) comment. */
enum jobs_outcome
site_job_mail_owner(store *st, const char *payload, int64_t now, buf *err)
{
	int64_t cid = mail_payload_id(payload, "comment");
	if (cid == 0) {
		buf_puts(err, "payload is not {\"comment\": ID}");
		return JOBS_FAIL;
	}
	struct mail_job j;
	enum jobs_outcome out = JOBS_OK;
	struct store_comment cm = {0};
	struct store_article art = {0};
	bool sent = false;
	if (!mail_job_open(&j, st, false, err)) {
		out = JOBS_RETRY;
		goto done;
	}
	const char *to = j.c->str[CONF_MAIL_OWNER_ADDRESS];
	if (!site_mail_on(j.c) || *to == '\0')
		goto done; /* turned off meanwhile */
	const char *key = arena_printf(j.a, "owner:%" PRId64, cid);
	enum store_err e = store_mail_logged(st, key, &sent);
	if (e == STORE_OK && !sent)
		e = store_comment_get(st, cid, j.a, &cm);
	if (e == STORE_OK && !sent)
		e = store_article_get_any(st, cm.article_id, j.a, &art);
	if (e == STORE_NOTFOUND || sent)
		goto done; /* deleted meanwhile, or sent */
	if (e != STORE_OK) {
		buf_puts(err, "database busy");
		out = JOBS_RETRY;
		goto done;
	}
	bool en = j.lang == LANG_EN, pending = cm.status == CSTATUS_PENDING;
	const char *title = j.c->str[CONF_TITLE];
	const char *base = j.c->str[CONF_BASE_URL];
	const char *subject = en ? arena_printf(j.a, "[%s] %s comment on "
	    "\"%s\"", title, pending ? "Pending" : "New", art.title) :
	    arena_printf(j.a, "[%s] 「%s」に%sコメント", title, art.title,
	    pending ? "承認待ちの" : "新しい");
	const char *link = arena_printf(j.a, "%s/articles/%" PRId64
	    "#comment-%" PRId64, base, art.id, cm.id);
	const char *queue = !pending ? "" : arena_printf(j.a, "%s%s/admin/"
	    "comments\n", en ? "Moderation: " : "承認待ち一覧: ", base);
	const char *body = arena_printf(j.a, en ? "%s wrote on \"%s\":\n\n"
	    "%s\n\n%s\n%s" : "%sさんが「%s」にコメントしました:\n\n%s\n\n%s\n%s",
	    cm.nickname, art.title, cm.body, link, queue);
	out = mail_deliver(&j, to, subject, body, key, NULL, now, err);
	if (out == JOBS_OK && store_mail_log(st, "owner", key, 0, now) !=
	    STORE_OK)
		obs_warn("mail: %s sent but not logged", key);
done:
	mail_job_close(&j);
	return out;
}

/* ---- the links' pages --------------------------------------------------------------- */

/* The page of a link: what it does, and (before acting) its button. */
static void
mail_page(struct req *q, int status, const char *title, const char *text,
    const char *button, const char *url)
{
	arena *a = q->r->a;
	site_view_base(q, title, NULL);
	tv_set_bool(a, q->root, "noindex", true);
	tv *d = tv_set(q->root, "action", tv_dict(a));
	tv_set(d, "title", tv_str(a, title));
	tv_set(d, "text", tv_str(a, text));
	if (button) {
		tv_set(d, "button", tv_str(a, button));
		tv_set(d, "url", tv_str(a, url));
	}
	http_resp_header(q->r, q->w, "Cache-Control", "no-store");
	/* the link's signature must not travel on to another site */
	http_resp_header(q->r, q->w, "Referrer-Policy", "no-referrer");
	site_render(q, "mail_action", status);
}

/* A decimal argument; -1 when absent or malformed. */
static int64_t
mail_arg_num(struct req *q, const char *name)
{
	const char *s = http_req_arg(q->r, name);
	int64_t v = 0;
	if (s == NULL || *s == '\0' || strlen(s) > 18)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

/* The address a signed link names, when its signature holds. */
static bool
mail_link_check(struct req *q, const char *what, int64_t id, int64_t t,
    struct store_mail_address *ad)
{
	const char *sig = http_req_arg(q->r, "s");
	char want[MAIL_SIG_BYTES * 2 + 1];
	if (id <= 0 || t < 0 || sig == NULL || strlen(sig) != sizeof(want) - 1)
		return false;
	if (store_mail_address_get(q->s->st, id, q->r->a, ad) != STORE_OK)
		return false;
	mail_sig(q->s->key, what, id, ad->blind, t, want);
	return sodium_memcmp(want, sig, sizeof(want) - 1) == 0;
}

static void
mail_bad_link(struct req *q, bool en)
{
	mail_page(q, 403, en ? "Invalid link" : "無効なリンクです",
	    en ? "This link is not valid (it may have been cut or changed). "
	    "Open the link from the mail as it is." :
	    "このリンクは正しくありません（途中で切れたか、変更された可能性が"
	    "あります）。メールにあるリンクをそのまま開いてください。", NULL,
	    NULL);
}

void
site_mail_confirm(struct req *q)
{
	bool en = q->lang == LANG_EN;
	int64_t id = mail_arg_num(q, "a"), t = mail_arg_num(q, "t");
	struct store_mail_address ad;
	if (!mail_link_check(q, "confirm", id, t, &ad)) {
		mail_bad_link(q, en);
		return;
	}
	if (ad.confirmed_at) {
		mail_page(q, 200, en ? "Address confirmed" :
		    "確認済みです", en ? "This address is confirmed: replies to "
		    "your comments will be mailed to it." : "このアドレスは確認"
		    "済みです。コメントへの返信がメールで届きます。", NULL, NULL);
		return;
	}
	if (q->r->now - t > MAIL_CONFIRM_VALID || t > q->r->now + 3600 ||
	    ad.unsubscribed_at) {
		mail_page(q, 410, en ? "Link expired" : "リンクの有効期限切れ",
		    en ? "This confirmation link has expired. Post a comment with "
		    "the box ticked again to get a new one." : "この確認リンクは"
		    "有効期限が切れています。もう一度チェックを入れてコメントする"
		    "と、新しい確認メールが届きます。", NULL, NULL);
		return;
	}
	if (q->r->method != HTTP_POST) {
		const char *url = arena_printf(q->r->a, "/mail/confirm?a=%" PRId64
		    "&t=%" PRId64 "&s=%s", id, t, http_req_arg(q->r, "s"));
		mail_page(q, 200, en ? "Confirm your address" :
		    "メールアドレスの確認", en ? "Press the button to get "
		    "replies to your comments by mail." : "ボタンを押すと、"
		    "コメントへの返信がメールで届くようになります。", en ?
		    "Confirm" : "確認する", url);
		return;
	}
	if (store_mail_confirm(q->s->st, id, q->r->now, NULL) != STORE_OK) {
		site_error(q, 503);
		return;
	}
	mail_page(q, 200, en ? "Address confirmed" : "確認しました",
	    en ? "Done: replies to your comments will be mailed to you. Every "
	    "mail has a link to stop them." : "確認が完了しました。コメントへの"
	    "返信がメールで届きます。配信はメール内のリンクからいつでも停止"
	    "できます。", NULL, NULL);
}

void
site_mail_unsubscribe(struct req *q)
{
	bool en = q->lang == LANG_EN;
	int64_t id = mail_arg_num(q, "a");
	struct store_mail_address ad;
	if (!mail_link_check(q, "unsubscribe", id, 0, &ad)) {
		mail_bad_link(q, en);
		return;
	}
	if (q->r->method != HTTP_POST) {
		if (ad.unsubscribed_at) {
			mail_page(q, 200, en ? "Unsubscribed" : "配信停止済み",
			    en ? "No more mails go to this address." :
			    "このアドレスへの配信は停止しています。", NULL, NULL);
			return;
		}
		const char *url = arena_printf(q->r->a, "/mail/unsubscribe?a=%"
		    PRId64 "&s=%s", id, http_req_arg(q->r, "s"));
		mail_page(q, 200, en ? "Stop reply mails" : "返信通知の配信停止",
		    en ? "Press the button to stop all reply mails to this "
		    "address." : "ボタンを押すと、このアドレスへの返信通知メールを"
		    "すべて停止します。", en ? "Unsubscribe" : "配信を停止する",
		    url);
		return;
	}
	/* RFC 8058: this POST is the whole act (its body says
	 * "List-Unsubscribe=One-Click" or nothing we need) */
	if (store_mail_unsubscribe(q->s->st, id, q->r->now, NULL) != STORE_OK) {
		site_error(q, 503);
		return;
	}
	mail_page(q, 200, en ? "Unsubscribed" : "配信を停止しました",
	    en ? "No more mails go to this address. Ticking the box on a new "
	    "comment asks for them again." : "このアドレスへの配信を停止しました。"
	    "再開するには、チェックを入れてコメントしてください（確認メールが届き"
	    "ます）。", NULL, NULL);
}
