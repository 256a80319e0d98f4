/*
 * Articles and pages: the list with its filters, the editor (new and
 * edit), the server-rendered preview through the public article
 * template, and the trash. Every save goes through content_save, the one
 * save path; this file only turns a form into a content_input and back.
 * Two rules the route flags cannot state are checked here: an author
 * opens and changes only their own articles, and with
 * admin.authors_publish 0 an author saves drafts only (an article an
 * editor already published or scheduled keeps that state and date).
 */
#include "admin_int.h"

#include <stdlib.h>
#include <string.h>

#include "../content/content.h"

#define ARTICLES_PAGE 30     /* rows per list page */
#define SOURCE_ROWS_EMPTY 3  /* empty 参考 rows a form offers without JS */
#define SOURCE_ROWS_MAX (CONTENT_SOURCES_MAX + 20) /* rows a form may send */
#define PICKER_IMAGES 12     /* library images the editor offers */
#define SEARCH_MAX 200       /* bytes of a list search */
#define PARENT_PICKS 1000    /* pages the parent picker offers */

static const struct {
	const char *name; /* form and query value */
	enum admin_msg label;
} status_ui[STATUS__MAX] = {
	[STATUS_DRAFT] = {"draft", AMSG_DRAFTS},
	[STATUS_SCHEDULED] = {"scheduled", AMSG_SCHEDULED},
	[STATUS_PUBLISHED] = {"published", AMSG_PUBLISH},
	[STATUS_TRASH] = {"trash", AMSG_TRASH},
};

static const struct {
	const char *name;
	enum admin_msg label;
} kind_ui[KIND__MAX] = {
	[KIND_POST] = {"post", AMSG_KIND_POST},
	[KIND_PAGE] = {"page", AMSG_KIND_PAGE},
};

/* Status by name; STATUS__MAX when unknown. */
static enum store_status
status_of(const char *s)
{
	for (int i = 0; i < STATUS__MAX; i++)
		if (strcmp(s, status_ui[i].name) == 0)
			return (enum store_status)i;
	return STATUS__MAX;
}

/* Kind by name; KIND__MAX when unknown. */
static enum store_kind
kind_of(const char *s)
{
	for (int i = 0; i < KIND__MAX; i++)
		if (strcmp(s, kind_ui[i].name) == 0)
			return (enum store_kind)i;
	return KIND__MAX;
}

bool
admin_article_mine(const struct admin_req *q, const struct store_article *art)
{
	return admin_role_at_least(q, ROLE_EDITOR) ||
	    (q->logged_in && art->author_id == q->user.id);
}

/* Whether this user may publish and schedule (not only write drafts). */
static bool
may_publish(const struct admin_req *q)
{
	return admin_role_at_least(q, ROLE_EDITOR) || q->conf.authors_publish;
}

/* ---- dates: datetime-local values are wall times in the site zone ---------- */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* n digits at *p into *v; false when they are not all digits. */
static bool
digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return false;
		*v = *v * 10 + (**p - '0');
	}
	return true;
}

/*
 * "YYYY-MM-DDTHH:MM[:SS]" (what <input type=datetime-local> sends; a
 * space may stand for the T) as a wall time in the site zone → epoch.
 * The zone's offset is found in two steps, so a DST change between the
 * guess and the answer is followed. False when malformed.
 */
static bool
local_parse(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec = 0;
	const char *p = s;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) ||
	    *p++ != '-' || !digits(&p, 2, &d) || (*p != 'T' && *p != ' '))
		return false;
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
		return false;
	if (*p == ':' && (p++, !digits(&p, 2, &sec)))
		return false;
	static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (*p != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) || h > 23 ||
	    mi > 59 || sec > 59)
		return false;
	int64_t wall = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    sec;
	struct text_tm tm;
	text_localtime(wall, &tm);
	int64_t t = wall - tm.gmtoff;
	text_localtime(t, &tm);
	*out = wall - tm.gmtoff;
	return *out >= 0;
}

/* t as a datetime-local value in the site zone ("" for 0). */
static const char *
local_format(struct admin_req *q, int64_t t)
{
	if (t <= 0)
		return "";
	struct text_tm tm;
	text_localtime(t, &tm);
	return arena_printf(q->a, "%04d-%02d-%02dT%02d:%02d", tm.year % 10000,
	    tm.mon % 100, tm.mday % 100, tm.hour % 100, tm.min % 100);
}

/* ---- the form ---------------------------------------------------------------- */

struct form_source {
	const char *title, *url, *order;
};

/* The editor's fields as typed: shown again when a save is refused. */
struct art_form {
	int64_t id;
	int64_t base_revision;
	const char *title, *slug, *kind, *tags, *body, *format, *excerpt;
	const char *status, *date, *eyecatch, *credit;
	int64_t category_id;
	int64_t parent_id;        /* pages: the parent page, 0 for none */
	const char *menu_order;   /* pages: as typed */
	bool comments_open;
	struct form_source *src;
	size_t nsrc;
};

