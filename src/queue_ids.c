/*-------------------------------------------------------------------------
 *
 * queue_ids.c
 *		The ids of bh_audit.queue's rows, and every move of its sequence.
 *
 * The queue's ids are not taken by nextval(): it makes the sequence the
 * session's "last used" one, whose value lastval() gives (a driver's last
 * insert id, PDO::lastInsertId(), would be the queue's id, or refused to a
 * role that may not read the queue's sequence).  The backends of a
 * database take them instead, one at a time in increasing order (the
 * sealer relies on a transaction that committed after another holding a
 * higher id), from a block of at most BH_QUEUE_ID_CHUNK ids in shared
 * memory, reserved in the queue's identity sequence: the id nextval()
 * would give read from the sequence (its value if not yet "called", as
 * after ALTER SEQUENCE ... RESTART or setval(..., false); else its value
 * plus its increment), and the sequence moved to the block's last id by
 * setval(), which does not touch lastval()'s sequence.  The block is used
 * only while the sequence stays where the reservation left it (its
 * relfilenode and value, called): any other move of it (ALTER SEQUENCE,
 * setval(), a rollback of a transaction that rewrote it) makes the next
 * write reserve a block again, from where the sequence is then
 * (bh_queue_next_id()), but never below an id given since the server
 * started or queued (bh_seq_floor(): a setval() or nextval() by a role
 * holding UPDATE on the sequence is not refused by PostgreSQL, nor can it
 * be by a hook); DROP DATABASE forgets the database's blocks
 * (bh_queue_ids_forget_database()).  A block holds the
 * ids nextval() would give: spaced by the sequence's increment (a negative
 * one is refused: the ids must increase), up to its MAXVALUE (none left:
 * the write fails as nextval() would; CYCLE is not followed, it would give
 * ids again).  setval() is WAL-logged as it runs, whatever becomes of the
 * transaction, and a commit that used one of the block's ids flushes the
 * WAL past it: a crash never hands out a committed id again.  After a
 * restart the blocks are empty, and the next is reserved after the
 * sequence's value.
 *
 * Two locks:
 *	- one LWLock guards the blocks in shared memory, held only to take an
 *	  id, to install a block or to forget one: nothing else is done, and
 *	  nothing waited for, while it is held;
 *	- a reservation, and every other move of the sequence, runs under the
 *	  sequence's SHARE UPDATE EXCLUSIVE lock, a heavyweight lock taken only
 *	  for the move and released after it (or by the abort on an error): it
 *	  conflicts with itself, not with the ROW EXCLUSIVE of nextval(),
 *	  setval() and the writing transactions, and it is cancellable and seen
 *	  by the deadlock detector.  A backend that finds its block empty takes
 *	  it, and uses the block another backend reserved meanwhile if there is
 *	  one.  The sequence's parameters are looked up in pg_sequence (a
 *	  catalog read that may wait for a lock on the catalog) before that
 *	  lock, so that a backend does not wait for the catalog while it keeps
 *	  the others from reserving.
 * A move of the sequence otherwise, by the extension, goes through the
 * same function under the same lock, and forgets this database's block
 * (its ids left unused): rows restored into the queue by SQL
 * (bh_audit_queue_restored(), emit.c), a sequence put back after a
 * replicated TRUNCATE (replication.c).  A block is forgotten as well when
 * its slot is taken by another database's (at most BH_QUEUE_ID_SLOTS
 * databases keep one).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/pg_sequence.h"
#include "commands/sequence.h"
#include "executor/tuptable.h"
#include "common/int.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "bh_audit.h"

#define BH_QUEUE_ID_CHUNK 1024
#define BH_QUEUE_ID_SLOTS 64

/* The lock that serialises the moves of a sequence (see above). */
#define BH_SEQ_MOVE_LOCK ShareUpdateExclusiveLock

