/*
 * core.h — the public interface of the matching core.
 *
 * The core is a pure, deterministic state machine: it holds assets, symbols,
 * user balances and order books in one arena of memory the caller provides,
 * and changes that state only through core_apply(), one command record at a
 * time.  The same record applied to the same state always yields the same new
 * state and the same events, on any machine, live or in replay.
 *
 * Rules the core keeps (and that callers may rely on):
 *   - no PostgreSQL header, no I/O, no clock, no randomness, no malloc;
 *   - every link inside the arena is a 32-bit index, never a pointer, so the
 *     arena may live in shared memory mapped at any address;
 *   - amounts are int64 in an asset's smallest unit; a price is quote units
 *     per one whole base unit; products use 128-bit intermediates and any
 *     result that does not fit int64 is rejected, never wrapped;
 *   - outcomes never depend on hash-table order or on slot indexes;
 *   - a log of accepted commands always replays to a ready engine: no
 *     sequence of records, however hostile, can overflow a sum the core
 *     keeps or leave a state that core_verify refuses (see "Accumulators"
 *     below for why each sum fits);
 *   - no free orders, no free trades: every limit order is worth at least
 *     one quote unit when it arrives, every resting order at least one quote
 *     unit at its own price (orders left by release 1.0 aside: the first
 *     taker to reach one cancels it), and every fill moves at least one
 *     quote unit (doc/semantics.md, "Order value and dust").
 *
 * Accumulators, and why none can overflow:
 *   - balances and fees: every balance of an asset, the fee account's
 *     included, is part of its supply (sum of deposits minus withdrawals),
 *     which DEPOSIT keeps within int64 (reason overflow);
 *   - an order's value, lock and a trade's quote: checked to fit int64 when
 *     the order is placed or amended (reason overflow); every later value
 *     is of a smaller quantity at the same price;
 *   - an order's filled + remaining: at most its qty; an amend that would
 *     push it past int64 is refused (reason overflow);
 *   - an order's notional (sum of price * qty over fills) is 128-bit: at
 *     most INT64_MAX * INT64_MAX < 2^126;
 *   - a price level's quantity (sum of its orders' remainders) is 128-bit:
 *     at most max_orders * INT64_MAX < 2^93.  Bids are not bounded by any
 *     supply (a buy of 5 whole units of an 18-decimal asset at one tick
 *     locks a few quote units), so refusing would let a small account
 *     block a price level for everyone;
 *   - fill-or-kill and the "will it rest" check walk the book subtracting
 *     from the order's quantity, never summing the book;
 *   - counts (orders, levels, trades and cancels per command) are bounded
 *     by the pools, which core_arena_size keeps below 2^30;
 *   - seq, next_order_id, next_trade_id: each command adds 1 to seq, at
 *     most 1 to next_order_id and at most one more than the number of
 *     orders it takes off the books to next_trade_id (every trade but a
 *     command's last fills its maker), so next_trade_id <= 2 * seq + 1 and
 *     none reaches 2^63 within 2^62 commands (146,000 years at a million
 *     commands per second);
 *   - core_verify sums in 128 bits.
 *
 * Thread safety: none.  The caller serialises writers against readers (the
 * PostgreSQL shell holds an LWLock exclusively around core_apply and shared
 * around the read functions).
 */
#ifndef ENGINE_CORE_H
#define ENGINE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sizes of the fixed-width text fields (bytes, without the terminating NUL). */
#define CORE_ASSET_CODE_MAX   16
#define CORE_SYMBOL_NAME_MAX  32
#define CORE_CLIENT_ID_MAX    36
#define CORE_MAX_DECIMALS     18
#define CORE_FEE_SCALE        1000000  /* fee rates are parts per million */

/*
 * Payload format written by core_record_encode().  Format 1 is release
 * 1.0's; format 2 adds CREATE_SYMBOL.min_notional and
 * PLACE.max_open_orders at the end of their payloads.  The decoder reads
 * both; a format-1 payload decodes with the added fields 0, which is
 * exactly what release 1.0 did with it.
 */
#define CORE_RECORD_FORMAT    2
#define CORE_RECORD_FORMAT_MIN 1	/* oldest format core_record_decode reads */
#define CORE_RECORD_MAX_BYTES 128

typedef struct core core_engine;	/* one engine: the arena header; opaque */

/* ---------------------------------------------------------------------
 * Capacities and arena
 * --------------------------------------------------------------------- */

typedef struct core_limits
{
	uint32_t	max_assets;		/* asset ids 1..max_assets */
	uint32_t	max_symbols;	/* symbol ids 1..max_symbols */
	uint32_t	max_accounts;	/* users with any balance, fee account included */
	uint32_t	max_balances;	/* (user, asset) pairs over all users */
	uint32_t	max_orders;		/* resting orders over all books */
} core_limits;

/* Alignment core_create requires of the arena (a cache line). */
#define CORE_ARENA_ALIGN 64

/*
 * The price ladder's geometry (see "Memory layout" below): tick positions
 * per ladder page, pages a book side's window maps, and pages in the pool
 * shared by every book of an engine with max_orders orders.
 */
#define CORE_LADDER_PAGE_TICKS   64
#define CORE_LADDER_WINDOW_PAGES 64
#define CORE_LADDER_PAGES(max_orders) ((max_orders) / 16 + 4)

