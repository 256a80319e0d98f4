/*
 * kiji render's files (render.h): URL → file path below the export
 * directory (refusing anything that could leave it), the links of a
 * rendered page (and the rewrite of ?page=N links to the copy's
 * /page/N/ paths), atomic writes that skip identical bytes, removal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"

#define PATH_MAX_BYTES 1024
#define SEGMENT_MAX 255

/* Whether one path segment may be a file or folder name. */
static bool
segment_ok(const char *s, size_t n)
{
	if (n == 0 || n > SEGMENT_MAX || s[0] == '.')
		return false; /* also "." and "..", and hidden files */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			return false;
	}
	return true;
}

bool
render_file_path(const char *path, int64_t page, enum site_xkind kind,
    buf *out)
{
	buf_reset(out);
	size_t len = strlen(path);
	if (path[0] != '/' || len > PATH_MAX_BYTES || page < 0 ||
	    page > 999999 || (page > 1 && kind != SITE_X_PAGED) ||
	    !text_utf8_valid(path, len))
		return false;
	/* every segment but the root's */
	const char *p = path + 1;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (!segment_ok(p, n))
			return false;
		p += n;
		if (*p == '/') {
			p++;
			if (*p == '\0')
				return false; /* "/x/": not a spelling kiji makes */
		}
	}
	buf_puts(out, path + 1);
	switch (kind) {
	case SITE_X_FILE:
		if (len < 2)
			return false;
		break;
	case SITE_X_PAGED:
		if (page > 1)
			buf_printf(out, "%spage/%lld/", len > 1 ? "/" : "",
			    (long long)page);
		else if (len > 1)
			buf_putc(out, '/');
		buf_puts(out, "index.html");
		break;
	case SITE_X_HTML:
		if (len > 1)
			buf_putc(out, '/');
		buf_puts(out, "index.html");
		break;
	case SITE_X_FEED:
		if (len < 2)
			return false;
		buf_puts(out, "/index.xml");
		break;
	default:
		return false;
	}
	return !out->err;
}

/* ---- links ------------------------------------------------------------------ */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 32) >= 'a' && (c | 32) <= 'f')
		return (c | 32) - 'a' + 10;
	return -1;
}

/* Percent-decodes s[0..n) into the arena: NULL when malformed, not
 * UTF-8, or holding a control byte. */
static const char *
url_decode(arena *a, const char *s, size_t n)
{
	char *d = arena_alloc(a, n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return NULL;
			int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
			if (h < 0 || l < 0)
				return NULL;
			c = (char)(h * 16 + l);
			i += 2;
		}
		if ((unsigned char)c < 0x20 || c == 0x7f)
			return NULL;
		d[k++] = c;
	}
	d[k] = '\0';
	return text_utf8_valid(d, k) ? d : NULL;
}

/* ?page=N as a listing's canonical links spell it: N > 0, no leading
 * zero, at most 6 digits. 0 when q is anything else. */
static int64_t
page_query(const char *q, size_t n)
{
	if (n < 6 || n > 11 || memcmp(q, "page=", 5) != 0 || q[5] == '0')
		return 0;
	int64_t v = 0;
	for (size_t i = 5; i < n; i++) {
		if (q[i] < '0' || q[i] > '9')
			return 0;
		v = v * 10 + (q[i] - '0');
	}
	return v;
}

/* Whether c ends a URL in a page kiji rendered. */
static bool
url_end(char c)
{
	return c == '"' || c == '\'' || c == '<' || c == '>' || c == ' ' ||
	    c == '\t' || c == '\r' || c == '\n' || c == '#';
}

