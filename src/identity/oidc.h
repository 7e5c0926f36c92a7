/* oidc.h: tongban as an OpenID Connect provider (docs/oidc.md): signing keys, clients,
 * the authorization code flow with PKCE, refresh tokens with rotation, consent, userinfo
 * and RP-initiated logout. The logic here knows no HTTP; oidc_http.c turns requests
 * into these calls.
 *
 * Secrets (authorization codes, access and refresh tokens) are 256-bit random values
 * handed out once and stored only as SHA-256 hashes; client secrets as a keyed hash
 * (HMAC-SM3 under the blind-index key). Signing keys are ES256 (base/jose.h), the
 * private half sealed (base/crypto.h) in table oidc_keys. */
#ifndef TB_IDENTITY_OIDC_H
#define TB_IDENTITY_OIDC_H

#include "base/arena.h"
#include "base/crypto.h"
#include "base/tb.h"

#include <jansson.h>

struct tb_store;
struct tb_db;

/* Scopes, as bits. */
enum tb_oidc_scope {
	TB_OIDC_OPENID = 1u << 0,
	TB_OIDC_PROFILE = 1u << 1,
	TB_OIDC_PHONE = 1u << 2,
	TB_OIDC_IDCARD = 1u << 3,
	TB_OIDC_ENTERPRISE = 1u << 4,
};
#define TB_OIDC_SCOPE_ALL 0x1fu
#define TB_OIDC_NSCOPES	  5
/* "openid" ... for bit i. */
extern const char *const tb_oidc_scope_names[TB_OIDC_NSCOPES];

/* Lifetimes, seconds. */
#define TB_OIDC_CODE_TTL    60
#define TB_OIDC_REQUEST_TTL 600
#define TB_OIDC_ACCESS_TTL  600
#define TB_OIDC_ID_TTL	    600
#define TB_OIDC_REFRESH_TTL (30 * 24 * 3600)

/* What the provider needs from the identity block, passed in so that the logic can be
 * tested with the real store and no server. */
struct tb_oidc_config {
	const char *issuer; /* "https://sso.example" (no trailing slash) */
	/* Seals the signing keys, hashes client secrets and pairwise subjects. NULL: the
	 * identity block's data key (tb_identity_init first). */
	const struct tb_seal_key *keys;
	/* The claims of `scopes` (profile, phone, idcard) of a user, added to out. full_id:
	 * the idcard scope releases the full number (the callee writes the audit record,
	 * naming client_id as the reader). */
	tb_rc (*claims)(struct tb_db *db, int64_t user_id, unsigned scopes, bool full_id,
			const char *client_id, json_t *out, struct tb_err *err);
	/* End a user's session (RP-initiated logout); one already ended is not an error. */
	tb_rc (*end_session)(struct tb_db *db, int64_t user_id, int64_t session_id,
			     struct tb_err *err);
};

/* The identity block's implementations of the two callbacks above (claims from
 * tb_identity_claims with an audit record for each full ID number released; sessions
 * ended with tb_identity_session_end). */
tb_rc tb_oidc_identity_claims(struct tb_db *db, int64_t user_id, unsigned scopes, bool full_id,
			      const char *client_id, json_t *out, struct tb_err *err);
tb_rc tb_oidc_identity_end_session(struct tb_db *db, int64_t user_id, int64_t session_id,
				   struct tb_err *err);

/* Load (or create, on first start) the current signing key. Called once before the
 * server starts; cfg must outlive the provider. */
tb_rc tb_oidc_init(struct tb_store *s, const struct tb_oidc_config *cfg, struct tb_err *err);
void tb_oidc_shutdown(void);
/* A new signing key becomes current; the old one is retired but stays in the JWKS.
 * kid receives the new key's id. */
tb_rc tb_oidc_rotate_key(struct tb_db *db, char kid[32], struct tb_err *err);

json_t *tb_oidc_discovery(void);
tb_rc tb_oidc_jwks(struct tb_db *db, json_t **out, struct tb_err *err);

/* ---- clients (platform admins register them) ---- */

/* body: {client_id?, name, type: "public"|"confidential", redirect_uris: [...],
 * post_logout_redirect_uris?: [...], scopes: [...], full_id_number?: bool}.
 * out: the client as JSON, with "client_secret" once for a confidential client.
 * TB_EINVAL names the field; TB_ECONFLICT when the client_id exists. */
