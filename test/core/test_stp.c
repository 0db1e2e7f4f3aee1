/*
 * test_stp.c — self-trade prevention: each mode with the user's own resting
 * order in the middle of a level (another user's order before and after
 * it), on both sides, and how FOK counts liquidity under each mode.
 *
 * Market: fx_simple() — 2-decimal AAA/QQQ, 1.00 AAA at 10.00 = 1000 quote.
 */
#include "fixture.h"

#define B FX_BASE
#define Q FX_QUOTE
#define S FX_SYM

/*
 * Asks at 10.00, in queue order: o1 u2 1.00, o2 u1 1.00 (own), o3 u3 1.00.
 * u1 then has 100.00 quote available and no base available.
 */
static fx *
ask_sandwich(void)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 10000);
	fx_deposit(f, 1, B, 100);
	fx_deposit(f, 2, B, 100);
	fx_deposit(f, 3, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 1, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 3, S, CORE_SELL, 100, 1000, CORE_GTC);
	return f;
}

static core_result
buy_stp(fx *f, int64_t qty, int64_t price, core_tif tif, core_stp stp)
{
	core_rec_place p = fx_place_rec(1, S, CORE_BUY, qty, price, tif);

	p.stp = (uint8_t) stp;
	return fx_place_ex(f, &p);
}

