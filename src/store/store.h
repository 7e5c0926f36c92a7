/* store.h: the one door to the database.
 *
 * Blocks write plain SQL with `?` placeholders that both backends accept (SQLite now,
 * PostgreSQL later); anything dialect-specific (full-text search, upserts of the
 * search index, schema directives) is behind a function here. Every statement is
 * prepared once per connection and cached; values are always bound, never pasted.
 *
 * Threads: each thread gets its own connection from tb_store_db(), opened on first
 * use and closed when the thread exits. A connection is never shared. */
#ifndef TB_STORE_STORE_H
#define TB_STORE_STORE_H

#include "base/tb.h"
#include "base/text.h"

struct tb_store;
struct tb_db;
struct tb_stmt;

/* url: "sqlite:PATH" (or a bare path). The file and its directory are created. */
tb_rc tb_store_open(const char *url, struct tb_store **out, struct tb_err *err);
void tb_store_free(struct tb_store *s);
/* Apply the numbered migrations that are missing, each in its own transaction. */
tb_rc tb_store_migrate(struct tb_store *s, int *applied, struct tb_err *err);
int tb_store_schema_version(struct tb_store *s);
/* This thread's connection, or NULL (err filled) if it cannot be opened. */
struct tb_db *tb_store_db(struct tb_store *s, struct tb_err *err);
const char *tb_store_backend(const struct tb_store *s);

/* Transactions. A write transaction takes the write lock at once (no upgrade
 * deadlocks). Nested begin is an error. */
tb_rc tb_db_begin(struct tb_db *db, bool write);
tb_rc tb_db_commit(struct tb_db *db);
void tb_db_rollback(struct tb_db *db);
/* The end of a transaction: commit when rc is TB_OK, else roll back; the outcome. */
tb_rc tb_db_finish(struct tb_db *db, tb_rc rc);
bool tb_db_in_tx(const struct tb_db *db);

/* Prepared (and cached) statement for sql; reset and unbound on return. On failure
 * *out is NULL (tb_stmt_done(NULL) does nothing). */
tb_rc tb_db_prepare(struct tb_db *db, const char *sql, struct tb_stmt **out);
/* Bind by 1-based index. Text is copied. A NULL text binds SQL NULL. */
tb_rc tb_stmt_bind_text(struct tb_stmt *st, int i, const char *s);
tb_rc tb_stmt_bind_textn(struct tb_stmt *st, int i, const char *s, size_t n);
tb_rc tb_stmt_bind_int(struct tb_stmt *st, int i, int64_t v);
tb_rc tb_stmt_bind_null(struct tb_stmt *st, int i);
/* Bytes (a BLOB column: BYTEA on PostgreSQL), copied; n may be 0. NULL data with n 0
 * binds SQL NULL. */
tb_rc tb_stmt_bind_blob(struct tb_stmt *st, int i, const void *data, size_t n);
/* Step: TB_OK with *row true for a row, false when done; an error otherwise. */
tb_rc tb_stmt_step(struct tb_stmt *st, bool *row);
/* Run to completion (for INSERT/UPDATE/DELETE); the number of changed rows. */
tb_rc tb_stmt_exec(struct tb_stmt *st, int64_t *changes);
/* Columns of the current row (0-based). Text is valid until the next step/reset. */
const char *tb_stmt_text(struct tb_stmt *st, int col);
size_t tb_stmt_len(struct tb_stmt *st, int col);
int64_t tb_stmt_int(struct tb_stmt *st, int col);
bool tb_stmt_null(struct tb_stmt *st, int col);
/* A BLOB column's bytes and their count (*len); NULL (and *len 0) for SQL NULL. Valid
 * until the next step/reset of the statement. */
const void *tb_stmt_blob(struct tb_stmt *st, int col, size_t *len);
/* Release the statement back to the cache (resets it). Safe to call twice. */
void tb_stmt_done(struct tb_stmt *st);
/* The last error message of the connection (for logs; never shown to callers). */
const char *tb_db_errmsg(struct tb_db *db);

/* ---- full-text search (the `@fulltext` tables of the schema) ---- */

/* Put (replace) the document `id` of a full-text index; fields in the index's order. */
tb_rc tb_db_fts_put(struct tb_db *db, const char *index, int64_t id, const char *const *fields,
		    size_t nfields);
tb_rc tb_db_fts_delete(struct tb_db *db, const char *index, int64_t id);

/* A full-text query joined to its content table (alias `c`, joined on c.id = document
 * id) and narrowed by `filter` (plain SQL over `c`, `?` placeholders bound from
 * params as text; may be NULL). Ranked by BM25 with per-field weights. */
struct tb_fts_query {
	const char *index, *content;
	const struct tb_text_term *terms;
	size_t nterms;
	const char *columns; /* match only in these fields ("name keywords"); NULL: all */
	const char *filter;
	const char *const *params;
	size_t nparams;
	const double *weights; /* one per field */
	size_t nweights;
	int highlight_field; /* field whose whole text comes back with <mark>, -1 none */
	/* fields to take a fragment from, in order of preference: the first whose
	 * fragment holds a match comes back in `snippet` (nsnippet 0: none) */
	int snippet_fields[4];
	size_t nsnippet;
	int limit, offset;
	/* Optional: one hit per value of this SQL expression over `c` (the best-ranked
	 * row of each group); *total then counts groups. */
	const char *group;
};
struct tb_fts_hit {
	int64_t id;
	int64_t group_count;	   /* rows in the hit's group (1 without grouping) */
	char *highlight, *snippet; /* malloc'd, may be NULL */
};
/* hits: caller's array of q->limit entries; *nhits filled. *total counts every match
 * (pass NULL to skip counting). Free hit strings with tb_fts_hits_release. */
tb_rc tb_db_fts_search(struct tb_db *db, const struct tb_fts_query *q, struct tb_fts_hit *hits,
		       size_t *nhits, int64_t *total);
void tb_fts_hits_release(struct tb_fts_hit *hits, size_t n);
/* Count the matches of q grouped by expr (plain SQL over `c`); fn is called once per
 * group. Paging fields of q are ignored; with q->group, distinct groups are counted. */
tb_rc tb_db_fts_group(struct tb_db *db, const struct tb_fts_query *q, const char *expr,
		      void (*fn)(void *ctx, const char *key, int64_t count), void *ctx);

#endif
