/*
 * kiji user: editor accounts (add, list, passwd, role, disable), with
 * a no-echo password prompt.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>

#include <sodium.h>

#include "../admin/admin.h"
#include "cli.h"

static const char usage_user[] =
    "usage: kiji user --db FILE add NAME --role ROLE [--display-name X]\n"
    "                 [--email E] [--password-stdin]\n"
    "       kiji user --db FILE list\n"
    "       kiji user --db FILE passwd NAME [--password-stdin]\n"
    "       kiji user --db FILE role NAME ROLE\n"
    "       kiji user --db FILE disable|enable NAME\n"
    "\n"
    "Manages the accounts of the admin area (/admin/). NAME is 1 to 40 of\n"
    "a-z 0-9 _ . - ; ROLE is admin (everything), editor (all articles,\n"
    "categories, comments) or author (own articles). A password has at\n"
    "least 10 characters; it is asked twice without echo on a terminal, or\n"
    "read as one line from standard input with --password-stdin. A new\n"
    "password or 'disable' logs the user out everywhere. 'list' prints\n"
    "name, role, display name, e-mail and state, tab-separated.\n"
    "\n"
    "  --db FILE           the site's database (required)\n"
    "  --role ROLE         admin | editor | author (add)\n"
    "  --display-name X    the name shown on articles (default: NAME)\n"
    "  --email E           e-mail address (optional)\n"
    "  --password-stdin    read the password from standard input\n"
    "  -h, --help          this help\n";

/* The terminal settings to put back if a signal ends a no-echo prompt. */
static struct termios user_tty_saved;
static volatile sig_atomic_t user_tty_dirty;

static void
user_tty_restore(int sig)
{
	if (user_tty_dirty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &user_tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Reads one line (without its newline) from stdin into out; false when
 * it is longer than ACCOUNT_PASSWORD_MAX bytes, holds a NUL, or there is
 * no line. On a terminal (prompt not NULL) echo is off before the prompt
 * shows, so nothing typed after it is echoed.
 */
static bool
user_read_line(char *out, size_t cap, const char *prompt)
{
	bool noecho = prompt != NULL;
	struct termios t;
	bool ok = false;
	if (noecho) {
		if (tcgetattr(STDIN_FILENO, &user_tty_saved) != 0)
			return false;
		t = user_tty_saved;
		t.c_lflag &= ~(tcflag_t)ECHO;
		t.c_lflag |= ECHONL;
		signal(SIGINT, user_tty_restore);
		signal(SIGTERM, user_tty_restore);
		signal(SIGTSTP, SIG_IGN);
		user_tty_dirty = 1;
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) != 0)
			goto out;
		fputs(prompt, stderr);
		fflush(stderr);
	}
	size_t n = 0;
	int c;
	while ((c = getchar()) != EOF && c != '\n') {
		if (c == '\0' || n + 1 >= cap) {
			/* drain the rest of the line; refuse the whole */
			while ((c = getchar()) != EOF && c != '\n')
				;
			n = cap;
			break;
		}
		out[n++] = (char)c;
	}
	if (n < cap && (c == '\n' || n > 0)) {
		if (n > 0 && out[n - 1] == '\r')
			n--;
		out[n] = '\0';
		ok = true;
	}
out:
	if (noecho) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &user_tty_saved);
		user_tty_dirty = 0;
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGTSTP, SIG_DFL);
	}
	return ok;
}

/* The new password for add/passwd: one line of stdin, or asked twice on
 * the terminal. Exits 2 when it cannot be had. */
static void
user_password(bool from_stdin, char *pw, size_t cap)
{
	if (from_stdin) {
		if (!user_read_line(pw, cap, NULL))
			die_usage("user", "no password line on standard input (at "
			    "most %d bytes)", ACCOUNT_PASSWORD_MAX);
		return;
	}
	if (!isatty(STDIN_FILENO))
		die_usage("user", "standard input is not a terminal: give "
		    "--password-stdin to read the password from it");
	char *again = xmalloc(cap);
	bool ok = user_read_line(pw, cap, "New password: ");
	if (ok)
		ok = user_read_line(again, cap, "Again: ");
	bool same = ok && strcmp(pw, again) == 0;
	sodium_memzero(again, cap);
	free(again);
	if (!ok)
		die_usage("user", "no password given");
	if (!same)
		die_usage("user", "the two passwords differ");
}

/* Account errors that mean "bad value" exit 2; the rest 1. */
static int
user_fail(const char *what, enum account_err e)
{
	fprintf(stderr, "kiji user: %s: %s\n", what, account_strerror(e));
	switch (e) {
	case ACCOUNT_BAD_NAME:
	case ACCOUNT_BAD_DISPLAY:
	case ACCOUNT_BAD_EMAIL:
	case ACCOUNT_BAD_ROLE:
	case ACCOUNT_BAD_PASSWORD:
		return EXIT_USAGE;
	default:
		return 1;
	}
}