TEST(stp_none_trades_with_own_order_in_middle_of_level)
{
	fx		   *f = ask_sandwich();

	buy_stp(f, 300, 1000, CORE_GTC, CORE_STP_NONE);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 300, 0);
	CHECK_EQ(f->r.order_id, 4);
	CHECK_EQ(f->r.trades, 3);
	CHECK_EQ(f->nev, 7);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 4, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_TRADE(f, 2, 2, 1000, 100, 1000, 4, 2, 0, 0);
	CHECK_EQ(f->ev[2].u.trade.taker_user_id, 1);
	CHECK_EQ(f->ev[2].u.trade.maker_user_id, 1);
	FX_OEV(f, 3, 2, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_TRADE(f, 4, 3, 1000, 100, 1000, 4, 3, 0, 0);
	FX_OEV(f, 5, 3, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_OEV(f, 6, 4, CORE_ST_FILLED, CORE_R_NONE, 300, 0);
	/* paid 3000, received 1000 back as the seller of o2 */
	FX_BAL(f, 1, Q, 8000, 0);
	FX_BAL(f, 1, B, 300, 0);
	FX_BAL(f, 2, Q, 1000, 0);
	FX_BAL(f, 3, Q, 1000, 0);
	CHECK_EQ(fx_levels(f, S, CORE_SELL, NULL, 0), 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(stp_cancel_taker_expires_incoming_at_own_order_in_middle)
{
	fx		   *f = ask_sandwich();
	int64_t		ids[4];

	buy_stp(f, 300, 1000, CORE_GTC, CORE_STP_CANCEL_TAKER);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_SELF_TRADE, 100, 0);
	CHECK_EQ(f->r.trades, 1);
	CHECK_EQ(f->nev, 3);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 4, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_OEV(f, 2, 4, CORE_ST_EXPIRED, CORE_R_SELF_TRADE, 100, 0);
	FX_BAL(f, 1, Q, 9000, 0);
	FX_BAL(f, 1, B, 100, 100);
	FX_BAL(f, 2, Q, 1000, 0);
	FX_BAL(f, 3, B, 0, 100);
	FX_BAL(f, 3, Q, 0, 0);
	CHECK_EQ(fx_level_ids(f, S, CORE_SELL, 1000, ids, 4), 2);
	CHECK_EQ(ids[0], 2);
	CHECK_EQ(ids[1], 3);
	CHECK(!fx_has_order(f, 4));
	CHECK_EQ(fx_levels(f, S, CORE_BUY, NULL, 0), 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(stp_cancel_maker_cancels_own_order_in_middle_and_goes_on)
{
	fx		   *f = ask_sandwich();
	int64_t		ids[4];

	buy_stp(f, 300, 1000, CORE_GTC, CORE_STP_CANCEL_MAKER);
	FX_RES(f, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 200, 100);
	CHECK_EQ(f->r.trades, 2);
	CHECK_EQ(f->nev, 6);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 4, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_OEV(f, 2, 2, CORE_ST_CANCELED, CORE_R_SELF_TRADE, 0, 0);
	FX_TRADE(f, 3, 2, 1000, 100, 1000, 4, 3, 0, 0);
	FX_OEV(f, 4, 3, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_OEV(f, 5, 4, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 200, 100);
	/* locked 3000, paid 2000, 1.00 still resting at 10.00 needs 1000 */
	FX_BAL(f, 1, Q, 7000, 1000);
	FX_BAL(f, 1, B, 300, 0);
	FX_BAL(f, 2, Q, 1000, 0);
	FX_BAL(f, 3, Q, 1000, 0);
	CHECK(!fx_has_order(f, 2));
	CHECK_EQ(fx_levels(f, S, CORE_SELL, NULL, 0), 0);
	CHECK_EQ(fx_level_ids(f, S, CORE_BUY, 1000, ids, 4), 1);
	CHECK_EQ(ids[0], 4);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(stp_cancel_both_cancels_own_middle_order_and_expires_incoming)
{
	fx		   *f = ask_sandwich();
	int64_t		ids[4];

	buy_stp(f, 300, 1000, CORE_GTC, CORE_STP_CANCEL_BOTH);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_SELF_TRADE, 100, 0);
	CHECK_EQ(f->r.trades, 1);
	CHECK_EQ(f->nev, 4);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 4, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_OEV(f, 2, 2, CORE_ST_CANCELED, CORE_R_SELF_TRADE, 0, 0);
	FX_OEV(f, 3, 4, CORE_ST_EXPIRED, CORE_R_SELF_TRADE, 100, 0);
	FX_BAL(f, 1, Q, 9000, 0);
	FX_BAL(f, 1, B, 200, 0);
	FX_BAL(f, 3, B, 0, 100);
	CHECK_EQ(fx_level_ids(f, S, CORE_SELL, 1000, ids, 4), 1);
	CHECK_EQ(ids[0], 3);
	CHECK_EQ(fx_levels(f, S, CORE_BUY, NULL, 0), 0);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * Sell side: bids at 10.00 o1 u2, o2 u1 (own), o3 u3; u1 sells 3.00 with
 * cancel_maker: o1 filled, o2 canceled (1000 quote back), o3 filled, 1.00
 * rests as an ask.
 */
TEST(stp_cancel_maker_on_sell_side_with_own_bid_in_middle)
{
	fx		   *f = fx_simple(0, 0);
	core_rec_place p;

	fx_deposit(f, 1, B, 300);
	fx_deposit(f, 1, Q, 1000);
	fx_deposit(f, 2, Q, 1000);
	fx_deposit(f, 3, Q, 1000);
	fx_limit(f, 2, S, CORE_BUY, 100, 1000, CORE_GTC);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	fx_limit(f, 3, S, CORE_BUY, 100, 1000, CORE_GTC);
	p = fx_place_rec(1, S, CORE_SELL, 300, 1000, CORE_GTC);
	p.stp = CORE_STP_CANCEL_MAKER;
	fx_place_ex(f, &p);
	FX_RES(f, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 200, 100);
	CHECK_EQ(f->nev, 6);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 4, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_OEV(f, 2, 2, CORE_ST_CANCELED, CORE_R_SELF_TRADE, 0, 0);
	FX_TRADE(f, 3, 2, 1000, 100, 1000, 4, 3, 0, 0);
	FX_OEV(f, 4, 3, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_OEV(f, 5, 4, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 200, 100);
	FX_BAL(f, 1, Q, 3000, 0);
	FX_BAL(f, 1, B, 0, 100);
	FX_BAL(f, 2, B, 100, 0);
	FX_BAL(f, 3, B, 100, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* Own order first in the queue: cancel_taker stops before any trade. */
TEST(stp_cancel_taker_with_own_order_first_expires_unfilled)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 10000);
	fx_deposit(f, 1, B, 100);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 1, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	buy_stp(f, 100, 1000, CORE_GTC, CORE_STP_CANCEL_TAKER);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_SELF_TRADE, 0, 0);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 3, CORE_ST_EXPIRED, CORE_R_SELF_TRADE, 0, 0);
	FX_BAL(f, 1, Q, 10000, 0);
	FX_BAL(f, 1, B, 0, 100);
	FX_BAL(f, 2, B, 0, 100);
	FX_VERIFY(f);
	fx_free(f);
}

/* cancel_maker clears the own order, then the remainder rests: new. */
TEST(stp_cancel_maker_only_own_liquidity_then_rests_new)
{
	fx		   *f = fx_simple(0, 0);
	int64_t		ids[2];

	fx_deposit(f, 1, Q, 10000);
	fx_deposit(f, 1, B, 100);
	fx_limit(f, 1, S, CORE_SELL, 100, 1000, CORE_GTC);
	buy_stp(f, 100, 1000, CORE_GTC, CORE_STP_CANCEL_MAKER);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 100);
	CHECK_EQ(f->nev, 2);
	FX_OEV(f, 0, 1, CORE_ST_CANCELED, CORE_R_SELF_TRADE, 0, 0);
	FX_OEV(f, 1, 2, CORE_ST_NEW, CORE_R_NONE, 0, 100);
	FX_BAL(f, 1, Q, 9000, 1000);
	FX_BAL(f, 1, B, 100, 0);
	CHECK_EQ(fx_levels(f, S, CORE_SELL, NULL, 0), 0);
	CHECK_EQ(fx_level_ids(f, S, CORE_BUY, 1000, ids, 2), 1);
	CHECK_EQ(ids[0], 2);
	FX_VERIFY(f);
	fx_free(f);
}

/* STP only concerns the same user: other users' orders trade normally. */
TEST(stp_cancel_both_does_nothing_without_own_orders)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 10000);
	fx_deposit(f, 2, B, 100);
	fx_deposit(f, 3, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 3, S, CORE_SELL, 100, 1000, CORE_GTC);
	buy_stp(f, 200, 1000, CORE_IOC, CORE_STP_CANCEL_BOTH);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 200, 0);
	CHECK_EQ(f->r.trades, 2);
	FX_BAL(f, 1, Q, 8000, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* ------------------------------------------------------------- FOK + STP */

/* Asks: o1 u2 1.00@10.00, o2 u1 0.50@10.00 (own), o3 u3 0.50@10.10. */
static fx *
fok_stp_book(void)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 10000);
	fx_deposit(f, 1, B, 50);
	fx_deposit(f, 2, B, 100);
	fx_deposit(f, 3, B, 50);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 1, S, CORE_SELL, 50, 1000, CORE_GTC);
	fx_limit(f, 3, S, CORE_SELL, 50, 1010, CORE_GTC);
	return f;
}

