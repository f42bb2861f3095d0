/*-------------------------------------------------------------------------
 *
 * capture_read.c
 *		Read capture with per-patient attribution, denied and failed
 *		access: executor, planner and utility hooks.
 *
 * Reads.  After standard_ExecutorStart, every scan node of a tagged
 * relation with capture_reads (sequential, index, index-only, bitmap heap,
 * TID and sample scans; partitions resolve to their tagged ancestor) gets
 * its ExecProcNodeReal wrapped: each tuple the scan returns is looked at in
 * the scan's own tuple slot, and its patient id goes into a per-statement,
 * per-table set.  The result relation of an UPDATE/DELETE/MERGE is a write
 * and is not wrapped.  At ExecutorEnd one READ event is emitted per
 * (statement, table, patient), up to bh_audit.max_patients_per_statement,
 * then one event counting the rest; a table without a patient column gives
 * one event with the number of rows read.  COPY ... TO makes EXPORT events
 * (COPY table TO is run as COPY (SELECT ...) TO, so the executor sees it).
 * EXPLAIN without ANALYZE reads nothing.  The rows an UPDATE or a DELETE
 * returns (RETURNING) are reads too: their ModifyTable node is wrapped.
 * A statement that fails counts the row each scan was evaluating.  A scan
 * whose filter calls a function a user defined, not leakproof (directly,
 * as an operator's, or in a correlated subplan), shows that function every
 * row it examines: its wrapper takes the filter and projection from the
 * node's plan state, notes each row fetched, then filters and projects it
 * as ExecScan would (bh_scan_exec).
 *
 * Completeness of attribution.  Every produced row must be visible to the
 * wrappers with its patient.  An index-only scan of a tagged table should
 * return the patient column: indexes without it lose canreturn for such
 * tables.  PostgreSQL still scans any index index-only for a query that
 * needs no column of the table (count(*), a partial index's predicate as
 * the only condition); the wrapper of such a scan, and of any index-only
 * scan without the patient column however it was planned, reads each
 * returned row's patient from its heap row.  And a plan that would read a
 * tagged table in parallel workers is planned again without parallelism
 * (workers' rows would bypass the leader's sets).
 *
 * Denials.  Before standard_ExecutorStart the range table is checked, and
 * before a TRUNCATE its tables, by capture_denial.c.
 *
 * Failures.  ExecutorRun/ExecutorFinish of a statement touching a tagged
 * table run under PG_TRY: an error gives a FAILURE event whose error_type
 * is the SQLSTATE's condition name and whose message is the primary
 * message with every quoted value blanked, then sanitised — never the
 * DETAIL, never the query.  Planning a query that names a tagged table
 * runs under PG_TRY too (WHERE id = 1/0 fails there, in a function's
 * statement as well; not for an EXPLAIN that only plans), and so does an
 * EXECUTE of a prepared statement on one (its parameters may not
 * convert), in the utility hook.  Every FAILURE event is built by
 * capture_failure.c (from PG_CATCH here; failures in parse analysis and
 * at Bind by its error watch, which these hooks keep installed); the hooks
 * here call it.
 *
 * All of these are autonomous: they go to the shared-memory ring
 * (ring.c), never through the statement's transaction, so a rollback or
 * the error itself does not take them away.  Statements still collecting
 * when their transaction aborts (a cursor, a failing statement) are
 * flushed by the abort callback; so is the rest of a statement whose
 * READ events an error cut short while they were being pushed (a cancel
 * while it waited for room in the ring), each event at most once and
 * without waiting (bh_emit_reads).
 *
 * Logins are capture_login.c's.
 *
 * Never captured: the sealer, parallel workers (see above), foreign-key
 * checks, and the extension's own queries (they read no tagged table).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xlog.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "commands/copy.h"
#include "commands/defrem.h"
#include "commands/prepare.h"
#include "executor/executor.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "optimizer/planner.h"
#include "optimizer/cost.h"
#include "optimizer/plancat.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "postmaster/autovacuum.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "bh_audit.h"
#include "capture.h"
#include "event.h"
#include "query_text.h"
#include "ring.h"
#include "tags.h"
#include "validate.h"

/* Settings */
static int	bh_max_patients = 1000;

/* Longest patient id kept, in characters (the schema's limit). */
#define BH_PATIENT_ID_CHARS 256

/* Patients a read set keeps in a plain array before it needs a hash table. */
#define BH_FEW_PATIENTS 4

/* The patients (or rows) one statement read from one tagged table. */
typedef struct BhReadSet
{
	Oid			tagged_relid;
	char	   *resource_type;
	char	   *classification;
	char	   *table_name;
	bool		part2;
	bool		has_patient;
	int			nfew;			/* patients in few[] while patients is NULL */
	char	   *few[BH_FEW_PATIENTS];
	HTAB	   *patients;		/* BhPatientEntry by id, once more than few */
	int64		rows;
	int64		null_rows;		/* rows whose patient column is NULL */
	MemoryContext cxt;			/* the statement's */
} BhReadSet;

/*
 * A patient of a read set's hash table: the key is the pointer to the id,
 * hashed and compared as a string, so that an entry costs the id's length
 * rather than the longest id's.
 */
typedef struct BhPatientEntry
{
	char	   *id;
} BhPatientEntry;

static uint32
bh_patient_hash(const void *key, Size keysize)
{
	const char *id = *(char *const *) key;

	return hash_bytes((const unsigned char *) id, (int) strlen(id));
}

static int
bh_patient_match(const void *key1, const void *key2, Size keysize)
{
	return strcmp(*(char *const *) key1, *(char *const *) key2);
}

static void
bh_patient_enter(BhReadSet *set, const char *id)
{
	bool		found;
	BhPatientEntry *entry = hash_search(set->patients, &id, HASH_ENTER, &found);

	if (!found)
		entry->id = MemoryContextStrdup(set->cxt, id);
}

/*
 * Note a patient in a read set.  Most statements read one patient or a
 * handful: those are kept in an array, and a hash table is made only for
 * more.  An id longer than the schema allows is cut as the event builder
 * cuts it (whole characters, then "..."), so that reads and writes of one
 * patient carry the same id.
 */
