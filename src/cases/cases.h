/* cases.h: case handling (docs/cases.md). An applicant fills the form of an item
 * implementation in a draft, uploads the materials of its guide or commits to supply
 * a 容缺后补 material later, and submits: the draft becomes a case with a number and
 * moves through the item's workflow (workflow.h) by actions of staff and applicant,
 * every move kept in case_transitions. Time limits run in working days from
 * acceptance (workflow.h deadlines) and stop during special procedures. Staff see
 * the cases their grants cover (department and region) in queues; a scheduled job
 * escalates overdue cases to supervisors. Every change notifies the applicant
 * (站内信).
 *
 * Functions take the caller as a principal and check what it may do: a person sees
 * the cases they applied for (for themself or the enterprise they act for) and
 * nobody else's (TB_ENOTFOUND); staff see the cases their grants cover and get
 * TB_EFORBIDDEN for others. Results are new JSON objects in the shapes of
 * docs/cases.md. Each function runs its own transaction. */
#ifndef TB_CASES_CASES_H
#define TB_CASES_CASES_H

#include "base/buf.h"
#include "base/principal.h"
#include "base/tb.h"

#include <jansson.h>

struct tb_db;
struct tb_calendar;

/* Details of a refusal beyond struct tb_err: every failing field (422) or the actions
 * allowed now (409). Owned by the caller: tb_case_problem_release. */
struct tb_case_problem {
	struct tb_err err;
	json_t *errors;	 /* [{field, message}] or NULL */
	json_t *allowed; /* ["accept", ...] or NULL */
};
void tb_case_problem_release(struct tb_case_problem *pb);

/* ---- set-up ---- */

struct tb_cases_config {
	int near_percent;	  /* near due when at most this share of the limit remains (20) */
	int min_assurance_online; /* real-name level an online applicant needs (2) */
};
void tb_cases_configure(const struct tb_cases_config *cfg);
/* The working-day calendar: the shipped years and those loaded into the database
 * (re-read at most once a minute, so that every node sees a year another loaded). */
tb_rc tb_cases_calendar(struct tb_db *db, const struct tb_calendar **out, struct tb_err *err);
/* Load a year's notice (holiday-cn JSON); platform admins. */
tb_rc tb_cases_calendar_put(struct tb_db *db, const struct tb_principal *p, int year,
			    const char *json, size_t len, struct tb_err *err);
tb_rc tb_cases_calendar_get(struct tb_db *db, int year, json_t **out, struct tb_err *err);

/* ---- workflows ---- */

tb_rc tb_cases_workflows(struct tb_db *db, json_t **out, struct tb_err *err);
tb_rc tb_cases_workflow_get(struct tb_db *db, const char *key, json_t **out, struct tb_err *err);
/* A new version of the workflow under key (platform admins; a department's admins
 * for keys item-/impl- of their department's implementations). */
tb_rc tb_cases_workflow_put(struct tb_db *db, const struct tb_principal *p, const char *key,
			    json_t *def, json_t **out, struct tb_err *err);

/* ---- drafts ---- */

/* The applicant of a window draft, identified in person by the clerk. */
struct tb_walk_in {
	const char *name, *id_number, *phone;
};
tb_rc tb_cases_draft_create(struct tb_db *db, const struct tb_principal *p, const char *impl_code,
			    const struct tb_walk_in *walk_in, json_t **out,
			    struct tb_case_problem *pb);
tb_rc tb_cases_draft_get(struct tb_db *db, const struct tb_principal *p, int64_t id, json_t **out,
			 struct tb_err *err);
tb_rc tb_cases_drafts(struct tb_db *db, const struct tb_principal *p, int page, int per_page,
		      json_t **out, struct tb_err *err);
tb_rc tb_cases_draft_save(struct tb_db *db, const struct tb_principal *p, int64_t id, json_t *form,
			  json_t **out, struct tb_case_problem *pb);
tb_rc tb_cases_draft_delete(struct tb_db *db, const struct tb_principal *p, int64_t id,
			    struct tb_err *err);

