/*-------------------------------------------------------------------------
 *
 * queue_take.c
 *		Taking committed rows out of bh_audit.queue for the sealer's
 *		batches, in id order (bh_take_queued), and the queue's highest
 *		visible id (bh_queue_max_id).
 *
 * A batch takes the queue's rows by a direct forward scan of its primary
 * key, under a snapshot taken after the batch's locks, and deletes each row
 * it returns: rows of transactions still in progress are invisible and
 * wait for a later batch.  A pass of batches continues from the last id
 * taken (bh_queue_mark) and ends with a scan from the queue's first row;
 * ids a batch went past without a visible row are noted, and their rows
 * taken first once they commit (bh_queue_gaps), so that a transaction that
 * waited for another is chained after it.  The rows taken are noted in the
 * batch's account (bh_batch).  What they are taken for is the sealer's
 * (sealer.c): the batch and its merge with the ring's events, the failed
 * batches' account, the discarding of a row that cannot be sealed and the
 * queue's vacuum.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "utils/array.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"

#include "bh_audit.h"
#include "sealer_internal.h"

/*
 * The queue id up to which this pass has taken events.  Each batch of a
 * pass continues after it, so that a large backlog is taken in linear
 * time: entries of rows already taken stay in the queue's index until
 * vacuum can remove them, which a long-running snapshot (a session waiting
 * in seal(), say) postpones, and scanning them again for every batch would
 * make a pass quadratic.  Ids below the mark that commit during the pass
 * are found by the full scan that ends every pass.
 */
int64		bh_queue_mark = 0;

/*
 * Queue ids a batch went past without a visible row: the rows of
 * transactions still committing (a queue row is written at pre-commit or
 * at PREPARE and becomes visible at the commit: a prepared transaction, a
 * commit waiting for a synchronous standby), or ids no row will use (a
 * transaction that failed after writing its row).  A transaction that
 * waited for such a one commits after it, with a higher id, and may change
 * the same rows after it: so each batch first looks up these ids, takes
 * those committed since (ahead of the ids after the mark, and of a pass's
 * full scan, which takes everything in id order anyway), and forgets those
 * that no transaction in progress holds.  Only ids just above the highest
 * id taken are noted (BH_QUEUE_GAP_SPAN), and at most BH_QUEUE_GAPS_MAX of
 * them, in increasing order; an id not noted is found by the full scan
 * that ends the pass, as before.  Process-local: a new sealer process
 * starts with a full scan.
 */
#define BH_QUEUE_GAPS_MAX 256
#define BH_QUEUE_GAP_SPAN 64
static int64 bh_queue_gaps[BH_QUEUE_GAPS_MAX];
static int	bh_queue_ngaps = 0;
static int64 bh_queue_high = 0; /* the highest queue id taken */
static Oid	bh_queue_gaps_relid = InvalidOid;	/* the queue they are of */

/* Forget the noted id, if it is one (taken, or no longer held). */
static void
bh_queue_gap_forget(int64 id)
{
	int			i;

	for (i = 0; i < bh_queue_ngaps; i++)
	{
		if (bh_queue_gaps[i] == id)
		{
			memmove(&bh_queue_gaps[i], &bh_queue_gaps[i + 1],
					sizeof(int64) * (bh_queue_ngaps - i - 1));
			bh_queue_ngaps--;
			return;
		}
	}
}

/*
 * The row with this id was taken: note the ids between the highest taken
 * before and it, none of which was visible (see bh_queue_gaps).
 */
static void
bh_queue_taken(int64 id)
{
	int64		g;

	if (id <= bh_queue_high)
	{
		bh_queue_gap_forget(id);
		return;
	}
	if (bh_queue_high > 0 && id - bh_queue_high <= BH_QUEUE_GAP_SPAN)
	{
		for (g = bh_queue_high + 1; g < id && bh_queue_ngaps < BH_QUEUE_GAPS_MAX; g++)
			bh_queue_gaps[bh_queue_ngaps++] = g;
	}
	bh_queue_high = id;
}

/*
 * Take the row in slot: its events into *events (from n on), the row
 * deleted, its id noted; the pass's mark moved past it if it came from the
 * scan after the mark (advance), not for a noted id taken ahead of it: a
 * scan from the queue's start must still begin at its start.  Returns the
 * new number of events.
 */
