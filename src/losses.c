/*-------------------------------------------------------------------------
 *
 * losses.c
 *		Events that never reached the chain, recorded in the chain.
 *
 * Two kinds of event can be lost after they were made: those still in the
 * ring when shared memory goes (a crash restart, an immediate shutdown,
 * events pushed after a clean shutdown's final drain: by sessions a fast
 * shutdown terminates, by walsenders), and those counted in
 * events_dropped_total (a full ring under bh_audit.on_ring_full = drop or
 * after bh_audit.ring_wait_timeout, or after that final drain,
 * bh_audit.validation_mode = drop, an unsealable ring event the sealer
 * discarded).  The server log says so,
 * and the counters count them, but neither survives; an auditor reading
 * the ledger would see no gap.  So the sealer records every such loss as
 * an event of its own, chained like any other: resource AuditLog
 * (bh_audit.events), action OTHER "audit events lost", outcome FAILURE,
 * error_type EventsLost, and the numbers in its metadata
 * (events_lost_in_ring, events_dropped, unclean_stops,
 * events_lost_in_sessions).
 *
 * And events not made yet are lost with the process that would have made
 * them: a statement's read set (the patients it has read so far) lives in
 * its backend until its ExecutorEnd, its failure or its transaction's end
 * (capture_read.c), so a statement still running, a cursor left open
 * after a FETCH, or a protocol portal suspended after some rows (the
 * client has them), holds READ events
 * that a crash restart or an immediate shutdown takes away with the backend
 * (it exits without its abort callbacks); so does a transaction that
 * narrowed read capture (emit.c: the record its rollback would push).
 * Each backend keeps, in a slot of its own in shared memory (one per
 * PGPROC, index pgprocno), the number of such events it holds: the READ
 * (or EXPORT) events its statements' read sets would give and have not
 * pushed yet, refreshed as the read sets grow (also in the middle of a
 * run: a COPY TO streams its rows to the client as they are read) and
 * lowered once they are pushed, and its records of narrowing changes; the
 * postmaster adds the slots up when it discards shared memory, as it
 * counts the ring (events_lost_in_sessions).  Pushed first, lowered after:
 * a crash in between counts those events twice (in the ring and in the
 * slot), never not at all.
 *
 * A third kind is lost without anything to count it: what the ring of the
 * server this one came from held.  A server started from a base backup
 * (pg_basebackup, or a copy taken by pg_backup_start/stop without
 * pg_stat_tmp) or after pg_rewind has no account (the directory below is
 * left out of them);
 * a server that started in archive recovery (standby.signal or
 * recovery.signal at the postmaster's start) and left it, by a promotion
 * or at a recovery target, follows a server whose ring at that moment is
 * not known.  Such a start is recorded too, with the reason in the
 * metadata key ring_account:
 *	- no account found: only if the ledger already held events when the
 *	  sealer first looked at it (a new cluster has no account either, and
 *	  nothing to account for: its ledger is empty, or not created yet);
 *	- recovery ended: when the sealer first runs after it (it does not run
 *	  during recovery), unless the extension does not exist in its database;
 *	  a standby made from a base backup has no account either, and records
 *	  this one reason.
 * A planned switchover (the old primary stopped cleanly first) cannot be
 * told from a failover by the new primary: it is recorded the same way.
 *
 * The end of recovery is also where the chain may depart from the one
 * the previous server went on with: a point-in-time recovery, or a
 * failover to a standby that was behind, discards every event sealed
 * after the point where recovery ended, as it discards every other
 * change, and the chain goes on from there, giving the later seq numbers
 * to other events.  So the event says where and why, with facts that
 * PostgreSQL keeps, none of them PHI: timeline (the one the server writes
 * when the event is made) and, from that timeline's history file
 * (pg_wal/<timeline>.history, written as recovery ended), where it left
 * its parent: previous_timeline, timeline_switch_lsn (X/X) and
 * recovery_end (PostgreSQL's words: "at restore point ...", "before
 * <time>", "no recovery target specified", ...; sanitised as error
 * messages are: a restore point's name is free text).  They describe the
 * timeline the server is on: a standby started without its
 * standby.signal switched none, and says what the history file of its
 * timeline says, if it has one.  On timeline 1, or when the history file
 * cannot be read or parsed, the four keys are left out; the loss event is
 * made all the same.
 *
 * The ring's contents die with shared memory, so the postmaster (or a
 * single-user backend, postgres --single, whose ring no sealer drains:
 * each event it captures is lost at its exit) keeps the account in a
 * small file, pg_stat_tmp/bh_audit_losses (the directory
 * base backups and pg_rewind leave out, so that a standby does not inherit
 * its primary's account):
 *	- when it creates shared memory (server start, or again after a crash)
 *	  it reads the file: losses of earlier shared memory not yet recorded,
 *	  and one "unclean stop" if the file still says "running" (the
 *	  postmaster was killed, or the machine stopped: nothing counted what
 *	  the ring held).  It hands them to the sealer through shared memory
 *	  and writes "running" with them, so that they survive another crash;
 *	- when it discards shared memory (shmem_exit: any shutdown, and before
 *	  re-initialising after a crash; every other process is gone by then)
 *	  it writes "stopped" with what is still unrecorded, plus the events
 *	  left in the ring, the drops not recorded yet and the backends' slots
 *	  (a process that crashed may have written over them: a count past any
 *	  plausible one, here or in the file, is taken for an unclean stop);
 *	- the sealer adds the loss event to a batch when there is anything to
 *	  report, and after that batch commits marks it recorded (and writes
 *	  "running" with nothing pending).  Dying between the commit and the
 *	  file's rewrite reports the earlier losses twice, never not at all.
 *	  A start without an account that a batch finds nothing to account
 *	  for (an empty ledger) is forgotten as the batch finds it, before its
 *	  commit: once the ledger holds events, it would read as a copy's.
 *
 * A full disk must not make a loss silent.  The file is written as a .tmp
 * file renamed over it, which needs new space; when that fails it is
 * overwritten in place (a file of a few dozen bytes already has its block,
 * so this needs none; a machine stopping in the middle may leave it torn,
 * which reads as an unclean stop), and when that fails too it is emptied
 * (truncating needs no space), which reads as an unclean stop: a killed
 * postmaster is never taken for a clean stop, nor a count for a smaller
 * one.  Only when even that fails (the file cannot be opened for writing)
 * is the account left as it was, with a WARNING.  And across a crash
 * restart the account does not depend on the file at all: the postmaster
 * discards shared memory and creates the new one itself, so it keeps what
 * it counted in its own memory and hands that over (the file is read only
 * by a new postmaster).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <unistd.h>

#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"

#include "bh_audit.h"
#include "event.h"
#include "ring.h"
#include "sanitize.h"

#define BH_LOSSES_FILE		PG_STAT_TMP_DIR "/bh_audit_losses"
#define BH_LOSSES_TMP_FILE	BH_LOSSES_FILE ".tmp"
#define BH_LOSSES_HEADER	"bh_audit losses 3"
/* an account written before held was kept */
#define BH_LOSSES_HEADER_2	"bh_audit losses 2"
/* an account written before no_account and recovery were kept */
#define BH_LOSSES_HEADER_1	"bh_audit losses 1"

