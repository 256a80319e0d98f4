/*
 * Privacy: commenters' IP addresses serve rate limits, bans and the daily
 * poster ID for a while; after privacy.ip_days they are erased, as privacy
 * law expects of data kept for a purpose. A job a day does it, chained:
 * each run adds the next day's (keyed by day, so restarts and several
 * servers on one database add it once).
 */
#include "site_int.h"

#include <inttypes.h>
#include <stdio.h>

#define PRIVACY_DAY 86400

/* Adds the job of the UTC day containing t, due at t. */
static enum store_err
privacy_add(store *st, int64_t t)
{
	char key[48];
	snprintf(key, sizeof key, "privacy:%" PRId64, t / PRIVACY_DAY);
	return store_job_add_key(st, "privacy", "{}", t, key, NULL);
}

enum store_err
site_privacy_schedule(store *st, int64_t now)
{
	return privacy_add(st, now);
}

enum jobs_outcome
site_job_privacy(store *st, const char *payload, int64_t now, buf *err)
{
	struct site_conf *c = conf_load(st);
	long days = c->num[CONF_PRIVACY_IP_DAYS];
	enum store_err e = STORE_OK;
	int64_t n = 0;
	conf_free(c);
	if (days > 0)
		e = store_comments_forget_ips(st, now - (int64_t)days * PRIVACY_DAY,
		    &n);
	if (e == STORE_OK && n > 0)
		obs_info("privacy: erased the IP addresses of %"
		    PRId64 " comments older than %ld days", n, days);
	/* the mail log (mail.c): its per-IP hashes serve one day's limit,
	 * its dedup keys outlive any retry of a mail job by far */
	if (e == STORE_OK)
		e = store_mail_prune(st, now - 30 * PRIVACY_DAY,
		    now - 2 * PRIVACY_DAY);
	if (e == STORE_OK) /* tomorrow's, just after midnight UTC */
		e = privacy_add(st, (now / PRIVACY_DAY + 1) * PRIVACY_DAY);
	if (e != STORE_OK) {
		buf_printf(err, "privacy: %s", store_strerror(e));
		return JOBS_RETRY;
	}
	return JOBS_OK;
}
