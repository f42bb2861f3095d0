/*-------------------------------------------------------------------------
 *
 * emit.c
 *		Queueing events transactionally, and bh_audit.emit().
 *
 * Queued events commit with the caller's work and disappear with it on
 * rollback (or rollback to a savepoint).  A backend keeps the events of its
 * transaction in memory, tagged with the subtransaction nesting level that
 * queued them, and writes them as rows of bh_audit.queue, each row an array
 * of events of at most about BH_QUEUE_ROW_BYTES (so that the row stays
 * within one page, uncompressed): at pre-commit (or pre-prepare) all of
 * them, and meanwhile the events of the current level whenever they fill a
 * row (a COPY of a million rows does not keep them all in memory), and a
 * subtransaction's with its parent's when the two fill a row as it
 * commits (a savepoint per event does not keep them all either).  A
 * subtransaction's rollback forgets its events still in memory; the rows
 * it wrote disappear with it.  One row per transaction instead of one per
 * event spares a heap tuple, an index entry and their WAL per event, here
 * and in the sealer, which takes and deletes the rows.  At commit the
 * sealer is woken so that it chains the new events promptly.
 *
 * Configuration events are queued the same way, but a change that narrows
 * read capture takes effect at once in the session that makes it (capture
 * switched off by SET, SET LOCAL, RESET or set_config(), a table untagged,
 * a partition detached from a tagged table, the extension dropped): the
 * reads it makes from then on are not recorded, and reads are not undone
 * by a rollback.  So a rollback must not take such a change's record with
 * it: once the change has taken effect (also when the statement that made
 * it fails afterwards, in one of its event triggers say), its module hands
 * its event to bh_note_narrowing(), which keeps it, with metadata
 * rolled_back: true, at its level (once per change and level: a function
 * with a SET clause called in a loop is one change); a subtransaction's
 * commit hands it to the parent, the transaction's commit forgets it (a
 * committed DROP EXTENSION took the ledger with it), and a rollback pushes
 * the kept events of the levels it ends through the ring, which outlives it
 * (a crash restart or an immediate shutdown, which kills the backend
 * without its rollback, loses them: counted as lost, losses.c).  A
 * transaction holding such a change cannot be prepared (the session keeps
 * a SET after PREPARE TRANSACTION, and a later ROLLBACK PREPARED would take
 * the event away).  Other changes, to triggers or stored settings, take
 * their effect with the transaction.
 *
 * A database without the extension has no queue, but a stored setting
 * changed there (ALTER SYSTEM, ALTER ROLE or DATABASE ... SET of one of
 * bh_audit's settings: they are the cluster's, or another database's)
 * takes effect where bh_audit is installed; so does one changed in a
 * database that has the extension but whose queue the sealer does not
 * chain (not bh_audit.database).  Its event is held by the transaction the
 * same way, by level, and pushed through the ring once the transaction has
 * committed (bh_ring_at_commit()), when nothing can undo the change any
 * more (a serializable transaction may still fail after pre-commit): gone
 * with a rollback, chained into the sealer's ledger once committed.  The
 * push cannot fail the commit then: under bh_audit.on_ring_full = error a
 * full ring fails the statement as its event is held, before the change
 * (ALTER SYSTEM writes its file as it runs), and a ring that fills up
 * meanwhile drops the event, counted as lost, as under drop.  Such a
 * transaction cannot be prepared (a ROLLBACK PREPARED after the push would
 * leave a record of a change never made).
 *
 * The queue row is inserted directly (heap and primary key), without SPI:
 * the extension, not the caller, owns the queue, so no privilege on it is
 * needed or checked.  A transaction takes the queue's lock (ROW EXCLUSIVE)
 * with its first event, not at its commit, and holds it to its end: a
 * drop of the extension (DROP EXTENSION, DROP SCHEMA ... CASCADE, DROP
 * OWNED), which locks the queue first (config_guard.c), then waits for it
 * to commit, instead of holding the queue's sequence, say, while the
 * commit waits for it (a deadlock, the transaction lost).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/array.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"

#include "bh_audit.h"
#include "canon.h"
#include "event.h"
#include "recode.h"
#include "ring.h"
#include "sanitize.h"
#include "validate.h"

/*
 * Events queued by this backend, per transaction nesting level, so that the
 * emitted counter counts only what commits.
 */
static uint64 *bh_pending = NULL;
static int	bh_pending_levels = 0;

/*
 * The event of a change narrowing read capture, kept for a rollback (see
 * the file header), in TopMemoryContext.
 */
typedef struct BhRollbackNote
{
	int			level;			/* subtransaction nesting level */
	char	   *change;			/* what changed: one note per change and level */
	Jsonb	   *event;			/* the event, metadata rolled_back: true */
} BhRollbackNote;

static BhRollbackNote *bh_notes = NULL;
static int	bh_notes_n = 0;
static int	bh_notes_max = 0;

/*
 * The events of stored settings' changes that this database's queue does
 * not take (no extension here, or not the sealer's database), held by the
 * transaction for the ring at its commit (see the file header), in
 * TopTransactionContext.
 */
