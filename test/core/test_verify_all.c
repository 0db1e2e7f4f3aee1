/*
 * test_verify_all.c — core_verify_all_accounts, the one-pass check of
 * every account's locks, frozen amounts and order list, against
 * core_verify and the per-account walk (core_verify_accounts).
 *
 * Random states built through commands must pass all three alike; then
 * each kind of damage the walk detects is made by hand in the arena (this
 * file reads the core's internal layout, core_int.h and book.h, for that
 * only) and must be reported under the check name the walk uses.  The
 * limits: a full order pool, one account holding many orders, and locks
 * near INT64_MAX whose sum per row passes the int64 range.
 */
#include <stdlib.h>

#include "book.h"
#include "fixture.h"

#define AB 1					/* base of symbol 1 */
#define AQ 2					/* quote of both symbols */
#define AC 3					/* base of symbol 2 */

/* Which of the three checks failed, and the first detail. */
typedef struct outcome
{
	bool		locks;
	bool		frozen;
	bool		lists;
	bool		other;			/* any other check (core_verify's) */
	int			calls;
	char		detail[256];
} outcome;

static void
note(void *ctx, const char *check, bool ok, const char *detail)
{
	outcome    *o = ctx;

	o->calls++;
	if (ok)
		return;
	CHECK(detail != NULL && detail[0] != '\0');
	if (o->detail[0] == '\0' && detail)
		snprintf(o->detail, sizeof(o->detail), "%s: %s", check, detail);
	if (strcmp(check, "order_locks") == 0)
		o->locks = true;
	else if (strcmp(check, "frozen_equals_locks") == 0)
		o->frozen = true;
	else if (strcmp(check, "indexes_agree") == 0)
		o->lists = true;
	else
		o->other = true;
}

/* core_verify_all_accounts with fresh scratch full of garbage. */
static outcome
run_all(const core_engine *c, bool *ok)
{
	core_limits l = core_get_limits(c);
	size_t		size = core_verify_all_accounts_size(&l);
	void	   *scratch = malloc(size);
	outcome		o;

	memset(&o, 0, sizeof(o));
	memset(scratch, 0xC3, size);
	*ok = core_verify_all_accounts(c, scratch, note, &o);
	free(scratch);
	CHECK_EQ(o.calls, 3);
	CHECK(!o.other);
	return o;
}

static outcome
run_verify(const core_engine *c, bool *ok)
{
	outcome		o;

	memset(&o, 0, sizeof(o));
	*ok = core_verify(c, note, &o);
	return o;
}

/* The walk over every account (user ids of every account in the table). */
static outcome
run_walks(const core_engine *c, bool *ok)
{
	const account *A = ACCOUNTS(c);
	int64_t    *ids = malloc(sizeof(int64_t) * (c->account_cap + 1));
	size_t		n = 0;
	outcome		o;

	for (uint32_t a = 1; a <= c->account_cap; a++)
		if (A[a].seq != 0)
			ids[n++] = A[a].user_id;
	memset(&o, 0, sizeof(o));
	*ok = core_verify_accounts(c, ids, n, note, &o);
	free(ids);
	return o;
}

/* The walk over one user's account. */
static outcome
run_walk_of(const core_engine *c, int64_t user, bool *ok)
{
	outcome		o;

	memset(&o, 0, sizeof(o));
	*ok = core_verify_accounts(c, &user, 1, note, &o);
	return o;
}

/* Every way of checking says the state is whole. */
static void
all_pass(const core_engine *c)
{
	bool		ok_all,
				ok_verify,
				ok_walks;
	outcome		all = run_all(c, &ok_all),
				ver = run_verify(c, &ok_verify),
				walks = run_walks(c, &ok_walks);

	CHECK(ok_verify);
	CHECK(ok_walks);
	CHECK(ok_all);
	if (!ok_all || !ok_verify || !ok_walks)
		printf("    all: %s / verify: %s / walks: %s\n", all.detail, ver.detail, walks.detail);
}

/* ------------------------------------------------------- random states */

typedef struct rng
{
	uint64_t	s;
} rng;

