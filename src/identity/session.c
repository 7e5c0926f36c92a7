/* session.c: sessions kept in the database, hashed. A token is 32 random bytes
 * (base64url); the row holds SM3(token) only, so a copy of the database logs nobody in.
 * The CSRF token of a cookie session is derived from the session token with the
 * blind-index key, so it needs no column and cannot be guessed without the key. */
#include "identity/internal.h"
#include "base/crypto.h"
#include "base/jsonv.h"
#include "base/log.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* last_seen_at is written at most this often (not a write per request). */
#define TOUCH_EVERY 60

static void token_hash(const char *token, char hex[65])
{
	uint8_t h[TB_SM3_LEN];
	tb_sm3(token, strlen(token), h);
	sodium_bin2hex(hex, 65, h, sizeof(h));
}

static void csrf_of(const char *token, char out[64])
{
	char msg[80];
	uint8_t mac[TB_SM3_LEN];
	int n = snprintf(msg, sizeof(msg), "csrf:%s", token);
	tb_hmac_sm3(idn_key()->index, sizeof(idn_key()->index), msg, (size_t)n, mac);
	sodium_bin2base64(out, 64, mac, 24, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void mask_ip(const char *ip, char out[64])
{
	if (!ip || !*ip) {
		out[0] = 0;
		return;
	}
	if (strchr(ip, ':')) { /* IPv6: the first two groups */
		const char *c = strchr(ip, ':');
		const char *c2 = c ? strchr(c + 1, ':') : NULL;
		snprintf(out, 64, "%.*s:*", c2 ? (int)(c2 - ip) : (int)strlen(ip), ip);
		return;
	}
	const char *d = strchr(ip, '.');
	const char *d2 = d ? strchr(d + 1, '.') : NULL;
	snprintf(out, 64, "%.*s.*.*", d2 ? (int)(d2 - ip) : (int)strlen(ip), ip);
}

tb_rc idn_session_create(struct tb_db *db, int64_t user, bool bearer, int aal, const char *ip,
			 const char *ua, long long now, struct tb_login_out *out);
tb_rc idn_session_create(struct tb_db *db, int64_t user, bool bearer, int aal, const char *ip,
			 const char *ua, long long now, struct tb_login_out *out)
{
	char hash[65], ipm[64];
	tb_rc rc = idn_random_token(32, out->token, sizeof(out->token));
	if (rc)
		return rc;
	token_hash(out->token, hash);
	mask_ip(ip, ipm);
	const struct tb_identity_config *cfg = tb_identity_config();
	out->expires_at = now + cfg->session_ttl;
	struct tb_stmt *st;
	if ((rc = tb_db_prepare(
		 db,
		 "INSERT INTO sessions (token_hash, user_id, channel, aal, ip_masked, "
		 "user_agent, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, "
		 "?, ?, ?, ?, ?, ?) RETURNING id",
		 &st)))
		return rc;
	char uab[256];
	snprintf(uab, sizeof(uab), "%s", ua ? ua : "");
	tb_stmt_bind_text(st, 1, hash);
	tb_stmt_bind_int(st, 2, user);
	tb_stmt_bind_text(st, 3, bearer ? "bearer" : "cookie");
	tb_stmt_bind_int(st, 4, aal);
	tb_stmt_bind_text(st, 5, ipm);
	tb_stmt_bind_text(st, 6, uab);
	tb_stmt_bind_int(st, 7, now);
	tb_stmt_bind_int(st, 8, now);
	tb_stmt_bind_int(st, 9, out->expires_at);
	bool row = false;
	if (!(rc = tb_stmt_step(st, &row)) && row)
		out->session_id = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	return rc ? rc : row ? TB_OK : TB_EDB;
}

tb_rc idn_load_grants(struct tb_db *db, struct tb_principal *p)
{
	struct tb_stmt *st;
	p->ngrants = 0;
	tb_rc rc = tb_db_prepare(db,
				 "SELECT role, department, region FROM staff_grants WHERE user_id "
				 "= ? ORDER BY id",
				 &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, p->user_id);
	bool row;
	while (!(rc = tb_stmt_step(st, &row)) && row && p->ngrants < TB_PRINCIPAL_MAX_GRANTS) {
		struct tb_grant *g = &p->grants[p->ngrants];
		g->role = tb_role_from_name(tb_stmt_text(st, 0));
		snprintf(g->department, sizeof(g->department), "%s", tb_stmt_text(st, 1));
		snprintf(g->region, sizeof(g->region), "%s", tb_stmt_text(st, 2));
		if (g->role)
			p->ngrants++;
	}
	tb_stmt_done(st);
	return rc;
}

tb_rc idn_load_acting(struct tb_db *db, struct tb_principal *p, int64_t enterprise_id,
		      const char *today)
{
	memset(&p->acting, 0, sizeof(p->acting));
	if (!enterprise_id || p->kind != TB_PRINCIPAL_PERSON)
		return TB_OK;
	char idx[65];
	tb_rc rc = idn_user_index(db, p->user_id, idx, NULL, 0);
	if (rc)
		return rc;
	struct tb_stmt *st;
	bool row = false;
	/* the legal representative first, then a live agent grant (the latest) */
	if ((rc =
		 tb_db_prepare(db,
			       "SELECT e.uscc, e.name, CASE WHEN e.legal_rep_index = ? THEN '' "
			       "ELSE (SELECT g.scope FROM agent_grants g WHERE g.enterprise_id = "
			       "e.id AND g.agent_index = ? AND g.revoked_at IS NULL AND "
			       "g.expires_on >= ? ORDER BY g.id DESC LIMIT 1) END FROM enterprises "
			       "e WHERE e.id = ?",
			       &st)))
		return rc;
	tb_stmt_bind_text(st, 1, idx);
	tb_stmt_bind_text(st, 2, idx);
	tb_stmt_bind_text(st, 3, today);
	tb_stmt_bind_int(st, 4, enterprise_id);
	if (!(rc = tb_stmt_step(st, &row)) && row && !tb_stmt_null(st, 2)) {
		const char *scope = tb_stmt_text(st, 2);
		p->acting.capacity = *scope ? TB_CAPACITY_AGENT : TB_CAPACITY_LEGAL_REP;
		p->acting.enterprise_id = enterprise_id;
		snprintf(p->acting.uscc, sizeof(p->acting.uscc), "%s", tb_stmt_text(st, 0));
		snprintf(p->acting.name, sizeof(p->acting.name), "%s", tb_stmt_text(st, 1));
		snprintf(p->acting.scope, sizeof(p->acting.scope), "%s", *scope ? scope : "*");
	}
	tb_stmt_done(st);
	return rc;
}

tb_rc tb_identity_session_lookup(struct tb_db *db, const char *token, bool cookie, long long now,
				 struct tb_principal *p, struct tb_err *err)
{
	memset(p, 0, sizeof(*p));
	if (!token || strlen(token) < 40 || strlen(token) > 60)
		return TB_OK;
	char hash[65];
	token_hash(token, hash);
	struct tb_stmt *st;
	tb_rc rc =
	    tb_db_prepare(db,
			  "SELECT s.id, s.user_id, s.channel, s.aal, s.acting_enterprise, "
			  "s.last_seen_at, s.expires_at, u.kind, u.name, u.assurance FROM "
			  "sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? "
			  "AND s.revoked_at IS NULL",
			  &st);
	if (rc)
		return tb_fail(err, rc, NULL, "cannot read sessions");
	tb_stmt_bind_text(st, 1, hash);
	bool row = false;
	long long last_seen = 0;
	int64_t acting = 0;
	if (!(rc = tb_stmt_step(st, &row)) && row) {
		const struct tb_identity_config *cfg = tb_identity_config();
		last_seen = tb_stmt_int(st, 5);
		bool channel_ok = !strcmp(tb_stmt_text(st, 2), cookie ? "cookie" : "bearer");
		long long expires = tb_stmt_int(st, 6);
		if (channel_ok && expires > now && last_seen + cfg->session_idle > now) {
			p->kind = !strcmp(tb_stmt_text(st, 7), "staff") ? TB_PRINCIPAL_STAFF
									: TB_PRINCIPAL_PERSON;
			p->session_id = tb_stmt_int(st, 0);
			p->user_id = tb_stmt_int(st, 1);
			p->aal = (int)tb_stmt_int(st, 3);
			acting = tb_stmt_null(st, 4) ? 0 : tb_stmt_int(st, 4);
			p->expires_at = expires;
			snprintf(p->name, sizeof(p->name), "%s", tb_stmt_text(st, 8));
			p->assurance = (int)tb_stmt_int(st, 9);
			p->via_cookie = cookie;
			p->via_bearer = !cookie;
		}
	}
	tb_stmt_done(st);
	if (rc)
		return tb_fail(err, rc, NULL, "cannot read sessions");
	if (p->kind == TB_PRINCIPAL_ANONYMOUS)
		return TB_OK;
	if (cookie)
		csrf_of(token, p->csrf_token);
	if (p->kind == TB_PRINCIPAL_STAFF && (rc = idn_load_grants(db, p)))
		return tb_fail(err, rc, NULL, "cannot read grants");
	if (acting) {
		char today[11];
		idn_today(today);
		if ((rc = idn_load_acting(db, p, acting, today)))
			return tb_fail(err, rc, NULL, "cannot read the acting enterprise");
	}
	if (now - last_seen >= TOUCH_EVERY) {
		if (!tb_db_prepare(db, "UPDATE sessions SET last_seen_at = ? WHERE id = ?", &st)) {
			tb_stmt_bind_int(st, 1, now);
			tb_stmt_bind_int(st, 2, p->session_id);
			if (tb_stmt_exec(st, NULL))
				tb_log(TB_LOG_WARN, "identity", "cannot touch session %lld",
				       (long long)p->session_id);
			tb_stmt_done(st);
		}
	}
	return TB_OK;
}

tb_rc idn_csrf_for(const char *token, char out[64]);
tb_rc idn_csrf_for(const char *token, char out[64])
{
	csrf_of(token, out);
	return TB_OK;
}

tb_rc tb_identity_session_end(struct tb_db *db, int64_t user_id, int64_t session_id, long long now,
			      struct tb_err *err)
{
	struct tb_stmt *st;
	tb_rc rc =
	    tb_db_prepare(db,
			  "UPDATE sessions SET revoked_at = ? WHERE id = ? AND user_id = ? AND "
			  "revoked_at IS NULL",
			  &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, now);
	tb_stmt_bind_int(st, 2, session_id);
	tb_stmt_bind_int(st, 3, user_id);
	int64_t n = 0;
	rc = tb_stmt_exec(st, &n);
	tb_stmt_done(st);
	if (!rc && !n)
		return tb_fail(err, TB_ENOTFOUND, "id", "no active session %lld of yours",
			       (long long)session_id);
	return rc;
}

tb_rc tb_identity_sessions_end_all(struct tb_db *db, int64_t user_id, int64_t keep, long long now,
				   struct tb_err *err)
{
	(void)err;
	struct tb_stmt *st;
	tb_rc rc = tb_db_prepare(db,
				 "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND id <> ? "
				 "AND revoked_at IS NULL",
				 &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, now);
	tb_stmt_bind_int(st, 2, user_id);
	tb_stmt_bind_int(st, 3, keep);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc;
}

tb_rc tb_identity_sessions_list(struct tb_db *db, const struct tb_principal *p, long long now,
				json_t **out, struct tb_err *err)
{
	(void)err;
	struct tb_stmt *st;
	tb_rc rc =
	    tb_db_prepare(db,
			  "SELECT id, created_at, last_seen_at, expires_at, ip_masked, "
			  "user_agent, channel FROM sessions WHERE user_id = ? AND revoked_at IS "
			  "NULL AND expires_at > ? AND last_seen_at > ? ORDER BY id DESC LIMIT 100",
			  &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, p->user_id);
	tb_stmt_bind_int(st, 2, now);
	tb_stmt_bind_int(st, 3, now - tb_identity_config()->session_idle);
	json_t *items = json_array();
	bool row;
	while (!(rc = tb_stmt_step(st, &row)) && row) {
		char c[32], l[32], e[32];
		idn_time(tb_stmt_int(st, 1), c);
		idn_time(tb_stmt_int(st, 2), l);
		idn_time(tb_stmt_int(st, 3), e);
		int64_t id = tb_stmt_int(st, 0);
		json_array_append_new(
		    items,
		    json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "id", (json_int_t)id,
			      "created_at", c, "last_seen_at", l, "expires_at", e, "ip",
			      tb_stmt_text(st, 4), "user_agent", tb_stmt_text(st, 5), "channel",
			      tb_stmt_text(st, 6), "current", id == p->session_id));
	}
	tb_stmt_done(st);
	if (rc) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o}", "items", items);
	return TB_OK;
}

