/* enterprise.c: enterprises, their legal representatives and the agents these
 * authorise. A capacity is checked live on every request (session.c), so an expired
 * or revoked authorisation stops working at once; revoked grants stay in the table. */
#include "identity/internal.h"
#include "base/codes.h"
#include "base/jsonv.h"
#include "base/mask.h"

#include <stdio.h>
#include <string.h>

static tb_rc find_enterprise(struct tb_db *db, const char *uscc, int64_t *id, char rep_idx[65])
{
	struct tb_stmt *st;
	bool row = false;
	*id = 0;
	tb_rc rc =
	    tb_db_prepare(db, "SELECT id, legal_rep_index FROM enterprises WHERE uscc = ?", &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, uscc ? uscc : "");
	if (!(rc = tb_stmt_step(st, &row)) && row) {
		*id = tb_stmt_int(st, 0);
		snprintf(rep_idx, 65, "%s", tb_stmt_text(st, 1));
	}
	tb_stmt_done(st);
	return rc;
}

/* p must be the legal representative of uscc: 404 for an unknown enterprise, 403 for
 * anyone else. */
static tb_rc as_legal_rep(struct tb_db *db, const struct tb_principal *p, const char *uscc,
			  int64_t *eid, struct tb_err *err)
{
	char rep[65] = "", mine[65];
	tb_rc rc = find_enterprise(db, uscc, eid, rep);
	if (rc)
		return rc;
	if (!*eid)
		return tb_fail(err, TB_ENOTFOUND, "uscc", "no enterprise %s is registered", uscc);
	if ((rc = idn_user_index(db, p->user_id, mine, NULL, 0)))
		return rc;
	if (strcmp(rep, mine))
		return tb_fail(err, TB_EFORBIDDEN, NULL,
			       "only the legal representative of %s may do this", uscc);
	return TB_OK;
}

tb_rc tb_identity_enterprise_create(struct tb_db *db, const struct tb_principal *p,
				    const struct tb_enterprise_in *in, json_t **out,
				    struct tb_err *err)
{
	char idn[19], idx[65], mine[65], my_name[192], mask[19], now[32];
	if (!idn_name(in->name, "name", err))
		return TB_EINVAL;
	if (strlen(in->uscc) != 18 || !tb_code_uscc_valid(in->uscc, err))
		return tb_fail(err, TB_EINVAL, "uscc", "not a valid unified social credit code%s%s",
			       err->msg[0] ? ": " : "", err->msg);
	if (!idn_name(in->legal_rep_name, "legal_rep_name", err) ||
	    !idn_id_number(in->legal_rep_id_number, "legal_rep_id_number", idn, err))
		return TB_EINVAL;
	if (!tb_code_region_valid(in->region))
		return tb_fail(err, TB_EINVAL, "region", "not a valid division code");
	tb_rc rc;
	if ((rc = idn_index(idn, idx)) ||
	    (rc = idn_user_index(db, p->user_id, mine, my_name, sizeof(my_name))))
		return rc;
	if (strcmp(idx, mine) || strcmp(my_name, in->legal_rep_name))
		return tb_fail(err, TB_EFORBIDDEN, NULL,
			       "only the legal representative may register an enterprise: your "
			       "name and ID number must be the legal representative's");
	tb_mask_id_number(idn, mask, sizeof(mask));
	idn_now(now);
	struct tb_stmt *st;
	if ((rc = tb_db_prepare(db,
				"INSERT INTO enterprises (uscc, name, region, legal_rep_name, "
				"legal_rep_index, legal_rep_masked, created_by, created_at) VALUES "
				"(?, ?, ?, ?, ?, ?, ?, ?)",
				&st)))
		return rc;
	tb_stmt_bind_text(st, 1, in->uscc);
	tb_stmt_bind_text(st, 2, in->name);
	tb_stmt_bind_text(st, 3, in->region);
	tb_stmt_bind_text(st, 4, in->legal_rep_name);
	tb_stmt_bind_text(st, 5, idx);
	tb_stmt_bind_text(st, 6, mask);
	tb_stmt_bind_int(st, 7, p->user_id);
	tb_stmt_bind_text(st, 8, now);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	if (rc == TB_ECONFLICT)
		return tb_fail(err, rc, "uscc", "an enterprise with this USCC is registered");
	if (rc)
		return rc;
	*out = json_pack("{s:s,s:s,s:s,s:{s:s,s:s},s:s,s:s}", "uscc", in->uscc, "name", in->name,
			 "region", in->region, "legal_rep", "name", in->legal_rep_name, "id_number",
			 mask, "capacity", "legal_rep", "created_at", now);
	return TB_OK;
}

