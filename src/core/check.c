/*
 * check.c — the invariants (core_verify) and the state digest.
 *
 * Both only read.  core_verify walks every structure and cross-checks the
 * redundant ones (locks against frozen balances, level totals against their
 * queues, the price ladder against the level list, the id index, the
 * account and balance tables, the rows each order and symbol keeps and the
 * account lists against the books).  The digest hashes the state in canonical order
 * (ids, account creation order, book priority order), never in slot or hash
 * order, so equal states give equal digests.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "book.h"

#define VERIFY_ASSET_CHUNK 256	/* assets summed per pass over the balances */


typedef struct checker
{
	const core_engine *c;
	core_check_fn fn;
	void	   *ctx;
	bool		all_ok;
	char		detail[256];
} checker;

static void
checker_start(checker *k, const core_engine *c, core_check_fn fn, void *ctx)
{
	memset(k, 0, sizeof(*k));
	k->c = c;
	k->fn = fn;
	k->ctx = ctx;
	k->all_ok = true;
}

static void
report(checker *k, const char *name, bool ok)
{
	if (!ok)
		k->all_ok = false;
	if (k->fn)
		k->fn(k->ctx, name, ok, ok ? NULL : k->detail);
}

/* The account with creation number seq. */
static inline const account *
account_seq(const core_engine *c, uint32_t seq)
{
	return &ACCOUNTS(c)[ACCOUNT_SEQ(c)[seq]];
}

static bool
check_balances_non_negative(checker *k)
{
	const core_engine *c = k->c;
	const balance *rows = BALANCES(c);

	for (uint32_t a = 1; a <= c->naccounts; a++)
		for (uint32_t b = account_seq(c, a)->balances; b != NIL; b = rows[b].next)
			if (rows[b].available < 0 || rows[b].frozen < 0)
			{
				snprintf(k->detail, sizeof(k->detail),
						 "user %lld asset %u: available %lld frozen %lld",
						 (long long) rows[b].user_id, rows[b].asset,
						 (long long) rows[b].available, (long long) rows[b].frozen);
				return false;
			}
	return true;
}

static bool
check_conservation(checker *k)
{
	const core_engine *c = k->c;
	const balance *rows = BALANCES(c);

	for (uint32_t first = 1; first <= c->nassets; first += VERIFY_ASSET_CHUNK)
	{
		i128		sum[VERIFY_ASSET_CHUNK];
		uint32_t	last = first + VERIFY_ASSET_CHUNK - 1;

		memset(sum, 0, sizeof(sum));
		for (uint32_t b = 1; b <= c->balance_cap; b++)
			if (rows[b].asset >= first && rows[b].asset <= last)
				sum[rows[b].asset - first] += (i128) rows[b].available + rows[b].frozen;
		for (uint32_t id = first; id <= last && id <= c->nassets; id++)
			if (sum[id - first] != ASSETS(c)[id].supply)
			{
				snprintf(k->detail, sizeof(k->detail),
						 "asset %u: balances sum to %lld, deposits minus withdrawals are %lld",
						 id, (long long) sum[id - first], (long long) ASSETS(c)[id].supply);
				return false;
			}
	}
	return true;
}

static bool
check_order_locks(checker *k)
{
	const core_engine *c = k->c;

	for (uint32_t a = 1; a <= c->naccounts; a++)
	{
		uint32_t	n = 0;

		/* At most norders steps: a list that loops is indexes_agree's to report. */
		for (uint32_t o = account_seq(c, a)->orders_head; o != NIL && n < account_seq(c, a)->norders;
			 o = ORDER_LINKS(c)[o].next, n++)
		{
			const order *ord = &ORDERS(c)[o];
			const order_cold *oc = &ORDER_COLD(c)[o];
			const symbol *s = &SYMBOLS(c)[ord->symbol];
			int64_t		need = order_lock_needed(s, ord);

			if (oc->locked != need)
			{
				snprintf(k->detail, sizeof(k->detail),
						 "order %lld locks %lld, its remainder needs %lld",
						 (long long) ord->id, (long long) oc->locked, (long long) need);
				return false;
			}
			if (oc->base_row != ledger_find_row(c, ord->user_id, s->base, NULL) ||
				oc->quote_row != ledger_find_row(c, ord->user_id, s->quote, NULL))
			{
				snprintf(k->detail, sizeof(k->detail),
						 "order %lld: the balance rows it keeps are not its owner's",
						 (long long) ord->id);
				return false;
			}
		}
	}
	return true;
}

