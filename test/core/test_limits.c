/*
 * test_limits.c — every sum the core keeps, at its limit (core.h,
 * "Accumulators"): a bid level holding far more than int64 of an
 * 18-decimal asset, fill-or-kill against it, a trade worth exactly
 * INT64_MAX, an amend up to the largest order size, a market buy sweeping
 * by budget alone.  Each checks exact figures, core_verify, and that the
 * state survives walk/restore with the same digest (what a restart does).
 */
#include "fixture.h"

enum
{
	WEI = 1, USD = 2, WEIUSD = 1
};

#define WHOLE INT64_C(1000000000000000000)	/* one WEI: 18 decimals */

static core_limits
roomy(void)
{
	core_limits l = {
		.max_assets = 4,
		.max_symbols = 2,
		.max_accounts = 128,
		.max_balances = 512,
		.max_orders = 512,
	};

	return l;
}

/* WEI (18 decimals) priced in USD (2 decimals), tick 0.01, lot 1 wei. */
static fx *
wei_usd(void)
{
	core_limits l = roomy();
	fx		   *f = fx_new_limits(&l);

	CHECK_EQ(fx_asset(f, "WEI", 18), WEI);
	CHECK_EQ(fx_asset(f, "USD", 2), USD);
	CHECK_EQ(fx_symbol(f, "WEI_USD", WEI, USD, 1, 1, 0, 0, 0), WEIUSD);
	return f;
}

/* The walk restored into a fresh arena: same digest, invariants hold. */
static void
check_restart(fx *f)
{
	fx		   *g = fx_roundtrip(f, NULL);
	char		hf[33],
				hg[33];

	CHECK(g != NULL);
	if (g)
	{
		CHECK_STR(fx_digest(g, hg), fx_digest(f, hf));
		FX_VERIFY(g);
	}
	fx_free(g);
}

/*
 * 100 users with 0.10 USD each place two bids of 5 whole WEI at 0.01
 * (each worth and locking 0.05): the level holds 200 * 5e18 = 1e21 wei,
 * 54 * 2^64 + 3875820019684212736.  A fill-or-kill sell of 9 WEI takes the
 * first bid whole and 4 WEI of the second, whose remaining 1 WEI (worth
 * 0.01) rests; the level then holds 991e18.
 */
TEST(limits_bid_level_beyond_int64_is_exact_and_survives_restart)
{
	fx		   *f = wei_usd();
	core_level_info lv[2];
	core_order_info o;

	for (int u = 1; u <= 100; u++)
	{
		fx_deposit(f, u, USD, 10);
		fx_limit(f, u, WEIUSD, CORE_BUY, 5 * WHOLE, 1, CORE_GTC);
		FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 5 * WHOLE);
		fx_limit(f, u, WEIUSD, CORE_BUY, 5 * WHOLE, 1, CORE_GTC);
		FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 5 * WHOLE);
		FX_BAL(f, u, USD, 0, 10);
	}
	CHECK_EQ(fx_levels(f, WEIUSD, CORE_BUY, lv, 2), 1);
	CHECK_EQ(lv[0].price, 1);
	CHECK_EQ(lv[0].orders, 200);
	CHECK_EQ(lv[0].qty_hi, 54);
	CHECK(lv[0].qty_lo == UINT64_C(3875820019684212736));
	CHECK_EQ(fx_level_qty(&lv[0]), -1);
	FX_VERIFY(f);
	check_restart(f);

	/* a sell at 0.02 does not cross: fill-or-kill refused, nothing moves */
	fx_deposit(f, 500, WEI, 9 * WHOLE);
	fx_limit(f, 500, WEIUSD, CORE_SELL, 9 * WHOLE, 2, CORE_FOK);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_FOK, 0, 0);
	FX_BAL(f, 500, WEI, 9 * WHOLE, 0);

	fx_limit(f, 500, WEIUSD, CORE_SELL, 9 * WHOLE, 1, CORE_FOK);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 9 * WHOLE, 0);
	CHECK_EQ(f->r.trades, 2);
	CHECK_EQ(f->nev, 5);
	FX_TRADE(f, 0, 1, 1, 5 * WHOLE, 5, 202, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_FILLED, CORE_R_NONE, 5 * WHOLE, 0);
	FX_TRADE(f, 2, 2, 1, 4 * WHOLE, 4, 202, 2, 0, 0);
	FX_OEV(f, 3, 2, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 4 * WHOLE, WHOLE);
	FX_OEV(f, 4, 202, CORE_ST_FILLED, CORE_R_NONE, 9 * WHOLE, 0);
	FX_BAL(f, 500, WEI, 0, 0);
	FX_BAL(f, 500, USD, 9, 0);
	FX_BAL(f, 1, WEI, 9 * WHOLE, 0);
	FX_BAL(f, 1, USD, 0, 1);	/* paid 5 + 4, order 2 still locks 0.01 */
	CHECK(core_order_get(f->c, 2, &o));
	CHECK_EQ(o.remaining_qty, WHOLE);
	CHECK_EQ(o.locked, 1);

	CHECK_EQ(fx_levels(f, WEIUSD, CORE_BUY, lv, 2), 1);
	CHECK_EQ(lv[0].orders, 199);
	CHECK_EQ(lv[0].qty_hi, 53);
	CHECK(lv[0].qty_lo == UINT64_C(13322564093393764352));
	FX_VERIFY(f);
	check_restart(f);
	fx_free(f);
}

/*
 * A trade worth exactly INT64_MAX quote units: 1 unit of a 0-decimal asset
 * at price INT64_MAX.  The seller pays the maker fee of 0.1 %,
 * floor(INT64_MAX * 1000 / 10^6) = 9223372036854775; the quote supply is
 * INT64_MAX, so not one more unit can be deposited.
 */
