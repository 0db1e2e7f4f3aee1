/*
 * test_digest.c — the state digest, the canonical walk and restore, and
 * core_verify: equal states give equal digests, any change changes it, a
 * walk restored into a fresh arena is the same state (same digest, same
 * queues, same future), and a broken state does not pass verify.
 */
#include <ctype.h>
#include <stdlib.h>

#include "fixture.h"

#define B FX_BASE
#define Q FX_QUOTE
#define S FX_SYM

/*
 * A state with something everywhere: two symbols with fees, several users,
 * several levels per side, FIFO queues of several orders, partial fills,
 * freed and reused order slots, a requeued order, a rejected place and a
 * halted symbol.
 */
static fx *
rich(void)
{
	fx		   *f = fx_simple(1000, 2000);
	uint32_t	ccc = fx_asset(f, "CCC", 4);
	uint32_t	s2 = fx_symbol(f, "CCC_QQQ", ccc, Q, 5, 10, 20, 0, 500);

	CHECK_EQ(s2, 2);
	for (int u = 1; u <= 6; u++)
	{
		fx_deposit(f, u, Q, 1000000 + u);
		fx_deposit(f, u, B, 50000 + u);
		if (u % 2)
			fx_deposit(f, u, ccc, 777700 + u);
	}
	for (int i = 0; i < 4; i++)
	{
		fx_limit(f, 1 + i % 6, S, CORE_BUY, 100 + 10 * i, 990 - i % 2 * 5, CORE_GTC);
		fx_limit(f, 2 + i % 5, S, CORE_SELL, 90 + 7 * i, 1010 + i % 3 * 5, CORE_GTC);
	}
	fx_limit(f, 1, s2, CORE_SELL, 1000, 500, CORE_GTC);
	fx_limit(f, 3, s2, CORE_SELL, 2000, 505, CORE_GTC);
	fx_limit(f, 5, s2, CORE_BUY, 500, 495, CORE_GTC);
	fx_limit(f, 2, s2, CORE_BUY, 510, 505, CORE_GTC);	/* crosses: partial */
	fx_limit(f, 4, S, CORE_BUY, 150, 1010, CORE_GTC);	/* takes asks */
	fx_cancel(f, 1, 1);
	fx_limit(f, 6, S, CORE_BUY, 33, 985, CORE_GTC);	/* reuses the slot */
	fx_amend(f, 2, 3, 200, 0);	/* requeued */
	fx_limit(f, 5, S, CORE_BUY, 100000000, 990, CORE_GTC);	/* rejected */
	fx_market(f, 6, S, CORE_SELL, 50, 0);
	fx_set_status(f, s2, CORE_HALTED);
	CHECK(core_get_counters(f->c).orders >= 10);
	return f;
}

static void
hex_of(fx *f, char out[33])
{
	fx_digest(f, out);
}

/* ------------------------------------------------------------- digest */

TEST(digest_hex_is_32_lowercase_hex_digits)
{
	fx		   *f = rich();
	char		h[33];

	memset(h, 'Z', sizeof(h));
	hex_of(f, h);
	CHECK_EQ(strlen(h), 32);
	for (int i = 0; i < 32; i++)
		CHECK(isdigit((unsigned char) h[i]) || (h[i] >= 'a' && h[i] <= 'f'));
	fx_free(f);
}

TEST(digest_equal_for_equal_states)
{
	fx		   *a = rich();
	fx		   *b = rich();
	char		ha[33],
				hb[33];
	core_digest da = core_state_digest(a->c),
				db = core_state_digest(b->c);

	CHECK(da.hi == db.hi && da.lo == db.lo);
	CHECK_STR(fx_digest(a, ha), fx_digest(b, hb));
	/* reading never changes it */
	CHECK(fx_verify(a));
	CHECK_STR(fx_digest(a, ha), hb);
	fx_free(a);
	fx_free(b);
}

TEST(digest_of_empty_engines_equal_and_differs_from_nonempty)
{
	fx		   *a = fx_new();
	fx		   *b = fx_new();
	char		ha[33],
				hb[33];

	CHECK_STR(fx_digest(a, ha), fx_digest(b, hb));
	fx_asset(b, "A", 0);
	CHECK(strcmp(fx_digest(a, ha), fx_digest(b, hb)) != 0);
	fx_free(a);
	fx_free(b);
}

