/*-------------------------------------------------------------------------
 *
 * plan_tags.c
 *		The tagged tables a query names, found in its tree, and those that
 *		the bodies of the SQL functions the planner inlines into it name:
 *		what a failure of its planning (or of its Bind, or of its EXECUTE)
 *		is recorded on, and whether it may be planned in parallel.
 *
 * A query is walked with its subqueries, sublinks and CTEs
 * (bh_plan_tags_walker): the first tagged table (or the ledger) it names,
 * and each one with the relation named for it and its action (the
 * command's, for the target of an INSERT, UPDATE, DELETE or MERGE; else a
 * read, bh_plan_tags_reads); after the walk, the partitions tagged on their
 * own under an untagged partitioned table it names, the tagged tables under
 * an untagged inheritance parent it names without ONLY and, in a query not
 * rewritten yet, the tagged tables a view it names reads
 * (bh_plan_tags_through); for the note of a client's statement with
 * parameters, the other relations it names too.  For parallelism, the walk
 * also tells whether one of those tables has its reads captured, whether
 * the query calls a user's function a worker may run, and whether
 * planning may bring in tables it does not name (an inlined function,
 * partitions, inheritance children); and a plan tells whether it reads a
 * tagged table in parallel workers after all
 * (bh_plan_is_parallel_on_tagged).
 *
 * The bodies of the SQL functions the planner inlines are found three
 * ways.  A body analysed under a planning (bh_post_parse_analyze), views
 * included, is noted aside (BhPlanBody) until it is known to be inlined
 * into the query, its tables the query's from then on
 * (bh_plan_body_settle); a BEGIN ATOMIC body, which no analysis shows, is
 * read from its stored tree as the planning starts (bh_plan_tags_tree);
 * after a planning error, the query as the failing planner left it shows
 * the bodies inlined in place (bh_plan_tags_failed).
 *
 * Only the finding is here: the hooks that call it (planner, post parse
 * analysis, the utility hook's EXECUTE), the planning running
 * (bh_planning_tags) and the recording of the failures are read
 * capture's (capture_read.c, capture_failure.c); plan_tags.h is what they
 * use.  Read here: the query trees, the tag cache, and pg_proc for the
 * functions the planner may inline.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "capture.h"
#include "plan_tags.h"
#include "tags.h"

/* Does a plan read a tagged table in parallel workers (any Gather)? */
bool
bh_plan_is_parallel_on_tagged(PlannedStmt *stmt)
{
	ListCell   *lc;

	if (!stmt->parallelModeNeeded)
		return false;
	foreach(lc, stmt->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);
		const BhTag *tag;

		if (rte->rtekind == RTE_RELATION &&
			(tag = bh_tag_lookup(rte->relid)) != NULL && tag->capture_reads)
			return true;
	}
	return false;
}

void
bh_plan_tags_init(BhPlanTags *found)
{
	found->events_relid = InvalidOid;
	found->first = InvalidOid;
	found->reads = false;
	found->parallel_ok = false;
	found->may_grow = false;
	found->user_functions = false;
	found->ntables = 0;
	found->ntargets = 0;
	found->nparents = 0;
	found->context = error_context_stack;
	found->parse = NULL;
	found->note_others = false;
	found->views = false;
	found->trees = false;
	found->ntrees = 0;
	found->tree_funcs = NIL;
	found->tree_cxt = CurrentMemoryContext;
	found->nothers = 0;
	found->body = NULL;
}

/*
 * Note a tagged relation (or the ledger: relid), reached through the
 * relation named (itself, or an untagged partitioned table), with its
 * action, in lists of ntables (a BhPlanTags's or a BhPlanBody's), unless
 * its table (relid_tagged) is noted: a partition and its table are one
 * failure.  The target of a command is noted with that command's action,
 * also when the table is noted as read before; NULL: read.  Without
 * actions (NULL), a list of the tables of functions' trees (tree_tables).
 */
void
bh_tables_add_as(int *ntables, Oid *tables, Oid *tagged, Oid *named, const char **actions,
				 Oid relid, Oid relid_tagged, Oid relid_named, const char *action)
{
	int			n = *ntables;
	int			i;

	i = bh_failure_tables_add(tables, tagged, ntables, relid, relid_tagged);
	if (i == n)
		named[i] = relid_named;
	if (actions != NULL && i >= 0 && (i == n || action != NULL))
		actions[i] = action;
}