tb_rc tb_identity_session_act(struct tb_db *db, struct tb_principal *p, const char *uscc,
			      long long now, struct tb_err *err)
{
	(void)now;
	int64_t eid = 0;
	tb_rc rc;
	if (uscc) {
		if (p->kind != TB_PRINCIPAL_PERSON)
			return tb_fail(err, TB_EFORBIDDEN, NULL,
				       "only persons act for enterprises");
		struct tb_stmt *st;
		bool row = false;
		if ((rc = tb_db_prepare(db, "SELECT id FROM enterprises WHERE uscc = ?", &st)))
			return rc;
		tb_stmt_bind_text(st, 1, uscc);
		if (!(rc = tb_stmt_step(st, &row)) && row)
			eid = tb_stmt_int(st, 0);
		tb_stmt_done(st);
		if (rc)
			return rc;
		char today[11];
		idn_today(today);
		if (!eid || (rc = idn_load_acting(db, p, eid, today)) ||
		    p->acting.capacity == TB_CAPACITY_NONE) {
			if (rc)
				return rc;
			return tb_fail(err, TB_EFORBIDDEN, "uscc",
				       "you may not act for %s: you are not its legal "
				       "representative, and no live authorisation names you",
				       uscc);
		}
	} else {
		memset(&p->acting, 0, sizeof(p->acting));
	}
	struct tb_stmt *st;
	if ((rc = tb_db_prepare(db, "UPDATE sessions SET acting_enterprise = ? WHERE id = ?", &st)))
		return rc;
	if (eid)
		tb_stmt_bind_int(st, 1, eid);
	else
		tb_stmt_bind_null(st, 1);
	tb_stmt_bind_int(st, 2, p->session_id);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc;
}