static int64
bh_take_row(Relation rel, TupleTableSlot *slot, Snapshot snapshot,
			AttrNumber att_id, AttrNumber att_events,
			Datum **events, int64 *cap, int64 n, bool advance)
{
	bool		isnull;
	ArrayType  *arr = NULL;
	Datum	   *elems = NULL;
	bool	   *elem_nulls = NULL;
	int			nelems;
	int			i;
	int			skipped = 0;
	int			not_objects = 0;
	int64		id;
	Datum		d;

	id = DatumGetInt64(slot_getattr(slot, att_id, &isnull));
	if (bh_batch.queue_first == 0)
		bh_batch.queue_first = id;
	bh_batch.queue_last = id;
	d = slot_getattr(slot, att_events, &isnull);

	/*
	 * No event of the extension is NULL, nor is a row's array (the column is
	 * NOT NULL): a superuser wrote them.  They hold nothing to seal; skipped
	 * with a WARNING (an error would stop the sealer at that row for ever).
	 * So is an event that is not a JSON object (a superuser's row, with the
	 * queue's trigger queue_objects_only off: it refuses one otherwise,
	 * queue_check.c): chained, it would stand in the ledger for good, where
	 * the export cannot make a line of it and a restore of the ledger is
	 * refused (guard.c).  The WARNING names the row, never the event's
	 * content.
	 */
	if (isnull)
		nelems = 0;
	else
	{
		arr = DatumGetArrayTypePCopy(d);
		deconstruct_array(arr, JSONBOID, -1, false, TYPALIGN_INT,
						  &elems, &elem_nulls, &nelems);
	}
	if (n + nelems > *cap)
	{
		*cap = Max(*cap * 2, n + nelems);
		*events = repalloc(*events, sizeof(Datum) * *cap);
	}
	for (i = 0; i < nelems; i++)
	{
		if (elem_nulls[i])
			skipped++;
		else if (!JB_ROOT_IS_OBJECT(DatumGetJsonbP(elems[i])))
			not_objects++;
		else
			(*events)[n++] = elems[i];
	}
	if (isnull)
		ereport(WARNING,
				(errmsg("bh_audit sealer skipped the row of bh_audit.queue with id " INT64_FORMAT ": its events are NULL",
						id)));
	else if (skipped > 0)
		ereport(WARNING,
				(errmsg_plural("bh_audit sealer skipped %d NULL event of the row of bh_audit.queue with id " INT64_FORMAT,
							   "bh_audit sealer skipped %d NULL events of the row of bh_audit.queue with id " INT64_FORMAT,
							   skipped, skipped, id)));
	if (not_objects > 0)
		ereport(WARNING,
				(errmsg_plural("bh_audit sealer skipped %d event of the row of bh_audit.queue with id " INT64_FORMAT ": it is not a JSON object",
							   "bh_audit sealer skipped %d events of the row of bh_audit.queue with id " INT64_FORMAT ": they are not JSON objects",
							   not_objects, not_objects, id)));
	if (advance)
		bh_queue_mark = Max(bh_queue_mark, id);
	bh_queue_taken(id);
	simple_table_tuple_delete(rel, &slot->tts_tid, snapshot);
	bh_batch.queue_rows++;
	if (!isnull)
		bh_batch.queue_bytes += ARR_SIZE(arr);
	return n;
}

/*
 * Look up the noted ids (bh_queue_gaps): take the rows committed since,
 * keep the ids whose rows a transaction still in progress (or prepared)
 * holds, forget the others.  Returns the new number of events.
 */
static int64
bh_take_gaps(Relation rel, Relation index, Snapshot snapshot, TupleTableSlot *slot,
			 AttrNumber att_id, AttrNumber att_events,
			 Datum **events, int64 *cap, int64 n)
{
	int64		ids[BH_QUEUE_GAPS_MAX];
	int			nids = bh_queue_ngaps;
	int			i;

	memcpy(ids, bh_queue_gaps, sizeof(int64) * nids);
	for (i = 0; i < nids; i++)
	{
		ScanKeyData key;
		IndexScanDesc scan;
		SnapshotData dirty;
		bool		held;

		ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(ids[i]));
		scan = index_beginscan(rel, index, snapshot, 1, 0);
		index_rescan(scan, &key, 1, NULL, 0);
		if (index_getnext_slot(scan, ForwardScanDirection, slot))
		{
			n = bh_take_row(rel, slot, snapshot, att_id, att_events, events, cap, n, false);
			index_endscan(scan);
			continue;
		}
		index_endscan(scan);

		/*
		 * Not visible: still held by a transaction in progress, or committed
		 * after the snapshot (taken by the next batch), or no row at all (a
		 * transaction that failed after writing it).
		 */
		InitDirtySnapshot(dirty);
		scan = index_beginscan(rel, index, &dirty, 1, 0);
		index_rescan(scan, &key, 1, NULL, 0);
		held = index_getnext_slot(scan, ForwardScanDirection, slot);
		index_endscan(scan);
		if (!held)
			bh_queue_gap_forget(ids[i]);
	}
	return n;
}

