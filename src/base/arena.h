/* arena.h: a per-request bump allocator. Everything a request allocates comes from its
 * arena and is released in one go when the response has been sent. Allocation failure
 * returns NULL (callers map it to TB_ENOMEM); the arena never aborts. */
#ifndef TB_BASE_ARENA_H
#define TB_BASE_ARENA_H

#include <stddef.h>
#include <stdarg.h>

struct tb_arena_chunk;

struct tb_arena {
	struct tb_arena_chunk *head;
	size_t cap;  /* hard limit on the bytes held; 0 = no limit */
	size_t used; /* bytes held in all chunks */
};

void tb_arena_init(struct tb_arena *a, size_t cap);
/* Frees every chunk; the arena can be used again afterwards. */
void tb_arena_release(struct tb_arena *a);
void *tb_arena_alloc(struct tb_arena *a, size_t n);
void *tb_arena_zalloc(struct tb_arena *a, size_t n);
char *tb_arena_strndup(struct tb_arena *a, const char *s, size_t n);
char *tb_arena_strdup(struct tb_arena *a, const char *s);
char *tb_arena_printf(struct tb_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *tb_arena_vprintf(struct tb_arena *a, const char *fmt, va_list ap);

#endif
