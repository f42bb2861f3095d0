/*-------------------------------------------------------------------------
 *
 * ring.c
 *		The ring: a multi-producer, single-consumer byte ring in shared
 *		memory that carries autonomous events to the sealer.
 *
 * Reads, denials, failures and logins must be recorded even when the
 * session's transaction rolls back (or never existed), so they do not go
 * through bh_audit.queue: a backend copies the event (its jsonb, as built
 * and validated) into this ring, and the sealer chains it in its own
 * transaction.
 *
 * Layout.  One segment of bh_audit.ring_size bytes (a multiple of 8), used
 * as a circular buffer addressed by 64-bit byte positions that only grow
 * (position p lives at offset p % size; they never wrap in practice).  A
 * record is an 8-byte header {len, encoding, ready} followed by the len
 * bytes of a jsonb varlena, padded to 8 bytes, so that a header is never
 * split by the end of the buffer (the event may be: it is copied in two
 * pieces).  encoding is the encoding of the event's strings, the producer's
 * database encoding (PG_SQL_ASCII for the client's bytes of a login): the
 * sealer converts the event to its own database's encoding when it differs
 * (recode.c).
 *
 *		tail <= (records being consumed) ... (records) ... < head
 *
 * Locking protocol.  A spinlock protects head, tail and the counters, and
 * is held only for a few instructions (no copying, no system calls):
 *	- a producer reserves reclen bytes at head under the spinlock, writes
 *	  the record's header there with ready = 0 and advances head; then,
 *	  without any lock, copies the event, issues a write barrier and sets
 *	  ready.  Concurrent producers copy into disjoint regions in parallel;
 *	- the consumer (the sealer, the only one) reads tail and head under the
 *	  spinlock, then walks the records from tail: it stops at the first one
 *	  whose ready flag is not set yet (a producer still copying), and reads
 *	  a ready record's event after a read barrier.  Bytes in [tail, head)
 *	  belong to their producers until consumed, so nobody overwrites them;
 *	- the consumer removes records only after the transaction that sealed
 *	  them committed (peek, commit, consume): a failed batch leaves them in
 *	  the ring for the next one, and a record is never sealed twice unless
 *	  the sealer dies between its commit and the consume (interrupts are
 *	  held across that gap).
 * A spinlock rather than an LWLock: the critical section is a handful of
 * arithmetic operations, taken once per event on the read path of every
 * session, and the LWLock machinery (wait queues, interrupt holdoff,
 * tranche registration) would cost more than it protects; the long part,
 * the copy, needs no lock at all thanks to the ready flag.
 *
 * Waking the sealer.  A producer sets the sealer's latch only when it
 * found the ring empty (nothing reserved and not consumed); otherwise an
 * earlier producer already woke it, or the sealer is busy and will look
 * again: it never goes to sleep after a consume that left records behind.
 *
 * A full ring (bh_audit.on_ring_full):
 *	- wait (default): sleep on a condition variable that the consumer
 *	  broadcasts after each consume, within a budget of waiting (below).
 *	  During recovery (no sealer runs there) a full ring drops at once, and
 *	  so it does once the sealer's final drain for a shutdown is done
 *	  (bh_ring_close): a session that ends after it (in a fast shutdown,
 *	  one terminated at the same time; a walsender, which PostgreSQL stops
 *	  after the sealer has exited) would wait for nothing, holding the
 *	  shutdown up.
 *	  In a normal statement the wait services interrupts (a cancel ends it:
 *	  the event is counted as dropped, with the WARNING of a drop, below,
 *	  before the cancel's error is raised); elsewhere (abort callbacks, PG_CATCH
 *	  via bh_ring_push_jsonb_nothrow() after bh_release_error_locks(),
 *	  authentication) interrupts are held,
 *	  but a cancel or terminate request that arrives ends the wait all the
 *	  same (the event is dropped; the request is serviced later, where
 *	  PostgreSQL services it);
 *	- error: ERROR 53000 when an ERROR is allowed (a normal statement);
 *	  elsewhere an ERROR would replace the error being handled, or end a
 *	  committed transaction badly, so the event is dropped instead;
 *	- drop: count it in events_dropped_total and WARN (once per statement
 *	  at most, with no event content).
 * An event larger than a quarter of the ring is always dropped that way.
 * Every event that does not make it into the ring counts as dropped, once.
 *
 * The budget of waiting.  bh_audit.ring_wait_timeout is the most a backend
 * waits for room while the sealer makes no progress (the ring's tail does
 * not move), timed on the monotonic clock (bh_monotonic_us: a step of the
 * wall clock neither stretches nor shortens it), counted over all the
 * waits of one statement, however many events it pushes: progress starts
 * the count again, a stalled sealer spends it once for the whole statement;
 * the statement's failure (the event recording its error, pushed while the
 * error is handled, when the transaction still looks in progress, and the
 * READ events of what the failing statement read, pushed just before it)
 * and the end of a transaction (its abort or commit callbacks,
 * subtransaction aborts included) that happens within the statement have a budget of
 * their own, as large, so that a statement's failure can still be recorded
 * after its reads gave up: bh_ring_push_jsonb_failure() says so.  A statement is what statement_timestamp() tells
 * apart: one message from the client (the same notion as the "one WARNING
 * per statement" above); outside any (authentication) each event has its
 * own budget.  Once a wait ran out of its budget, or was ended by a cancel
 * or terminate request (or by an error raised while it waited), every
 * later event under the same budget that finds the ring full is dropped at
 * once, without waiting.  And once a terminate request ended a wait, the
 * backend does not wait at all any more: it is exiting.  So against a
 * stalled sealer a statement and the abort that follows it wait twice
 * ring_wait_timeout at most, and
 * an abort, which holds interrupts (and the statement's locks) while it
 * waits, ring_wait_timeout at most.  bh_ring_push_jsonb_nowait() never
 * waits at all: capture_read.c uses it for the events of a statement whose
 * emission an error cut short, which gave up waiting already.
 *
 * The ring lives in shared memory only: a crash (or an immediate
 * shutdown) loses the events in it.  A clean shutdown drains it (sealer.c);
 * what is pushed after that final drain is lost too.  Either way they are
 * counted, once, as the postmaster discards shared memory (losses.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "bh_audit.h"
#include "ring.h"
#include "validate.h"

/* Records start on 8-byte boundaries; the header is 8 bytes. */
#define BH_RING_ALIGN			8
#define BH_RING_RECLEN(len)		TYPEALIGN(BH_RING_ALIGN, sizeof(BhRingHeader) + (len))
/*
 * The ready flag of a complete record: a binary jsonb (varlena with its
 * header), as the producer built (and validated) it, so that the sealer
 * need not parse anything.
 */