/* recovery_end: at most this many characters (a restore point's name is 63 bytes) */
#define BH_RECOVERY_END_CHARS	200

/* The reasons recorded in ring_account. */
#define BH_RING_ACCOUNT_NONE \
	"no account found: started from a backup or a copy of the data directory"
#define BH_RING_ACCOUNT_RECOVERY \
	"recovery ended (promotion, or a recovery target): the previous server's ring is not known"

typedef struct BhLossesShared
{
	slock_t		mutex;
	BhLosses	earlier;		/* of earlier shared memory, not yet recorded */
	uint64		dropped_recorded;	/* events_dropped_total recorded so far */
	pg_atomic_uint64 held[FLEXIBLE_ARRAY_MEMBER];	/* by pgprocno: events a
													 * backend holds, not made
													 * yet */
} BhLossesShared;

static BhLossesShared *bh_losses = NULL;

/*
 * The postmaster's account of the shared memory it discarded after a
 * crash, for the shared memory it creates next (see bh_losses_shmem_exit).
 */
static BhLosses bh_losses_carried;
static bool bh_losses_carrying = false;

/*
 * More events than any count of losses can reach between two starts of
 * shared memory (2^48: a million a second for nine years): a larger
 * number read from shared memory was written over.
 */
#define BH_LOSSES_PLAUSIBLE (UINT64CONST(1) << 48)

