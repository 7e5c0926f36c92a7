/* store_pg.c: the PostgreSQL backend (libpq). Every PostgreSQL-specific line of tongban
 * is here: URL and connection, `?` placeholders rewritten to `$n` and prepared on the
 * server once per connection, the schema's dialect points, and full-text search on a
 * tsvector built in C by our own bigram tokenizer (docs/postgres.md). */
#include "store/backend.h"
#include "base/buf.h"
#include "base/log.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PG_CACHE_SLOTS = 512, PG_INDEXES = 8, PG_MAX_COLS = 8, PG_MAX_POS = 16383 };

struct pg_stmt {
	struct tb_stmt base; /* first: a struct tb_stmt * points here */
	char *sql;	     /* as the block wrote it: the cache key */
	char *pgsql;	     /* with $1..$n */
	char name[24];	     /* server-side name; "" for a one-off */
	unsigned gen;	     /* the connection generation it was prepared in */
	int nparams;
	char **vals;	       /* nparams values (NULL: SQL NULL) */
	int *lens;	       /* nparams: the byte count of a binary value */
	int *fmts;	       /* nparams: 1 for a binary value (a blob), 0 for text */
	unsigned char **blobs; /* the current row's decoded BYTEA columns (PQnfields) */
	int nblobs;
	PGresult *res;
	int next, cur, nrows;
	bool in_use, temp, ran;
};

struct pg_index {
	char *name;
	int ncols;
	char *cols[PG_MAX_COLS];
};

struct pg_db {
	struct tb_db base; /* first: a struct tb_db * points here */
	PGconn *conn;
	char *where;	/* "postgres://user@host:port/db", never the password */
	char *password; /* only to scrub it from messages */
	unsigned gen;	/* bumped on every reconnect: prepared statements die with it */
	unsigned names;
	struct pg_stmt *cache[PG_CACHE_SLOTS];
	struct pg_index fts[PG_INDEXES];
};

static struct pg_db *DB(struct tb_db *db)
{
	return (struct pg_db *)db;
}

static struct pg_stmt *ST(struct tb_stmt *st)
{
	return (struct pg_stmt *)st;
}

/* ---- URL and messages ---- */

/* Where the URL points, for messages: scheme://user@host:port/db, without password. */
static char *describe(const char *url, char **password, char *errbuf, size_t errlen)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(url, &msg);
	if (!opts) {
		snprintf(errbuf, errlen, "%s", msg ? msg : "out of memory");
		PQfreemem(msg);
		return NULL;
	}
	const char *host = NULL, *port = NULL, *dbname = NULL, *user = NULL, *pass = NULL;
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val)
			continue;
		if (!strcmp(o->keyword, "host") || (!strcmp(o->keyword, "hostaddr") && !host))
			host = o->val;
		else if (!strcmp(o->keyword, "port"))
			port = o->val;
		else if (!strcmp(o->keyword, "dbname"))
			dbname = o->val;
		else if (!strcmp(o->keyword, "user"))
			user = o->val;
		else if (!strcmp(o->keyword, "password"))
			pass = o->val;
	}
	struct tb_buf b;
	tb_buf_init(&b, 256);
	tb_buf_printf(&b, "postgres://%s%s%s%s%s/%s", user ? user : "", user ? "@" : "",
		      host ? host : "localhost", port ? ":" : "", port ? port : "",
		      dbname ? dbname : "");
	if (password)
		*password = pass && *pass ? strdup(pass) : NULL;
	PQconninfoFree(opts);
	return tb_buf_steal(&b, NULL);
}

