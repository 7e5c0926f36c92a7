/* store_shared.h: the store tests that must pass on every backend — statements,
 * transactions and full-text search — written in SQL both SQLite and PostgreSQL accept.
 * Included by test_store.c (SQLite) and test_store_pg.c (PostgreSQL) after each has
 * defined its `struct fixture` with a `db` member and set it up. */
#ifndef TB_TESTS_STORE_SHARED_H
#define TB_TESTS_STORE_SHARED_H

static void exec_sql(struct tb_db *db, const char *sql)
{
	struct tb_stmt *st;
	assert_int_equal(tb_db_prepare(db, sql, &st), TB_OK);
	assert_int_equal(tb_stmt_exec(st, NULL), TB_OK);
	tb_stmt_done(st);
}

static int64_t count(struct tb_db *db, const char *sql)
{
	struct tb_stmt *st;
	bool row = false;
	assert_int_equal(tb_db_prepare(db, sql, &st), TB_OK);
	assert_int_equal(tb_stmt_step(st, &row), TB_OK);
	assert_true(row);
	int64_t n = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	return n;
}

static void test_statements(void **state)
{
	struct fixture *f = *state;
	struct tb_db *db = f->db;
	exec_sql(db, "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER, t TEXT)");
	struct tb_stmt *st;
	int64_t changes = -1;
	assert_int_equal(tb_db_prepare(db, "INSERT INTO kv (k, v, t) VALUES (?, ?, ?)", &st),
			 TB_OK);
	assert_int_equal(tb_stmt_bind_text(st, 1, "社保"), TB_OK);
	assert_int_equal(tb_stmt_bind_int(st, 2, 42), TB_OK);
	assert_int_equal(tb_stmt_bind_null(st, 3), TB_OK);
	assert_int_equal(tb_stmt_exec(st, &changes), TB_OK);
	assert_int_equal(changes, 1);
	tb_stmt_done(st);
	tb_stmt_done(st); /* safe twice */

	/* the cached statement comes back reset and unbound */
	assert_int_equal(tb_db_prepare(db, "INSERT INTO kv (k, v, t) VALUES (?, ?, ?)", &st),
			 TB_OK);
	assert_int_equal(tb_stmt_bind_textn(st, 1, "abcdef", 3), TB_OK);
	assert_int_equal(tb_stmt_bind_int(st, 2, -7), TB_OK);
	assert_int_equal(tb_stmt_bind_text(st, 3, NULL), TB_OK);
	assert_int_equal(tb_stmt_exec(st, &changes), TB_OK);
	tb_stmt_done(st);

	/* a duplicate key is a conflict, not a crash */
	assert_int_equal(tb_db_prepare(db, "INSERT INTO kv (k, v) VALUES (?, ?)", &st), TB_OK);
	tb_stmt_bind_text(st, 1, "abc");
	tb_stmt_bind_int(st, 2, 1);
	assert_int_not_equal(tb_stmt_exec(st, NULL), TB_OK);
	tb_stmt_done(st);
	assert_non_null(tb_db_errmsg(db));

	assert_int_equal(tb_db_prepare(db, "SELECT k, v, t FROM kv ORDER BY v", &st), TB_OK);
	bool row;
	assert_int_equal(tb_stmt_step(st, &row), TB_OK);
	assert_true(row);
	assert_string_equal(tb_stmt_text(st, 0), "abc");
	assert_int_equal(tb_stmt_len(st, 0), 3);
	assert_int_equal(tb_stmt_int(st, 1), -7);
	assert_true(tb_stmt_null(st, 2));
	assert_int_equal(tb_stmt_step(st, &row), TB_OK);
	assert_true(row);
	assert_string_equal(tb_stmt_text(st, 0), "社保");
	assert_int_equal(tb_stmt_len(st, 0), strlen("社保"));
	assert_int_equal(tb_stmt_int(st, 1), 42);
	assert_int_equal(tb_stmt_step(st, &row), TB_OK);
	assert_false(row);
	tb_stmt_done(st);

	/* bad SQL is an error, and leaves no statement behind to release */
	assert_int_not_equal(tb_db_prepare(db, "SELEKT nonsense", &st), TB_OK);
	assert_null(st);
	tb_stmt_done(st);
	exec_sql(db, "DROP TABLE kv");
}

