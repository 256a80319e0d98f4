/*
 * libFuzzer target for src/mail/: the address validator (the one parser
 * of an address a reader types) and the message writer fed hostile text
 * (a reader's nickname and comment become a mail's subject and body).
 * Asserts:
 *  - an address that passes is printable ASCII without white space, one
 *    '@', at most MAIL_ADDR_MAX bytes; its normal form is its lower case
 *    and passes too;
 *  - a message with the input as display name, subject and body is built
 *    exactly when the input is valid UTF-8 without CR or LF (the body may
 *    have line breaks); when built it is 7-bit, every line ends in CRLF,
 *    and its header section has exactly the header lines the writer
 *    puts there (continuation lines aside): nothing was injected.
 *
 * fuzz/Makefile links only the layers below site/, so the mail files
 * (which need text/ and libsodium) are compiled in here.
 */
#include "../src/mail/addr.c"
#include "../src/mail/msg.c"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "fuzz_mail: %s:%d: %s\n", __FILE__, \
			    __LINE__, #expr);                              \
			abort();                                           \
		}                                                          \
	} while (0)

#define FZ_MAX 4096
#define FZ_HEADERS 10 /* From To Subject Date Message-ID MIME-Version
                       * Content-Type C-T-Encoding Auto-Submitted (+1
                       * each List-Unsubscribe pair line: none here) */

static void
fz_addr(const char *s, size_t n)
{
	buf norm;
	buf_init(&norm, 0);
	if (mail_addr_check(s, n, &norm)) {
		CHECK(n <= MAIL_ADDR_MAX && norm.len == n);
		size_t ats = 0;
		for (size_t i = 0; i < n; i++) {
			CHECK(s[i] > 0x20 && s[i] < 0x7f);
			ats += s[i] == '@';
			char lo = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) :
			    s[i];
			CHECK(norm.ptr[i] == lo);
		}
		CHECK(ats == 1);
		CHECK(mail_addr_check(norm.ptr, norm.len, NULL));
	} else {
		CHECK(norm.len == 0);
	}
	buf_free(&norm);
}

static void
fz_build(const char *text)
{
	struct mail_msg m = {
		.from_name = text, .from = "kiji@example.com",
		.to = "reader@example.org", .subject = text, .body = text,
		.id_left = "kiji.fuzz", .date = 0,
	};
	size_t n = strlen(text);
	bool want = text_utf8_valid(text, n) && strpbrk(text, "\r\n") == NULL;
	buf out, err;
	buf_init(&out, 0);
	buf_init(&err, 0);
	bool ok = mail_build(&m, &out, &err);
	CHECK(ok == want);
	if (ok) {
		const char *s = buf_cstr(&out);
		int headers = 0;
		bool in_head = true;
		for (const char *p = s; *p;) {
			const char *eol = strstr(p, "\r\n");
			CHECK(eol != NULL);
			for (const char *c = p; c < eol; c++)
				CHECK((unsigned char)*c < 0x80 && *c != '\r' &&
				    *c != '\n' && *c != '\0');
			if (eol == p)
				in_head = false;
			else if (in_head && *p != ' ')
				headers++;
			p = eol + 2;
		}
		CHECK(headers == FZ_HEADERS - 1);
	}
	buf_free(&out);
	buf_free(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FZ_MAX)
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	fz_addr(s, size);
	fz_build(s);
	free(s);
	return 0;
}
