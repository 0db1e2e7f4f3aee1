/*
 * arena.c — laying out an engine in caller-provided memory, and the small
 * accessors over the header (limits, counters, names of enums).
 *
 * The arena is position independent: the header stores byte offsets, not
 * pointers, so the same bytes work in shared memory mapped anywhere.
 */
#include <string.h>

#include "core_int.h"

#define ARENA_ALIGN CORE_ARENA_ALIGN
#define MAX_SLOTS   (UINT32_C(1) << 30)	/* keeps every index and hash size in uint32 */

static size_t
align_up(size_t n)
{
	return (n + ARENA_ALIGN - 1) & ~(size_t) (ARENA_ALIGN - 1);
}

/* Smallest power of two >= 2n: hash buckets, load factor <= 0.5. */
static uint32_t
hash_size(uint32_t n)
{
	uint32_t	s = 16;

	while (s < 2 * (uint64_t) n)
		s <<= 1;
	return s;
}

static bool
limits_ok(const core_limits *l)
{
	return l->max_assets >= 1 && l->max_assets < MAX_SLOTS &&
		l->max_symbols >= 1 && l->max_symbols < MAX_SLOTS &&
		l->max_accounts >= 1 && l->max_accounts < MAX_SLOTS &&
		l->max_balances >= l->max_assets && l->max_balances < MAX_SLOTS &&
		l->max_orders >= 1 && l->max_orders < MAX_SLOTS;
}

/* Computes the offsets of every array; returns the total size. */
static size_t
layout(const core_limits *l, core_engine *c)
{
	size_t		off = align_up(sizeof(struct core));

#define PLACE(field, count, type) \
	do { c->field = off; off = align_up(off + (size_t) (count) * sizeof(type)); } while (0)

	/* +1 everywhere: slot 0 is NIL.  The fee account counts as an account. */
	PLACE(off_assets, l->max_assets + 1, asset);
	PLACE(off_asset_hash, hash_size(l->max_assets), uint32_t);
	PLACE(off_symbols, l->max_symbols + 1, symbol);
	PLACE(off_symbol_hash, hash_size(l->max_symbols), uint32_t);
	PLACE(off_accounts, table_cap(l->max_accounts) + 1, account);
	PLACE(off_account_seq, l->max_accounts + 1, uint32_t);
	PLACE(off_balances, table_cap(l->max_balances) + 1, balance);
	PLACE(off_orders, l->max_orders + 1, order);
	PLACE(off_order_cold, l->max_orders + 1, order_cold);
	PLACE(off_order_text, l->max_orders + 1, order_text);
	PLACE(off_order_links, l->max_orders + 1, order_link);
	PLACE(off_order_hash, hash_size(l->max_orders), uint32_t);
	PLACE(off_levels, l->max_orders + 1, level);
	PLACE(off_pages, LADDER_PAGES(l->max_orders) + 1, page);
#undef PLACE
	return off;
}

size_t
core_arena_size(const core_limits *limits)
{
	struct core tmp;

	if (limits == NULL || !limits_ok(limits))
		return 0;
	return layout(limits, &tmp);
}

core_engine *
core_create(void *mem, size_t size, const core_limits *limits)
{
	core_engine *c = mem;
	size_t		need = core_arena_size(limits);

	if (mem == NULL || need == 0 || size < need ||
		((uintptr_t) mem & (ARENA_ALIGN - 1)) != 0)
		return NULL;

	/*
	 * Zero only what an empty engine reads: the header, the hash buckets
	 * (all NIL), the account and balance tables (all slots empty) and the
	 * NIL slot of every pool.  Pool slots are written when they are handed
	 * out and nothing reads a slot that was not, so the order and level
	 * pools — most of the arena — are left as they are.  That keeps a
	 * worker restart from touching hundreds of megabytes of shared memory.
	 */
	memset(mem, 0, sizeof(struct core));
	layout(limits, c);
	c->account_cap = table_cap(limits->max_accounts);
	c->balance_cap = table_cap(limits->max_balances);
	memset(ASSET_HASH(c), 0, sizeof(uint32_t) * hash_size(limits->max_assets));
	memset(SYMBOL_HASH(c), 0, sizeof(uint32_t) * hash_size(limits->max_symbols));
	memset(ORDER_HASH(c), 0, sizeof(uint32_t) * hash_size(limits->max_orders));
	memset(ACCOUNTS(c), 0, sizeof(account) * ((size_t) c->account_cap + 1));
	memset(BALANCES(c), 0, sizeof(balance) * ((size_t) c->balance_cap + 1));
	memset(ACCOUNT_SEQ(c), 0, sizeof(uint32_t));
	memset(ASSETS(c), 0, sizeof(asset));
	memset(SYMBOLS(c), 0, sizeof(symbol));
	memset(ORDERS(c), 0, sizeof(order));
	memset(ORDER_COLD(c), 0, sizeof(order_cold));
	memset(ORDER_TEXT(c), 0, sizeof(order_text));
	memset(ORDER_LINKS(c), 0, sizeof(order_link));
	memset(LEVELS(c), 0, sizeof(level));
	memset(PAGES(c), 0, sizeof(page));
	c->magic = CORE_MAGIC;
	c->limits = *limits;
	c->size = need;
	c->next_order_id = 1;
	c->next_trade_id = 1;
	c->asset_hmask = hash_size(limits->max_assets) - 1;
	c->symbol_hmask = hash_size(limits->max_symbols) - 1;
	c->order_hmask = hash_size(limits->max_orders) - 1;
	c->page_max = LADDER_PAGES(limits->max_orders);

	/* The fee account, user 0, always exists and is the first account. */
	c->fee_account = ledger_add_account(c, 0);
	if (c->fee_account == NIL)
		return NULL;
	return c;
}