typedef struct BhRingHeld
{
	int			level;			/* subtransaction nesting level */
	Jsonb	   *event;
} BhRingHeld;

static BhRingHeld *bh_ring_held = NULL;
static int	bh_ring_held_n = 0;
static int	bh_ring_held_max = 0;

/*
 * A queue row holds events up to about this many bytes of jsonb; a row
 * under toast_tuple_target (see the install script) is stored as it is.
 */
#define BH_QUEUE_ROW_BYTES 7000

/* An event waiting in memory for its queue row. */
typedef struct BhHeldEvent
{
	int			level;			/* subtransaction nesting level */
	Jsonb	   *event;			/* in TopTransactionContext */
} BhHeldEvent;

/* The transaction's events not yet written, oldest first. */
static BhHeldEvent *bh_held = NULL;
static int	bh_held_n = 0;
static int	bh_held_max = 0;

/* jsonb bytes of the held events of the innermost level that holds any */
static Size bh_held_top_bytes = 0;

/* set once the pre-commit write ran: later events are written at once */
static bool bh_held_closed = false;

/*
 * The queue's OID and identity sequence (the sequence the queue owns,
 * whatever its name), looked up once per backend; the sequence is looked
 * up again whenever the queue is another one.  Also a relation of the
 * trail whose refusal is recorded (capture_read.c's bh_trail_rels).
 */
static BhCachedRel bh_queue_rel = {"queue", InvalidOid};
static Oid	bh_queue_seqid = InvalidOid;
static Oid	bh_queue_seq_of = InvalidOid;	/* the queue it is the sequence of */

/* this transaction holds the queue's lock (see the file header) */
static bool bh_queue_locked = false;

/*
 * items, an array of elem-sized entries holding *max, with room for at least
 * one more: doubled (first entries the first time, allocated in cxt; a
 * repalloc keeps the context it was allocated in).
 */
static void *
bh_array_grow(void *items, int *max, int first, Size elem, MemoryContext cxt)
{
	int			newmax = Max(first, *max * 2);

	items = items == NULL ? MemoryContextAlloc(cxt, elem * newmax) :
		repalloc(items, elem * newmax);
	*max = newmax;
	return items;
}

/* Count one queued event at the current nesting level. */
static void
bh_pending_add(void)
{
	int			level = GetCurrentTransactionNestLevel();

	if (level >= bh_pending_levels)
	{
		int			newlen = Max(8, level * 2);

		if (bh_pending == NULL)
			bh_pending = MemoryContextAllocZero(TopMemoryContext, newlen * sizeof(uint64));
		else
		{
			bh_pending = repalloc(bh_pending, newlen * sizeof(uint64));
			memset(bh_pending + bh_pending_levels, 0,
				   (newlen - bh_pending_levels) * sizeof(uint64));
		}
		bh_pending_levels = newlen;
	}
	bh_pending[level]++;
}

/* Forget the held events (the memory goes with TopTransactionContext). */
static void
bh_held_reset(void)
{
	bh_held = NULL;
	bh_held_n = 0;
	bh_held_max = 0;
	bh_held_top_bytes = 0;
}

/* bh_audit.queue's OID, or InvalidOid; looked up once and after any invalidation */
Oid
bh_queue_relid(void)
{
	return bh_cached_rel(&bh_queue_rel);
}

/*
 * The queue's identity sequence (bh_audit.queue_id_seq as installed), or
 * InvalidOid (no queue, or none owned): looked up again whenever the queue
 * is another one (the extension created again since, whoever looked the
 * new queue up first).  getOwnedSequences() is a pg_depend index scan: not
 * per event, nor per statement.
 */
Oid
bh_queue_seq_relid(void)
{
	Oid			relid = bh_queue_relid();
	List	   *seqs;

	if (!OidIsValid(relid))
		return InvalidOid;
	if (relid == bh_queue_seq_of && OidIsValid(bh_queue_seqid))
		return bh_queue_seqid;
	bh_queue_seqid = InvalidOid;
	seqs = getOwnedSequences(relid);
	if (list_length(seqs) == 1)
	{
		bh_queue_seqid = linitial_oid(seqs);
		bh_queue_seq_of = relid;
	}
	return bh_queue_seqid;
}

/*
 * Look the queue up (once per backend, and after any invalidation of it),
 * and its identity sequence; returns its OID.
 */
static Oid
bh_queue_lookup(void)
{
	Oid			relid = bh_queue_relid();

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bh_audit is not installed in this database")));
	if (!OidIsValid(bh_queue_seq_relid()))
		elog(ERROR, "bh_audit.queue has no identity sequence");
	return relid;
}

static const char *const bh_queue_tables[] = {"queue"};

PG_FUNCTION_INFO_V1(bh_audit_queue_restored);

/*
 * Statement trigger on bh_audit.queue, which fires only for rows that come
 * in by SQL (a restore's COPY of events still queued at the dump; the
 * extension inserts its own rows directly): the queue's identity goes on
 * after them, or the next write would collide with one.
 */
