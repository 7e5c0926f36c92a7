/* import.c: catalogue import (all or nothing), export and the benchmark generator. */
#include "catalog/catalog.h"
#include "base/buf.h"
#include "base/codes.h"
#include "base/jsonv.h"
#include "base/log.h"
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum kind { K_REGION, K_DEPARTMENT, K_TOPIC, K_ITEM, K_IMPL, K_COUNT };
static const char *const kind_keys[K_COUNT] = {"region", "department", "topic", "item",
					       "implementation"};
static const char *const doc_keys[K_COUNT] = {"regions", "departments", "topics", "items",
					      "implementations"};

struct importer {
	struct tb_db *db;
	FILE *errors;
	struct tb_import_report *rep;
	long reported;
};

static void report(struct importer *im, const char *where, const struct tb_err *e)
{
	im->rep->bad_rows++;
	if (im->reported++ < 1000)
		fprintf(im->errors, "%s: %s%s%s\n", where, e->field[0] ? e->field : "",
			e->field[0] ? ": " : "", e->msg);
	else if (im->reported == 1001)
		fprintf(im->errors, "(more bad rows not shown)\n");
}

static tb_rc put_row(struct importer *im, enum kind k, json_t *row, const char *where)
{
	struct tb_err e = {0};
	tb_rc rc;
	int version = 0;
	im->rep->rows++;
	if (!json_is_object(row)) {
		tb_fail(&e, TB_EINVAL, "", "a %s must be a JSON object", kind_keys[k]);
		report(im, where, &e);
		return TB_OK;
	}
	long before = 0;
	switch (k) {
	case K_REGION:
		rc = tb_catalog_put_region(im->db, row, &e);
		break;
	case K_DEPARTMENT:
		rc = tb_catalog_put_department(im->db, row, &e);
		break;
	case K_TOPIC:
		rc = tb_catalog_put_topic(im->db, row, &e);
		break;
	case K_ITEM:
		rc = tb_catalog_put_item(im->db, row, &e);
		break;
	default:
		before = version;
		rc = tb_catalog_put_impl(im->db, row, "import", 0, &version, &e);
		(void)before;
		break;
	}
	if (rc == TB_EINVAL || rc == TB_ECONFLICT || rc == TB_ENOTFOUND) {
		report(im, where, &e);
		return TB_OK;
	}
	if (rc)
		return rc;
	long *counts[K_COUNT] = {&im->rep->regions, &im->rep->departments, &im->rep->topics,
				 &im->rep->items, &im->rep->implementations};
	(*counts[k])++;
	return TB_OK;
}

static void progress_bar(long done, long total)
{
	int width = 40, fill = total ? (int)((double)done / (double)total * width) : width;
	fprintf(stderr, "\r导入 [");
	for (int i = 0; i < width; i++)
		fputc(i < fill ? '#' : '.', stderr);
	fprintf(stderr, "] %3d%%", total ? (int)(100.0 * (double)done / (double)total) : 100);
	fflush(stderr);
}

/* A JSON document: {"format":..., "regions":[...], ...}. Rows are named by pointer. */
static tb_rc import_document(struct importer *im, json_t *doc, bool progress)
{
	static const char *const top[] = {"format", "regions",	       "departments", "topics",
					  "items",  "implementations", NULL};
	const char *key;
	json_t *v;
	json_object_foreach(doc, key, v)
	{
		bool ok = false;
		for (const char *const *t = top; *t; t++)
			ok |= !strcmp(*t, key);
		if (!ok) {
			struct tb_err e;
			tb_fail(&e, TB_EINVAL, key, "unknown top-level field '%s'", key);
			report(im, "/", &e);
		}
	}
	long total = 0, done = 0;
	for (int k = 0; k < K_COUNT; k++)
		total += (long)json_array_size(json_object_get(doc, doc_keys[k]));
	for (int k = 0; k < K_COUNT; k++) {
		json_t *arr = json_object_get(doc, doc_keys[k]);
		if (!arr)
			continue;
		if (!json_is_array(arr)) {
			struct tb_err e;
			tb_fail(&e, TB_EINVAL, doc_keys[k], "must be an array");
			report(im, "/", &e);
			continue;
		}
		size_t i;
		json_t *row;
		json_array_foreach(arr, i, row)
		{
			char where[64];
			snprintf(where, sizeof(where), "/%s/%zu", doc_keys[k], i);
			tb_rc rc = put_row(im, (enum kind)k, row, where);
			if (rc)
				return rc;
			if (progress && (++done % 500 == 0 || done == total))
				progress_bar(done, total);
		}
	}
	return TB_OK;
}

