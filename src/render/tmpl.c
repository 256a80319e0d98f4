/*
 * Template engine: mustache-like syntax, compiled once into a flat op
 * array, rendered with no allocation but the output buffer's growth.
 *
 * Written by hand because no Debian library does this in C: mustach and
 * the other C mustache libraries escape every value one way (or not at
 * all) and decide nothing at compile time; the context-aware auto-escaping
 * engines (Go's html/template, Closure, ctemplate's auto-escape mode) are
 * not C or not packaged. Safety here comes from one idea: a small HTML
 * tokenizer runs over the template's literal text while it compiles, so
 * each {{value}} knows whether it stands in text, a quoted attribute, a
 * URL, a <script> body or XML, and every place where no escaping can be
 * right (unquoted attributes, <style>, event handlers, tag and attribute
 * names, comments) is a compile error naming file and line.
 */

#include "tmpl_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the HTML tokenizer that decides contexts --------------------------- */

/* Where the tokenizer stands in the literal HTML (after the HTML5 spec's
 * tokenizer states, merged where the difference cannot matter here). */
enum hs_state {
	HS_TEXT,         /* between tags */
	HS_RAW,          /* body of script, style, title or textarea (raw) */
	HS_TAG_OPEN,     /* just after '<' */
	HS_END_OPEN,     /* just after "</" */
	HS_TAG_NAME,     /* in a tag's name */
	HS_BEFORE_ATTR,  /* in a tag, between attributes */
	HS_ATTR_NAME,    /* in an attribute name */
	HS_AFTER_ATTR,   /* after an attribute name: '=' may follow */
	HS_BEFORE_VALUE, /* after '=' */
	HS_VALUE_DQ,     /* in a "..." value */
	HS_VALUE_SQ,     /* in a '...' value */
	HS_VALUE_UNQ,    /* in an unquoted value */
	HS_COMMENT,      /* <!-- ... --> */
	HS_DECL,         /* <!DOCTYPE>, <?...>, bogus comments: up to '>' */
	HS_CDATA,        /* XML <![CDATA[ ... ]]> */
	HS__MAX
};

/* Which raw-text element HS_RAW is in. */
enum hs_raw {
	HR_SCRIPT, /* values become JSON */
	HR_STYLE,  /* values refused: no CSS escaping is safe enough */
	HR_RCDATA, /* title, textarea: no tags, values as text */
	HR__MAX
};

/* What an attribute's value holds, from its name. */
enum hs_attr {
	HA_PLAIN, /* ordinary text */
	HA_URL,   /* a URL: the scheme must be checked */
	HA_BAD,   /* script, CSS, HTML or URL lists: values refused */
	HA__MAX
};

/* How far the literal part of a URL value has fixed its scheme. */
enum hs_url {
	HU_START, /* nothing yet: a value here is scheme-checked */
	HU_LIT,   /* literal bytes, no ':' '/' '?' '#' yet */
	HU_DYN,   /* a checked value, nothing fixing yet */
	HU_FIXED, /* scheme settled: values are plain attribute text */
	HU__MAX
};

/* Enough of JavaScript's lexical grammar to refuse values in strings. */
enum hs_js {
	HJ_CODE,  /* a value is allowed here */
	HJ_DQ,    /* "..." */
	HJ_SQ,    /* '...' */
	HJ_BT,    /* `...` (where ${} would run a value) */
	HJ_LINE,  /* // comment */
	HJ_BLOCK, /* comment */
	HJ__MAX
};

struct hs {
	enum hs_state st;
	enum hs_raw raw;   /* HS_RAW */
	enum hs_attr attr; /* HS_VALUE_* */
	enum hs_url url;   /* HS_VALUE_* of an HA_URL attribute */
	enum hs_js js;     /* HS_RAW of a script */
	bool jsesc;        /* a backslash inside a JS string */
	bool end;          /* the tag is an end tag */
	bool cut;          /* a {{tag}} came right after a tag/attr name */
	uint8_t taglen, attrlen;
	char tag[12];   /* lower-cased; taglen > sizeof: too long to matter */
	char aname[24]; /* lower-cased attribute name */
};

/* ASCII-only classes: templates are parsed byte by byte, locale-free. */
static bool
hs_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool
hs_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static char
hs_lower(unsigned char c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
}

/* True when s[0, n) starts with lit, ignoring ASCII case. */
static bool
hs_starts(const char *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);
	return n >= k && strncasecmp(s, lit, k) == 0;
}

/* Same bounded name (a length past the buffer compares only the buffer). */
static bool
hs_name_eq(const char *a, uint8_t alen, const char *b, uint8_t blen, size_t cap)
{
	return alen == blen && memcmp(a, b, alen < cap ? alen : cap) == 0;
}

static bool
hs_tag_is(const struct hs *h, const char *name)
{
	return h->taglen == strlen(name) &&
	    memcmp(h->tag, name, h->taglen) == 0;
}

