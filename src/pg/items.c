/*
 * items.c — where a request's items live.  One item lives in the slot
 * itself.  More (engine.place_orders, engine.cancel_orders) live in a
 * dynamic shared memory segment that the backend creates for the request
 * and pins: the pin keeps it alive when the backend's own mapping goes (a
 * cancelled or exiting backend leaves the worker its items to read), and
 * whoever frees the slot unpins it (slots.c).  So the slot table's size
 * does not depend on batch sizes, and a request holds at most
 * engine.max_batch items of shared memory, only while it is in flight.
 *
 * Owns: creating, pinning, mapping and unpinning those segments.
 * Must never: change a slot's state (slots.c does, and calls these).
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "items.h"

/* The worker's mappings, by slot index. */
static dsm_segment **worker_maps = NULL;

request_item *
items_place(request_slot *slot, int n, dsm_segment **seg)
{
	*seg = NULL;
	slot->nitems = (uint32) n;
	slot->segment = DSM_HANDLE_INVALID;
	if (n == 1)
		return &slot->one;
	*seg = dsm_create(mul_size(n, sizeof(request_item)), 0);
	dsm_pin_segment(*seg);
	slot->segment = dsm_segment_handle(*seg);
	return dsm_segment_address(*seg);
}

void
items_release(request_slot *slot)
{
	dsm_handle	h = slot->segment;

	if (h == DSM_HANDLE_INVALID)
		return;
	slot->segment = DSM_HANDLE_INVALID;
	dsm_unpin_segment(h);
}

void
items_map(request_slot *slot, int i, int nslots)
{
	dsm_segment *seg;

	if (slot->nitems == 1)
		return;
	if (worker_maps == NULL)
		worker_maps = MemoryContextAllocZero(TopMemoryContext, sizeof(dsm_segment *) * nslots);
	seg = dsm_attach(slot->segment);
	if (seg == NULL)
		elog(ERROR, "engine: the items of request slot %d are gone", i);
	dsm_pin_mapping(seg);		/* not tied to a transaction's resource owner */
	worker_maps[i] = seg;
}

void
items_unmap(int i)
{
	if (worker_maps != NULL && worker_maps[i] != NULL)
	{
		dsm_detach(worker_maps[i]);
		worker_maps[i] = NULL;
	}
}

request_item *
items_of(request_slot *slot, int i, int *n)
{
	*n = (int) slot->nitems;
	if (slot->nitems == 1)
		return &slot->one;
	if (worker_maps == NULL || worker_maps[i] == NULL)
		elog(ERROR, "engine: request slot %d is not mapped", i);
	return dsm_segment_address(worker_maps[i]);
}
