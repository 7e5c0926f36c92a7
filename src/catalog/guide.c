/* guide.c: the service guide (办事指南) and its national elements, validated. */
#include "catalog/catalog.h"
#include "catalog/form.h"
#include "base/jsonv.h"

#include <string.h>

static const char *const units[] = {"working_day", "natural_day", "month", "hour", NULL};

static bool check_limit(json_t *g, const char *path, const char *key, bool *present, int *value,
			const char **unit, struct tb_err *err)
{
	json_t *o;
	*present = false;
	if (!tb_jv_object(g, path, key, false, &o, err))
		return false;
	if (!o)
		return true;
	static const char *const fields[] = {"value", "unit", "note", NULL};
	const char *p = tb_jv_path(path, key), *note;
	char pb[160];
	snprintf(pb, sizeof(pb), "%s", p);
	long v;
	if (!tb_jv_known_fields(o, pb, fields, err) ||
	    !tb_jv_int(o, pb, "value", true, 0, 3650, &v, err) ||
	    !tb_jv_enum(o, pb, "unit", true, units, unit, err) ||
	    !tb_jv_str(o, pb, "note", false, 500, &note, err))
		return false;
	*present = true;
	*value = (int)v;
	return true;
}

static bool check_objects(json_t *g, const char *path, const char *key, bool required, size_t max,
			  bool (*each)(json_t *, const char *, struct tb_err *), struct tb_err *err)
{
	json_t *arr, *v;
	size_t i;
	if (!tb_jv_array(g, path, key, required, max, &arr, err))
		return false;
	if (!arr)
		return true;
	json_array_foreach(arr, i, v)
	{
		char p[160];
		snprintf(p, sizeof(p), "%s", tb_jv_index(path, key, i));
		if (!json_is_object(v)) {
			tb_fail(err, TB_EINVAL, p, "must be an object");
			return false;
		}
		if (!each(v, p, err))
			return false;
	}
	return true;
}

static bool check_step(json_t *o, const char *p, struct tb_err *err)
{
	static const char *const f[] = {"name", "description", "limit", NULL};
	const char *s;
	return tb_jv_known_fields(o, p, f, err) && tb_jv_str(o, p, "name", true, 100, &s, err) &&
	       tb_jv_str(o, p, "description", false, 2000, &s, err) &&
	       tb_jv_str(o, p, "limit", false, 100, &s, err);
}

static bool check_faq(json_t *o, const char *p, struct tb_err *err)
{
	static const char *const f[] = {"q", "a", NULL};
	const char *s;
	return tb_jv_known_fields(o, p, f, err) && tb_jv_str(o, p, "q", true, 500, &s, err) &&
	       tb_jv_str(o, p, "a", true, 4000, &s, err);
}

static bool check_fee_item(json_t *o, const char *p, struct tb_err *err)
{
	static const char *const f[] = {"name", "amount_fen", "note", NULL};
	const char *s;
	long v;
	return tb_jv_known_fields(o, p, f, err) && tb_jv_str(o, p, "name", true, 200, &s, err) &&
	       tb_jv_int(o, p, "amount_fen", true, 0, 100000000000L, &v, err) &&
	       tb_jv_str(o, p, "note", false, 500, &s, err);
}

