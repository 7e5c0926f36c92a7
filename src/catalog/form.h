/* form.h: application forms (申请表) as data: a subset of JSON Schema (draft 2020-12
 * keywords where one fits, "x-" keywords where JSON Schema has none), checked once when
 * a guide is written and then used to validate every application.
 *
 * A form is an object schema:
 *   {"type": "object",
 *    "title": "…",
 *    "properties": {
 *      "<field>": {
 *        "type": "string" | "integer" | "number" | "boolean" | "array",
 *        "title": "中文标签",              (required: what the portal shows)
 *        "description": "…",               (help text)
 *        -- string --
 *        "minLength", "maxLength" (code points; maxLength defaults to 500 and may be at
 *        most 5000), "pattern" (POSIX extended regex, anchored by the validator: the
 *                   whole value must match; no back-references; bracket expressions
 *                   match bytes, so write patterns over ASCII),
 *        "enum": ["…"], "x-enum-labels": ["…"] (same length),
 *        "format": "date" | "phone" | "id_number" | "uscc" | "email" | "region"
 *                  (checked by base/codes: ID and USCC check characters, mobile
 *                   numbers, YYYY-MM-DD dates that exist, GB/T 2260 code shapes),
 *        "x-multiline": true,
 *        -- integer / number --
 *        "minimum", "maximum",
 *        -- array (a multiple choice) --
 *        "items": {"type": "string", "enum": [...], "x-enum-labels": [...]},
 *                 "minItems", "maxItems" (0 .. the number of choices),
 *                 "uniqueItems" (always true),
 *        -- every type --
 *        "x-prefill": "applicant.name" | "applicant.id_number" | "applicant.phone" |
 *                     "enterprise.name" | "enterprise.uscc" | "enterprise.legal_rep"
 *                     (string fields only),
 *        "x-show-if": {"field": "<other field>", "in": [values]}
 *                     (the field exists only when the other field is shown and its
 *                      value is one of these (for a multiple choice: any chosen value
 *                      is); the values must be ones that field can hold; a hidden
 *                      field is never required and must be absent),
 *        "x-sensitive": true  (masked in staff lists and logs: ID numbers, phones)
 *      }, …},
 *    "required": ["<field>", …],
 *    "x-order": ["<field>", …]   (display order, listing every field once; defaults
 *                                 to the properties' order, which the catalog writes
 *                                 in as x-order when it stores the form)
 *   }
 * At most 100 fields; field names match [a-z][a-z0-9_]{0,39}; "x-show-if" may only
 * name a field that comes before it in x-order and is not itself conditional on a
 * later one (no cycles). Anything else (unknown keywords, a type not listed) is an
 * error: a typo must not be dropped silently; so is a keyword given as null. A value of
 * a string field with "enum" must be one of the values (its length, format and pattern
 * are not checked further).
 * In application data a field is absent when it is missing, null, "" or []: an absent
 * required field is "必填", an absent optional one is not checked further.
 *
 * A guide carries its form as the element "form" (docs/catalog-format.md); the cases
 * block validates applications with it. */
#ifndef TB_CATALOG_FORM_H
#define TB_CATALOG_FORM_H

#include "base/tb.h"

#include <jansson.h>

/* Check a form definition. err->field is prefixed with `prefix` ("guide.form") and
 * names the keyword at fault ("guide.form.properties.age.minimum"). */
tb_rc tb_form_check(json_t *form, const char *prefix, struct tb_err *err);

/* Make the display order explicit: a checked form without "x-order" gets one listing its
 * properties in their order. The catalog stores guides with sorted keys (one canonical
 * text per version), which would lose the properties' order, and with it the order
 * x-show-if relies on; so it calls this before storing. TB_ENOMEM on failure. */
tb_rc tb_form_settle_order(json_t *form);

/* The form used when a guide has none: the applicant's name, ID number and phone
 * (prefilled) and a free-text statement of the request. A new reference. */
json_t *tb_form_default(void);

/* Validate an application's data against a checked form. Every failing field is
 * appended to `errors` as {"field": "form.<name>", "message": "…"} (messages in
 * Chinese, saying what is wrong: "必填", "不是有效的公民身份号码", …); unknown fields
 * are errors too (up to 100 of them are named). Data that is not an object is one
 * error, field "form". Returns TB_OK when there were none, TB_EINVAL otherwise
 * (TB_EINTERNAL if errors is not an array, TB_ENOMEM).
 * partial (drafts): missing required fields are not errors. */
tb_rc tb_form_validate(json_t *form, json_t *data, bool partial, json_t *errors);

/* What the account knows, for x-prefill: any member may be NULL. */
struct tb_form_known {
	const char *name, *id_number, *phone;
	const char *enterprise_name, *enterprise_uscc, *enterprise_legal_rep;
};
/* A new object with the fields of `form` whose x-prefill `known` can fill. */
json_t *tb_form_prefill(json_t *form, const struct tb_form_known *known);

/* Field names of the form marked x-sensitive or with format id_number / phone: the
 * values staff lists mask (NULL-terminated array of borrowed strings, malloc'd; free
 * the array only). */
const char **tb_form_sensitive_fields(json_t *form);

#endif
