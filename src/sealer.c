/*-------------------------------------------------------------------------
 *
 * sealer.c
 *		The sealer: the one background worker that chains events.
 *
 * The sealer is the single sequencer of the chain.  In one transaction per
 * batch it takes committed events out of bh_audit.queue (oldest first, by
 * a direct scan of the queue's primary key: queue_take.c),
 * reads the stored chain head, assigns seq, prev_event_hash and event_hash,
 * and inserts the batch into bh_audit.events.  Because the head is read
 * from the table inside the batch's transaction, under the sealer's chain
 * lock (a lock of its own: none on the ledger that a VACUUM of it would
 * wait for or be cancelled by), a restart or a crash never forks the
 * chain: an aborted batch leaves its events in the queue and the head
 * where it was.
 *
 * Autonomous events (reads, denials, failures) come through the ring
 * (ring.c) instead of the queue.  They may come from a database of another
 * encoding (the extension created there too), or be a login's bytes of no
 * known encoding: such an event is converted to the sealer's database
 * encoding as it is taken (recode.c); one in that encoding is taken as it
 * is, unless the canonical form cannot take it (a character without a
 * UTF-8 equivalent, queued events included): it is then converted to
 * UTF-8 and back the same way.  A batch takes queued events and ring
 * events, bh_audit.seal_batch_size in all (while the ring holds events, at
 * most half of the batch goes to the queue, so that neither starves the
 * other), and chains them merged by event timestamp, each source in its
 * own order.  Ring events are only peeked at: they are
 * consumed after the batch's transaction commits, so a failed batch leaves
 * them in the ring.  An event that keeps failing batches on a data error
 * (it cannot be inserted) must not stop the sealer, wherever it is in the
 * batch: after two failed batches the ring events they held are taken one
 * per batch, without queue rows, and one that fails twice alone is
 * discarded with a WARNING and counted as dropped.  So is a queue row: the
 * rows the failed batches held are taken one per batch, and a row that
 * fails twice alone is deleted from the queue in a transaction of its own,
 * its events counted as dropped; while rows are taken one by one, every
 * other batch takes the ring's events by the batch, so that reads do not
 * wait for them.  When the two failed batches held both ring events and
 * queue rows, the ring's events they held are first taken in one batch
 * without queue rows: if it commits, only the queue's rows are taken one
 * by one; if it fails too, only the ring's events are (queue rows wait
 * for them, as they do whenever ring events are taken alone), and the
 * queue's rows are then taken by the batch again.  So one bad row does not
 * make every ring event a transaction of its own, nor one bad event every
 * row.  The failures are counted in shared memory, since a failed batch
 * ends the process.
 *
 * A batch may also carry events the sealer makes itself: a switch of
 * bh_audit.enabled read from the configuration file, the account of
 * events lost since the last one (losses.c; first in its batch, so that
 * after a recovery it marks where the chain departs from the previous
 * timeline before anything sealed on the new one), including a start where the
 * ring of an earlier server is not known (after a start without an
 * account, the batch reads the ledger's head first: an empty ledger means
 * a first start, nothing to report), and, first in the first batch of a
 * connection, where it continued a ledger last sealed by another database
 * or cluster (home.c).
 *
 * The queue's deleted rows are the sealer's to clean up: it vacuums the
 * queue after every BH_QUEUE_VACUUM_ROWS rows it deleted, so that the
 * writers reuse its pages instead of extending it until autovacuum comes.
 * It never waits for the queue's lock: while another vacuum holds it, it
 * tries again after every batch.
 *
 * Shutdown: SIGTERM does not interrupt a batch.  The sealer finishes it,
 * drains the queue and the ring one last time, and exits with status 1,
 * so that the postmaster restarts it (after pg_terminate_backend(), say)
 * unless the server is shutting down.  In a smart shutdown clients are gone by
 * then, but not walsenders (replication=database sessions run SQL too):
 * PostgreSQL stops them after the background workers have exited; in a fast
 * shutdown sessions are terminated at the same time.  An event a session
 * pushes after the final drain (the reads and the failure of the statement
 * the shutdown ends) is lost, counted as the postmaster discards the ring
 * (losses.c), and once the final drain for a shutdown is done a push that
 * finds the ring full drops its event at once (ring.c), counted too,
 * instead of waiting for a sealer that has exited.  A batch's commit waiting for a synchronous
 * standby when SIGTERM comes leaves that wait, as a terminated backend's
 * does (the batch committed locally), with a WARNING; the commits after a
 * SIGTERM do not wait for a standby (synchronous_commit = local), so that
 * a standby that is not connected cannot hold up a shutdown for ever.
 *
 * Absence: when max_worker_processes has no room for the sealer, nothing
 * is sealed; the start says so (WARNING), and so do capture_status(),
 * CREATE EXTENSION and seal(), which fails instead of waiting, as they do
 * when no sealer process has run for BH_SEALER_ABSENT_MS.
 *
 * Hand-off protocol (shared memory, BhSealerShared):
 *	- backends that commit queued events set the sealer's latch (so does
 *	  COMMIT PREPARED of a transaction that queued some; the apply worker
 *	  of a two_phase subscription commits prepared transactions without
 *	  it, and the sealer finds their rows at its next round, at most
 *	  BH_SEALER_NAPTIME_MS later);
 *	- every round resolves the prepared transactions that finished since
 *	  the last one, for the emitted counter (stats.c);
 *	- bh_audit.seal() (seal_wait.c) increments "requests", sets the latch
 *	  and sleeps on a condition variable until "served" reaches its
 *	  request number;
 *	- before each batch the sealer notes "requests"; when a batch finds
 *	  fewer queued events than it may take (the queue seen empty under a
 *	  snapshot taken after that note) and reaches the ring's head (the
 *	  ring seen empty after that note, and still empty once the batch is
 *	  consumed), every request noted is answered: served is
 *	  set to it and waiters are woken;
 *	- a load that never lets the queue or the ring run empty (reads,
 *	  denials caught in a loop by any role, writes) must not hold seal()
 *	  up, so a request is also answered once what was committed or pushed
 *	  before it is sealed: before a batch the sealer notes the waiting
 *	  requests with targets (bh_seal_targets_note), the ring's head then
 *	  and the highest queue id visible to a snapshot taken after that (the
 *	  batch reads it), and after each committed batch it answers them when
 *	  the ring's tail has reached the head noted and a scan of the queue
 *	  from its first row, under a later snapshot, ran out or passed the id
 *	  (bh_seal_targets_check).  Targets stay until reached: requests made
 *	  meanwhile are noted after that, with targets of their own, so that a
 *	  stream of requests cannot keep any of them waiting;
 *	- seal() reports how many events were chained while it waited
 *	  ("sealed_total" before and after).
 *
 * The sealer is a session of its database and gets its settings (ALTER
 * DATABASE/ROLE ... SET, which their owners may do): those that could make
 * it lose a batch (synchronous_commit = off), or stall or stop it
 * (vacuum_cost_delay, lock_timeout, role, ...) are overridden.  Its locks
 * on the queue and the ledger are held until the batch commits.
 *
 * Until the extension exists in bh_audit.database the sealer idles quietly.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xlog.h"
#include "catalog/pg_am.h"
#include "catalog/pg_authid.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/vacuum.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "lib/ilist.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/bgworker_internals.h"
#include "postmaster/interrupt.h"
#include "replication/syncrep.h"
#include "replication/walsender.h"
#include "storage/condition_variable.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/pmsignal.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/pidfile.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "bh_audit.h"
#include "canon.h"
#include "capture.h"
#include "event.h"
#include "ledger_write.h"
#include "recode.h"
#include "ring.h"
#include "sealer_internal.h"

/* field4 of the sealer's chain lock tag (SQL advisory locks use 1 and 2) */
#define BH_CHAIN_LOCK_FIELD4 0xBA01

/* How long the sealer sleeps when nobody wakes it (ms). */
#define BH_SEALER_NAPTIME_MS 500

/* How long the sealer lets events gather after a commit woke it (ms). */
#define BH_SEALER_DELAY_MS 50

/* The longest pause before connecting again after failed connections. */
#define BH_SEALER_MAX_BACKOFF_S 30

/*
 * How long no sealer process may run before its absence is a problem: the
 * postmaster starts one again a second (bgw_restart_time) after it exits.
 */
#define BH_SEALER_ABSENT_MS 5000

/*
 * How long after the sealer exited, with no sealer started since, a process
 * that wants one wakes the postmaster (bh_sealer_wake), at most once in
 * that time: bgw_restart_time and a half.
 */
#define BH_SEALER_RESTART_DUE_MS 1500

/* The postmaster's: was the worker registered (bh_sealer_register)? */
static bool bh_sealer_registered = false;

BhSealerShared *bh_sealer = NULL;

BhBatchState bh_batch;

/*
 * The seal() requests the sealer answers without waiting for the queue and
 * the ring to be seen empty (see "Hand-off protocol"): all those up to
 * "request" (0: none noted), noted before a batch with their targets, the
 * ring's head then and the highest id of bh_audit.queue visible to a
 * snapshot taken after that (read by the next batch: queue_known; 0 when no
 * row was visible).  The targets stay until they are reached, so that
 * requests that keep coming cannot push them ahead for ever: the requests
 * made meanwhile get targets of their own after that.  The sealer's own
 * memory: a new sealer notes the requests still waiting anew.
 */
