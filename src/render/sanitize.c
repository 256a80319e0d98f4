/*
 * The allow-list HTML sanitiser for bodies we did not write ourselves
 * (WordPress imports, HTML-format articles). libxml2's HTML parser builds
 * the tree, with the error recovery every browser-made page needs; we walk
 * it and write only allow-listed elements and attributes through escape.c.
 * What is not on the list loses its tags but keeps its text, except the
 * elements whose content is code or a widget (script, style, iframe, svg,
 * form controls ...), which go entirely.
 *
 * The output is idempotent: sanitising it again gives the same bytes. For
 * that it must be HTML libxml2 parses back into the very tree we meant, so
 * the writer keeps a content model (san_permitted) stricter than libxml2's
 * implied-end-tag rules: no block in a paragraph or inline element, list
 * items only in lists, cells only in rows, no link in a link, no text
 * before the first element but in a <p>. A block closes the paragraph and
 * inline elements it stands in, as in a browser; an element that still
 * does not fit is flattened (text kept), as is everything nested deeper
 * than RENDER_HTML_DEPTH. test_sanitize.c checks every parent/child pair
 * against libxml2, and fuzz_sanitize.c idempotency at large.
 */
#include "render.h"

#include <libxml/HTMLparser.h>
#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* NONET and no DTD loading: the parser never reads anything but our
 * bytes. IGNORE_ENC: a <meta charset> in the body cannot switch the
 * decoder away from the UTF-8 we validated. Blanks are kept (no
 * NOBLANKS): dropping some white space and not other is what would make
 * a second pass differ from the first. */
#define SAN_PARSE_OPTIONS                                                   \
	(HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |     \
	    HTML_PARSE_IGNORE_ENC)

/* The elements we write, in the order of san_tags. */
enum san_tag {
	SAN_A,
	SAN_B,
	SAN_BLOCKQUOTE,
	SAN_BR,
	SAN_CAPTION,
	SAN_CODE,
	SAN_DD,
	SAN_DEL,
	SAN_DIV,
	SAN_DL,
	SAN_DT,
	SAN_EM,
	SAN_FIGCAPTION,
	SAN_FIGURE,
	SAN_H2,
	SAN_H3,
	SAN_H4,
	SAN_H5,
	SAN_H6,
	SAN_HR,
	SAN_I,
	SAN_IMG,
	SAN_INS,
	SAN_KBD,
	SAN_LI,
	SAN_MARK,
	SAN_OL,
	SAN_P,
	SAN_PRE,
	SAN_Q,
	SAN_S,
	SAN_SMALL,
	SAN_SPAN,
	SAN_STRONG,
	SAN_SUB,
	SAN_SUP,
	SAN_TABLE,
	SAN_TBODY,
	SAN_TD,
	SAN_TFOOT,
	SAN_TH,
	SAN_THEAD,
	SAN_TR,
	SAN_U,
	SAN_UL,
	SAN_TAG__MAX
};

/* What an element is and may hold (the content model). */
enum san_flag {
	SAN_INLINE = 1 << 0,   /* phrasing: may stand in a paragraph */
	SAN_PHRASING = 1 << 1, /* holds phrasing content only */
	SAN_VOID = 1 << 2,     /* no content and no end tag */
	SAN_STRUCT = 1 << 3,   /* holds only the elements bound to it (.in) */
	SAN_CLASS = 1 << 4,    /* keeps the allow-listed class names */
};

#define SAN_BIT(t) ((uint64_t)1 << (t))