/* The form of a stored article (or, art NULL, of a new one). */
static void
form_from_article(struct admin_req *q, const struct store_article *art,
    int64_t revision, struct art_form *f)
{
	memset(f, 0, sizeof(*f));
	if (art == NULL) {
		f->title = f->slug = f->tags = f->body = f->excerpt = "";
		f->date = f->eyecatch = f->credit = "";
		f->menu_order = "0";
		f->kind = "post";
		f->format = "markdown";
		f->status = "draft";
		f->comments_open = true;
		return;
	}
	f->id = art->id;
	f->base_revision = revision;
	f->title = art->title;
	f->slug = art->slug;
	f->kind = kind_ui[art->kind].name;
	f->body = art->body;
	f->format = art->body_format == FORMAT_HTML ? "html" : "markdown";
	f->excerpt = art->excerpt;
	f->status = status_ui[art->status].name;
	f->date = local_format(q, art->published_at);
	f->eyecatch = art->eyecatch;
	f->credit = art->eyecatch_credit;
	f->category_id = art->category_id;
	f->parent_id = art->parent_id;
	f->menu_order = arena_printf(q->a, "%lld", (long long)art->menu_order);
	f->comments_open = art->comments_open;
	buf b;
	buf_init(&b, 1 << 20);
	for (size_t i = 0; i < art->ntags; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", art->tags[i].name);
	f->tags = arena_strdup(q->a, buf_cstr(&b));
	buf_free(&b);
	f->src = arena_alloc(q->a, (art->nsources + 1) * sizeof(*f->src));
	for (size_t i = 0; i < art->nsources; i++)
		f->src[f->nsrc++] = (struct form_source){art->sources[i].title,
		    art->sources[i].url, arena_printf(q->a, "%zu", i + 1)};
}

/* s with CRLF and lone CR turned into LF (browsers send text areas with
 * CRLF); nothing else changes: content_save checks and normalises. */
static const char *
form_lf(struct admin_req *q, const char *s)
{
	if (strchr(s, '\r') == NULL)
		return s;
	char *o = arena_strdup(q->a, s), *w = o;
	for (const char *p = s; *p; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		*w++ = *p == '\r' ? '\n' : *p;
	}
	*w = '\0';
	return o;
}

/* The posted form. The 参考 rows come as repeated src_title, src_url and
 * src_order fields, paired by position; false (a 400) when their counts
 * differ or there are more than SOURCE_ROWS_MAX. */
static bool
form_read(struct admin_req *q, struct art_form *f)
{
	memset(f, 0, sizeof(*f));
	f->id = admin_field_id(q, "id");
	f->base_revision = admin_field_id(q, "base_revision");
	f->title = admin_field(q, "title");
	f->slug = admin_field(q, "slug");
	f->kind = admin_field(q, "kind");
	f->tags = admin_field(q, "tags");
	f->body = form_lf(q, admin_field(q, "body"));
	f->format = admin_field(q, "format");
	f->excerpt = form_lf(q, admin_field(q, "excerpt"));
	f->status = admin_field(q, "status");
	f->date = admin_field(q, "date");
	f->eyecatch = admin_field(q, "eyecatch");
	f->credit = admin_field(q, "eyecatch_credit");
	f->category_id = admin_field_id(q, "category");
	f->parent_id = admin_field_id(q, "parent");
	f->menu_order = admin_field(q, "menu_order");
	f->comments_open = *admin_field(q, "comments_open") != '\0';
	const char *pick = admin_field(q, "eyecatch_pick");
	if (*pick)
		f->eyecatch = pick;
	size_t nt = 0, nu = 0, no = 0;
	f->src = arena_alloc(q->a, (SOURCE_ROWS_MAX + 1) * sizeof(*f->src));
	for (size_t i = 0; i < q->r->nform; i++) {
		const struct http_kv *kv = &q->r->form[i];
		size_t *k = strcmp(kv->name, "src_title") == 0 ? &nt :
		    strcmp(kv->name, "src_url") == 0 ? &nu :
		    strcmp(kv->name, "src_order") == 0 ? &no : NULL;
		if (k == NULL)
			continue;
		if (*k >= SOURCE_ROWS_MAX)
			return false;
		struct form_source *s = &f->src[(*k)++];
		if (k == &nt)
			s->title = kv->value;
		else if (k == &nu)
			s->url = kv->value;
		else
			s->order = kv->value;
	}
	if (nt != nu || (no != 0 && no != nt))
		return false;
	f->nsrc = nt;
	for (size_t i = 0; i < nt; i++)
		if (f->src[i].order == NULL)
			f->src[i].order = "";
	return true;
}

/* A row's place: its order number, or after every numbered row. */
struct src_rank {
	long order;
	size_t index;
};

static int
src_rank_cmp(const void *a, const void *b)
{
	const struct src_rank *x = a, *y = b;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

/* The rows that say something, in their order; blank rows are dropped
 * (emptying a row removes it). */
static void
form_sources(struct admin_req *q, const struct art_form *f,
    struct store_source **out, size_t *n)
{
	struct src_rank *r = arena_alloc(q->a, (f->nsrc + 1) * sizeof(*r));
	struct store_source *v = arena_alloc(q->a, (f->nsrc + 1) * sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < f->nsrc; i++) {
		const char *t = admin_text(q, f->src[i].title, false);
		const char *u = admin_text(q, f->src[i].url, false);
		if (t && u && *t == '\0' && *u == '\0')
			continue;
		char *end;
		long o = strtol(f->src[i].order, &end, 10);
		if (*f->src[i].order == '\0' || *end != '\0' || o < -1000000 ||
		    o > 1000000)
			o = 1000000;
		r[k++] = (struct src_rank){o, i};
	}
	qsort(r, k, sizeof(*r), src_rank_cmp);
	for (size_t i = 0; i < k; i++)
		v[i] = (struct store_source){f->src[r[i].index].title,
		    f->src[r[i].index].url};
	*out = v;
	*n = k;
}

/* Tag names from "a, b、c": split on ASCII, full-width and ideographic
 * commas, blanks dropped (content_save trims and checks each). */
static void
form_tags(struct admin_req *q, const char *s, const char ***out, size_t *n)
{
	size_t cap = 1;
	for (const char *p = s; *p; p++)
		cap += *p == ',' || (unsigned char)*p == 0xe3 ||
		    (unsigned char)*p == 0xef;
	const char **v = arena_alloc(q->a, (cap + 1) * sizeof(*v));
	size_t k = 0;
	const char *start = s;
	for (const char *p = s;; p++) {
		size_t sep = *p == ',' ? 1 : strncmp(p, "、", 3) == 0 ? 3 :
		    strncmp(p, "，", 3) == 0 ? 3 : *p == '\0' ? 1 : 0;
		if (sep == 0)
			continue;
		const char *t = admin_text(q, arena_strndup(q->a, start,
		    (size_t)(p - start)), false);
		/* kept as typed when not clean: content_save names it */
		if (t == NULL)
			t = arena_strndup(q->a, start, (size_t)(p - start));
		if (*t && k < cap)
			v[k++] = t;
		if (*p == '\0')
			break;
		p += sep - 1;
		start = p + 1;
	}
	*out = v;
	*n = k;
}

/* Why a form cannot become an input: a message, or AMSG__MAX. */
static enum admin_msg
form_input(struct admin_req *q, const struct art_form *f,
    const struct store_article *old, struct content_input *in)
{
	if (old != NULL)
		content_input_from(in, old, q->a);
	else
		memset(in, 0, sizeof(*in));
	in->id = old ? old->id : 0;
	in->base_revision = f->base_revision;
	in->kind = kind_of(f->kind);
	in->status = status_of(f->status);
	in->title = f->title;
	in->slug = f->slug;
	in->body = f->body;
	in->body_format = strcmp(f->format, "html") == 0 ? FORMAT_HTML :
	    FORMAT_MARKDOWN;
	in->excerpt = f->excerpt;
	in->category_id = f->category_id;
	/* the parent picker is on the form whatever the kind: a post has none */
	in->parent_id = in->kind == KIND_PAGE ? f->parent_id : 0;
	in->menu_order = 0;
	if (*f->menu_order) {
		char *end;
		long long o = strtoll(f->menu_order, &end, 10);
		if (*end != '\0' || o < -1000000 || o > 1000000)
			return AMSG_ORDER_BAD;
		in->menu_order = o;
	}
	in->eyecatch = f->eyecatch;
	in->eyecatch_credit = f->credit;
	in->comments_open = f->comments_open;
	in->author_id = old ? old->author_id : q->user.id;
	in->editor_id = q->user.id;
	in->now = q->r->now;
	in->guid = "";
	form_tags(q, f->tags, (const char ***)&in->tags, &in->ntags);
	struct store_source *src;
	form_sources(q, f, &src, &in->nsources);
	in->sources = src;
	in->published_at = 0;
	if (*f->date) {
		/* the stored time to the second when the minute shown is kept */
		if (old && strcmp(f->date, local_format(q, old->published_at)) == 0)
			in->published_at = old->published_at;
		else if (!local_parse(f->date, &in->published_at))
			return AMSG_DATE_BAD;
	} else if (old && old->status == STATUS_PUBLISHED &&
	    in->status == STATUS_PUBLISHED) {
		in->published_at = old->published_at;
	}
	/* Authors without the right to publish: drafts, or what an editor
	 * decided (status and date) kept as it is. */
	if (!may_publish(q) && in->status != STATUS_DRAFT) {
		if (old == NULL || old->status != in->status ||
		    (old->status != STATUS_PUBLISHED &&
		    old->status != STATUS_SCHEDULED))
			return AMSG_AUTHOR_NO_PUBLISH;
		in->published_at = old->published_at;
	}
	return AMSG__MAX;
}

/* content_save's refusal as people read it, in the admin's language. */
static const char *
content_message(struct admin_req *q, const struct content_result *res)
{
	bool item = res->field && (strcmp(res->field, "sources") == 0 ||
	    strcmp(res->field, "tags") == 0);
	if (q->lang == ALANG_EN)
		return item ? arena_printf(q->a, "%s (#%zu): %s", res->field,
		    res->item + 1, res->message_en) :
		    arena_printf(q->a, "%s: %s", res->field ? res->field : "save",
			res->message_en);
	return item ? arena_printf(q->a, "%s（%zu件目）", res->message,
	    res->item + 1) : arena_printf(q->a, "%s。", res->message);
}

/* ---- the editor page ----------------------------------------------------------- */

/* Options of a select: {v, label, selected}. */
static void
option(struct admin_req *q, tv *list, const char *v, const char *label,
    bool selected)
{
	tv *d = tv_push(list, tv_dict(q->a));
	tv_set_str(q->a, d, "v", v);
	tv_set_str(q->a, d, "label", label);
	tv_set_bool(q->a, d, "selected", selected);
}

/* Whether the picker's list v holds page id. */
static bool
page_listed(const struct store_page *v, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].id == id)
			return true;
	return false;
}

