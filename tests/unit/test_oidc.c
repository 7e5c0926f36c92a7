/* The OIDC provider's logic on a real SQLite store, without a server: clients,
 * authorize outcomes, consent, the code and refresh grants and their failures. The
 * whole flow over HTTP with a certified relying party is tests/oidc/. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "base/jose.h"
#include "identity/oidc.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	struct tb_store *store;
	struct tb_db *db;
	struct tb_seal_key key;
	struct tb_oidc_config cfg;
	struct tb_arena arena;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/tb_oidc_XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	char url[128];
	snprintf(url, sizeof(url), "sqlite:%s/t.db", f->dir);
	struct tb_err err = {0};
	int applied;
	if (tb_store_open(url, &f->store, &err) || tb_store_migrate(f->store, &applied, &err))
		return -1;
	f->db = tb_store_db(f->store, &err);
	uint8_t master[32];
	memset(master, 7, sizeof(master));
	tb_seal_key_derive(&f->key, master, sizeof(master));
	f->cfg.issuer = "http://127.0.0.1:9";
	f->cfg.keys = &f->key;
	if (tb_oidc_init(f->store, &f->cfg, &err))
		return -1;
	tb_arena_init(&f->arena, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tb_arena_release(&f->arena);
	tb_oidc_shutdown();
	tb_store_free(f->store);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

static json_t *client(struct fixture *f, const char *json, tb_rc want, const char *field)
{
	json_t *body = json_loads(json, 0, NULL), *out = NULL;
	assert_non_null(body);
	struct tb_err err = {0};
	tb_rc rc = tb_oidc_client_create(f->db, body, 1, &out, &err);
	if (rc != want)
		print_message("client: %s: %s\n", err.field, err.msg);
	assert_int_equal(rc, want);
	if (field)
		assert_string_equal(err.field, field);
	json_decref(body);
	return out;
}

/* The value of query parameter name in a URL (decoded only for %XX). */
static const char *qparam(struct tb_arena *a, const char *url, const char *name)
{
	const char *q = strchr(url, '?');
	size_t n = strlen(name);
	while (q) {
		q++;
		if (!strncmp(q, name, n) && q[n] == '=') {
			const char *v = q + n + 1;
			size_t len = strcspn(v, "&");
			char *out = tb_arena_alloc(a, len + 1), *o = out;
			for (size_t i = 0; i < len; i++) {
				if (v[i] == '%' && i + 2 < len + 1) {
					char hex[3] = {v[i + 1], v[i + 2], 0};
					*o++ = (char)strtol(hex, NULL, 16);
					i += 2;
				} else
					*o++ = v[i];
			}
			*o = 0;
			return out;
		}
		q = strchr(q, '&');
	}
	return NULL;
}

static const char verifier[] = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"; /* RFC 7636 B */
static const char challenge[] = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

static const struct tb_oidc_user alice = {.user_id = 41,
					  .session_id = 7,
					  .auth_time = 1,
					  .assurance = 2,
					  .aal = 1,
					  .acting_uscc = "91350100M000100Y43",
					  .acting_name = "福州某公司",
					  .acting_capacity = "legal_rep"};

