/*
 * The store lookups behind old WordPress URLs (site/legacy.c): by
 * WordPress id and by slug in any of its stored spellings, visible
 * articles only, pages before posts.
 */
#include "../../src/store/store.h"
#include "t_db.h"

#define NOW ((int64_t)1700000000)
#define DAY ((int64_t)86400)

static int64_t
add(store *s, enum store_kind kind, const char *slug, const char *legacy,
    enum store_status st, int64_t pub)
{
	struct store_article a = {
		.kind = kind, .title = slug, .slug = slug, .body = "b",
		.body_format = FORMAT_MARKDOWN, .body_html = "<p>b</p>",
		.body_text = "b", .status = st, .published_at = pub,
		.updated_at = pub, .comments_open = true, .legacy_id = legacy,
	};
	T_CHECK(store_article_add(s, &a) == STORE_OK);
	return a.id;
}

static void
test_legacy_lookups(void)
{
	store *s = t_db_open();
	T_CHECK(s != NULL);
	if (s == NULL)
		return;
	int64_t post = add(s, KIND_POST, "hello-world", "777", STATUS_PUBLISHED,
	    NOW - DAY);
	int64_t page = add(s, KIND_PAGE, "hello-world", "900", STATUS_PUBLISHED,
	    NOW - 2 * DAY);
	add(s, KIND_POST, "draft", "778", STATUS_DRAFT, NOW - DAY);
	add(s, KIND_POST, "future", "779", STATUS_PUBLISHED, NOW + DAY);
	int64_t enc = add(s, KIND_POST, "%e6%9d%b1%e4%ba%ac", "", STATUS_PUBLISHED,
	    NOW - DAY);
	int64_t id = -1;
	T_CHECK(store_legacy_by_id(s, "777", NOW, &id) == STORE_OK && id == post);
	T_CHECK(store_legacy_by_id(s, "900", NOW, &id) == STORE_OK && id == page);
	T_CHECK(store_legacy_by_id(s, "778", NOW, &id) == STORE_NOTFOUND && id == 0);
	T_CHECK(store_legacy_by_id(s, "779", NOW, &id) == STORE_NOTFOUND);
	T_CHECK(store_legacy_by_id(s, "779", NOW + 2 * DAY, &id) == STORE_OK);
	T_CHECK(store_legacy_by_id(s, "", NOW, &id) == STORE_NOTFOUND);

	struct store_legacy_hit h[4];
	size_t n = 9;
	const char *one[1] = {"hello-world"};
	T_CHECK(store_legacy_by_slug(s, one, 1, NOW, h, 4, &n) == STORE_OK);
	T_CHECK(n == 2 && h[0].id == page && h[0].kind == KIND_PAGE &&
	    h[1].id == post && h[1].kind == KIND_POST &&
	    h[1].published_at == NOW - DAY);
	T_CHECK(store_legacy_by_slug(s, one, 1, NOW, h, 1, &n) == STORE_OK &&
	    n == 1);
	const char *sp[3] = {"東京", "%E6%9D%B1%E4%BA%AC", "%e6%9d%b1%e4%ba%ac"};
	T_CHECK(store_legacy_by_slug(s, sp, 3, NOW, h, 4, &n) == STORE_OK);
	T_CHECK(n == 1 && h[0].id == enc);
	T_CHECK(store_legacy_by_slug(s, sp, 2, NOW, h, 4, &n) == STORE_OK &&
	    n == 0);
	const char *hidden[1] = {"draft"};
	T_CHECK(store_legacy_by_slug(s, hidden, 1, NOW, h, 4, &n) == STORE_OK &&
	    n == 0);
	T_CHECK(store_legacy_by_slug(s, sp, 0, NOW, h, 4, &n) == STORE_INVALID);
	T_CHECK(store_legacy_by_slug(s, sp, 4, NOW, h, 4, &n) == STORE_INVALID);
	store_close(s);
}

int
main(void)
{
	if (!t_tmpdir(t_dir, sizeof(t_dir), "legacy"))
		return 1;
	T_RUN(test_legacy_lookups);
	t_tmpdir_remove(t_dir);
	T_DONE();
}