typedef struct BhSealTargets
{
	uint64		request;		/* the last request they answer, 0: none */
	uint64		ring;			/* the ring's head when it was noted */
	int64		queue;			/* the highest queue id visible after it */
	bool		queue_known;	/* ... has been read */
	bool		ring_reached;	/* the ring's tail reached "ring" */
	bool		queue_reached;	/* no queue row up to "queue" is visible */
} BhSealTargets;

static BhSealTargets bh_targets;

/*
 * A switch of bh_audit.enabled that no session made (the configuration
 * file, read at a reload or as the sealer starts), to be recorded by the
 * next batch; NULL: none.
 */
static const char *bh_sealer_enabled_note = NULL;

/* Set by SIGTERM: finish, drain once more, exit. */
static volatile sig_atomic_t bh_sealer_stop_requested = false;

/*
 * A batch's commit is in progress (bh_seal_one_batch); the SIGTERM handler
 * cut the wait for synchronous replication it may be in (see
 * bh_sealer_sigterm).
 */
static volatile sig_atomic_t bh_sealer_committing = false;
static volatile sig_atomic_t bh_sealer_wait_cut = false;

PGDLLEXPORT void bh_sealer_main(Datum main_arg);

void
bh_sealer_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(BhSealerShared)));
}

void
bh_sealer_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	bh_sealer = ShmemInitStruct("bh_audit sealer", sizeof(BhSealerShared), &found);
	if (!found)
	{
		SpinLockInit(&bh_sealer->mutex);
		bh_sealer->latch = NULL;
		bh_sealer->pid = 0;
		bh_sealer->requests = 0;
		bh_sealer->served = 0;
		bh_sealer->sealed_total = 0;
		bh_sealer->failed_connects = 0;
		bh_sealer->encoding = -1;
		bh_sealer->registered = bh_sealer_registered;
		bh_sealer->worker_pid = 0;
		bh_sealer->ever_started = false;
		bh_sealer->gone_since = bh_monotonic_us();
		bh_sealer->queue_failed.at = 0;
		bh_sealer->queue_failed.to = 0;
		bh_sealer->queue_failed.count = 0;
		bh_sealer->queue_failed.alone = 0;
		bh_sealer->queue_failed.with_other = false;
		bh_sealer->refusals = 0;
		bh_sealer->refusal[0] = '\0';
		bh_sealer->refused_at = 0;
		bh_sealer->poked_at = 0;
		bh_sealer->server_enabled = bh_capture_enabled;
		ConditionVariableInit(&bh_sealer->cv);
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * Register the static worker; the postmaster restarts it if it dies.
 * RegisterBackgroundWorker() says nothing but a LOG of PostgreSQL's own
 * ("too many background workers") when max_worker_processes has no room
 * left for it (0, or taken by libraries loaded before this one): the
 * postmaster's list of workers tells, and the sealer's absence is then
 * said at start (WARNING), by capture_status(), CREATE EXTENSION and
 * seal() (bh_sealer_absence).
 */
void
bh_sealer_register(void)
{
	BackgroundWorker worker;
	slist_iter	iter;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 1;
	strlcpy(worker.bgw_library_name, "bh_audit", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "bh_sealer_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "bh_audit sealer", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "bh_audit sealer", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);

	slist_foreach(iter, &BackgroundWorkerList)
	{
		RegisteredBgWorker *rw = slist_container(RegisteredBgWorker, rw_lnode, iter.cur);

		if (strcmp(rw->rw_worker.bgw_library_name, "bh_audit") == 0 &&
			strcmp(rw->rw_worker.bgw_function_name, "bh_sealer_main") == 0)
			bh_sealer_registered = true;
	}
	if (!bh_sealer_registered && IsPostmasterEnvironment && !IsUnderPostmaster)
		ereport(WARNING,
				(errmsg("the bh_audit sealer could not be registered: no events will be sealed"),
				 errdetail("max_worker_processes (%d) leaves no background worker for it.",
						   max_worker_processes),
				 errhint("Raise max_worker_processes (the libraries of shared_preload_libraries loaded before bh_audit take theirs first) and restart the server.")));
}

/*
 * Why no sealer runs, or NULL while one runs or is expected to: the worker
 * was not registered, or no sealer process has run for BH_SEALER_ABSENT_MS
 * since the last one exited (a sealer restarting after it exited, or
 * connecting, is there).  Never during recovery (the sealer starts when it
 * ends), before the first sealer since the server's start, its promotion
 * or a crash restart has run (the time recovery took is no absence), nor
 * without the preload.  The absence is timed on the monotonic clock: the
 * postmaster times the restart by the wall clock, so a step back of it
 * after the sealer exited keeps any sealer from running for about the size
 * of the step, an absence that must be reported like any other, and
 * stamps on the wall clock would not show it (the time since the exit
 * would be negative).
 */
char *
bh_sealer_absence(void)
{
	bool		registered;
	int			worker_pid;
	bool		ever_started;
	int64		gone_since;
	int64		absent_us;

	if (bh_sealer == NULL || !IsUnderPostmaster || RecoveryInProgress())
		return NULL;
	SpinLockAcquire(&bh_sealer->mutex);
	registered = bh_sealer->registered;
	worker_pid = bh_sealer->worker_pid;
	ever_started = bh_sealer->ever_started;
	gone_since = bh_sealer->gone_since;
	SpinLockRelease(&bh_sealer->mutex);
	if (!registered)
		return pstrdup("the bh_audit sealer could not be registered: max_worker_processes is too small");
	absent_us = bh_monotonic_us() - gone_since;
	if (worker_pid != 0 || !ever_started ||
		absent_us < (int64) BH_SEALER_ABSENT_MS * 1000)
		return NULL;
	return psprintf("none has run for " INT64_FORMAT " s", absent_us / USECS_PER_SEC);
}

PG_FUNCTION_INFO_V1(bh_audit_sealer_absence);

/*
 * bh_audit._sealer_absence(): bh_sealer_absence() for capture_status();
 * NULL while a sealer runs.  Never fails.
 */
Datum
bh_audit_sealer_absence(PG_FUNCTION_ARGS)
{
	char	   *why = bh_sealer_absence();

	if (why == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(why));
}

/*
 * Set the sealer's latch, if it runs.  If none has run for
 * BH_SEALER_RESTART_DUE_MS since the last one exited, wake the postmaster
 * instead, which then starts the one due (a worker's state change, looked
 * at in its signal handler, starts the workers due).  PostgreSQL 15's
 * postmaster sets the timeout of its select() before it unblocks signals:
 * a sealer that exits while the postmaster is busy (forking a backend,
 * say) is reaped in between, and the postmaster sleeps up to a minute, the
 * restart due a second later put off until something else wakes it
 * (t/178).
 */
void
bh_sealer_wake(void)
{
	Latch	   *latch;
	bool		poke = false;

	if (bh_sealer == NULL)
		return;
	SpinLockAcquire(&bh_sealer->mutex);
	latch = bh_sealer->latch;
	SpinLockRelease(&bh_sealer->mutex);
	if (latch == NULL)
	{
		/* no sealer: only then is the clock read, before the spinlock */
		int64		now = bh_monotonic_us();

		SpinLockAcquire(&bh_sealer->mutex);
		latch = bh_sealer->latch;	/* one started meanwhile */
		if (latch == NULL && bh_sealer->worker_pid == 0 &&
			bh_sealer->registered && bh_sealer->ever_started &&
			now - bh_sealer->gone_since >= (int64) BH_SEALER_RESTART_DUE_MS * 1000 &&
			now - bh_sealer->poked_at >= (int64) BH_SEALER_RESTART_DUE_MS * 1000)
		{
			bh_sealer->poked_at = now;
			poke = true;
		}
		SpinLockRelease(&bh_sealer->mutex);
	}
	if (latch)
		SetLatch(latch);
	else if (poke)
		SendPostmasterSignal(PMSIGNAL_BACKGROUND_WORKER_CHANGE);
}

/* PID of the running sealer, 0 if none. */
int
bh_sealer_pid(void)
{
	int			pid;

	if (bh_sealer == NULL)
		return 0;
	SpinLockAcquire(&bh_sealer->mutex);
	pid = bh_sealer->pid;
	SpinLockRelease(&bh_sealer->mutex);
	return pid;
}

/*
 * The encoding of the sealer's database, -1 until a sealer connected to
 * it (the events of the ring are converted to it: recode.c).
 */
int
bh_sealer_encoding(void)
{
	int			encoding;

	if (bh_sealer == NULL)
		return -1;
	SpinLockAcquire(&bh_sealer->mutex);
	encoding = bh_sealer->encoding;
	SpinLockRelease(&bh_sealer->mutex);
	return encoding;
}

/*
 * SIGTERM: do not die in the middle of a batch; the main loop drains the
 * queue and the ring once more and exits.  A batch's commit waiting for a
 * synchronous standby (synchronous_standby_names, with synchronous_commit
 * on, remote_write or remote_apply) would wait for ever if none is
 * connected, the server's shutdown with it: the wait is left as a
 * terminated backend leaves it (SyncRepWaitForLSN() looks at ProcDiePending
 * itself, whatever the interrupt holdoff), the batch committed locally.
 * ProcDiePending is set only during the commit, and cleared right after it
 * (bh_seal_one_batch), under held interrupts: nothing else acts on it.
 */
static void
bh_sealer_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	bh_sealer_stop_requested = true;
	if (bh_sealer_committing && SyncRepRequested() &&
		SyncRepStandbyNames != NULL && SyncRepStandbyNames[0] != '\0')
	{
		bh_sealer_wait_cut = true;
		ProcDiePending = true;
	}
	SetLatch(MyLatch);
	errno = save_errno;
}

/* On exit: no latch to set any more, and no sealer process. */
static void
bh_sealer_detach(int code, Datum arg)
{
	SpinLockAcquire(&bh_sealer->mutex);
	bh_sealer->latch = NULL;
	bh_sealer->pid = 0;
	bh_sealer->worker_pid = 0;
	bh_sealer->gone_since = bh_monotonic_us();
	SpinLockRelease(&bh_sealer->mutex);
}

/*
 * While the queue's rows are taken one per batch (a row failed batches),
 * every other batch takes the ring's events instead, so that reads do not
 * wait for the rows, up to a whole batch's, to be sealed one by one.
 */
static bool bh_isolation_ring_turn = false;

/*
 * The queue's rows that fail batches on a data error (a row the ledger
 * cannot take), counted in shared memory, since a failed batch ends the
 * process: the id of the oldest row the failed batches held, how many
 * failed in a row holding it first, and the last row they held
 * (BhFailures, as for the ring's events).  After BH_ISOLATE_AFTER failures
 * the rows up to that last one are taken one per batch (bh_take_events),
 * so that a bad row is found wherever it was in the batch; a row that
 * fails BH_DISCARD_AFTER times alone is deleted (bh_discard_queued_row).
 * As with the ring, failures of another kind (a lock timeout, a cancel, a
 * full disk) are not counted.
 */

/* The queue's account (*account), and its failed batches in a row. */
static int
bh_queue_failures(BhFailures *account)
{
	SpinLockAcquire(&bh_sealer->mutex);
	*account = bh_sealer->queue_failed;
	SpinLockRelease(&bh_sealer->mutex);
	return account->count;
}

/* The batch in bh_batch, which held queue rows, failed on a data error. */
static void
bh_queue_note_failure(void)
{
	SpinLockAcquire(&bh_sealer->mutex);
	bh_failures_note(&bh_sealer->queue_failed, (uint64) bh_batch.queue_first,
					 (uint64) bh_batch.queue_last, bh_batch.queue_alone,
					 bh_batch.ring_n > 0);
	SpinLockRelease(&bh_sealer->mutex);
}

/*
 * The queue rows up to last are gone: sealed by a batch that committed
 * (PG_INT64_MAX: a batch found none to take alone), or discarded; or
 * PG_INT64_MAX: the rows are not to blame (bh_take_events).
 */
static void
bh_queue_passed(int64 last)
{
	SpinLockAcquire(&bh_sealer->mutex);
	bh_failures_passed(&bh_sealer->queue_failed, (uint64) last);
	SpinLockRelease(&bh_sealer->mutex);
}

/*
 * The row of relid with the highest primary key (a bigint on column, as
 * bh_key_index_open() checks) visible to a snapshot taken now, handed to fn
 * with its slot (fn is not called when no row is): one backward step of the
 * primary key, O(log n).  relid is locked in mode until the transaction
 * ends.  snapshot, when not NULL, is used instead (SnapshotAny: the row of
 * the highest key whatever became of it, as long as its heap tuple is
 * there: queue_ids.c).
 *
 * from, when not 0, is a key the caller expects the last row to have at
 * least: the step then stops at the first entry below it, where a step
 * without a bound reads every entry of the index's last page (hundreds,
 * most of a batch's cost in the head's lookup).  If no row has a key of at
 * least from, the step is taken again without it, so any from gives the
 * same row.
 */
void
bh_last_row(Oid relid, const char *column, LOCKMODE mode, int64 from,
			Snapshot any, void (*fn) (TupleTableSlot *slot, Oid relid, void *arg),
			void *arg)
{
	Relation	rel;
	Relation	index;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	Snapshot	snapshot;
	ScanKeyData key;
	bool		found;

	rel = table_open(relid, mode);

	/*
	 * The scan key and fn take the key as a bigint: a key a superuser changed
	 * (ALTER COLUMN seq TYPE numeric, a key on another column) stops the
	 * sealer here, its events left queued, until it is set back.
	 */
	index = bh_key_index_open(rel, column);
	snapshot = any != NULL ? any : RegisterSnapshot(GetLatestSnapshot());
	slot = table_slot_create(rel, NULL);
	ScanKeyInit(&key, 1, BTGreaterEqualStrategyNumber, F_INT8GE, Int64GetDatum(from));
	scan = index_beginscan(rel, index, snapshot, from != 0 ? 1 : 0, 0);
	index_rescan(scan, from != 0 ? &key : NULL, from != 0 ? 1 : 0, NULL, 0);
	found = index_getnext_slot(scan, BackwardScanDirection, slot);
	if (!found && from != 0)
	{
		index_endscan(scan);
		scan = index_beginscan(rel, index, snapshot, 0, 0);
		index_rescan(scan, NULL, 0, NULL, 0);
		found = index_getnext_slot(scan, BackwardScanDirection, slot);
	}
	if (found)
		fn(slot, relid, arg);
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	if (any == NULL)
		UnregisterSnapshot(snapshot);
	index_close(index, NoLock);
	table_close(rel, NoLock);
}

typedef struct BhHead
{
	int64		seq;
	char	   *prev;
} BhHead;

static void
bh_read_head_row(TupleTableSlot *slot, Oid relid, void *arg)
{
	BhHead	   *head = (BhHead *) arg;
	bool		isnull;
	Datum		hash;

	/* read as the install script declares them (a superuser may alter them) */
	bh_ledger_check(relid, slot->tts_tupleDescriptor);
	head->seq = DatumGetInt64(slot_getattr(slot, get_attnum(relid, "seq"), &isnull));
	hash = slot_getattr(slot, get_attnum(relid, "event_hash"), &isnull);
	if (isnull)
	{
		/*
		 * Made NULL by a superuser with the guard off: read as "", as
		 * verify_chain() reads it, so that the chain goes on from it and
		 * verification reports that row alone.
		 */
		ereport(WARNING,
				(errmsg("the event_hash of the chain's head (seq " INT64_FORMAT ") in bh_audit.events is NULL",
						head->seq),
				 errdetail("The ledger was changed; the sealer continues the chain from an empty hash, as bh_audit.verify_chain() reads it, and verification reports the changed event.")));
		head->prev = pstrdup("");
	}
	else
		head->prev = TextDatumGetCString(hash);
}

/*
 * The stored chain head: one backward step on the primary key of
 * bh_audit.events, O(log n) whatever the planner statistics say (a kept
 * "ORDER BY seq DESC LIMIT 1" plan made while the table was empty scans
 * and sorts the whole ledger for every batch).  relid is bh_audit.events.
 * Returns its seq (0 for an empty chain) and sets *prev to its hash (NULL
 * for an empty chain; "" for a head whose hash was made NULL, with a
 * WARNING).
 */
static int64
bh_read_head(Oid relid, char **prev)
{
	/* the head read last: the next one is at least that (see bh_last_row) */
	static int64 head_seen = 0;
	BhHead		head = {0, NULL};

	bh_last_row(relid, "seq", AccessShareLock, head_seen, NULL, bh_read_head_row,
				&head);
	head_seen = head.seq;
	*prev = head.prev;
	return head.seq;
}

/*
 * Compare the instants of the "timestamp"s of two events, read as the
 * ledger's ts reads them (bh_event_timestamp_read): the builders write
 * microseconds, but a queue restored from before wrote milliseconds, and
 * a superuser's row may carry any offset or precision, so the texts are
 * not compared as bytes.  An event without one it reads (or a value that is
 * no object) compares equal to anything.
 */
static int
bh_event_ts_cmp(Datum a, Datum b)
{
	JsonbValue	va;
	JsonbValue	vb;
	TimestampTz ta;
	TimestampTz tb;

	Jsonb	   *ja = DatumGetJsonbP(a);
	Jsonb	   *jb = DatumGetJsonbP(b);

	/* a queued value that is no object (a superuser's) has no timestamp */
	if (!JsonContainerIsObject(&ja->root) || !JsonContainerIsObject(&jb->root) ||
		getKeyJsonValueFromContainer(&ja->root, "timestamp", 9, &va) == NULL ||
		getKeyJsonValueFromContainer(&jb->root, "timestamp", 9, &vb) == NULL ||
		va.type != jbvString || vb.type != jbvString ||
		!bh_event_timestamp_read(va.val.string.val, va.val.string.len, &ta) ||
		!bh_event_timestamp_read(vb.val.string.val, vb.val.string.len, &tb))
		return 0;
	return (ta < tb) ? -1 : (ta > tb) ? 1 : 0;
}

/*
 * Take the events of one batch, at most batch_size: queued events (deleted
 * from the queue in this transaction) and ring events (only peeked at:
 * bh_seal_pass consumes them after the commit).  While the ring holds
 * events, the queue gets at most half of the batch; after failed batches
 * the ring's events up to the last one they held are taken alone (one per
 * batch, without queue rows), or the queue's rows are (one row per batch,
 * without ring events, every other batch taking the ring's events); when
 * the failed batches held both, the ring's events they held are first
 * taken in one batch without queue rows, to tell which are to blame (the
 * ring's events first when both are).  The two parts are
 * merged by event timestamp (bh_event_ts_cmp: instants, in microseconds),
 * keeping queue order and ring order (a queued event first on the same
 * instant), so that a session's reads, failures
 * and writes are chained in the order they happened unless the sealer
 * falls behind.  Sets bh_batch.ring_n, ring_end, seen_empty and the queue
 * rows' account (queue_first, ...); returns the number taken
 * (a little more than batch_size when the last queue row taken holds
 * more), *events_out gets them as jsonb.
 */
static int64
bh_take_events(int batch_size, Datum **events_out)
{
	int64		cap = batch_size;
	Datum	   *events = palloc(sizeof(Datum) * cap);
	int			queue_limit;
	int			ring_limit;
	int64		nq = 0;
	int			nr;
	int64		qi;
	int			ri;
	int64		out;
	bool		drained;
	bool		full_scan;
	bool		queue_out;
	Datum	   *queued;
	Jsonb	  **ringed;
	int		   *encodings;
	int			encoding = GetDatabaseEncoding();
	uint64		ring_until = PG_UINT64_MAX;
	BhFailures	ring_failed;
	int			ring_failures = bh_ring_failures(&ring_failed);
	BhFailures	queue_failed;
	int			queue_failures = bh_queue_failures(&queue_failed);

	bh_batch.queue_failing = (queue_failures > 0);
	if (ring_failures >= BH_ISOLATE_AFTER && ring_failed.with_other)
	{
		/*
		 * Batches holding ring events and queue rows failed: the ring's
		 * events they held, in one batch of their own, tell which are to
		 * blame.  If it commits, the ring's account ends and the queue's rows
		 * are taken alone; if it fails, the ring's events are, and the
		 * queue's account ends (bh_seal_pass).  Taking both alone would make
		 * every ring event of the failed batches, up to a whole batch's, a
		 * transaction of its own, with no write sealed meanwhile, for one bad
		 * queue row.
		 */
		queue_limit = 0;
		ring_limit = batch_size;
		ring_until = ring_failed.to;
		bh_batch.ring_apart = true;
	}
	else if (ring_failures >= BH_ISOLATE_AFTER)
	{
		queue_limit = 0;
		ring_limit = 1;
		bh_batch.ring_alone = true;
	}
	else if (queue_failures >= BH_ISOLATE_AFTER)
	{
		/* one queue row alone; every other batch, the ring's events */
		bh_isolation_ring_turn = !bh_isolation_ring_turn;
		if (bh_isolation_ring_turn && bh_ring_count() > 0)
		{
			queue_limit = 0;
			ring_limit = batch_size;
		}
		else
		{
			queue_limit = 1;
			ring_limit = 0;
			bh_batch.queue_alone = true;
		}
	}
	else
	{
		uint64		in_ring = bh_ring_count();

		queue_limit = batch_size - (int) Min(in_ring, (uint64) (batch_size / 2));
		ring_limit = batch_size;
	}

	/* a seal() request noted: what was committed before it (see above) */
	if (bh_targets.request != 0 && !bh_targets.queue_known)
	{
		bh_targets.queue = bh_queue_max_id();
		bh_targets.queue_known = true;
	}

	full_scan = (bh_queue_mark == 0);
	if (queue_limit > 0)
		nq = bh_take_queued(queue_limit, bh_batch.queue_alone ? 1 : 0, &events, &cap);

	/*
	 * the queue ran out (not the room the batch had for it, in events or
	 * bytes)
	 */
	queue_out = queue_limit > 0 &&
		(bh_batch.queue_alone ? bh_batch.queue_first == 0 :
		 nq < queue_limit && bh_batch.queue_bytes < BH_BATCH_MAX_BYTES);
	bh_batch.queue_scanned = (queue_limit > 0);
	bh_batch.queue_from_start = full_scan;
	bh_batch.queue_out = queue_out;
	ring_limit = (int) Max(0, Min((int64) ring_limit, batch_size - nq));
	*events_out = events;

	ringed = palloc(sizeof(Jsonb *) * Max(ring_limit, 1));
	encodings = palloc(sizeof(int) * Max(ring_limit, 1));
	nr = bh_ring_peek(ring_limit, ring_until, ringed, encodings,
					  &bh_batch.ring_end, &drained);
	bh_batch.ring_n = nr;
	/* an event captured in a database of another encoding is converted */
	for (ri = 0; ri < nr; ri++)
	{
		if (encodings[ri] != encoding)
			ringed[ri] = bh_recode_jsonb(ringed[ri], encodings[ri], encoding);
	}
	pfree(encodings);
	/* the queue is seen empty only by a scan from its start */
	bh_batch.seen_empty = (queue_out && drained && full_scan);
	if (queue_out && !full_scan)
		bh_queue_mark = 0;		/* end the pass with a full scan */
	if (nr == 0)
	{
		pfree(ringed);
		return nq;
	}

	/* merge: events[] holds the queued ones now */
	if (nq + nr > cap)
	{
		events = repalloc(events, sizeof(Datum) * (nq + nr));
		*events_out = events;
	}
	queued = palloc(sizeof(Datum) * Max(nq, 1));
	memcpy(queued, events, sizeof(Datum) * nq);
	qi = 0;
	ri = 0;
	for (out = 0; out < nq + nr; out++)
	{
		if (ri >= nr || (qi < nq && bh_event_ts_cmp(queued[qi], JsonbPGetDatum(ringed[ri])) <= 0))
			events[out] = queued[qi++];
		else
			events[out] = JsonbPGetDatum(ringed[ri++]);
	}
	pfree(queued);
	pfree(ringed);
	return nq + nr;
}

/*
 * The chain lock of the ledger relid, taken until the transaction ends: the
 * sealer before each batch, and the ledger's guard before it accepts a row
 * that continues the chain (a restore, a replicated row), so that the two
 * never read the same head.
 */
static void
bh_chain_lock_tag(LOCKTAG *tag, Oid relid)
{
	/* an advisory lock tag in a field4 that SQL's advisory locks never use */
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, (uint32) relid, 0, BH_CHAIN_LOCK_FIELD4);
}

