/*
 * The Landlock sandbox of kiji serve (Linux 5.13 and later): once the
 * server has started, a bug in a parser cannot write outside the
 * database's directory, read the rest of the file system, run a program
 * or open another listening port. Rights are handled as of the newest
 * ABI the kernel reports, so each newer kernel closes more; a kernel
 * without Landlock gets a warning and the server runs unconfined.
 *
 * glibc (Debian 12's 2.36) has no wrappers for the three Landlock system
 * calls: they are made through syscall(2). Debian 12's <linux/landlock.h>
 * stops at ABI 2, so the later rights are defined here with the kernel's
 * own values (they are ABI and never change).
 */
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/landlock.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)  /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)  /* ABI 4 */
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)               /* ABI 6 */
#endif

#define LL_ABI_REFER 2
#define LL_ABI_TRUNCATE 3
#define LL_ABI_NET 4
#define LL_ABI_IOCTL_DEV 5
#define LL_ABI_SCOPE 6

/* struct landlock_ruleset_attr as the kernel has grown it; a prefix of
 * it is passed, as long as the running kernel's ABI knows. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;             /* ABI 6 */
};

/* What the server reads besides its database, read-only. Missing paths
 * are skipped (not every system has /lib64 or /etc/gai.conf). A rule
 * holds the file it names when the sandbox is made: a file replaced
 * afterwards (a new /etc/resolv.conf written beside and renamed over) is
 * a new file, out of reach until the server restarts. */
static const char *const ll_read[] = {
	/* TLS trust for outgoing fetches (libcurl, OpenSSL); not all of
	 * /etc/ssl: /etc/ssl/private holds keys */
	"/etc/ssl/certs", "/etc/ssl/openssl.cnf", "/usr/share/ca-certificates",
	/* name resolution (getaddrinfo, NSS) */
	"/etc/resolv.conf", "/etc/hosts", "/etc/host.conf",
	"/etc/nsswitch.conf", "/etc/gai.conf", "/etc/services",
	"/etc/protocols",
	/* time zones (site.timezone can change while serving) */
	"/etc/localtime", "/usr/share/zoneinfo",
	/* shared libraries loaded late: NSS modules, iconv's gconv modules,
	 * OpenSSL's engines and configuration */
	"/etc/ld.so.cache", "/usr/lib", "/lib", "/usr/lib64", "/lib64",
	"/dev/urandom",
	/* the C library, the sanitizers and the thread count read these */
	"/proc/self", "/sys/devices/system/cpu",
	/* our own executable: sanitizer reports read its symbols */
	"/proc/self/exe",
};

/* See sys.h. */
uint64_t
sys_landlock_handled(int abi)
{
	uint64_t r = 0;
	if (abi < 1)
		return 0;
	r = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= LL_ABI_REFER)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= LL_ABI_TRUNCATE)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= LL_ABI_IOCTL_DEV)
		r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return r;
}

/* See sys.h. Directories get the directory rights too; a file rule may
 * carry only rights that apply to files (else add_rule says EINVAL). */
uint64_t
sys_landlock_rights(int abi, unsigned access, bool dir)
{
	uint64_t r = 0;
	if (access & SYS_READ)
		r |= LANDLOCK_ACCESS_FS_READ_FILE |
		    (dir ? LANDLOCK_ACCESS_FS_READ_DIR : 0);
	if (access & SYS_WRITE)
		r |= LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
	if ((access & SYS_CREATE) && dir)
		r |= LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_REMOVE_FILE;
	return r & sys_landlock_handled(abi);
}

/* See sys.h. */
size_t
sys_landlock_attr_size(int abi)
{
	if (abi >= LL_ABI_SCOPE)
		return sizeof(struct ll_ruleset_attr);
	if (abi >= LL_ABI_NET)
		return offsetof(struct ll_ruleset_attr, scoped);
	return offsetof(struct ll_ruleset_attr, handled_access_net);
}

/* Appends one rule when there is room; false when the path is too long. */
static bool
rule_add(struct sys_rule *out, size_t max, size_t *n, const char *path,
    unsigned access, bool required)
{
	if (*n >= max || strlen(path) >= sizeof out->path)
		return false;
	snprintf(out[*n].path, sizeof out[*n].path, "%s", path);
	out[*n].access = access;
	out[*n].required = required;
	(*n)++;
	return true;
}

