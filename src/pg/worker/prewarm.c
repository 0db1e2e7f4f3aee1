/*
 * prewarm.c — the "engine prewarm" background worker: maps the engine's
 * shared memory (the arena, then the shadow) into pages as soon as the
 * postmaster starts, while PostgreSQL's own startup or crash recovery runs,
 * so that the engine worker finds it allocated when it begins to rebuild.
 *
 * Why: on a fresh shared memory segment (every server start, and every
 * restart after a crash) each page costs a fault and an allocation the
 * first time anyone touches it — about a second for a 250 MB arena on the
 * development VM, which would otherwise be paid inside the engine's
 * recovery.  Started at BgWorkerStart_PostmasterStart, this process pays it
 * in parallel.  The worker still maps the arena into its own page tables
 * (shmem_populate), which is cheap once the pages exist.
 *
 * Owns: nothing but its process.  Must never: connect to a database or
 * write anything but its own pages' first touch (it never changes a byte).
 * After mapping it waits for shutdown, so that the postmaster restarts it
 * after a crash like the engine worker (a worker that exits with code 0 is
 * never started again).
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/timestamp.h"

#include "settings.h"
#include "shmem.h"
#include "worker.h"

/* Bytes mapped per call, so that SIGTERM is noticed in between. */
#define PREWARM_STEP (64 * 1024 * 1024)

void
prewarm_init(void)
{
	BackgroundWorker w;

	if (!engine_preloaded)
		return;
	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_PostmasterStart;
	w.bgw_restart_time = 10;
	strlcpy(w.bgw_library_name, "engine", BGW_MAXLEN);
	strlcpy(w.bgw_function_name, "prewarm_main", BGW_MAXLEN);
	strlcpy(w.bgw_name, "engine prewarm", BGW_MAXLEN);
	strlcpy(w.bgw_type, "engine prewarm", BGW_MAXLEN);
	RegisterBackgroundWorker(&w);
}

/* Map [base, base + len) a step at a time; false if asked to stop. */
static bool
map_region(char *base, Size len)
{
	for (Size at = 0; at < len; at += PREWARM_STEP)
	{
		if (ShutdownRequestPending)
			return false;
		shmem_populate(base + at, Min(PREWARM_STEP, len - at), true);
	}
	return true;
}

void
prewarm_main(Datum arg pg_attribute_unused())
{
	TimestampTz t0;

	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	t0 = GetCurrentTimestamp();
	if (map_region(shmem_arena_base(), shmem_arena_bytes()) &&
		map_region(shmem_shadow_base(), shmem_arena_bytes()))
	{
		pg_atomic_write_u32(&engine_shm->prewarmed, 1);
		elog(LOG, "engine: prewarm: mapped the arena and its shadow (2 x %zu MB) in " INT64_FORMAT " ms",
			 (size_t) (shmem_arena_bytes() >> 20), (GetCurrentTimestamp() - t0) / 1000);
	}
	while (!ShutdownRequestPending)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	proc_exit(0);
}
