/*
 * A request as handlers see it, built from a parsed head and its body:
 * every part is bounded, decoded and checked here (path, query, cookies,
 * form fields against the route's declarations, files spooled to disk),
 * so a refused request never reaches a handler.
 */
#include "http_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define HTTP_MAX_REPEAT 8 /* Cookie / X-Forwarded-For headers kept */

struct http_rq *
http_rq_new(http_server *s, arena *a)
{
	struct http_rq *q = arena_alloc(a, sizeof(*q));
	q->s = s;
	q->a = a;
	q->req.a = a;
	q->req.path = "/";
	q->req.query = "";
	q->req.body = "";
	q->req.content_type = "";
	q->req.charset = "UTF-8";
	q->req.ip = q->req.peer_ip = "unknown";
	q->req.conn = q;
	buf_init(&q->raw, 0);
	buf_init(&q->resp.body, 0);
	return q;
}

/*
 * Percent-decodes the path ('+' stays '+' in paths). Refuses bad escapes,
 * control bytes, "." and ".." segments (BAD_REQUEST), and NUL or invalid
 * UTF-8 (ENCODING). Dot segments never reach a file handler this way.
 */
static enum http_fail
http_path_decode(arena *a, const char *s, size_t n, const char **out)
{
	char *p = arena_alloc(a, n + 1);
	size_t j = 0;

	if (n == 0 || s[0] != '/')
		return HTTP_FAIL_BAD_REQUEST;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			if (n - i < 3 || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]))
				return HTTP_FAIL_BAD_REQUEST;
			char hex[3] = { s[i + 1], s[i + 2], '\0' };
			c = (unsigned char)strtoul(hex, NULL, 16);
			i += 2;
			if (c == '\0')
				return HTTP_FAIL_ENCODING;
		}
		if (c < 0x20 || c == 0x7f)
			return HTTP_FAIL_BAD_REQUEST;
		p[j++] = (char)c;
	}
	p[j] = '\0';
	if (!text_utf8_valid(p, j))
		return HTTP_FAIL_ENCODING;
	for (const char *seg = p; seg; seg = strchr(seg + 1, '/')) {
		if (strncmp(seg, "/.", 2) == 0 && (seg[2] == '/' ||
		    seg[2] == '\0' || (seg[2] == '.' && (seg[3] == '/' ||
		    seg[3] == '\0'))))
			return HTTP_FAIL_BAD_REQUEST;
	}
	*out = p;
	return HTTP_FAIL_NONE;
}

/* Why a query string failed http_parse_urlencoded: too many pairs, or
 * (anything else) a bad escape or bad bytes. */
static enum http_fail
http_query_fail(const char *s, size_t max)
{
	size_t count = 0;

	for (const char *p = s; *p;) {
		size_t n = strcspn(p, "&");
		count += n > 0;
		p += n + (p[n] == '&');
	}
	return count > max ? HTTP_FAIL_TOO_MANY : HTTP_FAIL_ENCODING;
}

/* Whether host (from an absolute-form target) is one of ours. */
static bool
http_host_ours(const http_server *s, const char *h, size_t n)
{
	for (const char *p = s->hosts; *p;) {
		p += strspn(p, " ");
		size_t k = strcspn(p, " ");
		if (k == n && k > 0 && strncasecmp(p, h, n) == 0)
			return true;
		p += k;
	}
	return false;
}

/* Splits the request target into path and query, decoding both. An
 * absolute-form target ("http://host/p") must name one of our hosts and
 * is reduced to its path; "*" serves nothing here. */
