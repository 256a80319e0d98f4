/*
 * The editor area's dispatch and the helpers its pages share: the checks
 * a route's flags ask for (session, role, CSRF token, same origin), run
 * once before any handler; the layout's view model; rendering, redirects
 * with flash messages, error pages; form value helpers.
 */
#include "admin_int.h"
#include "../obs/obs.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN_FLASH_COOKIE "kiji_flash"
#define ADMIN_PRUNE_EVERY 600 /* seconds between sweeps of dead sessions */
#define ADMIN_FAILURE_FORGET (24 * 3600) /* login failures kept this long */

admin *
admin_new(store *st, const tmpl_set *t, const struct admin_hooks *hooks)
{
	/* libsodium's random source and hashes; safe to call again. */
	if (sodium_init() < 0)
		return NULL;
	admin *ad = xcalloc(1, sizeof(*ad));
	ad->st = st;
	ad->tmpl = t;
	ad->hooks = *hooks;
	ad->verifier = admin_verifier_new();
	return ad;
}

void
admin_quiesce(admin *ad)
{
	if (ad != NULL)
		admin_verifier_stop(ad->verifier);
}

void
admin_free(admin *ad)
{
	if (ad == NULL)
		return;
	admin_verifier_free(ad->verifier);
	free(ad);
}

const char *
admin_msg(const struct admin_req *q, enum admin_msg id)
{
	return admin_msg_get(q->lang, id);
}

/* Roles are ordered admin < editor < author in enum store_role. */
bool
admin_role_at_least(const struct admin_req *q, enum store_role role)
{
	return q->logged_in && q->user.role <= role;
}

/* Whether the site is served over https (cookies get Secure). */
static bool
admin_https(const struct admin_req *q)
{
	return strncmp(q->conf.base_url, "https://", 8) == 0;
}

/* Drops sessions past their expiry and forgotten login failures, at most
 * every ADMIN_PRUNE_EVERY seconds (whichever thread comes first). */
static void
admin_prune(struct admin_req *q)
{
	int64_t now = q->r->now;
	int64_t last = __atomic_load_n(&q->ad->pruned_at, __ATOMIC_RELAXED);
	if (now - last < ADMIN_PRUNE_EVERY ||
	    !__atomic_compare_exchange_n(&q->ad->pruned_at, &last, now, false,
		__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	store_sessions_prune(q->ad->st, now - q->conf.session_idle,
	    now - q->conf.session_max);
	store_login_prune(q->ad->st, now - ADMIN_FAILURE_FORGET);
}

/* The session's token against the form's, in constant time. */
static bool
admin_csrf_ok(const struct admin_req *q)
{
	const char *t = http_req_field(q->r, ADMIN_CSRF_FIELD);
	if (t == NULL || q->csrf == NULL)
		return false;
	size_t n = strlen(q->csrf);
	return n > 0 && strlen(t) == n && sodium_memcmp(t, q->csrf, n) == 0;
}

/*
 * The one gate of the editor area. Every answer is no-store. A POST must
 * come from the site's own pages (same origin; with neither Origin nor
 * Sec-Fetch-Site only the login form passes, its guard being the
 * throttle), then the route's flags decide: a session, a role, the
 * session's CSRF token. Only then does the handler run.
 */
void
admin_handle(admin *ad, struct http_req *r, struct http_resp *w)
{
	struct admin_req q = {.ad = ad, .r = r, .w = w, .a = r->a};
	ad->hooks.conf(ad->hooks.ctx, &q.conf);
	q.lang = strcmp(q.conf.lang, "en") == 0 ? ALANG_EN : ALANG_JA;
	http_resp_header(r, w, "Cache-Control", "no-store");
	http_resp_header(r, w, "X-Robots-Tag", "noindex");
	const struct http_route *rt = r->route;
	unsigned f = rt->flags;
	if (f & (HTTP_RF_EDITOR | HTTP_RF_ADMIN))
		f |= HTTP_RF_LOGIN;
	admin_prune(&q);
	admin_session_load(&q);
	if (r->method == HTTP_POST && !http_same_origin(r, q.conf.base_url,
	    q.conf.origin_allow, (f & HTTP_RF_CSRF) != 0)) {
		admin_error(&q, 403);
		return;
	}
	if ((f & HTTP_RF_LOGIN) && !q.logged_in) {
		if (r->method == HTTP_POST)
			admin_error(&q, 403);
		else
			admin_redirect(&q, "/admin/login", q.expired ? AMSG_EXPIRED :
			    AMSG__MAX, 0);
		return;
	}
	if (((f & HTTP_RF_ADMIN) && !admin_role_at_least(&q, ROLE_ADMIN)) ||
	    ((f & HTTP_RF_EDITOR) && !admin_role_at_least(&q, ROLE_EDITOR))) {
		admin_error(&q, 403);
		return;
	}
	if ((f & HTTP_RF_CSRF) && !admin_csrf_ok(&q)) {
		admin_error(&q, 403);
		return;
	}
	rt->fn(&q, &r->match);
}

/* ---- view model ------------------------------------------------------------- */

struct admin_nav {
	const char *path;
	enum admin_msg label;
	enum store_role role; /* the least role that may open it */
	const char *also;     /* another path prefix that marks it current */
};

static const struct admin_nav admin_nav[] = {
	{"/admin/articles", AMSG_ARTICLES, ROLE_AUTHOR, NULL},
	{"/admin/media", AMSG_MEDIA, ROLE_AUTHOR, NULL},
	{"/admin/comments", AMSG_COMMENTS, ROLE_EDITOR, "/admin/bans"},
	{"/admin/categories", AMSG_TAXONOMY, ROLE_EDITOR, "/admin/tags"},
	{"/admin/redirects", AMSG_REDIRECTS, ROLE_EDITOR, NULL},
	{"/admin/pings", AMSG_PINGS, ROLE_EDITOR, NULL},
	{"/admin/settings", AMSG_SETTINGS, ROLE_ADMIN, NULL},
	{"/admin/users", AMSG_USERS, ROLE_ADMIN, NULL},
};

/* Whether path is prefix or below it. */
static bool
admin_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' ||
	    path[n] == '/');
}

