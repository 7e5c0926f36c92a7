/* crypto.c: SM3, HMAC-SM3, sealing with SM4-CTR + HMAC-SM3, SM2 signatures.
 * See crypto.h for the formats and invariants. */
#include "base/crypto.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <sodium.h>

struct tb_sm2_key {
	EVP_PKEY *pkey;
	bool has_private;
};

/* Every public function that calls OpenSSL brackets it with a mark on the error queue
 * and pops back to it, so that no error it caused stays behind for an unrelated later
 * ERR_get_error() to find, while errors the caller had are kept. */
#define ERR_BEGIN() ERR_set_mark()
#define ERR_END()   ERR_pop_to_mark()

tb_rc tb_crypto_random(void *buf, size_t n)
{
	if (sodium_init() < 0)
		return TB_EINTERNAL;
	randombytes_buf(buf, n);
	return TB_OK;
}

bool tb_crypto_equal(const void *a, const void *b, size_t n)
{
	return n == 0 || sodium_memcmp(a, b, n) == 0;
}

void tb_crypto_wipe(void *p, size_t n)
{
	if (p && n)
		sodium_memzero(p, n);
}

/* Free a buffer that held secrets. */
static void wipe_free(void *p, size_t n)
{
	if (p) {
		tb_crypto_wipe(p, n);
		free(p);
	}
}

/* ---- SM3, HMAC-SM3 ---- */

tb_rc tb_sm3(const void *msg, size_t n, uint8_t out[TB_SM3_LEN])
{
	tb_rc rc = TB_EINTERNAL;
	unsigned int len = 0;
	ERR_BEGIN();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx) {
		rc = TB_ENOMEM;
		goto done;
	}
	if (EVP_DigestInit_ex(ctx, EVP_sm3(), NULL) != 1 ||
	    (n && EVP_DigestUpdate(ctx, msg, n) != 1) || EVP_DigestFinal_ex(ctx, out, &len) != 1 ||
	    len != TB_SM3_LEN)
		goto done;
	rc = TB_OK;
done:
	if (rc)
		memset(out, 0, TB_SM3_LEN);
	EVP_MD_CTX_free(ctx);
	ERR_END();
	return rc;
}

/* An HMAC-SM3 computation fed in pieces (the seal tag covers several). */
static EVP_MAC_CTX *hmac_begin(const void *key, size_t klen)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac)
		return NULL;
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac); /* the context holds its own reference */
	if (!ctx)
		return NULL;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SM3", 0),
	    OSSL_PARAM_construct_end(),
	};
	if (EVP_MAC_init(ctx, key, klen, params) != 1) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static bool hmac_update(EVP_MAC_CTX *ctx, const void *p, size_t n)
{
	return n == 0 || EVP_MAC_update(ctx, p, n) == 1;
}

static bool hmac_final(EVP_MAC_CTX *ctx, uint8_t out[TB_SM3_LEN])
{
	size_t len = 0;
	return EVP_MAC_final(ctx, out, &len, TB_SM3_LEN) == 1 && len == TB_SM3_LEN;
}

tb_rc tb_hmac_sm3(const void *key, size_t klen, const void *msg, size_t mlen,
		  uint8_t out[TB_SM3_LEN])
{
	if (!key || klen == 0) {
		memset(out, 0, TB_SM3_LEN);
		return TB_EINVAL;
	}
	tb_rc rc = TB_EINTERNAL;
	ERR_BEGIN();
	EVP_MAC_CTX *ctx = hmac_begin(key, klen);
	if (ctx && hmac_update(ctx, msg, mlen) && hmac_final(ctx, out))
		rc = TB_OK;
	if (rc)
		memset(out, 0, TB_SM3_LEN);
	EVP_MAC_CTX_free(ctx);
	ERR_END();
	return rc;
}

/* ---- Sealing ---- */

static const char label_enc[] = "tongban seal enc v1";
static const char label_mac[] = "tongban seal mac v1";
static const char label_index[] = "tongban blind index v1";

