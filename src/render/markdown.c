/*
 * Markdown: md4c's parser driving our own writer (not md4c-html), so every
 * byte goes through escape.c. Safe with no options: MD_FLAG_NOHTML makes
 * raw HTML plain text, and link and image URLs pass html_url_safe or the
 * link is dropped (its text kept). Also produces the plain text used for
 * excerpts and search, and md_html_to_plain for imported HTML bodies.
 */
#include "render.h"

#include <limits.h>
#include <md4c.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MD_FLAGS                                                            \
	(MD_FLAG_NOHTML | MD_FLAG_TABLES | MD_FLAG_STRIKETHROUGH |          \
	    MD_FLAG_PERMISSIVEURLAUTOLINKS)
#define MD_SPAN_DEPTH 64 /* spans tracked; deeper ones write no tags */
#define MD_PAD 64        /* zero bytes after our copy of the input */
#define MD_CREDIT "\xE5\x87\xBA\xE5\x85\xB8" /* 出典: image credit title */

/*
 * Named character references md_render and md_html_to_plain decode: the
 * HTML 4.01 set plus &apos;, sorted by name (generated with Python's
 * html.entities.name2codepoint). Unknown names stay literal text, as in
 * md4c-html; HTML5's 2,000-odd rarer names are not worth the table.
 */
