/*-------------------------------------------------------------------------
 *
 * shown_rows.c
 *		Which expressions of a plan show a tagged table's rows to a function
 *		a user defined, and which functions are exempt.
 *
 * A function a user defined, not leakproof, that is given values of a row
 * may keep or send them, whether the row is then produced or not: read
 * capture counts every row such a function is given as read.  Its
 * plan-node wrappers (capture_read_wrap.c) ask here, when they wrap a
 * statement's plan, which of its expressions do that: a scan's filter or
 * projection calling such a function on the row's values (bh_expr_calls:
 * directly, as an operator's, through a domain's CHECK, also one inside a
 * composite or array type made from the row or a CHECK casts its value
 * to, or in a correlated subplan,
 * whose conditions count, index and TID conditions included:
 * bh_node_conditions; the values a CASE compares and those an element-wise
 * cast or a nested assignment is given are the row's when what gives
 * them is: bh_walk_case_value); a condition or projection of an UPDATE's, a
 * DELETE's or a MERGE's plan above its target's scan, or beside it given
 * the target's values (bh_mt_shows_target); an INSERT ... ON CONFLICT DO
 * UPDATE's WHERE condition or SET list given the stored row
 * (bh_conflict_expr_calls).  The rule is kept apart from the wrappers so
 * that what counts as showing a row is decided in one place.
 *
 * Which functions count (bh_user_function) depends on the reader, who may
 * steer a function through the search_path it resolves names by
 * (bh_reader_steers), and on the table whose rows are looked at: its
 * owner's own functions are exempt for readers without the owner's
 * privileges, and so are the functions of its row-level security policies
 * when row security applies to the reader (bh_policy_functions, found only
 * when a function asks).  That table is the look's state: set for each scan
 * (bh_shown_rows_scan), for each owner of an UPDATE's, a DELETE's or a
 * MERGE's target tables (bh_mt_shows_target) and of an ON CONFLICT's
 * (bh_conflict_expr_calls), and reset around each statement's plan
 * (bh_shown_rows_start, bh_shown_rows_end).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/transam.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_language.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "parser/parsetree.h"
#include "rewrite/rowsecurity.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#include "utils/varlena.h"

#include "capture_read.h"
#include "shown_rows.h"

/*
 * Does a function a user defined, not leakproof, run in an expression on
 * values of the row (or a volatile built-in one: set_config(), pg_notify(),
 * large objects, query_to_xml() can keep or send what they are given)?
 * Other built-in functions are not counted: many are not leakproof (their
 * errors may show a value), but none keeps or sends a value, and counting
 * them would attribute every row any filtered query examines.  Exempt too
 * is code the reader neither chose nor can change: an extension's IMMUTABLE
 * function owned by a superuser (pg_trgm's similarity: one the extension's
 * script made or a superuser added; an extension's owner adds only its own
 * functions, and a STABLE or VOLATILE one may run SQL it is given:
 * tablefunc's crosstab(), dblink); for a reader without the privileges of
 * the table's owner, the owner's own functions (a row-level security
 * policy's, the application's: the owner's powers over its table are the
 * owner's, docs/threat-model.md); and, when row security applies to the
 * reader, the functions the table's policies call, whoever owns them (only
 * the owner creates a policy; a helper of another role's, as Supabase's
 * policies call), unless the reader has the privileges of the function's
 * owner (may replace it).  No exemption holds for a function the reader can
 * steer (bh_reader_steers): one that resolves the names its body uses by
 * the reader's search_path runs the reader's functions (a lower() ahead of
 * pg_catalog's) on what it is given.  Functions of operators count as
 * functions.  A function given nothing of the row (no column, no value of
 * an outer row) sees no value of it.  A correlated SubPlan (top, the node
 * whose expression it is; NULL inside a subplan, whose nested subplans the
 * plan state walk visits) counts when its plan calls such a function
 * anywhere: it sees values of the row.
 */
static bool bh_planstate_calls(PlanState *ps, void *context);

/*
 * The owner of the table whose scan's filter is being looked at, and the
 * functions its row-level security policies call (bh_policy_functions).
 */
static Oid	bh_filter_table_owner = InvalidOid;
static List *bh_filter_policy_functions = NIL;

/*
 * The scan (and its statement) whose policies' functions are still to be
 * found: only when a function of the filter asks (most filters call none,
 * and most scans have none).
 */
static PlannedStmt *bh_filter_policy_stmt = NULL;
static ScanState *bh_filter_policy_scan = NULL;

static List *bh_policy_functions(PlannedStmt *stmt, ScanState *ss);
static bool bh_uses_row(Node *node, void *context);

