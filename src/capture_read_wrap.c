/*-------------------------------------------------------------------------
 *
 * capture_read_wrap.c
 *		Read capture's plan-node wrappers: which rows of tagged tables a
 *		statement's plan produces, and whose they are.
 *
 * After standard_ExecutorStart (capture_read.c), every scan node of a
 * tagged relation with capture_reads (sequential, index, index-only,
 * bitmap heap, TID and sample scans; partitions resolve to their tagged
 * ancestor) gets its ExecProcNodeReal wrapped: each tuple the scan returns
 * is looked at in the scan's own tuple slot, and its patient id goes into
 * the statement's read set of the table.  The result relation of an
 * UPDATE/DELETE/MERGE is a write and is not wrapped; but a MERGE's matched
 * row that no action changed is read: its subplan is wrapped
 * (bh_wrap_merge).  The rows an UPDATE
 * or a DELETE returns (RETURNING) are reads too: their ModifyTable node is
 * wrapped; so is a LockRows node, whose rows may be newer versions than
 * its scans returned.  The separate copy of a LockRows or ModifyTable
 * node's subplan in which PostgreSQL re-checks a row another transaction
 * changed (EvalPlanQual) is made and wrapped before the node runs when its
 * scans may read there what no other wrapper sees (bh_epq_prepare).  A
 * scan whose filter calls a function a user defined,
 * not leakproof (which expressions do, and which functions are exempt:
 * shown_rows.c), shows that function every row it examines: its wrapper
 * takes the filter and projection from the node's plan state, notes each
 * row fetched, then filters and projects it as ExecScan would
 * (bh_scan_exec).  Such a filter of the table an UPDATE or a DELETE changes
 * reads every row it examines, also those then written (a rollback takes a
 * write's event away).  The scan of that table is wrapped too when its
 * projection (the new values) calls such a function, or a condition or
 * projection above it does (a join filter, new values computed by a join, a
 * MERGE's WHEN MATCHED condition or UPDATE SET), or a clause beside it
 * given the target's values does: one using a parameter of a nested loop
 * whose outer side holds the target's scan (a filter or an index condition
 * of its inner side).  Looked for once per owner of the tables scanned
 * (shown_rows.c's bh_mt_shows_target): the rows it produces are read, also
 * those then written.  The stored rows an INSERT ... ON CONFLICT DO UPDATE
 * gives its WHERE condition or SET list are read when that calls such a
 * function: those expressions' evaluation functions are wrapped, and a
 * partitioned table's rows routed ahead so that a partition's own copies of
 * them are wrapped before they run (bh_wrap_on_conflict).  A statement that
 * fails on a value counts the row each scan was evaluating
 * (bh_note_rows_at_failure).
 *
 * Completeness of attribution.  Every produced row must be visible to the
 * wrappers with its patient.  An index-only scan of a tagged table should
 * return the patient column: indexes without it lose canreturn for such
 * tables (capture_read.c's get_relation_info hook).  PostgreSQL still
 * scans any index index-only for a query that needs no column of the table
 * (count(*), a partial index's predicate as the only condition); the
 * wrapper of such a scan, and of any index-only scan without the patient
 * column however it was planned, reads each returned row's patient from
 * its heap row.  A row the reading transaction itself moved to another
 * patient holds the record of the one it had before: while the
 * transaction has such rows noted (moved_rows.c), a row it made is looked
 * up there and those patients are read too (bh_moved_row_read).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "common/hashfn.h"
#include "executor/execPartition.h"
#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "bh_audit.h"
#include "capture.h"
#include "capture_read.h"
#include "id_text.h"
#include "shown_rows.h"
#include "tags.h"

/* A read set's patients by id (BhPatientEntry: the id's string is the key). */
static uint32
bh_patient_hash(const void *key, Size keysize)
{
	const char *id = *(char *const *) key;

	return hash_bytes((const unsigned char *) id, (int) strlen(id));
}

static int
bh_patient_match(const void *key1, const void *key2, Size keysize)
{
	return strcmp(*(char *const *) key1, *(char *const *) key2);
}

/*
 * A row into a read set: a row read, one without a patient, one the
 * transaction moved from patients not known.  The first of each may change
 * the events the set would give: counted as held (bh_read_set_hold), as
 * is each new patient (bh_read_set_add).
 */
static inline void
bh_read_set_row(BhReadSet *set)
{
	if (set->rows++ == 0)
		bh_read_set_hold(set);
}

static inline void
bh_read_set_null_row(BhReadSet *set)
{
	if (set->null_rows++ == 0)
		bh_read_set_hold(set);
}

static inline void
bh_read_set_moved_row(BhReadSet *set)
{
	if (set->moved_rows++ == 0)
		bh_read_set_hold(set);
}

/*
 * A patient into the hash table.  Once it holds the named patients and
 * BH_EXACT_FURTHER_PATIENTS more, it takes no new ones: a patient not in
 * it goes into the estimate of those beyond (set->beyond), which takes a
 * fixed 16 kB.  The patients a statement names are among the first ones
 * of the table, as before; the count of the further ones is exact up to
 * the bound, then estimated (bh_read_set_further).
 */
static void
bh_patient_enter(BhReadSet *set, const char *id)
{
	bool		found;
	BhPatientEntry *entry;

	if (set->beyond == NULL &&
		hash_get_num_entries(set->patients) <
		(long) bh_max_patients + BH_EXACT_FURTHER_PATIENTS)
	{
		entry = hash_search(set->patients, &id, HASH_ENTER, &found);
		if (!found)
		{
			entry->id = MemoryContextStrdup(set->cxt, id);
			bh_read_set_hold(set);
		}
		return;
	}
	if (hash_search(set->patients, &id, HASH_FIND, NULL) != NULL)
		return;
	if (set->beyond == NULL)
	{
		set->beyond = MemoryContextAlloc(set->cxt, sizeof(hyperLogLogState));
		{
			MemoryContext old = MemoryContextSwitchTo(set->cxt);

			initHyperLogLog(set->beyond, BH_BEYOND_HLL_BITS);
			MemoryContextSwitchTo(old);
		}
		bh_read_set_hold(set);
	}
	addHyperLogLog(set->beyond,
				   hash_bytes((const unsigned char *) id, (int) strlen(id)));
}

/*
 * The further patients of a read set that named named ones: exact, or,
 * beyond the bound, the exact ones plus the estimate of those beyond
 * (rounded, at least one).  *estimated tells which.
 */
int64
bh_read_set_further(const BhReadSet *set, int64 named, bool *estimated)
{
	int64		known;

	*estimated = false;
	if (!set->has_patient)
		return 0;
	known = set->patients ? hash_get_num_entries(set->patients) : set->nfew;
	if (set->beyond != NULL)
	{
		double		beyond = estimateHyperLogLog(set->beyond);

		*estimated = true;
		known += Max((int64) (beyond + 0.5), 1);
	}
	return known - named;
}

/*
 * Note a patient in a read set.  Most statements read one patient or a
 * handful: those are kept in an array, and a hash table is made only for
 * more.  An id longer than the schema allows is cut as the event builder
 * cuts it (whole characters, then "..."), so that reads and writes of one
 * patient carry the same id.
 */
