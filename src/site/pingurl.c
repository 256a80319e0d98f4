/*
 * The URLs of received pings, split for comparing with site.base_url
 * (is a target this site's?) and for naming a source's host. Outside
 * input: bounded, and fuzzed (fuzz/fuzz_ping_url.c includes this file,
 * which needs nothing but text/).
 */
#include "site_int.h"

#include <string.h>
#include <strings.h>

#define PING_URL_MAX 2048 /* as net_fetch's own limit */

bool
ping_url_parse(arena *a, const char *url, struct ping_url *out)
{
	size_t n = strlen(url);
	const char *p;
	if (n == 0 || n > PING_URL_MAX || !text_utf8_valid(url, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f ||
		    url[i] == '\\')
			return false;
	if (strncasecmp(url, "http://", 7) == 0) {
		out->scheme = "http";
		p = url + 7;
	} else if (strncasecmp(url, "https://", 8) == 0) {
		out->scheme = "https";
		p = url + 8;
	} else {
		return false;
	}
	size_t alen = strcspn(p, "/?#");
	if (alen == 0 || memchr(p, '@', alen) != NULL)
		return false;
	/* host: a name, an IPv4 address or [an IPv6 one]; then :port */
	size_t hlen;
	if (p[0] == '[') {
		const char *e = memchr(p, ']', alen);
		if (e == NULL)
			return false;
		hlen = (size_t)(e - p) + 1;
	} else {
		const char *e = memchr(p, ':', alen);
		hlen = e ? (size_t)(e - p) : alen;
	}
	if (hlen == 0 || (hlen < alen && p[hlen] != ':'))
		return false;
	long port = 0;
	if (hlen < alen) {
		size_t plen = alen - hlen - 1;
		if (plen == 0 || plen > 5)
			return false;
		for (size_t i = 0; i < plen; i++) {
			char c = p[hlen + 1 + i];
			if (c < '0' || c > '9')
				return false;
			port = port * 10 + (c - '0');
		}
		if (port < 1 || port > 65535)
			return false;
	}
	if ((port == 80 && out->scheme[4] == '\0') ||
	    (port == 443 && out->scheme[4] == 's'))
		port = 0;
	char *host = port ? arena_printf(a, "%.*s:%ld", (int)hlen, p, port) :
	    arena_strndup(a, p, hlen);
	for (char *h = host; *h; h++)
		if (*h >= 'A' && *h <= 'Z')
			*h = (char)(*h | 0x20);
	out->host = host;
	const char *rest = p + alen;
	size_t plen = strcspn(rest, "?#");
	out->path = plen ? arena_strndup(a, rest, plen) : "/";
	out->query = "";
	if (rest[plen] == '?') {
		const char *qs = rest + plen + 1;
		out->query = arena_strndup(a, qs, strcspn(qs, "#"));
	}
	return true;
}
