/*
 * recovery_scratch.c — the scratch memory of recovery's checks (tens of MB
 * at a million orders): recovery_scratch_get and _release (worker.h).
 *
 * Owns: one mapping at a time, or the loan of the shadow.  Must never:
 * hold the shadow beyond recovery_scratch_release, or while anybody reads
 * the copy (shadow_borrow refuses then).
 */
#include "postgres.h"

#include <sys/mman.h>

#include "shadow.h"
#include "shmem.h"
#include "worker.h"

/*
 * Recovery's scratch (the checked restore's: tens of MB at a million
 * orders).  Borrowed from the shadow while the worker recovers
 * (shadow_borrow: its pages exist, the prewarm process allocated them, so
 * one populate call maps them); otherwise (somebody reads the copy: a
 * follower that reloads while it serves, a snapshot writer still walking a
 * copy) mapped privately, with 2 MB pages where the kernel offers them
 * (transparent huge pages in "madvise" mode) — every fresh page costs a
 * zeroing fault, several microseconds per 4 kB on a virtual machine.
 * Kept for the next load if an ERROR cuts a load short (a follower retries
 * in the same process); given back or unmapped by recovery_scratch_release.
 */
static void *scratch_map = NULL;
static Size scratch_len = 0;
static bool scratch_borrowed = false;

void *
recovery_scratch_get(Size len)
{
	if (scratch_map != NULL && scratch_len >= len)
		return scratch_map;
	recovery_scratch_release();
	scratch_map = shadow_borrow(len);
	if (scratch_map != NULL)
	{
		scratch_borrowed = true;
		scratch_len = len;
		shmem_populate(scratch_map, len, true);
		return scratch_map;
	}
	scratch_map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch_map == MAP_FAILED)
	{
		scratch_map = NULL;
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("engine: could not map %zu bytes for the snapshot load: %m", (size_t) len)));
	}
	scratch_len = len;
#ifdef MADV_HUGEPAGE
	(void) madvise(scratch_map, len, MADV_HUGEPAGE);
#endif
	return scratch_map;
}

void
recovery_scratch_release(void)
{
	if (scratch_borrowed)
		shadow_give_back();
	else if (scratch_map != NULL)
		(void) munmap(scratch_map, scratch_len);
	scratch_map = NULL;
	scratch_len = 0;
	scratch_borrowed = false;
}