static uint64_t
rnd(rng *r)
{
	r->s += UINT64_C(0x9e3779b97f4a7c15);
	uint64_t	z = r->s;

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static int64_t
rnd_in(rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t) (rnd(r) % (uint64_t) (hi - lo + 1));
}

static fx *
market(const core_limits *lim, int users)
{
	fx		   *f = fx_new_limits(lim);

	CHECK_EQ(fx_asset(f, "AAA", 2), AB);
	CHECK_EQ(fx_asset(f, "QQQ", 2), AQ);
	CHECK_EQ(fx_asset(f, "CCC", 4), AC);
	CHECK_EQ(fx_symbol(f, "AAA_QQQ", AB, AQ, 1, 1, 0, 1000, 2000), 1);
	CHECK_EQ(fx_symbol(f, "CCC_QQQ", AC, AQ, 5, 10, 0, 0, 500), 2);
	for (int u = 1; u <= users; u++)
	{
		fx_deposit(f, u, AQ, 50000000 + u);
		fx_deposit(f, u, AB, 500000 + u);
		if (u % 3)
			fx_deposit(f, u, AC, 9000000 + u);
	}
	return f;
}

/*
 * A state made by n random commands over users 1..users: limit orders
 * around a mid price (some cross and trade), markets, cancels, amends,
 * cancel-alls, withdrawals.
 */
static fx *
random_state(uint64_t seed, int users, int n)
{
	core_limits lim = {
		.max_assets = 4, .max_symbols = 4, .max_accounts = (uint32_t) users + 2,
		.max_balances = 3 * (uint32_t) users + 8, .max_orders = 4096,
	};
	fx		   *f = market(&lim, users);
	rng			r = {seed};
	int64_t		last_id = 0;

	for (int i = 0; i < n; i++)
	{
		int64_t		u = rnd_in(&r, 1, users);
		uint32_t	sym = (uint32_t) rnd_in(&r, 1, 2);
		core_side	side = (core_side) rnd_in(&r, 0, 1);
		int64_t		tick = sym == 1 ? 1 : 5;
		int64_t		lot = sym == 1 ? 1 : 10;
		int64_t		mid = sym == 1 ? 1000 : 500;
		int			op = (int) rnd_in(&r, 0, 99);
		core_result res;

		if (op < 60)
		{
			int64_t		price = (mid + (side == CORE_BUY ? -1 : 1) * rnd_in(&r, -3, 40)) / tick * tick;

			res = fx_limit(f, u, sym, side, rnd_in(&r, 1, 50) * lot, price, CORE_GTC);
			if (res.order_id > last_id)
				last_id = res.order_id;
		}
		else if (op < 68)
			fx_market(f, u, sym, side, rnd_in(&r, 1, 30) * lot, 0);
		else if (op < 85 && last_id > 0)
		{
			int64_t		id = rnd_in(&r, 1, last_id);

			/* its owner, if it rests: a cancel by anyone else is refused */
			for (int64_t v = 1; v <= users; v++)
				fx_cancel(f, v, id);
		}
		else if (op < 95 && last_id > 0)
		{
			int64_t		id = rnd_in(&r, 1, last_id);

			for (int64_t v = 1; v <= users; v++)
				fx_amend(f, v, id, rnd_in(&r, 1, 60) * lot, 0);
		}
		else if (op < 97)
			fx_cancel_all(f, u, sym);
		else
			fx_withdraw(f, u, AQ, rnd_in(&r, 1, 1000));
	}
	return f;
}

/* A copy of f's state in a new arena of the same size (garbage first). */
static fx *
copy_of(fx *f)
{
	fx		   *g = calloc(1, sizeof(*g));

	g->size = f->size;
	g->mem = aligned_alloc(CORE_ARENA_ALIGN, g->size);
	memset(g->mem, 0x5A, g->size);
	g->c = core_copy(g->mem, g->size, f->c);
	g->ts = f->ts;
	CHECK(g->c != NULL);
	return g;
}

/* ---------------------------------------------------- damage, by hand */

/* The resting orders' slots, in slot order; returns how many. */
static uint32_t
resting_slots(const core_engine *c, uint32_t *out)
{
	uint32_t	n = 0;

	for (uint32_t o = 1; o <= c->order_fresh; o++)
		if (ORDERS(c)[o].id != 0)
			out[n++] = o;
	return n;
}

