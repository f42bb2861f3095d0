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
 * from the utility hook).  A refused tagged table gives one
 * DENIED event per statement (resource type AuditLog for the ledger), and
 * bh_failure_recorded keeps failure capture from recording the error
 * PostgreSQL raises next.  Other refusals of a tagged table that
 * PostgreSQL raises elsewhere ("permission denied for table ...": COPY
 * FROM, a view's owner, a TRUNCATE's cascade) are found by failure capture
 * (capture_failure.c).
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
#include "access/sysattr.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "utils/acl.h"
#include "utils/catcache.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

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
		if (bh_rte_permitted(rte))
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
 * (each once), for bh_record_refused_function() to recognise
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

/* Does message end with the name of a function (the one it refuses)? */
static bool
bh_message_names(const char *message, const char *name)
{
	size_t		mlen = strlen(message);
	size_t		nlen = strlen(name);

	return mlen > nlen && strcmp(message + mlen - nlen, name) == 0 &&
		(message[mlen - nlen - 1] == ' ' || message[mlen - nlen - 1] == '"');
}

/*
 * From the executor's PG_CATCH (capture_failure.c, with the error's
 * primary message): if PostgreSQL refused one of the functions in refused
 * (bh_function_denials()), record that refusal as a DENIED event of the
 * trail or of its configuration; returns whether it did.  Pushed as built
 * (no validation, nothing may raise here).
 */
bool
bh_push_refused_function(List *refused, const char *message)
{
	ListCell   *lc;

	foreach(lc, refused)
	{
		const BhGuardedFunction *fn = (const BhGuardedFunction *) lfirst(lc);
		BhEvent		ev;

		if (!bh_message_names(message, fn->name))
			continue;
		bh_event_init(&ev, fn->action, fn->resource_type);
		ev.resource_id = psprintf("bh_audit.%s", fn->name);
		ev.data_classification = fn->classification;
		ev.outcome = "DENIED";
		ev.error_type = "PermissionDenied";
		ev.error_message = psprintf("permission denied for function %s", fn->name);
		ev.phi_touched = 0;
		bh_push(&ev, true);
		return true;
	}
	return false;
}
