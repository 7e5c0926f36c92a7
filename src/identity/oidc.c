/* oidc.c: the OpenID Connect provider's logic (oidc.h, docs/oidc.md). */
#include "identity/oidc.h"
#include "identity/identity.h"
#include "identity/internal.h"
#include "base/jose.h"
#include "base/jsonv.h"
#include "base/log.h"
#include "store/store.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

const char *const tb_oidc_scope_names[TB_OIDC_NSCOPES] = {"openid", "profile", "phone", "idcard",
							  "enterprise"};

static const struct tb_oidc_config *conf;

static const struct tb_seal_key *seal_keys(void)
{
	return conf->keys ? conf->keys : idn_key();
}

/* ---- small helpers ---- */

static long long now_s(void)
{
	return (long long)time(NULL);
}

/* Bind values by a type string: 't' text (NULL binds NULL), 'i' int64. */
static tb_rc bindv(struct tb_stmt *st, const char *types, va_list ap)
{
	tb_rc rc = TB_OK;
	for (int i = 0; types[i] && !rc; i++) {
		if (types[i] == 't')
			rc = tb_stmt_bind_text(st, i + 1, va_arg(ap, const char *));
		else
			rc = tb_stmt_bind_int(st, i + 1, va_arg(ap, int64_t));
	}
	return rc;
}

/* The type string must name one type per placeholder: a slip there would bind a
 * pointer as a number, so it is checked on every call (cheap next to the statement). */
static bool types_match(const char *sql, const char *types)
{
	size_t n = 0;
	for (const char *p = sql; *p; p++)
		n += *p == '?';
	if (n == strlen(types))
		return true;
	tb_log(TB_LOG_ERROR, "oidc", "%zu placeholders but %zu types in: %s", n, strlen(types),
	       sql);
	return false;
}

/* Prepare and bind; the caller steps and calls tb_stmt_done. */
static tb_rc prep(struct tb_db *db, struct tb_stmt **st, const char *sql, const char *types, ...)
{
	if (!types_match(sql, types))
		return TB_EINTERNAL;
	tb_rc rc = tb_db_prepare(db, sql, st);
	if (rc)
		return rc;
	va_list ap;
	va_start(ap, types);
	rc = bindv(*st, types, ap);
	va_end(ap);
	if (rc)
		tb_stmt_done(*st);
	return rc;
}

static tb_rc exec(struct tb_db *db, int64_t *changes, const char *sql, const char *types, ...)
{
	if (!types_match(sql, types))
		return TB_EINTERNAL;
	struct tb_stmt *st;
	tb_rc rc = tb_db_prepare(db, sql, &st);
	if (rc)
		return rc;
	va_list ap;
	va_start(ap, types);
	rc = bindv(st, types, ap);
	va_end(ap);
	if (!rc)
		rc = tb_stmt_exec(st, changes);
	tb_stmt_done(st);
	return rc;
}

/* A random secret: 32 bytes as base64url (43 characters). */
static tb_rc random_token(char out[64], size_t nbytes)
{
	uint8_t raw[32];
	if (nbytes > sizeof(raw))
		return TB_EINTERNAL;
	tb_rc rc = tb_crypto_random(raw, nbytes);
	if (rc)
		return rc;
	struct tb_buf b;
	tb_buf_init(&b, 64);
	rc = tb_b64url_encode(raw, nbytes, &b);
	if (!rc)
		snprintf(out, 64, "%s", b.data);
	tb_buf_release(&b);
	tb_crypto_wipe(raw, sizeof(raw));
	return rc;
}

/* SHA-256 of a secret as lower-case hex: what the tables hold. */
static void token_hash(const char *tok, char hex[65])
{
	uint8_t h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)tok, strlen(tok));
	sodium_bin2hex(hex, 65, h, sizeof(h));
}

/* hex = keyed BLAKE2b-256 of msg under the provider's own key, derived from the data
 * key's blind-index key: client secrets and pairwise subjects. (Not HMAC-SM3 through
 * tb_blind_index: OpenSSL 3 looks its MAC up anew on every call, a third of a token
 * request's time; nothing outside this file needs to recompute these.) */
static tb_rc keyed_hash(const char *msg, size_t n, char hex[65])
{
	uint8_t key[crypto_generichash_KEYBYTES], h[32];
	static const char label[] = "tongban oidc keyed hash v1";
	const struct tb_seal_key *k = seal_keys();
	if (!k)
		return TB_EINTERNAL;
	crypto_generichash(key, sizeof(key), (const unsigned char *)label, sizeof(label) - 1,
			   k->index, sizeof(k->index));
	crypto_generichash(h, sizeof(h), (const unsigned char *)msg, n, key, sizeof(key));
	sodium_bin2hex(hex, 65, h, sizeof(h));
	tb_crypto_wipe(key, sizeof(key));
	return TB_OK;
}

/* Keyed hash of a client secret, bound to the client id. */
static tb_rc secret_hash(const char *client_id, const char *secret, char hex[65])
{
	struct tb_buf b;
	tb_buf_init(&b, 1024);
	tb_rc rc = tb_buf_printf(&b, "oidc client secret\n%s\n%s", client_id, secret);
	if (!rc)
		rc = keyed_hash(b.data, b.len, hex);
	tb_crypto_wipe(b.data, b.alloc);
	tb_buf_release(&b);
	return rc;
}

/* The subject a client sees for a user: pairwise, so that two department systems
 * cannot join their records on it; stable for a user and client. */
static tb_rc pairwise_sub(const char *client_id, int64_t user_id, char out[33])
{
	char buf[256], hex[65];
	int n = snprintf(buf, sizeof(buf), "oidc sub\n%s\n%lld", client_id, (long long)user_id);
	tb_rc rc = keyed_hash(buf, (size_t)n, hex);
	if (!rc)
		snprintf(out, 33, "%.32s", hex);
	return rc;
}

static unsigned scopes_parse(const char *s, bool *unknown)
{
	unsigned mask = 0;
	*unknown = false;
	while (s && *s) {
		while (*s == ' ')
			s++;
		size_t n = strcspn(s, " ");
		if (!n)
			break;
		size_t i = 0;
		while (i < TB_OIDC_NSCOPES && !(strlen(tb_oidc_scope_names[i]) == n &&
						!strncmp(s, tb_oidc_scope_names[i], n)))
			i++;
		if (i < TB_OIDC_NSCOPES)
			mask |= 1u << i;
		else
			*unknown = true;
		s += n;
	}
	return mask;
}

/* "openid profile ..." for a mask. */
static void scopes_text(unsigned mask, char out[128])
{
	out[0] = 0;
	for (int i = 0; i < TB_OIDC_NSCOPES; i++)
		if (mask & (1u << i)) {
			if (out[0])
				strcat(out, " ");
			strcat(out, tb_oidc_scope_names[i]);
		}
}

static json_t *scopes_json(unsigned mask)
{
	json_t *arr = json_array();
	for (int i = 0; i < TB_OIDC_NSCOPES; i++)
		if (mask & (1u << i))
			json_array_append_new(arr, json_string(tb_oidc_scope_names[i]));
	return arr;
}

/* RFC 3986 percent-encoding of everything but the unreserved characters. */
static tb_rc pct(struct tb_buf *b, const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";
	tb_rc rc = TB_OK;
	for (; *s && !rc; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
			rc = tb_buf_putc(b, (char)c);
		else {
			char e[3] = {'%', hexd[c >> 4], hexd[c & 15]};
			rc = tb_buf_append(b, e, 3);
		}
	}
	return rc;
}

/* uri plus query parameters (name, value pairs; a NULL value is left out). */
static const char *with_query(struct tb_arena *a, const char *uri, ...)
{
	struct tb_buf b;
	tb_buf_init(&b, 16384);
	tb_rc rc = tb_buf_puts(&b, uri);
	char sep = strchr(uri, '?') ? '&' : '?';
	va_list ap;
	va_start(ap, uri);
	const char *name;
	while (!rc && (name = va_arg(ap, const char *))) {
		const char *value = va_arg(ap, const char *);
		if (!value)
			continue;
		if (!(rc = tb_buf_putc(&b, sep)) && !(rc = tb_buf_puts(&b, name)) &&
		    !(rc = tb_buf_putc(&b, '=')))
			rc = pct(&b, value);
		sep = '&';
	}
	va_end(ap);
	const char *out = rc ? NULL : tb_arena_strdup(a, b.data);
	tb_buf_release(&b);
	return out;
}

/* ---- signing keys ---- */

#define MAX_KEYS 32

/* Keys loaded in this process: never freed before shutdown, so that a pointer handed
 * to a signing thread stays valid across a rotation. */
static struct {
	pthread_mutex_t mu;
	struct {
		char kid[32];
		struct tb_es256_key *key;
	} loaded[MAX_KEYS];
	int nloaded;
	int current; /* index into loaded, -1 none */
	long long checked;
} keyring = {.mu = PTHREAD_MUTEX_INITIALIZER, .current = -1};

static const char key_ad_prefix[] = "oidc_keys.private_sealed:";

static tb_rc key_open(const char *kid, const char *sealed_b64, struct tb_es256_key **out)
{
	struct tb_buf sealed, pem;
	tb_buf_init(&sealed, 0);
	tb_buf_init(&pem, 0);
	char ad[96];
	int adlen = snprintf(ad, sizeof(ad), "%s%s", key_ad_prefix, kid);
	tb_rc rc = tb_b64url_decode(sealed_b64, strlen(sealed_b64), &sealed);
	if (!rc)
		rc = tb_open(seal_keys(), ad, (size_t)adlen, sealed.data, sealed.len, &pem);
	if (!rc)
		rc = tb_es256_private_from_pem(pem.data, pem.len, out);
	if (pem.data)
		tb_crypto_wipe(pem.data, pem.alloc);
	tb_buf_release(&pem);
	tb_buf_release(&sealed);
	return rc;
}

