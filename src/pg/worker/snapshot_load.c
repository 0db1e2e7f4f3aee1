/*
 * snapshot_load.c — finding the snapshots recovery may start from, and
 * rebuilding the engine state from one (snapshot.c writes them).
 *
 * Format 2 (chunks) is read with one index scan over
 * engine.snapshot_chunks in (snapshot_seq, chunk) order (ringscan.c) —
 * only the chunks of the snapshot being loaded, whatever else the table
 * holds — and each
 * chunk's items are decoded and restored as they come, balances and orders
 * in batches of up to LOAD_BATCH through the core's batch restore (which
 * overlaps the cache misses of consecutive items): no SQL per row, no array
 * of the whole snapshot.  Every chunk must follow the one before it
 * (chunk numbers without a gap, kinds in walk order, item positions
 * continuing), carry a CRC that matches its bytes, and hold exactly the
 * items it announces; the counts of each kind must be those of the
 * engine.snapshots row.  Format 1 (release 1.0's rows) is
 * snapshot_load_rows.c's.
 *
 * Either way the orders go through the checked restore and the state then
 * through core_verify_global, so a snapshot that loads is a state that
 * keeps every invariant; and the digest of the rebuilt state must equal the
 * stored one.  Format 2 takes that digest from the batch restore, which
 * computes it from the items as it restores them (core.h; what that proves
 * is in src/core/snapshot.c); format 1 from core_state_digest afterwards.
 * Otherwise the snapshot is refused and the caller falls back to an older
 * one.
 *
 * Called only by the engine worker during recovery (and, later, by a
 * follower).  Never changes engine state except through core_restore_* on
 * an engine the caller has just created; never writes a table.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "core.h"
#include "crc.h"
#include "snapshot.h"
#include "worker.h"

/* Chunks between two progress reports. */
#define LOAD_PROGRESS_CHUNKS 64

/*
 * Balances or orders handed to the core's batch restore at a time: a chunk
 * (at most SNAPSHOT_CHUNK_BYTES) holds a few hundred; the batch only needs
 * to be long enough for the core's prefetching to run ahead.
 */
#define LOAD_BATCH 256

#define CHUNK_COLUMNS 7

typedef struct chunk_loader
{
	core_engine *c;
	const snapshot_meta *meta;
	const core_counters *k;		/* the snapshot's counters */
	core_restore_check *rc;
	void	   *scratch;
	bool		checking;		/* core_restore_check_begin was called */
	core_restore_digest *dg;
	bool		digesting;		/* core_restore_digest_begin was called */
	int32		next_chunk;
	uint8		kind;			/* of the last chunk */
	int64		counts[CORE_ITEM_ORDER + 1];	/* items restored, per kind */
	core_balance_info *balances;	/* LOAD_BATCH decoded items not yet restored */
	core_order_info *orders;
	int			pending;
	char	   *why;
	size_t		why_len;
} chunk_loader;

static bool
fail(chunk_loader *ld, const char *fmt,...) pg_attribute_printf(2, 3);

static bool
fail(chunk_loader *ld, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(ld->why, ld->why_len, fmt, ap);
	va_end(ap);
	return false;
}

/* Restore one decoded asset or symbol; false (and why) if the core refuses it. */
static bool
restore_item(chunk_loader *ld, const core_item *it, int32 chunk)
{
	const char *err = NULL;

	switch (it->kind)
	{
		case CORE_ITEM_ASSET:
			err = core_restore_asset(ld->c, &it->u.asset);
			break;
		case CORE_ITEM_SYMBOL:
			err = core_restore_symbol(ld->c, &it->u.symbol);
			break;
	}
	if (err)
		return fail(ld, "engine.snapshot_chunks chunk %d: %s", chunk, err);
	ld->counts[it->kind]++;
	return true;
}

/* Restore the pending balances or orders in one batch; false (and why) if the core refuses one. */
static bool
restore_pending(chunk_loader *ld, uint8 kind, int32 chunk)
{
	const char *err;
	size_t		done = 0;

	if (ld->pending == 0)
		return true;
	if (kind == CORE_ITEM_BALANCE)
		err = core_restore_balances(ld->c, ld->dg, ld->balances, ld->pending, &done);
	else
		err = core_restore_orders(ld->c, ld->rc, ld->dg, ld->orders, ld->pending, &done);
	ld->counts[kind] += done;
	ld->pending = 0;
	if (err)
		return fail(ld, "engine.snapshot_chunks chunk %d: %s", chunk, err);
	return true;
}

