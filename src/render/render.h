/*
 * render: everything that produces HTML or XML bytes. Escaping writers for
 * each context, the template engine (auto-escaping, context fixed at compile
 * time), Markdown through md4c into our own escaping writer, and the comment
 * text formatter. Depends on text/ only.
 */
#ifndef KIJI_RENDER_H
#define KIJI_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../text/text.h"

/* ---- escaping writers (escape.c) ---------------------------------------- */

/* Text node: & < > " ' escaped. */
void html_text(buf *out, const char *s, size_t n);
/* Quoted attribute value: the same five escapes as html_text, which is
 * what can end or confuse a double- or single-quoted value. */
void html_attr(buf *out, const char *s, size_t n);
/*
 * URL in an href/src attribute: the URL is kept only if it is relative
 * (path, query or fragment) or its scheme is http, https or mailto
 * (case-insensitive, after stripping what browsers strip: ASCII whitespace
 * and control characters); otherwise "#" is written. Then attribute-escaped.
 * Returns false when it replaced the URL.
 */
bool html_url(buf *out, const char *s, size_t n);
/* True if html_url would keep this URL. */
bool html_url_safe(const char *s, size_t n);
/*
 * A JSON string literal (with quotes) safe inside <script>: <, >, &, U+2028,
 * U+2029 and ' escaped as \uXXXX, so "</script>" and "<!--" cannot appear.
 */
void html_json_string(buf *out, const char *s, size_t n);
/* XML text/attribute for feeds and sitemaps (same rules as html_attr, and
 * characters not allowed in XML 1.0 dropped). */
void xml_text(buf *out, const char *s, size_t n);
/* Deliberately named raw write: only for bytes we produced ourselves. */
void html_raw_trusted(buf *out, const char *s, size_t n);

/* ---- template values (value.c) ------------------------------------------- */

/*
 * A view model is a tree of values built per request in an arena:
 * strings, integers, booleans, lists and dicts. Templates look names up in
 * it. A string may be marked trusted HTML (our Markdown output), the only
 * kind {{{raw}}} accepts; {{{x}}} on an untrusted string escapes anyway.
 */
enum tv_kind {
	TV_NULL,
	TV_STR,
	TV_INT,
	TV_BOOL,
	TV_LIST,
	TV_DICT,
	TV__MAX
};

typedef struct tv tv;

tv *tv_dict(arena *a);
tv *tv_list(arena *a);
tv *tv_str(arena *a, const char *s); /* copies s */
tv *tv_strn(arena *a, const char *s, size_t n);
tv *tv_str_nocopy(arena *a, const char *s, size_t n); /* s must outlive the tree */
tv *tv_html_trusted(arena *a, const char *s, size_t n); /* copies */
tv *tv_int(arena *a, int64_t v);
tv *tv_bool(arena *a, bool v);

/* Sets key in a dict (key is not copied: use literals or arena strings).
 * Returns v. Setting an existing key replaces it. */
tv *tv_set(tv *dict, const char *key, tv *v);
/* tv_set of a key dict does not hold yet (unchecked: no search). */
tv *tv_add(tv *dict, const char *key, tv *v);
/* An empty dict with room for cap keys. */
tv *tv_dict_n(arena *a, size_t cap);
tv *tv_set_str(arena *a, tv *dict, const char *key, const char *s);
tv *tv_set_int(arena *a, tv *dict, const char *key, int64_t v);
tv *tv_set_bool(arena *a, tv *dict, const char *key, bool v);
/* Appends v to a list; returns v. */
tv *tv_push(tv *list, tv *v);
/* A deep copy in a (dict keys shared, not copied). */
tv *tv_clone(arena *a, const tv *v);

enum tv_kind tv_kind_of(const tv *v);
tv *tv_get(const tv *dict, const char *key);
/* tv_get with key's tv_keyhash worked out beforehand (the template
 * engine hashes its names once, when it compiles). */
uint32_t tv_keyhash(const char *key);
tv *tv_get_h(const tv *dict, const char *key, uint32_t h);
size_t tv_len(const tv *list);
/* Truthiness as sections see it: NULL, false, 0, "" and empty lists are false. */
bool tv_truthy(const tv *v);
/* Reading a tree back (the template engine and tests). A string's bytes
 * and length (NULL unless TV_STR); whether it is tv_html_trusted; an
 * integer (TV_INT, or 0/1 for TV_BOOL, else 0); item i of a list or value
 * i of a dict in insertion order and that dict entry's key (NULL past the
 * end). */
const char *tv_str_of(const tv *v, size_t *n);
bool tv_is_trusted(const tv *v);
int64_t tv_int_of(const tv *v);
tv *tv_at(const tv *v, size_t i);
const char *tv_key_at(const tv *dict, size_t i);

/* ---- templates (tmpl.c) --------------------------------------------------- */

/*
 * Syntax (mustache-like):
 *   {{name}} {{a.b.c}}  value, escaped for the context it stands in
 *   {{{name}}}           trusted HTML (tv_html_trusted) written raw
 *   {{#name}}..{{/name}} section: once per list item (the item pushed on the
 *                        lookup stack), once if truthy dict/scalar
 *   {{^name}}..{{/name}} inverted section: once if not truthy
 *   {{> partial}}        include another template of the same set
 *   {{! comment }}
 *   {{.}}                the current item
 * The escape context of each {{name}} is decided when the template is
 * compiled, from where it stands in the HTML: text, a quoted attribute
 * value, a URL attribute (href, src, action, formaction, poster, cite, data
 * ... see tmpl.c), a <script> body (written as a JSON string), or a
 * <style> body / unquoted attribute / tag name (a compile error). Templates
 * ending in .xml use XML text escaping everywhere.
 * Names resolve from the innermost section outwards.
 */
