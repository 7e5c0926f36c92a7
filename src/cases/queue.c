/* queue.c: the applicant's lists, the staff workbench, escalation, and what operators
 * configure (workflows, calendar years). */
#include "base/log.h"
#include "base/mask.h"
#include "cases/internal.h"
#include "identity/identity.h"
#include "jobs/jobs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the calendar ---- */

/* A calendar, once published, is never changed or freed while the process runs:
 * a reload publishes a new one and retires the old (reloads are rare: an operator
 * loading a year), so a request may go on using the pointer it got. */
struct retired {
	struct tb_calendar *cal;
	struct retired *next;
};

static struct {
	pthread_rwlock_t lock;
	struct tb_calendar *cal;
	struct retired *retired;
	bool loaded;
	int64_t checked_ms;
	char stamp[64]; /* count and latest load of calendar_years */
} g_cal = {.lock = PTHREAD_RWLOCK_INITIALIZER};

/* Re-read the operator's years when they changed (checked at most once a minute, or
 * at once when forced: reading the calendar itself). */
static tb_rc calendar(struct tb_db *db, bool force, const struct tb_calendar **out,
		      struct tb_err *err)
{
	int64_t now;
	char at[32];
	cs_now(at, &now);
	pthread_rwlock_rdlock(&g_cal.lock);
	bool fresh = g_cal.loaded && !force && now - g_cal.checked_ms < 60000;
	pthread_rwlock_unlock(&g_cal.lock);
	if (fresh) {
		pthread_rwlock_rdlock(&g_cal.lock);
		*out = g_cal.cal;
		pthread_rwlock_unlock(&g_cal.lock);
		return TB_OK;
	}
	struct tb_stmt *st;
	bool row = false;
	char stamp[64] = "";
	tb_rc rc = tb_db_prepare(db, "SELECT COUNT(*), MAX(loaded_at) FROM calendar_years", &st);
	if (rc)
		return rc;
	if (!(rc = tb_stmt_step(st, &row)) && row)
		snprintf(stamp, sizeof(stamp), "%lld/%s", (long long)tb_stmt_int(st, 0),
			 tb_stmt_null(st, 1) ? "" : tb_stmt_text(st, 1));
	tb_stmt_done(st);
	if (rc)
		return rc;
	pthread_rwlock_wrlock(&g_cal.lock);
	if (!g_cal.loaded || strcmp(stamp, g_cal.stamp)) {
		struct tb_calendar *c = calloc(1, sizeof(*c));
		struct retired *r = calloc(1, sizeof(*r));
		if (!c || !r) {
			free(c);
			free(r);
			pthread_rwlock_unlock(&g_cal.lock);
			return TB_ENOMEM;
		}
		tb_calendar_init(c);
		rc = tb_calendar_load_builtin(c, err);
		if (!rc && !(rc = tb_db_prepare(
				 db, "SELECT notice FROM calendar_years ORDER BY year", &st))) {
			while (!rc && !(rc = tb_stmt_step(st, &row)) && row) {
				const char *n = tb_stmt_text(st, 0);
				if (tb_calendar_load_json(c, n, strlen(n), err))
					tb_log(TB_LOG_WARN, "calendar",
					       "a stored year does not load: %s", err->msg);
			}
			tb_stmt_done(st);
		}
		if (!rc) {
			if (g_cal.cal) {
				r->cal = g_cal.cal;
				r->next = g_cal.retired;
				g_cal.retired = r;
			} else {
				free(r);
			}
			g_cal.cal = c;
			g_cal.loaded = true;
			snprintf(g_cal.stamp, sizeof(g_cal.stamp), "%s", stamp);
		} else {
			tb_calendar_release(c);
			free(c);
			free(r);
		}
	}
	if (!rc)
		g_cal.checked_ms = now;
	*out = g_cal.cal;
	pthread_rwlock_unlock(&g_cal.lock);
	return rc;
}

tb_rc tb_cases_calendar(struct tb_db *db, const struct tb_calendar **out, struct tb_err *err)
{
	return calendar(db, false, out, err);
}

