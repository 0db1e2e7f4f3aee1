/*
 * items.c — the canonical walk's items as bytes: what a snapshot of
 * format 2 stores (chunks of items of one kind, see core.h).
 *
 * Every item is little-endian fields in a fixed order; text fields are a
 * length byte and that many bytes (no NUL).  The layout is the snapshot's
 * format, independent of the arena's: a snapshot written by one release
 * loads into the next even if the slots change.  The decoder reads only
 * what it is given and refuses any byte string that is not one well-formed
 * item; it checks shapes only (lengths, enumerations, text characters): the
 * restore functions check what the values mean.
 */
#include <string.h>

#include "core_int.h"

typedef struct writer
{
	uint8_t    *p;
	size_t		n;
} writer;

typedef struct reader
{
	const uint8_t *p;
	size_t		len;
	size_t		n;
	bool		ok;
} reader;

static void
w_u(writer *w, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		w->p[w->n++] = (uint8_t) (v >> (8 * i));
}

static void
w_text(writer *w, const char *s, size_t max)
{
	size_t		len = strnlen(s, max);

	w->p[w->n++] = (uint8_t) len;
	memcpy(w->p + w->n, s, len);
	w->n += len;
}

/*
 * A little-endian field of bytes (1..8) bytes.  Where 8 bytes are left and
 * the machine is little-endian, one 8-byte load and a mask: recovery
 * decodes every item of a snapshot through here.
 */
static inline uint64_t
r_u(reader *r, int bytes)
{
	uint64_t	v = 0;

	if (!r->ok || r->len - r->n < (size_t) bytes)
	{
		r->ok = false;
		return 0;
	}
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (LIKELY(r->len - r->n >= 8))
	{
		memcpy(&v, r->p + r->n, 8);
		if (bytes < 8)
			v &= (UINT64_C(1) << (8 * bytes)) - 1;
		r->n += bytes;
		return v;
	}
#endif
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t) r->p[r->n + i] << (8 * i);
	r->n += bytes;
	return v;
}

/* A text of at most max printable bytes into dst (max + 1 bytes). */
static void
r_text(reader *r, char *dst, size_t max)
{
	size_t		len = (size_t) r_u(r, 1);

	if (!r->ok || len > max || r->len - r->n < len)
	{
		r->ok = false;
		dst[0] = '\0';
		return;
	}
	for (size_t i = 0; i < len; i++)
		if (r->p[r->n + i] < 0x20 || r->p[r->n + i] > 0x7e)
			r->ok = false;
	memcpy(dst, r->p + r->n, len);
	dst[len] = '\0';
	r->n += len;
}

static bool
r_bool(reader *r)
{
	uint64_t	v = r_u(r, 1);

	if (v > 1)
		r->ok = false;
	return v == 1;
}

size_t
core_item_encode(const core_item *it, uint8_t *buf)
{
	writer		w = {buf, 0};

	switch (it->kind)
	{
		case CORE_ITEM_ASSET:
			{
				const core_asset_info *a = &it->u.asset;

				w_u(&w, a->id, 4);
				w_u(&w, a->decimals, 1);
				w_u(&w, (uint64_t) a->supply, 8);
				w_text(&w, a->code, CORE_ASSET_CODE_MAX);
				break;
			}
		case CORE_ITEM_SYMBOL:
			{
				const core_symbol_info *s = &it->u.symbol;

				w_u(&w, s->id, 4);
				w_u(&w, s->base_asset, 4);
				w_u(&w, s->quote_asset, 4);
				w_u(&w, (uint64_t) s->tick_size, 8);
				w_u(&w, (uint64_t) s->lot_size, 8);
				w_u(&w, (uint64_t) s->min_qty, 8);
				w_u(&w, (uint32_t) s->maker_fee_ppm, 4);
				w_u(&w, (uint32_t) s->taker_fee_ppm, 4);
				w_u(&w, s->status, 1);
				w_u(&w, (uint64_t) s->min_notional, 8);
				w_text(&w, s->name, CORE_SYMBOL_NAME_MAX);
				break;
			}
		case CORE_ITEM_BALANCE:
			{
				const core_balance_info *b = &it->u.balance;

				w_u(&w, (uint64_t) b->user_id, 8);
				w_u(&w, b->asset, 4);
				w_u(&w, (uint64_t) b->available, 8);
				w_u(&w, (uint64_t) b->frozen, 8);
				break;
			}
		case CORE_ITEM_ORDER:
			{
				const core_order_info *o = &it->u.order;

				w_u(&w, (uint64_t) o->order_id, 8);
				w_u(&w, (uint64_t) o->user_id, 8);
				w_u(&w, o->symbol, 4);
				w_u(&w, o->side, 1);
				w_u(&w, o->stp, 1);
				w_u(&w, o->post_only ? 1 : 0, 1);
				w_u(&w, (uint64_t) o->price, 8);
				w_u(&w, (uint64_t) o->filled_qty, 8);
				w_u(&w, (uint64_t) o->remaining_qty, 8);
				w_u(&w, (uint64_t) o->locked, 8);
				w_u(&w, (uint64_t) o->notional_hi, 8);
				w_u(&w, o->notional_lo, 8);
				w_u(&w, (uint64_t) o->created_ts, 8);
				w_u(&w, (uint64_t) o->queued_seq, 8);
				w_text(&w, o->client_order_id, CORE_CLIENT_ID_MAX);
				break;
			}
		default:
			return 0;
	}
	return w.n;
}