static const struct md_entity {
	const char *name;
	uint32_t cp;
} md_entities[] = {
	{"AElig", 0xC6}, {"Aacute", 0xC1}, {"Acirc", 0xC2}, {"Agrave", 0xC0},
	{"Alpha", 0x391}, {"Aring", 0xC5}, {"Atilde", 0xC3}, {"Auml", 0xC4},
	{"Beta", 0x392}, {"Ccedil", 0xC7}, {"Chi", 0x3A7}, {"Dagger", 0x2021},
	{"Delta", 0x394}, {"ETH", 0xD0}, {"Eacute", 0xC9}, {"Ecirc", 0xCA},
	{"Egrave", 0xC8}, {"Epsilon", 0x395}, {"Eta", 0x397}, {"Euml", 0xCB},
	{"Gamma", 0x393}, {"Iacute", 0xCD}, {"Icirc", 0xCE}, {"Igrave", 0xCC},
	{"Iota", 0x399}, {"Iuml", 0xCF}, {"Kappa", 0x39A}, {"Lambda", 0x39B},
	{"Mu", 0x39C}, {"Ntilde", 0xD1}, {"Nu", 0x39D}, {"OElig", 0x152},
	{"Oacute", 0xD3}, {"Ocirc", 0xD4}, {"Ograve", 0xD2}, {"Omega", 0x3A9},
	{"Omicron", 0x39F}, {"Oslash", 0xD8}, {"Otilde", 0xD5},
	{"Ouml", 0xD6}, {"Phi", 0x3A6}, {"Pi", 0x3A0}, {"Prime", 0x2033},
	{"Psi", 0x3A8}, {"Rho", 0x3A1}, {"Scaron", 0x160}, {"Sigma", 0x3A3},
	{"THORN", 0xDE}, {"Tau", 0x3A4}, {"Theta", 0x398}, {"Uacute", 0xDA},
	{"Ucirc", 0xDB}, {"Ugrave", 0xD9}, {"Upsilon", 0x3A5}, {"Uuml", 0xDC},
	{"Xi", 0x39E}, {"Yacute", 0xDD}, {"Yuml", 0x178}, {"Zeta", 0x396},
	{"aacute", 0xE1}, {"acirc", 0xE2}, {"acute", 0xB4}, {"aelig", 0xE6},
	{"agrave", 0xE0}, {"alefsym", 0x2135}, {"alpha", 0x3B1},
	{"amp", 0x26}, {"and", 0x2227}, {"ang", 0x2220}, {"apos", 0x27},
	{"aring", 0xE5}, {"asymp", 0x2248}, {"atilde", 0xE3}, {"auml", 0xE4},
	{"bdquo", 0x201E}, {"beta", 0x3B2}, {"brvbar", 0xA6},
	{"bull", 0x2022}, {"cap", 0x2229}, {"ccedil", 0xE7}, {"cedil", 0xB8},
	{"cent", 0xA2}, {"chi", 0x3C7}, {"circ", 0x2C6}, {"clubs", 0x2663},
	{"cong", 0x2245}, {"copy", 0xA9}, {"crarr", 0x21B5}, {"cup", 0x222A},
	{"curren", 0xA4}, {"dArr", 0x21D3}, {"dagger", 0x2020},
	{"darr", 0x2193}, {"deg", 0xB0}, {"delta", 0x3B4}, {"diams", 0x2666},
	{"divide", 0xF7}, {"eacute", 0xE9}, {"ecirc", 0xEA}, {"egrave", 0xE8},
	{"empty", 0x2205}, {"emsp", 0x2003}, {"ensp", 0x2002},
	{"epsilon", 0x3B5}, {"equiv", 0x2261}, {"eta", 0x3B7}, {"eth", 0xF0},
	{"euml", 0xEB}, {"euro", 0x20AC}, {"exist", 0x2203}, {"fnof", 0x192},
	{"forall", 0x2200}, {"frac12", 0xBD}, {"frac14", 0xBC},
	{"frac34", 0xBE}, {"frasl", 0x2044}, {"gamma", 0x3B3}, {"ge", 0x2265},
	{"gt", 0x3E}, {"hArr", 0x21D4}, {"harr", 0x2194}, {"hearts", 0x2665},
	{"hellip", 0x2026}, {"iacute", 0xED}, {"icirc", 0xEE},
	{"iexcl", 0xA1}, {"igrave", 0xEC}, {"image", 0x2111},
	{"infin", 0x221E}, {"int", 0x222B}, {"iota", 0x3B9}, {"iquest", 0xBF},
	{"isin", 0x2208}, {"iuml", 0xEF}, {"kappa", 0x3BA}, {"lArr", 0x21D0},
	{"lambda", 0x3BB}, {"lang", 0x2329}, {"laquo", 0xAB},
	{"larr", 0x2190}, {"lceil", 0x2308}, {"ldquo", 0x201C},
	{"le", 0x2264}, {"lfloor", 0x230A}, {"lowast", 0x2217},
	{"loz", 0x25CA}, {"lrm", 0x200E}, {"lsaquo", 0x2039},
	{"lsquo", 0x2018}, {"lt", 0x3C}, {"macr", 0xAF}, {"mdash", 0x2014},
	{"micro", 0xB5}, {"middot", 0xB7}, {"minus", 0x2212}, {"mu", 0x3BC},
	{"nabla", 0x2207}, {"nbsp", 0xA0}, {"ndash", 0x2013}, {"ne", 0x2260},
	{"ni", 0x220B}, {"not", 0xAC}, {"notin", 0x2209}, {"nsub", 0x2284},
	{"ntilde", 0xF1}, {"nu", 0x3BD}, {"oacute", 0xF3}, {"ocirc", 0xF4},
	{"oelig", 0x153}, {"ograve", 0xF2}, {"oline", 0x203E},
	{"omega", 0x3C9}, {"omicron", 0x3BF}, {"oplus", 0x2295},
	{"or", 0x2228}, {"ordf", 0xAA}, {"ordm", 0xBA}, {"oslash", 0xF8},
	{"otilde", 0xF5}, {"otimes", 0x2297}, {"ouml", 0xF6}, {"para", 0xB6},
	{"part", 0x2202}, {"permil", 0x2030}, {"perp", 0x22A5},
	{"phi", 0x3C6}, {"pi", 0x3C0}, {"piv", 0x3D6}, {"plusmn", 0xB1},
	{"pound", 0xA3}, {"prime", 0x2032}, {"prod", 0x220F},
	{"prop", 0x221D}, {"psi", 0x3C8}, {"quot", 0x22}, {"rArr", 0x21D2},
	{"radic", 0x221A}, {"rang", 0x232A}, {"raquo", 0xBB},
	{"rarr", 0x2192}, {"rceil", 0x2309}, {"rdquo", 0x201D},
	{"real", 0x211C}, {"reg", 0xAE}, {"rfloor", 0x230B}, {"rho", 0x3C1},
	{"rlm", 0x200F}, {"rsaquo", 0x203A}, {"rsquo", 0x2019},
	{"sbquo", 0x201A}, {"scaron", 0x161}, {"sdot", 0x22C5},
	{"sect", 0xA7}, {"shy", 0xAD}, {"sigma", 0x3C3}, {"sigmaf", 0x3C2},
	{"sim", 0x223C}, {"spades", 0x2660}, {"sub", 0x2282},
	{"sube", 0x2286}, {"sum", 0x2211}, {"sup", 0x2283}, {"sup1", 0xB9},
	{"sup2", 0xB2}, {"sup3", 0xB3}, {"supe", 0x2287}, {"szlig", 0xDF},
	{"tau", 0x3C4}, {"there4", 0x2234}, {"theta", 0x3B8},
	{"thetasym", 0x3D1}, {"thinsp", 0x2009}, {"thorn", 0xFE},
	{"tilde", 0x2DC}, {"times", 0xD7}, {"trade", 0x2122},
	{"uArr", 0x21D1}, {"uacute", 0xFA}, {"uarr", 0x2191}, {"ucirc", 0xFB},
	{"ugrave", 0xF9}, {"uml", 0xA8}, {"upsih", 0x3D2}, {"upsilon", 0x3C5},
	{"uuml", 0xFC}, {"weierp", 0x2118}, {"xi", 0x3BE}, {"yacute", 0xFD},
	{"yen", 0xA5}, {"yuml", 0xFF}, {"zeta", 0x3B6}, {"zwj", 0x200D},
	{"zwnj", 0x200C},
};

