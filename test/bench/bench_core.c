/*
 * bench_core.c — throughput, latency and instruction counts of the matching
 * core.  `make bench-core` runs it through bench_core.sh, which also builds
 * it against a previous core and compares the two.
 *
 * Three workloads (four runs: the third at two account counts), each made
 * by a seeded generator (splitmix64) that drives a scratch engine while it
 * writes the command list, so every cancel and amend names an order that is
 * really resting at that point:
 *
 *   a) exchange-core-like: one symbol, ~1k resting orders, 2k users;
 *      82% amend (price move; one in fifty crosses), 9% gtc place (one in
 *      ten crosses), 3% ioc, 6% cancel.
 *   b) deep book: 100k resting limit orders around a drifting mid; ~30%
 *      of commands are limit orders through the spread, the rest are new
 *      passive orders and cancels of random resting orders, keeping the
 *      book at 100k.
 *   c) swinging market: a fair price that swings ±25 % around the mid
 *      (a triangle wave, 0.01 tick per command, C_PERIOD commands per whole
 *      swing), ~2.9k resting orders over ~800 price levels (both sides),
 *      35% cancels of random resting orders, 9% amends of one tick or one
 *      lot (half each), 15% ioc, 41% gtc orders 1..350 ticks from the fair
 *      price (those at the leading edge of the swing trade with the side
 *      left behind).  Cancels cannot be half of all commands as in the
 *      market this imitates: an order is canceled at most once, so cancels
 *      plus fills never exceed the gtc places, which share the rest with
 *      the amends and iocs.  Run at 1,000 accounts (c1k) and at 100,000
 *      (c100k) from the same random stream: the same commands but for the
 *      user ids, so the two differ only in where the accounts live.
 *
 * Only the stable part of core.h is used (core_limits' five capacities,
 * core_create, core_apply, the PLACE/CANCEL/AMEND/DEPOSIT/CREATE_* records
 * built field by field over a zeroed record, the order event's id, user,
 * side, status, price and remaining qty, core_book_levels' price, the
 * digest), so this file builds against earlier cores too; bench_core.sh
 * builds it against a previous revision for its comparison.
 *
 * The timed part replays the list against a copy of the engine as it was
 * before the list (the arena is position independent, so a memcpy copies
 * it).  Every run must end with the digest the generator saw, so the
 * replay really did the same work.  Throughput: one warm-up run, then
 * -r runs timed one by one, in CPU time of the thread (the figure that
 * holds on a shared machine) and in wall time; the median is reported.
 * Latency: one more run
 * with a CLOCK_MONOTONIC read between consecutive commands (one read per
 * command; the cost of a read is measured and subtracted).  The event
 * callback only counts.  The clock lives here, never in the core.
 *
 * --ir: no timing; one untimed replay in two halves, each a call of
 * replay(), for `valgrind --tool=callgrind --toggle-collect=replay
 * --dump-after=replay`: each half's instruction count, divided by its
 * commands, is the instructions per command (two halves that agree show the
 * figure is stable at that length).  Generation and setup are outside
 * replay() and never counted.
 *
 * --restore: the snapshot load instead of the workloads (see "restore"
 * below); -n is then the number of resting orders.  With --checks, then
 * recovery's checks of every account on the state loaded, two ways (see
 * bench_checks); printed only, not written to --tsv.
 *
 * Usage: bench_core [-n commands] [-r runs] [--ir] [--tsv file] [workloads]
 *        bench_core --restore [--checks] [-n orders] [-r runs] [--tsv file]
 *   workloads: comma-separated ids among a, b, c1k, c100k (default all).
 *   --tsv appends one tab-separated line per workload for bench_core.sh:
 *   id, commands, command-list hash, end digest, events per replay, CPU
 *   seconds and wall seconds of each timed run (comma-separated lists), p50,
 *   p99, p99.9, max (ns), mean levels, orders at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"

#define BENCH_RUNS		5
#define BENCH_ALIGN		64
#define BENCH_SAMPLE	1024	/* commands between two samples of the book's size */

/* The market: BTC (8 decimals) against USD (2 decimals); lot 0.00001 BTC. */
#define BASE_ASSET		1
#define QUOTE_ASSET		2
#define SYM				1
#define TICK			1		/* a, b: 0.01 USD */
#define LOT				1000
#define MID0			INT64_C(5000000)	/* 50000.00 */
#define FUNDS			(INT64_C(1) << 50)	/* a, b: per user and asset: never short */
#define FUNDS_C			(INT64_C(1) << 40)	/* c: as much, and 100k users' sum fits int64 */

/* ------------------------------------------------------------------ PRNG */

static uint64_t rng_state;

