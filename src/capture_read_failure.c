/*-------------------------------------------------------------------------
 *
 * capture_read_failure.c
 *		The rows a statement that failed in the executor was evaluating:
 *		the row in each scan slot of a tagged table (and in a RETURNING
 *		list's, a re-check plan's scans) counted as read.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "nodes/nodeFuncs.h"

#include "bh_audit.h"
#include "capture_read_wrap.h"

/*
 * The statement failed while it ran: the row each scan of a tagged table
 * was evaluating when the error came (its filter, its output columns, or
 * a write's new values computed from it), and the row a RETURNING list was
 * computed from, count as read too, since the error sent to the client may
 * show their values (SELECT body::int FROM notes).  A scan's slot holds the
 * row it returned last (counted already), or the one it was evaluating, or
 * nothing once the scan ended.  An error that shows no row by itself (a
 * cancel between two rows, a deadlock: bh_failing_error_shows_no_row)
 * leaves out the rows of nodes that give no user's function their rows: a
 * row the filter had just rejected is not attributed; but one a function
 * was given may have been shown before the error came (RAISE NOTICE).  This walks the plan tree, not the
 * wrappers: the rows an UPDATE or a DELETE changes are scanned unwrapped.
 * An index-only scan's slot holds the index tuple: the patient is read
 * there (bh_ios_attnum), and a noted move is looked up by the heap TID the
 * scan found.  An index-only scan without the patient column is one of a
 * query that needs no column of the table (bh_get_relation_info): its
 * expressions are given no value of the row, which neither an error nor a
 * function can then show, and it is not looked at.  Its heap row is not
 * fetched either, nor is an index-only scan's row fetched to tell whether
 * the transaction made it: buffers are not touched while the error is
 * handled (it may have come with a buffer's lock held, released only by
 * the abort); where the table's moves are no longer followed, such a row
 * counts as one the transaction may have moved (bh_read_set_moved_row).
 * The re-check plan of a LockRows or ModifyTable node (EvalPlanQual), if
 * made, is walked too: its scans' slots hold the rows a subquery run again
 * was evaluating, or rows the statement's own scans produced (fetched
 * again); a row a re-check substitutes for a locked or changed one is not
 * in its scan's slot.
 */
typedef struct BhFailureWalk
{
	BhStatement *st;
	bool		stopped;		/* the error shows no row by itself
								 * (bh_failing_error_shows_no_row) */
} BhFailureWalk;

static bool
bh_rows_at_failure_walker(PlanState *ps, void *context)
{
	BhFailureWalk *walk = (BhFailureWalk *) context;
	BhStatement *st = walk->st;
	TupleTableSlot *row = NULL;
	Oid			relid = InvalidOid;
	IndexOnlyScanState *ios = NULL;
	const BhTag *tag;

	if (ps == NULL)
		return false;
	if (bh_is_table_scan(ps))
	{
		if (IsA(ps, IndexOnlyScanState))
			ios = (IndexOnlyScanState *) ps;
		if (((ScanState *) ps)->ss_currentRelation != NULL)
		{
			relid = RelationGetRelid(((ScanState *) ps)->ss_currentRelation);
			row = ((ScanState *) ps)->ss_ScanTupleSlot;
		}
	}
	else if (IsA(ps, ModifyTableState) && ps->ps_ExprContext != NULL &&
			 (row = ps->ps_ExprContext->ecxt_scantuple) != NULL)
		relid = row->tts_tableOid;
	if (row != NULL && walk->stopped)
	{
		BhWrap	   *w = bh_wrap_of(ps);

		if (w == NULL || !w->shows)
			row = NULL;
	}
	if (row != NULL && !TupIsNull(row) && relid != bh_refreshing_matview &&
		(tag = bh_tag_cached(relid)) != NULL && tag->capture_reads &&
		tag->patient_attnum != InvalidAttrNumber)
	{
		AttrNumber	attnum = ios ? bh_ios_attnum(ios, tag->patient_attnum)
		: tag->patient_attnum;
		bool		isnull = true;
		Datum		d = 0;

		if (attnum != InvalidAttrNumber)
			d = slot_getattr(row, attnum, &isnull);
		/* (a NULL or empty patient: the row may have been counted already) */
		if (!isnull)
		{
			BhReadSet  *set = bh_read_set(st, tag);

			if (set->rows == 0)
				set->rows = 1;	/* the set has read something */
			(void) bh_read_set_add_value(set, &tag->patient_out, d);
			if (unlikely(bh_moved_active) && ios == NULL)
				bh_moved_row_read(set, relid, row, NULL);
			else if (unlikely(bh_moved_active) && ios->ioss_ScanDesc != NULL)
			{
				bh_moved_row_read(set, relid, NULL, &ios->ioss_ScanDesc->xs_heaptid);
				if (bh_moved_is_unfollowed(set->tagged_relid))
					bh_read_set_moved_row(set);
			}
		}
	}
	if (IsA(ps, LockRowsState) &&
		bh_rows_at_failure_walker(((LockRowsState *) ps)->lr_epqstate.recheckplanstate, context))
		return true;
	if (IsA(ps, ModifyTableState) &&
		bh_rows_at_failure_walker(((ModifyTableState *) ps)->mt_epqstate.recheckplanstate, context))
		return true;
	return planstate_tree_walker(ps, bh_rows_at_failure_walker, context);
}

void
bh_note_rows_at_failure(BhStatement *st)
{
	MemoryContext old;
	BhFailureWalk walk;

	walk.st = st;
	walk.stopped = bh_failing_error_shows_no_row();
	old = MemoryContextSwitchTo(st->cxt);
	(void) bh_rows_at_failure_walker(st->qd->planstate, &walk);
	MemoryContextSwitchTo(old);
}
