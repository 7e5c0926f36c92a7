/* fuzz_jose.c: libFuzzer target for src/base/jose.c — base64url decoding (strict: a
 * decoded input must encode back to exactly itself), compact JWS splitting and
 * decoding, and verification of arbitrary text (which must never succeed: the key is
 * made here and nothing it signed is in the input). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/jose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tb_es256_key *key;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!key && tb_es256_generate(&key))
		abort();
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;

	struct tb_buf dec, enc, h, p;
	tb_buf_init(&dec, 0);
	tb_buf_init(&enc, 0);
	tb_buf_init(&h, 0);
	tb_buf_init(&p, 0);
	if (tb_b64url_decode(s, size, &dec) == TB_OK) {
		if (tb_b64url_encode(dec.data, dec.len, &enc) != TB_OK || enc.len != size ||
		    (size && memcmp(enc.data, s, size)))
			abort(); /* strict decoding: one text per byte string */
	} else if (dec.len != 0)
		abort(); /* nothing appended on failure */
	(void)tb_jws_parse(s, size, &h, &p);
	if (tb_jws_verify(key, s, size))
		abort();
	tb_buf_release(&dec);
	tb_buf_release(&enc);
	tb_buf_release(&h);
	tb_buf_release(&p);
	free(s);
	return 0;
}
