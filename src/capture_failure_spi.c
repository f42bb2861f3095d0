/*-------------------------------------------------------------------------
 *
 * capture_failure_spi.c
 *		The rows SPI returned to PL/pgSQL of a statement on a tagged table,
 *		or fetched for it from such a statement's cursor, kept while
 *		PL/pgSQL takes them: an error it raises then (SELECT ... INTO STRICT
 *		finding two rows, a value its variable cannot take) is that
 *		statement's FAILURE (capture_failure.c bh_note_failure).
 *
 * The error's context names no statement but the function's own ("...
 * at SQL statement", "... at EXECUTE"); the statement is known by the rows
 * PL/pgSQL holds as it fails, SPI's latest, SPI_tuptable.  A statement on
 * a tagged table whose executor ends within SPI's call (capture_read.c)
 * leaves a record in SPI's memory for the call (bh_failure_statement_
 * finished); SPI resets that memory as the call returns, with SPI_tuptable
 * set, and the record goes with those rows (bh_rows_returned) until they
 * are released (bh_rows_released).  The record is exact:
 *
 * - the statement is the last of the call's text: SPI returns the rows of
 *   the last statement only, and where it refuses one after it (SAVEPOINT,
 *   a COPY to the client) it returns the earlier rows with an error code,
 *   which PL/pgSQL raises as its own error, that of no statement's rows;
 * - at the error, the rows are SPI_tuptable still, the frame that ran the
 *   statement through SPI is the innermost, the context's innermost line
 *   is PL/pgSQL's at the statement (bh_context_plpgsql_rows), and the
 *   connection to SPI that returned the rows is that frame's PL/pgSQL
 *   function's own (bh_rows_of_function): C code that runs its own query
 *   through SPI without a frame of its own (query_to_xml in a domain's
 *   check, as PL/pgSQL takes a value of another table) makes a connection
 *   of its own, under PL/pgSQL's frame.
 *
 * SPI returns no rows of a write without RETURNING: where PL/pgSQL ran it
 * as a statement given an INTO, it refuses that at once ("INTO used with a
 * command that cannot return data"), the statement's FAILURE too; the
 * statement is known then as the last that SPI returned no rows of to the
 * PL/pgSQL statement raising the error (bh_rows_none_keep).
 *
 * An error raised under a frame of code that PL/pgSQL calls as it takes
 * the rows (a domain check's function) is the statement's FAILURE if it
 * leaves the statement: the rows held, of a frame under the innermost one
 * (bh_rows_taking_under), noted apart by capture_failure.c.
 *
 * A FOR loop over a query or over EXECUTE's rows and a FETCH take a
 * cursor's rows, fetched into SPI as the cursor's executor runs
 * (capture_read.c ExecutorRun): a row the loop's or FETCH's variable
 * cannot take is the cursor's statement's FAILURE.  The statement's
 * record marks the PL/pgSQL frame and statement that fetched its rows
 * last (bh_rows_fetched); at the error, that frame is the innermost, at
 * that statement, fetching that very cursor (bh_rows_fetched_failed).
 * Rows a cursor gives from its portal's store (a WITH HOLD cursor's after
 * its COMMIT, a procedure's FOR loop's after a COMMIT in it, which holds
 * the loop's cursor, a cursor's over a write's RETURNING rows) come from
 * no executor into SPI: its executor ran to the end into the store.  As it
 * did, the statement's tables were kept with the store, and the frame and
 * FOR loop taking its rows (bh_rows_stored); a row such a FETCH or loop
 * cannot take is the statement's FAILURE (bh_rows_stored_failed).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dlfcn.h>

#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "plpgsql.h"
#include "tcop/pquery.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/portal.h"

#include "bh_audit.h"
#include "capture.h"
#include "capture_read.h"
#include "query_text.h"

/*
 * The statements' rows PL/pgSQL holds, newest first, each in its rows'
 * own memory (BhRowsTaken.node)
 */
static dlist_head bh_rows_taken = DLIST_STATIC_INIT(bh_rows_taken);

/*
 * The statement on tagged tables that SPI ran last for a PL/pgSQL
 * statement given an INTO and returned no rows of (a write without
 * RETURNING): PL/pgSQL raises "INTO used with a command that cannot return
 * data" as SPI returns, nothing run between (bh_rows_none_failed).  Kept
 * until the next report the error watch sees (bh_rows_none_forget): that
 * error's, unless something else is reported first.
 */
static struct
{
	bool		kept;
	BhRowsTaken statement;		/* its rows NULL */
	const PLpgSQL_stmt *stmt;	/* the PL/pgSQL statement that ran it */
}			bh_rows_none;

/*
 * A statement's tables, kept with the store of the portal whose statement
 * it is, its executor having run into that store (bh_rows_stored): in the
 * store's memory, newest first, each leaving the list as its store goes
 * (as many as the session's held cursors)
 */