/* The flash message of the previous POST (one-shot cookie "key" or
 * "key.N"), cleared as it is shown. */
static void
admin_flash(struct admin_req *q)
{
	const char *ck = http_req_cookie(q->r, ADMIN_FLASH_COOKIE);
	if (ck == NULL)
		return;
	http_resp_cookie_secure(q->r, q->w, ADMIN_FLASH_COOKIE, "x", -1,
	    admin_https(q));
	char key[64];
	size_t kn = strcspn(ck, ".");
	if (kn == 0 || kn >= sizeof(key))
		return;
	memcpy(key, ck, kn);
	key[kn] = '\0';
	enum admin_msg id = admin_msg_find(key);
	if (id == AMSG__MAX)
		return;
	long long n = ck[kn] == '.' ? strtoll(ck + kn + 1, NULL, 10) : 0;
	tv_set(q->root, "flash", tv_str(q->a, n > 0 ? arena_printf(q->a,
	    "%s（%lld）", admin_msg(q, id), n) : admin_msg(q, id)));
}

void
admin_view(struct admin_req *q, const char *title)
{
	arena *a = q->a;
	q->root = tv_dict(a);
	tv *site = tv_set(q->root, "site", tv_dict(a));
	tv_set_str(a, site, "title", q->conf.site_title);
	tv_set_str(a, site, "lang", q->lang == ALANG_EN ? "en" : "ja");
	tv_set_str(a, site, "static_v", q->conf.static_v);
	tv *m = tv_set(q->root, "m", tv_dict(a));
	for (int i = 0; i < AMSG__MAX; i++)
		tv_set(m, admin_msg_key((enum admin_msg)i),
		    tv_str_nocopy(a, admin_msg(q, (enum admin_msg)i),
			strlen(admin_msg(q, (enum admin_msg)i))));
	tv_set_str(a, q->root, "page_title", title && *title ?
	    arena_printf(a, "%s | %s", title, admin_msg(q, AMSG_ADMIN)) :
	    admin_msg(q, AMSG_ADMIN));
	tv_set_str(a, q->root, "heading", title ? title : "");
	if (q->logged_in) {
		tv *u = tv_set(q->root, "user", tv_dict(a));
		tv_set_int(a, u, "id", q->user.id);
		tv_set_str(a, u, "name", q->user.name);
		tv_set_str(a, u, "display_name", q->user.display_name);
		tv_set_bool(a, u, "is_admin", admin_role_at_least(q, ROLE_ADMIN));
		tv_set_bool(a, u, "is_editor", admin_role_at_least(q, ROLE_EDITOR));
		tv_set_str(a, q->root, "csrf", q->csrf);
		tv *nav = tv_set(q->root, "nav", tv_list(a));
		for (size_t i = 0; i < sizeof(admin_nav) / sizeof(admin_nav[0]);
		    i++) {
			const struct admin_nav *n = &admin_nav[i];
			if (!admin_role_at_least(q, n->role))
				continue;
			tv *d = tv_push(nav, tv_dict(a));
			tv_set_str(a, d, "url", n->path);
			tv_set_str(a, d, "label", admin_msg(q, n->label));
			tv_set_bool(a, d, "current", admin_under(q->r->path, n->path) ||
			    (n->also && admin_under(q->r->path, n->also)));
		}
	}
	admin_flash(q);
}

