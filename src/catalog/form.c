/* form.c: application forms as data (form.h): checking a form definition once, when a
 * guide is written, and validating applications against it. */
#include "catalog/form.h"
#include "base/calendar.h"
#include "base/codes.h"
#include "base/jsonv.h"
#include "base/text.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_FIELDS = 100, MAX_ENUM = 200, DEFAULT_MAX_LENGTH = 500, MAX_MAX_LENGTH = 5000 };

static const char *const types[] = {"string", "integer", "number", "boolean", "array", NULL};
static const char *const formats[] = {"date",  "phone",	 "id_number", "uscc",
				      "email", "region", NULL};
static const char *const prefills[] = {"applicant.name",
				       "applicant.id_number",
				       "applicant.phone",
				       "enterprise.name",
				       "enterprise.uscc",
				       "enterprise.legal_rep",
				       NULL};

/* The keywords each type takes, after the ones every type takes. */
static const char *const kw_string[] = {
    "type",	 "title",   "description", "x-prefill",	    "x-show-if", "x-sensitive", "minLength",
    "maxLength", "pattern", "enum",	   "x-enum-labels", "format",	 "x-multiline", NULL};
static const char *const kw_number[] = {"type",	     "title",	  "description",
					"x-prefill", "x-show-if", "x-sensitive",
					"minimum",   "maximum",	  NULL};
static const char *const kw_boolean[] = {"type",      "title",	     "description", "x-prefill",
					 "x-show-if", "x-sensitive", NULL};
static const char *const kw_array[] = {"type",	    "title",	   "description", "x-prefill",
				       "x-show-if", "x-sensitive", "items",	  "minItems",
				       "maxItems",  "uniqueItems", NULL};

/* A form is a definition: a keyword is given or left out, never null (the validator
 * reads keywords as present or absent). */
static bool no_nulls(json_t *obj, const char *path, struct tb_err *err)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		if (json_is_null(v))
			return !tb_fail(err, TB_EINVAL, tb_jv_path(path, key),
					"must not be null (leave the keyword out)");
	}
	return true;
}

