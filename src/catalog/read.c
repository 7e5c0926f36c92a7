/* read.c: lists, guides, regions and the 一网通查 search. */
#include "catalog/catalog.h"
#include "base/buf.h"
#include "base/codes.h"
#include "base/text.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUMMARY_COLUMNS                                                                            \
	"c.impl_code, c.catalog_code, c.name, c.item_type, c.level, c.service_objects, "           \
	"c.department, d.name, c.region, r.name, c.case_type, c.legal_value, c.legal_unit, "       \
	"c.promised_value, c.promised_unit, c.visits, c.zero_visit, c.fully_online, "              \
	"c.online_depth, c.version, c.updated_at, i.topics, c.id"
#define SUMMARY_FROM                                                                               \
	" FROM implementations c JOIN departments d ON d.uscc = c.department "                     \
	"JOIN regions r ON r.code = c.region JOIN items i ON i.catalog_code = c.catalog_code"

static json_t *limit_json(struct tb_stmt *st, int vcol)
{
	if (tb_stmt_null(st, vcol))
		return json_null();
	return json_pack("{s:I,s:s}", "value", (json_int_t)tb_stmt_int(st, vcol), "unit",
			 tb_stmt_text(st, vcol + 1));
}

static json_t *mask_codes(int64_t mask)
{
	json_t *a = json_array();
	for (int b = 1; b < 10; b++)
		if (mask & (1 << b)) {
			char s[2] = {(char)('0' + b), 0};
			json_array_append_new(a, json_string(s));
		}
	return a;
}

static json_t *split_csv(const char *s)
{
	json_t *a = json_array();
	while (s && *s) {
		const char *c = strchr(s, ',');
		size_t n = c ? (size_t)(c - s) : strlen(s);
		if (n)
			json_array_append_new(a, json_stringn(s, n));
		s = c ? c + 1 : NULL;
	}
	return a;
}

static json_t *summary_json(struct tb_stmt *st)
{
	const char *type = tb_stmt_text(st, 3), *level = tb_stmt_text(st, 4);
	json_t *o = json_object();
	json_object_set_new(o, "impl_code", json_string(tb_stmt_text(st, 0)));
	json_object_set_new(o, "catalog_code", json_string(tb_stmt_text(st, 1)));
	json_object_set_new(o, "name", json_string(tb_stmt_text(st, 2)));
	json_object_set_new(o, "item_type", json_string(type));
	json_object_set_new(o, "item_type_name", json_string(tb_catalog_item_type_name(type)));
	json_object_set_new(o, "level", json_string(level));
	json_object_set_new(o, "level_name", json_string(tb_catalog_level_name(level)));
	json_object_set_new(o, "service_objects", mask_codes(tb_stmt_int(st, 5)));
	json_object_set_new(
	    o, "department",
	    json_pack("{s:s,s:s}", "uscc", tb_stmt_text(st, 6), "name", tb_stmt_text(st, 7)));
	json_object_set_new(
	    o, "region",
	    json_pack("{s:s,s:s}", "code", tb_stmt_text(st, 8), "name", tb_stmt_text(st, 9)));
	json_object_set_new(o, "case_type", json_string(tb_stmt_text(st, 10)));
	json_object_set_new(o, "legal_limit", limit_json(st, 11));
	json_object_set_new(o, "promised_limit", limit_json(st, 13));
	json_object_set_new(o, "visits", json_integer(tb_stmt_int(st, 15)));
	json_object_set_new(o, "zero_visit", json_boolean(tb_stmt_int(st, 16)));
	json_object_set_new(o, "fully_online", json_boolean(tb_stmt_int(st, 17)));
	json_t *depth = json_array();
	for (int b = 1; b <= 8; b++)
		if (tb_stmt_int(st, 18) & (1 << b)) {
			char s[2] = {(char)('0' + b), 0};
			json_array_append_new(depth, json_string(s));
		}
	json_object_set_new(o, "online_depth", depth);
	json_object_set_new(o, "version", json_integer(tb_stmt_int(st, 19)));
	json_object_set_new(o, "updated_at", json_string(tb_stmt_text(st, 20)));
	json_object_set_new(o, "topics", split_csv(tb_stmt_text(st, 21)));
	return o;
}

/* ---- filters ---- */

struct filter_sql {
	struct tb_buf sql;
	const char *params[16];
	char own[8][16];
	size_t n;
};