/*
 * Digest rule (core.h): fields added after release 1.0 are hashed only when
 * set, so states that do not use them keep the digest release 1.0 gave
 * them.  These values were computed by release 1.0's core (tag v1.0) for
 * the same commands; an engine upgraded in place must report them.
 */
TEST(digest_of_states_without_new_fields_equals_release_1_0)
{
	fx		   *f = fx_new();
	char		h[33];

	CHECK_STR(fx_digest(f, h), "c20ec4360807653bd4f05dc0749c2188");
	fx_free(f);
	f = fx_simple(10, 20);
	CHECK_STR(fx_digest(f, h), "75db15d26495119278702784ea263938");
	fx_free(f);
	f = rich();
	CHECK_STR(fx_digest(f, h), "95d65c3e4f0e9a3d20068f176be54088");
	fx_free(f);
}

static void check_same_state(fx *a, fx *b);

static fx *
with_min_notional(int64_t min_notional)
{
	fx		   *f = fx_simple(0, 0);
	core_rec_create_symbol s;

	memset(&s, 0, sizeof(s));
	strcpy(s.name, "MN");
	s.base_asset = B;
	s.quote_asset = Q;
	s.tick_size = 1;
	s.lot_size = 1;
	s.min_notional = min_notional;
	CHECK_EQ(fx_symbol_rec(f, &s), 2);
	return f;
}

/* A min_notional that is set is state: it changes the digest and survives
 * walk/restore. */
TEST(digest_hashes_min_notional_when_set)
{
	fx		   *a = with_min_notional(0);
	fx		   *b = with_min_notional(1);
	fx		   *c = with_min_notional(2);
	fx		   *g;
	char		ha[33],
				hb[33],
				hc[33],
				hg[33];
	core_symbol_info si;

	fx_digest(a, ha);
	fx_digest(b, hb);
	fx_digest(c, hc);
	CHECK(strcmp(ha, hb) != 0);
	CHECK(strcmp(hb, hc) != 0);
	CHECK(strcmp(ha, hc) != 0);
	g = fx_roundtrip(c, NULL);
	CHECK(g != NULL);
	if (g)
	{
		CHECK_STR(fx_digest(g, hg), hc);
		CHECK(core_symbol_get(g->c, 2, &si));
		CHECK_EQ(si.min_notional, 2);
		check_same_state(c, g);
	}
	fx_free(a);
	fx_free(b);
	fx_free(c);
	fx_free(g);
}

#define N_CHANGES 12

static void
change(fx *f, int which)
{
	switch (which)
	{
		case 0:
			fx_deposit(f, 1, Q, 1);
			break;
		case 1:
			fx_withdraw(f, 1, Q, 1);
			break;
		case 2:
			fx_limit(f, 1, S, CORE_BUY, 10, 900, CORE_GTC);
			break;
		case 3:
			fx_cancel(f, 5, 8);	/* a partly filled ask */
			CHECK_EQ(f->r.status, CORE_ST_CANCELED);
			break;
		case 4:
			fx_amend(f, 5, 8, 1, 0);
			CHECK_EQ(f->r.status, CORE_ST_PARTIALLY_FILLED);
			break;
		case 5:
			fx_set_status(f, S, CORE_HALTED);
			break;
		case 6:
			fx_asset(f, "NEW", 3);
			break;
		case 7:
			fx_symbol(f, "NEW_SYM", B, 3, 1, 1, 0, 0, 0);
			break;
		case 8:
			fx_limit(f, 1, S, CORE_BUY, 100000000, 1000, CORE_GTC);	/* rejected */
			CHECK_EQ(f->r.status, CORE_ST_REJECTED);
			break;
		case 9:
			fx_market(f, 1, S, CORE_BUY, 10, 0);
			CHECK_EQ(f->r.trades, 1);
			break;
		case 10:
			fx_deposit(f, 9, B, 1);	/* a new account */
			break;
		case 11:
			fx_limit(f, 1, S, CORE_BUY, 11, 900, CORE_GTC);	/* vs case 2: qty */
			break;
	}
}

TEST(digest_differs_after_any_change)
{
	char		h[N_CHANGES + 1][33];

	for (int i = 0; i <= N_CHANGES; i++)
	{
		fx		   *f = rich();

		if (i < N_CHANGES)
			change(f, i);
		fx_digest(f, h[i]);
		fx_free(f);
	}
	/* h[N_CHANGES] is the unchanged state; all must be pairwise distinct */
	for (int i = 0; i <= N_CHANGES; i++)
		for (int j = i + 1; j <= N_CHANGES; j++)
			if (strcmp(h[i], h[j]) == 0)
				test_fail(__FILE__, __LINE__, "change %d and %d give equal digests", i, j);
}

