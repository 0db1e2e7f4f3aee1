/*
 * shadow.h — the shadow copy of the engine state (shadow.c): a second
 * arena in shared memory that holds the state as of one seq, so that long
 * reads (a snapshot's rows, engine.verify(), engine.state_digest()) run on
 * the copy and never hold the state lock.
 *
 * Who may touch what: only the worker writes the copy (shadow_copy),
 * between batches, and only while nobody reads it; readers (the snapshot
 * writer, backends) read it between shadow_read_begin and shadow_read_end.
 * The snapshot job (the writer's progress) is written by the worker and the
 * writer through the functions below only.
 */
#ifndef ENGINE_PG_SHADOW_H
#define ENGINE_PG_SHADOW_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/spin.h"

#include "core.h"

/* What happens to the copy while a snapshot of it is written. */
typedef enum snapshot_job_state
{
	JOB_NONE = 0,				/* no snapshot is being written */
	JOB_QUEUED,					/* copy taken, writer asked for, not started yet */
	JOB_WRITING,				/* the writer writes it */
	JOB_COMMITTED,				/* durable; the writer may still be pruning */
	JOB_FAILED,					/* the writer ended without committing */
	JOB_CANCELLED				/* the worker gave it up before a writer took it */
} snapshot_job_state;

#define SNAPSHOT_JOB_TEXT_MAX 256

typedef struct snapshot_job
{
	snapshot_job_state state;
	uint32		id;				/* the writer's bgw_main_arg: which job it is for */
	int64		seq;			/* the snapshot's seq (the copy's) */
	TimestampTz started_at;		/* when the copy was taken */
	uint64		requests;		/* engine.snapshot() calls made before the copy */
	char		why[64];		/* what asked for it */
	int			writer_pid;		/* set by the writer when it takes the job */
	bool		holds_copy;		/* the job keeps a reader count on the copy */
	int64		items_total;	/* what the snapshot holds (assets .. orders) */
	int64		items_written;
	int64		write_ms;		/* the writer's transaction, from start to flush */
	int64		pruned;			/* log rows pruned after it committed */
	bool		existed;		/* a snapshot of this seq was there already */
	bool		unpaced;		/* the worker is stopping: write at full speed */
	char		error[SNAPSHOT_JOB_TEXT_MAX];
} snapshot_job;

typedef struct shadow_shared
{
	pg_atomic_uint32 readers;	/* processes (and a job) reading the copy */
	pg_atomic_uint32 writing;	/* the worker is overwriting it */
	pg_atomic_uint64 requests;	/* fresh copies asked for by readers */
	ConditionVariable cv;		/* broadcast after every copy */
	slock_t		mutex;			/* guards everything below */
	bool		valid;			/* the copy holds an engine */
	int64		seq;			/* ... at this seq */
	uint64		served;			/* requests answered by copies made so far */
	uint64		copies;
	TimestampTz copied_at;
	int64		copy_us;		/* the last copy's duration */
	Size		copy_bytes;		/* ... and size */
	snapshot_job job;
} shadow_shared;

/* ------------------------------------------------------------ the worker */

/*
 * Copy the state c (committed: between batches) into the shadow, unless
 * somebody reads the copy now; true when copied.  Answers every request
 * made before the copy.  With claim, a copy that must wait for readers
 * keeps new readers out until it is made (a snapshot must not wait for
 * ever behind a loop of engine.verify() calls); shadow_drop_claim gives
 * that up (a new worker, or one that stops).
 */
bool		shadow_copy(const core_engine *c, bool claim);
void		shadow_drop_claim(void);

/* Requests for a fresh copy that no copy has answered yet? */
bool		shadow_copy_requested(void);

/* The seq the copy holds (-1: none). */
int64		shadow_seq(void);

/*
 * Map the shadow into the worker's page tables a step at a time (between
 * batches), so that the first copy does not pay a page fault per page.
 * True once the whole region is mapped.
 */
bool		shadow_warm_step(void);

/*
 * Lend the shadow's memory (len bytes from its start) to the worker as
 * scratch while it recovers: NULL if somebody reads the copy or len does
 * not fit.  The copy is invalid from then on (readers find none) until the
 * worker copies again; shadow_give_back ends the loan.  Recovery's scratch
 * comes from here because the shadow's pages exist already (the prewarm
 * process allocated them), where fresh process memory costs a zeroed page
 * per fault.
 */
void	   *shadow_borrow(Size len);
void		shadow_give_back(void);

/* Take or drop the job's reader count on the copy (worker or writer). */
void		shadow_hold_for_job(void);
void		shadow_release_job_hold(void);

/* ------------------------------------------------------------ readers */

/*
 * Read the copy as it is: NULL when there is none or the worker is
 * overwriting it.  *seq gets its seq.  Pair with shadow_read_end().  On
 * ERROR the read is ended by the error clean-up (shadow_read_abort).
 */
const core_engine *shadow_read_begin(int64 *seq);
void		shadow_read_end(void);

/*
 * Read a copy made after this call (or one whose seq is the committed seq
 * now): asks the worker for one and waits until deadline.  ERRORs like a
 * command when the engine is not ready or the deadline passes.
 */
const core_engine *shadow_read_fresh(TimestampTz deadline, int64 *seq);

/* ------------------------------------------------------------ the job */

/* A consistent copy of the job. */
void		shadow_job_get(snapshot_job *out);

/* Change the job under its lock: fn(job, arg) may read and write it. */
typedef void (*shadow_job_fn) (snapshot_job *job, void *arg);
void		shadow_job_update(shadow_job_fn fn, void *arg);

/* A consistent copy of the copy's figures (for engine.status()). */
void		shadow_figures(int64 *seq, TimestampTz *copied_at, int64 *copy_us, Size *bytes);

#endif							/* ENGINE_PG_SHADOW_H */