Datum
bh_audit_queue_restored(PG_FUNCTION_ARGS)
{
	int64		max;
	bool		isnull;

	bh_require_preload();
	(void) bh_trigger_call(fcinfo, "bh_audit._queue_restored()",
						   BH_TRIG_AFTER | BH_TRIG_STATEMENT | BH_TRIG_INSERT,
						   bh_queue_tables, lengthof(bh_queue_tables));
	(void) bh_queue_lookup();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (bh_spi_internal("SELECT max(id) FROM bh_audit.queue",
						0, NULL, NULL, NULL, false) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not move the queue's identity past the restored rows");
	max = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									  SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();

	/*
	 * This database's block is forgotten (restored rows may hold its ids),
	 * the next is reserved after them (queue_ids.c).
	 */
	if (!isnull)
	{
		bh_seq_move(bh_queue_seqid, max, true, true);
		/* a restore's events queued elsewhere, where the home is (home.c) */
		bh_home_mark_carried(true);
	}
	return PointerGetDatum(NULL);
}

/* Insert one queue row holding events[0..n), heap and primary key. */
static void
bh_queue_insert_row(Jsonb **events, int n)
{
	Relation	rel;
	Relation	index;
	IndexInfo  *indexinfo;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	HeapTuple	tup;

	rel = table_open(bh_queue_lookup(), RowExclusiveLock);
	values[0] = Int64GetDatum(bh_queue_next_id(bh_queue_seqid));
	values[1] = PointerGetDatum(construct_array((Datum *) events, n, JSONBOID,
												-1, false, TYPALIGN_INT));
	tup = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	simple_heap_insert(rel, tup);

	index = index_open(RelationGetPrimaryKeyIndex(rel), RowExclusiveLock);
	indexinfo = BuildIndexInfo(index);
	(void) index_insert(index, values, nulls, &tup->t_self, rel,
						UNIQUE_CHECK_YES, false, indexinfo);

	/*
	 * Locked until the transaction ends: released now, a CLUSTER or VACUUM
	 * FULL of the queue could copy the row while its insert is in progress.
	 */
	index_close(index, NoLock);
	table_close(rel, NoLock);
	heap_freetuple(tup);
}

/* Insert the held events from index "from" on as rows of about BH_QUEUE_ROW_BYTES. */
static void
bh_held_insert_rows(int from)
{
	Jsonb	  **row = palloc(sizeof(Jsonb *) * (bh_held_n - from));
	int			i = from;

	while (i < bh_held_n)
	{
		int			n = 0;
		Size		bytes = 0;

		do
		{
			bytes += VARSIZE(bh_held[i].event);
			row[n++] = bh_held[i++].event;
		} while (i < bh_held_n && bytes + VARSIZE(bh_held[i].event) <= BH_QUEUE_ROW_BYTES);
		bh_queue_insert_row(row, n);
	}
	pfree(row);
}

/*
 * Write the held events from index "from" on (all of one level, or all at
 * pre-commit), and forget them.
 *
 * A transaction may declare itself read-only after its writes (SET
 * TRANSACTION READ ONLY, in a savepoint too), or be read-only and write a
 * tagged temporary table or call emit(): the events are written all the
 * same, as the trail's, not the transaction's data (bh_queue_event()).
 */
static void
bh_held_write(int from)
{
	bool		read_only = XactReadOnly;
	volatile bool pushed = false;
	MemoryContext cxt;
	MemoryContext old;
	int			i;

	/*
	 * In a memory context of its own, gone when the rows are written: a
	 * savepoint writing them as it is released would otherwise leave its
	 * memory non-empty, and PostgreSQL keeps such a savepoint's memory until
	 * the transaction ends (about 3 kB per event, a savepoint per row).
	 */
	cxt = AllocSetContextCreate(TopTransactionContext, "bh_audit queue write",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	/*
	 * A heap insert into a table with a TOAST table (the queue has one) wants
	 * a snapshot, which pre-commit, pre-prepare and RELEASE SAVEPOINT run
	 * without (PostgreSQL asserts it): the transaction's, as for the deferred
	 * triggers that commit fires — or, in a transaction that has taken none
	 * (only a SET ran), a copy of a catalog snapshot: its first would make a
	 * SERIALIZABLE READ ONLY DEFERRABLE transaction wait for a safe snapshot
	 * at its commit.  An error leaves it to the abort's clean-up.
	 */
	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(FirstSnapshotSet ? GetTransactionSnapshot()
						   : GetCatalogSnapshot(InvalidOid));
		pushed = true;
	}
	XactReadOnly = false;
	PG_TRY();
	{
		bh_held_insert_rows(from);
	}
	PG_FINALLY();
	{
		XactReadOnly = read_only;
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
	}
	PG_END_TRY();
	if (pushed)
		PopActiveSnapshot();
	for (i = from; i < bh_held_n; i++)
		pfree(bh_held[i].event);
	bh_held_n = from;
	bh_held_top_bytes = 0;
}

/*
 * The kept events of the levels from level (0: all) end: a
 * rollback pushes them through the ring (never raising an error: this runs
 * in the abort), a commit or prepare forgets them.
 */
static void
bh_notes_end(int level, bool rollback)
{
	while (bh_notes_n > 0 && bh_notes[bh_notes_n - 1].level >= level)
	{
		BhRollbackNote *note = &bh_notes[--bh_notes_n];

		if (rollback)
			(void) bh_ring_push_jsonb_nothrow(note->event, GetDatabaseEncoding());
		pfree(note->event);
		pfree(note->change);
		/* pushed first, lowered after: a crash between counts it twice */
		bh_losses_held_notes(bh_notes_n);
	}
}

/*
 * A subtransaction at level commits: its notes become its parent's, but
 * for a change the parent has kept already (its earlier time covers the
 * later window): one note per change and level, however many savepoints
 * (a PL/pgSQL block with EXCEPTION around each call of a function with a
 * SET clause) it went through.
 */
static void
bh_notes_to_parent(int level)
{
	int			first = bh_notes_n;
	int			kept;
	int			i;
	int			j;

	while (first > 0 && bh_notes[first - 1].level >= level)
		first--;
	kept = first;
	for (i = first; i < bh_notes_n; i++)
	{
		bool		dup = false;

		for (j = kept - 1; j >= 0 && bh_notes[j].level >= level - 1 && !dup; j--)
			dup = strcmp(bh_notes[j].change, bh_notes[i].change) == 0;
		if (dup)
		{
			pfree(bh_notes[i].event);
			pfree(bh_notes[i].change);
			continue;
		}
		bh_notes[kept] = bh_notes[i];
		bh_notes[kept].level = level - 1;
		kept++;
	}
	if (kept != bh_notes_n)
	{
		bh_notes_n = kept;
		bh_losses_held_notes(bh_notes_n);
	}
}

/*
 * A change narrowing read capture took effect in this session (see the file
 * header): keep the rolled-back form of its event, queued before (or, for
 * DROP EXTENSION, never queued: a committed drop takes the queue with it),
 * for a rollback of the current level — the same event with metadata
 * rolled_back: true (left as it is when its metadata has no room for
 * another key: the schema allows 20).  change names the change (the
 * setting, the table and partition, the extension): kept once per level.
 */
void
bh_note_narrowing(Jsonb *event, const char *change)
{
	bh_note_narrowing_at(event, change, GetCurrentTransactionNestLevel());
}

/*
 * The same, for a rollback of level, at or above the current one: the
 * level of a statement still running that made the change, when what
 * finds it in effect runs deeper (an event trigger's block with an
 * EXCEPTION clause, whose rollback does not undo the statement's change).
 */
void
bh_note_narrowing_at(Jsonb *event, const char *change, int level)
{
	JsonbValue	meta;
	Jsonb	   *noted = event;
	MemoryContext old;
	int			pos = bh_notes_n;
	int			i;

	/* the notes are kept by level, innermost last */
	while (pos > 0 && bh_notes[pos - 1].level > level)
		pos--;
	for (i = pos - 1; i >= 0 && bh_notes[i].level == level; i--)
		if (strcmp(bh_notes[i].change, change) == 0)
			return;
	if (getKeyJsonValueFromContainer(&event->root, "metadata", 8, &meta) != NULL &&
		meta.type == jbvBinary && JsonContainerIsObject(meta.val.binary.data) &&
		JsonContainerSize(meta.val.binary.data) < BH_METADATA_MAX_KEYS)
	{
		Datum		path[2];
		ArrayType  *patharr;

		path[0] = CStringGetTextDatum("metadata");
		path[1] = CStringGetTextDatum("rolled_back");
		patharr = construct_array(path, 2, TEXTOID, -1, false, TYPALIGN_INT);
		noted = DatumGetJsonbP(DirectFunctionCall4(jsonb_set, JsonbPGetDatum(event),
												   PointerGetDatum(patharr),
												   DirectFunctionCall1(jsonb_in, CStringGetDatum("true")),
												   BoolGetDatum(true)));
	}
	if (bh_notes_n == bh_notes_max)
	{
		bh_notes = bh_array_grow(bh_notes, &bh_notes_max, 8,
								 sizeof(BhRollbackNote), TopMemoryContext);
	}
	if (pos < bh_notes_n)
		memmove(&bh_notes[pos + 1], &bh_notes[pos],
				sizeof(BhRollbackNote) * (bh_notes_n - pos));
	old = MemoryContextSwitchTo(TopMemoryContext);
	bh_notes[pos].event = (Jsonb *) pg_detoast_datum_copy((struct varlena *) noted);
	bh_notes[pos].change = pstrdup(change);
	MemoryContextSwitchTo(old);
	bh_notes[pos].level = level;
	bh_notes_n++;
	bh_losses_held_notes(bh_notes_n);	/* a crash now loses it: counted */
}

/*
 * The top-level XID of the transaction being prepared, from pre-prepare
 * (invalid otherwise): prepare and an abort after pre-prepare find its
 * slot by it (stats.c).
 */
static TransactionId bh_prepare_xid = InvalidTransactionId;

/* The events this backend's transaction queued, at all its levels. */
static uint64
bh_pending_total(void)
{
	uint64		n = 0;
	int			i;

	for (i = 0; i < bh_pending_levels; i++)
		n += bh_pending[i];
	return n;
}

/*
 * Hold an event of a stored setting's change that this database's queue
 * does not take, for the ring at the transaction's commit (see the file
 * header); validated first, as a queued one; false if
 * bh_audit.validation_mode dropped it.  A full ring under on_ring_full =
 * error fails the statement now, unless it has room for this event and
 * those the transaction holds already.
 */
bool
bh_ring_at_commit(Jsonb *event)
{
	uint64		bytes = bh_ring_record_bytes(event);
	int			i;

	if (!bh_validate_for_emit(event))
		return false;
	/* room for all the transaction will push, this one and those held */
	for (i = 0; i < bh_ring_held_n; i++)
		bytes += bh_ring_record_bytes(bh_ring_held[i].event);
	bh_ring_require_room(bytes);
	if (bh_ring_held_n == bh_ring_held_max)
	{
		bh_ring_held = bh_array_grow(bh_ring_held, &bh_ring_held_max, 8,
									 sizeof(BhRingHeld), TopTransactionContext);
	}
	bh_ring_held[bh_ring_held_n].level = GetCurrentTransactionNestLevel();
	bh_ring_held[bh_ring_held_n].event = (Jsonb *)
		MemoryContextAlloc(TopTransactionContext, VARSIZE(event));
	memcpy(bh_ring_held[bh_ring_held_n].event, event, VARSIZE(event));
	bh_ring_held_n++;
	return true;
}

/*
 * A subtransaction at level ends: its held events become its parent's, or
 * go with its rollback.
 */
static void
bh_ring_held_subxact_end(int level, bool commit)
{
	int			first = bh_ring_held_n;

	while (first > 0 && bh_ring_held[first - 1].level >= level)
		first--;
	if (!commit)
		bh_ring_held_n = first;
	for (; first < bh_ring_held_n; first++)
		bh_ring_held[first].level = level - 1;
}

/*
 * The transaction committed: push the held events through the ring, in
 * their order, never raising an error (a full ring is waited for under
 * on_ring_full = wait, within bh_audit.ring_wait_timeout; otherwise the
 * event is dropped, counted and warned about).
 */
static void
bh_ring_held_push(void)
{
	int			i;

	for (i = 0; i < bh_ring_held_n; i++)
	{
		(void) bh_ring_push_jsonb_nothrow(bh_ring_held[i].event, GetDatabaseEncoding());
		/* pushed first, lowered after: a crash between counts it twice */
		bh_losses_held_commit(bh_ring_held_n - i - 1);
	}
	bh_ring_held_n = 0;
}

/*
 * Pre-commit: write what the transaction holds.  Pre-prepare: the same,
 * and leave the number of its events under its XID (stats.c), counted once
 * it commits.  End: count what committed and wake the sealer; forget
 * anything held (an abort).
 */
static void
bh_emit_xact_callback(XactEvent event, void *arg)
{
	uint64		n = 0;
	int			i;

	if (event == XACT_EVENT_PRE_PREPARE && bh_notes_n > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot PREPARE a transaction that narrowed bh_audit's read capture"),
				 errdetail("It switched bh_audit.enabled off, untagged a table, detached a partition of a tagged table or dropped the extension; a later ROLLBACK PREPARED would leave no record of a change that was in effect in this session."),
				 errhint("Make that change in a transaction of its own.")));
	if (event == XACT_EVENT_PRE_PREPARE && bh_ring_held_n > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot PREPARE a transaction that changed bh_audit's stored settings outside bh_audit.database"),
				 errdetail("Its events go through the ring when it commits; a later ROLLBACK PREPARED could not take them back."),
				 errhint("Make that change in a transaction of its own.")));
	if (event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PRE_PREPARE)
	{
		/* a database's first queued events may make it the home (home.c) */
		if (event == XACT_EVENT_PRE_COMMIT && bh_pending != NULL &&
			bh_pending_total() > 0)
			bh_home_claim(false);
		if (bh_held_n > 0)
			bh_held_write(0);
		bh_held_closed = true;

		/*
		 * The ring-held events are pushed only once the commit is durable
		 * (after a synchronous standby's answer too): a crash before counts
		 * them as lost, also when it comes before the commit record.
		 */
		if (event == XACT_EVENT_PRE_COMMIT && bh_ring_held_n > 0)
			bh_losses_held_commit(bh_ring_held_n);

		/*
		 * PrepareTransaction() assigned the XID before this callback, and the
		 * queue rows just written needed it anyway.
		 */
		if (event == XACT_EVENT_PRE_PREPARE && bh_pending != NULL &&
			(n = bh_pending_total()) > 0)
		{
			bh_prepare_xid = GetTopTransactionId();
			bh_stats_preparing(bh_prepare_xid, n);
		}
		return;
	}
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_PARALLEL_COMMIT &&
		event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_ABORT &&
		event != XACT_EVENT_PREPARE)
		return;
	bh_held_reset();
	bh_held_closed = false;
	bh_queue_locked = false;
	if (event == XACT_EVENT_COMMIT)
		bh_ring_held_push();
	else if (bh_ring_held_n > 0)
		bh_losses_held_commit(0);	/* never committed: nothing to push */
	bh_ring_held = NULL;		/* in TopTransactionContext, going now */
	bh_ring_held_n = bh_ring_held_max = 0;
	bh_notes_end(0, event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT);

	if (bh_pending != NULL)
	{
		n = bh_pending_total();
		for (i = 0; i < bh_pending_levels; i++)
			bh_pending[i] = 0;
	}
	if (n > 0 && (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT))
	{
		bh_stats_add_emitted(n);
		bh_sealer_wake();
	}
	else if (n > 0 && event == XACT_EVENT_PREPARE)
	{
		/* counted once it commits; pre-prepare took the slot */
		bh_stats_prepared(TransactionIdIsValid(bh_prepare_xid) ?
						  bh_prepare_xid : GetTopTransactionIdIfAny(), n);
	}
	else if (TransactionIdIsValid(bh_prepare_xid) && event == XACT_EVENT_ABORT)
		bh_stats_prepare_failed(bh_prepare_xid);	/* the PREPARE failed */
	bh_prepare_xid = InvalidTransactionId;
}