/*
 * Set while ON CONFLICT DO UPDATE's expressions are looked at: their inner
 * row (EXCLUDED) is the row proposed, no stored row.
 */
static bool bh_inner_is_no_row = false;

/*
 * Whether the CaseTestExprs where an expression's walk is stand for a
 * value of the row: what the innermost node above them that gives them a
 * value is given (bh_walk_case_value).
 */
static bool bh_case_value_is_row = false;

/*
 * The types whose look (bh_type_calls) is under way, innermost last.  A
 * domain's CHECK may make a value of a type that contains the domain (a
 * cast to a composite type with a field of it; PostgreSQL accepts even a
 * cast to the domain itself, and fails only when the domain is used): a
 * type met again within its own look adds nothing to it.  Reset before
 * each look at a statement's expressions (one that failed may have left
 * types here).
 */
#define BH_TYPES_OPEN 64
static Oid	bh_types_open[BH_TYPES_OPEN];
static int	bh_types_nopen = 0;

/*
 * The answers of bh_type_calls for the table owner's look (the functions
 * exempt are the owner's, its policies'), forgotten when the owner changes
 * (bh_shown_rows_owner): a statement casting many values to one domain
 * looks at it once.
 */
#define BH_TYPE_ANSWERS 16
static struct
{
	Oid			typid;
	bool		calls;
}			bh_type_answers[BH_TYPE_ANSWERS];
static int	bh_type_nanswers = 0;

/*
 * Whether each built-in function is volatile (bh_user_function), once
 * looked up: 0 not yet, 1 no, 2 yes.  Asked for each function of each
 * expression looked at; the volatility of a built-in function does not
 * change in practice (a superuser's ALTER FUNCTION of one is seen by the
 * sessions that start after it).
 */
static uint8 bh_builtin_volatile[FirstNormalObjectId];

/* The owner of the table whose rows are looked at next (InvalidOid: none). */
static void
bh_shown_rows_owner(Oid owner)
{
	bh_filter_table_owner = owner;
	bh_type_nanswers = 0;
}

/*
 * Before a statement's plan is looked at: the state as a statement whose
 * look at its expressions failed may have left it (its list not freed: the
 * memory it was in may be gone).
 */
void
bh_shown_rows_start(void)
{
	bh_inner_is_no_row = false;
	bh_case_value_is_row = false;
	bh_types_nopen = 0;
	bh_shown_rows_owner(InvalidOid);
	bh_filter_policy_functions = NIL;
	bh_filter_policy_scan = NULL;
}

/* After a statement's plan was looked at. */
void
bh_shown_rows_end(void)
{
	list_free(bh_filter_policy_functions);
	bh_filter_policy_functions = NIL;
	bh_filter_policy_scan = NULL;
}

/*
 * The scan whose expressions are looked at next: its table's owner, and
 * the functions of its policies, found when a function first asks.
 */
void
bh_shown_rows_scan(PlannedStmt *stmt, ScanState *ss)
{
	bh_shown_rows_owner(ss->ss_currentRelation->rd_rel->relowner);
	list_free(bh_filter_policy_functions);
	bh_filter_policy_functions = NIL;
	bh_filter_policy_stmt = stmt;
	bh_filter_policy_scan = ss;
}

/*
 * Expressions of no scan are looked at next (a RETURNING list): no table
 * owner's function is exempt, no policy's.
 */
void
bh_shown_rows_no_scan(void)
{
	bh_shown_rows_owner(InvalidOid);
	list_free(bh_filter_policy_functions);
	bh_filter_policy_functions = NIL;
	bh_filter_policy_scan = NULL;
}

/*
 * Does a search_path a function sets (a SET clause's value) leave the
 * reader a way into the names it resolves?  Unless it names only pg_catalog
 * (searched first anyway, where a superuser alone creates objects) and
 * schemas that exist and in which the reader may not create objects,
 * followed by pg_temp: the session's temporary schema is the reader's,
 * searched first for types and tables when not listed (SET search_path =
 * '' too: a domain pg_temp.text whose CHECK calls the reader's function),
 * and "$user" may be the reader's schema.  PostgreSQL's advice for SECURITY
 * DEFINER functions.
 */
static bool
bh_path_steerable(char *path)
{
	List	   *names;
	ListCell   *lc;

	if (!SplitIdentifierString(path, ',', &names) || names == NIL ||
		strcmp(llast(names), "pg_temp") != 0)
		return true;
	foreach(lc, names)
	{
		Oid			nsp;

		if (lnext(names, lc) == NULL)
			break;				/* the final pg_temp */
		nsp = get_namespace_oid(lfirst(lc), true);
		if (!OidIsValid(nsp) ||
			(nsp != PG_CATALOG_NAMESPACE &&
			 pg_namespace_aclcheck(nsp, GetUserId(), ACL_CREATE) == ACLCHECK_OK))
			return true;
	}
	return false;
}