void
bh_chain_lock(Oid relid)
{
	LOCKTAG		tag;

	bh_chain_lock_tag(&tag, relid);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/* The chain lock if no other transaction holds it (a prepared one may). */
bool
bh_chain_lock_try(Oid relid)
{
	LOCKTAG		tag;

	bh_chain_lock_tag(&tag, relid);
	return LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL;
}

/* Does this backend's transaction hold the chain lock of the ledger relid? */
bool
bh_chain_lock_held(Oid relid)
{
	LOCKTAG		tag;

	bh_chain_lock_tag(&tag, relid);
	return LockHeldByMe(&tag, ExclusiveLock);
}

/*
 * Does this backend's transaction hold a lock on relid that the sealer's
 * writes (ROW EXCLUSIVE) would wait for: SHARE or stronger?  With
 * row_locks, also ROW SHARE, which SELECT ... FOR UPDATE / FOR SHARE takes
 * with the row locks the sealer's deletes of queue rows wait for.
 */
bool
bh_lock_blocks_sealer(Oid relid, bool row_locks)
{
	LOCKTAG		tag;
	LOCKMODE	mode;

	if (!OidIsValid(relid))
		return false;
	SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
	if (row_locks && LockHeldByMe(&tag, RowShareLock))
		return true;
	for (mode = ShareLock; mode <= AccessExclusiveLock; mode++)
		if (LockHeldByMe(&tag, mode))
			return true;
	return false;
}

/*
 * event without a top-level "integrity" of its own.  An event's integrity
 * is the chain's (hash_alg, prev_event_hash, event_hash, which the export
 * puts there), and its hash leaves that member out: one that a queue row
 * brings (only a superuser's or the owner's INSERT into bh_audit.queue, a
 * restore, can: emit() and capture make none) is nothing of the event, so
 * it is not stored, where it would stand in the ledger as a forged one,
 * nor can a value in it without a canonical form keep the event from
 * being sealed.
 */
static Datum
bh_event_without_integrity(Datum event)
{
	Jsonb	   *jb = DatumGetJsonbP(event);
	JsonbValue	v;

	if (!JB_ROOT_IS_OBJECT(jb) ||
		getKeyJsonValueFromContainer(&jb->root, "integrity", 9, &v) == NULL)
		return event;
	return DirectFunctionCall2(jsonb_delete, JsonbPGetDatum(jb),
							   CStringGetTextDatum("integrity"));
}

/*
 * Does a batch write the ledger even with nothing in the ring or the
 * queue: the note of capture switched on, the home check, a loss to record?
 */
static bool
bh_seal_other_writes(void)
{
	return bh_sealer_enabled_note != NULL || bh_home_check_due() ||
		bh_losses_pending();
}

/*
 * The locks of a batch that writes, in tags[]/modes[]: the chain lock, the
 * queue's, the ledger's, and the ledger home's where the home check is due
 * (home.c writes it in the batch).  Returns how many.
 */
static int
bh_seal_lock_set(LOCKTAG *tags, LOCKMODE *modes, Oid events_relid, Oid queue_relid)
{
	Oid			home_relid;
	int			n = 3;

	bh_chain_lock_tag(&tags[0], events_relid);
	modes[0] = ExclusiveLock;
	SET_LOCKTAG_RELATION(tags[1], MyDatabaseId, queue_relid);
	modes[1] = RowExclusiveLock;
	SET_LOCKTAG_RELATION(tags[2], MyDatabaseId, events_relid);
	modes[2] = RowExclusiveLock;
	if (bh_home_check_due() && OidIsValid(home_relid = bh_home_relid()))
	{
		SET_LOCKTAG_RELATION(tags[3], MyDatabaseId, home_relid);
		modes[3] = RowExclusiveLock;
		n = 4;
	}
	return n;
}

/*
 * The locks of a batch, taken together (bh_lock_together()): the batch
 * never waits for one of them while it holds another.  A transaction may
 * hold any of them and go on to need another: an INSERT into the ledger
 * holds its ROW EXCLUSIVE lock and then the chain lock (the ledger's guard,
 * guard.c); a superuser may lock the queue and then the ledger, or append
 * a row and then lock the ledger (SHARE ROW EXCLUSIVE, to keep its head).
 * A batch waiting for one of them while it held another would then wait
 * for a transaction that waits for it: a deadlock, one of the two failing.
 * The chain lock is the sealer's own, not a lock mode on the ledger: every
 * table lock mode that keeps out a second sealer also waits for a VACUUM
 * of the ledger -- an anti-wraparound one cannot be cancelled and may run
 * for hours, with the ring filling meanwhile -- and has autovacuum's
 * cancelled whenever a batch comes.
 *
 * The ledger's ROW EXCLUSIVE lock, which its writes need (and the ledger
 * home's, where the home check is due: home.c), is taken only for a batch
 * that may write: one with something in the ring or the queue,
 * or a note, a loss or a home check to record.  An idle batch (seal() with
 * nothing to seal, the sealer's pass after a wake-up with nothing new)
 * takes the chain lock and the queue's only, so that a transaction holding
 * a SHARE lock on the ledger holds it up no more than before.  Returns
 * whether the ledger's lock is held; if not, and the take finds events
 * after all, bh_seal_batch() takes it then.
 *
 * A transaction holding a SHARE lock on the ledger for long stops sealing
 * meanwhile, as it always did (the ring fills: ring.c); the batch waits
 * for its lock in a lock wait, not polling.
 */
static bool
bh_seal_lock(Oid events_relid)
{
	Oid			queue_relid = bh_queue_relid();
	LOCKTAG		tags[4];
	LOCKMODE	modes[4];
	int			n;
	bool		idle;

	if (!OidIsValid(queue_relid))
		elog(ERROR, "bh_audit.queue does not exist");
	n = bh_seal_lock_set(tags, modes, events_relid, queue_relid);
	idle = bh_ring_count() == 0 && !bh_seal_other_writes();
	bh_lock_together(tags, modes, idle ? 2 : n, 0);
	if (!idle)
		return true;

	/*
	 * Looked at again after the wait: the queue, under its lock now (a commit
	 * that queued events), the ring, and a loss counted or a note left
	 * meanwhile, any of which the batch writes to the ledger.
	 */
	if (bh_ring_count() == 0 && bh_queue_max_id() == 0 && !bh_seal_other_writes())
		return false;

	/*
	 * Let go of both (the queue's taken again by the look) and take the whole
	 * set together, the ledger's (and the home's) among them.
	 */
	while (LockHeldByMe(&tags[1], modes[1]) &&
		   LockRelease(&tags[1], modes[1], false))
		;
	LockRelease(&tags[0], modes[0], false);
	n = bh_seal_lock_set(tags, modes, events_relid, queue_relid);
	bh_lock_together(tags, modes, n, 0);
	return true;
}

/*
 * Seal one batch inside the current transaction.  Returns the number of
 * events sealed.
 */
static int64
bh_seal_batch(int batch_size)
{
	Oid			events_relid;
	int64		n;
	int64		i;
	int64		head_seq = 0;
	char	   *prev = NULL;
	BhHashAlg	alg = (BhHashAlg) bh_hash_algorithm;
	const char *alg_name = bh_hash_alg_name(alg);
	Datum	   *events;
	Jsonb	   *loss;
	bool		ledger_had_events = false;
	bool		ledger_locked;
	MemoryContext rowcxt;
	MemoryContext oldcxt;
	StringInfoData canonical;
	BhLedgerWriter *writer;

	events_relid = bh_events_relid();
	if (!OidIsValid(events_relid))
		elog(ERROR, "bh_audit.events does not exist");

	/*
	 * One sealer at a time, whoever else might try: no fork of the chain (and
	 * the primary key on seq refuses a second row at a seq). bh_seal_lock()
	 * takes the chain lock, the queue's lock and, for a batch that may write
	 * the ledger, the ledger's, all held until the batch's transaction ends.
	 */
	ledger_locked = bh_seal_lock(events_relid);

	n = bh_take_events(batch_size, &events);
	if (bh_sealer_enabled_note != NULL)
	{
		events = repalloc(events, sizeof(Datum) * (n + 1));
		events[n++] = JsonbPGetDatum(bh_enabled_event(bh_sealer_enabled_note,
													  bh_capture_enabled ? "on" : "off"));
		bh_batch.noted = true;
	}

	/*
	 * Events lost since the last batch that said so (losses.c); after a start
	 * that found no account of them, whether the ledger held events sealed in
	 * this cluster before this batch (if not, the start was the cluster's
	 * first, or the ledger came by a dump or pg_upgrade from another cluster,
	 * whose continuation home.c records).
	 */
	if (bh_losses_ledger_asked())
	{
		char	   *head_hash;

		ledger_had_events = bh_read_head(events_relid, &head_hash) > 0 &&
			bh_home_in_this_cluster();
	}
	loss = bh_losses_event(&bh_batch.loss, ledger_had_events);
	if (loss != NULL)
	{
		/*
		 * First: after a recovery that ended the previous timeline, the
		 * events of this batch (queued before the recovery's end, sealed on
		 * the new timeline) come after the event that marks where the chain
		 * departs from it.
		 */
		events = repalloc(events, sizeof(Datum) * (n + 1));
		memmove(&events[1], &events[0], sizeof(Datum) * n);
		events[0] = JsonbPGetDatum(loss);
		n++;
	}

	/*
	 * Once per connection (and after a restore touched the home): a ledger
	 * last sealed by another database or cluster, a copy, says first where it
	 * continued (home.c).
	 */
	if (bh_home_check_due())
	{
		Jsonb	   *continued;

		head_seq = bh_read_head(events_relid, &prev);
		continued = bh_home_check(head_seq, n > 0, &bh_batch.home_gen);
		bh_batch.home_checked = true;
		if (continued != NULL)
		{
			events = repalloc(events, sizeof(Datum) * (n + 1));
			memmove(&events[1], &events[0], sizeof(Datum) * n);
			events[0] = JsonbPGetDatum(continued);
			n++;
		}
	}
	if (n == 0)
		return 0;

	/*
	 * An event came between bh_seal_lock()'s second look (after its locks)
	 * and the take (a commit that queued one, a push into the ring): the
	 * ledger's lock, free at once nearly always.  Only here does a batch wait
	 * for a lock while it holds others (the chain lock, the queue's): a
	 * transaction holding a lock on the ledger that keeps out its writes and
	 * then waiting for one of those would deadlock with it in this short
	 * window (between two looks of this backend, not across a lock wait).
	 */
	if (!ledger_locked)
		LockRelationOid(events_relid, RowExclusiveLock);
	/* make the deletions visible to what follows */
	CommandCounterIncrement();

	/* The head as committed: the lock above is held, the snapshot is new. */
	head_seq = bh_read_head(events_relid, &prev);

	writer = bh_ledger_open(events_relid);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "bh_audit seal row",
								   ALLOCSET_DEFAULT_SIZES);
	initStringInfo(&canonical);
	for (i = 0; i < n; i++)
	{
		char		hex[BH_MAX_HEX_LEN];
		bool		renderable;
		int			sqlerrcode = 0;

		events[i] = bh_event_without_integrity(events[i]);
		oldcxt = MemoryContextSwitchTo(rowcxt);
		resetStringInfo(&canonical);
		renderable = canon_render_jsonb_try(&canonical, DatumGetJsonbP(events[i]), true,
											&sqlerrcode);
		MemoryContextSwitchTo(oldcxt);

		/*
		 * A character of the database encoding without a UTF-8 equivalent
		 * (EUC_JP 0xA9A1, WIN1258 0x81), which PostgreSQL accepts in text,
		 * has no canonical form, and any role can put one in its events (its
		 * bh_audit.actor_id, a row's id, emit()'s arguments): the event is
		 * sealed with each such character as '?', as an event from a database
		 * of another encoding is (recode.c), the ledger holding what its hash
		 * covers.
		 */
		if (!renderable && (sqlerrcode == ERRCODE_UNTRANSLATABLE_CHARACTER ||
							sqlerrcode == ERRCODE_CHARACTER_NOT_IN_REPERTOIRE))
		{
			events[i] = JsonbPGetDatum(bh_recode_jsonb(DatumGetJsonbP(events[i]),
													   GetDatabaseEncoding(),
													   GetDatabaseEncoding()));
			oldcxt = MemoryContextSwitchTo(rowcxt);
			renderable = canon_render_jsonb_try(&canonical, DatumGetJsonbP(events[i]), true,
												NULL);
			MemoryContextSwitchTo(oldcxt);
		}

		/*
		 * An event with a number that has no canonical form cannot be hashed
		 * (emit() refuses one; a queue row restored from elsewhere may hold
		 * one): discarded, counted as dropped once the batch commits, so that
		 * it cannot stop the sealer.
		 */
		if (!renderable)
		{
			bh_batch.discarded++;
			MemoryContextReset(rowcxt);
			continue;
		}
		bh_chain_hash(alg, prev, canonical.data, canonical.len, hex);
		MemoryContextReset(rowcxt);

		/* (an event whose event_id or timestamp does not parse: the same) */
		if (!bh_ledger_append(writer, head_seq + 1 + (i - bh_batch.discarded), events[i],
							  alg_name, prev, hex))
		{
			bh_batch.discarded++;
			continue;
		}
		prev = pstrdup(hex);
	}
	bh_ledger_close(writer);

	MemoryContextDelete(rowcxt);
	return n - bh_batch.discarded;
}

