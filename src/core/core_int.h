/*
 * core_int.h — the arena layout and the helpers shared by the core's files.
 *
 * Everything lives in one block of memory: the struct core header, then one
 * array per kind of object (core.h, "Memory layout", lists them with their
 * sizes).  Objects refer to each other by 32-bit slot index; slot 0 of
 * every array is unused so that index 0 (NIL) means "none".  Nothing here
 * is visible to the core's users; core.h is the interface.
 *
 * Every declaration below has hidden visibility: the core is linked into
 * the extension's shared object, and a call between two of its files must
 * not go through the PLT.  Only core.h's functions are exported.
 */
#ifndef ENGINE_CORE_INT_H
#define ENGINE_CORE_INT_H

#include <string.h>

#include "core.h"

#ifdef CORE_DEBUG
#include <assert.h>
#endif

#pragma GCC visibility push(hidden)

#define NIL 0u
#define CORE_MAGIC UINT64_C(0x454e47494e453032)	/* "ENGINE02" */

typedef __int128 i128;
typedef unsigned __int128 u128;

/*
 * What the code above a CORE_ASSERT has made impossible.  Checked in debug
 * builds (CORE_DEBUG: the core's tests and fuzz target, and the extension
 * against a PostgreSQL built with --enable-cassert); compiled out otherwise.
 */
#ifdef CORE_DEBUG
#define CORE_ASSERT(cond) assert(cond)
#else
#define CORE_ASSERT(cond) ((void) 0)
#endif

#define LIKELY(x)   __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
/* A hint to start loading the cache line at p (for writing: keep it close). */
#define PREFETCH(p) __builtin_prefetch((p), 1, 3)

/* Inline even where the compiler would rather call: the hot primitives. */
#define HOT_INLINE static inline __attribute__((always_inline))

typedef struct asset
{
	char		code[CORE_ASSET_CODE_MAX + 1];
	uint8_t		decimals;
	int64_t		supply;			/* deposits minus withdrawals */
	uint32_t	hnext;			/* code hash chain */
} asset;

/* ---------------------------------------------------------------------
 * The price ladder (ladder.c)
 *
 * A level's position is its price in ticks, oriented so that a smaller
 * position is a better price on both sides: price / tick for asks,
 * ~(price / tick) for bids (unsigned).  Positions are grouped in pages of
 * LADDER_PAGE_SLOTS; a page maps each of its positions to a level slot
 * (direct index) and marks the occupied ones in a bitmap.  Pages come from
 * one pool shared by every book (LADDER_PAGES of them) and exist only while
 * they hold a level.  Each side finds its pages through a window directory
 * of LADDER_WINDOW pages that follows its best price (with a summary bitmap
 * of the pages present), and through a treap of all its pages by page
 * number (for prices outside the window).  A level whose page cannot be
 * had (pool empty) is "sparse": it lives in a treap of levels by position
 * instead, and moves into a page when one is created for its range.
 * --------------------------------------------------------------------- */

#define LADDER_PAGE_BITS	6
#define LADDER_PAGE_SLOTS	(1u << LADDER_PAGE_BITS)	/* positions per page */
#define LADDER_WINDOW		CORE_LADDER_WINDOW_PAGES	/* pages the window maps */
#define LADDER_LEAD			8	/* window pages kept better than the best */
#define LADDER_PAGES(max_orders) CORE_LADDER_PAGES(max_orders)
_Static_assert(LADDER_PAGE_SLOTS == CORE_LADDER_PAGE_TICKS, "page size");
_Static_assert(LADDER_WINDOW == 64, "the summary bitmap is one 64-bit word");

/* A treap link, the first member of every record kept in a treap. */
typedef struct tnode
{
	uint64_t	key;
	uint32_t	left;
	uint32_t	right;
} tnode;

typedef struct page
{
	tnode		t;				/* key: page number = position >> LADDER_PAGE_BITS;
								 * t.left is the free-list link */
	uint64_t	bits;			/* occupied positions */
	uint32_t	slot[LADDER_PAGE_SLOTS];	/* level of each occupied position */
} page;