static uint64_t
rng_next(void)
{
	uint64_t	z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static int64_t
rng_below(int64_t n)
{
	return (int64_t) (((unsigned __int128) rng_next() * (uint64_t) n) >> 64);
}

static int64_t
rng_range(int64_t lo, int64_t hi)
{
	return lo + rng_below(hi - lo + 1);
}

/* ----------------------------------------------------------- engine */

typedef struct engine
{
	void	   *mem;
	size_t		size;
	core_engine *c;
} engine;

static void
die(const char *what)
{
	fprintf(stderr, "bench_core: %s\n", what);
	exit(1);
}

static void
engine_new(engine *e, const core_limits *lim)
{
	e->size = (core_arena_size(lim) + BENCH_ALIGN - 1) & ~(size_t) (BENCH_ALIGN - 1);
	e->mem = aligned_alloc(BENCH_ALIGN, e->size);
	if (e->mem == NULL)
		die("out of memory");
	e->c = core_create(e->mem, e->size, lim);
	if (e->c == NULL)
		die("core_create failed");
}

/* A byte copy of src: the arena holds offsets, never pointers. */
static void
engine_copy(engine *dst, const engine *src)
{
	memcpy(dst->mem, src->mem, src->size);
	dst->c = (core_engine *) dst->mem;
}

/* ------------------------------------------------- generator's view */

/* Open orders as the events describe them: dense, with an id index. */
typedef struct open_order
{
	int64_t		id;
	int64_t		user;
	int64_t		price;
	int64_t		remaining;
	uint8_t		side;
} open_order;

typedef struct book_view
{
	open_order *o;
	int64_t		n;
	int32_t    *pos;			/* order id -> index + 1 */
	int64_t		npos;
} book_view;

static void
view_event(void *ctx, const core_event *ev)
{
	book_view  *v = ctx;
	const core_order_event *e = &ev->u.order;
	int32_t		i;

	if (ev->type != CORE_EV_ORDER)
		return;
	if (e->order_id >= v->npos)
		die("order id beyond the generator's index");
	i = v->pos[e->order_id];
	if (e->status == CORE_ST_NEW || e->status == CORE_ST_PARTIALLY_FILLED ||
		e->status == CORE_ST_AMENDED)
	{
		if (i == 0)
		{
			v->o[v->n].id = e->order_id;
			v->o[v->n].user = e->user_id;
			v->o[v->n].side = e->side;
			i = (int32_t) ++v->n;
			v->pos[e->order_id] = i;
		}
		v->o[i - 1].price = e->price;
		v->o[i - 1].remaining = e->remaining_qty;
	}
	else if (i != 0)
	{
		v->o[i - 1] = v->o[--v->n];
		if (i - 1 < v->n)
			v->pos[v->o[i - 1].id] = i;
		v->pos[e->order_id] = 0;
	}
}

static bool
level_cb(void *ctx, const core_level_info *l)
{
	*(int64_t *) ctx = l->price;
	return false;
}

static int64_t
best(const core_engine *c, core_side side)
{
	int64_t		p = 0;

	core_book_levels(c, SYM, side, 1, level_cb, &p);
	return p;
}

static bool
count_cb(void *ctx, const core_level_info *l)
{
	(void) l;
	++*(int64_t *) ctx;
	return true;
}

/* Price levels on both sides of the book. */
static int64_t
levels(const core_engine *c)
{
	int64_t		n = 0;

	core_book_levels(c, SYM, CORE_BUY, 0, count_cb, &n);
	core_book_levels(c, SYM, CORE_SELL, 0, count_cb, &n);
	return n;
}

/* ----------------------------------------------------------- commands */

enum
{
	K_GTC, K_CROSS, K_IOC, K_AMEND, K_AMEND_QTY, K_CANCEL, K_COUNT
};

static const char *const kind_name[K_COUNT] = {
	"place, passive", "place, crossing", "ioc", "amend (price)", "amend (qty)", "cancel"
};

/* What a generator sees when it picks the next command. */
typedef struct gen
{
	const core_engine *c;			/* the scratch engine, before the command */
	book_view  *v;
	int64_t		mid;			/* a, b: the mid the generator steers by */
	int64_t		i;				/* index of the command in the list */
	int64_t		users;			/* user ids 1..users */
} gen;

typedef core_record (*pick_fn) (gen *g, int *kind);

typedef struct workload
{
	const char *id;				/* a, b, c1k, c100k */
	const char *name;
	uint64_t	seed;
	int64_t		users;
	int64_t		funds;			/* each user's deposit of each asset */
	int64_t		tick;
	int64_t		prefill;		/* commands applied before the list */
	pick_fn		prefill_pick;
	pick_fn		pick;
	core_limits lim;

	/* made by generate() */
	engine		start;			/* the engine before the command list */
	core_record *cmd;
	int64_t		ncmd;
	uint64_t	cmd_hash;		/* over the fields set, not the struct's bytes */
	core_digest end_digest;
	uint8_t    *kind;			/* per command: K_* */
	int64_t		kinds[K_COUNT];
	int64_t		end_orders;
	int64_t		level_sum,		/* book levels sampled during the list */
				level_samples,
				level_min,
				level_max;
} workload;

static core_record
place(int64_t user, core_side side, int64_t qty, int64_t price, core_tif tif)
{
	core_record r;

	memset(&r, 0, sizeof(r));
	r.type = CORE_REC_PLACE;
	r.u.place.user_id = user;
	r.u.place.symbol = SYM;
	r.u.place.side = side;
	r.u.place.tif = tif;
	r.u.place.qty = qty;
	r.u.place.price = price;
	return r;
}

static core_record
amend(const open_order *o, int64_t qty, int64_t price)
{
	core_record r;

	memset(&r, 0, sizeof(r));
	r.type = CORE_REC_AMEND;
	r.u.amend.user_id = o->user;
	r.u.amend.order_id = o->id;
	r.u.amend.qty = qty;
	r.u.amend.price = price;
	return r;
}

static core_record
cancel(const open_order *o)
{
	core_record r;

	memset(&r, 0, sizeof(r));
	r.type = CORE_REC_CANCEL;
	r.u.cancel.user_id = o->user;
	r.u.cancel.order_id = o->id;
	return r;
}

static uint64_t
mix(uint64_t h, int64_t x)
{
	h ^= (uint64_t) x;
	h *= UINT64_C(0x100000001b3);
	return h ^ (h >> 29);
}

/* Hash of what a command says, so two builds can show they ran the same list. */
static uint64_t
hash_command(uint64_t h, const core_record *r)
{
	h = mix(h, r->type);
	switch (r->type)
	{
		case CORE_REC_PLACE:
			h = mix(h, r->u.place.user_id);
			h = mix(h, r->u.place.side);
			h = mix(h, r->u.place.tif);
			h = mix(h, r->u.place.qty);
			return mix(h, r->u.place.price);
		case CORE_REC_AMEND:
			h = mix(h, r->u.amend.user_id);
			h = mix(h, r->u.amend.order_id);
			h = mix(h, r->u.amend.qty);
			return mix(h, r->u.amend.price);
		case CORE_REC_CANCEL:
			h = mix(h, r->u.cancel.user_id);
			return mix(h, r->u.cancel.order_id);
		default:
			return h;
	}
}

static void
apply_or_die(core_engine *c, core_record *r, core_event_fn fn, void *ctx)
{
	core_result res;

	core_apply(c, r, fn, ctx, &res);
	if (res.status == CORE_ST_REJECTED)
	{
		fprintf(stderr, "bench_core: command refused: %s (type %d, seq %lld)\n",
				core_reason_name(res.reason), r->type, (long long) core_seq(c));
		exit(1);
	}
}

/* Assets, the symbol, and funds for every user. */
static void
setup_market(core_engine *c, const workload *w)
{
	core_record r;

	memset(&r, 0, sizeof(r));
	r.type = CORE_REC_CREATE_ASSET;
	strcpy(r.u.create_asset.code, "BTC");
	r.u.create_asset.decimals = 8;
	apply_or_die(c, &r, NULL, NULL);
	strcpy(r.u.create_asset.code, "USD");
	r.u.create_asset.decimals = 2;
	apply_or_die(c, &r, NULL, NULL);

	memset(&r, 0, sizeof(r));
	r.type = CORE_REC_CREATE_SYMBOL;
	strcpy(r.u.create_symbol.name, "BTC_USD");
	r.u.create_symbol.base_asset = BASE_ASSET;
	r.u.create_symbol.quote_asset = QUOTE_ASSET;
	r.u.create_symbol.tick_size = w->tick;
	r.u.create_symbol.lot_size = LOT;
	r.u.create_symbol.maker_fee_ppm = 100;
	r.u.create_symbol.taker_fee_ppm = 500;
	apply_or_die(c, &r, NULL, NULL);

	for (int64_t u = 1; u <= w->users; u++)
		for (uint32_t a = BASE_ASSET; a <= QUOTE_ASSET; a++)
		{
			memset(&r, 0, sizeof(r));
			r.type = CORE_REC_DEPOSIT;
			r.u.funds.user_id = u;
			r.u.funds.asset = a;
			r.u.funds.amount = w->funds;
			apply_or_die(c, &r, NULL, NULL);
		}
}

static int64_t
user(const gen *g)
{
	return rng_range(1, g->users);
}

static int64_t
qty_lots(int64_t max)
{
	return LOT * rng_range(1, max);
}

/* Passive price: dist ticks away from mid on the own side. */
static int64_t
passive(core_side side, int64_t mid, int64_t dist, int64_t tick)
{
	int64_t		p = side == CORE_BUY ? mid - dist * tick : mid + dist * tick;

	return p > tick ? p : tick;
}

/* A price that crosses: at or a little beyond the best opposite price. */
static int64_t
crossing(const core_engine *c, core_side side, int64_t mid, int64_t tick)
{
	int64_t		opp = best(c, !side);

	if (opp == 0)
		opp = mid;
	return side == CORE_BUY ? opp + rng_range(0, 2) * tick : (opp - rng_range(0, 2) * tick > tick ?
																opp - rng_range(0, 2) * tick : tick);
}

static int64_t
mid_of(const core_engine *c, int64_t fallback)
{
	int64_t		b = best(c, CORE_BUY),
				a = best(c, CORE_SELL);

	if (b && a)
		return (a + b) / 2;
	return b ? b + TICK : a ? a - TICK : fallback;
}

/*
 * Set up w->start (the market, then w->prefill commands), then drive a
 * scratch copy of it through ncmd commands chosen by w->pick, recording each.
 */
static void
generate(workload *w, int64_t ncmd)
{
	engine		scratch;
	book_view	v;
	gen			g;

	rng_state = w->seed;
	memset(&v, 0, sizeof(v));
	v.npos = w->prefill + ncmd + 16;
	v.pos = calloc((size_t) v.npos, sizeof(int32_t));
	v.o = malloc(sizeof(open_order) * (size_t) (w->lim.max_orders + 1));
	w->cmd = malloc(sizeof(core_record) * (size_t) ncmd);
	w->kind = malloc((size_t) ncmd);
	if (!v.pos || !v.o || !w->cmd || !w->kind)
		die("out of memory");

	engine_new(&w->start, &w->lim);
	setup_market(w->start.c, w);
	memset(&g, 0, sizeof(g));
	g.c = w->start.c;
	g.v = &v;
	g.mid = MID0;
	g.users = w->users;
	for (int64_t i = 0; i < w->prefill; i++)
	{
		int			kind;
		core_record r;

		g.i = i - w->prefill;
		r = w->prefill_pick(&g, &kind);
		apply_or_die(w->start.c, &r, view_event, &v);
	}

	engine_new(&scratch, &w->lim);
	engine_copy(&scratch, &w->start);
	g.c = scratch.c;
	w->cmd_hash = UINT64_C(0xcbf29ce484222325);
	w->level_min = INT64_MAX;
	for (int64_t i = 0; i < ncmd; i++)
	{
		int			kind;

		if (i % BENCH_SAMPLE == 0)
		{
			int64_t		l = levels(scratch.c);

			w->level_sum += l;
			w->level_samples++;
			w->level_min = l < w->level_min ? l : w->level_min;
			w->level_max = l > w->level_max ? l : w->level_max;
		}
		g.i = i;
		w->cmd[i] = w->pick(&g, &kind);
		w->kind[i] = (uint8_t) kind;
		w->kinds[kind]++;
		w->cmd_hash = hash_command(w->cmd_hash, &w->cmd[i]);
		apply_or_die(scratch.c, &w->cmd[i], view_event, &v);
	}
	w->ncmd = ncmd;
	w->end_digest = core_state_digest(scratch.c);
	w->end_orders = core_get_counters(scratch.c).orders;
	free(scratch.mem);
	free(v.pos);
	free(v.o);
}

static void
workload_free(workload *w)
{
	free(w->start.mem);
	free(w->cmd);
	free(w->kind);
}

/* ------------------------------------------------ workload a: exchange-core */

#define A_TARGET 1000

static core_record
a_prefill(gen *g, int *kind)
{
	core_side	side = (core_side) rng_below(2);

	*kind = K_GTC;
	return place(user(g), side, qty_lots(100), passive(side, g->mid, rng_range(1, 50), TICK), CORE_GTC);
}

static core_record
a_pick(gen *g, int *kind)
{
	const core_engine *c = g->c;
	book_view  *v = g->v;
	int64_t		r = rng_below(100);
	core_side	side = (core_side) rng_below(2);

	g->mid = mid_of(c, g->mid);
	/* Keep the book near its size: trade places for cancels and back. */
	if (r >= 94 && v->n < A_TARGET * 95 / 100)
		r = 85;
	if (r >= 82 && r < 91 && v->n > A_TARGET * 105 / 100)
		r = 95;

	if (r < 82)
	{
		const open_order *o = &v->o[rng_below(v->n)];
		int64_t		price;

		*kind = K_AMEND;
		if (rng_below(50) == 0)
			price = crossing(c, o->side, g->mid, TICK);
		else
			price = passive(o->side, g->mid, rng_range(1, 30), TICK);
		if (price == o->price)
			price += o->side == CORE_BUY ? -TICK : TICK;
		return amend(o, 0, price);
	}
	if (r < 91)
	{
		bool		cross = rng_below(10) == 0;

		*kind = cross ? K_CROSS : K_GTC;
		return place(user(g), side, qty_lots(cross ? 20 : 100), cross ? crossing(c, side, g->mid, TICK)
					 : passive(side, g->mid, rng_range(1, 30), TICK), CORE_GTC);
	}
	if (r < 94)
	{
		*kind = K_IOC;
		return place(user(g), side, qty_lots(20), crossing(c, side, g->mid, TICK), CORE_IOC);
	}
	*kind = K_CANCEL;
	return cancel(&v->o[rng_below(v->n)]);
}

/* ------------------------------------------------ workload b: deep book */

#define B_TARGET 100000
#define B_SPREAD 1000			/* passive orders rest up to this many ticks out */

/* Skewed towards the mid: uniform in [1, uniform in [1, n]]. */
static int64_t
skewed(int64_t n)
{
	return rng_range(1, rng_range(1, n));
}

static core_record
b_prefill(gen *g, int *kind)
{
	core_side	side = (core_side) rng_below(2);

	*kind = K_GTC;
	return place(user(g), side, qty_lots(100), passive(side, g->mid, skewed(B_SPREAD), TICK), CORE_GTC);
}

static core_record
b_pick(gen *g, int *kind)
{
	book_view  *v = g->v;
	core_side	side = (core_side) rng_below(2);

	/* The mid drifts by a tick now and then. */
	if (rng_below(64) == 0)
		g->mid += (rng_below(2) ? TICK : -TICK);
	*kind = K_CROSS;
	if (rng_below(100) < 30)
		return place(user(g), side, qty_lots(250), crossing(g->c, side, g->mid, TICK), CORE_GTC);
	*kind = K_GTC;
	if (v->n > B_TARGET)
	{
		*kind = K_CANCEL;
		return cancel(&v->o[rng_below(v->n)]);
	}
	return place(user(g), side, qty_lots(100), passive(side, g->mid, skewed(B_SPREAD), TICK), CORE_GTC);
}

/* ------------------------------------------------ workload c: swinging market */

#define C_TICK		500			/* 5.00 USD: the mid is 10,000 ticks */
#define C_AMPLITUDE	(MID0 / 4)	/* the fair price swings ±25 % around MID0 */
#define C_PERIOD	1000000		/* commands per whole swing: 0.01 tick per command */
#define C_TARGET	3000		/* resting orders the generator keeps, -5 %..+5 % */
#define C_WIDTH		350			/* gtc orders rest 1..C_WIDTH ticks from fair, uniform */
#define C_CANCEL	38			/* percent of commands, before keeping the size */
#define C_AMEND		9
#define C_IOC		15			/* the rest are gtc places */

/*
 * The fair price at command i (prefill: i < 0): a triangle wave starting at
 * MID0, up to MID0 + C_AMPLITUDE, down to MID0 - C_AMPLITUDE and back, on
 * the tick grid.
 */
static int64_t
c_fair(int64_t i)
{
	int64_t		q = C_PERIOD / 4;
	int64_t		x = i < 0 ? 0 : i % C_PERIOD;
	int64_t		off;

	if (x < q)
		off = C_AMPLITUDE * x / q;
	else if (x < 3 * q)
		off = C_AMPLITUDE - C_AMPLITUDE * (x - q) / q;
	else
		off = -C_AMPLITUDE + C_AMPLITUDE * (x - 3 * q) / q;
	return (MID0 + off) / C_TICK * C_TICK;
}

/* A gtc order near the fair price; it crosses when the book lags the swing. */
static core_record
c_gtc(gen *g, int *kind)
{
	core_side	side = (core_side) rng_below(2);
	core_record r = place(user(g), side, qty_lots(100),
						  passive(side, c_fair(g->i), rng_range(1, C_WIDTH), C_TICK), CORE_GTC);
	int64_t		opp = best(g->c, !side);

	*kind = opp != 0 && (side == CORE_BUY ? r.u.place.price >= opp : r.u.place.price <= opp) ?
		K_CROSS : K_GTC;
	return r;
}

static core_record
c_pick(gen *g, int *kind)
{
	book_view  *v = g->v;
	int64_t		r = rng_below(100);

	/* Keep the book near its size: trade cancels for places and back. */
	if (r < C_CANCEL && v->n < C_TARGET * 95 / 100)
		r = 99;
	if (r >= C_CANCEL + C_AMEND + C_IOC && v->n > C_TARGET * 105 / 100)
		r = 0;

	if (r < C_CANCEL)
	{
		*kind = K_CANCEL;
		return cancel(&v->o[rng_below(v->n)]);
	}
	if (r < C_CANCEL + C_AMEND)
	{
		const open_order *o = &v->o[rng_below(v->n)];
		int64_t		step = rng_below(2) ? 1 : -1;

		if (rng_below(2))
		{
			*kind = K_AMEND;
			if (o->price + step * C_TICK <= 0)
				step = 1;
			return amend(o, 0, o->price + step * C_TICK);
		}
		*kind = K_AMEND_QTY;
		if (o->remaining <= LOT)
			step = 1;
		return amend(o, o->remaining + step * LOT, 0);
	}
	if (r < C_CANCEL + C_AMEND + C_IOC)
	{
		core_side	side = (core_side) rng_below(2);

		*kind = K_IOC;
		return place(user(g), side, qty_lots(20), crossing(g->c, side, c_fair(g->i), C_TICK), CORE_IOC);
	}
	return c_gtc(g, kind);
}

/* ------------------------------------------------------------- timing */

static uint64_t bench_events;

static void
count_event(void *ctx, const core_event *ev)
{
	(void) ctx;
	(void) ev;
	bench_events++;
}

static inline uint64_t
clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static inline uint64_t
now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *) a,
				y = *(const uint64_t *) b;

	return x < y ? -1 : x > y;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : x > y;
}

