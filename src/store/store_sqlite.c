/* store_sqlite.c: the SQLite backend. Every SQLite-specific line of tongban is here. */
#include "store/backend.h"
#include "base/buf.h"
#include "base/log.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { CACHE_SLOTS = 512 };

struct sq_stmt {
	struct tb_stmt base; /* first: a struct tb_stmt * points here */
	sqlite3_stmt *s;
	char *sql;
	bool in_use, temp;
};

struct sq_db {
	struct tb_db base; /* first: a struct tb_db * points here */
	sqlite3 *h;
	pthread_mutex_t *writer; /* this file's writer lock in this process */
	bool writing;		 /* held: a write transaction is open */
	struct sq_stmt *cache[CACHE_SLOTS];
	struct {
		char *index, *sql;
	} fts_sql[8];
};

static struct sq_db *DB(struct tb_db *db)
{
	return (struct sq_db *)db;
}

static struct sq_stmt *ST(struct tb_stmt *st)
{
	return (struct sq_stmt *)st;
}

static void db_close(struct sq_db *db)
{
	if (!db)
		return;
	for (int i = 0; i < CACHE_SLOTS; i++) {
		if (db->cache[i]) {
			sqlite3_finalize(db->cache[i]->s);
			free(db->cache[i]->sql);
			free(db->cache[i]);
		}
	}
	for (int i = 0; i < 8; i++) {
		free(db->fts_sql[i].index);
		free(db->fts_sql[i].sql);
	}
	sqlite3_close_v2(db->h);
	if (db->writing) /* closed inside a write transaction: SQLite rolled it back */
		pthread_mutex_unlock(db->writer);
	free(db);
}

/* ---- the tb_bigram FTS5 tokenizer ---- */

struct tok_call {
	void *ctx;
	int (*x_token)(void *, int, const char *, int, int, int);
};

static int tok_cb(void *ctx, const char *tok, int ntok, int start, int end)
{
	struct tok_call *c = ctx;
	return c->x_token(c->ctx, 0, tok, ntok, start, end);
}

static int tok_create(void *ctx, const char **argv, int argc, Fts5Tokenizer **out)
{
	(void)ctx, (void)argv, (void)argc;
	*out = (Fts5Tokenizer *)1; /* stateless */
	return SQLITE_OK;
}

static void tok_delete(Fts5Tokenizer *t)
{
	(void)t;
}

static int tok_tokenize(Fts5Tokenizer *t, void *ctx, int flags, const char *text, int n,
			int (*x_token)(void *, int, const char *, int, int, int))
{
	(void)t;
	struct tok_call c = {ctx, x_token};
	int tflags = (flags & FTS5_TOKENIZE_QUERY) ? TB_TOKEN_QUERY : 0;
	return tb_text_tokenize(text, n > 0 ? (size_t)n : 0, tflags, tok_cb, &c);
}

static int register_tokenizer(sqlite3 *h)
{
	fts5_api *api = NULL;
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(h, "SELECT fts5(?1)", -1, &st, NULL);
	if (rc)
		return rc;
	sqlite3_bind_pointer(st, 1, &api, "fts5_api_ptr", NULL);
	sqlite3_step(st);
	sqlite3_finalize(st);
	if (!api)
		return SQLITE_ERROR;
	static fts5_tokenizer tok = {tok_create, tok_delete, tok_tokenize};
	return api->xCreateTokenizer(api, "tb_bigram", NULL, &tok, NULL);
}

/* ---- connections ---- */

static pthread_mutex_t *writer_of(const char *path);

