/*
 * test_image.c — what recovery and snapshots of format 2 use from the core:
 * core_copy (a second engine in the same state), the item codec, the
 * checked restore, and the partial checks core_verify_global and
 * core_verify_accounts.
 */
#include <stdlib.h>

#include "fixture.h"

#define B FX_BASE
#define Q FX_QUOTE
#define S FX_SYM

/* Two symbols, a few users, several levels and queues, fills, a cancel
 * whose slot is reused, a requeued amend, a halted symbol. */
static fx *
busy(void)
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
	for (int i = 0; i < 6; i++)
	{
		fx_limit(f, 1 + i % 6, S, CORE_BUY, 100 + 10 * i, 990 - i % 3 * 5, CORE_GTC);
		fx_limit(f, 2 + i % 5, S, CORE_SELL, 90 + 7 * i, 1010 + i % 3 * 5, CORE_GTC);
	}
	fx_limit(f, 1, s2, CORE_SELL, 1000, 500, CORE_GTC);
	fx_limit(f, 3, s2, CORE_SELL, 2000, 505, CORE_GTC);
	fx_limit(f, 5, s2, CORE_BUY, 500, 495, CORE_GTC);
	fx_limit(f, 2, s2, CORE_BUY, 510, 505, CORE_GTC);
	fx_limit(f, 4, S, CORE_BUY, 150, 1010, CORE_GTC);
	fx_cancel(f, 1, 1);
	fx_limit(f, 6, S, CORE_BUY, 33, 985, CORE_GTC);
	fx_amend(f, 2, 3, 200, 0);
	fx_set_status(f, s2, CORE_HALTED);
	CHECK(core_get_counters(f->c).orders >= 12);
	FX_VERIFY(f);
	return f;
}

/* A zeroed fx of the same limits whose arena holds garbage. */
static fx *
garbage_like(fx *f)
{
	fx		   *g = calloc(1, sizeof(*g));

	g->size = f->size;
	g->mem = aligned_alloc(CORE_ARENA_ALIGN, g->size);
	memset(g->mem, 0x5A, g->size);
	return g;
}

/* ------------------------------------------------------------- core_copy */

TEST(copy_is_the_same_state_with_the_same_future)
{
	fx		   *f = busy();
	fx		   *g = garbage_like(f);
	char		hf[33],
				hg[33];

	g->c = core_copy(g->mem, g->size, f->c);
	CHECK(g->c == g->mem);
	g->ts = f->ts;
	CHECK_STR(fx_digest(g, hg), fx_digest(f, hf));
	FX_VERIFY(g);
	/* the same commands give the same outcomes and states */
	for (int i = 0; i < 8; i++)
	{
		core_result a = fx_limit(f, 1 + i % 6, S, i % 2 ? CORE_SELL : CORE_BUY, 40 + i, 995 + i * 3, CORE_GTC);
		core_result b = fx_limit(g, 1 + i % 6, S, i % 2 ? CORE_SELL : CORE_BUY, 40 + i, 995 + i * 3, CORE_GTC);

		CHECK_EQ(a.status, b.status);
		CHECK_EQ(a.order_id, b.order_id);
		CHECK_EQ(a.filled_qty, b.filled_qty);
		CHECK_EQ(a.trades, b.trades);
	}
	CHECK_STR(fx_digest(g, hg), fx_digest(f, hf));
	FX_VERIFY(g);
	fx_free(f);
	fx_free(g);
}

TEST(copy_shares_nothing_with_its_source)
{
	fx		   *f = busy();
	fx		   *g = garbage_like(f);
	char		before[33],
				hf[33],
				hg[33];

	g->c = core_copy(g->mem, g->size, f->c);
	fx_digest(f, before);
	fx_deposit(g, 1, Q, 5);
	fx_limit(g, 2, S, CORE_SELL, 10, 980, CORE_GTC);
	CHECK_STR(fx_digest(f, hf), before);
	CHECK(strcmp(fx_digest(g, hg), before) != 0);
	FX_VERIFY(f);
	FX_VERIFY(g);
	fx_free(f);
	fx_free(g);
}