typedef struct BhRowsStored
{
	MemoryContextCallback cb;
	dlist_node	node;
	Portal		portal;
	BhContextMark loop_by;		/* the PL/pgSQL frame whose FOR loop takes the
								 * store's rows (frame NULL: none known) */
	const PLpgSQL_stmt *loop_at;	/* that loop */
	int			loop_nest;		/* the statement depth it takes them at */
	BhRowsTaken statement;		/* its tables; rows NULL */
} BhRowsStored;

static dlist_head bh_rows_stored_list = DLIST_STATIC_INIT(bh_rows_stored_list);

static bool bh_frame_is_plpgsql(const ErrorContextCallback *frame);

/*
 * Is the PL/pgSQL statement one given an INTO that runs its query through
 * SPI (pl_exec.c exec_stmt_execsql, exec_stmt_dynexecute)?
 */
static bool
bh_stmt_into(const PLpgSQL_stmt *stmt)
{
	return stmt != NULL &&
		((stmt->cmd_type == PLPGSQL_STMT_EXECSQL &&
		  ((const PLpgSQL_stmt_execsql *) stmt)->into) ||
		 (stmt->cmd_type == PLPGSQL_STMT_DYNEXECUTE &&
		  ((const PLpgSQL_stmt_dynexecute *) stmt)->into));
}

/*
 * The rows are released: off the list; PL/pgSQL took them, or let them go,
 * unless an abort releases them (capture_failure.c bh_failure_rows_released)
 */
static void
bh_rows_released(void *arg)
{
	dlist_delete(&((BhRowsTaken *) arg)->node);
	if (IsTransactionState())
		bh_failure_rows_released((const BhRowsTaken *) arg);
}

/*
 * SPI returned no rows of the statement (pending) to the code that ran it
 * (_SPI_end_call: CurrentMemoryContext is that connection's procedure
 * memory): kept (bh_rows_none) where that code is PL/pgSQL's frame,
 * innermost again, running a statement given an INTO (pl_exec.c
 * exec_stmt_execsql, exec_stmt_dynexecute) through its function's own
 * connection, whose variables are in that memory (not C code that
 * connects again under the frame).  That statement raises its error at
 * once: its query is the last SPI ran for it (an EXECUTE's text and USING
 * arguments are evaluated before, and return rows).
 */
static void
bh_rows_none_keep(const BhRowsTaken *pending)
{
	const PLpgSQL_execstate *estate;
	const PLpgSQL_stmt *stmt;

	if (!bh_context_mark_is_top(&pending->caller) ||
		!bh_frame_is_plpgsql(pending->caller.frame))
		return;
	estate = (const PLpgSQL_execstate *) pending->caller.frame->arg;
	stmt = estate->err_stmt;
	if (estate->datum_context != CurrentMemoryContext || !bh_stmt_into(stmt))
		return;
	bh_rows_none.statement = *pending;
	bh_rows_none.stmt = stmt;
	bh_rows_none.kept = true;
}

/*
 * SPI returns (it resets the memory of its call, pending's): its latest
 * rows, SPI_tuptable, are the statement's (the last of the call's text),
 * kept in their memory while the caller holds them.  Not as an abort
 * resets it (the statement failed); where SPI returns no rows, see
 * bh_rows_none_keep.
 */
static void
bh_rows_returned(void *arg)
{
	const BhRowsTaken *pending = (const BhRowsTaken *) arg;
	MemoryContext cxt;
	BhRowsTaken *taken;

	if (!IsTransactionState())
		return;
	if (SPI_tuptable == NULL)
	{
		bh_rows_none_keep(pending);
		return;
	}
	cxt = GetMemoryChunkContext(SPI_tuptable);
	taken = MemoryContextAllocExtended(cxt, sizeof(BhRowsTaken), MCXT_ALLOC_NO_OOM);
	if (taken == NULL)
		return;
	*taken = *pending;
	taken->rows = SPI_tuptable;
	taken->level = GetCurrentTransactionNestLevel();
	taken->cb.func = bh_rows_released;
	taken->cb.arg = taken;
	dlist_push_head(&bh_rows_taken, &taken->node);
	MemoryContextRegisterResetCallback(cxt, &taken->cb);
}

/* The statement's tables (its FAILURE events, n of them) for the rows */
static void
bh_rows_tables(BhRowsTaken *taken, const BhTableFailure *failures, int n)
{
	int			i;

	taken->ntables = Min(n, BH_FAILURE_TABLES);
	for (i = 0; i < taken->ntables; i++)
	{
		taken->tables[i] = failures[i].relid;
		taken->tagged[i] = failures[i].tagged;
		taken->actions[i] = failures[i].ev.action;
	}
}

/*
 * Is the statement the last of its text (what follows it: semicolons and
 * comments)?  A text of one statement, or a statement whose place is not
 * known, is.
 */
