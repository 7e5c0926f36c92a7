/* case.c: drafts, submission, the case as its parties see it, and actions. */
#include "base/codes.h"
#include "base/log.h"
#include "base/mask.h"
#include "cases/blob.h"
#include "cases/internal.h"
#include "catalog/catalog.h"
#include "catalog/form.h"
#include "identity/identity.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILES_PER_CASE 60

/* ---- the implementation a case is filed under ---- */

struct cs_impl {
	json_t *doc;	   /* tb_catalog_get_impl's answer */
	json_t *guide;	   /* borrowed from doc */
	json_t *form;	   /* own reference: the guide's form or the default */
	json_t *materials; /* borrowed; may be NULL */
	const char *catalog_code, *name, *item_type, *department, *department_name, *region,
	    *case_type;
	int version, visits;
	bool for_person, for_enterprise;
};

static void impl_release(struct cs_impl *m)
{
	json_decref(m->form);
	json_decref(m->doc);
	memset(m, 0, sizeof(*m));
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* Parsed guides, by implementation and version. A guide version is never changed
 * (an edit adds one), so a cached one stays right; what the catalogue adds around it
 * (the department's name) may lag by up to CACHE_MS. Entries are shared read-only
 * between threads (jansson's reference counts are atomic here); what goes out in an
 * answer is copied (DESIGN.md: a value must not be encoded by two threads at once). */
#define CACHE_SLOTS 512
#define CACHE_MS    60000
static struct {
	pthread_mutex_t lock;
	struct {
		char code[32];
		int version;
		int64_t at_ms;
		json_t *doc;
	} e[CACHE_SLOTS];
} g_guides = {.lock = PTHREAD_MUTEX_INITIALIZER};

static unsigned guide_slot(const char *code, int version)
{
	uint32_t h = 2166136261u;
	for (const char *p = code; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return (h ^ (uint32_t)version * 2654435761u) % CACHE_SLOTS;
}

static tb_rc guide_doc(struct tb_db *db, const char *impl_code, int version, json_t **out,
		       struct tb_err *err)
{
	tb_rc rc;
	if (version == 0) {
		/* the current version: one indexed read, then the cache */
		struct tb_stmt *st;
		bool row = false;
		if ((rc = tb_db_prepare(
			 db, "SELECT version FROM implementations WHERE impl_code = ?", &st)))
			return rc;
		tb_stmt_bind_text(st, 1, impl_code);
		if (!(rc = tb_stmt_step(st, &row)) && row)
			version = (int)tb_stmt_int(st, 0);
		tb_stmt_done(st);
		if (rc)
			return rc;
		if (!row)
			return tb_fail(err, TB_ENOTFOUND, "impl_code", "no implementation %s",
				       impl_code);
	}
	int64_t now;
	char at[32];
	cs_now(at, &now);
	unsigned k = guide_slot(impl_code, version);
	pthread_mutex_lock(&g_guides.lock);
	json_t *doc = NULL;
	if (g_guides.e[k].doc && g_guides.e[k].version == version &&
	    !strcmp(g_guides.e[k].code, impl_code) && now - g_guides.e[k].at_ms < CACHE_MS)
		doc = json_incref(g_guides.e[k].doc);
	pthread_mutex_unlock(&g_guides.lock);
	if (doc) {
		*out = doc;
		return TB_OK;
	}
	char *text = NULL;
	size_t len = 0;
	if ((rc = tb_catalog_get_impl(db, impl_code, version, &text, &len, err)))
		return rc;
	doc = json_loadb(text, len, 0, NULL);
	free(text);
	if (!doc)
		return tb_fail(err, TB_EINTERNAL, NULL, "the guide of %s does not parse",
			       impl_code);
	if (strlen(impl_code) < sizeof(g_guides.e[k].code)) {
		pthread_mutex_lock(&g_guides.lock);
		json_t *old = g_guides.e[k].doc;
		snprintf(g_guides.e[k].code, sizeof(g_guides.e[k].code), "%s", impl_code);
		g_guides.e[k].version = version;
		g_guides.e[k].at_ms = now;
		g_guides.e[k].doc = json_incref(doc);
		pthread_mutex_unlock(&g_guides.lock);
		json_decref(old);
	}
	*out = doc;
	return TB_OK;
}

static tb_rc impl_load(struct tb_db *db, const char *impl_code, int version, struct cs_impl *m,
		       struct tb_err *err)
{
	memset(m, 0, sizeof(*m));
	tb_rc rc = guide_doc(db, impl_code, version, &m->doc, err);
	if (rc)
		return rc;
	m->guide = json_object_get(m->doc, "guide");
	json_t *form = json_object_get(m->guide, "form");
	m->form = form ? json_incref(form) : tb_form_default();
	m->materials = json_object_get(m->guide, "materials");
	m->catalog_code = jstr(m->doc, "catalog_code");
	m->name = jstr(m->doc, "name");
	m->item_type = jstr(m->doc, "item_type");
	m->department = jstr(json_object_get(m->doc, "department"), "uscc");
	m->department_name = jstr(json_object_get(m->doc, "department"), "name");
	m->region = jstr(json_object_get(m->doc, "region"), "code");
	m->case_type = jstr(m->doc, "case_type");
	m->version = (int)json_integer_value(json_object_get(m->doc, "version"));
	m->visits = (int)json_integer_value(json_object_get(m->doc, "visits"));
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(m->doc, "service_objects"), i, v)
	{
		const char *s = json_string_value(v);
		if (s && !strcmp(s, "1"))
			m->for_person = true;
		else if (s)
			m->for_enterprise = true;
	}
	return TB_OK;
}

static json_t *impl_material(const struct cs_impl *m, int seq)
{
	return seq >= 1 ? json_array_get(m->materials, (size_t)seq - 1) : NULL;
}

/* The limit a case's clock runs: the promised one, else the legal one. */
static void impl_limit(const struct cs_impl *m, const char *which, int *value, const char **unit)
{
	json_t *l = json_object_get(m->guide, which);
	*value = (int)json_integer_value(json_object_get(l, "value"));
	*unit = json_string_value(json_object_get(l, "unit"));
	if (!*unit)
		*value = 0;
}

/* ---- pieces of the JSON answers ---- */

/* The rows of a query over one case as a JSON array, one object a row. */
static tb_rc rows_json(struct tb_db *db, const char *sql, int64_t case_id,
		       json_t *(*row)(struct tb_stmt *st), json_t **out)
{
	struct tb_stmt *st;
	bool more;
	tb_rc rc = tb_db_prepare(db, sql, &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, case_id);
	json_t *a = json_array();
	while (!(rc = tb_stmt_step(st, &more)) && more)
		json_array_append_new(a, row(st));
	tb_stmt_done(st);
	if (rc)
		json_decref(a);
	else
		*out = a;
	return rc;
}

static json_t *files_row(struct tb_stmt *st)
{
	return json_pack("{s:I,s:o,s:s,s:s,s:s,s:I,s:s,s:s}", "id", (json_int_t)tb_stmt_int(st, 0),
			 "material_seq",
			 tb_stmt_null(st, 1) ? json_null() : json_integer(tb_stmt_int(st, 1)),
			 "purpose", tb_stmt_text(st, 2), "file_name", tb_stmt_text(st, 3), "mime",
			 tb_stmt_text(st, 4), "size", (json_int_t)tb_stmt_int(st, 5), "sha256",
			 tb_stmt_text(st, 6), "uploaded_at", tb_stmt_text(st, 7));
}

static tb_rc files_json(struct tb_db *db, int64_t case_id, json_t **out)
{
	return rows_json(db,
			 "SELECT id, material_seq, purpose, file_name, mime, size, sha256, "
			 "uploaded_at FROM case_files WHERE case_id = ? AND removed_at IS "
			 "NULL ORDER BY id",
			 case_id, files_row, out);
}

static tb_rc deferrals_json(struct tb_db *db, int64_t case_id, json_t **out)
{
	struct tb_stmt *st;
	bool row;
	tb_rc rc = tb_db_prepare(db,
				 "SELECT material_seq, commitment, created_at, fulfilled_at FROM "
				 "case_deferrals WHERE case_id = ?",
				 &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, case_id);
	json_t *o = json_object();
	while (!(rc = tb_stmt_step(st, &row)) && row) {
		char k[16];
		snprintf(k, sizeof(k), "%lld", (long long)tb_stmt_int(st, 0));
		json_object_set_new(o, k,
				    json_pack("{s:s,s:s,s:o}", "commitment", tb_stmt_text(st, 1),
					      "created_at", tb_stmt_text(st, 2), "fulfilled_at",
					      tb_stmt_null(st, 3)
						  ? json_null()
						  : json_string(tb_stmt_text(st, 3))));
	}
	tb_stmt_done(st);
	if (rc)
		json_decref(o);
	else
		*out = o;
	return rc;
}

/* The guide's materials with the files and deferrals of the case; files not tied to
 * a material stay in *rest. */
static tb_rc materials_json(struct tb_db *db, const struct cs_impl *m, int64_t case_id,
			    json_t **out, json_t **rest)
{
	json_t *files = NULL, *defs = NULL;
	tb_rc rc = files_json(db, case_id, &files);
	if (!rc)
		rc = deferrals_json(db, case_id, &defs);
	if (rc) {
		json_decref(files);
		return rc;
	}
	json_t *list = json_array(), *other = json_array();
	size_t i;
	json_t *mat;
	json_array_foreach(m->materials, i, mat)
	{
		int seq = (int)i + 1;
		char code[40], k[16];
		snprintf(code, sizeof(code), "%s%03d", jstr(m->doc, "impl_code"), seq);
		snprintf(k, sizeof(k), "%d", seq);
		json_t *d = json_object_get(defs, k);
		json_t *mine = json_array();
		size_t j;
		json_t *f;
		json_array_foreach(files, j, f)
		{
			if (json_integer_value(json_object_get(f, "material_seq")) == seq &&
			    !strcmp(jstr(f, "purpose"), "application"))
				json_array_append(mine, f);
		}
		json_t *licence = json_object_get(mat, "licence_type");
		json_array_append_new(
		    list,
		    json_pack("{s:i,s:s,s:s,s:s,s:s,s:O,s:o,s:b,s:o}", "seq", seq, "code", code,
			      "name", jstr(mat, "name"), "necessity", jstr(mat, "necessity"),
			      "source", jstr(mat, "source"), "licence_type",
			      licence ? licence : json_null(), "files", mine, "deferred", d != NULL,
			      "commitment",
			      d ? json_incref(json_object_get(d, "commitment")) : json_null()));
	}
	size_t j;
	json_t *f;
	json_array_foreach(files, j, f)
	{
		if (strcmp(jstr(f, "purpose"), "application"))
			json_array_append(other, f);
	}
	json_decref(files);
	json_decref(defs);
	*out = list;
	if (rest)
		*rest = other;
	else
		json_decref(other);
	return TB_OK;
}

static tb_rc form_of(const struct cs_case *c, struct tb_db *db, json_t **out)
{
	struct tb_stmt *st;
	bool row = false;
	tb_rc rc = tb_db_prepare(db, "SELECT form_sealed FROM cases WHERE id = ?", &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, c->id);
	struct tb_buf b;
	tb_buf_init(&b, 0);
	if (!(rc = tb_stmt_step(st, &row)) && row)
		rc = cs_open("form", c->id, tb_stmt_text(st, 0), &b);
	tb_stmt_done(st);
	if (!rc) {
		*out = json_loadb(b.data ? b.data : "{}", b.len ? b.len : 2, 0, NULL);
		if (!*out)
			rc = TB_EINTERNAL;
	}
	tb_buf_release(&b);
	return rc;
}

static tb_rc form_store(struct tb_db *db, int64_t id, json_t *form)
{
	char *s = json_dumps(form, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s)
		return TB_ENOMEM;
	struct tb_buf b;
	tb_buf_init(&b, 0);
	tb_rc rc = cs_seal("form", id, s, strlen(s), &b);
	free(s);
	struct tb_stmt *st = NULL;
	if (!rc &&
	    !(rc = tb_db_prepare(db, "UPDATE cases SET form_sealed = ? WHERE id = ?", &st))) {
		tb_stmt_bind_text(st, 1, b.data);
		tb_stmt_bind_int(st, 2, id);
		rc = tb_stmt_exec(st, NULL);
	}
	tb_stmt_done(st);
	tb_buf_release(&b);
	return rc;
}

/* The applicant's full ID number (for the holder and for prefill). */
static tb_rc applicant_id(struct tb_db *db, int64_t id, char out[19])
{
	struct tb_stmt *st;
	bool row = false;
	out[0] = 0;
	tb_rc rc = tb_db_prepare(db, "SELECT applicant_id_sealed FROM cases WHERE id = ?", &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, id);
	struct tb_buf b;
	tb_buf_init(&b, 0);
	if (!(rc = tb_stmt_step(st, &row)) && row)
		rc = cs_open("applicant_id", id, tb_stmt_text(st, 0), &b);
	tb_stmt_done(st);
	if (!rc && b.len < 19)
		memcpy(out, b.data, b.len + 1);
	tb_buf_release(&b);
	return rc;
}

static tb_rc applicant_json(struct tb_db *db, const struct cs_case *c, bool holder, json_t **out)
{
	char idn[19] = "";
	const char *shown = c->applicant_id_masked;
	if (holder) {
		tb_rc rc = applicant_id(db, c->id, idn);
		if (rc)
			return rc;
		shown = idn;
	}
	char name[192];
	if (holder)
		snprintf(name, sizeof(name), "%s", c->applicant_name);
	else
		snprintf(name, sizeof(name), "%s", c->applicant_name);
	*out =
	    json_pack("{s:s,s:s,s:s,s:o,s:o}", "kind", c->applicant_kind, "name", name, "id_number",
		      shown, "enterprise_name",
		      c->enterprise_name[0] ? json_string(c->enterprise_name) : json_null(), "uscc",
		      c->enterprise_uscc[0] ? json_string(c->enterprise_uscc) : json_null());
	return TB_OK;
}

static json_t *dept_json(const struct cs_impl *m)
{
	return json_pack("{s:s,s:s}", "uscc", m->department, "name", m->department_name);
}

/* ---- drafts ---- */

static bool draft_access(const struct tb_principal *p, const struct cs_case *c)
{
	if (!strcmp(c->channel, "window"))
		return p->kind == TB_PRINCIPAL_STAFF && c->opened_by == p->user_id;
	return p->kind == TB_PRINCIPAL_PERSON && c->applicant_user == p->user_id;
}

static tb_rc draft_json(struct tb_db *db, const struct cs_case *c, const struct cs_impl *m,
			json_t **out)
{
	json_t *form = NULL, *materials = NULL, *applicant = NULL;
	tb_rc rc = form_of(c, db, &form);
	if (!rc)
		rc = materials_json(db, m, c->id, &materials, NULL);
	if (!rc)
		rc = applicant_json(db, c, true, &applicant);
	if (rc) {
		json_decref(form);
		json_decref(materials);
		return rc;
	}
	*out = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:i,s:o,s:o,s:o,s:o,s:s,s:s}", "id",
			 (json_int_t)c->id, "state", "draft", "channel", c->channel, "impl_code",
			 c->impl_code, "catalog_code", c->catalog_code, "item_name", c->item_name,
			 "department", dept_json(m), "region", c->region, "case_type", c->case_type,
			 "guide_version", c->guide_version, "applicant", applicant, "form_schema",
			 json_deep_copy(m->form), "form", form, "materials", materials,
			 "created_at", c->created_at, "updated_at", c->updated_at);
	return TB_OK;
}

static tb_rc draft_load(struct tb_db *db, const struct tb_principal *p, int64_t id,
			struct cs_case *c, struct cs_impl *m, struct tb_err *err)
{
	tb_rc rc = cs_load(db, NULL, id, c, err);
	if (rc)
		return rc;
	if (!draft_access(p, c) || strcmp(c->state, "draft"))
		return tb_fail(err, TB_ENOTFOUND, "id", "没有这份草稿");
	if (m)
		rc = impl_load(db, c->impl_code, c->guide_version, m, err);
	return rc;
}

static tb_rc touch(struct tb_db *db, int64_t id)
{
	char at[32];
	cs_now(at, NULL);
	struct tb_stmt *st;
	tb_rc rc = tb_db_prepare(db, "UPDATE cases SET updated_at = ? WHERE id = ?", &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, at);
	tb_stmt_bind_int(st, 2, id);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc;
}

/* Insert a draft for p (a person applying, or a clerk for a walk-in). */
static tb_rc draft_insert(struct tb_db *db, const struct tb_principal *p, const struct cs_impl *m,
			  const char *impl_code, const struct tb_walk_in *walk_in, int64_t *id,
			  struct tb_case_problem *pb)
{
	struct tb_err *err = &pb->err;
	char idn[19] = "", phone[12] = "", name[192] = "";
	int64_t applicant = 0;
	const char *kind = "person", *uscc = NULL, *ent_name = NULL;
	json_t *me = NULL;
	tb_rc rc;
	if (walk_in) {
		if (!tb_principal_has_role(p, TB_ROLE_CLERK, m->department, m->region))
			return tb_fail(err, TB_EFORBIDDEN, NULL,
				       "只有该事项所属部门和地区的窗口人员可以代为受理");
		if (!walk_in->name || !*walk_in->name || strlen(walk_in->name) > 150)
			return tb_fail(err, TB_EINVAL, "applicant.name", "请填写申请人姓名");
		if (!tb_identity_check_id_number(walk_in->id_number, "applicant.id_number", idn,
						 err))
			return TB_EINVAL;
		if (walk_in->phone && *walk_in->phone &&
		    !tb_identity_check_phone(walk_in->phone, "applicant.phone", phone, err))
			return TB_EINVAL;
		if (!m->for_person)
			return tb_fail(err, TB_EINVAL, "impl_code", "该事项不面向自然人");
		snprintf(name, sizeof(name), "%s", walk_in->name);
		if ((rc = tb_identity_find_person(db, idn, &applicant)))
			return rc;
	} else {
		if (p->kind != TB_PRINCIPAL_PERSON)
			return tb_fail(err, TB_EFORBIDDEN, NULL, "only persons apply online");
		if ((rc = tb_identity_me(db, p->user_id, &me, err)))
			return rc;
		snprintf(name, sizeof(name), "%s", jstr(me, "name"));
		snprintf(idn, sizeof(idn), "%s", jstr(me, "id_number"));
		snprintf(phone, sizeof(phone), "%s", jstr(me, "phone"));
		applicant = p->user_id;
		if (p->acting.capacity != TB_CAPACITY_NONE) {
			if (!tb_principal_acting_covers(p, m->catalog_code)) {
				json_decref(me);
				return tb_fail(err, TB_EFORBIDDEN, NULL,
					       "您的授权不包括该事项，请由法定代表人授权");
			}
			if (!m->for_enterprise) {
				json_decref(me);
				return tb_fail(err, TB_EINVAL, "impl_code",
					       "该事项不面向法人，请切换为个人身份办理");
			}
			kind = "enterprise";
			uscc = p->acting.uscc;
			ent_name = p->acting.name;
		} else if (!m->for_person) {
			json_decref(me);
			return tb_fail(err, TB_EINVAL, "impl_code",
				       "该事项面向法人，请先切换到所代表的企业");
		}
	}
	char key[64];
	int wfv = 0;
	if ((rc = cs_workflow_for(db, impl_code, m->catalog_code, m->item_type, key, &wfv, err))) {
		json_decref(me);
		return rc;
	}
	char at[32], idx[65], masked[32];
	int64_t ms;
	cs_now(at, &ms);
	tb_mask_id_number(idn, masked, sizeof(masked));
	if ((rc = tb_identity_index(idn, idx))) {
		json_decref(me);
		return rc;
	}
	struct tb_stmt *st;
	bool row = false;
	if ((rc = tb_db_prepare(
		 db,
		 "INSERT INTO cases (state, impl_code, catalog_code, item_name, department, "
		 "region, "
		 "guide_version, case_type, workflow_key, workflow_version, channel, opened_by, "
		 "applicant_user, applicant_kind, applicant_name, applicant_id_sealed, "
		 "applicant_id_index, applicant_id_masked, enterprise_uscc, enterprise_name, "
		 "form_sealed, visits_needed, visits_made, created_at, updated_at) VALUES "
		 "('draft', "
		 "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, '', ?, ?, ?, ?) "
		 "RETURNING id",
		 &st))) {
		json_decref(me);
		return rc;
	}
	tb_stmt_bind_text(st, 1, impl_code);
	tb_stmt_bind_text(st, 2, m->catalog_code);
	tb_stmt_bind_text(st, 3, m->name);
	tb_stmt_bind_text(st, 4, m->department);
	tb_stmt_bind_text(st, 5, m->region);
	tb_stmt_bind_int(st, 6, m->version);
	tb_stmt_bind_text(st, 7, m->case_type);
	tb_stmt_bind_text(st, 8, key);
	tb_stmt_bind_int(st, 9, wfv);
	tb_stmt_bind_text(st, 10, walk_in ? "window" : "online");
	if (walk_in)
		tb_stmt_bind_int(st, 11, p->user_id);
	else
		tb_stmt_bind_null(st, 11);
	if (applicant)
		tb_stmt_bind_int(st, 12, applicant);
	else
		tb_stmt_bind_null(st, 12);
	tb_stmt_bind_text(st, 13, kind);
	tb_stmt_bind_text(st, 14, name);
	tb_stmt_bind_text(st, 15, idx);
	tb_stmt_bind_text(st, 16, masked);
	tb_stmt_bind_text(st, 17, uscc);
	tb_stmt_bind_text(st, 18, ent_name);
	tb_stmt_bind_int(st, 19, m->visits);
	tb_stmt_bind_int(st, 20, walk_in ? 1 : 0);
	tb_stmt_bind_text(st, 21, at);
	tb_stmt_bind_text(st, 22, at);
	if (!(rc = tb_stmt_step(st, &row)) && row)
		*id = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	if (!rc && !row)
		rc = TB_EDB;
	struct tb_buf b;
	tb_buf_init(&b, 0);
	if (!rc)
		rc = cs_seal("applicant_id", *id, idn, strlen(idn), &b);
	if (!rc && !(rc = tb_db_prepare(db, "UPDATE cases SET applicant_id_sealed = ? WHERE id = ?",
					&st))) {
		tb_stmt_bind_text(st, 1, b.data);
		tb_stmt_bind_int(st, 2, *id);
		rc = tb_stmt_exec(st, NULL);
		tb_stmt_done(st);
	}
	tb_buf_release(&b);
	if (!rc) {
		struct tb_form_known k = {name, idn, phone[0] ? phone : NULL, ent_name, uscc, NULL};
		if (uscc)
			k.enterprise_legal_rep = NULL;
		json_t *pre = tb_form_prefill(m->form, &k);
		rc = form_store(db, *id, pre ? pre : json_object());
		json_decref(pre);
	}
	json_decref(me);
	return rc;
}

tb_rc tb_cases_draft_create(struct tb_db *db, const struct tb_principal *p, const char *impl_code,
			    const struct tb_walk_in *walk_in, json_t **out,
			    struct tb_case_problem *pb)
{
	struct cs_impl m;
	tb_rc rc = impl_load(db, impl_code, 0, &m, &pb->err);
	if (rc)
		return rc == TB_ENOTFOUND ? tb_fail(&pb->err, TB_EINVAL, "impl_code",
						    "没有实施编码为 %s 的事项", impl_code)
					  : rc;
	if ((rc = tb_db_begin(db, true))) {
		impl_release(&m);
		return rc;
	}
	int64_t id = 0;
	struct cs_case c;
	if (!(rc = draft_insert(db, p, &m, impl_code, walk_in, &id, pb)) &&
	    !(rc = cs_load(db, NULL, id, &c, &pb->err)))
		rc = draft_json(db, &c, &m, out);
	rc = tb_db_finish(db, rc);
	impl_release(&m);
	return rc;
}

tb_rc tb_cases_draft_get(struct tb_db *db, const struct tb_principal *p, int64_t id, json_t **out,
			 struct tb_err *err)
{
	struct cs_case c;
	struct cs_impl m;
	tb_rc rc = tb_db_begin(db, false);
	if (rc)
		return rc;
	if (!(rc = draft_load(db, p, id, &c, &m, err))) {
		rc = draft_json(db, &c, &m, out);
		impl_release(&m);
	}
	tb_db_rollback(db);
	return rc;
}

tb_rc tb_cases_drafts(struct tb_db *db, const struct tb_principal *p, int page, int per_page,
		      json_t **out, struct tb_err *err)
{
	(void)err;
	bool staff = p->kind == TB_PRINCIPAL_STAFF;
	const char *who = staff ? "opened_by = ? AND channel = 'window'"
				: "applicant_user = ? AND channel = 'online'";
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "SELECT id, impl_code, item_name, created_at, updated_at FROM cases WHERE "
		 "state = 'draft' AND %s ORDER BY id DESC LIMIT ? OFFSET ?",
		 who);
	struct tb_stmt *st;
	bool row;
	tb_rc rc = tb_db_prepare(db, sql, &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, p->user_id);
	tb_stmt_bind_int(st, 2, per_page);
	tb_stmt_bind_int(st, 3, (int64_t)(page - 1) * per_page);
	json_t *items = json_array();
	while (!(rc = tb_stmt_step(st, &row)) && row)
		json_array_append_new(items, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s}", "id",
						       (json_int_t)tb_stmt_int(st, 0), "state",
						       "draft", "impl_code", tb_stmt_text(st, 1),
						       "item_name", tb_stmt_text(st, 2),
						       "created_at", tb_stmt_text(st, 3),
						       "updated_at", tb_stmt_text(st, 4)));
	tb_stmt_done(st);
	int64_t total = 0;
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM cases WHERE state = 'draft' AND %s", who);
	if (!rc && !(rc = tb_db_prepare(db, sql, &st))) {
		tb_stmt_bind_int(st, 1, p->user_id);
		if (!(rc = tb_stmt_step(st, &row)) && row)
			total = tb_stmt_int(st, 0);
		tb_stmt_done(st);
	}
	if (rc) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o,s:I,s:i,s:i}", "items", items, "total", (json_int_t)total, "page",
			 page, "per_page", per_page);
	return TB_OK;
}