/* Median cost of one clock read. */
static uint64_t
clock_cost(void)
{
	uint64_t	s[101];

	for (int i = 0; i < 101; i++)
	{
		uint64_t	t0 = now_ns();

		for (int k = 0; k < 100; k++)
			(void) now_ns();
		s[i] = (now_ns() - t0) / 101;
	}
	qsort(s, 101, sizeof(uint64_t), cmp_u64);
	return s[50];
}

static void
check_end(const workload *w, const engine *e)
{
	core_digest d = core_state_digest(e->c);

	if (d.hi != w->end_digest.hi || d.lo != w->end_digest.lo)
		die("a timed run ended in a different state than the generator's");
}

/*
 * The timed loop alone, commands [from, to): a function of its own for
 * profilers (callgrind counts exactly what runs inside it).
 */
static __attribute__((noinline, noclone)) void
replay(const workload *w, engine *e, int64_t from, int64_t to)
{
	const core_record *cmd = w->cmd;
	core_result res;

	for (int64_t i = from; i < to; i++)
		core_apply(e->c, &cmd[i], count_event, NULL, &res);
}

/*
 * One replay, timed as a whole: seconds of the thread's CPU time and of
 * wall time.  CPU time leaves out the time the thread waited for a core,
 * which on a shared machine is most of the noise in wall time.
 */