static bool
bh_statement_is_last(const QueryDesc *qd)
{
	int			location = qd->plannedstmt->stmt_location;
	int			len = qd->plannedstmt->stmt_len;

	if (qd->sourceText == NULL || location < 0 || len <= 0 ||
		(size_t) location + len > strlen(qd->sourceText))
		return true;
	return bh_sql_no_statement(qd->sourceText + location + len);
}

/*
 * The executor of a statement whose rows go to SPI ends (capture_read.c),
 * its FAILURE events n (n may be 0): run by SPI itself, started and ending
 * in the memory of SPI's call (SPI_execute...: not a cursor's, which a
 * later call may close), the last statement of the call's text on a
 * tagged table is kept until SPI returns its rows (bh_rows_returned).
 *
 * SPI's memory for a call is told by its name, "SPI Exec" (spi.c
 * SPI_connect_ext): no other way tells it.  Were it renamed, no statement
 * would be kept, and t/244's FAILUREs of a SELECT ... INTO STRICT would
 * fail.
 */
void
bh_failure_statement_finished(QueryDesc *qd, const BhTableFailure *failures, int n)
{
	BhRowsTaken *pending;

	if (n == 0 || bh_sql_path_active() ||
		strcmp(CurrentMemoryContext->name, "SPI Exec") != 0 ||
		MemoryContextGetParent(qd->estate->es_query_cxt) != CurrentMemoryContext ||
		!bh_statement_is_last(qd))
		return;
	pending = MemoryContextAllocExtended(CurrentMemoryContext, sizeof(BhRowsTaken),
										 MCXT_ALLOC_NO_OOM);
	if (pending == NULL)
		return;
	pending->rows = NULL;
	bh_context_mark_caller(&pending->caller);
	pending->role = GetUserId();
	bh_rows_tables(pending, failures, n);
	pending->cb.func = bh_rows_returned;
	pending->cb.arg = pending;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &pending->cb);
}

/*
 * Is the frame a PL/pgSQL function's while it runs (pl_exec.c
 * plpgsql_exec_error_callback, its argument the function's
 * PLpgSQL_execstate)?  PL/pgSQL's other callbacks, its compiler's
 * (pl_comp.c, pl_gram.c), have the function's source text or NULL for
 * argument.  The run-time callback is static: it is learnt once, from the
 * innermost frame of an error whose context's innermost line is a
 * function's line at a statement (the caller's bh_context_plpgsql_rows),
 * or from the frame of PL/pgSQL's code that ran a statement or fetched a
 * cursor through SPI (bh_rows_none_keep, bh_rows_fetched): PL/pgSQL's
 * code, written by that frame, as no other of PL/pgSQL's callbacks writes
 * such a line (nor runs a query through SPI under it); then only that
 * callback is.  Until then, each other library's callback is looked up
 * once (dladdr scans the library's symbols: tens of microseconds) and
 * then passed over at once: a PL/Perl or PL/Python function writing a
 * tagged table shows SPI's frame (bh_rows_fetched) and its own
 * (bh_rows_none_keep) in turn, each statement.  A session shows few
 * (SPI's, its languages' handlers'): past BH_OTHER_CALLBACKS, the oldest
 * kept is forgotten.
 */
#define BH_OTHER_CALLBACKS 8

static bool
bh_frame_is_plpgsql(const ErrorContextCallback *frame)
{
	static void (*run_callback) (void *arg) = NULL;
	static void (*other_callbacks[BH_OTHER_CALLBACKS]) (void *arg);
	static int	nother = 0;
	static int	oldest = 0;		/* replaced next, all BH_OTHER_CALLBACKS kept */
	Dl_info		info;
	const char *base;
	int			i;

	if (frame == NULL || frame->arg == NULL)
		return false;
	if (run_callback != NULL)
		return frame->callback == run_callback;
	for (i = 0; i < nother; i++)
		if (frame->callback == other_callbacks[i])
			return false;
	base = NULL;
	if (dladdr((const void *) frame->callback, &info) != 0 && info.dli_fname != NULL)
	{
		base = strrchr(info.dli_fname, '/');
		base = base ? base + 1 : info.dli_fname;
	}
	if (base == NULL || strcmp(base, "plpgsql" DLSUFFIX) != 0)
	{
		if (nother < BH_OTHER_CALLBACKS)
			other_callbacks[nother++] = frame->callback;
		else
		{
			other_callbacks[oldest] = frame->callback;
			oldest = (oldest + 1) % BH_OTHER_CALLBACKS;
		}
		return false;
	}
	run_callback = frame->callback;
	return true;
}

