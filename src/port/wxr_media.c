/*
 * `kiji import-wxr --uploads DIR`: an attachment's file, found under DIR
 * at the path WordPress kept it under wp-content/uploads, is stored as
 * kiji media the way an admin upload is (content/image.c): the type from
 * the bytes alone, dimensions read, metadata (EXIF with GPS …) stripped,
 * named by its content hash. Nothing is downloaded; a file that is not a
 * JPEG, PNG, WebP or GIF, too big or damaged is refused with its reason.
 */
#include "port.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../content/image.h"

#define MEDIA_DEFAULT_MAX ((int64_t)10 << 20) /* admin.upload_max's default */

const char *const port_media_why_names[PMEDIA__MAX] = {
	[PMEDIA_OK] = "copied",
	[PMEDIA_MISSING] = "missing",
	[PMEDIA_UNREADABLE] = "unreadable or not a plain file",
	[PMEDIA_TYPE] = "not a JPEG, PNG, WebP or GIF image",
	[PMEDIA_LARGE] = "larger than admin.upload_max",
	[PMEDIA_BROKEN] = "a damaged image",
	[PMEDIA_STORE] = "the database refused it",
};

int64_t
port_media_max(store *st)
{
	buf v;
	int64_t max = MEDIA_DEFAULT_MAX;
	buf_init(&v, 64);
	if (store_setting_get(st, "admin.upload_max", &v) == STORE_OK &&
	    v.len > 0) {
		char *e;
		long long n = strtoll(buf_cstr(&v), &e, 10);
		if (*e == '\0' && n > 0)
			max = n;
	}
	buf_free(&v);
	return max;
}

/* Reads dirfd/rel into data: a regular file (no symbolic link at its
 * end) of at most max bytes. */
static enum port_media_why
media_read(int dirfd, const char *rel, int64_t max, buf *data)
{
	struct stat sb;
	enum port_media_why why = PMEDIA_UNREADABLE;
	int fd = openat(dirfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? PMEDIA_MISSING
		    : PMEDIA_UNREADABLE;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
		goto out;
	if (sb.st_size > max) {
		why = PMEDIA_LARGE;
		goto out;
	}
	char chunk[65536];
	for (;;) {
		ssize_t got = read(fd, chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			goto out;
		if (got == 0)
			break;
		if ((int64_t)(data->len + (size_t)got) > max) {
			why = PMEDIA_LARGE; /* it grew while we read */
			goto out;
		}
		if (!buf_put(data, chunk, (size_t)got))
			goto out;
	}
	why = PMEDIA_OK;
out:
	close(fd);
	return why;
}

enum port_media_why
port_media_copy(store *st, int dirfd, const char *rel, int64_t max,
    int64_t now, bool dry, arena *a, const char **url, bool *fresh)
{
	buf data, clean;
	enum image_type t = IMAGE_NONE;
	unsigned w = 0, h = 0;
	struct store_media md;
	*url = NULL;
	*fresh = false;
	buf_init(&data, 0);
	buf_init(&clean, 0);
	enum port_media_why why = media_read(dirfd, rel, max, &data);
	if (why != PMEDIA_OK)
		goto out;
	why = PMEDIA_TYPE;
	if (content_image_sniff(data.ptr, data.len) == IMAGE_NONE)
		goto out;
	why = PMEDIA_BROKEN;
	if (!content_image_info(data.ptr, data.len, &t, &w, &h) ||
	    !content_image_strip(&clean, data.ptr, data.len))
		goto out;
	why = PMEDIA_STORE;
	const char *name = content_image_name(a, clean.ptr, clean.len, t);
	if (name == NULL)
		goto out;
	const char *base = strrchr(rel, '/');
	base = base ? base + 1 : rel;
	*fresh = store_media_meta(st, name, a, &md) != STORE_OK;
	if (!dry && *fresh) {
		memset(&md, 0, sizeof(md));
		md.name = name;
		md.type = content_image_mime(t);
		md.width = w;
		md.height = h;
		md.filename = strlen(base) <= 200 ? base : "";
		md.mtime = now;
		if (store_media_add(st, &md, clean.ptr, clean.len) != STORE_OK)
			goto out;
	}
	*url = arena_printf(a, "/media/%s", name);
	why = PMEDIA_OK;
out:
	buf_free(&data);
	buf_free(&clean);
	return why;
}
