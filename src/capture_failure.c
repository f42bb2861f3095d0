/*-------------------------------------------------------------------------
 *
 * capture_failure.c
 *		Failed access: every FAILURE event is built here, whether the
 *		executor, the planner, an EXECUTE, parse analysis or a Bind failed.
 *
 * The executor's hooks (capture_read.c) run a statement on a tagged table
 * under PG_TRY and hand its prepared events, one per tagged table it names,
 * to bh_record_statement_failure().  Planning a query that names a tagged
 * table (one event per tagged table it names), and an EXECUTE of a prepared
 * statement on one (its parameters may not convert; likewise), run under
 * PG_TRY in capture_read.c's hooks, which call bh_record_caught_failure().
 * A client's statement with parameters that names a tagged table is noted
 * after parse analysis with its tagged tables (bh_param_stmt_note,
 * statement_names.c), so that a Bind that fails on a parameter is
 * recognised by its text, and recorded on each.  A statement that fails
 * in parse analysis (WHERE id = 'abc') has no query tree and passes none
 * of those hooks: it
 * is seen as its error is raised, by the error watch, an error context
 * callback that each session keeps at the bottom of its error context stack
 * (error_watch.c, bh_error_watch_install); what it notes is decided here
 * (bh_failure_report_seen).  PostgreSQL calls every callback on that stack
 * for every error it raises, before anything can catch it, whatever the
 * server log keeps: so an error that a PL/pgSQL exception block catches is
 * seen too.  The watch may not read the catalog, nor wait for a lock (a
 * cancel or a timeout arriving meanwhile would replace the error raised),
 * but in one case: to tell a refusal of the queue's sequence
 * (bh_sequence_refusal_judge) where that sequence's relcache entry was
 * flushed, it builds the entry again, only where the locks of the
 * catalogs the build reads are granted at once (bh_open_now); it notes the code, the
 * safe message and the tagged tables (from the tag cache as last
 * loaded) that this transaction holds a lock on (or, for a statement
 * cancelled or deadlocked while it waited for a lock, that it may have
 * waited for) and that the statement's text names (query_text.c; a name
 * without its schema through the search_path in force, statement_names.c:
 * bh_pending_names), or reaches through a view it names or, before its
 * executor, through an untagged partitioned table it names,
 * and the role it is raised as (BhNotedRole); for an error raised as a
 * SQL function's body is prepared ("SQL function ... during startup" or
 * "during inlining"), the tables that its analysis for this start found
 * (bh_body), or, for a body no analysis shows (BEGIN ATOMIC) refused by
 * row-level security, the tagged table of that name; for a cancel of
 * the wait for a table's lock in the analysis of such a body or of a
 * PL/pgSQL statement, those its statement names, the text read from the
 * parser's state (bh_cancelled_statement); the abort callback of the
 * (sub)transaction then records one FAILURE per table, naming that role,
 * unless one of the paths above recorded the error meanwhile (the
 * executor's or the planning's of a statement whose function's statement
 * failed in its parse analysis records that note's other tables with its
 * own; an error
 * raised while a function's statement on a tagged table is planned or
 * executed is left to those paths: noted for it, it would be recorded also
 * when a handler deeper inside catches it and the statement goes on).  A
 * refusal ("permission denied for table ...") is a denial of the tagged
 * table it refuses, as judged before it was raised (capture_denial.c,
 * bh_refusal_expect), whatever the statement; otherwise by its name.  So
 * is one of another relation of the trail judged before it (LOCK, GRANT,
 * ...; of the queue's sequence, by nextval() and the like: judged as it
 * is raised, bh_sequence_refusal_judge), and one by its name that the
 * statement names in bh_audit (bh_trail_rel_named: a COPY ... FROM into
 * the queue); nothing else of those relations is recorded here.  So
 * is a refusal by row-level security (a new row failing a policy, a query
 * a policy would affect under row_security = off), which no check made
 * beforehand can foresee: by the table its message names
 * (bh_refused_table), on every path, if that table has row-level security
 * enabled (bh_refusable_name).
 *
 * Every message is the primary one made safe (bh_safe_message,
 * failure_message.c: quoted and bare values emptied, a function's own text
 * dropped), then sanitised when the event is built: never the DETAIL,
 * never the query.  An error's context is read by error_context.c (a
 * function's frame in it, bh_in_function; the texts of the statements a
 * function ran through SPI, bh_context_statement_next; its innermost
 * line); which of those statements the error is the failure of, and on
 * which tables, is decided here (bh_pending_context_statements).  An
 * error PL/pgSQL raises as it takes the rows SPI returned it of a
 * statement on a tagged table (SELECT ... INTO STRICT of two rows) is that
 * statement's, known by those very rows (capture_failure_spi.c).
 * The events go to the ring (autonomous), like those of capture_read.c.
 *
 * Rows an error shows.  An exclusion constraint's error shows the stored
 * row the new one conflicts with, which PostgreSQL fetched itself with an
 * index scan of its own; a unique or exclusion constraint checked again
 * by its trigger (deferred: at COMMIT, SET CONSTRAINTS, a statement's
 * end) shows a row the transaction wrote, with the values it kept from
 * the stored row; a unique index build (CREATE UNIQUE INDEX, ADD UNIQUE or
 * PRIMARY KEY, REINDEX) shows the duplicated stored key.  No wrapped scan
 * produced those rows: the error watch notes the tagged table that the
 * error names (its table field, looked up in the tag cache), and one READ
 * of it without a patient (whose row it was is not known) is recorded,
 * metadata.shown_in_error naming the condition (bh_shown): from the first
 * PG_CATCH of the executor or utility hooks the error reaches, or else
 * from the abort of the (sub)transaction.  An immediate unique violation
 * shows the key of the row being written: the row a scan was evaluating
 * is read already, and an INSERT's own values are no read.  It is told
 * from a check by the constraint's trigger by the trigger depth: such a
 * trigger runs one deeper than the innermost statement that fires it
 * (bh_failure_statement_enter()).
 *
 * exit_on_error.  With exit_on_error on (a user's setting: SET, PGOPTIONS,
 * ALTER ROLE or DATABASE ... SET), PostgreSQL raises every ERROR as FATAL:
 * the process ends from errfinish(), and no PG_CATCH runs.  The error
 * watch sees such an error as the ERROR it would have been (told from a
 * FATAL error of PostgreSQL's own that ends the session, which is no
 * failed statement: bh_error_promoted()), notes it as one, and keeps a
 * copy of it.  What the PG_CATCH blocks of the hooks record (the rows the
 * failing statement's scans were evaluating, its FAILURE, the rows an
 * error showed) is kept by each PG_TRY as a frame (BhFailFrame) while it
 * runs; a callback run at the process's exit before PostgreSQL aborts
 * the transaction (before_shmem_exit, registered after ShutdownPostgres)
 * records what each frame's PG_CATCH would have, innermost first, from the
 * copy, while the statements' executor states are still there; the abort
 * callbacks then record the failure the watch noted and flush the read
 * sets, as after an ERROR.  Nothing catches such an error: one raised in
 * a function is the statement's failure.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/nodes.h"
#include "parser/parse_node.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "utils/elog.h"
#include "utils/fmgrprotos.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/timeout.h"

#include "bh_audit.h"
#include "capture.h"
#include "event.h"
#include "query_text.h"
#include "ring.h"
#include "statement_names.h"
#include "tags.h"

/*
 * The role an error was raised as, noted by the error watch: the events
 * recorded from the abort callbacks name it (metadata.db_role), although
 * the abort restores the role the transaction started with before them
 * (a SET LOCAL ROLE is undone, a SECURITY DEFINER function left).
 */
typedef struct BhNotedRole
{
	bool		known;
	char		name[NAMEDATALEN];	/* "" the login */
} BhNotedRole;

static void
bh_note_role_of(BhNotedRole *noted, Oid roleid)
{
	const char *role = bh_role_known(roleid);

	noted->known = (role != NULL);
	if (role != NULL)
		strlcpy(noted->name, role, sizeof(noted->name));
}

static void
bh_note_role(BhNotedRole *noted)
{
	bh_note_role_of(noted, GetUserId());
}

/* The role noted, for BhEvent.db_role (NULL: the current one). */
static const char *
bh_noted_role(const BhNotedRole *noted)
{
	return noted->known ? noted->name : NULL;
}

/* How an error refuses the table its message names (bh_refused_table). */
typedef enum BhRefusedBy
{
	BH_REFUSED_NONE,
	BH_REFUSED_PRIVILEGE,		/* "permission denied for table" */
	BH_REFUSED_ROW_SECURITY		/* a policy */
} BhRefusedBy;

/*
 * A failure seen by the error watch, waiting for the abort callbacks
 * (static storage: the abort path may not allocate much).
 */
#define BH_PENDING_MESSAGE		512
static struct
{
	bool		active;
	bool		in_function;	/* the client's statement's, raised in a
								 * function */
	bool		at_commit;		/* raised while committing (deferred triggers) */
	bool		inner;			/* a function's statement's, failing in its
								 * parse analysis (the error's internal query) */
	int			sqlerrcode;
	const char *action;
	int			ntables;
	Oid			tables[BH_FAILURE_TABLES];	/* the relation locked and named */
	Oid			tagged[BH_FAILURE_TABLES];	/* the table carrying its tag */
	const char *actions[BH_FAILURE_TABLES]; /* the table's own, or NULL:
											 * action */
	char		message[BH_PENDING_MESSAGE];
	char		refused[NAMEDATALEN];	/* the table its message refuses, or
										 * "" */
	BhRefusedBy refused_by;		/* how */
	bool		refusal_known;	/* a refusal judged before it was raised */
	Oid			refused_tagged; /* ... of this tagged table (or the ledger),
								 * or none */
	BhContextMark raised_at;	/* ... raised under this innermost frame */
	BhNotedRole role;			/* the role it was raised as */

	/*
	 * A function's COPY ... FROM whose failure it is, raised while that COPY
	 * read its rows (in a trigger of it): noted, not active, until the error
	 * leaves that COPY (bh_failure_copy_from_failed); a handler inside it
	 * that catches the error forgets it.  NULL: none.
	 */
	const BhReadUtility *awaited_copy;
}			bh_pending;

/*
 * The statement of a PL/pgSQL function on tagged tables whose rows
 * PL/pgSQL was taking into its variables as the error being raised was
 * raised under a frame of code it called for that (a domain check's
 * function: capture_failure_spi.c bh_rows_taking_under), noted by the
 * error watch apart from bh_pending, which notes the error for the
 * statement it is raised in (the called function's own statement, the
 * client's).  Its READ FAILURE (each table with its action) if the error
 * leaves the statement: an abort rolling back the subtransaction its rows
 * were returned in or one begun before (bh_failure_subxact_abort,
 * bh_failure_xact_end), or the executor of a statement that called its
 * function catching the error (its frame gone from the stack:
 * bh_record_statement_failure, which records that statement's tables).
 * Where PL/pgSQL releases the rows first, a handler in the code it called
 * caught the error and the statement went on (bh_failure_rows_released).
 * A new error forgets it, a FATAL one too (bh_note_taking).  Its events
 * name the role the statement ran as.
 */
static struct
{
	bool		active;
	const BhRowsTaken *rows;	/* the rows, while they are held */
	BhRowsTaken statement;		/* a copy of their record: the frame of the
								 * function taking them, the level they were
								 * returned at, the tables */
	int			sqlerrcode;
	char		message[BH_PENDING_MESSAGE];
	BhNotedRole role;			/* the role the statement ran as */
}			bh_taking;

/*
 * The statements started so far in this session (executor and utility
 * statements), and the refusal that PostgreSQL's privilege check in the
 * latest of them will raise, as judged just before it (capture_denial.c,
 * bh_refusal_expect): the relation refused (and the tagged table it
 * belongs to, or the ledger; InvalidOid: neither), the format and the
 * name of PostgreSQL's message, and the action a denial is recorded with.
 * "permission denied for table notes" names no schema: this is how the
 * error watch tells which "notes" was refused, as long as no other
 * statement has started since.
 */
static uint64 bh_stmt_serial = 0;
static struct
{
	uint64		serial;			/* 0: none */
	Oid			relid;
	Oid			tagged;
	const char *action;
	const char *format;
	char		relname[NAMEDATALEN];
}			bh_refusal;

/*
 * The tagged tables this transaction wrote (write capture's triggers), each
 * with the action of its first write and the subtransaction level that made
 * it: an error raised at COMMIT (a deferred constraint, a serialization
 * failure) undoes those writes and names no table, so it is recorded as a
 * failure on each of them.
 */
static struct
{
	Oid			relid;
	Oid			tagged;
	int			level;
	const char *action;
}			bh_written[BH_FAILURE_TABLES];
static int	bh_written_n = 0;

/* The error being raised has its event already (executor path, denial). */
bool		bh_failure_recorded = false;

/*
 * An error that showed stored rows of a tagged table that no wrapped scan
 * produced (see the header): noted by the error watch, recorded as a READ
 * without a patient by the abort of the (sub)transaction, forgotten at a
 * commit and as a statement goes on.
 */
static struct
{
	bool		active;
	Oid			relid;			/* the relation the error names */
	int			sqlerrcode;
	BhNotedRole role;			/* the role it was raised as */
}			bh_shown;

