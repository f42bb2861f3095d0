/*-------------------------------------------------------------------------
 *
 * capture_denial.c
 *		Denied access: a statement refused for lack of privileges on a
 *		tagged table (or on bh_audit.events) is a DENIED event, recorded
 *		before PostgreSQL raises its error.
 *
 * PostgreSQL's own checks raise the error, and ExecutorCheckPerms_hook
 * only runs after they pass, so the same checks are made here first,
 * without raising: of a statement's range table before
 * standard_ExecutorStart (bh_check_denials, from the executor hook, with
 * bh_audit's own check of a table's privileges, bh_rte_permitted: the
 * executor's would run ExecutorCheckPerms_hook, whose other users, such as
 * pgaudit, expect it once per statement and after their own ExecutorStart
 * hook has started it), of
 * the tables a TRUNCATE names before it runs (bh_check_truncate_denials,
 * from the utility hook), of the table a COPY ... TO copies, tagged or of
 * the trail, before it runs (bh_check_copy_to_denial, from the utility
 * hook too).  A refused tagged table gives one DENIED event per statement
 * (resource type AuditLog for the ledger), and so does a refused relation
 * of the trail (bh_trail_rel: the queue, its sequence, the tag catalog,
 * its view, the ledger's home; of the view as a query is planned,
 * bh_view_refusal_judge), and bh_failure_recorded keeps failure capture
 * from recording the error PostgreSQL raises next.  Nothing is judged
 * where PostgreSQL refuses the statement first for a read-only
 * transaction.  Other refusals of a tagged table that PostgreSQL raises
 * elsewhere ("permission denied for table
 * ...": COPY FROM, a TRUNCATE's cascade, LOCK TABLE, a foreign key's
 * REFERENCES, a LIKE's source, CREATE TRIGGER, GRANT and REVOKE) are found by failure
 * capture (capture_failure.c), as they are raised.  PostgreSQL's message
 * names no schema: so the relation its check will refuse is judged here
 * first, where the catalog may be read (of the executor's range table, of
 * a TRUNCATE and its cascade, of those utility statements:
 * bh_check_utility_denials), and told to failure capture
 * (bh_refusal_expect), which records a refusal of a tagged table (or of
 * a relation of the trail) as its denial and one of another table of the
 * same name as none.  Refusals by
 * row-level security cannot be judged beforehand: failure capture records
 * them as denials of the table their message names.
 *
 * The audit trail's own functions (verify_chain(), export_jsonl(),
 * tag_table(), ...) are refused by their EXECUTE privilege as the executor
 * starts: a plan calling one of them names it among its invalidation items
 * (by the hash of its OID), so the user's privilege on those is checked
 * first (bh_function_denials), and if PostgreSQL's error then refuses one
 * of them, that refusal is a DENIED event of the trail (AuditLog) or of its
 * configuration (AuditConfiguration).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/heapam.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/heap.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_proc.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "rewrite/rewriteHandler.h"
#include "utils/acl.h"
#include "utils/catcache.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#include "bh_audit.h"
#include "capture.h"
#include "event.h"
#include "ring.h"
#include "tags.h"

static const char *bh_refusal_format(char relkind);

/*
 * The DENIED event of action on a tagged table (or the ledger, or another
 * relation of the trail: bh_trail_rel) relid, of kind relkind and named
 * relname, with PostgreSQL's (untranslated) message refusing it.  Reads no
 * catalog for a relation of the trail.
 */
static void
bh_denial_event(BhEvent *ev, const char *action, Oid relid, Oid events_relid, char relkind,
				const char *relname)
{
	bh_event_for_table(ev, action, relid, events_relid);
	ev->outcome = "DENIED";
	ev->error_type = "PermissionDenied";
	ev->error_message = psprintf(bh_refusal_format(relkind), relname);
	ev->phi_touched = 0;
}

/*
 * A DENIED event of action on a tagged table (or the ledger, or another
 * relation of the trail), recorded before PostgreSQL raises its
 * "permission denied" error for it.
 */
static void
bh_push_denial(const char *action, Oid relid, Oid events_relid)
{
	BhEvent		ev;

	bh_denial_event(&ev, action, relid, events_relid, get_rel_relkind(relid),
					get_rel_name(relid));
	bh_current_role_warm();		/* the role refused */
	bh_push(&ev, false);
	bh_failure_recorded = true; /* PostgreSQL's error follows */
}

/*
 * Does userid hold privilege (one of ACL_SELECT, ACL_INSERT, ACL_UPDATE) on
 * the columns cols of table relid (attribute numbers offset by
 * FirstLowInvalidHeapAttributeNumber, as in a range table entry)?  No
 * column (an INSERT of defaults, count(*)) asks for it on any one column;
 * the whole row (attribute 0) on all of them.
 */
static bool
bh_columns_permitted(Oid relid, Oid userid, Bitmapset *cols, AclMode privilege)
{
	int			member = -1;

	if (bms_is_empty(cols))
		return pg_attribute_aclcheck_all(relid, userid, privilege, ACLMASK_ANY) == ACLCHECK_OK;
	while ((member = bms_next_member(cols, member)) >= 0)
	{
		AttrNumber	attnum = member + FirstLowInvalidHeapAttributeNumber;

		if (attnum == InvalidAttrNumber)
		{
			if (pg_attribute_aclcheck_all(relid, userid, privilege, ACLMASK_ALL) != ACLCHECK_OK)
				return false;
		}
		else if (pg_attribute_aclcheck(relid, attnum, userid, privilege) != ACLCHECK_OK)
			return false;
	}
	return true;
}

/*
 * Does the executor's check of a table's privileges pass for this range
 * table entry?  The same judgement as PostgreSQL's (the privileges the
 * entry requires, of the user it is checked as: a view's owner, or the
 * current user; those the table's privileges lack, where they are SELECT,
 * INSERT or UPDATE, may be held on the columns the statement reads or
 * writes), made without ExecutorCheckPerms_hook, which the executor runs
 * at the end of its own.  Does not raise.
 */
static bool
bh_rte_permitted(RangeTblEntry *rte)
{
	Oid			userid = OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
	AclMode		missing;

	missing = rte->requiredPerms &
		~pg_class_aclmask(rte->relid, userid, rte->requiredPerms, ACLMASK_ALL);
	if (missing == 0)
		return true;
	/* DELETE, TRUNCATE, ...: table privileges only */
	if ((missing & ~(ACL_SELECT | ACL_INSERT | ACL_UPDATE)) != 0)
		return false;
	if ((missing & ACL_SELECT) &&
		!bh_columns_permitted(rte->relid, userid, rte->selectedCols, ACL_SELECT))
		return false;
	if ((missing & ACL_INSERT) &&
		!bh_columns_permitted(rte->relid, userid, rte->insertedCols, ACL_INSERT))
		return false;
	if ((missing & ACL_UPDATE) &&
		!bh_columns_permitted(rte->relid, userid, rte->updatedCols, ACL_UPDATE))
		return false;
	return true;
}