tb_rc tb_oidc_client_create(struct tb_db *db, json_t *body, int64_t created_by, json_t **out,
			    struct tb_err *err);
tb_rc tb_oidc_client_get(struct tb_db *db, const char *client_id, json_t **out, struct tb_err *err);
tb_rc tb_oidc_client_list(struct tb_db *db, int page, int per_page, json_t **out,
			  struct tb_err *err);

/* ---- the end user ---- */

/* The logged-in user of a request, as the provider sees it (user_id 0: nobody). */
struct tb_oidc_user {
	int64_t user_id, session_id;
	long long auth_time; /* UNIX seconds of the login */
	int assurance;	     /* 1..3: acr tongban:L1..L3 */
	int aal;	     /* 1 password, 2 password + TOTP */
	char acting_uscc[19], acting_name[256], acting_capacity[16]; /* "" when none */
};

/* ---- authorization endpoint ---- */

struct tb_oidc_authz_params {
	const char *response_type, *client_id, *redirect_uri, *scope, *state, *nonce,
	    *code_challenge, *code_challenge_method, *prompt, *max_age, *resume;
	bool has_request_object; /* request or request_uri given */
};

enum tb_oidc_authz_kind {
	TB_OIDC_AUTHZ_PAGE,	/* never redirect: 400 problem (bad client or redirect_uri) */
	TB_OIDC_AUTHZ_REDIRECT, /* 302 to `location` (the client's redirect_uri, or /login,
				   or /consent) */
};

struct tb_oidc_authz_result {
	enum tb_oidc_authz_kind kind;
	const char *location; /* in the arena */
	struct tb_err err;    /* PAGE: field and message */
};

tb_rc tb_oidc_authorize(struct tb_db *db, const struct tb_oidc_authz_params *q,
			const struct tb_oidc_user *u, struct tb_arena *a,
			struct tb_oidc_authz_result *res);

/* ---- consent (the portal's consent page) ---- */

enum tb_oidc_lang { TB_OIDC_ZH_CN, TB_OIDC_ZH_HK, TB_OIDC_EN };
/* TB_ENOTFOUND for an unknown, expired or finished request, or another user's. */
tb_rc tb_oidc_consent_get(struct tb_db *db, const char *id, const struct tb_oidc_user *u,
			  enum tb_oidc_lang lang, json_t **out, struct tb_err *err);
tb_rc tb_oidc_consent_decide(struct tb_db *db, const char *id, const struct tb_oidc_user *u,
			     bool allow, struct tb_arena *a, const char **redirect_to,
			     struct tb_err *err);

/* ---- token, userinfo, logout ---- */

/* An OAuth error (RFC 6749 §5.2, RFC 6750 §3.1). status 0: none. */
struct tb_oidc_error {
	unsigned status;
	const char *error;
	char description[256];
	bool basic_challenge; /* 401 invalid_client: WWW-Authenticate: Basic */
};

struct tb_oidc_token_params {
	const char *grant_type, *code, *redirect_uri, *code_verifier, *refresh_token, *scope;
	const char *client_id;		     /* from the body (public clients) */
	const char *client_secret;	     /* from the body: refused */
	const char *basic_id, *basic_secret; /* from HTTP Basic, decoded */
	bool basic_malformed;
};

/* out: the token response. TB_OK with oe->status 0, or TB_OK with an OAuth error in oe;
 * other codes are store failures. */
tb_rc tb_oidc_token(struct tb_db *db, const struct tb_oidc_token_params *p, json_t **out,
		    struct tb_oidc_error *oe);
tb_rc tb_oidc_userinfo(struct tb_db *db, const char *access_token, json_t **out,
		       struct tb_oidc_error *oe);

struct tb_oidc_logout_result {
	bool end_current;     /* the hint names the current session: it has been ended */
	const char *location; /* NULL: no (valid) post-logout redirect: show a page */
};
/* TB_EINVAL (field named) for a hint that is not ours or a redirect that is not
 * registered: answered as a 400 page, never redirected. */
tb_rc tb_oidc_end_session(struct tb_db *db, const char *id_token_hint,
			  const char *post_logout_redirect_uri, const char *state,
			  const char *client_id, const struct tb_oidc_user *u, struct tb_arena *a,
			  struct tb_oidc_logout_result *res, struct tb_err *err);

#endif
