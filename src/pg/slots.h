/*
 * slots.h — the request-slot table (slots.c): how a command travels from
 * the caller's backend to the worker and its answer back, every transition
 * of both sides.
 */
#ifndef ENGINE_PG_SLOTS_H
#define ENGINE_PG_SLOTS_H

#include "postgres.h"

#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"

#include "core.h"
#include "records.h"

/* Request slot states; the transitions are in slots.c's header comment. */
#define SLOT_FREE       0
#define SLOT_SUBMITTED  1
#define SLOT_TAKEN      2
#define SLOT_DONE       3
#define SLOT_ABANDONED  4

/* How the worker answered. */
#define REPLY_APPLIED    1		/* sequenced and applied; res is the core's result */
#define REPLY_DUPLICATE  2		/* a repeated key: not sequenced; res is the current state */
#define REPLY_LOST       3		/* committed at seq, but the worker restarted before replying */
#define REPLY_FAILED     4		/* workers died ENGINE_MAX_ATTEMPTS times running it; not executed */
#define REPLY_NO_TARGET  5		/* the order it acts on is not a resting order of its user:
								 * not sequenced, nothing logged (records.h, target) */

/*
 * A request whose batch never committed is run again by the next worker,
 * alone in its batch; after this many attempts it is answered REPLY_FAILED,
 * so one request that makes the worker fail cannot block the engine.
 */
#define ENGINE_MAX_ATTEMPTS 3

typedef struct engine_reply
{
	uint8		kind;			/* REPLY_* */
	int64		seq;			/* the record's seq (0 for a duplicate) */
	XLogRecPtr	commit_lsn;		/* WAL the answer depends on; durable before the caller hears it */
	core_result res;
	char		client_order_id[CORE_CLIENT_ID_MAX + 1];	/* of the order acted on */
	uint32		symbol;			/* a duplicate order's symbol (0: not a duplicate order) */
} engine_reply;

typedef struct request_slot
{
	pg_atomic_uint32 state;		/* SLOT_* */
	ConditionVariable cv;		/* the owner sleeps here */
	int			owner_pid;
	uint64		ticket;			/* submission order; the batch is sorted by it */
	core_record rec;
	char		key_kind;		/* KEY_* */
	int64		key_user;
	char		key[ENGINE_KEY_MAX + 1];
	int64		seq;			/* set by the worker when it applies the record */
	uint32		attempts;		/* batches it was taken into */
	engine_reply reply;
} request_slot;

/* ------------------------------------------------------------ the caller's side */

void		slot_execute(const core_record *rec, char key_kind, int64 key_user,
						 const char *key, TimestampTz deadline, engine_reply *out);

/* ------------------------------------------------------------ the worker's side */

int			slots_count(void);
request_slot *slot_at(int i);
int			slots_take(int *out);
void		slots_publish(const int *idx, int n, XLogRecPtr lsn);
void		slots_reclaim_before_recovery(void);
void		slots_reclaim_after_recovery(int64 committed_seq, bool recovered);

#endif							/* ENGINE_PG_SLOTS_H */
