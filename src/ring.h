/*-------------------------------------------------------------------------
 *
 * ring.h
 *		The shared-memory ring of autonomous events (reads, denials,
 *		failures, logins): many producers, one consumer (the sealer).
 *
 * See ring.c for the layout and the locking protocol.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_RING_H
#define BH_AUDIT_RING_H

#include "utils/jsonb.h"

/* Values of bh_audit.on_ring_full. */
typedef enum BhRingFullPolicy
{
	BH_RING_FULL_WAIT,
	BH_RING_FULL_ERROR,
	BH_RING_FULL_DROP
} BhRingFullPolicy;

/* Settings */
extern int	bh_ring_size_kb;	/* bh_audit.ring_size */
extern int	bh_on_ring_full;	/* bh_audit.on_ring_full (BhRingFullPolicy) */
extern int	bh_ring_wait_timeout_ms;	/* bh_audit.ring_wait_timeout */

/* _PG_init and the shared-memory hooks (bh_audit.c) */
extern void bh_ring_init(void);
extern void bh_ring_shmem_request(void);
extern void bh_ring_shmem_startup(void);

/*
 * Producers.  event is one complete event without integrity
 * (bh_event_build()), validated unless it was built in an error path.
 * Returns true when the event is in the ring.
 *
 * bh_ring_push_jsonb() may raise an ERROR (bh_audit.on_ring_full = error) or
 * process interrupts while it waits (= wait) only when called in a normal
 * transaction with interrupts allowed; in an XACT_EVENT_ABORT callback,
 * outside any transaction (ClientAuthentication_hook) or with interrupts
 * held it never throws: a full ring then means waiting with interrupts
 * held (bounded, and ended by a cancel or terminate request) or dropping.
 * Waiting is bounded by bh_audit.ring_wait_timeout for all the events of a
 * statement together (and again for its failure and the transaction ends
 * within it), not for each event: see ring.c.
 *
 * Inside a PG_CATCH block the transaction still looks normal, so call
 * bh_ring_push_jsonb_nothrow() there: it never raises an ERROR and never
 * services interrupts.  The event that records the error being handled (a
 * statement's FAILURE, or the denial its error is) goes through
 * bh_ring_push_jsonb_failure(), which does the same within the budget of
 * waiting of the statement's failure, not the one its other events spent;
 * so do the READ events of what a failing statement read, pushed just
 * before it, and those an end of a transaction flushes.
 * bh_ring_push_jsonb_nowait() neither throws nor services interrupts, and
 * drops the event at once (counted) if the ring is full.
 *
 * The record carries the encoding of the event's strings: the database
 * encoding (GetDatabaseEncoding()), or for bh_ring_push_jsonb_nothrow() the
 * one given (PG_SQL_ASCII for bytes of unknown encoding, a login's names).
 */
extern bool bh_ring_push_jsonb(const Jsonb *event);
extern bool bh_ring_push_jsonb_nothrow(const Jsonb *event, int encoding);
extern bool bh_ring_push_jsonb_failure(const Jsonb *event);
extern bool bh_ring_push_jsonb_nowait(const Jsonb *event);

/*
 * Under bh_audit.on_ring_full = error, raise the ring's error now if it has
 * not bytes of room (the sum of bh_ring_record_bytes() of the events to
 * come): for events pushed later, when an error can no longer stop what
 * they record (emit.c, bh_ring_at_commit()).
 */
extern uint64 bh_ring_record_bytes(const Jsonb *event);
extern void bh_ring_require_room(uint64 bytes);

/* Events in the ring now (pushed or being pushed, not yet consumed). */
extern uint64 bh_ring_count(void);

/* Is at least half of the ring's space taken (the sealer seals at once)? */
extern bool bh_ring_half_full(void);

/*
 * The same, for the postmaster discarding shared memory once every other
 * process is gone (no lock taken); false when the counters make no sense.
 */
extern bool bh_ring_count_at_exit(uint64 *count);