/* JSON Lines: the first line {"format":"tongban-catalog/1"}, then one
 * {"<kind>": {...}} per line. Rows are named by line number. */
static tb_rc import_lines(struct importer *im, FILE *f, long size, bool progress)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	bool header = false;
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		char where[32];
		snprintf(where, sizeof(where), "line %ld", lineno);
		if (n == 1 && line[0] == '\n')
			continue;
		json_error_t je;
		json_t *v = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES, &je);
		struct tb_err e = {0};
		if (!v || !json_is_object(v) || json_object_size(v) != 1) {
			tb_fail(&e, TB_EINVAL, "",
				v ? "a line must be an object with one key" : "invalid JSON: %s",
				je.text);
			im->rep->rows++;
			report(im, where, &e);
			json_decref(v);
			continue;
		}
		const char *key = json_object_iter_key(json_object_iter(v));
		json_t *row = json_object_iter_value(json_object_iter(v));
		if (!strcmp(key, "format")) {
			if (!json_is_string(row) ||
			    strcmp(json_string_value(row), "tongban-catalog/1")) {
				tb_fail(&e, TB_EINVAL, "format", "only tongban-catalog/1 is known");
				report(im, where, &e);
			}
			header = true;
			json_decref(v);
			continue;
		}
		int k = 0;
		while (k < K_COUNT && strcmp(kind_keys[k], key))
			k++;
		if (k == K_COUNT) {
			tb_fail(&e, TB_EINVAL, key, "unknown row kind '%s'", key);
			im->rep->rows++;
			report(im, where, &e);
		} else {
			tb_rc rc = put_row(im, (enum kind)k, row, where);
			if (rc) {
				json_decref(v);
				free(line);
				return rc;
			}
		}
		json_decref(v);
		if (progress && lineno % 500 == 0)
			progress_bar(ftell(f), size);
	}
	free(line);
	if (progress)
		progress_bar(size, size);
	if (!header) {
		struct tb_err e;
		tb_fail(&e, TB_EINVAL, "format",
			"the first line must be {\"format\":\"tongban-catalog/1\"}");
		report(im, "line 1", &e);
	}
	return TB_OK;
}

