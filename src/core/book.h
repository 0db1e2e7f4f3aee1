/*
 * book.h — the primitives that change order books: the order pool and its
 * id index, each account's list of resting orders, and the FIFO queue of
 * each price level.  Inline, because every order command runs several of
 * them (core.c files are compiled apart, without link-time optimisation).
 *
 * A level holds its orders in arrival order; the price ladder (ladder.c)
 * finds, creates and removes levels and keeps them in priority order.  An
 * order is kept in three records at one slot (hot, cold, client id) and
 * linked into its account's list through a fourth, compact array, so that
 * linking and unlinking it touch no other order's records.
 *
 * Nothing here moves money or decides a trade; match.c does.
 */
#ifndef ENGINE_CORE_BOOK_H
#define ENGINE_CORE_BOOK_H

#include "core_int.h"

/* ---------------------------------------------------------------- ladder */

/*
 * The level at position pos of a side, or NIL: through the window
 * directory when pos is in it (the common case), else ladder.c's slower
 * ladder_find.
 */
HOT_INLINE uint32_t
book_level_find(const core_engine *c, const book_side *bs, uint64_t pos)
{
	uint64_t	i = (pos >> LADDER_PAGE_BITS) - bs->wpage;

	if (LIKELY(i < LADDER_WINDOW))
	{
		uint32_t	pg = bs->dir[i];
		unsigned	off = (unsigned) (pos & (LADDER_PAGE_SLOTS - 1));

		if (pg != NIL && ((PAGES(c)[pg].bits >> off) & 1))
			return PAGES(c)[pg].slot[off];
		if (pg != NIL || bs->nsparse == 0)
			return NIL;
	}
	return ladder_find(c, bs, pos);
}

/* ---------------------------------------------------------------- pool */

/* The slot is not cleared: the caller writes every field it keeps. */
HOT_INLINE uint32_t
book_alloc_order(core_engine *c)
{
	uint32_t	o;

	if (c->norders >= c->limits.max_orders)
		return NIL;
	if (c->order_free != NIL)
	{
		o = c->order_free;
		c->order_free = ORDERS(c)[o].next;
	}
	else
		o = ++c->order_fresh;
	c->norders++;
	return o;
}

HOT_INLINE void
book_free_order(core_engine *c, uint32_t o)
{
	ORDERS(c)[o].next = c->order_free;
	ORDERS(c)[o].id = 0;
	c->order_free = o;
	c->norders--;
}

/* ------------------------------------------------------------ id index */

HOT_INLINE uint32_t
book_find_order(const core_engine *c, int64_t order_id)
{
	const order *orders = ORDERS(c);

	for (uint32_t o = ORDER_HASH(c)[(uint64_t) order_id & c->order_hmask];
		 o != NIL; o = orders[o].hnext)
		if (orders[o].id == order_id)
			return o;
	return NIL;
}

/*
 * The id-hash bucket where an order with this id goes, or NULL when an
 * order has it already: one probe for "absent, then insert".  The bucket
 * stays valid until an order is indexed or unindexed.
 */
HOT_INLINE uint32_t *
book_order_bucket_if_absent(core_engine *c, int64_t order_id)
{
	const order *orders = ORDERS(c);
	uint32_t   *bucket = &ORDER_HASH(c)[(uint64_t) order_id & c->order_hmask];

	for (uint32_t o = *bucket; o != NIL; o = orders[o].hnext)
		if (orders[o].id == order_id)
			return NULL;
	return bucket;
}

/* Index order o in bucket, from book_order_bucket_if_absent of its id. */
HOT_INLINE void
book_index_order_at(core_engine *c, uint32_t o, uint32_t *bucket)
{
	ORDERS(c)[o].hnext = *bucket;
	*bucket = o;
}

/* Order ids are sequential, so the low bits spread them perfectly. */
HOT_INLINE void
book_index_order(core_engine *c, uint32_t o)
{
	book_index_order_at(c, o, &ORDER_HASH(c)[(uint64_t) ORDERS(c)[o].id & c->order_hmask]);
}

HOT_INLINE void
book_unindex_order(core_engine *c, uint32_t o)
{
	order	   *orders = ORDERS(c);
	uint32_t   *link = &ORDER_HASH(c)[(uint64_t) orders[o].id & c->order_hmask];

	while (*link != o)
		link = &orders[*link].hnext;
	*link = orders[o].hnext;
	orders[o].hnext = NIL;
}

