/*-------------------------------------------------------------------------
 *
 * capture_read.c
 *		Read capture with per-patient attribution, denied and failed
 *		access: executor, planner and utility hooks.
 *
 * Reads.  After standard_ExecutorStart, the plan's nodes that produce rows
 * of tagged relations with capture_reads are wrapped (capture_read_wrap.c),
 * noting each row's patient in a per-statement, per-table read set.  At
 * ExecutorEnd one READ event is emitted per (statement, table, patient),
 * up to bh_audit.max_patients_per_statement, then one event counting the
 * rest; a table without a patient column gives one event with the number
 * of rows read.  COPY ... TO makes EXPORT events (COPY table TO is run as
 * COPY (SELECT ...) TO, so the executor sees it).  EXPLAIN without ANALYZE
 * reads nothing.  The planner hook keeps every read visible to the
 * wrappers: index-only scans of a tagged table return its patient column
 * where they can, and a plan that would read a tagged table in parallel
 * workers is planned again without parallelism (workers' rows would bypass
 * the leader's sets).
 *
 * Denials.  Before standard_ExecutorStart the range table is checked, and
 * before a TRUNCATE its tables, by capture_denial.c.
 *
 * Failures.  ExecutorRun/ExecutorFinish of a statement touching a tagged
 * table run under PG_TRY: an error gives a FAILURE event on each tagged
 * table it names, prepared as it starts, whose error_type is the
 * SQLSTATE's condition name and whose message is the primary
 * message with every quoted value blanked, then sanitised — never the
 * DETAIL, never the query.  Planning a query that names a tagged table
 * runs under PG_TRY too (WHERE id = 1/0 fails there, in a function's
 * statement as well; not for an EXPLAIN that only plans), also one naming
 * none, for the tagged tables that the body of a SQL function the planner
 * inlines names (plan_tags.c finds them: as the body is analysed under
 * the planning, bh_post_parse_analyze, in a BEGIN ATOMIC body's tree, or
 * in the query as the failing planner left it), and so does an
 * EXECUTE of a prepared statement on one (its parameters may not
 * convert; the tables it names, as statement_names.c finds them), in the
 * utility hook.  The tagged tables a query names are found in its tree by
 * plan_tags.c; the hooks here keep the statement's state (the planning
 * running, bh_planning_tags).  Every FAILURE event is built by
 * capture_failure.c (from PG_CATCH here; failures in parse analysis and
 * at Bind by its error watch, which these hooks keep installed); the hooks
 * here call it.
 *
 * All of these are autonomous: they go to the shared-memory ring
 * (ring.c), never through the statement's transaction, so a rollback or
 * the error itself does not take them away.  A statement that fails pushes
 * the READ events of what it read, and of what the statements its error
 * ends with it read, from its PG_CATCH, just before its FAILURE, so that
 * the chain has them in the order they happened (bh_emit_failed_reads);
 * one that outlives its error (a cursor whose FETCH failed, left open by a
 * savepoint's rollback) keeps its read sets, but gives no event from them
 * again.  Statements still collecting when their transaction aborts (a cursor) are
 * flushed by the abort callback (their READ events naming the role each
 * statement started as: the abort has restored the transaction's), and those
 * of a subtransaction rolled back by the subtransaction's (one that commits hands its cursors to its
 * parent, as PostgreSQL hands their portals); so is the rest of a
 * statement whose READ events an error cut short while they were being
 * pushed (a cancel while it waited for room in the ring), each event at
 * most once and without waiting (bh_emit_reads).  A statement whose
 * executor state went without ExecutorEnd (a cursor closed after its FETCH
 * failed) keeps what it read until then, for that flush, but no longer its
 * QueryDesc (bh_statement_gone).  Until they are pushed, the READ events
 * a backend's read sets would give are counted in its slot in shared
 * memory (losses.c), refreshed as the sets grow, also in the middle of a
 * run, and lowered once they are pushed (at ExecutorEnd, at the flush, or
 * as the statement's failure pushes them): a crash restart or an
 * immediate shutdown kills the backend without the flush, and the
 * postmaster counts them as lost (bh_read_set_hold).
 *
 * Logins are capture_login.c's.
 *
 * Never captured: the sealer, parallel workers (see above), foreign-key
 * checks, and the extension's own queries (they read no tagged table).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/table.h"
#include "access/xlog.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "commands/copy.h"
#include "commands/defrem.h"
#include "commands/prepare.h"
#include "executor/executor.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "optimizer/planner.h"
#include "optimizer/cost.h"
#include "optimizer/plancat.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "parser/parsetree.h"
#include "postmaster/autovacuum.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/rls.h"

#include "bh_audit.h"
#include "capture.h"
#include "capture_read.h"
#include "event.h"
#include "plan_tags.h"
#include "query_text.h"
#include "recode.h"
#include "ring.h"
#include "statement_names.h"
#include "tags.h"
#include "validate.h"

/* Settings */
int			bh_max_patients = 1000;

BhStatement *bh_statements = NULL;

/*
 * The memory context of a statement done, emptied, for the next one: a
 * context made and deleted per statement cost more than its reset.
 */
static MemoryContext bh_statement_spare_cxt = NULL;

/*
 * A statement's context starts with room for what a statement on one
 * table keeps (its state, its read set, its scan's wrapper, its FAILURE
 * event: 2-3 kB, over the 1 kB first block of ALLOCSET_SMALL_SIZES): the
 * block a reset keeps, so that the spare context serves the next such
 * statement without a malloc() and a free().
 */
#define BH_STATEMENT_CXT_INITSIZE	(4 * 1024)
static uint64 bh_statement_serial = 0;	/* statements started
										 * (BhStatement.serial) */
static int64 bh_held_reads = 0; /* the statements' held, in the slot */
static int	bh_copy_to_depth = 0;
static BhReadUtility *bh_copy_from_running = NULL;	/* the innermost COPY ...
													 * FROM running (see
													 * BhReadUtility) */
static int	bh_explain_only_depth = 0;	/* EXPLAIN without ANALYZE running */

/* Set by the sealer process: never capture it. */
bool		bh_is_sealer = false;

static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;
static planner_hook_type prev_planner = NULL;
static get_relation_info_hook_type prev_get_relation_info = NULL;
static post_parse_analyze_hook_type prev_post_parse_analyze = NULL;

/*
 * Is capture possible in this process at all?  Not on a hot standby: the
 * ledger cannot be written there (docs/read-capture.md).  Nor without the
 * preload: there is no ring and no setting then, and the SQL functions that
 * still work (the trail's) must not record their refusals.
 */
bool
bh_capture_here(void)
{
	return bh_loaded_at_startup && bh_capture_enabled && !bh_is_sealer &&
		!IsParallelWorker() && IsTransactionState() && !RecoveryInProgress();
}

/* bh_audit.events: its OID, looked up when needed ... */
static BhCachedRel bh_events_rel = {"events", InvalidOid};

Oid
bh_events_relid(void)
{
	return bh_cached_rel(&bh_events_rel);
}

/* ... or as known, without catalog access (error and abort paths). */
Oid
bh_events_relid_known(void)
{
	return bh_events_rel.relid;
}

/* bh_audit.tagged_tables, the view of the tag catalog: its OID likewise */
static BhCachedRel bh_tagged_tables_rel = {"tagged_tables", InvalidOid};

/*
 * The trail's view as the innermost planning running judges it (NULL: not
 * judged; see bh_planner_tagged)
 */
static BhViewJudged *bh_planning_view = NULL;

static Oid
bh_tagged_tables_relid(void)
{
	return bh_cached_rel(&bh_tagged_tables_rel);
}

/*
 * The relations of the audit trail: the ledger, and those of the
 * extension's that hold its events not sealed yet (the queue, and its
 * identity sequence) or its configuration (the tag catalog, its view, the
 * ledger's home).  A refused
 * access to one is a DENIED event of it (capture_denial.c), its resource
 * type and classification from here, metadata.table naming it.  Of the
 * others than the ledger nothing else is recorded: no failure, and, as of
 * the ledger, no successful read.
 */
typedef struct BhTrailRel
{
	Oid			(*relid) (void);
	const char *table;			/* metadata.table */
	const char *resource_type;
	const char *classification;
} BhTrailRel;

static const BhTrailRel bh_ledger_trail =
{bh_events_relid, "bh_audit.events", BH_RESOURCE_AUDIT_LOG, "PHI"};

static const BhTrailRel bh_trail_rels[] = {
	{bh_queue_relid, "bh_audit.queue", BH_RESOURCE_AUDIT_LOG, "PHI"},
	/* the queue's identity: a counter, no event's content */
	{bh_queue_seq_relid, "bh_audit.queue_id_seq", BH_RESOURCE_AUDIT_LOG, "NONE"},
	{bh_tags_catalog, "bh_audit.tags", BH_RESOURCE_AUDIT_CONFIG, "NONE"},
	{bh_tagged_tables_relid, "bh_audit.tagged_tables", BH_RESOURCE_AUDIT_CONFIG, "NONE"},
	{bh_home_relid, "bh_audit.ledger_home", BH_RESOURCE_AUDIT_CONFIG, "NONE"},
};

/*
 * Their OIDs, as looked up for the statement that starts (each cached,
 * forgotten on its invalidation), and the smallest and largest of them: a
 * relation out of that range, as almost every one is, is told from them by
 * two comparisons.  Looked up again only when a cached OID may have
 * changed since (bh_cached_rels_generation(); 0: never looked up).
 */
static Oid	bh_trail_relids[lengthof(bh_trail_rels)];
static Oid	bh_trail_min = InvalidOid;
static Oid	bh_trail_max = InvalidOid;
static uint64 bh_trail_generation = 0;

/* Look them up for the statement that starts (bh_trail_rel). */
void
bh_trail_rels_refresh(void)
{
	uint64		generation = bh_cached_rels_generation();
	int			i;

	if (generation == bh_trail_generation)
		return;
	bh_trail_min = OID_MAX;
	bh_trail_max = InvalidOid;
	for (i = 0; i < lengthof(bh_trail_rels); i++)
	{
		Oid			relid = bh_trail_rels[i].relid();

		bh_trail_relids[i] = relid;
		if (!OidIsValid(relid))
			continue;
		bh_trail_min = Min(bh_trail_min, relid);
		bh_trail_max = Max(bh_trail_max, relid);
	}
	/* not where a look-up failed, or an invalidation came meanwhile */
	bh_trail_generation = generation;
}

/*
 * Is relid one of the trail's relations other than the ledger, as looked
 * up last (bh_trail_rels_refresh)?  Reads no catalog.
 */