void
admin_render(struct admin_req *q, const char *name, int status)
{
	struct http_resp *w = q->w;
	w->status = status;
	w->content_type = "text/html; charset=utf-8";
	buf_reset(&w->body);
	const struct admin_hooks *h = &q->ad->hooks;
	bool ok = h->render ? h->render(h->ctx, name, q->root, &w->body) :
	    tmpl_render(q->ad->tmpl, name, q->root, &w->body);
	if (!ok || w->body.err) {
		obs_error("admin: rendering %s failed", name);
		buf_reset(&w->body);
		w->status = 500;
		w->content_type = "text/plain; charset=utf-8";
		buf_puts(&w->body, "500 内部エラー\n");
	}
}

void
admin_redirect(struct admin_req *q, const char *path, enum admin_msg flash,
    int64_t n)
{
	if (flash != AMSG__MAX) {
		const char *v = n > 0 ? arena_printf(q->a, "%s.%lld",
		    admin_msg_key(flash), (long long)n) : admin_msg_key(flash);
		http_resp_cookie_secure(q->r, q->w, ADMIN_FLASH_COOKIE, v, 0,
		    admin_https(q));
	}
	http_resp_redirect(q->r, q->w, 303, path);
}

void
admin_error(struct admin_req *q, int status)
{
	enum admin_msg title = AMSG_BAD_REQUEST, text = AMSG_BAD_REQUEST_TEXT;
	switch (status) {
	case 403:
		title = AMSG_FORBIDDEN;
		text = AMSG_FORBIDDEN_TEXT;
		/* A POST refused for its token or origin: say so. */
		if (q->logged_in && q->r->method == HTTP_POST)
			text = AMSG_CSRF_TEXT;
		break;
	case 404:
		title = AMSG_NOT_FOUND;
		text = AMSG_NOT_FOUND_TEXT;
		break;
	case 429:
		title = AMSG_LOGIN_THROTTLED;
		text = AMSG_LOGIN_THROTTLED;
		break;
	case 503:
	case 500:
		title = AMSG_UNAVAILABLE;
		text = AMSG_UNAVAILABLE_TEXT;
		break;
	default:
		break;
	}
	admin_view(q, admin_msg(q, title));
	tv *e = tv_set(q->root, "failure", tv_dict(q->a));
	tv_set_int(q->a, e, "status", status);
	tv_set_str(q->a, e, "title", admin_msg(q, title));
	tv_set_str(q->a, e, "text", admin_msg(q, text));
	admin_render(q, "admin_error", status);
}

void
admin_form_error(struct admin_req *q, enum admin_msg msg)
{
	tv_set_str(q->a, q->root, "error", admin_msg(q, msg));
}