/* The same, in found's lists. */
void
bh_plan_tags_add_as(BhPlanTags *found, Oid relid, Oid tagged, Oid named, const char *action)
{
	bh_tables_add_as(&found->ntables, found->tables, found->tagged, found->named,
					 found->actions, relid, tagged, named, action);
}

/* The action of the command whose target rte is, or NULL (read). */
static const char *
bh_plan_tags_action(BhPlanTags *found, RangeTblEntry *rte)
{
	const char *action = NULL;
	int			i;

	for (i = 0; i < found->ntargets; i++)
		if (found->targets[i] == rte)
			action = found->target_actions[i];
	return action;
}

/*
 * Note a tagged relation (or the ledger: relid) that a query names (rte),
 * or reaches through the untagged partitioned table it names (rte), with
 * the action of the query's command (bh_plan_tags_target) whose target
 * rte is, if any.  (Not inlined, as the one below: the walker, called for
 * every node, stays lean.)
 */
static pg_noinline void
bh_plan_tags_add(BhPlanTags *found, RangeTblEntry *rte, Oid relid, Oid tagged)
{
	bh_plan_tags_add_as(found, relid, tagged, rte->relid, bh_plan_tags_action(found, rte));
}

/*
 * Note a relation that a query names (rte) and that is neither tagged nor
 * above partitions tagged on their own, with its action as above: it may
 * be tagged before the statement's Bind fails.
 */
static pg_noinline void
bh_plan_tags_other(BhPlanTags *found, RangeTblEntry *rte)
{
	const char *action = bh_plan_tags_action(found, rte);
	int			i;

	for (i = 0; i < found->nothers; i++)
		if (found->others[i] == rte->relid)
		{
			if (action != NULL)
				found->other_actions[i] = action;
			return;
		}
	if (found->nothers < BH_FAILURE_TABLES)
	{
		found->others[found->nothers] = rte->relid;
		found->other_actions[found->nothers++] = action;
	}
}

/* Note the target of a query's command (INSERT, UPDATE, DELETE, MERGE). */
static pg_noinline void
bh_plan_tags_target(BhPlanTags *found, Query *query)
{
	if (found->ntargets == BH_FAILURE_TABLES ||
		(query->commandType != CMD_INSERT && query->commandType != CMD_UPDATE &&
		 query->commandType != CMD_DELETE && query->commandType != CMD_MERGE))
		return;
	found->targets[found->ntargets] = rt_fetch(query->resultRelation, query->rtable);
	found->target_actions[found->ntargets++] = bh_action_for(query->commandType, 0);
}

/*
 * A function a user defined that may run in a parallel worker: its own
 * statements may read a tagged table there.
 */
static bool
bh_user_parallel_safe(Oid funcid, void *context)
{
	return funcid >= FirstNormalObjectId && func_parallel(funcid) == PROPARALLEL_SAFE;
}

static void bh_plan_tags_tree(BhPlanTags *found, const RangeTblEntry *rte);

/*
 * Walk a query with its subqueries, sublinks and CTEs, noting the first
 * tagged table (or the ledger) and every one (bh_plan_tags_add), each
 * query's target (met in its range table after the query) with its
 * command's action, and with trees, those of the BEGIN ATOMIC bodies of
 * its functions (bh_plan_tags_tree); once a table whose reads
 * are captured is found, what parallelism needs to know no longer matters.
 */
