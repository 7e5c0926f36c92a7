/* catalog_http.c: the catalogue's routes. Turns query strings and bodies into typed
 * requests, calls catalog.h, and answers. */
#include "catalog/catalog_http.h"
#include "catalog/catalog.h"
#include "base/codes.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

static bool parse_bool(struct tb_req *r, const char *name, bool *out)
{
	const char *v = tb_http_query(r, name);
	*out = false;
	if (!v)
		return true;
	if (!strcmp(v, "true") || !strcmp(v, "1")) {
		*out = true;
		return true;
	}
	if (!strcmp(v, "false") || !strcmp(v, "0"))
		return true;
	tb_http_reply_error(r, 400, "bad-parameter", name, "%s must be true or false", name);
	return false;
}

/* Query string -> filter; replies 400 naming the parameter on a bad value. */
static bool parse_filter(struct tb_req *r, struct tb_catalog_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->region = tb_http_query(r, "region");
	f->department = tb_http_query(r, "department");
	f->item_type = tb_http_query(r, "item_type");
	f->topic = tb_http_query(r, "topic");
	f->case_type = tb_http_query(r, "case_type");
	const char *so = tb_http_query(r, "service_object");
	if (so) {
		if (strlen(so) != 1 || so[0] < '1' || so[0] > '9' || so[0] == '7' || so[0] == '8') {
			tb_http_reply_error(r, 400, "bad-parameter", "service_object",
					    "service_object must be one of 1-6, 9");
			return false;
		}
		f->service_object = so[0] - '0';
	}
	struct {
		const char *name, *value;
	} empties[] = {{"region", f->region},
		       {"department", f->department},
		       {"item_type", f->item_type},
		       {"topic", f->topic},
		       {"case_type", f->case_type}};
	for (size_t i = 0; i < TB_ARRAY_LEN(empties); i++)
		if (empties[i].value && !*empties[i].value) {
			tb_http_reply_error(r, 400, "bad-parameter", empties[i].name,
					    "%s must not be empty", empties[i].name);
			return false;
		}
	return parse_bool(r, "zero_visit", &f->zero_visit) &&
	       parse_bool(r, "fully_online", &f->fully_online);
}

/* Validation failures of query parameters are 400 (the request is malformed), those
 * of bodies 422; tb_http_reply_rc gives 422 for TB_EINVAL. */
static void reply_query_rc(struct tb_req *r, tb_rc rc, const struct tb_err *err)
{
	if (rc == TB_EINVAL) {
		tb_http_reply_error(r, 400, "bad-parameter", err->field[0] ? err->field : NULL,
				    "%s", err->msg);
		return;
	}
	tb_http_reply_rc(r, rc, err);
}

/* The end of a read handler: the result as JSON, or the failure as a problem (a bad
 * query parameter is a 400). */
static void answer(struct tb_req *r, tb_rc rc, const struct tb_err *err, json_t *out)
{
	if (rc)
		reply_query_rc(r, rc, err);
	else
		tb_http_reply_json(r, 200, out);
}

static void list_items(struct tb_req *r)
{
	struct tb_catalog_filter f;
	int page, per_page;
	if (!parse_filter(r, &f) || !tb_http_paging(r, &page, &per_page))
		return;
	const char *sort = tb_http_query(r, "sort");
	enum tb_catalog_sort s = TB_SORT_POPULAR;
	if (sort && !strcmp(sort, "name"))
		s = TB_SORT_NAME;
	else if (sort && strcmp(sort, "popular")) {
		tb_http_reply_error(r, 400, "bad-parameter", "sort",
				    "sort must be popular or name");
		return;
	}
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	json_t *out = NULL;
	struct tb_err err = {0};
	tb_rc rc = tb_catalog_list(db, &f, s, page, per_page, &out, &err);
	answer(r, rc, &err, out);
}

static void search(struct tb_req *r)
{
	struct tb_catalog_filter f;
	int page, per_page;
	struct tb_search_opts opts = {0};
	if (!parse_filter(r, &f) || !tb_http_paging(r, &page, &per_page) ||
	    !parse_bool(r, "facets", &opts.facets))
		return;
	const char *group = tb_http_query(r, "group");
	if (group && !strcmp(group, "item")) {
		opts.group_items = true;
	} else if (group && strcmp(group, "implementation")) {
		tb_http_reply_error(r, 400, "bad-parameter", "group",
				    "group must be item or implementation");
		return;
	}
	const char *q = tb_http_query(r, "q");
	if (!q) {
		tb_http_reply_error(r, 400, "bad-parameter", "q",
				    "q (the words to search) is required");
		return;
	}
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	json_t *out = NULL;
	struct tb_err err = {0};
	tb_rc rc = tb_catalog_search(db, q, &f, page, per_page, &opts, &out, &err);
	answer(r, rc, &err, out);
}