static void test_transactions(void **state)
{
	struct fixture *f = *state;
	struct tb_db *db = f->db;
	exec_sql(db, "CREATE TABLE tx (n INTEGER)");
	assert_false(tb_db_in_tx(db));
	assert_int_equal(tb_db_begin(db, true), TB_OK);
	assert_true(tb_db_in_tx(db));
	assert_int_not_equal(tb_db_begin(db, true), TB_OK); /* nested */
	exec_sql(db, "INSERT INTO tx VALUES (1)");
	exec_sql(db, "INSERT INTO tx VALUES (2)");
	tb_db_rollback(db);
	assert_false(tb_db_in_tx(db));
	assert_int_equal(count(db, "SELECT count(*) FROM tx"), 0);

	assert_int_equal(tb_db_begin(db, true), TB_OK);
	exec_sql(db, "INSERT INTO tx VALUES (3)");
	assert_int_equal(tb_db_commit(db), TB_OK);
	assert_false(tb_db_in_tx(db));
	assert_int_equal(count(db, "SELECT count(*) FROM tx"), 1);

	/* a read transaction */
	assert_int_equal(tb_db_begin(db, false), TB_OK);
	assert_int_equal(count(db, "SELECT count(*) FROM tx"), 1);
	assert_int_equal(tb_db_commit(db), TB_OK);
	tb_db_rollback(db); /* harmless outside a transaction */
	exec_sql(db, "DROP TABLE tx");
}

/* ---- full text: the impl_fts index (name, place, codes) over a table of our own */

static void put_doc(struct tb_db *db, int64_t id, const char *name, const char *kw)
{
	struct tb_stmt *st;
	assert_int_equal(tb_db_prepare(db,
				       "INSERT INTO docs (id, grp) VALUES (?, ?) ON CONFLICT (id) "
				       "DO UPDATE SET grp = excluded.grp",
				       &st),
			 TB_OK);
	tb_stmt_bind_int(st, 1, id);
	tb_stmt_bind_text(st, 2, id % 2 ? "odd" : "even");
	assert_int_equal(tb_stmt_exec(st, NULL), TB_OK);
	tb_stmt_done(st);
	const char *fields[2] = {name, kw};
	assert_int_equal(tb_db_fts_put(db, "impl_fts", id, fields, 2), TB_OK);
}

static int64_t search(struct tb_db *db, const char *q, struct tb_fts_hit *hits, size_t *nhits)
{
	static struct tb_text_term terms[8];
	struct tb_fts_query fq = {
	    .index = "impl_fts",
	    .content = "docs",
	    .terms = terms,
	    .nterms = tb_text_query_terms(q, terms, 8),
	    .weights = (const double[]){10.0, 2.0},
	    .nweights = 2,
	    .highlight_field = 0,
	    .snippet_fields = {1},
	    .nsnippet = 1,
	    .limit = 10,
	};
	int64_t total = -1;
	assert_int_equal(tb_db_fts_search(db, &fq, hits, nhits, &total), TB_OK);
	assert_int_equal((int64_t)*nhits, total < 10 ? total : 10);
	return total;
}

static int64_t hits_of(struct tb_db *db, const char *q)
{
	struct tb_fts_hit hits[10];
	size_t n = 0;
	int64_t total = search(db, q, hits, &n);
	tb_fts_hits_release(hits, n);
	return total;
}

struct grp {
	int64_t odd, even;
	int calls;
};
static void on_group(void *ctx, const char *key, int64_t n)
{
	struct grp *g = ctx;
	g->calls++;
	if (!strcmp(key, "odd"))
		g->odd = n;
	else if (!strcmp(key, "even"))
		g->even = n;
	else
		fail_msg("unexpected group %s", key);
}

