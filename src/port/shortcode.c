/*
 * port_shortcodes: WordPress's shortcodes in an imported body, turned into
 * the HTML WordPress would have shown, before wpautop and the sanitiser:
 * [caption] becomes <figure> with a <figcaption> (so 出典 credits survive),
 * [gallery] a list of figures, [embed], [audio], [video] and a URL alone
 * on a line plain links (no iframe is ever stored: an [embed] or a URL
 * alone on a line becomes <p class="embed">, which kiji.js may turn into
 * a player when content.embeds allows it). Unknown
 * shortcodes stay as text and are counted by name; [[x]] is WordPress's
 * escape for a literal [x]. The text is hostile: every scan is bounded
 * (attributes, nesting, shortcodes per body), and what we write around
 * the author's HTML is escaped; the HTML itself goes to the sanitiser.
 */
#include "port.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../render/render.h"

#define SC_DEPTH 4            /* shortcodes inside a caption's text */
#define SC_MAX 2000           /* shortcodes looked at in one body */
#define SC_ATTRS_MAX 4096     /* bytes between a tag's name and its ] */
#define SC_NAME_MAX 31
#define SC_URL_MAX 2048       /* bytes of a URL made a link */
#define SC_GALLERY_MAX 200    /* images of one gallery */
#define SC_ENCLOSING 5        /* the names that take a closing tag */

/* The names we convert; the first SC_ENCLOSING may enclose content. */
enum sc_kind { SC_CAPTION, SC_WP_CAPTION, SC_EMBED, SC_AUDIO, SC_VIDEO,
	SC_GALLERY, SC_UNKNOWN };
static const char *const sc_names[] = {"caption", "wp_caption", "embed",
	"audio", "video", "gallery"};

/* One opening or closing tag. */
struct sc_tag {
	char name[SC_NAME_MAX + 1];
	enum sc_kind kind;
	const char *attrs;   /* between the name and ] (or /]) */
	size_t nattrs;
	size_t end;          /* the offset after its ] */
	bool closing;        /* [/name] */
	bool self;           /* [name /] */
};

struct sc {
	buf *out;
	const struct port_sc_ctx *c;
	struct port_sc_stats *st;
	int seen;                         /* tags handled, up to SC_MAX */
};

static bool
sc_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* Parses the tag at s[i] == '['; false when it is none (then it is text). */
static bool
sc_tag(const char *s, size_t n, size_t i, struct sc_tag *t)
{
	size_t k = i + 1, len = 0;
	memset(t, 0, sizeof(*t));
	if (k < n && s[k] == '/') {
		t->closing = true;
		k++;
	}
	if (k >= n || !isalpha((unsigned char)s[k]))
		return false;
	while (k < n && sc_name_char(s[k])) {
		if (len == SC_NAME_MAX)
			return false;
		t->name[len++] = s[k++];
	}
	if (k >= n || !(s[k] == ']' || s[k] == ' ' || s[k] == '\t' ||
	    s[k] == '\n' || s[k] == '/'))
		return false;
	size_t a = k;
	/* attributes run to the first ']', never across a '[' */
	while (k < n && s[k] != ']' && s[k] != '[' && k - a <= SC_ATTRS_MAX)
		k++;
	if (k >= n || s[k] != ']' || (t->closing && k != a))
		return false;
	t->attrs = s + a;
	t->nattrs = k - a;
	if (t->nattrs > 0 && s[k - 1] == '/') {
		t->self = true;
		t->nattrs--;
	}
	t->end = k + 1;
	t->kind = SC_UNKNOWN;
	for (size_t m = 0; m < sizeof(sc_names) / sizeof(*sc_names); m++)
		if (strcmp(t->name, sc_names[m]) == 0)
			t->kind = (enum sc_kind)m;
	return true;
}

/*
 * Attribute key (NULL: the first positional value) of tag t, in a fresh
 * buffer; false when absent. Forms as WordPress's shortcode_parse_atts:
 * key="v", key='v', key=v, "v", 'v', v.
 */
static bool
sc_attr(const struct sc_tag *t, const char *key, buf *v)
{
	const char *p = t->attrs, *e = t->attrs + t->nattrs;
	buf_reset(v);
	while (p < e) {
		while (p < e && isspace((unsigned char)*p))
			p++;
		const char *name = p;
		while (p < e && sc_name_char(*p))
			p++;
		size_t nlen = (size_t)(p - name);
		const char *q = p;
		while (q < e && isspace((unsigned char)*q))
			q++;
		bool named = nlen > 0 && q < e && *q == '=';
		if (named) {
			p = q + 1;
			while (p < e && isspace((unsigned char)*p))
				p++;
		} else {
			p = name;
		}
		const char *val = p;
		size_t vlen;
		if (p < e && (*p == '"' || *p == '\'')) {
			const char *close = memchr(p + 1, *p, (size_t)(e - p - 1));
			if (close == NULL)
				close = e;
			val = p + 1;
			vlen = (size_t)(close - val);
			p = close < e ? close + 1 : e;
		} else {
			while (p < e && !isspace((unsigned char)*p))
				p++;
			vlen = (size_t)(p - val);
		}
		if (vlen == 0 && p == val) {
			p++; /* a stray '=' or quote: step over it */
			continue;
		}
		bool hit = key == NULL ? !named : (named && nlen == strlen(key) &&
		    strncasecmp(name, key, nlen) == 0);
		if (hit) {
			buf_put(v, val, vlen);
			buf_cstr(v);
			return true;
		}
	}
	return false;
}

