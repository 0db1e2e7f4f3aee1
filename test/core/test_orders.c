/*
 * test_orders.c — placing orders: ids, price-time priority, gtc / ioc / fok,
 * post-only, market orders (funds, quote_qty, liquidity), halted symbols,
 * rejections and the events each command emits.
 *
 * Market: fx_simple() — AAA/QQQ, both 2 decimals, tick 1, lot 1, so q base
 * units at price p are worth floor(p * q / 100) quote units.
 */
#include "fixture.h"

#define B FX_BASE
#define Q FX_QUOTE
#define S FX_SYM

/* ------------------------------------------------------------ ids, events */

TEST(orders_ids_and_trade_ids_count_from_one_rejected_place_consumes_id)
{
	fx		   *f = fx_simple(0, 0);
	core_counters k;

	fx_deposit(f, 1, Q, 1000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 50, 1000, CORE_GTC);
	CHECK_EQ(f->r.order_id, 1);
	fx_limit(f, 1, S, CORE_BUY, 100, 2000, CORE_GTC);	/* needs 2000 */
	CHECK_EQ(f->r.order_id, 2);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INSUFFICIENT_FUNDS);
	fx_limit(f, 1, S, CORE_BUY, 20, 1000, CORE_GTC);
	CHECK_EQ(f->r.order_id, 3);
	FX_TRADE(f, 0, 1, 1000, 20, 200, 3, 1, 0, 0);
	fx_limit(f, 1, S, CORE_BUY, 10, 1000, CORE_GTC);
	CHECK_EQ(f->r.order_id, 4);
	FX_TRADE(f, 0, 2, 1000, 10, 100, 4, 1, 0, 0);
	k = core_get_counters(f->c);
	CHECK_EQ(k.next_order_id, 5);
	CHECK_EQ(k.next_trade_id, 3);
	/* 3 reference-data records, 2 deposits, 4 places */
	CHECK_EQ(k.seq, 9);
	CHECK_EQ(core_seq(f->c), 9);
	CHECK_EQ(k.orders, 1);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_gtc_rests_with_status_new_and_full_event)
{
	fx		   *f = fx_simple(0, 0);
	core_rec_place p = fx_place_rec(1, S, CORE_BUY, 100, 1000, CORE_GTC);
	core_order_info o;
	core_level_info lv[2];
	int64_t		ts;
	const core_order_event *e;

	fx_deposit(f, 1, Q, 5000);
	strcpy(p.client_order_id, "my-order-1");
	ts = f->ts;
	fx_place_ex(f, &p);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 100);
	CHECK_EQ(f->r.order_id, 1);
	CHECK_EQ(f->r.trades, 0);
	CHECK_EQ(f->r.avg_price, 0);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 1, CORE_ST_NEW, CORE_R_NONE, 0, 100);
	e = &f->ev[0].u.order;
	CHECK_EQ(e->user_id, 1);
	CHECK_EQ(e->symbol, S);
	CHECK_EQ(e->side, CORE_BUY);
	CHECK_EQ(e->price, 1000);
	CHECK_EQ(e->qty, 100);
	FX_BAL(f, 1, Q, 4000, 1000);
	CHECK(core_order_get(f->c, 1, &o));
	CHECK_EQ(o.user_id, 1);
	CHECK_EQ(o.symbol, S);
	CHECK_EQ(o.side, CORE_BUY);
	CHECK_EQ(o.price, 1000);
	CHECK_EQ(o.qty, 100);
	CHECK_EQ(o.filled_qty, 0);
	CHECK_EQ(o.remaining_qty, 100);
	CHECK_EQ(o.locked, 1000);
	CHECK_EQ(o.created_ts, ts);
	CHECK_STR(o.client_order_id, "my-order-1");
	CHECK_EQ(fx_levels(f, S, CORE_BUY, lv, 2), 1);
	CHECK_EQ(lv[0].side, CORE_BUY);
	CHECK_EQ(lv[0].price, 1000);
	CHECK_EQ(fx_level_qty(&lv[0]), 100);
	CHECK_EQ(lv[0].orders, 1);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_limit_buy_below_best_ask_rests_book_not_crossed)
{
	fx		   *f = fx_simple(0, 0);
	core_level_info bid[2], ask[2];

	fx_deposit(f, 1, Q, 5000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1010, CORE_GTC);
	fx_limit(f, 1, S, CORE_BUY, 100, 1009, CORE_GTC);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 100);
	CHECK_EQ(fx_count(f, CORE_EV_TRADE), 0);
	CHECK_EQ(fx_levels(f, S, CORE_BUY, bid, 2), 1);
	CHECK_EQ(fx_levels(f, S, CORE_SELL, ask, 2), 1);
	CHECK_EQ(bid[0].price, 1009);
	CHECK_EQ(ask[0].price, 1010);
	FX_BAL(f, 1, Q, 5000 - 1009, 1009);
	FX_VERIFY(f);
	fx_free(f);
}