/* The format of PostgreSQL's refusal of a relation of this kind (aclcheck_error). */
static const char *
bh_refusal_format(char relkind)
{
	switch (relkind)
	{
		case RELKIND_VIEW:
			return "permission denied for view %s";
		case RELKIND_MATVIEW:
			return "permission denied for materialized view %s";
		case RELKIND_FOREIGN_TABLE:
			return "permission denied for foreign table %s";
		case RELKIND_SEQUENCE:
			return "permission denied for sequence %s";
		default:
			return "permission denied for table %s";
	}
}

/*
 * PostgreSQL's check that runs next refuses relid, named relname in its
 * message made from format (NULL: the one of its kind): tell failure
 * capture, which records the refusal as a denial with action if relid is
 * a tagged table (or one of its partitions), the ledger or another
 * relation of the trail (bh_trail_rel: a denial of itself), and otherwise
 * as no refusal of a tagged table, whatever its name.
 */
static void
bh_expect_refusal(Oid relid, const char *action, const char *format, const char *relname)
{
	Oid			events_relid = bh_events_relid();
	const BhTag *tag = NULL;
	Oid			tagged = InvalidOid;

	bh_trail_rels_refresh();
	if (OidIsValid(events_relid) && relid == events_relid)
		tagged = events_relid;
	else if ((tag = bh_tag_lookup(relid)) != NULL)
		tagged = tag->tagged_relid;
	else if (bh_trail_rel(relid))
		tagged = relid;
	if (relname == NULL)
		relname = get_rel_name(relid);
	if (relname == NULL)
		return;
	bh_refusal_expect(relid, tagged, action,
					  format ? format : bh_refusal_format(get_rel_relkind(relid)), relname);
}

/*
 * Does PostgreSQL refuse the statement for a read-only transaction (or
 * parallel mode) before it checks privileges?  standard_ExecutorStart
 * checks that first, but not for an EXPLAIN without ANALYZE (the caller's
 * test): a write to a table that is not temporary.
 */
static bool
bh_read_only_refuses(PlannedStmt *stmt)
{
	ListCell   *lc;

	if (IsInParallelMode() &&
		(stmt->commandType != CMD_SELECT || stmt->hasModifyingCTE))
		return true;
	if (!XactReadOnly)
		return false;
	foreach(lc, stmt->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind == RTE_RELATION && (rte->requiredPerms & ~ACL_SELECT) != 0 &&
			!isTempNamespace(get_rel_namespace(rte->relid)))
			return true;
	}
	return false;
}

/*
 * The table a denial of relid, a relation of a statement's tagged ones
 * (tagged: bh_tagged_in), is counted against: the tagged table of a
 * partition (or of the table itself); relid for the ledger, another
 * relation of the trail or an untagged relation.
 */
static Oid
bh_denied_table(Oid relid, List *tagged, Oid events_relid)
{
	const BhTag *tag;

	if (relid != events_relid && list_member_oid(tagged, relid) &&
		(tag = bh_tag_lookup(relid)) != NULL)
		return tag->tagged_relid;
	return relid;
}

/*
 * Before the executor's own check: record a DENIED event for each tagged
 * relation (or bh_audit.events, or another relation of the trail:
 * bh_trail_rel) the user may not access, and tell failure
 * capture which relation PostgreSQL will refuse (the first of the range
 * table that fails, as PostgreSQL checks them in order), so that a
 * refusal of another table of the same name is not taken for one of a
 * tagged table.  Nothing where PostgreSQL refuses the statement first for
 * a read-only transaction (which it does not check for an EXPLAIN without
 * ANALYZE: eflags, the executor's).  Does not raise.
 */
void
bh_check_denials(QueryDesc *qd, int eflags, List *tagged, Oid events_relid)
{
	ListCell   *lc;
	List	   *denied = NIL;
	bool		first = true;
	Index		rti = 0;
	Oid			table;

	if (!(eflags & EXEC_FLAG_EXPLAIN_ONLY) && bh_read_only_refuses(qd->plannedstmt))
		return;
	foreach(lc, qd->plannedstmt->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);
		const char *action;

		rti++;
		if (rte->rtekind != RTE_RELATION || rte->requiredPerms == 0)
			continue;

		/*
		 * one denial per tagged table, however often the statement names it
		 * or its partitions: of the first refused, which PostgreSQL raises
		 */
		table = bh_denied_table(rte->relid, tagged, events_relid);
		if (list_member_oid(denied, table) || bh_rte_permitted(rte))
			continue;

		/*
		 * FOR UPDATE/SHARE asks for UPDATE privilege, but reads
		 * (RowShareLock); a MERGE's target is the table it changes, whatever
		 * its actions ask for
		 */
		if (qd->operation == CMD_MERGE &&
			list_member_int(qd->plannedstmt->resultRelations, (int) rti))
			action = bh_action_for(CMD_MERGE, 0);
		else
			action = bh_action_for(CMD_SELECT,
								   rte->rellockmode == RowShareLock ? 0 :
								   rte->requiredPerms & ~ACL_SELECT);
		if (first)
			bh_expect_refusal(rte->relid, action, NULL, NULL);
		first = false;
		if (!list_member_oid(tagged, rte->relid) && !bh_trail_rel(rte->relid))
			continue;
		denied = lappend_oid(denied, table);
		bh_push_denial(action, rte->relid, events_relid);
	}
}

/*
 * Does a statement on no tagged table name a relation, with privileges to
 * check, of a tagged relation's name (or the ledger's)?  Only a refusal of
 * such a relation could be taken for one of a tagged table (failure
 * capture tells a refusal it was not told of by the name in the message):
 * a statement that names none is not judged, which spares it a second
 * privilege check of each of its tables.  Reads the catalog cache only.
 */
bool
bh_denials_by_name_possible(PlannedStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);
		HeapTuple	tuple;
		const char *relname;
		bool		named;

		if (rte->rtekind != RTE_RELATION || rte->requiredPerms == 0)
			continue;
		tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(rte->relid));
		if (!HeapTupleIsValid(tuple))
			return true;
		relname = NameStr(((Form_pg_class) GETSTRUCT(tuple))->relname);
		named = bh_tags_cached_named(relname) != NULL || strcmp(relname, "events") == 0;
		ReleaseSysCache(tuple);
		if (named)
			return true;
	}
	return false;
}

/*
 * Does a statement's range table have a relation checked as a role that is
 * no superuser (checkAsUser: a view's owner)?  A superuser's statement is
 * refused no other relation (PostgreSQL checks the others as the superuser),
 * so one without such a view needs no judgement.  Reads no catalog but
 * where a view's owner is named (superuser_arg).
 */
bool
bh_checked_as_other(PlannedStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind == RTE_RELATION && rte->requiredPerms != 0 &&
			OidIsValid(rte->checkAsUser) && !superuser_arg(rte->checkAsUser))
			return true;
	}
	return false;
}

