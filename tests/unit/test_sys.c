/*
 * src/sys/: the Landlock rights per ABI, the sandbox's rule list, the
 * --user checks, and the sandbox itself in a forked child (skipped, and
 * said so, where the kernel has no Landlock).
 */
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "../../src/sys/sys.h"

#define FS_TRUNCATE (1ULL << 14)
#define FS_IOCTL_DEV (1ULL << 15)

static void
test_handled_grows_with_abi(void)
{
	T_CHECK(sys_landlock_handled(0) == 0);
	uint64_t v1 = sys_landlock_handled(1);
	T_CHECK(v1 & LANDLOCK_ACCESS_FS_EXECUTE);
	T_CHECK(v1 & LANDLOCK_ACCESS_FS_MAKE_SYM);
	T_CHECK(!(v1 & LANDLOCK_ACCESS_FS_REFER));
	T_CHECK(sys_landlock_handled(2) & LANDLOCK_ACCESS_FS_REFER);
	T_CHECK(!(sys_landlock_handled(2) & FS_TRUNCATE));
	T_CHECK(sys_landlock_handled(3) & FS_TRUNCATE);
	T_CHECK(!(sys_landlock_handled(4) & FS_IOCTL_DEV));
	T_CHECK(sys_landlock_handled(5) & FS_IOCTL_DEV);
	/* a future ABI handles what kiji knows, no unknown bit */
	T_CHECK(sys_landlock_handled(99) == sys_landlock_handled(5));
}

static void
test_rights(void)
{
	unsigned all = SYS_READ | SYS_WRITE | SYS_CREATE;
	for (int abi = 1; abi <= 8; abi++) {
		for (unsigned a = 0; a <= all; a++) {
			uint64_t d = sys_landlock_rights(abi, a, true);
			uint64_t f = sys_landlock_rights(abi, a, false);
			/* never execute, never beyond what the ABI handles */
			T_CHECK(!(d & LANDLOCK_ACCESS_FS_EXECUTE));
			T_CHECK((d & ~sys_landlock_handled(abi)) == 0);
			/* a file rule carries only file rights (else EINVAL) */
			T_CHECK((f & ~(LANDLOCK_ACCESS_FS_WRITE_FILE |
			    LANDLOCK_ACCESS_FS_READ_FILE | FS_TRUNCATE)) == 0);
			/* only a write rule may write or create */
			if (!(a & SYS_WRITE))
				T_CHECK(!(d & LANDLOCK_ACCESS_FS_WRITE_FILE));
			if (!(a & SYS_CREATE))
				T_CHECK(!(d & LANDLOCK_ACCESS_FS_MAKE_REG));
		}
	}
	uint64_t db = sys_landlock_rights(3, all, true);
	T_CHECK(db & LANDLOCK_ACCESS_FS_MAKE_REG);
	T_CHECK(db & LANDLOCK_ACCESS_FS_REMOVE_FILE);
	T_CHECK(db & FS_TRUNCATE);
	T_CHECK(!(db & LANDLOCK_ACCESS_FS_MAKE_DIR));
	T_CHECK(!(db & LANDLOCK_ACCESS_FS_MAKE_SYM));
	T_CHECK(!(sys_landlock_rights(2, all, true) & FS_TRUNCATE));
	T_CHECK(sys_landlock_rights(1, SYS_READ, true) ==
	    (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR));
}

static void
test_attr_size(void)
{
	T_CHECK(sys_landlock_attr_size(1) == 8);
	T_CHECK(sys_landlock_attr_size(3) == 8);
	T_CHECK(sys_landlock_attr_size(4) == 16);
	T_CHECK(sys_landlock_attr_size(5) == 16);
	T_CHECK(sys_landlock_attr_size(6) == 24);
	T_CHECK(sys_landlock_attr_size(7) == 24);
}

/* Whether path lies beneath (or is) dir. */
static bool
beneath(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/' || strcmp(dir, "/") == 0);
}

