/* cases_shared.h: the cases block without a server (test_cases.c on SQLite,
 * test_cases_pg.c on PostgreSQL): 容缺后补 commitments, and the escalation job on a
 * case whose limit has passed (a date no HTTP client can make: the test moves the
 * stored days back). The rest runs over HTTP in tests/cases. The including file
 * defines struct fixture {store, db, dir} and opens the store. */
#include "base/calendar.h"
#include "cases/cases.h"
#include "catalog/catalog.h"
#include "identity/identity.h"

#include <jansson.h>

#define DEPT "11440100008446488A"
#define IMPL DEPT "3000701001000"

static const char *const GUIDE =
    "{\"name\": \"特种设备作业人员资格认定\", \"case_type\": \"2\","
    " \"legal_basis\": \"《中华人民共和国特种设备安全法》\","
    " \"legal_limit\": {\"value\": 20, \"unit\": \"working_day\", \"note\": \"20个工作日\"},"
    " \"promised_limit\": {\"value\": 10, \"unit\": \"working_day\", \"note\": \"10个工作日\"},"
    " \"acceptance_conditions\": [\"考试合格\"],"
    " \"process\": [{\"name\": \"申请\"}, {\"name\": \"受理\"}],"
    " \"handling_form\": [\"online\", \"window\"],"
    " \"address\": \"广州市越秀区文化路69号\", \"hours\": \"周一至周五\","
    " \"consult_phone\": \"020-75015481\", \"supervise_phone\": \"12345\","
    " \"visits\": 0, \"visits_note\": \"\","
    " \"fee\": {\"charged\": false, \"basis\": null, \"items\": []},"
    " \"online\": {\"available\": true, \"depth\": [\"1\", \"2\", \"4\"],"
    "              \"url\": \"https://www.gdzwfw.gov.cn/\", \"pay_online\": false},"
    " \"express_delivery\": true, \"appointment\": false, \"self_service_terminal\": false,"
    " \"handling_scope\": \"全市通办\","
    " \"result\": {\"type\": \"licence\", \"name\": \"特种设备作业人员证\"},"
    " \"materials\": ["
    "   {\"name\": \"考试合格证明\", \"necessity\": \"1\", \"form\": [\"electronic\"],"
    "    \"count\": 1, \"source\": \"10\", \"licence_type\": null},"
    "   {\"name\": \"体检证明\", \"necessity\": \"3\", \"form\": [\"electronic\"],"
    "    \"count\": 1, \"source\": \"10\", \"licence_type\": null}],"
    " \"faq\": []}";

static const char PDF[] = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 "
			  "0 R >>\n%%EOF\n";

static void put(struct tb_db *db, tb_rc (*fn)(struct tb_db *, json_t *, struct tb_err *),
		const char *row)
{
	struct tb_err err = {0};
	json_t *j = json_loads(row, 0, NULL);
	assert_non_null(j);
	if (fn(db, j, &err))
		fail_msg("%s: %s %s", row, err.field, err.msg);
	json_decref(j);
}

struct people {
	struct tb_principal person, clerk, supervisor;
};

static void seed(struct fixture *f, struct people *pp)
{
	struct tb_db *db = f->db;
	struct tb_err err = {0};
	assert_int_equal(tb_db_begin(db, true), TB_OK);
	put(db, tb_catalog_put_region, "{\"code\": \"44\", \"name\": \"广东省\"}");
	put(db, tb_catalog_put_region,
	    "{\"code\": \"4401\", \"name\": \"广州市\", \"parent\": \"44\"}");
	put(db, tb_catalog_put_department,
	    "{\"uscc\": \"" DEPT "\", \"name\": \"广州市市场监督管理局\", \"region\": \"4401\"}");
	put(db, tb_catalog_put_item,
	    "{\"catalog_code\": \"000701001000\", \"name\": \"特种设备作业人员资格认定\", "
	    "\"item_type\": \"01\", \"service_objects\": [\"1\"]}");
	char impl[4096];
	snprintf(impl, sizeof(impl),
		 "{\"impl_code\": \"" IMPL "\", \"catalog_code\": \"000701001000\", "
		 "\"department\": \"" DEPT "\", \"level\": \"3\", \"region\": \"4401\", "
		 "\"guide\": %s}",
		 GUIDE);
	json_t *j = json_loads(impl, 0, NULL);
	int version;
	if (tb_catalog_put_impl(db, j, "test", 0, &version, &err))
		fail_msg("impl: %s %s", err.field, err.msg);
	json_decref(j);
	assert_int_equal(tb_db_commit(db), TB_OK);

	struct tb_person_in zhang = {"张三", "440106199001011235", "13912340001", "Zhangsan@2026"};
	int64_t id = 0;
	assert_int_equal(tb_identity_register(db, &zhang, &id, &err), TB_OK);
	pp->person =
	    (struct tb_principal){.kind = TB_PRINCIPAL_PERSON, .user_id = id, .assurance = 2};
	snprintf(pp->person.name, sizeof(pp->person.name), "张三");

	struct tb_staff_in clerk = {"林广窗", "440106198507070078", "13700000002",  DEPT,
				    "4401",   TB_ROLE_CLERK,	    "GzClerk@2026", NULL};
	struct tb_staff_in sup = {"监察员", "440104197501010050", "13700000001",  DEPT,
				  "4401",   TB_ROLE_SUPERVISOR,	  "GzSuper@2026", NULL};
	struct tb_staff_out out;
	assert_int_equal(tb_db_begin(db, true), TB_OK);
	assert_int_equal(tb_identity_staff_create(db, &clerk, 0, &out, &err), TB_OK);
	pp->clerk =
	    (struct tb_principal){.kind = TB_PRINCIPAL_STAFF, .user_id = out.id, .ngrants = 1};
	pp->clerk.grants[0] = (struct tb_grant){TB_ROLE_CLERK, DEPT, "4401"};
	snprintf(pp->clerk.name, sizeof(pp->clerk.name), "林广窗");
	assert_int_equal(tb_identity_staff_create(db, &sup, 0, &out, &err), TB_OK);
	pp->supervisor =
	    (struct tb_principal){.kind = TB_PRINCIPAL_STAFF, .user_id = out.id, .ngrants = 1};
	pp->supervisor.grants[0] = (struct tb_grant){TB_ROLE_SUPERVISOR, DEPT, "4401"};
	assert_int_equal(tb_db_commit(db), TB_OK);
}

