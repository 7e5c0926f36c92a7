/* fuzz_form.c: libFuzzer target for application forms (catalog/form.h). The input is
 * JSON, parsed the way the HTTP edge does; an array [form, data] checks the form and,
 * when it is accepted, validates the data in full and as a draft, prefills it and
 * settles its order. Invariants: a rejected form names a field under the prefix and
 * says why; validation returns TB_OK exactly when it added no error, every error names
 * a "form" field with a message, a draft's errors are among the full validation's; a
 * form with its order settled is still accepted and still validates the same way. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t validate(json_t *form, json_t *d, bool partial, json_t *errors)
{
	tb_rc rc = tb_form_validate(form, d, partial, errors);
	size_t i, n = json_array_size(errors);
	json_t *e;
	if ((rc == TB_OK) != (n == 0) || (rc != TB_OK && rc != TB_EINVAL))
		abort();
	json_array_foreach(errors, i, e)
	{
		const char *field = json_string_value(json_object_get(e, "field"));
		const char *msg = json_string_value(json_object_get(e, "message"));
		if (!field || strncmp(field, "form", 4) || !msg || !*msg)
			abort();
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	json_error_t je;
	json_t *v =
	    json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!v)
		return 0;
	json_t *form = json_is_array(v) ? json_array_get(v, 0) : v;
	json_t *d = json_is_array(v) ? json_array_get(v, 1) : NULL;
	struct tb_err err;
	memset(&err, 0, sizeof(err));
	tb_rc rc = tb_form_check(form, "guide.form", &err);
	if (rc != TB_OK) {
		if (rc != TB_EINVAL || !err.msg[0] || strncmp(err.field, "guide.form", 10))
			abort();
		json_decref(v);
		return 0;
	}
	json_t *full = json_array(), *draft = json_array(), *again = json_array();
	size_t nfull = validate(form, d, false, full);
	size_t ndraft = validate(form, d, true, draft);
	size_t i, j;
	json_t *e;
	json_array_foreach(draft, i, e)
	{
		bool found = false;
		for (j = 0; j < nfull && !found; j++)
			found = json_equal(e, json_array_get(full, j));
		if (!found)
			abort();
	}
	(void)ndraft;

	struct tb_form_known known = {"张三",	      "11010519491231002X", "13800138000",
				      "某某有限公司", "91310110666007217T", "李四"};
	json_t *pre = tb_form_prefill(form, &known);
	if (!json_is_object(pre))
		abort();
	json_decref(pre);
	const char **sensitive = tb_form_sensitive_fields(form);
	for (i = 0; sensitive && sensitive[i]; i++)
		if (!json_object_get(json_object_get(form, "properties"), sensitive[i]))
			abort();
	free(sensitive);

	/* the order made explicit, through sorted keys as the catalog stores it */
	if (tb_form_settle_order(form) != TB_OK)
		abort();
	char *text = json_dumps(form, JSON_COMPACT | JSON_SORT_KEYS);
	json_t *stored = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	if (!stored || tb_form_check(stored, "guide.form", &err) != TB_OK)
		abort();
	if (validate(stored, d, false, again) != nfull || !json_equal(again, full))
		abort();
	json_decref(stored);
	json_decref(again);
	json_decref(full);
	json_decref(draft);
	json_decref(v);
	return 0;
}
