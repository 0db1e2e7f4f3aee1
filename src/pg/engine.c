/*
 * engine.c — the library's entry point: _PG_init calls each subsystem's
 * init, in the order they depend on each other.
 *
 * Must never: do anything itself.  Each init knows whether it may act when
 * the library is loaded by a backend after start-up (only settings_init
 * does; shared memory and the worker need shared_preload_libraries).
 */
#include "postgres.h"

#include "fmgr.h"

#include "api/api.h"
#include "records.h"
#include "settings.h"
#include "shmem.h"
#include "worker/worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	settings_init();
	records_init();
	shmem_init();
	prewarm_init();
	worker_init();
	install_init();
}
