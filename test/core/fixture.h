/*
 * fixture.h — a small engine in a malloc'd arena for the core's unit tests.
 *
 * fx_new() lays out an engine; the fx_* command helpers build one record,
 * apply it, keep the result in f->r and every event it emitted in f->ev
 * (reset per command), and return the result.  The FX_* check macros compare
 * balances and events field by field so a failing test names the exact
 * number that is off.  Everything here is test-only; names start with fx_ so
 * they do not clash with other test files linked into the same binary.
 */
#ifndef ENGINE_TEST_FIXTURE_H
#define ENGINE_TEST_FIXTURE_H

#include "core.h"
#include "testutil.h"

#define FX_MAX_EVENTS 256
#define FX_MAX_ORDERS 64

typedef struct fx
{
	void	   *mem;
	size_t		size;
	core_engine *c;
	core_result r;				/* result of the last command */
	core_event	ev[FX_MAX_EVENTS];	/* events of the last command */
	int			nev;
	int64_t		ts;				/* timestamp stamped on the next record */
} fx;

/* Limits roomy enough for every scenario that is not about capacity. */
core_limits fx_default_limits(void);

fx		   *fx_new(void);
fx		   *fx_new_limits(const core_limits *lim);
void		fx_free(fx *f);

/* Apply any record; collects events, returns the result. */
core_result fx_apply(fx *f, const core_record *rec);

/*
 * The plain market most scenarios use: asset 1 "AAA" (2 decimals, the base),
 * asset 2 "QQQ" (2 decimals, the quote), symbol 1 "AAA_QQQ" with tick 1,
 * lot 1, no min qty and the given fee rates.  The quote value of q base
 * units at price p is floor(p * q / 100).
 */
#define FX_BASE   1
#define FX_QUOTE  2
#define FX_SYM    1
fx		   *fx_simple(int32_t maker_ppm, int32_t taker_ppm);

/* Reference data.  Return the new id (0 when rejected). */
uint32_t	fx_asset(fx *f, const char *code, int decimals);
uint32_t	fx_symbol(fx *f, const char *name, uint32_t base, uint32_t quote,
					  int64_t tick, int64_t lot, int64_t min_qty,
					  int32_t maker_ppm, int32_t taker_ppm);
core_result fx_set_status(fx *f, uint32_t symbol, core_symbol_status st);

/* Funds. */
core_result fx_deposit(fx *f, int64_t user, uint32_t asset, int64_t amount);
core_result fx_withdraw(fx *f, int64_t user, uint32_t asset, int64_t amount);

/* Orders.  fx_place_ex takes a filled-in place record. */
core_result fx_limit(fx *f, int64_t user, uint32_t symbol, core_side side,
					 int64_t qty, int64_t price, core_tif tif);
core_result fx_market(fx *f, int64_t user, uint32_t symbol, core_side side,
					  int64_t qty, int64_t quote_qty);
core_rec_place fx_place_rec(int64_t user, uint32_t symbol, core_side side,
							int64_t qty, int64_t price, core_tif tif);
core_result fx_place_ex(fx *f, const core_rec_place *p);
core_result fx_cancel(fx *f, int64_t user, int64_t order_id);
core_result fx_cancel_all(fx *f, int64_t user, uint32_t symbol);
core_result fx_amend(fx *f, int64_t user, int64_t order_id, int64_t qty, int64_t price);

/* Reads. */
int64_t		fx_avail(fx *f, int64_t user, uint32_t asset);	/* -1 if no row */
int64_t		fx_frozen(fx *f, int64_t user, uint32_t asset);	/* -1 if no row */
bool		fx_has_order(fx *f, int64_t order_id);
/* Order ids resting at one level, in queue order; returns how many. */
int			fx_level_ids(fx *f, uint32_t symbol, core_side side, int64_t price,
						 int64_t *ids, int max);
/* Levels of one side, best first; returns how many. */
int			fx_levels(fx *f, uint32_t symbol, core_side side,
					  core_level_info *out, int max);