tb_rc tb_cases_draft_save(struct tb_db *db, const struct tb_principal *p, int64_t id, json_t *form,
			  json_t **out, struct tb_case_problem *pb)
{
	if (!json_is_object(form))
		return tb_fail(&pb->err, TB_EINVAL, "form", "form must be an object");
	struct cs_case c;
	struct cs_impl m;
	tb_rc rc = tb_db_begin(db, true);
	if (rc)
		return rc;
	if ((rc = draft_load(db, p, id, &c, &m, &pb->err))) {
		tb_db_rollback(db);
		return rc;
	}
	json_t *errors = json_array();
	if (tb_form_validate(m.form, form, true, errors)) {
		pb->errors = errors;
		errors = NULL;
		rc = tb_fail(&pb->err, TB_EINVAL, "form", "表单有 %zu 处需要修改",
			     json_array_size(pb->errors));
	}
	json_decref(errors);
	if (!rc && !(rc = form_store(db, id, form)) && !(rc = touch(db, id)) &&
	    !(rc = cs_load(db, NULL, id, &c, &pb->err)))
		rc = draft_json(db, &c, &m, out);
	rc = tb_db_finish(db, rc);
	impl_release(&m);
	return rc;
}

tb_rc tb_cases_draft_delete(struct tb_db *db, const struct tb_principal *p, int64_t id,
			    struct tb_err *err)
{
	struct cs_case c;
	tb_rc rc = tb_db_begin(db, true);
	if (rc)
		return rc;
	if (!(rc = draft_load(db, p, id, &c, NULL, err))) {
		static const char *const sql[] = {
		    "DELETE FROM case_files WHERE case_id = ?",
		    "DELETE FROM case_deferrals WHERE case_id = ?",
		    "DELETE FROM cases WHERE id = ? AND state = 'draft'",
		};
		for (size_t i = 0; !rc && i < TB_ARRAY_LEN(sql); i++) {
			struct tb_stmt *st;
			if (!(rc = tb_db_prepare(db, sql[i], &st))) {
				tb_stmt_bind_int(st, 1, id);
				rc = tb_stmt_exec(st, NULL);
				tb_stmt_done(st);
			}
		}
	}
	rc = tb_db_finish(db, rc);
	return rc;
}

