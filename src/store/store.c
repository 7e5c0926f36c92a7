/* store.c: the generic part of the store: the URL picks a backend, each thread gets its
 * own connection (a pthread key), migrations run in order, and the public tb_* functions
 * dispatch through the backend's table (backend.h). No dialect lives here. */
#include "store/backend.h"
#include "store/schema.h"
#include "base/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct tb_store {
	const struct tb_backend *be;
	char *target;
	pthread_key_t key;
};

static void db_close(void *p)
{
	struct tb_db *db = p;
	if (db)
		db->be->close(db);
}

bool tb_store_ident_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
			return false;
	return true;
}

tb_rc tb_store_open(const char *url, struct tb_store **out, struct tb_err *err)
{
	const struct tb_backend *be = &tb_backend_sqlite;
	const char *target = url;
	if (!strncmp(url, "sqlite:", 7))
		target = url + 7;
	else if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13))
		be = &tb_backend_pg;
	else if (strstr(url, "://"))
		return tb_fail(err, TB_EINVAL, "db",
			       "unsupported database URL scheme (use sqlite:PATH or "
			       "postgres://USER:PASSWORD@HOST:PORT/DB)");
	tb_rc rc = be->check(target, err);
	if (rc)
		return rc;
	struct tb_store *s = calloc(1, sizeof(*s));
	if (!s || !(s->target = strdup(target))) {
		free(s);
		return tb_fail(err, TB_ENOMEM, "", "out of memory");
	}
	s->be = be;
	pthread_key_create(&s->key, db_close);
	/* Open one connection now so that a bad target fails at start, not at first request. */
	if (!tb_store_db(s, err)) {
		tb_store_free(s);
		return TB_EUNAVAIL;
	}
	*out = s;
	return TB_OK;
}

void tb_store_free(struct tb_store *s)
{
	if (!s)
		return;
	db_close(pthread_getspecific(s->key));
	pthread_setspecific(s->key, NULL);
	pthread_key_delete(s->key);
	free(s->target);
	free(s);
}

const char *tb_store_backend(const struct tb_store *s)
{
	return s->be->name;
}

struct tb_db *tb_store_db(struct tb_store *s, struct tb_err *err)
{
	struct tb_db *db = pthread_getspecific(s->key);
	if (db)
		return db;
	db = s->be->open(s->target, err);
	if (db) {
		db->be = s->be;
		db->store = s;
		db->in_tx = false;
		pthread_setspecific(s->key, db);
	}
	return db;
}

const char *tb_db_errmsg(struct tb_db *db)
{
	return db->be->errmsg(db);
}

/* ---- transactions ---- */

tb_rc tb_db_begin(struct tb_db *db, bool write)
{
	if (db->in_tx)
		return TB_EINTERNAL;
	tb_rc rc = db->be->begin(db, write);
	if (!rc)
		db->in_tx = true;
	return rc;
}

tb_rc tb_db_commit(struct tb_db *db)
{
	tb_rc rc = db->be->commit(db);
	if (rc) {
		tb_db_rollback(db);
		return rc;
	}
	db->in_tx = false;
	return TB_OK;
}

tb_rc tb_db_finish(struct tb_db *db, tb_rc rc)
{
	if (rc) {
		tb_db_rollback(db);
		return rc;
	}
	return tb_db_commit(db);
}

void tb_db_rollback(struct tb_db *db)
{
	db->be->rollback(db);
	db->in_tx = false;
}

bool tb_db_in_tx(const struct tb_db *db)
{
	return db->in_tx;
}

/* ---- statements ---- */

tb_rc tb_db_prepare(struct tb_db *db, const char *sql, struct tb_stmt **out)
{
	/* NULL on failure, so that the usual `tb_stmt_done(st)` on the error path is safe
	 * (it is a no-op on NULL) */
	*out = NULL;
	return db->be->prepare(db, sql, out);
}

tb_rc tb_stmt_bind_textn(struct tb_stmt *st, int i, const char *s, size_t n)
{
	return st->db->be->bind_textn(st, i, s, n);
}

tb_rc tb_stmt_bind_text(struct tb_stmt *st, int i, const char *s)
{
	return tb_stmt_bind_textn(st, i, s, s ? strlen(s) : 0);
}

tb_rc tb_stmt_bind_int(struct tb_stmt *st, int i, int64_t v)
{
	return st->db->be->bind_int(st, i, v);
}

tb_rc tb_stmt_bind_null(struct tb_stmt *st, int i)
{
	return st->db->be->bind_null(st, i);
}

tb_rc tb_stmt_step(struct tb_stmt *st, bool *row)
{
	return st->db->be->step(st, row);
}

tb_rc tb_stmt_exec(struct tb_stmt *st, int64_t *changes)
{
	bool row = true;
	tb_rc rc = TB_OK;
	while (!rc && row)
		rc = tb_stmt_step(st, &row);
	if (!rc && changes)
		*changes = st->db->be->changes(st);
	return rc;
}

tb_rc tb_stmt_bind_blob(struct tb_stmt *st, int i, const void *data, size_t n)
{
	if (!data && n)
		return TB_EINVAL;
	return st->db->be->bind_blob(st, i, data, n);
}