/* The loaded key kid, loading it from the store when needed (keyring locked). */
static int keyring_find(struct tb_db *db, const char *kid)
{
	for (int i = 0; i < keyring.nloaded; i++)
		if (!strcmp(keyring.loaded[i].kid, kid))
			return i;
	if (keyring.nloaded == MAX_KEYS || strlen(kid) >= 32)
		return -1;
	struct tb_stmt *st;
	bool row = false;
	int idx = -1;
	if (prep(db, &st, "SELECT private_sealed FROM oidc_keys WHERE kid = ?", "t", kid))
		return -1;
	if (!tb_stmt_step(st, &row) && row) {
		struct tb_es256_key *k;
		if (!key_open(kid, tb_stmt_text(st, 0), &k)) {
			idx = keyring.nloaded++;
			snprintf(keyring.loaded[idx].kid, 32, "%s", kid);
			keyring.loaded[idx].key = k;
		} else
			tb_log(TB_LOG_ERROR, "oidc", "signing key %s does not open with this key",
			       kid);
	}
	tb_stmt_done(st);
	return idx;
}

static tb_rc key_create(struct tb_db *db, char kid_out[32])
{
	struct tb_es256_key *k = NULL;
	struct tb_buf pem, sealed, b64;
	tb_buf_init(&pem, 0);
	tb_buf_init(&sealed, 0);
	tb_buf_init(&b64, 0);
	char kid[64], ad[96];
	char *jwk_text = NULL;
	tb_rc rc = random_token(kid, 12);
	if (rc)
		goto done;
	int adlen = snprintf(ad, sizeof(ad), "%s%s", key_ad_prefix, kid);
	if ((rc = tb_es256_generate(&k)) || (rc = tb_es256_private_to_pem(k, &pem)) ||
	    (rc = tb_seal(seal_keys(), ad, (size_t)adlen, pem.data, pem.len, &sealed)) ||
	    (rc = tb_b64url_encode(sealed.data, sealed.len, &b64)))
		goto done;
	json_t *jwk = tb_es256_jwk(k, kid);
	jwk_text = jwk ? json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(jwk);
	if (!jwk_text) {
		rc = TB_ENOMEM;
		goto done;
	}
	rc = exec(db, NULL,
		  "INSERT INTO oidc_keys (kid, private_sealed, public_jwk, created_at, retired_at) "
		  "VALUES (?, ?, ?, ?, NULL)",
		  "ttti", kid, b64.data, jwk_text, (int64_t)now_s());
	if (!rc)
		snprintf(kid_out, 32, "%.31s", kid);
done:
	free(jwk_text);
	tb_es256_key_free(k);
	if (pem.data)
		tb_crypto_wipe(pem.data, pem.alloc);
	tb_buf_release(&pem);
	tb_buf_release(&sealed);
	tb_buf_release(&b64);
	return rc;
}

/* The current key's id from the store ("" if none). */
static tb_rc current_kid(struct tb_db *db, char kid[32])
{
	struct tb_stmt *st;
	bool row = false;
	kid[0] = 0;
	tb_rc rc = prep(db, &st,
			"SELECT kid FROM oidc_keys WHERE retired_at IS NULL ORDER BY created_at "
			"DESC, kid LIMIT 1",
			"");
	if (rc)
		return rc;
	if (!(rc = tb_stmt_step(st, &row)) && row)
		snprintf(kid, 32, "%s", tb_stmt_text(st, 0));
	tb_stmt_done(st);
	return rc;
}

/* The key to sign with now. Other nodes may rotate: the store is asked again after a
 * minute. */
static tb_rc signing_key(struct tb_db *db, const struct tb_es256_key **k, const char **kid)
{
	tb_rc rc = TB_OK;
	pthread_mutex_lock(&keyring.mu);
	if (keyring.current < 0 || now_s() - keyring.checked >= 60) {
		char cur[32];
		rc = current_kid(db, cur);
		if (!rc && cur[0]) {
			int i = keyring_find(db, cur);
			if (i >= 0)
				keyring.current = i;
		}
		keyring.checked = now_s();
	}
	if (!rc && keyring.current < 0)
		rc = TB_EINTERNAL;
	if (!rc) {
		*k = keyring.loaded[keyring.current].key;
		*kid = keyring.loaded[keyring.current].kid;
	}
	pthread_mutex_unlock(&keyring.mu);
	return rc;
}

tb_rc tb_oidc_init(struct tb_store *s, const struct tb_oidc_config *cfg, struct tb_err *err)
{
	conf = cfg;
	struct tb_db *db = tb_store_db(s, err);
	if (!db)
		return TB_EUNAVAIL;
	tb_rc rc = tb_db_begin(db, true);
	if (rc)
		return tb_fail(err, rc, "", "oidc: cannot begin: %s", tb_db_errmsg(db));
	char kid[32];
	rc = current_kid(db, kid);
	if (!rc && !kid[0]) {
		rc = key_create(db, kid);
		if (!rc)
			tb_log(TB_LOG_INFO, "oidc", "created signing key %s", kid);
	}
	if (rc) {
		tb_db_rollback(db);
		return tb_fail(err, rc, "", "oidc: signing key: %s", tb_db_errmsg(db));
	}
	if ((rc = tb_db_commit(db)))
		return tb_fail(err, rc, "", "oidc: commit failed");
	pthread_mutex_lock(&keyring.mu);
	int i = keyring_find(db, kid);
	keyring.current = i;
	keyring.checked = now_s();
	pthread_mutex_unlock(&keyring.mu);
	if (i < 0)
		return tb_fail(err, TB_EINVAL, "",
			       "oidc: the signing key %s does not open: wrong "
			       "master key?",
			       kid);
	return TB_OK;
}

void tb_oidc_shutdown(void)
{
	pthread_mutex_lock(&keyring.mu);
	for (int i = 0; i < keyring.nloaded; i++)
		tb_es256_key_free(keyring.loaded[i].key);
	keyring.nloaded = 0;
	keyring.current = -1;
	pthread_mutex_unlock(&keyring.mu);
}

tb_rc tb_oidc_rotate_key(struct tb_db *db, char kid[32], struct tb_err *err)
{
	tb_rc rc = tb_db_begin(db, true);
	if (rc)
		return tb_fail(err, rc, "", "cannot begin");
	if ((rc = exec(db, NULL, "UPDATE oidc_keys SET retired_at = ? WHERE retired_at IS NULL",
		       "i", (int64_t)now_s())) ||
	    (rc = key_create(db, kid))) {
		tb_db_rollback(db);
		return tb_fail(err, rc, "", "rotation failed: %s", tb_db_errmsg(db));
	}
	if ((rc = tb_db_commit(db)))
		return tb_fail(err, rc, "", "commit failed");
	pthread_mutex_lock(&keyring.mu);
	keyring.checked = 0; /* next signature picks the new key */
	pthread_mutex_unlock(&keyring.mu);
	return TB_OK;
}

/* ---- discovery and JWKS ---- */

json_t *tb_oidc_discovery(void)
{
	const char *iss = conf ? conf->issuer : "";
	char ep[6][512];
	static const char *const paths[6] = {"authorize", "token",	 "userinfo",
					     "jwks",	  "end_session", "clients"};
	for (int i = 0; i < 6; i++)
		snprintf(ep[i], sizeof(ep[i]), "%s/api/v1/oidc/%s", iss, paths[i]);
	json_t *d = json_object();
	json_object_set_new(d, "issuer", json_string(iss));
	json_object_set_new(d, "authorization_endpoint", json_string(ep[0]));
	json_object_set_new(d, "token_endpoint", json_string(ep[1]));
	json_object_set_new(d, "userinfo_endpoint", json_string(ep[2]));
	json_object_set_new(d, "jwks_uri", json_string(ep[3]));
	json_object_set_new(d, "end_session_endpoint", json_string(ep[4]));
	json_object_set_new(d, "scopes_supported", scopes_json(TB_OIDC_SCOPE_ALL));
	json_object_set_new(d, "response_types_supported", json_pack("[s]", "code"));
	json_object_set_new(d, "response_modes_supported", json_pack("[s]", "query"));
	json_object_set_new(
	    d, "grant_types_supported",
	    json_pack("[s,s,s]", "authorization_code", "refresh_token", "client_credentials"));
	json_object_set_new(d, "subject_types_supported", json_pack("[s]", "pairwise"));
	json_object_set_new(d, "id_token_signing_alg_values_supported", json_pack("[s]", "ES256"));
	json_object_set_new(d, "token_endpoint_auth_methods_supported",
			    json_pack("[s,s]", "client_secret_basic", "none"));
	json_object_set_new(d, "code_challenge_methods_supported", json_pack("[s]", "S256"));
	json_object_set_new(d, "claims_supported",
			    json_pack("[s,s,s,s,s,s,s,s,s,s,s,s,s]", "iss", "sub", "aud", "exp",
				      "iat", "auth_time", "nonce", "acr", "amr", "sid", "name",
				      "phone_number", "id_number"));
	json_object_set_new(d, "acr_values_supported",
			    json_pack("[s,s,s]", "tongban:L1", "tongban:L2", "tongban:L3"));
	json_object_set_new(d, "prompt_values_supported",
			    json_pack("[s,s,s]", "none", "login", "consent"));
	json_object_set_new(d, "claims_parameter_supported", json_false());
	json_object_set_new(d, "request_parameter_supported", json_false());
	json_object_set_new(d, "request_uri_parameter_supported", json_false());
	json_object_set_new(d, "authorization_response_iss_parameter_supported", json_true());
	json_object_set_new(d, "ui_locales_supported",
			    json_pack("[s,s,s]", "zh-CN", "zh-HK", "en"));
	return d;
}

tb_rc tb_oidc_jwks(struct tb_db *db, json_t **out, struct tb_err *err)
{
	struct tb_stmt *st;
	tb_rc rc =
	    prep(db, &st,
		 "SELECT public_jwk FROM oidc_keys ORDER BY CASE WHEN retired_at IS NULL THEN 0 "
		 "ELSE 1 END, created_at DESC, kid",
		 "");
	if (rc)
		return tb_fail(err, rc, "", "jwks: %s", tb_db_errmsg(db));
	json_t *keys = json_array();
	bool row;
	while (!(rc = tb_stmt_step(st, &row)) && row) {
		json_t *k = json_loads(tb_stmt_text(st, 0), 0, NULL);
		if (k)
			json_array_append_new(keys, k);
	}
	tb_stmt_done(st);
	if (rc) {
		json_decref(keys);
		return tb_fail(err, rc, "", "jwks: %s", tb_db_errmsg(db));
	}
	*out = json_pack("{s:o}", "keys", keys);
	return TB_OK;
}

/* ---- clients ---- */

static bool is_loopback_host(const char *host, size_t n)
{
	return (n == 9 && !strncmp(host, "localhost", 9)) ||
	       (n == 9 && !strncmp(host, "127.0.0.1", 9)) || (n == 5 && !strncmp(host, "[::1]", 5));
}

