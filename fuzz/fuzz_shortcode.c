/*
 * libFuzzer target for the importer's body steps: port_shortcodes (with
 * a fake attachment table), then wpautop, then port_links_rewrite with
 * the old site's hosts, then the sanitiser; and port_url_parse,
 * port_upload_rel and port_upload_unsized on the raw input. Invariants:
 * every step succeeds, valid UTF-8 stays valid UTF-8, the converter's
 * output grows at most linearly and its counts stay within the limit,
 * the rewriter replaces at most one value per attribute and writes only
 * what the link function returned, and an upload path never escapes its
 * folder ("..", absolute). The port files are #included: fuzz targets
 * link only the layers below site/.
 */
#include "../src/port/shortcode.c"
#include "../src/port/wpautop.c"
#include "../src/port/wptext.c"
#include "../src/port/wxr_links.c"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "fuzz_shortcode: %s:%d: %s\n",     \
			    __FILE__, __LINE__, #expr);                    \
			abort();                                           \
		}                                                          \
	} while (0)

static bool
f_media(void *ctx, int64_t id, struct port_sc_media *out)
{
	(void)ctx;
	if (id % 3 == 0)
		return false;
	out->url = id % 3 == 1 ? "/media/a.png" : "https://old.example/b&c.jpg";
	out->caption = "cap <b>x</b>";
	out->alt = "a\"lt";
	return true;
}

static size_t
f_children(void *ctx, int64_t parent, int64_t *ids, size_t max)
{
	(void)ctx;
	size_t n = (size_t)(parent % 5);
	for (size_t i = 0; i < n && i < max; i++)
		ids[i] = (int64_t)i + 1;
	return n < max ? n : max;
}

static const char *
f_link(void *ctx, const char *url, size_t n)
{
	struct port_url u;
	port_url_parse(ctx, &(struct port_hosts){0}, url, n, &u);
	return u.kind == PURL_NONE ? NULL : "/articles/1";
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	bool utf8 = text_utf8_valid(s, size);
	struct port_sc_stats st;
	struct port_sc_ctx c = {f_media, f_children, NULL, (int64_t)size};
	buf sc, ap, ln, san;
	arena *a = arena_new(0);

	if (size > (1u << 20))
		return 0;
	memset(&st, 0, sizeof(st));
	buf_init(&sc, 0);
	buf_init(&ap, 0);
	buf_init(&ln, 0);
	buf_init(&san, 0);
	CHECK(port_shortcodes(&sc, s, size, &c, &st));
	CHECK(st.converted + st.unknown_total <= SC_MAX + (int64_t)size);
	CHECK(st.unknown_total <= SC_MAX);
	/* a gallery of 4 images is the most one tag (7 bytes) writes */
	CHECK(sc.len <= 160 * size + 64);
	if (utf8)
		CHECK(sc.len == 0 || text_utf8_valid(sc.ptr, sc.len));
	CHECK(port_wpautop(&ap, sc.ptr ? sc.ptr : "", sc.len));
	/* a rewritten link is an attribute value: at most one per '=' (a
	 * tag may carry several href/src attributes) */
	int64_t lt = 0;
	for (size_t i = 0; i < ap.len; i++)
		lt += ap.ptr[i] == '=';
	int64_t k = port_links_rewrite(&ln, ap.ptr ? ap.ptr : "", ap.len, f_link,
	    a);
	CHECK(k >= 0 && k <= lt);
	if (utf8) {
		CHECK(ln.len == 0 || text_utf8_valid(ln.ptr, ln.len));
		CHECK(render_html_sanitize(&san, ln.ptr ? ln.ptr : "", ln.len) ||
		    ln.len > RENDER_HTML_MAX || san.len == 0);
	}

	/* the URL and path helpers on the raw bytes */
	struct port_hosts h = {0};
	port_hosts_add(&h, "https://www.old.example/", false);
	port_hosts_add(&h, "https://old.files.wordpress.com/", true);
	struct port_url u;
	port_url_parse(a, &h, s, size, &u);
	if (u.kind != PURL_NONE && u.path)
		CHECK(text_utf8_valid(u.path, strlen(u.path)));
	char *z = arena_strndup(a, s, size);
	if (strlen(z) == size) {
		const char *rel = port_upload_rel(a, z, NULL);
		if (rel != NULL) {
			CHECK(rel[0] != '/' && strstr(rel, "//") == NULL);
			CHECK(strcmp(rel, "..") != 0 && strncmp(rel, "../", 3) != 0);
			CHECK(strstr(rel, "/../") == NULL);
			size_t rl = strlen(rel);
			CHECK(!(rl >= 3 && strcmp(rel + rl - 3, "/..") == 0));
		}
		rel = port_upload_rel(a, NULL, z);
		if (rel != NULL)
			CHECK(rel[0] != '/' && strstr(rel, "/../") == NULL &&
			    strncmp(rel, "../", 3) != 0);
		const char *bare = port_upload_unsized(a, z);
		if (bare != NULL)
			CHECK(strlen(bare) + 4 <= size);
	}
	buf_free(&sc);
	buf_free(&ap);
	buf_free(&ln);
	buf_free(&san);
	arena_free(a);
	return 0;
}