static struct tb_db *sq_open(const char *path, struct tb_err *err)
{
	struct sq_db *db = calloc(1, sizeof(*db));
	if (!db) {
		tb_fail(err, TB_ENOMEM, "", "out of memory");
		return NULL;
	}
	int rc = sqlite3_open_v2(
	    path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc) {
		tb_fail(err, TB_EUNAVAIL, "db", "cannot open %s: %s", path,
			db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
		sqlite3_close_v2(db->h);
		free(db);
		return NULL;
	}
	sqlite3_busy_timeout(db->h, 10000);
	sqlite3_extended_result_codes(db->h, 1);
	db->writer = writer_of(path);
	/* No memory-mapped I/O: with every worker thread's connection mapping the file,
	 * the growing database made them fault their pages in again and again (page-table
	 * teardown and faults took some 40 % of the server's CPU under writes): bench/
	 * cases.sh measured transitions at 2.1 ms CPU each with a 1 GiB map and 0.86 ms
	 * without, submissions 6.9 ms and 5.5 ms, and guide reads and search no slower. */
	const char *pragmas = "PRAGMA journal_mode=WAL;"
			      "PRAGMA synchronous=NORMAL;"
			      "PRAGMA foreign_keys=ON;"
			      "PRAGMA temp_store=MEMORY;"
			      "PRAGMA cache_size=-65536;"
			      "PRAGMA mmap_size=0;";
	char *msg = NULL;
	if (sqlite3_exec(db->h, pragmas, NULL, NULL, &msg) || register_tokenizer(db->h)) {
		tb_fail(err, TB_EUNAVAIL, "db", "cannot set up %s: %s", path,
			msg ? msg : sqlite3_errmsg(db->h));
		sqlite3_free(msg);
		db_close(db);
		return NULL;
	}
	return &db->base;
}

static void sq_close(struct tb_db *db)
{
	db_close(DB(db));
}

static tb_rc make_parent_dirs(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0750) && errno != EEXIST)
			return TB_EIO;
		*p = '/';
	}
	return TB_OK;
}

static tb_rc sq_check(const char *path, struct tb_err *err)
{
	if (!*path)
		return tb_fail(err, TB_EINVAL, "db", "empty database path");
	if (make_parent_dirs(path))
		return tb_fail(err, TB_EIO, "db", "cannot create the directory of %s: %s", path,
			       strerror(errno));
	return TB_OK;
}

static const char *sq_errmsg(struct tb_db *db)
{
	return sqlite3_errmsg(DB(db)->h);
}

static tb_rc map_rc(struct sq_db *db, int rc)
{
	switch (rc & 0xFF) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return TB_OK;
	case SQLITE_CONSTRAINT:
		return TB_ECONFLICT;
	case SQLITE_NOMEM:
		return TB_ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_FULL:
		tb_log(TB_LOG_ERROR, "db", "%s", sqlite3_errmsg(db->h));
		return TB_EUNAVAIL;
	default:
		tb_log(TB_LOG_ERROR, "db", "%s", sqlite3_errmsg(db->h));
		return TB_EDB;
	}
}

/* Writers of one file in this process queue on a mutex before BEGIN IMMEDIATE: SQLite
 * lets one writer in at a time anyway, and a connection that finds the lock taken
 * sleeps in its busy handler (1, 2, 5 ... 100 ms) instead of being woken when the lock
 * is free, so under concurrent writes the lock stood idle most of the time (bench/
 * cases.sh: submissions at a fifth of bare SQLite's rate). The busy handler still
 * covers other processes (the CLI beside a running server). */
static struct {
	pthread_mutex_t lock;
	struct {
		char *path;
		pthread_mutex_t writer;
	} files[16];
	size_t n;
} writers = {.lock = PTHREAD_MUTEX_INITIALIZER};

static pthread_mutex_t *writer_of(const char *path)
{
	pthread_mutex_t *m = NULL;
	pthread_mutex_lock(&writers.lock);
	for (size_t i = 0; i < writers.n && !m; i++)
		if (!strcmp(writers.files[i].path, path))
			m = &writers.files[i].writer;
	if (!m && writers.n < TB_ARRAY_LEN(writers.files) &&
	    (writers.files[writers.n].path = strdup(path))) {
		m = &writers.files[writers.n].writer;
		pthread_mutex_init(m, NULL);
		writers.n++;
	}
	pthread_mutex_unlock(&writers.lock);
	return m; /* NULL (more files than slots): the busy handler alone */
}

static void writer_release(struct sq_db *db)
{
	if (db->writing) {
		db->writing = false;
		pthread_mutex_unlock(db->writer);
	}
}

static tb_rc sq_begin(struct tb_db *d, bool write)
{
	struct sq_db *db = DB(d);
	if (write && db->writer) {
		pthread_mutex_lock(db->writer);
		db->writing = true;
	}
	int rc = sqlite3_exec(db->h, write ? "BEGIN IMMEDIATE" : "BEGIN", NULL, NULL, NULL);
	if (rc)
		writer_release(db);
	return rc ? map_rc(db, rc) : TB_OK;
}

