/* write_bench.c: rows written through store.h, one transaction each, by N threads (each
 * on its own connection, as the server's worker threads are) for a fixed time: the
 * path every block's write takes (BEGIN, a prepared INSERT with bound values, COMMIT).
 * bench/run.sh sets it beside pgbench running the same transaction on the same table.
 * usage: write_bench URL CLIENTS SECONDS   prints "write_bench: N rows in S s (R rows/s)" */
#include "base/log.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static struct tb_store *store;
static double deadline;
static long errors;

/* The same shape as bench/run.sh's pgbench script. */
static const char table_sql[] = "CREATE TABLE IF NOT EXISTS bench_writes (k TEXT NOT NULL, "
				"v BIGINT NOT NULL, t TEXT NOT NULL, created_at TEXT NOT NULL)";

static void *writer(void *arg)
{
	long id = (long)arg, n = 0;
	struct tb_err err = {0};
	struct tb_db *db = tb_store_db(store, &err);
	char k[32], ts[32];
	snprintf(k, sizeof(k), "tongban-%ld", id);
	while (db && tb_time_mono() < deadline) {
		struct tb_stmt *st;
		tb_time_rfc3339(ts);
		tb_rc rc = tb_db_begin(db, true);
		if (!rc && !(rc = tb_db_prepare(db,
						"INSERT INTO bench_writes (k, v, t, created_at) "
						"VALUES (?, ?, ?, ?)",
						&st))) {
			tb_stmt_bind_text(st, 1, k);
			tb_stmt_bind_int(st, 2, n);
			tb_stmt_bind_text(st, 3, "x");
			tb_stmt_bind_text(st, 4, ts);
			rc = tb_stmt_exec(st, NULL);
			tb_stmt_done(st);
		}
		if (!rc)
			rc = tb_db_commit(db);
		else if (tb_db_in_tx(db))
			tb_db_rollback(db);
		if (rc)
			__atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
		else
			n++;
	}
	return (void *)n;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: write_bench URL CLIENTS SECONDS\n");
		return 2;
	}
	int clients = atoi(argv[2]);
	double secs = atof(argv[3]);
	if (clients < 1 || clients > 64 || secs <= 0) {
		fprintf(stderr, "write_bench: 1-64 clients, a positive number of seconds\n");
		return 2;
	}
	struct tb_err err = {0};
	if (tb_store_open(argv[1], &store, &err)) {
		fprintf(stderr, "write_bench: %s\n", err.msg);
		return 1;
	}
	struct tb_db *db = tb_store_db(store, &err);
	struct tb_stmt *st;
	if (!db || tb_db_prepare(db, table_sql, &st) || tb_stmt_exec(st, NULL)) {
		fprintf(stderr, "write_bench: cannot create the table\n");
		return 1;
	}
	tb_stmt_done(st);
	pthread_t th[64];
	double t0 = tb_time_mono();
	deadline = t0 + secs;
	for (long i = 0; i < clients; i++)
		pthread_create(&th[i], NULL, writer, (void *)i);
	long rows = 0;
	for (int i = 0; i < clients; i++) {
		void *n;
		pthread_join(th[i], &n);
		rows += (long)n;
	}
	double took = tb_time_mono() - t0;
	printf("write_bench: %ld rows in %.1f s (%.0f rows/s), %ld errors\n", rows, took,
	       (double)rows / took, errors);
	tb_store_free(store);
	return errors ? 1 : 0;
}
