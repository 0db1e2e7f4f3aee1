/*
 * snapshot.c — walking the whole state in canonical order, and rebuilding a
 * state from such a walk.
 *
 * The walk is what a snapshot stores; restore is what recovery runs before
 * replaying the log tail.  Restore checks every reference it is given and
 * answers with a reason instead of trusting the input, because snapshot
 * rows come from tables a superuser can edit.
 *
 * Two ways in, one result: item by item (core_restore_*; release 1.0's row
 * snapshots and the tests) and in batches (core_restore_balances,
 * core_restore_orders; format 2's loader), which run the same code per
 * item and differ only in what they ask the memory for ahead of time.
 *
 * What a successful load proves, and by which check:
 *   - The invariant checks (the checked restore, then core_verify_global)
 *     prove the restored state is one the engine can run from: every
 *     reference resolves, every order's lock is what its remainder needs,
 *     frozen amounts equal the locks, the books are in priority order and
 *     not crossed, the id index and the users' order lists agree with the
 *     books, no balance is negative, and money is conserved.  They say
 *     nothing about whether it is the state the snapshot's writer had.
 *   - The digest check proves it is that state: the recorded digest is
 *     core_state_digest of the writer's state.  The batch restore computes
 *     the digest from the items as it restores them, and that equals
 *     core_state_digest of the restored state because, once every item is
 *     accepted, the restored state holds exactly the items' values in the
 *     items' order: the counters are those core_restore_finish accepted
 *     (the digest begins with the same ones, and core_restore_digest_end
 *     compares them and the numbers of accounts, rows and orders hashed
 *     with the state's); reference data is hashed from the state itself;
 *     the fee account (which exists before any item) is hashed from the
 *     state; every other account is hashed when its first row makes it,
 *     so in creation order, with its rows as they come, which is the
 *     state's order as long as each user's rows come together, in asset
 *     order, each once, user 0's before anyone's (checked as they come;
 *     otherwise the end falls back to core_state_digest of the state); and
 *     the orders are hashed in the order the checked restore accepts, which
 *     is book order, a level's price where (symbol, side, price) changes.
 *     The core tests restore random states both ways and compare.
 */
#include <string.h>

#include "book.h"

void
core_walk(const core_engine *c, const core_walker *w, void *ctx)
{
	const balance *rows = BALANCES(c);
	const level *L = LEVELS(c);

	if (w->counters)
	{
		core_counters k = core_get_counters(c);

		w->counters(ctx, &k);
	}
	if (w->asset)
		for (uint32_t id = 1; id <= c->nassets; id++)
		{
			core_asset_info info;

			asset_to_info(c, id, &info);
			w->asset(ctx, &info);
		}
	if (w->symbol)
		for (uint32_t id = 1; id <= c->nsymbols; id++)
		{
			core_symbol_info info;

			symbol_to_info(c, id, &info);
			w->symbol(ctx, &info);
		}
	if (w->balance)
		for (uint32_t a = 1; a <= c->naccounts; a++)
			for (uint32_t b = ACCOUNTS(c)[ACCOUNT_SEQ(c)[a]].balances; b != NIL; b = rows[b].next)
			{
				core_balance_info info;

				memset(&info, 0, sizeof(info));
				info.user_id = rows[b].user_id;
				info.asset = rows[b].asset;
				info.available = rows[b].available;
				info.frozen = rows[b].frozen;
				w->balance(ctx, &info);
			}
	if (w->order)
		for (uint32_t id = 1; id <= c->nsymbols; id++)
			for (int side = 0; side < 2; side++)
				for (uint32_t l = SYMBOLS(c)[id].sides[side].best; l != NIL; l = L[l].next)
					for (uint32_t o = L[l].head; o != NIL; o = ORDERS(c)[o].next)
					{
						core_order_info info;

						order_to_info(c, o, &info);
						w->order(ctx, &info);
					}
}

const char *
core_restore_asset(core_engine *c, const core_asset_info *a)
{
	if (a->supply < 0)
		return "asset supply is negative";
	return asset_insert(c, a);
}

const char *
core_restore_symbol(core_engine *c, const core_symbol_info *s)
{
	return symbol_insert(c, s);
}

