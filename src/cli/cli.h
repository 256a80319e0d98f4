/*
 * The kiji command line (src/main.c dispatches; one file here per group of
 * commands). Every command takes argv from its own name on and returns
 * the process's exit status: 0, 1 for a failure, EXIT_USAGE (2) for a bad
 * flag or value, said in one line on stderr.
 */
#ifndef KIJI_CLI_H
#define KIJI_CLI_H

#include <stdbool.h>

#include "../store/store.h"

#define KIJI_VERSION "0.1.0"

enum { EXIT_USAGE = 2 };

/* The command being run (argv[1]), for messages from shared helpers. */
extern const char *cli_cmd;

/* One-line usage error on stderr, then exit 2. */
_Noreturn void die_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The getopt_long answers no case takes: ':' (a flag without its value)
 * and an unknown flag, as a usage error. Needs opterr = 0 and an
 * optstring starting with ':'. */
_Noreturn void die_getopt(const char *cmd, int c, char **argv);
/* The usage error for a command run without --db. */
void need_db(const char *cmd, const char *db);
/* --db's value for a message: a PostgreSQL URL's password blanked
 * (store_url_safe). Valid until the second call after this one on the
 * same thread. */
const char *db_shown(const char *db);
/* The index of arg in names[0..n), or a usage error listing them. */
int parse_choice(const char *cmd, const char *flag,
    const char *const *names, int n, const char *arg);
/* Parses a whole decimal number in [min, max]. */
bool parse_num(const char *s, long long min, long long max, long long *out);
/* Opens FILE, creating it when missing (init and demo only), migrated;
 * NULL after saying why. */
store *open_store_new(const char *path);
/* Exit 2 when FILE does not exist, or the PostgreSQL database holds no
 * kiji site (exit 1 when it cannot be reached): a typo in --db must not
 * quietly create an empty site. */
void require_site(const char *path);
/* require_site, then open_store_new. */
store *open_store(const char *path);

int cmd_init(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_comments(int argc, char **argv);
int cmd_pings(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_post(int argc, char **argv);
int cmd_import_wxr(int argc, char **argv);
int cmd_export_wxr(int argc, char **argv);
int cmd_backup_restore(int argc, char **argv, bool restore);
/* kiji migrate --from A --to B: a site into another database (migrate.c). */
int cmd_migrate(int argc, char **argv);
/* kiji render --db FILE --out DIR: the static export (render.c). */
int cmd_render(int argc, char **argv);
/* kiji doctor --db FILE: checks an installation (doctor.c). */
int cmd_doctor(int argc, char **argv);

#endif
