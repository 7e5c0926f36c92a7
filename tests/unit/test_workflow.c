/* Workflows as data (the default Administrative Licensing Law workflow, the checks of
 * a definition) and time limits over the shipped working-day calendar. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/principal.h"
#include "cases/workflow.h"

static struct tb_calendar cal;

static tb_date D(const char *s)
{
	tb_date d;
	assert_true(tb_date_parse(s, &d));
	return d;
}

static const char *F(tb_date d)
{
	static char buf[8][11];
	static int k;
	char *b = buf[k++ & 7];
	tb_date_format(d, b);
	return b;
}

static int setup(void **state)
{
	(void)state;
	tb_calendar_init(&cal);
	struct tb_err err = {0};
	return tb_calendar_load_builtin(&cal, &err) == TB_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tb_calendar_release(&cal);
	return 0;
}

/* ---- the default workflow ---- */

enum { SUBMITTED, CORRECTION, ACCEPTED, UNDER_REVIEW, DECIDED, COMPLETED, NOT_ACCEPTED, WITHDRAWN };
static const char *const state_names[] = {"submitted", "correction", "accepted",     "under_review",
					  "decided",   "completed",  "not_accepted", "withdrawn"};

/* What the Administrative Licensing Law allows, written out independently of the
 * definition: action, the states it is taken from, where it leads (NULL: stays),
 * actor, roles, comment, case types, effect. */
static const struct expect {
	const char *name;
	unsigned from; /* bit per enum above */
	const char *to;
	enum tb_wf_actor actor;
	unsigned roles;
	enum tb_wf_need comment, material;
	unsigned case_types;
	enum tb_wf_effect effect;
} expected[] = {
    {"accept", 1u << SUBMITTED, "accepted", TB_WF_STAFF, TB_ROLE_CLERK, TB_WF_OPTIONAL, TB_WF_NONE,
     0, TB_EFFECT_START_CLOCK},
    {"not_accept", 1u << SUBMITTED, "not_accepted", TB_WF_STAFF, TB_ROLE_CLERK, TB_WF_REQUIRED,
     TB_WF_NONE, 0, TB_EFFECT_NOT_ACCEPT},
    {"request_correction", 1u << SUBMITTED, "correction", TB_WF_STAFF, TB_ROLE_CLERK,
     TB_WF_REQUIRED, TB_WF_NONE, 0, TB_EFFECT_REQUEST_CORRECTION},
    {"respond", 1u << CORRECTION, "submitted", TB_WF_APPLICANT, 0, TB_WF_OPTIONAL, TB_WF_OPTIONAL,
     0, TB_EFFECT_RESPOND_CORRECTION},
    {"withdraw", 1u << SUBMITTED | 1u << CORRECTION | 1u << ACCEPTED | 1u << UNDER_REVIEW,
     "withdrawn", TB_WF_APPLICANT, 0, TB_WF_OPTIONAL, TB_WF_NONE, 0, TB_EFFECT_WITHDRAW},
    {"start_review", 1u << ACCEPTED, "under_review", TB_WF_STAFF, TB_ROLE_APPROVER, TB_WF_NONE,
     TB_WF_NONE, 0, TB_EFFECT_NONE},
    {"grant", 1u << UNDER_REVIEW, "decided", TB_WF_STAFF, TB_ROLE_APPROVER, TB_WF_OPTIONAL,
     TB_WF_NONE, 0, TB_EFFECT_DECIDE_GRANTED},
    {"refuse", 1u << UNDER_REVIEW, "decided", TB_WF_STAFF, TB_ROLE_APPROVER, TB_WF_REQUIRED,
     TB_WF_NONE, 0, TB_EFFECT_DECIDE_REFUSED},
    {"grant_on_spot", 1u << SUBMITTED, "decided", TB_WF_STAFF, TB_ROLE_CLERK | TB_ROLE_APPROVER,
     TB_WF_OPTIONAL, TB_WF_NONE, 1u << 1, TB_EFFECT_DECIDE_GRANTED},
    {"complete", 1u << DECIDED, "completed", TB_WF_STAFF, TB_ROLE_CLERK | TB_ROLE_APPROVER,
     TB_WF_OPTIONAL, TB_WF_NONE, 0, TB_EFFECT_COMPLETE},
    {"start_procedure", 1u << UNDER_REVIEW, NULL, TB_WF_STAFF, TB_ROLE_APPROVER, TB_WF_REQUIRED,
     TB_WF_NONE, 0, TB_EFFECT_START_PROCEDURE},
    {"end_procedure", 1u << UNDER_REVIEW, NULL, TB_WF_STAFF, TB_ROLE_APPROVER, TB_WF_OPTIONAL,
     TB_WF_NONE, 0, TB_EFFECT_END_PROCEDURE},
    {"request_extension", 1u << UNDER_REVIEW, NULL, TB_WF_STAFF, TB_ROLE_APPROVER, TB_WF_REQUIRED,
     TB_WF_NONE, 0, TB_EFFECT_REQUEST_EXTENSION},
    {"approve_extension", 1u << UNDER_REVIEW, NULL, TB_WF_STAFF, TB_ROLE_DEPT_ADMIN, TB_WF_OPTIONAL,
     TB_WF_NONE, 0, TB_EFFECT_APPROVE_EXTENSION},
};

static void test_default_states(void **state)
{
	(void)state;
	const struct tb_workflow *wf = tb_workflow_default();
	assert_non_null(wf);
	assert_ptr_equal(wf, tb_workflow_default()); /* parsed once, shared */
	assert_int_equal(wf->nstates, 8);
	static const struct {
		const char *label;
		int limit;
		bool clock, terminal, applicant;
	} st[] = {
	    {"待受理", 5, false, false, false},	 {"待补正", 0, false, false, true},
	    {"已受理", 0, true, false, false},	 {"审查中", 0, true, false, false},
	    {"已决定", 10, false, false, false}, {"已办结", 0, false, true, false},
	    {"不予受理", 0, false, true, false}, {"已撤回", 0, false, true, false},
	};
	for (int k = 0; k < 8; k++) {
		assert_int_equal(tb_workflow_state(wf, state_names[k]), k);
		assert_string_equal(wf->states[k].name, state_names[k]);
		assert_string_equal(wf->states[k].label, st[k].label);
		assert_int_equal(wf->states[k].limit_days, st[k].limit);
		assert_int_equal(wf->states[k].clock_running, st[k].clock);
		assert_int_equal(wf->states[k].terminal, st[k].terminal);
		assert_int_equal(wf->states[k].applicant_turn, st[k].applicant);
	}
	assert_int_equal(tb_workflow_state(wf, "draft"), -1);
	assert_int_equal(tb_workflow_state(wf, NULL), -1);
}