/* Appends to a bounded name; past the buffer the length says "too long". */
static void
hs_name_add(char *name, uint8_t *len, size_t cap, unsigned char c)
{
	if (*len < cap)
		name[*len] = hs_lower(c);
	if (*len <= cap)
		(*len)++;
}

/* Attribute names whose value is a URL (HTML, SVG and old IE ones). */
static const char *const hs_url_attrs[] = {
	"href", "src", "action", "formaction", "poster", "cite", "data",
	"background", "longdesc", "usemap", "manifest", "icon", "codebase",
	"classid", "archive", "profile", "lowsrc", "dynsrc", "ping",
	"xlink:href", "xml:base", NULL
};

/* Attributes whose value no escaping makes safe: CSS, HTML, URL lists,
 * and the SVG animation attributes that can set an href. */
static const char *const hs_bad_attrs[] = {
	"style", "srcdoc", "srcset", "imagesrcset", NULL
};
static const char *const hs_anim_attrs[] = {
	"values", "to", "from", "by", "attributename", NULL
};

static bool
hs_in(const char *const *list, const char *s, size_t n)
{
	for (; *list; list++)
		if (strlen(*list) == n && memcmp(*list, s, n) == 0)
			return true;
	return false;
}

/* Classifies the attribute just named, for the value that follows. */
static enum hs_attr
hs_classify(const struct hs *h)
{
	size_t n = h->attrlen;

	if (n >= 2 && h->aname[0] == 'o' && h->aname[1] == 'n')
		return HA_BAD; /* event handlers: JavaScript */
	if (n > sizeof(h->aname))
		return HA_PLAIN;
	if (hs_in(hs_bad_attrs, h->aname, n))
		return HA_BAD;
	if ((hs_tag_is(h, "animate") || hs_tag_is(h, "set")) &&
	    hs_in(hs_anim_attrs, h->aname, n))
		return HA_BAD;
	if (hs_in(hs_url_attrs, h->aname, n))
		return HA_URL;
	return HA_PLAIN;
}

/* '>' of a tag: a start script/style/title/textarea opens raw text. */
static void
hs_tag_end(struct hs *h, bool xml)
{
	h->st = HS_TEXT;
	if (h->end || xml)
		return;
	if (hs_tag_is(h, "script")) {
		h->st = HS_RAW;
		h->raw = HR_SCRIPT;
		h->js = HJ_CODE;
		h->jsesc = false;
	} else if (hs_tag_is(h, "style")) {
		h->st = HS_RAW;
		h->raw = HR_STYLE;
	} else if (hs_tag_is(h, "title") || hs_tag_is(h, "textarea")) {
		h->st = HS_RAW;
		h->raw = HR_RCDATA;
	}
}

/* One byte of a URL attribute's literal text: ':' '/' '?' '#' fix the
 * scheme, but a ':' right after a value would let the value pick it. */
static const char *
hs_url_byte(struct hs *h, unsigned char c)
{
	if (c == '/' || c == '?' || c == '#' || c == '\\') {
		h->url = HU_FIXED;
	} else if (c == ':') {
		if (h->url == HU_DYN)
			return "':' after a value in a URL attribute would let "
			       "the value choose the scheme";
		h->url = HU_FIXED;
	} else if (h->url == HU_START && c > 0x20) {
		h->url = HU_LIT;
	}
	return NULL;
}

/* Byte s[i] of a script body: tracks strings and comments so that a
 * value can be refused inside them; moves *pi past two-byte comment marks. */
static void
hs_js_byte(struct hs *h, const char *s, size_t n, size_t i, size_t *pi)
{
	char c = s[i];

	switch (h->js) {
	case HJ_CODE:
		if (c == '"')
			h->js = HJ_DQ;
		else if (c == '\'')
			h->js = HJ_SQ;
		else if (c == '`')
			h->js = HJ_BT;
		else if (c == '/' && i + 1 < n && s[i + 1] == '/')
			h->js = HJ_LINE, *pi = i + 2;
		else if (c == '/' && i + 1 < n && s[i + 1] == '*')
			h->js = HJ_BLOCK, *pi = i + 2;
		break;
	case HJ_DQ:
	case HJ_SQ:
	case HJ_BT:
		if (h->jsesc)
			h->jsesc = false;
		else if (c == '\\')
			h->jsesc = true;
		else if ((h->js == HJ_DQ && c == '"') ||
		    (h->js == HJ_SQ && c == '\'') ||
		    (h->js == HJ_BT && c == '`'))
			h->js = HJ_CODE;
		break;
	case HJ_LINE:
		if (c == '\n')
			h->js = HJ_CODE;
		break;
	case HJ_BLOCK:
		if (c == '*' && i + 1 < n && s[i + 1] == '/')
			h->js = HJ_CODE, *pi = i + 2;
		break;
	default:
		break;
	}
}