/* A redirect URI a client may register: absolute, https (http only to a loopback host,
 * for development and tests), with a host, no fragment, no userinfo, no spaces. */
static bool redirect_uri_ok(const char *u, const char **why)
{
	size_t n = strlen(u);
	const char *rest;
	bool https = !strncmp(u, "https://", 8), http = !strncmp(u, "http://", 7);
	if (n > 512) {
		*why = "is longer than 512 characters";
		return false;
	}
	if (!https && !http) {
		*why = "must be an absolute https:// URI";
		return false;
	}
	rest = u + (https ? 8 : 7);
	size_t hostlen = strcspn(rest, "/?#");
	const char *colon = memchr(rest, ':', hostlen);
	size_t name_len = colon && rest[0] != '[' ? (size_t)(colon - rest) : hostlen;
	if (rest[0] == '[') {
		const char *close = memchr(rest, ']', hostlen);
		name_len = close ? (size_t)(close - rest + 1) : hostlen;
	}
	if (!hostlen || !name_len || memchr(rest, '@', hostlen)) {
		*why = "needs a host (and no user information)";
		return false;
	}
	if (strchr(u, '#')) {
		*why = "must not have a fragment";
		return false;
	}
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>' || *p == '\\') {
			*why = "has a character that must be percent-encoded";
			return false;
		}
	if (http && !is_loopback_host(rest, name_len)) {
		*why = "must use https (http only for localhost)";
		return false;
	}
	return true;
}

static bool uri_list(json_t *body, const char *key, bool required, json_t **out, struct tb_err *err)
{
	json_t *arr;
	*out = NULL;
	if (!tb_jv_array(body, "", key, required, 10, &arr, err))
		return false;
	if (arr && required && json_array_size(arr) == 0) {
		tb_fail(err, TB_EINVAL, key, "needs at least one URI");
		return false;
	}
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v), *why = NULL;
		if (!s || !redirect_uri_ok(s, &why)) {
			tb_fail(err, TB_EINVAL, tb_jv_index("", key, i), "%s",
				s ? why : "must be a string");
			return false;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(json_string_value(json_array_get(arr, j)), s)) {
				tb_fail(err, TB_EINVAL, tb_jv_index("", key, i), "is repeated");
				return false;
			}
	}
	*out = arr ? arr : NULL;
	return true;
}

static bool client_id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 3 || n > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	return true;
}

struct client {
	char client_id[65];
	char name[512];
	bool public_client, full_id;
	unsigned scopes;
	char secret_hash[65];
	json_t *redirect_uris, *post_logout; /* owned */
	char created_at[32];
};

static void client_release(struct client *c)
{
	json_decref(c->redirect_uris);
	json_decref(c->post_logout);
	c->redirect_uris = c->post_logout = NULL;
}

/* TB_ENOTFOUND when there is no such client. */
static tb_rc client_load(struct tb_db *db, const char *client_id, struct client *c)
{
	memset(c, 0, sizeof(*c));
	if (!client_id || strlen(client_id) > 64)
		return TB_ENOTFOUND;
	struct tb_stmt *st;
	tb_rc rc = prep(db, &st,
			"SELECT client_id, name, public_client, full_id_number, scopes, "
			"secret_hash, redirect_uris, post_logout_redirect_uris, created_at FROM "
			"oidc_clients WHERE client_id = ?",
			"t", client_id);
	if (rc)
		return rc;
	bool row = false;
	if (!(rc = tb_stmt_step(st, &row)) && row) {
		snprintf(c->client_id, sizeof(c->client_id), "%s", tb_stmt_text(st, 0));
		snprintf(c->name, sizeof(c->name), "%s", tb_stmt_text(st, 1));
		c->public_client = tb_stmt_int(st, 2) != 0;
		c->full_id = tb_stmt_int(st, 3) != 0;
		c->scopes = (unsigned)tb_stmt_int(st, 4);
		if (!tb_stmt_null(st, 5))
			snprintf(c->secret_hash, sizeof(c->secret_hash), "%s", tb_stmt_text(st, 5));
		c->redirect_uris = json_loads(tb_stmt_text(st, 6), 0, NULL);
		c->post_logout = json_loads(tb_stmt_text(st, 7), 0, NULL);
		snprintf(c->created_at, sizeof(c->created_at), "%s", tb_stmt_text(st, 8));
		if (!c->redirect_uris || !c->post_logout) {
			client_release(c);
			rc = TB_EINTERNAL;
		}
	} else if (!rc)
		rc = TB_ENOTFOUND;
	tb_stmt_done(st);
	return rc;
}

static bool uri_listed(json_t *arr, const char *uri)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) if (!strcmp(json_string_value(v), uri)) return true;
	return false;
}

static json_t *client_json(const struct client *c)
{
	return json_pack("{s:s, s:s, s:s, s:O, s:O, s:o, s:b, s:s}", "client_id", c->client_id,
			 "name", c->name, "type", c->public_client ? "public" : "confidential",
			 "redirect_uris", c->redirect_uris, "post_logout_redirect_uris",
			 c->post_logout, "scopes", scopes_json(c->scopes), "full_id_number",
			 c->full_id, "created_at", c->created_at);
}

tb_rc tb_oidc_client_create(struct tb_db *db, json_t *body, int64_t created_by, json_t **out,
			    struct tb_err *err)
{
	static const char *const fields[] = {
	    "client_id", "name",	   "type", "redirect_uris", "post_logout_redirect_uris",
	    "scopes",	 "full_id_number", NULL};
	static const char *const types[] = {"public", "confidential", NULL};
	const char *client_id, *name, *type;
	json_t *redirects, *post_logout;
	unsigned scopes;
	bool full_id = false;
	if (!tb_jv_known_fields(body, "", fields, err) ||
	    !tb_jv_str(body, "", "client_id", false, 64, &client_id, err) ||
	    !tb_jv_str(body, "", "name", true, 100, &name, err) ||
	    !tb_jv_enum(body, "", "type", true, types, &type, err) ||
	    !uri_list(body, "redirect_uris", true, &redirects, err) ||
	    !uri_list(body, "post_logout_redirect_uris", false, &post_logout, err) ||
	    !tb_jv_str_set(body, "", "scopes", true, tb_oidc_scope_names, TB_OIDC_NSCOPES, &scopes,
			   err) ||
	    !tb_jv_bool(body, "", "full_id_number", false, &full_id, err))
		return TB_EINVAL;
	if (!(scopes & TB_OIDC_OPENID))
		return tb_fail(err, TB_EINVAL, "scopes", "must include openid");
	if (full_id && !(scopes & TB_OIDC_IDCARD))
		return tb_fail(err, TB_EINVAL, "full_id_number",
			       "needs the idcard scope among the client's scopes");
	char gen_id[64];
	if (client_id && !client_id_ok(client_id))
		return tb_fail(err, TB_EINVAL, "client_id",
			       "3-64 characters of letters, digits, '-', '_' and '.'");
	tb_rc rc;
	if (!client_id) {
		char r[64];
		if ((rc = random_token(r, 12)))
			return tb_fail(err, rc, "", "no randomness");
		snprintf(gen_id, sizeof(gen_id), "c-%.40s", r);
		for (char *p = gen_id; *p; p++)
			if (*p == '_')
				*p = '.';
		client_id = gen_id;
	}
	bool confidential = !strcmp(type, "confidential");
	char secret[64] = "", hash[65] = "";
	if (confidential &&
	    ((rc = random_token(secret, 32)) || (rc = secret_hash(client_id, secret, hash))))
		return tb_fail(err, rc, "", "cannot make a secret");
	char *ru = json_dumps(redirects, JSON_COMPACT);
	json_t *pl = post_logout ? json_incref(post_logout) : json_array();
	char *plu = json_dumps(pl, JSON_COMPACT);
	char ts[32];
	tb_time_rfc3339(ts);
	struct tb_stmt *st = NULL;
	bool row = false;
	rc = tb_db_begin(db, true);
	if (!rc)
		rc =
		    prep(db, &st, "SELECT 1 FROM oidc_clients WHERE client_id = ?", "t", client_id);
	if (!rc) {
		rc = tb_stmt_step(st, &row);
		tb_stmt_done(st);
	}
	if (!rc && row)
		rc = tb_fail(err, TB_ECONFLICT, "client_id", "client %s is already registered",
			     client_id);
	else if (!rc)
		rc = exec(db, NULL,
			  "INSERT INTO oidc_clients (client_id, name, public_client, secret_hash, "
			  "redirect_uris, post_logout_redirect_uris, scopes, full_id_number, "
			  "created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
			  "?, ?)",
			  "ttitttiiitt", client_id, name, (int64_t)!confidential,
			  confidential ? hash : NULL, ru, plu, (int64_t)scopes, (int64_t)full_id,
			  created_by, ts, ts);
	if (!rc)
		rc = tb_db_commit(db);
	else if (tb_db_in_tx(db))
		tb_db_rollback(db);
	if (!rc) {
		struct client c = {0};
		snprintf(c.client_id, sizeof(c.client_id), "%s", client_id);
		snprintf(c.name, sizeof(c.name), "%s", name);
		c.public_client = !confidential;
		c.full_id = full_id;
		c.scopes = scopes;
		c.redirect_uris = json_incref(redirects);
		c.post_logout = json_incref(pl);
		snprintf(c.created_at, sizeof(c.created_at), "%s", ts);
		*out = client_json(&c);
		if (confidential)
			json_object_set_new(*out, "client_secret", json_string(secret));
		client_release(&c);
	} else if (rc != TB_ECONFLICT)
		tb_fail(err, rc, "", "cannot register the client: %s", tb_db_errmsg(db));
	tb_crypto_wipe(secret, sizeof(secret));
	json_decref(pl);
	free(ru);
	free(plu);
	return rc;
}

tb_rc tb_oidc_client_get(struct tb_db *db, const char *client_id, json_t **out, struct tb_err *err)
{
	struct client c;
	tb_rc rc = client_load(db, client_id, &c);
	if (rc == TB_ENOTFOUND)
		return tb_fail(err, rc, "client_id", "no such client");
	if (rc)
		return tb_fail(err, rc, "", "cannot read the client");
	*out = client_json(&c);
	client_release(&c);
	return TB_OK;
}

