/*
 * test_codec.c — the record codec: encode/decode round trip for every
 * record type, decode refusing anything that is not exactly one payload,
 * CRC-32C, the shape checks of core_record_validate, core_record_desc's
 * JSON, and the stable text names.
 */
#include <ctype.h>
#include <stdlib.h>

#include "fixture.h"

/* ------------------------------------------------------------ samples */

static core_record
rec_of(core_rectype t)
{
	core_record r;

	memset(&r, 0, sizeof(r));
	r.type = (uint8_t) t;
	return r;
}

/* One well-formed record per type, every field set to a distinct value. */
static int
samples(core_record *out)
{
	int			n = 0;
	core_record r;

	r = rec_of(CORE_REC_CREATE_ASSET);
	strcpy(r.u.create_asset.code, "BTC");
	r.u.create_asset.decimals = 8;
	out[n++] = r;

	r = rec_of(CORE_REC_CREATE_ASSET);
	strcpy(r.u.create_asset.code, "ABCDEFGHIJKLMNOP");	/* 16, the maximum */
	r.u.create_asset.decimals = 18;
	out[n++] = r;

	r = rec_of(CORE_REC_CREATE_SYMBOL);
	strcpy(r.u.create_symbol.name, "BTC_USDT");
	r.u.create_symbol.base_asset = 1;
	r.u.create_symbol.quote_asset = 2;
	r.u.create_symbol.tick_size = 10000;
	r.u.create_symbol.lot_size = 100;
	r.u.create_symbol.min_qty = 5000;
	r.u.create_symbol.maker_fee_ppm = 1000;
	r.u.create_symbol.taker_fee_ppm = 2500;
	r.u.create_symbol.min_notional = 1000000;
	out[n++] = r;

	r = rec_of(CORE_REC_CREATE_SYMBOL);
	strcpy(r.u.create_symbol.name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_01234");	/* 32 */
	r.u.create_symbol.base_asset = 70000;
	r.u.create_symbol.quote_asset = 3;
	r.u.create_symbol.tick_size = INT64_MAX;
	r.u.create_symbol.lot_size = 1;
	r.u.create_symbol.maker_fee_ppm = 999999;
	r.u.create_symbol.min_notional = INT64_MAX;
	out[n++] = r;

	r = rec_of(CORE_REC_SET_SYMBOL_STATUS);
	r.u.set_symbol_status.symbol = 7;
	r.u.set_symbol_status.status = CORE_HALTED;
	out[n++] = r;

	r = rec_of(CORE_REC_DEPOSIT);
	r.u.funds.user_id = 123456789012345;
	r.u.funds.asset = 2;
	r.u.funds.amount = 217729000492;
	out[n++] = r;

	r = rec_of(CORE_REC_WITHDRAW);
	r.u.funds.user_id = 1;
	r.u.funds.asset = 65536;
	r.u.funds.amount = INT64_MAX;
	out[n++] = r;

	r = rec_of(CORE_REC_PLACE);
	r.u.place.user_id = 42;
	r.u.place.symbol = 3;
	r.u.place.side = CORE_SELL;
	r.u.place.tif = CORE_IOC;
	r.u.place.stp = CORE_STP_CANCEL_BOTH;
	r.u.place.qty = 256284400;
	r.u.place.price = 84956010000;
	strcpy(r.u.place.client_order_id, "0123456789abcdef0123456789abcdef0123");	/* 36 */
	r.u.place.max_open_orders = UINT32_MAX;
	out[n++] = r;

	r = rec_of(CORE_REC_PLACE);
	r.u.place.user_id = 9;
	r.u.place.symbol = 1;
	r.u.place.side = CORE_BUY;
	r.u.place.tif = CORE_GTC;
	r.u.place.stp = CORE_STP_CANCEL_MAKER;
	r.u.place.post_only = true;
	r.u.place.qty = 1;
	r.u.place.price = 1;
	r.u.place.max_open_orders = 200;
	out[n++] = r;

	r = rec_of(CORE_REC_PLACE);	/* market buy by quote_qty */
	r.u.place.user_id = 5;
	r.u.place.symbol = 1;
	r.u.place.side = CORE_BUY;
	r.u.place.tif = CORE_IOC;
	r.u.place.qty = 0;
	r.u.place.price = 0;
	r.u.place.quote_qty = 505;
	strcpy(r.u.place.client_order_id, "mkt");
	out[n++] = r;

	r = rec_of(CORE_REC_CANCEL);
	r.u.cancel.user_id = 77;
	r.u.cancel.order_id = 9876543210;
	out[n++] = r;

	r = rec_of(CORE_REC_CANCEL_ALL);
	r.u.cancel_all.user_id = 77;
	r.u.cancel_all.symbol = 0;
	out[n++] = r;

	r = rec_of(CORE_REC_CANCEL_ALL);
	r.u.cancel_all.user_id = 78;
	r.u.cancel_all.symbol = 4;
	out[n++] = r;

	r = rec_of(CORE_REC_AMEND);
	r.u.amend.user_id = 3;
	r.u.amend.order_id = 11;
	r.u.amend.qty = 500;
	r.u.amend.price = 0;
	out[n++] = r;

	r = rec_of(CORE_REC_AMEND);
	r.u.amend.user_id = 3;
	r.u.amend.order_id = 12;
	r.u.amend.qty = 0;
	r.u.amend.price = 1234;
	out[n++] = r;

	return n;
}

#define MAX_SAMPLES 32

/* Field-by-field equality (padding and unused string bytes aside). */
static bool
rec_equal(const core_record *a, const core_record *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type)
	{
		case CORE_REC_CREATE_ASSET:
			return strcmp(a->u.create_asset.code, b->u.create_asset.code) == 0 &&
				a->u.create_asset.decimals == b->u.create_asset.decimals;
		case CORE_REC_CREATE_SYMBOL:
			{
				const core_rec_create_symbol *x = &a->u.create_symbol,
						   *y = &b->u.create_symbol;

				return strcmp(x->name, y->name) == 0 &&
					x->base_asset == y->base_asset && x->quote_asset == y->quote_asset &&
					x->tick_size == y->tick_size && x->lot_size == y->lot_size &&
					x->min_qty == y->min_qty && x->maker_fee_ppm == y->maker_fee_ppm &&
					x->taker_fee_ppm == y->taker_fee_ppm &&
					x->min_notional == y->min_notional;
			}
		case CORE_REC_SET_SYMBOL_STATUS:
			return a->u.set_symbol_status.symbol == b->u.set_symbol_status.symbol &&
				a->u.set_symbol_status.status == b->u.set_symbol_status.status;
		case CORE_REC_DEPOSIT:
		case CORE_REC_WITHDRAW:
			return a->u.funds.user_id == b->u.funds.user_id &&
				a->u.funds.asset == b->u.funds.asset &&
				a->u.funds.amount == b->u.funds.amount;
		case CORE_REC_PLACE:
			{
				const core_rec_place *x = &a->u.place,
						   *y = &b->u.place;

				return x->user_id == y->user_id && x->symbol == y->symbol &&
					x->side == y->side && x->tif == y->tif && x->stp == y->stp &&
					x->post_only == y->post_only && x->qty == y->qty &&
					x->price == y->price && x->quote_qty == y->quote_qty &&
					strcmp(x->client_order_id, y->client_order_id) == 0 &&
					x->max_open_orders == y->max_open_orders;
			}
		case CORE_REC_CANCEL:
			return a->u.cancel.user_id == b->u.cancel.user_id &&
				a->u.cancel.order_id == b->u.cancel.order_id;
		case CORE_REC_CANCEL_ALL:
			return a->u.cancel_all.user_id == b->u.cancel_all.user_id &&
				a->u.cancel_all.symbol == b->u.cancel_all.symbol;
		case CORE_REC_AMEND:
			return a->u.amend.user_id == b->u.amend.user_id &&
				a->u.amend.order_id == b->u.amend.order_id &&
				a->u.amend.qty == b->u.amend.qty &&
				a->u.amend.price == b->u.amend.price;
	}
	return false;
}

