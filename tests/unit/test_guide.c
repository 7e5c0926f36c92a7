/* test_guide.c: tb_catalog_check_guide: a complete guide passes, each broken rule is
 * named by the field it concerns, and the derived facts (zero_visit, fully_online). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "catalog/catalog.h"
#include "catalog/form.h"

static const char *const GUIDE =
    "{\"name\": \"普通护照签发\", \"case_type\": \"2\","
    " \"legal_basis\": \"《中华人民共和国护照法》\","
    " \"legal_limit\": {\"value\": 15, \"unit\": \"working_day\", \"note\": \"15个工作日\"},"
    " \"promised_limit\": {\"value\": 7, \"unit\": \"working_day\", \"note\": \"7个工作日\"},"
    " \"acceptance_conditions\": [\"中国公民因私出国\"],"
    " \"process\": [{\"name\": \"申请\", \"description\": \"在线申请\", \"limit\": \"不计时\"},"
    "               {\"name\": \"受理\"}],"
    " \"handling_form\": [\"online\", \"window\", \"express\"],"
    " \"address\": \"广州市越秀区解放南路155号\", \"hours\": \"周一至周五 9:00-17:30\","
    " \"consult_phone\": \"020-83118030\", \"supervise_phone\": \"12345\","
    " \"visits\": 1, \"visits_note\": \"现场采集指纹\","
    " \"fee\": {\"charged\": true, \"basis\": \"收费标准\","
    "           \"items\": [{\"name\": \"工本费\", \"amount_fen\": 12000}]},"
    " \"online\": {\"available\": true, \"depth\": [\"1\", \"2\", \"4\"],"
    "              \"url\": \"https://www.gdzwfw.gov.cn/\", \"pay_online\": true},"
    " \"express_delivery\": true, \"appointment\": true, \"self_service_terminal\": false,"
    " \"handling_scope\": \"全省通办\","
    " \"result\": {\"type\": \"licence\", \"name\": \"普通护照\"},"
    " \"materials\": ["
    "   {\"name\": \"居民身份证\", \"necessity\": \"1\", \"form\": [\"original\"], \"count\": 1,"
    "    \"source\": \"20\", \"licence_type\": \"居民身份证\", \"notes\": \"核验后退回\","
    "    \"standard\": \"真实有效\", \"basis\": \"护照法\", \"blank_form_url\": null,"
    "    \"sample_url\": null},"
    "   {\"name\": \"申请表\", \"necessity\": \"3\", \"form\": [\"original\", \"copy\"],"
    "    \"count\": 2, \"source\": \"10\", \"licence_type\": null}],"
    " \"faq\": [{\"q\": \"有效期多长？\", \"a\": \"十年。\"}]}";

static json_t *guide(void)
{
	json_error_t e;
	json_t *g = json_loads(GUIDE, JSON_REJECT_DUPLICATES, &e);
	if (!g)
		fail_msg("bad test guide: %s at %d", e.text, e.column);
	return g;
}

static void test_valid(void **state)
{
	(void)state;
	json_t *g = guide();
	struct tb_guide_facts f;
	struct tb_err err = {0};
	assert_int_equal(tb_catalog_check_guide(g, "guide", &f, &err), TB_OK);
	assert_string_equal(f.case_type, "2");
	assert_int_equal(f.visits, 1);
	assert_true(f.has_legal);
	assert_true(f.has_promised);
	assert_int_equal(f.legal_value, 15);
	assert_int_equal(f.promised_value, 7);
	assert_string_equal(f.legal_unit, "working_day");
	assert_string_equal(f.promised_unit, "working_day");
	assert_int_equal(f.depth_mask, (1u << 1) | (1u << 2) | (1u << 4));
	assert_false(f.zero_visit);
	assert_false(f.fully_online);
	json_decref(g);
}

/* The smallest guide: the optional parts left out. */
static void test_minimal(void **state)
{
	(void)state;
	json_t *g = guide();
	static const char *const optional[] = {
	    "name",
	    "legal_limit",
	    "promised_limit",
	    "visits_note",
	    "express_delivery",
	    "appointment",
	    "self_service_terminal",
	    "handling_scope",
	    "faq",
	};
	for (size_t i = 0; i < TB_ARRAY_LEN(optional); i++)
		json_object_del(g, optional[i]);
	json_t *online = json_object_get(g, "online");
	json_object_del(online, "depth");
	json_object_del(online, "url");
	json_object_del(online, "pay_online");
	struct tb_guide_facts f;
	struct tb_err err = {0};
	assert_int_equal(tb_catalog_check_guide(g, "guide", &f, &err), TB_OK);
	assert_false(f.has_legal);
	assert_false(f.has_promised);
	assert_int_equal(f.depth_mask, 0);
	json_decref(g);
}