/* Writer state across md4c's callbacks for one md_render call. */
struct md_w {
	const char *src; /* our padded copy of the input, and its length */
	size_t srcn;
	buf *html;
	buf *plain;     /* NULL: no plain text wanted */
	size_t plain0;  /* plain->len at the start */
	buf tmp;        /* scratch: decoded URLs, the rebuilt figure */
	buf title;      /* the open image's decoded title */
	unsigned img;   /* images open: >0 means text is alt text */
	bool img_drop;  /* the outer image's URL was unsafe: alt as text */
	bool img_fig;   /* the outer image has a 出典 title */
	size_t img_alt; /* html offset of its alt text */
	/* Open spans, innermost last: md4c 0.4.8 can report a span's end
	 * without its start, so ends are matched here, not trusted. */
	MD_SPANTYPE spans[MD_SPAN_DEPTH];
	bool span_drop[MD_SPAN_DEPTH]; /* a link left out for its URL */
	unsigned nspans;
	unsigned span_over; /* spans past MD_SPAN_DEPTH, written as text */
	unsigned cells;  /* cells so far in the open table row */
	/* The open paragraph, for "an image alone in it becomes a figure". */
	bool in_p;
	size_t p_start;   /* html offset of its "<p>" */
	unsigned p_items; /* spans and non-blank texts in it so far */
	bool p_fig;       /* its first item is a 出典 image */
	size_t fig_src, fig_srclen, fig_alt, fig_altlen, fig_cap, fig_caplen;
	const struct md_images *imgs; /* size lookups, or NULL */
	unsigned img_w, img_h;        /* the open image's size (0: unknown) */
	unsigned fig_w, fig_h;
};

/* UTF-8 of cp into out (4 bytes room); U+FFFD for NUL, surrogates and
 * values past U+10FFFF, as HTML does. Returns the length. */
static size_t
md_utf8_put(uint32_t cp, char *out)
{
	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static int
md_entity_cmp(const void *key, const void *elem)
{
	const char *k = key;
	const struct md_entity *e = elem;
	size_t n = strcspn(k, ";");
	int r = strncmp(k, e->name, n);
	return r ? r : (e->name[n] ? -1 : 0);
}

/*
 * Decodes the character reference s[0, n) ("&amp;", "&#106;", "&#x6A;",
 * with the ';') into out (4 bytes room). Returns the UTF-8 length, or 0
 * when it is not one we know (the caller keeps it as literal text).
 */
static size_t
md_entity(const char *s, size_t n, char *out)
{
	if (n < 3 || s[0] != '&' || s[n - 1] != ';')
		return 0;
	if (s[1] == '#') {
		uint32_t cp = 0;
		bool hex = n > 3 && (s[2] == 'x' || s[2] == 'X');
		size_t i = hex ? 3 : 2, digits = 0;
		for (; i < n - 1; i++, digits++) {
			unsigned char c = (unsigned char)s[i];
			unsigned d;
			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
				d = (c | 0x20) - 'a' + 10;
			else
				return 0;
			if (cp <= 0x10FFFF)
				cp = cp * (hex ? 16 : 10) + d;
		}
		if (digits == 0)
			return 0;
		return md_utf8_put(cp, out);
	}
	char key[40];
	if (n > sizeof(key))
		return 0;
	memcpy(key, s + 1, n - 1); /* "name;" */
	key[n - 2] = ';';
	key[n - 1] = '\0';
	size_t count = sizeof(md_entities) / sizeof(md_entities[0]);
	const struct md_entity *e = bsearch(key, md_entities, count,
	    sizeof(md_entities[0]), md_entity_cmp);
	return e ? md_utf8_put(e->cp, out) : 0;
}

/*
 * md4c 0.4.8 can read, and report as text, a few bytes past the end of
 * its input (fuzz_markdown found it). md_render hands it a zero-padded
 * private copy, so such reads stay in memory we own, and this clamps any
 * reported run to the real input. Returns the usable length.
 */
static size_t
md_clamp(const struct md_w *w, const char *text, size_t size)
{
	uintptr_t t = (uintptr_t)text, b = (uintptr_t)w->src, e = b + w->srcn;

	if (t < b || t > e + MD_PAD)
		return size; /* not in the input: md4c's own buffers */
	if (t >= e)
		return 0;
	return size > e - t ? e - t : size;
}

/* Decodes an md4c attribute (href, src, title, code info) into dst:
 * entities resolved, NUL characters replaced, so URLs are judged as the
 * browser will see them ("&#106;avascript:" is "javascript:"). */
static void
md_attr(const struct md_w *w, buf *dst, const MD_ATTRIBUTE *a)
{
	buf_reset(dst);
	for (unsigned i = 0; a->substr_offsets[i] < a->size; i++) {
		MD_OFFSET b = a->substr_offsets[i];
		MD_OFFSET e = a->substr_offsets[i + 1];
		size_t n = md_clamp(w, a->text + b, e - b), len;
		char u[4];
		switch (a->substr_types[i]) {
		case MD_TEXT_NULLCHAR:
			buf_put(dst, "\xEF\xBF\xBD", 3);
			break;
		case MD_TEXT_ENTITY: /* unknown names are literal text */
			if ((len = md_entity(a->text + b, n, u)) != 0)
				buf_put(dst, u, len);
			else
				buf_put(dst, a->text + b, n);
			break;
		default:
			buf_put(dst, a->text + b, n);
			break;
		}
	}
}

/* Appends to the plain text, if wanted. */
static void
md_plain(struct md_w *w, const char *s, size_t n)
{
	if (w->plain)
		buf_put(w->plain, s, n);
}

/* One newline between blocks in the plain text, none at its start, and
 * no trailing blanks (an image-only paragraph leaves no blank line). */
static void
md_plain_break(struct md_w *w)
{
	buf *p = w->plain;

	if (p == NULL || p->err)
		return;
	while (p->len > w->plain0 &&
	    (p->ptr[p->len - 1] == ' ' || p->ptr[p->len - 1] == '\t'))
		p->ptr[--p->len] = '\0';
	if (p->len > w->plain0 && p->ptr[p->len - 1] != '\n')
		buf_putc(p, '\n');
}

/* True unless s has a byte other than ASCII white space. */
static bool
md_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	return true;
}