/* File an application with the one-request path; returns its case number. */
static void apply(struct fixture *f, const struct people *pp, const char *key, bool defer,
		  char case_no[24])
{
	struct tb_upload files[] = {
	    {PDF, sizeof(PDF) - 1, "合格证明.pdf", "application/pdf", 1, "application", NULL}};
	json_t *form = json_pack("{s:s}", "statement", "申请特种设备作业人员资格认定");
	json_t *defs = defer ? json_pack("[{s:i,s:s}]", "seq", 2, "commitment",
					 "本人承诺于十个工作日内补交体检证明")
			     : NULL;
	struct tb_application a = {IMPL, form, defs, files, 1, key, "fp-of-test"};
	struct tb_case_problem pb = {0};
	json_t *out = NULL;
	bool replayed = true;
	tb_rc rc = tb_cases_apply(f->db, &pp->person, &a, &out, &replayed, &pb);
	if (rc)
		fail_msg("apply: %s %s", pb.err.field, pb.err.msg);
	assert_false(replayed);
	snprintf(case_no, 24, "%s", json_string_value(json_object_get(out, "case_no")));
	json_t *m2 = json_array_get(json_object_get(out, "materials"), 1);
	assert_int_equal(json_is_true(json_object_get(m2, "deferred")), defer);
	json_decref(out);
	json_decref(form);
	json_decref(defs);
	tb_case_problem_release(&pb);
}

static void test_deferral(void **state)
{
	struct fixture *f = *state;
	struct people pp;
	seed(f, &pp);
	char no[24];
	/* without the 容缺 material or a commitment, the application is incomplete */
	struct tb_upload files[] = {
	    {PDF, sizeof(PDF) - 1, "a.pdf", "application/pdf", 1, "application", NULL}};
	json_t *form = json_object();
	struct tb_application a = {IMPL, form, NULL, files, 1, "k-incomplete", "fp"};
	struct tb_case_problem pb = {0};
	json_t *out = NULL;
	bool replayed;
	assert_int_equal(tb_cases_apply(f->db, &pp.person, &a, &out, &replayed, &pb), TB_EINVAL);
	assert_non_null(pb.errors);
	bool named = false;
	size_t i;
	json_t *e;
	json_array_foreach(pb.errors, i, e)
	{
		named |= !strcmp(json_string_value(json_object_get(e, "field")), "materials.2");
	}
	assert_true(named);
	tb_case_problem_release(&pb);
	/* a commitment on a material that is not 容缺 is refused */
	json_t *bad = json_pack("[{s:i,s:s}]", "seq", 1, "commitment", "以后补交");
	a.deferrals = bad;
	a.idem_key = "k-bad";
	assert_int_equal(tb_cases_apply(f->db, &pp.person, &a, &out, &replayed, &pb), TB_EINVAL);
	tb_case_problem_release(&pb);
	json_decref(bad);
	json_decref(form);
	apply(f, &pp, "k-ok", true, no);
	assert_int_equal((int)strlen(no), 20);
}

static int64_t count(struct tb_db *db, const char *sql, const char *arg)
{
	struct tb_stmt *st;
	bool row = false;
	int64_t n = -1;
	assert_int_equal(tb_db_prepare(db, sql, &st), TB_OK);
	if (arg)
		tb_stmt_bind_text(st, 1, arg);
	assert_int_equal(tb_stmt_step(st, &row), TB_OK);
	if (row)
		n = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	return n;
}

static void set_days(struct tb_db *db, const char *case_no, tb_date due, tb_date warn)
{
	struct tb_stmt *st;
	assert_int_equal(
	    tb_db_prepare(db, "UPDATE cases SET queue_due = ?, queue_warn = ? WHERE case_no = ?",
			  &st),
	    TB_OK);
	tb_stmt_bind_int(st, 1, due);
	tb_stmt_bind_int(st, 2, warn);
	tb_stmt_bind_text(st, 3, case_no);
	assert_int_equal(tb_stmt_exec(st, NULL), TB_OK);
	tb_stmt_done(st);
}

