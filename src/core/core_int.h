/*
 * core_int.h — the arena layout and the helpers shared by the core's files.
 *
 * Everything lives in one block of memory: the struct core header, then one
 * array per kind of object.  Objects refer to each other by 32-bit slot
 * index; slot 0 of every array is unused so that index 0 (NIL) means "none".
 * Nothing here is visible to the core's users; core.h is the interface.
 */
#ifndef ENGINE_CORE_INT_H
#define ENGINE_CORE_INT_H

#include "core.h"

#define NIL 0u
#define CORE_MAGIC UINT64_C(0x454e47494e453031)	/* "ENGINE01" */

typedef __int128 i128;
typedef unsigned __int128 u128;

/*
 * What the code above a CORE_ASSERT has made impossible.  Checked in debug
 * builds (CORE_DEBUG: the core's tests and fuzz target, and the extension
 * against a PostgreSQL built with --enable-cassert); compiled out otherwise.
 */
#ifdef CORE_DEBUG
#include <assert.h>
#define CORE_ASSERT(cond) assert(cond)
#else
#define CORE_ASSERT(cond) ((void) 0)
#endif

typedef struct asset
{
	char		code[CORE_ASSET_CODE_MAX + 1];
	uint8_t		decimals;
	int64_t		supply;			/* deposits minus withdrawals */
	uint32_t	hnext;			/* code hash chain */
} asset;

/* One side of one book: levels in a treap keyed by "better first", and a
 * doubly linked list of the same levels in that order (head = best). */
typedef struct book_side
{
	uint32_t	root;
	uint32_t	best;
	uint32_t	nlevels;
} book_side;

typedef struct symbol
{
	char		name[CORE_SYMBOL_NAME_MAX + 1];
	uint32_t	base;
	uint32_t	quote;
	int64_t		tick;
	int64_t		lot;
	int64_t		min_qty;
	int64_t		min_notional;	/* 0 = only the 1-unit floor */
	int64_t		min_value;		/* max(min_notional, 1): what a new order must be worth */
	int64_t		base_scale;		/* 10^base decimals */
	int32_t		maker_ppm;
	int32_t		taker_ppm;
	uint8_t		status;
	uint32_t	hnext;			/* name hash chain */
	book_side	sides[2];		/* indexed by core_side */
} symbol;

typedef struct level
{
	int64_t		price;
	int64_t		key;			/* price for asks, -price for bids: smaller is better */
	u128		qty;			/* sum of remaining: 128-bit, bids are unbounded */
	uint32_t	count;
	uint32_t	head;			/* oldest order */
	uint32_t	tail;
	uint32_t	prev;			/* better level */
	uint32_t	next;			/* worse level (also the free-list link) */
	uint32_t	left;
	uint32_t	right;
	uint32_t	prio;			/* treap priority, a hash of the price */
} level;

typedef struct order
{
	int64_t		id;
	int64_t		user_id;
	int64_t		price;
	int64_t		remaining;
	int64_t		filled;
	int64_t		locked;
	int64_t		created_ts;
	int64_t		queued_seq;
	u128		notional;		/* sum of price * qty over fills */
	uint32_t	next;			/* queue: younger (also the free-list link) */
	uint32_t	prev;			/* queue: older */
	uint32_t	level;
	uint32_t	symbol;
	uint32_t	account;
	uint32_t	hnext;			/* order-id hash chain */
	uint32_t	unext;			/* account's orders, by id */
	uint32_t	uprev;
	uint8_t		side;
	uint8_t		stp;
	bool		post_only;
	char		client_order_id[CORE_CLIENT_ID_MAX + 1];
} order;

typedef struct account
{
	int64_t		user_id;
	uint32_t	hnext;			/* user-id hash chain */
	uint32_t	balances;		/* first balance, list by asset id */
	uint32_t	orders_head;	/* resting orders by id */
	uint32_t	orders_tail;
	uint32_t	norders;		/* resting orders over all symbols (derived: kept by
								 * book_link_account / book_unlink_account) */
} account;

typedef struct balance
{
	uint32_t	asset;
	uint32_t	next;			/* next balance of the same account */
	int64_t		available;
	int64_t		frozen;
} balance;

struct core
{
	uint64_t	magic;
	core_limits limits;
	size_t		size;

	int64_t		seq;
	int64_t		next_order_id;
	int64_t		next_trade_id;

	uint32_t	nassets;
	uint32_t	nsymbols;
	uint32_t	naccounts;
	uint32_t	nbalances;
	uint32_t	norders;		/* resting */
	uint32_t	nlevels;

	uint32_t	order_free;		/* free lists; slots never used yet come */
	uint32_t	order_fresh;	/* from the *_fresh bump counters */
	uint32_t	level_free;
	uint32_t	level_fresh;

	uint32_t	asset_hmask;
	uint32_t	symbol_hmask;
	uint32_t	account_hmask;
	uint32_t	order_hmask;

	size_t		off_assets;
	size_t		off_asset_hash;
	size_t		off_symbols;
	size_t		off_symbol_hash;
	size_t		off_accounts;
	size_t		off_account_hash;
	size_t		off_balances;
	size_t		off_orders;
	size_t		off_order_hash;
	size_t		off_levels;
};

