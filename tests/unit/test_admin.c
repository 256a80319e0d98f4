/*
 * The editor area's storage and helpers against real database files:
 * sessions (stored by hash, joined with their user, stale after a
 * password change), login failure counts, the moderation queue and
 * counts, placeholders for spammed parents, bans and address ranges,
 * category and tag edits with reassignment, redirects.
 */
#include "../../src/admin/admin_int.h"
#include "../../src/http/http.h"
#include "../../src/store/store.h"
#include "t_db.h"

#include <unistd.h>

#define NOW ((int64_t)1700000000)

static int64_t
add_user(store *s, const char *name, enum store_role role)
{
	struct store_user u = {.name = name, .display_name = name, .role = role,
	    .pass_hash = "", .email = ""};
	int64_t id = 0;
	T_CHECK(store_user_add(s, &u, &id) == STORE_OK);
	return id;
}

static int64_t
add_post(store *s, const char *title, int64_t cat)
{
	struct store_article a = {
		.kind = KIND_POST, .title = title, .body = "b",
		.body_format = FORMAT_MARKDOWN, .body_html = "<p>b</p>",
		.body_text = "b", .status = STATUS_PUBLISHED, .published_at = NOW,
		.updated_at = NOW, .category_id = cat, .comments_open = true,
	};
	T_CHECK(store_article_add(s, &a) == STORE_OK);
	return a.id;
}

static int64_t
add_comment(store *s, int64_t art, int64_t parent, enum store_cstatus st,
    const char *body, const char *reason, int64_t at)
{
	struct store_comment c = {
		.article_id = art, .parent_id = parent, .type = CTYPE_COMMENT,
		.nickname = "名前", .ip = "203.0.113.9", .visitor_id = "v1",
		.body = body, .created_at = at, .status = st,
		.pending_reason = reason,
	};
	T_CHECK(store_comment_add(s, &c) == STORE_OK);
	return c.id;
}

/* ---- cases ---------------------------------------------------------------- */

static void
test_sessions(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	int64_t uid = add_user(s, "ed", ROLE_EDITOR);
	struct store_session ss;
	T_CHECK(store_session_add(s, "h1", uid, "tok", NOW, "10.0.0.1", "UA") ==
	    STORE_OK);
	T_CHECK(store_session_add(s, "h2", 999, "tok", NOW, "", "") ==
	    STORE_NOTFOUND);
	T_CHECK(store_session_add(s, "h1", uid, "tok", NOW, "", "") ==
	    STORE_CONFLICT);
	T_CHECK(store_session_get(s, "h1", a, &ss) == STORE_OK);
	T_CHECK(ss.user_id == uid && ss.role == ROLE_EDITOR && !ss.stale &&
	    !ss.disabled && ss.created_at == NOW && ss.seen_at == NOW);
	T_STREQ(ss.csrf, "tok");
	T_STREQ(ss.name, "ed");
	T_CHECK(store_session_touch(s, "h1", NOW + 100) == STORE_OK);
	T_CHECK(store_session_get(s, "h1", a, &ss) == STORE_OK &&
	    ss.seen_at == NOW + 100 && ss.created_at == NOW);
	/* A new password makes older sessions stale; disabling shows too. */
	T_CHECK(store_user_set_password(s, uid, "x") == STORE_OK);
	T_CHECK(store_session_get(s, "h1", a, &ss) == STORE_OK && ss.stale);
	T_CHECK(store_session_add(s, "h3", uid, "t3", NOW, "", "") == STORE_OK);
	T_CHECK(store_session_get(s, "h3", a, &ss) == STORE_OK && !ss.stale);
	T_CHECK(store_user_set_disabled(s, uid, true) == STORE_OK);
	T_CHECK(store_session_get(s, "h3", a, &ss) == STORE_OK && ss.disabled);
	/* Prune: idle before, or made before. */
	T_CHECK(store_sessions_prune(s, NOW + 50, NOW - 10) == STORE_OK);
	T_CHECK(store_session_get(s, "h3", a, &ss) == STORE_NOTFOUND);
	T_CHECK(store_session_get(s, "h1", a, &ss) == STORE_OK);
	T_CHECK(store_sessions_prune(s, 0, NOW + 1) == STORE_OK);
	T_CHECK(store_session_get(s, "h1", a, &ss) == STORE_NOTFOUND);
	T_CHECK(store_session_delete(s, "h1") == STORE_NOTFOUND);
	arena_free(a);
	store_close(s);
}

