/*
 * The error log: leveled lines on standard error, journald-friendly.
 * Under systemd, stderr is a stream to journald and JOURNAL_STREAM names
 * it ("dev:inode"); lines then start with a syslog priority ("<3>"), which
 * journald turns into the entry's PRIORITY, so `journalctl -p warning`
 * works. Elsewhere (a terminal, a file) lines start "kiji: ".
 */
#include "obs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OBS_LOG_LINE 4096 /* longer messages are cut */

static atomic_int obs_level_cur = OBS_INFO;
/* -1 not yet known, 0 plain, 1 journald */
static atomic_int obs_journal = -1;

static const char *const obs_level_names[OBS_LEVEL__MAX] = {
	[OBS_ERROR] = "error",
	[OBS_WARN] = "warn",
	[OBS_INFO] = "info",
	[OBS_DEBUG] = "debug",
};

/* syslog priorities: err, warning, info, debug */
static const char obs_level_prio[OBS_LEVEL__MAX] = {'3', '4', '6', '7'};

bool
obs_level_parse(const char *name, enum obs_level *out)
{
	for (int i = 0; i < OBS_LEVEL__MAX; i++)
		if (name != NULL && strcmp(name, obs_level_names[i]) == 0) {
			*out = (enum obs_level)i;
			return true;
		}
	return false;
}

void
obs_log_level_set(enum obs_level l)
{
	if ((unsigned)l < OBS_LEVEL__MAX)
		atomic_store(&obs_level_cur, (int)l);
}

bool
obs_log_enabled(enum obs_level l)
{
	return (int)l <= atomic_load_explicit(&obs_level_cur,
	    memory_order_relaxed);
}

/* Whether stderr is the stream systemd gave us to journald: the device
 * and inode in JOURNAL_STREAM are stderr's (a child that redirected
 * stderr elsewhere inherits the variable but not the stream). */
static bool
obs_is_journal(void)
{
	int j = atomic_load(&obs_journal);
	if (j >= 0)
		return j == 1;
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev = 0, ino = 0;
	struct stat sb;
	j = e != NULL && sscanf(e, "%llu:%llu", &dev, &ino) == 2 &&
	    fstat(STDERR_FILENO, &sb) == 0 && (unsigned long long)sb.st_dev ==
	    dev && (unsigned long long)sb.st_ino == ino;
	atomic_store(&obs_journal, j);
	return j == 1;
}

void
obs_log_format(buf *out, enum obs_level l, bool journal, const char *msg)
{
	if ((unsigned)l >= OBS_LEVEL__MAX)
		l = OBS_ERROR;
	if (journal)
		buf_printf(out, "<%c>", obs_level_prio[l]);
	else if (l == OBS_INFO)
		buf_puts(out, "kiji: ");
	else
		buf_printf(out, "kiji: %s: ", l == OBS_WARN ? "warning" :
		    obs_level_names[l]);
	/* one line: whatever the message quotes, it cannot start another */
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			buf_printf(out, "\\x%02x", *p);
		else
			buf_putc(out, (char)*p);
	}
	buf_putc(out, '\n');
}

void
obs_log(enum obs_level l, const char *fmt, ...)
{
	if (!obs_log_enabled(l))
		return;
	char msg[OBS_LOG_LINE];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* callers end their format with \n out of habit: one is enough */
	size_t len = strlen(msg);
	while (len > 0 && msg[len - 1] == '\n')
		msg[--len] = '\0';
	buf line;
	buf_init(&line, OBS_LOG_LINE * 4 + 64);
	obs_log_format(&line, l, obs_is_journal(), msg);
	const char *p = buf_cstr(&line);
	size_t left = line.len;
	while (left > 0) {
		ssize_t k = write(STDERR_FILENO, p, left);
		if (k <= 0)
			break; /* nowhere to say it */
		p += k;
		left -= (size_t)k;
	}
	buf_free(&line);
}
