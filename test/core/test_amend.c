/*
 * test_amend.c — amend: qty down keeps queue priority, qty up or a price
 * change is cancel-and-replace under the same id (back of the queue, may
 * trade, relocks, refused whole when funds are short), owner only, halted
 * symbols refuse it, post-only and stp carry over.
 *
 * Market: fx_simple() — 2-decimal AAA/QQQ, 1.00 AAA at 10.00 = 1000 quote.
 */
#include "fixture.h"

#define B FX_BASE
#define Q FX_QUOTE
#define S FX_SYM

/*
 * Bids at 10.00 in queue order: o1 u2 1.00, o2 u1 1.00, o3 u3 1.00.
 * u1 has 10.00 quote available and 10.00 frozen.
 */
static fx *
bid_queue(void)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 2000);
	fx_deposit(f, 2, Q, 1000);
	fx_deposit(f, 3, Q, 1000);
	fx_limit(f, 2, S, CORE_BUY, 100, 1000, CORE_GTC);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	fx_limit(f, 3, S, CORE_BUY, 100, 1000, CORE_GTC);
	return f;
}

static void
check_queue(fx *f, core_side side, int64_t price, int n, const int64_t *want)
{
	int64_t		ids[16];
	int			got = fx_level_ids(f, S, side, price, ids, 16);

	CHECK_EQ(got, n);
	for (int i = 0; i < n && i < got; i++)
		CHECK_EQ(ids[i], want[i]);
}

/* The untouched order o2 of bid_queue(), field by field. */
static void
check_o2_unchanged(fx *f)
{
	core_order_info o;

	CHECK(core_order_get(f->c, 2, &o));
	CHECK_EQ(o.price, 1000);
	CHECK_EQ(o.qty, 100);
	CHECK_EQ(o.filled_qty, 0);
	CHECK_EQ(o.remaining_qty, 100);
	CHECK_EQ(o.locked, 1000);
	check_queue(f, CORE_BUY, 1000, 3, (const int64_t[]) {1, 2, 3});
	FX_BAL(f, 1, Q, 1000, 1000);
}

TEST(amend_qty_down_keeps_place_in_queue_and_releases_lock)
{
	fx		   *f = bid_queue();
	core_order_info o;
	core_level_info lv[2];

	fx_amend(f, 1, 2, 60, 0);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 60);
	CHECK_EQ(f->r.order_id, 2);
	CHECK_EQ(f->r.trades, 0);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 2, CORE_ST_AMENDED, CORE_R_NONE, 0, 60);
	check_queue(f, CORE_BUY, 1000, 3, (const int64_t[]) {1, 2, 3});
	CHECK_EQ(fx_levels(f, S, CORE_BUY, lv, 2), 1);
	CHECK_EQ(fx_level_qty(&lv[0]), 260);
	CHECK_EQ(lv[0].orders, 3);
	FX_BAL(f, 1, Q, 1400, 600);
	CHECK(core_order_get(f->c, 2, &o));
	CHECK_EQ(o.qty, 60);
	CHECK_EQ(o.remaining_qty, 60);
	CHECK_EQ(o.locked, 600);
	FX_VERIFY(f);
	fx_free(f);
}

/* After amend up the queue is o1, o3, o2: a 2.50 sell fills them that way. */
TEST(amend_qty_up_loses_place_goes_to_back_of_queue)
{
	fx		   *f = bid_queue();
	core_order_info o;

	fx_amend(f, 1, 2, 150, 0);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 150);
	FX_OEV(f, 0, 2, CORE_ST_AMENDED, CORE_R_NONE, 0, 150);
	check_queue(f, CORE_BUY, 1000, 3, (const int64_t[]) {1, 3, 2});
	FX_BAL(f, 1, Q, 500, 1500);
	CHECK(core_order_get(f->c, 2, &o));
	CHECK_EQ(o.locked, 1500);
	FX_VERIFY(f);

	fx_deposit(f, 4, B, 250);
	fx_limit(f, 4, S, CORE_SELL, 250, 1000, CORE_GTC);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 250, 0);
	FX_TRADE(f, 0, 1, 1000, 100, 1000, 4, 1, 0, 0);
	FX_TRADE(f, 2, 2, 1000, 100, 1000, 4, 3, 0, 0);
	FX_TRADE(f, 4, 3, 1000, 50, 500, 4, 2, 0, 0);
	FX_BAL(f, 1, Q, 500, 1000);
	FX_BAL(f, 1, B, 50, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* u1 has exactly 10.00 available + 10.00 own lock = the 20.00 a 2.00 bid needs. */
TEST(amend_qty_up_with_exactly_enough_funds_accepted)
{
	fx		   *f = bid_queue();

	fx_amend(f, 1, 2, 200, 0);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 200);
	FX_BAL(f, 1, Q, 0, 2000);
	check_queue(f, CORE_BUY, 1000, 3, (const int64_t[]) {1, 3, 2});
	FX_VERIFY(f);
	fx_free(f);
}

