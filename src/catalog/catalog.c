/* catalog.c: writing and reading regions, departments, topics, items and
 * implementations with their versioned guides. */
#include "catalog/catalog.h"
#include "catalog/form.h"
#include "base/buf.h"
#include "base/codes.h"
#include "base/jsonv.h"
#include "base/log.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const item_types[] = {"01", "02", "03", "04", "05", "06",
					 "07", "08", "09", "10", "20", NULL};
static const char *const item_type_names[] = {"行政许可", "行政处罚",	  "行政强制", "行政征收",
					      "行政给付", "行政检查",	  "行政确认", "行政奖励",
					      "行政裁决", "其他行政权力", "公共服务", NULL};
static const char *const levels[] = {"1", "2", "3", "4", "5", "6", NULL};
static const char *const level_names[] = {"国家级",	    "省级",	  "市级", "县级",
					  "镇(乡、街道)级", "村(社区)级", NULL};
/* Service objects as bits of a mask: bit n for code n. */
static const char *const objects[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", NULL};

const char *tb_catalog_item_type_name(const char *code)
{
	for (int i = 0; code && item_types[i]; i++)
		if (!strcmp(item_types[i], code))
			return item_type_names[i];
	return NULL;
}

const char *tb_catalog_level_name(const char *code)
{
	for (int i = 0; code && levels[i]; i++)
		if (!strcmp(levels[i], code))
			return level_names[i];
	return NULL;
}

static void now(char ts[32])
{
	tb_time_rfc3339(ts);
}

static tb_rc exists(struct tb_db *db, const char *sql, const char *key, bool *found)
{
	struct tb_stmt *st;
	tb_rc rc = tb_db_prepare(db, sql, &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, key);
	rc = tb_stmt_step(st, found);
	tb_stmt_done(st);
	return rc;
}

/* ---- writes ---- */

tb_rc tb_catalog_put_region(struct tb_db *db, json_t *row, struct tb_err *err)
{
	static const char *const fields[] = {"code", "name", "parent", NULL};
	const char *code, *name, *parent;
	if (!tb_jv_known_fields(row, "", fields, err) ||
	    !tb_jv_str(row, "", "code", true, 12, &code, err) ||
	    !tb_jv_str(row, "", "name", true, 100, &name, err) ||
	    !tb_jv_str(row, "", "parent", false, 12, &parent, err))
		return TB_EINVAL;
	if (!tb_code_region_valid(code))
		return tb_fail(err, TB_EINVAL, "code",
			       "'%s' is not a division code (2, 4, 6, 9 or 12 digits)", code);
	char expect[16];
	bool has_parent = tb_code_region_parent(code, expect);
	if (has_parent && (!parent || strcmp(parent, expect)))
		return tb_fail(err, TB_EINVAL, "parent", "the parent of %s must be %s", code,
			       expect);
	if (!has_parent && parent)
		return tb_fail(err, TB_EINVAL, "parent", "a province has no parent");
	bool found = true;
	tb_rc rc;
	if (has_parent && (rc = exists(db, "SELECT 1 FROM regions WHERE code = ?", parent, &found)))
		return rc;
	if (!found)
		return tb_fail(err, TB_EINVAL, "parent", "unknown region %s", parent);
	char ts[32];
	now(ts);
	struct tb_stmt *st;
	rc =
	    tb_db_prepare(db,
			  "INSERT INTO regions (code, name, parent, level, created_at, updated_at) "
			  "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET "
			  "name = excluded.name, updated_at = excluded.updated_at "
			  "WHERE regions.name <> excluded.name",
			  &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, code);
	tb_stmt_bind_text(st, 2, name);
	tb_stmt_bind_text(st, 3, parent);
	tb_stmt_bind_int(st, 4, tb_code_region_level(code));
	tb_stmt_bind_text(st, 5, ts);
	tb_stmt_bind_text(st, 6, ts);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc;
}

tb_rc tb_catalog_put_department(struct tb_db *db, json_t *row, struct tb_err *err)
{
	static const char *const fields[] = {"uscc",  "name",  "region", "address",
					     "phone", "hours", NULL};
	const char *uscc, *name, *region, *address, *phone, *hours;
	if (!tb_jv_known_fields(row, "", fields, err) ||
	    !tb_jv_str(row, "", "uscc", true, 18, &uscc, err) ||
	    !tb_jv_str(row, "", "name", true, 200, &name, err) ||
	    !tb_jv_str(row, "", "region", true, 12, &region, err) ||
	    !tb_jv_str(row, "", "address", false, 500, &address, err) ||
	    !tb_jv_str(row, "", "phone", false, 100, &phone, err) ||
	    !tb_jv_str(row, "", "hours", false, 500, &hours, err))
		return TB_EINVAL;
	struct tb_err e2 = {0};
	if (!tb_code_uscc_valid(uscc, &e2))
		return tb_fail(err, TB_EINVAL, "uscc", "'%s' is not a valid USCC: %s", uscc,
			       e2.msg);
	bool found;
	tb_rc rc = exists(db, "SELECT 1 FROM regions WHERE code = ?", region, &found);
	if (rc)
		return rc;
	if (!found)
		return tb_fail(err, TB_EINVAL, "region", "unknown region %s", region);
	char ts[32];
	now(ts);
	struct tb_stmt *st;
	rc = tb_db_prepare(
	    db,
	    "INSERT INTO departments (uscc, name, region, address, phone, hours, created_at, "
	    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uscc) DO UPDATE SET "
	    "name = excluded.name, region = excluded.region, address = excluded.address, "
	    "phone = excluded.phone, hours = excluded.hours, updated_at = excluded.updated_at "
	    "WHERE departments.name <> excluded.name OR departments.region <> excluded.region "
	    "OR departments.address <> excluded.address OR departments.phone <> excluded.phone "
	    "OR departments.hours <> excluded.hours",
	    &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, uscc);
	tb_stmt_bind_text(st, 2, name);
	tb_stmt_bind_text(st, 3, region);
	tb_stmt_bind_text(st, 4, address ? address : "");
	tb_stmt_bind_text(st, 5, phone ? phone : "");
	tb_stmt_bind_text(st, 6, hours ? hours : "");
	tb_stmt_bind_text(st, 7, ts);
	tb_stmt_bind_text(st, 8, ts);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc;
}

