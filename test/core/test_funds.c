/*
 * test_funds.c — deposits and withdrawals: accounts appear on first
 * deposit, withdraw takes from available only, supply never overflows,
 * refusals change nothing.
 */
#include "fixture.h"

#define B FX_BASE
#define Q FX_QUOTE
#define S FX_SYM

TEST(funds_fee_account_exists_from_start_with_row_per_asset)
{
	fx		   *f = fx_new();
	core_counters k = core_get_counters(f->c);
	core_balance_info b;

	CHECK_EQ(k.accounts, 1);
	CHECK_EQ(k.balances, 0);
	CHECK_EQ(fx_asset(f, "AAA", 2), 1);
	CHECK_EQ(fx_asset(f, "QQQ", 2), 2);
	k = core_get_counters(f->c);
	CHECK_EQ(k.accounts, 1);
	CHECK_EQ(k.balances, 2);
	CHECK(core_balance_get(f->c, 0, 1, &b));
	CHECK_EQ(b.user_id, 0);
	CHECK_EQ(b.asset, 1);
	CHECK_EQ(b.available, 0);
	CHECK_EQ(b.frozen, 0);
	FX_BAL(f, 0, 2, 0, 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(funds_deposit_creates_account_and_balance)
{
	fx		   *f = fx_simple(0, 0);
	core_counters k;
	core_asset_info a;

	CHECK_EQ(fx_avail(f, 1, B), -1);
	fx_deposit(f, 1, B, 500);
	CHECK_EQ(f->r.status, CORE_ST_OK);
	CHECK_EQ(f->r.reason, CORE_R_NONE);
	CHECK_EQ(f->r.available, 500);
	CHECK_EQ(f->r.frozen, 0);
	CHECK_EQ(f->nev, 0);
	FX_BAL(f, 1, B, 500, 0);
	k = core_get_counters(f->c);
	CHECK_EQ(k.accounts, 2);
	CHECK_EQ(k.balances, 3);
	CHECK(core_asset_get(f->c, B, &a));
	CHECK_EQ(a.supply, 500);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(funds_deposits_accumulate)
{
	fx		   *f = fx_simple(0, 0);
	core_asset_info a;

	fx_deposit(f, 1, B, 500);
	fx_deposit(f, 1, B, 250);
	CHECK_EQ(f->r.available, 750);
	fx_deposit(f, 2, B, 1);
	FX_BAL(f, 1, B, 750, 0);
	FX_BAL(f, 2, B, 1, 0);
	CHECK(core_asset_get(f->c, B, &a));
	CHECK_EQ(a.supply, 751);
	CHECK_EQ(core_get_counters(f->c).accounts, 3);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(funds_withdraw_reduces_available_and_supply)
{
	fx		   *f = fx_simple(0, 0);
	core_asset_info a;

	fx_deposit(f, 1, B, 500);
	fx_withdraw(f, 1, B, 120);
	CHECK_EQ(f->r.status, CORE_ST_OK);
	CHECK_EQ(f->r.available, 380);
	CHECK_EQ(f->r.frozen, 0);
	FX_BAL(f, 1, B, 380, 0);
	CHECK(core_asset_get(f->c, B, &a));
	CHECK_EQ(a.supply, 380);
	fx_withdraw(f, 1, B, 380);
	CHECK_EQ(f->r.status, CORE_ST_OK);
	FX_BAL(f, 1, B, 0, 0);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(funds_withdraw_above_available_rejected_nothing_changed)
{
	fx		   *f = fx_simple(0, 0);
	core_asset_info a;

	fx_deposit(f, 1, B, 500);
	fx_withdraw(f, 1, B, 501);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INSUFFICIENT_FUNDS);
	CHECK_EQ(f->r.available, 500);
	CHECK_EQ(f->r.frozen, 0);
	CHECK_EQ(f->nev, 0);
	FX_BAL(f, 1, B, 500, 0);
	CHECK(core_asset_get(f->c, B, &a));
	CHECK_EQ(a.supply, 500);
	FX_VERIFY(f);
	fx_free(f);
}

/* 10.00 quote, 6.00 locked by a bid: only the 4.00 available can leave. */
TEST(funds_withdraw_takes_from_available_only_not_frozen)
{
	fx		   *f = fx_simple(0, 0);
	core_asset_info a;

	fx_deposit(f, 1, Q, 1000);
	fx_limit(f, 1, S, CORE_BUY, 60, 1000, CORE_GTC);
	FX_BAL(f, 1, Q, 400, 600);
	fx_withdraw(f, 1, Q, 401);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INSUFFICIENT_FUNDS);
	FX_BAL(f, 1, Q, 400, 600);
	fx_withdraw(f, 1, Q, 400);
	CHECK_EQ(f->r.status, CORE_ST_OK);
	CHECK_EQ(f->r.available, 0);
	CHECK_EQ(f->r.frozen, 600);
	FX_BAL(f, 1, Q, 0, 600);
	CHECK(core_asset_get(f->c, Q, &a));
	CHECK_EQ(a.supply, 600);
	CHECK(fx_has_order(f, 1));
	FX_VERIFY(f);
	fx_free(f);
}

TEST(funds_withdraw_without_account_rejected_no_account_created)
{
	fx		   *f = fx_simple(0, 0);

	fx_withdraw(f, 5, B, 1);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INSUFFICIENT_FUNDS);
	CHECK_EQ(core_get_counters(f->c).accounts, 1);
	CHECK_EQ(fx_avail(f, 5, B), -1);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(funds_withdraw_asset_never_deposited_rejected)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, B, 100);
	fx_withdraw(f, 1, Q, 1);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INSUFFICIENT_FUNDS);
	FX_BAL(f, 1, B, 100, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* Supply must fit int64: one unit beyond INT64_MAX is refused, for anyone. */
TEST(funds_deposit_overflowing_supply_rejected)
{
	fx		   *f = fx_simple(0, 0);
	core_asset_info a;

	fx_deposit(f, 1, B, INT64_MAX - 10);
	CHECK_EQ(f->r.status, CORE_ST_OK);
	fx_deposit(f, 2, B, 11);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_OVERFLOW);
	CHECK_EQ(core_get_counters(f->c).accounts, 2);
	CHECK_EQ(fx_avail(f, 2, B), -1);
	fx_deposit(f, 1, B, 11);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_OVERFLOW);
	FX_BAL(f, 1, B, INT64_MAX - 10, 0);
	CHECK(core_asset_get(f->c, B, &a));
	CHECK_EQ(a.supply, INT64_MAX - 10);
	/* exactly to INT64_MAX is fine */
	fx_deposit(f, 2, B, 10);
	CHECK_EQ(f->r.status, CORE_ST_OK);
	CHECK(core_asset_get(f->c, B, &a));
	CHECK_EQ(a.supply, INT64_MAX);
	/* room made by a withdrawal can be used again */
	fx_withdraw(f, 1, B, 5);
	fx_deposit(f, 3, B, 5);
	CHECK_EQ(f->r.status, CORE_ST_OK);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(funds_deposit_unknown_asset_rejected)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, 9, 100);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_UNKNOWN_ASSET);
	CHECK_EQ(core_get_counters(f->c).accounts, 1);
	fx_withdraw(f, 1, 9, 100);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	FX_VERIFY(f);
	fx_free(f);
}