static void
bh_read_set_add(BhReadSet *set, const char *id)
{
	int			i;

	if (strlen(id) > BH_PATIENT_ID_CHARS)
		id = bh_truncate(id, BH_PATIENT_ID_CHARS);
	if (set->patients == NULL)
	{
		HASHCTL		ctl;

		for (i = 0; i < set->nfew; i++)
			if (strcmp(set->few[i], id) == 0)
				return;
		if (set->nfew < BH_FEW_PATIENTS)
		{
			set->few[set->nfew++] = MemoryContextStrdup(set->cxt, id);
			return;
		}
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(char *);
		ctl.entrysize = sizeof(BhPatientEntry);
		ctl.hash = bh_patient_hash;
		ctl.match = bh_patient_match;
		ctl.hcxt = set->cxt;
		set->patients = hash_create("bh_audit patients", 64, &ctl,
									HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
		for (i = 0; i < set->nfew; i++)
			bh_patient_enter(set, set->few[i]);
	}
	bh_patient_enter(set, id);
}

/* What every wrapped plan node keeps: the node and its own method. */
typedef struct BhWrap
{
	PlanState  *ps;
	ExecProcNodeMtd orig;
} BhWrap;

/* One wrapped scan node. */
typedef struct BhScanWrap
{
	BhWrap		node;			/* first: found as a BhWrap */
	BhReadSet  *set;
	AttrNumber	slot_attnum;	/* patient column in the scan slot, 0: none */
	AttrNumber	heap_attnum;	/* an index-only scan without it: the patient
								 * column in the heap row, 0: not needed */
	BhIdOutput	out;			/* how its values become ids (a copy: the tag
								 * cache may be reloaded while the scan runs) */
	/*
	 * Its filter shows every row it examines to a user's function: the
	 * node's qual and projection, taken from it and run by the wrapper
	 * after each fetched row is noted (shows_rows).
	 */
	bool		shows_rows;
	bool		rejected_only;	/* the table an UPDATE/DELETE changes: the
								 * rows it produces are writes */
	ExprState  *qual;
	ProjectionInfo *proj;
} BhScanWrap;

/* The capture state of one executing statement. */
typedef struct BhStatement
{
	QueryDesc  *qd;
	MemoryContext cxt;
	SubTransactionId subid;
	bool		export;			/* COPY ... TO */
	List	   *sets;			/* BhReadSet * */
	List	   *wraps;			/* BhScanWrap *, BhLockWrap * (as BhWrap *) */
	List	   *tagged;			/* Oid: tagged relations of the range table */
	BhEvent		failure;		/* base of its FAILURE event (no catalog access on error) */
	int64		emitted;		/* its READ events handed to the ring so far
								 * (see bh_emit_reads) */
	struct BhStatement *next;
} BhStatement;

static BhStatement *bh_statements = NULL;	/* active, innermost first */
static int	bh_copy_to_depth = 0;
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
 * ledger cannot be written there (docs/read-capture.md).
 */
bool
bh_capture_here(void)
{
	return bh_capture_enabled && !bh_is_sealer && !IsParallelWorker() &&
		IsTransactionState() && !RecoveryInProgress();
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
 * by construction, and 99_events_valid checks the whole ledger.
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
 * Reads
 *----------------------------------------------------------------------
 */

/* The wrapper state of ps, in the statement that wrapped it. */
static BhWrap *
bh_find_wrap(PlanState *ps)
{
	BhStatement *st;
	ListCell   *lc;

	for (st = bh_statements; st; st = st->next)
		foreach(lc, st->wraps)
			if (((BhWrap *) lfirst(lc))->ps == ps)
				return (BhWrap *) lfirst(lc);
	elog(ERROR, "bh_audit: plan node wrapper lost its state");
	return NULL;
}

/* Note the patient whose column value d is (not NULL), by out, in set. */
static void
bh_read_set_add_value(BhReadSet *set, const BhIdOutput *out, Datum d)
{
	char	   *id = bh_id_text(out, d);

	bh_read_set_add(set, id);
	pfree(id);
}

/*
 * Note the patient of a row read, its column attnum of slot, by out, in
 * set; a row whose patient is NULL is counted as one without a patient.
 */
static void
bh_read_set_add_row(BhReadSet *set, const BhIdOutput *out, TupleTableSlot *slot,
					AttrNumber attnum)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, attnum, &isnull);

	if (!isnull)
		bh_read_set_add_value(set, out, d);
	else
		set->null_rows++;
}

/*
 * A wrapped LockRows node (SELECT ... FOR UPDATE / SHARE): the rows of the
 * tagged relations it locks.  When another transaction changed a row
 * meanwhile, PostgreSQL locks its newest version and returns that one, as
 * re-checked by a separate copy of the plan that no scan wrapper watches;
 * the locked version is in the node's re-check slot of the relation.
 */
typedef struct BhLockMark
{
	ExecAuxRowMark *erm;
	BhReadSet  *set;
	AttrNumber	attnum;			/* the patient column in the relation */
	BhIdOutput	out;			/* how its values become ids (a copy) */
} BhLockMark;

typedef struct BhLockWrap
{
	BhWrap		node;			/* first: found as a BhWrap */
	List	   *marks;			/* BhLockMark * */
} BhLockWrap;

static TupleTableSlot *
bh_lockrows_exec(PlanState *ps)
{
	BhLockWrap *w = (BhLockWrap *) bh_find_wrap(ps);
	ListCell   *lc;
	TupleTableSlot *slot = w->node.orig(ps);
	EPQState   *epq = &((LockRowsState *) ps)->lr_epqstate;

	if (TupIsNull(slot) || epq->relsubs_slot == NULL)
		return slot;
	foreach(lc, w->marks)
	{
		BhLockMark *m = (BhLockMark *) lfirst(lc);
		TupleTableSlot *locked = epq->relsubs_slot[m->erm->rowmark->rti - 1];
		bool		isnull;
		Datum		d;

		if (!m->erm->rowmark->ermActive || locked == NULL || TTS_EMPTY(locked))
			continue;
		d = slot_getattr(locked, m->attnum, &isnull);
		if (!isnull)			/* the scan's version, or the newer one */
			bh_read_set_add_value(m->set, &m->out, d);
	}
	return slot;
}

/*
 * Note the patient of the row an index-only scan returned, from its heap
 * row: the index tuple has no patient column (a query that needs no column
 * of the table, count(*), may scan any index so).  The row is fetched with
 * the scan's own heap access state, snapshot and table slot, so that no
 * buffer stays pinned longer than the scan keeps its own, released at its
 * end or by the transaction's abort.  The TID is the index entry's, the
 * start of a HOT chain, followed to the version the snapshot sees; unless
 * the scan visited the heap itself (a page not all visible), which leaves
 * the TID at that version: a heap-only one is not found from the chain's
 * start, and is fetched as it is.
 */
static void
bh_ios_heap_note(BhScanWrap *w, IndexOnlyScanState *ios)
{
	IndexScanDesc scan = ios->ioss_ScanDesc;
	TupleTableSlot *heap = ios->ioss_TableSlot;
	ItemPointerData tid;
	bool		call_again = false;
	bool		all_dead = false;
	bool		found = false;

	if (scan != NULL)
	{
		tid = scan->xs_heaptid;
		found = table_index_fetch_tuple(scan->xs_heapfetch, &tid, scan->xs_snapshot,
										heap, &call_again, &all_dead);
		if (!found)
		{
			tid = scan->xs_heaptid;
			found = table_tuple_fetch_row_version(scan->heapRelation, &tid,
												  scan->xs_snapshot, heap);
		}
	}
	if (found)
		bh_read_set_add_row(w->set, &w->out, heap, w->heap_attnum);
	else						/* not under the scan's MVCC snapshot: still read */
		w->set->null_rows++;
	ExecClearTuple(heap);
}

/* Note whose row a scan fetched (its scan slot holds it). */
static void
bh_scan_note(BhScanWrap *w, PlanState *ps)
{
	BhReadSet  *set = w->set;

	set->rows++;
	if (w->heap_attnum != InvalidAttrNumber)
		bh_ios_heap_note(w, (IndexOnlyScanState *) ps);
	else if (w->slot_attnum != InvalidAttrNumber)
		bh_read_set_add_row(set, &w->out, ((ScanState *) ps)->ss_ScanTupleSlot,
							w->slot_attnum);
}

/*
 * The wrapper: run the scan, note whose row it returned.  A scan whose
 * filter shows rows to a user's function (shows_rows) runs without its
 * qual and projection, so returns each row it fetches: the row is noted,
 * then filtered and projected here as ExecScan would have (the expression
 * context reset before each row, a rejected row counted as removed by the
 * filter and never projected, the projection's slot emptied at the end).
 */
