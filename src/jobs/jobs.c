/* jobs.c: the lease, the once-per-slot claim, the node heartbeat and the scheduler
 * thread (jobs.h). Every statement is plain SQL both stores accept: the lease is one
 * INSERT ... ON CONFLICT DO UPDATE ... WHERE, whose changed-row count says who won. */
#include "jobs/jobs.h"
#include "base/crypto.h"
#include "base/log.h"
#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char scheduler_lease[] = "scheduler";

int64_t tb_jobs_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void rfc3339_ms(int64_t ms, char out[32])
{
	tb_time_rfc3339_at((long long)(ms / 1000), out);
}

/* ---- the lease ---- */

tb_rc tb_lease_take(struct tb_db *db, const char *name, const char *holder, int64_t now_ms,
		    int64_t ttl_ms, bool *held)
{
	/* The update applies only when the lease is ours or has expired; concurrent
	 * callers are serialized by the row (PostgreSQL re-checks the WHERE on the
	 * latest row version) or by the write lock (SQLite), so one wins. */
	struct tb_stmt *st;
	char ts[32];
	int64_t changes = 0;
	*held = false;
	tb_rc rc =
	    tb_db_prepare(db,
			  "INSERT INTO leases (name, holder, expires_ms, created_at, updated_at) "
			  "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
			  "holder = excluded.holder, expires_ms = excluded.expires_ms, "
			  "updated_at = excluded.updated_at "
			  "WHERE leases.holder = excluded.holder OR leases.expires_ms <= ?",
			  &st);
	if (rc)
		return rc;
	rfc3339_ms(now_ms, ts);
	tb_stmt_bind_text(st, 1, name);
	tb_stmt_bind_text(st, 2, holder);
	tb_stmt_bind_int(st, 3, now_ms + ttl_ms);
	tb_stmt_bind_text(st, 4, ts);
	tb_stmt_bind_text(st, 5, ts);
	tb_stmt_bind_int(st, 6, now_ms);
	rc = tb_stmt_exec(st, &changes);
	tb_stmt_done(st);
	if (!rc)
		*held = changes == 1;
	return rc;
}

tb_rc tb_lease_release(struct tb_db *db, const char *name, const char *holder)
{
	struct tb_stmt *st;
	char ts[32];
	tb_rc rc = tb_db_prepare(db,
				 "UPDATE leases SET expires_ms = 0, updated_at = ? "
				 "WHERE name = ? AND holder = ?",
				 &st);
	if (rc)
		return rc;
	tb_time_rfc3339(ts);
	tb_stmt_bind_text(st, 1, ts);
	tb_stmt_bind_text(st, 2, name);
	tb_stmt_bind_text(st, 3, holder);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc;
}

/* ---- nodes ---- */

tb_rc tb_jobs_heartbeat(struct tb_db *db, const char *node, const char *version, const char *listen,
			int64_t now_ms)
{
	struct tb_stmt *st;
	char ts[32];
	tb_rc rc =
	    tb_db_prepare(db,
			  "INSERT INTO nodes (id, version, listen, seen_ms, started_at, last_seen) "
			  "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
			  "seen_ms = excluded.seen_ms, last_seen = excluded.last_seen",
			  &st);
	if (rc)
		return rc;
	rfc3339_ms(now_ms, ts);
	tb_stmt_bind_text(st, 1, node);
	tb_stmt_bind_text(st, 2, version);
	tb_stmt_bind_text(st, 3, listen ? listen : "");
	tb_stmt_bind_int(st, 4, now_ms);
	tb_stmt_bind_text(st, 5, ts);
	tb_stmt_bind_text(st, 6, ts);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc;
}

static tb_rc forget_node(struct tb_db *db, const char *node)
{
	struct tb_stmt *st;
	tb_rc rc = tb_db_prepare(db, "DELETE FROM nodes WHERE id = ?", &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, node);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc;
}

tb_rc tb_jobs_prune_nodes(struct tb_db *db, int64_t slot, const struct tb_job_ctx *ctx,
			  struct tb_err *err)
{
	(void)slot;
	struct tb_stmt *st;
	int64_t gone = 0;
	tb_rc rc = tb_db_prepare(db, "DELETE FROM nodes WHERE seen_ms < ?", &st);
	if (rc)
		return tb_fail(err, rc, "", "prune nodes: %s", tb_db_errmsg(db));
	tb_stmt_bind_int(st, 1, ctx->now_ms - ctx->stale_ms);
	rc = tb_stmt_exec(st, &gone);
	tb_stmt_done(st);
	if (rc)
		return tb_fail(err, rc, "", "prune nodes: %s", tb_db_errmsg(db));
	if (gone)
		tb_log(TB_LOG_INFO, "jobs.prune", "forgot %lld node(s) not seen for %lld s",
		       (long long)gone, (long long)(ctx->stale_ms / 1000));
	return TB_OK;
}

