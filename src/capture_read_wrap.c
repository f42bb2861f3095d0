/*-------------------------------------------------------------------------
 *
 * capture_read_wrap.c
 *		Read capture's plan-node wrappers: which rows of tagged tables a
 *		statement's plan produces, and whose they are.
 *
 * This file keeps the wrappers' table, walks the plan and wraps its scans
 * and LockRows nodes; the other wrappers are in the files that
 * capture_read_wrap.h names.
 *
 * After standard_ExecutorStart (capture_read.c), every scan node of a
 * tagged relation with capture_reads (sequential, index, index-only,
 * bitmap heap, TID and sample scans; partitions resolve to their tagged
 * ancestor) gets its ExecProcNodeReal wrapped: each tuple the scan returns
 * is looked at in the scan's own tuple slot, and its patient id goes into
 * the statement's read set of the table.  The result relation of an
 * UPDATE/DELETE/MERGE is a write and is not wrapped; but a MERGE's matched
 * row that no action changed is read: its subplan is wrapped
 * (bh_wrap_merge).  The rows an UPDATE
 * or a DELETE returns (RETURNING) are reads too: their ModifyTable node is
 * wrapped; so is a LockRows node, whose rows may be newer versions than
 * its scans returned.  The separate copy of a LockRows or ModifyTable
 * node's subplan in which PostgreSQL re-checks a row another transaction
 * changed (EvalPlanQual) is made and wrapped before the node runs when its
 * scans may read there what no other wrapper sees (bh_epq_prepare).  A
 * scan whose filter calls a function a user defined,
 * not leakproof (which expressions do, and which functions are exempt:
 * shown_rows.c), shows that function every row it examines: its wrapper
 * takes the filter and projection from the node's plan state, notes each
 * row fetched, then filters and projects it as ExecScan would
 * (bh_scan_exec).  Such a filter of the table an UPDATE or a DELETE changes
 * reads every row it examines, also those then written (a rollback takes a
 * write's event away).  The scan of that table is wrapped too when its
 * projection (the new values) calls such a function, or a condition or
 * projection above it does (a join filter, new values computed by a join, a
 * MERGE's WHEN MATCHED condition or UPDATE SET), or a clause beside it
 * given the target's values does: one using a parameter of a nested loop
 * whose outer side holds the target's scan (a filter or an index condition
 * of its inner side).  Looked for once per owner of the tables scanned
 * (shown_rows.c's bh_mt_shows_target): the rows it produces are read, also
 * those then written.  The stored rows an INSERT ... ON CONFLICT DO UPDATE
 * gives its WHERE condition or SET list are read when that calls such a
 * function: those expressions' evaluation functions are wrapped, and a
 * partitioned table's rows routed ahead so that a partition's own copies of
 * them are wrapped before they run (bh_wrap_on_conflict).  A statement that
 * fails on a value counts the row each scan was evaluating
 * (bh_note_rows_at_failure).
 *
 * Completeness of attribution.  Every produced row must be visible to the
 * wrappers with its patient.  An index-only scan of a tagged table should
 * return the patient column: indexes without it lose canreturn for such
 * tables (capture_read.c's get_relation_info hook).  PostgreSQL still
 * scans any index index-only for a query that needs no column of the table
 * (count(*), a partial index's predicate as the only condition); the
 * wrapper of such a scan, and of any index-only scan without the patient
 * column however it was planned, reads each returned row's patient from
 * its heap row.  A row the reading transaction itself moved to another
 * patient holds the record of the one it had before: while the
 * transaction has such rows noted (moved_rows.c), a row it made is looked
 * up there and those patients are read too (bh_moved_row_read).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/tableam.h"
#include "executor/executor.h"
#include "nodes/nodeFuncs.h"

#include "bh_audit.h"
#include "capture_read_wrap.h"
#include "shown_rows.h"

/* One wrapped scan node. */
typedef struct BhScanWrap
{
	BhWrap		node;			/* first: found as a BhWrap */
	BhReadSet  *set;
	Oid			relid;			/* the table scanned (a partition) */
	AttrNumber	slot_attnum;	/* patient column in the scan slot, 0: none */
	AttrNumber	heap_attnum;	/* an index-only scan without it: the patient
								 * column in the heap row, 0: not needed */
	BhIdOutput	out;			/* how its values become ids (a copy: the tag
								 * cache may be reloaded while the scan runs) */

	/*
	 * Its filter shows every row it examines to a user's function: the node's
	 * qual and projection, taken from it and run by the wrapper after each
	 * fetched row is noted (shows_rows).
	 */
	bool		shows_rows;
	ExprState  *prequal;		/* the filter's leading conditions that call
								 * no such function (a row-level security
								 * policy's among them), NULL: none */
	ExprState  *qual;			/* the rest of the filter */
	ProjectionInfo *proj;
} BhScanWrap;

