/*
 * bench_core.c — throughput and latency of the matching core (make bench-core).
 *
 * Two workloads, each made by a seeded generator (splitmix64) that drives
 * a scratch engine while it writes the command list, so every cancel and
 * amend names an order that is really resting at that point:
 *
 *   a) exchange-core-like: one symbol, ~1k resting orders, 2k users;
 *      82% amend (price move; one in fifty crosses), 9% gtc place (one in
 *      ten crosses), 3% ioc, 6% cancel.
 *   b) deep book: 100k resting limit orders around a drifting mid; ~30%
 *      of commands are limit orders through the spread, the rest are new
 *      passive orders and cancels of random resting orders, keeping the
 *      book at 100k.
 *
 * The timed part replays the list against a copy of the engine as it was
 * before the list (the arena is position independent, so a memcpy copies
 * it).  Every run must end with the digest the generator saw, so the
 * replay really did the same work.  Throughput: one warm-up run, then
 * BENCH_RUNS runs timed as a whole; the median is reported.  Latency: one
 * more run with a CLOCK_MONOTONIC read between consecutive commands (one
 * read per command; the cost of a read is measured and subtracted).  The
 * event callback only counts.  The clock lives here, never in the core.
 *
 * Usage: bench_core [commands per workload [a|b]]
 *   default 1000000 commands, both workloads; a or b runs only that one
 *   (handy under perf).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"

#define BENCH_RUNS		5
#define BENCH_USERS		2000
#define BENCH_ALIGN		64

/* The market: BTC (8 decimals) against USD (2 decimals), tick 0.01, lot 0.00001 BTC. */
#define BASE_ASSET		1
#define QUOTE_ASSET		2
#define SYM				1
#define TICK			1
#define LOT				1000
#define MID0			INT64_C(5000000)	/* 50000.00 */
#define FUNDS			(INT64_C(1) << 50)	/* per user and asset: never short */

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

/* ----------------------------------------------------------- commands */

enum
{
	K_GTC, K_CROSS, K_IOC, K_AMEND, K_CANCEL, K_COUNT
};

static const char *const kind_name[K_COUNT] = {
	"place, passive", "place, crossing", "ioc", "amend (price)", "cancel"
};

