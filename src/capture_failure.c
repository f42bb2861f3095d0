/*-------------------------------------------------------------------------
 *
 * capture_failure.c
 *		Failed access: every FAILURE event is built here, whether the
 *		executor, the planner, an EXECUTE, parse analysis or a Bind failed.
 *
 * The executor's hooks (capture_read.c) run a statement on a tagged table
 * under PG_TRY and hand its prepared event to bh_record_statement_failure().
 * Planning a query that names a tagged table, and an EXECUTE of a prepared
 * statement on one (its parameters may not convert), run under PG_TRY in
 * capture_read.c's hooks, which call bh_record_caught_failure().  A client's
 * statement with parameters that names a tagged table is noted after parse
 * analysis (bh_param_stmt_note), so that a Bind that fails on a parameter
 * is recognised by its text.  A statement that fails in parse analysis
 * (WHERE id = 'abc') is seen only by the emit_log_hook, which may neither
 * read the catalog nor allocate: it notes the code, the blanked message and
 * the tagged tables (from the tag cache, which the first name lookup of a
 * statement loads) that this transaction holds a lock on and that the
 * statement's text names (query_text.c); the abort callbacks then record
 * one FAILURE per table.  Those reports reach the hook only while errors go
 * to the server log, so the session watches log_min_messages and records
 * each change across that line (bh_log_watch, capture.h).
 *
 * Every message is the primary one with each quoted value blanked, then
 * sanitised when the event is built: never the DETAIL, never the query.
 * The events go to the ring (autonomous), like those of capture_read.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xlog.h"
#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/nodes.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "bh_audit.h"
#include "capture.h"
#include "event.h"
#include "query_text.h"
#include "tags.h"

static emit_log_hook_type prev_emit_log_hook = NULL;

/*
 * A failure seen by the emit_log_hook, waiting for the abort callbacks
 * (static storage: the hook may not allocate).
 */
#define BH_PENDING_TABLES		16
#define BH_PENDING_MESSAGE		512
static struct
{
	bool		active;
	int			sqlerrcode;
	const char *action;
	int			ntables;
	Oid			tables[BH_PENDING_TABLES];	/* the relation locked and named */
	Oid			tagged[BH_PENDING_TABLES];	/* the table carrying its tag */
	char		message[BH_PENDING_MESSAGE];
} bh_pending;

/* The error being raised has its event already (executor path, denial). */
bool		bh_failure_recorded = false;

static MemoryContext bh_abort_cxt = NULL;

#include "sqlstate_names.h"

/* The condition name of a SQLSTATE ("division_by_zero"), or its code. */
const char *
bh_sqlstate_name(int sqlerrcode)
{
	int			i;

	for (i = 0; i < lengthof(bh_sqlstate_names); i++)
		if (bh_sqlstate_names[i].code == sqlerrcode)
			return bh_sqlstate_names[i].name;
	return unpack_sql_state(sqlerrcode);
}

/* Does this transaction hold any lock on the relation? (no catalog access) */
static bool
bh_locked_by_me(Oid relid)
{
	LOCKTAG		tag;
	LOCKMODE	mode;

	SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
	for (mode = AccessShareLock; mode <= AccessExclusiveLock; mode++)
		if (LockHeldByMe(&tag, mode))
			return true;
	return false;
}

/*
 * The primary message with every "quoted" part emptied, into out (size
 * bytes, cut at a character boundary): PostgreSQL quotes the offending
 * value (invalid input syntax for type integer: "...").  The event builder
 * sanitises the rest.  Allocates nothing (the emit_log_hook uses it).
 */
static void
bh_blank_quoted(const char *message, char *out, int size)
{
	const char *p;
	int			len = 0;
	bool		in_quote = false;

	for (p = message ? message : ""; *p && len < size - 1; p++)
	{
		if (*p == '"')
		{
			out[len++] = '"';
			in_quote = !in_quote;
		}
		else if (!in_quote)
			out[len++] = *p;
	}
	out[pg_mbcliplen(out, len, len)] = '\0';
}

