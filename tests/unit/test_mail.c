/*
 * src/mail/: the address validator, message building (RFC 2047 headers,
 * the base64 body, refused header injection), the mail key file and the
 * sealing and blind index of addresses, and what counts as a loopback
 * SMTP server. Sending itself is tested against a real SMTP server by
 * tests/integration/test_mail.py.
 */
#include "../../src/mail/mail.h"
#include "t.h"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void
test_addr(void)
{
	static const char *const good[] = {
		"a@example.com", "first.last@example.co.jp", "x+tag@sub.example.org",
		"o'neil@example.com", "a-b_c@ex-ample.com", "1@2.example",
		"UPPER@Example.COM",
	};
	static const char *const bad[] = {
		"", "a", "@example.com", "a@", "a@example", "a@@example.com",
		"a@b@example.com", ".a@example.com", "a.@example.com",
		"a..b@example.com", "a b@example.com", "a@exa mple.com",
		"a@-example.com", "a@example-.com", "a@example..com",
		"a@example.com.", "a@127.0.0.1", "a@[127.0.0.1]",
		"\"a\"@example.com", "a(c)@example.com", "a@example.com\r\n",
		"a@example.com\nBcc: b@example.com", "a\x01@example.com",
		"あ@example.com", "a@例え.jp", "a@example.com>",
		"<a@example.com>", "a,b@example.com", "a;b@example.com",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!mail_addr_check(good[i], strlen(good[i]), NULL))
			printf("  refused: %s\n", good[i]);
		T_CHECK(mail_addr_check(good[i], strlen(good[i]), NULL));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (mail_addr_check(bad[i], strlen(bad[i]), NULL))
			printf("  passed: %s\n", bad[i]);
		T_CHECK(!mail_addr_check(bad[i], strlen(bad[i]), NULL));
	}
	/* the length limits: 64 bytes of local part, 254 in all */
	char big[300];
	memset(big, 'a', 65);
	strcpy(big + 65, "@example.com");
	T_CHECK(!mail_addr_check(big, strlen(big), NULL));
	T_CHECK(mail_addr_check(big + 1, strlen(big + 1), NULL));
	char *p = big;
	p += sprintf(p, "a@");
	for (int i = 0; i < 5; i++) {
		memset(p, 'b', 50);
		p[50] = '.';
		p += 51;
	}
	strcpy(p, "com");
	T_CHECK(strlen(big) > MAIL_ADDR_MAX);
	T_CHECK(!mail_addr_check(big, strlen(big), NULL));
	/* n bounds the read: bytes past it are not the address */
	T_CHECK(mail_addr_check("a@example.comXX", 13, NULL));
	/* the normal form is lower case */
	buf n;
	buf_init(&n, 0);
	T_CHECK(mail_addr_check("Mixed.Case@Example.COM", 22, &n));
	T_STREQ(buf_cstr(&n), "mixed.case@example.com");
	buf_free(&n);
}