/*
 * One side of one book: its levels in a doubly linked list in priority
 * order (best first; matching walks it), and the price index over them.
 */
typedef struct book_side
{
	uint32_t	best;			/* head of the level list */
	uint32_t	worst;			/* its tail */
	uint32_t	nlevels;
	uint32_t	page_root;		/* treap of this side's pages */
	uint32_t	sparse_root;	/* treap of its levels without a page */
	uint32_t	nsparse;
	uint64_t	wpage;			/* page number of window slot 0 */
	uint64_t	summary;		/* bit i: window slot i has a page */
	uint32_t	dir[LADDER_WINDOW];	/* page of window slot i, or NIL */
} book_side;

/* x / d for an x known to be a multiple of d (d = odd * 2^shift). */
typedef struct exact_divisor
{
	uint64_t	inv;			/* inverse of the odd part, mod 2^64 */
	uint32_t	shift;
} exact_divisor;

typedef struct symbol
{
	/* what every PLACE and fill reads, first */
	uint32_t	base;
	uint32_t	quote;
	int64_t		tick;
	int64_t		lot;
	int64_t		min_qty;
	int64_t		min_value;		/* max(min_notional, 1): what a new order must be worth */
	int64_t		base_scale;		/* 10^base decimals */
	int32_t		maker_ppm;
	int32_t		taker_ppm;
	uint32_t	fee_base;		/* the fee account's balance rows */
	uint32_t	fee_quote;
	exact_divisor tick_div;
	uint8_t		status;
	int64_t		min_notional;	/* 0 = only the 1-unit floor */
	char		name[CORE_SYMBOL_NAME_MAX + 1];
	uint32_t	hnext;			/* name hash chain */
	book_side	sides[2];		/* indexed by core_side */
} symbol;

typedef struct level
{
	tnode		t;				/* key: position; links: the side's sparse
								 * treap (sparse levels only) */
	u128		qty;			/* sum of remaining: 128-bit, bids are unbounded */
	int64_t		price;
	uint32_t	count;
	uint32_t	head;			/* oldest order */
	uint32_t	tail;
	uint32_t	prev;			/* better level */
	uint32_t	next;			/* worse level (also the free-list link) */
	uint32_t	page;			/* its page, NIL if sparse */
} level;

/*
 * An order is three records at the same slot index: the hot one (64
 * bytes, one cache line: what matching, the id index and the queues read),
 * the cold one (64 bytes: what changes when it trades, and what only
 * reads and snapshots need) and its client_order_id; plus its links in
 * its account's list of orders, in a compact array of their own so that
 * linking an order never touches another order's records.
 */
typedef struct order
{
	int64_t		id;
	int64_t		user_id;
	int64_t		price;
	int64_t		remaining;
	uint32_t	next;			/* queue: younger (also the free-list link) */
	uint32_t	prev;			/* queue: older */
	uint32_t	level;
	uint32_t	hnext;			/* order-id hash chain */
	uint32_t	account;
	uint32_t	symbol;
	uint8_t		side;
	uint8_t		stp;
	bool		post_only;
	bool		has_client_id;	/* else its client id is "" and its text
								 * record is neither written nor read */
} order;

typedef struct order_cold
{
	int64_t		filled;
	int64_t		locked;
	int64_t		created_ts;
	int64_t		queued_seq;
	u128		notional;		/* sum of price * qty over fills */
	uint32_t	base_row;		/* the owner's balance rows for the symbol */
	uint32_t	quote_row;
} order_cold;

_Static_assert(sizeof(order) == 64, "the hot order record is one cache line");
_Static_assert(sizeof(order_cold) == 64, "the cold order record is one cache line");
_Static_assert(sizeof(level) == 64, "a level is one cache line");

typedef struct order_text
{
	char		client_order_id[CORE_CLIENT_ID_MAX + 1];
} order_text;

typedef struct order_link
{
	uint32_t	next;			/* account's orders, by id */
	uint32_t	prev;
} order_link;