tb_rc tb_seal_key_derive(struct tb_seal_key *k, const void *master, size_t mlen)
{
	uint8_t enc[TB_SM3_LEN];
	tb_rc rc = TB_EINVAL;
	if (!master || mlen < 32)
		goto fail;
	rc = tb_hmac_sm3(master, mlen, label_enc, strlen(label_enc), enc);
	if (rc)
		goto fail;
	rc = tb_hmac_sm3(master, mlen, label_mac, strlen(label_mac), k->mac);
	if (rc)
		goto fail;
	rc = tb_hmac_sm3(master, mlen, label_index, strlen(label_index), k->index);
	if (rc)
		goto fail;
	memcpy(k->enc, enc, sizeof(k->enc));
	tb_crypto_wipe(enc, sizeof(enc));
	return TB_OK;
fail:
	tb_crypto_wipe(enc, sizeof(enc));
	tb_seal_key_wipe(k);
	return rc;
}

void tb_seal_key_wipe(struct tb_seal_key *k)
{
	tb_crypto_wipe(k, sizeof(*k));
}

/* SM4-CTR is its own inverse: the same call encrypts and decrypts. */
static tb_rc sm4_ctr(const uint8_t key[16], const uint8_t iv[TB_SEAL_IV_LEN], const uint8_t *in,
		     size_t n, uint8_t *out)
{
	tb_rc rc = TB_EINTERNAL;
	int len = 0, fin = 0;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return TB_ENOMEM;
	if (EVP_EncryptInit_ex(ctx, EVP_sm4_ctr(), NULL, key, iv) != 1)
		goto done;
	if (n && EVP_EncryptUpdate(ctx, out, &len, in, (int)n) != 1)
		goto done;
	if (EVP_EncryptFinal_ex(ctx, out + len, &fin) != 1 || (size_t)len + (size_t)fin != n)
		goto done;
	rc = TB_OK;
done:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* tag = HMAC-SM3(mac key, be64(adlen) ‖ ad ‖ body). */
static tb_rc seal_tag(const struct tb_seal_key *k, const void *ad, size_t adlen,
		      const uint8_t *body, size_t n, uint8_t tag[TB_SEAL_TAG_LEN])
{
	uint8_t be[8];
	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)((uint64_t)adlen >> (56 - 8 * i));
	tb_rc rc = TB_EINTERNAL;
	EVP_MAC_CTX *ctx = hmac_begin(k->mac, sizeof(k->mac));
	if (ctx && hmac_update(ctx, be, sizeof(be)) && hmac_update(ctx, ad, adlen) &&
	    hmac_update(ctx, body, n) && hmac_final(ctx, tag))
		rc = TB_OK;
	EVP_MAC_CTX_free(ctx);
	return rc;
}

tb_rc tb_seal(const struct tb_seal_key *k, const void *ad, size_t adlen, const void *plain,
	      size_t n, struct tb_buf *out)
{
	if (n > TB_SEAL_MAX)
		return TB_ETOOBIG;
	if ((n && !plain) || (adlen && !ad))
		return TB_EINVAL;
	size_t total = TB_SEAL_OVERHEAD + n;
	uint8_t *s = malloc(total);
	if (!s)
		return TB_ENOMEM;
	tb_rc rc;
	ERR_BEGIN();
	s[0] = TB_SEAL_VERSION;
	rc = tb_crypto_random(s + 1, TB_SEAL_IV_LEN);
	if (rc)
		goto done;
	rc = sm4_ctr(k->enc, s + 1, plain, n, s + 1 + TB_SEAL_IV_LEN);
	if (rc)
		goto done;
	rc = seal_tag(k, ad, adlen, s, total - TB_SEAL_TAG_LEN, s + total - TB_SEAL_TAG_LEN);
	if (rc)
		goto done;
	rc = tb_buf_append(out, s, total);
done:
	free(s); /* ciphertext only: nothing secret */
	ERR_END();
	return rc;
}