typedef struct BhQueueIdBlock
{
	Oid			dbid;			/* InvalidOid: a free slot */
	Oid			seqid;
	int64		next;			/* the next id to give */
	int64		step;			/* the sequence's increment */
	int64		left;			/* ids left; 0: empty */
	Oid			relnode;		/* the sequence's relfilenode ... */
	int64		last;			/* ... and value (called) the block left */
	uint64		used;			/* when it last gave one (the ids' tick) */
} BhQueueIdBlock;

typedef struct BhQueueIds
{
	LWLock	   *lock;
	uint64		tick;
	BhQueueIdBlock blocks[BH_QUEUE_ID_SLOTS];
} BhQueueIds;

static BhQueueIds *bh_queue_ids = NULL;

void
bh_queue_ids_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(BhQueueIds)));
	RequestNamedLWLockTranche("bh_audit queue ids", 1);
}

void
bh_queue_ids_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	bh_queue_ids = ShmemInitStruct("bh_audit queue ids", sizeof(BhQueueIds), &found);
	if (!found)
	{
		memset(bh_queue_ids, 0, sizeof(BhQueueIds));
		bh_queue_ids->lock = &(GetNamedLWLockTranche("bh_audit queue ids"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

static void bh_seq_state(Oid seqid, LOCKMODE lockmode, Oid *relnode,
						 int64 *last_value, bool *is_called);

/* This database's block of the sequence seqid, or NULL; the LWLock held. */
static BhQueueIdBlock *
bh_queue_id_block(Oid seqid)
{
	int			i;

	for (i = 0; i < BH_QUEUE_ID_SLOTS; i++)
		if (bh_queue_ids->blocks[i].dbid == MyDatabaseId &&
			bh_queue_ids->blocks[i].seqid == seqid)
			return &bh_queue_ids->blocks[i];
	return NULL;
}

/* Take the next id of a block that has one left; the LWLock held. */
static int64
bh_queue_id_take(BhQueueIdBlock *block)
{
	int64		id = block->next;

	if (--block->left > 0)
		block->next += block->step;
	block->used = ++bh_queue_ids->tick;
	return id;
}

/* Forget this database's block of seqid, if it keeps one. */
static void
bh_queue_id_forget(Oid seqid)
{
	BhQueueIdBlock *block;

	if (bh_queue_ids == NULL)
		return;					/* not preloaded: no blocks */
	LWLockAcquire(bh_queue_ids->lock, LW_EXCLUSIVE);
	block = bh_queue_id_block(seqid);
	if (block != NULL)
		block->dbid = InvalidOid;
	LWLockRelease(bh_queue_ids->lock);
}

/*
 * Forget the blocks of database dbid, as DROP DATABASE removes it (the
 * object-access hook, config_guard.c, with the OID the drop found): a
 * database created later with its OID from a template holds a copy of the
 * template's sequence, in the same relfilenode, which may stand where the
 * dropped database's block left its own.
 */
void
bh_queue_ids_forget_database(Oid dbid)
{
	int			i;

	if (bh_queue_ids == NULL)
		return;					/* not preloaded: no blocks */
	LWLockAcquire(bh_queue_ids->lock, LW_EXCLUSIVE);
	for (i = 0; i < BH_QUEUE_ID_SLOTS; i++)
		if (bh_queue_ids->blocks[i].dbid == dbid)
			bh_queue_ids->blocks[i].dbid = InvalidOid;
	LWLockRelease(bh_queue_ids->lock);
}

/*
 * Where sequence seqid is: its value and whether it was "called" (nextval()
 * gives the value itself if not, the value plus the increment if so).  Read
 * from its page, as nextval() does, whoever the role: no privilege is
 * checked, nothing is captured.
 */
void
bh_seq_read(Oid seqid, int64 *last_value, bool *is_called)
{
	Oid			relnode;

	bh_seq_state(seqid, AccessShareLock, &relnode, last_value, is_called);
}

/*
 * bh_seq_read(), and the relfilenode the sequence's page is in; the
 * sequence opened with lockmode (NoLock: the caller holds a lock on it).
 */
static void
bh_seq_state(Oid seqid, LOCKMODE lockmode, Oid *relnode, int64 *last_value,
			 bool *is_called)
{
	Relation	rel = relation_open(seqid, lockmode);
	Buffer		buf;
	Page		page;
	HeapTupleData tuple;
	Form_pg_sequence_data data;

	if (rel->rd_rel->relkind != RELKIND_SEQUENCE)
		elog(ERROR, "relation %u is not a sequence", seqid);
	*relnode = rel->rd_node.relNode;
	buf = ReadBuffer(rel, 0);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	tuple.t_data = (HeapTupleHeader) PageGetItem(page,
												 PageGetItemId(page, FirstOffsetNumber));
	data = (Form_pg_sequence_data) GETSTRUCT(&tuple);
	*last_value = data->last_value;
	*is_called = data->is_called;
	UnlockReleaseBuffer(buf);
	relation_close(rel, lockmode);
}

/*
 * A negative increment of the queue's sequence (its name): refused, by a
 * reservation, and by ALTER SEQUENCE of it (own_guard.c): the ids must
 * increase.
 */
void
bh_queue_step_refuse(const char *seqname)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the increment of sequence \"%s\" must be positive", seqname),
			 errhint("The ids of bh_audit.queue increase: ALTER SEQUENCE ... INCREMENT BY 1.")));
}