static void
bh_read_set_add(BhReadSet *set, const char *id)
{
	int			i;

	if (strlen(id) > BH_PATIENT_ID_CHARS)
		id = bh_truncate(id, BH_PATIENT_ID_CHARS);
	if (set->patients == NULL)
	{
		HASHCTL		ctl;

		for (i = 0; i < set->nfew; i++)
			if (strcmp(set->few[i], id) == 0)
				return;
		if (set->nfew < BH_FEW_PATIENTS)
		{
			set->few[set->nfew++] = MemoryContextStrdup(set->cxt, id);
			bh_read_set_hold(set);
			return;
		}
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(char *);
		ctl.entrysize = sizeof(BhPatientEntry);
		ctl.hash = bh_patient_hash;
		ctl.match = bh_patient_match;
		ctl.hcxt = set->cxt;
		set->patients = hash_create("bh_audit patients", 64, &ctl,
									HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
		for (i = 0; i < set->nfew; i++)
			bh_patient_enter(set, set->few[i]);
	}
	bh_patient_enter(set, id);
}

/*
 * What every wrapper keeps: what it wraps, the key it is found by (a plan
 * node's state; for a wrapped expression its ExprState, for a node's
 * dispatch method the address of its ExecProcNode), and the node's own
 * method (a plan node's).
 */
typedef struct BhWrap
{
	void	   *key;
	ExecProcNodeMtd orig;
	bool		shows;			/* its node gives each row it evaluates to a
								 * user's function (a filter, a projection,
								 * a RETURNING list): one it failed on may
								 * have been shown, whatever the error */
} BhWrap;

/* One wrapped scan node. */
typedef struct BhScanWrap
{
	BhWrap		node;			/* first: found as a BhWrap */
	BhReadSet  *set;
	Oid			relid;			/* the table scanned (a partition) */
	AttrNumber	slot_attnum;	/* patient column in the scan slot, 0: none */
	AttrNumber	heap_attnum;	/* an index-only scan without it: the patient
								 * column in the heap row, 0: not needed */
	BhIdOutput	out;			/* how its values become ids (a copy: the tag
								 * cache may be reloaded while the scan runs) */
	/*
	 * Its filter shows every row it examines to a user's function: the
	 * node's qual and projection, taken from it and run by the wrapper
	 * after each fetched row is noted (shows_rows).
	 */
	bool		shows_rows;
	ExprState  *prequal;		/* the filter's leading conditions that call
								 * no such function (a row-level security
								 * policy's among them), NULL: none */
	ExprState  *qual;			/* the rest of the filter */
	ProjectionInfo *proj;
} BhScanWrap;

/*
 * The wrapper states of the wrapped nodes (and expressions) of every open
 * statement, by their key (BhWrap), so that each row a wrapper returns finds its own in
 * constant time, however many nodes the open statements wrapped (a scan of
 * a thousand partitions, a thousand cursors).  A node's entry is made when
 * it is wrapped (bh_wrap_enter) and goes with its statement's executor
 * state (bh_wraps_forget): at ExecutorEnd, at the flush of an aborted
 * (sub)transaction, or when the executor state goes without ExecutorEnd
 * (bh_statement_gone), so that a new plan state at the address of a freed
 * one never finds the entry of the old one.  The last node found is kept
 * aside, by its address alone (its state may be freed since): a node
 * returns its rows one after the other, mostly.
 */
typedef struct BhWrapEntry
{
	void	   *key;			/* the key */
	BhWrap	   *wrap;
} BhWrapEntry;

static HTAB *bh_wraps = NULL;
static void *bh_last_key = NULL;
static BhWrap *bh_last_wrap = NULL;

/* The wrapper state of key, or NULL when its node is not wrapped. */
static inline BhWrap *
bh_wrap_of(void *key)
{
	BhWrapEntry *entry;

	entry = bh_wraps ? (BhWrapEntry *) hash_search(bh_wraps, &key, HASH_FIND, NULL) : NULL;
	return entry ? entry->wrap : NULL;
}

/* The wrapper state of key, in the statement that wrapped it. */
static inline BhWrap *
bh_find_wrap(void *key)
{
	BhWrap	   *w;

	if (key == bh_last_key)
		return bh_last_wrap;
	w = bh_wrap_of(key);
	if (w == NULL)
		elog(ERROR, "bh_audit: plan node wrapper lost its state");
	bh_last_key = key;
	bh_last_wrap = w;
	return w;
}

/*
 * Note a node wrapper (in the memory context of the list given), before its
 * node is given the wrapper's method: in the list first, from which
 * bh_wraps_forget_list takes it out of the table again.  The list is its
 * statement's (st->wraps), or a re-check plan's (bh_epq_prepare).
 */
static void
bh_wrap_enter(List **wraps, BhWrap *w)
{
	BhWrapEntry *entry;

	if (bh_wraps == NULL)
		bh_wraps = bh_pointer_table("bh_audit wrapped nodes", sizeof(BhWrapEntry));
	*wraps = lappend(*wraps, w);
	entry = (BhWrapEntry *) hash_search(bh_wraps, &w->key, HASH_ENTER, NULL);
	entry->wrap = w;			/* the newest, should an entry have stayed */
	if (bh_last_key == w->key)
		bh_last_key = NULL;
}

/*
 * Forget the node wrappers of a list whose plan states are going.  Called
 * from memory context callbacks too (bh_statement_gone, bh_epq_gone):
 * neither allocates nor raises (a hash table's removal does neither).  An
 * entry is removed only if it is still the wrapper's own.
 */
static void
bh_wraps_forget_list(List *wraps)
{
	ListCell   *lc;

	if (bh_wraps != NULL)
		foreach(lc, wraps)
		{
			BhWrap	   *w = (BhWrap *) lfirst(lc);
			uint32		hash = get_hash_value(bh_wraps, &w->key);
			BhWrapEntry *entry = (BhWrapEntry *)
				hash_search_with_hash_value(bh_wraps, &w->key, hash, HASH_FIND, NULL);

			if (entry != NULL && entry->wrap == w)
				(void) hash_search_with_hash_value(bh_wraps, &w->key, hash, HASH_REMOVE, NULL);
			if (bh_last_wrap == w)
			{
				bh_last_key = NULL;
				bh_last_wrap = NULL;
			}
		}
}

/* Forget the node wrappers of a statement whose executor state is going. */
void
bh_wraps_forget(BhStatement *st)
{
	bh_wraps_forget_list(st->wraps);
	st->wraps = NIL;			/* (its cells go with the statement's context) */
}

/*
 * Note the patient whose column value d is (not NULL), by out, in set.  An
 * empty id (an empty string, a character(n) of blanks) names nobody, as
 * events leave it out: returns false, noting nothing (the caller counts the
 * row as one without a patient where it counts a NULL one).
 */
static bool
bh_read_set_add_value(BhReadSet *set, const BhIdOutput *out, Datum d)
{
	char	   *id = bh_id_text(out, d);
	bool		named = (id[0] != '\0');

	if (named)
		bh_read_set_add(set, id);
	pfree(id);
	return named;
}

/*
 * Note the patient of a row read, its column attnum of slot, by out, in
 * set; a row whose patient is NULL or empty is counted as one without a
 * patient.
 */
static void
bh_read_set_add_row(BhReadSet *set, const BhIdOutput *out, TupleTableSlot *slot,
					AttrNumber attnum)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, attnum, &isnull);

	if (isnull || !bh_read_set_add_value(set, out, d))
		bh_read_set_null_row(set);
}

/*
 * A row read of table relid (a partition) while this transaction has rows
 * noted as moved (bh_moved_active; moved_rows.c): if the transaction made
 * the version read (its xmin) by an UPDATE that changed its patient, the
 * patients it had before are read too.  slot holds the row (a heap
 * tuple's, its xmin known); otherwise tid names it, and whether the
 * transaction made it is not known: a noted version is (a TID the note
 * holds is one of its versions').  A version the transaction made in a
 * table whose moves it no longer follows counts as such (moved_rows).
 */
static void
bh_moved_row_read(BhReadSet *set, Oid relid, TupleTableSlot *slot, ItemPointer tid)
{
	const BhMovedRow *m;
	bool		own = false;
	int			i;

	if (slot != NULL && (TTS_IS_BUFFERTUPLE(slot) || TTS_IS_HEAPTUPLE(slot)))
	{
		HeapTuple	tuple = ((HeapTupleTableSlot *) slot)->tuple;

		if (tuple == NULL || tuple->t_data == NULL ||
			!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tuple->t_data)))
			return;
		own = true;
		tid = &tuple->t_self;
	}
	if (tid == NULL || !ItemPointerIsValid(tid))
		return;
	if ((m = bh_moved_find(relid, tid)) != NULL)
	{
		for (i = 0; i < m->npatients; i++)
			bh_read_set_add(set, m->patients[i]);
	}
	else if (own && bh_moved_is_unfollowed(set->tagged_relid))
		bh_read_set_moved_row(set);
}

/*
 * Is a table of this tag updated unseen: tagged without write capture, so
 * that no trigger notes the rows an UPDATE moves to another patient?
 */
static bool
bh_tag_unseen(const BhTag *tag)
{
	return tag != NULL && tag->capture_reads && !tag->capture_writes &&
		tag->patient_attnum != InvalidAttrNumber;
}

/*
 * A statement may update rows of relid (a table or a partition): if it is
 * tagged without write capture, its tagged table's moves are not followed
 * for the rest of the transaction (moved_rows.c): the rows of it the
 * transaction made are read as rows updated in the transaction, their
 * earlier patients unknown.
 */
static void
bh_note_unseen_update_of(Oid relid)
{
	const BhTag *tag = bh_tag_lookup(relid);

	if (bh_tag_unseen(tag) && !bh_moved_is_unfollowed(tag->tagged_relid))
		bh_moved_unfollow(tag->tagged_relid);
}

/*
 * A wrapped LockRows node (SELECT ... FOR UPDATE / SHARE): the rows of the
 * tagged relations it locks.  When another transaction changed a row
 * meanwhile, PostgreSQL locks its newest version and returns that one, as
 * re-checked by a separate copy of the plan (EvalPlanQual); the locked
 * version is in the node's re-check slot of the relation.  The scans of
 * that copy are wrapped too when they may read rows no other wrapper sees
 * (a subquery run again on the newest version's values, a filter giving
 * it to a user's function): the copy is then made before the node runs,
 * and again after PostgreSQL dropped it, at the end of the node's rows
 * (bh_epq_prepare).
 */
typedef struct BhLockMark
{
	ExecAuxRowMark *erm;
	BhReadSet  *set;
	AttrNumber	attnum;			/* the patient column in the relation */
	BhIdOutput	out;			/* how its values become ids (a copy) */
} BhLockMark;

typedef struct BhLockWrap
{
	BhWrap		node;			/* first: found as a BhWrap */
	List	   *marks;			/* BhLockMark * */
	BhStatement *st;
	bool		recheck;		/* its re-check plan is wrapped */
	List	   *subst;			/* the relations whose rows that substitutes */
} BhLockWrap;

static void bh_epq_prepare(BhStatement *st, PlanState *ps, List *subst);

static TupleTableSlot *
bh_lockrows_exec(PlanState *ps)
{
	BhLockWrap *w = (BhLockWrap *) bh_find_wrap(ps);
	ListCell   *lc;
	TupleTableSlot *slot;
	EPQState   *epq = &((LockRowsState *) ps)->lr_epqstate;

	if (unlikely(w->recheck) && epq->recheckestate == NULL)
		bh_epq_prepare(w->st, ps, w->subst);
	slot = w->node.orig(ps);
	if (TupIsNull(slot) || epq->relsubs_slot == NULL)
		return slot;
	foreach(lc, w->marks)
	{
		BhLockMark *m = (BhLockMark *) lfirst(lc);
		TupleTableSlot *locked = epq->relsubs_slot[m->erm->rowmark->rti - 1];
		bool		isnull;
		Datum		d;

		if (!m->erm->rowmark->ermActive || locked == NULL || TTS_EMPTY(locked))
			continue;
		d = slot_getattr(locked, m->attnum, &isnull);
		if (!isnull)			/* the scan's version, or the newer one */
			(void) bh_read_set_add_value(m->set, &m->out, d);
	}
	return slot;
}

/*
 * Note the patient of the row an index-only scan returned, from its heap
 * row: the index tuple has no patient column (a query that needs no column
 * of the table, count(*), may scan any index so).  The row is fetched with
 * the scan's own heap access state, snapshot and table slot, so that no
 * buffer stays pinned longer than the scan keeps its own, released at its
 * end or by the transaction's abort.  The TID is the index entry's, the
 * start of a HOT chain, followed to the version the snapshot sees; unless
 * the scan visited the heap itself (a page not all visible), which leaves
 * the TID at that version: a heap-only one is not found from the chain's
 * start, and is fetched as it is.
 */
static bool
bh_ios_fetch(IndexOnlyScanState *ios)
{
	IndexScanDesc scan = ios->ioss_ScanDesc;
	TupleTableSlot *heap = ios->ioss_TableSlot;
	ItemPointerData tid;
	bool		call_again = false;
	bool		all_dead = false;
	bool		found = false;

	if (scan != NULL)
	{
		tid = scan->xs_heaptid;
		found = table_index_fetch_tuple(scan->xs_heapfetch, &tid, scan->xs_snapshot,
										heap, &call_again, &all_dead);
		if (!found)
		{
			tid = scan->xs_heaptid;
			found = table_tuple_fetch_row_version(scan->heapRelation, &tid,
												  scan->xs_snapshot, heap);
		}
	}
	return found;
}

static void
bh_ios_heap_note(BhScanWrap *w, IndexOnlyScanState *ios)
{
	TupleTableSlot *heap = ios->ioss_TableSlot;

	if (bh_ios_fetch(ios))
	{
		bh_read_set_add_row(w->set, &w->out, heap, w->heap_attnum);
		if (unlikely(bh_moved_active))
			bh_moved_row_read(w->set, w->relid, heap, NULL);
	}
	else						/* not under the scan's MVCC snapshot: still read */
		bh_read_set_null_row(w->set);
	ExecClearTuple(heap);
}