/* ---- files ---- */

static tb_rc file_insert(struct tb_db *db, int64_t case_id, const struct tb_upload *up, int64_t by,
			 json_t **out, struct tb_err *err)
{
	struct tb_stmt *st;
	bool row = false;
	int64_t n = 0;
	tb_rc rc = tb_db_prepare(
	    db, "SELECT COUNT(*) FROM case_files WHERE case_id = ? AND removed_at IS NULL", &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, case_id);
	if (!(rc = tb_stmt_step(st, &row)) && row)
		n = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	if (rc)
		return rc;
	if (n >= MAX_FILES_PER_CASE)
		return tb_fail(err, TB_ETOOBIG, "file", "一件申请最多上传 %d 个文件",
			       MAX_FILES_PER_CASE);
	char name[256];
	const char *fn = up->file_name && *up->file_name ? up->file_name : "file";
	snprintf(name, sizeof(name), "%s", fn);
	struct tb_blob_info bi;
	if (up->blob) {
		bi = *up->blob;
		rc = tb_blob_store(db, up->data, &bi, err);
	} else {
		rc = tb_blob_put(db, up->data, up->len, up->declared_type, "file", &bi, err);
	}
	if (rc)
		return rc;
	char at[32];
	cs_now(at, NULL);
	if ((rc = tb_db_prepare(db,
				"INSERT INTO case_files (case_id, material_seq, purpose, sha256, "
				"file_name, mime, size, uploaded_by, uploaded_at) VALUES (?, ?, ?, "
				"?, ?, ?, ?, ?, ?) RETURNING id",
				&st)))
		return rc;
	tb_stmt_bind_int(st, 1, case_id);
	if (up->material_seq > 0)
		tb_stmt_bind_int(st, 2, up->material_seq);
	else
		tb_stmt_bind_null(st, 2);
	tb_stmt_bind_text(st, 3, up->purpose);
	tb_stmt_bind_text(st, 4, bi.sha256);
	tb_stmt_bind_text(st, 5, name);
	tb_stmt_bind_text(st, 6, bi.mime);
	tb_stmt_bind_int(st, 7, bi.size);
	tb_stmt_bind_int(st, 8, by);
	tb_stmt_bind_text(st, 9, at);
	int64_t fid = 0;
	if (!(rc = tb_stmt_step(st, &row)) && row)
		fid = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	if (rc)
		return rc;
	if (out)
		*out = json_pack(
		    "{s:I,s:o,s:s,s:s,s:s,s:I,s:s,s:s}", "id", (json_int_t)fid, "material_seq",
		    up->material_seq > 0 ? json_integer(up->material_seq) : json_null(), "purpose",
		    up->purpose, "file_name", name, "mime", bi.mime, "size", (json_int_t)bi.size,
		    "sha256", bi.sha256, "uploaded_at", at);
	return TB_OK;
}

tb_rc tb_cases_draft_file_add(struct tb_db *db, const struct tb_principal *p, int64_t id,
			      const struct tb_upload *up, json_t **out, struct tb_err *err)
{
	struct cs_case c;
	struct cs_impl m;
	tb_rc rc = tb_db_begin(db, true);
	if (rc)
		return rc;
	if ((rc = draft_load(db, p, id, &c, &m, err))) {
		tb_db_rollback(db);
		return rc;
	}
	if (!impl_material(&m, up->material_seq))
		rc =
		    tb_fail(err, TB_EINVAL, "material", "该事项没有第 %d 项材料", up->material_seq);
	struct tb_upload u = *up;
	u.purpose = "application";
	if (!rc && !(rc = file_insert(db, id, &u, p->user_id, out, err)))
		rc = touch(db, id);
	rc = tb_db_finish(db, rc);
	impl_release(&m);
	return rc;
}

tb_rc tb_cases_draft_file_remove(struct tb_db *db, const struct tb_principal *p, int64_t id,
				 int64_t file_id, struct tb_err *err)
{
	struct cs_case c;
	tb_rc rc = tb_db_begin(db, true);
	if (rc)
		return rc;
	if (!(rc = draft_load(db, p, id, &c, NULL, err))) {
		struct tb_stmt *st;
		char at[32];
		cs_now(at, NULL);
		int64_t n = 0;
		if (!(rc = tb_db_prepare(db,
					 "UPDATE case_files SET removed_at = ? WHERE id = ? AND "
					 "case_id = ? AND removed_at IS NULL",
					 &st))) {
			tb_stmt_bind_text(st, 1, at);
			tb_stmt_bind_int(st, 2, file_id);
			tb_stmt_bind_int(st, 3, id);
			rc = tb_stmt_exec(st, &n);
			tb_stmt_done(st);
		}
		if (!rc && !n)
			rc = tb_fail(err, TB_ENOTFOUND, "file_id", "没有这个文件");
	}
	rc = tb_db_finish(db, rc);
	return rc;
}

static tb_rc defer_set(struct tb_db *db, const struct cs_impl *m, int64_t id, int seq,
		       const char *commitment, const char *field, struct tb_err *err)
{
	json_t *mat = impl_material(m, seq);
	if (!mat)
		return tb_fail(err, TB_EINVAL, field, "该事项没有第 %d 项材料", seq);
	struct tb_stmt *st;
	tb_rc rc;
	if (!commitment) {
		if ((rc = tb_db_prepare(
			 db, "DELETE FROM case_deferrals WHERE case_id = ? AND material_seq = ?",
			 &st)))
			return rc;
		tb_stmt_bind_int(st, 1, id);
		tb_stmt_bind_int(st, 2, seq);
		rc = tb_stmt_exec(st, NULL);
		tb_stmt_done(st);
		return rc;
	}
	if (strcmp(jstr(mat, "necessity"), "3"))
		return tb_fail(err, TB_EINVAL, field, "「%s」不是容缺后补材料，不能承诺后补",
			       jstr(mat, "name"));
	size_t len = strlen(commitment);
	if (len < 4 || len > 2000)
		return tb_fail(err, TB_EINVAL, "commitment",
			       "请写明承诺内容和补交期限（4 至 2000 字节）");
	char at[32];
	cs_now(at, NULL);
	if ((rc = tb_db_prepare(
		 db,
		 "INSERT INTO case_deferrals (case_id, material_seq, commitment, "
		 "created_at) VALUES (?, ?, ?, ?) ON CONFLICT (case_id, material_seq) "
		 "DO UPDATE SET commitment = excluded.commitment",
		 &st)))
		return rc;
	tb_stmt_bind_int(st, 1, id);
	tb_stmt_bind_int(st, 2, seq);
	tb_stmt_bind_text(st, 3, commitment);
	tb_stmt_bind_text(st, 4, at);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc;
}

tb_rc tb_cases_draft_defer(struct tb_db *db, const struct tb_principal *p, int64_t id, int seq,
			   const char *commitment, json_t **out, struct tb_err *err)
{
	struct cs_case c;
	struct cs_impl m;
	tb_rc rc = tb_db_begin(db, true);
	if (rc)
		return rc;
	if ((rc = draft_load(db, p, id, &c, &m, err))) {
		tb_db_rollback(db);
		return rc;
	}
	if (!(rc = defer_set(db, &m, id, seq, commitment, "seq", err)) && !(rc = touch(db, id)) &&
	    out && !(rc = cs_load(db, NULL, id, &c, err)))
		rc = draft_json(db, &c, &m, out);
	rc = tb_db_finish(db, rc);
	impl_release(&m);
	return rc;
}

