/* common.c: what the cases block's files share: rows, access, sealing, workflows,
 * notifications, transitions and deadlines. */
#include "base/jose.h"
#include "base/log.h"
#include "cases/internal.h"
#include "identity/identity.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static struct tb_cases_config g_cfg = {20, 2};

void tb_cases_configure(const struct tb_cases_config *cfg)
{
	if (cfg->near_percent >= 1 && cfg->near_percent <= 99)
		g_cfg.near_percent = cfg->near_percent;
	if (cfg->min_assurance_online >= 1 && cfg->min_assurance_online <= 3)
		g_cfg.min_assurance_online = cfg->min_assurance_online;
}

const struct tb_cases_config *cs_config(void)
{
	return &g_cfg;
}

void tb_case_problem_release(struct tb_case_problem *pb)
{
	if (!pb)
		return;
	json_decref(pb->errors);
	json_decref(pb->allowed);
	pb->errors = pb->allowed = NULL;
}

void cs_now(char at[32], int64_t *ms)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	tb_time_rfc3339_at(tv.tv_sec, at);
	if (ms)
		*ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

tb_date cs_today(void)
{
	return tb_date_today();
}

json_t *cs_date_json(tb_date d)
{
	if (!d)
		return json_null();
	char s[11];
	tb_date_format(d, s);
	return json_string(s);
}

/* ---- sealing ---- */

static int ad_of(char *ad, size_t n, const char *column, int64_t id)
{
	return snprintf(ad, n, "cases.%s.%lld", column, (long long)id);
}

tb_rc cs_seal(const char *column, int64_t id, const char *plain, size_t n, struct tb_buf *out)
{
	char ad[96];
	int adn = ad_of(ad, sizeof(ad), column, id);
	struct tb_buf b;
	tb_buf_init(&b, 0);
	tb_rc rc = tb_seal(tb_identity_data_key(), ad, (size_t)adn, plain, n, &b);
	if (!rc)
		rc = tb_b64url_encode(b.data, b.len, out);
	if (!rc)
		rc = tb_buf_putc(out, 0);
	if (!rc)
		out->len--;
	tb_buf_release(&b);
	return rc;
}

tb_rc cs_open(const char *column, int64_t id, const char *sealed, struct tb_buf *out)
{
	char ad[96];
	int adn = ad_of(ad, sizeof(ad), column, id);
	struct tb_buf b;
	tb_buf_init(&b, 0);
	tb_rc rc = tb_b64url_decode(sealed, strlen(sealed), &b);
	if (!rc)
		rc = tb_open(tb_identity_data_key(), ad, (size_t)adn, b.data, b.len, out);
	if (!rc)
		rc = tb_buf_putc(out, 0);
	if (!rc)
		out->len--;
	tb_buf_release(&b);
	return rc;
}

/* ---- rows ---- */

const char CS_COLUMNS[] =
    "id, case_no, state, impl_code, catalog_code, item_name, department, region, "
    "guide_version, case_type, workflow_key, workflow_version, channel, opened_by, "
    "applicant_user, applicant_kind, applicant_name, applicant_id_masked, enterprise_uscc, "
    "enterprise_name, submitted_at, accepted_at, decided_at, completed_at, submitted_ms, "
    "state_entered_ms, accept_date, limit_value, legal_value, extension, limit_unit, legal_unit, "
    "state_due, due_date, warn_date, queue_due, queue_warn, paused, decision, delivery, "
    "escalated_at, assignee, visits_needed, visits_made, version, created_at, updated_at";

static void col(struct tb_stmt *st, int i, char *out, size_t n)
{
	const char *s = tb_stmt_null(st, i) ? "" : tb_stmt_text(st, i);
	snprintf(out, n, "%s", s ? s : "");
}