/*
 * Memory layout.  The arena is one array per kind of object, each starting
 * on a cache line, and core_arena_size is exactly their sum.  Slot 0 of
 * each array is unused (index 0 means "none"); every link is a 32-bit index.
 *
 *   header         256 B
 *   assets         (max_assets + 1) x 40 B, and a code hash: 4 B x the
 *                  least power of two >= 2 max_assets (at least 16)
 *   symbols        (max_symbols + 1) x 728 B: each holds both sides of its
 *                  book (level list ends, the ladder window and its summary
 *                  bitmap, treap roots); a name hash as above
 *   accounts       (2 max_accounts + 2) x 32 B: an open-addressing table,
 *                  at most half full; 4 B x (max_accounts + 1) of them in
 *                  creation order
 *   balance rows   (2 max_balances + 2) x 32 B: open addressing, at most
 *                  half full
 *   orders         (max_orders + 1) x (64 B hot record + 64 B cold record
 *                  + 37 B client id + 8 B links in its account's list); an
 *                  id hash of 4 B x the least power of two >= 2 max_orders;
 *                  (max_orders + 1) x 64 B price levels
 *   ladder pages   (CORE_LADDER_PAGES(max_orders) + 1) x 280 B
 *
 * That is about 263 bytes per order, 324 per account with four balance
 * rows and 736 per symbol.
 *
 * A level's position on the price ladder is its price in ticks (bids
 * mirrored, so that a smaller position is a better price on both sides).
 * CORE_LADDER_PAGE_TICKS consecutive positions form a page, which maps each
 * position to its level directly and marks the occupied ones in a bitmap.
 * Pages exist only while they hold a level and come from one pool of
 * CORE_LADDER_PAGES(max_orders) pages for all books.  A book side finds
 * its pages through a window of CORE_LADDER_WINDOW_PAGES pages (4,096
 * ticks) that follows its best price, with a summary bitmap of the pages
 * present — a load or two — and beyond the window through a treap of its
 * pages (O(log pages)).  A level whose page cannot be had because the pool
 * is used up (a book spread over that many 64-tick ranges: orders
 * scattered over a huge span of prices) is kept in a treap of its side
 * instead (O(log levels)) and moves into a page once one is made for its
 * range.  So every price from one tick to INT64_MAX works, and the ladder
 * never takes more memory than the pages above, whatever the prices.
 */

/* Bytes of arena needed for these limits (0 if a limit is 0 or too large). */
size_t		core_arena_size(const core_limits *limits);

/*
 * Lay out an empty engine in mem (size bytes, at least core_arena_size(),
 * aligned to CORE_ARENA_ALIGN).  Returns the engine, or NULL if mem is
 * misaligned, size is too small or a limit is invalid.  Only the header,
 * the hash buckets, the account and balance tables and the NIL slots are
 * written; the rest of mem (the order, level and page pools) may hold
 * anything.
 * The fee account (user 0) exists from the start.
 */
core_engine *core_create(void *mem, size_t size, const core_limits *limits);

/* The limits an engine was created with. */
core_limits core_get_limits(const core_engine *c);

/* ---------------------------------------------------------------------
 * Enumerations
 * --------------------------------------------------------------------- */

typedef enum core_rectype
{
	CORE_REC_INVALID = 0,
	CORE_REC_CREATE_ASSET = 1,
	CORE_REC_CREATE_SYMBOL = 2,
	CORE_REC_SET_SYMBOL_STATUS = 3,
	CORE_REC_DEPOSIT = 4,
	CORE_REC_WITHDRAW = 5,
	CORE_REC_PLACE = 6,
	CORE_REC_CANCEL = 7,
	CORE_REC_CANCEL_ALL = 8,
	CORE_REC_AMEND = 9,
	CORE_REC_COUNT
} core_rectype;

typedef enum core_side { CORE_BUY = 0, CORE_SELL = 1 } core_side;
typedef enum core_tif { CORE_GTC = 0, CORE_IOC = 1, CORE_FOK = 2 } core_tif;
typedef enum core_stp
{
	CORE_STP_NONE = 0,
	CORE_STP_CANCEL_TAKER = 1,
	CORE_STP_CANCEL_MAKER = 2,
	CORE_STP_CANCEL_BOTH = 3
} core_stp;
typedef enum core_symbol_status { CORE_TRADING = 0, CORE_HALTED = 1 } core_symbol_status;

/* Status of a command's outcome and of an order (API.md's status texts). */
typedef enum core_status
{
	CORE_ST_OK = 0,				/* reference data and funds commands */
	CORE_ST_NEW,
	CORE_ST_PARTIALLY_FILLED,
	CORE_ST_FILLED,
	CORE_ST_CANCELED,
	CORE_ST_EXPIRED,
	CORE_ST_REJECTED,
	CORE_ST_AMENDED,			/* order events only: an amend took effect */
	CORE_ST_COUNT
} core_status;