/* ---------------------------------------------------- walk and restore */

static bool
order_info_equal(const core_order_info *a, const core_order_info *b)
{
	return a->order_id == b->order_id && a->user_id == b->user_id &&
		a->symbol == b->symbol && a->side == b->side && a->stp == b->stp &&
		a->post_only == b->post_only && a->price == b->price && a->qty == b->qty &&
		a->filled_qty == b->filled_qty && a->remaining_qty == b->remaining_qty &&
		a->locked == b->locked && a->notional_hi == b->notional_hi &&
		a->notional_lo == b->notional_lo && a->created_ts == b->created_ts &&
		a->queued_seq == b->queued_seq &&
		strcmp(a->client_order_id, b->client_order_id) == 0;
}

/* Two engines hold the same state item by item, as their walks show. */
static void
check_same_state(fx *a, fx *b)
{
	fx_walk    *x = fx_walk_take(a);
	fx_walk    *y = fx_walk_take(b);

	CHECK_EQ(x->k.seq, y->k.seq);
	CHECK_EQ(x->k.next_order_id, y->k.next_order_id);
	CHECK_EQ(x->k.next_trade_id, y->k.next_trade_id);
	CHECK_EQ(x->k.assets, y->k.assets);
	CHECK_EQ(x->k.symbols, y->k.symbols);
	CHECK_EQ(x->k.accounts, y->k.accounts);
	CHECK_EQ(x->k.balances, y->k.balances);
	CHECK_EQ(x->k.orders, y->k.orders);
	CHECK_EQ(x->na, y->na);
	CHECK_EQ(x->ns, y->ns);
	CHECK_EQ(x->nb, y->nb);
	CHECK_EQ(x->no, y->no);
	for (int i = 0; i < x->na && i < y->na; i++)
	{
		CHECK_EQ(x->a[i].id, y->a[i].id);
		CHECK_STR(x->a[i].code, y->a[i].code);
		CHECK_EQ(x->a[i].decimals, y->a[i].decimals);
		CHECK_EQ(x->a[i].supply, y->a[i].supply);
	}
	for (int i = 0; i < x->ns && i < y->ns; i++)
	{
		CHECK_EQ(x->s[i].id, y->s[i].id);
		CHECK_STR(x->s[i].name, y->s[i].name);
		CHECK_EQ(x->s[i].tick_size, y->s[i].tick_size);
		CHECK_EQ(x->s[i].lot_size, y->s[i].lot_size);
		CHECK_EQ(x->s[i].min_qty, y->s[i].min_qty);
		CHECK_EQ(x->s[i].maker_fee_ppm, y->s[i].maker_fee_ppm);
		CHECK_EQ(x->s[i].taker_fee_ppm, y->s[i].taker_fee_ppm);
		CHECK_EQ(x->s[i].status, y->s[i].status);
		CHECK_EQ(x->s[i].min_notional, y->s[i].min_notional);
	}
	for (int i = 0; i < x->nb && i < y->nb; i++)
	{
		CHECK_EQ(x->b[i].user_id, y->b[i].user_id);
		CHECK_EQ(x->b[i].asset, y->b[i].asset);
		CHECK_EQ(x->b[i].available, y->b[i].available);
		CHECK_EQ(x->b[i].frozen, y->b[i].frozen);
	}
	for (int i = 0; i < x->no && i < y->no; i++)
		if (!order_info_equal(&x->o[i], &y->o[i]))
			test_fail(__FILE__, __LINE__, "walked order %d differs (ids %" PRId64 " / %" PRId64 ")",
					  i, x->o[i].order_id, y->o[i].order_id);
	fx_walk_free(x);
	fx_walk_free(y);
}

TEST(digest_equal_after_walk_restore_round_trip)
{
	fx		   *f = rich();
	fx		   *g = fx_roundtrip(f, NULL);
	char		hf[33],
				hg[33];

	CHECK(g != NULL);
	if (g)
	{
		CHECK_STR(fx_digest(g, hg), fx_digest(f, hf));
		CHECK(fx_verify(g));
		check_same_state(f, g);
		CHECK_EQ(core_seq(g->c), core_seq(f->c));
	}
	fx_free(f);
	fx_free(g);
}