static bool
bh_losses_plausible(const BhLosses *l)
{
	return l->ring_lost < BH_LOSSES_PLAUSIBLE && l->dropped < BH_LOSSES_PLAUSIBLE &&
		l->unclean < BH_LOSSES_PLAUSIBLE && l->held < BH_LOSSES_PLAUSIBLE;
}

/*
 * Counts that make no sense are not believed: one unclean stop instead,
 * whose losses nothing counted (the reasons a start had no account kept).
 */
static void
bh_losses_distrust(BhLosses *l)
{
	bool		no_account = l->no_account;
	bool		recovery = l->recovery;

	memset(l, 0, sizeof(*l));
	l->unclean = 1;
	l->no_account = no_account;
	l->recovery = recovery;
}

/*
 * Slots of backends that may hold events: one per PGPROC of a backend
 * or a background worker (pgprocno below MaxBackends; the auxiliary
 * processes' and prepared transactions' come after them, and run no
 * statements).
 */
static int
bh_losses_slots(void)
{
	return MaxBackends;
}

static Size
bh_losses_size(void)
{
	return add_size(offsetof(BhLossesShared, held),
					mul_size(bh_losses_slots(), sizeof(pg_atomic_uint64)));
}

/* This backend's slot, or NULL (set up at its first use). */
static pg_atomic_uint64 *bh_losses_my_slot = NULL;

/* A backend's exit: it holds nothing any more (its abort flush has run). */
static void
bh_losses_slot_exit(int code, Datum arg)
{
	if (bh_losses_my_slot != NULL)
		pg_atomic_write_u64(bh_losses_my_slot, 0);
	bh_losses_my_slot = NULL;
}

/*
 * This backend's counts in its slot: held READ events, narrowing records,
 * events its committing transaction pushes once committed.
 */
static int64 bh_losses_my_reads = 0;
static int64 bh_losses_my_notes = 0;
static int64 bh_losses_my_commit = 0;

/*
 * Store this backend's count of held events in its slot: a plain store to a
 * slot only this backend writes; nobody reads it but the postmaster, once
 * every other process is gone.  The slot may hold what an earlier owner of
 * the PGPROC left (it is cleared at exit, but a backend's PGPROC is not
 * always the one it last had): the first use overwrites it.
 */
static void
bh_losses_store_held(void)
{
	if (bh_losses_my_slot == NULL)
	{
		if (bh_losses == NULL || MyProc == NULL || MyProc->pgprocno < 0 ||
			MyProc->pgprocno >= bh_losses_slots())
			return;
		bh_losses_my_slot = &bh_losses->held[MyProc->pgprocno];
		on_shmem_exit(bh_losses_slot_exit, (Datum) 0);
	}
	pg_atomic_write_u64(bh_losses_my_slot,
						(uint64) (Max(bh_losses_my_reads, 0) + Max(bh_losses_my_notes, 0) +
								  Max(bh_losses_my_commit, 0)));
}

/*
 * A backend: its statements' read sets would now give n READ (or EXPORT)
 * events not pushed yet (capture_read.c calls this only when n changed, n
 * lowered only after the events were pushed).
 */
void
bh_losses_held_reads(int64 n)
{
	bh_losses_my_reads = n;
	bh_losses_store_held();
}

/*
 * A backend: its transaction holds n records of changes narrowing read
 * capture, which its rollback would push (emit.c; lowered after the push).
 */
void
bh_losses_held_notes(int64 n)
{
	bh_losses_my_notes = n;
	bh_losses_store_held();
}