/*
 * Does PostgreSQL refuse a utility statement that is not read-only
 * (TRUNCATE, GRANT, CREATE, ALTER) for a read-only transaction (or
 * parallel mode), before anything else?
 */
static bool
bh_utility_read_only_refuses(void)
{
	return XactReadOnly || IsInParallelMode();
}

/*
 * Before a TRUNCATE: PostgreSQL looks up the tables it is asked to empty in
 * order, and checks each one's privilege as it looks it up, before it
 * locks it (its inheritance children go with its privilege), raising its
 * error at the first that fails — from whatever runs the statement, a
 * client or a function of any language, whose text may name nothing.  So
 * the same walk is made here first: it stops where PostgreSQL will stop (a
 * name that does not resolve, a relation that is not a table, a table the
 * user may not truncate), and if that table is tagged (or the ledger), the
 * refusal is a DENIED event, recorded before the error; returns whether it
 * was.  With CASCADE, the tables that refer to them by foreign keys are
 * added (and locked) before PostgreSQL checks them, each round of them in
 * order: the first the user may not truncate is the refusal failure
 * capture then records, a denial if it is tagged (the statement is then a
 * failure on the tables it names).  A refused table of no tag is told to
 * failure capture too, whose name may be a tagged table's.  Nothing where
 * a read-only transaction refuses the TRUNCATE first.  Does not raise.
 */
bool
bh_check_truncate_denials(TruncateStmt *stmt)
{
	Oid			events_relid = bh_events_relid();
	ListCell   *lc;
	List	   *relids = NIL;

	if (bh_utility_read_only_refuses())
		return false;
	bh_trail_rels_refresh();
	foreach(lc, stmt->relations)
	{
		RangeVar   *rv = lfirst_node(RangeVar, lc);
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);
		char		relkind = OidIsValid(relid) ? get_rel_relkind(relid) : '\0';
		bool		missing = false;

		if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
			relkind != RELKIND_FOREIGN_TABLE)
			return false;		/* PostgreSQL fails here, on no privilege */
		if (pg_class_aclcheck_ext(relid, GetUserId(), ACL_TRUNCATE, &missing) != ACLCHECK_OK)
		{
			if (missing)
				return false;
			if (relid != events_relid && bh_tag_lookup(relid) == NULL &&
				!bh_trail_rel(relid))
			{
				bh_expect_refusal(relid, "DELETE", NULL, NULL);
				return false;	/* refused, but no tagged table */
			}
			bh_push_denial("DELETE", relid, events_relid);
			return true;
		}
		if (rv->inh)
			relids = list_concat_unique_oid(relids, find_all_inheritors(relid, NoLock, NULL));
		else
			relids = list_append_unique_oid(relids, relid);
	}
	if (stmt->behavior != DROP_CASCADE)
		return false;
	for (;;)
	{
		List	   *added = heap_truncate_find_FKs(relids);

		if (added == NIL)
			return false;
		foreach(lc, added)
		{
			Oid			relid = lfirst_oid(lc);

			if (pg_class_aclcheck(relid, GetUserId(), ACL_TRUNCATE) != ACLCHECK_OK)
			{
				bh_expect_refusal(relid, "DELETE", NULL, NULL);
				return false;
			}
			relids = lappend_oid(relids, relid);
		}
	}
}

/*
 * Before a COPY ... TO of a tagged relation or of a relation of the trail
 * other than the ledger (bh_trail_rel): PostgreSQL's check of its
 * privileges (DoCopy) is made here first, the way PostgreSQL makes it —
 * after its refusal of a file or a program to a role without their
 * privileges, and of a column list naming a column that does not exist
 * (or twice, or a generated one), SELECT on the relation or on each column
 * copied — and a refusal is an EXPORT DENIED event of it, recorded before
 * the error; returns whether it was.  A tagged table's COPY refused is then
 * not run as a query (capture_read.c, bh_rewrite_copy_to), whose options
 * and row-level security would be judged before its privileges: PostgreSQL
 * refuses it.  (The ledger's is found by its name as PostgreSQL raises it:
 * capture_failure.c.)  Raises only as the catalog is read or the event is
 * pushed (bh_push_denial), before PostgreSQL's check.
 */
bool
bh_check_copy_to_denial(CopyStmt *stmt)
{
	Oid			relid;
	Relation	rel;
	TupleDesc	desc;
	Bitmapset  *cols = NULL;
	bool		valid = true;
	int			i;

	if (stmt->filename != NULL &&
		!has_privs_of_role(GetUserId(), stmt->is_program ? ROLE_PG_EXECUTE_SERVER_PROGRAM :
						   ROLE_PG_WRITE_SERVER_FILES))
		return false;
	bh_trail_rels_refresh();
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid) || (!bh_trail_rel(relid) && bh_tag_lookup(relid) == NULL) ||
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK)
		return false;
	/* the columns copied, as CopyGetAttnums() lists them */
	rel = RelationIdGetRelation(relid);
	if (rel == NULL)
		return false;
	desc = RelationGetDescr(rel);
	if (stmt->attlist == NIL)
	{
		for (i = 0; i < desc->natts; i++)
			if (!TupleDescAttr(desc, i)->attisdropped && !TupleDescAttr(desc, i)->attgenerated)
				cols = bms_add_member(cols, i + 1 - FirstLowInvalidHeapAttributeNumber);
	}
	else
	{
		ListCell   *lc;

		foreach(lc, stmt->attlist)
		{
			const char *name = strVal(lfirst(lc));
			int			member = -1;

			for (i = 0; i < desc->natts && member < 0; i++)
			{
				Form_pg_attribute att = TupleDescAttr(desc, i);

				if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
					member = att->attgenerated ? 0 : i + 1 - FirstLowInvalidHeapAttributeNumber;
			}
			/* PostgreSQL fails on the column first */
			if (member <= 0 || bms_is_member(member, cols))
			{
				valid = false;
				break;
			}
			cols = bms_add_member(cols, member);
		}
	}
	RelationClose(rel);
	if (!valid || bh_columns_permitted(relid, GetUserId(), cols, ACL_SELECT))
		return false;
	bh_push_denial("EXPORT", relid, bh_events_relid());
	return true;
}

/*
 * Does message, PostgreSQL's refusal made from format (its one conversion
 * the object's name), name the object name?  What that conversion printed,
 * in the language of lc_messages (bh_message_arg), is the name.
 */
static bool
bh_message_names(const char *message, const char *format, const char *name)
{
	int			start;
	int			end;

	return bh_message_arg(message, strlen(message), format, PG_TEXTDOMAIN("postgres"), 1,
						  &start, &end) &&
		(size_t) (end - start) == strlen(name) && strncmp(message + start, name, end - start) == 0;
}

/*
 * Does a query read the trail's view through an entry that is refused, or
 * another view of its name that is?  Not in a WITH query of a SELECT that
 * nothing reads, which PostgreSQL does not plan (SS_process_ctes).
 */