core_limits
core_get_limits(const core_engine *c)
{
	return c->limits;
}

int64_t
core_seq(const core_engine *c)
{
	return c->seq;
}

core_counters
core_get_counters(const core_engine *c)
{
	core_counters k;

	memset(&k, 0, sizeof(k));
	k.seq = c->seq;
	k.next_order_id = c->next_order_id;
	k.next_trade_id = c->next_trade_id;
	k.assets = c->nassets;
	k.symbols = c->nsymbols;
	k.accounts = c->naccounts;
	k.balances = c->nbalances;
	k.orders = c->norders;
	return k;
}

const char *
core_status_name(core_status s)
{
	static const char *const names[CORE_ST_COUNT] = {
		[CORE_ST_OK] = "ok",
		[CORE_ST_NEW] = "new",
		[CORE_ST_PARTIALLY_FILLED] = "partially_filled",
		[CORE_ST_FILLED] = "filled",
		[CORE_ST_CANCELED] = "canceled",
		[CORE_ST_EXPIRED] = "expired",
		[CORE_ST_REJECTED] = "rejected",
		[CORE_ST_AMENDED] = "amended",
	};

	return (unsigned) s < CORE_ST_COUNT ? names[s] : NULL;
}

const char *
core_reason_name(core_reason r)
{
	static const char *const names[CORE_R_COUNT] = {
		[CORE_R_NONE] = NULL,
		[CORE_R_INVALID] = "invalid",
		[CORE_R_UNKNOWN_ASSET] = "unknown_asset",
		[CORE_R_UNKNOWN_SYMBOL] = "unknown_symbol",
		[CORE_R_UNKNOWN_ORDER] = "unknown_order",
		[CORE_R_DUPLICATE_ASSET] = "duplicate_asset",
		[CORE_R_DUPLICATE_SYMBOL] = "duplicate_symbol",
		[CORE_R_INSUFFICIENT_FUNDS] = "insufficient_funds",
		[CORE_R_OVERFLOW] = "overflow",
		[CORE_R_CAPACITY] = "capacity",
		[CORE_R_HALTED] = "halted",
		[CORE_R_POST_ONLY] = "post_only",
		[CORE_R_FOK] = "fok",
		[CORE_R_IOC] = "ioc",
		[CORE_R_NO_LIQUIDITY] = "no_liquidity",
		[CORE_R_FUNDS_EXHAUSTED] = "funds_exhausted",
		[CORE_R_QUOTE_QTY] = "quote_qty",
		[CORE_R_SELF_TRADE] = "self_trade",
		[CORE_R_DUST] = "dust",
		[CORE_R_OPEN_ORDERS_LIMIT] = "open_orders_limit",
	};

	return (unsigned) r < CORE_R_COUNT ? names[r] : NULL;
}

const char *
core_side_name(core_side s)
{
	return s == CORE_BUY ? "buy" : s == CORE_SELL ? "sell" : NULL;
}

const char *
core_tif_name(core_tif t)
{
	static const char *const names[] = {"gtc", "ioc", "fok"};

	return (unsigned) t < 3 ? names[t] : NULL;
}

const char *
core_stp_name(core_stp s)
{
	static const char *const names[] = {"none", "cancel_taker", "cancel_maker", "cancel_both"};

	return (unsigned) s < 4 ? names[s] : NULL;
}
