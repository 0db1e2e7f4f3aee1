/*
 * fixture.c — the engine-in-a-buffer the core's unit tests drive; see
 * fixture.h.
 */
#include <stdlib.h>

#include "fixture.h"

core_limits
fx_default_limits(void)
{
	core_limits l = {
		.max_assets = 8,
		.max_symbols = 8,
		.max_accounts = 32,
		.max_balances = 128,
		.max_orders = 256,
	};

	return l;
}

fx *
fx_new_limits(const core_limits *lim)
{
	fx		   *f = calloc(1, sizeof(*f));

	f->size = core_arena_size(lim);
	if (f->size == 0)
	{
		test_fail(__FILE__, __LINE__, "core_arena_size returned 0");
		free(f);
		return NULL;
	}
	/* core_create wants a cache-line aligned arena, sized to whole lines. */
	f->size = (f->size + CORE_ARENA_ALIGN - 1) / CORE_ARENA_ALIGN * CORE_ARENA_ALIGN;
	f->mem = aligned_alloc(CORE_ARENA_ALIGN, f->size);
	memset(f->mem, 0xA5, f->size);	/* the core must not rely on zeroed memory */
	f->c = core_create(f->mem, f->size, lim);
	if (f->c == NULL)
	{
		test_fail(__FILE__, __LINE__, "core_create returned NULL");
		free(f->mem);
		free(f);
		return NULL;
	}
	f->ts = 1000000;
	return f;
}

fx *
fx_new(void)
{
	core_limits l = fx_default_limits();

	return fx_new_limits(&l);
}

fx *
fx_simple(int32_t maker_ppm, int32_t taker_ppm)
{
	fx		   *f = fx_new();

	if (f == NULL)
		return NULL;
	CHECK_EQ(fx_asset(f, "AAA", 2), FX_BASE);
	CHECK_EQ(fx_asset(f, "QQQ", 2), FX_QUOTE);
	CHECK_EQ(fx_symbol(f, "AAA_QQQ", FX_BASE, FX_QUOTE, 1, 1, 0,
					   maker_ppm, taker_ppm), FX_SYM);
	return f;
}

void
fx_free(fx *f)
{
	if (f == NULL)
		return;
	free(f->mem);
	free(f);
}

static void
collect(void *ctx, const core_event *ev)
{
	fx		   *f = ctx;

	if (f->nev < FX_MAX_EVENTS)
		f->ev[f->nev] = *ev;
	f->nev++;
}

core_result
fx_apply(fx *f, const core_record *rec)
{
	core_record r = *rec;

	r.ts = f->ts++;
	f->nev = 0;
	memset(&f->r, 0x5A, sizeof(f->r));
	core_apply(f->c, &r, collect, f, &f->r);
	return f->r;
}

uint32_t
fx_asset(fx *f, const char *code, int decimals)
{
	core_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = CORE_REC_CREATE_ASSET;
	snprintf(rec.u.create_asset.code, sizeof(rec.u.create_asset.code), "%s", code);
	rec.u.create_asset.decimals = (uint8_t) decimals;
	fx_apply(f, &rec);
	return f->r.status == CORE_ST_OK ? f->r.id : 0;
}

uint32_t
fx_symbol(fx *f, const char *name, uint32_t base, uint32_t quote,
		  int64_t tick, int64_t lot, int64_t min_qty,
		  int32_t maker_ppm, int32_t taker_ppm)
{
	core_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = CORE_REC_CREATE_SYMBOL;
	snprintf(rec.u.create_symbol.name, sizeof(rec.u.create_symbol.name), "%s", name);
	rec.u.create_symbol.base_asset = base;
	rec.u.create_symbol.quote_asset = quote;
	rec.u.create_symbol.tick_size = tick;
	rec.u.create_symbol.lot_size = lot;
	rec.u.create_symbol.min_qty = min_qty;
	rec.u.create_symbol.maker_fee_ppm = maker_ppm;
	rec.u.create_symbol.taker_fee_ppm = taker_ppm;
	fx_apply(f, &rec);
	return f->r.status == CORE_ST_OK ? f->r.id : 0;
}

uint32_t
fx_symbol_rec(fx *f, const core_rec_create_symbol *s)
{
	core_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = CORE_REC_CREATE_SYMBOL;
	rec.u.create_symbol = *s;
	fx_apply(f, &rec);
	return f->r.status == CORE_ST_OK ? f->r.id : 0;
}

core_result
fx_set_status(fx *f, uint32_t symbol, core_symbol_status st)
{
	core_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = CORE_REC_SET_SYMBOL_STATUS;
	rec.u.set_symbol_status.symbol = symbol;
	rec.u.set_symbol_status.status = (uint8_t) st;
	return fx_apply(f, &rec);
}