/* Check and restore one chunk row. */
static bool
load_chunk(chunk_loader *ld, Datum *v, bool *isnull)
{
	int32		chunk = DatumGetInt32(v[1]);
	int16		kind = DatumGetInt16(v[2]);
	int64		first = DatumGetInt64(v[3]);
	int32		items = DatumGetInt32(v[4]);
	uint32		crc = (uint32) DatumGetInt32(v[5]);
	bytea	   *data;
	const uint8 *p;
	size_t		len;
	size_t		at = 0;
	bool		ok = true;

	for (int i = 0; i < CHUNK_COLUMNS; i++)
		if (isnull[i])
			return fail(ld, "engine.snapshot_chunks chunk %d has a NULL", chunk);
	if (chunk != ld->next_chunk)
		return fail(ld, "engine.snapshot_chunks: expected chunk %d, found chunk %d", ld->next_chunk, chunk);
	if (kind < CORE_ITEM_ASSET || kind > CORE_ITEM_ORDER || kind < ld->kind)
		return fail(ld, "engine.snapshot_chunks chunk %d: kind %d out of order", chunk, kind);
	if (items < 1 || first != ld->counts[kind])
		return fail(ld, "engine.snapshot_chunks chunk %d: items " INT64_FORMAT " to " INT64_FORMAT
					" do not continue the " INT64_FORMAT " before them", chunk, first,
					first + items - 1, ld->counts[kind]);
	if (kind >= CORE_ITEM_BALANCE && !ld->digesting)
	{
		core_restore_digest_begin(ld->c, ld->dg, ld->k);
		ld->digesting = true;
	}
	if (kind == CORE_ITEM_ORDER && !ld->checking)
	{
		core_restore_check_begin(ld->c, ld->rc, ld->scratch);
		ld->checking = true;
	}
	data = DatumGetByteaPP(v[6]);
	p = (const uint8 *) VARDATA_ANY(data);
	len = VARSIZE_ANY_EXHDR(data);
	if (crc32c_bytes(p, len) != crc)
		ok = fail(ld, "engine.snapshot_chunks chunk %d: CRC mismatch (stored %d, computed %d)",
				  chunk, (int32) crc, (int32) crc32c_bytes(p, len));
	/*
	 * Balances and orders go to the core in batches; a batch is restored
	 * before an item after it is reported as not decoding, so the first
	 * fault of the chunk is the one reported.
	 */
	for (int32 i = 0; ok && i < items; i++)
	{
		core_item	it;
		size_t		n = core_item_decode((uint8) kind, p + at, len - at, &it);

		if (n == 0)
		{
			ok = restore_pending(ld, (uint8) kind, chunk) &&
				fail(ld, "engine.snapshot_chunks chunk %d: item %d does not decode", chunk, i);
			break;
		}
		at += n;
		if (kind == CORE_ITEM_BALANCE)
			ld->balances[ld->pending++] = it.u.balance;
		else if (kind == CORE_ITEM_ORDER)
			ld->orders[ld->pending++] = it.u.order;
		else
			ok = restore_item(ld, &it, chunk);
		if (ld->pending == LOAD_BATCH)
			ok = restore_pending(ld, (uint8) kind, chunk);
	}
	if (ok)
		ok = restore_pending(ld, (uint8) kind, chunk);
	ld->pending = 0;
	if (ok && at != len)
		ok = fail(ld, "engine.snapshot_chunks chunk %d: %zu bytes after its %d items", chunk,
				  len - at, items);
	if ((Pointer) data != DatumGetPointer(v[6]))
		pfree(data);
	ld->kind = (uint8) kind;
	ld->next_chunk++;
	return ok;
}

static bool
load_chunks(chunk_loader *ld, snapshot_progress_fn progress, void *arg)
{
	Relation	rel = snapshot_open_table("snapshot_chunks", AccessShareLock);
	Oid			pk = RelationGetPrimaryKeyIndex(rel);
	Relation	idx;
	ring_scan	rs;
	ScanKeyData key;
	bool		ok = true;
	int64		want[CORE_ITEM_ORDER + 1] = {0, ld->meta->assets, ld->meta->symbols,
	ld->meta->balances, ld->meta->orders};
	static const char *const names[CORE_ITEM_ORDER + 1] = {"", "assets", "symbols", "balances", "orders"};

	if (!OidIsValid(pk) || RelationGetDescr(rel)->natts != CHUNK_COLUMNS)
	{
		table_close(rel, AccessShareLock);
		return fail(ld, "engine.snapshot_chunks has an unexpected shape");
	}
	idx = index_open(pk, AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(ld->meta->seq));
	ring_scan_begin(&rs, rel, idx, &key, 1, GetActiveSnapshot());
	while (ok && ring_scan_next(&rs))
	{
		ok = load_chunk(ld, rs.values, rs.isnull);
		if (progress && ld->next_chunk % LOAD_PROGRESS_CHUNKS == 0)
			progress(arg, ld->counts[1] + ld->counts[2] + ld->counts[3] + ld->counts[4]);
		CHECK_FOR_INTERRUPTS();
	}
	ring_scan_end(&rs);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	for (int k = CORE_ITEM_ASSET; ok && k <= CORE_ITEM_ORDER; k++)
		if (ld->counts[k] != want[k])
			ok = fail(ld, "engine.snapshot_chunks holds " INT64_FORMAT " %s, engine.snapshots announces " INT64_FORMAT,
					  ld->counts[k], names[k], want[k]);
	return ok;
}

typedef struct first_failure
{
	char		text[200];
} first_failure;