TEST(copy_skips_never_used_slots_only)
{
	core_limits l = fx_default_limits();
	fx		   *f,
			   *e,
			   *g;
	size_t		used,
				empty;
	char		hf[33],
				hg[33];

	l.max_orders = 100000;		/* pools far larger than the state */
	l.max_accounts = 10000;
	l.max_balances = 40000;
	f = fx_new_limits(&l);
	e = fx_new_limits(&l);
	empty = core_used_bytes(e->c);
	/*
	 * An empty engine still copies the order id hash (1 MB here) and the
	 * account and balance tables (open addressing, copied whole: 3.2 MB),
	 * about 14 % of the arena; the order, level and page pools (the rest)
	 * are skipped.
	 */
	CHECK(empty < f->size / 5);
	fx_asset(f, "AAA", 2);
	fx_asset(f, "QQQ", 2);
	fx_symbol(f, "AAA_QQQ", B, Q, 1, 1, 0, 0, 0);
	fx_deposit(f, 1, Q, 100000);
	used = core_used_bytes(f->c);
	CHECK(used > empty);
	fx_limit(f, 1, S, CORE_BUY, 10, 900, CORE_GTC);
	CHECK(core_used_bytes(f->c) > used);
	/* a copy over garbage is still the same state */
	g = garbage_like(f);
	g->c = core_copy(g->mem, g->size, f->c);
	CHECK_STR(fx_digest(g, hg), fx_digest(f, hf));
	FX_VERIFY(g);
	fx_free(f);
	fx_free(e);
	fx_free(g);
}

TEST(copy_refuses_small_or_misaligned_memory)
{
	fx		   *f = busy();
	char	   *mem = aligned_alloc(CORE_ARENA_ALIGN, f->size + CORE_ARENA_ALIGN);

	CHECK(core_copy(NULL, f->size, f->c) == NULL);
	CHECK(core_copy(mem, f->size - 1, f->c) == NULL);
	CHECK(core_copy(mem + 8, f->size, f->c) == NULL);
	CHECK(core_copy(mem, f->size, f->c) == (core_engine *) mem);
	free(mem);
	fx_free(f);
}

/* ------------------------------------------------------------ item codec */

static void
roundtrip_item(const core_item *in, size_t want_len)
{
	uint8_t		buf[CORE_ITEM_MAX_BYTES + 8];
	core_item	out;
	size_t		n = core_item_encode(in, buf);

	CHECK_EQ(n, want_len);
	CHECK(n <= CORE_ITEM_MAX_BYTES);
	CHECK_EQ(core_item_decode(in->kind, buf, n, &out), n);
	CHECK(memcmp(&out, in, sizeof(out)) == 0);
	/* every truncation is refused */
	for (size_t k = 0; k < n; k++)
		CHECK_EQ(core_item_decode(in->kind, buf, k, &out), 0);
	/* trailing bytes are not taken */
	memset(buf + n, 7, 8);
	CHECK_EQ(core_item_decode(in->kind, buf, n + 8, &out), n);
}

