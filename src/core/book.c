/*
 * book.c — order books: price levels, FIFO queues, the order pool and its
 * id index, and each account's list of resting orders.
 *
 * Each side of a book keeps its levels twice: in a treap (find or insert a
 * price in O(log levels)) and in a doubly linked list in priority order
 * (best level in O(1), the next worse level in O(1) while matching).  A
 * level holds its orders in arrival order.  Treap priorities are a hash of
 * the price, so the shape is deterministic; it never influences outcomes.
 *
 * Nothing here moves money or decides a trade; match.c does.
 */
#include <string.h>

#include "core_int.h"

/* ---------------------------------------------------------------- pool */

uint32_t
book_alloc_order(core_engine *c)
{
	order	   *orders = ORDERS(c);
	uint32_t	o;

	if (c->norders >= c->limits.max_orders)
		return NIL;
	if (c->order_free != NIL)
	{
		o = c->order_free;
		c->order_free = orders[o].next;
	}
	else
		o = ++c->order_fresh;
	memset(&orders[o], 0, sizeof(order));
	c->norders++;
	return o;
}

void
book_free_order(core_engine *c, uint32_t o)
{
	ORDERS(c)[o].next = c->order_free;
	ORDERS(c)[o].id = 0;
	c->order_free = o;
	c->norders--;
}

static uint32_t
alloc_level(core_engine *c)
{
	level	   *levels = LEVELS(c);
	uint32_t	l;

	/* A level always holds an order, so there are never more levels than
	 * orders and this pool (max_orders slots) cannot run dry. */
	if (c->level_free != NIL)
	{
		l = c->level_free;
		c->level_free = levels[l].next;
	}
	else
		l = ++c->level_fresh;
	memset(&levels[l], 0, sizeof(level));
	c->nlevels++;
	return l;
}

static void
free_level(core_engine *c, uint32_t l)
{
	LEVELS(c)[l].next = c->level_free;
	c->level_free = l;
	c->nlevels--;
}

/* ------------------------------------------------------------ id index */

uint32_t
book_find_order(const core_engine *c, int64_t order_id)
{
	const order *orders = ORDERS(c);

	for (uint32_t o = ORDER_HASH(c)[(uint64_t) order_id & c->order_hmask];
		 o != NIL; o = orders[o].hnext)
		if (orders[o].id == order_id)
			return o;
	return NIL;
}

/* Order ids are sequential, so the low bits spread them perfectly. */
void
book_index_order(core_engine *c, uint32_t o)
{
	uint32_t   *bucket = &ORDER_HASH(c)[(uint64_t) ORDERS(c)[o].id & c->order_hmask];

	ORDERS(c)[o].hnext = *bucket;
	*bucket = o;
}

void
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
 * New orders have the highest id so far, so appending keeps the list in
 * id order; an amended order keeps its place.  Snapshot restore feeds orders
 * in book order, so it inserts by id from the tail.
 */
void
book_link_account(core_engine *c, uint32_t o)
{
	order	   *orders = ORDERS(c);
	account    *acct = &ACCOUNTS(c)[orders[o].account];
	uint32_t	after = acct->orders_tail;

	while (after != NIL && orders[after].id > orders[o].id)
		after = orders[after].uprev;
	orders[o].uprev = after;
	orders[o].unext = after != NIL ? orders[after].unext : acct->orders_head;
	if (orders[o].unext != NIL)
		orders[orders[o].unext].uprev = o;
	else
		acct->orders_tail = o;
	if (after != NIL)
		orders[after].unext = o;
	else
		acct->orders_head = o;
	acct->norders++;
}

void
book_unlink_account(core_engine *c, uint32_t o)
{
	order	   *orders = ORDERS(c);
	account    *acct = &ACCOUNTS(c)[orders[o].account];

	if (orders[o].uprev != NIL)
		orders[orders[o].uprev].unext = orders[o].unext;
	else
		acct->orders_head = orders[o].unext;
	if (orders[o].unext != NIL)
		orders[orders[o].unext].uprev = orders[o].uprev;
	else
		acct->orders_tail = orders[o].uprev;
	orders[o].unext = orders[o].uprev = NIL;
	acct->norders--;
}

