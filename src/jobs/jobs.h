/* jobs.h: scheduled work that runs once however many nodes serve.
 *
 * Every `tongban serve` starts one scheduler thread. On each tick it
 *   1. heartbeats its node into the `nodes` table (every node, every tick);
 *   2. takes or renews the lease row `scheduler` (one portable upsert: it succeeds
 *      only when the lease is free, expired, or already ours);
 *   3. if it holds the lease, runs each registered job whose current time slot
 *      (floor(now / interval)) has no row in `job_runs` yet.
 * A job run is claimed by inserting its (job, slot) row, which is unique, in the same
 * transaction as the job's own work: a slot runs exactly once even when the lease
 * changes hands mid-slot (a paused holder whose lease expired, a node stopped), and a
 * failed run leaves its work undone and a row with status "failed" (the next slot
 * tries again; jobs are written to catch up). Slots use the nodes' clocks: keep them
 * in sync (NTP) to well within a tick.
 *
 * All nodes must register the same jobs with the same intervals (they run the same
 * binary with the same --jobs-tick). */
#ifndef TB_JOBS_JOBS_H
#define TB_JOBS_JOBS_H

#include "base/tb.h"

#include <jansson.h>

struct tb_store;
struct tb_db;

struct tb_job_ctx {
	const char *node; /* this node's id */
	int64_t now_ms;	  /* the tick's time */
	int64_t stale_ms; /* a node not seen for this long is gone */
};

struct tb_job {
	const char *name;
	int64_t interval; /* seconds, >= 1 */
	/* Runs inside the write transaction that claimed the slot; must not begin or
	 * commit. ctx is the scheduler's (struct tb_job_ctx). */
	tb_rc (*run)(struct tb_db *db, int64_t slot, const struct tb_job_ctx *ctx,
		     struct tb_err *err);
};

/* ---- the lease (usable on its own) ---- */

/* Take or renew lease `name` for `holder` until now_ms + ttl_ms. *held: whether the
 * holder has it now. One statement; safe against any number of concurrent callers. */
tb_rc tb_lease_take(struct tb_db *db, const char *name, const char *holder, int64_t now_ms,
		    int64_t ttl_ms, bool *held);
/* Give the lease up at once if `holder` has it (a clean stop hands over at once). */
tb_rc tb_lease_release(struct tb_db *db, const char *name, const char *holder);

/* ---- one step of the scheduler, for the thread and the tests ---- */

/* Upsert this node's row (id, version, listen address, started_at stays). */
tb_rc tb_jobs_heartbeat(struct tb_db *db, const char *node, const char *version, const char *listen,
			int64_t now_ms);
/* Run `job` for the slot of ctx->now_ms unless that slot already has a run.
 * *ran: whether this call ran it (whatever the outcome: see job_runs.status). */
tb_rc tb_jobs_run_slot(struct tb_db *db, const struct tb_job *job, const struct tb_job_ctx *ctx,
		       bool *ran, struct tb_err *err);

/* The built-in job: forget nodes not seen for ctx->stale_ms. */
tb_rc tb_jobs_prune_nodes(struct tb_db *db, int64_t slot, const struct tb_job_ctx *ctx,
			  struct tb_err *err);

/* What an operator sees: the nodes, the lease, the latest runs (GET
 * /api/v1/system/nodes). *out is a new object. */
tb_rc tb_jobs_status(struct tb_db *db, int64_t now_ms, json_t **out, struct tb_err *err);

/* ---- the scheduler thread ---- */

struct tb_jobs_config {
	const char *listen;  /* recorded in the node's row */
	const char *version; /* ditto */
	int64_t tick;	     /* seconds between ticks, >= 1 */
	bool run_jobs;	     /* false: heartbeat only, never take the lease */
};

struct tb_jobs;

/* A new node id: hostname:pid:8 random hex digits, into out. */
void tb_jobs_node_id(char *out, size_t n);
/* Start the thread (call with the signals already blocked). Jobs: the table the node
 * runs (not copied; it must outlive the scheduler). */
tb_rc tb_jobs_start(struct tb_store *store, const struct tb_jobs_config *cfg,
		    const struct tb_job *jobs, size_t njobs, struct tb_jobs **out,
		    struct tb_err *err);
const char *tb_jobs_node(const struct tb_jobs *j);
/* Wake the thread, wait for the tick in progress, release the lease and remove the
 * node's row, join. */
void tb_jobs_stop(struct tb_jobs *j);

/* milliseconds since 1970 (wall clock) */
int64_t tb_jobs_now_ms(void);

#endif
