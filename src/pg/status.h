/*
 * status.h — the status block (status.c): the worker's state and counters
 * in shared memory, its only writer API, the waits for readiness, and the
 * read protocol for the core's arena.
 *
 * Who may touch what: the worker writes the block, through the functions
 * below only; anyone reads it (status_snapshot for a consistent copy).  The
 * arena is read between read_begin and read_end, and written between
 * state_write_begin and state_write_end (the worker only).
 */
#ifndef ENGINE_PG_STATUS_H
#define ENGINE_PG_STATUS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/spin.h"

#include "core.h"

typedef enum engine_state
{
	ENGINE_STOPPED = 0,			/* no worker process (restart pending) */
	ENGINE_STARTING,			/* worker connecting to engine.database */
	ENGINE_WAITING,				/* worker waiting for CREATE EXTENSION engine */
	ENGINE_RECOVERING,			/* rebuilding the state from the tables */
	ENGINE_READY,				/* serving commands and reads */
	ENGINE_FAILED				/* recovery found a problem; refusing commands */
} engine_state;

#define ENGINE_DETAIL_MAX 512

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
	int64		snapshot_ms;	/* how long the last snapshot write paused the worker */
	int64		snapshot_rows;	/* rows the last snapshot wrote */
	uint64		snapshots_served;	/* engine.snapshot() requests answered */
	int64		served_seq;		/* the seq the last answered request got */
	int64		replay_total;	/* log records to replay at the last start */
	int64		replayed;		/* ... of which replayed so far */
	int64		recovery_ms;
	int64		batches;		/* batches committed by the current worker */
	int64		commands;		/* records sequenced by the current worker */
	int64		duplicates;		/* requests answered as duplicates */
	char		detail[ENGINE_DETAIL_MAX];	/* why failed / what it waits for */
} engine_status;

/* ------------------------------------------------------------ writers (worker only) */

void		status_worker_started(void);
void		status_worker_exited(void);
void		status_set_state(engine_state state, const char *detail_fmt,...) pg_attribute_printf(2, 3);
void		status_set_detail(const char *detail_fmt,...) pg_attribute_printf(1, 2);
core_t	   *status_enter_recovering(void);
void		status_enter_ready(Oid ext_oid);
void		status_note_replay(int64 replayed, int64 total);
void		status_note_snapshot_loaded(int64 seq, TimestampTz at);
void		status_note_recovery_done(int64 ms, int64 replayed, int64 last_seq);
void		status_note_batch(int64 last_seq, int64 commands, int64 duplicates);
void		status_note_snapshot_written(int64 seq, TimestampTz at, int64 ms, int64 rows,
										 uint64 requests);
uint64		status_snapshot_requests(void);
bool		status_snapshot_requested(void);
bool		status_extension_recheck_requested(void);

/* ------------------------------------------------------------ readers */

void		status_snapshot(engine_status *out);
engine_state status_state(void);
const char *engine_state_name(engine_state state);
void		status_wake_worker(void);

/* Is the worker serving the extension this backend sees? */
bool		serving_current_extension(void);

/* ERROR because the engine is not ready (or has failed); never returns. */
void		status_error_not_ready(const engine_status *st, bool waited) pg_attribute_noreturn();

/* Milliseconds left until deadline (rounded up), 0 once it has passed. */
long		deadline_ms_left(TimestampTz deadline);

/* Wait until the engine is ready, at most until deadline; ERROR otherwise. */
void		status_wait_ready(TimestampTz deadline);

/* engine.snapshot(): ask for a snapshot, wait for it, return its seq. */
int64		status_request_snapshot(TimestampTz deadline);

/* ------------------------------------------------------------ the arena */

/*
 * Take the state lock shared and return the core, or ERROR (lock released)
 * when the engine is not ready.  deadline 0: ERROR at once; otherwise wait
 * for readiness until deadline, as the command making the read does.
 * Pair with read_end().  Between the two, do no I/O and nothing that can
 * wait or throw: copy what you need out, then format it.
 */
core_t	   *read_begin(TimestampTz deadline);
void		read_end(void);

/* The worker's exclusive hold on the arena while it applies records. */
void		state_write_begin(void);
void		state_write_end(void);

#endif							/* ENGINE_PG_STATUS_H */