/* A database server's rules (sys.h): libpq's files, read; the mail
 * key's directory, written. No rule is needed to connect: Landlock
 * confines binding TCP ports (not connecting) and, through ABI 7, not
 * connecting to a Unix socket by its path (tested: kiji serve reaches
 * PostgreSQL over 127.0.0.1 and over its socket directory, sandboxed). */
static void
pg_rules(const struct sys_sandbox *sb, struct sys_rule *out, size_t max,
    size_t *n)
{
	static const char *const env[] = {"PGPASSFILE", "PGSERVICEFILE",
	    "PGSYSCONFDIR", "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY"};
	const char *home = getenv("HOME");
	char p[PATH_MAX];
	if (home != NULL && home[0] == '/') {
		snprintf(p, sizeof p, "%s/.pgpass", home);
		rule_add(out, max, n, p, SYS_READ, false);
		snprintf(p, sizeof p, "%s/.postgresql", home);
		rule_add(out, max, n, p, SYS_READ, false);
	}
	rule_add(out, max, n, "/etc/postgresql-common", SYS_READ, false);
	for (size_t i = 0; i < sizeof env / sizeof env[0]; i++) {
		const char *v = getenv(env[i]);
		if (v != NULL && v[0] == '/')
			rule_add(out, max, n, v, SYS_READ, false);
	}
	if (sb->mail_key != NULL && sb->mail_key[0] == '/') {
		char *copy = xstrdup(sb->mail_key);
		rule_add(out, max, n, dirname(copy), SYS_READ | SYS_WRITE |
		    SYS_CREATE, false);
		free(copy);
	}
}

/* See sys.h. */
size_t
sys_sandbox_rules(const struct sys_sandbox *sb, struct sys_rule *out,
    size_t max)
{
	size_t n = 0;
	char *copy = xstrdup(sb->db ? sb->db : sb->spool ? sb->spool : "/");
	/* the directory, not the file: SQLite makes -wal and -shm beside it
	 * and uploads are spooled there (O_TMPFILE) */
	rule_add(out, max, &n, sb->db ? dirname(copy) : copy, SYS_READ |
	    SYS_WRITE | SYS_CREATE, true);
	free(copy);
	rule_add(out, max, &n, "/dev/null", SYS_READ | SYS_WRITE, false);
	for (size_t i = 0; i < sizeof ll_read / sizeof ll_read[0]; i++)
		rule_add(out, max, &n, ll_read[i], SYS_READ, false);
	if (sb->db == NULL)
		pg_rules(sb, out, max, &n);
	if (sb->theme != NULL)
		rule_add(out, max, &n, sb->theme, SYS_READ, true);
	if (sb->log_file != NULL && sb->log_file[0] == '/') {
		/* its directory: logrotate moves the file, SIGHUP makes a
		 * new one there */
		copy = xstrdup(sb->log_file);
		rule_add(out, max, &n, dirname(copy), SYS_READ | SYS_WRITE |
		    SYS_CREATE, false);
		free(copy);
	}
	return n;
}

/* The number of threads in this process, 0 when /proc cannot tell. */
static int
thread_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Adds one rule to the ruleset; a missing optional path is skipped. */
static bool
ruleset_add(int rfd, int abi, const struct sys_rule *r, buf *err)
{
	struct landlock_path_beneath_attr pb = {0};
	struct stat st;
	int fd = open(r->path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		if (!r->required)
			return true;
		buf_printf(err, "%s: %s", r->path, strerror(errno));
		return false;
	}
	bool ok = fstat(fd, &st) == 0;
	pb.allowed_access = sys_landlock_rights(abi, r->access,
	    ok && S_ISDIR(st.st_mode));
	pb.parent_fd = fd;
	if (ok && pb.allowed_access != 0)
		ok = syscall(SYS_landlock_add_rule, rfd,
		    LANDLOCK_RULE_PATH_BENEATH, &pb, 0) == 0;
	if (!ok)
		buf_printf(err, "landlock_add_rule(%s): %s", r->path,
		    strerror(errno));
	close(fd);
	return ok;
}

