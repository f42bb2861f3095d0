/*-------------------------------------------------------------------------
 *
 * guard.c
 *		The append-only guard of bh_audit.events.
 *
 * A statement-level BEFORE INSERT/UPDATE/DELETE/TRUNCATE trigger, enabled
 * ALWAYS, refuses every change for every role, owner and superusers
 * included.  Only the sealer inserts: it raises bh_sealer_inserting around
 * its own INSERT.  A superuser can still disable the trigger;
 * verify_chain() then detects what was changed, added or removed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "bh_audit.h"

/* Set by the sealer around its INSERT into bh_audit.events. */
bool		bh_sealer_inserting = false;

PG_FUNCTION_INFO_V1(bh_audit_refuse_change);

/*
 * Trigger function: raise a clear error naming the refused operation.
 */
Datum
bh_audit_refuse_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *op;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "bh_audit_refuse_change: not called by trigger manager");

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		if (bh_sealer_inserting)
			return PointerGetDatum(NULL);
		op = "INSERT";
	}
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		op = "UPDATE";
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		op = "DELETE";
	else if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		op = "TRUNCATE";
	else
		op = "this change";

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s on \"%s.%s\" is not allowed: the audit ledger is append-only",
					op,
					get_namespace_name(RelationGetNamespace(trigdata->tg_relation)),
					RelationGetRelationName(trigdata->tg_relation)),
			 errdetail("Only the sealer adds events, and sealed events can be neither changed nor removed, by any role."),
			 errhint("Use bh_audit.verify_chain() to check the ledger and bh_audit.export_jsonl() to archive it.")));

	PG_RETURN_NULL();			/* not reached */
}