/* Refusals, one text each, whichever path finds them. */
#define ERR_BALANCE_REF		"balance refers to an unknown asset or a negative user id"
#define ERR_BALANCE_NEG		"balance is negative"
#define ERR_ACCOUNTS		"capacity: too many accounts"
#define ERR_BALANCES		"capacity: too many balances"
#define ERR_ORDER_REF		"order refers to an unknown symbol or user"
#define ERR_ORDER_ROWS		"order's user has no balance rows for the symbol"
#define ERR_ORDER_ID		"order id is invalid or repeated"
#define ERR_ORDER_FIELDS	"order fields out of range"
#define ERR_ORDERS			"capacity: too many orders"
#define ERR_LOCK			"order_locks: an order's lock differs from what its remainder needs"
#define ERR_BOOK_ORDER		"queues_fifo: orders are not in book order (symbol, side, best level first, queue order)"
#define ERR_FROZEN			"frozen_equals_locks: a frozen balance differs from the locks of its resting orders"

/*
 * Items ahead of the one being restored whose memory a batch restore
 * starts loading: enough to cover a cache miss with the work of the items
 * in between, few enough that the lines are still there when used.
 */
#define RESTORE_AHEAD 16

/* Digits of the radix sort that orders the restored orders for linking. */
#define LINK_RADIX_BITS 11

/* ------------------------------------------------------------ balances */

/*
 * Restore one balance; *added_account and *added_row (may be NULL) say
 * whether it made its account and its row (rather than finding them).
 */
static inline const char *
restore_balance(core_engine *c, const core_balance_info *b, bool *added_account, bool *added_row)
{
	uint64_t	uh;
	uint32_t	acct,
				row,
				at = NIL;
	balance    *bal;

	if (b->user_id < 0 || asset_at(c, b->asset) == NULL)
		return ERR_BALANCE_REF;
	if (b->available < 0 || b->frozen < 0)
		return ERR_BALANCE_NEG;
	uh = user_hash(b->user_id);
	acct = ledger_probe_account(c, account_home(c, uh), b->user_id);
	if (added_account)
		*added_account = acct == NIL;
	if (acct == NIL)
		acct = ledger_add_account(c, b->user_id);
	if (acct == NIL)
		return ERR_ACCOUNTS;
	row = ledger_probe_row(c, row_home(c, uh, b->asset), b->user_id, b->asset, &at);
	if (added_row)
		*added_row = row == NIL;
	if (row == NIL)
	{
		if (c->nbalances >= c->limits.max_balances)
			return ERR_BALANCES;
		row = ledger_add_row(c, acct, b->asset, at);
	}
	bal = &BALANCES(c)[row];
	bal->available = b->available;
	bal->frozen = b->frozen;
	return NULL;
}

const char *
core_restore_balance(core_engine *c, const core_balance_info *b)
{
	return restore_balance(c, b, NULL, NULL);
}

/* ------------------------------------------------------------- orders */

/*
 * Check one order and put it in the pool, the id index and its level's
 * queue (not in its user's list); *slot_out is its slot.
 */
