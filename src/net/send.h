/*
 * Sending pings (send.c): the two background job kinds that tell other
 * sites an article links to them. "pings" lists the links of a live
 * article and queues one "ping" per new target; "ping" discovers the
 * target's endpoint and notifies it, trying Webmention, then Pingback,
 * then TrackBack. Each attempt is recorded in the target's pings row (the
 * admin's /admin/pings and `kiji pings list` show them); network trouble
 * and 5xx answers are retried by the runner's backoff, refusals are final.
 *
 * content/ queues "pings" ({"article":ID}, key "pings:ID:<hash of the
 * body>") when an article goes live or changes its body while live;
 * `kiji serve` registers both kinds with the runner (src/main.c).
 */
#ifndef KIJI_NET_SEND_H
#define KIJI_NET_SEND_H

#include <stdint.h>

#include "../jobs/jobs.h"
#include "../store/store.h"
#include "../text/text.h"

#define NET_SEND_LINKS_MAX 50  /* targets notified per article */
#define NET_SEND_TRIES_MAX 8   /* attempts at one target before it is
                                * marked failed (the runner's default
                                * max_attempts) */

/* "pings", payload {"article":ID}: a pending pings row and a "ping" job
 * (key "ping:ID:<hash of the target>") for each of the article's links
 * that is not notified yet. Idempotent. */
enum jobs_outcome net_send_pings(store *st, const char *payload, int64_t now,
    buf *err);

/* "ping", payload {"article":ID,"target":URL}: discovery and one
 * notification; does nothing when the row is no longer pending. */
enum jobs_outcome net_send_ping(store *st, const char *payload, int64_t now,
    buf *err);

#endif