/*
 * The consumer (the sealer only).  bh_ring_peek() copies up to max_events
 * ready events from the tail, none at or after position until
 * (PG_UINT64_MAX: no limit), into palloc'd copies without removing them,
 * and their encodings into encodings[];
 * *end_pos receives the position just past the last one, *drained whether
 * it stopped because it reached the head as seen at the start (the ring
 * held nothing more).  After the transaction that sealed
 * them commits, bh_ring_consume(end_pos, n) removes them; it returns true
 * when more events are waiting.
 */
extern int	bh_ring_peek(int max_events, uint64 until, Jsonb **events,
						 int *encodings, uint64 *end_pos, bool *drained);
extern bool bh_ring_consume(uint64 end_pos, int n);

/*
 * The sealer's final drain for the server's shutdown is done: a push that
 * finds the ring full drops its event at once from now on.
 */
extern void bh_ring_close(void);

/*
 * The ring's positions now (the sealer, for seal()): *head is just past
 * the last event reserved (pushed or being copied), *tail just past the
 * last one consumed (or discarded).  Positions only grow while shared
 * memory lasts: every event reserved before *head was read is consumed
 * once the tail has reached it.  Both 0 when there is no ring.
 */
extern void bh_ring_positions(uint64 *tail, uint64 *head);

/*
 * Poison protection (the sealer only): a batch holding ring events that
 * failed on a data error is noted with bh_ring_note_failure() (the event at
 * the tail first, end_pos just past the last it held, whether it held
 * queue rows too); bh_ring_failures() gives the account, and
 * bh_ring_discard_tail() removes the event at the tail (counted dropped).
 * The sealer counts the queue's rows the same way (sealer.c).
 */

/*
 * A batch that failed this many times in a row on a data error is taken
 * again one event (or queue row) per batch, up to the last one the failed
 * batches held, so that a bad one is found wherever it was in the batch;
 * one that fails BH_DISCARD_AFTER times alone is discarded.  When the
 * failed batches held both ring events and queue rows, the sealer first
 * finds out which of them is to blame (sealer.c, bh_take_events), and
 * takes only those one by one.
 */
#define BH_ISOLATE_AFTER 2
#define BH_DISCARD_AFTER 2

/*
 * Failed batches in a row that held the same event or row first: "at" is
 * its ring position or queue id, "count" how many failed holding it (with
 * others, then alone), "alone" how many of them held it alone, "to" the
 * last the failed batches held (a queue id, or the ring position just past
 * the event), "with_other" whether the last of them held events of the
 * other source too (queue rows for the ring's account, ring events for the
 * queue's).  Kept in shared memory (a failed batch ends the sealer's
 * process), under the lock of the struct holding it.
 */
typedef struct BhFailures
{
	uint64		at;
	uint64		to;
	int			count;			/* 0: no failure noted */
	int			alone;
	bool		with_other;
} BhFailures;

/*
 * Note a failed batch that held first .. last.  alone: it held one, taken
 * alone while the count was at least BH_ISOLATE_AFTER; if that is not the
 * one counted, it is one after it that the failed batches held too.
 */
static inline void
bh_failures_note(BhFailures *f, uint64 first, uint64 last, bool alone,
				 bool with_other)
{
	bool		same = (f->count > 0 && f->at == first);

	if (!same)
	{
		/* alone: the failed batches that held several held this one too */
		f->count = alone ? f->count - f->alone : 0;
		f->alone = 0;
	}
	f->at = first;
	f->with_other = with_other;
	f->count++;
	if (alone)
		f->alone++;
	else if (f->count == 1 || last > f->to)
		f->to = last;
}

/*
 * Events or rows up to last are gone: sealed by a batch that committed, or
 * discarded.  The account ends, unless some the failed batches held are
 * still to be taken alone.
 */
static inline void
bh_failures_passed(BhFailures *f, uint64 last)
{
	if (f->count < BH_ISOLATE_AFTER || last >= f->to)
		f->count = 0;
	else
		f->count -= f->alone;
	f->alone = 0;
}

extern void bh_ring_note_failure(uint64 end_pos, bool alone, bool with_queue);
extern int	bh_ring_failures(BhFailures *account);
extern bool bh_ring_discard_tail(void);

#endif							/* BH_AUDIT_RING_H */
