/*
 * ready.h — when the core's arena may be used, and waiting until it may
 * (ready.c).
 *
 * The arena is read between read_begin and read_end, and written between
 * state_write_begin and state_write_end (the worker only).  The worker
 * moves the state into and out of "ready" with the functions below only.
 */
#ifndef ENGINE_PG_READY_H
#define ENGINE_PG_READY_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "core.h"
#include "status.h"

/* ------------------------------------------------------------ the read protocol */

/*
 * Take the state lock shared and return the core, or ERROR (lock released)
 * when the engine is not ready.  deadline 0: ERROR at once (a read); else
 * wait for readiness until deadline, as the command making the read does.
 * Pair with read_end().  Between the two, do no I/O and nothing that can
 * wait or throw: copy what you need out, then format it.
 */
core_engine *read_begin(TimestampTz deadline);
void		read_end(void);

/* The worker's exclusive hold on the arena while it applies records. */
void		state_write_begin(void);
void		state_write_end(void);

/* ------------------------------------------------------------ into and out of "ready" (worker) */

/* Leave "ready" (state "recovering") and lay out the empty engine to rebuild. */
core_engine *ready_begin_recovery(void);

/* Serve the state of extension ext_oid: state "ready", in this role. */
void		ready_serve(Oid ext_oid, engine_role role);

/* The worker is exiting: no worker, state "stopped", nothing served. */
void		ready_worker_gone(void);

/* ------------------------------------------------------------ waits */

/* Milliseconds left until deadline (rounded up), 0 once it has passed. */
long		deadline_ms_left(TimestampTz deadline);

/*
 * Wait until the engine is ready for commands (a leader), at most until
 * deadline.  ERROR at once if this is a standby or the engine has failed,
 * and naming the worker's state when the deadline passes.
 */
void		ready_wait(TimestampTz deadline);

/*
 * Wait until the engine serves reads (a leader or a follower), at most
 * until deadline; ERROR like ready_wait when it does not.
 */
void		ready_wait_serving(TimestampTz deadline);

/* engine.snapshot(): ask for a snapshot, wait for it, return its seq. */
int64		ready_request_snapshot(TimestampTz deadline);

#endif							/* ENGINE_PG_READY_H */