static void test_default_actions(void **state)
{
	(void)state;
	const struct tb_workflow *wf = tb_workflow_default();
	assert_int_equal(wf->nactions, (int)TB_ARRAY_LEN(expected));
	for (size_t i = 0; i < TB_ARRAY_LEN(expected); i++) {
		const struct expect *e = &expected[i];
		const struct tb_wf_action *a = tb_workflow_action(wf, e->name);
		assert_non_null(a);
		assert_true(a->label[0] != 0);
		assert_int_equal(a->from, (uint64_t)e->from);
		if (e->to)
			assert_string_equal(wf->states[a->to].name, e->to);
		else
			assert_int_equal(a->to, -1);
		assert_int_equal(a->actor, e->actor);
		assert_int_equal(a->roles, e->roles);
		assert_int_equal(a->comment, e->comment);
		assert_int_equal(a->material, e->material);
		assert_int_equal(a->case_types, e->case_types);
		assert_int_equal(a->effect, e->effect);
	}
	assert_null(tb_workflow_action(wf, "approve"));
	assert_null(tb_workflow_action(wf, NULL));
}

/* Every action from every state for both case types: allowed exactly where the law
 * says, and a terminal state allows nothing. */
static void test_default_allows(void **state)
{
	(void)state;
	const struct tb_workflow *wf = tb_workflow_default();
	const char *types[] = {"1", "2", NULL, "3"};
	for (size_t i = 0; i < TB_ARRAY_LEN(expected); i++) {
		const struct tb_wf_action *a = tb_workflow_action(wf, expected[i].name);
		for (int k = 0; k < 8; k++)
			for (int t = 0; t < 4; t++) {
				bool want = expected[i].from >> k & 1;
				/* grant_on_spot: 即办件 (case type "1") only */
				if (expected[i].case_types)
					want = want && types[t] && !strcmp(types[t], "1");
				assert_int_equal(tb_workflow_allows(wf, a, k, types[t]), want);
			}
		assert_false(tb_workflow_allows(wf, a, -1, "2"));
		assert_false(tb_workflow_allows(wf, a, 8, "2"));
	}
	assert_false(tb_workflow_allows(wf, NULL, SUBMITTED, "2"));
}

/* The allowed list as the caller sees it: "a,b,c" */
static const char *allowed(int st, const char *type, unsigned actors, unsigned roles)
{
	static char out[512];
	json_t *a = tb_workflow_allowed(tb_workflow_default(), st, type, actors, roles);
	assert_non_null(a);
	out[0] = 0;
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
	{
		size_t l = strlen(out);
		snprintf(out + l, sizeof(out) - l, "%s%s", l ? "," : "", json_string_value(v));
	}
	json_decref(a);
	return out;
}

static void test_default_allowed(void **state)
{
	(void)state;
	const unsigned S = 1u << TB_WF_STAFF, A = 1u << TB_WF_APPLICANT;
	/* the clerk at the window */
	assert_string_equal(allowed(SUBMITTED, "1", S, TB_ROLE_CLERK),
			    "accept,not_accept,request_correction,grant_on_spot");
	assert_string_equal(allowed(SUBMITTED, "2", S, TB_ROLE_CLERK),
			    "accept,not_accept,request_correction");
	assert_string_equal(allowed(SUBMITTED, "1", S, TB_ROLE_APPROVER), "grant_on_spot");
	assert_string_equal(allowed(SUBMITTED, "2", S, TB_ROLE_APPROVER), "");
	assert_string_equal(allowed(SUBMITTED, "2", S, TB_ROLE_SUPERVISOR), "");
	assert_string_equal(allowed(CORRECTION, "2", S, TB_ROLE_CLERK), "");
	assert_string_equal(allowed(ACCEPTED, "2", S, TB_ROLE_CLERK), "");
	assert_string_equal(allowed(ACCEPTED, "2", S, TB_ROLE_APPROVER), "start_review");
	assert_string_equal(allowed(UNDER_REVIEW, "2", S, TB_ROLE_APPROVER),
			    "grant,refuse,start_procedure,end_procedure,request_extension");
	assert_string_equal(allowed(UNDER_REVIEW, "2", S, TB_ROLE_DEPT_ADMIN), "approve_extension");
	assert_string_equal(allowed(UNDER_REVIEW, "2", S, TB_ROLE_CLERK), "");
	assert_string_equal(allowed(DECIDED, "2", S, TB_ROLE_CLERK), "complete");
	assert_string_equal(allowed(DECIDED, "1", S, TB_ROLE_APPROVER), "complete");
	/* several roles at once, and any role */
	assert_string_equal(allowed(UNDER_REVIEW, "2", S, TB_ROLE_APPROVER | TB_ROLE_DEPT_ADMIN),
			    "grant,refuse,start_procedure,end_procedure,request_extension,"
			    "approve_extension");
	assert_string_equal(allowed(SUBMITTED, "1", S, 0),
			    "accept,not_accept,request_correction,grant_on_spot");
	/* the applicant */
	assert_string_equal(allowed(SUBMITTED, "2", A, 0), "withdraw");
	assert_string_equal(allowed(CORRECTION, "2", A, 0), "respond,withdraw");
	assert_string_equal(allowed(ACCEPTED, "2", A, 0), "withdraw");
	assert_string_equal(allowed(UNDER_REVIEW, "2", A, 0), "withdraw");
	assert_string_equal(allowed(DECIDED, "2", A, 0), "");
	/* roles do not restrict the applicant's actions */
	assert_string_equal(allowed(CORRECTION, "2", A, TB_ROLE_CLERK), "respond,withdraw");
	/* both */
	assert_string_equal(allowed(CORRECTION, "2", S | A, 0), "respond,withdraw");
	assert_string_equal(allowed(SUBMITTED, "2", S | A, TB_ROLE_CLERK),
			    "accept,not_accept,request_correction,withdraw");
	/* nobody acts on a case that has ended, or from a state that does not exist */
	for (int k = COMPLETED; k <= WITHDRAWN; k++)
		assert_string_equal(allowed(k, "1", S | A, 0), "");
	assert_string_equal(allowed(-1, "1", S | A, 0), "");
	assert_string_equal(allowed(8, "1", S | A, 0), "");
	assert_string_equal(allowed(SUBMITTED, "1", 0, 0), "");
	/* unknown case type: only grant_on_spot asks for one */
	assert_string_equal(allowed(SUBMITTED, NULL, S, TB_ROLE_CLERK),
			    "accept,not_accept,request_correction");
}

