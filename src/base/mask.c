#include "base/mask.h"
#include "base/text.h"

#include <string.h>

/* Keep `head` leading and `tail` trailing bytes of an ASCII code; star the rest. */
static void keep_ends(const char *in, size_t head, size_t tail, size_t min, char *out,
		      size_t outlen)
{
	size_t n = strlen(in);
	if (outlen == 0)
		return;
	if (n + 1 > outlen)
		n = outlen - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = n >= min && (i < head || i >= n - tail) ? in[i] : '*';
	out[n] = 0;
}

void tb_mask_id_number(const char *in, char *out, size_t outlen)
{
	keep_ends(in, 4, 4, 9, out, outlen);
}

void tb_mask_phone(const char *in, char *out, size_t outlen)
{
	keep_ends(in, 3, 4, 8, out, outlen);
}

void tb_mask_name(const char *in, char *out, size_t outlen)
{
	size_t n = strlen(in), o = 0;
	if (outlen == 0)
		return;
	uint32_t cp;
	int first = n ? tb_utf8_decode((const unsigned char *)in, n, &cp) : 0;
	size_t chars = tb_utf8_len(in, n);
	if (chars > 1 && (size_t)first < outlen) {
		memcpy(out, in, (size_t)first);
		o = (size_t)first;
		chars--;
	}
	while (chars-- > 0 && o + 1 < outlen)
		out[o++] = '*';
	out[o] = 0;
}
