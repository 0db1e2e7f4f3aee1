/*
 * test_dust.c — no free orders, no free trades, no free slots
 * (doc/semantics.md, "Order value and dust" and "Room to rest"): the order
 * value rule and min_notional, fills that would be worth no quote, maker
 * and taker remainders worth less than one quote unit, market orders at
 * the edge of a quote unit, makers left worth nothing by release 1.0, and
 * the per-user limit on resting orders.
 *
 * The market: BTC (8 decimals) in USD (2 decimals), tick 0.01, lot 1
 * satoshi.  At 30000.00 (3000000) q satoshis are worth floor(3 q / 100)
 * cents: 33 sat are worth 0.99 cent, i.e. nothing; 34 sat are worth 1.
 */
#include "fixture.h"

enum
{
	BTC = 1, USD = 2, ETH = 3, BTCUSD = 1, ETHUSD = 2
};

#define P30K	INT64_C(3000000)	/* 30000.00 */
#define P29K	INT64_C(2900000)	/* 29000.00 */
#define ONE_BTC INT64_C(100000000)

static fx *
btc_usd(void)
{
	fx		   *f = fx_new();

	CHECK_EQ(fx_asset(f, "BTC", 8), BTC);
	CHECK_EQ(fx_asset(f, "USD", 2), USD);
	CHECK_EQ(fx_symbol(f, "BTC_USD", BTC, USD, 1, 1, 0, 0, 0), BTCUSD);
	return f;
}

static int64_t
remaining_of(fx *f, int64_t order_id)
{
	core_order_info o;

	return core_order_get(f->c, order_id, &o) ? o.remaining_qty : -1;
}

/* ------------------------------------------------------- order value */

/*
 * The smallest failing input of release 1.0: a resting sell of 1 BTC at
 * 30000.00; a user holding no USD buys 0.00000033 BTC at 30000.00, worth
 * 0.0099 USD.  It used to trade for 0.00; now it is refused (invalid)
 * whatever its time in force, and nothing moves.
 */
TEST(dust_issue_smallest_failing_input_is_refused)
{
	fx		   *f = btc_usd();
	core_rec_place p;
	int64_t		v = -1;

	fx_deposit(f, 2, BTC, ONE_BTC);
	fx_limit(f, 2, BTCUSD, CORE_SELL, ONE_BTC, P30K, CORE_GTC);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, ONE_BTC);
	fx_deposit(f, 1, BTC, 1);	/* an account, but no USD */

	fx_limit(f, 1, BTCUSD, CORE_BUY, 33, P30K, CORE_GTC);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INVALID, 0, 0);
	CHECK_EQ(f->r.order_id, 2);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 2, CORE_ST_REJECTED, CORE_R_INVALID, 0, 0);
	fx_limit(f, 1, BTCUSD, CORE_BUY, 33, P30K, CORE_IOC);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INVALID, 0, 0);
	fx_limit(f, 1, BTCUSD, CORE_BUY, 33, P30K, CORE_FOK);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INVALID, 0, 0);
	p = fx_place_rec(1, BTCUSD, CORE_BUY, 33, P29K, CORE_GTC);
	p.post_only = true;
	fx_place_ex(f, &p);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INVALID, 0, 0);
	fx_limit(f, 1, BTCUSD, CORE_SELL, 1, P30K, CORE_GTC);	/* a sell too */
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INVALID, 0, 0);

	CHECK_EQ(core_get_counters(f->c).next_trade_id, 1);
	CHECK_EQ(remaining_of(f, 1), ONE_BTC);
	FX_BAL(f, 1, BTC, 1, 0);
	CHECK_EQ(fx_avail(f, 1, USD), -1);	/* a refused order creates no row */
	FX_BAL(f, 2, BTC, 0, ONE_BTC);

	/* the predicate the SQL layer uses says the same */
	CHECK_EQ(core_check_order_value(P30K, 33, 8, 0, &v), CORE_VALUE_TOO_SMALL);
	CHECK_EQ(v, 0);
	CHECK_EQ(core_check_order_value(P30K, 34, 8, 0, &v), CORE_VALUE_OK);
	CHECK_EQ(v, 1);
	fx_limit(f, 1, BTCUSD, CORE_BUY, 34, P30K, CORE_GTC);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INSUFFICIENT_FUNDS, 0, 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(dust_order_value_predicate_exact)
{
	int64_t		v = -1;

	CHECK_EQ(core_min_order_value(0), 1);
	CHECK_EQ(core_min_order_value(1), 1);
	CHECK_EQ(core_min_order_value(1000), 1000);
	CHECK_EQ(core_check_order_value(P30K, 33333, 8, 1000, &v), CORE_VALUE_TOO_SMALL);
	CHECK_EQ(v, 999);
	CHECK_EQ(core_check_order_value(P30K, 33334, 8, 1000, &v), CORE_VALUE_OK);
	CHECK_EQ(v, 1000);
	CHECK_EQ(core_check_order_value(1, 999999999999999999, 18, 0, &v), CORE_VALUE_TOO_SMALL);
	CHECK_EQ(v, 0);
	CHECK_EQ(core_check_order_value(1, 1000000000000000000, 18, 0, &v), CORE_VALUE_OK);
	CHECK_EQ(v, 1);
	CHECK_EQ(core_check_order_value(INT64_MAX, 1, 0, 0, &v), CORE_VALUE_OK);
	CHECK_EQ(v, INT64_MAX);
	v = 7;
	CHECK_EQ(core_check_order_value(INT64_MAX, 2, 0, 0, &v), CORE_VALUE_OVERFLOW);
	CHECK_EQ(v, 7);				/* left alone when it does not fit */
	CHECK_EQ(core_check_order_value(INT64_MAX, 2, 0, INT64_MAX, NULL), CORE_VALUE_OVERFLOW);
	CHECK_EQ(core_check_order_value(INT64_MAX, 1, 0, INT64_MAX, NULL), CORE_VALUE_OK);
}