/* In raw text: does "</name" followed by a delimiter start at s? */
static bool
hs_raw_end(const struct hs *h, const char *s, size_t n)
{
	size_t k = h->taglen;

	if (n < k + 3 || s[1] != '/' || strncasecmp(s + 2, h->tag, k) != 0)
		return false;
	unsigned char c = (unsigned char)s[k + 2];
	return hs_space(c) || c == '/' || c == '>';
}

/* A {{tag}} in raw text right after "<", "</" or "</scr": the browser
 * might see an end tag there that the compiler does not. */
static bool
hs_raw_cut(const struct hs *h, const char *s, size_t i)
{
	size_t max = (size_t)h->taglen + 2;

	for (size_t back = 1; back <= max && back <= i; back++) {
		size_t k = i - back, m = back - 1; /* bytes after the '<' */
		if (s[k] != '<')
			continue;
		if (m == 0)
			return true;
		if (s[k + 1] == '/' &&
		    strncasecmp(s + k + 2, h->tag, m - 1) == 0)
			return true;
	}
	return false;
}

/* Feeds the byte at *pi (and any it looks ahead over) to the tokenizer;
 * advances *pi. Returns an error message, or NULL. */
static const char *
hs_feed(struct hs *h, const char *s, size_t n, size_t *pi, bool xml)
{
	size_t i = *pi;
	unsigned char c = (unsigned char)s[i];
	bool cut = h->cut;

	h->cut = false;
	*pi = i + 1;
	switch (h->st) {
	case HS_TEXT:
		if (c == '<')
			h->st = HS_TAG_OPEN;
		break;
	case HS_TAG_OPEN:
		if (hs_alpha(c)) {
			h->st = HS_TAG_NAME;
			h->end = false;
			h->taglen = 0;
			hs_name_add(h->tag, &h->taglen, sizeof(h->tag), c);
		} else if (c == '/') {
			h->st = HS_END_OPEN;
		} else if (c == '!' && hs_starts(s + i, n - i, "!--")) {
			h->st = HS_COMMENT;
			*pi = i + 3;
			/* "<!-->" and "<!--->" are complete comments */
			if (hs_starts(s + i + 3, n - i - 3, ">"))
				h->st = HS_TEXT, *pi = i + 4;
			else if (hs_starts(s + i + 3, n - i - 3, "->"))
				h->st = HS_TEXT, *pi = i + 5;
		} else if (c == '!' && xml &&
		    hs_starts(s + i, n - i, "![CDATA[")) {
			h->st = HS_CDATA;
			*pi = i + 8;
		} else if (c == '!' || c == '?') {
			h->st = HS_DECL;
		} else {
			h->st = HS_TEXT; /* a lone '<' is text: look again */
			*pi = i;
		}
		break;
	case HS_END_OPEN:
		if (hs_alpha(c)) {
			h->st = HS_TAG_NAME;
			h->end = true;
			h->taglen = 0;
			hs_name_add(h->tag, &h->taglen, sizeof(h->tag), c);
		} else {
			h->st = c == '>' ? HS_TEXT : HS_DECL;
		}
		break;
	case HS_TAG_NAME:
		if (hs_space(c) || c == '/')
			h->st = HS_BEFORE_ATTR;
		else if (c == '>')
			hs_tag_end(h, xml);
		else if (cut)
			return "a {{tag}} splits a tag name";
		else
			hs_name_add(h->tag, &h->taglen, sizeof(h->tag), c);
		break;
	case HS_BEFORE_ATTR:
		if (hs_space(c) || c == '/')
			break;
		if (c == '>') {
			hs_tag_end(h, xml);
			break;
		}
		if (cut)
			return "a {{tag}} splits a tag or attribute name";
		if (c == '=')
			return "'=' without an attribute name";
		h->st = HS_ATTR_NAME;
		h->attrlen = 0;
		hs_name_add(h->aname, &h->attrlen, sizeof(h->aname), c);
		break;
	case HS_ATTR_NAME:
	case HS_AFTER_ATTR:
		if (hs_space(c)) {
			h->st = HS_AFTER_ATTR;
		} else if (c == '/') {
			h->st = HS_BEFORE_ATTR;
		} else if (c == '=') {
			h->st = HS_BEFORE_VALUE;
		} else if (c == '>') {
			hs_tag_end(h, xml);
		} else if (cut) {
			return "a {{tag}} splits an attribute name";
		} else {
			if (h->st == HS_AFTER_ATTR)
				h->attrlen = 0;
			h->st = HS_ATTR_NAME;
			hs_name_add(h->aname, &h->attrlen, sizeof(h->aname), c);
		}
		break;
	case HS_BEFORE_VALUE:
		if (hs_space(c))
			break;
		if (c == '>') {
			hs_tag_end(h, xml);
			break;
		}
		h->attr = hs_classify(h);
		h->url = HU_START;
		if (c == '"')
			h->st = HS_VALUE_DQ;
		else if (c == '\'')
			h->st = HS_VALUE_SQ;
		else
			h->st = HS_VALUE_UNQ;
		break;
	case HS_VALUE_DQ:
	case HS_VALUE_SQ:
		if (c == (h->st == HS_VALUE_DQ ? '"' : '\''))
			h->st = HS_BEFORE_ATTR;
		else if (h->attr == HA_URL)
			return hs_url_byte(h, c);
		break;
	case HS_VALUE_UNQ:
		if (hs_space(c))
			h->st = HS_BEFORE_ATTR;
		else if (c == '>')
			hs_tag_end(h, xml);
		break;
	case HS_COMMENT:
		if (hs_starts(s + i, n - i, "-->"))
			h->st = HS_TEXT, *pi = i + 3;
		else if (hs_starts(s + i, n - i, "--!>"))
			h->st = HS_TEXT, *pi = i + 4;
		break;
	case HS_DECL:
		if (c == '>')
			h->st = HS_TEXT;
		break;
	case HS_CDATA:
		if (hs_starts(s + i, n - i, "]]>"))
			h->st = HS_TEXT, *pi = i + 3;
		break;
	case HS_RAW:
		if (c == '<' && hs_raw_end(h, s + i, n - i)) {
			h->st = HS_TAG_NAME;
			h->end = true;
			*pi = i + 2 + h->taglen;
		} else if (h->raw == HR_SCRIPT) {
			hs_js_byte(h, s, n, i, pi);
		}
		break;
	default:
		break;
	}
	return NULL;
}

