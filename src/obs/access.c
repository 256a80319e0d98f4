/*
 * The access log: one line per answered request, in the combined format
 * (what nginx and Apache write, what log tools read) or as JSON lines.
 *
 * Cost: each event-loop thread formats into its own buffer and writes
 * whole lines with one write(2) at the end of its loop turn (or when the
 * buffer is half full), so a busy thread writes many lines per system
 * call and no lock is taken for a file opened O_APPEND (the kernel keeps
 * appends whole). A pipe or socket (journald) is written under a mutex,
 * so lines of two threads never interleave. A failed write drops the
 * lines (counted) rather than stall requests.
 *
 * What never reaches it: cookies, request bodies (form fields, passwords)
 * and response headers are not logged at all. The query string of any
 * /admin path is left out, and elsewhere the values of parameters named
 * like secrets (token, password, key, session, code...) are replaced by
 * "[redacted]", in the request and in the Referer. Every byte from the
 * client is escaped: in the combined format bytes outside printable ASCII
 * and '"' '\' become \xNN (as nginx writes them); in JSON, control
 * characters become \u00NN and bytes that are not UTF-8 "\\xNN", so a
 * header with quotes or newlines can neither end a field nor forge a line.
 */
#include "obs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define OBS_TBUF_SIZE ((size_t)64 << 10)
#define OBS_TBUF_FLUSH ((size_t)32 << 10) /* written at once past this */
/* Fields are cut before escaping, so a line stays far below the flush
 * mark (at most 4 bytes out per byte in). */
#define OBS_MAX_PATH 2048
#define OBS_MAX_QUERY 1024
#define OBS_MAX_REFERER 1024
#define OBS_MAX_UA 512
#define OBS_MAX_METHOD 16

/* This thread's lines not yet written. */
struct obs_tbuf {
	buf b;
	buf tgt, ref;       /* scratch: the target and referer, redacted */
	int64_t sec;        /* the second clf_time/iso_time were made for */
	char clf_time[40];  /* "10/Oct/2000:13:55:36 +0000" */
	char iso_time[40];  /* "2000-10-10T13:55:36" */
};

struct obs_access {
	pthread_mutex_t mu;  /* open/reopen/close; writes to non-files */
	atomic_int fd;       /* -1: closed */
	char *path;          /* NULL: standard output */
	atomic_bool serial;  /* not a regular file: write under mu */
	atomic_bool on;
	atomic_int format;
	atomic_uint sample;
	atomic_bool mask;
	atomic_uint_fast64_t seen;    /* requests offered, for sampling */
	atomic_uint_fast64_t dropped; /* lines lost to write errors */
	pthread_key_t key;   /* frees a thread's buffer when it exits */
	pthread_once_t once;
};

static struct obs_access obs_acc = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.fd = -1,
	.once = PTHREAD_ONCE_INIT,
};
static _Thread_local struct obs_tbuf *obs_tb;

/* ---- escaping ------------------------------------------------------------------- */

/* Combined format: printable ASCII but '"' and '\' as is, the rest \xNN. */
static void
obs_put_clf(buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			continue;
		buf_put(out, s + run, i - run);
		char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
		buf_put(out, e, 4);
		run = i + 1;
	}
	buf_put(out, s + run, n - run);
}

/* v in decimal, without printf (a line has three numbers or four). */
static void
obs_put_u64(buf *out, uint64_t v)
{
	char d[24];
	size_t i = sizeof(d);
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	buf_put(out, d + i, sizeof(d) - i);
}

/* Length of the valid UTF-8 sequence at s[0..n), 0 when not valid. */
static size_t
obs_utf8_len(const unsigned char *s, size_t n)
{
	size_t k = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	if (k == 0 || k > n || s[0] > 0xf4)
		return 0;
	return text_utf8_valid((const char *)s, k) ? k : 0;
}

/* A JSON string body: always valid JSON whatever the bytes. Plain runs
 * are copied whole; only what needs escaping is looked at byte by byte. */
