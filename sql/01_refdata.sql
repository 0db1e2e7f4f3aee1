--
-- 01_refdata: engine.create_asset, engine.create_symbol,
-- engine.set_symbol_status, and every malformed argument they can get.
--
-- This is the first file that creates reference data, so it also pins
-- that asset and symbol ids count from 1.
--
SELECT seq AS s0 FROM last_seq \gset

-- Ids count from 1, in creation order.  decimals 0 and 18 are the bounds.
SELECT engine.create_asset('BTC', 8) AS btc;
SELECT engine.create_asset('USDT', 6) AS usdt;
SELECT engine.create_asset('WHOLE', 0) AS whole;
SELECT engine.create_asset('WEI18', 18) AS wei18;
-- Codes are case-sensitive: 'btc' is another asset.
SELECT engine.create_asset('btc', 2) AS lower_btc;
-- Codes may use A-Z a-z 0-9 _ - . : / and be up to 16 characters.
SELECT engine.create_asset('A-Z.a:z/0_9xxxxx', 3) AS longest_code;
SELECT asset_id, code, decimals, seq - :s0 AS seq FROM engine.assets ORDER BY asset_id;

-- The fee account (user 0) has a zero balance row for every asset.
SELECT * FROM engine.balances(0) ORDER BY asset;

SELECT engine.create_symbol('BTC_USDT', 'BTC', 'USDT', 0.01, 0.0001, 0.001, 0.002) AS btc_usdt;
-- Case-sensitive too; fees default to 0, min_qty to none.
SELECT engine.create_symbol('btc_usdt', 'btc', 'USDT', 0.5, 0.01) AS lower_btc_usdt;
-- Extremes: an 18-decimal base with a one-unit lot, a 0-decimal quote,
-- the largest fee rate (0.999999) and a min_qty.
SELECT engine.create_symbol('WEI18_WHOLE', 'WEI18', 'WHOLE', 1, 0.000000000000000001,
                            maker_fee => 0.999999, taker_fee => 0.000001,
                            min_qty => 0.000000000000000005) AS wei_whole;
-- Trailing zeros are not decimal places: 0.010000000 is a fine USDT tick.
SELECT engine.create_symbol('USDT/BTC', 'USDT', 'BTC', 0.0000010000000, 1.000000000, min_qty => 0) AS usdt_btc;
SELECT symbol_id, symbol, base_asset_id, quote_asset_id, tick_size, lot_size, min_qty,
       maker_fee_ppm, taker_fee_ppm, status
  FROM engine.symbols ORDER BY symbol_id;

-- Halting and resuming; the status is visible in engine.symbols.
SELECT engine.set_symbol_status('btc_usdt', 'halted');
SELECT symbol, status FROM engine.symbols WHERE symbol = 'btc_usdt';
SELECT engine.set_symbol_status('btc_usdt', 'halted');   -- again: no error
SELECT engine.set_symbol_status('btc_usdt', 'trading');
SELECT symbol, status FROM engine.symbols WHERE symbol = 'btc_usdt';

-- Every accepted command above is one log row, in order.
SELECT seq - :s0 AS seq, rectype, decoded - 'type' AS decoded, crc_ok
  FROM engine.command_log_decoded WHERE seq > :s0 ORDER BY seq;

SELECT seq AS s1 FROM last_seq \gset

-- Malformed reference data: an ERROR naming the argument and the value,
-- and nothing logged.
SELECT cmd, r.* FROM (VALUES
	-- create_asset: code
	($$SELECT engine.create_asset(NULL, 8)$$),
	($$SELECT engine.create_asset('', 8)$$),
	($$SELECT engine.create_asset('B TC', 8)$$),
	($$SELECT engine.create_asset('BTC''', 8)$$),
	($$SELECT engine.create_asset('ABCDEFGHIJKLMNOPQ', 8)$$),
	($$SELECT engine.create_asset('BTC', 8)$$),
	($$SELECT engine.create_asset('BTC', 2)$$),
	-- create_asset: decimals
	($$SELECT engine.create_asset('NEW', NULL)$$),
	($$SELECT engine.create_asset('NEW', -1)$$),
	($$SELECT engine.create_asset('NEW', 19)$$),
	-- create_symbol: names
	($$SELECT engine.create_symbol(NULL, 'BTC', 'USDT', 0.01, 0.0001)$$),
	($$SELECT engine.create_symbol('', 'BTC', 'USDT', 0.01, 0.0001)$$),
	($$SELECT engine.create_symbol('BTC USDT', 'BTC', 'USDT', 0.01, 0.0001)$$),
	($$SELECT engine.create_symbol('BTC_USDT', 'BTC', 'USDT', 0.01, 0.0001)$$),
	($$SELECT engine.create_symbol('X', NULL, 'USDT', 0.01, 0.0001)$$),
	($$SELECT engine.create_symbol('X', 'BTC', NULL, 0.01, 0.0001)$$),
	($$SELECT engine.create_symbol('X', 'NOPE', 'USDT', 0.01, 0.0001)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'NOPE', 0.01, 0.0001)$$),
	($$SELECT engine.create_symbol('X', 'Btc', 'USDT', 0.01, 0.0001)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'BTC', 0.01, 0.0001)$$),
	-- create_symbol: tick_size (USDT has 6 decimals)
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', NULL, 0.0001)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 0, 0.0001)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', -0.01, 0.0001)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 0.0000001, 0.0001)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 10000000000000, 0.0001)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 'NaN', 0.0001)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 'Infinity', 0.0001)$$),
	-- create_symbol: lot_size (BTC has 8 decimals)
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 0.01, NULL)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 0.01, 0)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 0.01, -1)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 0.01, 0.000000001)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 0.01, 100000000000)$$),
	-- create_symbol: fee rates, 0 <= rate < 1, at most 6 decimals
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 0.01, 0.0001, NULL, 0)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 0.01, 0.0001, 0, NULL)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 0.01, 0.0001, -0.001, 0)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 0.01, 0.0001, 1, 0)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 0.01, 0.0001, 0, 1.5)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 0.01, 0.0001, 0, -0.000001)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 0.01, 0.0001, 0.0000001, 0)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 0.01, 0.0001, 0, 0.0010001)$$),
	-- create_symbol: min_qty
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 0.01, 0.0001, min_qty => -0.0001)$$),
	($$SELECT engine.create_symbol('X', 'BTC', 'USDT', 0.01, 0.0001, min_qty => 0.000000001)$$),
	-- set_symbol_status
	($$SELECT engine.set_symbol_status(NULL, 'halted')$$),
	($$SELECT engine.set_symbol_status('BTC_USDT', NULL)$$),
	($$SELECT engine.set_symbol_status('NOPE', 'halted')$$),
	($$SELECT engine.set_symbol_status('BTC_usdt', 'halted')$$),
	($$SELECT engine.set_symbol_status('BTC_USDT', 'paused')$$),
	($$SELECT engine.set_symbol_status('BTC_USDT', 'HALTED')$$),
	($$SELECT engine.set_symbol_status('BTC_USDT', '')$$)
) AS t(cmd), LATERAL try(cmd) AS r;

-- Nothing of the above reached the log or changed the reference data.
SELECT seq - :s1 AS new_log_rows FROM last_seq;
SELECT count(*) AS assets FROM engine.assets;
SELECT count(*) AS symbols FROM engine.symbols;
SELECT symbol, status FROM engine.symbols WHERE symbol = 'BTC_USDT';

SELECT * FROM engine_ok;