static tb_rc check_filter(const struct tb_catalog_filter *f, struct tb_err *err)
{
	if (f->region && !tb_code_region_valid(f->region))
		return tb_fail(err, TB_EINVAL, "region", "'%s' is not a division code", f->region);
	if (f->department && !tb_code_uscc_valid(f->department, NULL))
		return tb_fail(err, TB_EINVAL, "department", "'%s' is not a valid USCC",
			       f->department);
	if (f->item_type && !tb_catalog_item_type_name(f->item_type))
		return tb_fail(err, TB_EINVAL, "item_type", "'%s' is not an item type (01-10, 20)",
			       f->item_type);
	if (f->case_type && strcmp(f->case_type, "1") && strcmp(f->case_type, "2"))
		return tb_fail(err, TB_EINVAL, "case_type", "must be 1 or 2");
	if (f->service_object && (f->service_object < 1 || f->service_object > 9 ||
				  f->service_object == 7 || f->service_object == 8))
		return tb_fail(err, TB_EINVAL, "service_object", "must be 1-6 or 9");
	if (f->topic && strlen(f->topic) > 32)
		return tb_fail(err, TB_EINVAL, "topic", "unknown topic");
	return TB_OK;
}

/* Neutral SQL over alias c. A region matches itself, its ancestors (a provincial item
 * applies in every city) and its descendants. */
static tb_rc build_filter(const struct tb_catalog_filter *f, struct filter_sql *out)
{
	tb_buf_init(&out->sql, 4096);
	out->n = 0;
	tb_buf_puts(&out->sql, "1 = 1");
	if (f->region) {
		char code[16], parent[16];
		snprintf(code, sizeof(code), "%s", f->region);
		tb_buf_puts(&out->sql, " AND (c.region IN (?");
		out->params[out->n++] = f->region;
		int k = 0;
		while (tb_code_region_parent(code, parent) && k < 5) {
			snprintf(out->own[k], sizeof(out->own[k]), "%s", parent);
			out->params[out->n++] = out->own[k];
			tb_buf_puts(&out->sql, ", ?");
			snprintf(code, sizeof(code), "%s", parent);
			k++;
		}
		/* descendants: codes that extend this one; ':' sorts right after '9' */
		snprintf(out->own[6], sizeof(out->own[6]), "%s", f->region);
		snprintf(out->own[7], sizeof(out->own[7]), "%s:", f->region);
		out->params[out->n++] = out->own[6];
		out->params[out->n++] = out->own[7];
		tb_buf_puts(&out->sql, ") OR (c.region > ? AND c.region < ?))");
	}
	if (f->department) {
		tb_buf_puts(&out->sql, " AND c.department = ?");
		out->params[out->n++] = f->department;
	}
	if (f->item_type) {
		tb_buf_puts(&out->sql, " AND c.item_type = ?");
		out->params[out->n++] = f->item_type;
	}
	if (f->case_type) {
		tb_buf_puts(&out->sql, " AND c.case_type = ?");
		out->params[out->n++] = f->case_type;
	}
	if (f->service_object) {
		static const char *bits[] = {"1",  "2",	 "4",	"8",   "16",
					     "32", "64", "128", "256", "512"};
		tb_buf_puts(&out->sql, " AND (c.service_objects & CAST(? AS INTEGER)) <> 0");
		out->params[out->n++] = bits[f->service_object];
	}
	if (f->topic) {
		tb_buf_puts(&out->sql,
			    " AND c.catalog_code IN (SELECT catalog_code FROM item_topics "
			    "WHERE topic = ?)");
		out->params[out->n++] = f->topic;
	}
	if (f->zero_visit)
		tb_buf_puts(&out->sql, " AND c.zero_visit = 1");
	if (f->fully_online)
		return tb_buf_puts(&out->sql, " AND c.fully_online = 1");
	return out->sql.data ? TB_OK : TB_ENOMEM;
}

static json_t *page_json(json_t *items, int64_t total, int page, int per_page)
{
	return json_pack("{s:o,s:I,s:i,s:i}", "items", items, "total", (json_int_t)total, "page",
			 page, "per_page", per_page);
}