/* Decode from an exact-size heap copy so ASan catches any read past len. */
static bool
decode_exact(const uint8_t *bytes, size_t len, core_record *out)
{
	uint8_t    *copy = malloc(len ? len : 1);
	bool		ok;

	if (len)
		memcpy(copy, bytes, len);
	memset(out, 0x77, sizeof(*out));
	ok = core_record_decode(copy, len, out);
	free(copy);
	return ok;
}

/* --------------------------------------------------------- round trip */

TEST(codec_round_trip_every_record_type)
{
	core_record s[MAX_SAMPLES];
	int			n = samples(s);
	bool		seen[CORE_REC_COUNT] = {false};

	for (int i = 0; i < n; i++)
	{
		uint8_t		buf[CORE_RECORD_MAX_BYTES + 16];
		uint8_t		again[CORE_RECORD_MAX_BYTES + 16];
		core_record d;
		size_t		len,
					len2;

		memset(buf, 0xEE, sizeof(buf));
		len = core_record_encode(&s[i], buf);
		CHECK(len > 2);
		CHECK(len <= CORE_RECORD_MAX_BYTES);
		CHECK_EQ(buf[CORE_RECORD_MAX_BYTES], 0xEE);	/* wrote no further */
		CHECK_EQ(buf[0], CORE_RECORD_FORMAT);
		CHECK_EQ(buf[1], s[i].type);
		CHECK(decode_exact(buf, len, &d));
		if (!rec_equal(&s[i], &d))
			test_fail(__FILE__, __LINE__, "sample %d (%s) did not round-trip",
					  i, core_rectype_name(s[i].type));
		len2 = core_record_encode(&d, again);
		CHECK_EQ(len2, len);
		CHECK(memcmp(buf, again, len) == 0);
		seen[s[i].type] = true;
	}
	for (int t = 1; t < CORE_REC_COUNT; t++)
		if (!seen[t])
			test_fail(__FILE__, __LINE__, "no sample of record type %d", t);
}

/* ts lives in the log's own column, not in the payload. */
TEST(codec_timestamp_not_part_of_payload)
{
	core_record a = rec_of(CORE_REC_CANCEL),
				b;
	uint8_t		x[CORE_RECORD_MAX_BYTES],
				y[CORE_RECORD_MAX_BYTES];
	size_t		lx,
				ly;

	a.u.cancel.user_id = 1;
	a.u.cancel.order_id = 2;
	b = a;
	a.ts = 1;
	b.ts = 1700000000000000;
	lx = core_record_encode(&a, x);
	ly = core_record_encode(&b, y);
	CHECK_EQ(lx, ly);
	CHECK(memcmp(x, y, lx) == 0);
}

/* Fields follow the format and type bytes, little-endian, in struct order. */
TEST(codec_funds_payload_is_little_endian)
{
	core_record r = rec_of(CORE_REC_DEPOSIT);
	uint8_t		buf[CORE_RECORD_MAX_BYTES];
	static const uint8_t want[] = {
		CORE_RECORD_FORMAT, CORE_REC_DEPOSIT,
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,	/* user_id */
		0x0D, 0x0C, 0x0B, 0x0A,	/* asset */
		0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,	/* amount */
	};

	r.u.funds.user_id = 0x0102030405060708;
	r.u.funds.asset = 0x0A0B0C0D;
	r.u.funds.amount = 0x1112131415161718;
	CHECK_EQ(core_record_encode(&r, buf), sizeof(want));
	CHECK(memcmp(buf, want, sizeof(want)) == 0);
}

