/*
 * match.c — the order commands: PLACE, CANCEL, CANCEL_ALL and AMEND, and the
 * matching loop they share.
 *
 * This is where trading outcomes are decided, and where money moves between
 * balances.  Every rule here is written down in doc/semantics.md; the
 * invariants kept after every command are that each resting order's lock is
 * exactly what its remainder needs, each user's frozen amount is the sum of
 * those locks, and each resting order is worth at least one quote unit at
 * its own price (orders left by release 1.0 aside: the first taker to reach
 * one cancels it).  No fill moves base for zero quote: a taker stops before
 * such a fill.
 *
 * Order of a PLACE's checks, each refusing before anything changes: symbol
 * (unknown, halted, tick/lot/min_qty), account, balance rows, value
 * (overflow, minimum), room to rest (open-order limit, pool), funds,
 * post-only, fill-or-kill.
 */
#include <string.h>

#include "book.h"

/* The incoming side of a match: a new order, or an amended one re-entering. */
typedef struct taker
{
	apply_ctx  *a;
	core_engine *c;
	const symbol *s;
	uint32_t	sym;
	uint32_t	acct;
	balance    *base;			/* its balance rows, found once per command */
	balance    *quote;
	int64_t		id;
	int64_t		user;
	uint8_t		side;
	uint8_t		stp;
	bool		market_buy;
	int64_t		price;			/* 0 = market */
	int64_t		remaining;
	int64_t		filled;
	u128		notional;
	int64_t		locked;			/* funds this order holds frozen */
	int64_t		budget;			/* market buy: quote it may still spend */
	core_reason budget_reason;	/* why the budget ends: funds or quote_qty */
	core_reason stop;			/* why matching ended early */
	int32_t		trades;
} taker;

static int64_t
avg_price(int64_t filled, u128 notional)
{
	if (filled <= 0)
		return 0;
	if ((uint64_t) (notional >> 64) == 0)
		return (int64_t) ((uint64_t) notional / (uint64_t) filled);
	return (int64_t) (notional / (u128) filled);
}

/* Events are built field by field: only the member of the union in use. */
HOT_INLINE void
order_event(core_event *ev, int64_t id, int64_t user, uint32_t sym, uint8_t side,
			core_status st, core_reason why, int64_t price, int64_t qty, int64_t filled,
			int64_t remaining)
{
	ev->type = CORE_EV_ORDER;
	ev->u.order.order_id = id;
	ev->u.order.user_id = user;
	ev->u.order.symbol = sym;
	ev->u.order.side = side;
	ev->u.order.status = st;
	ev->u.order.reason = why;
	ev->u.order.price = price;
	ev->u.order.qty = qty;
	ev->u.order.filled_qty = filled;
	ev->u.order.remaining_qty = remaining;
}

/* The order event of a resting order, from its records. */
HOT_INLINE void
resting_event(core_event *ev, const order *o, const order_cold *oc, core_status st,
			  core_reason why)
{
	bool		open = st == CORE_ST_NEW || st == CORE_ST_PARTIALLY_FILLED ||
		st == CORE_ST_AMENDED;

	order_event(ev, o->id, o->user_id, o->symbol, o->side, st, why, o->price,
				oc->filled + o->remaining, oc->filled, open ? o->remaining : 0);
}

HOT_INLINE void
emit_order_event(apply_ctx *a, int64_t id, int64_t user, uint32_t sym,
				 uint8_t side, core_status st, core_reason why, int64_t price,
				 int64_t qty, int64_t filled, int64_t remaining)
{
	core_event	ev;

	if (a->fn == NULL)
		return;
	order_event(&ev, id, user, sym, side, st, why, price, qty, filled, remaining);
	a->fn(a->fnctx, &ev);
}

HOT_INLINE void
emit_resting_event(apply_ctx *a, const order *o, const order_cold *oc, core_status st,
				   core_reason why)
{
	core_event	ev;

	if (a->fn == NULL)
		return;
	resting_event(&ev, o, oc, st, why);
	a->fn(a->fnctx, &ev);
}

/* Fill the caller's answer from an order's figures. */
HOT_INLINE void
set_order_result(apply_ctx *a, int64_t id, core_status st, core_reason why,
				 int64_t filled, int64_t remaining, u128 notional, int32_t trades)
{
	a->res->status = st;
	a->res->reason = why;
	a->res->order_id = id;
	a->res->filled_qty = filled;
	a->res->remaining_qty = remaining;
	a->res->avg_price = avg_price(filled, notional);
	a->res->trades = trades;
}