/*
 * min_notional 10.00: new limit orders and amends must be worth it; a
 * partly filled order's remainder may be worth less (at least 0.01) and
 * rests; market orders have no price and are not held to it.
 */
TEST(dust_min_notional_applies_to_new_orders_and_amends)
{
	fx		   *f = btc_usd();
	core_rec_create_symbol s;
	core_symbol_info si;
	core_order_info o;

	memset(&s, 0, sizeof(s));
	strcpy(s.name, "BTC_USD10");
	s.base_asset = BTC;
	s.quote_asset = USD;
	s.tick_size = 1;
	s.lot_size = 1;
	s.min_notional = 1000;
	CHECK_EQ(fx_symbol_rec(f, &s), 2);
	CHECK(core_symbol_get(f->c, 2, &si));
	CHECK_EQ(si.min_notional, 1000);
	CHECK(core_symbol_get(f->c, BTCUSD, &si));
	CHECK_EQ(si.min_notional, 0);

	fx_deposit(f, 1, USD, 100000);
	fx_deposit(f, 2, BTC, ONE_BTC);
	fx_limit(f, 1, 2, CORE_BUY, 33333, P30K, CORE_GTC);	/* 9.99 */
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INVALID, 0, 0);
	fx_limit(f, 1, 2, CORE_BUY, 33334, P30K, CORE_GTC);	/* 10.00 */
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 33334);
	CHECK_EQ(f->r.order_id, 2);
	FX_BAL(f, 1, USD, 99000, 1000);
	fx_limit(f, 2, 2, CORE_SELL, 33333, P30K, CORE_IOC);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INVALID, 0, 0);

	/* a market sell of 20000 sat for 6.00 (a limit sell that small is
	 * refused): the bid's remaining 13334 sat are worth 4.00 and rest */
	fx_market(f, 2, 2, CORE_SELL, 20000, 0);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 20000, 0);
	FX_TRADE(f, 0, 1, P30K, 20000, 600, 4, 2, 0, 0);
	FX_OEV(f, 1, 2, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 20000, 13334);
	FX_BAL(f, 1, USD, 99000, 400);

	/* an amend is a new commitment: worth 3.90 or 4.00 is too little */
	fx_amend(f, 1, 2, 13000, 0);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INVALID, 20000, 13334);
	CHECK_EQ(f->nev, 0);
	fx_amend(f, 1, 2, 0, P30K + 1);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INVALID, 20000, 13334);
	CHECK(core_order_get(f->c, 2, &o));
	CHECK_EQ(o.remaining_qty, 13334);
	CHECK_EQ(o.locked, 400);
	fx_amend(f, 1, 2, 40000, 0);	/* 12.00 */
	FX_RES(f, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 20000, 40000);
	FX_BAL(f, 1, USD, 98200, 1200);

	/* and one of 100 sat, worth 0.03 */
	fx_market(f, 2, 2, CORE_SELL, 100, 0);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_TRADE(f, 0, 2, P30K, 100, 3, 5, 2, 0, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* ------------------------------------------------------------- fills */

/*
 * A buy of 1.00000034 BTC at 30000.00 meets two asks of 1 BTC at 29000.00.
 * It takes the first; its last 34 sat would cost 0.986 → 0.00 at 29000.00,
 * so it stops there and the remainder expires (reason dust): it crosses
 * the second ask, so it cannot rest, even though at its own price it is
 * worth 0.01.  The second ask is untouched.
 */
TEST(dust_fill_worth_nothing_stops_the_taker)
{
	fx		   *f = btc_usd();

	fx_deposit(f, 2, BTC, ONE_BTC);
	fx_deposit(f, 3, BTC, ONE_BTC);
	fx_deposit(f, 1, USD, 10000000);
	fx_limit(f, 2, BTCUSD, CORE_SELL, ONE_BTC, P29K, CORE_GTC);
	fx_limit(f, 3, BTCUSD, CORE_SELL, ONE_BTC, P29K, CORE_GTC);
	fx_limit(f, 1, BTCUSD, CORE_BUY, ONE_BTC + 34, P30K, CORE_GTC);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_DUST, ONE_BTC, 0);
	CHECK_EQ(f->r.trades, 1);
	CHECK_EQ(f->r.avg_price, P29K);
	CHECK_EQ(f->nev, 3);
	FX_TRADE(f, 0, 1, P29K, ONE_BTC, 2900000, 3, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_FILLED, CORE_R_NONE, ONE_BTC, 0);
	FX_OEV(f, 2, 3, CORE_ST_EXPIRED, CORE_R_DUST, ONE_BTC, 0);
	FX_BAL(f, 1, USD, 7100000, 0);
	FX_BAL(f, 1, BTC, ONE_BTC, 0);
	CHECK_EQ(remaining_of(f, 2), ONE_BTC);
	FX_BAL(f, 3, BTC, 0, ONE_BTC);
	CHECK(!fx_has_order(f, 3));

	/* the same stop applies to an ioc order: reason dust, not ioc */
	fx_deposit(f, 4, BTC, ONE_BTC);
	fx_limit(f, 4, BTCUSD, CORE_SELL, ONE_BTC, P29K, CORE_GTC);	/* order 4 */
	fx_limit(f, 1, BTCUSD, CORE_BUY, ONE_BTC + 34, P30K, CORE_IOC);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_DUST, ONE_BTC, 0);
	FX_BAL(f, 1, USD, 4200000, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* Fill-or-kill cannot complete when its last fill would be worth nothing. */
TEST(dust_fok_cannot_complete_with_a_fill_worth_nothing)
{
	fx		   *f = btc_usd();

	fx_deposit(f, 2, BTC, ONE_BTC);
	fx_deposit(f, 3, BTC, ONE_BTC);
	fx_deposit(f, 1, USD, 10000000);
	fx_limit(f, 2, BTCUSD, CORE_SELL, ONE_BTC, P30K, CORE_GTC);
	fx_limit(f, 3, BTCUSD, CORE_SELL, ONE_BTC, P30K, CORE_GTC);
	fx_limit(f, 1, BTCUSD, CORE_BUY, ONE_BTC + 33, P30K, CORE_FOK);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_FOK, 0, 0);
	CHECK_EQ(f->nev, 1);
	FX_BAL(f, 1, USD, 10000000, 0);
	CHECK_EQ(remaining_of(f, 1), ONE_BTC);
	fx_limit(f, 1, BTCUSD, CORE_BUY, ONE_BTC + 34, P30K, CORE_FOK);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, ONE_BTC + 34, 0);
	FX_TRADE(f, 2, 2, P30K, 34, 1, 4, 2, 0, 0);
	FX_BAL(f, 1, USD, 10000000 - 3000001, 0);
	CHECK_EQ(remaining_of(f, 2), ONE_BTC - 34);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * An amend that re-enters the book follows the same rule: a bid of 133 sat
 * moved up to 30000.00 buys the 100 sat resting there; its remaining 33 sat
 * are worth nothing, so it ends expired (dust) instead of resting.
 */