/* Book levels come best first: bids high to low, asks low to high. */
TEST(orders_book_levels_best_first_with_totals)
{
	fx		   *f = fx_simple(0, 0);
	core_level_info lv[4];

	fx_deposit(f, 1, Q, 100000);
	fx_deposit(f, 2, B, 1000);
	fx_limit(f, 1, S, CORE_BUY, 10, 990, CORE_GTC);
	fx_limit(f, 1, S, CORE_BUY, 20, 995, CORE_GTC);
	fx_limit(f, 1, S, CORE_BUY, 30, 990, CORE_GTC);
	fx_limit(f, 2, S, CORE_SELL, 40, 1010, CORE_GTC);
	fx_limit(f, 2, S, CORE_SELL, 50, 1005, CORE_GTC);
	CHECK_EQ(fx_levels(f, S, CORE_BUY, lv, 4), 2);
	CHECK_EQ(lv[0].price, 995);
	CHECK_EQ(fx_level_qty(&lv[0]), 20);
	CHECK_EQ(lv[0].orders, 1);
	CHECK_EQ(lv[1].price, 990);
	CHECK_EQ(fx_level_qty(&lv[1]), 40);
	CHECK_EQ(lv[1].orders, 2);
	CHECK_EQ(fx_levels(f, S, CORE_SELL, lv, 4), 2);
	CHECK_EQ(lv[0].price, 1005);
	CHECK_EQ(fx_level_qty(&lv[0]), 50);
	CHECK_EQ(lv[1].price, 1010);
	CHECK_EQ(fx_level_qty(&lv[1]), 40);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * Asks: 1.00@10.10 (o1, u2), 1.00@10.00 (o2, u3), 1.00@10.00 (o3, u4).
 * A buy of 1.50 at 10.10 takes the better price first, then FIFO: o2 whole,
 * o3 half; o1 is untouched.  Paid 1000 + 500 of a 1515 lock.
 */
TEST(orders_price_time_priority_better_price_then_fifo)
{
	fx		   *f = fx_simple(0, 0);
	core_order_info o;

	fx_deposit(f, 1, Q, 10000);
	for (int u = 2; u <= 4; u++)
		fx_deposit(f, u, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1010, CORE_GTC);
	fx_limit(f, 3, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 4, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 1, S, CORE_BUY, 150, 1010, CORE_GTC);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 150, 0);
	CHECK_EQ(f->r.trades, 2);
	CHECK_EQ(f->nev, 5);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 4, 2, 0, 0);
	FX_OEV(f, 1, 2, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_TRADE(f, 2, 2, 1000, 50, 500, 4, 3, 0, 0);
	FX_OEV(f, 3, 3, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 50, 50);
	FX_OEV(f, 4, 4, CORE_ST_FILLED, CORE_R_NONE, 150, 0);
	FX_BAL(f, 1, Q, 8500, 0);
	FX_BAL(f, 1, B, 150, 0);
	FX_BAL(f, 3, Q, 1000, 0);
	FX_BAL(f, 4, Q, 500, 0);
	FX_BAL(f, 4, B, 0, 50);
	FX_BAL(f, 2, B, 0, 100);
	CHECK(core_order_get(f->c, 1, &o));
	CHECK_EQ(o.remaining_qty, 100);
	CHECK(core_order_get(f->c, 3, &o));
	CHECK_EQ(o.filled_qty, 50);
	CHECK_EQ(o.remaining_qty, 50);
	CHECK_EQ(o.locked, 50);
	FX_VERIFY(f);
	fx_free(f);
}

