/*
 * ledger.c — accounts and balances, and the DEPOSIT and WITHDRAW commands.
 *
 * An account is a user id with a list of balance rows, one per asset the
 * user ever touched, kept sorted by asset id.  Rows are never removed, so a
 * balance pointer stays valid for the whole command.  The ledger never
 * decides trading outcomes; match.c moves money through these helpers.
 */
#include <string.h>

#include "core_int.h"

uint32_t
ledger_find_account(const core_engine *c, int64_t user_id)
{
	const account *accts = ACCOUNTS(c);

	for (uint32_t a = ACCOUNT_HASH(c)[mix64((uint64_t) user_id) & c->account_hmask];
		 a != NIL; a = accts[a].hnext)
		if (accts[a].user_id == user_id)
			return a;
	return NIL;
}

uint32_t
ledger_add_account(core_engine *c, int64_t user_id)
{
	uint32_t	slot;
	account    *acct;
	uint32_t   *bucket;

	if (c->naccounts >= c->limits.max_accounts)
		return NIL;
	slot = ++c->naccounts;
	acct = &ACCOUNTS(c)[slot];
	memset(acct, 0, sizeof(*acct));
	acct->user_id = user_id;
	bucket = &ACCOUNT_HASH(c)[mix64((uint64_t) user_id) & c->account_hmask];
	acct->hnext = *bucket;
	*bucket = slot;
	return slot;
}

balance *
ledger_find(const core_engine *c, uint32_t acct, uint32_t asset_id)
{
	balance    *bals = BALANCES(c);

	for (uint32_t b = ACCOUNTS(c)[acct].balances; b != NIL; b = bals[b].next)
	{
		if (bals[b].asset == asset_id)
			return &bals[b];
		if (bals[b].asset > asset_id)
			break;
	}
	return NULL;
}

balance *
ledger_get_or_add(core_engine *c, uint32_t acct, uint32_t asset_id)
{
	balance    *bals = BALANCES(c);
	uint32_t   *link = &ACCOUNTS(c)[acct].balances;
	uint32_t	slot;

	while (*link != NIL && bals[*link].asset < asset_id)
		link = &bals[*link].next;
	if (*link != NIL && bals[*link].asset == asset_id)
		return &bals[*link];
	if (c->nbalances >= c->limits.max_balances)
		return NULL;
	slot = ++c->nbalances;
	memset(&bals[slot], 0, sizeof(balance));
	bals[slot].asset = asset_id;
	bals[slot].next = *link;
	*link = slot;
	return &bals[slot];
}

void
ledger_freeze(balance *b, int64_t amount)
{
	b->available -= amount;
	b->frozen += amount;
}

void
ledger_release(balance *b, int64_t amount)
{
	b->frozen -= amount;
	b->available += amount;
}

static void
funds_result(apply_ctx *a, const balance *b)
{
	if (b)
	{
		a->res->available = b->available;
		a->res->frozen = b->frozen;
	}
}

void
redo_deposit(apply_ctx *a)
{
	const core_rec_funds *r = &a->rec->u.funds;
	core_engine *c = a->c;
	asset	   *as = asset_at(c, r->asset);
	uint32_t	acct;
	balance    *b;

	if (as == NULL)
	{
		a->res->status = CORE_ST_REJECTED;
		a->res->reason = CORE_R_UNKNOWN_ASSET;
		return;
	}
	/* The asset's supply bounds every balance in it, so one check covers both. */
	if (as->supply > INT64_MAX - r->amount)
	{
		a->res->status = CORE_ST_REJECTED;
		a->res->reason = CORE_R_OVERFLOW;
		return;
	}
	acct = ledger_find_account(c, r->user_id);
	if (acct == NIL)
	{
		/* A new account needs an account slot and a balance row. */
		if (c->naccounts >= c->limits.max_accounts ||
			c->nbalances >= c->limits.max_balances)
		{
			a->res->status = CORE_ST_REJECTED;
			a->res->reason = CORE_R_CAPACITY;
			return;
		}
		acct = ledger_add_account(c, r->user_id);
	}
	b = ledger_get_or_add(c, acct, r->asset);
	if (b == NULL)
	{
		a->res->status = CORE_ST_REJECTED;
		a->res->reason = CORE_R_CAPACITY;
		return;
	}
	b->available += r->amount;
	as->supply += r->amount;
	funds_result(a, b);
}

void
redo_withdraw(apply_ctx *a)
{
	const core_rec_funds *r = &a->rec->u.funds;
	core_engine *c = a->c;
	asset	   *as = asset_at(c, r->asset);
	uint32_t	acct;
	balance    *b = NULL;

	if (as == NULL)
	{
		a->res->status = CORE_ST_REJECTED;
		a->res->reason = CORE_R_UNKNOWN_ASSET;
		return;
	}
	acct = ledger_find_account(c, r->user_id);
	if (acct != NIL)
		b = ledger_find(c, acct, r->asset);
	if (b == NULL || b->available < r->amount)
	{
		a->res->status = CORE_ST_REJECTED;
		a->res->reason = CORE_R_INSUFFICIENT_FUNDS;
		funds_result(a, b);
		return;
	}
	b->available -= r->amount;
	as->supply -= r->amount;
	funds_result(a, b);
}

bool
core_balance_get(const core_engine *c, int64_t user_id, uint32_t asset_id,
				 core_balance_info *out)
{
	uint32_t	acct = ledger_find_account(c, user_id);
	const balance *b = acct != NIL ? ledger_find(c, acct, asset_id) : NULL;

	if (b == NULL)
		return false;
	memset(out, 0, sizeof(*out));
	out->user_id = user_id;
	out->asset = asset_id;
	out->available = b->available;
	out->frozen = b->frozen;
	return true;
}

void
core_user_balances(const core_engine *c, int64_t user_id, core_balance_fn fn, void *ctx)
{
	uint32_t	acct = ledger_find_account(c, user_id);
	const balance *bals = BALANCES(c);

	if (acct == NIL)
		return;
	for (uint32_t b = ACCOUNTS(c)[acct].balances; b != NIL; b = bals[b].next)
	{
		core_balance_info info;

		memset(&info, 0, sizeof(info));
		info.user_id = user_id;
		info.asset = bals[b].asset;
		info.available = bals[b].available;
		info.frozen = bals[b].frozen;
		if (!fn(ctx, &info))
			return;
	}
}
