/*
 * kiji command line: dispatch to the commands in src/cli/ (one file per
 * group). Each command parses its own flags (getopt_long); a bad flag or
 * value is one line on stderr and exit 2.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "cli/cli.h"

static const char usage_main[] =
    "usage: kiji <command> [options]\n"
    "\n"
    "commands:\n"
    "  init      create an empty site\n"
    "  serve     serve a site over HTTP\n"
    "  demo      write a deterministic synthetic demo site\n"
    "  config    read and change settings (get, set, list)\n"
    "  comments  moderate comments (list, approve, spam, delete)\n"
    "  post      write articles from Markdown files (new, edit, get, list)\n"
    "  user      manage editor accounts (add, list, passwd, role, disable)\n"
    "  import-wxr  import a WordPress export (WXR) into a site\n"
    "  export-wxr  write the site as a WordPress export (WXR) to stdout\n"
    "  render    write the public site as static files (for a CDN)\n"
    "  pings     list the TrackBacks, Pingbacks and Webmentions sent\n"
    "  backup    copy a site while it is served\n"
    "  restore   replace a stopped site with a backup\n"
    "  migrate   copy a site into another database (SQLite, PostgreSQL)\n"
    "  doctor    check an installation and say what to fix\n"
    "\n"
    "Run 'kiji <command> --help' for a command's options. --db FILE may\n"
    "stand anywhere on the line; FILE is a SQLite file or a PostgreSQL URL\n"
    "(postgresql://USER@HOST/DBNAME; KIJI_MAIL_KEY_FILE names its mail key\n"
    "file). Every command but init and demo needs an existing site.\n"
    "kiji --version prints the version.\n";

/*
 * `--db FILE` may stand anywhere on the line, before the command name or
 * after it: every `--db FILE` and `--db=FILE` (up to a "--") moves to
 * just after the command name, where the command's getopt meets it first
 * (also those that stop at their first operand). Returns false when no
 * command name is left.
 */
static bool
cli_hoist_db(int argc, char **argv)
{
	char **rest = xcalloc((size_t)argc + 1, sizeof(*rest));
	char **dbs = xcalloc((size_t)argc + 1, sizeof(*dbs));
	int nr = 0, nd = 0;
	bool end = false;
	for (int i = 1; i < argc; i++) {
		end = end || strcmp(argv[i], "--") == 0;
		if (!end && strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
			dbs[nd++] = argv[i];
			dbs[nd++] = argv[++i];
		} else if (!end && strncmp(argv[i], "--db=", 5) == 0) {
			dbs[nd++] = argv[i];
		} else {
			rest[nr++] = argv[i];
		}
	}
	int k = 1;
	if (nr > 0)
		argv[k++] = rest[0];
	for (int i = 0; i < nd; i++)
		argv[k++] = dbs[i];
	for (int i = 1; i < nr; i++)
		argv[k++] = rest[i];
	free(rest);
	free(dbs);
	return nr > 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2 || !cli_hoist_db(argc, argv)) {
		fputs(usage_main, stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	cli_cmd = cmd;
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "help") == 0) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("kiji %s\n", KIJI_VERSION);
		return 0;
	}
	/* A write past RLIMIT_FSIZE must fail (EFBIG: the store answers
	 * STORE_FULL) rather than kill the process. */
	signal(SIGXFSZ, SIG_IGN);
	/* libcurl's global state, set up once before any thread starts */
	if (!net_init()) {
		fputs("kiji: libcurl initialisation failed\n", stderr);
		return 1;
	}
	atexit(net_cleanup);
	/* Subcommands see argv from their own name on. */
	if (strcmp(cmd, "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (strcmp(cmd, "post") == 0)
		return cmd_post(argc - 1, argv + 1);
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(cmd, "demo") == 0)
		return cmd_demo(argc - 1, argv + 1);
	if (strcmp(cmd, "config") == 0)
		return cmd_config(argc - 1, argv + 1);
	if (strcmp(cmd, "comments") == 0)
		return cmd_comments(argc - 1, argv + 1);
	if (strcmp(cmd, "import-wxr") == 0)
		return cmd_import_wxr(argc - 1, argv + 1);
	if (strcmp(cmd, "export-wxr") == 0)
		return cmd_export_wxr(argc - 1, argv + 1);
	if (strcmp(cmd, "render") == 0)
		return cmd_render(argc - 1, argv + 1);
	if (strcmp(cmd, "user") == 0)
		return cmd_user(argc - 1, argv + 1);
	if (strcmp(cmd, "pings") == 0)
		return cmd_pings(argc - 1, argv + 1);
	if (strcmp(cmd, "backup") == 0 || strcmp(cmd, "restore") == 0)
		return cmd_backup_restore(argc - 1, argv + 1, cmd[0] == 'r');
	if (strcmp(cmd, "migrate") == 0)
		return cmd_migrate(argc - 1, argv + 1);
	if (strcmp(cmd, "doctor") == 0)
		return cmd_doctor(argc - 1, argv + 1);
	fprintf(stderr, "kiji: unknown command %s (see 'kiji --help')\n", cmd);
	return EXIT_USAGE;
}