/* The balance row a resting order's lock is frozen in. */
static inline balance *
lock_row(core_engine *c, const order *o, const order_cold *oc)
{
	return &BALANCES(c)[o->side == CORE_BUY ? oc->quote_row : oc->base_row];
}

/*
 * Take a resting order off its book for good: its lock goes back to
 * available, and its slot is freed.  The caller has emitted (or emits from
 * a copy) whatever event the removal needs.
 */
HOT_INLINE void
retire_resting(core_engine *c, uint32_t o)
{
	order	   *ord = &ORDERS(c)[o];
	order_cold *oc = &ORDER_COLD(c)[o];

	if (oc->locked > 0)
		ledger_release(lock_row(c, ord, oc), oc->locked);
	oc->locked = 0;
	if (ord->level != NIL)
		book_dequeue(c, o);
	book_unlink_account(c, o);
	book_unindex_order(c, o);
	book_free_order(c, o);
}

HOT_INLINE void
cancel_resting(apply_ctx *a, uint32_t o, core_reason why)
{
	core_event	ev;

	/* The event is taken before the order leaves, and told after. */
	resting_event(&ev, &ORDERS(a->c)[o], &ORDER_COLD(a->c)[o], CORE_ST_CANCELED, why);
	retire_resting(a->c, o);
	emit(a, &ev);
}

/* Would an order at price (0: market) on side trade with the book now? */
HOT_INLINE bool
price_crosses(const core_engine *c, const symbol *s, int side, int64_t price)
{
	uint32_t	best = s->sides[!side].best;
	int64_t		p;

	if (best == NIL)
		return false;
	p = LEVELS(c)[best].price;
	return price == 0 || (side == CORE_BUY ? p <= price : p >= price);
}

static inline bool
crosses(const taker *t, int64_t resting_price)
{
	if (t->price == 0)
		return true;
	return t->side == CORE_BUY ? resting_price <= t->price : resting_price >= t->price;
}

/* ---------------------------------------------------------------- trade */

/*
 * One fill of q base units against maker m, for quote = floor(maker price *
 * q / 10^bd) quote units (at least 1: match() never fills for nothing).
 * The maker's rows come from its order, the fee account's from the symbol:
 * nothing is looked up.
 */
static void
trade(taker *t, uint32_t m, int64_t q, int64_t quote)
{
	core_engine *c = t->c;
	const symbol *s = t->s;
	order	   *mk = &ORDERS(c)[m];
	order_cold *mc = &ORDER_COLD(c)[m];
	balance    *rows = BALANCES(c);
	balance    *m_base = &rows[mc->base_row];
	balance    *m_quote = &rows[mc->quote_row];
	int64_t		p = mk->price;
	int64_t		taker_fee,
				maker_fee;
	core_event	ev;

	if (t->side == CORE_BUY)
	{
		taker_fee = fee_of(q, s->taker_ppm);
		maker_fee = fee_of(quote, s->maker_ppm);

		/* maker sells: its base lock shrinks by q, it receives quote */
		m_base->frozen -= q;
		mc->locked -= q;
		m_quote->available += quote - maker_fee;

		/* taker buys: pays quote from its lock (limit) or available (market) */
		if (t->market_buy)
		{
			t->quote->available -= quote;
			t->budget -= quote;
		}
		else
		{
			int64_t		new_lock = 0;

			quote_value(t->price, t->remaining - q, s->base_scale, &new_lock);
			t->quote->frozen -= t->locked - new_lock;
			t->quote->available += t->locked - new_lock - quote;
			t->locked = new_lock;
		}
		t->base->available += q - taker_fee;
		rows[s->fee_base].available += taker_fee;
		rows[s->fee_quote].available += maker_fee;
	}
	else
	{
		int64_t		new_lock = 0;

		taker_fee = fee_of(quote, s->taker_ppm);
		maker_fee = fee_of(q, s->maker_ppm);

		/* maker buys: its quote lock shrinks to what the rest needs */
		quote_value(p, mk->remaining - q, s->base_scale, &new_lock);
		m_quote->frozen -= mc->locked - new_lock;
		m_quote->available += mc->locked - new_lock - quote;
		mc->locked = new_lock;
		m_base->available += q - maker_fee;

		/* taker sells: its base lock shrinks by q, it receives quote */
		t->base->frozen -= q;
		t->locked -= q;
		t->quote->available += quote - taker_fee;
		rows[s->fee_base].available += maker_fee;
		rows[s->fee_quote].available += taker_fee;
	}

	mk->remaining -= q;
	mc->filled += q;
	mc->notional += (u128) p * (u128) q;
	LEVELS(c)[mk->level].qty -= q;
	t->remaining -= q;
	t->filled += q;
	t->notional += (u128) p * (u128) q;
	t->trades++;

	if (t->a->fn)
	{
		ev.type = CORE_EV_TRADE;
		ev.u.trade.trade_id = c->next_trade_id;
		ev.u.trade.symbol = t->sym;
		ev.u.trade.taker_side = t->side;
		ev.u.trade.price = p;
		ev.u.trade.qty = q;
		ev.u.trade.quote_qty = quote;
		ev.u.trade.taker_order_id = t->id;
		ev.u.trade.taker_user_id = t->user;
		ev.u.trade.maker_order_id = mk->id;
		ev.u.trade.maker_user_id = mk->user_id;
		ev.u.trade.taker_fee = taker_fee;
		ev.u.trade.maker_fee = maker_fee;
		emit(t->a, &ev);
	}
	c->next_trade_id++;

	if (mk->remaining == 0)
	{
		resting_event(&ev, mk, mc, CORE_ST_FILLED, CORE_R_NONE);
		retire_resting(c, m);
		emit(t->a, &ev);
	}
	else if (UNLIKELY(worth_nothing(p, mk->remaining, s->base_scale)))
	{
		/* A remainder worth less than one quote unit does not rest. */
		resting_event(&ev, mk, mc, CORE_ST_CANCELED, CORE_R_DUST);
		retire_resting(c, m);
		emit(t->a, &ev);
	}
	else
		emit_resting_event(t->a, mk, mc, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE);
}

