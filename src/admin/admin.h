/*
 * admin: the editor area (login and sessions, articles, media, moderation,
 * categories, settings) and the accounts it rests on. Sits above
 * content/, store/, http/, render/ and text/.
 *
 * Sections are kept apart by area; add yours under its own heading.
 */
#ifndef KIJI_ADMIN_H
#define KIJI_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../http/http.h"
#include "../render/render.h"
#include "../store/store.h"
#include "../text/text.h"

/* ---- accounts (account.c) -------------------------------------------------- */

/*
 * Users, their roles and passwords. Passwords are NFC-normalised and
 * hashed with Argon2id (libsodium crypto_pwhash_str, interactive limits:
 * about 64 MiB and tens of milliseconds each); at most ACCOUNT_HASH_SLOTS
 * hashes (or verifications) run at once in the whole process, the others
 * wait their turn, so a burst of logins cannot exhaust memory.
 */
#define ACCOUNT_NAME_MAX 40        /* login name: [a-z0-9_.-]{1,40} */
#define ACCOUNT_DISPLAY_MAX 100    /* display name, characters */
#define ACCOUNT_EMAIL_MAX 254      /* e-mail address, bytes */
#define ACCOUNT_PASSWORD_MIN 10    /* characters (code points, after NFC) */
#define ACCOUNT_PASSWORD_MAX 1024  /* bytes: refused before any hashing */
#define ACCOUNT_HASH_MAX 128       /* an encoded hash with its NUL */
#define ACCOUNT_HASH_SLOTS 2       /* hashes computed at once, process-wide */

enum account_err {
	ACCOUNT_OK,
	ACCOUNT_BAD_NAME,     /* login name not [a-z0-9_.-]{1,40} */
	ACCOUNT_BAD_DISPLAY,  /* display name empty after trimming, too long,
	                       * control characters or invalid UTF-8 */
	ACCOUNT_BAD_EMAIL,    /* not an address (empty is allowed) */
	ACCOUNT_BAD_ROLE,     /* not admin, editor or author */
	ACCOUNT_BAD_PASSWORD, /* under 10 characters, over 1024 bytes,
	                       * invalid UTF-8 or control characters */
	ACCOUNT_EXISTS,       /* the login name is taken */
	ACCOUNT_NOTFOUND,     /* no such user (management calls only) */
	ACCOUNT_DENIED,       /* login refused: unknown user, wrong password,
	                       * no password set or disabled — one answer */
	ACCOUNT_HASH,         /* hashing failed (out of memory) */
	ACCOUNT_STORE,        /* the database failed */
	ACCOUNT__MAX
};

/* A short English reason for CLI messages and logs (static). */
const char *account_strerror(enum account_err e);

/* Field checks, the same for the CLI and the admin forms. */
bool account_name_valid(const char *name);
bool account_email_valid(const char *email); /* "" is valid: no address */
/* "admin" | "editor" | "author" → role; false for anything else. */
bool account_role_parse(const char *s, enum store_role *out);
const char *account_role_name(enum store_role r); /* NULL when out of range */

/* Hashes password (checked as for account_add) into out, an encoded
 * Argon2id string. Waits for a hashing slot. */
enum account_err account_hash(const char *password, char out[ACCOUNT_HASH_MAX]);
/* True when password matches the encoded hash; false for a malformed or
 * empty hash. Waits for a hashing slot. */
bool account_hash_check(const char *hash, const char *password);
/* The most hashes that ever ran at once since the process started (or
 * the last reset): never above ACCOUNT_HASH_SLOTS. Tests and logs. */
int account_hash_peak(void);
void account_hash_peak_reset(void);

/* What account_add needs. display_name NULL or "": the login name;
 * email NULL or "": none. */
struct account_new {
	const char *name;
	const char *display_name;
	enum store_role role;
	const char *email;
	const char *password;
};
/* Validates every field, hashes the password and adds the user. *id (when
 * not NULL) is the new user's id. */
enum account_err account_add(store *st, const struct account_new *in,
    int64_t *id);