tb_rc tb_catalog_list(struct tb_db *db, const struct tb_catalog_filter *f,
		      enum tb_catalog_sort sort, int page, int per_page, json_t **out,
		      struct tb_err *err)
{
	tb_rc rc = check_filter(f, err);
	if (rc)
		return rc;
	struct filter_sql fs;
	if ((rc = build_filter(f, &fs)))
		goto out;
	struct tb_buf sql;
	tb_buf_init(&sql, 16384);
	tb_buf_printf(&sql, "SELECT count(*) FROM implementations c WHERE %s", fs.sql.data);
	struct tb_stmt *st;
	bool row;
	int64_t total = 0;
	if (!(rc = tb_db_prepare(db, sql.data, &st))) {
		for (size_t i = 0; i < fs.n; i++)
			tb_stmt_bind_text(st, (int)i + 1, fs.params[i]);
		if (!(rc = tb_stmt_step(st, &row)) && row)
			total = tb_stmt_int(st, 0);
		tb_stmt_done(st);
	}
	json_t *items = json_array();
	if (!rc && total > (int64_t)(page - 1) * per_page) {
		tb_buf_reset(&sql);
		tb_buf_printf(
		    &sql,
		    "SELECT " SUMMARY_COLUMNS SUMMARY_FROM " WHERE %s ORDER BY %s LIMIT ? OFFSET ?",
		    fs.sql.data, sort == TB_SORT_NAME ? "c.name, c.id" : "c.popularity DESC, c.id");
		if (!(rc = tb_db_prepare(db, sql.data, &st))) {
			size_t i;
			for (i = 0; i < fs.n; i++)
				tb_stmt_bind_text(st, (int)i + 1, fs.params[i]);
			tb_stmt_bind_int(st, (int)i + 1, per_page);
			tb_stmt_bind_int(st, (int)i + 2, (int64_t)(page - 1) * per_page);
			while (!(rc = tb_stmt_step(st, &row)) && row)
				json_array_append_new(items, summary_json(st));
			tb_stmt_done(st);
		}
	}
	tb_buf_release(&sql);
	if (rc)
		json_decref(items);
	else
		*out = page_json(items, total, page, per_page);
out:
	tb_buf_release(&fs.sql);
	return rc;
}

static tb_rc summary_by_id(struct tb_db *db, int64_t id, json_t **out)
{
	struct tb_stmt *st;
	bool row;
	tb_rc rc = tb_db_prepare(db, "SELECT " SUMMARY_COLUMNS SUMMARY_FROM " WHERE c.id = ?", &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, id);
	*out = NULL;
	if (!(rc = tb_stmt_step(st, &row)) && row)
		*out = summary_json(st);
	tb_stmt_done(st);
	return rc;
}

/* Facets: counts over every match. One grouped pass per dimension; item type, service
 * object and topic all come from the per-item counts. */
struct group {
	char key[40];
	int64_t count;
};
struct groups {
	struct group g[2048];
	size_t n;
};

static void collect(void *ctx, const char *key, int64_t count)
{
	struct groups *gs = ctx;
	if (gs->n < TB_ARRAY_LEN(gs->g) && key) {
		snprintf(gs->g[gs->n].key, sizeof(gs->g[0].key), "%s", key);
		gs->g[gs->n++].count = count;
	}
}

static int by_count(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->key, y->key);
}

static void add_count(json_t *facet, const char *keyname, const char *key, const char *name,
		      int64_t count)
{
	json_t *e = json_object_get(facet, key);
	if (e) {
		json_object_set_new(
		    e, "count",
		    json_integer(json_integer_value(json_object_get(e, "count")) + count));
		return;
	}
	json_object_set_new(facet, key,
			    json_pack("{s:s,s:s,s:I}", keyname, key, "name", name ? name : key,
				      "count", (json_int_t)count));
}

/* An object keyed by code -> an array sorted by count, at most max entries. */
static json_t *to_sorted(json_t *facet, size_t max)
{
	json_t *arr = json_array(), *v;
	const char *k;
	json_object_foreach(facet, k, v) json_array_append(arr, v);
	json_decref(facet);
	size_t n = json_array_size(arr);
	for (size_t i = 1; i < n; i++) /* insertion sort: facets are small */
		for (size_t j = i; j > 0; j--) {
			json_t *a = json_array_get(arr, j - 1), *b = json_array_get(arr, j);
			if (json_integer_value(json_object_get(a, "count")) >=
			    json_integer_value(json_object_get(b, "count")))
				break;
			json_incref(a);
			json_array_set(arr, j - 1, b);
			json_array_set_new(arr, j, a);
		}
	while (json_array_size(arr) > max)
		json_array_remove(arr, json_array_size(arr) - 1);
	return arr;
}