tb_rc tb_oidc_client_list(struct tb_db *db, int page, int per_page, json_t **out,
			  struct tb_err *err)
{
	struct tb_stmt *st;
	bool row;
	int64_t total = 0;
	tb_rc rc = prep(db, &st, "SELECT count(*) FROM oidc_clients", "");
	if (!rc && !(rc = tb_stmt_step(st, &row)) && row)
		total = tb_stmt_int(st, 0);
	if (!rc)
		tb_stmt_done(st);
	if (rc ||
	    (rc = prep(db, &st,
		       "SELECT client_id FROM oidc_clients ORDER BY client_id LIMIT ? OFFSET ?",
		       "ii", (int64_t)per_page, (int64_t)(page - 1) * per_page)))
		return tb_fail(err, rc, "", "cannot list clients");
	char ids[100][65];
	int n = 0;
	while (n < 100 && !(rc = tb_stmt_step(st, &row)) && row)
		snprintf(ids[n++], 65, "%s", tb_stmt_text(st, 0));
	tb_stmt_done(st);
	json_t *items = json_array();
	for (int i = 0; i < n && !rc; i++) {
		struct client c;
		if (!(rc = client_load(db, ids[i], &c))) {
			json_array_append_new(items, client_json(&c));
			client_release(&c);
		}
	}
	if (rc) {
		json_decref(items);
		return tb_fail(err, rc, "", "cannot list clients");
	}
	*out = json_pack("{s:o, s:I, s:i, s:i}", "items", items, "total", (json_int_t)total, "page",
			 page, "per_page", per_page);
	return TB_OK;
}

/* ---- authorization endpoint ---- */

enum prompt_bits { PROMPT_NONE = 1, PROMPT_LOGIN = 2, PROMPT_CONSENT = 4 };

/* Pending request, as stored in oidc_requests. */
struct pending {
	char id[64];
	char client_id[65];
	char *redirect_uri, *state, *nonce, *code_challenge; /* arena */
	unsigned scopes, prompt;
	long long max_age; /* -1: none */
	int64_t user_id;   /* 0: not yet bound */
	long long created_at;
};

static const char *ts_str(struct tb_arena *a, struct tb_stmt *st, int col)
{
	return tb_stmt_null(st, col) ? NULL : tb_arena_strdup(a, tb_stmt_text(st, col));
}

static tb_rc pending_load(struct tb_db *db, const char *id, struct tb_arena *a, struct pending *p)
{
	memset(p, 0, sizeof(*p));
	if (!id || strlen(id) > 63)
		return TB_ENOTFOUND;
	struct tb_stmt *st;
	tb_rc rc = prep(db, &st,
			"SELECT client_id, redirect_uri, scopes, state, nonce, code_challenge, "
			"prompt, max_age, user_id, created_at FROM oidc_requests WHERE id = ? AND "
			"expires_at > ?",
			"ti", id, (int64_t)now_s());
	if (rc)
		return rc;
	bool row = false;
	if (!(rc = tb_stmt_step(st, &row)) && row) {
		snprintf(p->id, sizeof(p->id), "%s", id);
		snprintf(p->client_id, sizeof(p->client_id), "%s", tb_stmt_text(st, 0));
		p->redirect_uri = tb_arena_strdup(a, tb_stmt_text(st, 1));
		p->scopes = (unsigned)tb_stmt_int(st, 2);
		p->state = (char *)ts_str(a, st, 3);
		p->nonce = (char *)ts_str(a, st, 4);
		p->code_challenge = (char *)ts_str(a, st, 5);
		p->prompt = (unsigned)tb_stmt_int(st, 6);
		p->max_age = tb_stmt_int(st, 7);
		p->user_id = tb_stmt_null(st, 8) ? 0 : tb_stmt_int(st, 8);
		p->created_at = tb_stmt_int(st, 9);
		if (!p->redirect_uri)
			rc = TB_ENOMEM;
	} else if (!rc)
		rc = TB_ENOTFOUND;
	tb_stmt_done(st);
	return rc;
}

static const char *error_redirect(struct tb_arena *a, const char *redirect_uri, const char *error,
				  const char *description, const char *state)
{
	return with_query(a, redirect_uri, "error", error, "error_description", description,
			  "state", state, "iss", conf->issuer, NULL);
}

static void page(struct tb_oidc_authz_result *res, const char *field, const char *msg)
{
	res->kind = TB_OIDC_AUTHZ_PAGE;
	tb_fail(&res->err, TB_EINVAL, field, "%s", msg);
}

static tb_rc acting_json_text(const struct tb_oidc_user *u, char **out)
{
	*out = NULL;
	if (!u->acting_uscc[0])
		return TB_OK;
	json_t *j = json_pack("{s:s, s:s, s:s}", "uscc", u->acting_uscc, "name", u->acting_name,
			      "capacity", u->acting_capacity);
	*out = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return *out ? TB_OK : TB_ENOMEM;
}

/* Issue a code for a pending request and the user, delete the request, and give the
 * client's redirect with code, state and iss. Inside the caller's transaction. */
static tb_rc issue_code(struct tb_db *db, const struct pending *p, const struct tb_oidc_user *u,
			struct tb_arena *a, const char **location)
{
	char code[64], hash[65];
	char *acting = NULL;
	tb_rc rc = random_token(code, 32);
	if (rc || (rc = acting_json_text(u, &acting)))
		return rc;
	token_hash(code, hash);
	long long t = now_s();
	rc = exec(db, NULL,
		  "INSERT INTO oidc_codes (code_hash, client_id, redirect_uri, scopes, nonce, "
		  "code_challenge, user_id, session_id, auth_time, assurance, aal, acting, "
		  "created_at, expires_at, used_at, family) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
		  "?, ?, ?, ?, NULL, NULL)",
		  "tttittiiiiitii", hash, p->client_id, p->redirect_uri, (int64_t)p->scopes,
		  p->nonce, p->code_challenge, u->user_id, u->session_id, (int64_t)u->auth_time,
		  (int64_t)u->assurance, (int64_t)u->aal, acting, (int64_t)t,
		  (int64_t)(t + TB_OIDC_CODE_TTL));
	free(acting);
	if (!rc)
		rc = exec(db, NULL, "DELETE FROM oidc_requests WHERE id = ?", "t", p->id);
	/* codes are kept a day after they expire, so that a late replay is still
	 * recognised (and revokes what the code gave); then they go */
	if (!rc)
		rc = exec(db, NULL, "DELETE FROM oidc_codes WHERE expires_at < ?", "i",
			  (int64_t)(t - 86400));
	if (rc)
		return rc;
	*location = with_query(a, p->redirect_uri, "code", code, "state", p->state, "iss",
			       conf->issuer, NULL);
	return *location ? TB_OK : TB_ENOMEM;
}

static tb_rc consented_scopes(struct tb_db *db, int64_t user_id, const char *client_id,
			      unsigned *mask)
{
	struct tb_stmt *st;
	*mask = 0;
	tb_rc rc =
	    prep(db, &st, "SELECT scopes FROM oidc_consents WHERE user_id = ? AND client_id = ?",
		 "it", user_id, client_id);
	if (rc)
		return rc;
	bool row = false;
	if (!(rc = tb_stmt_step(st, &row)) && row)
		*mask = (unsigned)tb_stmt_int(st, 0);
	tb_stmt_done(st);
	return rc;
}

/* Carry a pending request on as far as the user allows (inside a write transaction). */
static tb_rc authz_continue(struct tb_db *db, struct pending *p, const struct tb_oidc_user *u,
			    struct tb_arena *a, struct tb_oidc_authz_result *res)
{
	long long t = now_s();
	bool logged_in = u && u->user_id;
	bool fresh_needed = logged_in && (p->prompt & PROMPT_LOGIN) && u->auth_time < p->created_at;
	bool too_old = logged_in && p->max_age >= 0 && t - u->auth_time > p->max_age;
	res->kind = TB_OIDC_AUTHZ_REDIRECT;
	if (!logged_in || fresh_needed || too_old) {
		if (p->prompt & PROMPT_NONE) {
			res->location = error_redirect(a, p->redirect_uri, "login_required",
						       "the user is not logged in", p->state);
			return exec(db, NULL, "DELETE FROM oidc_requests WHERE id = ?", "t", p->id);
		}
		const char *next = tb_arena_printf(a, "/api/v1/oidc/authorize?resume=%s", p->id);
		res->location = with_query(
		    a, "/login", "next", next, "prompt",
		    (fresh_needed || too_old || (p->prompt & PROMPT_LOGIN)) ? "login" : NULL, NULL);
		return res->location ? TB_OK : TB_ENOMEM;
	}
	if (p->user_id && p->user_id != u->user_id) {
		page(res, "resume",
		     "this sign-in request was started by another user; go back to "
		     "the service and sign in again");
		return TB_OK;
	}
	tb_rc rc;
	if (!p->user_id && (rc = exec(db, NULL, "UPDATE oidc_requests SET user_id = ? WHERE id = ?",
				      "it", u->user_id, p->id)))
		return rc;
	p->user_id = u->user_id;
	unsigned have;
	if ((rc = consented_scopes(db, u->user_id, p->client_id, &have)))
		return rc;
	if ((p->scopes & ~have) || (p->prompt & PROMPT_CONSENT)) {
		if (p->prompt & PROMPT_NONE) {
			res->location =
			    error_redirect(a, p->redirect_uri, "consent_required",
					   "the user has not consented to these scopes", p->state);
			return exec(db, NULL, "DELETE FROM oidc_requests WHERE id = ?", "t", p->id);
		}
		res->location = with_query(a, "/consent", "request", p->id, NULL);
		return res->location ? TB_OK : TB_ENOMEM;
	}
	return issue_code(db, p, u, a, &res->location);
}

static bool pkce_chars_ok(const char *s, size_t lo, size_t hi)
{
	size_t n = strlen(s);
	if (n < lo || n > hi)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.' && *s != '_' && *s != '~')
			return false;
	return true;
}

/* Checks of a new request after client and redirect_uri are known good: NULL when the
 * request is acceptable, else the OAuth error code (description in *why). */