/* An account slot holding at least `min` orders, the k-th such (cyclic); NIL if none. */
static uint32_t
account_with(const core_engine *c, uint32_t min, uint64_t k)
{
	uint32_t	found = 0;

	for (int pass = 0; pass < 2; pass++)
		for (uint32_t a = 1; a <= c->account_cap; a++)
			if (ACCOUNTS(c)[a].seq != 0 && ACCOUNTS(c)[a].norders >= min)
			{
				if (pass == 1 && k % found == 0)
					return a;
				if (pass == 1)
					k--;
				else
					found++;
			}
	return NIL;
}

/* The i-th order (from 0) of account a's list. */
static uint32_t
list_at(const core_engine *c, uint32_t a, uint32_t i)
{
	uint32_t	o = ACCOUNTS(c)[a].orders_head;

	while (i-- > 0 && o != NIL)
		o = ORDER_LINKS(c)[o].next;
	return o;
}

typedef enum damage
{
	D_LOCK,						/* a lock off by one, its row's frozen moved along */
	D_LOCK_ALONE,				/* a lock off by one, nothing else */
	D_ROW_OTHER_USER,			/* an order keeps another user's row of its asset */
	D_ROW_OTHER_ASSET,			/* an order keeps its owner's row of another asset */
	D_FROZEN,					/* a frozen amount off by one (available moved) */
	D_NEXT_CUT,					/* a list's next link cut in the middle */
	D_PREV_WRONG,				/* a prev link pointing to the wrong order */
	D_ID_ORDER,					/* two neighbours of a list swapped */
	D_COUNT,					/* an account's count of orders off by one */
	D_HEAD,						/* head pointing to the second order */
	D_TAIL,						/* tail pointing to the last but one */
	D_MISSING,					/* an order unlinked from its list, count kept */
	D_WRONG_LIST,				/* an order moved into another account's list */
	D_NEXT_TO_FREE,				/* a tail's next set to a free slot linked back */
	D_THROUGH_FREE,				/* tail -> free slot -> head, linked both ways */
	D_EMPTY_ENDS,				/* an account without orders given a head and tail */
	D_USER,						/* an order of another user (with that user's rows) in a list */
	D_COUNT_
} damage;

static const char *const damage_name[D_COUNT_] = {
	"lock", "lock alone", "row of another user", "row of another asset", "frozen",
	"next cut", "prev wrong", "id order", "count", "head", "tail", "missing",
	"wrong list", "next to a free slot", "through a free slot", "ends of an empty list",
	"another user's order"
};

/*
 * Make damage d in c, choosing the place with k.  Returns the user whose
 * account the walk must refuse (-1 when the damage could not be made in
 * this state: no order or account fits).
 */
/* A free order slot below order_fresh, the k-th from the start (cyclic); NIL if none. */
static uint32_t
free_slot(const core_engine *c, uint64_t k)
{
	const order *orders = ORDERS(c);

	for (uint32_t i = 0; i < c->order_fresh; i++)
		if (orders[1 + (k + i) % c->order_fresh].id == 0)
			return 1 + (uint32_t) ((k + i) % c->order_fresh);
	return NIL;
}

