/* admin.c: staff administration, assurance raised at a window, persons as staff see
 * them (masked; a full ID number only with a reason, audited), and the audit log. */
#include "identity/internal.h"
#include "base/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tb_rc idn_user_json(struct tb_db *db, int64_t id, bool full, json_t **out);
tb_rc idn_staff_grants_replace(struct tb_db *db, int64_t user, unsigned roles);

static json_t *grants_json(struct tb_db *db, int64_t id, tb_rc *rc)
{
	struct tb_principal p = {.kind = TB_PRINCIPAL_STAFF, .user_id = id};
	json_t *a = json_array();
	if ((*rc = idn_load_grants(db, &p)))
		return a;
	for (int i = 0; i < p.ngrants; i++)
		json_array_append_new(
		    a, json_pack("{s:s,s:s?,s:s?}", "role", tb_role_name(p.grants[i].role),
				 "department",
				 p.grants[i].department[0] ? p.grants[i].department : NULL,
				 "region", p.grants[i].region[0] ? p.grants[i].region : NULL));
	return a;
}

tb_rc tb_identity_staff_get(struct tb_db *db, int64_t id, json_t **out, struct tb_err *err)
{
	json_t *o;
	tb_rc rc = idn_user_json(db, id, false, &o);
	if (rc == TB_ENOTFOUND)
		return tb_fail(err, rc, "id", "no staff %lld", (long long)id);
	if (rc)
		return rc;
	if (strcmp(json_string_value(json_object_get(o, "kind")), "staff")) {
		json_decref(o);
		return tb_fail(err, TB_ENOTFOUND, "id", "no staff %lld", (long long)id);
	}
	json_object_set_new(o, "roles", grants_json(db, id, &rc));
	if (rc) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return TB_OK;
}

/* Staff a principal sees: those whose department and region one of its grants covers
 * (staff bound to no department only by grants over every department and region). */
static bool sees(const struct tb_principal *p, const char *dept, const char *region)
{
	for (int i = 0; i < p->ngrants; i++) {
		const struct tb_grant *g = &p->grants[i];
		if (!*dept || !*region) {
			if (!g->department[0] && !g->region[0])
				return true;
			continue;
		}
		if (tb_principal_has_role(p, g->role, dept, region))
			return true;
	}
	return false;
}

tb_rc tb_identity_staff_list(struct tb_db *db, const struct tb_principal *p, int page, int per_page,
			     json_t **out, struct tb_err *err)
{
	struct tb_stmt *st;
	tb_rc rc = tb_db_prepare(db,
				 "SELECT id, department, region FROM users WHERE kind = 'staff' "
				 "ORDER BY id",
				 &st);
	if (rc)
		return rc;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	bool row;
	while (!(rc = tb_stmt_step(st, &row)) && row) {
		const char *d = tb_stmt_null(st, 1) ? "" : tb_stmt_text(st, 1);
		const char *g = tb_stmt_null(st, 2) ? "" : tb_stmt_text(st, 2);
		if (!sees(p, d, g))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			int64_t *x = realloc(ids, cap * sizeof(*ids));
			if (!x) {
				rc = TB_ENOMEM;
				break;
			}
			ids = x;
		}
		ids[n++] = tb_stmt_int(st, 0);
	}
	tb_stmt_done(st);
	json_t *items = json_array();
	size_t from = (size_t)(page - 1) * (size_t)per_page;
	for (size_t i = from; !rc && i < n && i < from + (size_t)per_page; i++) {
		json_t *o;
		if (!(rc = tb_identity_staff_get(db, ids[i], &o, err)))
			json_array_append_new(items, o);
	}
	free(ids);
	if (rc) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o,s:I,s:i,s:i}", "items", items, "total", (json_int_t)n, "page", page,
			 "per_page", per_page);
	return TB_OK;
}

tb_rc tb_identity_staff_set_roles(struct tb_db *db, const struct tb_principal *p, int64_t id,
				  unsigned roles, struct tb_err *err)
{
	json_t *o;
	tb_rc rc = tb_identity_staff_get(db, id, &o, err);
	if (rc)
		return rc;
	const char *d = json_string_value(json_object_get(o, "department"));
	const char *g = json_string_value(json_object_get(o, "region"));
	bool allowed =
	    tb_principal_has_role(p, TB_ROLE_PLATFORM_ADMIN, NULL, NULL) ||
	    (!(roles & (TB_ROLE_PLATFORM_ADMIN | TB_ROLE_AUDITOR | TB_ROLE_SUPERVISOR)) && d && g &&
	     tb_principal_has_role(p, TB_ROLE_DEPT_ADMIN, d, g));
	bool scoped_roles = roles & ~(unsigned)(TB_ROLE_PLATFORM_ADMIN | TB_ROLE_AUDITOR);
	json_decref(o);
	if (!allowed)
		return tb_fail(err, TB_EFORBIDDEN, NULL,
			       "you may not give these roles to staff of that department");
	if (scoped_roles && (!d || !g))
		return tb_fail(err, TB_EINVAL, "roles",
			       "this member of staff has no department: only platform_admin and "
			       "auditor");
	if ((rc = tb_db_begin(db, true)))
		return rc;
	char detail[32];
	snprintf(detail, sizeof(detail), "roles %#x", roles);
	if (!(rc = idn_staff_grants_replace(db, id, roles)) &&
	    !(rc = tb_identity_audit(db, p->user_id, "staff.roles", id, "", detail)))
		rc = tb_db_commit(db);
	else
		tb_db_rollback(db);
	return rc;
}