/*
 * Were the rows returned through the PL/pgSQL function's own connection
 * to SPI, the function of the frame?  SPI keeps
 * a connection's rows under its procedure memory (spi.c spi_dest_startup),
 * where PL/pgSQL, connected as it is called, keeps its variables
 * (datum_context).  Code that PL/pgSQL calls as it takes the rows and that
 * runs its own query through SPI (query_to_xml) connects again: its rows
 * are under its own connection's memory.
 */
static bool
bh_rows_of_function(const ErrorContextCallback *frame, const SPITupleTable *rows)
{
	const PLpgSQL_execstate *estate;
	MemoryContext rows_cxt = GetMemoryChunkContext((void *) rows);

	if (!bh_frame_is_plpgsql(frame))
		return false;
	estate = (const PLpgSQL_execstate *) frame->arg;
	return MemoryContextGetParent(rows_cxt) == estate->datum_context;
}

/*
 * Is the error PL/pgSQL's refusal of the INTO of a statement on a tagged
 * table that SPI returned no rows of, as SPI returns (pl_exec.c: "INTO
 * used with a command that cannot return data"; bh_rows_none)?  Then the
 * frame of the function that ran it is the innermost, at the statement
 * (bh_context_plpgsql_rows), still running it.
 */
static const BhRowsTaken *
bh_rows_none_failed(const ErrorData *edata)
{
	const ErrorContextCallback *frame = bh_rows_none.statement.caller.frame;

	if (!bh_rows_none.kept || edata->sqlerrcode != ERRCODE_SYNTAX_ERROR ||
		edata->message_id == NULL ||
		strcmp(edata->message_id, "INTO used with a command that cannot return data") != 0 ||
		!bh_context_mark_is_top(&bh_rows_none.statement.caller) ||
		!bh_context_plpgsql_rows(edata->context) || !bh_frame_is_plpgsql(frame) ||
		((const PLpgSQL_execstate *) frame->arg)->err_stmt != bh_rows_none.stmt)
		return NULL;
	return &bh_rows_none.statement;
}

/*
 * A report is made: the statement that SPI returned no rows of is no
 * longer the last thing PL/pgSQL did (bh_rows_none)
 */
void
bh_rows_none_forget(void)
{
	bh_rows_none.kept = false;
}

/*
 * Is a FETCH's count (FETCH ABSOLUTE n, RELATIVE n) a constant integer, its
 * value as PL/pgSQL evaluates it before it fetches (pl_exec.c
 * exec_stmt_fetch: the count's simple expression, set as it is first
 * evaluated), so that it cannot fail, before the fetch or after the
 * statement's earlier one?
 */
static bool
bh_fetch_count_constant(const PLpgSQL_expr *count)
{
	const Const *value = (const Const *) count->expr_simple_expr;

	return value != NULL && IsA(value, Const) && value->consttype == INT4OID &&
		!value->constisnull;
}

/*
 * Is the PL/pgSQL statement one that takes rows it fetched from a cursor
 * into its variable, each fetch's rows as they come (pl_exec.c
 * exec_for_query, exec_stmt_fetch): a FOR loop over a query or over
 * EXECUTE's rows, a FETCH (of the next, prior, first or last row, or with
 * a constant count, bh_fetch_count_constant: a count that is an
 * expression may fail as it is evaluated, before the fetch)?  (A FOR loop
 * over a cursor takes its rows into a record of their own type; MOVE
 * takes none.)
 */
static bool
bh_stmt_fetches(const PLpgSQL_stmt *stmt)
{
	const PLpgSQL_stmt_fetch *fetch = (const PLpgSQL_stmt_fetch *) stmt;

	return stmt->cmd_type == PLPGSQL_STMT_FORS || stmt->cmd_type == PLPGSQL_STMT_DYNFORS ||
		(stmt->cmd_type == PLPGSQL_STMT_FETCH && !fetch->is_move &&
		 (fetch->expr == NULL || bh_fetch_count_constant(fetch->expr)));
}

/* Is the PL/pgSQL statement a FOR loop over a query or over EXECUTE's rows? */
static bool
bh_stmt_loops(const PLpgSQL_stmt *stmt)
{
	return stmt != NULL &&
		(stmt->cmd_type == PLPGSQL_STMT_FORS || stmt->cmd_type == PLPGSQL_STMT_DYNFORS);
}

/*
 * The state of the PL/pgSQL function whose frame is the innermost, at a
 * statement that takes rows it fetched from a cursor (bh_stmt_fetches;
 * its err_stmt), or NULL
 */
static const PLpgSQL_execstate *
bh_plpgsql_fetching(void)
{
	const ErrorContextCallback *frame = bh_error_context_top();
	const PLpgSQL_execstate *estate;

	if (!bh_frame_is_plpgsql(frame))
		return NULL;
	estate = (const PLpgSQL_execstate *) frame->arg;
	if (estate->err_stmt == NULL || !bh_stmt_fetches(estate->err_stmt))
		return NULL;
	return estate;
}

