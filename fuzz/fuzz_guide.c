/* fuzz_guide.c: libFuzzer target for guide validation: the input is parsed as JSON the
 * way the HTTP edge does (json_loadb, duplicate keys rejected) and every object is run
 * through tb_catalog_check_guide. A rejection must name a field under the prefix and
 * say why; an accepted guide must give facts consistent with its fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	json_error_t e;
	json_t *v =
	    json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
	if (!v)
		return 0;
	struct tb_guide_facts f;
	struct tb_err err;
	memset(&err, 0, sizeof(err));
	tb_rc rc = tb_catalog_check_guide(v, "guide", &f, &err);
	if (rc != TB_OK) {
		if (rc != TB_EINVAL || !err.msg[0] || strncmp(err.field, "guide", 5))
			abort();
	} else {
		json_t *visits = json_object_get(v, "visits");
		if (!json_is_integer(visits) || json_integer_value(visits) != f.visits)
			abort();
		if (f.zero_visit != (f.visits == 0))
			abort();
		if (f.fully_online && !f.zero_visit)
			abort();
		if (f.has_legal && f.has_promised && !strcmp(f.legal_unit, f.promised_unit) &&
		    f.promised_value > f.legal_value)
			abort();
		if (!f.case_type || (strcmp(f.case_type, "1") && strcmp(f.case_type, "2")))
			abort();
		/* the same guide checked twice gives the same answer */
		struct tb_guide_facts f2;
		if (tb_catalog_check_guide(v, "g", &f2, &err) != TB_OK ||
		    f2.depth_mask != f.depth_mask || f2.fully_online != f.fully_online)
			abort();
	}
	/* nested guides: the value under "guide", if any */
	json_t *inner = json_object_get(v, "guide");
	if (inner) {
		memset(&err, 0, sizeof(err));
		if (tb_catalog_check_guide(inner, "x.guide", &f, &err) != TB_OK &&
		    strncmp(err.field, "x.guide", 7))
			abort();
	}
	json_decref(v);
	return 0;
}