static const struct san_info {
	const char *name;
	unsigned flags;
	uint64_t in; /* nonzero: the only parents it may have */
} san_tags[SAN_TAG__MAX] = {
	[SAN_A] = {"a", SAN_INLINE | SAN_PHRASING, 0},
	[SAN_B] = {"b", SAN_INLINE | SAN_PHRASING, 0},
	[SAN_BLOCKQUOTE] = {"blockquote", 0, 0},
	[SAN_BR] = {"br", SAN_INLINE | SAN_VOID, 0},
	[SAN_CAPTION] = {"caption", SAN_PHRASING, SAN_BIT(SAN_TABLE)},
	[SAN_CODE] = {"code", SAN_INLINE | SAN_PHRASING, 0},
	[SAN_DD] = {"dd", 0, SAN_BIT(SAN_DL)},
	[SAN_DEL] = {"del", SAN_INLINE | SAN_PHRASING, 0},
	[SAN_DIV] = {"div", SAN_CLASS, 0},
	[SAN_DL] = {"dl", SAN_STRUCT, 0},
	[SAN_DT] = {"dt", SAN_PHRASING, SAN_BIT(SAN_DL)},
	[SAN_EM] = {"em", SAN_INLINE | SAN_PHRASING, 0},
	[SAN_FIGCAPTION] = {"figcaption", SAN_PHRASING | SAN_CLASS,
	    SAN_BIT(SAN_FIGURE)},
	[SAN_FIGURE] = {"figure", SAN_CLASS, 0},
	[SAN_H2] = {"h2", SAN_PHRASING, 0},
	[SAN_H3] = {"h3", SAN_PHRASING, 0},
	[SAN_H4] = {"h4", SAN_PHRASING, 0},
	[SAN_H5] = {"h5", SAN_PHRASING, 0},
	[SAN_H6] = {"h6", SAN_PHRASING, 0},
	[SAN_HR] = {"hr", SAN_VOID, 0},
	[SAN_I] = {"i", SAN_INLINE | SAN_PHRASING, 0},
	[SAN_IMG] = {"img", SAN_INLINE | SAN_VOID | SAN_CLASS, 0},
	[SAN_INS] = {"ins", SAN_INLINE | SAN_PHRASING, 0},
	[SAN_KBD] = {"kbd", SAN_INLINE | SAN_PHRASING, 0},
	[SAN_LI] = {"li", 0, SAN_BIT(SAN_UL) | SAN_BIT(SAN_OL)},
	[SAN_MARK] = {"mark", SAN_INLINE | SAN_PHRASING, 0},
	[SAN_OL] = {"ol", SAN_STRUCT, 0},
	[SAN_P] = {"p", SAN_PHRASING | SAN_CLASS, 0},
	[SAN_PRE] = {"pre", SAN_PHRASING, 0},
	[SAN_Q] = {"q", SAN_INLINE | SAN_PHRASING, 0},
	[SAN_S] = {"s", SAN_INLINE | SAN_PHRASING, 0},
	[SAN_SMALL] = {"small", SAN_INLINE | SAN_PHRASING, 0},
	[SAN_SPAN] = {"span", SAN_INLINE | SAN_PHRASING | SAN_CLASS, 0},
	[SAN_STRONG] = {"strong", SAN_INLINE | SAN_PHRASING, 0},
	[SAN_SUB] = {"sub", SAN_INLINE | SAN_PHRASING, 0},
	[SAN_SUP] = {"sup", SAN_INLINE | SAN_PHRASING, 0},
	[SAN_TABLE] = {"table", SAN_STRUCT, 0},
	[SAN_TBODY] = {"tbody", SAN_STRUCT, SAN_BIT(SAN_TABLE)},
	[SAN_TD] = {"td", 0, SAN_BIT(SAN_TR)},
	[SAN_TFOOT] = {"tfoot", SAN_STRUCT, SAN_BIT(SAN_TABLE)},
	[SAN_TH] = {"th", 0, SAN_BIT(SAN_TR)},
	[SAN_THEAD] = {"thead", SAN_STRUCT, SAN_BIT(SAN_TABLE)},
	[SAN_TR] = {"tr", SAN_STRUCT,
	    SAN_BIT(SAN_TABLE) | SAN_BIT(SAN_THEAD) | SAN_BIT(SAN_TBODY) |
		SAN_BIT(SAN_TFOOT)},
	[SAN_U] = {"u", SAN_INLINE | SAN_PHRASING, 0},
	[SAN_UL] = {"ul", SAN_STRUCT | SAN_CLASS, 0},
};