tb_rc tb_cases_calendar_put(struct tb_db *db, const struct tb_principal *p, int year,
			    const char *json, size_t len, struct tb_err *err)
{
	if (!tb_principal_has_role(p, TB_ROLE_PLATFORM_ADMIN, NULL, NULL))
		return tb_fail(err, TB_EFORBIDDEN, NULL, "只有平台管理员可以载入节假日安排");
	json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *y = json_object_get(doc, "year");
	if (!doc || !json_is_integer(y) || json_integer_value(y) != year) {
		json_decref(doc);
		return tb_fail(err, TB_EINVAL, "year", "通知的 year 应为 %d", year);
	}
	json_decref(doc);
	struct tb_calendar c;
	tb_calendar_init(&c);
	tb_rc rc = tb_calendar_load_json(&c, json, len, err);
	tb_calendar_release(&c);
	if (rc)
		return rc;
	char at[32];
	cs_now(at, NULL);
	if ((rc = tb_db_begin(db, true)))
		return rc;
	struct tb_stmt *st;
	if (!(rc = tb_db_prepare(db,
				 "INSERT INTO calendar_years (year, notice, loaded_at, loaded_by) "
				 "VALUES (?, ?, ?, ?) ON CONFLICT (year) DO UPDATE SET notice = "
				 "excluded.notice, loaded_at = excluded.loaded_at, loaded_by = "
				 "excluded.loaded_by",
				 &st))) {
		tb_stmt_bind_int(st, 1, year);
		tb_stmt_bind_textn(st, 2, json, len);
		tb_stmt_bind_text(st, 3, at);
		tb_stmt_bind_int(st, 4, p->user_id);
		rc = tb_stmt_exec(st, NULL);
		tb_stmt_done(st);
	}
	rc = tb_db_finish(db, rc);
	if (!rc) {
		pthread_rwlock_wrlock(&g_cal.lock);
		g_cal.checked_ms = 0; /* this node sees it at once */
		pthread_rwlock_unlock(&g_cal.lock);
		char detail[32];
		snprintf(detail, sizeof(detail), "%d", year);
		tb_identity_audit(db, p->user_id, "calendar.load", 0, "", detail);
	}
	return rc;
}

tb_rc tb_cases_calendar_get(struct tb_db *db, int year, json_t **out, struct tb_err *err)
{
	const struct tb_calendar *cal;
	if (year < 1900 || year > 2199)
		return tb_fail(err, TB_EINVAL, "year", "year 为 1900 至 2199");
	tb_rc rc = calendar(db, true, &cal, err);
	if (rc)
		return rc;
	json_t *days = json_array();
	for (size_t i = 0; cal && i < cal->n; i++) {
		int y, m, d;
		tb_date_to_ymd(cal->days[i].date, &y, &m, &d);
		if (y == year)
			json_array_append_new(days, json_pack("{s:o,s:b}", "date",
							      cs_date_json(cal->days[i].date),
							      "off", cal->days[i].off));
	}
	bool covered = tb_calendar_covers(cal, year);
	*out = json_pack("{s:i,s:b,s:o}", "year", year, "covered", covered, "days", days);
	return TB_OK;
}

/* ---- workflows ---- */

static bool key_valid(const char *key)
{
	if (!strcmp(key, "default"))
		return true;
	size_t n = strlen(key);
	const char *v = NULL;
	size_t want = 0;
	if (!strncmp(key, "type-", 5))
		v = key + 5, want = 2;
	else if (!strncmp(key, "item-", 5))
		v = key + 5, want = 12;
	else if (!strncmp(key, "impl-", 5))
		v = key + 5, want = 31;
	if (!v || n - 5 != want)
		return false;
	for (; *v; v++)
		if (!((*v >= '0' && *v <= '9') || (*v >= 'A' && *v <= 'Z')))
			return false;
	return true;
}

tb_rc tb_cases_workflows(struct tb_db *db, json_t **out, struct tb_err *err)
{
	(void)err;
	struct tb_stmt *st;
	bool row;
	tb_rc rc =
	    tb_db_prepare(db,
			  "SELECT w.key, w.version, w.definition, w.created_at FROM workflows "
			  "w WHERE w.version = (SELECT MAX(version) FROM workflows x WHERE "
			  "x.key = w.key) ORDER BY w.key",
			  &st);
	if (rc)
		return rc;
	json_t *items = json_array();
	json_array_append_new(items, json_pack("{s:s,s:i,s:s,s:n}", "key", "default", "version", 0,
					       "name", tb_workflow_default()->name, "created_at"));
	while (!(rc = tb_stmt_step(st, &row)) && row) {
		json_t *d = json_loads(tb_stmt_text(st, 2), 0, NULL);
		json_array_append_new(items,
				      json_pack("{s:s,s:I,s:s,s:s}", "key", tb_stmt_text(st, 0),
						"version", (json_int_t)tb_stmt_int(st, 1), "name",
						json_string_value(json_object_get(d, "name"))
						    ? json_string_value(json_object_get(d, "name"))
						    : "",
						"created_at", tb_stmt_text(st, 3)));
		json_decref(d);
	}
	tb_stmt_done(st);
	if (rc) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o}", "items", items);
	return TB_OK;
}

tb_rc tb_cases_workflow_get(struct tb_db *db, const char *key, json_t **out, struct tb_err *err)
{
	if (!key_valid(key))
		return tb_fail(err, TB_ENOTFOUND, "key", "没有这个流程");
	struct tb_stmt *st;
	bool row = false;
	tb_rc rc = tb_db_prepare(db,
				 "SELECT version, definition FROM workflows WHERE key = ? ORDER BY "
				 "version DESC LIMIT 1",
				 &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, key);
	json_t *def = NULL;
	int64_t version = 0;
	if (!(rc = tb_stmt_step(st, &row)) && row) {
		version = tb_stmt_int(st, 0);
		def = json_loads(tb_stmt_text(st, 1), 0, NULL);
	}
	tb_stmt_done(st);
	if (rc)
		return rc;
	if (!def && !strcmp(key, "default"))
		def = tb_workflow_json(tb_workflow_default());
	if (!def)
		return tb_fail(err, TB_ENOTFOUND, "key", "没有为 %s 定义流程", key);
	*out = json_pack("{s:s,s:I,s:o}", "key", key, "version", (json_int_t)version, "definition",
			 def);
	return TB_OK;
}