/*
 * A backend: its transaction, committing, holds n events that it pushes
 * through the ring once the commit is durable (stored settings changed
 * outside the sealer's database, emit.c): raised before the commit record,
 * lowered after each push.
 */
void
bh_losses_held_commit(int64 n)
{
	bh_losses_my_commit = n;
	bh_losses_store_held();
}

/* Were events counted as lost? */
static bool
bh_losses_counted(const BhLosses *l)
{
	return l->ring_lost > 0 || l->dropped > 0 || l->unclean > 0 || l->held > 0;
}

/* Is there anything to report (or to look at: no_account)? */
static bool
bh_losses_any(const BhLosses *l)
{
	return bh_losses_counted(l) || l->no_account || l->recovery;
}

/* Why the ring of an earlier server is not known; NULL: it is. */
static const char *
bh_losses_ring_account(const BhLosses *l)
{
	if (l->recovery)
		return BH_RING_ACCOUNT_RECOVERY;
	if (l->no_account)
		return BH_RING_ACCOUNT_NONE;
	return NULL;
}

/*
 * Replace the account with content through the .tmp file; false (logged)
 * if that could not be done.
 */
static bool
bh_losses_replace(const char *content, int len)
{
	FILE	   *f = AllocateFile(BH_LOSSES_TMP_FILE, PG_BINARY_W);

	if (f == NULL)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", BH_LOSSES_TMP_FILE)));
		return false;
	}
	if (fwrite(content, 1, len, f) != (size_t) len || ferror(f) || FreeFile(f) != 0)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", BH_LOSSES_TMP_FILE)));
		(void) unlink(BH_LOSSES_TMP_FILE);
		return false;
	}
	if (durable_rename(BH_LOSSES_TMP_FILE, BH_LOSSES_FILE, LOG) != 0)
	{
		(void) unlink(BH_LOSSES_TMP_FILE);
		return false;
	}
	return true;
}

/*
 * The account could not be replaced: write content over the file in place,
 * or else empty it (an unclean stop to its reader).  A missing file is
 * created (no data: that needs no block either).
 */
static void
bh_losses_overwrite(const char *content, int len)
{
	int			fd = OpenTransientFile(BH_LOSSES_FILE, O_WRONLY | O_CREAT | PG_BINARY);
	int			save_errno;

	if (fd >= 0)
	{
		errno = 0;
		if (pg_pwrite(fd, content, len, 0) == len &&
			ftruncate(fd, len) == 0 && pg_fsync(fd) == 0)
		{
			CloseTransientFile(fd);
			ereport(LOG,
					(errmsg("wrote file \"%s\" in place", BH_LOSSES_FILE)));
			return;
		}
		if (errno == 0)
			errno = ENOSPC;		/* a short write */
	}
	save_errno = errno;
	if (fd >= 0 && ftruncate(fd, 0) == 0 && pg_fsync(fd) == 0)
	{
		CloseTransientFile(fd);
		errno = save_errno;
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\" in place: %m", BH_LOSSES_FILE),
				 errdetail("The file was emptied, which reads as an unclean stop.")));
		return;
	}
	if (fd >= 0)
		CloseTransientFile(fd);
	errno = save_errno;
	ereport(WARNING,
			(errcode_for_file_access(),
			 errmsg("could not write the account of lost bh_audit events in file \"%s\": %m",
					BH_LOSSES_FILE),
			 errdetail("The file keeps its earlier content, which may not count the latest losses; a crash restart hands them over in the postmaster's memory.")));
}

/* Write the account: state "running" or "stopped" (never raises). */
static void
bh_losses_write(const char *state, const BhLosses *l)
{
	char		content[192];
	int			len;

	len = snprintf(content, sizeof(content), "%s\n%s %llu %llu %llu %d %d %llu\n",
				   BH_LOSSES_HEADER, state,
				   (unsigned long long) l->ring_lost,
				   (unsigned long long) l->dropped,
				   (unsigned long long) l->unclean,
				   l->no_account ? 1 : 0, l->recovery ? 1 : 0,
				   (unsigned long long) l->held);
	Assert(len > 0 && len < (int) sizeof(content));
	if (!bh_losses_replace(content, len))
		bh_losses_overwrite(content, len);
}

