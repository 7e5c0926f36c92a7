/* fuzz_codes.c: libFuzzer target for src/base/codes.c.
 *
 * Every function gets a NUL-terminated copy of the input held in a buffer of exactly
 * that size, so AddressSanitizer reports any read past the terminator (codes.h promises
 * none). Results are cross-checked where the API implies a relation between calls. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/codes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tb_err err;
	char parent[13];
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	memset(&err, 0, sizeof(err));
	bool id_ok = tb_code_id_number_valid(s, &err);
	if (!id_ok && err.msg[0] == '\0')
		abort(); /* a rejection always names the part */
	(void)tb_code_id_number_valid(s, NULL);
	char id_check = tb_code_id_number_check(s);
	if (id_ok && id_check != s[17])
		abort();

	bool org_ok = tb_code_org_code_valid(s);
	(void)org_ok;

	bool uscc_ok = tb_code_uscc_valid(s, &err);
	char uscc_check = tb_code_uscc_check(s);
	if (uscc_ok && uscc_check != s[17])
		abort();
	if (uscc_ok) {
		/* GB 32100: characters 9-17 of a valid USCC are a valid GB 11714 code. */
		char org[10];

		memcpy(org, s + 8, 9);
		org[9] = '\0';
		if (!tb_code_org_code_valid(org))
			abort();
	}

	(void)tb_code_catalog_valid(s, &err);
	bool impl_ok = tb_code_impl_valid(s, &err);
	if (impl_ok) {
		char head[19];

		memcpy(head, s, 18);
		head[18] = '\0';
		if (!tb_code_uscc_valid(head, &err) || !tb_code_catalog_valid(s + 19, &err))
			abort();
	}

	bool region_ok = tb_code_region_valid(s);
	int level = tb_code_region_level(s);
	if (region_ok != (level != 0))
		abort();
	memset(parent, 0x55, sizeof(parent));
	if (tb_code_region_parent(s, parent)) {
		if (level < 2 || tb_code_region_level(parent) != level - 1)
			abort();
		if (strncmp(parent, s, strlen(parent)) != 0)
			abort();
	} else if (level >= 2) {
		abort();
	}

	(void)tb_code_mod37_36(s);
	(void)tb_code_licence_id_valid(s, &err);
	(void)tb_code_licence_id_valid(s, NULL);

	free(s);
	return 0;
}