void cs_row(struct tb_stmt *st, struct cs_case *c)
{
	memset(c, 0, sizeof(*c));
	c->id = tb_stmt_int(st, 0);
	col(st, 1, c->case_no, sizeof(c->case_no));
	col(st, 2, c->state, sizeof(c->state));
	col(st, 3, c->impl_code, sizeof(c->impl_code));
	col(st, 4, c->catalog_code, sizeof(c->catalog_code));
	col(st, 5, c->item_name, sizeof(c->item_name));
	col(st, 6, c->department, sizeof(c->department));
	col(st, 7, c->region, sizeof(c->region));
	c->guide_version = (int)tb_stmt_int(st, 8);
	col(st, 9, c->case_type, sizeof(c->case_type));
	col(st, 10, c->wf_key, sizeof(c->wf_key));
	c->wf_version = (int)tb_stmt_int(st, 11);
	col(st, 12, c->channel, sizeof(c->channel));
	c->opened_by = tb_stmt_int(st, 13);
	c->applicant_user = tb_stmt_int(st, 14);
	col(st, 15, c->applicant_kind, sizeof(c->applicant_kind));
	col(st, 16, c->applicant_name, sizeof(c->applicant_name));
	col(st, 17, c->applicant_id_masked, sizeof(c->applicant_id_masked));
	col(st, 18, c->enterprise_uscc, sizeof(c->enterprise_uscc));
	col(st, 19, c->enterprise_name, sizeof(c->enterprise_name));
	col(st, 20, c->submitted_at, sizeof(c->submitted_at));
	col(st, 21, c->accepted_at, sizeof(c->accepted_at));
	col(st, 22, c->decided_at, sizeof(c->decided_at));
	col(st, 23, c->completed_at, sizeof(c->completed_at));
	c->submitted_ms = tb_stmt_int(st, 24);
	c->state_entered_ms = tb_stmt_int(st, 25);
	c->accept_date = (tb_date)tb_stmt_int(st, 26);
	c->limit_value = (int)tb_stmt_int(st, 27);
	c->legal_value = (int)tb_stmt_int(st, 28);
	c->extension = (int)tb_stmt_int(st, 29);
	col(st, 30, c->limit_unit, sizeof(c->limit_unit));
	col(st, 31, c->legal_unit, sizeof(c->legal_unit));
	c->state_due = (tb_date)tb_stmt_int(st, 32);
	c->due_date = (tb_date)tb_stmt_int(st, 33);
	c->warn_date = (tb_date)tb_stmt_int(st, 34);
	c->queue_due = (tb_date)tb_stmt_int(st, 35);
	c->queue_warn = (tb_date)tb_stmt_int(st, 36);
	c->paused = tb_stmt_int(st, 37) != 0;
	col(st, 38, c->decision, sizeof(c->decision));
	col(st, 39, c->delivery, sizeof(c->delivery));
	col(st, 40, c->escalated_at, sizeof(c->escalated_at));
	c->assignee = tb_stmt_int(st, 41);
	c->visits_needed = (int)tb_stmt_int(st, 42);
	c->visits_made = (int)tb_stmt_int(st, 43);
	c->version = tb_stmt_int(st, 44);
	col(st, 45, c->created_at, sizeof(c->created_at));
	col(st, 46, c->updated_at, sizeof(c->updated_at));
}

tb_rc cs_load(struct tb_db *db, const char *case_no, int64_t id, struct cs_case *c,
	      struct tb_err *err)
{
	char sql[1024];
	snprintf(sql, sizeof(sql), "SELECT %s FROM cases WHERE %s = ?", CS_COLUMNS,
		 case_no ? "case_no" : "id");
	struct tb_stmt *st;
	bool row = false;
	tb_rc rc = tb_db_prepare(db, sql, &st);
	if (rc)
		return rc;
	if (case_no)
		tb_stmt_bind_text(st, 1, case_no);
	else
		tb_stmt_bind_int(st, 1, id);
	if (!(rc = tb_stmt_step(st, &row)) && row)
		cs_row(st, c);
	tb_stmt_done(st);
	if (!rc && !row)
		rc = case_no
			 ? tb_fail(err, TB_ENOTFOUND, "case_no", "没有编号为 %s 的办件", case_no)
			 : tb_fail(err, TB_ENOTFOUND, "id", "没有这份草稿");
	return rc;
}