/*
 * After a utility statement succeeded: COMMIT PREPARED counts the events
 * of the prepared transaction as emitted (stats.c) and wakes the sealer for
 * them, unless a stats() call or the sealer's own round resolved its slot
 * first.  Without a utility statement (the apply worker of a two_phase
 * subscription), or in that case, the sealer finds the committed queue
 * rows at its next round, at most its naptime later.
 */
void
bh_emit_utility_after(Node *parsetree)
{
	if (IsA(parsetree, TransactionStmt) &&
		((TransactionStmt *) parsetree)->kind == TRANS_STMT_COMMIT_PREPARED &&
		bh_stats_prepared_resolve() > 0)
		bh_sealer_wake();
}

/* Count the bytes of the innermost level that holds events. */
static void
bh_held_recount_top(void)
{
	int			i;

	bh_held_top_bytes = 0;
	for (i = bh_held_n - 1; i >= 0 && bh_held[i].level == bh_held[bh_held_n - 1].level; i--)
		bh_held_top_bytes += VARSIZE(bh_held[i].event);
}

/*
 * Before a subtransaction commits: when its held events and its parent's
 * fill a row, write them now, under the subtransaction, which becomes part
 * of the parent (a rollback to an outer savepoint takes the rows with it).
 * A savepoint per event (a PL/pgSQL block with EXCEPTION in a loop, a
 * driver's autosave) would otherwise keep every event in memory until
 * commit, the parent's level never being the current one when they come.
 */
