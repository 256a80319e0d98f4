/*
 * SMTP through libcurl (mail.h): one message, one connection. The server
 * is the operator's (mail.smtp_url), so unlike net/fetch.c no address is
 * refused; what is insisted on is TLS: smtp:// must upgrade with STARTTLS
 * (CURLUSESSL_ALL) unless the server is on this machine's loopback.
 */
#include "mail.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <curl/curl.h>
#include <string.h>
#include <strings.h>

#define MAIL_TIMEOUT_MS 30000L
#define MAIL_CONNECT_MS 10000L

bool
mail_url_loopback(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	bool lo = false;
	if (u == NULL)
		return false;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		struct in_addr a4;
		struct in6_addr a6;
		const char *h = host;
		size_t n = strlen(h);
		char v6[64];
		if (n > 2 && h[0] == '[' && h[n - 1] == ']' && n - 2 < sizeof(v6)) {
			memcpy(v6, h + 1, n - 2);
			v6[n - 2] = '\0';
			h = v6;
		}
		if (strcasecmp(h, "localhost") == 0)
			lo = true;
		else if (inet_pton(AF_INET, h, &a4) == 1)
			lo = (ntohl(a4.s_addr) >> 24) == 127;
		else if (inet_pton(AF_INET6, h, &a6) == 1)
			lo = IN6_IS_ADDR_LOOPBACK(&a6);
	}
	curl_free(host);
	curl_url_cleanup(u);
	return lo;
}

struct mail_reader {
	const char *p;
	size_t left;
};

static size_t
mail_read(char *dst, size_t size, size_t n, void *ctx)
{
	struct mail_reader *r = ctx;
	size_t want = size * n;
	if (want > r->left)
		want = r->left;
	memcpy(dst, r->p, want);
	r->p += want;
	r->left -= want;
	return want;
}

enum mail_err
mail_send(const struct mail_smtp *c, const char *from, const char *to,
    const char *msg, size_t len, buf *err)
{
	if (c->url == NULL || (strncmp(c->url, "smtp://", 7) != 0 &&
	    strncmp(c->url, "smtps://", 8) != 0)) {
		buf_puts(err, "mail.smtp_url must start with smtp:// or smtps://");
		return MAIL_PERM;
	}
	if (!mail_addr_check(from, strlen(from), NULL) ||
	    !mail_addr_check(to, strlen(to), NULL)) {
		buf_puts(err, "not a valid address (from or to)");
		return MAIL_PERM;
	}
	CURL *h = curl_easy_init();
	if (h == NULL) {
		buf_puts(err, "cannot start libcurl");
		return MAIL_TEMP;
	}
	char cerr[CURL_ERROR_SIZE] = "";
	char fromb[MAIL_ADDR_MAX + 3], tob[MAIL_ADDR_MAX + 3];
	snprintf(fromb, sizeof(fromb), "<%s>", from);
	snprintf(tob, sizeof(tob), "<%s>", to);
	struct curl_slist *rcpt = curl_slist_append(NULL, tob);
	struct mail_reader r = {msg, len};
	bool lo = mail_url_loopback(c->url);
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
	    c->timeout_ms > 0 ? c->timeout_ms : MAIL_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, MAIL_CONNECT_MS);
	/* loopback: TLS if offered; anywhere else no TLS, no mail */
	curl_easy_setopt(h, CURLOPT_USE_SSL, lo ? (long)CURLUSESSL_TRY :
	    (long)CURLUSESSL_ALL);
	if (c->user != NULL && *c->user) {
		curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password :
		    "");
	}
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, fromb);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, mail_read);
	curl_easy_setopt(h, CURLOPT_READDATA, &r);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	CURLcode rc = curl_easy_perform(h);
	long code = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	enum mail_err out = MAIL_OK;
	if (rc != CURLE_OK) {
		/* a 5xx reply is final; TLS the server cannot do, a URL
		 * libcurl refuses and failed logins need the operator; the
		 * rest (no connection, timeouts, 4xx) may pass later */
		bool perm = (code >= 500 && code < 600) ||
		    rc == CURLE_USE_SSL_FAILED || rc == CURLE_URL_MALFORMAT ||
		    rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_LOGIN_DENIED;
		out = perm ? MAIL_PERM : MAIL_TEMP;
		if (code > 0)
			buf_printf(err, "SMTP %ld: %s", code, *cerr ? cerr :
			    curl_easy_strerror(rc));
		else
			buf_printf(err, "SMTP: %s", *cerr ? cerr :
			    curl_easy_strerror(rc));
	}
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(h);
	return out;
}