static void
test_login_failures(void)
{
	store *s = t_db_open();
	int64_t f, t;
	T_CHECK(store_login_failures(s, "a:x|1", &f, &t) == STORE_OK && f == 0 &&
	    t == 0);
	for (int i = 0; i < 3; i++)
		T_CHECK(store_login_fail(s, "a:x|1", NOW + i, NOW - 86400) ==
		    STORE_OK);
	T_CHECK(store_login_failures(s, "a:x|1", &f, &t) == STORE_OK && f == 3 &&
	    t == NOW + 2);
	/* A count older than the forget line starts again. */
	T_CHECK(store_login_fail(s, "a:x|1", NOW + 10, NOW + 5) == STORE_OK);
	T_CHECK(store_login_failures(s, "a:x|1", &f, &t) == STORE_OK && f == 1);
	T_CHECK(store_login_fail(s, "i:1", NOW, 0) == STORE_OK);
	T_CHECK(store_login_clear(s, "a:x|1") == STORE_OK);
	T_CHECK(store_login_clear(s, "a:x|1") == STORE_OK);
	T_CHECK(store_login_failures(s, "a:x|1", &f, &t) == STORE_OK && f == 0);
	T_CHECK(store_login_prune(s, NOW + 1) == STORE_OK);
	T_CHECK(store_login_failures(s, "i:1", &f, &t) == STORE_OK && f == 0);
	store_close(s);
}

static void
test_queue_and_counts(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	int64_t a1 = add_post(s, "記事ひとつ", 0), a2 = add_post(s, "記事ふたつ", 0);
	int64_t c1 = add_comment(s, a1, 0, CSTATUS_PENDING, "p1", "first", NOW);
	add_comment(s, a1, 0, CSTATUS_APPROVED, "ok", "", NOW + 1);
	int64_t c3 = add_comment(s, a2, 0, CSTATUS_PENDING, "p2", "ngword", NOW + 2);
	add_comment(s, a2, 0, CSTATUS_SPAM, "sp", "", NOW + 3);
	int64_t counts[CSTATUS__MAX];
	T_CHECK(store_comment_counts(s, 0, counts) == STORE_OK);
	T_CHECK(counts[CSTATUS_PENDING] == 2 && counts[CSTATUS_APPROVED] == 1 &&
	    counts[CSTATUS_SPAM] == 1 && counts[CSTATUS_TRASH] == 0);
	T_CHECK(store_comment_counts(s, a1, counts) == STORE_OK &&
	    counts[CSTATUS_PENDING] == 1 && counts[CSTATUS_SPAM] == 0);
	struct store_comment *cs;
	size_t n;
	int64_t total;
	T_CHECK(store_comments_queue(s, CSTATUS_PENDING, 0, 0, 10, a, &cs, &n,
	    &total) == STORE_OK);
	T_CHECK(n == 2 && total == 2 && cs[0].id == c3 && cs[1].id == c1);
	if (n == 2) {
		T_STREQ(cs[0].article_title, "記事ふたつ");
		T_STREQ(cs[0].pending_reason, "ngword");
		T_STREQ(cs[1].pending_reason, "first");
		T_STREQ(cs[1].ip, "203.0.113.9");
	}
	T_CHECK(store_comments_queue(s, CSTATUS__MAX, a1, 0, 10, a, &cs, &n,
	    &total) == STORE_OK && n == 2 && total == 2);
	T_CHECK(store_comments_queue(s, CSTATUS__MAX, 0, 1, 2, a, &cs, &n,
	    &total) == STORE_OK && n == 2 && total == 4);
	T_CHECK(store_comment_set_body(s, c1, "直した") == STORE_OK);
	struct store_comment one;
	T_CHECK(store_comment_get(s, c1, a, &one) == STORE_OK);
	T_STREQ(one.body, "直した");
	T_CHECK(store_comment_set_body(s, 99999, "x") == STORE_NOTFOUND);
	int64_t st[STATUS__MAX];
	T_CHECK(store_article_status_counts(s, st) == STORE_OK &&
	    st[STATUS_PUBLISHED] == 2 && st[STATUS_DRAFT] == 0);
	arena_free(a);
	store_close(s);
}