TEST(dust_amend_remainder_worth_nothing_expires)
{
	fx		   *f = btc_usd();

	fx_deposit(f, 3, BTC, 100);
	fx_deposit(f, 1, USD, 10);
	fx_limit(f, 3, BTCUSD, CORE_SELL, 100, P30K, CORE_GTC);	/* order 1 */
	fx_limit(f, 1, BTCUSD, CORE_BUY, 133, P29K, CORE_GTC);	/* order 2: 3.857 -> 0.03 */
	FX_BAL(f, 1, USD, 7, 3);
	fx_amend(f, 1, 2, 0, P30K);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_DUST, 100, 0);
	CHECK_EQ(f->nev, 3);
	FX_TRADE(f, 0, 1, P30K, 100, 3, 2, 1, 0, 0);
	FX_OEV(f, 2, 2, CORE_ST_EXPIRED, CORE_R_DUST, 100, 0);
	CHECK_EQ(f->ev[2].u.order.qty, 133);
	FX_BAL(f, 1, USD, 7, 0);
	FX_BAL(f, 1, BTC, 100, 0);
	CHECK(!fx_has_order(f, 2));
	CHECK_EQ(core_get_counters(f->c).orders, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * After its fills a gtc remainder rests only if it is worth at least 0.01
 * at its own price: 33 sat at 30000.00 (0.0099) expire with reason dust,
 * 34 sat (0.0102) rest and lock 0.01.
 */
TEST(dust_taker_remainder_worth_nothing_does_not_rest)
{
	fx		   *f = btc_usd();
	core_order_info o;

	fx_deposit(f, 2, BTC, 3 * ONE_BTC);
	fx_deposit(f, 1, USD, 3000000);
	fx_deposit(f, 4, USD, 3000001);
	fx_limit(f, 2, BTCUSD, CORE_SELL, ONE_BTC, P30K, CORE_GTC);	/* order 1 */
	fx_limit(f, 2, BTCUSD, CORE_SELL, ONE_BTC, P30K + 100, CORE_GTC);	/* order 2 */

	fx_limit(f, 1, BTCUSD, CORE_BUY, ONE_BTC + 33, P30K, CORE_GTC);	/* worth 30000.00 */
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_DUST, ONE_BTC, 0);
	CHECK_EQ(f->nev, 3);
	FX_TRADE(f, 0, 1, P30K, ONE_BTC, 3000000, 3, 1, 0, 0);
	FX_OEV(f, 2, 3, CORE_ST_EXPIRED, CORE_R_DUST, ONE_BTC, 0);
	FX_BAL(f, 1, USD, 0, 0);
	FX_BAL(f, 1, BTC, ONE_BTC, 0);
	CHECK(!fx_has_order(f, 3));

	fx_limit(f, 2, BTCUSD, CORE_SELL, ONE_BTC, P30K, CORE_GTC);	/* order 4 */
	fx_limit(f, 4, BTCUSD, CORE_BUY, ONE_BTC + 34, P30K, CORE_GTC);
	FX_RES(f, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, ONE_BTC, 34);
	CHECK(core_order_get(f->c, 5, &o));
	CHECK_EQ(o.locked, 1);
	FX_BAL(f, 4, USD, 0, 1);
	CHECK_EQ(remaining_of(f, 2), ONE_BTC);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * An ask of 100 sat (0.03) sells 67 sat for 0.02; its remaining 33 sat
 * would rest worth nothing, so it is canceled (reason dust) and its lock
 * goes back to available.
 */
TEST(dust_maker_sell_remainder_worth_nothing_is_canceled)
{
	fx		   *f = btc_usd();
	core_level_info lv[2];

	fx_deposit(f, 2, BTC, 100);
	fx_deposit(f, 1, USD, 2);
	fx_limit(f, 2, BTCUSD, CORE_SELL, 100, P30K, CORE_GTC);
	fx_limit(f, 1, BTCUSD, CORE_BUY, 67, P30K, CORE_GTC);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 67, 0);
	CHECK_EQ(f->nev, 3);
	FX_TRADE(f, 0, 1, P30K, 67, 2, 2, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_CANCELED, CORE_R_DUST, 67, 0);
	FX_OEV(f, 2, 2, CORE_ST_FILLED, CORE_R_NONE, 67, 0);
	CHECK_EQ(f->ev[1].u.order.qty, 100);
	FX_BAL(f, 2, BTC, 33, 0);
	FX_BAL(f, 2, USD, 2, 0);
	FX_BAL(f, 1, USD, 0, 0);
	FX_BAL(f, 1, BTC, 67, 0);
	CHECK(!fx_has_order(f, 1));
	CHECK_EQ(fx_levels(f, BTCUSD, CORE_SELL, lv, 2), 0);
	CHECK_EQ(core_get_counters(f->c).orders, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* A bid of 100 sat locking 0.03 pays 0.02 for 67 sat; the rest, 0.01, is
 * released with the canceled remainder. */
TEST(dust_maker_buy_remainder_worth_nothing_is_canceled)
{
	fx		   *f = btc_usd();

	fx_deposit(f, 2, USD, 3);
	fx_deposit(f, 1, BTC, 67);
	fx_limit(f, 2, BTCUSD, CORE_BUY, 100, P30K, CORE_GTC);
	FX_BAL(f, 2, USD, 0, 3);
	fx_limit(f, 1, BTCUSD, CORE_SELL, 67, P30K, CORE_GTC);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 67, 0);
	FX_TRADE(f, 0, 1, P30K, 67, 2, 2, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_CANCELED, CORE_R_DUST, 67, 0);
	FX_BAL(f, 2, USD, 1, 0);
	FX_BAL(f, 2, BTC, 67, 0);
	FX_BAL(f, 1, USD, 2, 0);
	FX_BAL(f, 1, BTC, 0, 0);
	CHECK_EQ(core_get_counters(f->c).orders, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* A market sell of 33 sat would get nothing for them: it stops at once. */
TEST(dust_market_sell_stops_before_a_fill_worth_nothing)
{
	fx		   *f = btc_usd();
	core_order_info o;

	fx_deposit(f, 2, USD, 3000000);
	fx_deposit(f, 1, BTC, 1000);
	fx_limit(f, 2, BTCUSD, CORE_BUY, ONE_BTC, P30K, CORE_GTC);
	fx_market(f, 1, BTCUSD, CORE_SELL, 33, 0);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_DUST, 0, 0);
	CHECK_EQ(f->nev, 1);
	FX_BAL(f, 1, BTC, 1000, 0);
	CHECK_EQ(remaining_of(f, 1), ONE_BTC);

	fx_market(f, 1, BTCUSD, CORE_SELL, 134, 0);	/* 0.0402 */
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 134, 0);
	FX_TRADE(f, 0, 1, P30K, 134, 4, 3, 1, 0, 0);
	FX_BAL(f, 1, BTC, 866, 0);
	FX_BAL(f, 1, USD, 4, 0);
	CHECK(core_order_get(f->c, 1, &o));
	CHECK_EQ(o.locked, 2999995);
	FX_BAL(f, 2, USD, 1, 2999995);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * A market buy never fills for nothing: 33 sat by qty stop (dust); a
 * budget of 0.01 buys 33 sat worth nothing, so it buys none (quote_qty);
 * a budget of 0.02 buys 66 sat for 0.01 (1.98 cents rounds down, in the
 * buyer's favour as every trade does) and stops, its budget cut short.
 */
TEST(dust_market_buy_never_fills_for_nothing)
{
	fx		   *f = btc_usd();

	fx_deposit(f, 2, BTC, ONE_BTC);
	fx_deposit(f, 1, USD, 1000);
	fx_limit(f, 2, BTCUSD, CORE_SELL, ONE_BTC, P30K, CORE_GTC);
	fx_market(f, 1, BTCUSD, CORE_BUY, 33, 0);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_DUST, 0, 0);
	CHECK_EQ(f->nev, 1);
	fx_market(f, 1, BTCUSD, CORE_BUY, 0, 1);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_QUOTE_QTY, 0, 0);
	CHECK_EQ(f->nev, 1);
	fx_market(f, 1, BTCUSD, CORE_BUY, 0, 2);
	FX_RES(f, CORE_ST_FILLED, CORE_R_QUOTE_QTY, 66, 0);
	FX_TRADE(f, 0, 1, P30K, 66, 1, 4, 1, 0, 0);
	FX_BAL(f, 1, USD, 999, 0);
	FX_BAL(f, 1, BTC, 66, 0);
	CHECK_EQ(remaining_of(f, 1), ONE_BTC - 66);
	CHECK_EQ(core_get_counters(f->c).next_trade_id, 2);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * Release 1.0 could rest an order worth nothing (33 sat at 30000.00); a
 * snapshot may still hold one.  It restores, passes verify, and the first
 * taker to reach it takes it off the book (canceled, reason dust) instead
 * of stopping behind it; fill-or-kill counts past it.
 */
TEST(dust_maker_worth_nothing_from_release_1_0_leaves_the_book)
{
	fx		   *f = btc_usd();
	core_limits l = core_get_limits(f->c);
	fx_walk    *w;
	fx		   *g;
	const char *err = NULL;

	fx_deposit(f, 2, BTC, 1000);
	fx_deposit(f, 3, BTC, ONE_BTC);
	fx_deposit(f, 1, USD, 10);
	fx_limit(f, 2, BTCUSD, CORE_SELL, 100, P30K, CORE_GTC);	/* order 1 */
	fx_limit(f, 3, BTCUSD, CORE_SELL, ONE_BTC, P30K, CORE_GTC);	/* order 2 */
	w = fx_walk_take(f);
	CHECK_EQ(w->no, 2);
	CHECK_EQ(w->o[0].order_id, 1);
	w->o[0].qty = w->o[0].remaining_qty = w->o[0].locked = 33;
	for (int i = 0; i < w->nb; i++)
		if (w->b[i].user_id == 2 && w->b[i].asset == BTC)
		{
			w->b[i].available = 967;
			w->b[i].frozen = 33;
		}
	g = fx_walk_restore(w, &l, &err);
	CHECK_STR(err, NULL);
	if (g)
	{
		FX_VERIFY(g);
		CHECK_EQ(remaining_of(g, 1), 33);
		fx_limit(g, 1, BTCUSD, CORE_BUY, 100, P30K, CORE_FOK);
		FX_RES(g, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
		CHECK_EQ(g->nev, 4);
		FX_OEV(g, 0, 1, CORE_ST_CANCELED, CORE_R_DUST, 0, 0);
		FX_TRADE(g, 1, 1, P30K, 100, 3, 3, 2, 0, 0);
		FX_OEV(g, 2, 2, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 100, ONE_BTC - 100);
		FX_OEV(g, 3, 3, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
		FX_BAL(g, 2, BTC, 1000, 0);
		FX_BAL(g, 1, USD, 7, 0);
		FX_BAL(g, 1, BTC, 100, 0);
		CHECK(!fx_has_order(g, 1));
		FX_VERIFY(g);
	}
	fx_walk_free(w);
	fx_free(g);
	fx_free(f);
}

/* ---------------------------------------------------- open-order limit */

static core_result
place_lim(fx *f, int64_t user, uint32_t sym, core_side side, int64_t qty,
		  int64_t price, core_tif tif, uint32_t max_open)
{
	core_rec_place p = fx_place_rec(user, sym, side, qty, price, tif);

	p.max_open_orders = max_open;
	return fx_place_ex(f, &p);
}

/*
 * The limit each PLACE carries counts the user's resting orders over all
 * symbols.  An order whose remainder would rest is refused before it trades
 * when the user is at the limit; one that fills completely, or an ioc, is
 * never refused for it; amends are not limited; 0 means no limit.  The
 * count is derived: a restored engine counts the same.
 */
TEST(open_orders_limit_refuses_a_resting_remainder_before_it_trades)
{
	fx		   *f = btc_usd();
	fx		   *g;

	CHECK_EQ(fx_asset(f, "ETH", 8), ETH);
	CHECK_EQ(fx_symbol(f, "ETH_USD", ETH, USD, 1, 1, 0, 0, 0), ETHUSD);
	fx_deposit(f, 1, USD, 10000000);
	fx_deposit(f, 2, BTC, ONE_BTC);
	place_lim(f, 1, BTCUSD, CORE_BUY, 1000000, P30K, CORE_GTC, 2);	/* 1: 300.00 */
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 1000000);
	place_lim(f, 1, ETHUSD, CORE_BUY, 1000000, P30K, CORE_GTC, 2);	/* 2 */
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 1000000);
	place_lim(f, 1, BTCUSD, CORE_BUY, 1000000, P30K, CORE_GTC, 2);	/* 3 */
	FX_RES(f, CORE_ST_REJECTED, CORE_R_OPEN_ORDERS_LIMIT, 0, 0);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 3, CORE_ST_REJECTED, CORE_R_OPEN_ORDERS_LIMIT, 0, 0);
	FX_BAL(f, 1, USD, 9940000, 60000);

	/* would take 0.005 BTC and rest 0.005: refused, nothing traded */
	fx_limit(f, 2, BTCUSD, CORE_SELL, 500000, P30K + 100, CORE_GTC);	/* 4 */
	place_lim(f, 1, BTCUSD, CORE_BUY, 1000000, P30K + 100, CORE_GTC, 2);	/* 5 */
	FX_RES(f, CORE_ST_REJECTED, CORE_R_OPEN_ORDERS_LIMIT, 0, 0);
	CHECK_EQ(remaining_of(f, 4), 500000);
	CHECK_EQ(core_get_counters(f->c).next_trade_id, 1);

	/* fills completely on arrival: allowed at the limit */
	place_lim(f, 1, BTCUSD, CORE_BUY, 500000, P30K + 100, CORE_GTC, 2);	/* 6 */
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 500000, 0);
	FX_TRADE(f, 0, 1, P30K + 100, 500000, 15000, 6, 4, 0, 0);
	place_lim(f, 1, BTCUSD, CORE_BUY, 1000000, P30K, CORE_IOC, 2);	/* 7 */
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_IOC, 0, 0);

	/* the limit is the record's: a higher one, or none, lets it rest */
	place_lim(f, 1, BTCUSD, CORE_BUY, 1000000, P30K, CORE_GTC, 3);	/* 8 */
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 1000000);
	place_lim(f, 1, BTCUSD, CORE_BUY, 1000000, P30K, CORE_GTC, 0);	/* 9 */
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 1000000);
	place_lim(f, 1, BTCUSD, CORE_BUY, 1000000, P30K, CORE_GTC, 4);	/* 10 */
	FX_RES(f, CORE_ST_REJECTED, CORE_R_OPEN_ORDERS_LIMIT, 0, 0);
	fx_amend(f, 1, 1, 2000000, 0);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 2000000);
	FX_BAL(f, 1, USD, 10000000 - 15000 - 150000, 150000);
	FX_VERIFY(f);

	/* restored, the engine counts the same four */
	g = fx_roundtrip(f, NULL);
	CHECK(g != NULL);
	if (g)
	{
		place_lim(g, 1, ETHUSD, CORE_BUY, 1000000, P30K, CORE_GTC, 4);
		FX_RES(g, CORE_ST_REJECTED, CORE_R_OPEN_ORDERS_LIMIT, 0, 0);
		fx_cancel(g, 1, 2);
		place_lim(g, 1, ETHUSD, CORE_BUY, 1000000, P30K, CORE_GTC, 4);
		FX_RES(g, CORE_ST_NEW, CORE_R_NONE, 0, 1000000);
		FX_VERIFY(g);
	}
	fx_free(g);
	fx_free(f);
}

