/*-------------------------------------------------------------------------
 *
 * capture_failure_spi.c
 *		The rows SPI returned to PL/pgSQL of a statement on a tagged table,
 *		kept while PL/pgSQL takes them: an error it raises then (SELECT ...
 *		INTO STRICT finding two rows, a value its variable cannot take) is
 *		that statement's FAILURE (capture_failure.c bh_note_failure).
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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dlfcn.h>

#include "access/xact.h"
#include "executor/spi.h"
#include "plpgsql.h"
#include "utils/memutils.h"

#include "bh_audit.h"
#include "capture.h"
#include "query_text.h"

/*
 * The statements' rows PL/pgSQL holds, newest first, each in its rows'
 * own memory
 */
static BhRowsTaken *bh_rows_taken = NULL;

/* The rows are released: off the list */
static void
bh_rows_released(void *arg)
{
	BhRowsTaken **link = &bh_rows_taken;

	while (*link != NULL && *link != arg)
		link = &(*link)->next;
	if (*link != NULL)
		*link = (*link)->next;
}

/*
 * SPI returns (it resets the memory of its call, pending's): its latest
 * rows, SPI_tuptable, are the statement's (the last of the call's text),
 * kept in their memory while the caller holds them.  Not as an abort
 * resets it (the statement failed), or where SPI returns no rows.
 */
static void
bh_rows_returned(void *arg)
{
	const BhRowsTaken *pending = (const BhRowsTaken *) arg;
	MemoryContext cxt;
	BhRowsTaken *taken;

	if (!IsTransactionState() || SPI_tuptable == NULL)
		return;
	cxt = GetMemoryChunkContext(SPI_tuptable);
	taken = MemoryContextAllocExtended(cxt, sizeof(BhRowsTaken), MCXT_ALLOC_NO_OOM);
	if (taken == NULL)
		return;
	*taken = *pending;
	taken->rows = SPI_tuptable;
	taken->cb.func = bh_rows_released;
	taken->cb.arg = taken;
	taken->next = bh_rows_taken;
	bh_rows_taken = taken;
	MemoryContextRegisterResetCallback(cxt, &taken->cb);
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
	int			i;

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
	pending->next = NULL;
	bh_context_mark_caller(&pending->caller);
	pending->ntables = Min(n, BH_FAILURE_TABLES);
	for (i = 0; i < pending->ntables; i++)
	{
		pending->tables[i] = failures[i].relid;
		pending->tagged[i] = failures[i].tagged;
		pending->actions[i] = failures[i].ev.action;
	}
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
 * function's line at a statement (the caller's bh_context_plpgsql_rows):
 * PL/pgSQL's code, written by that frame, as no other of PL/pgSQL's
 * callbacks writes such a line (nor runs a query through SPI under it);
 * then only that callback is.
 */
static bool
bh_frame_is_plpgsql(const ErrorContextCallback *frame)
{
	static void (*run_callback) (void *arg) = NULL;
	Dl_info		info;
	const char *base;

	if (frame == NULL || frame->arg == NULL)
		return false;
	if (run_callback != NULL)
		return frame->callback == run_callback;
	if (dladdr((const void *) frame->callback, &info) == 0 || info.dli_fname == NULL)
		return false;
	base = strrchr(info.dli_fname, '/');
	base = base ? base + 1 : info.dli_fname;
	if (strcmp(base, "plpgsql" DLSUFFIX) != 0)
		return false;
	run_callback = frame->callback;
	return true;
}

/*
 * Were the rows (SPI_tuptable) returned through the PL/pgSQL function's
 * own connection to SPI, the function of the frame (innermost)?  SPI keeps
 * a connection's rows under its procedure memory (spi.c spi_dest_startup),
 * where PL/pgSQL, connected as it is called, keeps its variables
 * (datum_context).  Code that PL/pgSQL calls as it takes the rows and that
 * runs its own query through SPI (query_to_xml) connects again: its rows
 * are under its own connection's memory.
 */
static bool
bh_rows_of_function(const ErrorContextCallback *frame)
{
	const PLpgSQL_execstate *estate;
	MemoryContext rows_cxt = GetMemoryChunkContext(SPI_tuptable);

	if (!bh_frame_is_plpgsql(frame))
		return false;
	estate = (const PLpgSQL_execstate *) frame->arg;
	return MemoryContextGetParent(rows_cxt) == estate->datum_context;
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
 * takes.
 */
const BhRowsTaken *
bh_rows_failed(const ErrorData *edata)
{
	const BhRowsTaken *taken;

	if (SPI_tuptable == NULL)
		return NULL;
	for (taken = bh_rows_taken; taken != NULL; taken = taken->next)
		if (taken->rows == SPI_tuptable)
			break;
	if (taken == NULL || !bh_context_mark_is_top(&taken->caller) ||
		!bh_context_plpgsql_rows(edata->context) ||
		!bh_rows_of_function(taken->caller.frame))
		return NULL;
	return taken;
}