static void
test_placeholders(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	int64_t art = add_post(s, "t", 0);
	int64_t p = add_comment(s, art, 0, CSTATUS_APPROVED, "親", "", NOW);
	int64_t r = add_comment(s, art, p, CSTATUS_APPROVED, "子", "", NOW + 1);
	int64_t g = add_comment(s, art, r, CSTATUS_APPROVED, "孫", "", NOW + 2);
	int64_t lone = add_comment(s, art, 0, CSTATUS_APPROVED, "独り", "", NOW + 3);
	T_CHECK(store_comment_set_status(s, p, CSTATUS_SPAM) == STORE_OK);
	T_CHECK(store_comment_set_status(s, r, CSTATUS_TRASH) == STORE_OK);
	T_CHECK(store_comment_set_status(s, lone, CSTATUS_SPAM) == STORE_OK);
	struct store_comment *cs;
	size_t n;
	T_CHECK(store_comments_for_article(s, art, CTYPE__MAX, NULL, a, &cs, &n) ==
	    STORE_OK);
	/* p and r as placeholders above g; lone is simply gone. */
	T_CHECK(n == 3);
	if (n == 3) {
		T_CHECK(cs[0].id == p && cs[0].placeholder && *cs[0].body == '\0' &&
		    *cs[0].nickname == '\0' && *cs[0].ip == '\0' &&
		    cs[0].like_count == 0);
		T_CHECK(cs[1].id == r && cs[1].placeholder && cs[1].parent_id == p);
		T_CHECK(cs[2].id == g && !cs[2].placeholder);
		T_STREQ(cs[2].body, "孫");
	}
	/* g gone too: nothing left to hold a place for. */
	T_CHECK(store_comment_set_status(s, g, CSTATUS_PENDING) == STORE_OK);
	T_CHECK(store_comments_for_article(s, art, CTYPE__MAX, NULL, a, &cs, &n) ==
	    STORE_OK && n == 0);
	/* ... but its own author sees it, under the placeholders. */
	T_CHECK(store_comments_for_article(s, art, CTYPE__MAX, "v1", a, &cs, &n) ==
	    STORE_OK && n == 3);
	arena_free(a);
	store_close(s);
}

/* What a reader is shown, in (created_at, id) order: approved comments
 * and the reader's own pending ones merged, with ties on the time in id
 * order; a reply whose parent is pending for someone else comes without
 * a placeholder for it (the store's second, recursive statement). */
static void
test_shown_order(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	int64_t art = add_post(s, "t", 0);
	int64_t c1 = add_comment(s, art, 0, CSTATUS_APPROVED, "1", "", NOW);
	int64_t c2 = add_comment(s, art, 0, CSTATUS_APPROVED, "2", "", NOW + 2);
	int64_t p1 = add_comment(s, art, c1, CSTATUS_PENDING, "p", "all", NOW + 1);
	int64_t c3 = add_comment(s, art, c1, CSTATUS_APPROVED, "3", "", NOW + 2);
	int64_t p2 = add_comment(s, art, 0, CSTATUS_PENDING, "q", "all", NOW + 2);
	struct store_comment other = {
		.article_id = art, .type = CTYPE_COMMENT, .nickname = "他",
		.ip = "203.0.113.10", .visitor_id = "v2", .body = "o",
		.created_at = NOW + 3, .status = CSTATUS_PENDING,
		.pending_reason = "all",
	};
	T_CHECK(store_comment_add(s, &other) == STORE_OK);
	struct store_comment *cs;
	size_t n;
	T_CHECK(store_comments_for_article(s, art, CTYPE__MAX, "v1", a, &cs, &n) ==
	    STORE_OK && n == 5);
	if (n == 5)
		T_CHECK(cs[0].id == c1 && cs[1].id == p1 && cs[2].id == c2 &&
		    cs[3].id == c3 && cs[4].id == p2 && !cs[1].placeholder &&
		    cs[1].status == CSTATUS_PENDING && cs[1].parent_id == c1);
	T_CHECK(store_comments_for_article(s, art, CTYPE__MAX, NULL, a, &cs, &n) ==
	    STORE_OK && n == 3);
	if (n == 3)
		T_CHECK(cs[0].id == c1 && cs[1].id == c2 && cs[2].id == c3);
	/* A reply to v2's pending comment: shown alone, no placeholder. */
	int64_t r = add_comment(s, art, other.id, CSTATUS_APPROVED, "r", "",
	    NOW + 4);
	T_CHECK(store_comments_for_article(s, art, CTYPE__MAX, NULL, a, &cs, &n) ==
	    STORE_OK && n == 4);
	if (n == 4)
		T_CHECK(cs[3].id == r && cs[3].parent_id == other.id &&
		    !cs[3].placeholder);
	T_CHECK(store_comments_for_article(s, art, CTYPE__MAX, "v2", a, &cs, &n) ==
	    STORE_OK && n == 5);
	if (n == 5)
		T_CHECK(cs[3].id == other.id && cs[4].id == r);
	arena_free(a);
	store_close(s);
}