/* A move of a sequence (bh_seq_move_locked()). */
typedef struct BhSeqMove
{
	Oid			seqid;
	int64		step;			/* its increment, > 0 */
	int64		max;			/* its MAXVALUE */
	int64		min;			/* its MINVALUE */
	int64		chunk;			/* > 0: reserve up to that many ids ... */
	bool		given_known;	/* ... after the last id of this database's */
	Oid			given_relnode;	/* block (where the block left the */
	int64		given;			/* sequence), if any, and ... */
	bool		queued_known;	/* ... after the queue's highest id, if any */
	int64		queued;
	int64		value;			/* else: move it to value ... */
	bool		is_called;		/* ... with is_called */
	bool		only_up;		/* ... only if its next id is not above value */
	int64		first;			/* out: the first id reserved */
	int64		count;			/* out: how many */
} BhSeqMove;

/*
 * The sequence's increment and MAXVALUE, looked up in pg_sequence before
 * the move's lock is taken (the syscache entry is then there for setval()).
 */
static void
bh_seq_params(BhSeqMove *move)
{
	HeapTuple	tup = SearchSysCache1(SEQRELID, ObjectIdGetDatum(move->seqid));
	Form_pg_sequence seq;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for sequence %u", move->seqid);
	seq = (Form_pg_sequence) GETSTRUCT(tup);
	move->step = seq->seqincrement;
	move->max = seq->seqmax;
	move->min = seq->seqmin;
	ReleaseSysCache(tup);
}

static void
bh_seq_setval(Oid seqid, int64 value, bool is_called)
{
	(void) DirectFunctionCall3(setval3_oid, ObjectIdGetDatum(seqid),
							   Int64GetDatum(value), BoolGetDatum(is_called));
}

/*
 * Above this id, the sequence was moved there by setval() (or an ALTER
 * SEQUENCE ... RESTART), never by writes: no workload takes 2^62 ids.
 */
#define BH_QUEUE_ID_HIGH (INT64CONST(1) << 62)

/*
 * A reservation's first id (move->first: the id nextval() would give, if
 * reach), by one rule: never below an id this database's block gave, nor
 * below the queue's highest id (the floor), and, while MAXVALUE is the
 * type's maximum, never out of reach because of a setval().  setval() and
 * nextval() are allowed to any role holding UPDATE on the sequence
 * (pg_write_all_data among them) and no hook refuses them: whoever moved
 * the sequence back, the ids go on after those given or queued (no
 * duplicate key, no commit taking an id below an earlier one's).  With
 * MAXVALUE the type's maximum, a sequence beyond it, or one moved above
 * BH_QUEUE_ID_HIGH past the floor, is taken back to just after the floor
 * (MINVALUE when nothing is known: no block since the server started, the
 * queue empty); when the floor is itself the maximum, the ids go on after
 * the queue's highest, and fail (ERROR, the queue's highest id is the
 * maximum) only when no id is left above it.  After an ALTER SEQUENCE
 * since the block (the sequence in another relfilenode than the block left:
 * its owner's, a superuser's), the sequence is followed as nextval() would,
 * RESTART below the ids given and MAXVALUE included, but never below the
 * queue's highest id (queued ids are never given again, whoever moved the
 * sequence after the ALTER); the taking back from out of reach or from
 * above BH_QUEUE_ID_HIGH applies as well, after the ids given or queued.
 * A MAXVALUE
 * other than the type's is followed as nextval() would, whoever moved the
 * sequence: the ids then fail at it.
 */