TEST(funds_nonpositive_amount_rejected_invalid)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 1, B, 0);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	fx_deposit(f, 1, B, -5);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	fx_deposit(f, 1, B, 5);
	fx_withdraw(f, 1, B, -1);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	FX_BAL(f, 1, B, 5, 0);
	CHECK_EQ(core_get_counters(f->c).accounts, 2);
	FX_VERIFY(f);
	fx_free(f);
}

/* user_id >= 1 for deposits and withdrawals: 0 is the fee account. */
TEST(funds_deposit_to_fee_account_or_negative_user_rejected_invalid)
{
	fx		   *f = fx_simple(0, 0);

	fx_deposit(f, 0, B, 5);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	fx_deposit(f, -3, B, 5);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	FX_BAL(f, 0, B, 0, 0);
	CHECK_EQ(core_get_counters(f->c).accounts, 1);
	FX_VERIFY(f);
	fx_free(f);
}

static bool
collect_bal(void *ctx, const core_balance_info *b)
{
	core_balance_info *out = ctx;
	int			n = (int) out[0].user_id;

	if (n < 7)
		out[1 + n] = *b;
	out[0].user_id = n + 1;
	return true;
}

TEST(funds_user_balances_iterate_in_asset_id_order)
{
	fx		   *f = fx_simple(0, 0);
	core_balance_info got[8];

	CHECK_EQ(fx_asset(f, "CCC", 4), 3);
	fx_deposit(f, 1, 3, 30);
	fx_deposit(f, 1, Q, 20);
	fx_deposit(f, 1, B, 10);
	memset(got, 0, sizeof(got));
	core_user_balances(f->c, 1, collect_bal, got);
	CHECK_EQ(got[0].user_id, 3);
	CHECK_EQ(got[1].asset, 1);
	CHECK_EQ(got[1].available, 10);
	CHECK_EQ(got[2].asset, 2);
	CHECK_EQ(got[2].available, 20);
	CHECK_EQ(got[3].asset, 3);
	CHECK_EQ(got[3].available, 30);
	CHECK_EQ(got[3].user_id, 1);
	fx_free(f);
}