tb_rc tb_open(const struct tb_seal_key *k, const void *ad, size_t adlen, const void *sealed,
	      size_t n, struct tb_buf *out)
{
	const uint8_t *s = sealed;
	if (!s || n < TB_SEAL_OVERHEAD || s[0] != TB_SEAL_VERSION || (adlen && !ad))
		return TB_EINVAL;
	size_t plen = n - TB_SEAL_OVERHEAD;
	if (plen > TB_SEAL_MAX)
		return TB_ETOOBIG;
	uint8_t tag[TB_SEAL_TAG_LEN];
	uint8_t *p = NULL;
	tb_rc rc;
	ERR_BEGIN();
	rc = seal_tag(k, ad, adlen, s, n - TB_SEAL_TAG_LEN, tag);
	if (rc)
		goto done;
	if (!tb_crypto_equal(tag, s + n - TB_SEAL_TAG_LEN, TB_SEAL_TAG_LEN)) {
		rc = TB_EINVAL;
		goto done;
	}
	p = malloc(plen ? plen : 1);
	if (!p) {
		rc = TB_ENOMEM;
		goto done;
	}
	rc = sm4_ctr(k->enc, s + 1, s + 1 + TB_SEAL_IV_LEN, plen, p);
	if (rc)
		goto done;
	rc = tb_buf_append(out, p, plen);
done:
	wipe_free(p, plen);
	ERR_END();
	return rc;
}

tb_rc tb_blind_index(const struct tb_seal_key *k, const void *value, size_t n,
		     char hex[TB_BLIND_INDEX_HEX + 1])
{
	uint8_t h[TB_SM3_LEN];
	tb_rc rc = tb_hmac_sm3(k->index, sizeof(k->index), value, n, h);
	if (rc) {
		memset(hex, 0, TB_BLIND_INDEX_HEX + 1);
		return rc;
	}
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < sizeof(h); i++) {
		hex[2 * i] = digits[h[i] >> 4];
		hex[2 * i + 1] = digits[h[i] & 15];
	}
	hex[TB_BLIND_INDEX_HEX] = 0;
	return TB_OK;
}

/* ---- SM2 ---- */

static tb_rc key_wrap(EVP_PKEY *pkey, bool has_private, struct tb_sm2_key **out)
{
	struct tb_sm2_key *k = malloc(sizeof(*k));
	if (!k) {
		EVP_PKEY_free(pkey);
		return TB_ENOMEM;
	}
	k->pkey = pkey;
	k->has_private = has_private;
	*out = k;
	return TB_OK;
}

void tb_sm2_key_free(struct tb_sm2_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

bool tb_sm2_key_has_private(const struct tb_sm2_key *k)
{
	return k && k->has_private;
}

tb_rc tb_sm2_generate(struct tb_sm2_key **out)
{
	*out = NULL;
	tb_rc rc = TB_EINTERNAL;
	EVP_PKEY *pkey = NULL;
	ERR_BEGIN();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
	if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &pkey) != 1)
		goto done;
	rc = key_wrap(pkey, true, out);
done:
	EVP_PKEY_CTX_free(ctx);
	ERR_END();
	return rc;
}

tb_rc tb_sm2_from_scalar(const uint8_t d[TB_SM2_SCALAR_LEN], struct tb_sm2_key **out)
{
	*out = NULL;
	tb_rc rc = TB_EINTERNAL;
	EC_GROUP *group = NULL;
	EC_POINT *pub = NULL;
	BIGNUM *priv = NULL, *max = NULL;
	BN_CTX *bnctx = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	uint8_t pubkey[1 + 2 * TB_SM2_SCALAR_LEN];
	ERR_BEGIN();

	group = EC_GROUP_new_by_curve_name(NID_sm2);
	bnctx = BN_CTX_secure_new();
	priv = BN_secure_new();
	max = BN_new();
	pub = group ? EC_POINT_new(group) : NULL;
	if (!group || !bnctx || !priv || !max || !pub) {
		rc = TB_ENOMEM;
		goto done;
	}
	if (!BN_bin2bn(d, TB_SM2_SCALAR_LEN, priv))
		goto done;
	/* GB/T 32918.1: d in [1, n-2], so that 1 + d is invertible when signing. */
	if (!BN_copy(max, EC_GROUP_get0_order(group)) || !BN_sub_word(max, 2))
		goto done;
	if (BN_is_zero(priv) || BN_cmp(priv, max) > 0) {
		rc = TB_EINVAL;
		goto done;
	}
	if (EC_POINT_mul(group, pub, priv, NULL, NULL, bnctx) != 1 ||
	    EC_POINT_point2oct(group, pub, POINT_CONVERSION_UNCOMPRESSED, pubkey, sizeof(pubkey),
			       bnctx) != sizeof(pubkey))
		goto done;
	bld = OSSL_PARAM_BLD_new();
	if (!bld ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pubkey,
					     sizeof(pubkey)) != 1)
		goto done;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1)
		goto done;
	rc = key_wrap(pkey, true, out);
done:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params); /* holds a copy of the scalar: allocated from secure heap */
	OSSL_PARAM_BLD_free(bld);
	EC_POINT_free(pub);
	BN_clear_free(priv);
	BN_free(max);
	BN_CTX_free(bnctx);
	EC_GROUP_free(group);
	ERR_END();
	return rc;
}

tb_rc tb_sm2_to_scalar(const struct tb_sm2_key *k, uint8_t d[TB_SM2_SCALAR_LEN])
{
	memset(d, 0, TB_SM2_SCALAR_LEN);
	if (!k || !k->has_private)
		return TB_EINVAL;
	tb_rc rc = TB_EINTERNAL;
	BIGNUM *priv = NULL;
	ERR_BEGIN();
	if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &priv) == 1 &&
	    BN_bn2binpad(priv, d, TB_SM2_SCALAR_LEN) == TB_SM2_SCALAR_LEN)
		rc = TB_OK;
	else
		memset(d, 0, TB_SM2_SCALAR_LEN);
	BN_clear_free(priv);
	ERR_END();
	return rc;
}

/* Append everything written to a memory BIO to out. */
static tb_rc bio_to_buf(BIO *bio, struct tb_buf *out)
{
	char *p = NULL;
	long n = BIO_get_mem_data(bio, &p);
	if (n <= 0 || !p)
		return TB_EINTERNAL;
	return tb_buf_append(out, p, (size_t)n);
}

/* A freshly read key must be SM2: tongban never signs with a key on another curve. */
static bool is_sm2(EVP_PKEY *pkey)
{
	if (EVP_PKEY_is_a(pkey, "SM2"))
		return true;
	char group[32];
	size_t len = 0;
	return EVP_PKEY_is_a(pkey, "EC") &&
	       EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
					      sizeof(group), &len) == 1 &&
	       strcmp(group, "SM2") == 0;
}

tb_rc tb_sm2_private_to_pem(const struct tb_sm2_key *k, const char *pass, struct tb_buf *out)
{
	if (!k || !k->has_private)
		return TB_EINVAL;
	size_t passlen = pass ? strlen(pass) : 0;
	if (passlen > INT_MAX)
		return TB_EINVAL;
	tb_rc rc = TB_EINTERNAL;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	X509_SIG *enc = NULL;
	ERR_BEGIN();
	BIO *bio = BIO_new(BIO_s_secmem());
	if (!bio) {
		rc = TB_ENOMEM;
		goto done;
	}
	if (!pass) {
		if (PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL) != 1)
			goto done;
	} else {
		p8 = EVP_PKEY2PKCS8(k->pkey);
		if (!p8)
			goto done;
		/* pbe_nid -1: PBES2 with the given cipher; salt NULL: a random one. */
		enc = PKCS8_encrypt(-1, EVP_sm4_cbc(), pass, (int)passlen, NULL, 0, 100000, p8);
		if (!enc || PEM_write_bio_PKCS8(bio, enc) != 1)
			goto done;
	}
	rc = bio_to_buf(bio, out);
done:
	X509_SIG_free(enc);
	PKCS8_PRIV_KEY_INFO_free(p8);
	BIO_free(bio);
	ERR_END();
	return rc;
}

