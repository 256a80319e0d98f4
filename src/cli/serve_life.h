/*
 * kiji serve's life around the server (serve_life.c): where its listening
 * socket comes from (systemd's, or bound here, maybe beside a kiji that
 * is stopping), telling systemd it is ready and alive, and the graceful
 * stop that lets requests in flight finish.
 */
#ifndef KIJI_CLI_SERVE_LIFE_H
#define KIJI_CLI_SERVE_LIFE_H

#include <stdbool.h>
#include <stddef.h>

#include "../http/http.h"
#include "../sys/sys.h"

#define SERVE_DRAIN_DEFAULT 10 /* s: --drain-timeout */
#define SERVE_LISTEN_NAME 80   /* "[v6]:port" and its NUL */

/*
 * The listening socket, while still root and before the sandbox: the one
 * systemd passed (socket activation; --listen is then only a default
 * that is not used), else listen bound here with SO_REUSEPORT, refused
 * when something listens there already unless takeover (a new kiji
 * taking over from one that is about to drain). Connects an abstract
 * $NOTIFY_SOCKET too. 0 with the descriptor in *lfd and the address
 * served in name, or the exit status after saying why.
 */
int serve_listen(const char *listen, bool takeover, int *lfd, char *name,
    size_t namesz, buf *err);
/* Serving: READY=1 to systemd and its watchdog started (NULL when it
 * asked for none). */
sys_watchdog *serve_ready(http_server *srv, const char *db, const char *name);
/* The graceful stop after sig: STOPPING=1, then http_drain for at most
 * drain_s seconds, saying on stderr how it went. */
void serve_drain(http_server *srv, int sig, unsigned drain_s);

#endif