/*
 * Elements dropped with everything inside them: code, widgets, embedded
 * documents and foreign markup, whose "text" is not prose. Void elements
 * (embed, input, param, source, track) are not listed: they have no
 * content to drop, and libxml2, not knowing some of them are void, nests
 * whatever follows inside them; they lose their tags like any element
 * not allowed.
 */
static const char *const san_drop[] = {
	"applet", "audio", "button", "canvas", "datalist", "form", "frameset",
	"iframe", "math", "noembed", "noframes", "noscript", "object",
	"optgroup", "option", "script", "select", "style", "svg", "template",
	"textarea", "title", "video", NULL
};

/* Class names kept (WordPress alignment and caption classes, the list
 * the importer makes of a [gallery] and its <p class="embed"> links). */
static const char *const san_classes[] = {
	"aligncenter", "alignleft", "alignnone", "alignright", "embed",
	"gallery", "wp-caption", "wp-caption-text", NULL
};

/* Elements after and before which render_html_text breaks the line. */
static const char *const san_text_blocks[] = {
	"address", "article", "aside", "blockquote", "br", "caption",
	"center", "dd", "details", "div", "dl", "dt", "figcaption", "figure",
	"footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
	"main", "nav", "ol", "p", "pre", "section", "summary", "table",
	"tbody", "td", "tfoot", "th", "thead", "tr", "ul", NULL
};

static bool
san_in(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

/* The allow-listed element for a tag name (libxml2 lowercases them);
 * h1 is written as h2, the article title being the page's h1. -1 when
 * the element is not allowed. */
static int
san_lookup(const char *name)
{
	if (strcmp(name, "h1") == 0)
		return SAN_H2;
	for (int t = 0; t < SAN_TAG__MAX; t++)
		if (strcmp(san_tags[t].name, name) == 0)
			return t;
	return -1;
}

/* ---- input and text filtering ------------------------------------------- */

/* The length of the UTF-8 sequence lead byte c starts (the input is
 * validated before it is filtered). */
static size_t
san_cplen(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/*
 * Writes s through esc with what libxml2 would not keep as it is: CR and
 * CRLF become LF, C0 controls but tab and LF, U+FFFE and U+FFFF are
 * dropped. The same filter cleans the input and every string we write, so
 * a second pass reads back exactly what the first wrote.
 */
static void
san_filter(buf *out, const char *s, size_t n,
    void (*esc)(buf *, const char *, size_t))
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0;

	if (n == 0) /* s may be NULL then */
		return;
	while (i < n) {
		unsigned char c = u[i];
		if (c >= 0x20 || c == '\t' || c == '\n') {
			if (c == 0xEF && n - i >= 3 && u[i + 1] == 0xBF &&
			    (u[i + 2] == 0xBE || u[i + 2] == 0xBF)) {
				esc(out, s + run, i - run);
				i += 3;
				run = i;
				continue;
			}
			i += c < 0x80 ? 1 : san_cplen(c);
			continue;
		}
		esc(out, s + run, i - run);
		if (c == '\r') {
			esc(out, "\n", 1);
			if (i + 1 < n && u[i + 1] == '\n')
				i++;
		}
		i++;
		run = i;
	}
	esc(out, s + run, n - run);
}

/* The raw writer for san_filter (input cleaning, plain text). */
static void
san_raw(buf *out, const char *s, size_t n)
{
	buf_put(out, s, n);
}

/* White space as libxml2's HTML parser skips it (IS_BLANK_CH). */
static bool
san_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	return true;
}

static pthread_once_t san_once = PTHREAD_ONCE_INIT;

/*
 * Checks and parses html: over RENDER_HTML_MAX, invalid UTF-8 or nested
 * deeper than libxml2 goes (RENDER_HTML_PARSE_DEPTH) is refused (false).
 * *doc is the tree, NULL when there is nothing to parse (empty or blank
 * input); the caller frees it with xmlFreeDoc.
 */