static TupleTableSlot *
bh_scan_exec(PlanState *ps)
{
	BhScanWrap *w = (BhScanWrap *) bh_find_wrap(ps);
	TupleTableSlot *slot;
	ExprContext *econtext;

	if (!w->shows_rows)
	{
		slot = w->node.orig(ps);
		if (!TupIsNull(slot))
			bh_scan_note(w, ps);
		return slot;
	}
	econtext = ps->ps_ExprContext;
	for (;;)
	{
		ResetExprContext(econtext);
		slot = w->node.orig(ps);
		if (TupIsNull(slot))
			return w->proj ? ExecClearTuple(w->proj->pi_state.resultslot) : slot;
		if (!w->rejected_only)
			bh_scan_note(w, ps);
		econtext->ecxt_scantuple = slot;
		if (w->qual == NULL || ExecQual(w->qual, econtext))
			return w->proj ? ExecProject(w->proj) : slot;
		if (w->rejected_only)
			bh_scan_note(w, ps);
		InstrCountFiltered1(ps, 1);
	}
}

/* The read set of a tagged relation in this statement (made on first use). */
static BhReadSet *
bh_read_set(BhStatement *st, const BhTag *tag)
{
	ListCell   *lc;
	BhReadSet  *set;
	MemoryContext old;

	foreach(lc, st->sets)
	{
		set = (BhReadSet *) lfirst(lc);
		if (set->tagged_relid == tag->tagged_relid)
			return set;
	}
	old = MemoryContextSwitchTo(st->cxt);
	set = palloc0(sizeof(BhReadSet));
	set->tagged_relid = tag->tagged_relid;
	set->resource_type = pstrdup(tag->resource_type);
	set->classification = pstrdup(tag->classification);
	set->table_name = pstrdup(tag->tagged_table_name);
	set->part2 = tag->part2;
	set->has_patient = (tag->patient_column != NULL);
	set->cxt = st->cxt;
	st->sets = lappend(st->sets, set);
	MemoryContextSwitchTo(old);
	return set;
}

/*
 * Where the patient column is in an index-only scan's slot (0: absent).  A
 * column the index cannot return (resjunk) is no value there.
 */
static AttrNumber
bh_ios_attnum(IndexOnlyScanState *ios, AttrNumber heap_attnum)
{
	ListCell   *lc;
	AttrNumber	i = 0;

	foreach(lc, ((IndexOnlyScan *) ios->ss.ps.plan)->indextlist)
	{
		TargetEntry *te = lfirst_node(TargetEntry, lc);

		i++;
		if (!te->resjunk && IsA(te->expr, Var) &&
			((Var *) te->expr)->varattno == heap_attnum)
			return i;
	}
	return InvalidAttrNumber;
}

/*
 * Does a function a user defined, not leakproof, run in an expression on
 * values of the row (or a volatile built-in one: set_config(), pg_notify(),
 * large objects, query_to_xml() can keep or send what they are given)?
 * Other built-in functions are not counted: many are not leakproof (their
 * errors may show a value), but none keeps or sends a value, and counting
 * them would attribute every row any filtered query examines; nor are the
 * functions of extensions (installed by a
 * superuser: pg_trgm's similarity, say), nor, for a user other than the
 * table's owner, the owner's own functions (a row-level security policy's,
 * the application's): the owner's powers over its table are the owner's
 * (docs/threat-model.md), and the reader did not choose them.  Functions
 * of operators count as functions.  A function given nothing of the row
 * (no column, no value of an outer row) sees no value of it.  A
 * correlated SubPlan (top, the node whose expression it is; NULL inside a
 * subplan, whose nested subplans the plan state walk visits) counts when
 * its plan calls such a function anywhere: it sees values of the row.
 */
static bool bh_planstate_calls(PlanState *ps, void *context);

/* The owner of the table whose scan's filter is being looked at. */
static Oid	bh_filter_table_owner = InvalidOid;

static bool
bh_user_function(Oid funcid, void *context)
{
	HeapTuple	tup;
	Form_pg_proc proc;
	bool		counts;

	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (!HeapTupleIsValid(tup))
		return false;
	proc = (Form_pg_proc) GETSTRUCT(tup);
	if (funcid < FirstNormalObjectId)
		counts = (proc->provolatile == PROVOLATILE_VOLATILE);
	else
		counts = !proc->proleakproof &&
			!(proc->proowner == bh_filter_table_owner && GetUserId() != bh_filter_table_owner);
	ReleaseSysCache(tup);
	return counts && (funcid < FirstNormalObjectId ||
					  !OidIsValid(getExtensionOfObject(ProcedureRelationId, funcid)));
}

/* Does an expression call such a function anywhere (values of a row or not)? */
static bool
bh_calls_user_function(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, bh_user_function, NULL))
		return true;
	return expression_tree_walker(node, bh_calls_user_function, context);
}

/*
 * Does a value's conversion to a domain call such a function in a CHECK
 * constraint of the domain (or of a domain it is over)?
 */
static bool
bh_domain_calls(Oid typid)
{
	bool		found = false;

	while (!found && get_typtype(typid) == TYPTYPE_DOMAIN)
	{
		Relation	pg_constraint = table_open(ConstraintRelationId, AccessShareLock);
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	tup;

		ScanKeyInit(&key, Anum_pg_constraint_contypid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(typid));
		scan = systable_beginscan(pg_constraint, ConstraintTypidIndexId, true, NULL, 1, &key);
		while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			bool		isnull;
			Datum		bin;

			if (((Form_pg_constraint) GETSTRUCT(tup))->contype != CONSTRAINT_CHECK)
				continue;
			bin = heap_getattr(tup, Anum_pg_constraint_conbin,
							   RelationGetDescr(pg_constraint), &isnull);
			if (!isnull)
				found = bh_calls_user_function(stringToNode(TextDatumGetCString(bin)), NULL);
		}
		systable_endscan(scan);
		table_close(pg_constraint, AccessShareLock);
		/* the domain it is over */
		tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
		if (!HeapTupleIsValid(tup))
			break;
		typid = ((Form_pg_type) GETSTRUCT(tup))->typbasetype;
		ReleaseSysCache(tup);
	}
	return found;
}

/* Does an expression use values of a row: a column, or an outer row's value? */
static bool
bh_uses_row(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var) || (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC))
		return true;
	return expression_tree_walker(node, bh_uses_row, context);
}

static bool
bh_expr_calls(Node *node, void *context)
{
	PlanState  *top = (PlanState *) context;

	if (node == NULL)
		return false;
	if (check_functions_in_node(node, bh_user_function, NULL) && bh_uses_row(node, NULL))
		return true;
	if (IsA(node, CoerceToDomain) && bh_uses_row((Node *) ((CoerceToDomain *) node)->arg, NULL) &&
		bh_domain_calls(((CoerceToDomain *) node)->resulttype))
		return true;
	if (IsA(node, SubPlan) && top != NULL &&
		(((SubPlan *) node)->parParam != NIL || ((SubPlan *) node)->args != NIL))
	{
		ListCell   *lc;

		foreach(lc, top->subPlan)
		{
			SubPlanState *sps = (SubPlanState *) lfirst(lc);

			if (sps->subplan == (SubPlan *) node &&
				bh_planstate_calls(sps->planstate, NULL))
				return true;
		}
	}
	return expression_tree_walker(node, bh_expr_calls, context);
}

/*
 * Does a plan state tree call such a function anywhere: the filters and
 * output columns of its nodes, join conditions, functions scanned,
 * VALUES lists, one-time filters, and its subplans (visited by the walk).
 */
