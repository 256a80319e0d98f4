/*
 * kiji doctor --db FILE: checks an installation and says what to fix. One
 * line per check, "OK", "WARN" or "FAIL", its name and what was found,
 * then for WARN and FAIL an indented "fix:" line. Exit 1 when any check
 * failed, else 0 (warnings are advice). Nothing is written: the database
 * is opened read-only (store_ro), so it may run beside a live server.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cli.h"
#include "../site/site.h"
#include "../store/store.h"
#include "../text/text.h"

#define DOC_CONN_SPARE 64          /* descriptors besides connections */
#define DOC_DISK_MIN ((uint64_t)64 << 20) /* below: writes fail soon */
#define DOC_RECENT 50              /* comments looked at for a proxy */
#define DOC_RECENT_MIN 5           /* fewer say nothing */
#define DOC_FILE_MAX (1 << 20)     /* proxy config bytes read */

static const char usage_doctor[] =
    "usage: kiji doctor --db FILE [--user NAME] [--listen ADDR:PORT]\n"
    "                   [--proxy-config FILE]\n"
    "\n"
    "Checks an installation and prints one line per check (OK, WARN or\n"
    "FAIL) with what to fix: the database's integrity (quick_check) and\n"
    "durability (WAL, synchronous, a local file system), the owner and mode\n"
    "of FILE, its -wal and -shm files and their directory, the open-file\n"
    "limit against http.max_connections, time zone data and\n"
    "site.timezone, http.trusted_proxies when a proxy is in front,\n"
    "site.base_url, and free disk space. Writes nothing. Exit 1 when a\n"
    "check failed, else 0. For a postgresql:// FILE: the server's version,\n"
    "the schema version and synchronous_commit, then the checks that need\n"
    "no file (the file, integrity and disk checks say they are skipped).\n"
    "\n"
    "  --db FILE            the site's database (required)\n"
    "  --user NAME          the user kiji serve runs as (default: kiji when\n"
    "                       that user exists, else the user running doctor)\n"
    "  --listen ADDR:PORT   kiji's address, to recognise a proxy's config\n"
    "                       (default 127.0.0.1:8080)\n"
    "  --proxy-config FILE  a proxy config to look at besides\n"
    "                       /etc/nginx/sites-enabled/*, /etc/nginx/conf.d/\n"
    "                       *.conf and /etc/caddy/Caddyfile\n"
    "  -h, --help           this help\n";

/* Unit files the package and make install put in place, newest first. */
static const char *const doc_units[] = {
	"/etc/systemd/system/kiji.service",
	"/usr/local/lib/systemd/system/kiji.service",
	"/lib/systemd/system/kiji.service",
	"/usr/lib/systemd/system/kiji.service",
};

static const char *const doc_proxy_globs[] = {
	"/etc/nginx/sites-enabled/*",
	"/etc/nginx/conf.d/*.conf",
	"/etc/caddy/Caddyfile",
};

struct doc {
	int fails, warns;
	uid_t uid;            /* the user kiji runs as */
	gid_t gid;
	const char *user;
	const char *db;
	const char *listen;
	const char *proxy_conf;
	store_ro *ro;         /* NULL when the database cannot be opened */
	store *st;            /* PostgreSQL: opened by store_open_inspect */
	bool server;          /* --db is a database server's URL */
};