int
cmd_user(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"role", required_argument, NULL, 'r'},
		{"display-name", required_argument, NULL, 'n'},
		{"email", required_argument, NULL, 'e'},
		{"password-stdin", no_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL, *role_s = NULL, *display = NULL, *email = NULL;
	bool pw_stdin = false;
	int c;
	opterr = 0;
	/* options may follow the verb and the name: kiji user add bob --role author */
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'r': role_s = optarg; break;
		case 'n': display = optarg; break;
		case 'e': email = optarg; break;
		case 'p': pw_stdin = true; break;
		case 'h': fputs(usage_user, stdout); return 0;
		default: die_getopt("user", c, argv);
		}
	}
	need_db("user", db);
	if (optind >= argc)
		die_usage("user", "say add, list, passwd, role, disable or enable");
	const char *verb = argv[optind];
	int nargs = argc - optind - 1;
	char **args = argv + optind + 1;
	enum store_role role = ROLE_AUTHOR;
	bool is_add = strcmp(verb, "add") == 0;
	bool is_passwd = strcmp(verb, "passwd") == 0;
	bool is_role = strcmp(verb, "role") == 0;
	if (strcmp(verb, "list") == 0) {
		if (nargs != 0)
			die_usage("user", "list takes no arguments");
	} else if (is_add || is_passwd || strcmp(verb, "disable") == 0 ||
	    strcmp(verb, "enable") == 0 || is_role) {
		if (nargs != (is_role ? 2 : 1))
			die_usage("user", "%s takes %s", verb,
			    is_role ? "NAME ROLE" : "NAME");
		if (!account_name_valid(args[0]))
			die_usage("user", "bad name '%s': %s", args[0],
			    account_strerror(ACCOUNT_BAD_NAME));
	} else {
		die_usage("user", "unknown subcommand %s", verb);
	}
	if (is_role)
		role_s = args[1];
	if ((is_add || is_role) && role_s == NULL)
		die_usage("user", "--role admin|editor|author is required");
	if (role_s != NULL && (!(is_add || is_role) ||
	    !account_role_parse(role_s, &role)))
		die_usage("user", is_add || is_role
		    ? "the role must be admin, editor or author, not '%s'"
		    : "--role '%s' only goes with add", role_s);
	if ((display != NULL || email != NULL) && !is_add)
		die_usage("user", "--display-name and --email go with add");
	if (email != NULL && !account_email_valid(email))
		die_usage("user", "--email '%s' is not an e-mail address", email);
	if (pw_stdin && !is_add && !is_passwd)
		die_usage("user", "--password-stdin goes with add and passwd");

	/* the password is read (and checked) before the database is touched */
	char *pw = NULL;
	size_t pwcap = ACCOUNT_PASSWORD_MAX + 2;
	if (is_add || is_passwd) {
		pw = xmalloc(pwcap);
		user_password(pw_stdin, pw, pwcap);
	}
	store *st = open_store(db);
	if (st == NULL) {
		free(pw);
		return 1;
	}
	int rc = 0;
	arena *a = arena_new(0);
	struct store_user u;
	enum account_err e = ACCOUNT_OK;
	if (verb[0] == 'l') {
		struct store_user *us;
		size_t n;
		if (store_user_list(st, a, &us, &n) != STORE_OK) {
			fprintf(stderr, "kiji user: cannot read the users\n");
			rc = 1;
		}
		for (size_t i = 0; rc == 0 && i < n; i++)
			printf("%s\t%s\t%s\t%s\t%s\n", us[i].name,
			    account_role_name(us[i].role), us[i].display_name,
			    *us[i].email ? us[i].email : "-",
			    us[i].disabled ? "disabled" : "active");
	} else if (is_add) {
		struct account_new in = {.name = args[0], .display_name = display,
		    .role = role, .email = email, .password = pw};
		e = account_add(st, &in, NULL);
		if (e != ACCOUNT_OK)
			rc = user_fail(args[0], e);
		else
			fprintf(stderr, "kiji user: added %s (%s)\n", args[0],
			    account_role_name(role));
	} else {
		enum store_err se = store_user_by_name(st, args[0], a, &u);
		if (se != STORE_OK) {
			rc = user_fail(args[0], se == STORE_NOTFOUND
			    ? ACCOUNT_NOTFOUND : ACCOUNT_STORE);
		} else {
			e = is_passwd ? account_set_password(st, u.id, pw)
			    : is_role ? account_set_role(st, u.id, role)
			    : account_set_disabled(st, u.id, verb[0] == 'd');
			if (e != ACCOUNT_OK)
				rc = user_fail(args[0], e);
			else if (is_passwd)
				fprintf(stderr, "kiji user: new password for %s; "
				    "its sessions have ended\n", args[0]);
		}
	}
	if (pw != NULL) {
		sodium_memzero(pw, pwcap);
		free(pw);
	}
	arena_free(a);
	store_close(st);
	return rc;
}
