/*
 * snapshot.c — walking the whole state in canonical order, and rebuilding a
 * state from such a walk.
 *
 * The walk is what a snapshot stores; restore is what recovery runs before
 * replaying the log tail.  Restore checks every reference it is given and
 * answers with a reason instead of trusting the input, because snapshot
 * rows come from tables a superuser can edit.
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

const char *
core_restore_balance(core_engine *c, const core_balance_info *b)
{
	uint32_t	acct,
				row;
	balance    *bal;

	if (b->user_id < 0 || asset_at(c, b->asset) == NULL)
		return "balance refers to an unknown asset or a negative user id";
	if (b->available < 0 || b->frozen < 0)
		return "balance is negative";
	acct = ledger_find_account(c, b->user_id);
	if (acct == NIL)
		acct = ledger_add_account(c, b->user_id);
	if (acct == NIL)
		return "capacity: too many accounts";
	row = ledger_get_or_add(c, acct, b->asset);
	if (row == NIL)
		return "capacity: too many balances";
	bal = &BALANCES(c)[row];
	bal->available = b->available;
	bal->frozen = b->frozen;
	return NULL;
}

const char *
core_restore_order(core_engine *c, const core_order_info *o)
{
	symbol	   *s = symbol_at(c, o->symbol);
	uint32_t	acct = ledger_find_account(c, o->user_id);
	uint32_t	slot,
				base_row,
				quote_row;
	order	   *ord;
	order_cold *oc;
	int64_t		value;

	if (s == NULL || acct == NIL || acct == c->fee_account)
		return "order refers to an unknown symbol or user";
	base_row = ledger_find_row(c, o->user_id, s->base, NULL);
	quote_row = ledger_find_row(c, o->user_id, s->quote, NULL);
	if (base_row == NIL || quote_row == NIL)
		return "order's user has no balance rows for the symbol";
	if (o->order_id < 1 ||
		book_find_order(c, o->order_id) != NIL)
		return "order id is invalid or repeated";
	if (o->side > CORE_SELL || o->stp > CORE_STP_CANCEL_BOTH ||
		o->price <= 0 || o->remaining_qty <= 0 || o->filled_qty < 0 ||
		o->filled_qty > INT64_MAX - o->remaining_qty ||
		o->price % s->tick != 0 || o->remaining_qty % s->lot != 0 ||
		!quote_value(o->price, o->remaining_qty, s->base_scale, &value))
		return "order fields out of range";
	/* An order worth less than one quote unit is accepted: release 1.0
	 * rested such orders, and matching cancels them as dust. */
	slot = book_alloc_order(c);
	if (slot == NIL)
		return "capacity: too many orders";
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
	book_index_order(c, slot);
	book_link_account(c, slot);
	book_enqueue(c, slot);
	oc->queued_seq = o->queued_seq;
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
 * locks of each (user, asset) add up, in the caller's scratch array (one
 * sum per slot of the balance table), to the frozen amount of that
 * balance.
 */
size_t
core_restore_check_size(const core_limits *limits)
{
	return ((size_t) table_cap(limits->max_balances) + 1) * sizeof(int64_t);
}

void
core_restore_check_begin(core_engine *c, core_restore_check *rc, void *scratch)
{
	memset(rc, 0, sizeof(*rc));
	rc->locks = scratch;
	memset(rc->locks, 0, ((size_t) c->balance_cap + 1) * sizeof(int64_t));
}

const char *
core_restore_order_checked(core_engine *c, core_restore_check *rc, const core_order_info *o)
{
	const char *err = core_restore_order(c, o);
	uint32_t	slot;
	const order *ord;
	const order_cold *oc;
	const symbol *s;
	int64_t		key;
	int64_t    *sum;

	if (err)
		return err;
	slot = book_find_order(c, o->order_id);
	ord = &ORDERS(c)[slot];
	oc = &ORDER_COLD(c)[slot];
	s = &SYMBOLS(c)[ord->symbol];
	if (oc->locked != order_lock_needed(s, ord))
		return "order_locks: an order's lock differs from what its remainder needs";
	key = ord->side == CORE_BUY ? -ord->price : ord->price;
	if (rc->orders > 0 &&
		(ord->symbol < rc->symbol ||
		 (ord->symbol == rc->symbol && ord->side < rc->side) ||
		 (ord->symbol == rc->symbol && ord->side == rc->side &&
		  (key < rc->key || (key == rc->key && oc->queued_seq <= rc->queued_seq)))))
		return "queues_fifo: orders are not in book order (symbol, side, best level first, queue order)";
	rc->symbol = ord->symbol;
	rc->side = ord->side;
	rc->key = key;
	rc->queued_seq = oc->queued_seq;
	rc->orders++;
	/* core_restore_order found the owner's rows for the symbol */
	sum = &rc->locks[ord->side == CORE_BUY ? oc->quote_row : oc->base_row];
	if (*sum < 0 || oc->locked < 0 || *sum > INT64_MAX - oc->locked)
		*sum = -1;				/* more than any frozen amount: a mismatch */
	else
		*sum += oc->locked;
	return NULL;
}

const char *
core_restore_check_finish(core_engine *c, core_restore_check *rc)
{
	const balance *bals = BALANCES(c);

	for (uint32_t b = 1; b <= c->balance_cap; b++)
		if (bals[b].asset != 0 && bals[b].frozen != rc->locks[b])
			return "frozen_equals_locks: a frozen balance differs from the locks of its resting orders";
	return NULL;
}