/*
 * Does a function resolve the names its body uses (functions, operators,
 * types, tables) by a search_path the reader sets or can add to?  A
 * function in any language but C and internal (a superuser's) resolves
 * them when it runs, by the session's search_path, unless it sets its own
 * (CREATE FUNCTION ... SET search_path: proconfig), which the functions it
 * calls then run with too.  An SQL-standard body (BEGIN ATOMIC, RETURN)
 * is bound when created, but a function it calls is not: it needs the SET
 * too.  An SQL function PostgreSQL inlines is not asked about: its body is
 * part of the plan, its functions asked about themselves.
 */
static bool
bh_reader_steers(HeapTuple tup, Form_pg_proc proc)
{
	Datum		config;
	bool		isnull;
	Datum	   *items;
	int			n;
	bool		steers = true;

	if (proc->prolang == ClanguageId || proc->prolang == INTERNALlanguageId)
		return false;
	config = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_proconfig, &isnull);
	if (isnull)
		return true;
	deconstruct_array(DatumGetArrayTypeP(config), TEXTOID, -1, false, TYPALIGN_INT,
					  &items, NULL, &n);
	for (int i = 0; i < n; i++)
	{
		char	   *name;
		char	   *value;

		ParseLongOption(TextDatumGetCString(items[i]), &name, &value);
		if (value != NULL && pg_strcasecmp(name, "search_path") == 0)
			steers = bh_path_steerable(value);
	}
	return steers;
}

static bool
bh_user_function(Oid funcid, void *context)
{
	HeapTuple	tup;
	Form_pg_proc proc;
	bool		counts;

	if (funcid < FirstNormalObjectId && bh_builtin_volatile[funcid] != 0)
		return bh_builtin_volatile[funcid] == 2;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (!HeapTupleIsValid(tup))
		return false;
	proc = (Form_pg_proc) GETSTRUCT(tup);
	if (funcid < FirstNormalObjectId)
	{
		counts = (proc->provolatile == PROVOLATILE_VOLATILE);
		bh_builtin_volatile[funcid] = counts ? 2 : 1;
	}
	else if (bh_reader_steers(tup, proc))
		counts = true;
	else if (proc->proleakproof ||
			 (proc->provolatile == PROVOLATILE_IMMUTABLE &&
			  superuser_arg(proc->proowner) &&
			  OidIsValid(getExtensionOfObject(ProcedureRelationId, funcid))))
		counts = false;
	else if (has_privs_of_role(GetUserId(), proc->proowner))
		counts = true;
	else if (proc->proowner == bh_filter_table_owner)
		counts = false;
	else
	{
		if (bh_filter_policy_scan != NULL)
		{
			bh_filter_policy_functions = bh_policy_functions(bh_filter_policy_stmt,
															 bh_filter_policy_scan);
			bh_filter_policy_scan = NULL;
		}
		counts = !list_member_oid(bh_filter_policy_functions, funcid);
	}
	ReleaseSysCache(tup);
	return counts;
}

/* A function into the list context points to (check_functions_in_node). */
static bool
bh_note_function(Oid funcid, void *context)
{
	List	  **funcs = (List **) context;

	*funcs = list_append_unique_oid(*funcs, funcid);
	return false;
}

/*
 * The functions an expression calls, in its subqueries too, into the list
 * context points to.
 */
static bool
bh_collect_functions(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, bh_collect_functions, context, 0);
	(void) check_functions_in_node(node, bh_note_function, context);
	return expression_tree_walker(node, bh_collect_functions, context);
}

/*
 * The functions of the row-level security policies PostgreSQL applied to
 * a scan's rows: those of the table the query named (a partition's or an
 * inheritance child's rows get the policies of the table above it), when
 * row security applies to the user it was checked for (the query's, a
 * view owner's); NIL when it does not (the table's owner, a superuser or
 * BYPASSRLS role, a table without row security).  Each of the table's
 * policies, whichever commands and roles it is for: all are the owner's.
 * Its expressions are read in place, in the relation cache: the parser set
 * the functions of their operators, which check_functions_in_node would
 * set otherwise.  A function PostgreSQL inlines
 * (an SQL function of a single expression) is no longer called: the
 * functions of its body are not among them.
 */
