/* read.c: lists, guides, regions and the 一网通查 search. */
#include "catalog/catalog.h"
#include "base/buf.h"
#include "base/codes.h"
#include "base/jsonv.h"
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
	json_object_set_new(o, "topics", tb_jv_split(tb_stmt_text(st, 21), ','));
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

/* ---- search ----
 *
 * Relevance lives at the level of service items: item_fts holds one document per
 * item (name, aliases, the guide text its implementations share), so BM25 ranks a few
 * hundred documents, not the hundreds of thousands of implementations that repeat that
 * text county by county. The implementations of the ranked items are then listed in
 * rank order (within an item: province first, then by region), counted per item.
 * A query word that no item has (a department's or place's name, an implementation
 * code) is looked up in impl_fts, which holds what is particular to each
 * implementation. docs/search.md. */

enum { MAX_RANKED = 1000, MAX_CANDIDATES = 5000 };

struct ranked {
	char code[16];
	char *snippet;
	int64_t count;
};

struct cand {
	int64_t id;
	int rank; /* index into the ranked items, or MAX_RANKED + impl order */
	char code[16], region[16], dept[24];
};

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
			json_t *x = json_array_get(arr, j - 1), *y = json_array_get(arr, j);
			if (json_integer_value(json_object_get(x, "count")) >=
			    json_integer_value(json_object_get(y, "count")))
				break;
			json_incref(x);
			json_array_set(arr, j - 1, y);
			json_array_set_new(arr, j, x);
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

/* Give the entries of a sorted facet their names. */
static tb_rc name_facet(struct tb_db *db, json_t *arr, const char *sql)
{
	size_t i;
	json_t *v;
	char name[256];
	json_array_foreach(arr, i, v)
	{
		const char *key = json_string_value(json_object_get(v, "code"));
		if (!key)
			key = json_string_value(json_object_get(v, "uscc"));
		tb_rc rc = name_of(db, sql, key, name, sizeof(name));
		if (rc)
			return rc;
		json_object_set_new(v, "name", json_string(name));
	}
	return TB_OK;
}

const char *tb_catalog_object_name(int code);

/* Item-level facets (type, service objects, topics) of one item, weighted by n. */
static tb_rc item_facets(struct tb_db *db, const char *code, int64_t n, json_t *types, json_t *objs,
			 json_t *topics)
{
	struct tb_stmt *st;
	bool row;
	tb_rc rc = tb_db_prepare(
	    db, "SELECT item_type, service_objects, topics FROM items WHERE catalog_code = ?", &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, code);
	if (!(rc = tb_stmt_step(st, &row)) && row) {
		const char *t = tb_stmt_text(st, 0);
		add_count(types, "code", t, tb_catalog_item_type_name(t), n);
		int64_t mask = tb_stmt_int(st, 1);
		for (int b = 1; b <= 9; b++)
			if (mask & (1 << b)) {
				char k[2] = {(char)('0' + b), 0};
				add_count(objs, "code", k, tb_catalog_object_name(b), n);
			}
		char *csv = strdup(tb_stmt_text(st, 2)), *save = NULL;
		for (char *tp = csv ? strtok_r(csv, ",", &save) : NULL; tp;
		     tp = strtok_r(NULL, ",", &save))
			add_count(topics, "code", tp, NULL, n);
		free(csv);
	}
	tb_stmt_done(st);
	return rc;
}

static void bind_item_filter(struct tb_stmt *st, const char *code, const struct filter_sql *fs,
			     int *next)
{
	tb_stmt_bind_text(st, 1, code);
	for (size_t i = 0; i < fs->n; i++)
		tb_stmt_bind_text(st, (int)i + 2, fs->params[i]);
	*next = (int)fs->n + 2;
}

static tb_rc count_in_item(struct tb_db *db, const char *code, const struct filter_sql *fs,
			   int64_t *n)
{
	char sql[8192];
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM implementations c WHERE c.catalog_code = ? AND (%s)",
		 fs->sql.data);
	struct tb_stmt *st;
	bool row;
	int next;
	tb_rc rc = tb_db_prepare(db, sql, &st);
	if (rc)
		return rc;
	bind_item_filter(st, code, fs, &next);
	*n = 0;
	if (!(rc = tb_stmt_step(st, &row)) && row)
		*n = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	return rc;
}