static inline const char *
restore_order(core_engine *c, const core_order_info *o, uint32_t *slot_out)
{
	symbol	   *s = symbol_at(c, o->symbol);
	uint64_t	uh = user_hash(o->user_id);
	uint32_t	acct = ledger_probe_account(c, account_home(c, uh), o->user_id);
	uint32_t	slot,
				base_row,
				quote_row;
	uint32_t   *bucket;
	order	   *ord;
	order_cold *oc;
	int64_t		value;

	if (s == NULL || acct == NIL || acct == c->fee_account)
		return ERR_ORDER_REF;
	base_row = ledger_probe_row(c, row_home(c, uh, s->base), o->user_id, s->base, NULL);
	quote_row = ledger_probe_row(c, row_home(c, uh, s->quote), o->user_id, s->quote, NULL);
	if (base_row == NIL || quote_row == NIL)
		return ERR_ORDER_ROWS;
	if (o->order_id < 1 ||
		(bucket = book_order_bucket_if_absent(c, o->order_id)) == NULL)
		return ERR_ORDER_ID;
	if (o->side > CORE_SELL || o->stp > CORE_STP_CANCEL_BOTH ||
		o->price <= 0 || o->remaining_qty <= 0 || o->filled_qty < 0 ||
		o->filled_qty > INT64_MAX - o->remaining_qty ||
		o->price % s->tick != 0 || o->remaining_qty % s->lot != 0 ||
		!quote_value(o->price, o->remaining_qty, s->base_scale, &value))
		return ERR_ORDER_FIELDS;
	/* An order worth less than one quote unit is accepted: release 1.0
	 * rested such orders, and matching cancels them as dust. */
	slot = book_alloc_order(c);
	if (slot == NIL)
		return ERR_ORDERS;
	ord = &ORDERS(c)[slot];
	oc = &ORDER_COLD(c)[slot];
	ord->id = o->order_id;
	ord->user_id = o->user_id;
	ord->price = o->price;
	ord->remaining = o->remaining_qty;
	ord->account = acct;
	ord->symbol = o->symbol;
	ord->side = o->side;
	ord->stp = o->stp;
	ord->post_only = o->post_only;
	oc->filled = o->filled_qty;
	oc->locked = o->locked;
	oc->created_ts = o->created_ts;
	oc->notional = ((u128) (uint64_t) o->notional_hi << 64) | o->notional_lo;
	oc->base_row = base_row;
	oc->quote_row = quote_row;
	ord->has_client_id = o->client_order_id[0] != '\0';
	if (ord->has_client_id)
	{
		memcpy(ORDER_TEXT(c)[slot].client_order_id, o->client_order_id,
			   sizeof(o->client_order_id));
		ORDER_TEXT(c)[slot].client_order_id[CORE_CLIENT_ID_MAX] = '\0';
	}
	book_index_order_at(c, slot, bucket);
	book_enqueue(c, slot);
	oc->queued_seq = o->queued_seq;
	*slot_out = slot;
	return NULL;
}

const char *
core_restore_order(core_engine *c, const core_order_info *o)
{
	uint32_t	slot;
	const char *err = restore_order(c, o, &slot);

	if (err)
		return err;
	book_link_account(c, slot);
	return NULL;
}

const char *
core_restore_finish(core_engine *c, const core_counters *k)
{
	if (k->seq < 0 || k->next_order_id < 1 || k->next_trade_id < 1)
		return "counters out of range";
	if (k->assets != c->nassets || k->symbols != c->nsymbols ||
		k->accounts != c->naccounts || k->balances != c->nbalances ||
		k->orders != c->norders)
		return "snapshot counts do not match its rows";
	c->seq = k->seq;
	c->next_order_id = k->next_order_id;
	c->next_trade_id = k->next_trade_id;
	return NULL;
}

/* ------------------------------------------------------- checked restore */

/*
 * A restore that checks the invariants as the orders arrive, so that a
 * restored state needs no separate pass over its orders (core.h): each
 * order's lock is what its remainder needs, orders come in book order
 * (symbol, side, best level first, queue order by queued_seq), and the
 * locks of each (user, asset) add up to the frozen amount of that balance.
 * The last is counted down in the balance row itself, which the order's
 * restore has just read (its frozen amount is kept aside in the scratch
 * memory and put back at the finish), so that it costs no cache miss of
 * its own.  The orders are linked into their users' lists at the finish,
 * all at once, grouped by user and in id order by a radix sort: linking
 * them as they come (in book order, not id order) would walk each list
 * back from its tail.
 *
 * Scratch memory: the frozen amounts (one per slot of the balance table),
 * then per order two 64-bit sort keys, its slot and its account's slot.
 */
size_t
core_restore_check_size(const core_limits *limits)
{
	return ((size_t) table_cap(limits->max_balances) + 1) * sizeof(int64_t) +
		(size_t) limits->max_orders * (2 * sizeof(int64_t) + 2 * sizeof(uint32_t));
}

void
core_restore_check_begin(core_engine *c, core_restore_check *rc, void *scratch)
{
	const balance *bals = BALANCES(c);
	uint32_t	max_orders = c->limits.max_orders;

	memset(rc, 0, sizeof(*rc));
	rc->frozen = scratch;
	rc->link_key = rc->frozen + c->balance_cap + 1;
	rc->link_tmp = rc->link_key + max_orders;
	rc->link_slot = (uint32_t *) (rc->link_tmp + max_orders);
	rc->link_acct = rc->link_slot + max_orders;
	for (uint32_t b = 0; b <= c->balance_cap; b++)
		rc->frozen[b] = b == 0 ? 0 : bals[b].frozen;
}

