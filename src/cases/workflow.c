/* workflow.c: workflow definitions as data, the default workflow of the
 * Administrative Licensing Law, and time limits over the working-day calendar
 * (workflow.h). */
#include "cases/workflow.h"
#include "base/jsonv.h"
#include "base/principal.h"
#include "base/text.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ---- names ---- */

static const char *const effect_names[] = {"none",
					   "start_clock",
					   "decide_granted",
					   "decide_refused",
					   "complete",
					   "withdraw",
					   "request_correction",
					   "respond_correction",
					   "start_procedure",
					   "end_procedure",
					   "request_extension",
					   "approve_extension",
					   "not_accept",
					   NULL};
static const char *const need_names[] = {"none", "optional", "required", NULL};
static const char *const actor_names[] = {"staff", "applicant", NULL};
static const char *const clock_names[] = {"stopped", "running", NULL};
static const char *const case_type_names[] = {"1", "2", NULL};

const char *tb_wf_effect_name(enum tb_wf_effect e)
{
	if ((unsigned)e >= TB_ARRAY_LEN(effect_names) - 1)
		return NULL;
	return effect_names[e];
}

/* What an effect asks of the action that carries it, so that a definition cannot ask
 * the cases block for something it cannot do (a withdrawal that leaves the case open,
 * a decision without reasons). */
enum move { MOVE_ANY, MOVE_STAYS, MOVE_CHANGES };
static const struct {
	bool comment;	     /* forced "required" by parse */
	int actor;	     /* -1 any, else enum tb_wf_actor */
	enum move move;	     /* whether `to` must be null or a state */
	bool to_terminal;    /* `to` must be a terminal state */
	bool to_applicant;   /* `to` must be an applicant_turn state */
	bool from_applicant; /* every `from` must be an applicant_turn state */
} effect_rules[] = {
    [TB_EFFECT_NONE] = {false, -1, MOVE_ANY, false, false, false},
    [TB_EFFECT_START_CLOCK] = {false, TB_WF_STAFF, MOVE_CHANGES, false, false, false},
    [TB_EFFECT_DECIDE_GRANTED] = {false, TB_WF_STAFF, MOVE_CHANGES, false, false, false},
    [TB_EFFECT_DECIDE_REFUSED] = {true, TB_WF_STAFF, MOVE_CHANGES, false, false, false},
    [TB_EFFECT_COMPLETE] = {false, TB_WF_STAFF, MOVE_CHANGES, true, false, false},
    [TB_EFFECT_WITHDRAW] = {false, TB_WF_APPLICANT, MOVE_CHANGES, true, false, false},
    [TB_EFFECT_REQUEST_CORRECTION] = {true, TB_WF_STAFF, MOVE_CHANGES, false, true, false},
    [TB_EFFECT_RESPOND_CORRECTION] = {false, TB_WF_APPLICANT, MOVE_CHANGES, false, false, true},
    [TB_EFFECT_START_PROCEDURE] = {true, TB_WF_STAFF, MOVE_STAYS, false, false, false},
    [TB_EFFECT_END_PROCEDURE] = {false, TB_WF_STAFF, MOVE_STAYS, false, false, false},
    [TB_EFFECT_REQUEST_EXTENSION] = {true, TB_WF_STAFF, MOVE_STAYS, false, false, false},
    [TB_EFFECT_APPROVE_EXTENSION] = {false, TB_WF_STAFF, MOVE_STAYS, false, false, false},
    [TB_EFFECT_NOT_ACCEPT] = {true, TB_WF_STAFF, MOVE_CHANGES, true, false, false},
};

#define LABEL_CHARS 60
#define NAME_CHARS  120

/* ---- parse ---- */