/* An uploaded file for a case or draft. */
struct tb_upload {
	const char *data;
	size_t len;
	const char *file_name, *declared_type;
	int material_seq;    /* 0: none */
	const char *purpose; /* application | correction | result | scan */
};
tb_rc tb_cases_draft_file_add(struct tb_db *db, const struct tb_principal *p, int64_t id,
			      const struct tb_upload *up, json_t **out, struct tb_err *err);
tb_rc tb_cases_draft_file_remove(struct tb_db *db, const struct tb_principal *p, int64_t id,
				 int64_t file_id, struct tb_err *err);
/* commitment NULL: withdraw the deferral. */
tb_rc tb_cases_draft_defer(struct tb_db *db, const struct tb_principal *p, int64_t id, int seq,
			   const char *commitment, json_t **out, struct tb_err *err);
/* Submit a draft. *created: false when it had been submitted before (the same case
 * comes back). */
tb_rc tb_cases_draft_submit(struct tb_db *db, const struct tb_principal *p, int64_t id,
			    json_t **out, bool *created, struct tb_case_problem *pb);

/* One request that files a whole application: form, deferrals, files; all or
 * nothing. idem_key is required: the same key (for the same caller) gives the same
 * case (*replayed), with another body TB_EINVAL on "Idempotency-Key". */
struct tb_application {
	const char *impl_code;
	json_t *form;
	json_t *deferrals; /* [{seq, commitment}] or NULL */
	const struct tb_upload *files;
	size_t nfiles;
	const char *idem_key;
	const char *fingerprint; /* hash of the request body */
};
tb_rc tb_cases_apply(struct tb_db *db, const struct tb_principal *p, const struct tb_application *a,
		     json_t **out, bool *replayed, struct tb_case_problem *pb);

/* ---- cases ---- */

tb_rc tb_cases_get(struct tb_db *db, const struct tb_principal *p, const char *case_no,
		   json_t **out, struct tb_err *err);
/* req: {action, comment, corrections, procedure, days, delivery, files, version} */
tb_rc tb_cases_act(struct tb_db *db, const struct tb_principal *p, const char *case_no, json_t *req,
		   json_t **out, struct tb_case_problem *pb);
tb_rc tb_cases_file_add(struct tb_db *db, const struct tb_principal *p, const char *case_no,
			const struct tb_upload *up, json_t **out, struct tb_err *err);
/* The bytes of a file (result: file_id 0 = the latest result file). */
struct tb_case_file {
	struct tb_buf *data; /* appended to */
	const char *mime;
	char file_name[256];
};
tb_rc tb_cases_file_get(struct tb_db *db, const struct tb_principal *p, const char *case_no,
			int64_t file_id, bool result, struct tb_case_file *f, struct tb_err *err);
tb_rc tb_cases_assign(struct tb_db *db, const struct tb_principal *p, const char *case_no,
		      int64_t user_id, json_t **out, struct tb_err *err);

/* The applicant's cases and notifications. */
tb_rc tb_cases_mine(struct tb_db *db, const struct tb_principal *p, const char *state, int page,
		    int per_page, json_t **out, struct tb_err *err);
tb_rc tb_cases_notifications(struct tb_db *db, const struct tb_principal *p, bool unread, int page,
			     int per_page, json_t **out, struct tb_err *err);
/* id 0: all of them. */
tb_rc tb_cases_notification_read(struct tb_db *db, const struct tb_principal *p, int64_t id,
				 struct tb_err *err);

/* ---- workbench ---- */

tb_rc tb_cases_queue_summary(struct tb_db *db, const struct tb_principal *p, json_t **out,
			     struct tb_err *err);
tb_rc tb_cases_queue(struct tb_db *db, const struct tb_principal *p, const char *queue,
		     const char *q, int page, int per_page, json_t **out, struct tb_err *err);
/* action on each of case_nos (its own transaction each): {results:[...]} */
tb_rc tb_cases_batch(struct tb_db *db, const struct tb_principal *p, json_t *req, json_t **out,
		     struct tb_err *err);

/* ---- scheduled (jobs.h): escalate overdue cases, warn of near-due ones ---- */
struct tb_job_ctx;
tb_rc tb_cases_escalate(struct tb_db *db, int64_t slot, const struct tb_job_ctx *ctx,
			struct tb_err *err);

#endif
