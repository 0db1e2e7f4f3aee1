/*
 * log_reader.c — the "engine log reader": a short-lived background worker
 * that reads the command log's tail for the worker while it recovers, so
 * that the index scan, the page reads and the CRC check of every row run on
 * another CPU, beside the snapshot load and then beside the core's redo.
 *
 * The worker starts it (log_reader_start) with the seq of the snapshot it is
 * about to load.  The reader scans command_log from the row after it, in
 * seq order (ringscan.c), and sends each row that is whole — no NULL column,
 * a payload of at most CORE_RECORD_MAX_BYTES, its CRC right, its seq the one
 * after the last — through a message queue (shm_mq) in a dynamic shared
 * memory segment, many rows per message.  It reads with the worker's own
 * snapshot (passed in the segment, as a parallel query's workers get
 * theirs), so it sees exactly the rows the worker would.  At the first row
 * that is not whole, or at the end of the log, it stops and exits.
 *
 * It decides nothing.  The worker checks each row it receives as replay
 * does (seq, format, decoding, rectype) and stops taking rows at the first
 * that fails; whatever the stream did, replay then goes on with its own
 * scan from the row after the last one applied (replay.c), which finds the
 * row the reader stopped at — with replay's own error for it — or nothing.
 * So a reader that cannot start, dies or stops early costs time, never a
 * row, and the outcome is the one replay reaches without it.
 *
 * Owns: its process and the queue's segment.  Must never: write anything;
 * send a row out of seq order or one whose CRC it did not check.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "tcop/tcopprot.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "records.h"
#include "settings.h"
#include "snapshot.h"
#include "worker.h"

/*
 * The queue: a few MB, so that the reader can run well ahead of the redo
 * (every page of a new segment costs each process a fault the first time,
 * so not more), in messages of at most LOG_READER_MESSAGE_BYTES.
 */
#define LOG_READER_QUEUE_BYTES (4 * 1024 * 1024)
#define LOG_READER_MESSAGE_BYTES (64 * 1024)

/* The head of the segment. */
typedef struct log_reader_shared
{
	int64		from_seq;		/* send the rows after this seq */
	Size		snapshot_at;	/* offset of the worker's snapshot, serialized */
	PGPROC	   *worker;			/* whose transaction holds that snapshot */
	Oid			log_relid;		/* engine.command_log, locked by the worker */
	Oid			log_pk;			/* ... and its primary key */
} log_reader_shared;

/* One row in a message, followed by its payload, padded to MAXALIGN. */
typedef struct log_entry
{
	int64		seq;
	TimestampTz ts;
	int16		rectype;
	uint16		len;			/* payload bytes */
} log_entry;

#define ENTRY_BYTES(len) MAXALIGN(sizeof(log_entry) + (len))

struct log_reader
{
	dsm_segment *seg;
	shm_mq_handle *mqh;
	BackgroundWorkerHandle *handle;
	const char *msg;			/* the message being read */
	Size		msg_len;
	Size		at;				/* offset of the next entry in it */
	bool		done;			/* the reader detached and everything was read */
};

/* The segment: the head, the queue, the worker's snapshot. */
static shm_mq *
queue_of(log_reader_shared *sh)
{
	return (shm_mq *) ((char *) sh + MAXALIGN(sizeof(log_reader_shared)));
}

/* ------------------------------------------------------------ the worker's side */

