/*
 * A line diff for the revision pages: the longest common subsequence of
 * two texts' lines, written by hand because it is forty lines and no
 * Debian library offers it for C strings. The common head and tail are
 * taken off first (an edit usually touches a few lines), then the middle
 * is solved with two rows of lengths and one bit per cell for the way
 * back, so 2,000 × 2,000 lines cost half a megabyte. Longer texts are not
 * diffed at all: the caller shows them side by side.
 */
#include "admin_int.h"

#include <stdint.h>
#include <string.h>

#define DIFF_CONTEXT 3 /* unchanged lines shown around a change */

/* A text cut into lines (without their '\n'), with a hash of each. */
struct diff_side {
	const char **line;
	uint64_t *hash;
	size_t n;
};

/* FNV-1a of n bytes. */
static uint64_t
diff_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

/* Cuts s into lines in a; false when there are more than max. A final
 * newline does not start another (empty) line. */
static bool
diff_split(arena *a, const char *s, size_t max, struct diff_side *out)
{
	size_t n = 0;
	for (const char *p = s; *p; p++)
		if (*p == '\n' && p[1] != '\0')
			n++;
	n += *s != '\0';
	if (n > max)
		return false;
	out->line = arena_alloc(a, (n + 1) * sizeof(*out->line));
	out->hash = arena_alloc(a, (n + 1) * sizeof(*out->hash));
	out->n = 0;
	for (const char *p = s; *p;) {
		size_t len = strcspn(p, "\n");
		out->hash[out->n] = diff_hash(p, len);
		out->line[out->n++] = arena_strndup(a, p, len);
		p += len + (p[len] == '\n');
	}
	return true;
}

static bool
diff_eq(const struct diff_side *a, size_t i, const struct diff_side *b,
    size_t j)
{
	return a->hash[i] == b->hash[j] && strcmp(a->line[i], b->line[j]) == 0;
}

bool
admin_diff_lines(arena *a, const char *old, const char *new,
    struct admin_diff_line **out, size_t *n)
{
	struct diff_side x, y;
	if (!diff_split(a, old ? old : "", ADMIN_DIFF_MAX_LINES, &x) ||
	    !diff_split(a, new ? new : "", ADMIN_DIFF_MAX_LINES, &y))
		return false;
	size_t head = 0, tail = 0;
	while (head < x.n && head < y.n && diff_eq(&x, head, &y, head))
		head++;
	while (tail < x.n - head && tail < y.n - head &&
	    diff_eq(&x, x.n - 1 - tail, &y, y.n - 1 - tail))
		tail++;
	size_t nx = x.n - head - tail, ny = y.n - head - tail;

	/* take[i][j]: at the middle's (i, j), dropping x's line keeps the
	 * longest common subsequence (else y's line is added). */
	size_t w = ny + 1;
	uint8_t *take = arena_alloc(a, ((nx + 1) * w + 7) / 8);
	uint16_t *next = arena_alloc(a, w * sizeof(*next));
	uint16_t *cur = arena_alloc(a, w * sizeof(*cur));
	for (size_t i = nx; i-- > 0;) {
		cur[ny] = 0;
		for (size_t j = ny; j-- > 0;) {
			if (diff_eq(&x, head + i, &y, head + j)) {
				cur[j] = (uint16_t)(next[j + 1] + 1);
			} else {
				bool del = next[j] >= cur[j + 1];
				cur[j] = del ? next[j] : cur[j + 1];
				if (del)
					take[(i * w + j) / 8] |= (uint8_t)(1u << ((i * w + j) % 8));
			}
		}
		uint16_t *t = next;
		next = cur;
		cur = t;
	}

	struct admin_diff_line *v = arena_alloc(a, (x.n + y.n + 1) * sizeof(*v));
	size_t k = 0, i = 0, j = 0;
	for (size_t h = 0; h < head; h++)
		v[k++] = (struct admin_diff_line){DIFF_SAME, x.line[h], h + 1, h + 1};
	while (i < nx || j < ny) {
		size_t oi = head + i, oj = head + j;
		if (i < nx && j < ny && diff_eq(&x, oi, &y, oj)) {
			v[k++] = (struct admin_diff_line){DIFF_SAME, x.line[oi], oi + 1,
			    oj + 1};
			i++;
			j++;
		} else if (j == ny || (i < nx &&
		    (take[(i * w + j) / 8] >> ((i * w + j) % 8) & 1))) {
			v[k++] = (struct admin_diff_line){DIFF_DEL, x.line[oi], oi + 1, 0};
			i++;
		} else {
			v[k++] = (struct admin_diff_line){DIFF_ADD, y.line[oj], 0, oj + 1};
			j++;
		}
	}
	for (size_t h = 0; h < tail; h++) {
		size_t oi = x.n - tail + h, oj = y.n - tail + h;
		v[k++] = (struct admin_diff_line){DIFF_SAME, x.line[oi], oi + 1,
		    oj + 1};
	}
	*out = v;
	*n = k;
	return true;
}

/* The diff as rows, unchanged runs longer than twice DIFF_CONTEXT folded
 * into one "…" row; *changed says whether anything differs. */
static tv *
diff_rows(struct admin_req *q, const struct admin_diff_line *v, size_t n,
    bool *changed)
{
	arena *a = q->a;
	static const char *const cls[DIFF__MAX] = {"same", "del", "add"};
	tv *l = tv_list(a);
	*changed = false;
	for (size_t i = 0; i < n; i++) {
		if (v[i].op == DIFF_SAME) {
			/* the run of unchanged lines around i */
			size_t s = i, e = i;
			while (s > 0 && v[s - 1].op == DIFF_SAME)
				s--;
			while (e + 1 < n && v[e + 1].op == DIFF_SAME)
				e++;
			bool near = (s > 0 && i - s < DIFF_CONTEXT) ||
			    (e + 1 < n && e - i < DIFF_CONTEXT);
			if (!near) {
				size_t to = e + 1 < n ? e + 1 - DIFF_CONTEXT : e + 1;
				tv *r = tv_push(l, tv_dict(a));
				tv_set_bool(a, r, "fold", true);
				tv_set_int(a, r, "count", (int64_t)(to - i));
				i = to - 1;
				continue;
			}
		} else {
			*changed = true;
		}
		tv *r = tv_push(l, tv_dict(a));
		tv_set_str(a, r, "cls", cls[v[i].op]);
		tv_set_str(a, r, "sign", v[i].op == DIFF_ADD ? "+" :
		    v[i].op == DIFF_DEL ? "-" : " ");
		tv_set_str(a, r, "text", v[i].text);
		tv_set_str(a, r, "old_no", v[i].old_no ? arena_printf(a, "%zu",
		    v[i].old_no) : "");
		tv_set_str(a, r, "new_no", v[i].new_no ? arena_printf(a, "%zu",
		    v[i].new_no) : "");
	}
	return l;
}

tv *
admin_diff_view(struct admin_req *q, const char *old, const char *new,
    bool *changed)
{
	struct admin_diff_line *v;
	size_t n;
	*changed = false;
	if (!admin_diff_lines(q->a, old, new, &v, &n))
		return NULL;
	return diff_rows(q, v, n, changed);
}