static void
bh_held_write_at_subcommit(int level)
{
	Size		bytes = 0;
	int			from = bh_held_n;

	if (bh_held_n == 0 || bh_held[bh_held_n - 1].level != level)
		return;
	while (from > 0 && bh_held[from - 1].level >= level - 1)
		bytes += VARSIZE(bh_held[--from].event);
	if (bytes > BH_QUEUE_ROW_BYTES)
	{
		bh_held_write(from);
		if (bh_held_n > 0)
			bh_held_recount_top();
	}
}

/*
 * At subtransaction end: its held events and its count fold into the
 * parent, or are forgotten on rollback.
 */
static void
bh_emit_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();

	if (event == SUBXACT_EVENT_PRE_COMMIT_SUB)
	{
		bh_held_write_at_subcommit(level);
		return;
	}
	if (event != SUBXACT_EVENT_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB)
		return;

	if (event == SUBXACT_EVENT_COMMIT_SUB)
		bh_notes_to_parent(level);
	else
		bh_notes_end(level, true);
	bh_ring_held_subxact_end(level, event == SUBXACT_EVENT_COMMIT_SUB);

	if (bh_held_n > 0 && bh_held[bh_held_n - 1].level >= level)
	{
		int			i;

		if (event == SUBXACT_EVENT_COMMIT_SUB)
		{
			for (i = bh_held_n - 1; i >= 0 && bh_held[i].level >= level; i--)
				bh_held[i].level = level - 1;
		}
		else
		{
			while (bh_held_n > 0 && bh_held[bh_held_n - 1].level >= level)
				pfree(bh_held[--bh_held_n].event);
		}
		/* the bytes held by what is now the innermost level holding any */
		bh_held_recount_top();
	}

	if (bh_pending == NULL || level >= bh_pending_levels || level < 1)
		return;
	if (event == SUBXACT_EVENT_COMMIT_SUB)
		bh_pending[level - 1] += bh_pending[level];
	bh_pending[level] = 0;
}