/* ------------------------------------------------------ formats */

/*
 * Payloads release 1.0 wrote (format 1), byte for byte: a CREATE_SYMBOL
 * without min_notional and a PLACE without max_open_orders.
 */
static const uint8_t v1_create_symbol[] = {
	0x01, 0x02, 0x08, 'B', 'T', 'C', '_', 'U', 'S', 'D', 'T',
	0x01, 0x00, 0x00, 0x00,		/* base_asset */
	0x02, 0x00, 0x00, 0x00,		/* quote_asset */
	0x10, 0x27, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* tick_size 10000 */
	0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* lot_size 100 */
	0x88, 0x13, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* min_qty 5000 */
	0xE8, 0x03, 0x00, 0x00,		/* maker_fee_ppm 1000 */
	0xC4, 0x09, 0x00, 0x00,		/* taker_fee_ppm 2500 */
};

static const uint8_t v1_place[] = {
	0x01, 0x06,
	0x2A, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* user_id 42 */
	0x03, 0x00, 0x00, 0x00,		/* symbol 3 */
	0x01, 0x01, 0x03, 0x00,		/* sell, ioc, cancel_both, not post-only */
	0xF0, 0x96, 0x46, 0x0F, 0x00, 0x00, 0x00, 0x00,	/* qty 256284400 */
	0x10, 0xD6, 0xC5, 0xC7, 0x13, 0x00, 0x00, 0x00,	/* price 84956010000 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* quote_qty 0 */
	0x03, 'c', '-', '1',		/* client_order_id */
};

/* The same records under format 2: the format byte, then the added fields. */
static const uint8_t v2_create_symbol_tail[] = {
	0x40, 0x42, 0x0F, 0x00, 0x00, 0x00, 0x00, 0x00,	/* min_notional 1000000 */
};
static const uint8_t v2_place_tail[] = {
	0xC8, 0x00, 0x00, 0x00,		/* max_open_orders 200 */
};

TEST(codec_format_1_payloads_decode_with_added_fields_zero)
{
	core_record d;
	uint8_t		buf[CORE_RECORD_MAX_BYTES];
	size_t		len;

	CHECK(decode_exact(v1_create_symbol, sizeof(v1_create_symbol), &d));
	CHECK_EQ(d.type, CORE_REC_CREATE_SYMBOL);
	CHECK_STR(d.u.create_symbol.name, "BTC_USDT");
	CHECK_EQ(d.u.create_symbol.base_asset, 1);
	CHECK_EQ(d.u.create_symbol.quote_asset, 2);
	CHECK_EQ(d.u.create_symbol.tick_size, 10000);
	CHECK_EQ(d.u.create_symbol.lot_size, 100);
	CHECK_EQ(d.u.create_symbol.min_qty, 5000);
	CHECK_EQ(d.u.create_symbol.maker_fee_ppm, 1000);
	CHECK_EQ(d.u.create_symbol.taker_fee_ppm, 2500);
	CHECK_EQ(d.u.create_symbol.min_notional, 0);
	CHECK(core_record_validate(&d) == NULL);
	/* re-encoded it is format 2, with the added field 0 */
	len = core_record_encode(&d, buf);
	CHECK_EQ(len, sizeof(v1_create_symbol) + 8);
	CHECK_EQ(buf[0], 2);
	CHECK(memcmp(buf + 1, v1_create_symbol + 1, sizeof(v1_create_symbol) - 1) == 0);
	for (size_t i = sizeof(v1_create_symbol); i < len; i++)
		CHECK_EQ(buf[i], 0);

	CHECK(decode_exact(v1_place, sizeof(v1_place), &d));
	CHECK_EQ(d.type, CORE_REC_PLACE);
	CHECK_EQ(d.u.place.user_id, 42);
	CHECK_EQ(d.u.place.symbol, 3);
	CHECK_EQ(d.u.place.side, CORE_SELL);
	CHECK_EQ(d.u.place.tif, CORE_IOC);
	CHECK_EQ(d.u.place.stp, CORE_STP_CANCEL_BOTH);
	CHECK(!d.u.place.post_only);
	CHECK_EQ(d.u.place.qty, 256284400);
	CHECK_EQ(d.u.place.price, 84956010000);
	CHECK_EQ(d.u.place.quote_qty, 0);
	CHECK_STR(d.u.place.client_order_id, "c-1");
	CHECK_EQ(d.u.place.max_open_orders, 0);
	len = core_record_encode(&d, buf);
	CHECK_EQ(len, sizeof(v1_place) + 4);
	CHECK_EQ(buf[0], 2);
	CHECK(memcmp(buf + 1, v1_place + 1, sizeof(v1_place) - 1) == 0);
	for (size_t i = sizeof(v1_place); i < len; i++)
		CHECK_EQ(buf[i], 0);
}