static bool
check_frozen(checker *k)
{
	const core_engine *c = k->c;
	const balance *rows = BALANCES(c);

	for (uint32_t a = 1; a <= c->naccounts; a++)
	{
		const account *acct = account_seq(c, a);

		for (uint32_t b = acct->balances; b != NIL; b = rows[b].next)
		{
			i128		locks = 0;
			uint32_t	n = 0;

			for (uint32_t o = acct->orders_head; o != NIL && n < acct->norders;
				 o = ORDER_LINKS(c)[o].next, n++)
			{
				const order *ord = &ORDERS(c)[o];
				const symbol *s = &SYMBOLS(c)[ord->symbol];

				if ((ord->side == CORE_BUY ? s->quote : s->base) == rows[b].asset)
					locks += ORDER_COLD(c)[o].locked;
			}
			if (locks != rows[b].frozen)
			{
				snprintf(k->detail, sizeof(k->detail),
						 "user %lld asset %u: frozen %lld, resting orders lock %lld",
						 (long long) acct->user_id, rows[b].asset,
						 (long long) rows[b].frozen, (long long) locks);
				return false;
			}
		}
	}
	return true;
}

static bool
check_not_crossed(checker *k)
{
	const core_engine *c = k->c;

	for (uint32_t id = 1; id <= c->nsymbols; id++)
	{
		const symbol *s = &SYMBOLS(c)[id];
		uint32_t	bid = s->sides[CORE_BUY].best,
					ask = s->sides[CORE_SELL].best;

		if (bid != NIL && ask != NIL && LEVELS(c)[bid].price >= LEVELS(c)[ask].price)
		{
			snprintf(k->detail, sizeof(k->detail), "symbol %s: best bid %lld >= best ask %lld",
					 s->name, (long long) LEVELS(c)[bid].price, (long long) LEVELS(c)[ask].price);
			return false;
		}
	}
	return true;
}

static bool
check_levels(checker *k)
{
	const core_engine *c = k->c;
	const level *L = LEVELS(c);
	uint32_t	total = 0,
				pages = 0;

	for (uint32_t id = 1; id <= c->nsymbols; id++)
		for (int side = 0; side < 2; side++)
		{
			const symbol *s = &SYMBOLS(c)[id];
			const book_side *bs = &s->sides[side];
			char		why[160];

			if (!ladder_verify(c, bs, &pages, why, sizeof(why)))
			{
				snprintf(k->detail, sizeof(k->detail), "symbol %s %s: %s",
						 s->name, side ? "asks" : "bids", why);
				return false;
			}
			for (uint32_t l = bs->best; l != NIL; l = L[l].next)
				if (L[l].price <= 0 || !core_price_on_tick(L[l].price, s->tick) ||
					L[l].t.key != ladder_pos(s, side, L[l].price))
				{
					snprintf(k->detail, sizeof(k->detail),
							 "symbol %s %s: level at price %lld has the wrong position",
							 s->name, side ? "asks" : "bids", (long long) L[l].price);
					return false;
				}
			total += bs->nlevels;
		}
	if (total != c->nlevels || pages != c->npages)
	{
		snprintf(k->detail, sizeof(k->detail),
				 "%u levels in books, %u allocated; %u pages in books, %u allocated",
				 total, c->nlevels, pages, c->npages);
		return false;
	}
	return true;
}

/* Decimal text of a 128-bit count, for failure details. */
static const char *
u128_text(u128 v, char buf[40])
{
	char	   *p = buf + 39;

	*p = '\0';
	do
	{
		*--p = (char) ('0' + (int) (v % 10));
		v /= 10;
	} while (v > 0);
	return p;
}