/* Hands OpenSSL the pass given to tb_sm2_private_from_pem; with none it fails rather
 * than prompting on the terminal, which OpenSSL's default callback would do. */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pass = u;
	if (!pass)
		return -1;
	size_t n = strlen(pass);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pass, n);
	return (int)n;
}

tb_rc tb_sm2_private_from_pem(const char *pem, size_t n, const char *pass, struct tb_sm2_key **out)
{
	*out = NULL;
	if (!pem || n == 0 || n > INT_MAX)
		return TB_EINVAL;
	tb_rc rc = TB_EINVAL;
	EVP_PKEY *pkey = NULL;
	ERR_BEGIN();
	BIO *bio = BIO_new_mem_buf(pem, (int)n);
	if (!bio) {
		rc = TB_ENOMEM;
		goto done;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, (void *)pass);
	if (!pkey || !is_sm2(pkey))
		goto done;
	rc = key_wrap(pkey, true, out);
	pkey = NULL;
done:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	ERR_END();
	return rc;
}

tb_rc tb_sm2_public_to_pem(const struct tb_sm2_key *k, struct tb_buf *out)
{
	if (!k)
		return TB_EINVAL;
	tb_rc rc = TB_EINTERNAL;
	ERR_BEGIN();
	BIO *bio = BIO_new(BIO_s_mem());
	if (!bio)
		rc = TB_ENOMEM;
	else if (PEM_write_bio_PUBKEY(bio, k->pkey) == 1)
		rc = bio_to_buf(bio, out);
	BIO_free(bio);
	ERR_END();
	return rc;
}

tb_rc tb_sm2_public_from_pem(const char *pem, size_t n, struct tb_sm2_key **out)
{
	*out = NULL;
	if (!pem || n == 0 || n > INT_MAX)
		return TB_EINVAL;
	tb_rc rc = TB_EINVAL;
	EVP_PKEY *pkey = NULL;
	ERR_BEGIN();
	BIO *bio = BIO_new_mem_buf(pem, (int)n);
	if (!bio) {
		rc = TB_ENOMEM;
		goto done;
	}
	pkey = PEM_read_bio_PUBKEY(bio, NULL, pass_cb, NULL);
	if (!pkey || !is_sm2(pkey))
		goto done;
	rc = key_wrap(pkey, false, out);
	pkey = NULL;
done:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	ERR_END();
	return rc;
}

/* A digest-sign/verify context for SM2 with SM3 and our ID. The ID goes on a
 * EVP_PKEY_CTX handed to the EVP_MD_CTX before the init: with no ID set OpenSSL 3.0
 * uses an empty one (DESIGN.md, Known pitfalls). The caller frees both contexts: the
 * EVP_MD_CTX does not own a pkey context given to it with EVP_MD_CTX_set_pkey_ctx. */
static tb_rc sm2_md_ctx(EVP_PKEY *pkey, bool sign, EVP_MD_CTX **mctx, EVP_PKEY_CTX **pctx)
{
	*mctx = EVP_MD_CTX_new();
	*pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!*mctx || !*pctx)
		return TB_ENOMEM;
	if (EVP_PKEY_CTX_set1_id(*pctx, TB_SM2_ID, strlen(TB_SM2_ID)) != 1)
		return TB_EINTERNAL;
	EVP_MD_CTX_set_pkey_ctx(*mctx, *pctx);
	int ok = sign ? EVP_DigestSignInit(*mctx, NULL, EVP_sm3(), NULL, pkey)
		      : EVP_DigestVerifyInit(*mctx, NULL, EVP_sm3(), NULL, pkey);
	return ok == 1 ? TB_OK : TB_EINTERNAL;
}