/* cancel_maker skips own liquidity: 1.00 + 0.50 = 1.50 < 2.00. */
TEST(stp_fok_cancel_maker_does_not_count_own_orders_rejected)
{
	fx		   *f = fok_stp_book();
	int64_t		ids[4];

	buy_stp(f, 200, 1010, CORE_FOK, CORE_STP_CANCEL_MAKER);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_FOK, 0, 0);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 4, CORE_ST_REJECTED, CORE_R_FOK, 0, 0);
	/* nothing else happened: the own order was not canceled */
	CHECK(fx_has_order(f, 2));
	CHECK_EQ(fx_level_ids(f, S, CORE_SELL, 1000, ids, 4), 2);
	CHECK_EQ(ids[0], 1);
	CHECK_EQ(ids[1], 2);
	FX_BAL(f, 1, Q, 10000, 0);
	FX_BAL(f, 1, B, 0, 50);
	FX_VERIFY(f);
	fx_free(f);
}

/* Exactly 1.50 of other users' liquidity: fills, the own order is canceled. */
TEST(stp_fok_cancel_maker_fills_exact_other_liquidity_and_cancels_own)
{
	fx		   *f = fok_stp_book();

	buy_stp(f, 150, 1010, CORE_FOK, CORE_STP_CANCEL_MAKER);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 150, 0);
	CHECK_EQ(f->nev, 6);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 4, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_OEV(f, 2, 2, CORE_ST_CANCELED, CORE_R_SELF_TRADE, 0, 0);
	FX_TRADE(f, 3, 2, 1010, 50, 505, 4, 3, 0, 0);
	FX_OEV(f, 4, 3, CORE_ST_FILLED, CORE_R_NONE, 50, 0);
	FX_OEV(f, 5, 4, CORE_ST_FILLED, CORE_R_NONE, 150, 0);
	FX_BAL(f, 1, Q, 8495, 0);
	FX_BAL(f, 1, B, 200, 0);
	FX_BAL(f, 2, Q, 1000, 0);
	FX_BAL(f, 3, Q, 505, 0);
	CHECK_EQ(fx_levels(f, S, CORE_SELL, NULL, 0), 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* cancel_taker counts only up to the first own order: 1.00. */
TEST(stp_fok_cancel_taker_counts_only_up_to_first_own_order)
{
	fx		   *f = fok_stp_book();

	buy_stp(f, 101, 1010, CORE_FOK, CORE_STP_CANCEL_TAKER);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_FOK, 0, 0);
	CHECK_EQ(f->nev, 1);
	FX_BAL(f, 1, Q, 10000, 0);
	CHECK(fx_has_order(f, 1));
	CHECK(fx_has_order(f, 2));

	buy_stp(f, 100, 1010, CORE_FOK, CORE_STP_CANCEL_TAKER);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	CHECK_EQ(f->r.order_id, 5);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 5, 1, 0, 0);
	CHECK_EQ(f->nev, 3);
	FX_BAL(f, 1, Q, 9000, 0);
	FX_BAL(f, 1, B, 100, 50);
	CHECK(fx_has_order(f, 2));
	FX_VERIFY(f);
	fx_free(f);
}