/* The checks of the checked restore on the order just restored at slot. */
static inline const char *
check_order(core_engine *c, core_restore_check *rc, uint32_t slot)
{
	const order *ord = &ORDERS(c)[slot];
	const order_cold *oc = &ORDER_COLD(c)[slot];
	const symbol *s = &SYMBOLS(c)[ord->symbol];
	int64_t		key = ord->side == CORE_BUY ? -ord->price : ord->price;
	balance    *bal;

	if (oc->locked != order_lock_needed(s, ord))
		return ERR_LOCK;
	if (rc->orders > 0 &&
		(ord->symbol < rc->symbol ||
		 (ord->symbol == rc->symbol && ord->side < rc->side) ||
		 (ord->symbol == rc->symbol && ord->side == rc->side &&
		  (key < rc->key || (key == rc->key && oc->queued_seq <= rc->queued_seq)))))
		return ERR_BOOK_ORDER;
	rc->symbol = ord->symbol;
	rc->side = ord->side;
	rc->key = key;
	rc->queued_seq = oc->queued_seq;
	/* restore_order read this row: it is in the cache */
	bal = &BALANCES(c)[ord->side == CORE_BUY ? oc->quote_row : oc->base_row];
	if (bal->frozen >= 0)
		bal->frozen -= oc->locked;	/* >= -INT64_MAX; below 0 stays a mismatch */
	if (rc->orders == 0 || ord->id < rc->min_id)
		rc->min_id = ord->id;
	if (rc->orders == 0 || ord->id > rc->max_id)
		rc->max_id = ord->id;
	rc->link_key[rc->orders] = ord->id;
	rc->link_slot[rc->orders] = slot;
	rc->link_acct[rc->orders] = ord->account;
	rc->orders++;
	return NULL;
}

const char *
core_restore_order_checked(core_engine *c, core_restore_check *rc, const core_order_info *o)
{
	uint32_t	slot;
	const char *err = restore_order(c, o, &slot);

	return err ? err : check_order(c, rc, slot);
}

/* Bits needed to write v (0 for 0). */
static inline unsigned
bits_of(uint64_t v)
{
	return v == 0 ? 0 : 64 - (unsigned) __builtin_clzll(v);
}

/*
 * Stable LSD radix sort of n keys on their bits [from, to), in digits of
 * LINK_RADIX_BITS; a and tmp are n keys each.  Returns where the result is.
 */
static uint64_t *
radix_sort(uint64_t *a, uint64_t *tmp, uint64_t n, unsigned from, unsigned to)
{
	uint64_t	count[1u << LINK_RADIX_BITS];

	for (unsigned shift = from; shift < to; shift += LINK_RADIX_BITS)
	{
		uint64_t	mask = (UINT64_C(1) << LINK_RADIX_BITS) - 1,
					sum = 0;
		uint64_t   *t;

		memset(count, 0, sizeof(count));
		for (uint64_t i = 0; i < n; i++)
			count[(a[i] >> shift) & mask]++;
		for (unsigned d = 0; d <= mask; d++)
		{
			uint64_t	k = count[d];

			count[d] = sum;
			sum += k;
		}
		for (uint64_t i = 0; i < n; i++)
			tmp[count[(a[i] >> shift) & mask]++] = a[i];
		t = a;
		a = tmp;
		tmp = t;
	}
	return a;
}

/*
 * Link every order the checked restore took into its user's list, in id
 * order.  Sort key: account slot, id - least id, index of the order in
 * rc's arrays, from the most significant bit down; the orders of one
 * account then come together and in id order, and each list is built in
 * one go.  Ids that a real engine hands out (from 1, consecutive) always
 * fit; if the three do not fit 64 bits together, each order is linked by
 * walking its list from the tail instead, to the same lists.
 */
