/*
 * refdata.c — assets and symbols: the reference data every other command
 * refers to.  Created by records like everything else, never deleted; a
 * symbol's status is the only thing that changes.
 *
 * Ids are dense and count from 1 in creation order; codes and names are
 * found through small chained hash tables.
 */
#include <string.h>

#include "core_int.h"

uint32_t
asset_lookup(const core_engine *c, const char *code)
{
	const asset *assets = ASSETS(c);

	for (uint32_t id = ASSET_HASH(c)[hash_text(code) & c->asset_hmask];
		 id != NIL; id = assets[id].hnext)
		if (strcmp(assets[id].code, code) == 0)
			return id;
	return NIL;
}

uint32_t
symbol_lookup(const core_engine *c, const char *name)
{
	const symbol *symbols = SYMBOLS(c);

	for (uint32_t id = SYMBOL_HASH(c)[hash_text(name) & c->symbol_hmask];
		 id != NIL; id = symbols[id].hnext)
		if (strcmp(symbols[id].name, name) == 0)
			return id;
	return NIL;
}

void
asset_to_info(const core_engine *c, uint32_t id, core_asset_info *out)
{
	const asset *a = &ASSETS(c)[id];

	memset(out, 0, sizeof(*out));
	out->id = id;
	memcpy(out->code, a->code, sizeof(out->code));
	out->decimals = a->decimals;
	out->supply = a->supply;
}

void
symbol_to_info(const core_engine *c, uint32_t id, core_symbol_info *out)
{
	const symbol *s = &SYMBOLS(c)[id];

	memset(out, 0, sizeof(*out));
	out->id = id;
	memcpy(out->name, s->name, sizeof(out->name));
	out->base_asset = s->base;
	out->quote_asset = s->quote;
	out->tick_size = s->tick;
	out->lot_size = s->lot;
	out->min_qty = s->min_qty;
	out->maker_fee_ppm = s->maker_ppm;
	out->taker_fee_ppm = s->taker_ppm;
	out->status = s->status;
	out->min_notional = s->min_notional;
}

/*
 * Adds asset number nassets + 1 and gives the fee account a balance row for
 * it.  Used by CREATE_ASSET and by snapshot restore; returns NULL or why not.
 */
const char *
asset_insert(core_engine *c, const core_asset_info *in)
{
	uint32_t	id = c->nassets + 1;
	asset	   *a;
	uint32_t   *bucket;

	if (in->id != id)
		return "asset id out of order";
	if (!text_field_ok(in->code, CORE_ASSET_CODE_MAX) || in->decimals > CORE_MAX_DECIMALS)
		return "asset code or decimals out of range";
	if (asset_lookup(c, in->code) != NIL)
		return "duplicate asset code";
	if (id > c->limits.max_assets || c->nbalances >= c->limits.max_balances)
		return "capacity";

	a = &ASSETS(c)[id];
	memset(a, 0, sizeof(*a));
	memcpy(a->code, in->code, sizeof(a->code));
	a->code[CORE_ASSET_CODE_MAX] = '\0';
	a->decimals = in->decimals;
	a->supply = in->supply;
	bucket = &ASSET_HASH(c)[hash_text(a->code) & c->asset_hmask];
	a->hnext = *bucket;
	*bucket = id;
	c->nassets = id;
	ledger_get_or_add(c, c->fee_account, id);
	return NULL;
}

