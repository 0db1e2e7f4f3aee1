/*
 * test_cancel.c — cancel by id (owner only, releases the exact lock) and
 * cancel_all (every symbol or one, in order-id order, with a count).
 *
 * Market: fx_simple() — 2-decimal AAA/QQQ, 1.00 AAA at 10.00 = 1000 quote.
 */
#include "fixture.h"

#define B FX_BASE
#define Q FX_QUOTE
#define S FX_SYM

TEST(cancel_own_resting_order_releases_lock)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 1500);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	FX_BAL(f, 1, Q, 500, 1000);
	fx_cancel(f, 1, 1);
	FX_RES(f, CORE_ST_CANCELED, CORE_R_NONE, 0, 0);
	CHECK_EQ(f->r.order_id, 1);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 1, CORE_ST_CANCELED, CORE_R_NONE, 0, 0);
	CHECK_EQ(f->ev[0].u.order.user_id, 1);
	CHECK_EQ(f->ev[0].u.order.price, 1000);
	FX_BAL(f, 1, Q, 1500, 0);
	CHECK(!fx_has_order(f, 1));
	CHECK_EQ(fx_levels(f, S, CORE_BUY, NULL, 0), 0);
	CHECK_EQ(core_get_counters(f->c).orders, 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(cancel_partially_filled_order_keeps_filled_qty)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 1000);
	fx_deposit(f, 2, B, 40);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	fx_limit(f, 2, S, CORE_SELL, 40, 1000, CORE_GTC);
	fx_cancel(f, 1, 1);
	FX_RES(f, CORE_ST_CANCELED, CORE_R_NONE, 40, 0);
	CHECK_EQ(f->r.avg_price, 1000);
	FX_OEV(f, 0, 1, CORE_ST_CANCELED, CORE_R_NONE, 40, 0);
	FX_BAL(f, 1, Q, 600, 0);
	FX_BAL(f, 1, B, 40, 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(cancel_sell_returns_base)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 2, B, 300);
	fx_limit(f, 2, S, CORE_SELL, 120, 1000, CORE_GTC);
	FX_BAL(f, 2, B, 180, 120);
	fx_cancel(f, 2, 1);
	FX_RES(f, CORE_ST_CANCELED, CORE_R_NONE, 0, 0);
	FX_BAL(f, 2, B, 300, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* Three bids at one price; canceling the middle one keeps the others' order. */
TEST(cancel_middle_of_level_keeps_fifo_of_others)
{
	fx		   *f = fx_simple(0, 0);
	int64_t		ids[4];
	core_level_info lv[2];

	for (int u = 1; u <= 3; u++)
	{
		fx_deposit(f, u, Q, 1000);
		fx_limit(f, u, S, CORE_BUY, 100, 1000, CORE_GTC);
	}
	fx_cancel(f, 2, 2);
	CHECK_EQ(f->r.status, CORE_ST_CANCELED);
	CHECK_EQ(fx_level_ids(f, S, CORE_BUY, 1000, ids, 4), 2);
	CHECK_EQ(ids[0], 1);
	CHECK_EQ(ids[1], 3);
	CHECK_EQ(fx_levels(f, S, CORE_BUY, lv, 2), 1);
	CHECK_EQ(fx_level_qty(&lv[0]), 200);
	CHECK_EQ(lv[0].orders, 2);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(cancel_by_non_owner_refused_unknown_order_nothing_changed)
{
	fx		   *f = fx_simple(0, 0);
	core_order_info o;

	fx_deposit(f, 1, Q, 1000);
	fx_deposit(f, 2, Q, 1000);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	fx_cancel(f, 2, 1);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_UNKNOWN_ORDER);
	CHECK_EQ(f->nev, 0);
	CHECK(core_order_get(f->c, 1, &o));
	CHECK_EQ(o.user_id, 1);
	CHECK_EQ(o.remaining_qty, 100);
	CHECK_EQ(o.locked, 1000);
	FX_BAL(f, 1, Q, 0, 1000);
	FX_BAL(f, 2, Q, 1000, 0);
	CHECK_EQ(fx_levels(f, S, CORE_BUY, NULL, 0), 1);
	FX_VERIFY(f);
	fx_free(f);
}

/* The reason is the same whether or not the order exists. */
TEST(cancel_unknown_order_id_refused_same_reason)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 1000);
	fx_cancel(f, 1, 12345);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_UNKNOWN_ORDER);
	CHECK_EQ(f->nev, 0);
	FX_BAL(f, 1, Q, 1000, 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(cancel_filled_order_refused_unknown_order)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 1000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 2, S, CORE_SELL, 100, 1000, CORE_GTC);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	fx_cancel(f, 2, 1);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_UNKNOWN_ORDER);
	fx_cancel(f, 1, 2);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_UNKNOWN_ORDER);
	CHECK_EQ(f->nev, 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(cancel_twice_second_refused)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 1000);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	fx_cancel(f, 1, 1);
	CHECK_EQ(f->r.status, CORE_ST_CANCELED);
	fx_cancel(f, 1, 1);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_UNKNOWN_ORDER);
	CHECK_EQ(f->nev, 0);
	FX_BAL(f, 1, Q, 1000, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* A rejected place has an id but never rested: cancel refuses it. */
TEST(cancel_rejected_order_refused)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 10);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	fx_cancel(f, 1, 1);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_UNKNOWN_ORDER);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * Two symbols.  o1 u1 S1 bid, o2 u2 S1 ask, o3 u1 S2 bid, o4 u1 S1 bid,
 * o5 u2 S2 ask.
 */