static int64_t
make_damage(core_engine *c, damage d, uint64_t k)
{
	order	   *orders = ORDERS(c);
	order_cold *cold = ORDER_COLD(c);
	order_link *U = ORDER_LINKS(c);
	account    *A = ACCOUNTS(c);
	balance    *B = BALANCES(c);
	uint32_t   *slots = malloc(sizeof(uint32_t) * (c->order_fresh + 1));
	uint32_t	n = resting_slots(c, slots);
	uint32_t	o = n ? slots[k % n] : NIL;
	int64_t		user = o ? orders[o].user_id : -1;
	uint32_t	a,
				x,
				y;

	free(slots);
	if (o == NIL)
		return -1;
	switch (d)
	{
		case D_LOCK:
		case D_LOCK_ALONE:
			{
				balance    *row = &B[orders[o].side == CORE_BUY ? cold[o].quote_row : cold[o].base_row];

				cold[o].locked += 1;
				if (d == D_LOCK)
				{
					row->frozen += 1;
					row->available -= 1;
				}
				return user;
			}
		case D_ROW_OTHER_USER:
			{
				const symbol *s = &SYMBOLS(c)[orders[o].symbol];
				uint32_t	asset_id = orders[o].side == CORE_BUY ? s->quote : s->base;

				for (uint32_t b = 1; b <= c->balance_cap; b++)
					if (B[b].asset == asset_id && B[b].user_id != orders[o].user_id)
					{
						if (orders[o].side == CORE_BUY)
							cold[o].quote_row = b;
						else
							cold[o].base_row = b;
						return user;
					}
				return -1;
			}
		case D_ROW_OTHER_ASSET:
			{
				/* the two rows swapped: each the owner's, of the other asset */
				uint32_t	t = cold[o].base_row;

				cold[o].base_row = cold[o].quote_row;
				cold[o].quote_row = t;
				return user;
			}
		case D_FROZEN:
			{
				balance    *row = &B[orders[o].side == CORE_BUY ? cold[o].quote_row : cold[o].base_row];

				row->frozen += 1;
				row->available -= 1;
				return user;
			}
		case D_NEXT_CUT:
			if ((a = account_with(c, 3, k)) == NIL)
				return -1;
			U[list_at(c, a, 1)].next = NIL;
			return A[a].user_id;
		case D_PREV_WRONG:
			if ((a = account_with(c, 3, k)) == NIL)
				return -1;
			U[list_at(c, a, 2)].prev = list_at(c, a, 0);
			return A[a].user_id;
		case D_ID_ORDER:
			{
				uint32_t	p,
							q;

				if ((a = account_with(c, 2, k)) == NIL)
					return -1;
				/* p, q neighbours (p before q): relink as q, p */
				p = list_at(c, a, k % (A[a].norders - 1));
				q = U[p].next;
				x = U[p].prev;
				y = U[q].next;
				if (x != NIL)
					U[x].next = q;
				else
					A[a].orders_head = q;
				if (y != NIL)
					U[y].prev = p;
				else
					A[a].orders_tail = p;
				U[q].prev = x;
				U[q].next = p;
				U[p].prev = q;
				U[p].next = y;
				return A[a].user_id;
			}
		case D_COUNT:
			a = orders[o].account;
			A[a].norders += (k & 1) ? 1 : -1;
			return user;
		case D_HEAD:
			if ((a = account_with(c, 2, k)) == NIL)
				return -1;
			A[a].orders_head = list_at(c, a, 1);
			return A[a].user_id;
		case D_TAIL:
			if ((a = account_with(c, 2, k)) == NIL)
				return -1;
			A[a].orders_tail = U[A[a].orders_tail].prev;
			return A[a].user_id;
		case D_MISSING:
			book_unlink_account(c, o);
			A[orders[o].account].norders++;
			return user;
		case D_WRONG_LIST:
			{
				uint32_t	own = orders[o].account;

				/* another account that holds orders of the symbol's assets too */
				for (uint32_t b = 0; b < c->account_cap; b++)
				{
					a = 1 + (uint32_t) ((k + b) % c->account_cap);
					if (a != own && A[a].seq != 0 && a != c->fee_account)
						break;
					a = NIL;
				}
				if (a == NIL)
					return -1;
				book_unlink_account(c, o);
				orders[o].account = a;
				book_link_account(c, o);
				orders[o].account = own;
				return A[a].user_id;
			}
		case D_NEXT_TO_FREE:
			{
				uint32_t	f;

				if ((a = account_with(c, 1, k)) == NIL || (f = free_slot(c, k)) == NIL)
					return -1;
				/* the free slot looks like the account's, as far as it can */
				x = A[a].orders_tail;
				orders[f].account = a;
				orders[f].user_id = A[a].user_id;
				U[f].prev = x;
				U[f].next = NIL;
				U[x].next = f;
				return A[a].user_id;
			}
		case D_THROUGH_FREE:
			{
				uint32_t	f;

				if ((a = account_with(c, 1, k)) == NIL || (f = free_slot(c, k)) == NIL)
					return -1;
				x = A[a].orders_head;
				y = A[a].orders_tail;
				orders[f].account = a;
				orders[f].user_id = A[a].user_id;
				U[f].prev = y;
				U[f].next = x;
				U[y].next = f;
				U[x].prev = f;
				return A[a].user_id;
			}
		case D_EMPTY_ENDS:
			for (uint32_t i = 0; i < c->account_cap; i++)
			{
				a = 1 + (uint32_t) ((k + i) % c->account_cap);
				if (A[a].seq != 0 && A[a].norders == 0)
				{
					A[a].orders_head = o;
					A[a].orders_tail = (k & 1) ? o : NIL;
					return A[a].user_id;
				}
			}
			return -1;
		case D_USER:
			{
				/* o of user u becomes user v's, with v's rows and its lock moved to them */
				const symbol *s = &SYMBOLS(c)[orders[o].symbol];
				uint32_t	vb = NIL,
							vq = NIL;
				balance    *from,
						   *to;

				for (uint32_t i = 1; i <= c->account_cap && vq == NIL; i++)
					if (A[i].seq != 0 && A[i].user_id != user && i != c->fee_account &&
						(vb = ledger_find_row(c, A[i].user_id, s->base, NULL)) != NIL &&
						(vq = ledger_find_row(c, A[i].user_id, s->quote, NULL)) == NIL)
						vb = NIL;
				if (vq == NIL)
					return -1;
				from = &B[orders[o].side == CORE_BUY ? cold[o].quote_row : cold[o].base_row];
				to = &B[orders[o].side == CORE_BUY ? vq : vb];
				from->frozen -= cold[o].locked;
				from->available += cold[o].locked;
				to->frozen += cold[o].locked;
				to->available -= cold[o].locked;
				orders[o].user_id = to->user_id;
				cold[o].base_row = vb;
				cold[o].quote_row = vq;
				return user;
			}
		case D_COUNT_:
			break;
	}
	return -1;
}

