/* test_cases.c: the cases block on SQLite (cases_shared.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

struct fixture {
	char dir[64];
	struct tb_store *store;
	struct tb_db *db;
};

#include "cases_shared.h"

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/tb-test-cases.XXXXXX");
	if (!f || !mkdtemp(f->dir))
		return -1;
	char key[128], url[160];
	snprintf(key, sizeof(key), "%s/key", f->dir);
	struct tb_identity_config c = {
	    .key_file = key, .create_key = true, .pwhash_ops = 1, .pwhash_mem = 8u << 20};
	struct tb_err err = {0};
	if (tb_identity_init(&c, &err))
		return -1;
	snprintf(url, sizeof(url), "sqlite:%s/t.db", f->dir);
	if (tb_store_open(url, &f->store, &err) || tb_store_migrate(f->store, NULL, &err))
		return -1;
	f->db = tb_store_db(f->store, &err);
	*state = f;
	return f->db ? 0 : -1;
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
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_deferral, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_escalation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transitions_append_only, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