static const BhTrailRel *
bh_trail_rel_of(Oid relid)
{
	int			i;

	if (relid < bh_trail_min || relid > bh_trail_max)
		return NULL;
	for (i = 0; i < lengthof(bh_trail_rels); i++)
		if (bh_trail_relids[i] == relid)
			return &bh_trail_rels[i];
	return NULL;
}

bool
bh_trail_rel(Oid relid)
{
	return bh_trail_rel_of(relid) != NULL;
}

/*
 * The OID of the trail's relation other than the ledger named bh_audit.name,
 * as looked up last (bh_trail_rels_refresh), or InvalidOid.  Reads no
 * catalog (the error watch calls it).
 */
Oid
bh_trail_rel_named(const char *name)
{
	int			i;

	for (i = 0; i < lengthof(bh_trail_rels); i++)
		if (strcmp(bh_trail_rels[i].table + strlen("bh_audit."), name) == 0)
			return bh_trail_relids[i];
	return InvalidOid;
}

/* The schema action of a command or a permission. */
const char *
bh_action_for(CmdType cmd, AclMode perms)
{
	if (cmd == CMD_INSERT || (perms & ACL_INSERT))
		return "CREATE";
	if (cmd == CMD_UPDATE || cmd == CMD_MERGE || (perms & ACL_UPDATE))
		return "UPDATE";
	if (cmd == CMD_DELETE || (perms & ACL_DELETE))
		return "DELETE";
	return bh_copy_to_depth > 0 ? "EXPORT" : "READ";
}

/*
 * Push a finished event to the ring.  In a normal statement it is first
 * validated (bh_audit.validation_mode decides about an invalid one); from
 * error and abort paths and before a session exists (nothrow) it is pushed
 * as built, since nothing may raise there — the builder's events are valid
 * by construction, and zz_events_valid checks the whole ledger.
 */
void
bh_push(BhEvent *ev, bool nothrow)
{
	Jsonb	   *event = bh_event_build(ev, NULL);

	if (nothrow)
		(void) bh_ring_push_jsonb_nothrow(event, GetDatabaseEncoding());
	else if (bh_validate_for_emit(event))
		(void) bh_ring_push_jsonb(event);
}

/*----------------------------------------------------------------------
 * READ events
 *----------------------------------------------------------------------
 */

/* A READ (or EXPORT) event of a statement's read set, without a patient. */
static void
bh_read_event_init(BhEvent *ev, const BhStatement *st, const BhReadSet *set)
{
	bh_event_init(ev, st->export ? "EXPORT" : "READ", set->resource_type);
	ev->db_role = st->role;
	ev->phi_touched = 1;
	ev->data_classification = set->classification;
	bh_event_meta_string(ev, "table", set->table_name);
	if (set->part2)
		bh_event_meta_bool(ev, "part2", true);
}

/*
 * Is the next READ event of a statement one that an earlier emission, cut
 * short, handed to the ring already (the first skip ones)?  Counts it.
 */
static inline bool
bh_emit_skipped(BhStatement *st, int64 skip)
{
	if (st->emitted >= skip)
		return false;
	st->emitted++;
	return true;
}

/*
 * Hand the next READ event of a statement to the ring, counted before the
 * push (see bh_emit_reads).  nowait: the statement's emission was cut
 * short before, so it waits no more.  nothrow: from an error or abort
 * path, as built, within the budget of waiting of the statement's failure
 * (ring.c): the one every event gets at the end of a transaction, and the
 * one its FAILURE, pushed next, waits within when a failed statement
 * pushes its reads from PG_CATCH (bh_emit_failed_reads).
 */
static void
bh_emit_read(BhStatement *st, BhEvent *ev, bool nothrow, bool nowait, MemoryContext evcxt)
{
	st->emitted++;
	if (nowait)
		(void) bh_ring_push_jsonb_nowait(bh_event_build(ev, NULL));
	else if (nothrow)
		(void) bh_ring_push_jsonb_failure(bh_event_build(ev, NULL));
	else
		bh_push(ev, false);
	/* the event was built in evcxt: gone once pushed */
	MemoryContextReset(evcxt);
}

/*
 * Emit the READ (or EXPORT) events of a statement's read sets, at most
 * once each.  st->emitted counts the events handed to the ring, each
 * before its push: a push that raises an ERROR (a cancel or
 * statement_timeout while it waits for room, on_ring_full = error) or
 * ends the session (a terminate) counts its event as dropped itself
 * (ring.c), and leaves the statement in bh_statements for the abort
 * callback, which calls this again: it skips the events counted, and
 * pushes the others without waiting (nowait), since the statement gave up
 * waiting already; the ring counts those it drops.  The events come in
 * the same order both times (the sets are not changed in between).
 */