static tb_rc sq_commit(struct tb_db *d)
{
	struct sq_db *db = DB(d);
	int rc = sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL);
	if (!rc)
		writer_release(db);
	return rc ? map_rc(db, rc) : TB_OK; /* on failure tb_db_commit rolls back */
}

static void sq_rollback(struct tb_db *d)
{
	struct sq_db *db = DB(d);
	if (!sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	writer_release(db);
}

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static tb_rc sq_prepare(struct tb_db *d, const char *sql, struct tb_stmt **out)
{
	struct sq_db *db = DB(d);
	uint32_t h = hash_str(sql);
	for (int probe = 0; probe < 8; probe++) {
		struct sq_stmt **slot = &db->cache[(h + (uint32_t)probe) % CACHE_SLOTS];
		struct sq_stmt *st = *slot;
		if (st && !strcmp(st->sql, sql)) {
			if (st->in_use)
				break; /* the same SQL is being iterated: use a one-off below */
			st->in_use = true;
			*out = &st->base;
			return TB_OK;
		}
		if (!st) {
			st = calloc(1, sizeof(*st));
			if (!st || !(st->sql = strdup(sql))) {
				free(st);
				return TB_ENOMEM;
			}
			int rc = sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT,
						    &st->s, NULL);
			if (rc) {
				tb_log(TB_LOG_ERROR, "db.prepare", "%s: %s", sqlite3_errmsg(db->h),
				       sql);
				free(st->sql);
				free(st);
				return map_rc(db, rc);
			}
			st->base.db = d;
			st->in_use = true;
			*slot = st;
			*out = &st->base;
			return TB_OK;
		}
	}
	struct sq_stmt *st = calloc(1, sizeof(*st));
	if (!st)
		return TB_ENOMEM;
	int rc = sqlite3_prepare_v2(db->h, sql, -1, &st->s, NULL);
	if (rc) {
		tb_log(TB_LOG_ERROR, "db.prepare", "%s: %s", sqlite3_errmsg(db->h), sql);
		free(st);
		return map_rc(db, rc);
	}
	st->base.db = d;
	st->temp = true;
	st->in_use = true;
	*out = &st->base;
	return TB_OK;
}

static void sq_done(struct tb_stmt *t)
{
	struct sq_stmt *st = ST(t);
	if (!st->in_use)
		return;
	sqlite3_reset(st->s);
	sqlite3_clear_bindings(st->s);
	st->in_use = false;
	if (st->temp) {
		sqlite3_finalize(st->s);
		free(st);
	}
}

static tb_rc sq_bind_textn(struct tb_stmt *t, int i, const char *s, size_t n)
{
	struct sq_stmt *st = ST(t);
	int rc = s ? sqlite3_bind_text(st->s, i, s, (int)n, SQLITE_TRANSIENT)
		   : sqlite3_bind_null(st->s, i);
	return map_rc(DB(t->db), rc);
}

static tb_rc sq_bind_int(struct tb_stmt *t, int i, int64_t v)
{
	return map_rc(DB(t->db), sqlite3_bind_int64(ST(t)->s, i, v));
}

static tb_rc sq_bind_null(struct tb_stmt *t, int i)
{
	return map_rc(DB(t->db), sqlite3_bind_null(ST(t)->s, i));
}

static tb_rc sq_bind_blob(struct tb_stmt *t, int i, const void *data, size_t n)
{
	struct sq_stmt *st = ST(t);
	int rc;
	if (!data)
		rc = sqlite3_bind_null(st->s, i);
	else /* a zero-length blob is not NULL */
		rc = n ? sqlite3_bind_blob64(st->s, i, data, n, SQLITE_TRANSIENT)
		       : sqlite3_bind_zeroblob(st->s, i, 0);
	return map_rc(DB(t->db), rc);
}

static tb_rc sq_step(struct tb_stmt *t, bool *row)
{
	int rc = sqlite3_step(ST(t)->s);
	*row = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return TB_OK;
	return map_rc(DB(t->db), rc);
}