/*
 * PostgreSQL's trigger depth (pg_trigger_depth()) as the innermost
 * statement running started: an executor's run or finish, a utility
 * statement; 0 outside any.  A constraint's trigger that the statement
 * fires runs one deeper.
 */
static int	bh_statement_trigger_depth = 0;

/*
 * The innermost statement running builds an index (CREATE INDEX, REINDEX):
 * a duplicate key it meets (CREATE ... CONCURRENTLY's validation raises it
 * as a write's would) is a stored row's, shown.
 */
static bool bh_statement_builds_index = false;

/*
 * PostgreSQL's trigger depth as the outermost planning running began; -1
 * when none runs.  The planner runs with no portal, and a function it
 * folds may write and fire triggers: planning begun at depth 0 is the
 * statement's own, never the commit's (whose deferred triggers may plan
 * in turn, beginning deeper).
 */
static int	bh_planning_trigger_depth = -1;

/*
 * The pending failure, rolled back by an exception block in the function
 * that raised it: PostgreSQL rolls the block's subtransaction back before
 * it looks for a matching handler, and one that does not match throws the
 * same error on without raising it again.  Kept until the statement goes
 * on (the client's statement starts, not one a function runs:
 * bh_failure_statement_starts()), another error is raised, or the
 * transaction ends; recorded if the transaction, or the client's savepoint
 * by the error's recovery, aborts with no other error raised since, unless
 * a PG_CATCH of the statement (its executor's, its planning's) recorded it
 * on the way (bh_failure_xact_end, bh_failure_subxact_abort).
 */
static bool bh_pending_stashed = false;

static MemoryContext bh_abort_cxt = NULL;

/*
 * The PG_TRY blocks of the hooks that run now, innermost first (see
 * BhFailFrame), and the error that exit_on_error raised as FATAL, copied
 * by the error watch for the exit callback (NULL: none).
 */
static BhFailFrame *bh_fail_frames = NULL;
static ErrorData *bh_exit_error = NULL;
static bool bh_exit_callback_registered = false;

/*
 * The client's statement that runs now, when its message may hold several
 * ("...; ...": psql -c, a script sent as one string, one implicit
 * transaction): where parse analysis found it in debug_query_string, and
 * whether it has finished.  An error raised before the executor is the
 * failure of the statement it is raised in, not of the statements before
 * it in the string (bh_failing_statement()).
 */
static struct
{
	const char *query;			/* the debug_query_string it is in; NULL: none */
	TimestampTz message;		/* statement_timestamp(): set once per message */
	int			location;		/* stmt_location */
	int			len;			/* stmt_len; 0: to the end of the string */
	bool		finished;
}			bh_client_stmt;

/*
 * The tagged tables (each with its action; NULL: read) that the latest
 * statement of a function analysed outside planning names: the statement
 * of a SQL function that PostgreSQL analyses and rewrites as the function
 * starts (it is not inlined), whose error then (a refusal by row-level
 * security as it is rewritten) names in its context the function only,
 * "SQL function ... during startup".  A body the planner inlines notes no
 * tables here (the planning records its own, capture_read.c), only that it
 * was analysed.  Kept with the innermost error context frame it was
 * analysed under (the watch aside): they are the failing body's only while
 * that frame is still the innermost one, the same function still starting
 * or being inlined; a statement analysed and never run (CREATE FUNCTION's
 * check of a body, PREPARE) leaves them under a frame no function's start
 * has.  Forgotten as any statement starts and as any planning starts (the
 * body's analysis and rewriting are over by then).
 */
static struct
{
	int			ntables;
	Oid			tables[BH_FAILURE_TABLES];
	Oid			tagged[BH_FAILURE_TABLES];
	const char *actions[BH_FAILURE_TABLES];
	BhContextMark frame;		/* frame NULL: none analysed */
}			bh_body;

#include "sqlstate_names.h"

/*
 * The condition name of a SQLSTATE ("division_by_zero").  A code
 * PostgreSQL does not name is a user's (RAISE ... USING ERRCODE), which
 * may come from anywhere, a column's value too: never the code itself,
 * but the name of its class when PostgreSQL names the class
 * ("plpgsql_error" for P0X01), else "user_defined_error".
 */
const char *
bh_sqlstate_name(int sqlerrcode)
{
	int			class_code = ERRCODE_TO_CATEGORY(sqlerrcode);
	const char *class_name = NULL;
	int			i;

	for (i = 0; i < lengthof(bh_sqlstate_names); i++)
	{
		if (bh_sqlstate_names[i].code == sqlerrcode)
			return bh_sqlstate_names[i].name;
		if (bh_sqlstate_names[i].code == class_code)
			class_name = bh_sqlstate_names[i].name;
	}
	return class_name ? class_name : "user_defined_error";
}

/*
 * Does this transaction hold a lock on the relation in a mode from
 * AccessShareLock up to strongest? (no catalog access; one look-up in the
 * local lock table per mode, the weakest first)
 */
bool
bh_locked_by_me_upto(Oid relid, LOCKMODE strongest)
{
	LOCKTAG		tag;
	LOCKMODE	mode;

	SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
	for (mode = AccessShareLock; mode <= strongest; mode++)
		if (LockHeldByMe(&tag, mode))
			return true;
	return false;
}

/* Does this transaction hold any lock on the relation, in any mode? */
bool
bh_locked_by_me(Oid relid)
{
	return bh_locked_by_me_upto(relid, AccessExclusiveLock);
}

/*
 * Add a relation (tagged itself or through tagged, or the ledger, which is
 * its own) to the pending failure's tables, unless tagged is there already
 * (a partition and its table: one event) or the list is full.  With an
 * action, the table gets it, unless it is READ and the table has another
 * already (a statement's target that it also reads gets the command's).
 */
static void
bh_pending_add(Oid relid, Oid tagged, const char *action)
{
	int			n = bh_pending.ntables;
	int			k = bh_failure_tables_add(bh_pending.tables, bh_pending.tagged,
										  &bh_pending.ntables, relid, tagged);

	if (k == n)
		bh_pending.actions[n] = NULL;
	if (k >= 0 && action != NULL &&
		(bh_pending.actions[k] == NULL || strcmp(action, "READ") != 0))
		bh_pending.actions[k] = action;
}

/*
 * When the backend's latest lock wait started: PostgreSQL starts the
 * deadlock check's timer as it begins to wait for a lock, every time (not
 * on a hot standby, where nothing is captured), and keeps its start time
 * (MyProc->waitStart, shown by pg_locks, is cleared as the wait ends).
 */
static TimestampTz
bh_lock_wait_start(void)
{
	return get_timeout_start_time(DEADLOCK_TIMEOUT);
}

/*
 * The start of the latest failed lock wait that an error has been seen
 * ending, noted by the error watch (bh_wait_end_seen); 0: none.
 */
static TimestampTz bh_wait_ended = 0;

/*
 * Did the backend's latest lock wait fail, in a mode for reading or
 * writing a table's rows (see bh_lock_wait_failed), and is this error
 * (its code sqlerrcode) its end?  A lock_timeout or a deadlock is raised
 * as the wait fails.  A cancel (statement_timeout, a cancel request) may
 * come at any time, PROC_WAIT_STATUS_ERROR left from an earlier wait: it
 * ends a wait that started in this statement (after the statement's
 * start) and that no error was seen ending before.
 */
static bool
bh_row_lock_wait_failed(int sqlerrcode)
{
	TimestampTz start;

	if (MyProc == NULL || MyProc->waitStatus != PROC_WAIT_STATUS_ERROR ||
		MyProc->waitLockMode > RowExclusiveLock)
		return false;
	if (sqlerrcode != ERRCODE_QUERY_CANCELED)
		return true;
	start = bh_lock_wait_start();
	return start != 0 && start != bh_wait_ended &&
		start >= GetCurrentStatementStartTimestamp();
}

/*
 * An error (or another report) has been seen: the failed wait it ends, if
 * the latest wait failed, is over (a wait's failure raises one error).
 */
static void
bh_wait_end_seen(void)
{
	if (MyProc != NULL && MyProc->waitStatus == PROC_WAIT_STATUS_ERROR)
		bh_wait_ended = bh_lock_wait_start();
}

/*
 * Is this error the end of a wait for a lock on a table: a lock_timeout, a
 * deadlock, or a cancel (statement_timeout, a cancel request) before any
 * portal runs (in parse analysis, or as a prepared statement's plan takes
 * its locks; a cancel while a portal runs is the executor's to record,
 * unless it ends the parse analysis of a function's statement:
 * bh_cancelled_statement)?
 * Such a statement holds no lock on the table it waited for.  PostgreSQL
 * takes the backend out of the wait queue before it raises the error, and
 * leaves the outcome (PROC_WAIT_STATUS_ERROR) and the mode in its PGPROC
 * until its next wait: a cancel counts for a wait of its own only
 * (bh_row_lock_wait_failed).  Waits in modes above RowExclusiveLock are
 * not for reading or writing a table's rows: DDL, or another
 * transaction's row lock.
 */
static bool
bh_lock_wait_failed(int sqlerrcode)
{
	if (!bh_row_lock_wait_failed(sqlerrcode))
		return false;
	if (sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE || sqlerrcode == ERRCODE_T_R_DEADLOCK_DETECTED)
		return true;
	return sqlerrcode == ERRCODE_QUERY_CANCELED && ActivePortal == NULL;
}

/*
 * The refusals whose message names the table they refuse (its own name,
 * without its schema), in the format's last conversion: PostgreSQL's
 * privilege check, and row-level security's — a new row that fails a
 * policy's WITH CHECK (or its USING, where that stands for it), the row an
 * INSERT ... ON CONFLICT DO UPDATE or a MERGE would change that fails an
 * UPDATE or DELETE policy's USING, and a query that a policy would affect
 * while row_security is off (SELECT, COPY ... TO).  Of two conversions,
 * the first is a policy's name.  (How an error refuses: BhRefusedBy.)
 */
static const char *const bh_refusal_formats[] = {
	"permission denied for table %s",
	"new row violates row-level security policy for table \"%s\"",
	"new row violates row-level security policy \"%s\" for table \"%s\"",
	"new row violates row-level security policy (USING expression) for table \"%s\"",
	"new row violates row-level security policy \"%s\" (USING expression) for table \"%s\"",
	"target row violates row-level security policy (USING expression) for table \"%s\"",
	"target row violates row-level security policy \"%s\" (USING expression) for table \"%s\"",
	"query would be affected by row-level security policy for table \"%s\"",
};

/*
 * The name of the table that an error refuses by name, into name
 * (NAMEDATALEN bytes; "" for none: another error); returns how it refuses
 * it.  The name is what the format's last conversion printed, the message
 * aligned with the format, or with its translation where lc_messages
 * translated it (bh_message_arg); after a policy's name, the shortest
 * text that can be the table's (a table's name holding the text between
 * them is taken for less).  Allocates nothing (the error watch calls it).
 */
static BhRefusedBy
bh_refused_table(const ErrorData *edata, char *name)
{
	int			i;

	name[0] = '\0';
	if (edata->sqlerrcode != ERRCODE_INSUFFICIENT_PRIVILEGE || edata->message == NULL ||
		edata->message_id == NULL)
		return BH_REFUSED_NONE;
	for (i = 0; i < lengthof(bh_refusal_formats); i++)
	{
		const char *fmt = bh_refusal_formats[i];
		int			start;
		int			end;

		if (strcmp(edata->message_id, fmt) != 0)
			continue;
		/* the table's is the last of its one or two conversions */
		if (!bh_message_arg(edata->message, strlen(edata->message), fmt, edata->domain,
							strstr(strstr(fmt, "%s") + 2, "%s") ? 2 : 1, &start, &end) ||
			end <= start || end - start >= NAMEDATALEN)
			return BH_REFUSED_NONE;
		memcpy(name, edata->message + start, end - start);
		name[end - start] = '\0';
		return i == 0 ? BH_REFUSED_PRIVILEGE : BH_REFUSED_ROW_SECURITY;
	}
	return BH_REFUSED_NONE;
}

/* Memory for events built on error and abort paths, reset after each. */
static MemoryContext
bh_abort_context(void)
{
	if (bh_abort_cxt == NULL)
		bh_abort_cxt = AllocSetContextCreate(TopMemoryContext, "bh_audit abort",
											 ALLOCSET_SMALL_SIZES);
	return bh_abort_cxt;
}

/*
 * Every FAILURE event is completed and pushed here: base is the event of
 * the statement's table (bh_event_for_tag()), message the error's primary
 * message made safe (bh_safe_message).  Nothing here reads the catalog,
 * and the event is pushed without validation, as error and abort paths
 * require.  Once built, the event is the error's record before it is
 * handed to the ring: the error watch's note of the error is cleared and
 * the error is marked as recorded first, so that whatever happens in the
 * push (a wait for room ended by a cancel or terminate request, the event
 * dropped and counted) no abort pushes the same failure again.  It waits
 * for room within the budget of the statement's failure (ring.c), not the
 * one the statement's reads may have spent; a failing statement's READ
 * events, pushed just before it (capture_read.c), wait within that one
 * too.
 */
/* How a failure's refusal is told to be of the table whose event it is. */
typedef enum BhRefusal
{
	BH_REFUSAL_BY_NAME,			/* not judged before: the message names it */
	BH_REFUSAL_THIS,			/* judged before: this table was refused */
	BH_REFUSAL_OTHER			/* judged before: another relation was */
} BhRefusal;

