/* Private to admin/: the admin object, the request context, routes,
 * messages and the helpers every page uses (see "HOW TO ADD A PAGE" in
 * admin.h). */
#ifndef KIJI_ADMIN_INT_H
#define KIJI_ADMIN_INT_H

#include "admin.h"

/* Route ids (admin_routes[] in routes.c), from ADMIN_ROUTE_BASE up. */
enum admin_route {
	AR_LOGIN_FORM = ADMIN_ROUTE_BASE,
	AR_LOGIN,
	AR_LOGOUT,
	AR_DASHBOARD,
	AR_COMMENTS,
	AR_COMMENTS_BULK,
	AR_COMMENT_EDIT_FORM,
	AR_COMMENT_EDIT,
	AR_BANS,
	AR_BAN_ADD,
	AR_BAN_DELETE,
	AR_CATEGORIES,
	AR_CATEGORY_ADD,
	AR_CATEGORY_EDIT_FORM,
	AR_CATEGORY_EDIT,
	AR_CATEGORY_DELETE,
	AR_TAGS,
	AR_TAG_ADD,
	AR_TAG_EDIT_FORM,
	AR_TAG_EDIT,
	AR_TAG_DELETE,
	AR_REDIRECTS,
	AR_REDIRECT_ADD,
	AR_REDIRECT_DELETE,
	AR_SETTINGS,
	AR_SETTINGS_SAVE,
	AR_USERS,
	AR_USER_ADD,
	AR_USER_EDIT_FORM,
	AR_USER_EDIT,
	/* articles, revisions, media: add yours here */
	AR_ARTICLES,
	AR_ARTICLE_NEW_FORM,
	AR_ARTICLE_CREATE,
	AR_ARTICLE_PREVIEW,
	AR_ARTICLE_EDIT_FORM,
	AR_ARTICLE_SAVE,
	AR_ARTICLE_SHOW,
	AR_ARTICLE_TRASH,
	AR_ARTICLE_RESTORE,
	AR_ARTICLE_DELETE,
	AR_REVISIONS,
	AR_REVISION,
	AR_REVISION_RESTORE,
	AR_MEDIA,
	AR_MEDIA_UPLOAD,
	/* outgoing pings (pings.c) */
	AR_PINGS,
	AR__MAX
};