typedef void (*mutate_fn)(json_t *g);

static void expect(mutate_fn m, const char *field)
{
	json_t *g = guide();
	m(g);
	struct tb_guide_facts f;
	struct tb_err err = {0};
	tb_rc rc = tb_catalog_check_guide(g, "guide", &f, &err);
	json_decref(g); /* before any failure: a failed assertion does not return */
	if (rc != TB_EINVAL || strcmp(err.field, field))
		fail_msg("want %s, got rc %d field '%s' (%s)", field, rc, err.field, err.msg);
	assert_true(err.msg[0] != 0);
}

#define MUT(name, body)                                                                            \
	static void name(json_t *g)                                                                \
	{                                                                                          \
		body;                                                                              \
	}
#define MAT(i) json_array_get(json_object_get(g, "materials"), i)

MUT(m_unknown, json_object_set_new(g, "foo", json_true()))
MUT(m_name_type, json_object_set_new(g, "name", json_integer(1)))
MUT(m_name_empty, json_object_set_new(g, "name", json_string("")))
MUT(m_case_type, json_object_set_new(g, "case_type", json_string("3")))
MUT(m_case_missing, json_object_del(g, "case_type"))
MUT(m_basis_missing, json_object_del(g, "legal_basis"))
MUT(m_legal_unit,
    json_object_set_new(json_object_get(g, "legal_limit"), "unit", json_string("week")))
MUT(m_legal_value,
    json_object_set_new(json_object_get(g, "legal_limit"), "value", json_integer(-1)))
MUT(m_legal_value_str,
    json_object_set_new(json_object_get(g, "legal_limit"), "value", json_string("15")))
MUT(m_legal_unknown,
    json_object_set_new(json_object_get(g, "legal_limit"), "days", json_integer(1)))
MUT(m_legal_not_object, json_object_set_new(g, "legal_limit", json_integer(15)))
MUT(m_promised_over,
    json_object_set_new(json_object_get(g, "promised_limit"), "value", json_integer(16)))
MUT(m_conditions_missing, json_object_del(g, "acceptance_conditions"))
MUT(m_conditions_empty,
    json_array_append_new(json_object_get(g, "acceptance_conditions"), json_string("")))
MUT(m_process_missing, json_object_del(g, "process"))
MUT(m_process_not_object, json_array_append_new(json_object_get(g, "process"), json_string("x")))
MUT(m_process_no_name, json_object_del(json_array_get(json_object_get(g, "process"), 1), "name"))
MUT(m_form_bad, json_array_append_new(json_object_get(g, "handling_form"), json_string("fax")))
MUT(m_form_empty, json_object_set_new(g, "handling_form", json_array()))
MUT(m_address, json_object_del(g, "address"))
MUT(m_hours, json_object_set_new(g, "hours", json_null()))
MUT(m_consult, json_object_del(g, "consult_phone"))
MUT(m_supervise, json_object_del(g, "supervise_phone"))
MUT(m_visits_7, json_object_set_new(g, "visits", json_integer(7)))
MUT(m_visits_neg, json_object_set_new(g, "visits", json_integer(-1)))
MUT(m_visits_missing, json_object_del(g, "visits"))
MUT(m_express_str, json_object_set_new(g, "express_delivery", json_string("yes")))
MUT(m_fee_missing, json_object_del(g, "fee"))
MUT(m_fee_charged_no_items, json_object_set_new(json_object_get(g, "fee"), "items", json_array()))
MUT(m_fee_item_amount,
    json_object_set_new(json_array_get(json_object_get(json_object_get(g, "fee"), "items"), 0),
			"amount_fen", json_real(1.5)))
MUT(m_fee_unknown, json_object_set_new(json_object_get(g, "fee"), "total", json_integer(1)))
MUT(m_online_missing, json_object_del(g, "online"))
MUT(m_online_available, json_object_del(json_object_get(g, "online"), "available"))
MUT(m_depth_9,
    json_array_append_new(json_object_get(json_object_get(g, "online"), "depth"), json_string("9")))
MUT(m_depth_0,
    json_array_append_new(json_object_get(json_object_get(g, "online"), "depth"), json_string("0")))
MUT(m_depth_repeat,
    json_array_append_new(json_object_get(json_object_get(g, "online"), "depth"), json_string("2")))
MUT(m_result_missing, json_object_del(g, "result"))
MUT(m_result_type,
    json_object_set_new(json_object_get(g, "result"), "type", json_string("certificate")))