/* Adds the pages under parent (0: the top ones) to list as options,
 * each level indented, leaving out self and what hangs below it. */
static void
parent_options(struct admin_req *q, tv *list, const struct store_page *v,
    size_t n, int64_t parent, int depth, int64_t self, int64_t chosen)
{
	if (depth >= STORE_PAGE_DEPTH)
		return;
	for (size_t i = 0; i < n; i++) {
		/* the top: no parent, or one the list does not hold */
		bool top = v[i].parent_id == 0 || !page_listed(v, n,
		    v[i].parent_id);
		if (parent ? v[i].parent_id != parent : !top)
			continue;
		if (self && v[i].id == self)
			continue; /* nor anything below it: not descended into */
		buf b;
		buf_init(&b, 4096);
		for (int k = 0; k < depth; k++)
			buf_puts(&b, "— ");
		buf_puts(&b, v[i].title);
		option(q, list, arena_printf(q->a, "%lld", (long long)v[i].id),
		    arena_strdup(q->a, buf_cstr(&b)), v[i].id == chosen);
		buf_free(&b);
		parent_options(q, list, v, n, v[i].id, depth + 1, self, chosen);
	}
}

/*
 * The editor: f's values in the form; old is the stored article (NULL
 * for a new one). error (when not NULL) says why a save was refused;
 * theirs (a 409) is the version someone else saved meanwhile, shown
 * beside what this user typed.
 */
