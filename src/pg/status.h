/*
 * status.h — the status block (status.c): the worker's state and counters
 * in shared memory, and its only writer API.
 *
 * Who may touch what: the worker writes the block, through the functions
 * below (and ready.h's moves into and out of "ready") only; anyone reads it
 * (status_snapshot for a consistent copy).
 */
#ifndef ENGINE_PG_STATUS_H
#define ENGINE_PG_STATUS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/spin.h"

typedef enum engine_state
{
	ENGINE_STOPPED = 0,			/* no worker process (restart pending) */
	ENGINE_STARTING,			/* worker connecting to engine.database */
	ENGINE_WAITING,				/* worker waiting for CREATE EXTENSION engine */
	ENGINE_RESTORING,			/* worker waiting for a restore's data (manifest.c) */
	ENGINE_RECOVERING,			/* rebuilding the state from the tables */
	ENGINE_READY,				/* serving commands and reads */
	ENGINE_FAILED				/* recovery found a problem; refusing commands */
} engine_state;

#define ENGINE_DETAIL_MAX 512

/*
 * What the worker is to the cluster: the leader sequences commands on the
 * primary; a follower, on a hot standby, applies the log rows that WAL
 * replay makes visible and serves reads only.  A follower becomes the
 * leader in place when its server is promoted (worker/follower.c).
 */
typedef enum engine_role
{
	ENGINE_ROLE_LEADER = 0,
	ENGINE_ROLE_FOLLOWER
} engine_role;

typedef struct engine_status
{
	slock_t		mutex;
	engine_state state;
	int			worker_pid;
	int			worker_procno;	/* whose latch to set; -1 if none */
	uint32		worker_starts;	/* worker processes started since server start */
	TimestampTz started_at;		/* current worker's start */
	int64		last_seq;		/* last committed seq */
	int64		snapshot_seq;	/* newest snapshot loaded or written (0: none) */
	TimestampTz snapshot_at;
	int64		snapshot_ms;	/* how long the last snapshot paused the worker */
	int64		snapshot_rows;	/* items the last snapshot wrote */
	int64		snapshot_write_ms;	/* how long writing the last snapshot took */
	int64		snapshot_copy_us;	/* the copy it was written from (the pause), in us */
	uint64		snapshots_served;	/* engine.snapshot() requests answered */
	int64		served_seq;		/* the seq the last answered request got */
	int64		replay_total;	/* log records to replay at the last start */
	int64		replayed;		/* ... of which replayed so far */
	int64		recovery_ms;
	char		recovery_phase[32];	/* what recovery does now (or "done", "failed") */
	int64		recovery_done;	/* ... how much of it is done */
	int64		recovery_total;
	int64		recovery_rate;	/* ... per second */
	int64		batches;		/* batches committed by the current worker */
	int64		commands;		/* records sequenced by the current worker */
	int64		duplicates;		/* requests answered as duplicates */
	engine_role role;			/* of the current worker (ready.c moves it to leader) */
	int64		follower_reloads;	/* follower reloads from a snapshot (behind a prune) */
	int64		follower_retries;	/* follower reads cancelled and retried (recovery conflicts) */
	int64		promote_ms;		/* promotion noticed -> leader ready, last time (-1: never) */
	char		detail[ENGINE_DETAIL_MAX];	/* why failed / what it waits for */
} engine_status;

/* ------------------------------------------------------------ writers (worker only) */

void		status_worker_started(void);
void		status_set_state(engine_state state, const char *detail_fmt,...) pg_attribute_printf(2, 3);
void		status_set_detail(const char *detail_fmt,...) pg_attribute_printf(1, 2);
void		status_note_replay(int64 replayed, int64 total);
void		status_note_snapshot_loaded(int64 seq, TimestampTz at);
void		status_note_recovery_done(int64 ms, int64 replayed, int64 last_seq);
void		status_note_batch(int64 last_seq, int64 commands, int64 duplicates);
void		status_note_applied(int64 last_seq);
void		status_set_role(engine_role role);
void		status_note_follower_reload(void);
void		status_note_follower_retry(void);
void		status_note_promoted(int64 ms);
void		status_note_snapshot_written(int64 seq, TimestampTz at, int64 ms, int64 rows,
										 uint64 requests);
void		status_note_snapshot_write(int64 write_ms, int64 copy_us);
void		status_note_recovery_phase(const char *phase, int64 done, int64 total, int64 rate);
uint64		status_snapshot_requests(void);
bool		status_snapshot_requested(void);
bool		status_extension_recheck_requested(void);

/* ------------------------------------------------------------ readers */

void		status_snapshot(engine_status *out);
engine_state status_state(void);
const char *engine_state_name(engine_state state);
const char *engine_role_name(engine_role role);
engine_role status_role(void);
void		status_wake_worker(void);

/* Is the worker serving the extension this backend sees? */
bool		serving_current_extension(void);

/* ERROR because the engine is not ready (or has failed); never returns. */
void		status_error_not_ready(const engine_status *st, bool waited) pg_attribute_noreturn();

#endif							/* ENGINE_PG_STATUS_H */
