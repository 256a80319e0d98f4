/*
 * The one article save path (content.h). content_save checks every field
 * first (content_prepare: no database), renders the body, then inside one
 * atomic unit resolves what needs the database (the article being edited,
 * category, author, a unique slug, tags by name) and writes the article,
 * its revision and, for a scheduled article, its publish job (for one
 * that goes live, its pings job). Refusals
 * name the field and say why in Japanese and English (one table).
 */
#include "content.h"
#include "frontmatter.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <utf8proc.h>

#include "../render/render.h"

#define CONTENT_LEGACY_MAX 200   /* bytes */
#define CONTENT_GUID_MAX 300     /* bytes */
#define CONTENT_MEDIA_NAME 255   /* bytes of a /media/ name (the store's) */
#define CONTENT_SLUG_WORDS 80    /* bytes of a slug made from words */
#define CONTENT_SLUG_TRIES 1000  /* "-2" … before giving up */
#define CONTENT_DATE_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */
#define CONTENT_ORDER_MAX 1000000 /* |menu_order| */

/* ---- messages ------------------------------------------------------------- */

enum content_msg {
	CM_KIND, CM_FORMAT, CM_STATUS, CM_TITLE_REQUIRED, CM_TITLE_LONG,
	CM_NOT_TEXT, CM_SLUG_BAD, CM_SLUG_TAKEN, CM_BODY_LONG, CM_BODY_BAD,
	CM_EXCERPT_LONG, CM_CREDIT_LONG, CM_EYECATCH, CM_TOO_LONG, CM_GUID_TAKEN,
	CM_DATE_RANGE, CM_DATE_FUTURE, CM_CATEGORY, CM_AUTHOR, CM_EDITOR,
	CM_TAGS_MANY, CM_TAG_EMPTY, CM_TAG_LONG, CM_TAG_SLUG, CM_SOURCES_MANY,
	CM_SOURCE_TITLE, CM_SOURCE_URL, CM_TRASHED, CM_NOT_TRASHED, CM_CONFLICT,
	CM_NOTFOUND, CM_STORE, CM_BATCH, CM_PARENT_POST, CM_PARENT_MISSING,
	CM_PARENT_LOOP, CM_PARENT_DEPTH, CM_PARENT_CHILDREN, CM_ORDER,
	CM__MAX
};

static const struct {
	const char *ja, *en;
} content_msgs[CM__MAX] = {
	[CM_KIND] = {"種類は post か page です", "must be post or page"},
	[CM_FORMAT] = {"本文の形式は markdown か html です",
	    "must be markdown or html"},
	[CM_STATUS] = {"状態は draft、scheduled、published のいずれかです",
	    "must be draft, scheduled or published"},
	[CM_TITLE_REQUIRED] = {"タイトルを入力してください", "required"},
	[CM_TITLE_LONG] = {"タイトルは300文字以内にしてください",
	    "longer than 300 characters"},
	[CM_NOT_TEXT] = {"使えない文字（制御文字や不正な UTF-8）が含まれています",
	    "invalid UTF-8 or control characters"},
	[CM_SLUG_BAD] = {"スラッグに使えるのは英数字、ハイフン、下線と日本語などの文字です（200バイト以内）",
	    "only letters, digits, '-', '_' and non-ASCII characters, "
	    "at most 200 bytes"},
	[CM_SLUG_TAKEN] = {"このスラッグはほかの記事で使われています",
	    "already used by another article"},
	[CM_BODY_LONG] = {"本文が長すぎます（2 MiB まで）", "larger than 2 MiB"},
	[CM_BODY_BAD] = {"本文を変換できません（不正な UTF-8 か制御文字）",
	    "cannot be rendered (invalid UTF-8 or control characters)"},
	[CM_EXCERPT_LONG] = {"抜粋は1000文字以内にしてください",
	    "longer than 1000 characters"},
	[CM_CREDIT_LONG] = {"出典は300文字以内にしてください",
	    "longer than 300 characters"},
	[CM_EYECATCH] = {"アイキャッチは /media/ の画像か http(s) の URL にしてください",
	    "must be a /media/ URL or an http(s) URL"},
	[CM_TOO_LONG] = {"長すぎます", "too long"},
	[CM_GUID_TAKEN] = {"この GUID はほかの記事で使われています",
	    "already used by another article"},
	[CM_DATE_RANGE] = {"日時が範囲外です", "out of range"},
	[CM_DATE_FUTURE] = {"予約公開には未来の日時を指定してください",
	    "a scheduled article needs a date in the future"},
	[CM_CATEGORY] = {"カテゴリーが見つかりません", "no such category"},
	[CM_AUTHOR] = {"投稿者が見つかりません", "no such user"},
	[CM_EDITOR] = {"保存したユーザーが見つかりません", "no such user"},
	[CM_TAGS_MANY] = {"タグは50個までです", "more than 50 tags"},
	[CM_TAG_EMPTY] = {"空のタグがあります", "a tag is empty"},
	[CM_TAG_LONG] = {"タグは100文字以内にしてください",
	    "a tag is longer than 100 characters"},
	[CM_TAG_SLUG] = {"タグのスラッグを作れません", "no free slug for a tag"},
	[CM_SOURCES_MANY] = {"参考リンクは50件までです", "more than 50 sources"},
	[CM_SOURCE_TITLE] = {"参考リンクのタイトルを入力してください（300文字以内）",
	    "a source needs a title of at most 300 characters"},
	[CM_SOURCE_URL] = {"参考リンクの URL は http:// か https:// で始めてください",
	    "a source URL must be http(s), at most 2048 bytes"},
	[CM_TRASHED] = {"ゴミ箱の記事は元に戻してから編集してください",
	    "restore the article from the trash first"},
	[CM_NOT_TRASHED] = {"ゴミ箱にある記事だけを削除できます",
	    "only an article in the trash can be deleted"},
	[CM_CONFLICT] = {"ほかの人がこの記事を先に保存しました",
	    "someone saved a newer revision meanwhile"},
	[CM_NOTFOUND] = {"記事が見つかりません", "no such article"},
	[CM_STORE] = {"データベースのエラーです", "database error"},
	[CM_BATCH] = {"一括保存の途中でエラーがありました", "batch commit failed"},
	[CM_PARENT_POST] = {"親ページを持てるのは固定ページだけです",
	    "only a page can have a parent page"},
	[CM_PARENT_MISSING] = {"親ページが見つかりません", "no such page"},
	[CM_PARENT_LOOP] = {"そのページ自身やその下のページは親ページにできません",
	    "a page cannot sit under itself or under one of its own subpages"},
	[CM_PARENT_DEPTH] = {"固定ページの階層は8段までです",
	    "pages nest at most 8 levels deep"},
	[CM_PARENT_CHILDREN] = {"子ページのある固定ページは投稿にできません",
	    "a page with subpages cannot become a post"},
	[CM_ORDER] = {"並び順は -1000000 から 1000000 までの整数にしてください",
	    "must be a whole number from -1000000 to 1000000"},
};