static void __attribute__((format(printf, 4, 5)))
say(struct doc *d, const char *level, const char *check, const char *fmt, ...)
{
	va_list ap;
	if (level[0] == 'F')
		d->fails++;
	else if (level[0] == 'W')
		d->warns++;
	printf("%-4s %-12s ", level, check);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void __attribute__((format(printf, 1, 2)))
fix(const char *fmt, ...)
{
	va_list ap;
	fputs("     fix: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* A setting's value: stored, else the default; "" when unreadable. */
static void
doc_setting(struct doc *d, enum conf_key k, buf *out)
{
	buf_reset(out);
	enum store_err e = d->st != NULL ?
	    store_setting_get(d->st, conf_defs[k].key, out) : d->ro != NULL ?
	    store_ro_setting(d->ro, conf_defs[k].key, out) : STORE_ERROR;
	if (e != STORE_OK) {
		buf_reset(out);
		buf_puts(out, conf_defs[k].def);
	}
}

/* The directory holding path (a copy). */
static void
doc_dir(const char *path, char *dir, size_t n)
{
	snprintf(dir, n, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, n, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
}

/* Whether user (uid, gid and its groups) has all of want (a mask of
 * 4 read, 2 write, 1 search) on a file with this stat. */
static bool
doc_access(const struct doc *d, const struct stat *sb, unsigned want)
{
	unsigned m;
	if (d->uid == 0)
		return true;
	if (sb->st_uid == d->uid) {
		m = (sb->st_mode >> 6) & 7;
	} else {
		bool in = sb->st_gid == d->gid;
		if (!in) {
			gid_t groups[256];
			int ng = 256;
			struct passwd *pw = getpwuid(d->uid);
			if (pw != NULL && getgrouplist(pw->pw_name, d->gid, groups,
			    &ng) >= 0)
				for (int i = 0; i < ng && !in; i++)
					in = groups[i] == sb->st_gid;
		}
		m = in ? (sb->st_mode >> 3) & 7 : sb->st_mode & 7;
	}
	return (m & want) == want;
}

static const char *
doc_owner(uid_t uid, char *tmp, size_t n)
{
	struct passwd *pw = getpwuid(uid);
	if (pw != NULL)
		return pw->pw_name;
	snprintf(tmp, n, "uid %u", (unsigned)uid);
	return tmp;
}

/* ---- the checks --------------------------------------------------------- */

static void
check_integrity(struct doc *d)
{
	buf b;
	buf_init(&b, 64 << 10);
	d->ro = store_ro_open(d->db, &b);
	if (d->ro == NULL) {
		say(d, "FAIL", "integrity", "cannot open the database: %s",
		    buf_cstr(&b));
		fix("restore the latest backup: kiji restore --db %s BACKUP.db",
		    db_shown(d->db));
		buf_free(&b);
		return;
	}
	enum store_err e = store_ro_check(d->ro, &b);
	if (e == STORE_OK) {
		say(d, "OK", "integrity", "quick_check: ok");
	} else if (e == STORE_BUSY) {
		say(d, "WARN", "integrity", "database busy, not checked: %s",
		    buf_cstr(&b));
		fix("run kiji doctor again");
	} else {
		say(d, "FAIL", "integrity", "quick_check: %s", buf_cstr(&b));
		fix("stop kiji and restore the latest backup: kiji restore "
		    "--db %s BACKUP.db", db_shown(d->db));
		/* A damaged file's settings are not to be believed. */
		store_ro_close(d->ro);
		d->ro = NULL;
	}
	buf_free(&b);
}

/* The file system under dir, when it cannot carry WAL or a site. */
static const char *
doc_fs_problem(const char *dir, bool *fatal)
{
	struct statfs fs;
	if (statfs(dir, &fs) != 0)
		return NULL;
	*fatal = true;
	switch ((unsigned long)fs.f_type) {
	case 0x6969UL: return "NFS";
	case 0x517BUL: return "SMB";
	case 0xFF534D42UL: return "CIFS";
	case 0xFE534D42UL: return "SMB2";
	case 0x01021997UL: return "9p";
	case 0x00C36400UL: return "Ceph";
	case 0x65735546UL: return "FUSE";
	case 0x01021994UL: *fatal = false; return "tmpfs";
	default: return NULL;
	}
}

static void
check_durability(struct doc *d)
{
	char dir[PATH_MAX];
	bool fatal = false;
	doc_dir(d->db, dir, sizeof(dir));
	const char *fs = doc_fs_problem(dir, &fatal);
	if (fs != NULL && fatal) {
		say(d, "FAIL", "durability", "%s is on %s: SQLite's WAL needs "
		    "shared memory and locks of a local file system", dir, fs);
		fix("move the database to a local disk (ext4, xfs)");
	} else if (fs != NULL) {
		say(d, "WARN", "durability", "%s is on tmpfs: the site is lost "
		    "at the next reboot", dir);
		fix("move the database to a disk");
	}
	if (d->ro == NULL)
		return;
	buf jm;
	int sync = -1;
	buf_init(&jm, 64);
	if (store_ro_durability(d->ro, &jm, &sync) != STORE_OK) {
		say(d, "WARN", "durability", "cannot read the journal mode");
	} else if (strcmp(buf_cstr(&jm), "wal") != 0) {
		say(d, "WARN", "durability", "journal_mode %s (a restored backup "
		    "or a file kiji has not opened yet)", buf_cstr(&jm));
		fix("kiji serve switches it to WAL at its next start");
	} else if (sync < 2) {
		say(d, "FAIL", "durability", "journal_mode wal, synchronous %d: "
		    "a commit could be lost on power failure", sync);
		fix("this SQLite ignores PRAGMA synchronous = FULL; use Debian's "
		    "libsqlite3");
	} else if (fs == NULL) {
		say(d, "OK", "durability", "journal_mode wal, synchronous %s, "
		    "local file system", sync == 2 ? "FULL" : "EXTRA");
	}
	buf_free(&jm);
}

/* A PostgreSQL site: reached (server version), its schema against this
 * kiji's, and commits that wait for their WAL flush; SQLite's file
 * checks do not apply and say so. */
static void
check_server(struct doc *d)
{
	struct store_facts f;
	const char *url = db_shown(d->db);
	buf b;
	int sync = -1;
	buf_init(&b, 1024);
	say(d, "OK", "files", "skipped: the database is a PostgreSQL server's, "
	    "not a file");
	d->st = store_open_inspect(d->db, &f, &b);
	if (d->st == NULL && f.backend[0] == '\0') {
		say(d, "FAIL", "database", "%s: %s", url, buf_cstr(&b));
		fix("check the URL, the server and pg_hba.conf (psql '%s')", url);
	} else if (d->st == NULL) {
		say(d, "FAIL", "database", "%s: %s", url, buf_cstr(&b));
		fix("create the site: kiji init --db '%s' (as %s)", url, d->user);
	} else {
		say(d, "OK", "database", "%s: %s", url, f.server);
		if (f.schema < f.latest) {
			say(d, "WARN", "schema", "version %lld of %lld: an older "
			    "kiji's", (long long)f.schema, (long long)f.latest);
			fix("the next kiji serve (or any kiji command but doctor) "
			    "migrates it");
		} else {
			say(d, "OK", "schema", "version %lld (this kiji's)",
			    (long long)f.schema);
		}
		buf_reset(&b);
		if (store_durability(d->st, &b, &sync) != STORE_OK) {
			say(d, "WARN", "durability", "cannot read "
			    "synchronous_commit");
		} else if (sync < 2) {
			say(d, "FAIL", "durability", "%s: a commit could be lost "
			    "when the server crashes", buf_cstr(&b));
			fix("ALTER SYSTEM SET synchronous_commit = on (kiji sets "
			    "it on its own sessions; something overrides it)");
		} else {
			say(d, "OK", "durability", "%s", buf_cstr(&b));
		}
	}
	say(d, "OK", "integrity", "skipped: SQLite's quick_check; the server "
	    "keeps its own (data checksums, amcheck)");
	buf_free(&b);
}

/* Owner and mode of one of the database's files. */
static void
check_file(struct doc *d, const char *path, bool must_exist)
{
	struct stat sb;
	char tmp[32];
	if (stat(path, &sb) != 0) {
		if (must_exist || errno != ENOENT) {
			say(d, "FAIL", "files", "%s: %s", path, strerror(errno));
			fix("check the path given to --db");
		}
		return;
	}
	if (!S_ISREG(sb.st_mode)) {
		say(d, "FAIL", "files", "%s is not a regular file", path);
		return;
	}
	unsigned mode = sb.st_mode & 07777;
	bool bad = false;
	if (sb.st_uid != d->uid) {
		say(d, "FAIL", "files", "%s is owned by %s; kiji runs as %s",
		    path, doc_owner(sb.st_uid, tmp, sizeof(tmp)), d->user);
		fix("chown %s %s", d->user, path);
		bad = true;
	}
	if ((mode & 0600) != 0600) {
		say(d, "FAIL", "files", "%s mode %04o: its owner cannot read "
		    "and write it", path, mode);
		fix("chmod u+rw %s", path);
		bad = true;
	}
	if (mode & 0007) {
		say(d, "FAIL", "files", "%s mode %04o: every user of this "
		    "machine can reach it (it holds the site secret, password "
		    "hashes and commenters' addresses)", path, mode);
		fix("chmod 0600 %s", path);
		bad = true;
	} else if (mode & 0020) {
		say(d, "WARN", "files", "%s mode %04o: group-writable", path,
		    mode);
		fix("chmod 0600 %s (0640 lets a backup group read it)", path);
		bad = true;
	}
	if (!bad)
		say(d, "OK", "files", "%s: %s, %04o", path,
		    doc_owner(sb.st_uid, tmp, sizeof(tmp)), mode);
}

static void
check_files(struct doc *d)
{
	char p[PATH_MAX], dir[PATH_MAX];
	check_file(d, d->db, true);
	snprintf(p, sizeof(p), "%s-wal", d->db);
	check_file(d, p, false);
	snprintf(p, sizeof(p), "%s-shm", d->db);
	check_file(d, p, false);

	struct stat sb;
	struct statvfs vfs;
	doc_dir(d->db, dir, sizeof(dir));
	if (stat(dir, &sb) != 0) {
		say(d, "FAIL", "files", "%s: %s", dir, strerror(errno));
		return;
	}
	if (statvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) {
		say(d, "FAIL", "files", "%s is on a read-only file system: "
		    "no comment can be saved", dir);
		fix("remount it read-write, or move the database");
	} else if (!doc_access(d, &sb, 3)) {
		say(d, "FAIL", "files", "directory %s: %s cannot create files "
		    "in it (SQLite's -wal and -shm, spooled uploads)", dir,
		    d->user);
		fix("chown %s %s && chmod u+rwx %s", d->user, dir, dir);
	} else {
		say(d, "OK", "files", "directory %s writable by %s", dir,
		    d->user);
	}
}

/* LimitNOFILE= of an installed unit, or 0. */
static rlim_t
doc_unit_nofile(const char **which)
{
	for (size_t i = 0; i < sizeof(doc_units) / sizeof(doc_units[0]); i++) {
		FILE *f = fopen(doc_units[i], "re");
		char line[512];
		rlim_t v = 0;
		if (f == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL) {
			unsigned long long n;
			char *end;
			if (strncmp(line, "LimitNOFILE=", 12) != 0)
				continue;
			errno = 0;
			n = strtoull(line + 12, &end, 10);
			if (errno == 0 && end != line + 12)
				v = (rlim_t)n; /* "soft:hard" keeps the soft */
			if (strncmp(line + 12, "infinity", 8) == 0)
				v = RLIM_INFINITY;
		}
		fclose(f);
		*which = doc_units[i];
		return v;
	}
	return 0;
}

static void
check_nofile(struct doc *d)
{
	buf v;
	buf_init(&v, 64);
	doc_setting(d, CONF_HTTP_MAX_CONNS, &v);
	long long conns = strtoll(buf_cstr(&v), NULL, 10);
	buf_free(&v);
	if (conns <= 0)
		conns = 10000;
	unsigned long long need = (unsigned long long)conns + DOC_CONN_SPARE;
	const char *unit = NULL;
	rlim_t have = doc_unit_nofile(&unit);
	struct rlimit rl;
	if (unit == NULL || have == 0) {
		unit = NULL;
		have = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_max : 0;
	}
	const char *where = unit ? unit : "this shell's hard limit";
	if (have != RLIM_INFINITY && (unsigned long long)have < need) {
		say(d, "WARN", "open files", "%llu (%s); http.max_connections "
		    "%lld needs %llu: the connection budget is cut to fit",
		    (unsigned long long)have, where, conns, need);
		if (unit)
			fix("LimitNOFILE=%llu in a drop-in: systemctl edit kiji",
			    need);
		else
			fix("ulimit -n %llu before kiji serve (or LimitNOFILE= in "
			    "its unit), or lower http.max_connections", need);
	} else if (have == RLIM_INFINITY) {
		say(d, "OK", "open files", "unlimited (%s) for "
		    "http.max_connections %lld", where, conns);
	} else {
		say(d, "OK", "open files", "%llu (%s) for http.max_connections "
		    "%lld", (unsigned long long)have, where, conns);
	}
}

static void
check_timezone(struct doc *d)
{
	struct stat sb;
	buf tz;
	if (stat("/usr/share/zoneinfo", &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		say(d, "FAIL", "time zone", "no /usr/share/zoneinfo: dates are "
		    "shown in UTC");
		fix("apt install tzdata");
		return;
	}
	buf_init(&tz, 256);
	doc_setting(d, CONF_TIMEZONE, &tz);
	if (text_tz_set(buf_cstr(&tz))) {
		say(d, "OK", "time zone", "site.timezone %s loads",
		    buf_cstr(&tz));
	} else {
		say(d, "FAIL", "time zone", "site.timezone \"%s\" does not load "
		    "from /usr/share/zoneinfo", buf_cstr(&tz));
		fix("kiji config --db %s set site.timezone Asia/Tokyo (an IANA "
		    "name), or apt install tzdata", db_shown(d->db));
	}
	buf_free(&tz);
}

/* Whether the file at path proxies to kiji's address. */
static bool
doc_proxies_to(const char *path, const char *hostport)
{
	FILE *f = fopen(path, "re");
	char line[1024];
	const char *port = strrchr(hostport, ':');
	char alt[2][64];
	size_t read = 0;
	bool hit = false;
	if (f == NULL || port == NULL) {
		if (f)
			fclose(f);
		return false;
	}
	/* the same loopback address under its other names */
	snprintf(alt[0], sizeof(alt[0]), "localhost%s", port);
	snprintf(alt[1], sizeof(alt[1]), "[::1]%s", port);
	while (!hit && read < DOC_FILE_MAX && fgets(line, sizeof(line), f)) {
		read += strlen(line);
		const char *s = line + strspn(line, " \t");
		if (*s == '#')
			continue;
		hit = strstr(s, hostport) != NULL ||
		    (strncmp(hostport, "127.0.0.1:", 10) == 0 &&
		    (strstr(s, alt[0]) != NULL || strstr(s, alt[1]) != NULL));
	}
	fclose(f);
	return hit;
}

static void
check_proxy(struct doc *d)
{
	buf tp;
	char found[PATH_MAX + 64] = "";
	buf_init(&tp, 2048);
	doc_setting(d, CONF_TRUSTED_PROXIES, &tp);
	bool trusted = strspn(buf_cstr(&tp), " \t,") < tp.len;

	if (d->proxy_conf != NULL && doc_proxies_to(d->proxy_conf, d->listen))
		snprintf(found, sizeof(found), "%s proxies to %s", d->proxy_conf,
		    d->listen);
	for (size_t i = 0; !found[0] &&
	    i < sizeof(doc_proxy_globs) / sizeof(doc_proxy_globs[0]); i++) {
		glob_t g;
		if (glob(doc_proxy_globs[i], 0, NULL, &g) != 0)
			continue;
		for (size_t j = 0; j < g.gl_pathc && !found[0]; j++)
			if (doc_proxies_to(g.gl_pathv[j], d->listen))
				snprintf(found, sizeof(found), "%s proxies to %s",
				    g.gl_pathv[j], d->listen);
		globfree(&g);
	}
	int64_t n = 0, lo = 0;
	enum store_err e = d->st != NULL ?
	    store_recent_ips(d->st, DOC_RECENT, &n, &lo) : d->ro != NULL ?
	    store_ro_recent_ips(d->ro, DOC_RECENT, &n, &lo) : STORE_ERROR;
	if (!found[0] && e == STORE_OK && n >= DOC_RECENT_MIN && lo == n)
		snprintf(found, sizeof(found), "the last %lld comments all came "
		    "from this machine", (long long)n);

	if (found[0] && !trusted) {
		say(d, "FAIL", "proxy", "%s, but http.trusted_proxies is empty: "
		    "every reader has the proxy's address (one rate limit for "
		    "all, cookies never Secure)", found);
		fix("kiji config --db %s set http.trusted_proxies 127.0.0.1 "
		    "(the proxy's address as kiji sees it)", db_shown(d->db));
	} else if (found[0]) {
		say(d, "OK", "proxy", "%s; http.trusted_proxies %s", found,
		    buf_cstr(&tp));
	} else {
		say(d, "OK", "proxy", "no proxy in front found; "
		    "http.trusted_proxies %s", trusted ? buf_cstr(&tp) :
		    "empty (kiji's peers are the readers)");
	}
	buf_free(&tp);
}

/* Whether s is "scheme://host[:port][/path]" with a sane host and port
 * and nothing else (no user, query or fragment, no trailing '/'); the
 * host in *host, *hlen bytes. When not, the reason in *why. */
static bool
doc_url_ok(const char *s, const char **why, const char **host, size_t *hlen)
{
	const char *p;
	if (strncmp(s, "https://", 8) == 0)
		p = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		p = s + 7;
	else
		return *why = "not http:// or https://", false;
	for (const char *q = s; *q; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
			return *why = "spaces or non-ASCII characters", false;
	size_t n = strcspn(p, "/");
	if (strpbrk(p, "?#") != NULL)
		return *why = "a query or fragment", false;
	if (memchr(p, '@', n) != NULL)
		return *why = "a user name in the URL", false;
	const char *colon = NULL;
	if (p[0] == '[') {
		const char *rb = memchr(p, ']', n);
		if (rb == NULL)
			return *why = "an unclosed IPv6 address", false;
		if (rb + 1 < p + n && rb[1] != ':')
			return *why = "text after the IPv6 address", false;
		if (rb + 1 < p + n)
			colon = rb + 1;
		*host = p;
		*hlen = (size_t)(rb + 1 - p);
	} else {
		colon = memchr(p, ':', n);
		*host = p;
		*hlen = colon ? (size_t)(colon - p) : n;
		for (size_t i = 0; i < *hlen; i++)
			if (!(p[i] == '.' || p[i] == '-' ||
			    (p[i] >= '0' && p[i] <= '9') ||
			    (p[i] >= 'a' && p[i] <= 'z') ||
			    (p[i] >= 'A' && p[i] <= 'Z')))
				return *why = "a host name with characters DNS "
				    "does not allow", false;
	}
	if (*hlen == 0)
		return *why = "no host", false;
	if (colon != NULL && colon < p + n) {
		const char *q = colon + 1, *end = p + n;
		long port = 0;
		if (q == end)
			return *why = "an empty port", false;
		for (; q < end; q++) {
			if (*q < '0' || *q > '9' || (port = port * 10 + (*q - '0')) >
			    65535)
				return *why = "a port that is not 1-65535", false;
		}
		if (port == 0)
			return *why = "a port that is not 1-65535", false;
	}
	if (s[strlen(s) - 1] == '/')
		return *why = "a trailing /", false;
	return true;
}

static void
check_base_url(struct doc *d)
{
	buf u;
	const char *why = NULL, *host = NULL;
	size_t hlen = 0;
	buf_init(&u, 1024);
	doc_setting(d, CONF_BASE_URL, &u);
	const char *s = buf_cstr(&u);
	if (!doc_url_ok(s, &why, &host, &hlen)) {
		say(d, "FAIL", "base_url", "site.base_url \"%s\": %s", s, why);
		fix("kiji config --db %s set site.base_url https://example.com",
		    db_shown(d->db));
	} else if ((hlen == 9 && strncmp(host, "127.0.0.1", 9) == 0) ||
	    (hlen == 9 && strncmp(host, "localhost", 9) == 0) ||
	    (hlen == 5 && strncmp(host, "[::1]", 5) == 0)) {
		say(d, "WARN", "base_url", "site.base_url %s is this machine: "
		    "feeds, canonical links and mail point there", s);
		fix("kiji config --db %s set site.base_url https://YOUR.SITE",
		    db_shown(d->db));
	} else if (strncmp(s, "http://", 7) == 0) {
		say(d, "WARN", "base_url", "site.base_url %s is plain http: "
		    "editors' logins travel in clear", s);
		fix("put TLS in front (contrib/nginx.conf) and set "
		    "site.base_url https://%.*s", (int)hlen, host);
	} else {
		say(d, "OK", "base_url", "site.base_url %s", s);
	}
	buf_free(&u);
}

static void
check_disk(struct doc *d)
{
	char dir[PATH_MAX], p[PATH_MAX];
	struct statvfs v;
	struct stat sb;
	uint64_t used = 0;
	if (d->server) {
		say(d, "OK", "disk", "skipped: the database is the server's "
		    "(watch its disk there)");
		return;
	}
	doc_dir(d->db, dir, sizeof(dir));
	if (statvfs(dir, &v) != 0) {
		say(d, "WARN", "disk", "%s: %s", dir, strerror(errno));
		return;
	}
	if (stat(d->db, &sb) == 0)
		used += (uint64_t)sb.st_size;
	snprintf(p, sizeof(p), "%s-wal", d->db);
	if (stat(p, &sb) == 0)
		used += (uint64_t)sb.st_size;
	uint64_t avail = (uint64_t)v.f_bavail * v.f_frsize;
	uint64_t total = (uint64_t)v.f_blocks * v.f_frsize;
	double mib = (double)avail / (1 << 20);
	if (avail < DOC_DISK_MIN) {
		say(d, "FAIL", "disk", "%.0f MiB free on %s: writes fail soon",
		    mib, dir);
		fix("free space there (old backups, logs)");
	} else if (avail < used) {
		say(d, "WARN", "disk", "%.0f MiB free on %s, less than the "
		    "database (%.0f MiB): no room for a backup beside it", mib,
		    dir, (double)used / (1 << 20));
		fix("free space, or write backups to another disk");
	} else if (total > 0 && avail < total / 20) {
		say(d, "WARN", "disk", "%.0f MiB free on %s (under 5%%)", mib,
		    dir);
		fix("free space there");
	} else if (v.f_files > 0 && v.f_favail < 1000) {
		say(d, "WARN", "disk", "%llu inodes free on %s",
		    (unsigned long long)v.f_favail, dir);
		fix("delete small files there");
	} else {
		say(d, "OK", "disk", "%.0f MiB free on %s (database %.1f MiB)",
		    mib, dir, (double)used / (1 << 20));
	}
}

/* ---- the command ------------------------------------------------------ */

int
cmd_doctor(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"user", required_argument, NULL, 'u'},
		{"listen", required_argument, NULL, 'l'},
		{"proxy-config", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct doc d = {.listen = "127.0.0.1:8080"};
	const char *user = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': d.db = optarg; break;
		case 'u': user = optarg; break;
		case 'l': d.listen = optarg; break;
		case 'p': d.proxy_conf = optarg; break;
		case 'h': fputs(usage_doctor, stdout); return 0;
		default: die_getopt("doctor", c, argv);
		}
	}
	if (optind < argc)
		die_usage("doctor", "unexpected argument %s", argv[optind]);
	need_db("doctor", d.db);
	if (strchr(d.listen, ':') == NULL)
		die_usage("doctor", "--listen %s: want ADDR:PORT", d.listen);

	struct passwd *pw = getpwnam(user ? user : "kiji");
	if (pw == NULL && user != NULL)
		die_usage("doctor", "--user %s: no such user", user);
	if (pw == NULL)
		pw = getpwuid(geteuid());
	if (pw == NULL) {
		fprintf(stderr, "kiji doctor: who am I? (uid %u)\n",
		    (unsigned)geteuid());
		return EXIT_USAGE;
	}
	d.uid = pw->pw_uid;
	d.gid = pw->pw_gid;
	d.user = xstrdup(pw->pw_name);

	struct stat sb;
	d.server = store_file(d.db) == NULL;
	if (d.server) {
		check_server(&d);
	} else if (stat(d.db, &sb) != 0) {
		say(&d, "FAIL", "database", "%s: %s", d.db, strerror(errno));
		fix("create the site: kiji init --db %s (as %s)", d.db, d.user);
	} else {
		check_files(&d);
		check_integrity(&d);
		check_durability(&d);
	}
	check_nofile(&d);
	check_timezone(&d);
	check_proxy(&d);
	check_base_url(&d);
	check_disk(&d);
	printf("%d failed, %d warnings\n", d.fails, d.warns);
	store_ro_close(d.ro);
	store_close(d.st);
	free((char *)d.user);
	return d.fails ? 1 : 0;
}
