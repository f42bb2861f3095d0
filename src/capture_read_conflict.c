/*-------------------------------------------------------------------------
 *
 * capture_read_conflict.c
 *		Read capture of INSERT ... ON CONFLICT DO UPDATE: the stored rows
 *		its WHERE condition or SET list shows to a user's function, through
 *		wrappers of those expression states (a partition's own ones too,
 *		the subplan's rows routed ahead to make them).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/execPartition.h"
#include "executor/executor.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "capture_read_wrap.h"
#include "shown_rows.h"

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
	bool		where_calls;	/* the WHERE condition calls such a function,
								 * for some owner */
	bool		set_calls;		/* the SET list does */
	bool		unseen;			/* a partition rows are routed to may be
								 * tagged without write capture */
	ResultRelInfo *last_routed; /* the partition the last row went to */
	TupleTableSlot *route_slot; /* the subplan's row without its junk columns,
								 * as the table's row: NULL when it has none */
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

				/*
				 * the stored row (a heap tuple's slot): moved by this
				 * transaction?
				 */
				if (unlikely(bh_moved_active))
					bh_moved_row_read(r->set, r->relid, row, NULL);
			}
		}
	}
	result = w->orig(state, econtext, isnull);

	/*
	 * The first run of a state may replace its evaluation function
	 * (ExecInterpExprStillValid, a JIT-compiled expression's): stay in front
	 * of the new one.
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
void
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