/*
 * Room is counted before trading: at the limit, a sell that would cancel
 * the user's own bid (stp cancel_maker) and then rest is refused; one that
 * stops at that bid (cancel_taker) never rests and is not.
 */
TEST(open_orders_limit_counts_before_self_trade_prevention)
{
	fx		   *f = btc_usd();
	core_rec_place p;

	fx_deposit(f, 1, USD, 3000000);
	fx_deposit(f, 1, BTC, ONE_BTC);
	place_lim(f, 1, BTCUSD, CORE_BUY, 1000000, P30K, CORE_GTC, 1);	/* 1 */
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 1000000);
	p = fx_place_rec(1, BTCUSD, CORE_SELL, 2000000, P30K, CORE_GTC);
	p.stp = CORE_STP_CANCEL_MAKER;
	p.max_open_orders = 1;
	fx_place_ex(f, &p);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_OPEN_ORDERS_LIMIT, 0, 0);
	CHECK_EQ(remaining_of(f, 1), 1000000);
	p.stp = CORE_STP_CANCEL_TAKER;
	fx_place_ex(f, &p);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_SELF_TRADE, 0, 0);
	CHECK_EQ(remaining_of(f, 1), 1000000);
	FX_BAL(f, 1, BTC, ONE_BTC, 0);
	FX_VERIFY(f);
	fx_free(f);
}
