/*
 * Client addresses: parsing and printing, trusted proxies and
 * X-Forwarded-For, and the per-IP count of connections and streams.
 */
#include "http_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* sockaddr → 16-byte key; false for non-IP families. */
bool
http_ip_from_sa(const struct sockaddr *sa, struct http_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		ip->b[10] = ip->b[11] = 0xff;
		memcpy(ip->b + 12, &in->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		memcpy(ip->b, &in6->sin6_addr, 16);
		return true;
	}
	return false;
}

/* Parses a textual IPv4/IPv6 address (IPv6 optionally in brackets). */
bool
http_ip_parse(const char *s, size_t n, struct http_ip *ip)
{
	char tmp[INET6_ADDRSTRLEN + 2];
	struct in_addr a4;

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, tmp, &a4) == 1) {
		ip->b[10] = ip->b[11] = 0xff;
		memcpy(ip->b + 12, &a4, 4);
		return true;
	}
	return inet_pton(AF_INET6, tmp, ip->b) == 1;
}

/* Canonical text of ip into the arena; v4-mapped addresses print as IPv4. */
const char *
http_ip_str(arena *a, const struct http_ip *ip)
{
	static const uint8_t v4pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };
	char tmp[INET6_ADDRSTRLEN];

	if (memcmp(ip->b, v4pre, 12) == 0)
		inet_ntop(AF_INET, ip->b + 12, tmp, sizeof(tmp));
	else
		inet_ntop(AF_INET6, ip->b, tmp, sizeof(tmp));
	return arena_strdup(a, tmp);
}

/* Whether ip is one of the configured proxies (a short list: linear). */
bool
http_ip_trusted(const struct http_addrs *t, const struct http_ip *ip)
{
	for (size_t i = 0; i < t->nproxies; i++)
		if (memcmp(&t->proxies[i], ip, sizeof(*ip)) == 0)
			return true;
	return false;
}

/* Space/comma separated proxy list; false with a message. */
bool
http_addrs_init(struct http_addrs *t, const char *list, buf *err)
{
	const char *p = list ? list : "";

	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->mu, NULL);
	/* Seeded so remote peers cannot aim many addresses at one bucket. */
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(t->seed))
		t->seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^
		    (uint64_t)(uintptr_t)t;
	while (*p) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, " \t,");
		if (n == 0)
			break;
		if (t->nproxies == HTTP_MAX_PROXIES) {
			buf_printf(err, "too many trusted proxies (max %d)",
			    HTTP_MAX_PROXIES);
			return false;
		}
		if (!http_ip_parse(p, n, &t->proxies[t->nproxies])) {
			buf_printf(err, "bad trusted proxy address '%.*s'",
			    (int)n, p);
			return false;
		}
		t->nproxies++;
		p += n;
	}
	return true;
}

void
http_addrs_free(struct http_addrs *t)
{
	for (size_t i = 0; i < HTTP_IP_BUCKETS; i++) {
		while (t->tab[i]) {
			struct http_ipcount *e = t->tab[i];
			t->tab[i] = e->next;
			free(e);
		}
	}
	pthread_mutex_destroy(&t->mu);
}

/*
 * The client address: the peer, unless the peer is a trusted proxy; then
 * the right-most X-Forwarded-For entry that is not itself a trusted proxy
 * (anything left of it may be forged by the client). An unparsable entry
 * stops the walk at the last trusted hop.
 */
const char *
http_client_ip(const struct http_addrs *t, arena *a, const struct http_ip *peer,
    const char *peer_str, const char *const *xff, int nxff)
{
	struct http_ip cur = *peer, ip;

	if (!http_ip_trusted(t, peer))
		return peer_str;
	for (int i = nxff - 1; i >= 0; i--) {
		const char *v = xff[i], *end = v + strlen(v);
		while (end > v) {
			const char *b = end, *e = end;
			while (b > v && b[-1] != ',')
				b--;
			end = b > v ? b - 1 : v;
			while (b < e && (*b == ' ' || *b == '\t'))
				b++;
			while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if (b == e)
				continue;
			if (!http_ip_parse(b, (size_t)(e - b), &ip))
				goto done;
			cur = ip;
			if (!http_ip_trusted(t, &ip))
				goto done;
		}
	}
done:
	return http_ip_str(a, &cur);
}