static bool
san_parse(const char *html, size_t n, htmlDocPtr *doc)
{
	htmlParserCtxtPtr ctxt = NULL;
	buf in;
	bool ok = false;

	*doc = NULL;
	if (n > RENDER_HTML_MAX || !text_utf8_valid(html, n))
		return false;
	if (n >= 3 && memcmp(html, "\xEF\xBB\xBF", 3) == 0) {
		html += 3; /* a byte-order mark is not content */
		n -= 3;
	}
	buf_init(&in, n + 1);
	san_filter(&in, html, n, san_raw);
	if (in.err)
		goto err;
	if (san_blank(in.ptr, in.len)) {
		ok = true; /* nothing to parse; in.ptr may be NULL */
		goto err;
	}
	pthread_once(&san_once, xmlInitParser);
	ctxt = htmlNewParserCtxt();
	if (ctxt == NULL)
		goto err;
	/* White space the parser calls ignorable is kept as text (what
	 * leaving out NOBLANKS does, made independent of the process-wide
	 * xmlKeepBlanksDefault), so the tree never depends on libxml2's
	 * guesses about which blanks matter. */
	ctxt->sax->ignorableWhitespace = xmlSAX2Characters;
	*doc = htmlCtxtReadMemory(ctxt, in.ptr, (int)in.len, NULL, "UTF-8",
	    SAN_PARSE_OPTIONS);
	/* libxml2 halts at elements nested past 256 and would hand back
	 * the part before: a refusal, not a silent cut */
	if (*doc != NULL && ctxt->instate == XML_PARSER_EOF) {
		xmlFreeDoc(*doc);
		*doc = NULL;
	}
	ok = *doc != NULL;
err:
	if (ctxt != NULL)
		htmlFreeParserCtxt(ctxt);
	buf_free(&in);
	return ok;
}

/* ---- attributes ----------------------------------------------------- */

/* What a URL attribute holds once cleaned. */
enum san_url {
	SAN_URL_BAD,    /* a scheme we do not allow, or nothing */
	SAN_URL_REL,    /* relative: path, query or fragment */
	SAN_URL_WEB,    /* http, https, or //host (written as https) */
	SAN_URL_MAILTO, /* mailto: */
};

/*
 * Cleans a URL as a browser reads it into dst: what browsers strip at
 * both ends (C0 controls, space) trimmed, tab and newlines removed
 * everywhere; a leading run of two or more slashes or backslashes (a
 * protocol-relative URL) becomes "https://". The scheme is what precedes
 * the first ':' that comes before any '/', '?', '#' or '\'; only http,
 * https and mailto are allowed, compared case-insensitively.
 */