static bool name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 40 || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static bool in_strings(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

enum { MAX_PATTERN_SIZE = 1000 };

/* How many elements the pattern's bounded repetitions expand to: glibc's regcomp copies
 * the repeated part once per count, so "((a{0,100}){0,100})" takes seconds and hundreds
 * of megabytes to compile, and a pattern is compiled for every validation. An upper
 * estimate: each atom (a character, an escape, a bracket expression, a group) counts
 * its size, times the largest count of the bound that follows it ({m,} counts m + 1,
 * + counts 2). Stops counting past MAX_PATTERN_SIZE. */
static unsigned long pattern_size(const char *p)
{
	unsigned long sum[32] = {0}, last[32] = {0};
	int depth = 0;
	for (const char *c = p; *c; c++) {
		unsigned long atom = 0, mult = 0;
		switch (*c) {
		case '\\':
			if (c[1])
				c++;
			atom = 1;
			break;
		case '[': {
			const char *e = c + 1;
			if (*e == '^')
				e++;
			if (*e == ']')
				e++;
			while (*e && *e != ']') {
				if (*e == '[' && (e[1] == ':' || e[1] == '.' || e[1] == '=')) {
					const char *close = strchr(e + 2, e[1]);
					e = close && close[1] == ']' ? close + 1 : e;
				}
				e++;
			}
			if (!*e) /* unbalanced: regcomp says so, after what came before */
				goto end;
			c = e;
			atom = 1;
			break;
		}
		case '(':
			if (depth == 31)
				return MAX_PATTERN_SIZE + 1;
			depth++;
			sum[depth] = last[depth] = 0;
			continue;
		case ')': /* glibc takes an unmatched one as an ordinary character */
			atom = depth ? sum[depth--] : 1;
			break;
		case '|':
			last[depth] = 0;
			continue;
		case '+':
			mult = 2;
			break;
		case '*':
		case '?':
			mult = 1;
			break;
		case '{': {
			char *e;
			unsigned long m = strtoul(c + 1, &e, 10), n = m;
			if (*e == ',') {
				n = e[1] == '}' ? m + 1 : strtoul(e + 1, &e, 10);
				if (e[0] == ',' && e[1] == '}')
					e++;
			}
			if (*e != '}') {
				atom = 1; /* not a bound: regcomp decides */
				break;
			}
			c = e;
			mult = (n > m ? n : m) ? (n > m ? n : m) : 1;
			if (mult > MAX_PATTERN_SIZE)
				return MAX_PATTERN_SIZE + 1;
			break;
		}
		default:
			atom = 1;
		}
		if (mult) {
			sum[depth] += last[depth] * (mult - 1);
			last[depth] *= mult;
		} else {
			sum[depth] += atom;
			last[depth] = atom;
		}
		if (sum[depth] > MAX_PATTERN_SIZE || last[depth] > MAX_PATTERN_SIZE)
			return MAX_PATTERN_SIZE + 1;
	}
end:;
	unsigned long total = 0; /* unclosed groups count too */
	for (int d = 0; d <= depth; d++)
		total += sum[d];
	return total;
}

/* A pattern is wrapped as ^(pattern)$ and, since the wrapping can be escaped by an
 * unbalanced ")(" in the pattern, the validator also checks that the match spans the
 * whole value. Back-references are refused: with them glibc's matcher backtracks, and
 * a form's author should not be able to make every submission slow. */
static int compile_pattern(const char *pattern, regex_t *re, int flags)
{
	for (const char *c = pattern; *c; c++)
		if (*c == '\\' && c[1]) {
			if (c[1] >= '1' && c[1] <= '9')
				return REG_ESUBREG;
			c++;
		}
	if (pattern_size(pattern) > MAX_PATTERN_SIZE)
		return REG_ESIZE;
	size_t n = strlen(pattern);
	char *w = malloc(n + 5);
	if (!w)
		return REG_ESPACE;
	memcpy(w, "^(", 2);
	memcpy(w + 2, pattern, n);
	memcpy(w + 2 + n, ")$", 3);
	int rc = regcomp(re, w, REG_EXTENDED | flags);
	free(w);
	return rc;
}

/* An array of distinct non-empty strings of at most maxchars code points. */
static bool check_strings(json_t *arr, const char *path, size_t maxchars, struct tb_err *err)
{
	size_t i, j;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);
		char p[208];
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (!s || strlen(s) != json_string_length(v)) {
			tb_fail(err, TB_EINVAL, p, "must be a string");
			return false;
		}
		if (!*s || tb_utf8_len(s, strlen(s)) > maxchars) {
			tb_fail(err, TB_EINVAL, p, "must be 1 to %zu characters", maxchars);
			return false;
		}
		for (j = 0; j < i; j++)
			if (!strcmp(json_string_value(json_array_get(arr, j)), s)) {
				tb_fail(err, TB_EINVAL, p, "repeats '%s'", s);
				return false;
			}
	}
	return true;
}

/* "enum" and "x-enum-labels" of obj (a string field, or an array field's items). */
static bool check_enum(json_t *obj, const char *path, bool required, struct tb_err *err)
{
	json_t *en, *labels;
	char p[160];
	if (!tb_jv_array(obj, path, "enum", required, MAX_ENUM, &en, err) ||
	    !tb_jv_array(obj, path, "x-enum-labels", false, MAX_ENUM, &labels, err))
		return false;
	if (en) {
		snprintf(p, sizeof(p), "%s", tb_jv_path(path, "enum"));
		if (json_array_size(en) == 0) {
			tb_fail(err, TB_EINVAL, p, "must list at least one value");
			return false;
		}
		if (!check_strings(en, p, 200, err))
			return false;
	}
	if (labels) {
		snprintf(p, sizeof(p), "%s", tb_jv_path(path, "x-enum-labels"));
		if (!en) {
			tb_fail(err, TB_EINVAL, p, "labels need an \"enum\"");
			return false;
		}
		if (json_array_size(labels) != json_array_size(en)) {
			tb_fail(err, TB_EINVAL, p, "must have one label per enum value (%zu)",
				json_array_size(en));
			return false;
		}
		size_t i;
		json_t *v;
		json_array_foreach(labels, i, v)
		{
			const char *s = json_string_value(v);
			if (!s || !*s || strlen(s) != json_string_length(v) ||
			    tb_utf8_len(s, strlen(s)) > 100) {
				char q[208];
				snprintf(q, sizeof(q), "%s[%zu]", p, i);
				tb_fail(err, TB_EINVAL, q,
					"must be a string of 1 to 100 characters");
				return false;
			}
		}
	}
	return true;
}