/* ---- the case as its parties see it ---- */

static tb_rc timeline_json(struct tb_db *db, int64_t case_id, const struct tb_workflow *wf,
			   json_t **out, json_t *state_seconds, const char *state, int64_t now_ms)
{
	struct tb_stmt *st;
	bool row;
	tb_rc rc =
	    tb_db_prepare(db,
			  "SELECT seq, action, from_state, to_state, actor_name, actor_role, "
			  "comment, detail, at, at_ms FROM case_transitions WHERE case_id = ? "
			  "ORDER BY seq",
			  &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, case_id);
	json_t *a = json_array();
	int64_t prev_ms = 0;
	char prev_state[TB_WF_NAME + 1] = "";
	while (!(rc = tb_stmt_step(st, &row)) && row) {
		const char *action = tb_stmt_text(st, 1);
		const struct tb_wf_action *wa = tb_workflow_action(wf, action);
		const char *label = wa				  ? wa->label
				    : !strcmp(action, "submit")	  ? "提交申请"
				    : !strcmp(action, "escalate") ? "超期督办"
				    : !strcmp(action, "claim")	  ? "认领"
				    : !strcmp(action, "assign")	  ? "分派"
								  : action;
		const char *detail = tb_stmt_text(st, 7);
		json_t *d = detail && *detail ? json_loads(detail, 0, NULL) : NULL;
		int64_t at_ms = tb_stmt_int(st, 9);
		const char *to = tb_stmt_text(st, 3);
		if (prev_ms && prev_state[0] && strcmp(prev_state, to)) {
			json_int_t s =
			    json_integer_value(json_object_get(state_seconds, prev_state));
			json_object_set_new(state_seconds, prev_state,
					    json_integer(s + (at_ms - prev_ms) / 1000));
		}
		if (!prev_ms || strcmp(prev_state, to)) {
			prev_ms = at_ms;
			snprintf(prev_state, sizeof(prev_state), "%s", to);
		}
		json_array_append_new(
		    a, json_pack(
			   "{s:I,s:s,s:s,s:o,s:s,s:s,s:s,s:s,s:o,s:s}", "seq",
			   (json_int_t)tb_stmt_int(st, 0), "action", action, "label", label, "from",
			   tb_stmt_null(st, 2) ? json_null() : json_string(tb_stmt_text(st, 2)),
			   "to", to, "actor_name", tb_stmt_text(st, 4), "actor_role",
			   tb_stmt_text(st, 5), "comment", tb_stmt_text(st, 6), "detail",
			   d ? d : json_null(), "at", tb_stmt_text(st, 8)));
	}
	tb_stmt_done(st);
	int si = tb_workflow_state(wf, state);
	if (prev_ms && si >= 0 && !wf->states[si].terminal && !strcmp(prev_state, state)) {
		json_int_t s = json_integer_value(json_object_get(state_seconds, state));
		json_object_set_new(state_seconds, state,
				    json_integer(s + (now_ms - prev_ms) / 1000));
	}
	if (rc)
		json_decref(a);
	else
		*out = a;
	return rc;
}

static json_t *procedures_row(struct tb_stmt *st)
{
	return json_pack("{s:I,s:s,s:s,s:o,s:o}", "id", (json_int_t)tb_stmt_int(st, 0), "kind",
			 tb_stmt_text(st, 1), "reason", tb_stmt_text(st, 2), "start",
			 cs_date_json((tb_date)tb_stmt_int(st, 3)), "end",
			 cs_date_json(tb_stmt_null(st, 4) ? 0 : (tb_date)tb_stmt_int(st, 4)));
}

static tb_rc procedures_json(struct tb_db *db, int64_t case_id, json_t **out)
{
	return rows_json(db,
			 "SELECT id, kind, reason, start_date, end_date FROM case_procedures "
			 "WHERE case_id = ? ORDER BY id",
			 case_id, procedures_row, out);
}

static json_t *extensions_row(struct tb_stmt *st)
{
	return json_pack("{s:I,s:I,s:s,s:s,s:o}", "id", (json_int_t)tb_stmt_int(st, 0), "days",
			 (json_int_t)tb_stmt_int(st, 1), "reason", tb_stmt_text(st, 2),
			 "requested_at", tb_stmt_text(st, 3), "approved_at",
			 tb_stmt_null(st, 4) ? json_null() : json_string(tb_stmt_text(st, 4)));
}

static tb_rc extensions_json(struct tb_db *db, int64_t case_id, json_t **out)
{
	return rows_json(db,
			 "SELECT id, days, reason, requested_at, approved_at FROM "
			 "case_extensions WHERE case_id = ? ORDER BY id",
			 case_id, extensions_row, out);
}

/* The open correction request's items: those of the last request_correction when the
 * case waits for the applicant. */
static json_t *corrections_of(json_t *timeline, bool waiting)
{
	if (!waiting)
		return json_array();
	for (size_t i = json_array_size(timeline); i-- > 0;) {
		json_t *t = json_array_get(timeline, i);
		json_t *items = json_object_get(json_object_get(t, "detail"), "corrections");
		if (items)
			return json_incref(items);
	}
	return json_array();
}

static unsigned roles_over(const struct tb_principal *p, const struct cs_case *c)
{
	unsigned r = 0;
	for (unsigned bit = 1; bit <= TB_ROLE_ALL; bit <<= 1)
		if (tb_principal_has_role(p, bit, c->department, c->region))
			r |= bit;
	return r;
}

static tb_rc staff_name(struct tb_db *db, int64_t id, json_t **out)
{
	if (!id) {
		*out = json_null();
		return TB_OK;
	}
	struct tb_stmt *st;
	bool row = false;
	tb_rc rc = tb_db_prepare(db, "SELECT name FROM users WHERE id = ?", &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, id);
	*out = json_null();
	if (!(rc = tb_stmt_step(st, &row)) && row)
		*out = json_pack("{s:I,s:s}", "id", (json_int_t)id, "name", tb_stmt_text(st, 0));
	tb_stmt_done(st);
	return rc;
}

/* Personal data in a form (x-sensitive, ID numbers, phones) as anyone but the
 * applicant sees it: masked like the rest of the platform (base/mask.h). */
static void mask_form(json_t *schema, json_t *form)
{
	const char **names = tb_form_sensitive_fields(schema);
	for (size_t i = 0; names && names[i]; i++) {
		const char *v = json_string_value(json_object_get(form, names[i]));
		if (!v)
			continue;
		json_t *prop = json_object_get(json_object_get(schema, "properties"), names[i]);
		const char *format = json_string_value(json_object_get(prop, "format"));
		char m[256];
		if (format && !strcmp(format, "id_number"))
			tb_mask_id_number(v, m, sizeof(m));
		else if (format && !strcmp(format, "phone"))
			tb_mask_phone(v, m, sizeof(m));
		else
			tb_mask_name(v, m, sizeof(m));
		json_object_set_new(form, names[i], json_string(m));
	}
	free(names);
}

static tb_rc case_json(struct tb_db *db, const struct tb_principal *p, enum cs_access access,
		       const struct cs_case *c, json_t **out, struct tb_err *err)
{
	struct tb_workflow wf;
	struct cs_impl m;
	const struct tb_calendar *cal;
	tb_rc rc = cs_workflow_of(db, c->wf_key, c->wf_version, &wf, err);
	if (rc)
		return rc;
	if ((rc = tb_cases_calendar(db, &cal, err)))
		return rc;
	if ((rc = impl_load(db, c->impl_code, c->guide_version, &m, err)))
		return rc;
	int64_t now_ms;
	char now[32];
	cs_now(now, &now_ms);
	json_t *form = NULL, *materials = NULL, *rest = NULL, *applicant = NULL, *timeline = NULL,
	       *procs = NULL, *exts = NULL, *assignee = NULL, *seconds = json_object();
	if (!(rc = form_of(c, db, &form)) &&
	    !(rc = materials_json(db, &m, c->id, &materials, &rest)) &&
	    !(rc = applicant_json(db, c, access == CS_APPLICANT, &applicant)) &&
	    !(rc = timeline_json(db, c->id, &wf, &timeline, seconds, c->state, now_ms)) &&
	    !(rc = procedures_json(db, c->id, &procs)) && !(rc = extensions_json(db, c->id, &exts)))
		rc = staff_name(db, c->assignee, &assignee);
	if (rc) {
		json_decref(form);
		json_decref(materials);
		json_decref(rest);
		json_decref(applicant);
		json_decref(timeline);
		json_decref(procs);
		json_decref(exts);
		json_decref(seconds);
		impl_release(&m);
		return rc;
	}
	if (access != CS_APPLICANT)
		mask_form(m.form, form);
	int si = tb_workflow_state(&wf, c->state);
	const struct tb_wf_state *ws = si >= 0 ? &wf.states[si] : NULL;
	struct tb_deadline dl;
	json_t *deadline = json_null();
	tb_date today = cs_today();
	if (cs_deadline(db, cal, c, today, &dl)) {
		bool running = ws && ws->clock_running;
		deadline = json_pack(
		    "{s:s,s:i,s:o,s:i,s:o,s:o,s:o,s:i,s:i,s:b,s:b,s:b,s:b}", "unit", c->limit_unit,
		    "limit", c->limit_value, "legal_limit",
		    c->legal_value ? json_integer(c->legal_value) : json_null(), "extension",
		    c->extension, "start", cs_date_json(c->accept_date), "due",
		    cs_date_json(dl.due), "warn", cs_date_json(dl.warn), "remaining", dl.remaining,
		    "overdue", dl.overdue, "near_due", running && dl.near_due, "paused", dl.paused,
		    "running", running, "covered", dl.covered);
	}
	unsigned actor_mask = access == CS_APPLICANT ? 1u << TB_WF_APPLICANT : 1u << TB_WF_STAFF;
	unsigned roles = access == CS_STAFF ? roles_over(p, c) : 0;
	/* a clerk acts for a walk-in applicant who has no account */
	if (access == CS_STAFF && !c->applicant_user && c->opened_by == p->user_id)
		actor_mask |= 1u << TB_WF_APPLICANT;
	json_t *actions = si >= 0
			      ? tb_workflow_allowed(&wf, si, c->case_type, actor_mask,
						    roles ? roles : (access == CS_STAFF ? 0 : 0))
			      : json_array();
	if (access == CS_STAFF && !roles) {
		json_decref(actions);
		actions = json_array();
	}
	json_t *corr = corrections_of(timeline, ws && ws->applicant_turn);
	json_t *o = json_pack(
	    "{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
	    "case_no", c->case_no, "state", c->state, "state_label", ws ? ws->label : c->state,
	    "impl_code", c->impl_code, "catalog_code", c->catalog_code, "item_name", c->item_name,
	    "department", dept_json(&m), "region", c->region, "case_type", c->case_type, "channel",
	    c->channel, "applicant", applicant, "form", form, "form_schema", json_deep_copy(m.form),
	    "submitted_at", c->submitted_at[0] ? json_string(c->submitted_at) : json_null(),
	    "accepted_at", c->accepted_at[0] ? json_string(c->accepted_at) : json_null(),
	    "decided_at", c->decided_at[0] ? json_string(c->decided_at) : json_null(),
	    "completed_at", c->completed_at[0] ? json_string(c->completed_at) : json_null(),
	    "decision", c->decision[0] ? json_string(c->decision) : json_null(), "delivery",
	    c->delivery[0] ? json_string(c->delivery) : json_null(), "deadline", deadline);
	json_object_set_new(o, "state_due", cs_date_json(c->state_due));
	json_object_set_new(o, "assignee", assignee);
	json_object_set_new(o, "escalated", json_boolean(c->escalated_at[0] != 0));
	json_object_set_new(o, "materials", materials);
	json_object_set_new(o, "files", rest);
	json_object_set_new(o, "corrections", corr);
	json_object_set_new(o, "procedures", procs);
	json_object_set_new(o, "extensions", exts);
	json_object_set_new(o, "timeline", timeline);
	json_object_set_new(o, "actions", actions);
	json_object_set_new(o, "figures",
			    json_pack("{s:s,s:i,s:i,s:o}", "channel", c->channel, "visits_needed",
				      c->visits_needed, "visits_made", c->visits_made,
				      "state_seconds", seconds));
	json_object_set_new(o, "version", json_integer(c->version));
	json_object_set_new(o, "updated_at", json_string(c->updated_at));
	impl_release(&m);
	*out = o;
	return TB_OK;
}