TEST(stp_fok_cancel_both_counts_only_up_to_first_own_order)
{
	fx		   *f = fok_stp_book();

	buy_stp(f, 101, 1010, CORE_FOK, CORE_STP_CANCEL_BOTH);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_FOK, 0, 0);
	CHECK_EQ(f->nev, 1);
	CHECK(fx_has_order(f, 2));
	FX_BAL(f, 1, B, 0, 50);
	FX_BAL(f, 1, Q, 10000, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* stp none counts own orders too: 1.00 + 0.50 + 0.50 = 2.00. */
TEST(stp_fok_none_counts_own_orders_and_self_trades)
{
	fx		   *f = fok_stp_book();

	buy_stp(f, 200, 1010, CORE_FOK, CORE_STP_NONE);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 200, 0);
	CHECK_EQ(f->r.trades, 3);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 4, 1, 0, 0);
	FX_TRADE(f, 2, 2, 1000, 50, 500, 4, 2, 0, 0);
	FX_TRADE(f, 4, 3, 1010, 50, 505, 4, 3, 0, 0);
	/* paid 2005, got 500 back for the own 0.50 */
	FX_BAL(f, 1, Q, 8495, 0);
	FX_BAL(f, 1, B, 200, 0);
	FX_VERIFY(f);
	fx_free(f);
}