static enum san_url
san_url_clean(buf *dst, const char *s, size_t n)
{
	size_t b = 0, e = n, k, slashes = 0;

	buf_reset(dst);
	while (b < e && ((unsigned char)s[b] <= 0x20 || s[b] == 0x7F))
		b++;
	while (e > b && ((unsigned char)s[e - 1] <= 0x20 || s[e - 1] == 0x7F))
		e--;
	/* the leading run of slashes as a browser counts it: tab and
	 * newlines are dropped before it parses, so "/\r/host" is "//host"
	 * (found by fuzz_sanitize) */
	size_t i = b;
	for (; i < e; i++) {
		if (s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
			continue;
		if (s[i] != '/' && s[i] != '\\')
			break;
		slashes++;
	}
	if (slashes >= 2) {
		buf_puts(dst, "https://");
		b = i;
	}
	for (size_t j = b; j < e; j++)
		if (s[j] != '\t' && s[j] != '\n' && s[j] != '\r')
			buf_putc(dst, s[j]);
	if (dst->err || dst->len == 0 || (slashes >= 2 && dst->len == 8))
		return SAN_URL_BAD;
	if (slashes >= 2)
		return SAN_URL_WEB;
	for (k = 0; k < dst->len; k++) {
		char c = dst->ptr[k];
		if (c == '/' || c == '?' || c == '#' || c == '\\')
			return SAN_URL_REL;
		if (c == ':')
			break;
	}
	if (k == dst->len)
		return SAN_URL_REL;
	if ((k == 4 && strncasecmp(dst->ptr, "http", 4) == 0) ||
	    (k == 5 && strncasecmp(dst->ptr, "https", 5) == 0))
		return SAN_URL_WEB;
	if (k == 6 && strncasecmp(dst->ptr, "mailto", 6) == 0)
		return SAN_URL_MAILTO;
	return SAN_URL_BAD;
}

/* Writes ` name="value"` with value filtered and attribute-escaped. */
static void
san_attr(buf *out, const char *name, const char *v, size_t n)
{
	buf_putc(out, ' ');
	buf_puts(out, name);
	buf_puts(out, "=\"");
	san_filter(out, v, n, html_attr);
	buf_putc(out, '"');
}

/* The value of attribute name, or NULL; free with xmlFree. */
static char *
san_prop(const xmlNode *n, const char *name)
{
	return (char *)xmlGetProp(n, (const xmlChar *)name);
}

/* Copies a text attribute (alt, title) when present. */
static void
san_copy_text(buf *out, const xmlNode *n, const char *name)
{
	char *v = san_prop(n, name);

	if (v != NULL)
		san_attr(out, name, v, strlen(v));
	xmlFree(v);
}

/*
 * Copies an integer attribute in [lo, hi] in its canonical form (leading
 * zeros and white space gone), or nothing: "100%", "3px", "" and overlong
 * numbers are dropped rather than guessed at.
 */
static void
san_copy_int(buf *out, const xmlNode *n, const char *name, long lo, long hi)
{
	char *v = san_prop(n, name), num[24];
	const char *p = v;
	long x = 0;
	bool neg = false, digits = false;

	if (v == NULL)
		return;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p == '-') {
		neg = true;
		p++;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		digits = true;
		x = x * 10 + (*p - '0');
		if (x > 1000000000L)
			goto done;
	}
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (neg)
		x = -x;
	if (!digits || *p != '\0' || x < lo || x > hi)
		goto done;
	snprintf(num, sizeof(num), "%ld", x);
	san_attr(out, name, num, strlen(num));
done:
	xmlFree(v);
}

/* Copies the allow-listed class names, each once, in their order. */
static void
san_copy_class(buf *out, const xmlNode *n)
{
	char *v = san_prop(n, "class");
	const char *kept[sizeof(san_classes) / sizeof(san_classes[0])];
	size_t nkept = 0;

	if (v == NULL)
		return;
	for (char *save = NULL, *tok = strtok_r(v, " \t\n\f\r", &save);
	     tok != NULL; tok = strtok_r(NULL, " \t\n\f\r", &save)) {
		for (size_t i = 0; san_classes[i] != NULL; i++) {
			bool dup = false;
			if (strcmp(san_classes[i], tok) != 0)
				continue;
			for (size_t j = 0; j < nkept; j++)
				dup |= kept[j] == san_classes[i];
			if (!dup)
				kept[nkept++] = san_classes[i];
		}
	}
	xmlFree(v);
	if (nkept == 0)
		return;
	buf_puts(out, " class=\"");
	for (size_t j = 0; j < nkept; j++) {
		if (j > 0)
			buf_putc(out, ' ');
		html_attr(out, kept[j], strlen(kept[j]));
	}
	buf_putc(out, '"');
}

/* ---- the writer ------------------------------------------------------- */

struct san_frame {
	const xmlNode *src; /* the element it came from; NULL: our own <p> */
	enum san_tag tag;
	bool flow;          /* may hold blocks (an <a> takes its parent's) */
	size_t at, body;    /* out->len before and after its start tag */
	size_t solid;       /* san_w.solid when it was opened */
};

struct san_w {
	buf *out;
	size_t start;     /* out->len when we began */
	struct san_frame st[RENDER_HTML_DEPTH];
	size_t depth;     /* open elements written */
	unsigned in_a;    /* of which <a> */
	size_t solid;     /* out->len after the last tag or non-blank text */
	buf url;          /* the cleaned href/src of the element being opened */
	enum san_url url_kind;
};

/*
 * Whether child may be written inside the open element f (NULL: at the
 * top level), in_a links being open around it. An <a> is transparent, as
 * in HTML5: blocks in it when it stands where blocks may, but no table
 * (libxml2 would end the link there).
 */