/* A sell that partly fills rests its remainder on the ask side. */
TEST(orders_sell_partial_fill_rests_remainder_partially_filled)
{
	fx		   *f = fx_simple(0, 0);
	core_level_info lv[2];

	fx_deposit(f, 1, Q, 1000);
	fx_deposit(f, 2, B, 150);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	fx_limit(f, 2, S, CORE_SELL, 150, 990, CORE_GTC);
	FX_RES(f, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 100, 50);
	CHECK_EQ(f->r.avg_price, 1000);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 2, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_OEV(f, 2, 2, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 100, 50);
	FX_BAL(f, 2, B, 0, 50);
	FX_BAL(f, 2, Q, 1000, 0);
	FX_BAL(f, 1, B, 100, 0);
	CHECK_EQ(fx_levels(f, S, CORE_SELL, lv, 2), 1);
	CHECK_EQ(lv[0].price, 990);
	CHECK_EQ(fx_level_qty(&lv[0]), 50);
	CHECK_EQ(fx_levels(f, S, CORE_BUY, lv, 2), 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* avg_price = floor((1000*100 + 1001*200) / 300) = floor(1000.67) = 1000. */
TEST(orders_avg_price_volume_weighted_truncated)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 10000);
	fx_deposit(f, 2, B, 100);
	fx_deposit(f, 3, B, 200);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 3, S, CORE_SELL, 200, 1001, CORE_GTC);
	fx_limit(f, 1, S, CORE_BUY, 300, 1001, CORE_GTC);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 300, 0);
	CHECK_EQ(f->r.avg_price, 1000);
	/* paid 1000 + floor(1001*200/100) = 3002 of a floor(1001*300/100) = 3003 lock */
	FX_BAL(f, 1, Q, 6998, 0);
	FX_BAL(f, 3, Q, 2002, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* ------------------------------------------------------------------- ioc */

TEST(orders_ioc_remainder_expired_reason_ioc)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 5000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 1, S, CORE_BUY, 150, 1000, CORE_IOC);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_IOC, 100, 0);
	CHECK_EQ(f->r.trades, 1);
	CHECK_EQ(f->nev, 3);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 2, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_OEV(f, 2, 2, CORE_ST_EXPIRED, CORE_R_IOC, 100, 0);
	FX_BAL(f, 1, Q, 4000, 0);
	FX_BAL(f, 1, B, 100, 0);
	CHECK(!fx_has_order(f, 2));
	CHECK_EQ(fx_levels(f, S, CORE_BUY, NULL, 0), 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_ioc_without_match_expires_unfilled)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 5000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 1, S, CORE_BUY, 100, 999, CORE_IOC);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_IOC, 0, 0);
	CHECK_EQ(f->r.trades, 0);
	CHECK_EQ(f->r.avg_price, 0);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 2, CORE_ST_EXPIRED, CORE_R_IOC, 0, 0);
	FX_BAL(f, 1, Q, 5000, 0);
	CHECK_EQ(fx_levels(f, S, CORE_BUY, NULL, 0), 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_ioc_fully_filled_is_filled)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 5000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 1, S, CORE_BUY, 60, 1000, CORE_IOC);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 60, 0);
	FX_BAL(f, 1, Q, 4400, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* ------------------------------------------------------------------- fok */

/* Asks 1.00@10.00 (u2), 0.50@10.10 (u3): exactly 1.50 up to 10.10. */
static fx *
fok_book(void)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 10000);
	fx_deposit(f, 2, B, 100);
	fx_deposit(f, 3, B, 50);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 3, S, CORE_SELL, 50, 1010, CORE_GTC);
	return f;
}

TEST(orders_fok_fills_when_book_exactly_deep_enough)
{
	fx		   *f = fok_book();

	fx_limit(f, 1, S, CORE_BUY, 150, 1010, CORE_FOK);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 150, 0);
	CHECK_EQ(f->r.trades, 2);
	CHECK_EQ(f->nev, 5);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 3, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_TRADE(f, 2, 2, 1010, 50, 505, 3, 2, 0, 0);
	FX_OEV(f, 3, 2, CORE_ST_FILLED, CORE_R_NONE, 50, 0);
	FX_OEV(f, 4, 3, CORE_ST_FILLED, CORE_R_NONE, 150, 0);
	FX_BAL(f, 1, Q, 8495, 0);
	FX_BAL(f, 1, B, 150, 0);
	FX_BAL(f, 2, Q, 1000, 0);
	FX_BAL(f, 3, Q, 505, 0);
	CHECK_EQ(fx_levels(f, S, CORE_SELL, NULL, 0), 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_fok_rejected_when_book_one_unit_too_thin)
{
	fx		   *f = fok_book();
	core_level_info lv[4];
	core_counters k;

	fx_limit(f, 1, S, CORE_BUY, 151, 1010, CORE_FOK);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_FOK, 0, 0);
	CHECK_EQ(f->r.order_id, 3);
	CHECK_EQ(f->r.trades, 0);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 3, CORE_ST_REJECTED, CORE_R_FOK, 0, 0);
	FX_BAL(f, 1, Q, 10000, 0);
	CHECK_EQ(fx_avail(f, 1, B), -1);	/* refused: no balance row was made */
	FX_BAL(f, 2, B, 0, 100);
	FX_BAL(f, 3, B, 0, 50);
	FX_BAL(f, 2, Q, 0, 0);
	CHECK_EQ(fx_levels(f, S, CORE_SELL, lv, 4), 2);
	CHECK_EQ(lv[0].price, 1000);
	CHECK_EQ(fx_level_qty(&lv[0]), 100);
	CHECK_EQ(lv[1].price, 1010);
	CHECK_EQ(fx_level_qty(&lv[1]), 50);
	k = core_get_counters(f->c);
	CHECK_EQ(k.next_trade_id, 1);
	CHECK_EQ(k.orders, 2);
	FX_VERIFY(f);
	fx_free(f);
}

/* Only liquidity within the limit counts: 1.00 at 10.00 < 1.50. */
TEST(orders_fok_rejected_when_depth_lies_beyond_limit_price)
{
	fx		   *f = fok_book();

	fx_limit(f, 1, S, CORE_BUY, 150, 1000, CORE_FOK);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_FOK, 0, 0);
	CHECK_EQ(f->nev, 1);
	FX_BAL(f, 1, Q, 10000, 0);
	FX_BAL(f, 2, B, 0, 100);
	FX_VERIFY(f);
	fx_free(f);
}