static void test_effect_names(void **state)
{
	(void)state;
	assert_string_equal(tb_wf_effect_name(TB_EFFECT_NONE), "none");
	assert_string_equal(tb_wf_effect_name(TB_EFFECT_START_CLOCK), "start_clock");
	assert_string_equal(tb_wf_effect_name(TB_EFFECT_RESPOND_CORRECTION), "respond_correction");
	assert_string_equal(tb_wf_effect_name(TB_EFFECT_NOT_ACCEPT), "not_accept");
	assert_null(tb_wf_effect_name((enum tb_wf_effect)(TB_EFFECT_NOT_ACCEPT + 1)));
	enum tb_limit_unit u;
	assert_true(tb_limit_unit_parse("working_day", &u));
	assert_int_equal(u, TB_UNIT_WORKING_DAY);
	assert_true(tb_limit_unit_parse("natural_day", &u));
	assert_int_equal(u, TB_UNIT_NATURAL_DAY);
	assert_true(tb_limit_unit_parse("month", &u));
	assert_int_equal(u, TB_UNIT_MONTH);
	assert_true(tb_limit_unit_parse("hour", &u));
	assert_int_equal(u, TB_UNIT_HOUR);
	assert_false(tb_limit_unit_parse("week", &u));
	assert_false(tb_limit_unit_parse("", &u));
	assert_false(tb_limit_unit_parse(NULL, &u));
}

/* ---- definitions ---- */

static struct tb_workflow wf_a, wf_b;

static void test_round_trip(void **state)
{
	(void)state;
	struct tb_err err = {0};
	json_t *j = tb_workflow_json(tb_workflow_default());
	assert_non_null(j);
	assert_int_equal(tb_workflow_parse(j, &wf_a, &err), TB_OK);
	assert_memory_equal(&wf_a, tb_workflow_default(), sizeof(wf_a));
	json_t *j2 = tb_workflow_json(&wf_a);
	assert_true(json_equal(j, j2));
	/* what GET returns: null for "stays", roles only for staff */
	json_t *a10 = json_array_get(json_object_get(j, "actions"), 10);
	assert_true(json_is_null(json_object_get(a10, "to")));
	json_t *a3 = json_array_get(json_object_get(j, "actions"), 3);
	assert_null(json_object_get(a3, "roles"));
	assert_string_equal(json_string_value(json_object_get(a3, "actor")), "applicant");
	json_decref(j);
	json_decref(j2);

	/* a custom one using what the default leaves out: both case types, a required
	 * material, an absent "to", a limit on an applicant_turn state */
	const char *text =
	    "{\"name\": \"备案\", \"states\": ["
	    " {\"name\": \"s1\", \"label\": \"待审核\", \"limit_days\": 3, \"clock\": \"running\"},"
	    " {\"name\": \"fix\", \"label\": \"待补充\", \"limit_days\": 15, \"applicant_turn\": "
	    "true},"
	    " {\"name\": \"done\", \"label\": \"完成\", \"terminal\": true}],"
	    " \"actions\": ["
	    " {\"name\": \"note\", \"label\": \"备注\", \"from\": [\"s1\"], \"actor\": \"staff\","
	    "  \"roles\": [\"supervisor\", \"clerk\"], \"comment\": \"required\"},"
	    " {\"name\": \"ask\", \"label\": \"补充\", \"from\": [\"s1\"], \"to\": \"fix\","
	    "  \"actor\": \"staff\", \"roles\": [\"clerk\"], \"effect\": \"request_correction\"},"
	    " {\"name\": \"answer\", \"label\": \"答复\", \"from\": [\"fix\"], \"to\": \"s1\","
	    "  \"actor\": \"applicant\", \"roles\": [], \"material\": \"required\","
	    "  \"effect\": \"respond_correction\"},"
	    " {\"name\": \"file\", \"label\": \"备案\", \"from\": [\"s1\", \"fix\"], \"to\": "
	    "\"done\","
	    "  \"actor\": \"staff\", \"roles\": [\"dept_admin\"], \"case_types\": [\"2\", \"1\"],"
	    "  \"effect\": \"complete\"}]}";
	json_t *c = json_loads(text, 0, NULL);
	assert_non_null(c);
	assert_int_equal(tb_workflow_parse(c, &wf_a, &err), TB_OK);
	assert_int_equal(wf_a.states[1].limit_days, 15);
	assert_true(wf_a.states[0].clock_running);
	assert_int_equal(wf_a.actions[0].to, -1);
	assert_int_equal(wf_a.actions[0].roles, TB_ROLE_SUPERVISOR | TB_ROLE_CLERK);
	assert_int_equal(wf_a.actions[1].comment, TB_WF_REQUIRED); /* upgraded */
	assert_int_equal(wf_a.actions[2].material, TB_WF_REQUIRED);
	assert_int_equal(wf_a.actions[3].case_types, 1u << 1 | 1u << 2);
	assert_int_equal(wf_a.actions[3].from, 3u);
	j = tb_workflow_json(&wf_a);
	assert_int_equal(tb_workflow_parse(j, &wf_b, &err), TB_OK);
	assert_memory_equal(&wf_a, &wf_b, sizeof(wf_a));
	assert_true(tb_workflow_allows(&wf_a, &wf_a.actions[3], 1, "1"));
	assert_true(tb_workflow_allows(&wf_a, &wf_a.actions[3], 0, "2"));
	json_decref(j);
	json_decref(c);
}

/* Set (or with v NULL remove) the member at a path like "actions[3].to" in def. */
static void set_at(json_t *def, const char *path, json_t *v)
{
	char buf[128], *p = buf;
	snprintf(buf, sizeof(buf), "%s", path);
	json_t *cur = def;
	for (;;) {
		char *dot = strchr(p, '.');
		if (dot)
			*dot = 0;
		char *br = strchr(p, '[');
		if (br) {
			*br = 0;
			cur = json_array_get(json_object_get(cur, p), (size_t)atoi(br + 1));
			assert_non_null(cur);
			if (!dot) {
				fail_msg("a path ends in a member name");
			}
		} else if (!dot) {
			if (v)
				json_object_set_new(cur, p, v);
			else
				json_object_del(cur, p);
			return;
		} else {
			cur = json_object_get(cur, p);
			assert_non_null(cur);
		}
		p = dot + 1;
	}
}

/* The default definition with one change, parsed: it must fail naming `field`, with a
 * message that contains `msg` (if given). */
static void refuse(const char *path, json_t *v, const char *field, const char *msg)
{
	json_t *def = tb_workflow_json(tb_workflow_default());
	struct tb_err err = {0};
	set_at(def, path, v);
	tb_rc rc = tb_workflow_parse(def, &wf_a, &err);
	if (rc != TB_EINVAL || strcmp(err.field, field) || (msg && !strstr(err.msg, msg)))
		fail_msg("%s: rc %d, field '%s' (want '%s'), msg '%s'", path, rc, err.field, field,
			 err.msg);
	json_decref(def);
}