log_reader *
log_reader_start(int64 from_seq)
{
	Relation	rel;
	Oid			relid;
	Oid			pk;
	Snapshot	snap;
	dsm_segment *seg;
	log_reader_shared *sh;
	shm_mq	   *mq;
	log_reader *lr;

	if (!engine_recovery_log_reader || RecoveryInProgress())
		return NULL;
	/*
	 * Locks: the worker takes the ones its replay will need before the
	 * reader exists, and the reader only takes them if they are free at
	 * once (else it exits and the worker reads the log itself).  The
	 * worker waits for the reader through a latch, which the deadlock
	 * detector does not see: were the worker to queue for its lock behind
	 * an ACCESS EXCLUSIVE request (VACUUM FULL, ALTER TABLE) that queues
	 * behind the reader's lock, while the reader waits for the worker to
	 * make room in the queue, nothing would ever give way.
	 */
	rel = snapshot_open_table("command_log", AccessShareLock);
	pk = RelationGetPrimaryKeyIndex(rel);
	relid = RelationGetRelid(rel);
	table_close(rel, NoLock);	/* the lock stays until the transaction ends */
	if (!OidIsValid(pk))
		return NULL;			/* replay says what is wrong */
	LockRelationOid(pk, AccessShareLock);

	/*
	 * The reader reads with the worker's snapshot (the active one, held
	 * until the worker's replay ends), so that it sees the rows the
	 * worker's own scan would see and no others: a row committed since
	 * (something other than the worker writing the log) could otherwise
	 * come with live outcomes the worker's capacity check cannot see.
	 */
	snap = GetActiveSnapshot();
	seg = dsm_create(MAXALIGN(sizeof(log_reader_shared)) + LOG_READER_QUEUE_BYTES +
					 EstimateSnapshotSpace(snap),
					 DSM_CREATE_NULL_IF_MAXSEGMENTS);
	if (seg == NULL)
		return NULL;
	sh = dsm_segment_address(seg);
	sh->from_seq = from_seq;
	sh->snapshot_at = MAXALIGN(sizeof(log_reader_shared)) + LOG_READER_QUEUE_BYTES;
	SerializeSnapshot(snap, (char *) sh + sh->snapshot_at);
	sh->worker = MyProc;
	sh->log_relid = relid;
	sh->log_pk = pk;
	mq = shm_mq_create(queue_of(sh), LOG_READER_QUEUE_BYTES);
	shm_mq_set_receiver(mq, MyProc);

	lr = palloc0(sizeof(log_reader));
	lr->seg = seg;
	lr->mqh = shm_mq_attach(mq, seg, NULL);

	lr->handle = session_start_helper("log_reader_main", "engine log reader",
									  UInt32GetDatum(dsm_segment_handle(seg)));
	if (lr->handle == NULL)
	{
		elog(LOG, "engine: recovery reads the command log itself: no background worker slot for the log reader");
		dsm_detach(seg);
		pfree(lr);
		return NULL;
	}
	/* A reader that never starts ends the stream like one that detaches. */
	shm_mq_set_handle(lr->mqh, lr->handle);
	return lr;
}

bool
log_reader_next(log_reader *lr, log_row_ref *row)
{
	const log_entry *e;

	while (lr->msg == NULL || lr->at >= lr->msg_len)
	{
		Size		n;
		void	   *data;
		shm_mq_result res;

		if (lr->done)
			return false;
		res = shm_mq_receive(lr->mqh, &n, &data, true);
		if (res == SHM_MQ_SUCCESS)
		{
			lr->msg = data;
			lr->msg_len = n;
			lr->at = 0;
			continue;
		}
		if (res == SHM_MQ_DETACHED)
		{
			lr->done = true;
			lr->msg = NULL;
			return false;
		}
		/* Empty for now: wait for the reader (or a signal). */
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, 0, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (ShutdownRequestPending)
			proc_exit(1);
		CHECK_FOR_INTERRUPTS();
	}
	e = (const log_entry *) (lr->msg + lr->at);
	row->seq = e->seq;
	row->ts = e->ts;
	row->rectype = e->rectype;
	row->payload = (const uint8 *) e + sizeof(log_entry);
	row->len = e->len;
	lr->at += ENTRY_BYTES(e->len);
	return true;
}

void
log_reader_stop(log_reader *lr)
{
	if (lr == NULL)
		return;
	/* Detaching tells a reader still sending to stop; it exits then. */
	shm_mq_detach(lr->mqh);
	dsm_detach(lr->seg);
	pfree(lr->handle);
	pfree(lr);
}

/* ------------------------------------------------------------ the reader */

/* Send the message in buf; false if the worker no longer listens. */
static bool
send_message(shm_mq_handle *mqh, const char *buf, Size len, bool last)
{
	return shm_mq_send(mqh, len, buf, false, last) == SHM_MQ_SUCCESS;
}

