/*
 * ledger.c — accounts and balances, and the DEPOSIT and WITHDRAW commands.
 *
 * An account is a user id with a list of balance rows, one per asset the
 * user ever touched, kept sorted by asset id.  Both live in open-addressing
 * tables (core_int.h): an account is found by its user id, a row by (user
 * id, asset), each in one probe in the common case and without going
 * through the other.  Rows are never removed, so a row's slot is a stable
 * index: orders keep their owner's two rows, symbols the fee account's.
 * The ledger never decides trading outcomes; match.c moves money through
 * these helpers.
 */
#include <string.h>

#include "core_int.h"

uint32_t
ledger_add_account(core_engine *c, int64_t user_id)
{
	account    *t = ACCOUNTS(c);
	uint32_t	i;

	if (c->naccounts >= c->limits.max_accounts)
		return NIL;
	i = account_home(c, user_hash(user_id));
	while (t[i].seq != 0)
		i = i == c->account_cap ? 1 : i + 1;
	t[i].user_id = user_id;
	t[i].seq = ++c->naccounts;
	t[i].balances = NIL;
	t[i].orders_head = t[i].orders_tail = NIL;
	t[i].norders = 0;
	ACCOUNT_SEQ(c)[t[i].seq] = i;
	return i;
}

uint32_t
ledger_add_row(core_engine *c, uint32_t acct, uint32_t asset_id, uint32_t at)
{
	account    *a = &ACCOUNTS(c)[acct];
	balance    *rows = BALANCES(c);
	uint32_t   *link = &a->balances;

	CORE_ASSERT(c->nbalances < c->limits.max_balances);
	if (at == NIL || rows[at].asset != 0)
		(void) ledger_find_row(c, a->user_id, asset_id, &at);
	rows[at].user_id = a->user_id;
	rows[at].asset = asset_id;
	rows[at].available = 0;
	rows[at].frozen = 0;
	while (*link != NIL && rows[*link].asset < asset_id)
		link = &rows[*link].next;
	rows[at].next = *link;
	*link = at;
	c->nbalances++;
	return at;
}

uint32_t
ledger_get_or_add(core_engine *c, uint32_t acct, uint32_t asset_id)
{
	uint32_t	at = NIL;
	uint32_t	b = ledger_find_row(c, ACCOUNTS(c)[acct].user_id, asset_id, &at);

	if (b != NIL)
		return b;
	if (c->nbalances >= c->limits.max_balances)
		return NIL;
	return ledger_add_row(c, acct, asset_id, at);
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
	uint32_t	acct,
				b;
	balance    *bal;

	if (as == NULL)
		REJECT(a, CORE_R_UNKNOWN_ASSET);
	/* The asset's supply bounds every balance in it, so one check covers both. */
	if (as->supply > INT64_MAX - r->amount)
		REJECT(a, CORE_R_OVERFLOW);
	acct = ledger_find_account(c, r->user_id);
	if (acct == NIL)
	{
		/* A new account needs an account slot and a balance row. */
		if (c->naccounts >= c->limits.max_accounts ||
			c->nbalances >= c->limits.max_balances)
			REJECT(a, CORE_R_CAPACITY);
		acct = ledger_add_account(c, r->user_id);
	}
	b = ledger_get_or_add(c, acct, r->asset);
	if (b == NIL)
		REJECT(a, CORE_R_CAPACITY);
	bal = &BALANCES(c)[b];
	bal->available += r->amount;
	as->supply += r->amount;
	funds_result(a, bal);
}

void
redo_withdraw(apply_ctx *a)
{
	const core_rec_funds *r = &a->rec->u.funds;
	core_engine *c = a->c;
	asset	   *as = asset_at(c, r->asset);
	uint32_t	b;
	balance    *bal = NULL;

	if (as == NULL)
		REJECT(a, CORE_R_UNKNOWN_ASSET);
	b = ledger_find_row(c, r->user_id, r->asset, NULL);
	if (b != NIL)
		bal = &BALANCES(c)[b];
	if (bal == NULL || bal->available < r->amount)
	{
		a->res->status = CORE_ST_REJECTED;
		a->res->reason = CORE_R_INSUFFICIENT_FUNDS;
		funds_result(a, bal);
		return;
	}
	bal->available -= r->amount;
	as->supply -= r->amount;
	funds_result(a, bal);
}

bool
core_balance_get(const core_engine *c, int64_t user_id, uint32_t asset_id,
				 core_balance_info *out)
{
	uint32_t	b;

	/* asset 0 marks an empty slot: no row has it */
	if (asset_id == 0 || (b = ledger_find_row(c, user_id, asset_id, NULL)) == NIL)
		return false;
	memset(out, 0, sizeof(*out));
	out->user_id = user_id;
	out->asset = asset_id;
	out->available = BALANCES(c)[b].available;
	out->frozen = BALANCES(c)[b].frozen;
	return true;
}

void
core_user_balances(const core_engine *c, int64_t user_id, core_balance_fn fn, void *ctx)
{
	uint32_t	acct = ledger_find_account(c, user_id);
	const balance *rows = BALANCES(c);

	if (acct == NIL)
		return;
	for (uint32_t b = ACCOUNTS(c)[acct].balances; b != NIL; b = rows[b].next)
	{
		core_balance_info info;

		memset(&info, 0, sizeof(info));
		info.user_id = user_id;
		info.asset = rows[b].asset;
		info.available = rows[b].available;
		info.frozen = rows[b].frozen;
		if (!fn(ctx, &info))
			return;
	}
}
