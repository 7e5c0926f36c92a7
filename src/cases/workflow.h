/* workflow.h: case workflows as data, like DIGIT's business services: states, the
 * actions between them, who may take each action, what it needs, and how long a case
 * may stay in a state. The default follows the Administrative Licensing Law (行政许可法):
 *
 *   submitted ─accept→ accepted ─start_review→ under_review ─grant|refuse→ decided
 *       │  └─not_accept→ not_accepted (terminal)                        └complete→ completed
 *       └─request_correction→ correction ─respond→ submitted
 *   即办件 (case type 1): submitted ─grant_on_spot→ decided
 *   applicant: withdraw from submitted, correction, accepted, under_review → withdrawn
 *   staff, no change of state: start_procedure / end_procedure (art. 45, the clock
 *   stops), request_extension (art. 42, approver) / approve_extension (dept admin)
 *
 * The definition's JSON (what PUT /api/v1/workflows/{key} takes and GET returns):
 *   {"name": "…",
 *    "states": [{"name": "submitted", "label": "待受理",
 *                "limit_days": 5,          (working days allowed in this state; optional)
 *                "clock": "stopped" | "running",   (whether the case's time limit runs;
 *                                           default stopped)
 *                "terminal": false,
 *                "applicant_turn": false}, …],   (waiting for the applicant: correction)
 *    "actions": [{"name": "accept", "label": "受理",
 *                 "from": ["submitted"], "to": "accepted" | null (stays),
 *                 "actor": "staff" | "applicant",
 *                 "roles": ["clerk", "approver", …]   (staff: enum tb_role names),
 *                 "comment": "none" | "optional" | "required",
 *                 "material": "none" | "optional" | "required",
 *                 "case_types": ["1", "2"],         (optional: only these case types)
 *                 "effect": "none" | "start_clock" | "decide_granted" | "decide_refused" |
 *                           "complete" | "withdraw" | "request_correction" |
 *                           "respond_correction" | "start_procedure" | "end_procedure" |
 *                           "request_extension" | "approve_extension" | "not_accept"},
 *                 …]}
 * The first state is where a submitted case starts. Names match [a-z][a-z0-9_]{0,39};
 * every `from`/`to` names a state; a terminal state has no outgoing action; every
 * state is reachable from the first; at most 32 states and 64 actions.
 *
 * Effects are what the cases block does besides moving the state; their inputs come
 * with the action (docs/cases.md): decide_refused, not_accept, request_correction,
 * start_procedure and request_extension need a comment (parse upgrades the action's
 * "comment" to "required"; a grant needs none), request_correction a non-empty
 * `corrections` list, start_procedure a `procedure` kind, request_extension `days`
 * (1..10 under art. 42; 15 for joint handling), complete a `delivery` (electronic |
 * pickup | post). An effect also fixes who takes the action and where it leads (parse
 * refuses the rest): withdraw and respond_correction are the applicant's, all other
 * effects staff's; start/end_procedure and request/approve_extension stay (`to` null),
 * the others move; withdraw, not_accept and complete lead to a terminal state;
 * request_correction to an applicant_turn state, and respond_correction leaves only
 * applicant_turn states.
 *
 * Further checks: labels are required and Chinese (at least one Han character, at most
 * 60 characters; the workflow's name at most 120); members not listed above are
 * errors; `limit_days` 0..365 (0 as absent); a terminal state has no clock, limit or
 * applicant_turn; the first state is not terminal; every state that is not terminal has
 * an action that leads out of it; at least one state is terminal; staff actions name at
 * least one role, applicant actions none; `case_types` (only "1" and "2"), when given,
 * is not empty; `to` absent is null. */
#ifndef TB_CASES_WORKFLOW_H
#define TB_CASES_WORKFLOW_H

#include "base/calendar.h"
#include "base/tb.h"

#include <jansson.h>

enum tb_wf_need { TB_WF_NONE, TB_WF_OPTIONAL, TB_WF_REQUIRED };
enum tb_wf_actor { TB_WF_STAFF, TB_WF_APPLICANT };
enum tb_wf_effect {
	TB_EFFECT_NONE,
	TB_EFFECT_START_CLOCK,
	TB_EFFECT_DECIDE_GRANTED,
	TB_EFFECT_DECIDE_REFUSED,
	TB_EFFECT_COMPLETE,
	TB_EFFECT_WITHDRAW,
	TB_EFFECT_REQUEST_CORRECTION,
	TB_EFFECT_RESPOND_CORRECTION,
	TB_EFFECT_START_PROCEDURE,
	TB_EFFECT_END_PROCEDURE,
	TB_EFFECT_REQUEST_EXTENSION,
	TB_EFFECT_APPROVE_EXTENSION,
	TB_EFFECT_NOT_ACCEPT,
};