static void
bh_push_failure(BhEvent *ev, int sqlerrcode, const char *message, const char *relname,
				const char *refused, BhRefusal refusal)
{
	Jsonb	   *event;

	/*
	 * A refusal of this very table (relname, its own name) is a denial,
	 * wherever PostgreSQL raised it, for lack of privileges or by row-level
	 * security; one of another object (a sequence, a function, another table,
	 * also one of the same name in another schema) is a failure of the
	 * statement.  The message names no schema: where the refusal was judged
	 * before PostgreSQL raised it, that judgement tells; otherwise the table
	 * the message names (refused: bh_refused_table()).
	 */
	if (sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE && relname != NULL &&
		(refusal == BH_REFUSAL_THIS ||
		 (refusal == BH_REFUSAL_BY_NAME && refused != NULL &&
		  strcmp(refused, relname) == 0)))
	{
		ev->outcome = "DENIED";
		ev->error_type = "PermissionDenied";
	}
	else
	{
		ev->outcome = "FAILURE";
		ev->error_type = bh_sqlstate_name(sqlerrcode);
	}
	ev->phi_touched = 0;
	ev->error_message = message;
	event = bh_event_build(ev, NULL);
	bh_pending.active = false;	/* the error watch's note of this error */
	bh_failure_recorded = true;
	(void) bh_ring_push_jsonb_failure(event);
}

/*
 * The name by which a refusal of a tagged relation (tag; NULL: the ledger)
 * is told, for bh_push_failure(): its own name, or NULL where the refusal
 * (refused_by) cannot be its.  Row-level security refuses only a table
 * that has it enabled: a policy's refusal of another table of the same
 * name (in another schema: the message names none) is no refusal of a
 * tagged table without it.  The tag keeps that flag, so that the abort
 * needs no catalog.  (The ledger is told by its name alone.)
 */
static const char *
bh_refusable_name(const BhTag *tag, BhRefusedBy refused_by)
{
	if (tag == NULL)
		return "events";
	if (refused_by == BH_REFUSED_ROW_SECURITY && !tag->rowsecurity)
		return NULL;
	return tag->relname;
}

/*
 * A FAILURE on a tagged table (or the ledger), from the tag cache, of the
 * role named (NULL: the current one); refused is the table the error's
 * message refuses, or NULL, refused_by how (see bh_push_failure()).
 * Built in bh_abort_context(), which the caller resets.
 */
static void
bh_record_failure_on(Oid relid, const char *action, int sqlerrcode, const char *message,
					 const char *refused, BhRefusedBy refused_by, BhRefusal refusal,
					 const char *role)
{
	const BhTag *tag = bh_tag_cached(relid);
	bool		trail = (tag == NULL && OidIsValid(relid) && relid != bh_events_relid_known());
	const char *relname;
	MemoryContext old;
	BhEvent		ev;

	if (tag == NULL && !OidIsValid(relid))
		return;					/* the cache is gone */

	/*
	 * Of the trail's other relations (bh_trail_rel), only a refusal: one
	 * judged before it was raised (LOCK, a LIKE's source, a foreign key,
	 * CREATE TRIGGER, GRANT, REVOKE: capture_denial.c; the queue's sequence:
	 * bh_sequence_refusal_judge), or one by its name (a COPY ... FROM);
	 * capture_read.c's checks record the others before the error. Otherwise
	 * untagged meanwhile.
	 */
	if (trail && (sqlerrcode != ERRCODE_INSUFFICIENT_PRIVILEGE ||
				  (refusal != BH_REFUSAL_THIS &&
				   (refused_by != BH_REFUSED_PRIVILEGE || refusal != BH_REFUSAL_BY_NAME))))
		return;
	if (!bh_session_user_known())
		return;					/* warmed at the statement's first name lookup */
	old = MemoryContextSwitchTo(bh_abort_context());
	if (!trail)
	{
		bh_event_for_tag(&ev, action, tag);
		relname = bh_refusable_name(tag, refused_by);
	}
	else if ((relname = bh_event_for_trail_rel(&ev, action, relid)) == NULL ||
			 (refusal != BH_REFUSAL_THIS &&
			  (refused == NULL || strcmp(refused, relname) != 0)))
	{
		MemoryContextSwitchTo(old);
		return;
	}
	ev.db_role = role;
	bh_push_failure(&ev, sqlerrcode, message, relname, refused, refusal);
	MemoryContextSwitchTo(old);
}

/* PostgreSQL's trigger depth now (reads a variable; allocates nothing). */
static int
bh_trigger_depth(void)
{
	LOCAL_FCINFO(fcinfo, 0);

	InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
	return DatumGetInt32(pg_trigger_depth(fcinfo));
}

/*
 * A statement starts running (an executor's run or finish, a utility
 * statement; builds_index: CREATE INDEX, REINDEX): returns what
 * bh_failure_statement_leave() restores as it ends, whether it succeeds
 * or fails (the depth, and the flag in its lowest bit).
 */
int
bh_failure_statement_enter(bool builds_index)
{
	int			saved = bh_statement_trigger_depth * 2 + (bh_statement_builds_index ? 1 : 0);

	bh_statement_trigger_depth = bh_trigger_depth();
	bh_statement_builds_index = builds_index;
	return saved;
}

void
bh_failure_statement_leave(int saved)
{
	bh_statement_trigger_depth = saved / 2;
	bh_statement_builds_index = (saved % 2) != 0;
}

/*
 * Planning starts: returns what bh_failure_planning_leave() restores as it
 * ends, whether it succeeds or fails.
 */
int
bh_failure_planning_enter(void)
{
	int			saved = bh_planning_trigger_depth;

	/* a function's statements are analysed and rewritten before they plan */
	bh_body.ntables = 0;
	bh_body.frame.frame = NULL;
	if (saved < 0)
		bh_planning_trigger_depth = bh_trigger_depth();
	return saved;
}

void
bh_failure_planning_leave(int saved)
{
	bh_planning_trigger_depth = saved;
}

/* Might an error of this code show stored rows no scan produced? */
static inline bool
bh_shows_rows_code(int sqlerrcode)
{
	return sqlerrcode == ERRCODE_EXCLUSION_VIOLATION || sqlerrcode == ERRCODE_UNIQUE_VIOLATION;
}

/*
 * Note an error (of bh_shows_rows_code) that shows stored rows of a tagged
 * table that no wrapped scan produced, if it is one (see the header).
 * PostgreSQL names the table in the error (errtableconstraint(): the
 * relation itself, a partition's own name); a message that is nothing but
 * a conversion is a function's own (RAISE ... USING TABLE), no
 * constraint's.  Reads no catalog; allocates nothing.
 */
static void
bh_note_shown(const ErrorData *edata)
{
	const BhTag *tag;

	if (edata->table_name == NULL || edata->schema_name == NULL ||
		(edata->message_id != NULL && bh_format_is_only_specs(edata->message_id)))
		return;
	/* an immediate check, not called by a trigger of the innermost statement */
	if (edata->sqlerrcode == ERRCODE_UNIQUE_VIOLATION && edata->message_id != NULL &&
		strcmp(edata->message_id, "duplicate key value violates unique constraint \"%s\"") == 0 &&
		bh_trigger_depth() <= bh_statement_trigger_depth && !bh_statement_builds_index)
		return;
	for (tag = bh_tags_cached_named(edata->table_name); tag != NULL; tag = tag->same_name)
		if (strcmp(tag->schema_name, edata->schema_name) == 0)
			break;
	if (tag == NULL || !tag->capture_reads)
		return;
	bh_shown.active = true;
	bh_shown.relid = tag->relid;
	bh_shown.sqlerrcode = edata->sqlerrcode;
	bh_note_role(&bh_shown.role);
}

/*
 * Record the rows an error showed (bh_shown): one READ of the tagged table,
 * without a patient, through the ring, of the role the error was raised
 * as.  From the first PG_CATCH of the executor or utility hooks that the
 * error reaches, else from the abort callback of the (sub)transaction.
 */
void
bh_record_shown(void)
{
	const BhTag *tag;
	MemoryContext old;
	BhEvent		ev;

	if (!bh_shown.active)
		return;
	bh_shown.active = false;
	tag = bh_tag_cached(bh_shown.relid);
	if (tag == NULL || !tag->capture_reads || !bh_session_user_known())
		return;
	old = MemoryContextSwitchTo(bh_abort_context());
	bh_event_for_tag(&ev, "READ", tag);
	ev.db_role = bh_noted_role(&bh_shown.role);
	ev.phi_touched = 1;
	bh_event_meta_string(&ev, "shown_in_error", bh_sqlstate_name(bh_shown.sqlerrcode));
	bh_push(&ev, true);
	MemoryContextSwitchTo(old);
	MemoryContextReset(bh_abort_cxt);
}

/*
 * The error being handled (in PG_CATCH, or at the exit after an error
 * exit_on_error raised as FATAL): its code, its message with
 * bh_safe_message(), in bh_abort_context() (ErrorContext may be
 * current here; the caller resets that context), and the table it refuses
 * by name into refused (NAMEDATALEN bytes), *refused_by saying how.
 */
static int
bh_current_error(char **message, char *refused, BhRefusedBy *refused_by)
{
	MemoryContext old = MemoryContextSwitchTo(bh_abort_context());
	ErrorData  *edata = bh_exit_error ? bh_exit_error : CopyErrorData();

	*message = bh_failure_message(edata);
	*refused_by = bh_refused_table(edata, refused);
	MemoryContextSwitchTo(old);
	return edata->sqlerrcode;
}

/*
 * In a PG_CATCH, before anything is recorded: release the LWLocks that the
 * error left held.  PostgreSQL releases them when the (sub)transaction
 * aborts, first thing; an error raised in predicate locking (a
 * serialization failure) leaves a lock of the predicate lock manager held
 * until then.  Recording may wait for room in the ring, and to make room
 * the sealer may need that very lock: a page split of the ledger's
 * indexes moves predicate locks while any SERIALIZABLE transaction runs.
 * Nothing between here and the abort needs the locks.
 */
void
bh_release_error_locks(void)
{
	LWLockReleaseAll();
}

/*
 * From a PG_CATCH: if the error is PostgreSQL's refusal (aclcheck_error)
 * made from format (by its code and untranslated format, whatever the
 * language of its message) that capture_denial.c foresaw, and push()
 * records it as a denial (of arg, given the error's message: one of
 * bh_audit's functions that the user may not execute as the executor
 * starts, bh_push_refused_function; the trail's view as a query is
 * planned, bh_push_refused_view), the error as recorded.  Not when it is
 * already (a planning inside that recorded it, a denial recorded before
 * the error).
 */
void
bh_record_refusal(const char *format,
				  bool (*push) (void *arg, const char *message, const char *format),
				  void *arg)
{
	MemoryContext old;
	ErrorData  *edata;

	if (bh_failure_recorded)
		return;
	old = MemoryContextSwitchTo(bh_abort_context());
	edata = bh_exit_error ? bh_exit_error : CopyErrorData();
	if (edata->sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE && edata->message != NULL &&
		edata->message_id != NULL && strcmp(edata->message_id, format) == 0 &&
		push(arg, edata->message, format))
	{
		bh_failure_recorded = true;
		bh_pending.active = false;	/* the error watch's note of this error */
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bh_abort_cxt);
}

/*
 * Record the failure noted by the error watch (bh_pending) on its j-th
 * table, in bh_abort_context(), which the caller resets.
 */
static void
bh_record_pending_on(int j)
{
	bh_record_failure_on(bh_pending.tables[j],
						 bh_pending.actions[j] ? bh_pending.actions[j] : bh_pending.action,
						 bh_pending.sqlerrcode, bh_pending.message, bh_pending.refused,
						 bh_pending.refused_by,
						 !bh_pending.refusal_known ? BH_REFUSAL_BY_NAME :
						 OidIsValid(bh_pending.refused_tagged) &&
						 bh_pending.tagged[j] == bh_pending.refused_tagged ?
						 BH_REFUSAL_THIS : BH_REFUSAL_OTHER,
						 bh_noted_role(&bh_pending.role));
}

/*
 * Record the FAILURE of the statement whose rows PL/pgSQL was taking
 * (bh_taking) on each of its tables but those of skip (n of them, an
 * executor's, which records them itself).  Its executor checked its
 * tables' privileges as it started and has returned its rows: a refusal
 * is another object's (as in bh_record_statement_failure), the refusal
 * of a table of the same name or of its own table to a SECURITY DEFINER
 * function's owner that it called.  A note of its own: the error
 * watch's note of the error (bh_pending) and whether the error is recorded
 * (bh_failure_recorded) stay as they were.
 */
static void
bh_record_taking(const BhTableFailure *skip, int n)
{
	bool		pending_active = bh_pending.active;
	bool		recorded = bh_failure_recorded;
	int			i;
	int			j;

	if (!bh_taking.active)
		return;
	bh_taking.active = false;
	for (j = 0; j < bh_taking.statement.ntables; j++)
	{
		for (i = 0; i < n; i++)
			if (skip[i].relid == bh_taking.statement.tables[j] ||
				skip[i].relid == bh_taking.statement.tagged[j])
				break;
		if (i == n)
			bh_record_failure_on(bh_taking.statement.tables[j], bh_taking.statement.actions[j],
								 bh_taking.sqlerrcode, bh_taking.message, NULL,
								 BH_REFUSED_NONE, BH_REFUSAL_OTHER,
								 bh_noted_role(&bh_taking.role));
	}
	MemoryContextReset(bh_abort_context());
	bh_pending.active = pending_active;
	bh_failure_recorded = recorded;
}