static bool check_string(json_t *f, const char *p, struct tb_err *err)
{
	long min = 0, max = DEFAULT_MAX_LENGTH;
	const char *pattern, *format;
	bool b;
	if (!tb_jv_int(f, p, "minLength", false, 0, MAX_MAX_LENGTH, &min, err) ||
	    !tb_jv_int(f, p, "maxLength", false, 1, MAX_MAX_LENGTH, &max, err) ||
	    !tb_jv_str(f, p, "pattern", false, 500, &pattern, err) ||
	    !tb_jv_enum(f, p, "format", false, formats, &format, err) ||
	    !tb_jv_bool(f, p, "x-multiline", false, &b, err) || !check_enum(f, p, false, err))
		return false;
	if (min > max)
		return !tb_fail(err, TB_EINVAL, tb_jv_path(p, "minLength"),
				"is more than maxLength (%ld)", max);
	if (pattern) {
		regex_t re;
		int rc = compile_pattern(pattern, &re, REG_NOSUB);
		if (rc) {
			char why[128];
			regerror(rc, NULL, why, sizeof(why));
			return !tb_fail(err, TB_EINVAL, tb_jv_path(p, "pattern"),
					"is not a POSIX extended regular expression "
					"(without back-references, repetitions expanding to at "
					"most %d elements): %s",
					MAX_PATTERN_SIZE, why);
		}
		regfree(&re);
	}
	return true;
}

static bool check_number(json_t *f, const char *p, bool integer, struct tb_err *err)
{
	json_t *lo = json_object_get(f, "minimum"), *hi = json_object_get(f, "maximum");
	const char *keys[] = {"minimum", "maximum"};
	json_t *vals[] = {lo, hi};
	for (int i = 0; i < 2; i++) {
		if (!vals[i])
			continue;
		if (integer ? !json_is_integer(vals[i]) : !json_is_number(vals[i]))
			return !tb_fail(err, TB_EINVAL, tb_jv_path(p, keys[i]), "must be %s",
					integer ? "an integer" : "a number");
	}
	if (lo && hi && json_number_value(lo) > json_number_value(hi))
		return !tb_fail(err, TB_EINVAL, tb_jv_path(p, "maximum"), "is less than minimum");
	return true;
}

static bool check_array(json_t *f, const char *p, struct tb_err *err)
{
	json_t *items;
	char ip[160];
	const char *type;
	static const char *const item_kw[] = {"type", "enum", "x-enum-labels", NULL};
	static const char *const item_types[] = {"string", NULL};
	if (!tb_jv_object(f, p, "items", true, &items, err))
		return false;
	snprintf(ip, sizeof(ip), "%s", tb_jv_path(p, "items"));
	if (!tb_jv_known_fields(items, ip, item_kw, err) || !no_nulls(items, ip, err) ||
	    !tb_jv_enum(items, ip, "type", true, item_types, &type, err) ||
	    !check_enum(items, ip, true, err))
		return false;
	long n = (long)json_array_size(json_object_get(items, "enum")), min = 0, max = n;
	bool unique = true;
	if (!tb_jv_int(f, p, "minItems", false, 0, n, &min, err) ||
	    !tb_jv_int(f, p, "maxItems", false, 1, n, &max, err) ||
	    !tb_jv_bool(f, p, "uniqueItems", false, &unique, err))
		return false;
	if (!unique)
		return !tb_fail(err, TB_EINVAL, tb_jv_path(p, "uniqueItems"),
				"a choice is made once: only true is allowed");
	if (min > max)
		return !tb_fail(err, TB_EINVAL, tb_jv_path(p, "minItems"),
				"is more than maxItems (%ld)", max);
	return true;
}

