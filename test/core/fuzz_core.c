/*
 * fuzz_core.c — libFuzzer target for the record codec and core_apply.
 *
 * Each input is a sequence of records applied to a fresh engine that
 * already has two assets and two symbols and tiny pools (so capacity
 * refusals are easy to reach).  The first byte h of each record says how
 * the rest is read:
 *
 *   h < 0x80            h bytes follow: a payload for core_record_decode;
 *                       if it decodes, it is applied (and must re-encode to
 *                       the same bytes)
 *   0x80 <= h < 0xbf    a compact command: a kind and a few small numbers
 *                       that map onto users, symbols, prices and order ids
 *                       that exist, so matching is reached quickly
 *   h == 0xbf           walk the state, restore it into a fresh arena
 *                       (equal digest required) and go on with the copy
 *   h >= 0xc0           a raw record: the type and every field straight
 *                       from the bytes, full width, any value — the core
 *                       must refuse what is malformed and never crash
 *
 * After every command core_verify must hold and each asset's balances must
 * sum to the deposits minus the withdrawals the fuzzer saw accepted; at the
 * end the state must survive core_walk / core_restore_* with an equal
 * digest.  Any violation aborts with a description.
 *
 * LLVMFuzzerInitialize seeds an empty corpus directory (the first
 * non-option argument) with a few inputs built from valid records.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define FZ_MAX_ASSETS	4
#define FZ_TS0			INT64_C(1700000000000000)

static const core_limits fz_limits = {
	.max_assets = FZ_MAX_ASSETS,
	.max_symbols = 3,
	.max_accounts = 8,
	.max_balances = 20,
	.max_orders = 16,
};

/* Symbol figures the compact commands use. */
typedef struct fz_symbol
{
	int64_t		tick;
	int64_t		lot;
} fz_symbol;

static const fz_symbol fz_symbols[2] = {{5, 10}, {1000, 1}};

static void *fz_mem;
static void *fz_mem2;
static size_t fz_size;

typedef struct fz_run
{
	core_engine *c;
	__int128	net[FZ_MAX_ASSETS + 1];
	int64_t		ts;
	uint64_t	nevents;
} fz_run;

static void
fz_die(const fz_run *f, const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_core: seq %lld: %s%s%s\n",
			(long long) (f && f->c ? core_seq(f->c) : 0), what,
			detail ? ": " : "", detail ? detail : "");
	abort();
}

static void
fz_event(void *ctx, const core_event *ev)
{
	fz_run	   *f = ctx;

	if (ev->type != CORE_EV_ORDER && ev->type != CORE_EV_TRADE)
		fz_die(f, "event of unknown type", NULL);
	if (ev->type == CORE_EV_TRADE && (ev->u.trade.qty <= 0 || ev->u.trade.price <= 0))
		fz_die(f, "trade without qty or price", NULL);
	f->nevents++;
}

static void
fz_check(void *ctx, const char *check, bool ok, const char *detail)
{
	if (!ok)
	{
		char		msg[512];

		snprintf(msg, sizeof(msg), "%s: %s", check, detail ? detail : "(no detail)");
		fz_die(ctx, "core_verify failed", msg);
	}
}

/* ------------------------------------------------------------- conservation */

typedef struct fz_sum
{
	__int128	sum[FZ_MAX_ASSETS + 1];
	bool		bad;
} fz_sum;

static void
fz_sum_balance(void *ctx, const core_balance_info *b)
{
	fz_sum	   *s = ctx;

	if (b->asset < 1 || b->asset > FZ_MAX_ASSETS || b->available < 0 || b->frozen < 0)
		s->bad = true;
	else
		s->sum[b->asset] += (__int128) b->available + b->frozen;
}