const void *tb_stmt_blob(struct tb_stmt *st, int col, size_t *len)
{
	return st->db->be->blob(st, col, len);
}

const char *tb_stmt_text(struct tb_stmt *st, int col)
{
	return st->db->be->text(st, col);
}

size_t tb_stmt_len(struct tb_stmt *st, int col)
{
	return st->db->be->len(st, col);
}

int64_t tb_stmt_int(struct tb_stmt *st, int col)
{
	return st->db->be->int64(st, col);
}

bool tb_stmt_null(struct tb_stmt *st, int col)
{
	return st->db->be->null(st, col);
}

void tb_stmt_done(struct tb_stmt *st)
{
	if (st)
		st->db->be->done(st);
}

/* ---- migrations ---- */

int tb_store_schema_version(struct tb_store *s)
{
	struct tb_db *db = tb_store_db(s, NULL);
	struct tb_stmt *st;
	bool row = false;
	int v = 0;
	if (db && !tb_db_prepare(db, "SELECT max(version) FROM schema_migrations", &st)) {
		if (!tb_stmt_step(st, &row) && row)
			v = (int)tb_stmt_int(st, 0);
		tb_stmt_done(st);
	}
	return v;
}

static tb_rc apply_one(struct tb_db *db, const struct tb_migration *m, int *applied,
		       struct tb_err *err)
{
	struct tb_stmt *st;
	bool row = false;
	tb_rc rc = db->be->lock_migrations ? db->be->lock_migrations(db) : TB_OK;
	if (!rc &&
	    !(rc = tb_db_prepare(db, "SELECT 1 FROM schema_migrations WHERE version = ?", &st))) {
		tb_stmt_bind_int(st, 1, m->version);
		rc = tb_stmt_step(st, &row);
		tb_stmt_done(st);
	}
	if (rc || row)
		return rc;
	if ((rc = db->be->exec_script(db, m->sql, err)))
		return rc;
	char ts[32];
	tb_time_rfc3339(ts);
	if ((rc = tb_db_prepare(db,
				"INSERT INTO schema_migrations (version, name, applied_at) VALUES "
				"(?, ?, ?)",
				&st)))
		return rc;
	tb_stmt_bind_int(st, 1, m->version);
	tb_stmt_bind_text(st, 2, m->name);
	tb_stmt_bind_text(st, 3, ts);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	if (!rc && applied)
		(*applied)++;
	return rc;
}

tb_rc tb_store_migrate(struct tb_store *s, int *applied, struct tb_err *err)
{
	struct tb_db *db = tb_store_db(s, err);
	if (!db)
		return TB_EUNAVAIL;
	if (applied)
		*applied = 0;
	tb_rc rc = db->be->exec_script(db,
				       "CREATE TABLE IF NOT EXISTS schema_migrations (\n"
				       "  version INTEGER PRIMARY KEY, name TEXT NOT NULL,\n"
				       "  applied_at TEXT NOT NULL)",
				       err);
	if (rc)
		return rc;
	for (size_t i = 0; i < tb_migrations_count; i++) {
		const struct tb_migration *m = &tb_migrations[i];
		if ((rc = tb_db_begin(db, true)))
			return tb_fail(err, rc, "db", "cannot lock the database for migration");
		rc = apply_one(db, m, applied, err);
		if (rc) {
			tb_db_rollback(db);
			if (!err || !err->msg[0])
				tb_fail(err, rc, "", "migration %d failed", m->version);
			return rc;
		}
		if ((rc = tb_db_commit(db)))
			return tb_fail(err, rc, "", "migration %d: commit failed", m->version);
	}
	return TB_OK;
}

/* ---- full-text search ---- */

tb_rc tb_db_fts_put(struct tb_db *db, const char *index, int64_t id, const char *const *fields,
		    size_t nfields)
{
	if (!tb_store_ident_ok(index) || nfields == 0 || nfields > 8)
		return TB_EINTERNAL;
	return db->be->fts_put(db, index, id, fields, nfields);
}

tb_rc tb_db_fts_delete(struct tb_db *db, const char *index, int64_t id)
{
	if (!tb_store_ident_ok(index))
		return TB_EINTERNAL;
	return db->be->fts_delete(db, index, id);
}

tb_rc tb_db_fts_search(struct tb_db *db, const struct tb_fts_query *q, struct tb_fts_hit *hits,
		       size_t *nhits, int64_t *total)
{
	*nhits = 0;
	if (!tb_store_ident_ok(q->index) || !tb_store_ident_ok(q->content) || q->nterms == 0)
		return TB_EINTERNAL;
	return db->be->fts_search(db, q, hits, nhits, total);
}

void tb_fts_hits_release(struct tb_fts_hit *hits, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(hits[i].highlight);
		free(hits[i].snippet);
		hits[i].highlight = hits[i].snippet = NULL;
	}
}

tb_rc tb_db_fts_group(struct tb_db *db, const struct tb_fts_query *q, const char *expr,
		      void (*fn)(void *ctx, const char *key, int64_t count), void *ctx)
{
	if (!tb_store_ident_ok(q->index) || !tb_store_ident_ok(q->content) || q->nterms == 0)
		return TB_EINTERNAL;
	return db->be->fts_group(db, q, expr, fn, ctx);
}
