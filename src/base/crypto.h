/* crypto.h: the few cryptographic operations tongban needs, on 国密 algorithms
 * (shared/STANDARDS.md §8, shared/DESIGN.md "Known pitfalls"), over OpenSSL 3.0 and
 * libsodium.
 *
 * - SM3 and HMAC-SM3.
 * - Sealing personal data at rest (ID numbers): SM4-CTR with a random IV, then
 *   HMAC-SM3 over everything before the tag (encrypt-then-MAC, separate keys), and a
 *   keyed "blind index" to find a sealed value without opening it.
 * - SM2 signatures with SM3 and the distinguishing ID 1234567812345678 set explicitly
 *   (OpenSSL 3.0 otherwise uses an empty ID that nobody else verifies).
 *
 * Invariants of every function here:
 * - Fallible functions return tb_rc; verification returns bool. Nothing aborts.
 * - On failure, output buffers (struct tb_buf) are left as they were (nothing appended)
 *   and fixed-size outputs are zeroed; everything allocated is freed on every path.
 * - No OpenSSL error is left on the calling thread's error queue by these functions
 *   (errors they cause are popped; errors the caller already had are kept).
 * - Secret intermediate buffers are wiped before they are freed.
 */
#ifndef TB_BASE_CRYPTO_H
#define TB_BASE_CRYPTO_H

#include "base/buf.h"
#include "base/tb.h"

#define TB_SM3_LEN 32

/* Fill buf with n bytes from the operating system's CSPRNG (libsodium). */
tb_rc tb_crypto_random(void *buf, size_t n);
/* true when the n bytes at a and b are equal; time depends on n only. */
bool tb_crypto_equal(const void *a, const void *b, size_t n);
/* Zero n bytes at p in a way the compiler does not remove. */
void tb_crypto_wipe(void *p, size_t n);

/* out = SM3(msg). msg may be NULL when n is 0. */
tb_rc tb_sm3(const void *msg, size_t n, uint8_t out[TB_SM3_LEN]);
/* out = HMAC-SM3(key, msg) (RFC 2104 with SM3). klen must be > 0; msg may be NULL when
 * mlen is 0. */
tb_rc tb_hmac_sm3(const void *key, size_t klen, const void *msg, size_t mlen,
		  uint8_t out[TB_SM3_LEN]);

/* ---- Sealing personal data ------------------------------------------------------ */

/* Sealed format, version 1 (all lengths in bytes):
 *   version(1) = 0x01 ‖ IV(16, random) ‖ SM4-CTR(enc key, IV, plaintext)(n)
 *   ‖ tag(32) = HMAC-SM3(mac key, len(ad) as 8-byte big-endian ‖ ad ‖ everything before
 *               the tag)
 * so a sealed value is TB_SEAL_OVERHEAD + n bytes. The associated data `ad` (e.g. the
 * table, column and row id) is authenticated but not stored: a value copied into
 * another row, or another column, does not open there. */
#define TB_SEAL_VERSION	 0x01
#define TB_SEAL_IV_LEN	 16
#define TB_SEAL_TAG_LEN	 TB_SM3_LEN
#define TB_SEAL_OVERHEAD (1 + TB_SEAL_IV_LEN + TB_SEAL_TAG_LEN)
/* Largest plaintext tb_seal takes (personal data fields are small). */
#define TB_SEAL_MAX (64u * 1024 * 1024)
/* Length of a blind index as hex, without its NUL. */
#define TB_BLIND_INDEX_HEX 64

/* Three independent keys derived from one master key, each HMAC-SM3(master, label)
 * with its own label ("tongban seal enc v1" → first 16 bytes; "tongban seal mac v1";
 * "tongban blind index v1"). Hold it in memory only; wipe it with tb_seal_key_wipe. */
struct tb_seal_key {
	uint8_t enc[16];   /* SM4 key */
	uint8_t mac[32];   /* HMAC-SM3 key for the tag */
	uint8_t index[32]; /* HMAC-SM3 key for blind indexes */
};

/* Derive k from a master key of at least 32 bytes (TB_EINVAL if shorter). */
tb_rc tb_seal_key_derive(struct tb_seal_key *k, const void *master, size_t mlen);
void tb_seal_key_wipe(struct tb_seal_key *k);

/* Seal n bytes of plain (may be empty; plain may be NULL when n is 0) bound to ad
 * (may be NULL/0) and append the sealed bytes to out. TB_ETOOBIG if n > TB_SEAL_MAX or
 * out's cap would be passed. Two seals of the same plaintext differ (random IV). */
tb_rc tb_seal(const struct tb_seal_key *k, const void *ad, size_t adlen, const void *plain,
	      size_t n, struct tb_buf *out);