enum cs_access cs_access_of(const struct tb_principal *p, const struct cs_case *c)
{
	if (p->kind == TB_PRINCIPAL_PERSON) {
		if (c->applicant_user && c->applicant_user == p->user_id)
			return CS_APPLICANT;
		/* an enterprise's cases are seen by whoever acts for it now */
		if (c->enterprise_uscc[0] && p->acting.capacity != TB_CAPACITY_NONE &&
		    !strcmp(p->acting.uscc, c->enterprise_uscc) &&
		    tb_principal_acting_covers(p, c->catalog_code))
			return CS_APPLICANT;
		return CS_NONE;
	}
	if (p->kind == TB_PRINCIPAL_STAFF &&
	    tb_principal_has_role(p, CS_STAFF_ROLES, c->department, c->region))
		return CS_STAFF;
	return CS_NONE;
}

/* ---- workflows ---- */

tb_rc cs_workflow_of(struct tb_db *db, const char *key, int version, struct tb_workflow *wf,
		     struct tb_err *err)
{
	if (version == 0) {
		*wf = *tb_workflow_default();
		return TB_OK;
	}
	struct tb_stmt *st;
	bool row = false;
	tb_rc rc = tb_db_prepare(
	    db, "SELECT definition FROM workflows WHERE key = ? AND version = ?", &st);
	if (rc)
		return rc;
	tb_stmt_bind_text(st, 1, key);
	tb_stmt_bind_int(st, 2, version);
	json_t *def = NULL;
	if (!(rc = tb_stmt_step(st, &row)) && row)
		def = json_loads(tb_stmt_text(st, 0), 0, NULL);
	tb_stmt_done(st);
	if (rc)
		return rc;
	if (!def)
		return tb_fail(err, TB_EINTERNAL, NULL, "workflow %s version %d is missing", key,
			       version);
	rc = tb_workflow_parse(def, wf, err);
	json_decref(def);
	return rc;
}

tb_rc cs_workflow_for(struct tb_db *db, const char *impl_code, const char *catalog_code,
		      const char *item_type, char key[64], int *version, struct tb_err *err)
{
	char keys[3][64];
	snprintf(keys[0], 64, "impl-%s", impl_code);
	snprintf(keys[1], 64, "item-%s", catalog_code);
	snprintf(keys[2], 64, "type-%s", item_type);
	const char *order[] = {keys[0], keys[1], keys[2], "default"};
	for (size_t i = 0; i < TB_ARRAY_LEN(order); i++) {
		struct tb_stmt *st;
		bool row = false;
		tb_rc rc =
		    tb_db_prepare(db, "SELECT MAX(version) FROM workflows WHERE key = ?", &st);
		if (rc)
			return rc;
		tb_stmt_bind_text(st, 1, order[i]);
		int v = 0;
		if (!(rc = tb_stmt_step(st, &row)) && row && !tb_stmt_null(st, 0))
			v = (int)tb_stmt_int(st, 0);
		tb_stmt_done(st);
		if (rc)
			return rc;
		if (v > 0) {
			snprintf(key, 64, "%s", order[i]);
			*version = v;
			return TB_OK;
		}
	}
	(void)err;
	snprintf(key, 64, "default");
	*version = 0; /* the built-in one */
	return TB_OK;
}

/* ---- notifications and transitions ---- */