static tb_rc name_of(struct tb_db *db, const char *sql, const char *key, char *out, size_t n)
{
	struct tb_stmt *st;
	bool row;
	tb_rc rc = tb_db_prepare(db, sql, &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, key);
	snprintf(out, n, "%s", key);
	if (!(rc = tb_stmt_step(st, &row)) && row)
		snprintf(out, n, "%s", tb_stmt_text(st, 0));
	tb_stmt_done(st);
	return rc;
}

const char *tb_catalog_object_name(int code);

static tb_rc facets_json(struct tb_db *db, const struct tb_fts_query *q, json_t **out)
{
	struct groups *gs = calloc(1, sizeof(*gs));
	if (!gs)
		return TB_ENOMEM;
	json_t *f = json_object();
	char name[256];
	/* cities (a provincial item counts under the province) */
	tb_rc rc = tb_db_fts_group(db, q, "substr(c.region, 1, 4)", collect, gs);
	json_t *city = json_object();
	for (size_t i = 0; !rc && i < gs->n; i++) {
		rc = name_of(db, "SELECT name FROM regions WHERE code = ?", gs->g[i].key, name,
			     sizeof(name));
		add_count(city, "code", gs->g[i].key, name, gs->g[i].count);
	}
	json_object_set_new(f, "city", to_sorted(city, 50));
	/* departments: the 20 with most matches */
	gs->n = 0;
	if (!rc)
		rc = tb_db_fts_group(db, q, "c.department", collect, gs);
	qsort(gs->g, gs->n, sizeof(gs->g[0]), by_count);
	json_t *dept = json_object();
	for (size_t i = 0; !rc && i < gs->n && i < 20; i++) {
		rc = name_of(db, "SELECT name FROM departments WHERE uscc = ?", gs->g[i].key, name,
			     sizeof(name));
		add_count(dept, "uscc", gs->g[i].key, name, gs->g[i].count);
	}
	json_object_set_new(f, "department", to_sorted(dept, 20));
	/* per item: type, service objects, topics */
	gs->n = 0;
	if (!rc)
		rc = tb_db_fts_group(db, q, "c.catalog_code", collect, gs);
	json_t *types = json_object(), *objs = json_object(), *topics = json_object();
	for (size_t i = 0; !rc && i < gs->n; i++) {
		struct tb_stmt *st;
		bool row;
		if ((rc =
			 tb_db_prepare(db,
				       "SELECT item_type, service_objects, topics FROM items WHERE "
				       "catalog_code = ?",
				       &st)))
			break;
		tb_stmt_bind_text(st, 1, gs->g[i].key);
		if (!(rc = tb_stmt_step(st, &row)) && row) {
			const char *t = tb_stmt_text(st, 0);
			add_count(types, "code", t, tb_catalog_item_type_name(t), gs->g[i].count);
			int64_t mask = tb_stmt_int(st, 1);
			for (int b = 1; b <= 9; b++)
				if (mask & (1 << b)) {
					char k[2] = {(char)('0' + b), 0};
					add_count(objs, "code", k, tb_catalog_object_name(b),
						  gs->g[i].count);
				}
			char *csv = strdup(tb_stmt_text(st, 2)), *save = NULL;
			for (char *tp = csv ? strtok_r(csv, ",", &save) : NULL; tp;
			     tp = strtok_r(NULL, ",", &save))
				add_count(topics, "code", tp, NULL, gs->g[i].count);
			free(csv);
		}
		tb_stmt_done(st);
	}
	json_t *v;
	const char *k;
	json_object_foreach(topics, k, v)
	{
		if (!rc)
			rc = name_of(db, "SELECT name FROM topics WHERE code = ?", k, name,
				     sizeof(name));
		json_object_set_new(v, "name", json_string(name));
	}
	json_object_set_new(f, "item_type", to_sorted(types, 20));
	json_object_set_new(f, "service_object", to_sorted(objs, 10));
	json_object_set_new(f, "topic", to_sorted(topics, 30));
	free(gs);
	if (rc) {
		json_decref(f);
		return rc;
	}
	*out = f;
	return TB_OK;
}

