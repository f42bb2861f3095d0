/*-------------------------------------------------------------------------
 *
 * stats.c
 *		Shared counters of what bh_audit emitted, sealed and dropped, and
 *		bh_audit.stats().
 *
 * Counters are lock-free atomics in shared memory, counted since server
 * start (like pg_stat_statements without persistence).  The number of
 * events waiting in the queue is read from the queue itself, so it is
 * right across restarts; the number waiting in the ring comes from the
 * ring (ring.c).
 *
 * Prepared transactions.  The events a prepared transaction holds are
 * counted as emitted once it has committed, whoever finishes it: COMMIT
 * PREPARED in a session, or the apply worker of a two_phase subscription,
 * which prepares and commits without a utility statement, or any other
 * path that does without one.  So PREPARE leaves their number here under the transaction's
 * top-level XID, and the slot is resolved lazily: whenever the counters are
 * read (bh_audit.stats()), in every round of the sealer, after a COMMIT
 * PREPARED statement, and when a PREPARE finds no free slot.  A slot whose
 * XID is no longer in progress (a prepared transaction is) is counted if
 * the XID committed and forgotten otherwise.  The slot is taken before the
 * transaction is prepared (at pre-prepare, where an error still aborts it
 * cleanly) and given back if the PREPARE fails.  There is one slot per
 * prepared transaction and per backend that may be preparing one, so a
 * PREPARE finds a free slot once finished ones are resolved.  Since server
 * start, like the counters: a transaction prepared before a restart and
 * committed after it is not counted (its number of events was in shared
 * memory).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "access/twophase.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "bh_audit.h"
#include "ring.h"

typedef struct BhStatsShared
{
	pg_atomic_uint64 emitted;
	pg_atomic_uint64 sealed;
	pg_atomic_uint64 dropped;
	pg_atomic_uint64 validation_failures;
	pg_atomic_uint64 last_seal_at;	/* TimestampTz, 0 = never */
	slock_t		prepared_mutex; /* protects prepared[] */
	int			nprepared;		/* slots (see bh_stats_slots()) */
	struct
	{
		TransactionId xid;		/* top-level XID; invalid: a free slot */
		uint64		events;
	}			prepared[FLEXIBLE_ARRAY_MEMBER];
} BhStatsShared;

static BhStatsShared *bh_stats = NULL;

/*
 * Slots for prepared transactions: one per prepared transaction there may
 * be, and one per backend that may be between pre-prepare and prepare
 * (none without max_prepared_transactions: nothing can be prepared).
 */
static int
bh_stats_slots(void)
{
	return max_prepared_xacts > 0 ? max_prepared_xacts + MaxBackends : 0;
}

static Size
bh_stats_size(void)
{
	return add_size(offsetof(BhStatsShared, prepared),
					mul_size(bh_stats_slots(), sizeof(((BhStatsShared *) NULL)->prepared[0])));
}

void
bh_stats_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(bh_stats_size()));
}