tb_rc tb_catalog_put_topic(struct tb_db *db, json_t *row, struct tb_err *err)
{
	static const char *const fields[] = {"code", "name", "object", "order", NULL};
	static const char *const objs[] = {"person", "enterprise", NULL};
	const char *code, *name, *object;
	long order = 0;
	if (!tb_jv_known_fields(row, "", fields, err) ||
	    !tb_jv_str(row, "", "code", true, 32, &code, err) ||
	    !tb_jv_str(row, "", "name", true, 50, &name, err) ||
	    !tb_jv_enum(row, "", "object", true, objs, &object, err) ||
	    !tb_jv_int(row, "", "order", false, 0, 1000, &order, err))
		return TB_EINVAL;
	for (const char *p = code; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return tb_fail(err, TB_EINVAL, "code",
				       "topic codes use a-z, 0-9 and '-' only");
	char ts[32];
	now(ts);
	struct tb_stmt *st;
	tb_rc rc = tb_db_prepare(
	    db,
	    "INSERT INTO topics (code, name, object, ord, created_at, updated_at) VALUES "
	    "(?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET name = excluded.name, "
	    "object = excluded.object, ord = excluded.ord, updated_at = excluded.updated_at "
	    "WHERE topics.name <> excluded.name OR topics.object <> excluded.object "
	    "OR topics.ord <> excluded.ord",
	    &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, code);
	tb_stmt_bind_text(st, 2, name);
	tb_stmt_bind_text(st, 3, object);
	tb_stmt_bind_int(st, 4, order);
	tb_stmt_bind_text(st, 5, ts);
	tb_stmt_bind_text(st, 6, ts);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc;
}

static tb_rc join_strings(json_t *arr, struct tb_buf *b, char sep)
{
	size_t i;
	json_t *v;
	tb_rc rc = TB_OK;
	json_array_foreach(arr, i, v)
	{
		if (i)
			rc = tb_buf_putc(b, sep);
		if (!rc)
			rc = tb_buf_puts(b, json_string_value(v));
		if (rc)
			return rc;
	}
	return tb_buf_puts(b, "");
}

/* The guide text an item's implementations share, for item_fts: conditions,
 * materials with their notes and standards, legal basis, the note on visits, fees,
 * result and the FAQ's questions. Left out: what names the implementing body or its
 * place (process descriptions, FAQ answers, handling scope, address, phones), which
 * differ by implementation and would make one county's words look like the item's. */
static void body_text(json_t *g, struct tb_buf *b)
{
	size_t i;
	json_t *v;
	const char *s;
	json_array_foreach(json_object_get(g, "acceptance_conditions"), i, v)
	    tb_buf_printf(b, "%s。", json_string_value(v));
	json_array_foreach(json_object_get(g, "materials"), i, v)
	{
		static const char *const keys[] = {"name", "licence_type", "notes", "standard"};
		for (size_t k = 0; k < TB_ARRAY_LEN(keys); k++)
			if ((s = json_string_value(json_object_get(v, keys[k]))))
				tb_buf_printf(b, "%s；", s);
	}
	static const char *const top[] = {"legal_basis", "visits_note"};
	for (size_t k = 0; k < TB_ARRAY_LEN(top); k++)
		if ((s = json_string_value(json_object_get(g, top[k]))))
			tb_buf_printf(b, "%s。", s);
	json_t *fee = json_object_get(g, "fee");
	if ((s = json_string_value(json_object_get(fee, "basis"))))
		tb_buf_printf(b, "%s。", s);
	json_array_foreach(json_object_get(fee, "items"), i, v)
	    tb_buf_printf(b, "%s；", json_string_value(json_object_get(v, "name")));
	if ((s = json_string_value(json_object_get(json_object_get(g, "result"), "name"))))
		tb_buf_printf(b, "%s。", s);
	json_array_foreach(json_object_get(g, "faq"), i, v)
	    tb_buf_printf(b, "%s ", json_string_value(json_object_get(v, "q")));
}

/* (Re)write the item's document in item_fts. body NULL keeps the stored shared text;
 * otherwise it is stored first. name/keywords NULL: read them from the item. */
static tb_rc index_item(struct tb_db *db, const char *code, const char *name, const char *keywords,
			const char *body)
{
	struct tb_stmt *st;
	bool found;
	tb_rc rc;
	if (body) {
		if ((rc = tb_db_prepare(
			 db, "UPDATE items SET search_body = ? WHERE catalog_code = ?", &st)))
			return rc;
		tb_stmt_bind_text(st, 1, body);
		tb_stmt_bind_text(st, 2, code);
		rc = tb_stmt_exec(st, NULL);
		tb_stmt_done(st);
		if (rc)
			return rc;
	}
	if ((rc = tb_db_prepare(
		 db, "SELECT id, name, keywords, search_body FROM items WHERE catalog_code = ?",
		 &st)))
		return rc;
	tb_stmt_bind_text(st, 1, code);
	if (!(rc = tb_stmt_step(st, &found)) && found) {
		int64_t id = tb_stmt_int(st, 0);
		const char *f[4] = {name ? name : tb_stmt_text(st, 1),
				    keywords ? keywords : tb_stmt_text(st, 2), tb_stmt_text(st, 3),
				    code};
		/* copies: the statement is reused by nothing below, but keep it simple */
		char *n0 = strdup(f[0]), *n1 = strdup(f[1]), *n2 = strdup(f[2]);
		tb_stmt_done(st);
		if (!n0 || !n1 || !n2)
			rc = TB_ENOMEM;
		else {
			const char *fs[4] = {n0, n1, n2, code};
			rc = tb_db_fts_put(db, "item_fts", id, fs, 4);
		}
		free(n0);
		free(n1);
		free(n2);
		return rc;
	}
	tb_stmt_done(st);
	return rc;
}

tb_rc tb_catalog_put_item(struct tb_db *db, json_t *row, struct tb_err *err)
{
	static const char *const fields[] = {"catalog_code",	"name",	  "item_type",
					     "service_objects", "topics", "keywords",
					     "popularity",	NULL};
	const char *code, *name, *type;
	unsigned objmask;
	long popularity = 0;
	json_t *topics, *keywords;
	if (!tb_jv_known_fields(row, "", fields, err) ||
	    !tb_jv_str(row, "", "catalog_code", true, 12, &code, err) ||
	    !tb_jv_str(row, "", "name", true, 200, &name, err) ||
	    !tb_jv_enum(row, "", "item_type", true, item_types, &type, err) ||
	    !tb_jv_str_set(row, "", "service_objects", true, objects, 10, &objmask, err) ||
	    !tb_jv_str_set(row, "", "topics", false, NULL, 20, NULL, err) ||
	    !tb_jv_str_set(row, "", "keywords", false, NULL, 30, NULL, err) ||
	    !tb_jv_int(row, "", "popularity", false, 0, 1000000, &popularity, err))
		return TB_EINVAL;
	struct tb_err e2 = {0};
	if (!tb_code_catalog_valid(code, &e2))
		return tb_fail(err, TB_EINVAL, "catalog_code", "'%s': %s", code, e2.msg);
	if (!objmask || (objmask & 1u))
		return tb_fail(err, TB_EINVAL, "service_objects",
			       "name at least one of 1, 2, 3, 4, 5, 6, 9");
	topics = json_object_get(row, "topics");
	keywords = json_object_get(row, "keywords");
	size_t i;
	json_t *v;
	tb_rc rc;
	json_array_foreach(topics, i, v)
	{
		bool found;
		if ((rc = exists(db, "SELECT 1 FROM topics WHERE code = ?", json_string_value(v),
				 &found)))
			return rc;
		if (!found)
			return tb_fail(err, TB_EINVAL, tb_jv_index("", "topics", i),
				       "unknown topic '%s'", json_string_value(v));
	}
	struct tb_buf tb, kb;
	tb_buf_init(&tb, 4096);
	tb_buf_init(&kb, 8192);
	if ((rc = join_strings(topics, &tb, ',')) || (rc = join_strings(keywords, &kb, ' '))) {
		tb_buf_release(&tb);
		tb_buf_release(&kb);
		return tb_fail(err, TB_EINVAL, "keywords", "too long");
	}
	char ts[32];
	now(ts);
	struct tb_stmt *st;
	rc = tb_db_prepare(
	    db,
	    "INSERT INTO items (catalog_code, name, item_type, service_objects, topics, "
	    "keywords, popularity, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
	    "ON CONFLICT (catalog_code) DO UPDATE SET name = excluded.name, item_type = "
	    "excluded.item_type, service_objects = excluded.service_objects, topics = "
	    "excluded.topics, keywords = excluded.keywords, popularity = excluded.popularity, "
	    "updated_at = excluded.updated_at WHERE items.name <> excluded.name OR "
	    "items.item_type <> excluded.item_type OR items.service_objects <> "
	    "excluded.service_objects OR items.topics <> excluded.topics OR items.keywords <> "
	    "excluded.keywords OR items.popularity <> excluded.popularity",
	    &st);
	if (!rc) {
		tb_stmt_bind_text(st, 1, code);
		tb_stmt_bind_text(st, 2, name);
		tb_stmt_bind_text(st, 3, type);
		tb_stmt_bind_int(st, 4, objmask);
		tb_stmt_bind_text(st, 5, tb.data ? tb.data : "");
		tb_stmt_bind_text(st, 6, kb.data ? kb.data : "");
		tb_stmt_bind_int(st, 7, popularity);
		tb_stmt_bind_text(st, 8, ts);
		tb_stmt_bind_text(st, 9, ts);
		rc = tb_stmt_exec(st, NULL);
		tb_stmt_done(st);
	}
	/* topics: replace the item's set */
	if (!rc &&
	    !(rc = tb_db_prepare(db, "DELETE FROM item_topics WHERE catalog_code = ?", &st))) {
		tb_stmt_bind_text(st, 1, code);
		rc = tb_stmt_exec(st, NULL);
		tb_stmt_done(st);
	}
	json_array_foreach(topics, i, v)
	{
		if (rc ||
		    (rc = tb_db_prepare(db,
					"INSERT INTO item_topics (catalog_code, topic) VALUES "
					"(?, ?) ON CONFLICT DO NOTHING",
					&st)))
			break;
		tb_stmt_bind_text(st, 1, code);
		tb_stmt_bind_text(st, 2, json_string_value(v));
		rc = tb_stmt_exec(st, NULL);
		tb_stmt_done(st);
	}
	/* the item's row in the search index: names and aliases now, the shared guide
	 * text as its implementations last wrote it */
	if (!rc)
		rc = index_item(db, code, name, kb.data ? kb.data : "", NULL);
	tb_buf_release(&tb);
	tb_buf_release(&kb);
	return rc;
}

static tb_rc write_materials(struct tb_db *db, int64_t id, int version, const char *impl_code,
			     json_t *g)
{
	size_t i;
	json_t *m;
	tb_rc rc = TB_OK;
	json_array_foreach(json_object_get(g, "materials"), i, m)
	{
		struct tb_stmt *st;
		if ((rc = tb_db_prepare(
			 db,
			 "INSERT INTO materials (impl_id, version, seq, code, name, "
			 "necessity, source, licence_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			 &st)))
			return rc;
		char code[40];
		snprintf(code, sizeof(code), "%s%03zu", impl_code, i + 1);
		tb_stmt_bind_int(st, 1, id);
		tb_stmt_bind_int(st, 2, version);
		tb_stmt_bind_int(st, 3, (int64_t)i + 1);
		tb_stmt_bind_text(st, 4, code);
		tb_stmt_bind_text(st, 5, json_string_value(json_object_get(m, "name")));
		tb_stmt_bind_text(st, 6, json_string_value(json_object_get(m, "necessity")));
		tb_stmt_bind_text(st, 7, json_string_value(json_object_get(m, "source")));
		tb_stmt_bind_text(st, 8, json_string_value(json_object_get(m, "licence_type")));
		rc = tb_stmt_exec(st, NULL);
		tb_stmt_done(st);
		if (rc)
			return rc;
	}
	return rc;
}

/* Bind the 13 columns an implementation copies out of its item and guide, from
 * placeholder `at` on: name, item_type, service_objects, case_type, visits,
 * online_depth, zero_visit, fully_online, legal value and unit, promised value and
 * unit, popularity (the INSERT and the UPDATE list them in this order). */
static void bind_facts(struct tb_stmt *st, int at, const char *name, const char *item_type,
		       int64_t objmask, const struct tb_guide_facts *f, int64_t popularity)
{
	tb_stmt_bind_text(st, at, name);
	tb_stmt_bind_text(st, at + 1, item_type);
	tb_stmt_bind_int(st, at + 2, objmask);
	tb_stmt_bind_text(st, at + 3, f->case_type);
	tb_stmt_bind_int(st, at + 4, f->visits);
	tb_stmt_bind_int(st, at + 5, f->depth_mask);
	tb_stmt_bind_int(st, at + 6, f->zero_visit);
	tb_stmt_bind_int(st, at + 7, f->fully_online);
	if (f->has_legal) {
		tb_stmt_bind_int(st, at + 8, f->legal_value);
		tb_stmt_bind_text(st, at + 9, f->legal_unit);
	}
	if (f->has_promised) {
		tb_stmt_bind_int(st, at + 10, f->promised_value);
		tb_stmt_bind_text(st, at + 11, f->promised_unit);
	}
	tb_stmt_bind_int(st, at + 12, popularity);
}

tb_rc tb_catalog_put_impl(struct tb_db *db, json_t *row, const char *actor, int must_exist,
			  int *version_out, struct tb_err *err)
{
	static const char *const fields[] = {"impl_code", "catalog_code", "department", "level",
					     "region",	  "guide",	  NULL};
	const char *impl, *catalog, *dept, *level, *region;
	json_t *guide;
	struct tb_guide_facts f;
	if (!tb_jv_known_fields(row, "", fields, err) ||
	    !tb_jv_str(row, "", "impl_code", true, 31, &impl, err) ||
	    !tb_jv_str(row, "", "catalog_code", true, 12, &catalog, err) ||
	    !tb_jv_str(row, "", "department", true, 18, &dept, err) ||
	    !tb_jv_enum(row, "", "level", true, levels, &level, err) ||
	    !tb_jv_str(row, "", "region", true, 12, &region, err) ||
	    !tb_jv_object(row, "", "guide", true, &guide, err))
		return TB_EINVAL;
	struct tb_err e2 = {0};
	if (!tb_code_impl_valid(impl, &e2))
		return tb_fail(err, TB_EINVAL, "impl_code",
			       "'%s' is not a valid implementation code: %s", impl, e2.msg);
	char expect[40];
	snprintf(expect, sizeof(expect), "%s%s%s", dept, level, catalog);
	if (strcmp(expect, impl))
		return tb_fail(err, TB_EINVAL, "impl_code",
			       "must be department + level + catalog_code (%s)", expect);
	tb_rc rc = tb_catalog_check_guide(guide, "guide", &f, err);
	if (rc)
		return rc;
	/* the guide is stored with sorted keys: keep the form's field order as x-order */
	if ((rc = tb_form_settle_order(json_object_get(guide, "form"))))
		return tb_fail(err, rc, "guide.form", "out of memory");

	/* references, and the names that go into the summary and the index */
	struct tb_stmt *st;
	bool found;
	char *item_name = NULL, *dept_name = NULL, *region_name = NULL, *item_type = NULL,
	     *keywords = NULL, *item_body = NULL;
	int64_t objmask = 0, popularity = 0;
	if ((rc = tb_db_prepare(
		 db,
		 "SELECT name, item_type, service_objects, keywords, popularity, search_body FROM "
		 "items WHERE catalog_code = ?",
		 &st)))
		return rc;
	tb_stmt_bind_text(st, 1, catalog);
	if (!(rc = tb_stmt_step(st, &found)) && found) {
		item_name = strdup(tb_stmt_text(st, 0));
		item_type = strdup(tb_stmt_text(st, 1));
		objmask = tb_stmt_int(st, 2);
		keywords = strdup(tb_stmt_text(st, 3));
		popularity = tb_stmt_int(st, 4);
		item_body = strdup(tb_stmt_text(st, 5));
	}
	tb_stmt_done(st);
	if (!rc && !found)
		rc = tb_fail(err, TB_EINVAL, "catalog_code", "unknown item %s", catalog);
	if (!rc &&
	    !(rc = tb_db_prepare(db, "SELECT name, region FROM departments WHERE uscc = ?", &st))) {
		tb_stmt_bind_text(st, 1, dept);
		if (!(rc = tb_stmt_step(st, &found)) && found)
			dept_name = strdup(tb_stmt_text(st, 0));
		tb_stmt_done(st);
		if (!rc && !found)
			rc = tb_fail(err, TB_EINVAL, "department", "unknown department %s", dept);
	}
	if (!rc && !(rc = tb_db_prepare(db, "SELECT name FROM regions WHERE code = ?", &st))) {
		tb_stmt_bind_text(st, 1, region);
		if (!(rc = tb_stmt_step(st, &found)) && found)
			region_name = strdup(tb_stmt_text(st, 0));
		tb_stmt_done(st);
		if (!rc && !found)
			rc = tb_fail(err, TB_EINVAL, "region", "unknown region %s", region);
	}
	const char *name = json_string_value(json_object_get(guide, "name"));
	if (!name)
		name = item_name;
	char *text = rc ? NULL : json_dumps(guide, JSON_COMPACT | JSON_SORT_KEYS);
	if (!rc && !text)
		rc = TB_ENOMEM;

	/* the current version, if any */
	int64_t id = 0;
	int version = 0;
	char *current = NULL;
	if (!rc &&
	    !(rc = tb_db_prepare(db,
				 "SELECT c.id, c.version, g.guide FROM implementations c JOIN "
				 "guide_versions g ON g.impl_id = c.id AND g.version = c.version "
				 "WHERE c.impl_code = ?",
				 &st))) {
		tb_stmt_bind_text(st, 1, impl);
		if (!(rc = tb_stmt_step(st, &found)) && found) {
			id = tb_stmt_int(st, 0);
			version = (int)tb_stmt_int(st, 1);
			current = strdup(tb_stmt_text(st, 2));
		}
		tb_stmt_done(st);
	}
	if (!rc && must_exist > 0 && !id)
		rc = tb_fail(err, TB_ENOTFOUND, "impl_code", "no implementation %s", impl);
	if (!rc && must_exist < 0 && id)
		rc = tb_fail(err, TB_ECONFLICT, "impl_code", "implementation %s already exists",
			     impl);
	bool changed = !rc && (!current || strcmp(current, text));
	char ts[32];
	now(ts);
	if (!rc && !id) {
		if (!(rc = tb_db_prepare(
			  db,
			  "INSERT INTO implementations (impl_code, catalog_code, department, "
			  "level, region, name, item_type, service_objects, case_type, visits, "
			  "online_depth, zero_visit, fully_online, legal_value, legal_unit, "
			  "promised_value, promised_unit, popularity, version, created_at, "
			  "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
			  "?, 1, ?, ?) RETURNING id",
			  &st))) {
			tb_stmt_bind_text(st, 1, impl);
			tb_stmt_bind_text(st, 2, catalog);
			tb_stmt_bind_text(st, 3, dept);
			tb_stmt_bind_text(st, 4, level);
			tb_stmt_bind_text(st, 5, region);
			bind_facts(st, 6, name, item_type, objmask, &f, popularity);
			tb_stmt_bind_text(st, 19, ts);
			tb_stmt_bind_text(st, 20, ts);
			if (!(rc = tb_stmt_step(st, &found)) && found)
				id = tb_stmt_int(st, 0);
			tb_stmt_done(st);
			version = 1;
			if (!rc &&
			    !(rc = tb_db_prepare(db,
						 "UPDATE items SET impl_count = impl_count + 1 "
						 "WHERE catalog_code = ?",
						 &st))) {
				tb_stmt_bind_text(st, 1, catalog);
				rc = tb_stmt_exec(st, NULL);
				tb_stmt_done(st);
			}
		}
	} else if (!rc && changed) {
		version++;
		if (!(rc = tb_db_prepare(
			  db,
			  "UPDATE implementations SET name = ?, item_type = ?, service_objects = "
			  "?, "
			  "case_type = ?, visits = ?, online_depth = ?, zero_visit = ?, "
			  "fully_online = ?, legal_value = ?, legal_unit = ?, promised_value = ?, "
			  "promised_unit = ?, popularity = ?, version = ?, updated_at = ? "
			  "WHERE id = ?",
			  &st))) {
			bind_facts(st, 1, name, item_type, objmask, &f, popularity);
			tb_stmt_bind_int(st, 14, version);
			tb_stmt_bind_text(st, 15, ts);
			tb_stmt_bind_int(st, 16, id);
			rc = tb_stmt_exec(st, NULL);
			tb_stmt_done(st);
		}
	}
	if (!rc && changed) {
		if (!(rc = tb_db_prepare(db,
					 "INSERT INTO guide_versions (impl_id, version, guide, "
					 "created_at, created_by) VALUES (?, ?, ?, ?, ?)",
					 &st))) {
			tb_stmt_bind_int(st, 1, id);
			tb_stmt_bind_int(st, 2, version);
			tb_stmt_bind_text(st, 3, text);
			tb_stmt_bind_text(st, 4, ts);
			tb_stmt_bind_text(st, 5, actor ? actor : "system");
			rc = tb_stmt_exec(st, NULL);
			tb_stmt_done(st);
		}
		if (!rc)
			rc = write_materials(db, id, version, impl, guide);
		if (!rc) {
			/* what is particular to this implementation */
			struct tb_buf place, codes, body;
			tb_buf_init(&place, 4096);
			tb_buf_init(&codes, 256);
			tb_buf_init(&body, 1 << 20);
			tb_buf_printf(&place, "%s %s", dept_name, region_name);
			tb_buf_printf(&codes, "%s %s %s", catalog, impl, dept);
			const char *fs[3] = {name, place.data ? place.data : "",
					     codes.data ? codes.data : ""};
			rc = tb_db_fts_put(db, "impl_fts", id, fs, 3);
			/* what it shares with the item: re-index the item when it changed */
			body_text(guide, &body);
			if (!rc && body.data && (!item_body || strcmp(item_body, body.data)))
				rc = index_item(db, catalog, NULL, NULL, body.data);
			tb_buf_release(&place);
			tb_buf_release(&body);
			tb_buf_release(&codes);
		}
	}
	if (version_out)
		*version_out = version;
	free(item_name);
	free(item_type);
	free(keywords);
	free(item_body);
	free(dept_name);
	free(region_name);
	free(text);
	free(current);
	return rc;
}