/* Interface strings (msg.c): {{m.<key>}} in templates. */
enum admin_msg {
	AMSG_ADMIN, AMSG_LOGIN, AMSG_LOGOUT, AMSG_NAME, AMSG_PASSWORD,
	AMSG_LOGIN_FAILED, AMSG_LOGIN_THROTTLED, AMSG_LOGGED_OUT,
	AMSG_DASHBOARD, AMSG_ARTICLES, AMSG_COMMENTS, AMSG_TAXONOMY,
	AMSG_CATEGORIES, AMSG_TAGS, AMSG_REDIRECTS, AMSG_SETTINGS, AMSG_USERS,
	AMSG_VIEW_SITE, AMSG_DRAFTS, AMSG_SCHEDULED, AMSG_PUBLISHED,
	AMSG_PENDING_COMMENTS, AMSG_FORBIDDEN, AMSG_FORBIDDEN_TEXT,
	AMSG_NOT_FOUND, AMSG_NOT_FOUND_TEXT, AMSG_BAD_REQUEST,
	AMSG_BAD_REQUEST_TEXT, AMSG_CSRF_TEXT, AMSG_UNAVAILABLE,
	AMSG_UNAVAILABLE_TEXT, AMSG_SAVED, AMSG_DELETED, AMSG_ADDED,
	AMSG_SAVE, AMSG_ADD, AMSG_DELETE, AMSG_EDIT, AMSG_CANCEL,
	AMSG_PENDING, AMSG_APPROVED, AMSG_SPAM, AMSG_TRASH, AMSG_APPROVE,
	AMSG_MARK_SPAM, AMSG_MOVE_TRASH, AMSG_ALL, AMSG_ARTICLE,
	AMSG_NICKNAME, AMSG_IP, AMSG_VISITOR, AMSG_DATE, AMSG_REASON,
	AMSG_REASON_FIRST, AMSG_REASON_NGWORD, AMSG_REASON_ALL,
	AMSG_REASON_BAN, AMSG_BODY, AMSG_SELECT, AMSG_WITH_SELECTED,
	AMSG_NONE_SELECTED, AMSG_NO_COMMENTS, AMSG_EDIT_COMMENT, AMSG_BANS,
	AMSG_BAN, AMSG_BAN_IP, AMSG_BAN_RANGE, AMSG_BAN_VISITOR, AMSG_BAN_KIND,
	AMSG_BAN_VALUE, AMSG_NOTE, AMSG_BAN_BAD, AMSG_BAN_EXISTS, AMSG_NO_BANS,
	AMSG_UPDATED, AMSG_COMMENT_EMPTY, AMSG_COMMENT_BAD_TEXT,
	AMSG_COMMENT_TOO_LONG, AMSG_SLUG, AMSG_PARENT, AMSG_NO_PARENT,
	AMSG_COUNT, AMSG_REASSIGN_TO, AMSG_NOWHERE, AMSG_DESCRIPTION,
	AMSG_SLUG_BAD, AMSG_SLUG_TAKEN, AMSG_NAME_BAD, AMSG_PARENT_BAD,
	AMSG_OLD_URL_NOTE, AMSG_EDIT_CATEGORY, AMSG_EDIT_TAG, AMSG_FROM,
	AMSG_TO, AMSG_REDIRECT_BAD, AMSG_REDIRECT_EXISTS, AMSG_NO_REDIRECTS,
	AMSG_SETTING_BAD, AMSG_DEFAULT, AMSG_ROLE, AMSG_ROLE_ADMIN,
	AMSG_ROLE_EDITOR, AMSG_ROLE_AUTHOR, AMSG_DISPLAY_NAME, AMSG_EMAIL,
	AMSG_DISABLED, AMSG_ENABLED, AMSG_NEW_PASSWORD, AMSG_ADD_USER,
	AMSG_EDIT_USER, AMSG_USER_BAD_NAME, AMSG_USER_BAD_DISPLAY,
	AMSG_USER_BAD_EMAIL, AMSG_USER_BAD_PASSWORD, AMSG_USER_EXISTS,
	AMSG_USER_SELF, AMSG_STATUS, AMSG_PREV_PAGE, AMSG_NEXT_PAGE,
	AMSG_PER_ARTICLE, AMSG_SHOW_ALL, AMSG_PASSWORD_HINT, AMSG_MENU,
	AMSG_LOGGED_IN_AS, AMSG_EXPIRED, AMSG_GROUP,
	/* articles, revisions, media (articles.c, revisions.c, media.c) */
	AMSG_NEW_ARTICLE, AMSG_EDIT_ARTICLE, AMSG_TITLE, AMSG_KIND,
	AMSG_KIND_POST, AMSG_KIND_PAGE, AMSG_CATEGORY, AMSG_NO_CATEGORY,
	AMSG_TAGS_HINT, AMSG_SLUG_HINT, AMSG_SOURCES, AMSG_SOURCE_TITLE,
	AMSG_SOURCE_URL, AMSG_ORDER, AMSG_SOURCES_HINT, AMSG_ADD_ROW,
	AMSG_REMOVE_ROW, AMSG_MOVE_UP, AMSG_MOVE_DOWN, AMSG_EYECATCH,
	AMSG_EYECATCH_HINT, AMSG_EYECATCH_UPLOAD, AMSG_EYECATCH_PICK,
	AMSG_NO_IMAGE, AMSG_CREDIT, AMSG_BODY_MD, AMSG_BODY_HTML, AMSG_MD_HINT,
	AMSG_EXCERPT, AMSG_EXCERPT_HINT, AMSG_COMMENTS_OPEN, AMSG_PUBLISH,
	AMSG_PUBLISH_DATE, AMSG_DATE_HINT, AMSG_PREVIEW, AMSG_PREVIEW_HINT,
	AMSG_REVISIONS, AMSG_SEARCH, AMSG_FILTER, AMSG_AUTHOR, AMSG_ANYONE,
	AMSG_NO_ARTICLES, AMSG_MOVED_TRASH, AMSG_RESTORED, AMSG_RESTORE,
	AMSG_DELETE_FOREVER, AMSG_CONFIRM_DELETE, AMSG_CONFLICT, AMSG_THEIRS,
	AMSG_YOURS, AMSG_AUTHOR_NO_PUBLISH, AMSG_DATE_BAD, AMSG_UPLOAD_TYPE,
	AMSG_UPLOAD_TEXT, AMSG_UPLOAD_BROKEN, AMSG_UPLOAD_LARGE,
	AMSG_UPLOAD_EMPTY, AMSG_UPLOADED, AMSG_MEDIA, AMSG_UPLOAD, AMSG_NO_MEDIA,
	AMSG_MARKDOWN, AMSG_URL, AMSG_COPY, AMSG_REVISION, AMSG_CURRENT,
	AMSG_DIFF, AMSG_SIDE_BY_SIDE, AMSG_RESTORE_REVISION, AMSG_DIFF_TOO_BIG,
	AMSG_NO_CHANGES, AMSG_VIEW, AMSG_UPDATED_AT, AMSG_TRASHED_NOTE,
	AMSG_KEEP_STATUS, AMSG_SAVE_ANYWAY, AMSG_UPLOAD_HINT, AMSG_DIMENSIONS,
	AMSG_UPLOADER, AMSG_CHANGED_BY, AMSG_NOT_SAVED, AMSG_LIVE_PREVIEW,
	AMSG_CONFLICT_TITLE, AMSG_THEIRS_SHORT, AMSG_YOURS_SHORT,
	/* pages: their place in the hierarchy (articles.c) */
	AMSG_PARENT_PAGE, AMSG_TOP_LEVEL, AMSG_PARENT_HINT, AMSG_MENU_ORDER,
	AMSG_ORDER_BAD,
	/* outgoing pings (pings.c) */
	AMSG_PINGS, AMSG_NO_PINGS, AMSG_PINGS_NOTE, AMSG_PING_TARGET,
	AMSG_PING_KIND, AMSG_PING_ATTEMPTS, AMSG_PING_ERROR, AMSG_PING_PENDING,
	AMSG_PING_SENT, AMSG_PING_FAILED, AMSG_PING_NONE, AMSG_PING_UNKNOWN,
	AMSG_PINGS_OF_ARTICLE,
	AMSG__MAX
};
enum admin_lang { ALANG_JA, ALANG_EN, ALANG__MAX };
const char *admin_msg_get(enum admin_lang lang, enum admin_msg id);
const char *admin_msg_key(enum admin_msg id);
/* The message whose key is key; AMSG__MAX when none (flash cookies). */
enum admin_msg admin_msg_find(const char *key);