/*
 * Checks a login. Takes about the same time whether or not the user exists
 * (a missing or password-less user is checked against a dummy hash) and
 * answers ACCOUNT_DENIED for every kind of refusal, disabled users
 * included, so a caller cannot tell them apart. On ACCOUNT_OK *out holds
 * the user (strings in a); its cred_epoch is what a new session records.
 */
enum account_err account_verify(store *st, const char *name,
    const char *password, arena *a, struct store_user *out);

/* Sets a new password and bumps the user's cred_epoch, so every session
 * made before ends ("log out everywhere"). */
enum account_err account_set_password(store *st, int64_t user_id,
    const char *password);
enum account_err account_set_role(store *st, int64_t user_id,
    enum store_role role);
/* Disabling also bumps cred_epoch: the user's sessions end at once. */
enum account_err account_set_disabled(store *st, int64_t user_id,
    bool disabled);
enum account_err account_set_email(store *st, int64_t user_id,
    const char *email);
enum account_err account_set_display_name(store *st, int64_t user_id,
    const char *display_name);

/* Writes len random characters from an alphabet without look-alikes (no
 * 0/O, 1/l/I) and a NUL into out (len + 1 bytes): first passwords. */
void account_random_password(char *out, size_t len);

/* ---- the editor area's framework (admin.c, session.c, routes.c) ------------ */

/*
 * HOW TO ADD A PAGE
 *
 * 1. Route: add an id to enum admin_route (admin_int.h; ids start at
 *    ADMIN_ROUTE_BASE so the site's dispatch tells them apart) and an
 *    entry to admin_routes[] (routes.c) with the ADMIN_GET / ADMIN_POST
 *    macros: pattern, id, handler, flags, and for POST the declared fields
 *    and body limit. Every POST route gets HTTP_RF_CSRF (ADMIN_POST adds
 *    it) and its fields must include ADMIN_CSRF_FIELD.
 * 2. Flags say who may come in, checked ONCE by admin_handle before the
 *    handler runs (handlers never check): HTTP_RF_LOGIN any logged-in
 *    account (authors too), HTTP_RF_EDITOR editor or admin, HTTP_RF_ADMIN
 *    admin only (both imply LOGIN), HTTP_RF_CSRF the session's token in the
 *    form field "csrf" (constant-time compare) plus the same-origin check
 *    (Origin, else Sec-Fetch-Site; neither → refused). A refusal is 403
 *    (or 303 to /admin/login for a GET without a session); nothing runs.
 * 3. Handler: ADMIN_HANDLER(name) { struct admin_req *q = qv; ... },
 *    i.e. void name(void *qv, const struct http_match *m) (declare it in
 *    admin_int.h). q->user (id, name, display_name, role), q->r (form:
 *    admin_field / http_req_field; ids: admin_field_id, admin_arg_id;
 *    captures: m->num[0]), q->a (request arena), q->conf (base URL...).
 *    Per-object rules stay the handler's (an author may edit only their
 *    own article): admin_role_at_least(q, ROLE_EDITOR) and the like.
 * 4. Render: admin_view(q, title) builds q->root with the layout's data
 *    (site, user, nav, m, csrf, flash, heading); add the page's values
 *    with tv_set_* and call admin_render(q, "admin_x", 200):
 *    templates/admin_x.html starting {{> admin_head}} and ending
 *    {{> admin_foot}} (picked up by the Makefile; no inline script or
 *    style). Forms: <input type="hidden" name="csrf" value="{{csrf}}">.
 *    Strings: {{m.key}} from the admin message table (msg.c, enum
 *    admin_msg, Japanese and English).
 * 5. After a POST that worked: admin_changed(q) when the public site
 *    shows what changed (drops cached pages now), then
 *    admin_redirect(q, "/admin/x", AMSG_SAVED, 0): 303 with a one-shot
 *    flash message (n > 0 adds a count) shown by the next page. A refused
 *    form: admin_view, then admin_form_error(q, AMSG_...) ({{error}}),
 *    the typed values, admin_render(..., 422). admin_error(q, 404 | 400 |
 *    403 | 409 | 503) for the rest.
 * Every answer carries Cache-Control: no-store. Nothing in site/ needs
 * touching: admin_routes[] is merged into the site's table at start.
 */

