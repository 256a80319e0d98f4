/*
 * libFuzzer target for the `kiji post` front matter (content_fm_parse):
 * arbitrary bytes must never crash it or leak, and what it accepts must
 * survive a round trip: the parsed fields written back by
 * content_fm_write parse to the very same fields (so `kiji post get`
 * output always reads back as it was).
 *
 * fuzz/Makefile links only the layers below site/, so frontmatter.c
 * (which needs just text/, store/ types and libyaml) is compiled in here.
 */
#include "../src/content/frontmatter.c"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "fuzz_frontmatter: %s:%d: %s\n",   \
			    __FILE__, __LINE__, #expr);                    \
			abort();                                           \
		}                                                          \
	} while (0)

#define SAME(a, b) CHECK(strcmp((a) ? (a) : "", (b) ? (b) : "") == 0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool tz;
	arena *a = arena_new(0);
	struct content_fm fm, back;
	buf err, out;
	if (!tz)
		tz = text_tz_set("Asia/Tokyo");
	buf_init(&err, 0);
	buf_init(&out, 0);
	if (!content_fm_parse((const char *)data, size, a, &fm, &err)) {
		CHECK(err.len > 0);
		goto out;
	}
	/* dates outside what content_save stores are not written back */
	if (fm.date < 0 || fm.date > INT64_C(253402300799))
		goto out;

	struct store_article art = {0};
	struct store_tag *tags = arena_alloc(a, (fm.ntags + 1) * sizeof(*tags));
	for (size_t i = 0; i < fm.ntags; i++)
		tags[i].name = fm.tags[i];
	art.title = fm.title ? fm.title : "";
	art.slug = fm.slug ? fm.slug : "";
	art.kind = fm.kind;
	art.status = fm.status;
	art.body_format = fm.format;
	art.published_at = fm.date;
	art.category_slug = fm.category ? fm.category : "";
	art.eyecatch = fm.eyecatch ? fm.eyecatch : "";
	art.eyecatch_credit = fm.credit ? fm.credit : "";
	art.excerpt = fm.excerpt ? fm.excerpt : "";
	art.comments_open = fm.comments;
	art.tags = tags;
	art.ntags = fm.ntags;
	art.sources = fm.sources;
	art.nsources = fm.nsources;
	art.body = fm.body;
	content_fm_write(&out, &art, fm.author ? fm.author : "");
	CHECK(!out.err);
	buf_reset(&err);
	if (!content_fm_parse(out.ptr, out.len, a, &back, &err)) {
		fprintf(stderr, "fuzz_frontmatter: written file does not parse: "
		    "%s\n%s\n", buf_cstr(&err), buf_cstr(&out));
		abort();
	}
	SAME(back.title, art.title);
	SAME(back.slug, art.slug);
	SAME(back.author, fm.author);
	SAME(back.category, art.category_slug);
	SAME(back.eyecatch, art.eyecatch);
	SAME(back.credit, art.eyecatch_credit);
	SAME(back.excerpt, art.excerpt);
	SAME(back.body, fm.body);
	CHECK(back.kind == fm.kind && back.status == fm.status);
	CHECK(back.format == fm.format && back.comments == fm.comments);
	CHECK(back.date == fm.date);
	CHECK(back.ntags == fm.ntags && back.nsources == fm.nsources);
	for (size_t i = 0; i < fm.ntags && i < back.ntags; i++)
		SAME(back.tags[i], fm.tags[i]);
	for (size_t i = 0; i < fm.nsources && i < back.nsources; i++) {
		SAME(back.sources[i].title, fm.sources[i].title);
		SAME(back.sources[i].url, fm.sources[i].url);
	}
out:
	buf_free(&err);
	buf_free(&out);
	arena_free(a);
	return 0;
}