/*
 * Damage d made in a copy of f with choice k: the one pass must refuse it
 * under the name the walk uses; it must agree with core_verify on the
 * three checks where the walk's checks are row-based (damage to locks,
 * rows and frozen amounts, the lists intact), and report the lists alone
 * when only the lists are damaged (core_verify, which sums locks along
 * the lists, may then also report frozen amounts).  Returns false when
 * the damage could not be made in this state.
 */
static bool
damage_is_caught(fx *f, damage d, uint64_t k)
{
	fx		   *g = copy_of(f);
	int64_t		user = make_damage(g->c, d, k);
	bool		ok_all,
				ok_verify,
				ok_walks,
				ok_walk;
	outcome		all,
				ver,
				walks,
				walk;
	const char *want;

	if (user < 0)
	{
		fx_free(g);
		return false;
	}
	all = run_all(g->c, &ok_all);
	ver = run_verify(g->c, &ok_verify);
	walks = run_walks(g->c, &ok_walks);
	walk = run_walk_of(g->c, user, &ok_walk);
	CHECK(!ok_all);
	CHECK(!ok_verify);
	CHECK(!ok_walks);
	CHECK(!ok_walk);
	CHECK(walks.locks || walks.frozen || walks.lists);
	switch (d)
	{
		case D_LOCK:
		case D_ROW_OTHER_USER:
		case D_ROW_OTHER_ASSET:
			want = "order_locks";
			CHECK(all.locks && !all.frozen && !all.lists);
			CHECK(walk.locks);
			break;
		case D_LOCK_ALONE:
			want = "order_locks and frozen_equals_locks";
			CHECK(all.locks && all.frozen && !all.lists);
			CHECK(walk.locks);
			break;
		case D_FROZEN:
			want = "frozen_equals_locks";
			CHECK(!all.locks && all.frozen && !all.lists);
			CHECK(walk.frozen);
			break;
		default:
			want = "indexes_agree";
			CHECK(!all.locks && !all.frozen && all.lists);
			CHECK(walk.lists);
			CHECK(ver.lists);
			break;
	}
	if (d <= D_FROZEN)
		CHECK(all.locks == ver.locks && all.frozen == ver.frozen && all.lists == ver.lists);
	if (test_failing())
		printf("    damage \"%s\" (k %llu), want %s; all: %s / verify: %s / walk: %s\n",
			   damage_name[d], (unsigned long long) k, want, all.detail, ver.detail, walk.detail);
	fx_free(g);
	return true;
}