static void test_fulltext(void **state)
{
	struct fixture *f = *state;
	struct tb_db *db = f->db;
	exec_sql(db, "CREATE TABLE docs (id BIGINT PRIMARY KEY, grp TEXT)");
	put_doc(db, 1, "社会保障卡申领", "社保卡 补卡");
	put_doc(db, 2, "普通护照签发", "护照 出国");
	put_doc(db, 3, "营业执照核发", "开办企业 ABC123");
	put_doc(db, 4, "残疾人证核发", "证件");

	/* bigrams: any two adjacent characters of the name */
	assert_int_equal(hits_of(db, "保障卡"), 1);
	assert_int_equal(hits_of(db, "障卡"), 1);
	assert_int_equal(hits_of(db, "社会保障"), 1);
	assert_int_equal(hits_of(db, "社保卡"), 1); /* through the keywords */
	assert_int_equal(hits_of(db, "保障证"), 0);
	/* a single character is a prefix query: 卡 alone at the end of 社保卡/补卡 and
	 * the bigram 卡申 */
	assert_int_equal(hits_of(db, "卡"), 1);
	assert_int_equal(hits_of(db, "发"), 3);
	/* Traditional and ASCII queries */
	assert_int_equal(hits_of(db, "護照"), 1);
	assert_int_equal(hits_of(db, "營業執照"), 1);
	assert_int_equal(hits_of(db, "abc"), 1);
	assert_int_equal(hits_of(db, "ABC123"), 1);
	assert_int_equal(hits_of(db, "abd"), 0);
	/* terms are ANDed */
	assert_int_equal(hits_of(db, "护照 出国"), 1);
	assert_int_equal(hits_of(db, "护照 营业"), 0);
	/* a quote cannot break the query: it separates two one-character terms */
	assert_int_equal(hits_of(db, "护\"照"), 1);
	assert_int_equal(hits_of(db, "\"*\" OR x"), 0);

	/* highlight marks the name */
	struct tb_fts_hit hits[10];
	size_t n = 0;
	assert_int_equal(search(db, "保障卡", hits, &n), 1);
	assert_int_equal(hits[0].id, 1);
	assert_non_null(hits[0].highlight);
	assert_non_null(strstr(hits[0].highlight, "<mark>"));
	assert_non_null(strstr(hits[0].highlight, "</mark>"));
	assert_string_equal(hits[0].highlight, "社会<mark>保障卡</mark>申领");
	tb_fts_hits_release(hits, n);
	assert_null(hits[0].highlight);

	/* the name weighs more than the keywords */
	put_doc(db, 5, "证明开具", "其他");
	assert_int_equal(search(db, "证件", hits, &n), 1);
	tb_fts_hits_release(hits, n);
	assert_int_equal(search(db, "证", hits, &n), 2);
	assert_int_equal(hits[0].id, 5);
	tb_fts_hits_release(hits, n);

	/* put replaces, delete removes */
	put_doc(db, 2, "往来港澳通行证", "港澳");
	assert_int_equal(hits_of(db, "护照"), 0);
	assert_int_equal(hits_of(db, "港澳"), 1);
	assert_int_equal(tb_db_fts_delete(db, "impl_fts", 2), TB_OK);
	assert_int_equal(hits_of(db, "港澳"), 0);
	assert_int_equal(tb_db_fts_delete(db, "impl_fts", 999), TB_OK);

	/* group counts over every match, with a filter */
	struct tb_text_term terms[4];
	struct tb_fts_query fq = {
	    .index = "impl_fts",
	    .content = "docs",
	    .terms = terms,
	    .nterms = tb_text_query_terms("发", terms, 4),
	    .highlight_field = -1,
	};
	struct grp g = {0};
	assert_int_equal(tb_db_fts_group(db, &fq, "c.grp", on_group, &g), TB_OK);
	assert_int_equal(g.calls, 2);
	assert_int_equal(g.odd, 1);  /* 3 */
	assert_int_equal(g.even, 1); /* 4 */
	const char *params[] = {"odd"};
	fq.filter = "c.grp = ?";
	fq.params = params;
	fq.nparams = 1;
	memset(&g, 0, sizeof(g));
	assert_int_equal(tb_db_fts_group(db, &fq, "c.grp", on_group, &g), TB_OK);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.odd, 1);

	/* a bad index name is refused, not pasted into SQL */
	const char *fields[1] = {"x"};
	assert_int_not_equal(tb_db_fts_put(db, "docs; DROP TABLE docs", 9, fields, 1), TB_OK);
	assert_int_not_equal(tb_db_fts_delete(db, "Bad-Name", 9), TB_OK);
	exec_sql(db, "DELETE FROM impl_fts");
	exec_sql(db, "DROP TABLE docs");
}

