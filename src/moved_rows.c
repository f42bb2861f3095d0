/*-------------------------------------------------------------------------
 *
 * moved_rows.c
 *		The patients that the rows a transaction moved had before it moved
 *		them, so that reading those rows again names them.
 *
 * A transaction that changes a row's patient column and then reads the
 * row reads a version whose patient is the new one, holding the record of
 * the earlier one (the committed owner); a rollback then takes back the
 * write events that named both.  Write capture (capture_write.c) notes
 * here, for each such version, its (table, TID) and the patients the row
 * had before the transaction changed it: the patient an UPDATE moved it
 * from, with those the version it updated carried (a row moved twice names
 * both earlier patients; one moved and then updated in another column
 * keeps them).  A row that an UPDATE moves to another partition is deleted
 * from one and inserted into the other by the same command (PostgreSQL's
 * ExecCrossPartitionUpdate), whose AFTER DELETE and AFTER INSERT events
 * are queued one after the other and fire in that order at the end of the
 * statement; another AFTER DELETE trigger of the source partition fires
 * between them, and whatever it writes is written by a later command.  So
 * the deleted version, marked as moved to another partition, leaves its
 * patients waiting (pending) with the command that deleted it (its cmax)
 * and its partition; they are taken by the next version inserted by that
 * same command (its cmin) into another partition of a tagged table, and
 * by no other: a later event of that command (the move's insert was not
 * captured: its new partition is untagged, a BEFORE INSERT trigger dropped
 * it), the end of that command's statement and the rollback of the
 * subtransaction that noted them drop them.  Nothing is kept for a move
 * that names no patient, and a pending entry is freed once taken.  Read
 * capture (capture_read_set.c's bh_moved_row_read) looks a row read up here
 * while anything is noted (bh_moved_active: one test per row otherwise),
 * and only for rows the transaction itself made (their xmin).
 *
 * Bounded: BH_MOVED_MAX_VERSIONS versions, BH_MOVED_MAX_PATIENTS earlier
 * patients each, BH_MOVED_MAX_PENDING moves pending.  Beyond, the tagged table is "unfollowed" for the rest of
 * the transaction: a read of a row of it that the transaction made, and
 * that is not noted, counts in one READ event without a patient
 * (rows_updated_in_transaction).  So is a table tagged without write
 * capture (no trigger sees its changes) once the transaction updated it
 * (bh_wrap_plan, at the UPDATE's start).
 *
 * Everything lives in the transaction's memory and goes at its end
 * (bh_moved_xact_end).  A version made in a savepoint rolled back keeps
 * its note: its TID may be reused by a newer version, which is then read
 * with those patients too (more patients, never fewer).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "storage/proc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "bh_audit.h"
#include "capture.h"
#include "event.h"

/* Row versions noted per transaction, and earlier patients per version. */
#define BH_MOVED_MAX_VERSIONS 10000
#define BH_MOVED_MAX_PATIENTS 16

/* bh_moved_active: something is noted in this transaction. */
bool		bh_moved_active = false;

static MemoryContext bh_moved_cxt = NULL;	/* in TopTransactionContext */
static LocalTransactionId bh_moved_lxid = InvalidLocalTransactionId;
static HTAB *bh_moved_rows = NULL;	/* BhMovedRow by BhMovedKey */
static List *bh_moved_rels = NIL;	/* Oid: tables with noted versions */
static List *bh_moved_unfollowed = NIL; /* Oid: tagged tables unfollowed */

/* Cross-partition moves whose insert has not come yet. */
#define BH_MOVED_MAX_PENDING 64

typedef struct BhMovedPending
{
	Oid			tagged_relid;	/* the deleted version's tagged table */
	Oid			relid;			/* and its partition */
	CommandId	cid;			/* the command that deleted it */
	SubTransactionId subid;		/* the subtransaction that noted it */
	int			n;
	char	   *ids[BH_MOVED_MAX_PATIENTS + 1]; /* its patients */
} BhMovedPending;

static List *bh_moved_pending = NIL;	/* BhMovedPending *, oldest first */