/* Every level's queue comes back in exactly the same order. */
TEST(digest_round_trip_keeps_exact_queue_order)
{
	fx		   *f = rich();
	fx		   *g = fx_roundtrip(f, NULL);

	CHECK(g != NULL);
	for (uint32_t sym = 1; g && sym <= 2; sym++)
		for (int side = 0; side < 2; side++)
		{
			core_level_info lf[32],
						lg[32];
			int			nf = fx_levels(f, sym, (core_side) side, lf, 32);
			int			ng = fx_levels(g, sym, (core_side) side, lg, 32);

			CHECK_EQ(nf, ng);
			CHECK(nf > 0);
			for (int i = 0; i < nf && i < ng; i++)
			{
				int64_t		idf[32],
							idg[32];
				int			cf,
							cg;

				CHECK_EQ(lf[i].price, lg[i].price);
				CHECK_EQ(lf[i].qty_hi, lg[i].qty_hi);
				CHECK_EQ(lf[i].qty_lo, lg[i].qty_lo);
				CHECK_EQ(lf[i].orders, lg[i].orders);
				cf = fx_level_ids(f, sym, (core_side) side, lf[i].price, idf, 32);
				cg = fx_level_ids(g, sym, (core_side) side, lg[i].price, idg, 32);
				CHECK_EQ(cf, cg);
				for (int j = 0; j < cf && j < cg; j++)
					CHECK_EQ(idf[j], idg[j]);
			}
		}
	fx_free(f);
	fx_free(g);
}

static bool
event_equal(const core_event *a, const core_event *b)
{
	if (a->type != b->type)
		return false;
	if (a->type == CORE_EV_TRADE)
	{
		const core_trade_event *x = &a->u.trade,
				   *y = &b->u.trade;

		return x->trade_id == y->trade_id && x->symbol == y->symbol &&
			x->taker_side == y->taker_side && x->price == y->price &&
			x->qty == y->qty && x->quote_qty == y->quote_qty &&
			x->taker_order_id == y->taker_order_id &&
			x->taker_user_id == y->taker_user_id &&
			x->maker_order_id == y->maker_order_id &&
			x->maker_user_id == y->maker_user_id &&
			x->taker_fee == y->taker_fee && x->maker_fee == y->maker_fee;
	}
	else
	{
		const core_order_event *x = &a->u.order,
				   *y = &b->u.order;

		return x->order_id == y->order_id && x->user_id == y->user_id &&
			x->symbol == y->symbol && x->side == y->side &&
			x->status == y->status && x->reason == y->reason &&
			x->price == y->price && x->qty == y->qty &&
			x->filled_qty == y->filled_qty && x->remaining_qty == y->remaining_qty;
	}
}

/* The restored engine answers the same commands with the same events. */
TEST(digest_restored_engine_has_the_same_future)
{
	fx		   *f = rich();
	fx		   *g = fx_roundtrip(f, NULL);
	char		hf[33],
				hg[33];

	CHECK(g != NULL);
	for (int step = 0; g && step < 8; step++)
	{
		fx		   *e[2] = {f, g};

		for (int k = 0; k < 2; k++)
			switch (step)
			{
				case 0:
					fx_market(e[k], 3, S, CORE_BUY, 400, 0);
					break;
				case 1:
					fx_limit(e[k], 4, S, CORE_SELL, 500, 980, CORE_GTC);
					break;
				case 2:
					fx_cancel_all(e[k], 2, 0);
					break;
				case 3:
					fx_set_status(e[k], 2, CORE_TRADING);
					break;
				case 4:
					fx_limit(e[k], 6, 2, CORE_BUY, 3000, 505, CORE_IOC);
					break;
				case 5:
					fx_amend(e[k], 3, 4, 0, 1000);
					break;
				case 6:
					fx_limit(e[k], 5, S, CORE_BUY, 10, 2000, CORE_FOK);
					break;
				case 7:
					fx_withdraw(e[k], 1, Q, 100);
					break;
			}
		CHECK_EQ(f->nev, g->nev);
		CHECK_EQ(f->r.status, g->r.status);
		CHECK_EQ(f->r.reason, g->r.reason);
		CHECK_EQ(f->r.order_id, g->r.order_id);
		CHECK_EQ(f->r.filled_qty, g->r.filled_qty);
		CHECK_EQ(f->r.remaining_qty, g->r.remaining_qty);
		CHECK_EQ(f->r.avg_price, g->r.avg_price);
		CHECK_EQ(f->r.trades, g->r.trades);
		for (int i = 0; i < f->nev && i < g->nev && i < FX_MAX_EVENTS; i++)
			if (!event_equal(&f->ev[i], &g->ev[i]))
				test_fail(__FILE__, __LINE__, "step %d event %d differs", step, i);
		CHECK_STR(fx_digest(f, hf), fx_digest(g, hg));
		CHECK(fx_verify(g));
	}
	fx_free(f);
	fx_free(g);
}

