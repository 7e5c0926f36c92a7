/* identity.h: who people are and how they prove it (docs/identity.md).
 *
 * Accounts of natural persons and staff (one table, two kinds: an official is a
 * citizen too and has two accounts), enterprises and the agents their legal
 * representatives authorise; real-name assurance through a pluggable verifier;
 * Argon2id passwords; TOTP for staff; sessions kept hashed in the database (nodes are
 * stateless); failed-login counts kept there too; an audit log.
 *
 * Personal data (ID numbers, phones, TOTP secrets) is sealed at rest with the data key
 * (tb_identity_init) and the associated data "<table>.<column>.<row id>"; it is found
 * by blind index and shown masked to anyone but its holder.
 *
 * Functions that take `now` take UNIX seconds, so that tests can move the clock. */
#ifndef TB_IDENTITY_IDENTITY_H
#define TB_IDENTITY_IDENTITY_H

#include "base/tb.h"
#include "base/principal.h"
#include "base/crypto.h"

#include <jansson.h>

struct tb_db;
struct tb_store;

/* ---- set-up ---- */

struct tb_identity_config {
	/* The data key: a file holding 64 hex characters (32 bytes). NULL: the caller
	 * must have set one with tb_identity_set_key. */
	const char *key_file;
	/* Create key_file (0600, with a warning in the log) when it does not exist. */
	bool create_key;
	/* The built-in verifier's offline registry (JSON array of {name, id_number});
	 * a person found there gets assurance 2. NULL: none. */
	const char *registry_file;
	long session_ttl;  /* absolute lifetime in seconds (default 43200, 12 h) */
	long session_idle; /* idle timeout in seconds (default 1800) */
	bool cookie_secure;
	/* Argon2id parameters; 0: libsodium's INTERACTIVE ones. */
	unsigned long long pwhash_ops;
	size_t pwhash_mem;
};

/* Once, before any other call (not thread-safe); then every function may be called
 * from any thread. */
tb_rc tb_identity_init(const struct tb_identity_config *cfg, struct tb_err *err);
void tb_identity_shutdown(void);
/* The current configuration (after defaults were applied). */
const struct tb_identity_config *tb_identity_config(void);

/* ---- real-name verification (pluggable) ---- */

/* A verifier decides the assurance level a name + ID number earns at registration:
 * TB_EINVAL (err naming the field) when the number cannot be right, else *level 1
 * (format only) or 2 (confirmed against a registry). */
struct tb_verifier {
	const char *name;
	tb_rc (*check)(void *ctx, const char *name, const char *id_number, int *level,
		       struct tb_err *err);
	void *ctx;
};
/* Replace the verifier (NULL: back to the built-in offline checker). */
void tb_identity_set_verifier(const struct tb_verifier *v);

/* 0 when p's assurance is at least level, else TB_EFORBIDDEN with a message saying
 * what is missing (for services that require a level). */
tb_rc tb_identity_require_assurance(const struct tb_principal *p, int level, struct tb_err *err);

/* ---- accounts ---- */

struct tb_person_in {
	const char *name, *id_number, *phone, *password;
};
/* Validate and register a person. A new account gets *id; when the ID number or phone
 * is already registered nothing changes and *id is 0 (the HTTP answer is the same, so
 * nobody learns which numbers have accounts). */
tb_rc tb_identity_register(struct tb_db *db, const struct tb_person_in *in, int64_t *id,
			   struct tb_err *err);

struct tb_staff_in {
	const char *name, *id_number, *phone;
	const char *department, *region;
	unsigned roles;
	const char *password;	 /* NULL: a random one is made and returned */
	const char *totp_secret; /* base32; NULL: a random one is made */
};
struct tb_staff_out {
	int64_t id;
	char password[32];    /* the initial password (shown once) */
	char totp_secret[64]; /* base32 */
	char totp_uri[256];   /* otpauth://totp/... */
};
/* Create a staff account with grants of `roles` over its department and region (a
 * platform_admin or auditor grant covers everything). TB_ECONFLICT if staff with that
 * ID number exists. */
tb_rc tb_identity_staff_create(struct tb_db *db, const struct tb_staff_in *in, int64_t actor,
			       struct tb_staff_out *out, struct tb_err *err);
/* `tongban admin bootstrap`: the first platform admin; TB_ECONFLICT when one exists. */
tb_rc tb_identity_bootstrap(struct tb_store *store, const char *name, const char *id_number,
			    const char *phone, struct tb_staff_out *out, struct tb_err *err);