static bool check_field(json_t *f, const char *p, struct tb_err *err)
{
	const char *type, *s;
	bool b;
	if (!json_is_object(f))
		return !tb_fail(err, TB_EINVAL, p, "must be an object");
	if (!tb_jv_enum(f, p, "type", true, types, &type, err))
		return false;
	const char *const *kw = !strcmp(type, "string")	   ? kw_string
				: !strcmp(type, "boolean") ? kw_boolean
				: !strcmp(type, "array")   ? kw_array
							   : kw_number;
	const char *key;
	json_t *v;
	json_object_foreach(f, key, v)
	{
		bool ok = false;
		for (const char *const *k = kw; *k && !ok; k++)
			ok = !strcmp(*k, key);
		if (!ok)
			return !tb_fail(err, TB_EINVAL, tb_jv_path(p, key),
					"unknown keyword '%s' for a field of type %s", key, type);
	}
	if (!no_nulls(f, p, err) || !tb_jv_str(f, p, "title", true, 100, &s, err) ||
	    !tb_jv_str(f, p, "description", false, 1000, &s, err) ||
	    !tb_jv_bool(f, p, "x-sensitive", false, &b, err) ||
	    !tb_jv_enum(f, p, "x-prefill", false, prefills, &s, err))
		return false;
	if (s && strcmp(type, "string"))
		return !tb_fail(err, TB_EINVAL, tb_jv_path(p, "x-prefill"),
				"only a string field can be prefilled");
	if (!strcmp(type, "string"))
		return check_string(f, p, err);
	if (!strcmp(type, "integer") || !strcmp(type, "number"))
		return check_number(f, p, !strcmp(type, "integer"), err);
	if (!strcmp(type, "array"))
		return check_array(f, p, err);
	return true;
}

/* Is v a value the field `ref` can hold, for x-show-if's "in"? */
static bool value_fits(json_t *ref, json_t *v)
{
	const char *type = json_string_value(json_object_get(ref, "type"));
	if (!strcmp(type, "boolean"))
		return json_is_boolean(v);
	if (!strcmp(type, "integer"))
		return json_is_integer(v);
	if (!strcmp(type, "number"))
		return json_is_number(v);
	if (!json_is_string(v))
		return false;
	json_t *en = !strcmp(type, "array") ? json_object_get(json_object_get(ref, "items"), "enum")
					    : json_object_get(ref, "enum");
	return !en || in_strings(en, json_string_value(v));
}

static bool check_show_if(json_t *props, json_t *order, size_t at, const char *p,
			  struct tb_err *err)
{
	json_t *c = json_object_get(
		   json_object_get(props, json_string_value(json_array_get(order, at))),
		   "x-show-if"),
	       *in;
	static const char *const kw[] = {"field", "in", NULL};
	const char *ref;
	char sp[160];
	if (!c)
		return true;
	snprintf(sp, sizeof(sp), "%s", tb_jv_path(p, "x-show-if"));
	if (!json_is_object(c))
		return !tb_fail(err, TB_EINVAL, sp, "must be an object {\"field\", \"in\"}");
	if (!tb_jv_known_fields(c, sp, kw, err) ||
	    !tb_jv_str(c, sp, "field", true, 40, &ref, err) ||
	    !tb_jv_array(c, sp, "in", true, 50, &in, err))
		return false;
	json_t *rf = json_object_get(props, ref);
	if (!rf)
		return !tb_fail(err, TB_EINVAL, tb_jv_path(sp, "field"), "names no field ('%s')",
				ref);
	size_t i;
	json_t *v;
	for (i = 0; i < at; i++)
		if (!strcmp(json_string_value(json_array_get(order, i)), ref))
			break;
	if (i == at)
		return !tb_fail(err, TB_EINVAL, tb_jv_path(sp, "field"),
				"must name a field that comes before this one ('%s' does not)",
				ref);
	if (json_array_size(in) == 0)
		return !tb_fail(err, TB_EINVAL, tb_jv_path(sp, "in"),
				"must list at least one value");
	json_array_foreach(in, i, v)
	{
		if (!value_fits(rf, v)) {
			char q[160];
			snprintf(q, sizeof(q), "%s[%zu]", tb_jv_path(sp, "in"), i);
			return !tb_fail(err, TB_EINVAL, q, "is not a value field '%s' can hold",
					ref);
		}
	}
	return true;
}

/* The display order: x-order if given (checked to list every field once), else the
 * properties' order. A new array of strings. */
static json_t *field_order(json_t *form)
{
	json_t *xo = json_object_get(form, "x-order");
	if (json_is_array(xo))
		return json_incref(xo);
	json_t *order = json_array();
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(form, "properties"), key, v)
	{
		json_array_append_new(order, json_string(key));
	}
	return order;
}