static void
bh_emit_reads(BhStatement *st, bool nothrow)
{
	int64		skip = st->emitted;
	bool		nowait = skip > 0;
	ListCell   *lc;

	/*
	 * Each event is built in a context of its own, emptied once it is pushed:
	 * a statement may emit a million events, and a cursor of a function's
	 * loop ends in the function's context, which lasts as long as the call.
	 */
	MemoryContext evcxt = AllocSetContextCreate(st->cxt, "bh_audit read event",
												ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(evcxt);

	st->emitted = 0;
	foreach(lc, st->sets)
	{
		BhReadSet  *set = (BhReadSet *) lfirst(lc);
		BhEvent		ev;
		HASH_SEQ_STATUS seq;
		char	   *key;
		int64		n = 0;
		int64		further;
		bool		estimated;

		if (set->rows == 0 || set->pushed)
			continue;

		if (set->has_patient)
		{
			if (set->patients)
				hash_seq_init(&seq, set->patients);
			for (;;)
			{
				if (set->patients)
				{
					BhPatientEntry *entry = hash_seq_search(&seq);

					key = entry ? entry->id : NULL;
				}
				else
					key = (n < set->nfew) ? set->few[n] : NULL;
				if (key == NULL)
					break;
				if (n >= bh_max_patients)
				{
					if (set->patients)
						hash_seq_term(&seq);
					break;
				}
				if (!bh_emit_skipped(st, skip))
				{
					bh_read_event_init(&ev, st, set);
					ev.patient_id = key;
					bh_emit_read(st, &ev, nothrow, nowait, evcxt);
				}
				n++;
			}
		}
		/* the rest, or a table without a patient column */
		further = bh_read_set_further(set, n, &estimated);
		if (!set->has_patient || further > 0)
		{
			if (!bh_emit_skipped(st, skip))
			{
				bh_read_event_init(&ev, st, set);
				if (set->has_patient)
				{
					bh_event_meta_int(&ev, "further_patients", further);
					if (estimated)
						bh_event_meta_bool(&ev, "further_patients_estimated", true);
				}
				else
					bh_event_meta_int(&ev, "rows_read", set->rows);
				bh_emit_read(st, &ev, nothrow, nowait, evcxt);
			}
		}
		/* rows of nobody's: read all the same */
		if (set->has_patient && set->null_rows > 0)
		{
			if (!bh_emit_skipped(st, skip))
			{
				bh_read_event_init(&ev, st, set);
				bh_event_meta_int(&ev, "rows_without_patient", set->null_rows);
				bh_emit_read(st, &ev, nothrow, nowait, evcxt);
			}
		}
		/* rows the transaction updated, whose earlier patients it lost */
		if (set->has_patient && set->moved_rows > 0)
		{
			if (!bh_emit_skipped(st, skip))
			{
				bh_read_event_init(&ev, st, set);
				bh_event_meta_int(&ev, "rows_updated_in_transaction", set->moved_rows);
				bh_emit_read(st, &ev, nothrow, nowait, evcxt);
			}
		}
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(evcxt);
}

/*
 * The READ (or EXPORT) events bh_emit_reads would give for a read set now
 * (none once pushed): they must agree.
 */
static int64
bh_read_set_events(const BhReadSet *set)
{
	int64		known;
	int64		n;

	if (set->rows == 0 || set->pushed)
		return 0;
	if (!set->has_patient)
		return 1;
	known = set->patients ? hash_get_num_entries(set->patients) : set->nfew;
	n = Min(known, (int64) bh_max_patients);
	if (known > n || set->beyond != NULL)
		n++;					/* further_patients */
	if (set->null_rows > 0)
		n++;
	if (set->moved_rows > 0)
		n++;
	return n;
}

/*
 * A read set grew (its first row, a new patient, its first row without a
 * patient or moved): the READ events it would now give are counted in the
 * backend's slot (losses.c), so that a crash restart or an immediate
 * shutdown, which kills the backend without its flush, counts them as
 * lost.  Called as the set grows, in the middle of the statement's run
 * (the client may have the rows already: a COPY TO streams them, a
 * protocol portal is suspended after a batch), and again as each run of
 * the executor returns (bh_statement_hold), and once its events were
 * pushed early (bh_statement_pushed: none now).  Stored only when the
 * number changed: a statement of one patient costs a store as it reads
 * that patient and one at its end (bh_statement_done).
 */
void
bh_read_set_hold(BhReadSet *set)
{
	int64		n = bh_read_set_events(set);

	if (n == set->held)
		return;
	bh_held_reads += n - set->held;
	set->held = n;
	bh_losses_held_reads(bh_held_reads);
}

/*
 * A run of the statement's executor returned (a FETCH, a portal's batch of
 * rows, the whole statement's run) or failed: its read sets are counted
 * (they are as they grow; this catches what a failure noted).
 */
static void
bh_statement_hold(BhStatement *st)
{
	ListCell   *lc;

	foreach(lc, st->sets)
		bh_read_set_hold((BhReadSet *) lfirst(lc));
}

/*
 * Every READ event of a statement was handed to the ring before its end
 * (bh_emit_failed_reads: its run failed), by an emission that was not cut
 * short: its read sets give none any more, so they hold none (lowered
 * now, after the push: a crash in between counts them twice, never not
 * at all), and the flush at the end of its (sub)transaction pushes none
 * again.  That flush cannot go by st->emitted alone: it counts events in
 * the order the sets give them, which depends on
 * bh_audit.max_patients_per_statement, and a savepoint's rollback may
 * have changed that by then (READ events of patients that the pushed ones
 * counted in further_patients).  A cursor whose FETCH failed stays open
 * until its transaction ends, but runs no more (PostgreSQL fails its
 * portal): its sets do not change.
 */
static void
bh_statement_pushed(BhStatement *st)
{
	ListCell   *lc;

	foreach(lc, st->sets)
		((BhReadSet *) lfirst(lc))->pushed = true;
	st->emitted = 0;
	bh_statement_hold(st);
}

/*
 * The statements by QueryDesc, once more than one is running (nested
 * statements, open cursors): a FETCH of one of many open cursors finds its
 * statement at once.  Only statements with a QueryDesc are in it
 * (st->hashed).  A single statement is found as the list's first.
 */
typedef struct BhStatementByQd
{
	QueryDesc  *qd;				/* the key */
	BhStatement *st;
} BhStatementByQd;

static HTAB *bh_statements_by_qd = NULL;

/*
 * A hash table for the rest of the session (TopMemoryContext) whose
 * entries, of entrysize bytes, start with a pointer, the key: statements
 * by QueryDesc here, plan-node wrappers by node (capture_read_wrap.c).
 */
HTAB *
bh_pointer_table(const char *name, Size entrysize)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(void *);
	ctl.entrysize = entrysize;
	ctl.hcxt = TopMemoryContext;
	return hash_create(name, 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

static void
bh_statement_hash(BhStatement *st)
{
	BhStatementByQd *entry;

	if (st->hashed || st->qd == NULL)
		return;
	if (bh_statements_by_qd == NULL)
		bh_statements_by_qd = bh_pointer_table("bh_audit statements",
											   sizeof(BhStatementByQd));
	entry = hash_search(bh_statements_by_qd, &st->qd, HASH_ENTER, NULL);
	entry->st = st;
	st->hashed = true;
}

/* Out of the table (neither allocates nor raises). */
static void
bh_statement_unhash(BhStatement *st)
{
	if (!st->hashed)
		return;
	(void) hash_search(bh_statements_by_qd, &st->qd, HASH_REMOVE, NULL);
	st->hashed = false;
}

/*
 * The executor state of a statement is gone without ExecutorEnd: its
 * portal was closed after a failure (a FETCH that failed, a rollback of
 * the subtransaction it belongs to), or its transaction aborts.  Its
 * QueryDesc may be freed with it, or soon after: the statement keeps what
 * it read, flushed at the end of its (sub)transaction, but no longer its
 * QueryDesc, which nothing may look at now (bh_statement_writing) nor take
 * for a new one at the same address (bh_statement_of); nor the entries of
 * its wrapped plan nodes, whose addresses new ones may have
 * (bh_wraps_forget, which neither allocates nor raises).
 */
static void
bh_statement_gone(void *arg)
{
	BhStatement *st = (BhStatement *) arg;

	if (st == NULL)
		return;					/* done before (bh_statement_done) */
	bh_wraps_forget(st);		/* its plan states are being freed */
	bh_statement_unhash(st);
	st->qd = NULL;
	st->gone = NULL;			/* freed with the executor state */
}

/* Forget a statement's state (after its events went out). */
static void
bh_statement_done(BhStatement *st)
{
	MemoryContext cxt;

	/* its executor state, still there, no longer calls back */
	if (st->gone != NULL)
		st->gone->arg = NULL;
	bh_wraps_forget(st);
	bh_statement_unhash(st);

	/*
	 * Its events were pushed (or counted as dropped) before: lowered only
	 * now, so that a crash between the push and here counts them twice (in
	 * the ring and in the slot), never not at all.
	 */
	{
		ListCell   *lc;
		int64		held = 0;

		foreach(lc, st->sets)
			held += ((BhReadSet *) lfirst(lc))->held;
		if (held != 0)
		{
			bh_held_reads -= held;
			bh_losses_held_reads(bh_held_reads);
		}
	}

	if (st->prev)
		st->prev->next = st->next;
	else
		bh_statements = st->next;
	if (st->next)
		st->next->prev = st->prev;

	/*
	 * Emptied, the context serves the next statement (one is kept).  st lives
	 * in it: its context is read before the reset frees it.
	 */
	cxt = st->cxt;
	if (bh_statement_spare_cxt == NULL)
	{
		MemoryContextReset(cxt);
		bh_statement_spare_cxt = cxt;
	}
	else
		MemoryContextDelete(cxt);
}

/* The capture state of a QueryDesc, or NULL. */
static BhStatement *
bh_statement_of(QueryDesc *qd)
{
	BhStatementByQd *entry;

	if (qd == NULL || bh_statements == NULL)
		return NULL;
	/* the innermost: the only one, mostly */
	if (bh_statements->qd == qd)
		return bh_statements;
	if (bh_statements_by_qd == NULL)
		return NULL;
	entry = hash_search(bh_statements_by_qd, &qd, HASH_FIND, NULL);
	return entry ? entry->st : NULL;
}

/*----------------------------------------------------------------------
 * Denials and failures
 *----------------------------------------------------------------------
 */

/* Base an event on a relation of the trail (bh_trail_rels, the ledger). */
static void
bh_event_for_trail(BhEvent *ev, const char *action, const BhTrailRel *rel)
{
	bh_event_init(ev, action, rel->resource_type);
	ev->data_classification = rel->classification;
	bh_event_meta_string(ev, "table", rel->table);
}

/* Base an event on a tag (NULL: the ledger itself); strings copied. */
void
bh_event_for_tag(BhEvent *ev, const char *action, const BhTag *tag)
{
	if (tag)
	{
		bh_event_init(ev, action, pstrdup(tag->resource_type));
		ev->data_classification = pstrdup(tag->classification);
		bh_event_meta_string(ev, "table", pstrdup(tag->tagged_table_name));
		if (tag->part2)
			bh_event_meta_bool(ev, "part2", true);
	}
	else
		bh_event_for_trail(ev, action, &bh_ledger_trail);
}

/*
 * Base an event on a tagged table, the ledger itself or another relation
 * of the trail (bh_trail_rel).
 */
void
bh_event_for_table(BhEvent *ev, const char *action, Oid relid, Oid events_relid)
{
	const BhTrailRel *trail = (relid == events_relid) ? NULL : bh_trail_rel_of(relid);

	if (trail != NULL)
		bh_event_for_trail(ev, action, trail);
	else
		bh_event_for_tag(ev, action, (relid == events_relid) ? NULL : bh_tag_lookup(relid));
}

/*
 * Base an event on relid if it is one of the trail's relations other than
 * the ledger, as looked up last (bh_trail_rels_refresh): returns its name
 * (without its schema), or NULL (ev untouched).  Reads no catalog.
 */
const char *
bh_event_for_trail_rel(BhEvent *ev, const char *action, Oid relid)
{
	const BhTrailRel *trail = bh_trail_rel_of(relid);

	if (trail == NULL)
		return NULL;
	bh_event_for_trail(ev, action, trail);
	return trail->table + strlen("bh_audit.");
}

/*
 * Tagged relations (and bh_audit.events) in a range table; *trail set if it
 * names another relation of the trail (bh_trail_rel), whose refusal is
 * recorded (bh_check_denials), and nothing else of its access.
 */
static List *
bh_tagged_in(List *rtable, Oid events_relid, bool *trail)
{
	List	   *result = NIL;
	ListCell   *lc;

	bh_trail_rels_refresh();
	foreach(lc, rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind != RTE_RELATION)
			continue;
		if ((OidIsValid(events_relid) && rte->relid == events_relid) ||
			bh_tag_lookup(rte->relid) != NULL)
			result = list_append_unique_oid(result, rte->relid);
		else if (bh_trail_rel_of(rte->relid) != NULL)
			*trail = true;
	}
	return result;
}

/*
 * Does a range table read the ledger, directly or through a view (whose
 * relations the rewriter added to it)?  An INSERT into it asks for no
 * SELECT privilege: no read.
 */
static bool
bh_reads_ledger(List *rtable)
{
	Oid			events_relid = bh_events_relid();
	ListCell   *lc;

	if (!OidIsValid(events_relid))
		return false;
	foreach(lc, rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind == RTE_RELATION && rte->relid == events_relid &&
			(rte->requiredPerms & ACL_SELECT) != 0)
			return true;
	}
	return false;
}

/*
 * The tables tagged on their own under the untagged partitioned table an
 * INSERT routes its rows to (the tag cache's list, in bound order): its
 * range table names no tagged table, but the rows it writes are the
 * partitions', and so is its failure, whether it comes before any row is
 * routed or after; with ON CONFLICT DO UPDATE, so are the stored rows its
 * WHERE condition and SET list are given (bh_wrap_on_conflict, which
 * finds them itself).  Only the first BH_FAILURE_TABLES: each is tagged
 * on its own, one failure each, and nothing else asks for the rest (an
 * INSERT through a table with a thousand of them pays for 64, not for a
 * thousand).  NIL at once when no tagged table is a partition under an
 * untagged one.
 */
static List *
bh_tagged_routed_to(PlannedStmt *stmt)
{
	ModifyTable *mt = (ModifyTable *) stmt->planTree;
	const BhTagView *through;
	List	   *result = NIL;
	int			i;

	if (mt == NULL || !IsA(mt, ModifyTable) || mt->operation != CMD_INSERT ||
		list_length(mt->resultRelations) != 1)
		return NIL;
	through = bh_tags_through(rt_fetch(linitial_int(mt->resultRelations), stmt->rtable)->relid,
							  false);
	if (through == NULL)
		return NIL;
	for (i = 0; i < Min(through->ntables, BH_FAILURE_TABLES); i++)
		result = lappend_oid(result, through->tables[i]);
	return result;
}

/*----------------------------------------------------------------------
 * Hooks
 *----------------------------------------------------------------------
 */

/*
 * Does the statement write relid: a target, whose range table entry asks
 * for a write privilege (FOR UPDATE asks for UPDATE, but reads), or one of
 * its plan's result relations — a partition that an UPDATE or a DELETE
 * through its partitioned table changes (the planner adds it asking for
 * no privilege of its own), a MERGE's target also when its actions are all
 * DO NOTHING (which asks for no write privilege)?
 */
static bool
bh_writes_rel(PlannedStmt *stmt, Oid relid)
{
	ListCell   *lc;

	foreach(lc, stmt->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind == RTE_RELATION && rte->relid == relid &&
			(rte->requiredPerms & (ACL_INSERT | ACL_UPDATE | ACL_DELETE)) != 0 &&
			rte->rellockmode != RowShareLock)
			return true;
	}
	foreach(lc, stmt->resultRelations)
		if (rt_fetch(lfirst_int(lc), stmt->rtable)->relid == relid)
		return true;
	return false;
}

/*
 * Prepare the FAILURE event of a statement (qd) on a tagged relation (or
 * the ledger): a failure on a table the statement only reads is a failed
 * read, on one it writes (bh_writes_rel) the statement's command; every
 * table an INSERT routes its rows to (routed) is written.
 */
static void
bh_table_failure_init(BhTableFailure *failure, QueryDesc *qd, Oid relid, Oid events_relid,
					  bool routed)
{
	const BhTag *tag = (relid == events_relid) ? NULL : bh_tag_lookup(relid);

	failure->writes = routed || bh_writes_rel(qd->plannedstmt, relid);
	bh_event_for_tag(&failure->ev,
					 bh_action_for(failure->writes ? qd->operation : CMD_SELECT, 0), tag);
	failure->relid = relid;
	failure->tagged = tag ? tag->tagged_relid : relid;
}