/* ------------------------------------------------------------- levels */

static uint32_t
treap_insert(level *L, uint32_t t, uint32_t n)
{
	uint32_t	child;

	if (t == NIL)
		return n;
	if (L[n].key < L[t].key)
	{
		L[t].left = treap_insert(L, L[t].left, n);
		child = L[t].left;
		if (L[child].prio > L[t].prio)
		{
			L[t].left = L[child].right;
			L[child].right = t;
			return child;
		}
	}
	else
	{
		L[t].right = treap_insert(L, L[t].right, n);
		child = L[t].right;
		if (L[child].prio > L[t].prio)
		{
			L[t].right = L[child].left;
			L[child].left = t;
			return child;
		}
	}
	return t;
}

static uint32_t
treap_merge(level *L, uint32_t a, uint32_t b)
{
	if (a == NIL)
		return b;
	if (b == NIL)
		return a;
	if (L[a].prio > L[b].prio)
	{
		L[a].right = treap_merge(L, L[a].right, b);
		return a;
	}
	L[b].left = treap_merge(L, a, L[b].left);
	return b;
}

static uint32_t
treap_delete(level *L, uint32_t t, int64_t key)
{
	if (L[t].key == key)
		return treap_merge(L, L[t].left, L[t].right);
	if (key < L[t].key)
		L[t].left = treap_delete(L, L[t].left, key);
	else
		L[t].right = treap_delete(L, L[t].right, key);
	return t;
}

uint32_t
book_level_find(const core_engine *c, const book_side *bs, int64_t key)
{
	const level *L = LEVELS(c);
	uint32_t	t = bs->root;

	while (t != NIL && L[t].key != key)
		t = key < L[t].key ? L[t].left : L[t].right;
	return t;
}

static uint32_t
level_create(core_engine *c, book_side *bs, int64_t price, int64_t key)
{
	level	   *L = LEVELS(c);
	uint32_t	n = alloc_level(c);
	uint32_t	pred = NIL;

	L[n].price = price;
	L[n].key = key;
	L[n].prio = (uint32_t) mix64((uint64_t) price);

	/* Predecessor in priority order: the worst level still better than n. */
	for (uint32_t t = bs->root; t != NIL;)
	{
		if (L[t].key < key)
		{
			pred = t;
			t = L[t].right;
		}
		else
			t = L[t].left;
	}
	L[n].prev = pred;
	L[n].next = pred != NIL ? L[pred].next : bs->best;
	if (L[n].next != NIL)
		L[L[n].next].prev = n;
	if (pred != NIL)
		L[pred].next = n;
	else
		bs->best = n;

	bs->root = treap_insert(L, bs->root, n);
	bs->nlevels++;
	return n;
}

static void
level_remove(core_engine *c, book_side *bs, uint32_t l)
{
	level	   *L = LEVELS(c);

	bs->root = treap_delete(L, bs->root, L[l].key);
	if (L[l].prev != NIL)
		L[L[l].prev].next = L[l].next;
	else
		bs->best = L[l].next;
	if (L[l].next != NIL)
		L[L[l].next].prev = L[l].prev;
	bs->nlevels--;
	free_level(c, l);
}

/* ------------------------------------------------------------- queues */

void
book_enqueue(core_engine *c, uint32_t o)
{
	order	   *ord = &ORDERS(c)[o];
	book_side  *bs = &SYMBOLS(c)[ord->symbol].sides[ord->side];
	int64_t		key = ord->side == CORE_BUY ? -ord->price : ord->price;
	uint32_t	l = book_level_find(c, bs, key);
	level	   *lv;

	if (l == NIL)
		l = level_create(c, bs, ord->price, key);
	lv = &LEVELS(c)[l];
	ord->level = l;
	ord->queued_seq = c->seq;
	ord->next = NIL;
	ord->prev = lv->tail;
	if (lv->tail != NIL)
		ORDERS(c)[lv->tail].next = o;
	else
		lv->head = o;
	lv->tail = o;
	lv->qty += ord->remaining;
	lv->count++;
}

