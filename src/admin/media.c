/*
 * Images: the one upload path of the editor area (the media library's
 * form and the article editor's eyecatch field both come here) and the
 * library page. The type is decided by the bytes alone, never by the
 * file name or the Content-Type the browser sent; metadata (EXIF with
 * GPS, XMP, IPTC, comments) is stripped before anything is stored, and
 * the stored copy is named by its content hash, so its URL can be cached
 * for ever. The HTTP core spools the upload to an unlinked file and has
 * already refused a body over the route's limit before it was read.
 */
#include "admin_int.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../content/image.h"

#define MEDIA_PAGE 24          /* images per library page */
#define MEDIA_FILENAME_MAX 200 /* bytes of an uploaded file's name kept */
#define MEDIA_TEXT_PROBE 512   /* bytes looked at to call a file text */

/* Reads the whole spooled file (size bytes) into out. */
static bool
media_read_fd(int fd, uint64_t size, buf *out)
{
	char chunk[65536];
	uint64_t off = 0;
	while (off < size) {
		size_t want = size - off < sizeof(chunk) ? (size_t)(size - off) :
		    sizeof(chunk);
		ssize_t got = pread(fd, chunk, want, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || !buf_put(out, chunk, (size_t)got))
			return false;
		off += (uint64_t)got;
	}
	return true;
}

/* Whether bytes that are no image look like text (HTML, SVG, XML, a
 * script): then the refusal can say what the file really is. */
static bool
media_looks_text(const unsigned char *p, size_t n)
{
	size_t i = 0;
	if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
	    p[i] == '\n'))
		i++;
	if (i < n && p[i] == '<')
		return true;
	size_t m = n < MEDIA_TEXT_PROBE ? n : MEDIA_TEXT_PROBE;
	/* a probe cut inside a character is still text */
	while (m > 0 && m < n && (p[m] & 0xc0) == 0x80)
		m--;
	return m > 0 && text_clean((const char *)p, m);
}

/* The uploaded file's own name, without any folders a browser sent, cut
 * to MEDIA_FILENAME_MAX bytes on a character boundary; "" when it is not
 * clean text. */
static const char *
media_filename(struct admin_req *q, const char *name)
{
	const char *base = name;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	size_t n = strlen(base);
	if (n > MEDIA_FILENAME_MAX) {
		n = MEDIA_FILENAME_MAX;
		while (n > 0 && ((unsigned char)base[n] & 0xc0) == 0x80)
			n--;
	}
	if (!text_clean(base, n))
		return "";
	return arena_strndup(q->a, base, n);
}

enum admin_upload
admin_upload_image(struct admin_req *q, const char *field, const char **url)
{
	const struct http_file *f = NULL;
	for (size_t i = 0; i < q->r->nfiles && f == NULL; i++)
		if (strcmp(q->r->files[i].field, field) == 0)
			f = &q->r->files[i];
	if (f == NULL || f->size == 0)
		return AUP_NONE;
	if (f->size > (uint64_t)q->conf.upload_max)
		return AUP_LARGE;
	enum admin_upload res = AUP_STORE;
	buf data, clean;
	buf_init(&data, (size_t)f->size + 1);
	/* stripping only ever removes bytes */
	buf_init(&clean, (size_t)f->size + 1);
	if (!media_read_fd(f->fd, f->size, &data))
		goto out;
	enum image_type t = IMAGE_NONE;
	unsigned w = 0, h = 0;
	if (content_image_sniff(data.ptr, data.len) == IMAGE_NONE) {
		res = media_looks_text((const unsigned char *)data.ptr, data.len) ?
		    AUP_TEXT : AUP_TYPE;
		goto out;
	}
	if (!content_image_info(data.ptr, data.len, &t, &w, &h) ||
	    !content_image_strip(&clean, data.ptr, data.len)) {
		res = AUP_BROKEN;
		goto out;
	}
	const char *name = content_image_name(q->a, clean.ptr, clean.len, t);
	if (name == NULL)
		goto out;
	struct store_media md = {
		.name = name,
		.type = content_image_mime(t),
		.width = w,
		.height = h,
		.filename = media_filename(q, f->filename),
		.uploader_id = q->user.id,
		.mtime = q->r->now,
	};
	if (store_media_add(q->ad->st, &md, clean.ptr, clean.len) != STORE_OK)
		goto out;
	*url = arena_printf(q->a, "/media/%s", name);
	res = AUP_OK;
out:
	buf_free(&data);
	buf_free(&clean);
	return res;
}

