/*
 * net_fetch: every HTTP request kiji makes itself, through libcurl (TLS,
 * redirects, chunked bodies, happy eyeballs: all things not to write by
 * hand). What we add is the policy: http and https only, a URL check
 * before anything, a per-host budget per minute, a body cap enforced as
 * bytes arrive, and the peer address checked in the open-socket callback,
 * which libcurl calls for every address it tries on every redirect hop,
 * so a name that resolves (or re-resolves) to a private or loopback
 * address never gets a connection.
 */
#include "net.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#ifndef KIJI_VERSION
#define KIJI_VERSION "0.1.0"
#endif

#define NET_URL_MAX 2048
#define NET_HOST_MAX 255          /* a DNS name's longest form */
#define NET_RATE_HOSTS 1024       /* hosts remembered for the budget */
#define NET_HDR_LINK_MAX 16384    /* every Link header of a hop, joined */
#define NET_HDR_SHORT_MAX 2048    /* Content-Type, X-Pingback */

/* ---- addresses -------------------------------------------------------- */

/* Whether IPv4 address a (host order) is one kiji may connect to. */
static bool
net_v4_allowed(uint32_t a, bool allow_loopback)
{
	static const struct {
		uint32_t net, mask;
	} deny[] = {
		{0x00000000, 0xff000000}, /* 0/8 "this network" */
		{0x0a000000, 0xff000000}, /* 10/8 private */
		{0x64400000, 0xffc00000}, /* 100.64/10 CGNAT */
		{0xa9fe0000, 0xffff0000}, /* 169.254/16 link-local */
		{0xac100000, 0xfff00000}, /* 172.16/12 private */
		{0xc0000000, 0xffffff00}, /* 192.0.0/24 IETF assignments */
		{0xc0000200, 0xffffff00}, /* 192.0.2/24 documentation */
		{0xc0a80000, 0xffff0000}, /* 192.168/16 private */
		{0xc6120000, 0xfffe0000}, /* 198.18/15 benchmarking */
		{0xc6336400, 0xffffff00}, /* 198.51.100/24 documentation */
		{0xcb007100, 0xffffff00}, /* 203.0.113/24 documentation */
		{0xe0000000, 0xf0000000}, /* 224/4 multicast */
		{0xf0000000, 0xf0000000}, /* 240/4 reserved, broadcast */
	};

	if ((a & 0xff000000) == 0x7f000000) /* 127/8 loopback */
		return allow_loopback;
	for (size_t i = 0; i < sizeof(deny) / sizeof(deny[0]); i++)
		if ((a & deny[i].mask) == deny[i].net)
			return false;
	return true;
}

static uint32_t
net_v4_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* IPv6: forms that carry an IPv4 address (mapped, compatible, NAT64,
 * 6to4) are judged by that address; then loopback, unspecified,
 * multicast, link-local, site-local and unique-local are refused. */
static bool
net_v6_allowed(const uint8_t *p, bool allow_loopback)
{
	static const uint8_t zero[16];
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};

	if (memcmp(p, zero, 15) == 0) {
		if (p[15] == 1) /* ::1 */
			return allow_loopback;
		return false; /* :: */
	}
	if (memcmp(p, mapped, 12) == 0 || memcmp(p, zero, 12) == 0 ||
	    memcmp(p, nat64, 12) == 0)
		return net_v4_allowed(net_v4_at(p + 12), allow_loopback);
	if (p[0] == 0x20 && p[1] == 0x02) /* 2002::/16 6to4 */
		return net_v4_allowed(net_v4_at(p + 2), allow_loopback);
	if (p[0] == 0xff) /* ff00::/8 multicast */
		return false;
	if (p[0] == 0xfe && (p[1] & 0xc0) == 0x80) /* fe80::/10 */
		return false;
	if (p[0] == 0xfe && (p[1] & 0xc0) == 0xc0) /* fec0::/10 */
		return false;
	if ((p[0] & 0xfe) == 0xfc) /* fc00::/7 unique local */
		return false;
	return true;
}

bool
net_addr_allowed(const struct sockaddr *sa, bool allow_loopback)
{
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return net_v4_allowed(ntohl(in->sin_addr.s_addr),
		    allow_loopback);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)sa;
		return net_v6_allowed(in6->sin6_addr.s6_addr, allow_loopback);
	}
	return false; /* AF_UNIX and the rest: never */
}