#define BH_RING_READY_JSONB		0x4A42
/* A waiting producer rechecks at least this often (ms). */
#define BH_RING_WAIT_SLICE_MS	100

typedef struct BhRingHeader
{
	uint32		len;			/* bytes of the jsonb that follows */
	uint16		encoding;		/* of its strings (pg_enc) */
	volatile uint16 ready;		/* BH_RING_READY_JSONB once it is copied */
} BhRingHeader;

StaticAssertDecl(sizeof(BhRingHeader) == BH_RING_ALIGN,
				 "a ring record's header fills one alignment unit");

typedef struct BhRingShared
{
	slock_t		mutex;			/* protects the fields up to fail */
	uint64		head;			/* where the next reservation starts */
	uint64		tail;			/* first byte not consumed */
	uint64		pushed;			/* records reserved since startup */
	uint64		consumed;		/* records consumed or discarded */
	BhFailures	fail;			/* failed batches in a row (positions) */
	bool		closed;			/* the sealer stopped for a shutdown */
	uint64		size;			/* bytes of the buffer (constant) */
	uint64		max_record;		/* largest record accepted (constant) */
	ConditionVariable space_cv; /* producers waiting for room */
} BhRingShared;

/* Settings */
int			bh_ring_size_kb = 8192;
int			bh_on_ring_full = BH_RING_FULL_WAIT;
int			bh_ring_wait_timeout_ms = 10000;

