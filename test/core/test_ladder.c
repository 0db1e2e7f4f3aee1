/*
 * test_ladder.c — the price ladder (core.h, "Memory layout"): books whose
 * best price moves across pages and past the window, books spread over the
 * whole int64 price range, the page pool used up (levels kept in the
 * sparse treap, and taken into a page when one is made for their range),
 * and a randomized comparison of every side's levels with a plain sorted
 * list.  core_verify checks the ladder's own invariants (every level found
 * by its price, pages, window and summary agreeing with the treaps) after
 * each step.  Also: core_prefetch changes nothing.
 *
 * Market: fx_simple() — AAA/QQQ, both 2 decimals, tick 1, lot 1: q base
 * units at price p are worth floor(p * q / 100) quote units.
 */
#include <stdlib.h>

#include "fixture.h"

#define B FX_BASE
#define Q FX_QUOTE
#define S FX_SYM

#define PAGE CORE_LADDER_PAGE_TICKS
#define WINDOW_TICKS (CORE_LADDER_PAGE_TICKS * CORE_LADDER_WINDOW_PAGES)

/* An engine with room for n orders, and the plain market. */
static fx *
ladder_market(uint32_t max_orders, uint32_t max_accounts)
{
	core_limits l = fx_default_limits();
	fx		   *f;

	l.max_orders = max_orders;
	l.max_accounts = max_accounts;
	l.max_balances = 2 * max_accounts + 8;
	f = fx_new_limits(&l);
	CHECK_EQ(fx_asset(f, "AAA", 2), B);
	CHECK_EQ(fx_asset(f, "QQQ", 2), Q);
	CHECK_EQ(fx_symbol(f, "AAA_QQQ", B, Q, 1, 1, 0, 0, 0), S);
	return f;
}

static int64_t
best_price(fx *f, core_side side)
{
	core_level_info l[1];

	return fx_levels(f, S, side, l, 1) >= 1 ? l[0].price : 0;
}

/* The side's levels are exactly prices[0..n) (best first), qty each. */
static void
check_side(fx *f, core_side side, const int64_t *prices, int n, int64_t qty)
{
	core_level_info *l = malloc(sizeof(core_level_info) * (size_t) (n + 1));
	int			got = fx_levels(f, S, side, l, n + 1);

	CHECK_EQ(got, n);
	for (int i = 0; i < n && i < got; i++)
	{
		CHECK_EQ(l[i].price, prices[i]);
		CHECK_EQ(fx_level_qty(&l[i]), qty);
		CHECK_EQ(l[i].orders, 1);
	}
	free(l);
}

/* ------------------------------------------------ a best moving across pages */

/*
 * Bids climb 37 ticks at a time over 32,000 ticks (500 pages, eight
 * windows), each the new best; then they are canceled from the top, so
 * that the best falls back across every page; asks do the same downwards.
 */
