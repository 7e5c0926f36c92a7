/* catalog.h: regions (GB/T 2260), departments, service items and their implementations,
 * versioned guides, materials, and the 一网通查 search.
 *
 * Writes take a JSON row in the import format (docs/catalog-format.md), validate it
 * completely (unknown fields are errors) and write it inside the caller's transaction.
 * Reads return jansson values owned by the caller. */
#ifndef TB_CATALOG_CATALOG_H
#define TB_CATALOG_CATALOG_H

#include "base/tb.h"
#include <jansson.h>
#include <stdio.h>

struct tb_db;

/* Facts copied out of a guide into filter columns. */
struct tb_guide_facts {
	const char *case_type;
	int visits;
	unsigned depth_mask; /* bit n set for depth "n" */
	bool zero_visit, fully_online;
	bool has_legal, has_promised;
	int legal_value, promised_value;
	const char *legal_unit, *promised_unit;
};

/* Validate a guide; field names in err are prefixed with `prefix` ("guide"). */
tb_rc tb_catalog_check_guide(json_t *guide, const char *prefix, struct tb_guide_facts *facts,
			     struct tb_err *err);

/* Upserts, inside the caller's write transaction. */
tb_rc tb_catalog_put_region(struct tb_db *db, json_t *row, struct tb_err *err);
tb_rc tb_catalog_put_department(struct tb_db *db, json_t *row, struct tb_err *err);
tb_rc tb_catalog_put_topic(struct tb_db *db, json_t *row, struct tb_err *err);
tb_rc tb_catalog_put_item(struct tb_db *db, json_t *row, struct tb_err *err);
/* Creates the implementation or, if its guide changed, adds a version.
 * must_exist: 1 only update, -1 only create, 0 either. *version gets the current one. */
tb_rc tb_catalog_put_impl(struct tb_db *db, json_t *row, const char *actor, int must_exist,
			  int *version, struct tb_err *err);

/* The list and search filters; NULL/0/false means "any". */
struct tb_catalog_filter {
	const char *region, *department, *item_type, *topic, *case_type;
	int service_object;
	bool zero_visit, fully_online;
};
enum tb_catalog_sort { TB_SORT_POPULAR, TB_SORT_NAME };

tb_rc tb_catalog_list(struct tb_db *db, const struct tb_catalog_filter *f,
		      enum tb_catalog_sort sort, int page, int per_page, json_t **out,
		      struct tb_err *err);
/* q: the user's words (any script); facets: add counts per city, department, item
 * type, service object and topic; group_items: one result per service item (its
 * best-ranked implementation, with "implementations": how many match) — what a reader
 * who has not chosen a region wants. */
struct tb_search_opts {
	bool facets, group_items;
};
tb_rc tb_catalog_search(struct tb_db *db, const char *q, const struct tb_catalog_filter *f,
			int page, int per_page, const struct tb_search_opts *opts, json_t **out,
			struct tb_err *err);
tb_rc tb_catalog_suggest(struct tb_db *db, const char *q, json_t **out, struct tb_err *err);

/* Guide of one implementation as a JSON text (summary + guide + versions);
 * version 0 = current. *out is malloc'd. */
tb_rc tb_catalog_get_impl(struct tb_db *db, const char *impl_code, int version, char **out,
			  size_t *len, struct tb_err *err);
tb_rc tb_catalog_get_item(struct tb_db *db, const char *catalog_code, json_t **out,
			  struct tb_err *err);
tb_rc tb_catalog_regions(struct tb_db *db, const char *parent, json_t **out, struct tb_err *err);
tb_rc tb_catalog_region(struct tb_db *db, const char *code, json_t **out, struct tb_err *err);
tb_rc tb_catalog_departments(struct tb_db *db, const char *region, int page, int per_page,
			     json_t **out, struct tb_err *err);
tb_rc tb_catalog_topics(struct tb_db *db, const char *object, json_t **out, struct tb_err *err);

/* Names of the national code lists (STANDARDS.md §1); NULL if unknown. */
const char *tb_catalog_item_type_name(const char *code);
const char *tb_catalog_level_name(const char *code);

/* ---- import and export (import.c) ---- */
struct tb_store;
struct tb_import_report {
	long rows, bad_rows;
	long regions, departments, topics, items, implementations, new_versions;
};
/* Reads a tongban-catalog/1 file (a JSON document or JSON Lines). All or nothing:
 * every bad row is written to `errors` with its line (or JSON pointer) and nothing is
 * kept unless every row is good. progress: draw a bar on stderr. */
tb_rc tb_catalog_import(struct tb_store *store, const char *path, FILE *errors, bool progress,
			struct tb_import_report *rep, struct tb_err *err);
tb_rc tb_catalog_export(struct tb_store *store, FILE *out, struct tb_err *err);
/* Writes JSON Lines with n implementations cloned from the seed catalogue over every
 * region of the seed (benchmarks). */
tb_rc tb_catalog_generate(const char *seed_path, long n, FILE *out, struct tb_err *err);

#endif
