/*
 * test_rules.c — the exported rules (rules.c), each at its limits, and that
 * they agree with what core_apply and core_record_validate do with the same
 * input.
 */
#include "fixture.h"

TEST(rules_pow10_covers_every_scale)
{
	CHECK_EQ(core_pow10(0), 1);
	CHECK_EQ(core_pow10(1), 10);
	CHECK_EQ(core_pow10(8), 100000000);
	CHECK_EQ(core_pow10(CORE_MAX_DECIMALS), INT64_C(1000000000000000000));
}

TEST(rules_tick_and_lot_are_whole_multiples)
{
	CHECK(core_price_on_tick(0, 100));
	CHECK(core_price_on_tick(100, 100));
	CHECK(core_price_on_tick(INT64_C(9223372036854775800), 100));
	CHECK(!core_price_on_tick(101, 100));
	CHECK(!core_price_on_tick(99, 100));
	CHECK(core_qty_on_lot(0, 7));
	CHECK(core_qty_on_lot(700, 7));
	CHECK(!core_qty_on_lot(701, 7));
	CHECK(core_qty_on_lot(INT64_MAX, 1));
}

TEST(rules_min_qty_is_inclusive_and_zero_means_none)
{
	CHECK(core_qty_meets_min(1000, 1000));
	CHECK(!core_qty_meets_min(999, 1000));
	CHECK(core_qty_meets_min(0, 1000));		/* quote_qty-only market buy */
	CHECK(core_qty_meets_min(1, 0));
}

TEST(rules_order_value_fits_up_to_int64_max)
{
	int64_t		v = -1;

	/* 84956.01 USDT x 2.562844 BTC: the product needs more than 64 bits */
	CHECK(core_order_value(84956010000, 256284400, 8, &v));
	CHECK_EQ(v, 217729000492);
	/* floor: 3 x 1 / 10^1 = 0.3 -> 0 */
	CHECK(core_order_value(3, 1, 1, &v));
	CHECK_EQ(v, 0);
	/* exactly INT64_MAX fits, one more unit does not */
	CHECK(core_order_value(INT64_MAX, 1, 0, &v));
	CHECK_EQ(v, INT64_MAX);
	CHECK(!core_order_value(INT64_MAX, 2, 0, &v));
	CHECK(core_order_value(INT64_MAX, 10, 1, &v));
	CHECK_EQ(v, INT64_MAX);
	CHECK(!core_order_value(INT64_MAX, 11, 1, &v));
}

TEST(rules_code_charset_and_length)
{
	CHECK(core_code_ok("BTC", CORE_ASSET_CODE_MAX));
	CHECK(core_code_ok("a-Z_0.9:/", CORE_ASSET_CODE_MAX));
	CHECK(core_code_ok("ABCDEFGHIJKLMNOP", CORE_ASSET_CODE_MAX));	/* 16 */
	CHECK(!core_code_ok("ABCDEFGHIJKLMNOPQ", CORE_ASSET_CODE_MAX));	/* 17 */
	CHECK(!core_code_ok("", CORE_ASSET_CODE_MAX));
	CHECK(!core_code_ok("BTC USDT", CORE_SYMBOL_NAME_MAX));
	CHECK(!core_code_ok("BTC\"", CORE_SYMBOL_NAME_MAX));
	CHECK(!core_code_ok("BTC\xc3\xa9", CORE_SYMBOL_NAME_MAX));
}

TEST(rules_client_id_printable_without_quotes_up_to_36)
{
	CHECK(core_client_id_ok(""));
	CHECK(core_client_id_ok("alice-1"));
	CHECK(core_client_id_ok("!#$%&'()*+,-./:;<=>?@[]^_`{|}~"));
	CHECK(core_client_id_ok("123456789012345678901234567890123456"));	/* 36 */
	CHECK(!core_client_id_ok("1234567890123456789012345678901234567"));	/* 37 */
	CHECK(!core_client_id_ok("a b"));
	CHECK(!core_client_id_ok("a\"b"));
	CHECK(!core_client_id_ok("a\\b"));
	CHECK(!core_client_id_ok("a\x7f"));
	CHECK(!core_client_id_ok("caf\xc3\xa9"));
}

TEST(rules_fee_rate_below_one)
{
	CHECK(core_fee_ppm_ok(0));
	CHECK(core_fee_ppm_ok(CORE_FEE_SCALE - 1));
	CHECK(!core_fee_ppm_ok(CORE_FEE_SCALE));
	CHECK(!core_fee_ppm_ok(-1));
}