/* Bids 1.00@10.00 (u1), 0.50@9.90 (u3); u2 sells exactly 1.50 down to 9.90. */
TEST(orders_fok_sell_fills_exact_depth_across_bids)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 1000);
	fx_deposit(f, 3, Q, 495);
	fx_deposit(f, 2, B, 151);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	fx_limit(f, 3, S, CORE_BUY, 50, 990, CORE_GTC);
	fx_limit(f, 2, S, CORE_SELL, 151, 990, CORE_FOK);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_FOK, 0, 0);
	FX_BAL(f, 2, B, 151, 0);
	fx_limit(f, 2, S, CORE_SELL, 150, 990, CORE_FOK);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 150, 0);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 4, 1, 0, 0);
	FX_TRADE(f, 2, 2, 990, 50, 495, 4, 2, 0, 0);
	FX_BAL(f, 2, Q, 1495, 0);
	FX_BAL(f, 2, B, 1, 0);
	FX_BAL(f, 1, B, 100, 0);
	FX_BAL(f, 3, B, 50, 0);
	FX_BAL(f, 1, Q, 0, 0);
	FX_BAL(f, 3, Q, 0, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* FOK still needs the funds for its whole lock. */
TEST(orders_fok_rejected_for_insufficient_funds_before_matching)
{
	fx		   *f = fok_book();

	fx_withdraw(f, 1, Q, 10000 - 1514);	/* lock needs floor(1010*150/100) = 1515 */
	fx_limit(f, 1, S, CORE_BUY, 150, 1010, CORE_FOK);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INSUFFICIENT_FUNDS);
	CHECK_EQ(fx_count(f, CORE_EV_TRADE), 0);
	FX_BAL(f, 1, Q, 1514, 0);
	FX_BAL(f, 2, B, 0, 100);
	FX_VERIFY(f);
	fx_free(f);
}

/* ------------------------------------------------------------- post-only */

static core_result
post_only(fx *f, int64_t user, core_side side, int64_t qty, int64_t price)
{
	core_rec_place p = fx_place_rec(user, S, side, qty, price, CORE_GTC);

	p.post_only = true;
	return fx_place_ex(f, &p);
}

TEST(orders_post_only_buy_touching_best_ask_rejected)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 5000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	post_only(f, 1, CORE_BUY, 10, 1000);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_POST_ONLY, 0, 0);
	CHECK_EQ(f->r.order_id, 2);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 2, CORE_ST_REJECTED, CORE_R_POST_ONLY, 0, 0);
	FX_BAL(f, 1, Q, 5000, 0);
	FX_BAL(f, 2, B, 0, 100);
	CHECK_EQ(fx_levels(f, S, CORE_BUY, NULL, 0), 0);
	CHECK(!fx_has_order(f, 2));
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_post_only_buy_one_tick_below_best_ask_rests)
{
	fx		   *f = fx_simple(0, 0);
	core_order_info o;

	fx_deposit(f, 1, Q, 5000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	post_only(f, 1, CORE_BUY, 10, 999);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 10);
	FX_OEV(f, 0, 2, CORE_ST_NEW, CORE_R_NONE, 0, 10);
	FX_BAL(f, 1, Q, 5000 - 99, 99);
	CHECK(core_order_get(f->c, 2, &o));
	CHECK(o.post_only);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_post_only_sell_touching_best_bid_rejected)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 5000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	post_only(f, 2, CORE_SELL, 10, 1000);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_POST_ONLY, 0, 0);
	FX_BAL(f, 2, B, 100, 0);
	FX_BAL(f, 1, Q, 4000, 1000);
	CHECK_EQ(fx_levels(f, S, CORE_SELL, NULL, 0), 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_post_only_sell_one_tick_above_best_bid_rests)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 5000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	post_only(f, 2, CORE_SELL, 10, 1001);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 10);
	FX_BAL(f, 2, B, 90, 10);
	FX_VERIFY(f);
	fx_free(f);
}

/* "whoever owns that order": the user's own ask also counts. */
TEST(orders_post_only_rejected_against_own_resting_order)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 5000);
	fx_deposit(f, 1, B, 100);
	fx_limit(f, 1, S, CORE_SELL, 100, 1000, CORE_GTC);
	post_only(f, 1, CORE_BUY, 10, 1005);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_POST_ONLY, 0, 0);
	FX_BAL(f, 1, Q, 5000, 0);
	FX_BAL(f, 1, B, 0, 100);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_post_only_on_empty_book_rests)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 5000);
	post_only(f, 1, CORE_BUY, 10, 10000);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 10);
	FX_BAL(f, 1, Q, 4000, 1000);
	FX_VERIFY(f);
	fx_free(f);
}

/* ---------------------------------------------------------------- market */

/*
 * Asks 1.00@10.00 (o1, u2), 1.00@10.00 (o2, u3); u1 has 15.55 quote and
 * market-buys 3.00.  o1: 100 for 1000, 555 left; o2: floor(555*100/1000) =
 * 55 for 550, the budget cut the fill short: stop, 5 left over.
 */