static void test_clients(void **state)
{
	struct fixture *f = *state;
	json_t *c = client(f,
			   "{\"client_id\":\"rp1\",\"name\":\"RP\",\"type\":\"confidential\","
			   "\"redirect_uris\":[\"https://rp.example/cb\"],\"scopes\":[\"openid\","
			   "\"profile\"]}",
			   TB_OK, NULL);
	assert_int_equal(strlen(json_string_value(json_object_get(c, "client_secret"))), 43);
	json_decref(c);
	json_decref(
	    client(f,
		   "{\"client_id\":\"rp1\",\"name\":\"RP\",\"type\":\"public\",\"redirect_uris\":"
		   "[\"https://rp.example/cb\"],\"scopes\":[\"openid\"]}",
		   TB_ECONFLICT, "client_id"));
	json_decref(client(
	    f,
	    "{\"name\":\"RP\",\"type\":\"public\",\"redirect_uris\":[\"http://rp.example/cb\"],"
	    "\"scopes\":[\"openid\"]}",
	    TB_EINVAL, "redirect_uris[0]"));
	json_decref(
	    client(f,
		   "{\"name\":\"RP\",\"type\":\"public\",\"redirect_uris\":[\"https://rp.example/"
		   "cb#x\"],\"scopes\":[\"openid\"]}",
		   TB_EINVAL, "redirect_uris[0]"));
	json_decref(
	    client(f,
		   "{\"name\":\"RP\",\"type\":\"public\",\"redirect_uris\":[\"https://rp/cb\"],"
		   "\"scopes\":[\"profile\"]}",
		   TB_EINVAL, "scopes"));
	json_decref(
	    client(f,
		   "{\"name\":\"RP\",\"type\":\"public\",\"redirect_uris\":[\"https://rp/cb\"],"
		   "\"scopes\":[\"openid\"],\"full_id_number\":true}",
		   TB_EINVAL, "full_id_number"));
	json_decref(
	    client(f,
		   "{\"name\":\"RP\",\"type\":\"public\",\"redirect_uris\":[\"https://rp/cb\"],"
		   "\"scopes\":[\"openid\"],\"secret\":\"x\"}",
		   TB_EINVAL, "secret"));
	/* generated id, public: no secret */
	c = client(f,
		   "{\"name\":\"App\",\"type\":\"public\",\"redirect_uris\":[\"http://127.0.0.1:"
		   "5000/cb\"],\"scopes\":[\"openid\"]}",
		   TB_OK, NULL);
	assert_null(json_object_get(c, "client_secret"));
	assert_true(!strncmp(json_string_value(json_object_get(c, "client_id")), "c-", 2));
	json_decref(c);
}

static struct tb_oidc_authz_result authz(struct fixture *f, const struct tb_oidc_authz_params *q,
					 const struct tb_oidc_user *u)
{
	struct tb_oidc_authz_result res;
	tb_rc rc = tb_oidc_authorize(f->db, q, u, &f->arena, &res);
	if (rc)
		print_message("authorize: %s\n", tb_db_errmsg(f->db));
	assert_int_equal(rc, TB_OK);
	return res;
}

static void token_call(struct fixture *f, const struct tb_oidc_token_params *p, json_t **out,
		       struct tb_oidc_error *oe)
{
	assert_int_equal(tb_oidc_token(f->db, p, out, oe), TB_OK);
}