TEST(ladder_best_level_moves_across_pages_and_windows)
{
	enum { N = 865, STEP = 37 };
	fx		   *f = ladder_market(16384, 8);	/* 1028 pages: none short */
	int64_t    *bids = malloc(sizeof(int64_t) * N);
	int64_t    *asks = malloc(sizeof(int64_t) * N);
	int64_t		first_bid = 1000,
				first_ask = first_bid + 2 * STEP * (int64_t) N + 2 * WINDOW_TICKS;

	CHECK(STEP * (int64_t) N > 7 * WINDOW_TICKS);
	CHECK(2 * STEP * N / PAGE < CORE_LADDER_PAGES(16384));
	fx_deposit(f, 1, Q, INT64_C(1) << 50);
	fx_deposit(f, 2, B, INT64_C(1) << 50);
	for (int i = 0; i < N; i++)
	{
		int64_t		p = first_bid + STEP * (int64_t) i;

		fx_limit(f, 1, S, CORE_BUY, 100, p, CORE_GTC);
		CHECK_EQ(f->r.status, CORE_ST_NEW);
		CHECK_EQ(best_price(f, CORE_BUY), p);
		bids[N - 1 - i] = p;	/* best first */

		p = first_ask - STEP * (int64_t) i;
		fx_limit(f, 2, S, CORE_SELL, 100, p, CORE_GTC);
		CHECK_EQ(f->r.status, CORE_ST_NEW);
		CHECK_EQ(best_price(f, CORE_SELL), p);
		asks[N - 1 - i] = p;
		if (i % 64 == 0)
			FX_VERIFY(f);
	}
	check_side(f, CORE_BUY, bids, N, 100);
	check_side(f, CORE_SELL, asks, N, 100);
	FX_VERIFY(f);

	/* Orders 1, 3, 5, ... are the bids in placing order; the best is the last. */
	for (int i = N - 1; i >= 0; i--)
	{
		fx_cancel(f, 1, 2 * (int64_t) i + 1);
		CHECK_EQ(f->r.status, CORE_ST_CANCELED);
		CHECK_EQ(best_price(f, CORE_BUY), i > 0 ? first_bid + STEP * (int64_t) (i - 1) : 0);
		fx_cancel(f, 2, 2 * (int64_t) i + 2);
		CHECK_EQ(best_price(f, CORE_SELL), i > 0 ? first_ask - STEP * (int64_t) (i - 1) : 0);
		if (i % 64 == 0)
			FX_VERIFY(f);
	}
	CHECK_EQ(core_get_counters(f->c).orders, 0);
	FX_BAL(f, 1, Q, INT64_C(1) << 50, 0);
	FX_BAL(f, 2, B, INT64_C(1) << 50, 0);
	FX_VERIFY(f);
	free(bids);
	free(asks);
	fx_free(f);
}

/* A buy sweeping a book whose best ask jumps a window and more at each level. */
TEST(ladder_sweep_across_far_apart_levels_in_price_order)
{
	fx		   *f = ladder_market(512, 8);
	int64_t		p = 500;

	fx_deposit(f, 1, Q, INT64_C(1) << 60);
	fx_deposit(f, 2, B, 1000);
	/* placed out of order: 5 levels, each 3 windows above the last */
	for (int k = 4; k >= 0; k--)
	{
		fx_limit(f, 2, S, CORE_SELL, 10, p + k * 3 * WINDOW_TICKS + k, CORE_GTC);
		CHECK_EQ(f->r.status, CORE_ST_NEW);
	}
	FX_VERIFY(f);
	fx_limit(f, 1, S, CORE_BUY, 45, p + 4 * 3 * WINDOW_TICKS + 4, CORE_IOC);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, 45, 0);
	CHECK_EQ(f->r.trades, 5);
	for (int k = 0; k < 5; k++)
	{
		CHECK_EQ(f->ev[2 * k].type, CORE_EV_TRADE);
		CHECK_EQ(f->ev[2 * k].u.trade.price, p + k * 3 * WINDOW_TICKS + k);
		CHECK_EQ(f->ev[2 * k].u.trade.qty, k < 4 ? 10 : 5);
	}
	CHECK_EQ(best_price(f, CORE_SELL), p + 4 * 3 * WINDOW_TICKS + 4);
	FX_VERIFY(f);
	fx_free(f);
}

/* -------------------------------------------- the whole int64 price range */

/*
 * Bids and asks at prices from 100 to INT64_MAX, a few per decade, placed
 * in a scrambled order: the book lists them in price order, matching takes
 * them in price order, and a snapshot round trip gives the same digest.
 */
