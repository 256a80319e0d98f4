/*
 * libFuzzer target for the request edge: urlencoded decoding, Cookie
 * parsing, the router, URL encoding, and forms in other charsets (the
 * Content-Type's charset parameter, %-decoding to bytes, conversion to
 * UTF-8 from each accepted charset), fed arbitrary bytes. Asserts the
 * contracts handlers rely on: every output is NUL-free valid UTF-8, counts
 * and lengths are bounded by the input, and encode → decode round-trips.
 */
#include "../src/http/http.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_PAIRS 64

enum { F_HOME, F_ARTICLE, F_COMMENTS, F_CAT, F_STATIC, F_LIKE, F_PAGE };

static const struct http_route fuzz_routes[] = {
	{ HTTP_GET, "/", F_HOME },
	{ HTTP_GET, "/articles/{id}", F_ARTICLE },
	{ HTTP_POST, "/articles/{id}/comments", F_COMMENTS },
	{ HTTP_GET, "/category/{slug}", F_CAT },
	{ HTTP_GET, "/static/{*}", F_STATIC },
	{ HTTP_POST, "/comments/{id}/{slug}", F_LIKE },
	{ HTTP_GET, "/pages/{slugs}", F_PAGE },
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
			if (m.id == F_PAGE) {
				/* 1..8 segments of 1..200 bytes, no "//", no
				 * '/' at either end, no '.' or '%' */
				size_t segs = 1, run = 0;
				assert(l >= 1 && m.str[i][0] != '/' &&
				    m.str[i][l - 1] != '/' && !strstr(m.str[i], "//"));
				assert(!strpbrk(m.str[i], ".%?# "));
				for (size_t k = 0; k < l; k++) {
					run = m.str[i][k] == '/' ? 0 : run + 1;
					segs += m.str[i][k] == '/';
					assert(run <= 200);
				}
				assert(segs <= 8);
			}
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

/*
 * A form in another charset, as a HTTP_BODY_FORM_CHARSET route reads it:
 * the first byte picks the label (an unknown one too), the rest is an
 * urlencoded body whose names and values are converted. Whatever comes
 * out is NUL-free valid UTF-8 within HTTP_CHARSET_GROWTH times its input;
 * a refusal gives nothing; Latin-1 refuses only NUL and UTF-8 exactly
 * what is not UTF-8. The input read as a Content-Type gives a parameter
 * no longer than itself.
 */
static void
fuzz_charset(const char *s, size_t n, arena *a)
{
	static const char *labels[] = { "UTF-8", "EUC-JP", "Shift_JIS",
		"ISO-2022-JP", "ISO-8859-1", "US-ASCII", "cp932", "KOI8-R" };
	enum { NLABELS = sizeof(labels) / sizeof(labels[0]) };
	struct http_kv *kv;
	size_t nkv;

	const char *p = http_ctype_param(a, s, "charset");
	assert(p == NULL || strlen(p) <= n);
	if (n == 0)
		return;
	const char *label = labels[(unsigned char)s[0] % NLABELS];
	http_charset *cs = http_charset_new(label);
	assert((cs == NULL) == (strcmp(label, "KOI8-R") == 0));
	if (cs == NULL)
		return;
	s++;
	n--;
	/* the whole rest as one value, then as a form */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && !http_parse_urlencoded_bytes(s, n, a,
		    FUZZ_MAX_PAIRS, &kv, &nkv))
			break;
		size_t count = pass == 0 ? 1 : nkv;
		for (size_t i = 0; i < count * (pass + 1); i++) {
			const char *v = pass == 0 ? s : i % 2 ? kv[i / 2].value :
			    kv[i / 2].name;
			size_t vn = pass == 0 ? n : i % 2 ? kv[i / 2].value_len :
			    strlen(v);
			char *out;
			size_t outlen;
			enum http_form_err e = http_charset_to_utf8(cs, v, vn, a,
			    &out, &outlen);
			bool nul = memchr(v, '\0', vn) != NULL;
			if (e != HTTP_FORM_OK) {
				assert(e == HTTP_FORM_ENCODING && out == NULL);
				assert(strcmp(label, "ISO-8859-1") != 0 || nul);
				if (strcmp(label, "UTF-8") == 0)
					assert(nul || !text_utf8_valid(v, vn));
				continue;
			}
			assert(!nul && out != NULL);
			assert(outlen <= HTTP_CHARSET_GROWTH * vn);
			assert(strlen(out) == outlen);
			assert(text_utf8_valid(out, outlen));
			if (strcmp(label, "UTF-8") == 0)
				assert(outlen == vn && memcmp(out, v, vn) == 0);
		}
	}
	http_charset_free(cs);
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
	fuzz_charset(s, size, a);
	free(s);
	arena_free(a);
	return 0;
}