/* ---- one slot of one job ---- */

static tb_rc record_failure(struct tb_db *db, const struct tb_job *job, int64_t slot,
			    const char *node, const char *detail)
{
	struct tb_stmt *st;
	char ts[32];
	tb_rc rc =
	    tb_db_prepare(db,
			  "INSERT INTO job_runs (job, slot, node, status, detail, started_at, "
			  "finished_at) VALUES (?, ?, ?, 'failed', ?, ?, ?) "
			  "ON CONFLICT (job, slot) DO NOTHING",
			  &st);
	if (rc)
		return rc;
	tb_time_rfc3339(ts);
	tb_stmt_bind_text(st, 1, job->name);
	tb_stmt_bind_int(st, 2, slot);
	tb_stmt_bind_text(st, 3, node);
	tb_stmt_bind_text(st, 4, detail);
	tb_stmt_bind_text(st, 5, ts);
	tb_stmt_bind_text(st, 6, ts);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc;
}

tb_rc tb_jobs_run_slot(struct tb_db *db, const struct tb_job *job, const struct tb_job_ctx *ctx,
		       bool *ran, struct tb_err *err)
{
	int64_t slot = ctx->now_ms / 1000 / job->interval;
	struct tb_stmt *st;
	char ts[32];
	int64_t claimed = 0;
	*ran = false;
	tb_rc rc = tb_db_begin(db, true);
	if (rc)
		return tb_fail(err, rc, "", "job %s: cannot begin: %s", job->name,
			       tb_db_errmsg(db));
	/* The claim: a second claimant of the slot (another node, now or after a
	 * hand-over) waits for this transaction and then inserts nothing. */
	rc = tb_db_prepare(db,
			   "INSERT INTO job_runs (job, slot, node, status, started_at) "
			   "VALUES (?, ?, ?, 'running', ?) ON CONFLICT (job, slot) DO NOTHING",
			   &st);
	if (rc)
		goto fail_db;
	tb_time_rfc3339(ts);
	tb_stmt_bind_text(st, 1, job->name);
	tb_stmt_bind_int(st, 2, slot);
	tb_stmt_bind_text(st, 3, ctx->node);
	tb_stmt_bind_text(st, 4, ts);
	rc = tb_stmt_exec(st, &claimed);
	tb_stmt_done(st);
	if (rc)
		goto fail_db;
	if (claimed != 1) {
		tb_db_rollback(db);
		return TB_OK;
	}
	*ran = true;
	struct tb_err jerr = {0};
	rc = job->run(db, slot, ctx, &jerr);
	if (rc) {
		/* The job's work is undone with the claim; the failure is kept so that the
		 * slot is not retried and an operator sees it. */
		tb_db_rollback(db);
		record_failure(db, job, slot, ctx->node, jerr.msg);
		tb_log(TB_LOG_ERROR, "job.run", "job %s slot %lld on %s: failed: %s", job->name,
		       (long long)slot, ctx->node, jerr.msg);
		return tb_fail(err, rc, "", "job %s: %s", job->name, jerr.msg);
	}
	rc = tb_db_prepare(db,
			   "UPDATE job_runs SET status = 'ok', finished_at = ? "
			   "WHERE job = ? AND slot = ?",
			   &st);
	if (rc)
		goto fail_db;
	tb_time_rfc3339(ts);
	tb_stmt_bind_text(st, 1, ts);
	tb_stmt_bind_text(st, 2, job->name);
	tb_stmt_bind_int(st, 3, slot);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	if (rc)
		goto fail_db;
	if ((rc = tb_db_commit(db))) {
		*ran = false;
		return tb_fail(err, rc, "", "job %s: commit: %s", job->name, tb_db_errmsg(db));
	}
	tb_log(TB_LOG_INFO, "job.run", "job %s slot %lld on %s: ok", job->name, (long long)slot,
	       ctx->node);
	return TB_OK;
fail_db:
	tb_fail(err, rc, "", "job %s: %s", job->name, tb_db_errmsg(db));
	tb_db_rollback(db);
	*ran = false;
	return rc;
}

/* ---- status ---- */