static bool
bh_planstate_calls(PlanState *ps, void *context)
{
	Plan	   *plan;

	if (ps == NULL)
		return false;
	plan = ps->plan;
	if (bh_expr_calls((Node *) plan->qual, NULL) ||
		bh_expr_calls((Node *) plan->targetlist, NULL))
		return true;
	switch (nodeTag(plan))
	{
		case T_NestLoop:
		case T_MergeJoin:
		case T_HashJoin:
			if (bh_expr_calls((Node *) ((Join *) plan)->joinqual, NULL))
				return true;
			if (IsA(plan, MergeJoin) &&
				bh_expr_calls((Node *) ((MergeJoin *) plan)->mergeclauses, NULL))
				return true;
			if (IsA(plan, HashJoin) &&
				bh_expr_calls((Node *) ((HashJoin *) plan)->hashclauses, NULL))
				return true;
			break;
		case T_FunctionScan:
			if (bh_expr_calls((Node *) ((FunctionScan *) plan)->functions, NULL))
				return true;
			break;
		case T_ValuesScan:
			if (bh_expr_calls((Node *) ((ValuesScan *) plan)->values_lists, NULL))
				return true;
			break;
		case T_Result:
			if (bh_expr_calls(((Result *) plan)->resconstantqual, NULL))
				return true;
			break;
		case T_IndexScan:
			if (bh_expr_calls((Node *) ((IndexScan *) plan)->indexqualorig, NULL))
				return true;
			break;
		default:
			break;
	}
	return planstate_tree_walker(ps, bh_planstate_calls, context);
}

/* Wrap one scan node if it reads a tagged table. */
static void
bh_wrap_scan(BhStatement *st, PlanState *ps)
{
	ScanState  *ss = (ScanState *) ps;
	Index		scanrelid = ((Scan *) ps->plan)->scanrelid;
	const BhTag *tag;
	BhScanWrap *w;
	MemoryContext old;
	bool		shows_rows;
	bool		result_rel;

	if (ss->ss_currentRelation == NULL)
		return;
	tag = bh_tag_lookup(RelationGetRelid(ss->ss_currentRelation));
	if (tag == NULL || !tag->capture_reads)
		return;
	/* REFRESH ... CONCURRENTLY comparing the view's old and new rows */
	if (RelationGetRelid(ss->ss_currentRelation) == bh_refreshing_matview)
		return;
	/*
	 * The rows an UPDATE/DELETE/MERGE changes are writes, not reads, also
	 * in a WITH of a SELECT or an INSERT (an INSERT's target is no scan);
	 * but the rows its filter rejects after showing them to a user's
	 * function (below) are reads.
	 */
	bh_filter_table_owner = ss->ss_currentRelation->rd_rel->relowner;
	shows_rows = ps->qual != NULL && bh_expr_calls((Node *) ps->plan->qual, ps);
	result_rel = list_member_int(st->qd->plannedstmt->resultRelations, (int) scanrelid);
	if (result_rel && !shows_rows)
		return;

	old = MemoryContextSwitchTo(st->cxt);
	w = palloc0(sizeof(BhScanWrap));
	w->node.ps = ps;
	w->node.orig = ps->ExecProcNodeReal;
	w->set = bh_read_set(st, tag);
	if (tag->patient_attnum != InvalidAttrNumber)
	{
		w->slot_attnum = IsA(ps, IndexOnlyScanState)
			? bh_ios_attnum((IndexOnlyScanState *) ps, tag->patient_attnum)
			: tag->patient_attnum;
		/* an index-only scan without it: each row's is read from the heap */
		if (w->slot_attnum == InvalidAttrNumber)
			w->heap_attnum = tag->patient_attnum;

		/*
		 * Before 15.13, a bitmap heap scan that needs no column returned
		 * rows of NULLs for pages all visible, without reading them.
		 */
		if (IsA(ps, BitmapHeapScanState))
			((BitmapHeapScanState *) ps)->can_skip_fetch = false;
		bh_id_output_copy(&w->out, &tag->patient_out, st->cxt);
	}

	/*
	 * A filter that shows each row it examines to a user's function: every
	 * row examined is read, produced or not.  Decided once; the plan state
	 * alone changes (the plan, shared with EvalPlanQual's copy and EXPLAIN,
	 * keeps its qual).
	 */
	if (shows_rows)
	{
		w->shows_rows = true;
		w->rejected_only = result_rel;
		w->qual = ps->qual;
		w->proj = ps->ps_ProjInfo;
		ps->qual = NULL;
		ps->ps_ProjInfo = NULL;
	}
	st->wraps = lappend(st->wraps, w);
	MemoryContextSwitchTo(old);
	ps->ExecProcNodeReal = bh_scan_exec;
}

/*
 * A wrapped ModifyTable node with RETURNING that sends stored values back:
 * an UPDATE's or a DELETE's (or an INSERT's ON CONFLICT DO UPDATE).  Each
 * row it returns is a read of its patient, besides the write: a rollback
 * takes the write's event back, while the client has the row.  The row
 * returned is the scan tuple of the node's expression context, where its
 * RETURNING projection found it, with its table's oid (a partition's, for
 * a partitioned table).  An UPDATE's row before it (its patient may be
 * another one) and a DELETE's row (emptied before the node returns) are
 * fetched again by the row id of the row the subplan gave.
 */
typedef struct BhReturningRel
{
	Oid			relid;
	BhReadSet  *set;			/* its read set; NULL: its reads not captured */
	AttrNumber	attnum;			/* its patient column, 0: none */
	BhIdOutput	out;			/* how its values become ids (a copy) */
	ResultRelInfo *rri;			/* its result relation, looked up when needed */
	TupleTableSlot *fetched;	/* a row of it fetched again */
} BhReturningRel;

typedef struct BhReturningWrap
{
	BhWrap		node;			/* first: found as a BhWrap */
	BhStatement *st;
	List	   *rels;			/* BhReturningRel *, one per table met */
	BhReturningRel *last;		/* the one of the last row */
} BhReturningWrap;

/* The capture of the rows of table relid that a RETURNING wrapper sees. */
static BhReturningRel *
bh_returning_rel(BhReturningWrap *w, Oid relid)
{
	BhReturningRel *r;
	const BhTag *tag;
	ListCell   *lc;
	MemoryContext old;

	if (w->last != NULL && w->last->relid == relid)
		return w->last;
	foreach(lc, w->rels)
		if (((BhReturningRel *) lfirst(lc))->relid == relid)
			return w->last = (BhReturningRel *) lfirst(lc);
	old = MemoryContextSwitchTo(w->st->cxt);
	r = palloc0(sizeof(BhReturningRel));
	r->relid = relid;
	if ((tag = bh_tag_lookup(relid)) != NULL && tag->capture_reads)
	{
		r->set = bh_read_set(w->st, tag);
		r->attnum = tag->patient_attnum;
		if (r->attnum != InvalidAttrNumber)
			bh_id_output_copy(&r->out, &tag->patient_out, w->st->cxt);
	}
	w->rels = lappend(w->rels, r);
	MemoryContextSwitchTo(old);
	return w->last = r;
}

/*
 * Fetch the version of a row at tid into slot (SnapshotAny, as DELETE and
 * UPDATE fetch the row they return), following its update chain (a heap
 * table's): after EvalPlanQual, an UPDATE or a DELETE changed the newest
 * version of the row the subplan gave, not that one.  A DELETE's is the
 * chain's last version; an UPDATE's the last one before the version this
 * transaction's UPDATE made (own_stops).
 */