/* o4 (u4) already bids 10.01; o2 moves there behind it and locks 1001. */
TEST(amend_price_change_goes_to_back_of_new_level)
{
	fx		   *f = bid_queue();
	core_order_info o;

	fx_deposit(f, 4, Q, 1001);
	fx_limit(f, 4, S, CORE_BUY, 100, 1001, CORE_GTC);
	fx_amend(f, 1, 2, 0, 1001);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 100);
	CHECK_EQ(f->r.order_id, 2);
	FX_OEV(f, 0, 2, CORE_ST_AMENDED, CORE_R_NONE, 0, 100);
	CHECK_EQ(f->ev[0].u.order.price, 1001);
	check_queue(f, CORE_BUY, 1000, 2, (const int64_t[]) {1, 3});
	check_queue(f, CORE_BUY, 1001, 2, (const int64_t[]) {4, 2});
	FX_BAL(f, 1, Q, 999, 1001);
	CHECK(core_order_get(f->c, 2, &o));
	CHECK_EQ(o.price, 1001);
	CHECK_EQ(o.locked, 1001);
	FX_VERIFY(f);

	/* and back: it joins the back of the 10.00 level */
	fx_amend(f, 1, 2, 0, 1000);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 100);
	check_queue(f, CORE_BUY, 1000, 3, (const int64_t[]) {1, 3, 2});
	check_queue(f, CORE_BUY, 1001, 1, (const int64_t[]) {4});
	FX_BAL(f, 1, Q, 1000, 1000);
	FX_VERIFY(f);
	fx_free(f);
}

/* Lower qty and a new price at once: a replace, back of the new level. */
TEST(amend_qty_and_price_together)
{
	fx		   *f = bid_queue();

	fx_amend(f, 1, 2, 50, 990);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 50);
	check_queue(f, CORE_BUY, 1000, 2, (const int64_t[]) {1, 3});
	check_queue(f, CORE_BUY, 990, 1, (const int64_t[]) {2});
	FX_BAL(f, 1, Q, 2000 - 495, 495);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(amend_same_qty_and_price_changes_nothing)
{
	fx		   *f = bid_queue();

	fx_amend(f, 1, 2, 100, 1000);
	CHECK(f->r.status != CORE_ST_REJECTED);
	CHECK_EQ(f->r.remaining_qty, 100);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 2, CORE_ST_AMENDED, CORE_R_NONE, 0, 100);
	check_o2_unchanged(f);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * u4 asks 0.50 at 10.10; o2 is amended to 10.10: it trades 0.50 at 10.10
 * (505) as the taker and rests 0.50 at 10.10, locking 505.
 */
TEST(amend_to_crossing_price_trades_then_rests)
{
	fx		   *f = bid_queue();
	core_order_info o;

	fx_deposit(f, 4, B, 50);
	fx_limit(f, 4, S, CORE_SELL, 50, 1010, CORE_GTC);
	fx_amend(f, 1, 2, 0, 1010);
	FX_RES(f, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 50, 50);
	CHECK_EQ(f->r.order_id, 2);
	CHECK_EQ(f->r.trades, 1);
	CHECK_EQ(f->r.avg_price, 1010);
	CHECK_EQ(f->nev, 3);
	FX_TRADE(f, 0, 1, 1010, 50, 505, 2, 4, 0, 0);
	CHECK_EQ(f->ev[0].u.trade.taker_side, CORE_BUY);
	CHECK_EQ(f->ev[0].u.trade.taker_user_id, 1);
	FX_OEV(f, 1, 4, CORE_ST_FILLED, CORE_R_NONE, 50, 0);
	FX_OEV(f, 2, 2, CORE_ST_AMENDED, CORE_R_NONE, 50, 50);
	FX_BAL(f, 1, Q, 990, 505);
	FX_BAL(f, 1, B, 50, 0);
	FX_BAL(f, 4, Q, 505, 0);
	check_queue(f, CORE_BUY, 1000, 2, (const int64_t[]) {1, 3});
	check_queue(f, CORE_BUY, 1010, 1, (const int64_t[]) {2});
	CHECK_EQ(fx_levels(f, S, CORE_SELL, NULL, 0), 0);
	CHECK(core_order_get(f->c, 2, &o));
	CHECK_EQ(o.filled_qty, 50);
	CHECK_EQ(o.remaining_qty, 50);
	CHECK_EQ(o.locked, 505);
	FX_VERIFY(f);
	fx_free(f);
}