/*
 * The statement's rows were fetched into SPI as a cursor's, its executor
 * having returned (capture_read.c): where the code that fetched them is
 * PL/pgSQL's, at a statement that takes them (bh_plpgsql_fetching), its
 * frame the innermost (SPI pushes none for a cursor), that frame and
 * statement are marked in the statement (until its executor runs again),
 * with the portal fetched (the one running, whose statement it is) and
 * the statement depth (bh_statement_nest_level: a fetch from inside
 * another statement's executor, cursor_to_xml() in a loop's query, is
 * deeper).
 */
void
bh_rows_fetched(BhStatement *st)
{
	const PLpgSQL_execstate *estate;

	if (st->nfailures == 0 || (estate = bh_plpgsql_fetching()) == NULL)
		return;
	bh_context_mark(&st->fetched_by);
	st->fetched_at = estate->err_stmt;
	st->fetched_portal = (ActivePortal != NULL && ActivePortal->queryDesc == st->qd) ?
		ActivePortal : NULL;
	st->fetched_nest = bh_statement_nest_level();
}

/*
 * The statement's executor starts (capture_read.c): where SPI starts it
 * for a PL/pgSQL frame at a FOR loop over EXECUTE's rows (the frame under
 * SPI's, bh_context_mark_caller), it is the cursor that the loop opens
 * from its text (pl_exec.c exec_stmt_dynfors, after that text and its
 * USING arguments were evaluated): the frame and the loop are marked in
 * it (bh_fetch_cursor_is).
 */
void
bh_rows_opened(BhStatement *st)
{
	BhContextMark caller;
	const PLpgSQL_stmt *stmt;

	bh_context_mark_caller(&caller);
	if (!bh_frame_is_plpgsql(caller.frame))
		return;
	stmt = ((const PLpgSQL_execstate *) caller.frame->arg)->err_stmt;
	if (stmt == NULL || stmt->cmd_type != PLPGSQL_STMT_DYNFORS)
		return;
	st->opened_by = caller;
	st->opened_at = stmt;
}

/* The text of a FOR loop's query (its saved plan's), or NULL */
static const char *
bh_fors_text(const PLpgSQL_stmt *stmt)
{
	const PLpgSQL_expr *query = ((const PLpgSQL_stmt_fors *) stmt)->query;
	List	   *sources = query->plan ? SPI_plan_get_plan_sources(query->plan) : NIL;

	return sources != NIL ? ((CachedPlanSource *) linitial(sources))->query_string : NULL;
}

/*
 * The portal of the cursor that a PL/pgSQL FETCH names by its cursor
 * variable (its text read as stored: a name PostgreSQL or the function
 * gave, not toasted), or NULL.  Reads no catalog.
 */
static Portal
bh_fetch_portal(const PLpgSQL_execstate *estate, const PLpgSQL_stmt *stmt)
{
	const PLpgSQL_var *curvar;
	struct varlena *name;
	char	   *cname;
	Portal		portal;

	curvar = (const PLpgSQL_var *) estate->datums[((const PLpgSQL_stmt_fetch *) stmt)->curvar];
	if (curvar->dtype != PLPGSQL_DTYPE_VAR || curvar->isnull)
		return NULL;
	name = (struct varlena *) DatumGetPointer(curvar->value);
	if (VARATT_IS_EXTERNAL(name) || VARATT_IS_COMPRESSED(name))
		return NULL;
	cname = text_to_cstring((const text *) name);
	portal = GetPortalByName(cname);
	pfree(cname);
	return portal;
}

/*
 * Is the cursor that the PL/pgSQL statement fetches (bh_stmt_fetches) the
 * one of the statement st, its rows fetched last by that statement
 * (bh_rows_fetched)?  A FOR loop over a query opens its cursor from its
 * saved plan, whose text the cursor's statement has (a copy: a cursor of
 * another text, fetched by a function its query calls, is another); a
 * FETCH names it by its cursor variable (bh_fetch_portal), its fetch
 * returned (the portal ready again: a FETCH FIRST run again on a NO SCROLL
 * cursor is refused as the portal runs, before its executor does, the
 * cursor's statement still marked by the FETCH's earlier run).  A FOR loop
 * over EXECUTE's rows opens its cursor from a text it keeps nowhere: its
 * cursor is the one that loop's frame opened at that loop (bh_rows_opened:
 * not a cursor the code of its text fetches, cursor_to_xml() of a
 * DECLAREd one or of an enclosing loop's), pinned while the loop runs
 * (pl_exec.c exec_for_query), fetched at the loop's own statement depth,
 * not from inside its query's executor (the portal is there while the
 * statement is: st->qd).  Reads no catalog.
 */