void
bh_emit_init(void)
{
	RegisterXactCallback(bh_emit_xact_callback, NULL);
	RegisterSubXactCallback(bh_emit_subxact_callback, NULL);
	bh_cached_rel_register(&bh_queue_rel);
}

/*
 * Queue one event (a complete event without integrity, bh_event_build())
 * in the current transaction: held in memory until its queue row is
 * written (see the file header).  Every event is first validated against
 * the schema of its version (validate_events.c, validate.c); returns
 * false if bh_audit.validation_mode dropped it.
 */
bool
bh_queue_event(Jsonb *event)
{
	Jsonb	   *copy;
	int			level = GetCurrentTransactionNestLevel();
	Size		size;
	Oid			queue = bh_queue_lookup();

	/*
	 * A read-only transaction may write temporary tables (a tagged one too)
	 * and call emit(): the queue row is the audit trail's, not the
	 * transaction's data, and is written all the same (bh_held_write()). A
	 * standby writes nothing.
	 */
	PreventCommandDuringRecovery("bh_audit event capture");

	if (!bh_validate_for_emit(event))
		return false;

	/*
	 * The first event takes the queue's lock for the whole transaction (a
	 * subtransaction's rollback does not release it), once per transaction
	 * (see the file header).  A drop of the extension that committed while it
	 * waited took the queue away: said now (55000), not at the commit.
	 */
	if (!bh_queue_locked)
	{
		ResourceOwner owner = CurrentResourceOwner;

		CurrentResourceOwner = TopTransactionResourceOwner;
		PG_TRY();
		{
			LockRelationOid(queue, RowExclusiveLock);
		}
		PG_FINALLY();
		{
			CurrentResourceOwner = owner;
		}
		PG_END_TRY();
		bh_queue_locked = true;
		(void) bh_queue_lookup();
	}

	size = VARSIZE(event);
	/* a new innermost level starts its own count */
	if (bh_held_n == 0 || bh_held[bh_held_n - 1].level != level)
		bh_held_top_bytes = 0;
	/* the current level's events fill a row: write them first */
	else if (bh_held_top_bytes + size > BH_QUEUE_ROW_BYTES)
	{
		int			from = bh_held_n;

		while (from > 0 && bh_held[from - 1].level == level)
			from--;
		bh_held_write(from);
	}

	if (bh_held_n == bh_held_max)
	{
		bh_held = bh_array_grow(bh_held, &bh_held_max, 16,
								sizeof(BhHeldEvent), TopTransactionContext);
	}
	copy = MemoryContextAlloc(TopTransactionContext, size);
	memcpy(copy, event, size);
	bh_held[bh_held_n].level = level;
	bh_held[bh_held_n].event = copy;
	bh_held_n++;
	bh_held_top_bytes += size;

	/* after the pre-commit write (another module's pre-commit callback) */
	if (bh_held_closed)
		bh_held_write(0);

	bh_pending_add();
	return true;
}