/* Is this SQLSTATE an error of the data (not of the server's state)? */
static bool
bh_sealer_data_error(int sqlerrcode)
{
	int			category = ERRCODE_TO_CATEGORY(sqlerrcode);

	return category == ERRCODE_DATA_EXCEPTION ||
		category == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION ||
		category == ERRCODE_PROGRAM_LIMIT_EXCEEDED;
}

/*
 * One batch in its own transaction; fills bh_batch.  Ring events it took
 * are consumed right after the commit, with interrupts held in between so
 * that nothing can stop the sealer after the commit and before the
 * consume (which would seal them twice).
 */
static void
bh_seal_one_batch(int batch)
{
	bool		more = false;
	bool		wait_cut = false;
	CommandDest dest;
	static MemoryContext batch_cxt = NULL;

	memset(&bh_batch, 0, sizeof(bh_batch));

	/*
	 * The batch's events and rows live in a context whose first block is kept
	 * from batch to batch: freeing megabytes to the C library after every
	 * batch and touching fresh pages for the next one showed up as page
	 * faults in a tenth of the sealer's profile.
	 */
	if (batch_cxt == NULL)
		batch_cxt = AllocSetContextCreate(TopMemoryContext, "bh_audit sealer batch",
										  4 * 1024 * 1024, 4 * 1024 * 1024,
										  ALLOCSET_DEFAULT_MAXSIZE);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();

	/*
	 * The batch is on disk before it is visible and before the ring events
	 * and the losses it took are let go of: under synchronous_commit = off
	 * (the server's, or a database's or a role's, which their owners may set)
	 * its commit would reach the disk up to three wal_writer_delay later, and
	 * a crash in between would lose its ring events without a trace and give
	 * their seq to the next events, after an export may have read them.  So
	 * the batch's commit flushes locally at least (SET LOCAL
	 * synchronous_commit = local); a stronger setting, waiting for a standby,
	 * is the DBA's and stays.
	 */
	if (synchronous_commit < SYNCHRONOUS_COMMIT_LOCAL_FLUSH)
		(void) set_config_option("synchronous_commit", "local", PGC_SUSET,
								 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
	PushActiveSnapshot(GetTransactionSnapshot());
	bh_batch.installed = bh_extension_exists();
	if (bh_batch.installed)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(batch_cxt);

		pgstat_report_activity(STATE_RUNNING, "sealing queued events");
		bh_batch.n = bh_seal_batch(batch);
		MemoryContextSwitchTo(oldcxt);
	}
	PopActiveSnapshot();

	/*
	 * Asked to stop: the commit no longer waits for a synchronous standby
	 * (the wait it is in when SIGTERM comes is left: bh_sealer_sigterm).
	 */
	HOLD_INTERRUPTS();
	bh_sealer_committing = true;
	if (bh_sealer_stop_requested && synchronous_commit > SYNCHRONOUS_COMMIT_LOCAL_FLUSH)
		(void) set_config_option("synchronous_commit", "local", PGC_SUSET,
								 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
	dest = whereToSendOutput;
	CommitTransactionCommand();
	bh_sealer_committing = false;
	if (bh_sealer_wait_cut)
	{
		ProcDiePending = false;
		whereToSendOutput = dest;
		bh_sealer_wait_cut = false;
		wait_cut = true;
	}
	if (bh_batch.noted)
		bh_sealer_enabled_note = NULL;
	if (bh_batch.home_checked)
		bh_home_checked(bh_batch.home_gen);
	bh_losses_recorded(&bh_batch.loss);
	if (!bh_batch.installed)
		bh_losses_no_ledger();
	if (bh_batch.ring_n > 0)
		more = bh_ring_consume(bh_batch.ring_end, bh_batch.ring_n);
	if (bh_batch.queue_failing && (bh_batch.queue_first > 0 || bh_batch.queue_alone))
		bh_queue_passed(bh_batch.queue_first > 0 ? bh_batch.queue_last : PG_INT64_MAX);
	if (bh_batch.discarded > 0)
		bh_stats_add_dropped((uint64) bh_batch.discarded);
	RESUME_INTERRUPTS();
	if (wait_cut)
		ereport(WARNING,
				(errmsg("bh_audit sealer stops waiting for synchronous replication of its batch"),
				 errdetail("It was asked to stop (SIGTERM): the batch is committed locally but might not have been replicated to the standby; the queue and the ring are drained without waiting for a standby.")));
	if (bh_batch.discarded > 0)
		ereport(WARNING,
				(errmsg_plural("bh_audit sealer discarded %lld event it could not seal",
							   "bh_audit sealer discarded %lld events it could not seal",
							   (unsigned long) bh_batch.discarded,
							   (long long) bh_batch.discarded),
				 errdetail("A number without a canonical form, or an event_id or timestamp that does not parse; they are counted in events_dropped_total.")));
	MemoryContextReset(batch_cxt);

	/*
	 * A background worker reports its table activity itself: without this
	 * autovacuum never sees the ledger's inserts (it never analyzes it) nor
	 * the queue's deletions (it never counts their dead rows).
	 */
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);

	/* events pushed after the ring was seen empty, before the consume */
	if (more)
		bh_batch.seen_empty = false;
}

