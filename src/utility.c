/*-------------------------------------------------------------------------
 *
 * utility.c
 *		The extension's one ProcessUtility hook.
 *
 * These modules act around utility statements, in this order:
 *	- the tag cache (tag_cache.c) takes in tagging committed since the last
 *	  statement, before an EXECUTE revalidates its plan, and learns that a
 *	  COMMIT PREPARED may change tagging;
 *	- the configuration guard (config_guard.c) refuses or records a change
 *	  that would weaken capture, before the statement runs (telling the tag
 *	  cache that an ALTER SCHEMA ... RENAME changes the names of tagged
 *	  tables), and afterwards lets tags follow renamed columns and gives
 *	  new partitions their TRUNCATE trigger;
 *	- reads by DDL (capture_ddl_read.c): a statement that evaluates
 *	  expressions over a tagged table's stored rows (an expression index,
 *	  a CHECK constraint, REINDEX, ANALYZE ...) is recorded before it runs;
 *	- read capture (capture_read.c) turns COPY ... TO into an export the
 *	  executor sees, notes an EXPLAIN that only plans, and records the
 *	  failure of an EXECUTE that fails before its plan runs;
 *	- event holding (emit.c) wakes the sealer at COMMIT PREPARED for the
 *	  prepared transaction's events, and counts them (stats.c);
 *	- failure capture (capture_failure.c) knows the trigger depth the
 *	  statement runs at (a constraint's trigger it fires runs deeper),
 *	  records the rows a failing statement's error showed, and learns that
 *	  a client's statement has finished (the executor's end of a query that
 *	  a utility statement runs, CREATE TABLE AS say, is not its end:
 *	  bh_utility_nesting());
 *	- the configuration guard lets an owner change through, but not what
 *	  an event trigger runs during it (bh_utility_nesting());
 *	- the extension's own SQL (bh_audit.c) learns how deep statements run
 *	  one inside the other (bh_statement_nest_enter()), so that what a
 *	  user's code would run inside its statements is not taken for its
 *	  own;
 *	  the executor's hooks count the queries they run or finish too.
 * Their clean-up runs whether the statement succeeds or fails, or one of
 * them fails before it runs (each leaves what it set known to its
 * clean-up).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "tcop/utility.h"

#include "bh_audit.h"
#include "capture.h"
#include "own_guard.h"
#include "tags.h"

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/* How many utility statements are running, one inside the other. */
static int	bh_utility_depth = 0;

/* Whether the outermost of them is a client's EXECUTE of a prepared statement. */
static bool bh_utility_outer_execute = false;

int
bh_utility_nesting(void)
{
	return bh_utility_depth;
}

/*
 * Whether what runs now runs as a client's statement itself: no utility
 * statement is running, or only the EXECUTE a client sent, which runs the
 * prepared statement it names as if the client had sent that.
 */
bool
bh_utility_client_level(void)
{
	return bh_utility_depth == 0 ||
		(bh_utility_depth == 1 && bh_utility_outer_execute);
}

/*
 * A utility statement failed (from its PG_CATCH, or at the exit after an
 * error exit_on_error raised as FATAL): the rows the error showed, the
 * failure of an EXECUTE before its plan ran.
 */
static void
bh_utility_failed(void *arg)
{
	bh_record_shown();
	bh_capture_read_utility_failed((BhReadUtility *) arg);
}

static void
bh_ProcessUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				  ProcessUtilityContext context, ParamListInfo params,
				  QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	BhGuardUtility guard;
	BhReadUtility read_state;
	volatile bool nested = false;
	volatile int nest = 0;
	int			depth;
	BhFailFrame frame;
	bool		own_script;

	bh_tags_catch_up();

	/*
	 * The prepared transaction's invalidations are sent by this statement.
	 * (The configuration guard does the same for an ALTER SCHEMA ... RENAME
	 * of a schema holding a tagged table, once it holds the schema's lock.)
	 * Its events may make the database the ledger's home, as a commit's do:
	 * claimed here, before it commits (home.c).
	 */
	if (IsA(parsetree, TransactionStmt) &&
		((TransactionStmt *) parsetree)->kind == TRANS_STMT_COMMIT_PREPARED)
	{
		bh_tags_advance_after_commit();
		bh_home_claim(true);
	}
	bh_config_guard_session();
	own_script = bh_own_acl_statement_begin(parsetree);
	/* states the clean-up can undo whenever an error comes */
	bh_config_guard_start(&guard, context == PROCESS_UTILITY_SUBCOMMAND);
	memset(&read_state, 0, sizeof(read_state));
	depth = bh_failure_statement_enter(IsA(parsetree, IndexStmt) ||
									   IsA(parsetree, ReindexStmt));
	bh_fail_frame_push(&frame, bh_utility_failed, &read_state, NULL);
	PG_TRY();
	{
		bh_config_guard_before(parsetree, &guard);
		bh_capture_ddl_reads(parsetree);
		bh_capture_read_utility_begin(&pstmt, queryString, &readOnlyTree,
									  context == PROCESS_UTILITY_TOPLEVEL, &read_state);
		bh_config_guard_running(parsetree, &guard);
		if (bh_utility_depth == 0)
			bh_utility_outer_execute = context == PROCESS_UTILITY_TOPLEVEL &&
				IsA(parsetree, ExecuteStmt);
		bh_utility_depth++;
		nest = bh_statement_nest_enter();
		nested = true;
		if (prev_ProcessUtility)
			prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
									queryEnv, dest, qc);
	}
	PG_CATCH();
	{
		bh_fail_frame_pop(&frame);
		bh_failure_statement_leave(depth);
		bh_release_error_locks();
		if (nested)
		{
			bh_utility_depth--;
			bh_statement_nest_leave(nest);
		}
		bh_utility_failed(&read_state);
		bh_capture_read_utility_end(&read_state);
		bh_config_guard_cleanup(&guard);
		PG_RE_THROW();
	}
	PG_END_TRY();
	bh_fail_frame_pop(&frame);
	bh_failure_statement_leave(depth);
	bh_utility_depth--;
	bh_statement_nest_leave(nest);
	bh_capture_read_utility_end(&read_state);
	bh_config_guard_cleanup(&guard);
	bh_config_guard_after(parsetree, &guard);
	bh_own_acl_statement_done(own_script);
	bh_emit_utility_after(parsetree);
	if (bh_utility_depth == 0)
		bh_client_stmt_finished(queryString);
}

void
bh_utility_init(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = bh_ProcessUtility;
}