/* Amended to 10.10 against an ask at 10.05: filled, the 5 of improvement back. */
TEST(amend_to_crossing_price_fills_completely)
{
	fx		   *f = bid_queue();

	fx_deposit(f, 4, B, 100);
	fx_limit(f, 4, S, CORE_SELL, 100, 1005, CORE_GTC);
	fx_amend(f, 1, 2, 0, 1010);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	CHECK_EQ(f->nev, 3);
	FX_TRADE(f, 0, 1, 1005, 100, 1005, 2, 4, 0, 0);
	FX_OEV(f, 1, 4, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_OEV(f, 2, 2, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_BAL(f, 1, Q, 995, 0);
	FX_BAL(f, 1, B, 100, 0);
	CHECK(!fx_has_order(f, 2));
	check_queue(f, CORE_BUY, 1000, 2, (const int64_t[]) {1, 3});
	FX_VERIFY(f);
	fx_free(f);
}

/* 2.01 at 10.00 needs 2010 > 1000 available + 1000 own lock. */
TEST(amend_qty_up_rejected_for_funds_leaves_order_exactly_as_it_was)
{
	fx		   *f = bid_queue();

	fx_amend(f, 1, 2, 201, 0);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INSUFFICIENT_FUNDS);
	/* the answer carries the still-open order's figures */
	CHECK_EQ(f->r.order_id, 2);
	CHECK_EQ(f->r.filled_qty, 0);
	CHECK_EQ(f->r.remaining_qty, 100);
	CHECK_EQ(f->nev, 0);
	CHECK_EQ(fx_count(f, CORE_EV_TRADE), 0);
	check_o2_unchanged(f);
	FX_VERIFY(f);
	fx_free(f);
}

/* 1.00 at 20.01 needs 2001 > 2000: refused, still second in the 10.00 queue. */
TEST(amend_price_rejected_for_funds_leaves_order_exactly_as_it_was)
{
	fx		   *f = bid_queue();

	fx_amend(f, 1, 2, 0, 2001);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INSUFFICIENT_FUNDS);
	check_o2_unchanged(f);
	CHECK_EQ(fx_levels(f, S, CORE_BUY, NULL, 0), 1);
	FX_VERIFY(f);
	fx_free(f);
}

/* A crossing amend short of funds must not trade either. */
TEST(amend_crossing_price_rejected_for_funds_makes_no_trade)
{
	fx		   *f = bid_queue();

	fx_deposit(f, 4, B, 100);
	fx_limit(f, 4, S, CORE_SELL, 100, 2001, CORE_GTC);
	fx_amend(f, 1, 2, 0, 2001);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INSUFFICIENT_FUNDS);
	CHECK_EQ(fx_count(f, CORE_EV_TRADE), 0);
	check_o2_unchanged(f);
	FX_BAL(f, 4, B, 0, 100);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(amend_post_only_to_crossing_price_rejected_and_stays)
{
	fx		   *f = fx_simple(0, 0);
	core_rec_place p = fx_place_rec(1, S, CORE_BUY, 100, 1000, CORE_GTC);
	core_order_info o;

	fx_deposit(f, 1, Q, 5000);
	fx_deposit(f, 4, B, 100);
	p.post_only = true;
	fx_place_ex(f, &p);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 100);
	fx_limit(f, 4, S, CORE_SELL, 100, 1010, CORE_GTC);
	fx_amend(f, 1, 1, 0, 1010);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_POST_ONLY);
	CHECK_EQ(fx_count(f, CORE_EV_TRADE), 0);
	CHECK(core_order_get(f->c, 1, &o));
	CHECK_EQ(o.price, 1000);
	CHECK_EQ(o.remaining_qty, 100);
	CHECK_EQ(o.locked, 1000);
	CHECK(o.post_only);
	FX_BAL(f, 1, Q, 4000, 1000);
	FX_BAL(f, 4, B, 0, 100);
	FX_VERIFY(f);

	/* one tick short of the ask is fine */
	fx_amend(f, 1, 1, 0, 1009);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 100);
	FX_BAL(f, 1, Q, 5000 - 1009, 1009);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(amend_by_non_owner_refused_unknown_order_nothing_changed)
{
	fx		   *f = bid_queue();

	fx_amend(f, 2, 2, 50, 0);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_UNKNOWN_ORDER);
	CHECK_EQ(f->nev, 0);
	check_o2_unchanged(f);
	FX_BAL(f, 2, Q, 0, 1000);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(amend_unknown_order_id_refused)
{
	fx		   *f = bid_queue();

	fx_amend(f, 1, 99, 50, 0);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_UNKNOWN_ORDER);
	CHECK_EQ(f->nev, 0);
	check_o2_unchanged(f);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(amend_finished_order_refused_unknown_order)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 1000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_amend(f, 1, 1, 50, 0);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_UNKNOWN_ORDER);
	CHECK_EQ(f->nev, 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(amend_on_halted_symbol_refused)
{
	fx		   *f = bid_queue();

	fx_set_status(f, S, CORE_HALTED);
	fx_amend(f, 1, 2, 50, 0);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_HALTED);
	fx_amend(f, 1, 2, 0, 999);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_HALTED);
	check_o2_unchanged(f);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * A partly filled order: qty is the new remaining.  Filled 0.40 of 1.00,
 * amended to 0.30 remaining: qty 0.70, lock 300; then up to 0.80: lock 800.
 */
