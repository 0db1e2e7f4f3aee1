/*
 * ladder.c — the price index of a book side: from a price to its level in
 * a few loads, and from a new level to its neighbour in the side's level
 * list without searching.
 *
 * core_int.h, "The price ladder", describes the structures: positions,
 * pages with their direct slots and occupancy bitmaps, the window
 * directory with its summary bitmap, the page treap, and sparse levels in
 * a treap of their own when the page pool is empty.  What they give:
 *   - finding a level: the window (one load) or the page treap, then the
 *     page's slot;
 *   - adding a level: its predecessor in priority order is the nearest
 *     occupied position below it in its page (one bit scan), else the last
 *     level of the nearest page below (the summary, or the page treap),
 *     else a sparse level (their treap); new best and new worst levels are
 *     recognised at once;
 *   - removing a level: unlink it, clear its bit, and free its page if it
 *     was the last.
 * The treaps' priorities are a hash of the key, so their shape depends on
 * the keys present alone; none of it ever influences an outcome.
 *
 * Owns the level pool and the page pool.  Never touches orders or money.
 */
#include <stdio.h>
#include <string.h>

#include "core_int.h"

#define PAGE_OF(pos) ((pos) >> LADDER_PAGE_BITS)
#define OFFSET_OF(pos) ((unsigned) ((pos) & (LADDER_PAGE_SLOTS - 1)))
#define BIT(i) (UINT64_C(1) << (i))
#define HIGHEST(bits) (63 - __builtin_clzll(bits))	/* bits != 0 */

/* ---------------------------------------------------------------- treaps */

/* A treap over the records of an array whose first member is a tnode. */
typedef struct tree
{
	char	   *base;
	size_t		stride;
} tree;

static inline tree
page_tree(const core_engine *c)
{
	return (tree) {(char *) PAGES(c), sizeof(page)};
}

static inline tree
level_tree(const core_engine *c)
{
	return (tree) {(char *) LEVELS(c), sizeof(level)};
}

static inline tnode *
tn(tree t, uint32_t i)
{
	return (tnode *) (t.base + (size_t) i * t.stride);
}

static inline uint32_t
prio(tree t, uint32_t i)
{
	return (uint32_t) mix64(tn(t, i)->key);
}

static uint32_t
tree_find(tree t, uint32_t root, uint64_t key)
{
	while (root != NIL && tn(t, root)->key != key)
		root = key < tn(t, root)->key ? tn(t, root)->left : tn(t, root)->right;
	return root;
}

/* The node with the greatest key below key, or NIL. */
static uint32_t
tree_pred(tree t, uint32_t root, uint64_t key)
{
	uint32_t	found = NIL;

	while (root != NIL)
	{
		if (tn(t, root)->key < key)
		{
			found = root;
			root = tn(t, root)->right;
		}
		else
			root = tn(t, root)->left;
	}
	return found;
}

/* The node with the least key at or above key, or NIL. */
static uint32_t
tree_ceil(tree t, uint32_t root, uint64_t key)
{
	uint32_t	found = NIL;

	while (root != NIL)
	{
		if (tn(t, root)->key >= key)
		{
			found = root;
			root = tn(t, root)->left;
		}
		else
			root = tn(t, root)->right;
	}
	return found;
}

static uint32_t
tree_insert(tree t, uint32_t root, uint32_t n)
{
	tnode	   *r;
	uint32_t	child;

	if (root == NIL)
	{
		tn(t, n)->left = tn(t, n)->right = NIL;
		return n;
	}
	r = tn(t, root);
	if (tn(t, n)->key < r->key)
	{
		r->left = tree_insert(t, r->left, n);
		child = r->left;
		if (prio(t, child) > prio(t, root))
		{
			r->left = tn(t, child)->right;
			tn(t, child)->right = root;
			return child;
		}
	}
	else
	{
		r->right = tree_insert(t, r->right, n);
		child = r->right;
		if (prio(t, child) > prio(t, root))
		{
			r->right = tn(t, child)->left;
			tn(t, child)->left = root;
			return child;
		}
	}
	return root;
}

static uint32_t
tree_merge(tree t, uint32_t a, uint32_t b)
{
	if (a == NIL)
		return b;
	if (b == NIL)
		return a;
	if (prio(t, a) > prio(t, b))
	{
		tn(t, a)->right = tree_merge(t, tn(t, a)->right, b);
		return a;
	}
	tn(t, b)->left = tree_merge(t, a, tn(t, b)->left);
	return b;
}

static uint32_t
tree_delete(tree t, uint32_t root, uint64_t key)
{
	tnode	   *r = tn(t, root);

	if (r->key == key)
		return tree_merge(t, r->left, r->right);
	if (key < r->key)
		r->left = tree_delete(t, r->left, key);
	else
		r->right = tree_delete(t, r->right, key);
	return root;
}