tb_rc tb_catalog_import(struct tb_store *store, const char *path, FILE *errors, bool progress,
			struct tb_import_report *rep, struct tb_err *err)
{
	memset(rep, 0, sizeof(*rep));
	FILE *f = fopen(path, "r");
	if (!f)
		return tb_fail(err, TB_EIO, "file", "cannot open %s: %s", path, strerror(errno));
	struct stat sb;
	long size = fstat(fileno(f), &sb) ? 0 : (long)sb.st_size;
	/* A document starts with '{' and its first key is on the first line only when
	 * it is a JSON Lines file; read the first line to tell. */
	int c;
	while ((c = fgetc(f)) == ' ' || c == '\n' || c == '\r' || c == '\t')
		;
	ungetc(c, f);
	char first[256] = "";
	long start = ftell(f);
	if (!fgets(first, sizeof(first), f))
		first[0] = 0;
	fseek(f, start, SEEK_SET);
	bool lines = !strncmp(first, "{\"format\"", 9) && strchr(first, '}') &&
		     !strstr(first, "\"regions\"");
	struct tb_db *db = tb_store_db(store, err);
	if (!db) {
		fclose(f);
		return TB_EUNAVAIL;
	}
	struct importer im = {db, errors, rep, 0};
	tb_rc rc = tb_db_begin(db, true);
	if (rc) {
		fclose(f);
		return tb_fail(err, rc, "db", "cannot lock the database");
	}
	if (lines) {
		rc = import_lines(&im, f, size, progress);
	} else {
		json_error_t je;
		json_t *doc = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
		if (!doc || !json_is_object(doc)) {
			struct tb_err e;
			tb_fail(&e, TB_EINVAL, "", "invalid JSON: %s",
				doc ? "not an object" : je.text);
			char where[64];
			snprintf(where, sizeof(where), "line %d, column %d", je.line, je.column);
			rep->rows++;
			report(&im, where, &e);
		} else {
			json_t *fmt = json_object_get(doc, "format");
			if (!json_is_string(fmt) ||
			    strcmp(json_string_value(fmt), "tongban-catalog/1")) {
				struct tb_err e;
				tb_fail(&e, TB_EINVAL, "format", "must be \"tongban-catalog/1\"");
				report(&im, "/format", &e);
			}
			rc = import_document(&im, doc, progress);
		}
		json_decref(doc);
	}
	if (progress)
		fputc('\n', stderr);
	fclose(f);
	if (rc) {
		tb_db_rollback(db);
		return tb_fail(err, rc, "", "import failed: %s", tb_rc_str(rc));
	}
	if (rep->bad_rows) {
		tb_db_rollback(db);
		return tb_fail(err, TB_EINVAL, "", "%ld bad rows: nothing was imported",
			       rep->bad_rows);
	}
	if ((rc = tb_db_commit(db)))
		return tb_fail(err, rc, "", "commit failed");
	return TB_OK;
}

/* ---- export ---- */

static tb_rc export_query(struct tb_db *db, FILE *out, const char *sql,
			  json_t *(*row)(struct tb_stmt *), const char *kind)
{
	struct tb_stmt *st;
	bool r;
	tb_rc rc = tb_db_prepare(db, sql, &st);
	if (rc)
		return rc;
	while (!(rc = tb_stmt_step(st, &r)) && r) {
		json_t *o = json_pack("{s:o}", kind, row(st));
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		if (!s) {
			rc = TB_ENOMEM;
			break;
		}
		fputs(s, out);
		fputc('\n', out);
		free(s);
	}
	tb_stmt_done(st);
	return rc;
}

static json_t *region_row(struct tb_stmt *st)
{
	json_t *o =
	    json_pack("{s:s,s:s}", "code", tb_stmt_text(st, 0), "name", tb_stmt_text(st, 1));
	if (!tb_stmt_null(st, 2))
		json_object_set_new(o, "parent", json_string(tb_stmt_text(st, 2)));
	return o;
}

static json_t *dept_row(struct tb_stmt *st)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "uscc", tb_stmt_text(st, 0), "name",
			 tb_stmt_text(st, 1), "region", tb_stmt_text(st, 2), "address",
			 tb_stmt_text(st, 3), "phone", tb_stmt_text(st, 4), "hours",
			 tb_stmt_text(st, 5));
}

static json_t *topic_row(struct tb_stmt *st)
{
	return json_pack("{s:s,s:s,s:s,s:I}", "code", tb_stmt_text(st, 0), "name",
			 tb_stmt_text(st, 1), "object", tb_stmt_text(st, 2), "order",
			 (json_int_t)tb_stmt_int(st, 3));
}

static json_t *item_row(struct tb_stmt *st)
{
	json_t *objs = json_array();
	for (int b = 1; b <= 9; b++)
		if (tb_stmt_int(st, 3) & (1 << b)) {
			char k[2] = {(char)('0' + b), 0};
			json_array_append_new(objs, json_string(k));
		}
	return json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:I}", "catalog_code", tb_stmt_text(st, 0),
			 "name", tb_stmt_text(st, 1), "item_type", tb_stmt_text(st, 2),
			 "service_objects", objs, "topics", tb_jv_split(tb_stmt_text(st, 4), ','),
			 "keywords", tb_jv_split(tb_stmt_text(st, 5), ' '), "popularity",
			 (json_int_t)tb_stmt_int(st, 6));
}