/*
 * The row a scan returned (in row, but for an index-only scan), while this
 * transaction has rows noted as moved (bh_moved_row_read).  An index-only
 * scan's is an index tuple: its TID
 * is the heap version's the scan found (the page is not all visible where
 * the transaction wrote); where a table's moves are no longer followed,
 * its heap row tells whether the transaction made it.
 */
static void
bh_scan_moved(BhScanWrap *w, PlanState *ps, TupleTableSlot *row)
{
	if (IsA(ps, IndexOnlyScanState))
	{
		IndexOnlyScanState *ios = (IndexOnlyScanState *) ps;

		if (ios->ioss_ScanDesc == NULL)
			return;
		if (bh_moved_is_unfollowed(w->set->tagged_relid))
		{
			if (bh_ios_fetch(ios))
				bh_moved_row_read(w->set, w->relid, ios->ioss_TableSlot, NULL);
			ExecClearTuple(ios->ioss_TableSlot);
		}
		else
			bh_moved_row_read(w->set, w->relid, NULL, &ios->ioss_ScanDesc->xs_heaptid);
	}
	else
		bh_moved_row_read(w->set, w->relid, row, NULL);
}

/*
 * Note whose row a scan fetched: row holds it, its scan slot; in a re-check
 * plan (bh_epq_prepare) the row PostgreSQL substitutes may be in a slot of
 * its own, which the scan returns (an index-only scan is never given one).
 */
static void
bh_scan_note(BhScanWrap *w, PlanState *ps, TupleTableSlot *row)
{
	BhReadSet  *set = w->set;

	bh_read_set_row(set);
	if (w->heap_attnum != InvalidAttrNumber)
		bh_ios_heap_note(w, (IndexOnlyScanState *) ps);
	else if (w->slot_attnum != InvalidAttrNumber)
	{
		bh_read_set_add_row(set, &w->out, row, w->slot_attnum);
		if (unlikely(bh_moved_active))
			bh_scan_moved(w, ps, row);
	}
}

/*
 * The wrapper: run the scan, note whose row it returned.  A scan whose
 * filter shows rows to a user's function (shows_rows) runs without its
 * qual and projection, so returns each row it fetches (in its scan slot,
 * or the one a re-check substitutes): the row is put
 * through the filter's leading conditions that call no such function, noted
 * if it passes them, then put through the rest and projected here as
 * ExecScan would have (the expression
 * context reset before each row, a rejected row counted as removed by the
 * filter and never projected, the projection's slot emptied at the end).
 */
static TupleTableSlot *
bh_scan_exec(PlanState *ps)
{
	BhScanWrap *w = (BhScanWrap *) bh_find_wrap(ps);
	TupleTableSlot *slot;
	ExprContext *econtext;

	if (!w->shows_rows)
	{
		slot = w->node.orig(ps);
		if (!TupIsNull(slot))
			bh_scan_note(w, ps, ((ScanState *) ps)->ss_ScanTupleSlot);
		return slot;
	}
	econtext = ps->ps_ExprContext;
	for (;;)
	{
		ResetExprContext(econtext);
		slot = w->node.orig(ps);
		if (TupIsNull(slot))
			return w->proj ? ExecClearTuple(w->proj->pi_state.resultslot) : slot;
		econtext->ecxt_scantuple = slot;
		/* a row rejected before any such function saw it is not read */
		if (w->prequal != NULL && !ExecQual(w->prequal, econtext))
		{
			InstrCountFiltered1(ps, 1);
			continue;
		}
		bh_scan_note(w, ps, slot);
		if (w->qual == NULL || ExecQual(w->qual, econtext))
			return w->proj ? ExecProject(w->proj) : slot;
		InstrCountFiltered1(ps, 1);
	}
}

/* The read set of a tagged relation in this statement (made on first use). */
static BhReadSet *
bh_read_set(BhStatement *st, const BhTag *tag)
{
	ListCell   *lc;
	BhReadSet  *set;
	MemoryContext old;

	foreach(lc, st->sets)
	{
		set = (BhReadSet *) lfirst(lc);
		if (set->tagged_relid == tag->tagged_relid)
			return set;
	}
	old = MemoryContextSwitchTo(st->cxt);
	set = palloc0(sizeof(BhReadSet));
	set->tagged_relid = tag->tagged_relid;
	set->resource_type = pstrdup(tag->resource_type);
	set->classification = pstrdup(tag->classification);
	set->table_name = pstrdup(tag->tagged_table_name);
	set->part2 = tag->part2;
	set->has_patient = (tag->patient_column != NULL);
	set->cxt = st->cxt;
	st->sets = lappend(st->sets, set);
	MemoryContextSwitchTo(old);
	return set;
}

/*
 * Where the patient column is in an index-only scan's slot (0: absent).  A
 * column the index cannot return (resjunk) is no value there.
 */
static AttrNumber
bh_ios_attnum(IndexOnlyScanState *ios, AttrNumber heap_attnum)
{
	ListCell   *lc;
	AttrNumber	i = 0;

	foreach(lc, ((IndexOnlyScan *) ios->ss.ps.plan)->indextlist)
	{
		TargetEntry *te = lfirst_node(TargetEntry, lc);

		i++;
		if (!te->resjunk && IsA(te->expr, Var) &&
			((Var *) te->expr)->varattno == heap_attnum)
			return i;
	}
	return InvalidAttrNumber;
}

/*
 * A LockRows or ModifyTable node above the node walked, whose re-check plan
 * (EvalPlanQual) runs its subplan again: the relations whose rows the
 * re-check substitutes (range table indexes: the rows locked or changed,
 * in their newest version, and the other relations' rows fetched again as
 * they were), and whether a scan wrapped below may read rows no other
 * wrapper sees (bh_epq_prepare).
 */
typedef struct BhEpqNote
{
	List	   *subst;
	bool		reads;
	struct BhEpqNote *up;		/* the next one above, NULL: none */
} BhEpqNote;

/*
 * The walk that wraps a statement's plan, or a re-check plan of it: the
 * statement, and the nearest ModifyTable node above the node walked (NULL:
 * none), whose result relations' scans are its target's.  The wrappers go
 * into a memory context and a list: the statement's, or the re-check
 * plan's (bh_epq_prepare).
 */
typedef struct BhWrapWalk
{
	BhStatement *st;
	ModifyTableState *mt;
	List	   *mt_shows;		/* owners (Oid) of tables for whose rows a
								 * condition of mt's shows its target's rows
								 * to a user's function (bh_mt_shows_target) */
	List	   *mt_shows_not;	/* owners for whom none does */
	List	   *mt_scan_read;	/* mt's result relations (Oid) whose scan is
								 * wrapped: each row it produces is read */
	MemoryContext cxt;
	List	  **wraps;
	BhEpqNote  *epqs;			/* the nodes above with a re-check plan */
	bool		recheck;		/* a re-check plan is walked: subst tells */
	List	   *subst;			/* the relations its rows are substituted of */
	List	  **prepare;		/* ModifyTableState *: re-check plans to make
								 * once the statement's plan is wrapped; NULL
								 * in a re-check plan */
} BhWrapWalk;

static bool bh_wrap_walker(PlanState *ps, void *context);

/*
 * A filter that shows rows to a user's function, split in two: its leading
 * conditions that call no such function, and the rest.  PostgreSQL checks
 * a filter's conditions in their order in the plan (a row-level security
 * policy's first, then by cost), so a row the leading ones reject never
 * reaches the function.  The two parts are compiled anew; the subqueries
 * in them replace the states the node's own filter made for them, in
 * place, so that EXPLAIN ANALYZE shows each once, where it was.
 */
static void
bh_split_shown_qual(BhScanWrap *w, PlanState *ps)
{
	List	   *quals = ps->plan->qual;
	List	   *prior = ps->subPlan;
	List	   *added;
	ListCell   *lc;
	int			lead = 0;
	MemoryContext old;

	foreach(lc, quals)
	{
		if (bh_expr_calls((Node *) lfirst(lc), ps))
			break;
		lead++;
	}
	if (lead == 0)
	{
		w->qual = ps->qual;
		return;
	}
	old = MemoryContextSwitchTo(ps->state->es_query_cxt);
	ps->subPlan = NIL;
	w->prequal = ExecInitQual(list_copy_head(quals, lead), ps);
	w->qual = ExecInitQual(list_copy_tail(quals, lead), ps);
	added = ps->subPlan;
	foreach(lc, added)
	{
		SubPlanState *sps = (SubPlanState *) lfirst(lc);
		ListCell   *pc;
		bool		replaced = false;

		foreach(pc, prior)
			if (((SubPlanState *) lfirst(pc))->subplan == sps->subplan)
			{
				lfirst(pc) = sps;
				replaced = true;
				break;
			}
		if (!replaced)
			prior = lappend(prior, sps);
	}
	ps->subPlan = prior;
	MemoryContextSwitchTo(old);
}

/*
 * Is a target list nothing but columns and constants (most statements'),
 * which give no function anything?  Spares the look at its expressions.
 */
static bool
bh_columns_only(List *tlist)
{
	ListCell   *lc;

	foreach(lc, tlist)
	{
		Node	   *expr = (Node *) lfirst_node(TargetEntry, lc)->expr;

		if (!IsA(expr, Var) && !IsA(expr, Const))
			return false;
	}
	return true;
}

