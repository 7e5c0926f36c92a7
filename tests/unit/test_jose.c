#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/jose.h"

static char *enc(const char *s, size_t n)
{
	static char out[256];
	struct tb_buf b;
	tb_buf_init(&b, 0);
	assert_int_equal(tb_b64url_encode(s, n, &b), TB_OK);
	snprintf(out, sizeof(out), "%s", b.len ? b.data : "");
	assert_int_equal(strlen(out), tb_b64url_len(n));
	tb_buf_release(&b);
	return out;
}

static tb_rc dec(const char *s, char *out, size_t *n)
{
	struct tb_buf b;
	tb_buf_init(&b, 0);
	tb_rc rc = tb_b64url_decode(s, strlen(s), &b);
	*n = b.len;
	if (b.len)
		memcpy(out, b.data, b.len);
	tb_buf_release(&b);
	return rc;
}

/* RFC 4648 §10 vectors, without padding, and the url-safe alphabet. */
static void test_b64url(void **state)
{
	(void)state;
	assert_string_equal(enc("", 0), "");
	assert_string_equal(enc("f", 1), "Zg");
	assert_string_equal(enc("fo", 2), "Zm8");
	assert_string_equal(enc("foo", 3), "Zm9v");
	assert_string_equal(enc("foob", 4), "Zm9vYg");
	assert_string_equal(enc("fooba", 5), "Zm9vYmE");
	assert_string_equal(enc("foobar", 6), "Zm9vYmFy");
	assert_string_equal(enc("\xfb\xff\xbf", 3), "-_-_");
	char out[64];
	size_t n;
	assert_int_equal(dec("Zm9vYmE", out, &n), TB_OK);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "fooba", 5);
	assert_int_equal(dec("-_-_", out, &n), TB_OK);
	assert_memory_equal(out, "\xfb\xff\xbf", 3);
	/* refused: padding, the standard alphabet, a lone char, left-over bits, space */
	assert_int_equal(dec("Zg==", out, &n), TB_EINVAL);
	assert_int_equal(dec("+/+/", out, &n), TB_EINVAL);
	assert_int_equal(dec("Zm9vY", out, &n), TB_EINVAL);
	assert_int_equal(dec("Zh", out, &n), TB_EINVAL);
	assert_int_equal(dec("Zm9 v", out, &n), TB_EINVAL);
	/* a longer round trip crossing the internal chunk sizes */
	char big[1000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + 3);
	struct tb_buf e, d;
	tb_buf_init(&e, 0);
	tb_buf_init(&d, 0);
	assert_int_equal(tb_b64url_encode(big, sizeof(big), &e), TB_OK);
	assert_int_equal(tb_b64url_decode(e.data, e.len, &d), TB_OK);
	assert_int_equal(d.len, sizeof(big));
	assert_memory_equal(d.data, big, sizeof(big));
	tb_buf_release(&e);
	tb_buf_release(&d);
}

static void test_sign_verify(void **state)
{
	(void)state;
	struct tb_es256_key *k, *k2, *other;
	assert_int_equal(tb_es256_generate(&k), TB_OK);
	assert_int_equal(tb_es256_generate(&other), TB_OK);
	const char *payload = "{\"iss\":\"http://op\",\"sub\":\"u1\"}";
	struct tb_buf jws;
	tb_buf_init(&jws, 0);
	assert_int_equal(tb_jws_sign(k, "k1", NULL, payload, strlen(payload), &jws), TB_OK);
	assert_true(tb_jws_verify(k, jws.data, jws.len));
	assert_false(tb_jws_verify(other, jws.data, jws.len));

	/* the signature part is 64 raw bytes: 86 base64url characters */
	const char *sig = strrchr(jws.data, '.') + 1;
	assert_int_equal(strlen(sig), 86);

	struct tb_buf h, p;
	tb_buf_init(&h, 0);
	tb_buf_init(&p, 0);
	assert_int_equal(tb_jws_parse(jws.data, jws.len, &h, &p), TB_OK);
	assert_string_equal(h.data, "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"k1\"}");
	assert_string_equal(p.data, payload);
	tb_buf_release(&h);
	tb_buf_release(&p);

	/* any changed byte of header, payload or signature fails */
	for (size_t i = 0; i < jws.len; i += 7) {
		char *copy = strdup(jws.data);
		if (copy[i] == '.') {
			free(copy);
			continue;
		}
		copy[i] = copy[i] == 'A' ? 'B' : 'A';
		assert_false(tb_jws_verify(k, copy, jws.len));
		free(copy);
	}
	assert_false(tb_jws_verify(k, jws.data, jws.len - 1));
	assert_false(tb_jws_verify(k, "a.b", 3));
	assert_false(tb_jws_verify(k, "a.b.c.d", 7));

	/* alg none / HS256 in the header is refused even with a valid ES256 signature */
	struct tb_buf forged;
	tb_buf_init(&forged, 0);
	const char *hs = "{\"alg\":\"HS256\"}";
	assert_int_equal(tb_b64url_encode(hs, strlen(hs), &forged), TB_OK);
	tb_buf_puts(&forged, strchr(jws.data, '.'));
	assert_false(tb_jws_verify(k, forged.data, forged.len));
	tb_buf_release(&forged);

	/* the private key survives PEM (as it is sealed in the database) */
	struct tb_buf pem;
	tb_buf_init(&pem, 0);
	assert_int_equal(tb_es256_private_to_pem(k, &pem), TB_OK);
	assert_non_null(strstr(pem.data, "BEGIN PRIVATE KEY"));
	assert_int_equal(tb_es256_private_from_pem(pem.data, pem.len, &k2), TB_OK);
	assert_true(tb_jws_verify(k2, jws.data, jws.len));
	uint8_t x1[32], y1[32], x2[32], y2[32];
	assert_int_equal(tb_es256_public_xy(k, x1, y1), TB_OK);
	assert_int_equal(tb_es256_public_xy(k2, x2, y2), TB_OK);
	assert_memory_equal(x1, x2, 32);
	assert_memory_equal(y1, y2, 32);
	struct tb_es256_key *junk = (struct tb_es256_key *)1;
	assert_int_equal(tb_es256_private_from_pem("junk", 4, &junk), TB_EINVAL);
	assert_null(junk);
	tb_buf_release(&pem);

	json_t *jwk = tb_es256_jwk(k, "k1");
	assert_non_null(jwk);
	assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "EC");
	assert_string_equal(json_string_value(json_object_get(jwk, "crv")), "P-256");
	assert_string_equal(json_string_value(json_object_get(jwk, "alg")), "ES256");
	assert_string_equal(json_string_value(json_object_get(jwk, "use")), "sig");
	assert_string_equal(json_string_value(json_object_get(jwk, "kid")), "k1");
	assert_int_equal(strlen(json_string_value(json_object_get(jwk, "x"))), 43);
	assert_null(json_object_get(jwk, "d"));
	json_decref(jwk);

	tb_buf_release(&jws);
	tb_es256_key_free(k);
	tb_es256_key_free(k2);
	tb_es256_key_free(other);
}