/* Check the tag (constant time) and only then decrypt, appending the plaintext to out.
 * TB_EINVAL when the input is not a value sealed with this key and ad: too short, an
 * unknown version, another key, other ad, or any byte changed. Never yields garbage. */
tb_rc tb_open(const struct tb_seal_key *k, const void *ad, size_t adlen, const void *sealed,
	      size_t n, struct tb_buf *out);

/* hex = lower-case hex of HMAC-SM3(k->index, value), NUL-terminated: a deterministic
 * lookup key for a sealed value (equal values give equal indexes under one key, and
 * nothing is learnt without the key). The caller normalises the value first (e.g. an ID
 * number's check character upper-cased), since "x" and "X" index differently. */
tb_rc tb_blind_index(const struct tb_seal_key *k, const void *value, size_t n,
		     char hex[TB_BLIND_INDEX_HEX + 1]);

/* ---- SM2 signatures -------------------------------------------------------------- */

/* The distinguishing ID every tongban signature uses (GM/T 0009 default). */
#define TB_SM2_ID	   "1234567812345678"
#define TB_SM2_SCALAR_LEN  32
#define TB_SM2_SIG_RAW_LEN 64 /* r ‖ s, each 32 bytes big-endian */
/* Largest DER signature: SEQUENCE { INTEGER r, INTEGER s }, each up to 33 bytes. */
#define TB_SM2_SIG_DER_MAX 72

/* An SM2 key on the recommended curve: a key pair, or only a public key. Opaque; one
 * owner frees it with tb_sm2_key_free. A key may be used by several threads at once
 * for signing and verification. */
struct tb_sm2_key;

void tb_sm2_key_free(struct tb_sm2_key *k);
bool tb_sm2_key_has_private(const struct tb_sm2_key *k);

/* A new random key pair. */
tb_rc tb_sm2_generate(struct tb_sm2_key **out);
/* The key pair whose private scalar is d (big-endian); its public key is computed.
 * TB_EINVAL unless 1 <= d <= n-2 (GB/T 32918). */
tb_rc tb_sm2_from_scalar(const uint8_t d[TB_SM2_SCALAR_LEN], struct tb_sm2_key **out);
/* d = the private scalar, big-endian, zero-padded. TB_EINVAL for a public-only key. */
tb_rc tb_sm2_to_scalar(const struct tb_sm2_key *k, uint8_t d[TB_SM2_SCALAR_LEN]);

/* Private key as PEM PKCS#8. With pass NULL: "PRIVATE KEY", unencrypted. Otherwise
 * "ENCRYPTED PRIVATE KEY": PBES2, PBKDF2 (hmacWithSHA256, 100000 iterations), SM4-CBC;
 * `openssl pkey -passin pass:…` reads it. Appended to out. */
tb_rc tb_sm2_private_to_pem(const struct tb_sm2_key *k, const char *pass, struct tb_buf *out);
/* Read a private SM2 key from PEM (PKCS#8, encrypted PKCS#8 or "EC PRIVATE KEY").
 * pass may be NULL for an unencrypted key; an encrypted key without the right pass is
 * TB_EINVAL (never a prompt on the terminal). A key on another curve is TB_EINVAL. */
tb_rc tb_sm2_private_from_pem(const char *pem, size_t n, const char *pass, struct tb_sm2_key **out);
/* Public key as PEM SubjectPublicKeyInfo ("PUBLIC KEY"), appended to out. */
tb_rc tb_sm2_public_to_pem(const struct tb_sm2_key *k, struct tb_buf *out);
/* Read a public SM2 key from PEM SubjectPublicKeyInfo. */
tb_rc tb_sm2_public_from_pem(const char *pem, size_t n, struct tb_sm2_key **out);

/* Sign msg with SM3 and ID TB_SM2_ID: appends the DER signature (at most
 * TB_SM2_SIG_DER_MAX bytes) to sig. TB_EINVAL for a public-only key. */
tb_rc tb_sm2_sign(const struct tb_sm2_key *k, const void *msg, size_t n, struct tb_buf *sig);
/* true when sig (DER) is a valid signature of msg under k with SM3 and ID TB_SM2_ID.
 * Any failure (bad encoding, wrong key, internal error) is false. */
bool tb_sm2_verify(const struct tb_sm2_key *k, const void *msg, size_t n, const void *sig,
		   size_t siglen);

/* DER signature → r ‖ s. TB_EINVAL unless der is exactly one canonical DER
 * SEQUENCE of two INTEGERs, each fitting 32 bytes. */
tb_rc tb_sm2_sig_to_raw(const void *der, size_t n, uint8_t rs[TB_SM2_SIG_RAW_LEN]);
/* r ‖ s → DER signature, appended to der. TB_EINVAL if r or s is zero. */
tb_rc tb_sm2_sig_from_raw(const uint8_t rs[TB_SM2_SIG_RAW_LEN], struct tb_buf *der);

#endif