TEST(orders_market_buy_runs_out_of_funds_mid_level)
{
	fx		   *f = fx_simple(0, 0);
	core_level_info lv[2];

	fx_deposit(f, 1, Q, 1555);
	fx_deposit(f, 2, B, 100);
	fx_deposit(f, 3, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 3, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_market(f, 1, S, CORE_BUY, 300, 0);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_FUNDS_EXHAUSTED, 155, 0);
	CHECK_EQ(f->r.order_id, 3);
	CHECK_EQ(f->r.trades, 2);
	CHECK_EQ(f->r.avg_price, 1000);
	CHECK_EQ(f->nev, 5);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 3, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_TRADE(f, 2, 2, 1000, 55, 550, 3, 2, 0, 0);
	FX_OEV(f, 3, 2, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 55, 45);
	FX_OEV(f, 4, 3, CORE_ST_EXPIRED, CORE_R_FUNDS_EXHAUSTED, 155, 0);
	CHECK_EQ(f->ev[4].u.order.price, 0);
	FX_BAL(f, 1, Q, 5, 0);
	FX_BAL(f, 1, B, 155, 0);
	FX_BAL(f, 2, Q, 1000, 0);
	FX_BAL(f, 3, Q, 550, 0);
	FX_BAL(f, 3, B, 0, 45);
	CHECK_EQ(fx_levels(f, S, CORE_SELL, lv, 2), 1);
	CHECK_EQ(fx_level_qty(&lv[0]), 45);
	CHECK_EQ(lv[0].orders, 1);
	FX_VERIFY(f);
	fx_free(f);
}

/* Lot 0.10: 5.55 buys floor(55.5) = 55 -> 50 units, 5.00 paid, 0.55 left. */
TEST(orders_market_buy_fill_rounded_down_to_lot)
{
	fx		   *f = fx_new();

	CHECK_EQ(fx_asset(f, "AAA", 2), 1);
	CHECK_EQ(fx_asset(f, "QQQ", 2), 2);
	CHECK_EQ(fx_symbol(f, "AAA_QQQ", 1, 2, 1, 10, 0, 0, 0), 1);
	fx_deposit(f, 1, 2, 555);
	fx_deposit(f, 2, 1, 100);
	fx_limit(f, 2, 1, CORE_SELL, 100, 1000, CORE_GTC);
	fx_market(f, 1, 1, CORE_BUY, 100, 0);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_FUNDS_EXHAUSTED, 50, 0);
	FX_TRADE(f, 0, 1, 1000, 50, 500, 2, 1, 0, 0);
	FX_BAL(f, 1, 2, 55, 0);
	FX_BAL(f, 1, 1, 50, 0);
	FX_BAL(f, 2, 1, 0, 50);
	FX_VERIFY(f);
	fx_free(f);
}

/* quote_qty 5.05 against a 2.00 ask at 10.00 buys 0.50 for 5.00: filled. */
TEST(orders_market_buy_by_quote_qty_filled_when_budget_used)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 10000);
	fx_deposit(f, 2, B, 200);
	fx_limit(f, 2, S, CORE_SELL, 200, 1000, CORE_GTC);
	fx_market(f, 1, S, CORE_BUY, 0, 505);
	CHECK_EQ(f->r.status, CORE_ST_FILLED);
	CHECK_EQ(f->r.reason, CORE_R_QUOTE_QTY);	/* says why it stopped */
	CHECK_EQ(f->r.filled_qty, 50);
	CHECK_EQ(f->r.remaining_qty, 0);
	CHECK_EQ(f->r.trades, 1);
	FX_TRADE(f, 0, 1, 1000, 50, 500, 2, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 50, 150);
	CHECK_EQ(f->nev, 3);
	CHECK_EQ(f->ev[2].u.order.status, CORE_ST_FILLED);
	CHECK_EQ(f->ev[2].u.order.filled_qty, 50);
	FX_BAL(f, 1, Q, 9500, 0);
	FX_BAL(f, 1, B, 50, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * quote_qty 15.50: 1.00@10.00 for 1000, then floor(550*100/1100) = 50 at
 * 11.00 for 550: budget spent, filled 1.50, avg floor(155000/150) = 1033.
 */
TEST(orders_market_buy_by_quote_qty_across_levels)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 10000);
	fx_deposit(f, 2, B, 100);
	fx_deposit(f, 3, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 3, S, CORE_SELL, 100, 1100, CORE_GTC);
	fx_market(f, 1, S, CORE_BUY, 0, 1550);
	CHECK_EQ(f->r.status, CORE_ST_FILLED);
	CHECK_EQ(f->r.filled_qty, 150);
	CHECK_EQ(f->r.avg_price, 1033);
	CHECK_EQ(f->r.trades, 2);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 3, 1, 0, 0);
	FX_TRADE(f, 2, 2, 1100, 50, 550, 3, 2, 0, 0);
	FX_BAL(f, 1, Q, 8450, 0);
	FX_BAL(f, 1, B, 150, 0);
	FX_BAL(f, 3, B, 0, 50);
	FX_VERIFY(f);
	fx_free(f);
}

/* quote_qty 0.09 cannot buy one unit at 10.00 (0.10): expired, quote_qty. */
TEST(orders_market_buy_quote_qty_below_one_lot_expired)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 10000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_market(f, 1, S, CORE_BUY, 0, 9);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_QUOTE_QTY, 0, 0);
	CHECK_EQ(f->r.trades, 0);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 2, CORE_ST_EXPIRED, CORE_R_QUOTE_QTY, 0, 0);
	FX_BAL(f, 1, Q, 10000, 0);
	FX_BAL(f, 2, B, 0, 100);
	FX_VERIFY(f);
	fx_free(f);
}