/* Why a command was refused or an order stopped short. */
typedef enum core_reason
{
	CORE_R_NONE = 0,
	CORE_R_INVALID,				/* record failed its shape checks */
	CORE_R_UNKNOWN_ASSET,
	CORE_R_UNKNOWN_SYMBOL,
	CORE_R_UNKNOWN_ORDER,		/* no such resting order of this user */
	CORE_R_DUPLICATE_ASSET,
	CORE_R_DUPLICATE_SYMBOL,
	CORE_R_INSUFFICIENT_FUNDS,
	CORE_R_OVERFLOW,
	CORE_R_CAPACITY,
	CORE_R_HALTED,
	CORE_R_POST_ONLY,			/* post-only order would trade on arrival */
	CORE_R_FOK,					/* fill-or-kill could not fill completely */
	CORE_R_IOC,					/* ioc remainder expired */
	CORE_R_NO_LIQUIDITY,		/* market order ran out of book */
	CORE_R_FUNDS_EXHAUSTED,		/* market buy ran out of available quote */
	CORE_R_QUOTE_QTY,			/* market buy reached its quote_qty budget */
	CORE_R_SELF_TRADE,			/* self-trade prevention acted */
	CORE_R_DUST,				/* a fill or a remainder would be worth < 1 quote unit */
	CORE_R_OPEN_ORDERS_LIMIT,	/* the user already rests max_open_orders orders */
	CORE_R_COUNT
} core_reason;

/* Text names, stable: they are what SQL shows. */
const char *core_status_name(core_status s);	/* "new", "filled", ... "ok" */
const char *core_reason_name(core_reason r);	/* NULL for CORE_R_NONE */
const char *core_side_name(core_side s);		/* "buy" / "sell" */
const char *core_tif_name(core_tif t);
const char *core_stp_name(core_stp s);
const char *core_rectype_name(core_rectype t);	/* "PLACE", ... ; NULL if unknown */

/* ---------------------------------------------------------------------
 * Command records
 * --------------------------------------------------------------------- */

typedef struct core_rec_create_asset
{
	char		code[CORE_ASSET_CODE_MAX + 1];	/* NUL-terminated */
	uint8_t		decimals;
} core_rec_create_asset;

typedef struct core_rec_create_symbol
{
	char		name[CORE_SYMBOL_NAME_MAX + 1];
	uint32_t	base_asset;
	uint32_t	quote_asset;
	int64_t		tick_size;		/* quote units */
	int64_t		lot_size;		/* base units */
	int64_t		min_qty;		/* base units; 0 = none */
	int32_t		maker_fee_ppm;
	int32_t		taker_fee_ppm;
	int64_t		min_notional;	/* quote units; 0 = none beyond the 1-unit floor
								 * (format 2) */
} core_rec_create_symbol;

typedef struct core_rec_set_symbol_status
{
	uint32_t	symbol;
	uint8_t		status;			/* core_symbol_status */
} core_rec_set_symbol_status;

typedef struct core_rec_funds		/* DEPOSIT and WITHDRAW */
{
	int64_t		user_id;
	uint32_t	asset;
	int64_t		amount;
} core_rec_funds;

typedef struct core_rec_place
{
	int64_t		user_id;
	uint32_t	symbol;
	uint8_t		side;			/* core_side */
	uint8_t		tif;			/* core_tif */
	uint8_t		stp;			/* core_stp */
	bool		post_only;
	int64_t		qty;			/* base units; 0 only for a market buy by quote_qty */
	int64_t		price;			/* quote units per whole base unit; 0 = market order */
	int64_t		quote_qty;		/* market buy budget in quote units; 0 = none */
	char		client_order_id[CORE_CLIENT_ID_MAX + 1];	/* "" = none */
	uint32_t	max_open_orders;	/* the user's limit of resting orders over
									 * all symbols, as the shell enforced it
									 * when it logged the record; 0 =
									 * unlimited (format 2) */
} core_rec_place;

typedef struct core_rec_cancel
{
	int64_t		user_id;
	int64_t		order_id;
} core_rec_cancel;

typedef struct core_rec_cancel_all
{
	int64_t		user_id;
	uint32_t	symbol;			/* 0 = every symbol */
} core_rec_cancel_all;

typedef struct core_rec_amend
{
	int64_t		user_id;
	int64_t		order_id;
	int64_t		qty;			/* new remaining qty; 0 = unchanged */
	int64_t		price;			/* new price; 0 = unchanged */
} core_rec_amend;

typedef struct core_record
{
	uint8_t		type;			/* core_rectype */
	int64_t		ts;				/* engine timestamp (microseconds), from the log */
	union
	{
		core_rec_create_asset create_asset;
		core_rec_create_symbol create_symbol;
		core_rec_set_symbol_status set_symbol_status;
		core_rec_funds funds;
		core_rec_place place;
		core_rec_cancel cancel;
		core_rec_cancel_all cancel_all;
		core_rec_amend amend;
	}			u;
} core_record;

/*
 * Binary payload codec (little-endian, first byte the format, then the
 * type byte, then the fields).  ts is not part of the payload: the log keeps
 * it in its own column.
 *
 * core_record_encode writes format CORE_RECORD_FORMAT, at most
 * CORE_RECORD_MAX_BYTES into buf, and returns the length.
 * core_record_decode reads formats CORE_RECORD_FORMAT_MIN to
 * CORE_RECORD_FORMAT (fields a format does not have decode as 0); it
 * returns false (and leaves *rec with type CORE_REC_INVALID) for any byte
 * string that is not exactly one well-formed payload of its format; it
 * never reads past len.
 */