static const struct config_enum_entry bh_ring_full_options[] = {
	{"wait", BH_RING_FULL_WAIT, false},
	{"error", BH_RING_FULL_ERROR, false},
	{"drop", BH_RING_FULL_DROP, false},
	{NULL, 0, false}
};

static BhRingShared *bh_ring = NULL;
static char *bh_ring_data = NULL;

/* Statement start of the last drop WARNING of this backend. */
static TimestampTz bh_ring_warned_stmt = 0;

/*
 * The budgets of waiting for room (see the header comment): [0] of the
 * statement, [1] of its failure and the transaction ends within it.
 */
typedef struct BhRingBudget
{
	TimestampTz stmt;			/* statement_timestamp() it belongs to */
	int64		waited_us;		/* time spent waiting so far (monotonic) */
	bool		spent;			/* a wait ran out or was interrupted */
} BhRingBudget;

static BhRingBudget bh_ring_budgets[2];

/* A terminate request ended a wait: this backend waits no more. */
static bool bh_ring_exiting = false;

/* How a sleep for room ended. */
typedef enum BhRingSleepResult
{
	BH_RING_SLEPT,				/* woken or timed out: look again */
	BH_RING_INTERRUPTED			/* a cancel or terminate request is pending */
} BhRingSleepResult;