/* With both qty and quote_qty, qty is reached first: filled. */
TEST(orders_market_buy_qty_reached_before_quote_qty)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 10000);
	fx_deposit(f, 2, B, 200);
	fx_limit(f, 2, S, CORE_SELL, 200, 1000, CORE_GTC);
	fx_market(f, 1, S, CORE_BUY, 50, 9000);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 50, 0);
	FX_BAL(f, 1, Q, 9500, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * Available 3.00 is less than quote_qty 10.00: the budget is 300 and it is
 * the available quote that runs out — expired, funds_exhausted.
 */
TEST(orders_market_buy_available_below_quote_qty_funds_exhausted)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 300);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_market(f, 1, S, CORE_BUY, 0, 1000);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_FUNDS_EXHAUSTED, 30, 0);
	FX_TRADE(f, 0, 1, 1000, 30, 300, 2, 1, 0, 0);
	FX_BAL(f, 1, Q, 0, 0);
	FX_BAL(f, 1, B, 30, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* A market buy locks nothing: frozen quote of other orders is not spent. */
TEST(orders_market_buy_spends_available_not_frozen)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 1500);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 1, S, CORE_BUY, 100, 900, CORE_GTC);	/* 900 frozen */
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_market(f, 1, S, CORE_BUY, 100, 0);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_FUNDS_EXHAUSTED, 60, 0);
	FX_TRADE(f, 0, 1, 1000, 60, 600, 3, 2, 0, 0);
	FX_BAL(f, 1, Q, 0, 900);
	FX_BAL(f, 1, B, 60, 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_market_buy_runs_out_of_book_no_liquidity)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 10000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_market(f, 1, S, CORE_BUY, 150, 0);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_NO_LIQUIDITY, 100, 0);
	FX_OEV(f, 2, 2, CORE_ST_EXPIRED, CORE_R_NO_LIQUIDITY, 100, 0);
	FX_BAL(f, 1, Q, 9000, 0);
	FX_BAL(f, 1, B, 100, 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_market_buy_on_empty_book_expired_no_liquidity)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 1000);
	fx_market(f, 1, S, CORE_BUY, 100, 0);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_NO_LIQUIDITY, 0, 0);
	CHECK_EQ(f->r.order_id, 1);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 1, CORE_ST_EXPIRED, CORE_R_NO_LIQUIDITY, 0, 0);
	FX_BAL(f, 1, Q, 1000, 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_market_sell_on_empty_book_expired_no_liquidity)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 2, B, 100);
	fx_market(f, 2, S, CORE_SELL, 100, 0);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_NO_LIQUIDITY, 0, 0);
	FX_BAL(f, 2, B, 100, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* Bids 1.00@10.00 (o1), 1.00@9.90 (o2); market sell 1.50 gets 1000 + 495. */
TEST(orders_market_sell_walks_bids_until_filled)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 1000);
	fx_deposit(f, 3, Q, 990);
	fx_deposit(f, 2, B, 150);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	fx_limit(f, 3, S, CORE_BUY, 100, 990, CORE_GTC);
	fx_market(f, 2, S, CORE_SELL, 150, 0);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 150, 0);
	CHECK_EQ(f->r.avg_price, 996);	/* floor((100000 + 49500) / 150) */
	CHECK_EQ(f->nev, 5);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 3, 1, 0, 0);
	FX_OEV(f, 1, 1, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_TRADE(f, 2, 2, 990, 50, 495, 3, 2, 0, 0);
	FX_OEV(f, 3, 2, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 50, 50);
	FX_OEV(f, 4, 3, CORE_ST_FILLED, CORE_R_NONE, 150, 0);
	FX_BAL(f, 2, Q, 1495, 0);
	FX_BAL(f, 2, B, 0, 0);
	FX_BAL(f, 3, Q, 0, 495);
	FX_BAL(f, 3, B, 50, 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_market_sell_beyond_book_expired_no_liquidity_base_released)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 1000);
	fx_deposit(f, 2, B, 150);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	fx_market(f, 2, S, CORE_SELL, 150, 0);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_NO_LIQUIDITY, 100, 0);
	FX_BAL(f, 2, B, 50, 0);
	FX_BAL(f, 2, Q, 1000, 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_market_sell_larger_than_available_base_rejected)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 2000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 1, S, CORE_BUY, 200, 1000, CORE_GTC);
	fx_market(f, 2, S, CORE_SELL, 101, 0);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INSUFFICIENT_FUNDS, 0, 0);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 2, CORE_ST_REJECTED, CORE_R_INSUFFICIENT_FUNDS, 0, 0);
	FX_BAL(f, 2, B, 100, 0);
	CHECK_EQ(fx_avail(f, 2, Q), -1);	/* refused: no balance row was made */
	FX_BAL(f, 1, Q, 0, 2000);
	CHECK_EQ(core_get_counters(f->c).next_trade_id, 1);
	FX_VERIFY(f);
	fx_free(f);
}

/* ---------------------------------------------------------- refusals */