/* Document text: alt text (attribute-escaped, not in plain) inside an
 * image, else escaped text in both outputs. */
static void
md_out(struct md_w *w, const char *s, size_t n)
{
	if (w->img) {
		if (w->img_drop)
			html_text(w->html, s, n);
		else
			html_attr(w->html, s, n);
		return;
	}
	html_text(w->html, s, n);
	md_plain(w, s, n);
	if (w->in_p && !md_blank(s, n))
		w->p_items++;
}

/* " width=W height=H" when the image's size is known. */
static void
md_img_size(buf *h, unsigned wd, unsigned ht)
{
	if (wd > 0 && ht > 0)
		buf_printf(h, " width=\"%u\" height=\"%u\"", wd, ht);
}

/* "<p>" is written at once; md_leave_p may take it back for a figure. */
static void
md_enter_p(struct md_w *w)
{
	w->in_p = true;
	w->p_start = w->html->len;
	w->p_items = 0;
	w->p_fig = false;
	buf_puts(w->html, "<p>");
}

/* A paragraph holding only a 出典 image is rewritten as a figure (which
 * may not stand inside <p>); any other paragraph keeps the inline form. */
static void
md_leave_p(struct md_w *w)
{
	buf *h = w->html, *t = &w->tmp;

	w->in_p = false;
	if (!(w->p_fig && w->p_items == 1) || h->err) {
		buf_puts(h, "</p>\n");
		return;
	}
	buf_reset(t);
	buf_puts(t, "<figure><img src=\"");
	buf_put(t, h->ptr + w->fig_src, w->fig_srclen);
	buf_puts(t, "\" alt=\"");
	buf_put(t, h->ptr + w->fig_alt, w->fig_altlen);
	buf_putc(t, '"');
	md_img_size(t, w->fig_w, w->fig_h);
	buf_puts(t, " loading=\"lazy\"><figcaption>");
	buf_put(t, h->ptr + w->fig_cap, w->fig_caplen);
	buf_puts(t, "</figcaption></figure>\n");
	h->len = w->p_start;
	buf_put(h, t->ptr, t->len);
}

static void md_spans_close(struct md_w *w);

/* Cell alignment as the obsolete-but-CSP-proof align attribute. */
static void
md_cell(struct md_w *w, const char *tag, const MD_BLOCK_TD_DETAIL *d)
{
	static const char *const align[] = {
		[MD_ALIGN_DEFAULT] = "",
		[MD_ALIGN_LEFT] = " align=\"left\"",
		[MD_ALIGN_CENTER] = " align=\"center\"",
		[MD_ALIGN_RIGHT] = " align=\"right\"",
	};

	if (w->cells++)
		md_plain(w, " ", 1);
	buf_printf(w->html, "<%s%s>", tag,
	    d->align <= MD_ALIGN_RIGHT ? align[d->align] : "");
}

