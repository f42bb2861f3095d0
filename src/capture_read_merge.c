/*-------------------------------------------------------------------------
 *
 * capture_read_merge.c
 *		Read capture of MERGE: a matched target row that no action changed
 *		is read, through a wrapper of the ModifyTable node's subplan.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "utils/snapmgr.h"

#include "capture_read_wrap.h"

/*
 * MERGE: a matched row of its target that no action changed (WHEN MATCHED
 * THEN DO NOTHING, WHEN MATCHED AND conditions none of which it passes, no
 * WHEN MATCHED action at all, a BEFORE ROW trigger that returned NULL) is
 * no write, yet the join produced it and the statement shows it (the rows
 * inserted, the row count): a read of its patient.  The ModifyTable node
 * takes a row from its subplan, carries out its action, then takes the
 * next one: the subplan is wrapped (its dispatch method, since a scan
 * wrapper may hold its own method), holding the target's table and row id
 * of each matched row it gives; when the node takes the next row (or finds
 * none), the row held is read unless the node's counts of rows updated or
 * deleted moved meanwhile (a cross-partition update counts as updated).
 * The version read is the one the join produced, which the WHEN MATCHED
 * conditions were given (the node left it in the table's old-row slot;
 * without WHEN MATCHED actions it is fetched by its row id); after a
 * concurrent update, the node gave them the newest version: that one is
 * read too.  Source rows that matched nothing carry
 * no row id, and target rows that matched nothing are no rows of the
 * subplan.  A table whose target scan is wrapped (bh_wrap_scan: it shows
 * its rows to a user's function) has every row it produced read already,
 * the newest version a re-check gave it too (its scan in the re-check
 * plan is wrapped as well: bh_epq_prepare).
 */
typedef struct BhMergeWrap
{
	BhWrap		node;			/* first: found as a BhWrap (key: the address
								 * of the subplan's ExecProcNode; orig: that
								 * method) */
	ModifyTableState *mt;
	BhRelCaptures rels;			/* its target's tables; a NULL set: not
								 * captured, or read by its scan */
	BhReturningRel *held;		/* the table of the matched row given last,
								 * NULL: none */
	ItemPointerData held_tid;	/* that row's id */
	double		updated;		/* mt's counts when it was given */
	double		deleted;
} BhMergeWrap;

/* The matched row held, now that the node is done with it. */
static void
bh_merge_untouched(BhMergeWrap *w)
{
	BhReturningRel *r = w->held;
	ModifyTableState *mt = w->mt;
	TupleTableSlot *row = r->rri->ri_oldTupleSlot;

	w->held = NULL;
	if (mt->mt_merge_updated != w->updated || mt->mt_merge_deleted != w->deleted)
		return;					/* an action changed it: a write */
	bh_read_set_row(r->set);
	if (r->attnum == InvalidAttrNumber)
		return;
	if (r->rri->ri_matchedMergeAction != NIL && row != NULL && !TupIsNull(row))
	{
		bh_fetched_row_note(r, row);
		/* else after a concurrent update: the join's version too */
		if (ItemPointerEquals(&row->tts_tid, &w->held_tid))
			return;
	}
	if (r->fetched == NULL)
		r->fetched = table_slot_create(r->rri->ri_RelationDesc, &mt->ps.state->es_tupleTable);
	if (table_tuple_fetch_row_version(r->rri->ri_RelationDesc, &w->held_tid, SnapshotAny,
									  r->fetched))
		bh_fetched_row_note(r, r->fetched);
	ExecClearTuple(r->fetched);
}

static TupleTableSlot *
bh_merge_exec(PlanState *ps)
{
	BhMergeWrap *w = (BhMergeWrap *) bh_find_wrap(&ps->ExecProcNode);
	TupleTableSlot *slot;
	BhReturningRel *r;
	Oid			relid;

	if (w->held != NULL)
		bh_merge_untouched(w);
	slot = w->node.orig(ps);
	/* the first call replaces the dispatch method (ExecProcNodeFirst) */
	if (ps->ExecProcNode != bh_merge_exec)
	{
		w->node.orig = ps->ExecProcNode;
		ps->ExecProcNode = bh_merge_exec;
	}
	relid = bh_returning_source(w->mt, slot, InvalidOid);
	if (OidIsValid(relid) && (r = bh_returning_rel(&w->rels, relid))->set != NULL &&
		bh_plan_row_tid(r, w->mt, slot, &w->held_tid))
	{
		w->held = r;
		w->updated = w->mt->mt_merge_updated;
		w->deleted = w->mt->mt_merge_deleted;
	}
	return slot;
}

/*
 * Wrap the subplan of a MERGE into a table (a partition) tagged with
 * capture_reads, but for those whose target scan reads every row it
 * produces (scan_read: their Oids).
 */
void
bh_wrap_merge(BhStatement *st, ModifyTableState *mt, List *scan_read)
{
	PlanState  *sub = outerPlanState(mt);
	BhMergeWrap *w;
	MemoryContext old;
	ListCell   *lc;
	bool		reads = false;
	int			i;

	if (((ModifyTable *) mt->ps.plan)->operation != CMD_MERGE || sub == NULL)
		return;
	for (i = 0; i < mt->mt_nrels && !reads; i++)
	{
		Oid			relid = RelationGetRelid(mt->resultRelInfo[i].ri_RelationDesc);
		const BhTag *tag = bh_tag_lookup(relid);

		reads = tag != NULL && tag->capture_reads && !list_member_oid(scan_read, relid);
	}
	if (!reads)
		return;
	old = MemoryContextSwitchTo(st->cxt);
	w = palloc0(sizeof(BhMergeWrap));
	w->node.key = &sub->ExecProcNode;
	w->node.orig = sub->ExecProcNode;
	w->mt = mt;
	w->rels.st = st;
	foreach(lc, scan_read)
		bh_returning_rel(&w->rels, lfirst_oid(lc))->set = NULL;
	bh_wrap_enter(&st->wraps, &w->node);
	MemoryContextSwitchTo(old);
	sub->ExecProcNode = bh_merge_exec;
}