static void
test_bans(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	struct store_ban b = {.kind = BAN_IP, .value = "198.51.100.7",
	    .note = "n", .created_at = NOW};
	int64_t id = 0;
	bool yes;
	T_CHECK(store_ban_add(s, &b, &id) == STORE_OK && id > 0);
	T_CHECK(store_ban_add(s, &b, NULL) == STORE_CONFLICT);
	b = (struct store_ban){.kind = BAN_VISITOR, .value = "abc",
	    .created_at = NOW + 1};
	T_CHECK(store_ban_add(s, &b, NULL) == STORE_OK);
	b = (struct store_ban){.kind = BAN_RANGE, .value = "192.0.2.0/24",
	    .created_at = NOW + 2};
	T_CHECK(store_ban_add(s, &b, NULL) == STORE_OK);
	T_CHECK(store_ban_exact(s, "198.51.100.7", "zzz", &yes) == STORE_OK && yes);
	T_CHECK(store_ban_exact(s, "198.51.100.8", "abc", &yes) == STORE_OK && yes);
	T_CHECK(store_ban_exact(s, "192.0.2.1", NULL, &yes) == STORE_OK && !yes);
	struct store_ban *bs;
	size_t n;
	T_CHECK(store_bans(s, 10, a, &bs, &n) == STORE_OK && n == 3);
	if (n == 3) {
		T_CHECK(bs[0].kind == BAN_RANGE);
		T_STREQ(bs[0].value, "192.0.2.0/24");
	}
	/* the ranges, however many newer bans there are (screen_banned
	 * once read only the newest thousand) */
	for (int i = 0; i < 1100; i++) {
		char v[32];
		snprintf(v, sizeof(v), "203.0.113.%d/%d", i % 256, 24 + i / 256);
		b = (struct store_ban){.kind = i % 2 ? BAN_IP : BAN_RANGE,
		    .value = v, .created_at = NOW + 10 + i};
		if (i % 2)
			snprintf(v, sizeof(v), "198.18.%d.%d", i / 256, i % 256);
		T_CHECK(store_ban_add(s, &b, NULL) == STORE_OK);
	}
	T_CHECK(store_ban_ranges(s, a, &bs, &n) == STORE_OK && n == 551);
	if (n == 551) {
		T_STREQ(bs[0].value, "192.0.2.0/24"); /* the oldest first */
		for (size_t i = 0; i < n; i++)
			T_CHECK(bs[i].kind == BAN_RANGE);
	}
	T_CHECK(store_ban_delete(s, id) == STORE_OK);
	T_CHECK(store_ban_delete(s, id) == STORE_NOTFOUND);
	T_CHECK(store_ban_exact(s, "198.51.100.7", NULL, &yes) == STORE_OK && !yes);
	arena_free(a);
	store_close(s);
}

static void
test_cidr(void)
{
	T_CHECK(http_cidr_ok("10.0.0.1"));
	T_CHECK(http_cidr_ok("10.0.0.0/8"));
	T_CHECK(http_cidr_ok("2001:db8::/32"));
	T_CHECK(http_cidr_ok("::1"));
	T_CHECK(!http_cidr_ok("10.0.0.0/33"));
	T_CHECK(!http_cidr_ok("10.0.0.0/"));
	T_CHECK(!http_cidr_ok("10.0.0.0/x"));
	T_CHECK(!http_cidr_ok("999.0.0.1"));
	T_CHECK(!http_cidr_ok(""));
	T_CHECK(!http_cidr_ok("2001:db8::/129"));
	T_CHECK(http_ip_in_cidr("192.0.2.77", "192.0.2.0/24"));
	T_CHECK(!http_ip_in_cidr("192.0.3.77", "192.0.2.0/24"));
	T_CHECK(http_ip_in_cidr("192.0.2.77", "192.0.2.77"));
	T_CHECK(!http_ip_in_cidr("192.0.2.78", "192.0.2.77"));
	T_CHECK(http_ip_in_cidr("10.200.3.4", "10.0.0.0/8"));
	T_CHECK(http_ip_in_cidr("1.2.3.4", "0.0.0.0/0"));
	T_CHECK(!http_ip_in_cidr("2001:db8::1", "0.0.0.0/0"));
	T_CHECK(http_ip_in_cidr("2001:db8:1::5", "2001:db8::/32"));
	T_CHECK(!http_ip_in_cidr("2001:db9::5", "2001:db8::/32"));
	T_CHECK(http_ip_in_cidr("192.0.2.130", "192.0.2.128/25"));
	T_CHECK(!http_ip_in_cidr("192.0.2.127", "192.0.2.128/25"));
	T_CHECK(!http_ip_in_cidr("junk", "0.0.0.0/0"));
	T_CHECK(!http_ip_in_cidr(NULL, "0.0.0.0/0"));
}

