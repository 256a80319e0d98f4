/* Per-request bump allocator: many small allocations, one free. */
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct chunk {
	struct chunk *next;
	size_t size;
	size_t used;
	_Alignas(16) unsigned char data[];
};

struct arena {
	struct chunk *head;
	size_t chunk;
};

static struct chunk *
chunk_new(size_t size)
{
	struct chunk *c = xmalloc(sizeof(*c) + size);
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

arena *
arena_new(size_t chunk)
{
	arena *a = xmalloc(sizeof(*a));
	a->chunk = chunk ? chunk : 16384;
	a->head = chunk_new(a->chunk);
	return a;
}

void
arena_free(arena *a)
{
	if (a == NULL)
		return;
	struct chunk *c = a->head;
	while (c) {
		struct chunk *n = c->next;
		free(c);
		c = n;
	}
	free(a);
}

void
arena_reset(arena *a)
{
	struct chunk *c = a->head;
	while (c->next) {
		struct chunk *n = c->next;
		free(c);
		c = n;
	}
	/* The last chunk in the list is the first one allocated. */
	c->used = 0;
	a->head = c;
}

/* n bytes, 16-byte aligned, not zeroed: for callers that fill them. */
static void *
arena_bump(arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	struct chunk *c = a->head;
	if (c->size - c->used < n) {
		size_t size = n > a->chunk ? n : a->chunk;
		c = chunk_new(size);
		c->next = a->head;
		a->head = c;
	}
	void *p = c->data + c->used;
	c->used += n;
	return p;
}

void *
arena_alloc(arena *a, size_t n)
{
	void *p = arena_bump(a, n);
	memset(p, 0, n);
	return p;
}

char *
arena_strndup(arena *a, const char *s, size_t n)
{
	char *p = arena_bump(a, n + 1); /* every byte written below */
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(arena *a, const char *fmt, ...)
{
	va_list ap, cp;
	va_start(ap, fmt);
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		n = 0;
	char *p = arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
