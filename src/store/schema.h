/* schema.h: the numbered migrations, written once for both backends.
 * A line `@fulltext NAME(field, ...)` declares a full-text index that the backend
 * creates in its own way (SQLite: FTS5 with the tb_bigram tokenizer). A line
 * `@append_only NAME` makes the database refuse UPDATE and DELETE on that table
 * (triggers on both backends). */
#ifndef TB_STORE_SCHEMA_H
#define TB_STORE_SCHEMA_H

#include <stddef.h>

struct tb_migration {
	int version;
	const char *name;
	const char *sql; /* statements separated by ";\n" */
};

extern const struct tb_migration tb_migrations[];
extern const size_t tb_migrations_count;

#endif
