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
 * ring (ring.c).  The events a prepared transaction holds are counted as
 * emitted when COMMIT PREPARED runs: the session that finishes it cannot
 * know them, so PREPARE TRANSACTION leaves their number here under its GID
 * (one slot per max_prepared_transactions; since server start, like the
 * counters: a transaction prepared before a restart and committed after
 * it is not counted).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/twophase.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
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
	slock_t		prepared_mutex;
	int			nprepared;		/* slots: max_prepared_transactions */
	struct
	{
		uint64		events;		/* 0: a free slot */
		char		gid[GIDSIZE];
	}			prepared[FLEXIBLE_ARRAY_MEMBER];
} BhStatsShared;

static BhStatsShared *bh_stats = NULL;

static Size
bh_stats_size(void)
{
	return add_size(offsetof(BhStatsShared, prepared),
					mul_size(max_prepared_xacts, sizeof(((BhStatsShared *) NULL)->prepared[0])));
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
		bh_stats->nprepared = max_prepared_xacts;
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

/* PREPARE TRANSACTION gid wrote n events (from its end-of-transaction callback). */
void
bh_stats_prepared(const char *gid, uint64 n)
{
	int			i;

	if (bh_stats == NULL || n == 0 || gid == NULL)
		return;
	SpinLockAcquire(&bh_stats->prepared_mutex);
	for (i = 0; i < bh_stats->nprepared; i++)
		if (bh_stats->prepared[i].events == 0)
		{
			bh_stats->prepared[i].events = n;
			strlcpy(bh_stats->prepared[i].gid, gid, GIDSIZE);
			break;
		}
	SpinLockRelease(&bh_stats->prepared_mutex);
}

/*
 * COMMIT PREPARED gid (committed) or ROLLBACK PREPARED gid ran: count its
 * events as emitted, or forget them.  Returns the number committed.
 */
uint64
bh_stats_prepared_finished(const char *gid, bool committed)
{
	uint64		n = 0;
	int			i;

	if (bh_stats == NULL || gid == NULL)
		return 0;
	SpinLockAcquire(&bh_stats->prepared_mutex);
	for (i = 0; i < bh_stats->nprepared; i++)
		if (bh_stats->prepared[i].events > 0 && strcmp(bh_stats->prepared[i].gid, gid) == 0)
		{
			n = bh_stats->prepared[i].events;
			bh_stats->prepared[i].events = 0;
			break;
		}
	SpinLockRelease(&bh_stats->prepared_mutex);
	if (!committed)
		return 0;
	bh_stats_add_emitted(n);
	return n;
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

	if (bh_stats == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bh_audit must be loaded via shared_preload_libraries")));

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

	values[0] = Int64GetDatum((int64) pg_atomic_read_u64(&bh_stats->emitted));
	values[1] = Int64GetDatum((int64) pg_atomic_read_u64(&bh_stats->sealed));
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