/* md4c callback: opening markup of a block. Returns nonzero to stop
 * parsing once the output buffer has refused an append. */
static int
md_enter_block(MD_BLOCKTYPE type, void *detail, void *ud)
{
	struct md_w *w = ud;
	buf *h = w->html;

	md_spans_close(w);
	/* text right before a nested block (tight list items) ends its line */
	if (type != MD_BLOCK_DOC && type != MD_BLOCK_TH &&
	    type != MD_BLOCK_TD && type != MD_BLOCK_THEAD &&
	    type != MD_BLOCK_TBODY)
		md_plain_break(w);
	switch (type) {
	case MD_BLOCK_QUOTE:
		buf_puts(h, "<blockquote>\n");
		break;
	case MD_BLOCK_UL:
		buf_puts(h, "<ul>\n");
		break;
	case MD_BLOCK_OL: {
		const MD_BLOCK_OL_DETAIL *d = detail;
		if (d->start != 1)
			buf_printf(h, "<ol start=\"%u\">\n", d->start);
		else
			buf_puts(h, "<ol>\n");
		break;
	}
	case MD_BLOCK_LI:
		buf_puts(h, "<li>");
		break;
	case MD_BLOCK_HR:
		buf_puts(h, "<hr>\n");
		break;
	case MD_BLOCK_H: {
		const MD_BLOCK_H_DETAIL *d = detail;
		buf_printf(h, "<h%u>", d->level < 2 ? 2 : d->level);
		break;
	}
	case MD_BLOCK_CODE: {
		const MD_BLOCK_CODE_DETAIL *d = detail;
		buf_puts(h, "<pre><code");
		if (d->lang.size) {
			md_attr(w, &w->tmp, &d->lang);
			buf_puts(h, " class=\"language-");
			html_attr(h, w->tmp.ptr, w->tmp.len);
			buf_putc(h, '"');
		}
		buf_putc(h, '>');
		break;
	}
	case MD_BLOCK_P:
		md_enter_p(w);
		break;
	case MD_BLOCK_TABLE:
		buf_puts(h, "<table>\n");
		break;
	case MD_BLOCK_THEAD:
		buf_puts(h, "<thead>\n");
		break;
	case MD_BLOCK_TBODY:
		buf_puts(h, "<tbody>\n");
		break;
	case MD_BLOCK_TR:
		buf_puts(h, "<tr>");
		w->cells = 0;
		break;
	case MD_BLOCK_TH:
		md_cell(w, "th", detail);
		break;
	case MD_BLOCK_TD:
		md_cell(w, "td", detail);
		break;
	default: /* MD_BLOCK_DOC; MD_BLOCK_HTML cannot occur with NOHTML */
		break;
	}
	return h->err ? -1 : 0;
}

/* md4c callback: closing markup of a block, and the plain-text break. */
static int
md_leave_block(MD_BLOCKTYPE type, void *detail, void *ud)
{
	struct md_w *w = ud;
	buf *h = w->html;

	md_spans_close(w);
	switch (type) {
	case MD_BLOCK_QUOTE:
		buf_puts(h, "</blockquote>\n");
		break;
	case MD_BLOCK_UL:
		buf_puts(h, "</ul>\n");
		break;
	case MD_BLOCK_OL:
		buf_puts(h, "</ol>\n");
		break;
	case MD_BLOCK_LI:
		buf_puts(h, "</li>\n");
		md_plain_break(w);
		break;
	case MD_BLOCK_HR:
		md_plain_break(w);
		break;
	case MD_BLOCK_H: {
		const MD_BLOCK_H_DETAIL *d = detail;
		buf_printf(h, "</h%u>\n", d->level < 2 ? 2 : d->level);
		md_plain_break(w);
		break;
	}
	case MD_BLOCK_CODE:
		buf_puts(h, "</code></pre>\n");
		md_plain_break(w);
		break;
	case MD_BLOCK_P:
		md_leave_p(w);
		md_plain_break(w);
		break;
	case MD_BLOCK_TABLE:
		buf_puts(h, "</table>\n");
		break;
	case MD_BLOCK_THEAD:
		buf_puts(h, "</thead>\n");
		break;
	case MD_BLOCK_TBODY:
		buf_puts(h, "</tbody>\n");
		break;
	case MD_BLOCK_TR:
		buf_puts(h, "</tr>\n");
		md_plain_break(w);
		break;
	case MD_BLOCK_TH:
		buf_puts(h, "</th>");
		break;
	case MD_BLOCK_TD:
		buf_puts(h, "</td>");
		break;
	default:
		break;
	}
	return h->err ? -1 : 0;
}