TEST(items_roundtrip_at_their_largest)
{
	core_item	it;

	memset(&it, 0, sizeof(it));
	it.kind = CORE_ITEM_ASSET;
	it.u.asset.id = 0xfffffffe;
	memset(it.u.asset.code, 'Z', CORE_ASSET_CODE_MAX);
	it.u.asset.decimals = CORE_MAX_DECIMALS;
	it.u.asset.supply = INT64_MAX;
	roundtrip_item(&it, 4 + 1 + 8 + 1 + CORE_ASSET_CODE_MAX);

	memset(&it, 0, sizeof(it));
	it.kind = CORE_ITEM_SYMBOL;
	it.u.symbol.id = 7;
	memset(it.u.symbol.name, 'y', CORE_SYMBOL_NAME_MAX);
	it.u.symbol.base_asset = 1;
	it.u.symbol.quote_asset = 2;
	it.u.symbol.tick_size = INT64_MAX;
	it.u.symbol.lot_size = 3;
	it.u.symbol.min_qty = 4;
	it.u.symbol.maker_fee_ppm = 999999;
	it.u.symbol.taker_fee_ppm = -1;
	it.u.symbol.status = CORE_HALTED;
	it.u.symbol.min_notional = INT64_MIN;
	roundtrip_item(&it, 4 * 3 + 8 * 3 + 4 * 2 + 1 + 8 + 1 + CORE_SYMBOL_NAME_MAX);

	memset(&it, 0, sizeof(it));
	it.kind = CORE_ITEM_BALANCE;
	it.u.balance.user_id = INT64_MAX;
	it.u.balance.asset = 3;
	it.u.balance.available = INT64_MAX;
	it.u.balance.frozen = 1;
	roundtrip_item(&it, 28);

	memset(&it, 0, sizeof(it));
	it.kind = CORE_ITEM_ORDER;
	it.u.order.order_id = INT64_MAX;
	it.u.order.user_id = 42;
	it.u.order.symbol = 2;
	it.u.order.side = CORE_SELL;
	it.u.order.stp = CORE_STP_CANCEL_BOTH;
	it.u.order.post_only = true;
	it.u.order.price = 12345;
	it.u.order.filled_qty = 5;
	it.u.order.remaining_qty = INT64_MAX - 5;
	it.u.order.qty = INT64_MAX;
	it.u.order.locked = 77;
	it.u.order.notional_hi = INT64_MAX;
	it.u.order.notional_lo = UINT64_MAX;
	it.u.order.created_ts = -1;
	it.u.order.queued_seq = 99;
	memset(it.u.order.client_order_id, '~', CORE_CLIENT_ID_MAX);
	roundtrip_item(&it, 8 * 2 + 4 + 3 + 8 * 8 + 1 + CORE_CLIENT_ID_MAX);
}

TEST(items_decode_refuses_bad_shapes)
{
	core_item	it,
				out;
	uint8_t		buf[CORE_ITEM_MAX_BYTES];
	size_t		n;

	memset(&it, 0, sizeof(it));
	it.kind = CORE_ITEM_ORDER;
	it.u.order.order_id = 1;
	it.u.order.price = 1;
	it.u.order.remaining_qty = 1;
	it.u.order.qty = 1;
	strcpy(it.u.order.client_order_id, "ab");
	n = core_item_encode(&it, buf);
	CHECK_EQ(core_item_decode(CORE_ITEM_ORDER, buf, n, &out), n);
	/* side 2, stp 4, post_only 2 */
	buf[20] = 2;
	CHECK_EQ(core_item_decode(CORE_ITEM_ORDER, buf, n, &out), 0);
	buf[20] = 0;
	buf[21] = 4;
	CHECK_EQ(core_item_decode(CORE_ITEM_ORDER, buf, n, &out), 0);
	buf[21] = 0;
	buf[22] = 2;
	CHECK_EQ(core_item_decode(CORE_ITEM_ORDER, buf, n, &out), 0);
	CHECK_EQ(out.kind, 0);
	buf[22] = 0;
	/* a text length beyond its field, a control character in the text */
	buf[n - 3] = CORE_CLIENT_ID_MAX + 1;
	CHECK_EQ(core_item_decode(CORE_ITEM_ORDER, buf, sizeof(buf), &out), 0);
	buf[n - 3] = 2;
	buf[n - 1] = '\n';
	CHECK_EQ(core_item_decode(CORE_ITEM_ORDER, buf, n, &out), 0);
	buf[n - 1] = 'b';
	CHECK_EQ(core_item_decode(CORE_ITEM_ORDER, buf, n, &out), n);
	/* filled + remaining beyond int64 */
	it.u.order.filled_qty = 2;
	it.u.order.remaining_qty = INT64_MAX - 1;
	n = core_item_encode(&it, buf);
	CHECK_EQ(core_item_decode(CORE_ITEM_ORDER, buf, n, &out), 0);
	/* an unknown kind */
	CHECK_EQ(core_item_decode(9, buf, n, &out), 0);
	it.kind = 9;
	CHECK_EQ(core_item_encode(&it, buf), 0);
}

/* ------------------------------------------------------- checked restore */