TEST(ladder_sparse_book_over_the_whole_price_range)
{
	enum { N = 64 };
	fx		   *f = ladder_market(256, 8);
	int64_t		prices[N],
				sorted[N];
	int			n = 0;
	char		d1[33],
				d2[33];
	fx		   *g;

	for (int64_t p = 100; p <= INT64_MAX / 10; p *= 10)
	{
		prices[n++] = p;
		prices[n++] = p + p / 3;
		prices[n++] = p * 7 + 1;
	}
	prices[n++] = INT64_MAX - 1;
	prices[n++] = INT64_MAX;
	CHECK(n <= N);
	/* asks: one unit at every price (a sell locks base, not quote), placed
	 * from both ends of the list inwards */
	fx_deposit(f, 2, B, 1000);
	for (int i = 0; i < n; i++)
	{
		int			j = i % 2 == 0 ? i / 2 : n - 1 - i / 2;

		fx_limit(f, 2, S, CORE_SELL, 1, prices[j], CORE_GTC);
		CHECK_EQ(f->r.status, CORE_ST_NEW);
	}
	memcpy(sorted, prices, sizeof(int64_t) * (size_t) n);
	for (int i = 1; i < n; i++)
		for (int k = i; k > 0 && sorted[k - 1] > sorted[k]; k--)
		{
			int64_t		x = sorted[k];

			sorted[k] = sorted[k - 1];
			sorted[k - 1] = x;
		}
	check_side(f, CORE_SELL, sorted, n, 1);
	FX_VERIFY(f);

	/* bids below the lowest ask */
	fx_deposit(f, 1, Q, INT64_MAX / 2);
	for (int i = 0; i < 10; i++)
		fx_limit(f, 1, S, CORE_BUY, 100, 99 - 7 * i, CORE_GTC);
	CHECK_EQ(best_price(f, CORE_BUY), 99);
	FX_VERIFY(f);

	g = fx_roundtrip(f, NULL);
	CHECK(g != NULL);
	if (g)
	{
		CHECK_STR(fx_digest(g, d2), fx_digest(f, d1));
		fx_free(g);
	}

	/* a buy at 10^16 takes every ask up to there, cheapest first */
	fx_limit(f, 1, S, CORE_BUY, n, INT64_C(10000000000000000), CORE_IOC);
	CHECK(f->r.trades > 10);
	for (int i = 0, t = 0; i < f->nev; i++)
		if (f->ev[i].type == CORE_EV_TRADE)
		{
			CHECK_EQ(f->ev[i].u.trade.price, sorted[t]);
			t++;
		}
	CHECK_EQ(best_price(f, CORE_SELL), sorted[f->r.trades]);
	FX_VERIFY(f);
	fx_free(f);
}

/* -------------------------------------------------- the page pool used up */

/*
 * max_orders 32 gives CORE_LADDER_PAGES(32) = 6 pages.  Asks in 6
 * different 64-tick ranges take every page; a 7th range and more go to the
 * sparse treap, and so do levels between paged ones; then one page's
 * range is emptied (its page returns to the pool) and a new level in a
 * range holding sparse levels takes that page and the sparse levels with
 * it.  The book is in price order, matches in price order and verifies at
 * every step.
 */
