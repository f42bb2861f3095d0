/*-------------------------------------------------------------------------
 *
 * seal_wait.c
 *		bh_audit.seal(): a session waits until the sealer has chained what
 *		was committed or pushed before the call; and the warning of a
 *		transaction whose snapshot does not see what it waited for.
 *
 * seal() does not chain events itself: it makes a request in the sealer's
 * shared memory ("requests"), wakes the sealer (bh_sealer_wake) and sleeps
 * on its condition variable until the request is answered ("served"); it
 * returns how many events were chained meanwhile ("sealed_total" before
 * and after).  How the sealer answers is the sealer's (sealer.c, "Hand-off
 * protocol").  seal() fails instead of waiting for good: where no sealer
 * comes (a single-user backend, recovery, a database other than
 * bh_audit.database), when none runs (bh_sealer_absence), when the sealer
 * refuses the ledger (its definition changed by a superuser), and when the
 * sealer waits for the calling transaction (a row of the ledger it added,
 * a lock it holds on the ledger or the queue, or any lock the sealer's
 * work waits for, looked up in PostgreSQL's lock table while it waits).
 *
 * Under a transaction snapshot the calling transaction does not see what
 * it waited for: its next read of the ledger warns, once (bh_seal_unseen,
 * with a slot per backend id in shared memory for its parallel workers).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/memutils.h"

#include "bh_audit.h"
#include "capture.h"
#include "sealer_internal.h"

/* One slot per backend id for seal()'s warning (bh_seal_slot). */
static pg_atomic_uint64 *bh_seal_slots = NULL;

static Size
bh_seal_slots_size(void)
{
	return mul_size(MaxBackends, sizeof(pg_atomic_uint64));
}

void
bh_seal_wait_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(bh_seal_slots_size()));
}

void
bh_seal_wait_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	bh_seal_slots = ShmemInitStruct("bh_audit seal unseen", bh_seal_slots_size(), &found);
	if (!found)
	{
		int			i;

		for (i = 0; i < MaxBackends; i++)
			pg_atomic_init_u64(&bh_seal_slots[i], 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* seal(): fail, the sealer refusing the ledger (refusal: its message). */
static void
bh_seal_refused(const char *refusal)
{
	ConditionVariableCancelSleep();
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("bh_audit.seal() cannot wait: the sealer does not seal"),
			 errdetail("%s; events wait in the queue and the ring.", refusal),
			 errhint("Repair bh_audit.events as the server log says: the sealer then seals the events waiting.")));
}

/*
 * seal(): fail when no sealer runs (bh_sealer_absence).  A sealer gone
 * since it refused the ledger, with nothing sealed since, is gone for that
 * reason, whose message is said (a restart between refusals can take
 * longer than the absence seal() tolerates).
 */
static void
bh_seal_check_sealer(void)
{
	char	   *why = bh_sealer_absence();

	if (why != NULL)
	{
		char		refusal[sizeof(bh_sealer->refusal)];
		bool		refused;

		SpinLockAcquire(&bh_sealer->mutex);
		refused = bh_sealer->refusals > 0 &&
			bh_sealer->refused_at == bh_sealer->sealed_total;
		if (refused)
			memcpy(refusal, bh_sealer->refusal, sizeof(refusal));
		SpinLockRelease(&bh_sealer->mutex);
		if (refused)
			bh_seal_refused(refusal);
		ConditionVariableCancelSleep();
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bh_audit.seal() cannot wait: no bh_audit sealer is running"),
				 errdetail("%s; events wait in the queue and the ring.", why),
				 errhint("The server log says why; the sealer needs a background worker of max_worker_processes (a restart).")));
	}
}