struct admin_verifier;

struct admin {
	store *st;
	const tmpl_set *tmpl;
	struct admin_hooks hooks;
	int64_t pruned_at; /* last prune of dead sessions and old failures */
	struct admin_verifier *verifier; /* password checks off the loops */
};

/* ---- verifier.c: password checks on their own threads ---- */
struct admin_verifier *admin_verifier_new(void);
void admin_verifier_stop(struct admin_verifier *v);
void admin_verifier_free(struct admin_verifier *v);
enum admin_verify_res { VERIFY_QUEUED, VERIFY_BUSY, VERIFY_INLINE };
enum admin_verify_res admin_verify_async(struct admin_verifier *v,
    struct http_req *r,
    store *st, const char *name, const char *password,
    struct store_user *user, enum account_err *result,
    void (*finish)(void *ctx), void *ctx);

/* The logged-in account of a request. */
struct admin_user {
	int64_t id;
	const char *name;
	const char *display_name;
	enum store_role role;
};

/* One request as admin handlers see it. */
struct admin_req {
	admin *ad;
	struct http_req *r;
	struct http_resp *w;
	arena *a;                 /* r->a: dies with the request */
	struct admin_conf conf;
	enum admin_lang lang;
	bool logged_in;
	struct admin_user user;   /* when logged_in */
	const char *csrf;         /* the session's token, when logged_in */
	const char *sid_hash;     /* the session's stored id (SHA-256 hex) */
	bool expired;             /* a session cookie came but its session
	                           * had ended (idle, age, password change) */
	tv *root;                 /* the view model being built */
};

/* Handler thunks (routes.c points at these). */
#define ADMIN_HANDLER(name) void name(void *qv, const struct http_match *m)