/* ---- per-host budget -------------------------------------------------- */

/* One fixed one-minute window per host; the least recently used host
 * gives way when the table is full (a host forgotten early only gets a
 * fresh budget, which is the safe direction for memory). */
struct net_rate_slot {
	char host[NET_HOST_MAX + 1];
	int64_t window;   /* start of the window, monotonic seconds */
	int64_t used;     /* last use, for eviction */
	int count;
};

static pthread_mutex_t net_rate_mu = PTHREAD_MUTEX_INITIALIZER;
static struct net_rate_slot net_rate_tab[NET_RATE_HOSTS];
static size_t net_rate_n;

static int64_t
net_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* Counts one fetch of host; false when its budget for this minute is
 * already spent (the fetch is then not counted). */
static bool
net_rate_take(const char *host, int limit)
{
	int64_t now = net_mono();
	struct net_rate_slot *s = NULL;
	bool ok;

	pthread_mutex_lock(&net_rate_mu);
	for (size_t i = 0; i < net_rate_n; i++)
		if (strcmp(net_rate_tab[i].host, host) == 0) {
			s = &net_rate_tab[i];
			break;
		}
	if (s == NULL) {
		if (net_rate_n < NET_RATE_HOSTS) {
			s = &net_rate_tab[net_rate_n++];
		} else {
			s = &net_rate_tab[0];
			for (size_t i = 1; i < net_rate_n; i++)
				if (net_rate_tab[i].used < s->used)
					s = &net_rate_tab[i];
		}
		snprintf(s->host, sizeof(s->host), "%s", host);
		s->window = now;
		s->count = 0;
	}
	if (now - s->window >= 60) {
		s->window = now;
		s->count = 0;
	}
	s->used = now;
	ok = s->count < limit;
	if (ok)
		s->count++;
	pthread_mutex_unlock(&net_rate_mu);
	return ok;
}

/* ---- URL check ---------------------------------------------------------- */

/* Checks url (see NET_BAD_URL) and copies its host, lowercased, into
 * host. Returns false with a reason in err. */
static bool
net_url_check(const char *url, char host[NET_HOST_MAX + 1], buf *err)
{
	CURLU *u = NULL;
	char *scheme = NULL, *h = NULL, *user = NULL, *pw = NULL;
	bool ok = false;
	size_t n = strnlen(url, NET_URL_MAX + 1);

	if (n > NET_URL_MAX) {
		buf_printf(err, "URL longer than %d bytes", NET_URL_MAX);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f) {
			buf_puts(err, "URL holds a space or control character");
			return false;
		}
	if ((u = curl_url()) == NULL)
		text_oom();
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME)) {
		buf_puts(err, "not a URL");
		goto err;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		buf_puts(err, "only http and https URLs are fetched");
		goto err;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK) {
		buf_puts(err, "URL with user or password");
		goto err;
	}
	if (curl_url_get(u, CURLUPART_HOST, &h, 0) || h[0] == '\0') {
		buf_puts(err, "URL without a host");
		goto err;
	}
	if (strlen(h) > NET_HOST_MAX) {
		buf_puts(err, "host name too long");
		goto err;
	}
	for (size_t i = 0; h[i]; i++)
		host[i] = (char)tolower((unsigned char)h[i]);
	host[strlen(h)] = '\0';
	ok = true;
err:
	curl_free(scheme);
	curl_free(h);
	curl_free(user);
	curl_free(pw);
	curl_url_cleanup(u);
	return ok;
}

/* ---- the transfer ------------------------------------------------------- */

struct net_xfer {
	bool allow_loopback;
	bool refused;     /* the socket callback turned an address down */
	char refused_addr[INET6_ADDRSTRLEN];
	bool too_big;     /* the write callback stopped the body */
	size_t max_bytes;
	buf body;
	buf ctype, link, pingback; /* headers of the current hop */
};

#ifdef KIJI_TEST_HOOKS
static _Atomic int net_test_port;

void
net_test_public_port(int port)
{
	net_test_port = port;
}