/*
 * The FAILURE events of a statement (st, in its memory) on the tagged
 * relations it names (tagged, more than one): one per tagged table (a
 * partition counts for its table, as the relation the statement accesses
 * itself when it does), up to BH_FAILURE_TABLES, first those it accesses
 * itself in the order of its range table (with privileges to check), then
 * the others (partitions tagged on their own under an untagged table it
 * names), not a rule's placeholder of the view it belongs to (a
 * materialized view's definition, run by REFRESH, names the view so).
 */
static void
bh_statement_failures(BhStatement *st, QueryDesc *qd, List *tagged, Oid events_relid,
					  bool routed)
{
	Oid			tables[BH_FAILURE_TABLES];
	Oid			groups[BH_FAILURE_TABLES];
	int			n = 0;
	int			pass;
	int			i;

	/* routed: the range table names none of them, each is a partition */
	for (pass = routed ? 1 : 0; pass < 2 && n < BH_FAILURE_TABLES; pass++)
	{
		ListCell   *lc;

		foreach(lc, pass == 0 ? qd->plannedstmt->rtable : tagged)
		{
			Oid			relid;
			const BhTag *tag;

			if (n == BH_FAILURE_TABLES)
				break;			/* full: the rest would be dropped */
			if (pass == 0)
			{
				RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

				if (rte->rtekind != RTE_RELATION || rte->requiredPerms == 0 ||
					!list_member_oid(tagged, rte->relid))
					continue;
				relid = rte->relid;
			}
			else
			{
				relid = lfirst_oid(lc);
				if (!routed && get_rel_relkind(relid) == RELKIND_MATVIEW)
					continue;
			}
			tag = (relid == events_relid) ? NULL : bh_tag_lookup(relid);
			(void) bh_failure_tables_add(tables, groups, &n, relid,
										 tag ? tag->tagged_relid : relid);
		}
	}
	st->failures = palloc(n * sizeof(BhTableFailure));
	st->nfailures = n;
	for (i = 0; i < n; i++)
		bh_table_failure_init(&st->failures[i], qd, tables[i], events_relid, routed);
}

/*
 * A relation of relids (NIL: any tagged relation) that a statement still
 * running in this session changes, or InvalidOid.  Its AFTER row triggers,
 * bh_audit's capture among them, fire only at its end: capture must not be
 * switched off or the table untagged before (config_guard.c, tags.c).
 * Deferred triggers (a deferred foreign key) are not capture's: a finished
 * statement is no longer here.
 */
Oid
bh_statement_writing(List *relids)
{
	BhStatement *st;
	BhReadUtility *copy;
	ListCell   *lc;

	/* COPY ... FROM (no executor statement; its triggers fire at its end) */
	for (copy = bh_copy_from_running; copy != NULL; copy = copy->copy_from_outer)
		if (OidIsValid(copy->copy_from_relid) &&
			(relids == NIL || list_member_oid(relids, copy->copy_from_relid)))
			return copy->copy_from_relid;
	for (st = bh_statements; st != NULL; st = st->next)
	{
		if (st->qd == NULL)
			continue;			/* no longer running (bh_statement_gone) */
		foreach(lc, relids != NIL ? relids : st->tagged)
			if (bh_writes_rel(st->qd->plannedstmt, lfirst_oid(lc)))
			return lfirst_oid(lc);
	}
	return InvalidOid;
}

/* The next ExecutorStart hook, or the executor's own. */
static void
bh_executor_start(QueryDesc *qd, int eflags)
{
	if (prev_ExecutorStart)
		prev_ExecutorStart(qd, eflags);
	else
		standard_ExecutorStart(qd, eflags);
}

/* A refused call of one of bh_audit's functions is a denial (see below). */
static void
bh_start_refused(void *refused)
{
	bh_record_refusal("permission denied for function %s", bh_push_refused_function, refused);
}

/*
 * bh_executor_start() for a plan calling functions of bh_audit's that the
 * user may not execute (refused): PostgreSQL refuses one as it prepares
 * its call, and that refusal is a denial (capture_denial.c).
 */
static void
bh_executor_start_refusing(QueryDesc *qd, int eflags, List *refused)
{
	BhFailFrame frame;

	bh_fail_frame_push(&frame, bh_start_refused, refused, NULL);
	PG_TRY();
	{
		bh_executor_start(qd, eflags);
	}
	PG_CATCH();
	{
		bh_fail_frame_pop(&frame);
		bh_release_error_locks();
		bh_start_refused(refused);
		PG_RE_THROW();
	}
	PG_END_TRY();
	bh_fail_frame_pop(&frame);
}

static void
bh_ExecutorStart(QueryDesc *qd, int eflags)
{
	BhStatement *st = NULL;
	List	   *tagged = NIL;
	List	   *refused = NIL;
	Oid			events_relid = InvalidOid;
	bool		routed_only = false;
	bool		trail = false;

	/* a tagging committed since, which nothing may have taken in yet */
	bh_tags_catch_up();
	bh_error_watch_install();
	bh_failure_statement_starts(qd->sourceText, false);
	bh_config_guard_session();
	bh_statement_starting();

	/*
	 * Foreign-key checks and cascades (the queries of PostgreSQL's RI
	 * triggers) disclose nothing to the user: not reads.  They are
	 * recognisable by their no-force-RLS security context, by being run
	 * without firing triggers at their end, and by sending their rows to SPI
	 * (or nowhere).  What a user's trigger does while a cascade runs (in the
	 * same security context) is: also a SQL function's last SELECT, which
	 * PostgreSQL runs lazily, without firing triggers at its end either, but
	 * sending its rows to the function's result.
	 */
	if (bh_capture_here() &&
		!(InNoForceRLSOperation() && (eflags & EXEC_FLAG_SKIP_TRIGGERS) &&
		  (qd->dest->mydest == DestSPI || qd->dest->mydest == DestNone)))
	{
		events_relid = bh_events_relid();
		if (OidIsValid(events_relid))
			tagged = bh_tagged_in(qd->plannedstmt->rtable, events_relid, &trail);
	}

	/*
	 * A superuser passes every privilege check but those PostgreSQL makes as
	 * a view's owner who is none (bh_checked_as_other: a look at the range
	 * table, no catalog read without such a view); a statement on no tagged
	 * table may still be refused a table of a tagged one's name
	 */
	if (OidIsValid(events_relid) &&
		(!superuser() || bh_checked_as_other(qd->plannedstmt)) &&
		(trail || tagged != NIL ||
		 (bh_tags_any() && bh_denials_by_name_possible(qd->plannedstmt))))
		bh_check_denials(qd, eflags, tagged, events_relid);
	if (qd->plannedstmt->invalItems != NIL && bh_capture_here() &&
		!(eflags & EXEC_FLAG_EXPLAIN_ONLY) && !superuser())
		refused = bh_function_denials(qd->plannedstmt);

	/*
	 * An EXPLAIN without ANALYZE is refused a table as the executor starts (a
	 * denial, above), but reads and writes nothing
	 */
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
	{
		tagged = NIL;
		events_relid = InvalidOid;
	}

	/*
	 * a client's prepared statement bound again: keep it noted
	 * (statement_names.c)
	 */
	if (qd->params != NULL)
		bh_param_stmt_refresh(qd->sourceText);

	if (refused == NIL)
		bh_executor_start(qd, eflags);
	else
		bh_executor_start_refusing(qd, eflags, refused);

	/*
	 * a read of the ledger after seal() under this snapshot (seal_wait.c); a
	 * parallel worker's is under its leader's
	 */
	if (IsParallelWorker())
		bh_seal_unseen_worker();
	if (bh_seal_unseen && !(eflags & EXEC_FLAG_EXPLAIN_ONLY) &&
		bh_reads_ledger(qd->plannedstmt->rtable))
		bh_seal_unseen_read();
	if (tagged == NIL && OidIsValid(events_relid) && bh_tags_any() &&
		(tagged = bh_tagged_routed_to(qd->plannedstmt)) != NIL)
		routed_only = true;

	if (tagged != NIL)
	{
		MemoryContext cxt = bh_statement_spare_cxt;
		MemoryContext old;
		int			i;

		if (cxt != NULL)
			bh_statement_spare_cxt = NULL;
		else
			cxt = AllocSetContextCreate(TopMemoryContext, "bh_audit statement",
										0, BH_STATEMENT_CXT_INITSIZE,
										ALLOCSET_SMALL_MAXSIZE);
		old = MemoryContextSwitchTo(cxt);

		st = palloc0(sizeof(BhStatement));
		st->qd = qd;
		st->cxt = cxt;
		st->serial = ++bh_statement_serial;
		st->subid = GetCurrentSubTransactionId();
		st->tagged = list_copy(tagged);
		if (list_length(tagged) == 1)
		{
			st->failures = &st->one;
			st->nfailures = 1;
			bh_table_failure_init(&st->one, qd, linitial_oid(tagged), events_relid,
								  routed_only);
		}
		else
			bh_statement_failures(st, qd, tagged, events_relid, routed_only);
		(void) bh_session_user_name();	/* warm: events may be built on abort */
		st->role = bh_current_role_warm();
		if (st->role != NULL)
			st->role = pstrdup(st->role);

		/*
		 * its failures too: PostgreSQL restores the role a SECURITY DEFINER
		 * function or a function's SET ROLE changed only as the error aborts
		 * the transaction, after the failure is recorded
		 */
		for (i = 0; i < st->nfailures; i++)
			st->failures[i].ev.db_role = st->role;
		/* told when the executor state goes, with or without ExecutorEnd */
		st->gone = MemoryContextAlloc(qd->estate->es_query_cxt,
									  sizeof(MemoryContextCallback));
		st->gone->func = bh_statement_gone;
		st->gone->arg = st;
		MemoryContextRegisterResetCallback(qd->estate->es_query_cxt, st->gone);
		/* innermost first; the others found by their QueryDesc */
		if (bh_statements != NULL)
		{
			bh_statement_hash(bh_statements);
			bh_statement_hash(st);
			bh_statements->prev = st;
		}
		st->next = bh_statements;
		bh_statements = st;
		MemoryContextSwitchTo(old);
		bh_rows_opened(st);
		bh_wrap_plan(st);
	}
}

/*
 * A statement's run or finish failed: push the READ (or EXPORT) events of
 * what it read, and of what the statements started within that run read
 * (a function's cursor, a function's statement whose own failure pushed
 * them already), before its FAILURE: the rows were read before the error.
 * The error ends those statements with it; the statement itself runs no
 * more either (PostgreSQL marks a failed portal so, also one a savepoint's
 * rollback leaves open), so its read sets no longer change: once pushed,
 * they neither hold events in the backend's slot nor give any to the
 * flush at the end of its (sub)transaction (bh_statement_pushed).  The
 * list goes from the statement started last: those started within the
 * run come first.
 */