static bool
check_queues(checker *k)
{
	char		held[40],
				recorded[40];
	const core_engine *c = k->c;
	const level *L = LEVELS(c);
	const order *orders = ORDERS(c);
	uint32_t	in_books = 0;

	for (uint32_t id = 1; id <= c->nsymbols; id++)
		for (int side = 0; side < 2; side++)
			for (uint32_t l = SYMBOLS(c)[id].sides[side].best; l != NIL; l = L[l].next)
			{
				u128		qty = 0;
				uint32_t	n = 0,
							prev = NIL;

				for (uint32_t o = L[l].head; o != NIL; prev = o, o = orders[o].next, n++)
				{
					const order *ord = &orders[o];

					if (ord->prev != prev || ord->level != l || ord->symbol != id ||
						ord->side != side || ord->price != L[l].price ||
						ord->remaining <= 0 ||
						(prev != NIL && ORDER_COLD(c)[prev].queued_seq >=
						 ORDER_COLD(c)[o].queued_seq) ||
						book_find_order(c, ord->id) != o)
					{
						snprintf(k->detail, sizeof(k->detail),
								 "order %lld at %s price %lld: queue links, FIFO order or index disagree",
								 (long long) ord->id, SYMBOLS(c)[id].name, (long long) L[l].price);
						return false;
					}
					qty += (u128) ord->remaining;
				}
				if (prev != L[l].tail || n != L[l].count || n == 0 || qty != L[l].qty)
				{
					snprintf(k->detail, sizeof(k->detail),
							 "level %s %lld: holds %u orders of %s, records %u of %s",
							 SYMBOLS(c)[id].name, (long long) L[l].price, n,
							 u128_text(qty, held), L[l].count, u128_text(L[l].qty, recorded));
					return false;
				}
				in_books += n;
			}
	if (in_books != c->norders)
	{
		snprintf(k->detail, sizeof(k->detail), "%u orders in books, %u allocated",
				 in_books, c->norders);
		return false;
	}
	return true;
}

static bool
check_index(checker *k)
{
	const core_engine *c = k->c;
	const order *orders = ORDERS(c);
	const order_link *U = ORDER_LINKS(c);
	uint32_t	indexed = 0,
				listed = 0;

	for (uint32_t h = 0; h <= c->order_hmask; h++)
		for (uint32_t o = ORDER_HASH(c)[h]; o != NIL; o = orders[o].hnext)
		{
			if (((uint64_t) orders[o].id & c->order_hmask) != h || orders[o].level == NIL)
			{
				snprintf(k->detail, sizeof(k->detail),
						 "order %lld: indexed in the wrong bucket or not on a book",
						 (long long) orders[o].id);
				return false;
			}
			indexed++;
		}
	for (uint32_t a = 1; a <= c->naccounts; a++)
	{
		uint32_t	slot = ACCOUNT_SEQ(c)[a];
		const account *acct = &ACCOUNTS(c)[slot];
		uint32_t	n = 0,
					prev = NIL;

		if (slot < 1 || slot > c->account_cap || acct->seq != a ||
			ledger_find_account(c, acct->user_id) != slot)
		{
			snprintf(k->detail, sizeof(k->detail), "account %u: account index disagrees", a);
			return false;
		}
		for (uint32_t o = acct->orders_head; o != NIL; prev = o, o = U[o].next, n++)
			if (orders[o].account != slot || orders[o].user_id != acct->user_id ||
				U[o].prev != prev || n >= c->norders ||
				(prev != NIL && orders[prev].id >= orders[o].id))
			{
				snprintf(k->detail, sizeof(k->detail),
						 "user %lld: order list broken at order %lld",
						 (long long) acct->user_id, (long long) orders[o].id);
				return false;
			}
		if (n != acct->norders || prev != acct->orders_tail)
		{
			snprintf(k->detail, sizeof(k->detail), "user %lld: %u orders listed, %u recorded",
					 (long long) acct->user_id, n, acct->norders);
			return false;
		}
		listed += n;
	}
	if (indexed != c->norders || listed != c->norders)
	{
		snprintf(k->detail, sizeof(k->detail),
				 "%u orders resting, %u indexed by id, %u in account lists",
				 c->norders, indexed, listed);
		return false;
	}
	return true;
}

/*
 * The account and balance tables: every record is found by its key where
 * it is, belongs to a listed account, and each account's rows are its own,
 * in asset order; the counts agree.  The rows symbols keep are the fee
 * account's.
 */
