/*-------------------------------------------------------------------------
 *
 * sealer_internal.h
 *		What the sealer's three files share: the sealer's shared memory
 *		(sealer.c; it also holds the postmaster's bh_audit.enabled, which
 *		settings_guard.c publishes there and reads back), its batch in
 *		progress, which queue_take.c fills as it takes the queue's rows, and
 *		the locks seal_wait.c looks at to tell whether seal() can wait.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_SEALER_INTERNAL_H
#define BH_SEALER_INTERNAL_H

#include "executor/tuptable.h"
#include "storage/condition_variable.h"
#include "storage/latch.h"
#include "storage/spin.h"

#include "bh_audit.h"
#include "ring.h"

extern bool bh_chain_lock_held(Oid relid);
extern bool bh_lock_blocks_sealer(Oid relid, bool row_locks);

/*
 * The sealer's shared memory: its process, and the hand-off with seal()
 * (seal_wait.c; see sealer.c, "Hand-off protocol").
 */
typedef struct BhSealerShared
{
	slock_t		mutex;
	Latch	   *latch;			/* the sealer's latch, NULL when not running */
	int			pid;
	uint64		requests;		/* seal() requests made */
	uint64		served;			/* requests answered */
	uint64		sealed_total;	/* events sealed since startup */
	int			failed_connects;	/* starts that did not get connected */
	int			encoding;		/* its database's encoding, -1 until connected */
	bool		registered;		/* the postmaster registered the worker */
	int			worker_pid;		/* a sealer process (connected or not), 0:
								 * none */
	bool		ever_started;	/* one has started since shared memory was
								 * made */
	int64		gone_since;		/* when the last one exited (or shared memory
								 * was created), by bh_monotonic_us():
								 * CLOCK_MONOTONIC is system-wide, so stamps
								 * of different processes compare */
	BhFailures	queue_failed;	/* failed batches in a row, by the ids of the
								 * queue rows they held */
	uint64		refusals;		/* batches failed on the ledger's definition */
	char		refusal[256];	/* the last one's message */
	uint64		refused_at;		/* sealed_total when it was made */
	int64		poked_at;		/* when bh_sealer_wake() last woke the
								 * postmaster for a restart */
	bool		server_enabled; /* bh_audit.enabled as the postmaster has it
								 * (settings_guard.c, bh_enabled_publish) */
	ConditionVariable cv;
} BhSealerShared;
extern BhSealerShared *bh_sealer;

/*
 * A batch takes queue rows until their events reach this size, whatever
 * bh_audit.seal_batch_size allows (at least one row): events of wide
 * tables (an UPDATE of a thousand columns names them all, 100 kB an event)
 * would otherwise make a batch of gigabytes and tens of seconds, while
 * readers wait for the ring's room, which only a batch's commit frees.
 */
#define BH_BATCH_MAX_BYTES (64 * 1024 * 1024)

/*
 * The sealer's batch in progress (sealer.c; not a local: read after its
 * transaction, and in the PG_CATCH of bh_seal_pass); the queue's rows it
 * took are noted by queue_take.c.
 */
typedef struct BhBatchState
{
	bool		installed;		/* the extension exists */
	int64		n;				/* events sealed */
	bool		seen_empty;		/* the queue and the ring were seen empty */
	int			ring_n;			/* ring events taken, to consume at commit */
	uint64		ring_end;		/* ring position just past them */
	bool		noted;			/* it sealed bh_sealer_enabled_note's event */
	BhLossNote	loss;			/* the loss event it sealed, if any */
	int64		queue_rows;		/* rows it deleted from the queue */
	int64		queue_bytes;	/* the size of their events */
	int64		queue_first;	/* the first queue row it took, 0: none */
	int64		queue_last;		/* the last one */
	bool		queue_scanned;	/* it scanned the queue */
	bool		queue_from_start;	/* ... from its first row (no mark) */
	bool		queue_out;		/* ... and found fewer events than it took */
	bool		queue_failing;	/* batches holding queue rows failed before */
	bool		queue_alone;	/* it takes one queue row, nothing else */
	bool		ring_alone;		/* it takes one ring event, nothing else */
	bool		ring_apart;		/* it takes the ring's events that failed
								 * batches held with queue rows, nothing else */
	int64		discarded;		/* events it could not hash (no canonical
								 * form) */
	bool		home_checked;	/* it compared the ledger's home (home.c) */
	uint64		home_gen;		/* ... as of this invalidation count */
} BhBatchState;
extern BhBatchState bh_batch;

/* queue_take.c: taking committed rows out of bh_audit.queue, in id order */
extern int64 bh_queue_mark;
extern int64 bh_take_queued(int batch_size, int max_rows, Datum **events, int64 *cap);
extern int64 bh_queue_max_id(void);

#endif							/* BH_SEALER_INTERNAL_H */