/* See sys.h. */
enum sys_err
sys_sandbox_enter(const struct sys_sandbox *sb, int *abi, buf *err)
{
	struct ll_ruleset_attr attr = {0};
	struct sys_rule *rules = NULL;
	enum sys_err rc = SYS_ERROR;
	int rfd = -1;

	*abi = 0;
	int v = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (v < 0) {
		/* ENOSYS: too old; EOPNOTSUPP: built but not enabled at boot
		 * (lsm= on the kernel command line) */
		bool none = errno == ENOSYS || errno == EOPNOTSUPP;
		buf_printf(err, "%s (%s)", none ? "this kernel has no Landlock "
		    "(Linux 5.13 or later, with landlock in its lsm= list)" :
		    "cannot query Landlock", strerror(errno));
		return none ? SYS_UNSUPPORTED : SYS_ERROR;
	}
	int nth = thread_count();
	if (nth > 1) {
		buf_printf(err, "%d threads are running already; Landlock "
		    "would confine only this one", nth);
		return SYS_ERROR;
	}
	attr.handled_access_fs = sys_landlock_handled(v);
	if (v >= LL_ABI_NET) /* no rule: no port may be bound any more */
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP;
	if (v >= LL_ABI_SCOPE)
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET |
		    LANDLOCK_SCOPE_SIGNAL;
	rfd = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    sys_landlock_attr_size(v), 0);
	if (rfd < 0) {
		buf_printf(err, "landlock_create_ruleset: %s", strerror(errno));
		goto out;
	}
	rules = xcalloc(SYS_RULES_MAX, sizeof(*rules));
	size_t n = sys_sandbox_rules(sb, rules, SYS_RULES_MAX);
#ifdef KIJI_TEST_HOOKS
	/* the test clock (text_now) is re-read from its file while serving */
	const char *clk = getenv("KIJI_TEST_CLOCK_FILE");
	char *cdir = clk != NULL ? xstrdup(clk) : NULL;
	if (cdir != NULL)
		rule_add(rules, SYS_RULES_MAX, &n, dirname(cdir), SYS_READ, false);
	free(cdir);
#endif
	for (size_t i = 0; i < n; i++)
		if (!ruleset_add(rfd, v, &rules[i], err))
			goto out;
	/* required to restrict oneself without CAP_SYS_ADMIN; good anyway:
	 * nothing exec'd could gain privileges (nothing can be exec'd) */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		buf_printf(err, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		goto out;
	}
	if (syscall(SYS_landlock_restrict_self, rfd, 0) != 0) {
		buf_printf(err, "landlock_restrict_self: %s", strerror(errno));
		goto out;
	}
	*abi = v;
	rc = SYS_OK;
out:
	if (rfd >= 0)
		close(rfd);
	free(rules);
	return rc;
}

#ifdef KIJI_TEST_HOOKS
/* One probe: open path for reading (write: create it) and say how it went. */
static void
probe_one(const char *what, const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);
	fprintf(stderr, "kiji: test probe: %s %s: %s\n", what, path,
	    fd >= 0 ? "ok" : strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Resolves name as libcurl would (getaddrinfo: nsswitch.conf, hosts,
 * resolv.conf) and says how it went. */
static void
probe_resolve(const char *name)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	int e = getaddrinfo(name, "80", &hints, &res);
	fprintf(stderr, "kiji: test probe: resolve %s: %s\n", name,
	    e == 0 ? "ok" : gai_strerror(e));
	if (res != NULL)
		freeaddrinfo(res);
}

static void *
probe_main(void *arg)
{
	(void)arg;
	const char *r = getenv("KIJI_TEST_PROBE_READ");
	const char *w = getenv("KIJI_TEST_PROBE_WRITE");
	const char *n = getenv("KIJI_TEST_PROBE_RESOLVE");
	for (const char *p = r; p != NULL && *p != '\0';) {
		/* colon-separated list */
		char one[PATH_MAX];
		size_t len = strcspn(p, ":");
		if (len < sizeof one) {
			memcpy(one, p, len);
			one[len] = '\0';
			probe_one("read", one, O_RDONLY);
		}
		p += len + (p[len] == ':');
	}
	if (w != NULL)
		probe_one("write", w, O_WRONLY | O_CREAT | O_EXCL);
	if (n != NULL)
		probe_resolve(n);
	return NULL;
}

/* See sys.h. */
void
sys_test_probe(void)
{
	pthread_t th;
	if (getenv("KIJI_TEST_PROBE_READ") == NULL &&
	    getenv("KIJI_TEST_PROBE_WRITE") == NULL &&
	    getenv("KIJI_TEST_PROBE_RESOLVE") == NULL)
		return;
	if (pthread_create(&th, NULL, probe_main, NULL) == 0)
		pthread_join(th, NULL);
}
#endif