static json_t *J(const char *text)
{
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
	assert_non_null(v);
	return v;
}

static void refuse_text(const char *text, const char *field, const char *msg)
{
	json_t *def = J(text);
	struct tb_err err = {0};
	tb_rc rc = tb_workflow_parse(def, &wf_a, &err);
	if (rc != TB_EINVAL || strcmp(err.field, field) || (msg && !strstr(err.msg, msg)))
		fail_msg("%s: rc %d, field '%s' (want '%s'), msg '%s'", text, rc, err.field, field,
			 err.msg);
	json_decref(def);
}

static void test_parse_document(void **state)
{
	(void)state;
	refuse_text("[]", "", "JSON object");
	refuse_text("\"workflow\"", "", NULL);
	refuse("extra", json_integer(1), "extra", "unknown");
	refuse("name", NULL, "name", "required");
	refuse("name", json_string(""), "name", "empty");
	refuse("name", json_integer(3), "name", "string");
	refuse("states", NULL, "states", "required");
	refuse("states", json_array(), "states", "at least one");
	refuse("states", json_object(), "states", "array");
	refuse("actions", NULL, "actions", "required");
	refuse("actions", json_array(), "actions", "at least one");
	/* 33 states, 65 actions */
	json_t *many = json_array();
	for (int i = 0; i < 33; i++)
		json_array_append_new(many, J("{\"name\": \"s\", \"label\": \"甲\"}"));
	refuse("states", json_deep_copy(many), "states", "more than 32");
	for (int i = 0; i < 32; i++)
		json_array_append_new(many, J("{}"));
	refuse("actions", many, "actions", "more than 64");
}

static void test_parse_state_members(void **state)
{
	(void)state;
	json_t *def = tb_workflow_json(tb_workflow_default());
	json_array_set_new(json_object_get(def, "states"), 2, json_string("accepted"));
	struct tb_err err = {0};
	assert_int_equal(tb_workflow_parse(def, &wf_a, &err), TB_EINVAL);
	assert_string_equal(err.field, "states[2]");
	json_decref(def);

	refuse("states[2].foo", json_true(), "states[2].foo", "unknown");
	refuse("states[2].name", json_string("Accepted"), "states[2].name", "[a-z]");
	refuse("states[2].name", json_string("9accepted"), "states[2].name", NULL);
	refuse("states[2].name", json_string("accepted-now"), "states[2].name", NULL);
	refuse("states[2].name", json_string("a23456789012345678901234567890123456789012"),
	       "states[2].name", NULL);
	refuse("states[2].name", json_string("submitted"), "states[2].name", "repeated");
	refuse("states[1].label", NULL, "states[1].label", "required");
	refuse("states[1].label", json_string("Correction"), "states[1].label", "Chinese");
	char long_label[61 * 3 + 1] = "";
	for (int i = 0; i < 61; i++)
		strcat(long_label, "审");
	refuse("states[1].label", json_string(long_label), "states[1].label", "longer");
	long_label[60 * 3] = 0; /* 60 is the most */
	def = tb_workflow_json(tb_workflow_default());
	set_at(def, "states[1].label", json_string(long_label));
	assert_int_equal(tb_workflow_parse(def, &wf_a, &err), TB_OK);
	json_decref(def);
	refuse("states[0].limit_days", json_integer(-1), "states[0].limit_days", NULL);
	refuse("states[0].limit_days", json_integer(366), "states[0].limit_days", NULL);
	refuse("states[0].limit_days", json_string("5"), "states[0].limit_days", "integer");
	refuse("states[2].clock", json_string("ticking"), "states[2].clock", "one of");
	refuse("states[5].terminal", json_string("yes"), "states[5].terminal", NULL);
	refuse("states[1].applicant_turn", json_integer(1), "states[1].applicant_turn", NULL);
	refuse("states[5].clock", json_string("running"), "states[5].clock", "terminal");
	refuse("states[5].limit_days", json_integer(3), "states[5].limit_days", "terminal");
	refuse("states[5].applicant_turn", json_true(), "states[5].applicant_turn", "terminal");
	def = tb_workflow_json(tb_workflow_default());
	set_at(def, "states[0].limit_days", NULL);
	set_at(def, "states[0].terminal", json_true());
	assert_int_equal(tb_workflow_parse(def, &wf_a, &err), TB_EINVAL);
	assert_string_equal(err.field, "states[0].terminal");
	assert_non_null(strstr(err.msg, "first"));
	json_decref(def);
}

static void test_parse_action_members(void **state)
{
	(void)state;
	refuse("actions[0].bogus", json_true(), "actions[0].bogus", "unknown");
	refuse("actions[0].name", json_string("Accept"), "actions[0].name", NULL);
	refuse("actions[1].name", json_string("accept"), "actions[1].name", "repeated");
	refuse("actions[0].label", NULL, "actions[0].label", "required");
	refuse("actions[0].label", json_string("accept"), "actions[0].label", "Chinese");
	/* from */
	refuse("actions[4].from", NULL, "actions[4].from", "required");
	refuse("actions[4].from", json_array(), "actions[4].from", "at least one");
	refuse("actions[4].from", json_string("submitted"), "actions[4].from", "array");
	refuse("actions[4].from", J("[\"submitted\", \"correction\", \"nowhere\"]"),
	       "actions[4].from[2]", "state");
	refuse("actions[4].from", J("[\"submitted\", 7]"), "actions[4].from[1]", "state");
	refuse("actions[4].from", J("[\"submitted\", \"submitted\"]"), "actions[4].from[1]",
	       "repeated");
	refuse("actions[9].from", J("[\"completed\"]"), "actions[9].from[0]", "terminal");
	/* to */
	refuse("actions[3].to", json_string("nowhere"), "actions[3].to", "state");
	refuse("actions[3].to", json_integer(5), "actions[3].to", "state");
	/* actor and roles */
	refuse("actions[0].actor", NULL, "actions[0].actor", "required");
	refuse("actions[0].actor", json_string("robot"), "actions[0].actor", "one of");
	refuse("actions[0].roles", NULL, "actions[0].roles", "required");
	refuse("actions[0].roles", json_array(), "actions[0].roles", "at least one role");
	refuse("actions[0].roles", J("[\"janitor\"]"), "actions[0].roles[0]", "role");
	refuse("actions[0].roles", J("[\"clerk\", \"clerk\"]"), "actions[0].roles[1]", "repeated");
	refuse("actions[0].roles", J("\"clerk\""), "actions[0].roles", "array");
	refuse("actions[3].roles", J("[\"clerk\"]"), "actions[3].roles", "applicant");
	/* needs, case types, effect */
	refuse("actions[0].comment", json_string("maybe"), "actions[0].comment", "one of");
	refuse("actions[0].material", json_string("lots"), "actions[0].material", "one of");
	refuse("actions[0].effect", json_string("explode"), "actions[0].effect", "one of");
	refuse("actions[8].case_types", J("[\"3\"]"), "actions[8].case_types[0]", NULL);
	refuse("actions[8].case_types", J("[1]"), "actions[8].case_types[0]", NULL);
	refuse("actions[8].case_types", json_array(), "actions[8].case_types", "at least one");
	refuse("actions[8].case_types", J("[\"1\", \"1\"]"), "actions[8].case_types[1]",
	       "repeated");
	refuse("actions[8].case_types", J("[\"1\", \"2\", \"1\"]"), "actions[8].case_types",
	       "more than 2");
}