static core_result
funds(fx *f, core_rectype type, int64_t user, uint32_t asset, int64_t amount)
{
	core_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = (uint8_t) type;
	rec.u.funds.user_id = user;
	rec.u.funds.asset = asset;
	rec.u.funds.amount = amount;
	return fx_apply(f, &rec);
}

core_result
fx_deposit(fx *f, int64_t user, uint32_t asset, int64_t amount)
{
	return funds(f, CORE_REC_DEPOSIT, user, asset, amount);
}

core_result
fx_withdraw(fx *f, int64_t user, uint32_t asset, int64_t amount)
{
	return funds(f, CORE_REC_WITHDRAW, user, asset, amount);
}

core_rec_place
fx_place_rec(int64_t user, uint32_t symbol, core_side side,
			 int64_t qty, int64_t price, core_tif tif)
{
	core_rec_place p;

	memset(&p, 0, sizeof(p));
	p.user_id = user;
	p.symbol = symbol;
	p.side = (uint8_t) side;
	p.tif = (uint8_t) tif;
	p.stp = CORE_STP_NONE;
	p.qty = qty;
	p.price = price;
	return p;
}

core_result
fx_place_ex(fx *f, const core_rec_place *p)
{
	core_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = CORE_REC_PLACE;
	rec.u.place = *p;
	return fx_apply(f, &rec);
}

core_result
fx_limit(fx *f, int64_t user, uint32_t symbol, core_side side,
		 int64_t qty, int64_t price, core_tif tif)
{
	core_rec_place p = fx_place_rec(user, symbol, side, qty, price, tif);

	return fx_place_ex(f, &p);
}

core_result
fx_market(fx *f, int64_t user, uint32_t symbol, core_side side,
		  int64_t qty, int64_t quote_qty)
{
	core_rec_place p = fx_place_rec(user, symbol, side, qty, 0, CORE_IOC);

	p.quote_qty = quote_qty;
	return fx_place_ex(f, &p);
}

core_result
fx_cancel(fx *f, int64_t user, int64_t order_id)
{
	core_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = CORE_REC_CANCEL;
	rec.u.cancel.user_id = user;
	rec.u.cancel.order_id = order_id;
	return fx_apply(f, &rec);
}

core_result
fx_cancel_all(fx *f, int64_t user, uint32_t symbol)
{
	core_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = CORE_REC_CANCEL_ALL;
	rec.u.cancel_all.user_id = user;
	rec.u.cancel_all.symbol = symbol;
	return fx_apply(f, &rec);
}

core_result
fx_amend(fx *f, int64_t user, int64_t order_id, int64_t qty, int64_t price)
{
	core_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = CORE_REC_AMEND;
	rec.u.amend.user_id = user;
	rec.u.amend.order_id = order_id;
	rec.u.amend.qty = qty;
	rec.u.amend.price = price;
	return fx_apply(f, &rec);
}

int64_t
fx_avail(fx *f, int64_t user, uint32_t asset)
{
	core_balance_info b;

	if (!core_balance_get(f->c, user, asset, &b))
		return -1;
	return b.available;
}

int64_t
fx_frozen(fx *f, int64_t user, uint32_t asset)
{
	core_balance_info b;

	if (!core_balance_get(f->c, user, asset, &b))
		return -1;
	return b.frozen;
}

bool
fx_has_order(fx *f, int64_t order_id)
{
	core_order_info o;

	return core_order_get(f->c, order_id, &o);
}

typedef struct id_list
{
	int64_t    *ids;
	int			n;
	int			max;
} id_list;

static bool
add_id(void *ctx, const core_order_info *o)
{
	id_list    *l = ctx;

	if (l->n < l->max)
		l->ids[l->n] = o->order_id;
	l->n++;
	return true;
}

int
fx_level_ids(fx *f, uint32_t symbol, core_side side, int64_t price,
			 int64_t *ids, int max)
{
	id_list		l = {ids, 0, max};

	core_level_orders(f->c, symbol, side, price, add_id, &l);
	return l.n;
}

typedef struct level_list
{
	core_level_info *out;
	int			n;
	int			max;
} level_list;

static bool
add_level(void *ctx, const core_level_info *li)
{
	level_list *l = ctx;

	if (l->n < l->max)
		l->out[l->n] = *li;
	l->n++;
	return true;
}

int
fx_levels(fx *f, uint32_t symbol, core_side side, core_level_info *out, int max)
{
	level_list	l = {out, 0, max};

	core_book_levels(f->c, symbol, side, 0, add_level, &l);
	return l.n;
}