bool
bh_plan_tags_walker(Node *node, BhPlanTags *found)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;
		const BhTag *tag;

		if (rte->rtekind == RTE_FUNCTION)
		{
			found->may_grow = true;
			if (found->trees)
				bh_plan_tags_tree(found, rte);
		}
		if (rte->rtekind != RTE_RELATION)
			return false;
		/* a catalog lookup per table: only when a copy may be wanted */
		if (found->parallel_ok && rte->inh && !found->may_grow && !found->reads &&
			(rte->relkind == RELKIND_PARTITIONED_TABLE || has_subclass(rte->relid)))
			found->may_grow = true;
		tag = bh_tag_lookup(rte->relid);
		if (tag != NULL || (OidIsValid(found->events_relid) && rte->relid == found->events_relid))
		{
			if (!OidIsValid(found->first))
				found->first = rte->relid;
			if (found->ntables == 0 && found->ntargets == 0)
			{
				/* the first table read (the only one, mostly) */
				found->tables[0] = rte->relid;
				found->tagged[0] = tag ? tag->tagged_relid : rte->relid;
				found->named[0] = rte->relid;
				found->actions[0] = NULL;
				found->ntables = 1;
			}
			else
				bh_plan_tags_add(found, rte, rte->relid, tag ? tag->tagged_relid : rte->relid);
		}

		/*
		 * with views, also a view: the rewriter has not expanded it yet; an
		 * inheritance parent named without ONLY (an INSERT's target has inh
		 * false: its rows stay in the parent)
		 */
		else if ((rte->relkind == RELKIND_PARTITIONED_TABLE ||
				  (found->views && rte->relkind == RELKIND_VIEW)) &&
				 found->nparents < BH_FAILURE_TABLES &&
				 bh_tags_through(rte->relid, found->views) != NULL)
			found->parents[found->nparents++] = rte;
		else if (rte->relkind == RELKIND_RELATION && rte->inh &&
				 found->nparents < BH_FAILURE_TABLES &&
				 bh_tags_inherited_through(rte->relid) != NULL)
			found->parents[found->nparents++] = rte;
		else if (found->note_others)
			bh_plan_tags_other(found, rte);
		found->reads |= (tag != NULL && tag->capture_reads);
		return false;
	}
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;

		if (query->resultRelation > 0)
			bh_plan_tags_target(found, query);
		return query_tree_walker(query, bh_plan_tags_walker, found, QTW_EXAMINE_RTES_BEFORE);
	}
	if (found->parallel_ok && !found->user_functions && !found->reads &&
		check_functions_in_node(node, bh_user_parallel_safe, NULL))
		found->user_functions = true;
	return expression_tree_walker(node, bh_plan_tags_walker, found);
}

/*
 * The partitions tagged on their own under an untagged partitioned table
 * (parent; the tag cache's list, in the order of their bounds, as the
 * executor's plan would have them), the tagged tables under an untagged
 * inheritance parent (named without ONLY: the walker's), or the tagged
 * tables (and the ledger) a view (parent) reads, each with the action
 * given for it (NULL: read).
 */
void
bh_plan_tags_under(BhPlanTags *found, Oid parent, const char *action)
{
	const BhTagView *through = bh_tags_through(parent, true);
	Oid			tables[BH_FAILURE_TABLES];
	int			n;
	int			k;

	if (through == NULL)
		through = bh_tags_inherited_through(parent);
	n = through ? Min(through->ntables, BH_FAILURE_TABLES) : 0;

	/* copied: the lookups below may load the cache again */
	if (n > 0)
		memcpy(tables, through->tables, n * sizeof(Oid));
	for (k = 0; k < n; k++)
	{
		const BhTag *tag = bh_tag_lookup(tables[k]);

		if (tag == NULL && (!OidIsValid(found->events_relid) ||
							tables[k] != found->events_relid))
			continue;
		if (!OidIsValid(found->first))
			found->first = tables[k];
		bh_plan_tags_add_as(found, tables[k], tag ? tag->tagged_relid : tables[k],
							parent, action);
	}
}

/*
 * After the walk: the partitions tagged on their own under each untagged
 * partitioned table that the query names (bh_plan_tags_under), after the
 * tables it names, each with the command's action if the table is its
 * target (an UPDATE, a DELETE, an INSERT routing its rows), else read:
 * the executor's plan would reach them (those its pruning keeps), and the
 * failure of a query that does not get that far is theirs.
 */
void
bh_plan_tags_through(BhPlanTags *found)
{
	int			i;

	for (i = 0; i < found->nparents; i++)
		bh_plan_tags_under(found, found->parents[i]->relid,
						   bh_plan_tags_action(found, found->parents[i]));
}