tb_rc tb_catalog_search(struct tb_db *db, const char *q, const struct tb_catalog_filter *f,
			int page, int per_page, const struct tb_search_opts *opts, json_t **out,
			struct tb_err *err)
{
	bool facets = opts && opts->facets;
	if (!q || !*q)
		return tb_fail(err, TB_EINVAL, "q", "the query is empty");
	if (strlen(q) > 300 || !tb_utf8_valid(q, strlen(q)))
		return tb_fail(err, TB_EINVAL, "q",
			       "the query must be UTF-8 text of at most 100 characters");
	tb_rc rc = check_filter(f, err);
	if (rc)
		return rc;
	struct tb_text_term terms[16];
	size_t nterms = tb_text_query_terms(q, terms, 16);
	if (nterms == 0) {
		*out = page_json(json_array(), 0, page, per_page);
		if (facets)
			json_object_set_new(*out, "facets", json_object());
		return TB_OK;
	}
	struct filter_sql fs;
	if ((rc = build_filter(f, &fs))) {
		tb_buf_release(&fs.sql);
		return rc;
	}
	static const double weights[] = {10.0, 4.0, 1.0, 4.0};
	struct tb_fts_query fq = {
	    .index = "impl_fts",
	    .content = "implementations",
	    .terms = terms,
	    .nterms = nterms,
	    .filter = fs.sql.data,
	    .params = fs.params,
	    .nparams = fs.n,
	    .weights = weights,
	    .nweights = 4,
	    .highlight_field = 0,
	    .snippet_fields = {2, 1, 3}, /* guide text, else the alias or code matched */
	    .nsnippet = 3,
	    .limit = per_page,
	    .offset = (page - 1) * per_page,
	    .group = opts && opts->group_items ? "c.catalog_code" : NULL,
	};
	struct tb_fts_hit hits[100];
	size_t nhits = 0;
	int64_t total = 0;
	rc = tb_db_fts_search(db, &fq, hits, &nhits, &total);
	json_t *items = json_array();
	for (size_t i = 0; !rc && i < nhits; i++) {
		json_t *s;
		if ((rc = summary_by_id(db, hits[i].id, &s)) || !s)
			continue;
		json_object_set_new(s, "highlight",
				    json_string(hits[i].highlight ? hits[i].highlight : ""));
		if (fq.group)
			json_object_set_new(s, "implementations",
					    json_integer(hits[i].group_count));
		json_object_set_new(s, "snippet",
				    json_string(hits[i].snippet ? hits[i].snippet : ""));
		json_array_append_new(items, s);
	}
	tb_fts_hits_release(hits, nhits);
	json_t *fj = NULL;
	if (!rc && facets)
		rc = facets_json(db, &fq, &fj);
	tb_buf_release(&fs.sql);
	if (rc) {
		json_decref(items);
		json_decref(fj);
		return rc;
	}
	*out = page_json(items, total, page, per_page);
	if (facets)
		json_object_set_new(*out, "facets", fj ? fj : json_object());
	return TB_OK;
}

tb_rc tb_catalog_suggest(struct tb_db *db, const char *q, json_t **out, struct tb_err *err)
{
	if (!q || strlen(q) > 300 || !tb_utf8_valid(q, strlen(q)))
		return tb_fail(err, TB_EINVAL, "q",
			       "the query must be UTF-8 text of at most 100 characters");
	struct tb_text_term terms[16];
	size_t nterms = tb_text_query_terms(q, terms, 16);
	json_t *list = json_array();
	*out = json_pack("{s:o}", "suggestions", list);
	if (nterms == 0)
		return TB_OK;
	static const double weights[] = {10.0, 2.0};
	struct tb_fts_query fq = {
	    .index = "item_names_fts",
	    .content = "items",
	    .terms = terms,
	    .nterms = nterms,
	    .weights = weights,
	    .nweights = 2,
	    .highlight_field = 0,
	    .limit = 10,
	};
	struct tb_fts_hit hits[10];
	size_t n = 0;
	tb_rc rc = tb_db_fts_search(db, &fq, hits, &n, NULL);
	for (size_t i = 0; !rc && i < n; i++) {
		struct tb_stmt *st;
		bool row;
		if ((rc = tb_db_prepare(db, "SELECT name, catalog_code FROM items WHERE id = ?",
					&st)))
			break;
		tb_stmt_bind_int(st, 1, hits[i].id);
		if (!(rc = tb_stmt_step(st, &row)) && row)
			json_array_append_new(
			    list, json_pack("{s:s,s:s,s:s}", "text", tb_stmt_text(st, 0),
					    "catalog_code", tb_stmt_text(st, 1), "highlight",
					    hits[i].highlight ? hits[i].highlight : ""));
		tb_stmt_done(st);
	}
	tb_fts_hits_release(hits, n);
	return rc;
}

