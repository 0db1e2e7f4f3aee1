/*
 * install.c — how this installation of the extension came to be: created,
 * updated from an earlier release, or restored from a dump.
 *
 * Owns: telling a restore's CREATE EXTENSION from any other, for the
 * extension script (engine._install_origin(), sql/engine--1.0--1.1.sql
 * section "Restores"), which records it in engine.installation.
 * Must never: change what CREATE EXTENSION does; look at any statement but
 * CREATE EXTENSION engine.
 *
 * pg_dump scripts and pg_restore run every statement with
 * check_function_bodies = off, and nothing else does by default.  The
 * extension script cannot see that setting itself (PostgreSQL turns it
 * off while any extension script runs), so a utility hook notes the
 * caller's value when CREATE EXTENSION engine starts.  Someone who runs
 * CREATE EXTENSION engine by hand with check_function_bodies off gets an
 * installation that waits for a restore's data; engine.status() says so
 * and how to start over (README, "Restoring a dump").
 */
#include "postgres.h"

#include "commands/extension.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "api.h"

PG_FUNCTION_INFO_V1(engine_install_origin);

static ProcessUtility_hook_type prev_process_utility = NULL;

/* Set while CREATE EXTENSION engine runs in this backend. */
static bool creating_engine = false;
static bool creating_without_body_checks = false;

static void
note_create_extension(PlannedStmt *pstmt, const char *query, bool read_only_tree,
					  ProcessUtilityContext context, ParamListInfo params,
					  QueryEnvironment *env, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;
	bool		ours = IsA(stmt, CreateExtensionStmt) &&
		strcmp(((CreateExtensionStmt *) stmt)->extname, ENGINE_EXTENSION_NAME) == 0;
	bool		was_creating = creating_engine;
	bool		was_unchecked = creating_without_body_checks;

	if (ours)
	{
		creating_engine = true;
		creating_without_body_checks = !check_function_bodies;
	}
	PG_TRY();
	{
		if (prev_process_utility)
			prev_process_utility(pstmt, query, read_only_tree, context, params, env, dest, qc);
		else
			standard_ProcessUtility(pstmt, query, read_only_tree, context, params, env, dest, qc);
	}
	PG_FINALLY();
	{
		creating_engine = was_creating;
		creating_without_body_checks = was_unchecked;
	}
	PG_END_TRY();
}

/* Install the hook (from _PG_init). */
void
install_init(void)
{
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = note_create_extension;
}

/*
 * engine._install_origin() RETURNS text, for the extension script:
 * 'restoring' in a CREATE EXTENSION engine run with check_function_bodies
 * off (a restore), 'created' in any other CREATE EXTENSION, 'updated' in
 * ALTER EXTENSION engine UPDATE.
 */
Datum
engine_install_origin(PG_FUNCTION_ARGS)
{
	const char *origin = !creating_engine ? "updated"
		: creating_without_body_checks ? "restoring" : "created";

	PG_RETURN_TEXT_P(cstring_to_text(origin));
}