/* ------------------------------------------------------------- matching */

/*
 * Largest quantity a market buy can still pay for at price p: the budget's
 * worth rounded down to the lot.
 */
static int64_t
affordable(const taker *t, int64_t p)
{
	i128		q = (i128) t->budget * t->s->base_scale / p;

	if (q > INT64_MAX)
		q = INT64_MAX;
	return (int64_t) q - (int64_t) q % t->s->lot;
}

/*
 * Take liquidity in price-time priority until the taker is filled, its
 * price stops crossing, or something stops it early (t->stop): stp, its
 * budget (a market buy), or a fill that would be worth no quote (dust).
 * dry_match below must make exactly the same decisions.
 */
static void
match_book(taker *t)
{
	core_engine *c = t->c;
	const symbol *s = t->s;
	const level *L = LEVELS(c);
	uint32_t	l = s->sides[!t->side].best;

	while (l != NIL && t->remaining > 0)
	{
		uint32_t	next_level = L[l].next;
		uint32_t	m = L[l].head;

		if (!crosses(t, L[l].price))
			return;
		/* Orders leave only this level here, so next_level stays valid. */
		while (m != NIL && t->remaining > 0)
		{
			order	   *mk = &ORDERS(c)[m];
			uint32_t	next = mk->next;
			int64_t		q,
						quote = 0;
			bool		cut = false;

			if (mk->user_id == t->user && t->stp != CORE_STP_NONE)
			{
				if (t->stp == CORE_STP_CANCEL_MAKER || t->stp == CORE_STP_CANCEL_BOTH)
					cancel_resting(t->a, m, CORE_R_SELF_TRADE);
				if (t->stp == CORE_STP_CANCEL_TAKER || t->stp == CORE_STP_CANCEL_BOTH)
				{
					t->stop = CORE_R_SELF_TRADE;
					return;
				}
				m = next;
				continue;
			}
			q = t->remaining < mk->remaining ? t->remaining : mk->remaining;
			if (t->market_buy)
			{
				int64_t		can = affordable(t, mk->price);

				if (can < q)
				{
					q = can;
					cut = true;
				}
			}
			/* Fits: the maker's whole remainder was valued at entry. */
			quote_value(mk->price, q, s->base_scale, &quote);
			if (quote == 0)
			{
				/* A maker worth nothing rested before the dust rule existed:
				 * it leaves the book instead of blocking its level. */
				if (worth_nothing(mk->price, mk->remaining, s->base_scale))
				{
					cancel_resting(t->a, m, CORE_R_DUST);
					m = next;
					continue;
				}
				t->stop = cut ? t->budget_reason : CORE_R_DUST;
				return;
			}
			trade(t, m, q, quote);
			if (cut || (t->market_buy && t->budget == 0))
			{
				t->stop = t->budget_reason;
				return;
			}
			m = next;
		}
		l = next_level;
	}
}