static enum http_fail
http_rq_target(struct http_rq *q, const char *t)
{
	struct http_req *r = &q->req;
	const char *qm;
	enum http_fail f;

	if (*t != '/') {
		const char *auth = strstr(t, "://");
		if (auth == NULL)
			return HTTP_FAIL_BAD_REQUEST;
		auth += 3;
		size_t an = strcspn(auth, "/?#");
		if (an == 0 || memchr(auth, '@', an) != NULL ||
		    !http_host_ours(q->s, auth, an))
			return HTTP_FAIL_BAD_REQUEST;
		t = auth + an;
		if (*t != '/')
			t = arena_printf(q->a, "/%s", t);
	}
	if (strchr(t, '#') != NULL)
		return HTTP_FAIL_BAD_REQUEST; /* fragments are never sent */
	qm = strchr(t, '?');
	f = http_path_decode(q->a, t, qm ? (size_t)(qm - t) : strlen(t),
	    &r->path);
	if (f != HTTP_FAIL_NONE)
		return f;
	if (qm == NULL)
		return HTTP_FAIL_NONE;
	r->query = qm + 1;
	if (!http_parse_urlencoded(r->query, strlen(r->query), q->a,
	    q->s->max_fields, &r->args, &r->nargs))
		return http_query_fail(r->query, q->s->max_fields);
	return HTTP_FAIL_NONE;
}

/* All Cookie headers, each checked for UTF-8 before parsing (the parser
 * would only skip bad pairs; a bad cookie is refused at the edge). */
static enum http_fail
http_rq_cookies(struct http_rq *q)
{
	const char *all = NULL;

	for (size_t i = 0; i < q->nhdrs; i++) {
		const struct http_kv *h = &q->hdrs[i];
		if (strcasecmp(h->name, "Cookie") != 0)
			continue;
		if (!text_utf8_valid(h->value, h->value_len))
			return HTTP_FAIL_ENCODING;
		all = all ? arena_printf(q->a, "%s; %s", all, h->value) : h->value;
	}
	if (all != NULL)
		http_parse_cookies(all, q->a, &q->req.cookies, &q->req.ncookies);
	return HTTP_FAIL_NONE;
}