TEST(verify_all_accounts_agrees_on_random_states)
{
	for (uint64_t seed = 1; seed <= 12; seed++)
	{
		fx		   *f = random_state(seed, 3 + (int) (seed % 5) * 4, 300 + (int) seed * 40);

		CHECK(core_get_counters(f->c).orders > 0);
		all_pass(f->c);
		fx_free(f);
	}
}

TEST(verify_all_accounts_catches_every_damage_the_walk_catches)
{
	int			made[D_COUNT_] = {0};

	for (uint64_t seed = 1; seed <= 6; seed++)
	{
		fx		   *f = random_state(100 + seed, 4 + (int) seed, 400);
		uint32_t	a = account_with(f->c, 1, seed);

		/* at least one free slot among the slots in use */
		CHECK_EQ(fx_cancel(f, ACCOUNTS(f->c)[a].user_id,
						   ORDERS(f->c)[ACCOUNTS(f->c)[a].orders_head].id).status, CORE_ST_CANCELED);
		for (int d = 0; d < D_COUNT_; d++)
			for (uint64_t k = 0; k < 4; k++)
				made[d] += damage_is_caught(f, (damage) d, seed * 7919 + k * 104729);
		/* the undamaged state still passes */
		all_pass(f->c);
		fx_free(f);
	}
	for (int d = 0; d < D_COUNT_; d++)
		if (made[d] < 10)
			test_fail(__FILE__, __LINE__, "damage \"%s\" made only %d times", damage_name[d],
					  made[d]);
}

/*
 * An order unlinked from its list with its account's count brought down
 * too: the walk of that account sees a whole list, core_verify and the one
 * pass see an order in no list.
 */
TEST(verify_all_accounts_catches_an_order_in_no_list)
{
	fx		   *f = random_state(77, 6, 400);
	fx		   *g = copy_of(f);
	uint32_t	o = list_at(g->c, account_with(g->c, 2, 0), 1);
	bool		ok;
	outcome		all,
				ver;

	book_unlink_account(g->c, o);
	all = run_all(g->c, &ok);
	CHECK(!ok);
	CHECK(all.lists && !all.locks && !all.frozen);
	ver = run_verify(g->c, &ok);
	CHECK(!ok);
	CHECK(ver.lists);
	fx_free(g);
	fx_free(f);
}

/* More orders counted resting than slots in use. */
TEST(verify_all_accounts_catches_a_wrong_count_of_orders)
{
	fx		   *f = random_state(80, 5, 300);
	fx		   *g = copy_of(f);
	bool		ok;
	outcome		all;

	g->c->norders++;
	all = run_all(g->c, &ok);
	CHECK(!ok);
	CHECK(all.lists && !all.locks && !all.frozen);
	CHECK(strstr(all.detail, "order slots in use") != NULL);
	fx_free(g);
	fx_free(f);
}

/* An order slot that names an account slot out of range, or an empty one. */
TEST(verify_all_accounts_catches_an_order_of_no_account)
{
	fx		   *f = random_state(78, 5, 300);
	fx		   *g = copy_of(f);
	uint32_t	o = list_at(g->c, account_with(g->c, 1, 0), 0);
	uint32_t	empty = NIL;
	bool		ok;
	outcome		all;

	ORDERS(g->c)[o].account = g->c->account_cap + 1;
	all = run_all(g->c, &ok);
	CHECK(!ok);
	CHECK(all.lists);
	fx_free(g);

	g = copy_of(f);
	for (uint32_t a = 1; a <= g->c->account_cap && empty == NIL; a++)
		if (ACCOUNTS(g->c)[a].seq == 0)
			empty = a;
	CHECK(empty != NIL);
	ORDERS(g->c)[o].account = empty;
	all = run_all(g->c, &ok);
	CHECK(!ok);
	CHECK(all.lists);
	fx_free(g);
	fx_free(f);
}

