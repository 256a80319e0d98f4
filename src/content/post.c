/*
 * `kiji post` (content.h): a file in the frontmatter.h format over a new
 * or stored article, names resolved to ids, saved through content_save;
 * an article written back as such a file; the list of articles. Errors
 * say "path:LINE: field: why" so an editor can jump there.
 */
#include "content.h"
#include "frontmatter.h"
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define POST_IMAGE_MAX (20u << 20) /* bytes of a local eyecatch file */
#define POST_LIST_PAGE 500

/* The site's zone for dates (the setting, else text's default). */
static void
post_tz(store *st)
{
	buf tz;
	buf_init(&tz, 256);
	if (store_setting_get(st, "site.timezone", &tz) == STORE_OK)
		text_tz_set(buf_cstr(&tz));
	buf_free(&tz);
}

/* Reads a regular file of at most max bytes into out. false with
 * "path: why" in err. */
static bool
post_read(const char *path, size_t max, buf *out, buf *err)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = false;
	if (fd < 0) {
		buf_printf(err, "%s: %s", path, strerror(errno));
		return false;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		buf_printf(err, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)sb.st_size > max) {
		buf_printf(err, "%s: larger than %zu KiB", path, max >> 10);
		goto out;
	}
	buf_reset(out);
	if (!buf_reserve(out, (size_t)sb.st_size + 1))
		goto out;
	for (;;) {
		char chunk[65536];
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			buf_printf(err, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		if (out->len + (size_t)r > max || !buf_put(out, chunk, (size_t)r)) {
			buf_printf(err, "%s: larger than %zu KiB", path, max >> 10);
			goto out;
		}
	}
	ok = true;
out:
	close(fd);
	return ok;
}

/* "path:LINE: " */
static void
post_at(buf *err, const char *path, int line)
{
	buf_printf(err, "%s:%d: ", path, line > 0 ? line : 1);
}

/*
 * A local eyecatch file (relative to the post's folder): checked as an
 * image by its bytes, metadata stripped, stored under its content hash.
 * The /media/ URL in *url.
 */
static bool
post_eyecatch_file(store *st, const char *path, const char *file, int line,
    int64_t now, arena *a, const char **url, buf *err)
{
	buf data, clean, why;
	enum image_type t = IMAGE_NONE;
	bool ok = false;
	char *dir = xstrdup(path);
	const char *full = file[0] == '/' ? file
					  : arena_printf(a, "%s/%s", dirname(dir), file);
	buf_init(&data, POST_IMAGE_MAX + 1);
	buf_init(&clean, POST_IMAGE_MAX + 1);
	buf_init(&why, 1024);
	if (!post_read(full, POST_IMAGE_MAX, &data, &why)) {
		post_at(err, path, line);
		buf_printf(err, "eyecatch: %s", buf_cstr(&why));
		goto out;
	}
	if (!content_image_info(data.ptr, data.len, &t, NULL, NULL) ||
	    !content_image_strip(&clean, data.ptr, data.len)) {
		post_at(err, path, line);
		buf_printf(err, "eyecatch: %s is not a JPEG, PNG, WebP or GIF "
		    "image", file);
		goto out;
	}
	const char *name = content_image_name(a, clean.ptr, clean.len, t);
	if (name == NULL || store_media_put(st, name, content_image_mime(t),
	    clean.ptr, clean.len, now) != STORE_OK) {
		post_at(err, path, line);
		buf_puts(err, "eyecatch: cannot store the image");
		goto out;
	}
	*url = arena_printf(a, "/media/%s", name);
	ok = true;
out:
	free(dir);
	buf_free(&data);
	buf_free(&clean);
	buf_free(&why);
	return ok;
}

/*
 * A page's parent as the file names it: its id ("12"), or its path from
 * the top ("about/company", "/pages/about/company", slugs as stored, at
 * most STORE_PAGE_DEPTH of them); "" is the top level. *id 0 and false
 * when there is no such page.
 */
static bool
post_parent(store *st, const char *v, int64_t *id)
{
	char *end;
	*id = 0;
	if (*v == '\0')
		return true;
	if (*v >= '1' && *v <= '9' && strlen(v) <= 18) {
		long long n = strtoll(v, &end, 10);
		if (*end == '\0') {
			*id = n;
			return true; /* content_save checks it is a page */
		}
	}
	if (strncmp(v, "/pages/", 7) == 0)
		v += 7;
	else if (*v == '/')
		v++;
	char path[(CONTENT_SLUG_MAX + 1) * STORE_PAGE_DEPTH + 1];
	size_t n = strlen(v);
	if (n == 0 || n >= sizeof(path))
		return false;
	memcpy(path, v, n + 1);
	if (path[n - 1] == '/')
		path[--n] = '\0';
	int64_t parent = 0;
	size_t depth = 0;
	for (char *seg = path; seg != NULL; depth++) {
		char *e = strchr(seg, '/');
		if (e != NULL)
			*e++ = '\0';
		const char *one[1] = {seg};
		if (depth == STORE_PAGE_DEPTH || *seg == '\0' ||
		    store_page_child(st, parent, one, 1, &parent) != STORE_OK ||
		    parent == 0)
			return false;
		seg = e;
	}
	*id = parent;
	return true;
}

