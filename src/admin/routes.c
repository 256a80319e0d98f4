/*
 * The editor area's route table: what each route accepts (read by the HTTP
 * core before the body) and who may use it (flags, checked once by
 * admin_handle before the handler). Merged into the site's table.
 */
#include "admin_int.h"

#include "../content/content.h"

/* A page: GET (and HEAD). */
#define ADMIN_GET(pat, id, fn, flags) \
	{HTTP_GET, pat, id, fn, HTTP_BODY_NONE, 0, NULL, false, false, flags}
/* A state-changing form post: always CSRF-checked. */
#define ADMIN_POST(pat, id, fn, fields, max, flags)                   \
	{HTTP_POST, pat, id, fn, HTTP_BODY_FORM, max, fields, false, false, \
	    (flags) | HTTP_RF_CSRF}
#define CSRF {ADMIN_CSRF_FIELD, HTTP_FIELD_LINE, 128}
#define LOGIN HTTP_RF_LOGIN
#define EDITOR (HTTP_RF_LOGIN | HTTP_RF_EDITOR)
#define ADMIN (HTTP_RF_LOGIN | HTTP_RF_ADMIN)

/* ---- declared fields ----------------------------------------------------- */

/* Login has no session yet, so no token: the same-origin check guards
 * it (admin_handle), and the throttle the guessing. */
static const struct http_field f_login[] = {
	{"name", HTTP_FIELD_LINE, 256},
	{"password", HTTP_FIELD_LINE, 4096},
	{NULL, 0, 0},
};
static const struct http_field f_csrf[] = {
	CSRF,
	{NULL, 0, 0},
};
/* Bulk moderation: one "id" per ticked comment (the page shows 50). */
static const struct http_field f_bulk[] = {
	CSRF,
	{"action", HTTP_FIELD_LINE, 32},
	{"id", HTTP_FIELD_ID, 0},
	{"back", HTTP_FIELD_LINE, 512},
	{NULL, 0, 0},
};
static const struct http_field f_comment_edit[] = {
	CSRF,
	{"body", HTTP_FIELD_TEXT, 400000},
	{"back", HTTP_FIELD_LINE, 512},
	{NULL, 0, 0},
};
static const struct http_field f_ban[] = {
	CSRF,
	{"kind", HTTP_FIELD_LINE, 16},
	{"value", HTTP_FIELD_LINE, 256},
	{"note", HTTP_FIELD_LINE, 1000},
	{"back", HTTP_FIELD_LINE, 512},
	{NULL, 0, 0},
};
static const struct http_field f_category[] = {
	CSRF,
	{"name", HTTP_FIELD_LINE, 1000},
	{"slug", HTTP_FIELD_LINE, 1000},
	{"parent", HTTP_FIELD_ID, 0},
	{"description", HTTP_FIELD_TEXT, 10000},
	{NULL, 0, 0},
};
static const struct http_field f_tag[] = {
	CSRF,
	{"name", HTTP_FIELD_LINE, 1000},
	{"slug", HTTP_FIELD_LINE, 1000},
	{NULL, 0, 0},
};
static const struct http_field f_delete[] = {
	CSRF,
	{"reassign", HTTP_FIELD_ID, 0},
	{NULL, 0, 0},
};
static const struct http_field f_redirect[] = {
	CSRF,
	{"from", HTTP_FIELD_LINE, 2000},
	{"to", HTTP_FIELD_LINE, 2000},
	{NULL, 0, 0},
};
static const struct http_field f_user[] = {
	CSRF,
	{"name", HTTP_FIELD_LINE, 256},
	{"display_name", HTTP_FIELD_LINE, 1000},
	{"email", HTTP_FIELD_LINE, 1000},
	{"role", HTTP_FIELD_LINE, 16},
	{"password", HTTP_FIELD_LINE, 4096},
	{"disabled", HTTP_FIELD_LINE, 4},
	{NULL, 0, 0},
};

/* The article editor: every field of the form, the 参考 rows repeated
 * (src_title, src_url, src_order per row), and an eyecatch upload whose
 * limit is the route's (admin_routes_limit). */