/* Wrap one scan node if it reads a tagged table. */
static void
bh_wrap_scan(BhWrapWalk *walk, PlanState *ps)
{
	BhStatement *st = walk->st;
	ScanState  *ss = (ScanState *) ps;
	Index		scanrelid = ((Scan *) ps->plan)->scanrelid;
	const BhTag *tag;
	BhScanWrap *w;
	MemoryContext old;
	bool		shows_rows;
	bool		result_rel;
	bool		target;			/* the scan of walk->mt's own target */
	bool		above = false;
	bool		proj_shows;
	BhEpqNote  *epq;

	if (ss->ss_currentRelation == NULL)
		return;
	tag = bh_tag_lookup(RelationGetRelid(ss->ss_currentRelation));
	if (tag == NULL || !tag->capture_reads)
		return;
	/* REFRESH ... CONCURRENTLY comparing the view's old and new rows */
	if (RelationGetRelid(ss->ss_currentRelation) == bh_refreshing_matview)
		return;
	/*
	 * The rows an UPDATE/DELETE/MERGE changes are writes, not reads, also
	 * in a WITH of a SELECT or an INSERT (an INSERT's target is no scan);
	 * but the rows its filter shows to a user's function (below) are
	 * reads, accepted or rejected; and when its projection (the new values)
	 * or a condition or projection above the scan shows the rows it
	 * produces to a user's function (bh_mt_shows_target), those are read,
	 * written or not.  A write's event goes with a rollback; the function
	 * has seen the row all the same.
	 */
	bh_shown_rows_scan(st->qd->plannedstmt, ss);
	shows_rows = ps->qual != NULL && bh_expr_calls((Node *) ps->plan->qual, ps);
	result_rel = list_member_int(st->qd->plannedstmt->resultRelations, (int) scanrelid);
	target = result_rel && walk->mt != NULL &&
		list_member_int(((ModifyTable *) walk->mt->ps.plan)->resultRelations, (int) scanrelid);
	if (target)
	{
		/*
		 * Decided for the owner of the table scanned (a partition's, as for
		 * a scan's own filter): the owner's own functions are exempt for
		 * the owner's rows only.  Once per owner: the partitions of a
		 * table have one owner mostly.
		 */
		Oid			owner = ss->ss_currentRelation->rd_rel->relowner;

		if (list_member_oid(walk->mt_shows, owner))
			above = true;
		else if (!list_member_oid(walk->mt_shows_not, owner))
		{
			above = bh_mt_shows_target(walk->mt, owner);
			if (above)
				walk->mt_shows = lappend_oid(walk->mt_shows, owner);
			else
				walk->mt_shows_not = lappend_oid(walk->mt_shows_not, owner);
		}
	}
	/*
	 * The scan's own projection giving each row it produces to a user's
	 * function: a failure meanwhile may have shown the row; the target's
	 * new values (an UPDATE's SET list) computed so are given those rows.
	 * Looked at once.
	 */
	proj_shows = above ||
		(ps->ps_ProjInfo != NULL && !bh_columns_only(ps->plan->targetlist) &&
		 bh_expr_calls((Node *) ps->plan->targetlist, ps));
	if (result_rel && !shows_rows && !proj_shows)
		return;

	/*
	 * In a re-check plan, a row substituted for the scan's (bh_epq_prepare)
	 * is read where no user's function is given it: a locked row's newest
	 * version by the LockRows wrapper, if returned; the other rows are those
	 * the statement's own scans produced.  Above: a scan that is not, or
	 * whose rows a user's function is given, reads in a re-check what no
	 * other wrapper sees (a subquery's, run again on a row's newest values).
	 */
	if (walk->recheck && !shows_rows && !proj_shows &&
		list_member_int(walk->subst, (int) scanrelid))
		return;
	for (epq = walk->epqs; epq != NULL; epq = epq->up)
		if (shows_rows || proj_shows || !list_member_int(epq->subst, (int) scanrelid))
			epq->reads = true;

	old = MemoryContextSwitchTo(walk->cxt);
	w = palloc0(sizeof(BhScanWrap));
	w->node.key = ps;
	w->node.orig = ps->ExecProcNodeReal;
	w->node.shows = shows_rows || proj_shows;
	w->set = bh_read_set(st, tag);
	w->relid = RelationGetRelid(ss->ss_currentRelation);
	if (tag->patient_attnum != InvalidAttrNumber)
	{
		w->slot_attnum = IsA(ps, IndexOnlyScanState)
			? bh_ios_attnum((IndexOnlyScanState *) ps, tag->patient_attnum)
			: tag->patient_attnum;
		/* an index-only scan without it: each row's is read from the heap */
		if (w->slot_attnum == InvalidAttrNumber)
			w->heap_attnum = tag->patient_attnum;

		/*
		 * Before 15.13, a bitmap heap scan that needs no column returned
		 * rows of NULLs for pages all visible, without reading them.
		 */
		if (IsA(ps, BitmapHeapScanState))
			((BitmapHeapScanState *) ps)->can_skip_fetch = false;
		bh_id_output_copy(&w->out, &tag->patient_out, walk->cxt);
	}

	/*
	 * A filter that shows each row it examines to a user's function: every
	 * row examined is read, produced or not.  Decided once; the plan state
	 * alone changes (the plan, shared with EvalPlanQual's copy and EXPLAIN,
	 * keeps its qual).
	 */
	if (shows_rows)
	{
		w->shows_rows = true;
		bh_split_shown_qual(w, ps);
		w->proj = ps->ps_ProjInfo;
		ps->qual = NULL;
		ps->ps_ProjInfo = NULL;
	}
	bh_wrap_enter(walk->wraps, &w->node);
	if (target)
		walk->mt_scan_read = lappend_oid(walk->mt_scan_read, w->relid);
	MemoryContextSwitchTo(old);
	ps->ExecProcNodeReal = bh_scan_exec;
}

/*
 * A wrapped ModifyTable node with RETURNING that sends stored values back:
 * an UPDATE's or a DELETE's (or an INSERT's ON CONFLICT DO UPDATE).  Each
 * row it returns is a read of its patient, besides the write: a rollback
 * takes the write's event back, while the client has the row.  The row
 * returned is the scan tuple of the node's expression context, where its
 * RETURNING projection found it, with its table's oid (a partition's, for
 * a partitioned table).  An UPDATE's row before it (its patient may be
 * another one) and a DELETE's row (emptied before the node returns) are
 * fetched again by the row id of the row the subplan gave.  Both are reads
 * of the table the subplan took the row from: an UPDATE that moves the row
 * to another partition returns the row it inserted there, made of the
 * first partition's stored values, which are what the client is sent (the
 * partition it went to has given none of its own).
 */
typedef struct BhReturningRel
{
	Oid			relid;
	BhReadSet  *set;			/* its read set; NULL: its reads not captured */
	AttrNumber	attnum;			/* its patient column, 0: none */
	BhIdOutput	out;			/* how its values become ids (a copy) */
	char	   *column;			/* its patient column's name, NULL: none */
	Oid			moved_to;		/* the last partition a row of it moved to */
	AttrNumber	moved_attnum;	/* its patient column there, 0: none */
	ResultRelInfo *rri;			/* its result relation, looked up when needed */
	TupleTableSlot *fetched;	/* a row of it fetched again */
	int			shown;			/* ON CONFLICT DO UPDATE: which of its
								 * expressions shows the table's rows to a
								 * user's function (BH_SHOWN_*), -1: not
								 * decided yet */
} BhReturningRel;

/* The tables whose rows a wrapper of a ModifyTable node meets. */
typedef struct BhRelCaptures
{
	BhStatement *st;
	List	   *rels;			/* BhReturningRel *, one per table met */
	BhReturningRel *last;		/* the one of the last row */
} BhRelCaptures;

typedef struct BhReturningWrap
{
	BhWrap		node;			/* first: found as a BhWrap */
	BhRelCaptures rels;
} BhReturningWrap;

/* The capture of the rows of table relid that a wrapper sees. */
static BhReturningRel *
bh_returning_rel(BhRelCaptures *c, Oid relid)
{
	BhReturningRel *r;
	const BhTag *tag;
	ListCell   *lc;
	MemoryContext old;

	if (c->last != NULL && c->last->relid == relid)
		return c->last;
	foreach(lc, c->rels)
		if (((BhReturningRel *) lfirst(lc))->relid == relid)
			return c->last = (BhReturningRel *) lfirst(lc);
	old = MemoryContextSwitchTo(c->st->cxt);
	r = palloc0(sizeof(BhReturningRel));
	r->relid = relid;
	r->shown = -1;
	if ((tag = bh_tag_lookup(relid)) != NULL && tag->capture_reads)
	{
		r->set = bh_read_set(c->st, tag);
		r->attnum = tag->patient_attnum;
		if (r->attnum != InvalidAttrNumber)
		{
			bh_id_output_copy(&r->out, &tag->patient_out, c->st->cxt);
			r->column = pstrdup(tag->patient_column);
		}
	}
	c->rels = lappend(c->rels, r);
	MemoryContextSwitchTo(old);
	return c->last = r;
}

/*
 * Fetch the version of a row at tid into slot (SnapshotAny, as DELETE and
 * UPDATE fetch the row they return), following its update chain (a heap
 * table's): after EvalPlanQual, an UPDATE or a DELETE changed the newest
 * version of the row the subplan gave, not that one.  A DELETE's is the
 * chain's last version; an UPDATE's the last one before the version this
 * transaction's UPDATE made (own_stops).
 */
static bool
bh_fetch_version(Relation rel, ItemPointer tid, TupleTableSlot *slot, bool own_stops)
{
	ItemPointerData cur = *tid;
	int			steps;

	if (!table_tuple_fetch_row_version(rel, &cur, SnapshotAny, slot))
		return false;
	for (steps = 0; TTS_IS_BUFFERTUPLE(slot) && steps < 1000; steps++)
	{
		HeapTupleHeader h = ((BufferHeapTupleTableSlot *) slot)->base.tuple->t_data;
		ItemPointerData next = h->t_ctid;
		TransactionId xmax = HeapTupleHeaderGetUpdateXid(h);

		if ((h->t_infomask & HEAP_XMAX_INVALID) || HeapTupleHeaderIsOnlyLocked(h) ||
			HeapTupleHeaderIndicatesMovedPartitions(h) || ItemPointerEquals(&cur, &next))
			break;
		if (own_stops && TransactionIdIsCurrentTransactionId(xmax))
			break;				/* the next version is this UPDATE's */
		if (!table_tuple_fetch_row_version(rel, &next, SnapshotAny, slot) ||
			!TransactionIdEquals(HeapTupleHeaderGetXmin(((BufferHeapTupleTableSlot *) slot)->base.tuple->t_data),
								 xmax))
			return table_tuple_fetch_row_version(rel, &cur, SnapshotAny, slot);
		cur = next;
	}
	return true;
}

/*
 * The table of a row the subplan gave a ModifyTable node (plan_slot: the
 * subplan's tableoid, for several result relations), none when plan_slot
 * holds no row or its tableoid is null (a MERGE's source row that matched
 * no target row).
 */
static Oid
bh_returning_source(ModifyTableState *node, TupleTableSlot *plan_slot, Oid none)
{
	bool		isnull;
	Datum		d;

	if (plan_slot == NULL || TupIsNull(plan_slot))
		return none;
	if (!AttributeNumberIsValid(node->mt_resultOidAttno))
		return RelationGetRelid(node->resultRelInfo[0].ri_RelationDesc);
	d = slot_getattr(plan_slot, node->mt_resultOidAttno, &isnull);
	return isnull ? none : DatumGetObjectId(d);
}

/*
 * The patient column of r's tag in a row r's UPDATE moved to another
 * partition (row: as inserted there), found by its name (a partition's
 * columns are its parent's, in an order of its own), 0: none.
 */