/* The file's fields over in; names to ids. false with the error in err
 * (NOTFOUND-like lookups are the file's mistakes: INVALID). */
static bool
post_apply(store *st, const char *path, const struct content_fm *fm,
    struct content_input *in, int64_t now, arena *a, buf *err)
{
	if (fm->has[FM_TITLE])
		in->title = fm->title;
	if (fm->has[FM_SLUG])
		in->slug = fm->slug;
	if (fm->has[FM_KIND])
		in->kind = fm->kind;
	if (fm->has[FM_STATUS])
		in->status = fm->status;
	if (fm->has[FM_FORMAT])
		in->body_format = fm->format;
	if (fm->has[FM_DATE])
		in->published_at = fm->date;
	if (fm->has[FM_CREDIT])
		in->eyecatch_credit = fm->credit;
	if (fm->has[FM_EXCERPT])
		in->excerpt = fm->excerpt;
	if (fm->has[FM_COMMENTS])
		in->comments_open = fm->comments;
	if (fm->has[FM_TAGS]) {
		in->tags = fm->tags;
		in->ntags = fm->ntags;
	}
	if (fm->has[FM_SOURCES]) {
		in->sources = fm->sources;
		in->nsources = fm->nsources;
	}
	if (*fm->body)
		in->body = fm->body;
	if (fm->has[FM_AUTHOR]) {
		struct store_user u;
		in->author_id = 0;
		if (*fm->author) {
			enum store_err e = store_user_by_name(st, fm->author, a, &u);
			if (e != STORE_OK) {
				post_at(err, path,
				    fm->line[FM_AUTHOR]);
				buf_printf(err, "author: %s '%s'", e == STORE_NOTFOUND ?
				    "no user named" : "cannot look up", fm->author);
				return false;
			}
			in->author_id = u.id;
		}
	}
	if (fm->has[FM_CATEGORY]) {
		struct store_category c;
		in->category_id = 0;
		if (*fm->category) {
			enum store_err e = store_category_by_slug(st, fm->category,
			    a, &c);
			if (e != STORE_OK) {
				post_at(err, path, fm->line[FM_CATEGORY]);
				buf_printf(err, "category: %s '%s'", e == STORE_NOTFOUND ?
				    "no category with the slug" : "cannot look up",
				    fm->category);
				return false;
			}
			in->category_id = c.id;
		}
	}
	if (in->kind != KIND_PAGE)
		in->parent_id = 0; /* a page made a post leaves its parent */
	if (fm->has[FM_PARENT]) {
		if (!post_parent(st, fm->parent ? fm->parent : "",
		    &in->parent_id)) {
			post_at(err, path, fm->line[FM_PARENT]);
			buf_printf(err, "parent: no page '%s'", fm->parent);
			return false;
		}
	}
	if (fm->has[FM_EYECATCH]) {
		const char *v = fm->eyecatch;
		in->eyecatch = v;
		if (*v && strncmp(v, "/media/", 7) != 0 &&
		    strncasecmp(v, "http://", 7) != 0 &&
		    strncasecmp(v, "https://", 8) != 0 &&
		    !post_eyecatch_file(st, path, v, fm->line[FM_EYECATCH], now, a,
		    &in->eyecatch, err))
			return false;
	}
	return true;
}

/* The file's line of what res blames. */
static int
post_line(const struct content_fm *fm, const struct content_result *res)
{
	enum content_fm_key k = content_fm_key_of(res->field);
	if (res->field != NULL && strcmp(res->field, "body") == 0)
		return fm->body_line;
	if (k == FM_TAGS && fm->has[k] && res->item < fm->ntags)
		return fm->tag_lines[res->item];
	if (k == FM_SOURCES && fm->has[k] && res->item < fm->nsources)
		return fm->source_lines[res->item];
	if (k == FM_DATE && !fm->has[k] && fm->has[FM_STATUS])
		return fm->line[FM_STATUS]; /* scheduled, no date */
	return k != FM__MAX && fm->has[k] ? fm->line[k] : 1;
}