/* libpq's message on one line, with the password (if it ever appeared) scrubbed. */
static void clean_message(const char *in, const char *password, char *out, size_t n)
{
	size_t o = 0, pl = password ? strlen(password) : 0;
	for (const char *p = in ? in : ""; *p && o + 1 < n; p++) {
		if (pl >= 3 && !strncmp(p, password, pl)) {
			for (const char *r = "***"; *r && o + 1 < n; r++)
				out[o++] = *r;
			p += pl - 1;
			continue;
		}
		char c = *p == '\n' || *p == '\t' || *p == '\r' ? ' ' : *p;
		if (c == ' ' && o > 0 && out[o - 1] == ' ')
			continue;
		out[o++] = c;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = 0;
}

static tb_rc pg_check(const char *url, struct tb_err *err)
{
	char msg[512], clean[512];
	char *where = describe(url, NULL, msg, sizeof(msg));
	if (!where) {
		/* the URL may hold a password: show neither it nor the URL */
		clean_message(msg, NULL, clean, sizeof(clean));
		return tb_fail(err, TB_EINVAL, "db", "bad PostgreSQL URL: %s", clean);
	}
	free(where);
	return TB_OK;
}

static void log_db_error(struct pg_db *db, const char *what, const char *sql)
{
	char clean[1024];
	clean_message(PQerrorMessage(db->conn), db->password, clean, sizeof(clean));
	if (sql)
		tb_log(TB_LOG_ERROR, what, "%s: %s", clean, sql);
	else
		tb_log(TB_LOG_ERROR, what, "%s", clean);
}

/* ---- connections ---- */

/* Decoded BYTEA values live until the next step or reset. */
static void free_blobs(struct pg_stmt *st)
{
	for (int i = 0; i < st->nblobs; i++) {
		PQfreemem(st->blobs[i]);
		st->blobs[i] = NULL;
	}
}

static void stmt_free(struct pg_stmt *st)
{
	if (!st)
		return;
	for (int i = 0; st->vals && i < st->nparams; i++)
		free(st->vals[i]);
	free(st->vals);
	free(st->lens);
	free(st->fmts);
	free_blobs(st);
	free(st->blobs);
	PQclear(st->res);
	free(st->sql);
	free(st->pgsql);
	free(st);
}

static void pg_close(struct tb_db *d)
{
	struct pg_db *db = DB(d);
	if (!db)
		return;
	for (int i = 0; i < PG_CACHE_SLOTS; i++)
		stmt_free(db->cache[i]);
	for (int i = 0; i < PG_INDEXES; i++) {
		free(db->fts[i].name);
		for (int k = 0; k < db->fts[i].ncols; k++)
			free(db->fts[i].cols[k]);
	}
	PQfinish(db->conn);
	free(db->where);
	free(db->password);
	free(db);
}

/* NOTICEs ("relation ... already exists, skipping") are not for the operator. */
static void quiet(void *arg, const char *message)
{
	(void)arg, (void)message;
}

static struct tb_db *pg_open(const char *url, struct tb_err *err)
{
	struct pg_db *db = calloc(1, sizeof(*db));
	char msg[512], clean[512];
	if (!db) {
		tb_fail(err, TB_ENOMEM, "", "out of memory");
		return NULL;
	}
	if (!(db->where = describe(url, &db->password, msg, sizeof(msg)))) {
		clean_message(msg, NULL, clean, sizeof(clean));
		tb_fail(err, TB_EINVAL, "db", "bad PostgreSQL URL: %s", clean);
		free(db);
		return NULL;
	}
	/* Ours first: the URL's own settings override them. */
	const char *keys[] = {"connect_timeout", "application_name", "dbname", "client_encoding",
			      NULL};
	const char *vals[] = {"10", "tongban", url, "UTF8", NULL};
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
		clean_message(db->conn ? PQerrorMessage(db->conn) : "out of memory", db->password,
			      clean, sizeof(clean));
		tb_fail(err, TB_EUNAVAIL, "db", "cannot connect to PostgreSQL at %s: %s", db->where,
			clean);
		pg_close(&db->base);
		return NULL;
	}
	PQsetNoticeProcessor(db->conn, quiet, NULL);
	db->gen = 1;
	return &db->base;
}

/* Before a statement or a transaction: a connection that broke is reset (not inside a
 * transaction: that one is lost, the caller rolls back and the next request retries). */
static bool pg_alive(struct pg_db *db)
{
	if (PQstatus(db->conn) == CONNECTION_OK)
		return true;
	if (db->base.in_tx)
		return false;
	PQreset(db->conn);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		log_db_error(db, "db.reconnect", NULL);
		return false;
	}
	db->gen++; /* every prepared statement is gone */
	tb_log(TB_LOG_INFO, "db", "reconnected to %s", db->where);
	return true;
}

static tb_rc map_result(struct pg_db *db, const PGresult *res, const char *sql)
{
	if (PQstatus(db->conn) != CONNECTION_OK) {
		log_db_error(db, "db", NULL);
		return TB_EUNAVAIL;
	}
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (!state)
		state = "";
	if (!strncmp(state, "23", 2))
		return TB_ECONFLICT;
	char clean[1024];
	clean_message(res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn), db->password,
		      clean, sizeof(clean));
	tb_log(TB_LOG_ERROR, "db", "%s%s%s", clean, sql ? ": " : "", sql ? sql : "");
	if (!strncmp(state, "08", 2) || !strncmp(state, "53", 2) || !strncmp(state, "57", 2) ||
	    !strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"))
		return TB_EUNAVAIL;
	if (!strcmp(state, "53200"))
		return TB_ENOMEM;
	return TB_EDB;
}

/* A statement without parameters or rows (transactions, DDL). */
static tb_rc run(struct pg_db *db, const char *sql)
{
	PGresult *res = PQexec(db->conn, sql);
	tb_rc rc = TB_OK;
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = map_result(db, res, sql);
	else if (!strcmp(sql, "COMMIT") && !strcmp(PQcmdStatus(res), "ROLLBACK"))
		rc = TB_EDB; /* the transaction had failed: COMMIT rolled it back */
	PQclear(res);
	return rc;
}

static const char *pg_errmsg(struct tb_db *db)
{
	return PQerrorMessage(DB(db)->conn);
}

static tb_rc pg_begin(struct tb_db *d, bool write)
{
	struct pg_db *db = DB(d);
	if (!pg_alive(db))
		return TB_EUNAVAIL;
	/* Writers: READ COMMITTED (a row another writer changed is re-read after its
	 * commit; a version clash hits a primary key: 409). Readers: one snapshot. */
	return run(db, write ? "BEGIN ISOLATION LEVEL READ COMMITTED"
			     : "BEGIN ISOLATION LEVEL REPEATABLE READ");
}

static tb_rc pg_commit(struct tb_db *d)
{
	struct pg_db *db = DB(d);
	if (PQstatus(db->conn) != CONNECTION_OK)
		return TB_EUNAVAIL;
	return run(db, "COMMIT");
}