static bool
bh_fetch_cursor_is(const PLpgSQL_execstate *estate, const PLpgSQL_stmt *stmt,
				   const BhStatement *st)
{
	const QueryDesc *qd = st->qd;
	Portal		portal;

	if (stmt->cmd_type == PLPGSQL_STMT_DYNFORS)
	{
		portal = st->fetched_portal;
		return st->opened_at == stmt && bh_context_mark_is_top(&st->opened_by) &&
			portal != NULL && portal->portalPinned && portal->queryDesc == qd &&
			st->fetched_nest == bh_statement_nest_level();
	}
	if (stmt->cmd_type == PLPGSQL_STMT_FORS)
	{
		const char *text = bh_fors_text(stmt);

		return text !=NULL && qd->sourceText != NULL && strcmp(text, qd->sourceText) == 0;
	}
	portal = bh_fetch_portal(estate, stmt);
	return portal != NULL && portal->queryDesc == qd && portal->status == PORTAL_READY;
}

/*
 * Is the error raised by PL/pgSQL as it takes the rows it fetched from a
 * cursor on a tagged table into its variable (a FOR loop's row, a FETCH's:
 * a value the variable's type or domain cannot take)?  Then the context's
 * innermost line is PL/pgSQL's at that statement (the caller's
 * bh_context_plpgsql_fetch), its frame the innermost, and the cursor's
 * statement was fetched last by that frame at that statement
 * (bh_rows_fetched), its executor not running since (an error in it has
 * the same line: the executor's own FAILURE), and is the cursor that
 * statement fetches (bh_fetch_cursor_is: a FETCH run again on another
 * cursor, a cursor left open by an earlier call of the function, whose
 * frame may be at the same place).  A FOR loop's statement takes its rows
 * after its body's statements ran, each under its own line; the loop's
 * cursor is its own, closed as it ends.
 */
static const BhRowsTaken *
bh_rows_fetched_failed(void)
{
	static BhRowsTaken fetched;
	const PLpgSQL_execstate *estate = bh_plpgsql_fetching();
	const BhStatement *st;

	if (estate == NULL)
		return NULL;
	for (st = bh_statements; st != NULL; st = st->next)
		if (st->qd != NULL && st->fetched_at == estate->err_stmt &&
			bh_context_mark_is_top(&st->fetched_by) &&
			bh_fetch_cursor_is(estate, estate->err_stmt, st))
			break;
	if (st == NULL)
		return NULL;
	memset(&fetched, 0, sizeof(fetched));
	bh_rows_tables(&fetched, st->failures, st->nfailures);
	return &fetched;
}

/* The portal's store is gone: its statement's tables with it */
static void
bh_rows_unstored(void *arg)
{
	dlist_delete(&((BhRowsStored *) arg)->node);
}

/*
 * The FOR loop that takes the rows of a pinned portal's store (pl_exec.c
 * exec_for_query pins its loop's cursor), marked in the store's entry:
 * where the store is filled at the loop's first fetch (a write's
 * RETURNING rows), the loop's frame is the innermost, at that loop,
 * fetching at its own statement depth; where a COMMIT holds the loop's
 * cursor (a procedure's), that frame fetched the statement's rows last
 * into SPI at that loop (bh_rows_fetched: fetched_by, as it was before
 * this run of its executor), from that portal, and a loop over EXECUTE's
 * rows opened it (bh_rows_opened: not an enclosing loop's cursor that
 * cursor_to_xml() in its text fetched).  Otherwise none is marked.
 */
static void
bh_rows_stored_loop(BhRowsStored *stored, const BhStatement *st,
					const BhContextMark *fetched_by)
{
	const PLpgSQL_execstate *estate = bh_plpgsql_fetching();
	const PLpgSQL_stmt *at = (const PLpgSQL_stmt *) st->fetched_at;

	if (estate != NULL && bh_stmt_loops(estate->err_stmt))
	{
		bh_context_mark(&stored->loop_by);
		stored->loop_at = estate->err_stmt;
		stored->loop_nest = bh_statement_nest_level();
	}
	else if (fetched_by->frame != NULL && bh_stmt_loops(at) &&
			 st->fetched_portal == stored->portal &&
			 (at->cmd_type == PLPGSQL_STMT_FORS ||
			  (st->opened_at == at && st->opened_by.frame == fetched_by->frame &&
			   st->opened_by.arg == fetched_by->arg)))
	{
		stored->loop_by = *fetched_by;
		stored->loop_at = at;
		stored->loop_nest = st->fetched_nest;
	}
}

/*
 * The executor of a statement on a tagged table returned from running
 * into a tuplestore (capture_read.c), fetched_by the frame that had
 * fetched its rows last into SPI before (bh_rows_fetched): where that is
 * the store of the portal running (ActivePortal) and the statement that
 * portal's own (portalcmds.c PersistHoldablePortal: a WITH HOLD cursor at
 * its COMMIT, a procedure's FOR loop's cursor at a COMMIT in the loop;
 * pquery.c FillPortalStore: a cursor over a write's RETURNING rows, at its
 * first fetch), its tables are kept with the store, and the FOR loop that
 * takes them, if a loop's (bh_rows_stored_loop), until it goes
 * (bh_rows_stored_failed).  A query writing into another tuplestore under
 * the portal's run (RETURN QUERY of a function it calls) is not one of
 * the portal's statements.
 */