static void
test_rules(void)
{
	struct sys_rule r[SYS_RULES_MAX];
	struct sys_sandbox sb = {.db = "/var/lib/kiji/site.db",
	    .theme = "/srv/theme"};
	size_t n = sys_sandbox_rules(&sb, r, SYS_RULES_MAX);
	T_CHECK(n > 5 && n < SYS_RULES_MAX);
	T_STREQ(r[0].path, "/var/lib/kiji");
	T_CHECK(r[0].access == (SYS_READ | SYS_WRITE | SYS_CREATE));
	T_CHECK(r[0].required);
	bool theme = false, resolv = false, certs = false, zone = false;
	for (size_t i = 1; i < n; i++) {
		/* the only other writable thing is /dev/null */
		if (r[i].access & (SYS_WRITE | SYS_CREATE))
			T_STREQ(r[i].path, "/dev/null");
		T_CHECK(!beneath("/etc/ssl/private", r[i].path));
		T_CHECK(!beneath("/etc/shadow", r[i].path));
		T_CHECK(!beneath("/root", r[i].path));
		T_CHECK(!beneath("/home", r[i].path));
		T_CHECK(!beneath("/var/lib/kiji", r[i].path));
		theme |= strcmp(r[i].path, "/srv/theme") == 0 && r[i].required;
		resolv |= strcmp(r[i].path, "/etc/resolv.conf") == 0;
		certs |= strcmp(r[i].path, "/etc/ssl/certs") == 0;
		zone |= strcmp(r[i].path, "/usr/share/zoneinfo") == 0;
	}
	T_CHECK(theme && resolv && certs && zone);

	/* a relative path: its directory is the working directory */
	sb = (struct sys_sandbox){.db = "site.db"};
	n = sys_sandbox_rules(&sb, r, SYS_RULES_MAX);
	T_STREQ(r[0].path, ".");
	for (size_t i = 0; i < n; i++)
		T_CHECK(strcmp(r[i].path, "/srv/theme") != 0);
	/* room for only two: nothing written past it */
	T_CHECK(sys_sandbox_rules(&sb, r, 2) == 2);
}

/* A PostgreSQL site (no database file): the spool directory is written
 * instead, the mail key's directory too, libpq's files are read, and
 * nothing else is written. */
static void
test_rules_server(void)
{
	struct sys_rule r[SYS_RULES_MAX];
	struct sys_sandbox sb = {.spool = "/var/tmp/kiji",
	    .mail_key = "/etc/kiji/mailkey"};
	char pgpass[PATH_MAX];
	setenv("HOME", "/home/kiji", 1);
	setenv("PGSERVICEFILE", "/etc/kiji/pg_service.conf", 1);
	size_t n = sys_sandbox_rules(&sb, r, SYS_RULES_MAX);
	T_CHECK(n > 5 && n < SYS_RULES_MAX);
	T_STREQ(r[0].path, "/var/tmp/kiji");
	T_CHECK(r[0].access == (SYS_READ | SYS_WRITE | SYS_CREATE));
	T_CHECK(r[0].required);
	snprintf(pgpass, sizeof pgpass, "%s", "/home/kiji/.pgpass");
	bool key = false, pass = false, service = false, certs = false;
	for (size_t i = 1; i < n; i++) {
		if (r[i].access & (SYS_WRITE | SYS_CREATE))
			T_CHECK(strcmp(r[i].path, "/dev/null") == 0 ||
			    strcmp(r[i].path, "/etc/kiji") == 0);
		key |= strcmp(r[i].path, "/etc/kiji") == 0 &&
		    r[i].access == (SYS_READ | SYS_WRITE | SYS_CREATE);
		pass |= strcmp(r[i].path, pgpass) == 0 &&
		    r[i].access == SYS_READ;
		certs |= strcmp(r[i].path, "/home/kiji/.postgresql") == 0;
		service |= strcmp(r[i].path, "/etc/kiji/pg_service.conf") == 0;
		T_CHECK(!beneath("/etc/ssl/private", r[i].path));
		T_CHECK(strcmp(r[i].path, "/home/kiji") != 0);
	}
	T_CHECK(key && pass && service && certs);
	unsetenv("PGSERVICEFILE");
}