static void
note_failure(void *ctx, const char *check, bool ok, const char *detail)
{
	first_failure *f = ctx;

	if (!ok && f->text[0] == '\0')
		snprintf(f->text, sizeof(f->text), "invariant check \"%s\" failed: %s", check,
				 detail ? detail : "(no detail)");
}

const char *
snapshot_load(core_engine *c, const snapshot_meta *meta, snapshot_progress_fn progress, void *arg)
{
	static char why[256];
	core_limits limits = core_get_limits(c);
	core_restore_check rc;
	core_restore_digest dg;
	bool		digesting = false;	/* format 2: dg follows the restore */
	void	   *scratch;
	const char *err = NULL;
	core_counters k;
	char		hex[33];
	first_failure ff;

	why[0] = '\0';
	if (meta->format != SNAPSHOT_FORMAT_ROWS && meta->format != SNAPSHOT_FORMAT_CHUNKS)
	{
		snprintf(why, sizeof(why), "format %d is not one this library reads (%d or %d)",
				 meta->format, SNAPSHOT_FORMAT_ROWS, SNAPSHOT_FORMAT_CHUNKS);
		return why;
	}
	memset(&k, 0, sizeof(k));
	k.seq = meta->seq;
	k.next_order_id = meta->next_order_id;
	k.next_trade_id = meta->next_trade_id;
	k.assets = (uint32) meta->assets;
	k.symbols = (uint32) meta->symbols;
	k.accounts = (uint32) meta->accounts;
	k.balances = (uint32) meta->balances;
	k.orders = (uint32) meta->orders;
	scratch = recovery_scratch_get(core_restore_check_size(&limits));
	if (meta->format == SNAPSHOT_FORMAT_ROWS)
		err = snapshot_load_rows(c, meta, &rc, scratch);
	else
	{
		chunk_loader ld;

		memset(&ld, 0, sizeof(ld));
		ld.c = c;
		ld.meta = meta;
		ld.k = &k;
		ld.rc = &rc;
		ld.scratch = scratch;
		ld.dg = &dg;
		ld.balances = palloc(sizeof(core_balance_info) * LOAD_BATCH);
		ld.orders = palloc(sizeof(core_order_info) * LOAD_BATCH);
		ld.why = why;
		ld.why_len = sizeof(why);
		if (!load_chunks(&ld, progress, arg))
			err = why;
		else
		{
			if (!ld.digesting)
				core_restore_digest_begin(c, &dg, &k);
			if (!ld.checking)
				core_restore_check_begin(c, &rc, scratch);
			digesting = true;
		}
		pfree(ld.balances);
		pfree(ld.orders);
	}
	if (err == NULL)
		err = core_restore_check_finish(c, &rc);
	recovery_scratch_release();
	if (err == NULL)
		err = core_restore_finish(c, &k);
	memset(&ff, 0, sizeof(ff));
	if (err == NULL && !core_verify_global(c, note_failure, &ff))
		err = ff.text;
	if (err != NULL)
	{
		if (err != why)
			strlcpy(why, err, sizeof(why));
		return why;
	}
	core_digest_hex(digesting ? core_restore_digest_end(c, &dg) : core_state_digest(c), hex);
	if (strcmp(hex, meta->digest) != 0)
	{
		snprintf(why, sizeof(why), "state digest %s differs from the recorded %s", hex, meta->digest);
		return why;
	}
	return NULL;
}

/*
 * The snapshots recovery may start from, newest first.  Inside the
 * caller's transaction; the array is palloc'd.
 */
int
snapshot_list(snapshot_meta **out)
{
	int			ret = SPI_execute("SELECT seq, format, digest, next_order_id, next_trade_id, assets, "
								  "symbols, accounts, balances, orders, taken_at "
								  "FROM engine.snapshots ORDER BY seq DESC", true, 0);
	snapshot_meta *m;

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "engine: could not list snapshots: %s", SPI_result_code_string(ret));
	m = palloc0(sizeof(snapshot_meta) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *digest;

		m[i].seq = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		m[i].format = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		digest = TextDatumGetCString(SPI_getbinval(tup, desc, 3, &isnull));
		strlcpy(m[i].digest, digest, sizeof(m[i].digest));
		m[i].next_order_id = DatumGetInt64(SPI_getbinval(tup, desc, 4, &isnull));
		m[i].next_trade_id = DatumGetInt64(SPI_getbinval(tup, desc, 5, &isnull));
		m[i].assets = DatumGetInt32(SPI_getbinval(tup, desc, 6, &isnull));
		m[i].symbols = DatumGetInt32(SPI_getbinval(tup, desc, 7, &isnull));
		m[i].accounts = DatumGetInt32(SPI_getbinval(tup, desc, 8, &isnull));
		m[i].balances = DatumGetInt32(SPI_getbinval(tup, desc, 9, &isnull));
		m[i].orders = DatumGetInt32(SPI_getbinval(tup, desc, 10, &isnull));
		m[i].taken_at = DatumGetTimestampTz(SPI_getbinval(tup, desc, 11, &isnull));
	}
	*out = m;
	return (int) SPI_processed;
}