static bool
bh_fetch_version(Relation rel, ItemPointer tid, TupleTableSlot *slot, bool own_stops)
{
	ItemPointerData cur = *tid;
	int			steps;

	if (!table_tuple_fetch_row_version(rel, &cur, SnapshotAny, slot))
		return false;
	for (steps = 0; TTS_IS_BUFFERTUPLE(slot) && steps < 1000; steps++)
	{
		HeapTupleHeader h = ((BufferHeapTupleTableSlot *) slot)->base.tuple->t_data;
		ItemPointerData next = h->t_ctid;
		TransactionId xmax = HeapTupleHeaderGetUpdateXid(h);

		if ((h->t_infomask & HEAP_XMAX_INVALID) || HeapTupleHeaderIsOnlyLocked(h) ||
			HeapTupleHeaderIndicatesMovedPartitions(h) || ItemPointerEquals(&cur, &next))
			break;
		if (own_stops && TransactionIdIsCurrentTransactionId(xmax))
			break;				/* the next version is this UPDATE's */
		if (!table_tuple_fetch_row_version(rel, &next, SnapshotAny, slot) ||
			!TransactionIdEquals(HeapTupleHeaderGetXmin(((BufferHeapTupleTableSlot *) slot)->base.tuple->t_data),
								 xmax))
			return table_tuple_fetch_row_version(rel, &cur, SnapshotAny, slot);
		cur = next;
	}
	return true;
}

/*
 * The patient of the row the subplan gave to an UPDATE or a DELETE, as it
 * was before the UPDATE or as deleted (bh_fetch_version): fetched again by
 * its row id, in its table (the subplan's tableoid, for several).  Only a
 * table's (a foreign table's row id is no TID, and it has no table access
 * method).
 */
static void
bh_returning_old_row(BhReturningWrap *w, ModifyTableState *node, bool own_stops)
{
	TupleTableSlot *plan_slot = node->ps.ps_ExprContext->ecxt_outertuple;
	BhReturningRel *r;
	ItemPointerData tid;
	Oid			relid;
	bool		isnull;
	Datum		d;
	int			i;

	if (plan_slot == NULL || TupIsNull(plan_slot))
		return;
	if (AttributeNumberIsValid(node->mt_resultOidAttno))
	{
		d = slot_getattr(plan_slot, node->mt_resultOidAttno, &isnull);
		if (isnull)
			return;
		relid = DatumGetObjectId(d);
	}
	else
		relid = RelationGetRelid(node->resultRelInfo[0].ri_RelationDesc);
	r = bh_returning_rel(w, relid);
	if (r->set == NULL || r->attnum == InvalidAttrNumber)
		return;
	for (i = 0; r->rri == NULL && i < node->mt_nrels; i++)
		if (RelationGetRelid(node->resultRelInfo[i].ri_RelationDesc) == relid)
			r->rri = &node->resultRelInfo[i];
	if (r->rri == NULL || !AttributeNumberIsValid(r->rri->ri_RowIdAttNo) ||
		r->rri->ri_RelationDesc->rd_rel->relkind != RELKIND_RELATION ||
		r->rri->ri_RelationDesc->rd_tableam == NULL)
		return;
	d = slot_getattr(plan_slot, r->rri->ri_RowIdAttNo, &isnull);
	if (isnull)
		return;
	tid = *(ItemPointer) DatumGetPointer(d);
	if (r->fetched == NULL)
		r->fetched = table_slot_create(r->rri->ri_RelationDesc, &node->ps.state->es_tupleTable);
	if (bh_fetch_version(r->rri->ri_RelationDesc, &tid, r->fetched, own_stops))
		bh_read_set_add_row(r->set, &r->out, r->fetched, r->attnum);
	ExecClearTuple(r->fetched);
}

static TupleTableSlot *
bh_returning_exec(PlanState *ps)
{
	BhReturningWrap *w = (BhReturningWrap *) bh_find_wrap(ps);
	TupleTableSlot *slot = w->node.orig(ps);
	CmdType		operation = ((ModifyTable *) ps->plan)->operation;
	TupleTableSlot *row;
	BhReturningRel *r;

	if (TupIsNull(slot) || ps->ps_ExprContext == NULL ||
		(row = ps->ps_ExprContext->ecxt_scantuple) == NULL)
		return slot;
	r = bh_returning_rel(w, row->tts_tableOid);
	if (r->set == NULL)
		return slot;
	r->set->rows++;
	if (r->attnum == InvalidAttrNumber)
		return slot;
	if (!TupIsNull(row))
		bh_read_set_add_row(r->set, &r->out, row, r->attnum);
	if (operation == CMD_UPDATE || operation == CMD_DELETE)
		bh_returning_old_row(w, (ModifyTableState *) ps, operation == CMD_UPDATE);
	return slot;
}

/*
 * Wrap a ModifyTable node whose RETURNING sends stored values back (not an
 * INSERT's, which returns what the client sent, unless ON CONFLICT DO
 * UPDATE).
 */
static void
bh_wrap_returning(BhStatement *st, ModifyTableState *node)
{
	ModifyTable *plan = (ModifyTable *) node->ps.plan;
	BhReturningWrap *w;
	MemoryContext old;

	if (plan->returningLists == NIL ||
		(plan->operation != CMD_UPDATE && plan->operation != CMD_DELETE &&
		 !(plan->operation == CMD_INSERT && plan->onConflictAction == ONCONFLICT_UPDATE)))
		return;
	old = MemoryContextSwitchTo(st->cxt);
	w = palloc0(sizeof(BhReturningWrap));
	w->node.ps = &node->ps;
	w->node.orig = node->ps.ExecProcNodeReal;
	w->st = st;
	st->wraps = lappend(st->wraps, w);
	MemoryContextSwitchTo(old);
	node->ps.ExecProcNodeReal = bh_returning_exec;
}

/* Wrap a LockRows node if it locks rows of tagged tables with a patient column. */
static void
bh_wrap_lockrows(BhStatement *st, LockRowsState *node)
{
	BhLockWrap *w = NULL;
	ListCell   *lc;
	MemoryContext old = MemoryContextSwitchTo(st->cxt);

	foreach(lc, node->lr_arowMarks)
	{
		ExecAuxRowMark *erm = (ExecAuxRowMark *) lfirst(lc);
		const BhTag *tag;
		BhLockMark *m;

		if (erm->rowmark->relation == NULL ||
			(tag = bh_tag_lookup(RelationGetRelid(erm->rowmark->relation))) == NULL ||
			!tag->capture_reads || tag->patient_attnum == InvalidAttrNumber)
			continue;
		if (w == NULL)
		{
			w = palloc0(sizeof(BhLockWrap));
			w->node.ps = &node->ps;
			w->node.orig = node->ps.ExecProcNodeReal;
		}
		m = palloc0(sizeof(BhLockMark));
		m->erm = erm;
		m->set = bh_read_set(st, tag);
		m->attnum = tag->patient_attnum;
		bh_id_output_copy(&m->out, &tag->patient_out, st->cxt);
		w->marks = lappend(w->marks, m);
	}
	if (w != NULL)
	{
		st->wraps = lappend(st->wraps, w);
		node->ps.ExecProcNodeReal = bh_lockrows_exec;
	}
	MemoryContextSwitchTo(old);
}

/* Walk the plan state tree, wrapping scans of tagged tables. */
static bool
bh_wrap_walker(PlanState *ps, void *context)
{
	if (ps == NULL)
		return false;
	switch (nodeTag(ps))
	{
		case T_SeqScanState:
		case T_IndexScanState:
		case T_IndexOnlyScanState:
		case T_BitmapHeapScanState:
		case T_TidScanState:
		case T_TidRangeScanState:
		case T_SampleScanState:
			bh_wrap_scan((BhStatement *) context, ps);
			break;
		case T_LockRowsState:
			bh_wrap_lockrows((BhStatement *) context, (LockRowsState *) ps);
			break;
		case T_ModifyTableState:
			bh_wrap_returning((BhStatement *) context, (ModifyTableState *) ps);
			break;
		default:
			break;
	}
	return planstate_tree_walker(ps, bh_wrap_walker, context);
}

