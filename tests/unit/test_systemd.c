/*
 * src/sys/systemd.c: the socket systemd passes (LISTEN_FDS), notifications
 * to a datagram socket standing in for systemd's (a path and an abstract
 * name), and the watchdog pinging only while its callback says alive.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "src/sys/sys.h"
#include "t.h"

static void
sleep_ms(int ms)
{
	nanosleep(&(struct timespec){ .tv_sec = ms / 1000,
	    .tv_nsec = (long)(ms % 1000) * 1000000 }, NULL);
}

/* A socket of the given type on loopback, listening when stream, moved
 * to descriptor 3 as systemd passes it. */
static void
pass_as_fd3(int type, bool listening)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, type, 0);
	T_CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	if (listening)
		T_CHECK(listen(fd, 16) == 0);
	if (fd != 3) {
		T_CHECK(dup2(fd, 3) == 3);
		close(fd);
	}
}

static void
set_listen_env(const char *nfds)
{
	char pid[32];
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", nfds, 1);
}

static void
test_listen_fd(void)
{
	buf err;
	buf_init(&err, 0);

	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	T_CHECK(sys_listen_fd(&err) == 0);

	/* a TCP listener: served, non-blocking, close-on-exec, env gone */
	pass_as_fd3(SOCK_STREAM, true);
	set_listen_env("1");
	T_CHECK(sys_listen_fd(&err) == 3);
	T_CHECK(fcntl(3, F_GETFL) & O_NONBLOCK);
	T_CHECK(fcntl(3, F_GETFD) & FD_CLOEXEC);
	T_CHECK(getenv("LISTEN_FDS") == NULL && getenv("LISTEN_PID") == NULL);
	close(3);

	/* for another process: not ours */
	pass_as_fd3(SOCK_STREAM, true);
	setenv("LISTEN_PID", "1", 1);
	setenv("LISTEN_FDS", "1", 1);
	T_CHECK(sys_listen_fd(&err) == 0);
	close(3);

	/* not a TCP listener: refused, and closed */
	pass_as_fd3(SOCK_DGRAM, false);
	set_listen_env("1");
	buf_reset(&err);
	T_CHECK(sys_listen_fd(&err) == -1);
	T_CHECK(strstr(buf_cstr(&err), "not a listening TCP socket") != NULL);
	T_CHECK(fcntl(3, F_GETFD) == -1 && errno == EBADF);

	pass_as_fd3(SOCK_STREAM, false);
	set_listen_env("1");
	T_CHECK(sys_listen_fd(&err) == -1);
	T_CHECK(fcntl(3, F_GETFD) == -1 && errno == EBADF);

	/* more than one */
	pass_as_fd3(SOCK_STREAM, true);
	T_CHECK(dup2(3, 4) == 4);
	set_listen_env("2");
	buf_reset(&err);
	T_CHECK(sys_listen_fd(&err) == -1);
	T_CHECK(strstr(buf_cstr(&err), "2 sockets passed") != NULL);
	T_CHECK(fcntl(3, F_GETFD) == -1 && fcntl(4, F_GETFD) == -1);
	buf_free(&err);
}

/* The receiving end: a datagram socket at path (or "@name"). */
static int
notify_sock(const char *name)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memcpy(un.sun_path, name, n);
	if (name[0] == '@')
		un.sun_path[0] = '\0';
	else
		unlink(name);
	T_CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&un,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (name[0] != '@'))) == 0);
	return fd;
}

/* The next message within ms into out ("" when none). */
static void
recv_msg(int fd, char *out, size_t cap, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	out[0] = '\0';
	if (poll(&p, 1, ms) == 1) {
		ssize_t k = recv(fd, out, cap - 1, 0);
		out[k > 0 ? k : 0] = '\0';
	}
}

static char sock_path[108];

static void
test_notify_path(void)
{
	char msg[600];
	snprintf(sock_path, sizeof(sock_path), "/tmp/kiji-test-notify-%ld",
	    (long)getpid());
	int fd = notify_sock(sock_path);

	unsetenv("NOTIFY_SOCKET");
	sys_notify("READY=1"); /* no socket: nothing, no failure */
	setenv("NOTIFY_SOCKET", sock_path, 1);
	sys_notify_init(); /* a path: nothing to prepare */
	sys_notify("READY=1\nSTATUS=serving %s", "x.db");
	recv_msg(fd, msg, sizeof(msg), 2000);
	T_STREQ(msg, "READY=1\nSTATUS=serving x.db");
	/* a long status is cut, not overflowed */
	char big[700];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sys_notify("STATUS=%s", big);
	recv_msg(fd, msg, sizeof(msg), 2000);
	T_CHECK(strlen(msg) == 511 && strncmp(msg, "STATUS=aaa", 10) == 0);
	close(fd);
}

static atomic_bool wd_alive;
static atomic_uint wd_asked;

static bool
wd_check(void *ctx, unsigned within_ms)
{
	(void)ctx;
	atomic_fetch_add(&wd_asked, 1);
	T_CHECK(within_ms >= 1000); /* never less than a second */
	return atomic_load(&wd_alive);
}

/* Counts WATCHDOG=1 messages arriving within ms. */
static int
pings(int fd, int ms)
{
	char msg[64];
	int n = 0;
	for (int t = 0; t < ms; t += 10) {
		recv_msg(fd, msg, sizeof(msg), 10);
		if (strcmp(msg, "WATCHDOG=1") == 0)
			n++;
	}
	return n;
}

static void
test_watchdog(void)
{
	int fd = notify_sock(sock_path);

	setenv("NOTIFY_SOCKET", sock_path, 1);
	unsetenv("WATCHDOG_USEC");
	T_CHECK(sys_watchdog_start(wd_check, NULL) == NULL);
	setenv("WATCHDOG_USEC", "100000", 1); /* a ping every 50 ms */
	unsetenv("WATCHDOG_PID");
	atomic_store(&wd_alive, true);
	sys_watchdog *wd = sys_watchdog_start(wd_check, NULL);
	T_CHECK(wd != NULL);
	T_CHECK(pings(fd, 1000) >= 2);
	/* the loops stop turning: no more pings, though it keeps asking */
	atomic_store(&wd_alive, false);
	sleep_ms(150);
	pings(fd, 50);
	unsigned asked = atomic_load(&wd_asked);
	T_CHECK(pings(fd, 500) == 0);
	T_CHECK(atomic_load(&wd_asked) > asked);
	atomic_store(&wd_alive, true);
	T_CHECK(pings(fd, 1000) >= 1);
	sys_watchdog_stop(wd);
	sys_watchdog_stop(NULL);
	unsetenv("WATCHDOG_USEC");
	close(fd);
	unlink(sock_path);
}

/* An abstract NOTIFY_SOCKET is connected once, before any sandbox. */
static void
test_notify_abstract(void)
{
	char name[64], msg[64];
	snprintf(name, sizeof(name), "@kiji-test-notify-%ld", (long)getpid());
	int fd = notify_sock(name);

	setenv("NOTIFY_SOCKET", name, 1);
	sys_notify_init();
	sys_notify("STOPPING=1");
	recv_msg(fd, msg, sizeof(msg), 2000);
	T_STREQ(msg, "STOPPING=1");
	close(fd);
}

int
main(void)
{
	T_RUN(test_listen_fd);
	T_RUN(test_notify_path);
	T_RUN(test_watchdog);
	T_RUN(test_notify_abstract);
	T_DONE();
}
