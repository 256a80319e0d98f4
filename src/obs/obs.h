/*
 * obs: what kiji tells its operator. The error log with levels (log.c),
 * the access log (access.c) and metrics in the Prometheus text exposition
 * format 0.0.4 (metrics.c). A bottom layer beside text/: every folder may
 * use it, and it uses nothing of kiji but text/.
 */
#ifndef KIJI_OBS_H
#define KIJI_OBS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../text/text.h"

/* ---- error log (log.c) ------------------------------------------------------ */

/* Severity of an error-log line, most severe first (log.level). */
enum obs_level {
	OBS_ERROR, /* something failed: a request, a write, a job */
	OBS_WARN,  /* degraded but serving: a fallback taken, data dropped */
	OBS_INFO,  /* start, stop, reloads */
	OBS_DEBUG, /* chatty detail for chasing a problem */
	OBS_LEVEL__MAX
};

/* The level named "error", "warn", "info" or "debug"; false otherwise. */
bool obs_level_parse(const char *name, enum obs_level *out);
/* Lines above this level are dropped (default OBS_INFO). Any thread. */
void obs_log_level_set(enum obs_level l);
bool obs_log_enabled(enum obs_level l);
/*
 * One line to standard error, written with one write(2) so threads never
 * interleave. Under systemd (JOURNAL_STREAM naming stderr) the line
 * starts with the syslog priority "<3>".."<7>" for journald; otherwise
 * "kiji: " and, but for info, the level. Control bytes in the message are
 * escaped (\xNN): an error quoting client input cannot forge a line.
 */
void obs_log(enum obs_level l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define obs_error(...) obs_log(OBS_ERROR, __VA_ARGS__)
#define obs_warn(...) obs_log(OBS_WARN, __VA_ARGS__)
#define obs_info(...) obs_log(OBS_INFO, __VA_ARGS__)
#define obs_debug(...) obs_log(OBS_DEBUG, __VA_ARGS__)
/* The line obs_log writes for msg (journal: the priority form). */
void obs_log_format(buf *out, enum obs_level l, bool journal, const char *msg);

/* ---- access log (access.c) -------------------------------------------------- */

enum obs_format {
	OBS_FMT_COMBINED, /* Apache/nginx "combined" */
	OBS_FMT_JSON,     /* one JSON object per line */
	OBS_FMT__MAX
};

/* One answered request, as the access log sees it. Strings may be NULL
 * (written "-"); none needs to be clean: every byte is escaped. */
struct obs_access_rec {
	int64_t time_us;     /* wall clock, microseconds since the epoch */
	const char *ip;      /* the client, as resolved through trusted proxies */
	const char *method;
	const char *path;    /* the path as sent (up to '?') */
	const char *query;   /* the query as sent, without '?'; "" for none */
	bool private_query;  /* an /admin path however spelled: the query is
	                      * left out */
	int minor;           /* HTTP/1.<minor>; < 0 when no request line */
	int status;
	uint64_t bytes;      /* body bytes of the answer */
	uint64_t dur_us;     /* from the head read to the answer queued */
	char cache;          /* 'h' page-cache hit, 'm' miss, 0 not cacheable */
	const char *referer;
	const char *ua;
};

struct obs_access_conf {
	bool on;
	enum obs_format format;
	unsigned sample;     /* one request in this many; 0 and 1: all */
	bool ip_mask;        /* keep an IPv4 /24, an IPv6 /48 */
};

/* Opens the access log: file (appended, created 0640) or standard output
 * when file is NULL or "". false with a reason in err. */
bool obs_access_open(const char *file, buf *err);
/* Opens the same path again (after logrotate moved it): the descriptor
 * number is kept (dup2), so writers never see it closed. true for
 * standard output. */
bool obs_access_reopen(buf *err);
/* Flushes this thread's lines and closes the file. */
void obs_access_close(void);
/* Format, sampling, masking: take effect with the next request. */
void obs_access_set(const struct obs_access_conf *c);
/* Whether this request is to be logged (on, and its turn in the sample). */
bool obs_access_want(void);
/* Formats r into this thread's buffer; written by obs_access_flush, or at
 * once when the buffer is half full. */
void obs_access_log(const struct obs_access_rec *r);
/* Writes this thread's buffered lines (whole lines, one write(2)). The
 * event loops call it once a turn; never blocks on a lock for a file. */
void obs_access_flush(void);
/* Lines dropped because the log could not be written. */
uint64_t obs_access_dropped(void);
/* The line r makes in format f (mask: ip_mask), newline included. */
void obs_access_format(buf *out, const struct obs_access_rec *r,
    enum obs_format f, bool mask);

#define OBS_IP_MAX 64
/* ip with the host part zeroed: an IPv4 (or v4-mapped) address to its
 * /24 ("192.0.2.0"), IPv6 to its /48 ("2001:db8:1::"). Text that is no
 * address becomes "-". Returns out. */
const char *obs_ip_mask(const char *ip, char out[OBS_IP_MAX]);

/* ---- metrics (metrics.c) ---------------------------------------------------- */

/* A counter: relaxed atomic adds, no lock on the hot path. */
typedef struct {
	atomic_uint_fast64_t v;
} obs_counter;

static inline void
obs_add(obs_counter *c, uint64_t n)
{
	atomic_fetch_add_explicit(&c->v, n, memory_order_relaxed);
}

static inline uint64_t
obs_get(const obs_counter *c)
{
	return atomic_load_explicit(&((obs_counter *)c)->v,
	    memory_order_relaxed);
}

#define OBS_HIST_MAX 16
/*
 * A histogram of integer observations (microseconds, counts) with fixed
 * upper bounds le[0..n) in those units; rendered with each bound and the
 * sum divided by scale (1e6 turns microseconds into seconds).
 */
struct obs_hist {
	const uint64_t *le;
	size_t n;
	double scale;
	atomic_uint_fast64_t bucket[OBS_HIST_MAX + 1]; /* not cumulative */
	atomic_uint_fast64_t sum;
};

/* Request latencies in microseconds, 0.5 ms .. 10 s. */
extern const uint64_t obs_le_latency_us[];
extern const size_t obs_le_latency_n;
void obs_hist_init(struct obs_hist *h, const uint64_t *le, size_t n,
    double scale);
void obs_hist_observe(struct obs_hist *h, uint64_t v);

/* Exposition helpers. A family's HELP and TYPE come once, before its
 * samples; labels is a rendered list (`a="x",b="y"`) or NULL. */
void obs_prom_family(buf *out, const char *name, const char *type,
    const char *help);
void obs_prom_u64(buf *out, const char *name, const char *labels,
    uint64_t v);
void obs_prom_double(buf *out, const char *name, const char *labels,
    double v);
/* name_bucket{le=...}, name_sum and name_count of h. */
void obs_prom_hist(buf *out, const char *name, const char *labels,
    const struct obs_hist *h);
/* Appends `key="value"` (with a ',' before when out is not empty),
 * escaping \, " and newline as the format says. */
void obs_prom_label(buf *out, const char *key, const char *value);

/* A module's part of /metrics; renders its families into out. */
typedef void (*obs_collect_fn)(void *ctx, buf *out);
/* Adds or removes a part. The ctx must live until it is removed. */
void obs_metrics_add(obs_collect_fn fn, void *ctx);
void obs_metrics_remove(obs_collect_fn fn, void *ctx);
/* The whole exposition: process metrics, then every part in the order
 * added. */
void obs_metrics_render(buf *out);

#endif
