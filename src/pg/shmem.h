/*
 * shmem.h — the engine's shared memory segments (shmem.c).
 *
 *   "engine control": engine_shared = the status block (status.h), the
 *                     request slots (slots.h) and the few flags between;
 *   "engine arena":   the core's arena, sized from the engine.max_* settings;
 *   "engine shadow":  as large again: the shadow copy of the state (shadow.h);
 *   tranche "engine": lock 0 guards the core state (status.h says how).
 */
#ifndef ENGINE_PG_SHMEM_H
#define ENGINE_PG_SHMEM_H

#include "postgres.h"

#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/lwlock.h"

#include "core.h"
#include "shadow.h"
#include "slots.h"
#include "status.h"

typedef struct engine_shared
{
	engine_status status;
	ConditionVariable status_cv;	/* broadcast whenever status.state changes */
	pg_atomic_uint64 next_ticket;
	pg_atomic_uint32 request_wake;	/* callers wait on this word for answers (wake.h) */
	Size		core_offset;	/* core_engine within the arena, set by the worker */
	Oid			ext_oid;		/* the extension the worker serves (InvalidOid: none) */
	pg_atomic_uint32 ext_recheck;	/* a backend saw another extension: look again */
	pg_atomic_uint64 snapshot_requests;	/* engine.snapshot() calls so far */
	pg_atomic_uint32 prewarmed;	/* the prewarm worker has mapped arena and shadow */
	pg_atomic_uint32 log_emptied;	/* the snapshot writer's prune emptied command_log (manifest.c) */
	shadow_shared shadow;		/* the shadow copy's state (shadow.c) */
	int			nslots;
	request_slot slots[FLEXIBLE_ARRAY_MEMBER];
} engine_shared;

extern engine_shared *engine_shm;
extern LWLock *engine_state_lock;

/* Install the shared-memory hooks (from _PG_init; only when preloading). */
void		shmem_init(void);

/* Is shared memory there (the library was preloaded)? */
bool		shmem_attached(void);

/* ERROR unless it is; every SQL entry point that touches it calls this. */
void		shmem_require(void);

/* Lay out an empty engine in the arena (worker, holding the state lock). */
core_engine *shmem_create_core(void);

/* The core in the arena; only meaningful once the worker has created it. */
core_engine *shmem_core(void);

/* The arena's and the shadow's first byte, and their (equal) usable size. */
char	   *shmem_arena_base(void);
char	   *shmem_shadow_base(void);
Size		shmem_arena_bytes(void);

/*
 * Map len bytes from p into this process's page tables in one call
 * (madvise MADV_POPULATE_WRITE, or _READ when write is false), allocating
 * what nobody touched yet: one system call instead of a page fault per
 * page, which is what a first walk over the arena costs otherwise.  A
 * kernel without it (before Linux 5.14) leaves the pages to fault in.
 */
void		shmem_populate(void *p, Size len, bool write);

/*
 * Read one byte of every page of [p, p + len) in this process.  On the
 * development VM (a virtual machine whose host builds its own page tables
 * lazily) the first access of a process to each page costs about 7 us —
 * 0.3 s for 180 MB — whether or not madvise mapped it first; touching is
 * what pays it.  The worker touches the shadow before its first copy, so
 * that the copy (the pause) costs a memcpy.
 */
void		shmem_touch(const void *p, Size len);

#endif							/* ENGINE_PG_SHMEM_H */