/* A third party checks our JWS: node's built-in crypto imports the public key from our
 * JWK and verifies the signature as IEEE P1363 (r ‖ s), as RFC 7518 §3.4 says. A
 * tampered token must fail there too, so the check cannot pass vacuously. */
static void test_node_verifies(void **state)
{
	(void)state;
	if (access("/usr/bin/node", X_OK) != 0) {
		print_message("node not found: cannot run the third-party check\n");
		fail();
	}
	struct tb_es256_key *k;
	assert_int_equal(tb_es256_generate(&k), TB_OK);
	const char *payload = "{\"iss\":\"https://sso.example\",\"aud\":\"rp\",\"name\":\"张三\"}";
	struct tb_buf jws;
	tb_buf_init(&jws, 0);
	assert_int_equal(tb_jws_sign(k, "kid-1", NULL, payload, strlen(payload), &jws), TB_OK);
	json_t *jwk = tb_es256_jwk(k, "kid-1");
	char *jwks = json_dumps(jwk, JSON_COMPACT);
	char dir[] = "/tmp/tb_jose_XXXXXX";
	assert_non_null(mkdtemp(dir));
	char script[256];
	snprintf(script, sizeof(script), "%s/check.mjs", dir);
	FILE *f = fopen(script, "w");
	assert_non_null(f);
	fprintf(f,
		"import crypto from 'node:crypto';\n"
		"const jwk = %s;\n"
		"const key = crypto.createPublicKey({key: jwk, format: 'jwk'});\n"
		"const check = (t) => { const [h, p, s] = t.split('.');\n"
		"  const hdr = JSON.parse(Buffer.from(h, 'base64url'));\n"
		"  if (hdr.alg !== 'ES256' || hdr.kid !== jwk.kid) return false;\n"
		"  return crypto.verify('sha256', Buffer.from(h + '.' + p),\n"
		"    {key, dsaEncoding: 'ieee-p1363'}, Buffer.from(s, 'base64url')); };\n"
		"const t = '%s';\n"
		"const bad = t.replace(/\\.(.)/, (m, c) => '.' + (c === 'e' ? 'f' : 'e'));\n"
		"const claims = JSON.parse(Buffer.from(t.split('.')[1], 'base64url'));\n"
		"console.log(check(t) && !check(bad) && claims.name === '张三' ? 'VERIFIED' : "
		"'FAILED');\n",
		jwks, jws.data);
	fclose(f);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "/usr/bin/node %s 2>&1", script);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[256] = "";
	if (!fgets(line, sizeof(line), p))
		line[0] = 0;
	pclose(p);
	unlink(script);
	rmdir(dir);
	assert_string_equal(line, "VERIFIED\n");
	free(jwks);
	json_decref(jwk);
	tb_buf_release(&jws);
	tb_es256_key_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_b64url),
	    cmocka_unit_test(test_sign_verify),
	    cmocka_unit_test(test_node_verifies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
