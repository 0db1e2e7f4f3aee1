/*
 * prop_core.c — randomized property tests of the matching core.
 *
 * A seeded generator (splitmix64: no clock, no rand()) runs a small exchange
 * — 4 assets, 3 symbols, a few hundred users — through a realistic mix of
 * commands: deposits and withdrawals, limit gtc/ioc/fok and post-only
 * orders, market buys by qty and by quote_qty, market sells, every stp mode,
 * cancels of own, others' and unknown orders, cancel_all, amends of qty and
 * price, halting and resuming symbols, reference-data commands the core must
 * refuse, and now and then a record that is malformed on purpose.  One
 * symbol has a min_notional; on another a lot is worth a fraction of a
 * quote unit, so orders near the value floor, fills worth nothing and
 * remainders left as dust are common.  PLACE records carry a per-user
 * open-order limit, mostly the run's, sometimes another.
 *
 * The test keeps its own account of what it can know without matching
 * anything itself: the open orders as the event stream describes them, the
 * net deposits per asset, the fees credited to user 0, the next order and
 * trade ids, which symbols are halted.  After each command it checks the
 * result and the events against that account: trade values and fees are
 * recomputed independently, makers must be open at the trade price on the
 * other side, self-trades happen only with stp none, ioc and market orders
 * never rest, fok fills whole or not at all, refused cancels and amends
 * emit nothing, no trade moves base for zero quote, no order rests worth
 * less than one quote unit, nobody rests more orders than the limit their
 * PLACE carried, and so on.  At intervals it runs core_verify, walks the
 * state to check conservation (against its own deposit ledger) and every
 * lock (against its own sums), and round-trips the state through
 * core_walk / core_restore_* (in turn: the plain restore, the checked restore
 * of a snapshot through the items' bytes item by item, the same in batches
 * of random sizes with the digest computed from the items, and core_copy):
 * the restored engine must have the same digest (and the batch restore's
 * digest from the items must be that digest), every user the same open
 * orders in the same order, and, fed the next commands alongside the
 * original, give the same results and events; the run then goes on with
 * the restored engine.
 *
 * On the first failure a run stops and prints the seed, the seq and the
 * last commands as JSON, which is enough to replay them by hand.
 *
 * The seeds are fixed.  To explore others, set PROP_SEED=n: every test then
 * adds n to its own seed (still deterministic, so a failure can be rerun).
 */
#include <stdarg.h>
#include <stdlib.h>

#include "core.h"
#include "testutil.h"

typedef __int128 i128;

#define P_ASSETS		4		/* assets the generator trades */
#define P_SYMBOLS		4
#define P_MAX_ASSETS	8		/* upper bound of max_assets in any run */
#define P_HISTORY		24		/* commands shown when a run fails */
#define P_TS0			INT64_C(1700000000000000)
#define P_WHALES		2		/* users 1..P_WHALES hold a million times more */
#define P_WHALE_MULT	INT64_C(1000000)

/* ------------------------------------------------------------------ PRNG */

typedef struct p_rng
{
	uint64_t	s;
} p_rng;