TEST(limits_trade_at_int64_max_notional_is_exact)
{
	fx		   *f = fx_new();
	core_order_info o;

	CHECK_EQ(fx_asset(f, "ONE", 0), 1);
	CHECK_EQ(fx_asset(f, "BIG", 0), 2);
	CHECK_EQ(fx_symbol(f, "ONE_BIG", 1, 2, 1, 1, 0, 1000, 0), 1);
	fx_deposit(f, 1, 2, INT64_MAX);
	fx_deposit(f, 2, 1, 2);
	fx_deposit(f, 3, 2, 1);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_OVERFLOW, 0, 0);

	fx_limit(f, 2, 1, CORE_SELL, 2, INT64_MAX, CORE_GTC);	/* worth 2 * INT64_MAX */
	FX_RES(f, CORE_ST_REJECTED, CORE_R_OVERFLOW, 0, 0);
	fx_limit(f, 2, 1, CORE_SELL, 1, INT64_MAX, CORE_GTC);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 1);
	fx_limit(f, 1, 1, CORE_BUY, 1, INT64_MAX, CORE_GTC);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 1, 0);
	CHECK_EQ(f->r.avg_price, INT64_MAX);
	FX_TRADE(f, 0, 1, INT64_MAX, 1, INT64_MAX, 3, 2, 0, INT64_C(9223372036854775));
	FX_BAL(f, 1, 2, 0, 0);
	FX_BAL(f, 1, 1, 1, 0);
	FX_BAL(f, 2, 2, INT64_C(9214148664817921032), 0);
	FX_BAL(f, 2, 1, 1, 0);
	FX_BAL(f, 0, 2, INT64_C(9223372036854775), 0);
	CHECK(!core_order_get(f->c, 2, &o));
	FX_VERIFY(f);
	check_restart(f);
	fx_free(f);
}

/*
 * An order's size (filled + remaining) is an int64 like every quantity: a
 * buy that filled 1 WEI can be amended to a remainder of INT64_MAX - 1e18
 * (worth 0.08), not one wei more.
 */
TEST(limits_amend_up_to_the_largest_order_size)
{
	fx		   *f = wei_usd();
	core_order_info o;

	fx_deposit(f, 1, USD, 9);
	fx_deposit(f, 2, WEI, WHOLE);
	fx_limit(f, 1, WEIUSD, CORE_BUY, 2 * WHOLE, 1, CORE_GTC);
	fx_limit(f, 2, WEIUSD, CORE_SELL, WHOLE, 1, CORE_GTC);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, WHOLE, 0);
	FX_BAL(f, 1, USD, 7, 1);

	fx_amend(f, 1, 1, INT64_MAX - WHOLE + 1, 0);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_OVERFLOW, WHOLE, WHOLE);
	CHECK_EQ(f->nev, 0);
	FX_BAL(f, 1, USD, 7, 1);

	fx_amend(f, 1, 1, INT64_MAX - WHOLE, 0);
	FX_RES(f, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, WHOLE, INT64_MAX - WHOLE);
	CHECK_EQ(f->nev, 1);
	CHECK_EQ(f->ev[0].u.order.status, CORE_ST_AMENDED);
	CHECK_EQ(f->ev[0].u.order.qty, INT64_MAX);
	CHECK(core_order_get(f->c, 1, &o));
	CHECK_EQ(o.qty, INT64_MAX);
	CHECK_EQ(o.locked, 8);
	FX_BAL(f, 1, USD, 0, 8);
	FX_VERIFY(f);
	check_restart(f);
	fx_free(f);
}

/*
 * A market buy by quote_qty alone starts with INT64_MAX to buy and takes
 * what its budget of 0.13 pays for: 4 WEI at 0.01 (0.04), then 4.5 WEI at
 * 0.02 (0.09), which its budget cuts short.  Its size is what it bought.
 */
TEST(limits_market_buy_by_budget_alone_sweeps_exactly)
{
	fx		   *f = wei_usd();

	fx_deposit(f, 2, WEI, 4 * WHOLE);
	fx_deposit(f, 3, WEI, 5 * WHOLE);
	fx_deposit(f, 1, USD, 100);
	fx_limit(f, 2, WEIUSD, CORE_SELL, 4 * WHOLE, 1, CORE_GTC);
	fx_limit(f, 3, WEIUSD, CORE_SELL, 5 * WHOLE, 2, CORE_GTC);
	fx_market(f, 1, WEIUSD, CORE_BUY, 0, 13);
	FX_RES(f, CORE_ST_FILLED, CORE_R_QUOTE_QTY, (WHOLE / 10 * 85), 0);
	CHECK_EQ(f->r.avg_price, 1);	/* 0.13 for 8.5 WEI, truncated */
	CHECK_EQ(f->nev, 5);
	FX_TRADE(f, 0, 1, 1, 4 * WHOLE, 4, 3, 1, 0, 0);
	FX_TRADE(f, 2, 2, 2, (WHOLE / 10 * 45), 9, 3, 2, 0, 0);
	FX_OEV(f, 3, 2, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, (WHOLE / 10 * 45), WHOLE / 2);
	FX_OEV(f, 4, 3, CORE_ST_FILLED, CORE_R_QUOTE_QTY, (WHOLE / 10 * 85), 0);
	CHECK_EQ(f->ev[4].u.order.qty, (WHOLE / 10 * 85));
	FX_BAL(f, 1, USD, 87, 0);
	FX_BAL(f, 1, WEI, (WHOLE / 10 * 85), 0);
	FX_BAL(f, 3, WEI, 0, WHOLE / 2);
	FX_BAL(f, 3, USD, 9, 0);
	FX_VERIFY(f);
	check_restart(f);
	fx_free(f);
}