/* ---------------------------------------------- account's resting orders */

/*
 * A new order has the highest id so far: appending it keeps the list in id
 * order (and reads no other order).  An amended order keeps its place.
 */
HOT_INLINE void
book_append_account(core_engine *c, uint32_t o)
{
	order_link *U = ORDER_LINKS(c);
	account    *acct = &ACCOUNTS(c)[ORDERS(c)[o].account];
	uint32_t	tail = acct->orders_tail;

	U[o].prev = tail;
	U[o].next = NIL;
	if (tail != NIL)
		U[tail].next = o;
	else
		acct->orders_head = o;
	acct->orders_tail = o;
	acct->norders++;
}

/* Snapshot restore feeds orders in book order: it inserts by id, from the tail. */
HOT_INLINE void
book_link_account(core_engine *c, uint32_t o)
{
	const order *orders = ORDERS(c);
	order_link *U = ORDER_LINKS(c);
	account    *acct = &ACCOUNTS(c)[orders[o].account];
	uint32_t	after = acct->orders_tail;

	while (after != NIL && orders[after].id > orders[o].id)
		after = U[after].prev;
	U[o].prev = after;
	U[o].next = after != NIL ? U[after].next : acct->orders_head;
	if (U[o].next != NIL)
		U[U[o].next].prev = o;
	else
		acct->orders_tail = o;
	if (after != NIL)
		U[after].next = o;
	else
		acct->orders_head = o;
	acct->norders++;
}

HOT_INLINE void
book_unlink_account(core_engine *c, uint32_t o)
{
	order_link *U = ORDER_LINKS(c);
	account    *acct = &ACCOUNTS(c)[ORDERS(c)[o].account];

	if (U[o].prev != NIL)
		U[U[o].prev].next = U[o].next;
	else
		acct->orders_head = U[o].next;
	if (U[o].next != NIL)
		U[U[o].next].prev = U[o].prev;
	else
		acct->orders_tail = U[o].prev;
	acct->norders--;
}

/* ------------------------------------------------------------- queues */

HOT_INLINE void
book_enqueue(core_engine *c, uint32_t o)
{
	order	   *ord = &ORDERS(c)[o];
	symbol	   *s = &SYMBOLS(c)[ord->symbol];
	book_side  *bs = &s->sides[ord->side];
	uint64_t	pos = ladder_pos(s, ord->side, ord->price);
	uint32_t	l = book_level_find(c, bs, pos);
	level	   *lv;

	if (l == NIL)
		l = ladder_add(c, bs, pos, ord->price);
	lv = &LEVELS(c)[l];
	ord->level = l;
	ORDER_COLD(c)[o].queued_seq = c->seq;
	ord->next = NIL;
	ord->prev = lv->tail;
	if (lv->tail != NIL)
		ORDERS(c)[lv->tail].next = o;
	else
		lv->head = o;
	lv->tail = o;
	lv->qty += (u128) ord->remaining;
	lv->count++;
}

HOT_INLINE void
book_dequeue(core_engine *c, uint32_t o)
{
	order	   *orders = ORDERS(c);
	order	   *ord = &orders[o];
	level	   *lv = &LEVELS(c)[ord->level];

	if (ord->prev != NIL)
		orders[ord->prev].next = ord->next;
	else
		lv->head = ord->next;
	if (ord->next != NIL)
		orders[ord->next].prev = ord->prev;
	else
		lv->tail = ord->prev;
	lv->qty -= (u128) ord->remaining;
	lv->count--;
	if (lv->count == 0)
		ladder_remove(c, &SYMBOLS(c)[ord->symbol].sides[ord->side], ord->level);
	ord->level = NIL;
	ord->next = ord->prev = NIL;
}

/* What a resting order's lock must be: its remainder's value (buy) or
 * the remainder itself (sell). */
HOT_INLINE int64_t
order_lock_needed(const symbol *s, const order *o)
{
	int64_t		v = 0;

	if (o->side == CORE_SELL)
		return o->remaining;
	/* Fits: the lock for the larger original quantity was checked at entry. */
	quote_value(o->price, o->remaining, s->base_scale, &v);
	return v;
}

#endif							/* ENGINE_CORE_BOOK_H */
