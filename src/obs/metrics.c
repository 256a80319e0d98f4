/*
 * Metrics in the Prometheus text exposition format 0.0.4. Counters and
 * histograms are relaxed C11 atomics owned by the module that counts
 * (the hot path adds, never locks); a module adds a collector that
 * renders its families when /metrics is asked, so nothing is copied or
 * registered per request. Process metrics (memory, descriptors, CPU,
 * start time) come from /proc/self and getrusage, with Prometheus's
 * standard process_* names.
 */
#include "obs.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define OBS_COLLECTORS_MAX 16

const uint64_t obs_le_latency_us[] = {500, 1000, 2500, 5000, 10000, 25000,
    50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
const size_t obs_le_latency_n = sizeof(obs_le_latency_us) /
    sizeof(obs_le_latency_us[0]);

struct obs_collector {
	obs_collect_fn fn;
	void *ctx;
};

static struct {
	pthread_mutex_t mu;
	struct obs_collector c[OBS_COLLECTORS_MAX];
	size_t n;
	double start; /* epoch seconds of the first collector: the start */
} obs_reg = {.mu = PTHREAD_MUTEX_INITIALIZER};

void
obs_hist_init(struct obs_hist *h, const uint64_t *le, size_t n, double scale)
{
	memset(h, 0, sizeof(*h));
	h->le = le;
	h->n = n < OBS_HIST_MAX ? n : OBS_HIST_MAX;
	h->scale = scale > 0 ? scale : 1;
}

void
obs_hist_observe(struct obs_hist *h, uint64_t v)
{
	size_t i = 0;
	while (i < h->n && v > h->le[i])
		i++;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
}

/* ---- exposition ---------------------------------------------------------------- */

void
obs_prom_family(buf *out, const char *name, const char *type, const char *help)
{
	buf_printf(out, "# HELP %s ", name);
	/* HELP text escapes only backslash and newline */
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			buf_puts(out, "\\\\");
		else if (*p == '\n')
			buf_puts(out, "\\n");
		else
			buf_putc(out, *p);
	}
	buf_printf(out, "\n# TYPE %s %s\n", name, type);
}

void
obs_prom_label(buf *out, const char *key, const char *value)
{
	if (out->len > 0)
		buf_putc(out, ',');
	buf_printf(out, "%s=\"", key);
	for (const char *p = value ? value : ""; *p; p++) {
		if (*p == '\\')
			buf_puts(out, "\\\\");
		else if (*p == '"')
			buf_puts(out, "\\\"");
		else if (*p == '\n')
			buf_puts(out, "\\n");
		else
			buf_putc(out, *p);
	}
	buf_putc(out, '"');
}

static void
obs_prom_name(buf *out, const char *name, const char *labels)
{
	buf_puts(out, name);
	if (labels != NULL && *labels)
		buf_printf(out, "{%s}", labels);
	buf_putc(out, ' ');
}

void
obs_prom_u64(buf *out, const char *name, const char *labels, uint64_t v)
{
	obs_prom_name(out, name, labels);
	buf_printf(out, "%llu\n", (unsigned long long)v);
}

/* A float value as the format spells it (Go's ParseFloat reads %.17g). */
static void
obs_prom_num(buf *out, double v)
{
	if (isnan(v))
		buf_puts(out, "NaN");
	else if (isinf(v))
		buf_puts(out, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 1e15)
		buf_printf(out, "%.0f", v);
	else {
		/* the shortest spelling that reads back the same: 0.005,
		 * not 0.0050000000000000001 */
		char tmp[40];
		for (int p = 6; p <= 17; p++) {
			snprintf(tmp, sizeof(tmp), "%.*g", p, v);
			if (strtod(tmp, NULL) == v)
				break;
		}
		buf_puts(out, tmp);
	}
}

void
obs_prom_double(buf *out, const char *name, const char *labels, double v)
{
	obs_prom_name(out, name, labels);
	obs_prom_num(out, v);
	buf_putc(out, '\n');
}

