/*-------------------------------------------------------------------------
 *
 * capture_read_modify.c
 *		Read capture of the rows a ModifyTable node meets itself: the rows
 *		an UPDATE, a DELETE or an INSERT ... ON CONFLICT DO UPDATE returns
 *		(RETURNING), with an UPDATE's row before it fetched again, also one
 *		moved to another partition; the capture per table that the ON
 *		CONFLICT and MERGE wrappers share; the tables tagged without write
 *		capture that such a statement updates unseen.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "utils/snapmgr.h"

#include "capture_read_wrap.h"
#include "shown_rows.h"

/*
 * A wrapped ModifyTable node with RETURNING that sends stored values back:
 * an UPDATE's or a DELETE's (or an INSERT's ON CONFLICT DO UPDATE).  Each
 * row it returns is a read of its patient, besides the write: a rollback
 * takes the write's event back, while the client has the row.  The row
 * returned is the scan tuple of the node's expression context, where its
 * RETURNING projection found it, with its table's oid (a partition's, for
 * a partitioned table).  An UPDATE's row before it (its patient may be
 * another one) and a DELETE's row (emptied before the node returns) are
 * fetched again by the row id of the row the subplan gave.  Both are reads
 * of the table the subplan took the row from: an UPDATE that moves the row
 * to another partition returns the row it inserted there, made of the
 * first partition's stored values, which are what the client is sent (the
 * partition it went to has given none of its own).
 */
typedef struct BhReturningWrap
{
	BhWrap		node;			/* first: found as a BhWrap */
	BhRelCaptures rels;
} BhReturningWrap;

/* The capture of the rows of table relid that a wrapper sees. */
BhReturningRel *
bh_returning_rel(BhRelCaptures *c, Oid relid)
{
	BhReturningRel *r;
	const BhTag *tag;
	ListCell   *lc;
	MemoryContext old;

	if (c->last != NULL && c->last->relid == relid)
		return c->last;
	foreach(lc, c->rels)
		if (((BhReturningRel *) lfirst(lc))->relid == relid)
		return c->last = (BhReturningRel *) lfirst(lc);
	old = MemoryContextSwitchTo(c->st->cxt);
	r = palloc0(sizeof(BhReturningRel));
	r->relid = relid;
	r->shown = -1;
	if ((tag = bh_tag_lookup(relid)) != NULL && tag->capture_reads)
	{
		r->set = bh_read_set(c->st, tag);
		r->attnum = tag->patient_attnum;
		if (r->attnum != InvalidAttrNumber)
		{
			bh_id_output_copy(&r->out, &tag->patient_out, c->st->cxt);
			r->column = pstrdup(tag->patient_column);
		}
	}
	c->rels = lappend(c->rels, r);
	MemoryContextSwitchTo(old);
	return c->last = r;
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
 * The table of a row the subplan gave a ModifyTable node (plan_slot: the
 * subplan's tableoid, for several result relations), none when plan_slot
 * holds no row or its tableoid is null (a MERGE's source row that matched
 * no target row).
 */
Oid
bh_returning_source(ModifyTableState *node, TupleTableSlot *plan_slot, Oid none)
{
	bool		isnull;
	Datum		d;

	if (plan_slot == NULL || TupIsNull(plan_slot))
		return none;
	if (!AttributeNumberIsValid(node->mt_resultOidAttno))
		return RelationGetRelid(node->resultRelInfo[0].ri_RelationDesc);
	d = slot_getattr(plan_slot, node->mt_resultOidAttno, &isnull);
	return isnull ? none : DatumGetObjectId(d);
}

/*
 * The patient column of r's tag in a row r's UPDATE moved to another
 * partition (row: as inserted there), found by its name (a partition's
 * columns are its parent's, in an order of its own), 0: none.
 */
static AttrNumber
bh_returning_moved_attnum(BhReturningRel *r, TupleTableSlot *row)
{
	TupleDesc	desc = row->tts_tupleDescriptor;
	int			i;

	if (r->moved_to == row->tts_tableOid)
		return r->moved_attnum;
	r->moved_to = row->tts_tableOid;
	r->moved_attnum = InvalidAttrNumber;
	for (i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(desc, i)->attname), r->column) == 0)
			r->moved_attnum = i + 1;
	return r->moved_attnum;
}