/*
 * Could the planner prepare the body of the function a range table entry
 * calls, to inline it?  One call of a set-returning SQL function, without
 * ORDINALITY, that the user may EXECUTE, that no plugin hooks (fmgr_hook),
 * not VOLATILE, STRICT or SECURITY DEFINER, with no SET, not returning
 * SETOF void, and given as many arguments as it declares, whose arguments
 * call no volatile function and have no subquery: PostgreSQL declines the
 * others before it analyses their bodies (inline_set_returning_function),
 * which a query's other call of the same function may have had analysed
 * (bh_plan_body_inlined).  The arguments are looked at as the entry has
 * them: the planner simplifies them first (eval_const_expressions), in
 * place in the query's own FROM, in its own copy of a subquery it plans
 * apart, which may take such a call or subquery away (CASE WHEN false
 * THEN random() ..., a VOLATILE SQL function it inlines as a constant, a
 * parameter's value in a custom plan); *settled is false for those (the
 * entry may still be inlined), true for the others.  Returns the
 * function's pg_proc entry (to be released), else NULL.
 */
static HeapTuple
bh_rte_inline_proc(const RangeTblEntry *rte, bool *settled)
{
	RangeTblFunction *rtfunc;
	FuncExpr   *fexpr;
	HeapTuple	tuple;
	Form_pg_proc proc;

	if (rte->rtekind != RTE_FUNCTION || rte->funcordinality ||
		list_length(rte->functions) != 1)
		return NULL;
	rtfunc = linitial_node(RangeTblFunction, rte->functions);
	if (rtfunc->funcexpr == NULL || !IsA(rtfunc->funcexpr, FuncExpr) ||
		!((FuncExpr *) rtfunc->funcexpr)->funcretset)
		return NULL;
	fexpr = (FuncExpr *) rtfunc->funcexpr;
	if (FmgrHookIsNeeded(fexpr->funcid))
		return NULL;
	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fexpr->funcid));
	if (!HeapTupleIsValid(tuple))
		return NULL;
	proc = (Form_pg_proc) GETSTRUCT(tuple);
	if (proc->prolang == SQLlanguageId && proc->prokind == PROKIND_FUNCTION &&
		proc->provolatile != PROVOLATILE_VOLATILE && proc->prorettype != VOIDOID &&
		!proc->proisstrict && !proc->prosecdef && proc->proretset &&
		list_length(fexpr->args) == proc->pronargs &&
		heap_attisnull(tuple, Anum_pg_proc_proconfig, NULL) &&
		pg_proc_aclcheck(proc->oid, GetUserId(), ACL_EXECUTE) == ACLCHECK_OK)
	{
		*settled = !contain_volatile_functions((Node *) fexpr->args) &&
			!contain_subplans((Node *) fexpr->args);
		return tuple;
	}
	ReleaseSysCache(tuple);
	return NULL;
}

/*
 * Could the planner analyse the body of the function a range table entry
 * calls, to inline it (bh_rte_inline_proc: *settled), and is that body src?
 */
static bool
bh_rte_may_inline(const RangeTblEntry *rte, const char *src, bool *settled)
{
	HeapTuple	tuple = bh_rte_inline_proc(rte, settled);
	bool		same = false;
	bool		isnull;
	Datum		prosrc;

	if (tuple == NULL)
		return false;
	prosrc = SysCacheGetAttr(PROCOID, tuple, Anum_pg_proc_prosrc, &isnull);
	if (!isnull)
	{
		char	   *body_src = TextDatumGetCString(prosrc);

		same = (strcmp(body_src, src) == 0);
		pfree(body_src);
	}
	ReleaseSysCache(tuple);
	return same;
}

/*
 * Walk the body of a SQL function a planning may inline (query: a tree,
 * or one analysed, not rewritten) into body, a BhPlanTags set up for it,
 * the views it names included, and the trees of its functions in its
 * tree_tables.
 */
void
bh_plan_tags_body_walk(BhPlanTags *body, Node *query, Oid events_relid)
{
	body->events_relid = events_relid;
	body->views = true;
	body->trees = true;
	(void) bh_plan_tags_walker(query, body);
	if (body->nparents > 0)
		bh_plan_tags_through(body);
}