static uint64_t
rng_next(p_rng *r)
{
	uint64_t	z = (r->s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in [0, n); 0 when n is 0. */
static uint64_t
rng_below(p_rng *r, uint64_t n)
{
	return (uint64_t) (((unsigned __int128) rng_next(r) * n) >> 64);
}

/* Uniform in [lo, hi]. */
static int64_t
rng_range(p_rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t) rng_below(r, (uint64_t) (hi - lo) + 1);
}

/* True with probability per_10k / 10000. */
static bool
rng_chance(p_rng *r, unsigned per_10k)
{
	return rng_below(r, 10000) < per_10k;
}

/* Skewed towards small values: uniform in [1, uniform in [1, n]]. */
static int64_t
rng_skewed(p_rng *r, int64_t n)
{
	return rng_range(r, 1, rng_range(r, 1, n));
}

/* ------------------------------------------------------- the market */

typedef struct p_asset_def
{
	const char *code;
	uint8_t		decimals;
	int64_t		dep_lo;			/* a typical deposit */
	int64_t		dep_hi;
} p_asset_def;

static const p_asset_def p_assets[P_ASSETS] = {
	{"BTC", 8, INT64_C(1000000), INT64_C(200000000)},	/* 0.01 .. 2 */
	{"ETH", 6, INT64_C(100000), INT64_C(50000000)},	/* 0.1 .. 50 */
	{"USD", 2, INT64_C(10000), INT64_C(10000000)},	/* 100 .. 100k */
	{"USDT", 6, INT64_C(100000000), INT64_C(100000000000)},	/* 100 .. 100k */
};

typedef struct p_symbol_def
{
	const char *name;
	uint32_t	base;
	uint32_t	quote;
	int64_t		tick;
	int64_t		lot;
	int64_t		min_qty;
	int32_t		maker_ppm;
	int32_t		taker_ppm;
	int64_t		mid0;			/* starting mid price */
	int64_t		max_lots;		/* largest ordinary order */
	int64_t		min_notional;	/* quote units; 0 = the 1-unit floor only */
} p_symbol_def;

static const p_symbol_def p_symbols[P_SYMBOLS] = {
	/* 50000.00 USD per BTC, tick 0.50, lot 0.0001 BTC, min 0.0002, min 10 USD */
	{"BTC_USD", 1, 3, 50, 10000, 20000, 1000, 2000, INT64_C(5000000), 2000, 1000},
	/* 0.05 BTC per ETH, tick 1000 sat, lot 0.001 ETH, no min; maker free */
	{"ETH_BTC", 2, 1, 1000, 1000, 0, 0, 500, INT64_C(5000000), 5000, 0},
	/* 3000 USDT per ETH, tick 0.01, lot 0.0001 ETH; tiny fees: min-1 rule */
	{"ETH_USDT", 2, 4, 10000, 100, 1000, 1, 3, INT64_C(3000000000), 20000, 0},
	/* 3000.00 USD per ETH, tick 0.01, lot 0.000001 ETH worth 0.003 cent:
	 * orders of a few cents, dust everywhere */
	{"ETH_USD", 2, 3, 1, 1, 0, 1000, 2000, INT64_C(300000), 3000, 0},
};

static int64_t
p_pow10(int n)
{
	int64_t		v = 1;

	while (n-- > 0)
		v *= 10;
	return v;
}

static int64_t
p_scale(uint32_t sym)
{
	return p_pow10(p_assets[p_symbols[sym - 1].base - 1].decimals);
}

/* What a new order on sym must be worth: max(min_notional, 1). */
static int64_t
p_min_value(uint32_t sym)
{
	int64_t		m = p_symbols[sym - 1].min_notional;

	return m > 1 ? m : 1;
}

/* floor(price * qty / 10^bd) on sym, in 128 bits. */
static i128
p_value(uint32_t sym, int64_t price, int64_t qty)
{
	return (i128) price * qty / p_scale(sym);
}

static int64_t
p_fee(int64_t amount, int32_t ppm)
{
	int64_t		f;

	if (amount <= 0 || ppm <= 0)
		return 0;
	f = (int64_t) ((i128) amount * ppm / CORE_FEE_SCALE);
	return f > 0 ? f : 1;
}

/* ------------------------------------------------------- run state */

typedef struct p_cfg
{
	uint64_t	seed;
	int64_t		commands;		/* generated commands after the setup */
	int64_t		verify_every;	/* core_verify + walk checks */
	int64_t		roundtrip_every;	/* walk/restore + shadow run; 0 = never */
	int64_t		shadow_len;		/* commands fed to both engines */
	int			users;
	uint32_t	target_open;	/* above this many open orders, cancel more */
	uint32_t	max_open_orders;	/* the limit most PLACE records carry; 0 = none */
	core_limits lim;
} p_cfg;

/* An open order as the event stream describes it. */
typedef struct p_order
{
	int64_t		id;
	int64_t		user;
	int64_t		price;
	int64_t		remaining;
	int64_t		maker_seq;		/* seq of the command that last traded it */
	uint32_t	symbol;
	uint8_t		side;
	uint8_t		stp;
} p_order;

typedef struct p_engine
{
	void	   *mem;
	core_engine *c;
} p_engine;

typedef struct p_evbuf
{
	core_event *ev;
	int			n;
	int			cap;
} p_evbuf;

/* Everything one core_walk produced. */
typedef struct p_snap
{
	core_counters k;
	core_asset_info *a;
	int			na,
				capa;
	core_symbol_info *s;
	int			ns,
				caps;
	core_balance_info *b;
	int			nb,
				capb;
	core_order_info *o;
	int			no,
				capo;
} p_snap;

typedef struct p_stats
{
	int64_t		commands;
	int64_t		trades;
	int64_t		status[CORE_ST_COUNT];
	int64_t		reason[CORE_R_COUNT];
	int64_t		capacity_deposit;
	int64_t		capacity_place;
	int64_t		capacity_asset;
	int64_t		quote_qty_filled;
	int64_t		self_trade_cancels;
	int64_t		inplace_amends;
	int64_t		replace_amends;
	int64_t		verifies;
	int64_t		wide_notional;	/* resting orders seen with fills worth >= 2^64 */
	int64_t		roundtrips;
	int64_t		batch_roundtrips;	/* of them: in batches, digest from the items */
	int64_t		dust_cancels;	/* makers canceled as dust */
	int64_t		full_pool_fills;	/* gtc orders filled on arrival at a full pool */
	int64_t		at_limit_fills;	/* gtc orders filled on arrival at the user's limit */
	uint32_t	max_open;
	uint32_t	max_user_open;	/* most resting orders one user held */
} p_stats;

typedef struct p_run
{
	p_cfg		cfg;
	p_rng		r;
	p_engine	eng;
	p_engine	shadow;			/* restored copy, while shadowing */
	int64_t		shadow_left;
	int64_t		seq;
	int64_t		next_oid;
	int64_t		next_tid;
	uint32_t	nassets;
	int64_t		mid[P_SYMBOLS + 1];
	bool		halted[P_SYMBOLS + 1];
	i128		net[P_MAX_ASSETS + 1];	/* deposits minus withdrawals */
	i128		fees[P_MAX_ASSETS + 1];	/* what user 0 should hold */
	p_order    *open;			/* dense */
	uint32_t	nopen;
	int32_t    *pos;			/* order id -> index in open + 1, 0 if not open */
	int64_t		npos;
	uint32_t   *uopen;			/* user -> open orders */
	p_evbuf		ev;
	p_evbuf		sev;
	p_snap		snap;
	i128	   *need;			/* per (user, asset): locks of open orders */
	uint64_t	evhash;			/* every result and event, in order */
	core_record hist[P_HISTORY];
	bool		failed;
	p_stats		st;
} p_run;

static void
p_dump_history(p_run *P)
{
	int64_t		from = P->seq - P_HISTORY + 1;

	if (from < 1)
		from = 1;
	printf("    # last commands (seed %" PRIu64 "):\n", P->cfg.seed);
	for (int64_t s = from; s <= P->seq; s++)
	{
		char		buf[512];

		core_record_desc(&P->hist[s % P_HISTORY], buf, sizeof(buf));
		printf("    #   seq %" PRId64 ": %s\n", s, buf);
	}
}

static void
p_fail(p_run *P, int line, const char *fmt,...)
__attribute__((format(printf, 3, 4)));

static void
p_fail(p_run *P, int line, const char *fmt,...)
{
	char		msg[1024];
	va_list		ap;

	if (P->failed)
		return;
	P->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	test_fail(__FILE__, line, "seed %" PRIu64 " seq %" PRId64 ": %s",
			  P->cfg.seed, P->seq, msg);
	p_dump_history(P);
}

#define PFAIL(P, ...) p_fail((P), __LINE__, __VA_ARGS__)
#define PCHECK(P, cond, fmt, ...) \
	do { if (!(cond)) p_fail((P), __LINE__, "%s: " fmt, #cond, ##__VA_ARGS__); } while (0)

/* --------------------------------------------------------- helpers */

static bool
p_engine_new(p_engine *e, const core_limits *lim)
{
	size_t		size = core_arena_size(lim);

	/* core_create wants 64-byte aligned memory (cache lines). */
	size = (size + 63) & ~(size_t) 63;
	e->c = NULL;
	e->mem = size ? aligned_alloc(64, size) : NULL;
	if (e->mem == NULL)
		return false;
	memset(e->mem, 0xA5, size);	/* the core must not rely on zeroed memory */
	e->c = core_create(e->mem, size, lim);
	return e->c != NULL;
}

static void
p_engine_free(p_engine *e)
{
	free(e->mem);
	e->mem = NULL;
	e->c = NULL;
}

static void
p_collect(void *ctx, const core_event *ev)
{
	p_evbuf    *b = ctx;

	if (b->n == b->cap)
	{
		b->cap = b->cap ? 2 * b->cap : 256;
		b->ev = realloc(b->ev, (size_t) b->cap * sizeof(core_event));
	}
	b->ev[b->n++] = *ev;
}

static uint64_t
p_mix(uint64_t h, uint64_t v)
{
	h ^= v + UINT64_C(0x9e3779b97f4a7c15) + (h << 6) + (h >> 2);
	h *= UINT64_C(0xff51afd7ed558ccd);
	return h ^ (h >> 32);
}

static uint64_t
p_hash_result(uint64_t h, const core_result *r)
{
	h = p_mix(h, r->status);
	h = p_mix(h, r->reason);
	h = p_mix(h, r->id);
	h = p_mix(h, (uint64_t) r->order_id);
	h = p_mix(h, (uint64_t) r->filled_qty);
	h = p_mix(h, (uint64_t) r->remaining_qty);
	h = p_mix(h, (uint64_t) r->avg_price);
	h = p_mix(h, (uint64_t) r->trades);
	h = p_mix(h, (uint64_t) r->canceled);
	h = p_mix(h, (uint64_t) r->available);
	return p_mix(h, (uint64_t) r->frozen);
}

static uint64_t
p_hash_event(uint64_t h, const core_event *e)
{
	h = p_mix(h, e->type);
	if (e->type == CORE_EV_TRADE)
	{
		const core_trade_event *t = &e->u.trade;

		h = p_mix(h, (uint64_t) t->trade_id);
		h = p_mix(h, t->symbol);
		h = p_mix(h, t->taker_side);
		h = p_mix(h, (uint64_t) t->price);
		h = p_mix(h, (uint64_t) t->qty);
		h = p_mix(h, (uint64_t) t->quote_qty);
		h = p_mix(h, (uint64_t) t->taker_order_id);
		h = p_mix(h, (uint64_t) t->taker_user_id);
		h = p_mix(h, (uint64_t) t->maker_order_id);
		h = p_mix(h, (uint64_t) t->maker_user_id);
		h = p_mix(h, (uint64_t) t->taker_fee);
		return p_mix(h, (uint64_t) t->maker_fee);
	}
	else
	{
		const core_order_event *o = &e->u.order;

		h = p_mix(h, (uint64_t) o->order_id);
		h = p_mix(h, (uint64_t) o->user_id);
		h = p_mix(h, o->symbol);
		h = p_mix(h, o->side);
		h = p_mix(h, o->status);
		h = p_mix(h, o->reason);
		h = p_mix(h, (uint64_t) o->price);
		h = p_mix(h, (uint64_t) o->qty);
		h = p_mix(h, (uint64_t) o->filled_qty);
		return p_mix(h, (uint64_t) o->remaining_qty);
	}
}

static bool
p_digest_eq(core_digest a, core_digest b)
{
	return a.hi == b.hi && a.lo == b.lo;
}

/* ------------------------------------------------------- open orders */

static p_order *
p_find(p_run *P, int64_t id)
{
	if (id < 1 || id >= P->npos || P->pos[id] == 0)
		return NULL;
	return &P->open[P->pos[id] - 1];
}

static void
p_add(p_run *P, const p_order *o)
{
	if (o->id < 1 || o->id >= P->npos || P->nopen > P->cfg.lim.max_orders ||
		o->user < 1 || o->user > P->cfg.users)
	{
		PFAIL(P, "order id %" PRId64 " beyond the test's index", o->id);
		return;
	}
	P->open[P->nopen] = *o;
	P->pos[o->id] = (int32_t) ++P->nopen;
	if (P->nopen > P->st.max_open)
		P->st.max_open = P->nopen;
	if (++P->uopen[o->user] > P->st.max_user_open)
		P->st.max_user_open = P->uopen[o->user];
}

static void
p_del(p_run *P, int64_t id)
{
	int32_t		i = P->pos[id] - 1;

	P->uopen[P->open[i].user]--;
	P->open[i] = P->open[--P->nopen];
	if ((uint32_t) i < P->nopen)
		P->pos[P->open[i].id] = i + 1;
	P->pos[id] = 0;
}

/* ------------------------------------------------------------ walk */

#define P_PUSH(arr, n, cap, item) \
	do { \
		if ((n) == (cap)) { \
			(cap) = (cap) ? 2 * (cap) : 64; \
			(arr) = realloc((arr), (size_t) (cap) * sizeof(*(arr))); \
		} \
		(arr)[(n)++] = *(item); \
	} while (0)

static void
w_counters(void *ctx, const core_counters *k)
{
	((p_snap *) ctx)->k = *k;
}

static void
w_asset(void *ctx, const core_asset_info *a)
{
	p_snap	   *s = ctx;

	P_PUSH(s->a, s->na, s->capa, a);
}

static void
w_symbol(void *ctx, const core_symbol_info *sy)
{
	p_snap	   *s = ctx;

	P_PUSH(s->s, s->ns, s->caps, sy);
}

static void
w_balance(void *ctx, const core_balance_info *b)
{
	p_snap	   *s = ctx;

	P_PUSH(s->b, s->nb, s->capb, b);
}

static void
w_order(void *ctx, const core_order_info *o)
{
	p_snap	   *s = ctx;

	P_PUSH(s->o, s->no, s->capo, o);
}

static void
p_walk(const core_engine *c, p_snap *s)
{
	core_walker w = {w_counters, w_asset, w_symbol, w_balance, w_order};

	s->na = s->ns = s->nb = s->no = 0;
	core_walk(c, &w, s);
}

static void
p_snap_free(p_snap *s)
{
	free(s->a);
	free(s->s);
	free(s->b);
	free(s->o);
	memset(s, 0, sizeof(*s));
}

/*
 * Restore s into a fresh engine the way a snapshot of format 2 is loaded:
 * every item through its bytes (core_item_encode / decode), the orders
 * through the checked restore, then the global checks.  NULL on success,
 * else what refused.
 */
static const char *
p_restore_items(const p_snap *s, const core_limits *lim, p_engine *e)
{
	uint8_t		buf[CORE_ITEM_MAX_BYTES];
	core_item	it,
				back;
	core_restore_check rc;
	void	   *scratch;
	const char *err = NULL;

	if (!p_engine_new(e, lim))
		return "core_create failed";
#define P_THROUGH_BYTES(k, field, src) \
	(it.kind = (k), it.u.field = (src), \
	 core_item_decode((k), buf, core_item_encode(&it, buf), &back) > 0 \
	 ? &back.u.field : NULL)
	for (int i = 0; i < s->na && !err; i++)
	{
		const core_asset_info *a = P_THROUGH_BYTES(CORE_ITEM_ASSET, asset, s->a[i]);

		err = a ? core_restore_asset(e->c, a) : "an asset item does not decode";
	}
	for (int i = 0; i < s->ns && !err; i++)
	{
		const core_symbol_info *y = P_THROUGH_BYTES(CORE_ITEM_SYMBOL, symbol, s->s[i]);

		err = y ? core_restore_symbol(e->c, y) : "a symbol item does not decode";
	}
	for (int i = 0; i < s->nb && !err; i++)
	{
		const core_balance_info *b = P_THROUGH_BYTES(CORE_ITEM_BALANCE, balance, s->b[i]);

		err = b ? core_restore_balance(e->c, b) : "a balance item does not decode";
	}
	if (err)
		return err;
	scratch = malloc(core_restore_check_size(lim));
	core_restore_check_begin(e->c, &rc, scratch);
	for (int i = 0; i < s->no && !err; i++)
	{
		const core_order_info *o = P_THROUGH_BYTES(CORE_ITEM_ORDER, order, s->o[i]);

		err = o ? core_restore_order_checked(e->c, &rc, o) : "an order item does not decode";
	}
#undef P_THROUGH_BYTES
	if (!err)
		err = core_restore_check_finish(e->c, &rc);
	free(scratch);
	if (!err)
		err = core_restore_finish(e->c, &s->k);
	if (!err && !core_verify_global(e->c, NULL, NULL))
		err = "core_verify_global refused a checked restore";
	return err;
}

/*
 * Restore s into a fresh engine the way recovery loads a snapshot of
 * format 2: every item through its bytes, balances and orders in batches
 * of random sizes (core_restore_balances / core_restore_orders) with the
 * digest computed as they go, into *digest.  *canonical says whether that
 * digest came from the items (a walk always should).
 */
static const char *
p_restore_batch(const p_snap *s, const core_limits *lim, p_engine *e, p_rng *r,
				core_digest *digest, bool *canonical)
{
	uint8_t		buf[CORE_ITEM_MAX_BYTES];
	core_item	it,
				back;
	core_restore_check rc;
	core_restore_digest dg;
	void	   *scratch;
	const char *err = NULL;
	core_balance_info *bb = malloc(sizeof(*bb) * (size_t) (s->nb + 1));
	core_order_info *oo = malloc(sizeof(*oo) * (size_t) (s->no + 1));

	if (!p_engine_new(e, lim) || bb == NULL || oo == NULL)
	{
		free(bb);
		free(oo);
		return "core_create failed";
	}
	for (int i = 0; i < s->na && !err; i++)
		err = core_restore_asset(e->c, &s->a[i]);
	for (int i = 0; i < s->ns && !err; i++)
		err = core_restore_symbol(e->c, &s->s[i]);
	core_restore_digest_begin(e->c, &dg, &s->k);
	for (int i = 0; i < s->nb && !err; i++)
	{
		it.kind = CORE_ITEM_BALANCE;
		it.u.balance = s->b[i];
		if (core_item_decode(CORE_ITEM_BALANCE, buf, core_item_encode(&it, buf), &back) == 0)
			err = "a balance item does not decode";
		bb[i] = back.u.balance;
	}
	for (int i = 0; i < s->no && !err; i++)
	{
		it.kind = CORE_ITEM_ORDER;
		it.u.order = s->o[i];
		if (core_item_decode(CORE_ITEM_ORDER, buf, core_item_encode(&it, buf), &back) == 0)
			err = "an order item does not decode";
		oo[i] = back.u.order;
	}
	for (int i = 0; i < s->nb && !err;)
	{
		size_t		n = (size_t) rng_range(r, 1, 300),
					done = 0;

		if (n > (size_t) (s->nb - i))
			n = (size_t) (s->nb - i);
		err = core_restore_balances(e->c, &dg, &bb[i], n, &done);
		if (!err && done != n)
			err = "core_restore_balances restored fewer items than it was given";
		i += (int) n;
	}
	scratch = malloc(core_restore_check_size(lim));
	if (!err)
		core_restore_check_begin(e->c, &rc, scratch);
	for (int i = 0; i < s->no && !err;)
	{
		size_t		n = (size_t) rng_range(r, 1, 300),
					done = 0;

		if (n > (size_t) (s->no - i))
			n = (size_t) (s->no - i);
		err = core_restore_orders(e->c, &rc, &dg, &oo[i], n, &done);
		if (!err && done != n)
			err = "core_restore_orders restored fewer items than it was given";
		i += (int) n;
	}
	if (!err)
		err = core_restore_check_finish(e->c, &rc);
	free(scratch);
	free(bb);
	free(oo);
	if (!err)
		err = core_restore_finish(e->c, &s->k);
	if (!err && !core_verify(e->c, NULL, NULL))
		err = "core_verify refused a batch restore";
	if (!err)
	{
		*digest = core_restore_digest_end(e->c, &dg);
		*canonical = dg.canonical;
	}
	return err;
}

typedef struct p_ids
{
	int64_t		id[64];
	int			n;
	bool		more;
} p_ids;

static bool
p_collect_id(void *ctx, const core_order_info *o)
{
	p_ids	   *x = ctx;

	if (x->n == 64)
	{
		x->more = true;
		return false;
	}
	x->id[x->n++] = o->order_id;
	return true;
}

/* Does every user have the same open orders, in the same order, in a and b? */
static bool
p_same_user_orders(const p_snap *s, const core_engine *a, const core_engine *b, int64_t *user)
{
	for (int i = 0; i < s->nb; i++)
	{
		p_ids		x,
					y;

		memset(&x, 0, sizeof(x));
		memset(&y, 0, sizeof(y));
		core_user_orders(a, s->b[i].user_id, 0, p_collect_id, &x);
		core_user_orders(b, s->b[i].user_id, 0, p_collect_id, &y);
		if (x.n != y.n || x.more != y.more || memcmp(x.id, y.id, sizeof(x.id)) != 0)
		{
			*user = s->b[i].user_id;
			return false;
		}
	}
	return true;
}

/* Restore s into a fresh engine; NULL on success, else what refused. */
static const char *
p_restore(const p_snap *s, const core_limits *lim, p_engine *e)
{
	const char *err;

	if (!p_engine_new(e, lim))
		return "core_create failed";
	for (int i = 0; i < s->na; i++)
		if ((err = core_restore_asset(e->c, &s->a[i])) != NULL)
			return err;
	for (int i = 0; i < s->ns; i++)
		if ((err = core_restore_symbol(e->c, &s->s[i])) != NULL)
			return err;
	for (int i = 0; i < s->nb; i++)
		if ((err = core_restore_balance(e->c, &s->b[i])) != NULL)
			return err;
	for (int i = 0; i < s->no; i++)
		if ((err = core_restore_order(e->c, &s->o[i])) != NULL)
			return err;
	return core_restore_finish(e->c, &s->k);
}

/* ----------------------------------------------------- verification */

typedef struct p_vfail
{
	char		check[64];
	char		detail[256];
	bool		failed;
} p_vfail;

static void
p_verify_cb(void *ctx, const char *check, bool ok, const char *detail)
{
	p_vfail    *v = ctx;

	if (ok || v->failed)
		return;
	v->failed = true;
	snprintf(v->check, sizeof(v->check), "%s", check);
	snprintf(v->detail, sizeof(v->detail), "%s", detail ? detail : "(no detail)");
}

/*
 * core_verify, then the test's own checks over a walk: conservation against
 * the deposit ledger, the fee account against the fees in trade events,
 * every order against the open orders the events described, every lock
 * and frozen amount against sums computed here.
 */
static void
p_verify(p_run *P)
{
	p_vfail		v;
	p_snap	   *s = &P->snap;
	i128		sum[P_MAX_ASSETS + 1];
	int			na;

	memset(&v, 0, sizeof(v));
	P->st.verifies++;
	if (!core_verify(P->eng.c, p_verify_cb, &v) || v.failed)
	{
		PFAIL(P, "core_verify failed: %s: %s", v.check, v.detail);
		return;
	}

	p_walk(P->eng.c, s);
	PCHECK(P, s->k.seq == P->seq, "walk seq %" PRId64, s->k.seq);
	PCHECK(P, s->k.next_order_id == P->next_oid, "next_order_id %" PRId64 " want %" PRId64,
		   s->k.next_order_id, P->next_oid);
	PCHECK(P, s->k.next_trade_id == P->next_tid, "next_trade_id %" PRId64 " want %" PRId64,
		   s->k.next_trade_id, P->next_tid);
	PCHECK(P, s->k.orders == P->nopen, "core has %u resting orders, events say %u",
		   s->k.orders, P->nopen);
	PCHECK(P, s->na == (int) P->nassets && s->ns == P_SYMBOLS, "walk has %d assets, %d symbols",
		   s->na, s->ns);
	if (P->failed)
		return;
	na = s->na;

	/* Locks of open orders, computed here, per (user, asset). */
	memset(P->need, 0, sizeof(i128) * (size_t) (P->cfg.users + 1) * (P_MAX_ASSETS + 1));
	for (int i = 0; i < s->no && !P->failed; i++)
	{
		const core_order_info *o = &s->o[i];
		p_order    *m = p_find(P, o->order_id);
		const p_symbol_def *sd = &p_symbols[o->symbol - 1];
		int64_t		lock;

		PCHECK(P, m != NULL, "order %" PRId64 " rests but the events closed it", o->order_id);
		if (m == NULL)
			return;
		PCHECK(P, m->user == o->user_id && m->symbol == o->symbol && m->side == o->side &&
			   m->price == o->price && m->remaining == o->remaining_qty,
			   "order %" PRId64 ": core says user %" PRId64 " %s %" PRId64 " @ %" PRId64
			   ", events say user %" PRId64 " %s %" PRId64 " @ %" PRId64,
			   o->order_id, o->user_id, core_side_name(o->side), o->remaining_qty, o->price,
			   m->user, core_side_name(m->side), m->remaining, m->price);
		lock = o->side == CORE_SELL ? o->remaining_qty
			: (int64_t) ((i128) o->price * o->remaining_qty / p_scale(o->symbol));
		PCHECK(P, o->locked == lock, "order %" PRId64 " locks %" PRId64 ", needs %" PRId64,
			   o->order_id, o->locked, lock);
		PCHECK(P, o->user_id >= 1 && o->user_id <= P->cfg.users, "order of user %" PRId64,
			   o->user_id);
		PCHECK(P, o->qty == o->filled_qty + o->remaining_qty, "order %" PRId64 " qty", o->order_id);
		PCHECK(P, p_value(o->symbol, o->price, o->remaining_qty) >= 1,
			   "order %" PRId64 " rests worth nothing: %" PRId64 " @ %" PRId64,
			   o->order_id, o->remaining_qty, o->price);
		if (o->notional_hi != 0)
			P->st.wide_notional++;
		if (P->failed)
			return;
		P->need[o->user_id * (P_MAX_ASSETS + 1) +
				(o->side == CORE_SELL ? sd->base : sd->quote)] += lock;
	}

	memset(sum, 0, sizeof(sum));
	for (int i = 0; i < s->nb && !P->failed; i++)
	{
		const core_balance_info *b = &s->b[i];
		i128		need;

		PCHECK(P, b->user_id >= 0 && b->user_id <= P->cfg.users && b->asset >= 1 &&
			   (int) b->asset <= na, "balance row of user %" PRId64 " asset %u",
			   b->user_id, b->asset);
		if (P->failed)
			return;
		PCHECK(P, b->available >= 0 && b->frozen >= 0, "user %" PRId64 " asset %u: %" PRId64
			   " / %" PRId64, b->user_id, b->asset, b->available, b->frozen);
		need = P->need[b->user_id * (P_MAX_ASSETS + 1) + b->asset];
		PCHECK(P, b->frozen == need, "user %" PRId64 " asset %u frozen %" PRId64
			   ", open orders lock %" PRId64, b->user_id, b->asset, b->frozen, (int64_t) need);
		if (b->user_id == 0)
			PCHECK(P, b->available == P->fees[b->asset],
				   "fee account holds %" PRId64 " of asset %u, trade events say %" PRId64,
				   b->available, b->asset, (int64_t) P->fees[b->asset]);
		sum[b->asset] += (i128) b->available + b->frozen;
	}
	for (int a = 1; a <= na && !P->failed; a++)
	{
		PCHECK(P, sum[a] == P->net[a], "asset %d: balances sum to %" PRId64
			   ", deposits minus withdrawals are %" PRId64, a, (int64_t) sum[a],
			   (int64_t) P->net[a]);
		PCHECK(P, s->a[a - 1].supply == P->net[a], "asset %d: supply %" PRId64
			   ", deposits minus withdrawals %" PRId64, a, s->a[a - 1].supply,
			   (int64_t) P->net[a]);
	}
}

/* Walk, restore into a fresh arena, compare digests, start shadowing. */
static void
p_roundtrip(p_run *P)
{
	const char *err;
	core_digest d1,
				d2,
				inc = {0, 0};
	bool		batch = false,
				canonical = false;
	int64_t		user = 0;

	P->st.roundtrips++;
	p_walk(P->eng.c, &P->snap);
	/*
	 * in turn: the plain restore, a snapshot's checked restore item by item,
	 * in batches with the digest computed from the items, core_copy
	 */
	if (P->st.roundtrips % 4 == 1)
		err = p_restore(&P->snap, &P->cfg.lim, &P->shadow);
	else if (P->st.roundtrips % 4 == 2)
		err = p_restore_items(&P->snap, &P->cfg.lim, &P->shadow);
	else if (P->st.roundtrips % 4 == 3)
	{
		err = p_restore_batch(&P->snap, &P->cfg.lim, &P->shadow, &P->r, &inc, &canonical);
		batch = true;
	}
	else if (!p_engine_new(&P->shadow, &P->cfg.lim))
		err = "core_create failed";
	else
	{
		/* over garbage: core_copy must not rely on what the memory held */
		memset(P->shadow.mem, 0x3C, core_arena_size(&P->cfg.lim));
		P->shadow.c = core_copy(P->shadow.mem, core_arena_size(&P->cfg.lim), P->eng.c);
		err = P->shadow.c ? NULL : "core_copy refused";
	}
	if (err != NULL)
	{
		PFAIL(P, "restore refused its own walk: %s", err);
		p_engine_free(&P->shadow);
		return;
	}
	d1 = core_state_digest(P->eng.c);
	d2 = core_state_digest(P->shadow.c);
	if (!p_digest_eq(d1, d2) || (batch && (!canonical || !p_digest_eq(d1, inc))))
	{
		char		h1[33],
					h2[33],
					h3[33];

		core_digest_hex(d1, h1);
		core_digest_hex(d2, h2);
		core_digest_hex(batch ? inc : d2, h3);
		PFAIL(P, "digest %s, after walk/restore %s, computed by the restore %s%s", h1, h2, h3,
			  batch && !canonical ? " (not from the items)" : "");
		p_engine_free(&P->shadow);
		return;
	}
	if (!p_same_user_orders(&P->snap, P->eng.c, P->shadow.c, &user))
	{
		PFAIL(P, "user %" PRId64 "'s open orders differ after walk/restore", user);
		p_engine_free(&P->shadow);
		return;
	}
	if (batch)
		P->st.batch_roundtrips++;
	P->shadow_left = P->cfg.shadow_len;
	if (P->shadow_left == 0)
		p_engine_free(&P->shadow);
}

static bool
p_same_result(const core_result *a, const core_result *b)
{
	return a->status == b->status && a->reason == b->reason && a->id == b->id &&
		a->order_id == b->order_id && a->filled_qty == b->filled_qty &&
		a->remaining_qty == b->remaining_qty && a->avg_price == b->avg_price &&
		a->trades == b->trades && a->canceled == b->canceled &&
		a->available == b->available && a->frozen == b->frozen;
}

/* The shadow's answer and events must equal the original's. */
static void
p_shadow_step(p_run *P, const core_record *rec, const core_result *res)
{
	core_result sres;

	P->sev.n = 0;
	core_apply(P->shadow.c, rec, p_collect, &P->sev, &sres);
	PCHECK(P, p_same_result(res, &sres), "restored engine answers differently");
	PCHECK(P, P->sev.n == P->ev.n, "restored engine emits %d events, original %d",
		   P->sev.n, P->ev.n);
	for (int i = 0; i < P->ev.n && !P->failed; i++)
		PCHECK(P, p_hash_event(0, &P->ev.ev[i]) == p_hash_event(0, &P->sev.ev[i]),
			   "restored engine's event %d differs", i);
	if (--P->shadow_left == 0 || P->failed)
	{
		PCHECK(P, p_digest_eq(core_state_digest(P->eng.c), core_state_digest(P->shadow.c)),
			   "restored engine's digest differs after %" PRId64 " commands", P->cfg.shadow_len);
		/* Go on with the restored engine: it must serve the rest of the run. */
		p_engine_free(&P->eng);
		P->eng = P->shadow;
		P->shadow.mem = NULL;
		P->shadow.c = NULL;
		P->shadow_left = 0;
	}
}

/* ------------------------------------------------- per-command checks */

/* What the checks need to know about the state before the command. */
typedef struct p_pre
{
	int64_t		best;			/* best opposite price before a PLACE/AMEND, 0 = none */
	bool		fok_fillable;	/* PLACE fok: could fill whole, after stp */
	int64_t		avail;			/* PLACE: available of the asset it pays with */
	uint32_t	user_open;		/* PLACE: the user's open orders before */
	bool		pool_full;		/* PLACE: no free slot in the order pool */
	bool		rows_short;		/* PLACE: the balance pool cannot take the user's rows */
	bool		had_order;		/* AMEND: the order was resting */
	core_order_info before;		/* AMEND: the order before */
	int			expect_canceled;	/* CANCEL_ALL */
} p_pre;

/* The order a PLACE or AMEND is about, as a taker. */
typedef struct p_taker
{
	int64_t		id;
	int64_t		user;
	uint32_t	symbol;
	uint8_t		side;
	uint8_t		stp;
	int64_t		limit;			/* 0 = market */
	int64_t		qty;			/* PLACE: qty of the record; AMEND: new remaining */
	int			ntrades;
	int64_t		traded;			/* sum of trade qty */
	i128		traded_quote;	/* sum of trade quote_qty */
	i128		notional;		/* sum of price * qty */
	bool		cancel_before_trade;	/* an STP cancel came before the first trade */
} p_taker;

static bool
p_level_cb(void *ctx, const core_level_info *l)
{
	*(int64_t *) ctx = l->price;
	return false;
}

static int64_t
p_best(const core_engine *c, uint32_t sym, core_side side)
{
	int64_t		price = 0;

	core_book_levels(c, sym, side, 1, p_level_cb, &price);
	return price;
}

/*
 * Could a fill-or-kill order fill completely, counting only what it could
 * really take after stp?  Walks the book in priority order through the
 * core's read functions (whose integrity core_verify checks).
 */
typedef struct p_fok
{
	const core_engine *c;
	const core_rec_place *r;
	int64_t		left;			/* what the order still needs */
	int			state;			/* 0 looking, 1 fillable, 2 not */
} p_fok;

static bool
p_fok_order(void *ctx, const core_order_info *o)
{
	p_fok	   *f = ctx;
	int64_t		q;

	if (o->user_id == f->r->user_id && f->r->stp != CORE_STP_NONE)
	{
		if (f->r->stp == CORE_STP_CANCEL_MAKER)
			return true;
		f->state = 2;
		return false;
	}
	/* a fill worth no quote would stop the order short */
	q = f->left < o->remaining_qty ? f->left : o->remaining_qty;
	if (p_value(f->r->symbol, o->price, q) == 0)
	{
		f->state = 2;
		return false;
	}
	f->left -= q;
	if (f->left == 0)
		f->state = 1;
	return f->state == 0;
}

static bool
p_fok_level(void *ctx, const core_level_info *l)
{
	p_fok	   *f = ctx;

	if (f->r->side == CORE_BUY ? l->price > f->r->price : l->price < f->r->price)
	{
		f->state = 2;
		return false;
	}
	core_level_orders(f->c, f->r->symbol, l->side, l->price, p_fok_order, f);
	return f->state == 0;
}

static bool
p_fok_fillable(const core_engine *c, const core_rec_place *r)
{
	p_fok		f = {c, r, r->qty, 0};

	core_book_levels(c, r->symbol, !r->side, 0, p_fok_level, &f);
	return f.state == 1;
}

static void
p_check_trade(p_run *P, p_taker *t, const core_trade_event *e)
{
	const p_symbol_def *sd = &p_symbols[t->symbol - 1];
	int64_t		quote = (int64_t) ((i128) e->price * e->qty / p_scale(t->symbol));
	int64_t		taker_gets = t->side == CORE_BUY ? e->qty : quote;
	int64_t		maker_gets = t->side == CORE_BUY ? quote : e->qty;
	p_order    *m = p_find(P, e->maker_order_id);

	PCHECK(P, e->trade_id == P->next_tid, "trade id %" PRId64 " want %" PRId64,
		   e->trade_id, P->next_tid);
	P->next_tid = e->trade_id + 1;
	PCHECK(P, e->symbol == t->symbol && e->taker_side == t->side &&
		   e->taker_order_id == t->id && e->taker_user_id == t->user,
		   "trade %" PRId64 " names the wrong taker", e->trade_id);
	PCHECK(P, e->qty > 0 && e->qty % sd->lot == 0 && e->price > 0,
		   "trade %" PRId64 ": qty %" PRId64 " price %" PRId64, e->trade_id, e->qty, e->price);
	PCHECK(P, e->quote_qty == quote, "trade %" PRId64 ": quote_qty %" PRId64 ", want %" PRId64,
		   e->trade_id, e->quote_qty, quote);
	PCHECK(P, quote >= 1, "trade %" PRId64 " moves %" PRId64 " base for nothing",
		   e->trade_id, e->qty);
	PCHECK(P, e->taker_fee == p_fee(taker_gets, sd->taker_ppm) &&
		   e->maker_fee == p_fee(maker_gets, sd->maker_ppm),
		   "trade %" PRId64 ": fees %" PRId64 "/%" PRId64 ", want %" PRId64 "/%" PRId64,
		   e->trade_id, e->taker_fee, e->maker_fee, p_fee(taker_gets, sd->taker_ppm),
		   p_fee(maker_gets, sd->maker_ppm));
	if (t->limit != 0)
		PCHECK(P, t->side == CORE_BUY ? e->price <= t->limit : e->price >= t->limit,
			   "trade %" PRId64 " at %" PRId64 " is worse than the limit %" PRId64,
			   e->trade_id, e->price, t->limit);
	PCHECK(P, m != NULL, "trade %" PRId64 ": maker %" PRId64 " is not an open order",
		   e->trade_id, e->maker_order_id);
	if (P->failed)
		return;
	PCHECK(P, m->user == e->maker_user_id && m->symbol == t->symbol && m->side != t->side &&
		   m->price == e->price && m->remaining >= e->qty,
		   "trade %" PRId64 ": maker %" PRId64 " (user %" PRId64 ", %s %" PRId64 " @ %" PRId64
		   ") does not fit", e->trade_id, m->id, m->user, core_side_name(m->side),
		   m->remaining, m->price);
	PCHECK(P, m->user != t->user || t->stp == CORE_STP_NONE,
		   "trade %" PRId64 " is a self-trade under stp %s", e->trade_id, core_stp_name(t->stp));

	m->remaining -= e->qty;
	m->maker_seq = P->seq;
	t->ntrades++;
	t->traded += e->qty;
	t->traded_quote += quote;
	t->notional += (i128) e->price * e->qty;
	P->fees[t->side == CORE_BUY ? sd->base : sd->quote] += e->taker_fee;
	P->fees[t->side == CORE_BUY ? sd->quote : sd->base] += e->maker_fee;
	P->st.trades++;
}

/*
 * An order event about a resting order other than the command's own: a
 * maker's fill, or a cancel (stp, cancel_all).
 */
static void
p_check_other(p_run *P, const core_order_event *e, int64_t user, bool stp_cancels)
{
	p_order    *m = p_find(P, e->order_id);

	PCHECK(P, m != NULL, "event about order %" PRId64 " (%s), which is not open",
		   e->order_id, core_status_name(e->status));
	if (P->failed)
		return;
	PCHECK(P, e->user_id == m->user && e->symbol == m->symbol && e->side == m->side &&
		   e->price == m->price, "event about order %" PRId64 " disagrees with the order",
		   e->order_id);
	PCHECK(P, e->qty == e->filled_qty + (e->status == CORE_ST_FILLED ? 0 :
										 e->status == CORE_ST_CANCELED ? m->remaining :
										 e->remaining_qty),
		   "event about order %" PRId64 ": qty %" PRId64 ", filled %" PRId64 ", remaining %"
		   PRId64, e->order_id, e->qty, e->filled_qty, m->remaining);
	switch (e->status)
	{
		case CORE_ST_PARTIALLY_FILLED:
			PCHECK(P, m->maker_seq == P->seq && m->remaining > 0 &&
				   e->remaining_qty == m->remaining && e->reason == CORE_R_NONE,
				   "maker %" PRId64 " partially filled: remaining %" PRId64 ", want %" PRId64,
				   e->order_id, e->remaining_qty, m->remaining);
			break;
		case CORE_ST_FILLED:
			PCHECK(P, m->maker_seq == P->seq && m->remaining == 0 && e->remaining_qty == 0,
				   "maker %" PRId64 " filled with %" PRId64 " left", e->order_id, m->remaining);
			p_del(P, e->order_id);
			break;
		case CORE_ST_CANCELED:
			if (e->reason == CORE_R_DUST)
			{
				/* a maker left worth nothing by this command's fill */
				PCHECK(P, m->maker_seq == P->seq && m->remaining > 0 && e->remaining_qty == 0 &&
					   p_value(m->symbol, m->price, m->remaining) == 0,
					   "maker %" PRId64 " canceled as dust with %" PRId64 " @ %" PRId64,
					   e->order_id, m->remaining, m->price);
				P->st.dust_cancels++;
				p_del(P, e->order_id);
				break;
			}
			PCHECK(P, m->user == user && e->remaining_qty == 0, "cancel of order %" PRId64
				   " of user %" PRId64, e->order_id, m->user);
			PCHECK(P, e->reason == (stp_cancels ? CORE_R_SELF_TRADE : CORE_R_NONE),
				   "cancel of %" PRId64 " with reason %d", e->order_id, e->reason);
			if (stp_cancels)
				P->st.self_trade_cancels++;
			p_del(P, e->order_id);
			break;
		default:
			PFAIL(P, "order %" PRId64 " got event %s", e->order_id, core_status_name(e->status));
	}
}

/* The events of a PLACE or AMEND up to (not including) the last one. */
static void
p_check_taker_events(p_run *P, p_taker *t, const p_pre *pre)
{
	for (int i = 0; i < P->ev.n - 1 && !P->failed; i++)
	{
		const core_event *e = &P->ev.ev[i];

		if (e->type == CORE_EV_TRADE)
		{
			if (t->ntrades == 0 && !t->cancel_before_trade)
				PCHECK(P, e->u.trade.price == pre->best, "first trade at %" PRId64
					   ", best opposite price was %" PRId64, e->u.trade.price, pre->best);
			else if (t->ntrades > 0)
			{
				const core_event *prev = NULL;

				for (int j = i - 1; j >= 0; j--)
					if (P->ev.ev[j].type == CORE_EV_TRADE)
					{
						prev = &P->ev.ev[j];
						break;
					}
				PCHECK(P, prev && (t->side == CORE_BUY ?
								   e->u.trade.price >= prev->u.trade.price :
								   e->u.trade.price <= prev->u.trade.price),
					   "trades out of price priority");
			}
			p_check_trade(P, t, &e->u.trade);
		}
		else if (e->type == CORE_EV_ORDER)
		{
			PCHECK(P, e->u.order.order_id != t->id, "order %" PRId64
				   " has an event before the last", t->id);
			if (e->u.order.status == CORE_ST_CANCELED && e->u.order.reason != CORE_R_DUST)
			{
				PCHECK(P, t->stp == CORE_STP_CANCEL_MAKER || t->stp == CORE_STP_CANCEL_BOTH,
					   "stp %s canceled a resting order", core_stp_name(t->stp));
				if (t->ntrades == 0)
					t->cancel_before_trade = true;
			}
			p_check_other(P, &e->u.order, t->user, true);
		}
		else
			PFAIL(P, "event %d has type %d", i, e->type);
	}
}

/* The answer and the last event of a PLACE or AMEND agree, and the trades add up. */
static const core_order_event *
p_check_own_event(p_run *P, const p_taker *t, const core_result *res, int64_t filled_before,
				  i128 notional_before)
{
	const core_event *last = P->ev.n > 0 ? &P->ev.ev[P->ev.n - 1] : NULL;
	const core_order_event *e;
	i128		notional = notional_before + t->notional;
	int64_t		filled = filled_before + t->traded;

	PCHECK(P, last && last->type == CORE_EV_ORDER && last->u.order.order_id == t->id,
		   "last event is not about order %" PRId64, t->id);
	if (P->failed)
		return NULL;
	e = &last->u.order;
	PCHECK(P, res->order_id == t->id && res->trades == t->ntrades &&
		   res->filled_qty == filled && e->filled_qty == filled &&
		   e->remaining_qty == res->remaining_qty && e->reason == res->reason &&
		   e->user_id == t->user && e->symbol == t->symbol && e->side == t->side,
		   "order %" PRId64 ": answer (%s, filled %" PRId64 ", remaining %" PRId64
		   ", %d trades) or event (%s, filled %" PRId64 ", remaining %" PRId64
		   ") disagree with %d trades of %" PRId64, t->id, core_status_name(res->status),
		   res->filled_qty, res->remaining_qty, res->trades, core_status_name(e->status),
		   e->filled_qty, e->remaining_qty, t->ntrades, t->traded);
	PCHECK(P, res->avg_price == (filled > 0 ? (int64_t) (notional / filled) : 0),
		   "avg_price %" PRId64, res->avg_price);
	if (res->status == CORE_ST_EXPIRED || res->status == CORE_ST_FILLED ||
		res->status == CORE_ST_REJECTED)
		PCHECK(P, res->remaining_qty == 0, "finished order has %" PRId64 " remaining",
			   res->remaining_qty);
	if (res->reason == CORE_R_SELF_TRADE)
		PCHECK(P, res->status == CORE_ST_EXPIRED &&
			   (t->stp == CORE_STP_CANCEL_TAKER || t->stp == CORE_STP_CANCEL_BOTH),
			   "expired by stp under stp %s", core_stp_name(t->stp));
	return e;
}

static void
p_check_place(p_run *P, const core_record *rec, const core_result *res, const p_pre *pre)
{
	const core_rec_place *r = &rec->u.place;
	bool		valid = core_record_validate(rec) == NULL;
	bool		market = r->price == 0;
	const core_order_event *e;
	const p_symbol_def *sd;
	p_taker		t;

	PCHECK(P, res->order_id == P->next_oid, "order id %" PRId64 " want %" PRId64,
		   res->order_id, P->next_oid);
	P->next_oid = res->order_id + 1;
	if (!valid || r->symbol < 1 || r->symbol > P_SYMBOLS)
	{
		PCHECK(P, res->status == CORE_ST_REJECTED && P->ev.n == 1 &&
			   res->reason == (valid ? CORE_R_UNKNOWN_SYMBOL : CORE_R_INVALID),
			   "refused place answered %s/%s with %d events", core_status_name(res->status),
			   core_reason_name(res->reason), P->ev.n);
		if (P->ev.n == 1)
			PCHECK(P, P->ev.ev[0].type == CORE_EV_ORDER &&
				   P->ev.ev[0].u.order.order_id == res->order_id &&
				   P->ev.ev[0].u.order.status == CORE_ST_REJECTED,
				   "refused place's event");
		return;
	}
	sd = &p_symbols[r->symbol - 1];
	if (P->halted[r->symbol])
		PCHECK(P, res->status == CORE_ST_REJECTED && res->reason == CORE_R_HALTED,
			   "place on a halted symbol answered %s", core_status_name(res->status));

	memset(&t, 0, sizeof(t));
	t.id = res->order_id;
	t.user = r->user_id;
	t.symbol = r->symbol;
	t.side = r->side;
	t.stp = r->stp;
	t.limit = r->price;
	t.qty = r->qty;
	p_check_taker_events(P, &t, pre);
	if (P->failed)
		return;
	e = p_check_own_event(P, &t, res, 0, 0);
	if (P->failed)
		return;
	PCHECK(P, e->status == res->status && e->price == r->price &&
		   e->qty == (r->qty > 0 ? r->qty : t.traded),
		   "order %" PRId64 ": event %s price %" PRId64 " qty %" PRId64, t.id,
		   core_status_name(e->status), e->price, e->qty);
	if (res->status == CORE_ST_REJECTED)
		PCHECK(P, P->ev.n == 1 && res->reason != CORE_R_NONE, "rejected place emits %d events",
			   P->ev.n);
	if (market || r->tif != CORE_GTC)
		PCHECK(P, res->status != CORE_ST_NEW && res->status != CORE_ST_PARTIALLY_FILLED,
			   "a %s %s order rests", market ? "market" : "limit", core_tif_name(r->tif));
	if (r->tif == CORE_FOK)
	{
		PCHECK(P, res->status == CORE_ST_REJECTED ||
			   (res->status == CORE_ST_FILLED && t.traded == r->qty),
			   "fok ended %s with %" PRId64 " of %" PRId64, core_status_name(res->status),
			   t.traded, r->qty);
		if (res->status == CORE_ST_FILLED || res->reason == CORE_R_FOK)
			PCHECK(P, pre->fok_fillable == (res->status == CORE_ST_FILLED),
				   "fok of %" PRId64 " answered %s, but the book %s fill it", r->qty,
				   core_status_name(res->status), pre->fok_fillable ? "could" : "could not");
	}
	if (r->post_only && res->status != CORE_ST_REJECTED)
		PCHECK(P, t.ntrades == 0 && !(pre->best != 0 && (r->side == CORE_BUY ?
														  pre->best <= r->price :
														  pre->best >= r->price)),
			   "post-only order at %" PRId64 " accepted against best %" PRId64,
			   r->price, pre->best);
	if (res->reason == CORE_R_POST_ONLY)
		PCHECK(P, r->post_only && pre->best != 0 &&
			   (r->side == CORE_BUY ? pre->best <= r->price : pre->best >= r->price),
			   "post-only order at %" PRId64 " refused against best %" PRId64,
			   r->price, pre->best);
	if (res->status == CORE_ST_NEW)
		PCHECK(P, t.traded == 0 && res->remaining_qty == r->qty, "new order with fills");
	if (res->status == CORE_ST_PARTIALLY_FILLED)
		PCHECK(P, t.traded > 0 && t.traded + res->remaining_qty == r->qty,
			   "partially filled %" PRId64 " + %" PRId64 " != %" PRId64, t.traded,
			   res->remaining_qty, r->qty);
	if (res->status == CORE_ST_FILLED && res->reason != CORE_R_QUOTE_QTY)
		PCHECK(P, t.traded == r->qty, "filled %" PRId64 " of %" PRId64, t.traded, r->qty);
	if (res->reason == CORE_R_QUOTE_QTY)
		PCHECK(P, market && r->side == CORE_BUY && r->quote_qty > 0,
			   "reason quote_qty without a quote_qty");
	if (market && r->side == CORE_BUY && res->status != CORE_ST_REJECTED)
	{
		PCHECK(P, t.traded_quote <= pre->avail, "market buy spent %" PRId64 " of %" PRId64,
			   (int64_t) t.traded_quote, pre->avail);
		if (r->quote_qty > 0)
			PCHECK(P, t.traded_quote <= r->quote_qty, "market buy spent %" PRId64
				   " of quote_qty %" PRId64, (int64_t) t.traded_quote, r->quote_qty);
		if (res->status == CORE_ST_FILLED && res->reason == CORE_R_QUOTE_QTY)
			P->st.quote_qty_filled++;
	}
	if (res->reason == CORE_R_CAPACITY)
		P->st.capacity_place++;

	/* value: refused orders are off the symbol's grid or worth too little;
	 * accepted limit orders are worth max(min_notional, 1) */
	if (res->reason == CORE_R_INVALID)
		PCHECK(P, r->price % sd->tick != 0 || r->qty % sd->lot != 0 ||
			   (r->qty > 0 && r->qty < sd->min_qty) ||
			   (!market && p_value(r->symbol, r->price, r->qty) < p_min_value(r->symbol)),
			   "order %" PRId64 " of %" PRId64 " @ %" PRId64 " refused as invalid",
			   t.id, r->qty, r->price);
	if (!market && res->status != CORE_ST_REJECTED)
		PCHECK(P, p_value(r->symbol, r->price, r->qty) >= p_min_value(r->symbol),
			   "order %" PRId64 " of %" PRId64 " @ %" PRId64 " accepted below the minimum",
			   t.id, r->qty, r->price);
	/* room to rest: refused only when a remainder would rest without it */
	if (res->reason == CORE_R_OPEN_ORDERS_LIMIT)
		PCHECK(P, res->status == CORE_ST_REJECTED && !market && r->tif == CORE_GTC &&
			   r->max_open_orders > 0 && pre->user_open >= r->max_open_orders,
			   "open_orders_limit with %u open of %u", pre->user_open, r->max_open_orders);
	if ((res->status == CORE_ST_NEW || res->status == CORE_ST_PARTIALLY_FILLED) &&
		r->max_open_orders > 0)
		PCHECK(P, pre->user_open < r->max_open_orders, "order rests with %u open of %u",
			   pre->user_open, r->max_open_orders);
	if (res->reason == CORE_R_CAPACITY)
		PCHECK(P, res->status == CORE_ST_REJECTED &&
			   ((pre->pool_full && !market && r->tif == CORE_GTC) || pre->rows_short),
			   "capacity answered %s with room", core_status_name(res->status));
	if (res->status == CORE_ST_FILLED && !market && r->tif == CORE_GTC)
	{
		if (pre->pool_full)
			P->st.full_pool_fills++;
		if (r->max_open_orders > 0 && pre->user_open >= r->max_open_orders)
			P->st.at_limit_fills++;
	}

	if (res->status == CORE_ST_NEW || res->status == CORE_ST_PARTIALLY_FILLED)
	{
		p_order		o;

		memset(&o, 0, sizeof(o));
		o.id = t.id;
		o.user = t.user;
		o.price = r->price;
		o.remaining = res->remaining_qty;
		o.symbol = r->symbol;
		o.side = r->side;
		o.stp = r->stp;
		p_add(P, &o);
	}
}

static void
p_check_amend(p_run *P, const core_record *rec, const core_result *res, const p_pre *pre)
{
	const core_rec_amend *r = &rec->u.amend;
	p_order    *m = p_find(P, r->order_id);
	bool		owned = m != NULL && m->user == r->user_id;
	bool		valid = core_record_validate(rec) == NULL;
	const core_order_event *e;
	core_order_info after;
	bool		rests;
	p_taker		t;
	int64_t		new_qty,
				new_price;
	i128		notional_before;

	PCHECK(P, owned == pre->had_order || !valid, "the test and the core disagree on order %"
		   PRId64, r->order_id);
	if (!valid || !owned)
	{
		PCHECK(P, res->status == CORE_ST_REJECTED && P->ev.n == 0 &&
			   res->reason == (valid ? CORE_R_UNKNOWN_ORDER : CORE_R_INVALID),
			   "amend of %s order %" PRId64 " answered %s/%s with %d events",
			   valid ? "someone else's or a closed" : "a malformed", r->order_id,
			   core_status_name(res->status), core_reason_name(res->reason), P->ev.n);
		return;
	}
	if (P->halted[m->symbol])
		PCHECK(P, res->status == CORE_ST_REJECTED && res->reason == CORE_R_HALTED,
			   "amend on a halted symbol answered %s", core_status_name(res->status));
	if (res->status == CORE_ST_REJECTED)
	{
		PCHECK(P, P->ev.n == 0, "refused amend emits %d events", P->ev.n);
		PCHECK(P, res->reason == CORE_R_HALTED || res->reason == CORE_R_INVALID ||
			   res->reason == CORE_R_OVERFLOW || res->reason == CORE_R_INSUFFICIENT_FUNDS ||
			   res->reason == CORE_R_POST_ONLY, "amend refused with reason %s",
			   core_reason_name(res->reason));
		PCHECK(P, core_order_get(P->eng.c, r->order_id, &after) &&
			   after.price == pre->before.price &&
			   after.remaining_qty == pre->before.remaining_qty &&
			   after.locked == pre->before.locked &&
			   after.queued_seq == pre->before.queued_seq,
			   "refused amend changed order %" PRId64, r->order_id);
		return;
	}

	new_qty = r->qty > 0 ? r->qty : pre->before.remaining_qty;
	new_price = r->price > 0 ? r->price : pre->before.price;
	memset(&t, 0, sizeof(t));
	t.id = r->order_id;
	t.user = r->user_id;
	t.symbol = m->symbol;
	t.side = m->side;
	t.stp = m->stp;
	t.limit = new_price;
	t.qty = new_qty;
	p_check_taker_events(P, &t, pre);
	if (P->failed)
		return;
	notional_before = ((i128) pre->before.notional_hi << 64) | pre->before.notional_lo;
	e = p_check_own_event(P, &t, res, pre->before.filled_qty, notional_before);
	if (P->failed)
		return;
	rests = res->status == CORE_ST_NEW || res->status == CORE_ST_PARTIALLY_FILLED;
	PCHECK(P, rests || res->status == CORE_ST_FILLED || res->status == CORE_ST_EXPIRED,
		   "amend answered %s", core_status_name(res->status));
	PCHECK(P, e->status == (rests ? CORE_ST_AMENDED : res->status) && e->price == new_price,
		   "amend's event says %s at %" PRId64, core_status_name(e->status), e->price);
	PCHECK(P, t.traded + res->remaining_qty == new_qty || !rests,
		   "amended to %" PRId64 ", traded %" PRId64 ", rests %" PRId64, new_qty, t.traded,
		   res->remaining_qty);
	if (new_price == pre->before.price && new_qty <= pre->before.remaining_qty)
	{
		P->st.inplace_amends++;
		PCHECK(P, t.ntrades == 0 && rests && core_order_get(P->eng.c, t.id, &after) &&
			   after.queued_seq == pre->before.queued_seq && after.remaining_qty == new_qty,
			   "amend of order %" PRId64 " down to %" PRId64 " lost its place", t.id, new_qty);
	}
	else
	{
		P->st.replace_amends++;
		if (rests)
			PCHECK(P, core_order_get(P->eng.c, t.id, &after) && after.queued_seq == P->seq,
				   "replaced order %" PRId64 " kept its old place", t.id);
	}
	if (P->failed)
		return;
	m = p_find(P, t.id);		/* STP cancels may have moved it */
	if (rests)
	{
		m->price = new_price;
		m->remaining = res->remaining_qty;
	}
	else
		p_del(P, t.id);
}

static void
p_check_cancel(p_run *P, const core_record *rec, const core_result *res)
{
	const core_rec_cancel *r = &rec->u.cancel;
	p_order    *m = p_find(P, r->order_id);
	bool		valid = core_record_validate(rec) == NULL;

	if (!valid || m == NULL || m->user != r->user_id)
	{
		PCHECK(P, res->status == CORE_ST_REJECTED && P->ev.n == 0 &&
			   res->reason == (valid ? CORE_R_UNKNOWN_ORDER : CORE_R_INVALID),
			   "cancel of order %" PRId64 " by user %" PRId64 " answered %s/%s",
			   r->order_id, r->user_id, core_status_name(res->status),
			   core_reason_name(res->reason));
		return;
	}
	PCHECK(P, res->status == CORE_ST_CANCELED && res->remaining_qty == 0 && P->ev.n == 1 &&
		   P->ev.ev[0].type == CORE_EV_ORDER && P->ev.ev[0].u.order.order_id == r->order_id &&
		   P->ev.ev[0].u.order.status == CORE_ST_CANCELED,
		   "cancel of own order %" PRId64 " answered %s/%s with %d events", r->order_id,
		   core_status_name(res->status), core_reason_name(res->reason), P->ev.n);
	if (!P->failed)
		p_del(P, r->order_id);
}

static void
p_check_cancel_all(p_run *P, const core_record *rec, const core_result *res, const p_pre *pre)
{
	const core_rec_cancel_all *r = &rec->u.cancel_all;
	int64_t		prev = 0;

	if (core_record_validate(rec) != NULL || r->symbol > P_SYMBOLS)
	{
		PCHECK(P, res->status == CORE_ST_REJECTED && P->ev.n == 0,
			   "refused cancel_all answered %s", core_status_name(res->status));
		return;
	}
	PCHECK(P, res->status == CORE_ST_OK && res->canceled == pre->expect_canceled &&
		   P->ev.n == pre->expect_canceled, "cancel_all canceled %d (%d events), want %d",
		   res->canceled, P->ev.n, pre->expect_canceled);
	for (int i = 0; i < P->ev.n && !P->failed; i++)
	{
		const core_order_event *e = &P->ev.ev[i].u.order;

		PCHECK(P, P->ev.ev[i].type == CORE_EV_ORDER && e->status == CORE_ST_CANCELED &&
			   e->order_id > prev && (r->symbol == 0 || e->symbol == r->symbol),
			   "cancel_all event %d", i);
		prev = e->order_id;
		p_check_other(P, e, r->user_id, false);
	}
}

static void
p_check_funds(p_run *P, const core_record *rec, const core_result *res)
{
	const core_rec_funds *r = &rec->u.funds;
	bool		deposit = rec->type == CORE_REC_DEPOSIT;
	core_balance_info b;

	PCHECK(P, P->ev.n == 0, "funds command emits %d events", P->ev.n);
	if (core_record_validate(rec) != NULL)
	{
		PCHECK(P, res->status == CORE_ST_REJECTED && res->reason == CORE_R_INVALID,
			   "malformed funds command answered %s", core_status_name(res->status));
		return;
	}
	if (res->status != CORE_ST_OK)
	{
		PCHECK(P, res->status == CORE_ST_REJECTED &&
			   (r->asset > P->nassets ? res->reason == CORE_R_UNKNOWN_ASSET :
				deposit ? (res->reason == CORE_R_OVERFLOW || res->reason == CORE_R_CAPACITY) :
				res->reason == CORE_R_INSUFFICIENT_FUNDS),
			   "%s answered %s/%s", deposit ? "deposit" : "withdrawal",
			   core_status_name(res->status), core_reason_name(res->reason));
		if (res->reason == CORE_R_CAPACITY)
			P->st.capacity_deposit++;
		if (res->reason == CORE_R_OVERFLOW)
			PCHECK(P, P->net[r->asset] + r->amount > INT64_MAX, "deposit refused as overflow");
		return;
	}
	PCHECK(P, r->asset >= 1 && r->asset <= P->nassets, "funds of unknown asset %u accepted",
		   r->asset);
	PCHECK(P, core_balance_get(P->eng.c, r->user_id, r->asset, &b) &&
		   b.available == res->available && b.frozen == res->frozen,
		   "funds answer shows a balance the core does not have");
	if (P->failed)
		return;
	P->net[r->asset] += deposit ? r->amount : -r->amount;
	if (r->user_id == 0)
		P->fees[r->asset] -= r->amount;
}

static void
p_check_refdata(p_run *P, const core_record *rec, const core_result *res)
{
	PCHECK(P, P->ev.n == 0, "reference-data command emits %d events", P->ev.n);
	if (core_record_validate(rec) != NULL)
	{
		PCHECK(P, res->status == CORE_ST_REJECTED && res->reason == CORE_R_INVALID,
			   "malformed record answered %s/%s", core_status_name(res->status),
			   core_reason_name(res->reason));
		return;
	}
	switch (rec->type)
	{
		case CORE_REC_CREATE_ASSET:
			if (res->status == CORE_ST_OK)
			{
				PCHECK(P, res->id == P->nassets + 1 && P->nassets < P->cfg.lim.max_assets,
					   "asset %u created", res->id);
				P->nassets = res->id;
				P->net[res->id] = 0;
				P->fees[res->id] = 0;
			}
			else if (res->reason == CORE_R_CAPACITY)
			{
				PCHECK(P, P->nassets == P->cfg.lim.max_assets ||
					   core_get_counters(P->eng.c).balances == P->cfg.lim.max_balances,
					   "asset refused for capacity with room for it");
				P->st.capacity_asset++;
			}
			break;
		case CORE_REC_CREATE_SYMBOL:
			/* The generator only ever asks for symbols the core must refuse. */
			PCHECK(P, res->status == CORE_ST_REJECTED, "symbol created");
			break;
		case CORE_REC_SET_SYMBOL_STATUS:
			{
				uint32_t	sym = rec->u.set_symbol_status.symbol;

				if (sym > P_SYMBOLS)
					PCHECK(P, res->status == CORE_ST_REJECTED &&
						   res->reason == CORE_R_UNKNOWN_SYMBOL, "status of unknown symbol");
				else
				{
					PCHECK(P, res->status == CORE_ST_OK, "status change refused");
					P->halted[sym] = rec->u.set_symbol_status.status == CORE_HALTED;
				}
			}
			break;
		default:
			break;
	}
}

/* ------------------------------------------------------------ a step */

static void
p_step(p_run *P, const core_record *rec_in)
{
	core_record rec = *rec_in;
	core_result res;
	p_pre		pre;

	/* A well-formed record goes through the codec, as the log would give it back. */
	if (core_record_validate(&rec) == NULL)
	{
		uint8_t		buf[CORE_RECORD_MAX_BYTES],
					buf2[CORE_RECORD_MAX_BYTES];
		size_t		n = core_record_encode(&rec, buf),
					n2;
		core_record dec;

		PCHECK(P, n > 2 && n <= CORE_RECORD_MAX_BYTES && core_record_decode(buf, n, &dec),
			   "record of type %d does not survive the codec", rec.type);
		if (P->failed)
			return;
		n2 = core_record_encode(&dec, buf2);
		PCHECK(P, n2 == n && memcmp(buf, buf2, n) == 0, "codec round trip changes the record");
		PCHECK(P, core_record_validate(&dec) == NULL, "decoded record is malformed");
		dec.ts = rec.ts;
		rec = dec;
	}

	P->seq++;
	P->hist[P->seq % P_HISTORY] = rec;
	memset(&pre, 0, sizeof(pre));
	switch (rec.type)
	{
		case CORE_REC_PLACE:
			if (rec.u.place.symbol >= 1 && rec.u.place.symbol <= P_SYMBOLS &&
				rec.u.place.side <= CORE_SELL)
			{
				const p_symbol_def *sd = &p_symbols[rec.u.place.symbol - 1];
				core_balance_info b;

				int			missing;

				pre.best = p_best(P->eng.c, rec.u.place.symbol, !rec.u.place.side);
				if (rec.u.place.tif == CORE_FOK && rec.u.place.price > 0)
					pre.fok_fillable = p_fok_fillable(P->eng.c, &rec.u.place);
				if (core_balance_get(P->eng.c, rec.u.place.user_id,
									 rec.u.place.side == CORE_BUY ? sd->quote : sd->base, &b))
					pre.avail = b.available;
				if (rec.u.place.user_id >= 1 && rec.u.place.user_id <= P->cfg.users)
					pre.user_open = P->uopen[rec.u.place.user_id];
				pre.pool_full = P->nopen >= P->cfg.lim.max_orders;
				missing = !core_balance_get(P->eng.c, rec.u.place.user_id, sd->base, &b) +
					!core_balance_get(P->eng.c, rec.u.place.user_id, sd->quote, &b);
				pre.rows_short = core_get_counters(P->eng.c).balances + missing >
					P->cfg.lim.max_balances;
			}
			break;
		case CORE_REC_AMEND:
			pre.had_order = core_order_get(P->eng.c, rec.u.amend.order_id, &pre.before) &&
				pre.before.user_id == rec.u.amend.user_id;
			if (pre.had_order)
				pre.best = p_best(P->eng.c, pre.before.symbol, !pre.before.side);
			break;
		case CORE_REC_CANCEL_ALL:
			for (uint32_t i = 0; i < P->nopen; i++)
				if (P->open[i].user == rec.u.cancel_all.user_id &&
					(rec.u.cancel_all.symbol == 0 ||
					 P->open[i].symbol == rec.u.cancel_all.symbol))
					pre.expect_canceled++;
			break;
		default:
			break;
	}

	P->ev.n = 0;
	core_apply(P->eng.c, &rec, p_collect, &P->ev, &res);
	PCHECK(P, core_seq(P->eng.c) == P->seq, "core seq %" PRId64, core_seq(P->eng.c));
	if (P->shadow.c != NULL)
		p_shadow_step(P, &rec, &res);

	P->evhash = p_hash_result(p_mix(P->evhash, (uint64_t) P->seq), &res);
	for (int i = 0; i < P->ev.n; i++)
		P->evhash = p_hash_event(P->evhash, &P->ev.ev[i]);
	P->st.commands++;
	P->st.status[res.status < CORE_ST_COUNT ? res.status : 0]++;
	P->st.reason[res.reason < CORE_R_COUNT ? res.reason : 0]++;

	switch (rec.type)
	{
		case CORE_REC_PLACE:
			p_check_place(P, &rec, &res, &pre);
			break;
		case CORE_REC_AMEND:
			p_check_amend(P, &rec, &res, &pre);
			break;
		case CORE_REC_CANCEL:
			p_check_cancel(P, &rec, &res);
			break;
		case CORE_REC_CANCEL_ALL:
			p_check_cancel_all(P, &rec, &res, &pre);
			break;
		case CORE_REC_DEPOSIT:
		case CORE_REC_WITHDRAW:
			p_check_funds(P, &rec, &res);
			break;
		default:
			p_check_refdata(P, &rec, &res);
			break;
	}
}

/* -------------------------------------------------------- generator */

static int64_t
p_user(p_run *P)
{
	/* A few busy market makers (their orders often meet), then everybody else. */
	if (rng_chance(&P->r, 3000))
		return rng_range(&P->r, 1, P->cfg.users < 5 ? P->cfg.users : 5);
	return rng_range(&P->r, 1, P->cfg.users);
}

static int64_t
p_avail(p_run *P, int64_t user, uint32_t asset)
{
	core_balance_info b;

	return core_balance_get(P->eng.c, user, asset, &b) ? b.available : 0;
}

static uint8_t
p_stp(p_run *P)
{
	uint64_t	x = rng_below(&P->r, 100);

	return x < 55 ? CORE_STP_NONE : x < 70 ? CORE_STP_CANCEL_TAKER :
		x < 85 ? CORE_STP_CANCEL_MAKER : CORE_STP_CANCEL_BOTH;
}

static uint32_t
p_symbol(p_run *P)
{
	uint32_t	sym = (uint32_t) rng_range(&P->r, 1, P_SYMBOLS);
	const p_symbol_def *sd = &p_symbols[sym - 1];

	/* The mid drifts. */
	if (rng_chance(&P->r, 500))
	{
		P->mid[sym] += sd->tick * rng_range(&P->r, -3, 3);
		if (P->mid[sym] < 100 * sd->tick)
			P->mid[sym] = 100 * sd->tick;
	}
	return sym;
}

/* Around the mid; cross_10k in 10000 at or through it. */
static int64_t
p_price(p_run *P, uint32_t sym, uint8_t side, unsigned cross_10k)
{
	const p_symbol_def *sd = &p_symbols[sym - 1];
	int64_t		k,
				price;

	if (rng_chance(&P->r, cross_10k))
		k = -rng_range(&P->r, 0, 4);
	else
		k = rng_skewed(&P->r, 40);
	price = side == CORE_BUY ? P->mid[sym] - k * sd->tick : P->mid[sym] + k * sd->tick;
	return price < sd->tick ? sd->tick : price;
}

/* The open-order limit a PLACE carries: mostly the run's, now and then
 * another small one or none. */
static uint32_t
p_open_limit(p_run *P)
{
	uint32_t	lim = P->cfg.max_open_orders;
	uint64_t	x = rng_below(&P->r, 100);

	if (x < 5)
		return 0;
	if (x < 15)
		return (uint32_t) rng_range(&P->r, 1, lim > 1 ? lim : 8);
	return lim;
}

/*
 * A quantity for an order, most of the time what the user can pay for and
 * at least what the symbol takes (min_qty, and a value of max(min_notional,
 * 1) at this price); one time in a hundred it may be less.
 */
static int64_t
p_qty(p_run *P, uint32_t sym, uint8_t side, int64_t user, int64_t price)
{
	const p_symbol_def *sd = &p_symbols[sym - 1];
	int64_t		qty = rng_skewed(&P->r, sd->max_lots) * sd->lot;
	int64_t		minq = sd->min_qty > sd->lot ? sd->min_qty : sd->lot;
	i128		by_value = ((i128) p_min_value(sym) * p_scale(sym) + price - 1) / price;

	by_value += (sd->lot - by_value % sd->lot) % sd->lot;
	if (by_value > minq)
		minq = by_value < INT64_MAX / 4 ? (int64_t) by_value : INT64_MAX / 4;

	if (qty < minq && !rng_chance(&P->r, 100))
		qty = minq;
	if (rng_chance(&P->r, 8500))
	{
		int64_t		avail = p_avail(P, user, side == CORE_BUY ? sd->quote : sd->base);
		int64_t		cap;

		if (side == CORE_BUY)
			cap = (int64_t) ((i128) avail * p_scale(sym) / (price > 0 ? price : P->mid[sym]) / 2);
		else
			cap = avail / 2;
		cap -= cap % sd->lot;
		if (cap >= minq && qty > cap)
			qty = cap;
		/* Now and then a whale trades big: fill notionals pass 2^64. */
		if (user <= P_WHALES && cap >= minq && rng_chance(&P->r, 5000))
			qty = cap / 2 - (cap / 2) % sd->lot;
	}
	return qty;
}

static void
p_gen_deposit(p_run *P, core_record *rec)
{
	uint32_t	asset = (uint32_t) rng_range(&P->r, 1, P->nassets);

	rec->type = CORE_REC_DEPOSIT;
	rec->u.funds.user_id = p_user(P);
	rec->u.funds.asset = asset;
	if (asset <= P_ASSETS)
		rec->u.funds.amount = rng_range(&P->r, p_assets[asset - 1].dep_lo,
										p_assets[asset - 1].dep_hi);
	else
		rec->u.funds.amount = rng_range(&P->r, 1, INT64_C(1000000000));
	if (rng_chance(&P->r, 20))
		rec->u.funds.amount = INT64_MAX / 2 + rng_range(&P->r, 0, INT64_MAX / 4);	/* overflow */
	if (rng_chance(&P->r, 50))
		rec->u.funds.asset = 40 + (uint32_t) rng_below(&P->r, 10);	/* unknown asset */
}

static void
p_gen_withdraw(p_run *P, core_record *rec)
{
	int64_t		user = rng_chance(&P->r, 500) ? 0 : p_user(P);
	uint32_t	asset = (uint32_t) rng_range(&P->r, 1, P->nassets);
	int64_t		avail = p_avail(P, user, asset);
	uint64_t	x = rng_below(&P->r, 100);

	rec->type = CORE_REC_WITHDRAW;
	rec->u.funds.user_id = user;
	rec->u.funds.asset = asset;
	if (x < 70 && avail > 0)
		rec->u.funds.amount = rng_range(&P->r, 1, avail);
	else if (x < 90 && avail > 0)
		rec->u.funds.amount = avail;
	else
		rec->u.funds.amount = avail + rng_range(&P->r, 1, 1000);	/* too much */
}

/* Quantity resting on the other side at prices an order at limit would take. */
typedef struct p_depth
{
	uint8_t		side;			/* the incoming order's side */
	int64_t		limit;
	i128		qty;			/* 128-bit, like a level's total */
} p_depth;

static bool
p_depth_cb(void *ctx, const core_level_info *l)
{
	p_depth    *d = ctx;

	if (d->side == CORE_BUY ? l->price > d->limit : l->price < d->limit)
		return false;
	d->qty += (i128) ((unsigned __int128) l->qty_hi << 64 | l->qty_lo);
	return true;
}

static void
p_gen_limit(p_run *P, core_record *rec)
{
	core_rec_place *p = &rec->u.place;
	uint32_t	sym = p_symbol(P);
	const p_symbol_def *sd = &p_symbols[sym - 1];
	uint64_t	x = rng_below(&P->r, 100);

	rec->type = CORE_REC_PLACE;
	p->user_id = p_user(P);
	p->symbol = sym;
	p->side = (uint8_t) rng_below(&P->r, 2);
	p->tif = x < 75 ? CORE_GTC : x < 90 ? CORE_IOC : CORE_FOK;
	p->post_only = p->tif == CORE_GTC && rng_chance(&P->r, 800);
	p->stp = p_stp(P);
	p->max_open_orders = p_open_limit(P);
	p->price = p_price(P, sym, p->side, 2500);
	p->qty = p_qty(P, sym, p->side, p->user_id, p->price);
	if (rng_chance(&P->r, 3000))
		snprintf(p->client_order_id, sizeof(p->client_order_id), "c-%" PRId64 "-%" PRId64,
				 p->user_id, P->seq);
	/* Fill-or-kill right at the edge: exactly the depth, a lot more, a lot less. */
	if (p->tif == CORE_FOK && rng_chance(&P->r, 6000))
	{
		p_depth		d = {p->side, p->price, 0};

		core_book_levels(P->eng.c, sym, !p->side, 0, p_depth_cb, &d);
		if (d.qty > INT64_MAX / 2)
			d.qty = INT64_MAX / 2;
		if (d.qty > 0)
			p->qty = (int64_t) d.qty + sd->lot * rng_range(&P->r, d.qty > sd->lot ? -1 : 0, 1);
		if (p->qty < sd->min_qty)
			p->qty = sd->min_qty;
	}

	x = rng_below(&P->r, 10000);
	if (x < 10)
		p->price = sd->tick * rng_range(&P->r, 1, INT64_MAX / sd->tick);	/* overflow or no funds */
	else if (x < 20 && sd->tick > 1)
		p->price += 1;			/* off the tick */
	else if (x < 30)
		p->qty += 1;			/* off the lot */
	else if (x < 40)
		p->user_id = P->cfg.users + rng_range(&P->r, 1, 10);	/* no account */
	else if (x < 45)
		p->symbol = P_SYMBOLS + 1 + (uint32_t) rng_below(&P->r, 5);	/* unknown symbol */
}

static void
p_gen_market(p_run *P, core_record *rec)
{
	core_rec_place *p = &rec->u.place;
	uint32_t	sym = p_symbol(P);
	const p_symbol_def *sd = &p_symbols[sym - 1];
	uint64_t	x = rng_below(&P->r, 100);

	rec->type = CORE_REC_PLACE;
	p->user_id = p_user(P);
	p->symbol = sym;
	p->side = (uint8_t) rng_below(&P->r, 2);
	p->tif = rng_chance(&P->r, 5000) ? CORE_IOC : CORE_GTC;	/* either: a market order is ioc */
	p->stp = p_stp(P);
	p->max_open_orders = p_open_limit(P);
	if (p->side == CORE_SELL)
	{
		int64_t		avail = p_avail(P, p->user_id, sd->base);

		p->qty = rng_skewed(&P->r, sd->max_lots / 8) * sd->lot;
		if (rng_chance(&P->r, 9000) && avail >= 2 * sd->lot && p->qty > avail / 2)
			p->qty = avail / 2 - (avail / 2) % sd->lot;
		if (p->qty < sd->min_qty)
			p->qty = sd->min_qty;
		return;
	}
	if (x < 40 || x >= 80)
	{
		p->qty = rng_skewed(&P->r, sd->max_lots / 8) * sd->lot;
		if (p->qty < sd->min_qty)
			p->qty = sd->min_qty;
	}
	if (x >= 40)
	{
		int64_t		avail = p_avail(P, p->user_id, sd->quote);

		/* A budget: mostly within reach, sometimes more than the user has. */
		p->quote_qty = rng_chance(&P->r, 8500) && avail > 1 ? rng_range(&P->r, 1, avail / 8 + 1)
			: rng_range(&P->r, 1, INT64_C(1) << 40);
	}
}

/* An open order, or 0 when none is open. */
static p_order *
p_pick_open(p_run *P)
{
	return P->nopen ? &P->open[rng_below(&P->r, P->nopen)] : NULL;
}

/* An id that is not open: long finished, or never issued. */
static int64_t
p_closed_id(p_run *P)
{
	if (rng_chance(&P->r, 5000) && P->next_oid > 1)
	{
		int64_t		id = rng_range(&P->r, 1, P->next_oid - 1);

		if (p_find(P, id) == NULL)
			return id;
	}
	return P->next_oid + rng_range(&P->r, 0, 1000);
}

static int64_t
p_other_user(p_run *P, int64_t user)
{
	int64_t		u = p_user(P);

	return u == user ? (u % P->cfg.users) + 1 : u;
}

static void
p_gen_cancel(p_run *P, core_record *rec)
{
	p_order    *o = p_pick_open(P);
	uint64_t	x = rng_below(&P->r, 100);

	rec->type = CORE_REC_CANCEL;
	if (o && x < 85)
	{
		rec->u.cancel.user_id = o->user;
		rec->u.cancel.order_id = o->id;
	}
	else if (o && x < 93)
	{
		rec->u.cancel.user_id = p_other_user(P, o->user);	/* not the owner */
		rec->u.cancel.order_id = o->id;
	}
	else
	{
		rec->u.cancel.user_id = p_user(P);
		rec->u.cancel.order_id = p_closed_id(P);
	}
}

static void
p_gen_cancel_all(p_run *P, core_record *rec)
{
	p_order    *o = p_pick_open(P);
	uint64_t	x = rng_below(&P->r, 100);

	rec->type = CORE_REC_CANCEL_ALL;
	rec->u.cancel_all.user_id = o && x < 80 ? o->user : p_user(P);
	rec->u.cancel_all.symbol = x % 2 ? 0 : (uint32_t) rng_range(&P->r, 1, P_SYMBOLS);
	if (x >= 97)
		rec->u.cancel_all.symbol = P_SYMBOLS + 1 + (uint32_t) rng_below(&P->r, 3);
}

static void
p_gen_amend(p_run *P, core_record *rec)
{
	p_order    *o = p_pick_open(P);
	core_rec_amend *a = &rec->u.amend;
	const p_symbol_def *sd;
	uint64_t	x = rng_below(&P->r, 100);

	rec->type = CORE_REC_AMEND;
	if (o == NULL || x >= 95)
	{
		a->user_id = p_user(P);
		a->order_id = p_closed_id(P);
		a->qty = rng_range(&P->r, 1, 100) * 10000;
		return;
	}
	sd = &p_symbols[o->symbol - 1];
	a->user_id = x < 92 ? o->user : p_other_user(P, o->user);
	a->order_id = o->id;
	x = rng_below(&P->r, 100);
	if (x < 30)					/* down: keeps its place */
		a->qty = o->remaining > sd->lot ?
			o->remaining - sd->lot * rng_range(&P->r, 1, (o->remaining - sd->lot) / sd->lot) :
			o->remaining;
	else if (x < 45)			/* up */
		a->qty = o->remaining + sd->lot * rng_skewed(&P->r, sd->max_lots / 4);
	else if (x < 85)			/* move: a step, or a new quote around the mid */
	{
		int64_t		k = rng_range(&P->r, 1, 3);

		if (rng_chance(&P->r, 5000))
			a->price = p_price(P, o->symbol, o->side, 500);
		else
			a->price = o->price + (rng_chance(&P->r, 5000) ? k : -k) * sd->tick;
		if (a->price < sd->tick)
			a->price = sd->tick;
	}
	else if (x < 95)			/* both */
	{
		a->qty = sd->lot * rng_skewed(&P->r, sd->max_lots);
		a->price = p_price(P, o->symbol, o->side, 500);
	}
	else if (x < 98)			/* the same qty and price: changes nothing */
	{
		a->qty = o->remaining;
		a->price = o->price;
	}
	else						/* off the tick or the lot */
	{
		a->price = sd->tick > 1 ? o->price + 1 : 0;
		a->qty = sd->tick > 1 ? 0 : o->remaining + 1;
	}
}

static void
p_gen_status(p_run *P, core_record *rec)
{
	uint32_t	sym = (uint32_t) rng_range(&P->r, 1, P_SYMBOLS);

	rec->type = CORE_REC_SET_SYMBOL_STATUS;
	rec->u.set_symbol_status.symbol = rng_chance(&P->r, 1000) ? P_SYMBOLS + 7 : sym;
	rec->u.set_symbol_status.status = rng_chance(&P->r, 1000) ? CORE_TRADING : CORE_HALTED;
}

static void
p_gen_refdata(p_run *P, core_record *rec)
{
	uint64_t	x = rng_below(&P->r, 100);

	if (x < 40)
	{
		rec->type = CORE_REC_CREATE_ASSET;
		snprintf(rec->u.create_asset.code, sizeof(rec->u.create_asset.code), "X%u",
				 P->nassets + 1);
		rec->u.create_asset.decimals = (uint8_t) rng_range(&P->r, 0, CORE_MAX_DECIMALS);
	}
	else if (x < 60)
	{
		rec->type = CORE_REC_CREATE_ASSET;	/* duplicate */
		snprintf(rec->u.create_asset.code, sizeof(rec->u.create_asset.code), "%s",
				 p_assets[rng_below(&P->r, P_ASSETS)].code);
		rec->u.create_asset.decimals = 2;
	}
	else
	{
		const p_symbol_def *sd = &p_symbols[rng_below(&P->r, P_SYMBOLS)];
		core_rec_create_symbol *s = &rec->u.create_symbol;

		rec->type = CORE_REC_CREATE_SYMBOL;
		snprintf(s->name, sizeof(s->name), "%s", sd->name);	/* duplicate */
		s->base_asset = sd->base;
		s->quote_asset = sd->quote;
		s->tick_size = 1;
		s->lot_size = 1;
		if (x >= 80)
		{
			snprintf(s->name, sizeof(s->name), "NEW_%" PRId64, P->seq);
			s->base_asset = 77;	/* unknown asset */
		}
	}
}

/* A record that fails its shape checks, one field at a time. */
static void
p_gen_invalid(p_run *P, core_record *rec)
{
	uint64_t	x = rng_below(&P->r, 18);

	p_gen_limit(P, rec);
	rec->u.place.symbol = 1;
	switch (x)
	{
		case 0:
			rec->u.place.side = (uint8_t) rng_range(&P->r, 2, 255);
			break;
		case 1:
			rec->u.place.tif = (uint8_t) rng_range(&P->r, 3, 255);
			break;
		case 2:
			rec->u.place.stp = (uint8_t) rng_range(&P->r, 4, 255);
			break;
		case 3:
			rec->u.place.price = -rng_range(&P->r, 1, 1000);
			break;
		case 4:
			rec->u.place.qty = -rng_range(&P->r, 1, 1000);
			break;
		case 5:
			rec->u.place.price = 0;	/* market + post_only */
			rec->u.place.post_only = true;
			break;
		case 6:
			rec->u.place.price = 0;	/* market + fok */
			rec->u.place.tif = CORE_FOK;
			break;
		case 7:
			rec->u.place.quote_qty = 1000;	/* quote_qty on a limit order */
			break;
		case 8:
			rec->u.place.price = 0;	/* market buy without qty or quote_qty */
			rec->u.place.side = CORE_BUY;
			rec->u.place.qty = 0;
			break;
		case 9:
			snprintf(rec->u.place.client_order_id, sizeof(rec->u.place.client_order_id),
					 "bad\"id");
			break;
		case 10:
			rec->u.place.user_id = -rng_range(&P->r, 0, 5);
			break;
		case 11:
			rec->type = (uint8_t) (rng_chance(&P->r, 5000) ? CORE_REC_INVALID :
								   rng_range(&P->r, CORE_REC_COUNT, 255));
			break;
		case 12:
			memset(&rec->u, 0, sizeof(rec->u));
			rec->type = CORE_REC_CANCEL;
			rec->u.cancel.user_id = p_user(P);
			rec->u.cancel.order_id = -rng_range(&P->r, 0, 5);
			break;
		case 13:
			memset(&rec->u, 0, sizeof(rec->u));
			rec->type = CORE_REC_AMEND;	/* neither qty nor price */
			rec->u.amend.user_id = p_user(P);
			rec->u.amend.order_id = rng_range(&P->r, 1, P->next_oid);
			break;
		case 14:
			memset(&rec->u, 0, sizeof(rec->u));
			rec->type = rng_chance(&P->r, 5000) ? CORE_REC_DEPOSIT : CORE_REC_WITHDRAW;
			rec->u.funds.user_id = p_user(P);
			rec->u.funds.asset = 1;
			rec->u.funds.amount = -rng_range(&P->r, 0, 5);
			break;
		case 15:
			memset(&rec->u, 0, sizeof(rec->u));
			rec->type = CORE_REC_DEPOSIT;	/* nobody deposits to the fee account */
			rec->u.funds.user_id = 0;
			rec->u.funds.asset = 1;
			rec->u.funds.amount = 100;
			break;
		case 16:
			memset(&rec->u, 0, sizeof(rec->u));
			rec->type = CORE_REC_SET_SYMBOL_STATUS;
			rec->u.set_symbol_status.symbol = 1;
			rec->u.set_symbol_status.status = (uint8_t) rng_range(&P->r, 2, 255);
			break;
		default:
			memset(&rec->u, 0, sizeof(rec->u));
			rec->type = CORE_REC_CREATE_SYMBOL;	/* base == quote */
			snprintf(rec->u.create_symbol.name, sizeof(rec->u.create_symbol.name), "SAME");
			rec->u.create_symbol.base_asset = rec->u.create_symbol.quote_asset = 1;
			rec->u.create_symbol.tick_size = rec->u.create_symbol.lot_size = 1;
			break;
	}
}

static void
p_gen(p_run *P, core_record *rec)
{
	uint64_t	x;

	memset(rec, 0, sizeof(*rec));
	rec->ts = P_TS0 + (P->seq + 1) * 1000;

	/* Halts are short. */
	for (uint32_t s = 1; s <= P_SYMBOLS; s++)
		if (P->halted[s] && rng_chance(&P->r, 100))
		{
			rec->type = CORE_REC_SET_SYMBOL_STATUS;
			rec->u.set_symbol_status.symbol = s;
			rec->u.set_symbol_status.status = CORE_TRADING;
			return;
		}
	/* Keep the book near its target size. */
	if (P->nopen > P->cfg.target_open && rng_chance(&P->r, 2500))
	{
		p_order    *o = p_pick_open(P);

		rec->type = CORE_REC_CANCEL;
		rec->u.cancel.user_id = o->user;
		rec->u.cancel.order_id = o->id;
		return;
	}

	x = rng_below(&P->r, 10000);
	if (x < 500)
		p_gen_deposit(P, rec);
	else if (x < 750)
		p_gen_withdraw(P, rec);
	else if (x < 4600)
		p_gen_limit(P, rec);
	else if (x < 4900)
		p_gen_market(P, rec);
	else if (x < 5900)
		p_gen_cancel(P, rec);
	else if (x < 5950)
		p_gen_cancel_all(P, rec);
	else if (x < 9800)
		p_gen_amend(P, rec);
	else if (x < 9803)
		p_gen_status(P, rec);
	else if (x < 9810)
		p_gen_refdata(P, rec);
	else
		p_gen_invalid(P, rec);
}

/* ------------------------------------------------------------ a run */

static void
p_setup(p_run *P)
{
	core_record rec;

	for (int i = 0; i < P_ASSETS && !P->failed; i++)
	{
		memset(&rec, 0, sizeof(rec));
		rec.type = CORE_REC_CREATE_ASSET;
		rec.ts = P_TS0;
		snprintf(rec.u.create_asset.code, sizeof(rec.u.create_asset.code), "%s",
				 p_assets[i].code);
		rec.u.create_asset.decimals = p_assets[i].decimals;
		p_step(P, &rec);
	}
	PCHECK(P, P->nassets == P_ASSETS, "created %u assets", P->nassets);
	for (int i = 0; i < P_SYMBOLS && !P->failed; i++)
	{
		const p_symbol_def *sd = &p_symbols[i];
		core_result res;

		memset(&rec, 0, sizeof(rec));
		rec.type = CORE_REC_CREATE_SYMBOL;
		rec.ts = P_TS0;
		snprintf(rec.u.create_symbol.name, sizeof(rec.u.create_symbol.name), "%s", sd->name);
		rec.u.create_symbol.base_asset = sd->base;
		rec.u.create_symbol.quote_asset = sd->quote;
		rec.u.create_symbol.tick_size = sd->tick;
		rec.u.create_symbol.lot_size = sd->lot;
		rec.u.create_symbol.min_qty = sd->min_qty;
		rec.u.create_symbol.maker_fee_ppm = sd->maker_ppm;
		rec.u.create_symbol.taker_fee_ppm = sd->taker_ppm;
		rec.u.create_symbol.min_notional = sd->min_notional;
		/* Applied directly: p_check_refdata refuses new symbols after the setup. */
		P->seq++;
		P->hist[P->seq % P_HISTORY] = rec;
		core_apply(P->eng.c, &rec, NULL, NULL, &res);
		PCHECK(P, res.status == CORE_ST_OK && res.id == (uint32_t) i + 1,
			   "symbol %s refused: %s", sd->name, core_reason_name(res.reason));
		P->mid[i + 1] = sd->mid0;
	}
	/* Everybody starts with some of two or three assets. */
	for (int u = 1; u <= P->cfg.users && !P->failed; u++)
		for (uint32_t a = 1; a <= P_ASSETS && !P->failed; a++)
		{
			if (u > P_WHALES && rng_chance(&P->r, 3500))
				continue;
			memset(&rec, 0, sizeof(rec));
			rec.type = CORE_REC_DEPOSIT;
			rec.ts = P_TS0;
			rec.u.funds.user_id = u;
			rec.u.funds.asset = a;
			rec.u.funds.amount = rng_range(&P->r, p_assets[a - 1].dep_lo, p_assets[a - 1].dep_hi);
			if (u <= P_WHALES)
				rec.u.funds.amount *= P_WHALE_MULT;
			p_step(P, &rec);
		}
}

static p_run *
p_new(const p_cfg *cfg)
{
	p_run	   *P = calloc(1, sizeof(*P));
	const char *env = getenv("PROP_SEED");

	P->cfg = *cfg;
	if (env != NULL)
		P->cfg.seed += strtoull(env, NULL, 10);
	P->r.s = P->cfg.seed;
	P->next_oid = 1;
	P->next_tid = 1;
	P->npos = cfg->commands + (int64_t) cfg->users * P_ASSETS + 1024;
	P->pos = calloc((size_t) P->npos, sizeof(int32_t));
	P->open = calloc((size_t) cfg->lim.max_orders + 1, sizeof(p_order));
	P->need = calloc((size_t) (cfg->users + 1) * (P_MAX_ASSETS + 1), sizeof(i128));
	P->uopen = calloc((size_t) cfg->users + 1, sizeof(uint32_t));
	if (cfg->lim.max_assets > P_MAX_ASSETS || !p_engine_new(&P->eng, &cfg->lim))
		PFAIL(P, "cannot create the engine");
	return P;
}

static void
p_free(p_run *P)
{
	p_engine_free(&P->eng);
	p_engine_free(&P->shadow);
	p_snap_free(&P->snap);
	free(P->ev.ev);
	free(P->sev.ev);
	free(P->pos);
	free(P->open);
	free(P->need);
	free(P->uopen);
	free(P);
}

static void
p_print_stats(const p_run *P)
{
	const p_stats *s = &P->st;

	printf("    # seed %" PRIu64 ": %" PRId64 " commands, %" PRId64 " trades, %" PRId64
		   " verifies, %" PRId64 " round trips, at most %u open orders, %" PRId64
		   " sightings of a 128-bit notional\n", P->cfg.seed, s->commands, s->trades,
		   s->verifies, s->roundtrips, s->max_open, s->wide_notional);
	printf("    #   answers:");
	for (int i = 0; i < CORE_ST_COUNT; i++)
		if (s->status[i])
			printf(" %s %" PRId64, core_status_name((core_status) i), s->status[i]);
	printf("\n    #   reasons:");
	for (int i = 1; i < CORE_R_COUNT; i++)
		if (s->reason[i])
			printf(" %s %" PRId64, core_reason_name((core_reason) i), s->reason[i]);
	printf("\n    #   amends in place %" PRId64 ", replaced %" PRId64 "; stp cancels %" PRId64
		   "; capacity refusals: deposit %" PRId64 ", place %" PRId64 ", asset %" PRId64 "\n",
		   s->inplace_amends, s->replace_amends, s->self_trade_cancels, s->capacity_deposit,
		   s->capacity_place, s->capacity_asset);
	printf("    #   dust cancels %" PRId64 "; gtc filled on arrival at a full pool %" PRId64
		   ", at the user's limit %" PRId64 "; most open orders of one user %u\n",
		   s->dust_cancels, s->full_pool_fills, s->at_limit_fills, s->max_user_open);
}

/* Runs cfg to its end (or the first failure); the caller frees the run. */
static p_run *
p_run_cfg(const p_cfg *cfg)
{
	p_run	   *P = p_new(cfg);
	core_record rec;

	if (!P->failed)
		p_setup(P);
	for (int64_t i = 0; i < cfg->commands && !P->failed; i++)
	{
		p_gen(P, &rec);
		p_step(P, &rec);
		if (P->failed)
			break;
		if (cfg->verify_every && P->seq % cfg->verify_every == 0)
			p_verify(P);
		if (cfg->roundtrip_every && P->seq % cfg->roundtrip_every == 0 && P->shadow.c == NULL)
			p_roundtrip(P);
	}
	if (!P->failed)
		p_verify(P);
	if (!P->failed && P->shadow.c != NULL)
		PCHECK(P, p_digest_eq(core_state_digest(P->eng.c), core_state_digest(P->shadow.c)),
			   "restored engine's digest differs at the end");
	return P;
}

static core_limits
p_roomy_limits(void)
{
	core_limits l = {
		.max_assets = P_MAX_ASSETS,
		.max_symbols = 4,
		.max_accounts = 512,
		.max_balances = 512 * P_MAX_ASSETS,
		.max_orders = 8192,
	};

	return l;
}

/* ------------------------------------------------------------- tests */

/* The mix really exercised what the run is meant to cover. */
static void
p_check_coverage(const p_run *P)
{
	const p_stats *s = &P->st;

	CHECK(s->trades > s->commands / 20);
	CHECK(s->status[CORE_ST_NEW] > 0);
	CHECK(s->status[CORE_ST_PARTIALLY_FILLED] > 0);
	CHECK(s->status[CORE_ST_FILLED] > 0);
	CHECK(s->status[CORE_ST_CANCELED] > 0);
	CHECK(s->status[CORE_ST_EXPIRED] > 0);
	CHECK(s->reason[CORE_R_INVALID] > 0);
	CHECK(s->reason[CORE_R_UNKNOWN_ASSET] > 0);
	CHECK(s->reason[CORE_R_UNKNOWN_SYMBOL] > 0);
	CHECK(s->reason[CORE_R_UNKNOWN_ORDER] > 0);
	CHECK(s->reason[CORE_R_DUPLICATE_ASSET] > 0);
	CHECK(s->reason[CORE_R_DUPLICATE_SYMBOL] > 0);
	CHECK(s->reason[CORE_R_INSUFFICIENT_FUNDS] > 0);
	CHECK(s->reason[CORE_R_OVERFLOW] > 0);
	CHECK(s->reason[CORE_R_HALTED] > 0);
	CHECK(s->reason[CORE_R_POST_ONLY] > 0);
	CHECK(s->reason[CORE_R_FOK] > 0);
	CHECK(s->reason[CORE_R_IOC] > 0);
	CHECK(s->reason[CORE_R_NO_LIQUIDITY] > 0);
	CHECK(s->reason[CORE_R_FUNDS_EXHAUSTED] > 0);
	CHECK(s->reason[CORE_R_QUOTE_QTY] > 0);
	CHECK(s->reason[CORE_R_SELF_TRADE] > 0);
	CHECK(s->reason[CORE_R_DUST] > 0);
	CHECK(s->reason[CORE_R_OPEN_ORDERS_LIMIT] > 0);
	CHECK(s->dust_cancels > 0);
	CHECK(s->at_limit_fills > 0);
	CHECK(s->quote_qty_filled > 0);
	CHECK(s->self_trade_cancels > 0);
	CHECK(s->inplace_amends > 0);
	CHECK(s->replace_amends > 0);
	CHECK(s->wide_notional > 0);
}

TEST(prop_100k_verify_every_command)
{
	p_cfg		cfg = {
		.seed = 1, .commands = 100000, .verify_every = 1,
		.roundtrip_every = 10000, .shadow_len = 500,
		.users = 300, .target_open = 1500, .max_open_orders = 0, .lim = p_roomy_limits(),
	};
	p_run	   *P = p_run_cfg(&cfg);

	p_print_stats(P);
	if (!P->failed)
	{
		CHECK_EQ(P->st.roundtrips, 10);
		CHECK_EQ(P->st.batch_roundtrips, 2);
		p_check_coverage(P);
	}
	p_free(P);
}

TEST(prop_1m_verify_every_1000)
{
	p_cfg		cfg = {
		.seed = 2, .commands = 1000000, .verify_every = 1000,
		.roundtrip_every = 50000, .shadow_len = 2000,
		.users = 300, .target_open = 3000, .max_open_orders = 12, .lim = p_roomy_limits(),
	};
	p_run	   *P = p_run_cfg(&cfg);

	p_print_stats(P);
	if (!P->failed)
	{
		CHECK_EQ(P->st.roundtrips, 20);
		CHECK_EQ(P->st.batch_roundtrips, 5);
		p_check_coverage(P);
	}
	p_free(P);
}

/*
 * Pools smaller than the market: accounts, balance rows, resting orders and
 * assets all run out, and every refusal must leave the state whole.
 */
TEST(prop_small_pools_refuse_with_capacity)
{
	p_cfg		cfg = {
		.seed = 3, .commands = 50000, .verify_every = 1,
		.roundtrip_every = 5000, .shadow_len = 300,
		.users = 300, .target_open = 1000, .max_open_orders = 0,
		.lim = {.max_assets = 6, .max_symbols = P_SYMBOLS, .max_accounts = 150,
			.max_balances = 560, .max_orders = 60},
	};
	p_run	   *P = p_run_cfg(&cfg);

	p_print_stats(P);
	if (!P->failed)
	{
		CHECK(P->st.capacity_deposit > 0);
		CHECK(P->st.capacity_place > 0);
		CHECK(P->st.capacity_asset > 0);
		CHECK(P->st.max_open == cfg.lim.max_orders);
		CHECK(P->st.trades > 0);
		CHECK(P->st.full_pool_fills > 0);
	}
	p_free(P);
}

static p_cfg
p_det_cfg(uint64_t seed)
{
	p_cfg		cfg = {
		.seed = seed, .commands = 30000, .verify_every = 5000,
		.roundtrip_every = 10000, .shadow_len = 200,
		.users = 300, .target_open = 1500, .lim = p_roomy_limits(),
	};

	return cfg;
}

TEST(prop_same_seed_same_digest_and_events)
{
	p_cfg		cfg = p_det_cfg(42);
	p_run	   *a = p_run_cfg(&cfg);
	p_run	   *b = p_run_cfg(&cfg);

	CHECK(!a->failed && !b->failed);
	CHECK(p_digest_eq(core_state_digest(a->eng.c), core_state_digest(b->eng.c)));
	CHECK(a->evhash == b->evhash);
	CHECK(a->st.trades == b->st.trades && a->st.trades > 0);
	p_free(a);
	p_free(b);
}

TEST(prop_different_seed_different_digest)
{
	p_cfg		ca = p_det_cfg(42),
				cb = p_det_cfg(43);
	p_run	   *a = p_run_cfg(&ca);
	p_run	   *b = p_run_cfg(&cb);

	CHECK(!a->failed && !b->failed);
	CHECK(!p_digest_eq(core_state_digest(a->eng.c), core_state_digest(b->eng.c)));
	CHECK(a->evhash != b->evhash);
	p_free(a);
	p_free(b);
}