static void
obs_put_json(buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			i++;
			continue;
		}
		if (c >= 0x80) {
			size_t k = obs_utf8_len(p + i, n - i);
			if (k > 0) {
				i += k;
				continue;
			}
		}
		buf_put(out, s + run, i - run);
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			buf_put(out, e, 2);
		} else if (c == '\n') {
			buf_puts(out, "\\n");
		} else if (c == '\r') {
			buf_puts(out, "\\r");
		} else if (c == '\t') {
			buf_puts(out, "\\t");
		} else if (c >= 0x80) {
			/* not UTF-8: the text \xNN, so the line stays valid */
			char e[5] = {'\\', '\\', 'x', "0123456789ABCDEF"[c >> 4],
			    "0123456789ABCDEF"[c & 15]};
			buf_put(out, e, 5);
		} else {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			buf_put(out, e, 6);
		}
		i++;
		run = i;
	}
	buf_put(out, s + run, n - run);
}

/* ---- redaction ------------------------------------------------------------------- */

/* Parameter names whose values are secrets, or may be (matched without
 * case, as a whole name or as its last _-separated word: csrf_token,
 * reset_key, api_key). */
static bool
obs_secret_name(const char *s, size_t n)
{
	static const char *const names[] = {"token", "password", "passwd",
	    "pass", "pwd", "secret", "key", "session", "sid", "code", "auth",
	    "sig", "signature", "csrf", "otp", "nonce", "hmac", "jwt",
	    "apikey", "access_token", "credential"};
	for (size_t w = n; ; w--) {
		/* the whole name, then each tail after a '_' or '-' */
		if (w == n || s[w] == '_' || s[w] == '-') {
			const char *t = w == n ? s : s + w + 1;
			size_t tn = w == n ? n : n - w - 1;
			for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
				if (strlen(names[i]) == tn &&
				    strncasecmp(names[i], t, tn) == 0)
					return true;
		}
		if (w == 0)
			break;
	}
	return false;
}

/* Query q[0..n) into out (not yet escaped), secret values replaced. */
static void
obs_query_redact(buf *out, const char *q, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k = i;
		while (k < n && q[k] != '&' && q[k] != ';')
			k++;
		const char *eq = memchr(q + i, '=', k - i);
		if (eq != NULL && obs_secret_name(q + i, (size_t)(eq - q - i))) {
			buf_put(out, q + i, (size_t)(eq - q - i) + 1);
			buf_puts(out, "[redacted]");
		} else {
			buf_put(out, q + i, k - i);
		}
		if (k < n)
			buf_putc(out, q[k]);
		i = k + 1;
	}
}

/* Whether path is the editor area's. */
static bool
obs_private_path(const char *p, size_t n)
{
	return n >= 6 && strncmp(p, "/admin", 6) == 0 &&
	    (n == 6 || p[6] == '/' || p[6] == '?');
}

/* The request target as logged: path, then the query (redacted, left
 * out under /admin). Not yet escaped. */
static void
obs_target(buf *out, const char *path, const char *query, bool private)
{
	size_t pn = strnlen(path, OBS_MAX_PATH);
	buf_put(out, path, pn);
	if (query == NULL || *query == '\0')
		return;
	if (private || obs_private_path(path, pn)) {
		buf_puts(out, "?[redacted]");
		return;
	}
	buf_putc(out, '?');
	obs_query_redact(out, query, strnlen(query, OBS_MAX_QUERY));
}

/* A Referer as logged: its query treated as a request's (another site's
 * URL may carry its own secrets; ours under /admin is left out). */
static void
obs_referer(buf *out, const char *ref)
{
	size_t n = strnlen(ref, OBS_MAX_REFERER);
	const char *qm = memchr(ref, '?', n);
	if (qm == NULL) {
		buf_put(out, ref, n);
		return;
	}
	const char *path = NULL, *scheme = strstr(ref, "://");
	if (scheme != NULL && scheme < qm)
		path = memchr(scheme + 3, '/', (size_t)(qm - scheme - 3));
	buf_put(out, ref, (size_t)(qm - ref));
	if (path != NULL && obs_private_path(path, (size_t)(qm + 1 - path))) {
		buf_puts(out, "?[redacted]");
		return;
	}
	buf_putc(out, '?');
	const char *hash = memchr(qm + 1, '#', (size_t)(ref + n - qm - 1));
	size_t qn = (size_t)((hash ? hash : ref + n) - qm - 1);
	obs_query_redact(out, qm + 1, qn);
}

