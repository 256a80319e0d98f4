/*
 * What every reader submission passes, whichever door it came through: a
 * comment (form or JSON) or a ping (TrackBack, Pingback, Webmention).
 * Text is normalised the one way, the per-address rate is one limiter
 * (keyed by http_ip_key: an IPv4 address, an IPv6 /64), and the
 * moderation setting, NG words and bans decide the status the same way,
 * so a spammer gains nothing by switching from the comment form to pings.
 */
#include "site_int.h"

#include <string.h>
#include <time.h>

/* Seconds on a clock that never steps back, for the rate limiters. */
static double
screen_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool
screen_take(guard_limiter *l, const char *ip, int *retry_after)
{
	char key[HTTP_IP_KEY_MAX];
	return guard_limiter_take(l, http_ip_key(ip, key), screen_mono(),
	    retry_after);
}

/* Whether c is white space screen_text trims (ASCII, or U+3000 when
 * three bytes are left); its length, 0 when not. */
static size_t
screen_space(const char *p, size_t n)
{
	if (n >= 1 && (p[0] == ' ' || p[0] == '\n' || p[0] == '\t'))
		return 1;
	if (n >= 3 && memcmp(p, "\xe3\x80\x80", 3) == 0)
		return 3;
	return 0;
}

const char *
screen_text(arena *a, const char *s, bool multiline, enum text_bad *why)
{
	size_t n = strlen(s);
	enum text_bad bad = text_check(s, n);
	if (why)
		*why = bad;
	if (bad != TEXT_GOOD)
		return NULL;
	buf t, out;
	buf_init(&t, 1 << 22);
	buf_init(&out, 1 << 22);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r') {
			if (i + 1 < n && s[i + 1] == '\n')
				continue;
			buf_putc(&t, multiline ? '\n' : ' ');
		} else if (!multiline && (s[i] == '\n' || s[i] == '\t')) {
			buf_putc(&t, ' ');
		} else {
			buf_putc(&t, s[i]);
		}
	}
	const char *r = NULL;
	if (!t.err && text_nfc(&out, buf_cstr(&t), t.len)) {
		const char *p = buf_cstr(&out);
		size_t start = 0, len = out.len, k;
		/* Trim both ends (ASCII white space and U+3000). */
		while ((k = screen_space(p + start, len - start)) > 0)
			start += k;
		for (;;) {
			if (len > start && (p[len - 1] == ' ' || p[len - 1] == '\n' ||
			    p[len - 1] == '\t'))
				len--;
			else if (len >= start + 3 &&
			    memcmp(p + len - 3, "\xe3\x80\x80", 3) == 0)
				len -= 3;
			else
				break;
		}
		r = arena_strndup(a, p + start, len - start);
	}
	buf_free(&t);
	buf_free(&out);
	return r;
}

/* Whether name folds to key (a nickname's text_fold, not empty): what
 * text_confusable tells, with one side folded already. */
static bool
screen_keys_as(const buf *key, const char *name)
{
	buf k;
	buf_init(&k, 0);
	bool same = *name && text_fold(&k, name, strlen(name),
	    TEXT_FOLD_SEPARATORS) && k.len == key->len &&
	    memcmp(k.ptr, key->ptr, k.len) == 0;
	buf_free(&k);
	return same;
}

enum cerr
screen_nickname(store *st, const struct site_conf *c, const char *nick,
    arena *a)
{
	size_t n = strlen(nick);
	const char *dflt = c->str[CONF_DEFAULT_NAME];
	if (text_has_bidi(nick, n))
		return CE_NICK_BIDI;
	if (text_invisible(nick, n))
		return CE_NICK_BLANK;
	/* The nickname's key is made once and compared with each name's
	 * (text_confusable would fold it again for every name). */
	buf key;
	buf_init(&key, 0);
	enum cerr e = CE_OK;
	if (!text_fold(&key, nick, n, TEXT_FOLD_SEPARATORS) || key.len == 0)
		goto out;
	/* Typing the default name is the same as leaving the field empty;
	 * anything else that keys like it is a disguise. */
	if (strcmp(nick, dflt) != 0 && screen_keys_as(&key, dflt)) {
		e = CE_NICK_CONFUSABLE;
		goto out;
	}
	struct store_user *us;
	size_t nu;
	if (store_user_list(st, a, &us, &nu) != STORE_OK) {
		e = CE_STORE;
		goto out;
	}
	for (size_t i = 0; i < nu && e == CE_OK; i++)
		if (us[i].display_name && screen_keys_as(&key, us[i].display_name))
			e = CE_NICK_CONFUSABLE;
out:
	buf_free(&key);
	return e;
}

bool
screen_banned(store *st, const char *ip, const char *visitor, arena *a)
{
	bool yes = false;
	if (store_ban_exact(st, ip, visitor, &yes) == STORE_OK && yes)
		return true;
	/* Only the ranges: reading every ban (newest first, as the admin
	 * lists them) cost each post a statement over the whole table, and
	 * missed ranges older than the newest thousand bans. */
	struct store_ban *bs;
	size_t n;
	if (store_ban_ranges(st, a, &bs, &n) != STORE_OK)
		return false;
	for (size_t i = 0; i < n; i++)
		if (http_ip_in_cidr(ip, bs[i].value))
			return true;
	return false;
}

bool
screen_moderate(store *st, const struct site_conf *c, const guard_ngwords *ng,
    const char *visitor, const char *const *texts, size_t ntexts,
    enum store_cstatus *status, const char **reason)
{
	*status = CSTATUS_APPROVED;
	*reason = "";
	const char *mod = c->str[CONF_MODERATION];
	if (strcmp(mod, "all") == 0) {
		*status = CSTATUS_PENDING;
		*reason = "all";
	} else if (strcmp(mod, "first") == 0) {
		bool known = false;
		if (visitor == NULL || store_visitor_approved(st, visitor, &known) !=
		    STORE_OK || !known) {
			*status = CSTATUS_PENDING;
			*reason = "first";
		}
	}
	bool hit = false;
	for (size_t i = 0; ng && i < ntexts && !hit; i++)
		hit = texts[i] && guard_ngwords_match(ng, texts[i],
		    strlen(texts[i]), NULL);
	if (hit) {
		if (strcmp(c->str[CONF_NG_ACTION], "reject") == 0)
			return false;
		*status = CSTATUS_PENDING;
		*reason = "ngword";
	}
	return true;
}