/*
 * Accounts and balance rows live in open-addressing tables (linear
 * probing), each record in its table slot: finding one is one probe into
 * one cache line in the common case, and the slot is the record's index
 * for good, since records are never removed.  A balance row is keyed by
 * (user id, asset), not by account, so a command looks up the account and
 * both of its rows at once, with no lookup waiting for another.
 */
typedef struct account
{
	int64_t		user_id;
	uint32_t	seq;			/* creation number, 1..; 0 = empty slot */
	uint32_t	balances;		/* first balance row, list by asset id */
	uint32_t	orders_head;	/* resting orders by id */
	uint32_t	orders_tail;
	uint32_t	norders;		/* resting orders over all symbols (derived: kept by
								 * book_link_account / book_unlink_account) */
} account;

typedef struct balance
{
	int64_t		user_id;
	uint32_t	asset;			/* 0 = empty slot */
	uint32_t	next;			/* next row of the same account, by asset id */
	int64_t		available;
	int64_t		frozen;
} balance;

_Static_assert(sizeof(account) == 32 && sizeof(balance) == 32,
			   "two accounts, or two balance rows, per cache line");

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
	uint32_t	npages;			/* ladder pages in use */

	uint32_t	order_free;		/* free lists; slots never used yet come */
	uint32_t	order_fresh;	/* from the *_fresh bump counters */
	uint32_t	level_free;
	uint32_t	level_fresh;
	uint32_t	page_free;
	uint32_t	page_fresh;
	uint32_t	page_max;		/* pages in the pool */

	uint32_t	asset_hmask;
	uint32_t	symbol_hmask;
	uint32_t	order_hmask;
	uint32_t	account_cap;	/* slots 1..cap of the account table */
	uint32_t	balance_cap;	/* slots 1..cap of the balance table */
	uint32_t	fee_account;	/* account slot of user 0 */

	size_t		off_assets;
	size_t		off_asset_hash;
	size_t		off_symbols;
	size_t		off_symbol_hash;
	size_t		off_accounts;
	size_t		off_account_seq;
	size_t		off_balances;
	size_t		off_orders;
	size_t		off_order_cold;
	size_t		off_order_text;
	size_t		off_order_links;
	size_t		off_order_hash;
	size_t		off_levels;
	size_t		off_pages;
};

#define ARENA(c, off, type) ((type *) ((char *) (c) + (c)->off))
#define ASSETS(c)       ARENA(c, off_assets, asset)
#define ASSET_HASH(c)   ARENA(c, off_asset_hash, uint32_t)
#define SYMBOLS(c)      ARENA(c, off_symbols, symbol)
#define SYMBOL_HASH(c)  ARENA(c, off_symbol_hash, uint32_t)
#define ACCOUNTS(c)     ARENA(c, off_accounts, account)
#define ACCOUNT_SEQ(c)  ARENA(c, off_account_seq, uint32_t)	/* seq -> account slot */
#define BALANCES(c)     ARENA(c, off_balances, balance)
#define ORDERS(c)       ARENA(c, off_orders, order)
#define ORDER_COLD(c)   ARENA(c, off_order_cold, order_cold)
#define ORDER_TEXT(c)   ARENA(c, off_order_text, order_text)
#define ORDER_LINKS(c)  ARENA(c, off_order_links, order_link)
#define ORDER_HASH(c)   ARENA(c, off_order_hash, uint32_t)
#define LEVELS(c)       ARENA(c, off_levels, level)
#define PAGES(c)        ARENA(c, off_pages, page)

/* ---- arithmetic (money.c) ---- */

/* A strong 64-bit finaliser (splitmix64's): good spread for sequential keys. */
static inline uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

/* ---- the state digest's hash chain (check.c; snapshot.c's restore
 * computes the same chain from the items it restores) ---- */
typedef struct hasher
{
	uint64_t	a;
	uint64_t	b;
} hasher;

#define HASHER_INIT {UINT64_C(0x656e67696e650001), UINT64_C(0x6469676573740001)}