/*
 * A transaction that keeps its first snapshot (REPEATABLE READ,
 * SERIALIZABLE) reads the ledger as of then: what the sealer chained since,
 * the events seal() waited for included, is not in its results.  An access
 * review reading the ledger after the call in the same transaction would
 * miss them without a word.  seal() there only remembers the transaction
 * (bh_seal_unseen, and its local id in its backend's slot); the
 * transaction's next read of the ledger warns (bh_seal_unseen_read): a
 * statement whose range table holds it, directly or through a view
 * (capture_read.c), COPY of it, or one of the functions reading it back
 * (verify.c).  Once a transaction, whatever calls it made: a loop does not
 * repeat it.  A call that is the whole transaction (a client's statement
 * in autocommit, also a COPY, CREATE TABLE AS or EXPLAIN ANALYZE of a
 * query calling it) says nothing: the next statement sees the events.  A
 * rolled-back savepoint does not undo what was sealed: the flag stays.  A
 * new transaction has another local id: nothing is reset at the end of
 * one.
 *
 * A parallel worker reads under its leader's transaction snapshot, and
 * misses the same events (a function of the user's labelled PARALLEL SAFE
 * reading the ledger, run below a Gather).  The slot is in shared memory,
 * indexed by backend id, for that: a worker looks at its leader's
 * (bh_seal_unseen_worker, at each of its executor starts), and whoever
 * reads first, the leader or one of its workers, turns it from armed
 * (the local id) to warned (the id with BH_SEAL_WARNED), so that the
 * transaction is told once, not once by each worker.  A backend id with a
 * local id names one transaction of the server's life (the next local id
 * of a backend id outlives its backends): a slot left by an earlier
 * transaction, or an earlier backend, matches nothing.
 */
#define BH_SEAL_WARNED	(UINT64CONST(1) << 32)

bool		bh_seal_unseen = false;

/*
 * The slot of the transaction whose snapshot this process reads with (its
 * own, or its leader's in a parallel worker) and that transaction's local
 * id; NULL without one.
 */
static pg_atomic_uint64 *
bh_seal_slot(LocalTransactionId *lxid)
{
	PGPROC	   *proc = IsParallelWorker() ? MyProc->lockGroupLeader : MyProc;

	if (bh_seal_slots == NULL || proc == NULL ||
		proc->backendId < 1 || proc->backendId > MaxBackends)
		return NULL;
	*lxid = proc->lxid;
	return &bh_seal_slots[proc->backendId - 1];
}

/*
 * A parallel worker: does its leader's transaction wait to be told?  Then
 * its reads of the ledger look (the callers test bh_seal_unseen).
 */
void
bh_seal_unseen_worker(void)
{
	LocalTransactionId lxid = InvalidLocalTransactionId;
	pg_atomic_uint64 *slot = bh_seal_slot(&lxid);

	bh_seal_unseen = slot != NULL && lxid != InvalidLocalTransactionId &&
		pg_atomic_read_u64(slot) == (uint64) lxid;
}

/*
 * The ledger is read with bh_seal_unseen set (the callers test it: one
 * bool on their paths).  The extension's own SQL (the append-only guard's
 * look at the head) is not the user's read; a user's code that its
 * statements fire (an event trigger of tag_table()'s CREATE TRIGGER) reads
 * as the user (bh_sql_path_active() is only the statements it issues).
 */
void
bh_seal_unseen_read(void)
{
	LocalTransactionId lxid = InvalidLocalTransactionId;
	pg_atomic_uint64 *slot;
	uint64		armed;

	if (bh_sql_path_active())
		return;
	bh_seal_unseen = false;
	if (!IsolationUsesXactSnapshot() || (slot = bh_seal_slot(&lxid)) == NULL ||
		lxid == InvalidLocalTransactionId)
		return;
	armed = (uint64) lxid;
	if (!pg_atomic_compare_exchange_u64(slot, &armed, armed | BH_SEAL_WARNED))
		return;
	ereport(WARNING,
			(errmsg("this transaction does not see the events bh_audit.seal() waited for"),
			 errdetail("A REPEATABLE READ or SERIALIZABLE transaction reads bh_audit.events as of its first statement; the events sealed since are not in its results."),
			 errhint("Call bh_audit.seal() before the transaction begins, then read the ledger.")));
}

