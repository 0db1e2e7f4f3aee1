/*
 * test_money.c — the money rules of DESIGN §6: 128-bit products, locks that
 * always equal what the resting remainder needs (price improvement and
 * rounding dust released at once), fees, and conservation.
 */
#include "fixture.h"

enum
{
	BTC = 1, USDT = 2, BTCUSDT = 1
};

/* BTC 8 decimals, USDT 6 decimals, tick 0.01 USDT, lot 0.000001 BTC. */
static fx *
btc_usdt(void)
{
	fx		   *f = fx_new();

	CHECK_EQ(fx_asset(f, "BTC", 8), BTC);
	CHECK_EQ(fx_asset(f, "USDT", 6), USDT);
	CHECK_EQ(fx_symbol(f, "BTC_USDT", BTC, USDT, 10000, 100, 0, 0, 0), BTCUSDT);
	return f;
}

/*
 * 84956010000 * 256284400 = 21772900049244000000 > 2^64: the lock must come
 * from a 128-bit product, 21772900049244000000 / 10^8 = 217729000492.
 */
TEST(money_btc_usdt_lock_beyond_u64_is_exact)
{
	fx		   *f = btc_usdt();
	core_order_info o;

	fx_deposit(f, 1, USDT, 217729000492);
	fx_limit(f, 1, BTCUSDT, CORE_BUY, 256284400, 84956010000, CORE_GTC);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 256284400);
	CHECK_EQ(f->r.order_id, 1);
	FX_BAL(f, 1, USDT, 0, 217729000492);
	CHECK(core_order_get(f->c, 1, &o));
	CHECK_EQ(o.locked, 217729000492);
	CHECK_EQ(o.remaining_qty, 256284400);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(money_btc_usdt_trade_beyond_u64_costs_exactly_217729_000492)
{
	fx		   *f = btc_usdt();

	fx_deposit(f, 1, USDT, 217729000492);
	fx_deposit(f, 2, BTC, 256284400);
	fx_limit(f, 1, BTCUSDT, CORE_BUY, 256284400, 84956010000, CORE_GTC);
	fx_limit(f, 2, BTCUSDT, CORE_SELL, 256284400, 84956010000, CORE_GTC);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 256284400, 0);
	CHECK_EQ(f->r.trades, 1);
	CHECK_EQ(f->r.avg_price, 84956010000);
	CHECK_EQ(f->nev, 3);
	FX_TRADE(f, 0, 1, 84956010000, 256284400, 217729000492, 2, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_FILLED, CORE_R_NONE, 256284400, 0);
	FX_OEV(f, 2, 2, CORE_ST_FILLED, CORE_R_NONE, 256284400, 0);
	FX_BAL(f, 1, USDT, 0, 0);
	FX_BAL(f, 1, BTC, 256284400, 0);
	FX_BAL(f, 2, USDT, 217729000492, 0);
	FX_BAL(f, 2, BTC, 0, 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(money_btc_usdt_buy_one_unit_short_rejected)
{
	fx		   *f = btc_usdt();

	fx_deposit(f, 1, USDT, 217729000491);
	fx_limit(f, 1, BTCUSDT, CORE_BUY, 256284400, 84956010000, CORE_GTC);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INSUFFICIENT_FUNDS);
	CHECK_EQ(f->r.order_id, 1);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 1, CORE_ST_REJECTED, CORE_R_INSUFFICIENT_FUNDS, 0, 0);
	FX_BAL(f, 1, USDT, 217729000491, 0);
	CHECK(!fx_has_order(f, 1));
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * Taker buy limit 84956.02 locks floor(84956020000 * 256284400 / 1e8) =
 * 217729026120, trades at the maker's 84956.01 for 217729000492: the 25628
 * difference goes back to available in the same command.
 */
