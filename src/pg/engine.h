/*
 * engine.h — declarations shared by the PostgreSQL shell (src/pg/).
 *
 * The shell hosts the pure-C core (src/core/core.h) inside PostgreSQL: it
 * places the core's arena in shared memory, moves command records from SQL
 * callers to the one background worker that applies them, journals every
 * sequenced record in engine.command_log, and serves reads from the arena.
 * Nothing in the shell decides a trading outcome; the core does.
 *
 * Who may touch what:
 *   - the core arena: the worker writes it, holding engine_state_lock
 *     exclusively; backends read it holding the lock shared and only while
 *     the status says "ready" (see shmem.c for the protocol);
 *   - a request slot: its owner backend fills it while FREE; the worker owns
 *     it from TAKEN until it publishes DONE (see request.c);
 *   - the status block: under its spinlock.
 */
#ifndef ENGINE_PG_ENGINE_H
#define ENGINE_PG_ENGINE_H

#include "postgres.h"

#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/lwlock.h"
#include "storage/spin.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "core.h"

#define ENGINE_EXTENSION_NAME "engine"
#define ENGINE_SCHEMA         "engine"

/*
 * The version of the extension's SQL objects this library serves: the
 * default_version of engine.control it ships with.  The worker serves only
 * an installed extension at this version; after a new library is installed,
 * ALTER EXTENSION engine UPDATE brings the catalog to it.
 */
#define ENGINE_SQL_VERSION    "1.1"

/* ------------------------------------------------------------ GUCs (engine.c) */

extern char *engine_database;
extern int	engine_max_orders;
extern int	engine_max_accounts;
extern int	engine_max_symbols;
extern int	engine_max_assets;
extern int	engine_max_balances;
extern int	engine_request_timeout_ms;
extern int	engine_synchronous_commit;
extern int	engine_snapshot_interval_s;
extern int	engine_snapshot_every;
extern int	engine_snapshot_keep;
extern bool engine_keep_log;

/* True when _PG_init ran while shared_preload_libraries was being processed. */
extern bool engine_preloaded;

/* Capacities the arena is built with, from the PGC_POSTMASTER GUCs. */
core_limits engine_limits(void);

/* The synchronous_commit value the worker sets for its own transactions. */
const char *engine_synchronous_commit_name(void);

/* False only for engine.synchronous_commit = off: commits need no flush. */
bool		engine_synchronous_commit_flushes(void);

/* ------------------------------------------------------------ shared memory (shmem.c) */

typedef enum engine_state
{
	ENGINE_STOPPED = 0,			/* no worker process (restart pending) */
	ENGINE_STARTING,			/* worker connecting to engine.database */
	ENGINE_WAITING,				/* worker waiting for CREATE EXTENSION engine */
	ENGINE_RECOVERING,			/* rebuilding the state from the tables */
	ENGINE_READY,				/* serving commands and reads */
	ENGINE_FAILED				/* recovery found a problem; refusing commands */
} engine_state;

#define ENGINE_DETAIL_MAX 512

typedef struct engine_status
{
	slock_t		mutex;
	engine_state state;
	int			worker_pid;
	int			worker_procno;	/* whose latch to set; -1 if none */
	uint32		worker_starts;	/* worker processes started since server start */
	TimestampTz started_at;		/* current worker's start */
	int64		last_seq;		/* last committed seq */
	int64		snapshot_seq;	/* newest snapshot loaded or written (0: none) */
	TimestampTz snapshot_at;
	int64		snapshot_ms;	/* how long the last snapshot write paused the worker */
	int64		snapshot_rows;	/* rows the last snapshot wrote */
	uint64		snapshots_served;	/* engine.snapshot() requests answered */
	int64		served_seq;		/* the seq the last answered request got */
	int64		replay_total;	/* log records to replay at the last start */
	int64		replayed;		/* ... of which replayed so far */
	int64		recovery_ms;
	int64		batches;		/* batches committed by the current worker */
	int64		commands;		/* records sequenced by the current worker */
	int64		duplicates;		/* requests answered as duplicates */
	char		detail[ENGINE_DETAIL_MAX];	/* why failed / what it waits for */
} engine_status;

/* Request slot states; transitions in request.c's header comment. */
#define SLOT_FREE       0
#define SLOT_SUBMITTED  1
#define SLOT_TAKEN      2
#define SLOT_DONE       3
#define SLOT_ABANDONED  4

/* Dedup key kinds (engine.client_keys.kind). */
#define KEY_NONE  '\0'
#define KEY_ORDER 'o'			/* client_order_id of a PLACE */
#define KEY_REF   'r'			/* ref of a DEPOSIT or WITHDRAW */

#define ENGINE_REF_MAX 128		/* bytes of a deposit/withdraw ref */
#define ENGINE_KEY_MAX ENGINE_REF_MAX

/* How the worker answered. */
#define REPLY_APPLIED    1		/* sequenced and applied; res is the core's result */
#define REPLY_DUPLICATE  2		/* a repeated key: not sequenced; res is the current state */
#define REPLY_LOST       3		/* committed at seq, but the worker restarted before replying */
#define REPLY_FAILED     4		/* workers died ENGINE_MAX_ATTEMPTS times running it; not executed */

/*
 * A request whose batch never committed is run again by the next worker,
 * alone in its batch; after this many attempts it is answered REPLY_FAILED,
 * so one request that makes the worker fail cannot block the engine.
 */
#define ENGINE_MAX_ATTEMPTS 3