tb_rc idn_enterprises_of(struct tb_db *db, int64_t user_id, const char *today, json_t **items);
tb_rc idn_enterprises_of(struct tb_db *db, int64_t user_id, const char *today, json_t **items)
{
	char idx[65];
	tb_rc rc = idn_user_index(db, user_id, idx, NULL, 0);
	if (rc)
		return rc;
	struct tb_stmt *st;
	if ((rc = tb_db_prepare(
		 db,
		 "SELECT uscc, name, 'legal_rep', '*', NULL, 0 FROM enterprises WHERE "
		 "legal_rep_index = ? UNION ALL SELECT e.uscc, e.name, 'agent', "
		 "g.scope, g.expires_on, g.id FROM agent_grants g JOIN enterprises e "
		 "ON e.id = g.enterprise_id WHERE g.agent_index = ? AND g.revoked_at "
		 "IS NULL AND g.expires_on >= ? ORDER BY 1, 6",
		 &st)))
		return rc;
	tb_stmt_bind_text(st, 1, idx);
	tb_stmt_bind_text(st, 2, idx);
	tb_stmt_bind_text(st, 3, today);
	json_t *a = json_array();
	bool row;
	while (!(rc = tb_stmt_step(st, &row)) && row)
		json_array_append_new(
		    a, json_pack("{s:s,s:s,s:s,s:o,s:s?}", "uscc", tb_stmt_text(st, 0), "name",
				 tb_stmt_text(st, 1), "capacity", tb_stmt_text(st, 2), "scope",
				 tb_jv_split(tb_stmt_text(st, 3), ','), "expires_at",
				 tb_stmt_null(st, 4) ? NULL : tb_stmt_text(st, 4)));
	tb_stmt_done(st);
	if (rc) {
		json_decref(a);
		return rc;
	}
	*items = a;
	return TB_OK;
}

tb_rc tb_identity_my_enterprises(struct tb_db *db, const struct tb_principal *p, const char *today,
				 json_t **out, struct tb_err *err)
{
	(void)err;
	json_t *items;
	tb_rc rc = idn_enterprises_of(db, p->user_id, today, &items);
	if (!rc)
		*out = json_pack("{s:o}", "items", items);
	return rc;
}

static const char *grant_status(struct tb_stmt *st, int revoked_col, int expires_col,
				const char *today)
{
	if (!tb_stmt_null(st, revoked_col))
		return "revoked";
	return strcmp(tb_stmt_text(st, expires_col), today) < 0 ? "expired" : "active";
}

/* id, agent_name, agent_masked, scope, expires_on, created_at, revoked_at, uscc, name */
#define GRANT_COLUMNS                                                                              \
	"g.id, g.agent_name, g.agent_masked, g.scope, g.expires_on, g.created_at, g.revoked_at, "  \
	"e.uscc, e.name"

static json_t *grant_json(struct tb_stmt *st, const char *today)
{
	char name_mask[192];
	tb_mask_name(tb_stmt_text(st, 1), name_mask, sizeof(name_mask));
	return json_pack("{s:I,s:s,s:s,s:{s:s,s:s},s:o,s:s,s:s,s:s?,s:s}", "id",
			 (json_int_t)tb_stmt_int(st, 0), "uscc", tb_stmt_text(st, 7), "enterprise",
			 tb_stmt_text(st, 8), "agent", "name", name_mask, "id_number",
			 tb_stmt_text(st, 2), "scope", tb_jv_split(tb_stmt_text(st, 3), ','),
			 "expires_at", tb_stmt_text(st, 4), "created_at", tb_stmt_text(st, 5),
			 "revoked_at", tb_stmt_null(st, 6) ? NULL : tb_stmt_text(st, 6), "status",
			 grant_status(st, 6, 4, today));
}

