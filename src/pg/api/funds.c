/*
 * funds.c — engine.deposit and engine.withdraw.
 *
 * Owns: the checks of funds arguments and the funds result row.
 * Must never: submit a command whose arguments failed a check.
 *
 * A ref, when given, is an idempotency key per user shared by deposits and
 * withdrawals: the first command with it runs, every later one (even after a
 * restart) answers status 'duplicate' with the current balance and changes
 * nothing.  Refs are kept for ever in engine.client_keys.
 *
 * The fee account (user 0) cannot deposit but may withdraw what it earned.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "api.h"

PG_FUNCTION_INFO_V1(engine_deposit);
PG_FUNCTION_INFO_V1(engine_withdraw);

static Datum
funds_command(FunctionCallInfo fcinfo, core_rectype type)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		user_id = arg_user_id(fcinfo, 0, type == CORE_REC_WITHDRAW);
	char	   *asset_code = arg_text(fcinfo, 1, "asset");
	char	   *ref = arg_text_or_null(fcinfo, 3);
	TimestampTz deadline = request_deadline();
	core_asset_info asset;
	core_record rec;
	engine_reply reply;
	const char *status;
	Datum		v[5];
	bool		n[5] = {false, false, false, false, false};
	int64		available = 0,
				frozen = 0;

	arg_require(fcinfo, 2, "amount");
	if (ref != NULL)
		check_ref(ref);

	ready_wait(deadline);
	lookup_asset(asset_code, deadline, &asset);

	memset(&rec, 0, sizeof(rec));
	rec.type = (uint8) type;
	rec.u.funds.user_id = user_id;
	rec.u.funds.asset = asset.id;
	rec.u.funds.amount = amount_positive(PG_GETARG_NUMERIC(2), asset.decimals, "amount", asset.code);
	execute(&rec, user_id, ref, deadline, &reply);

	if (reply.kind == REPLY_DUPLICATE)
		status = "duplicate";
	else
		status = core_status_name((core_status) reply.res.status);
	available = reply.res.available;
	frozen = reply.res.frozen;
	if (reply.kind == REPLY_APPLIED && reply.res.status == CORE_ST_REJECTED)
	{
		/* The core reports no balance for some refusals: show the current one. */
		core_balance_info b;
		bool		found = core_balance_get(read_begin(deadline), user_id, asset.id, &b);

		read_end();
		available = found ? b.available : 0;
		frozen = found ? b.frozen : 0;
	}

	InitMaterializedSRF(fcinfo, 0);
	v[0] = CStringGetTextDatum(asset.code);
	v[1] = units_to_numeric(available, asset.decimals);
	v[2] = units_to_numeric(frozen, asset.decimals);
	v[3] = CStringGetTextDatum(status);
	n[4] = reply.kind != REPLY_APPLIED || core_reason_name((core_reason) reply.res.reason) == NULL;
	v[4] = n[4] ? (Datum) 0 : CStringGetTextDatum(core_reason_name((core_reason) reply.res.reason));
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	return (Datum) 0;
}

/* engine.deposit(user_id bigint, asset text, amount numeric, ref text DEFAULT NULL) */
Datum
engine_deposit(PG_FUNCTION_ARGS)
{
	return funds_command(fcinfo, CORE_REC_DEPOSIT);
}

/* engine.withdraw(user_id bigint, asset text, amount numeric, ref text DEFAULT NULL) */
Datum
engine_withdraw(PG_FUNCTION_ARGS)
{
	return funds_command(fcinfo, CORE_REC_WITHDRAW);
}