static AttrNumber
bh_returning_moved_attnum(BhReturningRel *r, TupleTableSlot *row)
{
	TupleDesc	desc = row->tts_tupleDescriptor;
	int			i;

	if (r->moved_to == row->tts_tableOid)
		return r->moved_attnum;
	r->moved_to = row->tts_tableOid;
	r->moved_attnum = InvalidAttrNumber;
	for (i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(desc, i)->attname), r->column) == 0)
			r->moved_attnum = i + 1;
	return r->moved_attnum;
}

/*
 * The row id (*tid) of a row of r's table the subplan gave a ModifyTable
 * node (plan_slot), false when it has none: only a table's row has a TID
 * (a foreign table's row id is none, nor has it a table access method; a
 * MERGE's source row that matched no target row has a null one).
 */
static bool
bh_plan_row_tid(BhReturningRel *r, ModifyTableState *node, TupleTableSlot *plan_slot,
				ItemPointer tid)
{
	bool		isnull;
	Datum		d;
	int			i;

	if (plan_slot == NULL || TupIsNull(plan_slot))
		return false;
	for (i = 0; r->rri == NULL && i < node->mt_nrels; i++)
		if (RelationGetRelid(node->resultRelInfo[i].ri_RelationDesc) == r->relid)
			r->rri = &node->resultRelInfo[i];
	if (r->rri == NULL || !AttributeNumberIsValid(r->rri->ri_RowIdAttNo) ||
		r->rri->ri_RelationDesc->rd_rel->relkind != RELKIND_RELATION ||
		r->rri->ri_RelationDesc->rd_tableam == NULL)
		return false;
	d = slot_getattr(plan_slot, r->rri->ri_RowIdAttNo, &isnull);
	if (isnull)
		return false;
	*tid = *(ItemPointer) DatumGetPointer(d);
	return true;
}

/* Note the patient of a row of r's table, fetched into slot. */
static void
bh_fetched_row_note(BhReturningRel *r, TupleTableSlot *slot)
{
	bh_read_set_add_row(r->set, &r->out, slot, r->attnum);
	/* a version of it the transaction made, moving the row before */
	if (unlikely(bh_moved_active))
		bh_moved_row_read(r->set, r->relid, slot, NULL);
}

/*
 * The patient of the row the subplan gave to an UPDATE or a DELETE (of r's
 * table, its patient column known), as it was before the UPDATE or as
 * deleted (bh_fetch_version): fetched again by its row id.
 */
static void
bh_returning_old_row(BhReturningRel *r, ModifyTableState *node, bool own_stops)
{
	ItemPointerData tid;

	if (!bh_plan_row_tid(r, node, node->ps.ps_ExprContext->ecxt_outertuple, &tid))
		return;
	if (r->fetched == NULL)
		r->fetched = table_slot_create(r->rri->ri_RelationDesc, &node->ps.state->es_tupleTable);
	if (bh_fetch_version(r->rri->ri_RelationDesc, &tid, r->fetched, own_stops))
		bh_fetched_row_note(r, r->fetched);
	ExecClearTuple(r->fetched);
}

/*
 * A row an UPDATE or a DELETE returned (row, not empty for an UPDATE): a
 * read of the table the subplan took it from, of the patient the row
 * returned names and of the one it had before.
 */
static void
bh_returning_changed_row(BhReturningWrap *w, ModifyTableState *node, TupleTableSlot *row,
						 CmdType operation)
{
	TupleTableSlot *plan_slot = node->ps.ps_ExprContext->ecxt_outertuple;
	BhReturningRel *r = bh_returning_rel(&w->rels,
										 bh_returning_source(node, plan_slot, row->tts_tableOid));

	if (r->set == NULL)
		return;
	bh_read_set_row(r->set);
	if (r->attnum == InvalidAttrNumber)
		return;
	if (!TupIsNull(row))
	{
		AttrNumber	attnum = (row->tts_tableOid == r->relid) ? r->attnum :
			bh_returning_moved_attnum(r, row);

		if (attnum != InvalidAttrNumber)
			bh_read_set_add_row(r->set, &r->out, row, attnum);
	}
	bh_returning_old_row(r, node, operation == CMD_UPDATE);
}

static TupleTableSlot *
bh_returning_exec(PlanState *ps)
{
	BhReturningWrap *w = (BhReturningWrap *) bh_find_wrap(ps);
	TupleTableSlot *slot = w->node.orig(ps);
	CmdType		operation = ((ModifyTable *) ps->plan)->operation;
	TupleTableSlot *row;
	BhReturningRel *r;

	if (TupIsNull(slot) || ps->ps_ExprContext == NULL ||
		(row = ps->ps_ExprContext->ecxt_scantuple) == NULL)
		return slot;
	if (operation == CMD_UPDATE || operation == CMD_DELETE)
	{
		bh_returning_changed_row(w, (ModifyTableState *) ps, row, operation);
		return slot;
	}
	r = bh_returning_rel(&w->rels, row->tts_tableOid);
	if (r->set == NULL)
		return slot;
	bh_read_set_row(r->set);
	if (r->attnum == InvalidAttrNumber)
		return slot;
	if (!TupIsNull(row))
		bh_read_set_add_row(r->set, &r->out, row, r->attnum);
	if (unlikely(bh_moved_active) &&
		(bh_moved_rel_noted(row->tts_tableOid) ||
		 bh_moved_is_unfollowed(r->set->tagged_relid)))
	{
		/*
		 * An INSERT ... ON CONFLICT DO UPDATE's row before the update is
		 * not kept: it may be a version the transaction made by a move.
		 */
		bh_read_set_moved_row(r->set);
	}
	return slot;
}

/*
 * Wrap a ModifyTable node whose RETURNING sends stored values back (not an
 * INSERT's, which returns what the client sent, unless ON CONFLICT DO
 * UPDATE).
 */
static void
bh_wrap_returning(BhStatement *st, ModifyTableState *node)
{
	ModifyTable *plan = (ModifyTable *) node->ps.plan;
	BhReturningWrap *w;
	MemoryContext old;

	if (plan->returningLists == NIL ||
		(plan->operation != CMD_UPDATE && plan->operation != CMD_DELETE &&
		 !(plan->operation == CMD_INSERT && plan->onConflictAction == ONCONFLICT_UPDATE)))
		return;
	old = MemoryContextSwitchTo(st->cxt);
	w = palloc0(sizeof(BhReturningWrap));
	w->node.key = &node->ps;
	w->node.orig = node->ps.ExecProcNodeReal;
	bh_shown_rows_no_scan();
	w->node.shows = bh_expr_calls((Node *) plan->returningLists, &node->ps);
	w->rels.st = st;
	bh_wrap_enter(&st->wraps, &w->node);
	MemoryContextSwitchTo(old);
	node->ps.ExecProcNodeReal = bh_returning_exec;
}

/*
 * INSERT ... ON CONFLICT DO UPDATE: the stored row that a proposed row
 * conflicts with is fetched by the ModifyTable node itself (no scan), then
 * given to the action's WHERE condition and, if it passes, to its SET list
 * (the expression context's scan tuple; EXCLUDED is its inner tuple).
 * When either calls a user's function on the stored row's values (the
 * rule of a scan's filter, shown_rows.c's bh_conflict_expr_calls,
 * EXCLUDED's values being none of the stored row's), each stored row it is
 * given is a read of its patient, updated or not: the evaluation function
 * of that expression state is wrapped, noting the row before running it.
 * Decided for each table's owner (a partition's, as for a scan's filter)
 * at its first row; a row given to both expressions counts once, at the
 * WHERE condition.
 *
 * A partitioned table's partitions laid out as the table share its
 * expression states; one laid out otherwise (another column order,
 * dropped columns) gets its own, made when the first row is routed to it,
 * inside the ModifyTable node.  The node's subplan is wrapped (its
 * dispatch method, since a scan wrapper may hold its own method): each row
 * it returns is routed first (ExecFindPartition, which the node's own
 * routing of the row then finds done; a partition key's functions are
 * immutable) and the partition's new expression states wrapped before the
 * node sees the row.
 */
#define BH_SHOWN_NONE	0
#define BH_SHOWN_WHERE	1
#define BH_SHOWN_SET	2

typedef struct BhConflictWrap
{
	ModifyTableState *mt;
	BhRelCaptures rels;
	bool		where_calls;	/* the WHERE condition calls such a
								 * function, for some owner */
	bool		set_calls;		/* the SET list does */
	bool		unseen;			/* a partition rows are routed to may be
								 * tagged without write capture */
	ResultRelInfo *last_routed;	/* the partition the last row went to */
	TupleTableSlot *route_slot; /* the subplan's row without its junk
								 * columns, as the table's row: NULL when
								 * it has none */
	AttrNumber *route_attnos;	/* for each column of it, the subplan's */
} BhConflictWrap;

/* A wrapped expression state of ON CONFLICT DO UPDATE. */
typedef struct BhConflictExprWrap
{
	BhWrap		node;			/* first: found as a BhWrap (key: the state) */
	ExprStateEvalFunc orig;
	BhConflictWrap *cw;
	bool		is_where;
} BhConflictExprWrap;

/* The wrapped subplan of a partitioned table's ON CONFLICT DO UPDATE. */
typedef struct BhConflictRouteWrap
{
	BhWrap		node;			/* first: found as a BhWrap (key: the address
								 * of its ExecProcNode; orig: that method) */
	BhConflictWrap *cw;
} BhConflictRouteWrap;

static Datum
bh_conflict_eval(ExprState *state, ExprContext *econtext, bool *isnull)
{
	BhConflictExprWrap *w = (BhConflictExprWrap *) bh_find_wrap(state);
	BhConflictWrap *cw = w->cw;
	TupleTableSlot *row = econtext->ecxt_scantuple;
	Datum		result;

	if (row != NULL && !TupIsNull(row))
	{
		BhReturningRel *r = bh_returning_rel(&cw->rels, row->tts_tableOid);

		if (r->set != NULL && r->shown < 0)
		{
			ModifyTable *plan = (ModifyTable *) cw->mt->ps.plan;
			HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(r->relid));
			Oid			owner = InvalidOid;

			if (HeapTupleIsValid(tup))
			{
				owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
				ReleaseSysCache(tup);
			}
			if (cw->where_calls && bh_conflict_expr_calls(plan->onConflictWhere, cw->mt, owner))
				r->shown = BH_SHOWN_WHERE;
			else if (cw->set_calls &&
					 bh_conflict_expr_calls((Node *) plan->onConflictSet, cw->mt, owner))
				r->shown = BH_SHOWN_SET;
			else
				r->shown = BH_SHOWN_NONE;
		}
		if (r->set != NULL && r->shown == (w->is_where ? BH_SHOWN_WHERE : BH_SHOWN_SET))
		{
			bh_read_set_row(r->set);
			if (r->attnum != InvalidAttrNumber)
			{
				bh_read_set_add_row(r->set, &r->out, row, r->attnum);
				/* the stored row (a heap tuple's slot): moved by this transaction? */
				if (unlikely(bh_moved_active))
					bh_moved_row_read(r->set, r->relid, row, NULL);
			}
		}
	}
	result = w->orig(state, econtext, isnull);

	/*
	 * The first run of a state may replace its evaluation function
	 * (ExecInterpExprStillValid, a JIT-compiled expression's): stay in
	 * front of the new one.
	 */
	if (state->evalfunc != bh_conflict_eval)
	{
		w->orig = state->evalfunc;
		state->evalfunc = bh_conflict_eval;
	}
	return result;
}

