/*
 * Comment boxes kept between renders (site/frag.c): what makes a box's
 * key (every input of the box moves it, nothing else does), and the
 * table's bounds (a big box is not kept, two boxes of one set share it,
 * a third takes the place of the one not asked for), and that an
 * article's boxes are kept from its second render on.
 */
#include "../../src/site/site_int.h"
#include "t.h"

static struct site_conf conf;

static struct req
req_new(void)
{
	conf.str[CONF_TIMEZONE] = "Asia/Tokyo";
	conf.str[CONF_DAILY_ID] = "1";
	return (struct req){.c = &conf, .lang = LANG_JA};
}

static struct store_comment
comment_new(void)
{
	return (struct store_comment){.id = 7, .article_id = 3,
	    .nickname = "名無し", .ip = "192.0.2.1", .body = "本文",
	    .created_at = 1700000000, .status = CSTATUS_APPROVED,
	    .like_count = 2, .email = "a@example.com", .visitor_id = "v1"};
}

static bool
key_eq(const struct site_frag_key *a, const struct site_frag_key *b)
{
	return a->k0 == b->k0 && a->k1 == b->k1;
}

static void
test_key_inputs(void)
{
	buf b;
	buf_init(&b, 1 << 20);
	struct req q = req_new();
	struct store_comment c = comment_new();
	struct site_frag_key k0, k;
	T_CHECK(site_frag_key(&q, 1, &c, 3, false, &b, &k0));
	T_CHECK(site_frag_key(&q, 1, &c, 3, false, &b, &k) && key_eq(&k, &k0));
	/* what the box does not show leaves the key alone */
	c.email = "b@example.com";
	c.visitor_id = "v2";
	T_CHECK(site_frag_key(&q, 1, &c, 3, false, &b, &k) && key_eq(&k, &k0));
	/* everything it shows moves it: an edit, a moderation, a like, ... */
	struct store_comment d;
	d = c; d.body = "本文。";
	T_CHECK(site_frag_key(&q, 1, &d, 3, false, &b, &k) && !key_eq(&k, &k0));
	d = c; d.nickname = "名無しさん";
	T_CHECK(site_frag_key(&q, 1, &d, 3, false, &b, &k) && !key_eq(&k, &k0));
	d = c; d.status = CSTATUS_PENDING;
	T_CHECK(site_frag_key(&q, 1, &d, 3, false, &b, &k) && !key_eq(&k, &k0));
	d = c; d.placeholder = true;
	T_CHECK(site_frag_key(&q, 1, &d, 3, false, &b, &k) && !key_eq(&k, &k0));
	d = c; d.like_count = 3;
	T_CHECK(site_frag_key(&q, 1, &d, 3, false, &b, &k) && !key_eq(&k, &k0));
	d = c; d.created_at++;
	T_CHECK(site_frag_key(&q, 1, &d, 3, false, &b, &k) && !key_eq(&k, &k0));
	d = c; d.ip = "192.0.2.2"; /* the daily ID */
	T_CHECK(site_frag_key(&q, 1, &d, 3, false, &b, &k) && !key_eq(&k, &k0));
	d = c; d.id = 8;
	T_CHECK(site_frag_key(&q, 1, &d, 3, false, &b, &k) && !key_eq(&k, &k0));
	/* fields stay apart: "ab" + "c" is not "a" + "bc" */
	d = c; d.nickname = "名無し本"; d.body = "文";
	T_CHECK(site_frag_key(&q, 1, &d, 3, false, &b, &k) && !key_eq(&k, &k0));
	/* the reader's like, the article (reply link), the theme */
	T_CHECK(site_frag_key(&q, 1, &c, 3, true, &b, &k) && !key_eq(&k, &k0));
	T_CHECK(site_frag_key(&q, 1, &c, 4, false, &b, &k) && !key_eq(&k, &k0));
	T_CHECK(site_frag_key(&q, 2, &c, 3, false, &b, &k) && !key_eq(&k, &k0));
	/* the language, the time zone, the daily ID setting */
	q.lang = LANG_EN;
	T_CHECK(site_frag_key(&q, 1, &c, 3, false, &b, &k) && !key_eq(&k, &k0));
	q = req_new();
	conf.str[CONF_TIMEZONE] = "UTC";
	T_CHECK(site_frag_key(&q, 1, &c, 3, false, &b, &k) && !key_eq(&k, &k0));
	q = req_new();
	conf.str[CONF_DAILY_ID] = "0";
	T_CHECK(site_frag_key(&q, 1, &c, 3, false, &b, &k) && !key_eq(&k, &k0));
	q = req_new();
	T_CHECK(site_frag_key(&q, 1, &c, 3, false, &b, &k) && key_eq(&k, &k0));
	buf_free(&b);
}

static void
test_table(void)
{
	site s = {0};
	site_frags_init(&s);
	arena *a = arena_new(0);
	struct site_frag_stats st;
	struct site_frag_key k1 = {1, 1}, k2 = {1 + 8192, 2}, k3 = {1 + 16384, 3};
	T_CHECK(site_frag_get(&s, &k1, a) == NULL);
	site_frag_put(&s, &k1, "<b>1</b>", 8);
	tv *v = site_frag_get(&s, &k1, a);
	T_CHECK(v != NULL && tv_is_trusted(v));
	size_t n;
	T_CHECK(v && strcmp(tv_str_of(v, &n), "<b>1</b>") == 0 && n == 8);
	/* k2 and k3 fall in k1's set: two fit, the third replaces the one
	 * not asked for since */
	site_frag_put(&s, &k2, "two", 3);
	T_CHECK(site_frag_get(&s, &k1, a) && site_frag_get(&s, &k2, a));
	T_CHECK(site_frag_get(&s, &k1, a) != NULL);
	site_frag_put(&s, &k3, "three", 5);
	site_frags_stats(&s, &st);
	T_CHECK(st.bytes == 8 + 5 || st.bytes == 3 + 5);
	T_CHECK(site_frag_get(&s, &k3, a) != NULL);
	T_CHECK((site_frag_get(&s, &k1, a) != NULL) !=
	    (site_frag_get(&s, &k2, a) != NULL));
	/* an article's boxes are kept from its second render on */
	T_CHECK(!site_frags_admit(&s, 42));
	T_CHECK(site_frags_admit(&s, 42));
	T_CHECK(!site_frags_admit(&s, 42 + 4096)); /* took its slot */
	T_CHECK(!site_frags_admit(&s, 42));
	/* a box past FRAG_MAX is not kept */
	struct site_frag_key big = {5, 5};
	char *huge = xcalloc(1, 20000);
	memset(huge, 'x', 19999);
	site_frag_put(&s, &big, huge, 19999);
	T_CHECK(site_frag_get(&s, &big, a) == NULL);
	free(huge);
	site_frags_stats(&s, &st);
	T_CHECK(st.hits >= 6 && st.misses >= 2);
	arena_free(a);
	site_frags_free(&s);
}

int
main(void)
{
	T_RUN(test_key_inputs);
	T_RUN(test_table);
	T_DONE();
}