tb_rc tb_identity_raise_assurance(struct tb_db *db, const struct tb_principal *p,
				  const char *id_number, const char *name, int level,
				  const char *reason, json_t **out, struct tb_err *err)
{
	char idn[19];
	if (!idn_id_number(id_number, "id_number", idn, err) || !idn_name(name, "name", err))
		return TB_EINVAL;
	int64_t id;
	char stored[192];
	tb_rc rc = idn_find_person(db, idn, &id, stored, sizeof(stored));
	if (rc)
		return rc;
	struct tb_stmt *st;
	if (!id)
		return tb_fail(err, TB_ENOTFOUND, "id_number",
			       "no person with this ID number has an account");
	if (strcmp(stored, name))
		return tb_fail(err, TB_EINVAL, "name", "the name does not match the account's");
	if ((rc = tb_db_begin(db, true)))
		return rc;
	if (!(rc =
		  tb_db_prepare(db,
				"UPDATE users SET assurance = ?, assurance_by = ? WHERE id = ? AND "
				"assurance < ?",
				&st))) {
		tb_stmt_bind_int(st, 1, level);
		tb_stmt_bind_int(st, 2, p->user_id);
		tb_stmt_bind_int(st, 3, id);
		tb_stmt_bind_int(st, 4, level);
		rc = tb_stmt_exec(st, NULL);
		tb_stmt_done(st);
	}
	if (!rc)
		rc = tb_identity_audit(db, p->user_id, "assurance.raise", id, reason, "level 3");
	if (!rc)
		rc = tb_db_commit(db);
	else
		tb_db_rollback(db);
	if (rc)
		return rc;
	return idn_user_json(db, id, false, out);
}

tb_rc tb_identity_person_get(struct tb_db *db, const struct tb_principal *p, int64_t id,
			     bool reveal, const char *reason, json_t **out, struct tb_err *err)
{
	if (reveal && !tb_principal_has_role(p, TB_ROLE_CLERK | TB_ROLE_APPROVER, NULL, NULL))
		return tb_fail(err, TB_EFORBIDDEN, NULL,
			       "only window clerks and approvers may see a full ID number");
	json_t *o;
	tb_rc rc = idn_user_json(db, id, reveal, &o);
	if (rc == TB_ENOTFOUND)
		return tb_fail(err, rc, "id", "no person %lld", (long long)id);
	if (rc)
		return rc;
	if (strcmp(json_string_value(json_object_get(o, "kind")), "person")) {
		json_decref(o);
		return tb_fail(err, TB_ENOTFOUND, "id", "no person %lld", (long long)id);
	}
	if (reveal) {
		/* the full phone is not what was asked for */
		json_t *m;
		if (!idn_user_json(db, id, false, &m)) {
			json_object_set(o, "phone", json_object_get(m, "phone"));
			json_decref(m);
		}
		if ((rc = tb_identity_audit(db, p->user_id, "id_number.reveal", id, reason, ""))) {
			json_decref(o);
			return rc;
		}
	}
	*out = o;
	return TB_OK;
}

tb_rc tb_identity_audit_list(struct tb_db *db, int page, int per_page, json_t **out,
			     struct tb_err *err)
{
	(void)err;
	struct tb_stmt *st;
	int64_t total = 0;
	bool row = false;
	tb_rc rc = tb_db_prepare(db, "SELECT count(*) FROM audit_log", &st);
	if (rc)
		return rc;
	if (!(rc = tb_stmt_step(st, &row)) && row)
		total = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	if (rc ||
	    (rc = tb_db_prepare(db,
				"SELECT a.id, a.at, a.actor, u.name, a.action, a.target_user, "
				"a.reason, a.detail FROM audit_log a LEFT JOIN users u ON u.id "
				"= a.actor ORDER BY a.id DESC LIMIT ? OFFSET ?",
				&st)))
		return rc;
	tb_stmt_bind_int(st, 1, per_page);
	tb_stmt_bind_int(st, 2, (int64_t)(page - 1) * per_page);
	json_t *items = json_array();
	while (!(rc = tb_stmt_step(st, &row)) && row) {
		json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)tb_stmt_int(st, 0),
				      "at", tb_stmt_text(st, 1), "action", tb_stmt_text(st, 4),
				      "reason", tb_stmt_text(st, 6), "detail", tb_stmt_text(st, 7));
		json_object_set_new(
		    o, "actor",
		    tb_stmt_null(st, 2)
			? json_null()
			: json_pack("{s:I,s:s?}", "id", (json_int_t)tb_stmt_int(st, 2), "name",
				    tb_stmt_null(st, 3) ? NULL : tb_stmt_text(st, 3)));
		json_object_set_new(o, "target_user",
				    tb_stmt_null(st, 5) ? json_null()
							: json_integer(tb_stmt_int(st, 5)));
		json_array_append_new(items, o);
	}
	tb_stmt_done(st);
	if (rc) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o,s:I,s:i,s:i}", "items", items, "total", (json_int_t)total, "page",
			 page, "per_page", per_page);
	return TB_OK;
}