static List *
bh_policy_functions(PlannedStmt *stmt, ScanState *ss)
{
	Index		rti = ((Scan *) ss->ps.plan)->scanrelid;
	RangeTblEntry *rte;
	Relation	rel = ss->ss_currentRelation;
	List	   *funcs = NIL;
	ListCell   *lc;
	bool		up = true;

	/* up to the table the query named (not a UNION ALL's subquery) */
	while (up)
	{
		up = false;
		foreach(lc, stmt->appendRelations)
		{
			AppendRelInfo *info = lfirst_node(AppendRelInfo, lc);

			if (info->child_relid == rti &&
				rt_fetch(info->parent_relid, stmt->rtable)->rtekind == RTE_RELATION)
			{
				rti = info->parent_relid;
				up = true;
				break;
			}
		}
	}
	rte = rt_fetch(rti, stmt->rtable);
	if (check_enable_rls(rte->relid, rte->checkAsUser, true) != RLS_ENABLED)
		return NIL;
	if (rte->relid != RelationGetRelid(rel))
		rel = relation_open(rte->relid, AccessShareLock);
	if (rel->rd_rsdesc != NULL)
		foreach(lc, rel->rd_rsdesc->policies)
	{
		RowSecurityPolicy *policy = (RowSecurityPolicy *) lfirst(lc);

		(void) bh_collect_functions((Node *) policy->qual, &funcs);
		(void) bh_collect_functions((Node *) policy->with_check_qual, &funcs);
	}
	if (rel != ss->ss_currentRelation)
		relation_close(rel, AccessShareLock);
	return funcs;
}

static bool bh_makes_checked_value(Node *node);

/*
 * Does a domain's CHECK expression call such a function anywhere (on its
 * VALUE or not), or make a value of a type checking one (a cast of VALUE
 * to another domain, or to a composite type with one: bh_makes_checked_value)?
 * The value checked is the row's.
 */
static bool
bh_check_calls(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, bh_user_function, NULL) ||
		bh_makes_checked_value(node))
		return true;
	return expression_tree_walker(node, bh_check_calls, context);
}

/*
 * Does a CHECK constraint of a domain, or of a domain it is over, call
 * such a function (bh_check_calls)?  Its constraints are the type cache's,
 * parsed and planned once per backend until the domain changes: the
 * expressions PostgreSQL runs (an SQL function it inlines there is no
 * longer called; the functions of its body are asked about).  They are
 * held by a reference in the current memory context, since a catalog lock
 * taken while a function is asked about may take in an invalidation of
 * them.
 */
static bool
bh_domain_calls(TypeCacheEntry *typentry)
{
	DomainConstraintRef *ref;
	ListCell   *lc;

	if (typentry->domainData == NULL)
		return false;			/* none */
	ref = palloc(sizeof(DomainConstraintRef));
	InitDomainConstraintRef(typentry->type_id, ref, CurrentMemoryContext, false);
	foreach(lc, ref->constraints)
	{
		DomainConstraintState *c = (DomainConstraintState *) lfirst(lc);

		if (c->constrainttype == DOM_CONSTRAINT_CHECK &&
			bh_check_calls((Node *) c->check_expr, NULL))
			return true;
	}
	return false;
}

/*
 * Does making a value of a type check a domain's CHECK calling such a
 * function or making such a value (bh_check_calls): is the type such a
 * domain, or a domain over, a composite type with, an array, a range or a
 * multirange of a type with one, at any depth?  A composite's input
 * function, an array's, json_populate_record() check the domains of the
 * values they make.  Built-in types have none (only their owner, the
 * superuser, may add a CHECK to a built-in domain).  Types nested deeper
 * than BH_TYPES_OPEN count.  Asked for each cast of each expression looked
 * at: the answers for the types a look began with are kept for the table
 * owner's look (bh_type_answers).
 */
