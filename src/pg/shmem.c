/*
 * shmem.c — the engine's shared memory: the control block (status + request
 * slots), the core arena, and the "engine" LWLock tranche.
 *
 * Owns: sizing and initialising shared memory (PG15 request/startup hooks),
 * the status block and its state transitions, and the read protocol.
 * Must never: trust the arena's contents at worker start (a crash-restart
 * zeroes it, an exit(1) may leave it half-updated: the worker always
 * rebuilds it with core_create + recovery), or let a backend read the arena
 * while the state is not "ready".
 *
 * Layout:
 *   "engine control": engine_shared = status block, status CV, request slots
 *                     (one per PGPROC: slot i belongs to the process whose
 *                     MyProc->pgprocno is i, so a backend never searches);
 *   "engine arena":   the core's arena, sized by core_arena_size() from the
 *                     engine.max_* GUCs;
 *   tranche "engine": lock 0 guards the core state.
 *
 * Read protocol: the worker moves the state into or out of "ready" only while
 * holding engine_state_lock exclusively, and applies records only under it.
 * A backend takes the lock shared, checks the state is "ready", reads, and
 * releases.  So a reader never sees a half-applied record, and never reads an
 * arena that is being rebuilt.
 */
#include "postgres.h"

#include "access/twophase.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"

#include "engine.h"

#define ENGINE_TRANCHE       "engine"
#define ENGINE_TRANCHE_LOCKS 1
#define ARENA_ALIGNMENT      64	/* core_create wants a 64-byte aligned arena */

engine_shared *engine_shm = NULL;
LWLock	   *engine_state_lock = NULL;

static char *arena_base = NULL;
static Size arena_size = 0;

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
	ConditionVariableInit(&shm->status_cv);
	pg_atomic_init_u64(&shm->next_ticket, 1);
	shm->ext_oid = InvalidOid;
	pg_atomic_init_u32(&shm->ext_recheck, 0);
	pg_atomic_init_u64(&shm->snapshot_requests, 0);
	shm->nslots = slot_count();
	for (int i = 0; i < shm->nslots; i++)
	{
		request_slot *slot = &shm->slots[i];

		memset(slot, 0, sizeof(*slot));
		pg_atomic_init_u32(&slot->state, SLOT_FREE);
		ConditionVariableInit(&slot->cv);
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

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	engine_shm = ShmemInitStruct("engine control", control_size(), &found);
	if (!found)
		init_control(engine_shm);
	arena_size = arena_bytes();
	raw = ShmemInitStruct("engine arena", add_size(arena_size, ARENA_ALIGNMENT), &found);
	arena_base = (char *) TYPEALIGN(ARENA_ALIGNMENT, raw);
	engine_state_lock = &(GetNamedLWLockTranche(ENGINE_TRANCHE))[0].lock;
	LWLockRelease(AddinShmemInitLock);
}

void
shmem_install_hooks(void)
{
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
						 engine_database ? engine_database : "postgres")));
}

void *
shmem_arena(Size *size)
{
	*size = arena_size;
	return arena_base;
}

/* The core in the arena; only meaningful once the worker has created it. */
core_engine *
shmem_core(void)
{
	return (core_engine *) (arena_base + engine_shm->core_offset);
}

/* ------------------------------------------------------------ status */

const char *
engine_state_name(engine_state state)
{
	switch (state)
	{
		case ENGINE_STOPPED:
			return "stopped";
		case ENGINE_STARTING:
			return "starting";
		case ENGINE_WAITING:
			return "waiting";
		case ENGINE_RECOVERING:
			return "recovering";
		case ENGINE_READY:
			return "ready";
		case ENGINE_FAILED:
			return "failed";
	}
	return "unknown";
}

/*
 * Set the state and its detail text (NULL: empty) and wake everyone waiting
 * for a state change.  Transitions into or out of "ready" must be made with
 * engine_state_lock held exclusively (see the read protocol above).
 */
void
status_set_state(engine_state state, const char *detail_fmt,...)
{
	engine_status *st = &engine_shm->status;
	char		detail[ENGINE_DETAIL_MAX];

	detail[0] = '\0';
	if (detail_fmt)
	{
		va_list		ap;

		va_start(ap, detail_fmt);
		vsnprintf(detail, sizeof(detail), detail_fmt, ap);
		va_end(ap);
	}
	SpinLockAcquire(&st->mutex);
	st->state = state;
	strlcpy(st->detail, detail, sizeof(st->detail));
	SpinLockRelease(&st->mutex);
	ConditionVariableBroadcast(&engine_shm->status_cv);
}