/*
 * PL/pgSQL released rows it held (capture_failure_spi.c): those of the
 * statement noted in bh_taking are taken, the error that PL/pgSQL was
 * taking them under caught under it; the statement went on.
 */
void
bh_failure_rows_released(const BhRowsTaken *taken)
{
	if (bh_taking.rows == taken)
		bh_taking.active = false;
}

/*
 * A function's statement that failed in its parse analysis, noted by the
 * error watch, failed first: its tables are its own failure, which also
 * fails the statement whose failure is being recorded, on n tables (those of
 * failures, or else relids); record each of the note's tables that is not
 * one of them (one of them is recorded once, by the caller).  Both the
 * executor's and the planning's PG_CATCH come here.
 */
static void
bh_record_pending_inner(const BhTableFailure *failures, const Oid *relids,
						int n)
{
	int			i;
	int			j;

	if (!bh_pending.active || !bh_pending.inner || n == 0)
		return;
	for (j = 0; j < bh_pending.ntables; j++)
	{
		for (i = 0; i < n; i++)
		{
			Oid			relid = failures ? failures[i].relid : relids[i];

			if (relid == bh_pending.tables[j] || relid == bh_pending.tagged[j])
				break;
		}
		if (i == n)
			bh_record_pending_on(j);
	}
}

/*
 * The refusal of a tagged table, the ledger or another relation of the
 * trail that the error watch noted the error being for (judged before it
 * was raised, or as it was: bh_pending_refusal), not recorded yet: record
 * its denial, and take it out of the note (the note's other tables, the
 * client's statement's, stay noted).  Returns whether it did.  The denial
 * is recorded wherever the error goes: to the statement's PG_CATCH, or to
 * an exception block that catches it (bh_failure_subxact_abort).
 */
static bool
bh_record_pending_refusal(void)
{
	int			j;

	if (!bh_pending.active || !bh_pending.refusal_known ||
		!OidIsValid(bh_pending.refused_tagged))
		return false;
	for (j = 0; j < bh_pending.ntables; j++)
		if (bh_pending.tagged[j] == bh_pending.refused_tagged)
			break;
	if (j == bh_pending.ntables)
		return false;
	bh_record_pending_on(j);
	MemoryContextReset(bh_abort_context());
	bh_pending.refusal_known = false;
	for (bh_pending.ntables--; j < bh_pending.ntables; j++)
	{
		bh_pending.tables[j] = bh_pending.tables[j + 1];
		bh_pending.tagged[j] = bh_pending.tagged[j + 1];
		bh_pending.actions[j] = bh_pending.actions[j + 1];
	}
	bh_pending.active = bh_pending.ntables > 0;
	return true;
}

/*
 * From the executor's PG_CATCH: record the error as the failure of the
 * statement on each tagged table it names, whose events (failures, n of
 * them) were prepared when it started, so that no catalog access is needed
 * here.  Every executor level records its own statement's failure; the
 * paths outside the executor then know that this error is recorded.  A
 * refusal that the error watch judged (bh_record_pending_refusal) is its
 * relation's denial; raised by the statement's own expressions (a
 * nextval() in its target list or a value it inserts, no function's frame
 * pushed since it started: PG_CATCH gave the error context stack back as
 * it was then), the statement was refused, and that denial is its only
 * event, as for a relation it names; raised in a function it calls, the
 * statement failed too.
 */
void
bh_record_statement_failure(const BhTableFailure *failures, int n)
{
	char	   *message;
	char		refused[NAMEDATALEN];
	BhRefusedBy refused_by;
	int			sqlerrcode;
	MemoryContext old;
	int			i;

	/* a statement that called the function taking rows: it failed too */
	if (bh_taking.active && !bh_context_mark_on_stack(&bh_taking.statement.caller, false))
		bh_record_taking(failures, n);
	bh_record_pending_inner(failures, NULL, n);
	if (bh_record_pending_refusal() &&
		(bh_pending.raised_at.frame == NULL ? bh_error_context_top() == NULL :
		 bh_context_mark_is_top(&bh_pending.raised_at)))
	{
		bh_pending.active = false;	/* the note's other tables: this
									 * statement's */
		bh_failure_recorded = true;
		return;
	}

	/*
	 * Only now: the error's message is made in bh_abort_context(), which
	 * recording the taking statement's failure or the refusal resets (every
	 * FAILURE event would carry freed memory as its message).
	 */
	sqlerrcode = bh_current_error(&message, refused, &refused_by);
	old = MemoryContextSwitchTo(bh_abort_cxt);
	for (i = 0; i < n; i++)
	{
		BhEvent		ev = failures[i].ev;
		const char *relname = NULL;
		BhRefusal	refusal = BH_REFUSAL_OTHER;

		/*
		 * The executor checked the tables' privileges as it started: a
		 * refusal for their lack is another object's.  Row-level security
		 * refuses the rows a statement writes as it writes them: such a
		 * refusal of a table it writes and that has row-level security is
		 * that table's, by the name its message gives (the relation's own
		 * name, from the tag cache).  The refused relation itself is not
		 * known here: the executor's check names it in its message only, and
		 * it may be a table a trigger's or a data-modifying WITH query's
		 * statement writes.
		 */
		if (refused_by == BH_REFUSED_ROW_SECURITY && failures[i].writes)
		{
			const BhTag *tag = bh_tag_cached(failures[i].relid);

			if (tag != NULL || failures[i].relid == bh_events_relid_known())
				relname = bh_refusable_name(tag, refused_by);
			refusal = BH_REFUSAL_BY_NAME;
		}
		bh_push_failure(&ev, sqlerrcode, message, relname, refused, refusal);	/* marks it */
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bh_abort_cxt);
}

/*
 * From PG_CATCH before the executor (planning, an EXECUTE's parameters):
 * record the error as the failure of a statement on each of relids (n of
 * them, each with its action), unless an inner path recorded it already.
 */
void
bh_record_caught_failure(const Oid *relids, const char *const *actions, int n)
{
	char	   *message;
	char		refused[NAMEDATALEN];
	BhRefusedBy refused_by;
	int			sqlerrcode;
	int			i;

	if (bh_failure_recorded || n == 0)
		return;
	bh_record_pending_inner(NULL, relids, n);
	/* raised in a function the planning ran: its denial, and the failure */
	(void) bh_record_pending_refusal();
	/* after that denial, which resets the context the message is made in */
	sqlerrcode = bh_current_error(&message, refused, &refused_by);
	for (i = 0; i < n; i++)
		bh_record_failure_on(relids[i], actions[i], sqlerrcode, message, refused,
							 refused_by, BH_REFUSAL_BY_NAME, NULL);
	MemoryContextReset(bh_abort_cxt);
	/* also when the tables are untagged meanwhile: nothing to record */
	bh_failure_recorded = true;
	bh_pending.active = false;	/* the error watch's note of this error */
}

/*
 * Is the error one of committing the transaction, which names none of the
 * tables whose writes it undoes?  COMMIT, END or PREPARE TRANSACTION; the
 * commit after a statement outside a transaction block (an integrity or
 * serialization error raised when no portal runs, or any error raised in a
 * trigger then: a statement's triggers fire in its portal, so one firing
 * without a portal is a deferred trigger the commit fires, whatever its
 * error; parse analysis fires none, nor a Bind converting parameters; the
 * planner, also a Bind's, runs no portal either, and a function it folds
 * may write and fire triggers, or raise an integrity error: while the
 * statement's own planning runs (begun at trigger depth 0), an error fails
 * that statement, never the commit); a PL/pgSQL procedure's
 * own COMMIT: a line of the context "PL/pgSQL function ... at COMMIT"
 * (raised by the commit itself or by a deferred trigger it fires), unless
 * the COMMIT was refused (invalid transaction termination: in a block with
 * an exception handler, or in a CALL inside a transaction block), which
 * undoes nothing.  (SET CONSTRAINTS ... IMMEDIATE undoes nothing by itself
 * either: after a ROLLBACK TO, the transaction may go on and commit.)
 */
static bool
bh_error_at_commit(const char *sql, const ErrorData *edata)
{
	static const char at_stmt[] = "PL/pgSQL function %s line %d at %s";
	const char *line = edata->context;

	if (bh_sql_is_commit(sql) ||
		(ActivePortal == NULL && bh_planning_trigger_depth != 0 &&
		 (bh_trigger_depth() > 0 ||
		  ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION ||
		  edata->sqlerrcode == ERRCODE_T_R_SERIALIZATION_FAILURE)))
		return true;
	if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_INVALID_TRANSACTION_TERMINATION)
		return false;
	while (line != NULL && *line != '\0')
	{
		const char *eol = strchr(line, '\n');
		size_t		len = eol ? (size_t) (eol - line) : strlen(line);
		int			start;
		int			end;

		/*
		 * "PL/pgSQL function <name> line <n> at COMMIT", in the language of
		 * lc_messages (PL/pgSQL's text domain; the statement's type is never
		 * translated)
		 */
		if (bh_message_arg(line, len, at_stmt, BH_PLPGSQL_DOMAIN, 3, &start, &end) &&
			end - start == 6 && strncmp(line + start, "COMMIT", 6) == 0)
			return true;
		line = eol ? eol + 1 : NULL;
	}
	return false;
}

/*
 * Is the text sql (client: the client's statement; otherwise a function's),
 * failing with this error, a COPY ... FROM that may have routed rows into
 * partitions, one past PostgreSQL's check of the privileges of the table
 * it names?  That check comes before it reads a row: a COPY refused there
 * (its message names the table without its schema, as the text may not)
 * has routed no row, as an INSERT refused by the executor's check has not.
 * A refusal raised while that COPY reads its rows (a trigger or a
 * constraint's function refusing a table of that name, the partitioned
 * table itself, also in a COPY that a trigger runs) is past its check:
 * told by that very COPY reading (capture_read.c, bh_copy_from_reading:
 * the error watch runs while the stack is whole; a frame, not a context
 * line, which lc_messages may translate), not by another COPY of that
 * table reading, whose trigger may run this one; otherwise (its rows'
 * AFTER triggers fire once it has read them all) by the name.  *reading
 * (if reading is not NULL): that COPY, if it reads its rows, else NULL.
 */
static bool
bh_copy_from_routing(const char *sql, const ErrorData *edata, bool client,
					 const BhReadUtility **reading)
{
	const char *pos = sql;
	const char *action = bh_sql_copy_action(sql);
	const BhReadUtility *copy;
	char		schema[NAMEDATALEN];
	char		name[NAMEDATALEN];
	char		refused[NAMEDATALEN];

	if (reading != NULL)
		*reading = NULL;
	if (action == NULL || strcmp(action, "CREATE") != 0)
		return false;
	copy = bh_copy_from_find(sql, client);
	if (copy != NULL && !bh_copy_from_reading(copy))
		copy = NULL;
	if (reading != NULL)
		*reading = copy;
	if (bh_refused_table(edata, refused) != BH_REFUSED_PRIVILEGE || copy != NULL)
		return true;
	/* the name after COPY */
	return !(bh_sql_next_qualified_name(&pos, schema, name, sql, NULL) &&
			 bh_sql_next_qualified_name(&pos, schema, name, sql, NULL) &&
			 strcmp(name, refused) == 0);
}

/*
 * Is the client's text sql a COPY (query) TO whose query fails, with this
 * error, in its parse analysis?  PostgreSQL analyses that query only as
 * the COPY runs, in its portal, and its errors there carry their position
 * in the text.
 */
static bool
bh_copy_to_analysing(const char *sql, const ErrorData *edata)
{
	const char *action = bh_sql_copy_action(sql);

	return edata->cursorpos > 0 && action != NULL && strcmp(action, "EXPORT") == 0;
}

/*
 * Add to the pending failure the tagged tables (and the ledger) that a view
 * reads, or the partitions tagged on their own under an untagged
 * partitioned table; with through, also those the view reaches through
 * such tables; each with action as bh_pending_add gives it.
 */
static void
bh_pending_add_view(const BhTagView *view, bool through, const char *action)
{
	const BhTag *tag;
	int			n = view->ntables - (through ? 0 : view->nthrough);
	int			k;

	for (k = 0; k < n; k++)
		if ((tag = bh_tag_cached(view->tables[k])) != NULL)
			bh_pending_add(tag->relid, tag->tagged_relid, action);
		else if (view->tables[k] == bh_events_relid_known())
			bh_pending_add(view->tables[k], view->tables[k], action);
}

/*
 * Add to the pending failure the tagged tables that sql names, or that a
 * view it names reads, and that this transaction holds a lock on (the
 * view, for a view; with any_lock, after a lock wait, any it names: the
 * one waited for is not held), in the order the text names them; one pass
 * over the text, each name looked up in the tag cache.  A name the text
 * qualifies is only that schema's table or view; an unqualified one is the
 * tagged table or view of that name whose schema comes first in the
 * search_path (bh_name_place), or none when no such schema is in the path:
 * in a session serving one tenant's schema after another's, never the
 * other tenant's table of the same name.  (An untagged relation of that
 * name in a schema earlier in the path, which PostgreSQL finds first, is
 * not known without the catalog.)  Only names equal to only count, if it
 * is given.  With through, a statement that has not reached its executor
 * (or a COPY ... FROM), so do the partitions tagged on their own under an
 * untagged partitioned table it names (locked, as a view) or that a view
 * it names reads; an executor's statement knows the partitions its plan
 * reaches (capture_read.c).  With by_place, each table gets the action
 * of the place of the name it came by, as a new analysis gives it: the
 * command's, for the target of an INSERT, UPDATE, DELETE or MERGE (also a
 * data-modifying WITH query's), else READ; the command's, when one table
 * is both (bh_pending_add).  Returns whether it names the
 * ledger ("events" in bh_audit; the ledger, if locked, is the caller's to
 * add).
 */