/*
 * The row id (*tid) of a row of r's table the subplan gave a ModifyTable
 * node (plan_slot), false when it has none: only a table's row has a TID
 * (a foreign table's row id is none, nor has it a table access method; a
 * MERGE's source row that matched no target row has a null one).
 */
bool
bh_plan_row_tid(BhReturningRel *r, ModifyTableState *node, TupleTableSlot *plan_slot,
				ItemPointer tid)
{
	bool		isnull;
	Datum		d;
	int			i;

	if (plan_slot == NULL || TupIsNull(plan_slot))
		return false;
	for (i = 0; r->rri == NULL && i < node->mt_nrels; i++)
		if (RelationGetRelid(node->resultRelInfo[i].ri_RelationDesc) == r->relid)
			r->rri = &node->resultRelInfo[i];
	if (r->rri == NULL || !AttributeNumberIsValid(r->rri->ri_RowIdAttNo) ||
		r->rri->ri_RelationDesc->rd_rel->relkind != RELKIND_RELATION ||
		r->rri->ri_RelationDesc->rd_tableam == NULL)
		return false;
	d = slot_getattr(plan_slot, r->rri->ri_RowIdAttNo, &isnull);
	if (isnull)
		return false;
	*tid = *(ItemPointer) DatumGetPointer(d);
	return true;
}

/* Note the patient of a row of r's table, fetched into slot. */
void
bh_fetched_row_note(BhReturningRel *r, TupleTableSlot *slot)
{
	bh_read_set_add_row(r->set, &r->out, slot, r->attnum);
	/* a version of it the transaction made, moving the row before */
	if (unlikely(bh_moved_active))
		bh_moved_row_read(r->set, r->relid, slot, NULL);
}

/*
 * The patient of the row the subplan gave to an UPDATE or a DELETE (of r's
 * table, its patient column known), as it was before the UPDATE or as
 * deleted (bh_fetch_version): fetched again by its row id.
 */
static void
bh_returning_old_row(BhReturningRel *r, ModifyTableState *node, bool own_stops)
{
	ItemPointerData tid;

	if (!bh_plan_row_tid(r, node, node->ps.ps_ExprContext->ecxt_outertuple, &tid))
		return;
	if (r->fetched == NULL)
		r->fetched = table_slot_create(r->rri->ri_RelationDesc, &node->ps.state->es_tupleTable);
	if (bh_fetch_version(r->rri->ri_RelationDesc, &tid, r->fetched, own_stops))
		bh_fetched_row_note(r, r->fetched);
	ExecClearTuple(r->fetched);
}

/*
 * A row an UPDATE or a DELETE returned (row, not empty for an UPDATE): a
 * read of the table the subplan took it from, of the patient the row
 * returned names and of the one it had before.
 */
static void
bh_returning_changed_row(BhReturningWrap *w, ModifyTableState *node, TupleTableSlot *row,
						 CmdType operation)
{
	TupleTableSlot *plan_slot = node->ps.ps_ExprContext->ecxt_outertuple;
	BhReturningRel *r = bh_returning_rel(&w->rels,
										 bh_returning_source(node, plan_slot, row->tts_tableOid));

	if (r->set == NULL)
		return;
	bh_read_set_row(r->set);
	if (r->attnum == InvalidAttrNumber)
		return;
	if (!TupIsNull(row))
	{
		AttrNumber	attnum = (row->tts_tableOid == r->relid) ? r->attnum :
		bh_returning_moved_attnum(r, row);

		if (attnum != InvalidAttrNumber)
			bh_read_set_add_row(r->set, &r->out, row, attnum);
	}
	bh_returning_old_row(r, node, operation == CMD_UPDATE);
}

