/*
 * test_restore.c — the batch restore (core_restore_balances,
 * core_restore_orders) and the digest it computes from the items: the same
 * state as the item-by-item checked restore, whatever the batch sizes; the
 * same refusal, at the same item, for every reason; capacities exact at the
 * limit; and a digest from the items that equals core_state_digest, or
 * falls back to it when the items are not in walk order.
 */
#include <stdlib.h>

#include "fixture.h"

#define B FX_BASE
#define Q FX_QUOTE
#define S FX_SYM
#define USERS 40

static core_limits
roomy(void)
{
	core_limits l = {
		.max_assets = 8, .max_symbols = 8, .max_accounts = 64,
		.max_balances = 256, .max_orders = 512,
	};

	return l;
}

/*
 * Two symbols, USERS users funded in every asset (user 0, the fee account,
 * earns fees), a few hundred resting orders over many levels with several
 * orders per level, fills, cancels (so that slots are reused and ids do not
 * follow slots) and amends; order ids in book order are far from sorted.
 */
static fx *
market(void)
{
	core_limits l = roomy();
	fx		   *f = fx_new_limits(&l);
	uint32_t	c3;
	uint32_t	s2;
	uint64_t	r = 12345;

	CHECK_EQ(fx_asset(f, "AAA", 2), B);
	CHECK_EQ(fx_asset(f, "QQQ", 2), Q);
	c3 = fx_asset(f, "CCC", 4);
	CHECK_EQ(fx_symbol(f, "AAA_QQQ", B, Q, 1, 1, 0, 1000, 2000), S);
	s2 = fx_symbol(f, "CCC_QQQ", c3, Q, 5, 10, 0, 0, 500);
	for (int u = 1; u <= USERS; u++)
	{
		fx_deposit(f, u, Q, 100000000 + u);
		fx_deposit(f, u, B, 5000000 + u);
		if (u % 3)
			fx_deposit(f, u, c3, 77770000 + u);
	}
	for (int i = 0; i < 400; i++)
	{
		int64_t		u = 1 + (int64_t) ((r = r * 6364136223846793005u + 1442695040888963407u) >> 33) % USERS;
		int			side = (int) (r >> 20) & 1;
		int64_t		off = (int64_t) (r >> 40) % 25;

		if (i % 7 == 3)
			fx_cancel(f, u, 1 + (int64_t) (r >> 13) % (i + 1));
		else if (i % 5 == 0 && u % 3)
			fx_limit(f, u, s2, (core_side) side, 10 * (1 + off),
					 side == CORE_BUY ? 500 - 5 * off : 505 + 5 * off, CORE_GTC);
		else
			fx_limit(f, u, S, (core_side) side, 1 + off * 3,
					 side == CORE_BUY ? 1000 - off : 1001 + off + (i % 11 == 0 ? -3 : 0), CORE_GTC);
		if (i % 13 == 0)
			fx_amend(f, u, 1 + (int64_t) (r >> 17) % (i + 1), 2, 0);
	}
	CHECK(core_get_counters(f->c).orders > 200);
	CHECK(fx_verify(f));
	return f;
}

/*
 * Restore w in batches of at most batch items with the digest computed on
 * the way.  NULL and *err, *done (items of the refused call restored before
 * the refusal, counted from its first) when a step refuses.
 */
static fx *
restore_batches(const fx_walk *w, const core_limits *lim, size_t batch, const char **err,
				size_t *done, core_digest *digest, bool *canonical)
{
	fx		   *g = fx_new_limits(lim);
	core_restore_check rc;
	core_restore_digest dg;
	void	   *scratch = malloc(core_restore_check_size(lim));
	const char *e = NULL;

	*done = 0;
	for (int i = 0; !e && i < w->na; i++)
		e = core_restore_asset(g->c, &w->a[i]);
	for (int i = 0; !e && i < w->ns; i++)
		e = core_restore_symbol(g->c, &w->s[i]);
	core_restore_digest_begin(g->c, &dg, &w->k);
	for (size_t i = 0; !e && i < (size_t) w->nb; i += batch)
		e = core_restore_balances(g->c, &dg, &w->b[i],
								  i + batch <= (size_t) w->nb ? batch : (size_t) w->nb - i, done);
	if (!e)
		core_restore_check_begin(g->c, &rc, scratch);
	for (size_t i = 0; !e && i < (size_t) w->no; i += batch)
		e = core_restore_orders(g->c, &rc, &dg, &w->o[i],
								i + batch <= (size_t) w->no ? batch : (size_t) w->no - i, done);
	if (!e)
		e = core_restore_check_finish(g->c, &rc);
	free(scratch);
	if (!e)
		e = core_restore_finish(g->c, &w->k);
	*err = e;
	if (e)
	{
		fx_free(g);
		return NULL;
	}
	*digest = core_restore_digest_end(g->c, &dg);
	*canonical = dg.canonical;
	return g;
}

