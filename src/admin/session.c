/*
 * Logging in and out. A session is a 256-bit random id in an HttpOnly
 * cookie; the database keeps only its SHA-256, so a leaked copy of the
 * database logs nobody in. Sessions end when idle too long, when too old,
 * when the account is disabled or its password changes (cred_epoch).
 *
 * Password guessing is throttled per (account, address) and per address,
 * counted in login_failures: past a few failures each further attempt
 * must wait a delay that doubles with every failure (429 + Retry-After),
 * and no hash is computed while waiting. The editor at another address
 * has keys of their own and is never locked out by someone else's loop.
 */
#include "admin_int.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define SID_BYTES 32           /* 256-bit session ids and CSRF tokens */
#define SID_CHARS 43           /* their base64url length, unpadded */
#define TOUCH_EVERY 60         /* seen_at is written at most this often */
#define THROTTLE_ACCOUNT 5     /* failures per account+address before delays */
#define THROTTLE_ADDRESS 20    /* failures per address before delays */
#define THROTTLE_BASE 30       /* first delay, seconds; doubles after */
#define THROTTLE_MAX 3600      /* longest delay */
#define THROTTLE_FORGET (24 * 3600) /* a quiet day forgets the failures */

/* A fresh random 256-bit value as base64url (SID_CHARS + NUL). */
static void
session_random(char out[SID_CHARS + 1])
{
	unsigned char b[SID_BYTES];
	randombytes_buf(b, sizeof(b));
	sodium_bin2base64(out, SID_CHARS + 1, b, sizeof(b),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(b, sizeof(b));
}

/* What the database keeps of a session id: its SHA-256 in hex. */
static void
session_hash(const char *sid, char out[crypto_hash_sha256_BYTES * 2 + 1])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)sid, strlen(sid));
	sodium_bin2hex(out, crypto_hash_sha256_BYTES * 2 + 1, h, sizeof(h));
}

static bool
session_https(const struct admin_req *q)
{
	return strncmp(q->conf.base_url, "https://", 8) == 0;
}

static void
session_cookie_clear(struct admin_req *q)
{
	http_resp_cookie_secure(q->r, q->w, ADMIN_SESSION_COOKIE, "x", -1,
	    session_https(q));
}

/* Whether s looks like one of our ids (length and alphabet), so junk
 * cookies cost no database read. */
static bool
session_id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n != SID_CHARS)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return false;
	return true;
}

void
admin_session_load(struct admin_req *q)
{
	const char *ck = http_req_cookie(q->r, ADMIN_SESSION_COOKIE);
	if (ck == NULL)
		return;
	if (!session_id_ok(ck)) {
		session_cookie_clear(q);
		return;
	}
	char hash[crypto_hash_sha256_BYTES * 2 + 1];
	session_hash(ck, hash);
	struct store_session s;
	enum store_err e = store_session_get(q->ad->st, hash, q->a, &s);
	if (e != STORE_OK) {
		/* Gone: ended elsewhere or swept after expiring. */
		if (e == STORE_NOTFOUND) {
			session_cookie_clear(q);
			q->expired = true;
		}
		return;
	}
	int64_t now = q->r->now;
	if (s.stale || s.disabled || now - s.seen_at > q->conf.session_idle ||
	    now - s.created_at > q->conf.session_max) {
		store_session_delete(q->ad->st, hash);
		session_cookie_clear(q);
		q->expired = true;
		return;
	}
	q->logged_in = true;
	q->user = (struct admin_user){
		.id = s.user_id,
		.name = s.name,
		.display_name = s.display_name,
		.role = s.role,
	};
	q->csrf = s.csrf;
	q->sid_hash = arena_strdup(q->a, hash);
	if (now - s.seen_at >= TOUCH_EVERY)
		store_session_touch(q->ad->st, hash, now);
}

/* ---- throttling ---------------------------------------------------------------- */

/* Seconds the next attempt on key must still wait (0: go ahead). */
static int64_t
throttle_wait(struct admin_req *q, const char *key, int64_t threshold)
{
	int64_t failures = 0, last = 0, now = q->r->now;
	if (store_login_failures(q->ad->st, key, &failures, &last) != STORE_OK ||
	    failures < threshold || last < now - THROTTLE_FORGET)
		return 0;
	int64_t step = failures - threshold;
	int64_t delay = step >= 7 ? THROTTLE_MAX : (int64_t)THROTTLE_BASE << step;
	if (delay > THROTTLE_MAX)
		delay = THROTTLE_MAX;
	int64_t left = last + delay - now;
	return left > 0 ? left : 0;
}

/* The throttle's keys: account+address (the name folded to lower case
 * and cut, as login names are) and the address alone; the address as
 * every rate limit takes it (http_ip_key: an IPv6 /64 is one address). */
static void
throttle_keys(struct admin_req *q, const char *name, const char **ka,
    const char **ki)
{
	char low[ACCOUNT_NAME_MAX + 1];
	size_t n = 0;
	for (; name[n] && n < ACCOUNT_NAME_MAX; n++)
		low[n] = (name[n] >= 'A' && name[n] <= 'Z') ? (char)(name[n] + 32) :
		    name[n];
	low[n] = '\0';
	char key[HTTP_IP_KEY_MAX];
	http_ip_key(q->r->ip, key);
	*ka = arena_printf(q->a, "a:%s|%s", low, key);
	*ki = arena_printf(q->a, "i:%s", key);
}

/* ---- pages ---------------------------------------------------------------------- */