TEST(money_btc_usdt_taker_price_improvement_released)
{
	fx		   *f = btc_usdt();

	fx_deposit(f, 1, USDT, 217729026120);
	fx_deposit(f, 2, BTC, 256284400);
	fx_limit(f, 2, BTCUSDT, CORE_SELL, 256284400, 84956010000, CORE_GTC);
	fx_limit(f, 1, BTCUSDT, CORE_BUY, 256284400, 84956020000, CORE_GTC);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 256284400, 0);
	FX_TRADE(f, 0, 1, 84956010000, 256284400, 217729000492, 2, 1, 0, 0);
	FX_BAL(f, 1, USDT, 25628, 0);
	FX_BAL(f, 1, BTC, 256284400, 0);
	FX_BAL(f, 2, USDT, 217729000492, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* A product that does not fit int64 even after the division is refused. */
TEST(money_lock_not_fitting_int64_rejected_overflow)
{
	fx		   *f = fx_new();

	CHECK_EQ(fx_asset(f, "X", 0), 1);
	CHECK_EQ(fx_asset(f, "Y", 0), 2);
	CHECK_EQ(fx_symbol(f, "X_Y", 1, 2, 1, 1, 0, 0, 0), 1);
	fx_deposit(f, 1, 2, INT64_MAX);
	/* 10^12 * 10^8 = 10^20 > 2^63 - 1 */
	fx_limit(f, 1, 1, CORE_BUY, 100000000, 1000000000000, CORE_GTC);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_OVERFLOW);
	FX_BAL(f, 1, 2, INT64_MAX, 0);
	CHECK(!fx_has_order(f, f->r.order_id));
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * Asks 1.00@10.00 (u2), 1.00@10.10 (u3), 1.00@10.20 (u4); u1 buys 3.00 at
 * 10.50: locks floor(1050*300/100) = 3150, pays 1000 + 1010 + 1020 = 3030,
 * the 120 of improvement is released.
 */
TEST(money_buy_price_improvement_across_levels_released)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, FX_QUOTE, 50000);
	fx_deposit(f, 2, FX_BASE, 100);
	fx_deposit(f, 3, FX_BASE, 100);
	fx_deposit(f, 4, FX_BASE, 100);
	fx_limit(f, 2, FX_SYM, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 3, FX_SYM, CORE_SELL, 100, 1010, CORE_GTC);
	fx_limit(f, 4, FX_SYM, CORE_SELL, 100, 1020, CORE_GTC);
	fx_limit(f, 1, FX_SYM, CORE_BUY, 300, 1050, CORE_GTC);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 300, 0);
	CHECK_EQ(f->r.order_id, 4);
	CHECK_EQ(f->r.trades, 3);
	CHECK_EQ(f->r.avg_price, 1010);
	CHECK_EQ(f->nev, 7);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 4, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_TRADE(f, 2, 2, 1010, 100, 1010, 4, 2, 0, 0);
	FX_OEV(f, 3, 2, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_TRADE(f, 4, 3, 1020, 100, 1020, 4, 3, 0, 0);
	FX_OEV(f, 5, 3, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_OEV(f, 6, 4, CORE_ST_FILLED, CORE_R_NONE, 300, 0);
	FX_BAL(f, 1, FX_QUOTE, 46970, 0);
	FX_BAL(f, 1, FX_BASE, 300, 0);
	FX_BAL(f, 2, FX_QUOTE, 1000, 0);
	FX_BAL(f, 3, FX_QUOTE, 1010, 0);
	FX_BAL(f, 4, FX_QUOTE, 1020, 0);
	FX_BAL(f, 2, FX_BASE, 0, 0);
	CHECK_EQ(fx_levels(f, FX_SYM, CORE_SELL, NULL, 0), 0);
	CHECK_EQ(fx_levels(f, FX_SYM, CORE_BUY, NULL, 0), 0);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * u1 buys 2.50 at 10.40 against one ask of 1.00 at 10.00: locks 2600, pays
 * 1000, the 1.50 left needs floor(1040*150/100) = 1560, so 40 is released.
 */
TEST(money_partial_fill_leaves_exactly_needed_lock)
{
	fx		   *f = fx_simple(0, 0);
	core_order_info o;
	core_level_info lv[4];

	fx_deposit(f, 1, FX_QUOTE, 10000);
	fx_deposit(f, 2, FX_BASE, 100);
	fx_limit(f, 2, FX_SYM, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 1, FX_SYM, CORE_BUY, 250, 1040, CORE_GTC);
	FX_RES(f, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 100, 150);
	CHECK_EQ(f->r.avg_price, 1000);
	CHECK_EQ(f->nev, 3);
	FX_OEV(f, 2, 2, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 100, 150);
	FX_BAL(f, 1, FX_QUOTE, 7440, 1560);
	FX_BAL(f, 1, FX_BASE, 100, 0);
	FX_BAL(f, 2, FX_QUOTE, 1000, 0);
	CHECK(core_order_get(f->c, 2, &o));
	CHECK_EQ(o.locked, 1560);
	CHECK_EQ(o.qty, 250);
	CHECK_EQ(o.filled_qty, 100);
	CHECK_EQ(o.remaining_qty, 150);
	CHECK_EQ(fx_levels(f, FX_SYM, CORE_BUY, lv, 4), 1);
	CHECK_EQ(lv[0].price, 1040);
	CHECK_EQ(fx_level_qty(&lv[0]), 150);
	CHECK_EQ(lv[0].orders, 1);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * A resting buy of 0.03 at 10.34 locks floor(1034*3/100) = 31.  A fill of
 * 0.01 pays floor(10.34) = 10; the 0.02 left needs floor(20.68) = 20, so the
 * one unit of rounding dust is released, not stranded.
 */
TEST(money_rounding_dust_released_on_maker_partial_fill)
{
	fx		   *f = fx_simple(0, 0);
	core_order_info o;

	fx_deposit(f, 1, FX_QUOTE, 1000);
	fx_deposit(f, 2, FX_BASE, 3);
	fx_limit(f, 1, FX_SYM, CORE_BUY, 3, 1034, CORE_GTC);
	FX_BAL(f, 1, FX_QUOTE, 969, 31);
	fx_limit(f, 2, FX_SYM, CORE_SELL, 1, 1034, CORE_GTC);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 1, 0);
	FX_TRADE(f, 0, 1, 1034, 1, 10, 2, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 1, 2);
	FX_BAL(f, 1, FX_QUOTE, 970, 20);
	FX_BAL(f, 1, FX_BASE, 1, 0);
	FX_BAL(f, 2, FX_QUOTE, 10, 0);
	CHECK(core_order_get(f->c, 1, &o));
	CHECK_EQ(o.locked, 20);
	FX_VERIFY(f);

	fx_limit(f, 2, FX_SYM, CORE_SELL, 2, 1034, CORE_GTC);
	FX_TRADE(f, 0, 2, 1034, 2, 20, 3, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_FILLED, CORE_R_NONE, 3, 0);
	FX_BAL(f, 1, FX_QUOTE, 970, 0);
	FX_BAL(f, 1, FX_BASE, 3, 0);
	FX_BAL(f, 2, FX_QUOTE, 30, 0);
	FX_BAL(f, 2, FX_BASE, 0, 0);
	CHECK(!fx_has_order(f, 1));
	FX_VERIFY(f);
	fx_free(f);
}

/* A sell trades at the resting bid's higher price and receives that. */
TEST(money_sell_trades_at_resting_bid_price)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, FX_QUOTE, 1000);
	fx_deposit(f, 2, FX_BASE, 100);
	fx_limit(f, 1, FX_SYM, CORE_BUY, 100, 1000, CORE_GTC);
	fx_limit(f, 2, FX_SYM, CORE_SELL, 100, 900, CORE_GTC);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	CHECK_EQ(f->r.avg_price, 1000);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 2, 1, 0, 0);
	CHECK_EQ(f->ev[0].u.trade.taker_side, CORE_SELL);
	CHECK_EQ(f->ev[0].u.trade.taker_user_id, 2);
	CHECK_EQ(f->ev[0].u.trade.maker_user_id, 1);
	FX_BAL(f, 2, FX_QUOTE, 1000, 0);
	FX_BAL(f, 2, FX_BASE, 0, 0);
	FX_BAL(f, 1, FX_BASE, 100, 0);
	FX_BAL(f, 1, FX_QUOTE, 0, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* A sell locks exactly qty of base, nothing of quote. */
TEST(money_sell_locks_qty_of_base)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 2, FX_BASE, 500);
	fx_limit(f, 2, FX_SYM, CORE_SELL, 123, 1777, CORE_GTC);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 123);
	FX_BAL(f, 2, FX_BASE, 377, 123);
	FX_BAL(f, 2, FX_QUOTE, 0, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * Maker 1000 ppm, taker 2000 ppm; a 0.10 trade at 10.00 is worth 100 quote.
 * floor(10 * 0.002) = 0 and floor(100 * 0.001) = 0 are both raised to 1.
 */
TEST(money_fee_minimum_one_unit_each_side)
{
	fx		   *f = fx_simple(1000, 2000);

	fx_deposit(f, 1, FX_QUOTE, 100);
	fx_deposit(f, 2, FX_BASE, 10);
	fx_limit(f, 2, FX_SYM, CORE_SELL, 10, 1000, CORE_GTC);
	fx_limit(f, 1, FX_SYM, CORE_BUY, 10, 1000, CORE_GTC);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 10, 0);
	FX_TRADE(f, 0, 1, 1000, 10, 100, 2, 1, 1, 1);
	FX_BAL(f, 1, FX_BASE, 9, 0);
	FX_BAL(f, 1, FX_QUOTE, 0, 0);
	FX_BAL(f, 2, FX_QUOTE, 99, 0);
	FX_BAL(f, 2, FX_BASE, 0, 0);
	FX_BAL(f, 0, FX_BASE, 1, 0);
	FX_BAL(f, 0, FX_QUOTE, 1, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * Taker buyer at 2500 ppm on 2000.00 base received: floor(200000*0.0025) =
 * 500; maker seller at 1000 ppm on 20000.00 quote: floor(2000000*0.001) = 2000.
 */
TEST(money_fee_taker_buyer_pays_taker_rate_in_base_maker_seller_in_quote)
{
	fx		   *f = fx_simple(1000, 2500);

	fx_deposit(f, 1, FX_QUOTE, 2000000);
	fx_deposit(f, 2, FX_BASE, 200000);
	fx_limit(f, 2, FX_SYM, CORE_SELL, 200000, 1000, CORE_GTC);
	fx_limit(f, 1, FX_SYM, CORE_BUY, 200000, 1000, CORE_GTC);
	FX_TRADE(f, 0, 1, 1000, 200000, 2000000, 2, 1, 500, 2000);
	FX_BAL(f, 1, FX_BASE, 199500, 0);
	FX_BAL(f, 1, FX_QUOTE, 0, 0);
	FX_BAL(f, 2, FX_QUOTE, 1998000, 0);
	FX_BAL(f, 0, FX_BASE, 500, 0);
	FX_BAL(f, 0, FX_QUOTE, 2000, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * Reversed roles: the resting buyer pays the maker rate on base,
 * floor(200000*0.001) = 200; the incoming seller the taker rate on quote,
 * floor(2000000*0.0025) = 5000.
 */
TEST(money_fee_maker_buyer_pays_maker_rate_taker_seller_taker_rate)
{
	fx		   *f = fx_simple(1000, 2500);

	fx_deposit(f, 1, FX_QUOTE, 2000000);
	fx_deposit(f, 2, FX_BASE, 200000);
	fx_limit(f, 1, FX_SYM, CORE_BUY, 200000, 1000, CORE_GTC);
	fx_limit(f, 2, FX_SYM, CORE_SELL, 200000, 1000, CORE_GTC);
	FX_TRADE(f, 0, 1, 1000, 200000, 2000000, 2, 1, 5000, 200);
	FX_BAL(f, 1, FX_BASE, 199800, 0);
	FX_BAL(f, 2, FX_QUOTE, 1995000, 0);
	FX_BAL(f, 0, FX_BASE, 200, 0);
	FX_BAL(f, 0, FX_QUOTE, 5000, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* Fees truncate: floor(12340 * 1000 / 10^6) = 12, floor(1234 * 1000 / 10^6) = 1. */
TEST(money_fee_truncates_toward_zero)
{
	fx		   *f = fx_simple(1000, 1000);

	fx_deposit(f, 1, FX_QUOTE, 12345);
	fx_deposit(f, 2, FX_BASE, 1235);
	fx_limit(f, 2, FX_SYM, CORE_SELL, 1234, 1000, CORE_GTC);	/* 12340 quote */
	fx_limit(f, 1, FX_SYM, CORE_BUY, 1234, 1000, CORE_GTC);
	/* base fee floor(1234*0.001) = 1, quote fee floor(12340*0.001) = 12 */
	FX_TRADE(f, 0, 1, 1000, 1234, 12340, 2, 1, 1, 12);
	FX_BAL(f, 1, FX_BASE, 1233, 0);
	FX_BAL(f, 1, FX_QUOTE, 5, 0);
	FX_BAL(f, 2, FX_QUOTE, 12328, 0);
	FX_BAL(f, 2, FX_BASE, 1, 0);
	FX_BAL(f, 0, FX_BASE, 1, 0);
	FX_BAL(f, 0, FX_QUOTE, 12, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* A zero rate charges nothing, not even the one-unit minimum. */
TEST(money_fee_zero_rate_charges_nothing)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, FX_QUOTE, 100);
	fx_deposit(f, 2, FX_BASE, 1);
	fx_limit(f, 2, FX_SYM, CORE_SELL, 1, 1000, CORE_GTC);
	fx_limit(f, 1, FX_SYM, CORE_BUY, 1, 1000, CORE_GTC);
	FX_TRADE(f, 0, 1, 1000, 1, 10, 2, 1, 0, 0);
	FX_BAL(f, 0, FX_BASE, 0, 0);
	FX_BAL(f, 0, FX_QUOTE, 0, 0);
	FX_BAL(f, 1, FX_BASE, 1, 0);
	FX_BAL(f, 2, FX_QUOTE, 10, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* Only one side's rate being zero: that side pays nothing, the other pays. */
TEST(money_fee_zero_maker_rate_nonzero_taker_rate)
{
	fx		   *f = fx_simple(0, 1000);

	fx_deposit(f, 1, FX_QUOTE, 100);
	fx_deposit(f, 2, FX_BASE, 10);
	fx_limit(f, 2, FX_SYM, CORE_SELL, 10, 1000, CORE_GTC);
	fx_limit(f, 1, FX_SYM, CORE_BUY, 10, 1000, CORE_GTC);
	FX_TRADE(f, 0, 1, 1000, 10, 100, 2, 1, 1, 0);
	FX_BAL(f, 1, FX_BASE, 9, 0);
	FX_BAL(f, 2, FX_QUOTE, 100, 0);
	FX_BAL(f, 0, FX_BASE, 1, 0);
	FX_BAL(f, 0, FX_QUOTE, 0, 0);
	FX_VERIFY(f);
	fx_free(f);
}

static int64_t
sum_asset(fx *f, uint32_t asset, int64_t max_user)
{
	int64_t		s = 0;

	for (int64_t u = 0; u <= max_user; u++)
	{
		core_balance_info b;

		if (core_balance_get(f->c, u, asset, &b))
			s += b.available + b.frozen;
	}
	return s;
}

/* Σ(available + frozen), fee account included, equals the asset's supply. */
TEST(money_conservation_with_fees_across_many_trades)
{
	fx		   *f = fx_simple(1500, 3000);
	core_asset_info a;

	for (int u = 1; u <= 4; u++)
	{
		fx_deposit(f, u, FX_BASE, 100000);
		fx_deposit(f, u, FX_QUOTE, 1000000);
	}
	fx_withdraw(f, 4, FX_QUOTE, 1234);
	fx_limit(f, 1, FX_SYM, CORE_SELL, 333, 1011, CORE_GTC);
	fx_limit(f, 2, FX_SYM, CORE_SELL, 777, 1013, CORE_GTC);
	fx_limit(f, 3, FX_SYM, CORE_BUY, 500, 1012, CORE_GTC);
	fx_limit(f, 4, FX_SYM, CORE_BUY, 999, 1019, CORE_IOC);
	fx_limit(f, 1, FX_SYM, CORE_BUY, 77, 1009, CORE_GTC);
	fx_market(f, 2, FX_SYM, CORE_SELL, 150, 0);
	FX_VERIFY(f);
	CHECK(core_asset_get(f->c, FX_BASE, &a));
	CHECK_EQ(a.supply, 400000);
	CHECK_EQ(sum_asset(f, FX_BASE, 4), 400000);
	CHECK(core_asset_get(f->c, FX_QUOTE, &a));
	CHECK_EQ(a.supply, 4000000 - 1234);
	CHECK_EQ(sum_asset(f, FX_QUOTE, 4), 4000000 - 1234);
	CHECK(fx_avail(f, 0, FX_BASE) > 0);
	CHECK(fx_avail(f, 0, FX_QUOTE) > 0);
	fx_free(f);
}

/*
 * Several partial fills of one resting buy: after each, frozen equals
 * floor(price * remaining / 100) exactly (price 10.01, 0.07 -> 70).
 */
TEST(money_maker_lock_tracks_remaining_after_each_fill)
{
	fx		   *f = fx_simple(0, 0);
	static const int64_t fills[] = {1, 2, 3, 1};
	int64_t		remaining = 7;
	int64_t		paid = 0;

	fx_deposit(f, 1, FX_QUOTE, 1000);
	fx_deposit(f, 2, FX_BASE, 7);
	fx_limit(f, 1, FX_SYM, CORE_BUY, 7, 1001, CORE_GTC);
	FX_BAL(f, 1, FX_QUOTE, 1000 - 70, 70);
	for (int i = 0; i < 4; i++)
	{
		fx_limit(f, 2, FX_SYM, CORE_SELL, fills[i], 1001, CORE_GTC);
		remaining -= fills[i];
		paid += 1001 * fills[i] / 100;
		CHECK_EQ(fx_frozen(f, 1, FX_QUOTE), 1001 * remaining / 100);
		CHECK_EQ(fx_avail(f, 1, FX_QUOTE), 1000 - paid - 1001 * remaining / 100);
		FX_VERIFY(f);
	}
	/* paid 10 + 20 + 30 + 10 = 70 */
	FX_BAL(f, 1, FX_QUOTE, 930, 0);
	FX_BAL(f, 2, FX_QUOTE, 70, 0);
	fx_free(f);
}
