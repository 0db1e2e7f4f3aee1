/*
 * events.c — pushed events: a NOTIFY after every committed batch, so that
 * gateways LISTEN instead of polling the history tables.
 *
 * Channel ENGINE_EVENTS_CHANNEL ("engine_events"); payload, one JSON
 * object per batch that sequenced at least one command:
 *
 *     {"first_seq":101,"last_seq":140,"trades":12,"ts":"2024-05-01 12:00:00.123456+00"}
 *
 * first_seq..last_seq are the batch's log records (gapless); their trades
 * and order events are the rows of engine.trades / engine.order_events
 * with seq in that range (both have an index on seq); ts is the batch's
 * engine timestamp, in UTC.  PostgreSQL delivers the notification when the
 * batch's transaction commits, in commit order, so a listener sees ranges
 * in seq order.  A gateway keeps the last seq it has read and, on each
 * notification (or after reconnecting), reads everything after it: a
 * notification is a prompt, the tables are the truth.
 *
 * Owns: the channel, the payload, and the guard below.
 * Must never: make a batch fail.  A NOTIFY fails its transaction when the
 * server's notification queue is full (a listener that never reads holds
 * it), which would stop the exchange; so while the queue is more than half
 * full the worker sends nothing and says so once in the server log.
 * Listeners notice the gap by seq and read the tables as above.
 */
#include "postgres.h"

#include "commands/async.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"

#include "worker.h"

/* Send nothing while the notification queue is fuller than this. */
#define EVENTS_QUEUE_LIMIT 0.5

static bool suspended = false;

/* ts as ISO text in UTC ("2024-05-01 12:00:00.123456+00"), whatever TimeZone says. */
static const char *
timestamptz_utc_text(TimestampTz ts)
{
	static char buf[MAXDATELEN + 1];
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "engine: batch timestamp out of range");
	tm.tm_isdst = 0;			/* known: UTC, so the offset is printed */
	EncodeDateTime(&tm, fsec, true, 0, NULL, USE_ISO_DATES, buf);
	return buf;
}

void
events_notify_batch(int64 first_seq, int64 last_seq, int ntrades, TimestampTz ts)
{
	double		usage = DatumGetFloat8(DirectFunctionCall1(pg_notification_queue_usage, (Datum) 0));
	StringInfoData payload;

	if (usage > EVENTS_QUEUE_LIMIT)
	{
		if (!suspended)
			ereport(WARNING,
					(errmsg("engine: the notification queue is %.0f%% full; no notifications on channel \"%s\" until it drains",
							usage * 100, ENGINE_EVENTS_CHANNEL),
					 errhint("A session that LISTENs without reading holds the queue; see pg_notification_queue_usage().")));
		suspended = true;
		return;
	}
	if (suspended)
		ereport(LOG,
				(errmsg("engine: notifications on channel \"%s\" resume at seq " INT64_FORMAT,
						ENGINE_EVENTS_CHANNEL, first_seq)));
	suspended = false;

	initStringInfo(&payload);
	appendStringInfo(&payload,
					 "{\"first_seq\":" INT64_FORMAT ",\"last_seq\":" INT64_FORMAT
					 ",\"trades\":%d,\"ts\":\"%s\"}",
					 first_seq, last_seq, ntrades, timestamptz_utc_text(ts));
	Async_Notify(ENGINE_EVENTS_CHANNEL, payload.data);
}