/* Ids of an item's implementations that pass the filter: province first, then by region. */
static tb_rc ids_in_item(struct tb_db *db, const char *code, const struct filter_sql *fs,
			 int64_t limit, int64_t offset, int64_t *ids, size_t *n)
{
	char sql[8192];
	snprintf(sql, sizeof(sql),
		 "SELECT c.id FROM implementations c WHERE c.catalog_code = ? AND (%s) "
		 "ORDER BY c.region, c.id LIMIT ? OFFSET ?",
		 fs->sql.data);
	struct tb_stmt *st;
	bool row;
	int next;
	tb_rc rc = tb_db_prepare(db, sql, &st);
	if (rc)
		return rc;
	bind_item_filter(st, code, fs, &next);
	tb_stmt_bind_int(st, next, limit);
	tb_stmt_bind_int(st, next + 1, offset);
	while (!(rc = tb_stmt_step(st, &row)) && row)
		ids[(*n)++] = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	return rc;
}

/* City and department facets of one item's implementations (each counted once, or
 * the item counted once per city/department when grouping). */
static tb_rc place_facets(struct tb_db *db, const char *code, const struct filter_sql *fs,
			  bool group, json_t *city, json_t *dept)
{
	static const char *exprs[2] = {"substr(c.region, 1, 4)", "c.department"};
	json_t *targets[2] = {city, dept};
	tb_rc rc = TB_OK;
	for (int k = 0; k < 2 && !rc; k++) {
		char sql[8192];
		snprintf(sql, sizeof(sql),
			 "SELECT %s, count(*) FROM implementations c WHERE c.catalog_code = ? AND "
			 "(%s) GROUP BY 1",
			 exprs[k], fs->sql.data);
		struct tb_stmt *st;
		bool row;
		int next;
		if ((rc = tb_db_prepare(db, sql, &st)))
			break;
		bind_item_filter(st, code, fs, &next);
		while (!(rc = tb_stmt_step(st, &row)) && row)
			add_count(targets[k], k ? "uscc" : "code", tb_stmt_text(st, 0), NULL,
				  group ? 1 : tb_stmt_int(st, 1));
		tb_stmt_done(st);
	}
	return rc;
}

static tb_rc finish_facets(struct tb_db *db, json_t *city, json_t *dept, json_t *types,
			   json_t *objs, json_t *topics, json_t **out)
{
	json_t *f = json_object();
	json_t *c = to_sorted(city, 50), *d = to_sorted(dept, 20), *t = to_sorted(topics, 30);
	tb_rc rc = name_facet(db, c, "SELECT name FROM regions WHERE code = ?");
	if (!rc)
		rc = name_facet(db, d, "SELECT name FROM departments WHERE uscc = ?");
	if (!rc)
		rc = name_facet(db, t, "SELECT name FROM topics WHERE code = ?");
	json_object_set_new(f, "city", c);
	json_object_set_new(f, "department", d);
	json_object_set_new(f, "item_type", to_sorted(types, 20));
	json_object_set_new(f, "service_object", to_sorted(objs, 10));
	json_object_set_new(f, "topic", t);
	if (rc) {
		json_decref(f);
		return rc;
	}
	*out = f;
	return TB_OK;
}

static bool any_filter(const struct tb_catalog_filter *f)
{
	return f->region || f->department || f->item_type || f->topic || f->case_type ||
	       f->service_object || f->zero_visit || f->fully_online;
}

/* One result row: the summary, its own name marked, the snippet given. */
static tb_rc result_row(struct tb_db *db, int64_t id, const struct tb_text_term *terms,
			size_t nterms, const char *snippet, int64_t group_count, json_t *items)
{
	json_t *s;
	tb_rc rc = summary_by_id(db, id, &s);
	if (rc || !s)
		return rc;
	char *hl = tb_text_mark(json_string_value(json_object_get(s, "name")), terms, nterms);
	json_object_set_new(s, "highlight", json_string(hl ? hl : ""));
	free(hl);
	if (group_count)
		json_object_set_new(s, "implementations", json_integer(group_count));
	if (!snippet) { /* matched through its department or place: show them marked */
		char place[512];
		snprintf(
		    place, sizeof(place), "%s %s",
		    json_string_value(json_object_get(json_object_get(s, "department"), "name")),
		    json_string_value(json_object_get(json_object_get(s, "region"), "name")));
		char *m = tb_text_mark(place, terms, nterms);
		json_object_set_new(s, "snippet", json_string(m ? m : ""));
		free(m);
	} else {
		json_object_set_new(s, "snippet", json_string(snippet));
	}
	json_array_append_new(items, s);
	return TB_OK;
}

static int by_rank(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	return x->rank != y->rank ? (x->rank < y->rank ? -1 : 1)
				  : (x->id < y->id ? -1 : x->id > y->id);
}

