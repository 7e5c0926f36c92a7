#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tb_buf_init(struct tb_buf *b, size_t cap)
{
	b->data = NULL;
	b->len = b->alloc = 0;
	b->cap = cap;
}

void tb_buf_release(struct tb_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->alloc = 0;
}

void tb_buf_reset(struct tb_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

static tb_rc grow(struct tb_buf *b, size_t extra)
{
	if (b->cap && b->len + extra > b->cap)
		return TB_ETOOBIG;
	size_t need = b->len + extra + 1;
	if (need <= b->alloc)
		return TB_OK;
	size_t n = b->alloc ? b->alloc : 256;
	while (n < need)
		n *= 2;
	if (b->cap && n > b->cap + 1) /* a body near its cap does not reserve twice that */
		n = b->cap + 1;
	char *p = realloc(b->data, n);
	if (!p)
		return TB_ENOMEM;
	b->data = p;
	b->alloc = n;
	return TB_OK;
}

tb_rc tb_buf_append(struct tb_buf *b, const void *p, size_t n)
{
	tb_rc rc = grow(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return TB_OK;
}

tb_rc tb_buf_puts(struct tb_buf *b, const char *s)
{
	return tb_buf_append(b, s, strlen(s));
}

tb_rc tb_buf_putc(struct tb_buf *b, char c)
{
	return tb_buf_append(b, &c, 1);
}

tb_rc tb_buf_printf(struct tb_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return TB_EINTERNAL;
	tb_rc rc = grow(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return TB_OK;
}

tb_rc tb_buf_json_str(struct tb_buf *b, const char *s)
{
	tb_rc rc = tb_buf_putc(b, '"');
	const unsigned char *p = (const unsigned char *)s, *run = p;
	for (; !rc && *p; p++) {
		if (*p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		rc = tb_buf_append(b, run, (size_t)(p - run));
		if (rc)
			break;
		char esc[8];
		switch (*p) {
		case '"':
			rc = tb_buf_puts(b, "\\\"");
			break;
		case '\\':
			rc = tb_buf_puts(b, "\\\\");
			break;
		case '\n':
			rc = tb_buf_puts(b, "\\n");
			break;
		case '\r':
			rc = tb_buf_puts(b, "\\r");
			break;
		case '\t':
			rc = tb_buf_puts(b, "\\t");
			break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			rc = tb_buf_puts(b, esc);
		}
		run = p + 1;
	}
	if (!rc)
		rc = tb_buf_append(b, run, (size_t)(p - run));
	if (!rc)
		rc = tb_buf_putc(b, '"');
	return rc;
}

char *tb_buf_steal(struct tb_buf *b, size_t *len)
{
	if (grow(b, 0)) /* make sure there is a NUL even for an empty buffer */
		return NULL;
	char *p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->alloc = 0;
	return p;
}
