/* fuzz_identity.c: libFuzzer target for the identity block's parsers: base32 TOTP
 * secrets (round trip), ID number / phone / name normalisation, the password policy,
 * sealed values that must never open unless they were sealed here, and scope strings
 * against tb_principal_acting_covers. The input is NUL-terminated in a buffer of exactly
 * its size, so a read past the end is reported. */
#include "../src/identity/identity.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		uint8_t master[32] = {1};
		if (sodium_init() < 0 || tb_seal_key_derive(&g.key, master, sizeof(master)))
			abort();
		ready = true;
	}
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	struct tb_err err = {0};

	uint8_t bin[64];
	size_t n;
	if (!b32_decode(s, bin, sizeof(bin), &n)) {
		char text[128], back[sizeof(bin)];
		size_t m;
		b32_encode(bin, n, text, sizeof(text));
		if (b32_decode(text, (uint8_t *)back, sizeof(back), &m) || m != n ||
		    memcmp(back, bin, n))
			abort(); /* what we encode decodes to the same bytes */
	}
	char idn[19], phone[12];
	if (idn_id_number(s, "id_number", idn, &err) && (strlen(idn) != 18 || idn[17] == 'x'))
		abort();
	if (idn_phone(s, "phone", phone, &err) && strcmp(phone, s))
		abort();
	(void)idn_name(s, "name", &err);
	(void)password_ok(s, "password", &err);
	(void)idn_date_valid(s);
	/* arbitrary text is never a sealed value */
	char out[256];
	if (!idn_open("users", "id_number", 1, s, out, sizeof(out), NULL))
		abort();
	struct tb_principal p = {.kind = TB_PRINCIPAL_PERSON};
	p.acting.capacity = TB_CAPACITY_AGENT;
	snprintf(p.acting.scope, sizeof(p.acting.scope), "%s", s);
	(void)tb_principal_acting_covers(&p, "114400000001");
	(void)tb_principal_acting_covers(&p, s);
	free(s);
	return 0;
}