size_t		core_record_encode(const core_record *rec, uint8_t *buf);
bool		core_record_decode(const uint8_t *buf, size_t len, core_record *rec);

/*
 * Shape checks that need no state (ranges, enums, text fields).  Returns
 * NULL when the record is well formed, else a short English reason naming
 * the field.  core_apply runs the same checks and rejects with
 * CORE_R_INVALID.
 */
const char *core_record_validate(const core_record *rec);

/*
 * Render a record as a JSON object text into buf (at most buflen bytes,
 * always NUL-terminated).  Returns the length the full text needs.
 */
size_t		core_record_desc(const core_record *rec, char *buf, size_t buflen);

/* CRC-32C (Castagnoli), continuing from crc (start with 0). */
uint32_t	core_crc32c(uint32_t crc, const void *data, size_t len);

/*
 * The order-value rule (doc/semantics.md, "Order value and dust").  A limit
 * order's value is floor(price * qty / 10^base_decimals) quote units; a
 * PLACE with a price, and an AMEND's new (price, remaining), must be worth
 * at least core_min_order_value(min_notional) = max(min_notional, 1).
 * core_check_order_value says whether (price, qty) passes, with *value (may
 * be NULL) set to the value when it fits int64.  price and qty are positive
 * smallest units, base_decimals at most CORE_MAX_DECIMALS.  core_apply
 * applies the same rule: CORE_VALUE_TOO_SMALL is rejected with reason
 * invalid, CORE_VALUE_OVERFLOW with reason overflow.
 */
typedef enum core_value_check
{
	CORE_VALUE_OK = 0,
	CORE_VALUE_TOO_SMALL,		/* worth less than max(min_notional, 1) */
	CORE_VALUE_OVERFLOW			/* price * qty / 10^base_decimals exceeds int64 */
} core_value_check;

static inline int64_t
core_min_order_value(int64_t min_notional)
{
	return min_notional > 1 ? min_notional : 1;
}

core_value_check core_check_order_value(int64_t price, int64_t qty,
										unsigned base_decimals,
										int64_t min_notional, int64_t *value);

/* ---------------------------------------------------------------------
 * Rules (rules.c): the predicates the core applies, exported so that a
 * caller can check its input the same way before it builds a record and
 * say precisely what is wrong.  Each rule is stated here once.
 * --------------------------------------------------------------------- */

/* 10^n, for 0 <= n <= CORE_MAX_DECIMALS. */
int64_t		core_pow10(unsigned n);

/*
 * The tick, lot and minimum rules are inline: the core asks them of every
 * PLACE and AMEND, and the shell of every order it checks, each without a
 * call.
 */

/* price is a whole number of ticks (0, a market order's price, is). */
static inline bool
core_price_on_tick(int64_t price, int64_t tick_size)
{
	return price % tick_size == 0;
}

/* qty is a whole number of lots (0, a quote_qty-only market buy, is). */
static inline bool
core_qty_on_lot(int64_t qty, int64_t lot_size)
{
	return qty % lot_size == 0;
}

/* qty is at least min_qty (min_qty 0: no minimum; qty 0 as above). */
static inline bool
core_qty_meets_min(int64_t qty, int64_t min_qty)
{
	return qty == 0 || qty >= min_qty;
}

/*
 * The quote value of qty base units at price, floor(price * qty /
 * 10^base_decimals) — what a limit buy locks — into *value; false when it
 * does not fit int64 (the order is refused, never wrapped).
 */
bool		core_order_value(int64_t price, int64_t qty, unsigned base_decimals,
							 int64_t *value);

/* Asset codes and symbol names: 1 to max characters from A-Z a-z 0-9 _ - . : / */
bool		core_code_ok(const char *s, size_t max);

/*
 * A client_order_id: at most CORE_CLIENT_ID_MAX printable ASCII characters
 * without space, quote or backslash ("" is none), so it goes into JSON and
 * SQL output unescaped.
 */
bool		core_client_id_ok(const char *s);

/* A fee rate in parts per million: 0 <= ppm < CORE_FEE_SCALE. */
bool		core_fee_ppm_ok(int64_t ppm);

/* Which combinations of PLACE arguments are allowed. */
typedef enum core_place_args
{
	CORE_PLACE_ARGS_OK = 0,
	CORE_PLACE_ARGS_MARKET_POST_ONLY,	/* post_only on a market order */
	CORE_PLACE_ARGS_MARKET_FOK,	/* fok on a market order */
	CORE_PLACE_ARGS_QUOTE_QTY,	/* quote_qty on anything but a market buy */
	CORE_PLACE_ARGS_NO_QTY		/* neither qty nor (market buy) quote_qty */
} core_place_args;

/* The first combination rule the arguments break, in the order above. */
core_place_args core_place_args_check(bool market, core_side side, core_tif tif,
									  bool post_only, bool has_qty, bool has_quote_qty);

/* The status of a resting order: partially_filled once it traded, else new. */
static inline core_status
core_resting_status(int64_t filled_qty)
{
	return filled_qty > 0 ? CORE_ST_PARTIALLY_FILLED : CORE_ST_NEW;
}