static void
fz_conservation(fz_run *f)
{
	core_walker w = {0};
	fz_sum		s;

	memset(&s, 0, sizeof(s));
	w.balance = fz_sum_balance;
	core_walk(f->c, &w, &s);
	if (s.bad)
		fz_die(f, "balance row out of range or negative", NULL);
	for (int a = 1; a <= FZ_MAX_ASSETS; a++)
		if (s.sum[a] != f->net[a])
			fz_die(f, "balances do not add up to deposits minus withdrawals", NULL);
}

/* ------------------------------------------------------------- apply */

static void
fz_apply(fz_run *f, core_record *rec)
{
	core_result res;
	int64_t		seq = core_seq(f->c);
	char		desc[64];
	bool		valid = core_record_validate(rec) == NULL;

	rec->ts = f->ts++;
	/* The description must cope with any record and always terminate. */
	core_record_desc(rec, desc, sizeof(desc));
	if (memchr(desc, '\0', sizeof(desc)) == NULL)
		fz_die(f, "core_record_desc did not terminate its text", NULL);

	core_apply(f->c, rec, fz_event, f, &res);
	if (core_seq(f->c) != seq + 1)
		fz_die(f, "core_apply did not advance seq by one", NULL);
	if (!valid && (res.status != CORE_ST_REJECTED || res.reason != CORE_R_INVALID))
		fz_die(f, "malformed record not refused as invalid", core_record_validate(rec));
	if (res.status == CORE_ST_OK &&
		(rec->type == CORE_REC_DEPOSIT || rec->type == CORE_REC_WITHDRAW))
	{
		if (rec->u.funds.asset < 1 || rec->u.funds.asset > FZ_MAX_ASSETS)
			fz_die(f, "funds of an unknown asset accepted", NULL);
		f->net[rec->u.funds.asset] += rec->type == CORE_REC_DEPOSIT ?
			rec->u.funds.amount : -rec->u.funds.amount;
	}
	if (!core_verify(f->c, fz_check, f))
		fz_die(f, "core_verify returned false", NULL);
	fz_conservation(f);
}

/* ------------------------------------------------------------- decoding */

typedef struct fz_in
{
	const uint8_t *p;
	size_t		n;
} fz_in;

static uint8_t
in_u8(fz_in *in)
{
	uint8_t		v = 0;

	if (in->n)
	{
		v = *in->p++;
		in->n--;
	}
	return v;
}

static uint64_t
in_bytes(fz_in *in, int bytes)
{
	uint64_t	v = 0;

	for (int i = 0; i < bytes; i++)
		v |= (uint64_t) in_u8(in) << (8 * i);
	return v;
}

static void
in_text(fz_in *in, char *dst, size_t size)
{
	size_t		len = in_u8(in) % size;	/* < size: room for the NUL */

	for (size_t i = 0; i < len; i++)
		dst[i] = (char) in_u8(in);
	dst[len] = '\0';
}

