/* fuzz_text.c: libFuzzer target for src/base/text.c: the tokenizer in document and query
 * mode, query terms, the UTF-8 helpers and folding.
 *
 * The input is copied into a buffer of exactly its size (no terminator for the
 * tokenizer, which takes a length), so AddressSanitizer reports any read past the end.
 * Checked: offsets stay inside the text and grow, tokens are non-empty valid UTF-8 of
 * bounded size, query mode gives a subset of document mode's tokens, and query terms
 * are NUL-terminated valid UTF-8. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
	size_t n;
	int last_start;
	long count;
};

static int check_token(void *p, const char *tok, int ntok, int start, int end)
{
	struct ctx *c = p;
	if (ntok <= 0 || ntok > 64 || start < 0 || end <= start || (size_t)end > c->n)
		abort();
	if (start < c->last_start) /* tokens come in text order */
		abort();
	if (!tb_utf8_valid(tok, (size_t)ntok))
		abort();
	c->last_start = start;
	c->count++;
	return 0;
}

static int stop_at_once(void *p, const char *tok, int ntok, int start, int end)
{
	(void)p, (void)tok, (void)ntok, (void)start, (void)end;
	return 3;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		if (tb_text_init() != TB_OK)
			abort();
		init = true;
	}
	if (size > 4096)
		return 0;
	char *s = malloc(size ? size : 1);
	if (!s)
		return 0;
	memcpy(s, data, size);

	struct ctx doc = {size, 0, 0}, query = {size, 0, 0};
	if (tb_text_tokenize(s, size, 0, check_token, &doc) != 0)
		abort();
	if (tb_text_tokenize(s, size, TB_TOKEN_QUERY, check_token, &query) != 0)
		abort();
	if (query.count > doc.count)
		abort();
	int r = tb_text_tokenize(s, size, 0, stop_at_once, NULL);
	if (r != 0 && r != 3)
		abort();
	if ((r == 3) != (doc.count > 0))
		abort();

	/* UTF-8 helpers */
	bool valid = tb_utf8_valid(s, size);
	size_t chars = tb_utf8_len(s, size), steps = 0;
	if (chars > size)
		abort();
	for (size_t i = 0; i < size; steps++) {
		uint32_t cp;
		int l = tb_utf8_decode((const unsigned char *)s + i, size - i, &cp);
		if (l < 1 || l > 4 || (size_t)l > size - i)
			abort();
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			abort();
		char out[4];
		int el = tb_utf8_encode(tb_text_fold_char(cp), out);
		if (el < 1 || el > 4)
			abort();
		i += (size_t)l;
	}
	/* for valid text the decoder and the counter agree (the count is only defined
	 * for valid UTF-8) */
	if (valid && steps != chars)
		abort();

	/* query terms want a C string */
	char *q = malloc(size + 1);
	if (q) {
		memcpy(q, data, size);
		q[size] = 0;
		struct tb_text_term terms[16];
		size_t nt = tb_text_query_terms(q, terms, 16);
		if (nt > 16)
			abort();
		for (size_t i = 0; i < nt; i++) {
			size_t tl = strnlen(terms[i].text, sizeof(terms[i].text));
			if (tl == 0 || tl == sizeof(terms[i].text))
				abort();
			if (!tb_utf8_valid(terms[i].text, tl))
				abort();
		}
		if (valid && size <= 256) {
			size_t outlen = 0;
			char *hk = tb_text_to_hk(q, size, &outlen);
			if (hk && strlen(hk) != outlen)
				abort();
			free(hk);
		}
		free(q);
	}
	free(s);
	return 0;
}