/* Tags hashed before a field added after release 1.0 (core.h, digest rule). */
#define DIGEST_TAG_MIN_NOTIONAL UINT64_C(0x6d696e5f6e6f7431)	/* "min_not1" */

static inline void
h_u64(hasher *h, uint64_t v)
{
	h->a = mix64(h->a ^ v);
	h->b = mix64(h->b + v * UINT64_C(0x9e3779b97f4a7c15) + (h->a >> 7));
}

/* A text of at most max bytes: its length, then 8 bytes a word, little-endian. */
static inline void
h_text(hasher *h, const char *s, size_t max)
{
	size_t		n = strnlen(s, max);

	h_u64(h, n);
	for (size_t i = 0; i < n; i += 8)
	{
		uint64_t	w = 0;

		for (size_t j = 0; j < 8 && i + j < n; j++)
			w |= (uint64_t) (uint8_t) s[i + j] << (8 * j);
		h_u64(h, w);
	}
}

/* One balance row of the digest's account part. */
static inline void
digest_row(hasher *h, uint32_t asset_id, int64_t available, int64_t frozen)
{
	h_u64(h, asset_id);
	h_u64(h, (uint64_t) available);
	h_u64(h, (uint64_t) frozen);
}

/* One resting order of the digest's book part (after its level's price). */
static inline void
digest_order(hasher *h, int64_t id, int64_t user_id, int64_t remaining, int64_t filled,
			 int64_t locked, int64_t created_ts, int64_t queued_seq, uint64_t notional_hi,
			 uint64_t notional_lo, uint8_t stp, bool post_only, const char *client_id)
{
	h_u64(h, (uint64_t) id);
	h_u64(h, (uint64_t) user_id);
	h_u64(h, (uint64_t) remaining);
	h_u64(h, (uint64_t) filled);
	h_u64(h, (uint64_t) locked);
	h_u64(h, (uint64_t) created_ts);
	h_u64(h, (uint64_t) queued_seq);
	h_u64(h, notional_hi);
	h_u64(h, notional_lo);
	h_u64(h, (uint64_t) stp << 8 | (uint64_t) post_only);
	h_text(h, client_id, CORE_CLIENT_ID_MAX);
}

uint32_t	hash_text(const char *s);
int64_t		pow10_i64(unsigned n);
exact_divisor exact_divisor_of(int64_t d);

/* x / d, for 0 <= x a multiple of d: two instructions, no division. */
static inline uint64_t
exact_div(uint64_t x, exact_divisor d)
{
	return (x >> d.shift) * d.inv;
}

/*
 * floor(price * qty / scale) into *out; false if it does not fit int64.
 * price, qty >= 0 and scale >= 1.  Products that fit 64 bits (nearly all)
 * take one 64-bit division; the rest a 128-bit one.
 */
bool		quote_value_wide(int64_t price, int64_t qty, int64_t scale, int64_t *out);

static inline bool
quote_value(int64_t price, int64_t qty, int64_t scale, int64_t *out)
{
	uint64_t	p;

	if (LIKELY((price | qty) >= 0 &&
			   !__builtin_mul_overflow((uint64_t) price, (uint64_t) qty, &p)))
	{
		uint64_t	v = p / (uint64_t) scale;

		if (LIKELY(v <= (uint64_t) INT64_MAX))
		{
			*out = (int64_t) v;
			return true;
		}
		return false;
	}
	return quote_value_wide(price, qty, scale, out);
}

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
static inline core_value_check
order_value_check(const symbol *s, int64_t price, int64_t qty, int64_t *value)
{
	int64_t		v;

	if (!quote_value(price, qty, s->base_scale, &v))
		return CORE_VALUE_OVERFLOW;
	*value = v;
	return v < s->min_value ? CORE_VALUE_TOO_SMALL : CORE_VALUE_OK;
}