static json_t *text_or_null(struct tb_stmt *st, int col)
{
	return tb_stmt_null(st, col) ? json_null() : json_string(tb_stmt_text(st, col));
}

tb_rc tb_jobs_status(struct tb_db *db, int64_t now_ms, json_t **out, struct tb_err *err)
{
	struct tb_stmt *st = NULL;
	bool row;
	tb_rc rc;
	json_t *o = json_object(), *items = json_array(), *runs = json_array();
	json_t *lease = json_null();
	const char *holder = NULL;
	char holder_buf[256] = "";
	if (!o || !items || !runs)
		goto oom;
	json_object_set_new(o, "items", items);
	json_object_set_new(o, "runs", runs);

	if ((rc = tb_db_prepare(
		 db, "SELECT holder, expires_ms, updated_at FROM leases WHERE name = ?", &st)))
		goto fail;
	tb_stmt_bind_text(st, 1, scheduler_lease);
	if ((rc = tb_stmt_step(st, &row)))
		goto fail;
	if (row) {
		int64_t exp = tb_stmt_int(st, 1);
		char ts[32];
		rfc3339_ms(exp, ts);
		snprintf(holder_buf, sizeof(holder_buf), "%s", tb_stmt_text(st, 0));
		if (exp > now_ms)
			holder = holder_buf;
		lease = json_pack("{s:s,s:s,s:s,s:b}", "name", scheduler_lease, "holder",
				  holder_buf, "expires_at", ts, "valid", exp > now_ms);
	}
	tb_stmt_done(st);
	json_object_set_new(o, "lease", lease ? lease : json_null());

	if ((rc = tb_db_prepare(db,
				"SELECT id, version, listen, started_at, last_seen FROM nodes "
				"ORDER BY started_at, id",
				&st)))
		goto fail;
	while (!(rc = tb_stmt_step(st, &row)) && row) {
		const char *id = tb_stmt_text(st, 0);
		json_t *n = json_pack(
		    "{s:s,s:s,s:s,s:s,s:s,s:b}", "id", id, "version", tb_stmt_text(st, 1), "listen",
		    tb_stmt_text(st, 2), "started_at", tb_stmt_text(st, 3), "last_seen",
		    tb_stmt_text(st, 4), "scheduler", holder && !strcmp(holder, id));
		if (!n || json_array_append_new(items, n))
			goto oom;
	}
	if (rc)
		goto fail;
	tb_stmt_done(st);
	json_object_set_new(o, "total", json_integer((json_int_t)json_array_size(items)));

	if ((rc = tb_db_prepare(db,
				"SELECT job, slot, node, status, detail, started_at, finished_at "
				"FROM job_runs ORDER BY started_at DESC, job LIMIT 20",
				&st)))
		goto fail;
	while (!(rc = tb_stmt_step(st, &row)) && row) {
		json_t *r =
		    json_pack("{s:s,s:I,s:s,s:s,s:s,s:s,s:o}", "job", tb_stmt_text(st, 0), "slot",
			      (json_int_t)tb_stmt_int(st, 1), "node", tb_stmt_text(st, 2), "status",
			      tb_stmt_text(st, 3), "detail", tb_stmt_text(st, 4), "started_at",
			      tb_stmt_text(st, 5), "finished_at", text_or_null(st, 6));
		if (!r || json_array_append_new(runs, r))
			goto oom;
	}
	if (rc)
		goto fail;
	tb_stmt_done(st);
	*out = o;
	return TB_OK;
oom:
	tb_stmt_done(st);
	json_decref(o);
	return tb_fail(err, TB_ENOMEM, "", "out of memory");
fail:
	tb_stmt_done(st);
	json_decref(o);
	return tb_fail(err, rc, "", "%s", tb_db_errmsg(db));
}

/* ---- the thread ---- */