/* match_book, after a check (inline) that the taker crosses at all. */
static inline void
match(taker *t)
{
	uint32_t	best = t->s->sides[!t->side].best;

	if (best != NIL && crosses(t, LEVELS(t->c)[best].price))
		match_book(t);
}

/*
 * What match() would leave of a limit taker's quantity, found without
 * changing anything: the same makers in the same order, the same stp
 * decisions, the same stop before a fill worth no quote, the same skipping
 * of a maker worth nothing.  Returns the remainder (0: fills completely),
 * or -1 when matching would stop early (the remainder then expires).  It
 * subtracts from the taker's quantity and never sums the book, so no total
 * can overflow however deep the book is.
 */
static int64_t
dry_match(const taker *t)
{
	const core_engine *c = t->c;
	const symbol *s = t->s;
	int64_t		rem = t->remaining;

	for (uint32_t l = s->sides[!t->side].best; l != NIL && rem > 0; l = LEVELS(c)[l].next)
	{
		if (!crosses(t, LEVELS(c)[l].price))
			break;
		for (uint32_t m = LEVELS(c)[l].head; m != NIL && rem > 0; m = ORDERS(c)[m].next)
		{
			const order *mk = &ORDERS(c)[m];
			int64_t		q;

			if (mk->user_id == t->user && t->stp != CORE_STP_NONE)
			{
				if (t->stp == CORE_STP_CANCEL_MAKER)
					continue;
				return -1;
			}
			q = rem < mk->remaining ? rem : mk->remaining;
			if (worth_nothing(mk->price, q, s->base_scale))
			{
				if (worth_nothing(mk->price, mk->remaining, s->base_scale))
					continue;
				return -1;
			}
			rem -= q;
		}
	}
	return rem;
}

/* Would a limit order leave a remainder that rests (not filled, not
 * stopped, worth at least one quote unit at its own price)? */
static bool
remainder_would_rest(const taker *t)
{
	int64_t		rem = dry_match(t);

	return rem > 0 && !worth_nothing(t->price, rem, t->s->base_scale);
}

/*
 * Room for a gtc order's remainder: a slot in the order pool and, when the
 * record carries a limit, fewer than max_open_orders resting orders of the
 * user over all symbols.  Only a remainder that would rest needs room, so
 * when either is short the book is walked (dry_match) to find out; an
 * order that fills completely, or stops, on arrival needs none.  Returns
 * CORE_R_NONE, or the reason to refuse the order before it trades.
 */
static core_reason
room_to_rest(const taker *t, const core_rec_place *r)
{
	const core_engine *c = t->c;
	bool		user_full = r->max_open_orders > 0 &&
		ACCOUNTS(c)[t->acct].norders >= r->max_open_orders;
	bool		pool_full = c->norders >= c->limits.max_orders;

	if (!user_full && !pool_full)
		return CORE_R_NONE;
	/* A post-only order rests whole or is refused: it always needs room. */
	if (!r->post_only && !remainder_would_rest(t))
		return CORE_R_NONE;
	return user_full ? CORE_R_OPEN_ORDERS_LIMIT : CORE_R_CAPACITY;
}

static bool
would_cross(const taker *t)
{
	uint32_t	best = t->s->sides[!t->side].best;

	return best != NIL && crosses(t, LEVELS(t->c)[best].price);
}

/* After matching: how an order that will not rest ends. */
static core_status
finished_status(const taker *t, core_reason *why)
{
	*why = CORE_R_NONE;
	if (t->remaining == 0)
		return CORE_ST_FILLED;
	if (t->stop == CORE_R_QUOTE_QTY && t->filled > 0)
	{
		*why = CORE_R_QUOTE_QTY;	/* a market buy that spent its quote_qty */
		return CORE_ST_FILLED;
	}
	*why = t->stop != CORE_R_NONE ? t->stop : CORE_R_NO_LIQUIDITY;
	return CORE_ST_EXPIRED;
}

static void
release_taker_lock(taker *t)
{
	if (t->locked > 0)
		ledger_release(t->side == CORE_BUY ? t->quote : t->base, t->locked);
	t->locked = 0;
}

