/*
 * Template values: the view-model tree a handler builds per request in its
 * arena. Lists and dicts are arrays grown by doubling inside the arena
 * (a 100-comment page makes ~2,000 values, so every value is one bump
 * allocation); dict lookup is a linear scan, which beats hashing at the
 * ten-odd keys a dict holds, behind a 64-bit mask of the keys' hashes
 * that answers most misses at once (templates resolve names outwards
 * through every enclosing comment's dict).
 */
#include "render.h"

#include <string.h>

struct tv_ent {
	const char *key; /* dicts only; not copied */
	tv *v;
	uint32_t h;      /* tv_keyhash(key): most lookups compare only this */
};

struct tv {
	enum tv_kind kind;
	bool trusted; /* TV_STR made by tv_html_trusted */
	union {
		struct {
			const char *p;
			size_t n;
		} s;
		int64_t i;
		bool b;
		struct {
			arena *a; /* where the entry array grows */
			struct tv_ent *e;
			size_t n, cap;
			uint64_t mask; /* dicts: bit h % 64 of every key's hash */
		} c;
	} u;
};

/* One zeroed value of kind k from the arena. */
static tv *
tv_new(arena *a, enum tv_kind k)
{
	tv *v = arena_alloc(a, sizeof(*v));
	v->kind = k;
	return v;
}

/* Empty dict; keys set with tv_set. */
tv *
tv_dict(arena *a)
{
	tv *v = tv_new(a, TV_DICT);
	v->u.c.a = a;
	return v;
}

/* Empty dict with room for cap keys before its array grows. */
tv *
tv_dict_n(arena *a, size_t cap)
{
	tv *v = tv_dict(a);
	if (cap) {
		v->u.c.e = arena_alloc(a, cap * sizeof(*v->u.c.e));
		v->u.c.cap = cap;
	}
	return v;
}

/* Empty list; items appended with tv_push. */
tv *
tv_list(arena *a)
{
	tv *v = tv_new(a, TV_LIST);
	v->u.c.a = a;
	return v;
}

/* String copied into the arena. */
tv *
tv_str(arena *a, const char *s)
{
	return tv_strn(a, s, strlen(s));
}

/* String of n bytes copied into the arena (NUL-terminated there too). */
tv *
tv_strn(arena *a, const char *s, size_t n)
{
	return tv_str_nocopy(a, arena_strndup(a, s, n), n);
}

/* String borrowed from the caller, who keeps it alive as long as the tree:
 * saves a copy for bytes that already live in the arena or a page cache. */
tv *
tv_str_nocopy(arena *a, const char *s, size_t n)
{
	tv *v = tv_new(a, TV_STR);
	v->u.s.p = s;
	v->u.s.n = n;
	return v;
}

/* Copied string that {{{x}}} may write raw: only our Markdown output. */
tv *
tv_html_trusted(arena *a, const char *s, size_t n)
{
	tv *v = tv_strn(a, s, n);
	v->trusted = true;
	return v;
}

tv *
tv_int(arena *a, int64_t i)
{
	tv *v = tv_new(a, TV_INT);
	v->u.i = i;
	return v;
}

tv *
tv_bool(arena *a, bool b)
{
	tv *v = tv_new(a, TV_BOOL);
	v->u.b = b;
	return v;
}

/* Room for one more entry in a list or dict: doubles the array in the
 * arena (the old one is abandoned there, at most as much again). */
static void
tv_grow(tv *c)
{
	if (c->u.c.n < c->u.c.cap)
		return;
	size_t cap = c->u.c.cap ? c->u.c.cap * 2 : 8;
	struct tv_ent *e = arena_alloc(c->u.c.a, cap * sizeof(*e));
	if (c->u.c.n)
		memcpy(e, c->u.c.e, c->u.c.n * sizeof(*e));
	c->u.c.e = e;
	c->u.c.cap = cap;
}

/* Sets or replaces key in dict; a non-dict is left alone. Returns v. */
/* FNV-1a of a key: dicts compare it before the strings, so setting and
 * looking up keys costs one pass over the key, not a strcmp per entry
 * (keys like date_ja, date_iso, daily_id, depth share first bytes). */
uint32_t
tv_keyhash(const char *k)
{
	uint32_t h = 2166136261u;
	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 16777619u;
	return h;
}

static void
tv_append(tv *dict, const char *key, uint32_t h, tv *v)
{
	tv_grow(dict);
	dict->u.c.e[dict->u.c.n].key = key;
	dict->u.c.e[dict->u.c.n].v = v;
	dict->u.c.e[dict->u.c.n].h = h;
	dict->u.c.n++;
	dict->u.c.mask |= UINT64_C(1) << (h % 64);
}

tv *
tv_set(tv *dict, const char *key, tv *v)
{
	if (dict == NULL || dict->kind != TV_DICT || key == NULL)
		return v;
	uint32_t h = tv_keyhash(key);
	if (dict->u.c.mask & (UINT64_C(1) << (h % 64)))
		for (size_t i = 0; i < dict->u.c.n; i++)
			if (dict->u.c.e[i].h == h &&
			    strcmp(dict->u.c.e[i].key, key) == 0) {
				dict->u.c.e[i].v = v;
				return v;
			}
	tv_append(dict, key, h, v);
	return v;
}

/* tv_set for a key the caller knows dict does not hold yet (a dict it is
 * filling): no search for an entry to replace. */
