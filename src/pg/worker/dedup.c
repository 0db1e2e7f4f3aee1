/*
 * dedup.c — duplicate detection for client_order_id (per user, for ever) and
 * deposit/withdraw ref (per user, for ever), and the replies duplicates get.
 *
 * Owns: the reads of engine.client_keys and the "current state of the
 * original order" query.
 * Must never: sequence or log a duplicate (it gets no seq and no log row),
 * or prune engine.client_keys (the promise is "for ever").
 *
 * Runs in the worker, inside the batch transaction, before the batch is
 * sequenced: one SELECT per batch against engine.client_keys (only when the
 * batch carries keys), plus a hash for repeats within the batch, where the
 * earliest request (by ticket) is the original.  The keys of the originals are
 * written by the same transaction that logs them (batch.c), so the check holds
 * across restarts and crashes.  What a duplicate is answered is its record
 * type's business (records.c); this file supplies the tables' side of it.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"

#include "records.h"
#include "slots.h"
#include "worker.h"

typedef struct dedup_key
{
	int64		user_id;
	char		kind;
	char		key[ENGINE_KEY_MAX + 1];
} dedup_key;

typedef struct dedup_entry
{
	dedup_key	k;				/* hash key: must be first */
	int			first;			/* index into items of the earliest request */
	bool		in_table;		/* already in engine.client_keys */
	int64		order_id;		/* its order, from engine.client_keys */
} dedup_entry;

static SPIPlanPtr lookup_plan = NULL;
static SPIPlanPtr order_state_plan = NULL;

static SPIPlanPtr
keep_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types)
{
	if (*slot == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);

		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "engine: could not prepare \"%s\": %s", sql,
				 SPI_result_code_string(SPI_result));
		*slot = plan;
	}
	return *slot;
}

static void
make_key(dedup_key *k, const request_item *req)
{
	memset(k, 0, sizeof(*k));
	k->user_id = req->key_user;
	k->kind = req->key_kind;
	strlcpy(k->key, req->key, sizeof(k->key));
}

static Datum
build_array(Datum *elems, int n, Oid elemtype)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_array(elems, n, elemtype, typlen, typbyval, typalign));
}

/* Mark the entries of `hash` whose key is already in engine.client_keys. */
static void
lookup_table(HTAB *hash, int nkeys)
{
	Oid			types[3] = {INT8ARRAYOID, CHARARRAYOID, TEXTARRAYOID};
	Datum	   *users = palloc(sizeof(Datum) * nkeys);
	Datum	   *kinds = palloc(sizeof(Datum) * nkeys);
	Datum	   *keys = palloc(sizeof(Datum) * nkeys);
	Datum		args[3];
	HASH_SEQ_STATUS it;
	dedup_entry *e;
	int			n = 0;
	int			ret;

	hash_seq_init(&it, hash);
	while ((e = hash_seq_search(&it)) != NULL)
	{
		users[n] = Int64GetDatum(e->k.user_id);
		kinds[n] = CharGetDatum(e->k.kind);
		keys[n] = CStringGetTextDatum(e->k.key);
		n++;
	}
	args[0] = build_array(users, n, INT8OID);
	args[1] = build_array(kinds, n, CHAROID);
	args[2] = build_array(keys, n, TEXTOID);

	keep_plan(&lookup_plan,
			  "SELECT k.user_id, k.kind, k.key, k.order_id "
			  "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
			  "                pg_catalog.unnest($3)) AS q(u, kd, ky) "
			  "JOIN engine.client_keys k "
			  "ON k.user_id OPERATOR(pg_catalog.=) q.u AND k.kind OPERATOR(pg_catalog.=) q.kd "
			  "AND k.key OPERATOR(pg_catalog.=) q.ky",
			  3, types);
	ret = SPI_execute_plan(lookup_plan, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "engine: client key lookup failed: %s", SPI_result_code_string(ret));

	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		dedup_key	k;
		char	   *key;

		memset(&k, 0, sizeof(k));
		k.user_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		k.kind = DatumGetChar(SPI_getbinval(tup, desc, 2, &isnull));
		key = TextDatumGetCString(SPI_getbinval(tup, desc, 3, &isnull));
		strlcpy(k.key, key, sizeof(k.key));
		e = hash_search(hash, &k, HASH_FIND, NULL);
		if (e == NULL)
			continue;
		e->in_table = true;
		{
			Datum		oid = SPI_getbinval(tup, desc, 4, &isnull);

			e->order_id = isnull ? 0 : DatumGetInt64(oid);
		}
	}
}

