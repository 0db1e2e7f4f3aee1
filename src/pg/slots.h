/*
 * slots.h — the request-slot table (slots.c): how commands travel from the
 * caller's backend to the worker and their answers back, every transition
 * of both sides.
 *
 * A request is one or more commands (request items) submitted together:
 * one slot, one ticket, one batch, consecutive seqs.  A request of one item
 * keeps it in the slot itself; a larger one (engine.place_orders,
 * engine.cancel_orders) keeps its items in a dynamic shared memory segment
 * of its own, so the slot table's size does not depend on batch sizes.
 */
#ifndef ENGINE_PG_SLOTS_H
#define ENGINE_PG_SLOTS_H

#include "postgres.h"

#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
#include "port/atomics.h"
#include "storage/dsm.h"

#include "core.h"
#include "records.h"

/* Request slot states; the transitions are in slots.c's header comment. */
#define SLOT_FREE       0
#define SLOT_SUBMITTED  1
#define SLOT_TAKEN      2
#define SLOT_DONE       3
#define SLOT_ABANDONED  4

/* How the worker answered a request (request_slot.outcome). */
#define OUTCOME_ANSWERED 1		/* every item has its reply */
#define OUTCOME_LOST     2		/* committed (up to slot seq), but the worker restarted before replying */
#define OUTCOME_FAILED   3		/* workers died ENGINE_MAX_ATTEMPTS times running it; not executed */

/* How the worker answered one item (engine_reply.kind). */
#define REPLY_APPLIED    1		/* sequenced and applied; res is the core's result */
#define REPLY_DUPLICATE  2		/* a repeated key: not sequenced; res is the current state */
#define REPLY_NO_TARGET  3		/* the order it acts on is not a resting order of its user:
								 * not sequenced, nothing logged (records.h, target) */

/*
 * A request whose batch never committed is run again by the next worker,
 * alone in its batch; after this many attempts it is answered
 * OUTCOME_FAILED, so one request that makes the worker fail cannot block
 * the engine.
 */
#define ENGINE_MAX_ATTEMPTS 3

typedef struct engine_reply
{
	uint8		kind;			/* REPLY_* */
	int64		seq;			/* the record's seq (0 for a duplicate) */
	core_result res;
	char		client_order_id[CORE_CLIENT_ID_MAX + 1];	/* of the order acted on */
	uint32		symbol;			/* a duplicate order's symbol (0: not a duplicate order) */
} engine_reply;

/* One command of a request, and its answer. */
typedef struct request_item
{
	core_record rec;
	char		key_kind;		/* KEY_* */
	int64		key_user;
	char		key[ENGINE_KEY_MAX + 1];
	engine_reply reply;			/* written by the worker */
} request_item;

typedef struct request_slot
{
	pg_atomic_uint32 state;		/* SLOT_* */
	int			owner_pid;
	uint64		ticket;			/* submission order; the batch is sorted by it */
	uint32		nitems;			/* commands in the request */
	dsm_handle	segment;		/* the items when nitems > 1 (pinned while the slot holds it) */
	int64		seq;			/* highest seq the worker gave one of the items (0: none) */
	uint32		attempts;		/* batches it was taken into */
	uint8		outcome;		/* OUTCOME_* once DONE */
	XLogRecPtr	commit_lsn;		/* WAL the answers depend on; durable before the caller hears them */
	request_item one;			/* the item when nitems == 1 */
} request_slot;

/* ------------------------------------------------------------ the caller's side */

/*
 * Run items[0..n) as one request: copy them to the worker, wait, copy the
 * replies back into items[i].reply.  Returns the OUTCOME_*; *seq is the
 * slot's seq (for OUTCOME_LOST), *lsn the WAL to make durable.
 */
uint8		slot_execute(request_item *items, int n, TimestampTz deadline,
						 int64 *seq, XLogRecPtr *lsn);

/* ------------------------------------------------------------ the worker's side */

int			slots_count(void);
request_slot *slot_at(int i);	/* others' slots are only read (engine.requests()) */
int			slots_take(int *out);
void		slots_publish(const int *idx, int n, XLogRecPtr lsn);
void		slots_reclaim_before_recovery(void);
void		slots_reclaim_after_recovery(int64 committed_seq, bool recovered);

#endif							/* ENGINE_PG_SLOTS_H */