/* Opens a link whose URL passes html_url_safe; returns false for an
 * unsafe one, which is left out (only its text is written). */
static bool
md_enter_a(struct md_w *w, const MD_SPAN_A_DETAIL *d)
{
	buf *h = w->html;

	md_attr(w, &w->tmp, &d->href);
	if (!html_url_safe(w->tmp.ptr, w->tmp.len))
		return false;
	buf_puts(h, "<a href=\"");
	html_url(h, w->tmp.ptr, w->tmp.len);
	buf_putc(h, '"');
	if (d->title.size) {
		md_attr(w, &w->tmp, &d->title);
		buf_puts(h, " title=\"");
		html_attr(h, w->tmp.ptr, w->tmp.len);
		buf_putc(h, '"');
	}
	buf_putc(h, '>');
	return true;
}

/*
 * Opens an image: "<img src=... alt=" with the alt text to follow. An
 * unsafe URL drops the image and its alt text is written as text. A 出典
 * title is written inline as a <small class="credit"> after the image,
 * which md_leave_p turns into a figure when the image is alone.
 */
static void
md_enter_img(struct md_w *w, const MD_SPAN_IMG_DETAIL *d)
{
	buf *h = w->html;

	md_attr(w, &w->title, &d->title);
	md_attr(w, &w->tmp, &d->src);
	w->img_drop = !html_url_safe(w->tmp.ptr, w->tmp.len);
	w->img_fig = !w->img_drop && w->title.len >= strlen(MD_CREDIT) &&
	    memcmp(w->title.ptr, MD_CREDIT, strlen(MD_CREDIT)) == 0;
	if (w->in_p && w->p_items == 0 && w->img_fig)
		w->p_fig = true;
	if (w->in_p)
		w->p_items++;
	if (w->img_drop)
		return;
	w->img_w = w->img_h = 0;
	if (w->imgs != NULL && w->imgs->size != NULL &&
	    (!w->imgs->size(w->imgs->ctx, w->tmp.ptr, w->tmp.len, &w->img_w,
	    &w->img_h) || w->img_w == 0 || w->img_h == 0))
		w->img_w = w->img_h = 0;
	buf_puts(h, "<img src=\"");
	w->fig_src = h->len;
	html_url(h, w->tmp.ptr, w->tmp.len);
	w->fig_srclen = h->len - w->fig_src;
	buf_puts(h, "\" alt=\"");
	w->img_alt = h->len;
}

/* Closes the image opened by md_enter_img. */
static void
md_leave_img(struct md_w *w)
{
	buf *h = w->html;

	if (w->img_drop)
		return;
	if (!w->img_fig) {
		buf_putc(h, '"');
		md_img_size(h, w->img_w, w->img_h);
		if (w->title.len) {
			buf_puts(h, " title=\"");
			html_attr(h, w->title.ptr, w->title.len);
			buf_putc(h, '"');
		}
		buf_puts(h, " loading=\"lazy\">");
		return;
	}
	w->fig_alt = w->img_alt;
	w->fig_altlen = h->len - w->img_alt;
	w->fig_w = w->img_w;
	w->fig_h = w->img_h;
	buf_putc(h, '"');
	md_img_size(h, w->img_w, w->img_h);
	buf_puts(h, " loading=\"lazy\"><small class=\"credit\">");
	w->fig_cap = h->len;
	html_text(h, w->title.ptr, w->title.len);
	w->fig_caplen = h->len - w->fig_cap;
	buf_puts(h, "</small>");
}

/* Closing tag of span type (an image is closed by md_leave_img). */
static void
md_span_close(struct md_w *w, MD_SPANTYPE type, bool dropped)
{
	static const char *const close[] = {
		[MD_SPAN_EM] = "</em>",
		[MD_SPAN_STRONG] = "</strong>",
		[MD_SPAN_A] = "</a>",
		[MD_SPAN_CODE] = "</code>",
		[MD_SPAN_DEL] = "</del>",
	};

	if (type == MD_SPAN_IMG) {
		md_leave_img(w);
		w->img = 0;
	} else if (!dropped &&
	    (size_t)type < sizeof(close) / sizeof(close[0]) &&
	    close[type] != NULL) {
		buf_puts(w->html, close[type]);
	}
}

/* Closes every span still open: spans never outlive their block. */
static void
md_spans_close(struct md_w *w)
{
	while (w->nspans) {
		w->nspans--;
		md_span_close(w, w->spans[w->nspans], w->span_drop[w->nspans]);
	}
	w->span_over = 0;
	w->img = 0;
}