/* A URL we make a link of: http(s), no white space, quotes or angle
 * brackets, at most SC_URL_MAX bytes; "&amp;" read as "&". Into u. */
static bool
sc_url(const char *s, size_t n, buf *u)
{
	buf_reset(u);
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n <= 8 || n > SC_URL_MAX || !(strncasecmp(s, "http://", 7) == 0 ||
	    strncasecmp(s, "https://", 8) == 0))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f || c == '"' || c == '\'' || c == '<' ||
		    c == '>' || c == '[' || c == ']')
			return false;
		if (c == '&' && n - i >= 5 && strncmp(s + i, "&amp;", 5) == 0) {
			buf_putc(u, '&');
			i += 4;
		} else if (c == '&' && n - i >= 6 && strncmp(s + i, "&#038;", 6) == 0) {
			buf_putc(u, '&');
			i += 5;
		} else {
			buf_putc(u, (char)c);
		}
	}
	return !u->err && text_utf8_valid(u->ptr, u->len);
}

/* <p><a href="u">u</a></p>; embed: <p class="embed">, the mark of what
 * WordPress would have embedded (the page's script may, the store never). */
static void
sc_link(buf *out, const buf *u, bool embed)
{
	buf_puts(out, embed ? "<p class=\"embed\"><a href=\"" : "<p><a href=\"");
	html_url(out, u->ptr, u->len);
	buf_puts(out, "\">");
	html_text(out, u->ptr, u->len);
	buf_puts(out, "</a></p>");
}

static void
sc_count_unknown(struct port_sc_stats *st, const char *name)
{
	size_t k;
	st->unknown_total++;
	for (k = 0; k < PORT_SC_NAMES && st->unknown[k].name[0]; k++)
		if (strcmp(st->unknown[k].name, name) == 0)
			break;
	if (k < PORT_SC_NAMES && st->unknown[k].name[0] == '\0')
		snprintf(st->unknown[k].name, sizeof(st->unknown[k].name), "%s",
		    name);
	st->unknown[k].n++;
}

/* Where "[/name]" starts in s[from..n), or n. A search that found
 * nothing is remembered in no_close (s's own, offset + 1): no later one
 * of the name looks again, so a body of unclosed tags stays linear. */
static size_t
sc_find_close(size_t *no_close, const char *s, size_t n, size_t from,
    enum sc_kind kind)
{
	char pat[SC_NAME_MAX + 4];
	if (kind >= SC_ENCLOSING)
		return n;
	if (no_close[kind] && from >= no_close[kind] - 1)
		return n;
	size_t plen = (size_t)snprintf(pat, sizeof(pat), "[/%s]", sc_names[kind]);
	const char *hit = from < n ? memmem(s + from, n - from, pat, plen) : NULL;
	if (hit == NULL) {
		no_close[kind] = from + 1;
		return n;
	}
	return (size_t)(hit - s);
}

static void sc_run(struct sc *x, const char *s, size_t n, int depth);

/*
 * [caption align=… caption=…]<a><img></a> text[/caption]: the image part
 * (an <img>, perhaps in a link) and the caption text, as WordPress's
 * img_caption_shortcode splits them. Without an image: the content as
 * it is.
 */