/* Define the ring's settings (before MarkGUCPrefixReserved). */
void
bh_ring_init(void)
{
	DefineCustomIntVariable("bh_audit.ring_size",
							"Size of the shared-memory ring that carries reads, denials and failures to the sealer.",
							NULL,
							&bh_ring_size_kb,
							8192,
							64, 1024 * 1024,
							PGC_POSTMASTER,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("bh_audit.on_ring_full",
							 "What a session does with an event when the ring is full: wait, error or drop.",
							 NULL,
							 &bh_on_ring_full,
							 BH_RING_FULL_WAIT,
							 bh_ring_full_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("bh_audit.ring_wait_timeout",
							"The most a statement waits for room in a full ring while the sealer makes no progress, before its events are dropped.",
							"Counted over all the waits of one statement together (progress of the sealer starts it again), and again for its failure and the transaction ends within it (an abort); once it ran out, or a wait was cancelled, the statement's other events are dropped without waiting.",
							&bh_ring_wait_timeout_ms,
							10000,
							1, 3600 * 1000,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
}

/* Bytes of the buffer. */
static Size
bh_ring_buffer_size(void)
{
	return (Size) bh_ring_size_kb * 1024;
}

void
bh_ring_shmem_request(void)
{
	RequestAddinShmemSpace(add_size(MAXALIGN(sizeof(BhRingShared)),
									bh_ring_buffer_size()));
}

void
bh_ring_shmem_startup(void)
{
	bool		found;
	Size		size = bh_ring_buffer_size();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	bh_ring = ShmemInitStruct("bh_audit ring",
							  add_size(MAXALIGN(sizeof(BhRingShared)), size),
							  &found);
	bh_ring_data = (char *) bh_ring + MAXALIGN(sizeof(BhRingShared));
	if (!found)
	{
		SpinLockInit(&bh_ring->mutex);
		bh_ring->head = 0;
		bh_ring->tail = 0;
		bh_ring->pushed = 0;
		bh_ring->consumed = 0;
		bh_ring->fail.at = 0;
		bh_ring->fail.to = 0;
		bh_ring->fail.count = 0;
		bh_ring->fail.alone = 0;
		bh_ring->fail.with_other = false;
		bh_ring->closed = false;
		bh_ring->size = size;
		bh_ring->max_record = size / 4;
		ConditionVariableInit(&bh_ring->space_cv);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Copy len bytes into the buffer at position pos (maybe in two pieces). */
static void
bh_ring_copy_in(uint64 pos, const char *src, Size len)
{
	Size		off = (Size) (pos % bh_ring->size);
	Size		first = Min(len, (Size) bh_ring->size - off);

	memcpy(bh_ring_data + off, src, first);
	if (len > first)
		memcpy(bh_ring_data, src + first, len - first);
}

/* Copy len bytes out of the buffer at position pos. */
static void
bh_ring_copy_out(uint64 pos, char *dst, Size len)
{
	Size		off = (Size) (pos % bh_ring->size);
	Size		first = Min(len, (Size) bh_ring->size - off);

	memcpy(dst, bh_ring_data + off, first);
	if (len > first)
		memcpy(dst + first, bh_ring_data, len - first);
}

/* The header of the record at position pos. */
static inline BhRingHeader *
bh_ring_header(uint64 pos)
{
	return (BhRingHeader *) (bh_ring_data + pos % bh_ring->size);
}

/*
 * May a push raise an ERROR or service interrupts here?  Only in a
 * transaction in progress with interrupts allowed: not in commit or abort
 * callbacks, not outside a transaction (authentication), not while
 * interrupts are held or in a critical section, not while exiting.
 */
static bool
bh_ring_may_throw(void)
{
	return IsTransactionState() &&
		InterruptHoldoffCount == 0 &&
		CritSectionCount == 0 &&
		!proc_exit_inprogress;
}

/*
 * Count one event that did not make it into the ring, and warn about it
 * (once per statement at most; never with event content).  The WARNING
 * services no interrupt: errfinish() would service a pending cancel or
 * terminate request as it returns (the one that just ended a wait, say),
 * raising its ERROR or FATAL from within a push that may not throw (in a
 * PG_CATCH it would replace the error being handled, and what the block
 * records after the push would not be).  The request is serviced later,
 * where PostgreSQL services it.
 */
static void
bh_ring_dropped(const char *why, int len)
{
	TimestampTz stmt = GetCurrentStatementStartTimestamp();

	bh_stats_add_dropped(1);
	if (stmt != 0 && stmt == bh_ring_warned_stmt)
		return;
	bh_ring_warned_stmt = stmt;
	HOLD_INTERRUPTS();
	if (len > 0)
		ereport(WARNING,
				(errmsg("bh_audit dropped an audit event: %s", why),
				 errdetail("The event is %d bytes long; bh_audit.ring_size is %d kB.",
						   len, bh_ring_size_kb),
				 errhint("Raise bh_audit.ring_size (the server must be restarted).")));
	else
		ereport(WARNING,
				(errmsg("bh_audit dropped an audit event: %s", why),
				 errdetail("Dropped events are counted in events_dropped_total of bh_audit.stats()."),
				 errhint("Check with bh_audit.stats() that the sealer is running and keeping up, or raise bh_audit.ring_size.")));
	RESUME_INTERRUPTS();
}

/*
 * The budget of waiting that applies here and now (see the header
 * comment): that of the statement's failure and the transaction ends
 * within it for a failure, and outside a transaction in progress (the
 * callbacks of its end); the statement's otherwise.  A new statement
 * starts both afresh; outside any, every call does.
 */
static BhRingBudget *
bh_ring_budget(bool failure)
{
	TimestampTz stmt = GetCurrentStatementStartTimestamp();
	BhRingBudget *budget = &bh_ring_budgets[failure || !IsTransactionState() ? 1 : 0];

	if (stmt == 0 || stmt != budget->stmt)
	{
		budget->stmt = stmt;
		budget->waited_us = 0;
		budget->spent = false;
	}
	return budget;
}

/*
 * A wait for room ended by an error that an interrupt serviced during it
 * raised (an ERROR, or a FATAL: a lost client connection found by
 * client_connection_check_interval, which exits without unwinding): the
 * event is dropped, counted and warned about, before the abort pushes the
 * statement's other events (a FATAL's exit runs this callback first), and
 * the budget is spent.  The WARNING holds interrupts: the error goes on as
 * it was.
 */
static void
bh_ring_wait_cut(int code, Datum arg)
{
	BhRingBudget *budget = (BhRingBudget *) DatumGetPointer(arg);

	ConditionVariableCancelSleep();
	budget->spent = true;
	bh_ring_dropped("an error raised while waiting for room in the event ring ended the wait", 0);
}

/*
 * Sleep until the consumer broadcasts or a slice passes, with interrupts
 * held, then look at what arrived meanwhile.  A cancel or terminate
 * request (or a lost client) ends the wait: BH_RING_INTERRUPTED, the caller
 * counts the event and services the request if it may.  In a normal
 * statement other interrupts are serviced here; an error one raises ends
 * the wait too (bh_ring_wait_cut).  Elsewhere nothing is serviced, so
 * nothing is thrown.
 */
static BhRingSleepResult
bh_ring_sleep(bool may_throw, long timeout_ms, BhRingBudget *budget)
{
	HOLD_INTERRUPTS();
	(void) ConditionVariableTimedSleep(&bh_ring->space_cv, timeout_ms,
									   PG_WAIT_EXTENSION);
	RESUME_INTERRUPTS();

	if (QueryCancelPending || ProcDiePending || ClientConnectionLost)
		return BH_RING_INTERRUPTED;
	if (may_throw && InterruptPending)
	{
		PG_ENSURE_ERROR_CLEANUP(bh_ring_wait_cut, PointerGetDatum(budget));
		{
			CHECK_FOR_INTERRUPTS();
		}
		PG_END_ENSURE_ERROR_CLEANUP(bh_ring_wait_cut, PointerGetDatum(budget));
	}
	return BH_RING_SLEPT;
}

/* The error of a full ring under bh_audit.on_ring_full = error. */
static void bh_ring_full_error(void) pg_attribute_noreturn();

static void
bh_ring_full_error(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
			 errmsg("bh_audit event ring is full"),
			 errdetail("The audit event of this statement could not be recorded, and bh_audit.on_ring_full is \"error\"."),
			 errhint("Retry later; check with bh_audit.stats() that the sealer is running and keeping up, or raise bh_audit.ring_size.")));
}

/*
 * Store one event; see ring.h.  may_throw says whether an ERROR may be
 * raised and interrupts serviced, may_wait whether a full ring may be
 * waited for at all (under on_ring_full = wait), failure whether the event
 * records the error being handled (its budget of waiting).
 */
static bool
bh_ring_push_internal(const Jsonb *event, int encoding, bool may_throw, bool may_wait,
					  bool failure)
{
	uint64		reclen;
	uint64		start;
	bool		was_empty;
	bool		waiting = false;
	BhRingBudget *budget = NULL;
	uint64		seen_tail = 0;
	int64		last_look = 0;	/* bh_monotonic_us() */
	BhRingHeader *hdr;
	int			len;

	if (bh_ring == NULL || event == NULL)
		return false;
	len = (int) VARSIZE(event);

	reclen = BH_RING_RECLEN((uint64) len);
	if (reclen > bh_ring->max_record)
	{
		bh_ring_dropped("it is larger than a quarter of the event ring", len);
		return false;
	}

	for (;;)
	{
		uint64		tail;
		bool		closed;
		int			policy;
		int64		now;
		long		left_ms;

		SpinLockAcquire(&bh_ring->mutex);
		tail = bh_ring->tail;
		closed = bh_ring->closed;
		if (bh_ring->size - (bh_ring->head - tail) >= reclen)
		{
			start = bh_ring->head;
			was_empty = (start == tail);
			hdr = bh_ring_header(start);
			hdr->len = (uint32) len;
			hdr->encoding = (uint16) encoding;
			hdr->ready = 0;
			bh_ring->head = start + reclen;
			bh_ring->pushed++;
			SpinLockRelease(&bh_ring->mutex);
			break;
		}
		SpinLockRelease(&bh_ring->mutex);

		/* The ring is full. */
		policy = bh_on_ring_full;
		if (policy == BH_RING_FULL_ERROR && !may_throw)
			policy = BH_RING_FULL_DROP; /* see the header comment */
		if (policy == BH_RING_FULL_WAIT &&
			(CritSectionCount > 0 || RecoveryInProgress() || closed))
			policy = BH_RING_FULL_DROP; /* no sleeping there; no sealer */

		if (policy != BH_RING_FULL_WAIT && waiting)
			ConditionVariableCancelSleep();
		if (policy == BH_RING_FULL_ERROR)
		{
			bh_stats_add_dropped(1);
			bh_ring_full_error();
		}
		if (policy == BH_RING_FULL_DROP)
		{
			bh_ring_dropped(closed ?
							"the event ring is full, and the sealer has stopped for the server's shutdown" :
							"the event ring is full", 0);
			return false;
		}

		/* Wait for room, within the budget (see the header comment). */
		if (!waiting)
		{
			budget = bh_ring_budget(failure);
			if (!may_wait || budget->spent || bh_ring_exiting)
			{
				bh_ring_dropped("the event ring is full, and this statement waits for room no more (it waited bh_audit.ring_wait_timeout, or a wait was interrupted)", 0);
				return false;
			}
			waiting = true;
			seen_tail = tail;
			last_look = bh_monotonic_us();
			bh_sealer_wake();
			ConditionVariablePrepareToSleep(&bh_ring->space_cv);
			continue;			/* recheck once prepared, then sleep */
		}

		/*
		 * Only time without progress of the sealer counts, on the monotonic
		 * clock: a step of the wall clock must not stretch the wait (back) or
		 * cut it short (forward).
		 */
		now = bh_monotonic_us();
		if (tail != seen_tail)
		{
			seen_tail = tail;
			budget->waited_us = 0;
		}
		else
			budget->waited_us += now - last_look;
		last_look = now;
		if (budget->waited_us >= (int64) bh_ring_wait_timeout_ms * 1000)
		{
			ConditionVariableCancelSleep();
			budget->spent = true;
			bh_ring_dropped("the event ring stayed full for bh_audit.ring_wait_timeout, the longest a statement waits for room", 0);
			return false;
		}
		left_ms = (long) (((int64) bh_ring_wait_timeout_ms * 1000 - budget->waited_us + 999) / 1000);
		/* no sealer: have the postmaster restart it, if it is late */
		if (bh_sealer_pid() == 0)
			bh_sealer_wake();
		if (bh_ring_sleep(may_throw, Max(1, Min(left_ms, BH_RING_WAIT_SLICE_MS)),
						  budget) == BH_RING_INTERRUPTED)
		{
			ConditionVariableCancelSleep();
			budget->spent = true;
			if (ProcDiePending || ClientConnectionLost)
				bh_ring_exiting = true;

			/*
			 * Counted and warned about (the session, while it can still hear,
			 * and the server log) before the request is serviced: the
			 * request's error or FATAL does not say that an event was lost.
			 * No lock is held here and the WARNING holds interrupts, so it
			 * cannot throw.
			 */
			bh_ring_dropped("a cancel or terminate request ended the wait for room in the event ring", 0);
			if (may_throw)
				CHECK_FOR_INTERRUPTS();
			return false;
		}
	}

	if (waiting)
	{
		/* room was made: the sealer progressed */
		ConditionVariableCancelSleep();
		budget->waited_us = 0;
	}

	/* The reserved bytes are ours: copy, then publish. */
	bh_ring_copy_in(start + sizeof(BhRingHeader), (const char *) event, (Size) len);
	pg_write_barrier();
	hdr->ready = BH_RING_READY_JSONB;

	if (was_empty)
		bh_sealer_wake();
	return true;
}

/* Store one validated event (may raise ERROR in a normal statement); see ring.h. */
bool
bh_ring_push_jsonb(const Jsonb *event)
{
	return bh_ring_push_internal(event, GetDatabaseEncoding(), bh_ring_may_throw(), true,
								 false);
}

/* Store one event, never raising ERROR nor servicing interrupts. */
bool
bh_ring_push_jsonb_nothrow(const Jsonb *event, int encoding)
{
	return bh_ring_push_internal(event, encoding, false, true, false);
}

/*
 * Store the event recording the error being handled (or a READ event of
 * what the failing statement read, pushed before it; one an end of a
 * transaction flushes), as bh_ring_push_jsonb_nothrow() does, under the
 * budget of the statement's failure.
 */
bool
bh_ring_push_jsonb_failure(const Jsonb *event)
{
	return bh_ring_push_internal(event, GetDatabaseEncoding(), false, true, true);
}

/* Store one event if there is room now: never waits, never raises ERROR. */
bool
bh_ring_push_jsonb_nowait(const Jsonb *event)
{
	return bh_ring_push_internal(event, GetDatabaseEncoding(), false, false, false);
}

/* See ring.h. */
uint64
bh_ring_record_bytes(const Jsonb *event)
{
	return BH_RING_RECLEN((uint64) VARSIZE(event));
}

/* See ring.h. */
void
bh_ring_require_room(uint64 bytes)
{
	bool		room;

	if (bh_ring == NULL || bh_on_ring_full != BH_RING_FULL_ERROR)
		return;
	SpinLockAcquire(&bh_ring->mutex);
	room = bh_ring->size - (bh_ring->head - bh_ring->tail) >= bytes;
	SpinLockRelease(&bh_ring->mutex);
	if (!room)
		bh_ring_full_error();
}

/* Events in the ring now. */
uint64
bh_ring_count(void)
{
	uint64		n;

	if (bh_ring == NULL)
		return 0;
	SpinLockAcquire(&bh_ring->mutex);
	n = bh_ring->pushed - bh_ring->consumed;
	SpinLockRelease(&bh_ring->mutex);
	return n;
}

/*
 * Is at least half of the ring's space taken?  The sealer starts a batch
 * then instead of letting events gather: a ring that holds fewer events
 * than a batch would otherwise fill and hold its producers up for the
 * whole gathering delay, round after round.
 */
bool
bh_ring_half_full(void)
{
	uint64		used;

	if (bh_ring == NULL)
		return false;
	SpinLockAcquire(&bh_ring->mutex);
	used = bh_ring->head - bh_ring->tail;
	SpinLockRelease(&bh_ring->mutex);
	return used >= bh_ring->size / 2;
}

/*
 * The postmaster's count as it discards shared memory: every producer and
 * the consumer have exited (a crashed one may have left the spinlock
 * held), so the counters are read without it.  At most one record fits in
 * every 16 bytes of the ring (an 8-byte header and a jsonb of at least 8).
 */
bool
bh_ring_count_at_exit(uint64 *count)
{
	uint64		pushed;
	uint64		consumed;

	*count = 0;
	if (bh_ring == NULL)
		return true;
	pushed = bh_ring->pushed;
	consumed = bh_ring->consumed;
	if (consumed > pushed || pushed - consumed > bh_ring->size / 16)
		return false;
	*count = pushed - consumed;
	return true;
}

/*
 * The consumer: copy up to max_events ready events from the tail, before
 * position until, without removing them.  See ring.h.
 */
int
bh_ring_peek(int max_events, uint64 until, Jsonb **events, int *encodings,
			 uint64 *end_pos, bool *drained)
{
	uint64		pos;
	uint64		head;
	int			n = 0;

	if (bh_ring == NULL)
	{
		*end_pos = 0;
		*drained = true;
		return 0;
	}

	SpinLockAcquire(&bh_ring->mutex);
	pos = bh_ring->tail;
	head = bh_ring->head;
	SpinLockRelease(&bh_ring->mutex);

	while (n < max_events && pos < head && pos < until)
	{
		BhRingHeader *hdr = bh_ring_header(pos);
		uint32		len;
		uint16		ready = hdr->ready;
		char	   *copy;

		if (ready != BH_RING_READY_JSONB)
			break;				/* a producer is still copying it */
		pg_read_barrier();
		len = hdr->len;
		if (len == 0 || BH_RING_RECLEN((uint64) len) > bh_ring->max_record ||
			pos + BH_RING_RECLEN((uint64) len) > head)
			elog(PANIC, "bh_audit event ring is corrupt at position " UINT64_FORMAT,
				 pos);
		copy = palloc(len);
		bh_ring_copy_out(pos + sizeof(BhRingHeader), copy, len);
		if (VARSIZE(copy) != len)
			elog(PANIC, "bh_audit event ring is corrupt at position " UINT64_FORMAT,
				 pos);
		encodings[n] = (int) hdr->encoding;
		events[n++] = (Jsonb *) copy;
		pos += BH_RING_RECLEN((uint64) len);
	}
	*end_pos = pos;
	*drained = (pos == head);
	return n;
}

/*
 * The consumer: remove the n events up to end_pos (peeked, and sealed in a
 * committed transaction), and wake the producers waiting for room.
 * Returns true when events remain.
 */
bool
bh_ring_consume(uint64 end_pos, int n)
{
	bool		more;

	SpinLockAcquire(&bh_ring->mutex);
	Assert(end_pos >= bh_ring->tail && end_pos <= bh_ring->head);
	bh_ring->tail = end_pos;
	bh_ring->consumed += n;
	bh_failures_passed(&bh_ring->fail, end_pos);
	more = (bh_ring->head != bh_ring->tail);
	SpinLockRelease(&bh_ring->mutex);

	ConditionVariableBroadcast(&bh_ring->space_cv);
	return more;
}

/*
 * The consumer, stopping for the server's shutdown after its final drain:
 * nobody empties the ring any more, so a push that finds it full no longer
 * waits (see the header comment), and the producers waiting now are woken
 * to drop their events.
 */
void
bh_ring_close(void)
{
	SpinLockAcquire(&bh_ring->mutex);
	bh_ring->closed = true;
	SpinLockRelease(&bh_ring->mutex);
	ConditionVariableBroadcast(&bh_ring->space_cv);
}

/* The ring's tail and head positions now; see ring.h. */
void
bh_ring_positions(uint64 *tail, uint64 *head)
{
	*tail = 0;
	*head = 0;
	if (bh_ring == NULL)
		return;
	SpinLockAcquire(&bh_ring->mutex);
	*tail = bh_ring->tail;
	*head = bh_ring->head;
	SpinLockRelease(&bh_ring->mutex);
}

/*
 * Note that a batch holding the events from the tail up to end_pos failed
 * on a data error; alone: it held one, taken alone; with_queue: it held
 * queue rows too (see ring.h).
 */
void
bh_ring_note_failure(uint64 end_pos, bool alone, bool with_queue)
{
	SpinLockAcquire(&bh_ring->mutex);
	bh_failures_note(&bh_ring->fail, bh_ring->tail, end_pos, alone, with_queue);
	SpinLockRelease(&bh_ring->mutex);
}

/*
 * The account of failed batches (*account, see ring.h), and their number
 * in a row since the event at the tail became the oldest, or (while the
 * events that failed batches held are taken alone) since the event
 * counted before it did; 0 when the ring is empty.
 */
int
bh_ring_failures(BhFailures *account)
{
	memset(account, 0, sizeof(BhFailures));
	if (bh_ring == NULL)
		return 0;
	SpinLockAcquire(&bh_ring->mutex);
	if (bh_ring->head != bh_ring->tail)
		*account = bh_ring->fail;
	SpinLockRelease(&bh_ring->mutex);
	return account->count;
}

/*
 * Remove the event at the tail without sealing it (it cannot be sealed);
 * counted as dropped.  Returns false if there was no ready event.
 */
bool
bh_ring_discard_tail(void)
{
	uint64		pos;
	uint64		head;
	BhRingHeader *hdr;

	SpinLockAcquire(&bh_ring->mutex);
	pos = bh_ring->tail;
	head = bh_ring->head;
	SpinLockRelease(&bh_ring->mutex);

	if (pos == head)
		return false;
	hdr = bh_ring_header(pos);
	if (hdr->ready != BH_RING_READY_JSONB)
		return false;
	pg_read_barrier();
	(void) bh_ring_consume(pos + BH_RING_RECLEN((uint64) hdr->len), 1);
	bh_stats_add_dropped(1);
	return true;
}

PG_FUNCTION_INFO_V1(bh_audit_ring_push_test);

/*
 * A test hook, which the install script does not declare (the Perl tests
 * do, as ring_push(event json) RETURNS boolean): push one event into the
 * ring as the capture hooks do.  Superuser only, whoever was granted
 * EXECUTE: it adds nothing a superuser cannot do (write bh_audit.queue).
 * The event is validated like a queued one first, so that the sealer can
 * always chain it.
 */
Datum
bh_audit_ring_push_test(PG_FUNCTION_ARGS)
{
	char	   *json = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Datum		event;

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be superuser to push a raw event")));
	bh_require_preload();

	event = DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
	if (!bh_validate_for_emit(DatumGetJsonbP(event)))
		PG_RETURN_BOOL(false);

	PG_RETURN_BOOL(bh_ring_push_jsonb(DatumGetJsonbP(event)));
}