/* A READ (or EXPORT) event of a statement's read set, without a patient. */
static void
bh_read_event_init(BhEvent *ev, const BhStatement *st, const BhReadSet *set)
{
	bh_event_init(ev, st->export ? "EXPORT" : "READ", set->resource_type);
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
 * short before, so it waits no more.
 */
static void
bh_emit_read(BhStatement *st, BhEvent *ev, bool nothrow, bool nowait, MemoryContext evcxt)
{
	st->emitted++;
	if (nowait)
		(void) bh_ring_push_jsonb_nowait(bh_event_build(ev, NULL));
	else
		bh_push(ev, nothrow);
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
	 * Each event is built in a context of its own, emptied once it is
	 * pushed: a statement may emit a million events, and a cursor of a
	 * function's loop ends in the function's context, which lasts as long
	 * as the call.
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
		int64		total;

		if (set->rows == 0)
			continue;
		if (!set->has_patient)
			total = 0;
		else if (set->patients)
			total = hash_get_num_entries(set->patients);
		else
			total = set->nfew;

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
		if (!set->has_patient || total > n)
		{
			if (!bh_emit_skipped(st, skip))
			{
				bh_read_event_init(&ev, st, set);
				if (set->has_patient)
					bh_event_meta_int(&ev, "further_patients", total - n);
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
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(evcxt);
}

/* Forget a statement's state (after its events went out). */
static void
bh_statement_done(BhStatement *st)
{
	BhStatement **p;

	for (p = &bh_statements; *p; p = &(*p)->next)
		if (*p == st)
		{
			*p = st->next;
			break;
		}
	MemoryContextDelete(st->cxt);
}

/* The capture state of a QueryDesc, or NULL. */
static BhStatement *
bh_statement_of(QueryDesc *qd)
{
	BhStatement *st;

	for (st = bh_statements; st; st = st->next)
		if (st->qd == qd)
			return st;
	return NULL;
}

/*----------------------------------------------------------------------
 * Denials and failures
 *----------------------------------------------------------------------
 */

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
	{
		bh_event_init(ev, action, BH_RESOURCE_AUDIT_LOG);
		ev->data_classification = "PHI";
		bh_event_meta_string(ev, "table", "bh_audit.events");
	}
}

/* Base an event on a tagged table (or the ledger itself). */
void
bh_event_for_table(BhEvent *ev, const char *action, Oid relid, Oid events_relid)
{
	bh_event_for_tag(ev, action, (relid == events_relid) ? NULL : bh_tag_lookup(relid));
}

/* Tagged relations (and bh_audit.events) in a range table. */
static List *
bh_tagged_in(List *rtable, Oid events_relid)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind != RTE_RELATION)
			continue;
		if ((OidIsValid(events_relid) && rte->relid == events_relid) ||
			bh_tag_lookup(rte->relid) != NULL)
			result = list_append_unique_oid(result, rte->relid);
	}
	return result;
}

/*----------------------------------------------------------------------
 * Hooks
 *----------------------------------------------------------------------
 */

/*
 * The first of the tagged relations that the statement accesses itself:
 * one with privileges to check, not a rule's placeholder of the view it
 * belongs to (a materialized view's definition, run by REFRESH, names the
 * view so).  Else the first tagged one.
 */
static Oid
bh_first_accessed(List *rtable, List *tagged)
{
	ListCell   *lc;

	foreach(lc, rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind == RTE_RELATION && rte->requiredPerms != 0 &&
			list_member_oid(tagged, rte->relid))
			return rte->relid;
	}
	return linitial_oid(tagged);
}

/*
 * Does the statement write relid (a target, whose range table entry asks
 * for a write privilege; FOR UPDATE asks for UPDATE, but reads)?
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
	return false;
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

/*
 * The same, for a plan calling functions of bh_audit's that the user may
 * not execute (refused): PostgreSQL refuses one as it prepares its call,
 * and that refusal is a denial (capture_denial.c).
 */
static void
bh_executor_start_refusing(QueryDesc *qd, int eflags, List *refused)
{
	PG_TRY();
	{
		bh_executor_start(qd, eflags);
	}
	PG_CATCH();
	{
		bh_release_error_locks();
		bh_record_refused_function(refused);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

static void
bh_ExecutorStart(QueryDesc *qd, int eflags)
{
	BhStatement *st = NULL;
	List	   *tagged = NIL;
	List	   *refused = NIL;
	Oid			events_relid = InvalidOid;

	bh_error_watch_install();
	bh_config_guard_session();

	/*
	 * Foreign-key checks and cascades (the queries of PostgreSQL's RI
	 * triggers, recognisable by their no-force-RLS security context and by
	 * being run without firing triggers at their end) disclose nothing to
	 * the user: not reads.  What a user's trigger does while a cascade runs
	 * (in the same security context) is.
	 */
	if (bh_capture_here() && !(eflags & EXEC_FLAG_EXPLAIN_ONLY) &&
		!(InNoForceRLSOperation() && (eflags & EXEC_FLAG_SKIP_TRIGGERS)))
	{
		events_relid = bh_events_relid();
		if (OidIsValid(events_relid))
			tagged = bh_tagged_in(qd->plannedstmt->rtable, events_relid);
	}
	/* a superuser passes every privilege check */
	if (tagged != NIL && !superuser())
		bh_check_denials(qd, tagged, events_relid);
	if (qd->plannedstmt->invalItems != NIL && bh_capture_here() &&
		!(eflags & EXEC_FLAG_EXPLAIN_ONLY) && !superuser())
		refused = bh_function_denials(qd->plannedstmt);
	/* a client's prepared statement bound again: keep it noted (capture_failure.c) */
	if (qd->params != NULL)
		bh_param_stmt_refresh(qd->sourceText);

	if (refused == NIL)
		bh_executor_start(qd, eflags);
	else
		bh_executor_start_refusing(qd, eflags, refused);

	if (tagged != NIL)
	{
		MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "bh_audit statement",
												  ALLOCSET_SMALL_SIZES);
		MemoryContext old = MemoryContextSwitchTo(cxt);
		Oid			first;

		st = palloc0(sizeof(BhStatement));
		st->qd = qd;
		st->cxt = cxt;
		st->subid = GetCurrentSubTransactionId();
		st->export = bh_copy_to_depth > 0;
		st->tagged = list_copy(tagged);
		first = bh_first_accessed(qd->plannedstmt->rtable, tagged);
		/* a failure on a table the statement only reads is a failed read */
		bh_event_for_table(&st->failure,
						   bh_action_for(bh_writes_rel(qd->plannedstmt, first) ?
										 qd->operation : CMD_SELECT, 0),
						   first, events_relid);
		(void) bh_session_user_name();	/* warm: events may be built on abort */
		st->next = bh_statements;
		bh_statements = st;
		MemoryContextSwitchTo(old);
		bh_wrap_walker(qd->planstate, st);
	}
}

/*
 * The statement failed while it ran, on a value (a data exception: an
 * invalid input, a division by zero; or an integrity violation, whose
 * DETAIL shows the failing row): the row each scan of a tagged table was
 * evaluating when the error came (its filter, its output columns, or a
 * write's new values computed from it), and the row a RETURNING list was
 * computed from, count as read too, since the error sent to the client
 * may show their values (SELECT body::int FROM notes).  A scan's slot
 * holds the row it returned last (counted already), or the one it was
 * evaluating, or nothing once the scan ended.  Other errors (a cancel
 * between two rows, a refused privilege) show no row: a row the filter
 * had just rejected is not attributed.  This walks the plan tree, not the
 * wrappers: the rows an UPDATE or a DELETE changes are scanned unwrapped.
 * Index-only scans hold index tuples: not looked at.
 */
static bool
bh_rows_at_failure_walker(PlanState *ps, void *context)
{
	BhStatement *st = (BhStatement *) context;
	TupleTableSlot *row = NULL;
	Oid			relid = InvalidOid;
	const BhTag *tag;

	if (ps == NULL)
		return false;
	switch (nodeTag(ps))
	{
		case T_SeqScanState:
		case T_IndexScanState:
		case T_BitmapHeapScanState:
		case T_TidScanState:
		case T_TidRangeScanState:
		case T_SampleScanState:
			if (((ScanState *) ps)->ss_currentRelation != NULL)
			{
				relid = RelationGetRelid(((ScanState *) ps)->ss_currentRelation);
				row = ((ScanState *) ps)->ss_ScanTupleSlot;
			}
			break;
		case T_ModifyTableState:
			if (ps->ps_ExprContext != NULL && (row = ps->ps_ExprContext->ecxt_scantuple) != NULL)
				relid = row->tts_tableOid;
			break;
		default:
			break;
	}
	if (row != NULL && !TupIsNull(row) && relid != bh_refreshing_matview &&
		(tag = bh_tag_cached(relid)) != NULL && tag->capture_reads &&
		tag->patient_attnum != InvalidAttrNumber)
	{
		bool		isnull;
		Datum		d = slot_getattr(row, tag->patient_attnum, &isnull);

		/* (a NULL patient: the row may have been counted already) */
		if (!isnull)
		{
			BhReadSet  *set = bh_read_set(st, tag);

			if (set->rows == 0)
				set->rows = 1;	/* the set has read something */
			bh_read_set_add_value(set, &tag->patient_out, d);
		}
	}
	return planstate_tree_walker(ps, bh_rows_at_failure_walker, context);
}

static void
bh_note_rows_at_failure(BhStatement *st)
{
	int			category = ERRCODE_TO_CATEGORY(geterrcode());
	MemoryContext old;

	/*
	 * Stopped, not refused on a value: a cancel or shutdown, a deadlock or
	 * serialization failure, a lock not had, a lack of resources or of
	 * privileges, a system or connection error — their messages print
	 * nothing of the row.  Any other error may (a data exception, an
	 * integrity violation, a function's RAISE, an error of an extension).
	 */
	if (category == ERRCODE_OPERATOR_INTERVENTION ||
		category == ERRCODE_TRANSACTION_ROLLBACK ||
		category == ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE ||
		category == ERRCODE_INSUFFICIENT_RESOURCES ||
		category == ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION ||
		category == ERRCODE_SYSTEM_ERROR ||
		category == ERRCODE_CONNECTION_EXCEPTION)
		return;
	old = MemoryContextSwitchTo(st->cxt);
	(void) bh_rows_at_failure_walker(st->qd->planstate, st);
	MemoryContextSwitchTo(old);
}

static void
bh_ExecutorRun(QueryDesc *qd, ScanDirection direction, uint64 count, bool execute_once)
{
	BhStatement *volatile st = bh_statement_of(qd);

	PG_TRY();
	{
		if (prev_ExecutorRun)
			prev_ExecutorRun(qd, direction, count, execute_once);
		else
			standard_ExecutorRun(qd, direction, count, execute_once);
	}
	PG_CATCH();
	{
		bh_release_error_locks();
		if (st)
		{
			bh_note_rows_at_failure(st);
			bh_record_statement_failure(&st->failure);
		}
		PG_RE_THROW();
	}
	PG_END_TRY();
}

static void
bh_ExecutorFinish(QueryDesc *qd)
{
	BhStatement *volatile st = bh_statement_of(qd);

	PG_TRY();
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(qd);
		else
			standard_ExecutorFinish(qd);
	}
	PG_CATCH();
	{
		bh_release_error_locks();
		if (st)
		{
			bh_note_rows_at_failure(st);	/* a WITH's write runs here */
			bh_record_statement_failure(&st->failure);
		}
		PG_RE_THROW();
	}
	PG_END_TRY();
}

