/* identity_http.c: the identity routes (docs/identity.md) and the authenticate
 * callback main.c gives the HTTP edge. */
#include "identity/identity_http.h"
#include "identity/identity.h"
#include "base/jsonv.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long now_s(void)
{
	return (long long)time(NULL);
}

tb_rc tb_identity_authenticate(struct tb_req *r, struct tb_err *err)
{
	const char *auth = tb_http_header(r, "Authorization");
	const char *token = NULL;
	bool cookie = false;
	if (auth && !strncasecmp(auth, "Bearer ", 7)) {
		token = auth + 7;
	} else if (!auth) {
		token = tb_http_cookie(r, "tb_session");
		cookie = true;
	}
	if (!token)
		return TB_OK;
	struct tb_db *db = tb_store_db(r->app->store, err);
	if (!db)
		return TB_EUNAVAIL;
	return tb_identity_session_lookup(db, token, cookie, now_s(), &r->principal, err);
}

/* A string member that must be present when required and a string when present. */
static bool need_str(struct tb_req *r, json_t *body, const char *key, bool required,
		     const char **out)
{
	struct tb_err err = {0};
	if (!tb_jv_str(body, "", key, required, 256, out, &err)) {
		tb_http_reply_rc(r, TB_EINVAL, &err);
		return false;
	}
	return true;
}

static void set_cookie(struct tb_req *r, const char *token, long max_age)
{
	char *c = tb_arena_printf(
	    &r->arena, "tb_session=%s; Path=/; HttpOnly; SameSite=Lax%s%s", token,
	    tb_identity_config()->cookie_secure ? "; Secure" : "",
	    max_age >= 0 ? tb_arena_printf(&r->arena, "; Max-Age=%ld", max_age) : "");
	tb_http_add_header(r, "Set-Cookie", c);
}

static void reply_session(struct tb_req *r, unsigned status)
{
	tb_http_reply_json(r, status, tb_identity_session_json(&r->principal));
}

/* ---- persons ---- */

static void register_person(struct tb_req *r)
{
	static const char *const allowed[] = {"name", "id_number", "phone", "password", NULL};
	json_t *body = tb_http_json_object(r, allowed);
	if (!body)
		return;
	struct tb_person_in in;
	if (!need_str(r, body, "name", true, &in.name) ||
	    !need_str(r, body, "id_number", true, &in.id_number) ||
	    !need_str(r, body, "phone", true, &in.phone) ||
	    !need_str(r, body, "password", true, &in.password)) {
		json_decref(body);
		return;
	}
	struct tb_db *db = tb_http_db(r);
	struct tb_err err = {0};
	int64_t id;
	tb_rc rc = db ? tb_identity_register(db, &in, &id, &err) : TB_EUNAVAIL;
	json_decref(body);
	if (!db)
		return;
	if (rc)
		return tb_http_reply_rc(r, rc, &err);
	/* the same answer whether the account is new or existed */
	tb_http_reply_json(
	    r, 201,
	    json_pack("{s:s,s:s}", "status", "registered", "message",
		      "如该证件号码或手机号尚未注册，账户已创建，请用证件号码或手机号"
		      "登录。If the ID number or phone was not registered yet, the "
		      "account now exists: log in with either."));
}