/*
 * The queue's rows live for milliseconds, but the space of deleted rows is
 * found again only after a VACUUM, and autovacuum visits a database about
 * once a minute: in between, every committing writer extended the queue
 * (under a TPC-B-like load by hundreds of megabytes a minute, one new page
 * for every few transactions).  So the sealer vacuums the queue itself
 * each time it has deleted BH_QUEUE_VACUUM_ROWS rows since the last time:
 * the rows no snapshot can see any more are removed and their pages are
 * entered in the free space map, where the writers find them.  Without
 * truncating the file (that needs an exclusive lock, behind the writers'
 * locks).
 *
 * The sealer never waits for the queue's lock: while another vacuum
 * (autovacuum, or anyone's VACUUM) holds it, the sealer's vacuum is not
 * run, and the rows deleted are still counted, so that it is tried again
 * after the next batch, and runs as soon as the lock is free.  Counting
 * anew instead (the vacuum done) left the space of a bulk load's rows
 * unused: autovacuum's run over a large queue covers only the pages the
 * file had when it started, and counts no dead rows after it, so it did
 * not come back for the rest, while every further load extended the file
 * again (five gigabytes of empty queue after four loads).  Autovacuum's
 * own runs over the queue are not throttled (autovacuum_vacuum_cost_delay
 * = 0 on the queue, in the install script), so they hold it for as short
 * a time as the sealer's would.
 */