static void
bh_emit_failed_reads(BhStatement *st)
{
	BhStatement *inner;

	for (inner = bh_statements; inner != NULL && inner->serial > st->run_from;
		 inner = inner->next)
	{
		bh_emit_reads(inner, true);
		bh_statement_pushed(inner);
	}
	bh_emit_reads(st, true);
	bh_statement_pushed(st);
}

/*
 * A statement's run or finish failed (from its PG_CATCH, or at the exit
 * after an error exit_on_error raised as FATAL): the rows the error
 * showed, the rows its scans were evaluating (a WITH's write runs in the
 * finish), its READ events, its FAILURE.  The statement may outlive the
 * error (a cursor opened before a savepoint that ROLLBACK TO leaves open, a
 * PL/pgSQL EXCEPTION block around a FETCH) until its transaction ends, but
 * its READ events are pushed now: from here on the backend's slot counts
 * none of them (bh_statement_pushed), which would count them a second
 * time, as lost, if a crash restart or an immediate shutdown came before
 * that end.
 */
static void
bh_executor_failed(void *arg)
{
	BhStatement *st = (BhStatement *) arg;

	bh_record_shown();
	if (st)
	{
		bh_note_rows_at_failure(st);
		bh_emit_failed_reads(st);
		bh_record_statement_failure(st->failures, st->nfailures);
	}
}

/*
 * The start of a statement's run or finish, before its PG_TRY, the same
 * for both: its failure frame pushed (a failure recorded by
 * bh_executor_failed()), and what runs inside it one statement deeper.
 * Returns what bh_executor_leave() puts back.
 */
static int
bh_executor_enter(BhFailFrame *frame, BhStatement *st, QueryDesc *qd)
{
	bh_fail_frame_push(frame, bh_executor_failed, st, st ? qd->sourceText : NULL);
	return bh_statement_nest_enter();
}

/*
 * The end of a statement's run or finish, returned from or (failed) left
 * by an error, from its PG_CATCH: the statement's depth put back (nest,
 * from bh_executor_enter()), its failure frame and failure depth left;
 * after an error, the locks it left released and the failure recorded
 * (bh_executor_failed()).
 */
static void
bh_executor_leave(BhFailFrame *frame, int depth, int nest, BhStatement *st, bool failed)
{
	bh_statement_nest_leave(nest);
	bh_fail_frame_pop(frame);
	bh_failure_statement_leave(depth);
	if (failed)
	{
		bh_release_error_locks();
		bh_executor_failed(st);
	}
}

static void
bh_ExecutorRun(QueryDesc *qd, ScanDirection direction, uint64 count, bool execute_once)
{
	BhStatement *volatile st = bh_statement_of(qd);
	int			depth = bh_failure_statement_enter(false);
	BhFailFrame frame;
	BhContextMark fetched_by = {0};
	int			i;
	int			nest;

	/*
	 * A cursor opened before seal() and fetched after it, under this snapshot
	 * (seal_wait.c): a read of the ledger that no executor start shows
	 */
	if (bh_seal_unseen && bh_reads_ledger(qd->plannedstmt->rtable))
		bh_seal_unseen_read();
	if (st)
	{
		st->run_from = bh_statement_serial;
		/* running: its rows are being fetched (bh_rows_fetched) */
		fetched_by = st->fetched_by;
		st->fetched_by.frame = NULL;

		/*
		 * Run while a COPY ... TO runs (its own query, a function it calls
		 * fetching a cursor): an export.  Where the statement started does
		 * not say: a cursor a function opens inside a COPY may be fetched by
		 * the client after it.  A reading statement's failures name the same
		 * action as its reads.
		 */
		if (bh_copy_to_depth > 0)
			st->export = true;
		for (i = 0; i < st->nfailures; i++)
		{
			BhEvent    *ev = &st->failures[i].ev;

			if (strcmp(ev->action, "READ") == 0 || strcmp(ev->action, "EXPORT") == 0)
				ev->action = st->export ? "EXPORT" : "READ";
		}
	}
	nest = bh_executor_enter(&frame, st, qd);
	PG_TRY();
	{
		if (prev_ExecutorRun)
			prev_ExecutorRun(qd, direction, count, execute_once);
		else
			standard_ExecutorRun(qd, direction, count, execute_once);
	}
	PG_CATCH();
	{
		bh_executor_leave(&frame, depth, nest, st, true);
		PG_RE_THROW();
	}
	PG_END_TRY();
	bh_executor_leave(&frame, depth, nest, st, false);
	if (st)
		bh_statement_hold(st);

	/*
	 * A cursor's rows fetched into SPI (a PL/pgSQL FOR loop's, a FETCH's):
	 * PL/pgSQL may yet fail it as it takes them (capture_failure_spi.c)
	 */
	if (st && qd->dest != NULL && qd->dest->mydest == DestSPI)
		bh_rows_fetched(st);

	/*
	 * or into a cursor's store, fetched from it later: likewise (the frame
	 * that fetched its rows last before, a held loop's)
	 */
	if (st && qd->dest != NULL && qd->dest->mydest == DestTuplestore)
		bh_rows_stored(st, &fetched_by);
}

static void
bh_ExecutorFinish(QueryDesc *qd)
{
	BhStatement *volatile st = bh_statement_of(qd);
	int			depth = bh_failure_statement_enter(false);
	BhFailFrame frame;
	int			nest;

	if (st)
	{
		st->run_from = bh_statement_serial;
		st->fetched_by.frame = NULL;
	}
	nest = bh_executor_enter(&frame, st, qd);
	PG_TRY();
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(qd);
		else
			standard_ExecutorFinish(qd);
		/* its AFTER ROW triggers have fired: its moves are all inserted */
		if (qd->operation != CMD_SELECT || qd->plannedstmt->hasModifyingCTE)
			bh_moved_statement_end(qd->estate->es_output_cid);
	}
	PG_CATCH();
	{
		bh_executor_leave(&frame, depth, nest, st, true);
		PG_RE_THROW();
	}
	PG_END_TRY();
	bh_executor_leave(&frame, depth, nest, st, false);
}

static void
bh_ExecutorEnd(QueryDesc *qd)
{
	BhStatement *st = bh_statement_of(qd);

	if (st)
		bh_emit_reads(st, false);

	/*
	 * Its rows go to SPI (a function's statement, run by SPI for its code to
	 * take them): PL/pgSQL may yet fail it as it takes them
	 * (capture_failure.c)
	 */
	if (st && qd->dest != NULL && qd->dest->mydest == DestSPI)
		bh_failure_statement_finished(qd, st->failures, st->nfailures);
	if (st)
		bh_statement_done(st);
	if (bh_utility_nesting() == 0)
		bh_client_stmt_finished(qd->sourceText);
	if (prev_ExecutorEnd)
		prev_ExecutorEnd(qd);
	else
		standard_ExecutorEnd(qd);
}

/*
 * Flush the statements of an aborted (sub)transaction: what they read
 * counts.  The statements of a subtransaction are the first ones: the list
 * goes from the innermost statement to the outermost, and their
 * subtransactions from the innermost to the outermost (a statement's is
 * the innermost one open when it started, ids grow, and at a
 * subtransaction's end its statements are its parent's or gone), so
 * the walk stops at the first of an enclosing one.
 */
static void
bh_flush_statements(bool all, SubTransactionId subid)
{
	BhStatement *st = bh_statements;

	while (st)
	{
		BhStatement *next = st->next;

		if (!all && st->subid < subid)
			break;
		if (all || st->subid == subid)
		{
			bh_emit_reads(st, true);
			bh_statement_done(st);
		}
		st = next;
	}
}

static void
bh_read_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_PRE_PREPARE)
		bh_failure_preparing();
	if (event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_ABORT &&
		event != XACT_EVENT_COMMIT && event != XACT_EVENT_PARALLEL_COMMIT &&
		event != XACT_EVENT_PREPARE)
		return;
	if (bh_statements != NULL)
		bh_flush_statements(true, InvalidSubTransactionId);
	bh_failure_xact_end(event == XACT_EVENT_ABORT);
	bh_moved_xact_end();
}

/*
 * At subtransaction end.  Committed: its statements still running (cursors)
 * are its parent's now, as PostgreSQL hands their portals to the parent
 * (AtSubCommit_Portals): a rollback of the parent closes them.  Rolled
 * back: its statements are flushed.
 */
static void
bh_read_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		BhStatement *st;

		/* the first ones (see bh_flush_statements) */
		for (st = bh_statements; st != NULL && st->subid >= mySubid; st = st->next)
			if (st->subid == mySubid)
				st->subid = parentSubid;
		bh_failure_subxact_commit();
	}
	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	bh_moved_subxact_abort(mySubid);
	if (bh_statements != NULL)
		bh_flush_statements(false, mySubid);
	bh_failure_subxact_abort();
}

/*
 * Early in every statement (its first name lookup): load the tag cache, the
 * session user's name and the database encoding's conversions, which the
 * abort path needs and cannot look up.
 * Not in autovacuum, whose name lookups (index expressions) are no
 * statements of anyone's.
 */
void
bh_capture_read_warm(void)
{
	if (bh_capture_here() && !IsBootstrapProcessingMode() && !IsAutoVacuumWorkerProcess())
	{
		bh_tags_warm();
		(void) bh_session_user_name();
		bh_current_role_warm();
		bh_recode_warm();
		bh_error_watch_install();
	}
}

/*
 * The tagged tables of the innermost planning running that captures (see
 * bh_planner_tagged), to which the bodies of the SQL functions it inlines
 * add theirs (bh_post_parse_analyze, bh_plan_body_settle); NULL when none
 * runs.
 */
static BhPlanTags *bh_planning_tags = NULL;

/*
 * Does this transaction hold a lock on the ledger (events_relid), or on a
 * view the tag cache knows to read it?  A cheap sign, with nothing tagged,
 * that a statement just analysed may name the ledger (parse analysis locks
 * each relation a statement names): a lock an earlier statement of the
 * transaction took costs only the walk of the query that finds out.
 * Reads nothing from the catalog.
 */
static bool
bh_ledger_maybe_named(Oid events_relid)
{
	List	   *views;
	ListCell   *lc;

	if (!OidIsValid(events_relid))
		return false;
	if (bh_locked_by_me(events_relid))
		return true;
	views = bh_tags_views_reading(events_relid);
	foreach(lc, views)
		if (bh_locked_by_me(lfirst_oid(lc)))
		return true;
	return false;
}