/* Number of events of one type in the last command. */
int			fx_count(fx *f, core_event_type type);

/* Runs core_verify; prints every failing check.  True when all hold. */
bool		fx_verify(fx *f);
char	   *fx_digest(fx *f, char out[33]);

/* Everything core_walk produced, in walk order. */
typedef struct fx_walk
{
	core_counters k;
	int			nk;				/* times the counters callback ran */
	core_asset_info *a;
	int			na;
	core_symbol_info *s;
	int			ns;
	core_balance_info *b;
	int			nb;
	core_order_info *o;
	int			no;
	int			cap;
	int			seq[4 * 4096];	/* item kinds in callback order: 0 counters, 1 asset, ... */
	int			nseq;
} fx_walk;

fx_walk    *fx_walk_take(fx *f);
void		fx_walk_free(fx_walk *w);

/*
 * Restore w into a fresh engine with limits lim.  Returns NULL and sets
 * *err (never NULL then) when a restore step refuses.
 */
fx		   *fx_walk_restore(const fx_walk *w, const core_limits *lim, const char **err);

/*
 * A fresh engine restored from f's core_walk (same limits unless lim is
 * given).  Returns NULL and reports a test failure if any restore step fails.
 */
fx		   *fx_roundtrip(fx *f, const core_limits *lim);

/* ------------------------------------------------------------------ checks */

#define FX_BAL(f, user, asset, avail, frozen) \
	do { \
		CHECK_EQ(fx_avail((f), (user), (asset)), (avail)); \
		CHECK_EQ(fx_frozen((f), (user), (asset)), (frozen)); \
	} while (0)

#define FX_VERIFY(f) CHECK(fx_verify(f))

/* The last command's result. */
#define FX_RES(f, st, rsn, filled, remaining) \
	do { \
		CHECK_EQ((f)->r.status, (st)); \
		CHECK_EQ((f)->r.reason, (rsn)); \
		CHECK_EQ((f)->r.filled_qty, (filled)); \
		CHECK_EQ((f)->r.remaining_qty, (remaining)); \
	} while (0)

/* Event i of the last command is a trade with these fields. */
#define FX_TRADE(f, i, tid, px, q, qq, taker_oid, maker_oid, tfee, mfee) \
	do { \
		CHECK((i) < (f)->nev); \
		if ((i) < (f)->nev) { \
			const core_event *_e = &(f)->ev[(i)]; \
			CHECK_EQ(_e->type, CORE_EV_TRADE); \
			if (_e->type == CORE_EV_TRADE) { \
				CHECK_EQ(_e->u.trade.trade_id, (tid)); \
				CHECK_EQ(_e->u.trade.price, (px)); \
				CHECK_EQ(_e->u.trade.qty, (q)); \
				CHECK_EQ(_e->u.trade.quote_qty, (qq)); \
				CHECK_EQ(_e->u.trade.taker_order_id, (taker_oid)); \
				CHECK_EQ(_e->u.trade.maker_order_id, (maker_oid)); \
				CHECK_EQ(_e->u.trade.taker_fee, (tfee)); \
				CHECK_EQ(_e->u.trade.maker_fee, (mfee)); \
			} \
		} \
	} while (0)

/* Event i of the last command is an order event with these fields. */
#define FX_OEV(f, i, oid, st, rsn, filled, remaining) \
	do { \
		CHECK((i) < (f)->nev); \
		if ((i) < (f)->nev) { \
			const core_event *_e = &(f)->ev[(i)]; \
			CHECK_EQ(_e->type, CORE_EV_ORDER); \
			if (_e->type == CORE_EV_ORDER) { \
				CHECK_EQ(_e->u.order.order_id, (oid)); \
				CHECK_EQ(_e->u.order.status, (st)); \
				CHECK_EQ(_e->u.order.reason, (rsn)); \
				CHECK_EQ(_e->u.order.filled_qty, (filled)); \
				CHECK_EQ(_e->u.order.remaining_qty, (remaining)); \
			} \
		} \
	} while (0)

#endif