/* Load a case for p: persons see only their own (404 otherwise), staff only what
 * their grants cover (403). */
static tb_rc case_for(struct tb_db *db, const struct tb_principal *p, const char *case_no,
		      struct cs_case *c, enum cs_access *access, struct tb_err *err)
{
	tb_rc rc = cs_load(db, case_no, 0, c, err);
	if (rc)
		return rc;
	*access = cs_access_of(p, c);
	if (*access == CS_NONE)
		return p->kind == TB_PRINCIPAL_STAFF
			   ? tb_fail(err, TB_EFORBIDDEN, NULL, "该办件不在您的管辖范围内")
			   : tb_fail(err, TB_ENOTFOUND, "case_no", "没有编号为 %s 的办件", case_no);
	return TB_OK;
}

tb_rc tb_cases_get(struct tb_db *db, const struct tb_principal *p, const char *case_no,
		   json_t **out, struct tb_err *err)
{
	struct cs_case c;
	enum cs_access access;
	tb_rc rc = tb_db_begin(db, false);
	if (rc)
		return rc;
	if (!(rc = case_for(db, p, case_no, &c, &access, err)))
		rc = case_json(db, p, access, &c, out, err);
	tb_db_rollback(db);
	return rc;
}

/* ---- submission ---- */

/* Region part of a case number: the department's region as 6 digits. */
static void region6(const char *region, char out[7])
{
	size_t n = strlen(region);
	for (size_t i = 0; i < 6; i++)
		out[i] = i < n ? region[i] : '0';
	out[6] = 0;
}

static tb_rc case_number(struct tb_db *db, const char *region, tb_date today, char out[24])
{
	int y, mo, d;
	tb_date_to_ymd(today, &y, &mo, &d);
	char r6[7], key[24];
	region6(region, r6);
	snprintf(key, sizeof(key), "%04d%02d%02d%s", y, mo, d, r6);
	struct tb_stmt *st;
	bool row = false;
	tb_rc rc =
	    tb_db_prepare(db,
			  "INSERT INTO case_counters (day_region, next) VALUES (?, 1) ON "
			  "CONFLICT (day_region) DO UPDATE SET next = case_counters.next + 1 "
			  "RETURNING next",
			  &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, key);
	int64_t n = 0;
	if (!(rc = tb_stmt_step(st, &row)) && row)
		n = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	if (!rc && (n < 1 || n > 999999))
		rc = TB_EINTERNAL; /* a million cases a day in one region */
	if (!rc)
		snprintf(out, 24, "%.14s%06d", key, (int)(n % 1000000));
	return rc;
}

/* Every missing piece of an application: the form's fields and the materials that are
 * needed (necessity 1) or promised (3) without a file or a commitment. */
static tb_rc check_complete(struct tb_db *db, const struct cs_case *c, const struct cs_impl *m,
			    json_t *errors)
{
	json_t *form = NULL;
	tb_rc rc = form_of(c, db, &form);
	if (rc)
		return rc;
	tb_form_validate(m->form, form, false, errors);
	json_decref(form);
	json_t *materials = NULL;
	if ((rc = materials_json(db, m, c->id, &materials, NULL)))
		return rc;
	size_t i;
	json_t *mat;
	json_array_foreach(materials, i, mat)
	{
		const char *need = jstr(mat, "necessity");
		bool has = json_array_size(json_object_get(mat, "files")) > 0;
		bool deferred = json_is_true(json_object_get(mat, "deferred"));
		char field[32];
		snprintf(field, sizeof(field), "materials.%d",
			 (int)json_integer_value(json_object_get(mat, "seq")));
		if (!strcmp(need, "1") && !has)
			json_array_append_new(errors, json_pack("{s:s,s:s}", "field", field,
								"message", "必要材料，请上传"));
		else if (!strcmp(need, "3") && !has && !deferred)
			json_array_append_new(errors,
					      json_pack("{s:s,s:s}", "field", field, "message",
							"请上传，或选择容缺后补并填写承诺"));
	}
	json_decref(materials);
	return TB_OK;
}

/* The state's limit from the day it is entered, and what queues sort by. */
static void queue_dates(const struct tb_workflow *wf, int si, const struct tb_calendar *cal,
			tb_date today, struct cs_case *c)
{
	const struct tb_wf_state *ws = &wf->states[si];
	c->state_due = 0;
	if (ws->limit_days > 0)
		c->state_due = tb_calendar_add_workdays(cal, today, ws->limit_days);
	if (ws->terminal) {
		c->queue_due = c->queue_warn = 0;
	} else if (ws->clock_running && c->due_date) {
		c->queue_due = c->due_date;
		c->queue_warn = c->warn_date;
	} else if (c->state_due) {
		struct tb_limit lim = {ws->limit_days, TB_UNIT_WORKING_DAY, 0};
		struct tb_deadline dl;
		tb_deadline_compute(cal, today, &lim, NULL, 0, today, cs_config()->near_percent,
				    &dl);
		c->queue_due = c->state_due;
		c->queue_warn = dl.warn;
	} else {
		c->queue_due = c->queue_warn = 0;
	}
}

static void bind_date(struct tb_stmt *st, int i, tb_date d)
{
	if (d)
		tb_stmt_bind_int(st, i, d);
	else
		tb_stmt_bind_null(st, i);
}

/* Write the moving columns of c back, if nobody moved the case since it was read. */
static tb_rc case_save(struct tb_db *db, struct cs_case *c, const char *at, struct tb_err *err)
{
	struct tb_stmt *st;
	tb_rc rc = tb_db_prepare(
	    db,
	    "UPDATE cases SET case_no = ?, state = ?, submitted_at = ?, submitted_ms = ?, "
	    "accepted_at = ?, accept_date = ?, limit_value = ?, limit_unit = ?, legal_value = ?, "
	    "legal_unit = ?, extension = ?, state_entered_ms = ?, state_due = ?, due_date = ?, "
	    "warn_date = ?, paused = ?, queue_due = ?, queue_warn = ?, decision = ?, decided_at = "
	    "?, delivery = ?, completed_at = ?, assignee = ?, visits_made = ?, version = version + "
	    "1, updated_at = ? WHERE id = ? AND version = ?",
	    &st);
	if (rc)
		return rc;
	int i = 1;
#define TXT(s) tb_stmt_bind_text(st, i++, (s)[0] ? (s) : NULL)
	TXT(c->case_no);
	tb_stmt_bind_text(st, i++, c->state);
	TXT(c->submitted_at);
	tb_stmt_bind_int(st, i++, c->submitted_ms);
	TXT(c->accepted_at);
	bind_date(st, i++, c->accept_date);
	tb_stmt_bind_int(st, i++, c->limit_value);
	TXT(c->limit_unit);
	tb_stmt_bind_int(st, i++, c->legal_value);
	TXT(c->legal_unit);
	tb_stmt_bind_int(st, i++, c->extension);
	tb_stmt_bind_int(st, i++, c->state_entered_ms);
	bind_date(st, i++, c->state_due);
	bind_date(st, i++, c->due_date);
	bind_date(st, i++, c->warn_date);
	tb_stmt_bind_int(st, i++, c->paused);
	bind_date(st, i++, c->queue_due);
	bind_date(st, i++, c->queue_warn);
	TXT(c->decision);
	TXT(c->decided_at);
	TXT(c->delivery);
	TXT(c->completed_at);
	if (c->assignee)
		tb_stmt_bind_int(st, i++, c->assignee);
	else
		tb_stmt_bind_null(st, i++);
	tb_stmt_bind_int(st, i++, c->visits_made);
	tb_stmt_bind_text(st, i++, at);
	tb_stmt_bind_int(st, i++, c->id);
	tb_stmt_bind_int(st, i++, c->version);
#undef TXT
	int64_t n = 0;
	rc = tb_stmt_exec(st, &n);
	tb_stmt_done(st);
	if (!rc && !n)
		rc = tb_fail(err, TB_ECONFLICT, "version", "办件已被他人处理，请刷新后重试");
	if (!rc) {
		c->version++;
		snprintf(c->updated_at, sizeof(c->updated_at), "%s", at);
	}
	return rc;
}

static const char *actor_role_of(const struct tb_principal *p, unsigned roles)
{
	if (p->kind == TB_PRINCIPAL_PERSON)
		return p->acting.capacity == TB_CAPACITY_AGENT	     ? "agent"
		       : p->acting.capacity == TB_CAPACITY_LEGAL_REP ? "legal_rep"
								     : "applicant";
	for (unsigned bit = 1; bit <= TB_ROLE_ALL; bit <<= 1)
		if (roles & bit)
			return tb_role_name(bit);
	return "staff";
}

/* Submit the draft c inside the caller's write transaction. */
static tb_rc submit_in_tx(struct tb_db *db, const struct tb_principal *p, struct cs_case *c,
			  const struct cs_impl *m, struct tb_case_problem *pb)
{
	tb_rc rc;
	if (!strcmp(c->channel, "online") &&
	    (rc = tb_identity_require_assurance(p, cs_config()->min_assurance_online, &pb->err)))
		return rc;
	json_t *errors = json_array();
	if ((rc = check_complete(db, c, m, errors))) {
		json_decref(errors);
		return rc;
	}
	if (json_array_size(errors)) {
		rc = tb_fail(&pb->err, TB_EINVAL,
			     json_string_value(json_object_get(json_array_get(errors, 0), "field")),
			     "申请还有 %zu 处需要补充或修改", json_array_size(errors));
		pb->errors = errors;
		return rc;
	}
	json_decref(errors);
	struct tb_workflow wf;
	const struct tb_calendar *cal;
	if ((rc = cs_workflow_of(db, c->wf_key, c->wf_version, &wf, &pb->err)) ||
	    (rc = tb_cases_calendar(db, &cal, &pb->err)))
		return rc;
	char at[32];
	int64_t ms;
	cs_now(at, &ms);
	tb_date today = cs_today();
	if ((rc = case_number(db, c->region, today, c->case_no)))
		return rc;
	snprintf(c->state, sizeof(c->state), "%s", wf.states[0].name);
	snprintf(c->submitted_at, sizeof(c->submitted_at), "%s", at);
	c->submitted_ms = c->state_entered_ms = ms;
	queue_dates(&wf, 0, cal, today, c);
	if ((rc = case_save(db, c, at, &pb->err)))
		return rc;
	bool window = !strcmp(c->channel, "window");
	if ((rc = cs_transition(db, c->id, "submit", "draft", c->state, p->user_id,
				window ? "clerk" : actor_role_of(p, 0), p->name,
				window ? "窗口收件" : "", NULL, at, ms)))
		return rc;
	char body[1024];
	snprintf(body, sizeof(body), "您申请的「%s」已提交，办件编号 %s。%s", c->item_name,
		 c->case_no, window ? "（窗口收件）" : "");
	return cs_notify(db, c->applicant_user, c->case_no, "submitted", "申请已提交", body);
}