TupleTableSlot *
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
	if (operation == CMD_UPDATE || operation == CMD_DELETE)
	{
		bh_returning_changed_row(w, (ModifyTableState *) ps, row, operation);
		return slot;
	}
	r = bh_returning_rel(&w->rels, row->tts_tableOid);
	if (r->set == NULL)
		return slot;
	bh_read_set_row(r->set);
	if (r->attnum == InvalidAttrNumber)
		return slot;
	if (!TupIsNull(row))
		bh_read_set_add_row(r->set, &r->out, row, r->attnum);
	if (unlikely(bh_moved_active) &&
		(bh_moved_rel_noted(row->tts_tableOid) ||
		 bh_moved_is_unfollowed(r->set->tagged_relid)))
	{
		/*
		 * An INSERT ... ON CONFLICT DO UPDATE's row before the update is not
		 * kept: it may be a version the transaction made by a move.
		 */
		bh_read_set_moved_row(r->set);
	}
	return slot;
}

/*
 * Wrap a ModifyTable node whose RETURNING sends stored values back (not an
 * INSERT's, which returns what the client sent, unless ON CONFLICT DO
 * UPDATE).
 */
void
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
	w->node.key = &node->ps;
	w->node.orig = node->ps.ExecProcNodeReal;
	bh_shown_rows_no_scan();
	w->node.shows = bh_expr_calls((Node *) plan->returningLists, &node->ps);
	w->rels.st = st;
	bh_wrap_enter(&st->wraps, &w->node);
	MemoryContextSwitchTo(old);
	node->ps.ExecProcNodeReal = bh_returning_exec;
}

/*
 * Is a table of this tag updated unseen: tagged without write capture, so
 * that no trigger notes the rows an UPDATE moves to another patient?
 */
bool
bh_tag_unseen(const BhTag *tag)
{
	return tag != NULL && tag->capture_reads && !tag->capture_writes &&
		tag->patient_attnum != InvalidAttrNumber;
}

/*
 * A statement may update rows of relid (a table or a partition): if it is
 * tagged without write capture, its tagged table's moves are not followed
 * for the rest of the transaction (moved_rows.c): the rows of it the
 * transaction made are read as rows updated in the transaction, their
 * earlier patients unknown.
 */
void
bh_note_unseen_update_of(Oid relid)
{
	const BhTag *tag = bh_tag_lookup(relid);

	if (bh_tag_unseen(tag) && !bh_moved_is_unfollowed(tag->tagged_relid))
		bh_moved_unfollow(tag->tagged_relid);
}

/*
 * An UPDATE (a MERGE, an INSERT ... ON CONFLICT DO UPDATE) of a table
 * tagged without write capture (bh_note_unseen_update_of), at the
 * statement's start: its result relations.  An UPDATE or a MERGE of a
 * partitioned table may move rows into any partition, also one it does
 * not scan: the partitions tagged on their own under it too.  (An INSERT
 * routes its rows: bh_wrap_on_conflict notes each partition reached.)
 */
void
bh_note_unseen_updates(ModifyTableState *mt)
{
	ModifyTable *plan = (ModifyTable *) mt->ps.plan;
	ResultRelInfo *root = mt->rootResultRelInfo;
	int			i;

	if (plan->operation != CMD_UPDATE && plan->operation != CMD_MERGE &&
		!(plan->operation == CMD_INSERT && plan->onConflictAction == ONCONFLICT_UPDATE))
		return;
	for (i = 0; i < mt->mt_nrels; i++)
		bh_note_unseen_update_of(RelationGetRelid(mt->resultRelInfo[i].ri_RelationDesc));
	if (plan->operation != CMD_INSERT && root != NULL &&
		root->ri_RelationDesc->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
	{
		List	   *below = bh_tags_below(RelationGetRelid(root->ri_RelationDesc));
		ListCell   *lc;

		foreach(lc, below)
			bh_note_unseen_update_of(lfirst_oid(lc));
		list_free(below);
	}
}
