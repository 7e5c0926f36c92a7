/* buf.h: a growable byte buffer with a hard cap given at init (curl's dynbuf).
 * Passing the cap is TB_ETOOBIG, which the caller sees; the buffer stays valid. */
#ifndef TB_BASE_BUF_H
#define TB_BASE_BUF_H

#include "base/tb.h"
#include <stdarg.h>

struct tb_buf {
	char *data; /* always NUL-terminated when len > 0 or after any append */
	size_t len, alloc, cap;
};

void tb_buf_init(struct tb_buf *b, size_t cap);
void tb_buf_release(struct tb_buf *b);
void tb_buf_reset(struct tb_buf *b);
tb_rc tb_buf_append(struct tb_buf *b, const void *p, size_t n);
tb_rc tb_buf_puts(struct tb_buf *b, const char *s);
tb_rc tb_buf_putc(struct tb_buf *b, char c);
tb_rc tb_buf_printf(struct tb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal (quotes included), escaping as RFC 8259 asks. */
tb_rc tb_buf_json_str(struct tb_buf *b, const char *s);
/* Hand the bytes over to the caller (malloc'd, NUL-terminated); the buffer is empty after. */
char *tb_buf_steal(struct tb_buf *b, size_t *len);

#endif