static bool check_material(json_t *o, const char *p, struct tb_err *err)
{
	static const char *const f[] = {"name",	  "necessity",	    "form",	  "count",
					"source", "licence_type",   "notes",	  "standard",
					"basis",  "blank_form_url", "sample_url", NULL};
	static const char *const necessity[] = {"1", "2", "3", NULL};
	static const char *const sources[] = {"10", "20", "99", NULL};
	static const char *const forms[] = {"original", "copy", "electronic", NULL};
	const char *s, *source, *licence;
	long count;
	unsigned mask;
	if (!tb_jv_known_fields(o, p, f, err) || !tb_jv_str(o, p, "name", true, 200, &s, err) ||
	    !tb_jv_enum(o, p, "necessity", true, necessity, &s, err) ||
	    !tb_jv_str_set(o, p, "form", true, forms, 3, &mask, err) ||
	    !tb_jv_int(o, p, "count", true, 1, 99, &count, err) ||
	    !tb_jv_enum(o, p, "source", true, sources, &source, err) ||
	    !tb_jv_str(o, p, "licence_type", false, 200, &licence, err) ||
	    !tb_jv_str(o, p, "notes", false, 2000, &s, err) ||
	    !tb_jv_str(o, p, "standard", false, 2000, &s, err) ||
	    !tb_jv_str(o, p, "basis", false, 1000, &s, err) ||
	    !tb_jv_str(o, p, "blank_form_url", false, 1000, &s, err) ||
	    !tb_jv_str(o, p, "sample_url", false, 1000, &s, err))
		return false;
	if (!mask) {
		tb_fail(err, TB_EINVAL, tb_jv_path(p, "form"), "must name at least one form");
		return false;
	}
	if (!strcmp(source, "20") && (!licence || !*licence)) {
		tb_fail(err, TB_EINVAL, tb_jv_path(p, "licence_type"),
			"is required when source is 20 (issued by a government department)");
		return false;
	}
	return true;
}