/* ---- admin.c: the helpers every page uses ---- */

const char *admin_msg(const struct admin_req *q, enum admin_msg id);
bool admin_role_at_least(const struct admin_req *q, enum store_role role);
/* Builds q->root with the layout's data: site, user, nav (what the role
 * may open), m (messages), csrf, flash, page title. */
void admin_view(struct admin_req *q, const char *title);
/* Renders templates/<name>.html with q->root (status, no-store). */
void admin_render(struct admin_req *q, const char *name, int status);
/* 303 to path (a local /admin/... path) with a one-shot flash message
 * (AMSG__MAX: none); n > 0 is shown as a count beside it. */
void admin_redirect(struct admin_req *q, const char *path, enum admin_msg flash,
    int64_t n);
/* The error page in the admin layout: 400, 403, 404, 409, 429, 503. */
void admin_error(struct admin_req *q, int status);
/* Sets {{error}} to msg on the page being built (a refused form). */
void admin_form_error(struct admin_req *q, enum admin_msg msg);
/* Something readers see changed: drop cached pages now. */
void admin_changed(struct admin_req *q);
/* A form or query value: the field's text, "" when absent. */
const char *admin_field(const struct admin_req *q, const char *name);
const char *admin_arg(const struct admin_req *q, const char *name);
/* A positive decimal id from a form field or query argument; 0 when
 * absent, empty or malformed. */
int64_t admin_field_id(const struct admin_req *q, const char *name);
int64_t admin_arg_id(const struct admin_req *q, const char *name);
/* ?page=N, 1 when absent; 0 when malformed (answer 404). */
int64_t admin_page_arg(const struct admin_req *q);
/* Sets {{pager}}: prev/next links of base (which may hold a query
 * already) for page of pages. */
void admin_pager(struct admin_req *q, const char *base, int64_t page,
    int64_t pages);
/* "2026年 1月 09日 13:05" in the site zone, arena-allocated. */
const char *admin_datetime(struct admin_req *q, int64_t t);
/* NFC text of a form value with CRLF → LF and both ends trimmed; NULL
 * when not clean UTF-8 text (control characters, invalid bytes) or, for
 * one line, when it holds a line break. */
const char *admin_text(struct admin_req *q, const char *s, bool multiline);
/* Whether s is a slug: [a-z0-9-], 1..200 bytes, not starting or ending
 * with '-'. */
bool admin_slug_ok(const char *s);

/* ---- session.c: login, logout, sessions, throttling ---- */

/* Reads the session cookie into q (logged_in, user, csrf); an expired,
 * stale or unknown session is dropped and its cookie cleared. */
void admin_session_load(struct admin_req *q);
ADMIN_HANDLER(admin_page_login_form);
ADMIN_HANDLER(admin_page_login);
ADMIN_HANDLER(admin_page_logout);

/* ---- pages ---- */
ADMIN_HANDLER(admin_page_dashboard);
/* comments.c */
ADMIN_HANDLER(admin_page_comments);
ADMIN_HANDLER(admin_page_comments_bulk);
ADMIN_HANDLER(admin_page_comment_edit_form);
ADMIN_HANDLER(admin_page_comment_edit);
ADMIN_HANDLER(admin_page_bans);
ADMIN_HANDLER(admin_page_ban_add);
ADMIN_HANDLER(admin_page_ban_delete);
/* taxonomy.c */
ADMIN_HANDLER(admin_page_categories);
ADMIN_HANDLER(admin_page_category_add);
ADMIN_HANDLER(admin_page_category_edit_form);
ADMIN_HANDLER(admin_page_category_edit);
ADMIN_HANDLER(admin_page_category_delete);
ADMIN_HANDLER(admin_page_tags);
ADMIN_HANDLER(admin_page_tag_add);
ADMIN_HANDLER(admin_page_tag_edit_form);
ADMIN_HANDLER(admin_page_tag_edit);
ADMIN_HANDLER(admin_page_tag_delete);
ADMIN_HANDLER(admin_page_redirects);
ADMIN_HANDLER(admin_page_redirect_add);
ADMIN_HANDLER(admin_page_redirect_delete);
/* settings.c */
ADMIN_HANDLER(admin_page_settings);
ADMIN_HANDLER(admin_page_settings_save);
/* articles.c */
ADMIN_HANDLER(admin_page_articles);
ADMIN_HANDLER(admin_page_article_new_form);
ADMIN_HANDLER(admin_page_article_create);
ADMIN_HANDLER(admin_page_article_preview);
ADMIN_HANDLER(admin_page_article_edit_form);
ADMIN_HANDLER(admin_page_article_save);
ADMIN_HANDLER(admin_page_article_show);
ADMIN_HANDLER(admin_page_article_trash);
ADMIN_HANDLER(admin_page_article_restore);
ADMIN_HANDLER(admin_page_article_delete);
/* Whether the logged-in user may open and change art: its author, or an
 * editor or admin (the per-object rule the route flags cannot state). */