static bool
bh_type_calls(Oid typid)
{
	TypeCacheEntry *typentry;
	Oid			inner = InvalidOid;
	bool		found = false;
	int			i;

	if (typid < FirstNormalObjectId)
		return false;
	for (i = 0; i < bh_type_nanswers; i++)
		if (bh_type_answers[i].typid == typid)
			return bh_type_answers[i].calls;
	for (i = 0; i < bh_types_nopen; i++)
		if (bh_types_open[i] == typid)
			return false;
	if (bh_types_nopen == BH_TYPES_OPEN)
		return true;
	check_stack_depth();
	typentry = lookup_type_cache(typid, TYPECACHE_DOMAIN_BASE_INFO |
								 TYPECACHE_DOMAIN_CONSTR_INFO);
	bh_types_open[bh_types_nopen++] = typid;
	switch (typentry->typtype)
	{
		case TYPTYPE_DOMAIN:
			found = bh_domain_calls(typentry);	/* its base domains' too */
			inner = typentry->domainBaseType;
			break;
		case TYPTYPE_COMPOSITE:
			{
				TupleDesc	desc = lookup_rowtype_tupdesc(typid, -1);

				for (i = 0; !found && i < desc->natts; i++)
					found = !TupleDescAttr(desc, i)->attisdropped &&
						bh_type_calls(TupleDescAttr(desc, i)->atttypid);
				ReleaseTupleDesc(desc);
				break;
			}
		case TYPTYPE_RANGE:
			inner = get_range_subtype(typid);
			break;
		case TYPTYPE_MULTIRANGE:
			inner = get_multirange_range(typid);
			break;
		default:
			if (OidIsValid(typentry->typelem) &&
				typentry->typsubscript == F_ARRAY_SUBSCRIPT_HANDLER)
				inner = typentry->typelem;	/* a true array */
			break;
	}
	found = found || (OidIsValid(inner) && bh_type_calls(inner));
	bh_types_nopen--;

	/*
	 * A type met again within its own look answered false there: only the
	 * answer of the look's first type is sure to be whole (one that calls
	 * always is).
	 */
	if ((found || bh_types_nopen == 0) && bh_type_nanswers < BH_TYPE_ANSWERS)
	{
		bh_type_answers[bh_type_nanswers].typid = typid;
		bh_type_answers[bh_type_nanswers++].calls = found;
	}
	return found;
}

/*
 * Does a node make a value of a type that checks such a domain
 * (bh_type_calls)?  A conversion to a domain, or through text (a
 * composite's or an array's input); a function's or an operator's result
 * (json_populate_record() into a composite type: the polymorphic result is
 * the type made); an input function given the type to make (record_in(),
 * array_in(), domain_in(): any type when it is not a constant); a column
 * definition list (jsonb_to_record() in FROM), XMLTABLE's columns.  Other
 * nodes pass on values made elsewhere.
 */
static bool
bh_makes_checked_value(Node *node)
{
	ListCell   *lc;

	switch (nodeTag(node))
	{
		case T_CoerceToDomain:
			return bh_type_calls(((CoerceToDomain *) node)->resulttype);
		case T_CoerceViaIO:
			return bh_type_calls(((CoerceViaIO *) node)->resulttype);
		case T_FuncExpr:
			{
				FuncExpr   *func = (FuncExpr *) node;
				Node	   *type;

				if (list_length(func->args) != 3 ||
					exprType(linitial(func->args)) != CSTRINGOID ||
					exprType(lsecond(func->args)) != OIDOID)
					return bh_type_calls(func->funcresulttype);
				type = lsecond(func->args);
				if (!IsA(type, Const))
					return true;
				return !((Const *) type)->constisnull &&
					bh_type_calls(DatumGetObjectId(((Const *) type)->constvalue));
			}
		case T_OpExpr:
			return bh_type_calls(((OpExpr *) node)->opresulttype);
		case T_RangeTblFunction:
			foreach(lc, ((RangeTblFunction *) node)->funccoltypes)
				if (bh_type_calls(lfirst_oid(lc)))
				return true;
			return false;
		case T_TableFunc:
			foreach(lc, ((TableFunc *) node)->coltypes)
				if (bh_type_calls(lfirst_oid(lc)))
				return true;
			return false;
		default:
			return false;
	}
}

/* Does the node give a value to a CaseTestExpr inside it (bh_walk_case_value)? */
static inline bool
bh_gives_case_value(Node *node)
{
	return IsA(node, CaseExpr) || IsA(node, ArrayCoerceExpr) ||
		IsA(node, FieldStore) || IsA(node, SubscriptingRef);
}

/*
 * Walk a node that gives the CaseTestExprs in a part of it a value, that
 * part with bh_case_value_is_row set to whether the value is of the row:
 * a CASE's argument, compared in its WHEN conditions; each element of an
 * array cast element-wise (ArrayCoerceExpr), given to the element's cast;
 * the old value of a field or an element an UPDATE's SET assigns
 * (FieldStore, SubscriptingRef), given to a nested assignment (SET
 * c.f.x = ..., SET a[1].x = ...).  Its other parts are walked as the node
 * is.  Returns false for any other node, *found unset.
 */
