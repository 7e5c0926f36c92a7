/* test_jobs.c: the scheduler's lease, once-per-slot claim and node heartbeat on
 * SQLite (the same tests run on PostgreSQL in test_jobs_pg.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

struct fixture {
	char dir[64];
	struct tb_store *store;
	struct tb_db *db;
};

#include "jobs_shared.h"

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/tb-test-jobs.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	char url[128];
	snprintf(url, sizeof(url), "sqlite:%s/t.db", f->dir);
	struct tb_err err = {0};
	int applied;
	if (tb_store_open(url, &f->store, &err) || tb_store_migrate(f->store, &applied, &err) ||
	    !(f->db = tb_store_db(f->store, &err)))
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

int main(void)
{
	const struct CMUnitTest tests[] = {JOBS_SHARED_TESTS};
	return cmocka_run_group_tests(tests, setup, teardown);
}
