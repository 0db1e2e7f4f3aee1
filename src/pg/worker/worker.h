/*
 * worker.h — the engine's own processes (src/pg/worker/): the worker's main
 * loop (worker.c), its database session (session.c: connecting, the settings
 * it pins), one batch (batch.c), duplicate detection (dedup.c), the journal
 * writers (journal.c), the notification after a batch (events.c), the
 * manifest of its tables (manifest.c), replaying the log (replay.c),
 * recovery (recovery.c), following the primary on a standby (follower.c),
 * when to take a snapshot and copies (checkpoint.c; the rows and the
 * snapshot writer process are snapshot.h's), and the prewarm process
 * (prewarm.c).
 *
 * Everything declared here runs only in the worker process, the only writer
 * of the engine state and of the engine tables but for the snapshot tables
 * and the log rows the snapshot writer prunes.  Any ERROR ends the worker
 * (exit code 1) and the next one rebuilds from what committed.
 */
#ifndef ENGINE_PG_WORKER_H
#define ENGINE_PG_WORKER_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "access/skey.h"
#include "postmaster/bgworker.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

#include "core.h"
#include "slots.h"
#include "status.h"

/* ------------------------------------------------------------ worker.c */

/* Register the worker (from _PG_init; only when preloading). */
void		worker_init(void);
PGDLLEXPORT void worker_main(Datum arg);

/* ------------------------------------------------------------ prewarm.c */

/* Register the prewarm worker (from _PG_init; only when preloading). */
void		prewarm_init(void);
PGDLLEXPORT void prewarm_main(Datum arg);

/* ------------------------------------------------------------ ringscan.c */

/*
 * An index scan in key order whose heap pages come through a small ring of
 * shared buffers (ringscan.c says why).  After ring_scan_next returns true,
 * values/isnull hold the tuple's columns, valid until the next call.
 */
typedef struct ring_scan
{
	Relation	heap;
	Snapshot	snapshot;
	struct IndexScanDescData *scan;
	struct BufferAccessStrategyData *strategy;
	int			buffer;			/* Buffer */
	int			natts;
	Datum	   *values;
	bool	   *isnull;
} ring_scan;

void		ring_scan_begin(ring_scan *rs, Relation heap, Relation index,
							ScanKey keys, int nkeys, Snapshot snap);
bool		ring_scan_next(ring_scan *rs);
void		ring_scan_end(ring_scan *rs);

/* ------------------------------------------------------------ clock.c */

/* Wall milliseconds since t. */
int64		ms_since(TimestampTz t);

/* CPU milliseconds this process has used (user + system). */
int64		process_cpu_ms(void);

/* Columns of engine.command_log: seq, rectype, ts, payload, crc. */
#define COMMAND_LOG_COLUMNS 5

/* ------------------------------------------------------------ log_reader.c */

/*
 * The log reader: another process that reads and CRC-checks the command
 * log's rows after a seq and streams them to the worker while it recovers
 * (log_reader.c says why the stream may stop anywhere).
 */
typedef struct log_reader log_reader;

/* One row as streamed: valid until the next log_reader_next. */
typedef struct log_row_ref
{
	int64		seq;
	TimestampTz ts;
	int16		rectype;
	const uint8 *payload;
	size_t		len;
} log_row_ref;

/*
 * Start a reader of the rows after from_seq; NULL when none can run
 * (engine.recovery_log_reader off, no background worker slot, a standby).
 * Call inside the transaction that replays, and stop it before it ends.
 */
log_reader *log_reader_start(int64 from_seq);

/*
 * The next row, waiting for it; false at the end of the stream (the
 * reader stopped, exited or never started).  Exits on SIGTERM.
 */
bool		log_reader_next(log_reader *lr, log_row_ref *row);

/* Stop listening (the reader exits) and free lr; NULL is a no-op. */
void		log_reader_stop(log_reader *lr);

PGDLLEXPORT void log_reader_main(Datum arg);

/* ------------------------------------------------------------ replay.c */

/*
 * A set of user ids (touched.c; replay collects the users whose accounts
 * changed).
 * With a limit, the set gives up once it holds more than limit users: it
 * frees its ids and says "all" (every user counts as touched), and adding
 * costs nothing from then on.
 */
typedef struct user_set
{
	uint64		n;
	uint64		cap;			/* a power of two, or 0 */
	int64	   *ids;
	bool	   *used;
	uint64		limit;			/* 0: none */
	bool		all;
} user_set;

void		user_set_add(user_set *s, int64 user_id);
void		user_set_free(user_set *s);

/*
 * The limit of recovery's set of touched users for an engine of c's
 * limits: past it, checking every account in one pass
 * (core_verify_all_accounts) costs less than checking each touched one
 * (core_verify_accounts).  max(1024, max_orders / 64): bench_core
 * --restore --checks measured the two equal at about 17k accounts for
 * 1M orders over 100k accounts (10 each; per-account walks 170-200 ms
 * for all of them, the pass 30-40 ms), and at 5k for 200k orders.
 */
uint64		replay_touched_limit(const core_engine *c);

typedef void (*replay_progress_fn) (void *arg, int64 replayed);