/* Wrap an ON CONFLICT DO UPDATE expression state (not NULL, not yet wrapped). */
static void
bh_conflict_wrap_expr(BhConflictWrap *cw, ExprState *state, bool is_where)
{
	MemoryContext old = MemoryContextSwitchTo(cw->rels.st->cxt);
	BhConflictExprWrap *w = palloc0(sizeof(BhConflictExprWrap));

	w->node.key = state;
	w->orig = state->evalfunc;
	w->cw = cw;
	w->is_where = is_where;
	bh_wrap_enter(&cw->rels.st->wraps, &w->node);
	MemoryContextSwitchTo(old);
	state->evalfunc = bh_conflict_eval;
}

/* Wrap the expression states of a result relation's ON CONFLICT DO UPDATE. */
static void
bh_conflict_wrap_rel(BhConflictWrap *cw, ResultRelInfo *rri)
{
	OnConflictSetState *oc = rri->ri_onConflict;

	if (oc == NULL)
		return;
	if (cw->where_calls && oc->oc_WhereClause != NULL &&
		oc->oc_WhereClause->evalfunc != bh_conflict_eval)
		bh_conflict_wrap_expr(cw, oc->oc_WhereClause, true);
	if (cw->set_calls && oc->oc_ProjInfo != NULL &&
		oc->oc_ProjInfo->pi_state.evalfunc != bh_conflict_eval)
		bh_conflict_wrap_expr(cw, &oc->oc_ProjInfo->pi_state, false);
}

static TupleTableSlot *
bh_conflict_route_exec(PlanState *ps)
{
	BhConflictRouteWrap *w = (BhConflictRouteWrap *) bh_find_wrap(&ps->ExecProcNode);
	BhConflictWrap *cw = w->cw;
	TupleTableSlot *slot = w->node.orig(ps);
	TupleTableSlot *row = slot;
	ModifyTableState *mt = cw->mt;
	ResultRelInfo *rri;

	/* the first call replaces the dispatch method (ExecProcNodeFirst) */
	if (ps->ExecProcNode != bh_conflict_route_exec)
	{
		w->node.orig = ps->ExecProcNode;
		ps->ExecProcNode = bh_conflict_route_exec;
	}
	if (TupIsNull(slot) || mt->mt_partition_tuple_routing == NULL)
		return slot;
	if (cw->route_slot != NULL)
	{
		int			natts = cw->route_slot->tts_tupleDescriptor->natts;
		int			i;

		slot_getallattrs(slot);
		ExecClearTuple(cw->route_slot);
		for (i = 0; i < natts; i++)
		{
			cw->route_slot->tts_values[i] = slot->tts_values[cw->route_attnos[i] - 1];
			cw->route_slot->tts_isnull[i] = slot->tts_isnull[cw->route_attnos[i] - 1];
		}
		ExecStoreVirtualTuple(cw->route_slot);
		row = cw->route_slot;
	}
	rri = ExecFindPartition(mt, mt->rootResultRelInfo, mt->mt_partition_tuple_routing,
							row, mt->ps.state);
	if (rri != cw->last_routed)
	{
		cw->last_routed = rri;
		if (cw->unseen)
			bh_note_unseen_update_of(RelationGetRelid(rri->ri_RelationDesc));
		bh_conflict_wrap_rel(cw, rri);
	}
	return slot;
}

/*
 * Wrap the expressions of an INSERT ... ON CONFLICT DO UPDATE whose WHERE
 * condition or SET list may show the stored row to a user's function (for
 * some owner: decided for each table at its first row), of a tagged table
 * or of a partitioned table with a tagged table in its tree (the root's
 * own tag, a partition tagged on its own under it: each row's partition
 * decides, once routed); a partitioned table's subplan too.  Rows routed
 * to a partition tagged without write capture are rows it may update
 * unseen (bh_note_unseen_update_of), each partition noted when the first
 * row goes to it.
 */
static void
bh_wrap_on_conflict(BhStatement *st, ModifyTableState *mt)
{
	ModifyTable *plan = (ModifyTable *) mt->ps.plan;
	ResultRelInfo *root = mt->rootResultRelInfo;
	PlanState  *sub = outerPlanState(mt);
	const BhTag *tag;
	BhConflictWrap *cw;
	MemoryContext old;
	bool		where_calls = false;
	bool		set_calls = false;
	bool		routed;
	bool		reads;
	bool		unseen = false;

	if (plan->operation != CMD_INSERT || plan->onConflictAction != ONCONFLICT_UPDATE ||
		root == NULL || root->ri_onConflict == NULL)
		return;
	routed = mt->mt_partition_tuple_routing != NULL && sub != NULL;
	tag = bh_tag_lookup(RelationGetRelid(root->ri_RelationDesc));
	reads = tag != NULL && tag->capture_reads;
	if (routed)
	{
		List	   *below = bh_tags_below(RelationGetRelid(root->ri_RelationDesc));
		ListCell   *lc;

		unseen = bh_tag_unseen(tag);
		foreach(lc, below)
		{
			const BhTag *t = bh_tag_lookup(lfirst_oid(lc));

			reads = reads || (t != NULL && t->capture_reads);
			unseen = unseen || bh_tag_unseen(t);
		}
		list_free(below);
	}
	if (reads)
	{
		where_calls = bh_conflict_expr_calls(plan->onConflictWhere, mt, InvalidOid);
		set_calls = bh_conflict_expr_calls((Node *) plan->onConflictSet, mt, InvalidOid);
	}
	if (!where_calls && !set_calls && !(routed && unseen))
		return;
	old = MemoryContextSwitchTo(st->cxt);
	cw = palloc0(sizeof(BhConflictWrap));
	cw->mt = mt;
	cw->rels.st = st;
	cw->where_calls = where_calls;
	cw->set_calls = set_calls;
	cw->unseen = unseen;
	bh_conflict_wrap_rel(cw, root);
	if (routed)
	{
		BhConflictRouteWrap *w = palloc0(sizeof(BhConflictRouteWrap));
		TupleDesc	desc = RelationGetDescr(root->ri_RelationDesc);
		ListCell   *lc;
		int			i = 0;
		bool		junk = false;

		/* the subplan's row as the table's: its columns not junk, in order */
		foreach(lc, sub->plan->targetlist)
			junk = junk || lfirst_node(TargetEntry, lc)->resjunk;
		if (junk)
		{
			cw->route_slot = ExecInitExtraTupleSlot(mt->ps.state, desc, &TTSOpsVirtual);
			cw->route_attnos = palloc0(sizeof(AttrNumber) * Max(desc->natts, 1));
			foreach(lc, sub->plan->targetlist)
			{
				TargetEntry *te = lfirst_node(TargetEntry, lc);

				if (!te->resjunk && i < desc->natts)
					cw->route_attnos[i++] = te->resno;
			}
			if (i != desc->natts)
				elog(ERROR, "bh_audit: an INSERT's row does not match its table");
		}
		w->node.key = &sub->ExecProcNode;
		w->node.orig = sub->ExecProcNode;
		w->cw = cw;
		bh_wrap_enter(&st->wraps, &w->node);
		sub->ExecProcNode = bh_conflict_route_exec;
	}
	MemoryContextSwitchTo(old);
}

/*
 * MERGE: a matched row of its target that no action changed (WHEN MATCHED
 * THEN DO NOTHING, WHEN MATCHED AND conditions none of which it passes, no
 * WHEN MATCHED action at all, a BEFORE ROW trigger that returned NULL) is
 * no write, yet the join produced it and the statement shows it (the rows
 * inserted, the row count): a read of its patient.  The ModifyTable node
 * takes a row from its subplan, carries out its action, then takes the
 * next one: the subplan is wrapped (its dispatch method, since a scan
 * wrapper may hold its own method), holding the target's table and row id
 * of each matched row it gives; when the node takes the next row (or finds
 * none), the row held is read unless the node's counts of rows updated or
 * deleted moved meanwhile (a cross-partition update counts as updated).
 * The version read is the one the join produced, which the WHEN MATCHED
 * conditions were given (the node left it in the table's old-row slot;
 * without WHEN MATCHED actions it is fetched by its row id); after a
 * concurrent update, the node gave them the newest version: that one is
 * read too.  Source rows that matched nothing carry
 * no row id, and target rows that matched nothing are no rows of the
 * subplan.  A table whose target scan is wrapped (bh_wrap_scan: it shows
 * its rows to a user's function) has every row it produced read already,
 * the newest version a re-check gave it too (its scan in the re-check
 * plan is wrapped as well: bh_epq_prepare).
 */
typedef struct BhMergeWrap
{
	BhWrap		node;			/* first: found as a BhWrap (key: the address
								 * of the subplan's ExecProcNode; orig: that
								 * method) */
	ModifyTableState *mt;
	BhRelCaptures rels;			/* its target's tables; a NULL set: not
								 * captured, or read by its scan */
	BhReturningRel *held;		/* the table of the matched row given last,
								 * NULL: none */
	ItemPointerData held_tid;	/* that row's id */
	double		updated;		/* mt's counts when it was given */
	double		deleted;
} BhMergeWrap;

/* The matched row held, now that the node is done with it. */
static void
bh_merge_untouched(BhMergeWrap *w)
{
	BhReturningRel *r = w->held;
	ModifyTableState *mt = w->mt;
	TupleTableSlot *row = r->rri->ri_oldTupleSlot;

	w->held = NULL;
	if (mt->mt_merge_updated != w->updated || mt->mt_merge_deleted != w->deleted)
		return;					/* an action changed it: a write */
	bh_read_set_row(r->set);
	if (r->attnum == InvalidAttrNumber)
		return;
	if (r->rri->ri_matchedMergeAction != NIL && row != NULL && !TupIsNull(row))
	{
		bh_fetched_row_note(r, row);
		/* else after a concurrent update: the join's version too */
		if (ItemPointerEquals(&row->tts_tid, &w->held_tid))
			return;
	}
	if (r->fetched == NULL)
		r->fetched = table_slot_create(r->rri->ri_RelationDesc, &mt->ps.state->es_tupleTable);
	if (table_tuple_fetch_row_version(r->rri->ri_RelationDesc, &w->held_tid, SnapshotAny,
									  r->fetched))
		bh_fetched_row_note(r, r->fetched);
	ExecClearTuple(r->fetched);
}