static const char *authz_check(const struct tb_oidc_authz_params *q, const struct client *c,
			       struct pending *p, const char **why)
{
	if (q->has_request_object) {
		*why = "request objects are not supported";
		return "request_not_supported";
	}
	if (!q->response_type || !*q->response_type) {
		*why = "response_type is required";
		return "invalid_request";
	}
	if (strcmp(q->response_type, "code")) {
		*why = "only response_type=code is supported";
		return "unsupported_response_type";
	}
	bool unknown;
	p->scopes = scopes_parse(q->scope, &unknown);
	if (!(p->scopes & TB_OIDC_OPENID)) {
		*why = "scope must include openid";
		return "invalid_scope";
	}
	if (unknown) {
		*why = "an unknown scope was requested";
		return "invalid_scope";
	}
	if (p->scopes & ~c->scopes) {
		*why = "a scope was requested that this client is not registered for";
		return "invalid_scope";
	}
	if (q->state && strlen(q->state) > 1024) {
		*why = "state is longer than 1024 characters";
		return "invalid_request";
	}
	if (q->nonce && strlen(q->nonce) > 512) {
		*why = "nonce is longer than 512 characters";
		return "invalid_request";
	}
	const char *method = q->code_challenge_method;
	if (q->code_challenge) {
		if (!method || strcmp(method, "S256")) {
			*why = method && !strcmp(method, "plain")
				   ? "code_challenge_method plain is not accepted: use S256"
				   : "code_challenge_method must be S256";
			return "invalid_request";
		}
		if (!pkce_chars_ok(q->code_challenge, 43, 43)) {
			*why = "code_challenge must be 43 base64url characters (S256)";
			return "invalid_request";
		}
	} else if (method) {
		*why = "code_challenge_method without code_challenge";
		return "invalid_request";
	} else if (c->public_client) {
		*why = "public clients must use PKCE (code_challenge with S256)";
		return "invalid_request";
	}
	p->prompt = 0;
	for (const char *s = q->prompt; s && *s;) {
		while (*s == ' ')
			s++;
		size_t n = strcspn(s, " ");
		if (n == 4 && !strncmp(s, "none", 4))
			p->prompt |= PROMPT_NONE;
		else if (n == 5 && !strncmp(s, "login", 5))
			p->prompt |= PROMPT_LOGIN;
		else if (n == 7 && !strncmp(s, "consent", 7))
			p->prompt |= PROMPT_CONSENT;
		else if (n && !(n == 14 && !strncmp(s, "select_account", 14))) {
			*why = "prompt must be none, login or consent";
			return "invalid_request";
		}
		s += n;
	}
	if ((p->prompt & PROMPT_NONE) && p->prompt != PROMPT_NONE) {
		*why = "prompt=none cannot be combined with other values";
		return "invalid_request";
	}
	p->max_age = -1;
	if (q->max_age) {
		char *end;
		long v = strtol(q->max_age, &end, 10);
		if (!*q->max_age || *end || v < 0 || v > 100000000) {
			*why = "max_age must be a non-negative integer";
			return "invalid_request";
		}
		p->max_age = v;
	}
	return NULL;
}

tb_rc tb_oidc_authorize(struct tb_db *db, const struct tb_oidc_authz_params *q,
			const struct tb_oidc_user *u, struct tb_arena *a,
			struct tb_oidc_authz_result *res)
{
	memset(res, 0, sizeof(*res));
	struct pending p;
	tb_rc rc = tb_db_begin(db, true);
	if (rc)
		return rc;
	if (q->resume) {
		rc = pending_load(db, q->resume, a, &p);
		if (rc == TB_ENOTFOUND) {
			page(res, "resume",
			     "this sign-in request is unknown or has expired; go back to the "
			     "service and sign in again");
			rc = TB_OK;
		} else if (!rc)
			rc = authz_continue(db, &p, u, a, res);
		goto done;
	}
	struct client c;
	if (!q->client_id || !*q->client_id) {
		page(res, "client_id", "client_id is required");
		goto done;
	}
	rc = client_load(db, q->client_id, &c);
	if (rc == TB_ENOTFOUND) {
		page(res, "client_id", "unknown client");
		rc = TB_OK;
		goto done;
	}
	if (rc)
		goto done;
	if (!q->redirect_uri || !*q->redirect_uri)
		page(res, "redirect_uri", "redirect_uri is required");
	else if (!uri_listed(c.redirect_uris, q->redirect_uri))
		page(res, "redirect_uri",
		     "redirect_uri is not one this client registered (exact match)");
	if (res->kind == TB_OIDC_AUTHZ_PAGE && res->err.field[0]) {
		client_release(&c);
		goto done;
	}
	memset(&p, 0, sizeof(p));
	const char *why = NULL;
	const char *error = authz_check(q, &c, &p, &why);
	client_release(&c);
	if (error) {
		res->kind = TB_OIDC_AUTHZ_REDIRECT;
		res->location = error_redirect(a, q->redirect_uri, error, why, q->state);
		goto done;
	}
	if ((rc = random_token(p.id, 16)))
		goto done;
	snprintf(p.client_id, sizeof(p.client_id), "%s", q->client_id);
	p.redirect_uri = (char *)q->redirect_uri;
	p.state = (char *)q->state;
	p.nonce = (char *)q->nonce;
	p.code_challenge = (char *)q->code_challenge;
	p.created_at = now_s();
	/* expired requests of anyone are swept as new ones come */
	rc = exec(db, NULL, "DELETE FROM oidc_requests WHERE expires_at <= ?", "i",
		  (int64_t)p.created_at);
	if (!rc)
		rc =
		    exec(db, NULL,
			 "INSERT INTO oidc_requests (id, client_id, redirect_uri, scopes, state, "
			 "nonce, code_challenge, prompt, max_age, user_id, created_at, expires_at) "
			 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
			 "tttitttiiii", p.id, p.client_id, p.redirect_uri, (int64_t)p.scopes,
			 p.state, p.nonce, p.code_challenge, (int64_t)p.prompt, (int64_t)p.max_age,
			 (int64_t)p.created_at, (int64_t)(p.created_at + TB_OIDC_REQUEST_TTL));
	if (!rc)
		rc = authz_continue(db, &p, u, a, res);
done:
	if (rc) {
		tb_db_rollback(db);
		return rc;
	}
	return tb_db_commit(db);
}

/* ---- consent ---- */

static const struct {
	const char *claims[2];
	const char *desc[3]; /* zh-CN, zh-HK, en */
} scope_info[TB_OIDC_NSCOPES] = {
    {{"sub", NULL}, {"你在平台的账号标识", "你在平台的帳號標識", "your account identifier"}},
    {{"name", NULL}, {"姓名", "姓名", "your name"}},
    {{"phone_number", NULL}, {"手机号码", "手機號碼", "your mobile phone number"}},
    {{"id_number", NULL}, {"身份证号码（脱敏）", "身份證號碼（遮蔽）", "your ID number (masked)"}},
    {{"enterprise", NULL},
     {"你代表的企业（统一社会信用代码、名称、身份）",
      "你代表的企業（統一社會信用代碼、名稱、身份）",
      "the enterprise you act for (USCC, name, capacity)"}},
};

static const char *const full_id_desc[3] = {"身份证号码（完整）", "身份證號碼（完整）",
					    "your full ID number"};

/* The pending request of id for this user (binding it if unbound). */
static tb_rc consent_pending(struct tb_db *db, const char *id, const struct tb_oidc_user *u,
			     struct tb_arena *a, struct pending *p, struct tb_err *err)
{
	tb_rc rc = pending_load(db, id, a, p);
	if (!rc && p->user_id && p->user_id != u->user_id)
		rc = TB_ENOTFOUND;
	if (rc == TB_ENOTFOUND)
		return tb_fail(err, rc, "id", "no such sign-in request (it may have expired)");
	return rc;
}

tb_rc tb_oidc_consent_get(struct tb_db *db, const char *id, const struct tb_oidc_user *u,
			  enum tb_oidc_lang lang, json_t **out, struct tb_err *err)
{
	struct tb_arena a;
	tb_arena_init(&a, 1 << 20);
	struct pending p;
	struct client c;
	tb_rc rc = consent_pending(db, id, u, &a, &p, err);
	if (!rc)
		rc = client_load(db, p.client_id, &c);
	if (rc) {
		tb_arena_release(&a);
		return err->msg[0] ? rc : tb_fail(err, rc, "", "cannot read the request");
	}
	json_t *scopes = json_array();
	for (int i = 0; i < TB_OIDC_NSCOPES; i++) {
		if (!(p.scopes & (1u << i)))
			continue;
		const char *d = scope_info[i].desc[lang];
		if ((1u << i) == TB_OIDC_IDCARD && c.full_id)
			d = full_id_desc[lang];
		json_t *claims = json_array();
		for (int j = 0; j < 2 && scope_info[i].claims[j]; j++)
			json_array_append_new(claims, json_string(scope_info[i].claims[j]));
		json_array_append_new(scopes,
				      json_pack("{s:s, s:s, s:o}", "name", tb_oidc_scope_names[i],
						"description", d, "claims", claims));
	}
	const char *h = strstr(p.redirect_uri, "://");
	h = h ? h + 3 : p.redirect_uri;
	char host[256];
	snprintf(host, sizeof(host), "%.*s", (int)strcspn(h, "/?#"), h);
	*out =
	    json_pack("{s:{s:s, s:s}, s:o, s:s, s:b}", "client", "id", c.client_id, "name", c.name,
		      "scopes", scopes, "redirect_host", host, "full_id_number", c.full_id);
	client_release(&c);
	tb_arena_release(&a);
	return TB_OK;
}

tb_rc tb_oidc_consent_decide(struct tb_db *db, const char *id, const struct tb_oidc_user *u,
			     bool allow, struct tb_arena *a, const char **redirect_to,
			     struct tb_err *err)
{
	struct pending p;
	tb_rc rc = tb_db_begin(db, true);
	if (rc)
		return tb_fail(err, rc, "", "cannot begin");
	if ((rc = consent_pending(db, id, u, a, &p, err)))
		goto fail;
	if (!allow) {
		*redirect_to = error_redirect(a, p.redirect_uri, "access_denied",
					      "the user declined", p.state);
		rc = exec(db, NULL, "DELETE FROM oidc_requests WHERE id = ?", "t", p.id);
		if (rc)
			goto fail;
		return tb_db_commit(db);
	}
	unsigned have;
	char ts[32];
	tb_time_rfc3339(ts);
	if ((rc = consented_scopes(db, u->user_id, p.client_id, &have)) ||
	    (rc = exec(db, NULL,
		       "INSERT INTO oidc_consents (user_id, client_id, scopes, created_at, "
		       "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, client_id) DO "
		       "UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at",
		       "ititt", u->user_id, p.client_id, (int64_t)(have | p.scopes), ts, ts)))
		goto fail;
	rc = issue_code(db, &p, u, a, redirect_to);
	if (rc)
		goto fail;
	return tb_db_commit(db);
fail:
	tb_db_rollback(db);
	return err->msg[0] ? rc : tb_fail(err, rc, "", "cannot record the decision");
}

