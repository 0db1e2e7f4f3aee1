/*
 * worker.h — the engine worker's own files (src/pg/worker/): the main loop
 * (worker.c), its database session (session.c: connecting, the settings it
 * pins), one batch (batch.c), duplicate detection (dedup.c), the journal
 * writers (journal.c), the notification after a batch (events.c), the
 * manifest of its tables (manifest.c), recovery (recovery.c), following the
 * primary on a standby (follower.c) and when to take a snapshot
 * (checkpoint.c; the rows are snapshot.h's).
 *
 * Everything declared here runs only in the worker process, the only writer
 * of the engine state and of the engine tables.  Any ERROR ends the worker
 * (exit code 1) and the next one rebuilds from what committed.
 */
#ifndef ENGINE_PG_WORKER_H
#define ENGINE_PG_WORKER_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"

#include "core.h"
#include "slots.h"

/* ------------------------------------------------------------ worker.c */

/* Register the worker (from _PG_init; only when preloading). */
void		worker_init(void);
PGDLLEXPORT void worker_main(Datum arg);

/* ------------------------------------------------------------ recovery.c */

/* Rebuild the arena from the tables; false (state "failed") if it cannot. */
bool		recovery_run(core_engine *c, TimestampTz *last_ts);

/* Apply the log rows after core_seq(c) (see recovery.c); -1 on a bad row. */
int64		recovery_replay_tail(core_engine *c, bool serving, int64 total,
								 TimestampTz *last_ts, char *reason, size_t len);
int64		recovery_unchecked_seq(void);

/* ------------------------------------------------------------ follower.c */

/*
 * On a hot standby: load the state, follow the primary's log and serve
 * reads until the server is promoted; returns with the tail applied, ready
 * to lead (see follower.c).
 */
core_engine *follow_until_promoted(core_engine *c, Oid ext_oid, TimestampTz *last_ts);

/*
 * Log records in a payload format below this were written by an earlier
 * release under other matching rules: replaying them with this release's
 * rules could silently reach another state than they reached live, so
 * recovery refuses them.  A clean shutdown of the release that wrote them
 * takes a snapshot that covers them, after which there is nothing to replay.
 */
#define ENGINE_REPLAY_MIN_FORMAT CORE_RECORD_FORMAT

/* False (and why) if the log after the newest snapshot starts with a record
 * this release does not replay; runs in a transaction of its own. */
bool		recovery_log_replayable(char *reason, size_t len);

/* ------------------------------------------------------------ checkpoint.c */

/*
 * Automatic snapshots never come closer together than this, whatever
 * engine.snapshot_every says (engine.snapshot() is not limited).
 */
#define SNAPSHOT_MIN_GAP_MS 10000

void		checkpoint_init(void);
const char *checkpoint_due(core_engine *c);
void		checkpoint_take(core_engine *c, const char *why);

/* ------------------------------------------------------------ batch.c */

/* Run the taken slots idx[0..n) as one batch (see batch.c). */
void		batch_run(core_engine *c, const int *idx, int nslots, Oid ext_oid, TimestampTz *last_ts);

/* ------------------------------------------------------------ events.c */

#define ENGINE_EVENTS_CHANNEL "engine_events"

/* Queue the batch's notification (sent when its transaction commits). */
void		events_notify_batch(int64 first_seq, int64 last_seq, int ntrades, TimestampTz ts);

/* ------------------------------------------------------------ dedup.c */

/* One command of the batch. */
typedef struct dedup_item
{
	request_item *req;			/* the command and its reply */
	int			slot;			/* index into the slot table of its request */
	bool		duplicate;
	int			original;		/* index (in the batch) of an earlier command with its key, or -1 */
	int64		order_id;		/* the original order (from client_keys), or 0 */
} dedup_item;

void		dedup_check(dedup_item *items, int n);
void		dedup_reply(const core_engine *c, request_item *req, int64 order_id);

/* ------------------------------------------------------------ journal.c */

/* One batch's rows, gathered by batch.c and written by log_append_batch. */
typedef struct log_order_event
{
	int64		seq;
	int32		ev_no;
	core_order_event ev;
	const char *client_order_id;	/* NULL unless the PLACE that created it */
} log_order_event;

typedef struct log_trade
{
	int64		seq;
	core_trade_event tr;
} log_trade;

typedef struct log_key
{
	int64		user_id;
	char		kind;
	const char *key;
	int64		order_id;		/* 0: none */
	int64		seq;
} log_key;

typedef struct log_batch
{
	TimestampTz ts;
	int			nrecords;
	int64	   *seqs;
	int16	   *rectypes;
	bytea	  **payloads;
	int32	   *crcs;
	int			nevents;
	log_order_event *events;
	int			ntrades;
	log_trade  *trades;
	int			nkeys;
	log_key    *keys;
} log_batch;

void		log_append_batch(const log_batch *b);
void		log_append_refdata(const core_record *rec, const core_result *res, int64 seq,
							   TimestampTz ts);

/* ------------------------------------------------------------ manifest.c */

/* A restore that is not whole yet (and what it waits for)?  Own transaction. */
bool		manifest_restore_pending(char *detail, size_t len);

/* After recovery: the manifest row says what the tables hold.  Own transaction. */
void		manifest_load(void);

/* In a batch's transaction, after its rows: tables that now hold rows. */
void		manifest_note_batch(const log_batch *lb, bool refdata);

/* In a snapshot's transaction, after pruning: the log and snapshot tables again. */
void		manifest_note_snapshot(void);

/* ------------------------------------------------------------ session.c */

/* Connect to engine.database and pin the settings; NULL, or what could not be pinned. */
const char *session_connect(void);

/* Pin the worker's own settings again (after a reload); NULL, or what failed. */
const char *session_pin_settings(void);

/* The worker is exiting: a failed connection's error goes into the status. */
void		session_exiting(void);

/* Does engine.database allow connections?  If not, why not.  Own transaction. */
bool		session_database_allows_connections(char *detail, size_t len);

/* Longest extension version text the worker compares. */
#define EXT_VERSION_MAX 64

/* The installed extension's oid (InvalidOid: none) and version.  In a transaction. */
Oid			session_extension(char *version, size_t len);

#endif							/* ENGINE_PG_WORKER_H */