tb_rc cs_notify(struct tb_db *db, int64_t user, const char *case_no, const char *kind,
		const char *title, const char *body)
{
	if (!user)
		return TB_OK;
	char at[32];
	cs_now(at, NULL);
	struct tb_stmt *st;
	tb_rc rc = tb_db_prepare(db,
				 "INSERT INTO notifications (user_id, case_no, kind, title, body, "
				 "created_at) VALUES (?, ?, ?, ?, ?, ?)",
				 &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, user);
	tb_stmt_bind_text(st, 2, case_no);
	tb_stmt_bind_text(st, 3, kind);
	tb_stmt_bind_text(st, 4, title);
	tb_stmt_bind_text(st, 5, body);
	tb_stmt_bind_text(st, 6, at);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	return rc;
}

tb_rc cs_transition(struct tb_db *db, int64_t case_id, const char *action, const char *from,
		    const char *to, int64_t actor, const char *role, const char *actor_name,
		    const char *comment, json_t *detail, const char *at, int64_t at_ms)
{
	struct tb_stmt *st;
	bool row = false;
	int64_t seq = 1;
	tb_rc rc = tb_db_prepare(
	    db, "SELECT COALESCE(MAX(seq), 0) + 1 FROM case_transitions WHERE case_id = ?", &st);
	if (rc)
		return rc;
	tb_stmt_bind_int(st, 1, case_id);
	if (!(rc = tb_stmt_step(st, &row)) && row)
		seq = tb_stmt_int(st, 0);
	tb_stmt_done(st);
	if (rc)
		return rc;
	char *d = detail && json_object_size(detail) ? json_dumps(detail, JSON_COMPACT) : NULL;
	if ((rc = tb_db_prepare(db,
				"INSERT INTO case_transitions (case_id, seq, action, from_state, "
				"to_state, actor, actor_role, actor_name, comment, detail, at, "
				"at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				&st))) {
		free(d);
		return rc;
	}
	tb_stmt_bind_int(st, 1, case_id);
	tb_stmt_bind_int(st, 2, seq);
	tb_stmt_bind_text(st, 3, action);
	tb_stmt_bind_text(st, 4, from);
	tb_stmt_bind_text(st, 5, to);
	if (actor)
		tb_stmt_bind_int(st, 6, actor);
	else
		tb_stmt_bind_null(st, 6);
	tb_stmt_bind_text(st, 7, role);
	tb_stmt_bind_text(st, 8, actor_name);
	tb_stmt_bind_text(st, 9, comment ? comment : "");
	tb_stmt_bind_text(st, 10, d ? d : "");
	tb_stmt_bind_text(st, 11, at);
	tb_stmt_bind_int(st, 12, at_ms);
	rc = tb_stmt_exec(st, NULL);
	tb_stmt_done(st);
	free(d);
	return rc;
}

/* ---- deadlines ---- */

bool cs_deadline(struct tb_db *db, const struct tb_calendar *cal, const struct cs_case *c,
		 tb_date today, struct tb_deadline *dl)
{
	memset(dl, 0, sizeof(*dl));
	enum tb_limit_unit unit;
	if (!c->accept_date || !c->limit_value || !tb_limit_unit_parse(c->limit_unit, &unit))
		return false;
	struct tb_pause pauses[32];
	size_t n = 0;
	struct tb_stmt *st;
	bool row;
	if (!tb_db_prepare(db,
			   "SELECT start_date, end_date FROM case_procedures WHERE case_id = ? "
			   "ORDER BY id",
			   &st)) {
		tb_stmt_bind_int(st, 1, c->id);
		while (!tb_stmt_step(st, &row) && row && n < TB_ARRAY_LEN(pauses)) {
			pauses[n].start = (tb_date)tb_stmt_int(st, 0);
			pauses[n].end = tb_stmt_null(st, 1) ? 0 : (tb_date)tb_stmt_int(st, 1);
			n++;
		}
		tb_stmt_done(st);
	}
	struct tb_limit lim = {c->limit_value, unit, c->extension};
	tb_deadline_compute(cal, c->accept_date, &lim, pauses, n, today, cs_config()->near_percent,
			    dl);
	return true;
}
