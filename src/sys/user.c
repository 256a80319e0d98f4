/*
 * kiji serve --user NAME: started as root (to bind a port below 1024),
 * the server gives root up for good before it opens the database or reads
 * anything from outside.
 */
#include "sys.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define SYS_PW_BUF 16384 /* getpwnam_r's scratch; ample for one entry */

/* See sys.h. */
enum sys_err
sys_user_find(const char *name, struct sys_user *u, buf *err)
{
	struct passwd pw, *res = NULL;
	char tmp[SYS_PW_BUF];

	if (geteuid() != 0) {
		buf_printf(err, "--user needs kiji serve to be started as root "
		    "(it is running as uid %u); start it as %s directly "
		    "instead, without --user", (unsigned)geteuid(), name);
		return SYS_USAGE;
	}
	int e = getpwnam_r(name, &pw, tmp, sizeof tmp, &res);
	if (e != 0 || res == NULL) {
		buf_printf(err, "--user %s: %s", name,
		    e != 0 ? strerror(e) : "no such user");
		return SYS_USAGE;
	}
	if (pw.pw_uid == 0) {
		buf_printf(err, "--user %s is root: name an unprivileged user "
		    "for the server to run as", name);
		return SYS_USAGE;
	}
	if (strlen(pw.pw_name) >= sizeof u->name) {
		buf_printf(err, "--user: the name is too long");
		return SYS_USAGE;
	}
	snprintf(u->name, sizeof u->name, "%s", pw.pw_name);
	u->uid = pw.pw_uid;
	u->gid = pw.pw_gid;
	return SYS_OK;
}

/* Whether root's powers are gone: every id is the user's, no supplementary
 * group is root's, and neither uid 0 nor gid 0 can be taken back. */
static bool
user_dropped(const struct sys_user *u)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	gid_t groups[NGROUPS_MAX];
	int n;

	if (getresuid(&r, &e, &s) != 0 || r != u->uid || e != u->uid ||
	    s != u->uid)
		return false;
	if (getresgid(&gr, &ge, &gs) != 0 || gr != u->gid || ge != u->gid ||
	    gs != u->gid)
		return false;
	if ((n = getgroups(NGROUPS_MAX, groups)) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == 0 && u->gid != 0)
			return false;
	/* the calls must fail now; if one succeeded we are root again */
	return setuid(0) != 0 && seteuid(0) != 0 && setgid(0) != 0;
}

/* See sys.h. The order matters: groups and the gid can only be changed
 * while still root, so they go first and the uid last. */
enum sys_err
sys_user_become(const struct sys_user *u, buf *err)
{
	if (initgroups(u->name, u->gid) != 0) {
		buf_printf(err, "initgroups(%s): %s", u->name, strerror(errno));
		return SYS_ERROR;
	}
	if (setresgid(u->gid, u->gid, u->gid) != 0) {
		buf_printf(err, "setresgid(%u): %s", (unsigned)u->gid,
		    strerror(errno));
		return SYS_ERROR;
	}
	if (setresuid(u->uid, u->uid, u->uid) != 0) {
		buf_printf(err, "setresuid(%u): %s", (unsigned)u->uid,
		    strerror(errno));
		return SYS_ERROR;
	}
	if (!user_dropped(u)) {
		buf_printf(err, "running as %s, root's privileges are still "
		    "within reach; refusing to serve", u->name);
		return SYS_ERROR;
	}
#ifdef KIJI_TEST_HOOKS
	/* Changing uid made the process non-dumpable, which also keeps
	 * LeakSanitizer from attaching to its threads at exit; the test build
	 * turns it back on so leaks are still checked under --user. The
	 * release build stays non-dumpable: no core file and no ptrace by
	 * other processes of the same user. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	return SYS_OK;
}
