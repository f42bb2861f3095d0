/*-------------------------------------------------------------------------
 *
 * queue_check.c
 *		The queue takes JSON objects only from SQL: bh_audit._check_queued(),
 *		the row trigger queue_objects_only on bh_audit.queue.
 *
 * The extension writes its own queue rows directly (emit.c), without the
 * executor, so no trigger fires for them.  Rows that come in by SQL are a
 * restore's (its COPY of events still queued at the dump) or a superuser's
 * INSERT or UPDATE: the sealer would chain each of their events as it is,
 * and an event that is not a JSON object (a number, a string, an array,
 * JSON null) would stand in the ledger for good, where the export cannot
 * make a line of it and the ledger's guard refuses it in a restore
 * (guard.c).  Such a row is refused here, naming the row's id and the
 * event's position and JSON type, never its content (it may hold PHI).  A
 * NULL element is let through: the sealer skips it with a WARNING
 * (queue_take.c), as it skips an element that is not an object when the
 * trigger was off.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/copy.h"
#include "commands/copyfrom_internal.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"

#include "bh_audit.h"

static const char *const bh_checked_tables[] = {"queue"};

/* The JSON type of an event that is not an object, as jsonb_typeof() names it */
static const char *
bh_json_kind(Jsonb *jb)
{
	JsonbValue	v;

	if (JB_ROOT_IS_ARRAY(jb) && !JB_ROOT_IS_SCALAR(jb))
		return "array";
	if (JB_ROOT_IS_SCALAR(jb) && JsonbExtractScalar(&jb->root, &v))
		return JsonbTypeName(&v);
	return "value";
}

/*
 * A COPY ... FROM of rel running the trigger: its error context shows the
 * line being read (the row's data, the events' content) unless told the
 * line is not at hand.  Told so for every row, before any error of it: the
 * trigger's own refusal, and one that comes after the trigger (the queue's
 * key already there: a data-only restore into a queue still holding
 * events), whose context would show an event's patient and actor.  The
 * line is only for error messages (COPY reads the next one anew).  Only the
 * innermost COPY, and only if it is the one into rel.
 */
static void
bh_copy_context_without_data(Relation rel)
{
	ErrorContextCallback *frame;

	for (frame = error_context_stack; frame != NULL; frame = frame->previous)
	{
		if (frame->callback == CopyFromErrorCallback)
		{
			CopyFromState cstate = (CopyFromState) frame->arg;

			if (cstate->rel == rel)
				cstate->line_buf_valid = false;
			return;
		}
	}
}

PG_FUNCTION_INFO_V1(bh_audit_check_queued);

/*
 * Row trigger BEFORE INSERT OR UPDATE on bh_audit.queue, enabled ALWAYS
 * (a superuser's session_replication_role = replica does not pass it by).
 * It fires after queue_applied_skip (name order), which skips a logical
 * replication worker's rows first.  Works without the preload too: it
 * reads nothing but the row.
 */
Datum
bh_audit_check_queued(PG_FUNCTION_ARGS)
{
	TriggerData *td;
	HeapTuple	tup;
	TupleDesc	desc;
	int			attno;
	Datum		d;
	bool		isnull;
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;

	td = bh_trigger_call(fcinfo, "bh_audit._check_queued()",
						 BH_TRIG_BEFORE | BH_TRIG_ROW | BH_TRIG_INSERT | BH_TRIG_UPDATE,
						 bh_checked_tables, lengthof(bh_checked_tables));
	bh_copy_context_without_data(td->tg_relation);
	tup = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	desc = RelationGetDescr(td->tg_relation);
	attno = SPI_fnumber(desc, "events");
	/* the queue's columns change only through the extension's scripts */
	if (attno <= 0 || TupleDescAttr(desc, attno - 1)->atttypid != get_array_type(JSONBOID))
		elog(ERROR, "bh_audit.queue has no column \"events\" of type jsonb[]");

	/* a NULL array is refused next, by NOT NULL (the sealer skips one) */
	d = heap_getattr(tup, attno, desc, &isnull);
	if (isnull)
		return PointerGetDatum(tup);
	arr = DatumGetArrayTypeP(d);
	deconstruct_array(arr, JSONBOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (i = 0; i < n; i++)
	{
		Jsonb	   *jb;
		int			idno;
		bool		idnull = true;
		int64		id = 0;

		if (nulls[i])
			continue;			/* skipped by the sealer, with a WARNING */
		jb = DatumGetJsonbP(elems[i]);
		if (JB_ROOT_IS_OBJECT(jb))
			continue;
		idno = SPI_fnumber(desc, "id");
		if (idno > 0 && TupleDescAttr(desc, idno - 1)->atttypid == INT8OID)
			id = DatumGetInt64(heap_getattr(tup, idno, desc, &idnull));
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 idnull ?
				 errmsg("bh_audit.queue takes JSON objects only: event %d of a row without an id is a JSON %s",
						i + 1, bh_json_kind(jb)) :
				 errmsg("bh_audit.queue takes JSON objects only: event %d of the row with id " INT64_FORMAT " is a JSON %s",
						i + 1, id, bh_json_kind(jb)),
				 errdetail("The sealer chains each queued event as it is, and the ledger's export and the restore of a ledger take JSON objects only."),
				 errtable(td->tg_relation)));
	}
	return PointerGetDatum(tup);
}