/* A balance row that its key does not find (a second row of the same key). */
TEST(verify_all_accounts_catches_a_row_not_found_under_its_key)
{
	fx		   *f = random_state(79, 5, 300);
	fx		   *g = copy_of(f);
	balance    *B = BALANCES(g->c);
	uint32_t	b = 1,
				empty = NIL;
	bool		ok;
	outcome		all;

	while (B[b].asset == 0 || B[b].frozen != 0)
		b++;
	/* an empty slot not on the probe path of b's key: a copy there is never found */
	for (uint32_t i = 1; i <= g->c->balance_cap && empty == NIL; i++)
		if (B[i].asset == 0 && ledger_find_row(g->c, B[b].user_id, B[b].asset, NULL) != NIL &&
			(i < b ? b - i : i - b) > 4)
			empty = i;
	CHECK(empty != NIL);
	B[empty] = B[b];
	B[empty].next = NIL;
	all = run_all(g->c, &ok);
	CHECK(!ok);
	CHECK(all.lists && !all.locks && !all.frozen);
	CHECK(strstr(all.detail, "not found where it is") != NULL);
	fx_free(g);
	fx_free(f);
}

/* ------------------------------------------------------------ limits */

/* The order pool full: every slot up to max_orders in use, the last too. */
TEST(verify_all_accounts_with_the_order_pool_full)
{
	core_limits lim = {
		.max_assets = 4, .max_symbols = 4, .max_accounts = 8,
		.max_balances = 32, .max_orders = 64,
	};
	fx		   *f = market(&lim, 5);
	fx		   *g;
	core_result res;
	bool		ok;
	outcome		all;

	for (int i = 0; i < 64; i++)
	{
		res = fx_limit(f, 1 + i % 5, 1, (core_side) (i % 2), 1 + i, i % 2 ? 2000 + i : 500 - i,
					   CORE_GTC);
		CHECK_EQ(res.status, CORE_ST_NEW);
	}
	res = fx_limit(f, 1, 1, CORE_BUY, 1, 400, CORE_GTC);
	CHECK_EQ(res.reason, CORE_R_CAPACITY);
	CHECK_EQ(core_get_counters(f->c).orders, 64);
	CHECK_EQ(f->c->order_fresh, 64);
	all_pass(f->c);
	/* the last slot's order, damaged, is seen */
	g = copy_of(f);
	ORDER_COLD(g->c)[64].locked += 1;
	all = run_all(g->c, &ok);
	CHECK(!ok);
	CHECK(all.locks);
	fx_free(g);
	/* some freed and taken again: free slots in the middle of the pool */
	for (int64_t id = 3; id <= 60; id += 7)
		CHECK_EQ(fx_cancel(f, 1 + (id - 1) % 5, id).status, CORE_ST_CANCELED);
	all_pass(f->c);
	for (int i = 0; i < 9; i++)
		CHECK_EQ(fx_limit(f, 2, 2, CORE_SELL, 1000, 900 + 5 * i, CORE_GTC).status, CORE_ST_NEW);
	CHECK_EQ(core_get_counters(f->c).orders, 64);
	all_pass(f->c);
	fx_free(f);
}

/* One account holding many orders, on both symbols and sides. */
TEST(verify_all_accounts_with_an_account_of_many_orders)
{
	core_limits lim = {
		.max_assets = 4, .max_symbols = 4, .max_accounts = 8,
		.max_balances = 32, .max_orders = 3000,
	};
	fx		   *f = market(&lim, 3);
	fx		   *g;
	uint32_t	a;
	bool		ok;
	outcome		all;

	for (int i = 0; i < 2500; i++)
	{
		uint32_t	sym = 1 + (uint32_t) (i % 2);
		core_side	side = (core_side) (i / 2 % 2);
		int64_t		price = sym == 1 ? (side ? 1100 + i % 50 : 900 - i % 50)
			: (side ? 600 + 5 * (i % 40) : 400 - 5 * (i % 40));

		core_result res = fx_limit(f, 2, sym, side, sym == 1 ? 1 : 1000, price, CORE_GTC);

		CHECK_EQ(res.status, CORE_ST_NEW);
		if (res.status != CORE_ST_NEW)
		{
			printf("    order %d refused: reason %d\n", i, (int) res.reason);
			break;
		}
	}
	/* cancels in the middle of the list */
	for (int64_t id = 5; id <= 2500; id += 97)
		CHECK_EQ(fx_cancel(f, 2, id).status, CORE_ST_CANCELED);
	a = ledger_find_account(f->c, 2);
	CHECK_EQ(ACCOUNTS(f->c)[a].norders, 2500 - 26);
	all_pass(f->c);
	/* the last order's back link broken */
	g = copy_of(f);
	a = ledger_find_account(g->c, 2);
	ORDER_LINKS(g->c)[ACCOUNTS(g->c)[a].orders_tail].prev = ACCOUNTS(g->c)[a].orders_head;
	all = run_all(g->c, &ok);
	CHECK(!ok);
	CHECK(all.lists && !all.locks && !all.frozen);
	fx_free(g);
	fx_free(f);
}

