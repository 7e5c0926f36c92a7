/* test_form.c: application forms (catalog/form.h): every keyword accepted and each
 * broken rule named by its path; validation of applications collecting every failing
 * field with its message; x-show-if, drafts (partial), prefill, sensitive fields. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/form.h"

/* Fixtures are written with ' for " to stay readable; no value contains a '. */
static json_t *parse(const char *text)
{
	char *s = strdup(text);
	for (char *c = s; *c; c++)
		if (*c == '\'')
			*c = '"';
	json_error_t e;
	json_t *j = json_loads(s, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	if (!j)
		fail_msg("bad fixture: %s at %d: %s", e.text, e.column, s);
	free(s);
	return j;
}

/* Every keyword of form.h at least once. */
static const char *const FORM =
    "{'type': 'object', 'title': '测试申请表',"
    " 'properties': {"
    "  'name': {'type': 'string', 'title': '姓名', 'x-prefill': 'applicant.name',"
    "           'minLength': 2, 'maxLength': 5},"
    "  'id_number': {'type': 'string', 'title': '公民身份号码', 'format': 'id_number',"
    "                'x-prefill': 'applicant.id_number'},"
    "  'phone': {'type': 'string', 'title': '手机', 'format': 'phone',"
    "            'x-prefill': 'applicant.phone'},"
    "  'company': {'type': 'string', 'title': '企业名称', 'x-prefill': 'enterprise.name'},"
    "  'uscc': {'type': 'string', 'title': '统一社会信用代码', 'format': 'uscc',"
    "           'x-prefill': 'enterprise.uscc'},"
    "  'legal_rep': {'type': 'string', 'title': '法定代表人',"
    "                'x-prefill': 'enterprise.legal_rep'},"
    "  'email': {'type': 'string', 'title': '邮箱', 'format': 'email'},"
    "  'region': {'type': 'string', 'title': '行政区划', 'format': 'region'},"
    "  'birth': {'type': 'string', 'title': '出生日期', 'format': 'date'},"
    "  'postcode': {'type': 'string', 'title': '邮编', 'pattern': '[0-9]{6}'},"
    "  'reason': {'type': 'string', 'title': '原因', 'enum': ['expired', 'damaged', 'other'],"
    "             'x-enum-labels': ['有效期满', '损坏', '其他']},"
    "  'reason_other': {'type': 'string', 'title': '其他原因', 'description': '请说明',"
    "                   'x-multiline': true,"
    "                   'x-show-if': {'field': 'reason', 'in': ['other']}},"
    "  'count': {'type': 'integer', 'title': '份数', 'minimum': 1, 'maximum': 5},"
    "  'area': {'type': 'number', 'title': '面积', 'minimum': 0.5, 'maximum': 1000},"
    "  'agree': {'type': 'boolean', 'title': '同意', 'x-sensitive': false},"
    "  'scopes': {'type': 'array', 'title': '经营项目',"
    "             'items': {'type': 'string', 'enum': ['a', 'b', 'c'],"
    "                       'x-enum-labels': ['甲', '乙', '丙']},"
    "             'minItems': 1, 'maxItems': 2, 'uniqueItems': true},"
    "  'scope_note': {'type': 'string', 'title': '丙类说明',"
    "                 'x-show-if': {'field': 'scopes', 'in': ['c']}},"
    "  'secret': {'type': 'string', 'title': '备注', 'x-sensitive': true}},"
    " 'required': ['name', 'id_number', 'reason', 'reason_other', 'count', 'agree', 'scopes'],"
    " 'x-order': ['name', 'id_number', 'phone', 'company', 'uscc', 'legal_rep', 'email',"
    "             'region', 'birth', 'postcode', 'reason', 'reason_other', 'count', 'area',"
    "             'agree', 'scopes', 'scope_note', 'secret']}";

static const char *check_field(const char *form_text)
{
	static struct tb_err err;
	memset(&err, 0, sizeof(err));
	json_t *f = parse(form_text);
	tb_rc rc = tb_form_check(f, "guide.form", &err);
	json_decref(f);
	if (rc == TB_OK)
		return "(accepted)";
	assert_int_equal(rc, TB_EINVAL);
	assert_true(err.msg[0] != 0);
	return err.field;
}

static void test_full_form_valid(void **state)
{
	(void)state;
	assert_string_equal(check_field(FORM), "(accepted)");
	json_t *d = tb_form_default();
	struct tb_err err = {0};
	assert_int_equal(tb_form_check(d, "guide.form", &err), TB_OK);
	json_decref(d);
}

/* One field `a` (and sometimes `b`) with the given definitions. */
#define ONE(def)   "{'type': 'object', 'properties': {'a': " def "}}"
#define STR(extra) ONE("{'type': 'string', 'title': 'A'" extra "}")
#define INT(extra) ONE("{'type': 'integer', 'title': 'A'" extra "}")
#define NUM(extra) ONE("{'type': 'number', 'title': 'A'" extra "}")
#define ARR(extra) ONE("{'type': 'array', 'title': 'A'" extra "}")
#define ITEMS	   "'items': {'type': 'string', 'enum': ['x', 'y', 'z']}"

static void test_check_accepts(void **state)
{
	(void)state;
	static const char *const ok[] = {
	    STR(""),
	    STR(", 'maxLength': 5000, 'minLength': 5000"),
	    STR(", 'minLength': 0"),
	    STR(", 'pattern': '[A-Z]{2}[0-9]+|无'"),
	    STR(", 'pattern': 'a)|(b'"), /* compiles; the validator still anchors it */
	    STR(", 'pattern': 'a{1000}'"),
	    STR(", 'pattern': '[A-Z0-9]{18}|[[:digit:]]{0,9}|[]a]{2,}|b{,3}'"),
	    STR(", 'enum': ['一'], 'x-enum-labels': ['壹']"),
	    STR(", 'format': 'date', 'x-multiline': false, 'description': ''"),
	    STR(", 'x-sensitive': true, 'x-prefill': 'enterprise.uscc'"),
	    INT(", 'minimum': -3, 'maximum': -3"),
	    NUM(", 'minimum': 0.25, 'maximum': 7"),
	    ONE("{'type': 'boolean', 'title': 'A'}"),
	    ARR(", " ITEMS),
	    ARR(", " ITEMS ", 'minItems': 0, 'maxItems': 3, 'uniqueItems': true"),
	    "{'type': 'object', 'title': '表', 'properties': {'a': {'type': 'string', 'title': "
	    "'A'}},"
	    " 'required': [], 'x-order': ['a']}",
	    /* x-order puts b first, so a may depend on it */
	    "{'type': 'object', 'properties': {"
	    " 'a': {'type': 'string', 'title': 'A', 'x-show-if': {'field': 'b', 'in': [true]}},"
	    " 'b': {'type': 'boolean', 'title': 'B'}}, 'x-order': ['b', 'a']}",
	    "{'type': 'object', 'properties': {'n': {'type': 'number', 'title': 'N'},"
	    " 'a': {'type': 'string', 'title': 'A', 'x-show-if': {'field': 'n', 'in': [1, 2.5]}}}}",
	    "{'type': 'object', 'properties': {'s': {'type': 'string', 'title': 'S'},"
	    " 'a': {'type': 'string', 'title': 'A', 'x-show-if': {'field': 's', 'in': ['任意']}}}}",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		const char *f = check_field(ok[i]);
		if (strcmp(f, "(accepted)"))
			fail_msg("form %zu refused at %s: %s", i, f, ok[i]);
	}
}

static void test_check_rejects(void **state)
{
	(void)state;
	static const struct {
		const char *form, *field;
	} bad[] = {
	    {"[]", "guide.form"},
	    {"{'type': 'object', 'properties': {'a': {'type': 'string', 'title': 'A'}},"
	     " '$schema': 'x'}",
	     "guide.form.$schema"},
	    {"{'type': 'array', 'properties': {'a': {'type': 'string', 'title': 'A'}}}",
	     "guide.form.type"},
	    {"{'properties': {'a': {'type': 'string', 'title': 'A'}}}", "guide.form.type"},
	    {"{'type': 'object', 'title': 5, 'properties': {'a': {'type': 'string', 'title': "
	     "'A'}}}",
	     "guide.form.title"},
	    {"{'type': 'object'}", "guide.form.properties"},
	    {"{'type': 'object', 'properties': {}}", "guide.form.properties"},
	    {"{'type': 'object', 'properties': []}", "guide.form.properties"},
	    /* field names */
	    {"{'type': 'object', 'properties': {'Name': {'type': 'string', 'title': 'A'}}}",
	     "guide.form.properties.Name"},
	    {"{'type': 'object', 'properties': {'1a': {'type': 'string', 'title': 'A'}}}",
	     "guide.form.properties.1a"},
	    {"{'type': 'object', 'properties': {'a-b': {'type': 'string', 'title': 'A'}}}",
	     "guide.form.properties.a-b"},
	    {"{'type': 'object', 'properties': {'abcdefghijabcdefghijabcdefghijabcdefghijk':"
	     " {'type': 'string', 'title': 'A'}}}",
	     "guide.form.properties.abcdefghijabcdefghijabcdefghijabcdefghijk"},
	    /* every type */
	    {ONE("'x'"), "guide.form.properties.a"},
	    {ONE("{'title': 'A'}"), "guide.form.properties.a.type"},
	    {ONE("{'type': 'date', 'title': 'A'}"), "guide.form.properties.a.type"},
	    {ONE("{'type': 'object', 'title': 'A'}"), "guide.form.properties.a.type"},
	    {ONE("{'type': 'string'}"), "guide.form.properties.a.title"},
	    {ONE("{'type': 'string', 'title': ''}"), "guide.form.properties.a.title"},
	    {STR(", 'description': 1"), "guide.form.properties.a.description"},
	    {STR(", 'maxlength': 5"), "guide.form.properties.a.maxlength"},
	    {STR(", 'default': 'x'"), "guide.form.properties.a.default"},
	    {STR(", 'minimum': 1"), "guide.form.properties.a.minimum"},
	    {INT(", 'pattern': 'x'"), "guide.form.properties.a.pattern"},
	    {INT(", 'x-multiline': true"), "guide.form.properties.a.x-multiline"},
	    {ONE("{'type': 'boolean', 'title': 'A', 'enum': [true]}"),
	     "guide.form.properties.a.enum"},
	    {ARR(", " ITEMS ", 'maxLength': 3"), "guide.form.properties.a.maxLength"},
	    {STR(", 'x-sensitive': 'yes'"), "guide.form.properties.a.x-sensitive"},
	    /* a keyword is given or left out, never null */
	    {STR(", 'maxLength': null"), "guide.form.properties.a.maxLength"},
	    {STR(", 'enum': null"), "guide.form.properties.a.enum"},
	    {STR(", 'description': null"), "guide.form.properties.a.description"},
	    {ARR(", 'items': {'type': 'string', 'enum': ['x'], 'x-enum-labels': null}"),
	     "guide.form.properties.a.items.x-enum-labels"},
	    {"{'type': 'object', 'properties': {'a': {'type': 'string', 'title': 'A'}},"
	     " 'x-order': null}",
	     "guide.form.x-order"},
	    {STR(", 'x-prefill': 'applicant.email'"), "guide.form.properties.a.x-prefill"},
	    {INT(", 'x-prefill': 'applicant.name'"), "guide.form.properties.a.x-prefill"},
	    /* string */
	    {STR(", 'minLength': -1"), "guide.form.properties.a.minLength"},
	    {STR(", 'minLength': '1'"), "guide.form.properties.a.minLength"},
	    {STR(", 'maxLength': 0"), "guide.form.properties.a.maxLength"},
	    {STR(", 'maxLength': 5001"), "guide.form.properties.a.maxLength"},
	    {STR(", 'minLength': 6, 'maxLength': 5"), "guide.form.properties.a.minLength"},
	    {STR(", 'minLength': 501"), "guide.form.properties.a.minLength"}, /* default max */
	    {STR(", 'pattern': '[0-9'"), "guide.form.properties.a.pattern"},
	    {STR(", 'pattern': '(a'"), "guide.form.properties.a.pattern"},
	    {STR(", 'pattern': '(a)\\\\1'"), "guide.form.properties.a.pattern"},
	    {STR(", 'pattern': 3"), "guide.form.properties.a.pattern"},
	    {STR(", 'pattern': 'a)((a{0,100}){0,100})'"), "guide.form.properties.a.pattern"},
	    {STR(", 'pattern': '((a{0,100}){0,100}'"), "guide.form.properties.a.pattern"},
	    {STR(", 'pattern': '((a{0,100}){0,100})['"), "guide.form.properties.a.pattern"},
	    /* repetitions glibc would expand to more than 1000 elements at every compile */
	    {STR(", 'pattern': '((a{0,100}){0,100})'"), "guide.form.properties.a.pattern"},
	    {STR(", 'pattern': '(a{1,50}){1,50}'"), "guide.form.properties.a.pattern"},
	    {STR(", 'pattern': 'a{1001}'"), "guide.form.properties.a.pattern"},
	    {STR(", 'pattern': '(ab|c){334,}'"), "guide.form.properties.a.pattern"},
	    {STR(", 'pattern': 'x{99999999999999999999999}'"), "guide.form.properties.a.pattern"},
	    {STR(", 'format': 'mobile'"), "guide.form.properties.a.format"},
	    {STR(", 'x-multiline': 'yes'"), "guide.form.properties.a.x-multiline"},
	    {STR(", 'enum': []"), "guide.form.properties.a.enum"},
	    {STR(", 'enum': 'x'"), "guide.form.properties.a.enum"},
	    {STR(", 'enum': ['x', 'x']"), "guide.form.properties.a.enum[1]"},
	    {STR(", 'enum': ['x', 1]"), "guide.form.properties.a.enum[1]"},
	    {STR(", 'enum': ['']"), "guide.form.properties.a.enum[0]"},
	    {STR(", 'x-enum-labels': ['X']"), "guide.form.properties.a.x-enum-labels"},
	    {STR(", 'enum': ['x', 'y'], 'x-enum-labels': ['X']"),
	     "guide.form.properties.a.x-enum-labels"},
	    {STR(", 'enum': ['x', 'y'], 'x-enum-labels': ['X', '']"),
	     "guide.form.properties.a.x-enum-labels[1]"},
	    /* integer / number */
	    {INT(", 'minimum': '1'"), "guide.form.properties.a.minimum"},
	    {INT(", 'minimum': 1.5"), "guide.form.properties.a.minimum"},
	    {INT(", 'maximum': true"), "guide.form.properties.a.maximum"},
	    {NUM(", 'maximum': '9'"), "guide.form.properties.a.maximum"},
	    {NUM(", 'minimum': 2, 'maximum': 1.5"), "guide.form.properties.a.maximum"},
	    /* array */
	    {ARR(""), "guide.form.properties.a.items"},
	    {ARR(", 'items': ['x']"), "guide.form.properties.a.items"},
	    {ARR(", 'items': {'type': 'integer', 'enum': ['x']}"),
	     "guide.form.properties.a.items.type"},
	    {ARR(", 'items': {'type': 'string'}"), "guide.form.properties.a.items.enum"},
	    {ARR(", 'items': {'type': 'string', 'enum': ['x'], 'pattern': 'x'}"),
	     "guide.form.properties.a.items.pattern"},
	    {ARR(", 'items': {'type': 'string', 'enum': ['x'], 'x-enum-labels': []}"),
	     "guide.form.properties.a.items.x-enum-labels"},
	    {ARR(", " ITEMS ", 'minItems': 4"), "guide.form.properties.a.minItems"},
	    {ARR(", " ITEMS ", 'maxItems': 0"), "guide.form.properties.a.maxItems"},
	    {ARR(", " ITEMS ", 'maxItems': 4"), "guide.form.properties.a.maxItems"},
	    {ARR(", " ITEMS ", 'minItems': 3, 'maxItems': 2"), "guide.form.properties.a.minItems"},
	    {ARR(", " ITEMS ", 'uniqueItems': false"), "guide.form.properties.a.uniqueItems"},
	    /* required, x-order */
	    {"{'type': 'object', 'properties': {'a': {'type': 'string', 'title': 'A'}},"
	     " 'required': 'a'}",
	     "guide.form.required"},
	    {"{'type': 'object', 'properties': {'a': {'type': 'string', 'title': 'A'}},"
	     " 'required': ['b']}",
	     "guide.form.required[0]"},
	    {"{'type': 'object', 'properties': {'a': {'type': 'string', 'title': 'A'}},"
	     " 'required': ['a', 'a']}",
	     "guide.form.required[1]"},
	    {"{'type': 'object', 'properties': {'a': {'type': 'string', 'title': 'A'}},"
	     " 'x-order': ['b']}",
	     "guide.form.x-order[0]"},
	    {"{'type': 'object', 'properties': {'a': {'type': 'string', 'title': 'A'}},"
	     " 'x-order': ['a', 'a']}",
	     "guide.form.x-order[1]"},
	    {"{'type': 'object', 'properties': {'a': {'type': 'string', 'title': 'A'},"
	     " 'b': {'type': 'string', 'title': 'B'}}, 'x-order': ['b']}",
	     "guide.form.x-order"},
	    /* x-show-if */
	    {STR(", 'x-show-if': ['a']"), "guide.form.properties.a.x-show-if"},
	    {STR(", 'x-show-if': {'field': 'a', 'in': ['x']}"),
	     "guide.form.properties.a.x-show-if.field"}, /* itself */
	    {"{'type': 'object', 'properties': {'b': {'type': 'boolean', 'title': 'B'},"
	     " 'a': {'type': 'string', 'title': 'A', 'x-show-if': {'field': 'b', 'in': [true],"
	     " 'when': 1}}}}",
	     "guide.form.properties.a.x-show-if.when"},
	    {"{'type': 'object', 'properties': {'b': {'type': 'boolean', 'title': 'B'},"
	     " 'a': {'type': 'string', 'title': 'A', 'x-show-if': {'in': [true]}}}}",
	     "guide.form.properties.a.x-show-if.field"},
	    {"{'type': 'object', 'properties': {'b': {'type': 'boolean', 'title': 'B'},"
	     " 'a': {'type': 'string', 'title': 'A', 'x-show-if': {'field': 'c', 'in': [true]}}}}",
	     "guide.form.properties.a.x-show-if.field"},
	    {"{'type': 'object', 'properties': {'b': {'type': 'boolean', 'title': 'B'},"
	     " 'a': {'type': 'string', 'title': 'A', 'x-show-if': {'field': 'b'}}}}",
	     "guide.form.properties.a.x-show-if.in"},
	    {"{'type': 'object', 'properties': {'b': {'type': 'boolean', 'title': 'B'},"
	     " 'a': {'type': 'string', 'title': 'A', 'x-show-if': {'field': 'b', 'in': []}}}}",
	     "guide.form.properties.a.x-show-if.in"},
	    {"{'type': 'object', 'properties': {'b': {'type': 'boolean', 'title': 'B'},"
	     " 'a': {'type': 'string', 'title': 'A', 'x-show-if': {'field': 'b', 'in': "
	     "['true']}}}}",
	     "guide.form.properties.a.x-show-if.in[0]"},
	    {"{'type': 'object', 'properties': {'b': {'type': 'integer', 'title': 'B'},"
	     " 'a': {'type': 'string', 'title': 'A', 'x-show-if': {'field': 'b', 'in': [1, "
	     "1.5]}}}}",
	     "guide.form.properties.a.x-show-if.in[1]"},
	    {"{'type': 'object', 'properties': {'b': {'type': 'string', 'title': 'B',"
	     " 'enum': ['x', 'y']}, 'a': {'type': 'string', 'title': 'A',"
	     " 'x-show-if': {'field': 'b', 'in': ['y', 'z']}}}}",
	     "guide.form.properties.a.x-show-if.in[1]"},
	    {"{'type': 'object', 'properties': {'b': {'type': 'array', 'title': 'B', " ITEMS "},"
	     " 'a': {'type': 'string', 'title': 'A', 'x-show-if': {'field': 'b', 'in': ['w']}}}}",
	     "guide.form.properties.a.x-show-if.in[0]"},
	    /* a field may only depend on an earlier one: forward references and cycles */
	    {"{'type': 'object', 'properties': {"
	     " 'a': {'type': 'string', 'title': 'A', 'x-show-if': {'field': 'b', 'in': [true]}},"
	     " 'b': {'type': 'boolean', 'title': 'B'}}}",
	     "guide.form.properties.a.x-show-if.field"},
	    {"{'type': 'object', 'properties': {"
	     " 'a': {'type': 'boolean', 'title': 'A', 'x-show-if': {'field': 'b', 'in': [true]}},"
	     " 'b': {'type': 'boolean', 'title': 'B', 'x-show-if': {'field': 'a', 'in': [true]}}}}",
	     "guide.form.properties.a.x-show-if.field"},
	    {"{'type': 'object', 'properties': {"
	     " 'a': {'type': 'boolean', 'title': 'A', 'x-show-if': {'field': 'c', 'in': [true]}},"
	     " 'b': {'type': 'boolean', 'title': 'B', 'x-show-if': {'field': 'a', 'in': [true]}},"
	     " 'c': {'type': 'boolean', 'title': 'C', 'x-show-if': {'field': 'b', 'in': [true]}}},"
	     " 'x-order': ['b', 'c', 'a']}",
	     "guide.form.properties.b.x-show-if.field"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *f = check_field(bad[i].form);
		if (strcmp(f, bad[i].field))
			fail_msg("form %zu: expected %s, got %s: %s", i, bad[i].field, f,
				 bad[i].form);
	}
}

static json_t *many_fields(int n)
{
	json_t *props = json_object();
	for (int i = 0; i < n; i++) {
		char name[16];
		snprintf(name, sizeof(name), "f%d", i);
		json_object_set_new(props, name,
				    json_pack("{s:s, s:s}", "type", "string", "title", name));
	}
	return json_pack("{s:s, s:o}", "type", "object", "properties", props);
}

static void test_field_count(void **state)
{
	(void)state;
	struct tb_err err = {0};
	json_t *f = many_fields(100);
	assert_int_equal(tb_form_check(f, "guide.form", &err), TB_OK);
	json_decref(f);
	f = many_fields(101);
	assert_int_equal(tb_form_check(f, "guide.form", &err), TB_EINVAL);
	assert_string_equal(err.field, "guide.form.properties");
	json_decref(f);
}

/* errors as "field: message; field: message" for one comparison */
static char *joined(json_t *errors)
{
	static char out[4096];
	size_t i, n = 0;
	json_t *e;
	out[0] = 0;
	json_array_foreach(errors, i, e)
	{
		assert_int_equal(json_object_size(e), 2);
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s: %s", i ? "; " : "",
				      json_string_value(json_object_get(e, "field")),
				      json_string_value(json_object_get(e, "message")));
	}
	return out;
}

static const char *validate(const char *data_text, bool partial, tb_rc want)
{
	json_t *form = parse(FORM), *data = parse(data_text), *errors = json_array();
	assert_int_equal(tb_form_validate(form, data, partial, errors), want);
	const char *s = joined(errors);
	json_decref(form);
	json_decref(data);
	json_decref(errors);
	return s;
}

static const char *const GOOD =
    "{'name': '张三', 'id_number': '11010519491231002X', 'phone': '13800138000',"
    " 'company': '广州某某有限公司', 'uscc': '91310110666007217T', 'legal_rep': '李四',"
    " 'email': 'zhang.san@example.cn', 'region': '440106', 'birth': '2024-02-29',"
    " 'postcode': '510000', 'reason': 'other', 'reason_other': '证件信息有误',"
    " 'count': 5, 'area': 0.5, 'agree': false, 'scopes': ['a', 'c'],"
    " 'scope_note': '说明', 'secret': '不公开'}";

static void test_validate_good(void **state)
{
	(void)state;
	assert_string_equal(validate(GOOD, false, TB_OK), "");
	/* the least that passes: optional fields left out, empty or null */
	assert_string_equal(validate("{'name': '张三李四王', 'id_number': '11010519491231002X',"
				     " 'reason': 'expired', 'count': 1, 'agree': true,"
				     " 'scopes': ['b'], 'phone': '', 'area': null}",
				     false, TB_OK),
			    "");
	/* a number field takes integers; 1000 is the maximum itself */
	assert_string_equal(validate("{'name': '张三', 'id_number': '11010519491231002X',"
				     " 'reason': 'expired', 'count': 1, 'agree': true,"
				     " 'scopes': ['b'], 'area': 1000}",
				     false, TB_OK),
			    "");
}

static void test_validate_every_error(void **state)
{
	(void)state;
	assert_string_equal(
	    validate("{'name': '张', 'id_number': '110105194912310021', 'phone': '12345678901',"
		     " 'company': 7, 'uscc': '91310110666007217A', 'legal_rep': 'a\\u0000b',"
		     " 'email': 'a@b', 'region': '4400', 'birth': '2023-02-29',"
		     " 'postcode': '5100001', 'reason': 'lost', 'reason_other': 'x',"
		     " 'count': 0, 'area': 'big', 'agree': 'yes', 'scopes': ['a', 'd'],"
		     " 'scope_note': '说明', 'extra': 1, 'Name': '张三'}",
		     false, TB_EINVAL),
	    "form.name: 不能少于2个字; "
	    "form.id_number: 不是有效的公民身份号码; "
	    "form.phone: 不是有效的手机号码; "
	    "form.company: 必须是文本; "
	    "form.uscc: 不是有效的统一社会信用代码; "
	    "form.legal_rep: 不能包含换行或控制字符; "
	    "form.email: 不是有效的电子邮箱地址; "
	    "form.region: 不是有效的行政区划代码; "
	    "form.birth: 不是有效的日期（格式为YYYY-MM-DD）; "
	    "form.postcode: 格式不正确; "
	    "form.reason: 不是可选的值; "
	    "form.reason_other: 当前条件下不应填写此项; "
	    "form.count: 不能小于1; "
	    "form.area: 必须是数字; "
	    "form.agree: 必须是“是”或“否”; "
	    "form.scopes: 包含不可选的值; "
	    "form.scope_note: 当前条件下不应填写此项; "
	    "form.extra: 表单中没有此项; "
	    "form.Name: 表单中没有此项");
	/* the other side of each limit */
	assert_string_equal(
	    validate("{'name': '张三李四王五', 'id_number': '11010519491231002X',"
		     " 'reason': 'expired', 'count': 6, 'area': 1000.5, 'agree': true,"
		     " 'scopes': ['a', 'b', 'c'], 'birth': '2024-2-01', 'postcode': 'a510000',"
		     " 'email': 'a b@example.cn'}",
		     false, TB_EINVAL),
	    "form.name: 不能超过5个字; form.email: 不是有效的电子邮箱地址; "
	    "form.birth: 不是有效的日期（格式为YYYY-MM-DD）; form.postcode: 格式不正确; "
	    "form.count: 不能大于5; form.area: 不能大于1000; form.scopes: 最多选择2项");
	assert_string_equal(
	    validate("{'name': 5, 'id_number': '11010519491231002X',"
		     " 'reason': 'expired', 'count': 1.5, 'agree': true,"
		     " 'scopes': ['a', 'a']}",
		     false, TB_EINVAL),
	    "form.name: 必须是文本; form.count: 必须是整数; form.scopes: 有重复的选项");
	assert_string_equal(
	    validate("{'name': '张三', 'id_number': '11010519491231002X',"
		     " 'reason': 'expired', 'count': 1, 'agree': true, 'scopes': 'a'}",
		     false, TB_EINVAL),
	    "form.scopes: 必须是选项列表");
	assert_string_equal(validate("[]", false, TB_EINVAL), "form: 必须是对象");
	/* every unknown field is named, up to 100 */
	json_t *f100 = parse(FORM), *many = json_object(), *errs = json_array();
	for (int i = 0; i < 150; i++) {
		char key[16];
		snprintf(key, sizeof(key), "x%d", i);
		json_object_set_new(many, key, json_true());
	}
	assert_int_equal(tb_form_validate(f100, many, true, errs), TB_EINVAL);
	assert_int_equal(json_array_size(errs), 100);
	assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 99), "field")),
			    "form.x99");
	json_decref(f100);
	json_decref(many);
	json_decref(errs);
	/* bounds as written; new lines only in multi-line fields */
	assert_string_equal(validate("{'area': 0.25, 'reason': 'other',"
				     " 'reason_other': '第一行\\n第二行\\t', 'secret': 'a\\nb'}",
				     true, TB_EINVAL),
			    "form.area: 不能小于0.5; form.secret: 不能包含换行或控制字符");
	assert_string_equal(
	    validate("{'reason': 'other', 'reason_other': 'a\\u0001'}", true, TB_EINVAL),
	    "form.reason_other: 不能包含控制字符");
	json_t *form = parse(NUM(", 'maximum': 100000000")), *errors = json_array(),
	       *data = parse("{'a': 100000000.5}");
	assert_int_equal(tb_form_validate(form, data, false, errors), TB_EINVAL);
	assert_string_equal(joined(errors), "form.a: 不能大于100000000");
	json_decref(form);
	json_decref(errors);
	json_decref(data);
}