tb_rc tb_identity_agent_grant(struct tb_db *db, const struct tb_principal *p, const char *uscc,
			      const struct tb_agent_in *in, json_t **out, struct tb_err *err)
{
	int64_t eid;
	tb_rc rc = as_legal_rep(db, p, uscc, &eid, err);
	if (rc)
		return rc;
	char idn[19], idx[65], mask[19], now[32], today[11];
	if (!idn_id_number(in->id_number, "agent_id_number", idn, err) ||
	    !idn_name(in->name, "agent_name", err))
		return TB_EINVAL;
	idn_today(today);
	if (!idn_date_valid(in->expires_on))
		return tb_fail(err, TB_EINVAL, "expires_at", "a date YYYY-MM-DD");
	if (!in->allow_past && strcmp(in->expires_on, today) < 0)
		return tb_fail(err, TB_EINVAL, "expires_at", "the date has passed");
	if (!json_is_array(in->scope) || !json_array_size(in->scope) ||
	    json_array_size(in->scope) > 50)
		return tb_fail(err, TB_EINVAL, "scope",
			       "scope: [\"*\"] or 1 to 50 catalog codes (12 characters)");
	char scope[700] = "";
	size_t i;
	json_t *v;
	json_array_foreach(in->scope, i, v)
	{
		const char *s = json_string_value(v);
		struct tb_err e = {0};
		bool star = s && !strcmp(s, "*");
		if (!s || (star && json_array_size(in->scope) > 1) ||
		    (!star && !tb_code_catalog_valid(s, &e)))
			return tb_fail(err, TB_EINVAL, tb_jv_index("", "scope", i),
				       "\"*\" alone, or a catalog code of 12 characters");
		if (strlen(scope) + strlen(s) + 2 > sizeof(scope))
			return tb_fail(err, TB_EINVAL, "scope", "too many codes");
		if (i)
			strcat(scope, ",");
		strcat(scope, s);
	}
	if ((rc = idn_index(idn, idx)))
		return rc;
	tb_mask_id_number(idn, mask, sizeof(mask));
	idn_now(now);
	struct tb_stmt *st;
	if ((rc = tb_db_prepare(
		 db,
		 "INSERT INTO agent_grants (enterprise_id, agent_index, agent_name, "
		 "agent_masked, scope, expires_on, created_by, created_at) VALUES (?, "
		 "?, ?, ?, ?, ?, ?, ?) RETURNING id",
		 &st)))
		return rc;
	tb_stmt_bind_int(st, 1, eid);
	tb_stmt_bind_text(st, 2, idx);
	tb_stmt_bind_text(st, 3, in->name);
	tb_stmt_bind_text(st, 4, mask);
	tb_stmt_bind_text(st, 5, scope);
	tb_stmt_bind_text(st, 6, in->expires_on);
	tb_stmt_bind_int(st, 7, p->user_id);
	tb_stmt_bind_text(st, 8, now);
	bool row = false;
	int64_t gid = 0;
	if (!(rc = tb_stmt_step(st, &row)) && row)
		gid = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	if (rc)
		return rc;
	if ((rc =
		 tb_db_prepare(db,
			       "SELECT " GRANT_COLUMNS " FROM agent_grants g JOIN enterprises e ON "
			       "e.id = g.enterprise_id WHERE g.id = ?",
			       &st)))
		return rc;
	tb_stmt_bind_int(st, 1, gid);
	if (!(rc = tb_stmt_step(st, &row)) && row)
		*out = grant_json(st, today);
	tb_stmt_done(st);
	if (rc)
		return rc;
	return tb_identity_audit(db, p->user_id, "agent.grant", 0, "", uscc);
}

static tb_rc list_grants(struct tb_db *db, const char *where, int64_t key, const char *today,
			 json_t **out)
{
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "SELECT " GRANT_COLUMNS " FROM agent_grants g JOIN enterprises e ON e.id = "
		 "g.enterprise_id WHERE %s ORDER BY g.id",
		 where);
	struct tb_stmt *st;
	tb_rc rc = tb_db_prepare(db, sql, &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, key);
	json_t *a = json_array();
	bool row;
	while (!(rc = tb_stmt_step(st, &row)) && row)
		json_array_append_new(a, grant_json(st, today));
	tb_stmt_done(st);
	if (rc) {
		json_decref(a);
		return rc;
	}
	*out = json_pack("{s:o}", "items", a);
	return TB_OK;
}

tb_rc tb_identity_agent_list(struct tb_db *db, const struct tb_principal *p, const char *uscc,
			     const char *today, json_t **out, struct tb_err *err)
{
	int64_t eid;
	tb_rc rc = as_legal_rep(db, p, uscc, &eid, err);
	return rc ? rc : list_grants(db, "g.enterprise_id = ?", eid, today, out);
}

tb_rc tb_identity_my_authorisations(struct tb_db *db, const struct tb_principal *p,
				    const char *today, json_t **out, struct tb_err *err)
{
	(void)err;
	return list_grants(db, "g.created_by = ?", p->user_id, today, out);
}

tb_rc tb_identity_agent_revoke(struct tb_db *db, const struct tb_principal *p, const char *uscc,
			       int64_t grant_id, struct tb_err *err)
{
	int64_t eid;
	tb_rc rc = as_legal_rep(db, p, uscc, &eid, err);
	if (rc)
		return rc;
	char now[32];
	idn_now(now);
	struct tb_stmt *st;
	if ((rc = tb_db_prepare(
		 db,
		 "UPDATE agent_grants SET revoked_at = ?, revoked_by = ? WHERE id = ? "
		 "AND enterprise_id = ? AND revoked_at IS NULL",
		 &st)))
		return rc;
	tb_stmt_bind_text(st, 1, now);
	tb_stmt_bind_int(st, 2, p->user_id);
	tb_stmt_bind_int(st, 3, grant_id);
	tb_stmt_bind_int(st, 4, eid);
	int64_t n = 0;
	rc = tb_stmt_exec(st, &n);
	tb_stmt_done(st);
	if (rc)
		return rc;
	if (!n)
		return tb_fail(err, TB_ENOTFOUND, "id", "no active authorisation %lld of %s",
			       (long long)grant_id, uscc);
	return tb_identity_audit(db, p->user_id, "agent.revoke", 0, "", uscc);
}
