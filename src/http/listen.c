/*
 * Listening sockets: parsing "host:port", binding (SO_REUSEPORT, kept
 * above descriptor 2), telling whether a server listens on an address,
 * naming a socket systemd passed, and the descriptor budget. Apart from server.c (the event
 * loops) because kiji serve uses it before any loop starts.
 */
#include "http_int.h"
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* "host:port" or "[v6]:port" (port 0..65535) into a socket address. */
static bool
http_listen_parse(const char *listen, struct sockaddr_storage *ss,
    socklen_t *sl, buf *err)
{
	char host[256];
	const char *hb, *he, *port;
	struct addrinfo hints = { 0 }, *res = NULL;

	if (listen == NULL || *listen == '\0')
		goto bad;
	if (listen[0] == '[') {
		hb = listen + 1;
		he = strchr(hb, ']');
		if (he == NULL || he[1] != ':')
			goto bad;
		port = he + 2;
		hints.ai_family = AF_INET6;
		hints.ai_flags = AI_NUMERICHOST;
	} else {
		hb = listen;
		he = strchr(listen, ':');
		if (he == NULL || strchr(he + 1, ':') != NULL)
			goto bad;
		port = he + 1;
		hints.ai_family = AF_UNSPEC;
	}
	if (he == hb || (size_t)(he - hb) >= sizeof(host) || *port == '\0' ||
	    strlen(port) > 5 || port[strspn(port, "0123456789")] != '\0' ||
	    atoi(port) > 65535)
		goto bad;
	memcpy(host, hb, (size_t)(he - hb));
	host[he - hb] = '\0';
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags |= AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL ||
	    res->ai_addrlen > sizeof(*ss))
		goto bad;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	return true;
bad:
	if (res != NULL)
		freeaddrinfo(res);
	buf_printf(err, "bad listen address '%s' (want host:port or [v6]:port)",
	    listen ? listen : "");
	return false;
}

/* See http.h. The descriptor is kept above 2, so that 0 in
 * http_config.listen_fd can mean "none". */
int
http_bind(const char *addr, buf *err)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	int one = 1;

	if (!http_listen_parse(addr, &ss, &sl, err))
		return -1;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd >= 0 && fd <= 2) {
		int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		close(fd);
		fd = high;
	}
	/* SO_REUSEPORT: a new kiji may bind the port while this one drains
	 * (a takeover; the kernel lets only the same user join). */
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) != 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
	    sizeof(one)) != 0 || bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
	    listen(fd, 4096) != 0) {
		buf_printf(err, "cannot listen on %s: %s", addr,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* See http.h. A wildcard address is tried on the loopback address of its
 * family; the connection is closed unused. */
bool
http_listening(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	buf err;
	bool yes = false;

	buf_init(&err, 512);
	bool ok = http_listen_parse(addr, &ss, &sl, &err);
	buf_free(&err);
	if (!ok)
		return false;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		if (in->sin_addr.s_addr == htonl(INADDR_ANY))
			in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
			in6->sin6_addr = in6addr_loopback;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		/* loopback or a local address: refused or accepted at once */
		struct timeval tv = { .tv_sec = 1 };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		yes = connect(fd, (struct sockaddr *)&ss, sl) == 0;
		/* A connect to a port in the ephemeral range with nobody
		 * listening can meet itself (TCP simultaneous open, when the
		 * kernel picks that very port as the source): not a server. */
		struct sockaddr_storage me;
		socklen_t ml = sizeof(me);
		if (yes && getsockname(fd, (struct sockaddr *)&me, &ml) == 0 &&
		    ml == sl && memcmp(&me, &ss, sl) == 0)
			yes = false;
		close(fd);
	}
	return yes;
}

/* See http.h. */
bool
http_listen_name(int fd, char *out, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN], port[8];
	int v = 0;
	socklen_t vl = sizeof(v);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) != 0 || !v ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &vl) != 0 ||
	    v != SOCK_STREAM ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port,
	    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return false;
	int k = snprintf(out, n, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
	    host, port);
	return k > 0 && (size_t)k < n;
}

#define HTTP_FD_RESERVE 64 /* fds kept for the database, logs... */

/* Raises the open-file limit to its hard limit; the budget fits under it. */
unsigned
http_fd_budget(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t want = rl.rlim_max;
		if (want == RLIM_INFINITY || want > (1u << 20))
			want = 1u << 20;
		rl.rlim_cur = want;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	rlim_t n = rl.rlim_cur == RLIM_INFINITY ? (1u << 20) : rl.rlim_cur;
	return n > HTTP_FD_RESERVE * 2 ? (unsigned)(n - HTTP_FD_RESERVE) :
	    (unsigned)n / 2;
}
