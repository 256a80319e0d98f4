/*
 * The template engine's compiled form, shared by the compiler (tmpl.c)
 * and the renderer (tmpl_render.c). Private to src/render.
 */
#ifndef KIJI_TMPL_INT_H
#define KIJI_TMPL_INT_H

#include "render.h"

#define TMPL_PARTIAL_DEPTH 16 /* {{>p}} nesting at render time */
#define TMPL_SECTION_DEPTH 32 /* sections open at once in one template */
#define TMPL_STACK_MAX ((TMPL_PARTIAL_DEPTH + 1) * TMPL_SECTION_DEPTH + 1)
#define TMPL_NAME_SEGS 8        /* a.b.c parts */
#define TMPL_NAME_MAX 128       /* bytes in one tag's name */
#define TMPL_JSON_DEPTH 16      /* lists/dicts nested inside a <script> value */
#define TMPL_SRC_MAX (4u << 20) /* one template file */
#define TMPL_STEPS_MAX (1u << 24) /* ops one render may run: a theme bug
                                     (sections fanning out into partials)
                                     must not hang a worker */

/* ---- compiled form ------------------------------------------------------ */

/* One op of a compiled template; values name how they are escaped. */
enum tmpl_opcode {
	TOP_LIT,      /* literal bytes: src[a, a+b) */
	TOP_TEXT,     /* value in HTML text */
	TOP_RAW,      /* {{{x}}}: trusted HTML as is, anything else as text */
	TOP_ATTR,     /* quoted attribute value, or past a URL's scheme */
	TOP_URL,      /* value starting a URL attribute: scheme checked */
	TOP_JSON,     /* value in a <script> body: a JSON value */
	TOP_XML,      /* value anywhere in an XML template */
	TOP_XML_URL,  /* value starting a URL attribute in XML */
	TOP_SECTION,  /* {{#x}}: body is ops (this, b) */
	TOP_INVERTED, /* {{^x}}: body is ops (this, b) */
	TOP_PARTIAL,  /* {{>x}}: b is its template's index, or UINT32_MAX */
	TOP__MAX
};

struct top {
	enum tmpl_opcode code;
	uint32_t a; /* TOP_LIT: offset in src; others: index in names */
	uint32_t b; /* TOP_LIT: length; sections: end op; partial: template */
};

/* A dotted name split once at compile time; nseg 0 is "{{.}}". */
struct tname {
	char *pool; /* the segments, NUL-separated */
	unsigned nseg;
	const char *seg[TMPL_NAME_SEGS];
	uint32_t hash[TMPL_NAME_SEGS]; /* tv_keyhash of each segment */
};

struct tmpl {
	char *name;
	char *src; /* copy of the source: TOP_LIT points into it */
	size_t len;
	bool xml;
	struct top *ops;
	size_t nops, capops;
	struct tname *names;
	size_t nnames, capnames;
};

struct tmpl_set {
	struct tmpl *t;
	size_t n, cap;
};

/* The template called name in set, or NULL. */
struct tmpl *tmpl_find(const tmpl_set *set, const char *name);

#endif
