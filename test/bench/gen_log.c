/*
 * gen_log.c — engine.command_log rows for `make bench-recovery`, in COPY
 * text format, made by the core itself: the bench builds its big state by
 * loading these rows and letting the engine replay them, instead of sending
 * a million commands through SQL (which on a shared 2-core machine takes
 * longer than the benchmark may run).
 *
 * The commands are those of test/bench/recovery_workload.sql:
 *   build  3 assets (BTC, ETH 8 decimals; USDT 6), 2 symbols (BTC_USDT,
 *          ETH_USDT: tick 0.01, lot 0.0001, fees 0.1 % / 0.2 %); every
 *          account funded with 100000 USDT, 10 BTC and 10 ETH; build order
 *          i (0-based) belongs to user 1 + i % accounts, carries
 *          client_order_id 'b' || i, rests on BTC_USDT when (i / accounts)
 *          is even (else ETH_USDT), buys when i is even at
 *          100.00..149.99 and sells when odd at 200.00..249.99, qty 0.001:
 *          nothing crosses;
 *   tail   command t by t % 20: 0..7 a resting gtc order ('t' || t),
 *          8..14 a cancel of build order (t * 104729) % orders (refused
 *          when it is gone), 15..17 an amend of the user's oldest open
 *          order to a new price, 18..19 an ioc through the spread;
 *   refused  n PLACE records refused for capacity: run against an engine
 *          whose order pool is full (the bench's "capacity" cluster); with
 *          them, the engine.order_events rows that show each refusal, as
 *          the live engine would have written them (recovery checks them).
 * A scratch engine applies every record as it is written, so every cancel
 * and amend names an order that is really there and the rows are exactly
 * what a live engine would have logged.  Timestamps advance 10 us per
 * record from 2026-01-01.
 *
 * Usage: gen_log ACCOUNTS ORDERS TAIL EMIT [SEQ_BASE | N MAX_ORDERS]
 *   EMIT: build | tail | refused | ordinary (rows of that part only; the
 *   parts before it are simulated, not written).  tail: its seqs start
 *   after SEQ_BASE (the log's last seq; default: the build's).  refused and
 *   ordinary: the build part fills a pool of MAX_ORDERS (ORDERS =
 *   MAX_ORDERS), then N places refused for capacity, or N ordinary
 *   records (deposits), for item 7's comparison.  "refused" writes the log
 *   rows to stdout and the order_events rows to fd 3.
 *
 *        gen_log floors BYTES
 *   The floors on this machine for an arena of BYTES: first touch of fresh
 *   shared memory, madvise(MADV_POPULATE_WRITE) of fresh and of allocated
 *   memory, memcpy between two touched regions (the best of 3), as
 *   "first_touch_ms populate_fresh_ms populate_mapped_ms memcpy_ms".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "core.h"

#define TS0 INT64_C(820540800000000)	/* 2026-01-01 00:00 UTC, us since 2000 */
#define TICK 10000				/* 0.01 USDT */
#define QTY 100000				/* 0.001 BTC */

static core_engine *eng;
static int64_t seq;
static int	emitting;
static FILE *events_out;

/* The order a PLACE created (the last order event's id). */
static int64_t last_order_id;
static uint8_t last_status, last_reason;

static void
on_event(void *ctx, const core_event *ev)
{
	(void) ctx;
	if (ev->type == CORE_EV_ORDER)
	{
		last_order_id = ev->u.order.order_id;
		last_status = ev->u.order.status;
		last_reason = ev->u.order.reason;
	}
}

static uint32_t
log_crc(int64_t s, int64_t ts, const uint8_t *p, size_t n)
{
	uint8_t		head[16];

	for (int i = 0; i < 8; i++)
	{
		head[i] = (uint8_t) ((uint64_t) s >> (8 * i));
		head[8 + i] = (uint8_t) ((uint64_t) ts >> (8 * i));
	}
	return core_crc32c(core_crc32c(0, head, 16), p, n);
}

