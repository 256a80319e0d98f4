/*
 * Site settings for admins: every key `kiji config list` shows, grouped
 * by prefix (site., comments., http. ...), one form per group. Values are
 * checked by the site's own validator (the hooks), the very rules of
 * `kiji config set`; a group is saved only when all its values pass.
 */
#include "admin_int.h"

#include <stdlib.h>
#include <string.h>

#define SETTINGS_MAX 256 /* keys listed; far more than there are */

/* The prefix of key up to its first '.', arena-allocated. */
static const char *
group_of(struct admin_req *q, const char *key)
{
	size_t n = strcspn(key, ".");
	return arena_strndup(q->a, key, n);
}

/* Text that spans lines (the NG word list) gets a text area. */
static bool
multiline(const struct admin_setting *s)
{
	return !s->number && !s->choices && s->max > 1000;
}

/* The settings page; typed (when not NULL) holds the submitted values to
 * show again, why the reasons of the refused ones. */
static void
settings_page(struct admin_req *q, const struct admin_setting *typed,
    const char *const *why, size_t ntyped, enum admin_msg err, int status)
{
	arena *a = q->a;
	admin_view(q, admin_msg(q, AMSG_SETTINGS));
	if (err != AMSG__MAX)
		admin_form_error(q, err);
	tv *groups = tv_set(q->root, "groups", tv_list(a));
	tv *g = NULL, *items = NULL;
	const char *gname = "";
	struct admin_setting s;
	for (size_t i = 0; i < SETTINGS_MAX &&
	    q->ad->hooks.setting(q->ad->hooks.ctx, i, &s); i++) {
		const char *grp = group_of(q, s.key);
		if (g == NULL || strcmp(grp, gname) != 0) {
			g = tv_push(groups, tv_dict(a));
			tv_set_str(a, g, "name", grp);
			items = tv_set(g, "items", tv_list(a));
			gname = grp;
		}
		const char *value = s.value, *reason = "";
		for (size_t k = 0; k < ntyped; k++)
			if (strcmp(typed[k].key, s.key) == 0) {
				value = typed[k].value;
				reason = why[k] ? why[k] : "";
			}
		tv *d = tv_push(items, tv_dict(a));
		tv_set_str(a, d, "key", s.key);
		tv_set_str(a, d, "id", arena_printf(a, "set-%zu", i));
		/* a password never goes back out, not even in the form */
		tv_set_str(a, d, "value", s.secret ? "" : value);
		tv_set_str(a, d, "def", s.def);
		tv_set_str(a, d, "help", s.help);
		tv_set_str(a, d, "why", reason);
		tv_set_bool(a, d, "is_default", strcmp(s.value, s.def) == 0);
		if (s.choices) {
			tv_set_bool(a, d, "select", true);
			tv *ch = tv_set(d, "choices", tv_list(a));
			for (const char *p = s.choices; *p;) {
				size_t n = strcspn(p, "|");
				tv *o = tv_push(ch, tv_dict(a));
				const char *v = arena_strndup(a, p, n);
				tv_set_str(a, o, "v", v);
				tv_set_bool(a, o, "selected", strcmp(v, value) == 0);
				p += n + (p[n] == '|');
			}
		} else if (s.number) {
			tv *nd = tv_set(d, "number", tv_dict(a));
			tv_set_int(a, nd, "min", s.min);
			tv_set_int(a, nd, "max", s.max);
		} else if (s.secret) {
			tv_set_bool(a, d, "secret", true);
			tv_set_bool(a, d, "is_set", *s.value != '\0');
			tv_set_int(a, d, "max", s.max);
		} else if (multiline(&s)) {
			tv_set_bool(a, d, "area", true);
		} else {
			tv_set_bool(a, d, "line", true);
			tv_set_int(a, d, "max", s.max);
		}
	}
	admin_render(q, "admin_settings", status);
}

/* The current value of key ("" when unknown). */
static const char *
s_value(struct admin_req *q, const char *key)
{
	struct admin_setting s;
	for (size_t j = 0; j < SETTINGS_MAX &&
	    q->ad->hooks.setting(q->ad->hooks.ctx, j, &s); j++)
		if (strcmp(s.key, key) == 0)
			return s.value;
	return "";
}

ADMIN_HANDLER(admin_page_settings)
{
	struct admin_req *q = qv;
	(void)m;
	settings_page(q, NULL, NULL, 0, AMSG__MAX, 200);
}

/*
 * POST /admin/settings: the fields are setting keys (anything else but
 * the token is refused). Every value is validated first; only when all
 * pass are the changed ones stored, so a group is never half saved.
 */
ADMIN_HANDLER(admin_page_settings_save)
{
	struct admin_req *q = qv;
	(void)m;
	arena *a = q->a;
	size_t n = q->r->nform;
	struct admin_setting *in = arena_alloc(a, (n + 1) * sizeof(*in));
	const char **why = arena_alloc(a, (n + 1) * sizeof(*why));
	size_t k = 0;
	bool bad = false;
	for (size_t i = 0; i < n; i++) {
		const struct http_kv *kv = &q->r->form[i];
		if (strcmp(kv->name, ADMIN_CSRF_FIELD) == 0)
			continue;
		struct admin_setting s;
		bool known = false;
		for (size_t j = 0; j < SETTINGS_MAX &&
		    q->ad->hooks.setting(q->ad->hooks.ctx, j, &s); j++)
			if (strcmp(s.key, kv->name) == 0) {
				known = true;
				break;
			}
		if (!known) {
			admin_error(q, 400);
			return;
		}
		/* A text area sends CRLF; the stored list uses LF. */
		buf v;
		buf_init(&v, kv->value_len + 1);
		for (size_t c = 0; c < kv->value_len; c++)
			if (!(kv->value[c] == '\r' && kv->value[c + 1] == '\n'))
				buf_putc(&v, kv->value[c]);
		in[k] = s;
		in[k].value = arena_strdup(a, buf_cstr(&v));
		buf_free(&v);
		/* a password left empty is left as it is (it is never shown) */
		if (s.secret && *in[k].value == '\0')
			continue;
		buf w;
		buf_init(&w, 512);
		why[k] = NULL;
		if (!q->ad->hooks.setting_check(q->ad->hooks.ctx, in[k].key,
		    in[k].value, &w)) {
			why[k] = arena_strdup(a, buf_cstr(&w));
			bad = true;
		}
		buf_free(&w);
		k++;
	}
	if (bad) {
		settings_page(q, in, why, k, AMSG_SETTING_BAD, 422);
		return;
	}
	/* All pass: store what changed (each store is a cache flush). */
	size_t saved = 0;
	for (size_t i = 0; i < k; i++) {
		if (strcmp(in[i].value, s_value(q, in[i].key)) == 0)
			continue;
		buf w;
		buf_init(&w, 512);
		bool ok = q->ad->hooks.setting_set(q->ad->hooks.ctx, in[i].key,
		    in[i].value, &w);
		buf_free(&w);
		if (!ok) {
			admin_error(q, 503);
			return;
		}
		saved++;
	}
	admin_redirect(q, "/admin/settings", saved ? AMSG_SAVED : AMSG__MAX,
	    (int64_t)saved);
}
