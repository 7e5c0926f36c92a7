/* jobs_http.c: GET /api/v1/system/nodes: the nodes that heartbeat into the database,
 * which of them holds the scheduler lease, and the latest job runs. Administrators
 * only: it names hosts and processes. */
#include "jobs/jobs_http.h"
#include "jobs/jobs.h"

static void list_nodes(struct tb_req *r)
{
	struct tb_db *db = tb_http_db(r);
	if (!db)
		return;
	json_t *out = NULL;
	struct tb_err err = {0};
	tb_rc rc = tb_jobs_status(db, tb_jobs_now_ms(), &out, &err);
	tb_http_reply_result(r, rc, &err, 200, out);
}

const struct tb_route tb_jobs_routes[] = {
    {"GET", "/api/v1/system/nodes", list_nodes, TB_AUTH_STAFF, TB_ROLE_PLATFORM_ADMIN, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};