int64_t
fx_level_qty(const core_level_info *l)
{
	return l->qty_hi == 0 && l->qty_lo <= (uint64_t) INT64_MAX ? (int64_t) l->qty_lo : -1;
}

int
fx_count(fx *f, core_event_type type)
{
	int			n = 0;

	for (int i = 0; i < f->nev && i < FX_MAX_EVENTS; i++)
		if (f->ev[i].type == type)
			n++;
	return n;
}

static void
report_check(void *ctx, const char *check, bool ok, const char *detail)
{
	(void) ctx;
	if (!ok)
		printf("    verify: %s failed: %s\n", check, detail ? detail : "(no detail)");
}

bool
fx_verify(fx *f)
{
	return core_verify(f->c, report_check, NULL);
}

char *
fx_digest(fx *f, char out[33])
{
	core_digest_hex(core_state_digest(f->c), out);
	return out;
}

/* ---------------------------------------------------------------- round trip */

#define FX_WALK_CAP 4096

static void
w_note(fx_walk *w, int kind)
{
	if (w->nseq < (int) (sizeof(w->seq) / sizeof(w->seq[0])))
		w->seq[w->nseq] = kind;
	w->nseq++;
}

static void
w_counters(void *ctx, const core_counters *k)
{
	fx_walk    *w = ctx;

	w->k = *k;
	w->nk++;
	w_note(w, 0);
}

#define W_PUSH(w, arr, n, item) \
	do { if ((w)->n < (w)->cap) (w)->arr[(w)->n] = *(item); (w)->n++; } while (0)

static void
w_asset(void *ctx, const core_asset_info *a)
{
	fx_walk    *w = ctx;

	W_PUSH(w, a, na, a);
	w_note(w, 1);
}

static void
w_symbol(void *ctx, const core_symbol_info *s)
{
	fx_walk    *w = ctx;

	W_PUSH(w, s, ns, s);
	w_note(w, 2);
}

static void
w_balance(void *ctx, const core_balance_info *b)
{
	fx_walk    *w = ctx;

	W_PUSH(w, b, nb, b);
	w_note(w, 3);
}

static void
w_order(void *ctx, const core_order_info *o)
{
	fx_walk    *w = ctx;

	W_PUSH(w, o, no, o);
	w_note(w, 4);
}

fx_walk *
fx_walk_take(fx *f)
{
	core_walker walker = {w_counters, w_asset, w_symbol, w_balance, w_order};
	fx_walk    *w = calloc(1, sizeof(*w));

	w->cap = FX_WALK_CAP;
	w->a = calloc(w->cap, sizeof(*w->a));
	w->s = calloc(w->cap, sizeof(*w->s));
	w->b = calloc(w->cap, sizeof(*w->b));
	w->o = calloc(w->cap, sizeof(*w->o));
	core_walk(f->c, &walker, w);
	CHECK_EQ(w->nk, 1);
	CHECK(w->na <= w->cap && w->ns <= w->cap && w->nb <= w->cap && w->no <= w->cap);
	return w;
}

void
fx_walk_free(fx_walk *w)
{
	if (w == NULL)
		return;
	free(w->a);
	free(w->s);
	free(w->b);
	free(w->o);
	free(w);
}

fx *
fx_walk_restore(const fx_walk *w, const core_limits *lim, const char **err)
{
	fx		   *g = fx_new_limits(lim);
	const char *e = NULL;

	if (g == NULL)
	{
		*err = "engine could not be created";
		return NULL;
	}
	for (int i = 0; !e && i < w->na; i++)
		e = core_restore_asset(g->c, &w->a[i]);
	for (int i = 0; !e && i < w->ns; i++)
		e = core_restore_symbol(g->c, &w->s[i]);
	for (int i = 0; !e && i < w->nb; i++)
		e = core_restore_balance(g->c, &w->b[i]);
	for (int i = 0; !e && i < w->no; i++)
		e = core_restore_order(g->c, &w->o[i]);
	if (!e)
		e = core_restore_finish(g->c, &w->k);
	if (e)
	{
		*err = e;
		fx_free(g);
		return NULL;
	}
	*err = NULL;
	return g;
}

fx *
fx_roundtrip(fx *f, const core_limits *lim)
{
	core_limits l = lim ? *lim : core_get_limits(f->c);
	fx_walk    *w = fx_walk_take(f);
	const char *err = NULL;
	fx		   *g = fx_walk_restore(w, &l, &err);

	fx_walk_free(w);
	if (g == NULL)
	{
		test_fail(__FILE__, __LINE__, "restore failed: %s", err);
		return NULL;
	}
	g->ts = f->ts;
	return g;
}