static size_t
http_ip_hash(const struct http_addrs *t, const struct http_ip *ip)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ t->seed;

	for (size_t i = 0; i < sizeof(ip->b); i++) {
		h ^= ip->b[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 31;
	return (size_t)(h % HTTP_IP_BUCKETS);
}

/* Takes a slot for ip (a connection, or a stream); false when it already
 * holds limit of them. The entry goes when both counts reach zero. */
bool
http_ip_take(struct http_addrs *t, const struct http_ip *ip, unsigned limit,
    bool stream)
{
	size_t h = http_ip_hash(t, ip);
	bool ok = true;

	pthread_mutex_lock(&t->mu);
	struct http_ipcount *e = t->tab[h];
	while (e && memcmp(&e->ip, ip, sizeof(*ip)) != 0)
		e = e->next;
	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->ip = *ip;
		e->next = t->tab[h];
		t->tab[h] = e;
	}
	unsigned *n = stream ? &e->streams : &e->n;
	if (limit != 0 && *n >= limit)
		ok = false;
	else
		(*n)++;
	pthread_mutex_unlock(&t->mu);
	return ok;
}

void
http_ip_give(struct http_addrs *t, const struct http_ip *ip, bool stream)
{
	size_t h = http_ip_hash(t, ip);

	pthread_mutex_lock(&t->mu);
	struct http_ipcount **pp = &t->tab[h];
	while (*pp && memcmp(&(*pp)->ip, ip, sizeof(*ip)) != 0)
		pp = &(*pp)->next;
	if (*pp) {
		struct http_ipcount *e = *pp;
		unsigned *n = stream ? &e->streams : &e->n;
		if (*n > 0)
			(*n)--;
		if (e->n == 0 && e->streams == 0) {
			*pp = e->next;
			free(e);
		}
	}
	pthread_mutex_unlock(&t->mu);
}

/* ---- ranges (CIDR) ----------------------------------------------------------- */

/* Parses "addr" or "addr/bits" into a 16-byte address and a prefix length
 * over those 16 bytes (IPv4 prefixes count from bit 96). */
static bool
http_cidr_parse(const char *s, struct http_ip *ip, unsigned *bits)
{
	static const uint8_t v4pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };
	if (s == NULL)
		return false;
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (!http_ip_parse(s, n, ip))
		return false;
	bool v4 = memcmp(ip->b, v4pre, 12) == 0 && memchr(s, ':', n) == NULL;
	unsigned max = v4 ? 32 : 128;
	unsigned b = max;
	if (slash) {
		const char *p = slash + 1;
		if (*p == '\0' || strlen(p) > 3)
			return false;
		b = 0;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return false;
			b = b * 10 + (unsigned)(*p - '0');
		}
		if (b > max)
			return false;
	}
	*bits = v4 ? b + 96 : b;
	return true;
}

bool
http_cidr_ok(const char *s)
{
	struct http_ip ip;
	unsigned bits;
	return http_cidr_parse(s, &ip, &bits);
}

bool
http_ip_in_cidr(const char *ip, const char *cidr)
{
	struct http_ip a, net;
	unsigned bits;
	if (ip == NULL || !http_ip_parse(ip, strlen(ip), &a) ||
	    !http_cidr_parse(cidr, &net, &bits))
		return false;
	for (unsigned i = 0; i < 16 && bits > 0; i++) {
		unsigned take = bits >= 8 ? 8 : bits;
		uint8_t mask = (uint8_t)(0xff << (8 - take));
		if ((a.b[i] & mask) != (net.b[i] & mask))
			return false;
		bits -= take;
	}
	return true;
}

/* ---- rate-limit keys ------------------------------------------------------- */

const char *
http_ip_key(const char *ip, char out[HTTP_IP_KEY_MAX])
{
	static const uint8_t v4pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };
	char tmp[INET6_ADDRSTRLEN];
	struct http_ip a;
	size_t n = ip ? strnlen(ip, HTTP_IP_KEY_MAX - 1) : 0;

	if (n == 0 || !http_ip_parse(ip, n, &a) || ip[n] != '\0') {
		/* not an address: a key as it is (never shown, so a cut
		 * inside a character does no harm) */
		memcpy(out, ip ? ip : "", n);
		out[n] = '\0';
		return out;
	}
	if (memcmp(a.b, v4pre, 12) == 0) {
		inet_ntop(AF_INET, a.b + 12, out, HTTP_IP_KEY_MAX);
		return out;
	}
	memset(a.b + 8, 0, 8);
	inet_ntop(AF_INET6, a.b, tmp, sizeof(tmp));
	snprintf(out, HTTP_IP_KEY_MAX, "%s/64", tmp);
	return out;
}
