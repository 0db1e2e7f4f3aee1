/*
 * image.c — a second engine in the same state, made by copying memory.
 *
 * The arena is position independent (offsets and 32-bit indexes, never
 * pointers), so its bytes are an engine wherever they are put.  core_copy
 * copies what the state uses and skips the never-used tail of every pool:
 * core_create's rule is that a slot nobody handed out is never read, so
 * those bytes may hold anything in the copy.  The account and balance
 * tables (open addressing: any slot may be in use) and the hash buckets
 * are copied whole, and so are regions it does not know about, so a pool
 * added to the layout later is copied (just not trimmed).
 *
 * Never changes the source.
 */
#include <string.h>

#include "core_int.h"

/* A byte range of the arena that the state does not use. */
typedef struct skip_range
{
	size_t		from;
	size_t		to;
} skip_range;

#define POOLS 9

/* Unused tails of the pools, in arena order; returns how many. */
static int
unused_tails(const core_engine *c, skip_range *out)
{
	const core_limits *l = &c->limits;
	struct
	{
		size_t		off;
		size_t		used;		/* slots 0..used are in use or NIL */
		size_t		slots;		/* slots in the pool, NIL included */
		size_t		size;
	}			pools[POOLS] = {
		{c->off_assets, c->nassets, (size_t) l->max_assets + 1, sizeof(asset)},
		{c->off_symbols, c->nsymbols, (size_t) l->max_symbols + 1, sizeof(symbol)},
		{c->off_account_seq, c->naccounts, (size_t) l->max_accounts + 1, sizeof(uint32_t)},
		{c->off_orders, c->order_fresh, (size_t) l->max_orders + 1, sizeof(order)},
		{c->off_order_cold, c->order_fresh, (size_t) l->max_orders + 1, sizeof(order_cold)},
		{c->off_order_text, c->order_fresh, (size_t) l->max_orders + 1, sizeof(order_text)},
		{c->off_order_links, c->order_fresh, (size_t) l->max_orders + 1, sizeof(order_link)},
		{c->off_levels, c->level_fresh, (size_t) l->max_orders + 1, sizeof(level)},
		{c->off_pages, c->page_fresh, (size_t) LADDER_PAGES(l->max_orders) + 1, sizeof(page)},
	};
	int			n = 0;

	for (int i = 0; i < POOLS; i++)
	{
		size_t		from = pools[i].off + (pools[i].used + 1) * pools[i].size;
		size_t		to = pools[i].off + pools[i].slots * pools[i].size;

		if (from < to)
		{
			out[n].from = from;
			out[n].to = to;
			n++;
		}
	}
	/* Sort by start (insertion: a few entries). */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && out[j - 1].from > out[j].from; j--)
		{
			skip_range	t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

size_t
core_used_bytes(const core_engine *c)
{
	skip_range	skip[POOLS];
	int			n = unused_tails(c, skip);
	size_t		used = c->size;

	for (int i = 0; i < n; i++)
		used -= skip[i].to - skip[i].from;
	return used;
}

core_engine *
core_copy(void *dst, size_t dst_size, const core_engine *src)
{
	skip_range	skip[POOLS];
	int			n;
	size_t		at = 0;

	if (dst == NULL || dst_size < src->size || ((uintptr_t) dst & (CORE_ARENA_ALIGN - 1)) != 0)
		return NULL;
	n = unused_tails(src, skip);
	for (int i = 0; i < n; i++)
	{
		memcpy((char *) dst + at, (const char *) src + at, skip[i].from - at);
		at = skip[i].to;
	}
	memcpy((char *) dst + at, (const char *) src + at, src->size - at);
	return (core_engine *) dst;
}