/*
 * Is this backend's transaction past its pre-commit (or pre-prepare)?
 * PostgreSQL then runs its ON COMMIT actions (a temporary table dropped ON
 * COMMIT DROP, through the object access hook) with its trigger manager
 * shut down: nothing may run SQL any more (tags.c, tag_cache.c).
 */
bool
bh_xact_committing(void)
{
	return bh_held_closed;
}

/*
 * The events this backend's transaction has queued so far, held or written,
 * at the levels that are not rolled back (config_guard.c refuses to drop the
 * extension, and its queue, under them).
 */
uint64
bh_xact_events(void)
{
	return bh_pending != NULL ? bh_pending_total() : 0;
}

/* The text argument n, or NULL. */
static char *
bh_text_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/*
 * Check an explicit string argument against the schema's length limits,
 * in the code points it has in UTF-8 (recode.c).
 */
static void
bh_check_length(const char *field, const char *s, int minchars, int maxchars)
{
	int			n = bh_recode_server_chars(s, strlen(s));

	if (n < minchars)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", field)));
	if (n > maxchars)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is longer than %d characters", field, maxchars)));
}

PG_FUNCTION_INFO_V1(bh_audit_emit);

/*
 * A metadata key with a character of the database encoding that has no
 * UTF-8 equivalent (EUC_JP 0xA9A1): the sealer would seal it with '?' for
 * that character, as it does a value (recode.c), and the key could then be
 * another key of the event, one of the two values lost.  Refused, with
 * PostgreSQL's own error for the character (22P05).
 */