/*
 * A function entry (rte) of the query planned (in its own FROM, a subquery
 * or a sublink), or of a body it may inline: if the planner may inline its
 * function (bh_rte_inline_proc) and that function's body is a tree (BEGIN
 * ATOMIC), which no parse analysis shows (bh_post_parse_analyze), the
 * tagged tables (and the ledger) that the tree names, or reaches through a
 * view or an untagged partitioned table it names, or through its own
 * functions' trees, are noted in found's tree_tables, each with that
 * relation, once per function.  The planner inlines such a body in its
 * own copy of a subquery it plans apart (OFFSET 0, a sublink, an inlined
 * body it cannot pull up: LIMIT), which its failure does not show (one
 * inlined in place, in the query's own FROM, bh_plan_tags_failed sees,
 * but not the trees it calls apart): they are the failure's if the
 * transaction holds a lock on the table or on the relation the body names
 * for it by then (the planner takes it as it inlines the body:
 * bh_plan_failed).  For a call whose arguments are not settled
 * (bh_rte_inline_proc), only the tables the transaction holds no lock on
 * yet: the planner inlines it only if its simplification takes the
 * volatile part away, and a lock an earlier statement took would count as
 * the planner's.
 */
static pg_noinline void
bh_plan_tags_tree(BhPlanTags *found, const RangeTblEntry *rte)
{
	bool		settled;
	HeapTuple	tuple = bh_rte_inline_proc(rte, &settled);
	Oid			funcid;
	Datum		sqlbody;
	bool		isnull;
	MemoryContext cxt;
	MemoryContext old;
	Node	   *tree;
	BhPlanTags	body;
	bool		skipped = false;
	int			nfuncs;
	int			i;

	if (tuple == NULL)
		return;
	funcid = ((Form_pg_proc) GETSTRUCT(tuple))->oid;
	sqlbody = SysCacheGetAttr(PROCOID, tuple, Anum_pg_proc_prosqlbody, &isnull);
	if (isnull || list_member_oid(found->tree_funcs, funcid))
	{
		ReleaseSysCache(tuple);
		return;
	}
	check_stack_depth();		/* trees calling trees */
	old = MemoryContextSwitchTo(found->tree_cxt);
	nfuncs = list_length(found->tree_funcs);
	found->tree_funcs = lappend_oid(found->tree_funcs, funcid);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "bh_audit body tree",
								ALLOCSET_SMALL_SIZES);
	MemoryContextSwitchTo(cxt);
	tree = stringToNode(TextDatumGetCString(sqlbody));
	ReleaseSysCache(tuple);
	/* as the planner reads it: a body of one statement only is inlined */
	if (IsA(tree, List))
		tree = (list_length((List *) tree) > 0 &&
				list_length(linitial((List *) tree)) == 1) ?
			linitial(linitial((List *) tree)) : NULL;
	bh_plan_tags_init(&body);
	body.tree_funcs = found->tree_funcs;
	body.tree_cxt = found->tree_cxt;
	if (tree != NULL && IsA(tree, Query))
		bh_plan_tags_body_walk(&body, tree, found->events_relid);
	found->tree_funcs = body.tree_funcs;
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	for (i = 0; i < body.ntables + body.ntrees; i++)
	{
		bool		tree = (i >= body.ntables);
		int			k = tree ? i - body.ntables : i;
		Oid			table = tree ? body.tree_tables[k] : body.tables[k];
		Oid			named = tree ? body.tree_named[k] : body.named[k];

		/*
		 * Arguments that stay volatile keep the planner from inlining the
		 * call (and from locking the tree's tables): a lock held already is
		 * no sign it did.  Not noted then (nor the function, nor those its
		 * body's walk listed, so that another call of any of them may note
		 * them).
		 */
		if (!settled && (bh_locked_by_me(named) || bh_locked_by_me(table)))
		{
			skipped = true;
			continue;
		}
		bh_tables_add_as(&found->ntrees, found->tree_tables, found->tree_tagged,
						 found->tree_named, NULL, table,
						 tree ? body.tree_tagged[k] : body.tagged[k], named, NULL);
	}
	if (skipped)
		found->tree_funcs = list_truncate(found->tree_funcs, nfuncs);
}

/* The walk of bh_plan_body_add: the query's nesting (1: the query planned) */
typedef struct BhBodyRtes
{
	BhPlanBody *body;
	int			depth;
} BhBodyRtes;

