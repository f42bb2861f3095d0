/*-------------------------------------------------------------------------
 *
 * capture_read_epq.c
 *		The re-check plans (EvalPlanQual) of LockRows and ModifyTable nodes
 *		whose scans may read there what no other wrapper sees: made before
 *		the node runs and wrapped, their wrappers forgotten with them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"

#include "capture_read_wrap.h"
#include "shown_rows.h"

/*
 * The relations whose rows a re-check of a LockRows or ModifyTable node
 * substitutes (BhEpqNote): the rows it locks or changes, and those of the
 * other relations of its query, fetched again as they were (its plan's
 * other row marks).
 */
List *
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
void
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
