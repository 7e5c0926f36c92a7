#include "base/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tb_arena_chunk {
	struct tb_arena_chunk *next;
	size_t size, off;
	_Alignas(16) unsigned char data[];
};

enum { CHUNK_MIN = 16 * 1024 };

void tb_arena_init(struct tb_arena *a, size_t cap)
{
	a->head = NULL;
	a->cap = cap;
	a->used = 0;
}

void tb_arena_release(struct tb_arena *a)
{
	struct tb_arena_chunk *c = a->head;
	while (c) {
		struct tb_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->used = 0;
}

void *tb_arena_alloc(struct tb_arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	struct tb_arena_chunk *c = a->head;
	if (!c || c->size - c->off < n) {
		size_t size = n > CHUNK_MIN ? n : CHUNK_MIN;
		if (c && size < c->size * 2 && c->size * 2 <= 1024 * 1024)
			size = c->size * 2; /* grow geometrically for big responses */
		if (a->cap && a->used + size > a->cap) {
			if (a->used + n > a->cap)
				return NULL;
			size = n;
		}
		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->size = size;
		c->off = 0;
		c->next = a->head;
		a->head = c;
		a->used += size;
	}
	void *p = c->data + c->off;
	c->off += n;
	return p;
}

void *tb_arena_zalloc(struct tb_arena *a, size_t n)
{
	void *p = tb_arena_alloc(a, n);
	if (p)
		memset(p, 0, n);
	return p;
}

char *tb_arena_strndup(struct tb_arena *a, const char *s, size_t n)
{
	char *p = tb_arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *tb_arena_strdup(struct tb_arena *a, const char *s)
{
	return tb_arena_strndup(a, s, strlen(s));
}

char *tb_arena_vprintf(struct tb_arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return NULL;
	char *p = tb_arena_alloc(a, (size_t)n + 1);
	if (p)
		vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *tb_arena_printf(struct tb_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = tb_arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}