static bool
bh_pending_names(const char *sql, bool any_lock, const char *only, bool through,
				 bool by_place)
{
	const char *pos = sql;
	char		schema[NAMEDATALEN];
	char		name[NAMEDATALEN];
	char		before[2][NAMEDATALEN] = {"", ""};	/* the two words before */
	BhSqlPlace	before_place[2] = {BH_SQL_NO_KEYWORD, BH_SQL_NO_KEYWORD};
	BhSqlPlace	word_place;
	bool		names_ledger = false;

	while (bh_pending.ntables < BH_FAILURE_TABLES &&
		   bh_sql_next_qualified_name(&pos, schema, name, sql, &word_place))
	{
		const BhTag *tag;
		const BhTag *named = NULL;
		const BhTagView *view;
		const BhTagView *named_view = NULL;
		const char *action = NULL;
		int			best = -1;
		int			place;
		bool		ledger = false;
		Oid			trail;

		if (by_place)
		{
			action = bh_sql_target_action(before[0], before_place[0],
										  before[1], before_place[1]);
			if (action != NULL && word_place == BH_SQL_WORD && strcmp(name, "only") == 0)
				continue;		/* UPDATE ONLY a: the target comes next */
			strlcpy(before[0], before[1], NAMEDATALEN);
			before_place[0] = before_place[1];
			strlcpy(before[1], name, NAMEDATALEN);
			before_place[1] = word_place;
			if (action == NULL)
				action = "READ";
		}
		if (only != NULL && strcmp(name, only) != 0)
			continue;
		/* the relation the name stands for, of those the cache knows */
		for (tag = bh_tags_cached_named(name); tag != NULL; tag = tag->same_name)
			if ((place = bh_name_place(tag->schema_name, schema)) >= 0 &&
				(best < 0 || place < best))
			{
				best = place;
				named = tag;
			}
		for (view = bh_tag_views_cached_named(name); view != NULL; view = view->same_name)
			if ((place = bh_name_place(view->schema_name, schema)) >= 0 &&
				(best < 0 || place < best))
			{
				best = place;
				named = NULL;
				named_view = view;
			}
		if (strcmp(name, "events") == 0 &&
			(place = bh_name_place("bh_audit", schema)) >= 0 && (best < 0 || place < best))
		{
			named = NULL;
			named_view = NULL;
			ledger = true;
		}

		/*
		 * another relation of the trail: its refusal only
		 * (bh_record_failure_on)
		 */
		else if (OidIsValid(trail = bh_trail_rel_named(name)) &&
				 (place = bh_name_place("bh_audit", schema)) >= 0 && (best < 0 || place < best))
		{
			named = NULL;
			named_view = NULL;
			if (any_lock || bh_locked_by_me(trail))
				bh_pending_add(trail, trail, action);
		}
		names_ledger |= ledger;
		if (named != NULL && (any_lock || bh_locked_by_me(named->relid)))
			bh_pending_add(named->relid, named->tagged_relid, action);
		if (named_view != NULL && (any_lock || bh_locked_by_me(named_view->relid)))
			bh_pending_add_view(named_view, through, action);
	}
	return names_ledger;
}

/*
 * Is the function's statement stmt, the innermost in the error's context
 * that names a tagged table (rest: the context after it), being planned or
 * executed under one of the hooks' PG_TRY blocks (BhFailFrame.query)?
 * Then the error, raised in it (a function it calls, a trigger it fires),
 * is its failure only if it leaves it: its PG_CATCH records it then, and
 * a handler inside that catches it (a "safe cast" function's) leaves no
 * failure.  The statement is that frame's unless the frames of that text
 * are fewer than its lines in the context (a function calling itself: the
 * innermost of that text failed before its executor, in no frame).
 */
static bool
bh_context_statement_caught(const char *stmt, const char *rest)
{
	const BhFailFrame *frame;
	size_t		len = strlen(stmt);
	int			frames = 0;
	int			lines = 1;
	const char *start;
	const char *end;
	bool		statement;
	BhContextScan scan;

	for (frame = bh_fail_frames; frame != NULL; frame = frame->previous)
		if (frame->query != NULL && strcmp(frame->query, stmt) == 0)
			frames++;
	if (frames == 0)
		return false;
	bh_context_scan_init(&scan, rest);
	while ((start = bh_context_statement_next(&scan, rest, &end, &statement)) != NULL)
	{
		if ((size_t) (end - start) == len && strncmp(start, stmt, len) == 0)
			lines++;
		rest = end;
	}
	return frames >= lines;
}

/*
 * A function's statement that fails after its parse analysis and before
 * the executor runs it (a cached plan waiting for its locks, the
 * executor's start-up checks: a write in a read-only transaction or in a
 * STABLE function), or a COPY ... FROM that a function runs (no executor
 * runs it), has no internal query, and the client's statement need not
 * name its table: its text is in the error's context, as SPI puts it there
 * (SQL statement "...", SQL expression "...", PL/pgSQL assignment "...",
 * innermost first).  Adds the tables of the first one that names any
 * (bh_pending_names; through an untagged partitioned table, for such a
 * COPY: bh_copy_from_routing()); returns its action (an expression's or
 * an assignment's: READ), or NULL (none, a statement that is no data
 * access, or one being planned or executed: bh_context_statement_caught).
 */
static const char *
bh_pending_context_statements(const ErrorData *edata, bool any_lock)
{
	const char *p = edata->context;
	const char *start;
	const char *end;
	bool		statement;
	BhContextScan scan;

	if (p == NULL)
		return NULL;
	bh_context_scan_init(&scan, p);
	while ((start = bh_context_statement_next(&scan, p, &end, &statement)) != NULL)
	{
		const char *action;
		char	   *stmt;
		const BhReadUtility *reading;

		stmt = pnstrdup(start, end - start);
		(void) bh_pending_names(stmt, any_lock || bh_sql_is_truncate(stmt), NULL,
								bh_copy_from_routing(stmt, edata, false, &reading), false);
		if (bh_pending.ntables > 0)
		{
			/* its planning or executor records it if the error leaves it */
			if (bh_context_statement_caught(stmt, end))
			{
				bh_pending.ntables = 0;
				return NULL;
			}
			/* raised while a COPY ... FROM reads its rows: if it leaves it */
			bh_pending.awaited_copy = reading;
			/* a statement that is no data access (DDL) is nobody's failure */
			action = bh_sql_action(stmt);
			return (action != NULL || statement) ? action : "READ";
		}
		p = end;
	}
	return NULL;
}

/*
 * An error at a commit: a failure on each tagged table the transaction
 * wrote, each with the action of its first write there; returns the
 * transaction's first.
 */
static const char *
bh_pending_add_written(const ErrorData *edata)
{
	int			i;

	for (i = 0; i < bh_written_n; i++)
	{
		int			n = bh_pending.ntables;

		bh_pending_add(bh_written[i].relid, bh_written[i].tagged, NULL);
		if (bh_pending.ntables > n)
			bh_pending.actions[n] = bh_written[i].action;
	}
	/* a deferred trigger's error at a commit may be caught there */
	bh_pending.in_function = bh_in_function(edata->context);
	bh_pending.at_commit = true;
	return bh_written[0].action;
}

/*
 * A client's statement has been through parse analysis (sourcetext is
 * debug_query_string; a function's statement or a query given to a
 * utility statement as a string has its own).
 */
void
bh_client_stmt_analyzed(const char *sourcetext, int location, int len)
{
	if (sourcetext == NULL || sourcetext != debug_query_string || location < 0)
		return;
	bh_client_stmt.query = sourcetext;
	bh_client_stmt.message = GetCurrentStatementStartTimestamp();
	bh_client_stmt.location = location;
	bh_client_stmt.len = len;
	bh_client_stmt.finished = false;
}

/* A client's statement has finished (its executor ended, or its utility returned). */
void
bh_client_stmt_finished(const char *sourcetext)
{
	if (sourcetext != NULL && sourcetext == bh_client_stmt.query)
		bh_client_stmt.finished = true;
}

/*
 * The byte offset in sql of its character at pos (1-based, as an error's
 * position counts), or of its end.
 */
static int
bh_char_offset(const char *sql, int pos)
{
	const char *p = sql;
	int			i;

	for (i = 1; i < pos && *p != '\0'; i++)
		p += pg_mblen(p);
	return (int) (p - sql);
}

/*
 * Of a text of several statements, the statement holding byte offset (an
 * empty one past the last); the text itself when it holds one statement,
 * or for an offset below 0 (none).
 */
static const char *
bh_statement_holding(const char *sql, int offset)
{
	int			start;
	int			end;

	if (offset < 0 || !bh_sql_statement_at(sql, offset, &start, &end))
		return sql;
	return pnstrdup(sql + start, end - start);
}

/*
 * The text of the client's statement that raises an error, out of sql (its
 * message, debug_query_string): sql itself when it holds one statement;
 * otherwise the statement holding the error's position if it has one (a
 * parse analysis error), else the statement that runs (analysed, not
 * finished: its planning, a lock it waits for) or the one after the last
 * finished (raised in its parse analysis), else the first.  Empty past the
 * last statement (the implicit commit at the end of the string).
 */
static const char *
bh_failing_statement(const char *sql, int cursorpos)
{
	int			offset = 0;

	if (cursorpos > 0)
		offset = bh_char_offset(sql, cursorpos);
	else if (bh_client_stmt.query == sql &&
			 bh_client_stmt.message == GetCurrentStatementStartTimestamp() &&
			 bh_client_stmt.location <= (int) strlen(sql))
	{
		offset = bh_client_stmt.location;
		if (bh_client_stmt.finished)
			offset = bh_client_stmt.len == 0 ? (int) strlen(sql)
				: bh_client_stmt.location + bh_client_stmt.len + 1;
	}
	return bh_statement_holding(sql, offset);
}

/*
 * A statement (of the executor, or a utility statement) starts: not one of
 * the extension's own SQL (bh_sql_path_active()), which may run between a
 * refusal judged and PostgreSQL's check (the tag cache reloaded as ALTER
 * TABLE opens the table a foreign key refers to).
 */
void
bh_statement_starting(void)
{
	bh_body.ntables = 0;
	bh_body.frame.frame = NULL;
	if (!bh_sql_path_active())
		bh_stmt_serial++;
}

/*
 * A function's statement has been analysed outside planning, naming these
 * tagged tables (n may be 0), or the body of a SQL function the planner
 * inlines (n 0): see bh_body.
 */
void
bh_failure_body_analyzed(const Oid *tables, const Oid *tagged, const char *const *actions,
						 int n)
{
	bh_body.ntables = Min(n, BH_FAILURE_TABLES);
	if (bh_body.ntables > 0)
	{
		memcpy(bh_body.tables, tables, bh_body.ntables * sizeof(Oid));
		memcpy(bh_body.tagged, tagged, bh_body.ntables * sizeof(Oid));
		memcpy(bh_body.actions, actions, bh_body.ntables * sizeof(const char *));
	}
	bh_context_mark(&bh_body.frame);
}

/*
 * Was the body failing as it is prepared (the innermost frame's) analysed:
 * is bh_body's frame the innermost one still?
 */
static bool
bh_body_analyzed_here(void)
{
	return bh_context_mark_is_top(&bh_body.frame);
}

/*
 * Is the frame the parser's, set up around a call that may raise an error
 * of its own (setup_parser_errposition_callback: parserOpenTable), its
 * argument the ParseCallbackState holding it?  The parser's callback is
 * static: its address is learnt once, from a frame set up and cancelled
 * here.
 */
static bool
bh_frame_is_parser(const ErrorContextCallback *frame)
{
	static void (*parser_callback) (void *arg) = NULL;

	if (parser_callback == NULL)
	{
		ParseCallbackState pcb;

		setup_parser_errposition_callback(&pcb, NULL, -1);
		parser_callback = pcb.errcallback.callback;
		cancel_parser_errposition_callback(&pcb);
	}
	return frame->callback == parser_callback && frame->arg != NULL &&
		frame == &((const ParseCallbackState *) frame->arg)->errcallback;
}

/*
 * The text of a function's statement whose parse analysis a cancel
 * (statement_timeout, a cancel request) ended as it waited for the lock
 * of a table it names, and in *location the byte offset in it of the name
 * (-1: not known): the innermost frame one of the parser's
 * (bh_frame_is_parser: any that setup_parser_errposition_callback pushes,
 * around opening a table, parserOpenTable, or around a look-up of a
 * function, an operator or a type or a constant's input, whose position,
 * in the same statement, is then that name's or constant's), the wait
 * this error's, in a mode for reading or writing rows
 * (bh_row_lock_wait_failed), and the context's innermost
 * line a SQL function's whose body PostgreSQL prepares, before that
 * analysis found its tables (bh_context_body_preparing), or that of the
 * very text a function runs through SPI (bh_context_spi_statement: a
 * PL/pgSQL statement, run while the client's portal runs).  PostgreSQL
 * gives any other error there the text as its internal query, with the
 * position (a lock_timeout, a deadlock), but not a cancel, which gets no
 * position (pcb_error_callback): the text and the name's place are read
 * from the parser's state, so that the failure is the statement's as
 * theirs is.  NULL otherwise.
 */