static fx *
two_books(uint32_t *s2)
{
	fx		   *f = fx_simple(0, 0);
	uint32_t	c = fx_asset(f, "CCC", 2);

	*s2 = fx_symbol(f, "CCC_QQQ", c, Q, 1, 1, 0, 0, 0);
	CHECK_EQ(*s2, 2);
	fx_deposit(f, 1, Q, 10000);
	fx_deposit(f, 2, B, 100);
	fx_deposit(f, 2, c, 100);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	fx_limit(f, 2, S, CORE_SELL, 100, 1100, CORE_GTC);
	fx_limit(f, 1, *s2, CORE_BUY, 100, 500, CORE_GTC);
	fx_limit(f, 1, S, CORE_BUY, 100, 990, CORE_GTC);
	fx_limit(f, 2, *s2, CORE_SELL, 100, 600, CORE_GTC);
	FX_BAL(f, 1, Q, 10000 - 1000 - 500 - 990, 2490);
	return f;
}

TEST(cancel_all_every_symbol_in_order_id_order)
{
	uint32_t	s2;
	fx		   *f = two_books(&s2);

	fx_cancel_all(f, 1, 0);
	CHECK_EQ(f->r.status, CORE_ST_OK);
	CHECK_EQ(f->r.canceled, 3);
	CHECK_EQ(f->nev, 3);
	FX_OEV(f, 0, 1, CORE_ST_CANCELED, CORE_R_NONE, 0, 0);
	FX_OEV(f, 1, 3, CORE_ST_CANCELED, CORE_R_NONE, 0, 0);
	FX_OEV(f, 2, 4, CORE_ST_CANCELED, CORE_R_NONE, 0, 0);
	FX_BAL(f, 1, Q, 10000, 0);
	CHECK(!fx_has_order(f, 1));
	CHECK(!fx_has_order(f, 3));
	CHECK(!fx_has_order(f, 4));
	CHECK(fx_has_order(f, 2));
	CHECK(fx_has_order(f, 5));
	CHECK_EQ(core_get_counters(f->c).orders, 2);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(cancel_all_one_symbol_only)
{
	uint32_t	s2;
	fx		   *f = two_books(&s2);

	fx_cancel_all(f, 1, S);
	CHECK_EQ(f->r.status, CORE_ST_OK);
	CHECK_EQ(f->r.canceled, 2);
	CHECK_EQ(f->nev, 2);
	FX_OEV(f, 0, 1, CORE_ST_CANCELED, CORE_R_NONE, 0, 0);
	FX_OEV(f, 1, 4, CORE_ST_CANCELED, CORE_R_NONE, 0, 0);
	CHECK(fx_has_order(f, 3));
	FX_BAL(f, 1, Q, 9500, 500);
	FX_VERIFY(f);

	fx_cancel_all(f, 1, s2);
	CHECK_EQ(f->r.canceled, 1);
	FX_OEV(f, 0, 3, CORE_ST_CANCELED, CORE_R_NONE, 0, 0);
	FX_BAL(f, 1, Q, 10000, 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(cancel_all_with_no_orders_cancels_zero)
{
	uint32_t	s2;
	fx		   *f = two_books(&s2);

	fx_cancel_all(f, 3, 0);
	CHECK_EQ(f->r.status, CORE_ST_OK);
	CHECK_EQ(f->r.canceled, 0);
	CHECK_EQ(f->nev, 0);
	CHECK_EQ(core_get_counters(f->c).orders, 5);
	FX_VERIFY(f);
	fx_free(f);
}

/* Open orders of a user come in order-id order, filtered by symbol. */
static bool
collect_ids(void *ctx, const core_order_info *o)
{
	int64_t    *ids = ctx;

	ids[++ids[0]] = o->order_id;
	return ids[0] < 15;
}

TEST(cancel_user_orders_iterator_in_order_id_order)
{
	uint32_t	s2;
	fx		   *f = two_books(&s2);
	int64_t		ids[16] = {0};

	core_user_orders(f->c, 1, 0, collect_ids, ids);
	CHECK_EQ(ids[0], 3);
	CHECK_EQ(ids[1], 1);
	CHECK_EQ(ids[2], 3);
	CHECK_EQ(ids[3], 4);
	memset(ids, 0, sizeof(ids));
	core_user_orders(f->c, 1, S, collect_ids, ids);
	CHECK_EQ(ids[0], 2);
	CHECK_EQ(ids[1], 1);
	CHECK_EQ(ids[2], 4);
	fx_free(f);
}

/*
 * The canceled event carries the order's size like every other order
 * event: 1.00 ordered, 0.40 filled, so qty 100 (not 40).  engine.order
 * answers finished orders from these events.
 */
TEST(cancel_event_qty_is_order_size_not_filled_qty)
{
	fx		   *f = fx_simple(0, 0);
	core_order_info o;

	fx_deposit(f, 1, Q, 1000);
	fx_deposit(f, 2, B, 40);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	fx_limit(f, 2, S, CORE_SELL, 40, 1000, CORE_GTC);
	CHECK(core_order_get(f->c, 1, &o));
	CHECK_EQ(o.qty, 100);
	fx_cancel(f, 1, 1);
	FX_OEV(f, 0, 1, CORE_ST_CANCELED, CORE_R_NONE, 40, 0);
	CHECK_EQ(f->ev[0].u.order.qty, 100);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(cancel_all_works_on_halted_symbol)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, Q, 3000);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	fx_limit(f, 1, S, CORE_BUY, 100, 999, CORE_GTC);
	fx_set_status(f, S, CORE_HALTED);
	fx_cancel_all(f, 1, S);
	CHECK_EQ(f->r.canceled, 2);
	FX_BAL(f, 1, Q, 3000, 0);
	FX_VERIFY(f);
	fx_free(f);
}
