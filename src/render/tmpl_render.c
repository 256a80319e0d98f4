/*
 * Template renderer: runs a compiled template's ops (tmpl_int.h) over a
 * tree of values, each value escaped the way the compiler decided for its
 * place. No allocation but the output buffer's growth; bounded in depth
 * and steps so that a theme bug cannot hang a worker.
 */
#include "tmpl_int.h"

#include <string.h>

/* ---- renderer ----------------------------------------------------------- */

struct tr {
	const tmpl_set *set;
	buf *out;
	const tv *stack[TMPL_STACK_MAX]; /* sections' values, innermost last */
	size_t depth;
	unsigned partials;
	uint32_t steps; /* ops run so far, against TMPL_STEPS_MAX */
	bool overflow;  /* too deep or too long: output is incomplete */
};

/* Decimal without printf: renders are hot and integers are common. */
static void
tw_int(buf *out, int64_t v)
{
	char d[24];
	size_t k = sizeof(d);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		d[--k] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		d[--k] = '-';
	buf_put(out, d + k, sizeof(d) - k);
}

/* Integers and booleans need no escaping in any context; false if v is
 * neither. */
static bool
tw_scalar(buf *out, const tv *v)
{
	switch (tv_kind_of(v)) {
	case TV_INT:
		tw_int(out, tv_int_of(v));
		return true;
	case TV_BOOL:
		buf_puts(out, tv_int_of(v) ? "true" : "false");
		return true;
	default:
		return false;
	}
}

/* The writers below turn one value into bytes for one context; lists,
 * dicts and missing values write nothing (JSON writes null). */
static void
tw_text(buf *out, const tv *v)
{
	size_t n;
	const char *s = tv_str_of(v, &n);

	if (s)
		html_text(out, s, n);
	else
		tw_scalar(out, v);
}

static void
tw_raw(buf *out, const tv *v)
{
	size_t n;
	const char *s = tv_str_of(v, &n);

	if (s && tv_is_trusted(v))
		html_raw_trusted(out, s, n);
	else
		tw_text(out, v);
}

static void
tw_attr(buf *out, const tv *v)
{
	size_t n;
	const char *s = tv_str_of(v, &n);

	if (s)
		html_attr(out, s, n);
	else
		tw_scalar(out, v);
}

static void
tw_url(buf *out, const tv *v)
{
	size_t n;
	const char *s = tv_str_of(v, &n);

	if (s)
		html_url(out, s, n);
	else
		tw_scalar(out, v);
}

static void
tw_json_depth(buf *out, const tv *v, unsigned depth)
{
	size_t n;
	const char *s = tv_str_of(v, &n);
	enum tv_kind k = tv_kind_of(v);

	if (s) {
		html_json_string(out, s, n);
	} else if (tw_scalar(out, v)) {
		/* written */
	} else if (depth >= TMPL_JSON_DEPTH || (k != TV_LIST && k != TV_DICT)) {
		buf_puts(out, "null");
	} else {
		buf_putc(out, k == TV_LIST ? '[' : '{');
		for (size_t i = 0; i < tv_len(v); i++) {
			if (i)
				buf_putc(out, ',');
			if (k == TV_DICT) {
				const char *key = tv_key_at(v, i);
				html_json_string(out, key, strlen(key));
				buf_putc(out, ':');
			}
			tw_json_depth(out, tv_at(v, i), depth + 1);
		}
		buf_putc(out, k == TV_LIST ? ']' : '}');
	}
}

static void
tw_json(buf *out, const tv *v)
{
	tw_json_depth(out, v, 0);
}

static void
tw_xml(buf *out, const tv *v)
{
	size_t n;
	const char *s = tv_str_of(v, &n);

	if (s)
		xml_text(out, s, n);
	else
		tw_scalar(out, v);
}

static void
tw_xml_url(buf *out, const tv *v)
{
	size_t n;
	const char *s = tv_str_of(v, &n);

	if (s == NULL)
		tw_scalar(out, v);
	else if (html_url_safe(s, n))
		xml_text(out, s, n);
	else
		buf_putc(out, '#');
}