static bool
bh_view_refused_walker(Node *node, BhViewJudged *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;
		char	   *name;

		if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_VIEW ||
			rte->requiredPerms == 0 || bh_rte_permitted(rte))
			return false;
		if (rte->relid == ctx->viewid)
			ctx->found.refused = true;
		else if ((name = get_rel_name(rte->relid)) != NULL &&
				 strcmp(name, ctx->relname) == 0)
			ctx->found.ambiguous = true;
		return false;
	}
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		ListCell   *lc;

		foreach(lc, query->cteList)
		{
			CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);

			if (cte->cterefcount > 0 || !IsA(cte->ctequery, Query) ||
				((Query *) cte->ctequery)->commandType != CMD_SELECT)
				(void) bh_view_refused_walker(cte->ctequery, ctx);
		}
		return query_tree_walker(query, bh_view_refused_walker, ctx,
								 QTW_EXAMINE_RTES_BEFORE | QTW_IGNORE_CTE_SUBQUERIES);
	}
	return expression_tree_walker(node, bh_view_refused_walker, ctx);
}

/*
 * As a query is analysed for a planning (the planning's own query, or the
 * body of a SQL function the planner inlines into it): PostgreSQL checks
 * the privileges on the views a query reads as it plans it
 * (subquery_planner; and again as the executor starts, bh_check_denials),
 * of each query it plans — not of one it drops (a WITH query nothing
 * reads, a subquery folded away).  Does the query read the trail's view
 * (judged's viewid and relname: bh_audit.tagged_tables, a relation of the
 * trail, bh_trail_rel) through an entry that the user may not read?  Then
 * PostgreSQL may refuse it: judged's found.refused is set, and
 * capture_read.c's PG_CATCH of the planning records the refusal if it
 * comes (bh_push_refused_view).  Another view of its name that the user
 * may not read sets found.ambiguous: PostgreSQL's message names no
 * schema.  The
 * query is walked only where this transaction holds a lock on the view
 * (parse analysis took one, at most ROW EXCLUSIVE): another query pays
 * three look-ups in the local lock table (bh_locked_by_me_upto; the
 * view's OID is cached; where the extension is absent, capture_read.c
 * judges nothing).  Raises only as the catalog is read (the view's
 * privileges; the role's name, for the event).
 */
void
bh_view_refusal_judge(Query *parse, BhViewJudged *judged)
{
	if (!bh_locked_by_me_upto(judged->viewid, RowExclusiveLock))
		return;
	(void) bh_view_refused_walker((Node *) parse, judged);
	if (!judged->found.refused)
		return;
	/* for the event, built where the catalog may not be read */
	bh_trail_rels_refresh();
	bh_current_role_warm();		/* the role refused */
}

/*
 * From the planner's PG_CATCH (bh_record_refusal, with the error's primary
 * message, made from format): if PostgreSQL refused the trail's view that
 * bh_view_refusal_judge() foresaw (judged: a BhViewJudged), record that
 * refusal as a DENIED event of it, with PostgreSQL's untranslated message
 * as bh_push_denial() makes it; returns whether it did.  Not where another
 * view of its name may be the one refused (ambiguous).  Pushed as built
 * within the budget of waiting of the statement's failure (ring.c).
 * Reads no catalog.
 */
bool
bh_push_refused_view(void *judged, const char *message, const char *format)
{
	const BhViewJudged *view = (const BhViewJudged *) judged;
	BhEvent		ev;

	if (!view->found.refused || view->found.ambiguous ||
		!bh_message_names(message, format, view->relname))
		return false;
	bh_denial_event(&ev, bh_action_for(CMD_SELECT, 0), view->viewid, InvalidOid, RELKIND_VIEW,
					view->relname);
	(void) bh_ring_push_jsonb_failure(bh_event_build(&ev, NULL));
	return true;
}

/* The privileges LOCK TABLE asks for in a mode (LockTableAclCheck). */
static bool
bh_lock_permitted(Oid relid, LOCKMODE mode, Oid userid)
{
	AclMode		mask;

	if (mode == AccessShareLock)
		mask = ACL_SELECT;
	else if (mode == RowExclusiveLock)
		mask = ACL_INSERT | ACL_UPDATE | ACL_DELETE | ACL_TRUNCATE;
	else
		mask = ACL_UPDATE | ACL_DELETE | ACL_TRUNCATE;
	return pg_class_aclcheck(relid, userid, mask) == ACLCHECK_OK;
}

/* A LOCK's action: a read in ACCESS SHARE mode, else a change. */
static const char *
bh_lock_action(LOCKMODE mode)
{
	return mode == AccessShareLock ? "READ" : "UPDATE";
}

typedef struct BhLockView
{
	Oid			viewoid;
	Oid			userid;
	LOCKMODE	mode;
	List	   *ancestors;
	bool		refused;
} BhLockView;

static bool bh_lock_view(Oid relid, LOCKMODE mode, List *ancestors);

/*
 * The relations a view's query reads, as LOCK TABLE locks them: checked
 * with the view owner's privileges (the user's, for a security_invoker
 * view), views recursively; the first refused is expected.
 */
static bool
bh_lock_view_walker(Node *node, BhLockView *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		ListCell   *lc;

		foreach(lc, query->rtable)
		{
			RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

			if (rte->rtekind != RTE_RELATION)
				continue;
			if (rte->relid == ctx->viewoid &&
				(strcmp(rte->eref->aliasname, "old") == 0 ||
				 strcmp(rte->eref->aliasname, "new") == 0))
				continue;
			if (rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_PARTITIONED_TABLE &&
				rte->relkind != RELKIND_VIEW)
				continue;
			if (list_member_oid(ctx->ancestors, rte->relid))
				continue;
			if (!bh_lock_permitted(rte->relid, ctx->mode, ctx->userid))
			{
				bh_expect_refusal(rte->relid, bh_lock_action(ctx->mode),
								  bh_refusal_format(rte->relkind), NULL);
				ctx->refused = true;
				return true;
			}
			if (rte->relkind == RELKIND_VIEW &&
				bh_lock_view(rte->relid, ctx->mode, ctx->ancestors))
			{
				ctx->refused = true;
				return true;
			}
		}
		return query_tree_walker(query, bh_lock_view_walker, ctx, QTW_IGNORE_JOINALIASES);
	}
	return expression_tree_walker(node, bh_lock_view_walker, ctx);
}

/* LOCK of a view: its relations (LockViewRecurse); whether one is refused. */
static bool
bh_lock_view(Oid relid, LOCKMODE mode, List *ancestors)
{
	Relation	view = RelationIdGetRelation(relid);
	BhLockView	ctx;
	Query	   *query;

	if (view == NULL)
		return false;
	query = copyObject(get_view_query(view));
	ctx.viewoid = relid;
	ctx.userid = RelationHasSecurityInvoker(view) ? GetUserId() : view->rd_rel->relowner;
	ctx.mode = mode;
	ctx.ancestors = lappend_oid(list_copy(ancestors), relid);
	ctx.refused = false;
	RelationClose(view);
	(void) bh_lock_view_walker((Node *) query, &ctx);
	return ctx.refused;
}