static int64_t sq_changes(struct tb_stmt *t)
{
	return sqlite3_changes64(DB(t->db)->h);
}

static const char *sq_text(struct tb_stmt *t, int col)
{
	return (const char *)sqlite3_column_text(ST(t)->s, col);
}

static size_t sq_len(struct tb_stmt *t, int col)
{
	return (size_t)sqlite3_column_bytes(ST(t)->s, col);
}

static const void *sq_blob(struct tb_stmt *t, int col, size_t *len)
{
	sqlite3_stmt *s = ST(t)->s;
	*len = 0;
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return NULL;
	const void *p = sqlite3_column_blob(s, col); /* NULL for zero bytes */
	*len = (size_t)sqlite3_column_bytes(s, col);
	return p ? p : "";
}

static int64_t sq_int(struct tb_stmt *t, int col)
{
	return sqlite3_column_int64(ST(t)->s, col);
}

static bool sq_null(struct tb_stmt *t, int col)
{
	return sqlite3_column_type(ST(t)->s, col) == SQLITE_NULL;
}

/* ---- migrations ---- */

static tb_rc sq_exec_script(struct tb_db *d, const char *script, struct tb_err *err)
{
	struct sq_db *db = DB(d);
	/* Split on ";\n"; turn `@fulltext name(a, b)` into an FTS5 table and
	 * `@append_only name` into triggers that refuse UPDATE and DELETE. */
	const char *p = script;
	while (*p) {
		const char *end = strstr(p, ";\n");
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char *stmt = strndup(p, n);
		if (!stmt)
			return TB_ENOMEM;
		char *sql = stmt;
		char buf[1024];
		if (!strncmp(stmt, "@fulltext ", 10)) {
			char name[64], fields[512];
			if (sscanf(stmt + 10, "%63[a-z_](%511[^)])", name, fields) != 2) {
				free(stmt);
				return tb_fail(err, TB_EINTERNAL, "", "bad @fulltext line");
			}
			snprintf(buf, sizeof(buf),
				 "CREATE VIRTUAL TABLE %s USING fts5(%s, tokenize='tb_bigram')",
				 name, fields);
			sql = buf;
		} else if (!strncmp(stmt, "@append_only ", 13)) {
			char name[64];
			if (sscanf(stmt + 13, "%63[a-z_]", name) != 1) {
				free(stmt);
				return tb_fail(err, TB_EINTERNAL, "", "bad @append_only line");
			}
			snprintf(buf, sizeof(buf),
				 "CREATE TRIGGER %s_no_update BEFORE UPDATE ON %s BEGIN SELECT "
				 "RAISE(ABORT, '%s is append-only'); END; CREATE TRIGGER "
				 "%s_no_delete BEFORE DELETE ON %s BEGIN SELECT RAISE(ABORT, "
				 "'%s is append-only'); END",
				 name, name, name, name, name, name);
			sql = buf;
		}
		char *msg = NULL;
		int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
		free(stmt);
		if (rc) {
			tb_fail(err, TB_EDB, "", "migration failed: %s", msg ? msg : "");
			sqlite3_free(msg);
			return TB_EDB;
		}
		p += n;
		if (end)
			p += 2;
	}
	return TB_OK;
}

/* ---- full-text search ---- */

/* The INSERT for an index, built once per connection from the table's columns. */
static const char *fts_insert_sql(struct sq_db *db, const char *index, size_t nfields)
{
	for (int i = 0; i < 8 && db->fts_sql[i].index; i++)
		if (!strcmp(db->fts_sql[i].index, index))
			return db->fts_sql[i].sql;
	int slot = 0;
	while (slot < 8 && db->fts_sql[slot].index)
		slot++;
	if (slot == 8)
		return NULL;
	char q[128];
	snprintf(q, sizeof(q), "SELECT * FROM %s LIMIT 0", index);
	sqlite3_stmt *cols;
	if (sqlite3_prepare_v2(db->h, q, -1, &cols, NULL))
		return NULL;
	struct tb_buf b;
	tb_buf_init(&b, 1024);
	/* OR REPLACE: FTS5 drops the old document of the same rowid first. */
	tb_buf_printf(&b, "INSERT OR REPLACE INTO %s (rowid", index);
	for (int i = 0; i < (int)nfields && i < sqlite3_column_count(cols); i++)
		tb_buf_printf(&b, ", %s", sqlite3_column_name(cols, i));
	sqlite3_finalize(cols);
	tb_buf_puts(&b, ") VALUES (?");
	for (size_t i = 0; i < nfields; i++)
		tb_buf_puts(&b, ", ?");
	if (tb_buf_putc(&b, ')') || !(db->fts_sql[slot].index = strdup(index))) {
		tb_buf_release(&b);
		return NULL;
	}
	db->fts_sql[slot].sql = tb_buf_steal(&b, NULL);
	return db->fts_sql[slot].sql;
}

