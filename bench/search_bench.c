/* search_bench.c: 一网通查 latency in-process (tb_catalog_search, page of 20 with the
 * total) against a LIKE scan of the same text, on whatever database it is given.
 * usage: search_bench sqlite:PATH|postgres://... [iterations] */
#include "base/log.h"
#include "base/text.h"
#include "catalog/catalog.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(double), cmp);
	int i = (int)(p * (n - 1) + 0.5);
	return v[i];
}

static const char *q2[] = {"社保", "户口", "护照", "公积", "驾驶",
			   "结婚", "营业", "医保", "退休", "出生"};
static const char *q4[] = {"社会保障", "营业执照", "户口迁移", "住房公积",
			   "结婚登记", "机动车驾", "出生医学", "不动产登"};

static void run(struct tb_db *db, const char **qs, int nq, int iters, double *out50, double *out99,
		long *hits)
{
	int n = nq * iters;
	double *lat = malloc(sizeof(double) * (size_t)n);
	struct tb_catalog_filter f = {0};
	*hits = 0;
	for (int i = 0; i < n; i++) {
		json_t *res = NULL;
		struct tb_err err = {0};
		double t0 = tb_time_mono();
		tb_rc rc = tb_catalog_search(db, qs[i % nq], &f, 1, 20, NULL, &res, &err);
		lat[i] = (tb_time_mono() - t0) * 1000;
		if (rc) {
			fprintf(stderr, "search %s: %s\n", qs[i % nq], err.msg);
			exit(1);
		}
		if (i < nq)
			*hits += (long)json_integer_value(json_object_get(res, "total"));
		json_decref(res);
	}
	*out50 = pct(lat, n, 0.5);
	*out99 = pct(lat, n, 0.99);
	free(lat);
}

static double like_scan(struct tb_db *db, const char **qs, int nq, long *hits)
{
	/* What a search without an index does: read every implementation's name and
	 * guide, count the matches, and pick the first page (names first). */
	static const char *count_sql =
	    "SELECT count(*) FROM implementations c JOIN guide_versions g ON g.impl_id = c.id "
	    "AND g.version = c.version WHERE c.name LIKE ? OR g.guide LIKE ?";
	static const char *page_sql =
	    "SELECT c.impl_code FROM implementations c JOIN guide_versions g ON g.impl_id = c.id "
	    "AND g.version = c.version WHERE c.name LIKE ? OR g.guide LIKE ? "
	    "ORDER BY (c.name LIKE ?) DESC, c.id LIMIT 20";
	double total = 0;
	*hits = 0;
	for (int i = 0; i < nq; i++) {
		struct tb_stmt *st;
		bool row;
		char pat[64];
		snprintf(pat, sizeof(pat), "%%%s%%", qs[i]);
		double t0 = tb_time_mono();
		if (tb_db_prepare(db, count_sql, &st))
			exit(1);
		/* plain `?` (PostgreSQL has no ?1): the pattern bound at each */
		for (int k = 1; k <= 2; k++)
			tb_stmt_bind_text(st, k, pat);
		tb_stmt_step(st, &row);
		*hits += (long)tb_stmt_int(st, 0);
		tb_stmt_done(st);
		if (tb_db_prepare(db, page_sql, &st))
			exit(1);
		for (int k = 1; k <= 3; k++)
			tb_stmt_bind_text(st, k, pat);
		while (!tb_stmt_step(st, &row) && row)
			;
		tb_stmt_done(st);
		total += (tb_time_mono() - t0) * 1000;
	}
	return total / nq;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: search_bench sqlite:PATH [iterations]\n");
		return 2;
	}
	int iters = argc > 2 ? atoi(argv[2]) : 50;
	tb_text_init();
	struct tb_store *s;
	struct tb_err err = {0};
	if (tb_store_open(argv[1], &s, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	struct tb_db *db = tb_store_db(s, &err);
	struct tb_stmt *st;
	bool row;
	tb_db_prepare(db, "SELECT count(*) FROM implementations", &st);
	tb_stmt_step(st, &row);
	long n = (long)tb_stmt_int(st, 0);
	tb_stmt_done(st);
	double p50_2, p99_2, p50_4, p99_4;
	long h2, h4, l2, l4;
	run(db, q2, 10, 2, &p50_2, &p99_2, &h2); /* warm the cache */
	run(db, q2, 10, iters, &p50_2, &p99_2, &h2);
	run(db, q4, 8, iters, &p50_4, &p99_4, &h4);
	double like2 = like_scan(db, q2, 10, &l2), like4 = like_scan(db, q4, 8, &l4);
	printf("search over %ld implementations (%d runs per query)\n", n, iters);
	printf("| query | p50 ms | p99 ms | LIKE scan ms | speed-up (scan / p99) | matches (index "
	       "/ scan) |\n");
	printf("| --- | ---: | ---: | ---: | ---: | --- |\n");
	printf("| 2 characters | %.2f | %.2f | %.1f | %.0fx | %ld / %ld |\n", p50_2, p99_2, like2,
	       like2 / p99_2, h2, l2);
	printf("| 4 characters | %.2f | %.2f | %.1f | %.0fx | %ld / %ld |\n", p50_4, p99_4, like4,
	       like4 / p99_4, h4, l4);
	tb_store_free(s);
	return 0;
}
