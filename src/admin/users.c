/*
 * Accounts for admins: list, add, change role, e-mail, display name,
 * reset a password, disable. Everything goes through account.c, the same
 * rules as `kiji user`. A new password or disabling ends the user's
 * sessions at once (cred_epoch). An admin cannot lock themself out.
 */
#include "admin_int.h"

#include <string.h>

static const struct {
	enum store_role role;
	enum admin_msg label;
} role_ui[] = {
	{ROLE_ADMIN, AMSG_ROLE_ADMIN},
	{ROLE_EDITOR, AMSG_ROLE_EDITOR},
	{ROLE_AUTHOR, AMSG_ROLE_AUTHOR},
};
#define NROLES (sizeof(role_ui) / sizeof(role_ui[0]))

static enum admin_msg
role_label(enum store_role r)
{
	for (size_t i = 0; i < NROLES; i++)
		if (role_ui[i].role == r)
			return role_ui[i].label;
	return AMSG_ROLE_AUTHOR;
}

/* {{roles}}: <option>s with sel selected. */
static void
role_options(struct admin_req *q, enum store_role sel)
{
	tv *l = tv_set(q->root, "roles", tv_list(q->a));
	for (size_t i = 0; i < NROLES; i++) {
		tv *d = tv_push(l, tv_dict(q->a));
		tv_set_str(q->a, d, "name", account_role_name(role_ui[i].role));
		tv_set_str(q->a, d, "label", admin_msg(q, role_ui[i].label));
		tv_set_bool(q->a, d, "selected", role_ui[i].role == sel);
	}
}

/* What account.c refused, as a form message. */
static enum admin_msg
account_msg(enum account_err e)
{
	switch (e) {
	case ACCOUNT_BAD_NAME: return AMSG_USER_BAD_NAME;
	case ACCOUNT_BAD_DISPLAY: return AMSG_USER_BAD_DISPLAY;
	case ACCOUNT_BAD_EMAIL: return AMSG_USER_BAD_EMAIL;
	case ACCOUNT_BAD_PASSWORD: return AMSG_USER_BAD_PASSWORD;
	case ACCOUNT_EXISTS: return AMSG_USER_EXISTS;
	default: return AMSG__MAX;
	}
}

static void
users_page(struct admin_req *q, enum admin_msg err, int status)
{
	arena *a = q->a;
	struct store_user *us;
	size_t n;
	if (store_user_list(q->ad->st, a, &us, &n) != STORE_OK) {
		admin_error(q, 503);
		return;
	}
	admin_view(q, admin_msg(q, AMSG_USERS));
	if (err != AMSG__MAX)
		admin_form_error(q, err);
	tv *list = tv_set(q->root, "users", tv_list(a));
	for (size_t i = 0; i < n; i++) {
		tv *d = tv_push(list, tv_dict(a));
		tv_set_int(a, d, "id", us[i].id);
		tv_set_str(a, d, "name", us[i].name);
		tv_set_str(a, d, "display_name", us[i].display_name);
		tv_set_str(a, d, "email", us[i].email ? us[i].email : "");
		tv_set_str(a, d, "role", admin_msg(q, role_label(us[i].role)));
		tv_set_bool(a, d, "disabled", us[i].disabled);
	}
	tv *f = tv_set(q->root, "form", tv_dict(a));
	tv_set_str(a, f, "name", admin_field(q, "name"));
	tv_set_str(a, f, "display_name", admin_field(q, "display_name"));
	tv_set_str(a, f, "email", admin_field(q, "email"));
	enum store_role sel = ROLE_AUTHOR;
	account_role_parse(admin_field(q, "role"), &sel);
	role_options(q, sel);
	admin_render(q, "admin_users", status);
}

ADMIN_HANDLER(admin_page_users)
{
	struct admin_req *q = qv;
	(void)m;
	users_page(q, AMSG__MAX, 200);
}