static void
test_categories_tags(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	struct store_category c = {.slug = "top", .name = "Top"};
	int64_t top = 0, kid = 0, other = 0;
	T_CHECK(store_category_add(s, &c, &top) == STORE_OK);
	c = (struct store_category){.slug = "kid", .name = "Kid", .parent_id = top};
	T_CHECK(store_category_add(s, &c, &kid) == STORE_OK);
	c = (struct store_category){.slug = "other", .name = "Other"};
	T_CHECK(store_category_add(s, &c, &other) == STORE_OK);
	/* A loop and a missing parent are refused; a taken slug conflicts. */
	c = (struct store_category){.id = top, .slug = "top", .name = "Top",
	    .parent_id = kid};
	T_CHECK(store_category_update(s, &c) == STORE_INVALID);
	c.parent_id = top;
	T_CHECK(store_category_update(s, &c) == STORE_INVALID);
	c.parent_id = 4242;
	T_CHECK(store_category_update(s, &c) == STORE_INVALID);
	c = (struct store_category){.id = top, .slug = "other", .name = "T"};
	T_CHECK(store_category_update(s, &c) == STORE_CONFLICT);
	c = (struct store_category){.id = top, .slug = "top2", .name = "Top 2",
	    .description = "d"};
	T_CHECK(store_category_update(s, &c) == STORE_OK);
	struct store_category got;
	T_CHECK(store_category_get(s, top, a, &got) == STORE_OK);
	T_STREQ(got.slug, "top2");
	int64_t art = add_post(s, "in top", top);
	int64_t *ids, *cnts;
	size_t n;
	T_CHECK(store_category_usage(s, a, &ids, &cnts, &n) == STORE_OK && n == 1 &&
	    ids[0] == top && cnts[0] == 1);
	T_CHECK(store_category_delete(s, top, top) == STORE_INVALID);
	T_CHECK(store_category_delete(s, top, 4242) == STORE_INVALID);
	T_CHECK(store_category_delete(s, top, other) == STORE_OK);
	T_CHECK(store_category_get(s, top, a, &got) == STORE_NOTFOUND);
	T_CHECK(store_category_get(s, kid, a, &got) == STORE_OK && got.parent_id == 0);
	struct store_article ar;
	T_CHECK(store_article_get_any(s, art, a, &ar) == STORE_OK &&
	    ar.category_id == other);
	T_CHECK(store_category_delete(s, top, 0) == STORE_NOTFOUND);

	struct store_tag t = {.slug = "t1", .name = "T1"};
	int64_t t1 = 0, t2 = 0;
	T_CHECK(store_tag_add(s, &t, &t1) == STORE_OK);
	t = (struct store_tag){.slug = "t2", .name = "T2"};
	T_CHECK(store_tag_add(s, &t, &t2) == STORE_OK);
	t = (struct store_tag){.id = t1, .slug = "t2", .name = "x"};
	T_CHECK(store_tag_update(s, &t) == STORE_CONFLICT);
	t = (struct store_tag){.id = t1, .slug = "t1b", .name = "T1b"};
	T_CHECK(store_tag_update(s, &t) == STORE_OK);
	struct store_tag tg;
	T_CHECK(store_tag_get(s, t1, a, &tg) == STORE_OK);
	T_STREQ(tg.slug, "t1b");
	struct store_article up;
	T_CHECK(store_article_get_any(s, art, a, &up) == STORE_OK);
	struct store_tag both[2] = {{.id = t1}, {.id = t2}};
	up.tags = both;
	up.ntags = 2;
	T_CHECK(store_article_update(s, &up) == STORE_OK);
	struct store_tag *ts;
	int64_t *tc, total;
	T_CHECK(store_tags_page(s, 0, 10, a, &ts, &tc, &n, &total) == STORE_OK &&
	    n == 2 && total == 2 && tc[0] == 1 && tc[1] == 1);
	/* Merging t1 into t2: the article keeps one t2 row. */
	T_CHECK(store_tag_delete(s, t1, t2) == STORE_OK);
	T_CHECK(store_tags_page(s, 0, 10, a, &ts, &tc, &n, &total) == STORE_OK &&
	    n == 1 && ts[0].id == t2 && tc[0] == 1);
	T_CHECK(store_tag_delete(s, t1, 0) == STORE_NOTFOUND);
	T_CHECK(store_tag_delete(s, t2, 777) == STORE_INVALID);
	T_CHECK(store_tag_delete(s, t2, 0) == STORE_OK);
	arena_free(a);
	store_close(s);
}

