/* test_store.c: unit tests of src/store: opening a SQLite store, migrations, statements,
 * transactions and the bigram full-text index. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/schema.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	char url[128];
	struct tb_store *store;
	struct tb_db *db;
};

#include "store_shared.h"

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/tb-test-store.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->url, sizeof(f->url), "sqlite:%s/sub/t.db", f->dir);
	struct tb_err err = {0};
	if (tb_store_open(f->url, &f->store, &err) != TB_OK)
		return -1;
	int applied = -1;
	if (tb_store_migrate(f->store, &applied, &err) != TB_OK)
		return -1;
	f->db = tb_store_db(f->store, &err);
	if (!f->db)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tb_store_free(f->store);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void test_open_and_migrate(void **state)
{
	struct fixture *f = *state;
	struct tb_err err = {0};
	assert_string_equal(tb_store_backend(f->store), "sqlite");
	int last = tb_migrations[tb_migrations_count - 1].version;
	assert_int_equal(tb_store_schema_version(f->store), last);
	/* the second and third runs change nothing */
	int applied = -1;
	assert_int_equal(tb_store_migrate(f->store, &applied, &err), TB_OK);
	assert_int_equal(applied, 0);
	assert_int_equal(tb_store_migrate(f->store, &applied, &err), TB_OK);
	assert_int_equal(applied, 0);
	assert_int_equal(tb_store_schema_version(f->store), last);
	assert_int_equal(count(f->db, "SELECT count(*) FROM schema_migrations"),
			 (int64_t)tb_migrations_count);

	/* a second store on the same file sees the schema and applies nothing */
	struct tb_store *s2;
	assert_int_equal(tb_store_open(f->url, &s2, &err), TB_OK);
	assert_int_equal(tb_store_migrate(s2, &applied, &err), TB_OK);
	assert_int_equal(applied, 0);
	assert_int_equal(tb_store_schema_version(s2), last);
	tb_store_free(s2);
}

static void test_fresh_store_applies_all(void **state)
{
	struct fixture *f = *state;
	char url[160];
	snprintf(url, sizeof(url), "sqlite:%s/fresh.db", f->dir);
	struct tb_err err = {0};
	struct tb_store *s;
	assert_int_equal(tb_store_open(url, &s, &err), TB_OK);
	int applied = -1;
	assert_int_equal(tb_store_migrate(s, &applied, &err), TB_OK);
	assert_int_equal(applied, (int)tb_migrations_count);
	tb_store_free(s);
}

static void test_open_bad_path(void **state)
{
	(void)state;
	struct tb_store *s = NULL;
	struct tb_err err = {0};
	tb_rc rc = tb_store_open("sqlite:/proc/nonexistent/dir/x.db", &s, &err);
	if (rc == TB_OK) {
		/* opening may be lazy: the first connection must fail then */
		assert_null(tb_store_db(s, &err));
		tb_store_free(s);
	}
	assert_true(err.msg[0] != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_and_migrate), cmocka_unit_test(test_fresh_store_applies_all),
	    cmocka_unit_test(test_statements),	     cmocka_unit_test(test_transactions),
	    cmocka_unit_test(test_fulltext),	     cmocka_unit_test(test_blobs),
	    cmocka_unit_test(test_open_bad_path),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