/* The fields of a taker that every command sets the same way. */
static void
taker_init(taker *t, apply_ctx *a, const symbol *s, uint32_t sym, int64_t id,
		   int64_t user, uint8_t side, uint8_t stp)
{
	t->a = a;
	t->c = a->c;
	t->s = s;
	t->sym = sym;
	t->id = id;
	t->user = user;
	t->side = side;
	t->stp = stp;
	t->market_buy = false;
	t->filled = 0;
	t->notional = 0;
	t->locked = 0;
	t->budget = 0;
	t->budget_reason = CORE_R_NONE;
	t->stop = CORE_R_NONE;
	t->trades = 0;
}

/* ---------------------------------------------------------------- PLACE */

static void
reject_place(apply_ctx *a, const core_rec_place *r, int64_t id, core_reason why)
{
	emit_order_event(a, id, r->user_id, r->symbol, r->side, CORE_ST_REJECTED, why,
					 r->price, r->qty, 0, 0);
	set_order_result(a, id, CORE_ST_REJECTED, why, 0, 0, 0, 0);
}

/* A PLACE that failed its shape checks: it still takes an order id. */
void
redo_place_malformed(apply_ctx *a)
{
	reject_place(a, &a->rec->u.place, a->c->next_order_id++, CORE_R_INVALID);
}

/* Shape checks that need the symbol: tick, lot, minimum (core.h's rules). */
static inline bool
fits_symbol(const symbol *s, int64_t price, int64_t qty, bool check_min)
{
	if (!core_price_on_tick(price, s->tick) || !core_qty_on_lot(qty, s->lot))
		return false;
	return !check_min || core_qty_meets_min(qty, s->min_qty);
}

/* The new order rests: fill its records and put it in the book. */
static void
rest_order(apply_ctx *a, const core_rec_place *r, const taker *t, uint32_t o,
		   uint32_t base_row, uint32_t quote_row)
{
	core_engine *c = a->c;
	order	   *ord = &ORDERS(c)[o];
	order_cold *oc = &ORDER_COLD(c)[o];
	core_status st = t->filled > 0 ? CORE_ST_PARTIALLY_FILLED : CORE_ST_NEW;

	ord->id = t->id;
	ord->user_id = r->user_id;
	ord->price = r->price;
	ord->remaining = t->remaining;
	ord->account = t->acct;
	ord->symbol = r->symbol;
	ord->side = r->side;
	ord->stp = r->stp;
	ord->post_only = r->post_only;
	oc->filled = t->filled;
	oc->locked = t->locked;
	oc->created_ts = a->rec->ts;
	oc->notional = t->notional;
	oc->base_row = base_row;
	oc->quote_row = quote_row;
	ord->has_client_id = r->client_order_id[0] != '\0';
	if (ord->has_client_id)
		memcpy(ORDER_TEXT(c)[o].client_order_id, r->client_order_id,
			   sizeof(r->client_order_id));
	book_index_order(c, o);
	book_append_account(c, o);
	book_enqueue(c, o);
	emit_resting_event(a, ord, oc, st, CORE_R_NONE);
	set_order_result(a, t->id, st, CORE_R_NONE, t->filled, t->remaining, t->notional,
					 t->trades);
}