static void
link_orders(core_engine *c, core_restore_check *rc)
{
	uint64_t	n = rc->orders;
	unsigned	ibits,
				kbits,
				abits;
	uint64_t   *key = (uint64_t *) rc->link_key;
	uint64_t   *sorted;
	account    *accounts = ACCOUNTS(c);
	order_link *U = ORDER_LINKS(c);
	uint64_t	imask;

	if (n == 0)
		return;
	ibits = bits_of(n - 1);
	kbits = bits_of((uint64_t) rc->max_id - (uint64_t) rc->min_id);
	abits = bits_of(c->account_cap);
	imask = ibits == 0 ? 0 : UINT64_MAX >> (64 - ibits);
	if (ibits + kbits + abits > 64)
	{
		for (uint64_t i = 0; i < n; i++)
			book_link_account(c, rc->link_slot[i]);
		return;
	}
	for (uint64_t i = 0; i < n; i++)
		key[i] = (uint64_t) rc->link_acct[i] << (ibits + kbits) |
			((uint64_t) rc->link_key[i] - (uint64_t) rc->min_id) << ibits | i;
	sorted = radix_sort(key, (uint64_t *) rc->link_tmp, n, ibits, ibits + kbits + abits);
	for (uint64_t i = 0; i < n;)
	{
		uint32_t	acct = (uint32_t) (sorted[i] >> (ibits + kbits));
		account    *a = &accounts[acct];
		uint32_t	prev = a->orders_tail;

		/* the next accounts' records and the next orders' links */
		if (i + RESTORE_AHEAD < n)
		{
			PREFETCH(&accounts[sorted[i + RESTORE_AHEAD] >> (ibits + kbits)]);
			PREFETCH(&U[rc->link_slot[sorted[i + RESTORE_AHEAD] & imask]]);
		}
		for (; i < n && (uint32_t) (sorted[i] >> (ibits + kbits)) == acct; i++)
		{
			uint32_t	o = rc->link_slot[sorted[i] & imask];

			if (i + RESTORE_AHEAD < n)
				PREFETCH(&U[rc->link_slot[sorted[i + RESTORE_AHEAD] & imask]]);
			U[o].prev = prev;
			U[o].next = NIL;
			if (prev != NIL)
				U[prev].next = o;
			else
				a->orders_head = o;
			prev = o;
			a->norders++;
		}
		a->orders_tail = prev;
	}
}

const char *
core_restore_check_finish(core_engine *c, core_restore_check *rc)
{
	balance    *bals = BALANCES(c);
	bool		mismatch = false;

	for (uint32_t b = 1; b <= c->balance_cap; b++)
	{
		if (bals[b].asset != 0 && bals[b].frozen != 0)
			mismatch = true;
		bals[b].frozen = rc->frozen[b];
	}
	link_orders(c, rc);
	return mismatch ? ERR_FROZEN : NULL;
}

/* ------------------------------------------------------- batch restore */

/* The fee account's part of the digest, taken from the state: it exists
 * from core_create on, and its rows from each asset's creation. */
static void
digest_fee_account(const core_engine *c, core_restore_digest *d)
{
	hasher		h = {d->a, d->b};
	const balance *rows = BALANCES(c);

	digest_account(&h, c, c->fee_account);
	for (uint32_t b = ACCOUNTS(c)[c->fee_account].balances; b != NIL; b = rows[b].next)
		d->balances++;
	d->accounts++;
	d->a = h.a;
	d->b = h.b;
	d->fee_hashed = true;
}

void
core_restore_digest_begin(const core_engine *c, core_restore_digest *d, const core_counters *k)
{
	hasher		h = HASHER_INIT;

	memset(d, 0, sizeof(*d));
	digest_counters(&h, k);
	digest_refdata(&h, c);
	d->a = h.a;
	d->b = h.b;
	d->k = *k;
	d->canonical = true;
}

/* Start loading what restoring balance b will read. */
static inline void
prefetch_balance(const core_engine *c, const core_balance_info *b)
{
	uint64_t	uh = user_hash(b->user_id);

	PREFETCH(&ACCOUNTS(c)[account_home(c, uh)]);
	PREFETCH(&BALANCES(c)[row_home(c, uh, b->asset)]);
}