/* Which department a key belongs to ("" for default and type keys). */
static tb_rc key_department(struct tb_db *db, const char *key, char dept[19], bool *many)
{
	dept[0] = 0;
	*many = false;
	struct tb_stmt *st;
	bool row;
	tb_rc rc;
	if (!strncmp(key, "impl-", 5))
		rc = tb_db_prepare(
		    db, "SELECT DISTINCT department FROM implementations WHERE impl_code = ?", &st);
	else if (!strncmp(key, "item-", 5))
		rc = tb_db_prepare(
		    db, "SELECT DISTINCT department FROM implementations WHERE catalog_code = ?",
		    &st);
	else
		return TB_OK;
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, key + 5);
	int n = 0;
	while (!(rc = tb_stmt_step(st, &row)) && row) {
		if (!n++)
			snprintf(dept, 19, "%s", tb_stmt_text(st, 0));
	}
	tb_stmt_done(st);
	*many = n != 1;
	return rc;
}

tb_rc tb_cases_workflow_put(struct tb_db *db, const struct tb_principal *p, const char *key,
			    json_t *def, json_t **out, struct tb_err *err)
{
	if (!key_valid(key))
		return tb_fail(
		    err, TB_EINVAL, "key",
		    "key 为 default、type-<事项类型>、item-<基本编码> 或 impl-<实施编码>");
	struct tb_workflow *wf = malloc(sizeof(*wf));
	if (!wf)
		return TB_ENOMEM;
	tb_rc rc = tb_workflow_parse(def, wf, err);
	free(wf);
	if (rc)
		return rc;
	if ((rc = tb_db_begin(db, true)))
		return rc;
	char dept[19];
	bool many;
	if ((rc = key_department(db, key, dept, &many)))
		goto done;
	bool admin = tb_principal_has_role(p, TB_ROLE_PLATFORM_ADMIN, NULL, NULL);
	if (!admin &&
	    (many || !dept[0] || !tb_principal_has_role(p, TB_ROLE_DEPT_ADMIN, dept, NULL))) {
		rc = tb_fail(err, TB_EFORBIDDEN, NULL,
			     "部门管理员只能定义本部门事项的流程；通用流程由平台管理员定义");
		goto done;
	}
	struct tb_stmt *st;
	bool row = false;
	int64_t version = 1;
	if ((rc = tb_db_prepare(
		 db, "SELECT COALESCE(MAX(version), 0) + 1 FROM workflows WHERE key = ?", &st)))
		goto done;
	tb_stmt_bind_text(st, 1, key);
	if (!(rc = tb_stmt_step(st, &row)) && row)
		version = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	char *text = json_dumps(def, JSON_COMPACT);
	char at[32];
	cs_now(at, NULL);
	if (!rc &&
	    !(rc = tb_db_prepare(db,
				 "INSERT INTO workflows (key, version, definition, created_at, "
				 "created_by) VALUES (?, ?, ?, ?, ?)",
				 &st))) {
		tb_stmt_bind_text(st, 1, key);
		tb_stmt_bind_int(st, 2, version);
		tb_stmt_bind_text(st, 3, text);
		tb_stmt_bind_text(st, 4, at);
		tb_stmt_bind_int(st, 5, p->user_id);
		rc = tb_stmt_exec(st, NULL);
		tb_stmt_done(st);
	}
	free(text);
	if (!rc)
		rc = tb_identity_audit(db, p->user_id, "workflow.put", 0, "", key);
	if (!rc)
		*out = json_pack("{s:s,s:I,s:O}", "key", key, "version", (json_int_t)version,
				 "definition", def);
done:
	rc = tb_db_finish(db, rc);
	return rc;
}

/* ---- the applicant's lists ---- */

static json_t *list_deadline(const struct tb_calendar *cal, const struct cs_case *c, tb_date today,
			     const struct tb_workflow *wf)
{
	int si = tb_workflow_state(wf, c->state);
	bool terminal = si < 0 || wf->states[si].terminal;
	if (terminal || !c->queue_due)
		return json_null();
	int remaining = tb_calendar_workdays_between(cal, today, c->queue_due);
	int overdue = tb_calendar_workdays_between(cal, c->queue_due, today);
	return json_pack("{s:o,s:i,s:i,s:b,s:b}", "due", cs_date_json(c->queue_due), "remaining",
			 remaining, "overdue", overdue, "near_due",
			 !c->paused && c->queue_warn && today >= c->queue_warn &&
			     today <= c->queue_due,
			 "paused", c->paused);
}