static bool
bh_walk_case_value(Node *node, bool (*walker) (), void *context, bool *found)
{
	Node	   *value;			/* the expression giving the value */
	List	   *given = NIL;	/* the parts given it */
	List	   *others = NIL;	/* the other parts */
	bool		outer = bh_case_value_is_row;
	ListCell   *lc;

	switch (nodeTag(node))
	{
		case T_CaseExpr:
			{
				CaseExpr   *c = (CaseExpr *) node;

				value = (Node *) c->arg;
				foreach(lc, c->args)
				{
					given = lappend(given, lfirst_node(CaseWhen, lc)->expr);
					others = lappend(others, lfirst_node(CaseWhen, lc)->result);
				}
				others = lappend(others, c->defresult);
				break;
			}
		case T_ArrayCoerceExpr:
			value = (Node *) ((ArrayCoerceExpr *) node)->arg;
			given = list_make1(((ArrayCoerceExpr *) node)->elemexpr);
			break;
		case T_FieldStore:
			value = (Node *) ((FieldStore *) node)->arg;
			given = list_copy(((FieldStore *) node)->newvals);
			break;
		case T_SubscriptingRef:
			{
				SubscriptingRef *sr = (SubscriptingRef *) node;

				if (sr->refassgnexpr == NULL)
					return false;
				value = (Node *) sr->refexpr;
				given = list_make1(sr->refassgnexpr);
				others = list_make2(sr->refupperindexpr, sr->reflowerindexpr);
				break;
			}
		default:
			return false;
	}
	*found = walker(value, context);
	if (!*found)
	{
		/* (a CASE without an argument gives none) */
		bh_case_value_is_row = value != NULL && bh_uses_row(value, NULL);
		foreach(lc, given)
			if ((*found = walker(lfirst(lc), context)))
			break;
		bh_case_value_is_row = outer;
	}
	foreach(lc, others)
		if (!*found)
		*found = walker(lfirst(lc), context);
	list_free(given);
	list_free(others);
	return true;
}

/*
 * Does an expression use values of a row: a column, an outer row's value,
 * a CaseTestExpr standing for one?
 */
static bool
bh_uses_row(Node *node, void *context)
{
	bool		found;

	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return !(bh_inner_is_no_row && ((Var *) node)->varno == INNER_VAR);
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC)
		return true;
	if (IsA(node, CaseTestExpr))
		return bh_case_value_is_row;
	if (bh_gives_case_value(node) &&
		bh_walk_case_value(node, bh_uses_row, context, &found))
		return found;
	return expression_tree_walker(node, bh_uses_row, context);
}

bool
bh_expr_calls(Node *node, void *context)
{
	PlanState  *top = (PlanState *) context;
	bool		found;

	if (node == NULL)
		return false;
	if (check_functions_in_node(node, bh_user_function, NULL) && bh_uses_row(node, NULL))
		return true;
	if (bh_makes_checked_value(node) && bh_uses_row(node, NULL))
		return true;
	if (IsA(node, SubPlan) && top != NULL &&
		(((SubPlan *) node)->parParam != NIL || ((SubPlan *) node)->args != NIL))
	{
		ListCell   *lc;

		foreach(lc, top->subPlan)
		{
			SubPlanState *sps = (SubPlanState *) lfirst(lc);

			if (sps->subplan == (SubPlan *) node &&
				bh_planstate_calls(sps->planstate, NULL))
				return true;
		}
	}
	if (bh_gives_case_value(node) &&
		bh_walk_case_value(node, bh_expr_calls, context, &found))
		return found;
	return expression_tree_walker(node, bh_expr_calls, context);
}

/*
 * The conditions of a plan node, each a list (an implicit AND, or a list
 * of expressions): its filter; a join's join filter and merge or hash
 * conditions; a scan's index conditions and ORDER BY operands (whose keys
 * an index scan computes from a nested loop's outer row), its bitmap
 * recheck, TID conditions, functions scanned, VALUES lists, a sample
 * method's arguments, a table function (XMLTABLE), a Memoize node's cache
 * keys; a Result's one-time filter; a Limit's count and offset; a window's
 * frame offsets.  Not its output columns.  Returns how many (at most
 * BH_NODE_CONDS).
 */
#define BH_NODE_CONDS 4