/* A raw record: every field from the bytes, any value. */
static void
fz_raw(fz_in *in, core_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->type = in_u8(in) % (CORE_REC_COUNT + 2);
	switch (rec->type)
	{
		case CORE_REC_CREATE_ASSET:
			in_text(in, rec->u.create_asset.code, sizeof(rec->u.create_asset.code));
			rec->u.create_asset.decimals = in_u8(in);
			break;
		case CORE_REC_CREATE_SYMBOL:
			in_text(in, rec->u.create_symbol.name, sizeof(rec->u.create_symbol.name));
			rec->u.create_symbol.base_asset = (uint32_t) in_bytes(in, 4);
			rec->u.create_symbol.quote_asset = (uint32_t) in_bytes(in, 4);
			rec->u.create_symbol.tick_size = (int64_t) in_bytes(in, 8);
			rec->u.create_symbol.lot_size = (int64_t) in_bytes(in, 8);
			rec->u.create_symbol.min_qty = (int64_t) in_bytes(in, 8);
			rec->u.create_symbol.maker_fee_ppm = (int32_t) in_bytes(in, 4);
			rec->u.create_symbol.taker_fee_ppm = (int32_t) in_bytes(in, 4);
			break;
		case CORE_REC_SET_SYMBOL_STATUS:
			rec->u.set_symbol_status.symbol = (uint32_t) in_bytes(in, 4);
			rec->u.set_symbol_status.status = in_u8(in);
			break;
		case CORE_REC_DEPOSIT:
		case CORE_REC_WITHDRAW:
			rec->u.funds.user_id = (int64_t) in_bytes(in, 8);
			rec->u.funds.asset = (uint32_t) in_bytes(in, 4);
			rec->u.funds.amount = (int64_t) in_bytes(in, 8);
			break;
		case CORE_REC_PLACE:
			rec->u.place.user_id = (int64_t) in_bytes(in, 8);
			rec->u.place.symbol = (uint32_t) in_bytes(in, 4);
			rec->u.place.side = in_u8(in);
			rec->u.place.tif = in_u8(in);
			rec->u.place.stp = in_u8(in);
			rec->u.place.post_only = in_u8(in) & 1;
			rec->u.place.qty = (int64_t) in_bytes(in, 8);
			rec->u.place.price = (int64_t) in_bytes(in, 8);
			rec->u.place.quote_qty = (int64_t) in_bytes(in, 8);
			in_text(in, rec->u.place.client_order_id, sizeof(rec->u.place.client_order_id));
			break;
		case CORE_REC_CANCEL:
			rec->u.cancel.user_id = (int64_t) in_bytes(in, 8);
			rec->u.cancel.order_id = (int64_t) in_bytes(in, 8);
			break;
		case CORE_REC_CANCEL_ALL:
			rec->u.cancel_all.user_id = (int64_t) in_bytes(in, 8);
			rec->u.cancel_all.symbol = (uint32_t) in_bytes(in, 4);
			break;
		case CORE_REC_AMEND:
			rec->u.amend.user_id = (int64_t) in_bytes(in, 8);
			rec->u.amend.order_id = (int64_t) in_bytes(in, 8);
			rec->u.amend.qty = (int64_t) in_bytes(in, 8);
			rec->u.amend.price = (int64_t) in_bytes(in, 8);
			break;
		default:
			break;				/* CORE_REC_INVALID or beyond the table */
	}
}

/*
 * A compact command: small numbers mapped onto things that exist — users
 * 1..6, the two symbols (sometimes a third that does not exist), prices a
 * few ticks around 100 ticks, quantities of a few lots, order ids near the
 * ones issued.
 */