static tb_rc sq_fts_put(struct tb_db *db, const char *index, int64_t id, const char *const *fields,
			size_t nfields)
{
	const char *sql = fts_insert_sql(DB(db), index, nfields);
	if (!sql)
		return TB_EDB;
	struct tb_stmt *st;
	tb_rc rc = tb_db_prepare(db, sql, &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, id);
	for (size_t i = 0; i < nfields; i++)
		tb_stmt_bind_text(st, (int)i + 2, fields[i] ? fields[i] : "");
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc;
}

static tb_rc sq_fts_delete(struct tb_db *db, const char *index, int64_t id)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE rowid = ?", index);
	struct tb_stmt *st;
	tb_rc rc = tb_db_prepare(db, sql, &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, id);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc;
}

/* FTS5 query syntax: every term a quoted phrase (our tokenizer cuts it into bigrams
 * that must be adjacent), ANDed; a prefix term gets `*`. */
static tb_rc match_expr(const struct tb_fts_query *q, struct tb_buf *b)
{
	tb_rc rc = TB_OK;
	if (q->columns) {
		for (const char *c = q->columns; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || *c == '_' || *c == ' '))
				return TB_EINTERNAL;
		rc = tb_buf_printf(b, "{%s} : (", q->columns);
	}
	for (size_t i = 0; i < q->nterms && !rc; i++) {
		if (i)
			rc = tb_buf_puts(b, " AND ");
		rc = rc ? rc : tb_buf_putc(b, '"');
		for (const char *p = q->terms[i].text; *p && !rc; p++)
			rc = *p == '"' ? tb_buf_puts(b, "\"\"") : tb_buf_putc(b, *p);
		rc = rc ? rc : tb_buf_putc(b, '"');
		if (!rc && q->terms[i].prefix)
			rc = tb_buf_puts(b, " *");
	}
	if (!rc && q->columns)
		rc = tb_buf_putc(b, ')');
	return rc;
}

/* One hit per group: SQLite takes the bare column c.id from the row that gives min(),
 * that is the best-ranked row of each group. Marks are fetched per hit afterwards, as
 * FTS5's auxiliary functions do not run inside an aggregate. */