/* Fills res for a refusal and returns how it ended (err). */
static enum content_err
content_fail(struct content_result *res, enum content_err err,
    const char *field, size_t item, enum content_msg m)
{
	res->field = field;
	res->item = item;
	res->message = content_msgs[m].ja;
	res->message_en = content_msgs[m].en;
	return err;
}

/* A store error as a content error: a taken guid is the writer's
 * mistake, the rest the database's. */
static enum content_err
content_store_fail(struct content_result *res, enum store_err e)
{
	if (e == STORE_NOTFOUND)
		return content_fail(res, CONTENT_NOTFOUND, "id", 0, CM_NOTFOUND);
	return content_fail(res, CONTENT_STORE, NULL, 0, CM_STORE);
}

/* ---- checks ---------------------------------------------------------------- */

/* What content_prepare made of an input: checked, NFC, squashed. */
struct content_doc {
	const char *title, *slug, *body, *excerpt, *eyecatch, *credit;
	const char *legacy, *guid, *html, *text;
	const char **tags;
	size_t ntags;
	struct store_source *sources;
	size_t nsources;
	int64_t published_at;
	int64_t now;
};

/* s as stored text: valid UTF-8 without control characters (tabs and
 * newlines allowed), NFC, white space squashed to single spaces and
 * trimmed (when squash). false when it is not text. */
static bool
content_text(arena *a, const char *s, bool squash, const char **out)
{
	size_t n = s ? strlen(s) : 0;
	buf nfc, sq;
	bool ok;
	if (n == 0) {
		*out = "";
		return true;
	}
	if (!text_clean(s, n))
		return false;
	buf_init(&nfc, 0);
	buf_init(&sq, 0);
	ok = text_nfc(&nfc, s, n);
	if (ok && squash) {
		text_squash_space(&sq, buf_cstr(&nfc), nfc.len);
		ok = !sq.err;
		*out = arena_strndup(a, buf_cstr(&sq), sq.len);
	} else if (ok) {
		*out = arena_strndup(a, buf_cstr(&nfc), nfc.len);
	}
	buf_free(&nfc);
	buf_free(&sq);
	return ok;
}

/* True for at most max grapheme clusters. */
static bool
content_fits(const char *s, size_t max)
{
	size_t n = strlen(s);
	return n <= max || text_graphemes(s, n) <= max;
}

/* The router's slug: [A-Za-z0-9_-] or non-ASCII UTF-8, 1..200 bytes. */
static bool
content_slug_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > CONTENT_SLUG_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(c >= 0x80 || (c >= '0' && c <= '9') ||
		    ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_' ||
		    c == '-'))
			return false;
	}
	return text_utf8_valid(s, n);
}

/*
 * An http(s) URL with a host, or (media) a /media/<name> of ours, at
 * most CONTENT_URL_MAX bytes without spaces or controls. Non-ASCII is
 * kept: Japanese sources link to IRIs.
 */
static bool
content_url_ok(const char *u, bool media)
{
	size_t n = strlen(u), skip;
	if (n == 0 || n > CONTENT_URL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] <= 0x20 || u[i] == 0x7f)
			return false;
	if (media && strncmp(u, "/media/", 7) == 0) {
		const char *name = u + 7;
		size_t m = n - 7;
		if (m == 0 || m > CONTENT_MEDIA_NAME || name[0] == '.')
			return false;
		for (size_t i = 0; i < m; i++) {
			char c = name[i];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
			    c == '-'))
				return false;
		}
		return true;
	}
	if (strncasecmp(u, "https://", 8) == 0)
		skip = 8;
	else if (strncasecmp(u, "http://", 7) == 0)
		skip = 7;
	else
		return false;
	return n > skip && u[skip] != '/' && u[skip] != '?' && u[skip] != '#';
}

/* md_images callback: the size recorded for one of our /media/ images. */
static bool
content_image_size(void *ctx, const char *url, size_t n, unsigned *w,
    unsigned *h)
{
	store *st = ctx;
	struct store_media m;
	char name[256];

	if (n <= 7 || n - 7 >= sizeof(name) || strncmp(url, "/media/", 7) != 0)
		return false;
	memcpy(name, url + 7, n - 7);
	name[n - 7] = '\0';
	arena *a = arena_new(0);
	bool ok = store_media_meta(st, name, a, &m) == STORE_OK &&
	    m.width > 0 && m.height > 0 && m.width <= 65535 && m.height <= 65535;
	if (ok) {
		*w = (unsigned)m.width;
		*h = (unsigned)m.height;
	}
	arena_free(a);
	return ok;
}

/* Renders a body into html and plain; with a store, our own images get
 * their width and height. HTML bodies (imports) go through the allow-list
 * sanitiser; their text is that of what survived. */
static bool
content_render_body(store *st, enum store_format f, const char *src, size_t n,
    buf *html, buf *plain)
{
	if (f == FORMAT_MARKDOWN) {
		struct md_images img = { content_image_size, st };
		if (!md_render_sized(html, plain, src, n, st ? &img : NULL))
			return false;
	} else {
		if (!render_html_sanitize(html, src, n))
			return false;
		render_html_text(plain, buf_cstr(html), html->len);
	}
	return !html->err && !plain->err;
}

/* Checks and normalises the tags: at most 50, each 1..100 characters,
 * duplicates dropped (first one kept). */