static void
bh_ExecutorEnd(QueryDesc *qd)
{
	BhStatement *st = bh_statement_of(qd);

	if (st)
	{
		bh_emit_reads(st, false);
		bh_statement_done(st);
	}
	if (bh_utility_nesting() == 0)
		bh_client_stmt_finished(qd->sourceText);
	if (prev_ExecutorEnd)
		prev_ExecutorEnd(qd);
	else
		standard_ExecutorEnd(qd);
}

/* Flush the statements of an aborted (sub)transaction: what they read counts. */
static void
bh_flush_statements(bool all, SubTransactionId subid)
{
	BhStatement *st = bh_statements;

	while (st)
	{
		BhStatement *next = st->next;

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
}

static void
bh_read_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_COMMIT_SUB)
		bh_failure_subxact_commit();
	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	if (bh_statements != NULL)
		bh_flush_statements(false, mySubid);
	bh_failure_subxact_abort();
}

/*
 * Early in every statement (its first name lookup): load the tag cache and
 * the session user's name, which the abort path needs and cannot look up.
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
		bh_error_watch_install();
	}
}

/* Does a plan read a tagged table in parallel workers (any Gather)? */
static bool
bh_plan_is_parallel_on_tagged(PlannedStmt *stmt)
{
	ListCell   *lc;

	if (!stmt->parallelModeNeeded)
		return false;
	foreach(lc, stmt->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);
		const BhTag *tag;

		if (rte->rtekind == RTE_RELATION &&
			(tag = bh_tag_lookup(rte->relid)) != NULL && tag->capture_reads)
			return true;
	}
	return false;
}

/* What planning a query needs to know of the tagged tables it names. */
typedef struct BhPlanTags
{
	Oid			events_relid;	/* bh_audit.events, or InvalidOid */
	Oid			first;			/* the first tagged table (or the ledger) */
	bool		reads;			/* one of them has its reads captured */
	bool		parallel_ok;	/* in: a parallel plan is possible (see below) */
	bool		may_grow;		/* planning may bring in other tables (see below) */
	bool		user_functions; /* it calls a user's function a worker may run */
} BhPlanTags;

/*
 * A function a user defined that may run in a parallel worker: its own
 * statements may read a tagged table there.
 */
static bool
bh_user_parallel_safe(Oid funcid, void *context)
{
	return funcid >= FirstNormalObjectId && func_parallel(funcid) == PROPARALLEL_SAFE;
}

/*
 * Walk a query with its subqueries, sublinks and CTEs, noting the first
 * tagged table (or the ledger), until a table whose reads are captured is
 * found.
 */
static bool
bh_plan_tags_walker(Node *node, BhPlanTags *found)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;
		const BhTag *tag;

		if (rte->rtekind == RTE_FUNCTION)
			found->may_grow = true;
		if (rte->rtekind != RTE_RELATION)
			return false;
		/* a catalog lookup per table: only when a copy may be wanted */
		if (found->parallel_ok && rte->inh && !found->may_grow &&
			(rte->relkind == RELKIND_PARTITIONED_TABLE || has_subclass(rte->relid)))
			found->may_grow = true;
		tag = bh_tag_lookup(rte->relid);
		if (!OidIsValid(found->first) &&
			(tag != NULL || (OidIsValid(found->events_relid) && rte->relid == found->events_relid)))
			found->first = rte->relid;
		found->reads = (tag != NULL && tag->capture_reads);
		return found->reads;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, bh_plan_tags_walker, found,
								 QTW_EXAMINE_RTES_BEFORE);
	if (found->parallel_ok && !found->user_functions &&
		check_functions_in_node(node, bh_user_parallel_safe, NULL))
		found->user_functions = true;
	return expression_tree_walker(node, bh_plan_tags_walker, found);
}

/*
 * After parse analysis: a client's statement with parameters (a Parse
 * message; not a function's statement, not PREPARE's query, which is
 * analysed while the PREPARE runs) that names a tagged table is noted, for
 * a failure at Bind (bh_param_stmt_note).
 */