/* Forget everything (the memory goes with the transaction's). */
void
bh_moved_xact_end(void)
{
	bh_moved_active = false;
	bh_moved_cxt = NULL;
	bh_moved_lxid = InvalidLocalTransactionId;
	bh_moved_rows = NULL;
	bh_moved_rels = NIL;
	bh_moved_unfollowed = NIL;
	bh_moved_pending = NIL;
}

/* The note's memory, made for this transaction if it is not yet. */
static void
bh_moved_start(void)
{
	HASHCTL		ctl;

	if (bh_moved_cxt != NULL && bh_moved_lxid == MyProc->lxid)
		return;
	bh_moved_xact_end();		/* one of an earlier transaction: gone */
	bh_moved_cxt = AllocSetContextCreate(TopTransactionContext, "bh_audit moved rows",
										 ALLOCSET_DEFAULT_SIZES);
	bh_moved_lxid = MyProc->lxid;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(BhMovedKey);
	ctl.entrysize = sizeof(BhMovedRow);
	ctl.hcxt = bh_moved_cxt;
	bh_moved_rows = hash_create("bh_audit moved rows", 64, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

static void
bh_moved_key(BhMovedKey *key, Oid relid, ItemPointer tid)
{
	memset(key, 0, sizeof(*key));
	key->relid = relid;
	key->block = ItemPointerGetBlockNumberNoCheck(tid);
	key->offset = ItemPointerGetOffsetNumberNoCheck(tid);
}

/* The earlier patients of version tid of table relid, or NULL. */
const BhMovedRow *
bh_moved_find(Oid relid, ItemPointer tid)
{
	BhMovedKey	key;

	if (bh_moved_rows == NULL || bh_moved_lxid != MyProc->lxid ||
		!list_member_oid(bh_moved_rels, relid))
		return NULL;
	bh_moved_key(&key, relid, tid);
	return (const BhMovedRow *) hash_search(bh_moved_rows, &key, HASH_FIND, NULL);
}

/* Does table relid hold versions noted? */
bool
bh_moved_rel_noted(Oid relid)
{
	return bh_moved_rows != NULL && bh_moved_lxid == MyProc->lxid &&
		list_member_oid(bh_moved_rels, relid);
}

/* Is tagged table tagged_relid unfollowed in this transaction? */
bool
bh_moved_is_unfollowed(Oid tagged_relid)
{
	return bh_moved_cxt != NULL && bh_moved_lxid == MyProc->lxid &&
		list_member_oid(bh_moved_unfollowed, tagged_relid);
}

/* Follow tagged table tagged_relid's moves no further in this transaction. */
void
bh_moved_unfollow(Oid tagged_relid)
{
	MemoryContext old;

	bh_moved_start();
	if (list_member_oid(bh_moved_unfollowed, tagged_relid))
		return;
	old = MemoryContextSwitchTo(bh_moved_cxt);
	bh_moved_unfollowed = lappend_oid(bh_moved_unfollowed, tagged_relid);
	MemoryContextSwitchTo(old);
	bh_moved_active = true;
}

/* Add id to ids[*n] (in bh_moved_cxt) unless there or the current patient. */
static void
bh_moved_union(char **ids, int *n, const char *id, const char *current)
{
	int			i;

	if (id == NULL || id[0] == '\0')
		return;
	if (strlen(id) > BH_PATIENT_ID_CHARS)	/* as events and read sets cut it */
		id = bh_truncate(id, BH_PATIENT_ID_CHARS);
	if (current != NULL && strcmp(id, current) == 0)
		return;
	for (i = 0; i < *n; i++)
		if (strcmp(ids[i], id) == 0)
			return;
	if (*n <= BH_MOVED_MAX_PATIENTS)	/* one past the limit: too many */
		ids[(*n)++] = (char *) id;
}

/*
 * The patients prev (nprev of them) and add, each once, the current patient
 * left out, put in ids (BH_MOVED_MAX_PATIENTS + 1 of them: one past the
 * limit says too many); returns how many.  The patients an UPDATE's new
 * version is noted with and those a move's deleted half leaves pending are
 * the same set, so they are gathered by the same code.
 */
static int
bh_moved_gather(char **ids, char *const *prev, int nprev, const char *add,
				const char *current)
{
	int			n = 0;
	int			i;

	for (i = 0; i < nprev; i++)
		bh_moved_union(ids, &n, prev[i], current);
	bh_moved_union(ids, &n, add, current);
	return n;
}

/*
 * Note version tid of rel (whose patient is current) with the patients
 * prev (n of them) and add: those not current.  Nothing when none are
 * left; the table unfollowed when over a limit.
 */
static void
bh_moved_put(const BhTag *tag, Oid relid, ItemPointer tid, char *const *prev, int nprev,
			 const char *add, const char *current)
{
	char	   *ids[BH_MOVED_MAX_PATIENTS + 1];
	int			n;
	int			i;
	BhMovedKey	key;
	BhMovedRow *row;
	bool		found;
	MemoryContext old;

	n = bh_moved_gather(ids, prev, nprev, add, current);
	if (n == 0)
		return;
	bh_moved_start();
	if (n > BH_MOVED_MAX_PATIENTS ||
		hash_get_num_entries(bh_moved_rows) >= BH_MOVED_MAX_VERSIONS)
	{
		bh_moved_unfollow(tag->tagged_relid);
		return;
	}
	old = MemoryContextSwitchTo(bh_moved_cxt);
	bh_moved_key(&key, relid, tid);
	row = (BhMovedRow *) hash_search(bh_moved_rows, &key, HASH_ENTER, &found);
	if (found)
	{
		/* a TID reused after a savepoint's rollback: replaced */
		for (i = 0; i < row->npatients; i++)
			pfree(row->patients[i]);
		pfree(row->patients);
	}
	row->npatients = n;
	row->patients = palloc(n * sizeof(char *));
	for (i = 0; i < n; i++)
		row->patients[i] = pstrdup(ids[i]);
	if (!list_member_oid(bh_moved_rels, relid))
		bh_moved_rels = lappend_oid(bh_moved_rels, relid);
	MemoryContextSwitchTo(old);
	bh_moved_active = true;
}

/*
 * An UPDATE of a row of rel from oldtup (patient from) to newtup (patient
 * to), from the AFTER ROW trigger: the new version keeps the patients the
 * old one was noted with, and the one it was moved from.
 */
void
bh_moved_note_update(const BhTag *tag, Relation rel, HeapTuple oldtup, HeapTuple newtup,
					 const char *from, const char *to)
{
	Oid			relid = RelationGetRelid(rel);
	const BhMovedRow *prev = bh_moved_active ? bh_moved_find(relid, &oldtup->t_self) : NULL;
	bool		moved = from != NULL && (to == NULL || strcmp(from, to) != 0);

	if (prev == NULL && !moved)
		return;					/* the common case: nothing to carry */
	if (!ItemPointerIsValid(&newtup->t_self))
		return;
	bh_moved_put(tag, relid, &newtup->t_self, prev ? prev->patients : NULL,
				 prev ? prev->npatients : 0, moved ? from : NULL, to);
}

/* Drop a pending move (its cell is the caller's to take out). */
static void
bh_moved_pending_free(BhMovedPending *p)
{
	int			i;

	for (i = 0; i < p->n; i++)
		pfree(p->ids[i]);
	pfree(p);
}

/*
 * Drop the pending moves of command cid (InvalidCommandId: of any command)
 * noted in subtransaction subid or a later one (InvalidSubTransactionId:
 * in any), but keep.
 */
static void
bh_moved_pending_drop(CommandId cid, SubTransactionId subid, BhMovedPending *keep)
{
	ListCell   *lc;

	if (bh_moved_pending == NIL || bh_moved_lxid != MyProc->lxid)
		return;
	foreach(lc, bh_moved_pending)
	{
		BhMovedPending *p = (BhMovedPending *) lfirst(lc);

		if (p != keep && (cid == InvalidCommandId || p->cid == cid) &&
			(subid == InvalidSubTransactionId || p->subid >= subid))
		{
			bh_moved_pending = foreach_delete_current(bh_moved_pending, lc);
			bh_moved_pending_free(p);
		}
	}
}

/*
 * A statement's command cid is done: its moves' inserts, if any, have come
 * (its AFTER ROW triggers have fired).
 */
void
bh_moved_statement_end(CommandId cid)
{
	if (bh_moved_pending != NIL)
		bh_moved_pending_drop(cid, InvalidSubTransactionId, NULL);
}

/*
 * Subtransaction subid rolled back: its pending moves (and those of the
 * subtransactions in it, whose ids are later) are gone with their rows.
 */
void
bh_moved_subxact_abort(SubTransactionId subid)
{
	if (bh_moved_pending != NIL)
		bh_moved_pending_drop(InvalidCommandId, subid, NULL);
}

/*
 * A DELETE of oldtup (patient from) of rel: if it is the first half of a
 * move to another partition, its patients wait for the second half, the
 * INSERT of the same command that comes next (bh_moved_note_insert).  A
 * move of that command still pending lost its insert: dropped.
 */
void
bh_moved_note_delete(const BhTag *tag, Relation rel, HeapTuple oldtup, const char *from)
{
	const BhMovedRow *prev;
	char	   *ids[BH_MOVED_MAX_PATIENTS + 1];
	int			n;
	int			i;
	CommandId	cid;
	BhMovedPending *p;
	MemoryContext old;

	if (oldtup->t_data == NULL || !HeapTupleHeaderIndicatesMovedPartitions(oldtup->t_data) ||
		!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetUpdateXid(oldtup->t_data)))
		return;
	cid = HeapTupleHeaderGetCmax(oldtup->t_data);
	bh_moved_pending_drop(cid, InvalidSubTransactionId, NULL);
	prev = bh_moved_active ? bh_moved_find(RelationGetRelid(rel), &oldtup->t_self) : NULL;
	n = bh_moved_gather(ids, prev ? prev->patients : NULL, prev ? prev->npatients : 0,
						from, NULL);
	if (n == 0)
		return;					/* nothing to hand on */
	bh_moved_start();
	if (list_length(bh_moved_pending) >= BH_MOVED_MAX_PENDING)
	{
		bh_moved_unfollow(tag->tagged_relid);
		return;
	}
	old = MemoryContextSwitchTo(bh_moved_cxt);
	p = palloc(sizeof(BhMovedPending));
	p->tagged_relid = tag->tagged_relid;
	p->relid = RelationGetRelid(rel);
	p->cid = cid;
	p->subid = GetCurrentSubTransactionId();
	p->n = n;
	for (i = 0; i < n; i++)
		p->ids[i] = pstrdup(ids[i]);
	bh_moved_pending = lappend(bh_moved_pending, p);
	MemoryContextSwitchTo(old);
}

/*
 * An INSERT of newtup (patient to) into rel: the second half of a move to
 * another partition when a first half of the same command waits, deleted
 * from another partition.  (Any other pending move of that command is
 * one whose insert was not captured: dropped.)
 */
void
bh_moved_note_insert(const BhTag *tag, Relation rel, HeapTuple newtup, const char *to)
{
	ListCell   *lc;
	BhMovedPending *found = NULL;
	CommandId	cid;

	if (bh_moved_pending == NIL || bh_moved_lxid != MyProc->lxid ||
		newtup->t_data == NULL || !ItemPointerIsValid(&newtup->t_self) ||
		!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(newtup->t_data)))
		return;
	cid = HeapTupleHeaderGetCmin(newtup->t_data);
	foreach(lc, bh_moved_pending)
	{
		BhMovedPending *p = (BhMovedPending *) lfirst(lc);

		if (p->cid == cid)
		{
			if (p->relid != RelationGetRelid(rel))
				found = p;
			break;
		}
	}
	bh_moved_pending_drop(cid, InvalidSubTransactionId, found);
	if (found == NULL)
		return;
	bh_moved_pending = list_delete_ptr(bh_moved_pending, found);
	bh_moved_put(tag, RelationGetRelid(rel), &newtup->t_self, found->ids, found->n, NULL, to);
	bh_moved_pending_free(found);
}