/* The item-by-item checked restore (format 1's path). */
static fx *
restore_items(const fx_walk *w, const core_limits *lim, const char **err)
{
	fx		   *g = fx_new_limits(lim);
	core_restore_check rc;
	void	   *scratch = malloc(core_restore_check_size(lim));
	const char *e = NULL;

	for (int i = 0; !e && i < w->na; i++)
		e = core_restore_asset(g->c, &w->a[i]);
	for (int i = 0; !e && i < w->ns; i++)
		e = core_restore_symbol(g->c, &w->s[i]);
	for (int i = 0; !e && i < w->nb; i++)
		e = core_restore_balance(g->c, &w->b[i]);
	if (!e)
		core_restore_check_begin(g->c, &rc, scratch);
	for (int i = 0; !e && i < w->no; i++)
		e = core_restore_order_checked(g->c, &rc, &w->o[i]);
	if (!e)
		e = core_restore_check_finish(g->c, &rc);
	free(scratch);
	if (!e)
		e = core_restore_finish(g->c, &w->k);
	*err = e;
	if (e)
	{
		fx_free(g);
		return NULL;
	}
	return g;
}

typedef struct ids
{
	int64_t		id[FX_MAX_ORDERS];
	int			n;
} ids;

static bool
collect(void *ctx, const core_order_info *o)
{
	ids		   *x = ctx;

	if (x->n < FX_MAX_ORDERS)
		x->id[x->n] = o->order_id;
	x->n++;
	return true;
}

/* Same walk, same digest, same open orders of every user in the same order. */
static void
check_same(fx *a, fx *b)
{
	fx_walk    *x = fx_walk_take(a);
	fx_walk    *y = fx_walk_take(b);
	char		ha[33],
				hb[33];

	CHECK_STR(fx_digest(a, ha), fx_digest(b, hb));
	CHECK_EQ(x->nb, y->nb);
	CHECK_EQ(x->no, y->no);
	CHECK(memcmp(&x->k, &y->k, sizeof(x->k)) == 0);
	for (int i = 0; i < x->nb && i < y->nb; i++)
		CHECK(memcmp(&x->b[i], &y->b[i], sizeof(x->b[i])) == 0);
	for (int i = 0; i < x->no && i < y->no; i++)
		CHECK(memcmp(&x->o[i], &y->o[i], sizeof(x->o[i])) == 0);
	for (int u = 0; u <= USERS; u++)
	{
		ids			p,
					q;

		memset(&p, 0, sizeof(p));
		memset(&q, 0, sizeof(q));
		core_user_orders(a->c, u, 0, collect, &p);
		core_user_orders(b->c, u, 0, collect, &q);
		CHECK_EQ(p.n, q.n);
		CHECK(memcmp(p.id, q.id, sizeof(p.id)) == 0);
		for (int i = 1; i < p.n && i < FX_MAX_ORDERS; i++)
			CHECK(p.id[i - 1] < p.id[i]);
	}
	CHECK(fx_verify(b));
	fx_walk_free(x);
	fx_walk_free(y);
}