TEST(orders_limit_buy_insufficient_funds_rejected_nothing_changed)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 999);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INSUFFICIENT_FUNDS, 0, 0);
	CHECK_EQ(f->r.order_id, 1);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 1, CORE_ST_REJECTED, CORE_R_INSUFFICIENT_FUNDS, 0, 0);
	FX_BAL(f, 1, Q, 999, 0);
	CHECK_EQ(core_get_counters(f->c).orders, 0);
	/* exactly enough succeeds */
	fx_deposit(f, 1, Q, 1);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 100);
	CHECK_EQ(f->r.order_id, 2);
	FX_BAL(f, 1, Q, 0, 1000);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_limit_sell_insufficient_base_rejected)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 2, B, 99);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INSUFFICIENT_FUNDS, 0, 0);
	FX_BAL(f, 2, B, 99, 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_place_without_account_rejected_insufficient_funds)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 1000);
	fx_limit(f, 9, S, CORE_BUY, 1, 1000, CORE_GTC);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INSUFFICIENT_FUNDS, 0, 0);
	CHECK_EQ(f->r.order_id, 1);
	CHECK_EQ(f->nev, 1);
	CHECK_EQ(core_get_counters(f->c).accounts, 2);
	CHECK_EQ(fx_avail(f, 9, Q), -1);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_place_unknown_symbol_rejected)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 1000);
	fx_limit(f, 1, 7, CORE_BUY, 1, 1000, CORE_GTC);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_UNKNOWN_SYMBOL, 0, 0);
	CHECK_EQ(f->r.order_id, 1);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 1, CORE_ST_REJECTED, CORE_R_UNKNOWN_SYMBOL, 0, 0);
	FX_BAL(f, 1, Q, 1000, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* Off-tick price, off-lot qty and qty below min_qty are malformed. */
TEST(orders_off_tick_off_lot_below_min_qty_rejected_invalid)
{
	fx		   *f = fx_new();

	CHECK_EQ(fx_asset(f, "AAA", 2), 1);
	CHECK_EQ(fx_asset(f, "QQQ", 2), 2);
	/* tick 0.05, lot 0.10, min 0.50 */
	CHECK_EQ(fx_symbol(f, "AAA_QQQ", 1, 2, 5, 10, 50, 0, 0), 1);
	fx_deposit(f, 1, 2, 100000);
	fx_limit(f, 1, 1, CORE_BUY, 100, 1003, CORE_GTC);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INVALID, 0, 0);
	fx_limit(f, 1, 1, CORE_BUY, 105, 1005, CORE_GTC);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INVALID, 0, 0);
	fx_limit(f, 1, 1, CORE_BUY, 40, 1005, CORE_GTC);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INVALID, 0, 0);
	FX_BAL(f, 1, 2, 100000, 0);
	/* on tick, on lot, exactly min_qty: accepted */
	fx_limit(f, 1, 1, CORE_BUY, 50, 1005, CORE_GTC);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 50);
	CHECK_EQ(f->r.order_id, 4);
	FX_BAL(f, 1, 2, 100000 - 502, 502);
	FX_VERIFY(f);
	fx_free(f);
}

/* ---------------------------------------------------------------- halted */