/* Restore w through the item codec and the checked restore. */
static fx *
checked_restore(const fx_walk *w, const core_limits *lim, const char **err)
{
	fx		   *g = fx_new_limits(lim);
	void	   *scratch = malloc(core_restore_check_size(lim));
	core_restore_check rc;
	const char *e = NULL;
	uint8_t		buf[CORE_ITEM_MAX_BYTES];
	core_item	it,
				back;

	for (int i = 0; !e && i < w->na; i++)
	{
		it.kind = CORE_ITEM_ASSET;
		it.u.asset = w->a[i];
		CHECK(core_item_decode(it.kind, buf, core_item_encode(&it, buf), &back) > 0);
		e = core_restore_asset(g->c, &back.u.asset);
	}
	for (int i = 0; !e && i < w->ns; i++)
	{
		it.kind = CORE_ITEM_SYMBOL;
		it.u.symbol = w->s[i];
		CHECK(core_item_decode(it.kind, buf, core_item_encode(&it, buf), &back) > 0);
		e = core_restore_symbol(g->c, &back.u.symbol);
	}
	for (int i = 0; !e && i < w->nb; i++)
	{
		it.kind = CORE_ITEM_BALANCE;
		it.u.balance = w->b[i];
		CHECK(core_item_decode(it.kind, buf, core_item_encode(&it, buf), &back) > 0);
		e = core_restore_balance(g->c, &back.u.balance);
	}
	if (!e)
		core_restore_check_begin(g->c, &rc, scratch);
	for (int i = 0; !e && i < w->no; i++)
	{
		it.kind = CORE_ITEM_ORDER;
		it.u.order = w->o[i];
		CHECK(core_item_decode(it.kind, buf, core_item_encode(&it, buf), &back) > 0);
		e = core_restore_order_checked(g->c, &rc, &back.u.order);
	}
	if (!e)
		e = core_restore_check_finish(g->c, &rc);
	if (!e)
		e = core_restore_finish(g->c, &w->k);
	free(scratch);
	*err = e;
	if (e)
	{
		fx_free(g);
		return NULL;
	}
	return g;
}

TEST(checked_restore_of_a_walk_through_items_is_the_same_state)
{
	fx		   *f = busy();
	core_limits l = core_get_limits(f->c);
	fx_walk    *w = fx_walk_take(f);
	const char *err = "unset";
	fx		   *g = checked_restore(w, &l, &err);
	char		hf[33],
				hg[33];

	CHECK_STR(err, NULL);
	CHECK(g != NULL);
	if (g)
	{
		CHECK_STR(fx_digest(g, hg), fx_digest(f, hf));
		CHECK(core_verify_global(g->c, NULL, NULL));
		FX_VERIFY(g);
	}
	fx_walk_free(w);
	fx_free(f);
	fx_free(g);
}

static int
first_buy(const fx_walk *w)
{
	for (int k = 0; k < w->no; k++)
		if (w->o[k].side == CORE_BUY && w->o[k].symbol == S)
			return k;
	return -1;
}

static int
balance_of(const fx_walk *w, int64_t user, uint32_t asset)
{
	for (int i = 0; i < w->nb; i++)
		if (w->b[i].user_id == user && w->b[i].asset == asset)
			return i;
	return -1;
}

TEST(checked_restore_refuses_a_lock_its_remainder_does_not_need)
{
	fx		   *f = busy();
	core_limits l = core_get_limits(f->c);
	fx_walk    *w = fx_walk_take(f);
	int			k = first_buy(w);
	int			i = k >= 0 ? balance_of(w, w->o[k].user_id, Q) : -1;
	const char *err = NULL;
	fx		   *g;

	CHECK(k >= 0 && i >= 0);
	w->o[k].locked += 1;
	w->b[i].available -= 1;
	w->b[i].frozen += 1;
	/* the plain restore takes it; the checked one does not */
	g = fx_walk_restore(w, &l, &err);
	CHECK(g != NULL);
	fx_free(g);
	g = checked_restore(w, &l, &err);
	CHECK(g == NULL);
	CHECK(err && strncmp(err, "order_locks:", 12) == 0);
	fx_walk_free(w);
	fx_free(f);
}

