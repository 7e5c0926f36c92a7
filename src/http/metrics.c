/* metrics.c: Prometheus counters and latency histograms per route, lock-free. */
#include "http/http.h"
#include "store/store.h"
#include "base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SLOTS = 130, NBUCKETS = 12, NCLASSES = 5 };
static const double bounds[NBUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
					0.05,	0.1,   0.25,   0.5,   1,    2.5};

struct slot {
	uint64_t count[NCLASSES]; /* by status class 1xx..5xx */
	uint64_t buckets[NBUCKETS];
	uint64_t sum_us;
	uint64_t total;
};
static struct slot slots[SLOTS]; /* one per route; the last two: static, unmatched */

void tb_metrics_observe(int route_index, const char *method, unsigned status, double seconds)
{
	(void)method;
	int i = route_index >= 0 && route_index < SLOTS - 2 ? route_index : SLOTS - 1;
	struct slot *s = &slots[i];
	unsigned cls = status / 100;
	if (cls >= 1 && cls <= 5)
		__atomic_add_fetch(&s->count[cls - 1], 1, __ATOMIC_RELAXED);
	for (int b = 0; b < NBUCKETS; b++)
		if (seconds <= bounds[b]) {
			__atomic_add_fetch(&s->buckets[b], 1, __ATOMIC_RELAXED);
			break;
		}
	__atomic_add_fetch(&s->sum_us, (uint64_t)(seconds * 1e6), __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->total, 1, __ATOMIC_RELAXED);
}

char *tb_metrics_render(size_t *len)
{
	const struct tb_route **routes;
	size_t n = tb_http_routes(&routes);
	struct tb_buf b;
	tb_buf_init(&b, 4 * 1024 * 1024);
	tb_buf_puts(&b,
		    "# HELP tongban_http_requests_total HTTP requests by route and status class.\n"
		    "# TYPE tongban_http_requests_total counter\n");
	for (size_t i = 0; i < SLOTS; i++) {
		if (i < SLOTS - 1 && i >= n)
			continue;
		const char *route = i < n ? routes[i]->pattern : "other";
		const char *method = i < n ? routes[i]->method : "";
		for (int c = 0; c < NCLASSES; c++) {
			uint64_t v = __atomic_load_n(&slots[i].count[c], __ATOMIC_RELAXED);
			if (v)
				tb_buf_printf(
				    &b,
				    "tongban_http_requests_total{route=\"%s\",method=\"%s\","
				    "status=\"%dxx\"} %llu\n",
				    route, method, c + 1, (unsigned long long)v);
		}
	}
	tb_buf_puts(&b, "# HELP tongban_http_request_duration_seconds Time to answer, by route.\n"
			"# TYPE tongban_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < SLOTS; i++) {
		if (i < SLOTS - 1 && i >= n)
			continue;
		uint64_t total = __atomic_load_n(&slots[i].total, __ATOMIC_RELAXED);
		if (!total)
			continue;
		const char *route = i < n ? routes[i]->pattern : "other";
		const char *method = i < n ? routes[i]->method : "";
		uint64_t cum = 0;
		for (int k = 0; k < NBUCKETS; k++) {
			cum += __atomic_load_n(&slots[i].buckets[k], __ATOMIC_RELAXED);
			tb_buf_printf(&b,
				      "tongban_http_request_duration_seconds_bucket{route=\"%s\","
				      "method=\"%s\",le=\"%g\"} %llu\n",
				      route, method, bounds[k], (unsigned long long)cum);
		}
		tb_buf_printf(
		    &b,
		    "tongban_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
		    "le=\"+Inf\"} %llu\n",
		    route, method, (unsigned long long)total);
		tb_buf_printf(
		    &b,
		    "tongban_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} "
		    "%.6f\n",
		    route, method,
		    (double)__atomic_load_n(&slots[i].sum_us, __ATOMIC_RELAXED) / 1e6);
		tb_buf_printf(
		    &b,
		    "tongban_http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} "
		    "%llu\n",
		    route, method, (unsigned long long)total);
	}
	return tb_buf_steal(&b, len);
}

/* ---- system routes ---- */

extern const unsigned char tb_openapi_json[];
extern const size_t tb_openapi_json_len;

static void get_healthz(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	struct tb_stmt *st = NULL;
	bool row;
	if (tb_db_prepare(db, "SELECT 1", &st) || tb_stmt_step(st, &row)) {
		tb_stmt_done(st);
		tb_http_add_header(r, "Retry-After", "5");
		tb_http_reply_error(r, 503, "unavailable", NULL, "the database does not answer");
		return;
	}
	tb_stmt_done(st);
	tb_http_reply_json(r, 200,
			   json_pack("{s:s,s:s,s:i}", "status", "ok", "store",
				     tb_store_backend(r->app->store), "schema",
				     tb_store_schema_version(r->app->store)));
}

static void get_metrics(struct tb_req *r)
{
	size_t len;
	char *s = tb_metrics_render(&len);
	if (!s) {
		tb_http_reply_error(r, 500, "internal", NULL, "out of memory");
		return;
	}
	tb_http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", s, len);
}

static void get_openapi(struct tb_req *r)
{
	char *s = malloc(tb_openapi_json_len + 1);
	if (!s) {
		tb_http_reply_error(r, 500, "internal", NULL, "out of memory");
		return;
	}
	memcpy(s, tb_openapi_json, tb_openapi_json_len);
	s[tb_openapi_json_len] = 0;
	tb_http_reply(r, 200, "application/json; charset=utf-8", s, tb_openapi_json_len);
}

const struct tb_route tb_system_routes[] = {
    {"GET", "/healthz", get_healthz, TB_AUTH_PUBLIC, 0, 0},
    {"GET", "/metrics", get_metrics, TB_AUTH_PUBLIC, 0, 0},
    {"GET", "/api/v1/openapi.json", get_openapi, TB_AUTH_PUBLIC, 0, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};