static const char *
bh_cancelled_statement(const ErrorData *edata, int *location)
{
	const ErrorContextCallback *top = bh_error_context_top();
	const ParseCallbackState *pcb;
	const char *sql;

	*location = -1;
	if (edata->internalquery != NULL || edata->sqlerrcode != ERRCODE_QUERY_CANCELED ||
		top == NULL || !bh_frame_is_parser(top) ||
		!bh_row_lock_wait_failed(edata->sqlerrcode))
		return NULL;
	pcb = (const ParseCallbackState *) top->arg;
	if (pcb->pstate == NULL || (sql = pcb->pstate->p_sourcetext) == NULL ||
		!(bh_context_body_preparing(edata->context) ||
		  bh_context_spi_statement(edata->context, sql)))
		return NULL;
	if (pcb->location >= 0 && pcb->location <= (int) strlen(sql))
		*location = pcb->location;
	return sql;
}

/*
 * Is the error raised as PostgreSQL prepares the body of a SQL function:
 * as the function starts (not inlined), or as the planner inlines it (its
 * innermost context line "SQL function \"...\" during startup" or
 * "... during inlining"), past any position in the body (those come with
 * the body as the error's internal query)?  Then its tables go to the
 * pending failure, those that this transaction holds a lock on (its
 * analysis took them).  A body analysed for this start or inlining (see
 * bh_body): at its start, the tables its analysis found (inlined, the
 * planner records its own, capture_read.c), and nothing else.  A body
 * given as a tree (BEGIN ATOMIC), which no analysis shows, is refused by
 * row-level security by the tagged table of the name the refusal gives,
 * if that table has it enabled (a query a policy would affect under
 * row_security = off: read).  Returns the action, or NULL.
 */
static const char *
bh_pending_add_body(const ErrorData *edata)
{
	const char *action = NULL;
	char		refused[NAMEDATALEN];
	const BhTag *tag;
	int			i;

	if (!bh_context_body_preparing(edata->context))
		return NULL;
	if (bh_body_analyzed_here())
	{
		for (i = 0; i < bh_body.ntables; i++)
		{
			int			n = bh_pending.ntables;

			if (!bh_locked_by_me(bh_body.tables[i]))
				continue;
			bh_pending_add(bh_body.tables[i], bh_body.tagged[i], NULL);
			if (bh_pending.ntables > n)
				bh_pending.actions[n] = bh_body.actions[i];
			if (action == NULL)
				action = bh_body.actions[i] ? bh_body.actions[i] : "READ";
		}
	}
	else if (edata->message_id != NULL &&
			 strcmp(edata->message_id,
					"query would be affected by row-level security policy for table \"%s\"") == 0 &&
			 bh_refused_table(edata, refused) == BH_REFUSED_ROW_SECURITY)
	{
		for (tag = bh_tags_cached_named(refused); tag != NULL; tag = tag->same_name)
			if (tag->rowsecurity && bh_locked_by_me(tag->relid))
				bh_pending_add(tag->relid, tag->tagged_relid, NULL);
		if (bh_pending.ntables > 0)
			action = "READ";
	}
	/* the function's own statement failed: recorded also where it is caught */
	bh_pending.in_function = false;
	return action;
}

/*
 * PostgreSQL's privilege check in the statement that starts will refuse
 * relid (named relname, its message made from format): recorded as a
 * denial of tagged (the tagged table relid belongs to, or the ledger) with
 * action if PostgreSQL raises that very refusal; with tagged InvalidOid,
 * that refusal is of no tagged table, whatever its name.  Called by
 * capture_denial.c where it may read the catalog; read by the error watch.
 */
void
bh_refusal_expect(Oid relid, Oid tagged, const char *action, const char *format,
				  const char *relname)
{
	bh_refusal.serial = bh_stmt_serial;
	bh_refusal.relid = relid;
	bh_refusal.tagged = tagged;
	bh_refusal.action = action;
	bh_refusal.format = format;
	strlcpy(bh_refusal.relname, relname, sizeof(bh_refusal.relname));
}

/*
 * Is the error being raised the refusal judged before it (bh_refusal, in
 * the statement that still runs: no other started since)?  The relation
 * is the format's last conversion (a column's refusal names the column
 * first).  Reads no catalog.
 */
static bool
bh_refusal_judged(const ErrorData *edata)
{
	int			start;
	int			end;
	int			argno = 0;
	const char *p;

	if (bh_refusal.serial == 0 || bh_refusal.serial != bh_stmt_serial ||
		edata->sqlerrcode != ERRCODE_INSUFFICIENT_PRIVILEGE || edata->message == NULL ||
		edata->message_id == NULL || strcmp(edata->message_id, bh_refusal.format) != 0)
		return false;
	for (p = bh_refusal.format; (p = strstr(p, "%s")) != NULL; p += 2)
		argno++;
	/* the name the message gives, in whatever language (lc_messages) */
	return bh_message_arg(edata->message, strlen(edata->message), bh_refusal.format,
						  edata->domain, argno, &start, &end) &&
		(size_t) (end - start) == strlen(bh_refusal.relname) &&
		strncmp(edata->message + start, bh_refusal.relname, end - start) == 0;
}

/*
 * PostgreSQL's sequence functions that lock the sequence they are given
 * (lastval(): the one nextval() gave a value last in the session) before
 * they check the user's privileges on it, and the action a refusal of one
 * is: nextval() and setval() change the counter, currval(), lastval() and
 * pg_sequence_last_value() read it.
 */
static const struct
{
	const char *funcname;		/* where PostgreSQL raises the refusal */
	const char *action;
}			bh_sequence_checks[] = {
	{"nextval_internal", "UPDATE"},
	{"do_setval", "UPDATE"},
	{"currval_oid", "READ"},
	{"lastval", "READ"},
	{"pg_sequence_last_value", "READ"},
};

/*
 * The catalogs (and the indexes on them) that building a sequence's
 * relcache entry reads: its pg_class row and its columns.
 */
static const Oid bh_seq_build_catalogs[] = {
	RelationRelationId, ClassOidIndexId, AttributeRelationId, AttributeRelidNumIndexId,
};

/*
 * Is the relation open as the error is raised (by the function raising it,
 * or by anything else in this backend)?  If it is, its name as it is now
 * goes to name.  Its relcache entry's reference count: an open relation's
 * entry is there and valid (built again as an invalidation reaches it, not
 * as it is next opened), so that where it is open no catalog is read.  But
 * only a look-up tells an entry there from one flushed while the relation
 * was closed (an invalidation reached it: another session's GRANT on it),
 * and that look-up builds the flushed one from pg_class and pg_attribute,
 * which inside the error report may not wait for their locks (a cancel or
 * a timeout arriving meanwhile would replace the error raised): so it is
 * made only where this transaction gets their locks at once (all of them
 * first, then the invalidations that came before, as PostgreSQL's taking
 * of a lock does: the entry of an open relation that one reaches, built
 * again meanwhile, finds them held), and the answer is "not open"
 * otherwise (while a superuser's VACUUM FULL of those catalogs holds
 * them).  The locks go with the look-up.  Left: such an entry that reads
 * another catalog too (an index's, a table's with triggers) may wait for
 * its lock, where an invalidation of it came in the instant since the
 * function's own lock and that catalog is held exclusively.
 */
static bool
bh_open_now(Oid relid, char *name)
{
	LOCKTAG		tags[lengthof(bh_seq_build_catalogs)];
	LOCALLOCK  *locks[lengthof(bh_seq_build_catalogs)];
	bool		stale = false;
	bool		open = false;
	int			nlocked;
	int			i;

	for (nlocked = 0; nlocked < lengthof(bh_seq_build_catalogs); nlocked++)
	{
		LockAcquireResult res;

		SET_LOCKTAG_RELATION(tags[nlocked], MyDatabaseId, bh_seq_build_catalogs[nlocked]);
		res = LockAcquireExtended(&tags[nlocked], AccessShareLock, false, true, false,
								  &locks[nlocked]);
		if (res == LOCKACQUIRE_NOT_AVAIL)
			break;
		stale |= res != LOCKACQUIRE_ALREADY_CLEAR;
	}
	if (nlocked == lengthof(bh_seq_build_catalogs))
	{
		Relation	rel;

		if (stale)
		{
			AcceptInvalidationMessages();
			for (i = 0; i < nlocked; i++)
				MarkLockClear(locks[i]);
		}
		rel = RelationIdGetRelation(relid);
		if (RelationIsValid(rel))
		{
			/* our own reference, and another's */
			open = rel->rd_refcnt > 1;
			if (open)
				strlcpy(name, RelationGetRelationName(rel), NAMEDATALEN);
			RelationClose(rel);
		}
	}
	for (i = 0; i < nlocked; i++)
		LockRelease(&tags[i], AccessShareLock, false);
	return open;
}

/*
 * A refusal of the queue's identity sequence (a relation of the trail,
 * bh_trail_rel: the sequence the queue owns, by its OID, whatever its name
 * now) by one of those functions, which no check made beforehand foresees
 * (an expression may call them with any argument): judged as it is raised,
 * by the function raising it (where PostgreSQL 15 raises it) and the
 * sequence being locked by this transaction and open as it is raised (the
 * function locked and opened the sequence it refuses just before), as if
 * judged before it (bh_refusal_expect), so that the refusal, if the name
 * its message gives is exactly that sequence's current name
 * (bh_refusal_judged: "x queue_id_seq" is another; its rename is refused,
 * own_guard.c), is a denial of it.  The message names no schema: another sequence
 * of that name (an application's table "queue" with a serial id has one),
 * refused while this transaction holds a lock on the trail's (its events
 * filled a queue row before its commit, or it called one of those
 * functions on it), is told from it by the trail's being closed then
 * (bh_open_now: taken for closed while a superuser's VACUUM FULL of
 * pg_class or pg_attribute holds their lock, so that its own refusal is
 * then no denial).
 * Only something else holding the trail's sequence open at that moment (a
 * query reading it, which only a role that may read it runs, calling a
 * function that is refused the other) leaves the other's refusal taken
 * for it.  The lock is looked up first: no refusal of any other sequence
 * in a transaction without it costs more.
 */
static void
bh_sequence_refusal_judge(const ErrorData *edata)
{
	Oid			seq;
	int			i;
	char		name[NAMEDATALEN];

	if (edata->sqlerrcode != ERRCODE_INSUFFICIENT_PRIVILEGE || edata->funcname == NULL)
		return;
	for (i = 0; i < lengthof(bh_sequence_checks); i++)
		if (strcmp(edata->funcname, bh_sequence_checks[i].funcname) == 0)
			break;
	if (i == lengthof(bh_sequence_checks) || !IsTransactionState() ||
		!OidIsValid(seq = bh_trail_rel_named("queue_id_seq")) || !bh_locked_by_me(seq) ||
		!bh_open_now(seq, name))
		return;
	bh_refusal_expect(seq, seq, bh_sequence_checks[i].action,
					  "permission denied for sequence %s", name);
}

/*
 * Is the error being raised the refusal judged before it (bh_refusal, in
 * the statement that still runs: no other started since), or the trail's
 * sequence's (bh_sequence_refusal_judge)?  Notes it in bh_pending
 * (refusal_known, refused_tagged).  Reads no catalog, but where
 * bh_sequence_refusal_judge builds the queue's sequence's relcache entry
 * again, with the catalogs' locks granted at once (bh_open_now).  The judgement
 * is made just before PostgreSQL's check: the first error after it, whatever
 * it is, forgets it (bh_error_watch), so that a later refusal in the same
 * statement (one caught by an exception block, then another of a table of
 * the same name) is never taken for it.
 */
static void
bh_pending_refusal(const ErrorData *edata)
{
	bh_pending.refusal_known = false;
	bh_pending.refused_tagged = InvalidOid;
	if (!bh_refusal_judged(edata))
	{
		bh_sequence_refusal_judge(edata);
		if (!bh_refusal_judged(edata))
			return;
	}
	bh_pending.refusal_known = true;
	bh_pending.refused_tagged = bh_refusal.tagged;
	bh_context_mark(&bh_pending.raised_at);
}

/*
 * A refusal of a tagged table, the ledger or another relation of the trail
 * judged before PostgreSQL raised it (or as it did: bh_pending_refusal): a
 * denial, whatever the statement (LOCK, CREATE TRIGGER, a TRUNCATE's
 * cascade ...), also where a handler catches it, as the denials recorded
 * before their error are.  Notes its relation with the refusal's action
 * (*action too, if none yet).  Raised in a function the client's statement
 * calls, the statement's tables noted are its failure only if no handler
 * catches it (in_function stays): the denial is recorded either way
 * (bh_record_pending_refusal).
 */
static void
bh_pending_add_refusal(const char **action)
{
	int			j;

	if (!bh_pending.refusal_known || !OidIsValid(bh_pending.refused_tagged))
		return;
	for (j = 0; j < bh_pending.ntables; j++)
		if (bh_pending.tagged[j] == bh_pending.refused_tagged)
			break;
	if (j == bh_pending.ntables)
		bh_pending_add(bh_refusal.relid, bh_refusal.tagged, NULL);
	if (j < bh_pending.ntables)
		bh_pending.actions[j] = bh_refusal.action;
	if (*action == NULL)
		*action = bh_refusal.action;
}

