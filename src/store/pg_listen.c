/*
 * The PostgreSQL store's change listener: what store_data_version answers
 * there without a round trip per request. One thread per store, started by
 * the first call, holds a connection of its own that LISTENs on
 * kiji_change (the change log's insert trigger NOTIFYs it at each commit,
 * schema_pg.c) and bumps a counter for each batch of notifications. The
 * notification is only the wake-up: the change log is the truth, read
 * from the node's own position (site_sync). So the counter also moves
 * after every (re)connection, whatever was missed while the listener was
 * away is read then; and while it is away the counter moves every
 * PG_LISTEN_TICK_MS, so a node's readers look at the log at most that
 * often instead of never. It polls its socket and a pipe, so
 * store_close stops it at once; it reconnects with a growing pause, and
 * it never takes the process down.
 */
#include "pg_int.h"
#include "../obs/obs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PG_LISTEN_TICK_MS 100       /* the counter's beat while away */
#define PG_LISTEN_BACKOFF_MS 100    /* first pause before a reconnect */
#define PG_LISTEN_BACKOFF_MAX 5000  /* the longest */

/* One store's listener. version, up and stop are read and written with
 * __atomic builtins; the rest belongs to the thread. */
struct pg_listen {
	store *s;
	pthread_t th;
	int wake[2];       /* a byte in wake[1] ends the thread's wait */
	int64_t version;   /* bumped per batch of notifications, per
	                    * (re)connection and per loss */
	bool up;           /* LISTEN in place on a live connection */
	bool stop;
};

/* Milliseconds on the monotonic clock. */
static int64_t
listen_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Adds one to the counter. */
static void
listen_bump(struct pg_listen *l)
{
	__atomic_add_fetch(&l->version, 1, __ATOMIC_ACQ_REL);
}

/* Waits up to ms (-1: no limit) for fd (-1: none) to be readable or the
 * pipe to wake us; false when the thread must stop. */
static bool
listen_wait(struct pg_listen *l, int fd, int ms)
{
	struct pollfd p[2] = {{l->wake[0], POLLIN, 0}, {fd, POLLIN, 0}};
	int r = poll(p, fd >= 0 ? 2 : 1, ms);
	if (r < 0 && errno != EINTR)
		obs_warn("store: listener: poll: %s", strerror(errno));
	return !__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE);
}

/* Drops the server's notices: a loss is logged by the thread itself. */
static void
listen_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Connects and LISTENs; NULL (and a line in the log, the first time of
 * an outage only: *quiet) when either fails. */
static PGconn *
listen_connect(struct pg_listen *l, bool *quiet)
{
	PGconn *pg = db_pg_connect(l->s->path);
	PGresult *r;
	const char *why;
	if (pg == NULL)
		return NULL;
	if (PQstatus(pg) != CONNECTION_OK) {
		why = PQerrorMessage(pg);
		goto fail;
	}
	PQsetNoticeProcessor(pg, listen_notice, NULL);
	r = PQexec(pg, "LISTEN kiji_change");
	if (PQresultStatus(r) == PGRES_COMMAND_OK) {
		PQclear(r);
		return pg;
	}
	PQclear(r);
	why = PQerrorMessage(pg);
fail:
	if (!*quiet)
		obs_warn("store: listener: cannot listen for changes (%.*s); "
		    "reading the change log every %d ms until it can",
		    (int)strcspn(why, "\n"), why, PG_LISTEN_TICK_MS);
	*quiet = true;
	PQfinish(pg);
	return NULL;
}

/* Reads what arrived on pg: bumps the counter once for any number of
 * notifications; false when the connection is gone. */
static bool
listen_drain(struct pg_listen *l, PGconn *pg)
{
	PGnotify *n;
	bool any = false;
	if (!PQconsumeInput(pg) || PQstatus(pg) != CONNECTION_OK)
		return false;
	while ((n = PQnotifies(pg)) != NULL) {
		PQfreemem(n);
		any = true;
	}
	if (any)
		listen_bump(l);
	return true;
}

/* The thread: connect, listen, bump; after a loss pause (doubling up to
 * PG_LISTEN_BACKOFF_MAX) and start again. */
static void *
listen_main(void *arg)
{
	struct pg_listen *l = arg;
	int pause = PG_LISTEN_BACKOFF_MS;
	bool quiet = false;
	pthread_setname_np(pthread_self(), "kiji-pglisten"); /* top -H, perf */

	while (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
		PGconn *pg = listen_connect(l, &quiet);
		if (pg == NULL) {
			if (!listen_wait(l, -1, pause))
				break;
			pause = pause * 2 > PG_LISTEN_BACKOFF_MAX ?
			    PG_LISTEN_BACKOFF_MAX : pause * 2;
			continue;
		}
		if (quiet)
			obs_info("store: listener: listening for changes again");
		quiet = false;
		pause = PG_LISTEN_BACKOFF_MS;
		__atomic_store_n(&l->up, true, __ATOMIC_RELEASE);
		/* what committed while nobody listened: read the log */
		listen_bump(l);
		while (listen_wait(l, PQsocket(pg), -1))
			if (!listen_drain(l, pg))
				break;
		__atomic_store_n(&l->up, false, __ATOMIC_RELEASE);
		listen_bump(l);
		if (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
			const char *m = PQerrorMessage(pg);
			obs_warn("store: listener: connection lost (%.*s); "
			    "reconnecting", (int)strcspn(m, "\n"), m);
			quiet = true;
		}
		PQfinish(pg);
	}
	return NULL;
}

/* Starts s's listener (under s->mu); false when no thread could be
 * made, and the caller counts by the clock instead. */
static bool
listen_start(store *s)
{
	struct pg_listen *l = xcalloc(1, sizeof(*l));
	l->s = s;
	if (pipe(l->wake) != 0) {
		free(l);
		return false;
	}
	fcntl(l->wake[0], F_SETFD, FD_CLOEXEC);
	fcntl(l->wake[1], F_SETFD, FD_CLOEXEC);
	if (pthread_create(&l->th, NULL, listen_main, l) != 0) {
		close(l->wake[0]);
		close(l->wake[1]);
		free(l);
		return false;
	}
	s->listen = l;
	return true;
}

int64_t
db_pg_listen_version(store *s)
{
	struct pg_listen *l;
	pthread_mutex_lock(&s->mu);
	if (s->listen == NULL && !s->listen_failed && !listen_start(s)) {
		obs_error("store: cannot start the change listener: %s",
		    strerror(errno));
		s->listen_failed = true;
	}
	l = s->listen;
	pthread_mutex_unlock(&s->mu);
	if (l != NULL && __atomic_load_n(&l->up, __ATOMIC_ACQUIRE))
		return __atomic_load_n(&l->version, __ATOMIC_ACQUIRE);
	/* away: a value that moves every tick (and with every bump) */
	return (l ? __atomic_load_n(&l->version, __ATOMIC_ACQUIRE) : 0) +
	    listen_ms() / PG_LISTEN_TICK_MS;
}

void
db_pg_listen_stop(store *s)
{
	struct pg_listen *l = s->listen;
	if (l == NULL)
		return;
	__atomic_store_n(&l->stop, true, __ATOMIC_RELEASE);
	while (write(l->wake[1], "x", 1) < 0 && errno == EINTR)
		;
	pthread_join(l->th, NULL);
	close(l->wake[0]);
	close(l->wake[1]);
	free(l);
	s->listen = NULL;
}