tb_rc tb_catalog_get_impl(struct tb_db *db, const char *impl_code, int version, char **out,
			  size_t *len, struct tb_err *err)
{
	struct tb_stmt *st;
	bool row;
	json_t *summary = NULL;
	int64_t id = 0;
	int current = 0;
	tb_rc rc =
	    tb_db_prepare(db, "SELECT " SUMMARY_COLUMNS SUMMARY_FROM " WHERE c.impl_code = ?", &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, impl_code);
	if (!(rc = tb_stmt_step(st, &row)) && row) {
		summary = summary_json(st);
		current = (int)tb_stmt_int(st, 19);
		id = tb_stmt_int(st, 22);
	}
	tb_stmt_done(st);
	if (rc)
		return rc;
	if (!summary)
		return tb_fail(err, TB_ENOTFOUND, "impl_code", "no implementation %s", impl_code);
	if (version == 0)
		version = current;
	json_t *versions = json_array();
	char *guide = NULL;
	if (!(rc = tb_db_prepare(
		  db,
		  "SELECT version, created_at, guide FROM guide_versions WHERE impl_id = "
		  "? ORDER BY version",
		  &st))) {
		tb_stmt_bind_int(st, 1, id);
		while (!(rc = tb_stmt_step(st, &row)) && row) {
			int v = (int)tb_stmt_int(st, 0);
			json_array_append_new(versions,
					      json_pack("{s:i,s:s}", "version", v, "created_at",
							tb_stmt_text(st, 1)));
			if (v == version)
				guide = strdup(tb_stmt_text(st, 2));
		}
		tb_stmt_done(st);
	}
	if (!rc && !guide)
		rc = tb_fail(err, TB_ENOTFOUND, "version", "implementation %s has no version %d",
			     impl_code, version);
	if (!rc) {
		/* Splice the stored guide text in as it is: it was validated and dumped by
		 * us, and parsing it again for every read would cost more than the rest. */
		json_object_set_new(summary, "version", json_integer(version));
		json_object_set_new(summary, "current_version", json_integer(current));
		json_object_set_new(summary, "versions", versions);
		versions = NULL;
		char *head = json_dumps(summary, JSON_COMPACT);
		struct tb_buf b;
		tb_buf_init(&b, 0);
		if (head && strlen(head) > 1) {
			tb_buf_append(&b, head, strlen(head) - 1);
			tb_buf_puts(&b, ",\"guide\":");
			tb_buf_puts(&b, guide);
			rc = tb_buf_putc(&b, '}');
		} else {
			rc = TB_ENOMEM;
		}
		free(head);
		if (!rc)
			*out = tb_buf_steal(&b, len);
		tb_buf_release(&b);
	}
	json_decref(versions);
	json_decref(summary);
	free(guide);
	return rc;
}

