/*
 * libFuzzer target for kiji render's link scan and URL → file mapping
 * (src/cli/render_files.c, #included): the pages it reads hold readers'
 * text (comments' auto-linked URLs, imported bodies). Whatever the page,
 * the scan never crashes, every link it reports has a valid UTF-8 path
 * without control bytes, every file path it maps stays below the export
 * folder (relative, no "." or ".." segment, no hidden name), and the
 * rewritten page differs from the input only where ?page=N links were.
 * The input's first byte picks the kind render_file_path is also tried
 * with on the whole rest as a path.
 */
#include "../src/cli/render_files.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "fuzz_render_scan: %s:%d: %s\n",   \
			    __FILE__, __LINE__, #expr);                    \
			abort();                                           \
		}                                                          \
	} while (0)

/* The site's route kinds, roughly: enough to reach every branch. */
static enum site_xkind
kind(void *ctx, const char *path, arena *a)
{
	(void)ctx;
	(void)a;
	if (strncmp(path, "/static/", 8) == 0 || strncmp(path, "/media/", 7) == 0)
		return SITE_X_FILE;
	if (strcmp(path, "/feed") == 0 || strstr(path, "/feed") != NULL)
		return SITE_X_FEED;
	if (strcmp(path, "/") == 0 || strncmp(path, "/category/", 10) == 0 ||
	    strncmp(path, "/tag/", 5) == 0)
		return SITE_X_PAGED;
	if (strncmp(path, "/articles/", 10) == 0 || strncmp(path, "/pages/", 7) == 0)
		return SITE_X_HTML;
	return SITE_X_NO;
}

/* A mapped file path that stays below the folder. */
static void
check_file(const char *f)
{
	CHECK(f[0] != '/' && f[0] != '\0');
	for (const char *p = f; *p; ) {
		size_t n = strcspn(p, "/");
		CHECK(n > 0 && p[0] != '.');
		for (size_t i = 0; i < n; i++)
			CHECK((unsigned char)p[i] >= 0x20 && p[i] != 0x7f &&
			    p[i] != '\\');
		p += n;
		if (*p == '/')
			p++;
	}
}

static void
found(void *ctx, const struct render_link *l)
{
	buf *f = ctx;
	size_t n = strlen(l->path);
	CHECK(l->path[0] == '/' && text_utf8_valid(l->path, n));
	for (size_t i = 0; i < n; i++)
		CHECK((unsigned char)l->path[i] >= 0x20 && l->path[i] != 0x7f);
	CHECK(l->page == 0 || (l->page > 1 && l->kind == SITE_X_PAGED));
	if (render_file_path(l->path, l->page, l->kind, f))
		check_file(buf_cstr(f));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 1 << 16)
		return 0;
	buf f, out;
	buf_init(&f, 0);
	buf_init(&out, 0);
	arena *a = arena_new(0);
	const char *body = (const char *)data + 1;
	size_t n = size - 1;
	render_scan(body, n, "https://copy.example", a, &out, kind, found, &f);
	/* without ?page= in the input, nothing is rewritten */
	if (memmem(body, n, "?page=", 6) == NULL)
		CHECK(out.len == n && memcmp(out.ptr, body, n) == 0);
	/* the whole rest as a path, of the kind the first byte names */
	char *p = arena_alloc(a, n + 1);
	memcpy(p, body, n);
	p[n] = '\0';
	if (strlen(p) == n && render_file_path(p, data[0] % 3,
	    (enum site_xkind)(data[0] % SITE_X__MAX), &f))
		check_file(buf_cstr(&f));
	arena_free(a);
	buf_free(&out);
	buf_free(&f);
	return 0;
}