static int
bh_node_conditions(Plan *plan, List **conds)
{
	int			n = 0;

	conds[n++] = plan->qual;
	switch (nodeTag(plan))
	{
		case T_NestLoop:
		case T_MergeJoin:
		case T_HashJoin:
			conds[n++] = ((Join *) plan)->joinqual;
			if (IsA(plan, MergeJoin))
				conds[n++] = ((MergeJoin *) plan)->mergeclauses;
			if (IsA(plan, HashJoin))
				conds[n++] = ((HashJoin *) plan)->hashclauses;
			break;
		case T_IndexScan:
			conds[n++] = ((IndexScan *) plan)->indexqualorig;
			conds[n++] = ((IndexScan *) plan)->indexorderbyorig;
			break;
		case T_IndexOnlyScan:
			conds[n++] = ((IndexOnlyScan *) plan)->indexqual;
			conds[n++] = ((IndexOnlyScan *) plan)->indexorderby;
			break;
		case T_BitmapIndexScan:
			conds[n++] = ((BitmapIndexScan *) plan)->indexqualorig;
			break;
		case T_BitmapHeapScan:
			conds[n++] = ((BitmapHeapScan *) plan)->bitmapqualorig;
			break;
		case T_TidScan:
			conds[n++] = ((TidScan *) plan)->tidquals;
			break;
		case T_TidRangeScan:
			conds[n++] = ((TidRangeScan *) plan)->tidrangequals;
			break;
		case T_FunctionScan:
			conds[n++] = ((FunctionScan *) plan)->functions;
			break;
		case T_ValuesScan:
			conds[n++] = ((ValuesScan *) plan)->values_lists;
			break;
		case T_Result:
			conds[n++] = (List *) ((Result *) plan)->resconstantqual;
			break;
		case T_SampleScan:
			conds[n++] = list_make1(((SampleScan *) plan)->tablesample);
			break;
		case T_TableFuncScan:
			conds[n++] = list_make1(((TableFuncScan *) plan)->tablefunc);
			break;
		case T_Memoize:
			conds[n++] = ((Memoize *) plan)->param_exprs;
			break;
		case T_Limit:
			conds[n++] = list_make1(((Limit *) plan)->limitOffset);
			conds[n++] = list_make1(((Limit *) plan)->limitCount);
			break;
		case T_WindowAgg:
			conds[n++] = list_make1(((WindowAgg *) plan)->startOffset);
			conds[n++] = list_make1(((WindowAgg *) plan)->endOffset);
			break;
		default:
			break;
	}
	Assert(n <= BH_NODE_CONDS);
	return n;
}

/*
 * Does a plan state tree call such a function anywhere: the conditions
 * (bh_node_conditions) and output columns of its nodes, and its subplans
 * (visited by the walk).
 */
static bool
bh_planstate_calls(PlanState *ps, void *context)
{
	List	   *conds[BH_NODE_CONDS];
	int			n;
	int			i;

	if (ps == NULL)
		return false;
	if (bh_expr_calls((Node *) ps->plan->targetlist, NULL))
		return true;
	n = bh_node_conditions(ps->plan, conds);
	for (i = 0; i < n; i++)
		if (bh_expr_calls((Node *) conds[i], NULL))
			return true;
	return planstate_tree_walker(ps, bh_planstate_calls, context);
}

/* Is ps a scan of one of targets (range table indexes)? */
static bool
bh_is_target_scan(PlanState *ps, List *targets)
{
	return bh_is_table_scan(ps) &&
		list_member_int(targets, (int) ((Scan *) ps->plan)->scanrelid);
}

/* Does an expression use one of a set of parameters (PARAM_EXEC)? */
static bool
bh_uses_param_of(Node *node, void *context)
{
	Bitmapset  *params = (Bitmapset *) context;

	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC &&
		bms_is_member(((Param *) node)->paramid, params))
		return true;
	return expression_tree_walker(node, bh_uses_param_of, context);
}

/*
 * Does a condition or an output column of a plan node (bh_node_conditions,
 * its targetlist: an UPDATE's new values are computed there for the rows
 * written) call a user's function on values of a row (bh_expr_calls)?
 * With given non-NULL (the node is beside the target's scan, not above
 * it), only a clause of it (an element of the condition's list, an output
 * column) that also uses one of the parameters given counts: the function
 * is then given the target's values.
 */
static bool
bh_condition_calls(PlanState *ps, Bitmapset *given)
{
	List	   *conds[BH_NODE_CONDS + 1];
	int			n = bh_node_conditions(ps->plan, conds);
	int			i;
	ListCell   *lc;

	conds[n++] = ps->plan->targetlist;

	for (i = 0; i < n; i++)
	{
		if (given == NULL)
		{
			if (bh_expr_calls((Node *) conds[i], ps))
				return true;
			continue;
		}
		foreach(lc, conds[i])
			if (bh_uses_param_of(lfirst(lc), given) && bh_expr_calls(lfirst(lc), ps))
			return true;
	}
	return false;
}

/*
 * The walk of a ModifyTable's subplan looking for a condition above its
 * target's scan that calls a user's function (bh_mt_shows_target), or one
 * beside it given the target's values as parameters.  below: the subtree
 * just walked holds a scan of the target.  given: the parameters of the
 * nested loops whose outer side holds a scan of the target (their inner
 * sides, walked after, are given the target's values, or values of rows
 * joined to them: not told apart).
 */