tb_rc tb_cases_draft_submit(struct tb_db *db, const struct tb_principal *p, int64_t id,
			    json_t **out, bool *created, struct tb_case_problem *pb)
{
	struct cs_case c;
	struct cs_impl m;
	tb_rc rc = tb_db_begin(db, true);
	if (rc)
		return rc;
	if ((rc = cs_load(db, NULL, id, &c, &pb->err)) ||
	    (!draft_access(p, &c) &&
	     (rc = tb_fail(&pb->err, TB_ENOTFOUND, "id", "没有这份草稿")))) {
		tb_db_rollback(db);
		return rc;
	}
	if (strcmp(c.state, "draft")) {
		/* submitted before: the same case again */
		*created = false;
		enum cs_access a = cs_access_of(p, &c);
		rc = case_json(db, p, a == CS_NONE ? CS_STAFF : a, &c, out, &pb->err);
		tb_db_rollback(db);
		return rc;
	}
	if ((rc = impl_load(db, c.impl_code, c.guide_version, &m, &pb->err))) {
		tb_db_rollback(db);
		return rc;
	}
	if (!(rc = submit_in_tx(db, p, &c, &m, pb))) {
		enum cs_access a = cs_access_of(p, &c);
		rc = case_json(db, p, a == CS_NONE ? CS_STAFF : a, &c, out, &pb->err);
	}
	rc = tb_db_finish(db, rc);
	if (!rc)
		*created = true;
	impl_release(&m);
	return rc;
}

static tb_rc idem_lookup(struct tb_db *db, int64_t user, const char *key, int64_t *id,
			 char hash[65])
{
	struct tb_stmt *st;
	bool row = false;
	*id = 0;
	tb_rc rc = tb_db_prepare(
	    db, "SELECT id, idem_hash FROM cases WHERE applicant_user = ? AND idem_key = ?", &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, user);
	tb_stmt_bind_text(st, 2, key);
	if (!(rc = tb_stmt_step(st, &row)) && row) {
		*id = tb_stmt_int(st, 0);
		snprintf(hash, 65, "%s", tb_stmt_null(st, 1) ? "" : tb_stmt_text(st, 1));
	}
	tb_stmt_done(st);
	return rc;
}

static tb_rc apply_replay(struct tb_db *db, const struct tb_principal *p,
			  const struct tb_application *a, int64_t id, const char *hash,
			  json_t **out, struct tb_case_problem *pb)
{
	if (strcmp(hash, a->fingerprint))
		return tb_fail(&pb->err, TB_EINVAL, "Idempotency-Key",
			       "该幂等键已用于另一份申请，请换一个键");
	struct cs_case c;
	tb_rc rc = cs_load(db, NULL, id, &c, &pb->err);
	if (!rc && !strcmp(c.state, "draft"))
		rc = tb_fail(&pb->err, TB_ECONFLICT, "Idempotency-Key", "该申请仍在提交中");
	if (!rc)
		rc = case_json(db, p, CS_APPLICANT, &c, out, &pb->err);
	return rc;
}

tb_rc tb_cases_apply(struct tb_db *db, const struct tb_principal *p, const struct tb_application *a,
		     json_t **out, bool *replayed, struct tb_case_problem *pb)
{
	*replayed = false;
	if (p->kind != TB_PRINCIPAL_PERSON)
		return tb_fail(&pb->err, TB_EFORBIDDEN, NULL, "only persons apply online");
	if (!a->idem_key || !*a->idem_key || strlen(a->idem_key) > 128)
		return tb_fail(&pb->err, TB_EINVAL, "Idempotency-Key",
			       "请在 Idempotency-Key 头中给出 1 至 128 个字符的幂等键");
	if (!a->impl_code)
		return tb_fail(&pb->err, TB_EINVAL, "application.impl_code", "请给出实施编码");
	if (!json_is_object(a->form))
		return tb_fail(&pb->err, TB_EINVAL, "application.form", "form must be an object");
	int64_t id = 0;
	char hash[65];
	tb_rc rc = tb_db_begin(db, false);
	if (rc)
		return rc;
	rc = idem_lookup(db, p->user_id, a->idem_key, &id, hash);
	if (!rc && id) {
		*replayed = true;
		rc = apply_replay(db, p, a, id, hash, out, pb);
		tb_db_rollback(db);
		return rc;
	}
	tb_db_rollback(db);
	if (rc)
		return rc;
	struct cs_impl m;
	if ((rc = impl_load(db, a->impl_code, 0, &m, &pb->err)))
		return rc == TB_ENOTFOUND ? tb_fail(&pb->err, TB_EINVAL, "application.impl_code",
						    "没有实施编码为 %s 的事项", a->impl_code)
					  : rc;
	if ((rc = tb_db_begin(db, true))) {
		impl_release(&m);
		return rc;
	}
	struct cs_case c;
	if (!(rc = draft_insert(db, p, &m, a->impl_code, NULL, &id, pb))) {
		struct tb_stmt *st;
		if (!(rc = tb_db_prepare(
			  db, "UPDATE cases SET idem_key = ?, idem_hash = ? WHERE id = ?", &st))) {
			tb_stmt_bind_text(st, 1, a->idem_key);
			tb_stmt_bind_text(st, 2, a->fingerprint);
			tb_stmt_bind_int(st, 3, id);
			rc = tb_stmt_exec(st, NULL);
			tb_stmt_done(st);
		}
	}
	/* the form as sent, merged over what the account prefilled */
	json_t *form = NULL;
	if (!rc && !(rc = cs_load(db, NULL, id, &c, &pb->err)) && !(rc = form_of(&c, db, &form))) {
		json_object_update(form, a->form);
		rc = form_store(db, id, form);
	}
	json_decref(form);
	size_t i;
	json_t *d;
	json_array_foreach(a->deferrals, i, d)
	{
		if (rc)
			break;
		char field[48];
		snprintf(field, sizeof(field), "application.deferrals[%zu].seq", i);
		json_t *seq = json_object_get(d, "seq");
		const char *commitment = json_string_value(json_object_get(d, "commitment"));
		if (!json_is_integer(seq))
			rc = tb_fail(&pb->err, TB_EINVAL, field, "seq must be a material number");
		else if (!commitment)
			rc = tb_fail(&pb->err, TB_EINVAL, "commitment", "请写明承诺内容");
		else
			rc = defer_set(db, &m, id, (int)json_integer_value(seq), commitment, field,
				       &pb->err);
	}
	for (i = 0; !rc && i < a->nfiles; i++) {
		struct tb_upload u = a->files[i];
		u.purpose = "application";
		if (!impl_material(&m, u.material_seq))
			rc = tb_fail(&pb->err, TB_EINVAL, "material", "该事项没有第 %d 项材料",
				     u.material_seq);
		else
			rc = file_insert(db, id, &u, p->user_id, NULL, &pb->err);
	}
	if (!rc && !(rc = cs_load(db, NULL, id, &c, &pb->err)) &&
	    !(rc = submit_in_tx(db, p, &c, &m, pb)))
		rc = case_json(db, p, CS_APPLICANT, &c, out, &pb->err);
	rc = tb_db_finish(db, rc);
	impl_release(&m);
	if (rc == TB_EDB) {
		/* a concurrent request with the same key won the race: answer with its case */
		tb_rc r2 = tb_db_begin(db, false);
		if (!r2 && !idem_lookup(db, p->user_id, a->idem_key, &id, hash) && id) {
			tb_case_problem_release(pb);
			*replayed = true;
			rc = apply_replay(db, p, a, id, hash, out, pb);
		}
		if (!r2)
			tb_db_rollback(db);
	}
	return rc;
}

/* ---- actions ---- */

static const char *const procedure_kinds[] = {
    "hearing", "inspection", "testing", "expert_review", "quarantine", "other", NULL};
static const char *const procedure_names[] = {"听证",	  "现场核查", "检验检测",
					      "专家评审", "检疫",     "其他特别程序"};
static const char *const deliveries[] = {"electronic", "pickup", "post", NULL};

static int index_of(const char *const *list, const char *s)
{
	for (int i = 0; s && list[i]; i++)
		if (!strcmp(list[i], s))
			return i;
	return -1;
}

static tb_rc count_rows(struct tb_db *db, const char *sql, int64_t id, int64_t *n)
{
	struct tb_stmt *st;
	bool row = false;
	*n = 0;
	tb_rc rc = tb_db_prepare(db, sql, &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, id);
	if (!(rc = tb_stmt_step(st, &row)) && row)
		*n = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	return rc;
}

/* Recompute the stored due and warning days after the clock changed. */
static void refresh_deadline(struct tb_db *db, const struct tb_calendar *cal, struct cs_case *c,
			     tb_date today)
{
	struct tb_deadline dl;
	if (cs_deadline(db, cal, c, today, &dl)) {
		c->due_date = dl.due;
		c->warn_date = dl.warn;
		c->paused = dl.paused;
	}
}