static void
sc_caption(struct sc *x, const struct sc_tag *t, const char *c, size_t n,
    int depth)
{
	buf v;
	size_t i = 0, img_end = 0;
	buf_init(&v, SC_ATTRS_MAX + 1);
	while (i < n && isspace((unsigned char)c[i]))
		i++;
	size_t img = i;
	if (n - i > 3 && strncasecmp(c + i, "<a ", 3) == 0) {
		const char *gt = memchr(c + i, '>', n - i);
		i = gt ? (size_t)(gt - c) + 1 : n;
		while (i < n && isspace((unsigned char)c[i]))
			i++;
	}
	if (n - i > 5 && strncasecmp(c + i, "<img ", 5) == 0) {
		const char *gt = memchr(c + i, '>', n - i);
		if (gt != NULL) {
			img_end = (size_t)(gt - c) + 1;
			size_t k = img_end;
			while (k < n && isspace((unsigned char)c[k]))
				k++;
			if (img != i) { /* the link's end tag */
				if (n - k >= 4 && strncasecmp(c + k, "</a>", 4) == 0)
					img_end = k + 4;
				else
					img_end = 0;
			}
		}
	}
	if (img_end == 0) {
		sc_run(x, c, n, depth + 1);
		buf_free(&v);
		return;
	}
	x->st->converted++;
	buf_puts(x->out, "<figure class=\"wp-caption");
	if (sc_attr(t, "align", &v) && (strcmp(v.ptr, "alignleft") == 0 ||
	    strcmp(v.ptr, "alignright") == 0 || strcmp(v.ptr, "aligncenter") == 0
	    || strcmp(v.ptr, "alignnone") == 0)) {
		buf_putc(x->out, ' ');
		buf_puts(x->out, v.ptr);
	}
	buf_puts(x->out, "\">");
	buf_put(x->out, c + img, img_end - img);
	const char *text = c + img_end;
	size_t tn = n - img_end;
	if (sc_attr(t, "caption", &v)) { /* the old form: an attribute */
		text = v.ptr ? v.ptr : "";
		tn = v.len;
	}
	while (tn > 0 && isspace((unsigned char)*text)) {
		text++;
		tn--;
	}
	while (tn > 0 && isspace((unsigned char)text[tn - 1]))
		tn--;
	if (tn > 0) {
		buf_puts(x->out, "<figcaption class=\"wp-caption-text\">");
		sc_run(x, text, tn, depth + 1);
		buf_puts(x->out, "</figcaption>");
	}
	buf_puts(x->out, "</figure>");
	buf_free(&v);
}

/* [gallery ids="1,2,3"] (or include=), else the post's attached images:
 * a list of figures, each image linked to its file. */
static void
sc_gallery(struct sc *x, const struct sc_tag *t)
{
	const struct port_sc_ctx *c = x->c;
	int64_t ids[SC_GALLERY_MAX];
	size_t nids = 0;
	buf v;
	buf_init(&v, SC_ATTRS_MAX + 1);
	x->st->converted++;
	if (sc_attr(t, "ids", &v) || sc_attr(t, "include", &v)) {
		const char *p = v.ptr ? v.ptr : "";
		while (*p && nids < SC_GALLERY_MAX) {
			while (*p && !isdigit((unsigned char)*p))
				p++;
			if (!*p)
				break;
			char *e;
			long long id = strtoll(p, &e, 10);
			if (id > 0)
				ids[nids++] = id;
			p = e;
		}
	} else if (c && c->children && c->post_id > 0) {
		nids = c->children(c->ctx, c->post_id, ids, SC_GALLERY_MAX);
	}
	size_t shown = 0;
	for (size_t i = 0; i < nids; i++) {
		struct port_sc_media m = {0};
		if (!c || !c->media || !c->media(c->ctx, ids[i], &m) || !m.url ||
		    !*m.url)
			continue;
		if (shown++ == 0)
			buf_puts(x->out, "<ul class=\"gallery\">");
		buf_puts(x->out, "<li><figure><a href=\"");
		html_url(x->out, m.url, strlen(m.url));
		buf_puts(x->out, "\"><img src=\"");
		html_url(x->out, m.url, strlen(m.url));
		buf_puts(x->out, "\" alt=\"");
		html_attr(x->out, m.alt ? m.alt : "", m.alt ? strlen(m.alt) : 0);
		buf_puts(x->out, "\"></a>");
		if (m.caption && *m.caption) {
			buf_puts(x->out, "<figcaption>");
			buf_puts(x->out, m.caption); /* HTML: sanitised later */
			buf_puts(x->out, "</figcaption>");
		}
		buf_puts(x->out, "</figure></li>");
	}
	if (shown)
		buf_puts(x->out, "</ul>");
	buf_free(&v);
}

/* [audio src=…] / [video mp4=…] / [audio URL]: a link to the file. */
static void
sc_media(struct sc *x, const struct sc_tag *t)
{
	static const char *const keys[] = {"src", "mp3", "m4a", "ogg", "wav",
	    "wma", "mp4", "m4v", "webm", "ogv", "wmv", "flv", NULL};
	buf v, u;
	buf_init(&v, SC_ATTRS_MAX + 1);
	buf_init(&u, SC_URL_MAX + 1);
	bool found = false;
	for (size_t k = 0; keys[k] && !found; k++)
		found = sc_attr(t, keys[k], &v) && sc_url(v.ptr, v.len, &u);
	if (!found)
		found = sc_attr(t, NULL, &v) && sc_url(v.ptr, v.len, &u);
	x->st->converted++;
	if (found)
		sc_link(x->out, &u, false);
	buf_free(&v);
	buf_free(&u);
}