/* What effects ask of their actions. */
static void test_parse_effects(void **state)
{
	(void)state;
	/* withdraw is the applicant's, grant staff's */
	json_t *def = tb_workflow_json(tb_workflow_default());
	set_at(def, "actions[4].actor", json_string("staff"));
	set_at(def, "actions[4].roles", J("[\"clerk\"]"));
	struct tb_err err = {0};
	assert_int_equal(tb_workflow_parse(def, &wf_a, &err), TB_EINVAL);
	assert_string_equal(err.field, "actions[4].actor");
	json_decref(def);
	def = tb_workflow_json(tb_workflow_default());
	set_at(def, "actions[6].actor", json_string("applicant"));
	set_at(def, "actions[6].roles", NULL);
	assert_int_equal(tb_workflow_parse(def, &wf_a, &err), TB_EINVAL);
	assert_string_equal(err.field, "actions[6].actor");
	json_decref(def);
	/* start_procedure stays, accept moves */
	refuse("actions[10].to", json_string("accepted"), "actions[10].to", "must be null");
	refuse("actions[13].to", json_string("decided"), "actions[13].to", "must be null");
	refuse("actions[0].to", json_null(), "actions[0].to", "must name a state");
	refuse("actions[0].to", NULL, "actions[0].to", "must name a state");
	/* ends go to terminal states, corrections to the applicant */
	refuse("actions[9].to", json_string("decided"), "actions[9].to", "terminal");
	refuse("actions[4].to", json_string("submitted"), "actions[4].to", "terminal");
	refuse("actions[1].to", json_string("correction"), "actions[1].to", "terminal");
	refuse("actions[2].to", json_string("accepted"), "actions[2].to", "applicant_turn");
	refuse("actions[3].from", J("[\"accepted\"]"), "actions[3].from", "applicant_turn");

	/* reasons cannot be optional: parse makes them required */
	const int reasoned[] = {1, 2, 7, 10, 12}; /* not_accept, request_correction, refuse,
						     start_procedure, request_extension */
	for (size_t i = 0; i < TB_ARRAY_LEN(reasoned); i++) {
		char path[64];
		def = tb_workflow_json(tb_workflow_default());
		snprintf(path, sizeof(path), "actions[%d].comment", reasoned[i]);
		set_at(def, path, json_string(i % 2 ? "none" : "optional"));
		assert_int_equal(tb_workflow_parse(def, &wf_a, &err), TB_OK);
		assert_int_equal(wf_a.actions[reasoned[i]].comment, TB_WF_REQUIRED);
		json_decref(def);
	}
	/* a grant does not need one */
	def = tb_workflow_json(tb_workflow_default());
	set_at(def, "actions[6].comment", json_string("none"));
	assert_int_equal(tb_workflow_parse(def, &wf_a, &err), TB_OK);
	assert_int_equal(wf_a.actions[6].comment, TB_WF_NONE);
	json_decref(def);
}

/* The shape of the graph. */
static void test_parse_graph(void **state)
{
	(void)state;
	json_t *def = tb_workflow_json(tb_workflow_default());
	struct tb_err err = {0};
	/* a state no action leads to */
	json_array_append_new(json_object_get(def, "states"),
			      J("{\"name\": \"orphan\", \"label\": \"孤立\"}"));
	assert_int_equal(tb_workflow_parse(def, &wf_a, &err), TB_EINVAL);
	assert_string_equal(err.field, "states[8]");
	assert_non_null(strstr(err.msg, "reached"));
	/* reached, but a dead end */
	json_array_append_new(json_object_get(def, "actions"),
			      J("{\"name\": \"park\", \"label\": \"挂起\", \"from\": "
				"[\"under_review\"], \"to\": \"orphan\", \"actor\": \"staff\", "
				"\"roles\": [\"approver\"]}"));
	assert_int_equal(tb_workflow_parse(def, &wf_a, &err), TB_EINVAL);
	assert_string_equal(err.field, "states[8]");
	assert_non_null(strstr(err.msg, "no action leaves"));
	/* a way out: accepted */
	json_array_append_new(json_object_get(def, "actions"),
			      J("{\"name\": \"resume\", \"label\": \"恢复\", \"from\": "
				"[\"orphan\"], \"to\": \"under_review\", \"actor\": \"staff\", "
				"\"roles\": [\"approver\"]}"));
	assert_int_equal(tb_workflow_parse(def, &wf_a, &err), TB_OK);
	assert_int_equal(wf_a.nstates, 9);
	json_decref(def);
	/* reachable only through a state that cannot be reached */
	refuse("actions[5].from", J("[\"withdrawn\"]"), "actions[5].from[0]", "terminal");
	refuse("actions[0].from", J("[\"accepted\"]"), "states[2]", "reached");
	/* a loop that never ends */
	refuse_text("{\"name\": \"循环\", \"states\": [{\"name\": \"a\", \"label\": \"甲\"},"
		    " {\"name\": \"b\", \"label\": \"乙\"}], \"actions\": ["
		    " {\"name\": \"go\", \"label\": \"去\", \"from\": [\"a\"], \"to\": \"b\","
		    "  \"actor\": \"staff\", \"roles\": [\"clerk\"]},"
		    " {\"name\": \"back\", \"label\": \"回\", \"from\": [\"b\"], \"to\": \"a\","
		    "  \"actor\": \"applicant\"}]}",
		    "states", "terminal");
	/* staying is not leaving */
	refuse_text("{\"name\": \"停\", \"states\": [{\"name\": \"a\", \"label\": \"甲\"},"
		    " {\"name\": \"z\", \"label\": \"终\", \"terminal\": true}], \"actions\": ["
		    " {\"name\": \"stay\", \"label\": \"留\", \"from\": [\"a\"], \"to\": \"a\","
		    "  \"actor\": \"staff\", \"roles\": [\"clerk\"]}]}",
		    "states[0]", "no action leaves");
}