tb_rc tb_catalog_get_item(struct tb_db *db, const char *code, json_t **out, struct tb_err *err)
{
	struct tb_stmt *st;
	bool row;
	tb_rc rc = tb_db_prepare(db,
				 "SELECT catalog_code, name, item_type, service_objects, topics, "
				 "keywords, popularity FROM items WHERE catalog_code = ?",
				 &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, code);
	json_t *o = NULL;
	if (!(rc = tb_stmt_step(st, &row)) && row) {
		o = json_object();
		json_object_set_new(o, "catalog_code", json_string(tb_stmt_text(st, 0)));
		json_object_set_new(o, "name", json_string(tb_stmt_text(st, 1)));
		json_object_set_new(o, "item_type", json_string(tb_stmt_text(st, 2)));
		json_object_set_new(o, "item_type_name",
				    json_string(tb_catalog_item_type_name(tb_stmt_text(st, 2))));
		json_object_set_new(o, "service_objects", mask_codes(tb_stmt_int(st, 3)));
		json_object_set_new(o, "topics", split_csv(tb_stmt_text(st, 4)));
		json_t *kw = json_array();
		char *k = strdup(tb_stmt_text(st, 5)), *save = NULL;
		for (char *t = k ? strtok_r(k, " ", &save) : NULL; t;
		     t = strtok_r(NULL, " ", &save))
			json_array_append_new(kw, json_string(t));
		free(k);
		json_object_set_new(o, "keywords", kw);
		json_object_set_new(o, "popularity", json_integer(tb_stmt_int(st, 6)));
	}
	tb_stmt_done(st);
	if (rc || !o) {
		json_decref(o);
		return rc ? rc : tb_fail(err, TB_ENOTFOUND, "catalog_code", "no item %s", code);
	}
	json_t *impls = json_array();
	if (!(rc = tb_db_prepare(db,
				 "SELECT " SUMMARY_COLUMNS SUMMARY_FROM
				 " WHERE c.catalog_code = ? ORDER BY c.region, c.id LIMIT 1000",
				 &st))) {
		tb_stmt_bind_text(st, 1, code);
		while (!(rc = tb_stmt_step(st, &row)) && row)
			json_array_append_new(impls, summary_json(st));
		tb_stmt_done(st);
	}
	json_object_set_new(o, "implementations", impls);
	if (rc) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return TB_OK;
}

static json_t *region_row(struct tb_stmt *st)
{
	json_t *o =
	    json_pack("{s:s,s:s,s:i,s:b}", "code", tb_stmt_text(st, 0), "name", tb_stmt_text(st, 1),
		      "level", (int)tb_stmt_int(st, 3), "has_children", (int)tb_stmt_int(st, 4));
	json_object_set_new(o, "parent",
			    tb_stmt_null(st, 2) ? json_null() : json_string(tb_stmt_text(st, 2)));
	return o;
}

tb_rc tb_catalog_regions(struct tb_db *db, const char *parent, json_t **out, struct tb_err *err)
{
	if (parent && !tb_code_region_valid(parent))
		return tb_fail(err, TB_EINVAL, "parent", "'%s' is not a division code", parent);
	struct tb_stmt *st;
	bool row;
	tb_rc rc =
	    tb_db_prepare(db,
			  parent ? "SELECT r.code, r.name, r.parent, r.level, EXISTS (SELECT 1 "
				   "FROM regions k WHERE k.parent = r.code) FROM regions r "
				   "WHERE r.parent = ? ORDER BY r.code"
				 : "SELECT r.code, r.name, r.parent, r.level, EXISTS (SELECT 1 "
				   "FROM regions k WHERE k.parent = r.code) FROM regions r "
				   "WHERE r.parent IS NULL ORDER BY r.code",
			  &st);
	if (rc)
		return rc;
	if (parent)
		tb_stmt_bind_text(st, 1, parent);
	json_t *items = json_array();
	while (!(rc = tb_stmt_step(st, &row)) && row)
		json_array_append_new(items, region_row(st));
	tb_stmt_done(st);
	if (rc) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o}", "items", items);
	return TB_OK;
}

tb_rc tb_catalog_region(struct tb_db *db, const char *code, json_t **out, struct tb_err *err)
{
	if (!tb_code_region_valid(code))
		return tb_fail(err, TB_EINVAL, "code", "'%s' is not a division code", code);
	static const char *one =
	    "SELECT r.code, r.name, r.parent, r.level, EXISTS (SELECT 1 FROM "
	    "regions k WHERE k.parent = r.code) FROM regions r WHERE r.code = ?";
	struct tb_stmt *st;
	bool row;
	tb_rc rc = tb_db_prepare(db, one, &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, code);
	json_t *o = NULL;
	if (!(rc = tb_stmt_step(st, &row)) && row)
		o = region_row(st);
	tb_stmt_done(st);
	if (rc || !o)
		return rc ? rc : tb_fail(err, TB_ENOTFOUND, "code", "no region %s", code);
	json_t *path = json_array();
	char c[16], p[16];
	snprintf(c, sizeof(c), "%s", code);
	while (!rc && tb_code_region_parent(c, p)) {
		if ((rc = tb_db_prepare(db, one, &st)))
			break;
		tb_stmt_bind_text(st, 1, p);
		if (!(rc = tb_stmt_step(st, &row)) && row)
			json_array_insert_new(path, 0,
					      json_pack("{s:s,s:s}", "code", tb_stmt_text(st, 0),
							"name", tb_stmt_text(st, 1)));
		tb_stmt_done(st);
		snprintf(c, sizeof(c), "%s", p);
	}
	json_object_set_new(o, "path", path);
	json_t *children = NULL;
	if (!rc && !(rc = tb_catalog_regions(db, code, &children, err))) {
		json_object_set(o, "children", json_object_get(children, "items"));
		json_decref(children);
	}
	if (rc) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return TB_OK;
}