static void
edit_page(struct admin_req *q, const struct store_article *old,
    const struct art_form *f, const char *error, int status,
    const struct store_article *theirs)
{
	arena *a = q->a;
	struct store_category *cats;
	size_t ncats;
	if (store_categories(q->ad->st, a, &cats, &ncats) != STORE_OK) {
		admin_error(q, 503);
		return;
	}
	admin_view(q, admin_msg(q, old ? AMSG_EDIT_ARTICLE : AMSG_NEW_ARTICLE));
	if (error)
		tv_set_str(a, q->root, "error", error);
	tv *d = tv_set(q->root, "form", tv_dict(a));
	tv_set_int(a, d, "id", f->id);
	tv_set_int(a, d, "base_revision", f->base_revision);
	tv_set_str(a, d, "action", old ? arena_printf(a, "/admin/articles/%lld",
	    (long long)old->id) : "/admin/articles/new");
	tv_set_str(a, d, "title", f->title);
	tv_set_str(a, d, "slug", f->slug);
	tv_set_str(a, d, "tags", f->tags);
	tv_set_str(a, d, "body", f->body);
	tv_set_str(a, d, "format", strcmp(f->format, "html") == 0 ? "html" :
	    "markdown");
	tv_set_bool(a, d, "is_html", strcmp(f->format, "html") == 0);
	tv_set_str(a, d, "excerpt", f->excerpt);
	tv_set_str(a, d, "date", f->date);
	tv_set_str(a, d, "eyecatch", f->eyecatch);
	tv_set_str(a, d, "credit", f->credit);
	tv_set_bool(a, d, "comments_open", f->comments_open);
	tv_set_str(a, d, "timezone", q->conf.timezone);
	tv_set_int(a, d, "upload_max_mib", q->conf.upload_max >> 20);
	if (*f->eyecatch && html_url_safe(f->eyecatch, strlen(f->eyecatch)))
		tv_set_str(a, d, "eyecatch_img", f->eyecatch);

	tv *kinds = tv_set(d, "kinds", tv_list(a));
	for (int i = 0; i < KIND__MAX; i++)
		option(q, kinds, kind_ui[i].name, admin_msg(q, kind_ui[i].label),
		    strcmp(f->kind, kind_ui[i].name) == 0);
	tv *sts = tv_set(d, "statuses", tv_list(a));
	for (int i = 0; i < STATUS_TRASH; i++) {
		bool keep = old && old->status == (enum store_status)i;
		if (i != STATUS_DRAFT && !may_publish(q) && !keep)
			continue;
		option(q, sts, status_ui[i].name, i != STATUS_DRAFT &&
		    !may_publish(q) ? arena_printf(a, "%s %s",
			admin_msg(q, status_ui[i].label),
			admin_msg(q, AMSG_KEEP_STATUS)) :
		    admin_msg(q, status_ui[i].label),
		    strcmp(f->status, status_ui[i].name) == 0);
	}
	tv_set_bool(a, d, "may_publish", may_publish(q));
	tv *cl = tv_set(d, "categories", tv_list(a));
	for (size_t i = 0; i < ncats; i++)
		option(q, cl, arena_printf(a, "%lld", (long long)cats[i].id),
		    cats[i].name, cats[i].id == f->category_id);
	/* pages: any page but this one and those below it can be the parent */
	struct store_page *pages = NULL;
	size_t npages = 0;
	if (store_pages_all(q->ad->st, q->r->now, PARENT_PICKS, a, &pages,
	    &npages) != STORE_OK)
		npages = 0;
	parent_options(q, tv_set(d, "parents", tv_list(a)), pages, npages, 0, 0,
	    old ? old->id : 0, f->parent_id);
	tv_set_str(a, d, "menu_order", f->menu_order ? f->menu_order : "0");
	tv *rows = tv_set(d, "sources", tv_list(a));
	for (size_t i = 0; i < f->nsrc + SOURCE_ROWS_EMPTY; i++) {
		tv *r = tv_push(rows, tv_dict(a));
		bool have = i < f->nsrc;
		tv_set_str(a, r, "title", have ? f->src[i].title : "");
		tv_set_str(a, r, "url", have ? f->src[i].url : "");
		tv_set_str(a, r, "order", have && *f->src[i].order ?
		    f->src[i].order : arena_printf(a, "%zu", i + 1));
		tv_set_int(a, r, "n", (int64_t)i + 1);
	}
	tv_set(d, "picker", admin_media_recent(q, PICKER_IMAGES));

	if (old) {
		tv *o = tv_set(q->root, "article", tv_dict(a));
		tv_set_int(a, o, "id", old->id);
		tv_set_str(a, o, "status", admin_msg(q, status_ui[old->status].label));
		tv_set_bool(a, o, "trashed", old->status == STATUS_TRASH);
		tv_set_bool(a, o, "live", old->status == STATUS_PUBLISHED &&
		    old->published_at <= q->r->now);
		tv_set_str(a, o, "public_url", content_article_path(q->ad->st,
		    old, a));
		tv_set_str(a, o, "preview_url", arena_printf(a,
		    "/admin/articles/%lld/preview", (long long)old->id));
		tv_set_str(a, o, "revisions_url", arena_printf(a,
		    "/admin/articles/%lld/revisions", (long long)old->id));
		tv_set_str(a, o, "updated", admin_datetime(q, old->updated_at));
		tv_set_bool(a, o, "may_delete", admin_role_at_least(q, ROLE_EDITOR));
		admin_pings_of_article(q, o, old->id);
	}
	if (theirs) {
		tv *c = tv_set(q->root, "conflict", tv_dict(a));
		tv_set_str(a, c, "their_title", theirs->title);
		tv_set_str(a, c, "their_body", theirs->body);
		tv_set_str(a, c, "their_updated", admin_datetime(q,
		    theirs->updated_at));
		tv_set_str(a, c, "your_title", f->title);
		tv_set_str(a, c, "your_body", f->body);
		bool changed;
		tv *diff = admin_diff_view(q, theirs->body, f->body, &changed);
		tv_set_bool(a, c, "has_diff", diff != NULL && changed);
		if (diff != NULL) {
			tv_set(q->root, "diff", diff);
			tv_set_str(a, q->root, "diff_old", admin_msg(q, AMSG_THEIRS_SHORT));
			tv_set_str(a, q->root, "diff_new", admin_msg(q, AMSG_YOURS_SHORT));
		}
	}
	admin_render(q, "admin_article_edit", status);
}