static void suggest(struct tb_req *r)
{
	const char *q = tb_http_query(r, "q");
	if (!q) {
		tb_http_reply_error(r, 400, "bad-parameter", "q", "q is required");
		return;
	}
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	json_t *out = NULL;
	struct tb_err err = {0};
	tb_rc rc = tb_catalog_suggest(db, q, &out, &err);
	answer(r, rc, &err, out);
}

static void get_item(struct tb_req *r)
{
	const char *code = tb_http_param(r, "code");
	struct tb_err err = {0};
	size_t n = strlen(code);
	if (n != 31 && n != 12) {
		tb_http_reply_error(r, 404, "not-found", "code",
				    "'%s' is neither an implementation code (31 characters) nor a "
				    "catalog code (12 characters)",
				    code);
		return;
	}
	bool valid = n == 31 ? tb_code_impl_valid(code, &err) : tb_code_catalog_valid(code, &err);
	if (!valid) {
		tb_http_reply_error(r, 404, "not-found", "code", "'%s' is not a valid code: %s",
				    code, err.msg);
		return;
	}
	long version = 0;
	const char *v = tb_http_query(r, "version");
	if (v) {
		char *end;
		version = strtol(v, &end, 10);
		if (!*v || *end || version < 1 || version > 1000000) {
			tb_http_reply_error(r, 400, "bad-parameter", "version",
					    "version must be a positive integer");
			return;
		}
	}
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	tb_rc rc;
	if (n == 31) {
		char *text;
		size_t len;
		rc = tb_catalog_get_impl(db, code, (int)version, &text, &len, &err);
		if (rc)
			return tb_http_reply_rc(r, rc, &err);
		tb_http_reply(r, 200, "application/json; charset=utf-8", text, len);
		return;
	}
	json_t *out = NULL;
	if ((rc = tb_catalog_get_item(db, code, &out, &err)))
		return tb_http_reply_rc(r, rc, &err);
	tb_http_reply_json(r, 200, out);
}

/* A guide is written by a platform admin, or a department admin of its department
 * whose grant covers its region. */
static bool may_write(struct tb_req *r, json_t *row)
{
	const char *dept = json_string_value(json_object_get(row, "department"));
	const char *region = json_string_value(json_object_get(row, "region"));
	if (tb_principal_has_role(&r->principal, TB_ROLE_PLATFORM_ADMIN, NULL, NULL) ||
	    (dept && tb_principal_has_role(&r->principal, TB_ROLE_DEPT_ADMIN, dept,
					   region ? region : NULL)))
		return true;
	tb_http_reply_error(r, 403, "forbidden", "department",
			    "only a platform administrator or an administrator of department %s "
			    "may write its guides",
			    dept ? dept : "(none given)");
	return false;
}

static void write_impl(struct tb_req *r, json_t *row, int must_exist)
{
	if (!may_write(r, row))
		return;
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_err err = {0};
	int version = 0;
	tb_rc rc = tb_db_begin(db, true);
	if (!rc)
		rc = tb_catalog_put_impl(
		    db, row,
		    tb_arena_printf(&r->arena, "staff:%lld", (long long)r->principal.user_id),
		    must_exist, &version, &err);
	if (!rc)
		rc = tb_db_commit(db);
	else
		tb_db_rollback(db);
	if (rc)
		return tb_http_reply_rc(r, rc, &err);
	char *text;
	size_t len;
	const char *code = json_string_value(json_object_get(row, "impl_code"));
	if ((rc = tb_catalog_get_impl(db, code, 0, &text, &len, &err)))
		return tb_http_reply_rc(r, rc, &err);
	if (must_exist < 0) {
		char loc[96];
		snprintf(loc, sizeof(loc), "/api/v1/items/%s", code);
		tb_http_add_header(r, "Location", loc);
	}
	tb_http_reply(r, must_exist < 0 ? 201 : 200, "application/json; charset=utf-8", text, len);
}

static void create_item(struct tb_req *r)
{
	json_t *body = tb_http_json_body(r);
	if (!body)
		return;
	write_impl(r, body, -1);
	json_decref(body);
}