#define ARENA(c, off, type) ((type *) ((char *) (c) + (c)->off))
#define ASSETS(c)       ARENA(c, off_assets, asset)
#define ASSET_HASH(c)   ARENA(c, off_asset_hash, uint32_t)
#define SYMBOLS(c)      ARENA(c, off_symbols, symbol)
#define SYMBOL_HASH(c)  ARENA(c, off_symbol_hash, uint32_t)
#define ACCOUNTS(c)     ARENA(c, off_accounts, account)
#define ACCOUNT_HASH(c) ARENA(c, off_account_hash, uint32_t)
#define BALANCES(c)     ARENA(c, off_balances, balance)
#define ORDERS(c)       ARENA(c, off_orders, order)
#define ORDER_HASH(c)   ARENA(c, off_order_hash, uint32_t)
#define LEVELS(c)       ARENA(c, off_levels, level)

#define FEE_ACCOUNT 1u			/* slot of user 0, created with the engine */

/* ---- arithmetic (money.c) ---- */
uint64_t	mix64(uint64_t x);
uint32_t	hash_text(const char *s);
int64_t		pow10_i64(unsigned n);
/* floor(price * qty / scale); false if it does not fit int64 */
bool		quote_value(int64_t price, int64_t qty, int64_t scale, int64_t *out);
/*
 * floor(price * qty / scale) == 0 for non-negative price and qty: exactly
 * when price * qty < scale.  A multiplication, not a division, because
 * matching asks it of every fill.
 */
static inline bool
worth_nothing(int64_t price, int64_t qty, int64_t scale)
{
	return (i128) price * (i128) qty < (i128) scale;
}
/* core_check_order_value at a symbol's scale and minimum */
core_value_check order_value_check(const symbol *s, int64_t price, int64_t qty,
								   int64_t *value);
/* floor(amount * ppm / 10^6), at least 1 when both are non-zero */
int64_t		fee_of(int64_t amount, int32_t ppm);
bool		text_field_ok(const char *s, size_t max);

/* ---- reference data (refdata.c) ---- */
asset	   *asset_at(core_engine *c, uint32_t id);		/* NULL if no such id */
symbol	   *symbol_at(core_engine *c, uint32_t id);
uint32_t	asset_lookup(const core_engine *c, const char *code);
uint32_t	symbol_lookup(const core_engine *c, const char *name);
void		asset_to_info(const core_engine *c, uint32_t id, core_asset_info *out);
void		symbol_to_info(const core_engine *c, uint32_t id, core_symbol_info *out);
const char *asset_insert(core_engine *c, const core_asset_info *a);
const char *symbol_insert(core_engine *c, const core_symbol_info *s);

/* ---- ledger (ledger.c) ---- */
uint32_t	ledger_find_account(const core_engine *c, int64_t user_id);
uint32_t	ledger_add_account(core_engine *c, int64_t user_id);	/* NIL if full */
balance    *ledger_find(const core_engine *c, uint32_t acct, uint32_t asset);
balance    *ledger_get_or_add(core_engine *c, uint32_t acct, uint32_t asset); /* NULL if full */
void		ledger_freeze(balance *b, int64_t amount);
void		ledger_release(balance *b, int64_t amount);

/* ---- books (book.c) ---- */
uint32_t	book_find_order(const core_engine *c, int64_t order_id);
uint32_t	book_alloc_order(core_engine *c);		/* NIL if the pool is full */
void		book_free_order(core_engine *c, uint32_t o);
void		book_index_order(core_engine *c, uint32_t o);
void		book_unindex_order(core_engine *c, uint32_t o);
void		book_link_account(core_engine *c, uint32_t o);	/* append to account's list */
void		book_unlink_account(core_engine *c, uint32_t o);
void		book_enqueue(core_engine *c, uint32_t o);	/* at the back of its price level */
void		book_dequeue(core_engine *c, uint32_t o);	/* leaves order slot allocated */
uint32_t	book_level_find(const core_engine *c, const book_side *bs, int64_t key);
void		order_to_info(const core_engine *c, uint32_t o, core_order_info *out);
int64_t		order_lock_needed(const symbol *s, const order *o);

/* ---- commands (match.c, funds in ledger.c, reference data in refdata.c) ---- */
typedef struct apply_ctx
{
	core_engine *c;
	const core_record *rec;
	core_event_fn fn;
	void	   *fnctx;
	core_result *res;
} apply_ctx;

#define REJECT(a, why) \
	do { (a)->res->status = CORE_ST_REJECTED; (a)->res->reason = (why); return; } while (0)

void		emit(apply_ctx *a, const core_event *ev);
void		redo_create_asset(apply_ctx *a);
void		redo_create_symbol(apply_ctx *a);
void		redo_set_symbol_status(apply_ctx *a);
void		redo_deposit(apply_ctx *a);
void		redo_withdraw(apply_ctx *a);
void		redo_place(apply_ctx *a);
void		redo_place_malformed(apply_ctx *a);
void		redo_cancel(apply_ctx *a);
void		redo_cancel_all(apply_ctx *a);
void		redo_amend(apply_ctx *a);

/* ---- the record-type table (record.c), in the spirit of PostgreSQL's
 * resource managers: one entry per command, pairing its payload layout
 * with its shape check and its redo function. ---- */
typedef enum field_kind { F_I64, F_U32, F_U8, F_BOOL, F_STR } field_kind;

typedef struct field_def
{
	const char *name;
	uint16_t	offset;			/* within core_record */
	uint8_t		kind;			/* field_kind */
	uint8_t		max;			/* F_STR: longest text */
	uint8_t		since;			/* first payload format that has the field
								 * (0 = every format) */
} field_def;

#define MAX_FIELDS 12

typedef struct rectype_def
{
	const char *name;
	void		(*redo) (apply_ctx *a);
	const char *(*validate) (const core_record *rec);
	field_def	fields[MAX_FIELDS];	/* ends at name == NULL */
} rectype_def;

extern const rectype_def core_rectypes[CORE_REC_COUNT];

#endif							/* ENGINE_CORE_INT_H */