/* Keys in order and bounded by (lo, hi), heap on priority: its size, or -1. */
static int64_t
tree_check(tree t, uint32_t n, uint64_t lo, uint64_t hi, bool has_lo, bool has_hi)
{
	int64_t		l,
				r;
	const tnode *x;

	if (n == NIL)
		return 0;
	x = tn(t, n);
	if ((has_lo && x->key <= lo) || (has_hi && x->key >= hi))
		return -1;
	if ((x->left != NIL && prio(t, x->left) > prio(t, n)) ||
		(x->right != NIL && prio(t, x->right) > prio(t, n)))
		return -1;
	l = tree_check(t, x->left, lo, x->key, has_lo, true);
	r = tree_check(t, x->right, x->key, hi, true, has_hi);
	return (l < 0 || r < 0) ? -1 : l + r + 1;
}

/* ---------------------------------------------------------------- pools */

static uint32_t
alloc_level(core_engine *c)
{
	level	   *L = LEVELS(c);
	uint32_t	l;

	/* A level always holds an order, so there are never more levels than
	 * orders and this pool (max_orders slots) cannot run dry. */
	if (c->level_free != NIL)
	{
		l = c->level_free;
		c->level_free = L[l].next;
	}
	else
		l = ++c->level_fresh;
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

/* ---------------------------------------------------------------- window */

static inline bool
in_window(const book_side *bs, uint64_t pn, uint64_t *i)
{
	*i = pn - bs->wpage;		/* wraps above LADDER_WINDOW when pn < wpage */
	return *i < LADDER_WINDOW;
}

/* Put the pages of subtree n that fall in the window into its directory. */
static void
window_fill(const core_engine *c, book_side *bs, uint32_t n)
{
	tree		t = page_tree(c);
	uint64_t	key,
				i;

	if (n == NIL)
		return;
	key = tn(t, n)->key;
	if (key > bs->wpage)
		window_fill(c, bs, tn(t, n)->left);
	if (in_window(bs, key, &i))
	{
		bs->dir[i] = n;
		bs->summary |= BIT(i);
	}
	if (key < bs->wpage + LADDER_WINDOW - 1)
		window_fill(c, bs, tn(t, n)->right);
}

/*
 * Keep the window on the best price: when the best level's page is not
 * among the window's first 2 * LADDER_LEAD pages, move the window so that
 * LADDER_LEAD pages lie before it, and rebuild the directory from the page
 * treap (at most LADDER_WINDOW pages; nothing else moves).
 */
static void
window_follow(const core_engine *c, book_side *bs)
{
	uint64_t	bp;

	if (bs->best == NIL)
		return;
	bp = PAGE_OF(LEVELS(c)[bs->best].t.key);
	if (bp - bs->wpage < 2 * LADDER_LEAD)
		return;
	bs->wpage = bp >= LADDER_LEAD ? bp - LADDER_LEAD : 0;
	bs->summary = 0;
	memset(bs->dir, 0, sizeof(bs->dir));
	window_fill(c, bs, bs->page_root);
}

void
ladder_init(book_side *bs)
{
	memset(bs, 0, sizeof(*bs));
}

/* ---------------------------------------------------------------- pages */

static inline uint32_t
page_find(const core_engine *c, const book_side *bs, uint64_t pn)
{
	uint64_t	i;

	if (in_window(bs, pn, &i))
		return bs->dir[i];
	return tree_find(page_tree(c), bs->page_root, pn);
}

/* The side's page with the greatest number below pn, or NIL. */
static uint32_t
page_pred(const core_engine *c, const book_side *bs, uint64_t pn)
{
	uint64_t	i;

	if (in_window(bs, pn, &i))
	{
		uint64_t	below = bs->summary & (BIT(i) - 1);

		if (below != 0)
			return bs->dir[HIGHEST(below)];
	}
	return tree_pred(page_tree(c), bs->page_root, pn);
}

/* Move the sparse levels in page pg's range into it. */
static void
adopt_sparse(core_engine *c, book_side *bs, uint32_t pg)
{
	level	   *L = LEVELS(c);
	page	   *p = &PAGES(c)[pg];
	uint64_t	lo = p->t.key << LADDER_PAGE_BITS;
	uint64_t	hi = lo | (LADDER_PAGE_SLOTS - 1);

	for (;;)
	{
		uint32_t	l = tree_ceil(level_tree(c), bs->sparse_root, lo);

		if (l == NIL || L[l].t.key > hi)
			return;
		bs->sparse_root = tree_delete(level_tree(c), bs->sparse_root, L[l].t.key);
		bs->nsparse--;
		p->slot[OFFSET_OF(L[l].t.key)] = l;
		p->bits |= BIT(OFFSET_OF(L[l].t.key));
		L[l].page = pg;
	}
}

/* A new, empty page pn for the side; NIL when the pool is used up. */
static uint32_t
page_create(core_engine *c, book_side *bs, uint64_t pn)
{
	page	   *P = PAGES(c);
	uint32_t	pg;
	uint64_t	i;

	if (c->npages >= c->page_max)
		return NIL;
	if (c->page_free != NIL)
	{
		pg = c->page_free;
		c->page_free = P[pg].t.left;
	}
	else
		pg = ++c->page_fresh;
	c->npages++;
	P[pg].t.key = pn;
	P[pg].bits = 0;
	bs->page_root = tree_insert(page_tree(c), bs->page_root, pg);
	if (in_window(bs, pn, &i))
	{
		bs->dir[i] = pg;
		bs->summary |= BIT(i);
	}
	if (bs->nsparse > 0)
		adopt_sparse(c, bs, pg);
	return pg;
}

static void
page_release(core_engine *c, book_side *bs, uint32_t pg)
{
	page	   *p = &PAGES(c)[pg];
	uint64_t	i;

	bs->page_root = tree_delete(page_tree(c), bs->page_root, p->t.key);
	if (in_window(bs, p->t.key, &i))
	{
		bs->dir[i] = NIL;
		bs->summary &= ~BIT(i);
	}
	p->t.left = c->page_free;
	c->page_free = pg;
	c->npages--;
}

/* ---------------------------------------------------------------- levels */

uint32_t
ladder_find(const core_engine *c, const book_side *bs, uint64_t pos)
{
	uint32_t	pg = page_find(c, bs, PAGE_OF(pos));

	if (LIKELY(pg != NIL))
	{
		const page *p = &PAGES(c)[pg];
		unsigned	off = OFFSET_OF(pos);

		return (p->bits >> off) & 1 ? p->slot[off] : NIL;
	}
	if (bs->nsparse == 0)
		return NIL;
	return tree_find(level_tree(c), bs->sparse_root, pos);
}

/*
 * The level just better than position pos (NIL: none is), for a level at
 * pos that is already in page pg (NIL: sparse) but not yet in the list.
 */
static uint32_t
level_pred(const core_engine *c, const book_side *bs, uint64_t pos, uint32_t pg)
{
	const level *L = LEVELS(c);
	const page *P = PAGES(c);
	uint32_t	found = NIL,
				pp;

	if (bs->best == NIL || pos < L[bs->best].t.key)
		return NIL;
	if (pos > L[bs->worst].t.key)
		return bs->worst;
	/* No sparse level lies in a page's range, so a neighbour in the page is
	 * the nearest level of all. */
	if (pg != NIL)
	{
		uint64_t	below = P[pg].bits & (BIT(OFFSET_OF(pos)) - 1);

		if (below != 0)
			return P[pg].slot[HIGHEST(below)];
	}
	pp = page_pred(c, bs, PAGE_OF(pos));
	if (pp != NIL)
		found = P[pp].slot[HIGHEST(P[pp].bits)];
	if (bs->nsparse > 0)
	{
		uint32_t	sp = tree_pred(level_tree(c), bs->sparse_root, pos);

		if (sp != NIL && (found == NIL || L[sp].t.key > L[found].t.key))
			found = sp;
	}
	return found;
}

uint32_t
ladder_add(core_engine *c, book_side *bs, uint64_t pos, int64_t price)
{
	level	   *L = LEVELS(c);
	uint32_t	l = alloc_level(c);
	uint32_t	pg = page_find(c, bs, PAGE_OF(pos));
	uint32_t	pred;

	L[l].t.key = pos;
	L[l].t.left = L[l].t.right = NIL;
	L[l].qty = 0;
	L[l].price = price;
	L[l].count = 0;
	L[l].head = L[l].tail = NIL;
	if (pg == NIL)
		pg = page_create(c, bs, PAGE_OF(pos));
	L[l].page = pg;
	if (LIKELY(pg != NIL))
	{
		PAGES(c)[pg].slot[OFFSET_OF(pos)] = l;
		PAGES(c)[pg].bits |= BIT(OFFSET_OF(pos));
	}
	else
	{
		bs->sparse_root = tree_insert(level_tree(c), bs->sparse_root, l);
		bs->nsparse++;
	}

	pred = level_pred(c, bs, pos, pg);
	L[l].prev = pred;
	L[l].next = pred != NIL ? L[pred].next : bs->best;
	if (L[l].next != NIL)
		L[L[l].next].prev = l;
	else
		bs->worst = l;
	bs->nlevels++;
	if (pred != NIL)
		L[pred].next = l;
	else
	{
		bs->best = l;
		window_follow(c, bs);
	}
	return l;
}

void
ladder_remove(core_engine *c, book_side *bs, uint32_t l)
{
	level	   *L = LEVELS(c);
	bool		was_best = L[l].prev == NIL;

	if (L[l].prev != NIL)
		L[L[l].prev].next = L[l].next;
	else
		bs->best = L[l].next;
	if (L[l].next != NIL)
		L[L[l].next].prev = L[l].prev;
	else
		bs->worst = L[l].prev;
	if (L[l].page != NIL)
	{
		page	   *p = &PAGES(c)[L[l].page];

		p->bits &= ~BIT(OFFSET_OF(L[l].t.key));
		if (p->bits == 0)
			page_release(c, bs, L[l].page);
	}
	else
	{
		bs->sparse_root = tree_delete(level_tree(c), bs->sparse_root, L[l].t.key);
		bs->nsparse--;
	}
	bs->nlevels--;
	free_level(c, l);
	if (was_best)
		window_follow(c, bs);
}

/* ---------------------------------------------------------------- verify */

#define FAIL(...) do { snprintf(detail, len, __VA_ARGS__); return false; } while (0)

/* Levels held by the pages of subtree n, or -1 if a page holds a level
 * that is not its own. */
static int64_t
pages_held(const core_engine *c, uint32_t n)
{
	const page *p;
	int64_t		l,
				r;

	if (n == NIL)
		return 0;
	p = &PAGES(c)[n];
	if (p->bits == 0)
		return -1;
	for (uint64_t bits = p->bits; bits != 0; bits &= bits - 1)
	{
		unsigned	off = (unsigned) __builtin_ctzll(bits);
		uint32_t	l = p->slot[off];

		if (l == NIL || l > c->limits.max_orders || LEVELS(c)[l].page != n ||
			LEVELS(c)[l].t.key != ((p->t.key << LADDER_PAGE_BITS) | off))
			return -1;
	}
	l = pages_held(c, p->t.left);
	r = pages_held(c, p->t.right);
	return (l < 0 || r < 0) ? -1 : l + r + __builtin_popcountll(p->bits);
}

/*
 * Every level of the list is where the index says, and nothing else is in
 * the index: the pages hold exactly the list's paged levels, the sparse
 * treap exactly its sparse ones, no sparse level lies in a page's range,
 * and the window directory and summary agree with the page treap.  Adds
 * the side's pages to *npages.
 */
bool
ladder_verify(const core_engine *c, const book_side *bs, uint32_t *npages,
			  char *detail, size_t len)
{
	const level *L = LEVELS(c);
	uint32_t	n = 0,
				sparse = 0,
				prev = NIL;
	int64_t		pages;

	for (uint32_t l = bs->best; l != NIL; prev = l, l = L[l].next, n++)
	{
		uint64_t	pos = L[l].t.key;

		if (n >= c->limits.max_orders || L[l].prev != prev ||
			(prev != NIL && L[prev].t.key >= pos) || ladder_find(c, bs, pos) != l)
			FAIL("level at position %llu: out of order or not found by its price",
				 (unsigned long long) pos);
		if (L[l].page == NIL)
			sparse++;
		else if (PAGES(c)[L[l].page].t.key != PAGE_OF(pos))
			FAIL("level at position %llu: its page disagrees", (unsigned long long) pos);
	}
	if (n != bs->nlevels || prev != bs->worst || sparse != bs->nsparse)
		FAIL("%u levels listed, %u recorded; %u sparse, %u recorded",
			 n, bs->nlevels, sparse, bs->nsparse);
	if (tree_check(level_tree(c), bs->sparse_root, 0, 0, false, false) != sparse)
		FAIL("the sparse level treap is malformed or holds other levels");
	pages = tree_check(page_tree(c), bs->page_root, 0, 0, false, false);
	if (pages < 0)
		FAIL("the page treap is malformed");
	if (pages_held(c, bs->page_root) != (int64_t) (n - sparse))
		FAIL("the pages hold other levels than the list's %u paged ones", n - sparse);
	for (int i = 0; i < LADDER_WINDOW; i++)
	{
		uint32_t	pg = tree_find(page_tree(c), bs->page_root, bs->wpage + (uint64_t) i);

		if (bs->dir[i] != pg || ((bs->summary >> i) & 1) != (pg != NIL))
			FAIL("window slot %d disagrees with the page treap", i);
	}
	*npages += (uint32_t) pages;
	return true;
}