/* md4c callback: inline markup. Inside an image only text counts (it is
 * the alt text), so nested spans write nothing there. */
static int
md_enter_span(MD_SPANTYPE type, void *detail, void *ud)
{
	struct md_w *w = ud;
	buf *h = w->html;
	bool dropped = false;

	if (w->img) {
		w->img += type == MD_SPAN_IMG;
		return 0;
	}
	if (w->in_p && type != MD_SPAN_IMG)
		w->p_items++;
	if (w->nspans == MD_SPAN_DEPTH) {
		w->span_over++;
		return 0;
	}
	switch (type) {
	case MD_SPAN_EM:
		buf_puts(h, "<em>");
		break;
	case MD_SPAN_STRONG:
		buf_puts(h, "<strong>");
		break;
	case MD_SPAN_A:
		dropped = !md_enter_a(w, detail);
		break;
	case MD_SPAN_IMG:
		md_enter_img(w, detail);
		w->img = 1;
		break;
	case MD_SPAN_CODE:
		buf_puts(h, "<code>");
		break;
	case MD_SPAN_DEL:
		buf_puts(h, "<del>");
		break;
	default: /* extensions we do not enable */
		break;
	}
	w->spans[w->nspans] = type;
	w->span_drop[w->nspans] = dropped;
	w->nspans++;
	return h->err ? -1 : 0;
}

/* md4c callback: the end of a span, written only when it ends the
 * innermost open span. */
static int
md_leave_span(MD_SPANTYPE type, void *detail, void *ud)
{
	struct md_w *w = ud;
	buf *h = w->html;

	if (w->img > 1 || (w->img == 1 && type != MD_SPAN_IMG)) {
		w->img -= type == MD_SPAN_IMG;
		return 0;
	}
	if (w->span_over) {
		w->span_over--;
		return 0;
	}
	if (w->nspans == 0 || w->spans[w->nspans - 1] != type)
		return 0;
	w->nspans--;
	md_span_close(w, type, w->span_drop[w->nspans]);
	return h->err ? -1 : 0;
}

/* md4c callback: text of every kind goes through md_out (escaped);
 * MD_TEXT_HTML cannot occur with NOHTML and would be escaped too. */
static int
md_text(MD_TEXTTYPE type, const MD_CHAR *text, MD_SIZE size, void *ud)
{
	struct md_w *w = ud;
	char u[4];
	size_t len;

	size = (MD_SIZE)md_clamp(w, text, size);
	switch (type) {
	case MD_TEXT_NULLCHAR:
		md_out(w, "\xEF\xBF\xBD", 3);
		break;
	case MD_TEXT_BR:
		if (w->img) {
			md_out(w, " ", 1);
			break;
		}
		buf_puts(w->html, "<br>\n");
		md_plain(w, "\n", 1);
		if (w->in_p)
			w->p_items++;
		break;
	case MD_TEXT_SOFTBR:
		if (w->img) {
			md_out(w, " ", 1);
			break;
		}
		buf_putc(w->html, '\n');
		md_plain(w, " ", 1);
		break;
	case MD_TEXT_ENTITY:
		if ((len = md_entity(text, size, u)) != 0)
			md_out(w, u, len);
		else
			md_out(w, text, size);
		break;
	default:
		md_out(w, text, size);
		break;
	}
	return w->html->err ? -1 : 0;
}

/* Renders src (valid UTF-8) into html and, when not NULL, plain; on
 * failure both are left as they were. */
bool
md_render(buf *html, buf *plain, const char *src, size_t n)
{
	return md_render_sized(html, plain, src, n, NULL);
}

bool
md_render_sized(buf *html, buf *plain, const char *src, size_t n,
    const struct md_images *img)
{
	struct md_w w = {.html = html, .plain = plain, .imgs = img};
	MD_PARSER parser = {
		.abi_version = 0,
		.flags = MD_FLAGS,
		.enter_block = md_enter_block,
		.leave_block = md_leave_block,
		.enter_span = md_enter_span,
		.leave_span = md_leave_span,
		.text = md_text,
	};
	size_t h0 = html->len;
	int rc;

	if (n > UINT_MAX || !text_utf8_valid(src, n) || html->err)
		return false;
	w.plain0 = plain ? plain->len : 0;
	char *copy = xmalloc(n + MD_PAD);
	if (n)
		memcpy(copy, src, n);
	memset(copy + n, 0, MD_PAD);
	w.src = copy;
	w.srcn = n;
	buf_init(&w.tmp, 0);
	buf_init(&w.title, 0);
	rc = md_parse(copy, (MD_SIZE)n, &parser, &w);
	buf_free(&w.tmp);
	buf_free(&w.title);
	free(copy);
	if (rc != 0 || html->err) {
		html->len = h0;
		if (html->ptr)
			html->ptr[h0] = '\0';
		if (plain) {
			plain->len = w.plain0;
			if (plain->ptr)
				plain->ptr[w.plain0] = '\0';
		}
		return false;
	}
	md_plain_break(&w);
	while (plain && plain->len > w.plain0 &&
	    plain->ptr[plain->len - 1] == '\n')
		plain->ptr[--plain->len] = '\0';
	return true;
}

