/* jobs_shared.h: the scheduler's tests that must pass on every backend: the lease row,
 * the once-per-slot claim (also under threads racing on their own connections), the
 * node heartbeat and its pruning. Included by test_jobs.c (SQLite) and test_jobs_pg.c
 * (PostgreSQL) after each has defined `struct fixture` with `store` and `db` members.
 * Times are given, not read from the clock: nothing here depends on timing. */
#ifndef TB_TESTS_JOBS_SHARED_H
#define TB_TESTS_JOBS_SHARED_H

#include "jobs/jobs.h"

#include <pthread.h>

enum { T0 = 1000000000 }; /* a fixed "now" in ms, far from the real clock */

static void exec_sql(struct tb_db *db, const char *sql)
{
	struct tb_stmt *st;
	assert_int_equal(tb_db_prepare(db, sql, &st), TB_OK);
	assert_int_equal(tb_stmt_exec(st, NULL), TB_OK);
	tb_stmt_done(st);
}

static int64_t count1(struct tb_db *db, const char *sql, const char *arg)
{
	struct tb_stmt *st;
	bool row = false;
	assert_int_equal(tb_db_prepare(db, sql, &st), TB_OK);
	if (arg)
		tb_stmt_bind_text(st, 1, arg);
	assert_int_equal(tb_stmt_step(st, &row), TB_OK);
	assert_true(row);
	int64_t n = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	return n;
}

static bool take(struct tb_db *db, const char *name, const char *holder, int64_t now)
{
	bool held = true;
	assert_int_equal(tb_lease_take(db, name, holder, now, 3000, &held), TB_OK);
	return held;
}

static void test_lease(void **state)
{
	struct fixture *f = *state;
	struct tb_db *db = f->db;
	assert_true(take(db, "t-lease", "node-a", T0));			    /* free: taken */
	assert_false(take(db, "t-lease", "node-b", T0 + 1));		    /* held by a */
	assert_true(take(db, "t-lease", "node-a", T0 + 2000));		    /* renewed */
	assert_false(take(db, "t-lease", "node-b", T0 + 4999));		    /* until 5000 */
	assert_true(take(db, "t-lease", "node-b", T0 + 5000));		    /* expired: b */
	assert_false(take(db, "t-lease", "node-a", T0 + 5001));		    /* a lost it */
	assert_int_equal(tb_lease_release(db, "t-lease", "node-a"), TB_OK); /* not a's */
	assert_false(take(db, "t-lease", "node-a", T0 + 5002));
	assert_int_equal(tb_lease_release(db, "t-lease", "node-b"), TB_OK);
	assert_true(take(db, "t-lease", "node-a", T0 + 5003)); /* handed over at once */
	assert_int_equal(count1(db, "SELECT count(*) FROM leases WHERE name = ?", "t-lease"), 1);
	/* another lease is independent */
	assert_true(take(db, "t-other", "node-b", T0 + 5003));
}

/* ---- racing threads, each on its own connection of the same store ---- */

enum { RACERS = 4, ROUNDS = 60 };

struct race {
	struct fixture *f;
	pthread_barrier_t barrier;
	int wins[ROUNDS];
	int errors;
	const struct tb_job *job;
};

struct racer {
	struct race *race;
	int id;
};