/* floor(amount * ppm / 10^6), at least 1 when both are non-zero */
static inline int64_t
fee_of(int64_t amount, int32_t ppm)
{
	int64_t		fee;

	if (amount <= 0 || ppm <= 0)
		return 0;
	/* ppm < 2^20, so below 2^43 the product fits 64 bits */
	if (LIKELY(amount < (INT64_C(1) << 43)))
		fee = (int64_t) ((uint64_t) amount * (uint64_t) ppm / CORE_FEE_SCALE);
	else
		fee = (int64_t) ((i128) amount * ppm / CORE_FEE_SCALE);
	return fee > 0 ? fee : 1;
}

bool		text_field_ok(const char *s, size_t max);

/* ---- rules: the bodies of rules.c's exported rules, inline for the core ---- */

/* core_client_id_ok */
static inline bool
client_id_ok(const char *s)
{
	for (int i = 0; i <= CORE_CLIENT_ID_MAX; i++)
	{
		unsigned char ch = (unsigned char) s[i];

		if (ch == '\0')
			return true;
		if (ch < 0x21 || ch > 0x7e || ch == '"' || ch == '\\')
			return false;
	}
	return false;				/* longer than CORE_CLIENT_ID_MAX */
}

/* core_place_args_check */
static inline core_place_args
place_args_check(bool market, core_side side, core_tif tif, bool post_only,
				 bool has_qty, bool has_quote_qty)
{
	if (market && post_only)
		return CORE_PLACE_ARGS_MARKET_POST_ONLY;
	if (market && tif == CORE_FOK)
		return CORE_PLACE_ARGS_MARKET_FOK;
	if (has_quote_qty && !(market && side == CORE_BUY))
		return CORE_PLACE_ARGS_QUOTE_QTY;
	if (!has_qty && !has_quote_qty)
		return CORE_PLACE_ARGS_NO_QTY;
	return CORE_PLACE_ARGS_OK;
}

static inline bool
fee_ppm_ok(int64_t ppm)
{
	return ppm >= 0 && ppm < CORE_FEE_SCALE;
}

/* ---- reference data (refdata.c) ---- */
/* NULL if no such id */
static inline asset *
asset_at(core_engine *c, uint32_t id)
{
	return (id >= 1 && id <= c->nassets) ? &ASSETS(c)[id] : NULL;
}

static inline symbol *
symbol_at(core_engine *c, uint32_t id)
{
	return (id >= 1 && id <= c->nsymbols) ? &SYMBOLS(c)[id] : NULL;
}
uint32_t	asset_lookup(const core_engine *c, const char *code);
uint32_t	symbol_lookup(const core_engine *c, const char *name);
void		asset_to_info(const core_engine *c, uint32_t id, core_asset_info *out);
void		symbol_to_info(const core_engine *c, uint32_t id, core_symbol_info *out);
const char *asset_insert(core_engine *c, const core_asset_info *a);
const char *symbol_insert(core_engine *c, const core_symbol_info *s);

/* ---- ledger (ledger.c) ---- */

/*
 * Where a key's probe starts: slot 1 + (h * cap) >> 64 of slots 1..cap
 * (Lemire's multiply-shift range reduction).  An account's hash is
 * mix64(user id); its balance row of an asset hashes to that plus asset
 * times an odd constant, so a command hashes a user once for its account
 * and all its rows.
 */
static inline uint64_t
user_hash(int64_t user_id)
{
	return mix64((uint64_t) user_id);
}

/* Slots of an open-addressing table for n records: load at most 1/2. */
static inline uint32_t
table_cap(uint32_t n)
{
	return 2 * n + 1;
}

static inline uint32_t
table_home(uint64_t h, uint32_t cap)
{
	return 1 + (uint32_t) (((u128) h * cap) >> 64);
}

static inline uint32_t
account_home(const core_engine *c, uint64_t uh)
{
	return table_home(uh, c->account_cap);
}

static inline uint32_t
row_home(const core_engine *c, uint64_t uh, uint32_t asset_id)
{
	return table_home(uh + asset_id * UINT64_C(0x9e3779b97f4a7c15), c->balance_cap);
}