tb_rc tb_form_check(json_t *form, const char *prefix, struct tb_err *err)
{
	static const char *const kw[] = {"type",     "title",	"properties",
					 "required", "x-order", NULL};
	static const char *const object[] = {"object", NULL};
	const char *s, *key;
	json_t *props, *req, *xo, *v;
	char p[160];
	size_t i;
	if (!json_is_object(form))
		return tb_fail(err, TB_EINVAL, prefix, "must be an object");
	if (!tb_jv_known_fields(form, prefix, kw, err) || !no_nulls(form, prefix, err) ||
	    !tb_jv_enum(form, prefix, "type", true, object, &s, err) ||
	    !tb_jv_str(form, prefix, "title", false, 100, &s, err) ||
	    !tb_jv_object(form, prefix, "properties", true, &props, err) ||
	    !tb_jv_array(form, prefix, "required", false, MAX_FIELDS, &req, err) ||
	    !tb_jv_array(form, prefix, "x-order", false, MAX_FIELDS, &xo, err))
		return TB_EINVAL;
	snprintf(p, sizeof(p), "%s", tb_jv_path(prefix, "properties"));
	if (json_object_size(props) == 0)
		return tb_fail(err, TB_EINVAL, p, "a form has at least one field");
	if (json_object_size(props) > MAX_FIELDS)
		return tb_fail(err, TB_EINVAL, p, "a form has at most %d fields", MAX_FIELDS);
	json_object_foreach(props, key, v)
	{
		char fp[208];
		snprintf(fp, sizeof(fp), "%s.%s", p, key);
		if (!name_valid(key))
			return tb_fail(err, TB_EINVAL, fp,
				       "a field name is [a-z][a-z0-9_]{0,39} ('%s' is not)", key);
		if (!check_field(v, fp, err))
			return TB_EINVAL;
	}
	const char *lists[] = {"required", "x-order"};
	json_t *arrs[] = {req, xo};
	for (int l = 0; l < 2; l++) {
		char lp[160];
		if (!arrs[l])
			continue;
		snprintf(lp, sizeof(lp), "%s", tb_jv_path(prefix, lists[l]));
		json_array_foreach(arrs[l], i, v)
		{
			char ip[208];
			snprintf(ip, sizeof(ip), "%s[%zu]", lp, i);
			s = json_string_value(v);
			if (!s || !json_object_get(props, s))
				return tb_fail(err, TB_EINVAL, ip, "names no field of the form");
			for (size_t j = 0; j < i; j++)
				if (!strcmp(json_string_value(json_array_get(arrs[l], j)), s))
					return tb_fail(err, TB_EINVAL, ip, "repeats '%s'", s);
		}
	}
	if (xo && json_array_size(xo) != json_object_size(props)) {
		json_object_foreach(props, key, v)
		{
			if (!in_strings(xo, key))
				break;
		}
		return tb_fail(err, TB_EINVAL, tb_jv_path(prefix, "x-order"),
			       "must list every field ('%s' is missing)", key);
	}
	json_t *order = field_order(form);
	tb_rc rc = TB_OK;
	for (i = 0; i < json_array_size(order) && !rc; i++) {
		char fp[208];
		snprintf(fp, sizeof(fp), "%s.%s", p, json_string_value(json_array_get(order, i)));
		if (!check_show_if(props, order, i, fp, err))
			rc = TB_EINVAL;
	}
	json_decref(order);
	return rc;
}

tb_rc tb_form_settle_order(json_t *form)
{
	if (!json_is_object(form) || json_object_get(form, "x-order"))
		return TB_OK;
	json_t *order = field_order(form);
	return order && !json_object_set_new(form, "x-order", order) ? TB_OK : TB_ENOMEM;
}

