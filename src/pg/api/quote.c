/*
 * quote.c — how an error message quotes what the caller sent.
 *
 * Owns: the bound on quoted input.  Every message that shows an argument's
 * text (a symbol, a ref, a client_order_id, a numeric as written) shows it
 * through quote_input, so a 10 MB argument puts at most ENGINE_QUOTE_MAX
 * bytes of it into the message and the server log.
 * Must never: call into another file of src/pg (everything that raises an
 * error uses it).
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "api.h"

/*
 * s as a message shows it: whole when it has at most ENGINE_QUOTE_MAX
 * bytes, else its first ENGINE_QUOTE_MAX bytes (cut at a character
 * boundary) followed by "...".  Returns s itself or a palloc'd copy.
 */
const char *
quote_input(const char *s)
{
	size_t		len = strlen(s);
	int			keep;

	if (len <= ENGINE_QUOTE_MAX)
		return s;
	keep = pg_mbcliplen(s, (int) Min(len, (size_t) ENGINE_QUOTE_MAX * 2), ENGINE_QUOTE_MAX);
	return psprintf("%.*s...", keep, s);
}