static const struct http_field f_article[] = {
	CSRF,
	{"id", HTTP_FIELD_ID, 0},
	{"base_revision", HTTP_FIELD_ID, 0},
	{"title", HTTP_FIELD_LINE, 4096},
	{"slug", HTTP_FIELD_LINE, 1024},
	{"kind", HTTP_FIELD_LINE, 16},
	{"category", HTTP_FIELD_ID, 0},
	{"tags", HTTP_FIELD_LINE, 32768},
	{"body", HTTP_FIELD_TEXT, CONTENT_BODY_MAX},
	{"format", HTTP_FIELD_LINE, 16},
	{"excerpt", HTTP_FIELD_TEXT, 16384},
	{"status", HTTP_FIELD_LINE, 16},
	{"date", HTTP_FIELD_LINE, 64},
	{"eyecatch", HTTP_FIELD_LINE, CONTENT_URL_MAX + 64},
	{"eyecatch_pick", HTTP_FIELD_LINE, CONTENT_URL_MAX + 64},
	{"eyecatch_credit", HTTP_FIELD_LINE, 4096},
	{"eyecatch_file", HTTP_FIELD_FILE, 0},
	{"comments_open", HTTP_FIELD_LINE, 8},
	{"parent", HTTP_FIELD_ID, 0},
	{"menu_order", HTTP_FIELD_LINE, 16},
	{"src_title", HTTP_FIELD_LINE, 4096},
	{"src_url", HTTP_FIELD_LINE, CONTENT_URL_MAX + 64},
	{"src_order", HTTP_FIELD_LINE, 16},
	{NULL, 0, 0},
};
static const struct http_field f_upload[] = {
	CSRF,
	{"file", HTTP_FIELD_FILE, 0},
	{NULL, 0, 0},
};

/* Bytes an article form carries besides its image: the body (urlencoded
 * it may triple), the other fields and multipart's part headers. */
#define ARTICLE_FORM_MAX ((size_t)3 * CONTENT_BODY_MAX + ((size_t)1 << 20))
#define UPLOAD_FORM_MAX ((size_t)64 << 10) /* the upload form's other parts */
#define UPLOAD_DEFAULT ((size_t)10 << 20)  /* admin.upload_max's default */

/* ---- the table ------------------------------------------------------------ */

