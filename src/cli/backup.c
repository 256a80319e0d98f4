/*
 * kiji backup and kiji restore: consistent copies of a served site.
 */
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"

static const char usage_backup[] =
    "usage: kiji backup --db FILE [--force] [--without-addresses] OUT.db\n"
    "\n"
    "Copies the site in FILE to OUT.db (mode 0600) while it is being served:\n"
    "one consistent snapshot, images included (they live in the database);\n"
    "writers are not held up. The copy holds everything the database holds,\n"
    "commenters' e-mail and IP addresses too: keep it as safe as FILE.\n"
    "\n"
    "  --db FILE             the site's database (required)\n"
    "  --force               replace OUT.db if it exists\n"
    "  --without-addresses   blank commenters' e-mail and IP addresses in\n"
    "                        the copy and drop reply-mail subscribers (a\n"
    "                        restore then lacks them)\n"
    "  -h, --help            this help\n";

static const char usage_restore[] =
    "usage: kiji restore --db FILE BACKUP.db\n"
    "\n"
    "Replaces the site in FILE (created if missing) with BACKUP.db, made by\n"
    "'kiji backup'. BACKUP.db must pass SQLite's integrity check and come\n"
    "from this kiji or an older one (it is migrated). Refused while a kiji\n"
    "server (or another kiji command) has FILE open: stop it first.\n"
    "\n"
    "  --db FILE   the site's database (required)\n"
    "  -h, --help  this help\n";

/* kiji backup and kiji restore: the store does the work (store_backup,
 * store_restore); exit 1 with its reason on failure. */
int
cmd_backup_restore(int argc, char **argv, bool restore)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"force", no_argument, NULL, 'f'},
		{"without-addresses", no_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *cmd = restore ? "restore" : "backup", *db = NULL;
	struct store_backup_opts o = {0};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'f': o.force = true; break;
		case 'w': o.without_addresses = true; break;
		case 'h': fputs(restore ? usage_restore : usage_backup, stdout);
			return 0;
		default: die_getopt(cmd, c, argv);
		}
	}
	if (restore && (o.force || o.without_addresses))
		die_usage(cmd, "--force and --without-addresses are backup options");
	need_db(cmd, db);
	if (optind + 1 != argc)
		die_usage(cmd, "say one %s file", restore ? "BACKUP.db" : "OUT.db");
	const char *file = argv[optind];
	struct stat sb;
	if (!restore && stat(db, &sb) != 0) {
		fprintf(stderr, "kiji backup: %s: no such site\n", db);
		return EXIT_USAGE;
	}
	buf err;
	buf_init(&err, 4096);
	enum store_err e = restore ? store_restore(db, file, &err) :
	    store_backup(db, file, &o, &err);
	if (e == STORE_OK && restore) {
		store *st = open_store(db); /* migrates an older backup */
		e = st != NULL ? STORE_OK : STORE_ERROR;
		store_close(st);
	}
	if (e != STORE_OK && err.len > 0)
		fprintf(stderr, "kiji %s: %s\n", cmd, buf_cstr(&err));
	else if (e == STORE_OK)
		fprintf(stderr, "kiji %s: %s %s\n", cmd, restore ?
		    "restored from" : "copied to", file);
	buf_free(&err);
	return e == STORE_OK ? 0 : e == STORE_CONFLICT ? EXIT_USAGE : 1;
}