typedef struct tmpl_set tmpl_set;

/* Loads every *.html and *.xml in dir (name = file name without extension).
 * On error returns NULL and writes a message "file:line: what" to err. */
tmpl_set *tmpl_load_dir(const char *dir, buf *err);
/* Compiles one template from memory into set (created when *set is NULL). */
bool tmpl_add(tmpl_set **set, const char *name, const char *src, size_t n,
    bool xml, buf *err);
void tmpl_free(tmpl_set *set);
bool tmpl_has(const tmpl_set *set, const char *name);
/* Renders template name with root value model into out. false if missing,
 * if out refused an append, or if the render was cut short (partials
 * nested deeper than 16, or some 16 million steps). Allocates nothing but
 * out's growth. */
bool tmpl_render(const tmpl_set *set, const char *name, const tv *root, buf *out);
/* The same with inner as if in a section over root: names resolve from
 * inner, then root (one comment of a page, alone: site/frag.c). */
bool tmpl_render_in(const tmpl_set *set, const char *name, const tv *root,
    const tv *inner, buf *out);

/* ---- Markdown (markdown.c) ----------------------------------------------- */

/*
 * Renders Markdown (CommonMark + tables + strikethrough + autolinks) through
 * md4c's parser into our escaping writer: raw HTML is dropped, only
 * http/https/mailto/relative URLs survive, and an image whose title starts
 * "出典" (`![alt](src "出典: …")`) becomes <figure><img><figcaption>.
 * Also appends the plain text (no markup, blocks separated by newlines) to
 * plain when plain is not NULL. Returns false on invalid UTF-8 or parse
 * failure.
 */
bool md_render(buf *html, buf *plain, const char *src, size_t n);
/* Image sizes for md_render_sized: size() fills the pixel width and
 * height of the image at url (false or 0 when unknown), so <img> carries
 * width and height and the page does not jump while it loads. */
struct md_images {
	bool (*size)(void *ctx, const char *url, size_t n, unsigned *w,
	    unsigned *h);
	void *ctx;
};
/* md_render, with image sizes looked up through img (NULL: none). */
bool md_render_sized(buf *html, buf *plain, const char *src, size_t n,
    const struct md_images *img);
/* Plain text of HTML we stored (for imported html bodies): tags dropped,
 * entities decoded. */
void md_html_to_plain(buf *plain, const char *html, size_t n);

/* ---- comment text (comment_fmt.c) ---------------------------------------- */

/*
 * Comment body to HTML: blank-line-separated paragraphs become <p>, single
 * newlines <br>, http/https URLs auto-linked with rel="nofollow ugc
 * noopener" (a URL ends at whitespace or the first non-ASCII character,
 * trailing punctuation .,;:!?)]}' excluded). Nothing else becomes markup.
 */
void comment_format(buf *out, const char *s, size_t n);

/* ---- HTML sanitiser (sanitize.c) ----------------------------------------- */

#define RENDER_HTML_MAX ((size_t)8 << 20) /* larger input is refused */
#define RENDER_HTML_DEPTH 64 /* elements nested deeper lose their tags */
#define RENDER_HTML_PARSE_DEPTH 256 /* libxml2 parses no deeper: refused */

/*
 * HTML we did not write (WordPress imports, HTML-format articles) to safe
 * HTML, appended to out, through libxml2's HTML parser and an allow-list:
 * p br hr h2-h6 (h1 becomes h2) strong b em i u s del ins sub sup small
 * mark blockquote[cite] q[cite] code pre kbd ul ol[start] li dl dt dd
 * a[href title] img[src alt title width height] figure figcaption table
 * thead tbody tfoot tr th/td[colspan rowspan] caption span div; class
 * only with alignleft/aligncenter/alignright/alignnone/wp-caption(-text)
 * on div span p img figure figcaption. href: http, https, mailto or
 * relative (an <a> without one loses its tag); src and cite: http, https
 * or relative (an <img> without one is dropped); //host becomes
 * https://host; absolute links get rel="nofollow noopener", images
 * loading="lazy". Other elements lose their tags but keep their text;
 * script style iframe object embed template noscript svg math form input
 * button textarea select (and a few like them) go with their content.
 * A block inside a paragraph or inline element closes them, and a link
 * inside a link the outer one, as in a browser; elements that still
 * cannot stand where they are (a cell outside a row, an item outside a
 * list) or nested past RENDER_HTML_DEPTH lose their tags; empty elements
 * (blocks holding only white space too) are dropped; text before the
 * first element is put in a <p>. White space is kept as written; CR and
 * CRLF become LF, control characters are dropped.
 * The output is valid UTF-8 and idempotent (sanitising it again gives
 * the same bytes). False, with nothing appended, for input over
 * RENDER_HTML_MAX, not valid UTF-8 or with elements left open more than
 * about RENDER_HTML_PARSE_DEPTH deep, or when out refused an append.
 */
bool render_html_sanitize(buf *out, const char *html, size_t n);
/* The plain text of the same HTML (search, excerpts): what the sanitiser
 * keeps as text, entities decoded, block elements on lines of their own.
 * Appends nothing for input render_html_sanitize refuses. */
void render_html_text(buf *out, const char *html, size_t n);

#endif