/*
 * Read the account left by the previous shared memory into l.  No file:
 * no account (a new cluster, bh_audit just added, or a server started
 * from a base backup: the sealer tells them apart by the ledger).  A file
 * that cannot be read or parsed, an empty one too (see
 * bh_losses_overwrite), counts as an unclean stop.
 */
static void
bh_losses_read(BhLosses *l)
{
	FILE	   *f = AllocateFile(BH_LOSSES_FILE, PG_BINARY_R);
	char		buf[256];
	size_t		len;
	char		state[16];
	unsigned long long ring_lost,
				dropped,
				unclean,
				held = 0;
	int			no_account = 0,
				recovery = 0;
	bool		parsed;

	memset(l, 0, sizeof(*l));
	if (f == NULL)
	{
		if (errno != ENOENT)
		{
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not open file \"%s\": %m", BH_LOSSES_FILE)));
			l->unclean = 1;
		}
		else
			l->no_account = true;
		return;
	}
	len = fread(buf, 1, sizeof(buf) - 1, f);
	buf[len] = '\0';
	parsed = (sscanf(buf, BH_LOSSES_HEADER " %15s %llu %llu %llu %d %d %llu",
					 state, &ring_lost, &dropped, &unclean,
					 &no_account, &recovery, &held) == 7 ||
			  sscanf(buf, BH_LOSSES_HEADER_2 " %15s %llu %llu %llu %d %d",
					 state, &ring_lost, &dropped, &unclean,
					 &no_account, &recovery) == 6 ||
			  sscanf(buf, BH_LOSSES_HEADER_1 " %15s %llu %llu %llu",
					 state, &ring_lost, &dropped, &unclean) == 4);
	if (!parsed || ferror(f) ||
		(strcmp(state, "running") != 0 && strcmp(state, "stopped") != 0))
	{
		ereport(LOG,
				(errmsg("file \"%s\" is not a bh_audit account of lost events: counted as an unclean stop",
						BH_LOSSES_FILE)));
		l->unclean = 1;
	}
	else
	{
		l->ring_lost = ring_lost;
		l->dropped = dropped;
		l->unclean = unclean + (strcmp(state, "running") == 0 ? 1 : 0);
		l->no_account = no_account != 0;
		l->recovery = recovery != 0;
		l->held = held;
		if (!bh_losses_plausible(l))
		{
			ereport(LOG,
					(errmsg("file \"%s\" counts more lost events than can be: counted as an unclean stop",
							BH_LOSSES_FILE)));
			bh_losses_distrust(l);
		}
	}
	FreeFile(f);
}

/*
 * The postmaster discards shared memory (code 0: a shutdown, of any mode;
 * otherwise an abnormal exit or the reset after a crash): every other
 * process has exited, so nothing is read under a lock, which a dead
 * process may hold.  The account is also kept in the postmaster's memory:
 * after a crash, the same postmaster creates shared memory again and takes
 * it from there, whether or not the file could be written.
 */
static void
bh_losses_shmem_exit(int code, Datum arg)
{
	BhLosses	l = bh_losses->earlier;
	uint64		in_ring;
	uint64		dropped = bh_stats_dropped();
	uint64		recorded = bh_losses->dropped_recorded;
	uint64		held = 0;
	int			i;

	/*
	 * A process that crashed may have written over any of it: the postmaster
	 * takes nothing from shared memory for its own control flow (the number
	 * of slots is its own), and a count that makes no sense is an unclean
	 * stop, whose losses nothing counted.
	 */
	if (!bh_losses_plausible(&l))
		bh_losses_distrust(&l);
	if (bh_ring_count_at_exit(&in_ring))
		l.ring_lost += in_ring;
	else
		l.unclean++;			/* the ring's counters make no sense */
	/* the events that backends held, not made yet, as they were killed */
	for (i = 0; i < bh_losses_slots(); i++)
	{
		uint64		n = pg_atomic_read_u64(&bh_losses->held[i]);

		if (n >= BH_LOSSES_PLAUSIBLE - held)
		{
			held = PG_UINT64_MAX;
			break;
		}
		held += n;
	}
	if (held == PG_UINT64_MAX)
		l.unclean++;
	else
		l.held += held;
	if (dropped > recorded && dropped - recorded < BH_LOSSES_PLAUSIBLE)
		l.dropped += dropped - recorded;
	else if (dropped > recorded)
		l.unclean++;
	if (!bh_losses_plausible(&l))
		bh_losses_distrust(&l);
	bh_losses_carried = l;
	bh_losses_carrying = true;
	bh_losses_write("stopped", &l);
}