static enum content_err
content_prepare_tags(const struct content_input *in, arena *a,
    struct content_doc *d, struct content_result *res)
{
	if (in->ntags > CONTENT_TAGS_MAX)
		return content_fail(res, CONTENT_INVALID, "tags", CONTENT_TAGS_MAX,
		    CM_TAGS_MANY);
	if (in->ntags > 0 && in->tags == NULL)
		return content_fail(res, CONTENT_INVALID, "tags", 0, CM_TAG_EMPTY);
	d->tags = arena_alloc(a, (in->ntags + 1) * sizeof(*d->tags));
	for (size_t i = 0; i < in->ntags; i++) {
		const char *t;
		bool dup = false;
		if (!content_text(a, in->tags[i], true, &t))
			return content_fail(res, CONTENT_INVALID, "tags", i,
			    CM_NOT_TEXT);
		if (*t == '\0')
			return content_fail(res, CONTENT_INVALID, "tags", i,
			    CM_TAG_EMPTY);
		if (!content_fits(t, CONTENT_TAG_MAX))
			return content_fail(res, CONTENT_INVALID, "tags", i,
			    CM_TAG_LONG);
		for (size_t k = 0; k < d->ntags && !dup; k++)
			dup = strcmp(d->tags[k], t) == 0;
		if (!dup)
			d->tags[d->ntags++] = t;
	}
	return CONTENT_OK;
}

/* Checks the 参考 sources: at most 50, each a title and an http(s) URL. */
static enum content_err
content_prepare_sources(const struct content_input *in, arena *a,
    struct content_doc *d, struct content_result *res)
{
	if (in->nsources > CONTENT_SOURCES_MAX)
		return content_fail(res, CONTENT_INVALID, "sources",
		    CONTENT_SOURCES_MAX, CM_SOURCES_MANY);
	if (in->nsources > 0 && in->sources == NULL)
		return content_fail(res, CONTENT_INVALID, "sources", 0,
		    CM_SOURCE_TITLE);
	d->sources = arena_alloc(a, (in->nsources + 1) * sizeof(*d->sources));
	d->nsources = in->nsources;
	for (size_t i = 0; i < in->nsources; i++) {
		const char *t, *u;
		if (!content_text(a, in->sources[i].title, true, &t) ||
		    !content_text(a, in->sources[i].url, true, &u))
			return content_fail(res, CONTENT_INVALID, "sources", i,
			    CM_NOT_TEXT);
		if (*t == '\0' || !content_fits(t, CONTENT_SOURCE_TITLE_MAX))
			return content_fail(res, CONTENT_INVALID, "sources", i,
			    CM_SOURCE_TITLE);
		if (!content_url_ok(u, false))
			return content_fail(res, CONTENT_INVALID, "sources", i,
			    CM_SOURCE_URL);
		d->sources[i].title = t;
		d->sources[i].url = u;
	}
	return CONTENT_OK;
}

/* The short one-line fields: text, at most max characters (or bytes
 * when bytes). */
static enum content_err
content_prepare_line(arena *a, const char *in, size_t max, bool bytes,
    const char *field, enum content_msg too_long, const char **out,
    struct content_result *res)
{
	if (!content_text(a, in, true, out))
		return content_fail(res, CONTENT_INVALID, field, 0, CM_NOT_TEXT);
	if (bytes ? strlen(*out) > max : !content_fits(*out, max))
		return content_fail(res, CONTENT_INVALID, field, 0, too_long);
	return CONTENT_OK;
}

/*
 * Every check that needs no database, in the order a form shows the
 * fields, then the body rendered into d->html / d->text. The date rules:
 * published without a date is now; scheduled needs a date after now.
 */
static enum content_err
content_prepare(store *st, const struct content_input *in, arena *a,
    struct content_doc *d, struct content_result *res)
{
	enum content_err ce;
	memset(d, 0, sizeof(*d));
	d->now = in->now ? in->now : text_now();

	if ((int)in->kind < 0 || in->kind >= KIND__MAX)
		return content_fail(res, CONTENT_INVALID, "kind", 0, CM_KIND);
	if ((int)in->body_format < 0 || in->body_format >= FORMAT__MAX)
		return content_fail(res, CONTENT_INVALID, "format", 0, CM_FORMAT);
	if (in->status != STATUS_DRAFT && in->status != STATUS_SCHEDULED &&
	    in->status != STATUS_PUBLISHED)
		return content_fail(res, CONTENT_INVALID, "status", 0, CM_STATUS);
	if (in->parent_id < 0 || (in->kind != KIND_PAGE && in->parent_id != 0))
		return content_fail(res, CONTENT_INVALID, "parent", 0,
		    CM_PARENT_POST);
	if (in->menu_order < -CONTENT_ORDER_MAX ||
	    in->menu_order > CONTENT_ORDER_MAX)
		return content_fail(res, CONTENT_INVALID, "order", 0, CM_ORDER);

	if (!content_text(a, in->title, true, &d->title))
		return content_fail(res, CONTENT_INVALID, "title", 0, CM_NOT_TEXT);
	if (*d->title == '\0')
		return content_fail(res, CONTENT_INVALID, "title", 0,
		    CM_TITLE_REQUIRED);
	if (!content_fits(d->title, CONTENT_TITLE_MAX))
		return content_fail(res, CONTENT_INVALID, "title", 0, CM_TITLE_LONG);

	if (!content_text(a, in->slug, true, &d->slug))
		return content_fail(res, CONTENT_INVALID, "slug", 0, CM_NOT_TEXT);
	if (*d->slug && !content_slug_ok(d->slug))
		return content_fail(res, CONTENT_INVALID, "slug", 0, CM_SLUG_BAD);

	if (in->published_at < 0 || in->published_at > CONTENT_DATE_MAX)
		return content_fail(res, CONTENT_INVALID, "date", 0, CM_DATE_RANGE);
	d->published_at = in->published_at;
	if (in->status == STATUS_PUBLISHED && d->published_at == 0)
		d->published_at = d->now;
	if (in->status == STATUS_SCHEDULED && d->published_at <= d->now)
		return content_fail(res, CONTENT_INVALID, "date", 0,
		    CM_DATE_FUTURE);