void
bh_rows_stored(BhStatement *st, const BhContextMark *fetched_by)
{
	Portal		portal = ActivePortal;
	BhRowsStored *stored;

	if (st->nfailures == 0 || portal == NULL || portal->holdStore == NULL ||
		portal->holdContext == NULL || st->qd == NULL ||
		!list_member_ptr(portal->stmts, st->qd->plannedstmt))
		return;
	stored = MemoryContextAllocExtended(portal->holdContext, sizeof(BhRowsStored),
										MCXT_ALLOC_NO_OOM | MCXT_ALLOC_ZERO);
	if (stored == NULL)
		return;
	stored->portal = portal;
	if (portal->portalPinned)
		bh_rows_stored_loop(stored, st, fetched_by);
	bh_rows_tables(&stored->statement, st->failures, st->nfailures);
	stored->cb.func = bh_rows_unstored;
	stored->cb.arg = stored;
	dlist_push_head(&bh_rows_stored_list, &stored->node);
	MemoryContextRegisterResetCallback(portal->holdContext, &stored->cb);
}

/*
 * Is the store's the cursor of the FOR loop (stmt; text: a loop over a
 * query's text, or NULL) whose frame is the innermost: the loop marked in
 * its entry (bh_rows_stored_loop), at its statement depth, and pinned
 * still?  Not another loop of the same text (in a function or procedure
 * the loop's body calls, or an inner one of the same frame, over another
 * table of that name).
 */
static bool
bh_rows_stored_loop_is(const BhRowsStored *stored, const PLpgSQL_stmt *stmt,
					   const char *text)
{
	const char *source = stored->portal->sourceText;

	return stored->loop_at == stmt && bh_context_mark_is_top(&stored->loop_by) &&
		stored->loop_nest == bh_statement_nest_level() && stored->portal->portalPinned &&
		(text == NULL || (source != NULL && strcmp(source, text) == 0));
}

/*
 * Is the error raised by PL/pgSQL as it takes a row it fetched from a
 * portal's store whose statement is on a tagged table (bh_rows_stored)
 * into its variable?  Then the context's innermost line is PL/pgSQL's at
 * a FETCH or a FOR loop over a query or over EXECUTE's rows (the caller's
 * bh_context_plpgsql_fetch), its frame the innermost, at that statement
 * (bh_plpgsql_fetching); the portal is the one the FETCH names
 * (bh_fetch_portal), or the one kept as that loop's
 * (bh_rows_stored_loop_is: the only one); and the portal's fetch returned
 * (it is ready again: an error of the fetch itself, a backward fetch of a
 * cursor that cannot go back, leaves it active).  Reads no catalog.
 */
static const BhRowsTaken *
bh_rows_stored_failed(void)
{
	const PLpgSQL_execstate *estate = bh_plpgsql_fetching();
	const PLpgSQL_stmt *stmt;
	const BhRowsStored *found = NULL;
	dlist_iter	iter;
	Portal		portal = NULL;
	const char *text = NULL;

	if (estate == NULL)
		return NULL;
	stmt = estate->err_stmt;
	if (stmt->cmd_type == PLPGSQL_STMT_FETCH)
	{
		if ((portal = bh_fetch_portal(estate, stmt)) == NULL)
			return NULL;
	}
	else if (stmt->cmd_type == PLPGSQL_STMT_FORS && (text = bh_fors_text(stmt)) == NULL)
		return NULL;
	dlist_foreach(iter, &bh_rows_stored_list)
	{
		const BhRowsStored *stored = dlist_container(BhRowsStored, node, iter.cur);

		if (portal != NULL ? stored->portal != portal :
			!bh_rows_stored_loop_is(stored, stmt, text))
			continue;
		if (found != NULL)
			return NULL;
		found = stored;
	}
	if (found == NULL || found->portal->status != PORTAL_READY)
		return NULL;
	return &found->statement;
}

/*
 * Have a statement's rows been fetched into SPI as a cursor's by a frame
 * (bh_rows_fetched), its executor not running since?  The only statements
 * bh_rows_fetched_failed looks for.
 */
static bool
bh_rows_fetched_any(void)
{
	const BhStatement *st;

	for (st = bh_statements; st != NULL; st = st->next)
		if (st->qd != NULL && st->fetched_by.frame != NULL)
			return true;
	return false;
}