void
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
	lv->qty -= ord->remaining;
	lv->count--;
	if (lv->count == 0)
		level_remove(c, &SYMBOLS(c)[ord->symbol].sides[ord->side], ord->level);
	ord->level = NIL;
	ord->next = ord->prev = NIL;
}

/* ------------------------------------------------------------- reading */

int64_t
order_lock_needed(const symbol *s, const order *o)
{
	int64_t		v;

	if (o->side == CORE_SELL)
		return o->remaining;
	/* Fits: the lock for the larger original quantity was checked at entry. */
	quote_value(o->price, o->remaining, s->base_scale, &v);
	return v;
}

void
order_to_info(const core_engine *c, uint32_t o, core_order_info *out)
{
	const order *ord = &ORDERS(c)[o];

	memset(out, 0, sizeof(*out));
	out->order_id = ord->id;
	out->user_id = ord->user_id;
	out->symbol = ord->symbol;
	out->side = ord->side;
	out->stp = ord->stp;
	out->post_only = ord->post_only;
	out->price = ord->price;
	out->qty = ord->filled + ord->remaining;
	out->filled_qty = ord->filled;
	out->remaining_qty = ord->remaining;
	out->locked = ord->locked;
	out->notional_hi = (int64_t) (ord->notional >> 64);
	out->notional_lo = (uint64_t) ord->notional;
	out->created_ts = ord->created_ts;
	out->queued_seq = ord->queued_seq;
	memcpy(out->client_order_id, ord->client_order_id, sizeof(out->client_order_id));
}

bool
core_order_get(const core_engine *c, int64_t order_id, core_order_info *out)
{
	uint32_t	o = book_find_order(c, order_id);

	if (o == NIL)
		return false;
	order_to_info(c, o, out);
	return true;
}

void
core_user_orders(const core_engine *c, int64_t user_id, uint32_t symbol_id,
				 core_order_fn fn, void *ctx)
{
	uint32_t	acct = ledger_find_account(c, user_id);
	const order *orders = ORDERS(c);

	if (acct == NIL)
		return;
	for (uint32_t o = ACCOUNTS(c)[acct].orders_head; o != NIL; o = orders[o].unext)
	{
		core_order_info info;

		if (symbol_id != 0 && orders[o].symbol != symbol_id)
			continue;
		order_to_info(c, o, &info);
		if (!fn(ctx, &info))
			return;
	}
}

void
core_book_levels(const core_engine *c, uint32_t symbol_id, core_side side,
				 uint32_t max_levels, core_level_fn fn, void *ctx)
{
	const level *L = LEVELS(c);
	uint32_t	n = 0;

	if (symbol_id < 1 || symbol_id > c->nsymbols || (unsigned) side > CORE_SELL)
		return;
	for (uint32_t l = SYMBOLS(c)[symbol_id].sides[side].best;
		 l != NIL && (max_levels == 0 || n < max_levels); l = L[l].next, n++)
	{
		core_level_info info;

		memset(&info, 0, sizeof(info));
		info.side = side;
		info.price = L[l].price;
		info.qty = L[l].qty;
		info.orders = (int32_t) L[l].count;
		if (!fn(ctx, &info))
			return;
	}
}

void
core_level_orders(const core_engine *c, uint32_t symbol_id, core_side side,
				  int64_t price, core_order_fn fn, void *ctx)
{
	const book_side *bs;
	uint32_t	l;

	if (symbol_id < 1 || symbol_id > c->nsymbols || (unsigned) side > CORE_SELL)
		return;
	bs = &SYMBOLS(c)[symbol_id].sides[side];
	l = book_level_find(c, bs, side == CORE_BUY ? -price : price);
	if (l == NIL)
		return;
	for (uint32_t o = LEVELS(c)[l].head; o != NIL; o = ORDERS(c)[o].next)
	{
		core_order_info info;

		order_to_info(c, o, &info);
		if (!fn(ctx, &info))
			return;
	}
}