TEST(digest_round_trip_of_empty_and_refdata_only_engines)
{
	fx		   *f = fx_new();
	fx		   *g = fx_roundtrip(f, NULL);
	char		hf[33],
				hg[33];

	CHECK(g != NULL);
	if (g)
		CHECK_STR(fx_digest(g, hg), fx_digest(f, hf));
	fx_free(g);
	fx_free(f);
	f = fx_simple(10, 20);
	g = fx_roundtrip(f, NULL);
	CHECK(g != NULL);
	if (g)
	{
		CHECK_STR(fx_digest(g, hg), fx_digest(f, hf));
		/* ids go on from where they were */
		CHECK_EQ(fx_asset(g, "NEXT", 1), 3);
	}
	fx_free(g);
	fx_free(f);
}

/* Restoring into a larger arena gives the same digest: limits are not state. */
TEST(digest_round_trip_into_larger_arena)
{
	fx		   *f = rich();
	core_limits big = {.max_assets = 16, .max_symbols = 16, .max_accounts = 64,
	.max_balances = 256, .max_orders = 1024};
	fx		   *g = fx_roundtrip(f, &big);
	char		hf[33],
				hg[33];

	CHECK(g != NULL);
	if (g)
	{
		CHECK_STR(fx_digest(g, hg), fx_digest(f, hf));
		CHECK(fx_verify(g));
	}
	fx_free(f);
	fx_free(g);
}

/*
 * Canonical walk order.  Symbol 2 gets order 1; symbol 1 gets bids o2
 * @9.90, o3 @10.00, o4 @9.90 and asks o5 @10.20, o6 @10.10, o7 @10.10.
 * Walk: symbol 1 bids best first (3; 2, 4), asks best first (6, 7; 5),
 * then symbol 2 (1).  Accounts: 0, then user 2 (first deposit), then 1.
 */
TEST(digest_walk_order_is_canonical)
{
	fx		   *f = fx_simple(0, 0);
	uint32_t	ccc = fx_asset(f, "CCC", 2);
	uint32_t	s2 = fx_symbol(f, "CCC_QQQ", ccc, Q, 1, 1, 0, 0, 0);
	fx_walk    *w;
	static const int64_t want_orders[] = {3, 2, 4, 6, 7, 5, 1};
	/* placing gives the user rows for both assets of the symbol */
	static const int64_t want_bal_user[] = {0, 0, 0, 2, 2, 2, 1, 1};
	static const uint32_t want_bal_asset[] = {1, 2, 3, 1, 2, 3, 1, 2};

	fx_deposit(f, 2, ccc, 1000);
	fx_deposit(f, 2, B, 1000);
	fx_deposit(f, 1, Q, 100000);
	fx_limit(f, 2, s2, CORE_SELL, 10, 500, CORE_GTC);
	fx_limit(f, 1, S, CORE_BUY, 10, 990, CORE_GTC);
	fx_limit(f, 1, S, CORE_BUY, 10, 1000, CORE_GTC);
	fx_limit(f, 1, S, CORE_BUY, 10, 990, CORE_GTC);
	fx_limit(f, 2, S, CORE_SELL, 10, 1020, CORE_GTC);
	fx_limit(f, 2, S, CORE_SELL, 10, 1010, CORE_GTC);
	fx_limit(f, 2, S, CORE_SELL, 10, 1010, CORE_GTC);

	w = fx_walk_take(f);
	CHECK_EQ(w->na, 3);
	CHECK_EQ(w->ns, 2);
	for (int i = 0; i < w->na && i < 3; i++)
		CHECK_EQ(w->a[i].id, i + 1);
	CHECK_EQ(w->s[0].id, 1);
	CHECK_EQ(w->s[1].id, 2);
	CHECK_EQ(w->nb, 8);
	for (int i = 0; i < w->nb && i < 8; i++)
	{
		CHECK_EQ(w->b[i].user_id, want_bal_user[i]);
		CHECK_EQ(w->b[i].asset, want_bal_asset[i]);
	}
	CHECK_EQ(w->no, 7);
	for (int i = 0; i < w->no && i < 7; i++)
		CHECK_EQ(w->o[i].order_id, want_orders[i]);
	/* kinds come in blocks: counters, assets, symbols, balances, orders */
	CHECK_EQ(w->nseq, 1 + 3 + 2 + 8 + 7);
	CHECK_EQ(w->seq[0], 0);
	for (int i = 1; i < w->nseq; i++)
		CHECK(w->seq[i] >= w->seq[i - 1]);
	CHECK_EQ(w->k.orders, 7);
	CHECK_EQ(w->k.next_order_id, 8);
	CHECK_EQ(w->k.accounts, 3);
	CHECK_EQ(w->k.balances, 8);
	fx_walk_free(w);
	fx_free(f);
}