/* Bytes round-trip unchanged: every byte value (NULs included), an empty value, SQL
 * NULL, and a value of 5 MB; in the `blobs` table of the schema (BYTEA on PostgreSQL). */
static void put_blob(struct tb_db *db, const char *key, const void *data, size_t n)
{
	struct tb_stmt *st;
	int64_t changes = 0;
	assert_int_equal(tb_db_prepare(db,
				       "INSERT INTO blobs (sha256, mime, size, data, created_at) "
				       "VALUES (?, 'application/octet-stream', ?, ?, 'now')",
				       &st),
			 TB_OK);
	tb_stmt_bind_text(st, 1, key);
	tb_stmt_bind_int(st, 2, (int64_t)n);
	assert_int_equal(tb_stmt_bind_blob(st, 3, data, n), TB_OK);
	assert_int_equal(tb_stmt_exec(st, &changes), TB_OK);
	assert_int_equal(changes, 1);
	tb_stmt_done(st);
}

static void check_blob(struct tb_db *db, const char *key, const void *data, size_t n)
{
	struct tb_stmt *st;
	bool row = false;
	assert_int_equal(
	    tb_db_prepare(db, "SELECT data, size, sha256 FROM blobs WHERE sha256 = ?", &st), TB_OK);
	tb_stmt_bind_text(st, 1, key);
	assert_int_equal(tb_stmt_step(st, &row), TB_OK);
	assert_true(row);
	size_t len = 99;
	const void *got = tb_stmt_blob(st, 0, &len);
	assert_non_null(got);
	assert_int_equal(len, n);
	assert_int_equal(tb_stmt_int(st, 1), (int64_t)n);
	if (n)
		assert_memory_equal(got, data, n);
	assert_false(tb_stmt_null(st, 0));
	tb_stmt_done(st);
}

static void test_blobs(void **state)
{
	struct fixture *f = *state;
	struct tb_db *db = f->db;
	unsigned char all[512];
	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)(i % 256);
	put_blob(db, "t-all", all, sizeof(all));
	check_blob(db, "t-all", all, sizeof(all));
	put_blob(db, "t-empty", "", 0);
	check_blob(db, "t-empty", "", 0);

	size_t big = 5u << 20;
	unsigned char *b = malloc(big);
	assert_non_null(b);
	uint32_t x = 2463534242u; /* xorshift: bytes no compression or escaping favours */
	for (size_t i = 0; i < big; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		b[i] = (unsigned char)x;
	}
	b[0] = 0, b[big - 1] = 0;
	put_blob(db, "t-big", b, big);
	check_blob(db, "t-big", b, big);
	free(b);

	/* SQL NULL reads as NULL; two blob columns of one row are both valid */
	struct tb_stmt *st;
	bool row = false;
	assert_int_equal(tb_db_prepare(db,
				       "SELECT a.data, e.data, NULL FROM blobs a, blobs e "
				       "WHERE a.sha256 = ? AND e.sha256 = ?",
				       &st),
			 TB_OK);
	tb_stmt_bind_text(st, 1, "t-all");
	tb_stmt_bind_text(st, 2, "t-empty");
	assert_int_equal(tb_stmt_step(st, &row), TB_OK);
	assert_true(row);
	size_t la = 0, le = 9, ln = 9;
	const void *a = tb_stmt_blob(st, 0, &la);
	const void *e = tb_stmt_blob(st, 1, &le);
	assert_null(tb_stmt_blob(st, 2, &ln));
	assert_int_equal(ln, 0);
	assert_non_null(a);
	assert_non_null(e);
	assert_int_equal(la, sizeof(all));
	assert_int_equal(le, 0);
	assert_memory_equal(a, all, sizeof(all));
	tb_stmt_done(st);

	/* a blob bound as a parameter of a comparison finds its row */
	assert_int_equal(tb_db_prepare(db, "SELECT sha256 FROM blobs WHERE data = ?", &st), TB_OK);
	tb_stmt_bind_blob(st, 1, all, sizeof(all));
	assert_int_equal(tb_stmt_step(st, &row), TB_OK);
	assert_true(row);
	assert_string_equal(tb_stmt_text(st, 0), "t-all");
	tb_stmt_done(st);
	exec_sql(db, "DELETE FROM blobs WHERE sha256 LIKE 't-%'");
}

#endif