/* A {{tag}} ends a tag or attribute name being read: the name is complete,
 * and the byte after the tag must not continue it (h->cut). */
static void
hs_cut(struct hs *h)
{
	if (h->st == HS_TAG_NAME) {
		h->st = HS_BEFORE_ATTR;
		h->cut = true;
	} else if (h->st == HS_ATTR_NAME) {
		h->st = HS_AFTER_ATTR;
		h->cut = true;
	}
}

/* Whether two tokenizer states are the same context for what follows:
 * a section's body must end where it began, since it may run 0..n times. */
static bool
hs_same(const struct hs *a, const struct hs *b)
{
	enum hs_state sa = a->st == HS_AFTER_ATTR ? HS_BEFORE_ATTR : a->st;
	enum hs_state sb = b->st == HS_AFTER_ATTR ? HS_BEFORE_ATTR : b->st;
	bool same_tag = hs_name_eq(a->tag, a->taglen, b->tag, b->taglen,
	    sizeof(a->tag));

	if (sa != sb)
		return false;
	switch (sa) {
	case HS_RAW:
		return a->raw == b->raw && same_tag &&
		    (a->raw != HR_SCRIPT ||
			(a->js == b->js && a->jsesc == b->jsesc));
	case HS_BEFORE_ATTR:
		return a->end == b->end && same_tag;
	case HS_VALUE_DQ:
	case HS_VALUE_SQ:
		return a->attr == b->attr && a->url == b->url && same_tag &&
		    hs_name_eq(a->aname, a->attrlen, b->aname, b->attrlen,
			sizeof(a->aname));
	default:
		return true;
	}
}

/* ---- compiler ----------------------------------------------------------- */

/* Kinds of {{tag}}. */
enum tc_kind {
	TK_VALUE,    /* {{x}} */
	TK_TRIPLE,   /* {{{x}}} */
	TK_SECTION,  /* {{#x}} */
	TK_INVERTED, /* {{^x}} */
	TK_CLOSE,    /* {{/x}} */
	TK_PARTIAL,  /* {{>x}} */
	TK_COMMENT,  /* {{!x}} */
	TK__MAX
};

struct tc_open {
	uint32_t op;       /* the TOP_SECTION/TOP_INVERTED op */
	size_t nb, ne;     /* its name in src */
	size_t pos;        /* its {{ in src, for messages */
	struct hs start;   /* tokenizer state where its body began */
};

struct tc {
	struct tmpl *t;
	const char *file; /* for messages */
	buf *err;
	struct hs h;
	struct tc_open open[TMPL_SECTION_DEPTH];
	size_t nopen;
};

/* Writes "file:line: msg" for the byte at pos; returns false. */
static bool
tc_fail(struct tc *c, size_t pos, const char *msg)
{
	size_t line = 1;

	for (size_t i = 0; i < pos && i < c->t->len; i++)
		line += c->t->src[i] == '\n';
	if (c->err) {
		buf_reset(c->err);
		buf_printf(c->err, "%s:%zu: %s", c->file, line, msg);
	}
	return false;
}

/* Appends one op; returns its index. */
static uint32_t
tc_op(struct tmpl *t, enum tmpl_opcode code, uint32_t a, uint32_t b)
{
	if (t->nops == t->capops) {
		t->capops = t->capops ? t->capops * 2 : 32;
		t->ops = xrealloc(t->ops, t->capops * sizeof(*t->ops));
	}
	t->ops[t->nops] = (struct top){code, a, b};
	return (uint32_t)t->nops++;
}