HTAB	   *bh_wraps = NULL;

void	   *bh_last_key = NULL;

BhWrap	   *bh_last_wrap = NULL;

/*
 * Note a node wrapper (in the memory context of the list given), before its
 * node is given the wrapper's method: in the list first, from which
 * bh_wraps_forget_list takes it out of the table again.  The list is its
 * statement's (st->wraps), or a re-check plan's (bh_epq_prepare).
 */
void
bh_wrap_enter(List **wraps, BhWrap *w)
{
	BhWrapEntry *entry;

	if (bh_wraps == NULL)
		bh_wraps = bh_pointer_table("bh_audit wrapped nodes", sizeof(BhWrapEntry));
	*wraps = lappend(*wraps, w);
	entry = (BhWrapEntry *) hash_search(bh_wraps, &w->key, HASH_ENTER, NULL);
	entry->wrap = w;			/* the newest, should an entry have stayed */
	if (bh_last_key == w->key)
		bh_last_key = NULL;
}

/*
 * Forget the node wrappers of a list whose plan states are going.  Called
 * from memory context callbacks too (bh_statement_gone, bh_epq_gone):
 * neither allocates nor raises (a hash table's removal does neither).  An
 * entry is removed only if it is still the wrapper's own.
 */
void
bh_wraps_forget_list(List *wraps)
{
	ListCell   *lc;

	if (bh_wraps != NULL)
		foreach(lc, wraps)
	{
		BhWrap	   *w = (BhWrap *) lfirst(lc);
		uint32		hash = get_hash_value(bh_wraps, &w->key);
		BhWrapEntry *entry = (BhWrapEntry *)
		hash_search_with_hash_value(bh_wraps, &w->key, hash, HASH_FIND, NULL);

		if (entry != NULL && entry->wrap == w)
			(void) hash_search_with_hash_value(bh_wraps, &w->key, hash, HASH_REMOVE, NULL);
		if (bh_last_wrap == w)
		{
			bh_last_key = NULL;
			bh_last_wrap = NULL;
		}
	}
}

/* Forget the node wrappers of a statement whose executor state is going. */
void
bh_wraps_forget(BhStatement *st)
{
	bh_wraps_forget_list(st->wraps);
	st->wraps = NIL;			/* (its cells go with the statement's context) */
}

/*
 * A wrapped LockRows node (SELECT ... FOR UPDATE / SHARE): the rows of the
 * tagged relations it locks.  When another transaction changed a row
 * meanwhile, PostgreSQL locks its newest version and returns that one, as
 * re-checked by a separate copy of the plan (EvalPlanQual); the locked
 * version is in the node's re-check slot of the relation.  The scans of
 * that copy are wrapped too when they may read rows no other wrapper sees
 * (a subquery run again on the newest version's values, a filter giving
 * it to a user's function): the copy is then made before the node runs,
 * and again after PostgreSQL dropped it, at the end of the node's rows
 * (bh_epq_prepare).
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
	BhStatement *st;
	bool		recheck;		/* its re-check plan is wrapped */
	List	   *subst;			/* the relations whose rows that substitutes */
} BhLockWrap;

static TupleTableSlot *
bh_lockrows_exec(PlanState *ps)
{
	BhLockWrap *w = (BhLockWrap *) bh_find_wrap(ps);
	ListCell   *lc;
	TupleTableSlot *slot;
	EPQState   *epq = &((LockRowsState *) ps)->lr_epqstate;

	if (unlikely(w->recheck) && epq->recheckestate == NULL)
		bh_epq_prepare(w->st, ps, w->subst);
	slot = w->node.orig(ps);
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
			(void) bh_read_set_add_value(m->set, &m->out, d);
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
static bool
bh_ios_fetch(IndexOnlyScanState *ios)
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
	return found;
}