static bool
bh_plan_body_rtes_walker(Node *node, BhBodyRtes *walk)
{
	BhPlanBody *body = walk->body;

	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		bool		settled;

		/*
		 * An entry of the query's own FROM whose arguments are not settled is
		 * not the one whose body is analysed (the planner simplified that
		 * one's already) and is still to be simplified, or never inlined; one
		 * of a subquery apart may be inlined in its copy.
		 */
		if (bh_rte_may_inline((RangeTblEntry *) node, body->src, &settled) &&
			(settled || walk->depth > 1))
		{
			if (walk->depth == 1)
			{
				MemoryContext old = MemoryContextSwitchTo(body->cxt);

				body->rtes = lappend(body->rtes, node);
				MemoryContextSwitchTo(old);
			}
			else
				body->rtes_apart = true;
		}
		return body->rtes_apart;	/* nothing more to learn */
	}
	if (IsA(node, Query))
	{
		bool		done;

		walk->depth++;
		done = query_tree_walker((Query *) node, bh_plan_body_rtes_walker, walk,
								 QTW_EXAMINE_RTES_BEFORE);
		walk->depth--;
		return done;
	}

	/*
	 * Range tables only (subqueries in FROM), not expressions nor WITH
	 * queries (the query's cteList comes as a List, not looked into): a body
	 * is analysed once per call of an IMMUTABLE function the planner folds,
	 * so a walk of every expression made planning a query of many such calls
	 * quadratic, and, from deep in the planner's recursion, could exceed the
	 * stack (sql/94).  A function of a condition's subquery is not seen: as
	 * if none were apart.
	 */
	return false;
}

/*
 * A body of text src analysed now under a planning, under the innermost
 * frame: noted (see BhPlanBody), its tables to come (bh_plan_body_add).
 */
void
bh_plan_body_begin(BhPlanBody *body, const char *src)
{
	bh_context_mark(&body->frame);
	body->failed_preparing = false;
	body->ntables = 0;
	body->ntrees = 0;
	if (body->src != NULL)
		pfree(body->src);
	body->src = src ? MemoryContextStrdup(body->cxt, src) : NULL;
	list_free(body->rtes);
	body->rtes = NIL;
	body->rtes_apart = false;
	body->looked = false;
}

/*
 * Would taking the body noted (bh_plan_body_end) change the planning's
 * tables (found): has it a table found has not, while found's list has
 * room, or an action for one of found's that found gives it otherwise?
 */
static bool
bh_plan_body_adds(const BhPlanTags *found)
{
	const BhPlanBody *body = found->body;
	int			i;
	int			j;

	for (i = 0; i < body->ntables; i++)
	{
		for (j = 0; j < found->ntables; j++)
			if (found->tagged[j] == body->tagged[i])
				break;
		if (j == found->ntables ? found->ntables < BH_FAILURE_TABLES :
			body->actions[i] != NULL && body->actions[i] != found->actions[j])
			return true;
	}
	for (i = 0; i < body->ntrees; i++)
	{
		for (j = 0; j < found->ntrees; j++)
			if (found->tree_tagged[j] == body->tree_tagged[i])
				break;
		if (j == found->ntrees && found->ntrees < BH_FAILURE_TABLES)
			return true;
	}
	return false;
}

/* The length of a query's range table, and how many of its entries are subqueries. */
static void
bh_plan_rtable_shape(const Query *parse, int *length, int *subqueries)
{
	ListCell   *lc;

	*length = list_length(parse->rtable);
	*subqueries = 0;
	foreach(lc, parse->rtable)
		if (lfirst_node(RangeTblEntry, lc)->rtekind == RTE_SUBQUERY)
		(*subqueries)++;
}

/*
 * Are the function entries that may call the body noted those the walk
 * before found (kept, for a body of the same text): has the query's range
 * table the same length and as many subqueries as then?  The planner
 * changes the query it plans in place only there: it inlines a function
 * of that range table by turning its entry into a subquery (which may call
 * the function apart), and pulls a subquery up by adding its entries to
 * the range table; the subqueries it plans apart, it plans in copies.
 * Then the walk's result is the body's, without a walk: a query calling
 * many functions of one body not inlined (a CROSS JOIN of calls) would
 * otherwise be walked once per call, through all the calls (quadratic).
 */
