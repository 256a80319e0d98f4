/*
 * libFuzzer target for http_parse_event_id (src/http/form.c): the resume
 * point a live comment stream takes from Last-Event-ID or ?since=. Any
 * bytes: never a crash; accepted exactly when the text (up to a NUL) is
 * empty or 1..18 ASCII digits, and then the value is the decimal one
 * (empty leaves it untouched).
 */
#include "../src/http/http.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "fuzz_event_id: %s:%d: %s\n",      \
			    __FILE__, __LINE__, #expr);                    \
			abort();                                           \
		}                                                          \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64)
		return 0;
	char s[65];
	memcpy(s, data, size);
	s[size] = '\0';
	size_t n = strlen(s);
	bool digits = n <= 18;
	for (size_t i = 0; i < n && digits; i++)
		digits = s[i] >= '0' && s[i] <= '9';
	int64_t v = -7;
	bool ok = http_parse_event_id(s, &v);
	CHECK(ok == digits);
	if (ok && n == 0)
		CHECK(v == -7);
	else if (ok)
		CHECK(v == strtoll(s, NULL, 10) && v >= 0);
	CHECK(http_parse_event_id(NULL, &v));
	return 0;
}
