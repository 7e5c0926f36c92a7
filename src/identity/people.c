/* people.c: `tongban import people FILE`: demo and migration data for accounts,
 * sealed on the way in, in one transaction. Format (data/demo/people.json):
 *   {"persons":     [{name, id_number, phone, password, assurance?}],
 *    "staff":       [{name, id_number, phone, department?, region?, roles, password,
 *                     totp_secret}],
 *    "enterprises": [{name, uscc, region, legal_rep_id_number}],
 *    "agents":      [{uscc, agent_id_number, agent_name, scope, expires_at}]}
 * Accounts that exist (same ID number) are left as they are, so it can run twice. */
#include "identity/internal.h"

#include <stdio.h>
#include <string.h>

tb_rc idn_register_tx(struct tb_db *db, const struct tb_person_in *in, int level_min, int64_t *id,
		      struct tb_err *err);

static const char *s_of(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The principal of the person holding id_number, as the legal rep acting. */
static tb_rc person_principal(struct tb_db *db, const char *id_number, struct tb_principal *p,
			      struct tb_err *err)
{
	char idn[19];
	memset(p, 0, sizeof(*p));
	if (!idn_id_number(id_number, "legal_rep_id_number", idn, err))
		return TB_EINVAL;
	tb_rc rc = idn_find_person(db, idn, &p->user_id, p->name, sizeof(p->name));
	if (!rc && p->user_id)
		p->kind = TB_PRINCIPAL_PERSON;
	if (!rc && !p->user_id)
		rc = tb_fail(err, TB_EINVAL, "legal_rep_id_number",
			     "the legal representative must be among the persons");
	return rc;
}

static tb_rc import_all(struct tb_db *db, json_t *doc, int *count, struct tb_err *err)
{
	size_t i;
	json_t *v;
	tb_rc rc = TB_OK;
	json_array_foreach(json_object_get(doc, "persons"), i, v)
	{
		struct tb_person_in in = {s_of(v, "name"), s_of(v, "id_number"), s_of(v, "phone"),
					  s_of(v, "password")};
		int64_t id;
		json_int_t level = json_integer_value(json_object_get(v, "assurance"));
		if ((rc = idn_register_tx(db, &in, (int)level, &id, err)))
			return tb_fail(err, rc, err->field, "persons[%zu]: %s", i, err->msg);
		*count += id != 0;
	}
	json_array_foreach(json_object_get(doc, "staff"), i, v)
	{
		struct tb_staff_in in = {.name = s_of(v, "name"),
					 .id_number = s_of(v, "id_number"),
					 .phone = s_of(v, "phone"),
					 .department = s_of(v, "department"),
					 .region = s_of(v, "region"),
					 .password = s_of(v, "password"),
					 .totp_secret = s_of(v, "totp_secret")};
		size_t j;
		json_t *role;
		json_array_foreach(json_object_get(v, "roles"), j, role) in.roles |=
		    tb_role_from_name(json_string_value(role));
		struct tb_staff_out out;
		rc = tb_identity_staff_create(db, &in, 0, &out, err);
		if (rc == TB_ECONFLICT && !strcmp(err->field, "id_number"))
			continue;
		if (rc)
			return tb_fail(err, rc, err->field, "staff[%zu]: %s", i, err->msg);
		(*count)++;
	}
	json_array_foreach(json_object_get(doc, "enterprises"), i, v)
	{
		/* Look before inserting: on PostgreSQL a refused INSERT would abort the
		 * whole import's transaction. */
		struct tb_stmt *st;
		bool known = false;
		if ((rc = tb_db_prepare(db, "SELECT 1 FROM enterprises WHERE uscc = ?", &st)))
			return rc;
		tb_stmt_bind_text(st, 1, s_of(v, "uscc"));
		rc = tb_stmt_step(st, &known);
		tb_stmt_done(st);
		if (rc)
			return rc;
		if (known)
			continue;
		struct tb_principal p;
		if ((rc = person_principal(db, s_of(v, "legal_rep_id_number"), &p, err)))
			return tb_fail(err, rc, err->field, "enterprises[%zu]: %s", i, err->msg);
		struct tb_enterprise_in in = {s_of(v, "name"), s_of(v, "uscc"), p.name,
					      s_of(v, "legal_rep_id_number"), s_of(v, "region")};
		json_t *out = NULL;
		rc = tb_identity_enterprise_create(db, &p, &in, &out, err);
		json_decref(out);
		if (rc == TB_ECONFLICT)
			continue;
		if (rc)
			return tb_fail(err, rc, err->field, "enterprises[%zu]: %s", i, err->msg);
		(*count)++;
	}
	json_array_foreach(json_object_get(doc, "agents"), i, v)
	{
		const char *uscc = s_of(v, "uscc");
		struct tb_stmt *st;
		bool row = false;
		/* the enterprise's legal rep grants it; skip grants already present */
		if ((rc = tb_db_prepare(db,
					"SELECT e.created_by, (SELECT count(*) FROM agent_grants g "
					"WHERE g.enterprise_id = e.id AND g.agent_name = ?) FROM "
					"enterprises e WHERE e.uscc = ?",
					&st)))
			return rc;
		tb_stmt_bind_text(st, 1, s_of(v, "agent_name"));
		tb_stmt_bind_text(st, 2, uscc);
		struct tb_principal p = {.kind = TB_PRINCIPAL_PERSON};
		int64_t existing = 0;
		if (!(rc = tb_stmt_step(st, &row)) && row) {
			p.user_id = tb_stmt_int(st, 0);
			existing = tb_stmt_int(st, 1);
		}
		tb_stmt_done(st);
		if (rc)
			return rc;
		if (!row)
			return tb_fail(err, TB_EINVAL, "uscc", "agents[%zu]: no enterprise %s", i,
				       uscc ? uscc : "");
		if (existing)
			continue;
		struct tb_agent_in in = {s_of(v, "agent_id_number"), s_of(v, "agent_name"),
					 s_of(v, "expires_at"), json_object_get(v, "scope"), true};
		json_t *out = NULL;
		rc = tb_identity_agent_grant(db, &p, uscc, &in, &out, err);
		json_decref(out);
		if (rc)
			return tb_fail(err, rc, err->field, "agents[%zu]: %s", i, err->msg);
		(*count)++;
	}
	return TB_OK;
}

tb_rc tb_identity_import_people(struct tb_store *store, const char *path, int *count,
				struct tb_err *err)
{
	*count = 0;
	json_error_t je;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return tb_fail(err, TB_EINVAL, "", "%s: line %d: %s", path, je.line, je.text);
	}
	struct tb_db *db = tb_store_db(store, err);
	if (!db) {
		json_decref(doc);
		return TB_EUNAVAIL;
	}
	tb_rc rc = tb_db_begin(db, true);
	if (!rc) {
		rc = import_all(db, doc, count, err);
		if (!rc)
			rc = tb_db_commit(db);
		else
			tb_db_rollback(db);
	}
	json_decref(doc);
	return rc;
}