static bool
san_permitted(const struct san_frame *f, enum san_tag child, unsigned in_a)
{
	const struct san_info *c = &san_tags[child];

	if (child == SAN_A && in_a > 0)
		return false;
	if (c->in != 0)
		return f != NULL && (c->in & SAN_BIT(f->tag)) != 0;
	if (f == NULL)
		return true;
	if (san_tags[f->tag].flags & SAN_STRUCT)
		return false;
	if (!f->flow)
		return (c->flags & SAN_INLINE) != 0;
	return !(f->tag == SAN_A && child == SAN_TABLE);
}

/*
 * Where t may be written: the number of open elements to close first, or
 * -1 when nowhere. Only phrasing elements and links are closed, as a
 * browser closes an open <p> (and we, its inline elements) at a block, or
 * the <a> another link starts in; lists, tables and block containers are
 * never left.
 */
static int
san_fit(const struct san_w *w, enum san_tag t)
{
	unsigned in_a = w->in_a;

	for (size_t d = w->depth;; d--) {
		const struct san_frame *f = d > 0 ? &w->st[d - 1] : NULL;
		if (san_permitted(f, t, in_a))
			return (int)(w->depth - d);
		if (f == NULL || (f->flow && f->tag != SAN_A) ||
		    (san_tags[f->tag].flags & SAN_STRUCT))
			return -1;
		if (f->tag == SAN_A)
			in_a--;
	}
}

/* Pushes t, whose start tag began at out->len == at. */
static void
san_push(struct san_w *w, const xmlNode *src, enum san_tag t, size_t at)
{
	struct san_frame *f = &w->st[w->depth];
	unsigned fl = san_tags[t].flags;

	f->src = src;
	f->tag = t;
	if (t == SAN_A)
		f->flow = w->depth == 0 || w->st[w->depth - 1].flow;
	else
		f->flow = !(fl & (SAN_PHRASING | SAN_STRUCT));
	f->at = at;
	f->body = w->out->len;
	f->solid = w->solid;
	w->solid = f->body;
	w->depth++;
	if (t == SAN_A)
		w->in_a++;
}

/* Checks what an element cannot be written without (a: an allowed href,
 * img: an allowed src) and keeps the cleaned URL in w->url. */
static bool
san_required(struct san_w *w, const xmlNode *n, enum san_tag t)
{
	char *v;

	if (t != SAN_A && t != SAN_IMG)
		return true;
	v = san_prop(n, t == SAN_A ? "href" : "src");
	w->url_kind = v ? san_url_clean(&w->url, v, strlen(v)) : SAN_URL_BAD;
	xmlFree(v);
	if (w->url_kind == SAN_URL_BAD)
		return false;
	return t == SAN_A || w->url_kind != SAN_URL_MAILTO;
}

/* Writes the start tag of t for source element n, with its allowed
 * attributes (san_required has run), and pushes it unless void. */
static void
san_open(struct san_w *w, const xmlNode *n, enum san_tag t)
{
	buf *out = w->out;
	size_t at = out->len;

	buf_putc(out, '<');
	buf_puts(out, san_tags[t].name);
	switch (t) {
	case SAN_A:
		buf_puts(out, " href=\"");
		html_url(out, w->url.ptr, w->url.len);
		buf_putc(out, '"');
		san_copy_text(out, n, "title");
		if (w->url_kind != SAN_URL_REL)
			buf_puts(out, " rel=\"nofollow noopener\"");
		break;
	case SAN_IMG:
		buf_puts(out, " src=\"");
		html_url(out, w->url.ptr, w->url.len);
		buf_putc(out, '"');
		san_copy_text(out, n, "alt");
		san_copy_text(out, n, "title");
		san_copy_int(out, n, "width", 1, 100000);
		san_copy_int(out, n, "height", 1, 100000);
		break;
	case SAN_BLOCKQUOTE:
	case SAN_Q: {
		char *v = san_prop(n, "cite");
		if (v != NULL) {
			enum san_url k = san_url_clean(&w->url, v, strlen(v));
			if (k == SAN_URL_REL || k == SAN_URL_WEB) {
				buf_puts(out, " cite=\"");
				html_url(out, w->url.ptr, w->url.len);
				buf_putc(out, '"');
			}
		}
		xmlFree(v);
		break;
	}
	case SAN_OL:
		san_copy_int(out, n, "start", -1000000000L, 1000000000L);
		break;
	case SAN_TD:
	case SAN_TH:
		san_copy_int(out, n, "colspan", 1, 1000);
		san_copy_int(out, n, "rowspan", 1, 65534);
		break;
	default:
		break;
	}
	if (san_tags[t].flags & SAN_CLASS)
		san_copy_class(out, n);
	if (t == SAN_IMG)
		buf_puts(out, " loading=\"lazy\"");
	buf_putc(out, '>');
	if (!(san_tags[t].flags & SAN_VOID))
		san_push(w, n, t, at);
	else
		w->solid = out->len;
}

