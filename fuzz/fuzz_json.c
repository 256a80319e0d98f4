/*
 * libFuzzer target for the JSON API's comment body, comment_in_from_json
 * (site/commentjson.c). The input, copied into a buffer of exactly its
 * size (ASan catches a read past it), is the request body. Asserts:
 *  - refused input leaves the struct zeroed; accepted input is one JSON
 *    object (first and last non-blank bytes '{' and '}');
 *  - it is accepted exactly when jansson reads one object, without
 *    duplicate keys, whose six string fields are absent or strings,
 *    whose "notify" is absent or a boolean and whose "parent" is absent,
 *    null or an integer >= 0;
 *  - each accepted field is NULL exactly when its key is absent, else the
 *    JSON string itself (valid UTF-8, NUL-free, its length) or, when
 *    that string holds U+0000, the "\x01" marker; parent >= 0;
 *  - what it accepts survives a trip through jansson's writer: the
 *    fields written back as JSON read back the same.
 *
 * fuzz/Makefile links only the layers below site/, so commentjson.c
 * (which needs just text/ and jansson) is compiled in here.
 */
#include "../src/site/commentjson.c"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the failed invariant: libFuzzer saves the input. */
#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "fuzz_json: %s:%d: %s\n", __FILE__, \
			    __LINE__, #expr);                              \
			abort();                                           \
		}                                                          \
	} while (0)

#define FZ_MAX (64u << 10) /* bodies past this add nothing but time */
#define FZ_NFIELDS 6

static const char *const fz_keys[FZ_NFIELDS] = {
	"nickname", "body", "token", "url", "opened", "email",
};

static const char **
fz_field(struct comment_in *in, int i)
{
	const char **f[FZ_NFIELDS] = {&in->nickname, &in->body, &in->token,
	    &in->honeypot, &in->opened, &in->email};
	return f[i];
}

static bool
fz_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* What the contract says of the body, read by jansson on its own. */
static bool
fz_expect(const char *s, size_t n)
{
	json_error_t e;
	json_t *j = json_loadb(s, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
	    &e);
	bool ok = json_is_object(j);
	for (int i = 0; ok && i < FZ_NFIELDS; i++) {
		json_t *v = json_object_get(j, fz_keys[i]);
		ok = v == NULL || json_is_string(v);
	}
	json_t *p = ok ? json_object_get(j, "parent") : NULL;
	if (p != NULL && !json_is_null(p))
		ok = json_is_integer(p) && json_integer_value(p) >= 0;
	json_t *nv = ok ? json_object_get(j, "notify") : NULL;
	if (nv != NULL)
		ok = json_is_boolean(nv);
	json_decref(j);
	return ok;
}

/* Checks in against the body's own fields, read by jansson. */
static void
fz_same_fields(const char *s, size_t n, struct comment_in *in)
{
	json_t *j = json_loadb(s, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
	    NULL);
	CHECK(json_is_object(j));
	for (int i = 0; i < FZ_NFIELDS; i++) {
		json_t *v = json_object_get(j, fz_keys[i]);
		const char *f = *fz_field(in, i);
		CHECK((v == NULL) == (f == NULL));
		if (v == NULL)
			continue;
		size_t len = json_string_length(v);
		const char *js = json_string_value(v);
		if (memchr(js, '\0', len) != NULL) {
			CHECK(strcmp(f, "\x01") == 0);
		} else {
			CHECK(strlen(f) == len && memcmp(f, js, len) == 0);
			CHECK(text_utf8_valid(f, len));
			CHECK(len <= n);
		}
	}
	json_t *p = json_object_get(j, "parent");
	CHECK(in->parent >= 0);
	CHECK(in->parent == (json_is_integer(p) ? json_integer_value(p) : 0));
	CHECK(in->notify == json_is_true(json_object_get(j, "notify")));
	json_decref(j);
}

/* The accepted fields written as JSON (the marker as "\u0000", ASCII
 * escapes or UTF-8 by the flag) read back the same. */
static void
fz_round_trip(arena *a, struct comment_in *in, bool ascii)
{
	json_t *o = json_object();
	for (int i = 0; i < FZ_NFIELDS; i++) {
		const char *f = *fz_field(in, i);
		if (f == NULL)
			continue;
		json_object_set_new(o, fz_keys[i], strcmp(f, "\x01") == 0 ?
		    json_stringn("a\0b", 3) : json_string(f));
	}
	json_object_set_new(o, "parent", json_integer(in->parent));
	json_object_set_new(o, "notify", json_boolean(in->notify));
	char *s = json_dumps(o, JSON_COMPACT | (ascii ? JSON_ENSURE_ASCII : 0));
	json_decref(o);
	CHECK(s != NULL);
	struct comment_in back;
	CHECK(comment_in_from_json(a, s, strlen(s), &back));
	free(s);
	for (int i = 0; i < FZ_NFIELDS; i++) {
		const char *f = *fz_field(in, i), *g = *fz_field(&back, i);
		CHECK((f == NULL) == (g == NULL));
		CHECK(f == NULL || strcmp(f, g) == 0);
	}
	CHECK(back.parent == in->parent);
	CHECK(back.notify == in->notify);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FZ_MAX)
		return 0;
	char *s = malloc(size ? size : 1);
	memcpy(s, data, size);
	arena *a = arena_new(0);
	struct comment_in in;
	memset(&in, 0xa5, sizeof(in)); /* the function must set every byte */
	bool ok = comment_in_from_json(a, s, size, &in);
	CHECK(ok == fz_expect(s, size));
	if (!ok) {
		for (int i = 0; i < FZ_NFIELDS; i++)
			CHECK(*fz_field(&in, i) == NULL);
		CHECK(in.parent == 0 && !in.notify);
	} else {
		size_t b = 0, e = size;
		while (b < e && fz_blank(s[b]))
			b++;
		while (e > b && fz_blank(s[e - 1]))
			e--;
		CHECK(e - b >= 2 && s[b] == '{' && s[e - 1] == '}');
		fz_same_fields(s, size, &in);
		fz_round_trip(a, &in, size & 1);
	}
	arena_free(a);
	free(s);
	return 0;
}