/* ---- time limits ---- */

static struct tb_deadline dl(const char *start, int value, enum tb_limit_unit unit, int ext,
			     const struct tb_pause *p, size_t np, const char *today)
{
	struct tb_limit lim = {value, unit, ext};
	struct tb_deadline out;
	tb_deadline_compute(&cal, D(start), &lim, p, np, D(today), 20, &out);
	return out;
}

static void test_deadline_national_day(void **state)
{
	(void)state;
	/* Accepted on Tuesday 2025-09-30, 20 working days (art. 42). 10-01..10-08 are off
	 * (National Day and Mid-Autumn), the make-up Sunday 09-28 lies before the start and
	 * does not count, the make-up Saturday 10-11 does:
	 *   10-09 Thu 1, 10-10 Fri 2, 10-11 Sat 3, 10-13..10-17 4-8, 10-20..10-24 9-13,
	 *   10-27..10-31 14-18, 11-03 Mon 19, 11-04 Tue 20. */
	struct tb_deadline d = dl("2025-09-30", 20, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2025-10-01");
	assert_string_equal(F(d.due), "2025-11-04");
	assert_int_equal(d.total, 20);
	assert_int_equal(d.remaining, 20); /* a holiday: nothing used yet */
	assert_int_equal(d.overdue, 0);
	assert_false(d.paused);
	assert_false(d.near_due);
	assert_true(d.covered);
	/* 20% of 20 is 4: near due from the 16th working day, 10-29 */
	assert_string_equal(F(d.warn), "2025-10-29");
	d = dl("2025-09-30", 20, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2025-10-11");
	assert_int_equal(d.remaining, 17);

	/* Accepted on Friday 09-26: the make-up Sunday 09-28 counts (1), 09-29 2, 09-30 3,
	 * 10-09 4, 10-10 5, 10-11 6, 10-13..17 7-11, 10-20..24 12-16, 10-27..30 17-20. */
	d = dl("2025-09-26", 20, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2025-09-26");
	assert_string_equal(F(d.due), "2025-10-30");
	assert_string_equal(F(d.warn), "2025-10-24");
	assert_int_equal(d.remaining, 20);
}

static void test_deadline_spring_festival(void **state)
{
	(void)state;
	/* Accepted on Tuesday 2026-02-10, 10 working days: 02-11 1, 02-12 2, 02-13 3, the
	 * make-up Saturday 02-14 4, 02-15..02-23 off, 02-24 5, 02-25 6, 02-26 7, 02-27 8,
	 * the make-up Saturday 02-28 9, Monday 03-02 10. */
	struct tb_deadline d = dl("2026-02-10", 10, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2026-02-18");
	assert_string_equal(F(d.due), "2026-03-02");
	assert_int_equal(d.total, 10);
	assert_int_equal(d.remaining, 6); /* 02-14 was the 4th */
	/* 20% of 10 is 2: near due from the 8th, 02-27 */
	assert_string_equal(F(d.warn), "2026-02-27");
	assert_false(d.near_due);
	d = dl("2026-02-10", 10, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2026-02-27");
	assert_true(d.near_due);
	assert_int_equal(d.remaining, 2);
	d = dl("2026-02-10", 10, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2026-03-01"); /* Sunday */
	assert_int_equal(d.remaining, 1);
	assert_true(d.near_due);
}

static void test_deadline_pauses(void **state)
{
	(void)state;
	/* An expert review from 09-30 to 10-10 (art. 45) removes (09-30, 10-10]: the
	 * holiday was not counted anyway, so only 10-09 and 10-10 come back: due moves two
	 * working days, 11-04 -> 11-06. */
	struct tb_pause p1 = {D("2025-09-30"), D("2025-10-10")};
	struct tb_deadline d = dl("2025-09-30", 20, TB_UNIT_WORKING_DAY, 0, &p1, 1, "2025-10-20");
	assert_string_equal(F(d.due), "2025-11-06");
	assert_int_equal(d.total, 20);
	assert_false(d.paused);
	/* used by 10-20: 10-11, 10-13..17, 10-20 = 7 */
	assert_int_equal(d.remaining, 13);
	/* a procedure that starts and ends on the same day removes nothing */
	struct tb_pause p0 = {D("2025-10-15"), D("2025-10-15")};
	d = dl("2025-09-30", 20, TB_UNIT_WORKING_DAY, 0, &p0, 1, "2025-10-20");
	assert_string_equal(F(d.due), "2025-11-04");
	/* two procedures: (10-15, 10-16] one day, (10-21, 10-23] two: 11-04 -> 11-07 */
	struct tb_pause p2[] = {{D("2025-10-15"), D("2025-10-16")},
				{D("2025-10-21"), D("2025-10-23")}};
	d = dl("2025-09-30", 20, TB_UNIT_WORKING_DAY, 0, p2, 2, "2025-10-24");
	assert_string_equal(F(d.due), "2025-11-07");
	assert_int_equal(d.total, 20);
}

static void test_deadline_open_pause(void **state)
{
	(void)state;
	/* A hearing opened on Monday 10-20 and still open: (10-20, today] is removed and the
	 * due date provisional. On 10-24 four working days are out: 11-04 -> 11-10. */
	struct tb_pause p = {D("2025-10-20"), 0};
	struct tb_deadline d = dl("2025-09-30", 20, TB_UNIT_WORKING_DAY, 0, &p, 1, "2025-10-24");
	assert_true(d.paused);
	assert_string_equal(F(d.due), "2025-11-10");
	assert_int_equal(d.total, 20);
	/* remaining stands at what it was on 10-20: 10-21..24, 10-27..31, 11-03, 11-04 */
	assert_int_equal(d.remaining, 11);
	/* near due (16th counted day): 10-09..11, 10-13..17, 10-20 are 9; 10-27..31 and
	 * 11-03, 11-04 are 16 */
	assert_string_equal(F(d.warn), "2025-11-04");
	assert_false(d.near_due);
	/* four days later: 10-27, 10-28 are out too, due 11-12, remaining still 11 */
	d = dl("2025-09-30", 20, TB_UNIT_WORKING_DAY, 0, &p, 1, "2025-10-28");
	assert_string_equal(F(d.due), "2025-11-12");
	assert_int_equal(d.remaining, 11);
	assert_true(d.paused);
	/* closed on 10-28: the same due date, and the clock runs again */
	struct tb_pause closed = {D("2025-10-20"), D("2025-10-28")};
	d = dl("2025-09-30", 20, TB_UNIT_WORKING_DAY, 0, &closed, 1, "2025-10-29");
	assert_string_equal(F(d.due), "2025-11-12");
	assert_false(d.paused);
	assert_int_equal(d.remaining, 10);
	/* opened today: nothing removed yet, but paused */
	struct tb_pause today = {D("2025-10-24"), 0};
	d = dl("2025-09-30", 20, TB_UNIT_WORKING_DAY, 0, &today, 1, "2025-10-24");
	assert_true(d.paused);
	assert_string_equal(F(d.due), "2025-11-04");
	assert_int_equal(d.remaining, 7);
}

static void test_deadline_extension(void **state)
{
	(void)state;
	/* +10 working days on approval (art. 42): 11-04 is the 20th; 11-05..07 23,
	 * 11-10..14 28, 11-17 29, 11-18 30 */
	struct tb_deadline d = dl("2025-09-30", 20, TB_UNIT_WORKING_DAY, 10, NULL, 0, "2025-11-05");
	assert_string_equal(F(d.due), "2025-11-18");
	assert_int_equal(d.total, 30);
	assert_int_equal(d.remaining, 9);
	assert_int_equal(d.overdue, 0);
	/* 20% of 30 is 6: the 24th day, 11-10 */
	assert_string_equal(F(d.warn), "2025-11-10");
	assert_false(d.near_due);
	/* without the extension the same day is one working day late */
	d = dl("2025-09-30", 20, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2025-11-05");
	assert_int_equal(d.overdue, 1);
	assert_int_equal(d.remaining, 0);
	assert_false(d.near_due);
}

static void test_deadline_natural_days_and_months(void **state)
{
	(void)state;
	/* 30 natural days from 09-30: 10-30, holidays and all; its working days: 10-09,
	 * 10-10, 10-11, 10-13..17, 10-20..24, 10-27..30 = 17 */
	struct tb_deadline d = dl("2025-09-30", 30, TB_UNIT_NATURAL_DAY, 0, NULL, 0, "2025-10-01");
	assert_string_equal(F(d.due), "2025-10-30");
	assert_int_equal(d.total, 17);
	assert_int_equal(d.remaining, 17);
	/* a pause removes natural days: (10-05, 10-08] is three */
	struct tb_pause p = {D("2025-10-05"), D("2025-10-08")};
	d = dl("2025-09-30", 30, TB_UNIT_NATURAL_DAY, 0, &p, 1, "2025-10-09");
	assert_string_equal(F(d.due), "2025-11-02");
	/* natural-day extension */
	d = dl("2025-09-30", 30, TB_UNIT_NATURAL_DAY, 5, NULL, 0, "2025-10-09");
	assert_string_equal(F(d.due), "2025-11-04");
	/* months: the same day number, clamped to the month's end */
	d = dl("2025-01-31", 1, TB_UNIT_MONTH, 0, NULL, 0, "2025-02-01");
	assert_string_equal(F(d.due), "2025-02-28");
	d = dl("2024-01-31", 1, TB_UNIT_MONTH, 0, NULL, 0, "2024-02-01");
	assert_string_equal(F(d.due), "2024-02-29");
	d = dl("2025-10-31", 1, TB_UNIT_MONTH, 0, NULL, 0, "2025-11-01");
	assert_string_equal(F(d.due), "2025-11-30");
	d = dl("2025-11-30", 3, TB_UNIT_MONTH, 0, NULL, 0, "2025-12-01");
	assert_string_equal(F(d.due), "2026-02-28");
	d = dl("2025-03-15", 12, TB_UNIT_MONTH, 0, NULL, 0, "2025-03-16");
	assert_string_equal(F(d.due), "2026-03-15");
	d = dl("2025-01-31", 1, TB_UNIT_MONTH, 1, NULL, 0, "2025-02-01"); /* extension: 2 */
	assert_string_equal(F(d.due), "2025-03-31");
	/* a month with a pause of three natural days: 02-28 -> 03-03 */
	struct tb_pause pm = {D("2025-02-10"), D("2025-02-13")};
	d = dl("2025-01-31", 1, TB_UNIT_MONTH, 0, &pm, 1, "2025-02-14");
	assert_string_equal(F(d.due), "2025-03-03");
	/* hours: the day on which they run out at the latest */
	d = dl("2025-09-30", 24, TB_UNIT_HOUR, 0, NULL, 0, "2025-09-30");
	assert_string_equal(F(d.due), "2025-10-01");
	d = dl("2025-09-30", 25, TB_UNIT_HOUR, 0, NULL, 0, "2025-09-30");
	assert_string_equal(F(d.due), "2025-10-02");
	d = dl("2025-09-30", 1, TB_UNIT_HOUR, 0, NULL, 0, "2025-09-30");
	assert_string_equal(F(d.due), "2025-10-01");
	d = dl("2025-09-30", 48, TB_UNIT_HOUR, 3, NULL, 0, "2025-09-30"); /* no extension */
	assert_string_equal(F(d.due), "2025-10-02");
	assert_int_equal(d.total, 0); /* both holidays */
	d = dl("2025-09-30", 0, TB_UNIT_HOUR, 0, NULL, 0, "2025-09-30");
	assert_string_equal(F(d.due), "2025-09-30");
}

static void test_deadline_near_due_and_overdue(void **state)
{
	(void)state;
	/* November 2025 has no holidays. From Monday 11-03, 20 working days: 11-04..07 4,
	 * 11-10..14 9, 11-17..21 14, 11-24..28 19, Monday 12-01 20. */
	struct tb_deadline d = dl("2025-11-03", 20, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2025-11-24");
	assert_string_equal(F(d.due), "2025-12-01");
	assert_string_equal(F(d.warn), "2025-11-25");
	assert_int_equal(d.remaining, 5); /* 5 of 20 is 25%: not yet */
	assert_false(d.near_due);
	d = dl("2025-11-03", 20, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2025-11-25");
	assert_int_equal(d.remaining, 4); /* 4 of 20 is 20% */
	assert_true(d.near_due);
	d = dl("2025-11-03", 20, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2025-11-29"); /* Saturday */
	assert_int_equal(d.remaining, 1);
	assert_true(d.near_due);
	d = dl("2025-11-03", 20, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2025-12-01"); /* due */
	assert_int_equal(d.remaining, 0);
	assert_int_equal(d.overdue, 0);
	assert_true(d.near_due);
	d = dl("2025-11-03", 20, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2025-12-02");
	assert_int_equal(d.remaining, 0);
	assert_int_equal(d.overdue, 1);
	assert_false(d.near_due);
	d = dl("2025-11-03", 20, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2025-12-08");
	assert_int_equal(d.overdue, 5);
	/* overdue across New Year 2026 (01-01..03 off, Sunday 01-04 worked): from 12-31 to
	 * 01-05 two working days (01-04, 01-05) */
	d = dl("2025-12-02", 21, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2026-01-05");
	assert_string_equal(F(d.due), "2025-12-31");
	assert_int_equal(d.overdue, 2);
	/* a procedure opened after due does not stop the overdue count */
	struct tb_pause late = {D("2026-01-04"), 0};
	d = dl("2025-12-02", 21, TB_UNIT_WORKING_DAY, 0, &late, 1, "2026-01-05");
	assert_string_equal(F(d.due), "2025-12-31");
	assert_int_equal(d.overdue, 2);
	assert_true(d.paused);

	/* another share */
	struct tb_limit lim = {20, TB_UNIT_WORKING_DAY, 0};
	tb_deadline_compute(&cal, D("2025-11-03"), &lim, NULL, 0, D("2025-11-17"), 50, &d);
	assert_string_equal(F(d.warn), "2025-11-17"); /* the 10th: 11-04..07, 11-10..14, 11-17 */
	assert_true(d.near_due);
	assert_int_equal(d.remaining, 10);
	tb_deadline_compute(&cal, D("2025-11-03"), &lim, NULL, 0, D("2025-11-14"), 50, &d);
	assert_false(d.near_due);
	/* out of range means 20 */
	tb_deadline_compute(&cal, D("2025-11-03"), &lim, NULL, 0, D("2025-11-13"), 0, &d);
	assert_string_equal(F(d.warn), "2025-11-25");
	tb_deadline_compute(&cal, D("2025-11-03"), &lim, NULL, 0, D("2025-11-13"), 100, &d);
	assert_string_equal(F(d.warn), "2025-11-25");

	/* tiny limits: 20% rounds down to none, and the warning comes with one day left */
	d = dl("2025-11-03", 3, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2025-11-04");
	assert_string_equal(F(d.due), "2025-11-06");
	assert_string_equal(F(d.warn), "2025-11-05");
	assert_false(d.near_due);
	d = dl("2025-11-03", 1, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2025-11-03");
	assert_string_equal(F(d.due), "2025-11-04");
	assert_string_equal(F(d.warn), "2025-11-03");
	assert_true(d.near_due);
	assert_int_equal(d.remaining, 1);
	d = dl("2025-11-03", 0, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2025-11-03");
	assert_string_equal(F(d.due), "2025-11-03");
	assert_string_equal(F(d.warn), "2025-11-03");
	assert_int_equal(d.total, 0);
	assert_int_equal(d.remaining, 0);
	assert_int_equal(d.overdue, 0);
	assert_true(d.near_due);
	/* 5 days: 20% is exactly 1 */
	d = dl("2025-11-03", 5, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2025-11-03");
	assert_string_equal(F(d.warn), "2025-11-07");
	assert_string_equal(F(d.due), "2025-11-10");
}

static void test_deadline_coverage(void **state)
{
	(void)state;
	/* Accepted 2026-11-25 (Wednesday), 20 working days: 2026 has no holiday left after
	 * National Day, so 11-26, 11-27 2, 11-30..12-04 7, 12-07..11 12, 12-14..18 17,
	 * 12-21..23 20: due 12-23, within the calendar. */
	struct tb_deadline d = dl("2026-11-25", 20, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2026-11-25");
	assert_string_equal(F(d.due), "2026-12-23");
	assert_true(d.covered);
	/* 60 from 12-01 runs into 2027, whose notice is not loaded: only weekends are known
	 * there (so 2027-01-01 counts), and the answer says it is not covered */
	d = dl("2026-12-01", 60, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2026-12-01");
	assert_string_equal(F(d.due), "2027-02-23");
	assert_false(d.covered);
	/* a start before the calendar */
	d = dl("2023-12-20", 5, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2023-12-20");
	assert_false(d.covered);
	d = dl("2025-12-31", 1, TB_UNIT_WORKING_DAY, 0, NULL, 0, "2025-12-31");
	assert_string_equal(F(d.due), "2026-01-04");
	assert_true(d.covered);
}

/* Without pauses, working-day limits agree with the calendar's own arithmetic over
 * every start in 2024-2026 (holidays, make-up days and year ends included). */
static void test_deadline_agrees_with_calendar(void **state)
{
	(void)state;
	struct tb_limit lim = {0, TB_UNIT_WORKING_DAY, 0};
	struct tb_deadline d;
	for (tb_date s = D("2024-01-01"); s <= D("2026-10-31"); s += 3)
		for (int n = 0; n <= 45; n += 4) {
			lim.value = n - n / 3, lim.extension = n / 3;
			tb_date today = s + n % 17;
			tb_deadline_compute(&cal, s, &lim, NULL, 0, today, 20, &d);
			assert_int_equal(d.due, tb_calendar_add_workdays(&cal, s, n));
			assert_int_equal(d.total, n);
			assert_int_equal(d.remaining,
					 tb_calendar_workdays_between(&cal, today, d.due));
			assert_int_equal(d.overdue,
					 tb_calendar_workdays_between(&cal, d.due, today));
			assert_true(d.warn >= s && d.warn <= d.due);
			assert_true(n == 0 || d.warn < d.due);
			/* on warn at most 20% remain (at least one), the day before more */
			int left = n / 5 > 0 ? n / 5 : 1;
			assert_true(tb_calendar_workdays_between(&cal, d.warn, d.due) <= left ||
				    n == 0);
			if (d.warn > s)
				assert_true(tb_calendar_workdays_between(&cal, d.warn - 1, d.due) >
					    left);
			assert_false(d.paused);
			assert_true(d.covered);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_states),
	    cmocka_unit_test(test_default_actions),
	    cmocka_unit_test(test_default_allows),
	    cmocka_unit_test(test_default_allowed),
	    cmocka_unit_test(test_effect_names),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_parse_document),
	    cmocka_unit_test(test_parse_state_members),
	    cmocka_unit_test(test_parse_action_members),
	    cmocka_unit_test(test_parse_effects),
	    cmocka_unit_test(test_parse_graph),
	    cmocka_unit_test(test_deadline_national_day),
	    cmocka_unit_test(test_deadline_spring_festival),
	    cmocka_unit_test(test_deadline_pauses),
	    cmocka_unit_test(test_deadline_open_pause),
	    cmocka_unit_test(test_deadline_extension),
	    cmocka_unit_test(test_deadline_natural_days_and_months),
	    cmocka_unit_test(test_deadline_near_due_and_overdue),
	    cmocka_unit_test(test_deadline_coverage),
	    cmocka_unit_test(test_deadline_agrees_with_calendar),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
