/*-------------------------------------------------------------------------
 *
 * capture_read_wrap.h
 *		What the files of read capture's plan-node wrappers share: a
 *		statement's read sets (capture_read_set.c), the wrappers' table and
 *		the walk of a plan (capture_read_wrap.c), the capture of the rows a
 *		ModifyTable node meets (capture_read_modify.c), ON CONFLICT DO
 *		UPDATE (capture_read_conflict.c), MERGE (capture_read_merge.c), the
 *		re-check plans (capture_read_epq.c) and the rows a failing statement
 *		was evaluating (capture_read_failure.c).  What read capture's hooks
 *		use of them is in capture_read.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_CAPTURE_READ_WRAP_H
#define BH_AUDIT_CAPTURE_READ_WRAP_H

#include "nodes/execnodes.h"

#include "capture_read.h"
#include "id_text.h"
#include "tags.h"

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

/* capture_read_set.c */
extern bool bh_read_set_add_value(BhReadSet *set, const BhIdOutput *out, Datum d);
extern void bh_read_set_add_row(BhReadSet *set, const BhIdOutput *out, TupleTableSlot *slot,
								AttrNumber attnum);
extern void bh_moved_row_read(BhReadSet *set, Oid relid, TupleTableSlot *slot, ItemPointer tid);
extern BhReadSet *bh_read_set(BhStatement *st, const BhTag *tag);

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
								 * user's function (a filter, a projection, a
								 * RETURNING list): one it failed on may have
								 * been shown, whatever the error */
} BhWrap;

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

extern HTAB *bh_wraps;
extern void *bh_last_key;
extern BhWrap *bh_last_wrap;

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

/* capture_read_wrap.c */
extern void bh_wrap_enter(List **wraps, BhWrap *w);
extern void bh_wraps_forget_list(List *wraps);
extern bool bh_wrap_walker(PlanState *ps, void *context);
extern AttrNumber bh_ios_attnum(IndexOnlyScanState *ios, AttrNumber heap_attnum);

/*
 * A table whose rows a wrapper of a ModifyTable node meets
 * (capture_read_modify.c: RETURNING; ON CONFLICT DO UPDATE, MERGE).
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

/* capture_read_modify.c */
extern BhReturningRel *bh_returning_rel(BhRelCaptures *c, Oid relid);
extern Oid	bh_returning_source(ModifyTableState *node, TupleTableSlot *plan_slot, Oid none);
extern bool bh_plan_row_tid(BhReturningRel *r, ModifyTableState *node, TupleTableSlot *plan_slot,
							ItemPointer tid);
extern void bh_fetched_row_note(BhReturningRel *r, TupleTableSlot *slot);
extern TupleTableSlot *bh_returning_exec(PlanState *ps);
extern void bh_wrap_returning(BhStatement *st, ModifyTableState *node);
extern bool bh_tag_unseen(const BhTag *tag);
extern void bh_note_unseen_update_of(Oid relid);
extern void bh_note_unseen_updates(ModifyTableState *mt);

/* capture_read_conflict.c */
extern void bh_wrap_on_conflict(BhStatement *st, ModifyTableState *mt);

/* capture_read_merge.c */
extern void bh_wrap_merge(BhStatement *st, ModifyTableState *mt, List *scan_read);

/* capture_read_epq.c */
extern List *bh_epq_substituted(PlanState *ps);
extern void bh_epq_prepare(BhStatement *st, PlanState *ps, List *subst);

#endif							/* BH_AUDIT_CAPTURE_READ_WRAP_H */