/* The stored article of the route's id that this user may change; else
 * answers (404, 403, 503) and returns false. */
static bool
load_mine(struct admin_req *q, int64_t id, struct store_article *art)
{
	enum store_err e = store_article_get_any(q->ad->st, id, q->a, art);
	if (e != STORE_OK) {
		admin_error(q, e == STORE_NOTFOUND ? 404 : 503);
		return false;
	}
	if (!admin_article_mine(q, art)) {
		admin_error(q, 403);
		return false;
	}
	return true;
}

ADMIN_HANDLER(admin_page_article_new_form)
{
	struct admin_req *q = qv;
	(void)m;
	struct art_form f;
	form_from_article(q, NULL, 0, &f);
	const char *kind = admin_arg(q, "kind");
	if (kind_of(kind) != KIND__MAX)
		f.kind = kind;
	edit_page(q, NULL, &f, NULL, 200, NULL);
}

ADMIN_HANDLER(admin_page_article_edit_form)
{
	struct admin_req *q = qv;
	struct store_article art;
	int64_t rev = 0;
	if (!load_mine(q, m->num[0], &art))
		return;
	if (store_revision_latest(q->ad->st, art.id, &rev) != STORE_OK) {
		admin_error(q, 503);
		return;
	}
	struct art_form f;
	form_from_article(q, &art, rev, &f);
	edit_page(q, &art, &f, NULL, 200, NULL);
}