/* Account slot of a user, NIL if none; home: account_home of its hash. */
static inline uint32_t
ledger_probe_account(const core_engine *c, uint32_t home, int64_t user_id)
{
	const account *t = ACCOUNTS(c);

	for (uint32_t i = home;; i = i == c->account_cap ? 1 : i + 1)
	{
		if (LIKELY(t[i].user_id == user_id && t[i].seq != 0))
			return i;
		if (t[i].seq == 0)
			return NIL;
	}
}

static inline uint32_t
ledger_find_account(const core_engine *c, int64_t user_id)
{
	return ledger_probe_account(c, account_home(c, user_hash(user_id)), user_id);
}

/*
 * Balance row of (user, asset), or NIL; *empty (may be NULL) is then the
 * slot where ledger_add_row would put it, as long as no row is added in
 * between.  home: row_home of the user's hash and the asset.
 */
static inline uint32_t
ledger_probe_row(const core_engine *c, uint32_t home, int64_t user_id, uint32_t asset_id,
				 uint32_t *empty)
{
	const balance *t = BALANCES(c);

	for (uint32_t i = home;; i = i == c->balance_cap ? 1 : i + 1)
	{
		if (LIKELY(t[i].asset == asset_id && t[i].user_id == user_id))
			return i;
		if (t[i].asset == 0)
		{
			if (empty)
				*empty = i;
			return NIL;
		}
	}
}

static inline uint32_t
ledger_find_row(const core_engine *c, int64_t user_id, uint32_t asset_id, uint32_t *empty)
{
	return ledger_probe_row(c, row_home(c, user_hash(user_id), asset_id), user_id,
							asset_id, empty);
}

uint32_t	ledger_add_account(core_engine *c, int64_t user_id);	/* NIL if full */
/* Adds the row (the caller checked nbalances); at: from ledger_find_row or NIL. */
uint32_t	ledger_add_row(core_engine *c, uint32_t acct, uint32_t asset_id, uint32_t at);
uint32_t	ledger_get_or_add(core_engine *c, uint32_t acct, uint32_t asset_id); /* NIL if full */

static inline void
ledger_freeze(balance *b, int64_t amount)
{
	b->available -= amount;
	b->frozen += amount;
}

static inline void
ledger_release(balance *b, int64_t amount)
{
	b->frozen -= amount;
	b->available += amount;
}

/* ---- price ladder (ladder.c) ---- */

/* Position of a price on a side (price a positive multiple of the tick). */
static inline uint64_t
ladder_pos(const symbol *s, int side, int64_t price)
{
	uint64_t	ticks = exact_div((uint64_t) price, s->tick_div);

	return side == CORE_SELL ? ticks : ~ticks;
}

void		ladder_init(book_side *bs);
uint32_t	ladder_find(const core_engine *c, const book_side *bs, uint64_t pos);
uint32_t	ladder_add(core_engine *c, book_side *bs, uint64_t pos, int64_t price);
void		ladder_remove(core_engine *c, book_side *bs, uint32_t l);
bool		ladder_verify(const core_engine *c, const book_side *bs, uint32_t *npages,
						  char *detail, size_t len);

/* ---- books (book.c; the primitives that change them are in book.h) ---- */
uint32_t	book_level_at(const core_engine *c, uint32_t sym, int side, int64_t price);
void		order_to_info(const core_engine *c, uint32_t o, core_order_info *out);

/* ---- the digest's parts in its order (check.c) ---- */
void		digest_counters(hasher *h, const core_counters *k);
void		digest_refdata(hasher *h, const core_engine *c);	/* assets, symbols */
void		digest_account(hasher *h, const core_engine *c, uint32_t acct);	/* with its rows */

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

static inline void
emit(apply_ctx *a, const core_event *ev)
{
	if (a->fn)
		a->fn(a->fnctx, ev);
}

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

/* core_record_validate, inline for core_apply */
static inline const char *
record_validate(const core_record *rec)
{
	if (rec->type == CORE_REC_INVALID || rec->type >= CORE_REC_COUNT)
		return "unknown record type";
	return core_rectypes[rec->type].validate(rec);
}

#pragma GCC visibility pop

#endif							/* ENGINE_CORE_INT_H */
