/*
 * apply.c — core_apply, the one entry point that changes engine state.
 *
 * It advances the sequence number, runs the record's shape check, and hands
 * the record to its redo function from the record-type table.  Live
 * processing and replay both come through here, which is what makes replay
 * reproduce the live state.
 */
#include <string.h>

#include "core_int.h"

void
core_apply(core_engine *c, const core_record *rec, core_event_fn fn, void *ctx,
		   core_result *out)
{
	core_result local;
	apply_ctx	a;

	a.c = c;
	a.rec = rec;
	a.fn = fn;
	a.fnctx = ctx;
	a.res = out ? out : &local;
	memset(a.res, 0, sizeof(*a.res));
	a.res->status = CORE_ST_OK;

	c->seq++;
	if (record_validate(rec) != NULL)
	{
		/* Every PLACE that reaches the engine gets an order id, even this one. */
		if (rec->type == CORE_REC_PLACE)
			redo_place_malformed(&a);
		else
		{
			a.res->status = CORE_ST_REJECTED;
			a.res->reason = CORE_R_INVALID;
		}
		return;
	}
	core_rectypes[rec->type].redo(&a);
}