/* Apply rec as the next seq; write its log row when emitting. */
static core_result
emit(core_record *rec)
{
	uint8_t		buf[CORE_RECORD_MAX_BYTES];
	size_t		n;
	core_result res;
	int64_t		ts;

	seq++;
	ts = TS0 + seq * 10;
	rec->ts = ts;
	n = core_record_encode(rec, buf);
	last_order_id = 0;
	core_apply(eng, rec, on_event, NULL, &res);
	if (emitting)
	{
		/* seq, rectype, ts (as text), payload (bytea hex), crc */
		time_t		secs = (time_t) (ts / 1000000 + INT64_C(946684800));	/* unix seconds */
		struct tm	tm;
		char		when[32];

		gmtime_r(&secs, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		printf("%lld\t%d\t%s.%06lld+00\t\\\\x", (long long) seq, rec->type, when, (long long) (ts % 1000000));
		for (size_t i = 0; i < n; i++)
			printf("%02x", buf[i]);
		printf("\t%d\n", (int32_t) log_crc(seq, ts, buf, n));
	}
	return res;
}

static void
asset(const char *code, int dec)
{
	core_record r;

	memset(&r, 0, sizeof(r));
	r.type = CORE_REC_CREATE_ASSET;
	strcpy(r.u.create_asset.code, code);
	r.u.create_asset.decimals = (uint8_t) dec;
	emit(&r);
}

static void
symbol(const char *name, uint32_t base)
{
	core_record r;

	memset(&r, 0, sizeof(r));
	r.type = CORE_REC_CREATE_SYMBOL;
	strcpy(r.u.create_symbol.name, name);
	r.u.create_symbol.base_asset = base;
	r.u.create_symbol.quote_asset = 3;
	r.u.create_symbol.tick_size = TICK;
	r.u.create_symbol.lot_size = 10000;
	r.u.create_symbol.maker_fee_ppm = 1000;
	r.u.create_symbol.taker_fee_ppm = 2000;
	emit(&r);
}

static void
deposit(int64_t user, uint32_t a, int64_t amount)
{
	core_record r;

	memset(&r, 0, sizeof(r));
	r.type = CORE_REC_DEPOSIT;
	r.u.funds.user_id = user;
	r.u.funds.asset = a;
	r.u.funds.amount = amount;
	emit(&r);
}

static core_result
place(int64_t user, uint32_t sym, int side, int64_t price, core_tif tif, const char *coid)
{
	core_record r;

	memset(&r, 0, sizeof(r));
	r.type = CORE_REC_PLACE;
	r.u.place.user_id = user;
	r.u.place.symbol = sym;
	r.u.place.side = (uint8_t) side;
	r.u.place.tif = (uint8_t) tif;
	r.u.place.qty = QTY;
	r.u.place.price = price;
	if (coid)
		snprintf(r.u.place.client_order_id, sizeof(r.u.place.client_order_id), "%s", coid);
	return emit(&r);
}

static bool
first_order(void *ctx, const core_order_info *o)
{
	*(core_order_info *) ctx = *o;
	return false;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000.0 + t.tv_nsec / 1e6;
}

static int
floors(size_t bytes)
{
	char	   *a = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char	   *b = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	double		t0,
				touch,
				fresh,
				mapped,
				copy = 1e9;

	if (a == MAP_FAILED || b == MAP_FAILED)
	{
		perror("mmap");
		return 1;
	}
	t0 = now_ms();
	for (size_t i = 0; i < bytes; i += 4096)
		a[i] = 1;
	touch = now_ms() - t0;
	t0 = now_ms();
	if (madvise(b, bytes, MADV_POPULATE_WRITE) != 0)
		perror("madvise");
	fresh = now_ms() - t0;
	t0 = now_ms();
	(void) madvise(b, bytes, MADV_POPULATE_WRITE);
	mapped = now_ms() - t0;
	for (int r = 0; r < 3; r++)
	{
		double		c;

		t0 = now_ms();
		memcpy(b, a, bytes);
		c = now_ms() - t0;
		if (c < copy)
			copy = c;
	}
	printf("%.1f %.1f %.1f %.1f\n", touch, fresh, mapped, copy);
	return 0;
}

int
main(int argc, char **argv)
{
	long		accounts,
				orders,
				tail,
				refused = 0;
	const char *what;
	core_limits lim;
	size_t		size;
	void	   *mem;
	int64_t    *build_ids;
	char		coid[CORE_CLIENT_ID_MAX + 1];

	if (argc == 3 && strcmp(argv[1], "floors") == 0)
		return floors((size_t) atoll(argv[2]));
	if (argc < 5)
	{
		fprintf(stderr, "usage: gen_log ACCOUNTS ORDERS TAIL build|tail|refused [REFUSED MAX_ORDERS]\n");
		return 2;
	}
	accounts = atol(argv[1]);
	orders = atol(argv[2]);
	tail = atol(argv[3]);
	what = argv[4];
	lim.max_assets = 16;
	lim.max_symbols = 16;
	lim.max_accounts = (uint32_t) accounts + 16;
	lim.max_balances = 4 * lim.max_accounts;
	lim.max_orders = (uint32_t) (orders + orders / 10 + 1000);
	if (strcmp(what, "refused") == 0 || strcmp(what, "ordinary") == 0)
	{
		if (argc < 7)
			return 2;
		refused = atol(argv[5]);
		lim.max_orders = (uint32_t) atol(argv[6]);
		orders = lim.max_orders;
		if (strcmp(what, "refused") == 0 && (events_out = fdopen(3, "w")) == NULL)
		{
			perror("fd 3");
			return 2;
		}
	}
	size = (core_arena_size(&lim) + 63) & ~(size_t) 63;
	mem = aligned_alloc(64, size);
	eng = mem ? core_create(mem, size, &lim) : NULL;
	build_ids = malloc(sizeof(int64_t) * (size_t) (orders > 0 ? orders : 1));
	if (eng == NULL || build_ids == NULL)
	{
		fprintf(stderr, "gen_log: no memory\n");
		return 1;
	}

	emitting = strcmp(what, "build") == 0 || strcmp(what, "ordinary") == 0 ||
		strcmp(what, "refused") == 0;
	asset("BTC", 8);
	asset("ETH", 8);
	asset("USDT", 6);
	symbol("BTC_USDT", 1);
	symbol("ETH_USDT", 2);
	for (long u = 1; u <= accounts; u++)
	{
		deposit(u, 3, INT64_C(100000000000));
		deposit(u, 1, INT64_C(1000000000));
		deposit(u, 2, INT64_C(1000000000));
	}
	for (long i = 0; i < orders; i++)
	{
		int			side = (int) (i % 2);
		int64_t		price = (side == 0 ? 10000 : 20000) + (i / 2) % 5000;
		core_result res;

		snprintf(coid, sizeof(coid), "b%ld", i);
		res = place(1 + i % accounts, (i / accounts) % 2 == 0 ? 1 : 2, side, price * TICK, CORE_GTC, coid);
		if (res.status != CORE_ST_NEW)
		{
			fprintf(stderr, "gen_log: build order %ld did not rest (status %d reason %d)\n", i, res.status, res.reason);
			return 1;
		}
		build_ids[i] = res.order_id;
	}

	if (strcmp(what, "ordinary") == 0)
	{
		for (long k = 0; k < refused; k++)
			deposit(1 + k % accounts, 3, 1);
		return 0;
	}
	if (strcmp(what, "refused") == 0)
	{
		for (long k = 0; k < refused; k++)
		{
			core_result res;

			snprintf(coid, sizeof(coid), "r%ld", k);
			res = place(1 + k % accounts, 1, 0, 10000 * TICK, CORE_GTC, coid);
			if (res.status != CORE_ST_REJECTED || res.reason != CORE_R_CAPACITY)
			{
				fprintf(stderr, "gen_log: refused place %ld was not refused for capacity\n", k);
				return 1;
			}
			/* engine.order_events: seq, ev_no, order_id, user_id, symbol_id, side,
			 * event, price, qty, filled_qty, remaining_qty, reason, client_order_id, ts */
			fprintf(events_out, "%lld\t0\t%lld\t%ld\t1\tbuy\trejected\t%lld\t%d\t0\t0\tcapacity\t%s\t2026-01-01 00:00:00+00\n",
					(long long) seq, (long long) last_order_id, 1 + k % accounts,
					(long long) 10000 * TICK, QTY, coid);
			(void) last_status;
			(void) last_reason;
		}
		fclose(events_out);
		return 0;
	}

	emitting = strcmp(what, "tail") == 0;
	if (argc > 5)
		seq = atoll(argv[5]);
	for (long t = 0; t < tail; t++)
	{
		int			m = (int) (t % 20);
		int64_t		user = 1 + (t * 7919) % accounts;
		uint32_t	sym = (t / 20) % 2 == 0 ? 1 : 2;
		core_record r;

		memset(&r, 0, sizeof(r));
		if (m < 8)
		{
			int			side = (int) (t % 2);

			snprintf(coid, sizeof(coid), "t%ld", t);
			place(user, sym, side, ((side == 0 ? 10000 : 20000) + (t / 2) % 5000) * TICK, CORE_GTC, coid);
		}
		else if (m < 15)
		{
			long		j = (long) ((t * INT64_C(104729)) % orders);

			r.type = CORE_REC_CANCEL;
			r.u.cancel.user_id = 1 + j % accounts;
			r.u.cancel.order_id = build_ids[j];
			emit(&r);
		}
		else if (m < 18)
		{
			core_order_info o;

			memset(&o, 0, sizeof(o));
			core_user_orders(eng, user, 0, first_order, &o);
			if (o.order_id == 0)
			{
				snprintf(coid, sizeof(coid), "t%ld", t);
				place(user, sym, 0, (10000 + t % 5000) * TICK, CORE_GTC, coid);
				continue;
			}
			r.type = CORE_REC_AMEND;
			r.u.amend.user_id = user;
			r.u.amend.order_id = o.order_id;
			r.u.amend.price = o.side == CORE_BUY ? (10000 + (t / 3) % 5000) * TICK
				: (20000 + (t / 3) % 5000) * TICK;
			emit(&r);
		}
		else
		{
			int			side = (int) (t % 2);

			/* through the spread: a buy at 250.00 takes the best ask */
			place(user, sym, side, (side == 0 ? 25000 : 9000) * TICK, CORE_IOC, NULL);
		}
	}
	return 0;
}
