/* jose.c: ES256 keys, JWS compact and JWK over OpenSSL 3 EVP. See jose.h. */
#include "base/jose.h"
#include "base/crypto.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#define ERR_BEGIN() ERR_set_mark()
#define ERR_END()   ERR_pop_to_mark()

struct tb_es256_key {
	EVP_PKEY *pkey;
	/* A signing context set up once (algorithm fetched, key attached) and copied for
	 * each signature: OpenSSL 3 looks the algorithms up in its provider tables on
	 * every EVP_DigestSignInit, which costs more than the P-256 signature itself. */
	EVP_MD_CTX *sign_tmpl;
};

static EVP_MD_CTX *sign_template(EVP_PKEY *pkey)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md && EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, pkey, NULL) != 1) {
		EVP_MD_CTX_free(md);
		md = NULL;
	}
	return md;
}

/* ---- base64url ---- */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t tb_b64url_len(size_t n)
{
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

tb_rc tb_b64url_encode(const void *p, size_t n, struct tb_buf *out)
{
	const uint8_t *s = p;
	size_t start = out->len;
	tb_rc rc = TB_OK;
	char tmp[256];
	size_t t = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		size_t k = n - i;
		if (k > 1)
			v |= (uint32_t)s[i + 1] << 8;
		if (k > 2)
			v |= s[i + 2];
		tmp[t++] = b64url[(v >> 18) & 63];
		tmp[t++] = b64url[(v >> 12) & 63];
		if (k > 1)
			tmp[t++] = b64url[(v >> 6) & 63];
		if (k > 2)
			tmp[t++] = b64url[v & 63];
		if (t > sizeof(tmp) - 4) {
			if ((rc = tb_buf_append(out, tmp, t)))
				goto fail;
			t = 0;
		}
	}
	if (t && (rc = tb_buf_append(out, tmp, t)))
		goto fail;
	return TB_OK;
fail:
	out->len = start;
	if (out->data)
		out->data[start] = 0;
	return rc;
}

static int b64url_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

tb_rc tb_b64url_decode(const char *s, size_t n, struct tb_buf *out)
{
	if (n % 4 == 1)
		return TB_EINVAL;
	size_t start = out->len;
	uint8_t tmp[192];
	size_t t = 0;
	tb_rc rc = TB_OK;
	for (size_t i = 0; i < n; i += 4) {
		size_t k = n - i < 4 ? n - i : 4;
		uint32_t v = 0;
		for (size_t j = 0; j < 4; j++) {
			int d = j < k ? b64url_val((unsigned char)s[i + j]) : 0;
			if (d < 0) {
				rc = TB_EINVAL;
				goto fail;
			}
			v = v << 6 | (uint32_t)d;
		}
		/* a short last group must not carry bits that no byte holds */
		if ((k == 2 && (v & 0xffff)) || (k == 3 && (v & 0xff))) {
			rc = TB_EINVAL;
			goto fail;
		}
		tmp[t++] = (uint8_t)(v >> 16);
		if (k > 2)
			tmp[t++] = (uint8_t)(v >> 8);
		if (k > 3)
			tmp[t++] = (uint8_t)v;
		if (t > sizeof(tmp) - 3) {
			if ((rc = tb_buf_append(out, tmp, t)))
				goto fail;
			t = 0;
		}
	}
	if ((rc = tb_buf_append(out, tmp, t)))
		goto fail;
	return TB_OK;
fail:
	out->len = start;
	if (out->data)
		out->data[start] = 0;
	return rc;
}

/* ---- keys ---- */

static bool is_p256(EVP_PKEY *pkey)
{
	char group[32];
	size_t len = 0;
	return EVP_PKEY_is_a(pkey, "EC") &&
	       EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
					      sizeof(group), &len) == 1 &&
	       (!strcmp(group, "prime256v1") || !strcmp(group, "P-256"));
}

tb_rc tb_es256_generate(struct tb_es256_key **out)
{
	*out = NULL;
	struct tb_es256_key *k = calloc(1, sizeof(*k));
	if (!k)
		return TB_ENOMEM;
	ERR_BEGIN();
	k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	k->sign_tmpl = k->pkey ? sign_template(k->pkey) : NULL;
	ERR_END();
	if (!k->pkey || !k->sign_tmpl) {
		EVP_PKEY_free(k->pkey);
		free(k);
		return TB_EINTERNAL;
	}
	*out = k;
	return TB_OK;
}