void
bh_losses_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(bh_losses_size()));
}

void
bh_losses_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	bh_losses = ShmemInitStruct("bh_audit losses", bh_losses_size(), &found);
	if (!found)
	{
		int			i;

		SpinLockInit(&bh_losses->mutex);
		memset(&bh_losses->earlier, 0, sizeof(BhLosses));
		bh_losses->dropped_recorded = 0;
		for (i = 0; i < bh_losses_slots(); i++)
			pg_atomic_init_u64(&bh_losses->held[i], 0);
	}
	LWLockRelease(AddinShmemInitLock);

	/*
	 * The account is kept by the process that creates shared memory: the
	 * postmaster (the one it carried over a crash, or else the file's), or a
	 * single-user backend, which has no sealer beside it: what its ring holds
	 * at exit is lost, and counted for the next server.  (shmem_exit forgot
	 * the callback: it is registered again.)
	 */
	if (found || IsUnderPostmaster)
		return;
	if (bh_losses_carrying)
	{
		bh_losses->earlier = bh_losses_carried;
		bh_losses_carrying = false;
	}
	else
		bh_losses_read(&bh_losses->earlier);

	/*
	 * A signal file means archive recovery (the startup process, not yet
	 * started, removes it when recovery ends): if the server leaves it, the
	 * ring of the server it followed is not known.  Kept until recorded, so
	 * that a standby stopped and started without its standby.signal still
	 * says so.
	 */
	if (access(STANDBY_SIGNAL_FILE, F_OK) == 0 ||
		access(RECOVERY_SIGNAL_FILE, F_OK) == 0)
		bh_losses->earlier.recovery = true;
	if (bh_losses_counted(&bh_losses->earlier))
		ereport(LOG,
				(errmsg("bh_audit events were lost when the server last stopped: %llu in the ring, %llu dropped, %llu unclean stops, %llu events held by sessions (the sealer records this in the chain)",
						(unsigned long long) bh_losses->earlier.ring_lost,
						(unsigned long long) bh_losses->earlier.dropped,
						(unsigned long long) bh_losses->earlier.unclean,
						(unsigned long long) bh_losses->earlier.held)));
	bh_losses_write("running", &bh_losses->earlier);
	on_shmem_exit(bh_losses_shmem_exit, (Datum) 0);
}

/*
 * The sealer: does bh_losses_event need to know whether the ledger held
 * events before this batch (no account was found)?
 */
bool
bh_losses_ledger_asked(void)
{
	bool		asked;

	if (bh_losses == NULL)
		return false;
	SpinLockAcquire(&bh_losses->mutex);
	asked = bh_losses->earlier.no_account && !bh_losses->earlier.recovery;
	SpinLockRelease(&bh_losses->mutex);
	return asked;
}

/*
 * The sealer found the ledger empty after a start without an account: that
 * start had nothing to account for, whether or not the batch that looked
 * commits (a ledger empty now was empty at the start).  Forgotten at once,
 * in shared memory and in the file, not after the batch's commit: a commit
 * that waits for a synchronous standby, an immediate stop meanwhile, and
 * the next start took this cluster's first events for a copy's.
 */
static void
bh_losses_dismiss_no_account(void)
{
	BhLosses	left;

	SpinLockAcquire(&bh_losses->mutex);
	if (!bh_losses->earlier.no_account)
	{
		SpinLockRelease(&bh_losses->mutex);
		return;
	}
	bh_losses->earlier.no_account = false;
	left = bh_losses->earlier;
	SpinLockRelease(&bh_losses->mutex);
	bh_losses_write("running", &left);
}