static bool
bh_plan_body_walk_kept(BhPlanTags *found)
{
	BhPlanBody *body = found->body;
	int			length;
	int			subqueries;
	MemoryContext old;

	if (body->walked_src == NULL || strcmp(body->walked_src, body->src) != 0)
		return false;
	bh_plan_rtable_shape(found->parse, &length, &subqueries);
	if (length != body->walked_length || subqueries != body->walked_subqueries)
		return false;
	old = MemoryContextSwitchTo(body->cxt);
	body->rtes = list_copy(body->walked_rtes);
	MemoryContextSwitchTo(old);
	body->rtes_apart = body->walked_apart;
	return true;
}

/*
 * The tables of a statement of the body noted (found->body), just analysed
 * (stmt: its walk, bh_plan_tags_body_walk), are the body's; then, if
 * taking the body would change the planning's tables (bh_plan_body_adds),
 * the function entries that may call it are looked for, once, as the
 * query is now: in the query's own range table, which the planner inlines
 * before any of its subqueries, in place, and whether one is in a subquery
 * in FROM too, where it inlines in its own copy (an entry of the query it
 * pulls such a subquery up into is the copy's); the range tables only,
 * not the expressions (see bh_plan_body_rtes_walker).  The query is as it
 * was at the body's first statement: the planner does nothing between the
 * analyses of a body's statements.  Not looked for when taking the body
 * changes nothing (its tables noted already by an earlier body: the bodies
 * of a UNION of calls of one function): the walk from the query's top,
 * through the arms the planner has planned in place, made planning such a
 * UNION quadratic in its calls.  A body that would add a table but is not
 * inlined (analysed and not inlined, in the query's own FROM) is not taken:
 * a later body of its text takes the walk's result while the query's range
 * table is as it was (bh_plan_body_walk_kept).
 */
void
bh_plan_body_add(BhPlanTags *found, const BhPlanTags *stmt)
{
	BhPlanBody *body = found->body;
	BhBodyRtes	walk;
	MemoryContext old;
	int			i;

	for (i = 0; i < stmt->ntables; i++)
		bh_tables_add_as(&body->ntables, body->tables, body->tagged, body->named,
						 body->actions, stmt->tables[i], stmt->tagged[i],
						 stmt->named[i], stmt->actions[i]);
	for (i = 0; i < stmt->ntrees; i++)
		bh_tables_add_as(&body->ntrees, body->tree_tables, body->tree_tagged,
						 body->tree_named, NULL, stmt->tree_tables[i],
						 stmt->tree_tagged[i], stmt->tree_named[i], NULL);
	if (body->looked || body->src == NULL || !bh_plan_body_adds(found))
		return;
	body->looked = true;
	if (bh_plan_body_walk_kept(found))
		return;
	walk.body = body;
	walk.depth = 0;
	(void) bh_plan_body_rtes_walker((Node *) found->parse, &walk);
	/* kept for the next body of this text */
	old = MemoryContextSwitchTo(body->cxt);
	if (body->walked_src != NULL)
	{
		pfree(body->walked_src);
		list_free(body->walked_rtes);
	}
	body->walked_src = pstrdup(body->src);
	body->walked_rtes = list_copy(body->rtes);
	body->walked_apart = body->rtes_apart;
	bh_plan_rtable_shape(found->parse, &body->walked_length, &body->walked_subqueries);
	MemoryContextSwitchTo(old);
}

/*
 * Is a statement analysed under the body's frame the next one of that body
 * (of the same text, after the one before): a function that runs ("...
 * during startup") has the statements of its body analysed one after the
 * other; the planner inlines a body of one statement, and analyses the
 * bodies of the functions of a FROM one after the other, each under a frame
 * pushed at the same place, with the same callback and argument.
 */
bool
bh_plan_body_goes_on(const BhPlanBody *body, const char *src, int location)
{
	return body->src != NULL && src != NULL && location > body->location &&
		strcmp(body->src, src) == 0;
}

/*
 * Was the body noted inlined: has the planner turned one of the function
 * entries of the query it may be inlined for into a subquery?  As if it
 * was when that cannot be seen: none such (a function of a subquery that
 * the planner plans apart, in its own copy), or one such apart too (the
 * body may be that one's), or when they were not looked for
 * (bh_plan_body_add: taking the body changes nothing).
 */