TEST(restore_batch_same_state_as_item_by_item_at_every_batch_size)
{
	fx		   *f = market();
	fx_walk    *w = fx_walk_take(f);
	core_limits l = roomy();
	const char *err = NULL;
	fx		   *items = restore_items(w, &l, &err);
	static const size_t sizes[] = {1, 2, 3, 7, 8, 9, 64, 1000};

	CHECK(items != NULL);
	CHECK(err == NULL);
	check_same(f, items);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
	{
		core_digest d;
		bool		canonical = false;
		size_t		done;
		fx		   *g = restore_batches(w, &l, sizes[k], &err, &done, &d, &canonical);
		char		hd[33],
					hf[33];

		CHECK(g != NULL);
		if (g == NULL)
			continue;
		check_same(items, g);
		CHECK(canonical);
		core_digest_hex(d, hd);
		CHECK_STR(hd, fx_digest(f, hf));
		/* the restored engine trades like the original (a fresh one each time) */
		{
			fx		   *o = market();
			core_result ra = fx_limit(g, 1, S, CORE_BUY, 500, 1030, CORE_GTC);
			core_result rb = fx_limit(o, 1, S, CORE_BUY, 500, 1030, CORE_GTC);

			CHECK_EQ(ra.status, rb.status);
			CHECK_EQ(ra.trades, rb.trades);
			ra = fx_cancel_all(g, 2, 0);
			rb = fx_cancel_all(o, 2, 0);
			CHECK_EQ(ra.status, rb.status);
			CHECK_STR(fx_digest(g, hd), fx_digest(o, hf));
			fx_free(o);
		}
		fx_free(g);
	}
	fx_free(items);
	fx_walk_free(w);
	fx_free(f);
}

/*
 * The refusal of a broken walk: the batch restore and the item-by-item
 * one refuse with the same text, the batch at item at (of its kind) when
 * given them all at once.
 */
static void
check_refusal(const fx_walk *w, const core_limits *l, const char *want, size_t at)
{
	const char *err = NULL;
	size_t		done = 99999;
	core_digest d;
	bool		canonical;
	fx		   *g = restore_items(w, l, &err);

	CHECK(g == NULL);
	CHECK(err != NULL);
	if (err)
		CHECK_STR(err, want);
	fx_free(g);
	g = restore_batches(w, l, 100000, &err, &done, &d, &canonical);
	CHECK(g == NULL);
	CHECK(err != NULL);
	if (err)
		CHECK_STR(err, want);
	CHECK_EQ(done, at);
	fx_free(g);
}

/* An order in the middle of the walk. */
static int
some_order(const fx_walk *w)
{
	return w->no / 2;
}

TEST(restore_batch_refuses_balance_of_unknown_asset)
{
	fx		   *f = market();
	fx_walk    *w = fx_walk_take(f);
	core_limits l = roomy();

	w->b[w->nb - 3].asset = 99;
	check_refusal(w, &l, "balance refers to an unknown asset or a negative user id", (size_t) w->nb - 3);
	w->b[w->nb - 3].asset = B;
	w->b[w->nb - 3].user_id = -4;
	check_refusal(w, &l, "balance refers to an unknown asset or a negative user id", (size_t) w->nb - 3);
	fx_walk_free(w);
	fx_free(f);
}

TEST(restore_batch_refuses_negative_balance)
{
	fx		   *f = market();
	fx_walk    *w = fx_walk_take(f);
	core_limits l = roomy();

	w->b[7].available = -1;
	check_refusal(w, &l, "balance is negative", 7);
	fx_walk_free(w);
	fx_free(f);
}

TEST(restore_batch_refuses_order_of_unknown_user_or_symbol)
{
	fx		   *f = market();
	fx_walk    *w = fx_walk_take(f);
	core_limits l = roomy();
	int			i = some_order(w);
	core_order_info keep = w->o[i];

	w->o[i].user_id = 777;
	check_refusal(w, &l, "order refers to an unknown symbol or user", (size_t) i);
	w->o[i] = keep;
	w->o[i].user_id = 0;		/* the fee account never trades */
	check_refusal(w, &l, "order refers to an unknown symbol or user", (size_t) i);
	w->o[i] = keep;
	w->o[i].symbol = 9;
	check_refusal(w, &l, "order refers to an unknown symbol or user", (size_t) i);
	fx_walk_free(w);
	fx_free(f);
}

TEST(restore_batch_refuses_order_of_user_without_rows)
{
	fx		   *f = market();
	fx_walk    *w = fx_walk_take(f);
	core_limits l = roomy();
	int			i;

	/* user 3 has no CCC row (3 % 3 == 0): give it an order on CCC_QQQ */
	for (i = 0; i < w->no && w->o[i].symbol != 2; i++)
		;
	CHECK(i < w->no);
	w->o[i].user_id = 3;
	check_refusal(w, &l, "order's user has no balance rows for the symbol", (size_t) i);
	fx_walk_free(w);
	fx_free(f);
}

