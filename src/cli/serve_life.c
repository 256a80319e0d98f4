/*
 * kiji serve's start and stop around the HTTP server: the listening
 * socket (systemd's, or our own shared with SO_REUSEPORT so a successor
 * can bind while we drain), readiness and watchdog pings to systemd, and
 * the drain at SIGTERM. README "Operating kiji", Restarts, says which way
 * of restarting loses no request, and why.
 */
#include "serve_life.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* See serve_life.h. */
int
serve_listen(const char *listen, bool takeover, int *lfd, char *name,
    size_t namesz, buf *err)
{
	sys_notify_init();
	int fd = sys_listen_fd(err);
	if (fd < 0) {
		fprintf(stderr, "kiji: %s\n", buf_cstr(err));
		return 1;
	}
	if (fd > 0) {
		if (!http_listen_name(fd, name, namesz)) {
			fprintf(stderr, "kiji: socket activation: the socket "
			    "passed has no TCP address\n");
			close(fd);
			return 1;
		}
		*lfd = fd;
		return 0;
	}
	/* SO_REUSEPORT would let us share the port with anything of ours
	 * listening there: two sites answering in turn. Only on purpose. */
	if (!takeover && http_listening(listen)) {
		fprintf(stderr, "kiji: %s is in use by another server (to take "
		    "over from a kiji that is about to stop, add --takeover)\n",
		    listen);
		return 1;
	}
	if ((*lfd = http_bind(listen, err)) < 0) {
		fprintf(stderr, "kiji: %s\n", buf_cstr(err));
		return 1;
	}
	snprintf(name, namesz, "%s", listen);
	return 0;
}

static bool
serve_alive(void *ctx, unsigned within_ms)
{
	return http_alive(ctx, within_ms);
}

/* See serve_life.h. */
sys_watchdog *
serve_ready(http_server *srv, const char *db, const char *name)
{
	sys_notify("READY=1\nSTATUS=serving %s on http://%s", db, name);
	return sys_watchdog_start(serve_alive, srv);
}

/* See serve_life.h. */
void
serve_drain(http_server *srv, int sig, unsigned drain_s)
{
	unsigned n = http_conn_count(srv);
	const char *what = sig == SIGINT ? "SIGINT" : "SIGTERM";

	sys_notify("STOPPING=1\nSTATUS=%s: finishing %u connections", what, n);
	fprintf(stderr, "kiji: %s, stopping: finishing %u connections (at "
	    "most %u s)\n", what, n, drain_s);
	if (!http_drain(srv, drain_s * 1000u))
		fprintf(stderr, "kiji: %u connections still open after %u s; "
		    "closing them\n", http_conn_count(srv), drain_s);
}