typedef struct BhAboveWalk
{
	List	   *targets;		/* the result relations' range table indexes */
	bool		below;
	Bitmapset  *given;
} BhAboveWalk;

static bool
bh_above_target_walker(PlanState *ps, void *context)
{
	BhAboveWalk *aw = (BhAboveWalk *) context;
	bool		before = aw->below;
	bool		below;

	if (ps == NULL)
		return false;
	if (bh_is_target_scan(ps, aw->targets))
	{
		/* its own filter: bh_wrap_scan's rule (capture_read_wrap.c) */
		aw->below = true;
		return false;
	}
	aw->below = false;
	if (IsA(ps, NestLoopState))
	{
		bool		outer_below;
		ListCell   *lc;

		/* the outer side first: its rows' values are the inner side's */
		if (bh_above_target_walker(outerPlanState(ps), context))
			return true;
		outer_below = aw->below;
		if (outer_below)
			foreach(lc, ((NestLoop *) ps->plan)->nestParams)
				aw->given = bms_add_member(aw->given,
										   lfirst_node(NestLoopParam, lc)->paramno);
		aw->below = false;
		if (bh_above_target_walker(innerPlanState(ps), context))
			return true;
		aw->below = aw->below || outer_below;
		foreach(lc, list_concat_copy(ps->initPlan, ps->subPlan))
			if (bh_above_target_walker(((SubPlanState *) lfirst(lc))->planstate, context))
			return true;
	}
	else if (planstate_tree_walker(ps, bh_above_target_walker, context))
		return true;
	below = aw->below;
	aw->below = before || below;

	/*
	 * A node above the target's scan (a join, a filter between) sees the
	 * target's rows; one beside it only the values passed down to it as
	 * parameters (a nested loop's inner side, the target's row outer): its
	 * clauses using them.
	 */
	if (below)
		return bh_condition_calls(ps, NULL);
	return aw->given != NULL && bh_condition_calls(ps, aw->given);
}

/*
 * Does a condition or a projection of a ModifyTable's plan other than its
 * target's scans' own show the target's rows to a user's function: a join
 * filter above the scan (UPDATE ... FROM, DELETE ... USING, a MERGE's ON
 * condition left in the join), a filter between, new values computed
 * above the scan (a join's or a Result's output columns), a condition
 * given the target's values as parameters, or a MERGE's WHEN MATCHED
 * condition or UPDATE SET list?
 * Looked at once per owner of the target's tables scanned (the owner's
 * own functions are exempt for the owner's rows), when the first such scan
 * is wrapped; a statement without one runs as before.
 */
bool
bh_mt_shows_target(ModifyTableState *mt, Oid owner)
{
	ModifyTable *plan = (ModifyTable *) mt->ps.plan;
	BhAboveWalk aw = {plan->resultRelations, false, NULL};
	ListCell   *l1;
	ListCell   *l2;
	bool		shows;

	bh_shown_rows_owner(owner);
	foreach(l1, plan->mergeActionLists)
		foreach(l2, (List *) lfirst(l1))
	{
		MergeAction *action = lfirst_node(MergeAction, l2);

		/*
		 * a NOT MATCHED action sees no row of the target; a MATCHED one's
		 * condition and new values (UPDATE SET) are given its row
		 */
		if (action->matched &&
			(bh_expr_calls(action->qual, &mt->ps) ||
			 bh_expr_calls((Node *) action->targetList, &mt->ps)))
			return true;
	}
	shows = bh_above_target_walker(outerPlanState(mt), &aw);
	bms_free(aw.given);
	return shows;
}

/*
 * Does an ON CONFLICT DO UPDATE expression show the stored row to a user's
 * function, for the owner given (InvalidOid: for any owner)?
 */
bool
bh_conflict_expr_calls(Node *expr, ModifyTableState *mt, Oid owner)
{
	volatile bool calls = false;

	if (expr == NULL)
		return false;
	bh_shown_rows_owner(owner);
	bh_filter_policy_functions = NIL;	/* no policy is in these expressions */
	bh_filter_policy_scan = NULL;
	bh_inner_is_no_row = true;
	bh_case_value_is_row = false;
	bh_types_nopen = 0;
	PG_TRY();
	{
		calls = bh_expr_calls(expr, &mt->ps);
	}
	PG_FINALLY();
	{
		bh_inner_is_no_row = false;
	}
	PG_END_TRY();
	return calls;
}