/*
 * Decide which commands of a batch are duplicates.  items are in batch
 * order (ticket order, then the order of each request's items).  Sets
 * duplicate, original (the index of an earlier item of this batch with the
 * same key, or -1) and order_id (when the original is already in
 * engine.client_keys).  Needs SPI connected in a transaction.
 */
void
dedup_check(dedup_item *items, int n)
{
	HASHCTL		ctl;
	HTAB	   *hash;
	int			nkeys = 0;

	for (int i = 0; i < n; i++)
	{
		items[i].duplicate = false;
		items[i].original = -1;
		items[i].order_id = 0;
		if (items[i].req->key_kind != KEY_NONE)
			nkeys++;
	}
	if (nkeys == 0)
		return;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(dedup_key);
	ctl.entrysize = sizeof(dedup_entry);
	ctl.hcxt = CurrentMemoryContext;
	hash = hash_create("engine batch keys", nkeys, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	nkeys = 0;
	for (int i = 0; i < n; i++)
	{
		dedup_key	k;
		dedup_entry *e;
		bool		found;

		if (items[i].req->key_kind == KEY_NONE)
			continue;
		make_key(&k, items[i].req);
		e = hash_search(hash, &k, HASH_ENTER, &found);
		if (!found)
		{
			e->first = i;
			e->in_table = false;
			e->order_id = 0;
			nkeys++;
		}
	}
	lookup_table(hash, nkeys);

	for (int i = 0; i < n; i++)
	{
		dedup_key	k;
		dedup_entry *e;

		if (items[i].req->key_kind == KEY_NONE)
			continue;
		make_key(&k, items[i].req);
		e = hash_search(hash, &k, HASH_FIND, NULL);
		Assert(e != NULL);
		if (e->in_table)
		{
			items[i].duplicate = true;
			items[i].order_id = e->order_id;
		}
		else if (e->first != i)
		{
			items[i].duplicate = true;
			items[i].original = e->first;
		}
	}
	hash_destroy(hash);
}

/*
 * An order's state from engine.order_events / engine.trades (ORDER_STATE_SQL),
 * into *res, and its symbol into *symbol.
 */
static void
order_state_from_tables(int64 order_id, core_result *res, uint32 *symbol)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(order_id)};
	int			ret;
	bool		isnull;
	TupleDesc	desc;
	HeapTuple	tup;
	char	   *event;
	core_status last;

	keep_plan(&order_state_plan, ORDER_STATE_SQL, 1, types);
	ret = SPI_execute_plan(order_state_plan, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "engine: order state lookup failed: %s", SPI_result_code_string(ret));
	res->order_id = order_id;
	if (SPI_processed == 0)
	{
		res->status = CORE_ST_REJECTED;
		return;
	}
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	event = TextDatumGetCString(SPI_getbinval(tup, desc, 1, &isnull));
	res->filled_qty = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
	res->remaining_qty = DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
	res->trades = DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull));
	{
		Datum		avg = SPI_getbinval(tup, desc, 5, &isnull);

		res->avg_price = isnull ? 0 : DatumGetInt64(avg);
	}
	*symbol = (uint32) DatumGetInt32(SPI_getbinval(tup, desc, 6, &isnull));
	if (!core_status_from_name(event, &last))
		last = CORE_ST_REJECTED;
	res->status = (uint8) core_order_status(last, res->filled_qty);
}

/*
 * Fill a duplicate's reply, as its record type says (records.c): for an
 * order, the original order's current state (trades = the order's trades
 * over its life) and its symbol; for a deposit or withdrawal, the current
 * balance of that asset.  Runs after the batch's rows are inserted (same transaction), so
 * originals from this very batch are visible.
 */
void
dedup_reply(const core_engine *c, request_item *req, int64 order_id)
{
	const shell_rectype *rt = records_get(req->rec.type);
	duplicate_source src = {c, order_state_from_tables};
	engine_reply *r = &req->reply;

	memset(r, 0, sizeof(*r));
	r->kind = REPLY_DUPLICATE;
	r->seq = 0;
	rt->duplicate(&src, &req->rec, req->key, order_id, &r->res, r->client_order_id, &r->symbol);
}