/* The record of the rows (SPI's) while PL/pgSQL holds them, or NULL */
static const BhRowsTaken *
bh_rows_held(const SPITupleTable *rows)
{
	dlist_iter	iter;

	if (rows == NULL)
		return NULL;
	dlist_foreach(iter, &bh_rows_taken)
	{
		const BhRowsTaken *taken = dlist_container(BhRowsTaken, node, iter.cur);

		if (taken->rows == rows)
			return taken;
	}
	return NULL;
}

/*
 * Is the error raised by PL/pgSQL as it takes the rows that SPI returned
 * it of a statement on a tagged table (pl_exec.c exec_stmt_execsql,
 * exec_stmt_dynexecute): SELECT ... INTO STRICT finding two rows or none,
 * a value the target variable's type or domain cannot take
 * (exec_move_row), a SELECT without INTO ("query has no destination for
 * result data")?  Then the rows it holds are SPI's latest (SPI_tuptable:
 * a function that PL/pgSQL calls as it takes them and that runs its own
 * query through SPI gives them back as it ends) and those of that
 * statement (bh_rows_taken; not a FOR loop's rows fetched, nor those of a
 * utility statement: SHOW), the frame innermost that ran it through SPI
 * (not a function's that PL/pgSQL calls, a domain check's or a cast's,
 * failing under its own frame), and the context's innermost line that
 * frame's, at the statement (bh_context_plpgsql_rows; SPI's own line
 * comes first while it runs the query), its function's own connection to
 * SPI having returned them (bh_rows_of_function).  The statement on the
 * tagged table: the statement's own query, or that of an expression an
 * EXECUTE evaluates (its text, a USING argument) whose rows PL/pgSQL
 * takes.  Where SPI returned no rows (SPI_tuptable NULL), PL/pgSQL's
 * refusal of an INTO (bh_rows_none_failed); at a FOR loop over a query or
 * a FETCH, the rows it fetched (bh_rows_fetched_failed), or took from a
 * portal's store (bh_rows_stored_failed).  The context is
 * read only where one of those is kept: most errors have none (an error
 * caught in a loop over an untagged table).
 */
const BhRowsTaken *
bh_rows_failed(const ErrorData *edata)
{
	const BhRowsTaken *taken = bh_rows_held(SPI_tuptable);
	bool		fetched = bh_rows_fetched_any();

	if (!fetched && !bh_rows_none.kept && taken == NULL && dlist_is_empty(&bh_rows_stored_list))
		return NULL;
	if (bh_context_plpgsql_fetch(edata->context))
	{
		const BhRowsTaken *rows = fetched ? bh_rows_fetched_failed() : NULL;

		if (rows == NULL)
			rows = bh_rows_stored_failed();
		/* a FOR loop over EXECUTE evaluates its text first: rows taken then */
		if (rows != NULL || !bh_context_plpgsql_rows(edata->context))
			return rows;
	}
	if (SPI_tuptable == NULL)
		return bh_rows_none_failed(edata);
	if (taken == NULL || !bh_context_mark_is_top(&taken->caller) ||
		!bh_context_plpgsql_rows(edata->context) ||
		!bh_rows_of_function(taken->caller.frame, SPI_tuptable))
		return NULL;
	return taken;
}

/*
 * The statement on a tagged table whose rows a PL/pgSQL frame under the
 * innermost one is taking into its variables (pl_exec.c exec_move_row, as
 * for bh_rows_failed), while code it calls as it takes them raises an
 * error under a frame of its own: a domain check's or a cast's PL/pgSQL
 * or SQL function, or C code that runs its own query through SPI
 * (query_to_xml).  Its rows are still held (bh_rows_taken: PL/pgSQL
 * releases them as it has taken them, and an abort as it rolls back the
 * subtransaction they were returned in), returned through that frame's
 * function's own connection to SPI (not the rows of code it calls that
 * connects again), and that frame is at a statement that takes the rows
 * SPI returned it into its variables, a SELECT ... INTO or an EXECUTE ...
 * INTO (the rows of the query an EXECUTE evaluates for its text or its
 * USING arguments are released before it runs the query, as soon as
 * PL/pgSQL has their value).  The newest such rows, whose frame is the
 * innermost one that takes rows; NULL: none.  Its error is that
 * statement's failure if it leaves the statement (capture_failure.c
 * bh_note_taking).  Reads no catalog.
 */
const BhRowsTaken *
bh_rows_taking_under(void)
{
	dlist_iter	iter;

	dlist_foreach(iter, &bh_rows_taken)
	{
		const BhRowsTaken *taken = dlist_container(BhRowsTaken, node, iter.cur);

		if (bh_context_mark_on_stack(&taken->caller, true) &&
			bh_rows_of_function(taken->caller.frame, taken->rows) &&
			bh_stmt_into(((const PLpgSQL_execstate *) taken->caller.frame->arg)->err_stmt))
			return taken;
	}
	return NULL;
}