static void
test_user_find(void)
{
	struct sys_user u;
	buf err;
	buf_init(&err, 4096);
	if (geteuid() != 0) {
		T_CHECK(sys_user_find("nobody", &u, &err) == SYS_USAGE);
		T_CHECK(strstr(buf_cstr(&err), "started as root") != NULL);
	} else {
		T_CHECK(sys_user_find("no-such-user-kiji", &u, &err) ==
		    SYS_USAGE);
		T_CHECK(strstr(buf_cstr(&err), "no such user") != NULL);
		buf_reset(&err);
		T_CHECK(sys_user_find("root", &u, &err) == SYS_USAGE);
		buf_reset(&err);
		T_CHECK(sys_user_find("nobody", &u, &err) == SYS_OK);
		T_STREQ(u.name, "nobody");
		T_CHECK(u.uid != 0);
	}
	buf_free(&err);
}

/* In the sandboxed child: 0 when everything went as it must, else the
 * number of the first check that failed. */
static int
child_checks(const char *dir, const char *outside)
{
	char p[PATH_MAX];
	int fd;
	snprintf(p, sizeof p, "%s/site.db-wal", dir);
	if ((fd = open(p, O_RDWR | O_CREAT, 0600)) < 0)
		return 1; /* beside the database: allowed */
	if (ftruncate(fd, 0) != 0)
		return 2;
	close(fd);
	if (unlink(p) != 0)
		return 3;
	if ((fd = open(dir, O_TMPFILE | O_RDWR, 0600)) < 0)
		return 4; /* uploads are spooled so */
	close(fd);
	snprintf(p, sizeof p, "%s/x", outside);
	if (open(p, O_WRONLY | O_CREAT, 0600) >= 0 || errno != EACCES)
		return 5; /* elsewhere: refused, whatever the modes say */
	if (open("/etc/passwd", O_RDONLY) >= 0 || errno != EACCES)
		return 6;
	if (open("/etc/resolv.conf", O_RDONLY) < 0 && errno != ENOENT)
		return 7;
	if (open("/usr/share/zoneinfo/UTC", O_RDONLY) < 0)
		return 8;
	if ((fd = open("/proc/self/status", O_RDONLY)) < 0)
		return 9;
	close(fd);
	if (mkdir(outside, 0700) == 0 || (errno != EACCES && errno != EEXIST))
		return 10;
	char *argv[] = {"/bin/true", NULL};
	execv(argv[0], argv);
	if (errno != EACCES)
		return 11; /* nothing may be run */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
	    syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION) >= 4)
		return 12; /* no new listening port (ABI 4 on) */
	return 0;
}

static void
test_sandbox_in_child(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0) {
		printf("skip test_sandbox_in_child: no Landlock here (%s)\n",
		    strerror(errno));
		return;
	}
	char dir[64] = "", out[64] = "";
	T_CHECK(t_tmpdir(dir, sizeof dir, "sys") &&
	    t_tmpdir(out, sizeof out, "sys-out"));
	char db[PATH_MAX];
	snprintf(db, sizeof db, "%s/site.db", dir);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		buf err;
		int got = 0;
		buf_init(&err, 4096);
		enum sys_err e = sys_sandbox_enter(&(struct sys_sandbox){
		    .db = db}, &got, &err);
		if (e != SYS_OK || got != abi) {
			fprintf(stderr, "sandbox: %s\n", buf_cstr(&err));
			_exit(100);
		}
		_exit(child_checks(dir, out));
	}
	int st = 0;
	T_CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	T_CHECK(WIFEXITED(st));
	if (WEXITSTATUS(st) != 0)
		printf("  child check %d failed\n", WEXITSTATUS(st));
	T_CHECK(WEXITSTATUS(st) == 0);
	t_tmpdir_remove(dir);
	t_tmpdir_remove(out);
}

int
main(void)
{
	T_RUN(test_handled_grows_with_abi);
	T_RUN(test_rights);
	T_RUN(test_attr_size);
	T_RUN(test_rules);
	T_RUN(test_rules_server);
	T_RUN(test_user_find);
	T_RUN(test_sandbox_in_child);
	T_DONE();
}