/*
 * LOCK TABLE: each relation named, in order, is checked as it is looked up
 * (a table or a view; a view's relations with its owner's privileges);
 * the first refused is expected.  Outside a transaction block at top
 * level, PostgreSQL refuses the LOCK first; above ROW EXCLUSIVE mode, in
 * recovery or parallel mode.
 */
static void
bh_check_lock(LockStmt *stmt, bool isTopLevel)
{
	ListCell   *lc;

	if (isTopLevel && !IsTransactionBlock() && !IsSubTransaction())
		return;
	if (stmt->mode > RowExclusiveLock && (RecoveryInProgress() || IsInParallelMode()))
		return;
	foreach(lc, stmt->relations)
	{
		RangeVar   *rv = lfirst_node(RangeVar, lc);
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);
		char		relkind = OidIsValid(relid) ? get_rel_relkind(relid) : '\0';

		if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
			relkind != RELKIND_VIEW)
			return;
		if (!bh_lock_permitted(relid, stmt->mode, GetUserId()))
		{
			bh_expect_refusal(relid, bh_lock_action(stmt->mode), NULL, rv->relname);
			return;
		}
		if (relkind == RELKIND_VIEW && bh_lock_view(relid, stmt->mode, NIL))
			return;
	}
}

/*
 * A foreign key's REFERENCES privilege on the table it refers to
 * (checkFkeyPermissions): on the table, or on each of the columns the key
 * refers to (the primary key's, when it names none).
 */
static bool
bh_references_permitted(Oid relid, List *pk_attrs)
{
	Oid			userid = GetUserId();
	ListCell   *lc;

	if (pg_class_aclcheck(relid, userid, ACL_REFERENCES) == ACLCHECK_OK)
		return true;
	if (pk_attrs != NIL)
	{
		foreach(lc, pk_attrs)
		{
			AttrNumber	attnum = get_attnum(relid, strVal(lfirst(lc)));

			if (attnum == InvalidAttrNumber)
				return true;	/* PostgreSQL fails on the name */
			if (pg_attribute_aclcheck(relid, attnum, userid, ACL_REFERENCES) != ACLCHECK_OK)
				return false;
		}
		return true;
	}
	else
	{
		Relation	rel = RelationIdGetRelation(relid);
		Oid			pkindex;
		HeapTuple	tuple;
		bool		permitted = true;

		if (rel == NULL)
			return true;
		pkindex = RelationGetPrimaryKeyIndex(rel);
		RelationClose(rel);
		if (!OidIsValid(pkindex))
			return true;		/* PostgreSQL fails: no primary key */
		tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(pkindex));
		if (!HeapTupleIsValid(tuple))
			return true;
		{
			Form_pg_index index = (Form_pg_index) GETSTRUCT(tuple);
			int			i;

			for (i = 0; i < index->indnkeyatts && permitted; i++)
				permitted = pg_attribute_aclcheck(relid, index->indkey.values[i], userid,
												  ACL_REFERENCES) == ACLCHECK_OK;
		}
		ReleaseSysCache(tuple);
		return permitted;
	}
}

/* A foreign key among constraints: is the table it refers to refused? */
static bool
bh_check_foreign_keys(List *constraints)
{
	ListCell   *lc;

	foreach(lc, constraints)
	{
		Constraint *con = (Constraint *) lfirst(lc);
		Oid			relid;

		if (!IsA(con, Constraint) || con->contype != CONSTR_FOREIGN || con->pktable == NULL)
			continue;
		relid = RangeVarGetRelid(con->pktable, NoLock, true);
		if (!OidIsValid(relid))
			continue;
		if (!bh_references_permitted(relid, con->pk_attrs))
		{
			bh_expect_refusal(relid, "READ", NULL, NULL);
			return true;
		}
	}
	return false;
}

/*
 * The foreign keys of a table's elements: of its columns (with columns)
 * and of its table constraints (with constraints).
 */
static bool
bh_check_table_elements(List *elements, bool columns, bool constraints)
{
	ListCell   *lc;

	foreach(lc, elements)
	{
		Node	   *element = lfirst(lc);

		if (columns && IsA(element, ColumnDef) &&
			bh_check_foreign_keys(((ColumnDef *) element)->constraints))
			return true;
		if (constraints && IsA(element, Constraint) &&
			bh_check_foreign_keys(list_make1(element)))
			return true;
	}
	return false;
}

/*
 * CREATE TABLE's LIKE clauses, in order, as its parse analysis checks
 * them (transformTableLikeClause), before any foreign key: SELECT on the
 * source (USAGE on a composite type); whether PostgreSQL stops at one (a
 * name that does not resolve, a relation of another kind, a refusal: a
 * table's is expected).
 */
static bool
bh_check_like_sources(List *elements)
{
	ListCell   *lc;

	foreach(lc, elements)
	{
		TableLikeClause *like = (TableLikeClause *) lfirst(lc);
		Oid			relid;
		char		relkind;

		if (!IsA(like, TableLikeClause))
			continue;
		relid = RangeVarGetRelid(like->relation, NoLock, true);
		relkind = OidIsValid(relid) ? get_rel_relkind(relid) : '\0';
		if (relkind == RELKIND_COMPOSITE_TYPE)
		{
			if (pg_type_aclcheck(get_rel_type_id(relid), GetUserId(), ACL_USAGE) != ACLCHECK_OK)
				return true;	/* refused, as a type */
			continue;
		}
		if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
			relkind != RELKIND_VIEW && relkind != RELKIND_MATVIEW &&
			relkind != RELKIND_FOREIGN_TABLE)
			return true;		/* PostgreSQL fails here, on no privilege */
		if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		{
			bh_expect_refusal(relid, "READ", NULL, NULL);
			return true;
		}
	}
	return false;
}

/*
 * A privilege's name in GRANT or REVOKE, as PostgreSQL reads it
 * (string_to_privilege); false for a name it rejects.
 */
static bool
bh_privilege_named(const char *name, AclMode *privilege)
{
	static const struct
	{
		const char *name;
		AclMode		privilege;
	}			names[] = {
		{"insert", ACL_INSERT}, {"select", ACL_SELECT}, {"update", ACL_UPDATE},
		{"delete", ACL_DELETE}, {"truncate", ACL_TRUNCATE},
		{"references", ACL_REFERENCES}, {"trigger", ACL_TRIGGER},
		{"execute", ACL_EXECUTE}, {"usage", ACL_USAGE}, {"create", ACL_CREATE},
		{"temporary", ACL_CREATE_TEMP}, {"temp", ACL_CREATE_TEMP},
		{"connect", ACL_CONNECT}, {"set", ACL_SET},
		{"alter system", ACL_ALTER_SYSTEM}, {"rule", 0},
	};
	int			i;

	for (i = 0; i < lengthof(names); i++)
		if (strcmp(name, names[i].name) == 0)
		{
			*privilege = names[i].privilege;
			return true;
		}
	return false;
}