int
admin_upload_status(enum admin_upload e)
{
	switch (e) {
	case AUP_OK:
		return 200;
	case AUP_LARGE:
		return 413;
	case AUP_TEXT:
	case AUP_TYPE:
		return 415;
	case AUP_STORE:
		return 503;
	default:
		return 422;
	}
}

enum admin_msg
admin_upload_msg(enum admin_upload e)
{
	switch (e) {
	case AUP_OK:
		return AMSG__MAX;
	case AUP_NONE:
		return AMSG_UPLOAD_EMPTY;
	case AUP_LARGE:
		return AMSG_UPLOAD_LARGE;
	case AUP_TEXT:
		return AMSG_UPLOAD_TEXT;
	case AUP_TYPE:
		return AMSG_UPLOAD_TYPE;
	case AUP_BROKEN:
		return AMSG_UPLOAD_BROKEN;
	default:
		return AMSG_UNAVAILABLE_TEXT;
	}
}

/* ---- the library ------------------------------------------------------------- */

/* One image as the library and the editor's picker show it. */
static tv *
media_item(struct admin_req *q, const struct store_media *md)
{
	arena *a = q->a;
	tv *d = tv_dict(a);
	const char *url = arena_printf(a, "/media/%s", md->name);
	tv_set_str(a, d, "name", md->name);
	tv_set_str(a, d, "url", url);
	tv_set_str(a, d, "markdown", arena_printf(a, "![](%s)", url));
	tv_set_bool(a, d, "sized", md->width > 0 && md->height > 0);
	tv_set_int(a, d, "width", md->width);
	tv_set_int(a, d, "height", md->height);
	tv_set_str(a, d, "filename", md->filename);
	tv_set_str(a, d, "uploader", md->uploader_name);
	tv_set_str(a, d, "date", admin_datetime(q, md->mtime));
	return d;
}

/* The library page, with the upload form; err (when not AMSG__MAX) says
 * why an upload was refused. */
static void
media_page(struct admin_req *q, enum admin_msg err, int status)
{
	arena *a = q->a;
	int64_t page = admin_page_arg(q);
	struct store_media *list;
	size_t n;
	int64_t total;
	if (page == 0) {
		admin_error(q, 404);
		return;
	}
	if (store_media_list(q->ad->st, (page - 1) * MEDIA_PAGE, MEDIA_PAGE, a,
	    &list, &n, &total) != STORE_OK) {
		admin_error(q, 503);
		return;
	}
	int64_t pages = (total + MEDIA_PAGE - 1) / MEDIA_PAGE;
	if (page > 1 && page > pages) {
		admin_error(q, 404);
		return;
	}
	admin_view(q, admin_msg(q, AMSG_MEDIA));
	if (err != AMSG__MAX)
		admin_form_error(q, err);
	tv *items = tv_set(q->root, "media", tv_list(a));
	for (size_t i = 0; i < n; i++)
		tv_push(items, media_item(q, &list[i]));
	tv_set_bool(a, q->root, "empty", n == 0);
	/* the image just uploaded, shown first with its snippets */
	const char *up = admin_arg(q, "uploaded");
	struct store_media md;
	if (*up && store_media_meta(q->ad->st, up, a, &md) == STORE_OK)
		tv_set(q->root, "uploaded", media_item(q, &md));
	tv_set_int(a, q->root, "upload_max_mib", q->conf.upload_max >> 20);
	admin_pager(q, "/admin/media", page, pages);
	admin_render(q, "admin_media", status);
}

ADMIN_HANDLER(admin_page_media)
{
	struct admin_req *q = qv;
	(void)m;
	media_page(q, AMSG__MAX, 200);
}

/* POST /admin/media: one image into the library. */
ADMIN_HANDLER(admin_page_media_upload)
{
	struct admin_req *q = qv;
	(void)m;
	const char *url = NULL;
	enum admin_upload e = admin_upload_image(q, "file", &url);
	if (e != AUP_OK) {
		media_page(q, admin_upload_msg(e), admin_upload_status(e));
		return;
	}
	admin_redirect(q, arena_printf(q->a, "/admin/media?uploaded=%s",
	    url + strlen("/media/")), AMSG_UPLOADED, 0);
}

tv *
admin_media_recent(struct admin_req *q, size_t max)
{
	struct store_media *list;
	size_t n;
	tv *l = tv_list(q->a);
	if (store_media_list(q->ad->st, 0, (int64_t)max, q->a, &list, &n,
	    NULL) != STORE_OK)
		return l;
	for (size_t i = 0; i < n; i++)
		if (strncmp(list[i].type, "image/", 6) == 0)
			tv_push(l, media_item(q, &list[i]));
	return l;
}