void
redo_place(apply_ctx *a)
{
	const core_rec_place *r = &a->rec->u.place;
	core_engine *c = a->c;
	int64_t		id = c->next_order_id++;
	const symbol *s = symbol_at(c, r->symbol);
	bool		market = r->price == 0;
	uint32_t	o,
				base_row,
				quote_row,
				base_at = NIL,
				quote_at = NIL;
	uint64_t	uh;
	balance    *rows;
	taker		t;
	int64_t		avail;
	core_reason why;
	core_status st;

	if (UNLIKELY(s == NULL))
		{ reject_place(a, r, id, CORE_R_UNKNOWN_SYMBOL); return; }
	if (UNLIKELY(s->status == CORE_HALTED))
		{ reject_place(a, r, id, CORE_R_HALTED); return; }
	if (UNLIKELY(!fits_symbol(s, r->price, r->qty, true)))
		{ reject_place(a, r, id, CORE_R_INVALID); return; }

	/*
	 * The account and its two rows: each looked up once, from one hash of
	 * the user, and none waiting for another (three cache misses at most,
	 * in parallel).
	 */
	uh = user_hash(r->user_id);
	base_row = ledger_probe_row(c, row_home(c, uh, s->base), r->user_id, s->base, &base_at);
	quote_row = ledger_probe_row(c, row_home(c, uh, s->quote), r->user_id, s->quote, &quote_at);
	t.acct = ledger_probe_account(c, account_home(c, uh), r->user_id);
	if (UNLIKELY(t.acct == NIL))
		{ reject_place(a, r, id, CORE_R_INSUFFICIENT_FUNDS); return; }

	/*
	 * The order needs a balance row for both assets before money moves; rows
	 * are created only once every check has passed, so a refused order
	 * leaves no trace but its order id.  Until then a missing row reads as
	 * the table's NIL slot, which is all zeros and never written.
	 */
	if (UNLIKELY(base_row == NIL || quote_row == NIL) &&
		c->nbalances + (base_row == NIL) + (quote_row == NIL) > c->limits.max_balances)
		{ reject_place(a, r, id, CORE_R_CAPACITY); return; }
	rows = BALANCES(c);
	taker_init(&t, a, s, r->symbol, id, r->user_id, r->side, r->stp);
	t.base = &rows[base_row];
	t.quote = &rows[quote_row];
	t.price = r->price;
	t.remaining = r->qty > 0 ? r->qty : INT64_MAX;	/* quote_qty-only market buy */
	avail = r->side == CORE_BUY ? t.quote->available : t.base->available;

	if (LIKELY(!market))
	{
		int64_t		value = 0;

		switch (order_value_check(s, r->price, r->qty, &value))
		{
			case CORE_VALUE_OVERFLOW:
				reject_place(a, r, id, CORE_R_OVERFLOW);
				return;
			case CORE_VALUE_TOO_SMALL:
				reject_place(a, r, id, CORE_R_INVALID);
				return;
			case CORE_VALUE_OK:
				break;
		}
		t.locked = r->side == CORE_BUY ? value : r->qty;
	}
	else if (r->side == CORE_SELL)
		t.locked = r->qty;
	else
	{
		t.market_buy = true;
		t.budget = avail;
		t.budget_reason = CORE_R_FUNDS_EXHAUSTED;
		if (r->quote_qty > 0 && r->quote_qty <= t.budget)
		{
			t.budget = r->quote_qty;
			t.budget_reason = CORE_R_QUOTE_QTY;
		}
	}

	if (!market && r->tif == CORE_GTC && (why = room_to_rest(&t, r)) != CORE_R_NONE)
		{ reject_place(a, r, id, why); return; }
	if (t.locked > avail)
		{ reject_place(a, r, id, CORE_R_INSUFFICIENT_FUNDS); return; }
	if (UNLIKELY(r->post_only) && would_cross(&t))
		{ reject_place(a, r, id, CORE_R_POST_ONLY); return; }
	/* Fill-or-kill counts only what it could really take (stp, dust). */
	if (UNLIKELY(r->tif == CORE_FOK) && dry_match(&t) != 0)
		{ reject_place(a, r, id, CORE_R_FOK); return; }

	/* Create the missing rows where their lookups ended (capacity checked). */
	if (UNLIKELY(base_row == NIL || quote_row == NIL))
	{
		if (base_row == NIL)
			base_row = ledger_add_row(c, t.acct, s->base, base_at);
		if (quote_row == NIL)
			quote_row = ledger_add_row(c, t.acct, s->quote, quote_at);
		t.base = &rows[base_row];
		t.quote = &rows[quote_row];
	}
	if (t.locked > 0)
		ledger_freeze(r->side == CORE_BUY ? t.quote : t.base, t.locked);
	match(&t);

	/*
	 * A gtc remainder rests, unless it is worth nothing.  A slot is free:
	 * either the pool had one before matching (which only frees slots), or
	 * room_to_rest's dry_match found that nothing would rest.  Should the
	 * two ever disagree, the remainder expires (reason capacity) rather
	 * than break the pool.
	 */
	if (!market && r->tif == CORE_GTC && t.remaining > 0 && t.stop == CORE_R_NONE)
	{
		if (UNLIKELY(worth_nothing(t.price, t.remaining, s->base_scale)))
			t.stop = CORE_R_DUST;
		else if (UNLIKELY((o = book_alloc_order(c)) == NIL))
			t.stop = CORE_R_CAPACITY;
		else
		{
			rest_order(a, r, &t, o, base_row, quote_row);
			return;
		}
	}

	release_taker_lock(&t);
	if (!market && r->tif == CORE_IOC && t.remaining > 0 && t.stop == CORE_R_NONE)
		t.stop = CORE_R_IOC;
	st = finished_status(&t, &why);
	emit_order_event(a, id, r->user_id, r->symbol, r->side, st, why, r->price,
					 r->qty > 0 ? r->qty : t.filled, t.filled, 0);
	set_order_result(a, id, st, why, t.filled, 0, t.notional, t.trades);
}