static json_t *impl_row(struct tb_stmt *st)
{
	json_t *g = json_loads(tb_stmt_text(st, 5), 0, NULL);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "impl_code", tb_stmt_text(st, 0),
			 "catalog_code", tb_stmt_text(st, 1), "department", tb_stmt_text(st, 2),
			 "level", tb_stmt_text(st, 3), "region", tb_stmt_text(st, 4), "guide",
			 g ? g : json_object());
}

tb_rc tb_catalog_export(struct tb_store *store, FILE *out, struct tb_err *err)
{
	struct tb_db *db = tb_store_db(store, err);
	if (!db)
		return TB_EUNAVAIL;
	tb_rc rc = tb_db_begin(db, false); /* one consistent snapshot */
	if (rc)
		return rc;
	fputs("{\"format\":\"tongban-catalog/1\"}\n", out);
	if (!rc)
		rc = export_query(
		    db, out, "SELECT code, name, parent FROM regions ORDER BY length(code), code",
		    region_row, "region");
	if (!rc)
		rc = export_query(
		    db, out,
		    "SELECT uscc, name, region, address, phone, hours FROM departments "
		    "ORDER BY uscc",
		    dept_row, "department");
	if (!rc)
		rc = export_query(db, out,
				  "SELECT code, name, object, ord FROM topics ORDER BY code",
				  topic_row, "topic");
	if (!rc)
		rc = export_query(db, out,
				  "SELECT catalog_code, name, item_type, service_objects, topics, "
				  "keywords, popularity FROM items ORDER BY catalog_code",
				  item_row, "item");
	if (!rc)
		rc = export_query(
		    db, out,
		    "SELECT c.impl_code, c.catalog_code, c.department, c.level, c.region, "
		    "g.guide FROM implementations c JOIN guide_versions g ON g.impl_id = "
		    "c.id AND g.version = c.version ORDER BY c.id",
		    impl_row, "implementation");
	tb_db_rollback(db);
	return rc ? tb_fail(err, rc, "", "export failed") : TB_OK;
}

/* ---- generator ---- */

static void put_line(FILE *out, const char *kind, json_t *row)
{
	json_t *o = json_pack("{s:O}", kind, row);
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s) {
		fputs(s, out);
		fputc('\n', out);
		free(s);
	}
}

/* A department USCC for (region, kind): 11 + 6-digit division + 8 digits + GB 11714
 * check + GB 32100 check, so that every generated code is valid. */
static void make_uscc(const char *region, unsigned kind, char out[19])
{
	char area[7] = "000000";
	size_t rl = strlen(region);
	memcpy(area, region, rl < 6 ? rl : 6);
	/* unique per (region, kind): the town digits below the county, then the kind */
	char org[9];
	const char *town = strlen(region) >= 9 ? region + 6 : "000";
	snprintf(org, sizeof(org), "%.3s%03u%02u", town, kind % 1000, (unsigned)strlen(region));
	static const int w[8] = {3, 7, 9, 10, 5, 8, 4, 2};
	int sum = 0;
	for (int i = 0; i < 8; i++)
		sum += (org[i] - '0') * w[i];
	int c = 11 - sum % 11;
	char oc = c == 10 ? 'X' : c == 11 ? '0' : (char)('0' + c);
	char s17[18];
	snprintf(s17, sizeof(s17), "11%s%s%c", area, org, oc);
	snprintf(out, 19, "%s%c", s17, tb_code_uscc_check(s17));
}