static bool
check_ledger(checker *k)
{
	const core_engine *c = k->c;
	const balance *rows = BALANCES(c);
	uint32_t	accounts = 0,
				in_table = 0,
				in_lists = 0;

	for (uint32_t i = 1; i <= c->account_cap; i++)
		accounts += ACCOUNTS(c)[i].seq != 0;
	for (uint32_t b = 1; b <= c->balance_cap; b++)
		if (rows[b].asset != 0)
		{
			if (rows[b].asset > c->nassets ||
				ledger_find_row(c, rows[b].user_id, rows[b].asset, NULL) != b ||
				ledger_find_account(c, rows[b].user_id) == NIL)
			{
				snprintf(k->detail, sizeof(k->detail),
						 "balance of user %lld asset %u: not found where it is",
						 (long long) rows[b].user_id, rows[b].asset);
				return false;
			}
			in_table++;
		}
	for (uint32_t a = 1; a <= c->naccounts; a++)
	{
		const account *acct = account_seq(c, a);
		uint32_t	last = 0;

		for (uint32_t b = acct->balances; b != NIL; b = rows[b].next)
		{
			if (rows[b].user_id != acct->user_id || rows[b].asset <= last ||
				in_lists >= in_table)
			{
				snprintf(k->detail, sizeof(k->detail),
						 "user %lld: balance list broken at asset %u",
						 (long long) acct->user_id, rows[b].asset);
				return false;
			}
			last = rows[b].asset;
			in_lists++;
		}
	}
	if (accounts != c->naccounts || in_table != c->nbalances || in_lists != c->nbalances)
	{
		snprintf(k->detail, sizeof(k->detail),
				 "%u accounts in the table, %u recorded; %u balance rows in the table, "
				 "%u in account lists, %u recorded",
				 accounts, c->naccounts, in_table, in_lists, c->nbalances);
		return false;
	}
	for (uint32_t id = 1; id <= c->nsymbols; id++)
	{
		const symbol *s = &SYMBOLS(c)[id];

		if (s->fee_base != ledger_find_row(c, 0, s->base, NULL) ||
			s->fee_quote != ledger_find_row(c, 0, s->quote, NULL))
		{
			snprintf(k->detail, sizeof(k->detail),
					 "symbol %s: its fee rows are not the fee account's", s->name);
			return false;
		}
	}
	return true;
}

bool
core_verify(const core_engine *c, core_check_fn fn, void *ctx)
{
	checker		k;

	checker_start(&k, c, fn, ctx);
	report(&k, "balances_non_negative", check_balances_non_negative(&k));
	report(&k, "conservation", check_conservation(&k));
	report(&k, "order_locks", check_order_locks(&k));
	report(&k, "frozen_equals_locks", check_frozen(&k));
	report(&k, "book_not_crossed", check_not_crossed(&k));
	report(&k, "levels_sorted", check_levels(&k));
	report(&k, "queues_fifo", check_queues(&k));
	report(&k, "indexes_agree", check_index(&k) && check_ledger(&k));
	return k.all_ok;
}

/*
 * The checks that need no walk over the orders: balances, conservation,
 * books not crossed, levels sorted (core.h).
 */
bool
core_verify_global(const core_engine *c, core_check_fn fn, void *ctx)
{
	checker		k;

	checker_start(&k, c, fn, ctx);
	report(&k, "balances_non_negative", check_balances_non_negative(&k));
	report(&k, "conservation", check_conservation(&k));
	report(&k, "book_not_crossed", check_not_crossed(&k));
	report(&k, "levels_sorted", check_levels(&k));
	return k.all_ok;
}

/*
 * One account's orders: its list is linked both ways in id order and
 * counted, each order's lock is what its remainder needs, and each
 * balance's frozen amount is the sum of the locks on its asset.  Fills
 * k->detail and returns the name of the first check that fails, or NULL.
 */