tb_rc tb_catalog_check_guide(json_t *g, const char *path, struct tb_guide_facts *f,
			     struct tb_err *err)
{
	static const char *const fields[] = {"name",
					     "case_type",
					     "legal_basis",
					     "legal_limit",
					     "promised_limit",
					     "acceptance_conditions",
					     "process",
					     "handling_form",
					     "address",
					     "hours",
					     "consult_phone",
					     "supervise_phone",
					     "visits",
					     "visits_note",
					     "fee",
					     "online",
					     "express_delivery",
					     "appointment",
					     "self_service_terminal",
					     "handling_scope",
					     "result",
					     "materials",
					     "faq",
					     "form",
					     NULL};
	static const char *const case_types[] = {"1", "2", NULL};
	static const char *const forms[] = {"online", "window", "express", "terminal", NULL};
	static const char *const depths[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", NULL};
	static const char *const result_types[] = {"licence", "approval", "other", "none", NULL};
	const char *s;
	long visits;
	bool b;
	unsigned mask;
	json_t *o;
	memset(f, 0, sizeof(*f));
	if (!json_is_object(g))
		return tb_fail(err, TB_EINVAL, path, "must be an object");
	if (!tb_jv_known_fields(g, path, fields, err) ||
	    !tb_jv_str(g, path, "name", false, 200, &s, err) ||
	    !tb_jv_enum(g, path, "case_type", true, case_types, &f->case_type, err) ||
	    !tb_jv_str(g, path, "legal_basis", true, 4000, &s, err) ||
	    !check_limit(g, path, "legal_limit", &f->has_legal, &f->legal_value, &f->legal_unit,
			 err) ||
	    !check_limit(g, path, "promised_limit", &f->has_promised, &f->promised_value,
			 &f->promised_unit, err) ||
	    !tb_jv_str_set(g, path, "acceptance_conditions", true, NULL, 50, NULL, err) ||
	    !check_objects(g, path, "process", true, 30, check_step, err) ||
	    !tb_jv_str_set(g, path, "handling_form", true, forms, 4, &mask, err) ||
	    !tb_jv_str(g, path, "address", true, 500, &s, err) ||
	    !tb_jv_str(g, path, "hours", true, 500, &s, err) ||
	    !tb_jv_str(g, path, "consult_phone", true, 100, &s, err) ||
	    !tb_jv_str(g, path, "supervise_phone", true, 100, &s, err) ||
	    !tb_jv_int(g, path, "visits", true, 0, 3, &visits, err) ||
	    !tb_jv_str(g, path, "visits_note", false, 1000, &s, err) ||
	    !tb_jv_bool(g, path, "express_delivery", false, &b, err) ||
	    !tb_jv_bool(g, path, "appointment", false, &b, err) ||
	    !tb_jv_bool(g, path, "self_service_terminal", false, &b, err) ||
	    !tb_jv_str(g, path, "handling_scope", false, 200, &s, err) ||
	    !check_objects(g, path, "materials", true, 100, check_material, err) ||
	    !check_objects(g, path, "faq", false, 50, check_faq, err))
		return TB_EINVAL;
	s = json_string_value(json_object_get(g, "name"));
	if (s && !*s)
		return tb_fail(err, TB_EINVAL, tb_jv_path(path, "name"),
			       "must not be empty (leave it out to use the item's name)");
	if (!mask)
		return tb_fail(err, TB_EINVAL, tb_jv_path(path, "handling_form"),
			       "must name at least one way of handling");
	f->visits = (int)visits;

	char p[160];
	if (!tb_jv_object(g, path, "fee", true, &o, err))
		return TB_EINVAL;
	snprintf(p, sizeof(p), "%s", tb_jv_path(path, "fee"));
	static const char *const fee_fields[] = {"charged", "basis", "items", NULL};
	bool charged;
	if (!tb_jv_known_fields(o, p, fee_fields, err) ||
	    !tb_jv_bool(o, p, "charged", true, &charged, err) ||
	    !tb_jv_str(o, p, "basis", false, 1000, &s, err) ||
	    !check_objects(o, p, "items", false, 30, check_fee_item, err))
		return TB_EINVAL;
	if (charged && json_array_size(json_object_get(o, "items")) == 0)
		return tb_fail(err, TB_EINVAL, tb_jv_path(p, "items"),
			       "a charged service must list what it charges");

	if (!tb_jv_object(g, path, "online", true, &o, err))
		return TB_EINVAL;
	snprintf(p, sizeof(p), "%s", tb_jv_path(path, "online"));
	static const char *const online_fields[] = {"available", "depth", "url", "pay_online",
						    NULL};
	bool available;
	if (!tb_jv_known_fields(o, p, online_fields, err) ||
	    !tb_jv_bool(o, p, "available", true, &available, err) ||
	    !tb_jv_str_set(o, p, "depth", false, depths, 9, &f->depth_mask, err) ||
	    !tb_jv_str(o, p, "url", false, 1000, &s, err) ||
	    !tb_jv_bool(o, p, "pay_online", false, &b, err))
		return TB_EINVAL;
	if (f->depth_mask & 1u)
		return tb_fail(err, TB_EINVAL, tb_jv_path(p, "depth"), "depth codes are 1 to 8");

	if (!tb_jv_object(g, path, "result", true, &o, err))
		return TB_EINVAL;
	snprintf(p, sizeof(p), "%s", tb_jv_path(path, "result"));
	static const char *const result_fields[] = {"type", "name", NULL};
	if (!tb_jv_known_fields(o, p, result_fields, err) ||
	    !tb_jv_enum(o, p, "type", true, result_types, &s, err) ||
	    !tb_jv_str(o, p, "name", false, 200, &s, err))
		return TB_EINVAL;

	/* the application form (form.h); without one the cases block uses tb_form_default() */
	o = json_object_get(g, "form");
	if (o && !json_is_null(o)) {
		snprintf(p, sizeof(p), "%s", tb_jv_path(path, "form"));
		tb_rc rc = tb_form_check(o, p, err);
		if (rc)
			return rc;
	}

	if (f->has_legal && f->has_promised && !strcmp(f->legal_unit, f->promised_unit) &&
	    f->promised_value > f->legal_value)
		return tb_fail(err, TB_EINVAL, tb_jv_path(path, "promised_limit"),
			       "the promised limit may not exceed the legal limit");
	/* 零跑动: no visit at all. 全程网办 (GB/T 37277-2018 §3.3): applied (2), accepted
	 * (4), handled (5) and answered (6) on the internet, with no visit. */
	f->zero_visit = f->visits == 0;
	unsigned full = (1u << 2) | (1u << 4) | (1u << 5) | (1u << 6);
	f->fully_online = f->zero_visit && (f->depth_mask & full) == full;
	return TB_OK;
}
