/*
 * record.c — the command records: the record-type table, the binary payload
 * codec, shape checks, the JSON description, and CRC-32C.
 *
 * Each record type is one row of core_rectypes: its name, its redo function
 * (the only code that applies it, live and in replay), its shape check, and
 * the list of its fields.  The codec and the description are driven by
 * that field list, so adding a command means adding a payload struct, a row
 * here and a redo function.
 *
 * Payload: byte 0 = the format, byte 1 = type, then the fields in table
 * order, little-endian; text fields as a length byte and the bytes.
 *
 * Formats: a field added after release 1.0 goes at the end of its record's
 * field list and names the format that added it (FIELD_SINCE).  The encoder
 * writes every field under CORE_RECORD_FORMAT; the decoder reads a payload
 * of any format from CORE_RECORD_FORMAT_MIN on, taking only the fields that
 * format has and leaving the later ones 0 — so a log written by an older
 * release replays with the values it was applied with.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core_int.h"

#define FIELD_SINCE(rt, member, fname, kind, max, since) \
	{ #fname, (uint16_t) (offsetof(core_record, u.member) + offsetof(rt, fname)), kind, max, since }
#define FIELD(rt, member, fname, kind, max) FIELD_SINCE(rt, member, fname, kind, max, 0)

/* ------------------------------------------------------- shape checks */

static const char *
validate_create_asset(const core_record *rec)
{
	const core_rec_create_asset *r = &rec->u.create_asset;

	if (!text_field_ok(r->code, CORE_ASSET_CODE_MAX))
		return "code must be 1 to 16 characters from A-Z a-z 0-9 _ - . : /";
	if (r->decimals > CORE_MAX_DECIMALS)
		return "decimals must be between 0 and 18";
	return NULL;
}

static const char *
validate_create_symbol(const core_record *rec)
{
	const core_rec_create_symbol *r = &rec->u.create_symbol;

	if (!text_field_ok(r->name, CORE_SYMBOL_NAME_MAX))
		return "symbol must be 1 to 32 characters from A-Z a-z 0-9 _ - . : /";
	if (r->base_asset < 1 || r->quote_asset < 1)
		return "base and quote must be asset ids";
	if (r->base_asset == r->quote_asset)
		return "base and quote must differ";
	if (r->tick_size <= 0)
		return "tick_size must be positive";
	if (r->lot_size <= 0)
		return "lot_size must be positive";
	if (r->min_qty < 0)
		return "min_qty must not be negative";
	if (r->min_notional < 0)
		return "min_notional must not be negative";
	if (!fee_ppm_ok(r->maker_fee_ppm))
		return "maker_fee must be at least 0 and less than 1";
	if (!fee_ppm_ok(r->taker_fee_ppm))
		return "taker_fee must be at least 0 and less than 1";
	return NULL;
}

static const char *
validate_set_symbol_status(const core_record *rec)
{
	if (rec->u.set_symbol_status.symbol < 1)
		return "symbol must be a symbol id";
	if (rec->u.set_symbol_status.status > CORE_HALTED)
		return "status must be trading or halted";
	return NULL;
}

static const char *
validate_funds(const core_record *rec)
{
	const core_rec_funds *r = &rec->u.funds;

	/* The fee account (user 0) may withdraw what it collected, never deposit. */
	if (r->user_id < (rec->type == CORE_REC_WITHDRAW ? 0 : 1))
		return "user_id must be at least 1";
	if (r->asset < 1)
		return "asset must be an asset id";
	if (r->amount <= 0)
		return "amount must be positive";
	return NULL;
}

/*
 * A PLACE's field checks, with their messages, in the order they are
 * applied.  Every PLACE runs them: the common case (all pass) is a chain of
 * tests with nothing else in it, and only a record that fails one looks
 * for the first that does (place_field_failure).
 */
#define PLACE_FIELD_CHECKS(X) \
	X(r->user_id < 1, "user_id must be at least 1") \
	X(r->symbol < 1, "symbol must be a symbol id") \
	X(r->side > CORE_SELL, "side must be buy or sell") \
	X(r->tif > CORE_FOK, "tif must be gtc, ioc or fok") \
	X(r->stp > CORE_STP_CANCEL_BOTH, "stp must be none, cancel_taker, cancel_maker or cancel_both") \
	X(r->price < 0, "price must be positive") \
	X(r->qty < 0, "qty must be positive") \
	X(r->quote_qty < 0, "quote_qty must be positive")
#define FAILS(cond, msg) UNLIKELY(cond) ||
#define FIRST_FAILURE(cond, msg) if (cond) return msg;