static TupleTableSlot *
bh_merge_exec(PlanState *ps)
{
	BhMergeWrap *w = (BhMergeWrap *) bh_find_wrap(&ps->ExecProcNode);
	TupleTableSlot *slot;
	BhReturningRel *r;
	Oid			relid;

	if (w->held != NULL)
		bh_merge_untouched(w);
	slot = w->node.orig(ps);
	/* the first call replaces the dispatch method (ExecProcNodeFirst) */
	if (ps->ExecProcNode != bh_merge_exec)
	{
		w->node.orig = ps->ExecProcNode;
		ps->ExecProcNode = bh_merge_exec;
	}
	relid = bh_returning_source(w->mt, slot, InvalidOid);
	if (OidIsValid(relid) && (r = bh_returning_rel(&w->rels, relid))->set != NULL &&
		bh_plan_row_tid(r, w->mt, slot, &w->held_tid))
	{
		w->held = r;
		w->updated = w->mt->mt_merge_updated;
		w->deleted = w->mt->mt_merge_deleted;
	}
	return slot;
}

/*
 * Wrap the subplan of a MERGE into a table (a partition) tagged with
 * capture_reads, but for those whose target scan reads every row it
 * produces (scan_read: their Oids).
 */
static void
bh_wrap_merge(BhStatement *st, ModifyTableState *mt, List *scan_read)
{
	PlanState  *sub = outerPlanState(mt);
	BhMergeWrap *w;
	MemoryContext old;
	ListCell   *lc;
	bool		reads = false;
	int			i;

	if (((ModifyTable *) mt->ps.plan)->operation != CMD_MERGE || sub == NULL)
		return;
	for (i = 0; i < mt->mt_nrels && !reads; i++)
	{
		Oid			relid = RelationGetRelid(mt->resultRelInfo[i].ri_RelationDesc);
		const BhTag *tag = bh_tag_lookup(relid);

		reads = tag != NULL && tag->capture_reads && !list_member_oid(scan_read, relid);
	}
	if (!reads)
		return;
	old = MemoryContextSwitchTo(st->cxt);
	w = palloc0(sizeof(BhMergeWrap));
	w->node.key = &sub->ExecProcNode;
	w->node.orig = sub->ExecProcNode;
	w->mt = mt;
	w->rels.st = st;
	foreach(lc, scan_read)
		bh_returning_rel(&w->rels, lfirst_oid(lc))->set = NULL;
	bh_wrap_enter(&st->wraps, &w->node);
	MemoryContextSwitchTo(old);
	sub->ExecProcNode = bh_merge_exec;
}

/*
 * Wrap a LockRows node if it locks rows of tagged tables with a patient
 * column, or if its re-check plan is to be wrapped (recheck; subst: the
 * relations whose rows that substitutes).
 */
static void
bh_wrap_lockrows(BhWrapWalk *walk, LockRowsState *node, bool recheck, List *subst)
{
	BhStatement *st = walk->st;
	BhLockWrap *w = NULL;
	ListCell   *lc;
	MemoryContext old = MemoryContextSwitchTo(walk->cxt);

	foreach(lc, node->lr_arowMarks)
	{
		ExecAuxRowMark *erm = (ExecAuxRowMark *) lfirst(lc);
		const BhTag *tag;
		BhLockMark *m;

		if (erm->rowmark->relation == NULL ||
			(tag = bh_tag_lookup(RelationGetRelid(erm->rowmark->relation))) == NULL ||
			!tag->capture_reads || tag->patient_attnum == InvalidAttrNumber)
			continue;
		if (w == NULL)
		{
			w = palloc0(sizeof(BhLockWrap));
			w->node.key = &node->ps;
			w->node.orig = node->ps.ExecProcNodeReal;
		}
		m = palloc0(sizeof(BhLockMark));
		m->erm = erm;
		m->set = bh_read_set(st, tag);
		m->attnum = tag->patient_attnum;
		bh_id_output_copy(&m->out, &tag->patient_out, walk->cxt);
		w->marks = lappend(w->marks, m);
	}
	if (w == NULL && recheck)
	{
		w = palloc0(sizeof(BhLockWrap));
		w->node.key = &node->ps;
		w->node.orig = node->ps.ExecProcNodeReal;
	}
	if (w != NULL)
	{
		w->st = st;
		w->recheck = recheck;
		if (recheck)
			w->subst = list_copy(subst);
		bh_wrap_enter(walk->wraps, &w->node);
		node->ps.ExecProcNodeReal = bh_lockrows_exec;
	}
	MemoryContextSwitchTo(old);
}

/*
 * An UPDATE (a MERGE, an INSERT ... ON CONFLICT DO UPDATE) of a table
 * tagged without write capture (bh_note_unseen_update_of), at the
 * statement's start: its result relations.  An UPDATE or a MERGE of a
 * partitioned table may move rows into any partition, also one it does
 * not scan: the partitions tagged on their own under it too.  (An INSERT
 * routes its rows: bh_wrap_on_conflict notes each partition reached.)
 */
static void
bh_note_unseen_updates(ModifyTableState *mt)
{
	ModifyTable *plan = (ModifyTable *) mt->ps.plan;
	ResultRelInfo *root = mt->rootResultRelInfo;
	int			i;

	if (plan->operation != CMD_UPDATE && plan->operation != CMD_MERGE &&
		!(plan->operation == CMD_INSERT && plan->onConflictAction == ONCONFLICT_UPDATE))
		return;
	for (i = 0; i < mt->mt_nrels; i++)
		bh_note_unseen_update_of(RelationGetRelid(mt->resultRelInfo[i].ri_RelationDesc));
	if (plan->operation != CMD_INSERT && root != NULL &&
		root->ri_RelationDesc->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
	{
		List	   *below = bh_tags_below(RelationGetRelid(root->ri_RelationDesc));
		ListCell   *lc;

		foreach(lc, below)
			bh_note_unseen_update_of(lfirst_oid(lc));
		list_free(below);
	}
}

/* Walk the plan states of a list of SubPlans (initPlan, subPlan). */
static void
bh_wrap_subplans(List *plans, BhWrapWalk *walk)
{
	ListCell   *lc;

	foreach(lc, plans)
		(void) bh_wrap_walker(((SubPlanState *) lfirst(lc))->planstate, walk);
}

/*
 * The relations whose rows a re-check of a LockRows or ModifyTable node
 * substitutes (BhEpqNote): the rows it locks or changes, and those of the
 * other relations of its query, fetched again as they were (its plan's
 * other row marks).
 */
static List *
bh_epq_substituted(PlanState *ps)
{
	List	   *subst = NIL;
	EPQState   *epq;
	ListCell   *lc;

	if (IsA(ps, LockRowsState))
	{
		foreach(lc, ((LockRowsState *) ps)->lr_arowMarks)
			subst = lappend_int(subst, (int) ((ExecAuxRowMark *) lfirst(lc))->rowmark->rti);
		epq = &((LockRowsState *) ps)->lr_epqstate;
	}
	else
	{
		subst = list_copy(((ModifyTable *) ps->plan)->resultRelations);
		epq = &((ModifyTableState *) ps)->mt_epqstate;
	}
	foreach(lc, epq->arowMarks)
		subst = lappend_int(subst, (int) ((ExecAuxRowMark *) lfirst(lc))->rowmark->rti);
	return subst;
}

/* Walk the plan state tree, wrapping scans of tagged tables. */
static bool
bh_wrap_walker(PlanState *ps, void *context)
{
	BhWrapWalk *walk = (BhWrapWalk *) context;

	if (ps == NULL)
		return false;

	/*
	 * Wrapped already, with what is below it: a SubPlan that PostgreSQL
	 * copies into several expressions (each partition's filter, an OR
	 * clause also extracted as a restriction of one side of a join) keeps
	 * one plan state, reached once per copy.  Wrapping a node twice would
	 * make its wrapper call itself.
	 */
	if (ps->ExecProcNodeReal == bh_scan_exec || ps->ExecProcNodeReal == bh_lockrows_exec ||
		ps->ExecProcNodeReal == bh_returning_exec)
		return false;
	if (bh_is_table_scan(ps))
		bh_wrap_scan(walk, ps);
	switch (nodeTag(ps))
	{
		case T_LockRowsState:
			{
				/* its subplan is what its re-check runs again */
				BhEpqNote	note = {bh_epq_substituted(ps), false, walk->epqs};

				bh_wrap_subplans(ps->initPlan, walk);
				walk->epqs = &note;
				(void) bh_wrap_walker(outerPlanState(ps), walk);
				walk->epqs = note.up;
				bh_wrap_subplans(ps->subPlan, walk);
				bh_wrap_lockrows(walk, (LockRowsState *) ps, note.reads, note.subst);
				list_free(note.subst);
				return false;
			}
		case T_ModifyTableState:
			{
				ModifyTableState *mt = (ModifyTableState *) ps;
				CmdType		operation = ((ModifyTable *) ps->plan)->operation;
				BhWrapWalk	inner = *walk;
				BhEpqNote	note = {bh_epq_substituted(ps), false, walk->epqs};

				/* (none runs in a re-check plan, where PostgreSQL refuses it) */
				if (!walk->recheck)
				{
					bh_wrap_returning(walk->st, mt);
					bh_note_unseen_updates(mt);
					bh_wrap_on_conflict(walk->st, mt);
				}
				inner.mt = mt;
				inner.mt_shows = NIL;
				inner.mt_shows_not = NIL;
				inner.mt_scan_read = NIL;
				bh_wrap_subplans(ps->initPlan, &inner);
				inner.epqs = &note;
				(void) bh_wrap_walker(outerPlanState(ps), &inner);
				inner.epqs = walk->epqs;
				bh_wrap_subplans(ps->subPlan, &inner);
				/*
				 * (after its scans: which of them read every row, also in
				 * the re-check plan; a re-check plan's MERGE never runs)
				 */
				if (!walk->recheck)
					bh_wrap_merge(walk->st, mt, inner.mt_scan_read);
				/* an UPDATE's, a DELETE's or a MERGE's rows are re-checked */
				if (note.reads && walk->prepare != NULL &&
					(operation == CMD_UPDATE || operation == CMD_DELETE ||
					 operation == CMD_MERGE))
				{
					MemoryContext old = MemoryContextSwitchTo(walk->st->cxt);

					*walk->prepare = lappend(*walk->prepare, mt);
					MemoryContextSwitchTo(old);
				}
				list_free(note.subst);
				return false;
			}
		default:
			break;
	}
	return planstate_tree_walker(ps, bh_wrap_walker, context);
}

/*
 * The wrappers of a re-check plan (bh_epq_prepare), forgotten when its
 * executor state goes: by a callback of its memory context, where they are.
 */
typedef struct BhEpqWraps
{
	MemoryContextCallback gone;
	List	   *wraps;
} BhEpqWraps;

static void
bh_epq_gone(void *arg)
{
	bh_wraps_forget_list(((BhEpqWraps *) arg)->wraps);
}

/*
 * Make the re-check plan of a LockRows or ModifyTable node (ps) now, and
 * wrap its scans (subst: the relations whose rows it substitutes).  When a
 * row the statement is to lock or change was changed by another
 * transaction meanwhile, PostgreSQL re-checks the row's newest version in
 * a separate copy of the node's subplan, with an executor state of its own
 * (EvalPlanQual): made by EvalPlanQualBegin at the first re-check, reset
 * and run again at the next ones; no hook sees it made, and its scans run
 * the subqueries again, on the newest version's values, and give that
 * version to their filters.  Made here by that same call, it is the one
 * PostgreSQL resets and runs, as at a second re-check.  Only for a plan
 * with a scan that may read there what no other wrapper sees (BhEpqNote),
 * and only where a re-check may come (READ COMMITTED: at the higher
 * levels, PostgreSQL refuses the row instead): other statements run as
 * before.  The first call would also run, for the copy, those InitPlans of
 * the statement that its subplan uses and that have not run yet, which the
 * statement may never run: their links are hidden from it meanwhile, so
 * that they run when a re-check first needs them (EvalPlanQualBegin's
 * reset runs them then).  The copy goes with its executor state
 * (EvalPlanQualEnd: at the node's end, and at the end of a LockRows node's
 * rows, which makes it again before its next run: bh_lockrows_exec), its
 * wrappers with it (bh_epq_gone).
 */
static void
bh_epq_prepare(BhStatement *st, PlanState *ps, List *subst)
{
	EPQState   *epq = IsA(ps, LockRowsState) ? &((LockRowsState *) ps)->lr_epqstate
		: &((ModifyTableState *) ps)->mt_epqstate;
	EState	   *parent = epq->parentestate;
	volatile int nparams = list_length(parent->es_plannedstmt->paramExecTypes);
	void	  **volatile links = NULL;
	BhEpqWraps *ew;
	BhWrapWalk	walk;
	MemoryContext old;
	int			i;

	if (epq->plan == NULL || epq->recheckestate != NULL || IsolationUsesXactSnapshot())
		return;
	/* (its executor state a child of the statement's, gone with it) */
	old = MemoryContextSwitchTo(parent->es_query_cxt);
	if (nparams > 0)
	{
		links = palloc(sizeof(void *) * nparams);
		for (i = 0; i < nparams; i++)
		{
			links[i] = parent->es_param_exec_vals[i].execPlan;
			parent->es_param_exec_vals[i].execPlan = NULL;
		}
	}
	PG_TRY();
	{
		EvalPlanQualBegin(epq);
	}
	PG_FINALLY();
	{
		for (i = 0; i < nparams; i++)
			parent->es_param_exec_vals[i].execPlan = links[i];
	}
	PG_END_TRY();
	if (links != NULL)
		pfree(links);

	MemoryContextSwitchTo(epq->recheckestate->es_query_cxt);
	ew = palloc0(sizeof(BhEpqWraps));
	ew->gone.func = bh_epq_gone;
	ew->gone.arg = ew;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &ew->gone);
	memset(&walk, 0, sizeof(walk));
	walk.st = st;
	walk.mt = IsA(ps, ModifyTableState) ? (ModifyTableState *) ps : NULL;
	walk.cxt = CurrentMemoryContext;
	walk.wraps = &ew->wraps;
	walk.recheck = true;
	walk.subst = subst;
	bh_shown_rows_start();
	(void) bh_wrap_walker(epq->recheckplanstate, &walk);
	bh_shown_rows_end();
	MemoryContextSwitchTo(old);
}