static void
fz_compact(fz_run *f, fz_in *in, core_record *rec)
{
	uint8_t		kind = in_u8(in) % 12;
	uint8_t		b1 = in_u8(in),
				b2 = in_u8(in),
				b3 = in_u8(in),
				b4 = in_u8(in);
	int64_t		user = 1 + b1 % 6;
	uint32_t	sym = 1 + (b1 >> 4) % 3;
	const fz_symbol *s = &fz_symbols[(sym - 1) % 2];
	int64_t		next_oid = core_get_counters(f->c).next_order_id;
	int64_t		oid = next_oid - 1 - b3 % 24;

	memset(rec, 0, sizeof(*rec));
	switch (kind)
	{
		case 0:
		case 1:
			rec->type = kind == 0 ? CORE_REC_DEPOSIT : CORE_REC_WITHDRAW;
			rec->u.funds.user_id = b4 == 255 ? 0 : user;
			rec->u.funds.asset = 1 + b2 % 3;
			rec->u.funds.amount = (int64_t) (1 + b3) << (b4 % 48);
			break;
		case 2:
		case 3:
		case 4:
		case 5:
			rec->type = CORE_REC_PLACE;
			rec->u.place.user_id = user;
			rec->u.place.symbol = sym;
			rec->u.place.side = b2 & 1;
			rec->u.place.tif = (b2 >> 1) % 3;
			rec->u.place.stp = (b2 >> 3) % 4;
			rec->u.place.post_only = (b2 >> 5) % 4 == 0;
			rec->u.place.qty = s->lot * (1 + b3 % 16);
			rec->u.place.price = s->tick * (90 + b4 % 21);
			if (kind == 5)		/* market */
			{
				rec->u.place.price = 0;
				rec->u.place.post_only = false;
				rec->u.place.tif = CORE_IOC;
				if (rec->u.place.side == CORE_BUY && (b4 & 3) != 0)
				{
					rec->u.place.quote_qty = (int64_t) (1 + b4) * s->tick * s->lot;
					if ((b4 & 3) == 1)
						rec->u.place.qty = 0;
				}
			}
			break;
		case 6:
		case 7:
			rec->type = CORE_REC_CANCEL;
			rec->u.cancel.user_id = user;
			rec->u.cancel.order_id = oid > 0 ? oid : 1;
			break;
		case 8:
			rec->type = CORE_REC_CANCEL_ALL;
			rec->u.cancel_all.user_id = user;
			rec->u.cancel_all.symbol = b2 % 4;
			break;
		case 9:
		case 10:
			rec->type = CORE_REC_AMEND;
			rec->u.amend.user_id = user;
			rec->u.amend.order_id = oid > 0 ? oid : 1;
			if (b2 & 1)
				rec->u.amend.qty = s->lot * (1 + b4 % 16);
			if (b2 & 2 || !(b2 & 1))
				rec->u.amend.price = s->tick * (90 + b4 % 21);
			break;
		default:
			rec->type = CORE_REC_SET_SYMBOL_STATUS;
			rec->u.set_symbol_status.symbol = sym;
			rec->u.set_symbol_status.status = b2 & 1;
			break;
	}
}

/* ------------------------------------------------------------- round trip */

typedef struct fz_restore
{
	core_engine *c;
	const char *err;
	core_counters k;
} fz_restore;

static void
r_counters(void *ctx, const core_counters *k)
{
	((fz_restore *) ctx)->k = *k;
}

static void
r_asset(void *ctx, const core_asset_info *a)
{
	fz_restore *r = ctx;

	if (!r->err)
		r->err = core_restore_asset(r->c, a);
}

static void
r_symbol(void *ctx, const core_symbol_info *s)
{
	fz_restore *r = ctx;

	if (!r->err)
		r->err = core_restore_symbol(r->c, s);
}

static void
r_balance(void *ctx, const core_balance_info *b)
{
	fz_restore *r = ctx;

	if (!r->err)
		r->err = core_restore_balance(r->c, b);
}

static void
r_order(void *ctx, const core_order_info *o)
{
	fz_restore *r = ctx;

	if (!r->err)
		r->err = core_restore_order(r->c, o);
}

/* Restores f's state into the spare arena and makes that copy current. */
static void
fz_roundtrip(fz_run *f)
{
	core_walker w = {r_counters, r_asset, r_symbol, r_balance, r_order};
	fz_restore	r;
	core_digest a,
				b;

	memset(&r, 0, sizeof(r));
	memset(fz_mem2, 0x5A, fz_size);
	r.c = core_create(fz_mem2, fz_size, &fz_limits);
	if (r.c == NULL)
		fz_die(f, "core_create failed for the restore", NULL);
	/* The walk feeds the restore directly: counters come first, finish last. */
	core_walk(f->c, &w, &r);
	if (!r.err)
		r.err = core_restore_finish(r.c, &r.k);
	if (r.err)
		fz_die(f, "restore refused its own walk", r.err);
	a = core_state_digest(f->c);
	b = core_state_digest(r.c);
	if (a.hi != b.hi || a.lo != b.lo)
		fz_die(f, "digest differs after walk/restore", NULL);
	if (!core_verify(r.c, fz_check, f))
		fz_die(f, "restored engine fails core_verify", NULL);
	f->c = r.c;
	fz_mem2 = fz_mem;
	fz_mem = (void *) r.c;
}

/* ------------------------------------------------------------- setup */