static void
run_throughput(const workload *w, engine *e, double *cpu, double *wall)
{
	uint64_t	c0,
				c1,
				t0,
				t1;

	engine_copy(e, &w->start);
	t0 = now_ns();
	c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	replay(w, e, 0, w->ncmd);
	c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	t1 = now_ns();
	check_end(w, e);
	*cpu = (double) (c1 - c0) / 1e9;
	*wall = (double) (t1 - t0) / 1e9;
}

typedef struct lat_summary
{
	uint64_t	p50,
				p99,
				p999,
				max;
} lat_summary;

static lat_summary
summarize(uint64_t *lat, int64_t n)
{
	lat_summary s = {0, 0, 0, 0};

	if (n == 0)
		return s;
	qsort(lat, (size_t) n, sizeof(uint64_t), cmp_u64);
	s.p50 = lat[n / 2];
	s.p99 = lat[(n * 99) / 100];
	s.p999 = lat[(n * 999) / 1000];
	s.max = lat[n - 1];
	return s;
}

/* One replay with a clock read between commands; fills per-command ns. */
static void
run_latency(const workload *w, engine *e, uint64_t *lat, uint64_t cost)
{
	core_record *cmd = w->cmd;
	core_result res;
	uint64_t	t0,
				t1;

	engine_copy(e, &w->start);
	t0 = now_ns();
	for (int64_t i = 0; i < w->ncmd; i++)
	{
		core_apply(e->c, &cmd[i], count_event, NULL, &res);
		t1 = now_ns();
		lat[i] = t1 - t0 > cost ? t1 - t0 - cost : 0;
		t0 = t1;
	}
	check_end(w, e);
}

static void
print_digest(FILE *out, core_digest d)
{
	fprintf(out, "%016llx%016llx", (unsigned long long) d.hi, (unsigned long long) d.lo);
}

static void
write_list(FILE *out, const double *v, int n)
{
	for (int i = 0; i < n; i++)
		fprintf(out, "%s%.9f", i ? "," : "", v[i]);
	if (n == 0)
		fputc('-', out);
}

static void
write_tsv(FILE *tsv, const workload *w, uint64_t events, const double *cpu, const double *wall,
		  int runs, const lat_summary *all)
{
	if (tsv == NULL)
		return;
	fprintf(tsv, "%s\t%lld\t%016llx\t", w->id, (long long) w->ncmd,
			(unsigned long long) w->cmd_hash);
	print_digest(tsv, w->end_digest);
	fprintf(tsv, "\t%llu\t", (unsigned long long) events);
	write_list(tsv, cpu, runs);
	fputc('\t', tsv);
	write_list(tsv, wall, runs);
	fprintf(tsv, "\t%llu\t%llu\t%llu\t%llu\t%.1f\t%lld\n",
			(unsigned long long) all->p50, (unsigned long long) all->p99,
			(unsigned long long) all->p999, (unsigned long long) all->max,
			(double) w->level_sum / (double) (w->level_samples ? w->level_samples : 1),
			(long long) w->end_orders);
	fflush(tsv);
}