tb_rc tb_catalog_departments(struct tb_db *db, const char *region, int page, int per_page,
			     json_t **out, struct tb_err *err)
{
	if (region && !tb_code_region_valid(region))
		return tb_fail(err, TB_EINVAL, "region", "'%s' is not a division code", region);
	struct tb_stmt *st;
	bool row;
	int64_t total = 0;
	tb_rc rc = tb_db_prepare(db,
				 region ? "SELECT count(*) FROM departments WHERE region = ?"
					: "SELECT count(*) FROM departments",
				 &st);
	if (rc)
		return rc;
	if (region)
		tb_stmt_bind_text(st, 1, region);
	if (!(rc = tb_stmt_step(st, &row)) && row)
		total = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	json_t *items = json_array();
	if (!rc &&
	    !(rc = tb_db_prepare(db,
				 region ? "SELECT uscc, name, region, address, phone, hours FROM "
					  "departments WHERE region = ? ORDER BY uscc LIMIT ? "
					  "OFFSET ?"
					: "SELECT uscc, name, region, address, phone, hours FROM "
					  "departments ORDER BY uscc LIMIT ? OFFSET ?",
				 &st))) {
		int i = 1;
		if (region)
			tb_stmt_bind_text(st, i++, region);
		tb_stmt_bind_int(st, i++, per_page);
		tb_stmt_bind_int(st, i++, (int64_t)(page - 1) * per_page);
		while (!(rc = tb_stmt_step(st, &row)) && row)
			json_array_append_new(
			    items,
			    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "uscc", tb_stmt_text(st, 0),
				      "name", tb_stmt_text(st, 1), "region", tb_stmt_text(st, 2),
				      "address", tb_stmt_text(st, 3), "phone", tb_stmt_text(st, 4),
				      "hours", tb_stmt_text(st, 5)));
		tb_stmt_done(st);
	}
	if (rc) {
		json_decref(items);
		return rc;
	}
	*out = page_json(items, total, page, per_page);
	return TB_OK;
}

tb_rc tb_catalog_topics(struct tb_db *db, const char *object, json_t **out, struct tb_err *err)
{
	if (object && strcmp(object, "person") && strcmp(object, "enterprise"))
		return tb_fail(err, TB_EINVAL, "object", "must be person or enterprise");
	struct tb_stmt *st;
	bool row;
	tb_rc rc = tb_db_prepare(
	    db,
	    object ? "SELECT t.code, t.name, t.object, t.ord, (SELECT count(*) FROM item_topics "
		     "x WHERE x.topic = t.code) FROM topics t WHERE t.object = ? ORDER BY t.ord, "
		     "t.code"
		   : "SELECT t.code, t.name, t.object, t.ord, (SELECT count(*) FROM item_topics "
		     "x WHERE x.topic = t.code) FROM topics t ORDER BY t.object DESC, t.ord, "
		     "t.code",
	    &st);
	if (rc)
		return rc;
	if (object)
		tb_stmt_bind_text(st, 1, object);
	json_t *items = json_array();
	while (!(rc = tb_stmt_step(st, &row)) && row)
		json_array_append_new(
		    items,
		    json_pack("{s:s,s:s,s:s,s:i,s:I}", "code", tb_stmt_text(st, 0), "name",
			      tb_stmt_text(st, 1), "object", tb_stmt_text(st, 2), "order",
			      (int)tb_stmt_int(st, 3), "count", (json_int_t)tb_stmt_int(st, 4)));
	tb_stmt_done(st);
	if (rc) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o}", "items", items);
	return TB_OK;
}

const char *tb_catalog_object_name(int code);
const char *tb_catalog_object_name(int code)
{
	static const char *names[] = {
	    "",		  "自然人",   "企业法人", "事业法人", "社会组织法人",
	    "非法人企业", "行政机关", "",	  "",	      "其他组织"};
	return code >= 0 && code <= 9 ? names[code] : "";
}