#define TB_WF_NAME 40

struct tb_wf_state {
	char name[TB_WF_NAME + 1];
	char label[64 * 4];
	int limit_days; /* 0: none */
	bool clock_running, terminal, applicant_turn;
};

struct tb_wf_action {
	char name[TB_WF_NAME + 1];
	char label[64 * 4];
	uint64_t from; /* bit i: states[i] */
	int to;	       /* index into states, -1: stays */
	enum tb_wf_actor actor;
	unsigned roles; /* enum tb_role bits (staff) */
	enum tb_wf_need comment, material;
	unsigned case_types; /* bit n: case type "n"; 0: any */
	enum tb_wf_effect effect;
};

struct tb_workflow {
	char name[128 * 4];
	struct tb_wf_state states[32];
	int nstates;
	struct tb_wf_action actions[64];
	int nactions;
};

/* Parse and check a definition. err->field names the member at fault
 * ("actions[3].to"). On error *wf holds nothing usable. */
tb_rc tb_workflow_parse(json_t *def, struct tb_workflow *wf, struct tb_err *err);
/* The definition as JSON (a new reference), the inverse of parse. */
json_t *tb_workflow_json(const struct tb_workflow *wf);
/* The built-in Administrative Licensing Law workflow described above (parsed once,
 * shared, read-only; NULL only if memory ran out on first use). */
const struct tb_workflow *tb_workflow_default(void);

int tb_workflow_state(const struct tb_workflow *wf, const char *name); /* -1: none */
const struct tb_wf_action *tb_workflow_action(const struct tb_workflow *wf, const char *name);
/* Whether `a` may be taken from state index `state` for a case of case_type ("1"/"2"). */
bool tb_workflow_allows(const struct tb_workflow *wf, const struct tb_wf_action *a, int state,
			const char *case_type);
/* The actions allowed from `state` for case_type, as a JSON array of names; with
 * actor_mask (1 << TB_WF_STAFF | 1 << TB_WF_APPLICANT) and, for staff, roles (0: any):
 * only those that this caller could take. */
json_t *tb_workflow_allowed(const struct tb_workflow *wf, int state, const char *case_type,
			    unsigned actor_mask, unsigned roles);
const char *tb_wf_effect_name(enum tb_wf_effect e);

/* ---- time limits (行政许可法 art. 42, 45, 82) ----
 *
 * A limit runs from the day after acceptance. Units: working days (the calendar's),
 * natural days, months (same day number, clamped to the month's end), hours (the
 * calendar day on which they run out, counted from the acceptance time).
 * Special procedures stop the clock: a procedure from day S to day E removes the
 * units in (S, E] (one that starts and ends on the same day removes none); a
 * procedure still open on `today` removes those in (S, today] and the due date
 * is then provisional. Extensions add whole units. Months become the natural days
 * they span from start, which pauses then push like natural days. Hours: only the
 * acceptance day is known here, so due is the ceil(hours / 24)-th natural day after
 * it, the latest day on which they can run out. */
enum tb_limit_unit { TB_UNIT_WORKING_DAY, TB_UNIT_NATURAL_DAY, TB_UNIT_MONTH, TB_UNIT_HOUR };
/* "working_day" … (the guide's units); false if unknown. */
bool tb_limit_unit_parse(const char *s, enum tb_limit_unit *out);

struct tb_pause {
	tb_date start, end; /* end 0: still running */
};

struct tb_limit {
	int value;		 /* in unit */
	enum tb_limit_unit unit; /* TB_UNIT_HOUR: value hours */
	int extension;		 /* extra units approved (same unit; hours: none) */
};

struct tb_deadline {
	tb_date due;   /* the last day of the limit */
	tb_date warn;  /* the first day on which the case is near due: the day on which
			* at most near_percent% of total remain, and at the latest the day
			* with 1 left (so a 1-day limit warns from start; 0 days: start) */
	int total;     /* working days from start to due, pauses excluded */
	int remaining; /* working days from today to due (0 on and after due); while
			* paused, as of the open procedure's start (the clock stands) */
	int overdue;   /* working days in (due, today] (0 if not); a procedure opened
			* after due does not stop it */
	bool paused;   /* a procedure is open today */
	bool near_due; /* today >= warn and not overdue */
	bool covered;  /* the calendar holds every year from start to due */
};

/* Compute the deadline of a limit started on `start` (the acceptance day) with the
 * given pauses, as seen on `today`. near_percent: a case is near due when at most
 * this share of its working days remain (20 by default; 1..99, another value means
 * 20). */
void tb_deadline_compute(const struct tb_calendar *cal, tb_date start, const struct tb_limit *lim,
			 const struct tb_pause *pauses, size_t npauses, tb_date today,
			 int near_percent, struct tb_deadline *out);

#endif
