/*
 * The JSON API's comment body (POST /api/articles/<id>/comments) read
 * into a struct comment_in: the one parser of that outside input, kept
 * apart from the handler so fuzz/fuzz_json.c and the unit test reach it
 * without a server.
 */
#include "site_int.h"

#include <jansson.h>
#include <string.h>

/* The NUL marker: a control character, so text_clean refuses the field
 * later and the reader hears "invalid_text", not "bad_json". */
#define COMMENT_JSON_NUL "\x01"

/* One string field: absent leaves *field NULL; a string is copied into
 * a (or becomes the NUL marker); anything else is false. */
static bool
cj_string(arena *a, json_t *j, const char *key, const char **field)
{
	json_t *v = json_object_get(j, key);
	if (v == NULL)
		return true;
	if (!json_is_string(v))
		return false;
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	*field = memchr(s, '\0', n) ? COMMENT_JSON_NUL : arena_strndup(a, s, n);
	return true;
}

bool
comment_in_from_json(arena *a, const char *body, size_t len,
    struct comment_in *in)
{
	json_error_t jerr;
	bool ok = true;
	memset(in, 0, sizeof(*in));
	/* jansson refuses invalid UTF-8 and duplicate keys, and bounds the
	 * nesting; NUL inside a string is allowed here to be marked */
	json_t *j = json_loadb(body ? body : "", body ? len : 0,
	    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		return false;
	}
	/* strings only where strings belong (null too is refused) */
	ok &= cj_string(a, j, "nickname", &in->nickname);
	ok &= cj_string(a, j, "body", &in->body);
	ok &= cj_string(a, j, "token", &in->token);
	ok &= cj_string(a, j, "url", &in->honeypot);
	ok &= cj_string(a, j, "opened", &in->opened);
	ok &= cj_string(a, j, "email", &in->email);
	json_t *nv = json_object_get(j, "notify");
	if (nv != NULL) {
		if (!json_is_boolean(nv))
			ok = false;
		else
			in->notify = json_is_true(nv);
	}
	json_t *v = json_object_get(j, "parent");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			ok = false;
		else
			in->parent = json_integer_value(v);
	}
	json_decref(j);
	if (!ok)
		memset(in, 0, sizeof(*in));
	return ok;
}