const struct http_route admin_routes[] = {
	ADMIN_GET("/admin/login", AR_LOGIN_FORM, admin_page_login_form, 0),
	{HTTP_POST, "/admin/login", AR_LOGIN, admin_page_login, HTTP_BODY_FORM,
	    16384, f_login, false, false, 0},
	ADMIN_POST("/admin/logout", AR_LOGOUT, admin_page_logout, f_csrf, 4096,
	    LOGIN),
	ADMIN_GET("/admin/", AR_DASHBOARD, admin_page_dashboard, LOGIN),
	ADMIN_GET("/admin", AR_DASHBOARD, admin_page_dashboard, LOGIN),

	ADMIN_GET("/admin/comments", AR_COMMENTS, admin_page_comments, EDITOR),
	ADMIN_POST("/admin/comments/bulk", AR_COMMENTS_BULK,
	    admin_page_comments_bulk, f_bulk, 65536, EDITOR),
	ADMIN_GET("/admin/comments/{id}/edit", AR_COMMENT_EDIT_FORM,
	    admin_page_comment_edit_form, EDITOR),
	ADMIN_POST("/admin/comments/{id}/edit", AR_COMMENT_EDIT,
	    admin_page_comment_edit, f_comment_edit, 500000, EDITOR),
	ADMIN_GET("/admin/bans", AR_BANS, admin_page_bans, EDITOR),
	ADMIN_POST("/admin/bans", AR_BAN_ADD, admin_page_ban_add, f_ban, 8192,
	    EDITOR),
	ADMIN_POST("/admin/bans/{id}/delete", AR_BAN_DELETE,
	    admin_page_ban_delete, f_csrf, 4096, EDITOR),

	ADMIN_GET("/admin/categories", AR_CATEGORIES, admin_page_categories,
	    EDITOR),
	ADMIN_POST("/admin/categories", AR_CATEGORY_ADD,
	    admin_page_category_add, f_category, 32768, EDITOR),
	ADMIN_GET("/admin/categories/{id}", AR_CATEGORY_EDIT_FORM,
	    admin_page_category_edit_form, EDITOR),
	ADMIN_POST("/admin/categories/{id}", AR_CATEGORY_EDIT,
	    admin_page_category_edit, f_category, 32768, EDITOR),
	ADMIN_POST("/admin/categories/{id}/delete", AR_CATEGORY_DELETE,
	    admin_page_category_delete, f_delete, 4096, EDITOR),
	ADMIN_GET("/admin/tags", AR_TAGS, admin_page_tags, EDITOR),
	ADMIN_POST("/admin/tags", AR_TAG_ADD, admin_page_tag_add, f_tag, 8192,
	    EDITOR),
	ADMIN_GET("/admin/tags/{id}", AR_TAG_EDIT_FORM, admin_page_tag_edit_form,
	    EDITOR),
	ADMIN_POST("/admin/tags/{id}", AR_TAG_EDIT, admin_page_tag_edit, f_tag,
	    8192, EDITOR),
	ADMIN_POST("/admin/tags/{id}/delete", AR_TAG_DELETE,
	    admin_page_tag_delete, f_delete, 4096, EDITOR),
	ADMIN_GET("/admin/redirects", AR_REDIRECTS, admin_page_redirects, EDITOR),
	ADMIN_POST("/admin/redirects", AR_REDIRECT_ADD,
	    admin_page_redirect_add, f_redirect, 8192, EDITOR),
	ADMIN_POST("/admin/redirects/delete", AR_REDIRECT_DELETE,
	    admin_page_redirect_delete, f_redirect, 8192, EDITOR),

	ADMIN_GET("/admin/settings", AR_SETTINGS, admin_page_settings, ADMIN),
	/* Fields are the setting keys (checked against the site's list by
	 * the handler); one group of them per post. */
	ADMIN_POST("/admin/settings", AR_SETTINGS_SAVE, admin_page_settings_save,
	    NULL, 262144, ADMIN),
	ADMIN_GET("/admin/users", AR_USERS, admin_page_users, ADMIN),
	ADMIN_POST("/admin/users", AR_USER_ADD, admin_page_user_add, f_user,
	    16384, ADMIN),
	ADMIN_GET("/admin/users/{id}", AR_USER_EDIT_FORM,
	    admin_page_user_edit_form, ADMIN),
	ADMIN_POST("/admin/users/{id}", AR_USER_EDIT, admin_page_user_edit,
	    f_user, 16384, ADMIN),

	/* articles: per-object rules (authors: their own) in the handlers */
	ADMIN_GET("/admin/articles", AR_ARTICLES, admin_page_articles, LOGIN),
	ADMIN_GET("/admin/articles/new", AR_ARTICLE_NEW_FORM,
	    admin_page_article_new_form, LOGIN),
	ADMIN_POST("/admin/articles/new", AR_ARTICLE_CREATE,
	    admin_page_article_create, f_article,
	    UPLOAD_DEFAULT + ARTICLE_FORM_MAX, LOGIN),
	ADMIN_POST("/admin/articles/preview", AR_ARTICLE_PREVIEW,
	    admin_page_article_preview, f_article,
	    UPLOAD_DEFAULT + ARTICLE_FORM_MAX, LOGIN),
	ADMIN_GET("/admin/articles/{id}", AR_ARTICLE_EDIT_FORM,
	    admin_page_article_edit_form, LOGIN),
	ADMIN_POST("/admin/articles/{id}", AR_ARTICLE_SAVE,
	    admin_page_article_save, f_article,
	    UPLOAD_DEFAULT + ARTICLE_FORM_MAX, LOGIN),
	ADMIN_GET("/admin/articles/{id}/preview", AR_ARTICLE_SHOW,
	    admin_page_article_show, LOGIN),
	ADMIN_POST("/admin/articles/{id}/trash", AR_ARTICLE_TRASH,
	    admin_page_article_trash, f_csrf, 4096, LOGIN),
	ADMIN_POST("/admin/articles/{id}/restore", AR_ARTICLE_RESTORE,
	    admin_page_article_restore, f_csrf, 4096, LOGIN),
	ADMIN_POST("/admin/articles/{id}/delete", AR_ARTICLE_DELETE,
	    admin_page_article_delete, f_csrf, 4096, EDITOR),
	ADMIN_GET("/admin/articles/{id}/revisions", AR_REVISIONS,
	    admin_page_revisions, LOGIN),
	ADMIN_GET("/admin/articles/{id}/revisions/{id}", AR_REVISION,
	    admin_page_revision, LOGIN),
	ADMIN_POST("/admin/articles/{id}/revisions/{id}/restore",
	    AR_REVISION_RESTORE, admin_page_revision_restore, f_csrf, 4096,
	    LOGIN),
	ADMIN_GET("/admin/media", AR_MEDIA, admin_page_media, LOGIN),
	ADMIN_POST("/admin/media", AR_MEDIA_UPLOAD, admin_page_media_upload,
	    f_upload, UPLOAD_DEFAULT + UPLOAD_FORM_MAX, LOGIN),
	ADMIN_GET("/admin/pings", AR_PINGS, admin_page_pings, EDITOR),
};
const size_t admin_nroutes = sizeof(admin_routes) / sizeof(admin_routes[0]);

void
admin_routes_limit(struct http_route *routes, size_t n, int64_t upload_max)
{
	size_t up = upload_max > 0 ? (size_t)upload_max : UPLOAD_DEFAULT;
	for (size_t i = 0; i < n; i++) {
		switch (routes[i].id) {
		case AR_ARTICLE_CREATE:
		case AR_ARTICLE_PREVIEW:
		case AR_ARTICLE_SAVE:
			routes[i].body_max = up + ARTICLE_FORM_MAX;
			break;
		case AR_MEDIA_UPLOAD:
			routes[i].body_max = up + UPLOAD_FORM_MAX;
			break;
		default:
			break;
		}
	}
}