/* ---- token endpoint ---- */

static void oauth_error(struct tb_oidc_error *oe, unsigned status, const char *error,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void oauth_error(struct tb_oidc_error *oe, unsigned status, const char *error,
			const char *fmt, ...)
{
	oe->status = status;
	oe->error = error;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(oe->description, sizeof(oe->description), fmt, ap);
	va_end(ap);
}

/* Who is calling the token endpoint. false with oe filled when nobody acceptable. */
static tb_rc client_authenticate(struct tb_db *db, const struct tb_oidc_token_params *p,
				 struct client *c, struct tb_oidc_error *oe)
{
	tb_rc rc;
	if (p->basic_malformed) {
		oauth_error(oe, 401, "invalid_client", "malformed HTTP Basic credentials");
		oe->basic_challenge = true;
		return TB_OK;
	}
	if (p->basic_id) {
		if (p->client_id && strcmp(p->client_id, p->basic_id)) {
			oauth_error(oe, 400, "invalid_request",
				    "client_id in the body differs from the authenticated client");
			return TB_OK;
		}
		rc = client_load(db, p->basic_id, c);
		char hash[65];
		bool ok = false;
		if (!rc && !c->public_client && c->secret_hash[0] && p->basic_secret &&
		    !(rc = secret_hash(c->client_id, p->basic_secret, hash)))
			ok = tb_crypto_equal(hash, c->secret_hash, 64);
		if (rc && rc != TB_ENOTFOUND)
			return rc;
		if (!ok) {
			if (!rc)
				client_release(c);
			oauth_error(oe, 401, "invalid_client", "client authentication failed");
			oe->basic_challenge = true;
		}
		return TB_OK;
	}
	if (p->client_secret) {
		oauth_error(oe, 401, "invalid_client",
			    "send the client secret with HTTP Basic (client_secret_basic)");
		oe->basic_challenge = true;
		return TB_OK;
	}
	if (!p->client_id) {
		oauth_error(oe, 401, "invalid_client", "client authentication is required");
		oe->basic_challenge = true;
		return TB_OK;
	}
	rc = client_load(db, p->client_id, c);
	if (rc == TB_ENOTFOUND) {
		oauth_error(oe, 401, "invalid_client", "unknown client");
		return TB_OK;
	}
	if (rc)
		return rc;
	if (!c->public_client) {
		client_release(c);
		oauth_error(oe, 401, "invalid_client",
			    "this client is confidential: authenticate with HTTP Basic");
		oe->basic_challenge = true;
	}
	return TB_OK;
}

/* An authorization's context, shared by its code, grant (refresh family) and tokens. */
struct grant {
	char family[64];
	const char *client_id;
	int64_t user_id, session_id;
	unsigned scopes;
	long long auth_time;
	int assurance, aal;
	const char *acting; /* JSON text or NULL */
};

static tb_rc revoke_family(struct tb_db *db, const char *family)
{
	tb_rc rc =
	    exec(db, NULL,
		 "UPDATE oidc_grants SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL",
		 "it", (int64_t)now_s(), family);
	return rc; /* access tokens of the family fail at userinfo: it checks the grant */
}

/* A compact JWS this provider signed (any of its keys, current or retired) with header
 * typ `typ`: its claims, or NULL. */
static json_t *own_jws(struct tb_db *db, const char *jws, const char *typ)
{
	size_t n = strlen(jws);
	if (n > 16384)
		return NULL;
	struct tb_buf h, pl;
	tb_buf_init(&h, 4096);
	tb_buf_init(&pl, 16384);
	json_t *hdr = NULL, *claims = NULL;
	if (!tb_jws_parse(jws, n, &h, &pl)) {
		hdr = json_loadb(h.data, h.len, JSON_REJECT_DUPLICATES, NULL);
		claims = json_loadb(pl.data, pl.len, JSON_REJECT_DUPLICATES, NULL);
	}
	const char *kid = json_string_value(json_object_get(hdr, "kid"));
	const char *t = json_string_value(json_object_get(hdr, "typ"));
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	bool ok = kid && t && !strcmp(t, typ) && iss && !strcmp(iss, conf->issuer) &&
		  json_is_object(claims);
	if (ok) {
		pthread_mutex_lock(&keyring.mu);
		int i = keyring_find(db, kid);
		const struct tb_es256_key *k = i >= 0 ? keyring.loaded[i].key : NULL;
		pthread_mutex_unlock(&keyring.mu);
		ok = k && tb_jws_verify(k, jws, n);
	}
	json_decref(hdr);
	tb_buf_release(&h);
	tb_buf_release(&pl);
	if (!ok) {
		json_decref(claims);
		return NULL;
	}
	return claims;
}

/* An access token is a JWT (RFC 9068, typ at+jwt) signed like the ID tokens, so that
 * a department's own APIs can check it with the JWKS and nothing is written per
 * token. Revocation goes through its grant (claim "gid", the refresh family), which
 * userinfo reads; tokens of client_credentials have no grant and simply expire. */
static tb_rc access_token(struct tb_db *db, const struct grant *g, unsigned scopes, long long t,
			  struct tb_buf *out)
{
	char jti[64], sub[65], sc[128];
	tb_rc rc = random_token(jti, 16);
	if (!rc && g->user_id)
		rc = pairwise_sub(g->client_id, g->user_id, sub);
	else if (!rc)
		snprintf(sub, sizeof(sub), "%s", g->client_id);
	if (rc)
		return rc;
	scopes_text(scopes, sc);
	json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "iss", conf->issuer,
			      "sub", sub, "aud", conf->issuer, "client_id", g->client_id, "exp",
			      (json_int_t)(t + TB_OIDC_ACCESS_TTL), "iat", (json_int_t)t, "jti",
			      jti, "scope", sc);
	if (!c)
		return TB_ENOMEM;
	if (g->family[0])
		json_object_set_new(c, "gid", json_string(g->family));
	char *payload = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	if (!payload)
		return TB_ENOMEM;
	const struct tb_es256_key *k;
	const char *kid;
	rc = signing_key(db, &k, &kid);
	if (!rc)
		rc = tb_jws_sign(k, kid, "at+jwt", payload, strlen(payload), out);
	free(payload);
	return rc;
}

static tb_rc id_token(struct tb_db *db, const struct grant *g, const char *nonce,
		      const char *access_token, struct tb_buf *out)
{
	char sub[33], sid[24], acr[16];
	tb_rc rc = pairwise_sub(g->client_id, g->user_id, sub);
	if (rc)
		return rc;
	uint8_t h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)access_token, strlen(access_token));
	struct tb_buf at_hash;
	tb_buf_init(&at_hash, 64);
	if ((rc = tb_b64url_encode(h, sizeof(h) / 2, &at_hash)))
		return rc;
	snprintf(sid, sizeof(sid), "%lld", (long long)g->session_id);
	snprintf(acr, sizeof(acr), "tongban:L%d", g->assurance);
	long long t = now_s();
	json_t *c =
	    json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:[s], s:s, s:s}", "iss", conf->issuer,
		      "sub", sub, "aud", g->client_id, "exp", (json_int_t)(t + TB_OIDC_ID_TTL),
		      "iat", (json_int_t)t, "auth_time", (json_int_t)g->auth_time, "acr", acr,
		      "amr", "pwd", "sid", sid, "at_hash", at_hash.data);
	tb_buf_release(&at_hash);
	if (!c)
		return TB_ENOMEM;
	if (g->aal >= 2)
		json_array_append_new(json_object_get(c, "amr"), json_string("otp"));
	if (nonce)
		json_object_set_new(c, "nonce", json_string(nonce));
	char *payload = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	if (!payload)
		return TB_ENOMEM;
	const struct tb_es256_key *k;
	const char *kid;
	rc = signing_key(db, &k, &kid);
	if (!rc)
		rc = tb_jws_sign(k, kid, "JWT", payload, strlen(payload), out);
	free(payload);
	return rc;
}

/* Access token (+ refresh token when the grant has a family, + ID token when openid was
 * granted to a user) into out. */
static tb_rc issue_tokens(struct tb_db *db, const struct grant *g, unsigned scopes,
			  const char *nonce, json_t **out)
{
	char refresh[64], hash[65];
	long long t = now_s();
	struct tb_buf at;
	tb_buf_init(&at, 16384);
	tb_rc rc = access_token(db, g, scopes, t, &at);
	if (rc) {
		tb_buf_release(&at);
		return rc;
	}
	const char *access = at.data;
	json_t *o = json_pack("{s:s, s:s, s:i, s:s}", "access_token", access, "token_type",
			      "Bearer", "expires_in", TB_OIDC_ACCESS_TTL, "scope", "");
	if (!o) {
		tb_buf_release(&at);
		return TB_ENOMEM;
	}
	char sc[128];
	scopes_text(scopes, sc);
	json_object_set_new(o, "scope", json_string(sc));
	if (g->family[0]) {
		if ((rc = random_token(refresh, 32)))
			goto fail;
		token_hash(refresh, hash);
		rc = exec(db, NULL,
			  "INSERT INTO oidc_refresh_tokens (token_hash, family, created_at, "
			  "expires_at, used_at) VALUES (?, ?, ?, ?, NULL)",
			  "ttii", hash, g->family, (int64_t)t, (int64_t)(t + TB_OIDC_REFRESH_TTL));
		if (rc)
			goto fail;
		json_object_set_new(o, "refresh_token", json_string(refresh));
	}
	if (g->user_id && (scopes & TB_OIDC_OPENID)) {
		struct tb_buf jws;
		tb_buf_init(&jws, 16384);
		rc = id_token(db, g, nonce, access, &jws);
		if (!rc)
			json_object_set_new(o, "id_token", json_string(jws.data));
		tb_buf_release(&jws);
		if (rc)
			goto fail;
	}
	tb_buf_release(&at);
	*out = o;
	return TB_OK;
fail:
	tb_buf_release(&at);
	json_decref(o);
	return rc;
}

