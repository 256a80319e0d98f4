/*
 * Private to the PostgreSQL driver's files (pg.c, pg_listen.c): the
 * connection they both open and the store's change listener.
 */
#ifndef KIJI_STORE_PG_INT_H
#define KIJI_STORE_PG_INT_H

#include <libpq-fe.h>

#include "store_int.h"

/* A new connection to url with kiji's defaults (connect_timeout 5, TCP
 * keepalives, application_name kiji, all overridable by the URL) and
 * client_encoding UTF8; NULL only when out of memory. The caller checks
 * PQstatus and PQfinishes it. */
PGconn *db_pg_connect(const char *url);

/* What changed since (db_driver.data_version): a counter the store's
 * listener thread bumps on each NOTIFY kiji_change and on each
 * (re)connection; the thread starts on the first call. */
int64_t db_pg_listen_version(store *s);

/* Stops and joins the store's listener, if it started (store_close). */
void db_pg_listen_stop(store *s);

#endif