static const char *
check_one_account(checker *k, uint32_t a)
{
	const core_engine *c = k->c;
	const account *acct = &ACCOUNTS(c)[a];
	const order *orders = ORDERS(c);
	const order_cold *cold = ORDER_COLD(c);
	const order_link *U = ORDER_LINKS(c);
	const balance *bals = BALANCES(c);
	uint32_t	n = 0,
				prev = NIL;

	for (uint32_t o = acct->orders_head; o != NIL; prev = o, o = U[o].next, n++)
	{
		const order *ord = &orders[o];
		const symbol *s;

		if (n >= c->limits.max_orders || ord->account != a || ord->user_id != acct->user_id ||
			U[o].prev != prev || (prev != NIL && orders[prev].id >= ord->id) ||
			ord->symbol < 1 || ord->symbol > c->nsymbols)
		{
			snprintf(k->detail, sizeof(k->detail), "user %lld: order list broken at order %lld",
					 (long long) acct->user_id, (long long) ord->id);
			return "indexes_agree";
		}
		s = &SYMBOLS(c)[ord->symbol];
		if (cold[o].locked != order_lock_needed(s, ord))
		{
			snprintf(k->detail, sizeof(k->detail), "order %lld locks %lld, its remainder needs %lld",
					 (long long) ord->id, (long long) cold[o].locked,
					 (long long) order_lock_needed(s, ord));
			return "order_locks";
		}
		if (cold[o].base_row != ledger_find_row(c, ord->user_id, s->base, NULL) ||
			cold[o].quote_row != ledger_find_row(c, ord->user_id, s->quote, NULL))
		{
			snprintf(k->detail, sizeof(k->detail),
					 "order %lld: the balance rows it keeps are not its owner's",
					 (long long) ord->id);
			return "order_locks";
		}
	}
	if (n != acct->norders || prev != acct->orders_tail)
	{
		snprintf(k->detail, sizeof(k->detail), "user %lld: %u orders listed, %u recorded",
				 (long long) acct->user_id, n, acct->norders);
		return "indexes_agree";
	}
	for (uint32_t b = acct->balances; b != NIL; b = bals[b].next)
	{
		i128		locks = 0;

		for (uint32_t o = acct->orders_head; o != NIL; o = U[o].next)
		{
			const symbol *s = &SYMBOLS(c)[orders[o].symbol];

			if ((orders[o].side == CORE_BUY ? s->quote : s->base) == bals[b].asset)
				locks += cold[o].locked;
		}
		if (locks != bals[b].frozen)
		{
			snprintf(k->detail, sizeof(k->detail), "user %lld asset %u: frozen %lld, resting orders lock %lld",
					 (long long) acct->user_id, bals[b].asset, (long long) bals[b].frozen,
					 (long long) locks);
			return "frozen_equals_locks";
		}
	}
	return NULL;
}

bool
core_verify_accounts(const core_engine *c, const int64_t *user_ids, size_t n,
					 core_check_fn fn, void *ctx)
{
	checker		k;
	const char *failed = NULL;

	checker_start(&k, c, fn, ctx);
	for (size_t i = 0; i < n && failed == NULL; i++)
	{
		uint32_t	a = ledger_find_account(c, user_ids[i]);

		if (a != NIL)
			failed = check_one_account(&k, a);
	}
	report(&k, "order_locks", failed == NULL || strcmp(failed, "order_locks") != 0);
	report(&k, "frozen_equals_locks", failed == NULL || strcmp(failed, "frozen_equals_locks") != 0);
	report(&k, "indexes_agree", failed == NULL || strcmp(failed, "indexes_agree") != 0);
	return k.all_ok;
}

/* ------------------------------------------------- every account at once */

