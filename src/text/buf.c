/* Bounded growable buffer and the process's out-of-memory policy. */
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void
text_oom(void)
{
	fputs("kiji: out of memory\n", stderr);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		text_oom();
	return p;
}

void *
xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (p == NULL)
		text_oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		text_oom();
	return p;
}

char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

void
buf_init(buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max ? max : BUF_DEFAULT_MAX;
}

/* Makes room for n more bytes plus a NUL; false (and err) past max. */
static bool
buf_grow(buf *b, size_t n)
{
	size_t max = b->max ? b->max : BUF_DEFAULT_MAX;
	if (b->err)
		return false;
	if (n > max || b->len > max - n) {
		b->err = true;
		return false;
	}
	if (b->len + n + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	char *p = realloc(b->ptr, cap);
	if (p == NULL) {
		b->err = true;
		return false;
	}
	b->ptr = p;
	b->cap = cap;
	return true;
}

bool
buf_reserve(buf *b, size_t n)
{
	return buf_grow(b, n);
}

bool
buf_put(buf *b, const void *p, size_t n)
{
	if (!buf_grow(b, n))
		return false;
	if (n)
		memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return true;
}

bool
buf_puts(buf *b, const char *s)
{
	return buf_put(b, s, strlen(s));
}

bool
buf_putc(buf *b, char c)
{
	return buf_put(b, &c, 1);
}

bool
buf_vprintf(buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || !buf_grow(b, (size_t)n)) {
		b->err = true;
		return false;
	}
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return true;
}

bool
buf_printf(buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool ok = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return ok;
}

void
buf_reset(buf *b)
{
	b->len = 0;
	b->err = false;
	if (b->ptr)
		b->ptr[0] = '\0';
}

void
buf_free(buf *b)
{
	if (b == NULL)
		return;
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->err = false;
}

const char *
buf_cstr(buf *b)
{
	return b->ptr ? b->ptr : "";
}

char *
buf_detach(buf *b, size_t *len)
{
	char *p = b->ptr ? b->ptr : xstrdup("");
	if (len)
		*len = b->len;
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->err = false;
	return p;
}