static void pg_rollback(struct tb_db *d)
{
	struct pg_db *db = DB(d);
	if (PQstatus(db->conn) == CONNECTION_OK && PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		run(db, "ROLLBACK");
}

static tb_rc pg_lock_migrations(struct tb_db *d)
{
	/* two nodes starting at once: the second waits, then finds the work done */
	return run(DB(d), "SELECT pg_advisory_xact_lock(7468627)");
}

/* ---- statements ---- */

/* `?` to `$n` outside quotes and comments; *n gets the count. */
static char *rewrite(const char *sql, int *n)
{
	struct tb_buf b;
	tb_buf_init(&b, strlen(sql) * 4 + 64);
	*n = 0;
	char quote = 0;
	for (const char *p = sql; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			tb_buf_putc(&b, *p);
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
			tb_buf_putc(&b, *p);
		} else if (*p == '?') {
			tb_buf_printf(&b, "$%d", ++*n);
		} else {
			tb_buf_putc(&b, *p);
		}
	}
	return tb_buf_steal(&b, NULL);
}

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Prepare on the server if this connection has not (or lost it in a reconnect). */
static tb_rc server_prepare(struct pg_db *db, struct pg_stmt *st)
{
	if (st->temp || st->gen == db->gen)
		return TB_OK;
	snprintf(st->name, sizeof(st->name), "tb%u", ++db->names);
	PGresult *res = PQprepare(db->conn, st->name, st->pgsql, 0, NULL);
	tb_rc rc = TB_OK;
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = map_result(db, res, st->sql);
	else
		st->gen = db->gen;
	PQclear(res);
	return rc;
}

static struct pg_stmt *stmt_new(struct tb_db *d, const char *sql)
{
	struct pg_stmt *st = calloc(1, sizeof(*st));
	if (!st || !(st->sql = strdup(sql)) || !(st->pgsql = rewrite(sql, &st->nparams)) ||
	    (st->nparams && (!(st->vals = calloc((size_t)st->nparams, sizeof(char *))) ||
			     !(st->lens = calloc((size_t)st->nparams, sizeof(int))) ||
			     !(st->fmts = calloc((size_t)st->nparams, sizeof(int)))))) {
		stmt_free(st);
		return NULL;
	}
	st->base.db = d;
	st->cur = -1;
	return st;
}

static tb_rc pg_prepare(struct tb_db *d, const char *sql, struct tb_stmt **out)
{
	struct pg_db *db = DB(d);
	if (!pg_alive(db))
		return TB_EUNAVAIL;
	uint32_t h = hash_str(sql);
	for (int probe = 0; probe < 8; probe++) {
		struct pg_stmt **slot = &db->cache[(h + (uint32_t)probe) % PG_CACHE_SLOTS];
		struct pg_stmt *st = *slot;
		if (st && !strcmp(st->sql, sql)) {
			if (st->in_use)
				break; /* the same SQL is being iterated: a one-off below */
			tb_rc rc = server_prepare(db, st);
			if (rc)
				return rc;
			st->in_use = true;
			*out = &st->base;
			return TB_OK;
		}
		if (!st) {
			if (!(st = stmt_new(d, sql)))
				return TB_ENOMEM;
			tb_rc rc = server_prepare(db, st);
			if (rc) {
				stmt_free(st);
				return rc;
			}
			st->in_use = true;
			*slot = st;
			*out = &st->base;
			return TB_OK;
		}
	}
	struct pg_stmt *st = stmt_new(d, sql);
	if (!st)
		return TB_ENOMEM;
	st->temp = true; /* run with PQexecParams, not kept */
	st->in_use = true;
	*out = &st->base;
	return TB_OK;
}

static void reset_stmt(struct pg_stmt *st)
{
	for (int i = 0; i < st->nparams; i++) {
		free(st->vals[i]);
		st->vals[i] = NULL;
		st->lens[i] = st->fmts[i] = 0;
	}
	free_blobs(st);
	PQclear(st->res);
	st->res = NULL;
	st->ran = false;
	st->next = st->nrows = 0;
	st->cur = -1;
}

static void pg_done(struct tb_stmt *t)
{
	struct pg_stmt *st = ST(t);
	if (!st->in_use)
		return;
	reset_stmt(st);
	st->in_use = false;
	if (st->temp)
		stmt_free(st);
}

static tb_rc set_param(struct pg_stmt *st, int i, char *v)
{
	if (i < 1 || i > st->nparams) {
		free(v);
		tb_log(TB_LOG_ERROR, "db", "bind index %d out of range: %s", i, st->sql);
		return TB_EDB;
	}
	free(st->vals[i - 1]);
	st->vals[i - 1] = v;
	st->lens[i - 1] = st->fmts[i - 1] = 0;
	return TB_OK;
}

/* Bytes go in binary format (a BYTEA parameter's binary form is the bytes), so
 * that NULs and high bytes need no escaping and the value does not double in size. */
static tb_rc pg_bind_blob(struct tb_stmt *t, int i, const void *data, size_t n)
{
	struct pg_stmt *st = ST(t);
	if (!data)
		return set_param(st, i, NULL);
	if (n > 0x7fffffff)
		return TB_ETOOBIG;
	char *v = malloc(n ? n : 1);
	if (!v)
		return TB_ENOMEM;
	memcpy(v, data, n);
	tb_rc rc = set_param(st, i, v);
	if (rc)
		return rc;
	st->lens[i - 1] = (int)n;
	st->fmts[i - 1] = 1;
	return TB_OK;
}