/* True when content type ct names media type mt (parameters ignored). */
static bool
http_ctype_is(const char *ct, const char *mt)
{
	size_t n = strlen(mt);
	return strncasecmp(ct, mt, n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

/* The declaration of field name on the request's route, or NULL. */
static const struct http_field *
http_field_spec(const struct http_rq *q, const char *name)
{
	const struct http_route *rt = q->req.route;
	if (rt == NULL || rt->fields == NULL)
		return NULL;
	for (const struct http_field *f = rt->fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

/* ---- multipart sinks --------------------------------------------------------- */

/* A new part: a text field kept in memory under its limit, or a file
 * spooled to an unlinked temporary file. Undeclared parts on a route
 * with declarations are read and dropped. */
static bool
http_mp_begin(void *ctx, const struct wire_mp_part *part)
{
	struct http_rq *q = ctx;
	const struct http_field *spec = http_field_spec(q, part->name);

	if (q->nfields >= q->s->max_fields) {
		q->fail = HTTP_FAIL_TOO_MANY;
		return false;
	}
	if (!text_utf8_valid(part->name, strlen(part->name)) ||
	    !text_utf8_valid(part->filename, strlen(part->filename))) {
		q->fail = HTTP_FAIL_ENCODING;
		return false;
	}
	if (q->nfields == q->capfields) {
		q->capfields = q->capfields ? q->capfields * 2 : 8;
		q->fields = xrealloc(q->fields, q->capfields * sizeof(*q->fields));
	}
	struct http_rfield *f = &q->fields[q->nfields++];
	memset(f, 0, sizeof(*f));
	f->name = arena_strdup(q->a, part->name);
	f->spec = spec;
	bool declared_file = spec && spec->kind == HTTP_FIELD_FILE;
	if (part->is_file && declared_file) {
		struct http_file *hf = arena_alloc(q->a, sizeof(*hf));
		hf->field = f->name;
		hf->filename = arena_strdup(q->a, part->filename);
		hf->content_type = arena_strdup(q->a, part->content_type);
		const char *dir = q->s->tmp_dir ? q->s->tmp_dir : "/tmp";
		hf->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (hf->fd < 0) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/kiji-upload-XXXXXX", dir);
			hf->fd = mkostemp(path, O_CLOEXEC);
			if (hf->fd >= 0)
				unlink(path);
		}
		if (hf->fd < 0) {
			obs_error("http: cannot spool an upload in %s: %s",
			    dir, strerror(errno));
			q->fail = HTTP_FAIL_UNAVAILABLE;
			return false;
		}
		f->file = hf;
	}
	size_t max = spec && spec->max ? spec->max : q->s->max_field_len;
	/* A file part where a text field is declared (or the reverse) is
	 * kept as text under the same limit, and fails validation later. */
	f->misfit = part->is_file && spec != NULL && !declared_file;
	buf_init(&f->val, max);
	return true;
}

static bool
http_mp_data(void *ctx, const char *p, size_t n)
{
	struct http_rq *q = ctx;
	struct http_rfield *f = &q->fields[q->nfields - 1];

	if (f->file != NULL) {
		size_t max = f->spec->max ? f->spec->max : q->limit;
		if (f->file->size + n > max) {
			q->fail = HTTP_FAIL_TOO_LARGE;
			return false;
		}
		while (n > 0) {
			ssize_t w = write(f->file->fd, p, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				q->fail = HTTP_FAIL_UNAVAILABLE;
				return false;
			}
			p += w;
			n -= (size_t)w;
			f->file->size += (uint64_t)w;
		}
		return true;
	}
	if (!buf_put(&f->val, p, n)) {
		q->fail = HTTP_FAIL_FIELD_LARGE;
		return false;
	}
	return true;
}

static bool
http_mp_end(void *ctx)
{
	(void)ctx;
	return true;
}

/* ---- the head ------------------------------------------------------------------ */

/*
 * Fills the request from a parsed head: method, route, headers (copied,
 * NUL-terminated), target, cookies, addresses, and how the body will be
 * taken. q->fail records why the request will be refused, if it will.
 */
void
http_rq_begin(struct http_rq *q, const struct wire_head *h,
    const struct http_ip *peer)
{
	http_server *s = q->s;
	struct http_req *r = &q->req;
	const char *xff[HTTP_MAX_REPEAT];
	const char *xfp = NULL;
	int nxff = 0, nxfp = 0;

	r->method = h->method;
	r->minor = h->minor;
	/* as sent, for the access log (cut: its lines stay bounded) */
	q->method_str = arena_strndup(q->a, h->method_str.p,
	    h->method_str.n < 16 ? h->method_str.n : 16);
	q->target = arena_strndup(q->a, h->target.p,
	    h->target.n < 4096 ? h->target.n : 4096);
	q->hdrs = arena_alloc(q->a, (h->nheaders + 1) * sizeof(*q->hdrs));
	for (size_t i = 0; i < h->nheaders; i++) {
		const struct wire_header *f = &h->headers[i];
		struct http_kv *kv = &q->hdrs[q->nhdrs++];
		kv->name = arena_strndup(q->a, f->name.p, f->name.n);
		kv->value = arena_strndup(q->a, f->value.p, f->value.n);
		kv->value_len = f->value.n;
		if (strcasecmp(kv->name, "X-Forwarded-For") == 0) {
			if (nxff == HTTP_MAX_REPEAT) {
				memmove(xff, xff + 1, (HTTP_MAX_REPEAT - 1) *
				    sizeof(xff[0]));
				nxff--;
			}
			xff[nxff++] = kv->value;
		} else if (strcasecmp(kv->name, "X-Forwarded-Proto") == 0) {
			xfp = kv->value;
			nxfp++;
		}
	}
	r->peer_ip = http_ip_str(q->a, peer);
	r->ip = http_client_ip(&s->addrs, q->a, peer, r->peer_ip, xff, nxff);
	/* The scheme the client used, as the front end says: believed only
	 * from a trusted proxy, and only one exact value (a list or a
	 * repeated header is ambiguous: treated as plain http). */
	r->https = nxfp == 1 && strcasecmp(xfp, "https") == 0 &&
	    http_ip_trusted(&s->addrs, peer);
	const char *ct = http_req_header(r, "Content-Type");
	r->content_type = ct ? ct : "";

	bool has_body = h->chunked || (h->has_length && h->length > 0);
	q->body = HTTP_BODY_NONE;
	q->limit = HTTP_NOBODY_MAX;
	if (r->method == HTTP_OTHER) {
		q->fail = HTTP_FAIL_METHOD;
		return;
	}
	char *target = arena_strndup(q->a, h->target.p, h->target.n);
	if ((q->fail = http_rq_target(q, target)) != HTTP_FAIL_NONE)
		return;
	r->route = http_route(s->cfg.routes, s->cfg.nroutes, r->method, r->path,
	    q->a, &r->match);
	if ((q->fail = http_rq_cookies(q)) != HTTP_FAIL_NONE)
		return;
	if (r->route != NULL && r->route->body != HTTP_BODY_NONE) {
		q->body = r->route->body;
		q->limit = r->route->body_max ? r->route->body_max : s->max_body;
	}
	if (h->has_length && h->length > q->limit) {
		q->fail = HTTP_FAIL_TOO_LARGE;
		return;
	}
	if (!has_body || q->body == HTTP_BODY_NONE)
		return;
	if (q->body == HTTP_BODY_FORM && http_ctype_is(r->content_type,
	    "multipart/form-data")) {
		struct wire_mp_cb cb = { http_mp_begin, http_mp_data,
			http_mp_end, q };
		if (!wire_mp_init(&q->mp, r->content_type,
		    strlen(r->content_type), &cb)) {
			q->fail = HTTP_FAIL_BAD_REQUEST;
			return;
		}
		q->multipart = true;
	} else {
		/* urlencoded (or anything else, refused at the end) and raw
		 * bodies are small: buffered under the route's limit. */
		buf_init(&q->raw, q->limit);
	}
}

/* Body bytes as they arrive, already de-chunked; the total is checked
 * against the limit before anything is kept. */
void
http_rq_body(struct http_rq *q, const char *p, size_t n)
{
	q->total += n;
	if (q->total > q->limit) {
		q->fail = HTTP_FAIL_TOO_LARGE;
		return;
	}
	if (q->fail != HTTP_FAIL_NONE || q->body == HTTP_BODY_NONE)
		return;
	if (q->multipart) {
		if (!wire_mp_feed(&q->mp, p, n) && q->fail == HTTP_FAIL_NONE)
			q->fail = HTTP_FAIL_BAD_REQUEST;
		return;
	}
	if (!buf_put(&q->raw, p, n))
		q->fail = HTTP_FAIL_TOO_LARGE;
}

/* Checks a text value against its declaration (or, undeclared, as text);
 * sent is its length as sent, which the limit counts (n once converted
 * from another charset). */
static enum http_fail
http_field_check(const struct http_field *spec, const char *v, size_t n,
    size_t sent, size_t max_len)
{
	enum http_field_kind k = spec ? spec->kind : HTTP_FIELD_TEXT;

	if (sent > (spec && spec->max ? spec->max : max_len))
		return HTTP_FAIL_FIELD_LARGE;
	if (memchr(v, '\0', n) != NULL || !text_utf8_valid(v, n))
		return HTTP_FAIL_ENCODING;
	switch (k) {
	case HTTP_FIELD_TEXT:
		break; /* other controls are the handler's to explain */
	case HTTP_FIELD_LINE:
		if (memchr(v, '\r', n) != NULL || memchr(v, '\n', n) != NULL)
			return HTTP_FAIL_BAD_REQUEST;
		break;
	case HTTP_FIELD_ID:
		if (n > 18 || strspn(v, "0123456789") != n)
			return HTTP_FAIL_BAD_REQUEST;
		break;
	case HTTP_FIELD_FILE:
		return HTTP_FAIL_BAD_REQUEST; /* a text value where a file
		                               * was declared */
	}
	return HTTP_FAIL_NONE;
}

/* A field refusal as HTTP_BODY_FORM_CHARSET routes are told it. */
static enum http_form_err
http_form_err_of(enum http_fail f)
{
	switch (f) {
	case HTTP_FAIL_NONE:
		return HTTP_FORM_OK;
	case HTTP_FAIL_ENCODING:
		return HTTP_FORM_ENCODING;
	case HTTP_FAIL_FIELD_LARGE:
		return HTTP_FORM_LARGE;
	case HTTP_FAIL_TOO_MANY:
		return HTTP_FORM_TOO_MANY;
	default:
		return HTTP_FORM_BAD;
	}
}

/* The charset a form is read in: the Content-Type's charset parameter,
 * else a "charset" field (how many Japanese blog tools declare it), else
 * UTF-8. Sets r->charset to its name, or to the unknown label as sent
 * (at most 40 printable ASCII bytes) when there is no converter. */
static http_charset *
http_form_charset(struct http_rq *q, const struct http_kv *kv, size_t n)
{
	struct http_req *r = &q->req;
	const char *label = http_ctype_param(q->a, r->content_type, "charset");

	for (size_t i = 0; label == NULL && i < n; i++)
		if (strcmp(kv[i].name, "charset") == 0)
			label = kv[i].value;
	if (label == NULL)
		label = "UTF-8";
	http_charset *cs = http_charset_new(label);
	if (cs != NULL) {
		r->charset = http_charset_name(cs);
		return cs;
	}
	size_t k = strlen(label);
	k = k > 40 ? 40 : k;
	char *shown = arena_strndup(q->a, label, k);
	for (char *p = shown; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
			*p = '?';
	r->charset = shown;
	return NULL;
}

/*
 * The form of a HTTP_BODY_FORM_CHARSET route: urlencoded, %-decoded to
 * bytes, then each name and value converted to UTF-8 from the declared
 * charset. Limits count the bytes as sent; a converted value is at most
 * HTTP_CHARSET_GROWTH times that. Any refusal is left in r->form_err for
 * the handler to answer (TrackBack's XML), with no fields passed on.
 */
static void
http_rq_form_charset(struct http_rq *q)
{
	struct http_req *r = &q->req;
	struct http_kv *kv;
	size_t n;
	http_charset *cs = NULL;
	enum http_form_err e = HTTP_FORM_OK;

	r->charset = "UTF-8";
	if (q->raw.len == 0 && !http_ctype_is(r->content_type,
	    "application/x-www-form-urlencoded"))
		return;
	if (!http_ctype_is(r->content_type,
	    "application/x-www-form-urlencoded")) {
		e = HTTP_FORM_BAD;
		goto out;
	}
	if (!http_parse_urlencoded_bytes(buf_cstr(&q->raw), q->raw.len, q->a,
	    q->s->max_fields, &kv, &n)) {
		/* too many pairs, a NUL (raw or %00), or a bad escape */
		const char *raw = buf_cstr(&q->raw);
		if (http_query_fail(raw, q->s->max_fields) == HTTP_FAIL_TOO_MANY)
			e = HTTP_FORM_TOO_MANY;
		else if (memchr(raw, '\0', q->raw.len) || strstr(raw, "%00"))
			e = HTTP_FORM_ENCODING;
		else
			e = HTTP_FORM_BAD;
		goto out;
	}
	if ((cs = http_form_charset(q, kv, n)) == NULL) {
		e = HTTP_FORM_CHARSET;
		goto out;
	}
	r->form = arena_alloc(q->a, (n + 1) * sizeof(*r->form));
	for (size_t i = 0; i < n && e == HTTP_FORM_OK; i++) {
		char *name, *value;
		size_t nlen, vlen;
		if ((e = http_charset_to_utf8(cs, kv[i].name, strlen(kv[i].name),
		    q->a, &name, &nlen)) != HTTP_FORM_OK)
			break;
		const struct http_field *spec = http_field_spec(q, name);
		if (r->route->fields && spec == NULL)
			continue;
		size_t max = spec && spec->max ? spec->max : q->s->max_field_len;
		if (kv[i].value_len > max) {
			e = HTTP_FORM_LARGE;
			break;
		}
		if ((e = http_charset_to_utf8(cs, kv[i].value, kv[i].value_len,
		    q->a, &value, &vlen)) != HTTP_FORM_OK)
			break;
		e = http_form_err_of(http_field_check(spec, value, vlen,
		    kv[i].value_len, q->s->max_field_len));
		r->form[r->nform++] = (struct http_kv){ name, value, vlen };
	}
out:
	http_charset_free(cs);
	r->form_err = e;
	if (e != HTTP_FORM_OK)
		r->nform = 0;
}

/* Body complete: parses urlencoded forms, checks every field against its
 * declaration and exposes the ones that passed (undeclared fields on a
 * route with declarations are dropped). */
void
http_rq_finish(struct http_rq *q)
{
	struct http_req *r = &q->req;

	if (q->fail != HTTP_FAIL_NONE || q->body == HTTP_BODY_NONE)
		return;
	if (q->body == HTTP_BODY_FORM_CHARSET) {
		http_rq_form_charset(q);
		return;
	}
	if (q->body == HTTP_BODY_RAW) {
		r->body = buf_cstr(&q->raw);
		r->body_len = q->raw.len;
		return;
	}
	if (q->multipart) {
		if (!wire_mp_finish(&q->mp)) {
			q->fail = HTTP_FAIL_BAD_REQUEST;
			return;
		}
		r->form = arena_alloc(q->a, (q->nfields + 1) * sizeof(*r->form));
		r->files = arena_alloc(q->a, (q->nfields + 1) * sizeof(*r->files));
		for (size_t i = 0; i < q->nfields; i++) {
			struct http_rfield *f = &q->fields[i];
			if (f->file != NULL) {
				lseek(f->file->fd, 0, SEEK_SET);
				r->files[r->nfiles++] = *f->file;
				f->file->fd = -1; /* now the request's (files) */
				continue;
			}
			if (r->route && r->route->fields && f->spec == NULL)
				continue;
			if (f->misfit) {
				q->fail = HTTP_FAIL_BAD_REQUEST;
				return;
			}
			const char *v = buf_cstr(&f->val);
			enum http_fail e = http_field_check(f->spec, v, f->val.len,
			    f->val.len, q->s->max_field_len);
			if (e != HTTP_FAIL_NONE) {
				q->fail = e;
				return;
			}
			r->form[r->nform++] = (struct http_kv){ f->name, v,
				f->val.len };
		}
		return;
	}
	if (q->raw.len == 0 && !http_ctype_is(r->content_type,
	    "application/x-www-form-urlencoded"))
		return;
	if (!http_ctype_is(r->content_type, "application/x-www-form-urlencoded")) {
		q->fail = HTTP_FAIL_BAD_REQUEST;
		return;
	}
	struct http_kv *kv;
	size_t n;
	if (!http_parse_urlencoded(buf_cstr(&q->raw), q->raw.len, q->a,
	    q->s->max_fields, &kv, &n)) {
		q->fail = http_query_fail(buf_cstr(&q->raw), q->s->max_fields);
		return;
	}
	r->form = arena_alloc(q->a, (n + 1) * sizeof(*r->form));
	for (size_t i = 0; i < n; i++) {
		const struct http_field *spec = http_field_spec(q, kv[i].name);
		if (r->route && r->route->fields && spec == NULL)
			continue;
		enum http_fail e = http_field_check(spec, kv[i].value,
		    kv[i].value_len, kv[i].value_len, q->s->max_field_len);
		if (e != HTTP_FAIL_NONE) {
			q->fail = e;
			return;
		}
		r->form[r->nform++] = kv[i];
	}
}

void
http_rq_free(struct http_rq *q)
{
	for (size_t i = 0; i < q->nfields; i++) {
		buf_free(&q->fields[i].val);
		if (q->fields[i].file && q->fields[i].file->fd >= 0)
			close(q->fields[i].file->fd);
	}
	free(q->fields);
	q->fields = NULL;
	q->nfields = 0;
	for (size_t i = 0; i < q->req.nfiles; i++)
		if (q->req.files[i].fd >= 0)
			close(q->req.files[i].fd);
	q->req.nfiles = 0;
	buf_free(&q->raw);
	buf_free(&q->resp.body);
}

/* ---- accessors ------------------------------------------------------------------ */

const char *
http_req_header(const struct http_req *r, const char *name)
{
	if (r == NULL || r->conn == NULL || name == NULL)
		return NULL;
	const struct http_rq *q = r->conn;
	for (size_t i = 0; i < q->nhdrs; i++)
		if (strcasecmp(q->hdrs[i].name, name) == 0)
			return q->hdrs[i].value;
	return NULL;
}

/* First pair called name in kv[0..n), or NULL. */
static const char *
http_kv_find(const struct http_kv *kv, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].name, name) == 0)
			return kv[i].value;
	return NULL;
}

/* The accessors below return the first pair of that name, or NULL. */
const char *
http_req_arg(const struct http_req *r, const char *name)
{
	return http_kv_find(r->args, r->nargs, name);
}

const char *
http_req_field(const struct http_req *r, const char *name)
{
	return http_kv_find(r->form, r->nform, name);
}

const char *
http_req_cookie(const struct http_req *r, const char *name)
{
	return http_kv_find(r->cookies, r->ncookies, name);
}

/* ---- same origin ---------------------------------------------------------------- */

/* Length of the origin part ("scheme://host[:port]") of an absolute URL. */
static size_t
http_origin_len(const char *url)
{
	const char *p = strstr(url, "://");
	return p ? (size_t)(p + 3 - url) + strcspn(p + 3, "/?#") : 0;
}

/*
 * The one same-origin check for state-changing requests. An Origin must
 * be the site's (base_url's origin), the origin the browser addressed
 * (Host), or one of the space-separated allow list; "null" never is.
 * Without Origin, Sec-Fetch-Site must say same-origin or none (typed in);
 * with neither (not a browser, or a very old one) the answer is !require:
 * the session token or form token then decides alone.
 */
bool
http_same_origin(const struct http_req *r, const char *base_url,
    const char *allow, bool require)
{
	const char *o = http_req_header(r, "Origin");
	if (o == NULL) {
		const char *sfs = http_req_header(r, "Sec-Fetch-Site");
		if (sfs == NULL)
			return !require;
		return strcmp(sfs, "same-origin") == 0 || strcmp(sfs, "none") == 0;
	}
	size_t on = strlen(o);
	if (on == 0 || strcmp(o, "null") == 0 || (strncmp(o, "http://", 7) != 0 &&
	    strncmp(o, "https://", 8) != 0))
		return false;
	size_t bn = base_url ? http_origin_len(base_url) : 0;
	if (bn > 0 && bn == on && strncasecmp(o, base_url, on) == 0)
		return true;
	const char *host = http_req_header(r, "Host");
	const char *oh = strstr(o, "://") + 3;
	if (host != NULL && strcasecmp(oh, host) == 0)
		return true;
	for (const char *p = allow ? allow : ""; *p;) {
		p += strspn(p, " \t,");
		size_t k = strcspn(p, " \t,");
		if (k > 0 && k == on && strncasecmp(p, o, k) == 0)
			return true;
		p += k;
	}
	return false;
}