/*
 * After parse analysis: a client's statement with parameters (a Parse
 * message; not a function's statement, not PREPARE's query, which is
 * analysed while the PREPARE runs) that names a tagged table is noted, for
 * a failure at Bind, with each tagged table it names (or reaches through
 * an untagged partitioned table or a view it names), that relation and its
 * action, as a failure of its executor or its planning would be recorded,
 * then the other relations it names, each with its action (tagged, or
 * above partitions tagged on their own, or views reading tagged tables by
 * the time of the Bind, they count too); and so is one that names none now
 * where an earlier analysis of its text found one (bh_param_stmt_note,
 * statement_names.c).  With nothing tagged, only one that may name the
 * ledger or a view over it (as the locks its analysis took say,
 * bh_ledger_maybe_named), or whose text an earlier analysis noted (its
 * note must say what the text names now), is looked at: the ledger is
 * audited then too.
 */
static void
bh_post_parse_analyze(ParseState *pstate, Query *query, JumbleState *jstate)
{
	BhPlanTags	found;
	Oid			tables[2 * BH_FAILURE_TABLES];
	Oid			tagged[2 * BH_FAILURE_TABLES];
	Oid			named[2 * BH_FAILURE_TABLES];
	const char *actions[2 * BH_FAILURE_TABLES];
	int			n;
	int			i;

	if (prev_post_parse_analyze)
		prev_post_parse_analyze(pstate, query, jstate);

	/*
	 * Every statement, utility statements too (COMMIT, ROLLBACK TO), is
	 * analysed outside any PG_TRY block: the error watch put back here stays
	 * for the statement's end, its commit included (put back inside the
	 * executor or utility hooks, the enclosing PG_END_TRY — theirs,
	 * PortalRun's — would restore the stack it found, empty after an
	 * error's recovery).
	 */
	if (bh_capture_here())
		bh_error_watch_install();
	bh_failure_statement_starts(pstate->p_sourcetext, false);
	bh_client_stmt_analyzed(pstate->p_sourcetext, query->stmt_location, query->stmt_len);

	/*
	 * A query analysed as a planning runs (the body of a SQL function it
	 * inlines; of one it folds, whose own planning judges it again): the
	 * trail's view it reads may be refused as the planning goes on.
	 */
	if (bh_planning_view != NULL)
		bh_view_refusal_judge(query, bh_planning_view);

	/*
	 * The body of a SQL function that the planner inlines (a set-returning
	 * function in FROM that is not VOLATILE), analysed while it plans a
	 * query, under the one error context frame the planner pushed for it
	 * ("SQL function ... during inlining"; a SQL function the planner folds
	 * runs under one too, a PL/pgSQL function's statements under more): the
	 * tagged tables it names are the planned query's too, should planning
	 * fail from here on (a refusal by row-level security as the body is
	 * rewritten, a constant of it folded to an error), unless the function
	 * turns out to run, or its body not to fit, not to be inlined: noted
	 * aside until then (bh_plan_body_settle).  The client's own query is
	 * analysed before it is planned.
	 */
	if (bh_planning_tags != NULL && pstate->p_sourcetext != debug_query_string &&
		bh_error_context_one_since(bh_planning_tags->context))
	{
		BhPlanBody *body = bh_planning_tags->body;

		/*
		 * another function's body than the one noted: under another frame, or
		 * under one at the same place (bh_plan_body_goes_on), the one noted
		 * over, inlined or not as the query now shows
		 */
		if (!bh_context_mark_is_top(&body->frame))
			bh_plan_body_settle(bh_planning_tags, false);
		else if (!bh_plan_body_goes_on(body, pstate->p_sourcetext, query->stmt_location))
			bh_plan_body_end(bh_planning_tags, bh_plan_body_inlined(body));
		if (body->frame.frame == NULL)
			bh_plan_body_begin(body, pstate->p_sourcetext);
		body->location = query->stmt_location;
		bh_plan_tags_init(&found);
		bh_plan_tags_body_walk(&found, (Node *) query, bh_planning_tags->events_relid);
		bh_plan_body_add(bh_planning_tags, &found);
		/* analysed: its refusal is not taken for a tree's (see bh_body) */
		bh_failure_body_analyzed(NULL, NULL, NULL, 0);
	}
	/* a function's statement analysed as it starts (see bh_body) */
	else if (bh_planning_tags == NULL && pstate->p_sourcetext != debug_query_string &&
			 bh_capture_here() &&
			 bh_tags_any())
	{
		bh_plan_tags_init(&found);
		found.events_relid = bh_events_relid();
		(void) bh_plan_tags_walker((Node *) query, &found);
		if (found.nparents > 0)
			bh_plan_tags_through(&found);
		bh_failure_body_analyzed(found.tables, found.tagged, found.actions, found.ntables);
	}
	if (pstate->p_paramref_hook == NULL || pstate->p_sourcetext == NULL ||
		pstate->p_sourcetext != debug_query_string || bh_utility_nesting() > 0 ||
		!bh_capture_here() ||
		(!bh_tags_any() && !bh_ledger_maybe_named(bh_events_relid()) &&
		 bh_param_stmt_find(pstate->p_sourcetext) == NULL) ||
		bh_sql_action(pstate->p_sourcetext) == NULL)
		return;
	bh_plan_tags_init(&found);
	found.events_relid = bh_events_relid();
	found.note_others = true;
	found.views = true;
	(void) bh_plan_tags_walker((Node *) query, &found);
	if (found.nparents > 0)
		bh_plan_tags_through(&found);
	bh_plan_tags_reads(&found);
	n = found.ntables;
	memcpy(tables, found.tables, n * sizeof(Oid));
	memcpy(tagged, found.tagged, n * sizeof(Oid));
	memcpy(named, found.named, n * sizeof(Oid));
	memcpy(actions, found.actions, n * sizeof(const char *));
	/* the others, untagged (tagged InvalidOid) */
	for (i = 0; i < found.nothers; i++, n++)
	{
		tables[n] = found.others[i];
		tagged[n] = InvalidOid;
		named[n] = found.others[i];
		actions[n] = found.other_actions[i] ? found.other_actions[i] :
			bh_action_for(CMD_SELECT, 0);
	}
	bh_param_stmt_note(pstate->p_sourcetext, n, tables, tagged, named, actions);
}