static void
print_book(const workload *w)
{
	printf("    (book: %lld orders at the end; %.0f price levels on average over both sides, %lld..%lld)\n",
		   (long long) w->end_orders,
		   (double) w->level_sum / (double) (w->level_samples ? w->level_samples : 1),
		   (long long) w->level_min, (long long) w->level_max);
}

static void
bench(workload *w, uint64_t cost, int runs, FILE *tsv)
{
	engine		e;
	double	   *cpu = malloc(sizeof(double) * (size_t) runs);
	double	   *wall = malloc(sizeof(double) * (size_t) runs);
	double	   *sorted = malloc(sizeof(double) * (size_t) runs);
	double		med,
				wall_med,
				ignored;
	uint64_t   *lat = malloc(sizeof(uint64_t) * (size_t) w->ncmd);
	uint64_t   *sub = malloc(sizeof(uint64_t) * (size_t) w->ncmd);
	uint64_t	events0 = bench_events;
	lat_summary all;
	int64_t		nk[K_COUNT];
	lat_summary ks[K_COUNT];

	if (!lat || !sub || !cpu || !wall || !sorted)
		die("out of memory");
	/*
	 * Touch every page now: a first-touch fault inside the timed loop is not
	 * the core's.  Not with zeros: the compiler turns malloc + zeroing into
	 * calloc, which touches nothing.
	 */
	memset(lat, 0xff, sizeof(uint64_t) * (size_t) w->ncmd);
	memset(sub, 0xff, sizeof(uint64_t) * (size_t) w->ncmd);
	engine_new(&e, &w->lim);
	run_throughput(w, &e, &ignored, &ignored);	/* warm-up */
	events0 = bench_events - events0;
	for (int i = 0; i < runs; i++)
		run_throughput(w, &e, &cpu[i], &wall[i]);
	memcpy(sorted, wall, sizeof(double) * (size_t) runs);
	qsort(sorted, (size_t) runs, sizeof(double), cmp_double);
	wall_med = sorted[runs / 2];
	memcpy(sorted, cpu, sizeof(double) * (size_t) runs);
	qsort(sorted, (size_t) runs, sizeof(double), cmp_double);
	med = sorted[runs / 2];

	run_latency(w, &e, lat, cost);
	for (int k = 0; k < K_COUNT; k++)
	{
		int64_t		n = 0;

		for (int64_t i = 0; i < w->ncmd; i++)
			if (w->kind[i] == k)
				sub[n++] = lat[i];
		nk[k] = n;
		ks[k] = summarize(sub, n);
	}
	all = summarize(lat, w->ncmd);

	printf("%-34s %9lld %8.2f M %8.2f M %8.2f M %8.2f M %7llu %7llu %7llu %8llu\n",
		   w->name, (long long) w->ncmd, w->ncmd / med / 1e6,
		   w->ncmd / sorted[runs - 1] / 1e6, w->ncmd / sorted[0] / 1e6, w->ncmd / wall_med / 1e6,
		   (unsigned long long) all.p50, (unsigned long long) all.p99,
		   (unsigned long long) all.p999, (unsigned long long) all.max);
	for (int k = 0; k < K_COUNT; k++)
		if (nk[k])
			printf("    %-30s %9lld %5.1f%% %45s %7llu %7llu %7llu %8llu\n", kind_name[k],
				   (long long) nk[k], 100.0 * nk[k] / w->ncmd, "",
				   (unsigned long long) ks[k].p50, (unsigned long long) ks[k].p99,
				   (unsigned long long) ks[k].p999, (unsigned long long) ks[k].max);
	print_book(w);
	fflush(stdout);
	write_tsv(tsv, w, events0, cpu, wall, runs, &all);
	free(lat);
	free(sub);
	free(cpu);
	free(wall);
	free(sorted);
	free(e.mem);
}

/* --ir: one untimed replay in two halves (see the header). */
static void
bench_ir(workload *w, FILE *tsv)
{
	engine		e;
	lat_summary none = {0, 0, 0, 0};
	uint64_t	events0 = bench_events;

	engine_new(&e, &w->lim);
	engine_copy(&e, &w->start);
	replay(w, &e, 0, w->ncmd / 2);
	replay(w, &e, w->ncmd / 2, w->ncmd);
	check_end(w, &e);
	printf("%-34s %9lld commands replayed once, in two halves\n", w->name, (long long) w->ncmd);
	print_book(w);
	write_tsv(tsv, w, bench_events - events0, NULL, NULL, 0, &none);
	free(e.mem);
}

/* ------------------------------------------------------------ restore */

/*
 * --restore: how fast a snapshot of format 2 loads in the core.  The state
 * is make bench-recovery's (test/bench/gen_log.c's "build"): assets BTC,
 * ETH (8 decimals) and USDT (6), symbols BTC_USDT and ETH_USDT (tick 0.01,
 * lot 0.0001, fees 0.1 % / 0.2 %), RESTORE_ACCOUNTS users each funded with
 * 100000 USDT, 10 BTC and 10 ETH, and RESTORE_ORDERS resting orders of
 * 0.001, order i of user 1 + i % accounts with client_order_id "b<i>", on
 * BTC_USDT when i / accounts is even, buys at 100.00 + (i / 2) % 5000 ticks
 * and sells at 200.00 + (i / 2) % 5000 ticks, none crossing.  It is walked
 * into encoded items (core_item_encode) once, untimed.  A timed run goes
 * from the bytes to a checked, digested state, as the worker's loader does:
 * decode every item, restore it (orders through the checked restore), the
 * checks' finish, core_restore_finish, core_verify_global and the digest,
 * into an arena created anew (core_create, untimed) before each run, whose
 * pages and the checks' scratch memory were touched before.  A core with the batch restore
 * (CORE_HAS_RESTORE_BATCH) gets the items in batches of RESTORE_BATCH, as
 * the loader hands them over, and computes the digest as it restores; an
 * older one gets them one by one and computes core_state_digest after.
 * Every run must end with the digest of the original state.  Reported:
 * items (assets, symbols, balances, orders) per second of the thread's CPU
 * time, median of -r runs, and the same for wall time.
 */
#define RESTORE_ACCOUNTS	100000
#define RESTORE_ORDERS		1000000
#define RESTORE_BATCH		256
#define RESTORE_TICK		10000	/* 0.01 USDT */
#define RESTORE_QTY			100000	/* 0.001 BTC */

#ifdef CORE_ITEM_MAX_BYTES

typedef struct item_bytes
{
	uint8_t    *p;
	size_t		len;
	size_t		cap;
	int64_t		n;
} item_bytes;

typedef struct walk_bytes
{
	core_counters k;
	item_bytes	kind[CORE_ITEM_ORDER + 1];
} walk_bytes;

static void
put_item(walk_bytes *wb, const core_item *it)
{
	item_bytes *b = &wb->kind[it->kind];

	if (b->cap - b->len < CORE_ITEM_MAX_BYTES)
	{
		b->cap = b->cap ? 2 * b->cap : 1 << 20;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			die("out of memory");
	}
	b->len += core_item_encode(it, b->p + b->len);
	b->n++;
}

