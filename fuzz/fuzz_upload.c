/* fuzz_upload.c: the upload parsers: multipart/form-data (http/multipart.c) and the
 * OFD package check of blob.c (zip_has_ofd_xml, reached by including the source).
 * Input: the first line is the request's Content-Type, the rest the body; the whole
 * input is also read as a ZIP. */
#include "../src/cases/blob.c"
#include "base/text.h"
#include "http/http.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)zip_has_ofd_xml(data, size);

	const uint8_t *nl = memchr(data, '\n', size);
	size_t cl = nl ? (size_t)(nl - data) : size;
	char *ct = malloc(cl + 1);
	/* the body in a buffer of its own size, so that ASan sees any read past it */
	size_t bl = nl ? size - cl - 1 : 0;
	char *body = malloc(bl ? bl : 1);
	if (!ct || !body)
		abort();
	memcpy(ct, data, cl);
	ct[cl] = 0;
	if (bl)
		memcpy(body, nl + 1, bl);

	struct tb_arena a;
	tb_arena_init(&a, 1 << 24);
	struct tb_part parts[16];
	size_t n = 0;
	struct tb_err err;
	if (tb_multipart_parse(ct, body, bl, parts, 16, &n, &a, &err) == TB_OK) {
		for (size_t i = 0; i < n; i++) {
			const struct tb_part *p = &parts[i];
			if (p->data < body || p->data + p->len > body + bl)
				abort();
			if (!*p->name || strlen(p->name) > 255 ||
			    !tb_utf8_valid(p->name, strlen(p->name)))
				abort();
			if (p->filename && (strlen(p->filename) > 255 || strchr(p->filename, '/') ||
					    strchr(p->filename, '\\') ||
					    !tb_utf8_valid(p->filename, strlen(p->filename))))
				abort();
			for (const char *c = p->filename; c && *c; c++)
				if ((unsigned char)*c < 0x20 || *c == 0x7f)
					abort();
		}
	} else if (!err.msg[0]) {
		abort(); /* every failure says what is wrong */
	}
	tb_arena_release(&a);
	free(ct);
	free(body);
	return 0;
}
