/*
 * kiji serve under systemd, through Debian's libsystemd (sd-daemon): the
 * listening socket systemd may hand over (socket activation, kiji.socket),
 * notifications to the service manager (Type=notify: READY=1 once serving,
 * STOPPING=1 when a drain begins, STATUS= lines) and the watchdog
 * (WatchdogSec=: WATCHDOG=1 every half period while the event loops are
 * seen turning). Without systemd every call here is a no-op.
 *
 * The sandbox: Landlock (ABI 6 and later) keeps a sandboxed process from
 * reaching abstract unix sockets made outside it, and libsystemd opens a
 * new socket for each notification. systemd's own $NOTIFY_SOCKET is a
 * path (/run/systemd/notify), which Landlock leaves alone; an abstract one
 * ("@name", other supervisors) is connected before the sandbox, and a
 * connected datagram socket may go on sending to its peer.
 */
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

/* The notification socket connected before the sandbox (abstract
 * $NOTIFY_SOCKET only), or -1: libsystemd sends. One per process, as
 * $NOTIFY_SOCKET is. */
static int sys_notify_fd = -1;

struct sys_watchdog {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	uint64_t period_us;            /* between pings: half of WATCHDOG_USEC */
	bool (*alive)(void *ctx, unsigned within_ms);
	void *ctx;
};

/* See sys.h. */
int
sys_listen_fd(buf *err)
{
	int n = sd_listen_fds(1);
	if (n < 0) {
		buf_printf(err, "socket activation: %s", strerror(-n));
		return -1;
	}
	if (n == 0)
		return 0;
	int fd = SD_LISTEN_FDS_START;
	if (n > 1) {
		buf_printf(err, "socket activation: %d sockets passed; kiji "
		    "serves one (one ListenStream= in kiji.socket)", n);
		goto bad;
	}
	if (sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0) <= 0) {
		buf_puts(err, "socket activation: the socket passed is not a "
		    "listening TCP socket (kiji.socket needs ListenStream= "
		    "with an address and port, Accept=no)");
		goto bad;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
		buf_printf(err, "socket activation: %s", strerror(errno));
		goto bad;
	}
	return fd;
bad:
	for (int i = 0; i < n; i++)
		close(SD_LISTEN_FDS_START + i);
	return -1;
}

/* See sys.h. */
void
sys_notify_init(void)
{
	const char *e = getenv("NOTIFY_SOCKET");
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	size_t n = e != NULL ? strlen(e) : 0;

	if (n < 2 || e[0] != '@' || n > sizeof(un.sun_path))
		return;
	memcpy(un.sun_path, e, n);
	un.sun_path[0] = '\0'; /* abstract: a leading NUL, no terminator */
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&un,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) != 0) {
		fprintf(stderr, "kiji: NOTIFY_SOCKET %s: %s\n", e,
		    strerror(errno));
		close(fd);
		return;
	}
	sys_notify_fd = fd;
}

/* See sys.h. */
void
sys_notify(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (sys_notify_fd < 0 && getenv("NOTIFY_SOCKET") == NULL)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	if (sys_notify_fd >= 0) {
		/* the manager reads our credentials from the kernel
		 * (SO_PASSCRED on its side): nothing else to attach */
		ssize_t r = send(sys_notify_fd, msg, (size_t)n, MSG_NOSIGNAL);
		(void)r;
		return;
	}
	int r = sd_notify(0, msg);
	if (r < 0)
		fprintf(stderr, "kiji: sd_notify: %s\n", strerror(-r));
}

static void *
watchdog_main(void *arg)
{
	struct sys_watchdog *wd = arg;
	unsigned ms = (unsigned)(wd->period_us / 1000);
	pthread_setname_np(pthread_self(), "kiji-watchdog"); /* top -H, perf */

	if (ms < 1)
		ms = 1;
	pthread_mutex_lock(&wd->mu);
	while (!wd->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t ns = (uint64_t)ts.tv_nsec + wd->period_us * 1000;
		ts.tv_sec += (time_t)(ns / 1000000000);
		ts.tv_nsec = (long)(ns % 1000000000);
		while (!wd->stop && pthread_cond_timedwait(&wd->cv, &wd->mu,
		    &ts) != ETIMEDOUT)
			;
		if (wd->stop)
			break;
		pthread_mutex_unlock(&wd->mu);
		/* A ping only for loops seen turning within the period (but
		 * never asking for less than a second: they turn every
		 * 250 ms when idle). */
		if (wd->alive(wd->ctx, ms > 1000 ? ms : 1000))
			sys_notify("WATCHDOG=1");
		pthread_mutex_lock(&wd->mu);
	}
	pthread_mutex_unlock(&wd->mu);
	return NULL;
}

/* See sys.h. */
sys_watchdog *
sys_watchdog_start(bool (*alive)(void *ctx, unsigned within_ms), void *ctx)
{
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return NULL;
	sys_watchdog *wd = xcalloc(1, sizeof(*wd));
	wd->period_us = usec / 2;
	wd->alive = alive;
	wd->ctx = ctx;
	pthread_mutex_init(&wd->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wd->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&wd->th, NULL, watchdog_main, wd) != 0) {
		fprintf(stderr, "kiji: watchdog: cannot start its thread; "
		    "systemd will stop the service at WatchdogSec\n");
		pthread_mutex_destroy(&wd->mu);
		pthread_cond_destroy(&wd->cv);
		free(wd);
		return NULL;
	}
	return wd;
}

/* See sys.h. */
void
sys_watchdog_stop(sys_watchdog *wd)
{
	if (wd == NULL)
		return;
	pthread_mutex_lock(&wd->mu);
	wd->stop = true;
	pthread_cond_signal(&wd->cv);
	pthread_mutex_unlock(&wd->mu);
	pthread_join(wd->th, NULL);
	pthread_mutex_destroy(&wd->mu);
	pthread_cond_destroy(&wd->cv);
	free(wd);
}