MUT(m_materials_missing, json_object_del(g, "materials"))
MUT(m_materials_not_array, json_object_set_new(g, "materials", json_object()))
MUT(m_necessity_5, json_object_set_new(MAT(1), "necessity", json_string("5")))
MUT(m_necessity_int, json_object_set_new(MAT(0), "necessity", json_integer(1)))
MUT(m_source_30, json_object_set_new(MAT(1), "source", json_string("30")))
MUT(m_source20_no_licence, json_object_set_new(MAT(0), "licence_type", json_null()))
MUT(m_source20_empty_licence, json_object_del(MAT(0), "licence_type"))
MUT(m_material_form_bad, json_array_append_new(json_object_get(MAT(0), "form"), json_string("fax")))
MUT(m_material_form_empty, json_object_set_new(MAT(0), "form", json_array()))
MUT(m_material_count_0, json_object_set_new(MAT(1), "count", json_integer(0)))
MUT(m_material_count_100, json_object_set_new(MAT(1), "count", json_integer(100)))
MUT(m_material_unknown, json_object_set_new(MAT(1), "colour", json_string("red")))
MUT(m_material_no_name, json_object_del(MAT(1), "name"))
MUT(m_faq_no_answer, json_object_del(json_array_get(json_object_get(g, "faq"), 0), "a"))
MUT(m_faq_not_object, json_array_append_new(json_object_get(g, "faq"), json_integer(1)))

static void test_rules(void **state)
{
	(void)state;
	expect(m_unknown, "guide.foo");
	expect(m_name_type, "guide.name");
	expect(m_case_type, "guide.case_type");
	expect(m_case_missing, "guide.case_type");
	expect(m_basis_missing, "guide.legal_basis");
	expect(m_legal_unit, "guide.legal_limit.unit");
	expect(m_legal_value, "guide.legal_limit.value");
	expect(m_legal_value_str, "guide.legal_limit.value");
	expect(m_legal_unknown, "guide.legal_limit.days");
	expect(m_legal_not_object, "guide.legal_limit");
	expect(m_promised_over, "guide.promised_limit");
	expect(m_conditions_missing, "guide.acceptance_conditions");
	expect(m_conditions_empty, "guide.acceptance_conditions[1]");
	expect(m_process_missing, "guide.process");
	expect(m_process_not_object, "guide.process[2]");
	expect(m_process_no_name, "guide.process[1].name");
	expect(m_form_bad, "guide.handling_form[3]");
	expect(m_form_empty, "guide.handling_form");
	expect(m_address, "guide.address");
	expect(m_hours, "guide.hours");
	expect(m_consult, "guide.consult_phone");
	expect(m_supervise, "guide.supervise_phone");
	expect(m_visits_7, "guide.visits");
	expect(m_visits_neg, "guide.visits");
	expect(m_visits_missing, "guide.visits");
	expect(m_express_str, "guide.express_delivery");
	expect(m_fee_missing, "guide.fee");
	expect(m_fee_charged_no_items, "guide.fee.items");
	expect(m_fee_item_amount, "guide.fee.items[0].amount_fen");
	expect(m_fee_unknown, "guide.fee.total");
	expect(m_online_missing, "guide.online");
	expect(m_online_available, "guide.online.available");
	expect(m_depth_9, "guide.online.depth[3]");
	expect(m_depth_0, "guide.online.depth");
	expect(m_depth_repeat, "guide.online.depth[3]");
	expect(m_result_missing, "guide.result");
	expect(m_result_type, "guide.result.type");
	expect(m_materials_missing, "guide.materials");
	expect(m_materials_not_array, "guide.materials");
	expect(m_necessity_5, "guide.materials[1].necessity");
	expect(m_necessity_int, "guide.materials[0].necessity");
	expect(m_source_30, "guide.materials[1].source");
	expect(m_source20_no_licence, "guide.materials[0].licence_type");
	expect(m_source20_empty_licence, "guide.materials[0].licence_type");
	expect(m_material_form_bad, "guide.materials[0].form[1]");
	expect(m_material_form_empty, "guide.materials[0].form");
	expect(m_material_count_0, "guide.materials[1].count");
	expect(m_material_count_100, "guide.materials[1].count");
	expect(m_material_unknown, "guide.materials[1].colour");
	expect(m_material_no_name, "guide.materials[1].name");
	expect(m_faq_no_answer, "guide.faq[0].a");
	expect(m_faq_not_object, "guide.faq[1]");
}

/* jsonv.h: a present string has 1..max characters. An empty guide name would become
 * the implementation's display name (catalog.c uses it instead of the item name). */
static void test_empty_optional_string(void **state)
{
	(void)state;
	expect(m_name_empty, "guide.name");
}

static void test_not_object(void **state)
{
	(void)state;
	struct tb_guide_facts f;
	struct tb_err err = {0};
	json_t *a = json_array();
	assert_int_equal(tb_catalog_check_guide(a, "guide", &f, &err), TB_EINVAL);
	assert_string_equal(err.field, "guide");
	json_decref(a);
}