static void
bh_seq_floor(BhSeqMove *move, Oid relnode, bool *reach)
{
	bool		altered = move->given_known && move->given_relnode != relnode;
	bool		known = move->queued_known || move->given_known;
	bool		queued_max = move->queued_known && move->queued == PG_INT64_MAX;
	int64		floor = PG_INT64_MIN;
	int64		after = PG_INT64_MIN;	/* the first id above the floor */
	bool		over = false;	/* the floor is the type's maximum */

	if (move->given_known)
		floor = move->given;
	if (move->queued_known)
		floor = Max(floor, move->queued);
	if (known)
		over = pg_add_s64_overflow(floor, 1, &after);

	/*
	 * Never below the floor; after an ALTER SEQUENCE, never below the queue's
	 * highest id (queued ids are unique).
	 */
	if (*reach && known && !over && !altered)
		move->first = Max(move->first, after);
	if (*reach && altered && move->queued_known && !queued_max)
		move->first = Max(move->first, move->queued + 1);

	/* a MAXVALUE other than the type's is followed: the ids fail at it */
	if (move->max != PG_INT64_MAX)
	{
		*reach = *reach && move->first <= move->max;
		return;
	}

	/* MAXVALUE the type's: no id above the queue's highest, or taken back */
	if (queued_max)
		ereport(ERROR,
				(errcode(ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED),
				 errmsg("nextval: reached maximum value of sequence \"%s\" (" INT64_FORMAT ")",
						get_rel_name(move->seqid), move->max),
				 errdetail("The highest id of bh_audit.queue is the maximum: no id is left above it."),
				 errhint("The writes go on once that row is sealed, or removed by a superuser.")));
	if (over)
	{
		/*
		 * The ids given reached the maximum: after the queue's highest id
		 * (MINVALUE with none queued), unless the sequence, ALTERed since, is
		 * in reach.
		 */
		if (!altered || !*reach)
		{
			move->first = move->queued_known ? move->queued + 1 : move->min;
			*reach = true;
		}
	}
	else if (!*reach || (move->first > BH_QUEUE_ID_HIGH && move->first > after))
	{
		/* out of reach, or moved far up by setval(): taken back */
		move->first = known ? after : move->min;
		*reach = true;
	}
}

/*
 * The move itself, run as the bootstrap superuser (setval() checks the
 * UPDATE privilege), under the move's lock and without the LWLock.
 */
static void
bh_seq_move_locked(void *arg)
{
	BhSeqMove  *move = arg;
	Oid			relnode;
	int64		last;
	bool		is_called;
	bool		reach;
	int64		next;

	bh_seq_state(move->seqid, AccessShareLock, &relnode, &last, &is_called);
	if (move->chunk <= 0)
	{
		/* the id nextval() would give, compared with the wanted one */
		if (move->only_up)
		{
			next = last;
			if ((is_called && pg_add_s64_overflow(last, move->step, &next)) ||
				next > move->value)
				return;
		}
		else if (last == move->value && is_called == move->is_called)
			return;
		bh_seq_setval(move->seqid, move->value, move->is_called);
		return;
	}

	if (move->step <= 0)
		bh_queue_step_refuse(get_rel_name(move->seqid));
	move->first = last;
	reach = !(is_called && pg_add_s64_overflow(last, move->step, &move->first)) &&
		move->first <= move->max;
	bh_seq_floor(move, relnode, &reach);
	if (!reach)
		ereport(ERROR,
				(errcode(ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED),
				 errmsg("nextval: reached maximum value of sequence \"%s\" (" INT64_FORMAT ")",
						get_rel_name(move->seqid), move->max)));
	/* the ids up to MAXVALUE: (max - first) / step + 1, at most chunk */
	if (pg_sub_s64_overflow(move->max, move->first, &next) ||
		next / move->step >= move->chunk)
		move->count = move->chunk;
	else
		move->count = next / move->step + 1;
	bh_seq_setval(move->seqid, move->first + (move->count - 1) * move->step, true);
}