static void
bh_ios_heap_note(BhScanWrap *w, IndexOnlyScanState *ios)
{
	TupleTableSlot *heap = ios->ioss_TableSlot;

	if (bh_ios_fetch(ios))
	{
		bh_read_set_add_row(w->set, &w->out, heap, w->heap_attnum);
		if (unlikely(bh_moved_active))
			bh_moved_row_read(w->set, w->relid, heap, NULL);
	}
	else						/* not under the scan's MVCC snapshot: still
								 * read */
		bh_read_set_null_row(w->set);
	ExecClearTuple(heap);
}

/*
 * The row a scan returned (in row, but for an index-only scan), while this
 * transaction has rows noted as moved (bh_moved_row_read).  An index-only
 * scan's is an index tuple: its TID
 * is the heap version's the scan found (the page is not all visible where
 * the transaction wrote); where a table's moves are no longer followed,
 * its heap row tells whether the transaction made it.
 */
static void
bh_scan_moved(BhScanWrap *w, PlanState *ps, TupleTableSlot *row)
{
	if (IsA(ps, IndexOnlyScanState))
	{
		IndexOnlyScanState *ios = (IndexOnlyScanState *) ps;

		if (ios->ioss_ScanDesc == NULL)
			return;
		if (bh_moved_is_unfollowed(w->set->tagged_relid))
		{
			if (bh_ios_fetch(ios))
				bh_moved_row_read(w->set, w->relid, ios->ioss_TableSlot, NULL);
			ExecClearTuple(ios->ioss_TableSlot);
		}
		else
			bh_moved_row_read(w->set, w->relid, NULL, &ios->ioss_ScanDesc->xs_heaptid);
	}
	else
		bh_moved_row_read(w->set, w->relid, row, NULL);
}

/*
 * Note whose row a scan fetched: row holds it, its scan slot; in a re-check
 * plan (bh_epq_prepare) the row PostgreSQL substitutes may be in a slot of
 * its own, which the scan returns (an index-only scan is never given one).
 */
static void
bh_scan_note(BhScanWrap *w, PlanState *ps, TupleTableSlot *row)
{
	BhReadSet  *set = w->set;

	bh_read_set_row(set);
	if (w->heap_attnum != InvalidAttrNumber)
		bh_ios_heap_note(w, (IndexOnlyScanState *) ps);
	else if (w->slot_attnum != InvalidAttrNumber)
	{
		bh_read_set_add_row(set, &w->out, row, w->slot_attnum);
		if (unlikely(bh_moved_active))
			bh_scan_moved(w, ps, row);
	}
}

/*
 * The wrapper: run the scan, note whose row it returned.  A scan whose
 * filter shows rows to a user's function (shows_rows) runs without its
 * qual and projection, so returns each row it fetches (in its scan slot,
 * or the one a re-check substitutes): the row is put
 * through the filter's leading conditions that call no such function, noted
 * if it passes them, then put through the rest and projected here as
 * ExecScan would have (the expression
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
			bh_scan_note(w, ps, ((ScanState *) ps)->ss_ScanTupleSlot);
		return slot;
	}
	econtext = ps->ps_ExprContext;
	for (;;)
	{
		ResetExprContext(econtext);
		slot = w->node.orig(ps);
		if (TupIsNull(slot))
			return w->proj ? ExecClearTuple(w->proj->pi_state.resultslot) : slot;
		econtext->ecxt_scantuple = slot;
		/* a row rejected before any such function saw it is not read */
		if (w->prequal != NULL && !ExecQual(w->prequal, econtext))
		{
			InstrCountFiltered1(ps, 1);
			continue;
		}
		bh_scan_note(w, ps, slot);
		if (w->qual == NULL || ExecQual(w->qual, econtext))
			return w->proj ? ExecProject(w->proj) : slot;
		InstrCountFiltered1(ps, 1);
	}
}

/*
 * Where the patient column is in an index-only scan's slot (0: absent).  A
 * column the index cannot return (resjunk) is no value there.
 */
AttrNumber
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
 * A filter that shows rows to a user's function, split in two: its leading
 * conditions that call no such function, and the rest.  PostgreSQL checks
 * a filter's conditions in their order in the plan (a row-level security
 * policy's first, then by cost), so a row the leading ones reject never
 * reaches the function.  The two parts are compiled anew; the subqueries
 * in them replace the states the node's own filter made for them, in
 * place, so that EXPLAIN ANALYZE shows each once, where it was.
 */