/* The writer of each value op (NULL: not a value op). */
static void (*const tr_writers[TOP__MAX])(buf *, const tv *) = {
	[TOP_TEXT] = tw_text,
	[TOP_RAW] = tw_raw,
	[TOP_ATTR] = tw_attr,
	[TOP_URL] = tw_url,
	[TOP_JSON] = tw_json,
	[TOP_XML] = tw_xml,
	[TOP_XML_URL] = tw_xml_url,
};

/* Mustache lookup: the first part from the innermost section outwards, the
 * rest strictly inside what it found. */
static const tv *
tr_lookup(const struct tr *r, const struct tname *nm)
{
	const tv *v = NULL;

	if (nm->nseg == 0)
		return r->depth ? r->stack[r->depth - 1] : NULL;
	for (size_t i = r->depth; i-- > 0;)
		if ((v = tv_get_h(r->stack[i], nm->seg[0], nm->hash[0])) != NULL)
			break;
	for (unsigned k = 1; v && k < nm->nseg; k++)
		v = tv_get_h(v, nm->seg[k], nm->hash[k]);
	return v;
}

static void tr_run(struct tr *r, const struct tmpl *t, size_t from, size_t to);

/* Runs a section body once with v as the innermost name scope. */
static void
tr_body(struct tr *r, const struct tmpl *t, size_t from, size_t to,
    const tv *v)
{
	if (r->depth == TMPL_STACK_MAX) {
		r->overflow = true;
		return;
	}
	r->stack[r->depth++] = v;
	tr_run(r, t, from, to);
	r->depth--;
}

/* Executes ops [from, to) of t. */
static void
tr_run(struct tr *r, const struct tmpl *t, size_t from, size_t to)
{
	for (size_t i = from; i < to && !r->out->err && !r->overflow; i++) {
		const struct top *op = &t->ops[i];
		const tv *v;
		if (++r->steps > TMPL_STEPS_MAX) {
			r->overflow = true;
			break;
		}
		switch (op->code) {
		case TOP_LIT:
			buf_put(r->out, t->src + op->a, op->b);
			break;
		case TOP_SECTION:
			v = tr_lookup(r, &t->names[op->a]);
			if (tv_kind_of(v) == TV_LIST) {
				size_t len = tv_len(v);
				for (size_t k = 0; k < len && !r->out->err; k++)
					tr_body(r, t, i + 1, op->b,
					    tv_at(v, k));
			} else if (tv_truthy(v)) {
				tr_body(r, t, i + 1, op->b, v);
			}
			i = op->b - 1;
			break;
		case TOP_INVERTED:
			v = tr_lookup(r, &t->names[op->a]);
			if (!tv_truthy(v))
				tr_run(r, t, i + 1, op->b);
			i = op->b - 1;
			break;
		case TOP_PARTIAL:
			if (op->b == UINT32_MAX)
				break;
			if (r->partials == TMPL_PARTIAL_DEPTH) {
				r->overflow = true;
				break;
			}
			r->partials++;
			tr_run(r, &r->set->t[op->b], 0, r->set->t[op->b].nops);
			r->partials--;
			break;
		default:
			v = tr_lookup(r, &t->names[op->a]);
			tr_writers[op->code](r->out, v);
			break;
		}
	}
}

/* Renders name with root as the outermost scope into out. */
static bool
tmpl_run(const tmpl_set *set, const char *name, const tv *root,
    const tv *inner, buf *out)
{
	const struct tmpl *t = tmpl_find(set, name);
	struct tr r;

	if (t == NULL)
		return false;
	r.set = set;
	r.out = out;
	r.stack[0] = root;
	r.depth = 1;
	if (inner != NULL)
		r.stack[r.depth++] = inner;
	r.partials = 0;
	r.steps = 0;
	r.overflow = false;
	tr_run(&r, t, 0, t->nops);
	return !out->err && !r.overflow;
}

bool
tmpl_render(const tmpl_set *set, const char *name, const tv *root, buf *out)
{
	return tmpl_run(set, name, root, NULL, out);
}

bool
tmpl_render_in(const tmpl_set *set, const char *name, const tv *root,
    const tv *inner, buf *out)
{
	return tmpl_run(set, name, root, inner, out);
}