TEST(codec_format_2_vectors_exact)
{
	core_record r;
	uint8_t		buf[CORE_RECORD_MAX_BYTES];
	size_t		len;

	CHECK(decode_exact(v1_create_symbol, sizeof(v1_create_symbol), &r));
	r.u.create_symbol.min_notional = 1000000;
	len = core_record_encode(&r, buf);
	CHECK_EQ(len, sizeof(v1_create_symbol) + sizeof(v2_create_symbol_tail));
	CHECK_EQ(buf[0], CORE_RECORD_FORMAT);
	CHECK_EQ(CORE_RECORD_FORMAT, 2);
	CHECK(memcmp(buf + 1, v1_create_symbol + 1, sizeof(v1_create_symbol) - 1) == 0);
	CHECK(memcmp(buf + sizeof(v1_create_symbol), v2_create_symbol_tail,
				 sizeof(v2_create_symbol_tail)) == 0);

	CHECK(decode_exact(v1_place, sizeof(v1_place), &r));
	r.u.place.max_open_orders = 200;
	len = core_record_encode(&r, buf);
	CHECK_EQ(len, sizeof(v1_place) + sizeof(v2_place_tail));
	CHECK(memcmp(buf + 1, v1_place + 1, sizeof(v1_place) - 1) == 0);
	CHECK(memcmp(buf + sizeof(v1_place), v2_place_tail, sizeof(v2_place_tail)) == 0);
	CHECK(decode_exact(buf, len, &r));
	CHECK_EQ(r.u.place.max_open_orders, 200);
}

/* Every sample written as format 1 (the added fields dropped) decodes to
 * the sample with those fields 0; a payload must be exactly its format's. */
TEST(codec_format_1_of_every_record_type_and_length_mismatch)
{
	core_record s[MAX_SAMPLES];
	int			n = samples(s);

	for (int i = 0; i < n; i++)
	{
		uint8_t		buf[CORE_RECORD_MAX_BYTES];
		size_t		len = core_record_encode(&s[i], buf);
		size_t		added = s[i].type == CORE_REC_CREATE_SYMBOL ? 8 :
			s[i].type == CORE_REC_PLACE ? 4 : 0;
		core_record want = s[i],
					d;

		if (s[i].type == CORE_REC_CREATE_SYMBOL)
			want.u.create_symbol.min_notional = 0;
		if (s[i].type == CORE_REC_PLACE)
			want.u.place.max_open_orders = 0;
		buf[0] = 1;
		CHECK(decode_exact(buf, len - added, &d));
		if (!rec_equal(&want, &d))
			test_fail(__FILE__, __LINE__, "sample %d (%s) as format 1 decodes differently",
					  i, core_rectype_name(s[i].type));
		if (added)
		{
			/* format 1 with the format-2 fields after it: trailing bytes */
			CHECK(!decode_exact(buf, len, &d));
			CHECK_EQ(d.type, CORE_REC_INVALID);
			/* format 2 without them: truncated */
			buf[0] = 2;
			CHECK(!decode_exact(buf, len - added, &d));
			CHECK_EQ(d.type, CORE_REC_INVALID);
		}
	}
}

/* ------------------------------------------------------ decode refuses */

TEST(codec_decode_rejects_every_truncation)
{
	core_record s[MAX_SAMPLES];
	int			n = samples(s);

	for (int i = 0; i < n; i++)
	{
		uint8_t		buf[CORE_RECORD_MAX_BYTES];
		size_t		len = core_record_encode(&s[i], buf);

		for (size_t cut = 0; cut < len; cut++)
		{
			core_record d;

			if (decode_exact(buf, cut, &d))
				test_fail(__FILE__, __LINE__, "%s truncated to %zu of %zu bytes decoded",
						  core_rectype_name(s[i].type), cut, len);
			CHECK_EQ(d.type, CORE_REC_INVALID);
		}
	}
}

TEST(codec_decode_rejects_trailing_bytes)
{
	core_record s[MAX_SAMPLES];
	int			n = samples(s);

	for (int i = 0; i < n; i++)
	{
		uint8_t		buf[CORE_RECORD_MAX_BYTES + 8];
		size_t		len = core_record_encode(&s[i], buf);
		core_record d;

		buf[len] = 0;
		buf[len + 1] = 0x5A;
		if (decode_exact(buf, len + 1, &d))
			test_fail(__FILE__, __LINE__, "%s with one extra byte decoded",
					  core_rectype_name(s[i].type));
		CHECK_EQ(d.type, CORE_REC_INVALID);
		CHECK(!decode_exact(buf, len + 2, &d));
	}
}

TEST(codec_decode_rejects_wrong_format_byte)
{
	core_record s[MAX_SAMPLES];
	int			n = samples(s);
	static const uint8_t bad[] = {0, CORE_RECORD_FORMAT + 1, 0x7F, 0xFF};

	for (int i = 0; i < n; i++)
	{
		uint8_t		buf[CORE_RECORD_MAX_BYTES];
		size_t		len = core_record_encode(&s[i], buf);

		for (size_t b = 0; b < sizeof(bad); b++)
		{
			core_record d;

			buf[0] = bad[b];
			CHECK(!decode_exact(buf, len, &d));
			CHECK_EQ(d.type, CORE_REC_INVALID);
		}
	}
}

TEST(codec_decode_rejects_unknown_type_byte)
{
	core_record r = rec_of(CORE_REC_CANCEL);
	uint8_t		buf[CORE_RECORD_MAX_BYTES];
	size_t		len;
	core_record d;

	r.u.cancel.user_id = 1;
	r.u.cancel.order_id = 1;
	len = core_record_encode(&r, buf);
	buf[1] = CORE_REC_INVALID;
	CHECK(!decode_exact(buf, len, &d));
	buf[1] = CORE_REC_COUNT;
	CHECK(!decode_exact(buf, len, &d));
	buf[1] = 0xFF;
	CHECK(!decode_exact(buf, len, &d));
	CHECK_EQ(d.type, CORE_REC_INVALID);
}

/* A record whose encoded string field lacks room for its terminator. */
TEST(codec_decode_rejects_empty_and_header_only)
{
	uint8_t		hdr[2] = {CORE_RECORD_FORMAT, CORE_REC_PLACE};
	core_record d;

	CHECK(!decode_exact(hdr, 0, &d));
	CHECK(!decode_exact(hdr, 1, &d));
	CHECK(!decode_exact(hdr, 2, &d));
	CHECK_EQ(d.type, CORE_REC_INVALID);
}