#define ADMIN_ROUTE_BASE 1000 /* admin route ids are >= this */
#define ADMIN_SESSION_COOKIE "kiji_s"
#define ADMIN_CSRF_FIELD "csrf"

typedef struct admin admin;

/* The settings the admin reads, from the site's current snapshot. The
 * strings stay valid at least until the request ends. */
struct admin_conf {
	const char *base_url;      /* site.base_url without a trailing '/' */
	const char *lang;          /* "ja" | "en" */
	const char *origin_allow;  /* extra same origins, space-separated */
	const char *site_title;
	const char *static_v;      /* version of the static files (?v=) */
	int64_t session_idle;      /* seconds without a request */
	int64_t session_max;       /* seconds since login */
	/* articles and media (articles.c, media.c) */
	const char *timezone;      /* site.timezone: dates typed in the editor
	                            * are wall times there */
	bool authors_publish;      /* admin.authors_publish */
	int64_t upload_max;        /* admin.upload_max: bytes of one image */
};

/* One setting as `kiji config list` shows it. */
struct admin_setting {
	const char *key;
	const char *value;
	const char *def;
	const char *help;
	const char *choices;       /* "a|b|c" for a choice, else NULL */
	bool number;
	bool secret;               /* a password: shown empty, kept when the
	                            * form leaves it empty */
	long min, max;             /* number bounds, or text length bounds */
};

/* What the admin needs from the layer above it (the site), which must
 * not be included from here. */
struct admin_hooks {
	void *ctx;
	/* Something the public site shows changed (moderation, taxonomy,
	 * settings): read the change log and drop cached pages now. */
	void (*changed)(void *ctx, struct http_req *r, struct http_resp *w);
	/* The current settings the admin reads. */
	void (*conf)(void *ctx, struct admin_conf *out);
	/* Setting i (0..) with its current value; false past the last. */
	bool (*setting)(void *ctx, size_t i, struct admin_setting *out);
	/* Checks value with the rules of `kiji config set`; false with a
	 * reason in why. */
	bool (*setting_check)(void *ctx, const char *key, const char *value,
	    buf *why);
	/* Checks as setting_check, then stores it; false with a reason in
	 * why (nothing stored). */
	bool (*setting_set)(void *ctx, const char *key, const char *value,
	    buf *why);
	/* Renders art (saved or not: a draft, the editor's unsaved form)
	 * with the public article template into w: no comments, nothing
	 * cached, noindex. art's strings are the caller's. */
	void (*preview)(void *ctx, const struct store_article *art,
	    struct http_req *r, struct http_resp *w);
	/* Renders template name with the site's current theme (which
	 * SIGHUP may replace); NULL: the t given to admin_new. */
	bool (*render)(void *ctx, const char *name, const tv *root, buf *out);
};

/* The editor area over st, rendering with the site's templates t (which
 * must hold the admin_* templates). hooks is copied. */
admin *admin_new(store *st, const tmpl_set *t, const struct admin_hooks *hooks);
void admin_free(admin *ad); /* NULL-safe */
/* Answers every login still being checked and stops the checking
 * threads; call before http_stop (they resume suspended requests). */
void admin_quiesce(admin *ad);

/* The route table (ids >= ADMIN_ROUTE_BASE), merged into the site's. */
extern const struct http_route admin_routes[];
extern const size_t admin_nroutes;

/* Sets the body limit of the routes that take an image upload (a copy
 * of admin_routes in routes, n entries) to what an upload of upload_max
 * bytes with the rest of its form needs; the other routes are left
 * alone. Called once at start, as the other http.* limits are read. */
void admin_routes_limit(struct http_route *routes, size_t n,
    int64_t upload_max);

/* Answers a request whose route is one of admin_routes: session, role,
 * CSRF and origin checks from the route's flags, then its handler. */
void admin_handle(admin *ad, struct http_req *r, struct http_resp *w);

#endif