size_t
core_item_decode(uint8_t kind, const uint8_t *buf, size_t len, core_item *it)
{
	reader		r = {buf, len, 0, true};

	memset(it, 0, sizeof(*it));
	it->kind = kind;
	switch (kind)
	{
		case CORE_ITEM_ASSET:
			{
				core_asset_info *a = &it->u.asset;

				a->id = (uint32_t) r_u(&r, 4);
				a->decimals = (uint8_t) r_u(&r, 1);
				a->supply = (int64_t) r_u(&r, 8);
				r_text(&r, a->code, CORE_ASSET_CODE_MAX);
				break;
			}
		case CORE_ITEM_SYMBOL:
			{
				core_symbol_info *s = &it->u.symbol;

				s->id = (uint32_t) r_u(&r, 4);
				s->base_asset = (uint32_t) r_u(&r, 4);
				s->quote_asset = (uint32_t) r_u(&r, 4);
				s->tick_size = (int64_t) r_u(&r, 8);
				s->lot_size = (int64_t) r_u(&r, 8);
				s->min_qty = (int64_t) r_u(&r, 8);
				s->maker_fee_ppm = (int32_t) (uint32_t) r_u(&r, 4);
				s->taker_fee_ppm = (int32_t) (uint32_t) r_u(&r, 4);
				s->status = (uint8_t) r_u(&r, 1);
				s->min_notional = (int64_t) r_u(&r, 8);
				r_text(&r, s->name, CORE_SYMBOL_NAME_MAX);
				if (s->status > CORE_HALTED)
					r.ok = false;
				break;
			}
		case CORE_ITEM_BALANCE:
			{
				core_balance_info *b = &it->u.balance;

				b->user_id = (int64_t) r_u(&r, 8);
				b->asset = (uint32_t) r_u(&r, 4);
				b->available = (int64_t) r_u(&r, 8);
				b->frozen = (int64_t) r_u(&r, 8);
				break;
			}
		case CORE_ITEM_ORDER:
			{
				core_order_info *o = &it->u.order;

				o->order_id = (int64_t) r_u(&r, 8);
				o->user_id = (int64_t) r_u(&r, 8);
				o->symbol = (uint32_t) r_u(&r, 4);
				o->side = (uint8_t) r_u(&r, 1);
				o->stp = (uint8_t) r_u(&r, 1);
				o->post_only = r_bool(&r);
				o->price = (int64_t) r_u(&r, 8);
				o->filled_qty = (int64_t) r_u(&r, 8);
				o->remaining_qty = (int64_t) r_u(&r, 8);
				o->locked = (int64_t) r_u(&r, 8);
				o->notional_hi = (int64_t) r_u(&r, 8);
				o->notional_lo = r_u(&r, 8);
				o->created_ts = (int64_t) r_u(&r, 8);
				o->queued_seq = (int64_t) r_u(&r, 8);
				r_text(&r, o->client_order_id, CORE_CLIENT_ID_MAX);
				if (o->side > CORE_SELL || o->stp > CORE_STP_CANCEL_BOTH ||
					o->filled_qty < 0 || o->remaining_qty < 0 ||
					o->filled_qty > INT64_MAX - o->remaining_qty)
					r.ok = false;
				else
					o->qty = o->filled_qty + o->remaining_qty;
				break;
			}
		default:
			r.ok = false;
	}
	if (!r.ok)
	{
		memset(it, 0, sizeof(*it));
		return 0;
	}
	return r.n;
}