static uint64_t
lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/*
 * Random bytes: with a wrong format byte never decode; with a valid header
 * they may decode only as a payload that re-encodes to the same length.
 */
TEST(codec_decode_garbage_never_accepted_loosely)
{
	uint64_t	seed = 12345;

	for (int iter = 0; iter < 20000; iter++)
	{
		uint8_t		buf[CORE_RECORD_MAX_BYTES + 32];
		size_t		len = lcg(&seed) % sizeof(buf);
		core_record d;

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t) lcg(&seed);
		if (len > 0 && iter % 2 == 0)
		{
			if (buf[0] >= CORE_RECORD_FORMAT_MIN && buf[0] <= CORE_RECORD_FORMAT)
				buf[0] ^= 0x80;
			CHECK(!decode_exact(buf, len, &d));
			continue;
		}
		if (len >= 2)
		{
			buf[0] = CORE_RECORD_FORMAT;
			buf[1] = (uint8_t) (1 + lcg(&seed) % (CORE_REC_COUNT - 1));
		}
		if (decode_exact(buf, len, &d))
		{
			uint8_t		again[CORE_RECORD_MAX_BYTES];

			CHECK(d.type > CORE_REC_INVALID && d.type < CORE_REC_COUNT);
			CHECK_EQ(core_record_encode(&d, again), len);
		}
		else
			CHECK_EQ(d.type, CORE_REC_INVALID);
	}
}

/* ------------------------------------------------------------- CRC-32C */

TEST(codec_crc32c_check_value_123456789)
{
	CHECK_EQ(core_crc32c(0, "123456789", 9), 0xE3069283u);
}

TEST(codec_crc32c_known_vectors)
{
	uint8_t		zeros[32],
				ones[32];

	memset(zeros, 0, sizeof(zeros));
	memset(ones, 0xFF, sizeof(ones));
	CHECK_EQ(core_crc32c(0, "", 0), 0);
	CHECK_EQ(core_crc32c(0, "a", 1), 0xC1D04330u);
	CHECK_EQ(core_crc32c(0, zeros, 32), 0x8A9136AAu);	/* RFC 3720 B.4 */
	CHECK_EQ(core_crc32c(0, ones, 32), 0x62A8AB43u);
}

TEST(codec_crc32c_continues_across_pieces)
{
	uint32_t	c = core_crc32c(0, "1234", 4);

	c = core_crc32c(c, "56789", 5);
	CHECK_EQ(c, 0xE3069283u);
	c = core_crc32c(0, "1", 1);
	for (int i = 2; i <= 9; i++)
	{
		char		ch = (char) ('0' + i);

		c = core_crc32c(c, &ch, 1);
	}
	CHECK_EQ(c, 0xE3069283u);
}

/* ------------------------------------------------------------ validate */

static bool
mentions(const char *msg, const char *a, const char *b)
{
	char		low[256];
	size_t		i;

	if (msg == NULL)
		return false;
	for (i = 0; msg[i] && i < sizeof(low) - 1; i++)
		low[i] = (char) tolower((unsigned char) msg[i]);
	low[i] = '\0';
	return strstr(low, a) != NULL || (b != NULL && strstr(low, b) != NULL);
}

/* The record is malformed and the message names the field (a or b). */
#define CHECK_INVALID(rec, a, b) \
	do { \
		const char *_m = core_record_validate(&(rec)); \
		if (_m == NULL) \
			test_fail(__FILE__, __LINE__, "validate accepted a bad record (want '%s')", (a)); \
		else if (!mentions(_m, (a), (b))) \
			test_fail(__FILE__, __LINE__, "message \"%s\" does not name '%s'", _m, (a)); \
	} while (0)

TEST(codec_validate_accepts_every_sample)
{
	core_record s[MAX_SAMPLES];
	int			n = samples(s);

	for (int i = 0; i < n; i++)
	{
		const char *m = core_record_validate(&s[i]);

		if (m != NULL)
			test_fail(__FILE__, __LINE__, "sample %d (%s) refused: %s",
					  i, core_rectype_name(s[i].type), m);
	}
}

TEST(codec_validate_names_bad_reference_data_fields)
{
	core_record s[MAX_SAMPLES];
	core_record r;

	samples(s);
	r = s[0];
	r.u.create_asset.decimals = 19;
	CHECK_INVALID(r, "decimals", NULL);
	r = s[0];
	r.u.create_asset.code[0] = '\0';
	CHECK_INVALID(r, "code", NULL);
	r = s[0];
	memset(r.u.create_asset.code, 'X', sizeof(r.u.create_asset.code));	/* no NUL */
	CHECK_INVALID(r, "code", NULL);

	r = s[2];
	r.u.create_symbol.name[0] = '\0';
	CHECK_INVALID(r, "name", "symbol");
	r = s[2];
	memset(r.u.create_symbol.name, 'X', sizeof(r.u.create_symbol.name));
	CHECK_INVALID(r, "name", "symbol");
	r = s[2];
	r.u.create_symbol.tick_size = 0;
	CHECK_INVALID(r, "tick", NULL);
	r = s[2];
	r.u.create_symbol.lot_size = -100;
	CHECK_INVALID(r, "lot", NULL);
	r = s[2];
	r.u.create_symbol.min_qty = -1;
	CHECK_INVALID(r, "min", NULL);
	r = s[2];
	r.u.create_symbol.min_notional = -1;
	CHECK_INVALID(r, "min_notional", NULL);
	r = s[2];
	r.u.create_symbol.maker_fee_ppm = CORE_FEE_SCALE;
	CHECK_INVALID(r, "maker", "fee");
	r = s[2];
	r.u.create_symbol.taker_fee_ppm = -1;
	CHECK_INVALID(r, "taker", "fee");
	r = s[2];
	r.u.create_symbol.base_asset = 0;
	CHECK_INVALID(r, "base", "asset");

	r = s[4];
	r.u.set_symbol_status.status = 2;
	CHECK_INVALID(r, "status", NULL);
}

