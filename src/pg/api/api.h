/*
 * api.h — what runs in the caller's backend (src/pg/api/): helpers shared by
 * the SQL-callable functions: argument fetching and checking with the
 * project's error texts (args.c), exact amount conversion (convert.c),
 * reference-data lookups under the shared lock, submitting a command and
 * building its result (submit.c).
 *
 * Error conventions (API.md): malformed input is an ERROR naming the
 * argument and the value, with SQLSTATE 22004 (NULL where a value is
 * needed), 22023 (bad value), 22003 (out of range) or P0002 (unknown symbol
 * or asset); nothing is submitted.  A message quotes at most
 * ENGINE_QUOTE_MAX bytes of any argument (quote_input).  A well-formed
 * command the market refuses is not an error: it returns its row with
 * status 'rejected' and a reason.
 */
#ifndef ENGINE_PG_API_H
#define ENGINE_PG_API_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/numeric.h"

#include "core.h"
#include "ready.h"
#include "records.h"
#include "settings.h"
#include "shmem.h"
#include "slots.h"
#include "status.h"

/* A follower's lag behind the visible log (lag.c). */
bool		follower_lag(int64 applied_seq, int64 *lag_records, int64 *lag_ms);

/* Reference data a command needs, copied out of the core. */
typedef struct symbol_ref
{
	core_symbol_info sym;
	core_asset_info base;
	core_asset_info quote;
} symbol_ref;

/* One order's arguments, parsed (orders.c); NULL pointers are SQL NULLs. */
typedef struct order_spec
{
	char	   *symbol;
	core_side	side;
	Numeric		qty;
	Numeric		price;			/* NULL: a market order */
	core_tif	tif;
	bool		post_only;
	char	   *coid;
	core_stp	stp;
	Numeric		quote_qty;
} order_spec;

/* Orders (orders.c): the checks and the record that place_order and place_orders share. */
void		order_spec_check(const order_spec *o);
void		order_spec_encode(int64 user_id, const order_spec *o, const symbol_ref *ref,
							  core_record *rec);
int64		check_order_id(int64 order_id);	/* cancel.c */
bool		find_own_order(int64 user_id, int64 order_id, TimestampTz deadline,
						   core_order_info *o);

/* Note how CREATE EXTENSION engine runs (install.c; from _PG_init). */
void		install_init(void);

/* Bytes of an argument's text an error message quotes (quote.c). */
#define ENGINE_QUOTE_MAX 64

/* s clipped for a message: at most ENGINE_QUOTE_MAX bytes, then "...". */
const char *quote_input(const char *s);

/* Arguments */
void		arg_require(FunctionCallInfo fcinfo, int n, const char *name);
char	   *arg_text(FunctionCallInfo fcinfo, int n, const char *name);
char	   *arg_text_or_null(FunctionCallInfo fcinfo, int n);
int64		arg_user_id(FunctionCallInfo fcinfo, int n, bool allow_fee_account);
Numeric		arg_numeric_or_null(FunctionCallInfo fcinfo, int n);

/* Amounts: exact conversion + positivity, naming the argument. */
int64		amount_positive(Numeric num, int decimals, const char *argname, const char *unit);
const char *numeric_text(Numeric num);

/* Enumerations */
core_side	parse_side(const char *s);
core_tif	parse_tif(const char *s);
core_stp	parse_stp(const char *s);
core_symbol_status parse_symbol_status(const char *s);

/* Text fields */
void		check_client_order_id(const char *s);
void		check_ref(const char *s);
void		check_code(const char *s, size_t max, const char *argname, const char *what);

/* Lookups in the core (shared lock taken and released inside; deadline as read_begin's). */
void		lookup_symbol(const char *name, TimestampTz deadline, symbol_ref *out);
void		lookup_asset(const char *code, TimestampTz deadline, core_asset_info *out);
bool		lookup_symbol_by_id(uint32 symbol_id, TimestampTz deadline, symbol_ref *out);

/* The deadline a command waits for the worker by (engine.request_timeout from now). */
TimestampTz request_deadline(void);

/* Submit and wait; ERROR for a reply whose outcome the caller cannot know. */
void		execute(const core_record *rec, int64 key_user, const char *key,
					TimestampTz deadline, engine_reply *out);

/* The same for many commands in one request (submit.c). */
void		request_item_set(request_item *item, const core_record *rec, int64 key_user,
							 const char *key);
void		execute_items(request_item *items, int n, TimestampTz deadline);

#define ORDER_RESULT_COLUMNS 8
void		order_result_row(const engine_reply *r, int base_decimals, int quote_decimals,
							 Datum *v, bool *n);
/*
 * engine.order_result from a reply, or from its values at the given scales.
 * Decimals ORDER_FIGURES_UNKNOWN: the answer is about no order of the
 * caller's, and filled_qty, remaining_qty and avg_price are NULL.
 */
#define ORDER_FIGURES_UNKNOWN (-1)
void		order_result_fill(Datum *v, bool *n, int64 order_id, const char *client_order_id,
							  const char *status, int64 filled, int64 remaining, int64 avg_price,
							  int32 trades, const char *reason, int base_decimals, int quote_decimals);
Datum		order_result_datum(FunctionCallInfo fcinfo, const engine_reply *r,
							   int base_decimals, int quote_decimals);
Datum		order_result_values(FunctionCallInfo fcinfo, int64 order_id, const char *client_order_id,
								const char *status, int64 filled, int64 remaining, int64 avg_price,
								int32 trades, const char *reason,
								int base_decimals, int quote_decimals);

/* An order's arguments against its symbol's rules, as ERRORs (orders.c). */
void		check_lot(int64 qty, Numeric num, const symbol_ref *ref);
void		check_tick(int64 price, Numeric num, const symbol_ref *ref);
void		check_order_value(int64 price, int64 qty, const symbol_ref *ref);

/* Conversions between numeric and int64 units (convert.c) */
int64		numeric_to_units(Numeric num, int decimals, const char *argname,
							 const char *unit_name);
void		check_amount_shape(Numeric num, const char *argname);
Datum		units_to_numeric(int64 units, int decimals);
Datum		units128_to_numeric(uint64 hi, uint64 lo, int decimals);
int32		numeric_to_ppm(Numeric num, const char *argname);
char	   *units_to_cstring(int64 units, int decimals);
char	   *units_to_cstring_trim(int64 units, int decimals);

#endif							/* ENGINE_PG_API_H */