static void
bh_check_metadata_keys(Jsonb *metadata)
{
	int			encoding = GetDatabaseEncoding();
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	v;

	if (encoding == PG_UTF8 || encoding == PG_SQL_ASCII ||
		!JB_ROOT_IS_OBJECT(metadata) || JB_ROOT_IS_SCALAR(metadata))
		return;
	it = JsonbIteratorInit(&metadata->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		if (tok == WJB_KEY)
			(void) pg_server_to_any(v.val.string.val, v.val.string.len, PG_UTF8);
}

/*
 * bh_audit.emit(action, resource_type, resource_id, patient_id, outcome,
 *				 error_type, error_message, metadata, data_classification,
 *				 phi_touched, action_name) RETURNS uuid
 *
 * Validates everything before queueing anything: bad input raises 22023
 * naming the field and leaves the queue untouched.
 */
Datum
bh_audit_emit(PG_FUNCTION_ARGS)
{
	BhEvent		ev;
	char		event_id[37];
	char	   *action = bh_text_arg(fcinfo, 0);
	char	   *resource_type = bh_text_arg(fcinfo, 1);
	const char *problem;

	bh_require_preload();

	/*
	 * A parallel worker's transaction writes nothing, and its held events
	 * would be lost with it: emit() is PARALLEL UNSAFE, but a user's function
	 * calling it may be labelled PARALLEL SAFE.  Refused, as nextval() is, in
	 * the leader as well.
	 */
	PreventCommandIfParallelMode("bh_audit.emit()");
	if (action == NULL || !bh_in_list(action, bh_action_types))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("action must be one of READ, CREATE, UPDATE, DELETE, EXPORT, LOGIN, LOGOUT, PRINT, OTHER")));
	if (resource_type == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("resource_type must not be empty")));
	bh_check_length("resource_type", resource_type, 1, 128);
	bh_check_resource_type_free(resource_type);

	bh_event_init(&ev, action, resource_type);
	ev.resource_id = bh_text_arg(fcinfo, 2);
	ev.patient_id = bh_text_arg(fcinfo, 3);
	ev.outcome = bh_text_arg(fcinfo, 4);
	ev.error_type = bh_text_arg(fcinfo, 5);
	ev.error_message = bh_text_arg(fcinfo, 6);
	ev.user_metadata = PG_ARGISNULL(7) ? NULL : PG_GETARG_JSONB_P(7);
	ev.data_classification = bh_text_arg(fcinfo, 8);
	ev.phi_touched = PG_ARGISNULL(9) ? -1 : (PG_GETARG_BOOL(9) ? 1 : 0);
	ev.action_name = bh_text_arg(fcinfo, 10);

	if (ev.resource_id)
		bh_check_length("resource_id", ev.resource_id, 1, 256);
	if (ev.patient_id)
		bh_check_length("patient_id", ev.patient_id, 1, 256);
	if (ev.outcome == NULL || !bh_in_list(ev.outcome, bh_outcome_statuses))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("outcome must be one of SUCCESS, FAILURE, DENIED")));
	if (strcmp(ev.outcome, "SUCCESS") != 0 && ev.error_type == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("error_type is required when outcome is %s", ev.outcome)));
	if (ev.error_type)
		bh_check_length("error_type", ev.error_type, 1, 128);
	if (ev.data_classification &&
		!bh_in_list(ev.data_classification, bh_data_classifications))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("data_classification must be one of PHI, PII, NONE, UNKNOWN")));
	if (ev.action_name)
		bh_check_length("action_name", ev.action_name, 0, 128);
	/* the sealer must be able to hash what it is given (canon.c) */
	if (ev.user_metadata)
		bh_check_metadata_keys(ev.user_metadata);
	if (ev.user_metadata && (problem = canon_jsonb_problem(ev.user_metadata)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("metadata holds a number that cannot be canonicalized: %s", problem),
				 errhint("Give such a value as a string.")));
	/* stored as hashed: a decimal more precise than a double, rounded */
	if (ev.user_metadata)
		ev.user_metadata = canon_jsonb_round_decimals(ev.user_metadata);

	/* NULL when bh_audit.validation_mode = drop discarded the event */
	bh_current_role_warm();
	if (!bh_queue_event(bh_event_build(&ev, event_id)))
		PG_RETURN_NULL();

	PG_RETURN_DATUM(DirectFunctionCall1(uuid_in, CStringGetDatum(event_id)));
}

PG_FUNCTION_INFO_V1(bh_audit_pending_events);

/*
 * bh_audit.pending_events(): the events this session's transaction has
 * queued that are still held in memory (not yet written to
 * bh_audit.queue), oldest first.  They are the caller's own; the function
 * shows what a transaction will queue before it commits.
 */
Datum
bh_audit_pending_events(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	Jsonb	  **copies;

	bh_require_preload();
	/* a parallel worker holds none of its leader's events */
	bh_refuse_in_parallel_worker("bh_audit.pending_events()");
	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext oldcxt;
		int			i;

		funcctx = SRF_FIRSTCALL_INIT();
		oldcxt = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		copies = palloc(sizeof(Jsonb *) * Max(bh_held_n, 1));
		for (i = 0; i < bh_held_n; i++)
		{
			copies[i] = palloc(VARSIZE(bh_held[i].event));
			memcpy(copies[i], bh_held[i].event, VARSIZE(bh_held[i].event));
		}
		funcctx->user_fctx = copies;
		funcctx->max_calls = bh_held_n;
		MemoryContextSwitchTo(oldcxt);
	}
	funcctx = SRF_PERCALL_SETUP();
	copies = (Jsonb **) funcctx->user_fctx;
	if (funcctx->call_cntr < funcctx->max_calls)
	{
		/* (SRF_RETURN_NEXT advances call_cntr before it returns) */
		Datum		next = JsonbPGetDatum(copies[funcctx->call_cntr]);

		SRF_RETURN_NEXT(funcctx, next);
	}
	SRF_RETURN_DONE(funcctx);
}