/* Create (old NULL) or save over old: upload, checks, content_save, and
 * the answer (303 to the editor, or the form again with why). */
static void
article_save(struct admin_req *q, const struct store_article *old)
{
	struct art_form f;
	if (!form_read(q, &f)) {
		admin_error(q, 400);
		return;
	}
	/* A new image first: its URL is then the form's, saved or not. */
	const char *url = NULL;
	enum admin_upload up = admin_upload_image(q, "eyecatch_file", &url);
	if (up == AUP_OK) {
		f.eyecatch = url;
	} else if (up != AUP_NONE) {
		edit_page(q, old, &f, admin_msg(q, admin_upload_msg(up)),
		    admin_upload_status(up), NULL);
		return;
	}
	struct content_input in;
	enum admin_msg bad = form_input(q, &f, old, &in);
	if (bad != AMSG__MAX) {
		edit_page(q, old, &f, admin_msg(q, bad),
		    bad == AMSG_AUTHOR_NO_PUBLISH ? 403 : 422, NULL);
		return;
	}
	if (in.kind == KIND__MAX || in.status == STATUS__MAX) {
		admin_error(q, 400);
		return;
	}
	struct content_result res;
	enum content_err ce = content_save(q->ad->st, &in, q->a, &res);
	switch (ce) {
	case CONTENT_OK:
		admin_changed(q);
		admin_redirect(q, arena_printf(q->a, "/admin/articles/%lld",
		    (long long)res.id), AMSG_SAVED, 0);
		return;
	case CONTENT_INVALID:
		edit_page(q, old, &f, content_message(q, &res), 422, NULL);
		return;
	case CONTENT_CONFLICT: {
		/* Never a silent overwrite: both versions, the typed one kept,
		 * the form now based on the newest revision. */
		struct store_article theirs;
		if (old == NULL || store_article_get_any(q->ad->st, old->id, q->a,
		    &theirs) != STORE_OK) {
			admin_error(q, 503);
			return;
		}
		f.base_revision = res.revision;
		edit_page(q, &theirs, &f, admin_msg(q, AMSG_CONFLICT), 409, &theirs);
		return;
	}
	case CONTENT_NOTFOUND:
		admin_error(q, 404);
		return;
	default:
		admin_error(q, 503);
		return;
	}
}

ADMIN_HANDLER(admin_page_article_create)
{
	struct admin_req *q = qv;
	(void)m;
	article_save(q, NULL);
}

ADMIN_HANDLER(admin_page_article_save)
{
	struct admin_req *q = qv;
	struct store_article old;
	if (!load_mine(q, m->num[0], &old))
		return;
	article_save(q, &old);
}

/* ---- preview ------------------------------------------------------------------ */

/* A refusal of the preview in the admin's layout, with why. */
static void
preview_refused(struct admin_req *q, int status, const char *why)
{
	admin_view(q, admin_msg(q, AMSG_PREVIEW));
	tv *e = tv_set(q->root, "failure", tv_dict(q->a));
	tv_set_int(q->a, e, "status", status);
	tv_set_str(q->a, e, "title", admin_msg(q, AMSG_PREVIEW));
	tv_set_str(q->a, e, "text", why);
	admin_render(q, "admin_error", status);
}

/* POST /admin/articles/preview: the form rendered by content_render and
 * shown through the public template; nothing is saved (an image chosen
 * in the form goes into the library, as it would on saving). */