static void
bh_split_shown_qual(BhScanWrap *w, PlanState *ps)
{
	List	   *quals = ps->plan->qual;
	List	   *prior = ps->subPlan;
	List	   *added;
	ListCell   *lc;
	int			lead = 0;
	MemoryContext old;

	foreach(lc, quals)
	{
		if (bh_expr_calls((Node *) lfirst(lc), ps))
			break;
		lead++;
	}
	if (lead == 0)
	{
		w->qual = ps->qual;
		return;
	}
	old = MemoryContextSwitchTo(ps->state->es_query_cxt);
	ps->subPlan = NIL;
	w->prequal = ExecInitQual(list_copy_head(quals, lead), ps);
	w->qual = ExecInitQual(list_copy_tail(quals, lead), ps);
	added = ps->subPlan;
	foreach(lc, added)
	{
		SubPlanState *sps = (SubPlanState *) lfirst(lc);
		ListCell   *pc;
		bool		replaced = false;

		foreach(pc, prior)
			if (((SubPlanState *) lfirst(pc))->subplan == sps->subplan)
		{
			lfirst(pc) = sps;
			replaced = true;
			break;
		}
		if (!replaced)
			prior = lappend(prior, sps);
	}
	ps->subPlan = prior;
	MemoryContextSwitchTo(old);
}

/*
 * Is a target list nothing but columns and constants (most statements'),
 * which give no function anything?  Spares the look at its expressions.
 */
static bool
bh_columns_only(List *tlist)
{
	ListCell   *lc;

	foreach(lc, tlist)
	{
		Node	   *expr = (Node *) lfirst_node(TargetEntry, lc)->expr;

		if (!IsA(expr, Var) && !IsA(expr, Const))
			return false;
	}
	return true;
}

/* Wrap one scan node if it reads a tagged table. */
static void
bh_wrap_scan(BhWrapWalk *walk, PlanState *ps)
{
	BhStatement *st = walk->st;
	ScanState  *ss = (ScanState *) ps;
	Index		scanrelid = ((Scan *) ps->plan)->scanrelid;
	const BhTag *tag;
	BhScanWrap *w;
	MemoryContext old;
	bool		shows_rows;
	bool		result_rel;
	bool		target;			/* the scan of walk->mt's own target */
	bool		above = false;
	bool		proj_shows;
	BhEpqNote  *epq;

	if (ss->ss_currentRelation == NULL)
		return;
	tag = bh_tag_lookup(RelationGetRelid(ss->ss_currentRelation));
	if (tag == NULL || !tag->capture_reads)
		return;
	/* REFRESH ... CONCURRENTLY comparing the view's old and new rows */
	if (RelationGetRelid(ss->ss_currentRelation) == bh_refreshing_matview)
		return;

	/*
	 * The rows an UPDATE/DELETE/MERGE changes are writes, not reads, also in
	 * a WITH of a SELECT or an INSERT (an INSERT's target is no scan); but
	 * the rows its filter shows to a user's function (below) are reads,
	 * accepted or rejected; and when its projection (the new values) or a
	 * condition or projection above the scan shows the rows it produces to a
	 * user's function (bh_mt_shows_target), those are read, written or not.
	 * A write's event goes with a rollback; the function has seen the row all
	 * the same.
	 */
	bh_shown_rows_scan(st->qd->plannedstmt, ss);
	shows_rows = ps->qual != NULL && bh_expr_calls((Node *) ps->plan->qual, ps);
	result_rel = list_member_int(st->qd->plannedstmt->resultRelations, (int) scanrelid);
	target = result_rel && walk->mt != NULL &&
		list_member_int(((ModifyTable *) walk->mt->ps.plan)->resultRelations, (int) scanrelid);
	if (target)
	{
		/*
		 * Decided for the owner of the table scanned (a partition's, as for a
		 * scan's own filter): the owner's own functions are exempt for the
		 * owner's rows only.  Once per owner: the partitions of a table have
		 * one owner mostly.
		 */
		Oid			owner = ss->ss_currentRelation->rd_rel->relowner;

		if (list_member_oid(walk->mt_shows, owner))
			above = true;
		else if (!list_member_oid(walk->mt_shows_not, owner))
		{
			above = bh_mt_shows_target(walk->mt, owner);
			if (above)
				walk->mt_shows = lappend_oid(walk->mt_shows, owner);
			else
				walk->mt_shows_not = lappend_oid(walk->mt_shows_not, owner);
		}
	}

	/*
	 * The scan's own projection giving each row it produces to a user's
	 * function: a failure meanwhile may have shown the row; the target's new
	 * values (an UPDATE's SET list) computed so are given those rows. Looked
	 * at once.
	 */
	proj_shows = above ||
		(ps->ps_ProjInfo != NULL && !bh_columns_only(ps->plan->targetlist) &&
		 bh_expr_calls((Node *) ps->plan->targetlist, ps));
	if (result_rel && !shows_rows && !proj_shows)
		return;

	/*
	 * In a re-check plan, a row substituted for the scan's (bh_epq_prepare)
	 * is read where no user's function is given it: a locked row's newest
	 * version by the LockRows wrapper, if returned; the other rows are those
	 * the statement's own scans produced.  Above: a scan that is not, or
	 * whose rows a user's function is given, reads in a re-check what no
	 * other wrapper sees (a subquery's, run again on a row's newest values).
	 */
	if (walk->recheck && !shows_rows && !proj_shows &&
		list_member_int(walk->subst, (int) scanrelid))
		return;
	for (epq = walk->epqs; epq != NULL; epq = epq->up)
		if (shows_rows || proj_shows || !list_member_int(epq->subst, (int) scanrelid))
			epq->reads = true;

	old = MemoryContextSwitchTo(walk->cxt);
	w = palloc0(sizeof(BhScanWrap));
	w->node.key = ps;
	w->node.orig = ps->ExecProcNodeReal;
	w->node.shows = shows_rows || proj_shows;
	w->set = bh_read_set(st, tag);
	w->relid = RelationGetRelid(ss->ss_currentRelation);
	if (tag->patient_attnum != InvalidAttrNumber)
	{
		w->slot_attnum = IsA(ps, IndexOnlyScanState)
			? bh_ios_attnum((IndexOnlyScanState *) ps, tag->patient_attnum)
			: tag->patient_attnum;
		/* an index-only scan without it: each row's is read from the heap */
		if (w->slot_attnum == InvalidAttrNumber)
			w->heap_attnum = tag->patient_attnum;

		/*
		 * Before 15.13, a bitmap heap scan that needs no column returned rows
		 * of NULLs for pages all visible, without reading them.
		 */
		if (IsA(ps, BitmapHeapScanState))
			((BitmapHeapScanState *) ps)->can_skip_fetch = false;
		bh_id_output_copy(&w->out, &tag->patient_out, walk->cxt);
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
		bh_split_shown_qual(w, ps);
		w->proj = ps->ps_ProjInfo;
		ps->qual = NULL;
		ps->ps_ProjInfo = NULL;
	}
	bh_wrap_enter(walk->wraps, &w->node);
	if (target)
		walk->mt_scan_read = lappend_oid(walk->mt_scan_read, w->relid);
	MemoryContextSwitchTo(old);
	ps->ExecProcNodeReal = bh_scan_exec;
}