void
bh_stats_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	bh_stats = ShmemInitStruct("bh_audit stats", bh_stats_size(), &found);
	if (!found)
	{
		memset(bh_stats, 0, bh_stats_size());
		SpinLockInit(&bh_stats->prepared_mutex);
		bh_stats->nprepared = bh_stats_slots();
		pg_atomic_init_u64(&bh_stats->emitted, 0);
		pg_atomic_init_u64(&bh_stats->sealed, 0);
		pg_atomic_init_u64(&bh_stats->dropped, 0);
		pg_atomic_init_u64(&bh_stats->validation_failures, 0);
		pg_atomic_init_u64(&bh_stats->last_seal_at, 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

void
bh_stats_add_emitted(uint64 n)
{
	if (bh_stats && n > 0)
		pg_atomic_fetch_add_u64(&bh_stats->emitted, n);
}

void
bh_stats_add_sealed(uint64 n, TimestampTz when)
{
	if (bh_stats && n > 0)
	{
		pg_atomic_fetch_add_u64(&bh_stats->sealed, n);
		pg_atomic_write_u64(&bh_stats->last_seal_at, (uint64) when);
	}
}

/* Take a free slot for xid (under the spinlock); false if none is free. */
static bool
bh_stats_slot_take(TransactionId xid, uint64 n)
{
	bool		taken = false;
	int			i;

	SpinLockAcquire(&bh_stats->prepared_mutex);
	for (i = 0; i < bh_stats->nprepared; i++)
		if (!TransactionIdIsValid(bh_stats->prepared[i].xid))
		{
			bh_stats->prepared[i].xid = xid;
			bh_stats->prepared[i].events = n;
			taken = true;
			break;
		}
	SpinLockRelease(&bh_stats->prepared_mutex);
	return taken;
}

/*
 * Set the number of events of xid's slot (0: give the slot back); false if
 * xid has none.
 */
static bool
bh_stats_slot_set(TransactionId xid, uint64 n)
{
	bool		found = false;
	int			i;

	SpinLockAcquire(&bh_stats->prepared_mutex);
	for (i = 0; i < bh_stats->nprepared; i++)
		if (TransactionIdEquals(bh_stats->prepared[i].xid, xid))
		{
			bh_stats->prepared[i].events = n;
			if (n == 0)
				bh_stats->prepared[i].xid = InvalidTransactionId;
			found = true;
			break;
		}
	SpinLockRelease(&bh_stats->prepared_mutex);
	return found;
}

/*
 * Pre-prepare: the transaction xid (top level) is about to be prepared
 * with n events.  Takes its slot while an error can still abort the
 * transaction; resolves finished ones first if none is free.
 */
void
bh_stats_preparing(TransactionId xid, uint64 n)
{
	if (bh_stats == NULL || bh_stats->nprepared == 0 || n == 0 ||
		!TransactionIdIsValid(xid))
		return;
	if (bh_stats_slot_set(xid, n) || bh_stats_slot_take(xid, n))
		return;
	(void) bh_stats_prepared_resolve();
	(void) bh_stats_slot_take(xid, n);
}

/*
 * Prepare (the transaction is prepared; nothing here may fail): xid holds
 * n events in the end, more than at pre-prepare if another module's
 * pre-prepare callback queued some after ours.  Counted once it commits.
 */
void
bh_stats_prepared(TransactionId xid, uint64 n)
{
	if (bh_stats == NULL || bh_stats->nprepared == 0 || n == 0 ||
		!TransactionIdIsValid(xid))
		return;
	if (!bh_stats_slot_set(xid, n))
		(void) bh_stats_slot_take(xid, n);
}

/* The PREPARE of xid failed after pre-prepare: give its slot back. */
void
bh_stats_prepare_failed(TransactionId xid)
{
	if (bh_stats == NULL || bh_stats->nprepared == 0 || !TransactionIdIsValid(xid))
		return;
	(void) bh_stats_slot_set(xid, 0);
}

/*
 * Resolve the slots of prepared transactions that have finished: count the
 * events of those that committed as emitted, forget the others.  The
 * status of each XID is looked up outside the spinlock (the procarray,
 * then the commit log: a finished transaction's status is in the commit
 * log before it leaves the procarray); a slot is freed only if it still
 * holds the XID looked up.  Returns the number of events counted.
 */
uint64
bh_stats_prepared_resolve(void)
{
	TransactionId *xids;
	int		   *slots;
	int			n = 0;
	int			i;
	uint64		counted = 0;

	if (bh_stats == NULL || bh_stats->nprepared == 0)
		return 0;
	xids = palloc(sizeof(TransactionId) * bh_stats->nprepared);
	slots = palloc(sizeof(int) * bh_stats->nprepared);
	SpinLockAcquire(&bh_stats->prepared_mutex);
	for (i = 0; i < bh_stats->nprepared; i++)
		if (TransactionIdIsValid(bh_stats->prepared[i].xid))
		{
			xids[n] = bh_stats->prepared[i].xid;
			slots[n++] = i;
		}
	SpinLockRelease(&bh_stats->prepared_mutex);

	for (i = 0; i < n; i++)
	{
		bool		committed;
		uint64		events = 0;

		if (TransactionIdIsInProgress(xids[i]))
			continue;

		/*
		 * The commit log of an XID older than what it keeps is gone (not for
		 * a slot resolved in time, which every sealer round does): forget it
		 * rather than read a truncated page.
		 */
		LWLockAcquire(XactTruncationLock, LW_SHARED);
		committed = !TransactionIdPrecedes(xids[i], ShmemVariableCache->oldestClogXid) &&
			TransactionIdDidCommit(xids[i]);
		LWLockRelease(XactTruncationLock);

		SpinLockAcquire(&bh_stats->prepared_mutex);
		if (TransactionIdEquals(bh_stats->prepared[slots[i]].xid, xids[i]))
		{
			events = bh_stats->prepared[slots[i]].events;
			bh_stats->prepared[slots[i]].xid = InvalidTransactionId;
			bh_stats->prepared[slots[i]].events = 0;
		}
		SpinLockRelease(&bh_stats->prepared_mutex);
		if (committed)
			counted += events;
	}
	pfree(xids);
	pfree(slots);
	bh_stats_add_emitted(counted);
	return counted;
}

void
bh_stats_add_dropped(uint64 n)
{
	if (bh_stats && n > 0)
		pg_atomic_fetch_add_u64(&bh_stats->dropped, n);
}

/* events_dropped_total (0 before shared memory exists). */
uint64
bh_stats_dropped(void)
{
	return bh_stats ? pg_atomic_read_u64(&bh_stats->dropped) : 0;
}

void
bh_stats_add_validation_failures(uint64 n)
{
	if (bh_stats && n > 0)
		pg_atomic_fetch_add_u64(&bh_stats->validation_failures, n);
}

PG_FUNCTION_INFO_V1(bh_audit_stats);

/*
 * bh_audit.stats(): counters, queue and ring depth, and sealer state.
 */
Datum
bh_audit_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[8];
	bool		nulls[8] = {0};
	int64		queued = 0;
	uint64		last;
	int			pid;

	bh_require_preload();

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	SPI_connect();
	if (SPI_execute("SELECT coalesce(sum(cardinality(events)), 0)::bigint FROM bh_audit.queue", true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		queued = isnull ? 0 : DatumGetInt64(d);
	}
	SPI_finish();

	/*
	 * Sealed first, then the prepared transactions resolved, then emitted:
	 * every event sealed by then had committed, and is counted.
	 */
	values[1] = Int64GetDatum((int64) pg_atomic_read_u64(&bh_stats->sealed));
	(void) bh_stats_prepared_resolve();
	values[0] = Int64GetDatum((int64) pg_atomic_read_u64(&bh_stats->emitted));
	values[2] = Int64GetDatum((int64) pg_atomic_read_u64(&bh_stats->dropped));
	values[3] = Int64GetDatum((int64) pg_atomic_read_u64(&bh_stats->validation_failures));
	values[4] = Int64GetDatum(queued);
	values[5] = Int64GetDatum((int64) bh_ring_count());
	last = pg_atomic_read_u64(&bh_stats->last_seal_at);
	if (last == 0)
		nulls[6] = true;
	else
		values[6] = TimestampTzGetDatum((TimestampTz) last);
	pid = bh_sealer_pid();
	if (pid == 0)
		nulls[7] = true;
	else
		values[7] = Int32GetDatum(pid);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