static tb_rc fts_search_grouped(struct tb_db *db, const struct tb_fts_query *q, const char *expr,
				const char *filter, struct tb_fts_hit *hits, size_t *nhits)
{
	struct tb_buf sql;
	tb_buf_init(&sql, 16384);
	/* bm25() may not run inside an aggregate: rank in a materialized subquery and
	 * group outside it. */
	tb_buf_printf(&sql, "WITH ranked AS MATERIALIZED (SELECT bm25(%s", q->index);
	for (size_t i = 0; i < q->nweights; i++)
		tb_buf_printf(&sql, ", %.1f", q->weights[i]);
	tb_buf_printf(&sql,
		      ") AS score, c.id AS id, %s AS grp FROM %s JOIN %s c ON c.id = %s.rowid "
		      "WHERE %s MATCH ? AND (%s)) SELECT min(score), id, count(*) FROM ranked "
		      "GROUP BY grp ORDER BY 1, 2 LIMIT ? OFFSET ?",
		      q->group, q->index, q->content, q->index, q->index, filter);
	struct tb_stmt *st;
	bool row;
	tb_rc rc = sql.data ? tb_db_prepare(db, sql.data, &st) : TB_ENOMEM;
	if (!rc) {
		int idx = 1;
		tb_stmt_bind_text(st, idx++, expr);
		for (size_t i = 0; i < q->nparams; i++)
			tb_stmt_bind_text(st, idx++, q->params[i]);
		tb_stmt_bind_int(st, idx++, q->limit);
		tb_stmt_bind_int(st, idx++, q->offset);
		while (!(rc = tb_stmt_step(st, &row)) && row && *nhits < (size_t)q->limit) {
			struct tb_fts_hit *h = &hits[(*nhits)++];
			h->id = tb_stmt_int(st, 1);
			h->group_count = tb_stmt_int(st, 2);
			h->highlight = h->snippet = NULL;
		}
		tb_stmt_done(st);
	}
	/* the marks of each hit */
	size_t ns = q->nsnippet > 4 ? 4 : q->nsnippet;
	tb_buf_reset(&sql);
	tb_buf_puts(&sql, "SELECT ");
	if (q->highlight_field >= 0)
		tb_buf_printf(&sql, "highlight(%s, %d, '<mark>', '</mark>')", q->index,
			      q->highlight_field);
	else
		tb_buf_puts(&sql, "NULL");
	for (size_t i = 0; i < ns; i++)
		tb_buf_printf(&sql, ", snippet(%s, %d, '<mark>', '</mark>', '…', 24)", q->index,
			      q->snippet_fields[i]);
	tb_buf_printf(&sql, " FROM %s WHERE %s MATCH ? AND rowid = ?", q->index, q->index);
	for (size_t k = 0; !rc && k < *nhits; k++) {
		if ((rc = tb_db_prepare(db, sql.data, &st)))
			break;
		tb_stmt_bind_text(st, 1, expr);
		tb_stmt_bind_int(st, 2, hits[k].id);
		if (!(rc = tb_stmt_step(st, &row)) && row) {
			hits[k].highlight =
			    tb_stmt_null(st, 0) ? NULL : strdup(tb_stmt_text(st, 0));
			for (size_t i = 0; i < ns && !hits[k].snippet; i++) {
				const char *sn = tb_stmt_text(st, 1 + (int)i);
				if (sn && (strstr(sn, "<mark>") || i + 1 == ns))
					hits[k].snippet = strdup(sn);
			}
		}
		tb_stmt_done(st);
	}
	tb_buf_release(&sql);
	return rc;
}

static tb_rc sq_fts_search(struct tb_db *db, const struct tb_fts_query *q, struct tb_fts_hit *hits,
			   size_t *nhits, int64_t *total)
{
	struct tb_buf expr, sql;
	tb_buf_init(&expr, 8192);
	tb_buf_init(&sql, 16384);
	tb_rc rc = match_expr(q, &expr);
	struct tb_stmt *st = NULL;
	bool row;
	if (rc)
		goto out;
	const char *filter = q->filter && *q->filter ? q->filter : "1";
	if (total) {
		tb_buf_printf(&sql,
			      "SELECT count(%s%s) FROM %s JOIN %s c ON c.id = %s.rowid "
			      "WHERE %s MATCH ? AND (%s)",
			      q->group ? "DISTINCT " : "*", q->group ? q->group : "", q->index,
			      q->content, q->index, q->index, filter);
		if ((rc = tb_db_prepare(db, sql.data, &st)))
			goto out;
		tb_stmt_bind_text(st, 1, expr.data);
		for (size_t i = 0; i < q->nparams; i++)
			tb_stmt_bind_text(st, (int)i + 2, q->params[i]);
		if (!(rc = tb_stmt_step(st, &row)))
			*total = row ? tb_stmt_int(st, 0) : 0;
		tb_stmt_done(st);
		if (rc)
			goto out;
		if (*total == 0 || q->limit == 0)
			goto out;
	}
	if (q->group) {
		rc = fts_search_grouped(db, q, expr.data, filter, hits, nhits);
		goto out;
	}
	tb_buf_reset(&sql);
	tb_buf_printf(&sql, "SELECT %s.rowid", q->index);
	if (q->highlight_field >= 0)
		tb_buf_printf(&sql, ", highlight(%s, %d, '<mark>', '</mark>')", q->index,
			      q->highlight_field);
	else
		tb_buf_puts(&sql, ", NULL");
	size_t ns = q->nsnippet > 4 ? 4 : q->nsnippet;
	for (size_t i = 0; i < ns; i++)
		tb_buf_printf(&sql, ", snippet(%s, %d, '<mark>', '</mark>', '…', 24)", q->index,
			      q->snippet_fields[i]);
	tb_buf_printf(&sql, " FROM %s JOIN %s c ON c.id = %s.rowid WHERE %s MATCH ? AND (%s)",
		      q->index, q->content, q->index, q->index, filter);
	tb_buf_printf(&sql, " ORDER BY bm25(%s", q->index);
	for (size_t i = 0; i < q->nweights; i++)
		tb_buf_printf(&sql, ", %.1f", q->weights[i]);
	rc = tb_buf_puts(&sql, "), c.id LIMIT ? OFFSET ?");
	if (rc || (rc = tb_db_prepare(db, sql.data, &st)))
		goto out;
	int idx = 1;
	tb_stmt_bind_text(st, idx++, expr.data);
	for (size_t i = 0; i < q->nparams; i++)
		tb_stmt_bind_text(st, idx++, q->params[i]);
	tb_stmt_bind_int(st, idx++, q->limit);
	tb_stmt_bind_int(st, idx++, q->offset);
	while (!(rc = tb_stmt_step(st, &row)) && row && *nhits < (size_t)q->limit) {
		struct tb_fts_hit *h = &hits[(*nhits)++];
		h->id = tb_stmt_int(st, 0);
		h->group_count = 1;
		h->highlight = tb_stmt_null(st, 1) ? NULL : strdup(tb_stmt_text(st, 1));
		h->snippet = NULL;
		for (size_t i = 0; i < ns && !h->snippet; i++) {
			const char *sn = tb_stmt_text(st, 2 + (int)i);
			if (sn && (strstr(sn, "<mark>") || i + 1 == ns))
				h->snippet = strdup(sn);
		}
	}
	tb_stmt_done(st);
out:
	tb_buf_release(&expr);
	tb_buf_release(&sql);
	return rc;
}