/*
 * Wrap a LockRows node if it locks rows of tagged tables with a patient
 * column, or if its re-check plan is to be wrapped (recheck; subst: the
 * relations whose rows that substitutes).
 */
static void
bh_wrap_lockrows(BhWrapWalk *walk, LockRowsState *node, bool recheck, List *subst)
{
	BhStatement *st = walk->st;
	BhLockWrap *w = NULL;
	ListCell   *lc;
	MemoryContext old = MemoryContextSwitchTo(walk->cxt);

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
			w->node.key = &node->ps;
			w->node.orig = node->ps.ExecProcNodeReal;
		}
		m = palloc0(sizeof(BhLockMark));
		m->erm = erm;
		m->set = bh_read_set(st, tag);
		m->attnum = tag->patient_attnum;
		bh_id_output_copy(&m->out, &tag->patient_out, walk->cxt);
		w->marks = lappend(w->marks, m);
	}
	if (w == NULL && recheck)
	{
		w = palloc0(sizeof(BhLockWrap));
		w->node.key = &node->ps;
		w->node.orig = node->ps.ExecProcNodeReal;
	}
	if (w != NULL)
	{
		w->st = st;
		w->recheck = recheck;
		if (recheck)
			w->subst = list_copy(subst);
		bh_wrap_enter(walk->wraps, &w->node);
		node->ps.ExecProcNodeReal = bh_lockrows_exec;
	}
	MemoryContextSwitchTo(old);
}

/* Walk the plan states of a list of SubPlans (initPlan, subPlan). */
static void
bh_wrap_subplans(List *plans, BhWrapWalk *walk)
{
	ListCell   *lc;

	foreach(lc, plans)
		(void) bh_wrap_walker(((SubPlanState *) lfirst(lc))->planstate, walk);
}