#define BH_QUEUE_VACUUM_ROWS 1024

static int64 bh_queue_deleted = 0;	/* rows deleted since the last vacuum */

/*
 * Vacuum the queue, unless another session holds its lock (SHARE UPDATE
 * EXCLUSIVE, a vacuum's).  The sealer takes that lock first, without
 * waiting, for its session: vacuum() commits the transaction it is called
 * in and takes the lock again in its own, which a session lock already
 * held grants at once, so that no other vacuum can come in between and
 * have the sealer's skipped unnoticed.  An error in the vacuum ends the
 * process, which releases the session lock.  Returns whether it vacuumed
 * (or the extension is not installed: nothing to retry); a retry costs a
 * transaction and a lock attempt.
 */
static bool
bh_vacuum_queue(void)
{
	VacuumParams params;
	MemoryContext cxt;
	MemoryContext old;
	MemoryContext saved_portal = PortalContext;
	Oid			relid;
	LOCKTAG		tag;
	LOCALLOCK  *locallock;
	bool		locked = false;

	memset(&params, 0, sizeof(params));
	params.options = VACOPT_VACUUM | VACOPT_SKIP_LOCKED | VACOPT_PROCESS_TOAST;
	params.freeze_min_age = -1;
	params.freeze_table_age = -1;
	params.multixact_freeze_min_age = -1;
	params.multixact_freeze_table_age = -1;
	params.is_wraparound = false;
	params.log_min_duration = -1;
	params.index_cleanup = VACOPTVALUE_AUTO;
	params.truncate = VACOPTVALUE_DISABLED;
	params.nworkers = -1;		/* no parallel workers */

	/*
	 * vacuum() commits the transaction it is called in and runs its own,
	 * keeping what must outlive them in a child of PortalContext (NULL in a
	 * background worker): the relation list lives in that context too.
	 */
	cxt = AllocSetContextCreate(TopMemoryContext, "bh_audit queue vacuum",
								ALLOCSET_SMALL_SIZES);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	relid = bh_queue_relid();
	if (OidIsValid(relid))
	{
		SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
		locked = LockAcquireExtended(&tag, ShareUpdateExclusiveLock,
									 true, true, true, &locallock)
			!= LOCKACQUIRE_NOT_AVAIL;
	}
	if (locked)
	{
		List	   *rels;

		pgstat_report_activity(STATE_RUNNING, "vacuuming bh_audit.queue");
		old = MemoryContextSwitchTo(cxt);
		rels = list_make1(makeVacuumRelation(NULL, relid, NIL));
		MemoryContextSwitchTo(old);
		PortalContext = cxt;
		vacuum(rels, &params, NULL, true);
		PortalContext = saved_portal;
	}
	CommitTransactionCommand();
	if (locked)
		LockRelease(&tag, ShareUpdateExclusiveLock, true);
	MemoryContextDelete(cxt);
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	return locked || !OidIsValid(relid);
}