/* Decodes the encoded words of a header value back to text. */
static bool
decode_words(const char *v, buf *out)
{
	const char *p = v;
	while (*p) {
		if (strncmp(p, "\r\n ", 3) == 0) {
			p += 3;
			continue;
		}
		if (strncmp(p, "=?UTF-8?B?", 10) != 0)
			return false;
		const char *end = strstr(p + 10, "?=");
		if (end == NULL || end - p > 75)
			return false;
		unsigned char bin[128];
		size_t got = 0;
		if (sodium_base642bin(bin, sizeof(bin), p + 10, (size_t)(end - p - 10),
		    NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
			return false;
		/* each word holds whole characters */
		if (!text_utf8_valid((const char *)bin, got))
			return false;
		buf_put(out, bin, got);
		p = end + 2;
	}
	return true;
}

static void
test_header_text(void)
{
	buf b, d;
	buf_init(&b, 0);
	buf_init(&d, 0);
	mail_header_text(&b, "Plain ASCII subject");
	T_STREQ(buf_cstr(&b), "Plain ASCII subject");
	const char *ja = "【記事テスト】返信がありました：日本語の件名はこのように"
	    "長くなっても文字の途中で切られずに符号化されます🎌";
	buf_reset(&b);
	mail_header_text(&b, ja);
	T_CHECK(strstr(buf_cstr(&b), "\r\n ") != NULL); /* several words */
	for (const char *p = buf_cstr(&b); *p; p++)
		T_CHECK((unsigned char)*p < 0x80); /* 7-bit */
	T_CHECK(decode_words(buf_cstr(&b), &d));
	T_STREQ(buf_cstr(&d), ja);
	buf_free(&b);
	buf_free(&d);
}

static void
test_date(void)
{
	buf b;
	buf_init(&b, 0);
	mail_date(&b, 0);
	T_STREQ(buf_cstr(&b), "Thu, 01 Jan 1970 00:00:00 +0000");
	buf_reset(&b);
	mail_date(&b, 1796317200); /* 2026-12-03 17:00:00 UTC */
	T_STREQ(buf_cstr(&b), "Thu, 03 Dec 2026 17:00:00 +0000");
	buf_free(&b);
}

/* The value of header name in message m (first line only), in out. */
static bool
header_of(const char *m, const char *name, buf *out)
{
	size_t n = strlen(name);
	for (const char *p = m; *p && strncmp(p, "\r\n", 2) != 0;) {
		const char *eol = strstr(p, "\r\n");
		if (eol == NULL)
			return false;
		if (strncmp(p, name, n) == 0 && p[n] == ':' && p[n + 1] == ' ') {
			buf_put(out, p + n + 2, (size_t)(eol - p - n - 2));
			return true;
		}
		p = eol + 2;
	}
	return false;
}

static void
test_build(void)
{
	struct mail_msg m = {
		.from_name = "記事テスト・ニュースとコメントのサイト",
		.from = "kiji@example.com",
		.to = "reader@example.org",
		.subject = "[記事テスト] 返信がありました：とても長い件名でも一行は七十八バイトを超えません",
		.body = "一行目\n.\nFrom the start\n最後",
		.id_left = "kiji.0123abcd",
		.date = 1796317200,
		.unsubscribe = "https://example.com/mail/unsubscribe?a=1&s=ab",
	};
	buf out, err, v;
	buf_init(&out, 0);
	buf_init(&err, 0);
	buf_init(&v, 0);
	T_CHECK(mail_build(&m, &out, &err));
	const char *s = buf_cstr(&out);
	for (const char *p = s; *p; p++)
		T_CHECK((unsigned char)*p < 0x80 && *p != '\0');
	/* every line ends CRLF and no line is longer than 78 (short
	 * addresses, a long Japanese name and subject) */
	for (const char *p = s; *p;) {
		const char *eol = strstr(p, "\r\n");
		T_CHECK(eol != NULL);
		if (eol == NULL)
			break;
		if (eol - p > 78)
			printf("  long line: %.*s\n", (int)(eol - p), p);
		T_CHECK(eol - p <= 78);
		T_CHECK(memchr(p, '\n', (size_t)(eol - p)) == NULL);
		p = eol + 2;
	}
	T_CHECK(header_of(s, "To", &v));
	T_STREQ(buf_cstr(&v), "<reader@example.org>");
	buf_reset(&v);
	T_CHECK(header_of(s, "Date", &v));
	T_STREQ(buf_cstr(&v), "Thu, 03 Dec 2026 17:00:00 +0000");
	buf_reset(&v);
	T_CHECK(header_of(s, "Message-ID", &v));
	T_STREQ(buf_cstr(&v), "<kiji.0123abcd@example.com>");
	buf_reset(&v);
	T_CHECK(header_of(s, "Content-Type", &v));
	T_STREQ(buf_cstr(&v), "text/plain; charset=UTF-8");
	buf_reset(&v);
	T_CHECK(header_of(s, "List-Unsubscribe", &v));
	T_STREQ(buf_cstr(&v), "<https://example.com/mail/unsubscribe?a=1&s=ab>");
	buf_reset(&v);
	T_CHECK(header_of(s, "List-Unsubscribe-Post", &v));
	T_STREQ(buf_cstr(&v), "List-Unsubscribe=One-Click");
	/* the body: base64 lines of at most 76, decoding to the text with
	 * CRLF line ends */
	const char *body = strstr(s, "\r\n\r\n");
	T_CHECK(body != NULL);
	buf b64, dec;
	buf_init(&b64, 0);
	buf_init(&dec, 0);
	for (const char *p = body + 4; *p;) {
		const char *eol = strstr(p, "\r\n");
		T_CHECK(eol != NULL && eol - p <= 76);
		if (eol == NULL)
			break;
		buf_put(&b64, p, (size_t)(eol - p));
		p = eol + 2;
	}
	unsigned char bin[512];
	size_t got = 0;
	T_CHECK(sodium_base642bin(bin, sizeof(bin), b64.ptr, b64.len, NULL, &got,
	    NULL, sodium_base64_VARIANT_ORIGINAL) == 0);
	buf_put(&dec, bin, got);
	T_STREQ(buf_cstr(&dec), "一行目\r\n.\r\nFrom the start\r\n最後");
	buf_free(&b64);
	buf_free(&dec);
	/* no List-Unsubscribe unless asked */
	m.unsubscribe = NULL;
	buf_reset(&out);
	T_CHECK(mail_build(&m, &out, &err));
	T_CHECK(strstr(buf_cstr(&out), "List-Unsubscribe") == NULL);
	/* a plain name is quoted, its quotes escaped */
	m.from_name = "Say \"hi\"";
	buf_reset(&out);
	buf_reset(&v);
	T_CHECK(mail_build(&m, &out, &err));
	T_CHECK(header_of(buf_cstr(&out), "From", &v));
	T_STREQ(buf_cstr(&v), "\"Say \\\"hi\\\"\" <kiji@example.com>");
	buf_free(&out);
	buf_free(&err);
	buf_free(&v);
}

/* Every field that could smuggle a header in is refused. */
static void
test_build_refuses(void)
{
	const struct mail_msg base = {
		.from_name = "kiji", .from = "kiji@example.com",
		.to = "reader@example.org", .subject = "s", .body = "b",
		.id_left = "id", .date = 0,
	};
	struct mail_msg bad[9];
	for (int i = 0; i < 9; i++)
		bad[i] = base;
	bad[0].subject = "s\r\nBcc: victim@example.com";
	bad[1].subject = "s\nX-Injected: 1";
	bad[2].from_name = "kiji\rX: y";
	bad[3].to = "reader@example.org\r\nBcc: victim@example.com";
	bad[4].from = "kiji@example.com>\r\nX: y";
	bad[5].id_left = "id>\r\nX: y";
	bad[6].unsubscribe = "https://example.com/u>\r\nX: y";
	bad[7].body = "\xff\xfe";
	bad[8].subject = "\xe3\x81";
	for (int i = 0; i < 9; i++) {
		buf out, err;
		buf_init(&out, 0);
		buf_init(&err, 0);
		T_CHECK(!mail_build(&bad[i], &out, &err));
		T_CHECK(err.len > 0);
		buf_free(&out);
		buf_free(&err);
	}
}

static void
test_key_file(void)
{
	char db[128], kf[160];
	unsigned char k1[MAIL_KEY_BYTES], k2[MAIL_KEY_BYTES];
	buf err;
	buf_init(&err, 0);
	snprintf(db, sizeof(db), "%s/site.db", dir);
	snprintf(kf, sizeof(kf), "%s.mailkey", db);
	T_CHECK(!mail_key_load(db, false, k1, &err)); /* none yet */
	buf_reset(&err);
	T_CHECK(mail_key_load(db, true, k1, &err));
	struct stat st;
	T_CHECK(stat(kf, &st) == 0 && (st.st_mode & 0777) == 0600);
	T_CHECK(mail_key_load(db, false, k2, &err));
	T_CHECK(memcmp(k1, k2, sizeof(k1)) == 0);
	T_CHECK(mail_key_load(db, true, k2, &err)); /* not made again */
	T_CHECK(memcmp(k1, k2, sizeof(k1)) == 0);
	/* a damaged file is refused, never replaced */
	FILE *f = fopen(kf, "w");
	T_CHECK(f != NULL);
	if (f) {
		fputs("not hex\n", f);
		fclose(f);
	}
	buf_reset(&err);
	T_CHECK(!mail_key_load(db, true, k2, &err));
	T_CHECK(strstr(buf_cstr(&err), "not a mail key") != NULL);
	unlink(kf);
	T_CHECK(!mail_key_load(NULL, true, k2, &err));
	buf_free(&err);
}

/* A site on PostgreSQL: the key is the file KIJI_MAIL_KEY_FILE names,
 * whatever the URL; without it (or with a relative path) there is none,
 * said plainly. */
static void
test_key_file_pg(void)
{
	const char *url = "postgresql://kiji@db.example/site";
	char kf[160];
	unsigned char k1[MAIL_KEY_BYTES], k2[MAIL_KEY_BYTES];
	buf err;
	buf_init(&err, 0);
	unsetenv(MAIL_KEY_ENV);
	T_CHECK(!mail_key_load(url, true, k1, &err));
	T_CHECK(strstr(buf_cstr(&err), MAIL_KEY_ENV) != NULL);
	setenv(MAIL_KEY_ENV, "relative.key", 1);
	buf_reset(&err);
	T_CHECK(!mail_key_load(url, true, k1, &err));
	snprintf(kf, sizeof(kf), "%s/shared.mailkey", dir);
	setenv(MAIL_KEY_ENV, kf, 1);
	buf_reset(&err);
	T_CHECK(!mail_key_load(url, false, k1, &err)); /* none yet */
	T_CHECK(mail_key_load(url, true, k1, &err));
	struct stat st;
	T_CHECK(stat(kf, &st) == 0 && (st.st_mode & 0777) == 0600);
	/* another node, another URL spelling: the same key */
	T_CHECK(mail_key_load("postgres://other@db.example/site", false, k2,
	    &err));
	T_CHECK(memcmp(k1, k2, sizeof(k1)) == 0);
	unlink(kf);
	unsetenv(MAIL_KEY_ENV);
	buf_free(&err);
}

static void
test_seal_blind(void)
{
	unsigned char k[MAIL_KEY_BYTES], k2[MAIL_KEY_BYTES];
	randombytes_buf(k, sizeof(k));
	randombytes_buf(k2, sizeof(k2));
	buf s1, s2, o;
	buf_init(&s1, 0);
	buf_init(&s2, 0);
	buf_init(&o, 0);
	mail_seal(k, "reader@example.org", &s1);
	mail_seal(k, "reader@example.org", &s2);
	/* a fresh nonce each time: two seals of one address differ */
	T_CHECK(s1.len == s2.len && memcmp(s1.ptr, s2.ptr, s1.len) != 0);
	T_CHECK(memmem(s1.ptr, s1.len, "reader", 6) == NULL);
	T_CHECK(mail_unseal(k, s1.ptr, s1.len, &o));
	T_STREQ(buf_cstr(&o), "reader@example.org");
	buf_reset(&o);
	T_CHECK(!mail_unseal(k2, s1.ptr, s1.len, &o)); /* another key */
	s1.ptr[s1.len - 1] ^= 1;
	T_CHECK(!mail_unseal(k, s1.ptr, s1.len, &o)); /* changed */
	T_CHECK(!mail_unseal(k, s1.ptr, 10, &o));     /* cut */
	T_CHECK(!mail_unseal(k, NULL, 0, &o));
	char b1[MAIL_BLIND_HEX], b2[MAIL_BLIND_HEX], b3[MAIL_BLIND_HEX];
	mail_blind(k, "reader@example.org", b1);
	mail_blind(k, "reader@example.org", b2);
	mail_blind(k2, "reader@example.org", b3);
	T_CHECK(strlen(b1) == 64);
	T_STREQ(b1, b2);
	T_CHECK(strcmp(b1, b3) != 0);
	mail_blind(k, "other@example.org", b2);
	T_CHECK(strcmp(b1, b2) != 0);
	buf_free(&s1);
	buf_free(&s2);
	buf_free(&o);
}

static void
test_loopback(void)
{
	T_CHECK(mail_url_loopback("smtp://127.0.0.1:2525"));
	T_CHECK(mail_url_loopback("smtp://127.9.8.7"));
	T_CHECK(mail_url_loopback("smtp://[::1]:25"));
	T_CHECK(mail_url_loopback("smtp://localhost:25"));
	T_CHECK(!mail_url_loopback("smtp://mail.example.com:587"));
	T_CHECK(!mail_url_loopback("smtp://128.0.0.1"));
	T_CHECK(!mail_url_loopback("smtp://10.0.0.1"));
	T_CHECK(!mail_url_loopback("smtp://localhost.example.com"));
	/* the IPv4-mapped spelling counts as remote: TLS required */
	T_CHECK(!mail_url_loopback("smtp://[::ffff:127.0.0.1]:25"));
	T_CHECK(!mail_url_loopback("not a url"));
	/* no server at all: refused before any connection */
	buf err;
	buf_init(&err, 0);
	struct mail_smtp c = {.url = "http://127.0.0.1:1"};
	T_CHECK(mail_send(&c, "a@example.com", "b@example.com", "x", 1, &err) ==
	    MAIL_PERM);
	buf_free(&err);
}

int
main(void)
{
	if (sodium_init() < 0 || !t_tmpdir(dir, sizeof(dir), "mail"))
		return 1;
	T_RUN(test_addr);
	T_RUN(test_header_text);
	T_RUN(test_date);
	T_RUN(test_build);
	T_RUN(test_build_refuses);
	T_RUN(test_key_file);
	T_RUN(test_key_file_pg);
	T_RUN(test_seal_blind);
	T_RUN(test_loopback);
	t_tmpdir_remove(dir);
	T_DONE();
}