/*
 * The end of recovery, for the loss event that says recovery ended: the
 * timeline the server writes, and from its history file the last switch,
 * the one into that timeline (see the header).  Nothing on timeline 1, or
 * if the file cannot be read or its last line parsed: never an error,
 * which would lose the loss event's batch.  Read with plain stdio, and
 * nothing between the open and the close can raise an error.
 */
static void
bh_losses_timeline(BhEvent *ev)
{
	TimeLineID	tli;
	char		path[MAXPGPATH];
	FILE	   *f;
	char		line[1024];
	char		reason[1024];
	bool		at_start = true;
	bool		found = false;
	bool		failed;
	unsigned int parent = 0,
				hi = 0,
				lo = 0;
	int			len;

	if (RecoveryInProgress())
		return;
	tli = GetWALInsertionTimeLine();
	if (tli <= 1)
		return;
	TLHistoryFilePath(path, tli);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	reason[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL)
	{
		bool		line_start = at_start;
		char	   *p = line;
		char	   *tab;
		unsigned int l_parent,
					l_hi,
					l_lo;

		/* a line longer than the buffer: its first part only */
		len = strlen(line);
		at_start = len > 0 && line[len - 1] == '\n';
		if (!line_start)
			continue;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		/* "<parent>\t<X/X>\t<reason>", as PostgreSQL writes it */
		if (sscanf(p, "%u\t%X/%X", &l_parent, &l_hi, &l_lo) != 3 ||
			(tab = strchr(p, '\t')) == NULL ||
			(tab = strchr(tab + 1, '\t')) == NULL)
		{
			found = false;		/* not a history file's line */
			break;
		}
		parent = l_parent;
		hi = l_hi;
		lo = l_lo;
		strlcpy(reason, tab + 1, sizeof(reason));
		found = true;
	}
	failed = ferror(f) != 0;
	fclose(f);
	if (failed || !found || parent >= tli)
		return;

	/* trimmed; bytes that are not text in the database's encoding: '?' */
	len = strlen(reason);
	while (len > 0 && (reason[len - 1] == '\n' || reason[len - 1] == '\r' ||
					   reason[len - 1] == ' ' || reason[len - 1] == '\t'))
		reason[--len] = '\0';
	if (!pg_verifymbstr(reason, len, true))
	{
		int			i;

		for (i = 0; i < len; i++)
			if (IS_HIGHBIT_SET(reason[i]))
				reason[i] = '?';
	}
	if (len == 0)
		return;

	bh_event_meta_int(ev, "timeline", (int64) tli);
	bh_event_meta_int(ev, "previous_timeline", (int64) parent);
	bh_event_meta_string(ev, "timeline_switch_lsn", psprintf("%X/%X", hi, lo));
	/* an administrator's free text (a restore point's name): sanitised */
	bh_event_meta_string(ev, "recovery_end",
						 bh_sanitize_error_message(reason, BH_RECOVERY_END_CHARS));
}

/*
 * The sealer, before a batch: might bh_losses_event() have a loss to
 * report (a batch that may write the ledger)?  Without distrust or
 * dismissal: a loss it then finds nothing of only costs the ledger's lock.
 */
bool
bh_losses_pending(void)
{
	BhLosses	earlier;
	uint64		dropped = bh_stats_dropped();
	bool		newly_dropped;

	if (bh_losses == NULL)
		return false;
	SpinLockAcquire(&bh_losses->mutex);
	earlier = bh_losses->earlier;
	newly_dropped = dropped > bh_losses->dropped_recorded;
	SpinLockRelease(&bh_losses->mutex);
	return newly_dropped || bh_losses_any(&earlier);
}

/*
 * The sealer: what to report now, into *note; returns the loss event, or
 * NULL when nothing was lost since the last one.  ledger_had_events: the
 * ledger held events before this batch (asked only when
 * bh_losses_ledger_asked()); if it did not, a start without an account was
 * the cluster's first (or the extension's), and there is nothing to report.
 */