/* Units differ: a promised limit in hours is not compared with a legal one in days. */
static void test_limits_other_units(void **state)
{
	(void)state;
	json_t *g = guide();
	json_t *p = json_object_get(g, "promised_limit");
	json_object_set_new(p, "value", json_integer(48));
	json_object_set_new(p, "unit", json_string("hour"));
	struct tb_guide_facts f;
	struct tb_err err = {0};
	assert_int_equal(tb_catalog_check_guide(g, "guide", &f, &err), TB_OK);
	assert_string_equal(f.promised_unit, "hour");
	/* equal limits are fine */
	json_object_set_new(p, "value", json_integer(15));
	json_object_set_new(p, "unit", json_string("working_day"));
	assert_int_equal(tb_catalog_check_guide(g, "guide", &f, &err), TB_OK);
	json_decref(g);
}

static void set_visits_depth(json_t *g, int visits, const char *const *depth)
{
	json_object_set_new(g, "visits", json_integer(visits));
	json_t *d = json_array();
	for (; *depth; depth++)
		json_array_append_new(d, json_string(*depth));
	json_object_set_new(json_object_get(g, "online"), "depth", d);
}

static void test_derived(void **state)
{
	(void)state;
	struct {
		int visits;
		const char *depth[9];
		bool zero, fully;
	} cases[] = {
	    {0, {"1", "2", "3", "4", "5", "6", NULL}, true, true},
	    {0, {"2", "4", "5", "6", NULL}, true, true},
	    {0, {"2", "4", "5", "6", "7", "8", NULL}, true, true},
	    {0, {"1", "2", "4", "5", NULL}, true, false}, /* results not on the internet */
	    {0, {"2", "4", "6", NULL}, true, false},
	    {0, {NULL}, true, false},
	    {1, {"1", "2", "3", "4", "5", "6", NULL}, false, false}, /* a visit */
	    {2, {"2", "4", "5", "6", NULL}, false, false},
	    {3, {NULL}, false, false},
	};
	for (size_t i = 0; i < TB_ARRAY_LEN(cases); i++) {
		json_t *g = guide();
		set_visits_depth(g, cases[i].visits, cases[i].depth);
		struct tb_guide_facts f;
		struct tb_err err = {0};
		assert_int_equal(tb_catalog_check_guide(g, "guide", &f, &err), TB_OK);
		assert_int_equal(f.visits, cases[i].visits);
		if (f.zero_visit != cases[i].zero || f.fully_online != cases[i].fully)
			fail_msg("case %zu: zero_visit %d fully_online %d", i, f.zero_visit,
				 f.fully_online);
		json_decref(g);
	}
}

static void test_prefix(void **state)
{
	(void)state;
	json_t *g = guide();
	json_object_set_new(g, "visits", json_integer(9));
	struct tb_guide_facts f;
	struct tb_err err = {0};
	assert_int_equal(tb_catalog_check_guide(g, "implementations[3].guide", &f, &err),
			 TB_EINVAL);
	assert_string_equal(err.field, "implementations[3].guide.visits");
	json_decref(g);
}

/* The optional element "form": absent or null is the default form; a form is checked
 * by tb_form_check under the guide's path. */
static void test_form(void **state)
{
	(void)state;
	json_t *g = guide();
	struct tb_guide_facts f;
	struct tb_err err = {0};
	json_object_set_new(g, "form", json_null());
	assert_int_equal(tb_catalog_check_guide(g, "guide", &f, &err), TB_OK);
	json_object_set_new(g, "form", tb_form_default());
	assert_int_equal(tb_catalog_check_guide(g, "guide", &f, &err), TB_OK);
	json_t *props = json_object_get(json_object_get(g, "form"), "properties");
	json_object_set_new(json_object_get(props, "statement"), "maxLength", json_integer(9000));
	assert_int_equal(tb_catalog_check_guide(g, "implementations[3].guide", &f, &err),
			 TB_EINVAL);
	assert_string_equal(err.field,
			    "implementations[3].guide.form.properties.statement.maxLength");
	json_object_set_new(g, "form", json_string("申请表"));
	assert_int_equal(tb_catalog_check_guide(g, "guide", &f, &err), TB_EINVAL);
	assert_string_equal(err.field, "guide.form");
	json_decref(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),      cmocka_unit_test(test_minimal),
	    cmocka_unit_test(test_rules),      cmocka_unit_test(test_empty_optional_string),
	    cmocka_unit_test(test_not_object), cmocka_unit_test(test_limits_other_units),
	    cmocka_unit_test(test_derived),    cmocka_unit_test(test_prefix),
	    cmocka_unit_test(test_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