/* ----------------------------------------------------- restore refuses */

static core_limits
lim_of(fx *f)
{
	return core_get_limits(f->c);
}

TEST(digest_restore_refuses_balance_of_unknown_asset)
{
	fx		   *f = rich();
	fx_walk    *w = fx_walk_take(f);
	core_limits l = lim_of(f);
	const char *err = NULL;
	fx		   *g;

	w->b[w->nb - 1].asset = 99;
	g = fx_walk_restore(w, &l, &err);
	CHECK(g == NULL);
	CHECK(err != NULL);
	fx_free(g);
	fx_walk_free(w);
	fx_free(f);
}

TEST(digest_restore_refuses_order_of_unknown_symbol)
{
	fx		   *f = rich();
	fx_walk    *w = fx_walk_take(f);
	core_limits l = lim_of(f);
	const char *err = NULL;
	fx		   *g;

	w->o[0].symbol = 9;
	g = fx_walk_restore(w, &l, &err);
	CHECK(g == NULL);
	CHECK(err != NULL);
	fx_free(g);
	fx_walk_free(w);
	fx_free(f);
}

TEST(digest_restore_refuses_assets_out_of_order)
{
	fx		   *f = rich();
	fx_walk    *w = fx_walk_take(f);
	core_limits l = lim_of(f);
	const char *err = NULL;
	core_asset_info t = w->a[0];
	fx		   *g;

	w->a[0] = w->a[1];
	w->a[1] = t;
	g = fx_walk_restore(w, &l, &err);
	CHECK(g == NULL);
	CHECK(err != NULL);
	fx_free(g);
	fx_walk_free(w);
	fx_free(f);
}

TEST(digest_restore_refuses_when_order_pool_too_small)
{
	fx		   *f = rich();
	fx_walk    *w = fx_walk_take(f);
	core_limits l = lim_of(f);
	const char *err = NULL;
	fx		   *g;

	l.max_orders = (uint32_t) w->no - 1;
	g = fx_walk_restore(w, &l, &err);
	CHECK(g == NULL);
	CHECK(err != NULL);
	fx_free(g);
	fx_walk_free(w);
	fx_free(f);
}

/* ----------------------------------------------------------- verify */

typedef struct check_log
{
	int			n;
	int			failed;
	const char *names[64];
	bool		detail_ok;
} check_log;

static void
log_check(void *ctx, const char *check, bool ok, const char *detail)
{
	check_log  *l = ctx;

	if (l->n < 64)
		l->names[l->n] = check;
	l->n++;
	if (!ok)
	{
		l->failed++;
		if (detail == NULL || detail[0] == '\0')
			l->detail_ok = false;
	}
	else if (detail != NULL)
		l->detail_ok = false;
}

TEST(verify_reports_each_check_once_in_fixed_order)
{
	fx		   *f = rich();
	check_log	a = {.detail_ok = true},
				b = {.detail_ok = true};

	CHECK(core_verify(f->c, log_check, &a));
	CHECK(core_verify(f->c, log_check, &b));
	CHECK(a.n >= 5);
	CHECK_EQ(a.failed, 0);
	CHECK(a.detail_ok);
	CHECK_EQ(a.n, b.n);
	for (int i = 0; i < a.n && i < 64; i++)
	{
		CHECK(a.names[i] != NULL);
		CHECK_STR(a.names[i], b.names[i]);
	}
	CHECK(core_verify(f->c, NULL, NULL));
	fx_free(f);
}