/*
 * The relations a GRANT or REVOKE on tables (or sequences) acts on, in
 * PostgreSQL's order: those it names; ON ALL TABLES (SEQUENCES) IN SCHEMA,
 * each schema's of each kind as a scan of pg_class finds them
 * (objectsInSchemaToOids).  *failed: PostgreSQL fails first (a name that
 * does not resolve, a schema without USAGE).
 */
static List *
bh_grant_relations(GrantStmt *stmt, bool *failed)
{
	static const char table_kinds[] = {RELKIND_RELATION, RELKIND_VIEW, RELKIND_MATVIEW,
	RELKIND_FOREIGN_TABLE, RELKIND_PARTITIONED_TABLE};
	static const char sequence_kinds[] = {RELKIND_SEQUENCE};
	const char *kinds = stmt->objtype == OBJECT_SEQUENCE ? sequence_kinds : table_kinds;
	int			nkinds = stmt->objtype == OBJECT_SEQUENCE ? lengthof(sequence_kinds) :
	lengthof(table_kinds);
	List	   *relids = NIL;
	ListCell   *lc;

	*failed = true;
	foreach(lc, stmt->objects)
	{
		const char *nspname;
		Oid			nsp;
		int			i;

		if (stmt->targtype == ACL_TARGET_OBJECT)
		{
			Oid			relid = RangeVarGetRelid(lfirst_node(RangeVar, lc), NoLock, true);

			if (!OidIsValid(relid))
				return NIL;
			relids = lappend_oid(relids, relid);
			continue;
		}
		nspname = strVal(lfirst(lc));
		nsp = LookupNamespaceNoError(nspname);
		if (!OidIsValid(nsp) ||
			(strcmp(nspname, "pg_temp") != 0 &&
			 pg_namespace_aclcheck(nsp, GetUserId(), ACL_USAGE) != ACLCHECK_OK))
			return NIL;
		for (i = 0; i < nkinds; i++)
		{
			ScanKeyData key[2];
			Relation	pg_class_rel;
			TableScanDesc scan;
			HeapTuple	tuple;

			ScanKeyInit(&key[0], Anum_pg_class_relnamespace, BTEqualStrategyNumber,
						F_OIDEQ, ObjectIdGetDatum(nsp));
			ScanKeyInit(&key[1], Anum_pg_class_relkind, BTEqualStrategyNumber,
						F_CHAREQ, CharGetDatum(kinds[i]));
			pg_class_rel = table_open(RelationRelationId, AccessShareLock);
			scan = table_beginscan_catalog(pg_class_rel, 2, key);
			while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
				relids = lappend_oid(relids, ((Form_pg_class) GETSTRUCT(tuple))->oid);
			table_endscan(scan);
			table_close(pg_class_rel, AccessShareLock);
		}
	}
	*failed = false;
	return relids;
}

/*
 * The columns of relid a GRANT or REVOKE acts on, after the table's own
 * privileges (ExecGrant_Relation): all of them for a REVOKE of a table's
 * privileges that are columns' too, then those named with privileges,
 * as members offset by FirstLowInvalidHeapAttributeNumber (NULL: none);
 * *failed: PostgreSQL fails first (a privilege no column has, a column
 * that does not exist).
 */
static Bitmapset *
bh_grant_columns(GrantStmt *stmt, Oid relid, AclMode privileges, bool *failed)
{
	Bitmapset  *cols = NULL;
	HeapTuple	tuple;
	char		relkind;
	int			natts;
	ListCell   *lc;

	*failed = true;
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return NULL;
	relkind = ((Form_pg_class) GETSTRUCT(tuple))->relkind;
	natts = ((Form_pg_class) GETSTRUCT(tuple))->relnatts;
	ReleaseSysCache(tuple);
	if (!stmt->is_grant && (privileges & ACL_ALL_RIGHTS_COLUMN) != 0)
	{
		int			attnum;

		for (attnum = FirstLowInvalidHeapAttributeNumber + 1; attnum <= natts; attnum++)
		{
			bool		dropped;

			if (attnum == InvalidAttrNumber || (relkind == RELKIND_VIEW && attnum < 0))
				continue;
			tuple = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
			if (!HeapTupleIsValid(tuple))
				continue;
			dropped = ((Form_pg_attribute) GETSTRUCT(tuple))->attisdropped;
			ReleaseSysCache(tuple);
			if (!dropped)
				cols = bms_add_member(cols, attnum - FirstLowInvalidHeapAttributeNumber);
		}
	}
	foreach(lc, stmt->privileges)
	{
		AccessPriv *priv = (AccessPriv *) lfirst(lc);
		AclMode		privilege = ACL_ALL_RIGHTS_COLUMN;
		ListCell   *lc2;

		if (priv->cols == NIL)
			continue;
		if (priv->priv_name != NULL && !bh_privilege_named(priv->priv_name, &privilege))
			return NULL;
		if ((privilege & ~((AclMode) ACL_ALL_RIGHTS_COLUMN)) != 0)
			return NULL;
		if (relkind == RELKIND_SEQUENCE)
			privilege &= ACL_SELECT;	/* a warning, the rest dropped */
		foreach(lc2, priv->cols)
		{
			AttrNumber	attnum = get_attnum(relid, strVal(lfirst(lc2)));

			if (attnum == InvalidAttrNumber)
				return NULL;
			if (privilege != 0)
				cols = bms_add_member(cols, attnum - FirstLowInvalidHeapAttributeNumber);
		}
	}
	*failed = false;
	return cols;
}

/*
 * GRANT or REVOKE on tables (or sequences), judged the way PostgreSQL
 * judges it, relation by relation in order (ExecGrant_Relation): a
 * statement's own privileges on the relation, then the columns' (in the
 * order of their numbers), each refused where the user holds no privilege
 * on it at all, nor a grant option (restrict_and_check_grant), unless it
 * owns it: the table's privileges refused as the table ("permission
 * denied for table ...", a sequence's as a sequence), a column's on
 * neither the table nor the column as the column ("permission denied for
 * column ... of relation ...").  The first refusal is expected; nothing
 * where PostgreSQL fails first (a name, a kind of relation, a privilege
 * that does not apply).
 */