/* `tongban import people FILE`: persons, staff, enterprises and agents of a JSON file
 * (data/demo/people.json shows the format), sealed on the way in; all or nothing.
 * Accounts that exist are left as they are. */
tb_rc tb_identity_import_people(struct tb_store *store, const char *path, int *count,
				struct tb_err *err);

/* ---- login and sessions ---- */

enum tb_login_result {
	TB_LOGIN_OK,
	TB_LOGIN_INVALID,	/* unknown account or wrong password: one answer */
	TB_LOGIN_TOTP_REQUIRED, /* staff, right password, no code */
	TB_LOGIN_TOTP_INVALID,	/* staff, wrong or replayed code */
	TB_LOGIN_LOCKED,	/* too many failures; retry_after seconds */
};
struct tb_login_in {
	const char *login; /* ID number or phone */
	const char *password;
	bool staff;
	const char *totp;
	bool bearer;	/* a bearer session (API client) rather than a cookie one */
	const char *ip; /* source address, for counting failures */
	const char *user_agent;
};
struct tb_login_out {
	enum tb_login_result result;
	long retry_after;
	char token[64]; /* the session token (cookie value or bearer token) */
	int64_t user_id, session_id;
	long long expires_at;
};
tb_rc tb_identity_login(struct tb_db *db, const struct tb_login_in *in, long long now,
			struct tb_login_out *out, struct tb_err *err);

/* Fill p from a session token seen on `channel` ("cookie" or "bearer"). An unknown,
 * revoked, expired or idle token leaves p anonymous and returns TB_OK. Touches
 * last_seen_at at most once a minute. */
tb_rc tb_identity_session_lookup(struct tb_db *db, const char *token, bool cookie, long long now,
				 struct tb_principal *p, struct tb_err *err);
/* End one session (of user_id; TB_ENOTFOUND if it is not theirs), or every session of
 * a user except `keep` (0: all). */
tb_rc tb_identity_session_end(struct tb_db *db, int64_t user_id, int64_t session_id, long long now,
			      struct tb_err *err);
tb_rc tb_identity_sessions_end_all(struct tb_db *db, int64_t user_id, int64_t keep, long long now,
				   struct tb_err *err);
/* {items:[{id, created_at, last_seen_at, expires_at, ip, user_agent, current}]} */
tb_rc tb_identity_sessions_list(struct tb_db *db, const struct tb_principal *p, long long now,
				json_t **out, struct tb_err *err);
/* Act for an enterprise (uscc) or for oneself (NULL); needs a live capacity. */
tb_rc tb_identity_session_act(struct tb_db *db, struct tb_principal *p, const char *uscc,
			      long long now, struct tb_err *err);

/* ---- for blocks that keep personal data of their own (cases) ---- */

/* The data key (base/crypto.h tb_seal, tb_blind_index) after tb_identity_init. */
const struct tb_seal_key *tb_identity_data_key(void);
/* A GB 11643 ID number checked into its normal form (check character upper case),
 * or a phone number (mainland mobile); false with err naming field otherwise. */
bool tb_identity_check_id_number(const char *in, const char *field, char out[19],
				 struct tb_err *err);
bool tb_identity_check_phone(const char *in, const char *field, char out[12], struct tb_err *err);
/* The blind index of a normalised value, as users.id_number_index holds it. */
tb_rc tb_identity_index(const char *value, char hex[65]);
/* The person account of a checked ID number: *id (0: none). */
tb_rc tb_identity_find_person(struct tb_db *db, const char *id_number, int64_t *id);
/* Staff holding `role` through a grant that covers department and region (as
 * tb_principal_has_role decides): fn(ctx, user_id) once per user. */
tb_rc tb_identity_staff_covering(struct tb_db *db, unsigned role, const char *department,
				 const char *region, void (*fn)(void *ctx, int64_t user_id),
				 void *ctx);

/* ---- what blocks and the OIDC provider read ---- */

/* The session body of GET /api/v1/session for p. */
json_t *tb_identity_session_json(const struct tb_principal *p);