bool
bh_plan_body_inlined(const BhPlanBody *body)
{
	ListCell   *lc;

	if (!body->looked || body->rtes == NIL || body->rtes_apart)
		return true;
	foreach(lc, body->rtes)
		if (lfirst_node(RangeTblEntry, lc)->rtekind == RTE_SUBQUERY)
		return true;
	return false;
}

/* The body noted is over: its tables are the planning's (found) if take. */
void
bh_plan_body_end(BhPlanTags *found, bool take)
{
	BhPlanBody *body = found->body;
	int			i;

	if (take)
	{
		for (i = 0; i < body->ntables; i++)
			bh_plan_tags_add_as(found, body->tables[i], body->tagged[i], body->named[i],
								body->actions[i]);
		for (i = 0; i < body->ntrees; i++)
			bh_tables_add_as(&found->ntrees, found->tree_tables, found->tree_tagged,
							 found->tree_named, NULL, body->tree_tables[i],
							 body->tree_tagged[i], body->tree_named[i], NULL);
	}
	body->frame.frame = NULL;
}

/*
 * The tables of a SQL function's body analysed under a planning (found),
 * noted aside (found->body) while its frame, "SQL function ... during
 * inlining" or "... during startup", is the innermost one: the planner
 * inlines a set-returning function's body into the query (its tables are
 * the query's from then on), unless the body turns out not to fit
 * (check_sql_fn_retval: "SELECT n FROM notes n" in a function returning
 * SETOF notes), and runs an IMMUTABLE function it folds (their statements'
 * own, which record their own failures once they are planned).  Settled
 * once the body's frame is gone, or another body is analysed under a frame
 * at its place (merged into found if the body was inlined:
 * bh_plan_body_inlined), or as a planning starts under it (the
 * function runs its statements: dropped); a planning failing before,
 * within the body's preparation (a refusal by row-level security as it is
 * rewritten: the error raised under its frame, which the planning's
 * PG_CATCH no longer sees, bh_plan_error_seen) or after its inlining,
 * takes them (bh_plan_failed).
 */
void
bh_plan_body_settle(BhPlanTags *found, bool planning)
{
	BhPlanBody *body = found->body;

	if (body == NULL || body->frame.frame == NULL)
		return;
	bh_plan_body_end(found, bh_context_mark_is_top(&body->frame) || body->failed_preparing ?
					 !planning : bh_plan_body_inlined(body));
}

/* Give the tables a query only reads (found) their action: a read (or an export). */
void
bh_plan_tags_reads(BhPlanTags *found)
{
	int			i;

	for (i = 0; i < found->ntables; i++)
		if (found->actions[i] == NULL)
			found->actions[i] = bh_action_for(CMD_SELECT, 0);
}

/*
 * After a planning error: note the tagged tables (or the ledger) in the
 * range tables of the query as the planner left it, and of its subqueries
 * in FROM and WITH, read (those it names are noted), from the tag cache as
 * loaded (no catalog access; no expression walked), not the partitions
 * or children it added (the executor's plan knows those).  The planner puts
 * there the body of each set-returning SQL function it inlines, also one
 * given as a tree (BEGIN ATOMIC), which no analysis shows
 * (bh_post_parse_analyze), but not one inlined in a subquery it plans
 * apart, in its own copy (bh_plan_tags_tree).
 */
void
bh_plan_tags_failed(BhPlanTags *found, Query *query)
{
	ListCell   *lc;

	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);
		const BhTag *tag;
		int			n = found->ntables;

		if (rte->rtekind == RTE_SUBQUERY && rte->subquery != NULL)
			bh_plan_tags_failed(found, rte->subquery);
		/* not a child the planner added for a partitioned (or parent) table */
		if (rte->rtekind != RTE_RELATION || rte->requiredPerms == 0)
			continue;
		tag = bh_tag_cached(rte->relid);
		if ((tag != NULL || (OidIsValid(found->events_relid) &&
							 rte->relid == found->events_relid)) &&
			bh_failure_tables_add(found->tables, found->tagged, &found->ntables, rte->relid,
								  tag ? tag->tagged_relid : rte->relid) == n)
			found->actions[n] = NULL;
	}
	foreach(lc, query->cteList)
	{
		CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);

		if (cte->ctequery != NULL && IsA(cte->ctequery, Query))
			bh_plan_tags_failed(found, (Query *) cte->ctequery);
	}
}