tb_rc tb_cases_mine(struct tb_db *db, const struct tb_principal *p, const char *state, int page,
		    int per_page, json_t **out, struct tb_err *err)
{
	const struct tb_calendar *cal;
	tb_rc rc = tb_cases_calendar(db, &cal, err);
	if (rc)
		return rc;
	bool ent = p->acting.capacity != TB_CAPACITY_NONE;
	char sql[2048];
	snprintf(sql, sizeof(sql),
		 "SELECT %s FROM cases WHERE %s AND state <> 'draft' AND (? = '' OR state = ?) "
		 "ORDER BY id DESC LIMIT ? OFFSET ?",
		 CS_COLUMNS,
		 ent ? "enterprise_uscc = ?" : "applicant_user = ? AND enterprise_uscc IS NULL");
	struct tb_stmt *st;
	bool row;
	if ((rc = tb_db_prepare(db, sql, &st)))
		return rc;
	int i = 1;
	if (ent)
		tb_stmt_bind_text(st, i++, p->acting.uscc);
	else
		tb_stmt_bind_int(st, i++, p->user_id);
	tb_stmt_bind_text(st, i++, state ? state : "");
	tb_stmt_bind_text(st, i++, state ? state : "");
	tb_stmt_bind_int(st, i++, per_page);
	tb_stmt_bind_int(st, i++, (int64_t)(page - 1) * per_page);
	json_t *items = json_array();
	tb_date today = cs_today();
	struct tb_workflow *wf = malloc(sizeof(*wf));
	while (!rc && wf && !(rc = tb_stmt_step(st, &row)) && row) {
		struct cs_case c;
		cs_row(st, &c);
		struct tb_err e2;
		if (cs_workflow_of(db, c.wf_key, c.wf_version, wf, &e2))
			*wf = *tb_workflow_default();
		int si = tb_workflow_state(wf, c.state);
		json_array_append_new(
		    items,
		    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "case_no", c.case_no,
			      "item_name", c.item_name, "impl_code", c.impl_code, "state", c.state,
			      "state_label", si >= 0 ? wf->states[si].label : c.state,
			      "submitted_at", c.submitted_at, "updated_at", c.updated_at,
			      "deadline", list_deadline(cal, &c, today, wf)));
	}
	tb_stmt_done(st);
	free(wf);
	int64_t total = 0;
	snprintf(
	    sql, sizeof(sql),
	    "SELECT COUNT(*) FROM cases WHERE %s AND state <> 'draft' AND (? = '' OR state = ?)",
	    ent ? "enterprise_uscc = ?" : "applicant_user = ? AND enterprise_uscc IS NULL");
	if (!rc && !(rc = tb_db_prepare(db, sql, &st))) {
		if (ent)
			tb_stmt_bind_text(st, 1, p->acting.uscc);
		else
			tb_stmt_bind_int(st, 1, p->user_id);
		tb_stmt_bind_text(st, 2, state ? state : "");
		tb_stmt_bind_text(st, 3, state ? state : "");
		if (!(rc = tb_stmt_step(st, &row)) && row)
			total = tb_stmt_int(st, 0);
		tb_stmt_done(st);
	}
	if (rc) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o,s:I,s:i,s:i}", "items", items, "total", (json_int_t)total, "page",
			 page, "per_page", per_page);
	return TB_OK;
}

tb_rc tb_cases_notifications(struct tb_db *db, const struct tb_principal *p, bool unread, int page,
			     int per_page, json_t **out, struct tb_err *err)
{
	(void)err;
	struct tb_stmt *st;
	bool row;
	tb_rc rc = tb_db_prepare(db,
				 "SELECT id, case_no, kind, title, body, created_at, read_at FROM "
				 "notifications WHERE user_id = ? AND (? = 0 OR read_at IS NULL) "
				 "ORDER BY id DESC LIMIT ? OFFSET ?",
				 &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, p->user_id);
	tb_stmt_bind_int(st, 2, unread);
	tb_stmt_bind_int(st, 3, per_page);
	tb_stmt_bind_int(st, 4, (int64_t)(page - 1) * per_page);
	json_t *items = json_array();
	while (!(rc = tb_stmt_step(st, &row)) && row)
		json_array_append_new(
		    items,
		    json_pack("{s:I,s:o,s:s,s:s,s:s,s:s,s:o}", "id", (json_int_t)tb_stmt_int(st, 0),
			      "case_no",
			      tb_stmt_null(st, 1) ? json_null() : json_string(tb_stmt_text(st, 1)),
			      "kind", tb_stmt_text(st, 2), "title", tb_stmt_text(st, 3), "body",
			      tb_stmt_text(st, 4), "created_at", tb_stmt_text(st, 5), "read_at",
			      tb_stmt_null(st, 6) ? json_null()
						  : json_string(tb_stmt_text(st, 6))));
	tb_stmt_done(st);
	int64_t total = 0, nunread = 0;
	if (!rc &&
	    !(rc = tb_db_prepare(db,
				 "SELECT COUNT(*), SUM(CASE WHEN read_at IS NULL THEN 1 ELSE 0 "
				 "END) FROM notifications WHERE user_id = ?",
				 &st))) {
		tb_stmt_bind_int(st, 1, p->user_id);
		if (!(rc = tb_stmt_step(st, &row)) && row) {
			total = tb_stmt_int(st, 0);
			nunread = tb_stmt_null(st, 1) ? 0 : tb_stmt_int(st, 1);
		}
		tb_stmt_done(st);
	}
	if (rc) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o,s:I,s:I,s:i,s:i}", "items", items, "total",
			 (json_int_t)(unread ? nunread : total), "unread", (json_int_t)nunread,
			 "page", page, "per_page", per_page);
	return TB_OK;
}