/* A consistent copy of the status block. */
void
status_snapshot(engine_status *out)
{
	engine_status *st = &engine_shm->status;

	SpinLockAcquire(&st->mutex);
	memcpy(out, st, sizeof(*out));
	SpinLockRelease(&st->mutex);
}

/*
 * The current state, read without the spinlock (an aligned int is read
 * whole): for fast paths that only need to know whether it is "ready".
 */
engine_state
status_state(void)
{
	return ((volatile engine_status *) &engine_shm->status)->state;
}

/*
 * The error for "the engine cannot serve this now".  waited says whether the
 * caller already waited engine.request_timeout (and withdrew its request).
 */
void
status_error_not_ready(const engine_status *st, bool waited)
{
	if (st->state == ENGINE_FAILED)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("engine has failed: %s", st->detail),
				 errdetail("The engine refuses commands and reads until the cause is repaired."),
				 errhint("Repair the cause, then restart the engine worker: SELECT pg_terminate_backend(%d);",
						 st->worker_pid)));

	if (st->state == ENGINE_RECOVERING)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("engine is not ready (state: recovering, " INT64_FORMAT " of " INT64_FORMAT " log records replayed)",
						st->replayed, st->replay_total),
				 waited ? errdetail("Waited engine.request_timeout (%d ms); the request was withdrawn and will not run.",
									engine_request_timeout_ms) : 0));

	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("engine is not ready (state: %s%s%s)",
					engine_state_name(st->state),
					st->detail[0] ? ", " : "", st->detail),
			 waited ? errdetail("Waited engine.request_timeout (%d ms); the request was withdrawn and will not run.",
								engine_request_timeout_ms) : 0,
			 RecoveryInProgress()
			 ? errhint("This server is a standby; the engine worker runs on the primary.")
			 : (st->state == ENGINE_STOPPED || st->state == ENGINE_STARTING)
			 ? errhint("The worker serves database \"%s\" (engine.database); see the server log.",
					   engine_database) : 0));
}

/* ------------------------------------------------------------ reads */

/*
 * After DROP EXTENSION + CREATE EXTENSION the worker still serves the old
 * extension's state until it notices (it restarts and rebuilds from the new
 * tables).  A backend that sees a different extension than the worker
 * serves treats the engine as not ready, and pokes the worker to look now.
 */
bool
serving_current_extension(void)
{
	static TimestampTz checked_for = 0;	/* statement whose check succeeded */
	Oid			mine;
	Oid			served = ((volatile engine_shared *) engine_shm)->ext_oid;
	int			procno;

	/* Once per statement is enough: the extension cannot change within one. */
	if (checked_for == GetCurrentStatementStartTimestamp() && OidIsValid(served))
		return true;
	mine = get_extension_oid(ENGINE_EXTENSION_NAME, true);
	if (mine == served)
	{
		checked_for = GetCurrentStatementStartTimestamp();
		return true;
	}
	pg_atomic_write_u32(&engine_shm->ext_recheck, 1);
	procno = ((volatile engine_status *) &engine_shm->status)->worker_procno;
	if (procno >= 0)
		SetLatch(&ProcGlobal->allProcs[procno].procLatch);
	return false;
}

/*
 * Take the state lock shared and return the core, or ERROR (lock released)
 * if the engine is not ready — except inside a command (after
 * request_wait_ready), where it waits for readiness until the command's
 * deadline, as the command itself would.  Pair with read_end().  Between the two, do no
 * I/O and nothing that can wait: copy what you need out, then format it.
 */
core_engine *
read_begin(void)
{
	TimestampTz deadline;

	for (;;)
	{
		/* Inside a command, wait for the worker like the command does. */
		bool		in_command = request_command_deadline(&deadline);

		shmem_require();
		if (status_state() == ENGINE_READY && !serving_current_extension())
		{
			if (in_command)
			{
				request_wait_ready(deadline);
				continue;
			}
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("engine is not ready (the extension was re-created; the worker is restarting)")));
		}
		LWLockAcquire(engine_state_lock, LW_SHARED);
		if (status_state() == ENGINE_READY)
			return shmem_core();
		LWLockRelease(engine_state_lock);
		if (in_command)
		{
			request_wait_ready(deadline);
			continue;
		}
		{
			engine_status st;

			status_snapshot(&st);
			status_error_not_ready(&st, false);
		}
	}
}

void
read_end(void)
{
	LWLockRelease(engine_state_lock);
}
