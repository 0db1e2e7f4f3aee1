/*
 * items.h — where a request's items live (items.c): in its slot when there
 * is one, in a pinned dynamic shared memory segment when there are more.
 * slots.c calls these as part of its slot transitions; the worker reads a
 * taken request's items with items_of.
 */
#ifndef ENGINE_PG_ITEMS_H
#define ENGINE_PG_ITEMS_H

#include "postgres.h"

#include "storage/dsm.h"

#include "slots.h"

/* Backend: room for n items of a request in *slot; *seg the segment (or NULL). */
request_item *items_place(request_slot *slot, int n, dsm_segment **seg);

/* Either side: unpin the slot's segment, if any (before the slot is freed). */
void		items_release(request_slot *slot);

/* Worker: map slot i's segment while it holds the slot; unmap when done. */
void		items_map(request_slot *slot, int i, int nslots);
void		items_unmap(int i);

/* Worker: the items of slot i (mapped); *n gets their count. */
request_item *items_of(request_slot *slot, int i, int *n);

#endif							/* ENGINE_PG_ITEMS_H */