void
log_reader_main(Datum arg)
{
	dsm_segment *seg;
	log_reader_shared *sh;
	shm_mq_handle *mqh;
	Snapshot	snap;
	Relation	rel;
	Relation	idx;
	ring_scan	rs;
	ScanKeyData key;
	char	   *buf;
	Size		used = 0;
	int64		expected;
	int64		sent = 0;
	bool		listening = true;
	TimestampTz t0;
	int64		cpu0;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	CurrentResourceOwner = ResourceOwnerCreate(NULL, "engine log reader");
	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		proc_exit(0);			/* the worker gave up on it already */
	dsm_pin_mapping(seg);
	sh = dsm_segment_address(seg);
	shm_mq_set_sender(queue_of(sh), MyProc);
	mqh = shm_mq_attach(queue_of(sh), seg, NULL);

	/* Connected and pinned like the worker (session.c). */
	session_connect_helper("engine log reader");
	t0 = GetCurrentTimestamp();
	cpu0 = process_cpu_ms();
	pgstat_report_activity(STATE_RUNNING, "engine: reading the command log for recovery");
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	snap = RestoreSnapshot((char *) sh + sh->snapshot_at);
	RestoreTransactionSnapshot(snap, sh->worker);	/* ERROR if the worker's is gone */
	PushActiveSnapshot(snap);

	/* Only locks free at once (log_reader_start says why). */
	if (!ConditionalLockRelationOid(sh->log_relid, AccessShareLock) ||
		!ConditionalLockRelationOid(sh->log_pk, AccessShareLock))
	{
		elog(LOG, "engine: log reader: engine.command_log is locked by another session; "
			 "recovery reads the log itself");
		PopActiveSnapshot();
		CommitTransactionCommand();
		proc_exit(0);
	}
	rel = table_open(sh->log_relid, NoLock);
	if (RelationGetDescr(rel)->natts != COMMAND_LOG_COLUMNS)
		elog(ERROR, "engine: engine.command_log has an unexpected shape");
	idx = index_open(sh->log_pk, NoLock);
	expected = sh->from_seq + 1;
	ScanKeyInit(&key, 1, BTGreaterStrategyNumber, F_INT8GT, Int64GetDatum(sh->from_seq));
	ring_scan_begin(&rs, rel, idx, &key, 1, GetActiveSnapshot());
	buf = palloc(LOG_READER_MESSAGE_BYTES);
	while (listening && ring_scan_next(&rs))
	{
		Datum	   *v = rs.values;
		int64		seq;
		TimestampTz ts;
		bytea	   *payload;
		const uint8 *bytes;
		size_t		len;
		bool		whole = true;
		log_entry	e;

		for (int i = 0; i < COMMAND_LOG_COLUMNS; i++)
			whole = whole && !rs.isnull[i];
		if (!whole)
			break;
		seq = DatumGetInt64(v[0]);
		ts = DatumGetTimestampTz(v[2]);
		if (seq != expected)
			break;
		payload = DatumGetByteaPP(v[3]);
		bytes = (const uint8 *) VARDATA_ANY(payload);
		len = VARSIZE_ANY_EXHDR(payload);
		whole = len <= CORE_RECORD_MAX_BYTES &&
			log_crc(seq, ts, bytes, len) == (uint32) DatumGetInt32(v[4]);
		if (whole)
		{
			if (used + ENTRY_BYTES(len) > LOG_READER_MESSAGE_BYTES)
			{
				listening = send_message(mqh, buf, used, false);
				used = 0;
			}
			e.seq = seq;
			e.ts = ts;
			e.rectype = DatumGetInt16(v[1]);
			e.len = (uint16) len;
			memcpy(buf + used, &e, sizeof(e));
			memcpy(buf + used + sizeof(e), bytes, len);
			used += ENTRY_BYTES(len);
			sent++;
			expected++;
		}
		if ((Pointer) payload != DatumGetPointer(v[3]))
			pfree(payload);
		if (!whole)
			break;
	}
	if (listening && used > 0)
		listening = send_message(mqh, buf, used, true);
	ring_scan_end(&rs);
	index_close(idx, NoLock);
	table_close(rel, NoLock);
	PopActiveSnapshot();
	CommitTransactionCommand();
	elog(LOG, "engine: log reader: read " INT64_FORMAT " command_log rows after seq " INT64_FORMAT
		 " for recovery in " INT64_FORMAT " ms, CPU " INT64_FORMAT " ms%s",
		 sent, sh->from_seq, (int64) TimestampDifferenceMilliseconds(t0, GetCurrentTimestamp()),
		 process_cpu_ms() - cpu0, listening ? "" : " (the worker stopped taking them)");
	proc_exit(0);
}