/*
 * core_verify_all_accounts: the three checks of core_verify_accounts over
 * every account, as two sequential passes, one over the order slots and
 * one over the balance table, with per-slot and per-row facts only and no
 * walk along any list.  A slot is in use when its order id is not 0
 * (book_free_order clears it; ids start at 1) and it is not above
 * order_fresh (slots above were never handed out and hold anything).
 *
 * Account lists (indexes_agree).  Per order slot o in use, of account a:
 *   (1) prev(o) = NIL and head(a) = o, or p = prev(o) is in use, of
 *       account a and o's user, id(p) < id(o) and next(p) = o;
 *   (2) next(o) = NIL and tail(a) = o, or next(o) is not NIL;
 * per account a, with S_a its orders in use: |S_a| = norders(a); as many
 * orders of S_a have a prev as have a next; S_a empty means head(a) =
 * tail(a) = NIL; the order met as a head is of a's user and a is an
 * account.  Why that is what walking each list checks: o -> prev(o) maps
 * the orders of S_a with a prev one to one (next(p) = o fixes o) into the
 * orders of S_a with a next; as many have a next as have a prev, so it
 * maps onto them: for every p of S_a with a next, o = next(p) is in S_a
 * and prev(o) = p (so a next link never leads to a free slot or out of
 * the account, and every link is matched by its back link).  Ids grow
 * along next, so following next from any order of S_a ends, at an order
 * without a next, which (2) says is tail(a); following prev ends at one
 * without a prev, which (1) says is head(a).  Following next from head(a)
 * is one path, so every order of S_a lies on it: the list from head(a) is
 * exactly S_a, linked both ways, in ascending id order, all of a's user,
 * ending at tail(a), with norders(a) orders; when S_a is empty the ends
 * are NIL.  That is what the walk of each list checks.
 *
 * Locks (order_locks).  Each order's lock is what its remainder needs, and
 * its base and quote rows carry the keys (its user, the symbol's asset).
 * The list version asks instead that each be ledger_find_row of that key;
 * the same, because the pass over the balance table checks that every row
 * is the one ledger_find_row finds under its own key (no key twice, none
 * lost), and a row not found that way fails indexes_agree, as in
 * core_verify.  Only a NIL row, which the list version takes for an owner
 * without a row of that asset, is refused here: a resting order always
 * has both rows (placing creates them; restore refuses an order without).
 *
 * Frozen amounts (frozen_equals_locks).  Each order's lock is added, in
 * 128 bits (no overflow: at most 2^32 locks below 2^63), to the scratch
 * sum of the row of its user and locked asset (its own row when it
 * carries that key, else the row found by key), and each row's frozen
 * amount is compared with its sum.  Given the lists hold, the orders of
 * user u on asset x are those of u's account list locking x, which is
 * what the list version sums per row.
 */
typedef struct account_tally
{
	uint32_t	orders;			/* order slots in use naming the account */
	uint32_t	ends;			/* those with a prev minus those with a next,
								 * mod 2^32 (both below 2^32: 0 iff equal) */
} account_tally;

/* Order slots between an order's random reads and its check. */
#define ALL_ACCOUNTS_AHEAD 16

size_t
core_verify_all_accounts_size(const core_limits *limits)
{
	return sizeof(i128) +		/* to align the sums */
		((size_t) table_cap(limits->max_balances) + 1) * sizeof(i128) +
		((size_t) table_cap(limits->max_accounts) + 1) * sizeof(account_tally);
}

/* Row b is a balance row of (user, asset). */
static inline bool
row_is(const core_engine *c, uint32_t b, int64_t user_id, uint32_t asset_id)
{
	return b >= 1 && b <= c->balance_cap &&
		BALANCES(c)[b].asset == asset_id && BALANCES(c)[b].user_id == user_id;
}

/* A failure of one check: the first one's detail is kept. */
typedef struct fault
{
	bool		failed;
	char		detail[256];
} fault;