tb_rc tb_cases_notification_read(struct tb_db *db, const struct tb_principal *p, int64_t id,
				 struct tb_err *err)
{
	char at[32];
	cs_now(at, NULL);
	struct tb_stmt *st;
	tb_rc rc =
	    tb_db_prepare(db,
			  id ? "UPDATE notifications SET read_at = COALESCE(read_at, ?) WHERE "
			       "user_id = ? AND id = ?"
			     : "UPDATE notifications SET read_at = ? WHERE user_id = ? AND "
			       "read_at IS NULL",
			  &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, at);
	tb_stmt_bind_int(st, 2, p->user_id);
	if (id)
		tb_stmt_bind_int(st, 3, id);
	int64_t n = 0;
	rc = tb_stmt_exec(st, &n);
	tb_stmt_done(st);
	if (!rc && id && !n)
		rc = tb_fail(err, TB_ENOTFOUND, "id", "没有这条消息");
	return rc;
}

/* ---- the workbench ---- */

bool cs_jurisdiction_sql(const struct tb_principal *p, struct tb_buf *sql, const char **params,
			 size_t *nparams, size_t max)
{
	int n = 0;
	tb_buf_puts(sql, "(");
	for (int i = 0; i < p->ngrants; i++) {
		const struct tb_grant *g = &p->grants[i];
		if (!(g->role & CS_STAFF_ROLES) || *nparams + 2 > max)
			continue;
		/* one grant already seen covers this one */
		bool dup = false;
		for (int j = 0; j < i && !dup; j++)
			dup = (p->grants[j].role & CS_STAFF_ROLES) &&
			      !strcmp(p->grants[j].department, g->department) &&
			      !strcmp(p->grants[j].region, g->region);
		if (dup)
			continue;
		tb_buf_puts(sql, n++ ? " OR (" : "(");
		bool any = false;
		if (g->department[0]) {
			tb_buf_puts(sql, "department = ?");
			params[(*nparams)++] = g->department;
			any = true;
		}
		if (g->region[0]) {
			tb_buf_printf(sql, "%ssubstr(region, 1, %zu) = ?", any ? " AND " : "",
				      strlen(g->region));
			params[(*nparams)++] = g->region;
			any = true;
		}
		if (!any)
			tb_buf_puts(sql, "1 = 1");
		tb_buf_puts(sql, ")");
	}
	tb_buf_puts(sql, ")");
	return n > 0;
}

static const char *queue_where(const char *queue)
{
	static const struct {
		const char *name, *where;
	} q[] = {
	    {"to_accept", "state = 'submitted'"},
	    {"correction", "state = 'correction'"},
	    {"accepted", "state = 'accepted'"},
	    {"under_review", "state = 'under_review'"},
	    {"decided", "state = 'decided'"},
	    {"near_due", "state <> 'draft' AND paused = 0 AND queue_warn <= ? AND queue_due >= ?"},
	    {"overdue", "state <> 'draft' AND paused = 0 AND queue_due < ?"},
	    {"completed", "state IN ('completed', 'not_accepted', 'withdrawn')"},
	    {"mine", "state <> 'draft' AND assignee = ? AND queue_due IS NOT NULL"},
	    {"all", "state <> 'draft'"},
	};
	for (size_t i = 0; i < TB_ARRAY_LEN(q); i++)
		if (!strcmp(q[i].name, queue))
			return q[i].where;
	return NULL;
}

/* Bind a queue's own parameters (today, the caller) from index *i. */
static void queue_bind(struct tb_stmt *st, const char *queue, const struct tb_principal *p,
		       tb_date today, int *i)
{
	if (!strcmp(queue, "near_due")) {
		tb_stmt_bind_int(st, (*i)++, today);
		tb_stmt_bind_int(st, (*i)++, today);
	} else if (!strcmp(queue, "overdue")) {
		tb_stmt_bind_int(st, (*i)++, today);
	} else if (!strcmp(queue, "mine")) {
		tb_stmt_bind_int(st, (*i)++, p->user_id);
	}
}

#define COUNT_LIMIT 10000