/* Plan, without or with parallelism (see bh_planner). */
static PlannedStmt *
bh_plan(Query *parse, const char *query_string, int cursorOptions, ParamListInfo boundParams)
{
	if (prev_planner)
		return prev_planner(parse, query_string, cursorOptions, boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

/* What a planning's failure is recorded by (bh_plan_noting_failure) */
typedef struct BhPlanWatch
{
	BhPlanTags *found;			/* the tagged tables it names, or NULL */
	BhViewJudged *view;			/* the trail's view as judged, or NULL */
} BhPlanWatch;

/*
 * A query that failed to plan: PostgreSQL's refusal of the trail's view, a
 * denial (bh_push_refused_view); otherwise a failure on each tagged table
 * it names or reaches through a SQL function the planner inlined, a failed
 * read (or export) of those it only reads.
 */
static void
bh_plan_failed(void *arg)
{
	BhPlanWatch *watch = (BhPlanWatch *) arg;
	BhPlanTags *found = watch->found;
	int			i;

	if (watch->view != NULL && watch->view->found.refused)
		bh_record_refusal("permission denied for view %s", bh_push_refused_view, watch->view);
	if (found == NULL)
		return;
	bh_plan_body_settle(found, false);
	if (found->parse != NULL)
		bh_plan_tags_failed(found, found->parse);
	/* the BEGIN ATOMIC bodies the planner inlined (bh_plan_tags_tree) */
	for (i = 0; i < found->ntrees; i++)
	{
		int			n = found->ntables;

		if ((bh_locked_by_me(found->tree_named[i]) ||
			 bh_locked_by_me(found->tree_tables[i])) &&
			bh_failure_tables_add(found->tables, found->tagged, &found->ntables,
								  found->tree_tables[i], found->tree_tagged[i]) == n)
			found->actions[n] = NULL;
	}

	bh_plan_tags_reads(found);
	bh_record_caught_failure(found->tables, found->actions, found->ntables);
}

/*
 * An error context callback under a planning (found): is an error (or
 * another report) raised as the body noted is prepared, its frame the
 * innermost one?  Adds no line to the context.
 */
static void
bh_plan_error_seen(void *arg)
{
	BhPlanTags *found = (BhPlanTags *) arg;
	BhPlanBody *body = found ? found->body : NULL;

	if (body == NULL)
		return;
	body->failed_preparing = (body->frame.frame != NULL &&
							  bh_context_mark_is_top(&body->frame));
}

/*
 * bh_plan(), recording a failure of the query as watch says
 * (bh_plan_failed); under a frame of bh_plan_error_seen, the frame the
 * bodies of the SQL functions it analyses count from (found->context).
 */
static PlannedStmt *
bh_plan_noting_failure(Query *parse, const char *query_string, int cursorOptions,
					   ParamListInfo boundParams, BhPlanWatch *watch)
{
	PlannedStmt *volatile result = NULL;
	BhFailFrame frame;
	ErrorContextCallback seen;

	seen.callback = bh_plan_error_seen;
	seen.arg = watch->found;
	seen.previous = error_context_stack;
	error_context_stack = &seen;
	if (watch->found != NULL)
		watch->found->context = &seen;
	bh_fail_frame_push(&frame, bh_plan_failed, watch, query_string);
	PG_TRY();
	{
		result = bh_plan(parse, query_string, cursorOptions, boundParams);
	}
	PG_CATCH();
	{
		bh_fail_frame_pop(&frame);
		error_context_stack = seen.previous;
		if (watch->found != NULL)
			watch->found->context = seen.previous;
		bh_release_error_locks();
		bh_plan_failed(watch);
		PG_RE_THROW();
	}
	PG_END_TRY();
	bh_fail_frame_pop(&frame);
	error_context_stack = seen.previous;
	/* seen is gone: no body counts from it (a parallel plan planned again) */
	if (watch->found != NULL)
		watch->found->context = seen.previous;
	return result;
}

/*
 * Plan.  Parallel workers are not captured, so a tagged table must not be
 * read by them: a query that names one, or that calls a user's function
 * that a worker may run (PARALLEL SAFE; its statements may read one), is
 * planned without parallelism;
 * any other query is planned as usual, and planned again serially if its
 * plan turns out to read a tagged table in parallel after all, from a copy
 * taken beforehand.  The planner brings in tables that the query does not
 * name in two ways only: a set-returning SQL function in FROM that it
 * inlines, and the partitions or inheritance children of a table (a scalar
 * SQL function is inlined only when its body reads no table; views are
 * expanded before planning).  The copy is taken only for such a query.  A query
 * naming a tagged table that fails to plan (a constant folded to an error)
 * is recorded as a failure, unless it is only being explained.
 */
static PlannedStmt *
bh_planner_tagged(Query *parse, const char *query_string, int cursor_options_in,
				  ParamListInfo boundParams)
{
	Query	   *volatile copy = NULL;
	volatile int cursorOptions = cursor_options_in;
	BhPlanTags	found;
	BhPlanBody	body;
	BhViewJudged view;
	BhPlanWatch watch;
	PlannedStmt *result;

	bh_plan_tags_init(&found);
	watch.found = NULL;
	watch.view = NULL;
	/* planned by the tags as committed (a Bind plans without a hook before) */
	bh_tags_catch_up();

	/*
	 * The trail's view, whose privileges PostgreSQL checks as it plans:
	 * judged on the query, and on the body of each SQL function it inlines
	 * (bh_post_parse_analyze); planned under PG_TRY, so that its refusal is
	 * recorded (bh_plan_failed).  Not where the extension is absent (no
	 * look-up: bh_cached_rel).
	 */
	if (bh_capture_here() && bh_explain_only_depth == 0 && !superuser() &&
		OidIsValid(view.viewid = bh_tagged_tables_relid()))
	{
		view.relname = bh_tagged_tables_rel.relname;
		view.found.refused = false;
		view.found.ambiguous = false;
		bh_view_refusal_judge(parse, &view);
		watch.view = &view;
		bh_planning_view = &view;
	}
	if (bh_capture_here() && bh_tags_any())
	{
		found.events_relid = bh_events_relid();
		found.parallel_ok = (max_parallel_workers_per_gather > 0 &&
							 (cursorOptions & CURSOR_OPT_PARALLEL_OK));
		found.trees = (bh_explain_only_depth == 0);
		(void) bh_plan_tags_walker((Node *) parse, &found);
		if (found.nparents > 0)
			bh_plan_tags_through(&found);
		if (found.parallel_ok)
		{
			if (found.reads || found.user_functions)
				cursorOptions &= ~CURSOR_OPT_PARALLEL_OK;
			else if (found.may_grow)
				copy = copyObject(parse);
		}
		if (bh_explain_only_depth == 0)
		{
			found.parse = parse;
			body.frame.frame = NULL;
			body.cxt = CurrentMemoryContext;
			body.src = NULL;
			body.rtes = NIL;
			body.looked = false;
			body.walked_src = NULL;
			found.body = &body;
			bh_planning_tags = &found;
		}
	}

	/*
	 * Under PG_TRY also when the query names no tagged table: a SQL function
	 * it inlines may read one (bh_planning_tags; nothing is recorded when
	 * none is found).
	 */
	if (bh_planning_tags == &found)
		watch.found = &found;
	if (watch.found == NULL && watch.view == NULL)
		result = bh_plan(parse, query_string, cursorOptions, boundParams);
	else
		result = bh_plan_noting_failure(parse, query_string, cursorOptions, boundParams,
										&watch);

	if (copy && bh_plan_is_parallel_on_tagged(result))
	{
		int			nest = NewGUCNestLevel();

		/*
		 * planned again, not by bh_plan_noting_failure: the bodies it
		 * analyses are not found's (whose frame, found.context, is gone)
		 */
		if (bh_planning_tags == &found)
			bh_planning_tags = NULL;
		(void) set_config_option("max_parallel_workers_per_gather", "0",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		(void) set_config_option("force_parallel_mode", "off",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		PG_TRY();
		{
			result = bh_plan(copy, query_string, cursorOptions, boundParams);
		}
		PG_FINALLY();
		{
			AtEOXact_GUC(true, nest);
		}
		PG_END_TRY();
	}
	return result;
}

/*
 * The planner hook: bh_planner_tagged(), the planning known to the failure
 * capture (an error then is the statement's, not the commit's).
 */
static PlannedStmt *
bh_planner(Query *parse, const char *query_string, int cursorOptions,
		   ParamListInfo boundParams)
{
	PlannedStmt *volatile result = NULL;
	int			planning = bh_failure_planning_enter();
	BhPlanTags *outer_tags = bh_planning_tags;
	BhViewJudged *outer_view = bh_planning_view;

	if (outer_tags != NULL)
		bh_plan_body_settle(outer_tags, true);
	bh_planning_tags = NULL;
	bh_planning_view = NULL;
	PG_TRY();
	{
		result = bh_planner_tagged(parse, query_string, cursorOptions, boundParams);
	}
	PG_FINALLY();
	{
		bh_failure_planning_leave(planning);
		bh_planning_tags = outer_tags;
		bh_planning_view = outer_view;
	}
	PG_END_TRY();
	return result;
}

/*
 * Index-only scans of a tagged table should return its patient column (one
 * that needs no column may still use any index: bh_ios_heap_note).
 */
static void
bh_get_relation_info(PlannerInfo *root, Oid relid, bool inhparent, RelOptInfo *rel)
{
	const BhTag *tag;

	if (prev_get_relation_info)
		prev_get_relation_info(root, relid, inhparent, rel);
	if (!bh_capture_here() || (tag = bh_tag_lookup(relid)) == NULL ||
		!tag->capture_reads || tag->patient_attnum == InvalidAttrNumber)
		return;
	{
		ListCell   *lc;

		foreach(lc, rel->indexlist)
		{
			IndexOptInfo *index = (IndexOptInfo *) lfirst(lc);
			bool		covers = false;
			int			i;

			for (i = 0; i < index->ncolumns; i++)
				if (index->indexkeys[i] == tag->patient_attnum && index->canreturn[i])
					covers = true;
			if (!covers)
				for (i = 0; i < index->ncolumns; i++)
					index->canreturn[i] = false;
		}
	}
}

/*
 * Does a FORCE_QUOTE list of a COPY ... TO's options name a column that
 * the COPY of columns attnums (of desc) does not write, or one twice?  The
 * COPY refuses it before it reads a row.
 */
static bool
bh_copy_force_quote_refused(List *options, TupleDesc desc, List *attnums)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);
		List	   *seen = NIL;
		ListCell   *name;

		if (strcmp(opt->defname, "force_quote") != 0 || opt->arg == NULL || !IsA(opt->arg, List))
			continue;
		foreach(name, (List *) opt->arg)
		{
			int			attnum = 0;
			ListCell   *col;

			foreach(col, attnums)
				if (namestrcmp(&TupleDescAttr(desc, lfirst_int(col) - 1)->attname,
							   strVal(lfirst(name))) == 0)
				attnum = lfirst_int(col);
			if (attnum == 0 || list_member_int(seen, attnum))
				return true;
			seen = lappend_int(seen, attnum);
		}
	}
	return false;
}

/*
 * COPY tagged TO ... becomes COPY (SELECT ...) TO, so that the executor,
 * and with it read capture, sees the rows.  The SELECT names the columns
 * the table's COPY writes, found as COPY finds them, with its errors (a
 * column not there, generated, named twice: CopyGetAttnums, as the COPY
 * has locked the table, which is where PostgreSQL raises them): without a
 * list, those neither dropped nor generated, so that the output (a CSV
 * header too) is the table's COPY's.  Where row-level security applies,
 * PostgreSQL's COPY without a list runs SELECT * itself, generated columns
 * too: so does this one.  Not rewritten where PostgreSQL refuses the COPY
 * before it reads a row, in an order of its own: a file or program the
 * role may not write to (before the table is locked), the role's
 * privileges on the table or the columns copied (before the options and
 * row-level security: the caller's bh_check_copy_to_denial), a
 * FORCE_QUOTE column not written (after the privilege checks).  Returns
 * the statement to run.
 */
static PlannedStmt *
bh_rewrite_copy_to(PlannedStmt *pstmt)
{
	CopyStmt   *cs = (CopyStmt *) pstmt->utilityStmt;
	Oid			relid = RangeVarGetRelid(cs->relation, NoLock, true);
	const BhTag *tag = OidIsValid(relid) ? bh_tag_lookup(relid) : NULL;
	StringInfoData sql;
	Relation	rel;
	TupleDesc	desc;
	List	   *attnums = NIL;
	ListCell   *lc;
	List	   *raw;
	int			i;

	if (tag == NULL || !tag->capture_reads || get_rel_relkind(relid) != RELKIND_RELATION)
		return pstmt;
	if (cs->filename != NULL &&
		!has_privs_of_role(GetUserId(), cs->is_program ? ROLE_PG_EXECUTE_SERVER_PROGRAM
						   : ROLE_PG_WRITE_SERVER_FILES))
		return pstmt;
	/* the lock COPY takes; gone meanwhile: COPY reports it */
	if ((rel = try_table_open(relid, AccessShareLock)) == NULL)
		return pstmt;
	desc = RelationGetDescr(rel);
	if (cs->attlist == NIL && check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
	{
		for (i = 0; i < desc->natts; i++)
			if (!TupleDescAttr(desc, i)->attisdropped)
				attnums = lappend_int(attnums, i + 1);
	}
	else
		attnums = CopyGetAttnums(desc, rel, cs->attlist);
	if (bh_copy_force_quote_refused(cs->options, desc, attnums))
	{
		table_close(rel, NoLock);
		return pstmt;
	}

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	foreach(lc, attnums)
	{
		if (lc != list_head(attnums))
			appendStringInfoString(&sql, ", ");
		appendStringInfoString(&sql,
							   quote_identifier(NameStr(TupleDescAttr(desc, lfirst_int(lc) - 1)->attname)));
	}
	appendStringInfo(&sql, " FROM ONLY %s", bh_table_name(relid));
	table_close(rel, NoLock);
	raw = raw_parser(sql.data, RAW_PARSE_DEFAULT);

	pstmt = copyObject(pstmt);
	cs = (CopyStmt *) pstmt->utilityStmt;
	cs->relation = NULL;
	cs->attlist = NIL;
	cs->query = ((RawStmt *) linitial(raw))->stmt;
	return pstmt;
}

/* Is a utility statement an EXPLAIN that does not execute its query? */
static bool
bh_explain_only(Node *parsetree)
{
	ListCell   *lc;

	if (!IsA(parsetree, ExplainStmt))
		return false;
	foreach(lc, ((ExplainStmt *) parsetree)->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "analyze") == 0)
			return !defGetBoolean(opt);
	}
	return true;
}

/*
 * The tagged tables (or the ledger) of a prepared statement, each with its
 * action, for the failure of its EXECUTE, as its planning would record
 * them: where its latest analysis stands, with the planner's walk of it;
 * otherwise of the relations it names as the analysis PostgreSQL makes
 * again will find them (bh_prepared_relids_now), each command's action on
 * its target (the statement's, a data-modifying WITH query's), a read of
 * the others, then the partitions tagged on their own under each untagged
 * partitioned table among them.  Only the lists are kept, in the memory of
 * the EXECUTE.
 */