TEST(codec_validate_names_bad_funds_fields)
{
	core_record r = rec_of(CORE_REC_DEPOSIT);

	r.u.funds.user_id = 1;
	r.u.funds.asset = 1;
	r.u.funds.amount = 0;
	CHECK_INVALID(r, "amount", NULL);
	r.u.funds.amount = -1;
	CHECK_INVALID(r, "amount", NULL);
	r.u.funds.amount = 1;
	r.u.funds.user_id = -1;
	CHECK_INVALID(r, "user", NULL);
	r.u.funds.user_id = 0;
	CHECK_INVALID(r, "user", NULL);
	r.type = CORE_REC_WITHDRAW;
	r.u.funds.user_id = 1;
	r.u.funds.amount = -7;
	CHECK_INVALID(r, "amount", NULL);
}

static core_record
limit_rec(void)
{
	core_record r = rec_of(CORE_REC_PLACE);

	r.u.place = fx_place_rec(1, 1, CORE_BUY, 100, 1000, CORE_GTC);
	return r;
}

static core_record
market_rec(core_side side)
{
	core_record r = rec_of(CORE_REC_PLACE);

	r.u.place = fx_place_rec(1, 1, side, 100, 0, CORE_IOC);
	return r;
}

TEST(codec_validate_names_bad_place_fields)
{
	core_record r;

	r = limit_rec();
	CHECK(core_record_validate(&r) == NULL);
	r.u.place.side = 2;
	CHECK_INVALID(r, "side", NULL);
	r = limit_rec();
	r.u.place.tif = 3;
	CHECK_INVALID(r, "tif", NULL);
	r = limit_rec();
	r.u.place.stp = 4;
	CHECK_INVALID(r, "stp", NULL);
	r = limit_rec();
	r.u.place.qty = 0;
	CHECK_INVALID(r, "qty", NULL);
	r = limit_rec();
	r.u.place.qty = -5;
	CHECK_INVALID(r, "qty", NULL);
	r = limit_rec();
	r.u.place.price = -1;
	CHECK_INVALID(r, "price", NULL);
	r = limit_rec();
	r.u.place.quote_qty = 100;
	CHECK_INVALID(r, "quote", NULL);
	r = limit_rec();
	r.u.place.user_id = 0;
	CHECK_INVALID(r, "user", NULL);
	r = limit_rec();
	memset(r.u.place.client_order_id, 'c', sizeof(r.u.place.client_order_id));
	CHECK_INVALID(r, "client", NULL);
}

TEST(codec_validate_names_bad_market_order_fields)
{
	core_record r;

	r = market_rec(CORE_BUY);
	CHECK(core_record_validate(&r) == NULL);
	r.u.place.post_only = true;
	CHECK_INVALID(r, "post", NULL);
	r = market_rec(CORE_BUY);
	r.u.place.tif = CORE_FOK;
	CHECK_INVALID(r, "fok", "tif");
	r = market_rec(CORE_SELL);
	r.u.place.quote_qty = 100;
	CHECK_INVALID(r, "quote", NULL);
	r = market_rec(CORE_SELL);
	r.u.place.qty = 0;
	CHECK_INVALID(r, "qty", NULL);
	/* a market buy needs qty or quote_qty */
	r = market_rec(CORE_BUY);
	r.u.place.qty = 0;
	CHECK_INVALID(r, "qty", "quote");
	r.u.place.quote_qty = 3;
	CHECK(core_record_validate(&r) == NULL);
	r = market_rec(CORE_BUY);
	r.u.place.quote_qty = -3;
	CHECK_INVALID(r, "quote", NULL);
}

TEST(codec_validate_names_bad_cancel_and_amend_fields)
{
	core_record r = rec_of(CORE_REC_CANCEL);

	r.u.cancel.user_id = 1;
	r.u.cancel.order_id = 0;
	CHECK_INVALID(r, "order", NULL);
	r.u.cancel.order_id = 1;
	r.u.cancel.user_id = -1;
	CHECK_INVALID(r, "user", NULL);

	r = rec_of(CORE_REC_AMEND);
	r.u.amend.user_id = 1;
	r.u.amend.order_id = 1;
	CHECK_INVALID(r, "qty", "price");	/* neither qty nor price */
	r.u.amend.qty = -1;
	CHECK_INVALID(r, "qty", NULL);
	r.u.amend.qty = 0;
	r.u.amend.price = -1;
	CHECK_INVALID(r, "price", NULL);
	r.u.amend.price = 5;
	r.u.amend.order_id = -2;
	CHECK_INVALID(r, "order", NULL);
}

TEST(codec_validate_refuses_unknown_record_type)
{
	core_record r = rec_of(CORE_REC_INVALID);

	CHECK(core_record_validate(&r) != NULL);
	r.type = CORE_REC_COUNT;
	CHECK(core_record_validate(&r) != NULL);
	r.type = 200;
	CHECK(core_record_validate(&r) != NULL);
}

