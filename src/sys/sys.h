/*
 * The process's own protection for kiji serve (src/sys/): giving up root
 * once the listening socket is bound (user.c) and the Landlock sandbox
 * (landlock.c); and its life under systemd (systemd.c). Nothing here
 * knows about sites; it speaks to the kernel and the service manager.
 */
#ifndef KIJI_SYS_H
#define KIJI_SYS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../text/text.h"

enum sys_err {
	SYS_OK,
	SYS_USAGE,       /* the caller's mistake (not root, no such user):
	                  * exit 2 */
	SYS_UNSUPPORTED, /* the kernel has no Landlock: warn and go on */
	SYS_ERROR,       /* the system refused: exit 1 */
};

/* ---- the user to run as (user.c) --------------------------------------------------- */

struct sys_user {
	char name[64];
	uid_t uid;
	gid_t gid; /* the user's primary group */
};

/* Looks name up in the user database (before giving up root: after it
 * /etc/passwd may be out of reach). SYS_USAGE when this process is not
 * root, the user does not exist or is root itself. */
enum sys_err sys_user_find(const char *name, struct sys_user *u, buf *err);
/* Becomes u for good: supplementary groups (initgroups), then the group,
 * then the user (real, effective and saved ids), and checks that root
 * cannot be taken back. SYS_ERROR when any step fails: the caller must
 * exit, as the process may be half-dropped. */
enum sys_err sys_user_become(const struct sys_user *u, buf *err);

/* ---- the Landlock sandbox (landlock.c) --------------------------------------------- */

/* What a rule grants beneath its path. */
enum {
	SYS_READ = 1 << 0,   /* read files, list directories */
	SYS_WRITE = 1 << 1,  /* write and truncate existing files */
	SYS_CREATE = 1 << 2, /* make and remove regular files (directories) */
};

struct sys_rule {
	char path[PATH_MAX];
	unsigned access;   /* SYS_READ | SYS_WRITE | SYS_CREATE */
	bool required;     /* a missing path is an error, not skipped */
};

struct sys_sandbox {
	const char *db;    /* a SQLite database file: its directory is the
	                    * one place written (-wal, -shm, the mail key,
	                    * uploads spooled beside it); NULL for a
	                    * database server (PostgreSQL) */
	const char *spool; /* without db: the directory written instead
	                    * (uploads spooled there) */
	const char *mail_key; /* without db: the mail key file; its
	                    * directory is written (made on first need) */
	const char *theme; /* --theme DIR, read; NULL for none */
	const char *log_file; /* the access log file: its directory is
	                    * written (logrotate); NULL for none */
};

#define SYS_RULES_MAX 48

/* The rules for sb into out (at most max), in order: the database's
 * directory (or without one the spool directory) first (required), then
 * what libraries read (TLS trust, name resolution, time zones, shared
 * libraries, /dev/null and /dev/urandom, /proc/self, the CPU list, our
 * own executable); without a database file, what libpq reads (~/.pgpass,
 * ~/.postgresql, pg_service.conf, the files PGPASSFILE, PGSERVICEFILE
 * and PGSYSCONFDIR name) and the mail key's directory; then the theme
 * and the access log's directory. Connecting to PostgreSQL, over TCP or
 * its Unix socket, needs no rule.
 * Returns how many. Pure: nothing is opened. */
size_t sys_sandbox_rules(const struct sys_sandbox *sb, struct sys_rule *out,
    size_t max);
/* The Landlock file system rights handled at ABI version abi (all that
 * version knows, so everything not granted is denied). */
uint64_t sys_landlock_handled(int abi);
/* The Landlock rights a rule with access grants on a directory (dir) or a
 * file at ABI abi; never execute. */
uint64_t sys_landlock_rights(int abi, unsigned access, bool dir);
/* The size of struct landlock_ruleset_attr at ABI abi: the fields it has
 * grown (net rights at 4, scopes at 6) are passed only when known. */
size_t sys_landlock_attr_size(int abi);

/*
 * Enters the sandbox for the rest of the process's life: no new
 * privileges, then Landlock with the rules above (writes only in the
 * database's directory, reads only where listed, no execution, no new
 * listening sockets, no signals or abstract sockets outside). Call it
 * before any thread starts: Landlock applies to the calling thread and
 * the threads it starts afterwards (the kernel here has no flag to reach
 * threads already running), so it refuses (SYS_ERROR) when the process
 * has more than one. *abi is the Landlock ABI version used; SYS_UNSUPPORTED
 * (err says why) when the kernel has none.
 */
enum sys_err sys_sandbox_enter(const struct sys_sandbox *sb, int *abi,
    buf *err);

/* ---- systemd (systemd.c) ------------------------------------------------------------ */

/* The listening socket systemd passed (socket activation: $LISTEN_FDS and
 * $LISTEN_PID name this process; the variables are then unset): its
 * descriptor, made non-blocking and close-on-exec; 0 when none was passed;
 * -1 with a message in err when what was passed is not exactly one
 * listening TCP socket (those passed are closed). */
int sys_listen_fd(buf *err);
/* Before the sandbox: connects an abstract $NOTIFY_SOCKET ("@name"),
 * which the sandbox would keep out of reach. */
void sys_notify_init(void);
/* Sends one notification to the service manager, e.g. "READY=1\nSTATUS=..."
 * (printf format, at most 511 bytes); a no-op without $NOTIFY_SOCKET. */
void sys_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

typedef struct sys_watchdog sys_watchdog;
/* When systemd asked for a watchdog ($WATCHDOG_USEC for this process):
 * a thread that sends WATCHDOG=1 every half period, but only when
 * alive(ctx, ms) says the work was seen done within ms (so a stuck event
 * loop gets the service restarted, not a timer that still ticks). NULL
 * when no watchdog was asked for (or its thread could not start). */
sys_watchdog *sys_watchdog_start(bool (*alive)(void *ctx, unsigned within_ms),
    void *ctx);
void sys_watchdog_stop(sys_watchdog *wd); /* NULL-safe */

#ifdef KIJI_TEST_HOOKS
/* Test builds: from a new thread (as a worker would), opens each path in
 * $KIJI_TEST_PROBE_READ (colon-separated) for reading, creates
 * $KIJI_TEST_PROBE_WRITE and resolves the host $KIJI_TEST_PROBE_RESOLVE,
 * saying on stderr "kiji: test probe: read|write|resolve X: ok|<error>". */
void sys_test_probe(void);
#endif

#endif