static void
bh_check_grant(GrantStmt *stmt)
{
	ListCell   *lc;
	List	   *relids;
	AclMode		privileges = ACL_NO_RIGHTS;
	AclMode		valid = stmt->objtype == OBJECT_SEQUENCE ? ACL_ALL_RIGHTS_SEQUENCE :
	ACL_ALL_RIGHTS_RELATION | ACL_ALL_RIGHTS_SEQUENCE;
	AclMode		columns = ACL_ALL_RIGHTS_COLUMN | ACL_GRANT_OPTION_FOR(ACL_ALL_RIGHTS_COLUMN);
	bool		failed;

	if ((stmt->targtype != ACL_TARGET_OBJECT && stmt->targtype != ACL_TARGET_ALL_IN_SCHEMA) ||
		(stmt->objtype != OBJECT_TABLE && stmt->objtype != OBJECT_SEQUENCE))
		return;
	relids = bh_grant_relations(stmt, &failed);
	if (failed)
		return;
	/* the table's privileges (ExecuteGrantStmt) */
	foreach(lc, stmt->privileges)
	{
		AccessPriv *priv = (AccessPriv *) lfirst(lc);
		AclMode		privilege;

		if (priv->cols != NIL)
		{
			if (stmt->objtype != OBJECT_TABLE)
				return;
			continue;
		}
		if (priv->priv_name == NULL || !bh_privilege_named(priv->priv_name, &privilege) ||
			(privilege & ~valid) != 0)
			return;
		privileges |= privilege;
	}
	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);
		char		relkind = get_rel_relkind(relid);
		AclMode		all = relkind == RELKIND_SEQUENCE ? ACL_ALL_RIGHTS_SEQUENCE :
		ACL_ALL_RIGHTS_RELATION;
		AclMode		these = stmt->privileges == NIL ? all : privileges;
		Bitmapset  *cols;
		int			member = -1;

		if (relkind == RELKIND_INDEX || relkind == RELKIND_PARTITIONED_INDEX ||
			relkind == RELKIND_COMPOSITE_TYPE || relkind == '\0' ||
			(stmt->objtype == OBJECT_SEQUENCE && relkind != RELKIND_SEQUENCE))
			return;
		if (stmt->objtype == OBJECT_TABLE && relkind == RELKIND_SEQUENCE)
			these &= ACL_ALL_RIGHTS_SEQUENCE;	/* a warning, the rest dropped */
		else if (stmt->objtype == OBJECT_TABLE && (these & ~((AclMode) all)) != 0)
			return;				/* USAGE: no table's */
		if (these != ACL_NO_RIGHTS &&
			pg_class_aclmask(relid, GetUserId(), all | ACL_GRANT_OPTION_FOR(all),
							 ACLMASK_ANY) == 0)
		{
			bh_expect_refusal(relid, "UPDATE",
							  relkind == RELKIND_SEQUENCE ? "permission denied for sequence %s" :
							  "permission denied for table %s", NULL);
			return;
		}
		cols = bh_grant_columns(stmt, relid, these, &failed);
		if (failed)
			return;
		if (cols == NULL ||
			pg_class_aclmask(relid, GetUserId(), columns, ACLMASK_ANY) != 0)
			continue;
		while ((member = bms_next_member(cols, member)) >= 0)
		{
			bool		missing = false;

			if (pg_attribute_aclmask_ext(relid, member + FirstLowInvalidHeapAttributeNumber,
										 GetUserId(), columns, ACLMASK_ANY, &missing) == 0)
			{
				bh_expect_refusal(relid, "UPDATE",
								  "permission denied for column \"%s\" of relation \"%s\"",
								  NULL);
				return;
			}
		}
	}
}

/*
 * Before other utility statements that check a table's privileges and
 * raise PostgreSQL's "permission denied for table ..." (LOCK TABLE, a
 * foreign key's REFERENCES in CREATE TABLE or ALTER TABLE, CREATE TRIGGER,
 * GRANT and REVOKE, also "... for column ... of relation ..."): the
 * relation that will be refused, judged the way PostgreSQL judges it, is
 * told to failure capture, which records the refusal, when PostgreSQL
 * raises it, as a denial of the tagged table (or the ledger, or another
 * relation of the trail) refused.  Nothing is recorded here: PostgreSQL
 * may fail before it checks.  Of a superuser's statements, only a LOCK is
 * judged (a view's relations, as its owner).  Does not raise.
 */
void
bh_check_utility_denials(Node *parsetree, bool isTopLevel)
{
	if (IsA(parsetree, LockStmt))
	{
		bh_check_lock((LockStmt *) parsetree, isTopLevel);
		return;
	}
	if (bh_utility_read_only_refuses())
		return;
	/* a LIKE's source is checked first (parse analysis), then foreign keys */
	if (IsA(parsetree, CreateStmt))
	{
		List	   *elements = ((CreateStmt *) parsetree)->tableElts;

		if (!bh_check_like_sources(elements))
			(void) bh_check_table_elements(elements, true, true);
	}

	/*
	 * ALTER TABLE: the foreign keys of the columns it adds are checked before
	 * those it adds as constraints, whatever their order
	 */
	else if (IsA(parsetree, AlterTableStmt))
	{
		List	   *columns = NIL;
		List	   *constraints = NIL;
		ListCell   *lc;

		foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

			if (cmd->def == NULL)
				continue;
			if (cmd->subtype == AT_AddColumn)
				columns = lappend(columns, cmd->def);
			else if (cmd->subtype == AT_AddConstraint)
				constraints = lappend(constraints, cmd->def);
		}
		if (!bh_check_table_elements(columns, true, false))
			(void) bh_check_table_elements(constraints, false, true);
	}

	/*
	 * CREATE TRIGGER: TRIGGER on its table, then, for a constraint trigger,
	 * on the table it names FROM (CreateTrigger)
	 */
	else if (IsA(parsetree, CreateTrigStmt))
	{
		CreateTrigStmt *stmt = (CreateTrigStmt *) parsetree;
		Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
		Oid			constrrelid = InvalidOid;

		if (!OidIsValid(relid))
			return;
		if (stmt->isconstraint && stmt->constrrel != NULL)
			constrrelid = RangeVarGetRelid(stmt->constrrel, NoLock, true);
		if (pg_class_aclcheck(relid, GetUserId(), ACL_TRIGGER) != ACLCHECK_OK)
			bh_expect_refusal(relid, "UPDATE", NULL, NULL);
		else if (OidIsValid(constrrelid) &&
				 pg_class_aclcheck(constrrelid, GetUserId(), ACL_TRIGGER) != ACLCHECK_OK)
			bh_expect_refusal(constrrelid, "UPDATE", NULL, NULL);
	}
	else if (IsA(parsetree, GrantStmt))
		bh_check_grant((GrantStmt *) parsetree);

	/*
	 * COPY ... FROM into the trail's sequence: PostgreSQL checks INSERT,
	 * which no role holds on a sequence, before it refuses to copy into one;
	 * its message names a sequence, which the recognition of a refused COPY
	 * ... FROM by name (capture_failure.c) does not read
	 */
	else if (IsA(parsetree, CopyStmt) && ((CopyStmt *) parsetree)->is_from &&
			 ((CopyStmt *) parsetree)->relation != NULL)
	{
		Oid			relid = RangeVarGetRelid(((CopyStmt *) parsetree)->relation, NoLock, true);

		bh_trail_rels_refresh();
		if (OidIsValid(relid) && bh_trail_rel(relid) &&
			get_rel_relkind(relid) == RELKIND_SEQUENCE &&
			pg_class_aclcheck(relid, GetUserId(), ACL_INSERT) != ACLCHECK_OK)
			bh_expect_refusal(relid, "CREATE", NULL, NULL);
	}
}

/*
 * bh_audit's functions that not every role may call, with the event that
 * records a refused call: what the caller attempted, on what, and the
 * classification of what the function would have returned.
 */
