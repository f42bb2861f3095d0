/*-------------------------------------------------------------------------
 *
 * replication.c
 *		The extension's tables on a subscriber of logical replication.
 *
 * A publication FOR ALL TABLES (or FOR TABLES IN SCHEMA bh_audit, or one
 * that names them) carries bh_audit.queue, bh_audit.events, bh_audit.tags
 * and bh_audit.ledger_home of the publisher.  Their rows are the
 * publisher's own: its pending events, its ledger, its tags, its ledger's
 * home.  A subscriber that runs bh_audit keeps its own, so it applies none
 * of them:
 *	- a row trigger BEFORE INSERT, UPDATE and DELETE on each of the four
 *	  tables drops the row inside a logical replication worker (the apply
 *	  worker's changes and the table synchronisation's initial copy) and
 *	  passes it everywhere else.  Its name sorts before the ledger's row
 *	  guard, so the guard never sees (and never refuses) such a row;
 *	- a TRUNCATE cannot be skipped (the apply worker truncates without
 *	  asking), so a statement trigger BEFORE TRUNCATE keeps the table's
 *	  rows and its identity's position, and one AFTER TRUNCATE puts them
 *	  back in the same transaction: the subscriber's queue, ledger, tags
 *	  and home come out as they were, and replication goes on.  The ledger's guard
 *	  lets such a TRUNCATE pass for this reason (guard.c).
 * The triggers are enabled ALWAYS: the workers run with
 * session_replication_role = replica.  The extension's own writes to these
 * tables do not go through the executor (the queue, the ledger, the home)
 * or are not made in a replication worker (the tags), so nothing else changes; a
 * restore's rows reach the tables as before.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heaptoast.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "replication/logicalworker.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "bh_audit.h"

/* The extension's tables that a publication can carry. */
static const char *const bh_replicated_tables[] = {"queue", "events", "tags", "ledger_home"};

PG_FUNCTION_INFO_V1(bh_audit_skip_applied);

/*
 * Row trigger BEFORE INSERT OR UPDATE OR DELETE: NULL (skip the row) in a
 * logical replication worker, the row otherwise.
 */
Datum
bh_audit_skip_applied(PG_FUNCTION_ARGS)
{
	TriggerData *td;

	td = bh_trigger_call(fcinfo, "bh_audit._skip_applied()",
						 BH_TRIG_BEFORE | BH_TRIG_ROW |
						 BH_TRIG_INSERT | BH_TRIG_UPDATE | BH_TRIG_DELETE,
						 bh_replicated_tables, lengthof(bh_replicated_tables));
	if (IsLogicalWorker())
		return PointerGetDatum(NULL);
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		return PointerGetDatum(td->tg_newtuple);
	return PointerGetDatum(td->tg_trigtuple);
}

/*
 * A sequence the table owns (the queue's identity) and where it was: its
 * value, and whether nextval() gives it next (not "called") or the one
 * after it (queue_ids.c, bh_seq_read()).
 */
typedef struct BhKeptSeq
{
	Oid			seqid;
	bool		is_called;
	int64		last_value;
} BhKeptSeq;

/* A table's rows kept across a replicated TRUNCATE. */
typedef struct BhKeptTable
{
	Oid			relid;
	Tuplestorestate *rows;
	List	   *seqs;			/* of BhKeptSeq */
} BhKeptTable;

/* Tables kept by this transaction (in TopTransactionContext). */
static List *bh_kept = NIL;
static LocalTransactionId bh_kept_lxid = InvalidLocalTransactionId;

/*
 * Before the TRUNCATE: keep every row of the table, as the latest snapshot
 * sees it (the TRUNCATE's lock is held, so no writer is in progress), with
 * its out-of-line values inlined (the TOAST table is truncated as well).
 */