/* Whether sa is 127.0.0.1 on the port tests made "public". */
static bool
net_test_public(const struct sockaddr *sa)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
	int port = net_test_port;

	return port != 0 && sa->sa_family == AF_INET &&
	    ntohs(in->sin_port) == port &&
	    ntohl(in->sin_addr.s_addr) == 0x7f000001;
}
#else
#define net_test_public(sa) false
#endif

/* libcurl asks us for every socket it connects (each address of each
 * hop): refuse addresses kiji must not reach, remember that we did. */
static curl_socket_t
net_opensocket(void *ctx, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct net_xfer *x = ctx;

	if (purpose != CURLSOCKTYPE_IPCXN ||
	    (!net_addr_allowed(&addr->addr, x->allow_loopback) &&
	    !net_test_public(&addr->addr))) {
		x->refused = true;
		if (addr->family == AF_INET)
			inet_ntop(AF_INET,
			    &((struct sockaddr_in *)&addr->addr)->sin_addr,
			    x->refused_addr, sizeof(x->refused_addr));
		else if (addr->family == AF_INET6)
			inet_ntop(AF_INET6,
			    &((struct sockaddr_in6 *)&addr->addr)->sin6_addr,
			    x->refused_addr, sizeof(x->refused_addr));
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC,
	    addr->protocol);
}

static size_t
net_write(char *p, size_t size, size_t n, void *ctx)
{
	struct net_xfer *x = ctx;

	n *= size;
	if (n > x->max_bytes - x->body.len) {
		x->too_big = true;
		return 0; /* CURLE_WRITE_ERROR */
	}
	if (!buf_put(&x->body, p, n))
		return 0;
	return n;
}

/* Whether header line p[0..n) is "name:" (any case); sets *v, *vn to
 * its value without surrounding white space. */
static bool
net_header_is(const char *p, size_t n, const char *name, const char **v,
    size_t *vn)
{
	size_t k = strlen(name);

	if (n <= k || strncasecmp(p, name, k) != 0 || p[k] != ':')
		return false;
	p += k + 1;
	n -= k + 1;
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n' ||
	    p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	*v = p;
	*vn = n;
	return true;
}

/* Collects the headers we use; a status line starts a new response (a
 * redirect hop, or 100 Continue) and forgets the previous one's. */
static size_t
net_header(char *p, size_t size, size_t n, void *ctx)
{
	struct net_xfer *x = ctx;
	const char *v;
	size_t vn;

	n *= size;
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		buf_reset(&x->ctype);
		buf_reset(&x->link);
		buf_reset(&x->pingback);
	} else if (net_header_is(p, n, "content-type", &v, &vn)) {
		buf_reset(&x->ctype);
		buf_put(&x->ctype, v, vn);
	} else if (net_header_is(p, n, "x-pingback", &v, &vn)) {
		buf_reset(&x->pingback);
		buf_put(&x->pingback, v, vn);
	} else if (net_header_is(p, n, "link", &v, &vn) && vn > 0) {
		/* past the cap the later ones are dropped, whole */
		size_t keep = x->link.len;
		if (keep > 0)
			buf_puts(&x->link, ", ");
		buf_put(&x->link, v, vn);
		if (x->link.err) {
			x->link.err = false;
			x->link.len = keep;
			if (x->link.ptr != NULL)
				x->link.ptr[keep] = '\0';
		}
	}
	return n;
}

/* A header value fit to hand out: "" unless valid UTF-8 without
 * controls (a header is one line; a buf refused past its cap is ""). */
static const char *
net_hdr_str(arena *a, buf *b)
{
	if (b->err || b->len == 0 || !text_clean(b->ptr, b->len) ||
	    memchr(b->ptr, '\n', b->len) || memchr(b->ptr, '\r', b->len))
		return "";
	return arena_strndup(a, b->ptr, b->len);
}

enum net_err
net_fetch(const struct net_limits *lim, const char *url,
    const char *content_type, const char *body, size_t len, arena *a,
    struct net_response *out, buf *err)
{
	static const struct net_limits none;
	struct net_xfer x;
	char host[NET_HOST_MAX + 1];
	char cerr[CURL_ERROR_SIZE];
	char ua[256];
	CURL *c = NULL;
	struct curl_slist *hdrs = NULL;
	enum net_err rc = NET_FAILED;
	CURLcode cc;
	char *eff = NULL;
	long status = 0;
	buf scratch;