/* Walk the plan state tree, wrapping scans of tagged tables. */
bool
bh_wrap_walker(PlanState *ps, void *context)
{
	BhWrapWalk *walk = (BhWrapWalk *) context;

	if (ps == NULL)
		return false;

	/*
	 * Wrapped already, with what is below it: a SubPlan that PostgreSQL
	 * copies into several expressions (each partition's filter, an OR clause
	 * also extracted as a restriction of one side of a join) keeps one plan
	 * state, reached once per copy.  Wrapping a node twice would make its
	 * wrapper call itself.
	 */
	if (ps->ExecProcNodeReal == bh_scan_exec || ps->ExecProcNodeReal == bh_lockrows_exec ||
		ps->ExecProcNodeReal == bh_returning_exec)
		return false;
	if (bh_is_table_scan(ps))
		bh_wrap_scan(walk, ps);
	switch (nodeTag(ps))
	{
		case T_LockRowsState:
			{
				/* its subplan is what its re-check runs again */
				BhEpqNote	note = {bh_epq_substituted(ps), false, walk->epqs};

				bh_wrap_subplans(ps->initPlan, walk);
				walk->epqs = &note;
				(void) bh_wrap_walker(outerPlanState(ps), walk);
				walk->epqs = note.up;
				bh_wrap_subplans(ps->subPlan, walk);
				bh_wrap_lockrows(walk, (LockRowsState *) ps, note.reads, note.subst);
				list_free(note.subst);
				return false;
			}
		case T_ModifyTableState:
			{
				ModifyTableState *mt = (ModifyTableState *) ps;
				CmdType		operation = ((ModifyTable *) ps->plan)->operation;
				BhWrapWalk	inner = *walk;
				BhEpqNote	note = {bh_epq_substituted(ps), false, walk->epqs};

				/* (none runs in a re-check plan, where PostgreSQL refuses it) */
				if (!walk->recheck)
				{
					bh_wrap_returning(walk->st, mt);
					bh_note_unseen_updates(mt);
					bh_wrap_on_conflict(walk->st, mt);
				}
				inner.mt = mt;
				inner.mt_shows = NIL;
				inner.mt_shows_not = NIL;
				inner.mt_scan_read = NIL;
				bh_wrap_subplans(ps->initPlan, &inner);
				inner.epqs = &note;
				(void) bh_wrap_walker(outerPlanState(ps), &inner);
				inner.epqs = walk->epqs;
				bh_wrap_subplans(ps->subPlan, &inner);

				/*
				 * (after its scans: which of them read every row, also in the
				 * re-check plan; a re-check plan's MERGE never runs)
				 */
				if (!walk->recheck)
					bh_wrap_merge(walk->st, mt, inner.mt_scan_read);
				/* an UPDATE's, a DELETE's or a MERGE's rows are re-checked */
				if (note.reads && walk->prepare != NULL &&
					(operation == CMD_UPDATE || operation == CMD_DELETE ||
					 operation == CMD_MERGE))
				{
					MemoryContext old = MemoryContextSwitchTo(walk->st->cxt);

					*walk->prepare = lappend(*walk->prepare, mt);
					MemoryContextSwitchTo(old);
				}
				list_free(note.subst);
				return false;
			}
		default:
			break;
	}
	return planstate_tree_walker(ps, bh_wrap_walker, context);
}

/* Wrap the nodes of a statement's plan that produce rows of tagged tables. */
void
bh_wrap_plan(BhStatement *st)
{
	BhWrapWalk	walk;
	List	   *prepare = NIL;
	ListCell   *lc;

	memset(&walk, 0, sizeof(walk));
	walk.st = st;
	walk.cxt = st->cxt;
	walk.wraps = &st->wraps;
	walk.prepare = &prepare;
	/* (as left by a statement whose look at its expressions failed) */
	bh_shown_rows_start();
	(void) bh_wrap_walker(st->qd->planstate, &walk);
	bh_shown_rows_end();
	/* the re-check plans of its UPDATEs, DELETEs, MERGEs that need one */
	foreach(lc, prepare)
	{
		PlanState  *mt = (PlanState *) lfirst(lc);
		List	   *subst = bh_epq_substituted(mt);

		bh_epq_prepare(st, mt, subst);
		list_free(subst);
	}
	list_free(prepare);
}