/*
 * Locks near INT64_MAX: two sells of one user whose locks add up to
 * exactly INT64_MAX pass; damaged so that they add up past it, the sum
 * per row must not wrap (a frozen amount equal to the wrapped int64 sum
 * is still a mismatch).
 */
TEST(verify_all_accounts_sums_locks_past_int64)
{
	core_limits lim = fx_default_limits();
	fx		   *f = fx_new_limits(&lim);
	fx		   *g;
	int64_t		half = INT64_MAX / 2;
	uint32_t	o1,
				o2,
				row;
	bool		ok;
	outcome		all,
				ver;

	CHECK_EQ(fx_asset(f, "AAA", 0), AB);
	CHECK_EQ(fx_asset(f, "QQQ", 0), AQ);
	CHECK_EQ(fx_symbol(f, "AAA_QQQ", AB, AQ, 1, 1, 0, 0, 0), 1);
	CHECK_EQ(fx_deposit(f, 1, AB, INT64_MAX).status, CORE_ST_OK);
	CHECK_EQ(fx_deposit(f, 1, AQ, 1).status, CORE_ST_OK);
	CHECK_EQ(fx_limit(f, 1, 1, CORE_SELL, half, 1, CORE_GTC).status, CORE_ST_NEW);
	CHECK_EQ(fx_limit(f, 1, 1, CORE_SELL, INT64_MAX - half, 1, CORE_GTC).status, CORE_ST_NEW);
	CHECK_EQ(fx_frozen(f, 1, AB), INT64_MAX);
	all_pass(f->c);

	g = copy_of(f);
	o1 = book_find_order(g->c, 1);
	o2 = book_find_order(g->c, 2);
	row = ORDER_COLD(g->c)[o1].base_row;
	CHECK(o1 != NIL && o2 != NIL && row == ORDER_COLD(g->c)[o2].base_row);
	/* each lock what its remainder needs, the sum INT64_MAX + 2 */
	ORDERS(g->c)[o1].remaining += 1;
	ORDER_COLD(g->c)[o1].locked += 1;
	ORDERS(g->c)[o2].remaining += 1;
	ORDER_COLD(g->c)[o2].locked += 1;
	all = run_all(g->c, &ok);
	CHECK(!ok);
	CHECK(!all.locks && all.frozen && !all.lists);
	/* frozen = the int64 sum wrapped: still no match */
	BALANCES(g->c)[row].frozen = INT64_MIN + 1;
	all = run_all(g->c, &ok);
	CHECK(!ok);
	CHECK(!all.locks && all.frozen && !all.lists);
	ver = run_verify(g->c, &ok);
	CHECK(!ok);
	CHECK(ver.frozen);
	fx_free(g);
	fx_free(f);
}

/* The scratch size grows with the tables, as documented. */
TEST(verify_all_accounts_size_follows_the_limits)
{
	core_limits a = {.max_assets = 2, .max_symbols = 1, .max_accounts = 10,
	.max_balances = 20, .max_orders = 5};
	core_limits b = a;

	b.max_balances = 21;
	CHECK_EQ(core_verify_all_accounts_size(&b) - core_verify_all_accounts_size(&a), 2 * 16);
	b = a;
	b.max_accounts = 11;
	CHECK_EQ(core_verify_all_accounts_size(&b) - core_verify_all_accounts_size(&a), 2 * 8);
	b = a;
	b.max_orders = 5000;
	CHECK_EQ(core_verify_all_accounts_size(&b), core_verify_all_accounts_size(&a));
}