/*
 * Delete the queue row id, which failed batches even alone (failures in a
 * row), in a transaction of its own, and count its events as dropped: the
 * next batch records them (losses.c).  The row is taken as a batch takes
 * it (bh_take_queued), and not sealed.
 */
static void
bh_discard_queued_row(int64 id, int failures)
{
	int64		n = 0;
	int64		cap = 1;
	bool		found = false;

	memset(&bh_batch, 0, sizeof(bh_batch));
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (bh_extension_exists())
	{
		Datum	   *events = palloc(sizeof(Datum) * cap);

		bh_queue_mark = id - 1;
		n = bh_take_queued(1, 1, &events, &cap);
		bh_queue_mark = 0;
		found = (bh_batch.queue_first == id);
	}
	PopActiveSnapshot();

	/*
	 * (gone already, or another row came first: nothing to delete).  Counted
	 * before the deletion commits: a crash in between counts the events and
	 * leaves the row to be discarded again, counted twice, never not at all.
	 */
	if (found)
	{
		bh_stats_add_dropped((uint64) n);
		CommitTransactionCommand();
	}
	else
		AbortCurrentTransaction();
	bh_queue_passed(id);
	if (!found)
		return;
	pgstat_report_stat(false);
	ereport(WARNING,
			(errmsg_plural("bh_audit sealer discarded a queued row of %lld event that it could not seal",
						   "bh_audit sealer discarded a queued row of %lld events that it could not seal",
						   (unsigned long) n, (long long) n),
			 errdetail("%d batches holding it failed on a data error; its events are counted in events_dropped_total.",
					   failures)));
}

/*
 * Before a batch: note the seal() requests waiting (request, of which
 * served are answered) with their targets, unless targets noted earlier are
 * still to be reached.  The ring's head is read after the request number,
 * so that it covers every event pushed before the request was made; the
 * queue's target is read by the batch (bh_take_events), under a snapshot
 * taken after this.
 */
static void
bh_seal_targets_note(uint64 request, uint64 served)
{
	uint64		tail;

	if (bh_targets.request != 0 && served >= bh_targets.request)
		memset(&bh_targets, 0, sizeof(bh_targets)); /* answered meanwhile */
	if (bh_targets.request != 0 || request <= served)
		return;
	bh_targets.request = request;
	bh_ring_positions(&tail, &bh_targets.ring);
}

/*
 * After a committed batch: have the noted requests' targets been reached?
 * The ring's, once its tail has passed the head noted (every event pushed
 * before the requests is consumed, sealed or discarded); the queue's, once
 * a batch that scanned the queue from its first row, under a snapshot taken
 * after the note, ran out of rows or took the target's (it took and deleted
 * every row it saw up to the last it took, in id order, so no row committed
 * before the note with an id up to the target is left).  A scan from the
 * mark that got there does not prove it (a row below the mark may have
 * committed late): the next batch then scans from the start.  Rows of
 * transactions still in progress at the note are not waited for, unless
 * they commit before the batch that scans past their ids.  When both are
 * reached the requests are answered (served, and the waiters woken).
 */
static void
bh_seal_targets_check(void)
{
	uint64		tail;
	uint64		head;

	if (bh_targets.request == 0)
		return;
	bh_ring_positions(&tail, &head);
	if (tail >= bh_targets.ring)
		bh_targets.ring_reached = true;
	if (bh_targets.queue_known && !bh_targets.queue_reached)
	{
		if (bh_targets.queue == 0)
			bh_targets.queue_reached = true;
		else if (bh_batch.queue_scanned &&
				 (bh_batch.queue_out || bh_batch.queue_last >= bh_targets.queue))
		{
			if (bh_batch.queue_from_start)
				bh_targets.queue_reached = true;
			else
				bh_queue_mark = 0;
		}
	}
	if (!bh_targets.ring_reached || !bh_targets.queue_reached)
		return;

	SpinLockAcquire(&bh_sealer->mutex);
	if (bh_targets.request > bh_sealer->served)
		bh_sealer->served = bh_targets.request;
	SpinLockRelease(&bh_sealer->mutex);
	ConditionVariableBroadcast(&bh_sealer->cv);
	memset(&bh_targets, 0, sizeof(bh_targets));
}

/*
 * Seal until the queue and the ring are empty, one transaction per batch,
 * answering seal() requests on the way as their targets are reached.
 * Returns false when the extension is not installed; otherwise *answered
 * is the request number noted before the batch that found both empty.
 */