static void login(struct tb_req *r)
{
	static const char *const allowed[] = {"login", "password", "kind", "totp", "bearer", NULL};
	static const char *const kinds[] = {"person", "staff", NULL};
	json_t *body = tb_http_json_object(r, allowed);
	if (!body)
		return;
	struct tb_login_in in = {0};
	const char *kind = NULL;
	struct tb_err err = {0};
	if (!need_str(r, body, "login", true, &in.login) ||
	    !need_str(r, body, "password", true, &in.password) ||
	    !need_str(r, body, "totp", false, &in.totp)) {
		json_decref(body);
		return;
	}
	if (!tb_jv_enum(body, "", "kind", false, kinds, &kind, &err) ||
	    !tb_jv_bool(body, "", "bearer", false, &in.bearer, &err)) {
		json_decref(body);
		return tb_http_reply_rc(r, TB_EINVAL, &err);
	}
	in.staff = kind && !strcmp(kind, "staff");
	char ip[64];
	tb_http_client_ip(r, ip);
	in.ip = ip;
	in.user_agent = tb_http_header(r, "User-Agent");
	struct tb_db *db = tb_http_db(r);
	if (!db) {
		json_decref(body);
		return;
	}
	struct tb_login_out out;
	tb_rc rc = tb_identity_login(db, &in, now_s(), &out, &err);
	json_decref(body);
	if (rc)
		return tb_http_reply_rc(r, rc, &err);
	switch (out.result) {
	case TB_LOGIN_OK:
		break;
	case TB_LOGIN_LOCKED:
		tb_http_add_header(r, "Retry-After",
				   tb_arena_printf(&r->arena, "%ld", out.retry_after));
		return tb_http_reply_error(r, 429, "too-many-attempts", NULL,
					   "too many failed attempts: try again in %ld seconds",
					   out.retry_after);
	case TB_LOGIN_INVALID:
		return tb_http_reply_error(r, 401, "invalid-credentials", NULL,
					   "the login or the password is wrong");
	case TB_LOGIN_TOTP_REQUIRED:
		return tb_http_reply_error(r, 401, "totp-required", "totp",
					   "staff log in with a one-time code (TOTP) too");
	case TB_LOGIN_TOTP_INVALID:
		return tb_http_reply_error(r, 401, "totp-invalid", "totp",
					   "the one-time code is wrong, expired or already used");
	}
	/* answer as the new session */
	if ((rc = tb_identity_session_lookup(db, out.token, !in.bearer, now_s(), &r->principal,
					     &err)))
		return tb_http_reply_rc(r, rc, &err);
	json_t *s = tb_identity_session_json(&r->principal);
	if (in.bearer) {
		json_object_set_new(s, "access_token", json_string(out.token));
		json_object_set_new(s, "token_type", json_string("Bearer"));
	} else {
		set_cookie(r, out.token, tb_identity_config()->session_ttl);
	}
	tb_http_reply_json(r, 200, s);
}

static void get_session(struct tb_req *r)
{
	reply_session(r, 200);
}

static void logout(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	tb_rc rc = tb_identity_session_end(db, r->principal.user_id, r->principal.session_id,
					   now_s(), &err);
	if (rc)
		return tb_http_reply_rc(r, rc, &err);
	if (r->principal.via_cookie)
		set_cookie(r, "", 0);
	tb_http_reply(r, 204, NULL, NULL, 0);
}

static void logout_all(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	tb_rc rc = tb_identity_sessions_end_all(db, r->principal.user_id, 0, now_s(), &err);
	if (rc)
		return tb_http_reply_rc(r, rc, &err);
	if (r->principal.via_cookie)
		set_cookie(r, "", 0);
	tb_http_reply(r, 204, NULL, NULL, 0);
}

static void list_sessions(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = tb_identity_sessions_list(db, &r->principal, now_s(), &out, &err);
	if (rc)
		return tb_http_reply_rc(r, rc, &err);
	tb_http_reply_json(r, 200, out);
}

static bool param_id(struct tb_req *r, const char *name, int64_t *out)
{
	const char *s = tb_http_param(r, name);
	char *end;
	long long v = s ? strtoll(s, &end, 10) : 0;
	if (!s || !*s || *end || v < 1) {
		tb_http_reply_error(r, 404, "not-found", name, "no such %s", name);
		return false;
	}
	*out = v;
	return true;
}

static void delete_session(struct tb_req *r)
{
	int64_t id;
	if (!param_id(r, "id", &id))
		return;
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	tb_rc rc = tb_identity_session_end(db, r->principal.user_id, id, now_s(), &err);
	if (rc)
		return tb_http_reply_rc(r, rc, &err);
	tb_http_reply(r, 204, NULL, NULL, 0);
}

static void get_me(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = tb_identity_me(db, r->principal.user_id, &out, &err);
	if (rc)
		return tb_http_reply_rc(r, rc, &err);
	tb_http_reply_json(r, 200, out);
}

static void patch_me(struct tb_req *r)
{
	static const char *const allowed[] = {"phone", NULL};
	json_t *body = tb_http_json_object(r, allowed);
	if (!body)
		return;
	const char *phone;
	if (!need_str(r, body, "phone", true, &phone)) {
		json_decref(body);
		return;
	}
	struct tb_db *db = tb_http_db(r);
	struct tb_err err = {0};
	tb_rc rc = db ? tb_identity_set_phone(db, r->principal.user_id, phone, &err) : TB_EUNAVAIL;
	json_decref(body);
	if (!db)
		return;
	if (rc)
		return tb_http_reply_rc(r, rc, &err);
	get_me(r);
}