ADMIN_HANDLER(admin_page_user_add)
{
	struct admin_req *q = qv;
	(void)m;
	struct account_new in = {
		.name = admin_field(q, "name"),
		.display_name = admin_field(q, "display_name"),
		.email = admin_field(q, "email"),
		.password = admin_field(q, "password"),
	};
	if (!account_role_parse(admin_field(q, "role"), &in.role)) {
		admin_error(q, 400);
		return;
	}
	enum account_err e = account_add(q->ad->st, &in, NULL);
	if (account_msg(e) != AMSG__MAX) {
		users_page(q, account_msg(e), 422);
		return;
	}
	if (e != ACCOUNT_OK) {
		admin_error(q, 503);
		return;
	}
	admin_redirect(q, "/admin/users", AMSG_ADDED, 0);
}

static void
user_edit_page(struct admin_req *q, const struct store_user *u,
    enum admin_msg err, int status)
{
	arena *a = q->a;
	admin_view(q, admin_msg(q, AMSG_EDIT_USER));
	if (err != AMSG__MAX)
		admin_form_error(q, err);
	tv *d = tv_set(q->root, "u", tv_dict(a));
	tv_set_int(a, d, "id", u->id);
	tv_set_str(a, d, "name", u->name);
	tv_set_str(a, d, "display_name", u->display_name);
	tv_set_str(a, d, "email", u->email ? u->email : "");
	tv_set_bool(a, d, "disabled", u->disabled);
	tv_set_bool(a, d, "self", u->id == q->user.id);
	role_options(q, u->role);
	admin_render(q, "admin_user_edit", status);
}

ADMIN_HANDLER(admin_page_user_edit_form)
{
	struct admin_req *q = qv;
	struct store_user u;
	enum store_err e = store_user_get(q->ad->st, m->num[0], q->a, &u);
	if (e != STORE_OK) {
		admin_error(q, e == STORE_NOTFOUND ? 404 : 503);
		return;
	}
	user_edit_page(q, &u, AMSG__MAX, 200);
}

/*
 * POST /admin/users/<id>: the checks that cannot fail halfway come first
 * (role, e-mail, not locking oneself out), then the password (refused
 * when too short, before anything is written), then the rest.
 */
ADMIN_HANDLER(admin_page_user_edit)
{
	struct admin_req *q = qv;
	struct store_user u;
	enum store_err se = store_user_get(q->ad->st, m->num[0], q->a, &u);
	if (se != STORE_OK) {
		admin_error(q, se == STORE_NOTFOUND ? 404 : 503);
		return;
	}
	enum store_role role;
	if (!account_role_parse(admin_field(q, "role"), &role)) {
		admin_error(q, 400);
		return;
	}
	const char *email = admin_field(q, "email");
	const char *display = admin_field(q, "display_name");
	const char *pass = admin_field(q, "password");
	bool disabled = strcmp(admin_field(q, "disabled"), "1") == 0;
	struct store_user typed = u;
	typed.email = email;
	typed.display_name = display;
	typed.role = role;
	typed.disabled = disabled;
	if (u.id == q->user.id && (role != ROLE_ADMIN || disabled)) {
		user_edit_page(q, &typed, AMSG_USER_SELF, 422);
		return;
	}
	if (!account_email_valid(email)) {
		user_edit_page(q, &typed, AMSG_USER_BAD_EMAIL, 422);
		return;
	}
	enum account_err e = ACCOUNT_OK;
	if (*pass)
		e = account_set_password(q->ad->st, u.id, pass);
	if (e == ACCOUNT_OK && strcmp(display, u.display_name) != 0)
		e = account_set_display_name(q->ad->st, u.id, display);
	if (e == ACCOUNT_OK && strcmp(email, u.email ? u.email : "") != 0)
		e = account_set_email(q->ad->st, u.id, email);
	if (e == ACCOUNT_OK && role != u.role)
		e = account_set_role(q->ad->st, u.id, role);
	if (e == ACCOUNT_OK && disabled != u.disabled)
		e = account_set_disabled(q->ad->st, u.id, disabled);
	if (account_msg(e) != AMSG__MAX) {
		user_edit_page(q, &typed, account_msg(e), 422);
		return;
	}
	if (e != ACCOUNT_OK) {
		admin_error(q, 503);
		return;
	}
	/* The display name shows on articles. */
	admin_changed(q);
	admin_redirect(q, *pass && u.id == q->user.id ? "/admin/login" :
	    "/admin/users", AMSG_SAVED, 0);
}