/*
 * An order's status from its last order event: an amend leaves it resting
 * (core_resting_status); any other event's status is the order's.
 */
static inline core_status
core_order_status(core_status last_event, int64_t filled_qty)
{
	return last_event == CORE_ST_AMENDED ? core_resting_status(filled_qty) : last_event;
}

/* The status whose core_status_name is name; false if none is. */
bool		core_status_from_name(const char *name, core_status *out);

/* ---------------------------------------------------------------------
 * Applying a record
 * --------------------------------------------------------------------- */

typedef enum core_event_type
{
	CORE_EV_ORDER = 1,			/* an order's state after this command */
	CORE_EV_TRADE = 2
} core_event_type;

typedef struct core_order_event
{
	int64_t		order_id;
	int64_t		user_id;
	uint32_t	symbol;
	uint8_t		side;
	uint8_t		status;			/* core_status: new, partially_filled, filled,
								 * canceled, expired, rejected, amended */
	uint8_t		reason;			/* core_reason */
	int64_t		price;			/* 0 for a market order */
	int64_t		qty;			/* the order's size as placed or last amended
								 * (a quote_qty-only market buy: what it got) */
	int64_t		filled_qty;		/* cumulative over the order's life */
	int64_t		remaining_qty;	/* 0 once the order is finished */
} core_order_event;

typedef struct core_trade_event
{
	int64_t		trade_id;
	uint32_t	symbol;
	uint8_t		taker_side;
	int64_t		price;			/* the resting order's price */
	int64_t		qty;			/* base units */
	int64_t		quote_qty;		/* floor(price * qty / 10^base_decimals) */
	int64_t		taker_order_id;
	int64_t		taker_user_id;
	int64_t		maker_order_id;
	int64_t		maker_user_id;
	int64_t		taker_fee;		/* in the asset the taker received */
	int64_t		maker_fee;		/* in the asset the maker received */
} core_trade_event;

typedef struct core_event
{
	uint8_t		type;			/* core_event_type */
	union
	{
		core_order_event order;
		core_trade_event trade;
	}			u;
} core_event;

/* Called once per event, in the order the events happen. */
typedef void (*core_event_fn) (void *ctx, const core_event *ev);

/* What the caller is told about one command. */
typedef struct core_result
{
	uint8_t		status;			/* core_status: ok, rejected, or the order's status */
	uint8_t		reason;			/* core_reason */
	uint32_t	id;				/* CREATE_ASSET / CREATE_SYMBOL: the new id */
	int64_t		order_id;		/* PLACE, CANCEL, AMEND: the order (0 if none) */
	int64_t		filled_qty;		/* cumulative */
	int64_t		remaining_qty;
	int64_t		avg_price;		/* volume-weighted, truncated; 0 with no fills */
	int32_t		trades;			/* trades made by this command */
	int32_t		canceled;		/* CANCEL_ALL: orders canceled */
	int64_t		available;		/* DEPOSIT / WITHDRAW: balance after */
	int64_t		frozen;
} core_result;

/*
 * Apply one record.  Always consumes one sequence number (the engine's seq
 * counter advances by one even when the command is rejected, so the log and
 * the state stay in step).  Emits events through fn (may be NULL) and fills
 * *out (may be NULL).  Never fails: a record the core cannot accept is
 * answered with status CORE_ST_REJECTED and a reason.
 */
void		core_apply(core_engine *c, const core_record *rec,
					   core_event_fn fn, void *ctx, core_result *out);

/*
 * A hint that rec will be applied soon: starts loading the account and
 * balance rows (and a CANCEL's or AMEND's order) it will touch, and changes
 * nothing.  Any record may be given, well formed or not.  With many
 * accounts each of those is a cache miss; a caller holding the records to
 * come (a batch, a log being replayed) calls it one or two records ahead
 * of core_apply.  Reads the state: needs what a read needs.
 */
void		core_prefetch(const core_engine *c, const core_record *rec);

/* Number of records applied so far (the seq of the last one). */
int64_t		core_seq(const core_engine *c);

/* ---------------------------------------------------------------------
 * Reads (never change state)
 * --------------------------------------------------------------------- */

typedef struct core_asset_info
{
	uint32_t	id;
	char		code[CORE_ASSET_CODE_MAX + 1];
	uint8_t		decimals;
	int64_t		supply;			/* sum of deposits minus sum of withdrawals */
} core_asset_info;

typedef struct core_symbol_info
{
	uint32_t	id;
	char		name[CORE_SYMBOL_NAME_MAX + 1];
	uint32_t	base_asset;
	uint32_t	quote_asset;
	int64_t		tick_size;
	int64_t		lot_size;
	int64_t		min_qty;
	int32_t		maker_fee_ppm;
	int32_t		taker_fee_ppm;
	uint8_t		status;			/* core_symbol_status */
	int64_t		min_notional;	/* quote units; 0 = only the 1-unit floor */
} core_symbol_info;

typedef struct core_balance_info
{
	int64_t		user_id;
	uint32_t	asset;
	int64_t		available;
	int64_t		frozen;
} core_balance_info;