TEST(ladder_page_pool_used_up_levels_stay_ordered)
{
	enum { MAXO = 32, RANGES = CORE_LADDER_PAGES(MAXO) };
	fx		   *f = ladder_market(MAXO, 8);
	int64_t		want[MAXO];
	int			n = 0;
	int64_t		base = 10 * PAGE;

	CHECK_EQ(RANGES, 6);
	fx_deposit(f, 2, B, 1000);
	fx_deposit(f, 1, Q, INT64_C(1) << 40);
	/* one level in each of RANGES ranges: every page of the pool */
	for (int k = 0; k < RANGES; k++)
	{
		fx_limit(f, 2, S, CORE_SELL, 1, base + 2 * k * PAGE, CORE_GTC);
		CHECK_EQ(f->r.status, CORE_ST_NEW);
		FX_VERIFY(f);
	}
	/* at the limit: further ranges (odd ones, between the paged ones, and
	 * beyond) hold sparse levels, two in the same range */
	for (int k = 0; k < 4; k++)
	{
		fx_limit(f, 2, S, CORE_SELL, 1, base + (2 * k + 1) * PAGE + 5, CORE_GTC);
		CHECK_EQ(f->r.status, CORE_ST_NEW);
		fx_limit(f, 2, S, CORE_SELL, 1, base + (2 * k + 1) * PAGE + 9, CORE_GTC);
		CHECK_EQ(f->r.status, CORE_ST_NEW);
		FX_VERIFY(f);
	}
	fx_limit(f, 2, S, CORE_SELL, 1, base + 100 * PAGE, CORE_GTC);
	/* and more levels in ranges that have a page */
	fx_limit(f, 2, S, CORE_SELL, 1, base + 2 * PAGE + 63, CORE_GTC);
	fx_limit(f, 2, S, CORE_SELL, 1, base + 1, CORE_GTC);
	FX_VERIFY(f);
	for (int k = 0; k < 2 * RANGES; k++)
	{
		if (k % 2 == 0)
		{
			want[n++] = base + k * PAGE;
			if (k == 0)
				want[n++] = base + 1;
			if (k == 2)
				want[n++] = base + 2 * PAGE + 63;
		}
		else if (k < 8)
		{
			want[n++] = base + k * PAGE + 5;
			want[n++] = base + k * PAGE + 9;
		}
	}
	want[n++] = base + 100 * PAGE;
	check_side(f, CORE_SELL, want, n, 1);

	/* empty the range at base + 4 PAGE (order 3): its page goes back to the pool */
	fx_cancel(f, 2, 3);
	CHECK_EQ(f->r.status, CORE_ST_CANCELED);
	FX_VERIFY(f);
	/* a new level in the range of sparse levels at base + 3 PAGE + 5 and + 9 */
	fx_limit(f, 2, S, CORE_SELL, 1, base + 3 * PAGE + 7, CORE_GTC);
	CHECK_EQ(f->r.status, CORE_ST_NEW);
	FX_VERIFY(f);
	n = 0;
	for (int k = 0; k < 2 * RANGES; k++)
	{
		if (k == 4)
			continue;
		if (k % 2 == 0)
		{
			want[n++] = base + k * PAGE;
			if (k == 0)
				want[n++] = base + 1;
			if (k == 2)
				want[n++] = base + 2 * PAGE + 63;
		}
		else if (k < 8)
		{
			want[n++] = base + k * PAGE + 5;
			if (k == 3)
				want[n++] = base + k * PAGE + 7;
			want[n++] = base + k * PAGE + 9;
		}
	}
	want[n++] = base + 100 * PAGE;
	check_side(f, CORE_SELL, want, n, 1);

	/* a buy through the whole book takes the levels in that order */
	fx_limit(f, 1, S, CORE_BUY, n, base + 100 * PAGE, CORE_GTC);
	FX_RES(f, CORE_ST_FILLED, CORE_R_NONE, n, 0);
	for (int i = 0, t = 0; i < f->nev; i++)
		if (f->ev[i].type == CORE_EV_TRADE)
			CHECK_EQ(f->ev[i].u.trade.price, want[t++]);
	CHECK_EQ(best_price(f, CORE_SELL), 0);
	FX_VERIFY(f);
	fx_free(f);
}

/* ---------------------------------------------------- randomized, vs a list */

typedef struct lrng
{
	uint64_t	s;
} lrng;

