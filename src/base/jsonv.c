#include "base/jsonv.h"
#include "base/text.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char pathbuf[4][160];
static _Thread_local int pathslot;

const char *tb_jv_path(const char *path, const char *key)
{
	char *b = pathbuf[pathslot++ & 3];
	if (path && *path)
		snprintf(b, 160, "%s.%s", path, key);
	else
		snprintf(b, 160, "%s", key);
	return b;
}

const char *tb_jv_index(const char *path, const char *key, size_t i)
{
	char *b = pathbuf[pathslot++ & 3];
	if (path && *path)
		snprintf(b, 160, "%s.%s[%zu]", path, key, i);
	else
		snprintf(b, 160, "%s[%zu]", key, i);
	return b;
}

bool tb_jv_known_fields(json_t *obj, const char *path, const char *const *allowed,
			struct tb_err *err)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		bool ok = false;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = !strcmp(*a, key);
		if (!ok) {
			tb_fail(err, TB_EINVAL, tb_jv_path(path, key), "unknown field '%s'", key);
			return false;
		}
	}
	return true;
}

static json_t *member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_null(v) ? NULL : v;
}

bool tb_jv_str(json_t *obj, const char *path, const char *key, bool required, size_t maxchars,
	       const char **out, struct tb_err *err)
{
	json_t *v = member(obj, key);
	*out = NULL;
	if (!v) {
		if (required)
			tb_fail(err, TB_EINVAL, tb_jv_path(path, key), "is required");
		return !required;
	}
	if (!json_is_string(v)) {
		tb_fail(err, TB_EINVAL, tb_jv_path(path, key), "must be a string");
		return false;
	}
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (strlen(s) != n) {
		tb_fail(err, TB_EINVAL, tb_jv_path(path, key), "must not contain NUL");
		return false;
	}
	size_t chars = tb_utf8_len(s, n);
	if (required && chars == 0) {
		tb_fail(err, TB_EINVAL, tb_jv_path(path, key), "must not be empty");
		return false;
	}
	if (chars > maxchars) {
		tb_fail(err, TB_EINVAL, tb_jv_path(path, key), "is longer than %zu characters",
			maxchars);
		return false;
	}
	*out = s;
	return true;
}

bool tb_jv_enum(json_t *obj, const char *path, const char *key, bool required,
		const char *const *values, const char **out, struct tb_err *err)
{
	if (!tb_jv_str(obj, path, key, required, 64, out, err))
		return false;
	if (!*out)
		return true;
	for (const char *const *v = values; *v; v++)
		if (!strcmp(*v, *out))
			return true;
	char list[256] = "";
	for (const char *const *v = values; *v; v++) {
		size_t l = strlen(list);
		snprintf(list + l, sizeof(list) - l, "%s%s", l ? ", " : "", *v);
	}
	tb_fail(err, TB_EINVAL, tb_jv_path(path, key), "must be one of: %s", list);
	return false;
}

bool tb_jv_int(json_t *obj, const char *path, const char *key, bool required, long lo, long hi,
	       long *out, struct tb_err *err)
{
	json_t *v = member(obj, key);
	if (!v) {
		if (required)
			tb_fail(err, TB_EINVAL, tb_jv_path(path, key), "is required");
		return !required;
	}
	if (!json_is_integer(v)) {
		tb_fail(err, TB_EINVAL, tb_jv_path(path, key), "must be an integer");
		return false;
	}
	json_int_t i = json_integer_value(v);
	if (i < lo || i > hi) {
		tb_fail(err, TB_EINVAL, tb_jv_path(path, key), "must be from %ld to %ld", lo, hi);
		return false;
	}
	*out = (long)i;
	return true;
}

bool tb_jv_bool(json_t *obj, const char *path, const char *key, bool required, bool *out,
		struct tb_err *err)
{
	json_t *v = member(obj, key);
	if (!v) {
		if (required)
			tb_fail(err, TB_EINVAL, tb_jv_path(path, key), "is required");
		return !required;
	}
	if (!json_is_boolean(v)) {
		tb_fail(err, TB_EINVAL, tb_jv_path(path, key), "must be true or false");
		return false;
	}
	*out = json_is_true(v);
	return true;
}

bool tb_jv_array(json_t *obj, const char *path, const char *key, bool required, size_t max,
		 json_t **out, struct tb_err *err)
{
	json_t *v = member(obj, key);
	*out = NULL;
	if (!v) {
		if (required)
			tb_fail(err, TB_EINVAL, tb_jv_path(path, key), "is required");
		return !required;
	}
	if (!json_is_array(v)) {
		tb_fail(err, TB_EINVAL, tb_jv_path(path, key), "must be an array");
		return false;
	}
	if (json_array_size(v) > max) {
		tb_fail(err, TB_EINVAL, tb_jv_path(path, key), "has more than %zu entries", max);
		return false;
	}
	*out = v;
	return true;
}

bool tb_jv_object(json_t *obj, const char *path, const char *key, bool required, json_t **out,
		  struct tb_err *err)
{
	json_t *v = member(obj, key);
	*out = NULL;
	if (!v) {
		if (required)
			tb_fail(err, TB_EINVAL, tb_jv_path(path, key), "is required");
		return !required;
	}
	if (!json_is_object(v)) {
		tb_fail(err, TB_EINVAL, tb_jv_path(path, key), "must be an object");
		return false;
	}
	*out = v;
	return true;
}

bool tb_jv_str_set(json_t *obj, const char *path, const char *key, bool required,
		   const char *const *values, size_t max, unsigned *mask, struct tb_err *err)
{
	json_t *arr;
	if (mask)
		*mask = 0;
	if (!tb_jv_array(obj, path, key, required, max, &arr, err))
		return false;
	if (!arr)
		return true;
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);
		if (!s || !*s) {
			tb_fail(err, TB_EINVAL, tb_jv_index(path, key, i),
				"must be a non-empty string");
			return false;
		}
		if (!values) {
			for (size_t j = 0; j < i; j++)
				if (!strcmp(json_string_value(json_array_get(arr, j)), s)) {
					tb_fail(err, TB_EINVAL, tb_jv_index(path, key, i),
						"'%s' is repeated", s);
					return false;
				}
			continue;
		}
		size_t k = 0;
		while (values[k] && strcmp(values[k], s))
			k++;
		if (!values[k]) {
			tb_fail(err, TB_EINVAL, tb_jv_index(path, key, i),
				"'%s' is not allowed here", s);
			return false;
		}
		if (mask) {
			if (*mask & (1u << k)) {
				tb_fail(err, TB_EINVAL, tb_jv_index(path, key, i),
					"'%s' is repeated", s);
				return false;
			}
			*mask |= 1u << k;
		}
	}
	return true;
}

json_t *tb_jv_split(const char *s, char sep)
{
	json_t *a = json_array();
	while (a && s && *s) {
		const char *c = strchr(s, sep);
		size_t n = c ? (size_t)(c - s) : strlen(s);
		if (n)
			json_array_append_new(a, json_stringn(s, n));
		s = c ? c + 1 : NULL;
	}
	return a;
}
