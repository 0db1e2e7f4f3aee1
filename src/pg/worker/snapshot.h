/*
 * snapshot.h — engine snapshots in tables: writing and pruning them
 * (snapshot.c), listing and loading them (snapshot_load.c).
 */
#ifndef ENGINE_SNAPSHOT_H
#define ENGINE_SNAPSHOT_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/lockdefs.h"
#include "utils/relcache.h"

#include "core.h"

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

extern int64 snapshot_write(const core_engine *c, TimestampTz taken_at, int64 *seq_out);
extern const char *snapshot_load(core_engine *c, const snapshot_meta *meta);
extern int64 snapshot_prune(int keep, bool keep_log);
extern int	snapshot_list(snapshot_meta **out);
extern Relation snapshot_open_table(const char *name, LOCKMODE mode);

#define SNAPSHOT_FORMAT 1

#endif
