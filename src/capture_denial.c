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
 * the tables a TRUNCATE names before it runs (bh_check_truncate_denials,
 * from the utility hook).  A refused tagged table gives one
 * DENIED event per statement (resource type AuditLog for the ledger), and
 * bh_failure_recorded keeps failure capture from recording the error
 * PostgreSQL raises next.  Other refusals of a tagged table that
 * PostgreSQL raises elsewhere ("permission denied for table ...": COPY
 * FROM, a view's owner, a TRUNCATE's cascade) are found by failure capture
 * (capture_failure.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
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
 * Before a TRUNCATE: PostgreSQL looks up the tables it is asked to empty in
 * order, and checks each one's privilege as it looks it up, before it
 * locks it (its inheritance children go with its privilege), raising its
 * error at the first that fails — from whatever runs the statement, a
 * client or a function of any language, whose text may name nothing.  So
 * the same walk is made here first: it stops where PostgreSQL will stop (a
 * name that does not resolve, a relation that is not a table, a table the
 * user may not truncate), and if that table is tagged (or the ledger), the
 * refusal is a DENIED event, recorded before the error; returns whether it
 * was.  The tables a CASCADE adds are locked before PostgreSQL checks
 * them: their refusal is found by failure capture, from the error
 * (capture_failure.c).  Does not raise.
 */
bool
bh_check_truncate_denials(TruncateStmt *stmt)
{
	Oid			events_relid = bh_events_relid();
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		Oid			relid = RangeVarGetRelid(lfirst_node(RangeVar, lc), NoLock, true);
		char		relkind = OidIsValid(relid) ? get_rel_relkind(relid) : '\0';
		bool		missing = false;

		if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
			relkind != RELKIND_FOREIGN_TABLE)
			return false;		/* PostgreSQL fails here, on no privilege */
		if (pg_class_aclcheck_ext(relid, GetUserId(), ACL_TRUNCATE, &missing) == ACLCHECK_OK)
			continue;
		if (missing || (relid != events_relid && bh_tag_lookup(relid) == NULL))
			return false;		/* refused, but no tagged table */
		bh_push_denial("DELETE", relid, events_relid);
		return true;
	}
	return false;
}