/*
 * A walk altered before restore gives a state that breaks an invariant:
 * restore must refuse it or verify must fail (and say where).
 */
static void
check_broken_is_caught(fx_walk *w, const core_limits *l, const char *what)
{
	const char *err = NULL;
	fx		   *g = fx_walk_restore(w, l, &err);

	if (g != NULL)
	{
		check_log	log = {.detail_ok = true};
		bool		ok = core_verify(g->c, log_check, &log);

		if (ok)
			test_fail(__FILE__, __LINE__, "verify passed a state with %s", what);
		CHECK(log.failed > 0);
		CHECK(log.detail_ok);
	}
	fx_free(g);
}

static int
find_balance(fx_walk *w, int64_t user, uint32_t asset)
{
	for (int i = 0; i < w->nb; i++)
		if (w->b[i].user_id == user && w->b[i].asset == asset)
			return i;
	return -1;
}

TEST(verify_catches_broken_conservation)
{
	fx		   *f = rich();
	core_limits l = lim_of(f);
	fx_walk    *w = fx_walk_take(f);
	int			i = find_balance(w, 3, Q);

	CHECK(i >= 0);
	if (i >= 0)
	{
		w->b[i].available += 1;
		check_broken_is_caught(w, &l, "one unit too many");
	}
	fx_walk_free(w);
	fx_free(f);
}

TEST(verify_catches_frozen_not_matching_locks)
{
	fx		   *f = rich();
	core_limits l = lim_of(f);
	fx_walk    *w = fx_walk_take(f);
	int			i = -1;

	/* a user with a resting buy: move one unit from available to frozen */
	for (int k = 0; k < w->no && i < 0; k++)
		if (w->o[k].side == CORE_BUY && w->o[k].symbol == S)
			i = find_balance(w, w->o[k].user_id, Q);
	CHECK(i >= 0);
	if (i >= 0)
	{
		w->b[i].available -= 1;
		w->b[i].frozen += 1;
		check_broken_is_caught(w, &l, "frozen above the locks");
	}
	fx_walk_free(w);
	fx_free(f);
}

TEST(verify_catches_order_lock_not_matching_remaining)
{
	fx		   *f = rich();
	core_limits l = lim_of(f);
	fx_walk    *w = fx_walk_take(f);
	int			k = -1,
				i = -1;

	for (int j = 0; j < w->no && k < 0; j++)
		if (w->o[j].side == CORE_BUY && w->o[j].symbol == S)
			k = j;
	if (k >= 0)
		i = find_balance(w, w->o[k].user_id, Q);
	CHECK(k >= 0 && i >= 0);
	if (k >= 0 && i >= 0)
	{
		/* frozen still equals the sum of locks, but this lock is one too big */
		w->o[k].locked += 1;
		w->b[i].available -= 1;
		w->b[i].frozen += 1;
		check_broken_is_caught(w, &l, "a lock above what the remainder needs");
	}
	fx_walk_free(w);
	fx_free(f);
}

TEST(verify_catches_crossed_book)
{
	fx		   *f = fx_simple(0, 0);
	core_limits l = lim_of(f);
	fx_walk    *w;

	fx_deposit(f, 1, Q, 10000);
	fx_deposit(f, 2, B, 100);
	fx_limit(f, 1, S, CORE_BUY, 100, 1000, CORE_GTC);
	fx_limit(f, 2, S, CORE_SELL, 100, 1010, CORE_GTC);
	w = fx_walk_take(f);
	CHECK_EQ(w->no, 2);
	CHECK_EQ(w->o[1].side, CORE_SELL);
	w->o[1].price = 1000;		/* a sell's lock does not depend on its price */
	check_broken_is_caught(w, &l, "a crossed book");
	fx_walk_free(w);
	fx_free(f);
}

TEST(verify_catches_negative_balance)
{
	fx		   *f = rich();
	core_limits l = lim_of(f);
	fx_walk    *w = fx_walk_take(f);
	int			i = find_balance(w, 2, B);
	int			j = find_balance(w, 4, B);

	CHECK(i >= 0 && j >= 0);
	if (i >= 0 && j >= 0)
	{
		/* conservation kept, but one balance goes below zero */
		int64_t		d = w->b[i].available + 1;

		w->b[i].available -= d;
		w->b[j].available += d;
		check_broken_is_caught(w, &l, "a negative balance");
	}
	fx_walk_free(w);
	fx_free(f);
}