/* The login form, with msg (AMSG__MAX: none) and the name typed. */
static void
login_form(struct admin_req *q, enum admin_msg msg, const char *name,
    int status)
{
	admin_view(q, admin_msg(q, AMSG_LOGIN));
	if (msg != AMSG__MAX)
		admin_form_error(q, msg);
	tv_set_str(q->a, q->root, "name", name);
	admin_render(q, "admin_login", status);
}

/* GET /admin/login: the form, or the dashboard when logged in already. */
ADMIN_HANDLER(admin_page_login_form)
{
	struct admin_req *q = qv;
	(void)m;
	if (q->logged_in) {
		http_resp_redirect(q->r, q->w, 303, "/admin/");
		return;
	}
	login_form(q, AMSG__MAX, "", 200);
}

/* A login while its password is being checked elsewhere. */
struct login_wait {
	struct admin_req q;   /* a copy: the handler's frame is gone by then */
	const char *name, *ka, *ki;
	struct store_user u;
	enum account_err e;
};

/* A login whose password check is done (lw->e, lw->u): the session, or
 * the form again with the one generic message. */
static void
login_checked(void *ctx)
{
	struct login_wait *lw = ctx;
	struct admin_req *q = &lw->q;
	const char *name = lw->name, *ka = lw->ka, *ki = lw->ki;
	enum account_err e = lw->e;
	struct store_user u = lw->u;

	if (e == ACCOUNT_HASH || e == ACCOUNT_STORE) {
		admin_error(q, 503);
		return;
	}
	if (e != ACCOUNT_OK) {
		int64_t now = q->r->now;
		store_login_fail(q->ad->st, ka, now, now - THROTTLE_FORGET);
		store_login_fail(q->ad->st, ki, now, now - THROTTLE_FORGET);
		login_form(q, AMSG_LOGIN_FAILED, name, 200);
		return;
	}
	char sid[SID_CHARS + 1], csrf[SID_CHARS + 1];
	char hash[crypto_hash_sha256_BYTES * 2 + 1];
	session_random(sid);
	session_random(csrf);
	session_hash(sid, hash);
	const char *ua = http_req_header(q->r, "User-Agent");
	buf uab;
	buf_init(&uab, 1024);
	text_truncate(&uab, ua && text_utf8_valid(ua, strlen(ua)) ? ua : "",
	    ua && text_utf8_valid(ua, strlen(ua)) ? strlen(ua) : 0, 200);
	enum store_err se = store_session_add(q->ad->st, hash, u.id, csrf,
	    q->r->now, q->r->ip, buf_cstr(&uab));
	buf_free(&uab);
	if (se != STORE_OK) {
		admin_error(q, 503);
		return;
	}
	store_login_clear(q->ad->st, ka);
	/* A new login never keeps an old id (fixation): drop it. */
	if (q->sid_hash)
		store_session_delete(q->ad->st, q->sid_hash);
	http_resp_cookie_secure(q->r, q->w, ADMIN_SESSION_COOKIE, sid,
	    q->conf.session_max, session_https(q));
	sodium_memzero(sid, sizeof(sid));
	http_resp_redirect(q->r, q->w, 303, "/admin/");
}

/*
 * POST /admin/login. A refusal is the form again with one message for
 * every cause (status 200), so nobody learns which names exist; while a
 * key waits out its delay the answer is 429 with Retry-After and no
 * password is checked at all.
 */
ADMIN_HANDLER(admin_page_login)
{
	struct admin_req *q = qv;
	(void)m;
	const char *name = admin_field(q, "name");
	const char *pass = admin_field(q, "password");
	const char *ka, *ki;
	throttle_keys(q, name, &ka, &ki);
	int64_t wait = throttle_wait(q, ka, THROTTLE_ACCOUNT);
	int64_t wi = throttle_wait(q, ki, THROTTLE_ADDRESS);
	if (wi > wait)
		wait = wi;
	if (wait > 0) {
		http_resp_header(q->r, q->w, "Retry-After",
		    arena_printf(q->a, "%lld", (long long)wait));
		login_form(q, AMSG_LOGIN_THROTTLED, name, 429);
		return;
	}
	/* The check runs on a verifier thread; the request waits suspended
	 * and login_checked finishes it here, on its own thread. */
	struct login_wait *lw = arena_alloc(q->a, sizeof(*lw));
	lw->q = *q;
	lw->name = name;
	lw->ka = ka;
	lw->ki = ki;
	switch (admin_verify_async(q->ad->verifier, q->r, q->ad->st, name,
	    pass, &lw->u, &lw->e, login_checked, lw)) {
	case VERIFY_QUEUED:
		return;
	case VERIFY_BUSY:
		http_resp_header(q->r, q->w, "Retry-After", "5");
		login_form(q, AMSG_LOGIN_THROTTLED, name, 429);
		return;
	case VERIFY_INLINE:
		break;
	}
	lw->e = account_verify(q->ad->st, name, pass, q->a, &lw->u);
	login_checked(lw);
}

/* POST /admin/logout: the session row goes, so the cookie is worthless
 * even if it was copied. */
ADMIN_HANDLER(admin_page_logout)
{
	struct admin_req *q = qv;
	(void)m;
	if (q->sid_hash)
		store_session_delete(q->ad->st, q->sid_hash);
	session_cookie_clear(q);
	q->logged_in = false;
	admin_redirect(q, "/admin/login", AMSG_LOGGED_OUT, 0);
}