void
admin_changed(struct admin_req *q)
{
	if (q->ad->hooks.changed)
		q->ad->hooks.changed(q->ad->hooks.ctx, q->r, q->w);
}

/* ---- form values ------------------------------------------------------------- */

const char *
admin_field(const struct admin_req *q, const char *name)
{
	const char *v = http_req_field(q->r, name);
	return v ? v : "";
}

const char *
admin_arg(const struct admin_req *q, const char *name)
{
	const char *v = http_req_arg(q->r, name);
	return v ? v : "";
}

/* A positive decimal of at most 18 digits, else 0. */
static int64_t
admin_id_of(const char *s)
{
	int64_t v = 0;
	if (s == NULL || *s == '\0' || strlen(s) > 18)
		return 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (*p - '0');
	}
	return v;
}

int64_t
admin_field_id(const struct admin_req *q, const char *name)
{
	return admin_id_of(http_req_field(q->r, name));
}

int64_t
admin_arg_id(const struct admin_req *q, const char *name)
{
	return admin_id_of(http_req_arg(q->r, name));
}

int64_t
admin_page_arg(const struct admin_req *q)
{
	const char *p = http_req_arg(q->r, "page");
	if (p == NULL)
		return 1;
	int64_t n = admin_id_of(p);
	return n > 0 && n < 1000000 ? n : 0;
}

void
admin_pager(struct admin_req *q, const char *base, int64_t page, int64_t pages)
{
	arena *a = q->a;
	tv *p = tv_set(q->root, "pager", tv_dict(a));
	const char *sep = strchr(base, '?') ? "&" : "?";
	tv_set_int(a, p, "page", page);
	tv_set_int(a, p, "pages", pages);
	tv_set_bool(a, p, "show", pages > 1);
	if (page > 1)
		tv_set_str(a, p, "prev", page == 2 ? base : arena_printf(a,
		    "%s%spage=%lld", base, sep, (long long)(page - 1)));
	if (page < pages)
		tv_set_str(a, p, "next", arena_printf(a, "%s%spage=%lld", base,
		    sep, (long long)(page + 1)));
}

const char *
admin_datetime(struct admin_req *q, int64_t t)
{
	buf b;
	buf_init(&b, 128);
	text_ja_datetime(&b, t);
	const char *s = arena_strdup(q->a, buf_cstr(&b));
	buf_free(&b);
	return s;
}

/* True for the white space trimmed from both ends of typed text
 * (ASCII space, tab, newline and U+3000); its length in *n. */
static bool
admin_space_at(const char *p, size_t len, size_t *n)
{
	if (len >= 1 && (*p == ' ' || *p == '\t' || *p == '\n')) {
		*n = 1;
		return true;
	}
	if (len >= 3 && memcmp(p, "\xe3\x80\x80", 3) == 0) {
		*n = 3;
		return true;
	}
	return false;
}

const char *
admin_text(struct admin_req *q, const char *s, bool multiline)
{
	size_t n = strlen(s);
	if (!text_clean(s, n))
		return NULL;
	buf t, out;
	buf_init(&t, n + 1);
	buf_init(&out, 4 * n + 16);
	const char *res = NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
			continue;
		char c = s[i] == '\r' ? '\n' : s[i];
		if (!multiline && (c == '\n'))
			goto out;
		buf_putc(&t, c);
	}
	if (t.err || !text_nfc(&out, buf_cstr(&t), t.len))
		goto out;
	const char *p = buf_cstr(&out);
	size_t start = 0, end = out.len, k;
	while (start < end && admin_space_at(p + start, end - start, &k))
		start += k;
	for (;;) {
		if (end > start && (p[end - 1] == ' ' || p[end - 1] == '\t' ||
		    p[end - 1] == '\n'))
			end--;
		else if (end >= start + 3 && memcmp(p + end - 3, "\xe3\x80\x80",
		    3) == 0)
			end -= 3;
		else
			break;
	}
	res = arena_strndup(q->a, p + start, end - start);
out:
	buf_free(&t);
	buf_free(&out);
	return res;
}

bool
admin_slug_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 200 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-'))
			return false;
	return true;
}