typedef struct core_order_info
{
	int64_t		order_id;
	int64_t		user_id;
	uint32_t	symbol;
	uint8_t		side;
	uint8_t		stp;
	bool		post_only;
	int64_t		price;
	int64_t		qty;			/* filled + remaining */
	int64_t		filled_qty;
	int64_t		remaining_qty;
	int64_t		locked;			/* funds this order holds frozen */
	int64_t		notional_hi;	/* sum of price*qty over fills, 128-bit */
	uint64_t	notional_lo;
	int64_t		created_ts;		/* ts of the PLACE record */
	int64_t		queued_seq;		/* seq at which it joined its level's queue */
	char		client_order_id[CORE_CLIENT_ID_MAX + 1];
} core_order_info;

/*
 * A price level.  Its quantity, the sum of its orders' remainders, can
 * exceed int64 (many bids of the largest quantity at one price), so it
 * comes as an unsigned 128-bit number in two halves: qty_hi * 2^64 +
 * qty_lo base units.  qty_hi is 0 whenever the sum fits 64 bits.
 */
typedef struct core_level_info
{
	uint8_t		side;
	int64_t		price;
	uint64_t	qty_hi;			/* sum of remaining qty at this price, */
	uint64_t	qty_lo;			/* = qty_hi * 2^64 + qty_lo */
	int32_t		orders;
} core_level_info;

typedef struct core_counters
{
	int64_t		seq;
	int64_t		next_order_id;
	int64_t		next_trade_id;
	uint32_t	assets;			/* assets created */
	uint32_t	symbols;		/* symbols created */
	uint32_t	accounts;		/* accounts, fee account included */
	uint32_t	balances;
	uint32_t	orders;			/* resting orders */
} core_counters;

core_counters core_get_counters(const core_engine *c);

/* Lookups; return false if absent. */
bool		core_asset_get(const core_engine *c, uint32_t id, core_asset_info *out);
uint32_t	core_asset_find(const core_engine *c, const char *code);	/* 0 if none */
bool		core_symbol_get(const core_engine *c, uint32_t id, core_symbol_info *out);
uint32_t	core_symbol_find(const core_engine *c, const char *name);	/* 0 if none */
bool		core_order_get(const core_engine *c, int64_t order_id, core_order_info *out);
bool		core_balance_get(const core_engine *c, int64_t user_id, uint32_t asset,
							 core_balance_info *out);

/*
 * Iterators call fn for each item and stop early when fn returns false.
 * Balances of one user come in asset-id order; open orders of one user in
 * order-id order (symbol 0 = all symbols); book levels best price first,
 * at most max_levels per side (0 = all).
 */
typedef bool (*core_balance_fn) (void *ctx, const core_balance_info *b);
typedef bool (*core_order_fn) (void *ctx, const core_order_info *o);
typedef bool (*core_level_fn) (void *ctx, const core_level_info *l);

void		core_user_balances(const core_engine *c, int64_t user_id,
							   core_balance_fn fn, void *ctx);
void		core_user_orders(const core_engine *c, int64_t user_id, uint32_t symbol,
							 core_order_fn fn, void *ctx);
void		core_book_levels(const core_engine *c, uint32_t symbol, core_side side,
							 uint32_t max_levels, core_level_fn fn, void *ctx);

/* Orders resting at one level in queue order (for tests and snapshots). */
void		core_level_orders(const core_engine *c, uint32_t symbol, core_side side,
							  int64_t price, core_order_fn fn, void *ctx);

/* ---------------------------------------------------------------------
 * Invariants and digest
 * --------------------------------------------------------------------- */

/*
 * Check every invariant (DESIGN §6): conservation per asset, no negative
 * balance, frozen equals the locks of resting orders per (user, asset), each
 * order's lock equals what its remainder needs, books not crossed, levels
 * sorted, level totals and counts match their queues, the order-id index
 * agrees with the books, per-user order lists and their counts (which the
 * open-order limit reads) agree with the books.  It does not require a
 * resting order to be worth one quote unit: release 1.0 could rest orders
 * worth nothing, and a state it left must still load.
 *
 * fn (may be NULL) is called once per check, in a fixed order, with
 * detail = NULL when it holds or a text naming the first place it fails.
 * Returns true when all hold.
 */
typedef void (*core_check_fn) (void *ctx, const char *check, bool ok,
							   const char *detail);
bool		core_verify(const core_engine *c, core_check_fn fn, void *ctx);

/*
 * Parts of core_verify for recovery, which must not pay for a whole walk
 * over the orders after restoring them with core_restore_order_checked
 * (which checks the rest as the orders arrive).  Both report through fn
 * like core_verify, with the same check names, and return true when every
 * check they run holds.
 *
 * core_verify_global: balances_non_negative, conservation,
 * book_not_crossed and levels_sorted — linear in balances and levels.
 *
 * core_verify_accounts: order_locks, frozen_equals_locks and the account
 * lists of indexes_agree, for the accounts of the n users given (unknown
 * users are skipped; a user may be given twice) — linear in their orders.
 * Recovery calls it with the users the replayed records touched.
 */
bool		core_verify_global(const core_engine *c, core_check_fn fn, void *ctx);
bool		core_verify_accounts(const core_engine *c, const int64_t *user_ids, size_t n,
								 core_check_fn fn, void *ctx);