TEST(checked_restore_refuses_frozen_not_matching_locks)
{
	fx		   *f = busy();
	core_limits l = core_get_limits(f->c);
	fx_walk    *w = fx_walk_take(f);
	int			i = balance_of(w, w->o[first_buy(w)].user_id, Q);
	const char *err = NULL;
	fx		   *g;

	w->b[i].available -= 1;
	w->b[i].frozen += 1;
	g = checked_restore(w, &l, &err);
	CHECK(g == NULL);
	CHECK(err && strncmp(err, "frozen_equals_locks:", 20) == 0);
	fx_walk_free(w);
	fx_free(f);
}

TEST(checked_restore_refuses_orders_out_of_book_order)
{
	fx		   *f = busy();
	core_limits l = core_get_limits(f->c);
	fx_walk    *w = fx_walk_take(f);
	const char *err = NULL;
	fx		   *g;
	int			swapped = 0;

	/* two neighbours of one side of one symbol, swapped: a worse level
	 * first, or a younger order first in its queue */
	for (int k = 0; k + 1 < w->no && !swapped; k++)
		if (w->o[k].symbol == w->o[k + 1].symbol && w->o[k].side == w->o[k + 1].side)
		{
			core_order_info t = w->o[k];

			w->o[k] = w->o[k + 1];
			w->o[k + 1] = t;
			swapped = 1;
		}
	CHECK(swapped);
	g = checked_restore(w, &l, &err);
	CHECK(g == NULL);
	CHECK(err && strncmp(err, "queues_fifo:", 12) == 0);
	fx_walk_free(w);
	fx_free(f);
}

/* ------------------------------------------------------- partial checks */

typedef struct failures
{
	int			n;
	char		first[64];
} failures;

static void
note_failure(void *ctx, const char *check, bool ok, const char *detail)
{
	failures   *fl = ctx;

	if (ok)
		return;
	CHECK(detail != NULL);
	if (fl->n++ == 0)
		snprintf(fl->first, sizeof(fl->first), "%s", check);
}

TEST(verify_accounts_checks_only_the_accounts_given)
{
	fx		   *f = busy();
	core_limits l = core_get_limits(f->c);
	fx_walk    *w = fx_walk_take(f);
	int			k = first_buy(w);
	int64_t		user = w->o[k].user_id;
	int64_t		other = user == 6 ? 5 : 6;
	int64_t		unknown = 4242;
	int			i = balance_of(w, user, Q);
	const char *err = NULL;
	fx		   *g;
	failures	fl;

	w->b[i].available -= 1;
	w->b[i].frozen += 1;
	g = fx_walk_restore(w, &l, &err);
	CHECK(g != NULL);
	if (g)
	{
		memset(&fl, 0, sizeof(fl));
		CHECK(core_verify_accounts(g->c, &other, 1, note_failure, &fl));
		CHECK(core_verify_accounts(g->c, &unknown, 1, note_failure, &fl));
		CHECK_EQ(fl.n, 0);
		CHECK(!core_verify_accounts(g->c, &user, 1, note_failure, &fl));
		CHECK_EQ(fl.n, 1);
		CHECK_STR(fl.first, "frozen_equals_locks");
		/* conservation still holds: the global checks pass */
		CHECK(core_verify_global(g->c, NULL, NULL));
	}
	fx_free(g);
	fx_walk_free(w);
	fx_free(f);
}

TEST(verify_global_catches_broken_conservation)
{
	fx		   *f = busy();
	core_limits l = core_get_limits(f->c);
	fx_walk    *w = fx_walk_take(f);
	int			i = balance_of(w, 3, Q);
	const char *err = NULL;
	fx		   *g;
	failures	fl;
	int64_t		all[6] = {1, 2, 3, 4, 5, 6};

	w->b[i].available += 1;
	g = fx_walk_restore(w, &l, &err);
	CHECK(g != NULL);
	if (g)
	{
		memset(&fl, 0, sizeof(fl));
		CHECK(!core_verify_global(g->c, note_failure, &fl));
		CHECK_STR(fl.first, "conservation");
		CHECK(core_verify_accounts(g->c, all, 6, NULL, NULL));
	}
	fx_free(g);
	fx_walk_free(w);
	fx_free(f);
}