tb_rc tb_catalog_search(struct tb_db *db, const char *q, const struct tb_catalog_filter *f,
			int page, int per_page, const struct tb_search_opts *opts, json_t **out,
			struct tb_err *err)
{
	bool facets = opts && opts->facets, group = opts && opts->group_items;
	if (!q || !*q)
		return tb_fail(err, TB_EINVAL, "q", "the query is empty");
	if (strlen(q) > 300 || !tb_utf8_valid(q, strlen(q)))
		return tb_fail(err, TB_EINVAL, "q",
			       "the query must be UTF-8 text of at most 100 characters");
	tb_rc rc = check_filter(f, err);
	if (rc)
		return rc;
	struct tb_text_term terms[16], item_terms[16], impl_terms[16];
	size_t nterms = tb_text_query_terms(q, terms, 16), ni = 0, nm = 0;
	if (nterms == 0) {
		*out = page_json(json_array(), 0, page, per_page);
		if (facets)
			json_object_set_new(*out, "facets", json_object());
		return TB_OK;
	}
	static const double item_weights[] = {10.0, 4.0, 1.0, 4.0};
	static const double impl_weights[] = {10.0, 2.0, 4.0};
	/* 1. the words some item has, and the others */
	for (size_t i = 0; i < nterms && !rc; i++) {
		struct tb_fts_query one = {.index = "item_fts",
					   .content = "items",
					   .terms = &terms[i],
					   .nterms = 1,
					   .weights = item_weights,
					   .nweights = 4,
					   .highlight_field = -1,
					   .limit = 0};
		int64_t n = 0;
		size_t nh = 0;
		rc = tb_db_fts_search(db, &one, NULL, &nh, &n);
		if (n > 0)
			item_terms[ni++] = terms[i];
		else
			impl_terms[nm++] = terms[i];
	}
	/* 2. rank the items that have all those words */
	struct ranked *ranked = calloc(MAX_RANKED, sizeof(*ranked));
	struct tb_fts_hit *hits = calloc(MAX_RANKED, sizeof(*hits));
	struct cand *cands = NULL;
	size_t nr = 0, nhits = 0, nc = 0;
	int64_t total = 0;
	json_t *items = json_array(), *fj = NULL;
	struct filter_sql fs;
	memset(&fs, 0, sizeof(fs));
	if (!ranked || !hits) {
		rc = TB_ENOMEM;
		goto out;
	}
	if (!rc && ni) {
		struct tb_fts_query iq = {.index = "item_fts",
					  .content = "items",
					  .terms = item_terms,
					  .nterms = ni,
					  .weights = item_weights,
					  .nweights = 4,
					  .highlight_field = -1,
					  .snippet_fields = {2, 1}, /* guide text, else the alias */
					  .nsnippet = 2,
					  .limit = MAX_RANKED};
		rc = tb_db_fts_search(db, &iq, hits, &nhits, NULL);
		for (size_t i = 0; !rc && i < nhits; i++) {
			struct tb_stmt *st;
			bool row;
			if ((rc = tb_db_prepare(
				 db, "SELECT catalog_code, impl_count FROM items WHERE id = ?",
				 &st)))
				break;
			tb_stmt_bind_int(st, 1, hits[i].id);
			if (!(rc = tb_stmt_step(st, &row)) && row) {
				snprintf(ranked[nr].code, sizeof(ranked[nr].code), "%s",
					 tb_stmt_text(st, 0));
				ranked[nr].count = tb_stmt_int(st, 1);
				ranked[nr].snippet = hits[i].snippet;
				nr++;
			}
			tb_stmt_done(st);
		}
	}
	if (rc || (rc = build_filter(f, &fs)))
		goto out;
	int64_t offset = (int64_t)(page - 1) * per_page;
	json_t *city = json_object(), *dept = json_object(), *types = json_object(),
	       *objs = json_object(), *topics = json_object();
	if (nm == 0) {
		/* 3a. every word is an item's: list the ranked items' implementations */
		bool filtered = any_filter(f);
		for (size_t i = 0; !rc && i < nr; i++) {
			if (filtered)
				rc = count_in_item(db, ranked[i].code, &fs, &ranked[i].count);
			total += group ? ranked[i].count > 0 : ranked[i].count;
			if (!rc && facets && ranked[i].count > 0) {
				rc = place_facets(db, ranked[i].code, &fs, group, city, dept);
				if (!rc)
					rc = item_facets(db, ranked[i].code,
							 group ? 1 : ranked[i].count, types, objs,
							 topics);
			}
		}
		int64_t skip = offset, need = per_page;
		for (size_t i = 0; !rc && i < nr && need > 0; i++) {
			int64_t count = group ? ranked[i].count > 0 : ranked[i].count;
			if (count == 0)
				continue;
			if (skip >= count) {
				skip -= count;
				continue;
			}
			int64_t take = count - skip < need ? count - skip : need, ids[100];
			size_t n = 0;
			rc = ids_in_item(db, ranked[i].code, &fs, take, skip, ids, &n);
			for (size_t k = 0; !rc && k < n; k++)
				rc = result_row(db, ids[k], terms, nterms,
						ranked[i].snippet ? ranked[i].snippet : "",
						group ? ranked[i].count : 0, items);
			skip = 0;
			need -= take;
		}
	} else {
		/* 3b. some word is nobody's item's: the implementations that have those
		 * words themselves, among the ranked items when there are any */
		struct tb_fts_query mq = {.index = "impl_fts",
					  .content = "implementations",
					  .terms = impl_terms,
					  .nterms = nm,
					  .filter = fs.sql.data,
					  .params = fs.params,
					  .nparams = fs.n,
					  .weights = impl_weights,
					  .nweights = 3,
					  .highlight_field = -1,
					  .limit = MAX_CANDIDATES};
		struct tb_fts_hit *mh = calloc(MAX_CANDIDATES, sizeof(*mh));
		cands = calloc(MAX_CANDIDATES, sizeof(*cands));
		size_t nmh = 0;
		rc = mh && cands ? tb_db_fts_search(db, &mq, mh, &nmh, NULL) : TB_ENOMEM;
		for (size_t i = 0; !rc && i < nmh; i++) {
			struct tb_stmt *st;
			bool row;
			if ((rc = tb_db_prepare(db,
						"SELECT catalog_code, region, department FROM "
						"implementations WHERE id = ?",
						&st)))
				break;
			tb_stmt_bind_int(st, 1, mh[i].id);
			if (!(rc = tb_stmt_step(st, &row)) && row) {
				struct cand *c = &cands[nc];
				c->id = mh[i].id;
				snprintf(c->code, sizeof(c->code), "%s", tb_stmt_text(st, 0));
				snprintf(c->region, sizeof(c->region), "%s", tb_stmt_text(st, 1));
				snprintf(c->dept, sizeof(c->dept), "%s", tb_stmt_text(st, 2));
				c->rank = MAX_RANKED + (int)i;
				for (size_t k = 0; k < nr; k++)
					if (!strcmp(ranked[k].code, c->code)) {
						c->rank = (int)k;
						break;
					}
				if (!ni || c->rank < MAX_RANKED)
					nc++;
			}
			tb_stmt_done(st);
		}
		tb_fts_hits_release(mh, nmh);
		free(mh);
		if (ni) /* item order, then the implementation's own rank */
			qsort(cands, nc, sizeof(*cands), by_rank);
		/* groups: the first candidate of each item, with how many there are */
		int64_t kept = 0;
		for (size_t i = 0; !rc && i < nc; i++) {
			bool first = true;
			int64_t same = 0;
			for (size_t k = 0; k < nc; k++)
				if (!strcmp(cands[k].code, cands[i].code)) {
					same++;
					if (k < i)
						first = false;
				}
			if (group && !first)
				continue;
			if (facets) {
				add_count(city, "code",
					  (char[5]){cands[i].region[0], cands[i].region[1],
						    cands[i].region[2] ? cands[i].region[2] : 0,
						    cands[i].region[2] ? cands[i].region[3] : 0, 0},
					  NULL, 1);
				add_count(dept, "uscc", cands[i].dept, NULL, 1);
				rc = item_facets(db, cands[i].code, 1, types, objs, topics);
			}
			if (!rc && kept >= offset && kept < offset + per_page) {
				const char *snip = NULL;
				if (cands[i].rank < MAX_RANKED)
					snip = ranked[cands[i].rank].snippet;
				rc = result_row(db, cands[i].id, terms, nterms, snip,
						group ? same : 0, items);
			}
			kept++;
		}
		total = kept;
	}
	if (!rc && facets)
		rc = finish_facets(db, city, dept, types, objs, topics, &fj);
	else {
		json_decref(city);
		json_decref(dept);
		json_decref(types);
		json_decref(objs);
		json_decref(topics);
	}
out:
	tb_buf_release(&fs.sql);
	if (hits)
		tb_fts_hits_release(hits, nhits);
	free(hits);
	free(ranked);
	free(cands);
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
	static const double weights[] = {10.0, 4.0, 0.2, 2.0};
	struct tb_fts_query fq = {
	    .index = "item_fts",
	    .content = "items",
	    .terms = terms,
	    .nterms = nterms,
	    .columns = "name keywords",
	    .weights = weights,
	    .nweights = 4,
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
		json_object_set_new(o, "topics", tb_jv_split(tb_stmt_text(st, 4), ','));
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