/* core_apply runs the same checks: a malformed record is rejected, invalid. */
TEST(codec_apply_rejects_malformed_records_invalid)
{
	fx		   *f = fx_simple(0, 0);
	core_record r = limit_rec();
	int64_t		seq = core_seq(f->c);

	fx_deposit(f, 1, FX_QUOTE, 100000);
	r.u.place.side = 9;
	fx_apply(f, &r);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	r = rec_of((core_rectype) 200);
	fx_apply(f, &r);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	CHECK_EQ(f->nev, 0);
	/* every record consumes a seq, rejected or not */
	CHECK_EQ(core_seq(f->c), seq + 3);
	FX_BAL(f, 1, FX_QUOTE, 100000, 0);
	CHECK_EQ(core_get_counters(f->c).orders, 0);
	FX_VERIFY(f);
	fx_free(f);
}

/*
 * semantics.md: "every PLACE that reaches the engine consumes one [order
 * id], rejected ones included" and "Rejected commands emit exactly one order
 * event (for PLACE, with the new order id)".  A PLACE with a bad side is
 * still a PLACE that reached the engine (as an off-tick one does).
 */
TEST(codec_apply_malformed_place_still_consumes_order_id)
{
	fx		   *f = fx_simple(0, 0);
	core_record r = limit_rec();

	fx_deposit(f, 1, FX_QUOTE, 100000);
	r.u.place.side = 9;
	fx_apply(f, &r);
	CHECK_EQ(f->r.status, CORE_ST_REJECTED);
	CHECK_EQ(f->r.reason, CORE_R_INVALID);
	CHECK_EQ(f->r.order_id, 1);
	CHECK_EQ(f->nev, 1);
	FX_OEV(f, 0, 1, CORE_ST_REJECTED, CORE_R_INVALID, 0, 0);
	r = limit_rec();
	fx_apply(f, &r);
	CHECK_EQ(f->r.order_id, 2);
	FX_VERIFY(f);
	fx_free(f);
}

/* ---------------------------------------------------------------- desc */

/* A small strict JSON checker: returns the end of one value or NULL. */
static const char *json_value(const char *p);

static const char *
json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *
json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"')
	{
		if ((unsigned char) *p < 0x20)
			return NULL;
		if (*p == '\\')
		{
			p++;
			if (*p == 'u')
			{
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char) p[i]))
						return NULL;
				p += 4;
			}
			else if (!strchr("\"\\/bfnrt", *p) || *p == '\0')
				return NULL;
		}
		p++;
	}
	return p + 1;
}

static const char *
json_number(const char *p)
{
	const char *s = p;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (isdigit((unsigned char) *p))
		while (isdigit((unsigned char) *p))
			p++;
	else
		return NULL;
	if (*p == '.')
	{
		p++;
		if (!isdigit((unsigned char) *p))
			return NULL;
		while (isdigit((unsigned char) *p))
			p++;
	}
	if (*p == 'e' || *p == 'E')
	{
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char) *p))
			return NULL;
		while (isdigit((unsigned char) *p))
			p++;
	}
	return p > s ? p : NULL;
}