static uint64_t
lrng_next(lrng *r)
{
	uint64_t	z = (r->s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static int64_t
lrng_below(lrng *r, int64_t n)
{
	return (int64_t) (((unsigned __int128) lrng_next(r) * (uint64_t) n) >> 64);
}

typedef struct ref_order
{
	int64_t		id;
	int64_t		price;
	int64_t		qty;
	uint8_t		side;
} ref_order;

static int
by_best(const void *a, const void *b)
{
	const ref_order *x = a,
			   *y = b;

	if (x->side != y->side)
		return x->side < y->side ? -1 : 1;
	if (x->price != y->price)
		return (x->side == CORE_BUY) == (x->price > y->price) ? -1 : 1;
	return 0;
}

/* Every level of both sides against the open orders, grouped by price. */
static bool
levels_match(fx *f, ref_order *open, int n)
{
	ref_order  *o = malloc(sizeof(ref_order) * (size_t) (n + 1));
	core_level_info *l = malloc(sizeof(core_level_info) * (size_t) (n + 1));
	bool		ok = true;
	int			i = 0;

	memcpy(o, open, sizeof(ref_order) * (size_t) n);
	qsort(o, (size_t) n, sizeof(ref_order), by_best);
	for (int side = CORE_BUY; side <= CORE_SELL; side++)
	{
		int			got = fx_levels(f, S, (core_side) side, l, n + 1),
					k = 0;

		for (; i < n && o[i].side == side; k++)
		{
			int64_t		qty = 0;
			int			count = 0;
			int64_t		p = o[i].price;

			for (; i < n && o[i].side == side && o[i].price == p; i++, count++)
				qty += o[i].qty;
			if (k >= got || l[k].price != p || fx_level_qty(&l[k]) != qty ||
				l[k].orders != count)
				ok = false;
		}
		if (k != got)
			ok = false;
	}
	free(o);
	free(l);
	return ok;
}

/*
 * Bids below 2^40 and asks above it (so nothing trades and the reference
 * is a plain list): prices near a mid that jumps now and then by more than
 * a window, and others anywhere up to 2^62; places, cancels and amends of
 * price and quantity; every side's levels compared with the list after
 * every command, core_verify and a round trip now and then.  With 64
 * orders the page pool (8 pages) is short all the time; with 4096 (260
 * pages, about 400 orders resting) it is not, and the window moves.
 */
static void
ladder_random_run(uint64_t seed, uint32_t max_orders, int target, int steps)
{
	const int64_t sep = INT64_C(1) << 40;
	fx		   *f = ladder_market(max_orders, 8);
	ref_order  *open = malloc(sizeof(ref_order) * (max_orders + 1));
	int			n = 0;
	lrng		r = {seed};
	int64_t		near = 5000;	/* ticks between the mid and the near prices */
	char		d1[33],
				d2[33];

	fx_deposit(f, 1, Q, INT64_MAX / 2);
	fx_deposit(f, 2, B, INT64_C(1) << 50);
	for (int step = 0; step < steps; step++)
	{
		int64_t		k = lrng_below(&r, 100);

		if (lrng_below(&r, 500) == 0)
			near = 1 + lrng_below(&r, 20 * WINDOW_TICKS);
		if (n > 0 && (k < 30 || n >= target))
		{
			int			i = (int) lrng_below(&r, n);

			fx_cancel(f, open[i].side == CORE_BUY ? 1 : 2, open[i].id);
			CHECK_EQ(f->r.status, CORE_ST_CANCELED);
			open[i] = open[--n];
		}
		else if (n > 0 && k < 45)
		{
			int			i = (int) lrng_below(&r, n);
			int64_t		d = 1 + lrng_below(&r, 3 * PAGE);
			int64_t		p = open[i].side == CORE_BUY ?
				(open[i].price > d + 100 ? open[i].price - d : open[i].price + d) :
				open[i].price + d;
			int64_t		q = 1 + lrng_below(&r, 9);

			if (k < 38)
				fx_amend(f, open[i].side == CORE_BUY ? 1 : 2, open[i].id, 0, p);
			else
				fx_amend(f, open[i].side == CORE_BUY ? 1 : 2, open[i].id, q, 0);
			CHECK_EQ(f->r.status, CORE_ST_NEW);
			if (k < 38)
				open[i].price = p;
			else
				open[i].qty = q;
		}
		else
		{
			core_side	side = (core_side) lrng_below(&r, 2);
			int64_t		off = lrng_below(&r, 4) == 0 ?
				1 + lrng_below(&r, side == CORE_BUY ? sep - 200 : (INT64_C(1) << 62)) :
				near + lrng_below(&r, 400);
			int64_t		p = side == CORE_BUY ? sep - off : sep + off;
			int64_t		q = 1 + lrng_below(&r, 9);

			fx_limit(f, side == CORE_BUY ? 1 : 2, S, side, q, p, CORE_GTC);
			CHECK_EQ(f->r.status, CORE_ST_NEW);
			CHECK_EQ(f->r.trades, 0);
			open[n].id = f->r.order_id;
			open[n].price = p;
			open[n].qty = q;
			open[n].side = (uint8_t) side;
			n++;
		}
		if (!levels_match(f, open, n))
		{
			test_fail(__FILE__, __LINE__, "seed %llu step %d: the book's levels differ from the list",
					  (unsigned long long) seed, step);
			break;
		}
		if (step % 97 == 0 && !fx_verify(f))
		{
			test_fail(__FILE__, __LINE__, "seed %llu step %d: verify failed",
					  (unsigned long long) seed, step);
			break;
		}
		if (step % 1999 == 0)
		{
			fx		   *g = fx_roundtrip(f, NULL);

			CHECK(g != NULL);
			if (g)
			{
				CHECK_STR(fx_digest(g, d2), fx_digest(f, d1));
				CHECK(levels_match(g, open, n));
				fx_free(g);
			}
		}
	}
	FX_VERIFY(f);
	free(open);
	fx_free(f);
}

TEST(ladder_random_book_matches_a_sorted_list_with_few_pages)
{
	ladder_random_run(11, 64, 64, 20000);
}

TEST(ladder_random_book_matches_a_sorted_list_with_many_pages)
{
	ladder_random_run(12, 4096, 400, 20000);
}

/* ------------------------------------------------------------ core_prefetch */

/*
 * core_prefetch changes nothing, whatever record it is given: two engines
 * fed the same commands, one with every record (and some malformed ones)
 * prefetched first, end with the same digest.
 */
TEST(ladder_prefetch_changes_nothing)
{
	fx		   *f = ladder_market(256, 8),
			   *g = ladder_market(256, 8);
	lrng		r = {7};
	char		d1[33],
				d2[33];

	for (int e = 0; e < 2; e++)
	{
		fx		   *x = e ? g : f;

		fx_deposit(x, 1, Q, INT64_C(1) << 40);
		fx_deposit(x, 2, B, INT64_C(1) << 40);
	}
	for (int i = 0; i < 2000; i++)
	{
		core_record rec;
		core_record junk;

		memset(&rec, 0, sizeof(rec));
		if (lrng_below(&r, 3) == 0 && core_get_counters(f->c).next_order_id > 1)
		{
			rec.type = lrng_below(&r, 2) ? CORE_REC_CANCEL : CORE_REC_AMEND;
			rec.u.cancel.user_id = 1 + lrng_below(&r, 2);
			rec.u.cancel.order_id = 1 + lrng_below(&r, core_get_counters(f->c).next_order_id);
			if (rec.type == CORE_REC_AMEND)
			{
				rec.u.amend.user_id = rec.u.cancel.user_id;
				rec.u.amend.order_id = rec.u.cancel.order_id;
				rec.u.amend.qty = 1 + lrng_below(&r, 50);
			}
		}
		else
		{
			core_side	side = (core_side) lrng_below(&r, 2);

			rec.type = CORE_REC_PLACE;
			rec.u.place = fx_place_rec(1 + side, S, side, 1 + lrng_below(&r, 50),
									   900 + lrng_below(&r, 200),
									   lrng_below(&r, 4) ? CORE_GTC : CORE_IOC);
		}
		junk = rec;
		junk.u.place.symbol = (uint32_t) lrng_next(&r);	/* any symbol id */
		core_prefetch(g->c, &junk);
		junk.type = (uint8_t) lrng_next(&r);
		core_prefetch(g->c, &junk);
		core_prefetch(g->c, &rec);
		fx_apply(f, &rec);
		fx_apply(g, &rec);
	}
	CHECK_STR(fx_digest(g, d2), fx_digest(f, d1));
	FX_VERIFY(g);
	fx_free(f);
	fx_free(g);
}
