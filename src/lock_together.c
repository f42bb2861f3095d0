/*-------------------------------------------------------------------------
 *
 * lock_together.c
 *		Take several heavyweight locks together without waiting for one
 *		while holding another (bh_lock_together()), for the drop of the
 *		extension (extension_drop.c) and each sealer batch (sealer.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/timestamp.h"

#include "bh_audit.h"

/*
 * Take the lock tag in mode, waiting for it no longer than what is left of
 * lock_timeout since start: a wait in rounds (bh_lock_together()) fails as
 * one wait as long would (55P03, PostgreSQL's error), not only if one
 * round's wait is.
 */
static void
bh_lock_wait(const LOCKTAG *tag, LOCKMODE mode, TimestampTz start)
{
	long		left;
	int			nest;
	char		ms[32];

	if (LockTimeout <= 0)
	{
		(void) LockAcquire(tag, mode, false, false);
		return;
	}
	if (LockAcquire(tag, mode, false, true) != LOCKACQUIRE_NOT_AVAIL)
		return;					/* no wait */
	left = LockTimeout -
		TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
	if (left <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("canceling statement due to lock timeout")));
	nest = NewGUCNestLevel();
	snprintf(ms, sizeof(ms), "%ld", left);
	(void) set_config_option("lock_timeout", ms, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) LockAcquire(tag, mode, false, false);
	AtEOXact_GUC(true, nest);
}

/*
 * Take the n locks tags[i] in modes[i] together, never waiting for one
 * while holding another: tags[0] is waited for first; then, holding the
 * one waited for, the others are taken where they are free at once; where
 * one is not, all are let go of, that one is waited for, and so on.  Any
 * order of waits with locks held would have the caller wait for a
 * transaction that holds one of them and waits for another (a deadlock,
 * one of the two lost), so the caller gives way: it waits for them to
 * commit, holding none of the locks, and takes them all once none is in
 * its way.  Each wait is a lock wait (no polling); under a sustained load
 * it may take rounds: lock_timeout bounds their sum from start
 * (bh_lock_wait()).  A lock held already stays held.  Used by the drop of
 * the extension (extension_drop.c) and by each sealer batch (sealer.c).
 */
void
bh_lock_together(const LOCKTAG *tags, const LOCKMODE *modes, int n,
				 TimestampTz start)
{
	int			awaited = 0;

	for (;;)
	{
		int			i;
		int			busy = -1;

		bh_lock_wait(&tags[awaited], modes[awaited], start);
		for (i = 0; i < n; i++)
		{
			if (i != awaited &&
				LockAcquire(&tags[i], modes[i], false, true) == LOCKACQUIRE_NOT_AVAIL)
			{
				busy = i;
				break;
			}
		}
		if (busy < 0)
			break;
		for (i = 0; i < busy; i++)
			if (i != awaited)
				LockRelease(&tags[i], modes[i], false);
		LockRelease(&tags[awaited], modes[awaited], false);
		awaited = busy;
		CHECK_FOR_INTERRUPTS();
	}
	/* what changed in the catalogs while waiting, as LockRelationOid() */
	AcceptInvalidationMessages();
}
