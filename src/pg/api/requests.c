/*
 * requests.c — engine.requests(): the requests in flight, for operators.
 *
 * Owns: the text of the slot states.
 * Must never: write a slot (slots.c owns every transition); the rows are a
 * racy look at other backends' slots, each field read once.
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/builtins.h"

#include "api.h"

PG_FUNCTION_INFO_V1(engine_requests);

static const char *
slot_state_name(uint32 s)
{
	switch (s)
	{
		case SLOT_SUBMITTED:
			return "submitted";
		case SLOT_TAKEN:
			return "taken";
		case SLOT_DONE:
			return "done";
		case SLOT_ABANDONED:
			return "abandoned";
	}
	return "free";
}

/*
 * engine.requests() RETURNS TABLE(pid int, state text, commands int,
 * ticket bigint, seq bigint, attempts int): one row per request slot that
 * is not free: submitted (waiting for the worker), taken (in the batch being
 * applied and committed), done (answered, not yet read by its backend),
 * abandoned (its backend gave up after the worker took it).  pid is the
 * backend that submitted it; seq the highest seq given to one of its
 * commands so far (0: none).  Outside a burst of commands it is empty.
 */
Datum
engine_requests(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	shmem_require();
	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < slots_count(); i++)
	{
		request_slot *slot = slot_at(i);
		uint32		s = pg_atomic_read_u32(&slot->state);
		Datum		v[6];
		bool		n[6] = {false, false, false, false, false, false};

		if (s == SLOT_FREE)
			continue;
		v[0] = Int32GetDatum(slot->owner_pid);
		v[1] = CStringGetTextDatum(slot_state_name(s));
		v[2] = Int32GetDatum((int32) slot->nitems);
		v[3] = Int64GetDatum((int64) slot->ticket);
		v[4] = Int64GetDatum(slot->seq);
		v[5] = Int32GetDatum((int32) slot->attempts);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}