json_t *tb_identity_session_json(const struct tb_principal *p)
{
	if (p->kind == TB_PRINCIPAL_ANONYMOUS)
		return json_pack("{s:b,s:n,s:n,s:n,s:n}", "authenticated", 0, "csrf_token",
				 "expires_at", "user", "acting");
	char exp[32];
	idn_time(p->expires_at, exp);
	json_t *user = json_pack("{s:I,s:s,s:s,s:i,s:i}", "id", (json_int_t)p->user_id, "kind",
				 p->kind == TB_PRINCIPAL_STAFF ? "staff" : "person", "name",
				 p->name, "assurance", p->assurance, "aal", p->aal);
	if (p->kind == TB_PRINCIPAL_STAFF) {
		json_t *roles = json_array();
		for (int i = 0; i < p->ngrants; i++) {
			const struct tb_grant *g = &p->grants[i];
			json_array_append_new(
			    roles, json_pack("{s:s,s:s?,s:s?}", "role", tb_role_name(g->role),
					     "department", g->department[0] ? g->department : NULL,
					     "region", g->region[0] ? g->region : NULL));
		}
		json_object_set_new(user, "roles", roles);
	}
	json_t *acting = json_null();
	if (p->acting.capacity != TB_CAPACITY_NONE)
		acting = json_pack(
		    "{s:s,s:s,s:s,s:o}", "uscc", p->acting.uscc, "name", p->acting.name, "capacity",
		    p->acting.capacity == TB_CAPACITY_LEGAL_REP ? "legal_rep" : "agent", "scope",
		    tb_jv_split(p->acting.scope, ','));
	return json_pack("{s:b,s:s?,s:s,s:o,s:o}", "authenticated", 1, "csrf_token",
			 p->via_cookie ? p->csrf_token : NULL, "expires_at", exp, "user", user,
			 "acting", acting);
}
