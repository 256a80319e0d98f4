/*
 * libFuzzer target for the request edge: urlencoded decoding, Cookie
 * parsing, the router and URL encoding, fed arbitrary bytes. Asserts the
 * contracts handlers rely on: every output is NUL-free valid UTF-8, counts
 * and lengths are bounded by the input, and encode → decode round-trips.
 */
#include "../src/http/http.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_PAIRS 64

enum { F_HOME, F_ARTICLE, F_COMMENTS, F_CAT, F_STATIC, F_LIKE };

static const struct http_route fuzz_routes[] = {
	{ HTTP_GET, "/", F_HOME },
	{ HTTP_GET, "/articles/{id}", F_ARTICLE },
	{ HTTP_POST, "/articles/{id}/comments", F_COMMENTS },
	{ HTTP_GET, "/category/{slug}", F_CAT },
	{ HTTP_GET, "/static/{*}", F_STATIC },
	{ HTTP_POST, "/comments/{id}/{slug}", F_LIKE },
};

/* A decoded pair: NUL-terminated, no inner NUL, valid UTF-8, no longer
 * than the input it came from. */
static void
check_kv(const struct http_kv *kv, size_t insize)
{
	size_t nl = strlen(kv->name), vl = strlen(kv->value);

	assert(vl == kv->value_len);
	assert(nl <= insize && vl <= insize);
	assert(text_utf8_valid(kv->name, nl));
	assert(text_utf8_valid(kv->value, vl));
}

static void
fuzz_urlencoded(const char *s, size_t n, arena *a)
{
	struct http_kv *kv;
	size_t nkv;

	if (!http_parse_urlencoded(s, n, a, FUZZ_MAX_PAIRS, &kv, &nkv)) {
		assert(kv == NULL && nkv == 0);
		return;
	}
	assert(nkv <= FUZZ_MAX_PAIRS && nkv <= n);
	for (size_t i = 0; i < nkv; i++)
		check_kv(&kv[i], n);
}

static void
fuzz_cookies(const char *s, size_t n, arena *a)
{
	struct http_kv *kv;
	size_t nkv;

	http_parse_cookies(s, a, &kv, &nkv);
	assert(nkv <= 256 && nkv <= n / 2 + 1);
	for (size_t i = 0; i < nkv; i++) {
		check_kv(&kv[i], n);
		assert(kv[i].name[0] != '\0');
		assert(strpbrk(kv[i].name, " ;=\t") == NULL);
		assert(strchr(kv[i].value, ';') == NULL);
	}
}

static void
fuzz_router(const char *path, arena *a)
{
	struct http_match m;
	size_t pl = strlen(path);

	for (int meth = HTTP_GET; meth < HTTP_METHOD__MAX; meth++) {
		bool hit = http_route(fuzz_routes, sizeof(fuzz_routes) /
		    sizeof(fuzz_routes[0]), (enum http_method)meth, path, a, &m);
		assert(m.nnum <= HTTP_MAX_PARAMS && m.nstr <= HTTP_MAX_PARAMS);
		if (!hit) {
			assert(m.id == -1 && m.nnum == 0 && m.nstr == 0);
			continue;
		}
		assert(!m.method_mismatch);
		for (size_t i = 0; i < m.nnum; i++)
			assert(m.num[i] >= 0 && m.num[i] <= 999999999999999999LL);
		for (size_t i = 0; i < m.nstr; i++) {
			size_t l = strlen(m.str[i]);
			assert(l <= pl);
			assert(text_utf8_valid(m.str[i], l));
			if (m.id == F_CAT || m.id == F_LIKE)
				assert(l >= 1 && l <= 200 && !strchr(m.str[i], '/'));
		}
	}
}

/* Encoding anything gives [A-Za-z0-9._~-] and %XX only, and decoding it
 * gives back the input whenever the input is a legal value. */
static void
fuzz_encode(const char *s, size_t n, arena *a)
{
	buf b;
	struct http_kv *kv;
	size_t nkv;

	buf_init(&b, 0);
	buf_puts(&b, "k=");
	http_url_encode(&b, s, n);
	assert(!b.err && b.len - 2 >= n && b.len - 2 <= 3 * n);
	for (size_t i = 2; i < b.len; i++) {
		unsigned char c = (unsigned char)b.ptr[i];
		if (c == '%') {
			assert(i + 2 < b.len);
			assert(strchr("0123456789ABCDEF", b.ptr[i + 1]) &&
			    strchr("0123456789ABCDEF", b.ptr[i + 2]));
			i += 2;
			continue;
		}
		assert((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || c == '-' || c == '.' ||
		    c == '_' || c == '~');
	}
	bool legal = memchr(s, '\0', n) == NULL && text_utf8_valid(s, n);
	bool ok = http_parse_urlencoded(b.ptr, b.len, a, 1, &kv, &nkv);
	assert(ok == legal);
	if (ok) {
		assert(nkv == 1 && kv[0].value_len == n);
		assert(memcmp(kv[0].value, s, n) == 0);
	}
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	arena *a = arena_new(0);
	char *s = malloc(size + 1);

	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	fuzz_urlencoded(s, size, a);
	fuzz_cookies(s, size, a);
	fuzz_router(s, a);
	fuzz_encode(s, size, a);
	free(s);
	arena_free(a);
	return 0;
}