static tb_rc run_effect(struct tb_db *db, const struct tb_principal *p, struct cs_case *c,
			const struct tb_wf_action *a, json_t *req, json_t *detail,
			const struct tb_calendar *cal, tb_date today, const char *at,
			struct tb_case_problem *pb)
{
	struct tb_err *err = &pb->err;
	const char *comment = json_string_value(json_object_get(req, "comment"));
	struct tb_stmt *st;
	tb_rc rc = TB_OK;
	int64_t n;
	switch (a->effect) {
	case TB_EFFECT_START_CLOCK: {
		struct cs_impl m;
		if ((rc = impl_load(db, c->impl_code, c->guide_version, &m, err)))
			return rc;
		const char *unit = NULL, *lunit = NULL;
		impl_limit(&m, "promised_limit", &c->limit_value, &unit);
		impl_limit(&m, "legal_limit", &c->legal_value, &lunit);
		if (!c->limit_value) {
			c->limit_value = c->legal_value;
			unit = lunit;
		}
		snprintf(c->limit_unit, sizeof(c->limit_unit), "%s", unit ? unit : "");
		snprintf(c->legal_unit, sizeof(c->legal_unit), "%s", lunit ? lunit : "");
		impl_release(&m);
		snprintf(c->accepted_at, sizeof(c->accepted_at), "%s", at);
		c->accept_date = today;
		refresh_deadline(db, cal, c, today);
		if (c->due_date)
			json_object_set_new(detail, "due", cs_date_json(c->due_date));
		return TB_OK;
	}
	case TB_EFFECT_DECIDE_GRANTED:
	case TB_EFFECT_DECIDE_REFUSED:
		snprintf(c->decision, sizeof(c->decision), "%s",
			 a->effect == TB_EFFECT_DECIDE_GRANTED ? "granted" : "refused");
		snprintf(c->decided_at, sizeof(c->decided_at), "%s", at);
		json_object_set_new(detail, "decision", json_string(c->decision));
		return TB_OK;
	case TB_EFFECT_COMPLETE: {
		const char *delivery = json_string_value(json_object_get(req, "delivery"));
		if (index_of(deliveries, delivery) < 0)
			return tb_fail(err, TB_EINVAL, "delivery",
				       "请选择送达方式：electronic（电子送达）、pickup（窗口领取）"
				       "或 post（邮寄）");
		if (!strcmp(delivery, "electronic") && !strcmp(c->decision, "granted")) {
			if ((rc =
				 count_rows(db,
					    "SELECT COUNT(*) FROM case_files WHERE case_id = ? AND "
					    "purpose = 'result' AND removed_at IS NULL",
					    c->id, &n)))
				return rc;
			if (!n)
				return tb_fail(err, TB_EINVAL, "delivery",
					       "电子送达前请先上传办理结果文件");
		}
		snprintf(c->delivery, sizeof(c->delivery), "%s", delivery);
		snprintf(c->completed_at, sizeof(c->completed_at), "%s", at);
		if (!strcmp(delivery, "pickup"))
			c->visits_made++;
		json_object_set_new(detail, "delivery", json_string(delivery));
		return TB_OK;
	}
	case TB_EFFECT_REQUEST_CORRECTION: {
		json_t *items = json_object_get(req, "corrections");
		if (!json_is_array(items) || !json_array_size(items) || json_array_size(items) > 50)
			return tb_fail(err, TB_EINVAL, "corrections",
				       "请逐项列出需要补正的内容（1 至 50 项）");
		size_t i;
		json_t *v;
		json_array_foreach(items, i, v)
		{
			const char *s = json_string_value(v);
			if (!s || !*s || strlen(s) > 1000) {
				char f[40];
				snprintf(f, sizeof(f), "corrections[%zu]", i);
				return tb_fail(err, TB_EINVAL, f,
					       "每项补正内容为 1 至 1000 字节的文字");
			}
		}
		json_object_set(detail, "corrections", items);
		return TB_OK;
	}
	case TB_EFFECT_RESPOND_CORRECTION: {
		/* the files the applicant sent since the request */
		if ((rc = count_rows(
			 db,
			 "SELECT COUNT(*) FROM case_files WHERE case_id = ? AND purpose = "
			 "'correction' AND removed_at IS NULL",
			 c->id, &n)))
			return rc;
		json_object_set_new(detail, "correction_files", json_integer(n));
		if (a->material == TB_WF_REQUIRED && !n)
			return tb_fail(err, TB_EINVAL, "files", "请先上传补正材料");
		return TB_OK;
	}
	case TB_EFFECT_START_PROCEDURE: {
		const char *kind = json_string_value(json_object_get(req, "procedure"));
		int k = index_of(procedure_kinds, kind);
		if (k < 0)
			return tb_fail(err, TB_EINVAL, "procedure",
				       "请选择特别程序：hearing、inspection、testing、"
				       "expert_review、quarantine 或 other");
		if ((rc = count_rows(db,
				     "SELECT COUNT(*) FROM case_procedures WHERE case_id = ? AND "
				     "end_date IS NULL",
				     c->id, &n)))
			return rc;
		if (n)
			return tb_fail(err, TB_ECONFLICT, "procedure", "已有进行中的特别程序");
		if (!c->accept_date)
			return tb_fail(err, TB_ECONFLICT, "procedure", "办件尚未受理，时限未起算");
		if ((rc = tb_db_prepare(
			 db,
			 "INSERT INTO case_procedures (case_id, kind, reason, start_date, "
			 "started_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
			 &st)))
			return rc;
		tb_stmt_bind_int(st, 1, c->id);
		tb_stmt_bind_text(st, 2, kind);
		tb_stmt_bind_text(st, 3, comment ? comment : "");
		tb_stmt_bind_int(st, 4, today);
		tb_stmt_bind_int(st, 5, p->user_id);
		tb_stmt_bind_text(st, 6, at);
		rc = tb_stmt_exec(st, NULL);
		tb_stmt_done(st);
		c->paused = true;
		json_object_set_new(detail, "procedure", json_string(kind));
		json_object_set_new(detail, "procedure_name", json_string(procedure_names[k]));
		return rc;
	}
	case TB_EFFECT_END_PROCEDURE:
		if ((rc = tb_db_prepare(
			 db,
			 "UPDATE case_procedures SET end_date = ?, ended_by = ? WHERE "
			 "case_id = ? AND end_date IS NULL",
			 &st)))
			return rc;
		tb_stmt_bind_int(st, 1, today);
		tb_stmt_bind_int(st, 2, p->user_id);
		tb_stmt_bind_int(st, 3, c->id);
		rc = tb_stmt_exec(st, &n);
		tb_stmt_done(st);
		if (!rc && !n)
			return tb_fail(err, TB_ECONFLICT, "action", "没有进行中的特别程序");
		c->paused = false;
		refresh_deadline(db, cal, c, today);
		json_object_set_new(detail, "due", cs_date_json(c->due_date));
		return rc;
	case TB_EFFECT_REQUEST_EXTENSION: {
		json_t *days = json_object_get(req, "days");
		json_int_t d = json_integer_value(days);
		if (!json_is_integer(days) || d < 1 || d > 10)
			return tb_fail(err, TB_EINVAL, "days",
				       "延长的期限为 1 至 10 个工作日（行政许可法第四十二条）");
		if ((rc = count_rows(db,
				     "SELECT COUNT(*) FROM case_extensions WHERE case_id = ? AND "
				     "approved_at IS NULL",
				     c->id, &n)))
			return rc;
		if (n)
			return tb_fail(err, TB_ECONFLICT, "days", "已有待批准的延期申请");
		if (c->extension + d > 10)
			return tb_fail(err, TB_EINVAL, "days", "延长后的期限超过法定上限");
		if ((rc = tb_db_prepare(db,
					"INSERT INTO case_extensions (case_id, days, reason, "
					"requested_by, requested_at) VALUES (?, ?, ?, ?, ?)",
					&st)))
			return rc;
		tb_stmt_bind_int(st, 1, c->id);
		tb_stmt_bind_int(st, 2, d);
		tb_stmt_bind_text(st, 3, comment ? comment : "");
		tb_stmt_bind_int(st, 4, p->user_id);
		tb_stmt_bind_text(st, 5, at);
		rc = tb_stmt_exec(st, NULL);
		tb_stmt_done(st);
		json_object_set_new(detail, "days", json_integer(d));
		return rc;
	}
	case TB_EFFECT_APPROVE_EXTENSION: {
		struct tb_stmt *q;
		bool row = false;
		int64_t ext_id = 0, d = 0;
		if ((rc =
			 tb_db_prepare(db,
				       "SELECT id, days FROM case_extensions WHERE case_id = ? AND "
				       "approved_at IS NULL",
				       &q)))
			return rc;
		tb_stmt_bind_int(q, 1, c->id);
		if (!(rc = tb_stmt_step(q, &row)) && row) {
			ext_id = tb_stmt_int(q, 0);
			d = tb_stmt_int(q, 1);
		}
		tb_stmt_done(q);
		if (rc)
			return rc;
		if (!ext_id)
			return tb_fail(err, TB_ECONFLICT, "action", "没有待批准的延期申请");
		if ((rc = tb_db_prepare(
			 db,
			 "UPDATE case_extensions SET approved_by = ?, approved_at = ? "
			 "WHERE id = ?",
			 &st)))
			return rc;
		tb_stmt_bind_int(st, 1, p->user_id);
		tb_stmt_bind_text(st, 2, at);
		tb_stmt_bind_int(st, 3, ext_id);
		rc = tb_stmt_exec(st, NULL);
		tb_stmt_done(st);
		c->extension += (int)d;
		refresh_deadline(db, cal, c, today);
		json_object_set_new(detail, "days", json_integer(d));
		json_object_set_new(detail, "due", cs_date_json(c->due_date));
		return rc;
	}
	case TB_EFFECT_NONE:
	case TB_EFFECT_WITHDRAW:
	case TB_EFFECT_NOT_ACCEPT:
		return TB_OK;
	}
	return TB_OK;
}

static const char *notice_title(const struct tb_wf_action *a)
{
	switch (a->effect) {
	case TB_EFFECT_REQUEST_CORRECTION:
		return "请补正申请材料";
	case TB_EFFECT_START_CLOCK:
		return "申请已受理";
	case TB_EFFECT_NOT_ACCEPT:
		return "申请不予受理";
	case TB_EFFECT_DECIDE_GRANTED:
		return "审批通过";
	case TB_EFFECT_DECIDE_REFUSED:
		return "审批未通过";
	case TB_EFFECT_COMPLETE:
		return "办件已办结";
	case TB_EFFECT_START_PROCEDURE:
		return "办件进入特别程序，办理时限暂停计算";
	case TB_EFFECT_END_PROCEDURE:
		return "特别程序结束，办理时限恢复计算";
	case TB_EFFECT_APPROVE_EXTENSION:
		return "办理期限已依法延长";
	case TB_EFFECT_WITHDRAW:
		return "申请已撤回";
	default:
		return "办件状态更新";
	}
}

/* One action on one case inside the caller's write transaction. */
static tb_rc act_in_tx(struct tb_db *db, const struct tb_principal *p, const char *case_no,
		       json_t *req, struct cs_case *c, enum cs_access *access,
		       struct tb_case_problem *pb)
{
	struct tb_err *err = &pb->err;
	const char *name = json_string_value(json_object_get(req, "action"));
	if (!name || !*name)
		return tb_fail(err, TB_EINVAL, "action", "请给出要执行的操作");
	tb_rc rc = case_for(db, p, case_no, c, access, err);
	if (rc)
		return rc;
	struct tb_workflow wf;
	const struct tb_calendar *cal;
	if ((rc = cs_workflow_of(db, c->wf_key, c->wf_version, &wf, err)) ||
	    (rc = tb_cases_calendar(db, &cal, err)))
		return rc;
	json_t *ver = json_object_get(req, "version");
	if (ver && (!json_is_integer(ver) || json_integer_value(ver) != c->version))
		return tb_fail(err, TB_ECONFLICT, "version",
			       "办件已更新（当前版本 %lld），请刷新后重试", (long long)c->version);
	int si = tb_workflow_state(&wf, c->state);
	const struct tb_wf_action *a = tb_workflow_action(&wf, name);
	bool staff = *access == CS_STAFF;
	unsigned roles = staff ? roles_over(p, c) : 0;
	unsigned actor_mask = staff ? 1u << TB_WF_STAFF : 1u << TB_WF_APPLICANT;
	if (staff && !c->applicant_user && c->opened_by == p->user_id)
		actor_mask |= 1u << TB_WF_APPLICANT;
	if (!a || si < 0 || !tb_workflow_allows(&wf, a, si, c->case_type)) {
		pb->allowed = si >= 0
				  ? tb_workflow_allowed(&wf, si, c->case_type, actor_mask, roles)
				  : json_array();
		if (!a)
			return tb_fail(err, TB_EINVAL, "action", "没有名为 %s 的操作", name);
		return tb_fail(err, TB_ECONFLICT, "action", "办件当前为「%s」，不能执行「%s」",
			       si >= 0 ? wf.states[si].label : c->state, a->label);
	}
	if (!(actor_mask & (1u << a->actor)))
		return tb_fail(err, TB_EFORBIDDEN, "action",
			       a->actor == TB_WF_APPLICANT ? "「%s」只能由申请人操作"
							   : "「%s」只能由工作人员操作",
			       a->label);
	if (a->actor == TB_WF_STAFF && !(roles & a->roles))
		return tb_fail(err, TB_EFORBIDDEN, "action", "您的角色不能执行「%s」", a->label);
	const char *comment = json_string_value(json_object_get(req, "comment"));
	json_t *cj = json_object_get(req, "comment");
	if (cj && !json_is_string(cj))
		return tb_fail(err, TB_EINVAL, "comment", "comment must be a string");
	if (comment && strlen(comment) > 4000)
		return tb_fail(err, TB_EINVAL, "comment", "意见不超过 4000 字节");
	if (a->comment == TB_WF_REQUIRED && (!comment || !*comment))
		return tb_fail(err, TB_EINVAL, "comment", "「%s」须填写意见或理由", a->label);
	char at[32];
	int64_t ms;
	cs_now(at, &ms);
	tb_date today = cs_today();
	json_t *detail = json_object();
	char from[TB_WF_NAME + 1];
	snprintf(from, sizeof(from), "%s", c->state);
	if ((rc = run_effect(db, p, c, a, req, detail, cal, today, at, pb))) {
		json_decref(detail);
		return rc;
	}
	if (a->to >= 0 && a->to != si) {
		snprintf(c->state, sizeof(c->state), "%s", wf.states[a->to].name);
		c->state_entered_ms = ms;
		queue_dates(&wf, a->to, cal, today, c);
	} else {
		/* the same state: its own limit stands, the clock may have moved */
		tb_date keep = c->state_due;
		queue_dates(&wf, si, cal, today, c);
		if (keep)
			c->state_due = keep;
	}
	if (staff && a->to >= 0) {
		/* whoever moves a case holds it while the next step is theirs to take; when
		 * it is someone else's (accepted: the approver's), it goes back to the queue */
		json_t *next =
		    tb_workflow_allowed(&wf, a->to, c->case_type, 1u << TB_WF_STAFF, roles);
		bool mine = json_array_size(next) > 0;
		json_decref(next);
		if (mine && !c->assignee)
			c->assignee = p->user_id;
		else if (!mine && c->assignee == p->user_id)
			c->assignee = 0;
	}
	if ((rc = case_save(db, c, at, err)) ||
	    (rc = cs_transition(db, c->id, a->name, from, c->state, p->user_id,
				actor_role_of(p, roles & (a->roles ? a->roles : roles)), p->name,
				comment, detail, at, ms))) {
		json_decref(detail);
		return rc;
	}
	/* the applicant hears of every change */
	if (c->applicant_user && a->actor == TB_WF_STAFF) {
		char body[2048];
		int n = snprintf(body, sizeof(body), "您申请的「%s」（%s）：%s。", c->item_name,
				 c->case_no, a->label);
		json_t *items = json_object_get(detail, "corrections");
		size_t i;
		json_t *v;
		json_array_foreach(items, i, v)
		{
			if (n < (int)sizeof(body))
				n += snprintf(body + n, sizeof(body) - (size_t)n, "%s%zu. %s",
					      i ? "；" : "需补正：", i + 1, json_string_value(v));
		}
		if (comment && *comment && n < (int)sizeof(body))
			snprintf(body + n, sizeof(body) - (size_t)n, " 意见：%s", comment);
		rc = cs_notify(db, c->applicant_user, c->case_no,
			       a->effect == TB_EFFECT_REQUEST_CORRECTION ? "correction" : a->name,
			       notice_title(a), body);
	}
	if (!rc && a->actor == TB_WF_APPLICANT && c->assignee && c->assignee != p->user_id) {
		char body[1024];
		snprintf(body, sizeof(body), "办件 %s（%s）：申请人已%s。", c->case_no,
			 c->item_name, a->label);
		rc = cs_notify(db, c->assignee, c->case_no, a->name, "申请人操作", body);
	}
	json_decref(detail);
	return rc;
}

