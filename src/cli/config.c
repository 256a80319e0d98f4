/*
 * kiji config: read and change the site's settings.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../site/site.h"
#include "cli.h"

static const char usage_config[] =
    "usage: kiji config --db FILE list\n"
    "       kiji config --db FILE get KEY\n"
    "       kiji config --db FILE set KEY VALUE\n"
    "\n"
    "Reads and changes the site's settings. A running server picks changes\n"
    "up without a restart. 'list' shows every key with its value and default.\n"
    "\n"
    "  --db FILE   the site's database (required)\n"
    "  -h, --help  this help\n";

/* A value as list and get show it: a secret one (a password) only says
 * whether it is set. */
static const char *
config_shown(const struct site_conf *c, enum conf_key k)
{
	if (!conf_secret(k))
		return c->str[k];
	return c->str[k][0] ? "(set, hidden)" : "";
}

/* Prints one setting line for 'config list'. */
static void
config_print(const struct site_conf *c, enum conf_key k)
{
	const struct conf_def *d = &conf_defs[k];
	printf("%-24s %s", d->key, config_shown(c, k));
	if (strcmp(c->str[k], d->def) != 0 && !conf_secret(k))
		printf("   (default: %s)", d->def);
	printf("\n    %s\n", d->help);
}

int
cmd_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'h': fputs(usage_config, stdout); return 0;
		default: die_getopt("config", c, argv);
		}
	}
	need_db("config", db);
	if (optind >= argc)
		die_usage("config", "say list, get KEY or set KEY VALUE");
	const char *verb = argv[optind];
	int nargs = argc - optind - 1;
	char **args = argv + optind + 1;
	enum conf_key k = CONF__MAX;
	if (strcmp(verb, "list") == 0) {
		if (nargs != 0)
			die_usage("config", "list takes no arguments");
	} else if (strcmp(verb, "get") == 0 || strcmp(verb, "set") == 0) {
		if (nargs != (verb[0] == 'g' ? 1 : 2))
			die_usage("config", "%s takes %s", verb,
			    verb[0] == 'g' ? "KEY" : "KEY VALUE");
		k = conf_find(args[0]);
		if (k == CONF__MAX)
			die_usage("config", "unknown key %s (kiji config list shows them)",
			    args[0]);
	} else {
		die_usage("config", "unknown subcommand %s", verb);
	}
	store *st = open_store(db);
	if (st == NULL)
		return 1;
	int rc = 0;
	struct site_conf *conf = conf_load(st);
	if (verb[0] == 'l') {
		for (int i = 0; i < CONF__MAX; i++)
			config_print(conf, (enum conf_key)i);
	} else if (verb[0] == 'g') {
		printf("%s\n", config_shown(conf, k));
	} else {
		buf why;
		buf_init(&why, 512);
		if (!conf_valid(k, args[1], &why)) {
			fprintf(stderr, "kiji config: %s: %s\n", args[0], buf_cstr(&why));
			rc = EXIT_USAGE;
		} else if (store_setting_set(st, args[0], args[1]) != STORE_OK) {
			fprintf(stderr, "kiji config: could not save %s\n", args[0]);
			rc = 1;
		}
		buf_free(&why);
	}
	conf_free(conf);
	store_close(st);
	return rc;
}