static void test_required_and_partial(void **state)
{
	(void)state;
	/* reason_other is required but hidden (reason is not 'other'): not missing */
	assert_string_equal(validate("{}", false, TB_EINVAL),
			    "form.name: 必填; form.id_number: 必填; form.reason: 必填; "
			    "form.count: 必填; form.agree: 必填; form.scopes: 必填");
	assert_string_equal(validate("{'name': '', 'id_number': null, 'reason': 'damaged',"
				     " 'count': 2, 'agree': false, 'scopes': []}",
				     false, TB_EINVAL),
			    "form.name: 必填; form.id_number: 必填; form.scopes: 必填");
	/* a draft may leave anything out, but what it holds is checked */
	assert_string_equal(validate("{}", true, TB_OK), "");
	assert_string_equal(validate("{'reason': 'other'}", true, TB_OK), "");
	assert_string_equal(validate("{'count': 9, 'nope': 1}", true, TB_EINVAL),
			    "form.count: 不能大于5; form.nope: 表单中没有此项");
}

static void test_show_if(void **state)
{
	(void)state;
	/* shown and required */
	assert_string_equal(
	    validate("{'name': '张三', 'id_number': '11010519491231002X',"
		     " 'reason': 'other', 'count': 1, 'agree': true, 'scopes': ['a']}",
		     false, TB_EINVAL),
	    "form.reason_other: 必填");
	/* shown when any choice of a multiple choice matches; an empty value is absent */
	assert_string_equal(validate("{'name': '张三', 'id_number': '11010519491231002X',"
				     " 'reason': 'expired', 'reason_other': '', 'count': 1,"
				     " 'agree': true, 'scopes': ['b'], 'scope_note': 'x'}",
				     false, TB_EINVAL),
			    "form.scope_note: 当前条件下不应填写此项");
	assert_string_equal(validate("{'scopes': ['b', 'c'], 'scope_note': 'x'}", true, TB_OK), "");
	/* hidden fields must be absent in drafts too */
	assert_string_equal(validate("{'reason': 'expired', 'reason_other': 'x'}", true, TB_EINVAL),
			    "form.reason_other: 当前条件下不应填写此项");

	/* a chain: c shows when b does and b is true; b shows when a is 2 */
	json_t *form = parse("{'type': 'object', 'properties': {"
			     " 'a': {'type': 'integer', 'title': 'A'},"
			     " 'b': {'type': 'boolean', 'title': 'B',"
			     "       'x-show-if': {'field': 'a', 'in': [2]}},"
			     " 'c': {'type': 'string', 'title': 'C',"
			     "       'x-show-if': {'field': 'b', 'in': [true]}}},"
			     " 'required': ['b', 'c']}");
	struct tb_err err = {0};
	assert_int_equal(tb_form_check(form, "f", &err), TB_OK);
	static const struct {
		const char *data, *errors;
	} cases[] = {
	    {"{}", ""},
	    {"{'a': 1}", ""},
	    {"{'a': 2}", "form.b: 必填"},
	    {"{'a': 2, 'b': false}", ""},
	    {"{'a': 2, 'b': true}", "form.c: 必填"},
	    {"{'a': 2, 'b': true, 'c': 'x'}", ""},
	    {"{'a': 1, 'b': true, 'c': 'x'}", "form.b: 当前条件下不应填写此项; "
					      "form.c: 当前条件下不应填写此项"},
	    {"{'a': 2, 'b': false, 'c': 'x'}", "form.c: 当前条件下不应填写此项"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *data = parse(cases[i].data), *errors = json_array();
		tb_rc rc = tb_form_validate(form, data, false, errors);
		assert_int_equal(rc, *cases[i].errors ? TB_EINVAL : TB_OK);
		const char *got = joined(errors);
		if (strcmp(got, cases[i].errors))
			fail_msg("case %zu: expected '%s', got '%s'", i, cases[i].errors, got);
		json_decref(data);
		json_decref(errors);
	}
	json_decref(form);
}

static void test_pattern_anchored(void **state)
{
	(void)state;
	json_t *form = parse(STR(", 'pattern': 'a)|(b'"));
	static const struct {
		const char *value;
		bool ok;
	} cases[] = {{"a", true}, {"b", true}, {"xb", false}, {"ax", false}, {"ab", false}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *data = json_pack("{s:s}", "a", cases[i].value), *errors = json_array();
		assert_int_equal(tb_form_validate(form, data, false, errors),
				 cases[i].ok ? TB_OK : TB_EINVAL);
		json_decref(data);
		json_decref(errors);
	}
	json_decref(form);
}

static void test_prefill(void **state)
{
	(void)state;
	json_t *form = parse(FORM);
	struct tb_form_known k = {.name = "张三",
				  .id_number = "11010519491231002X",
				  .phone = "13800138000",
				  .enterprise_name = "广州某某有限公司",
				  .enterprise_uscc = NULL,
				  .enterprise_legal_rep = ""};
	json_t *got = tb_form_prefill(form, &k),
	       *want = parse("{'name': '张三', 'id_number': '11010519491231002X',"
			     " 'phone': '13800138000', 'company': '广州某某有限公司'}");
	assert_true(json_equal(got, want));
	json_decref(got);
	json_decref(want);
	struct tb_form_known none = {0};
	got = tb_form_prefill(form, &none);
	assert_int_equal(json_object_size(got), 0);
	json_decref(got);
	json_decref(form);

	/* a conditional field is prefilled only when what is prefilled before it shows it */
	form = parse("{'type': 'object', 'properties': {"
		     " 'company': {'type': 'string', 'title': 'C', 'x-prefill': 'enterprise.name'},"
		     " 'rep': {'type': 'string', 'title': 'R', 'x-prefill': 'enterprise.legal_rep',"
		     "         'x-show-if': {'field': 'company', 'in': ['甲公司']}},"
		     " 'agent': {'type': 'string', 'title': 'A', 'x-prefill': 'applicant.name',"
		     "         'x-show-if': {'field': 'company', 'in': ['乙公司']}}}}");
	struct tb_form_known ent = {
	    .name = "张三", .enterprise_name = "甲公司", .enterprise_legal_rep = "李四"};
	got = tb_form_prefill(form, &ent);
	want = parse("{'company': '甲公司', 'rep': '李四'}");
	assert_true(json_equal(got, want));
	json_t *errors = json_array();
	assert_int_equal(tb_form_validate(form, got, false, errors), TB_OK);
	json_decref(errors);
	json_decref(got);
	json_decref(want);
	json_decref(form);
}

static void test_default(void **state)
{
	(void)state;
	json_t *form = tb_form_default();
	struct tb_form_known k = {
	    .name = "王五", .id_number = "11010519491231002X", .phone = "13912345678"};
	json_t *data = tb_form_prefill(form, &k), *errors = json_array();
	assert_int_equal(json_object_size(data), 3);
	assert_string_equal(json_string_value(json_object_get(data, "applicant_phone")),
			    "13912345678");
	/* the statement is optional; name, ID number and phone are required */
	assert_int_equal(tb_form_validate(form, data, false, errors), TB_OK);
	json_object_set_new(data, "statement", json_string("申请补办"));
	assert_int_equal(tb_form_validate(form, data, false, errors), TB_OK);
	json_object_del(data, "applicant_id_number");
	assert_int_equal(tb_form_validate(form, data, false, errors), TB_EINVAL);
	assert_string_equal(joined(errors), "form.applicant_id_number: 必填");
	assert_true(json_is_true(json_object_get(
	    json_object_get(json_object_get(form, "properties"), "statement"), "x-multiline")));
	const char **s = tb_form_sensitive_fields(form);
	assert_non_null(s);
	assert_string_equal(s[0], "applicant_id_number");
	assert_string_equal(s[1], "applicant_phone");
	assert_null(s[2]);
	free(s);
	json_decref(errors);
	json_decref(data);
	json_decref(form);
}

static void test_sensitive(void **state)
{
	(void)state;
	json_t *form = parse(FORM);
	const char **s = tb_form_sensitive_fields(form);
	assert_non_null(s);
	/* format id_number and phone, and x-sensitive: true (agree says false) */
	assert_string_equal(s[0], "id_number");
	assert_string_equal(s[1], "phone");
	assert_string_equal(s[2], "secret");
	assert_null(s[3]);
	free(s);
	json_decref(form);
}

/* The catalog stores guides with sorted keys: the order must survive as x-order. */
static void test_settle_order(void **state)
{
	(void)state;
	json_t *form = parse("{'type': 'object', 'properties': {"
			     " 'z': {'type': 'boolean', 'title': 'Z'},"
			     " 'a': {'type': 'string', 'title': 'A',"
			     "       'x-show-if': {'field': 'z', 'in': [true]}}}}");
	struct tb_err err = {0};
	assert_int_equal(tb_form_check(form, "f", &err), TB_OK);
	char *sorted = json_dumps(form, JSON_COMPACT | JSON_SORT_KEYS);
	json_t *lost = json_loads(sorted, 0, NULL);
	/* without x-order the sorted text puts a before the field it depends on */
	assert_int_equal(tb_form_check(lost, "f", &err), TB_EINVAL);
	assert_string_equal(err.field, "f.properties.a.x-show-if.field");
	free(sorted);
	json_decref(lost);

	assert_int_equal(tb_form_settle_order(form), TB_OK);
	json_t *want = parse("['z', 'a']");
	assert_true(json_equal(json_object_get(form, "x-order"), want));
	json_decref(want);
	sorted = json_dumps(form, JSON_COMPACT | JSON_SORT_KEYS);
	json_t *kept = json_loads(sorted, 0, NULL);
	assert_int_equal(tb_form_check(kept, "f", &err), TB_OK);
	json_t *data = parse("{'a': 'x'}"), *errors = json_array();
	assert_int_equal(tb_form_validate(kept, data, false, errors), TB_EINVAL);
	assert_string_equal(joined(errors), "form.a: 当前条件下不应填写此项");
	json_decref(data);
	json_decref(errors);
	/* an explicit x-order is left alone */
	json_object_set_new(kept, "x-order", parse("['z', 'a']"));
	assert_int_equal(tb_form_settle_order(kept), TB_OK);
	assert_int_equal(json_array_size(json_object_get(kept, "x-order")), 2);
	free(sorted);
	json_decref(kept);
	json_decref(form);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_form_valid),
	    cmocka_unit_test(test_check_accepts),
	    cmocka_unit_test(test_check_rejects),
	    cmocka_unit_test(test_field_count),
	    cmocka_unit_test(test_validate_good),
	    cmocka_unit_test(test_validate_every_error),
	    cmocka_unit_test(test_required_and_partial),
	    cmocka_unit_test(test_show_if),
	    cmocka_unit_test(test_pattern_anchored),
	    cmocka_unit_test(test_prefill),
	    cmocka_unit_test(test_default),
	    cmocka_unit_test(test_sensitive),
	    cmocka_unit_test(test_settle_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