struct tb_jobs {
	struct tb_store *store;
	struct tb_jobs_config cfg;
	const struct tb_job *jobs;
	size_t njobs;
	int64_t *done_slot; /* per job: the last slot known to have a run */
	char node[160];
	bool held;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

void tb_jobs_node_id(char *out, size_t n)
{
	char host[64] = "";
	uint32_t r = 0;
	if (gethostname(host, sizeof(host) - 1) || !host[0])
		strcpy(host, "localhost");
	if (tb_crypto_random(&r, sizeof(r)))
		r = (uint32_t)tb_jobs_now_ms() ^ (uint32_t)getpid();
	snprintf(out, n, "%s:%ld:%08x", host, (long)getpid(), r);
}

const char *tb_jobs_node(const struct tb_jobs *j)
{
	return j->node;
}

static void tick(struct tb_jobs *j)
{
	struct tb_err err = {0};
	struct tb_db *db = tb_store_db(j->store, &err);
	if (!db) {
		tb_log(TB_LOG_WARN, "jobs.tick", "no database: %s", err.msg);
		return;
	}
	int64_t now = tb_jobs_now_ms(), tick_ms = j->cfg.tick * 1000;
	if (tb_jobs_heartbeat(db, j->node, j->cfg.version, j->cfg.listen, now))
		tb_log(TB_LOG_WARN, "jobs.heartbeat", "%s", tb_db_errmsg(db));
	if (!j->cfg.run_jobs)
		return;
	bool held = false;
	/* three ticks: a holder that misses two renewals in a row loses it */
	if (tb_lease_take(db, scheduler_lease, j->node, now, 3 * tick_ms, &held)) {
		tb_log(TB_LOG_WARN, "jobs.lease", "%s", tb_db_errmsg(db));
		held = false;
	}
	if (held != j->held)
		tb_log(TB_LOG_INFO, "jobs.lease", "%s %s the scheduler lease", j->node,
		       held ? "took" : "lost");
	j->held = held;
	if (!held)
		return;
	struct tb_job_ctx ctx = {.node = j->node, .now_ms = now, .stale_ms = 6 * tick_ms};
	for (size_t i = 0; i < j->njobs; i++) {
		int64_t slot = now / 1000 / j->jobs[i].interval;
		if (j->done_slot[i] == slot)
			continue;
		bool ran;
		memset(&err, 0, sizeof(err));
		tb_rc rc = tb_jobs_run_slot(db, &j->jobs[i], &ctx, &ran, &err);
		if (!rc || ran)
			j->done_slot[i] = slot;
		else
			tb_log(TB_LOG_WARN, "jobs.run", "%s", err.msg);
	}
}

static void *loop(void *arg)
{
	struct tb_jobs *j = arg;
	pthread_mutex_lock(&j->mu);
	while (!j->stop) {
		pthread_mutex_unlock(&j->mu);
		tick(j);
		pthread_mutex_lock(&j->mu);
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += j->cfg.tick;
		while (!j->stop && pthread_cond_timedwait(&j->cv, &j->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&j->mu);
	/* A clean stop: hand the lease over now rather than when it expires, and leave
	 * the node list. */
	struct tb_db *db = tb_store_db(j->store, NULL);
	if (db) {
		if (j->held)
			tb_lease_release(db, scheduler_lease, j->node);
		forget_node(db, j->node);
	}
	return NULL;
}

tb_rc tb_jobs_start(struct tb_store *store, const struct tb_jobs_config *cfg,
		    const struct tb_job *jobs, size_t njobs, struct tb_jobs **out,
		    struct tb_err *err)
{
	if (cfg->tick < 1)
		return tb_fail(err, TB_EINVAL, "jobs_tick", "the tick must be at least 1 second");
	for (size_t i = 0; i < njobs; i++)
		if (jobs[i].interval < 1)
			return tb_fail(err, TB_EINVAL, "jobs", "job %s: interval under 1 second",
				       jobs[i].name);
	struct tb_jobs *j = calloc(1, sizeof(*j));
	if (!j || !(j->done_slot = calloc(njobs ? njobs : 1, sizeof(int64_t)))) {
		free(j);
		return tb_fail(err, TB_ENOMEM, "", "out of memory");
	}
	j->store = store;
	j->cfg = *cfg;
	j->jobs = jobs;
	j->njobs = njobs;
	for (size_t i = 0; i < njobs; i++)
		j->done_slot[i] = -1;
	tb_jobs_node_id(j->node, sizeof(j->node));
	pthread_mutex_init(&j->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->cv, &ca);
	pthread_condattr_destroy(&ca);
	int e = pthread_create(&j->thread, NULL, loop, j);
	if (e) {
		pthread_cond_destroy(&j->cv);
		pthread_mutex_destroy(&j->mu);
		free(j->done_slot);
		free(j);
		return tb_fail(err, TB_EINTERNAL, "", "cannot start the scheduler: %s",
			       strerror(e));
	}
	*out = j;
	return TB_OK;
}

void tb_jobs_stop(struct tb_jobs *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->mu);
	j->stop = true;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
	pthread_join(j->thread, NULL);
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	free(j->done_slot);
	free(j);
}
