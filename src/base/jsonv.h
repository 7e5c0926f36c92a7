/* jsonv.h: validating JSON objects field by field, with error messages that name the
 * field by its path ("guide.materials[2].necessity"). Every function returns true when
 * the value is acceptable; on false it has filled err (field + message). */
#ifndef TB_BASE_JSONV_H
#define TB_BASE_JSONV_H

#include "base/tb.h"
#include <jansson.h>

/* Fails on any key of obj not in allowed (NULL-terminated). */
bool tb_jv_known_fields(json_t *obj, const char *path, const char *const *allowed,
			struct tb_err *err);
/* A string member. Missing/null: ok when !required (then *out = NULL). At most
 * maxchars code points; a required string must not be empty (an optional one may). */
bool tb_jv_str(json_t *obj, const char *path, const char *key, bool required, size_t maxchars,
	       const char **out, struct tb_err *err);
/* A string member that must be one of the values (NULL-terminated). */
bool tb_jv_enum(json_t *obj, const char *path, const char *key, bool required,
		const char *const *values, const char **out, struct tb_err *err);
bool tb_jv_int(json_t *obj, const char *path, const char *key, bool required, long lo, long hi,
	       long *out, struct tb_err *err);
bool tb_jv_bool(json_t *obj, const char *path, const char *key, bool required, bool *out,
		struct tb_err *err);
/* An array member (of any item type); *out NULL when absent and optional. */
bool tb_jv_array(json_t *obj, const char *path, const char *key, bool required, size_t max,
		 json_t **out, struct tb_err *err);
/* An object member. */
bool tb_jv_object(json_t *obj, const char *path, const char *key, bool required, json_t **out,
		  struct tb_err *err);
/* An array of strings each in values (or any non-empty string if values is NULL),
 * without repeats; *mask gets bit i for values[i] when values is given. */
bool tb_jv_str_set(json_t *obj, const char *path, const char *key, bool required,
		   const char *const *values, size_t max, unsigned *mask, struct tb_err *err);
/* "a,b,,c" split on sep into a JSON array of the non-empty parts. */
json_t *tb_jv_split(const char *s, char sep);
/* path + "." + key (or key when path is empty) into a static-per-thread buffer. */
const char *tb_jv_path(const char *path, const char *key);
const char *tb_jv_index(const char *path, const char *key, size_t i);

#endif
