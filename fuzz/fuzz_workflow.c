/* fuzz_workflow.c: libFuzzer target for workflow definitions (cases/workflow.h): the
 * input is parsed as JSON the way the HTTP edge does (json_loadb, duplicate keys
 * rejected) and checked with tb_workflow_parse. A rejection must be TB_EINVAL naming a
 * field and saying why; an accepted definition must keep the promises of the header
 * (terminal states have no way out, every state is reached, effects get their comment)
 * and survive a round trip through tb_workflow_json unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cases/workflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tb_workflow wf, back;

static void check(const struct tb_workflow *w)
{
	if (w->nstates < 1 || w->nstates > 32 || w->nactions < 1 || w->nactions > 64)
		abort();
	uint64_t all = w->nstates == 64 ? ~0ull : (1ull << w->nstates) - 1;
	for (int i = 0; i < w->nactions; i++) {
		const struct tb_wf_action *a = &w->actions[i];
		if (!a->from || (a->from & ~all) || a->to < -1 || a->to >= w->nstates)
			abort();
		for (int k = 0; k < w->nstates; k++)
			if ((a->from >> k & 1) && w->states[k].terminal)
				abort();
		if ((a->effect == TB_EFFECT_DECIDE_REFUSED || a->effect == TB_EFFECT_NOT_ACCEPT ||
		     a->effect == TB_EFFECT_REQUEST_CORRECTION ||
		     a->effect == TB_EFFECT_START_PROCEDURE ||
		     a->effect == TB_EFFECT_REQUEST_EXTENSION) &&
		    a->comment != TB_WF_REQUIRED)
			abort();
		if (a->actor == TB_WF_STAFF ? !a->roles : a->roles != 0)
			abort();
		if (tb_workflow_action(w, a->name) != a || !tb_wf_effect_name(a->effect))
			abort();
	}
	for (int k = 0; k < w->nstates; k++) {
		if (tb_workflow_state(w, w->states[k].name) != k)
			abort();
		json_t *names = tb_workflow_allowed(w, k, "1", 3, 0);
		if (!names || (w->states[k].terminal && json_array_size(names)))
			abort();
		json_decref(names);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	json_error_t e;
	json_t *v =
	    json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
	if (!v)
		return 0;
	struct tb_err err;
	memset(&err, 0, sizeof(err));
	tb_rc rc = tb_workflow_parse(v, &wf, &err);
	if (rc != TB_OK) {
		if (rc != TB_EINVAL || !err.msg[0])
			abort();
	} else {
		check(&wf);
		json_t *j = tb_workflow_json(&wf);
		if (!j || tb_workflow_parse(j, &back, &err) != TB_OK ||
		    memcmp(&wf, &back, sizeof(wf)))
			abort();
		json_decref(j);
	}
	json_decref(v);
	return 0;
}