tb_rc tb_cases_queue_summary(struct tb_db *db, const struct tb_principal *p, json_t **out,
			     struct tb_err *err)
{
	static const char *const queues[] = {"to_accept", "correction", "under_review", "near_due",
					     "overdue",	  "completed",	"mine"};
	struct tb_buf scope;
	tb_buf_init(&scope, 0);
	const char *params[40];
	size_t np = 0;
	if (!cs_jurisdiction_sql(p, &scope, params, &np, TB_ARRAY_LEN(params))) {
		tb_buf_release(&scope);
		return tb_fail(err, TB_EFORBIDDEN, NULL, "您没有办理办件的角色");
	}
	json_t *counts = json_object();
	tb_date today = cs_today();
	tb_rc rc = TB_OK;
	for (size_t k = 0; !rc && k < TB_ARRAY_LEN(queues); k++) {
		struct tb_buf sql;
		tb_buf_init(&sql, 0);
		/* exact up to COUNT_LIMIT: a count past it reads as "10000+" (a busy
		 * department's completed cases would otherwise be counted every time) */
		tb_buf_printf(
		    &sql, "SELECT COUNT(*) FROM (SELECT 1 FROM cases WHERE %s AND %s LIMIT %d) q",
		    queue_where(queues[k]), scope.data, COUNT_LIMIT);
		struct tb_stmt *st;
		bool row = false;
		if (!(rc = tb_db_prepare(db, sql.data, &st))) {
			int i = 1;
			queue_bind(st, queues[k], p, today, &i);
			for (size_t j = 0; j < np; j++)
				tb_stmt_bind_text(st, i++, params[j]);
			if (!(rc = tb_stmt_step(st, &row)) && row)
				json_object_set_new(counts, queues[k],
						    json_integer(tb_stmt_int(st, 0)));
			tb_stmt_done(st);
		}
		tb_buf_release(&sql);
	}
	tb_buf_release(&scope);
	if (rc) {
		json_decref(counts);
		return rc;
	}
	*out = json_pack("{s:o,s:i}", "queues", counts, "count_limit", COUNT_LIMIT);
	return TB_OK;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* {id, name} of the staff member holding a case, names looked up once a page. */
static json_t *assignee_json(struct tb_db *db, int64_t id, json_t *names)
{
	if (!id)
		return json_null();
	char k[24];
	snprintf(k, sizeof(k), "%lld", (long long)id);
	json_t *name = json_object_get(names, k);
	if (!name) {
		struct tb_stmt *st;
		bool row = false;
		name = json_string("");
		if (!tb_db_prepare(db, "SELECT name FROM users WHERE id = ?", &st)) {
			tb_stmt_bind_int(st, 1, id);
			if (!tb_stmt_step(st, &row) && row) {
				json_decref(name);
				name = json_string(tb_stmt_text(st, 0));
			}
			tb_stmt_done(st);
		}
		json_object_set_new(names, k, name);
	}
	return json_pack("{s:I,s:O}", "id", (json_int_t)id, "name", name);
}

tb_rc tb_cases_queue(struct tb_db *db, const struct tb_principal *p, const char *queue,
		     const char *q, int page, int per_page, json_t **out, struct tb_err *err)
{
	if (!queue)
		queue = "all";
	const char *where = queue_where(queue);
	if (!where)
		return tb_fail(err, TB_EINVAL, "queue",
			       "queue 为 to_accept、correction、accepted、under_review、decided、"
			       "near_due、overdue、completed、mine 或 all");
	if (q && strlen(q) > 100)
		return tb_fail(err, TB_EINVAL, "q", "检索词不超过 100 字节");
	const struct tb_calendar *cal;
	tb_rc rc = tb_cases_calendar(db, &cal, err);
	if (rc)
		return rc;
	struct tb_buf scope, cond;
	tb_buf_init(&scope, 0);
	tb_buf_init(&cond, 0);
	const char *params[40];
	size_t np = 0;
	if (!cs_jurisdiction_sql(p, &scope, params, &np, TB_ARRAY_LEN(params) - 2)) {
		tb_buf_release(&scope);
		return tb_fail(err, TB_EFORBIDDEN, NULL, "您没有办理办件的角色");
	}
	/* what q means: a case number (prefix), an ID number, else a name of the item or
	 * the applicant */
	char idx[65], like[128], upper[20];
	const char *qp[2];
	size_t nq = 0;
	if (q && *q) {
		char idn[19];
		struct tb_err e2;
		if (all_digits(q) && strlen(q) <= 20 && strlen(q) != 18) {
			snprintf(like, sizeof(like), "%s%%", q);
			tb_buf_puts(&cond, " AND case_no LIKE ?");
			qp[nq++] = like;
		} else if (strlen(q) == 18 && tb_identity_check_id_number(q, "q", idn, &e2)) {
			if ((rc = tb_identity_index(idn, idx))) {
				tb_buf_release(&scope);
				tb_buf_release(&cond);
				return rc;
			}
			tb_buf_puts(&cond, " AND applicant_id_index = ?");
			qp[nq++] = idx;
		} else {
			snprintf(like, sizeof(like), "%%%s%%", q);
			snprintf(upper, sizeof(upper), "%.19s", q);
			tb_buf_puts(&cond, " AND (item_name LIKE ? OR applicant_name = ?)");
			qp[nq++] = like;
			qp[nq++] = q;
		}
	}
	tb_date today = cs_today();
	/* near due, overdue and mine hold only cases with a due day: ordered by it alone,
	 * they read off an index (migration 6); a state's queue keeps the cases without
	 * one last */
	const char *order =
	    !strcmp(queue, "completed") || !strcmp(queue, "all") ? "id DESC"
	    : !strcmp(queue, "near_due") || !strcmp(queue, "overdue") || !strcmp(queue, "mine")
		? "queue_due, id"
		: "queue_due IS NULL, queue_due, id";
	struct tb_buf sql;
	tb_buf_init(&sql, 0);
	tb_buf_printf(&sql, "SELECT %s FROM cases WHERE %s AND %s%s ORDER BY %s LIMIT ? OFFSET ?",
		      CS_COLUMNS, where, scope.data, cond.data ? cond.data : "", order);
	struct tb_stmt *st;
	bool row;
	json_t *items = json_array();
	struct tb_workflow *wf = malloc(sizeof(*wf));
	if (!wf)
		rc = TB_ENOMEM;
	if (!rc && !(rc = tb_db_prepare(db, sql.data, &st))) {
		int i = 1;
		queue_bind(st, queue, p, today, &i);
		for (size_t j = 0; j < np; j++)
			tb_stmt_bind_text(st, i++, params[j]);
		for (size_t j = 0; j < nq; j++)
			tb_stmt_bind_text(st, i++, qp[j]);
		tb_stmt_bind_int(st, i++, per_page);
		tb_stmt_bind_int(st, i++, (int64_t)(page - 1) * per_page);
		char wkey[64] = "";
		int wver = -1;
		json_t *names = json_object();
		while (!(rc = tb_stmt_step(st, &row)) && row) {
			struct cs_case c;
			cs_row(st, &c);
			if (strcmp(wkey, c.wf_key) || wver != c.wf_version) {
				struct tb_err e2;
				if (cs_workflow_of(db, c.wf_key, c.wf_version, wf, &e2))
					*wf = *tb_workflow_default();
				snprintf(wkey, sizeof(wkey), "%s", c.wf_key);
				wver = c.wf_version;
			}
			int si = tb_workflow_state(wf, c.state);
			char name[192];
			tb_mask_name(c.applicant_name, name, sizeof(name));
			json_t *dl = list_deadline(cal, &c, today, wf);
			json_t *o = json_pack(
			    "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:o},s:s,s:o,s:o}", "case_no",
			    c.case_no, "item_name", c.item_name, "impl_code", c.impl_code,
			    "case_type", c.case_type, "channel", c.channel, "state", c.state,
			    "state_label", si >= 0 ? wf->states[si].label : c.state, "applicant",
			    "name", name, "id_number", c.applicant_id_masked, "enterprise_name",
			    c.enterprise_name[0] ? json_string(c.enterprise_name) : json_null(),
			    "submitted_at", c.submitted_at, "assignee",
			    assignee_json(db, c.assignee, names), "deadline", dl);
			json_object_set_new(o, "due", cs_date_json(c.queue_due));
			json_object_set(o, "remaining",
					json_object_get(dl, "remaining")
					    ? json_object_get(dl, "remaining")
					    : json_null());
			json_object_set_new(
			    o, "near_due",
			    json_boolean(json_is_true(json_object_get(dl, "near_due"))));
			json_object_set_new(
			    o, "overdue",
			    json_boolean(json_integer_value(json_object_get(dl, "overdue")) > 0 ||
					 (c.queue_due && today > c.queue_due && !c.paused)));
			json_object_set_new(o, "paused", json_boolean(c.paused));
			json_array_append_new(items, o);
		}
		tb_stmt_done(st);
		json_decref(names);
	}
	free(wf);
	int64_t total = 0;
	if (!rc) {
		tb_buf_reset(&sql);
		tb_buf_printf(&sql, "SELECT COUNT(*) FROM cases WHERE %s AND %s%s", where,
			      scope.data, cond.data ? cond.data : "");
		if (!(rc = tb_db_prepare(db, sql.data, &st))) {
			int i = 1;
			queue_bind(st, queue, p, today, &i);
			for (size_t j = 0; j < np; j++)
				tb_stmt_bind_text(st, i++, params[j]);
			for (size_t j = 0; j < nq; j++)
				tb_stmt_bind_text(st, i++, qp[j]);
			if (!(rc = tb_stmt_step(st, &row)) && row)
				total = tb_stmt_int(st, 0);
			tb_stmt_done(st);
		}
	}
	tb_buf_release(&sql);
	tb_buf_release(&scope);
	tb_buf_release(&cond);
	if (rc) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o,s:I,s:i,s:i}", "items", items, "total", (json_int_t)total, "page",
			 page, "per_page", per_page);
	return TB_OK;
}