static void escalate(struct fixture *f)
{
	struct tb_err err = {0};
	assert_int_equal(tb_db_begin(f->db, true), TB_OK);
	assert_int_equal(tb_cases_escalate(f->db, 0, NULL, &err), TB_OK);
	assert_int_equal(tb_db_commit(f->db), TB_OK);
}

static void test_escalation(void **state)
{
	struct fixture *f = *state;
	struct people pp;
	seed(f, &pp);
	char late[24], soon[24], fine[24];
	apply(f, &pp, "k1", true, late);
	apply(f, &pp, "k2", true, soon);
	apply(f, &pp, "k3", true, fine);
	struct tb_case_problem pb = {0};
	json_t *out = NULL, *req = json_pack("{s:s}", "action", "accept");
	assert_int_equal(tb_cases_act(f->db, &pp.clerk, soon, req, &out, &pb), TB_OK);
	json_decref(out);
	json_decref(req);
	/* accepted, the case waits for an approver: the clerk no longer holds it */
	json_t *c0 = NULL;
	struct tb_err e0 = {0};
	assert_int_equal(tb_cases_get(f->db, &pp.clerk, soon, &c0, &e0), TB_OK);
	assert_true(json_is_null(json_object_get(c0, "assignee")));
	json_decref(c0);
	assert_int_equal(tb_cases_assign(f->db, &pp.clerk, soon, pp.clerk.user_id, &out, &e0),
			 TB_OK);
	json_decref(out);
	tb_date today = tb_date_today();
	set_days(f->db, late, today - 1, today - 3); /* past its limit */
	set_days(f->db, soon, today + 2, today);     /* in its last fifth */
	escalate(f);
	/* the overdue case: one escalate transition by the system, the supervisor told */
	assert_int_equal(
	    count(f->db,
		  "SELECT COUNT(*) FROM case_transitions t JOIN cases c ON c.id = "
		  "t.case_id WHERE c.case_no = ? AND t.action = 'escalate' AND t.actor "
		  "IS NULL",
		  late),
	    1);
	char sup[24];
	snprintf(sup, sizeof(sup), "%lld", (long long)pp.supervisor.user_id);
	assert_int_equal(count(f->db,
			       "SELECT COUNT(*) FROM notifications WHERE kind = 'escalation' AND "
			       "user_id = CAST(? AS INTEGER)",
			       sup),
			 1);
	assert_int_equal(count(f->db,
			       "SELECT COUNT(*) FROM notifications WHERE case_no = ? AND kind = "
			       "'escalation'",
			       fine),
			 0);
	/* the near-due case: its holder is warned once */
	assert_int_equal(count(f->db,
			       "SELECT COUNT(*) FROM notifications WHERE case_no = ? AND kind = "
			       "'near_due'",
			       soon),
			 1);
	/* a second run changes nothing */
	escalate(f);
	assert_int_equal(
	    count(f->db, "SELECT COUNT(*) FROM case_transitions WHERE action = 'escalate'", NULL),
	    1);
	assert_int_equal(count(f->db,
			       "SELECT COUNT(*) FROM notifications WHERE kind IN "
			       "('escalation', 'near_due')",
			       NULL),
			 2);
	/* the supervisor sees it flagged in the overdue queue */
	json_t *q = NULL;
	struct tb_err err = {0};
	assert_int_equal(tb_cases_queue(f->db, &pp.supervisor, "overdue", NULL, 1, 20, &q, &err),
			 TB_OK);
	assert_int_equal(json_integer_value(json_object_get(q, "total")), 1);
	json_t *row = json_array_get(json_object_get(q, "items"), 0);
	assert_string_equal(json_string_value(json_object_get(row, "case_no")), late);
	assert_true(json_is_true(json_object_get(row, "overdue")));
	json_decref(q);
	json_t *c = NULL;
	assert_int_equal(tb_cases_get(f->db, &pp.person, late, &c, &err), TB_OK);
	assert_true(json_is_true(json_object_get(c, "escalated")));
	json_decref(c);
}

/* What happened to a case is never rewritten: the database itself refuses. */
static void test_transitions_append_only(void **state)
{
	struct fixture *f = *state;
	struct people pp;
	seed(f, &pp);
	char no[24];
	apply(f, &pp, "k-immutable", true, no);
	struct tb_stmt *st;
	const char *const sql[] = {"UPDATE case_transitions SET comment = 'rewritten'",
				   "DELETE FROM case_transitions"};
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(tb_db_begin(f->db, true), TB_OK);
		assert_int_equal(tb_db_prepare(f->db, sql[i], &st), TB_OK);
		assert_int_not_equal(tb_stmt_exec(st, NULL), TB_OK);
		tb_stmt_done(st);
		tb_db_rollback(f->db);
	}
	assert_int_equal(count(f->db,
			       "SELECT COUNT(*) FROM case_transitions WHERE comment <> "
			       "'rewritten'",
			       NULL),
			 1);
}