typedef struct BhGuardedFunction
{
	const char *name;
	const char *action;
	const char *resource_type;
	const char *classification;
} BhGuardedFunction;

static const BhGuardedFunction bh_guarded_functions[] = {
	{"export_jsonl", "EXPORT", BH_RESOURCE_AUDIT_LOG, "PHI"},
	{"pending_events", "READ", BH_RESOURCE_AUDIT_LOG, "PHI"},
	{"verify_chain", "READ", BH_RESOURCE_AUDIT_LOG, "NONE"},
	{"chain_failures", "READ", BH_RESOURCE_AUDIT_LOG, "NONE"},
	{"chain_head", "READ", BH_RESOURCE_AUDIT_LOG, "NONE"},
	{"stats", "READ", BH_RESOURCE_AUDIT_LOG, "NONE"},
	{"seal", "UPDATE", BH_RESOURCE_AUDIT_LOG, "NONE"},
	{"capture_status", "READ", BH_RESOURCE_AUDIT_CONFIG, "NONE"},
	{"tag_table", "CREATE", BH_RESOURCE_AUDIT_CONFIG, "NONE"},
	{"untag_table", "DELETE", BH_RESOURCE_AUDIT_CONFIG, "NONE"},
};

#define BH_GUARDED_MAX 32

/*
 * Their OIDs in this database, with the hash a plan's invalidation item
 * carries; loaded when a plan first calls a function that is not built in,
 * and again after any change to pg_proc.
 */
static struct
{
	Oid			oid;
	uint32		hash;
	const BhGuardedFunction *fn;
}			bh_guarded[BH_GUARDED_MAX];
static int	bh_nguarded = 0;
static bool bh_guarded_valid = false;
static bool bh_guarded_callback = false;

static void
bh_guarded_invalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	bh_guarded_valid = false;
}

static void
bh_guarded_load(void)
{
	Oid			nsp;
	int			i;

	if (!bh_guarded_callback)
	{
		CacheRegisterSyscacheCallback(PROCOID, bh_guarded_invalidate, (Datum) 0);
		bh_guarded_callback = true;
	}
	/* an invalidation during the load makes the next statement load again */
	bh_guarded_valid = true;
	bh_nguarded = 0;
	/* the extension's schema (not one of that name in a database without it) */
	nsp = bh_audit_schema();
	if (!OidIsValid(nsp))
		return;
	for (i = 0; i < lengthof(bh_guarded_functions); i++)
	{
		CatCList   *list = SearchSysCacheList1(PROCNAMEARGSNSP,
											   CStringGetDatum(bh_guarded_functions[i].name));
		int			j;

		for (j = 0; j < list->n_members && bh_nguarded < BH_GUARDED_MAX; j++)
		{
			Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(&list->members[j]->tuple);

			if (proc->pronamespace != nsp)
				continue;
			bh_guarded[bh_nguarded].oid = proc->oid;
			bh_guarded[bh_nguarded].hash =
				GetSysCacheHashValue1(PROCOID, ObjectIdGetDatum(proc->oid));
			bh_guarded[bh_nguarded].fn = &bh_guarded_functions[i];
			bh_nguarded++;
		}
		ReleaseSysCacheList(list);
	}
}

/*
 * The guarded functions that the plan calls and the user may not execute
 * (each once), for bh_push_refused_function() to recognise
 * PostgreSQL's refusal by: a plan names every function that is not built
 * in among its invalidation items, by the hash of its OID, so plans that
 * call none cost a look at an empty list.  Nothing is recorded yet: the
 * executor checks a function only as it prepares the expression that
 * calls it, and a plan may never prepare it (a partition pruned at
 * start-up, a table refused first).  Does not raise.
 */
List *
bh_function_denials(PlannedStmt *stmt)
{
	List	   *denied = NIL;
	ListCell   *lc;

	foreach(lc, stmt->invalItems)
	{
		PlanInvalItem *item = lfirst_node(PlanInvalItem, lc);
		int			i;

		if (item->cacheId != PROCOID)
			continue;
		if (!bh_guarded_valid)
			bh_guarded_load();
		for (i = 0; i < bh_nguarded; i++)
		{
			const BhGuardedFunction *fn = bh_guarded[i].fn;

			if (bh_guarded[i].hash != item->hashValue || list_member_ptr(denied, fn) ||
				pg_proc_aclcheck(bh_guarded[i].oid, GetUserId(), ACL_EXECUTE) == ACLCHECK_OK)
				continue;
			denied = lappend(denied, (void *) fn);
			break;
		}
	}
	return denied;
}

/*
 * The DENIED event of a refused call of fn (the trail's or its
 * configuration's).  error: it records the error being handled (from a
 * PG_CATCH), pushed as built within the budget of waiting of the
 * statement's failure (ring.c).
 */
static void
bh_push_function_denial(const BhGuardedFunction *fn, const char *message, bool error)
{
	BhEvent		ev;

	bh_event_init(&ev, fn->action, fn->resource_type);
	ev.resource_id = psprintf("bh_audit.%s", fn->name);
	ev.data_classification = fn->classification;
	ev.outcome = "DENIED";
	ev.error_type = "PermissionDenied";
	ev.error_message = message;
	ev.phi_touched = 0;
	if (error)
		(void) bh_ring_push_jsonb_failure(bh_event_build(&ev, NULL));
	else
		bh_push(&ev, false);
}

/*
 * A call of one of bh_audit's guarded functions that the function refuses
 * itself (tag_table() and untag_table() check the caller's roles even when
 * EXECUTE was granted more widely): recorded as the executor's refusal
 * would be, before the function raises its error.
 */
void
bh_push_own_refusal(const char *function, const char *message)
{
	int			i;

	if (!bh_capture_here())
		return;					/* capture off, a standby: as the executor's
								 * refusal */
	for (i = 0; i < lengthof(bh_guarded_functions); i++)
		if (strcmp(bh_guarded_functions[i].name, function) == 0)
		{
			bh_current_role_warm(); /* the role refused */
			bh_push_function_denial(&bh_guarded_functions[i], message, false);
			return;
		}
	elog(ERROR, "\"%s\" is not a guarded function of bh_audit", function);
}

/*
 * From the executor's PG_CATCH (bh_record_refusal, with the error's
 * primary message, made from format): if PostgreSQL refused one of the
 * functions in refused (a List of bh_function_denials()), record that
 * refusal as a DENIED event of the trail or of its configuration; returns
 * whether it did.  Pushed as built (no validation, nothing may raise
 * here).
 */
bool
bh_push_refused_function(void *refused, const char *message, const char *format)
{
	ListCell   *lc;

	foreach(lc, (List *) refused)
	{
		const BhGuardedFunction *fn = (const BhGuardedFunction *) lfirst(lc);

		if (!bh_message_names(message, format, fn->name))
			continue;
		bh_push_function_denial(fn, psprintf("permission denied for function %s", fn->name),
								true);
		return true;
	}
	return false;
}