static void change_password(struct tb_req *r)
{
	static const char *const allowed[] = {"current_password", "new_password", NULL};
	json_t *body = tb_http_json_object(r, allowed);
	if (!body)
		return;
	const char *cur, *next;
	if (!need_str(r, body, "current_password", true, &cur) ||
	    !need_str(r, body, "new_password", true, &next)) {
		json_decref(body);
		return;
	}
	struct tb_db *db = tb_http_db(r);
	struct tb_err err = {0};
	tb_rc rc = db ? tb_identity_change_password(db, &r->principal, cur, next, now_s(), &err)
		      : TB_EUNAVAIL;
	json_decref(body);
	if (!db)
		return;
	if (rc)
		return tb_http_reply_rc(r, rc, &err);
	tb_http_reply(r, 204, NULL, NULL, 0);
}

static void set_acting(struct tb_req *r)
{
	static const char *const allowed[] = {"uscc", NULL};
	json_t *body = tb_http_json_object(r, allowed);
	if (!body)
		return;
	json_t *v = json_object_get(body, "uscc");
	if (!v || (!json_is_null(v) && !json_is_string(v))) {
		json_decref(body);
		return tb_http_reply_error(r, 422, "validation", "uscc",
					   "uscc is required: a USCC, or null to act for yourself");
	}
	struct tb_db *db = tb_http_db(r);
	struct tb_err err = {0};
	tb_rc rc =
	    db ? tb_identity_session_act(db, &r->principal, json_string_value(v), now_s(), &err)
	       : TB_EUNAVAIL;
	json_decref(body);
	if (!db)
		return;
	if (rc)
		return tb_http_reply_rc(r, rc, &err);
	reply_session(r, 200);
}

/* ---- enterprises and agents ---- */