/*
 * Note an error being raised, if it is a failure on tagged tables that no
 * other path records: the code, the safe message and the tables, in
 * static storage for the abort callbacks.  Reads no catalog (but see
 * bh_pending_refusal).
 */
static void
bh_note_failure(const ErrorData *edata)
{
	const BhParamStmt *stmt;
	const char *sql;
	const char *action;
	Oid			ledger = bh_events_relid_known();
	int			cancelled_at;
	const char *cancelled = bh_cancelled_statement(edata, &cancelled_at);
	const char *internal = edata->internalquery ? edata->internalquery : cancelled;
	bool		lock_wait = cancelled != NULL || bh_lock_wait_failed(edata->sqlerrcode);
	bool		inner = (internal != NULL);
	const BhRowsTaken *taken;

	/*
	 * The failing statement's text: a statement that a function runs through
	 * SPI and that fails in parse analysis comes as the error's internal
	 * query (SPI's error callback, above this one on the stack, has set it;
	 * or the body of a SQL function, whose statements are analysed as it
	 * starts or is inlined, likewise; or such a text whose analysis a cancel
	 * ended, read where PostgreSQL leaves it out: bh_cancelled_statement);
	 * otherwise it is the client's statement.
	 */
	sql = internal ? internal : debug_query_string;
	bh_pending.at_commit = false;
	bh_pending.awaited_copy = NULL;
	bh_pending_refusal(edata);

	/*
	 * A function's statement whose rows PL/pgSQL was taking (SELECT ...
	 * INTO): the tables of its query (bh_rows_failed), its own failure, as
	 * one failing in parse analysis is (inner): also where an exception block
	 * catches it, and with the client's statement's own where the error fails
	 * that too
	 */
	taken = (internal == NULL) ? bh_rows_failed(edata) : NULL;
	if (taken != NULL)
	{
		int			i;

		bh_pending.ntables = 0;
		for (i = 0; i < taken->ntables; i++)
			bh_pending_add(taken->tables[i], taken->tagged[i], taken->actions[i]);
		bh_pending.in_function = false;
		action = bh_pending.actions[0];
		bh_pending_add_refusal(&action);
		inner = true;
	}

	/*
	 * No statement's text: with the extended query protocol, the commit that
	 * ends a statement outside a transaction block comes at the Sync message,
	 * when no statement runs; an error then undoes the writes.
	 */
	else if (sql == NULL)
	{
		if (ActivePortal != NULL || bh_written_n == 0)
			return;
		bh_pending.ntables = 0;
		action = bh_pending_add_written(edata);
	}

	/*
	 * A client's statement with parameters, analysed before: its tables are
	 * known (this is how a Bind failure is seen; no lock is held yet), each
	 * with its action — as its latest analysis found them, if that was made
	 * under the search_path, role and names as they are now; otherwise the
	 * names of the relations an analysis found the text naming (a partitioned
	 * table's for the partitions tagged under it), as each had it at the
	 * analysis (the text's: renamed or gone since, another relation may have
	 * taken it), resolved now (see BhParamStmt, statement_names.c).
	 */
	else if (internal == NULL && (stmt = bh_param_stmt_find(sql)) != NULL)
	{
		const Oid  *tables;
		const Oid  *tagged;
		const Oid  *named;
		const char *const *actions;
		const char *const *relnames;
		int			n = bh_param_stmt_tables(stmt, &tables, &tagged, &named, &actions,
											 &relnames);
		bool		current = bh_param_stmt_current(stmt);
		bool		writes = false;
		int			i;

		/*
		 * a statement whose analysis found no relation written (a SELECT, a
		 * WITH query writing nothing) reads each table its names stand for
		 * now: no name of its text is a target, whatever words precede it
		 */
		for (i = 0; i < n; i++)
			writes |= actions[i] != NULL && strcmp(actions[i], "READ") != 0;
		bh_pending.ntables = 0;
		if (current && bh_param_stmt_named_none(stmt))
			n = 0;
		for (i = 0; i < n && bh_pending.ntables < BH_FAILURE_TABLES; i++)
		{
			const BhTag *tag;
			const BhTagView *through;
			int			before = bh_pending.ntables;

			if (current && OidIsValid(tagged[i]))
				bh_pending_add(tables[i], tagged[i], NULL);
			else if (OidIsValid(ledger) && tables[i] == ledger && named[i] == ledger)
			{
				if (current || bh_pending_names(sql, true, "events", false, false))
					bh_pending_add(ledger, ledger, NULL);
			}
			/* a relation untagged at the analysis: as it is tagged now */
			else if (current)
			{
				if ((tag = bh_tag_cached(tables[i])) != NULL)
					bh_pending_add(tag->relid, tag->tagged_relid, NULL);
				else if ((through = bh_tags_through_cached(tables[i], true)) != NULL)
					bh_pending_add_view(through, true, NULL);
			}

			/*
			 * by its name, or a partition by its partitioned table's: a name
			 * stands for every table it resolves to now in the text (two of
			 * one name in two schemas, written and read), each with the
			 * action of the place it is named at, as PostgreSQL's new
			 * analysis gives it; in a statement writing nothing, READ
			 * (actions[i], below)
			 */
			else
			{
				/*
				 * by the name it had at the analysis, the text's, standing
				 * now for what a new analysis finds: the same relation, or
				 * one that took the name since it was renamed or dropped (a
				 * tagged table, a view or a partitioned table reaching tagged
				 * ones, read through as a new analysis would), or none; a
				 * relation untagged then (no name kept), by its name now
				 */
				if (relnames[i] != NULL)
					(void) bh_pending_names(sql, true, relnames[i], true, writes);
				else if ((tag = bh_tag_cached(named[i])) != NULL)
					(void) bh_pending_names(sql, true, tag->relname, false, writes);
				else if ((through = bh_tags_through_cached(named[i], true)) != NULL)
					(void) bh_pending_names(sql, true, through->relname, true, writes);
				if (writes)
					continue;
			}
			for (; before < bh_pending.ntables; before++)
				bh_pending.actions[before] = actions[i];
		}

		/*
		 * raised inside a function: the statement's failure only if not
		 * caught
		 */
		bh_pending.in_function = (bh_pending.ntables > 0 && bh_in_function(edata->context));
		action = bh_pending.ntables > 0 ? bh_pending.actions[0] : NULL;
		bh_pending_add_refusal(&action);
		if (bh_pending.ntables == 0)
			return;
	}
	else
	{
		/*
		 * otherwise: the tagged tables that the text names (see
		 * bh_pending_names); TRUNCATE checks privileges before it locks, and
		 * names nothing but tables: each tagged one it names counts, as after
		 * a lock wait
		 */
		bool		names_ledger = false;

		/*
		 * of a client's string of several, the statement that fails; of a
		 * function's text of several (a SQL function's body), the one holding
		 * the error's position, or the name the cancelled analysis waited for
		 */
		if (internal == NULL)
			sql = bh_failing_statement(sql, edata->cursorpos);
		else
			sql = bh_statement_holding(sql, edata->internalquery == NULL ? cancelled_at :
									   edata->internalpos > 0 ?
									   bh_char_offset(sql, edata->internalpos) : -1);
		if (bh_sql_is_truncate(sql))
			lock_wait = true;
		bh_pending.ntables = 0;

		/*
		 * through an untagged partitioned table: the text of a function's
		 * statement failing in parse analysis (its internal query), or the
		 * client's before any portal runs (parse analysis, planning) or in
		 * the parse analysis of a COPY (query) TO, or a COPY ... FROM past
		 * its privilege check, which routes its rows as an INSERT does but
		 * has no executor's statement to know them (capture_read.c); not the
		 * commit after either, which undoes only the writes it made (below):
		 * an INSERT's commit is recorded so too
		 */
		names_ledger = bh_pending_names(sql, lock_wait, NULL,
										internal != NULL ||
										((ActivePortal == NULL ||
										  bh_copy_to_analysing(sql, edata) ||
										  bh_copy_from_routing(sql, edata, true, NULL)) &&
										 !bh_error_at_commit(sql, edata)), false);

		/*
		 * raised inside a function: the statement's failure only if not
		 * caught
		 */
		bh_pending.in_function = (internal == NULL && bh_pending.ntables > 0 &&
								  bh_in_function(edata->context));
		if (names_ledger && OidIsValid(ledger) && bh_locked_by_me(ledger))
			bh_pending_add(ledger, ledger, NULL);
		action = bh_sql_action(sql);
		/* a statement that is no data access (CALL) names tables in vain */
		if (action == NULL)
		{
			bh_pending.ntables = 0;
			bh_pending.in_function = false;
		}

		bh_pending_add_refusal(&action);

		/* a function's statement, failing before its executor ran */
		if (bh_pending.ntables == 0 && internal == NULL &&
			edata->context != NULL)
			action = bh_pending_context_statements(edata, lock_wait);

		/* the body of a SQL function, failing as it is prepared */
		if (bh_pending.ntables == 0 && internal == NULL)
			action = bh_pending_add_body(edata);

		/* an error at COMMIT: the writes it undoes */
		if (bh_pending.ntables == 0 && bh_written_n > 0 &&
			internal == NULL && bh_error_at_commit(sql, edata))
			action = bh_pending_add_written(edata);
		if (bh_pending.ntables == 0 || action == NULL)
			return;
	}

	bh_safe_message(edata->message, edata->message_id, edata->domain, bh_pending.message,
					sizeof(bh_pending.message));
	bh_pending.refused_by = bh_refused_table(edata, bh_pending.refused);
	bh_pending.sqlerrcode = edata->sqlerrcode;
	bh_pending.action = action;
	bh_pending.inner = inner;
	bh_note_role(&bh_pending.role);
	bh_pending.active = (bh_pending.awaited_copy == NULL);
}

/*
 * A COPY ... FROM failed (from the utility hook's PG_CATCH, or at the exit
 * after an error exit_on_error raised as FATAL): the failure noted while it
 * read its rows, awaiting it, is its own now (bh_pending.awaited_copy).
 */
void
bh_failure_copy_from_failed(const BhReadUtility *copy)
{
	if (bh_pending.awaited_copy == copy)
	{
		bh_pending.awaited_copy = NULL;
		bh_pending.active = true;
	}
}

/*
 * Between pre-prepare and the end of a PREPARE TRANSACTION: PostgreSQL no
 * longer counts the transaction as in progress (bh_capture_here() says no),
 * yet may still refuse the PREPARE (a name in use or too long, too many
 * prepared, a NOTIFY), undoing the writes.
 */
static bool bh_preparing = false;

/* Does the watch look at errors here? */
static bool
bh_watch_here(void)
{
	return bh_preparing || bh_capture_here();
}

/*
 * Is the error one that exit_on_error raised as FATAL, an ERROR otherwise
 * (errstart() raises an ERROR as FATAL under it, keeping its code)?  Not
 * one of the FATAL errors by which PostgreSQL itself ends a session, with
 * or without exit_on_error: pg_terminate_backend() or a shutdown, a
 * conflict with recovery, an idle session's timeout, a lost or broken
 * client connection (a statement failing on a broken connection, COPY
 * FROM STDIN, is told from those by nothing: not counted).
 */
static bool
bh_error_promoted(const ErrorData *edata)
{
	int			code = edata->sqlerrcode;

	if (edata->elevel != FATAL || !ExitOnAnyError)
		return false;
	if (code == ERRCODE_ADMIN_SHUTDOWN || code == ERRCODE_CRASH_SHUTDOWN ||
		code == ERRCODE_CANNOT_CONNECT_NOW || code == ERRCODE_DATABASE_DROPPED ||
		code == ERRCODE_IDLE_SESSION_TIMEOUT ||
		code == ERRCODE_IDLE_IN_TRANSACTION_SESSION_TIMEOUT ||
		code == ERRCODE_CONNECTION_FAILURE || code == ERRCODE_PROTOCOL_VIOLATION)
		return false;
	/* "terminating connection due to conflict with recovery" (40001 too) */
	return edata->message_id == NULL ||
		strncmp(edata->message_id, "terminating connection", 22) != 0;
}

/* Does the error fail the statement (an ERROR, or one raised as FATAL)? */
static bool
bh_error_fails_statement(const ErrorData *edata)
{
	return edata->elevel == ERROR || bh_error_promoted(edata);
}

/*
 * Does the error being handled stop the statement without showing any
 * row's values by itself?  A cancel, a timeout or a shutdown (class 57), a
 * deadlock or a serialization failure (40), a lock not obtained (55), a
 * lack of resources (53), a connection error (08), a refused privilege
 * (42501), when its message prints no text and it comes with no CONTEXT.
 * A text printed may be one the row gave (set_config(name, ...) refused
 * names the parameter; nextval(name::regclass) refused, the sequence), and
 * a message that is nothing but a conversion is a function's own text
 * (RAISE ... USING ERRCODE, an error of PL/Perl or PL/Python, a remote
 * error that dblink or postgres_fdw raises again).  A CONTEXT says the
 * error came from a function or a statement a function ran, whose lines
 * may print the row (query_to_xml() shows the statement text it was
 * given).  The other classes PostgreSQL raises from values too (a cast to
 * regclass names its text in 42P01, pg_read_file() the file in 58P01).
 * Only on a failure.
 */