static void
bh_execute_target(ExecuteStmt *stmt, BhReadUtility *state)
{
	PreparedStatement *entry = FetchPreparedStatement(stmt->name, false);
	CachedPlanSource *plansource;
	BhPlanTags	found;
	ListCell   *lc;

	if (entry == NULL)
		return;					/* PostgreSQL reports it */
	plansource = entry->plansource;
	bh_plan_tags_init(&found);
	found.events_relid = bh_events_relid();
	if (bh_prepared_analysis_stands(plansource))
	{
		foreach(lc, plansource->query_list)
			(void) bh_plan_tags_walker((Node *) lfirst(lc), &found);
		if (found.nparents > 0)
			bh_plan_tags_through(&found);
	}
	else
	{
		List	   *cmds;
		List	   *relids = bh_prepared_relids_now(plansource, &cmds);
		ListCell   *lc2;

		forboth(lc, relids, lc2, cmds)
		{
			Oid			relid = lfirst_oid(lc);
			CmdType		cmd = (CmdType) lfirst_int(lc2);
			const BhTag *tag = OidIsValid(relid) ? bh_tag_lookup(relid) : NULL;

			if (tag != NULL ||
				(OidIsValid(found.events_relid) && relid == found.events_relid))
				bh_plan_tags_add_as(&found, relid, tag ? tag->tagged_relid : relid, relid,
									cmd != CMD_SELECT ? bh_action_for(cmd, 0) : NULL);
		}
		forboth(lc, relids, lc2, cmds)
		{
			Oid			relid = lfirst_oid(lc);
			CmdType		cmd = (CmdType) lfirst_int(lc2);

			/*
			 * not an inheritance parent's: named by name alone, ONLY (and an
			 * INSERT's target, which reaches no child) do not show
			 */
			if (OidIsValid(relid) && bh_tag_lookup(relid) == NULL &&
				bh_tags_inherited_through(relid) == NULL)
				bh_plan_tags_under(&found, relid,
								   cmd != CMD_SELECT ? bh_action_for(cmd, 0) : NULL);
		}
	}
	if (found.ntables == 0)
		return;
	bh_plan_tags_reads(&found);
	state->execute_n = found.ntables;
	state->execute_relids = palloc(found.ntables * sizeof(Oid));
	memcpy(state->execute_relids, found.tables, found.ntables * sizeof(Oid));
	state->execute_actions = palloc(found.ntables * sizeof(const char *));
	memcpy(state->execute_actions, found.actions, found.ntables * sizeof(const char *));
}

/*
 * Before a utility statement runs (utility.c): COPY ... TO is an export;
 * COPY table TO is run as COPY (SELECT ...) TO so that the executor sees
 * it (*pstmt may be replaced); an EXPLAIN without ANALYZE reads nothing
 * and, should planning fail, is no failed access either; an EXECUTE of a
 * prepared statement on a tagged table may fail before planning and
 * executing (its parameters), see bh_capture_read_utility_failed().
 * Fills *state for the two functions below.
 */
void
bh_capture_read_utility_begin(PlannedStmt **pstmt, const char *queryString, bool *readOnlyTree,
							  bool isTopLevel, BhReadUtility *state)
{
	Node	   *parsetree = (*pstmt)->utilityStmt;

	memset(state, 0, sizeof(*state));
	bh_error_watch_install();
	bh_failure_statement_starts(queryString, isTopLevel);
	bh_statement_starting();

	/*
	 * a refusal of a table that LOCK, GRANT, CREATE TRIGGER ... will raise;
	 * of a superuser's, only a LOCK of a view, whose relations PostgreSQL
	 * checks as the view's owner
	 */
	if (bh_capture_here() && (!superuser() || IsA(parsetree, LockStmt)))
		bh_check_utility_denials(parsetree, isTopLevel);

	/*
	 * the trail's relations looked up for a COPY ... FROM, whose refusal of
	 * one the error watch recognises by its name (capture_failure.c)
	 */
	if (IsA(parsetree, CopyStmt) && ((CopyStmt *) parsetree)->is_from &&
		((CopyStmt *) parsetree)->relation != NULL && bh_capture_here() && !superuser())
		bh_trail_rels_refresh();
	if (IsA(parsetree, CopyStmt) && !((CopyStmt *) parsetree)->is_from)
	{
		if (bh_capture_here() && ((CopyStmt *) parsetree)->relation != NULL)
		{
			PlannedStmt *rewritten;

			/*
			 * a relation of the trail or a tagged table refused: not
			 * rewritten, PostgreSQL's COPY refuses it before it reads its
			 * options or applies row-level security, as for any table
			 */
			if (!superuser())
				state->denial_noted = bh_check_copy_to_denial((CopyStmt *) parsetree);
			rewritten = state->denial_noted ? *pstmt : bh_rewrite_copy_to(*pstmt);

			if (rewritten != *pstmt)
			{
				*pstmt = rewritten;
				*readOnlyTree = false;
			}
		}
		/* COPY bh_audit.events TO reads it without the executor */
		if (bh_seal_unseen && ((CopyStmt *) parsetree)->relation != NULL &&
			RangeVarGetRelid(((CopyStmt *) parsetree)->relation, NoLock, true) == bh_events_relid())
			bh_seal_unseen_read();
		state->copy_to = true;
		bh_copy_to_depth++;
	}
	else if (IsA(parsetree, CopyStmt) && ((CopyStmt *) parsetree)->relation != NULL &&
			 bh_capture_here())
	{
		/*
		 * COPY ... FROM: running, inside the one that runs now if any (see
		 * bh_copy_from_reading); into a tagged table, a running write
		 * (bh_statement_writing)
		 */
		Oid			relid = RangeVarGetRelid(((CopyStmt *) parsetree)->relation, NoLock, true);

		if (OidIsValid(relid) && bh_tag_lookup(relid) != NULL)
			state->copy_from_relid = relid;
		state->copy_from_query = queryString;
		state->copy_from_context = error_context_stack;
		state->copy_from_outer = bh_copy_from_running;
		bh_copy_from_running = state;
	}
	else if (bh_explain_only(parsetree))
	{
		state->explain_only = true;
		bh_explain_only_depth++;
	}
	/* the ledger is audited with nothing tagged too */
	else if (IsA(parsetree, ExecuteStmt) && bh_capture_here() &&
			 (bh_tags_any() || OidIsValid(bh_events_relid())))
		bh_execute_target((ExecuteStmt *) parsetree, state);
	else if (IsA(parsetree, TruncateStmt) && bh_capture_here())
		state->denial_noted = bh_check_truncate_denials((TruncateStmt *) parsetree);
}

/*
 * The statement failed (from PG_CATCH): an EXECUTE of a statement on
 * tagged tables whose failure no inner path recorded (its parameters did
 * not convert) is a failure on each of them; an error raised while a
 * COPY ... FROM read its rows has left it (bh_failure_copy_from_failed).
 */
void
bh_capture_read_utility_failed(BhReadUtility *state)
{
	state->failed = true;
	if (state->copy_from_query != NULL)
		bh_failure_copy_from_failed(state);
	if (state->execute_n > 0)
		bh_record_caught_failure(state->execute_relids, state->execute_actions,
								 state->execute_n);
}

/* After the statement ran or failed. */
void
bh_capture_read_utility_end(const BhReadUtility *state)
{
	if (state->copy_to)
		bh_copy_to_depth--;
	if (state->explain_only)
		bh_explain_only_depth--;
	if (state->copy_from_query != NULL)
		bh_copy_from_running = state->copy_from_outer;
	/* a denial that PostgreSQL did not raise after all (a GRANT came first) */
	if (state->denial_noted && !state->failed)
		bh_failure_recorded = false;
}

/*
 * The COPY ... FROM running whose text is sql (client: the client's
 * statement, the outermost COPY running; otherwise a function's, as SPI ran
 * it and put it in an error's context, the innermost of that text), or
 * NULL.  Allocates nothing and reads no catalog (the error watch calls it).
 */
const BhReadUtility *
bh_copy_from_find(const char *sql, bool client)
{
	const BhReadUtility *copy;

	for (copy = bh_copy_from_running; copy != NULL; copy = copy->copy_from_outer)
		if (client ? (copy->copy_from_outer == NULL && debug_query_string != NULL &&
					  strcmp(copy->copy_from_query, debug_query_string) == 0)
			: strcmp(copy->copy_from_query, sql) == 0)
			return copy;
	return NULL;
}

/*
 * Is a COPY ... FROM running (bh_copy_from_find) reading its rows now?  It
 * is once CopyFrom() has pushed its error callback, which it does only
 * past PostgreSQL's check of the table's privileges, and pops before the
 * AFTER triggers its rows queued fire: the frame above the error context
 * stack as that COPY began and below the stack as the next COPY inside it
 * began (one that its trigger runs), if any.  Told by the COPY, not by its
 * table: the COPY of a table run by a trigger of another COPY of the same
 * table is another COPY.  Allocates nothing and reads no catalog.
 */
bool
bh_copy_from_reading(const BhReadUtility *copy)
{
	const BhReadUtility *inner = NULL;
	const BhReadUtility *c;
	ErrorContextCallback *frame;

	for (c = bh_copy_from_running; c != NULL && c != copy; c = c->copy_from_outer)
		inner = c;
	for (frame = inner ? inner->copy_from_context : error_context_stack;
		 frame != NULL && frame != copy->copy_from_context; frame = frame->previous)
		if (frame->callback == CopyFromErrorCallback)
			return true;
	return false;
}

/* Define the read-capture settings and install the hooks. */
void
bh_capture_read_init(void)
{
	DefineCustomIntVariable("bh_audit.max_patients_per_statement",
							"READ events per statement and table before the rest are counted in one event.",
							NULL, &bh_max_patients, 1000, 1, 1000000,
							PGC_SUSET, 0, NULL, NULL, NULL);

	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = bh_ExecutorStart;
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = bh_ExecutorRun;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = bh_ExecutorFinish;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = bh_ExecutorEnd;
	prev_planner = planner_hook;
	planner_hook = bh_planner;
	prev_get_relation_info = get_relation_info_hook;
	get_relation_info_hook = bh_get_relation_info;

	prev_post_parse_analyze = post_parse_analyze_hook;
	post_parse_analyze_hook = bh_post_parse_analyze;

	RegisterXactCallback(bh_read_xact_callback, NULL);
	RegisterSubXactCallback(bh_read_subxact_callback, NULL);
	bh_cached_rel_register(&bh_events_rel);
	bh_cached_rel_register(&bh_tagged_tables_rel);
}