tb_rc tb_cases_act(struct tb_db *db, const struct tb_principal *p, const char *case_no, json_t *req,
		   json_t **out, struct tb_case_problem *pb)
{
	struct cs_case c;
	enum cs_access access;
	tb_rc rc = tb_db_begin(db, true);
	if (rc)
		return rc;
	if (!(rc = act_in_tx(db, p, case_no, req, &c, &access, pb)))
		rc = case_json(db, p, access, &c, out, &pb->err);
	rc = tb_db_finish(db, rc);
	return rc;
}

tb_rc tb_cases_batch(struct tb_db *db, const struct tb_principal *p, json_t *req, json_t **out,
		     struct tb_err *err)
{
	const char *action = json_string_value(json_object_get(req, "action"));
	json_t *nos = json_object_get(req, "case_nos");
	if (!action || (strcmp(action, "accept") && strcmp(action, "grant_on_spot")))
		return tb_fail(err, TB_EINVAL, "action", "批量办理只支持 accept 和 grant_on_spot");
	if (!json_is_array(nos) || !json_array_size(nos) || json_array_size(nos) > 100)
		return tb_fail(err, TB_EINVAL, "case_nos", "请给出 1 至 100 个办件编号");
	size_t i;
	json_t *v;
	json_array_foreach(nos, i, v)
	{
		if (!json_is_string(v)) {
			char f[32];
			snprintf(f, sizeof(f), "case_nos[%zu]", i);
			return tb_fail(err, TB_EINVAL, f, "办件编号是字符串");
		}
	}
	json_t *one = json_pack("{s:s}", "action", action);
	json_t *comment = json_object_get(req, "comment");
	if (json_is_string(comment))
		json_object_set(one, "comment", comment);
	json_t *results = json_array();
	json_array_foreach(nos, i, v)
	{
		const char *no = json_string_value(v);
		struct tb_case_problem pb = {0};
		struct cs_case c;
		enum cs_access access;
		tb_rc rc = tb_db_begin(db, true);
		if (!rc) {
			rc = act_in_tx(db, p, no, one, &c, &access, &pb);
			rc = tb_db_finish(db, rc);
		}
		unsigned status = rc == TB_OK		? 200
				  : rc == TB_ENOTFOUND	? 404
				  : rc == TB_EFORBIDDEN ? 403
				  : rc == TB_ECONFLICT	? 409
				  : rc == TB_EINVAL	? 422
				  : rc == TB_EUNAVAIL	? 503
							: 500;
		json_t *r = json_pack("{s:s,s:i}", "case_no", no, "status", status);
		if (!rc)
			json_object_set_new(r, "state", json_string(c.state));
		else
			json_object_set_new(r, "detail", json_string(pb.err.msg));
		if (pb.allowed)
			json_object_set(r, "allowed_actions", pb.allowed);
		tb_case_problem_release(&pb);
		json_array_append_new(results, r);
		if (rc == TB_EUNAVAIL || rc == TB_EDB || rc == TB_EINTERNAL || rc == TB_ENOMEM) {
			json_decref(one);
			json_decref(results);
			return tb_fail(err, rc, NULL, "%s", pb.err.msg);
		}
	}
	json_decref(one);
	*out = json_pack("{s:o}", "results", results);
	return TB_OK;
}

/* ---- files of a case ---- */

tb_rc tb_cases_file_add(struct tb_db *db, const struct tb_principal *p, const char *case_no,
			const struct tb_upload *up, json_t **out, struct tb_err *err)
{
	static const char *const purposes[] = {"correction", "result", "scan", NULL};
	if (index_of(purposes, up->purpose) < 0)
		return tb_fail(err, TB_EINVAL, "purpose", "purpose 为 correction、result 或 scan");
	struct cs_case c;
	enum cs_access access;
	struct tb_workflow wf;
	tb_rc rc = tb_db_begin(db, true);
	if (rc)
		return rc;
	if ((rc = case_for(db, p, case_no, &c, &access, err)) ||
	    (rc = cs_workflow_of(db, c.wf_key, c.wf_version, &wf, err))) {
		tb_db_rollback(db);
		return rc;
	}
	int si = tb_workflow_state(&wf, c.state);
	bool terminal = si < 0 || wf.states[si].terminal;
	bool correction = !strcmp(up->purpose, "correction");
	if (correction) {
		bool applicant =
		    access == CS_APPLICANT ||
		    (access == CS_STAFF && !c.applicant_user && c.opened_by == p->user_id);
		if (!applicant)
			rc = tb_fail(err, TB_EFORBIDDEN, "purpose", "补正材料由申请人上传");
		else if (si < 0 || !wf.states[si].applicant_turn)
			rc = tb_fail(err, TB_ECONFLICT, "purpose", "办件当前不需要补正");
	} else if (access != CS_STAFF ||
		   !(roles_over(p, &c) & (TB_ROLE_CLERK | TB_ROLE_APPROVER))) {
		rc = tb_fail(err, TB_EFORBIDDEN, "purpose", "结果和扫描件由经办人员上传");
	} else if (terminal) {
		rc = tb_fail(err, TB_ECONFLICT, "purpose", "办件已结束");
	}
	if (!rc && up->material_seq) {
		struct cs_impl m;
		if (!(rc = impl_load(db, c.impl_code, c.guide_version, &m, err))) {
			if (!impl_material(&m, up->material_seq))
				rc = tb_fail(err, TB_EINVAL, "material", "该事项没有第 %d 项材料",
					     up->material_seq);
			impl_release(&m);
		}
	}
	if (!rc && !(rc = file_insert(db, c.id, up, p->user_id, out, err)))
		rc = touch(db, c.id);
	rc = tb_db_finish(db, rc);
	return rc;
}

tb_rc tb_cases_file_get(struct tb_db *db, const struct tb_principal *p, const char *case_no,
			int64_t file_id, bool result, struct tb_case_file *f, struct tb_err *err)
{
	struct cs_case c;
	enum cs_access access;
	tb_rc rc = tb_db_begin(db, false);
	if (rc)
		return rc;
	if ((rc = case_for(db, p, case_no, &c, &access, err))) {
		tb_db_rollback(db);
		return rc;
	}
	struct tb_stmt *st;
	bool row = false;
	char sha[65] = "";
	const char *sql = result ? "SELECT sha256, file_name FROM case_files WHERE case_id = ? AND "
				   "purpose = 'result' AND removed_at IS NULL ORDER BY id DESC "
				   "LIMIT 1"
				 : "SELECT sha256, file_name FROM case_files WHERE case_id = ? AND "
				   "id = ?";
	if (!(rc = tb_db_prepare(db, sql, &st))) {
		tb_stmt_bind_int(st, 1, c.id);
		if (!result)
			tb_stmt_bind_int(st, 2, file_id);
		if (!(rc = tb_stmt_step(st, &row)) && row) {
			snprintf(sha, sizeof(sha), "%s", tb_stmt_text(st, 0));
			snprintf(f->file_name, sizeof(f->file_name), "%s", tb_stmt_text(st, 1));
		}
		tb_stmt_done(st);
	}
	if (!rc && !row)
		rc = tb_fail(err, TB_ENOTFOUND, result ? "result" : "file_id",
			     result ? "办件还没有可下载的结果" : "没有这个文件");
	if (!rc)
		rc = tb_blob_get(db, sha, f->data, &f->mime, err);
	tb_db_rollback(db);
	return rc;
}

static void collect(void *ctx, int64_t id)
{
	int64_t *want = ctx;
	if (id == want[0])
		want[1] = 1;
}

tb_rc tb_cases_assign(struct tb_db *db, const struct tb_principal *p, const char *case_no,
		      int64_t user_id, json_t **out, struct tb_err *err)
{
	struct cs_case c;
	enum cs_access access;
	tb_rc rc = tb_db_begin(db, true);
	if (rc)
		return rc;
	if ((rc = case_for(db, p, case_no, &c, &access, err)))
		goto done;
	unsigned roles = access == CS_STAFF ? roles_over(p, &c) : 0;
	bool self = user_id == p->user_id;
	if (!(roles & (TB_ROLE_CLERK | TB_ROLE_APPROVER | TB_ROLE_DEPT_ADMIN))) {
		rc = tb_fail(err, TB_EFORBIDDEN, NULL, "只有经办人员可以认领或分派办件");
		goto done;
	}
	if (!self && !(roles & (TB_ROLE_DEPT_ADMIN | TB_ROLE_APPROVER))) {
		rc = tb_fail(err, TB_EFORBIDDEN, "user_id", "窗口人员只能认领给自己");
		goto done;
	}
	int64_t want[2] = {user_id, 0};
	if ((rc = tb_identity_staff_covering(db, TB_ROLE_CLERK, c.department, c.region, collect,
					     want)) ||
	    (rc = tb_identity_staff_covering(db, TB_ROLE_APPROVER, c.department, c.region, collect,
					     want)))
		goto done;
	if (!want[1]) {
		rc = tb_fail(err, TB_EINVAL, "user_id", "该人员不负责这一部门和地区的办件");
		goto done;
	}
	char at[32];
	int64_t ms;
	cs_now(at, &ms);
	c.assignee = user_id;
	json_t *detail = json_pack("{s:I}", "assignee", (json_int_t)user_id);
	if (!(rc = case_save(db, &c, at, err)))
		rc =
		    cs_transition(db, c.id, self ? "claim" : "assign", c.state, c.state, p->user_id,
				  actor_role_of(p, roles), p->name, "", detail, at, ms);
	json_decref(detail);
	if (!rc && !self) {
		char body[1024];
		snprintf(body, sizeof(body), "办件 %s（%s）已分派给您。", c.case_no, c.item_name);
		rc = cs_notify(db, user_id, c.case_no, "assigned", "新分派的办件", body);
	}
	if (!rc)
		rc = case_json(db, p, access, &c, out, err);
done:
	rc = tb_db_finish(db, rc);
	return rc;
}