static const char *
json_value(const char *p)
{
	p = json_ws(p);
	if (*p == '{' || *p == '[')
	{
		char		close = *p == '{' ? '}' : ']';
		bool		obj = *p == '{';

		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;)
		{
			if (obj)
			{
				p = json_string(json_ws(p));
				if (!p)
					return NULL;
				p = json_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			p = json_value(p);
			if (!p)
				return NULL;
			p = json_ws(p);
			if (*p == ',')
			{
				p++;
				continue;
			}
			if (*p == close)
				return p + 1;
			return NULL;
		}
	}
	if (*p == '"')
		return json_string(p);
	if (strncmp(p, "true", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	if (strncmp(p, "null", 4) == 0)
		return p + 4;
	return json_number(p);
}

static bool
is_json_object(const char *s)
{
	const char *e;

	s = json_ws(s);
	if (*s != '{')
		return false;
	e = json_value(s);
	return e != NULL && *json_ws(e) == '\0';
}

TEST(codec_json_checker_itself_rejects_bad_text)
{
	CHECK(is_json_object("{\"a\":1,\"b\":\"x\\\"y\",\"c\":[true,null,-2.5e3]}"));
	CHECK(!is_json_object("{\"a\":1,}"));
	CHECK(!is_json_object("{\"a\":\"x\"y\"}"));
	CHECK(!is_json_object("{a:1}"));
	CHECK(!is_json_object("{\"a\":1"));
	CHECK(!is_json_object("[1]"));
}

TEST(codec_desc_every_sample_is_a_json_object)
{
	core_record s[MAX_SAMPLES];
	int			n = samples(s);

	for (int i = 0; i < n; i++)
	{
		char		buf[1024];
		size_t		len = core_record_desc(&s[i], buf, sizeof(buf));

		CHECK(len > 2);
		CHECK(len < sizeof(buf));
		CHECK_EQ(strlen(buf), len);
		if (!is_json_object(buf))
			test_fail(__FILE__, __LINE__, "not a JSON object: %s", buf);
	}
}

TEST(codec_desc_shows_field_values)
{
	core_record s[MAX_SAMPLES];
	char		buf[1024];

	samples(s);
	core_record_desc(&s[5], buf, sizeof(buf));	/* DEPOSIT */
	CHECK(strstr(buf, "123456789012345") != NULL);
	CHECK(strstr(buf, "217729000492") != NULL);
	core_record_desc(&s[7], buf, sizeof(buf));	/* PLACE */
	CHECK(strstr(buf, "84956010000") != NULL);
	CHECK(strstr(buf, "256284400") != NULL);
	CHECK(strstr(buf, "0123456789abcdef0123456789abcdef0123") != NULL);
	core_record_desc(&s[0], buf, sizeof(buf));	/* CREATE_ASSET */
	CHECK(strstr(buf, "\"BTC\"") != NULL);
	core_record_desc(&s[2], buf, sizeof(buf));	/* CREATE_SYMBOL */
	CHECK(strstr(buf, "\"min_notional\": 1000000") != NULL);
	core_record_desc(&s[8], buf, sizeof(buf));	/* PLACE */
	CHECK(strstr(buf, "\"max_open_orders\": 200") != NULL);
}

TEST(codec_desc_escapes_quotes_and_backslashes)
{
	core_record r = limit_rec();
	char		buf[1024];

	strcpy(r.u.place.client_order_id, "a\"b\\c\n");
	core_record_desc(&r, buf, sizeof(buf));
	if (!is_json_object(buf))
		test_fail(__FILE__, __LINE__, "not a JSON object: %s", buf);
	r = rec_of(CORE_REC_CREATE_ASSET);
	strcpy(r.u.create_asset.code, "\"}");
	r.u.create_asset.decimals = 2;
	core_record_desc(&r, buf, sizeof(buf));
	if (!is_json_object(buf))
		test_fail(__FILE__, __LINE__, "not a JSON object: %s", buf);
}

TEST(codec_desc_truncates_but_reports_full_length)
{
	core_record s[MAX_SAMPLES];
	char		full[1024],
				small[9];
	size_t		need,
				got;

	samples(s);
	need = core_record_desc(&s[7], full, sizeof(full));
	memset(small, 'Z', sizeof(small));
	got = core_record_desc(&s[7], small, 8);
	CHECK_EQ(got, need);
	CHECK_EQ(small[7], '\0');
	CHECK_EQ(small[8], 'Z');	/* wrote nothing past buflen */
	CHECK(strncmp(small, full, 7) == 0);
}

/* --------------------------------------------------------------- names */

TEST(codec_stable_text_names)
{
	CHECK_STR(core_status_name(CORE_ST_OK), "ok");
	CHECK_STR(core_status_name(CORE_ST_NEW), "new");
	CHECK_STR(core_status_name(CORE_ST_PARTIALLY_FILLED), "partially_filled");
	CHECK_STR(core_status_name(CORE_ST_FILLED), "filled");
	CHECK_STR(core_status_name(CORE_ST_CANCELED), "canceled");
	CHECK_STR(core_status_name(CORE_ST_EXPIRED), "expired");
	CHECK_STR(core_status_name(CORE_ST_REJECTED), "rejected");
	CHECK_STR(core_status_name(CORE_ST_AMENDED), "amended");

	CHECK(core_reason_name(CORE_R_NONE) == NULL);
	CHECK_STR(core_reason_name(CORE_R_UNKNOWN_ORDER), "unknown_order");
	CHECK_STR(core_reason_name(CORE_R_INSUFFICIENT_FUNDS), "insufficient_funds");
	CHECK_STR(core_reason_name(CORE_R_CAPACITY), "capacity");
	CHECK_STR(core_reason_name(CORE_R_HALTED), "halted");
	CHECK_STR(core_reason_name(CORE_R_POST_ONLY), "post_only");
	CHECK_STR(core_reason_name(CORE_R_FOK), "fok");
	CHECK_STR(core_reason_name(CORE_R_IOC), "ioc");
	CHECK_STR(core_reason_name(CORE_R_NO_LIQUIDITY), "no_liquidity");
	CHECK_STR(core_reason_name(CORE_R_FUNDS_EXHAUSTED), "funds_exhausted");
	CHECK_STR(core_reason_name(CORE_R_QUOTE_QTY), "quote_qty");
	CHECK_STR(core_reason_name(CORE_R_SELF_TRADE), "self_trade");
	CHECK_STR(core_reason_name(CORE_R_OVERFLOW), "overflow");
	CHECK_STR(core_reason_name(CORE_R_DUST), "dust");
	CHECK_STR(core_reason_name(CORE_R_OPEN_ORDERS_LIMIT), "open_orders_limit");
	for (int r = 1; r < CORE_R_COUNT; r++)
		CHECK(core_reason_name((core_reason) r) != NULL);

	CHECK_STR(core_side_name(CORE_BUY), "buy");
	CHECK_STR(core_side_name(CORE_SELL), "sell");
	CHECK_STR(core_tif_name(CORE_GTC), "gtc");
	CHECK_STR(core_tif_name(CORE_IOC), "ioc");
	CHECK_STR(core_tif_name(CORE_FOK), "fok");
	CHECK_STR(core_stp_name(CORE_STP_NONE), "none");
	CHECK_STR(core_stp_name(CORE_STP_CANCEL_TAKER), "cancel_taker");
	CHECK_STR(core_stp_name(CORE_STP_CANCEL_MAKER), "cancel_maker");
	CHECK_STR(core_stp_name(CORE_STP_CANCEL_BOTH), "cancel_both");

	CHECK_STR(core_rectype_name(CORE_REC_CREATE_ASSET), "CREATE_ASSET");
	CHECK_STR(core_rectype_name(CORE_REC_CREATE_SYMBOL), "CREATE_SYMBOL");
	CHECK_STR(core_rectype_name(CORE_REC_SET_SYMBOL_STATUS), "SET_SYMBOL_STATUS");
	CHECK_STR(core_rectype_name(CORE_REC_DEPOSIT), "DEPOSIT");
	CHECK_STR(core_rectype_name(CORE_REC_WITHDRAW), "WITHDRAW");
	CHECK_STR(core_rectype_name(CORE_REC_PLACE), "PLACE");
	CHECK_STR(core_rectype_name(CORE_REC_CANCEL), "CANCEL");
	CHECK_STR(core_rectype_name(CORE_REC_CANCEL_ALL), "CANCEL_ALL");
	CHECK_STR(core_rectype_name(CORE_REC_AMEND), "AMEND");
	CHECK(core_rectype_name(CORE_REC_INVALID) == NULL);
	CHECK(core_rectype_name(CORE_REC_COUNT) == NULL);
}