TEST(amend_partially_filled_qty_is_new_remaining)
{
	fx		   *f = fx_simple(0, 0);
	core_order_info o;

	fx_deposit(f, 1, Q, 1000);
	fx_deposit(f, 2, B, 40);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	fx_limit(f, 2, S, CORE_SELL, 40, 1000, CORE_GTC);
	FX_BAL(f, 1, Q, 0, 600);
	fx_amend(f, 1, 1, 30, 0);
	FX_RES(f, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 40, 30);
	FX_OEV(f, 0, 1, CORE_ST_AMENDED, CORE_R_NONE, 40, 30);
	CHECK_EQ(f->ev[0].u.order.qty, 70);
	CHECK(core_order_get(f->c, 1, &o));
	CHECK_EQ(o.qty, 70);
	CHECK_EQ(o.filled_qty, 40);
	CHECK_EQ(o.remaining_qty, 30);
	CHECK_EQ(o.locked, 300);
	FX_BAL(f, 1, Q, 300, 300);
	FX_VERIFY(f);

	fx_amend(f, 1, 1, 60, 0);
	FX_RES(f, CORE_ST_PARTIALLY_FILLED, CORE_R_NONE, 40, 60);
	CHECK(core_order_get(f->c, 1, &o));
	CHECK_EQ(o.qty, 100);
	CHECK_EQ(o.locked, 600);
	FX_BAL(f, 1, Q, 0, 600);
	fx_amend(f, 1, 1, 61, 0);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INSUFFICIENT_FUNDS);
	FX_BAL(f, 1, Q, 0, 600);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(amend_sell_qty_up_locks_more_base_down_releases)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 2, B, 150);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_amend(f, 2, 1, 150, 0);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 150);
	FX_BAL(f, 2, B, 0, 150);
	fx_amend(f, 2, 1, 151, 0);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INSUFFICIENT_FUNDS);
	FX_BAL(f, 2, B, 0, 150);
	fx_amend(f, 2, 1, 20, 0);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 20);
	FX_BAL(f, 2, B, 130, 20);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * The amended order keeps its stp: o2 (cancel_taker) repriced onto the
 * user's own ask expires with self_trade and leaves the book; the own ask
 * stays.
 */