	buf_init(&scratch, 512);
	if (err == NULL)
		err = &scratch; /* the reason is then dropped */
	if (lim == NULL)
		lim = &none;
	memset(out, 0, sizeof(*out));
	out->url = out->content_type = out->link = out->x_pingback = "";
	out->body = "";
	memset(&x, 0, sizeof(x));
	x.allow_loopback = lim->allow_loopback;
	x.max_bytes = lim->max_bytes ? lim->max_bytes : (size_t)1 << 20;
	buf_init(&x.body, x.max_bytes + 1);
	buf_init(&x.ctype, NET_HDR_SHORT_MAX);
	buf_init(&x.pingback, NET_HDR_SHORT_MAX);
	buf_init(&x.link, NET_HDR_LINK_MAX);

	if (url == NULL || !net_url_check(url, host, err)) {
		rc = NET_BAD_URL;
		goto err;
	}
	int per_min = lim->per_host_minute ? lim->per_host_minute : 6;
	if (per_min > 0 && !net_rate_take(host, per_min)) {
		buf_printf(err, "%s: per-minute fetch budget spent", host);
		rc = NET_RATE;
		goto err;
	}
	if ((c = curl_easy_init()) == NULL) {
		buf_puts(err, "curl_easy_init failed");
		goto err;
	}
	cerr[0] = '\0';
	if (lim->user_agent != NULL)
		snprintf(ua, sizeof(ua), "%s", lim->user_agent);
	else
		snprintf(ua, sizeof(ua), "kiji/%s (+site URL unknown)",
		    KIJI_VERSION);

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
	    lim->timeout_ms > 0 ? lim->timeout_ms : 10000L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    lim->connect_timeout_ms > 0 ? lim->connect_timeout_ms : 5000L);
	if (lim->max_redirects >= 0) {
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(c, CURLOPT_MAXREDIRS,
		    lim->max_redirects ? (long)lim->max_redirects : 5L);
	}
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)x.max_bytes);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, net_opensocket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, net_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, net_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	if (body != NULL) {
		char ct[256];
		snprintf(ct, sizeof(ct), "Content-Type: %s",
		    content_type ? content_type :
		    "application/x-www-form-urlencoded");
		hdrs = curl_slist_append(hdrs, ct);
		hdrs = curl_slist_append(hdrs, "Expect:");
		if (hdrs == NULL)
			text_oom();
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	}

	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff);
	switch (cc) {
	case CURLE_OK:
		rc = NET_OK;
		break;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		rc = x.too_big || cc == CURLE_FILESIZE_EXCEEDED ?
		    NET_TOO_BIG : NET_FAILED;
		if (rc == NET_TOO_BIG)
			buf_printf(err, "body larger than %zu bytes",
			    x.max_bytes);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		rc = NET_TIMEOUT;
		buf_printf(err, "timed out: %s", cerr);
		break;
	case CURLE_COULDNT_CONNECT:
		if (x.refused) {
			/* every address tried was refused by us, or the
			 * others failed: either way not reached */
			rc = NET_REFUSED;
			buf_printf(err, "address %s refused",
			    x.refused_addr);
			break;
		}
		/* FALLTHROUGH */
	default:
		rc = NET_FAILED;
		buf_printf(err, "%s", cerr[0] ? cerr : curl_easy_strerror(cc));
		break;
	}
	if (rc != NET_OK)
		goto err;
	out->status = status;
	out->url = arena_strdup(a, eff ? eff : url);
	out->content_type = net_hdr_str(a, &x.ctype);
	out->link = net_hdr_str(a, &x.link);
	out->x_pingback = net_hdr_str(a, &x.pingback);
	out->body = x.body.len ? arena_strndup(a, x.body.ptr, x.body.len) : "";
	out->len = x.body.len;
err:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	buf_free(&x.body);
	buf_free(&x.ctype);
	buf_free(&x.link);
	buf_free(&x.pingback);
	buf_free(&scratch);
	return rc;
}

bool
net_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

void
net_cleanup(void)
{
	curl_global_cleanup();
}