static tb_rc pg_bind_textn(struct tb_stmt *t, int i, const char *s, size_t n)
{
	char *v = NULL;
	if (s && !(v = strndup(s, n)))
		return TB_ENOMEM;
	return set_param(ST(t), i, v);
}

static tb_rc pg_bind_int(struct tb_stmt *t, int i, int64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	char *s = strdup(buf);
	return s ? set_param(ST(t), i, s) : TB_ENOMEM;
}

static tb_rc pg_bind_null(struct tb_stmt *t, int i)
{
	return set_param(ST(t), i, NULL);
}

/* The whole result comes at the first step; later steps walk its rows. (A block may
 * run other statements while it iterates one, which a single-row-mode connection
 * could not do.) */
static tb_rc pg_step(struct tb_stmt *t, bool *row)
{
	struct pg_stmt *st = ST(t);
	struct pg_db *db = DB(t->db);
	*row = false;
	if (!st->ran) {
		if (!pg_alive(db))
			return TB_EUNAVAIL;
		tb_rc rc = server_prepare(db, st);
		if (rc)
			return rc;
		const char *const *vals = (const char *const *)st->vals;
		st->res = st->temp ? PQexecParams(db->conn, st->pgsql, st->nparams, NULL, vals,
						  st->lens, st->fmts, 0)
				   : PQexecPrepared(db->conn, st->name, st->nparams, vals, st->lens,
						    st->fmts, 0);
		st->ran = true;
		ExecStatusType s = PQresultStatus(st->res);
		if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
			rc = map_result(db, st->res, st->sql);
			PQclear(st->res);
			st->res = NULL;
			return rc;
		}
		st->nrows = s == PGRES_TUPLES_OK ? PQntuples(st->res) : 0;
		st->next = 0;
	}
	free_blobs(st);
	if (st->next < st->nrows) {
		st->cur = st->next++;
		*row = true;
	}
	return TB_OK;
}

static int64_t pg_changes(struct tb_stmt *t)
{
	struct pg_stmt *st = ST(t);
	const char *n = st->res ? PQcmdTuples(st->res) : "";
	return *n ? strtoll(n, NULL, 10) : 0;
}

static bool has(struct pg_stmt *st, int col)
{
	return st->res && st->cur >= 0 && col >= 0 && col < PQnfields(st->res);
}

static const char *pg_text(struct tb_stmt *t, int col)
{
	struct pg_stmt *st = ST(t);
	if (!has(st, col) || PQgetisnull(st->res, st->cur, col))
		return NULL;
	return PQgetvalue(st->res, st->cur, col);
}

static size_t pg_len(struct tb_stmt *t, int col)
{
	struct pg_stmt *st = ST(t);
	return has(st, col) ? (size_t)PQgetlength(st->res, st->cur, col) : 0;
}

static int64_t pg_int(struct tb_stmt *t, int col)
{
	const char *v = pg_text(t, col);
	if (!v)
		return 0;
	if (!strcmp(v, "t")) /* booleans: EXISTS (...), comparisons */
		return 1;
	if (!strcmp(v, "f"))
		return 0;
	return strtoll(v, NULL, 10);
}

/* Results come in text format, where BYTEA reads `\x<hex>`: decoded here. */
static const void *pg_blob(struct tb_stmt *t, int col, size_t *len)
{
	struct pg_stmt *st = ST(t);
	*len = 0;
	if (!has(st, col) || PQgetisnull(st->res, st->cur, col))
		return NULL;
	int nf = PQnfields(st->res);
	if (st->nblobs < nf) {
		unsigned char **b = realloc(st->blobs, (size_t)nf * sizeof(*b));
		if (!b)
			return NULL;
		for (int i = st->nblobs; i < nf; i++)
			b[i] = NULL;
		st->blobs = b;
		st->nblobs = nf;
	}
	PQfreemem(st->blobs[col]);
	size_t n = 0;
	st->blobs[col] =
	    PQunescapeBytea((const unsigned char *)PQgetvalue(st->res, st->cur, col), &n);
	if (!st->blobs[col])
		return NULL;
	*len = n;
	return st->blobs[col];
}

static bool pg_null(struct tb_stmt *t, int col)
{
	struct pg_stmt *st = ST(t);
	return !has(st, col) || PQgetisnull(st->res, st->cur, col);
}

/* ---- migrations: the dialect points of the schema ---- */

static bool word_at(const char *s, const char *p, const char *w)
{
	size_t n = strlen(w);
	if (strncmp(p, w, n))
		return false;
	bool before = p == s || !((p[-1] >= 'a' && p[-1] <= 'z') ||
				  (p[-1] >= 'A' && p[-1] <= 'Z') || p[-1] == '_');
	char a = p[n];
	return before && !((a >= 'a' && a <= 'z') || (a >= 'A' && a <= 'Z') || a == '_');
}

/* `id INTEGER PRIMARY KEY` (SQLite's rowid alias) becomes an identity column; every
 * other INTEGER a BIGINT (tb_stmt_int reads 64 bits on both), and BLOB a BYTEA. */