/* ---- addresses ----------------------------------------------------------------- */

const char *
obs_ip_mask(const char *ip, char out[OBS_IP_MAX])
{
	unsigned char b[16];
	struct in_addr a4;
	char tmp[OBS_IP_MAX];
	size_t n = ip ? strnlen(ip, OBS_IP_MAX) : OBS_IP_MAX;

	strcpy(out, "-");
	if (n == 0 || n >= sizeof(tmp))
		return out;
	memcpy(tmp, ip, n + 1);
	if (tmp[0] == '[' && tmp[n - 1] == ']') {
		memmove(tmp, tmp + 1, n - 2);
		tmp[n - 2] = '\0';
	}
	if (inet_pton(AF_INET, tmp, &a4) == 1) {
		memcpy(b, &a4, 4);
		b[3] = 0;
		inet_ntop(AF_INET, b, out, OBS_IP_MAX);
		return out;
	}
	if (inet_pton(AF_INET6, tmp, b) != 1)
		return out;
	static const unsigned char v4pre[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff};
	if (memcmp(b, v4pre, 12) == 0) {
		b[15] = 0;
		inet_ntop(AF_INET, b + 12, out, OBS_IP_MAX);
		return out;
	}
	memset(b + 6, 0, 10);
	inet_ntop(AF_INET6, b, out, OBS_IP_MAX);
	return out;
}

/* ---- formatting ----------------------------------------------------------------- */

/* The two time stamps of second sec, made once a second per thread. */
static void
obs_times(struct obs_tbuf *t, int64_t sec)
{
	if (t->sec == sec && t->clf_time[0])
		return;
	time_t tt = (time_t)sec;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(t->clf_time, sizeof(t->clf_time), "%d/%b/%Y:%H:%M:%S +0000",
	    &tm);
	strftime(t->iso_time, sizeof(t->iso_time), "%Y-%m-%dT%H:%M:%S", &tm);
	t->sec = sec;
}

/* Formats with the time stamps and scratch buffers of t (made here for
 * this one line when NULL). */
static void
obs_format_with(struct obs_tbuf *t, buf *out, const struct obs_access_rec *r,
    enum obs_format f, bool mask)
{
	struct obs_tbuf scratch = {.sec = -1};
	bool own = t == NULL;
	if (own) {
		t = &scratch;
		buf_init(&t->tgt, 0);
		buf_init(&t->ref, 0);
	}
	int64_t us = r->time_us >= 0 ? r->time_us : 0;
	obs_times(t, us / 1000000);
	char ipm[OBS_IP_MAX];
	const char *ip = r->ip && *r->ip ? r->ip : "-";
	if (mask)
		ip = obs_ip_mask(ip, ipm);
	size_t ipn = strnlen(ip, OBS_IP_MAX);
	const char *method = r->method && *r->method ? r->method : "-";
	size_t mn = strnlen(method, OBS_MAX_METHOD);
	buf *tgt = &t->tgt, *ref = &t->ref;
	buf_reset(tgt);
	buf_reset(ref);
	if (r->path != NULL && r->minor >= 0)
		obs_target(tgt, r->path, r->query, r->private_query);
	if (r->referer != NULL)
		obs_referer(ref, r->referer);
	const char *ua = r->ua ? r->ua : NULL;