/* At a line start: the URL alone on the line (spaces around it), as
 * WordPress's auto-embed takes it, into u. The line's length or 0. */
static size_t
sc_url_line(const char *s, size_t n, buf *u)
{
	size_t e = 0;
	while (e < n && s[e] != '\n' && e <= SC_URL_MAX + 64)
		e++;
	if (e > SC_URL_MAX + 64 || e < 9)
		return 0;
	return sc_url(s, e, u) ? e : 0;
}

/*
 * The converter's loop over s[0..n): HTML comments and tags are copied as
 * they are (a shortcode inside a tag's attribute stays text), shortcodes
 * converted at depth < SC_DEPTH.
 */
static void
sc_run(struct sc *x, const char *s, size_t n, int depth)
{
	size_t i = 0, run = 0, no_close[SC_ENCLOSING] = {0};
	bool line_start = true;
	while (i < n) {
		char ch = s[i];
		if (line_start && depth == 0) {
			size_t k = i;
			while (k < n && (s[k] == ' ' || s[k] == '\t'))
				k++;
			buf u;
			buf_init(&u, SC_URL_MAX + 1);
			size_t len = k < n && (s[k] == 'h' || s[k] == 'H') ?
			    sc_url_line(s + k, n - k, &u) : 0;
			if (len > 0) {
				buf_put(x->out, s + run, i - run);
				x->st->converted++;
				sc_link(x->out, &u, true);
				i = run = k + len;
			}
			buf_free(&u);
			if (len > 0)
				continue;
		}
		line_start = ch == '\n';
		if (ch == '<' && n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
			const char *e = memmem(s + i + 4, n - i - 4, "-->", 3);
			i = e ? (size_t)(e - s) + 3 : n;
			continue;
		}
		if (ch == '<' && i + 1 < n && (isalpha((unsigned char)s[i + 1]) ||
		    s[i + 1] == '/')) {
			const char *e = memchr(s + i, '>', n - i);
			i = e ? (size_t)(e - s) + 1 : n;
			continue;
		}
		if (ch != '[' || x->seen >= SC_MAX) {
			i++;
			continue;
		}
		struct sc_tag t;
		/* [[name …]] and [[name]…[/name]]: the escape, one bracket off */
		if (i + 1 < n && s[i + 1] == '[' && sc_tag(s, n, i + 1, &t) &&
		    !t.closing) {
			x->seen++;
			size_t stop = 0;
			if (t.end < n && s[t.end] == ']') {
				stop = t.end;
			} else if (t.kind < SC_ENCLOSING) {
				size_t cl = sc_find_close(no_close, s, n, t.end, t.kind);
				size_t cn = strlen(sc_names[t.kind]) + 3;
				if (cl < n && cl + cn < n && s[cl + cn] == ']')
					stop = cl + cn;
			}
			if (stop) {
				buf_put(x->out, s + run, i - run);
				buf_put(x->out, s + i + 1, stop - i - 1);
				i = run = stop + 1;
				continue;
			}
			i += 2;
			continue;
		}
		if (!sc_tag(s, n, i, &t) || t.closing) {
			i++;
			continue;
		}
		x->seen++;
		if (t.kind == SC_UNKNOWN || depth >= SC_DEPTH) {
			sc_count_unknown(x->st, t.name);
			i = t.end;
			continue;
		}
		buf_put(x->out, s + run, i - run);
		size_t cl = n, after = t.end;
		if (!t.self && t.kind < SC_ENCLOSING) {
			cl = sc_find_close(no_close, s, n, t.end, t.kind);
			if (cl < n)
				after = cl + strlen(sc_names[t.kind]) + 3;
		}
		const char *c = s + t.end;
		size_t cn = cl < n ? cl - t.end : 0;
		buf u;
		switch (t.kind) {
		case SC_CAPTION:
		case SC_WP_CAPTION:
			sc_caption(x, &t, c, cn, depth);
			break;
		case SC_EMBED:
			buf_init(&u, SC_URL_MAX + 1);
			x->st->converted++;
			if (sc_url(c, cn, &u))
				sc_link(x->out, &u, true);
			else
				buf_put(x->out, c, cn);
			buf_free(&u);
			break;
		case SC_AUDIO:
		case SC_VIDEO:
			sc_media(x, &t);
			break;
		default:
			sc_gallery(x, &t);
			break;
		}
		i = run = after;
	}
	buf_put(x->out, s + run, n - run);
}

bool
port_shortcodes(buf *out, const char *s, size_t n,
    const struct port_sc_ctx *c, struct port_sc_stats *st)
{
	struct sc x;
	memset(&x, 0, sizeof(x));
	x.out = out;
	x.c = c;
	x.st = st;
	sc_run(&x, s, n, 0);
	return !out->err;
}