TEST(amend_keeps_stp_cancel_taker_expires_on_own_order)
{
	fx		   *f = fx_simple(0, 0);
	core_rec_place p = fx_place_rec(1, S, CORE_BUY, 100, 1000, CORE_GTC);

	fx_deposit(f, 1, Q, 2000);
	fx_deposit(f, 1, B, 100);
	fx_limit(f, 1, S, CORE_SELL, 100, 1010, CORE_GTC);
	p.stp = CORE_STP_CANCEL_TAKER;
	fx_place_ex(f, &p);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 100);
	fx_amend(f, 1, 2, 0, 1010);
	FX_RES(f, CORE_ST_EXPIRED, CORE_R_SELF_TRADE, 0, 0);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 2, CORE_ST_EXPIRED, CORE_R_SELF_TRADE, 0, 0);
	CHECK(!fx_has_order(f, 2));
	CHECK(fx_has_order(f, 1));
	FX_BAL(f, 1, Q, 2000, 0);
	FX_BAL(f, 1, B, 0, 100);
	CHECK_EQ(fx_levels(f, S, CORE_BUY, NULL, 0), 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* The amended order keeps its client_order_id and order_id. */
TEST(amend_keeps_order_id_and_client_order_id)
{
	fx		   *f = fx_simple(0, 0);
	core_rec_place p = fx_place_rec(1, S, CORE_BUY, 100, 1000, CORE_GTC);
	core_order_info o;

	fx_deposit(f, 1, Q, 5000);
	strcpy(p.client_order_id, "c-42");
	fx_place_ex(f, &p);
	fx_amend(f, 1, 1, 200, 1001);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 200);
	CHECK_EQ(f->r.order_id, 1);
	CHECK(core_order_get(f->c, 1, &o));
	CHECK_STR(o.client_order_id, "c-42");
	CHECK_EQ(o.price, 1001);
	CHECK_EQ(o.locked, 2002);
	CHECK_EQ(core_get_counters(f->c).next_order_id, 2);
	FX_VERIFY(f);
	fx_free(f);
}

/* An amend must fit the symbol's tick and lot like a new order. */
TEST(amend_off_tick_price_or_off_lot_qty_rejected_invalid)
{
	fx		   *f = fx_new();
	core_order_info o;

	fx_asset(f, "AAA", 2);
	fx_asset(f, "QQQ", 2);
	CHECK_EQ(fx_symbol(f, "AAA_QQQ", 1, 2, 5, 10, 0, 0, 0), 1);
	fx_deposit(f, 1, 2, 10000);
	fx_limit(f, 1, 1, CORE_BUY, 100, 1000, CORE_GTC);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 100);
	fx_amend(f, 1, 1, 0, 1003);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	fx_amend(f, 1, 1, 55, 0);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	CHECK(core_order_get(f->c, 1, &o));
	CHECK_EQ(o.price, 1000);
	CHECK_EQ(o.remaining_qty, 100);
	FX_BAL(f, 1, 2, 9000, 1000);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * The amended order keeps stp cancel_maker: repriced onto the user's own
 * ask (o1) with another user's ask behind it (o2), it cancels o1 and trades
 * with o2.
 */
TEST(amend_keeps_stp_cancel_maker_cancels_own_and_trades_on)
{
	fx		   *f = fx_simple(0, 0);
	core_rec_place p = fx_place_rec(1, S, CORE_BUY, 100, 1000, CORE_GTC);

	fx_deposit(f, 1, Q, 2000);
	fx_deposit(f, 1, B, 100);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 1, S, CORE_SELL, 100, 1010, CORE_GTC);
	fx_limit(f, 2, S, CORE_SELL, 100, 1010, CORE_GTC);
	p.stp = CORE_STP_CANCEL_MAKER;
	fx_place_ex(f, &p);
	fx_amend(f, 1, 3, 0, 1010);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	CHECK_EQ(f->nev, 4);
	FX_OEV(f, 0, 1, CORE_ST_CANCELED, CORE_R_SELF_TRADE, 0, 0);
	FX_TRADE(f, 1, 1, 1010, 100, 1010, 3, 2, 0, 0);
	FX_OEV(f, 2, 2, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_OEV(f, 3, 3, CORE_ST_FILLED, CORE_R_NONE, 100, 0);
	FX_BAL(f, 1, Q, 990, 0);
	FX_BAL(f, 1, B, 200, 0);
	FX_BAL(f, 2, Q, 1010, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* With the order pool full, an amend up or a reprice still works. */
TEST(amend_works_when_order_pool_is_full)
{
	core_limits l = fx_default_limits();
	fx		   *f;

	l.max_orders = 2;
	f = fx_new_limits(&l);
	fx_asset(f, "AAA", 2);
	fx_asset(f, "QQQ", 2);
	fx_symbol(f, "AAA_QQQ", 1, 2, 1, 1, 0, 0, 0);
	fx_deposit(f, 1, 2, 10000);
	fx_limit(f, 1, 1, CORE_BUY, 100, 1000, CORE_GTC);
	fx_limit(f, 1, 1, CORE_BUY, 100, 990, CORE_GTC);
	fx_amend(f, 1, 1, 200, 0);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 200);
	fx_amend(f, 1, 2, 0, 995);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 100);
	FX_BAL(f, 1, 2, 10000 - 2000 - 995, 2995);
	FX_VERIFY(f);
	fx_free(f);
}