void
obs_prom_hist(buf *out, const char *name, const char *labels,
    const struct obs_hist *h)
{
	uint64_t cum = 0;
	struct obs_hist *hh = (struct obs_hist *)h;
	const char *sep = labels != NULL && *labels ? "," : "";
	for (size_t i = 0; i <= h->n; i++) {
		cum += atomic_load_explicit(&hh->bucket[i], memory_order_relaxed);
		buf_printf(out, "%s_bucket{%s%sle=\"", name, labels ? labels : "",
		    sep);
		if (i == h->n)
			buf_puts(out, "+Inf");
		else
			obs_prom_num(out, (double)h->le[i] / h->scale);
		buf_printf(out, "\"} %llu\n", (unsigned long long)cum);
	}
	const char *l = labels != NULL && *labels ? labels : NULL;
	buf_printf(out, "%s_sum%s%s%s ", name, l ? "{" : "", l ? l : "",
	    l ? "}" : "");
	obs_prom_num(out, (double)atomic_load_explicit(&hh->sum,
	    memory_order_relaxed) / h->scale);
	buf_printf(out, "\n%s_count%s%s%s", name, l ? "{" : "", l ? l : "",
	    l ? "}" : "");
	buf_printf(out, " %llu\n", (unsigned long long)cum);
}

/* ---- registry ------------------------------------------------------------------ */

void
obs_metrics_add(obs_collect_fn fn, void *ctx)
{
	pthread_mutex_lock(&obs_reg.mu);
	if (obs_reg.start == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		obs_reg.start = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	}
	if (obs_reg.n < OBS_COLLECTORS_MAX)
		obs_reg.c[obs_reg.n++] = (struct obs_collector){fn, ctx};
	pthread_mutex_unlock(&obs_reg.mu);
}

void
obs_metrics_remove(obs_collect_fn fn, void *ctx)
{
	pthread_mutex_lock(&obs_reg.mu);
	for (size_t i = 0; i < obs_reg.n; i++) {
		if (obs_reg.c[i].fn != fn || obs_reg.c[i].ctx != ctx)
			continue;
		memmove(&obs_reg.c[i], &obs_reg.c[i + 1],
		    (obs_reg.n - i - 1) * sizeof(obs_reg.c[0]));
		obs_reg.n--;
		break;
	}
	pthread_mutex_unlock(&obs_reg.mu);
}

/* Open descriptors: the entries of /proc/self/fd (less the one reading). */
static long
obs_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return -1;
	long n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

static void
obs_process(buf *out, double start)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "re");
	if (f != NULL) {
		if (fscanf(f, "%llu %llu", &size, &res) != 2)
			size = res = 0;
		fclose(f);
	}
	obs_prom_family(out, "process_resident_memory_bytes", "gauge",
	    "Resident memory size in bytes.");
	obs_prom_u64(out, "process_resident_memory_bytes", NULL,
	    res * (unsigned long long)page);
	obs_prom_family(out, "process_virtual_memory_bytes", "gauge",
	    "Virtual memory size in bytes.");
	obs_prom_u64(out, "process_virtual_memory_bytes", NULL,
	    size * (unsigned long long)page);
	long fds = obs_open_fds();
	if (fds >= 0) {
		obs_prom_family(out, "process_open_fds", "gauge",
		    "Number of open file descriptors.");
		obs_prom_u64(out, "process_open_fds", NULL, (uint64_t)fds);
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		obs_prom_family(out, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.");
		obs_prom_u64(out, "process_max_fds", NULL, (uint64_t)rl.rlim_cur);
	}
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		obs_prom_family(out, "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds.");
		obs_prom_double(out, "process_cpu_seconds_total", NULL,
		    (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	obs_prom_family(out, "process_start_time_seconds", "gauge",
	    "Start time of the process since unix epoch in seconds.");
	obs_prom_double(out, "process_start_time_seconds", NULL, floor(start));
	obs_prom_family(out, "kiji_access_log_dropped_lines_total", "counter",
	    "Access log lines lost because the log could not be written.");
	obs_prom_u64(out, "kiji_access_log_dropped_lines_total", NULL,
	    obs_access_dropped());
}

void
obs_metrics_render(buf *out)
{
	pthread_mutex_lock(&obs_reg.mu);
	obs_process(out, obs_reg.start);
	for (size_t i = 0; i < obs_reg.n; i++)
		obs_reg.c[i].fn(obs_reg.c[i].ctx, out);
	pthread_mutex_unlock(&obs_reg.mu);
}