/*
 * seal() under a transaction snapshot: arm this transaction's slot, unless
 * it was told already.
 */
static void
bh_seal_unseen_arm(void)
{
	LocalTransactionId lxid = InvalidLocalTransactionId;
	pg_atomic_uint64 *slot = bh_seal_slot(&lxid);
	uint64		cur;

	if (slot == NULL || lxid == InvalidLocalTransactionId)
		return;
	cur = pg_atomic_read_u64(slot);
	while (cur != ((uint64) lxid | BH_SEAL_WARNED))
	{
		if (pg_atomic_compare_exchange_u64(slot, &cur, (uint64) lxid))
		{
			bh_seal_unseen = true;
			break;
		}
	}
}

PG_FUNCTION_INFO_V1(bh_audit_seal);

/*
 * bh_audit.seal(): have the sealer chain everything committed so far and
 * wait for it.  Returns the number of events the sealer chained while the
 * call waited.
 */
/*
 * Does the sealer wait for this transaction?  The checks seal() makes
 * before waiting see the locks it knows the sealer takes; anything else
 * shows here, looked at while seal() waits, from PostgreSQL's lock table
 * as pg_blocking_pids() reads it: a lock this transaction holds that the
 * sealer's work waits for (a queued row it updated or deleted), or one
 * that another process waits for ahead of the sealer or holds against it
 * while waiting for this transaction in turn (an ACCESS EXCLUSIVE lock of
 * the queue queued behind this transaction's weaker one), up to
 * BH_WAIT_CHAIN processes along the way.
 */
#define BH_WAIT_CHAIN 16