static void translate_ddl(const char *stmt, struct tb_buf *b)
{
	static const char rowid[] = "id INTEGER PRIMARY KEY";
	for (const char *p = stmt; *p;) {
		if (word_at(stmt, p, "id") && !strncmp(p, rowid, sizeof(rowid) - 1)) {
			tb_buf_puts(b, "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
			p += sizeof(rowid) - 1;
		} else if (word_at(stmt, p, "INTEGER")) {
			tb_buf_puts(b, "BIGINT");
			p += 7;
		} else if (word_at(stmt, p, "BLOB")) {
			tb_buf_puts(b, "BYTEA");
			p += 4;
		} else {
			tb_buf_putc(b, *p++);
		}
	}
}

static tb_rc pg_exec_script(struct tb_db *d, const char *script, struct tb_err *err)
{
	struct pg_db *db = DB(d);
	const char *p = script;
	struct tb_buf sql;
	tb_buf_init(&sql, 1u << 20);
	tb_rc rc = TB_OK;
	while (*p && !rc) {
		const char *end = strstr(p, ";\n");
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char *stmt = strndup(p, n);
		if (!stmt) {
			rc = TB_ENOMEM;
			break;
		}
		tb_buf_reset(&sql);
		if (!strncmp(stmt, "@fulltext ", 10)) {
			/* a table of documents: the fields as text and their tsvector */
			char name[64], fields[512];
			if (sscanf(stmt + 10, "%63[a-z_](%511[^)])", name, fields) != 2) {
				free(stmt);
				rc = tb_fail(err, TB_EINTERNAL, "", "bad @fulltext line");
				break;
			}
			tb_buf_printf(&sql, "CREATE TABLE %s (id BIGINT PRIMARY KEY", name);
			for (char *save = NULL, *f = strtok_r(fields, ", ", &save); f;
			     f = strtok_r(NULL, ", ", &save))
				tb_buf_printf(&sql, ", %s TEXT NOT NULL DEFAULT ''", f);
			tb_buf_printf(&sql,
				      ", tsv tsvector NOT NULL);\n"
				      "CREATE INDEX %s_tsv ON %s USING GIN (tsv)",
				      name, name);
		} else if (!strncmp(stmt, "@append_only ", 13)) {
			/* rows are added, never changed or removed: refused by the database */
			char name[64];
			if (sscanf(stmt + 13, "%63[a-z_]", name) != 1) {
				free(stmt);
				rc = tb_fail(err, TB_EINTERNAL, "", "bad @append_only line");
				break;
			}
			tb_buf_printf(&sql,
				      "CREATE OR REPLACE FUNCTION tb_append_only() RETURNS trigger "
				      "LANGUAGE plpgsql AS $f$ BEGIN RAISE EXCEPTION '%% is "
				      "append-only', TG_TABLE_NAME; END $f$;\n"
				      "CREATE TRIGGER %s_append_only BEFORE UPDATE OR DELETE ON %s "
				      "FOR EACH ROW EXECUTE FUNCTION tb_append_only()",
				      name, name);
		} else {
			translate_ddl(stmt, &sql);
		}
		free(stmt);
		PGresult *res = PQexec(db->conn, sql.data);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			char clean[1024];
			clean_message(PQresultErrorMessage(res), db->password, clean,
				      sizeof(clean));
			rc = tb_fail(err, TB_EDB, "", "migration failed: %s", clean);
		}
		PQclear(res);
		p += n;
		if (end)
			p += 2;
	}
	tb_buf_release(&sql);
	return rc;
}

/* ---- full-text search ---- */

/* The fields of an index, in order (its columns without id and tsv), once per
 * connection. */
static const struct pg_index *index_of(struct pg_db *db, const char *name)
{
	int slot = 0;
	for (; slot < PG_INDEXES && db->fts[slot].name; slot++)
		if (!strcmp(db->fts[slot].name, name))
			return &db->fts[slot];
	if (slot == PG_INDEXES)
		return NULL;
	struct tb_stmt *st;
	bool row;
	if (pg_prepare(&db->base,
		       "SELECT attname FROM pg_attribute WHERE attrelid = CAST(? AS regclass) "
		       "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
		       &st))
		return NULL;
	struct pg_index *ix = &db->fts[slot];
	pg_bind_textn(st, 1, name, strlen(name));
	while (!pg_step(st, &row) && row) {
		const char *c = pg_text(st, 0);
		if (c && strcmp(c, "id") && strcmp(c, "tsv") && ix->ncols < PG_MAX_COLS)
			ix->cols[ix->ncols++] = strdup(c);
	}
	pg_done(st);
	if (ix->ncols == 0)
		return NULL;
	ix->name = strdup(name);
	return ix;
}

struct tsv_ctx {
	struct tb_buf *b;
	int pos;
	char weight;
};

static void put_lexeme(struct tb_buf *b, const char *tok, int n)
{
	tb_buf_putc(b, '\'');
	for (int i = 0; i < n; i++) {
		if (tok[i] == '\'' || tok[i] == '\\')
			tb_buf_putc(b, tok[i]);
		tb_buf_putc(b, tok[i]);
	}
	tb_buf_putc(b, '\'');
}

static int tsv_token(void *ctx, const char *tok, int ntok, int start, int end)
{
	(void)start, (void)end;
	struct tsv_ctx *c = ctx;
	if (ntok <= 0 || ntok > 2000)
		return 0;
	if (c->pos < PG_MAX_POS)
		c->pos++;
	put_lexeme(c->b, tok, ntok);
	tb_buf_printf(c->b, ":%d%c ", c->pos, c->weight);
	return 0;
}