static void
fz_setup(fz_run *f)
{
	static const char *codes[3] = {"AAA", "BBB", "CCC"};
	static const uint8_t decimals[3] = {2, 8, 0};
	core_record rec;

	for (int i = 0; i < 3; i++)
	{
		memset(&rec, 0, sizeof(rec));
		rec.type = CORE_REC_CREATE_ASSET;
		strcpy(rec.u.create_asset.code, codes[i]);
		rec.u.create_asset.decimals = decimals[i];
		fz_apply(f, &rec);
	}
	for (int i = 0; i < 2; i++)
	{
		memset(&rec, 0, sizeof(rec));
		rec.type = CORE_REC_CREATE_SYMBOL;
		strcpy(rec.u.create_symbol.name, i == 0 ? "AAA_BBB" : "CCC_AAA");
		rec.u.create_symbol.base_asset = i == 0 ? 1 : 3;
		rec.u.create_symbol.quote_asset = i == 0 ? 2 : 1;
		rec.u.create_symbol.tick_size = fz_symbols[i].tick;
		rec.u.create_symbol.lot_size = fz_symbols[i].lot;
		rec.u.create_symbol.min_qty = i == 0 ? 20 : 0;
		rec.u.create_symbol.maker_fee_ppm = i == 0 ? 1000 : 0;
		rec.u.create_symbol.taker_fee_ppm = i == 0 ? 2500 : 7;
		fz_apply(f, &rec);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_run		f;
	fz_in		in = {data, size};

	memset(&f, 0, sizeof(f));
	memset(fz_mem, 0xA5, fz_size);
	f.c = core_create(fz_mem, fz_size, &fz_limits);
	if (f.c == NULL)
		fz_die(&f, "core_create failed", NULL);
	f.ts = FZ_TS0;
	fz_setup(&f);

	while (in.n > 0)
	{
		uint8_t		h = in_u8(&in);
		core_record rec;

		if (h < 0x80)
		{
			size_t		len = h < in.n ? h : in.n;
			uint8_t		buf[CORE_RECORD_MAX_BYTES];
			bool		ok = core_record_decode(in.p, len, &rec);

			if (ok)
			{
				size_t		n = core_record_encode(&rec, buf);

				if (n != len || memcmp(buf, in.p, len) != 0)
					fz_die(&f, "decoded record does not re-encode to its bytes", NULL);
			}
			else if (rec.type != CORE_REC_INVALID)
				fz_die(&f, "refused payload leaves a record type behind", NULL);
			in.p += len;
			in.n -= len;
			if (ok)
				fz_apply(&f, &rec);
		}
		else if (h == 0xbf)
			fz_roundtrip(&f);
		else if (h < 0xc0)
		{
			fz_compact(&f, &in, &rec);
			fz_apply(&f, &rec);
		}
		else
		{
			fz_raw(&in, &rec);
			fz_apply(&f, &rec);
		}
	}
	fz_roundtrip(&f);
	return 0;
}

/* ------------------------------------------------------------- seed corpus */

static size_t
seed_put(uint8_t *out, size_t n, const core_record *rec)
{
	uint8_t		buf[CORE_RECORD_MAX_BYTES];
	size_t		len = core_record_encode(rec, buf);

	out[n++] = (uint8_t) len;
	memcpy(out + n, buf, len);
	return n + len;
}

/* One seed: deposits, then a stream of orders, cancels and amends on both books. */
static size_t
seed_make(int k, uint8_t *out, size_t cap)
{
	uint64_t	x = 0x5eed0000u + (uint64_t) k;
	size_t		n = 0;
	core_record rec;

#define SEED_NEXT() (x = x * UINT64_C(6364136223846793005) + 1442695040888963407u, (uint32_t) (x >> 33))
	for (int u = 1; u <= 6; u++)
		for (uint32_t a = 1; a <= 3; a++)
		{
			memset(&rec, 0, sizeof(rec));
			rec.type = CORE_REC_DEPOSIT;
			rec.u.funds.user_id = u;
			rec.u.funds.asset = a;
			rec.u.funds.amount = 1000000;
			n = seed_put(out, n, &rec);
		}
	while (n + 2 * CORE_RECORD_MAX_BYTES < cap && n < (size_t) (400 + 150 * k))
	{
		uint32_t	r = SEED_NEXT();

		if (k >= 4 && r % 40 == 0)
		{
			out[n++] = 0xbf;	/* round trip, then go on with the copy */
			continue;
		}
		if (k % 2 == 1 && r % 3 == 0)
		{
			/* compact command */
			out[n++] = 0x80;
			for (int i = 0; i < 5; i++)
				out[n++] = (uint8_t) SEED_NEXT();
			continue;
		}
		memset(&rec, 0, sizeof(rec));
		switch (r % 8)
		{
			case 0:
			case 1:
			case 2:
			case 3:
				{
					uint32_t	sym = 1 + (r >> 4) % 2;
					const fz_symbol *s = &fz_symbols[sym - 1];

					rec.type = CORE_REC_PLACE;
					rec.u.place.user_id = 1 + (r >> 8) % 6;
					rec.u.place.symbol = sym;
					rec.u.place.side = (r >> 12) & 1;
					rec.u.place.tif = (r >> 13) % 4 == 0 ? CORE_IOC : CORE_GTC;
					rec.u.place.stp = (r >> 15) % 4;
					rec.u.place.qty = s->lot * (2 + (r >> 17) % 10);
					rec.u.place.price = s->tick * (95 + (r >> 21) % 11);
					break;
				}
			case 4:
				rec.type = CORE_REC_CANCEL;
				rec.u.cancel.user_id = 1 + (r >> 8) % 6;
				rec.u.cancel.order_id = 1 + (r >> 12) % 40;
				break;
			case 5:
			case 6:
				rec.type = CORE_REC_AMEND;
				rec.u.amend.user_id = 1 + (r >> 8) % 6;
				rec.u.amend.order_id = 1 + (r >> 12) % 40;
				rec.u.amend.price = fz_symbols[0].tick * (95 + (r >> 20) % 11);
				break;
			default:
				rec.type = CORE_REC_PLACE;	/* market buy by quote_qty */
				rec.u.place.user_id = 1 + (r >> 8) % 6;
				rec.u.place.symbol = 1;
				rec.u.place.side = CORE_BUY;
				rec.u.place.quote_qty = 100 + (r >> 12) % 5000;
				break;
		}
		n = seed_put(out, n, &rec);
	}
#undef SEED_NEXT
	return n;
}

static bool
dir_is_empty(const char *path)
{
	DIR		   *d = opendir(path);
	struct dirent *e;
	bool		empty = true;

	if (d == NULL)
		return false;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
		{
			empty = false;
			break;
		}
	closedir(d);
	return empty;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* core_create wants 64-byte aligned memory (cache lines). */
	fz_size = (core_arena_size(&fz_limits) + 63) & ~(size_t) 63;
	fz_mem = aligned_alloc(64, fz_size);
	fz_mem2 = aligned_alloc(64, fz_size);
	if (fz_mem == NULL || fz_mem2 == NULL)
		abort();

	for (int i = 1; i < *argc; i++)
	{
		const char *dir = (*argv)[i];

		if (dir[0] == '-' || !dir_is_empty(dir))
			continue;
		for (int k = 0; k < 8; k++)
		{
			uint8_t		buf[4096];
			size_t		n = seed_make(k, buf, sizeof(buf));
			char		path[4096];
			FILE	   *fp;

			snprintf(path, sizeof(path), "%s/seed-%d", dir, k);
			if ((fp = fopen(path, "wb")) == NULL)
				continue;
			fwrite(buf, 1, n, fp);
			fclose(fp);
		}
		fprintf(stderr, "fuzz_core: wrote 8 seed inputs to %s\n", dir);
		break;
	}
	return 0;
}