/*
 * core_verify_all_accounts: the checks of core_verify_accounts for every
 * account at once (order_locks, frozen_equals_locks and the account lists
 * of indexes_agree, reported through fn under those names, in that order),
 * in one pass over the order slots and one over the balance table instead
 * of a walk per account: cheaper than core_verify_accounts once more than
 * a few tens of thousands of accounts are to be checked (measured by
 * bench_core --restore; recovery switches between the two).  On top of
 * them it checks, under indexes_agree, that every balance row is found
 * under its key and that the order slots in use are as many as the
 * resting orders counted.  scratch is caller memory of
 * core_verify_all_accounts_size(limits) bytes for the engine's limits
 * (any contents, 8-byte aligned as malloc and palloc give it: about 16 B
 * per balance slot and 8 B per account slot of the tables, i.e. 32 B per
 * balance and 16 B per account of the limits); only read from c.
 */
#define CORE_HAS_VERIFY_ALL_ACCOUNTS 1

size_t		core_verify_all_accounts_size(const core_limits *limits);
bool		core_verify_all_accounts(const core_engine *c, void *scratch,
									 core_check_fn fn, void *ctx);

/*
 * 128-bit hash of the canonical state; equal states give equal digests.
 *
 * Digest rule: a field added to the state after release 1.0 is hashed only
 * when it is not zero (with a tag saying which field it is), so the digest
 * of a state that does not use any such field is exactly the digest release
 * 1.0 computed for it.  An engine upgraded in place therefore reports the
 * digest its snapshot and its log were written with.  Fields added so far:
 * symbol min_notional.  Derived data (per-account order counts, level
 * totals) is never hashed.
 */
typedef struct core_digest
{
	uint64_t	hi;
	uint64_t	lo;
} core_digest;

core_digest core_state_digest(const core_engine *c);

/* Lower-case hex, 32 characters + NUL. */
void		core_digest_hex(core_digest d, char out[33]);

/* ---------------------------------------------------------------------
 * Snapshots: walk the whole state in canonical order, restore it
 * --------------------------------------------------------------------- */

/*
 * core_walk calls, in this order: counters once; every asset by id; every
 * symbol by id; every balance by account creation order then asset id; every
 * resting order per symbol by id, bids best first then asks best first, each
 * level in queue order.  Any callback may be NULL.
 */
typedef struct core_walker
{
	void		(*counters) (void *ctx, const core_counters *k);
	void		(*asset) (void *ctx, const core_asset_info *a);
	void		(*symbol) (void *ctx, const core_symbol_info *s);
	void		(*balance) (void *ctx, const core_balance_info *b);
	void		(*order) (void *ctx, const core_order_info *o);
} core_walker;

void		core_walk(const core_engine *c, const core_walker *w, void *ctx);

/*
 * Restore: start from core_create() (an empty engine), then feed the items
 * in the order core_walk produced them, then call core_restore_finish.
 * Each call returns NULL on success or a text saying what is wrong (bad
 * reference, capacity, out of order); the state is then unusable and must
 * be created anew.
 */
const char *core_restore_asset(core_engine *c, const core_asset_info *a);
const char *core_restore_symbol(core_engine *c, const core_symbol_info *s);
const char *core_restore_balance(core_engine *c, const core_balance_info *b);
const char *core_restore_order(core_engine *c, const core_order_info *o);
const char *core_restore_finish(core_engine *c, const core_counters *k);

/*
 * A restore that checks invariants while it runs (recovery's check of a
 * snapshot, instead of a core_verify afterwards): restore assets, symbols
 * and balances as above, then core_restore_check_begin, then every order
 * through core_restore_order_checked (or core_restore_orders), then
 * core_restore_check_finish, then core_restore_finish.  On top of
 * core_restore_order's own checks it refuses an order whose lock is not
 * what its remainder needs, orders out of book order (by symbol, bids then
 * asks, best level first, each level in queued_seq order, as core_walk
 * gives them), and at the finish any balance whose frozen amount is not
 * the sum of its orders' locks.  With core_verify_global afterwards, that
 * is every check of core_verify.
 *
 * Between the begin and the finish the state is in the making: the
 * balances' frozen amounts count down the locks of the orders seen, and
 * the users' order lists are empty; the finish puts the frozen amounts
 * back and links every order into its user's list (in order-id order, by
 * a radix sort in the scratch memory).  A restore that stops with an error
 * before the finish leaves an unusable state, as any refused restore does.
 * scratch is caller memory of core_restore_check_size() bytes (any
 * contents, 8-byte aligned as malloc and palloc give it: about 16 B per
 * balance slot and 24 B per order of the limits), kept until the finish.
 */
typedef struct core_restore_check
{
	int64_t    *frozen;			/* per balance slot: its frozen amount */
	int64_t    *link_key;		/* per order restored: its id, then sort keys */
	int64_t    *link_tmp;		/* the radix sort's second buffer */
	uint32_t   *link_slot;		/* per order restored: its slot */
	uint32_t   *link_acct;		/* and its account's slot */
	int64_t		min_id;			/* least and greatest order id restored */
	int64_t		max_id;
	uint64_t	orders;			/* orders restored so far */
	uint32_t	symbol;			/* the last order's place in book order */
	uint8_t		side;
	int64_t		key;
	int64_t		queued_seq;
} core_restore_check;

