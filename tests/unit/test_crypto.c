/* test_crypto.c: unit tests of src/base/crypto.c against shared/STANDARDS.md §8,
 * GB/T 32905 (SM3), GM/T 0003 (SM2) and the openssl command line as an outside check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base/crypto.h"

/* ---- helpers ---- */

static void to_hex(const uint8_t *p, size_t n, char *hex)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = d[p[i] >> 4];
		hex[2 * i + 1] = d[p[i] & 15];
	}
	hex[2 * n] = 0;
}

static void from_hex(const char *hex, uint8_t *p, size_t n)
{
	assert_int_equal(strlen(hex), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		p[i] = (uint8_t)v;
	}
}

static void assert_no_openssl_error(void)
{
	unsigned long e = ERR_peek_error();
	if (e) {
		char msg[256];
		ERR_error_string_n(e, msg, sizeof(msg));
		fail_msg("OpenSSL error left on the queue: %s", msg);
	}
}

static bool have_openssl(void)
{
	static int have = -1;
	if (have < 0)
		have = system("openssl version >/dev/null 2>&1") == 0;
	return have;
}

#define NEED_OPENSSL()                                                                             \
	do {                                                                                       \
		if (!have_openssl()) {                                                             \
			fprintf(stderr, "openssl command not found: outside check skipped\n");     \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

/* A temporary directory for files handed to the openssl command. */
static char tmpdir[64];

static int setup_tmpdir(void **state)
{
	strcpy(tmpdir, "/tmp/tb_crypto_XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *tmp_path(const char *name)
{
	static char path[4][128];
	static int i;
	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", tmpdir, name);
	return path[i];
}

static void write_file(const char *name, const void *p, size_t n)
{
	FILE *f = fopen(tmp_path(name), "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Run a shell command; return its exit status (-1 if it did not exit normally). Its
 * output is left out of the test log unless the test wants it (out != NULL). */
static int run(const char *cmd, char *out, size_t outlen)
{
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = 0;
	char chunk[256];
	size_t got;
	while ((got = fread(chunk, 1, sizeof(chunk), p)) > 0) {
		if (out && n + got < outlen) {
			memcpy(out + n, chunk, got);
			n += got;
		}
	}
	if (out)
		out[n] = 0;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The exact command that verifies our SM2 signatures (DESIGN.md, Known pitfalls). */
static int openssl_sm2_verify(const char *pub, const char *msg, const char *sig)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "openssl pkeyutl -verify -pubin -inkey %s -rawin -digest sm3 "
		 "-pkeyopt distid:1234567812345678 -in %s -sigfile %s >/dev/null 2>&1",
		 tmp_path(pub), tmp_path(msg), tmp_path(sig));
	return run(cmd, NULL, 0);
}

/* ---- SM3 ---- */

static void test_sm3_vectors(void **state)
{
	uint8_t h[TB_SM3_LEN];
	char hex[2 * TB_SM3_LEN + 1];

	/* STANDARDS.md §8 and GB/T 32905 example 1. */
	assert_int_equal(tb_sm3("abc", 3, h), TB_OK);
	to_hex(h, sizeof(h), hex);
	assert_string_equal(hex,
			    "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");

	/* GB/T 32905 example 2: "abcd" × 16, 64 bytes (two blocks after padding). */
	char m[65] = "";
	for (int i = 0; i < 16; i++)
		strcat(m, "abcd");
	assert_int_equal(tb_sm3(m, 64, h), TB_OK);
	to_hex(h, sizeof(h), hex);
	assert_string_equal(hex,
			    "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");

	/* The empty message is a valid input. */
	assert_int_equal(tb_sm3(NULL, 0, h), TB_OK);
	to_hex(h, sizeof(h), hex);
	assert_string_equal(hex,
			    "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b");
	assert_no_openssl_error();
}

/* ---- HMAC-SM3 against `openssl mac` ---- */

static void hmac_vs_openssl(const uint8_t *key, size_t klen, const void *msg, size_t mlen)
{
	uint8_t mac[TB_SM3_LEN];
	char ours[2 * TB_SM3_LEN + 1], hexkey[2 * 200 + 1], cmd[1024], out[256];

	assert_true(klen <= 200);
	assert_int_equal(tb_hmac_sm3(key, klen, msg, mlen, mac), TB_OK);
	to_hex(mac, sizeof(mac), ours);
	to_hex(key, klen, hexkey);
	write_file("hmac.in", msg, mlen);
	snprintf(cmd, sizeof(cmd), "openssl mac -digest SM3 -macopt hexkey:%s -in %s HMAC 2>&1",
		 hexkey, tmp_path("hmac.in"));
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
	for (char *p = out; *p; p++) {
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
		if (*p == '\n')
			*p = 0;
	}
	assert_string_equal(ours, out);
}

static void test_hmac_sm3_openssl(void **state)
{
	NEED_OPENSSL();
	uint8_t key[200];
	uint8_t msg[1000];
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 13 + 1);

	hmac_vs_openssl((const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28);
	hmac_vs_openssl(key, 16, msg, sizeof(msg)); /* short key, binary message */
	hmac_vs_openssl(key, 64, msg, 64);	    /* key exactly one block */
	hmac_vs_openssl(key, 131, msg, 50);	    /* long key: hashed first */
	hmac_vs_openssl(key, 32, "", 0);	    /* empty message */
	hmac_vs_openssl(key, 32, "450000199001011234", 18);

	uint8_t mac[TB_SM3_LEN];
	assert_int_equal(tb_hmac_sm3(key, 0, "x", 1, mac), TB_EINVAL);
	assert_no_openssl_error();
}

/* ---- Sealing ---- */

static void test_key(struct tb_seal_key *k, uint8_t fill)
{
	uint8_t master[32];
	memset(master, fill, sizeof(master));
	assert_int_equal(tb_seal_key_derive(k, master, sizeof(master)), TB_OK);
}

static void test_seal_key_derive(void **state)
{
	struct tb_seal_key k;
	uint8_t master[32], h[TB_SM3_LEN];
	memset(master, 0x5a, sizeof(master));
	assert_int_equal(tb_seal_key_derive(&k, master, sizeof(master)), TB_OK);

	/* The three keys are HMAC-SM3(master, label) as documented, and differ. */
	assert_int_equal(tb_hmac_sm3(master, 32, "tongban seal enc v1", 19, h), TB_OK);
	assert_memory_equal(k.enc, h, 16);
	assert_int_equal(tb_hmac_sm3(master, 32, "tongban seal mac v1", 19, h), TB_OK);
	assert_memory_equal(k.mac, h, 32);
	assert_int_equal(tb_hmac_sm3(master, 32, "tongban blind index v1", 22, h), TB_OK);
	assert_memory_equal(k.index, h, 32);
	assert_memory_not_equal(k.enc, k.mac, 16);
	assert_memory_not_equal(k.mac, k.index, 32);

	/* Too short a master key is refused, and leaves no half-derived key. */
	assert_int_equal(tb_seal_key_derive(&k, master, 31), TB_EINVAL);
	uint8_t zero[sizeof(k)];
	memset(zero, 0, sizeof(zero));
	assert_memory_equal(&k, zero, sizeof(k));
}

static void test_seal_roundtrip(void **state)
{
	struct tb_seal_key k;
	struct tb_buf s, p;
	const char *id = "11010519491231002X";
	test_key(&k, 1);
	tb_buf_init(&s, 0);
	tb_buf_init(&p, 0);

	assert_int_equal(tb_seal(&k, "person.id_number:42", 19, id, strlen(id), &s), TB_OK);
	assert_int_equal(s.len, TB_SEAL_OVERHEAD + strlen(id));
	assert_int_equal((uint8_t)s.data[0], TB_SEAL_VERSION);
	/* The plaintext does not show through. */
	assert_null(memmem(s.data, s.len, "1101", 4));
	assert_int_equal(tb_open(&k, "person.id_number:42", 19, s.data, s.len, &p), TB_OK);
	assert_int_equal(p.len, strlen(id));
	assert_memory_equal(p.data, id, p.len);

	/* Another row's associated data, or none: refused. */
	tb_buf_reset(&p);
	assert_int_equal(tb_open(&k, "person.id_number:43", 19, s.data, s.len, &p), TB_EINVAL);
	assert_int_equal(tb_open(&k, NULL, 0, s.data, s.len, &p), TB_EINVAL);
	assert_int_equal(p.len, 0);

	/* Empty plaintext works, with and without associated data. */
	tb_buf_reset(&s);
	assert_int_equal(tb_seal(&k, NULL, 0, NULL, 0, &s), TB_OK);
	assert_int_equal(s.len, TB_SEAL_OVERHEAD);
	assert_int_equal(tb_open(&k, NULL, 0, s.data, s.len, &p), TB_OK);
	assert_int_equal(p.len, 0);

	/* A larger value (several SM4 blocks, not a multiple of 16). */
	uint8_t big[1000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	tb_buf_reset(&s);
	assert_int_equal(tb_seal(&k, "a", 1, big, sizeof(big), &s), TB_OK);
	assert_int_equal(tb_open(&k, "a", 1, s.data, s.len, &p), TB_OK);
	assert_int_equal(p.len, sizeof(big));
	assert_memory_equal(p.data, big, sizeof(big));

	/* A cap on the output buffer is honoured, and the buffer is left as it was. */
	struct tb_buf small;
	tb_buf_init(&small, TB_SEAL_OVERHEAD + 3);
	assert_int_equal(tb_seal(&k, NULL, 0, "abcd", 4, &small), TB_ETOOBIG);
	assert_int_equal(small.len, 0);
	assert_int_equal(tb_seal(&k, NULL, 0, "abc", 3, &small), TB_OK);
	tb_buf_release(&small);

	tb_buf_release(&s);
	tb_buf_release(&p);
	tb_seal_key_wipe(&k);
	assert_no_openssl_error();
}

static void test_seal_tamper(void **state)
{
	struct tb_seal_key k;
	struct tb_buf s, p;
	const char *id = "450000199001011234";
	test_key(&k, 2);
	tb_buf_init(&s, 0);
	tb_buf_init(&p, 0);
	assert_int_equal(tb_seal(&k, "ad", 2, id, strlen(id), &s), TB_OK);

	uint8_t *b = malloc(s.len + 1);
	assert_non_null(b);
	/* Every bit of every byte (version, IV, ciphertext, tag): refused, nothing out. */
	for (size_t i = 0; i < s.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(b, s.data, s.len);
			b[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(tb_open(&k, "ad", 2, b, s.len, &p), TB_EINVAL);
			assert_int_equal(p.len, 0);
		}
		/* And any other value of the byte (a sample of them). */
		for (unsigned v = 0; v < 256; v += 37) {
			memcpy(b, s.data, s.len);
			if (b[i] == v)
				continue;
			b[i] = (uint8_t)v;
			assert_int_equal(tb_open(&k, "ad", 2, b, s.len, &p), TB_EINVAL);
		}
	}
	/* Truncated at every length, or extended by a byte: refused. */
	for (size_t n = 0; n < s.len; n++)
		assert_int_equal(tb_open(&k, "ad", 2, s.data, n, &p), TB_EINVAL);
	memcpy(b, s.data, s.len);
	b[s.len] = 0;
	assert_int_equal(tb_open(&k, "ad", 2, b, s.len + 1, &p), TB_EINVAL);
	assert_int_equal(p.len, 0);

	/* Another key: refused. */
	struct tb_seal_key other;
	test_key(&other, 3);
	assert_int_equal(tb_open(&other, "ad", 2, s.data, s.len, &p), TB_EINVAL);
	/* The untouched blob still opens. */
	assert_int_equal(tb_open(&k, "ad", 2, s.data, s.len, &p), TB_OK);
	assert_memory_equal(p.data, id, strlen(id));

	free(b);
	tb_buf_release(&s);
	tb_buf_release(&p);
	assert_no_openssl_error();
}

static void test_seal_iv_fresh(void **state)
{
	struct tb_seal_key k;
	struct tb_buf a, b;
	test_key(&k, 4);
	tb_buf_init(&a, 0);
	tb_buf_init(&b, 0);
	assert_int_equal(tb_seal(&k, NULL, 0, "same text", 9, &a), TB_OK);
	assert_int_equal(tb_seal(&k, NULL, 0, "same text", 9, &b), TB_OK);
	assert_int_equal(a.len, b.len);
	assert_memory_not_equal(a.data + 1, b.data + 1, TB_SEAL_IV_LEN);
	assert_memory_not_equal(a.data + 1 + TB_SEAL_IV_LEN, b.data + 1 + TB_SEAL_IV_LEN, 9);
	tb_buf_release(&a);
	tb_buf_release(&b);
}

static void test_blind_index(void **state)
{
	struct tb_seal_key k, other;
	char h1[TB_BLIND_INDEX_HEX + 1], h2[TB_BLIND_INDEX_HEX + 1], want[TB_BLIND_INDEX_HEX + 1];
	uint8_t mac[TB_SM3_LEN];
	const char *id = "11010519491231002X";
	test_key(&k, 5);
	test_key(&other, 6);

	assert_int_equal(tb_blind_index(&k, id, strlen(id), h1), TB_OK);
	assert_int_equal(strlen(h1), TB_BLIND_INDEX_HEX);
	assert_int_equal(tb_blind_index(&k, id, strlen(id), h2), TB_OK);
	assert_string_equal(h1, h2); /* deterministic: usable as a lookup key */
	assert_int_equal(tb_hmac_sm3(k.index, 32, id, strlen(id), mac), TB_OK);
	to_hex(mac, sizeof(mac), want);
	assert_string_equal(h1, want);

	assert_int_equal(tb_blind_index(&k, "11010519491231002x", 18, h2), TB_OK);
	assert_string_not_equal(h1, h2);
	assert_int_equal(tb_blind_index(&other, id, strlen(id), h2), TB_OK);
	assert_string_not_equal(h1, h2);
	/* Not the plain hash of the value. */
	assert_int_equal(tb_sm3(id, strlen(id), mac), TB_OK);
	to_hex(mac, sizeof(mac), want);
	assert_string_not_equal(h1, want);
}

static void test_random_equal(void **state)
{
	uint8_t a[32], b[32];
	assert_int_equal(tb_crypto_random(a, sizeof(a)), TB_OK);
	assert_int_equal(tb_crypto_random(b, sizeof(b)), TB_OK);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_true(tb_crypto_equal(a, a, sizeof(a)));
	assert_false(tb_crypto_equal(a, b, sizeof(a)));
	memcpy(b, a, sizeof(a));
	b[31] ^= 1;
	assert_false(tb_crypto_equal(a, b, sizeof(a)));
	assert_true(tb_crypto_equal(a, b, 0));
	tb_crypto_wipe(a, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_memory_equal(a, b, sizeof(a));
}

/* ---- SM2 ---- */

/* STANDARDS.md §8 / GM/T 0003.5 example: recommended curve, ID 1234567812345678. */
static const char vec_d[] = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";
static const char vec_r[] = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3";
static const char vec_s[] = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";
/* Its public key as published with the example. */
static const char vec_x[] = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020";
static const char vec_y[] = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";

static struct tb_sm2_key *vector_key(void)
{
	uint8_t d[32];
	struct tb_sm2_key *k = NULL;
	from_hex(vec_d, d, sizeof(d));
	assert_int_equal(tb_sm2_from_scalar(d, &k), TB_OK);
	assert_non_null(k);
	return k;
}

static void test_sm2_standard_vector(void **state)
{
	struct tb_sm2_key *k = vector_key();
	uint8_t rs[64], d[32], d2[32];
	struct tb_buf der, pem;
	tb_buf_init(&der, 0);
	tb_buf_init(&pem, 0);

	/* The scalar comes back out unchanged. */
	from_hex(vec_d, d, sizeof(d));
	assert_int_equal(tb_sm2_to_scalar(k, d2), TB_OK);
	assert_memory_equal(d, d2, 32);

	/* The public key computed from d is the published one. */
	EVP_PKEY *pkey = NULL;
	assert_int_equal(tb_sm2_public_to_pem(k, &pem), TB_OK);
	{
		BIO *bio = BIO_new_mem_buf(pem.data, (int)pem.len);
		pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	assert_non_null(pkey);
	uint8_t pt[65], want[65];
	size_t ptlen = 0;
	assert_int_equal(EVP_PKEY_get_octet_string_param(pkey, "pub", pt, sizeof(pt), &ptlen), 1);
	EVP_PKEY_free(pkey);
	assert_int_equal(ptlen, 65);
	want[0] = 4;
	from_hex(vec_x, want + 1, 32);
	from_hex(vec_y, want + 33, 32);
	assert_memory_equal(pt, want, 65);

	/* The published (r, s) over "message digest" verifies with our ID handling. */
	from_hex(vec_r, rs, 32);
	from_hex(vec_s, rs + 32, 32);
	assert_int_equal(tb_sm2_sig_from_raw(rs, &der), TB_OK);
	assert_true(tb_sm2_verify(k, "message digest", 14, der.data, der.len));
	/* ... and not over another message, nor with s changed. */
	assert_false(tb_sm2_verify(k, "message digesT", 14, der.data, der.len));
	rs[63] ^= 1;
	tb_buf_reset(&der);
	assert_int_equal(tb_sm2_sig_from_raw(rs, &der), TB_OK);
	assert_false(tb_sm2_verify(k, "message digest", 14, der.data, der.len));
	rs[63] ^= 1;

	/* Outside check: openssl verifies the published vector with the same command. */
	if (have_openssl()) {
		tb_buf_reset(&der);
		assert_int_equal(tb_sm2_sig_from_raw(rs, &der), TB_OK);
		write_file("vec_pub.pem", pem.data, pem.len);
		write_file("vec_msg", "message digest", 14);
		write_file("vec_sig.der", der.data, der.len);
		assert_int_equal(openssl_sm2_verify("vec_pub.pem", "vec_msg", "vec_sig.der"), 0);
	}

	tb_sm2_key_free(k);
	tb_buf_release(&der);
	tb_buf_release(&pem);
	assert_no_openssl_error();
}

static void test_sm2_sign_openssl_verifies(void **state)
{
	NEED_OPENSSL();
	struct tb_sm2_key *k = NULL, *pub = NULL;
	struct tb_buf sig, pem;
	const char *msg = "{\"licence\":\"营业执照\",\"holder\":\"91350100M000100Y43\"}";
	size_t n = strlen(msg);
	tb_buf_init(&sig, 0);
	tb_buf_init(&pem, 0);

	assert_int_equal(tb_sm2_generate(&k), TB_OK);
	assert_true(tb_sm2_key_has_private(k));
	assert_int_equal(tb_sm2_sign(k, msg, n, &sig), TB_OK);
	assert_true(sig.len <= TB_SM2_SIG_DER_MAX);
	assert_true(tb_sm2_verify(k, msg, n, sig.data, sig.len));

	/* The public key alone, through PEM, verifies too. */
	assert_int_equal(tb_sm2_public_to_pem(k, &pem), TB_OK);
	assert_non_null(strstr(pem.data, "-----BEGIN PUBLIC KEY-----"));
	assert_int_equal(tb_sm2_public_from_pem(pem.data, pem.len, &pub), TB_OK);
	assert_false(tb_sm2_key_has_private(pub));
	assert_true(tb_sm2_verify(pub, msg, n, sig.data, sig.len));

	write_file("pub.pem", pem.data, pem.len);
	write_file("msg", msg, n);
	write_file("sig.der", sig.data, sig.len);
	assert_int_equal(openssl_sm2_verify("pub.pem", "msg", "sig.der"), 0);

	/* A flipped bit in the signature, or in the message, fails both. */
	for (size_t i = 0; i < sig.len; i += 7) {
		sig.data[i] ^= 0x10;
		assert_false(tb_sm2_verify(pub, msg, n, sig.data, sig.len));
		write_file("sig_bad.der", sig.data, sig.len);
		assert_int_not_equal(openssl_sm2_verify("pub.pem", "msg", "sig_bad.der"), 0);
		sig.data[i] ^= 0x10;
	}
	char *bad = strdup(msg);
	bad[5] ^= 0x01;
	assert_false(tb_sm2_verify(pub, bad, n, sig.data, sig.len));
	write_file("msg_bad", bad, n);
	assert_int_not_equal(openssl_sm2_verify("pub.pem", "msg_bad", "sig.der"), 0);
	free(bad);

	/* Another key does not verify it. */
	struct tb_sm2_key *k2 = NULL;
	assert_int_equal(tb_sm2_generate(&k2), TB_OK);
	assert_false(tb_sm2_verify(k2, msg, n, sig.data, sig.len));

	/* A public-only key cannot sign, nor give a scalar. */
	uint8_t d[32];
	size_t before = sig.len;
	assert_int_equal(tb_sm2_sign(pub, msg, n, &sig), TB_EINVAL);
	assert_int_equal(sig.len, before);
	assert_int_equal(tb_sm2_to_scalar(pub, d), TB_EINVAL);

	/* An empty message signs and verifies. */
	tb_buf_reset(&sig);
	assert_int_equal(tb_sm2_sign(k, NULL, 0, &sig), TB_OK);
	assert_true(tb_sm2_verify(pub, "", 0, sig.data, sig.len));
	write_file("empty", "", 0);
	write_file("sig_empty.der", sig.data, sig.len);
	assert_int_equal(openssl_sm2_verify("pub.pem", "empty", "sig_empty.der"), 0);

	tb_sm2_key_free(k);
	tb_sm2_key_free(k2);
	tb_sm2_key_free(pub);
	tb_buf_release(&sig);
	tb_buf_release(&pem);
	assert_no_openssl_error();
}

/* What we must not do: sign with no ID set, where OpenSSL 3.0 uses an empty ID. Such a
 * signature is valid for openssl without distid and refused with distid:1234567812345678
 * and by tb_sm2_verify. */
static void test_sm2_empty_id_rejected(void **state)
{
	NEED_OPENSSL();
	struct tb_sm2_key *k = NULL;
	struct tb_buf pem;
	const char *msg = "credential";
	tb_buf_init(&pem, 0);
	assert_int_equal(tb_sm2_generate(&k), TB_OK);
	assert_int_equal(tb_sm2_private_to_pem(k, NULL, &pem), TB_OK);

	BIO *bio = BIO_new_mem_buf(pem.data, (int)pem.len);
	EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	assert_non_null(pkey);
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	uint8_t sig[TB_SM2_SIG_DER_MAX];
	size_t siglen = sizeof(sig);
	assert_int_equal(EVP_DigestSignInit(mctx, NULL, EVP_sm3(), NULL, pkey), 1);
	assert_int_equal(EVP_DigestSign(mctx, sig, &siglen, (const uint8_t *)msg, strlen(msg)), 1);
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_free(pkey);

	assert_false(tb_sm2_verify(k, msg, strlen(msg), sig, siglen));
	tb_buf_reset(&pem);
	assert_int_equal(tb_sm2_public_to_pem(k, &pem), TB_OK);
	write_file("e_pub.pem", pem.data, pem.len);
	write_file("e_msg", msg, strlen(msg));
	write_file("e_sig.der", sig, siglen);
	assert_int_not_equal(openssl_sm2_verify("e_pub.pem", "e_msg", "e_sig.der"), 0);
	/* The signature itself is sound: without distid (empty ID) openssl accepts it. */
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "openssl pkeyutl -verify -pubin -inkey %s -rawin -digest sm3 -in %s "
		 "-sigfile %s >/dev/null 2>&1",
		 tmp_path("e_pub.pem"), tmp_path("e_msg"), tmp_path("e_sig.der"));
	assert_int_equal(run(cmd, NULL, 0), 0);

	tb_sm2_key_free(k);
	tb_buf_release(&pem);
	assert_no_openssl_error();
}

static void test_sm2_pem(void **state)
{
	struct tb_sm2_key *k = vector_key(), *k2 = NULL;
	struct tb_buf pem, sig;
	uint8_t d[32], d2[32];
	tb_buf_init(&pem, 0);
	tb_buf_init(&sig, 0);
	assert_int_equal(tb_sm2_to_scalar(k, d), TB_OK);

	/* Unencrypted PKCS#8. */
	assert_int_equal(tb_sm2_private_to_pem(k, NULL, &pem), TB_OK);
	assert_non_null(strstr(pem.data, "-----BEGIN PRIVATE KEY-----"));
	assert_int_equal(tb_sm2_private_from_pem(pem.data, pem.len, NULL, &k2), TB_OK);
	assert_int_equal(tb_sm2_to_scalar(k2, d2), TB_OK);
	assert_memory_equal(d, d2, 32);
	assert_int_equal(tb_sm2_sign(k2, "m", 1, &sig), TB_OK);
	assert_true(tb_sm2_verify(k, "m", 1, sig.data, sig.len));
	tb_sm2_key_free(k2);
	k2 = NULL;

	/* Encrypted PKCS#8: the right pass opens it, a wrong or missing one does not. */
	tb_buf_reset(&pem);
	assert_int_equal(tb_sm2_private_to_pem(k, "correct horse", &pem), TB_OK);
	assert_non_null(strstr(pem.data, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
	assert_int_equal(tb_sm2_private_from_pem(pem.data, pem.len, "wrong", &k2), TB_EINVAL);
	assert_null(k2);
	assert_int_equal(tb_sm2_private_from_pem(pem.data, pem.len, NULL, &k2), TB_EINVAL);
	assert_int_equal(tb_sm2_private_from_pem(pem.data, pem.len, "correct horse", &k2), TB_OK);
	assert_int_equal(tb_sm2_to_scalar(k2, d2), TB_OK);
	assert_memory_equal(d, d2, 32);
	tb_sm2_key_free(k2);
	k2 = NULL;

	/* Outside check: openssl reads the encrypted key with the pass and finds SM4-CBC. */
	if (have_openssl()) {
		char cmd[512], out[4096];
		write_file("enc.pem", pem.data, pem.len);
		snprintf(cmd, sizeof(cmd),
			 "openssl pkey -in %s -passin pass:'correct horse' -noout -text 2>&1",
			 tmp_path("enc.pem"));
		assert_int_equal(run(cmd, out, sizeof(out)), 0);
		assert_non_null(strstr(out, "SM2"));
		snprintf(cmd, sizeof(cmd), "openssl asn1parse -in %s 2>&1", tmp_path("enc.pem"));
		assert_int_equal(run(cmd, out, sizeof(out)), 0);
		assert_non_null(strstr(out, "sm4-cbc"));
	}

	/* Garbage, a public key, and a truncated PEM are refused as private keys. */
	assert_int_equal(tb_sm2_private_from_pem("not a key", 9, NULL, &k2), TB_EINVAL);
	tb_buf_reset(&pem);
	assert_int_equal(tb_sm2_public_to_pem(k, &pem), TB_OK);
	assert_int_equal(tb_sm2_private_from_pem(pem.data, pem.len, NULL, &k2), TB_EINVAL);
	assert_int_equal(tb_sm2_public_from_pem(pem.data, pem.len / 2, &k2), TB_EINVAL);
	assert_null(k2);

	tb_sm2_key_free(k);
	tb_buf_release(&pem);
	tb_buf_release(&sig);
	assert_no_openssl_error();
}

/* Keys made by the openssl command: an SM2 key is taken and its signatures verify
 * there; a key on another curve is refused. */
static void test_sm2_openssl_keys(void **state)
{
	NEED_OPENSSL();
	char cmd[512], pem[4096];
	struct tb_sm2_key *k = NULL;
	struct tb_buf sig, pub;
	tb_buf_init(&sig, 0);
	tb_buf_init(&pub, 0);

	snprintf(cmd, sizeof(cmd),
		 "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:SM2 2>/dev/null");
	assert_int_equal(run(cmd, pem, sizeof(pem)), 0);
	assert_int_equal(tb_sm2_private_from_pem(pem, strlen(pem), NULL, &k), TB_OK);
	assert_int_equal(tb_sm2_sign(k, "hello", 5, &sig), TB_OK);
	write_file("o_key.pem", pem, strlen(pem));
	snprintf(cmd, sizeof(cmd), "openssl pkey -in %s -pubout -out %s 2>/dev/null",
		 tmp_path("o_key.pem"), tmp_path("o_pub.pem"));
	assert_int_equal(run(cmd, NULL, 0), 0);
	write_file("o_msg", "hello", 5);
	write_file("o_sig.der", sig.data, sig.len);
	assert_int_equal(openssl_sm2_verify("o_pub.pem", "o_msg", "o_sig.der"), 0);

	/* And openssl's own signature with distid verifies with tb_sm2_verify. */
	snprintf(cmd, sizeof(cmd),
		 "openssl pkeyutl -sign -inkey %s -rawin -digest sm3 "
		 "-pkeyopt distid:1234567812345678 -in %s -out %s 2>/dev/null",
		 tmp_path("o_key.pem"), tmp_path("o_msg"), tmp_path("o_sig2.der"));
	assert_int_equal(run(cmd, NULL, 0), 0);
	FILE *f = fopen(tmp_path("o_sig2.der"), "rb");
	assert_non_null(f);
	uint8_t sig2[128];
	size_t n2 = fread(sig2, 1, sizeof(sig2), f);
	fclose(f);
	assert_true(tb_sm2_verify(k, "hello", 5, sig2, n2));
	tb_sm2_key_free(k);
	k = NULL;

	snprintf(cmd, sizeof(cmd),
		 "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null");
	assert_int_equal(run(cmd, pem, sizeof(pem)), 0);
	assert_int_equal(tb_sm2_private_from_pem(pem, strlen(pem), NULL, &k), TB_EINVAL);
	assert_null(k);

	tb_buf_release(&sig);
	tb_buf_release(&pub);
	assert_no_openssl_error();
}

static void test_sm2_raw(void **state)
{
	struct tb_sm2_key *k = NULL;
	struct tb_buf sig, der;
	uint8_t rs[64], rs2[64];
	tb_buf_init(&sig, 0);
	tb_buf_init(&der, 0);
	assert_int_equal(tb_sm2_generate(&k), TB_OK);

	/* DER → r‖s → DER gives the same bytes, for several signatures (some have r or s
	 * with a high bit, hence a 33-byte INTEGER, or a shorter one). */
	for (int i = 0; i < 20; i++) {
		tb_buf_reset(&sig);
		tb_buf_reset(&der);
		assert_int_equal(tb_sm2_sign(k, &i, sizeof(i), &sig), TB_OK);
		assert_int_equal(tb_sm2_sig_to_raw(sig.data, sig.len, rs), TB_OK);
		assert_int_equal(tb_sm2_sig_from_raw(rs, &der), TB_OK);
		assert_int_equal(der.len, sig.len);
		assert_memory_equal(der.data, sig.data, sig.len);
		assert_true(tb_sm2_verify(k, &i, sizeof(i), der.data, der.len));
	}

	/* Trailing bytes, truncation and a non-minimal length are refused. */
	uint8_t buf[TB_SM2_SIG_DER_MAX + 2];
	memcpy(buf, sig.data, sig.len);
	buf[sig.len] = 0;
	assert_int_equal(tb_sm2_sig_to_raw(buf, sig.len + 1, rs2), TB_EINVAL);
	assert_int_equal(tb_sm2_sig_to_raw(buf, sig.len - 1, rs2), TB_EINVAL);
	assert_int_equal(tb_sm2_sig_to_raw("", 0, rs2), TB_EINVAL);
	/* SEQUENCE with a long-form length where short form is required. */
	uint8_t longform[TB_SM2_SIG_DER_MAX + 1];
	longform[0] = 0x30;
	longform[1] = 0x81;
	longform[2] = (uint8_t)(sig.len - 2);
	memcpy(longform + 3, sig.data + 2, sig.len - 2);
	assert_int_equal(tb_sm2_sig_to_raw(longform, sig.len + 1, rs2), TB_EINVAL);

	/* Zero r or s cannot be a signature. */
	memset(rs2, 0, 32);
	memset(rs2 + 32, 1, 32);
	size_t before = der.len;
	assert_int_equal(tb_sm2_sig_from_raw(rs2, &der), TB_EINVAL);
	assert_int_equal(der.len, before);

	tb_sm2_key_free(k);
	tb_buf_release(&sig);
	tb_buf_release(&der);
	assert_no_openssl_error();
}

static void test_sm2_scalar_range(void **state)
{
	struct tb_sm2_key *k = NULL;
	uint8_t d[32];
	memset(d, 0, sizeof(d));
	assert_int_equal(tb_sm2_from_scalar(d, &k), TB_EINVAL);
	assert_null(k);
	/* n - 1 (n: the order of the recommended curve) is outside [1, n-2]. */
	from_hex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54122", d, 32);
	assert_int_equal(tb_sm2_from_scalar(d, &k), TB_EINVAL);
	/* n - 2 is the largest allowed. */
	d[31] = 0x21;
	assert_int_equal(tb_sm2_from_scalar(d, &k), TB_OK);
	tb_sm2_key_free(k);
	k = NULL;
	memset(d, 0, sizeof(d));
	d[31] = 1;
	assert_int_equal(tb_sm2_from_scalar(d, &k), TB_OK);
	tb_sm2_key_free(k);
	tb_sm2_key_free(NULL);
	assert_no_openssl_error();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sm3_vectors),
	    cmocka_unit_test(test_hmac_sm3_openssl),
	    cmocka_unit_test(test_random_equal),
	    cmocka_unit_test(test_seal_key_derive),
	    cmocka_unit_test(test_seal_roundtrip),
	    cmocka_unit_test(test_seal_tamper),
	    cmocka_unit_test(test_seal_iv_fresh),
	    cmocka_unit_test(test_blind_index),
	    cmocka_unit_test(test_sm2_standard_vector),
	    cmocka_unit_test(test_sm2_sign_openssl_verifies),
	    cmocka_unit_test(test_sm2_empty_id_rejected),
	    cmocka_unit_test(test_sm2_pem),
	    cmocka_unit_test(test_sm2_openssl_keys),
	    cmocka_unit_test(test_sm2_raw),
	    cmocka_unit_test(test_sm2_scalar_range),
	};
	return cmocka_run_group_tests(tests, setup_tmpdir, remove_tmpdir);
}