static __attribute__((noinline, cold)) const char *
place_field_failure(const core_rec_place *r)
{
	PLACE_FIELD_CHECKS(FIRST_FAILURE)
	return NULL;
}

static const char *
validate_place(const core_record *rec)
{
	const core_rec_place *r = &rec->u.place;
	bool		market = r->price == 0;

	if (PLACE_FIELD_CHECKS(FAILS) false)
		return place_field_failure(r);
	switch (place_args_check(market, (core_side) r->side, (core_tif) r->tif, r->post_only,
							 r->qty > 0, r->quote_qty > 0))
	{
		case CORE_PLACE_ARGS_OK:
			break;
		case CORE_PLACE_ARGS_MARKET_POST_ONLY:
			return "post_only is not allowed on a market order";
		case CORE_PLACE_ARGS_MARKET_FOK:
			return "fok is not allowed on a market order";
		case CORE_PLACE_ARGS_QUOTE_QTY:
			return "quote_qty is only allowed on a market buy";
		case CORE_PLACE_ARGS_NO_QTY:
			return market && r->side == CORE_BUY ?
				"a market buy needs qty or quote_qty" : "qty must be positive";
	}
	if (UNLIKELY(!client_id_ok(r->client_order_id)))
		return "client_order_id must be at most 36 printable characters without quotes or backslashes";
	return NULL;
}

static const char *
validate_cancel(const core_record *rec)
{
	if (rec->u.cancel.user_id < 1)
		return "user_id must be at least 1";
	if (rec->u.cancel.order_id < 1)
		return "order_id must be positive";
	return NULL;
}

static const char *
validate_cancel_all(const core_record *rec)
{
	if (rec->u.cancel_all.user_id < 1)
		return "user_id must be at least 1";
	return NULL;
}

static const char *
validate_amend(const core_record *rec)
{
	const core_rec_amend *r = &rec->u.amend;

	if (r->user_id < 1)
		return "user_id must be at least 1";
	if (r->order_id < 1)
		return "order_id must be positive";
	if (r->qty < 0)
		return "qty must be positive";
	if (r->price < 0)
		return "price must be positive";
	if (r->qty == 0 && r->price == 0)
		return "amend needs a new qty or a new price";
	return NULL;
}

/* ------------------------------------------------------- the table */

