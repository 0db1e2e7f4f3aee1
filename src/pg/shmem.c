/*
 * shmem.c — the engine's shared memory: the control block (status + request
 * slots), the core arena, and the "engine" LWLock tranche.
 *
 * Owns: sizing and initialising shared memory (PG15 request/startup hooks):
 * the status block starts "stopped" with no worker, every request slot
 * FREE; and laying out an empty core in the arena.
 * Must never: trust the arena's contents at worker start (a crash-restart
 * zeroes it, an exit(1) may leave it half-updated: the worker always
 * rebuilds it with core_create + recovery).
 *
 * Layout:
 *   "engine control": engine_shared = status block, status CV, request slots
 *                     (one per PGPROC: slot i belongs to the process whose
 *                     MyProc->pgprocno is i, so a backend never searches);
 *   "engine arena":   the core's arena, sized by core_arena_size() from the
 *                     engine.max_* GUCs;
 *   "engine shadow":  the same size again, for the shadow copy (shadow.c);
 *   tranche "engine": lock 0 guards the core state (the read protocol is
 *                     status.c's).
 */
#include "postgres.h"

#include <sys/mman.h>
#include <unistd.h>

#include "access/twophase.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"

#include "settings.h"
#include "shmem.h"

#define ENGINE_TRANCHE       "engine"
#define ENGINE_TRANCHE_LOCKS 1
#define ARENA_ALIGNMENT      CORE_ARENA_ALIGN

engine_shared *engine_shm = NULL;
LWLock	   *engine_state_lock = NULL;

static char *arena_base = NULL;
static char *shadow_base = NULL;
static Size arena_size = 0;

/* Linux 5.14's madvise advice values, for headers that predate them. */
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Every PGPROC gets a slot: the array's size in proc.c's InitProcGlobal. */
static int
slot_count(void)
{
	return MaxBackends + NUM_AUXILIARY_PROCS + max_prepared_xacts;
}

static Size
control_size(void)
{
	return add_size(offsetof(engine_shared, slots),
					mul_size(slot_count(), sizeof(request_slot)));
}

static Size
arena_bytes(void)
{
	core_limits limits = engine_limits();
	size_t		need = core_arena_size(&limits);

	if (need == 0)
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("engine capacities are out of range"),
				 errdetail("engine.max_orders = %d, engine.max_accounts = %d, engine.max_symbols = %d, engine.max_assets = %d, balances = %u.",
						   engine_max_orders, engine_max_accounts, engine_max_symbols,
						   engine_max_assets, limits.max_balances)));
	return need;
}

static void
shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();

	RequestAddinShmemSpace(control_size());
	RequestAddinShmemSpace(add_size(arena_bytes(), ARENA_ALIGNMENT));
	RequestAddinShmemSpace(add_size(arena_bytes(), ARENA_ALIGNMENT));
	RequestNamedLWLockTranche(ENGINE_TRANCHE, ENGINE_TRANCHE_LOCKS);
}

static void
init_control(engine_shared *shm)
{
	engine_status *st = &shm->status;

	memset(shm, 0, offsetof(engine_shared, slots));
	SpinLockInit(&st->mutex);
	st->state = ENGINE_STOPPED;
	st->worker_procno = -1;
	st->promote_ms = -1;
	ConditionVariableInit(&shm->status_cv);
	pg_atomic_init_u64(&shm->next_ticket, 1);
	pg_atomic_init_u32(&shm->request_wake, 0);
	shm->ext_oid = InvalidOid;
	pg_atomic_init_u32(&shm->ext_recheck, 0);
	pg_atomic_init_u64(&shm->snapshot_requests, 0);
	pg_atomic_init_u32(&shm->prewarmed, 0);
	pg_atomic_init_u32(&shm->log_emptied, 0);
	pg_atomic_init_u32(&shm->shadow.readers, 0);
	pg_atomic_init_u32(&shm->shadow.writing, 0);
	pg_atomic_init_u64(&shm->shadow.requests, 0);
	ConditionVariableInit(&shm->shadow.cv);
	SpinLockInit(&shm->shadow.mutex);
	shm->shadow.seq = -1;
	shm->nslots = slot_count();
	for (int i = 0; i < shm->nslots; i++)
	{
		request_slot *slot = &shm->slots[i];

		memset(slot, 0, sizeof(*slot));
		pg_atomic_init_u32(&slot->state, SLOT_FREE);
		slot->segment = DSM_HANDLE_INVALID;
	}
}

static void
shmem_startup(void)
{
	bool		found;
	char	   *raw;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	/* Reset in case this is a restart within the postmaster. */
	engine_shm = NULL;
	arena_base = NULL;
	shadow_base = NULL;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	engine_shm = ShmemInitStruct("engine control", control_size(), &found);
	if (!found)
		init_control(engine_shm);
	arena_size = arena_bytes();
	raw = ShmemInitStruct("engine arena", add_size(arena_size, ARENA_ALIGNMENT), &found);
	arena_base = (char *) TYPEALIGN(ARENA_ALIGNMENT, raw);
	raw = ShmemInitStruct("engine shadow", add_size(arena_size, ARENA_ALIGNMENT), &found);
	shadow_base = (char *) TYPEALIGN(ARENA_ALIGNMENT, raw);
	engine_state_lock = &(GetNamedLWLockTranche(ENGINE_TRANCHE))[0].lock;
	LWLockRelease(AddinShmemInitLock);
}

void
shmem_init(void)
{
	if (!engine_preloaded)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = shmem_startup;
}

bool
shmem_attached(void)
{
	return engine_shm != NULL && arena_base != NULL;
}

/*
 * ERROR unless the library was preloaded and its shared memory exists.  Every
 * SQL entry point that touches shared memory calls this first.
 */
void
shmem_require(void)
{
	if (!shmem_attached())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("engine library is not loaded via shared_preload_libraries"),
				 errhint("Add to postgresql.conf and restart the server:\n"
						 "shared_preload_libraries = 'engine'\n"
						 "engine.database = '%s'",
						 engine_database_name())));
}

/*
 * Lay out an empty engine in the arena and remember where it is.  The
 * caller holds the state lock exclusively and the state is not "ready".
 */
core_engine *
shmem_create_core(void)
{
	core_limits limits = engine_limits();
	core_engine *c = core_create(arena_base, arena_size, &limits);

	if (c == NULL)
		elog(FATAL, "engine: core_create failed for the configured capacities");
	engine_shm->core_offset = (char *) c - arena_base;
	return c;
}

/* The core in the arena; only meaningful once the worker has created it. */
core_engine *
shmem_core(void)
{
	return (core_engine *) (arena_base + engine_shm->core_offset);
}

char *
shmem_arena_base(void)
{
	return arena_base;
}

char *
shmem_shadow_base(void)
{
	return shadow_base;
}

Size
shmem_arena_bytes(void)
{
	return arena_size;
}

void
shmem_populate(void *p, Size len, bool write)
{
	uintptr_t	start = (uintptr_t) p & ~((uintptr_t) 4095);
	uintptr_t	end = (uintptr_t) p + len;

	if (len == 0)
		return;
	/* EINVAL on kernels without it: the pages then fault in as they are used. */
	(void) madvise((void *) start, end - start, write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
}

void
shmem_touch(const void *p, Size len)
{
	const volatile char *c = p;
	Size		page = (Size) sysconf(_SC_PAGESIZE);
	char		sink = 0;

	for (Size at = 0; at < len; at += page)
		sink ^= c[at];
	if (len > 0)
		sink ^= c[len - 1];
	(void) sink;
}