typedef struct engine_reply
{
	uint8		kind;			/* REPLY_* */
	int64		seq;			/* the record's seq (0 for a duplicate) */
	XLogRecPtr	commit_lsn;		/* WAL the answer depends on; durable before the caller hears it */
	core_result res;
	char		client_order_id[CORE_CLIENT_ID_MAX + 1];	/* of the order acted on */
} engine_reply;

typedef struct request_slot
{
	pg_atomic_uint32 state;		/* SLOT_* */
	ConditionVariable cv;		/* the owner sleeps here */
	int			owner_pid;
	uint64		ticket;			/* submission order; the batch is sorted by it */
	core_record rec;
	char		key_kind;		/* KEY_* */
	int64		key_user;
	char		key[ENGINE_KEY_MAX + 1];
	int64		seq;			/* set by the worker when it applies the record */
	uint32		attempts;		/* batches it was taken into */
	engine_reply reply;
} request_slot;

typedef struct engine_shared
{
	engine_status status;
	ConditionVariable status_cv;	/* broadcast whenever status.state changes */
	pg_atomic_uint64 next_ticket;
	Size		core_offset;	/* core_t within the arena, set by the worker */
	Oid			ext_oid;		/* the extension the worker serves (InvalidOid: none) */
	pg_atomic_uint32 ext_recheck;	/* a backend saw another extension: look again */
	pg_atomic_uint64 snapshot_requests;	/* engine.snapshot() calls so far */
	int			nslots;
	request_slot slots[FLEXIBLE_ARRAY_MEMBER];
} engine_shared;

extern engine_shared *engine_shm;
extern LWLock *engine_state_lock;

void		shmem_install_hooks(void);
bool		shmem_attached(void);
void	   *shmem_arena(Size *size);
core_t	   *shmem_core(void);

void		status_set_state(engine_state state, const char *detail_fmt,...) pg_attribute_printf(2, 3);
void		status_snapshot(engine_status *out);
engine_state status_state(void);
const char *engine_state_name(engine_state state);

/* Is the worker serving the extension this backend sees? */
bool		serving_current_extension(void);

/* Reads: take the state lock shared and make sure the engine is ready. */
core_t	   *read_begin(void);
void		read_end(void);

/* ERROR because the engine is not ready (or has failed); never returns. */
void		status_error_not_ready(const engine_status *st, bool waited) pg_attribute_noreturn();
void		shmem_require(void);

/* ------------------------------------------------------------ requests (request.c) */

TimestampTz request_deadline(void);
int64		request_snapshot(TimestampTz deadline);
void		request_wait_ready(TimestampTz deadline);
bool		request_command_deadline(TimestampTz *deadline);
void		request_execute(const core_record *rec, char key_kind, int64 key_user,
							const char *key, TimestampTz deadline, engine_reply *out);

/* ------------------------------------------------------------ command log (cmdlog.c) */

typedef struct log_rectype
{
	const char *name;			/* "PLACE", ... */
	void		(*redo) (core_t *c, const core_record *rec, core_event_fn fn,
						 void *ctx, core_result *out);
	size_t		(*desc) (const core_record *rec, char *buf, size_t buflen);
	const char *(*validate) (const core_record *rec);
	char		key_kind;		/* dedup key this type may carry */
} log_rectype;

const log_rectype *log_rectype_get(int type);
uint32		log_crc(int64 seq, TimestampTz ts, const uint8 *payload, size_t len);

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

/* ------------------------------------------------------------ worker side */

PGDLLEXPORT void worker_main(Datum arg);
void		worker_register(void);

/* recovery.c: rebuild the arena from the tables; false if it failed. */
bool		recovery_run(core_t *c, TimestampTz *last_ts);

/*
 * Log records in a payload format below this were written by an earlier
 * release under other matching rules: replaying them with this release's
 * rules could silently reach another state than they reached live, so
 * recovery refuses them.  A clean shutdown of the release that wrote them
 * takes a snapshot that covers them, after which there is nothing to replay.
 */
#define ENGINE_REPLAY_MIN_FORMAT CORE_RECORD_FORMAT

/* recovery.c: false (and why) if the log after the newest snapshot starts
 * with a record this release does not replay. */
bool		recovery_log_replayable(char *reason, size_t len);

/* ------------------------------------------------------------ snapshots (checkpoint.c) */

/*
 * Automatic snapshots never come closer together than this, whatever
 * engine.snapshot_every says (engine.snapshot() is not limited).
 */
#define SNAPSHOT_MIN_GAP_MS 10000

void		checkpoint_init(core_t *c);
const char *checkpoint_due(core_t *c);
void		checkpoint_take(core_t *c, const char *why);

/* batch.c: take the submitted slots, run them as one batch. */
int			batch_take(int *out);
void		batch_run(core_t *c, const int *idx, int n, Oid ext_oid, TimestampTz *last_ts);

/* dedup.c */
typedef struct dedup_item
{
	int			slot;			/* index into engine_shm->slots */
	bool		duplicate;
	int			original;		/* slot index of an earlier request in this batch, or -1 */
	int64		order_id;		/* the original order (from client_keys), or 0 */
} dedup_item;

void		dedup_check(dedup_item *items, int n);
void		dedup_reply(core_t *c, request_slot *slot, int64 order_id);

/* ------------------------------------------------------------ conversions (convert.c) */

int64		numeric_to_units(Numeric num, int decimals, const char *argname,
							 const char *unit_name);
Datum		units_to_numeric(int64 units, int decimals);
int32		numeric_to_ppm(Numeric num, const char *argname);
char	   *units_to_cstring(int64 units, int decimals);
char	   *units_to_cstring_trim(int64 units, int decimals);
int64		pow10_int64(int n);

#endif							/* ENGINE_PG_ENGINE_H */