/* tsvector text of a document: every token of field k with weight A, B, C, D (k = 0..3,
 * later fields D), positions running on with a gap between fields so that a phrase
 * never spans two. The same lexeme twice is merged by PostgreSQL's input function. */
static tb_rc tsvector_text(const char *const *fields, size_t n, struct tb_buf *b)
{
	struct tsv_ctx c = {b, 0, 'A'};
	for (size_t i = 0; i < n; i++) {
		c.weight = (char)('A' + (i < 3 ? i : 3));
		if (fields[i])
			tb_text_tokenize(fields[i], strlen(fields[i]), 0, tsv_token, &c);
		c.pos = c.pos + 10 < PG_MAX_POS ? c.pos + 10 : PG_MAX_POS;
	}
	return b->data || tb_buf_puts(b, "") == TB_OK ? TB_OK : TB_ENOMEM;
}

static tb_rc pg_fts_put(struct tb_db *d, const char *index, int64_t id, const char *const *fields,
			size_t nfields)
{
	struct pg_db *db = DB(d);
	const struct pg_index *ix = index_of(db, index);
	if (!ix || (int)nfields > ix->ncols)
		return TB_EDB;
	struct tb_buf sql, tsv;
	tb_buf_init(&sql, 1024);
	tb_buf_init(&tsv, 16u << 20);
	tb_buf_printf(&sql, "INSERT INTO %s (id", index);
	for (size_t i = 0; i < nfields; i++)
		tb_buf_printf(&sql, ", %s", ix->cols[i]);
	tb_buf_puts(&sql, ", tsv) VALUES (?");
	for (size_t i = 0; i < nfields; i++)
		tb_buf_puts(&sql, ", ?");
	tb_buf_puts(&sql, ", CAST(? AS tsvector)) ON CONFLICT (id) DO UPDATE SET ");
	for (size_t i = 0; i < nfields; i++)
		tb_buf_printf(&sql, "%s = excluded.%s, ", ix->cols[i], ix->cols[i]);
	tb_rc rc = tb_buf_puts(&sql, "tsv = excluded.tsv");
	struct tb_stmt *st;
	if (!rc)
		rc = tsvector_text(fields, nfields, &tsv);
	if (!rc && !(rc = tb_db_prepare(d, sql.data, &st))) {
		tb_stmt_bind_int(st, 1, id);
		for (size_t i = 0; i < nfields; i++)
			tb_stmt_bind_text(st, (int)i + 2, fields[i] ? fields[i] : "");
		tb_stmt_bind_text(st, (int)nfields + 2, tsv.data);
		rc = tb_stmt_exec(st, NULL);
		tb_stmt_done(st);
	}
	tb_buf_release(&sql);
	tb_buf_release(&tsv);
	return rc;
}

static tb_rc pg_fts_delete(struct tb_db *d, const char *index, int64_t id)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = ?", index);
	struct tb_stmt *st;
	tb_rc rc = tb_db_prepare(d, sql, &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, id);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc;
}

struct query_ctx {
	char toks[64][64];
	int lens[64];
	int n;
};

static int query_token(void *ctx, const char *tok, int ntok, int start, int end)
{
	(void)start, (void)end;
	struct query_ctx *c = ctx;
	if (ntok > 0 && ntok < 64 && c->n < 64) {
		memcpy(c->toks[c->n], tok, (size_t)ntok);
		c->lens[c->n++] = ntok;
	}
	return 0;
}

/* tsquery text: each term a phrase of its bigrams ('社会' <-> '会保' <-> '保障'), a
 * prefix term's last lexeme `:*`, every lexeme restricted to the weights of
 * q->columns ('社保':AB); terms ANDed. *empty: no term had a token. */
static tb_rc tsquery_text(const struct tb_fts_query *q, const struct pg_index *ix, struct tb_buf *b,
			  bool *empty)
{
	char weights[8] = "";
	if (q->columns) {
		size_t nw = 0;
		char cols[256];
		snprintf(cols, sizeof(cols), "%s", q->columns);
		for (char *save = NULL, *c = strtok_r(cols, " ", &save); c;
		     c = strtok_r(NULL, " ", &save))
			for (int k = 0; k < ix->ncols && nw < 4; k++)
				if (!strcmp(ix->cols[k], c))
					weights[nw++] = (char)('A' + (k < 3 ? k : 3));
		weights[nw] = 0;
		if (!nw)
			return TB_EINTERNAL;
	}
	int nterms = 0;
	struct query_ctx *c = malloc(sizeof(*c));
	if (!c)
		return TB_ENOMEM;
	for (size_t i = 0; i < q->nterms; i++) {
		c->n = 0;
		tb_text_tokenize(q->terms[i].text, strlen(q->terms[i].text), TB_TOKEN_QUERY,
				 query_token, c);
		if (c->n == 0)
			continue;
		tb_buf_puts(b, nterms++ ? " & (" : "(");
		for (int k = 0; k < c->n; k++) {
			if (k)
				tb_buf_puts(b, " <-> ");
			put_lexeme(b, c->toks[k], c->lens[k]);
			bool star = k + 1 == c->n && q->terms[i].prefix;
			if (star || weights[0])
				tb_buf_printf(b, ":%s%s", star ? "*" : "", weights);
		}
		tb_buf_putc(b, ')');
	}
	free(c);
	*empty = nterms == 0;
	return b->data || tb_buf_puts(b, "") == TB_OK ? TB_OK : TB_ENOMEM;
}