static bool
bh_seal_pass(uint64 *answered)
{
	bh_queue_mark = 0;
	for (;;)
	{
		int			batch = bh_seal_batch_size;
		BhFailures	failed;
		uint64		request;
		uint64		served;

		SpinLockAcquire(&bh_sealer->mutex);
		request = bh_sealer->requests;
		served = bh_sealer->served;
		SpinLockRelease(&bh_sealer->mutex);
		bh_seal_targets_note(request, served);

		/*
		 * A ring event, or a queue row, that failed batches even alone cannot
		 * be sealed.
		 */
		if (bh_ring_failures(&failed) > 0 && failed.alone >= BH_DISCARD_AFTER &&
			bh_ring_discard_tail())
			ereport(WARNING,
					(errmsg("bh_audit sealer discarded an event of the ring that it could not seal"),
					 errdetail("%d batches holding it failed on a data error; it is counted in events_dropped_total.",
							   failed.count)));
		if (bh_queue_failures(&failed) > 0 && failed.alone >= BH_DISCARD_AFTER)
			bh_discard_queued_row((int64) failed.at, failed.count);

		/*
		 * A failed batch ends the process (the worker's error handler logs
		 * the error and exits with status 1) and leaves its ring events in
		 * the ring and its queue rows in the queue; note whether it failed on
		 * their data, for the next sealer.  A batch of the ring's events
		 * taken apart (bh_take_events) failing too: the queue's rows are not
		 * to blame.
		 */
		PG_TRY();
		{
			bh_seal_one_batch(batch);
		}
		PG_CATCH();
		{
			/*
			 * A ledger a superuser changed (ledger_write.c): said to the
			 * seal() calls waiting, which would otherwise wait for good.
			 */
			if (geterrcode() == ERRCODE_INVALID_TABLE_DEFINITION)
			{
				MemoryContext cxt = MemoryContextSwitchTo(TopMemoryContext);
				ErrorData  *edata = CopyErrorData();

				MemoryContextSwitchTo(cxt);
				SpinLockAcquire(&bh_sealer->mutex);
				bh_sealer->refusals++;
				strlcpy(bh_sealer->refusal, edata->message, sizeof(bh_sealer->refusal));
				bh_sealer->refused_at = bh_sealer->sealed_total;
				SpinLockRelease(&bh_sealer->mutex);
				FreeErrorData(edata);
				ConditionVariableBroadcast(&bh_sealer->cv);
			}
			if (bh_sealer_data_error(geterrcode()))
			{
				if (bh_batch.ring_n > 0)
					bh_ring_note_failure(bh_batch.ring_end, bh_batch.ring_alone,
										 bh_batch.queue_first > 0);
				if (bh_batch.queue_first > 0)
					bh_queue_note_failure();
				if (bh_batch.ring_apart && bh_batch.ring_n > 0)
					bh_queue_passed(PG_INT64_MAX);
			}
			PG_RE_THROW();
		}
		PG_END_TRY();

		if (!bh_batch.installed)
			return false;
		bh_queue_deleted += bh_batch.queue_rows;
		if (bh_queue_deleted >= BH_QUEUE_VACUUM_ROWS && !bh_sealer_stop_requested)
		{
			/*
			 * while another vacuum holds the queue: again after the next
			 * batch
			 */
			if (bh_vacuum_queue())
				bh_queue_deleted = 0;
		}
		if (bh_batch.n > 0)
		{
			SpinLockAcquire(&bh_sealer->mutex);
			bh_sealer->sealed_total += bh_batch.n;
			SpinLockRelease(&bh_sealer->mutex);
			bh_stats_add_sealed((uint64) bh_batch.n, GetCurrentTimestamp());
		}
		if (bh_batch.seen_empty)
		{
			*answered = request;
			return true;
		}
		bh_seal_targets_check();
		if (bh_batch.n == 0)
		{
			/* the oldest ring event is still being copied: give it a moment */
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 1, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Is the server shutting down?  The postmaster says so in its lock file,
 * postmaster.pid (PM_STATUS_STOPPING), before it asks any process to stop
 * in a smart or fast shutdown; after pg_terminate_backend() it says
 * "ready", and restarts the sealer.  A file that cannot be read says no.
 */
static bool
bh_server_stopping(void)
{
	FILE	   *f = AllocateFile("postmaster.pid", "r");
	char		line[MAXPGPATH * 2];
	int			lineno = 0;
	bool		stopping = false;

	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL)
	{
		if (++lineno == LOCK_FILE_LINE_PM_STATUS)
		{
			stopping = (strncmp(line, PM_STATUS_STOPPING, strlen(PM_STATUS_STOPPING)) == 0);
			break;
		}
	}
	FreeFile(f);
	return stopping;
}

/*
 * Connect to bh_audit.database.  A database that does not exist (yet) ends
 * every attempt with a FATAL and a restart after bgw_restart_time; after
 * failed attempts the next one waits 2, 4, ... up to 30 seconds, so that
 * the log gets a line every half minute instead of every second.
 */
static void
bh_sealer_connect(void)
{
	int			failed;

	SpinLockAcquire(&bh_sealer->mutex);
	failed = bh_sealer->failed_connects++;	/* reset once connected */
	SpinLockRelease(&bh_sealer->mutex);
	if (failed > 0)
	{
		int			delay_s = Min(BH_SEALER_MAX_BACKOFF_S, 1 << Min(failed, 5));
		int64		until;
		long		left_ms;

		ereport(LOG,
				(errmsg_plural("bh_audit sealer connects to database \"%s\" in %d s (after %d failed attempt)",
							   "bh_audit sealer connects to database \"%s\" in %d s (after %d failed attempts)",
							   failed, bh_database, delay_s, failed)));
		/* a pause, not an instant: a step of the wall clock leaves it be */
		until = bh_monotonic_us() + (int64) delay_s * USECS_PER_SEC;
		while ((left_ms = (long) ((until - bh_monotonic_us() + 999) / 1000)) > 0)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 left_ms, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			if (bh_sealer_stop_requested)
				proc_exit(1);	/* still registered: see the main loop */
		}
	}
	BackgroundWorkerInitializeConnection(bh_database, NULL, 0);
}

/*
 * Worker entry point.
 */
void
bh_sealer_main(Datum main_arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, bh_sealer_sigterm);
	BackgroundWorkerUnblockSignals();

	bh_is_sealer = true;		/* its own work is never captured */

	/* a sealer runs (bh_sealer_absence), connected or not */
	SpinLockAcquire(&bh_sealer->mutex);
	bh_sealer->worker_pid = MyProcPid;
	bh_sealer->ever_started = true;
	SpinLockRelease(&bh_sealer->mutex);
	on_shmem_exit(bh_sealer_detach, (Datum) 0);

	bh_sealer_connect();

	SpinLockAcquire(&bh_sealer->mutex);
	bh_sealer->latch = MyLatch;
	bh_sealer->pid = MyProcPid;
	bh_sealer->failed_connects = 0;
	bh_sealer->encoding = GetDatabaseEncoding();
	SpinLockRelease(&bh_sealer->mutex);

	/*
	 * The sealer's settings, whatever a database's or a role's settings
	 * (ALTER DATABASE ... SET, which its owner may do) say.  The events it
	 * records itself (switches of bh_audit.enabled in the configuration file,
	 * losses) are the server's, not a login's: no end-user context. Nor may
	 * such settings stall or stop the sealer, whose progress every session
	 * waiting for room in the ring depends on: - vacuum_cost_delay: its
	 * vacuum of the queue (bh_vacuum_queue) would sleep between pages,
	 * sealing nothing meanwhile (100ms and a cost limit of 1 made it half a
	 * minute on a queue of 89 pages); - lock_timeout: a batch waiting for a
	 * lock on the queue or the ledger (behind a CLUSTER, a LOCK TABLE) would
	 * fail, and the sealer exit and restart, again and again while the lock
	 * is held; - session_authorization, role: the sealer would act as that
	 * role, whose VACUUM of the queue (not its table) is skipped (the session
	 * is the bootstrap superuser's again, looked up in a transaction); -
	 * default_transaction_isolation: a serializable batch takes predicate
	 * locks and can fail on a serialization conflict with the sessions
	 * reading the ledger; - default_transaction_read_only: a batch writes; -
	 * statement_timeout, idle_in_transaction_session_timeout: not armed in a
	 * background worker (the client protocol loop arms them), and would
	 * cancel a batch if they were; - exit_on_error: the data exception of an
	 * event that cannot be sealed, which a batch catches to discard that
	 * event, would end the sealer instead, and its successor would take the
	 * same event again; - search_path: the sealer, a superuser, evaluates the
	 * defaults of the columns a superuser added to the ledger
	 * (ledger_write.c) and their functions' unqualified names would reach a
	 * function of the database owner's ahead of pg_catalog: the extension's
	 * path, as for its own SQL (bh_sql_path_begin). synchronous_commit is
	 * seen to in each batch (bh_seal_one_batch).
	 */
	{
		static const char *const settings[][2] = {
			{"bh_audit.actor_id", BH_SERVER_ACTOR},
			{"bh_audit.actor_type", "service"},
			{"bh_audit.actor_roles", ""},
			{"bh_audit.actor_org_id", ""},
			{"bh_audit.owner_org_id", ""},
			{"bh_audit.request_id", ""},
			{"bh_audit.trace_id", ""},
			{"bh_audit.session_id", ""},
			{"vacuum_cost_delay", "0"},
			{"lock_timeout", "0"},
			{"role", "none"},
			{"default_transaction_isolation", "read committed"},
			{"default_transaction_read_only", "off"},
			{"statement_timeout", "0"},
			{"idle_in_transaction_session_timeout", "0"},
			{"exit_on_error", "off"},
			{"search_path", "pg_catalog, pg_temp"},
		};
		int			i;

		StartTransactionCommand();
		SetConfigOption("session_authorization",
						GetUserNameFromId(BOOTSTRAP_SUPERUSERID, false),
						PGC_SUSET, PGC_S_OVERRIDE);
		CommitTransactionCommand();
		for (i = 0; i < lengthof(settings); i++)
			SetConfigOption(settings[i][0], settings[i][1], PGC_SUSET, PGC_S_OVERRIDE);
	}
	if (!bh_capture_enabled)
		bh_sealer_enabled_note = "server configuration, at sealer start";

	for (;;)
	{
		uint64		answered = 0;
		bool		installed;
		bool		stopping = bh_sealer_stop_requested;
		int			rc = 0;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			bool		was_enabled = bh_capture_enabled;

			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			if (bh_capture_enabled != was_enabled)
				bh_sealer_enabled_note = "configuration file";
		}

		/*
		 * Prepared transactions finished since the last round, by COMMIT
		 * PREPARED or by an apply worker, count as emitted (stats.c); their
		 * queue rows are sealed by this pass.
		 */
		(void) bh_stats_prepared_resolve();
		installed = bh_seal_pass(&answered);

		/* Answer the seal() requests made before the queue was seen empty. */
		if (installed)
		{
			SpinLockAcquire(&bh_sealer->mutex);
			if (answered > bh_sealer->served)
				bh_sealer->served = answered;
			SpinLockRelease(&bh_sealer->mutex);
			ConditionVariableBroadcast(&bh_sealer->cv);
		}

		/*
		 * Asked to stop before this pass began: everything queued or in the
		 * ring by then is chained.  Status 1 keeps the worker registered, so
		 * the postmaster restarts it after bgw_restart_time unless the server
		 * is shutting down (status 0 would unregister it for good).
		 */
		if (stopping)
		{
			uint64		left;

			/*
			 * For a shutdown, nobody empties the ring after this: pushes no
			 * longer wait for room (ring.c), which would hold the shutdown up
			 * for nothing.  After pg_terminate_backend() they wait for the
			 * sealer that the postmaster starts again.
			 */
			if (bh_server_stopping())
				bh_ring_close();
			left = bh_ring_count();
			if (left > 0)
				ereport(LOG,
						(errmsg("bh_audit sealer stopping with " UINT64_FORMAT " events left in the ring",
								left),
						 errdetail("They were pushed after the final drain, or the extension is not installed in \"%s\"; they are lost.",
								   bh_database)));
			else
				ereport(LOG,
						(errmsg("bh_audit sealer stopping: the queue and the ring are drained")));
			proc_exit(1);
		}

		if (!bh_sealer_stop_requested)
			rc = WaitLatch(MyLatch,
						   WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						   installed ? BH_SEALER_NAPTIME_MS : 1000,
						   PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);

		/*
		 * Woken by a commit: let events gather before sealing them, unless
		 * seal() waits, the sealer is asked to stop, a full batch is in the
		 * ring, or half the ring's space is taken (a ring smaller than a
		 * batch would fill and hold readers up for the whole delay).  A batch
		 * costs a transaction, a queue scan and an INSERT's executor
		 * start-up; a batch per commit costs several times the events it
		 * seals.
		 */
		if (installed && (rc & WL_LATCH_SET))
		{
			int			waited;

			for (waited = 0; waited < BH_SEALER_DELAY_MS; waited += 5)
			{
				bool		requested;

				SpinLockAcquire(&bh_sealer->mutex);
				requested = bh_sealer->requests > bh_sealer->served;
				SpinLockRelease(&bh_sealer->mutex);
				if (requested || bh_sealer_stop_requested ||
					bh_ring_count() >= (uint64) bh_seal_batch_size ||
					bh_ring_half_full())
					break;
				(void) WaitLatch(NULL, WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 5,
								 PG_WAIT_EXTENSION);
				CHECK_FOR_INTERRUPTS();
			}
			ResetLatch(MyLatch);
		}
	}
}