ADMIN_HANDLER(admin_page_article_preview)
{
	struct admin_req *q = qv;
	(void)m;
	arena *a = q->a;
	struct art_form f;
	struct store_article old, art;
	const struct store_article *base = NULL;
	if (!form_read(q, &f)) {
		admin_error(q, 400);
		return;
	}
	if (f.id) {
		if (!load_mine(q, f.id, &old))
			return;
		base = &old;
	}
	const char *url = NULL;
	enum admin_upload up = admin_upload_image(q, "eyecatch_file", &url);
	if (up == AUP_OK)
		f.eyecatch = url;
	else if (up != AUP_NONE) {
		preview_refused(q, admin_upload_status(up),
		    admin_msg(q, admin_upload_msg(up)));
		return;
	}
	struct content_input in;
	enum admin_msg bad = form_input(q, &f, base, &in);
	/* a preview publishes nothing: the publishing rule waits for Save */
	if (bad != AMSG__MAX && bad != AMSG_AUTHOR_NO_PUBLISH) {
		preview_refused(q, 422, admin_msg(q, bad));
		return;
	}
	if (in.kind == KIND__MAX || in.status == STATUS__MAX) {
		admin_error(q, 400);
		return;
	}
	const char *html, *text, *excerpt;
	struct content_result res;
	if (content_render(&in, a, &html, &text, &excerpt, &res) != CONTENT_OK) {
		preview_refused(q, 422, content_message(q, &res));
		return;
	}
	memset(&art, 0, sizeof(art));
	art.id = base ? base->id : 0;
	art.kind = in.kind;
	art.title = in.title;
	art.slug = in.slug;
	art.body_html = html;
	art.body_text = text;
	art.excerpt = excerpt;
	art.status = in.status;
	art.published_at = in.published_at ? in.published_at : q->r->now;
	art.updated_at = q->r->now;
	art.author_id = in.author_id;
	art.author_name = base ? base->author_name : q->user.display_name;
	art.category_id = in.category_id;
	art.category_slug = art.category_name = "";
	struct store_category cat;
	if (in.category_id && store_category_get(q->ad->st, in.category_id, a,
	    &cat) == STORE_OK) {
		art.category_slug = cat.slug;
		art.category_name = cat.name;
	}
	art.eyecatch = in.eyecatch;
	art.eyecatch_credit = in.eyecatch_credit;
	art.comments_open = in.comments_open;
	art.sources = (struct store_source *)in.sources;
	art.nsources = in.nsources;
	art.tags = arena_alloc(a, (in.ntags + 1) * sizeof(*art.tags));
	for (size_t i = 0; i < in.ntags; i++)
		art.tags[art.ntags++] = (struct store_tag){0,
		    content_tag_slug(a, in.tags[i]), in.tags[i]};
	q->ad->hooks.preview(q->ad->hooks.ctx, &art, q->r, q->w);
}

/* GET /admin/articles/<id>/preview: a stored article (a draft, a
 * scheduled one) as readers will see it, for its author and editors. */
ADMIN_HANDLER(admin_page_article_show)
{
	struct admin_req *q = qv;
	struct store_article art;
	if (!load_mine(q, m->num[0], &art))
		return;
	q->ad->hooks.preview(q->ad->hooks.ctx, &art, q->r, q->w);
}

/* ---- trash ----------------------------------------------------------------------- */

ADMIN_HANDLER(admin_page_article_trash)
{
	struct admin_req *q = qv;
	struct store_article art;
	if (!load_mine(q, m->num[0], &art))
		return;
	if (content_trash(q->ad->st, art.id, q->r->now) != CONTENT_OK) {
		admin_error(q, 503);
		return;
	}
	admin_changed(q);
	admin_redirect(q, "/admin/articles?status=trash", AMSG_MOVED_TRASH, 0);
}

ADMIN_HANDLER(admin_page_article_restore)
{
	struct admin_req *q = qv;
	struct store_article art;
	if (!load_mine(q, m->num[0], &art))
		return;
	enum content_err ce = content_restore(q->ad->st, art.id, q->r->now);
	if (ce != CONTENT_OK && ce != CONTENT_INVALID) {
		admin_error(q, ce == CONTENT_NOTFOUND ? 404 : 503);
		return;
	}
	admin_changed(q);
	admin_redirect(q, arena_printf(q->a, "/admin/articles/%lld",
	    (long long)art.id), AMSG_RESTORED, 0);
}

/* Editors and admins only (the route says so), and only from the trash. */
ADMIN_HANDLER(admin_page_article_delete)
{
	struct admin_req *q = qv;
	enum content_err ce = content_delete(q->ad->st, m->num[0]);
	if (ce != CONTENT_OK) {
		admin_error(q, ce == CONTENT_NOTFOUND ? 404 :
		    ce == CONTENT_INVALID ? 409 : 503);
		return;
	}
	admin_changed(q);
	admin_redirect(q, "/admin/articles?status=trash", AMSG_DELETED, 0);
}

/* ---- the list ----------------------------------------------------------------------- */

/* Appends "&name=value" (or "?name=value" first) to b when value is set. */
static void
query_add(buf *b, const char *name, const char *value)
{
	if (value == NULL || *value == '\0')
		return;
	buf_printf(b, "%c%s=", strchr(buf_cstr(b), '?') ? '&' : '?', name);
	http_url_encode(b, value, strlen(value));
}