bool admin_article_mine(const struct admin_req *q,
    const struct store_article *art);
/* revisions.c */
ADMIN_HANDLER(admin_page_revisions);
ADMIN_HANDLER(admin_page_revision);
ADMIN_HANDLER(admin_page_revision_restore);
/* media.c */
ADMIN_HANDLER(admin_page_media);
ADMIN_HANDLER(admin_page_media_upload);
/* The editor's picker: the latest max images of the library as a list
 * of {name, url, markdown, width, height, ...}. */
tv *admin_media_recent(struct admin_req *q, size_t max);

/* Why an upload was refused (admin_upload_image). */
enum admin_upload {
	AUP_OK,
	AUP_NONE,    /* no file chosen (an empty file part) */
	AUP_LARGE,   /* over admin.upload_max: 413 */
	AUP_TEXT,    /* text (HTML, SVG, XML ...) posing as an image: 415 */
	AUP_TYPE,    /* bytes of some other kind: 415 */
	AUP_BROKEN,  /* JPEG/PNG/WebP/GIF that does not parse: 422 */
	AUP_STORE,   /* reading the spool or the database failed: 503 */
	AUP__MAX
};
/* Takes the file of form field `field` (r->files), checks its type from
 * its bytes, strips its metadata and stores it under its content hash
 * with width, height, file name and uploader. *url gets "/media/<name>"
 * (in q->a). */
enum admin_upload admin_upload_image(struct admin_req *q, const char *field,
    const char **url);
/* The HTTP status and message of a refusal. */
int admin_upload_status(enum admin_upload e);
enum admin_msg admin_upload_msg(enum admin_upload e);

/* ---- diff.c: line diff for revisions ---- */

#define ADMIN_DIFF_MAX_LINES 2000 /* per side; longer texts are not diffed */

enum admin_diff_op { DIFF_SAME, DIFF_DEL, DIFF_ADD, DIFF__MAX };
struct admin_diff_line {
	enum admin_diff_op op;
	const char *text;          /* the line without its newline (arena) */
	size_t old_no, new_no;     /* 1-based line numbers; 0 on the side it
	                            * is absent from */
};
/*
 * The line diff of a → b (longest common subsequence, O(n·m) time and
 * space in bits): *out lists every line in order, kept, deleted or added.
 * False, with nothing written, when either side has more than
 * ADMIN_DIFF_MAX_LINES lines (the caller shows them side by side).
 */
bool admin_diff_lines(arena *a, const char *old, const char *new,
    struct admin_diff_line **out, size_t *n);
/* The diff of old → new as rows for templates/admin_diff.html: {cls
 * (same, del, add), sign, text, old_no, new_no} or {fold, count} for a
 * run of unchanged lines far from any change. NULL when too long to
 * diff; *changed says whether any line differs. */
tv *admin_diff_view(struct admin_req *q, const char *old, const char *new,
    bool *changed);

/* pings.c: the outgoing pings (read-only) */
ADMIN_HANDLER(admin_page_pings);
/* Sets {{pings}} (and {{has_pings}}) on into: the newest pings of
 * article id, for its edit page. */
void admin_pings_of_article(struct admin_req *q, tv *into, int64_t id);

/* users.c */
ADMIN_HANDLER(admin_page_users);
ADMIN_HANDLER(admin_page_user_add);
ADMIN_HANDLER(admin_page_user_edit_form);
ADMIN_HANDLER(admin_page_user_edit);

#endif
