/*
 * Reader comments (site/): the JSON API's body read into a comment_in
 * (commentjson.c) — the fields it takes, the types it refuses, the
 * marker a NUL becomes — as site_api_post_comment answers them.
 */
#include "../../src/site/site_int.h"
#include "t.h"

static bool
from_json(arena *a, const char *s, struct comment_in *in)
{
	return comment_in_from_json(a, s, strlen(s), in);
}

static void
test_json_fields(void)
{
	arena *a = arena_new(0);
	struct comment_in in;
	T_CHECK(from_json(a, " {\"nickname\":\"名無し\",\"body\":\"本文\\n2行目\","
	    "\"token\":\"t.k\",\"url\":\"\",\"opened\":\"1700000000\","
	    "\"parent\":12,\"other\":[1,{\"x\":null}]}\r\n", &in));
	T_STREQ(in.nickname, "名無し");
	T_STREQ(in.body, "本文\n2行目");
	T_STREQ(in.token, "t.k");
	T_STREQ(in.honeypot, "");
	T_STREQ(in.opened, "1700000000");
	T_CHECK(in.parent == 12);
	/* absent keys stay NULL; a null parent is no parent */
	T_CHECK(from_json(a, "{\"body\":\"x\",\"parent\":null}", &in));
	T_STREQ(in.body, "x");
	T_CHECK(in.nickname == NULL && in.token == NULL && in.honeypot == NULL &&
	    in.opened == NULL && in.parent == 0);
	T_CHECK(from_json(a, "{}", &in));
	T_CHECK(in.body == NULL && in.parent == 0);
	/* escapes are decoded, surrogate pairs joined */
	T_CHECK(from_json(a, "{\"body\":\"\\u00e9\\ud83d\\ude00\\\"\"}", &in));
	T_STREQ(in.body, "\xc3\xa9\xf0\x9f\x98\x80\"");
	/* U+0000 inside a string: the marker text_clean refuses later */
	T_CHECK(from_json(a, "{\"body\":\"a\\u0000b\",\"token\":\"t\"}", &in));
	T_STREQ(in.body, "\x01");
	T_STREQ(in.token, "t");
	T_CHECK(!text_clean(in.body, strlen(in.body)));
	/* the length given is the body: a NUL after it is not read, and
	 * bytes past it are not either */
	const char twice[] = "{\"body\":\"a\"}{\"body\":\"b\"}";
	T_CHECK(comment_in_from_json(a, twice, 12, &in));
	T_STREQ(in.body, "a");
	T_CHECK(!comment_in_from_json(a, twice, sizeof(twice) - 1, &in));
	T_CHECK(!comment_in_from_json(a, NULL, 0, &in));
	/* reply notifications: an address and a boolean */
	T_CHECK(from_json(a, "{\"body\":\"x\",\"email\":\"a@example.com\","
	    "\"notify\":true}", &in));
	T_STREQ(in.email, "a@example.com");
	T_CHECK(in.notify);
	T_CHECK(from_json(a, "{\"body\":\"x\",\"notify\":false}", &in));
	T_CHECK(in.email == NULL && !in.notify);
	arena_free(a);
}

static void
test_json_refused(void)
{
	static const char *const bad[] = {
		"", "   ", "{\"body\": ", "[\"body\"]", "\"body\"", "null", "3",
		"{\"body\":5}", "{\"body\":null}", "{\"nickname\":true}",
		"{\"token\":[\"t\"]}", "{\"url\":{}}", "{\"opened\":1700000000}",
		"{\"parent\":\"3\"}", "{\"parent\":-1}", "{\"parent\":1.0}",
		"{\"parent\":true}", "{\"parent\":99999999999999999999}",
		"{\"body\":\"x\",\"body\":\"y\"}", "{\"body\":\"\xff\xfe\"}",
		"{\"body\":\"\\ud800\"}", "{\"body\":\"x\"} x",
		"{\"body\":\"x\",}", "{'body':'x'}",
		"{\"email\":5}", "{\"email\":null}", "{\"notify\":\"yes\"}",
		"{\"notify\":1}", "{\"notify\":null}",
	};
	arena *a = arena_new(0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct comment_in in;
		memset(&in, 0xa5, sizeof(in));
		bool ok = from_json(a, bad[i], &in);
		if (ok)
			printf("  accepted: %s\n", bad[i]);
		T_CHECK(!ok);
		/* refused: nothing half-filled is left behind */
		T_CHECK(in.nickname == NULL && in.body == NULL && in.token == NULL
		    && in.honeypot == NULL && in.opened == NULL && in.parent == 0);
	}
	arena_free(a);
}

int
main(void)
{
	T_RUN(test_json_fields);
	T_RUN(test_json_refused);
	T_DONE();
}