static void
bh_post_parse_analyze(ParseState *pstate, Query *query, JumbleState *jstate)
{
	BhPlanTags	found = {InvalidOid, InvalidOid, false, false, false, false};

	if (prev_post_parse_analyze)
		prev_post_parse_analyze(pstate, query, jstate);
	bh_client_stmt_analyzed(pstate->p_sourcetext, query->stmt_location, query->stmt_len);
	if (pstate->p_paramref_hook == NULL || pstate->p_sourcetext == NULL ||
		pstate->p_sourcetext != debug_query_string || bh_utility_nesting() > 0 ||
		!bh_capture_here() ||
		!bh_tags_any() || bh_sql_action(pstate->p_sourcetext) == NULL)
		return;
	found.events_relid = bh_events_relid();
	(void) bh_plan_tags_walker((Node *) query, &found);
	if (OidIsValid(found.first))
		bh_param_stmt_note(pstate->p_sourcetext, found.first, query->commandType);
}

/* Plan, without or with parallelism (see bh_planner). */
static PlannedStmt *
bh_plan(Query *parse, const char *query_string, int cursorOptions, ParamListInfo boundParams)
{
	if (prev_planner)
		return prev_planner(parse, query_string, cursorOptions, boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

/* bh_plan(), recording a failure of the query, which names found->first. */
static PlannedStmt *
bh_plan_noting_failure(Query *parse, const char *query_string, int cursorOptions,
					   ParamListInfo boundParams, const BhPlanTags *found)
{
	PlannedStmt *volatile result = NULL;
	CmdType		cmd = parse->commandType;

	PG_TRY();
	{
		result = bh_plan(parse, query_string, cursorOptions, boundParams);
	}
	PG_CATCH();
	{
		bh_release_error_locks();
		bh_record_caught_failure(found->first, bh_action_for(cmd, 0));
		PG_RE_THROW();
	}
	PG_END_TRY();
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
bh_planner(Query *parse, const char *query_string, int cursor_options_in,
		   ParamListInfo boundParams)
{
	Query	   *volatile copy = NULL;
	volatile int cursorOptions = cursor_options_in;
	BhPlanTags	found = {InvalidOid, InvalidOid, false, false, false, false};
	PlannedStmt *result;

	if (bh_capture_here() && bh_tags_any())
	{
		found.events_relid = bh_events_relid();
		found.parallel_ok = (max_parallel_workers_per_gather > 0 &&
							 (cursorOptions & CURSOR_OPT_PARALLEL_OK));
		(void) bh_plan_tags_walker((Node *) parse, &found);
		if (found.parallel_ok)
		{
			if (found.reads || found.user_functions)
				cursorOptions &= ~CURSOR_OPT_PARALLEL_OK;
			else if (found.may_grow)
				copy = copyObject(parse);
		}
	}
	if (!OidIsValid(found.first) || bh_explain_only_depth > 0)
		result = bh_plan(parse, query_string, cursorOptions, boundParams);
	else
		result = bh_plan_noting_failure(parse, query_string, cursorOptions, boundParams,
										&found);

	if (copy && bh_plan_is_parallel_on_tagged(result))
	{
		int			nest = NewGUCNestLevel();

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
 * COPY tagged TO ... becomes COPY (SELECT ...) TO, so that the executor,
 * and with it read capture, sees the rows.  Returns the statement to run.
 */
static PlannedStmt *
bh_rewrite_copy_to(PlannedStmt *pstmt)
{
	CopyStmt   *cs = (CopyStmt *) pstmt->utilityStmt;
	Oid			relid = RangeVarGetRelid(cs->relation, NoLock, true);
	const BhTag *tag = OidIsValid(relid) ? bh_tag_lookup(relid) : NULL;
	StringInfoData sql;
	ListCell   *lc;
	List	   *raw;

	if (tag == NULL || !tag->capture_reads || get_rel_relkind(relid) != RELKIND_RELATION)
		return pstmt;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	if (cs->attlist == NIL)
		appendStringInfoChar(&sql, '*');
	foreach(lc, cs->attlist)
	{
		if (lc != list_head(cs->attlist))
			appendStringInfoString(&sql, ", ");
		appendStringInfoString(&sql, quote_identifier(strVal(lfirst(lc))));
	}
	appendStringInfo(&sql, " FROM ONLY %s",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												get_rel_name(relid)));
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
 * The first tagged table (or the ledger) of a prepared statement, and the
 * action of the statement, for the failure of its EXECUTE.
 */
static void
bh_execute_target(ExecuteStmt *stmt, BhReadUtility *state)
{
	PreparedStatement *entry = FetchPreparedStatement(stmt->name, false);
	Oid			events_relid;
	ListCell   *lc;
	CmdType		cmd = CMD_SELECT;

	if (entry == NULL)
		return;					/* PostgreSQL reports it */
	events_relid = bh_events_relid();
	foreach(lc, entry->plansource->relationOids)
	{
		Oid			relid = lfirst_oid(lc);

		if (bh_tag_lookup(relid) != NULL || (OidIsValid(events_relid) && relid == events_relid))
		{
			state->execute_relid = relid;
			break;
		}
	}
	switch (entry->plansource->commandTag)
	{
		case CMDTAG_INSERT:
			cmd = CMD_INSERT;
			break;
		case CMDTAG_UPDATE:
		case CMDTAG_MERGE:
			cmd = CMD_UPDATE;
			break;
		case CMDTAG_DELETE:
			cmd = CMD_DELETE;
			break;
		default:
			break;
	}
	state->execute_action = bh_action_for(cmd, 0);
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
bh_capture_read_utility_begin(PlannedStmt **pstmt, bool *readOnlyTree, BhReadUtility *state)
{
	Node	   *parsetree = (*pstmt)->utilityStmt;

	memset(state, 0, sizeof(*state));
	bh_error_watch_install();
	if (IsA(parsetree, CopyStmt) && !((CopyStmt *) parsetree)->is_from)
	{
		if (bh_capture_here() && ((CopyStmt *) parsetree)->relation != NULL)
		{
			PlannedStmt *rewritten = bh_rewrite_copy_to(*pstmt);

			if (rewritten != *pstmt)
			{
				*pstmt = rewritten;
				*readOnlyTree = false;
			}
		}
		state->copy_to = true;
		bh_copy_to_depth++;
	}
	else if (bh_explain_only(parsetree))
	{
		state->explain_only = true;
		bh_explain_only_depth++;
	}
	else if (IsA(parsetree, ExecuteStmt) && bh_capture_here() && bh_tags_any())
		bh_execute_target((ExecuteStmt *) parsetree, state);
	else if (IsA(parsetree, TruncateStmt) && bh_capture_here())
		state->denial_noted = bh_check_truncate_denials((TruncateStmt *) parsetree);
}

/*
 * The statement failed (from PG_CATCH): an EXECUTE of a statement on a
 * tagged table whose failure no inner path recorded (its parameters did
 * not convert) is a failure on that table.
 */
void
bh_capture_read_utility_failed(BhReadUtility *state)
{
	state->failed = true;
	if (OidIsValid(state->execute_relid))
		bh_record_caught_failure(state->execute_relid, state->execute_action);
}

/* After the statement ran or failed. */
void
bh_capture_read_utility_end(const BhReadUtility *state)
{
	if (state->copy_to)
		bh_copy_to_depth--;
	if (state->explain_only)
		bh_explain_only_depth--;
	/* a denial that PostgreSQL did not raise after all (a GRANT came first) */
	if (state->denial_noted && !state->failed)
		bh_failure_recorded = false;
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
}