TEST(restore_batch_refuses_repeated_or_invalid_order_id)
{
	fx		   *f = market();
	fx_walk    *w = fx_walk_take(f);
	core_limits l = roomy();
	int			i = some_order(w);
	int64_t		keep = w->o[i].order_id;

	w->o[i].order_id = w->o[3].order_id;
	check_refusal(w, &l, "order id is invalid or repeated", (size_t) i);
	w->o[i].order_id = 0;
	check_refusal(w, &l, "order id is invalid or repeated", (size_t) i);
	w->o[i].order_id = keep;
	fx_walk_free(w);
	fx_free(f);
}

TEST(restore_batch_refuses_order_fields_out_of_range)
{
	fx		   *f = market();
	fx_walk    *w = fx_walk_take(f);
	core_limits l = roomy();
	int			i = some_order(w);

	w->o[i].remaining_qty = 0;
	check_refusal(w, &l, "order fields out of range", (size_t) i);
	fx_walk_free(w);
	fx_free(f);
}

TEST(restore_batch_refuses_wrong_lock)
{
	fx		   *f = market();
	fx_walk    *w = fx_walk_take(f);
	core_limits l = roomy();
	int			i = some_order(w);

	w->o[i].locked += 1;
	check_refusal(w, &l, "order_locks: an order's lock differs from what its remainder needs",
				  (size_t) i);
	fx_walk_free(w);
	fx_free(f);
}

TEST(restore_batch_refuses_orders_out_of_book_order)
{
	fx		   *f = market();
	fx_walk    *w = fx_walk_take(f);
	core_limits l = roomy();
	int			i;
	core_order_info t;

	/* two neighbours at different prices of one side, swapped */
	for (i = 1; i < w->no; i++)
		if (w->o[i].symbol == w->o[i - 1].symbol && w->o[i].side == w->o[i - 1].side &&
			w->o[i].price != w->o[i - 1].price)
			break;
	CHECK(i < w->no);
	t = w->o[i];
	w->o[i] = w->o[i - 1];
	w->o[i - 1] = t;
	check_refusal(w, &l, "queues_fifo: orders are not in book order (symbol, side, best level first, queue order)",
				  (size_t) i);
	fx_walk_free(w);
	fx_free(f);
}

TEST(restore_batch_refuses_frozen_not_equal_to_locks_at_finish)
{
	fx		   *f = market();
	fx_walk    *w = fx_walk_take(f);
	core_limits l = roomy();
	int			i;

	for (i = 0; i < w->nb && w->b[i].frozen == 0; i++)
		;
	CHECK(i < w->nb);
	w->b[i].frozen -= 1;
	w->b[i].available += 1;
	/* every order restores: the finish refuses */
	check_refusal(w, &l, "frozen_equals_locks: a frozen balance differs from the locks of its resting orders",
				  (size_t) w->no);
	w->b[i].frozen += 2;
	check_refusal(w, &l, "frozen_equals_locks: a frozen balance differs from the locks of its resting orders",
				  (size_t) w->no);
	fx_walk_free(w);
	fx_free(f);
}

TEST(restore_batch_capacity_exact_pools_restore_one_less_refuses)
{
	fx		   *f = market();
	fx_walk    *w = fx_walk_take(f);
	core_limits exact = roomy();
	core_limits l;
	const char *err = NULL;
	size_t		done;
	core_digest d;
	bool		canonical = false;
	fx		   *g;
	char		hd[33],
				hf[33];

	exact.max_orders = w->k.orders;
	exact.max_accounts = w->k.accounts;
	exact.max_balances = w->k.balances;
	g = restore_batches(w, &exact, 64, &err, &done, &d, &canonical);
	CHECK(g != NULL);
	CHECK(err == NULL);
	CHECK(canonical);
	core_digest_hex(d, hd);
	CHECK_STR(hd, fx_digest(f, hf));
	fx_free(g);

	l = exact;
	l.max_orders--;
	check_refusal(w, &l, "capacity: too many orders", (size_t) w->no - 1);
	l = exact;
	l.max_accounts--;
	/* the last account's first row is where it fails */
	for (done = (size_t) w->nb; done > 0 && w->b[done - 1].user_id == w->b[w->nb - 1].user_id; done--)
		;
	check_refusal(w, &l, "capacity: too many accounts", done);
	l = exact;
	l.max_balances--;
	check_refusal(w, &l, "capacity: too many balances", (size_t) w->nb - 1);
	fx_walk_free(w);
	fx_free(f);
}

/*
 * Balances out of walk order (a user's rows apart, or not by asset) still
 * restore; the digest is then not the items' chain but core_state_digest
 * of the restored state, which differs from the original's when the order
 * of accounts changed.
 */