static int lookup(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > TB_WF_NAME || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static bool has_han(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	while (n) {
		uint32_t cp;
		int l = tb_utf8_decode(p, n, &cp);
		if (tb_text_is_han(cp))
			return true;
		p += l, n -= (size_t)l;
	}
	return false;
}

/* A `name` member matching the pattern, into out. */
static bool parse_name(json_t *obj, const char *path, char *out, struct tb_err *err)
{
	const char *s;
	if (!tb_jv_str(obj, path, "name", true, TB_WF_NAME, &s, err))
		return false;
	if (!valid_name(s)) {
		tb_fail(err, TB_EINVAL, tb_jv_path(path, "name"),
			"must match [a-z][a-z0-9_]{0,39}");
		return false;
	}
	strcpy(out, s);
	return true;
}

/* A `label` member: shown to applicants and staff, so it is required and Chinese
 * (holds at least one Han character). */
static bool parse_label(json_t *obj, const char *path, char *out, size_t size, struct tb_err *err)
{
	const char *s;
	if (!tb_jv_str(obj, path, "label", true, LABEL_CHARS, &s, err))
		return false;
	if (!has_han(s)) {
		tb_fail(err, TB_EINVAL, tb_jv_path(path, "label"), "must be Chinese");
		return false;
	}
	snprintf(out, size, "%s", s);
	return true;
}

static bool parse_enum(json_t *obj, const char *path, const char *key, bool required,
		       const char *const *names, int dflt, int *out, struct tb_err *err)
{
	const char *s;
	if (!tb_jv_enum(obj, path, key, required, names, &s, err))
		return false;
	*out = s ? lookup(names, s) : dflt;
	return true;
}

static tb_rc parse_state(json_t *v, const char *path, struct tb_wf_state *st, struct tb_err *err)
{
	static const char *const known[] = {"name",	"label",	  "limit_days", "clock",
					    "terminal", "applicant_turn", NULL};
	long limit = 0;
	int clock = 0;
	if (!json_is_object(v))
		return tb_fail(err, TB_EINVAL, path, "must be an object");
	if (!tb_jv_known_fields(v, path, known, err) || !parse_name(v, path, st->name, err) ||
	    !parse_label(v, path, st->label, sizeof(st->label), err) ||
	    !tb_jv_int(v, path, "limit_days", false, 0, 365, &limit, err) ||
	    !parse_enum(v, path, "clock", false, clock_names, 0, &clock, err) ||
	    !tb_jv_bool(v, path, "terminal", false, &st->terminal, err) ||
	    !tb_jv_bool(v, path, "applicant_turn", false, &st->applicant_turn, err))
		return TB_EINVAL;
	st->limit_days = (int)limit;
	st->clock_running = clock == 1;
	if (st->terminal) {
		/* a case that has ended waits for nobody and has no time left to count */
		if (st->clock_running)
			return tb_fail(err, TB_EINVAL, tb_jv_path(path, "clock"),
				       "a terminal state's clock cannot run");
		if (st->limit_days)
			return tb_fail(err, TB_EINVAL, tb_jv_path(path, "limit_days"),
				       "a terminal state has no time limit");
		if (st->applicant_turn)
			return tb_fail(err, TB_EINVAL, tb_jv_path(path, "applicant_turn"),
				       "a terminal state waits for nobody");
	}
	return TB_OK;
}

static tb_rc parse_action(json_t *v, const char *path, const struct tb_workflow *wf,
			  struct tb_wf_action *a, struct tb_err *err)
{
	static const char *const known[] = {"name",	  "label",  "from",    "to",
					    "actor",	  "roles",  "comment", "material",
					    "case_types", "effect", NULL};
	char field[96];
	json_t *from, *roles;
	int actor, comment, material, effect;
	if (!json_is_object(v))
		return tb_fail(err, TB_EINVAL, path, "must be an object");
	if (!tb_jv_known_fields(v, path, known, err) || !parse_name(v, path, a->name, err) ||
	    !parse_label(v, path, a->label, sizeof(a->label), err))
		return TB_EINVAL;

	/* from: a non-empty set of states */
	if (!tb_jv_array(v, path, "from", true, 32, &from, err))
		return TB_EINVAL;
	if (!json_array_size(from))
		return tb_fail(err, TB_EINVAL, tb_jv_path(path, "from"),
			       "must name at least one state");
	a->from = 0;
	for (size_t i = 0; i < json_array_size(from); i++) {
		const char *s = json_string_value(json_array_get(from, i));
		snprintf(field, sizeof(field), "%s.from[%zu]", path, i);
		int k = s ? tb_workflow_state(wf, s) : -1;
		if (k < 0)
			return tb_fail(err, TB_EINVAL, field, "must name a state");
		if (a->from & (1ull << k))
			return tb_fail(err, TB_EINVAL, field, "'%s' is repeated", s);
		if (wf->states[k].terminal)
			return tb_fail(err, TB_EINVAL, field,
				       "'%s' is terminal: no action leaves it", s);
		a->from |= 1ull << k;
	}

	/* to: a state, or null (absent) for an action that leaves the state as it is */
	json_t *to = json_object_get(v, "to");
	a->to = -1;
	if (to && !json_is_null(to)) {
		const char *s = json_string_value(to);
		a->to = s ? tb_workflow_state(wf, s) : -1;
		if (a->to < 0)
			return tb_fail(err, TB_EINVAL, tb_jv_path(path, "to"),
				       "must name a state or be null");
	}

	if (!parse_enum(v, path, "actor", true, actor_names, 0, &actor, err))
		return TB_EINVAL;
	a->actor = (enum tb_wf_actor)actor;

	/* roles: staff actions name the roles that may take them; applicants have none */
	a->roles = 0;
	if (!tb_jv_array(v, path, "roles", a->actor == TB_WF_STAFF, 8, &roles, err))
		return TB_EINVAL;
	if (a->actor == TB_WF_APPLICANT && json_array_size(roles))
		return tb_fail(err, TB_EINVAL, tb_jv_path(path, "roles"),
			       "an applicant's action has no staff roles");
	if (a->actor == TB_WF_STAFF && !json_array_size(roles))
		return tb_fail(err, TB_EINVAL, tb_jv_path(path, "roles"),
			       "must name at least one role");
	for (size_t i = 0; i < json_array_size(roles); i++) {
		const char *s = json_string_value(json_array_get(roles, i));
		unsigned bit = s ? tb_role_from_name(s) : 0;
		snprintf(field, sizeof(field), "%s.roles[%zu]", path, i);
		if (!bit)
			return tb_fail(err, TB_EINVAL, field, "must be a staff role");
		if (a->roles & bit)
			return tb_fail(err, TB_EINVAL, field, "'%s' is repeated", s);
		a->roles |= bit;
	}

	if (!parse_enum(v, path, "comment", false, need_names, TB_WF_NONE, &comment, err) ||
	    !parse_enum(v, path, "material", false, need_names, TB_WF_NONE, &material, err) ||
	    !parse_enum(v, path, "effect", false, effect_names, TB_EFFECT_NONE, &effect, err))
		return TB_EINVAL;
	a->comment = (enum tb_wf_need)comment;
	a->material = (enum tb_wf_need)material;
	a->effect = (enum tb_wf_effect)effect;

	json_t *types;
	if (!tb_jv_array(v, path, "case_types", false, 2, &types, err))
		return TB_EINVAL;
	if (types && !json_array_size(types))
		return tb_fail(err, TB_EINVAL, tb_jv_path(path, "case_types"),
			       "must name at least one case type (leave it out for any)");
	unsigned mask;
	if (!tb_jv_str_set(v, path, "case_types", false, case_type_names, 2, &mask, err))
		return TB_EINVAL;
	/* bit i of mask is case_type_names[i] = "i+1"; the header's bit n is type "n" */
	a->case_types = mask << 1;

	/* what the effect needs of the action */
	const char *en = effect_names[a->effect];
	if (effect_rules[a->effect].comment)
		a->comment = TB_WF_REQUIRED;
	if (effect_rules[a->effect].actor >= 0 && (int)a->actor != effect_rules[a->effect].actor)
		return tb_fail(err, TB_EINVAL, tb_jv_path(path, "actor"),
			       "the effect %s is taken by the %s", en,
			       actor_names[effect_rules[a->effect].actor]);
	if (effect_rules[a->effect].move == MOVE_STAYS && a->to >= 0)
		return tb_fail(err, TB_EINVAL, tb_jv_path(path, "to"),
			       "must be null: the effect %s leaves the state as it is", en);
	if (effect_rules[a->effect].move == MOVE_CHANGES && a->to < 0)
		return tb_fail(err, TB_EINVAL, tb_jv_path(path, "to"),
			       "must name a state: the effect %s moves the case", en);
	if (effect_rules[a->effect].to_terminal && !wf->states[a->to].terminal)
		return tb_fail(err, TB_EINVAL, tb_jv_path(path, "to"),
			       "must be a terminal state: the effect %s ends the case", en);
	if (effect_rules[a->effect].to_applicant && !wf->states[a->to].applicant_turn)
		return tb_fail(err, TB_EINVAL, tb_jv_path(path, "to"),
			       "must be a state with applicant_turn: the effect %s waits for "
			       "the applicant",
			       en);
	if (effect_rules[a->effect].from_applicant)
		for (int k = 0; k < wf->nstates; k++)
			if ((a->from >> k & 1) && !wf->states[k].applicant_turn)
				return tb_fail(err, TB_EINVAL, tb_jv_path(path, "from"),
					       "'%s' is not a state with applicant_turn: the "
					       "effect %s answers a correction request",
					       wf->states[k].name, en);
	return TB_OK;
}

tb_rc tb_workflow_parse(json_t *def, struct tb_workflow *wf, struct tb_err *err)
{
	static const char *const known[] = {"name", "states", "actions", NULL};
	const char *name;
	json_t *states, *actions;
	tb_rc rc;
	memset(wf, 0, sizeof(*wf));
	if (!json_is_object(def))
		return tb_fail(err, TB_EINVAL, "", "a workflow definition is a JSON object");
	if (!tb_jv_known_fields(def, "", known, err) ||
	    !tb_jv_str(def, "", "name", true, NAME_CHARS, &name, err) ||
	    !tb_jv_array(def, "", "states", true, TB_ARRAY_LEN(wf->states), &states, err) ||
	    !tb_jv_array(def, "", "actions", true, TB_ARRAY_LEN(wf->actions), &actions, err))
		return TB_EINVAL;
	snprintf(wf->name, sizeof(wf->name), "%s", name);
	if (!json_array_size(states))
		return tb_fail(err, TB_EINVAL, "states", "must hold at least one state");
	if (!json_array_size(actions))
		return tb_fail(err, TB_EINVAL, "actions", "must hold at least one action");

	for (size_t i = 0; i < json_array_size(states); i++) {
		char path[32];
		snprintf(path, sizeof(path), "states[%zu]", i);
		rc = parse_state(json_array_get(states, i), path, &wf->states[i], err);
		if (rc)
			return rc;
		if (tb_workflow_state(wf, wf->states[i].name) >= 0)
			return tb_fail(err, TB_EINVAL, tb_jv_path(path, "name"), "'%s' is repeated",
				       wf->states[i].name);
		wf->nstates++;
	}
	if (wf->states[0].terminal)
		return tb_fail(err, TB_EINVAL, "states[0].terminal",
			       "the first state, where cases start, cannot be terminal");

	for (size_t i = 0; i < json_array_size(actions); i++) {
		char path[32];
		snprintf(path, sizeof(path), "actions[%zu]", i);
		rc = parse_action(json_array_get(actions, i), path, wf, &wf->actions[i], err);
		if (rc)
			return rc;
		if (tb_workflow_action(wf, wf->actions[i].name))
			return tb_fail(err, TB_EINVAL, tb_jv_path(path, "name"), "'%s' is repeated",
				       wf->actions[i].name);
		wf->nactions++;
	}

	/* Every state can be reached from the first, and every state that is not terminal
	 * can be left: otherwise a case could never get there, or never get out. */
	uint64_t seen = 1, grow;
	do {
		grow = seen;
		for (int i = 0; i < wf->nactions; i++)
			if ((wf->actions[i].from & seen) && wf->actions[i].to >= 0)
				grow |= 1ull << wf->actions[i].to;
		grow ^= seen;
		seen |= grow;
	} while (grow);
	bool terminal = false;
	for (int k = 0; k < wf->nstates; k++) {
		char path[32];
		snprintf(path, sizeof(path), "states[%d]", k);
		if (!(seen >> k & 1))
			return tb_fail(err, TB_EINVAL, path,
				       "'%s' cannot be reached from '%s' by any action",
				       wf->states[k].name, wf->states[0].name);
		terminal |= wf->states[k].terminal;
		if (wf->states[k].terminal)
			continue;
		bool leaves = false;
		for (int i = 0; i < wf->nactions && !leaves; i++)
			leaves = (wf->actions[i].from >> k & 1) && wf->actions[i].to >= 0 &&
				 wf->actions[i].to != k;
		if (!leaves)
			return tb_fail(err, TB_EINVAL, path,
				       "no action leaves '%s', and it is not terminal",
				       wf->states[k].name);
	}
	if (!terminal)
		return tb_fail(err, TB_EINVAL, "states", "at least one state must be terminal");
	return TB_OK;
}

/* ---- to JSON ---- */

json_t *tb_workflow_json(const struct tb_workflow *wf)
{
	json_t *states = json_array(), *actions = json_array();
	json_t *doc =
	    json_pack("{s:s, s:o, s:o}", "name", wf->name, "states", states, "actions", actions);
	if (!doc)
		return NULL;
	for (int k = 0; k < wf->nstates; k++) {
		const struct tb_wf_state *st = &wf->states[k];
		json_t *s =
		    json_pack("{s:s, s:s, s:s, s:b, s:b}", "name", st->name, "label", st->label,
			      "clock", clock_names[st->clock_running], "terminal", st->terminal,
			      "applicant_turn", st->applicant_turn);
		if (s && st->limit_days)
			json_object_set_new(s, "limit_days", json_integer(st->limit_days));
		if (!s || json_array_append_new(states, s))
			goto fail;
	}
	for (int i = 0; i < wf->nactions; i++) {
		const struct tb_wf_action *a = &wf->actions[i];
		json_t *from = json_array(), *roles = json_array();
		for (int k = 0; k < wf->nstates && from; k++)
			if (a->from >> k & 1)
				json_array_append_new(from, json_string(wf->states[k].name));
		for (unsigned bit = 1; bit <= TB_ROLE_ALL && roles; bit <<= 1)
			if (a->roles & bit)
				json_array_append_new(roles, json_string(tb_role_name(bit)));
		json_t *o = json_pack(
		    "{s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:s}", "name", a->name, "label", a->label,
		    "from", from, "to",
		    a->to >= 0 ? json_string(wf->states[a->to].name) : json_null(), "actor",
		    actor_names[a->actor], "comment", need_names[a->comment], "material",
		    need_names[a->material], "effect", effect_names[a->effect]);
		if (o && a->actor == TB_WF_STAFF)
			json_object_set(o, "roles", roles);
		json_decref(roles);
		if (o && a->case_types) {
			json_t *types = json_array();
			for (unsigned n = 1; n <= 2; n++)
				if (a->case_types >> n & 1)
					json_array_append_new(types,
							      json_string(case_type_names[n - 1]));
			json_object_set_new(o, "case_types", types);
		}
		if (!o || json_array_append_new(actions, o))
			goto fail;
	}
	return doc;
fail:
	json_decref(doc);
	return NULL;
}

/* ---- the default ---- */

/* 行政许可法: 5 working days to accept or refuse to accept (art. 32), one complete
 * notice of what to correct (art. 32), 20 working days to decide from acceptance,
 * +10 on the approval of the department's head (art. 42), 10 working days to deliver
 * the decision (art. 44), special procedures outside the limit (art. 45). 即办件 are
 * decided on the spot. The limit of the case itself (the guide's promised limit) runs
 * in the states whose clock runs. */
static const char default_json[] =
    "{\"name\": \"行政许可（行政许可法）\","
    " \"states\": ["
    "  {\"name\": \"submitted\", \"label\": \"待受理\", \"limit_days\": 5},"
    "  {\"name\": \"correction\", \"label\": \"待补正\", \"applicant_turn\": true},"
    "  {\"name\": \"accepted\", \"label\": \"已受理\", \"clock\": \"running\"},"
    "  {\"name\": \"under_review\", \"label\": \"审查中\", \"clock\": \"running\"},"
    "  {\"name\": \"decided\", \"label\": \"已决定\", \"limit_days\": 10},"
    "  {\"name\": \"completed\", \"label\": \"已办结\", \"terminal\": true},"
    "  {\"name\": \"not_accepted\", \"label\": \"不予受理\", \"terminal\": true},"
    "  {\"name\": \"withdrawn\", \"label\": \"已撤回\", \"terminal\": true}],"
    " \"actions\": ["
    "  {\"name\": \"accept\", \"label\": \"受理\", \"from\": [\"submitted\"],"
    "   \"to\": \"accepted\", \"actor\": \"staff\", \"roles\": [\"clerk\"],"
    "   \"comment\": \"optional\", \"effect\": \"start_clock\"},"
    "  {\"name\": \"not_accept\", \"label\": \"不予受理\", \"from\": [\"submitted\"],"
    "   \"to\": \"not_accepted\", \"actor\": \"staff\", \"roles\": [\"clerk\"],"
    "   \"comment\": \"required\", \"effect\": \"not_accept\"},"
    "  {\"name\": \"request_correction\", \"label\": \"一次性告知补正\","
    "   \"from\": [\"submitted\"], \"to\": \"correction\", \"actor\": \"staff\","
    "   \"roles\": [\"clerk\"], \"comment\": \"required\", \"effect\": \"request_correction\"},"
    "  {\"name\": \"respond\", \"label\": \"提交补正材料\", \"from\": [\"correction\"],"
    "   \"to\": \"submitted\", \"actor\": \"applicant\", \"comment\": \"optional\","
    "   \"material\": \"optional\", \"effect\": \"respond_correction\"},"
    "  {\"name\": \"withdraw\", \"label\": \"撤回申请\","
    "   \"from\": [\"submitted\", \"correction\", \"accepted\", \"under_review\"],"
    "   \"to\": \"withdrawn\", \"actor\": \"applicant\", \"comment\": \"optional\","
    "   \"effect\": \"withdraw\"},"
    "  {\"name\": \"start_review\", \"label\": \"开始审查\", \"from\": [\"accepted\"],"
    "   \"to\": \"under_review\", \"actor\": \"staff\", \"roles\": [\"approver\"]},"
    "  {\"name\": \"grant\", \"label\": \"准予许可\", \"from\": [\"under_review\"],"
    "   \"to\": \"decided\", \"actor\": \"staff\", \"roles\": [\"approver\"],"
    "   \"comment\": \"optional\", \"effect\": \"decide_granted\"},"
    "  {\"name\": \"refuse\", \"label\": \"不予许可\", \"from\": [\"under_review\"],"
    "   \"to\": \"decided\", \"actor\": \"staff\", \"roles\": [\"approver\"],"
    "   \"comment\": \"required\", \"effect\": \"decide_refused\"},"
    "  {\"name\": \"grant_on_spot\", \"label\": \"当场办结\", \"from\": [\"submitted\"],"
    "   \"to\": \"decided\", \"actor\": \"staff\", \"roles\": [\"clerk\", \"approver\"],"
    "   \"comment\": \"optional\", \"case_types\": [\"1\"], \"effect\": \"decide_granted\"},"
    "  {\"name\": \"complete\", \"label\": \"办结送达\", \"from\": [\"decided\"],"
    "   \"to\": \"completed\", \"actor\": \"staff\", \"roles\": [\"clerk\", \"approver\"],"
    "   \"comment\": \"optional\", \"effect\": \"complete\"},"
    "  {\"name\": \"start_procedure\", \"label\": \"启动特别程序\","
    "   \"from\": [\"under_review\"], \"to\": null, \"actor\": \"staff\","
    "   \"roles\": [\"approver\"], \"comment\": \"required\", \"effect\": \"start_procedure\"},"
    "  {\"name\": \"end_procedure\", \"label\": \"结束特别程序\","
    "   \"from\": [\"under_review\"], \"to\": null, \"actor\": \"staff\","
    "   \"roles\": [\"approver\"], \"comment\": \"optional\", \"effect\": \"end_procedure\"},"
    "  {\"name\": \"request_extension\", \"label\": \"申请延期\","
    "   \"from\": [\"under_review\"], \"to\": null, \"actor\": \"staff\","
    "   \"roles\": [\"approver\"], \"comment\": \"required\","
    "   \"effect\": \"request_extension\"},"
    "  {\"name\": \"approve_extension\", \"label\": \"批准延期\","
    "   \"from\": [\"under_review\"], \"to\": null, \"actor\": \"staff\","
    "   \"roles\": [\"dept_admin\"], \"comment\": \"optional\","
    "   \"effect\": \"approve_extension\"}]}";

static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static struct tb_workflow default_wf;
static bool default_ok;

static void parse_default(void)
{
	json_t *def = json_loads(default_json, 0, NULL);
	struct tb_err err = {0};
	/* the text is a constant that the unit tests parse: only memory can fail here */
	default_ok = def && tb_workflow_parse(def, &default_wf, &err) == TB_OK;
	json_decref(def);
}

const struct tb_workflow *tb_workflow_default(void)
{
	pthread_once(&default_once, parse_default);
	return default_ok ? &default_wf : NULL;
}

/* ---- queries ---- */

int tb_workflow_state(const struct tb_workflow *wf, const char *name)
{
	for (int k = 0; name && k < wf->nstates; k++)
		if (!strcmp(wf->states[k].name, name))
			return k;
	return -1;
}

const struct tb_wf_action *tb_workflow_action(const struct tb_workflow *wf, const char *name)
{
	for (int i = 0; name && i < wf->nactions; i++)
		if (!strcmp(wf->actions[i].name, name))
			return &wf->actions[i];
	return NULL;
}

bool tb_workflow_allows(const struct tb_workflow *wf, const struct tb_wf_action *a, int state,
			const char *case_type)
{
	if (!a || state < 0 || state >= wf->nstates || !(a->from >> state & 1))
		return false;
	if (!a->case_types)
		return true;
	int t = case_type ? lookup(case_type_names, case_type) : -1;
	return t >= 0 && (a->case_types >> (t + 1) & 1);
}

json_t *tb_workflow_allowed(const struct tb_workflow *wf, int state, const char *case_type,
			    unsigned actor_mask, unsigned roles)
{
	json_t *out = json_array();
	for (int i = 0; out && i < wf->nactions; i++) {
		const struct tb_wf_action *a = &wf->actions[i];
		if (!(actor_mask >> a->actor & 1) || !tb_workflow_allows(wf, a, state, case_type))
			continue;
		if (a->actor == TB_WF_STAFF && roles && !(a->roles & roles))
			continue;
		json_array_append_new(out, json_string(a->name));
	}
	return out;
}

/* ---- time limits ---- */

bool tb_limit_unit_parse(const char *s, enum tb_limit_unit *out)
{
	static const char *const units[] = {"working_day", "natural_day", "month", "hour", NULL};
	int i = s ? lookup(units, s) : -1;
	if (i < 0)
		return false;
	*out = (enum tb_limit_unit)i;
	return true;
}

/* The pauses as seen on `today`: an open one has run up to today. */
struct pauses {
	const struct tb_pause *p;
	size_t n;
	tb_date today;
};

static bool paused_on(const struct pauses *ps, tb_date d)
{
	for (size_t i = 0; i < ps->n; i++) {
		tb_date end = ps->p[i].end ? ps->p[i].end : ps->today;
		if (d > ps->p[i].start && d <= end)
			return true;
	}
	return false;
}

/* Whether d counts toward a limit: a unit of the limit that no pause removes. */
static bool counts(const struct tb_calendar *cal, bool workdays, const struct pauses *ps, tb_date d)
{
	return (!workdays || tb_calendar_is_workday(cal, d)) && !paused_on(ps, d);
}

/* The day on which the n-th counting day after start falls (start itself for 0). */
static tb_date walk(const struct tb_calendar *cal, bool workdays, const struct pauses *ps,
		    tb_date start, int n)
{
	tb_date d = start;
	while (n > 0) {
		d++;
		if (counts(cal, workdays, ps, d))
			n--;
	}
	return d;
}

/* Working days in (from, to] that no pause removes. */
static int counted_workdays(const struct tb_calendar *cal, const struct pauses *ps, tb_date from,
			    tb_date to)
{
	int c = 0;
	for (tb_date d = from + 1; d <= to; d++)
		c += counts(cal, true, ps, d);
	return c;
}

static tb_date add_months(tb_date start, int months)
{
	int y, m, d;
	tb_date_to_ymd(start, &y, &m, &d);
	int k = (m - 1) + months;
	y += k / 12, m = k % 12 + 1;
	tb_date out;
	/* clamp to the month's end: Jan 31 + 1 month is the last day of February */
	while (d > 28 && !tb_date_from_ymd(y, m, d, &out))
		d--;
	if (!tb_date_from_ymd(y, m, d, &out))
		out = start + months * 31; /* beyond 2199: no calendar there anyway */
	return out;
}

/* Caps that keep a nonsense limit from walking for ever: a century. */
#define MAX_WORKDAYS 25000
#define MAX_DAYS     36500
#define MAX_MONTHS   1200

static int clampi(long long v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : (int)v;
}

void tb_deadline_compute(const struct tb_calendar *cal, tb_date start, const struct tb_limit *lim,
			 const struct tb_pause *pauses, size_t npauses, tb_date today,
			 int near_percent, struct tb_deadline *out)
{
	struct pauses ps = {pauses, npauses, today};
	tb_date open_start = 0;
	memset(out, 0, sizeof(*out));
	/* the earliest procedure still open today: the clock has stood still since */
	for (size_t i = 0; i < npauses; i++)
		if (!pauses[i].end && pauses[i].start <= today &&
		    (!out->paused || pauses[i].start < open_start)) {
			out->paused = true;
			open_start = pauses[i].start;
		}
	if (near_percent < 1 || near_percent > 99)
		near_percent = 20;

	/* Every unit becomes a count of days to walk, working or natural. */
	bool workdays = false;
	int n;
	switch (lim->unit) {
	case TB_UNIT_WORKING_DAY:
		workdays = true;
		n = clampi((long long)lim->value + lim->extension, 0, MAX_WORKDAYS);
		break;
	case TB_UNIT_NATURAL_DAY:
		n = clampi((long long)lim->value + lim->extension, 0, MAX_DAYS);
		break;
	case TB_UNIT_MONTH:
		/* the months as the natural days they span from start; pauses then push
		 * the end day by day like a natural-day limit */
		n = add_months(start,
			       clampi((long long)lim->value + lim->extension, 0, MAX_MONTHS)) -
		    start;
		break;
	case TB_UNIT_HOUR:
	default:
		/* Only the acceptance day is known here, not its time: hours run out at the
		 * latest on the ceil(hours / 24)-th day after it, and that day is due. */
		n = (clampi(lim->value, 0, MAX_DAYS * 24) + 23) / 24;
		break;
	}
	out->due = walk(cal, workdays, &ps, start, n);
	out->total = counted_workdays(cal, &ps, start, out->due);

	/* Near due from the first day on which at most near_percent% of the working days
	 * remain, but never later than the day with one working day left (for small
	 * limits the share rounds down to none: a 3-day limit at 20% would warn only on
	 * its last day); a limit of no working days is near due from its start. */
	int left = out->total * near_percent / 100;
	if (left < 1)
		left = 1;
	out->warn = out->total > left ? walk(cal, true, &ps, start, out->total - left) : start;

	/* While a procedure is open the clock stands still: what remained when it began
	 * still remains. */
	tb_date asof = out->paused ? open_start : today;
	out->remaining = counted_workdays(cal, &ps, asof, out->due);
	out->overdue = tb_calendar_workdays_between(cal, out->due, today);
	out->near_due = today >= out->warn && out->overdue == 0;

	int y0, y1, m, d;
	tb_date_to_ymd(start, &y0, &m, &d);
	tb_date_to_ymd(out->due, &y1, &m, &d);
	out->covered = true;
	for (int y = y0; y <= y1; y++)
		out->covered &= tb_calendar_covers(cal, y);
}
