/*
 * touched.c — the set of users whose accounts a replay changed (user_set,
 * worker.h): recovery checks those accounts one by one after the replay,
 * or, once the set holds more than its limit, gives it up and checks every
 * account in one pass (recovery.c, check_after_replay).
 *
 * Owns: the set's memory (TopMemoryContext).  Must never: grow past its
 * limit (memory does not grow with the log).
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "worker.h"

#define REPLAY_TOUCHED_MIN 1024
#define REPLAY_TOUCHED_ORDERS_PER_USER 64

uint64
replay_touched_limit(const core_engine *c)
{
	core_limits l = core_get_limits(c);

	return Max(REPLAY_TOUCHED_MIN, l.max_orders / REPLAY_TOUCHED_ORDERS_PER_USER);
}

void
user_set_add(user_set *s, int64 user_id)
{
	uint64		h;

	if (s->all)
		return;
	if (s->limit != 0 && s->n > s->limit)
	{
		if (s->cap)
		{
			pfree(s->ids);
			pfree(s->used);
		}
		s->ids = NULL;
		s->used = NULL;
		s->cap = 0;
		s->all = true;
		return;
	}
	if (s->cap == 0 || 2 * (s->n + 1) > s->cap)
	{
		user_set	bigger;

		memset(&bigger, 0, sizeof(bigger));
		bigger.cap = s->cap ? 2 * s->cap : 1024;
		bigger.ids = MemoryContextAllocHuge(TopMemoryContext, sizeof(int64) * bigger.cap);
		bigger.used = MemoryContextAllocZero(TopMemoryContext, bigger.cap);
		for (uint64 i = 0; i < s->cap; i++)
			if (s->used[i])
				user_set_add(&bigger, s->ids[i]);
		if (s->cap)
		{
			pfree(s->ids);
			pfree(s->used);
		}
		bigger.limit = s->limit;
		*s = bigger;
	}
	h = (uint64) user_id * UINT64CONST(0x9e3779b97f4a7c15);
	for (uint64 i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1))
	{
		if (!s->used[i])
		{
			s->used[i] = true;
			s->ids[i] = user_id;
			s->n++;
			return;
		}
		if (s->ids[i] == user_id)
			return;
	}
}

void
user_set_free(user_set *s)
{
	if (s->cap)
	{
		pfree(s->ids);
		pfree(s->used);
	}
	memset(s, 0, sizeof(*s));
}