static bool pkce_ok(const char *challenge, const char *verifier)
{
	if (!verifier || !pkce_chars_ok(verifier, 43, 128))
		return false;
	uint8_t h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)verifier, strlen(verifier));
	struct tb_buf b;
	tb_buf_init(&b, 64);
	bool ok = !tb_b64url_encode(h, sizeof(h), &b) && b.len == strlen(challenge) &&
		  tb_crypto_equal(b.data, challenge, b.len);
	tb_buf_release(&b);
	return ok;
}

/* *commit: the transaction must be committed even though an error is answered (a
 * replayed code or refresh token revoked its family). */
static tb_rc grant_code(struct tb_db *db, const struct tb_oidc_token_params *p,
			const struct client *c, json_t **out, struct tb_oidc_error *oe,
			bool *commit)
{
	if (!p->code || !*p->code) {
		oauth_error(oe, 400, "invalid_request", "code is required");
		return TB_OK;
	}
	char hash[65];
	token_hash(p->code, hash);
	struct tb_stmt *st;
	tb_rc rc =
	    prep(db, &st,
		 "SELECT client_id, redirect_uri, scopes, nonce, code_challenge, user_id, "
		 "session_id, auth_time, assurance, aal, acting, expires_at, used_at, family "
		 "FROM oidc_codes WHERE code_hash = ?",
		 "t", hash);
	if (rc)
		return rc;
	bool row = false;
	struct tb_arena a;
	tb_arena_init(&a, 1 << 20);
	struct grant g = {0};
	const char *redirect = NULL, *nonce = NULL, *challenge = NULL, *family = NULL;
	const char *client_id = NULL;
	long long expires = 0;
	bool used = false;
	if (!(rc = tb_stmt_step(st, &row)) && row) {
		client_id = ts_str(&a, st, 0);
		redirect = ts_str(&a, st, 1);
		g.scopes = (unsigned)tb_stmt_int(st, 2);
		nonce = ts_str(&a, st, 3);
		challenge = ts_str(&a, st, 4);
		g.user_id = tb_stmt_int(st, 5);
		g.session_id = tb_stmt_int(st, 6);
		g.auth_time = tb_stmt_int(st, 7);
		g.assurance = (int)tb_stmt_int(st, 8);
		g.aal = (int)tb_stmt_int(st, 9);
		g.acting = ts_str(&a, st, 10);
		expires = tb_stmt_int(st, 11);
		used = !tb_stmt_null(st, 12);
		family = ts_str(&a, st, 13);
	}
	tb_stmt_done(st);
	if (rc)
		goto done;
	if (!row) {
		oauth_error(oe, 400, "invalid_grant", "unknown authorization code");
		goto done;
	}
	if (used) {
		/* RFC 6749 §4.1.2: a code used twice revokes what it gave */
		if (family && (rc = revoke_family(db, family)))
			goto done;
		*commit = true;
		oauth_error(oe, 400, "invalid_grant",
			    "the authorization code was already used; the tokens issued from it "
			    "are revoked");
		goto done;
	}
	if (strcmp(client_id, c->client_id)) {
		oauth_error(oe, 400, "invalid_grant", "the code was issued to another client");
		goto done;
	}
	if (expires <= now_s()) {
		oauth_error(oe, 400, "invalid_grant", "the authorization code has expired");
		goto done;
	}
	if (!p->redirect_uri || strcmp(p->redirect_uri, redirect)) {
		oauth_error(oe, 400, "invalid_grant",
			    "redirect_uri differs from the authorization request's");
		goto done;
	}
	if (challenge ? !pkce_ok(challenge, p->code_verifier) : p->code_verifier != NULL) {
		oauth_error(oe, 400, "invalid_grant",
			    challenge ? "PKCE verification failed (code_verifier)"
				      : "code_verifier sent but the request had no code_challenge");
		goto done;
	}
	int64_t changes = 0;
	if ((rc = random_token(g.family, 24)) ||
	    (rc = exec(db, &changes,
		       "UPDATE oidc_codes SET used_at = ?, family = ? WHERE code_hash = ? AND "
		       "used_at IS NULL",
		       "itt", (int64_t)now_s(), g.family, hash)))
		goto done;
	if (changes != 1) {
		oauth_error(oe, 400, "invalid_grant", "the authorization code was already used");
		goto done;
	}
	g.client_id = c->client_id;
	/* refresh tokens past their 30 days go as new grants come */
	rc = exec(db, NULL, "DELETE FROM oidc_refresh_tokens WHERE expires_at < ?", "i",
		  (int64_t)now_s());
	if (!rc)
		rc =
		    exec(db, NULL,
			 "INSERT INTO oidc_grants (family, client_id, user_id, session_id, scopes, "
			 "auth_time, assurance, aal, acting, created_at, revoked_at) VALUES (?, ?, "
			 "?, ?, "
			 "?, ?, ?, ?, ?, ?, NULL)",
			 "ttiiiiiiti", g.family, g.client_id, g.user_id, g.session_id,
			 (int64_t)g.scopes, (int64_t)g.auth_time, (int64_t)g.assurance,
			 (int64_t)g.aal, g.acting, (int64_t)now_s());
	if (!rc)
		rc = issue_tokens(db, &g, g.scopes, nonce, out);
done:
	tb_arena_release(&a);
	return rc;
}

static tb_rc grant_refresh(struct tb_db *db, const struct tb_oidc_token_params *p,
			   const struct client *c, json_t **out, struct tb_oidc_error *oe,
			   bool *commit)
{
	if (!p->refresh_token || !*p->refresh_token) {
		oauth_error(oe, 400, "invalid_request", "refresh_token is required");
		return TB_OK;
	}
	char hash[65];
	token_hash(p->refresh_token, hash);
	struct tb_stmt *st;
	tb_rc rc = prep(db, &st,
			"SELECT r.family, r.expires_at, r.used_at, g.client_id, g.user_id, "
			"g.session_id, g.scopes, g.auth_time, g.assurance, g.aal, g.acting, "
			"g.revoked_at FROM oidc_refresh_tokens r JOIN oidc_grants g ON g.family = "
			"r.family WHERE r.token_hash = ?",
			"t", hash);
	if (rc)
		return rc;
	struct tb_arena a;
	tb_arena_init(&a, 1 << 20);
	bool row = false, used = false, revoked = false;
	struct grant g = {0};
	long long expires = 0;
	const char *client_id = NULL;
	if (!(rc = tb_stmt_step(st, &row)) && row) {
		snprintf(g.family, sizeof(g.family), "%s", tb_stmt_text(st, 0));
		expires = tb_stmt_int(st, 1);
		used = !tb_stmt_null(st, 2);
		client_id = ts_str(&a, st, 3);
		g.user_id = tb_stmt_int(st, 4);
		g.session_id = tb_stmt_int(st, 5);
		g.scopes = (unsigned)tb_stmt_int(st, 6);
		g.auth_time = tb_stmt_int(st, 7);
		g.assurance = (int)tb_stmt_int(st, 8);
		g.aal = (int)tb_stmt_int(st, 9);
		g.acting = ts_str(&a, st, 10);
		revoked = !tb_stmt_null(st, 11);
	}
	tb_stmt_done(st);
	if (rc)
		goto done;
	if (!row || strcmp(client_id, c->client_id)) {
		oauth_error(oe, 400, "invalid_grant", "unknown refresh token");
		goto done;
	}
	if (revoked) {
		oauth_error(oe, 400, "invalid_grant", "the refresh token has been revoked");
		goto done;
	}
	int64_t changes = 0;
	if (!used &&
	    (rc = exec(db, &changes,
		       "UPDATE oidc_refresh_tokens SET used_at = ? WHERE token_hash = ? AND "
		       "used_at IS NULL",
		       "it", (int64_t)now_s(), hash)))
		goto done;
	if (used || changes != 1) {
		/* a rotated token came back: someone holds a copy. Revoke the family. */
		if ((rc = revoke_family(db, g.family)))
			goto done;
		*commit = true;
		tb_log(TB_LOG_WARN, "oidc", "refresh token reuse for client %s: family revoked",
		       c->client_id);
		oauth_error(oe, 400, "invalid_grant",
			    "the refresh token was already used; every token of this grant is "
			    "revoked");
		goto done;
	}
	if (expires <= now_s()) {
		oauth_error(oe, 400, "invalid_grant", "the refresh token has expired");
		goto done;
	}
	unsigned scopes = g.scopes;
	if (p->scope) {
		bool unknown;
		scopes = scopes_parse(p->scope, &unknown);
		if (unknown || (scopes & ~g.scopes) || !scopes) {
			oauth_error(oe, 400, "invalid_scope",
				    "scope must be a subset of the scopes originally granted");
			goto done;
		}
	}
	g.client_id = c->client_id;
	rc = issue_tokens(db, &g, scopes, NULL, out);
done:
	tb_arena_release(&a);
	return rc;
}

static tb_rc grant_client_credentials(struct tb_db *db, const struct tb_oidc_token_params *p,
				      const struct client *c, json_t **out,
				      struct tb_oidc_error *oe)
{
	if (c->public_client) {
		oauth_error(oe, 400, "unauthorized_client",
			    "public clients cannot use client_credentials");
		return TB_OK;
	}
	unsigned scopes = 0;
	if (p->scope) {
		bool unknown;
		scopes = scopes_parse(p->scope, &unknown);
		if (unknown || (scopes & ~c->scopes)) {
			oauth_error(oe, 400, "invalid_scope",
				    "a scope was requested that this client is not registered for");
			return TB_OK;
		}
	}
	struct grant g = {0};
	g.client_id = c->client_id;
	return issue_tokens(db, &g, scopes & ~TB_OIDC_OPENID, NULL, out);
}

