/* backend.h: what a database backend gives the generic store layer (store.c).
 * Private to src/store/. Each backend's connection embeds struct tb_db as its first
 * member and each statement embeds struct tb_stmt, and casts inside its own code. */
#ifndef TB_STORE_BACKEND_H
#define TB_STORE_BACKEND_H

#include "store/store.h"

struct tb_backend;

struct tb_db {
	const struct tb_backend *be;
	struct tb_store *store;
	bool in_tx;
};

struct tb_stmt {
	struct tb_db *db;
};

struct tb_backend {
	const char *name;
	/* Check the target (the URL without the backend's scheme where it has one, or the
	 * whole URL) once at tb_store_open; may prepare things (directories). */
	tb_rc (*check)(const char *target, struct tb_err *err);
	struct tb_db *(*open)(const char *target, struct tb_err *err);
	void (*close)(struct tb_db *db);
	/* Run one migration's script (statements separated by ";\n", `@fulltext` lines),
	 * translating the dialect points. Inside the migration's transaction. */
	tb_rc (*exec_script)(struct tb_db *db, const char *script, struct tb_err *err);
	/* Taken inside the migration transaction so that two nodes do not migrate at once
	 * (may be NULL: the write transaction already excludes other writers). */
	tb_rc (*lock_migrations)(struct tb_db *db);

	tb_rc (*begin)(struct tb_db *db, bool write);
	tb_rc (*commit)(struct tb_db *db);
	void (*rollback)(struct tb_db *db);

	tb_rc (*prepare)(struct tb_db *db, const char *sql, struct tb_stmt **out);
	tb_rc (*bind_textn)(struct tb_stmt *st, int i, const char *s, size_t n);
	tb_rc (*bind_int)(struct tb_stmt *st, int i, int64_t v);
	tb_rc (*bind_null)(struct tb_stmt *st, int i);
	tb_rc (*bind_blob)(struct tb_stmt *st, int i, const void *data, size_t n);
	tb_rc (*step)(struct tb_stmt *st, bool *row);
	int64_t (*changes)(struct tb_stmt *st);
	const char *(*text)(struct tb_stmt *st, int col);
	size_t (*len)(struct tb_stmt *st, int col);
	int64_t (*int64)(struct tb_stmt *st, int col);
	bool (*null)(struct tb_stmt *st, int col);
	const void *(*blob)(struct tb_stmt *st, int col, size_t *len);
	void (*done)(struct tb_stmt *st);
	const char *(*errmsg)(struct tb_db *db);

	tb_rc (*fts_put)(struct tb_db *db, const char *index, int64_t id, const char *const *fields,
			 size_t nfields);
	tb_rc (*fts_delete)(struct tb_db *db, const char *index, int64_t id);
	tb_rc (*fts_search)(struct tb_db *db, const struct tb_fts_query *q, struct tb_fts_hit *hits,
			    size_t *nhits, int64_t *total);
	tb_rc (*fts_group)(struct tb_db *db, const struct tb_fts_query *q, const char *expr,
			   void (*fn)(void *ctx, const char *key, int64_t count), void *ctx);
};

extern const struct tb_backend tb_backend_sqlite;
extern const struct tb_backend tb_backend_pg;

/* Shared helpers of the backends (store.c). */
bool tb_store_ident_ok(const char *s);

#endif
