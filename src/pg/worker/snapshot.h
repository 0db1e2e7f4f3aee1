/*
 * snapshot.h — engine snapshots in tables: writing and pruning them
 * (snapshot.c), listing and loading them (snapshot_load.c, and
 * snapshot_load_rows.c for release 1.0's format), and the process that
 * writes them off the worker's path (snapshot_writer.c).
 */
#ifndef ENGINE_SNAPSHOT_H
#define ENGINE_SNAPSHOT_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "storage/lockdefs.h"
#include "utils/relcache.h"

#include "core.h"

/*
 * Formats of engine.snapshots.format: 1 is release 1.0's rows (one row per
 * item in engine.snapshot_assets/_symbols/_balances/_orders), 2 is chunks
 * of items in bytes (engine.snapshot_chunks).  This release writes 2 and
 * reads both.
 */
#define SNAPSHOT_FORMAT_ROWS   1
#define SNAPSHOT_FORMAT_CHUNKS 2
#define SNAPSHOT_FORMAT        SNAPSHOT_FORMAT_CHUNKS

/*
 * Bytes of items in one chunk: the row (about 60 bytes more) then fits one
 * heap page with room to spare, so it is stored inline (data has STORAGE
 * PLAIN) and read without TOAST.
 */
#define SNAPSHOT_CHUNK_BYTES 8000

/* One row of engine.snapshots: what a snapshot promises to contain. */
typedef struct snapshot_meta
{
	int64		seq;
	int32		format;
	TimestampTz taken_at;
	char		digest[33];
	int64		next_order_id;
	int64		next_trade_id;
	int64		assets;
	int64		symbols;
	int64		accounts;
	int64		balances;
	int64		orders;
} snapshot_meta;

/* Called during a load with the items restored so far. */
typedef void (*snapshot_progress_fn) (void *arg, int64 items_written);

/*
 * Called during a write after each batch of chunk rows handed to the table,
 * with the items and the bytes of chunk data written so far.
 */
typedef void (*snapshot_write_progress_fn) (void *arg, int64 items_written, int64 bytes_written);

/*
 * Write the state c as snapshot number core_seq(c), inside the caller's
 * transaction (the caller commits) with SPI connected.  If a snapshot of
 * that seq exists already, writes nothing.  Returns the items written
 * (assets + symbols + balances + orders), 0 if it existed.
 */
extern int64 snapshot_write(const core_engine *c, TimestampTz taken_at,
							snapshot_write_progress_fn progress, void *arg);

/*
 * snapshot_write in two steps, so that the writer can let go of the copy
 * before the row that makes the snapshot count: the chunks (false, nothing
 * written, if a snapshot of that seq exists), then the engine.snapshots row.
 */
typedef struct snapshot_summary
{
	int64		seq;
	int64		items;
	core_counters counters;
	char		digest[33];
} snapshot_summary;

extern bool snapshot_write_chunks(const core_engine *c, snapshot_write_progress_fn progress, void *arg,
								  snapshot_summary *out);
extern void snapshot_write_row(const snapshot_summary *sum, TimestampTz taken_at);

extern int64 snapshot_prune(int keep, bool keep_log);
extern int	snapshot_list(snapshot_meta **out);
extern Relation snapshot_open_table(const char *name, LOCKMODE mode);

/*
 * Rebuild snapshot meta->seq into c, which the caller has just created
 * empty, checking the invariants as it restores (core_restore_order_checked
 * and core_verify_global): a snapshot that loads is a valid state.
 * Returns NULL on success, or why the snapshot cannot be used (then c is
 * half-built and must be created anew).  progress (may be NULL) is called
 * every few thousand items with the items restored so far.
 */
extern const char *snapshot_load(core_engine *c, const snapshot_meta *meta,
								 snapshot_progress_fn progress, void *arg);

/* The format-1 part of snapshot_load (snapshot_load_rows.c). */
extern const char *snapshot_load_rows(core_engine *c, const snapshot_meta *meta,
									  core_restore_check *rc, void *scratch);

/* ------------------------------------------------------------ the writer process */

/*
 * Start the writer for the job the worker just set up; NULL if no
 * background worker slot is free.  The handle is the caller's (palloc'd
 * in TopMemoryContext).
 */
extern struct BackgroundWorkerHandle *snapshot_writer_start(uint32 job_id);
PGDLLEXPORT void snapshot_writer_main(Datum arg);

#endif