/*
 * Writes the end tag of the innermost open element, or takes back its
 * start tag when it holds nothing: an empty <p>, <a> or <b>, or a block
 * with nothing but white space (what is left of a removed embed) says
 * nothing. White space in an inline element separates words, and a table
 * cell's place counts: those stay.
 */
static void
san_close(struct san_w *w)
{
	const struct san_frame *f = &w->st[--w->depth];
	buf *out = w->out;
	bool empty = out->len == f->body, blank = w->solid == f->body;

	if (f->tag == SAN_A)
		w->in_a--;
	if (f->tag != SAN_TD && f->tag != SAN_TH && !out->err &&
	    (empty || (blank && !(san_tags[f->tag].flags & SAN_INLINE)))) {
		out->len = f->at;
		out->ptr[out->len] = '\0';
		w->solid = f->solid;
		return;
	}
	buf_puts(out, "</");
	buf_puts(out, san_tags[f->tag].name);
	buf_putc(out, '>');
	w->solid = out->len;
}

/*
 * A text node. Text before anything else at the top level goes in a <p>
 * of ours, because that is where libxml2 would put it on a second pass;
 * blank text there is skipped, as the parser skips it.
 */
static void
san_text(struct san_w *w, const char *s, size_t n)
{
	if (w->depth == 0 && w->out->len == w->start) {
		if (san_blank(s, n))
			return;
		size_t at = w->out->len;
		buf_puts(w->out, "<p>");
		san_push(w, NULL, SAN_P, at);
	}
	san_filter(w->out, s, n, html_text);
	if (!san_blank(s, n))
		w->solid = w->out->len;
}

/*
 * An element: written when allowed and when it fits where it stands,
 * else flattened. Returns whether to walk its children (not for void or
 * dropped elements).
 */
static bool
san_enter(struct san_w *w, const xmlNode *n)
{
	const char *name = (const char *)n->name;
	int t;

	if (name == NULL || san_in(san_drop, name))
		return false;
	t = san_lookup(name);
	if (t < 0)
		return true; /* not allowed (html, body, font...): text kept */
	bool isvoid = (san_tags[t].flags & SAN_VOID) != 0;
	if (!san_required(w, n, (enum san_tag)t))
		return !isvoid;
	int close = san_fit(w, (enum san_tag)t);
	if (close < 0)
		return !isvoid;
	if (!isvoid && w->depth - (size_t)close >= RENDER_HTML_DEPTH)
		return true;
	/* the closed elements' source stays open: the rest of its content
	 * lands in the parent (san_leave finds no frame for it) */
	while (close-- > 0)
		san_close(w);
	san_open(w, n, (enum san_tag)t);
	return !isvoid;
}

/* Leaving element n: its end tag if we wrote its start tag. */
static void
san_leave(struct san_w *w, const xmlNode *n)
{
	if (w->depth > 0 && w->st[w->depth - 1].src == n)
		san_close(w);
}

/*
 * Walks the tree in document order without recursion (libxml2 nests up
 * to 256 deep; the stack need not), calling enter/text/leave.
 */