typedef struct replay_options
{
	user_set   *touched;		/* NULL, or gets every user whose account changed */
	replay_progress_fn progress;	/* NULL, or called every few 10k rows */
	void	   *progress_arg;
	bool		serving;		/* c is served (a follower): each record under the state lock */
	log_reader *reader;			/* NULL, or rows after core_seq(c) streamed by a log reader */
} replay_options;

typedef struct replay_result
{
	int64		replayed;		/* rows applied */
	int64		streamed;		/* ... of which the log reader read */
	TimestampTz last_ts;		/* the last one's timestamp (unchanged if none) */
	/*
	 * The first record applied whose capacity refusal was not yet compared
	 * with the live outcome (0: none).  Kept up to date as replay goes, so
	 * that after an ERROR out of replay_log the caller knows whether the
	 * state may have diverged unseen.
	 */
	int64		unchecked_seq;
	char		reason[ENGINE_DETAIL_MAX];	/* why it stopped, when it returns false */
} replay_result;

/*
 * Apply every command_log row after core_seq(c), in seq order, up to the
 * end of the log as this transaction sees it (the caller's transaction and
 * active snapshot; SPI connected).  Returns true with c at the log's last
 * seq, or false (and why) at the first row that is not the next one, is
 * damaged, cannot be replayed by this release, or diverges for capacity —
 * then c holds every row before it.  Memory does not grow with the log.
 * With opt->serving each record is applied whole under the state lock, so
 * readers see whole records only, and an ERROR out of it (a recovery
 * conflict on a standby) leaves c at a whole record, *out up to date.
 */
bool		replay_log(core_engine *c, replay_options *opt, replay_result *out);

/*
 * Why the log rows from seq `first` on, in a payload format older than
 * ENGINE_REPLAY_MIN_FORMAT, cannot be replayed: their seq range, the
 * release that wrote them and the fix (SPI connected).
 */
void		replay_old_format_reason(int64 first, int format, char *reason, size_t len);

/* ------------------------------------------------------------ recovery.c */

/* Map the arena into this process before the core is laid out in it. */
void		recovery_map_arena(void);

/*
 * Scratch memory for recovery's checks (recovery_scratch.c): len bytes, not
 * zeroed, valid until recovery_scratch_release or the next call with a
 * larger len.  ERROR (53200) if it cannot be had.
 */
void	   *recovery_scratch_get(Size len);
void		recovery_scratch_release(void);

/* Rebuild the arena from the tables; false (state "failed") if it cannot. */
bool		recovery_run(core_engine *c, TimestampTz *last_ts);

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
 * engine.snapshot_every says; engine.snapshot() waits at least
 * SNAPSHOT_EXPLICIT_GAP_MS after the previous snapshot ended (calls made
 * meanwhile share the next one).
 */
#define SNAPSHOT_MIN_GAP_MS 10000
#define SNAPSHOT_EXPLICIT_GAP_MS 1000

/* After recovery: the snapshot recovery started from is the newest. */
void		checkpoint_init(void);

/*
 * Between batches: follow the snapshot writer, start a snapshot that is
 * due (a copy of c and a writer), or copy c for readers who asked.
 */
void		checkpoint_between_batches(core_engine *c);

/* SIGTERM, between batches: the shutdown snapshot, durable on return. */
void		checkpoint_shutdown(core_engine *c);

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

/*
 * The snapshot writer's halves of manifest_note_snapshot: in the
 * transaction that wrote a snapshot, and in the one that pruned after it.
 */
void		manifest_note_snapshot_written(void);
void		manifest_note_prune(void);

/* ------------------------------------------------------------ session.c */

/* Connect to engine.database and pin the settings; NULL, or what could not be pinned. */
const char *session_connect(void);

/* Pin the worker's own settings again (after a reload); NULL, or what failed. */
const char *session_pin_settings(void);

/*
 * Start a helper process of the worker (the snapshot writer, the log
 * reader): a dynamic background worker running function(arg) of this
 * library, connected to a database, never restarted, that tells this
 * process when it starts and stops.  NULL if no slot is free.  The handle
 * is allocated in CurrentMemoryContext.
 */
BackgroundWorkerHandle *session_start_helper(const char *function, const char *name, Datum arg);

/*
 * In a helper process: connect to engine.database as the bootstrap superuser, even if it is
 * closed to connections, under application_name appname, with the
 * worker's pinned settings (ERROR if they cannot be pinned).
 */
void		session_connect_helper(const char *appname);

/* A pending SIGHUP: re-read postgresql.conf and pin the settings again (ERROR if that fails); false if none was pending. */
bool		session_reload_if_requested(void);

/* The worker is exiting: a failed connection's error goes into the status. */
void		session_exiting(void);

/* Does engine.database allow connections?  If not, why not.  Own transaction. */
bool		session_database_allows_connections(char *detail, size_t len);

/* Longest extension version text the worker compares. */
#define EXT_VERSION_MAX 64

/* The installed extension's oid (InvalidOid: none) and version.  In a transaction. */
Oid			session_extension(char *version, size_t len);

#endif							/* ENGINE_PG_WORKER_H */