/* ts_rank_cd's weights are {D, C, B, A}, each at most 1: the query's per-field weights
 * (field 0 = A) scaled so that the largest is 1. */
static void rank_expr(const struct tb_fts_query *q, struct tb_buf *b)
{
	double w[4] = {1, 1, 1, 1}, max = 0;
	for (size_t i = 0; i < q->nweights && i < 4; i++)
		w[i] = q->weights[i];
	for (int i = 0; i < 4; i++)
		max = w[i] > max ? w[i] : max;
	if (max <= 0)
		max = 1;
	/* cover density with normalization 2 (by document length) comes closest to BM25's
	 * order (docs/postgres.md: measured against SQLite on the demo catalogue) */
	tb_buf_printf(b, "ts_rank_cd(CAST('{%.4f,%.4f,%.4f,%.4f}' AS float4[]), f.tsv, tq.q, 2)",
		      w[3] / max, w[2] / max, w[1] / max, w[0] / max);
}

/* FTS5's snippet(): ~24 characters around the first mark, with … where text was cut. */
static char *make_snippet(const char *text, const struct tb_text_term *terms, size_t nterms)
{
	char *m = tb_text_mark(text, terms, nterms);
	if (!m)
		return NULL;
	size_t n = strlen(m);
	const char *first = strstr(m, "<mark>");
	size_t start = 0;
	if (first) {
		/* back up 6 characters (no tags before the first mark) */
		start = (size_t)(first - m);
		for (int k = 0; k < 6 && start > 0; k++) {
			start--;
			while (start > 0 && ((unsigned char)m[start] & 0xC0) == 0x80)
				start--;
		}
		for (size_t j = start; j > 0 && j + 6 > start; j--) /* not inside &amp; */
			if (m[j - 1] == '&') {
				start = j - 1;
				break;
			} else if (m[j - 1] == ';') {
				break;
			}
	}
	struct tb_buf b;
	tb_buf_init(&b, 256);
	if (start > 0)
		tb_buf_puts(&b, "…");
	size_t i = start;
	int chars = 0;
	bool open = false;
	while (i < n && chars < 24) {
		if (!strncmp(m + i, "<mark>", 6)) {
			tb_buf_puts(&b, "<mark>");
			open = true;
			i += 6;
			continue;
		}
		if (!strncmp(m + i, "</mark>", 7)) {
			tb_buf_puts(&b, "</mark>");
			open = false;
			i += 7;
			continue;
		}
		size_t l = 1;
		if (m[i] == '&') {
			const char *semi = strchr(m + i, ';');
			l = semi ? (size_t)(semi - (m + i)) + 1 : 1;
		} else {
			while (i + l < n && ((unsigned char)m[i + l] & 0xC0) == 0x80)
				l++;
		}
		tb_buf_append(&b, m + i, l);
		i += l;
		chars++;
	}
	if (i < n && !strncmp(m + i, "</mark>", 7)) {
		i += 7;
		open = false;
		tb_buf_puts(&b, "</mark>");
	}
	if (open)
		tb_buf_puts(&b, "</mark>");
	if (i < n)
		tb_buf_puts(&b, "…");
	free(m);
	return tb_buf_steal(&b, NULL);
}

/* The FROM and WHERE shared by every search statement; one `?` for the query, then the
 * filter's own. */
static void from_where(const struct tb_fts_query *q, struct tb_buf *b)
{
	tb_buf_printf(b,
		      " FROM %s f CROSS JOIN (SELECT CAST(? AS tsquery) AS q) tq JOIN %s c ON "
		      "c.id = f.id WHERE f.tsv @@ tq.q AND (%s)",
		      q->index, q->content, q->filter && *q->filter ? q->filter : "TRUE");
}

static void bind_query(struct tb_stmt *st, const struct tb_fts_query *q, const char *tsq, int *idx)
{
	tb_stmt_bind_text(st, (*idx)++, tsq);
	for (size_t i = 0; i < q->nparams; i++)
		tb_stmt_bind_text(st, (*idx)++, q->params[i]);
}