/*
 * Move sequence seqid to (value, is_called), or with only_up to value
 * (called) if nextval() would give an id at or below it; this database's
 * block of it, if any, is forgotten.  The one way the extension moves a
 * sequence other than by a reservation.
 */
void
bh_seq_move(Oid seqid, int64 value, bool is_called, bool only_up)
{
	BhSeqMove	move = {0};

	move.seqid = seqid;
	move.value = value;
	move.is_called = is_called;
	move.only_up = only_up;
	bh_seq_params(&move);
	LockRelationOid(seqid, BH_SEQ_MOVE_LOCK);
	bh_queue_id_forget(seqid);
	bh_call_internal(bh_seq_move_locked, &move);
	UnlockRelationOid(seqid, BH_SEQ_MOVE_LOCK);
}

/*
 * This database's block of seqid if it has an id left and the sequence is
 * still where the block left it (relnode, last, is_called: as read by
 * bh_seq_state()), else NULL; the LWLock held.
 */
static BhQueueIdBlock *
bh_queue_id_current(Oid seqid, Oid relnode, int64 last, bool is_called)
{
	BhQueueIdBlock *block = bh_queue_id_block(seqid);

	if (block == NULL || block->left <= 0 || !is_called ||
		block->relnode != relnode || block->last != last)
		return NULL;
	return block;
}

/*
 * Take an id from this database's block of seqid if the block still
 * matches the sequence as its page reads now (relnode gets the sequence's
 * relfilenode): the page read without the LWLock, the take under it.
 */
static bool
bh_queue_id_try(Oid seqid, Oid *relnode, int64 *id)
{
	BhQueueIdBlock *block;
	int64		last;
	bool		is_called;

	bh_seq_state(seqid, NoLock, relnode, &last, &is_called);
	LWLockAcquire(bh_queue_ids->lock, LW_EXCLUSIVE);
	block = bh_queue_id_current(seqid, *relnode, last, is_called);
	if (block != NULL)
		*id = bh_queue_id_take(block);
	LWLockRelease(bh_queue_ids->lock);
	return block != NULL;
}

/* The id of the row in slot, the queue's highest (bh_queue_top()). */
static void
bh_queue_top_row(TupleTableSlot *slot, Oid relid, void *arg)
{
	bool		isnull;
	Datum		id = slot_getattr(slot, get_attnum(relid, "id"), &isnull);

	if (!isnull)
	{
		((int64 *) arg)[0] = DatumGetInt64(id);
		((int64 *) arg)[1] = 1;
	}
}

/*
 * The highest id of the queue whose identity sequence is seqid, of any row
 * (committed, in progress, prepared, or dead and not yet pruned): false if
 * it has none.  One backward step of its primary key (bh_last_row(), with
 * SnapshotAny).
 */
static bool
bh_queue_top(Oid seqid, int64 *top)
{
	Oid			relid;
	int32		attnum;
	int64		found[2] = {0, 0};

	if (!sequenceIsOwned(seqid, DEPENDENCY_INTERNAL, &relid, &attnum))
		return false;
	bh_last_row(relid, "id", AccessShareLock, 0, SnapshotAny, bh_queue_top_row, found);
	*top = found[0];
	return found[1] != 0;
}