const rectype_def core_rectypes[CORE_REC_COUNT] = {
	[CORE_REC_CREATE_ASSET] = {
		"CREATE_ASSET", redo_create_asset, validate_create_asset, {
			FIELD(core_rec_create_asset, create_asset, code, F_STR, CORE_ASSET_CODE_MAX),
			FIELD(core_rec_create_asset, create_asset, decimals, F_U8, 0),
		}
	},
	[CORE_REC_CREATE_SYMBOL] = {
		"CREATE_SYMBOL", redo_create_symbol, validate_create_symbol, {
			FIELD(core_rec_create_symbol, create_symbol, name, F_STR, CORE_SYMBOL_NAME_MAX),
			FIELD(core_rec_create_symbol, create_symbol, base_asset, F_U32, 0),
			FIELD(core_rec_create_symbol, create_symbol, quote_asset, F_U32, 0),
			FIELD(core_rec_create_symbol, create_symbol, tick_size, F_I64, 0),
			FIELD(core_rec_create_symbol, create_symbol, lot_size, F_I64, 0),
			FIELD(core_rec_create_symbol, create_symbol, min_qty, F_I64, 0),
			FIELD(core_rec_create_symbol, create_symbol, maker_fee_ppm, F_U32, 0),
			FIELD(core_rec_create_symbol, create_symbol, taker_fee_ppm, F_U32, 0),
			FIELD_SINCE(core_rec_create_symbol, create_symbol, min_notional, F_I64, 0, 2),
		}
	},
	[CORE_REC_SET_SYMBOL_STATUS] = {
		"SET_SYMBOL_STATUS", redo_set_symbol_status, validate_set_symbol_status, {
			FIELD(core_rec_set_symbol_status, set_symbol_status, symbol, F_U32, 0),
			FIELD(core_rec_set_symbol_status, set_symbol_status, status, F_U8, 0),
		}
	},
	[CORE_REC_DEPOSIT] = {
		"DEPOSIT", redo_deposit, validate_funds, {
			FIELD(core_rec_funds, funds, user_id, F_I64, 0),
			FIELD(core_rec_funds, funds, asset, F_U32, 0),
			FIELD(core_rec_funds, funds, amount, F_I64, 0),
		}
	},
	[CORE_REC_WITHDRAW] = {
		"WITHDRAW", redo_withdraw, validate_funds, {
			FIELD(core_rec_funds, funds, user_id, F_I64, 0),
			FIELD(core_rec_funds, funds, asset, F_U32, 0),
			FIELD(core_rec_funds, funds, amount, F_I64, 0),
		}
	},
	[CORE_REC_PLACE] = {
		"PLACE", redo_place, validate_place, {
			FIELD(core_rec_place, place, user_id, F_I64, 0),
			FIELD(core_rec_place, place, symbol, F_U32, 0),
			FIELD(core_rec_place, place, side, F_U8, 0),
			FIELD(core_rec_place, place, tif, F_U8, 0),
			FIELD(core_rec_place, place, stp, F_U8, 0),
			FIELD(core_rec_place, place, post_only, F_BOOL, 0),
			FIELD(core_rec_place, place, qty, F_I64, 0),
			FIELD(core_rec_place, place, price, F_I64, 0),
			FIELD(core_rec_place, place, quote_qty, F_I64, 0),
			FIELD(core_rec_place, place, client_order_id, F_STR, CORE_CLIENT_ID_MAX),
			FIELD_SINCE(core_rec_place, place, max_open_orders, F_U32, 0, 2),
		}
	},
	[CORE_REC_CANCEL] = {
		"CANCEL", redo_cancel, validate_cancel, {
			FIELD(core_rec_cancel, cancel, user_id, F_I64, 0),
			FIELD(core_rec_cancel, cancel, order_id, F_I64, 0),
		}
	},
	[CORE_REC_CANCEL_ALL] = {
		"CANCEL_ALL", redo_cancel_all, validate_cancel_all, {
			FIELD(core_rec_cancel_all, cancel_all, user_id, F_I64, 0),
			FIELD(core_rec_cancel_all, cancel_all, symbol, F_U32, 0),
		}
	},
	[CORE_REC_AMEND] = {
		"AMEND", redo_amend, validate_amend, {
			FIELD(core_rec_amend, amend, user_id, F_I64, 0),
			FIELD(core_rec_amend, amend, order_id, F_I64, 0),
			FIELD(core_rec_amend, amend, qty, F_I64, 0),
			FIELD(core_rec_amend, amend, price, F_I64, 0),
		}
	},
};

static const rectype_def *
rectype_of(uint8_t type)
{
	if (type == CORE_REC_INVALID || type >= CORE_REC_COUNT)
		return NULL;
	return &core_rectypes[type];
}

const char *
core_rectype_name(core_rectype t)
{
	const rectype_def *def = rectype_of((uint8_t) t);

	return def ? def->name : NULL;
}

const char *
core_record_validate(const core_record *rec)
{
	return record_validate(rec);
}

/* ------------------------------------------------------- codec */

static void
put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t) (v >> (8 * i));
}

static uint64_t
get_le(const uint8_t *p, int bytes)
{
	uint64_t	v = 0;

	for (int i = 0; i < bytes; i++)
		v |= (uint64_t) p[i] << (8 * i);
	return v;
}

static int
fixed_width(uint8_t kind)
{
	switch (kind)
	{
		case F_I64:
			return 8;
		case F_U32:
			return 4;
		default:
			return 1;
	}
}

size_t
core_record_encode(const core_record *rec, uint8_t *buf)
{
	const rectype_def *def = rectype_of(rec->type);
	const char *base = (const char *) rec;
	size_t		n = 0;

	if (def == NULL)
		return 0;
	buf[n++] = CORE_RECORD_FORMAT;
	buf[n++] = rec->type;
	for (const field_def *f = def->fields; f->name; f++)
	{
		const void *p = base + f->offset;

		switch (f->kind)
		{
			case F_I64:
				put_le(buf + n, (uint64_t) *(const int64_t *) p, 8);
				break;
			case F_U32:
				put_le(buf + n, *(const uint32_t *) p, 4);
				break;
			case F_U8:
				buf[n] = *(const uint8_t *) p;
				break;
			case F_BOOL:
				buf[n] = *(const bool *) p ? 1 : 0;
				break;
			case F_STR:
				{
					size_t		len = strnlen(p, f->max);

					buf[n++] = (uint8_t) len;
					memcpy(buf + n, p, len);
					n += len;
					continue;
				}
		}
		n += fixed_width(f->kind);
	}
	return n;
}