static tb_rc pg_fts_search(struct tb_db *d, const struct tb_fts_query *q, struct tb_fts_hit *hits,
			   size_t *nhits, int64_t *total)
{
	struct pg_db *db = DB(d);
	const struct pg_index *ix = index_of(db, q->index);
	if (!ix)
		return TB_EDB;
	struct tb_buf tsq, sql;
	tb_buf_init(&tsq, 65536);
	tb_buf_init(&sql, 1u << 20);
	bool empty = false;
	tb_rc rc = tsquery_text(q, ix, &tsq, &empty);
	struct tb_stmt *st;
	bool row;
	int idx = 1;
	if (rc || empty) {
		if (total)
			*total = 0;
		goto out;
	}
	if (total) {
		tb_buf_printf(&sql, "SELECT count(%s%s)", q->group ? "DISTINCT " : "*",
			      q->group ? q->group : "");
		from_where(q, &sql);
		if ((rc = tb_db_prepare(d, sql.data, &st)))
			goto out;
		bind_query(st, q, tsq.data, &idx);
		if (!(rc = tb_stmt_step(st, &row)))
			*total = row ? tb_stmt_int(st, 0) : 0;
		tb_stmt_done(st);
		if (rc || *total == 0 || q->limit == 0)
			goto out;
	}
	if (q->limit <= 0 || !hits)
		goto out;
	/* the fields that marks are made from */
	int fields[5], nf = 0;
	size_t ns = q->nsnippet > 4 ? 4 : q->nsnippet;
	if (q->highlight_field >= 0 && q->highlight_field < ix->ncols)
		fields[nf++] = q->highlight_field;
	for (size_t i = 0; i < ns; i++)
		fields[nf++] = q->snippet_fields[i] < ix->ncols ? q->snippet_fields[i] : 0;
	tb_buf_reset(&sql);
	tb_buf_puts(&sql, "SELECT id, cnt");
	for (int i = 0; i < nf; i++)
		tb_buf_printf(&sql, ", f%d", i);
	tb_buf_puts(&sql, " FROM (SELECT f.id AS id, ");
	rank_expr(q, &sql);
	tb_buf_puts(&sql, " AS score");
	for (int i = 0; i < nf; i++)
		tb_buf_printf(&sql, ", f.%s AS f%d", ix->cols[fields[i]], i);
	if (q->group) {
		/* one hit per group: its best-ranked row, with the group's size */
		tb_buf_printf(&sql, ", row_number() OVER (PARTITION BY (%s) ORDER BY ", q->group);
		rank_expr(q, &sql);
		tb_buf_printf(&sql, " DESC, c.id) AS rn, count(*) OVER (PARTITION BY (%s)) AS cnt",
			      q->group);
	} else {
		tb_buf_puts(&sql, ", 1 AS rn, 1 AS cnt");
	}
	from_where(q, &sql);
	tb_buf_puts(&sql, ") r WHERE rn = 1 ORDER BY score DESC, id LIMIT ? OFFSET ?");
	if ((rc = sql.data ? tb_db_prepare(d, sql.data, &st) : TB_ENOMEM))
		goto out;
	idx = 1;
	bind_query(st, q, tsq.data, &idx);
	tb_stmt_bind_int(st, idx++, q->limit);
	tb_stmt_bind_int(st, idx++, q->offset);
	while (!(rc = tb_stmt_step(st, &row)) && row && *nhits < (size_t)q->limit) {
		struct tb_fts_hit *h = &hits[(*nhits)++];
		h->id = tb_stmt_int(st, 0);
		h->group_count = q->group ? tb_stmt_int(st, 1) : 1;
		h->highlight = h->snippet = NULL;
		int col = 2;
		if (q->highlight_field >= 0 && q->highlight_field < ix->ncols) {
			const char *t = tb_stmt_text(st, col++);
			h->highlight = tb_text_mark(t ? t : "", q->terms, q->nterms);
		}
		for (size_t i = 0; i < ns; i++, col++) {
			if (h->snippet)
				continue;
			const char *t = tb_stmt_text(st, col);
			char *sn = make_snippet(t ? t : "", q->terms, q->nterms);
			if (sn && (strstr(sn, "<mark>") || i + 1 == ns))
				h->snippet = sn;
			else
				free(sn);
		}
	}
	tb_stmt_done(st);
out:
	tb_buf_release(&tsq);
	tb_buf_release(&sql);
	return rc;
}

static tb_rc pg_fts_group(struct tb_db *d, const struct tb_fts_query *q, const char *expr,
			  void (*fn)(void *ctx, const char *key, int64_t count), void *ctx)
{
	struct pg_db *db = DB(d);
	const struct pg_index *ix = index_of(db, q->index);
	if (!ix)
		return TB_EDB;
	struct tb_buf tsq, sql;
	tb_buf_init(&tsq, 65536);
	tb_buf_init(&sql, 1u << 20);
	bool empty = false;
	tb_rc rc = tsquery_text(q, ix, &tsq, &empty);
	struct tb_stmt *st;
	bool row;
	if (!rc && !empty) {
		tb_buf_printf(&sql, "SELECT %s, count(%s%s)", expr, q->group ? "DISTINCT " : "*",
			      q->group ? q->group : "");
		from_where(q, &sql);
		tb_buf_puts(&sql, " GROUP BY 1");
		if (!(rc = tb_db_prepare(d, sql.data, &st))) {
			int idx = 1;
			bind_query(st, q, tsq.data, &idx);
			while (!(rc = tb_stmt_step(st, &row)) && row)
				fn(ctx, tb_stmt_text(st, 0), tb_stmt_int(st, 1));
			tb_stmt_done(st);
		}
	}
	tb_buf_release(&tsq);
	tb_buf_release(&sql);
	return rc;
}

const struct tb_backend tb_backend_pg = {
    .name = "postgres",
    .check = pg_check,
    .open = pg_open,
    .close = pg_close,
    .exec_script = pg_exec_script,
    .lock_migrations = pg_lock_migrations,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .prepare = pg_prepare,
    .bind_textn = pg_bind_textn,
    .bind_int = pg_bind_int,
    .bind_null = pg_bind_null,
    .bind_blob = pg_bind_blob,
    .step = pg_step,
    .changes = pg_changes,
    .text = pg_text,
    .len = pg_len,
    .int64 = pg_int,
    .null = pg_null,
    .blob = pg_blob,
    .done = pg_done,
    .errmsg = pg_errmsg,
    .fts_put = pg_fts_put,
    .fts_delete = pg_fts_delete,
    .fts_search = pg_fts_search,
    .fts_group = pg_fts_group,
};