ADMIN_HANDLER(admin_page_articles)
{
	struct admin_req *q = qv;
	(void)m;
	arena *a = q->a;
	int64_t page = admin_page_arg(q);
	const char *st_arg = admin_arg(q, "status");
	const char *kind_arg = admin_arg(q, "kind");
	const char *text = admin_text(q, admin_arg(q, "q"), false);
	struct store_article_query f = {
		.status = *st_arg ? status_of(st_arg) : STATUS__MAX,
		.kind = *kind_arg ? kind_of(kind_arg) : KIND__MAX,
		.category_id = admin_arg_id(q, "category"),
		.author_id = admin_arg_id(q, "author"),
		.text = text,
	};
	if (page == 0 || (*st_arg && f.status == STATUS__MAX) ||
	    (*kind_arg && f.kind == KIND__MAX) || text == NULL ||
	    strlen(text) > SEARCH_MAX) {
		admin_error(q, page == 0 ? 404 : 400);
		return;
	}
	/* authors see their own articles only */
	bool editor = admin_role_at_least(q, ROLE_EDITOR);
	if (!editor)
		f.author_id = q->user.id;
	struct store_article *list;
	size_t n;
	int64_t total;
	struct store_category *cats;
	size_t ncats;
	struct store_user *users = NULL;
	size_t nusers = 0;
	if (store_articles_admin(q->ad->st, &f, (page - 1) * ARTICLES_PAGE,
	    ARTICLES_PAGE, a, &list, &n, &total) != STORE_OK ||
	    store_categories(q->ad->st, a, &cats, &ncats) != STORE_OK ||
	    (editor && store_user_list(q->ad->st, a, &users, &nusers) !=
	    STORE_OK)) {
		admin_error(q, 503);
		return;
	}
	int64_t pages = (total + ARTICLES_PAGE - 1) / ARTICLES_PAGE;
	if (page > 1 && page > pages) {
		admin_error(q, 404);
		return;
	}
	admin_view(q, admin_msg(q, AMSG_ARTICLES));

	/* the filter form, holding the current choices */
	tv *fl = tv_set(q->root, "filter", tv_dict(a));
	tv_set_str(a, fl, "q", text);
	tv *sts = tv_set(fl, "statuses", tv_list(a));
	for (int i = 0; i < STATUS__MAX; i++)
		option(q, sts, status_ui[i].name, admin_msg(q, status_ui[i].label),
		    f.status == (enum store_status)i);
	tv *kinds = tv_set(fl, "kinds", tv_list(a));
	for (int i = 0; i < KIND__MAX; i++)
		option(q, kinds, kind_ui[i].name, admin_msg(q, kind_ui[i].label),
		    f.kind == (enum store_kind)i);
	tv *cl = tv_set(fl, "categories", tv_list(a));
	for (size_t i = 0; i < ncats; i++)
		option(q, cl, arena_printf(a, "%lld", (long long)cats[i].id),
		    cats[i].name, cats[i].id == f.category_id);
	if (editor) {
		tv *ul = tv_set(fl, "authors", tv_list(a));
		for (size_t i = 0; i < nusers; i++)
			option(q, ul, arena_printf(a, "%lld", (long long)users[i].id),
			    users[i].display_name, users[i].id == f.author_id);
	}
	tv_set_bool(a, fl, "trash", f.status == STATUS_TRASH);

	tv *rows = tv_set(q->root, "articles", tv_list(a));
	for (size_t i = 0; i < n; i++) {
		const struct store_article *art = &list[i];
		tv *d = tv_push(rows, tv_dict(a));
		tv_set_int(a, d, "id", art->id);
		tv_set_str(a, d, "title", art->title);
		tv_set_str(a, d, "edit_url", arena_printf(a, "/admin/articles/%lld",
		    (long long)art->id));
		tv_set_str(a, d, "status", admin_msg(q, status_ui[art->status].label));
		tv_set_str(a, d, "status_name", status_ui[art->status].name);
		tv_set_str(a, d, "kind", admin_msg(q, kind_ui[art->kind].label));
		tv_set_str(a, d, "category", art->category_name);
		tv_set_str(a, d, "author", art->author_name);
		tv_set_str(a, d, "date", admin_datetime(q, art->published_at ?
		    art->published_at : art->updated_at));
		tv_set_bool(a, d, "trashed", art->status == STATUS_TRASH);
		tv_set_bool(a, d, "live", art->status == STATUS_PUBLISHED &&
		    art->published_at <= q->r->now);
		tv_set_str(a, d, "public_url", content_article_path(q->ad->st,
		    art, a));
	}
	tv_set_bool(a, q->root, "empty", n == 0);
	tv_set_bool(a, q->root, "may_delete", editor);
	tv_set_int(a, q->root, "total", total);

	buf b;
	buf_init(&b, 4096);
	buf_puts(&b, "/admin/articles");
	query_add(&b, "status", st_arg);
	query_add(&b, "kind", kind_arg);
	query_add(&b, "category", f.category_id ? arena_printf(a, "%lld",
	    (long long)f.category_id) : NULL);
	query_add(&b, "author", editor && f.author_id ? arena_printf(a, "%lld",
	    (long long)f.author_id) : NULL);
	query_add(&b, "q", text);
	admin_pager(q, arena_strdup(a, buf_cstr(&b)), page, pages);
	buf_free(&b);
	admin_render(q, "admin_articles", 200);
}