static bool
bh_sealer_waits_for_me(void)
{
	int			waiting[BH_WAIT_CHAIN];
	int			nwaiting = 0;
	int			next = 0;
	int			sealer = bh_sealer_pid();
	bool		mine = false;
	MemoryContext cxt;
	MemoryContext old;

	if (sealer == 0)
		return false;
	/* the lock table's copies go with it: seal() may wait long */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "bh_audit seal wait",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	waiting[nwaiting++] = sealer;
	while (next < nwaiting && !mine)
	{
		BlockedProcsData *data = GetBlockerStatusData(waiting[next++]);
		int			i;

		for (i = 0; i < data->nprocs; i++)
		{
			BlockedProcData *blocked = &data->procs[i];
			LockInstanceData *locks = &data->locks[blocked->first_lock];
			int		   *ahead = &data->waiter_pids[blocked->first_waiter];
			LockInstanceData *wait = NULL;
			LOCKMASK	conflicts;
			int			j;

			for (j = 0; j < blocked->num_locks; j++)
				if (locks[j].pid == blocked->pid && locks[j].waitLockMode != NoLock)
					wait = &locks[j];
			if (wait == NULL)
				continue;
			conflicts = GetLockTagsMethodTable(&wait->locktag)->conflictTab[wait->waitLockMode];
			for (j = 0; j < blocked->num_locks; j++)
			{
				LockInstanceData *other = &locks[j];
				bool		blocks;
				int			k;

				if (other->leaderPid == wait->leaderPid)
					continue;	/* its own lock group */
				/* held against it, or wanted ahead of it in the queue */
				blocks = (other->holdMask & conflicts) != 0;
				for (k = 0; !blocks && k < blocked->num_waiters; k++)
					blocks = ahead[k] == other->pid && other->waitLockMode != NoLock &&
						(LOCKBIT_ON(other->waitLockMode) & conflicts) != 0;
				if (!blocks)
					continue;
				if (other->pid == MyProcPid)
					mine = true;
				for (k = 0; k < nwaiting && waiting[k] != other->pid; k++)
					;
				if (k == nwaiting && nwaiting < BH_WAIT_CHAIN)
					waiting[nwaiting++] = other->pid;
			}
		}
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return mine;
}

Datum
bh_audit_seal(PG_FUNCTION_ARGS)
{
	uint64		mine;
	uint64		start_total;
	uint64		refusals;
	bool		refused;
	uint64		count = 0;
	Oid			events_relid;

	bh_require_preload();

	if (!IsUnderPostmaster)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bh_audit.seal() needs the sealer, which a single-user backend does not start"),
				 errhint("Events queued now are sealed once the server runs normally; those held in the ring (reads, denials, failures) are lost at this backend's exit, counted in an EventsLost event then.")));

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("bh_audit.seal() cannot run during recovery"),
				 errhint("Events are sealed on the primary; verify_chain() and export_jsonl() work here.")));

	if (!bh_in_sealer_database())
	{
		const char *dbname = get_database_name(MyDatabaseId);

		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the bh_audit sealer works in database \"%s\", not in \"%s\"",
						bh_database, dbname ? dbname : "?"),
				 errhint("Set bh_audit.database to the database that holds the extension and restart the server.")));
	}

	/*
	 * A parallel worker cannot see its leader's locks (the checks below), nor
	 * tell whether the sealer waits for them.
	 */
	bh_refuse_in_parallel_worker("bh_audit.seal()");

	/*
	 * A transaction that appended a row to the ledger itself holds the chain
	 * lock the sealer waits for: waiting here would never end.
	 */
	events_relid = bh_events_relid();
	if (OidIsValid(events_relid) && bh_chain_lock_held(events_relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bh_audit.seal() cannot wait for the sealer in a transaction that added a row to bh_audit.events itself"),
				 errhint("Commit or roll back first: the sealer waits for this transaction.")));
	if (bh_lock_blocks_sealer(events_relid, false) ||
		bh_lock_blocks_sealer(bh_queue_relid(), true))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bh_audit.seal() cannot wait for the sealer in a transaction that holds a lock on bh_audit.events or bh_audit.queue that the sealer's writes wait for"),
				 errhint("Commit or roll back first, or take a weaker lock: the sealer waits for this transaction.")));

	/* A sealer that could not be registered never comes. */
	bh_seal_check_sealer();

	SpinLockAcquire(&bh_sealer->mutex);
	mine = ++bh_sealer->requests;
	start_total = bh_sealer->sealed_total;
	refusals = bh_sealer->refusals;
	SpinLockRelease(&bh_sealer->mutex);
	bh_sealer_wake();

	ConditionVariablePrepareToSleep(&bh_sealer->cv);
	for (;;)
	{
		bool		done;
		char		refusal[sizeof(bh_sealer->refusal)];

		SpinLockAcquire(&bh_sealer->mutex);
		done = bh_sealer->served >= mine;
		count = bh_sealer->sealed_total - start_total;
		refused = bh_sealer->refusals != refusals;
		if (refused)
			memcpy(refusal, bh_sealer->refusal, sizeof(refusal));
		SpinLockRelease(&bh_sealer->mutex);
		if (done)
			break;
		/* the sealer stops at a ledger a superuser changed, until repaired */
		if (refused)
			bh_seal_refused(refusal);

		/*
		 * Re-poke now and then: the sealer may have restarted meanwhile.  No
		 * sealer for a while (bh_sealer_absence): the wait would not end.
		 */
		if (ConditionVariableTimedSleep(&bh_sealer->cv, 1000, PG_WAIT_EXTENSION))
		{
			bh_seal_check_sealer();
			if (bh_sealer_waits_for_me())
			{
				ConditionVariableCancelSleep();
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("bh_audit.seal() cannot wait for the sealer, which waits for this transaction"),
						 errdetail("The sealer waits for a lock this transaction holds (a row of bh_audit.queue it changed, say)."),
						 errhint("Commit or roll back first.")));
			}
			bh_sealer_wake();
		}
	}
	ConditionVariableCancelSleep();

	/* under a transaction snapshot: its later reads of the ledger warn */
	if (IsolationUsesXactSnapshot())
		bh_seal_unseen_arm();

	PG_RETURN_INT64((int64) count);
}