static void update_item(struct tb_req *r)
{
	const char *code = tb_http_param(r, "code");
	struct tb_err err = {0};
	if (strlen(code) != 31 || !tb_code_impl_valid(code, &err)) {
		tb_http_reply_error(r, 404, "not-found", "code",
				    "'%s' is not an implementation code", code);
		return;
	}
	json_t *body = tb_http_json_body(r);
	if (!body)
		return;
	static const char *const allowed[] = {"guide", NULL};
	const char *key;
	json_t *v;
	json_object_foreach(body, key, v)
	{
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			ok |= !strcmp(*a, key);
		if (!ok) {
			tb_http_reply_error(r, 422, "validation", key, "unknown field '%s'", key);
			json_decref(body);
			return;
		}
	}
	if (!json_is_object(json_object_get(body, "guide"))) {
		tb_http_reply_error(r, 422, "validation", "guide", "guide is required (an object)");
		json_decref(body);
		return;
	}
	/* The implementation's identity comes from the path and cannot change. */
	json_t *row = json_object();
	json_object_set_new(row, "impl_code", json_string(code));
	char uscc[19], cat[13], level[2] = {code[18], 0};
	memcpy(uscc, code, 18);
	uscc[18] = 0;
	memcpy(cat, code + 19, 12);
	cat[12] = 0;
	json_object_set_new(row, "department", json_string(uscc));
	json_object_set_new(row, "level", json_string(level));
	json_object_set_new(row, "catalog_code", json_string(cat));
	struct tb_db *db = tb_http_db(r);
	if (!db) {
		json_decref(row);
		json_decref(body);
		return;
	}
	/* the region stays as it is */
	struct tb_stmt *st;
	bool found = false;
	if (!tb_db_prepare(db, "SELECT region FROM implementations WHERE impl_code = ?", &st)) {
		tb_stmt_bind_text(st, 1, code);
		if (!tb_stmt_step(st, &found) && found)
			json_object_set_new(row, "region", json_string(tb_stmt_text(st, 0)));
		tb_stmt_done(st);
	}
	if (!found) {
		tb_http_reply_error(r, 404, "not-found", "code", "no implementation %s", code);
	} else {
		json_object_set(row, "guide", json_object_get(body, "guide"));
		write_impl(r, row, 1);
	}
	json_decref(row);
	json_decref(body);
}

static void list_regions(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	json_t *out = NULL;
	struct tb_err err = {0};
	tb_rc rc = tb_catalog_regions(db, tb_http_query(r, "parent"), &out, &err);
	answer(r, rc, &err, out);
}

static void get_region(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	json_t *out = NULL;
	struct tb_err err = {0};
	tb_rc rc = tb_catalog_region(db, tb_http_param(r, "code"), &out, &err);
	if (rc == TB_EINVAL)
		return tb_http_reply_error(r, 404, "not-found", "code", "%s", err.msg);
	if (rc)
		return tb_http_reply_rc(r, rc, &err);
	tb_http_reply_json(r, 200, out);
}

static void list_departments(struct tb_req *r)
{
	int page, per_page;
	if (!tb_http_paging(r, &page, &per_page))
		return;
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	json_t *out = NULL;
	struct tb_err err = {0};
	tb_rc rc =
	    tb_catalog_departments(db, tb_http_query(r, "region"), page, per_page, &out, &err);
	answer(r, rc, &err, out);
}

static void list_topics(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	json_t *out = NULL;
	struct tb_err err = {0};
	tb_rc rc = tb_catalog_topics(db, tb_http_query(r, "object"), &out, &err);
	answer(r, rc, &err, out);
}

#define CATALOG_ADMINS (TB_ROLE_PLATFORM_ADMIN | TB_ROLE_DEPT_ADMIN)

const struct tb_route tb_catalog_routes[] = {
    {"GET", "/api/v1/regions", list_regions, TB_AUTH_PUBLIC, 0, 0},
    {"GET", "/api/v1/regions/{code}", get_region, TB_AUTH_PUBLIC, 0, 0},
    {"GET", "/api/v1/departments", list_departments, TB_AUTH_PUBLIC, 0, 0},
    {"GET", "/api/v1/topics", list_topics, TB_AUTH_PUBLIC, 0, 0},
    {"GET", "/api/v1/items", list_items, TB_AUTH_PUBLIC, 0, 0},
    {"POST", "/api/v1/items", create_item, TB_AUTH_STAFF, CATALOG_ADMINS, 0},
    {"GET", "/api/v1/items/{code}", get_item, TB_AUTH_PUBLIC, 0, 0},
    {"PUT", "/api/v1/items/{code}", update_item, TB_AUTH_STAFF, CATALOG_ADMINS, 0},
    {"GET", "/api/v1/search", search, TB_AUTH_PUBLIC, 0, 0},
    {"GET", "/api/v1/search/suggest", suggest, TB_AUTH_PUBLIC, 0, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};
