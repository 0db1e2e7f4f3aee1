/*
 * book.c — reading the order books: an order's figures, a user's open
 * orders, a book's levels and a level's queue, and finding a level by any
 * price a caller gives.  The primitives that change the books are inline
 * in book.h.
 */
#include <string.h>

#include "book.h"

/* The level at a price on a side of a symbol, or NIL (any arguments). */
uint32_t
book_level_at(const core_engine *c, uint32_t symbol_id, int side, int64_t price)
{
	const symbol *s;

	if (symbol_id < 1 || symbol_id > c->nsymbols || (unsigned) side > CORE_SELL)
		return NIL;
	s = &SYMBOLS(c)[symbol_id];
	if (price <= 0 || !core_price_on_tick(price, s->tick))
		return NIL;
	return ladder_find(c, &s->sides[side], ladder_pos(s, side, price));
}

/* ------------------------------------------------------------- reading */

void
order_to_info(const core_engine *c, uint32_t o, core_order_info *out)
{
	const order *ord = &ORDERS(c)[o];
	const order_cold *cold = &ORDER_COLD(c)[o];

	memset(out, 0, sizeof(*out));
	out->order_id = ord->id;
	out->user_id = ord->user_id;
	out->symbol = ord->symbol;
	out->side = ord->side;
	out->stp = ord->stp;
	out->post_only = ord->post_only;
	out->price = ord->price;
	out->qty = cold->filled + ord->remaining;
	out->filled_qty = cold->filled;
	out->remaining_qty = ord->remaining;
	out->locked = cold->locked;
	out->notional_hi = (int64_t) (cold->notional >> 64);
	out->notional_lo = (uint64_t) cold->notional;
	out->created_ts = cold->created_ts;
	out->queued_seq = cold->queued_seq;
	if (ord->has_client_id)
	{
		memcpy(out->client_order_id, ORDER_TEXT(c)[o].client_order_id,
			   sizeof(out->client_order_id));
		out->client_order_id[CORE_CLIENT_ID_MAX] = '\0';
	}
}

bool
core_order_get(const core_engine *c, int64_t order_id, core_order_info *out)
{
	uint32_t	o = book_find_order(c, order_id);

	if (o == NIL)
		return false;
	order_to_info(c, o, out);
	return true;
}

void
core_user_orders(const core_engine *c, int64_t user_id, uint32_t symbol_id,
				 core_order_fn fn, void *ctx)
{
	uint32_t	acct = ledger_find_account(c, user_id);
	const order *orders = ORDERS(c);

	if (acct == NIL)
		return;
	for (uint32_t o = ACCOUNTS(c)[acct].orders_head; o != NIL; o = ORDER_LINKS(c)[o].next)
	{
		core_order_info info;

		if (symbol_id != 0 && orders[o].symbol != symbol_id)
			continue;
		order_to_info(c, o, &info);
		if (!fn(ctx, &info))
			return;
	}
}

void
core_book_levels(const core_engine *c, uint32_t symbol_id, core_side side,
				 uint32_t max_levels, core_level_fn fn, void *ctx)
{
	const level *L = LEVELS(c);
	uint32_t	n = 0;

	if (symbol_id < 1 || symbol_id > c->nsymbols || (unsigned) side > CORE_SELL)
		return;
	for (uint32_t l = SYMBOLS(c)[symbol_id].sides[side].best;
		 l != NIL && (max_levels == 0 || n < max_levels); l = L[l].next, n++)
	{
		core_level_info info;

		memset(&info, 0, sizeof(info));
		info.side = side;
		info.price = L[l].price;
		info.qty_hi = (uint64_t) (L[l].qty >> 64);
		info.qty_lo = (uint64_t) L[l].qty;
		info.orders = (int32_t) L[l].count;
		if (!fn(ctx, &info))
			return;
	}
}

void
core_level_orders(const core_engine *c, uint32_t symbol_id, core_side side,
				  int64_t price, core_order_fn fn, void *ctx)
{
	uint32_t	l = book_level_at(c, symbol_id, side, price);

	if (l == NIL)
		return;
	for (uint32_t o = LEVELS(c)[l].head; o != NIL; o = ORDERS(c)[o].next)
	{
		core_order_info info;

		order_to_info(c, o, &info);
		if (!fn(ctx, &info))
			return;
	}
}