json_t *tb_form_default(void)
{
	json_error_t e;
	return json_loads(
	    "{\"type\": \"object\", \"title\": \"申请表\","
	    " \"properties\": {"
	    "  \"applicant_name\": {\"type\": \"string\", \"title\": \"申请人姓名\","
	    "   \"maxLength\": 40, \"x-prefill\": \"applicant.name\"},"
	    "  \"applicant_id_number\": {\"type\": \"string\", \"title\": \"公民身份号码\","
	    "   \"format\": \"id_number\", \"x-prefill\": \"applicant.id_number\","
	    "   \"x-sensitive\": true},"
	    "  \"applicant_phone\": {\"type\": \"string\", \"title\": \"联系电话\","
	    "   \"description\": \"手机号码，用于接收办理进度短信\", \"format\": \"phone\","
	    "   \"x-prefill\": \"applicant.phone\", \"x-sensitive\": true},"
	    "  \"statement\": {\"type\": \"string\", \"title\": \"申请事项说明\","
	    "   \"description\": \"简要说明申请的事项和理由\", \"maxLength\": 2000,"
	    "   \"x-multiline\": true}},"
	    " \"required\": [\"applicant_name\", \"applicant_id_number\", \"applicant_phone\"],"
	    " \"x-order\": [\"applicant_name\", \"applicant_id_number\", \"applicant_phone\","
	    "  \"statement\"]}",
	    0, &e);
}

/* ------------------------------------------------------------------ validation */

static bool is_absent(json_t *v)
{
	return !v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0) ||
	       (json_is_array(v) && json_array_size(v) == 0);
}

/* Does the value v of field ref meet the condition's "in"? For a multiple choice, any
 * chosen value does. */
static bool condition_met(json_t *in, json_t *v)
{
	size_t i, j;
	json_t *c, *x;
	if (json_is_array(v)) {
		json_array_foreach(v, j, x)
		{
			if (condition_met(in, x))
				return true;
		}
		return false;
	}
	json_array_foreach(in, i, c)
	{
		if (json_is_number(c) && json_is_number(v)) {
			if (json_number_value(c) == json_number_value(v))
				return true;
		} else if (json_equal(c, v))
			return true;
	}
	return false;
}

/* Which fields are shown for data, in display order: shown[i] for order[i]. A field is
 * shown when it has no condition, or the field it names is shown and holds one of
 * the condition's values (that field comes earlier, so it is already decided). */
static void visibility(json_t *props, json_t *order, json_t *data, bool *shown)
{
	size_t n = json_array_size(order);
	for (size_t i = 0; i < n; i++) {
		json_t *c = json_object_get(
		    json_object_get(props, json_string_value(json_array_get(order, i))),
		    "x-show-if");
		shown[i] = true;
		if (!c)
			continue;
		const char *ref = json_string_value(json_object_get(c, "field"));
		size_t j;
		for (j = 0; j < i; j++)
			if (ref && !strcmp(json_string_value(json_array_get(order, j)), ref))
				break;
		json_t *v = ref ? json_object_get(data, ref) : NULL;
		shown[i] = j < i && shown[j] && !is_absent(v) &&
			   condition_met(json_object_get(c, "in"), v);
	}
}

static bool email_valid(const char *s)
{
	const char *at = strchr(s, '@');
	if (!at || at == s || strchr(at + 1, '@') || strlen(s) > 254)
		return false;
	const char *dot = strrchr(at + 1, '.');
	if (!dot || dot == at + 1 || !dot[1])
		return false;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f || strchr("<>()[],;:\\\"", *c))
			return false;
	return true;
}

static bool phone_valid(const char *s)
{
	bool ok = strlen(s) == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9';
	for (int i = 0; ok && i < 11; i++)
		ok = s[i] >= '0' && s[i] <= '9';
	return ok;
}