const char *
core_restore_balances(core_engine *c, core_restore_digest *d,
					  const core_balance_info *b, size_t n, size_t *done)
{
	hasher		h = {0, 0};
	size_t		i;
	const char *err = NULL;

	if (d)
	{
		h.a = d->a;
		h.b = d->b;
	}
	for (i = 0; i < n && i < RESTORE_AHEAD; i++)
		prefetch_balance(c, &b[i]);
	for (i = 0; i < n; i++)
	{
		bool		added_account,
					added_row;

		if (i + RESTORE_AHEAD < n)
			prefetch_balance(c, &b[i + RESTORE_AHEAD]);
		if (d && b[i].user_id != 0 && !d->fee_hashed)
		{
			d->a = h.a;
			d->b = h.b;
			digest_fee_account(c, d);
			h.a = d->a;
			h.b = d->b;
		}
		err = restore_balance(c, &b[i], &added_account, &added_row);
		if (err)
			break;
		if (d == NULL)
			continue;
		if (b[i].user_id == 0)
		{
			/* hashed from the state, and only before any other user's */
			if (d->fee_hashed)
				d->canonical = false;
			continue;
		}
		if (added_account)
		{
			h_u64(&h, (uint64_t) b[i].user_id);
			d->accounts++;
			d->user = b[i].user_id;
			d->asset = 0;
		}
		else if (b[i].user_id != d->user)
			d->canonical = false;	/* the user's rows are not together */
		if (!added_row || b[i].asset <= d->asset)
			d->canonical = false;	/* a row again, or out of asset order */
		digest_row(&h, b[i].asset, b[i].available, b[i].frozen);
		d->asset = b[i].asset;
		d->balances++;
	}
	if (d)
	{
		d->a = h.a;
		d->b = h.b;
	}
	if (done)
		*done = i;
	return err;
}

/* Start loading what restoring order o will read. */
static inline void
prefetch_order(const core_engine *c, const core_order_info *o)
{
	uint64_t	uh = user_hash(o->user_id);

	PREFETCH(&ACCOUNTS(c)[account_home(c, uh)]);
	PREFETCH(&ORDER_HASH(c)[(uint64_t) o->order_id & c->order_hmask]);
	if (o->symbol >= 1 && o->symbol <= c->nsymbols)
	{
		const symbol *s = &SYMBOLS(c)[o->symbol];

		PREFETCH(&BALANCES(c)[row_home(c, uh, s->base)]);
		PREFETCH(&BALANCES(c)[row_home(c, uh, s->quote)]);
	}
}

const char *
core_restore_orders(core_engine *c, core_restore_check *rc, core_restore_digest *d,
					const core_order_info *o, size_t n, size_t *done)
{
	hasher		h = {0, 0};
	size_t		i;
	const char *err = NULL;

	if (d)
	{
		if (!d->fee_hashed)
			digest_fee_account(c, d);
		h.a = d->a;
		h.b = d->b;
	}
	for (i = 0; i < n && i < RESTORE_AHEAD; i++)
		prefetch_order(c, &o[i]);
	for (i = 0; i < n; i++)
	{
		uint32_t	slot;
		const core_order_info *x = &o[i];

		if (i + RESTORE_AHEAD < n)
			prefetch_order(c, &o[i + RESTORE_AHEAD]);
		err = restore_order(c, x, &slot);
		if (err == NULL)
			err = check_order(c, rc, slot);
		if (err)
			break;
		if (d == NULL)
			continue;
		/* book order is checked: a new (symbol, side, price) is a new level */
		if (!d->orders_begun || x->symbol != d->symbol || x->side != d->side ||
			x->price != d->price)
		{
			h_u64(&h, (uint64_t) x->price);
			d->orders_begun = true;
			d->symbol = x->symbol;
			d->side = x->side;
			d->price = x->price;
		}
		digest_order(&h, x->order_id, x->user_id, x->remaining_qty, x->filled_qty,
					 x->locked, x->created_ts, x->queued_seq, (uint64_t) x->notional_hi,
					 x->notional_lo, x->stp, x->post_only, x->client_order_id);
		d->orders++;
	}
	if (d)
	{
		d->a = h.a;
		d->b = h.b;
	}
	if (done)
		*done = i;
	return err;
}

core_digest
core_restore_digest_end(const core_engine *c, core_restore_digest *d)
{
	core_counters k = core_get_counters(c);
	core_digest out;

	if (!d->fee_hashed)
		digest_fee_account(c, d);
	if (k.seq != d->k.seq || k.next_order_id != d->k.next_order_id ||
		k.next_trade_id != d->k.next_trade_id || k.assets != d->k.assets ||
		k.symbols != d->k.symbols || k.accounts != d->k.accounts ||
		k.balances != d->k.balances || k.orders != d->k.orders ||
		d->accounts != c->naccounts || d->balances != c->nbalances || d->orders != c->norders)
		d->canonical = false;
	if (!d->canonical)
		return core_state_digest(c);
	out.hi = d->a;
	out.lo = d->b;
	return out;
}
