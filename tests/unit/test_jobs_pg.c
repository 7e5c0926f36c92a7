/* test_jobs_pg.c: the scheduler's tests (jobs_shared.h) on PostgreSQL. Needs
 * TB_TEST_PG_URL (a database it may wipe: the public schema is dropped); skipped
 * without it. Not run in parallel with test_store_pg (tests/unit/meson.build). */
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
	struct tb_store *store;
	struct tb_db *db;
};

#include "jobs_shared.h"

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *url = getenv("TB_TEST_PG_URL");
	struct tb_err err = {0};
	if (!f || !url || tb_store_open(url, &f->store, &err) ||
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
	free(f);
	return 0;
}

int main(void)
{
	if (!getenv("TB_TEST_PG_URL")) {
		printf("test_jobs_pg: TB_TEST_PG_URL not set, skipped\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {JOBS_SHARED_TESTS};
	return cmocka_run_group_tests(tests, setup, teardown);
}