enum tb_claim_scope {
	TB_CLAIMS_PROFILE = 1u << 0,	/* name, assurance (acr "tongban:l1".."l3") */
	TB_CLAIMS_PHONE = 1u << 1,	/* phone_number, phone_number_verified */
	TB_CLAIMS_IDCARD = 1u << 2,	/* id_number: masked unless full_id */
	TB_CLAIMS_ENTERPRISE = 1u << 3, /* enterprises: [{uscc, name, capacity}] */
};
/* Claims about a user for an OIDC ID token / userinfo: always "sub" (the user id as
 * a decimal string) and "kind"; more per scope flags. */
tb_rc tb_identity_claims(struct tb_db *db, int64_t user_id, unsigned scopes, bool full_id,
			 json_t **out, struct tb_err *err);

/* The holder's own record: {id, kind, name, id_number, phone (full), assurance,
 * created_at}. */
tb_rc tb_identity_me(struct tb_db *db, int64_t user_id, json_t **out, struct tb_err *err);
tb_rc tb_identity_set_phone(struct tb_db *db, int64_t user_id, const char *phone,
			    struct tb_err *err);
/* Check the current password, set the new one, end the user's other sessions. */
tb_rc tb_identity_change_password(struct tb_db *db, const struct tb_principal *p,
				  const char *current, const char *next, long long now,
				  struct tb_err *err);

/* Append to the audit log (who, when, what, about whom, why). */
/* Forget sessions that ended (expired or revoked) over 30 days before now and failure
 * counts whose window and lock are over. Run by the scheduler once across nodes. */
tb_rc tb_identity_purge(struct tb_db *db, long long now, struct tb_err *err);
tb_rc tb_identity_audit(struct tb_db *db, int64_t actor, const char *action, int64_t target,
			const char *reason, const char *detail);

/* ---- enterprises and agents ---- */

struct tb_enterprise_in {
	const char *name, *uscc, *legal_rep_name, *legal_rep_id_number, *region;
};
tb_rc tb_identity_enterprise_create(struct tb_db *db, const struct tb_principal *p,
				    const struct tb_enterprise_in *in, json_t **out,
				    struct tb_err *err);
/* Enterprises p can act for: {items:[{uscc, name, capacity, scope, expires_at}]} */
tb_rc tb_identity_my_enterprises(struct tb_db *db, const struct tb_principal *p, const char *today,
				 json_t **out, struct tb_err *err);
struct tb_agent_in {
	const char *id_number, *name, *expires_on; /* YYYY-MM-DD */
	json_t *scope;				   /* ["*"] or catalog codes */
	bool allow_past; /* imports of past records: an expiry before today */
};
tb_rc tb_identity_agent_grant(struct tb_db *db, const struct tb_principal *p, const char *uscc,
			      const struct tb_agent_in *in, json_t **out, struct tb_err *err);
tb_rc tb_identity_agent_list(struct tb_db *db, const struct tb_principal *p, const char *uscc,
			     const char *today, json_t **out, struct tb_err *err);
tb_rc tb_identity_agent_revoke(struct tb_db *db, const struct tb_principal *p, const char *uscc,
			       int64_t grant_id, struct tb_err *err);
/* Grants p made as legal representative, with status active|expired|revoked. */
tb_rc tb_identity_my_authorisations(struct tb_db *db, const struct tb_principal *p,
				    const char *today, json_t **out, struct tb_err *err);

/* ---- staff administration ---- */

tb_rc tb_identity_staff_list(struct tb_db *db, const struct tb_principal *p, int page, int per_page,
			     json_t **out, struct tb_err *err);
tb_rc tb_identity_staff_get(struct tb_db *db, int64_t id, json_t **out, struct tb_err *err);
tb_rc tb_identity_staff_set_roles(struct tb_db *db, const struct tb_principal *p, int64_t id,
				  unsigned roles, struct tb_err *err);
/* A clerk saw the person at a window: raise to L3 (audited). */
tb_rc tb_identity_raise_assurance(struct tb_db *db, const struct tb_principal *p,
				  const char *id_number, const char *name, int level,
				  const char *reason, json_t **out, struct tb_err *err);
/* A person as staff see them: masked, or with reveal the full ID number and an audit
 * record saying who and why. */
tb_rc tb_identity_person_get(struct tb_db *db, const struct tb_principal *p, int64_t id,
			     bool reveal, const char *reason, json_t **out, struct tb_err *err);
tb_rc tb_identity_audit_list(struct tb_db *db, int page, int per_page, json_t **out,
			     struct tb_err *err);

#endif