static void
san_walk(htmlDocPtr doc, void *ctx, bool (*enter)(void *, const xmlNode *),
    void (*text)(void *, const char *, size_t),
    void (*leave)(void *, const xmlNode *))
{
	xmlNode *n = doc->children;

	while (n != NULL) {
		bool down = false;
		if (n->type == XML_ELEMENT_NODE)
			down = enter(ctx, n);
		else if ((n->type == XML_TEXT_NODE ||
			     n->type == XML_CDATA_SECTION_NODE) &&
		    n->content != NULL)
			text(ctx, (const char *)n->content,
			    strlen((const char *)n->content));
		if (down && n->children != NULL) {
			n = n->children;
			continue;
		}
		for (;;) {
			if (n->type == XML_ELEMENT_NODE)
				leave(ctx, n);
			if (n->next != NULL) {
				n = n->next;
				break;
			}
			n = n->parent;
			if (n == NULL || n == (xmlNode *)doc) {
				n = NULL;
				break;
			}
		}
	}
}

static bool
san_enter_cb(void *ctx, const xmlNode *n)
{
	return san_enter(ctx, n);
}

static void
san_text_cb(void *ctx, const char *s, size_t n)
{
	san_text(ctx, s, n);
}

static void
san_leave_cb(void *ctx, const xmlNode *n)
{
	san_leave(ctx, n);
}

bool
render_html_sanitize(buf *out, const char *html, size_t n)
{
	struct san_w w;
	htmlDocPtr doc;

	if (!san_parse(html, n, &doc))
		return false;
	memset(&w, 0, sizeof(w));
	w.out = out;
	w.start = out->len;
	buf_init(&w.url, 0);
	if (doc != NULL)
		san_walk(doc, &w, san_enter_cb, san_text_cb, san_leave_cb);
	while (w.depth > 0)
		san_close(&w);
	buf_free(&w.url);
	xmlFreeDoc(doc);
	if (out->err || (out->len > w.start && !text_utf8_valid(
			      out->ptr + w.start, out->len - w.start))) {
		out->len = w.start;
		if (out->ptr != NULL)
			out->ptr[out->len] = '\0';
		return false;
	}
	return true;
}

/* ---- plain text ------------------------------------------------------- */

struct san_t {
	buf *out;
	size_t start;
	bool brk; /* a block boundary since the last text */
};

/* Trims trailing blanks written since start. */
static void
san_t_trim(struct san_t *t)
{
	buf *o = t->out;

	while (o->len > t->start && san_blank(o->ptr + o->len - 1, 1))
		o->len--;
	if (o->ptr != NULL)
		o->ptr[o->len] = '\0';
}

static bool
san_t_enter(void *ctx, const xmlNode *n)
{
	struct san_t *t = ctx;
	const char *name = (const char *)n->name;

	if (name == NULL || san_in(san_drop, name))
		return false;
	if (san_in(san_text_blocks, name))
		t->brk = true;
	return true;
}

static void
san_t_leave(void *ctx, const xmlNode *n)
{
	struct san_t *t = ctx;

	if (n->name != NULL && san_in(san_text_blocks, (const char *)n->name))
		t->brk = true;
}

static void
san_t_text(void *ctx, const char *s, size_t n)
{
	struct san_t *t = ctx;
	bool line_start = t->out->len == t->start || t->brk;

	if (san_blank(s, n) && line_start)
		return;
	if (t->brk && t->out->len > t->start) {
		san_t_trim(t);
		buf_putc(t->out, '\n');
	}
	t->brk = false;
	if (line_start)
		while (n > 0 && san_blank(s, 1)) {
			s++;
			n--;
		}
	san_filter(t->out, s, n, san_raw);
}

void
render_html_text(buf *out, const char *html, size_t n)
{
	struct san_t t = {.out = out, .start = out->len, .brk = false};
	htmlDocPtr doc;

	if (!san_parse(html, n, &doc) || doc == NULL)
		return;
	san_walk(doc, &t, san_t_enter, san_t_text, san_t_leave);
	xmlFreeDoc(doc);
	san_t_trim(&t);
}