TEST(restore_batch_digest_falls_back_when_balances_are_not_in_walk_order)
{
	fx		   *f = market();
	fx_walk    *w = fx_walk_take(f);
	core_limits l = roomy();
	const char *err = NULL;
	size_t		done;
	core_digest d;
	bool		canonical = true;
	fx		   *g;
	int			i;
	core_balance_info t;
	char		hd[33],
				hg[33],
				hf[33];

	/* the two rows of one user (after the fee account's), swapped */
	for (i = 1; i < w->nb; i++)
		if (w->b[i].user_id != 0 && w->b[i].user_id == w->b[i - 1].user_id)
			break;
	t = w->b[i];
	w->b[i] = w->b[i - 1];
	w->b[i - 1] = t;
	g = restore_batches(w, &l, 16, &err, &done, &d, &canonical);
	CHECK(g != NULL);
	CHECK(!canonical);
	core_digest_hex(d, hd);
	CHECK_STR(hd, fx_digest(g, hg));
	CHECK_STR(hd, fx_digest(f, hf));	/* same state: rows are kept by asset */
	fx_free(g);
	w->b[i - 1] = w->b[i];
	w->b[i] = t;

	/* a user 0 row after other users' rows */
	t = w->b[0];
	CHECK_EQ(t.user_id, 0);
	memmove(&w->b[0], &w->b[1], sizeof(t) * (size_t) (w->nb - 1));
	w->b[w->nb - 1] = t;
	g = restore_batches(w, &l, 16, &err, &done, &d, &canonical);
	CHECK(g != NULL);
	CHECK(!canonical);
	core_digest_hex(d, hd);
	CHECK_STR(hd, fx_digest(g, hg));
	CHECK_STR(hd, fx_digest(f, hf));
	fx_free(g);
	fx_walk_free(w);
	fx_free(f);
}

/* A digest begun with other counters than the restore finished with is not the chain's. */
TEST(restore_batch_digest_falls_back_when_counters_differ)
{
	fx		   *f = market();
	fx_walk    *w = fx_walk_take(f);
	core_limits l = roomy();
	core_restore_digest dg;
	core_restore_check rc;
	core_counters k = w->k;
	void	   *scratch = malloc(core_restore_check_size(&l));
	fx		   *g = fx_new_limits(&l);
	char		hd[33],
				hg[33];

	k.seq++;
	for (int i = 0; i < w->na; i++)
		CHECK(core_restore_asset(g->c, &w->a[i]) == NULL);
	for (int i = 0; i < w->ns; i++)
		CHECK(core_restore_symbol(g->c, &w->s[i]) == NULL);
	core_restore_digest_begin(g->c, &dg, &k);
	CHECK(core_restore_balances(g->c, &dg, w->b, (size_t) w->nb, NULL) == NULL);
	core_restore_check_begin(g->c, &rc, scratch);
	CHECK(core_restore_orders(g->c, &rc, &dg, w->o, (size_t) w->no, NULL) == NULL);
	CHECK(core_restore_check_finish(g->c, &rc) == NULL);
	CHECK(core_restore_finish(g->c, &w->k) == NULL);
	core_digest_hex(core_restore_digest_end(g->c, &dg), hd);
	CHECK(!dg.canonical);
	CHECK_STR(hd, fx_digest(g, hg));
	free(scratch);
	fx_free(g);
	fx_walk_free(w);
	fx_free(f);
}

/*
 * Order ids far apart (a sort key of account, id and position would not
 * fit 64 bits): the finish links each order by walking its user's list,
 * to the same lists as the plain restore makes.
 */
TEST(restore_links_orders_in_id_order_when_ids_span_64_bits)
{
	fx		   *f = market();
	fx_walk    *w = fx_walk_take(f);
	core_limits l = roomy();
	const char *err = NULL;
	size_t		done;
	core_digest d;
	bool		canonical;
	fx		   *plain,
			   *batch;

	for (int i = 0; i < w->no; i += 3)
		w->o[i].order_id += INT64_C(1) << 62;
	plain = fx_walk_restore(w, &l, &err);
	CHECK(plain != NULL);
	batch = restore_batches(w, &l, 32, &err, &done, &d, &canonical);
	CHECK(batch != NULL);
	if (plain && batch)
		check_same(plain, batch);
	fx_free(plain);
	fx_free(batch);
	fx_walk_free(w);
	fx_free(f);
}