	if ((ce = content_prepare_line(a, in->excerpt, CONTENT_EXCERPT_MAX,
	    false, "excerpt", CM_EXCERPT_LONG, &d->excerpt, res)) ||
	    (ce = content_prepare_line(a, in->eyecatch_credit,
	    CONTENT_CREDIT_MAX, false, "credit", CM_CREDIT_LONG, &d->credit,
	    res)) ||
	    (ce = content_prepare_line(a, in->eyecatch, CONTENT_URL_MAX, true,
	    "eyecatch", CM_EYECATCH, &d->eyecatch, res)) ||
	    (ce = content_prepare_line(a, in->legacy_id, CONTENT_LEGACY_MAX,
	    true, "legacy_id", CM_TOO_LONG, &d->legacy, res)) ||
	    (ce = content_prepare_line(a, in->guid, CONTENT_GUID_MAX, true,
	    "guid", CM_TOO_LONG, &d->guid, res)))
		return ce;
	if (*d->eyecatch && !content_url_ok(d->eyecatch, true))
		return content_fail(res, CONTENT_INVALID, "eyecatch", 0,
		    CM_EYECATCH);
	if ((ce = content_prepare_tags(in, a, d, res)) ||
	    (ce = content_prepare_sources(in, a, d, res)))
		return ce;

	size_t n = in->body ? strlen(in->body) : 0;
	if (n > CONTENT_BODY_MAX)
		return content_fail(res, CONTENT_INVALID, "body", 0, CM_BODY_LONG);
	if (!content_text(a, in->body, false, &d->body))
		return content_fail(res, CONTENT_INVALID, "body", 0, CM_BODY_BAD);
	buf html, plain;
	buf_init(&html, 0);
	buf_init(&plain, 0);
	bool ok = content_render_body(st, in->body_format, d->body,
	    strlen(d->body), &html, &plain);
	if (ok) {
		d->html = arena_strndup(a, buf_cstr(&html), html.len);
		d->text = arena_strndup(a, buf_cstr(&plain), plain.len);
	}
	buf_free(&html);
	buf_free(&plain);
	if (!ok)
		return content_fail(res, CONTENT_INVALID, "body", 0, CM_BODY_BAD);
	return CONTENT_OK;
}

/* The excerpt a page shows: the given one, else the text's start. */
static const char *
content_excerpt(arena *a, const struct content_doc *d)
{
	buf sq, cut;
	if (*d->excerpt)
		return d->excerpt;
	buf_init(&sq, 0);
	buf_init(&cut, 0);
	text_squash_space(&sq, d->text, strlen(d->text));
	text_truncate(&cut, buf_cstr(&sq), sq.len, CONTENT_AUTO_EXCERPT);
	const char *r = arena_strndup(a, buf_cstr(&cut), cut.len);
	buf_free(&sq);
	buf_free(&cut);
	return r;
}

/* The preview: content_prepare alone, no database, nothing written. */
enum content_err
content_render(const struct content_input *in, arena *a, const char **html,
    const char **text, const char **excerpt, struct content_result *res)
{
	struct content_doc d;
	memset(res, 0, sizeof(*res));
	res->id = in->id;
	enum content_err ce = content_prepare(NULL, in, a, &d, res);
	if (ce != CONTENT_OK)
		return ce;
	*html = d.html;
	*text = d.text;
	*excerpt = content_excerpt(a, &d);
	return CONTENT_OK;
}

/* ---- slugs ------------------------------------------------------------------- */

/*
 * Appends the ASCII words of s (NFKD with marks stripped, so "Café" and
 * full-width "ＮＡＴＯ" count) lowercased and joined by '-' to out, at
 * most max bytes, cut at a word's end. *ascii and *other count the
 * ASCII and the other letters and digits.
 */
