/*
 * libFuzzer target for src/obs/access.c: the access log line made from
 * client bytes (path, query, referer, user agent, address, method), with
 * the query and referer redaction. Whatever the bytes, a line must stay
 * one line: the combined format has exactly its six quotes (request,
 * referer, agent) and no control byte, and a JSON line parses as a JSON
 * object with the same fields; a masked address is "-" or an address.
 *
 * Input: fields separated by NUL bytes, in the order ip, method, path,
 * query, referer, user agent; then flags in the last byte.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/obs/obs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "fuzz_accesslog: %s:%d: %s\n",     \
			    __FILE__, __LINE__, #expr);                    \
			abort();                                           \
		}                                                          \
	} while (0)

static void
check_combined(const char *l, size_t n)
{
	size_t quotes = 0;
	CHECK(n > 0 && l[n - 1] == '\n');
	for (size_t i = 0; i + 1 < n; i++) {
		unsigned char c = (unsigned char)l[i];
		CHECK(c >= 0x20 && c < 0x7f);
		quotes += c == '"';
	}
	CHECK(quotes == 6);
}

static void
check_json(const char *l, size_t n)
{
	CHECK(n > 0 && l[n - 1] == '\n' && memchr(l, '\n', n) == l + n - 1);
	json_error_t je;
	json_t *j = json_loadb(l, n, 0, &je);
	CHECK(j != NULL && json_is_object(j));
	static const char *const keys[] = {"time", "ip", "method", "path",
	    "protocol", "status", "bytes", "duration_us", "cache", "referer",
	    "user_agent"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		CHECK(json_object_get(j, keys[i]) != NULL);
	CHECK(json_object_size(j) == sizeof(keys) / sizeof(keys[0]));
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > 16384)
		return 0;
	unsigned flags = data[size - 1];
	char *s = malloc(size);
	memcpy(s, data, size - 1);
	s[size - 1] = '\0';
	const char *f[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
	size_t nf = 0;
	for (char *p = s; nf < 6 && p <= s + size - 1;) {
		f[nf++] = p;
		p += strlen(p) + 1;
	}
	struct obs_access_rec r = {
		.time_us = (int64_t)(flags * 977) * 1000003,
		.ip = f[0],
		.method = f[1],
		.path = f[2],
		.query = f[3] ? f[3] : "",
		.private_query = flags & 4,
		.minor = (flags & 8) ? -1 : (int)(flags & 1),
		.status = 100 + (int)(flags % 500),
		.bytes = flags & 16 ? 0 : size,
		.dur_us = size * 3,
		.cache = flags & 32 ? 'h' : flags & 64 ? 'm' : 0,
		.referer = f[4],
		.ua = f[5],
	};
	bool mask = flags & 2;
	buf b;
	buf_init(&b, 0);
	obs_access_format(&b, &r, OBS_FMT_COMBINED, mask);
	CHECK(!b.err);
	check_combined(buf_cstr(&b), b.len);
	buf_reset(&b);
	obs_access_format(&b, &r, OBS_FMT_JSON, mask);
	CHECK(!b.err);
	check_json(buf_cstr(&b), b.len);
	buf_free(&b);
	char m[OBS_IP_MAX];
	const char *ip = obs_ip_mask(f[0], m);
	unsigned char a[16];
	CHECK(strcmp(ip, "-") == 0 || inet_pton(AF_INET, ip, a) == 1 ||
	    inet_pton(AF_INET6, ip, a) == 1);
	free(s);
	return 0;
}
