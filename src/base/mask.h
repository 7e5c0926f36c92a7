/* mask.h: how personal data is shown to anyone but its holder (DESIGN.md "Data"):
 * in responses, in logs, on screens. Masking keeps enough to recognise one's own
 * record and nothing that identifies a stranger. */
#ifndef TB_BASE_MASK_H
#define TB_BASE_MASK_H

#include <stddef.h>

/* ID number: the first 4 (province and city) and last 4 characters stay,
 * 440106199001011234 -> 4401**********1234. Anything shorter than 9 characters is
 * masked whole. out must hold strlen(in) + 1 bytes. */
void tb_mask_id_number(const char *in, char *out, size_t outlen);
/* Mobile phone: the first 3 and last 4 digits stay, 13812345678 -> 138****5678;
 * shorter than 8 characters: masked whole. */
void tb_mask_phone(const char *in, char *out, size_t outlen);
/* A name: the first character (code point) stays, the rest become one '*' each,
 * 张三丰 -> 张**; a one-character name becomes "*". */
void tb_mask_name(const char *in, char *out, size_t outlen);

#endif