static void
wb_counters(void *ctx, const core_counters *k)
{
	((walk_bytes *) ctx)->k = *k;
}

static void
wb_asset(void *ctx, const core_asset_info *a)
{
	core_item	it = {.kind = CORE_ITEM_ASSET};

	it.u.asset = *a;
	put_item(ctx, &it);
}

static void
wb_symbol(void *ctx, const core_symbol_info *s)
{
	core_item	it = {.kind = CORE_ITEM_SYMBOL};

	it.u.symbol = *s;
	put_item(ctx, &it);
}

static void
wb_balance(void *ctx, const core_balance_info *b)
{
	core_item	it = {.kind = CORE_ITEM_BALANCE};

	it.u.balance = *b;
	put_item(ctx, &it);
}

static void
wb_order(void *ctx, const core_order_info *o)
{
	core_item	it = {.kind = CORE_ITEM_ORDER};

	it.u.order = *o;
	put_item(ctx, &it);
}

static void
restore_apply(core_engine *c, core_record *r, int64_t *seq)
{
	core_result res;

	r->ts = INT64_C(1700000000000000) + ++*seq * 10;
	core_apply(c, r, NULL, NULL, &res);
	if (res.status == CORE_ST_REJECTED)
		die("restore: a build command was rejected");
}

/* The bench-recovery state, built through core_apply. */
static void
restore_build(engine *e, const core_limits *lim, int64_t accounts, int64_t orders)
{
	static const char *const codes[3] = {"BTC", "ETH", "USDT"};
	static const int decimals[3] = {8, 8, 6};
	int64_t		seq = 0;
	core_record r;

	engine_new(e, lim);
	for (int a = 0; a < 3; a++)
	{
		memset(&r, 0, sizeof(r));
		r.type = CORE_REC_CREATE_ASSET;
		strcpy(r.u.create_asset.code, codes[a]);
		r.u.create_asset.decimals = (uint8_t) decimals[a];
		restore_apply(e->c, &r, &seq);
	}
	for (uint32_t sym = 1; sym <= 2; sym++)
	{
		memset(&r, 0, sizeof(r));
		r.type = CORE_REC_CREATE_SYMBOL;
		strcpy(r.u.create_symbol.name, sym == 1 ? "BTC_USDT" : "ETH_USDT");
		r.u.create_symbol.base_asset = sym;
		r.u.create_symbol.quote_asset = 3;
		r.u.create_symbol.tick_size = RESTORE_TICK;
		r.u.create_symbol.lot_size = 10000;
		r.u.create_symbol.maker_fee_ppm = 1000;
		r.u.create_symbol.taker_fee_ppm = 2000;
		restore_apply(e->c, &r, &seq);
	}
	for (int64_t u = 1; u <= accounts; u++)
		for (uint32_t a = 3; a >= 1; a--)
		{
			memset(&r, 0, sizeof(r));
			r.type = CORE_REC_DEPOSIT;
			r.u.funds.user_id = u;
			r.u.funds.asset = a;
			r.u.funds.amount = a == 3 ? INT64_C(100000000000) : INT64_C(1000000000);
			restore_apply(e->c, &r, &seq);
		}
	for (int64_t i = 0; i < orders; i++)
	{
		int			side = (int) (i % 2);

		memset(&r, 0, sizeof(r));
		r.type = CORE_REC_PLACE;
		r.u.place.user_id = 1 + i % accounts;
		r.u.place.symbol = (i / accounts) % 2 == 0 ? 1 : 2;
		r.u.place.side = (uint8_t) side;
		r.u.place.tif = CORE_GTC;
		r.u.place.qty = RESTORE_QTY;
		r.u.place.price = ((side == 0 ? 10000 : 20000) + (i / 2) % 5000) * RESTORE_TICK;
		snprintf(r.u.place.client_order_id, sizeof(r.u.place.client_order_id), "b%lld",
				 (long long) i);
		restore_apply(e->c, &r, &seq);
	}
}

/* Decode one item of kind from *at, or die. */
static void
restore_decode(const item_bytes *b, uint8_t kind, size_t *at, core_item *it)
{
	size_t		n = core_item_decode(kind, b->p + *at, b->len - *at, it);

	if (n == 0)
		die("restore: an item does not decode");
	*at += n;
}

static void
restore_refused(const char *err)
{
	fprintf(stderr, "bench_core: restore refused: %s\n", err);
	exit(1);
}

/* One timed load of wb into e (just created) with the checks' scratch. */
static core_digest
restore_run(const walk_bytes *wb, engine *e, void *scratch)
{
	core_restore_check rc;
	core_item	it;
	size_t		at;
	const char *err = NULL;
	core_digest d;

#ifdef CORE_HAS_RESTORE_BATCH
	static core_balance_info bal[RESTORE_BATCH];
	static core_order_info ord[RESTORE_BATCH];
	core_restore_digest dg;
	int			n;
#endif

	at = 0;
	for (int64_t i = 0; i < wb->kind[CORE_ITEM_ASSET].n && !err; i++)
	{
		restore_decode(&wb->kind[CORE_ITEM_ASSET], CORE_ITEM_ASSET, &at, &it);
		err = core_restore_asset(e->c, &it.u.asset);
	}
	at = 0;
	for (int64_t i = 0; i < wb->kind[CORE_ITEM_SYMBOL].n && !err; i++)
	{
		restore_decode(&wb->kind[CORE_ITEM_SYMBOL], CORE_ITEM_SYMBOL, &at, &it);
		err = core_restore_symbol(e->c, &it.u.symbol);
	}
#ifdef CORE_HAS_RESTORE_BATCH
	core_restore_digest_begin(e->c, &dg, &wb->k);
	at = 0;
	n = 0;
	for (int64_t i = 0; i < wb->kind[CORE_ITEM_BALANCE].n && !err; i++)
	{
		restore_decode(&wb->kind[CORE_ITEM_BALANCE], CORE_ITEM_BALANCE, &at, &it);
		bal[n++] = it.u.balance;
		if (n == RESTORE_BATCH || i + 1 == wb->kind[CORE_ITEM_BALANCE].n)
		{
			err = core_restore_balances(e->c, &dg, bal, (size_t) n, NULL);
			n = 0;
		}
	}
	if (!err)
		core_restore_check_begin(e->c, &rc, scratch);
	at = 0;
	for (int64_t i = 0; i < wb->kind[CORE_ITEM_ORDER].n && !err; i++)
	{
		restore_decode(&wb->kind[CORE_ITEM_ORDER], CORE_ITEM_ORDER, &at, &it);
		ord[n++] = it.u.order;
		if (n == RESTORE_BATCH || i + 1 == wb->kind[CORE_ITEM_ORDER].n)
		{
			err = core_restore_orders(e->c, &rc, &dg, ord, (size_t) n, NULL);
			n = 0;
		}
	}
#else
	at = 0;
	for (int64_t i = 0; i < wb->kind[CORE_ITEM_BALANCE].n && !err; i++)
	{
		restore_decode(&wb->kind[CORE_ITEM_BALANCE], CORE_ITEM_BALANCE, &at, &it);
		err = core_restore_balance(e->c, &it.u.balance);
	}
	if (!err)
		core_restore_check_begin(e->c, &rc, scratch);
	at = 0;
	for (int64_t i = 0; i < wb->kind[CORE_ITEM_ORDER].n && !err; i++)
	{
		restore_decode(&wb->kind[CORE_ITEM_ORDER], CORE_ITEM_ORDER, &at, &it);
		err = core_restore_order_checked(e->c, &rc, &it.u.order);
	}
#endif
	if (!err)
		err = core_restore_check_finish(e->c, &rc);
	if (!err)
		err = core_restore_finish(e->c, &wb->k);
	if (!err && !core_verify_global(e->c, NULL, NULL))
		err = "core_verify_global";
	if (err)
		restore_refused(err);
#ifdef CORE_HAS_RESTORE_BATCH
	d = core_restore_digest_end(e->c, &dg);
#else
	d = core_state_digest(e->c);
#endif
	return d;
}