/* bh_blank_quoted() into a new string. */
static char *
bh_failure_message(const char *message)
{
	int			size = (message ? strlen(message) : 0) + 1;
	char	   *out = palloc(size);

	bh_blank_quoted(message, out, size);
	return out;
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
 * message with its quoted values blanked.  Nothing here reads the catalog,
 * and the event is pushed without validation (bh_push), as error and abort
 * paths require.
 */
static void
bh_push_failure(BhEvent *ev, int sqlerrcode, const char *message)
{
	ev->outcome = "FAILURE";
	ev->phi_touched = 0;
	ev->error_type = bh_sqlstate_name(sqlerrcode);
	ev->error_message = message;
	bh_push(ev, true);
}

/* A FAILURE on a tagged table (or the ledger), from the tag cache. */
static void
bh_record_failure_on(Oid relid, const char *action, int sqlerrcode, const char *message)
{
	const BhTag *tag = bh_tag_cached(relid);
	MemoryContext old;
	BhEvent		ev;

	if (tag == NULL && (relid != bh_events_relid_known() || !OidIsValid(relid)))
		return;					/* untagged meanwhile, or the cache is gone */
	if (!bh_session_user_known())
		return;					/* warmed at the statement's first name lookup */
	old = MemoryContextSwitchTo(bh_abort_context());
	bh_event_for_tag(&ev, action, tag);
	bh_push_failure(&ev, sqlerrcode, message);
	MemoryContextSwitchTo(old);
	MemoryContextReset(bh_abort_cxt);
}

/*
 * The error being handled (in PG_CATCH): its code, and its message with
 * quoted values blanked, in bh_abort_context() (ErrorContext may be
 * current here); the caller resets that context.
 */
static int
bh_current_error(char **message)
{
	MemoryContext old = MemoryContextSwitchTo(bh_abort_context());
	ErrorData  *edata = CopyErrorData();

	*message = bh_failure_message(edata->message);
	MemoryContextSwitchTo(old);
	return edata->sqlerrcode;
}

/*
 * From the executor's PG_CATCH: record the error as the failure of the
 * statement whose event (base) was prepared when it started, so that no
 * catalog access is needed here.  Every executor level records its own
 * statement's failure; the paths outside the executor then know that this
 * error is recorded.
 */
void
bh_record_statement_failure(const BhEvent *base)
{
	char	   *message;
	int			sqlerrcode = bh_current_error(&message);
	MemoryContext old = MemoryContextSwitchTo(bh_abort_cxt);
	BhEvent		ev = *base;

	bh_push_failure(&ev, sqlerrcode, message);
	MemoryContextSwitchTo(old);
	MemoryContextReset(bh_abort_cxt);
	bh_failure_recorded = true;
}

/*
 * From PG_CATCH before the executor (planning, an EXECUTE's parameters):
 * record the error as the failure of a statement on relid, unless an
 * inner path recorded it already.
 */
void
bh_record_caught_failure(Oid relid, const char *action)
{
	char	   *message;
	int			sqlerrcode;

	if (bh_failure_recorded || !OidIsValid(relid))
		return;
	sqlerrcode = bh_current_error(&message);
	bh_record_failure_on(relid, action, sqlerrcode, message);	/* resets */
	bh_failure_recorded = true;
}

/*
 * Statements with parameters that name a tagged table, as the client sent
 * them (extended query protocol), by the hash of their text: a parameter
 * that does not convert fails at Bind, before any table is opened or locked
 * and before planning, with the statement's text as debug_query_string.
 * Filled after parse analysis (which a Parse message, and a re-analysis at
 * Bind, run); read by the emit_log_hook without allocating.
 *
 * Bounded by two generations: when the current one reaches
 * BH_PARAM_STMTS_MAX entries it becomes the previous one and the previous
 * one is forgotten.  A statement prepared once and bound for the whole
 * session is parsed only once, so each successful execution of a noted
 * statement carries it over from the previous generation into the current
 * one (bh_param_stmt_refresh): only a statement that has not run while a
 * whole generation of other statements was parsed is forgotten.
 */
typedef struct BhParamStmt
{
	uint32		hash;			/* key: hash of the text */
	int			len;			/* length of the text */
	Oid			relid;			/* its first tagged table (or the ledger) */
	CmdType		cmd;
} BhParamStmt;

#define BH_PARAM_STMTS_MAX 8192
static HTAB *bh_param_stmts = NULL;		/* the current generation */
static HTAB *bh_param_stmts_old = NULL;	/* the previous one */

static uint32
bh_text_hash(const char *text, int len)
{
	return DatumGetUInt32(hash_any((const unsigned char *) text, len));
}

/* Enter a statement, by its text's hash and length, in the current generation. */
static void
bh_param_stmt_put(uint32 hash, int len, Oid relid, CmdType cmd)
{
	BhParamStmt *entry;

	if (bh_param_stmts != NULL && hash_get_num_entries(bh_param_stmts) >= BH_PARAM_STMTS_MAX)
	{
		if (bh_param_stmts_old != NULL)
			hash_destroy(bh_param_stmts_old);
		bh_param_stmts_old = bh_param_stmts;
		bh_param_stmts = NULL;
	}
	if (bh_param_stmts == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(uint32);
		ctl.entrysize = sizeof(BhParamStmt);
		ctl.hcxt = TopMemoryContext;
		bh_param_stmts = hash_create("bh_audit statements with parameters", 64, &ctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	entry = hash_search(bh_param_stmts, &hash, HASH_ENTER, NULL);
	entry->len = len;
	entry->relid = relid;
	entry->cmd = cmd;
}

/* Note a client's statement with parameters that names a tagged table. */
void
bh_param_stmt_note(const char *text, Oid relid, CmdType cmd)
{
	int			len = strlen(text);

	bh_param_stmt_put(bh_text_hash(text, len), len, relid, cmd);
}

/* The entry of a generation for this text, or NULL (allocates nothing). */
static const BhParamStmt *
bh_param_stmt_in(HTAB *generation, uint32 hash, int len)
{
	BhParamStmt *entry;

	if (generation == NULL)
		return NULL;
	entry = hash_search(generation, &hash, HASH_FIND, NULL);
	return (entry && entry->len == len) ? entry : NULL;
}

/* The noted statement whose text this is, or NULL (allocates nothing). */
static const BhParamStmt *
bh_param_stmt_find(const char *text)
{
	int			len;
	uint32		hash;
	const BhParamStmt *entry;

	if (bh_param_stmts == NULL || text == NULL)
		return NULL;
	len = strlen(text);
	hash = bh_text_hash(text, len);
	entry = bh_param_stmt_in(bh_param_stmts, hash, len);
	return entry ? entry : bh_param_stmt_in(bh_param_stmts_old, hash, len);
}

/*
 * A statement with parameters is about to run: if it is the client's and
 * was noted in the previous generation only, note it in the current one.
 * Costs nothing until a generation has filled up.  (At Bind the portal
 * holds a copy of the statement's text, so compare the texts.)
 */
void
bh_param_stmt_refresh(const char *text)
{
	int			len;
	uint32		hash;
	const BhParamStmt *entry;

	if (bh_param_stmts_old == NULL || text == NULL || debug_query_string == NULL ||
		strcmp(text, debug_query_string) != 0)
		return;
	len = strlen(text);
	hash = bh_text_hash(text, len);
	if (bh_param_stmt_in(bh_param_stmts, hash, len) != NULL)
		return;
	entry = bh_param_stmt_in(bh_param_stmts_old, hash, len);
	if (entry != NULL)
		bh_param_stmt_put(hash, len, entry->relid, entry->cmd);
}

/*
 * Called for every error report (chained).  Nothing here may raise an
 * error, read the catalog or allocate: the code, the blanked message and
 * the tables are kept in static storage for the abort callbacks, which
 * run after debug_query_string is gone.
 */
static void
bh_emit_log(ErrorData *edata)
{
	BhTagIter	it = {false};
	const BhTag *tag;
	const BhParamStmt *stmt;
	const char *sql;
	const char *action;
	Oid			ledger = bh_events_relid_known();

	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
	if (edata->elevel != ERROR)
		return;
	if (bh_failure_recorded)
	{
		/* the executor path or a denial recorded this error already */
		bh_failure_recorded = false;
		return;
	}
	/*
	 * The failing statement's text: a statement that a function runs through
	 * SPI and that fails in parse analysis comes as the error's internal
	 * query; otherwise it is the client's statement.
	 */
	sql = edata->internalquery ? edata->internalquery : debug_query_string;
	if (bh_pending.active || !bh_capture_here() || sql == NULL)
		return;

	/*
	 * A client's statement with parameters, analysed before: its tables are
	 * known (this is how a Bind failure is seen; no lock is held yet).
	 */
	if (edata->internalquery == NULL && (stmt = bh_param_stmt_find(sql)) != NULL)
	{
		bh_pending.tables[0] = bh_pending.tagged[0] = stmt->relid;
		bh_pending.ntables = 1;
		action = bh_action_for(stmt->cmd, 0);
	}
	else
	{
		/* otherwise: the tagged tables locked and named in the text */
		bh_pending.ntables = 0;
		while ((tag = bh_tags_cached_next(&it)) != NULL)
		{
			int			j;
			bool		seen = false;

			if (!bh_locked_by_me(tag->relid) || !bh_sql_names(sql, tag->relname))
				continue;
			for (j = 0; j < bh_pending.ntables; j++)
				seen |= (bh_pending.tagged[j] == tag->tagged_relid);
			if (seen)
				continue;		/* a partition and its table: one event */
			bh_pending.tables[bh_pending.ntables] = tag->relid;
			bh_pending.tagged[bh_pending.ntables++] = tag->tagged_relid;
			if (bh_pending.ntables == BH_PENDING_TABLES)
			{
				bh_tags_cached_end(&it);
				break;
			}
		}
		if (OidIsValid(ledger) && bh_pending.ntables < BH_PENDING_TABLES &&
			bh_locked_by_me(ledger) && bh_sql_names(sql, "events"))
		{
			bh_pending.tables[bh_pending.ntables] = ledger;
			bh_pending.tagged[bh_pending.ntables++] = ledger;
		}
		if (bh_pending.ntables == 0 || (action = bh_sql_action(sql)) == NULL)
			return;
	}

	bh_blank_quoted(edata->message, bh_pending.message, sizeof(bh_pending.message));
	bh_pending.sqlerrcode = edata->sqlerrcode;
	bh_pending.action = action;
	bh_pending.active = true;
}

/* Record the failure noted by bh_emit_log(), from an abort callback. */
static void
bh_record_pending_failure(void)
{
	int			j;

	if (!bh_pending.active)
		return;
	bh_pending.active = false;
	for (j = 0; j < bh_pending.ntables; j++)
		bh_record_failure_on(bh_pending.tables[j], bh_pending.action,
							 bh_pending.sqlerrcode, bh_pending.message);
}

/*
 * Those failures are seen only in reports that reach the server log: with
 * log_min_messages at log, fatal or panic an ERROR is not written there,
 * and emit_log_hook is not called.  Raising it is a superuser's setting,
 * made by a statement, set_config(), a role's or the server's
 * configuration; so the session itself watches the value after each parse
 * analysis (a Parse message comes before its Bind), at the start and end
 * of each execution and utility statement, and when a (sub)transaction
 * aborts (a statement that failed in parse analysis passed none of the
 * others), and records each change across that line, in either direction,
 * as an AuditConfiguration event through the ring (it stays recorded when
 * the transaction rolls back).
 */
int			bh_log_level_seen = -1;	/* -1: not yet looked at */

/* Does an ERROR reach the server log at this log_min_messages? (elog.c's rule) */
static bool
bh_errors_logged(int level)
{
	return level != LOG && level <= ERROR;
}

/*
 * Called in a statement, or (on_abort) from an abort callback, where
 * nothing may read the catalog or throw: there the ledger's OID and the
 * session user must be known already (they are once a statement of the
 * session named a table).  A change seen where there is no ledger yet (a
 * session that raises the level, then creates the extension) is looked at
 * again until it can be recorded.
 */
void
bh_log_watch_changed(bool on_abort)
{
	bool		before;
	bool		now;
	BhEvent		ev;
	MemoryContext old;

	if (on_abort ? (!bh_capture_enabled || bh_is_sealer || IsParallelWorker() ||
					RecoveryInProgress()) : !bh_capture_here())
		return;					/* look again at the next statement */
	before = bh_log_level_seen < 0 || bh_errors_logged(bh_log_level_seen);
	now = bh_errors_logged(log_min_messages);
	if (before != now &&
		(on_abort ? (!OidIsValid(bh_events_relid_known()) || !bh_session_user_known())
		 : !OidIsValid(bh_events_relid())))
		return;					/* no ledger (yet): look again later */
	bh_log_level_seen = log_min_messages;
	if (before == now)
		return;
	old = MemoryContextSwitchTo(bh_abort_context());
	bh_event_init(&ev, "UPDATE", "AuditConfiguration");
	ev.resource_id = "log_min_messages";
	ev.phi_touched = 0;
	ev.data_classification = "NONE";
	bh_event_meta_string(&ev, "change", "seen by the session");
	bh_event_meta_string(&ev, "setting", "log_min_messages");
	bh_event_meta_string(&ev, "value", GetConfigOption("log_min_messages", false, false));
	bh_event_meta_bool(&ev, "parse_and_bind_failures_recorded", now);
	bh_push(&ev, on_abort);
	MemoryContextSwitchTo(old);
	MemoryContextReset(bh_abort_cxt);
}

/* End of a transaction: record the failure the log hook noted, if it aborted. */
void
bh_failure_xact_end(bool aborted)
{
	if (aborted)
	{
		bh_record_pending_failure();
		bh_log_watch(true);
	}
	bh_pending.active = false;
	bh_failure_recorded = false;
}

/* A subtransaction aborted (an exception block caught its error, or not). */
void
bh_failure_subxact_abort(void)
{
	bh_record_pending_failure();
	bh_log_watch(true);
	bh_failure_recorded = false;	/* an exception block caught it */
}

/* At library load (from bh_capture_read_init): the server-log hook. */
void
bh_capture_failure_init(void)
{
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = bh_emit_log;
}