static void today(char out[11])
{
	time_t t = time(NULL) + 8 * 3600;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static void create_enterprise(struct tb_req *r)
{
	static const char *const allowed[] = {
	    "name", "uscc", "legal_rep_name", "legal_rep_id_number", "region", NULL};
	json_t *body = tb_http_json_object(r, allowed);
	if (!body)
		return;
	struct tb_enterprise_in in;
	if (!need_str(r, body, "name", true, &in.name) ||
	    !need_str(r, body, "uscc", true, &in.uscc) ||
	    !need_str(r, body, "legal_rep_name", true, &in.legal_rep_name) ||
	    !need_str(r, body, "legal_rep_id_number", true, &in.legal_rep_id_number) ||
	    !need_str(r, body, "region", true, &in.region)) {
		json_decref(body);
		return;
	}
	struct tb_db *db = tb_http_db(r);
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc =
	    db ? tb_identity_enterprise_create(db, &r->principal, &in, &out, &err) : TB_EUNAVAIL;
	json_decref(body);
	if (db)
		tb_http_reply_result(r, rc, &err, 201, out);
}

static void my_enterprises(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	char d[11];
	today(d);
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = tb_identity_my_enterprises(db, &r->principal, d, &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

static void my_authorisations(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	char d[11];
	today(d);
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = tb_identity_my_authorisations(db, &r->principal, d, &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

static void grant_agent(struct tb_req *r)
{
	static const char *const allowed[] = {"agent_id_number", "agent_name", "scope",
					      "expires_at", NULL};
	json_t *body = tb_http_json_object(r, allowed);
	if (!body)
		return;
	struct tb_agent_in in = {0};
	if (!need_str(r, body, "agent_id_number", true, &in.id_number) ||
	    !need_str(r, body, "agent_name", true, &in.name) ||
	    !need_str(r, body, "expires_at", true, &in.expires_on)) {
		json_decref(body);
		return;
	}
	in.scope = json_object_get(body, "scope");
	struct tb_db *db = tb_http_db(r);
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = db ? tb_identity_agent_grant(db, &r->principal, tb_http_param(r, "uscc"), &in,
						&out, &err)
		      : TB_EUNAVAIL;
	json_decref(body);
	if (db)
		tb_http_reply_result(r, rc, &err, 201, out);
}

static void list_agents(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	char d[11];
	today(d);
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc =
	    tb_identity_agent_list(db, &r->principal, tb_http_param(r, "uscc"), d, &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

static void revoke_agent(struct tb_req *r)
{
	int64_t id;
	if (!param_id(r, "id", &id))
		return;
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	tb_rc rc = tb_identity_agent_revoke(db, &r->principal, tb_http_param(r, "uscc"), id, &err);
	if (rc)
		return tb_http_reply_rc(r, rc, &err);
	tb_http_reply(r, 204, NULL, NULL, 0);
}

/* ---- staff and administration ---- */

static bool roles_of(struct tb_req *r, json_t *body, unsigned *roles)
{
	json_t *a = json_object_get(body, "roles");
	*roles = 0;
	if (!json_is_array(a) || !json_array_size(a)) {
		tb_http_reply_error(r, 422, "validation", "roles",
				    "roles: a non-empty array of clerk, approver, dept_admin, "
				    "supervisor, platform_admin, auditor");
		return false;
	}
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
	{
		unsigned bit = tb_role_from_name(json_string_value(v));
		if (!bit) {
			tb_http_reply_error(r, 422, "validation",
					    tb_arena_printf(&r->arena, "roles[%zu]", i),
					    "unknown role");
			return false;
		}
		*roles |= bit;
	}
	return true;
}

/* May p give `roles` to staff of department/region? A platform admin may give any;
 * a department admin only department roles within their own department. */
static bool may_administer(const struct tb_principal *p, unsigned roles, const char *department,
			   const char *region)
{
	if (tb_principal_has_role(p, TB_ROLE_PLATFORM_ADMIN, NULL, NULL))
		return true;
	if (roles & (TB_ROLE_PLATFORM_ADMIN | TB_ROLE_AUDITOR | TB_ROLE_SUPERVISOR))
		return false;
	return department && region &&
	       tb_principal_has_role(p, TB_ROLE_DEPT_ADMIN, department, region);
}

static void create_staff(struct tb_req *r)
{
	static const char *const allowed[] = {"name",	    "id_number",   "phone",
					      "department", "region",	   "roles",
					      "password",   "totp_secret", NULL};
	json_t *body = tb_http_json_object(r, allowed);
	if (!body)
		return;
	struct tb_staff_in in = {0};
	if (!need_str(r, body, "name", true, &in.name) ||
	    !need_str(r, body, "id_number", true, &in.id_number) ||
	    !need_str(r, body, "phone", true, &in.phone) ||
	    !need_str(r, body, "department", false, &in.department) ||
	    !need_str(r, body, "region", false, &in.region) ||
	    !need_str(r, body, "password", false, &in.password) ||
	    !need_str(r, body, "totp_secret", false, &in.totp_secret) ||
	    !roles_of(r, body, &in.roles)) {
		json_decref(body);
		return;
	}
	if (!may_administer(&r->principal, in.roles, in.department, in.region)) {
		json_decref(body);
		return tb_http_reply_error(r, 403, "forbidden", NULL,
					   "you may not create staff with these roles in this "
					   "department and region");
	}
	struct tb_db *db = tb_http_db(r);
	struct tb_err err = {0};
	struct tb_staff_out out;
	tb_rc rc = TB_EUNAVAIL;
	if (db && !(rc = tb_db_begin(db, true))) {
		rc = tb_identity_staff_create(db, &in, r->principal.user_id, &out, &err);
		if (!rc)
			rc = tb_db_commit(db);
		else
			tb_db_rollback(db);
	}
	json_decref(body);
	if (!db)
		return;
	if (rc)
		return tb_http_reply_rc(r, rc, &err);
	json_t *o = NULL;
	if ((rc = tb_identity_staff_get(db, out.id, &o, &err)))
		return tb_http_reply_rc(r, rc, &err);
	json_object_set_new(o, "initial_password", json_string(out.password));
	json_object_set_new(o, "totp_secret", json_string(out.totp_secret));
	json_object_set_new(o, "totp_uri", json_string(out.totp_uri));
	tb_http_add_header(r, "Location",
			   tb_arena_printf(&r->arena, "/api/v1/staff/%lld", (long long)out.id));
	tb_http_reply_json(r, 201, o);
}

static void list_staff(struct tb_req *r)
{
	int page, per_page;
	if (!tb_http_paging(r, &page, &per_page))
		return;
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = tb_identity_staff_list(db, &r->principal, page, per_page, &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

static void put_roles(struct tb_req *r)
{
	int64_t id;
	if (!param_id(r, "id", &id))
		return;
	static const char *const allowed[] = {"roles", NULL};
	json_t *body = tb_http_json_object(r, allowed);
	if (!body)
		return;
	unsigned roles;
	if (!roles_of(r, body, &roles)) {
		json_decref(body);
		return;
	}
	json_decref(body);
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = tb_identity_staff_set_roles(db, &r->principal, id, roles, &err);
	if (!rc)
		rc = tb_identity_staff_get(db, id, &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

static void raise_assurance(struct tb_req *r)
{
	static const char *const allowed[] = {"id_number", "name", "level", "reason", NULL};
	json_t *body = tb_http_json_object(r, allowed);
	if (!body)
		return;
	const char *idn, *name, *reason;
	long level;
	struct tb_err err = {0};
	if (!need_str(r, body, "id_number", true, &idn) ||
	    !need_str(r, body, "name", true, &name) ||
	    !need_str(r, body, "reason", true, &reason)) {
		json_decref(body);
		return;
	}
	if (!tb_jv_int(body, "", "level", true, 3, 3, &level, &err)) {
		json_decref(body);
		return tb_http_reply_rc(r, TB_EINVAL, &err);
	}
	struct tb_db *db = tb_http_db(r);
	json_t *out = NULL;
	tb_rc rc = db ? tb_identity_raise_assurance(db, &r->principal, idn, name, (int)level,
						    reason, &out, &err)
		      : TB_EUNAVAIL;
	json_decref(body);
	if (db)
		tb_http_reply_result(r, rc, &err, 200, out);
}

static void get_person(struct tb_req *r)
{
	int64_t id;
	if (!param_id(r, "id", &id))
		return;
	const char *reveal = tb_http_query(r, "reveal"), *reason = tb_http_query(r, "reason");
	if (reveal && strcmp(reveal, "id_number"))
		return tb_http_reply_error(r, 400, "bad-parameter", "reveal",
					   "reveal=id_number is the only thing to reveal");
	if (reveal && (!reason || strlen(reason) < 2))
		return tb_http_reply_error(r, 400, "bad-parameter", "reason",
					   "say why you need the full ID number (reason=...)");
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc =
	    tb_identity_person_get(db, &r->principal, id, reveal != NULL, reason, &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

static void list_audit(struct tb_req *r)
{
	int page, per_page;
	if (!tb_http_paging(r, &page, &per_page))
		return;
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	json_t *out = NULL;
	tb_rc rc = tb_identity_audit_list(db, page, per_page, &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

#define STAFF_READERS                                                                              \
	(TB_ROLE_CLERK | TB_ROLE_APPROVER | TB_ROLE_SUPERVISOR | TB_ROLE_PLATFORM_ADMIN |          \
	 TB_ROLE_AUDITOR | TB_ROLE_DEPT_ADMIN)

const struct tb_route tb_identity_routes[] = {
    {"POST", "/api/v1/accounts", register_person, TB_AUTH_PUBLIC, 0, 0},
    {"POST", "/api/v1/auth/login", login, TB_AUTH_PUBLIC, 0, 0},
    {"POST", "/api/v1/auth/logout", logout, TB_AUTH_USER, 0, 0},
    {"POST", "/api/v1/auth/logout-all", logout_all, TB_AUTH_USER, 0, 0},
    {"GET", "/api/v1/session", get_session, TB_AUTH_PUBLIC, 0, 0},
    {"POST", "/api/v1/session/acting", set_acting, TB_AUTH_PERSON, 0, 0},
    {"GET", "/api/v1/sessions", list_sessions, TB_AUTH_USER, 0, 0},
    {"DELETE", "/api/v1/sessions/{id}", delete_session, TB_AUTH_USER, 0, 0},
    {"GET", "/api/v1/me", get_me, TB_AUTH_USER, 0, 0},
    {"PATCH", "/api/v1/me", patch_me, TB_AUTH_USER, 0, 0},
    {"POST", "/api/v1/me/password", change_password, TB_AUTH_USER, 0, 0},
    {"GET", "/api/v1/me/enterprises", my_enterprises, TB_AUTH_PERSON, 0, 0},
    {"GET", "/api/v1/me/authorisations", my_authorisations, TB_AUTH_PERSON, 0, 0},
    {"POST", "/api/v1/enterprises", create_enterprise, TB_AUTH_PERSON, 0, 0},
    {"POST", "/api/v1/enterprises/{uscc}/agents", grant_agent, TB_AUTH_PERSON, 0, 0},
    {"GET", "/api/v1/enterprises/{uscc}/agents", list_agents, TB_AUTH_PERSON, 0, 0},
    {"DELETE", "/api/v1/enterprises/{uscc}/agents/{id}", revoke_agent, TB_AUTH_PERSON, 0, 0},
    {"POST", "/api/v1/staff", create_staff, TB_AUTH_STAFF,
     TB_ROLE_PLATFORM_ADMIN | TB_ROLE_DEPT_ADMIN, 0},
    {"GET", "/api/v1/staff", list_staff, TB_AUTH_STAFF, 0, 0},
    {"PUT", "/api/v1/staff/{id}/roles", put_roles, TB_AUTH_STAFF,
     TB_ROLE_PLATFORM_ADMIN | TB_ROLE_DEPT_ADMIN, 0},
    {"POST", "/api/v1/persons/assurance", raise_assurance, TB_AUTH_STAFF, TB_ROLE_CLERK, 0},
    {"GET", "/api/v1/persons/{id}", get_person, TB_AUTH_STAFF, STAFF_READERS, 0},
    {"GET", "/api/v1/audit", list_audit, TB_AUTH_STAFF, TB_ROLE_AUDITOR, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};