	if (f == OBS_FMT_JSON) {
		char frac[8];
		int64_t u = us % 1000000;
		for (int k = 5; k >= 0; k--, u /= 10)
			frac[k] = (char)('0' + u % 10);
		frac[6] = '\0';
		buf_puts(out, "{\"time\":\"");
		buf_puts(out, t->iso_time);
		buf_putc(out, '.');
		buf_puts(out, frac);
		buf_puts(out, "Z\",\"ip\":\"");
		obs_put_json(out, ip, ipn);
		buf_puts(out, "\",\"method\":\"");
		obs_put_json(out, method, mn);
		buf_puts(out, "\",\"path\":\"");
		obs_put_json(out, tgt->len ? tgt->ptr : "-", tgt->len ? tgt->len : 1);
		buf_puts(out, "\",\"protocol\":\"");
		buf_puts(out, r->minor < 0 ? "-" : r->minor ? "HTTP/1.1" :
		    "HTTP/1.0");
		buf_puts(out, "\",\"status\":");
		obs_put_u64(out, (uint64_t)(r->status > 0 ? r->status : 0));
		buf_puts(out, ",\"bytes\":");
		obs_put_u64(out, r->bytes);
		buf_puts(out, ",\"duration_us\":");
		obs_put_u64(out, r->dur_us);
		buf_puts(out, ",\"cache\":\"");
		buf_puts(out, r->cache == 'h' ? "hit" : r->cache == 'm' ? "miss" :
		    "-");
		buf_puts(out, "\",\"referer\":\"");
		obs_put_json(out, ref->len ? ref->ptr : "-", ref->len ? ref->len : 1);
		buf_puts(out, "\",\"user_agent\":\"");
		obs_put_json(out, ua ? ua : "-", ua ? strnlen(ua, OBS_MAX_UA) : 1);
		buf_puts(out, "\"}\n");
	} else {
		obs_put_clf(out, ip, ipn);
		buf_puts(out, " - - [");
		buf_puts(out, t->clf_time);
		buf_puts(out, "] \"");
		if (r->minor < 0 || tgt->len == 0) {
			buf_putc(out, '-');
		} else {
			obs_put_clf(out, method, mn);
			buf_putc(out, ' ');
			obs_put_clf(out, tgt->ptr, tgt->len);
			buf_puts(out, r->minor ? " HTTP/1.1" : " HTTP/1.0");
		}
		buf_puts(out, "\" ");
		obs_put_u64(out, (uint64_t)(r->status > 0 ? r->status : 0));
		buf_putc(out, ' ');
		if (r->bytes)
			obs_put_u64(out, r->bytes);
		else
			buf_putc(out, '-');
		buf_puts(out, " \"");
		if (ref->len)
			obs_put_clf(out, ref->ptr, ref->len);
		else
			buf_putc(out, '-');
		buf_puts(out, "\" \"");
		if (ua)
			obs_put_clf(out, ua, strnlen(ua, OBS_MAX_UA));
		else
			buf_putc(out, '-');
		buf_puts(out, "\"\n");
	}
	if (own) {
		buf_free(&t->tgt);
		buf_free(&t->ref);
	}
}

void
obs_access_format(buf *out, const struct obs_access_rec *r, enum obs_format f,
    bool mask)
{
	obs_format_with(NULL, out, r, f, mask);
}

/* ---- writing ------------------------------------------------------------------ */

/* Writes b's whole lines to the log (all of them, or drops them). */
static void
obs_write(buf *b)
{
	int fd = atomic_load(&obs_acc.fd);
	if (b->len == 0)
		return;
	if (fd < 0) {
		buf_reset(b);
		return;
	}
	bool serial = atomic_load(&obs_acc.serial);
	if (serial)
		pthread_mutex_lock(&obs_acc.mu);
	const char *p = b->ptr;
	size_t left = b->len;
	while (left > 0) {
		ssize_t k = write(fd, p, left);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		p += k;
		left -= (size_t)k;
	}
	if (serial)
		pthread_mutex_unlock(&obs_acc.mu);
	if (left > 0) {
		/* count what was lost: the lines not (wholly) written */
		uint64_t lines = 0;
		for (const char *q = p; q < b->ptr + b->len; q++)
			lines += *q == '\n';
		atomic_fetch_add(&obs_acc.dropped, lines);
	}
	buf_reset(b);
}

static void
obs_tbuf_free(void *v)
{
	struct obs_tbuf *t = v;
	obs_write(&t->b);
	buf_free(&t->b);
	buf_free(&t->tgt);
	buf_free(&t->ref);
	free(t);
}

static void
obs_key_init(void)
{
	pthread_key_create(&obs_acc.key, obs_tbuf_free);
}

static struct obs_tbuf *
obs_tbuf_get(void)
{
	if (obs_tb != NULL)
		return obs_tb;
	pthread_once(&obs_acc.once, obs_key_init);
	obs_tb = xcalloc(1, sizeof(*obs_tb));
	obs_tb->sec = -1;
	buf_init(&obs_tb->b, OBS_TBUF_SIZE);
	buf_init(&obs_tb->tgt, 0);
	buf_init(&obs_tb->ref, 0);
	buf_reserve(&obs_tb->b, OBS_TBUF_SIZE / 2);
	/* the key's destructor writes and frees it when the thread ends */
	pthread_setspecific(obs_acc.key, obs_tb);
	return obs_tb;
}