static tb_rc sq_fts_group(struct tb_db *db, const struct tb_fts_query *q, const char *expr,
			  void (*fn)(void *ctx, const char *key, int64_t count), void *ctx)
{
	struct tb_buf e, sql;
	tb_buf_init(&e, 8192);
	tb_buf_init(&sql, 16384);
	tb_rc rc = match_expr(q, &e);
	struct tb_stmt *st;
	bool row;
	if (!rc)
		rc = tb_buf_printf(&sql,
				   "SELECT %s, count(%s%s) FROM %s JOIN %s c ON c.id = %s.rowid "
				   "WHERE %s MATCH ? AND (%s) GROUP BY 1",
				   expr, q->group ? "DISTINCT " : "*", q->group ? q->group : "",
				   q->index, q->content, q->index, q->index,
				   q->filter && *q->filter ? q->filter : "1");
	if (!rc && !(rc = tb_db_prepare(db, sql.data, &st))) {
		tb_stmt_bind_text(st, 1, e.data);
		for (size_t i = 0; i < q->nparams; i++)
			tb_stmt_bind_text(st, (int)i + 2, q->params[i]);
		while (!(rc = tb_stmt_step(st, &row)) && row)
			fn(ctx, tb_stmt_text(st, 0), tb_stmt_int(st, 1));
		tb_stmt_done(st);
	}
	tb_buf_release(&e);
	tb_buf_release(&sql);
	return rc;
}

const struct tb_backend tb_backend_sqlite = {
    .name = "sqlite",
    .check = sq_check,
    .open = sq_open,
    .close = sq_close,
    .exec_script = sq_exec_script,
    .lock_migrations = NULL,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .prepare = sq_prepare,
    .bind_textn = sq_bind_textn,
    .bind_int = sq_bind_int,
    .bind_null = sq_bind_null,
    .bind_blob = sq_bind_blob,
    .step = sq_step,
    .changes = sq_changes,
    .text = sq_text,
    .len = sq_len,
    .int64 = sq_int,
    .null = sq_null,
    .blob = sq_blob,
    .done = sq_done,
    .errmsg = sq_errmsg,
    .fts_put = sq_fts_put,
    .fts_delete = sq_fts_delete,
    .fts_search = sq_fts_search,
    .fts_group = sq_fts_group,
};