#ifdef CORE_HAS_VERIFY_ALL_ACCOUNTS
/* A check's failure, for bench_checks (which must see none). */
static void
checks_cb(void *ctx, const char *check, bool ok, const char *detail)
{
	if (!ok)
	{
		fprintf(stderr, "bench_core: check %s failed: %s\n", check, detail ? detail : "");
		*(bool *) ctx = true;
	}
}

/*
 * --restore --checks: on the state just restored, the checks of account
 * lists, locks and frozen amounts that recovery runs after a replay, both
 * ways: core_verify_accounts (one walk per account) given every user, and
 * core_verify_all_accounts (one pass over the order slots and balance
 * rows, its scratch memory touched before).  Each is timed runs times
 * (thread CPU time and wall time); printed: the medians, their ratio, and
 * the number of accounts at which the per-account walk costs what the
 * whole pass does (its median per account times that number), which is
 * where recovery should switch from one to the other.
 */
static void
bench_checks(const engine *e, const core_limits *lim, int64_t accounts, int runs)
{
	int64_t    *ids = malloc(sizeof(int64_t) * (size_t) accounts);
	size_t		size = core_verify_all_accounts_size(lim);
	void	   *scratch = malloc(size);
	double	   *cpu[2],
			   *wall[2],
				med[2],
				wmed[2];
	const char *name[2] = {"per-account walks (core_verify_accounts, every user)",
	"one pass (core_verify_all_accounts)"};
	bool		failed = false;

	cpu[0] = malloc(sizeof(double) * (size_t) runs);
	cpu[1] = malloc(sizeof(double) * (size_t) runs);
	wall[0] = malloc(sizeof(double) * (size_t) runs);
	wall[1] = malloc(sizeof(double) * (size_t) runs);
	if (ids == NULL || scratch == NULL || !cpu[0] || !cpu[1] || !wall[0] || !wall[1])
		die("out of memory");
	for (int64_t u = 0; u < accounts; u++)
		ids[u] = u + 1;
	memset(scratch, 0x5a, size);
	for (int i = -1; i < runs; i++)		/* -1: warm-up */
		for (int way = 0; way < 2; way++)
		{
			/* alternate which goes first, so that drift falls on both */
			int			w = (i & 1) ? 1 - way : way;
			uint64_t	c0,
						c1,
						t0,
						t1;
			bool		ok;

			t0 = now_ns();
			c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
			if (w == 0)
				ok = core_verify_accounts(e->c, ids, (size_t) accounts, checks_cb, &failed);
			else
				ok = core_verify_all_accounts(e->c, scratch, checks_cb, &failed);
			c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
			t1 = now_ns();
			if (!ok || failed)
				die("checks: the restored state failed a check");
			if (i >= 0)
			{
				cpu[w][i] = (double) (c1 - c0) / 1e9;
				wall[w][i] = (double) (t1 - t0) / 1e9;
			}
		}
	for (int w = 0; w < 2; w++)
	{
		qsort(cpu[w], (size_t) runs, sizeof(double), cmp_double);
		qsort(wall[w], (size_t) runs, sizeof(double), cmp_double);
		med[w] = cpu[w][runs / 2];
		wmed[w] = wall[w][runs / 2];
		printf("checks: %-54s %8.2f ms CPU (median of %d; min..max %.2f..%.2f), %8.2f ms wall\n",
			   name[w], med[w] * 1e3, runs, cpu[w][0] * 1e3, cpu[w][runs - 1] * 1e3,
			   wmed[w] * 1e3);
	}
	printf("checks: %lld accounts, %u orders; one pass / per-account walks = %.3f (CPU), %.3f (wall); "
		   "the walks cost the pass's CPU time at %.0f accounts\n",
		   (long long) accounts, core_get_counters(e->c).orders, med[1] / med[0],
		   wmed[1] / wmed[0], med[1] / (med[0] / (double) accounts));
	free(ids);
	free(scratch);
	for (int w = 0; w < 2; w++)
	{
		free(cpu[w]);
		free(wall[w]);
	}
}
#else
static void
bench_checks(const engine *e, const core_limits *lim, int64_t accounts, int runs)
{
	(void) e;
	(void) lim;
	(void) accounts;
	(void) runs;
	die("--checks: this core has no core_verify_all_accounts");
}
#endif

static void
bench_restore(int64_t accounts, int64_t orders, int runs, bool checks, FILE *tsv)
{
	core_limits lim = {
		.max_assets = 16, .max_symbols = 16, .max_accounts = (uint32_t) accounts + 16,
		.max_balances = 4 * ((uint32_t) accounts + 16),
		.max_orders = (uint32_t) (orders + orders / 10 + 1000),
	};
	engine		src,
				dst;
	walk_bytes	wb;
	core_walker w = {wb_counters, wb_asset, wb_symbol, wb_balance, wb_order};
	core_digest want;
	size_t		scratch_size = core_restore_check_size(&lim);
	void	   *scratch = malloc(scratch_size);
	double	   *cpu = malloc(sizeof(double) * (size_t) runs);
	double	   *wall = malloc(sizeof(double) * (size_t) runs);
	double		cpu_med,
				wall_med;
	int64_t		items;

	if (scratch == NULL || cpu == NULL || wall == NULL)
		die("out of memory");
	memset(&wb, 0, sizeof(wb));
	restore_build(&src, &lim, accounts, orders);
	want = core_state_digest(src.c);
	core_walk(src.c, &w, &wb);
	free(src.mem);
	items = wb.kind[1].n + wb.kind[2].n + wb.kind[3].n + wb.kind[4].n;
	engine_new(&dst, &lim);
	/* Touch every page now (not with zeros: see bench()). */
	memset(dst.mem, 0x5a, dst.size);
	memset(scratch, 0x5a, scratch_size);
	for (int i = -1; i < runs; i++)		/* -1: warm-up */
	{
		uint64_t	c0,
					c1,
					t0,
					t1;
		core_digest d;

		dst.c = core_create(dst.mem, dst.size, &lim);
		if (dst.c == NULL)
			die("core_create failed");
		t0 = now_ns();
		c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		d = restore_run(&wb, &dst, scratch);
		c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		t1 = now_ns();
		if (d.hi != want.hi || d.lo != want.lo)
			die("restore: the restored state's digest differs from the original's");
		if (i >= 0)
		{
			cpu[i] = (double) (c1 - c0) / 1e9;
			wall[i] = (double) (t1 - t0) / 1e9;
		}
	}
	qsort(cpu, (size_t) runs, sizeof(double), cmp_double);
	qsort(wall, (size_t) runs, sizeof(double), cmp_double);
	cpu_med = cpu[runs / 2];
	wall_med = wall[runs / 2];
	printf("restore: %lld items (%lld balances, %lld orders, %.1f MB of items)%s\n",
		   (long long) items, (long long) wb.kind[3].n, (long long) wb.kind[4].n,
		   (double) (wb.kind[1].len + wb.kind[2].len + wb.kind[3].len + wb.kind[4].len) / 1e6,
#ifdef CORE_HAS_RESTORE_BATCH
		   ", batch restore"
#else
		   ", item by item"
#endif
		);
	printf("restore: %.3f M items/s of CPU (median of %d: %.3f s; min..max %.3f..%.3f s), %.3f M items/s of wall time\n",
		   (double) items / cpu_med / 1e6, runs, cpu_med, cpu[0], cpu[runs - 1],
		   (double) items / wall_med / 1e6);
	if (tsv)
	{
		fprintf(tsv, "restore\t%lld\t%.6f\t%.6f\n", (long long) items, cpu_med, wall_med);
		fflush(tsv);
	}
	if (checks)
		bench_checks(&dst, &lim, accounts, runs);
	for (int k = 1; k <= CORE_ITEM_ORDER; k++)
		free(wb.kind[k].p);
	free(dst.mem);
	free(scratch);
	free(cpu);
	free(wall);
}