bool
obs_access_want(void)
{
	if (!atomic_load_explicit(&obs_acc.on, memory_order_relaxed) ||
	    atomic_load_explicit(&obs_acc.fd, memory_order_relaxed) < 0)
		return false;
	unsigned n = atomic_load_explicit(&obs_acc.sample, memory_order_relaxed);
	if (n <= 1)
		return true;
	/* one shared count: exactly one in n, whichever thread answers */
	return atomic_fetch_add_explicit(&obs_acc.seen, 1,
	    memory_order_relaxed) % n == 0;
}

void
obs_access_log(const struct obs_access_rec *r)
{
	struct obs_tbuf *t = obs_tbuf_get();
	size_t before = t->b.len;
	obs_format_with(t, &t->b, r, (enum obs_format)atomic_load_explicit(
	    &obs_acc.format, memory_order_relaxed),
	    atomic_load_explicit(&obs_acc.mask, memory_order_relaxed));
	if (t->b.err) {
		/* cannot happen with the field limits; never a half line */
		t->b.len = before;
		t->b.err = false;
		atomic_fetch_add(&obs_acc.dropped, 1);
	}
	if (t->b.len >= OBS_TBUF_FLUSH)
		obs_write(&t->b);
}

void
obs_access_flush(void)
{
	if (obs_tb != NULL && obs_tb->b.len > 0)
		obs_write(&obs_tb->b);
}

uint64_t
obs_access_dropped(void)
{
	return atomic_load(&obs_acc.dropped);
}

void
obs_access_set(const struct obs_access_conf *c)
{
	atomic_store(&obs_acc.format, (int)c->format);
	atomic_store(&obs_acc.sample, c->sample);
	atomic_store(&obs_acc.mask, c->ip_mask);
	atomic_store(&obs_acc.on, c->on);
}

/* Opens path for appending; -1 with a reason. */
static int
obs_open_file(const char *path, buf *err)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0640);
	if (fd < 0)
		buf_printf(err, "%s: %s", path, strerror(errno));
	return fd;
}

bool
obs_access_open(const char *file, buf *err)
{
	pthread_mutex_lock(&obs_acc.mu);
	bool ok = true;
	int old = atomic_load(&obs_acc.fd);
	if (old > STDERR_FILENO)
		close(old);
	free(obs_acc.path);
	obs_acc.path = NULL;
	int fd = STDOUT_FILENO;
	if (file != NULL && *file != '\0') {
		fd = obs_open_file(file, err);
		ok = fd >= 0;
		if (ok)
			obs_acc.path = xstrdup(file);
	}
	struct stat sb;
	atomic_store(&obs_acc.serial, fd >= 0 && (fstat(fd, &sb) != 0 ||
	    !S_ISREG(sb.st_mode)));
	atomic_store(&obs_acc.fd, fd);
	pthread_mutex_unlock(&obs_acc.mu);
	return ok;
}

bool
obs_access_reopen(buf *err)
{
	pthread_mutex_lock(&obs_acc.mu);
	bool ok = true;
	int fd = atomic_load(&obs_acc.fd);
	if (obs_acc.path != NULL && fd >= 0) {
		int nfd = obs_open_file(obs_acc.path, err);
		/* dup2 swaps the file under the same number at once: a
		 * thread writing now writes whole to the old or the new */
		ok = nfd >= 0 && dup2(nfd, fd) >= 0;
		if (nfd >= 0 && !ok)
			buf_printf(err, "%s: %s", obs_acc.path, strerror(errno));
		if (nfd >= 0)
			close(nfd);
	}
	pthread_mutex_unlock(&obs_acc.mu);
	return ok;
}

void
obs_access_close(void)
{
	obs_access_flush();
	pthread_mutex_lock(&obs_acc.mu);
	int fd = atomic_exchange(&obs_acc.fd, -1);
	if (fd > STDERR_FILENO)
		close(fd);
	free(obs_acc.path);
	obs_acc.path = NULL;
	pthread_mutex_unlock(&obs_acc.mu);
}
