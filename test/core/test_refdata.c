/*
 * test_refdata.c — assets, symbols and their status; the arena and its
 * capacities: every full pool refuses with reason capacity and changes
 * nothing.
 */
#include <stdlib.h>

#include "fixture.h"

#define B FX_BASE
#define Q FX_QUOTE
#define S FX_SYM

/* ----------------------------------------------------------------- assets */

TEST(refdata_asset_ids_count_from_one_and_lookup)
{
	fx		   *f = fx_new();
	core_asset_info a;

	CHECK_EQ(fx_asset(f, "BTC", 8), 1);
	CHECK_EQ(f->nev, 0);
	CHECK_EQ(fx_asset(f, "USDT", 6), 2);
	CHECK(core_asset_get(f->c, 1, &a));
	CHECK_EQ(a.id, 1);
	CHECK_STR(a.code, "BTC");
	CHECK_EQ(a.decimals, 8);
	CHECK_EQ(a.supply, 0);
	CHECK(core_asset_get(f->c, 2, &a));
	CHECK_STR(a.code, "USDT");
	CHECK_EQ(a.decimals, 6);
	CHECK(!core_asset_get(f->c, 3, &a));
	CHECK(!core_asset_get(f->c, 0, &a));
	CHECK_EQ(core_asset_find(f->c, "USDT"), 2);
	CHECK_EQ(core_asset_find(f->c, "BTC"), 1);
	CHECK_EQ(core_asset_find(f->c, "ETH"), 0);
	CHECK_EQ(core_get_counters(f->c).assets, 2);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(refdata_duplicate_asset_code_rejected)
{
	fx		   *f = fx_new();
	core_asset_info a;

	CHECK_EQ(fx_asset(f, "BTC", 8), 1);
	fx_asset(f, "BTC", 2);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_DUPLICATE_ASSET);
	CHECK_EQ(core_get_counters(f->c).assets, 1);
	CHECK(core_asset_get(f->c, 1, &a));
	CHECK_EQ(a.decimals, 8);
	/* the next asset still gets id 2 */
	CHECK_EQ(fx_asset(f, "ETH", 18), 2);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(refdata_asset_codes_are_case_sensitive)
{
	fx		   *f = fx_new();

	CHECK_EQ(fx_asset(f, "BTC", 8), 1);
	CHECK_EQ(fx_asset(f, "btc", 8), 2);
	CHECK_EQ(core_asset_find(f->c, "btc"), 2);
	CHECK_EQ(core_asset_find(f->c, "Btc"), 0);
	fx_free(f);
}

TEST(refdata_asset_decimals_0_to_18_only)
{
	fx		   *f = fx_new();

	CHECK_EQ(fx_asset(f, "ZERO", 0), 1);
	CHECK_EQ(fx_asset(f, "WEI", 18), 2);
	CHECK_EQ(fx_asset(f, "BAD", 19), 0);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	CHECK_EQ(core_asset_find(f->c, "BAD"), 0);
	CHECK_EQ(core_get_counters(f->c).assets, 2);
	fx_free(f);
}

TEST(refdata_empty_asset_code_rejected_invalid)
{
	fx		   *f = fx_new();

	CHECK_EQ(fx_asset(f, "", 2), 0);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	CHECK_EQ(core_get_counters(f->c).assets, 0);
	fx_free(f);
}

/* ---------------------------------------------------------------- symbols */

TEST(refdata_symbol_created_with_every_field)
{
	fx		   *f = fx_new();
	core_symbol_info s;

	fx_asset(f, "BTC", 8);
	fx_asset(f, "USDT", 6);
	CHECK_EQ(fx_symbol(f, "BTC_USDT", 1, 2, 10000, 100, 1000, 1000, 2500), 1);
	CHECK_EQ(f->nev, 0);
	CHECK(core_symbol_get(f->c, 1, &s));
	CHECK_EQ(s.id, 1);
	CHECK_STR(s.name, "BTC_USDT");
	CHECK_EQ(s.base_asset, 1);
	CHECK_EQ(s.quote_asset, 2);
	CHECK_EQ(s.tick_size, 10000);
	CHECK_EQ(s.lot_size, 100);
	CHECK_EQ(s.min_qty, 1000);
	CHECK_EQ(s.maker_fee_ppm, 1000);
	CHECK_EQ(s.taker_fee_ppm, 2500);
	CHECK_EQ(s.status, CORE_TRADING);
	CHECK_EQ(core_symbol_find(f->c, "BTC_USDT"), 1);
	CHECK_EQ(core_symbol_find(f->c, "btc_usdt"), 0);
	CHECK(!core_symbol_get(f->c, 2, &s));
	CHECK_EQ(core_get_counters(f->c).symbols, 1);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(refdata_duplicate_symbol_name_rejected)
{
	fx		   *f = fx_simple(0, 0);
	core_symbol_info s;

	CHECK_EQ(fx_symbol(f, "AAA_QQQ", B, Q, 5, 5, 0, 0, 0), 0);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_DUPLICATE_SYMBOL);
	CHECK_EQ(core_get_counters(f->c).symbols, 1);
	CHECK(core_symbol_get(f->c, 1, &s));
	CHECK_EQ(s.tick_size, 1);
	/* another name over the same pair is a different symbol */
	CHECK_EQ(fx_symbol(f, "AAA_QQQ_2", B, Q, 5, 5, 0, 0, 0), 2);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(refdata_symbol_with_unknown_asset_rejected)
{
	fx		   *f = fx_simple(0, 0);

	CHECK_EQ(fx_symbol(f, "AAA_ZZZ", B, 7, 1, 1, 0, 0, 0), 0);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_UNKNOWN_ASSET);
	CHECK_EQ(fx_symbol(f, "ZZZ_QQQ", 7, Q, 1, 1, 0, 0, 0), 0);
	CHECK_EQ(f->r.reason, CORE_R_UNKNOWN_ASSET);
	CHECK_EQ(core_symbol_find(f->c, "AAA_ZZZ"), 0);
	CHECK_EQ(core_get_counters(f->c).symbols, 1);
	fx_free(f);
}

/* tick and lot positive, fee rates 0 <= ppm < 10^6, min_qty >= 0. */
TEST(refdata_symbol_bad_parameters_rejected_invalid)
{
	fx		   *f = fx_simple(0, 0);

	CHECK_EQ(fx_symbol(f, "T0", B, Q, 0, 1, 0, 0, 0), 0);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	CHECK_EQ(fx_symbol(f, "L0", B, Q, 1, 0, 0, 0, 0), 0);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	CHECK_EQ(fx_symbol(f, "LN", B, Q, 1, -1, 0, 0, 0), 0);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	CHECK_EQ(fx_symbol(f, "FM", B, Q, 1, 1, 0, 1000000, 0), 0);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	CHECK_EQ(fx_symbol(f, "FT", B, Q, 1, 1, 0, 0, -1), 0);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	CHECK_EQ(fx_symbol(f, "MQ", B, Q, 1, 1, -1, 0, 0), 0);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	CHECK_EQ(fx_symbol(f, "", B, Q, 1, 1, 0, 0, 0), 0);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	CHECK_EQ(core_get_counters(f->c).symbols, 1);
	/* the largest legal rate */
	CHECK_EQ(fx_symbol(f, "FMAX", B, Q, 1, 1, 0, 999999, 999999), 2);
	fx_free(f);
}

TEST(refdata_set_symbol_status_round_trip)
{
	fx		   *f = fx_simple(0, 0);
	core_symbol_info s;

	fx_set_status(f, S, CORE_HALTED);
	CHECK_EQ(f->r.status, CORE_ST_OK);
	CHECK_EQ(f->nev, 0);
	CHECK(core_symbol_get(f->c, S, &s));
	CHECK_EQ(s.status, CORE_HALTED);
	fx_set_status(f, S, CORE_TRADING);
	CHECK(core_symbol_get(f->c, S, &s));
	CHECK_EQ(s.status, CORE_TRADING);
	fx_set_status(f, S, (core_symbol_status) 7);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	CHECK(core_symbol_get(f->c, S, &s));
	CHECK_EQ(s.status, CORE_TRADING);
	fx_free(f);
}

/* ------------------------------------------------------------------ arena */

TEST(refdata_arena_size_zero_for_zero_limit_and_create_refuses_small_buffer)
{
	core_limits l = fx_default_limits();
	core_limits z = l;
	size_t		need = core_arena_size(&l);
	void	   *mem;

	CHECK(need > 0);
	z.max_orders = 0;
	CHECK_EQ(core_arena_size(&z), 0);
	z = l;
	z.max_accounts = 0;
	CHECK_EQ(core_arena_size(&z), 0);
	mem = malloc(need);
	CHECK(core_create(mem, need - 1, &l) == NULL);
	CHECK(core_create(mem, need, &l) != NULL);
	free(mem);
}

TEST(refdata_get_limits_returns_create_limits)
{
	core_limits l = {.max_assets = 3, .max_symbols = 2, .max_accounts = 5,
	.max_balances = 11, .max_orders = 7};
	fx		   *f = fx_new_limits(&l);
	core_limits g = core_get_limits(f->c);
	core_counters k = core_get_counters(f->c);

	CHECK_EQ(g.max_assets, 3);
	CHECK_EQ(g.max_symbols, 2);
	CHECK_EQ(g.max_accounts, 5);
	CHECK_EQ(g.max_balances, 11);
	CHECK_EQ(g.max_orders, 7);
	CHECK_EQ(k.seq, 0);
	CHECK_EQ(k.next_order_id, 1);
	CHECK_EQ(k.next_trade_id, 1);
	CHECK_EQ(k.orders, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* -------------------------------------------------------------- capacity */

static core_limits
small_limits(void)
{
	core_limits l = {.max_assets = 4, .max_symbols = 2, .max_accounts = 8,
	.max_balances = 32, .max_orders = 16};

	return l;
}

TEST(capacity_assets_full_rejected)
{
	core_limits l = small_limits();
	fx		   *f;

	l.max_assets = 2;
	f = fx_new_limits(&l);
	CHECK_EQ(fx_asset(f, "A", 0), 1);
	CHECK_EQ(fx_asset(f, "B", 0), 2);
	CHECK_EQ(fx_asset(f, "C", 0), 0);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_CAPACITY);
	CHECK_EQ(core_asset_find(f->c, "C"), 0);
	CHECK_EQ(core_get_counters(f->c).assets, 2);
	CHECK_EQ(core_get_counters(f->c).balances, 2);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(capacity_symbols_full_rejected)
{
	core_limits l = small_limits();
	fx		   *f;

	l.max_symbols = 1;
	f = fx_new_limits(&l);
	fx_asset(f, "A", 0);
	fx_asset(f, "B", 0);
	CHECK_EQ(fx_symbol(f, "A_B", 1, 2, 1, 1, 0, 0, 0), 1);
	CHECK_EQ(fx_symbol(f, "B_A", 2, 1, 1, 1, 0, 0, 0), 0);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_CAPACITY);
	CHECK_EQ(core_symbol_find(f->c, "B_A"), 0);
	CHECK_EQ(core_get_counters(f->c).symbols, 1);
	FX_VERIFY(f);
	fx_free(f);
}

/* max_accounts counts the fee account: 2 leaves room for one user. */
TEST(capacity_accounts_full_deposit_rejected)
{
	core_limits l = small_limits();
	fx		   *f;
	core_asset_info a;

	l.max_accounts = 2;
	f = fx_new_limits(&l);
	fx_asset(f, "A", 0);
	fx_deposit(f, 1, 1, 100);
	CHECK_EQ(f->r.status, CORE_ST_OK);
	fx_deposit(f, 2, 1, 100);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_CAPACITY);
	CHECK_EQ(fx_avail(f, 2, 1), -1);
	CHECK_EQ(core_get_counters(f->c).accounts, 2);
	CHECK(core_asset_get(f->c, 1, &a));
	CHECK_EQ(a.supply, 100);
	/* an existing account still takes deposits */
	fx_deposit(f, 1, 1, 5);
	CHECK_EQ(f->r.status, CORE_ST_OK);
	FX_BAL(f, 1, 1, 105, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* Two assets use two rows for user 0; two more for user 1 fill 4. */
TEST(capacity_balances_full_deposit_rejected)
{
	core_limits l = small_limits();
	fx		   *f;

	l.max_assets = 2;
	l.max_balances = 4;
	f = fx_new_limits(&l);
	fx_asset(f, "A", 0);
	fx_asset(f, "B", 0);
	fx_deposit(f, 1, 1, 10);
	fx_deposit(f, 1, 2, 10);
	CHECK_EQ(f->r.status, CORE_ST_OK);
	CHECK_EQ(core_get_counters(f->c).balances, 4);
	fx_deposit(f, 2, 1, 10);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_CAPACITY);
	CHECK_EQ(core_get_counters(f->c).accounts, 2);
	CHECK_EQ(core_get_counters(f->c).balances, 4);
	CHECK_EQ(fx_avail(f, 2, 1), -1);
	fx_deposit(f, 1, 1, 10);
	CHECK_EQ(f->r.status, CORE_ST_OK);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * Creating an asset needs a row for user 0: with the balance pool filled by
 * a user's row, a new asset is refused.
 */
TEST(capacity_balances_full_create_asset_rejected)
{
	core_limits l = small_limits();
	fx		   *f;

	l.max_assets = 2;
	l.max_balances = 2;
	f = fx_new_limits(&l);
	CHECK_EQ(fx_asset(f, "A", 0), 1);
	fx_deposit(f, 1, 1, 10);
	CHECK_EQ(f->r.status, CORE_ST_OK);
	CHECK_EQ(fx_asset(f, "B", 0), 0);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_CAPACITY);
	CHECK_EQ(core_get_counters(f->c).assets, 1);
	CHECK_EQ(core_get_counters(f->c).balances, 2);
	CHECK_EQ(core_asset_find(f->c, "B"), 0);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * Placing needs a base and a quote row for the user: with the pool full, a
 * user holding only quote cannot buy (capacity), and nothing changes.
 */
TEST(capacity_balances_full_place_rejected)
{
	core_limits l = small_limits();
	fx		   *f;

	l.max_assets = 2;
	l.max_balances = 3;
	f = fx_new_limits(&l);
	fx_asset(f, "A", 2);
	fx_asset(f, "Q", 2);
	fx_symbol(f, "A_Q", 1, 2, 1, 1, 0, 0, 0);
	fx_deposit(f, 1, 2, 1000);
	fx_limit(f, 1, 1, CORE_BUY, 10, 1000, CORE_GTC);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_CAPACITY);
	CHECK_EQ(f->r.order_id, 1);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 1, CORE_ST_REJECTED, CORE_R_CAPACITY, 0, 0);
	FX_BAL(f, 1, 2, 1000, 0);
	CHECK_EQ(fx_avail(f, 1, 1), -1);
	CHECK_EQ(core_get_counters(f->c).orders, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * Order pool of 2, both used by asks.  Only an order whose remainder would
 * rest needs a slot: such a gtc order (and a post-only one) is refused with
 * capacity before it trades, even when its own fills would free a slot; a
 * gtc order that fills completely on arrival trades, like ioc, fok and
 * market orders.
 */
TEST(capacity_orders_full_refuses_only_a_resting_remainder)
{
	core_limits l = small_limits();
	fx		   *f;
	int64_t		ids[4];
	core_rec_place p;

	l.max_orders = 2;
	f = fx_new_limits(&l);
	fx_asset(f, "AAA", 2);
	fx_asset(f, "QQQ", 2);
	fx_symbol(f, "AAA_QQQ", 1, 2, 1, 1, 0, 0, 0);
	fx_deposit(f, 1, 2, 10000);
	fx_deposit(f, 2, 1, 300);
	fx_limit(f, 2, 1, CORE_SELL, 100, 1000, CORE_GTC);	/* order 1 */
	fx_limit(f, 2, 1, CORE_SELL, 100, 1010, CORE_GTC);	/* order 2 */
	CHECK_EQ(core_get_counters(f->c).orders, 2);

	fx_limit(f, 2, 1, CORE_SELL, 100, 1020, CORE_GTC);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_CAPACITY, 0, 0);
	FX_BAL(f, 2, 1, 100, 200);

	fx_limit(f, 1, 1, CORE_BUY, 50, 990, CORE_GTC);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_CAPACITY, 0, 0);
	CHECK_EQ(f->r.order_id, 4);
	CHECK_EQ(f->nev, 1);

	/* 150 @ 10.00 would take 100 and rest 50: refused, nothing traded */
	fx_limit(f, 1, 1, CORE_BUY, 150, 1000, CORE_GTC);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_CAPACITY, 0, 0);
	CHECK_EQ(fx_count(f, CORE_EV_TRADE), 0);
	FX_BAL(f, 1, 2, 10000, 0);
	CHECK_EQ(fx_level_ids(f, 1, CORE_SELL, 1000, ids, 4), 1);
	CHECK_EQ(core_get_counters(f->c).next_trade_id, 1);

	p = fx_place_rec(1, 1, CORE_BUY, 10, 1000, CORE_GTC);
	p.post_only = true;
	fx_place_ex(f, &p);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_CAPACITY, 0, 0);
	FX_VERIFY(f);

	/* 50 @ 10.00 fills completely: it needs no slot and trades */
	fx_limit(f, 1, 1, CORE_BUY, 50, 1000, CORE_GTC);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 50, 0);
	FX_TRADE(f, 0, 1, 1000, 50, 500, 7, 1, 0, 0);
	fx_limit(f, 1, 1, CORE_BUY, 10, 1000, CORE_IOC);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 10, 0);
	fx_limit(f, 1, 1, CORE_BUY, 10, 1000, CORE_FOK);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 10, 0);
	fx_market(f, 1, 1, CORE_BUY, 10, 0);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 10, 0);
	FX_BAL(f, 1, 2, 10000 - 800, 0);
	FX_BAL(f, 1, 1, 80, 0);
	FX_BAL(f, 2, 1, 100, 120);
	FX_BAL(f, 2, 2, 800, 0);
	CHECK_EQ(core_get_counters(f->c).orders, 2);
	FX_VERIFY(f);

	/*
	 * 30 @ 10.00: its fill takes the last 20 of order 1, which frees a slot,
	 * but the remainder of 10 would rest, so it is refused before trading.
	 */
	fx_limit(f, 1, 1, CORE_BUY, 30, 1000, CORE_GTC);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_CAPACITY, 0, 0);
	CHECK_EQ(fx_count(f, CORE_EV_TRADE), 0);
	FX_BAL(f, 2, 1, 100, 120);

	/* a freed slot can be used again */
	fx_cancel(f, 2, 2);
	CHECK_EQ(f->r.status, CORE_ST_CANCELED);
	fx_limit(f, 1, 1, CORE_BUY, 50, 990, CORE_GTC);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 50);
	FX_VERIFY(f);
	fx_free(f);
}