void tb_es256_key_free(struct tb_es256_key *k)
{
	if (!k)
		return;
	EVP_MD_CTX_free(k->sign_tmpl);
	EVP_PKEY_free(k->pkey);
	free(k);
}

tb_rc tb_es256_private_to_pem(const struct tb_es256_key *k, struct tb_buf *out)
{
	tb_rc rc = TB_EINTERNAL;
	ERR_BEGIN();
	BIO *bio = BIO_new(BIO_s_secmem());
	char *p = NULL;
	if (!bio) {
		rc = TB_ENOMEM;
		goto done;
	}
	if (PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL) != 1)
		goto done;
	long n = BIO_get_mem_data(bio, &p);
	if (n <= 0)
		goto done;
	rc = tb_buf_append(out, p, (size_t)n);
done:
	BIO_free(bio); /* secure memory BIO: cleared when freed */
	ERR_END();
	return rc;
}

tb_rc tb_es256_private_from_pem(const char *pem, size_t n, struct tb_es256_key **out)
{
	*out = NULL;
	if (n > 16384)
		return TB_EINVAL;
	tb_rc rc = TB_EINVAL;
	ERR_BEGIN();
	BIO *bio = BIO_new_mem_buf(pem, (int)n);
	EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	if (!bio)
		rc = TB_ENOMEM;
	else if (pkey && is_p256(pkey)) {
		struct tb_es256_key *k = malloc(sizeof(*k));
		if (!k)
			rc = TB_ENOMEM;
		else if (!(k->sign_tmpl = sign_template(pkey))) {
			free(k);
			rc = TB_EINTERNAL;
		} else {
			k->pkey = pkey;
			pkey = NULL;
			*out = k;
			rc = TB_OK;
		}
	}
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	ERR_END();
	return rc;
}

tb_rc tb_es256_public_xy(const struct tb_es256_key *k, uint8_t x[TB_ES256_COORD_LEN],
			 uint8_t y[TB_ES256_COORD_LEN])
{
	tb_rc rc = TB_EINTERNAL;
	BIGNUM *bx = NULL, *by = NULL;
	ERR_BEGIN();
	if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1 &&
	    EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &by) == 1 &&
	    BN_bn2binpad(bx, x, TB_ES256_COORD_LEN) == TB_ES256_COORD_LEN &&
	    BN_bn2binpad(by, y, TB_ES256_COORD_LEN) == TB_ES256_COORD_LEN)
		rc = TB_OK;
	BN_free(bx);
	BN_free(by);
	ERR_END();
	return rc;
}

json_t *tb_es256_jwk(const struct tb_es256_key *k, const char *kid)
{
	uint8_t x[TB_ES256_COORD_LEN], y[TB_ES256_COORD_LEN];
	if (tb_es256_public_xy(k, x, y))
		return NULL;
	struct tb_buf bx, by;
	tb_buf_init(&bx, 64);
	tb_buf_init(&by, 64);
	json_t *jwk = NULL;
	if (!tb_b64url_encode(x, sizeof(x), &bx) && !tb_b64url_encode(y, sizeof(y), &by))
		jwk =
		    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256",
			      "x", bx.data, "y", by.data, "kid", kid, "use", "sig", "alg", "ES256");
	tb_buf_release(&bx);
	tb_buf_release(&by);
	return jwk;
}

/* ---- JWS ---- */

/* sig = raw r ‖ s of ECDSA-SHA256 over msg. */
static tb_rc es256_sign(const struct tb_es256_key *k, const void *msg, size_t n,
			uint8_t sig[TB_ES256_SIG_LEN])
{
	tb_rc rc = TB_EINTERNAL;
	uint8_t der[80];
	size_t derlen = sizeof(der);
	ECDSA_SIG *es = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md)
		return TB_ENOMEM;
	if (EVP_MD_CTX_copy_ex(md, k->sign_tmpl) != 1 ||
	    EVP_DigestSign(md, der, &derlen, msg, n) != 1)
		goto done;
	const uint8_t *p = der;
	es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	if (!es)
		goto done;
	const BIGNUM *r, *s;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(s, sig + 32, 32) == 32)
		rc = TB_OK;
done:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	return rc;
}