TEST(rules_place_argument_combinations)
{
	CHECK_EQ(core_place_args_check(false, CORE_BUY, CORE_FOK, true, true, false),
			 CORE_PLACE_ARGS_OK);
	CHECK_EQ(core_place_args_check(true, CORE_BUY, CORE_GTC, true, true, false),
			 CORE_PLACE_ARGS_MARKET_POST_ONLY);
	CHECK_EQ(core_place_args_check(true, CORE_SELL, CORE_FOK, false, true, false),
			 CORE_PLACE_ARGS_MARKET_FOK);
	/* post_only is reported before fok */
	CHECK_EQ(core_place_args_check(true, CORE_SELL, CORE_FOK, true, true, false),
			 CORE_PLACE_ARGS_MARKET_POST_ONLY);
	CHECK_EQ(core_place_args_check(true, CORE_BUY, CORE_IOC, false, false, true),
			 CORE_PLACE_ARGS_OK);
	CHECK_EQ(core_place_args_check(true, CORE_BUY, CORE_IOC, false, true, true),
			 CORE_PLACE_ARGS_OK);
	CHECK_EQ(core_place_args_check(true, CORE_SELL, CORE_IOC, false, true, true),
			 CORE_PLACE_ARGS_QUOTE_QTY);
	CHECK_EQ(core_place_args_check(false, CORE_BUY, CORE_GTC, false, true, true),
			 CORE_PLACE_ARGS_QUOTE_QTY);
	CHECK_EQ(core_place_args_check(true, CORE_BUY, CORE_GTC, false, false, false),
			 CORE_PLACE_ARGS_NO_QTY);
	CHECK_EQ(core_place_args_check(false, CORE_SELL, CORE_GTC, false, false, false),
			 CORE_PLACE_ARGS_NO_QTY);
}

TEST(rules_order_status_from_last_event)
{
	core_status st = CORE_ST_OK;

	CHECK_EQ(core_resting_status(0), CORE_ST_NEW);
	CHECK_EQ(core_resting_status(1), CORE_ST_PARTIALLY_FILLED);
	CHECK_EQ(core_order_status(CORE_ST_AMENDED, 0), CORE_ST_NEW);
	CHECK_EQ(core_order_status(CORE_ST_AMENDED, 5), CORE_ST_PARTIALLY_FILLED);
	CHECK_EQ(core_order_status(CORE_ST_FILLED, 5), CORE_ST_FILLED);
	CHECK_EQ(core_order_status(CORE_ST_CANCELED, 0), CORE_ST_CANCELED);
	CHECK(core_status_from_name("partially_filled", &st));
	CHECK_EQ(st, CORE_ST_PARTIALLY_FILLED);
	CHECK(core_status_from_name("amended", &st));
	CHECK_EQ(st, CORE_ST_AMENDED);
	CHECK(!core_status_from_name("bogus", &st));
	CHECK_EQ(st, CORE_ST_AMENDED);
}

/* The core refuses exactly what the exported rules refuse. */
TEST(rules_agree_with_apply_on_tick_lot_and_min)
{
	fx		   *f = fx_new();

	CHECK_EQ(fx_asset(f, "BTC", 8), 1);
	CHECK_EQ(fx_asset(f, "USDT", 6), 2);
	/* tick 100, lot 1000, min_qty 5000; prices of 100 USDT keep every order worth more than one unit */
	CHECK_EQ(fx_symbol(f, "BTC_USDT", 1, 2, 100, 1000, 5000, 0, 0), 1);
	fx_deposit(f, 1, 2, INT64_C(1000000000000));
	fx_deposit(f, 2, 1, INT64_C(1000000000));

	CHECK(!core_price_on_tick(100000050, 100));
	fx_limit(f, 1, 1, CORE_BUY, 5000, 100000050, CORE_GTC);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INVALID, 0, 0);

	CHECK(!core_qty_on_lot(5500, 1000));
	fx_limit(f, 1, 1, CORE_BUY, 5500, 100000000, CORE_GTC);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INVALID, 0, 0);

	CHECK(!core_qty_meets_min(4000, 5000));
	fx_limit(f, 1, 1, CORE_BUY, 4000, 100000000, CORE_GTC);
	FX_RES(f, CORE_ST_REJECTED, CORE_R_INVALID, 0, 0);

	CHECK(core_qty_meets_min(5000, 5000));
	fx_limit(f, 1, 1, CORE_BUY, 5000, 100000000, CORE_GTC);
	FX_RES(f, CORE_ST_NEW, CORE_R_NONE, 0, 5000);
	FX_VERIFY(f);
	fx_free(f);
}

/* core_record_validate refuses the combinations core_place_args_check names. */
TEST(rules_agree_with_validate_on_place_arguments)
{
	core_record r;

	memset(&r, 0, sizeof(r));
	r.type = CORE_REC_PLACE;
	r.u.place.user_id = 1;
	r.u.place.symbol = 1;
	r.u.place.side = CORE_BUY;
	r.u.place.qty = 1;
	CHECK(core_record_validate(&r) == NULL);
	r.u.place.post_only = true;
	CHECK(core_record_validate(&r) != NULL);
	r.u.place.post_only = false;
	r.u.place.tif = CORE_FOK;
	CHECK(core_record_validate(&r) != NULL);
	r.u.place.tif = CORE_GTC;
	r.u.place.side = CORE_SELL;
	r.u.place.quote_qty = 10;
	CHECK(core_record_validate(&r) != NULL);
	r.u.place.quote_qty = 0;
	r.u.place.qty = 0;
	CHECK(core_record_validate(&r) != NULL);
	r.u.place.side = CORE_BUY;
	r.u.place.quote_qty = 10;
	CHECK(core_record_validate(&r) == NULL);
	strcpy(r.u.place.client_order_id, "a b");
	CHECK(core_record_validate(&r) != NULL);
}