/* Wrap the nodes of a statement's plan that produce rows of tagged tables. */
void
bh_wrap_plan(BhStatement *st)
{
	BhWrapWalk	walk;
	List	   *prepare = NIL;
	ListCell   *lc;

	memset(&walk, 0, sizeof(walk));
	walk.st = st;
	walk.cxt = st->cxt;
	walk.wraps = &st->wraps;
	walk.prepare = &prepare;
	/* (as left by a statement whose look at its expressions failed) */
	bh_shown_rows_start();
	(void) bh_wrap_walker(st->qd->planstate, &walk);
	bh_shown_rows_end();
	/* the re-check plans of its UPDATEs, DELETEs, MERGEs that need one */
	foreach(lc, prepare)
	{
		PlanState  *mt = (PlanState *) lfirst(lc);
		List	   *subst = bh_epq_substituted(mt);

		bh_epq_prepare(st, mt, subst);
		list_free(subst);
	}
	list_free(prepare);
}

/*
 * The statement failed while it ran: the row each scan of a tagged table
 * was evaluating when the error came (its filter, its output columns, or
 * a write's new values computed from it), and the row a RETURNING list was
 * computed from, count as read too, since the error sent to the client may
 * show their values (SELECT body::int FROM notes).  A scan's slot holds the
 * row it returned last (counted already), or the one it was evaluating, or
 * nothing once the scan ended.  An error that shows no row by itself (a
 * cancel between two rows, a deadlock: bh_failing_error_shows_no_row)
 * leaves out the rows of nodes that give no user's function their rows: a
 * row the filter had just rejected is not attributed; but one a function
 * was given may have been shown before the error came (RAISE NOTICE).  This walks the plan tree, not the
 * wrappers: the rows an UPDATE or a DELETE changes are scanned unwrapped.
 * An index-only scan's slot holds the index tuple: the patient is read
 * there (bh_ios_attnum), and a noted move is looked up by the heap TID the
 * scan found.  An index-only scan without the patient column is one of a
 * query that needs no column of the table (bh_get_relation_info): its
 * expressions are given no value of the row, which neither an error nor a
 * function can then show, and it is not looked at.  Its heap row is not
 * fetched either, nor is an index-only scan's row fetched to tell whether
 * the transaction made it: buffers are not touched while the error is
 * handled (it may have come with a buffer's lock held, released only by
 * the abort); where the table's moves are no longer followed, such a row
 * counts as one the transaction may have moved (bh_read_set_moved_row).
 * The re-check plan of a LockRows or ModifyTable node (EvalPlanQual), if
 * made, is walked too: its scans' slots hold the rows a subquery run again
 * was evaluating, or rows the statement's own scans produced (fetched
 * again); a row a re-check substitutes for a locked or changed one is not
 * in its scan's slot.
 */
typedef struct BhFailureWalk
{
	BhStatement *st;
	bool		stopped;		/* the error shows no row by itself
								 * (bh_failing_error_shows_no_row) */
} BhFailureWalk;

static bool
bh_rows_at_failure_walker(PlanState *ps, void *context)
{
	BhFailureWalk *walk = (BhFailureWalk *) context;
	BhStatement *st = walk->st;
	TupleTableSlot *row = NULL;
	Oid			relid = InvalidOid;
	IndexOnlyScanState *ios = NULL;
	const BhTag *tag;

	if (ps == NULL)
		return false;
	if (bh_is_table_scan(ps))
	{
		if (IsA(ps, IndexOnlyScanState))
			ios = (IndexOnlyScanState *) ps;
		if (((ScanState *) ps)->ss_currentRelation != NULL)
		{
			relid = RelationGetRelid(((ScanState *) ps)->ss_currentRelation);
			row = ((ScanState *) ps)->ss_ScanTupleSlot;
		}
	}
	else if (IsA(ps, ModifyTableState) && ps->ps_ExprContext != NULL &&
			 (row = ps->ps_ExprContext->ecxt_scantuple) != NULL)
		relid = row->tts_tableOid;
	if (row != NULL && walk->stopped)
	{
		BhWrap	   *w = bh_wrap_of(ps);

		if (w == NULL || !w->shows)
			row = NULL;
	}
	if (row != NULL && !TupIsNull(row) && relid != bh_refreshing_matview &&
		(tag = bh_tag_cached(relid)) != NULL && tag->capture_reads &&
		tag->patient_attnum != InvalidAttrNumber)
	{
		AttrNumber	attnum = ios ? bh_ios_attnum(ios, tag->patient_attnum)
			: tag->patient_attnum;
		bool		isnull = true;
		Datum		d = 0;

		if (attnum != InvalidAttrNumber)
			d = slot_getattr(row, attnum, &isnull);
		/* (a NULL or empty patient: the row may have been counted already) */
		if (!isnull)
		{
			BhReadSet  *set = bh_read_set(st, tag);

			if (set->rows == 0)
				set->rows = 1;	/* the set has read something */
			(void) bh_read_set_add_value(set, &tag->patient_out, d);
			if (unlikely(bh_moved_active) && ios == NULL)
				bh_moved_row_read(set, relid, row, NULL);
			else if (unlikely(bh_moved_active) && ios->ioss_ScanDesc != NULL)
			{
				bh_moved_row_read(set, relid, NULL, &ios->ioss_ScanDesc->xs_heaptid);
				if (bh_moved_is_unfollowed(set->tagged_relid))
					bh_read_set_moved_row(set);
			}
		}
	}
	if (IsA(ps, LockRowsState) &&
		bh_rows_at_failure_walker(((LockRowsState *) ps)->lr_epqstate.recheckplanstate, context))
		return true;
	if (IsA(ps, ModifyTableState) &&
		bh_rows_at_failure_walker(((ModifyTableState *) ps)->mt_epqstate.recheckplanstate, context))
		return true;
	return planstate_tree_walker(ps, bh_rows_at_failure_walker, context);
}

void
bh_note_rows_at_failure(BhStatement *st)
{
	MemoryContext old;
	BhFailureWalk walk;

	walk.st = st;
	walk.stopped = bh_failing_error_shows_no_row();
	old = MemoryContextSwitchTo(st->cxt);
	(void) bh_rows_at_failure_walker(st->qd->planstate, &walk);
	MemoryContextSwitchTo(old);
}