tb_rc tb_oidc_token(struct tb_db *db, const struct tb_oidc_token_params *p, json_t **out,
		    struct tb_oidc_error *oe)
{
	memset(oe, 0, sizeof(*oe));
	*out = NULL;
	if (!p->grant_type || !*p->grant_type) {
		oauth_error(oe, 400, "invalid_request", "grant_type is required");
		return TB_OK;
	}
	enum { G_CODE, G_REFRESH, G_CLIENT } which;
	if (!strcmp(p->grant_type, "authorization_code"))
		which = G_CODE;
	else if (!strcmp(p->grant_type, "refresh_token"))
		which = G_REFRESH;
	else if (!strcmp(p->grant_type, "client_credentials"))
		which = G_CLIENT;
	else {
		oauth_error(oe, 400, "unsupported_grant_type", "grant_type %.64s is not supported",
			    p->grant_type);
		return TB_OK;
	}
	tb_rc rc = tb_db_begin(db, which != G_CLIENT); /* client_credentials writes nothing */
	if (rc)
		return rc;
	struct client c;
	bool commit = false;
	rc = client_authenticate(db, p, &c, oe);
	if (rc || oe->status)
		goto done;
	if (which == G_CODE)
		rc = grant_code(db, p, &c, out, oe, &commit);
	else if (which == G_REFRESH)
		rc = grant_refresh(db, p, &c, out, oe, &commit);
	else
		rc = grant_client_credentials(db, p, &c, out, oe);
	client_release(&c);
done:
	if (!rc && (!oe->status || commit)) {
		rc = tb_db_commit(db);
		if (rc && *out) {
			json_decref(*out);
			*out = NULL;
		}
		return rc;
	}
	tb_db_rollback(db);
	if (*out) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- userinfo ---- */

tb_rc tb_oidc_userinfo(struct tb_db *db, const char *access_token, json_t **out,
		       struct tb_oidc_error *oe)
{
	memset(oe, 0, sizeof(*oe));
	*out = NULL;
	if (!access_token || !*access_token) {
		oauth_error(oe, 401, "invalid_token", "a Bearer access token is required");
		return TB_OK;
	}
	json_t *at = own_jws(db, access_token, "at+jwt");
	const char *gid = json_string_value(json_object_get(at, "gid"));
	const char *tok_client = json_string_value(json_object_get(at, "client_id"));
	json_int_t exp = json_integer_value(json_object_get(at, "exp"));
	bool unknown;
	unsigned scopes = scopes_parse(json_string_value(json_object_get(at, "scope")), &unknown);
	if (!at || !tok_client || exp <= now_s() || !gid || !(scopes & TB_OIDC_OPENID)) {
		oauth_error(oe, 401, "invalid_token",
			    !at || !tok_client ? "the access token is not one this provider issued"
			    : exp <= now_s()   ? "the access token has expired"
					     : "the access token is not for a user's openid scope");
		json_decref(at);
		return TB_OK;
	}
	struct tb_stmt *st;
	tb_rc rc = prep(db, &st,
			"SELECT g.client_id, g.user_id, g.scopes, g.revoked_at, g.acting, "
			"c.full_id_number FROM oidc_grants g JOIN oidc_clients c ON c.client_id = "
			"g.client_id WHERE g.family = ?",
			"t", gid);
	if (rc) {
		json_decref(at);
		return rc;
	}
	bool row = false, revoked = false, full = false;
	char client_id[65] = "";
	int64_t user_id = 0;
	char *acting = NULL;
	if (!(rc = tb_stmt_step(st, &row)) && row) {
		snprintf(client_id, sizeof(client_id), "%s", tb_stmt_text(st, 0));
		user_id = tb_stmt_int(st, 1);
		scopes &= (unsigned)tb_stmt_int(st, 2);
		revoked = !tb_stmt_null(st, 3);
		acting = tb_stmt_null(st, 4) ? NULL : strdup(tb_stmt_text(st, 4));
		full = tb_stmt_int(st, 5) != 0;
	}
	tb_stmt_done(st);
	bool same_client = row && !strcmp(client_id, tok_client);
	json_decref(at);
	if (rc)
		goto done;
	if (!row || revoked || !same_client) {
		oauth_error(oe, 401, "invalid_token", "the access token has been revoked");
		goto done;
	}
	char sub[33];
	if ((rc = pairwise_sub(client_id, user_id, sub)))
		goto done;
	json_t *o = json_pack("{s:s}", "sub", sub);
	unsigned asked = scopes & (TB_OIDC_PROFILE | TB_OIDC_PHONE | TB_OIDC_IDCARD);
	bool full_id = full && (scopes & TB_OIDC_IDCARD);
	if (asked && conf->claims) {
		struct tb_err err = {0};
		/* releasing a full ID number writes an audit record: a write transaction */
		if ((rc = tb_db_begin(db, full_id))) {
			json_decref(o);
			goto done;
		}
		rc = conf->claims(db, user_id, asked, full_id, client_id, o, &err);
		if (rc) {
			tb_db_rollback(db);
			json_decref(o);
			if (rc == TB_ENOTFOUND) {
				oauth_error(oe, 401, "invalid_token", "the user no longer exists");
				rc = TB_OK;
			}
			goto done;
		}
		if ((rc = tb_db_commit(db))) {
			json_decref(o);
			goto done;
		}
	}
	if (scopes & TB_OIDC_ENTERPRISE) {
		json_t *e = acting ? json_loads(acting, 0, NULL) : NULL;
		json_object_set_new(o, "enterprise", e ? e : json_null());
	}
	*out = o;
done:
	free(acting);
	return rc;
}

/* ---- RP-initiated logout ---- */

tb_rc tb_oidc_end_session(struct tb_db *db, const char *id_token_hint,
			  const char *post_logout_redirect_uri, const char *state,
			  const char *client_id, const struct tb_oidc_user *u, struct tb_arena *a,
			  struct tb_oidc_logout_result *res, struct tb_err *err)
{
	memset(res, 0, sizeof(*res));
	char aud[65] = "";
	long long sid = 0;
	if (id_token_hint && *id_token_hint) {
		/* an expired hint is still a hint (OIDC RP-Initiated Logout §2) */
		json_t *claims = own_jws(db, id_token_hint, "JWT");
		json_t *audv = json_object_get(claims, "aud");
		const char *a0 = json_is_array(audv) ? json_string_value(json_array_get(audv, 0))
						     : json_string_value(audv);
		const char *sids = json_string_value(json_object_get(claims, "sid"));
		bool ok = a0 && sids && strlen(a0) < sizeof(aud);
		if (ok) {
			snprintf(aud, sizeof(aud), "%s", a0);
			sid = atoll(sids);
		}
		json_decref(claims);
		if (!ok)
			return tb_fail(err, TB_EINVAL, "id_token_hint",
				       "id_token_hint is not an ID token this provider issued");
	}
	if (client_id && aud[0] && strcmp(client_id, aud))
		return tb_fail(err, TB_EINVAL, "client_id",
			       "client_id differs from the audience of id_token_hint");
	const char *cid = aud[0] ? aud : client_id;
	if (post_logout_redirect_uri) {
		struct client c;
		tb_rc rc = cid ? client_load(db, cid, &c) : TB_ENOTFOUND;
		if (rc == TB_ENOTFOUND)
			return tb_fail(err, TB_EINVAL, "post_logout_redirect_uri",
				       "post_logout_redirect_uri needs id_token_hint or client_id");
		if (rc)
			return tb_fail(err, rc, "", "cannot read the client");
		bool listed = uri_listed(c.post_logout, post_logout_redirect_uri);
		client_release(&c);
		if (!listed)
			return tb_fail(err, TB_EINVAL, "post_logout_redirect_uri",
				       "post_logout_redirect_uri is not one this client registered "
				       "(exact match)");
		res->location = with_query(a, post_logout_redirect_uri, "state", state, NULL);
	}
	if (sid > 0) {
		tb_rc rc = tb_db_begin(db, true);
		if (rc)
			return tb_fail(err, rc, "", "cannot begin");
		/* whose session: the grants made in it know (the subject is pairwise) */
		struct tb_stmt *st;
		bool row = false;
		int64_t uid = 0;
		rc = prep(db, &st, "SELECT user_id FROM oidc_grants WHERE session_id = ? LIMIT 1",
			  "i", (int64_t)sid);
		if (!rc) {
			if (!(rc = tb_stmt_step(st, &row)) && row)
				uid = tb_stmt_int(st, 0);
			tb_stmt_done(st);
		}
		if (!rc)
			rc = exec(db, NULL,
				  "UPDATE oidc_grants SET revoked_at = ? WHERE session_id = ? AND "
				  "revoked_at IS NULL",
				  "ii", (int64_t)now_s(), (int64_t)sid);
		if (!rc && uid && conf->end_session)
			rc = conf->end_session(db, uid, sid, err);
		if (rc) {
			tb_db_rollback(db);
			return err->msg[0] ? rc : tb_fail(err, rc, "", "cannot end the session");
		}
		if ((rc = tb_db_commit(db)))
			return tb_fail(err, rc, "", "commit failed");
		res->end_current = u && u->session_id == sid;
	}
	return TB_OK;
}

/* ---- what the identity block provides ---- */

tb_rc tb_oidc_identity_claims(struct tb_db *db, int64_t user_id, unsigned scopes, bool full_id,
			      const char *client_id, json_t *out, struct tb_err *err)
{
	unsigned flags = (scopes & TB_OIDC_PROFILE ? TB_CLAIMS_PROFILE : 0) |
			 (scopes & TB_OIDC_PHONE ? TB_CLAIMS_PHONE : 0) |
			 (scopes & TB_OIDC_IDCARD ? TB_CLAIMS_IDCARD : 0);
	json_t *c = NULL;
	tb_rc rc = tb_identity_claims(db, user_id, flags, full_id, &c, err);
	if (rc)
		return rc;
	/* only the claims the scopes name: not the identity block's own sub, kind or acr */
	static const char *const keep[] = {"name", "phone_number", "phone_number_verified",
					   "id_number"};
	for (size_t i = 0; i < TB_ARRAY_LEN(keep); i++) {
		json_t *v = json_object_get(c, keep[i]);
		if (v)
			json_object_set(out, keep[i], v);
	}
	json_decref(c);
	if (full_id && (scopes & TB_OIDC_IDCARD)) {
		char detail[128];
		snprintf(detail, sizeof(detail), "OIDC userinfo to client %s", client_id);
		rc = tb_identity_audit(db, 0, "oidc.id_number.release", user_id,
				       "the client is registered for the full ID number", detail);
	}
	return rc;
}

tb_rc tb_oidc_identity_end_session(struct tb_db *db, int64_t user_id, int64_t session_id,
				   struct tb_err *err)
{
	tb_rc rc = tb_identity_session_end(db, user_id, session_id, now_s(), err);
	if (rc == TB_ENOTFOUND) { /* already ended */
		memset(err, 0, sizeof(*err));
		return TB_OK;
	}
	return rc;
}