void
render_scan(const char *body, size_t n, const char *base, arena *a,
    buf *out, render_kind_fn kind,
    void (*found)(void *ctx, const struct render_link *l), void *ctx)
{
	size_t bl = base ? strlen(base) : 0, copied = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		if (body[i] != '"' && body[i] != '>')
			continue;
		size_t u = i + 1;
		if (bl > 0 && n - u > bl && memcmp(body + u, base, bl) == 0 &&
		    body[u + bl] == '/')
			u += bl;
		if (body[u] != '/' || (u + 1 < n && body[u + 1] == '/'))
			continue;
		size_t e = u;
		while (e < n && !url_end(body[e]))
			e++;
		/* the URL as written, HTML-escaped: &amp; is the one entity
		 * kiji's escaping puts in a URL */
		size_t q = u;
		while (q < e && body[q] != '?')
			q++;
		const char *path = url_decode(a, body + u, q - u);
		i = e - 1;
		if (path == NULL)
			continue;
		struct render_link l = {.path = path, .page = 0,
		    .kind = kind(ctx, path, a)};
		if (l.kind == SITE_X_NO)
			continue;
		if (q < e) {
			const char *qs = body + q + 1;
			size_t qn = e - q - 1;
			if (l.kind == SITE_X_FILE && qn > 2 && memcmp(qs, "v=", 2) == 0)
				; /* /static/kiji.css?v=...: the file itself */
			else if (l.kind == SITE_X_PAGED &&
			    (l.page = page_query(qs, qn)) > 0)
				;
			else
				continue;
		}
		if (l.page == 1)
			l.page = 0; /* page 1 is the listing itself */
		found(ctx, &l);
		if (out != NULL && l.kind == SITE_X_PAGED && q < e) {
			/* "/category/x?page=2" → "/category/x/page/2/" */
			buf_put(out, body + copied, q - copied);
			if (l.page > 1)
				buf_printf(out, "%spage/%lld/",
				    body[q - 1] == '/' ? "" : "/",
				    (long long)l.page);
			copied = e;
		}
	}
	if (out != NULL)
		buf_put(out, body + copied, n - copied);
}

/* ---- files ------------------------------------------------------------------- */

/* Makes the folders of dir/rel's parents (dir itself exists). */
static bool
make_parents(const char *dir, const char *rel)
{
	buf p;
	buf_init(&p, 0);
	buf_printf(&p, "%s/", dir);
	size_t base = p.len;
	buf_puts(&p, rel);
	bool ok = !p.err;
	for (size_t i = base; ok && i < p.len; i++) {
		if (p.ptr[i] != '/')
			continue;
		p.ptr[i] = '\0';
		if (mkdir(p.ptr, 0755) != 0 && errno != EEXIST)
			ok = false;
		p.ptr[i] = '/';
	}
	buf_free(&p);
	return ok;
}

/* Whether the file at path holds exactly p[0..n). */
static bool
same_bytes(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat sb;
	bool same = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (size_t)sb.st_size == n;
	char chunk[65536];
	size_t off = 0;
	while (same && off < n) {
		size_t want = n - off < sizeof(chunk) ? n - off : sizeof(chunk);
		ssize_t r = read(fd, chunk, want);
		if (r <= 0 || memcmp(chunk, (const char *)p + off, (size_t)r) != 0)
			same = false;
		else
			off += (size_t)r;
	}
	close(fd);
	return same;
}

enum render_put
render_put(const char *dir, const char *rel, const void *p, size_t n)
{
	char path[PATH_MAX_BYTES * 2 + 64], tmp[sizeof(path) + 32];
	int k = snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (k < 0 || (size_t)k >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return RENDER_ERR;
	}
	if (same_bytes(path, p, n))
		return RENDER_SAME;
	if (!make_parents(dir, rel))
		return RENDER_ERR;
	/* a dot name, which no exported URL maps to (render_file_path) */
	const char *slash = strrchr(path, '/');
	snprintf(tmp, sizeof(tmp), "%.*s/.%s.tmp%ld", (int)(slash - path), path,
	    slash + 1, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0644);
	if (fd < 0)
		return RENDER_ERR;
	size_t off = 0;
	while (off < n) {
		ssize_t w = write(fd, (const char *)p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;
			close(fd);
			unlink(tmp);
			errno = e;
			return RENDER_ERR;
		}
		off += (size_t)w;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return RENDER_ERR;
	}
	return RENDER_WROTE;
}

void
render_remove(const char *dir, const char *rel)
{
	char path[PATH_MAX_BYTES * 2 + 64];
	int k = snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (k < 0 || (size_t)k >= sizeof(path) || unlink(path) != 0)
		return;
	size_t dl = strlen(dir);
	for (;;) {
		char *slash = strrchr(path, '/');
		if (slash == NULL || (size_t)(slash - path) <= dl)
			break;
		*slash = '\0';
		if (rmdir(path) != 0)
			break; /* not empty: other pages live there */
	}
}