/* ---- md_html_to_plain --------------------------------------------------- */

/* Tags after which the plain text breaks the line. */
static const char *const md_block_tags[] = {
	"address", "article", "aside", "blockquote", "br", "dd", "div", "dl",
	"dt", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5",
	"h6", "header", "hr", "li", "ol", "p", "pre", "section", "table", "td",
	"th", "tr", "ul", NULL
};

static bool
md_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/* Index just past the '>' ending the tag that starts at s[i] ('<'),
 * stepping over quoted attribute values; n when it never ends. */
static size_t
md_tag_end(const char *s, size_t n, size_t i)
{
	char q = 0;

	for (i++; i < n; i++) {
		if (q) {
			if (s[i] == q)
				q = 0;
		} else if (s[i] == '"' || s[i] == '\'') {
			q = s[i];
		} else if (s[i] == '>') {
			return i + 1;
		}
	}
	return n;
}

/* Where the raw text of a <script>/<style> starting at i ends: just past
 * its "</name ...>", or n. */
static size_t
md_raw_end(const char *s, size_t n, size_t i, const char *name, size_t len)
{
	for (; i + 2 + len <= n; i++)
		if (s[i] == '<' && s[i + 1] == '/' &&
		    strncasecmp(s + i + 2, name, len) == 0)
			return md_tag_end(s, n, i);
	return n;
}

/* Whether the tag name s[0, n) is name, ignoring case. */
static bool
md_tag_is(const char *s, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(s, name, n) == 0;
}

/* Line break in the plain text, at most one in a row, none at its start. */
static void
md_html_break(buf *plain, size_t p0)
{
	if (plain->len > p0 && plain->ptr[plain->len - 1] != '\n')
		buf_putc(plain, '\n');
}

/* Imported HTML bodies to plain text: comments, tags and the contents of
 * script and style dropped, block tags made line breaks, character
 * references decoded (unknown ones kept as written). */
void
md_html_to_plain(buf *plain, const char *s, size_t n)
{
	size_t i = 0, run = 0, p0 = plain->len;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c == '&') {
			size_t k = i + 1, len = 0;
			char u[4];
			while (k < n && k - i < 40 && s[k] != ';' &&
			    s[k] != '&' && s[k] != '<' &&
			    (unsigned char)s[k] > ' ')
				k++;
			if (k < n && s[k] == ';')
				len = md_entity(s + i, k + 1 - i, u);
			if (len == 0) {
				i++;
				continue;
			}
			buf_put(plain, s + run, i - run);
			buf_put(plain, u, len);
			i = run = k + 1;
			continue;
		}
		if (c != '<' || i + 1 >= n ||
		    !(md_alpha((unsigned char)s[i + 1]) || s[i + 1] == '/' ||
			s[i + 1] == '!' || s[i + 1] == '?')) {
			i++;
			continue;
		}
		buf_put(plain, s + run, i - run);
		if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
			const char *e = memmem(s + i + 4, n - i - 4, "-->", 3);
			i = e ? (size_t)(e - s) + 3 : n;
			run = i;
			continue;
		}
		size_t b = i + 1 + (s[i + 1] == '/'), e = b;
		while (e < n && (md_alpha((unsigned char)s[e]) ||
			   (s[e] >= '0' && s[e] <= '9')))
			e++;
		size_t end = md_tag_end(s, n, i);
		bool start = s[i + 1] != '/';
		if (start && md_tag_is(s + b, e - b, "script"))
			end = md_raw_end(s, n, end, "script", 6);
		else if (start && md_tag_is(s + b, e - b, "style"))
			end = md_raw_end(s, n, end, "style", 5);
		for (const char *const *t = md_block_tags; *t; t++)
			if (md_tag_is(s + b, e - b, *t)) {
				md_html_break(plain, p0);
				break;
			}
		i = run = end;
	}
	buf_put(plain, s + run, n - run);
	while (plain->len > p0 && plain->ptr[plain->len - 1] == '\n')
		plain->ptr[--plain->len] = '\0';
}