bool
core_record_decode(const uint8_t *buf, size_t len, core_record *rec)
{
	const rectype_def *def;
	char	   *base = (char *) rec;
	size_t		n = 2;
	uint8_t		format;

	memset(rec, 0, sizeof(*rec));
	if (len < 2 || (def = rectype_of(buf[1])) == NULL)
		return false;
	format = buf[0];
	if (format < CORE_RECORD_FORMAT_MIN || format > CORE_RECORD_FORMAT)
		return false;
	for (const field_def *f = def->fields; f->name; f++)
	{
		void	   *p = base + f->offset;
		size_t		w = f->kind == F_STR ? 1 : (size_t) fixed_width(f->kind);

		if (f->since > format)
			continue;			/* not in this format: stays 0 */
		if (len - n < w)
			goto bad;
		switch (f->kind)
		{
			case F_I64:
				*(int64_t *) p = (int64_t) get_le(buf + n, 8);
				break;
			case F_U32:
				*(uint32_t *) p = (uint32_t) get_le(buf + n, 4);
				break;
			case F_U8:
				*(uint8_t *) p = buf[n];
				break;
			case F_BOOL:
				if (buf[n] > 1)
					goto bad;
				*(bool *) p = buf[n] == 1;
				break;
			case F_STR:
				{
					size_t		slen = buf[n];

					if (slen > f->max || len - n - 1 < slen ||
						memchr(buf + n + 1, '\0', slen) != NULL)
						goto bad;
					memcpy(p, buf + n + 1, slen);
					((char *) p)[slen] = '\0';
					n += 1 + slen;
					continue;
				}
		}
		n += w;
	}
	if (n != len)
		goto bad;
	rec->type = buf[1];
	return true;

bad:
	memset(rec, 0, sizeof(*rec));
	return false;
}

/* ------------------------------------------------------- description */

typedef struct text_out
{
	char	   *buf;
	size_t		cap;
	size_t		len;			/* what the whole text needs */
} text_out;

static void
out_str(text_out *t, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++, t->len++)
		if (t->len + 1 < t->cap)
			t->buf[t->len] = s[i];
}

static void
out_fmt_i64(text_out *t, int64_t v)
{
	char		tmp[24];
	int			n = snprintf(tmp, sizeof(tmp), "%lld", (long long) v);

	out_str(t, tmp, (size_t) n);
}

/* JSON string with every byte outside printable ASCII, '"' and '\' escaped. */
static void
out_json_string(text_out *t, const char *s, size_t max)
{
	size_t		n = strnlen(s, max);

	out_str(t, "\"", 1);
	for (size_t i = 0; i < n; i++)
	{
		unsigned char ch = (unsigned char) s[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
			out_str(t, (const char *) &ch, 1);
		else
		{
			char		esc[8];

			snprintf(esc, sizeof(esc), "\\u%04x", ch);
			out_str(t, esc, 6);
		}
	}
	out_str(t, "\"", 1);
}

size_t
core_record_desc(const core_record *rec, char *buf, size_t buflen)
{
	const rectype_def *def = rectype_of(rec->type);
	const char *base = (const char *) rec;
	text_out	t = {buf, buflen, 0};

	out_str(&t, "{\"type\": ", 9);
	out_json_string(&t, def ? def->name : "INVALID", 32);
	for (const field_def *f = def ? def->fields : NULL; f && f->name; f++)
	{
		const void *p = base + f->offset;

		out_str(&t, ", \"", 3);
		out_str(&t, f->name, strlen(f->name));
		out_str(&t, "\": ", 3);
		switch (f->kind)
		{
			case F_I64:
				out_fmt_i64(&t, *(const int64_t *) p);
				break;
			case F_U32:
				out_fmt_i64(&t, *(const uint32_t *) p);
				break;
			case F_U8:
				out_fmt_i64(&t, *(const uint8_t *) p);
				break;
			case F_BOOL:
				if (*(const bool *) p)
					out_str(&t, "true", 4);
				else
					out_str(&t, "false", 5);
				break;
			case F_STR:
				out_json_string(&t, p, f->max);
				break;
		}
	}
	out_str(&t, "}", 1);
	if (buflen > 0)
		buf[t.len < buflen ? t.len : buflen - 1] = '\0';
	return t.len;
}

/* ------------------------------------------------------- CRC-32C */

static uint32_t crc_table[256];
static bool crc_ready;

static void
crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++)
	{
		uint32_t	v = i;

		for (int k = 0; k < 8; k++)
			v = (v & 1) ? (v >> 1) ^ 0x82F63B78u : v >> 1;
		crc_table[i] = v;
	}
	crc_ready = true;
}

uint32_t
core_crc32c(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (!crc_ready)
		crc_init();
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