static void *lease_racer(void *arg)
{
	struct racer *me = arg;
	struct race *race = me->race;
	struct tb_db *db = tb_store_db(race->f->store, NULL);
	char holder[32], name[32];
	snprintf(holder, sizeof(holder), "racer-%d", me->id);
	for (int r = 0; r < ROUNDS; r++) {
		snprintf(name, sizeof(name), "race-%d", r);
		pthread_barrier_wait(&race->barrier);
		bool held = false;
		if (!db || tb_lease_take(db, name, holder, T0, 3000, &held))
			__atomic_add_fetch(&race->errors, 1, __ATOMIC_RELAXED);
		else if (held)
			__atomic_add_fetch(&race->wins[r], 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void run_racers(struct race *race, void *(*fn)(void *))
{
	pthread_t th[RACERS];
	struct racer rs[RACERS];
	pthread_barrier_init(&race->barrier, NULL, RACERS);
	for (int i = 0; i < RACERS; i++) {
		rs[i] = (struct racer){race, i};
		assert_int_equal(pthread_create(&th[i], NULL, fn, &rs[i]), 0);
	}
	for (int i = 0; i < RACERS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&race->barrier);
}

static void test_lease_race(void **state)
{
	struct race race = {.f = *state};
	run_racers(&race, lease_racer);
	assert_int_equal(race.errors, 0);
	for (int r = 0; r < ROUNDS; r++)
		assert_int_equal(race.wins[r], 1);
}

/* ---- the once-per-slot claim ---- */

static int calls;

/* A job with an effect we can count: a row per run. */
static tb_rc effect_job(struct tb_db *db, int64_t slot, const struct tb_job_ctx *ctx,
			struct tb_err *err)
{
	struct tb_stmt *st;
	__atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
	tb_rc rc = tb_db_prepare(db, "INSERT INTO effects (slot, node) VALUES (?, ?)", &st);
	if (rc)
		return tb_fail(err, rc, "", "prepare");
	tb_stmt_bind_int(st, 1, slot);
	tb_stmt_bind_text(st, 2, ctx->node);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc ? tb_fail(err, rc, "", "insert") : TB_OK;
}

/* Does its work, then fails: the work must be undone. */
static tb_rc failing_job(struct tb_db *db, int64_t slot, const struct tb_job_ctx *ctx,
			 struct tb_err *err)
{
	effect_job(db, slot, ctx, err);
	return tb_fail(err, TB_EINVAL, "", "refused on purpose");
}

static void test_run_slot(void **state)
{
	struct fixture *f = *state;
	struct tb_db *db = f->db;
	exec_sql(db, "CREATE TABLE effects (slot INTEGER NOT NULL, node TEXT NOT NULL)");
	struct tb_job job = {"t-effect", 60, effect_job};
	struct tb_job_ctx a = {"node-a", (int64_t)T0 * 60, 1000}, b = a;
	b.node = "node-b";
	struct tb_err err = {0};
	bool ran = false;
	calls = 0;
	assert_int_equal(tb_jobs_run_slot(db, &job, &a, &ran, &err), TB_OK);
	assert_true(ran);
	/* the same slot, from the same or another node: not again */
	assert_int_equal(tb_jobs_run_slot(db, &job, &a, &ran, &err), TB_OK);
	assert_false(ran);
	b.now_ms = a.now_ms + 59999; /* still the same 60 s slot */
	assert_int_equal(tb_jobs_run_slot(db, &job, &b, &ran, &err), TB_OK);
	assert_false(ran);
	assert_int_equal(calls, 1);
	/* the next slot runs, on whichever node asks */
	b.now_ms = a.now_ms + 60000;
	assert_int_equal(tb_jobs_run_slot(db, &job, &b, &ran, &err), TB_OK);
	assert_true(ran);
	assert_int_equal(calls, 2);
	assert_int_equal(count1(db, "SELECT count(*) FROM effects", NULL), 2);
	assert_int_equal(
	    count1(db, "SELECT count(*) FROM job_runs WHERE job = ? AND status = 'ok'", "t-effect"),
	    2);
	assert_int_equal(count1(db,
				"SELECT count(*) FROM job_runs WHERE job = ? AND node = 'node-b' "
				"AND finished_at IS NOT NULL",
				"t-effect"),
			 1);

	/* a failing job: its effect is rolled back, the slot is marked failed and not
	 * retried; the next slot tries again */
	struct tb_job bad = {"t-failing", 60, failing_job};
	memset(&err, 0, sizeof(err));
	assert_int_equal(tb_jobs_run_slot(db, &bad, &a, &ran, &err), TB_EINVAL);
	assert_true(ran);
	assert_non_null(strstr(err.msg, "refused on purpose"));
	assert_int_equal(count1(db, "SELECT count(*) FROM effects", NULL), 2);
	assert_int_equal(count1(db,
				"SELECT count(*) FROM job_runs WHERE job = ? AND status = 'failed' "
				"AND detail LIKE '%on purpose%'",
				"t-failing"),
			 1);
	assert_false(tb_db_in_tx(db));
	assert_int_equal(tb_jobs_run_slot(db, &bad, &a, &ran, &err), TB_OK);
	assert_false(ran);
	b.now_ms = a.now_ms + 60000;
	assert_int_equal(tb_jobs_run_slot(db, &bad, &b, &ran, &err), TB_EINVAL);
	assert_true(ran);
}

static void *slot_racer(void *arg)
{
	struct racer *me = arg;
	struct race *race = me->race;
	struct tb_db *db = tb_store_db(race->f->store, NULL);
	char node[32];
	snprintf(node, sizeof(node), "racer-%d", me->id);
	for (int r = 0; r < ROUNDS; r++) {
		struct tb_job_ctx ctx = {node, ((int64_t)T0 + r) * 1000, 1000};
		struct tb_err err = {0};
		bool ran = false;
		pthread_barrier_wait(&race->barrier);
		if (!db || tb_jobs_run_slot(db, race->job, &ctx, &ran, &err))
			__atomic_add_fetch(&race->errors, 1, __ATOMIC_RELAXED);
		else if (ran)
			__atomic_add_fetch(&race->wins[r], 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_run_slot_race(void **state)
{
	struct fixture *f = *state;
	exec_sql(f->db, "DELETE FROM effects");
	struct tb_job job = {"t-race", 1, effect_job};
	struct race race = {.f = f, .job = &job};
	calls = 0;
	run_racers(&race, slot_racer);
	assert_int_equal(race.errors, 0);
	for (int r = 0; r < ROUNDS; r++)
		assert_int_equal(race.wins[r], 1);
	/* each slot's effect happened exactly once */
	assert_int_equal(calls, ROUNDS);
	assert_int_equal(count1(f->db, "SELECT count(*) FROM effects", NULL), ROUNDS);
	assert_int_equal(count1(f->db, "SELECT count(DISTINCT slot) FROM effects", NULL), ROUNDS);
	assert_int_equal(count1(f->db, "SELECT count(*) FROM job_runs WHERE job = ?", "t-race"),
			 ROUNDS);
}

/* ---- nodes ---- */

static void test_nodes(void **state)
{
	struct fixture *f = *state;
	struct tb_db *db = f->db;
	exec_sql(db, "DELETE FROM nodes");
	int64_t now = (int64_t)T0 * 1000;
	assert_int_equal(tb_jobs_heartbeat(db, "old:1:aa", "0.1.0", "10.0.0.1:8080", now - 60000),
			 TB_OK);
	assert_int_equal(tb_jobs_heartbeat(db, "new:2:bb", "0.1.0", "10.0.0.2:8080", now - 90000),
			 TB_OK);
	/* a second heartbeat moves last_seen, not started_at */
	assert_int_equal(tb_jobs_heartbeat(db, "new:2:bb", "0.1.0", "10.0.0.2:8080", now), TB_OK);
	assert_int_equal(
	    count1(db, "SELECT count(*) FROM nodes WHERE started_at < last_seen", NULL), 1);
	bool held;
	assert_int_equal(tb_lease_take(db, "scheduler", "new:2:bb", now, 3000, &held), TB_OK);
	assert_true(held);

	json_t *out = NULL;
	struct tb_err err = {0};
	assert_int_equal(tb_jobs_status(db, now, &out, &err), TB_OK);
	assert_int_equal(json_integer_value(json_object_get(out, "total")), 2);
	json_t *items = json_object_get(out, "items");
	size_t i;
	json_t *n;
	int schedulers = 0;
	json_array_foreach(items, i, n)
	{
		if (json_is_true(json_object_get(n, "scheduler"))) {
			schedulers++;
			assert_string_equal(json_string_value(json_object_get(n, "id")),
					    "new:2:bb");
		}
	}
	assert_int_equal(schedulers, 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(out, "lease"), "holder")),
	    "new:2:bb");
	json_decref(out);

	/* the prune job forgets the node not seen for 30 s, keeps the other */
	struct tb_job prune = {"t-prune", 10, tb_jobs_prune_nodes};
	struct tb_job_ctx ctx = {"new:2:bb", now, 30000};
	bool ran;
	assert_int_equal(tb_jobs_run_slot(db, &prune, &ctx, &ran, &err), TB_OK);
	assert_true(ran);
	assert_int_equal(count1(db, "SELECT count(*) FROM nodes WHERE id = ?", "old:1:aa"), 0);
	assert_int_equal(count1(db, "SELECT count(*) FROM nodes WHERE id = ?", "new:2:bb"), 1);
	assert_int_equal(tb_lease_release(db, "scheduler", "new:2:bb"), TB_OK);
}

static void test_node_id(void **state)
{
	(void)state;
	char a[160], b[160];
	tb_jobs_node_id(a, sizeof(a));
	tb_jobs_node_id(b, sizeof(b));
	assert_string_not_equal(a, b); /* the random part */
	char pid[32];
	snprintf(pid, sizeof(pid), ":%ld:", (long)getpid());
	assert_non_null(strstr(a, pid));
}

#define JOBS_SHARED_TESTS                                                                          \
	cmocka_unit_test(test_lease), cmocka_unit_test(test_lease_race),                           \
	    cmocka_unit_test(test_run_slot), cmocka_unit_test(test_run_slot_race),                 \
	    cmocka_unit_test(test_nodes), cmocka_unit_test(test_node_id)

#endif