/* ---- escalation (a job: runs on one node per slot) ---- */

struct notify_ctx {
	struct tb_db *db;
	const char *case_no, *title;
	char body[1024];
	tb_rc rc;
	int64_t seen[64];
	int nseen;
};

static void notify_one(void *ctx, int64_t user)
{
	struct notify_ctx *n = ctx;
	for (int i = 0; i < n->nseen; i++)
		if (n->seen[i] == user)
			return;
	if (n->nseen < 64)
		n->seen[n->nseen++] = user;
	if (!n->rc)
		n->rc = cs_notify(n->db, user, n->case_no, "escalation", n->title, n->body);
}

tb_rc tb_cases_escalate(struct tb_db *db, int64_t slot, const struct tb_job_ctx *ctx,
			struct tb_err *err)
{
	(void)slot;
	(void)ctx;
	(void)err;
	tb_date today = cs_today();
	char at[32];
	int64_t ms;
	cs_now(at, &ms);
	/* overdue: escalate to the supervisors over the case and tell whoever holds it */
	struct tb_stmt *st;
	bool row;
	struct {
		int64_t id, assignee;
		char case_no[24], item[256], dept[19], region[13], state[TB_WF_NAME + 1];
	} *due = calloc(200, sizeof(*due));
	if (!due)
		return TB_ENOMEM;
	size_t n = 0;
	tb_rc rc =
	    tb_db_prepare(db,
			  "SELECT id, case_no, item_name, department, region, state, assignee "
			  "FROM cases WHERE queue_due < ? AND paused = 0 AND escalated_at IS "
			  "NULL AND state <> 'draft' ORDER BY queue_due, id LIMIT 200",
			  &st);
	if (!rc) {
		tb_stmt_bind_int(st, 1, today);
		while (!(rc = tb_stmt_step(st, &row)) && row && n < 200) {
			due[n].id = tb_stmt_int(st, 0);
			snprintf(due[n].case_no, sizeof(due[n].case_no), "%s", tb_stmt_text(st, 1));
			snprintf(due[n].item, sizeof(due[n].item), "%s", tb_stmt_text(st, 2));
			snprintf(due[n].dept, sizeof(due[n].dept), "%s", tb_stmt_text(st, 3));
			snprintf(due[n].region, sizeof(due[n].region), "%s", tb_stmt_text(st, 4));
			snprintf(due[n].state, sizeof(due[n].state), "%s", tb_stmt_text(st, 5));
			due[n].assignee = tb_stmt_int(st, 6);
			n++;
		}
		tb_stmt_done(st);
	}
	for (size_t i = 0; !rc && i < n; i++) {
		if (!(rc = tb_db_prepare(db, "UPDATE cases SET escalated_at = ? WHERE id = ?",
					 &st))) {
			tb_stmt_bind_text(st, 1, at);
			tb_stmt_bind_int(st, 2, due[i].id);
			rc = tb_stmt_exec(st, NULL);
			tb_stmt_done(st);
		}
		if (!rc)
			rc = cs_transition(db, due[i].id, "escalate", due[i].state, due[i].state, 0,
					   "system", "系统", "超过办理时限，已提请督办", NULL, at,
					   ms);
		struct notify_ctx nc = {
		    .db = db, .case_no = due[i].case_no, .title = "办件超期督办"};
		snprintf(nc.body, sizeof(nc.body), "办件 %s（%s）已超过办理时限，请督促办理。",
			 due[i].case_no, due[i].item);
		if (!rc)
			rc = tb_identity_staff_covering(db, TB_ROLE_SUPERVISOR, due[i].dept,
							due[i].region, notify_one, &nc);
		if (!rc && due[i].assignee)
			notify_one(&nc, due[i].assignee);
		if (!rc)
			rc = nc.rc;
	}
	if (!rc && n)
		tb_log(TB_LOG_INFO, "cases", "escalated %zu overdue cases", n);
	/* near due: once per case, to whoever holds it */
	n = 0;
	if (!rc && !(rc = tb_db_prepare(
			 db,
			 "SELECT id, case_no, item_name, assignee FROM cases WHERE "
			 "queue_warn <= ? AND queue_due >= ? AND paused = 0 AND "
			 "near_notified = 0 AND assignee IS NOT NULL ORDER BY queue_due, id "
			 "LIMIT 200",
			 &st))) {
		tb_stmt_bind_int(st, 1, today);
		tb_stmt_bind_int(st, 2, today);
		while (!(rc = tb_stmt_step(st, &row)) && row && n < 200) {
			due[n].id = tb_stmt_int(st, 0);
			snprintf(due[n].case_no, sizeof(due[n].case_no), "%s", tb_stmt_text(st, 1));
			snprintf(due[n].item, sizeof(due[n].item), "%s", tb_stmt_text(st, 2));
			due[n].assignee = tb_stmt_int(st, 3);
			n++;
		}
		tb_stmt_done(st);
	}
	for (size_t i = 0; !rc && i < n; i++) {
		if (!(rc = tb_db_prepare(db, "UPDATE cases SET near_notified = 1 WHERE id = ?",
					 &st))) {
			tb_stmt_bind_int(st, 1, due[i].id);
			rc = tb_stmt_exec(st, NULL);
			tb_stmt_done(st);
		}
		char body[1024];
		snprintf(body, sizeof(body), "办件 %s（%s）即将到期，请尽快办理。", due[i].case_no,
			 due[i].item);
		if (!rc)
			rc = cs_notify(db, due[i].assignee, due[i].case_no, "near_due",
				       "办件即将到期", body);
	}
	free(due);
	return rc;
}