/*
 * Take the oldest visible queued events after bh_queue_mark (all of them
 * when it is 0), at least batch_size when there are that many (a queue
 * row's events are taken together) unless their rows reach
 * BH_BATCH_MAX_BYTES first, out of bh_audit.queue, from max_rows
 * rows at most (0: no limit): one forward
 * scan of its primary key under a snapshot taken now (after the caller's
 * lock), deleting each row it returns, after the rows of the noted ids
 * that have committed since (bh_queue_gaps; not when max_rows limits the
 * rows, nor in a scan from the start).  Events of transactions still in
 * progress are invisible and wait for a later batch.  Returns the number
 * taken; *events (palloc'd, grown as needed, *cap its size) gets detoasted
 * copies in queue order; bh_batch notes the rows' ids.  A row whose events
 * array is NULL, and NULL events in an array or events that are not JSON
 * objects (a superuser's), are skipped with a WARNING.
 */
int64
bh_take_queued(int batch_size, int max_rows, Datum **events, int64 *cap)
{
	Oid			relid = bh_queue_relid();
	Relation	rel;
	Relation	index;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	Snapshot	snapshot;
	ScanKeyData key;
	int			nkeys = 0;
	AttrNumber	att_id;
	AttrNumber	att_events;
	int64		n = 0;

	if (!OidIsValid(relid))
		elog(ERROR, "bh_audit.queue does not exist");
	if (relid != bh_queue_gaps_relid)
	{
		/* another queue (the extension created again): its own ids */
		bh_queue_gaps_relid = relid;
		bh_queue_ngaps = 0;
		bh_queue_high = 0;
	}
	rel = table_open(relid, RowExclusiveLock);
	index = index_open(RelationGetPrimaryKeyIndex(rel), AccessShareLock);
	att_id = get_attnum(relid, "id");
	att_events = get_attnum(relid, "events");

	snapshot = RegisterSnapshot(GetLatestSnapshot());
	slot = table_slot_create(rel, NULL);

	/*
	 * Not in a scan from the queue's start: it meets those rows in id order
	 * anyway, and, under the same snapshot, would return a row taken here
	 * again (a row deleted by this command is still visible to it).
	 */
	if (max_rows == 0 && bh_queue_ngaps > 0 && bh_queue_mark > 0)
		n = bh_take_gaps(rel, index, snapshot, slot, att_id, att_events, events, cap, n);

	if (bh_queue_mark > 0)
	{
		ScanKeyInit(&key, 1, BTGreaterStrategyNumber, F_INT8GT, Int64GetDatum(bh_queue_mark));
		nkeys = 1;
	}
	scan = index_beginscan(rel, index, snapshot, nkeys, 0);
	index_rescan(scan, &key, nkeys, NULL, 0);
	while (n < batch_size && (max_rows == 0 || bh_batch.queue_rows < max_rows) &&
		   bh_batch.queue_bytes < BH_BATCH_MAX_BYTES &&
		   index_getnext_slot(scan, ForwardScanDirection, slot))
		n = bh_take_row(rel, slot, snapshot, att_id, att_events, events, cap, n, true);
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	UnregisterSnapshot(snapshot);
	/* locked until the batch commits: see bh_ledger_close() */
	index_close(index, NoLock);
	table_close(rel, NoLock);
	return n;
}

static void
bh_queue_id_row(TupleTableSlot *slot, Oid relid, void *arg)
{
	bool		isnull;

	*(int64 *) arg = DatumGetInt64(slot_getattr(slot, get_attnum(relid, "id"), &isnull));
}

/*
 * The highest id of bh_audit.queue visible to a snapshot taken now (0: no
 * row is): one step of a backward scan of its primary key.  The lock is
 * bh_take_queued()'s, held until the batch commits.
 */
int64
bh_queue_max_id(void)
{
	Oid			relid = bh_queue_relid();
	int64		id = 0;

	if (!OidIsValid(relid))
		elog(ERROR, "bh_audit.queue does not exist");
	bh_last_row(relid, "id", RowExclusiveLock, 0, NULL, bh_queue_id_row, &id);
	return id;
}