static void
bh_keep_rows(Relation rel)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	BhKeptTable *kept = palloc0(sizeof(BhKeptTable));
	TupleDesc	desc = RelationGetDescr(rel);
	Snapshot	snapshot;
	TableScanDesc scan;
	TupleTableSlot *slot;
	ListCell   *lc;

	if (bh_kept_lxid != MyProc->lxid)
	{
		bh_kept = NIL;			/* the memory went with its transaction */
		bh_kept_lxid = MyProc->lxid;
	}
	kept->relid = RelationGetRelid(rel);
	kept->rows = tuplestore_begin_heap(false, false, work_mem);
	foreach(lc, getOwnedSequences(kept->relid))
	{
		BhKeptSeq  *seq = palloc0(sizeof(BhKeptSeq));

		seq->seqid = lfirst_oid(lc);
		kept->seqs = lappend(kept->seqs, seq);
	}
	bh_kept = lappend(bh_kept, kept);
	MemoryContextSwitchTo(old);

	foreach(lc, kept->seqs)
	{
		BhKeptSeq  *seq = lfirst(lc);

		bh_seq_read(seq->seqid, &seq->last_value, &seq->is_called);
	}

	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	slot = table_slot_create(rel, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		should_free;
		HeapTuple	tup = ExecFetchSlotHeapTuple(slot, false, &should_free);

		CHECK_FOR_INTERRUPTS();
		if (HeapTupleHasExternal(tup))
		{
			HeapTuple	flat = toast_flatten_tuple(tup, desc);

			if (should_free)
				heap_freetuple(tup);
			tup = flat;
			should_free = true;
		}
		tuplestore_puttuple(kept->rows, tup);
		if (should_free)
			heap_freetuple(tup);
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
}

/* After the TRUNCATE: the kept rows back into the table and its indexes. */
static void
bh_restore_rows(Relation rel)
{
	BhKeptTable *kept = NULL;
	ListCell   *lc;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	CommandId	cid = GetCurrentCommandId(true);

	if (bh_kept_lxid == MyProc->lxid)
	{
		foreach(lc, bh_kept)
		{
			if (((BhKeptTable *) lfirst(lc))->relid == RelationGetRelid(rel))
			{
				kept = lfirst(lc);
				bh_kept = foreach_delete_current(bh_kept, lc);
				break;
			}
		}
	}
	if (kept == NULL)
		elog(ERROR, "the rows of \"%s\" were not kept before its TRUNCATE",
			 RelationGetRelationName(rel));

	estate = CreateExecutorState();
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, rel, 0, NULL, 0);
	ExecOpenIndices(rri, false);
	slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsMinimalTuple);
	while (tuplestore_gettupleslot(kept->rows, true, false, slot))
	{
		CHECK_FOR_INTERRUPTS();
		table_tuple_insert(rel, slot, cid, 0, NULL);
		ExecInsertIndexTuples(rri, slot, estate, false, false, NULL, NIL);
		ResetPerTupleExprContext(estate);
	}
	ExecDropSingleTupleTableSlot(slot);
	ExecCloseIndices(rri);
	FreeExecutorState(estate);
	tuplestore_end(kept->rows);

	/* each sequence put back (the queue's ids are read from it again) */
	foreach(lc, kept->seqs)
	{
		BhKeptSeq  *seq = lfirst(lc);

		bh_seq_move(seq->seqid, seq->last_value, seq->is_called, false);
	}
}

PG_FUNCTION_INFO_V1(bh_audit_keep_on_truncate);

/*
 * Statement trigger BEFORE and AFTER TRUNCATE: in a logical replication
 * worker, the table's rows are kept before and put back after; elsewhere
 * nothing.
 */
Datum
bh_audit_keep_on_truncate(PG_FUNCTION_ARGS)
{
	TriggerData *td;

	td = bh_trigger_call(fcinfo, "bh_audit._keep_on_truncate()",
						 BH_TRIG_BEFORE | BH_TRIG_AFTER | BH_TRIG_STATEMENT | BH_TRIG_TRUNCATE,
						 bh_replicated_tables, lengthof(bh_replicated_tables));
	if (!IsLogicalWorker())
		return PointerGetDatum(NULL);
	if (TRIGGER_FIRED_BEFORE(td->tg_event))
		bh_keep_rows(td->tg_relation);
	else
		bh_restore_rows(td->tg_relation);
	return PointerGetDatum(NULL);
}