#else

static void
bench_restore(int64_t accounts, int64_t orders, int runs, bool checks, FILE *tsv)
{
	(void) accounts;
	(void) orders;
	(void) runs;
	(void) checks;
	(void) tsv;
	die("--restore: this core has no snapshot items (core_item_encode)");
}

#endif							/* CORE_ITEM_MAX_BYTES */

/* ------------------------------------------------------------------ main */

static workload *
workloads(int *count)
{
	static workload w[4];
	core_limits lim = {
		.max_assets = 2, .max_symbols = 1, .max_accounts = 2000 + 1,
		.max_balances = 2 * 2000 + 2, .max_orders = 1 << 14,
	};

	memset(w, 0, sizeof(w));
	w[0].id = "a";
	w[0].name = "a) exchange-core mix, 1k book";
	w[0].seed = 1;
	w[0].users = 2000;
	w[0].funds = FUNDS;
	w[0].tick = TICK;
	w[0].prefill = A_TARGET;
	w[0].prefill_pick = a_prefill;
	w[0].pick = a_pick;
	w[0].lim = lim;

	w[1] = w[0];
	w[1].id = "b";
	w[1].name = "b) deep book, 100k orders";
	w[1].seed = 2;
	w[1].prefill = B_TARGET;
	w[1].prefill_pick = b_prefill;
	w[1].pick = b_pick;
	w[1].lim.max_orders = 1 << 18;

	w[2] = w[0];
	w[2].id = "c1k";
	w[2].name = "c) swinging market, 1k accounts";
	w[2].seed = 3;
	w[2].users = 1000;
	w[2].funds = FUNDS_C;
	w[2].tick = C_TICK;
	w[2].prefill = C_TARGET;
	w[2].prefill_pick = c_gtc;
	w[2].pick = c_pick;

	w[3] = w[2];
	w[3].id = "c100k";
	w[3].name = "c) swinging market, 100k accounts";
	w[3].users = 100000;

	for (int i = 2; i < 4; i++)
	{
		w[i].lim.max_accounts = (uint32_t) w[i].users + 1;
		w[i].lim.max_balances = 2 * (uint32_t) w[i].users + 2;
	}
	*count = 4;
	return w;
}

/* Is id one of the comma-separated ids in list? */
static bool
listed(const char *list, const char *id)
{
	size_t		n = strlen(id);

	for (const char *p = list; *p;)
	{
		const char *end = strchr(p, ',');
		size_t		len = end ? (size_t) (end - p) : strlen(p);

		if (len == n && strncmp(p, id, n) == 0)
			return true;
		p += len + (end != NULL);
	}
	return false;
}

static void
usage(void)
{
	die("usage: bench_core [-n commands] [-r runs] [--ir] [--tsv file] [a,b,c1k,c100k]\n"
		"       bench_core --restore [--checks] [-n orders] [-r runs] [--tsv file]");
}

int
main(int argc, char **argv)
{
	int64_t		n = 1000000;
	int			runs = BENCH_RUNS;
	bool		ir = false;
	bool		restore = false;
	bool		checks = false;
	const char *only = "a,b,c1k,c100k";
	const char *tsv_path = NULL;
	FILE	   *tsv = NULL;
	uint64_t	cost = 0;
	int			nw;
	workload   *w = workloads(&nw);
	bool		any = false;

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			n = atoll(argv[++i]);
		else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--ir") == 0)
			ir = true;
		else if (strcmp(argv[i], "--restore") == 0)
			restore = true;
		else if (strcmp(argv[i], "--checks") == 0)
			checks = true;
		else if (strcmp(argv[i], "--tsv") == 0 && i + 1 < argc)
			tsv_path = argv[++i];
		else if (argv[i][0] != '-')
			only = argv[i];
		else
			usage();
	}
	if (n < 2 || runs < 1)
		usage();
	if (restore)
	{
		if (tsv_path && (tsv = fopen(tsv_path, "a")) == NULL)
			die("cannot open the --tsv file");
		/* -n: resting orders, with a tenth as many accounts (the default: 1M and 100k) */
		bench_restore(n >= 10 ? n / 10 : 1, n, runs, checks, tsv);
		if (tsv)
			fclose(tsv);
		return 0;
	}
	for (int k = 0; k < nw; k++)
		any |= listed(only, w[k].id);
	if (!any)
		usage();
	if (tsv_path && (tsv = fopen(tsv_path, "a")) == NULL)
		die("cannot open the --tsv file");

	if (!ir)
	{
		/* Other work on the machine shows in these figures; say how much there was. */
		FILE	   *fp = fopen("/proc/loadavg", "r");
		char		load[64] = "?\n";

		if (fp)
		{
			if (fgets(load, sizeof(load), fp) == NULL)
				strcpy(load, "?\n");
			fclose(fp);
		}
		cost = clock_cost();
		printf("load average before the timed runs: %s", load);
		printf("core throughput: commands per second of CPU time, median of %d timed runs after a\n"
			   "warm-up (min..max beside it), and per second of wall time (median);\n"
			   "latency: one more run, a clock read per command (%llu ns per read subtracted), ns\n\n",
			   runs, (unsigned long long) cost);
		printf("%-34s %9s %10s %10s %10s %10s %7s %7s %7s %8s\n", "workload", "commands",
			   "ops/s", "min", "max", "wall", "p50", "p99", "p99.9", "max");
		fflush(stdout);
	}
	for (int k = 0; k < nw; k++)
	{
		if (!listed(only, w[k].id))
			continue;
		generate(&w[k], n);
		if (ir)
			bench_ir(&w[k], tsv);
		else
			bench(&w[k], cost, runs, tsv);
		workload_free(&w[k]);
	}
	if (!ir)
		printf("\nevents emitted in all runs: %llu\n", (unsigned long long) bench_events);
	if (tsv)
		fclose(tsv);
	return 0;
}