/* File → fields over a new or stored article → content_save; the
 * refusal pointed at the file's line. */
enum content_err
content_post_save(store *st, const char *path, int64_t id, int64_t now,
    int64_t *saved, buf *err)
{
	struct content_fm fm;
	struct content_input in = {0};
	struct content_result res;
	struct store_article art;
	enum content_err ce = CONTENT_INVALID;
	enum store_err e;
	buf file, why;
	arena *a = arena_new(0);

	buf_init(&file, CONTENT_FILE_MAX + 1);
	buf_init(&why, 4096);
	post_tz(st);
	if (!post_read(path, CONTENT_FILE_MAX, &file, err))
		goto out;
	if (!content_fm_parse(file.ptr ? file.ptr : "", file.len, a, &fm, &why)) {
		buf_printf(err, "%s:%s", path, buf_cstr(&why));
		goto out;
	}
	if (id != 0) {
		e = store_article_get_any(st, id, a, &art);
		if (e != STORE_OK) {
			buf_printf(err, "article %" PRId64 ": %s", id,
			    e == STORE_NOTFOUND ? "no such article" : store_strerror(e));
			ce = e == STORE_NOTFOUND ? CONTENT_NOTFOUND : CONTENT_STORE;
			goto out;
		}
		content_input_from(&in, &art, a);
		/* someone saving in between (the admin) is a conflict */
		if (store_revision_latest(st, id, &in.base_revision) != STORE_OK) {
			buf_puts(err, "cannot read the article's revisions");
			ce = CONTENT_STORE;
			goto out;
		}
	} else {
		in.kind = KIND_POST;
		in.status = STATUS_DRAFT;
		in.body_format = FORMAT_MARKDOWN;
		in.comments_open = true;
	}
	in.now = now;
	if (!post_apply(st, path, &fm, &in, now, a, err))
		goto out;
	ce = content_save(st, &in, a, &res);
	if (ce == CONTENT_INVALID) {
		post_at(err, path, post_line(&fm, &res));
		buf_printf(err, "%s: %s", res.field ? res.field : "file",
		    res.message_en);
	} else if (ce != CONTENT_OK) {
		buf_printf(err, "%s: %s", path, res.message_en);
	} else {
		*saved = res.id;
	}
out:
	buf_free(&file);
	buf_free(&why);
	arena_free(a);
	return ce;
}

/* The stored article with its author's login, as a file. */
enum content_err
content_post_get(store *st, int64_t id, buf *out, buf *err)
{
	struct store_article art;
	struct store_user u = {0};
	arena *a = arena_new(0);
	enum content_err ce = CONTENT_OK;
	post_tz(st);
	enum store_err e = store_article_get_any(st, id, a, &art);
	if (e == STORE_OK && art.author_id != 0)
		e = store_user_get(st, art.author_id, a, &u);
	if (e != STORE_OK) {
		buf_printf(err, "article %" PRId64 ": %s", id,
		    e == STORE_NOTFOUND ? "no such article" : store_strerror(e));
		ce = e == STORE_NOTFOUND ? CONTENT_NOTFOUND : CONTENT_STORE;
	} else {
		content_fm_write(out, &art, u.name ? u.name : "");
	}
	arena_free(a);
	return ce;
}

/* Pages of POST_LIST_PAGE, so a big site is never held at once. */
enum content_err
content_post_list(store *st, enum store_status status, FILE *out)
{
	arena *a = arena_new(0);
	enum content_err ce = CONTENT_OK;
	int64_t total = 0;
	buf date;
	buf_init(&date, 64);
	post_tz(st);
	for (int64_t off = 0; ce == CONTENT_OK; off += POST_LIST_PAGE) {
		struct store_article *v;
		size_t n;
		arena_reset(a);
		if (store_articles_any(st, status, KIND__MAX, off, POST_LIST_PAGE, a,
		    &v, &n, off == 0 ? &total : NULL) != STORE_OK) {
			ce = CONTENT_STORE;
			break;
		}
		for (size_t i = 0; i < n; i++) {
			buf_reset(&date);
			if (v[i].published_at)
				text_rfc3339(&date, v[i].published_at);
			fprintf(out, "%" PRId64 "\t%s\t%s\t%s\t%s\t%s\n", v[i].id,
			    content_status_names[v[i].status],
			    content_kind_names[v[i].kind],
			    date.len ? buf_cstr(&date) : "-",
			    *v[i].slug ? v[i].slug : "-", v[i].title);
		}
		if (n < POST_LIST_PAGE || off + POST_LIST_PAGE >= total)
			break;
	}
	buf_free(&date);
	arena_free(a);
	return ce;
}