/* --------------------------------------------------------------- CANCEL */

/* The caller's own resting order, or NIL. */
HOT_INLINE uint32_t
own_order(core_engine *c, int64_t user, int64_t order_id)
{
	uint32_t	o = book_find_order(c, order_id);

	return (o != NIL && ORDERS(c)[o].user_id == user) ? o : NIL;
}

void
redo_cancel(apply_ctx *a)
{
	const core_rec_cancel *r = &a->rec->u.cancel;
	uint32_t	o = own_order(a->c, r->user_id, r->order_id);
	const order_cold *oc;

	a->res->order_id = r->order_id;
	if (o == NIL)
		REJECT(a, CORE_R_UNKNOWN_ORDER);
	oc = &ORDER_COLD(a->c)[o];
	set_order_result(a, r->order_id, CORE_ST_CANCELED, CORE_R_NONE, oc->filled, 0,
					 oc->notional, 0);
	cancel_resting(a, o, CORE_R_NONE);
}

void
redo_cancel_all(apply_ctx *a)
{
	const core_rec_cancel_all *r = &a->rec->u.cancel_all;
	core_engine *c = a->c;
	uint32_t	acct = ledger_find_account(c, r->user_id);
	uint32_t	o;

	if (r->symbol != 0 && symbol_at(c, r->symbol) == NULL)
		REJECT(a, CORE_R_UNKNOWN_SYMBOL);
	if (acct == NIL)
		return;
	/* The account's list is in order-id order: cancel in that order. */
	o = ACCOUNTS(c)[acct].orders_head;
	while (o != NIL)
	{
		uint32_t	next = ORDER_LINKS(c)[o].next;

		if (r->symbol == 0 || ORDERS(c)[o].symbol == r->symbol)
		{
			cancel_resting(a, o, CORE_R_NONE);
			a->res->canceled++;
		}
		o = next;
	}
}

/* ---------------------------------------------------------------- AMEND */

static void
amend_in_place(apply_ctx *a, uint32_t o, int64_t new_qty)
{
	core_engine *c = a->c;
	order	   *ord = &ORDERS(c)[o];
	order_cold *oc = &ORDER_COLD(c)[o];
	int64_t		new_lock;

	LEVELS(c)[ord->level].qty -= ord->remaining - new_qty;
	ord->remaining = new_qty;
	new_lock = order_lock_needed(&SYMBOLS(c)[ord->symbol], ord);
	ledger_release(lock_row(c, ord, oc), oc->locked - new_lock);
	oc->locked = new_lock;
	emit_resting_event(a, ord, oc, CORE_ST_AMENDED, CORE_R_NONE);
	set_order_result(a, ord->id, core_resting_status(oc->filled), CORE_R_NONE,
					 oc->filled, ord->remaining, oc->notional, 0);
}

/* An amended order that does not rest again: it ends, and leaves the book. */
static __attribute__((noinline)) void
amend_ends(apply_ctx *a, uint32_t o, taker *t)
{
	const order *ord = &ORDERS(a->c)[o];
	const order_cold *oc = &ORDER_COLD(a->c)[o];
	core_reason why;
	core_status st;

	release_taker_lock(t);
	st = finished_status(t, &why);
	emit_order_event(a, ord->id, ord->user_id, ord->symbol, ord->side, st, why,
					 ord->price, oc->filled + ord->remaining, oc->filled, 0);
	set_order_result(a, ord->id, st, why, oc->filled, 0, oc->notional, t->trades);
	retire_resting(a->c, o);
}

/* A refused amend leaves the order as it was: answer with its figures. */
static void
refuse_amend(apply_ctx *a, uint32_t o, core_reason why)
{
	const order *ord = &ORDERS(a->c)[o];
	const order_cold *oc = &ORDER_COLD(a->c)[o];

	set_order_result(a, ord->id, core_resting_status(oc->filled), CORE_R_NONE,
					 oc->filled, ord->remaining, oc->notional, 0);
	a->res->status = CORE_ST_REJECTED;
	a->res->reason = why;
}