bool
bh_failing_error_shows_no_row(void)
{
	int			code = bh_failing_error_code();
	int			category = ERRCODE_TO_CATEGORY(code);
	ErrorData  *edata;
	bool		result;

	if (category != ERRCODE_OPERATOR_INTERVENTION &&
		category != ERRCODE_TRANSACTION_ROLLBACK &&
		category != ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE &&
		category != ERRCODE_INSUFFICIENT_RESOURCES &&
		category != ERRCODE_CONNECTION_EXCEPTION &&
		code != ERRCODE_INSUFFICIENT_PRIVILEGE)
		return false;
	if (bh_exit_error)
		edata = bh_exit_error;
	else
	{
		MemoryContext old = MemoryContextSwitchTo(bh_abort_context());

		edata = CopyErrorData();
		MemoryContextSwitchTo(old);
	}
	result = edata->message_id != NULL && !bh_format_prints_text(edata->message_id) &&
		edata->context == NULL;
	if (edata != bh_exit_error)
		FreeErrorData(edata);
	return result;
}

/* The code of the error being handled (see bh_current_error()). */
int
bh_failing_error_code(void)
{
	return bh_exit_error ? bh_exit_error->sqlerrcode : geterrcode();
}

void
bh_fail_frame_push(BhFailFrame *frame, void (*record) (void *arg), void *arg,
				   const char *query)
{
	frame->record = record;
	frame->arg = arg;
	frame->query = query;
	frame->previous = bh_fail_frames;
	bh_fail_frames = frame;
}

void
bh_fail_frame_pop(BhFailFrame *frame)
{
	bh_fail_frames = frame->previous;
}

/*
 * At the exit after an error that exit_on_error raised as FATAL: what the
 * PG_CATCH blocks that the error would have passed record, innermost
 * first (see the header).  A before_shmem_exit callback registered after
 * ShutdownPostgres, so it runs before it: the transaction is not aborted
 * yet, the statements' executor states are there, and the C stack of the
 * PG_TRY blocks too (proc_exit() was called from within them).  An error
 * here (raised as FATAL again) ends this, not the exit.
 */
static void
bh_failure_exit(int code, Datum arg)
{
	BhFailFrame *frame;

	if (bh_exit_error == NULL)
		return;
	bh_release_error_locks();
	while ((frame = bh_fail_frames) != NULL)
	{
		bh_fail_frames = frame->previous;
		frame->record(frame->arg);
	}
}

/*
 * The error being raised is one exit_on_error raised as FATAL: keep a copy
 * of it for bh_failure_exit(), registered the first time (after
 * ShutdownPostgres, which InitPostgres registers).
 */
static void
bh_exit_error_keep(void)
{
	MemoryContext old;

	if (bh_exit_error != NULL)
		return;
	old = MemoryContextSwitchTo(TopMemoryContext);
	bh_exit_error = CopyErrorData();
	MemoryContextSwitchTo(old);
	if (!bh_exit_callback_registered)
	{
		bh_exit_callback_registered = true;
		before_shmem_exit(bh_failure_exit, (Datum) 0);
	}
}

/*
 * Note the error being raised (*edata, copied if not yet), if it fails
 * the statement it is raised in, for the statement whose rows PL/pgSQL is
 * taking under it, if any (bh_taking; the innermost such: one whose rows
 * are taken under another's taking is not noted), with the role that
 * statement ran as (not a SECURITY DEFINER check function's owner, the
 * role the error is raised as).  The note of an earlier error is forgotten
 * at any new one: also at a FATAL error that fails no statement (a session
 * ended after a handler in the called code caught the noted one).  Reads
 * no catalog.
 */
static void
bh_note_taking(ErrorData **edata)
{
	const BhRowsTaken *taken;

	taken = bh_rows_taking_under();
	if (taken == NULL && !bh_taking.active)
		return;
	if (*edata == NULL)
		*edata = CopyErrorData();
	if ((*edata)->elevel < ERROR)
		return;
	bh_taking.active = false;
	if (taken == NULL || !bh_error_fails_statement(*edata))
		return;
	bh_taking.rows = taken;
	bh_taking.statement = *taken;
	bh_safe_message((*edata)->message, (*edata)->message_id, (*edata)->domain,
					bh_taking.message, sizeof(bh_taking.message));
	bh_taking.sqlerrcode = (*edata)->sqlerrcode;
	bh_note_role_of(&bh_taking.role, taken->role);
	bh_taking.active = true;
}

/*
 * What the error watch (error_watch.c) notes of a report, in the watch's
 * memory context: an error that fails the statement (or one exit_on_error
 * raised as FATAL: bh_error_promoted()).  Reports below ERROR carry a
 * success, warning or no-data code and are passed over (an error may
 * carry one too: the copy of the report tells).  A denial recorded before
 * its error (bh_failure_recorded), an error already noted, and processes
 * that capture nothing are passed over too.
 */
void
bh_failure_report_seen(void)
{
	int			category = ERRCODE_TO_CATEGORY(geterrcode());
	ErrorData  *edata = NULL;

	/*
	 * A success, warning or no-data code: a notice or a warning, passed over,
	 * unless it is raised as an ERROR (RAISE ... USING ERRCODE = '01000'
	 * can): only a copy tells, in a process that captures.
	 */
	if (category == ERRCODE_SUCCESSFUL_COMPLETION || category == ERRCODE_WARNING ||
		category == ERRCODE_NO_DATA)
	{
		if (!bh_watch_here())
			goto forget;
		edata = CopyErrorData();	/* not in ErrorContext: errfinish() runs
									 * there */
		if (edata->elevel < ERROR)
			goto done;
	}
	bh_pending_stashed = false; /* a new error: the caught one is over */
	/* an ERROR that exit_on_error raises as FATAL: recorded at the exit */
	if (ExitOnAnyError && CritSectionCount == 0 && bh_watch_here())
	{
		if (edata == NULL)
			edata = CopyErrorData();
		if (bh_error_promoted(edata))
			bh_exit_error_keep();
	}
	if (bh_shows_rows_code(geterrcode()) && CritSectionCount == 0 && bh_watch_here())
	{
		if (edata == NULL)
			edata = CopyErrorData();
		if (bh_error_fails_statement(edata))
			bh_note_shown(edata);
	}
	if (CritSectionCount == 0 && bh_watch_here())
		bh_note_taking(&edata);
	if (bh_pending.active || bh_failure_recorded || CritSectionCount > 0 ||
		!bh_watch_here())
		goto forget;
	if (edata == NULL)
		edata = CopyErrorData();
	if (bh_error_fails_statement(edata))
	{
		bh_note_failure(edata);
		/* no exception block catches an error that ends the process */
		if (edata->elevel == FATAL)
			bh_pending.in_function = false;
	}
forget:
	/* a refusal judged serves the first error after it at most */
	if (bh_refusal.serial != 0)
	{
		if (CritSectionCount > 0)	/* an error here is a PANIC */
			bh_refusal.serial = 0;
		else
		{
			if (edata == NULL)
				edata = CopyErrorData();
			if (edata->elevel >= ERROR)
				bh_refusal.serial = 0;
		}
	}
done:
	/* the statement SPI returned no rows of is PL/pgSQL's last no more */
	bh_rows_none_forget();
	bh_wait_end_seen();
}

/*
 * A statement starts: the client's own (a toplevel utility, or one whose
 * text is the client's statement's) goes on past an error an exception
 * block caught, and what was stashed is over.  One a function runs is not
 * (a handler's "INSERT INTO log ...; RAISE;": its RAISE; throws the stashed
 * error on without raising it again).
 */
void
bh_failure_statement_starts(const char *sourcetext, bool toplevel)
{
	if (bh_pending_stashed &&
		(toplevel ||
		 (sourcetext != NULL && debug_query_string != NULL &&
		  (sourcetext == debug_query_string || strcmp(sourcetext, debug_query_string) == 0))))
		bh_pending_stashed = false;
}

void
bh_error_watch_install(void)
{
	bh_shown.active = false;
	bh_error_watch_put_back();
}

/* Record the failure noted by the error watch, from an abort callback. */
static void
bh_record_pending_failure(void)
{
	int			j;

	if (!bh_pending.active)
		return;
	bh_pending.active = false;
	for (j = 0; j < bh_pending.ntables; j++)
		bh_record_pending_on(j);
	MemoryContextReset(bh_abort_context());
}

/* Pre-prepare: the watch goes on looking until the PREPARE ends. */
void
bh_failure_preparing(void)
{
	bh_preparing = bh_capture_here();
}

/*
 * End of a transaction: record the failure the watch noted, if it aborted;
 * also one an exception block rolled back and threw on (bh_pending_stashed),
 * the error that ends the transaction, none raised since — unless a
 * PG_CATCH of the statement (its executor's, its planning's) recorded it on
 * the way: a Bind failing in a domain's CHECK passes none, and PostgresMain's
 * recovery aborts after it has forgotten the statement's text.  Not a
 * session ending while idle after a caught error: no error ends that
 * transaction.
 */
void
bh_failure_xact_end(bool aborted)
{
	bh_preparing = false;
	if (aborted && bh_pending_stashed && !bh_pending.active && !bh_failure_recorded &&
		!proc_exit_inprogress)
		bh_pending.active = true;
	bh_pending_stashed = false;
	if (aborted)
	{
		bh_record_pending_failure();
		bh_record_shown();
		bh_record_taking(NULL, 0);
	}
	bh_pending.active = false;
	bh_taking.active = false;
	bh_pending.awaited_copy = NULL;
	bh_shown.active = false;
	bh_failure_recorded = false;
	bh_written_n = 0;
	bh_error_watch_install();
}

/* A subtransaction aborted (an exception block caught its error, or not). */
void
bh_failure_subxact_abort(void)
{
	int			level = GetCurrentTransactionNestLevel();
	int			i;
	int			kept = 0;

	/*
	 * An error raised in a function and noted for the client's statement,
	 * rolled back while a portal runs: an exception block in the function
	 * caught it, and the statement goes on (a client's ROLLBACK TO comes
	 * after the failed statement's portal is gone, and the recovery from its
	 * error forgets the statement's text first; while committing, no portal
	 * runs, and only an exception block can roll back) — unless none of the
	 * block's handlers matches it (bh_pending_stashed).
	 */
	/* a refusal judged is its relation's denial, caught or not */
	if (bh_pending.in_function)
		(void) bh_record_pending_refusal();
	if (bh_pending.active && bh_pending.in_function &&
		(ActivePortal != NULL || bh_pending.at_commit || debug_query_string != NULL))
	{
		bh_pending.active = false;
		bh_pending_stashed = true;	/* unless the block does not match */
	}

	/*
	 * PostgreSQL's recovery from the error an exception block threw on (no
	 * portal runs, the statement's text and the error context stack
	 * forgotten) rolls back only the client's savepoint: that error ended the
	 * statement, recorded here as bh_failure_xact_end would (a Bind failing
	 * passes no PG_CATCH).  Not an outer exception block rolling back at an
	 * extended-protocol commit (no portal, no text either): its function's
	 * error context is on the stack, and it may catch the error.
	 */
	else if (bh_pending_stashed && !bh_pending.active && !bh_failure_recorded &&
			 ActivePortal == NULL && debug_query_string == NULL && error_context_stack == NULL &&
			 !proc_exit_inprogress)
	{
		bh_pending.active = true;
		bh_pending_stashed = false;
	}
	bh_record_pending_failure();
	/* caught inside the COPY ... FROM it awaited: no failure of that COPY */
	bh_pending.awaited_copy = NULL;
	/* the rows its error showed, also to an exception block that catches it */
	bh_record_shown();
	/* the rows PL/pgSQL was taking are rolled back: the statement failed */
	if (bh_taking.active && bh_taking.statement.level >= GetCurrentTransactionNestLevel())
		bh_record_taking(NULL, 0);
	bh_failure_recorded = false;	/* an exception block caught it */

	/*
	 * After a client's failed statement in a savepoint, PostgreSQL's recovery
	 * emptied the error context stack before rolling the subtransaction back:
	 * put the watch back for what follows (a statement bound again, without
	 * parse analysis; the commit).  An exception block's rollback is no
	 * statement going on: what it stashed stays.
	 */
	bh_error_watch_put_back();
	/* its writes are undone */
	for (i = 0; i < bh_written_n; i++)
		if (bh_written[i].level < level)
			bh_written[kept++] = bh_written[i];
	bh_written_n = kept;
}

/* A subtransaction committed: its writes are its parent's now. */
void
bh_failure_subxact_commit(void)
{
	int			level = GetCurrentTransactionNestLevel();
	int			i;

	for (i = 0; i < bh_written_n; i++)
		if (bh_written[i].level >= level)
			bh_written[i].level = level - 1;
}

/* Write capture wrote an event of tag's table (see bh_written). */
void
bh_failure_note_write(const BhTag *tag, const char *action)
{
	int			i;

	for (i = 0; i < bh_written_n; i++)
		if (bh_written[i].relid == tag->relid)
			return;
	if (bh_written_n >= BH_FAILURE_TABLES)
		return;
	bh_written[bh_written_n].relid = tag->relid;
	bh_written[bh_written_n].tagged = tag->tagged_relid;
	bh_written[bh_written_n].level = GetCurrentTransactionNestLevel();
	bh_written[bh_written_n].action = action;
	bh_written_n++;
}
