/*
 * apply.c — core_apply, the one entry point that changes engine state.
 *
 * It advances the sequence number, runs the record's shape check, and hands
 * the record to its redo function from the record-type table.  Live
 * processing and replay both come through here, which is what makes replay
 * reproduce the live state.
 */
#include <string.h>

#include "book.h"

#define PREFETCH_MAKERS 2		/* makers whose rows core_prefetch loads */

void
core_apply(core_engine *c, const core_record *rec, core_event_fn fn, void *ctx,
		   core_result *out)
{
	core_result local;
	apply_ctx	a;

	a.c = c;
	a.rec = rec;
	a.fn = fn;
	a.fnctx = ctx;
	a.res = out ? out : &local;
	memset(a.res, 0, sizeof(*a.res));
	a.res->status = CORE_ST_OK;

	c->seq++;
	if (record_validate(rec) != NULL)
	{
		/* Every PLACE that reaches the engine gets an order id, even this one. */
		if (rec->type == CORE_REC_PLACE)
			redo_place_malformed(&a);
		else
		{
			a.res->status = CORE_ST_REJECTED;
			a.res->reason = CORE_R_INVALID;
		}
		return;
	}
	core_rectypes[rec->type].redo(&a);
}

/* The rows of the first makers an order at price on side would meet. */
static void
prefetch_makers(const core_engine *c, const symbol *s, uint8_t side, int64_t price)
{
	const level *L = LEVELS(c);
	uint32_t	l = side <= CORE_SELL ? s->sides[!side].best : NIL;
	uint32_t	m;
	int			n = 0;

	if (l == NIL || (price != 0 && (side == CORE_BUY ? L[l].price > price : L[l].price < price)))
		return;
	for (m = L[l].head; m != NIL && n < PREFETCH_MAKERS; m = ORDERS(c)[m].next, n++)
	{
		const order_cold *oc = &ORDER_COLD(c)[m];

		PREFETCH(&BALANCES(c)[oc->base_row]);
		PREFETCH(&BALANCES(c)[oc->quote_row]);
	}
}

/*
 * A hint, read-only: start loading the account and balance rows (and, for
 * a CANCEL or AMEND, the order's) that applying rec will touch.  With many
 * accounts each of those is a cache miss; a caller that has the next
 * records in hand (a batch, a log being replayed) calls this a record or two
 * ahead, so that the misses overlap the work on the records before.
 */
void
core_prefetch(const core_engine *c, const core_record *rec)
{
	switch (rec->type)
	{
		case CORE_REC_PLACE:
			{
				const core_rec_place *r = &rec->u.place;
				const symbol *s;
				uint64_t	uh;

				if (r->symbol < 1 || r->symbol > c->nsymbols)
					return;
				s = &SYMBOLS(c)[r->symbol];
				uh = user_hash(r->user_id);
				PREFETCH(&ACCOUNTS(c)[account_home(c, uh)]);
				PREFETCH(&BALANCES(c)[row_home(c, uh, s->base)]);
				PREFETCH(&BALANCES(c)[row_home(c, uh, s->quote)]);
				prefetch_makers(c, s, r->side, r->price);
				return;
			}
		case CORE_REC_CANCEL:
		case CORE_REC_AMEND:
			{
				uint32_t	o = book_find_order(c, rec->type == CORE_REC_CANCEL ?
												rec->u.cancel.order_id :
												rec->u.amend.order_id);
				const order_cold *oc;

				if (o == NIL)
					return;
				oc = &ORDER_COLD(c)[o];
				PREFETCH(&ACCOUNTS(c)[ORDERS(c)[o].account]);
				PREFETCH(&BALANCES(c)[oc->base_row]);
				PREFETCH(&BALANCES(c)[oc->quote_row]);
				return;
			}
		default:
			return;
	}
}