void
redo_amend(apply_ctx *a)
{
	const core_rec_amend *r = &a->rec->u.amend;
	core_engine *c = a->c;
	uint32_t	o = own_order(c, r->user_id, r->order_id);
	order	   *ord;
	order_cold *oc;
	const symbol *s;
	int64_t		new_qty,
				new_price,
				value = 0,
				new_lock;
	balance    *lockbal;
	taker		t;

	a->res->order_id = r->order_id;
	if (o == NIL)
		REJECT(a, CORE_R_UNKNOWN_ORDER);
	ord = &ORDERS(c)[o];
	oc = &ORDER_COLD(c)[o];
	s = &SYMBOLS(c)[ord->symbol];
	new_qty = r->qty > 0 ? r->qty : ord->remaining;
	new_price = r->price > 0 ? r->price : ord->price;
	if (UNLIKELY(s->status == CORE_HALTED))
		{ refuse_amend(a, o, CORE_R_HALTED); return; }
	if (UNLIKELY(!fits_symbol(s, new_price, new_qty, false)))
		{ refuse_amend(a, o, CORE_R_INVALID); return; }
	/* Its size (filled + new remaining) must stay an int64 like any order's. */
	if (UNLIKELY(new_qty > INT64_MAX - oc->filled))
		{ refuse_amend(a, o, CORE_R_OVERFLOW); return; }
	switch (order_value_check(s, new_price, new_qty, &value))
	{
		case CORE_VALUE_OVERFLOW:
			refuse_amend(a, o, CORE_R_OVERFLOW);
			return;
		case CORE_VALUE_TOO_SMALL:
			refuse_amend(a, o, CORE_R_INVALID);
			return;
		case CORE_VALUE_OK:
			break;
	}

	/* Same price, not more: keeps its place in the queue. */
	if (new_price == ord->price && new_qty <= ord->remaining)
		{ amend_in_place(a, o, new_qty); return; }

	/* Otherwise cancel-and-replace under the same id. */
	new_lock = ord->side == CORE_BUY ? value : new_qty;
	lockbal = lock_row(c, ord, oc);
	if (new_lock > lockbal->available + oc->locked)
		{ refuse_amend(a, o, CORE_R_INSUFFICIENT_FUNDS); return; }

	/*
	 * Nothing on the other side at the new price: the order only moves to
	 * the back of its new level (it is worth at least one quote unit, so it
	 * rests), as the general path below would find after matching nothing.
	 */
	if (LIKELY(!price_crosses(c, s, ord->side, new_price)))
	{
		book_dequeue(c, o);
		ledger_release(lockbal, oc->locked);
		ledger_freeze(lockbal, new_lock);
		ord->price = new_price;
		ord->remaining = new_qty;
		oc->locked = new_lock;
		book_enqueue(c, o);
		emit_resting_event(a, ord, oc, CORE_ST_AMENDED, CORE_R_NONE);
		set_order_result(a, ord->id, core_resting_status(oc->filled), CORE_R_NONE,
						 oc->filled, new_qty, oc->notional, 0);
		return;
	}

	taker_init(&t, a, s, ord->symbol, ord->id, ord->user_id, ord->side, ord->stp);
	t.acct = ord->account;
	t.base = &BALANCES(c)[oc->base_row];
	t.quote = &BALANCES(c)[oc->quote_row];
	t.price = new_price;
	t.remaining = new_qty;
	t.filled = oc->filled;
	t.notional = oc->notional;
	if (ord->post_only && would_cross(&t))
		{ refuse_amend(a, o, CORE_R_POST_ONLY); return; }

	book_dequeue(c, o);
	ledger_release(lockbal, oc->locked);
	oc->locked = 0;
	t.locked = new_lock;
	ledger_freeze(lockbal, new_lock);
	match(&t);

	ord->price = new_price;
	ord->remaining = t.remaining;
	oc->filled = t.filled;
	oc->notional = t.notional;
	if (t.remaining > 0 && t.stop == CORE_R_NONE &&
		worth_nothing(new_price, t.remaining, s->base_scale))
		t.stop = CORE_R_DUST;	/* a remainder worth nothing does not rest */
	if (t.remaining > 0 && t.stop == CORE_R_NONE)
	{
		oc->locked = t.locked;
		book_enqueue(c, o);
		emit_resting_event(a, ord, oc, CORE_ST_AMENDED, CORE_R_NONE);
		set_order_result(a, ord->id, core_resting_status(oc->filled), CORE_R_NONE,
						 oc->filled, ord->remaining, oc->notional, t.trades);
		return;
	}
	amend_ends(a, o, &t);
}