static void
fault_set(fault *f, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void
fault_set(fault *f, const char *fmt,...)
{
	va_list		ap;

	if (f->failed)
		return;
	f->failed = true;
	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	va_end(ap);
}

/* (1) and (2) for order slot o (in use, its account slot in range). */
static inline bool
links_ok(const core_engine *c, account_tally *tally, uint32_t o)
{
	const order *orders = ORDERS(c);
	const order_link *U = ORDER_LINKS(c);
	const order *ord = &orders[o];
	const account *acct = &ACCOUNTS(c)[ord->account];
	uint32_t	p = U[o].prev,
				n = U[o].next;

	if (p == NIL)
	{
		if (acct->seq == 0 || acct->user_id != ord->user_id || acct->orders_head != o)
			return false;
	}
	else
	{
		if (p > c->order_fresh || orders[p].id == 0 || orders[p].account != ord->account ||
			orders[p].user_id != ord->user_id || orders[p].id >= ord->id || U[p].next != o)
			return false;
		tally[ord->account].ends++;
	}
	if (n == NIL)
		return acct->orders_tail == o;
	tally[ord->account].ends--;
	return true;
}

bool
core_verify_all_accounts(const core_engine *c, void *scratch, core_check_fn fn, void *ctx)
{
	const order *orders = ORDERS(c);
	const order_cold *cold = ORDER_COLD(c);
	const account *accts = ACCOUNTS(c);
	const balance *bals = BALANCES(c);
	i128	   *sum = (i128 *) (((uintptr_t) scratch + sizeof(i128) - 1) &
								~(uintptr_t) (sizeof(i128) - 1));
	account_tally *tally = (account_tally *) (sum + c->balance_cap + 1);
	uint32_t	used = 0;
	fault		locks = {0},
				frozen = {0},
				lists = {0};
	checker		k;

	memset(sum, 0, sizeof(*sum) * ((size_t) c->balance_cap + 1));
	memset(tally, 0, sizeof(*tally) * ((size_t) c->account_cap + 1));
	for (uint32_t o = 1; o <= c->order_fresh; o++)
	{
		const order *ord = &orders[o];
		const order_cold *oc = &cold[o];
		const symbol *s;
		int64_t		need;
		uint32_t	row,
					asset_id;

		/* the random reads of the order ALL_ACCOUNTS_AHEAD slots on */
		if (o + ALL_ACCOUNTS_AHEAD <= c->order_fresh)
		{
			uint32_t	f = o + ALL_ACCOUNTS_AHEAD;
			const order_link *fl = &ORDER_LINKS(c)[f];
			const order_cold *fc = &cold[f];
			uint32_t	lock_row = orders[f].side == CORE_BUY ? fc->quote_row : fc->base_row;

			if (fl->prev <= c->order_fresh)
				__builtin_prefetch(&orders[fl->prev], 0, 3);
			if (orders[f].account <= c->account_cap)
			{
				__builtin_prefetch(&accts[orders[f].account], 0, 3);
				PREFETCH(&tally[orders[f].account]);
			}
			if (fc->base_row <= c->balance_cap && fc->quote_row <= c->balance_cap)
			{
				__builtin_prefetch(&bals[fc->base_row], 0, 3);
				__builtin_prefetch(&bals[fc->quote_row], 0, 3);
				PREFETCH(&sum[lock_row]);
			}
		}
		if (ord->id == 0)
			continue;
		used++;
		if (ord->account < 1 || ord->account > c->account_cap ||
			ord->symbol < 1 || ord->symbol > c->nsymbols)
		{
			fault_set(&lists, "order %lld: account slot %u or symbol %u out of range",
					  (long long) ord->id, ord->account, ord->symbol);
			continue;
		}
		tally[ord->account].orders++;
		if (!links_ok(c, tally, o))
			fault_set(&lists, "user %lld: order list broken at order %lld",
					  (long long) ord->user_id, (long long) ord->id);
		s = &SYMBOLS(c)[ord->symbol];
		need = order_lock_needed(s, ord);
		if (oc->locked != need)
			fault_set(&locks, "order %lld locks %lld, its remainder needs %lld",
					  (long long) ord->id, (long long) oc->locked, (long long) need);
		if (!row_is(c, oc->base_row, ord->user_id, s->base) ||
			!row_is(c, oc->quote_row, ord->user_id, s->quote))
			fault_set(&locks, "order %lld: the balance rows it keeps are not its owner's",
					  (long long) ord->id);
		asset_id = ord->side == CORE_BUY ? s->quote : s->base;
		row = ord->side == CORE_BUY ? oc->quote_row : oc->base_row;
		if (!row_is(c, row, ord->user_id, asset_id))
			row = ledger_find_row(c, ord->user_id, asset_id, NULL);
		if (row != NIL)
			sum[row] += oc->locked;
	}
	for (uint32_t a = 1; a <= c->account_cap; a++)
	{
		const account *acct = &accts[a];
		const account_tally *t = &tally[a];

		if (acct->seq == 0 ? t->orders != 0 :
			t->orders != acct->norders || t->ends != 0 ||
			(t->orders == 0 && (acct->orders_head != NIL || acct->orders_tail != NIL)))
			fault_set(&lists, "user %lld: %u orders name its account, %u recorded",
					  (long long) acct->user_id, t->orders, acct->norders);
	}
	if (used != c->norders)
		fault_set(&lists, "%u order slots in use, %u orders resting", used, c->norders);
	for (uint32_t b = 1; b <= c->balance_cap; b++)
	{
		if (bals[b].asset == 0)
			continue;
		if (ledger_find_row(c, bals[b].user_id, bals[b].asset, NULL) != b)
			fault_set(&lists, "balance of user %lld asset %u: not found where it is",
					  (long long) bals[b].user_id, bals[b].asset);
		if (sum[b] != bals[b].frozen)
		{
			char		text[40];

			fault_set(&frozen, "user %lld asset %u: frozen %lld, resting orders lock %s%s",
					  (long long) bals[b].user_id, bals[b].asset, (long long) bals[b].frozen,
					  sum[b] < 0 ? "-" : "",
					  u128_text(sum[b] < 0 ? -(u128) sum[b] : (u128) sum[b], text));
		}
	}
	checker_start(&k, c, fn, ctx);
	strcpy(k.detail, locks.detail);
	report(&k, "order_locks", !locks.failed);
	strcpy(k.detail, frozen.detail);
	report(&k, "frozen_equals_locks", !frozen.failed);
	strcpy(k.detail, lists.detail);
	report(&k, "indexes_agree", !lists.failed);
	return k.all_ok;
}

/* ---------------------------------------------------------------- digest */

void
digest_counters(hasher *h, const core_counters *k)
{
	h_u64(h, (uint64_t) k->seq);
	h_u64(h, (uint64_t) k->next_order_id);
	h_u64(h, (uint64_t) k->next_trade_id);
	h_u64(h, k->assets);
	h_u64(h, k->symbols);
	h_u64(h, k->accounts);
	h_u64(h, k->balances);
	h_u64(h, k->orders);
}

void
digest_refdata(hasher *h, const core_engine *c)
{
	for (uint32_t id = 1; id <= c->nassets; id++)
	{
		const asset *a = &ASSETS(c)[id];

		h_text(h, a->code, CORE_ASSET_CODE_MAX);
		h_u64(h, a->decimals);
		h_u64(h, (uint64_t) a->supply);
	}
	for (uint32_t id = 1; id <= c->nsymbols; id++)
	{
		const symbol *s = &SYMBOLS(c)[id];

		h_text(h, s->name, CORE_SYMBOL_NAME_MAX);
		h_u64(h, s->base);
		h_u64(h, s->quote);
		h_u64(h, (uint64_t) s->tick);
		h_u64(h, (uint64_t) s->lot);
		h_u64(h, (uint64_t) s->min_qty);
		h_u64(h, (uint64_t) (uint32_t) s->maker_ppm);
		h_u64(h, (uint64_t) (uint32_t) s->taker_ppm);
		h_u64(h, s->status);
		/* Added after 1.0: hashed only when set (core.h, digest rule). */
		if (s->min_notional != 0)
		{
			h_u64(h, DIGEST_TAG_MIN_NOTIONAL);
			h_u64(h, (uint64_t) s->min_notional);
		}
	}
}

void
digest_account(hasher *h, const core_engine *c, uint32_t acct)
{
	const balance *rows = BALANCES(c);

	h_u64(h, (uint64_t) ACCOUNTS(c)[acct].user_id);
	for (uint32_t b = ACCOUNTS(c)[acct].balances; b != NIL; b = rows[b].next)
		digest_row(h, rows[b].asset, rows[b].available, rows[b].frozen);
}

core_digest
core_state_digest(const core_engine *c)
{
	hasher		h = HASHER_INIT;
	const level *L = LEVELS(c);
	const order *orders = ORDERS(c);
	core_counters k = core_get_counters(c);
	core_digest d;

	digest_counters(&h, &k);
	digest_refdata(&h, c);
	for (uint32_t a = 1; a <= c->naccounts; a++)
		digest_account(&h, c, ACCOUNT_SEQ(c)[a]);
	for (uint32_t id = 1; id <= c->nsymbols; id++)
		for (int side = 0; side < 2; side++)
			for (uint32_t l = SYMBOLS(c)[id].sides[side].best; l != NIL; l = L[l].next)
			{
				h_u64(&h, (uint64_t) L[l].price);
				for (uint32_t o = L[l].head; o != NIL; o = orders[o].next)
				{
					const order *ord = &orders[o];
					const order_cold *oc = &ORDER_COLD(c)[o];

					digest_order(&h, ord->id, ord->user_id, ord->remaining, oc->filled,
								 oc->locked, oc->created_ts, oc->queued_seq,
								 (uint64_t) (oc->notional >> 64), (uint64_t) oc->notional,
								 ord->stp, ord->post_only,
								 ord->has_client_id ? ORDER_TEXT(c)[o].client_order_id : "");
				}
			}
	d.hi = h.a;
	d.lo = h.b;
	return d;
}

void
core_digest_hex(core_digest d, char out[33])
{
	snprintf(out, 33, "%016llx%016llx", (unsigned long long) d.hi, (unsigned long long) d.lo);
}