size_t		core_restore_check_size(const core_limits *limits);
void		core_restore_check_begin(core_engine *c, core_restore_check *rc, void *scratch);
const char *core_restore_order_checked(core_engine *c, core_restore_check *rc,
									   const core_order_info *o);
const char *core_restore_check_finish(core_engine *c, core_restore_check *rc);

/*
 * Batch restore: the same as one call per item, for a whole array of
 * items at once (recovery hands over a chunk of a snapshot at a time), with
 * the same checks, the same refusals and the same resulting state; it
 * starts loading the memory item i + a few needs while it works on item i,
 * so that the cache misses of consecutive items overlap.  Each returns NULL
 * when all n items were restored, else the refusal text of the first item
 * refused, and *done (may be NULL) is the number of items restored before
 * it.  core_restore_balances is core_restore_balance on each item;
 * core_restore_orders is core_restore_order_checked on each item.
 *
 * d (may be NULL in both) computes the state digest as the items go in:
 * core_restore_digest_begin after the assets and symbols and before any
 * balance, with the counters the restore will be finished with;
 * core_restore_digest_end after core_restore_finish gives the digest of
 * the restored state.  When the items come in walk order (every user's
 * balances together, in asset-id order, the fee account's first), that is
 * the hash chain fed with the items' values, at no cost of its own beyond
 * the hashing; otherwise (canonical is then false: only a hand-made list of
 * items does that, or a restore that did not pass every balance and order
 * through d, or finished with other counters) it is core_state_digest of
 * the restored state.
 */
#define CORE_HAS_RESTORE_BATCH 1

typedef struct core_restore_digest
{
	uint64_t	a;				/* the hash chain so far */
	uint64_t	b;
	core_counters k;			/* the counters it began with */
	uint32_t	accounts;		/* accounts, balances and orders hashed */
	uint32_t	balances;
	uint32_t	orders;
	int64_t		user;			/* the user whose balances were hashed last */
	uint32_t	asset;			/* and the asset of the last of them */
	bool		fee_hashed;		/* the fee account (user 0) is hashed */
	bool		orders_begun;
	uint32_t	symbol;			/* the level hashed last */
	uint8_t		side;
	int64_t		price;
	bool		canonical;		/* the chain is the digest (see above) */
} core_restore_digest;

void		core_restore_digest_begin(const core_engine *c, core_restore_digest *d,
									  const core_counters *k);
const char *core_restore_balances(core_engine *c, core_restore_digest *d,
								  const core_balance_info *b, size_t n, size_t *done);
const char *core_restore_orders(core_engine *c, core_restore_check *rc, core_restore_digest *d,
								const core_order_info *o, size_t n, size_t *done);
core_digest core_restore_digest_end(const core_engine *c, core_restore_digest *d);

/* ---------------------------------------------------------------------
 * Items as bytes: the snapshot format (format 2 in engine.snapshots)
 * --------------------------------------------------------------------- */

/*
 * A snapshot stores the canonical walk as items of four kinds, each kind
 * in its own chunks.  An item's bytes are little-endian fields in a fixed
 * order, text as a length byte and its bytes; the layout belongs to the
 * snapshot format, not to the arena, so it survives changes of the slots.
 * core_item_encode writes at most CORE_ITEM_MAX_BYTES and returns the
 * length (0 for an unknown kind).  core_item_decode reads one item of the
 * given kind from the start of buf (len bytes) and returns the bytes it
 * took, or 0 (and a zeroed *it) when they are not a well-formed item of
 * that kind; it checks shapes (lengths, enumerations, printable text), the
 * restore functions check meanings.
 */
typedef enum core_item_kind
{
	CORE_ITEM_ASSET = 1,
	CORE_ITEM_SYMBOL = 2,
	CORE_ITEM_BALANCE = 3,
	CORE_ITEM_ORDER = 4
} core_item_kind;

#define CORE_ITEM_MAX_BYTES 128

typedef struct core_item
{
	uint8_t		kind;			/* core_item_kind */
	union
	{
		core_asset_info asset;
		core_symbol_info symbol;
		core_balance_info balance;
		core_order_info order;
	}			u;
} core_item;

size_t		core_item_encode(const core_item *it, uint8_t *buf);
size_t		core_item_decode(uint8_t kind, const uint8_t *buf, size_t len, core_item *it);

/* ---------------------------------------------------------------------
 * Copies
 * --------------------------------------------------------------------- */

/*
 * Copy engine src into dst (dst_size bytes, aligned to CORE_ARENA_ALIGN,
 * at least src's arena size), which becomes an engine in the same state:
 * same digest, same walk, and the same outcome for every record applied
 * to either; the two share nothing.  Only what the state uses is copied:
 * the pools' slots that were never handed out are skipped (nothing reads
 * them).  Returns the copy, or NULL (nothing written) if dst is NULL,
 * misaligned or too small.  core_used_bytes is how many bytes it copies.
 */
core_engine *core_copy(void *dst, size_t dst_size, const core_engine *src);
size_t		core_used_bytes(const core_engine *c);

#endif							/* ENGINE_CORE_H */