tb_rc tb_sm2_sign(const struct tb_sm2_key *k, const void *msg, size_t n, struct tb_buf *sig)
{
	if (!k || !k->has_private || (n && !msg))
		return TB_EINVAL;
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t der[TB_SM2_SIG_DER_MAX];
	size_t len = sizeof(der);
	ERR_BEGIN();
	tb_rc rc = sm2_md_ctx(k->pkey, true, &mctx, &pctx);
	if (rc)
		goto done;
	/* One-shot: SM2 in 3.0 takes the whole message (Z is hashed in first). */
	if (EVP_DigestSign(mctx, der, &len, n ? msg : (const void *)"", n) != 1) {
		rc = TB_EINTERNAL;
		goto done;
	}
	rc = tb_buf_append(sig, der, len);
done:
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_CTX_free(pctx);
	ERR_END();
	return rc;
}

bool tb_sm2_verify(const struct tb_sm2_key *k, const void *msg, size_t n, const void *sig,
		   size_t siglen)
{
	if (!k || (n && !msg) || !sig || siglen == 0 || siglen > TB_SM2_SIG_DER_MAX)
		return false;
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	bool ok = false;
	ERR_BEGIN();
	if (sm2_md_ctx(k->pkey, false, &mctx, &pctx) == TB_OK)
		ok = EVP_DigestVerify(mctx, sig, siglen, n ? msg : (const void *)"", n) == 1;
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_CTX_free(pctx);
	ERR_END();
	return ok;
}

tb_rc tb_sm2_sig_to_raw(const void *der, size_t n, uint8_t rs[TB_SM2_SIG_RAW_LEN])
{
	memset(rs, 0, TB_SM2_SIG_RAW_LEN);
	if (!der || n == 0 || n > TB_SM2_SIG_DER_MAX)
		return TB_EINVAL;
	tb_rc rc = TB_EINVAL;
	unsigned char *again = NULL;
	ERR_BEGIN();
	const unsigned char *p = der;
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)n);
	if (!s || p != (const unsigned char *)der + n)
		goto done;
	/* Only the canonical encoding: re-encoding must give the same bytes. */
	int len = i2d_ECDSA_SIG(s, &again);
	if (len < 0 || (size_t)len != n || memcmp(again, der, n) != 0)
		goto done;
	const BIGNUM *r = ECDSA_SIG_get0_r(s), *sv = ECDSA_SIG_get0_s(s);
	if (BN_is_negative(r) || BN_is_negative(sv) ||
	    BN_bn2binpad(r, rs, TB_SM2_SCALAR_LEN) != TB_SM2_SCALAR_LEN ||
	    BN_bn2binpad(sv, rs + TB_SM2_SCALAR_LEN, TB_SM2_SCALAR_LEN) != TB_SM2_SCALAR_LEN) {
		memset(rs, 0, TB_SM2_SIG_RAW_LEN);
		goto done;
	}
	rc = TB_OK;
done:
	OPENSSL_free(again);
	ECDSA_SIG_free(s);
	ERR_END();
	return rc;
}

tb_rc tb_sm2_sig_from_raw(const uint8_t rs[TB_SM2_SIG_RAW_LEN], struct tb_buf *der)
{
	tb_rc rc = TB_ENOMEM;
	unsigned char *enc = NULL;
	ERR_BEGIN();
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(rs, TB_SM2_SCALAR_LEN, NULL);
	BIGNUM *sv = BN_bin2bn(rs + TB_SM2_SCALAR_LEN, TB_SM2_SCALAR_LEN, NULL);
	if (!s || !r || !sv)
		goto done;
	if (BN_is_zero(r) || BN_is_zero(sv)) {
		rc = TB_EINVAL;
		goto done;
	}
	if (ECDSA_SIG_set0(s, r, sv) != 1) {
		rc = TB_EINTERNAL;
		goto done;
	}
	r = sv = NULL; /* owned by s now */
	int len = i2d_ECDSA_SIG(s, &enc);
	if (len <= 0) {
		rc = TB_EINTERNAL;
		goto done;
	}
	rc = tb_buf_append(der, enc, (size_t)len);
done:
	OPENSSL_free(enc);
	BN_free(r);
	BN_free(sv);
	ECDSA_SIG_free(s);
	ERR_END();
	return rc;
}
