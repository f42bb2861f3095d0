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
 * standard_ExecutorStart (bh_check_denials, from the executor hook), of
 * the tables a TRUNCATE would empty before it runs (bh_check_truncate_
 * denials, from the utility hook).  A refused tagged table gives one
 * DENIED event per statement (resource type AuditLog for the ledger), and
 * bh_failure_recorded keeps failure capture from recording the error
 * PostgreSQL raises next.  Other refusals of a tagged table that
 * PostgreSQL raises elsewhere ("permission denied for table ...": COPY
 * FROM, a view's owner) are found by failure capture (capture_failure.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/heap.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"

#include "bh_audit.h"
#include "capture.h"
#include "event.h"
#include "tags.h"

/*
 * A DENIED event of action on a tagged table (or the ledger), recorded
 * before PostgreSQL raises its "permission denied" error for it.
 */
static void
bh_push_denial(const char *action, Oid relid, Oid events_relid)
{
	BhEvent		ev;

	bh_event_for_table(&ev, action, relid, events_relid);
	ev.outcome = "DENIED";
	ev.error_type = "PermissionDenied";
	ev.error_message = psprintf("permission denied for table %s", get_rel_name(relid));
	ev.phi_touched = 0;
	bh_push(&ev, false);
	bh_failure_recorded = true;		/* PostgreSQL's error follows */
}

/*
 * Before the executor's own check: record a DENIED event for each tagged
 * relation (or bh_audit.events) the user may not access.  Does not raise.
 */
void
bh_check_denials(QueryDesc *qd, List *tagged, Oid events_relid)
{
	ListCell   *lc;
	List	   *denied = NIL;

	foreach(lc, qd->plannedstmt->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		/* one denial per table, however often the statement names it */
		if (rte->rtekind != RTE_RELATION || rte->requiredPerms == 0 ||
			!list_member_oid(tagged, rte->relid) || list_member_oid(denied, rte->relid))
			continue;
		if (ExecCheckRTPerms(list_make1(rte), false))
			continue;
		denied = lappend_oid(denied, rte->relid);
		/* FOR UPDATE/SHARE asks for UPDATE privilege, but reads (RowShareLock) */
		bh_push_denial(bh_action_for(CMD_SELECT,
									 rte->rellockmode == RowShareLock ? 0 :
									 rte->requiredPerms & ~ACL_SELECT),
					   rte->relid, events_relid);
	}
}

/*
 * Before a TRUNCATE: PostgreSQL checks the privilege of the tables it is
 * asked to empty and, with CASCADE, of those referencing them or their
 * inheritance children (found again and again; the children themselves go
 * with their parent's privilege), and raises its error from whatever runs
 * the statement (a client, a function of any language) before it has
 * locked them all.  So the same tables are looked up here first, without
 * locks, and each tagged one (or the ledger) the user may not truncate is
 * a DENIED event, recorded before the error.  Does not raise.
 */
void
bh_check_truncate_denials(TruncateStmt *stmt)
{
	Oid			events_relid = bh_events_relid();
	List	   *checked = NIL;	/* whose privilege PostgreSQL checks */
	List	   *emptied = NIL;	/* all it empties: children too */
	List	   *denied = NIL;
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		RangeVar   *rv = lfirst_node(RangeVar, lc);
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);

		if (!OidIsValid(relid))
			continue;
		checked = list_append_unique_oid(checked, relid);
		emptied = list_concat_unique_oid(emptied, rv->inh ?
										 find_all_inheritors(relid, NoLock, NULL) :
										 list_make1_oid(relid));
	}
	if (stmt->behavior == DROP_CASCADE)
	{
		List	   *more;

		while (emptied != NIL && (more = heap_truncate_find_FKs(emptied)) != NIL)
		{
			checked = list_concat(checked, more);
			emptied = list_concat(emptied, more);
		}
	}

	foreach(lc, checked)
	{
		Oid			relid = lfirst_oid(lc);
		const BhTag *tag = (relid == events_relid) ? NULL : bh_tag_lookup(relid);
		bool		missing = false;

		if ((tag == NULL && relid != events_relid) || list_member_oid(denied, relid) ||
			pg_class_aclcheck_ext(relid, GetUserId(), ACL_TRUNCATE, &missing) == ACLCHECK_OK ||
			missing)
			continue;
		denied = lappend_oid(denied, relid);
		bh_push_denial("DELETE", relid, events_relid);
	}
}