tb_rc tb_catalog_generate(const char *seed_path, long n, FILE *out, struct tb_err *err)
{
	json_error_t je;
	json_t *seed = json_load_file(seed_path, JSON_REJECT_DUPLICATES, &je);
	if (!seed)
		return tb_fail(err, TB_EIO, "seed", "cannot read %s: %s (line %d)", seed_path,
			       je.text, je.line);
	json_t *regions = json_object_get(seed, "regions"), *items = json_object_get(seed, "items"),
	       *impls = json_object_get(seed, "implementations"),
	       *depts = json_object_get(seed, "departments");
	if (!json_array_size(regions) || !json_array_size(items) || !json_array_size(impls)) {
		json_decref(seed);
		return tb_fail(err, TB_EINVAL, "seed",
			       "the seed needs regions, items and implementations");
	}
	/* one guide template per item: its first implementation in the seed */
	json_t *tmpl = json_object(), *dept_names = json_object(), *v;
	size_t i;
	json_array_foreach(depts, i, v) json_object_set(
	    dept_names, json_string_value(json_object_get(v, "uscc")), json_object_get(v, "name"));
	json_array_foreach(impls, i, v)
	{
		const char *cc = json_string_value(json_object_get(v, "catalog_code"));
		if (cc && !json_object_get(tmpl, cc))
			json_object_set(tmpl, cc, v);
	}
	/* regions below the province where implementations can live */
	json_t *places = json_array();
	json_array_foreach(regions, i, v)
	{
		const char *code = json_string_value(json_object_get(v, "code"));
		size_t l = code ? strlen(code) : 0;
		if (code && !strncmp(code, "44", 2) && (l == 4 || l == 6 || l == 9))
			json_array_append(places, v);
	}
	fputs("{\"format\":\"tongban-catalog/1\"}\n", out);
	json_array_foreach(regions, i, v) put_line(out, "region", v);
	json_t *topics = json_object_get(seed, "topics");
	json_array_foreach(topics, i, v) put_line(out, "topic", v);
	json_array_foreach(items, i, v) put_line(out, "item", v);
	size_t nplaces = json_array_size(places), nitems = json_array_size(items);
	long total = 0;
	json_t *seen = json_object();
	/* departments first (they must precede what refers to them), then the rows */
	for (int pass = 0; pass < 2; pass++) {
		long count = 0;
		for (size_t p = 0; p < nplaces && count < n; p++) {
			json_t *place = json_array_get(places, p);
			const char *code = json_string_value(json_object_get(place, "code"));
			const char *pname = json_string_value(json_object_get(place, "name"));
			size_t l = strlen(code);
			const char *level = l == 4 ? "3" : l == 6 ? "4" : "5";
			for (size_t k = 0; k < nitems && count < n; k++, count++) {
				json_t *item = json_array_get(items, k);
				const char *cc =
				    json_string_value(json_object_get(item, "catalog_code"));
				json_t *t = json_object_get(tmpl, cc);
				if (!t)
					continue;
				const char *src =
				    json_string_value(json_object_get(t, "department"));
				unsigned kind = 0;
				for (const char *q = src; q && *q; q++)
					kind = kind * 33 + (unsigned)*q;
				kind %= 1000;
				char uscc[19];
				make_uscc(code, kind, uscc);
				if (pass == 0) {
					if (json_object_get(seen, uscc))
						continue;
					json_object_set_new(seen, uscc, json_true());
					const char *sname =
					    json_string_value(json_object_get(dept_names, src));
					char name[400];
					snprintf(name, sizeof(name), "%s·%s", pname,
						 sname ? sname : "政务服务部门");
					json_t *d = json_pack("{s:s,s:s,s:s}", "uscc", uscc, "name",
							      name, "region", code);
					put_line(out, "department", d);
					json_decref(d);
					continue;
				}
				char impl[40];
				snprintf(impl, sizeof(impl), "%s%s%s", uscc, level, cc);
				json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:s,s:O}", "impl_code",
							impl, "catalog_code", cc, "department",
							uscc, "level", level, "region", code,
							"guide", json_object_get(t, "guide"));
				put_line(out, "implementation", row);
				json_decref(row);
				total++;
			}
		}
	}
	json_decref(seen);
	json_decref(places);
	json_decref(tmpl);
	json_decref(dept_names);
	json_decref(seed);
	if (total < n)
		tb_log(TB_LOG_WARN, "gen", "the seed gives only %ld implementations", total);
	return TB_OK;
}
