/* internal.h: what the cases block's files share (not for other blocks). */
#ifndef TB_CASES_INTERNAL_H
#define TB_CASES_INTERNAL_H

#include "base/buf.h"
#include "base/calendar.h"
#include "cases/cases.h"
#include "cases/workflow.h"
#include "store/store.h"

/* One row of `cases`, as the files of this block read it. */
struct cs_case {
	int64_t id;
	char case_no[24];
	char state[TB_WF_NAME + 1];
	char impl_code[32], catalog_code[13];
	char item_name[512];
	char department[19], region[13];
	int guide_version;
	char case_type[2];
	char wf_key[64];
	int wf_version;
	char channel[8];
	int64_t opened_by, applicant_user;
	char applicant_kind[12];
	char applicant_name[192];
	char applicant_id_masked[32];
	char enterprise_uscc[19], enterprise_name[256];
	char submitted_at[32], accepted_at[32], decided_at[32], completed_at[32];
	int64_t submitted_ms, state_entered_ms;
	tb_date accept_date; /* 0: not accepted */
	int limit_value, legal_value, extension;
	char limit_unit[16], legal_unit[16];
	tb_date state_due, due_date, warn_date, queue_due, queue_warn;
	bool paused;
	char decision[16], delivery[16], escalated_at[32];
	int64_t assignee;
	int visits_needed, visits_made;
	int64_t version;
	char created_at[32], updated_at[32];
};

/* The columns cs_row reads, for "SELECT " CS_COLUMNS " FROM cases WHERE ...". */
extern const char CS_COLUMNS[];
void cs_row(struct tb_stmt *st, struct cs_case *c);
/* By case number (drafts have none) or id. TB_ENOTFOUND when absent. */
tb_rc cs_load(struct tb_db *db, const char *case_no, int64_t id, struct cs_case *c,
	      struct tb_err *err);

/* What a caller may do with a case. */
enum cs_access { CS_NONE, CS_APPLICANT, CS_STAFF };
enum cs_access cs_access_of(const struct tb_principal *p, const struct cs_case *c);
/* staff roles that see cases at all */
#define CS_STAFF_ROLES                                                                             \
	(TB_ROLE_CLERK | TB_ROLE_APPROVER | TB_ROLE_DEPT_ADMIN | TB_ROLE_SUPERVISOR |              \
	 TB_ROLE_PLATFORM_ADMIN)

/* Times: RFC 3339 +08:00 now and milliseconds since 1970. */
void cs_now(char at[32], int64_t *ms);
tb_date cs_today(void);
const struct tb_cases_config *cs_config(void);

/* Personal data of applicants, sealed with the identity block's data key under
 * "cases.<column>.<id>", as base64url text. */
tb_rc cs_seal(const char *column, int64_t id, const char *plain, size_t n, struct tb_buf *out);
tb_rc cs_open(const char *column, int64_t id, const char *sealed, struct tb_buf *out);

/* The workflow a case runs (version 0: the built-in default). */
tb_rc cs_workflow_of(struct tb_db *db, const char *key, int version, struct tb_workflow *wf,
		     struct tb_err *err);
/* The most specific workflow defined for an implementation: *key and *version. */
tb_rc cs_workflow_for(struct tb_db *db, const char *impl_code, const char *catalog_code,
		      const char *item_type, char key[64], int *version, struct tb_err *err);

/* A notification to user (0: none). */
tb_rc cs_notify(struct tb_db *db, int64_t user, const char *case_no, const char *kind,
		const char *title, const char *body);
/* Append a transition (next seq). actor 0: the system. */
tb_rc cs_transition(struct tb_db *db, int64_t case_id, const char *action, const char *from,
		    const char *to, int64_t actor, const char *role, const char *actor_name,
		    const char *comment, json_t *detail, const char *at, int64_t at_ms);

/* The case's deadline as of today (false: no clock has started). */
bool cs_deadline(struct tb_db *db, const struct tb_calendar *cal, const struct cs_case *c,
		 tb_date today, struct tb_deadline *dl);
/* Date to "YYYY-MM-DD" JSON, null for 0. */
json_t *cs_date_json(tb_date d);

/* The jurisdiction filter of a staff principal over cases `c`: appended to sql as
 * "(... OR ...)" with its parameters pushed to params (strings owned by the caller's
 * arena-like buffer). false when p has no grant that sees cases. */
bool cs_jurisdiction_sql(const struct tb_principal *p, struct tb_buf *sql, const char **params,
			 size_t *nparams, size_t max);

#endif