static void test_flow(void **state)
{
	struct fixture *f = *state;
	json_t *c = client(f,
			   "{\"client_id\":\"rp2\",\"name\":\"RP two\",\"type\":\"confidential\","
			   "\"redirect_uris\":[\"https://rp.example/cb\"],"
			   "\"post_logout_redirect_uris\":[\"https://rp.example/bye\"],"
			   "\"scopes\":[\"openid\",\"profile\",\"enterprise\"]}",
			   TB_OK, NULL);
	char secret[64];
	snprintf(secret, sizeof(secret), "%s",
		 json_string_value(json_object_get(c, "client_secret")));
	json_decref(c);
	json_decref(
	    client(f,
		   "{\"client_id\":\"app\",\"name\":\"App\",\"type\":\"public\",\"redirect_uris\":"
		   "[\"https://app.example/cb\"],\"scopes\":[\"openid\"]}",
		   TB_OK, NULL));

	struct tb_oidc_authz_params q = {.response_type = "code",
					 .client_id = "rp2",
					 .redirect_uri = "https://rp.example/cb",
					 .scope = "openid enterprise",
					 .state = "s t",
					 .nonce = "n-1",
					 .code_challenge = challenge,
					 .code_challenge_method = "S256"};
	struct tb_oidc_user nobody = {0};

	/* never redirected: unknown client, other redirect_uri */
	struct tb_oidc_authz_params bad = q;
	bad.client_id = "nope";
	struct tb_oidc_authz_result res = authz(f, &bad, &nobody);
	assert_int_equal(res.kind, TB_OIDC_AUTHZ_PAGE);
	assert_string_equal(res.err.field, "client_id");
	bad = q;
	bad.redirect_uri = "https://rp.example/cb/";
	res = authz(f, &bad, &nobody);
	assert_int_equal(res.kind, TB_OIDC_AUTHZ_PAGE);
	assert_string_equal(res.err.field, "redirect_uri");

	/* redirected with an error: plain PKCE, unknown scope, public client without PKCE */
	bad = q;
	bad.code_challenge_method = "plain";
	res = authz(f, &bad, &alice);
	assert_int_equal(res.kind, TB_OIDC_AUTHZ_REDIRECT);
	assert_string_equal(qparam(&f->arena, res.location, "error"), "invalid_request");
	assert_string_equal(qparam(&f->arena, res.location, "state"), "s t");
	bad = q;
	bad.scope = "openid phone";
	res = authz(f, &bad, &alice);
	assert_string_equal(qparam(&f->arena, res.location, "error"), "invalid_scope");
	bad = q;
	bad.client_id = "app";
	bad.redirect_uri = "https://app.example/cb";
	bad.scope = "openid";
	bad.code_challenge = bad.code_challenge_method = NULL;
	res = authz(f, &bad, &alice);
	assert_string_equal(qparam(&f->arena, res.location, "error"), "invalid_request");

	/* anonymous: to the login page, then back; prompt=none: login_required */
	res = authz(f, &q, &nobody);
	static const char login[] = "/login?next=%2Fapi%2Fv1%2Foidc%2Fauthorize%3Fresume%3D";
	if (strncmp(res.location, login, strlen(login)))
		print_message("location %s\n", res.location);
	assert_true(!strncmp(res.location, login, strlen(login)));
	const char *next = qparam(&f->arena, res.location, "next");
	struct tb_oidc_authz_params resume = {.resume = strchr(next, '=') + 1};
	struct tb_oidc_authz_params none = q;
	none.prompt = "none";
	res = authz(f, &none, &nobody);
	assert_string_equal(qparam(&f->arena, res.location, "error"), "login_required");

	/* logged in, no consent yet: to the consent page; prompt=none: consent_required */
	res = authz(f, &none, &alice);
	assert_string_equal(qparam(&f->arena, res.location, "error"), "consent_required");
	res = authz(f, &resume, &alice);
	assert_true(!strncmp(res.location, "/consent?request=", 17));
	const char *rid = res.location + 17;

	json_t *cj;
	struct tb_err err = {0};
	struct tb_oidc_user bob = alice;
	bob.user_id = 99;
	assert_int_equal(tb_oidc_consent_get(f->db, rid, &bob, TB_OIDC_EN, &cj, &err),
			 TB_ENOTFOUND);
	assert_int_equal(tb_oidc_consent_get(f->db, rid, &alice, TB_OIDC_EN, &cj, &err), TB_OK);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(cj, "client"), "name")), "RP two");
	assert_int_equal(json_array_size(json_object_get(cj, "scopes")), 2);
	assert_string_equal(json_string_value(json_object_get(cj, "redirect_host")), "rp.example");
	json_decref(cj);
	const char *to;
	assert_int_equal(tb_oidc_consent_decide(f->db, rid, &alice, true, &f->arena, &to, &err),
			 TB_OK);
	const char *code = qparam(&f->arena, to, "code");
	assert_non_null(code);
	assert_string_equal(qparam(&f->arena, to, "iss"), "http://127.0.0.1:9");
	assert_string_equal(qparam(&f->arena, to, "state"), "s t");
	/* the request is finished */
	assert_int_equal(tb_oidc_consent_decide(f->db, rid, &alice, true, &f->arena, &to, &err),
			 TB_ENOTFOUND);

	/* consent remembered: a second authorization goes straight back with a code */
	res = authz(f, &q, &alice);
	const char *code2 = qparam(&f->arena, res.location, "code");
	assert_non_null(code2);

	/* token: wrong secret, no PKCE verifier, then right */
	struct tb_oidc_token_params tp = {.grant_type = "authorization_code",
					  .code = code,
					  .redirect_uri = "https://rp.example/cb",
					  .code_verifier = verifier,
					  .basic_id = "rp2",
					  .basic_secret = "wrong"};
	json_t *out;
	struct tb_oidc_error oe;
	token_call(f, &tp, &out, &oe);
	assert_int_equal(oe.status, 401);
	assert_string_equal(oe.error, "invalid_client");
	assert_true(oe.basic_challenge);
	tp.basic_secret = secret;
	tp.code_verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX";
	token_call(f, &tp, &out, &oe);
	assert_string_equal(oe.error, "invalid_grant");
	tp.code_verifier = verifier;
	token_call(f, &tp, &out, &oe);
	assert_int_equal(oe.status, 0);
	const char *idt = json_string_value(json_object_get(out, "id_token"));
	assert_non_null(idt);
	char access[2048], refresh[64];
	snprintf(access, sizeof(access), "%s",
		 json_string_value(json_object_get(out, "access_token")));
	snprintf(refresh, sizeof(refresh), "%s",
		 json_string_value(json_object_get(out, "refresh_token")));
	struct tb_buf h, p;
	tb_buf_init(&h, 0);
	tb_buf_init(&p, 0);
	assert_int_equal(tb_jws_parse(idt, strlen(idt), &h, &p), TB_OK);
	json_t *claims = json_loads(p.data, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(claims, "aud")), "rp2");
	assert_string_equal(json_string_value(json_object_get(claims, "nonce")), "n-1");
	assert_string_equal(json_string_value(json_object_get(claims, "acr")), "tongban:L2");
	assert_string_equal(json_string_value(json_object_get(claims, "sid")), "7");
	char hint[2048];
	snprintf(hint, sizeof(hint), "%s", idt);
	json_decref(claims);
	tb_buf_release(&h);
	tb_buf_release(&p);
	json_decref(out);

	/* userinfo: sub and the enterprise acted for */
	assert_int_equal(tb_oidc_userinfo(f->db, access, &out, &oe), TB_OK);
	assert_int_equal(oe.status, 0);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(out, "enterprise"), "uscc")),
	    "91350100M000100Y43");
	json_decref(out);

	/* refresh rotates; the old one used again revokes the family */
	struct tb_oidc_token_params rp = {.grant_type = "refresh_token",
					  .refresh_token = refresh,
					  .basic_id = "rp2",
					  .basic_secret = secret};
	token_call(f, &rp, &out, &oe);
	assert_int_equal(oe.status, 0);
	char refresh2[64];
	snprintf(refresh2, sizeof(refresh2), "%s",
		 json_string_value(json_object_get(out, "refresh_token")));
	assert_string_not_equal(refresh, refresh2);
	json_decref(out);
	token_call(f, &rp, &out, &oe);
	assert_string_equal(oe.error, "invalid_grant");
	rp.refresh_token = refresh2;
	token_call(f, &rp, &out, &oe);
	assert_string_equal(oe.error, "invalid_grant");
	assert_int_equal(tb_oidc_userinfo(f->db, access, &out, &oe), TB_OK);
	assert_string_equal(oe.error, "invalid_token");

	/* a replayed code fails and revokes what the code gave */
	tp.code = code2;
	token_call(f, &tp, &out, &oe);
	assert_int_equal(oe.status, 0);
	snprintf(access, sizeof(access), "%s",
		 json_string_value(json_object_get(out, "access_token")));
	json_decref(out);
	token_call(f, &tp, &out, &oe);
	assert_string_equal(oe.error, "invalid_grant");
	assert_int_equal(tb_oidc_userinfo(f->db, access, &out, &oe), TB_OK);
	assert_string_equal(oe.error, "invalid_token");

	/* logout: exact post-logout redirect only */
	struct tb_oidc_logout_result lr;
	assert_int_equal(tb_oidc_end_session(f->db, hint, "https://rp.example/bye2", NULL, NULL,
					     &alice, &f->arena, &lr, &err),
			 TB_EINVAL);
	assert_int_equal(tb_oidc_end_session(f->db, hint, "https://rp.example/bye", "x", NULL,
					     &alice, &f->arena, &lr, &err),
			 TB_OK);
	assert_true(lr.end_current);
	assert_string_equal(lr.location, "https://rp.example/bye?state=x");
	hint[strlen(hint) - 3] ^= 1;
	assert_int_equal(
	    tb_oidc_end_session(f->db, hint, NULL, NULL, NULL, &alice, &f->arena, &lr, &err),
	    TB_EINVAL);
}

static void test_rotation(void **state)
{
	struct fixture *f = *state;
	json_t *before, *after;
	struct tb_err err = {0};
	assert_int_equal(tb_oidc_jwks(f->db, &before, &err), TB_OK);
	char kid[32];
	assert_int_equal(tb_oidc_rotate_key(f->db, kid, &err), TB_OK);
	assert_int_equal(tb_oidc_jwks(f->db, &after, &err), TB_OK);
	json_t *keys = json_object_get(after, "keys");
	assert_int_equal(json_array_size(keys),
			 json_array_size(json_object_get(before, "keys")) + 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(keys, 0), "kid")),
			    kid);
	for (size_t i = 0; i < json_array_size(keys); i++)
		assert_null(json_object_get(json_array_get(keys, i), "d"));
	json_decref(before);
	json_decref(after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clients),
	    cmocka_unit_test(test_flow),
	    cmocka_unit_test(test_rotation),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