static void
test_redirects(void)
{
	store *s = t_db_open();
	arena *a = arena_new(0);
	const char *to;
	T_CHECK(store_redirect_set(s, "/a", "/b") == STORE_OK);
	T_CHECK(store_redirect_set(s, "/a", "/c") == STORE_OK);
	T_CHECK(store_redirect_get(s, "/a", a, &to) == STORE_OK);
	T_STREQ(to, "/c");
	T_CHECK(store_redirect_add(s, "/a", "/d") == STORE_CONFLICT);
	T_CHECK(store_redirect_add(s, "/0", "/d") == STORE_OK);
	struct store_redirect *rs;
	size_t n;
	int64_t total;
	T_CHECK(store_redirects(s, 0, 1, a, &rs, &n, &total) == STORE_OK &&
	    n == 1 && total == 2);
	if (n == 1)
		T_STREQ(rs[0].from, "/0");
	T_CHECK(store_redirect_delete(s, "/a") == STORE_OK);
	T_CHECK(store_redirect_delete(s, "/a") == STORE_NOTFOUND);
	T_CHECK(store_redirect_get(s, "/a", a, &to) == STORE_NOTFOUND);
	arena_free(a);
	store_close(s);
}

static void
test_slug_and_messages(void)
{
	T_CHECK(admin_slug_ok("a"));
	T_CHECK(admin_slug_ok("us-navy-2026"));
	T_CHECK(!admin_slug_ok(""));
	T_CHECK(!admin_slug_ok("-a"));
	T_CHECK(!admin_slug_ok("a-"));
	T_CHECK(!admin_slug_ok("A"));
	T_CHECK(!admin_slug_ok("a_b"));
	T_CHECK(!admin_slug_ok("日本"));
	/* Every message has a key, Japanese and English, keys unique. */
	for (int i = 0; i < AMSG__MAX; i++) {
		const char *k = admin_msg_key((enum admin_msg)i);
		T_CHECK(k && *k);
		T_CHECK(*admin_msg_get(ALANG_JA, (enum admin_msg)i));
		T_CHECK(*admin_msg_get(ALANG_EN, (enum admin_msg)i));
		T_CHECK(admin_msg_find(k) == (enum admin_msg)i);
	}
	T_CHECK(admin_msg_find("no-such-key") == AMSG__MAX);
}

/* Route ids are unique, from ADMIN_ROUTE_BASE, and every POST is
 * CSRF-checked; every route states who may use it (or is the login). */
static void
test_route_table(void)
{
	for (size_t i = 0; i < admin_nroutes; i++) {
		const struct http_route *r = &admin_routes[i];
		T_CHECK(r->id >= ADMIN_ROUTE_BASE && r->fn != NULL);
		T_CHECK(strncmp(r->pattern, "/admin", 6) == 0);
		bool login = r->id == AR_LOGIN || r->id == AR_LOGIN_FORM;
		if (!login)
			T_CHECK(r->flags & (HTTP_RF_LOGIN | HTTP_RF_EDITOR |
			    HTTP_RF_ADMIN));
		if (r->method == HTTP_POST && !login)
			T_CHECK(r->flags & HTTP_RF_CSRF);
		T_CHECK(!r->cacheable);
		for (size_t j = 0; j < i; j++)
			T_CHECK(admin_routes[j].id != r->id ||
			    admin_routes[j].method != r->method ||
			    r->id == AR_DASHBOARD);
	}
}

int
main(void)
{
	if (!t_tmpdir(t_dir, sizeof(t_dir), "admin"))
		return 1;
	T_RUN(test_sessions);
	T_RUN(test_login_failures);
	T_RUN(test_queue_and_counts);
	T_RUN(test_placeholders);
	T_RUN(test_shown_order);
	T_RUN(test_bans);
	T_RUN(test_cidr);
	T_RUN(test_categories_tags);
	T_RUN(test_redirects);
	T_RUN(test_slug_and_messages);
	T_RUN(test_route_table);
	t_tmpdir_remove(t_dir);
	T_DONE();
}
