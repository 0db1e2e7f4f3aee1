/*
 * ringscan.c — an index scan, in key order, that reads the heap through a
 * small ring of shared buffers: how recovery reads a snapshot's chunks and
 * the log's tail.
 *
 * Why not index_getnext_slot: it reads every heap page into a buffer of its
 * own choosing, so a recovery that reads 100 MB of chunks and 100 MB of log
 * rows walks through 200 MB of shared buffers, and on the development VM
 * the first access of a process to each page of shared memory costs about
 * 7 us (shmem.h, shmem_touch) — 0.2 s per 100 MB, paid again by every new
 * worker.  Reading through a BAS_BULKREAD ring (32 buffers) touches 256 kB,
 * as a sequential scan of a big table does.
 *
 * Owns: nothing beyond the scan.  Must never: keep a tuple after the next
 * call (its values point into the pinned page).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/relscan.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

#include "worker.h"

void
ring_scan_begin(ring_scan *rs, Relation heap, Relation index, ScanKey keys, int nkeys, Snapshot snap)
{
	TupleDesc	desc = RelationGetDescr(heap);

	memset(rs, 0, sizeof(*rs));
	rs->heap = heap;
	rs->snapshot = snap;
	rs->strategy = GetAccessStrategy(BAS_BULKREAD);
	rs->buffer = InvalidBuffer;
	rs->natts = desc->natts;
	rs->values = palloc(sizeof(Datum) * desc->natts);
	rs->isnull = palloc(sizeof(bool) * desc->natts);
	rs->scan = index_beginscan(heap, index, snap, nkeys, 0);
	index_rescan(rs->scan, keys, nkeys, NULL, 0);
}

bool
ring_scan_next(ring_scan *rs)
{
	ItemPointer tid;

	while ((tid = index_getnext_tid(rs->scan, ForwardScanDirection)) != NULL)
	{
		BlockNumber blk = ItemPointerGetBlockNumber(tid);
		HeapTupleData tuple;
		bool		all_dead;
		bool		found;

		if (!BufferIsValid(rs->buffer) || BufferGetBlockNumber(rs->buffer) != blk)
		{
			if (BufferIsValid(rs->buffer))
				ReleaseBuffer(rs->buffer);
			rs->buffer = ReadBufferExtended(rs->heap, MAIN_FORKNUM, blk, RBM_NORMAL, rs->strategy);
		}
		LockBuffer(rs->buffer, BUFFER_LOCK_SHARE);
		found = heap_hot_search_buffer(tid, rs->heap, rs->buffer, rs->snapshot, &tuple, &all_dead, true);
		LockBuffer(rs->buffer, BUFFER_LOCK_UNLOCK);
		if (!found)
			continue;
		/* The pin keeps the tuple where it is until the next call. */
		heap_deform_tuple(&tuple, RelationGetDescr(rs->heap), rs->values, rs->isnull);
		return true;
	}
	return false;
}

void
ring_scan_end(ring_scan *rs)
{
	if (BufferIsValid(rs->buffer))
		ReleaseBuffer(rs->buffer);
	index_endscan(rs->scan);
	FreeAccessStrategy(rs->strategy);
	pfree(rs->values);
	pfree(rs->isnull);
}