/* The Chinese message for what is wrong with a string value, or NULL. */
static const char *string_problem(json_t *f, json_t *v, char *buf, size_t bufsz)
{
	if (!json_is_string(v))
		return "必须是文本";
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	bool multiline = json_is_true(json_object_get(f, "x-multiline"));
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch < 0x20 || ch == 0x7f) &&
		    !(multiline && (ch == '\n' || ch == '\r' || ch == '\t')))
			return multiline ? "不能包含控制字符" : "不能包含换行或控制字符";
	}
	json_t *en = json_object_get(f, "enum");
	if (en)
		return in_strings(en, s) ? NULL : "不是可选的值";
	size_t chars = tb_utf8_len(s, n);
	json_t *lo = json_object_get(f, "minLength"), *hi = json_object_get(f, "maxLength");
	long max = hi ? (long)json_integer_value(hi) : DEFAULT_MAX_LENGTH;
	if ((long)chars > max) {
		snprintf(buf, bufsz, "不能超过%ld个字", max);
		return buf;
	}
	if (lo && (long)chars < (long)json_integer_value(lo)) {
		snprintf(buf, bufsz, "不能少于%ld个字", (long)json_integer_value(lo));
		return buf;
	}
	const char *format = json_string_value(json_object_get(f, "format"));
	if (format) {
		tb_date d;
		if (!strcmp(format, "date") && !tb_date_parse(s, &d))
			return "不是有效的日期（格式为YYYY-MM-DD）";
		if (!strcmp(format, "phone") && !phone_valid(s))
			return "不是有效的手机号码";
		if (!strcmp(format, "id_number") && !tb_code_id_number_valid(s, NULL))
			return "不是有效的公民身份号码";
		if (!strcmp(format, "uscc") && !tb_code_uscc_valid(s, NULL))
			return "不是有效的统一社会信用代码";
		if (!strcmp(format, "email") && !email_valid(s))
			return "不是有效的电子邮箱地址";
		if (!strcmp(format, "region") && !tb_code_region_valid(s))
			return "不是有效的行政区划代码";
	}
	const char *pattern = json_string_value(json_object_get(f, "pattern"));
	if (pattern) {
		regex_t re;
		regmatch_t m[1];
		if (compile_pattern(pattern, &re, 0))
			return "格式不正确";
		int rc = regexec(&re, s, 1, m, 0);
		regfree(&re);
		if (rc || m[0].rm_so != 0 || (size_t)m[0].rm_eo != n)
			return "格式不正确";
	}
	return NULL;
}

/* A bound as people write it: 100000000, not 1e+08. */
static const char *number_text(double x, char *out, size_t n)
{
	if (x > -1e15 && x < 1e15 && x == (double)(long long)x)
		snprintf(out, n, "%.0f", x);
	else
		snprintf(out, n, "%.15g", x);
	return out;
}

static const char *number_problem(json_t *f, json_t *v, bool integer, char *buf, size_t bufsz)
{
	if (integer ? !json_is_integer(v) : !json_is_number(v))
		return integer ? "必须是整数" : "必须是数字";
	json_t *lo = json_object_get(f, "minimum"), *hi = json_object_get(f, "maximum");
	double x = json_number_value(v);
	char n[40];
	if (lo && x < json_number_value(lo)) {
		snprintf(buf, bufsz, "不能小于%s",
			 number_text(json_number_value(lo), n, sizeof(n)));
		return buf;
	}
	if (hi && x > json_number_value(hi)) {
		snprintf(buf, bufsz, "不能大于%s",
			 number_text(json_number_value(hi), n, sizeof(n)));
		return buf;
	}
	return NULL;
}

static const char *array_problem(json_t *f, json_t *v, char *buf, size_t bufsz)
{
	if (!json_is_array(v))
		return "必须是选项列表";
	json_t *en = json_object_get(json_object_get(f, "items"), "enum"), *x;
	size_t i, j;
	json_array_foreach(v, i, x)
	{
		if (!json_is_string(x) || !in_strings(en, json_string_value(x)))
			return "包含不可选的值";
		for (j = 0; j < i; j++)
			if (json_equal(json_array_get(v, j), x))
				return "有重复的选项";
	}
	json_t *lo = json_object_get(f, "minItems"), *hi = json_object_get(f, "maxItems");
	if (lo && (json_int_t)json_array_size(v) < json_integer_value(lo)) {
		snprintf(buf, bufsz, "至少选择%lld项", (long long)json_integer_value(lo));
		return buf;
	}
	if (hi && (json_int_t)json_array_size(v) > json_integer_value(hi)) {
		snprintf(buf, bufsz, "最多选择%lld项", (long long)json_integer_value(hi));
		return buf;
	}
	return NULL;
}

static void add_error(json_t *errors, const char *name, const char *message)
{
	char field[96];
	snprintf(field, sizeof(field), "form.%s", name);
	json_array_append_new(errors, json_pack("{s:s, s:s}", "field", field, "message", message));
}

