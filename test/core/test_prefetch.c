/*
 * test_prefetch.c — core_prefetch_stage is a hint and nothing else: for
 * every record type, well formed or not, with unknown users, assets,
 * symbols and order ids, at every stage number (the three real ones and
 * some that are not), it leaves the digest as it was, and an engine fed a
 * stream of records through the same window as log replay (stage 0 as a
 * record enters the window, stages 1 and 2 nearer the head) ends in the
 * same state, with the same result for every record, as one fed the same
 * records without any prefetch.
 *
 * Market: fx_simple()'s assets and symbol (AAA/QQQ, 2 decimals, tick 1,
 * lot 1), in an engine with room for PF_MAX_ORDERS orders.
 */
#include <stdlib.h>

#include "fixture.h"

#define B FX_BASE
#define Q FX_QUOTE
#define S FX_SYM

#define PF_MAX_ORDERS 512
#define PF_USERS 12
#define PF_RECORDS 4000
/* The window of log replay (src/pg/worker/replay.c). */
#define PF_WINDOW 16
#define PF_STAGE1_AHEAD 8
#define PF_STAGE2_AHEAD 3

typedef struct prng
{
	uint64_t	s;
} prng;

static uint64_t
prng_next(prng *r)
{
	uint64_t	z = (r->s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static int64_t
prng_below(prng *r, int64_t n)
{
	return (int64_t) (((unsigned __int128) prng_next(r) * (uint64_t) n) >> 64);
}

static fx *
prefetch_market(void)
{
	core_limits l = fx_default_limits();
	fx		   *f;

	l.max_orders = PF_MAX_ORDERS;
	l.max_accounts = 4 * PF_USERS;
	l.max_balances = 8 * PF_USERS;
	f = fx_new_limits(&l);
	CHECK_EQ(fx_asset(f, "AAA", 2), B);
	CHECK_EQ(fx_asset(f, "QQQ", 2), Q);
	CHECK_EQ(fx_symbol(f, "AAA_QQQ", B, Q, 1, 1, 0, 0, 0), S);
	for (int64_t u = 1; u <= PF_USERS; u++)
	{
		fx_deposit(f, u, B, INT64_C(1) << 40);
		fx_deposit(f, u, Q, INT64_C(1) << 40);
	}
	return f;
}

/*
 * A record of any type: mostly commands the book takes (places around one
 * price, some with client ids; cancels and amends of ids that exist or
 * existed; deposits and withdrawals, cancel-alls), and some with unknown
 * users, symbols, assets and order ids, and pure noise.
 */
static core_record
random_record(prng *r, int64_t max_order_id)
{
	core_record rec;
	int64_t		user = 1 + prng_below(r, PF_USERS + 2);	/* the last two are unknown */

	memset(&rec, 0, sizeof(rec));
	switch (prng_below(r, 13))
	{
		case 0:
		case 1:
		case 2:
		case 3:
			{
				core_side	side = (core_side) prng_below(r, 2);

				/* Buys below 1000 and sells above, but one in eight crosses. */
				int64_t		price = prng_below(r, 8) ? 900 + prng_below(r, 100) : 950 + prng_below(r, 100);

				if (side == CORE_SELL)
					price = 1999 - price;
				rec.type = CORE_REC_PLACE;
				rec.u.place = fx_place_rec(user, S, side, 1 + prng_below(r, 40), price,
										   prng_below(r, 4) ? CORE_GTC : CORE_IOC);
				if (prng_below(r, 3) == 0)
					snprintf(rec.u.place.client_order_id, sizeof(rec.u.place.client_order_id),
							 "c-%" PRId64, (int64_t) prng_below(r, 1000000));
				if (prng_below(r, 20) == 0)
					rec.u.place.symbol = (uint32_t) prng_next(r);	/* unknown symbol */
				break;
			}
		case 4:
		case 5:
			rec.type = CORE_REC_CANCEL;
			rec.u.cancel.user_id = user;
			rec.u.cancel.order_id = prng_below(r, 20) ? 1 + prng_below(r, max_order_id)
				: (int64_t) prng_next(r);	/* any id, negative ones too */
			break;
		case 6:
		case 7:
			rec.type = CORE_REC_AMEND;
			rec.u.amend.user_id = user;
			rec.u.amend.order_id = prng_below(r, 20) ? 1 + prng_below(r, max_order_id)
				: (int64_t) prng_next(r);
			rec.u.amend.qty = prng_below(r, 3) ? 1 + prng_below(r, 40) : 0;
			rec.u.amend.price = prng_below(r, 2) ? 900 + prng_below(r, 200) : 0;
			break;
		case 8:
			rec.type = prng_below(r, 2) ? CORE_REC_DEPOSIT : CORE_REC_WITHDRAW;
			rec.u.funds.user_id = prng_below(r, 10) ? user : (int64_t) prng_next(r);
			rec.u.funds.asset = prng_below(r, 10) ? 1 + (uint32_t) prng_below(r, 2)
				: (uint32_t) prng_next(r);	/* unknown asset */
			rec.u.funds.amount = 1 + prng_below(r, 1000);
			break;
		case 9:
			if (prng_below(r, 10))
			{
				rec.type = CORE_REC_CANCEL;	/* one of the newest orders */
				rec.u.cancel.user_id = user;
				rec.u.cancel.order_id = max_order_id - prng_below(r, 16);
				break;
			}
			rec.type = CORE_REC_CANCEL_ALL;
			rec.u.cancel_all.user_id = user;
			rec.u.cancel_all.symbol = (uint32_t) prng_below(r, 2);
			break;
		default:
			{
				/* Noise: any type byte, any field bytes. */
				uint8_t    *p = (uint8_t *) &rec;

				for (size_t i = 0; i < sizeof(rec); i++)
					p[i] = (uint8_t) prng_next(r);
				break;
			}
	}
	return rec;
}

/* Every stage, and stage numbers that are none, on one record. */
static void
prefetch_every_stage(fx *f, const core_record *rec)
{
	static const int stages[] = {-1, 0, 1, 2, CORE_PREFETCH_STAGES, 99};

	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++)
		core_prefetch_stage(f->c, rec, stages[i]);
}

/*
 * The digest before and after prefetching each record at every stage is
 * the same, on states that change from record to record.
 */
TEST(prefetch_stage_leaves_the_digest_unchanged)
{
	fx		   *f = prefetch_market();
	prng		r = {21};
	char		before[33],
				after[33];
	int			resting_seen = 0;

	for (int i = 0; i < PF_RECORDS; i++)
	{
		core_record rec = random_record(&r, core_get_counters(f->c).next_order_id + 4);
		core_record junk = random_record(&r, core_get_counters(f->c).next_order_id + 4);

		fx_digest(f, before);
		prefetch_every_stage(f, &rec);
		prefetch_every_stage(f, &junk);
		CHECK_STR(fx_digest(f, after), before);
		fx_apply(f, &rec);
		if (core_get_counters(f->c).orders > 20)
			resting_seen++;
	}
	/* The stream kept a book to prefetch from for most of the run. */
	CHECK(resting_seen > PF_RECORDS / 2);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * Two engines, the same records: one applies them plainly, the other
 * through replay's window (records prefetched while the records before
 * them are applied, so later stages see a state that moved on).  Same
 * result for every record, same digest at the end.
 */
TEST(prefetch_stage_through_a_window_changes_no_outcome)
{
	fx		   *f = prefetch_market(),
			   *g = prefetch_market();
	prng		r = {22};
	core_record *recs = malloc(sizeof(core_record) * PF_RECORDS);
	char		d1[33],
				d2[33];
	int			mismatches = 0;
	int			canceled = 0;

	/*
	 * Each record is made as it enters the window, from the state before
	 * the records ahead of it: most cancels and amends name a resting
	 * order as its owner (who may have lost it by the time it applies).
	 */
	for (int j = 0; j < PF_RECORDS + PF_WINDOW - 1; j++)
	{
		int			h = j - (PF_WINDOW - 1);	/* the record at the head */
		core_result rf,
					rg;

		if (j < PF_RECORDS)
		{
			core_order_info oi;

			recs[j] = random_record(&r, core_get_counters(f->c).next_order_id + 2);
			if ((recs[j].type == CORE_REC_CANCEL || recs[j].type == CORE_REC_AMEND) &&
				prng_below(&r, 4) != 0 && core_order_get(f->c, recs[j].u.cancel.order_id, &oi))
				recs[j].u.cancel.user_id = oi.user_id;	/* same place in both */
			core_prefetch_stage(g->c, &recs[j], 0);
		}
		if (h < 0)
			continue;
		if (h + PF_STAGE1_AHEAD < PF_RECORDS)
			core_prefetch_stage(g->c, &recs[h + PF_STAGE1_AHEAD], 1);
		if (h + PF_STAGE2_AHEAD < PF_RECORDS)
			core_prefetch_stage(g->c, &recs[h + PF_STAGE2_AHEAD], 2);
		rf = fx_apply(f, &recs[h]);
		rg = fx_apply(g, &recs[h]);
		if (rf.status != rg.status || rf.reason != rg.reason || rf.order_id != rg.order_id ||
			rf.filled_qty != rg.filled_qty || rf.remaining_qty != rg.remaining_qty ||
			rf.trades != rg.trades || rf.canceled != rg.canceled ||
			rf.available != rg.available || rf.frozen != rg.frozen)
			mismatches++;
		if (recs[h].type == CORE_REC_CANCEL && rf.status == CORE_ST_CANCELED)
			canceled++;
	}
	CHECK_EQ(mismatches, 0);
	/* Cancels found their orders: the stages had orders to follow. */
	CHECK(canceled > 50);
	CHECK_STR(fx_digest(g, d2), fx_digest(f, d1));
	CHECK_EQ(core_seq(g->c), core_seq(f->c));
	FX_VERIFY(g);
	free(recs);
	fx_free(f);
	fx_free(g);
}