typedef struct workload
{
	const char *name;
	core_limits lim;
	engine		start;			/* the engine before the command list */
	core_record *cmd;
	int64_t		ncmd;
	core_digest end_digest;
	uint8_t    *kind;			/* per command: K_* */
	int64_t		kinds[K_COUNT];
	int64_t		end_orders;
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
amend(const open_order *o, int64_t price)
{
	core_record r;

	memset(&r, 0, sizeof(r));
	r.type = CORE_REC_AMEND;
	r.u.amend.user_id = o->user;
	r.u.amend.order_id = o->id;
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
setup_market(core_engine *c)
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
	r.u.create_symbol.tick_size = TICK;
	r.u.create_symbol.lot_size = LOT;
	r.u.create_symbol.maker_fee_ppm = 100;
	r.u.create_symbol.taker_fee_ppm = 500;
	apply_or_die(c, &r, NULL, NULL);

	for (int64_t u = 1; u <= BENCH_USERS; u++)
		for (uint32_t a = BASE_ASSET; a <= QUOTE_ASSET; a++)
		{
			memset(&r, 0, sizeof(r));
			r.type = CORE_REC_DEPOSIT;
			r.u.funds.user_id = u;
			r.u.funds.asset = a;
			r.u.funds.amount = FUNDS;
			apply_or_die(c, &r, NULL, NULL);
		}
}

static int64_t
user(void)
{
	return rng_range(1, BENCH_USERS);
}

static int64_t
qty_lots(int64_t max)
{
	return LOT * rng_range(1, max);
}

/* Passive price: dist ticks away from mid on the own side. */
static int64_t
passive(core_side side, int64_t mid, int64_t dist)
{
	int64_t		p = side == CORE_BUY ? mid - dist * TICK : mid + dist * TICK;

	return p > TICK ? p : TICK;
}

/* A price that crosses: at or a little beyond the best opposite price. */
static int64_t
crossing(const core_engine *c, core_side side, int64_t mid)
{
	int64_t		opp = best(c, !side);

	if (opp == 0)
		opp = mid;
	return side == CORE_BUY ? opp + rng_range(0, 2) * TICK : (opp - rng_range(0, 2) * TICK > TICK ?
																opp - rng_range(0, 2) * TICK : TICK);
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
 * Drive gen (a scratch copy of w->start) through w->ncmd commands chosen by
 * pick(), recording each.
 */
typedef core_record (*pick_fn) (const core_engine *c, book_view *v, int64_t *mid, int *kind);

static void
generate(workload *w, int64_t prefill, int64_t ncmd, pick_fn pick, pick_fn prefill_pick)
{
	engine		gen;
	book_view	v;
	int64_t		mid = MID0;

	memset(&v, 0, sizeof(v));
	v.npos = prefill + ncmd + 16;
	v.pos = calloc((size_t) v.npos, sizeof(int32_t));
	v.o = malloc(sizeof(open_order) * (size_t) (w->lim.max_orders + 1));
	w->cmd = malloc(sizeof(core_record) * (size_t) ncmd);
	w->kind = malloc((size_t) ncmd);
	if (!v.pos || !v.o || !w->cmd || !w->kind)
		die("out of memory");

	engine_new(&w->start, &w->lim);
	setup_market(w->start.c);
	for (int64_t i = 0; i < prefill; i++)
	{
		int			kind;
		core_record r = prefill_pick(w->start.c, &v, &mid, &kind);

		apply_or_die(w->start.c, &r, view_event, &v);
	}

	engine_new(&gen, &w->lim);
	engine_copy(&gen, &w->start);
	for (int64_t i = 0; i < ncmd; i++)
	{
		int			kind;

		w->cmd[i] = pick(gen.c, &v, &mid, &kind);
		w->kind[i] = (uint8_t) kind;
		w->kinds[kind]++;
		apply_or_die(gen.c, &w->cmd[i], view_event, &v);
	}
	w->ncmd = ncmd;
	w->end_digest = core_state_digest(gen.c);
	w->end_orders = core_get_counters(gen.c).orders;
	free(gen.mem);
	free(v.pos);
	free(v.o);
}

/* ------------------------------------------------ workload a: exchange-core */

#define A_TARGET 1000

static core_record
a_prefill(const core_engine *c, book_view *v, int64_t *mid, int *kind)
{
	core_side	side = (core_side) rng_below(2);

	(void) c;
	(void) v;
	*kind = K_GTC;
	return place(user(), side, qty_lots(100), passive(side, *mid, rng_range(1, 50)), CORE_GTC);
}

static core_record
a_pick(const core_engine *c, book_view *v, int64_t *mid, int *kind)
{
	int64_t		r = rng_below(100);
	core_side	side = (core_side) rng_below(2);

	*mid = mid_of(c, *mid);
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
			price = crossing(c, o->side, *mid);
		else
			price = passive(o->side, *mid, rng_range(1, 30));
		if (price == o->price)
			price += o->side == CORE_BUY ? -TICK : TICK;
		return amend(o, price);
	}
	if (r < 91)
	{
		bool		cross = rng_below(10) == 0;

		*kind = cross ? K_CROSS : K_GTC;
		return place(user(), side, qty_lots(cross ? 20 : 100), cross ? crossing(c, side, *mid)
					 : passive(side, *mid, rng_range(1, 30)), CORE_GTC);
	}
	if (r < 94)
	{
		*kind = K_IOC;
		return place(user(), side, qty_lots(20), crossing(c, side, *mid), CORE_IOC);
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
b_prefill(const core_engine *c, book_view *v, int64_t *mid, int *kind)
{
	core_side	side = (core_side) rng_below(2);

	(void) c;
	(void) v;
	*kind = K_GTC;
	return place(user(), side, qty_lots(100), passive(side, *mid, skewed(B_SPREAD)), CORE_GTC);
}

static core_record
b_pick(const core_engine *c, book_view *v, int64_t *mid, int *kind)
{
	core_side	side = (core_side) rng_below(2);

	/* The mid drifts by a tick now and then. */
	if (rng_below(64) == 0)
		*mid += (rng_below(2) ? TICK : -TICK);
	*kind = K_CROSS;
	if (rng_below(100) < 30)
		return place(user(), side, qty_lots(250), crossing(c, side, *mid), CORE_GTC);
	*kind = K_GTC;
	if (v->n > B_TARGET)
	{
		*kind = K_CANCEL;
		return cancel(&v->o[rng_below(v->n)]);
	}
	return place(user(), side, qty_lots(100), passive(side, *mid, skewed(B_SPREAD)), CORE_GTC);
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
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
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

/* The timed loop alone (a function of its own, for profilers). */
static __attribute__((noinline)) void
replay(const workload *w, engine *e)
{
	core_record *cmd = w->cmd;
	core_result res;

	for (int64_t i = 0; i < w->ncmd; i++)
		core_apply(e->c, &cmd[i], count_event, NULL, &res);
}

/* One replay, timed as a whole: seconds. */
static double
run_throughput(const workload *w, engine *e)
{
	uint64_t	t0,
				t1;

	engine_copy(e, &w->start);
	t0 = now_ns();
	replay(w, e);
	t1 = now_ns();
	check_end(w, e);
	return (double) (t1 - t0) / 1e9;
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
bench(workload *w, uint64_t cost)
{
	engine		e;
	double		secs[BENCH_RUNS];
	double		med;
	uint64_t   *lat = malloc(sizeof(uint64_t) * (size_t) w->ncmd);
	uint64_t   *sub = malloc(sizeof(uint64_t) * (size_t) w->ncmd);
	lat_summary all;
	int64_t		nk[K_COUNT];
	lat_summary ks[K_COUNT];

	if (!lat || !sub)
		die("out of memory");
	/*
	 * Touch every page now: a first-touch fault inside the timed loop is not
	 * the core's.  Not with zeros: the compiler turns malloc + zeroing into
	 * calloc, which touches nothing.
	 */
	memset(lat, 0xff, sizeof(uint64_t) * (size_t) w->ncmd);
	memset(sub, 0xff, sizeof(uint64_t) * (size_t) w->ncmd);
	engine_new(&e, &w->lim);
	(void) run_throughput(w, &e);	/* warm-up */
	for (int i = 0; i < BENCH_RUNS; i++)
		secs[i] = run_throughput(w, &e);
	qsort(secs, BENCH_RUNS, sizeof(double), cmp_double);
	med = secs[BENCH_RUNS / 2];

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

	printf("%-34s %9lld %8.2f M %8.2f M %8.2f M %7llu %7llu %7llu %8llu\n",
		   w->name, (long long) w->ncmd, w->ncmd / med / 1e6,
		   w->ncmd / secs[BENCH_RUNS - 1] / 1e6, w->ncmd / secs[0] / 1e6,
		   (unsigned long long) all.p50, (unsigned long long) all.p99,
		   (unsigned long long) all.p999, (unsigned long long) all.max);
	for (int k = 0; k < K_COUNT; k++)
		if (nk[k])
			printf("    %-30s %9lld %5.1f%% %34s %7llu %7llu %7llu %8llu\n", kind_name[k],
				   (long long) nk[k], 100.0 * nk[k] / w->ncmd, "",
				   (unsigned long long) ks[k].p50, (unsigned long long) ks[k].p99,
				   (unsigned long long) ks[k].p999, (unsigned long long) ks[k].max);
	free(lat);
	free(sub);
	free(e.mem);
}

int
main(int argc, char **argv)
{
	int64_t		n = argc > 1 ? atoll(argv[1]) : 1000000;
	const char *only = argc > 2 ? argv[2] : "ab";
	uint64_t	cost = clock_cost();
	workload	a,
				b;

	if (n <= 0)
		die("usage: bench_core [commands per workload]");
	memset(&a, 0, sizeof(a));
	a.name = "a) exchange-core mix, 1k book";
	a.lim = (core_limits) {
		.max_assets = 2, .max_symbols = 1, .max_accounts = BENCH_USERS + 1,
		.max_balances = 2 * BENCH_USERS + 2, .max_orders = 1 << 14,
	};
	memset(&b, 0, sizeof(b));
	b.name = "b) deep book, 100k orders";
	b.lim = a.lim;
	b.lim.max_orders = 1 << 18;

	fprintf(stderr, "bench_core: generating %lld commands per workload...\n", (long long) n);
	rng_state = 1;
	if (strchr(only, 'a'))
		generate(&a, A_TARGET, n, a_pick, a_prefill);
	rng_state = 2;
	if (strchr(only, 'b'))
		generate(&b, B_TARGET, n, b_pick, b_prefill);

	{
		/* Other work on the machine shows in these figures; say how much there was. */
		FILE	   *fp = fopen("/proc/loadavg", "r");
		char		load[64] = "?";

		if (fp)
		{
			if (fgets(load, sizeof(load), fp) == NULL)
				strcpy(load, "?");
			fclose(fp);
		}
		printf("load average before the timed runs: %s", load);
	}
	printf("core throughput: median of %d timed runs after a warm-up (min..max beside it);\n"
		   "latency: one more run, a clock read per command (%llu ns per read subtracted), ns\n\n",
		   BENCH_RUNS, (unsigned long long) cost);
	printf("%-34s %9s %10s %10s %10s %7s %7s %7s %8s\n", "workload", "commands",
		   "ops/s", "min", "max", "p50", "p99", "p99.9", "max");
	if (strchr(only, 'a'))
	{
		bench(&a, cost);
		printf("    (book %u orders at the end)\n", (unsigned) a.end_orders);
	}
	if (strchr(only, 'b'))
	{
		bench(&b, cost);
		printf("    (book %u orders at the end)\n", (unsigned) b.end_orders);
	}
	printf("\nevents emitted in all runs: %llu\n", (unsigned long long) bench_events);
	return 0;
}