Jsonb *
bh_losses_event(BhLossNote *note, bool ledger_had_events)
{
	const char *ring_account;
	BhEvent		ev;
	uint64		dropped = bh_stats_dropped();

	memset(note, 0, sizeof(*note));
	if (bh_losses == NULL)
		return NULL;
	SpinLockAcquire(&bh_losses->mutex);
	note->losses = bh_losses->earlier;
	if (dropped > bh_losses->dropped_recorded)
		note->losses.dropped += dropped - bh_losses->dropped_recorded;
	SpinLockRelease(&bh_losses->mutex);
	note->dropped_total = dropped;
	/* written over by a process that crashed just before (see above) */
	if (!bh_losses_plausible(&note->losses))
		bh_losses_distrust(&note->losses);
	if (note->losses.no_account && !note->losses.recovery && !ledger_had_events)
	{
		note->losses.no_account = false;
		note->dismissed = true;
		bh_losses_dismiss_no_account();
	}
	if (!bh_losses_any(&note->losses))
		return NULL;

	bh_event_init(&ev, "OTHER", BH_RESOURCE_AUDIT_LOG);
	ev.action_name = "audit events lost";
	ev.resource_id = "bh_audit.events";
	ev.phi_touched = 0;
	ev.data_classification = "NONE";
	ev.outcome = "FAILURE";
	ev.error_type = "EventsLost";
	ev.error_message = "audit events were lost before they reached the chain";
	if (note->losses.ring_lost > 0)
		bh_event_meta_int(&ev, "events_lost_in_ring", (int64) note->losses.ring_lost);
	if (note->losses.dropped > 0)
		bh_event_meta_int(&ev, "events_dropped", (int64) note->losses.dropped);
	if (note->losses.unclean > 0)
		bh_event_meta_int(&ev, "unclean_stops", (int64) note->losses.unclean);
	if (note->losses.held > 0)
		bh_event_meta_int(&ev, "events_lost_in_sessions",
						  (int64) note->losses.held);
	ring_account = bh_losses_ring_account(&note->losses);
	if (ring_account != NULL)
		bh_event_meta_string(&ev, "ring_account", ring_account);
	if (note->losses.recovery)
		bh_losses_timeline(&ev);
	note->taken = true;
	return bh_event_build(&ev, NULL);
}

/*
 * The sealer found no ledger (the extension does not exist in its
 * database): the ring of an earlier server held nothing it could have
 * chained, so a start without an account or the end of recovery has
 * nothing to report.
 */
void
bh_losses_no_ledger(void)
{
	BhLosses	left;

	if (bh_losses == NULL)
		return;
	SpinLockAcquire(&bh_losses->mutex);
	if (!bh_losses->earlier.no_account && !bh_losses->earlier.recovery)
	{
		SpinLockRelease(&bh_losses->mutex);
		return;
	}
	bh_losses->earlier.no_account = false;
	bh_losses->earlier.recovery = false;
	left = bh_losses->earlier;
	SpinLockRelease(&bh_losses->mutex);
	bh_losses_write("running", &left);
}

/* The sealer, after the batch holding note's event (if any) committed. */
void
bh_losses_recorded(const BhLossNote *note)
{
	bool		earlier;
	const char *ring_account;

	if (!note->taken && !note->dismissed)
		return;
	SpinLockAcquire(&bh_losses->mutex);
	earlier = bh_losses_any(&bh_losses->earlier);
	memset(&bh_losses->earlier, 0, sizeof(BhLosses));
	if (note->dropped_total > bh_losses->dropped_recorded)
		bh_losses->dropped_recorded = note->dropped_total;
	SpinLockRelease(&bh_losses->mutex);
	if (earlier)
	{
		BhLosses	none = {0};

		bh_losses_write("running", &none);
	}
	ring_account = note->taken ? bh_losses_ring_account(&note->losses) : NULL;
	if (ring_account != NULL)
		ereport(LOG,
				(errmsg("bh_audit sealer records in the chain that the ring of an earlier server is not known: %s",
						ring_account)));
}