tb_rc tb_form_validate(json_t *form, json_t *data, bool partial, json_t *errors)
{
	json_t *props = json_object_get(form, "properties"),
	       *req = json_object_get(form, "required");
	if (!json_is_array(errors))
		return TB_EINTERNAL;
	if (!json_is_object(data)) {
		json_array_append_new(
		    errors, json_pack("{s:s, s:s}", "field", "form", "message", "必须是对象"));
		return TB_EINVAL;
	}
	size_t before = json_array_size(errors);
	json_t *order = field_order(form);
	size_t n = json_array_size(order);
	bool *shown = calloc(n ? n : 1, sizeof(bool));
	if (!order || !shown) {
		json_decref(order);
		free(shown);
		return TB_ENOMEM;
	}
	visibility(props, order, data, shown);
	for (size_t i = 0; i < n; i++) {
		const char *name = json_string_value(json_array_get(order, i));
		json_t *f = json_object_get(props, name), *v = json_object_get(data, name);
		const char *type = json_string_value(json_object_get(f, "type")), *problem = NULL;
		char buf[64];
		if (!shown[i]) {
			if (!is_absent(v))
				add_error(errors, name, "当前条件下不应填写此项");
			continue;
		}
		if (is_absent(v)) {
			if (!partial && req && in_strings(req, name))
				add_error(errors, name, "必填");
			continue;
		}
		if (!type)
			problem = "表单定义有误";
		else if (!strcmp(type, "string"))
			problem = string_problem(f, v, buf, sizeof(buf));
		else if (!strcmp(type, "integer") || !strcmp(type, "number"))
			problem = number_problem(f, v, !strcmp(type, "integer"), buf, sizeof(buf));
		else if (!strcmp(type, "boolean"))
			problem = json_is_boolean(v) ? NULL : "必须是“是”或“否”";
		else if (!strcmp(type, "array"))
			problem = array_problem(f, v, buf, sizeof(buf));
		if (problem)
			add_error(errors, name, problem);
	}
	/* every unknown field is named, up to a cap: data of a megabyte of keys must not
	 * make an answer many times its size */
	const char *key;
	json_t *v;
	int unknown = 0;
	json_object_foreach(data, key, v)
	{
		if (!json_object_get(props, key) && unknown++ < MAX_FIELDS)
			add_error(errors, key, "表单中没有此项");
	}
	json_decref(order);
	free(shown);
	return json_array_size(errors) > before ? TB_EINVAL : TB_OK;
}

json_t *tb_form_prefill(json_t *form, const struct tb_form_known *known)
{
	json_t *props = json_object_get(form, "properties"), *out = json_object(),
	       *order = field_order(form);
	size_t n = json_array_size(order);
	bool *shown = calloc(n ? n : 1, sizeof(bool));
	if (!out || !order || !shown)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const char *name = json_string_value(json_array_get(order, i));
		const char *src =
		    json_string_value(json_object_get(json_object_get(props, name), "x-prefill"));
		const char *val = NULL;
		if (!src)
			continue;
		/* a conditional field is filled only when what is already filled shows it */
		visibility(props, order, out, shown);
		if (!shown[i])
			continue;
		if (!strcmp(src, "applicant.name"))
			val = known->name;
		else if (!strcmp(src, "applicant.id_number"))
			val = known->id_number;
		else if (!strcmp(src, "applicant.phone"))
			val = known->phone;
		else if (!strcmp(src, "enterprise.name"))
			val = known->enterprise_name;
		else if (!strcmp(src, "enterprise.uscc"))
			val = known->enterprise_uscc;
		else if (!strcmp(src, "enterprise.legal_rep"))
			val = known->enterprise_legal_rep;
		if (val && *val && json_object_set_new(out, name, json_string(val)))
			goto fail;
	}
	json_decref(order);
	free(shown);
	return out;
fail:
	json_decref(out);
	json_decref(order);
	free(shown);
	return NULL;
}

const char **tb_form_sensitive_fields(json_t *form)
{
	json_t *props = json_object_get(form, "properties"), *f;
	const char **out = calloc(json_object_size(props) + 1, sizeof(*out));
	const char *key;
	size_t n = 0;
	if (!out)
		return NULL;
	json_object_foreach(props, key, f)
	{
		const char *format = json_string_value(json_object_get(f, "format"));
		if (json_is_true(json_object_get(f, "x-sensitive")) ||
		    (format && (!strcmp(format, "id_number") || !strcmp(format, "phone"))))
			out[n++] = key;
	}
	return out;
}
