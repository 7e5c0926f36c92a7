/* test_openapi.c: docs/openapi.json (env OPENAPI) and the registered routes agree.
 * Every route is documented (method and pattern), every documented operation is a
 * route, path parameters carry the route's names, and admin routes declare their
 * security and the 401/403 answers. Fails when a route is added without its
 * documentation, or documentation without its route. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_http.h"
#include "identity/identity_http.h"
#include "identity/oidc_http.h"
#include "cases/cases_http.h"
#include "http/http.h"
#include "jobs/jobs_http.h"

static json_t *doc;
static const struct tb_route **routes;
static size_t nroutes;

static const char *const methods[] = {"get",   "put",  "post",	  "delete",
				      "patch", "head", "options", "trace"};

static void lower(const char *s, char *out, size_t n)
{
	size_t i = 0;
	for (; s[i] && i + 1 < n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = 0;
}

static int setup(void **state)
{
	(void)state;
	const char *path = getenv("OPENAPI");
	if (!path) {
		fprintf(stderr, "OPENAPI is not set\n");
		return -1;
	}
	json_error_t e;
	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
	if (!doc) {
		fprintf(stderr, "%s:%d: %s\n", path, e.line, e.text);
		return -1;
	}
	if (!tb_http_add_routes(tb_system_routes) || !tb_http_add_routes(tb_catalog_routes) ||
	    !tb_http_add_routes(tb_identity_routes) || !tb_http_add_routes(tb_jobs_routes) ||
	    !tb_http_add_routes(tb_oidc_routes) || !tb_http_add_routes(tb_cases_routes))
		return -1;
	nroutes = tb_http_routes(&routes);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(doc);
	return 0;
}

static void test_document(void **state)
{
	(void)state;
	const char *v = json_string_value(json_object_get(doc, "openapi"));
	assert_non_null(v);
	assert_true(strncmp(v, "3.1.", 4) == 0);
	assert_true(json_is_object(json_object_get(doc, "info")));
	assert_true(json_is_object(json_object_get(doc, "paths")));
	assert_true(nroutes >= 13);
}

static void test_routes_documented(void **state)
{
	(void)state;
	json_t *paths = json_object_get(doc, "paths");
	int missing = 0;
	for (size_t i = 0; i < nroutes; i++) {
		const struct tb_route *r = routes[i];
		char m[16];
		lower(r->method, m, sizeof(m));
		json_t *op = json_object_get(json_object_get(paths, r->pattern), m);
		if (!json_is_object(op)) {
			fprintf(stderr, "route %s %s is not in the OpenAPI document\n", r->method,
				r->pattern);
			missing++;
			continue;
		}
		if (!json_is_object(json_object_get(op, "responses"))) {
			fprintf(stderr, "%s %s: no responses\n", r->method, r->pattern);
			missing++;
		}
	}
	assert_int_equal(missing, 0);
}

static bool is_route(const char *path, const char *method)
{
	char m[16];
	for (size_t i = 0; i < nroutes; i++) {
		lower(routes[i]->method, m, sizeof(m));
		if (!strcmp(routes[i]->pattern, path) && !strcmp(m, method))
			return true;
	}
	return false;
}

static void test_documented_are_routes(void **state)
{
	(void)state;
	json_t *paths = json_object_get(doc, "paths"), *item;
	const char *path;
	int extra = 0, ops = 0;
	json_object_foreach(paths, path, item)
	{
		for (size_t k = 0; k < TB_ARRAY_LEN(methods); k++) {
			if (!json_object_get(item, methods[k]))
				continue;
			ops++;
			if (!is_route(path, methods[k])) {
				fprintf(stderr, "documented %s %s is not a route\n", methods[k],
					path);
				extra++;
			}
		}
	}
	assert_int_equal(extra, 0);
	assert_int_equal(ops, (int)nroutes);
}

/* Each {name} of a pattern is a required path parameter of that operation. */
static void test_path_parameters(void **state)
{
	(void)state;
	json_t *paths = json_object_get(doc, "paths");
	int bad = 0;
	for (size_t i = 0; i < nroutes; i++) {
		const struct tb_route *r = routes[i];
		char m[16];
		lower(r->method, m, sizeof(m));
		json_t *item = json_object_get(paths, r->pattern);
		json_t *op = json_object_get(item, m);
		for (const char *p = strchr(r->pattern, '{'); p; p = strchr(p + 1, '{')) {
			const char *close = strchr(p, '}');
			assert_non_null(close);
			char name[64];
			snprintf(name, sizeof(name), "%.*s", (int)(close - p - 1), p + 1);
			bool found = false;
			json_t *lists[2] = {json_object_get(op, "parameters"),
					    json_object_get(item, "parameters")};
			for (int l = 0; l < 2 && !found; l++) {
				size_t j;
				json_t *prm;
				json_array_foreach(lists[l], j, prm)
				{
					if (!strcmp(json_string_value(json_object_get(prm, "in"))
							?: "",
						    "path") &&
					    !strcmp(json_string_value(json_object_get(prm, "name"))
							?: "",
						    name) &&
					    json_is_true(json_object_get(prm, "required")))
						found = true;
				}
			}
			if (!found) {
				fprintf(stderr, "%s %s: path parameter %s not documented\n",
					r->method, r->pattern, name);
				bad++;
			}
		}
	}
	assert_int_equal(bad, 0);
}

static void test_admin_security(void **state)
{
	(void)state;
	json_t *paths = json_object_get(doc, "paths");
	int bad = 0;
	for (size_t i = 0; i < nroutes; i++) {
		const struct tb_route *r = routes[i];
		char m[16];
		lower(r->method, m, sizeof(m));
		json_t *op = json_object_get(json_object_get(paths, r->pattern), m);
		json_t *sec = json_object_get(op, "security");
		json_t *resp = json_object_get(op, "responses");
		if (r->auth != TB_AUTH_PUBLIC) {
			/* 403: the wrong kind or role, or (USER routes) a missing CSRF header */
			bool need403 = r->auth != TB_AUTH_USER || strcmp(r->method, "GET");
			if (!json_array_size(sec) || !json_object_get(resp, "401") ||
			    (need403 && !json_object_get(resp, "403"))) {
				fprintf(stderr,
					"%s %s: route needing a login without security/401/403\n",
					r->method, r->pattern);
				bad++;
			}
		} else if (json_array_size(sec)) {
			fprintf(stderr, "%s %s: public route documented with security\n", r->method,
				r->pattern);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_document),
	    cmocka_unit_test(test_routes_documented),
	    cmocka_unit_test(test_documented_are_routes),
	    cmocka_unit_test(test_path_parameters),
	    cmocka_unit_test(test_admin_security),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