tv *
tv_add(tv *dict, const char *key, tv *v)
{
	if (dict == NULL || dict->kind != TV_DICT || key == NULL)
		return v;
	tv_append(dict, key, tv_keyhash(key), v);
	return v;
}

tv *
tv_set_str(arena *a, tv *dict, const char *key, const char *s)
{
	return tv_set(dict, key, tv_str(a, s));
}

tv *
tv_set_int(arena *a, tv *dict, const char *key, int64_t i)
{
	return tv_set(dict, key, tv_int(a, i));
}

tv *
tv_set_bool(arena *a, tv *dict, const char *key, bool b)
{
	return tv_set(dict, key, tv_bool(a, b));
}

/* Appends v to list (a non-list is left alone); returns v. */
tv *
tv_push(tv *list, tv *v)
{
	if (list == NULL || list->kind != TV_LIST)
		return v;
	tv_grow(list);
	list->u.c.e[list->u.c.n].key = NULL;
	list->u.c.e[list->u.c.n].v = v;
	list->u.c.n++;
	return v;
}

/* NULL pointers read as TV_NULL everywhere, so missing keys need no check. */
enum tv_kind
tv_kind_of(const tv *v)
{
	return v ? v->kind : TV_NULL;
}

/* Value at key, or NULL when dict is not a dict or lacks the key. */
tv *
tv_get(const tv *dict, const char *key)
{
	if (dict == NULL || dict->kind != TV_DICT)
		return NULL;
	return tv_get_h(dict, key, tv_keyhash(key));
}

tv *
tv_get_h(const tv *dict, const char *key, uint32_t h)
{
	if (dict == NULL || dict->kind != TV_DICT ||
	    !(dict->u.c.mask & (UINT64_C(1) << (h % 64))))
		return NULL;
	for (size_t i = 0; i < dict->u.c.n; i++)
		if (dict->u.c.e[i].h == h && strcmp(dict->u.c.e[i].key, key) == 0)
			return dict->u.c.e[i].v;
	return NULL;
}

/* A deep copy of v in a (dict keys are shared: they are not copied
 * anywhere), for a tree kept beyond the request that built it. */
tv *
tv_clone(arena *a, const tv *v)
{
	if (v == NULL)
		return NULL;
	tv *c = tv_new(a, v->kind);
	c->trusted = v->trusted;
	switch (v->kind) {
	case TV_STR:
		c->u.s.p = arena_strndup(a, v->u.s.p, v->u.s.n);
		c->u.s.n = v->u.s.n;
		break;
	case TV_INT:
		c->u.i = v->u.i;
		break;
	case TV_BOOL:
		c->u.b = v->u.b;
		break;
	case TV_LIST:
	case TV_DICT:
		c->u.c.a = a;
		c->u.c.mask = v->u.c.mask;
		c->u.c.n = c->u.c.cap = v->u.c.n;
		c->u.c.e = v->u.c.n ? arena_alloc(a, v->u.c.n * sizeof(*c->u.c.e)) :
		    NULL;
		for (size_t i = 0; i < v->u.c.n; i++) {
			c->u.c.e[i].key = v->u.c.e[i].key;
			c->u.c.e[i].h = v->u.c.e[i].h;
			c->u.c.e[i].v = tv_clone(a, v->u.c.e[i].v);
		}
		break;
	default:
		break;
	}
	return c;
}

/* Items of a list or entries of a dict; 0 for scalars. */
size_t
tv_len(const tv *v)
{
	if (v == NULL || (v->kind != TV_LIST && v->kind != TV_DICT))
		return 0;
	return v->u.c.n;
}

/* Mustache truthiness, so {{#comments}} skips an empty list. */
bool
tv_truthy(const tv *v)
{
	switch (tv_kind_of(v)) {
	case TV_STR:
		return v->u.s.n > 0;
	case TV_INT:
		return v->u.i != 0;
	case TV_BOOL:
		return v->u.b;
	case TV_LIST:
		return v->u.c.n > 0;
	case TV_DICT:
		return true;
	default:
		return false;
	}
}

/* Bytes of a string (NUL-terminated unless made with tv_str_nocopy). */
const char *
tv_str_of(const tv *v, size_t *n)
{
	if (v == NULL || v->kind != TV_STR) {
		if (n)
			*n = 0;
		return NULL;
	}
	if (n)
		*n = v->u.s.n;
	return v->u.s.p;
}

bool
tv_is_trusted(const tv *v)
{
	return v != NULL && v->kind == TV_STR && v->trusted;
}

int64_t
tv_int_of(const tv *v)
{
	if (v == NULL)
		return 0;
	if (v->kind == TV_INT)
		return v->u.i;
	if (v->kind == TV_BOOL)
		return v->u.b;
	return 0;
}

/* Item i of a list or value i of a dict, for iteration in O(1). */
tv *
tv_at(const tv *v, size_t i)
{
	if (v == NULL || (v->kind != TV_LIST && v->kind != TV_DICT) ||
	    i >= v->u.c.n)
		return NULL;
	return v->u.c.e[i].v;
}

/* Key of dict entry i (insertion order), for JSON output. */
const char *
tv_key_at(const tv *dict, size_t i)
{
	if (dict == NULL || dict->kind != TV_DICT || i >= dict->u.c.n)
		return NULL;
	return dict->u.c.e[i].key;
}