static bool es256_verify(EVP_PKEY *pkey, const void *msg, size_t n, const uint8_t *sig)
{
	bool ok = false;
	uint8_t *der = NULL;
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!es || !r || !s || !md || ECDSA_SIG_set0(es, r, s) != 1)
		goto done;
	r = s = NULL; /* owned by es */
	int derlen = i2d_ECDSA_SIG(es, &der);
	if (derlen <= 0)
		goto done;
	ok = EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, pkey, NULL) == 1 &&
	     EVP_DigestVerify(md, der, (size_t)derlen, msg, n) == 1;
done:
	OPENSSL_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	return ok;
}

tb_rc tb_jws_sign(const struct tb_es256_key *k, const char *kid, const char *typ,
		  const char *payload, size_t n, struct tb_buf *out)
{
	struct tb_buf hdr;
	tb_buf_init(&hdr, 1024);
	size_t start = out->len;
	uint8_t sig[TB_ES256_SIG_LEN];
	tb_rc rc;
	if ((rc = tb_buf_puts(&hdr, "{\"alg\":\"ES256\",\"typ\":")) ||
	    (rc = tb_buf_json_str(&hdr, typ ? typ : "JWT")) ||
	    (rc = tb_buf_puts(&hdr, ",\"kid\":")) || (rc = tb_buf_json_str(&hdr, kid)) ||
	    (rc = tb_buf_putc(&hdr, '}')))
		goto fail;
	if ((rc = tb_b64url_encode(hdr.data, hdr.len, out)) || (rc = tb_buf_putc(out, '.')) ||
	    (rc = tb_b64url_encode(payload, n, out)))
		goto fail;
	ERR_BEGIN();
	rc = es256_sign(k, out->data + start, out->len - start, sig);
	ERR_END();
	if (rc || (rc = tb_buf_putc(out, '.')) || (rc = tb_b64url_encode(sig, sizeof(sig), out)))
		goto fail;
	tb_buf_release(&hdr);
	return TB_OK;
fail:
	tb_buf_release(&hdr);
	out->len = start;
	if (out->data)
		out->data[start] = 0;
	return rc;
}

/* The three parts of a compact JWS: [0, d1), (d1, d2), (d2, n). */
static bool jws_split(const char *jws, size_t n, size_t *d1, size_t *d2)
{
	const char *a = memchr(jws, '.', n);
	if (!a)
		return false;
	const char *b = memchr(a + 1, '.', n - (size_t)(a + 1 - jws));
	if (!b || memchr(b + 1, '.', n - (size_t)(b + 1 - jws)))
		return false;
	*d1 = (size_t)(a - jws);
	*d2 = (size_t)(b - jws);
	return true;
}

tb_rc tb_jws_parse(const char *jws, size_t n, struct tb_buf *header, struct tb_buf *payload)
{
	size_t d1, d2, h0 = header->len;
	if (!jws_split(jws, n, &d1, &d2))
		return TB_EINVAL;
	tb_rc rc = tb_b64url_decode(jws, d1, header);
	if (rc)
		return rc;
	rc = tb_b64url_decode(jws + d1 + 1, d2 - d1 - 1, payload);
	if (rc) {
		header->len = h0;
		if (header->data)
			header->data[h0] = 0;
		return rc;
	}
	return TB_OK;
}

bool tb_jws_verify(const struct tb_es256_key *k, const char *jws, size_t n)
{
	size_t d1, d2;
	if (!k || !jws_split(jws, n, &d1, &d2))
		return false;
	struct tb_buf hdr, sig;
	tb_buf_init(&hdr, 4096);
	tb_buf_init(&sig, 128);
	bool ok = false;
	if (tb_b64url_decode(jws, d1, &hdr) || tb_b64url_decode(jws + d2 + 1, n - d2 - 1, &sig) ||
	    sig.len != TB_ES256_SIG_LEN)
		goto done;
	json_t *h = json_loadb(hdr.data, hdr.len, JSON_REJECT_DUPLICATES, NULL);
	const char *alg = json_string_value(json_object_get(h, "alg"));
	bool es256 = alg && !strcmp(alg, "ES256");
	json_decref(h);
	if (!es256)
		goto done;
	ERR_BEGIN();
	ok = es256_verify(k->pkey, jws, d2, (const uint8_t *)sig.data);
	ERR_END();
done:
	tb_buf_release(&hdr);
	tb_buf_release(&sig);
	return ok;
}
