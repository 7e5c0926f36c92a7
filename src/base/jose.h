/* jose.h: what tongban's OpenID Connect tokens need of JOSE (RFC 7515, 7517, 7518):
 * ES256 keys (ECDSA on P-256 with SHA-256), JWS compact serialisation with the
 * signature as raw r ‖ s (64 bytes, RFC 7518 §3.4; never DER), JWK export of the public
 * key, and base64url without padding (RFC 7515 §2).
 *
 * Invariants (as in crypto.h): fallible functions return tb_rc, verification returns
 * bool; on failure nothing is appended to output buffers; no OpenSSL error is left on
 * the calling thread's queue; secret intermediates are wiped. A key may be used by
 * several threads at once for signing and verifying. */
#ifndef TB_BASE_JOSE_H
#define TB_BASE_JOSE_H

#include "base/buf.h"
#include "base/tb.h"

#include <jansson.h>

#define TB_ES256_SIG_LEN   64 /* r ‖ s */
#define TB_ES256_COORD_LEN 32

/* ---- base64url (no padding) ---- */

/* Length of the encoding of n bytes, without NUL. */
size_t tb_b64url_len(size_t n);
tb_rc tb_b64url_encode(const void *p, size_t n, struct tb_buf *out);
/* Strict: only the url-safe alphabet, no '=' padding, no whitespace, and no non-zero
 * bits left over in the last character. TB_EINVAL otherwise. */
tb_rc tb_b64url_decode(const char *s, size_t n, struct tb_buf *out);

/* ---- ES256 keys ---- */

struct tb_es256_key; /* opaque; one owner frees it */

tb_rc tb_es256_generate(struct tb_es256_key **out);
void tb_es256_key_free(struct tb_es256_key *k);
/* The private key as PEM PKCS#8 ("PRIVATE KEY"), appended to out: the caller seals it
 * before it is stored (base/crypto.h tb_seal). */
tb_rc tb_es256_private_to_pem(const struct tb_es256_key *k, struct tb_buf *out);
/* A key pair from PEM; TB_EINVAL unless it is an EC key on P-256. */
tb_rc tb_es256_private_from_pem(const char *pem, size_t n, struct tb_es256_key **out);
/* The public point's affine coordinates, big-endian, zero-padded. */
tb_rc tb_es256_public_xy(const struct tb_es256_key *k, uint8_t x[TB_ES256_COORD_LEN],
			 uint8_t y[TB_ES256_COORD_LEN]);
/* The public JWK: {"kty":"EC","crv":"P-256","x","y","kid","use":"sig","alg":"ES256"}.
 * NULL on failure. */
json_t *tb_es256_jwk(const struct tb_es256_key *k, const char *kid);

/* ---- JWS compact ---- */

/* Sign payload (JSON text) with header {"alg":"ES256","typ":typ,"kid":kid} and append
 * BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(r ‖ s) to out. typ may be NULL
 * (then "JWT"). */
tb_rc tb_jws_sign(const struct tb_es256_key *k, const char *kid, const char *typ,
		  const char *payload, size_t n, struct tb_buf *out);
/* Split a compact JWS and decode its header and payload (appended to the buffers, as
 * bytes; the caller parses them). No signature check: see tb_jws_verify. */
tb_rc tb_jws_parse(const char *jws, size_t n, struct tb_buf *header, struct tb_buf *payload);
/* true when jws is a compact JWS whose signature is a valid ES256 signature under k of
 * its first two parts, and whose header says "alg":"ES256". */
bool tb_jws_verify(const struct tb_es256_key *k, const char *jws, size_t n);

#endif