static bool
tc_name_byte(unsigned char c)
{
	return hs_alpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Splits and stores a name ("a.b.c", ".", or a partial's name); returns
 * its index or UINT32_MAX with *msg set. */
static uint32_t
tc_name(struct tmpl *t, const char *s, size_t n, bool dotted, const char **msg)
{
	struct tname nm = {0};

	if (n == 0 || n > TMPL_NAME_MAX) {
		*msg = n ? "name too long" : "empty name";
		return UINT32_MAX;
	}
	if (!(dotted && n == 1 && s[0] == '.')) {
		size_t seglen = 0;
		for (size_t i = 0; i <= n; i++) {
			if (i < n && tc_name_byte((unsigned char)s[i])) {
				seglen++;
				continue;
			}
			if (i < n && (!dotted || s[i] != '.')) {
				*msg = "bad character in name (use letters, "
				       "digits, _ - and .)";
				return UINT32_MAX;
			}
			if (seglen == 0) {
				*msg = "empty part in dotted name";
				return UINT32_MAX;
			}
			if (++nm.nseg > TMPL_NAME_SEGS) {
				*msg = "too many parts in dotted name";
				return UINT32_MAX;
			}
			seglen = 0;
		}
		nm.pool = xmalloc(n + 1);
		memcpy(nm.pool, s, n);
		nm.pool[n] = '\0';
		unsigned k = 0;
		nm.seg[k++] = nm.pool;
		for (size_t i = 0; i < n; i++)
			if (nm.pool[i] == '.') {
				nm.pool[i] = '\0';
				nm.seg[k++] = nm.pool + i + 1;
			}
		for (k = 0; k < nm.nseg; k++)
			nm.hash[k] = tv_keyhash(nm.seg[k]);
	}
	if (t->nnames == t->capnames) {
		t->capnames = t->capnames ? t->capnames * 2 : 16;
		t->names = xrealloc(t->names, t->capnames * sizeof(*t->names));
	}
	t->names[t->nnames] = nm;
	return (uint32_t)t->nnames++;
}

/* Reads the {{tag}} at s[i]: its kind, its trimmed name [*nb, *ne) and the
 * index just past it. Returns an error message or NULL. */
static const char *
tc_tag(const char *s, size_t n, size_t i, enum tc_kind *kind, size_t *nb,
    size_t *ne, size_t *end)
{
	bool triple = i + 2 < n && s[i + 2] == '{';
	const char *close = triple ? "}}}" : "}}";
	size_t clen = triple ? 3 : 2, b = i + clen, e;
	const char *p = NULL;

	if (b <= n)
		p = memmem(s + b, n - b, close, clen);
	if (p == NULL)
		return "unterminated {{";
	e = (size_t)(p - s);
	*end = e + clen;
	while (b < e && hs_space((unsigned char)s[b]))
		b++;
	*kind = TK_VALUE;
	if (triple) {
		*kind = TK_TRIPLE;
	} else if (b < e) {
		switch (s[b]) {
		case '#': *kind = TK_SECTION; b++; break;
		case '^': *kind = TK_INVERTED; b++; break;
		case '/': *kind = TK_CLOSE; b++; break;
		case '>': *kind = TK_PARTIAL; b++; break;
		case '!': *kind = TK_COMMENT; b++; break;
		case '&':
			return "{{&x}} is not supported: use {{{x}}} for "
			       "trusted HTML";
		case '=': return "changing delimiters is not supported";
		case '{': return "stray '{' in tag";
		default: break;
		}
	}
	while (b < e && hs_space((unsigned char)s[b]))
		b++;
	while (e > b && hs_space((unsigned char)s[e - 1]))
		e--;
	*nb = b;
	*ne = e;
	return NULL;
}

/* Context of a value in the current state: the op to emit, or TOP__MAX
 * with *msg saying why no escaping fits there. */
static enum tmpl_opcode
tc_value_op(struct tc *c, bool triple, size_t pos, const char **msg)
{
	struct hs *h = &c->h;
	bool xml = c->t->xml;

	*msg = NULL;
	switch (h->st) {
	case HS_TEXT:
		return xml ? TOP_XML : triple ? TOP_RAW : TOP_TEXT;
	case HS_RAW:
		if (hs_raw_cut(h, c->t->src, pos))
			*msg = "{{tag}} inside what may be an end tag";
		else if (triple)
			*msg = "{{{x}}} only in text";
		else if (h->raw == HR_STYLE)
			*msg = "value inside <style>: CSS cannot be escaped "
			       "safely";
		else if (h->raw == HR_RCDATA)
			return TOP_TEXT;
		else if (h->js != HJ_CODE)
			*msg = "value inside a JavaScript string or comment "
			       "(write it bare: it is written as a JSON value)";
		else
			return TOP_JSON;
		return TOP__MAX;
	case HS_VALUE_DQ:
	case HS_VALUE_SQ:
		if (triple) {
			*msg = "{{{x}}} only in text";
			return TOP__MAX;
		}
		if (h->attr == HA_BAD) {
			*msg = "value in an event handler, style, srcdoc or "
			       "srcset attribute";
			return TOP__MAX;
		}
		if (h->attr == HA_PLAIN)
			return xml ? TOP_XML : TOP_ATTR;
		if (h->url == HU_START) {
			h->url = HU_DYN;
			return xml ? TOP_XML_URL : TOP_URL;
		}
		if (h->url == HU_FIXED)
			return xml ? TOP_XML : TOP_ATTR;
		*msg = "value where it could complete a URL scheme (start the "
		       "attribute with it, or put it after '/', '?' or '#')";
		return TOP__MAX;
	case HS_VALUE_UNQ:
	case HS_BEFORE_VALUE:
		*msg = "value in an unquoted attribute value";
		return TOP__MAX;
	case HS_COMMENT:
		*msg = "value inside <!-- comment -->";
		return TOP__MAX;
	case HS_TAG_NAME:
	case HS_ATTR_NAME:
	case HS_BEFORE_ATTR:
	case HS_AFTER_ATTR:
		*msg = "value in a tag or attribute name (put it in a quoted "
		       "attribute value)";
		return TOP__MAX;
	default:
		*msg = "value inside markup ('<', '</', <!...>, <?...?> or "
		       "CDATA)";
		return TOP__MAX;
	}
}

/* Whether a non-value {{tag}} may stand in the current state: not where
 * it could hide markup from the tokenizer. */
static const char *
tc_tag_allowed(struct tc *c, enum tc_kind kind, size_t i)
{
	struct hs *h = &c->h;

	if (kind == TK_COMMENT)
		return NULL; /* writes nothing, changes nothing */
	if (kind == TK_PARTIAL && h->st != HS_TEXT)
		return "{{>partial}} only in text (partials start and end "
		       "in text)";
	switch (h->st) {
	case HS_TEXT:
	case HS_COMMENT:
	case HS_VALUE_DQ:
	case HS_VALUE_SQ:
	case HS_TAG_NAME:
	case HS_BEFORE_ATTR:
	case HS_ATTR_NAME:
	case HS_AFTER_ATTR:
		return NULL;
	case HS_RAW:
		if (hs_raw_cut(h, c->t->src, i))
			return "{{tag}} inside what may be an end tag";
		return NULL;
	default:
		return "{{tag}} inside markup ('<', '</', unquoted value, "
		       "<!...>)";
	}
}

/* Standalone-line rule: a section, close, comment or partial tag alone on
 * its line (in text) takes the line with it, so templates can be indented
 * without leaving blank lines. Trims *litend back and moves *end past the
 * newline when the rule applies. */
static void
tc_standalone(const struct tc *c, size_t lit, size_t i, size_t *litend,
    size_t *end)
{
	const char *s = c->t->src;
	size_t n = c->t->len, ls = i, te = *end;

	if (c->h.st != HS_TEXT)
		return;
	while (ls > lit && (s[ls - 1] == ' ' || s[ls - 1] == '\t'))
		ls--;
	if (!(ls == 0 || s[ls - 1] == '\n'))
		return;
	while (te < n && (s[te] == ' ' || s[te] == '\t'))
		te++;
	if (te < n && s[te] == '\r' && te + 1 < n && s[te + 1] == '\n')
		te += 2;
	else if (te < n && s[te] == '\n')
		te++;
	else if (te != n)
		return;
	*litend = ls;
	*end = te;
}

/* {{x}} or {{{x}}}: a value op escaped for the current context. */
static bool
tc_value(struct tc *c, enum tc_kind kind, size_t i, size_t nb, size_t ne)
{
	const char *msg;
	enum tmpl_opcode op = tc_value_op(c, kind == TK_TRIPLE, i, &msg);
	uint32_t name;

	if (op == TOP__MAX)
		return tc_fail(c, i, msg);
	name = tc_name(c->t, c->t->src + nb, ne - nb, true, &msg);
	if (name == UINT32_MAX)
		return tc_fail(c, i, msg);
	tc_op(c->t, op, name, 0);
	return true;
}

/* {{#x}} or {{^x}}: opens a section, remembering the tokenizer state its
 * body starts in. */
static bool
tc_open(struct tc *c, enum tc_kind kind, size_t i, size_t nb, size_t ne)
{
	const char *msg;
	uint32_t name, op;

	if (c->nopen == TMPL_SECTION_DEPTH)
		return tc_fail(c, i, "sections nested too deep");
	name = tc_name(c->t, c->t->src + nb, ne - nb, true, &msg);
	if (name == UINT32_MAX)
		return tc_fail(c, i, msg);
	hs_cut(&c->h);
	op = tc_op(c->t, kind == TK_SECTION ? TOP_SECTION : TOP_INVERTED,
	    name, 0);
	c->open[c->nopen++] = (struct tc_open){
		.op = op, .nb = nb, .ne = ne, .pos = i, .start = c->h};
	return true;
}

/* {{/x}}: closes the innermost section, whose body must end in the state
 * it began in; compiling goes on as if the body never ran. */
static bool
tc_close(struct tc *c, size_t i, size_t nb, size_t ne)
{
	const char *s = c->t->src;
	struct tc_open *o = c->nopen ? &c->open[c->nopen - 1] : NULL;
	bool cut;

	if (o == NULL)
		return tc_fail(c, i, "unknown closing section");
	if (o->ne - o->nb != ne - nb || memcmp(s + o->nb, s + nb, ne - nb) != 0)
		return tc_fail(c, i, "closing tag does not match the open "
		    "section");
	hs_cut(&c->h);
	if (!hs_same(&o->start, &c->h))
		return tc_fail(c, i, "section ends in a different HTML context "
		    "than it began (a tag, attribute, comment or script is "
		    "opened or closed inside it)");
	cut = c->h.cut; /* a name cut at either end stays cut */
	c->h = o->start;
	c->h.cut = c->h.cut || cut;
	c->t->ops[o->op].b = (uint32_t)c->t->nops;
	c->nopen--;
	return true;
}

/* {{>x}}: a partial, linked to its template by tmpl_link. */
static bool
tc_partial(struct tc *c, size_t i, size_t nb, size_t ne)
{
	const char *msg;
	uint32_t name = tc_name(c->t, c->t->src + nb, ne - nb, false, &msg);

	if (name == UINT32_MAX)
		return tc_fail(c, i, msg);
	tc_op(c->t, TOP_PARTIAL, name, UINT32_MAX);
	return true;
}

/* Compiles t->src into t->ops: literal bytes go through the tokenizer,
 * each {{tag}} becomes ops. false with "file:line: msg" in err. */
static bool
tc_compile(struct tmpl *t, const char *file, buf *err)
{
	struct tc c = {.t = t, .file = file, .err = err};
	const char *s = t->src, *msg;
	size_t n = t->len, i = 0, lit = 0;
	bool ok = true;

	while (i < n && ok) {
		if (!(s[i] == '{' && i + 1 < n && s[i + 1] == '{')) {
			if ((msg = hs_feed(&c.h, s, n, &i, t->xml)) != NULL)
				return tc_fail(&c, i - 1, msg);
			continue;
		}
		enum tc_kind kind;
		size_t nb, ne, end, litend = i;
		if ((msg = tc_tag(s, n, i, &kind, &nb, &ne, &end)) != NULL)
			return tc_fail(&c, i, msg);
		if (kind != TK_VALUE && kind != TK_TRIPLE) {
			if ((msg = tc_tag_allowed(&c, kind, i)) != NULL)
				return tc_fail(&c, i, msg);
			tc_standalone(&c, lit, i, &litend, &end);
		}
		if (litend > lit)
			tc_op(t, TOP_LIT, (uint32_t)lit,
			    (uint32_t)(litend - lit));
		switch (kind) {
		case TK_VALUE:
		case TK_TRIPLE:
			ok = tc_value(&c, kind, i, nb, ne);
			break;
		case TK_SECTION:
		case TK_INVERTED:
			ok = tc_open(&c, kind, i, nb, ne);
			break;
		case TK_CLOSE:
			ok = tc_close(&c, i, nb, ne);
			break;
		case TK_PARTIAL:
			ok = tc_partial(&c, i, nb, ne);
			break;
		default: /* TK_COMMENT */
			break;
		}
		i = lit = end;
	}
	if (!ok)
		return false;
	if (n > lit)
		tc_op(t, TOP_LIT, (uint32_t)lit, (uint32_t)(n - lit));
	if (c.nopen)
		return tc_fail(&c, c.open[c.nopen - 1].pos,
		    "section never closed");
	if (c.h.st != HS_TEXT)
		return tc_fail(&c, n, "template ends inside a tag, attribute, "
		    "comment or raw-text element");
	return true;
}

/* ---- sets --------------------------------------------------------------- */

/* Frees one template's memory (not the struct, which lives in an array). */
static void
tmpl_clear(struct tmpl *t)
{
	for (size_t i = 0; i < t->nnames; i++)
		free(t->names[i].pool);
	free(t->names);
	free(t->ops);
	free(t->src);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

/* Every template in set, with everything it owns. NULL-safe. */
void
tmpl_free(tmpl_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++)
		tmpl_clear(&set->t[i]);
	free(set->t);
	free(set);
}

struct tmpl *
tmpl_find(const tmpl_set *set, const char *name)
{
	for (size_t i = 0; set && i < set->n; i++)
		if (strcmp(set->t[i].name, name) == 0)
			return &set->t[i];
	return NULL;
}

bool
tmpl_has(const tmpl_set *set, const char *name)
{
	return tmpl_find(set, name) != NULL;
}

/* Points every {{>name}} of the set at its template, once per add, so
 * rendering follows an index instead of comparing names. */
static void
tmpl_link(tmpl_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct tmpl *t = &set->t[i];
		for (size_t k = 0; k < t->nops; k++) {
			if (t->ops[k].code != TOP_PARTIAL)
				continue;
			const char *name = t->names[t->ops[k].a].pool;
			struct tmpl *p = tmpl_find(set, name);
			t->ops[k].b = p ? (uint32_t)(p - set->t) : UINT32_MAX;
		}
	}
}

/* Compiles src as template name (replacing one of that name); file labels
 * messages. The set is created on demand and freed again on failure. */
static bool
tmpl_add_file(tmpl_set **set, const char *name, const char *file,
    const char *src, size_t n, bool xml, buf *err)
{
	struct tmpl t = {0};

	if (n > TMPL_SRC_MAX) {
		if (err) {
			buf_reset(err);
			buf_printf(err, "%s:1: template larger than %u bytes",
			    file, TMPL_SRC_MAX);
		}
		return false;
	}
	t.name = xstrdup(name);
	t.src = xmalloc(n + 1);
	memcpy(t.src, src, n);
	t.src[n] = '\0';
	t.len = n;
	t.xml = xml;
	if (!tc_compile(&t, file, err)) {
		tmpl_clear(&t);
		return false;
	}
	if (*set == NULL)
		*set = xcalloc(1, sizeof(**set));
	tmpl_set *ts = *set;
	struct tmpl *old = tmpl_find(ts, name);
	if (old) {
		tmpl_clear(old);
		*old = t;
	} else {
		if (ts->n == ts->cap) {
			ts->cap = ts->cap ? ts->cap * 2 : 16;
			ts->t = xrealloc(ts->t, ts->cap * sizeof(t));
		}
		ts->t[ts->n++] = t;
	}
	tmpl_link(ts);
	return true;
}

/* Compiles one template from memory; messages are "name:line: ...". */
bool
tmpl_add(tmpl_set **set, const char *name, const char *src, size_t n,
    bool xml, buf *err)
{
	return tmpl_add_file(set, name, name, src, n, xml, err);
}

static int
tmpl_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads a whole file (up to TMPL_SRC_MAX + 1 bytes) into a malloc'd
 * buffer; NULL on error with errno set. */
static char *
tmpl_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	size_t n = 0, cap = 8192;

	if (f == NULL)
		return NULL;
	p = xmalloc(cap);
	for (;;) {
		if (n == cap) {
			if (cap > TMPL_SRC_MAX)
				break;
			cap *= 2;
			p = xrealloc(p, cap);
		}
		size_t r = fread(p + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		int e = errno;
		fclose(f);
		free(p);
		errno = e ? e : EIO;
		return NULL;
	}
	fclose(f);
	*len = n;
	return p;
}

/* Loads dir's *.html and *.xml in name order (so errors are reproducible);
 * a name may exist once. NULL with "file:line: what" in err on failure. */
tmpl_set *
tmpl_load_dir(const char *dir, buf *err)
{
	tmpl_set *set = NULL;
	char **files = NULL;
	size_t nfiles = 0, cap = 0;
	buf path;
	DIR *d;
	struct dirent *de;

	buf_init(&path, 4096);
	if ((d = opendir(dir)) == NULL) {
		if (err) {
			buf_reset(err);
			buf_printf(err, "%s: %s", dir, strerror(errno));
		}
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		const char *dot = strrchr(de->d_name, '.');
		if (de->d_name[0] == '.' || dot == NULL || dot == de->d_name ||
		    (strcmp(dot, ".html") != 0 && strcmp(dot, ".xml") != 0))
			continue;
		if (nfiles == cap) {
			cap = cap ? cap * 2 : 32;
			files = xrealloc(files, cap * sizeof(*files));
		}
		files[nfiles++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (nfiles)
		qsort(files, nfiles, sizeof(*files), tmpl_cmp);
	set = xcalloc(1, sizeof(*set));
	for (size_t i = 0; i < nfiles; i++) {
		const char *dot = strrchr(files[i], '.');
		char *name = xstrdup(files[i]);
		size_t len = 0;
		name[dot - files[i]] = '\0';
		buf_reset(&path);
		buf_printf(&path, "%s/%s", dir, files[i]);
		char *src = tmpl_read(buf_cstr(&path), &len);
		const char *file = buf_cstr(&path);
		bool ok = false;
		if (src == NULL) {
			if (err) {
				buf_reset(err);
				buf_printf(err, "%s: %s", file,
				    strerror(errno));
			}
		} else if (tmpl_has(set, name)) {
			if (err) {
				buf_reset(err);
				buf_printf(err, "%s:1: a template named \"%s\" "
				    "exists already", file, name);
			}
		} else {
			ok = tmpl_add_file(&set, name, file, src, len,
			    strcmp(dot, ".xml") == 0, err);
		}
		free(src);
		free(name);
		if (!ok) {
			tmpl_free(set);
			set = NULL;
			break;
		}
	}
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	buf_free(&path);
	return set;
}
