/* test_cases_pg.c: the cases block on PostgreSQL (cases_shared.h). Needs
 * TB_TEST_PG_URL (a database it may wipe: the public schema is dropped); skipped
 * without it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/schema.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	struct tb_store *store;
	struct tb_db *db;
};

#include "cases_shared.h"

static void exec_sql(struct tb_db *db, const char *sql)
{
	struct tb_stmt *st;
	if (!tb_db_prepare(db, sql, &st)) {
		tb_stmt_exec(st, NULL);
		tb_stmt_done(st);
	}
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *url = getenv("TB_TEST_PG_URL");
	struct tb_err err = {0};
	strcpy(f->dir, "/tmp/tb-test-cases-pg.XXXXXX");
	if (!f || !url || !mkdtemp(f->dir))
		return -1;
	char key[128];
	snprintf(key, sizeof(key), "%s/key", f->dir);
	struct tb_identity_config c = {
	    .key_file = key, .create_key = true, .pwhash_ops = 1, .pwhash_mem = 8u << 20};
	if (tb_identity_init(&c, &err) || tb_store_open(url, &f->store, &err) ||
	    !(f->db = tb_store_db(f->store, &err)))
		return -1;
	exec_sql(f->db, "DROP SCHEMA public CASCADE");
	exec_sql(f->db, "CREATE SCHEMA public");
	int applied = -1;
	if (tb_store_migrate(f->store, &applied, &err) || applied != (int)tb_migrations_count)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tb_store_free(f->store);
	tb_identity_shutdown();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(f);
	return rc ? -1 : 0;
}

int main(void)
{
	if (!getenv("TB_TEST_PG_URL")) {
		printf("test_cases_pg: TB_TEST_PG_URL not set, skipped\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_deferral, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_escalation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transitions_append_only, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