/* ---- for other blocks (identity.h) ---- */

const struct tb_seal_key *tb_identity_data_key(void)
{
	return idn_key();
}

bool tb_identity_check_id_number(const char *in, const char *field, char out[19],
				 struct tb_err *err)
{
	return idn_id_number(in, field, out, err);
}

bool tb_identity_check_phone(const char *in, const char *field, char out[12], struct tb_err *err)
{
	return idn_phone(in, field, out, err);
}

tb_rc tb_identity_index(const char *value, char hex[65])
{
	return idn_index(value, hex);
}

tb_rc tb_identity_find_person(struct tb_db *db, const char *id_number, int64_t *id)
{
	char name[8];
	return idn_find_person(db, id_number, id, name, sizeof(name));
}

tb_rc tb_identity_staff_covering(struct tb_db *db, unsigned role, const char *department,
				 const char *region, void (*fn)(void *ctx, int64_t user_id),
				 void *ctx)
{
	const char *name = tb_role_name(role);
	if (!name)
		return TB_EINVAL;
	struct tb_stmt *st;
	bool row;
	/* a grant covers the department when it names it or none, and the region when it
	 * is the region or an ancestor of it (division codes are prefixes) or none */
	tb_rc rc =
	    tb_db_prepare(db,
			  "SELECT DISTINCT g.user_id FROM staff_grants g WHERE g.role = ? AND "
			  "(g.department = '' OR g.department = ?) AND (g.region = '' OR "
			  "g.region = substr(?, 1, length(g.region))) ORDER BY g.user_id",
			  &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, name);
	tb_stmt_bind_text(st, 2, department);
	tb_stmt_bind_text(st, 3, region);
	while (!(rc = tb_stmt_step(st, &row)) && row)
		fn(ctx, tb_stmt_int(st, 0));
	tb_stmt_done(st);
	return rc;
}