TEST(orders_halted_symbol_refuses_place)
{
	fx		   *f = fx_simple(0, 0);
	core_symbol_info si;

	fx_deposit(f, 1, Q, 1000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_set_status(f, S, CORE_HALTED);
	CHECK_EQ(f->r.status, CORE_ST_OK);
	CHECK(core_symbol_get(f->c, S, &si));
	CHECK_EQ(si.status, CORE_HALTED);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_HALTED, 0, 0);
	CHECK_EQ(f->r.order_id, 2);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 2, CORE_ST_REJECTED, CORE_R_HALTED, 0, 0);
	fx_market(f, 1, S, CORE_BUY, 100, 0);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_HALTED, 0, 0);
	FX_BAL(f, 1, Q, 1000, 0);
	FX_BAL(f, 2, B, 0, 100);
	CHECK_EQ(core_get_counters(f->c).next_trade_id, 1);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_halted_symbol_allows_cancel)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 2, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_set_status(f, S, CORE_HALTED);
	fx_cancel(f, 2, 1);
	CHECK_EQ(f->r.status, CORE_ST_CANCELED);
	CHECK_EQ(f->r.order_id, 1);
	FX_OEV(f, 0, 1, CORE_ST_CANCELED, CORE_R_NONE, 0, 0);
	FX_BAL(f, 2, B, 100, 0);
	CHECK(!fx_has_order(f, 1));
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_resumed_symbol_trades_again)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 1000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_set_status(f, S, CORE_HALTED);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	fx_set_status(f, S, CORE_TRADING);
	CHECK_EQ(f->r.status, CORE_ST_OK);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	CHECK_EQ(f->r.order_id, 3);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 3, 1, 0, 0);
	FX_BAL(f, 1, B, 100, 0);
	FX_BAL(f, 2, Q, 1000, 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(orders_set_status_unknown_symbol_rejected)
{
	fx		   *f = fx_simple(0, 0);

	fx_set_status(f, 5, CORE_HALTED);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_UNKNOWN_SYMBOL);
	CHECK_EQ(f->nev, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* Orders in one symbol never match orders in another. */
TEST(orders_symbols_have_separate_books)
{
	fx		   *f = fx_simple(0, 0);
	uint32_t	c = fx_asset(f, "CCC", 2);
	uint32_t	s2 = fx_symbol(f, "CCC_QQQ", c, Q, 1, 1, 0, 0, 0);

	CHECK_EQ(s2, 2);
	fx_deposit(f, 1, Q, 5000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 1, s2, CORE_BUY, 100, 1000, CORE_GTC);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 100);
	CHECK_EQ(fx_count(f, CORE_EV_TRADE), 0);
	FX_BAL(f, 1, c, 0, 0);
	FX_BAL(f, 1, Q, 4000, 1000);
	FX_VERIFY(f);
	fx_free(f);
}

/* -------------------------------------------------------- edge cases */

/*
 * API.md: "a market buy that spent its whole quote_qty ends filled".  A
 * 10.00 budget buys the book's only 1.00 at 10.00: the budget and the book
 * end together, and the whole quote_qty is spent.
 */
TEST(orders_market_buy_quote_qty_spent_exactly_as_book_runs_out_is_filled)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 10000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_market(f, 1, S, CORE_BUY, 0, 1000);
	CHECK_EQ(f->r.status, CORE_ST_FILLED);
	CHECK_EQ(f->r.reason, CORE_R_QUOTE_QTY);
	CHECK_EQ(f->r.filled_qty, 100);
	CHECK_EQ(f->r.remaining_qty, 0);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 2, 1, 0, 0);
	FX_BAL(f, 1, Q, 9000, 0);
	FX_BAL(f, 1, B, 100, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * Budget 10.00 spent exactly on the first of two 1.00 asks at 10.00: one
 * trade (no zero-quantity trade with the second ask), filled, the second
 * ask untouched.
 */
TEST(orders_market_buy_quote_qty_spent_exactly_mid_level_is_filled)
{
	fx		   *f = fx_simple(0, 0);
	core_order_info o;

	fx_deposit(f, 1, Q, 10000);
	fx_deposit(f, 2, B, 100);
	fx_deposit(f, 3, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 3, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_market(f, 1, S, CORE_BUY, 0, 1000);
	CHECK_EQ(f->r.status, CORE_ST_FILLED);
	CHECK_EQ(f->r.reason, CORE_R_QUOTE_QTY);
	CHECK_EQ(f->r.filled_qty, 100);
	CHECK_EQ(f->r.trades, 1);
	CHECK_EQ(fx_count(f, CORE_EV_TRADE), 1);
	CHECK_EQ(f->nev, 3);
	FX_BAL(f, 1, Q, 9000, 0);
	CHECK(core_order_get(f->c, 2, &o));
	CHECK_EQ(o.filled_qty, 0);
	CHECK_EQ(o.remaining_qty, 100);
	FX_VERIFY(f);
	fx_free(f);
}

/* No available quote at all: nothing can be bought — expired, funds_exhausted. */
TEST(orders_market_buy_with_no_available_quote_expires_funds_exhausted)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, B, 5);	/* an account, but no quote */
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_market(f, 1, S, CORE_BUY, 10, 0);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_FUNDS_EXHAUSTED, 0, 0);
	CHECK_EQ(f->r.trades, 0);
	CHECK_EQ(f->nev, 1);
	FX_BAL(f, 1, B, 5, 0);
	FX_BAL(f, 2, B, 0, 100);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * "fok ... is rejected (reason = fok) with no trade and no other effect":
 * the refused order must not leave behind a new balance row either.
 */
TEST(orders_fok_rejected_leaves_no_new_balance_row)
{
	fx		   *f = fok_book();
	core_counters before = core_get_counters(f->c);
	core_counters after;

	CHECK_EQ(fx_avail(f, 1, B), -1);
	fx_limit(f, 1, S, CORE_BUY, 151, 1010, CORE_FOK);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_FOK, 0, 0);
	after = core_get_counters(f->c);
	CHECK_EQ(after.balances, before.balances);
	CHECK_EQ(fx_avail(f, 1, B), -1);
	FX_VERIFY(f);
	fx_free(f);
}

/* The event of a finished taker carries the order's size: 1.50 ordered. */
TEST(orders_expired_event_carries_order_qty)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 5000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 1, S, CORE_BUY, 150, 1000, CORE_IOC);
	FX_OEV(f, 2, 2, CORE_ST_EXPIRED, CORE_R_IOC, 100, 0);
	CHECK_EQ(f->ev[2].u.order.qty, 150);
	CHECK_EQ(f->ev[2].u.order.price, 1000);
	CHECK_EQ(f->ev[2].u.order.side, CORE_BUY);
	CHECK_EQ(f->ev[2].u.order.user_id, 1);
	CHECK_EQ(f->ev[1].u.order.qty, 100);	/* the maker, filled */
	CHECK_EQ(f->ev[1].u.order.user_id, 2);
	CHECK_EQ(f->ev[1].u.order.side, CORE_SELL);
	fx_free(f);
}