/*
 * The next id of the queue's sequence seqid, from this database's block,
 * reserving one first if it has none left or if the sequence is no longer
 * where the block left it.
 *
 * The sequence's page is read before each id (a relcache hit, a buffer hit
 * and its share lock), before the LWLock is taken: whatever moved the
 * sequence since the block was reserved, the block is not used any more,
 * and the next id is the one nextval() would give:
 *	- ALTER SEQUENCE (any option: PostgreSQL 15 rewrites the sequence into a
 *	  new relfilenode) and setval() by a superuser;
 *	- a transaction that rewrote the sequence (ALTER SEQUENCE ... RESTART)
 *	  and reserved a block from its new relfilenode: the block records that
 *	  relfilenode.  Other backends cannot take an id meanwhile (ALTER
 *	  SEQUENCE holds SHARE ROW EXCLUSIVE, which conflicts with their ROW
 *	  EXCLUSIVE), so the block need not be kept from them even though they
 *	  could not see that relfilenode (rd_createSubid/rd_newRelfilenodeSubid):
 *	  once the transaction ends, a rollback leaves the sequence in its old
 *	  relfilenode, which the block does not match, and a commit leaves it
 *	  where the block left it;
 *	- a database dropped and created again with its OID from a template
 *	  (the same sequence OID): its sequence is the template's copy, most
 *	  often elsewhere; DROP DATABASE forgets the block all the same, for a
 *	  copy standing where the block left the dropped one's.
 * The LWLock is not waited for by a reader of the page, nor the page's lock
 * under the LWLock.  A move by another backend between the read and the
 * take is ordered after the take, as with nextval().
 */
int64
bh_queue_next_id(Oid seqid)
{
	BhSeqMove	move = {0};
	BhQueueIdBlock *block;
	Oid			relnode;
	int64		id;

	bh_require_preload();
	/* as nextval() does, for the whole transaction (the reads below) */
	LockRelationOid(seqid, RowExclusiveLock);
	if (bh_queue_id_try(seqid, &relnode, &id))
		return id;

	move.seqid = seqid;
	move.chunk = BH_QUEUE_ID_CHUNK;
	bh_seq_params(&move);
	LockRelationOid(seqid, BH_SEQ_MOVE_LOCK);

	/* another backend may have reserved one meanwhile */
	if (bh_queue_id_try(seqid, &relnode, &id))
	{
		UnlockRelationOid(seqid, BH_SEQ_MOVE_LOCK);
		return id;
	}

	/*
	 * The queue's highest id, read under the move's lock (bh_seq_floor()): an
	 * id of a block reserved before it is in the block's range or in the
	 * index.  The queue is locked already (bh_queue_insert_row()).
	 */
	move.queued_known = bh_queue_top(seqid, &move.queued);
	LWLockAcquire(bh_queue_ids->lock, LW_SHARED);
	block = bh_queue_id_block(seqid);
	if (block != NULL)
	{
		move.given_known = true;
		move.given_relnode = block->relnode;
		move.given = block->last;
	}
	LWLockRelease(bh_queue_ids->lock);

	/* an error: the move's lock released by the abort, no block installed */
	bh_call_internal(bh_seq_move_locked, &move);

	LWLockAcquire(bh_queue_ids->lock, LW_EXCLUSIVE);
	block = bh_queue_id_block(seqid);
	if (block == NULL)
	{
		int			i;

		/* a free slot, or the one unused longest: its ids are forgotten */
		block = &bh_queue_ids->blocks[0];
		for (i = 0; i < BH_QUEUE_ID_SLOTS && block->dbid != InvalidOid; i++)
			if (bh_queue_ids->blocks[i].dbid == InvalidOid ||
				bh_queue_ids->blocks[i].used < block->used)
				block = &bh_queue_ids->blocks[i];
		block->dbid = MyDatabaseId;
		block->seqid = seqid;
	}
	block->next = move.first;
	block->step = move.step;
	block->left = move.count;
	/* where the reservation's setval() left the sequence */
	block->relnode = relnode;
	block->last = move.first + (move.count - 1) * move.step;
	id = bh_queue_id_take(block);
	LWLockRelease(bh_queue_ids->lock);
	UnlockRelationOid(seqid, BH_SEQ_MOVE_LOCK);
	return id;
}
