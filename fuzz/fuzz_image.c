/*
 * libFuzzer target for src/content/image.c. content_image_info and
 * content_image_strip accept exactly the same inputs, and only ones that
 * sniff as an image; a refused strip appends nothing. An accepted file's
 * stripped copy is no longer than it, sniffs as the same type, parses
 * with the same dimensions (within CONTENT_IMAGE_MAX_DIM), and stripping
 * it again changes nothing — so no droppable segment, chunk or extension
 * survived the first strip. The content-hash name is 32 hex digits and
 * the type's extension.
 *
 * fuzz/Makefile links only the layers below site/, so image.c (which
 * needs just text/) is compiled in here, as fuzz_guard.c does with
 * guard.c.
 */
#include "../src/content/image.c"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the failed invariant: libFuzzer saves the input. */
#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "fuzz_image: %s:%d: %s\n", __FILE__, \
			    __LINE__, #expr);                              \
			abort();                                           \
		}                                                          \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum image_type t, t2;
	unsigned w = 7, h = 7, w2, h2;
	buf out, again;
	bool info, strip;

	/* an exact-size copy, so ASan sees any read past the end */
	uint8_t *p = malloc(size ? size : 1);
	memcpy(p, data, size);
	buf_init(&out, 0);
	buf_init(&again, 0);
	info = content_image_info(p, size, &t, &w, &h);
	strip = content_image_strip(&out, p, size);
	CHECK(info == strip);
	CHECK(t == content_image_sniff(p, size));
	if (!info) {
		CHECK(out.len == 0);
		CHECK(w == 0 && h == 0);
		goto done;
	}
	CHECK(t != IMAGE_NONE && t < IMAGE__MAX);
	CHECK(w >= 1 && w <= CONTENT_IMAGE_MAX_DIM);
	CHECK(h >= 1 && h <= CONTENT_IMAGE_MAX_DIM);
	CHECK(out.len <= size);
	CHECK(content_image_sniff(out.ptr, out.len) == t);
	CHECK(content_image_info(out.ptr, out.len, &t2, &w2, &h2));
	CHECK(t2 == t && w2 == w && h2 == h);
	CHECK(content_image_strip(&again, out.ptr, out.len));
	CHECK(again.len == out.len && memcmp(again.ptr, out.ptr, out.len) == 0);

	arena *a = arena_new(0);
	const char *name = content_image_name(a, out.ptr, out.len, t);
	const char *ext = content_image_ext(t);
	CHECK(name != NULL && ext != NULL);
	CHECK(strlen(name) == 33 + strlen(ext) && name[32] == '.');
	CHECK(strcmp(name + 33, ext) == 0);
	for (int i = 0; i < 32; i++)
		CHECK((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f'));
	arena_free(a);
done:
	buf_free(&out);
	buf_free(&again);
	free(p);
	return 0;
}