const char *
symbol_insert(core_engine *c, const core_symbol_info *in)
{
	uint32_t	id = c->nsymbols + 1;
	symbol	   *s;
	uint32_t   *bucket;

	if (in->id != id)
		return "symbol id out of order";
	if (!text_field_ok(in->name, CORE_SYMBOL_NAME_MAX))
		return "symbol name out of range";
	if (asset_at(c, in->base_asset) == NULL || asset_at(c, in->quote_asset) == NULL ||
		in->base_asset == in->quote_asset)
		return "unknown asset";
	if (in->tick_size <= 0 || in->lot_size <= 0 || in->min_qty < 0 || in->min_notional < 0 ||
		in->maker_fee_ppm < 0 || in->maker_fee_ppm >= CORE_FEE_SCALE ||
		in->taker_fee_ppm < 0 || in->taker_fee_ppm >= CORE_FEE_SCALE ||
		in->status > CORE_HALTED)
		return "symbol parameters out of range";
	if (symbol_lookup(c, in->name) != NIL)
		return "duplicate symbol name";
	if (id > c->limits.max_symbols)
		return "capacity";

	s = &SYMBOLS(c)[id];
	memset(s, 0, sizeof(*s));
	memcpy(s->name, in->name, sizeof(s->name));
	s->name[CORE_SYMBOL_NAME_MAX] = '\0';
	s->base = in->base_asset;
	s->quote = in->quote_asset;
	s->tick = in->tick_size;
	s->lot = in->lot_size;
	s->min_qty = in->min_qty;
	s->min_notional = in->min_notional;
	s->min_value = core_min_order_value(in->min_notional);
	s->base_scale = pow10_i64(ASSETS(c)[s->base].decimals);
	s->maker_ppm = in->maker_fee_ppm;
	s->taker_ppm = in->taker_fee_ppm;
	s->status = in->status;
	s->tick_div = exact_divisor_of(in->tick_size);
	/* The fee account has a row for every asset (asset_insert). */
	s->fee_base = ledger_find_row(c, 0, s->base, NULL);
	s->fee_quote = ledger_find_row(c, 0, s->quote, NULL);
	ladder_init(&s->sides[CORE_BUY]);
	ladder_init(&s->sides[CORE_SELL]);
	bucket = &SYMBOL_HASH(c)[hash_text(s->name) & c->symbol_hmask];
	s->hnext = *bucket;
	*bucket = id;
	c->nsymbols = id;
	return NULL;
}

void
redo_create_asset(apply_ctx *a)
{
	const core_rec_create_asset *r = &a->rec->u.create_asset;
	core_asset_info info;

	if (asset_lookup(a->c, r->code) != NIL)
		REJECT(a, CORE_R_DUPLICATE_ASSET);
	if (a->c->nassets >= a->c->limits.max_assets ||
		a->c->nbalances >= a->c->limits.max_balances)
		REJECT(a, CORE_R_CAPACITY);
	memset(&info, 0, sizeof(info));
	info.id = a->c->nassets + 1;
	memcpy(info.code, r->code, sizeof(info.code));
	info.decimals = r->decimals;
	if (asset_insert(a->c, &info) != NULL)
		REJECT(a, CORE_R_INVALID);
	a->res->id = info.id;
}

void
redo_create_symbol(apply_ctx *a)
{
	const core_rec_create_symbol *r = &a->rec->u.create_symbol;
	core_symbol_info info;

	if (asset_at(a->c, r->base_asset) == NULL || asset_at(a->c, r->quote_asset) == NULL)
		REJECT(a, CORE_R_UNKNOWN_ASSET);
	if (symbol_lookup(a->c, r->name) != NIL)
		REJECT(a, CORE_R_DUPLICATE_SYMBOL);
	if (a->c->nsymbols >= a->c->limits.max_symbols)
		REJECT(a, CORE_R_CAPACITY);
	memset(&info, 0, sizeof(info));
	info.id = a->c->nsymbols + 1;
	memcpy(info.name, r->name, sizeof(info.name));
	info.base_asset = r->base_asset;
	info.quote_asset = r->quote_asset;
	info.tick_size = r->tick_size;
	info.lot_size = r->lot_size;
	info.min_qty = r->min_qty;
	info.maker_fee_ppm = r->maker_fee_ppm;
	info.taker_fee_ppm = r->taker_fee_ppm;
	info.min_notional = r->min_notional;
	info.status = CORE_TRADING;
	if (symbol_insert(a->c, &info) != NULL)
		REJECT(a, CORE_R_INVALID);
	a->res->id = info.id;
}

void
redo_set_symbol_status(apply_ctx *a)
{
	const core_rec_set_symbol_status *r = &a->rec->u.set_symbol_status;
	symbol	   *s = symbol_at(a->c, r->symbol);

	if (s == NULL)
		REJECT(a, CORE_R_UNKNOWN_SYMBOL);
	s->status = r->status;
	a->res->id = r->symbol;
}

bool
core_asset_get(const core_engine *c, uint32_t id, core_asset_info *out)
{
	if (id < 1 || id > c->nassets)
		return false;
	asset_to_info(c, id, out);
	return true;
}

uint32_t
core_asset_find(const core_engine *c, const char *code)
{
	return code ? asset_lookup(c, code) : NIL;
}

bool
core_symbol_get(const core_engine *c, uint32_t id, core_symbol_info *out)
{
	if (id < 1 || id > c->nsymbols)
		return false;
	symbol_to_info(c, id, out);
	return true;
}

uint32_t
core_symbol_find(const core_engine *c, const char *name)
{
	return name ? symbol_lookup(c, name) : NIL;
}