static void
content_words(buf *out, const char *s, size_t max, size_t *ascii,
    size_t *other)
{
	utf8proc_uint8_t *f = NULL;
	bool sep = false;
	*ascii = *other = 0;
	if (utf8proc_map((const utf8proc_uint8_t *)s, 0, &f, UTF8PROC_NULLTERM |
	    UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE |
	    UTF8PROC_STRIPMARK) < 0)
		return;
	const utf8proc_uint8_t *p = f;
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;
	while (*p && (k = utf8proc_iterate(p, -1, &cp)) > 0) {
		p += k;
		if (cp < 0x80 && ((cp >= 'a' && cp <= 'z') ||
		    (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'))) {
			(*ascii)++;
			if (sep && out->len > 0) {
				if (out->len + 1 >= max)
					break;
				buf_putc(out, '-');
			}
			sep = false;
			if (out->len >= max)
				break;
			buf_putc(out, (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
			continue;
		}
		if (cp == '\'' || cp == 0x2019)
			continue; /* Japan's → japans */
		utf8proc_category_t cat = utf8proc_category(cp);
		if (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO)
			(*other)++;
		sep = true;
	}
	free(f);
}

/* Words when the title is mostly ASCII, else its date (content.h). */
const char *
content_slugify(arena *a, const char *title, int64_t t)
{
	buf w;
	size_t ascii, other;
	const char *r;
	buf_init(&w, 0);
	content_words(&w, title ? title : "", CONTENT_SLUG_WORDS, &ascii, &other);
	if (w.len > 0 && ascii >= other) {
		r = arena_strndup(a, buf_cstr(&w), w.len);
	} else {
		struct text_tm tm;
		text_localtime(t, &tm);
		r = arena_printf(a, "%04d-%02d-%02d", tm.year, tm.mon, tm.mday);
	}
	buf_free(&w);
	return r;
}

/* Tags keep their own script: /tag/防衛 reads better than a date. */
const char *
content_tag_slug(arena *a, const char *name)
{
	buf w;
	size_t ascii, other;
	const char *s = name ? name : "";
	buf_init(&w, 0);
	content_words(&w, s, CONTENT_SLUG_WORDS, &ascii, &other);
	if (w.len == 0 || ascii < other) {
		/* the name itself: letters and digits of any script kept */
		bool sep = false;
		utf8proc_int32_t cp;
		utf8proc_ssize_t k;
		buf_reset(&w);
		for (const char *p = s; *p &&
		    (k = utf8proc_iterate((const utf8proc_uint8_t *)p, -1, &cp)) > 0;
		    p += k) {
			utf8proc_category_t cat = utf8proc_category(cp);
			bool keep = cp < 0x80 ? ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') ||
			    (cp >= '0' && cp <= '9') || cp == '_'
			    : cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO;
			if (!keep) {
				sep = true;
				continue;
			}
			if (w.len + (size_t)k + 1 > CONTENT_SLUG_MAX - 8)
				break; /* room for "-NN" */
			if (sep && w.len > 0)
				buf_putc(&w, '-');
			sep = false;
			if (cp >= 'A' && cp <= 'Z')
				buf_putc(&w, (char)(cp + 32));
			else
				buf_put(&w, p, (size_t)k);
		}
	}
	const char *r = w.len ? arena_strndup(a, buf_cstr(&w), w.len) : "tag";
	buf_free(&w);
	return r;
}

/* Who else holds slug: among the posts, or among the page's siblings
 * (WordPress pages under different parents may share one). */
static enum store_err
content_slug_owner(store *st, const struct content_input *in,
    const char *slug, int64_t *owner)
{
	if (in->kind == KIND_PAGE)
		return store_page_slug_owner(st, in->parent_id, slug, in->id,
		    owner);
	return store_article_slug_owner(st, in->kind, slug, in->id, owner);
}

/* d->slug, or one made from the title and made unique among its kind
 * (pages: among their siblings). */
static enum content_err
content_pick_slug(store *st, const struct content_input *in,
    struct content_doc *d, arena *a, struct content_result *res)
{
	int64_t owner = 0;
	enum store_err e;
	if (*d->slug) {
		if ((e = content_slug_owner(st, in, d->slug, &owner)) !=
		    STORE_OK)
			return content_store_fail(res, e);
		if (owner != 0)
			return content_fail(res, CONTENT_INVALID, "slug", 0,
			    CM_SLUG_TAKEN);
		return CONTENT_OK;
	}
	const char *base = content_slugify(a, d->title,
	    d->published_at ? d->published_at : d->now);
	for (int k = 1; k <= CONTENT_SLUG_TRIES; k++) {
		const char *cand = k == 1 ? base : arena_printf(a, "%s-%d", base, k);
		if ((e = content_slug_owner(st, in, cand, &owner)) != STORE_OK)
			return content_store_fail(res, e);
		if (owner == 0) {
			d->slug = cand;
			return CONTENT_OK;
		}
	}
	return content_fail(res, CONTENT_INVALID, "slug", 0, CM_SLUG_TAKEN);
}

/* The tags by name, each made (with a free slug) when new. */
static enum content_err
content_pick_tags(store *st, const struct content_doc *d, arena *a,
    struct store_tag **out, struct content_result *res)
{
	struct store_tag *v = arena_alloc(a, (d->ntags + 1) * sizeof(*v));
	enum store_err e;
	for (size_t i = 0; i < d->ntags; i++) {
		e = store_tag_by_name(st, d->tags[i], a, &v[i]);
		if (e == STORE_OK)
			continue;
		if (e != STORE_NOTFOUND)
			return content_store_fail(res, e);
		const char *base = content_tag_slug(a, d->tags[i]);
		e = STORE_CONFLICT;
		for (int k = 1; k <= 100 && e == STORE_CONFLICT; k++) {
			v[i].slug = k == 1 ? base : arena_printf(a, "%s-%d", base, k);
			v[i].name = d->tags[i];
			e = store_tag_add(st, &v[i], &v[i].id);
		}
		if (e == STORE_CONFLICT)
			return content_fail(res, CONTENT_INVALID, "tags", i,
			    CM_TAG_SLUG);
		if (e != STORE_OK)
			return content_store_fail(res, e);
	}
	*out = v;
	return CONTENT_OK;
}

/* ---- writing ------------------------------------------------------------------ */

/* The revision's meta (see store_revision): malloc'd JSON, NULL on OOM. */
static char *
content_meta(const struct content_input *in, const struct content_doc *d,
    enum store_status status)
{
	json_t *o = json_object(), *tags = json_array(), *src = json_array();
	for (size_t i = 0; i < d->ntags; i++)
		json_array_append_new(tags, json_string(d->tags[i]));
	for (size_t i = 0; i < d->nsources; i++)
		json_array_append_new(src, json_pack("{s:s, s:s}", "title",
		    d->sources[i].title, "url", d->sources[i].url));
	json_object_set_new(o, "slug", json_string(d->slug));
	json_object_set_new(o, "kind", json_string(content_kind_names[in->kind]));
	json_object_set_new(o, "status", json_string(content_status_names[status]));
	json_object_set_new(o, "date", json_integer(d->published_at));
	json_object_set_new(o, "author", json_integer(in->author_id));
	json_object_set_new(o, "category", json_integer(in->category_id));
	json_object_set_new(o, "tags", tags);
	json_object_set_new(o, "sources", src);
	json_object_set_new(o, "eyecatch", json_string(d->eyecatch));
	json_object_set_new(o, "credit", json_string(d->credit));
	json_object_set_new(o, "excerpt", json_string(d->excerpt));
	json_object_set_new(o, "comments", json_boolean(in->comments_open));
	if (in->kind == KIND_PAGE) {
		json_object_set_new(o, "parent", json_integer(in->parent_id));
		json_object_set_new(o, "order", json_integer(in->menu_order));
	}
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/*
 * A page's parent inside the unit: a page, neither the page itself nor
 * one below it, and the page with its subpages at most STORE_PAGE_DEPTH
 * levels deep. A page with subpages stays a page.
 */
static enum content_err
content_check_parent(store *st, const struct content_input *in, arena *a,
    struct content_result *res)
{
	struct store_page *chain = NULL;
	size_t n = 0;
	int64_t height = 0;
	enum store_err e;
	if (in->id && (in->kind != KIND_PAGE || in->parent_id) &&
	    (e = store_page_height(st, in->id, &height)) != STORE_OK)
		return content_store_fail(res, e);
	if (in->kind != KIND_PAGE)
		return height > 0 ? content_fail(res, CONTENT_INVALID, "kind", 0,
		    CM_PARENT_CHILDREN) : CONTENT_OK;
	if (in->parent_id == 0)
		return CONTENT_OK;
	if (in->parent_id == in->id)
		return content_fail(res, CONTENT_INVALID, "parent", 0,
		    CM_PARENT_LOOP);
	e = store_page_chain(st, in->parent_id, 0, a, &chain, &n);
	if (e == STORE_NOTFOUND)
		return content_fail(res, CONTENT_INVALID, "parent", 0,
		    CM_PARENT_MISSING);
	if (e != STORE_OK)
		return content_store_fail(res, e);
	for (size_t i = 0; i < n; i++)
		if (in->id && chain[i].id == in->id)
			return content_fail(res, CONTENT_INVALID, "parent", 0,
			    CM_PARENT_LOOP);
	/* a chain read to the bound that still goes on: too deep, or a
	 * loop above the parent */
	if ((n == STORE_PAGE_DEPTH && chain[0].parent_id != 0) ||
	    (int64_t)n + 1 + height > STORE_PAGE_DEPTH)
		return content_fail(res, CONTENT_INVALID, "parent", 0,
		    CM_PARENT_DEPTH);
	return CONTENT_OK;
}

/* Checks the references (article, category, users) inside the unit. */
static enum content_err
content_check_refs(store *st, const struct content_input *in, arena *a,
    struct content_result *res)
{
	enum store_err e;
	if (in->id) {
		enum store_status cur;
		int64_t pub, latest = 0;
		if ((e = store_article_state(st, in->id, &cur, &pub)) != STORE_OK)
			return content_store_fail(res, e);
		if (cur == STATUS_TRASH)
			return content_fail(res, CONTENT_INVALID, "status", 0,
			    CM_TRASHED);
		if ((e = store_revision_latest(st, in->id, &latest)) != STORE_OK)
			return content_store_fail(res, e);
		if (in->base_revision > 0 && latest > in->base_revision) {
			res->revision = latest;
			return content_fail(res, CONTENT_CONFLICT, NULL, 0,
			    CM_CONFLICT);
		}
	}
	if (in->category_id) {
		struct store_category c;
		e = store_category_get(st, in->category_id, a, &c);
		if (e == STORE_NOTFOUND)
			return content_fail(res, CONTENT_INVALID, "category", 0,
			    CM_CATEGORY);
		if (e != STORE_OK)
			return content_store_fail(res, e);
	}
	for (int k = 0; k < 2; k++) {
		int64_t uid = k == 0 ? in->author_id : in->editor_id;
		struct store_user u;
		if (uid == 0 || (k == 1 && uid == in->author_id))
			continue;
		e = store_user_get(st, uid, a, &u);
		if (e == STORE_NOTFOUND)
			return content_fail(res, CONTENT_INVALID,
			    k == 0 ? "author" : "editor", 0,
			    k == 0 ? CM_AUTHOR : CM_EDITOR);
		if (e != STORE_OK)
			return content_store_fail(res, e);
	}
	return CONTENT_OK;
}

/* ---- outgoing pings ------------------------------------------------------------ */

/* 64-bit FNV-1a of s as 16 hex digits in out: a name for a version of a
 * body, not a security measure. */
static void
content_hash(const char *s, char out[17])
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		h ^= *p;
		h *= UINT64_C(1099511628211);
	}
	snprintf(out, 17, "%016" PRIx64, h);
}

/*
 * Queues the "pings" job (net/send.c) of article id whose live body is
 * html, due at run_at: one per version of the body (its key holds a hash
 * of it), so a retried save adds nothing and an edit that changes the
 * body adds another. A body without a link has nobody to notify.
 */
static enum store_err
content_pings_enqueue(store *st, int64_t id, const char *html, int64_t run_at)
{
	char payload[48], key[64], h[17];
	if (html == NULL || strstr(html, "href=") == NULL)
		return STORE_OK;
	content_hash(html, h);
	snprintf(payload, sizeof(payload), "{\"article\":%" PRId64 "}", id);
	snprintf(key, sizeof(key), "pings:%" PRId64 ":%s", id, h);
	return store_job_add_key(st, "pings", payload, run_at, key, NULL);
}

/* Whether saving d over article in->id (as published) announces it: it
 * was not live before, or its body changed. Read inside the save's unit. */
static enum content_err
content_announces(store *st, const struct content_input *in,
    const struct content_doc *d, arena *a, bool *yes,
    struct content_result *res)
{
	struct store_article old;
	enum store_err e;
	*yes = false;
	if (in->no_pings || in->status != STATUS_PUBLISHED ||
	    strstr(d->html, "href=") == NULL)
		return CONTENT_OK;
	if (in->id == 0) {
		*yes = true;
		return CONTENT_OK;
	}
	if ((e = store_article_get_any(st, in->id, a, &old)) != STORE_OK)
		return content_store_fail(res, e);
	*yes = old.status != STATUS_PUBLISHED ||
	    strcmp(old.body_html ? old.body_html : "", d->html) != 0;
	return CONTENT_OK;
}

/* The database half of content_save, inside its atomic unit. */
static enum content_err
content_write(store *st, const struct content_input *in,
    struct content_doc *d, arena *a, struct content_result *res)
{
	struct store_article art = {0};
	struct store_revision rev = {0};
	enum content_err ce;
	enum store_err e;

	bool announce = false;
	if ((ce = content_check_refs(st, in, a, res)) != CONTENT_OK ||
	    (ce = content_announces(st, in, d, a, &announce, res)) != CONTENT_OK ||
	    (ce = content_check_parent(st, in, a, res)) != CONTENT_OK ||
	    (ce = content_pick_slug(st, in, d, a, res)) != CONTENT_OK ||
	    (ce = content_pick_tags(st, d, a, &art.tags, res)) != CONTENT_OK)
		return ce;
	art.id = in->id;
	art.kind = in->kind;
	art.title = d->title;
	art.slug = d->slug;
	art.body = d->body;
	art.body_format = in->body_format;
	art.body_html = d->html;
	art.body_text = d->text;
	art.excerpt = d->excerpt;
	art.status = in->status;
	art.published_at = d->published_at;
	art.updated_at = in->updated_at > 0 ? in->updated_at : d->now;
	art.author_id = in->author_id;
	art.category_id = in->category_id;
	art.eyecatch = d->eyecatch;
	art.eyecatch_credit = d->credit;
	art.comments_open = in->comments_open;
	art.guid = d->guid;
	art.legacy_id = d->legacy;
	art.parent_id = in->kind == KIND_PAGE ? in->parent_id : 0;
	art.menu_order = in->menu_order;
	art.ntags = d->ntags;
	art.sources = d->sources;
	art.nsources = d->nsources;
	e = in->id ? store_article_update(st, &art) : store_article_add(st, &art);
	if (e == STORE_CONFLICT)
		return content_fail(res, CONTENT_INVALID, "guid", 0, CM_GUID_TAKEN);
	if (e != STORE_OK)
		return content_store_fail(res, e);
	res->id = art.id;

	char *meta = content_meta(in, d, in->status);
	if (meta == NULL)
		return content_store_fail(res, STORE_ERROR);
	rev.article_id = art.id;
	rev.title = d->title;
	rev.body = d->body;
	rev.body_format = in->body_format;
	rev.created_at = d->now;
	rev.author_id = in->editor_id ? in->editor_id : in->author_id;
	rev.meta = meta;
	e = store_revision_add(st, &rev);
	free(meta);
	if (e != STORE_OK)
		return content_store_fail(res, e);
	res->revision = rev.id;

	if (in->status == STATUS_SCHEDULED) {
		/* one job per article: a new time moves it (jobs/jobs.h) */
		char payload[48], key[48];
		snprintf(payload, sizeof(payload), "{\"article\":%" PRId64 "}", art.id);
		snprintf(key, sizeof(key), "publish:%" PRId64, art.id);
		if ((e = store_job_schedule(st, "publish", payload,
		    d->published_at, key, NULL)) != STORE_OK)
			return content_store_fail(res, e);
	}
	/* a published date still ahead: the others see it from then on */
	if (announce && (e = content_pings_enqueue(st, art.id, d->html,
	    d->published_at > d->now ? d->published_at : d->now)) != STORE_OK)
		return content_store_fail(res, e);
	return CONTENT_OK;
}

/* This thread's batch (content_batch_begin): its store and saves. */
static _Thread_local struct {
	store *st;
	size_t saves;
} content_batch;

/* Checks (no lock held), then writes in one atomic unit; in a batch,
 * commits every CONTENT_BATCH saves. */
enum content_err
content_save(store *st, const struct content_input *in, arena *a,
    struct content_result *res)
{
	struct content_doc d;
	struct store_atomic t = {0};
	enum content_err ce;
	enum store_err e;

	memset(res, 0, sizeof(*res));
	res->id = in->id;
	if ((ce = content_prepare(st, in, a, &d, res)) != CONTENT_OK)
		return ce;
	if ((e = store_atomic_begin(st, &t)) != STORE_OK)
		return content_store_fail(res, e);
	ce = content_write(st, in, &d, a, res);
	e = store_atomic_end(st, &t, ce == CONTENT_OK ? STORE_OK : STORE_ERROR);
	if (ce != CONTENT_OK) {
		res->id = in->id;
		return ce;
	}
	if (e != STORE_OK) {
		res->id = in->id;
		res->revision = 0;
		return content_store_fail(res, e);
	}
	if (content_batch.st == st && ++content_batch.saves % CONTENT_BATCH == 0) {
		/* the commit writes the deferred index entries too */
		if (store_commit(st) != STORE_OK || store_begin(st) != STORE_OK) {
			content_batch.st = NULL;
			return content_fail(res, CONTENT_STORE, NULL, 0, CM_BATCH);
		}
	}
	return CONTENT_OK;
}

/* ---- batches ---------------------------------------------------------------- */

/* One transaction from here; the index waits for each commit. */
enum content_err
content_batch_begin(store *st, int cache_mib)
{
	if (content_batch.st != NULL || store_begin(st) != STORE_OK)
		return CONTENT_STORE;
	if (store_fts_defer(st, true, cache_mib) != STORE_OK) {
		store_rollback(st);
		return CONTENT_STORE;
	}
	content_batch.st = st;
	content_batch.saves = 0;
	return CONTENT_OK;
}

/* Commits what is left (its index entries with it). */
enum content_err
content_batch_end(store *st)
{
	enum store_err e = STORE_ERROR;
	if (content_batch.st == st)
		e = store_commit(st);
	content_batch.st = NULL;
	if (e != STORE_OK)
		store_rollback(st);
	store_fts_defer(st, false, 0);
	return e == STORE_OK ? CONTENT_OK : CONTENT_STORE;
}

/* Rolls back what the last commit left, deferred index entries too. */
enum content_err
content_batch_abort(store *st)
{
	content_batch.st = NULL;
	enum store_err e = store_rollback(st);
	store_fts_defer(st, false, 0);
	return e == STORE_OK ? CONTENT_OK : CONTENT_STORE;
}

/* ---- life cycle ----------------------------------------------------------------- */

/* Queues the pings job of article id that has just gone live (inside
 * the unit that published it). */
static enum store_err
content_went_live(store *st, int64_t id, int64_t now)
{
	arena *a = arena_new(0);
	struct store_article art;
	enum store_err e = store_article_get_any(st, id, a, &art);
	if (e == STORE_OK)
		e = content_pings_enqueue(st, id, art.body_html, now);
	arena_free(a);
	return e;
}

/* The store checks status and time in the same write transaction; the
 * pings job is queued in it, so a publish is never without one. */
enum content_err
content_publish_due(store *st, int64_t id, int64_t now)
{
	struct store_atomic t = {0};
	bool changed = false;
	enum store_err e;
	if (store_atomic_begin(st, &t) != STORE_OK)
		return CONTENT_STORE;
	e = store_article_publish_due(st, id, now, &changed);
	if (e == STORE_OK && changed)
		e = content_went_live(st, id, now);
	enum store_err r = store_atomic_end(st, &t, e);
	if (e == STORE_NOTFOUND)
		return CONTENT_NOTFOUND;
	return r == STORE_OK ? CONTENT_OK : CONTENT_STORE;
}

/* The store remembers the status for content_restore. */
enum content_err
content_trash(store *st, int64_t id, int64_t now)
{
	enum store_err e = store_article_trash(st, id, now);
	return e == STORE_OK ? CONTENT_OK : e == STORE_NOTFOUND ? CONTENT_NOTFOUND
							     : CONTENT_STORE;
}

/* A scheduled article whose job ran (as a no-op) while it lay in the
 * trash would never go live: it is published now, or its job is made
 * pending again. */
enum content_err
content_restore(store *st, int64_t id, int64_t now)
{
	struct store_atomic t = {0};
	enum store_status status;
	int64_t pub;
	if (store_atomic_begin(st, &t) != STORE_OK)
		return CONTENT_STORE;
	enum store_err e = store_article_restore(st, id, &status, &pub);
	if (e == STORE_OK && status == STATUS_SCHEDULED) {
		if (pub <= now) {
			bool changed = false;
			e = store_article_publish_due(st, id, now, &changed);
			if (e == STORE_OK && changed)
				e = content_went_live(st, id, now);
		} else {
			char payload[48], key[48];
			snprintf(payload, sizeof(payload), "{\"article\":%" PRId64 "}", id);
			snprintf(key, sizeof(key), "publish:%" PRId64, id);
			e = store_job_schedule(st, "publish", payload, pub, key, NULL);
		}
	}
	enum store_err r = store_atomic_end(st, &t, e);
	if (e == STORE_NOTFOUND)
		return CONTENT_NOTFOUND;
	if (e == STORE_INVALID)
		return CONTENT_INVALID;
	return r == STORE_OK ? CONTENT_OK : CONTENT_STORE;
}

/* The check and the delete in one unit: a restore in between cannot
 * lose the article. */
enum content_err
content_delete(store *st, int64_t id)
{
	struct store_atomic t = {0};
	enum store_status status = STATUS_DRAFT;
	int64_t pub;
	enum store_err e;
	if (store_atomic_begin(st, &t) != STORE_OK)
		return CONTENT_STORE;
	e = store_article_state(st, id, &status, &pub);
	if (e == STORE_OK && status != STATUS_TRASH)
		e = STORE_INVALID;
	if (e == STORE_OK)
		e = store_article_delete(st, id);
	enum store_err r = store_atomic_end(st, &t, e);
	if (e == STORE_NOTFOUND)
		return CONTENT_NOTFOUND;
	if (e == STORE_INVALID)
		return CONTENT_INVALID;
	return r == STORE_OK ? CONTENT_OK : CONTENT_STORE;
}

/* ---- inputs from what is stored ------------------------------------------------- */

/* Every field as stored; guid "" keeps the stored one. */
void
content_input_from(struct content_input *in, const struct store_article *art,
    arena *a)
{
	memset(in, 0, sizeof(*in));
	in->id = art->id;
	in->kind = art->kind;
	in->title = art->title;
	in->slug = art->slug;
	in->body = art->body;
	in->body_format = art->body_format;
	in->excerpt = art->excerpt;
	in->status = art->status;
	in->published_at = art->published_at;
	in->author_id = art->author_id;
	in->category_id = art->category_id;
	const char **tags = arena_alloc(a, (art->ntags + 1) * sizeof(*tags));
	for (size_t i = 0; i < art->ntags; i++)
		tags[i] = art->tags[i].name;
	in->tags = tags;
	in->ntags = art->ntags;
	in->sources = art->sources;
	in->nsources = art->nsources;
	in->eyecatch = art->eyecatch;
	in->eyecatch_credit = art->eyecatch_credit;
	in->comments_open = art->comments_open;
	in->legacy_id = art->legacy_id;
	in->parent_id = art->kind == KIND_PAGE ? art->parent_id : 0;
	in->menu_order = art->menu_order;
	in->guid = "";
}

/* A JSON string member of o, or def. */
static const char *
content_json_str(arena *a, json_t *o, const char *key, const char *def)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? arena_strdup(a, json_string_value(v)) : def;
}

/* Status and date stay as they are: a restore brings back what was
 * written, not whether it is live. A tag list or source list the meta
 * lacks stays too (revisions from before meta existed). */
enum content_err
content_input_revision(store *st, struct content_input *in, int64_t rev,
    arena *a)
{
	struct store_revision r;
	enum store_err e = store_revision_get(st, rev, a, &r);
	if (e != STORE_OK)
		return e == STORE_NOTFOUND ? CONTENT_NOTFOUND : CONTENT_STORE;
	if (r.article_id != in->id)
		return CONTENT_NOTFOUND;
	in->title = r.title;
	in->body = r.body;
	in->body_format = r.body_format;
	json_t *m = json_loads(r.meta, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(m)) {
		json_decref(m);
		return CONTENT_OK;
	}
	in->slug = content_json_str(a, m, "slug", in->slug);
	in->excerpt = content_json_str(a, m, "excerpt", in->excerpt);
	in->eyecatch = content_json_str(a, m, "eyecatch", in->eyecatch);
	in->eyecatch_credit = content_json_str(a, m, "credit", in->eyecatch_credit);
	const char *kind = content_json_str(a, m, "kind", NULL);
	for (int k = 0; kind && k < KIND__MAX; k++)
		if (strcmp(kind, content_kind_names[k]) == 0)
			in->kind = (enum store_kind)k;
	json_t *v = json_object_get(m, "category");
	if (json_is_integer(v))
		in->category_id = (int64_t)json_integer_value(v);
	v = json_object_get(m, "comments");
	if (json_is_boolean(v))
		in->comments_open = json_is_true(v);
	v = json_object_get(m, "parent");
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		in->parent_id = (int64_t)json_integer_value(v);
	v = json_object_get(m, "order");
	if (json_is_integer(v))
		in->menu_order = (int64_t)json_integer_value(v);
	if (in->kind != KIND_PAGE)
		in->parent_id = 0;
	v = json_object_get(m, "tags");
	if (json_is_array(v) && json_array_size(v) <= CONTENT_TAGS_MAX) {
		const char **tags = arena_alloc(a, (json_array_size(v) + 1) *
		    sizeof(*tags));
		size_t n = 0;
		for (size_t i = 0; i < json_array_size(v); i++)
			if (json_is_string(json_array_get(v, i)))
				tags[n++] = arena_strdup(a,
				    json_string_value(json_array_get(v, i)));
		in->tags = tags;
		in->ntags = n;
	}
	v = json_object_get(m, "sources");
	if (json_is_array(v) && json_array_size(v) <= CONTENT_SOURCES_MAX) {
		struct store_source *s = arena_alloc(a, (json_array_size(v) + 1) *
		    sizeof(*s));
		size_t n = 0;
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *o = json_array_get(v, i);
			s[n].title = content_json_str(a, o, "title", NULL);
			s[n].url = content_json_str(a, o, "url", NULL);
			if (s[n].title && s[n].url)
				n++;
		}
		in->sources = s;
		in->nsources = n;
	}
	json_decref(m);
	return CONTENT_OK;
}
