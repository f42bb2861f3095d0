/*-------------------------------------------------------------------------
 *
 * capture_write.c
 *		Write capture: the C trigger functions tag_table() attaches.
 *
 * bh_audit._capture_row() is an AFTER INSERT/UPDATE/DELETE row trigger:
 * one event per changed row, queued in the changing transaction (so it
 * commits with the change and is gone with it on rollback, including
 * rollback to a savepoint).  The event names the record (the tagged id
 * column), the patient (the tagged patient column), the table and, for an
 * UPDATE, the NAMES of the columns whose values changed; no other column
 * value ever leaves the table.  An UPDATE that moves a row to another
 * patient is queued twice, once per patient, so that the access history
 * of both shows it; and the new version is noted with the patient it left
 * (moved_rows.c), so that a read of it in the same transaction names that
 * patient too, whose record it holds.  A move to another partition is a
 * DELETE and an INSERT here, noted the same way.
 *
 * bh_audit._capture_truncate() is a BEFORE TRUNCATE statement trigger (so
 * that the planner's row estimate is still there; TRUNCATE resets it): one
 * DELETE event for the table, with that estimate where the table has been
 * analyzed.  An event queued before a TRUNCATE that then fails is rolled
 * back with it.  An ALTER TABLE that converts or removes a column's values
 * in every row is recorded the same way, as an UPDATE (config_guard.c).
 *
 * bh_audit.enabled (superuser-only) switches capture off; config_guard.c
 * records every switch.  Without the library preloaded both triggers fail
 * (bh_require_preload): a write to a tagged table is refused, not left
 * without its event.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/transam.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "bh_audit.h"
#include "capture.h"
#include "event.h"
#include "tags.h"

/* bh_audit.enabled */
bool		bh_capture_enabled = true;

/* Start the event of a change to a tagged table. */
static void
bh_write_event(BhEvent *ev, const char *action, const BhTag *tag)
{
	bh_event_init(ev, action, tag->resource_type);
	ev->phi_touched = 1;
	ev->data_classification = tag->classification;
	bh_event_meta_string(ev, "table", tag->table_name);
	if (tag->part2)
		bh_event_meta_bool(ev, "part2", true);
}

/*
 * The planner's row estimate of a table, or -1 where it has not been
 * analyzed (a partitioned table holds no rows of its own).
 */
double
bh_row_estimate(Form_pg_class relform)
{
	if (relform->reltuples < 0 || relform->relkind == RELKIND_PARTITIONED_TABLE)
		return -1;
	return relform->reltuples;
}

/* The row estimate of relid (bh_row_estimate()), or -1 if unknown or gone. */
double
bh_rel_row_estimate(Oid relid)
{
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	double		rows;

	if (!HeapTupleIsValid(tp))
		return -1;
	rows = bh_row_estimate((Form_pg_class) GETSTRUCT(tp));
	ReleaseSysCache(tp);
	return rows;
}

/*
 * One event for a whole table (TRUNCATE; a statement that converts or
 * removes columns' values in every row, or a REFRESH, config_guard.c): no
 * row ids; the statement, the columns converted and dropped if any, and
 * the row estimate (bh_row_estimate(), taken before the change) if known;
 * with patient, that patient's (patient_moved: moved); with cleaned, the
 * server's own doing as it cleaned out a crashed session's temporary
 * objects (below).
 * Noted as a write of the transaction, like a row's, by the callers below.
 */
static void
bh_queue_table_event(const BhTag *tag, double rows, const char *action,
					 const char *statement, const char *changed, const char *dropped,
					 const char *patient, const char *moved,
					 const BhTempCleanup *cleaned)
{
	BhEvent		ev;

	bh_write_event(&ev, action, tag);
	ev.patient_id = patient;
	if (cleaned)
		bh_event_temp_cleanup(&ev, cleaned);
	else
		bh_event_meta_string(&ev, "statement", statement);
	if (changed)
		bh_event_meta_string(&ev, "changed_columns", changed);
	if (dropped)
		bh_event_meta_string(&ev, "dropped_columns", dropped);
	if (moved)
		bh_event_meta_string(&ev, "patient_moved", moved);
	if (rows >= 0)
		bh_event_meta_int(&ev, "row_count_estimate", (int64) rows);
	bh_queue_event(bh_event_build(&ev, NULL));
}

/* One table-wide event (bh_queue_table_event()), noted as a write. */
void
bh_write_table_event(const BhTag *tag, double rows, const char *action,
					 const char *statement, const char *changed, const char *dropped)
{
	bh_failure_note_write(tag, action);
	bh_queue_table_event(tag, rows, action, statement, changed, dropped, NULL, NULL, NULL);
}

/*
 * The same UPDATE event of the columns PostgreSQL dropped as it cleaned
 * out the temporary objects a crashed session left behind, for the next
 * session given its schema, or as autovacuum dropped an orphaned temporary
 * table (cleaned, config_guard.c's bh_guard_noting()): not that session's
 * write, but the server's (bh_event_temp_cleanup(), statement "temporary
 * schema cleanup").
 */
void
bh_write_table_cleanup_event(const BhTag *tag, double rows, const char *changed,
							 const char *dropped, const BhTempCleanup *cleaned)
{
	bh_failure_note_write(tag, "UPDATE");
	bh_queue_table_event(tag, rows, "UPDATE", NULL, changed, dropped, NULL, NULL, cleaned);
}

/*
 * The rows of a table that all move from one patient to another at once
 * (ALTER TYPE ... RENAME VALUE of the enum label of their patient column,
 * config_guard.c): two table-wide UPDATE events, one in each patient's
 * history (patient_moved "to" and "from", as for one row's move).
 */
void
bh_write_table_patient_move(const BhTag *tag, double rows, const char *statement,
							const char *changed, const char *from, const char *to)
{
	bh_failure_note_write(tag, "UPDATE");
	bh_queue_table_event(tag, rows, "UPDATE", statement, changed, NULL, to, "to", NULL);
	bh_queue_table_event(tag, rows, "UPDATE", statement, changed, NULL, from, "from", NULL);
}

/*
 * The text of the tagged id or patient column attnum of a row (NULL if
 * the value is), from the row's values taken apart; the patient's is the
 * id's text where both are one column (the same type, so the same output).
 */
static char *
bh_row_id_of(const BhIdOutput *out, AttrNumber attnum, Datum *values, bool *nulls)
{
	if (attnum == InvalidAttrNumber || nulls[attnum - 1])
		return NULL;
	return bh_id_text(out, values[attnum - 1]);
}

/* The tagged id and patient of a row. */
static void
bh_row_ids(const BhTag *tag, HeapTuple tuple, TupleDesc desc,
		   char **id, char **patient)
{
	bool		isnull;
	Datum		d;

	*id = NULL;
	*patient = NULL;
	if (tag->id_attnum != InvalidAttrNumber)
	{
		d = heap_getattr(tuple, tag->id_attnum, desc, &isnull);
		if (!isnull)
			*id = bh_id_text(&tag->id_out, d);
	}
	if (tag->patient_attnum == tag->id_attnum)
		*patient = *id;
	else if (tag->patient_attnum != InvalidAttrNumber)
	{
		d = heap_getattr(tuple, tag->patient_attnum, desc, &isnull);
		if (!isnull)
			*patient = bh_id_text(&tag->patient_out, d);
	}
}

/*
 * Is a column's stored value the same before and after?  Byte for byte,
 * except that every NaN of a float, or of a domain over one, is one value:
 * PostgreSQL compares and prints them alike, whatever bits the expression
 * that made one left.  (Inside an array, a composite or a geometric value
 * the bytes count.)
 */
static bool
bh_same_value(Form_pg_attribute att, Datum oldval, Datum newval)
{
	Oid			type;

	if (datum_image_eq(oldval, newval, att->attbyval, att->attlen))
		return true;
	/* a domain over a float (any type of the database's own is no float) */
	type = att->atttypid;
	if (type >= FirstNormalObjectId)
		type = getBaseType(type);
	if (type == FLOAT8OID)
		return isnan(DatumGetFloat8(oldval)) && isnan(DatumGetFloat8(newval));
	if (type == FLOAT4OID)
		return isnan(DatumGetFloat4(oldval)) && isnan(DatumGetFloat4(newval));
	return false;
}

/*
 * The old and new versions of an updated row taken apart once (reading
 * column i of a row with a variable-width or null column before it walks
 * the row from its start: quadratic in the columns of a wide table).
 */
typedef struct BhUpdatedRow
{
	Datum	   *oldvals;
	Datum	   *newvals;
	bool	   *oldnulls;
	bool	   *newnulls;
} BhUpdatedRow;

static void
bh_updated_row_init(BhUpdatedRow *row, HeapTuple oldtup, HeapTuple newtup, TupleDesc desc)
{
	/* one allocation for the four arrays, Datums first for alignment */
	char	   *mem = palloc(desc->natts * 2 * (sizeof(Datum) + sizeof(bool)));

	row->oldvals = (Datum *) mem;
	row->newvals = row->oldvals + desc->natts;
	row->oldnulls = (bool *) (row->newvals + desc->natts);
	row->newnulls = row->oldnulls + desc->natts;
	heap_deform_tuple(oldtup, desc, row->oldvals, row->oldnulls);
	heap_deform_tuple(newtup, desc, row->newvals, row->newnulls);
}

/*
 * The text of a tagged column of the old version: the new version's text
 * (newtext) where the column holds the very same bytes in both, which print
 * alike (an UPDATE seldom changes a row's id or patient).
 */
static char *
bh_updated_old_id(const BhIdOutput *out, AttrNumber attnum, const BhUpdatedRow *row,
				  TupleDesc desc, char *newtext)
{
	Form_pg_attribute att;

	if (attnum == InvalidAttrNumber)
		return NULL;
	att = TupleDescAttr(desc, attnum - 1);
	if (row->oldnulls[attnum - 1] != row->newnulls[attnum - 1])
		return bh_row_id_of(out, attnum, row->oldvals, row->oldnulls);
	if (row->oldnulls[attnum - 1] ||
		datum_image_eq(row->oldvals[attnum - 1], row->newvals[attnum - 1],
					   att->attbyval, att->attlen))
		return newtext;
	return bh_row_id_of(out, attnum, row->oldvals, row->oldnulls);
}

/*
 * The tagged ids and patients of both versions of an updated row
 * (bh_row_ids()), each column printed once where it did not change.
 */
static void
bh_updated_row_ids(const BhTag *tag, const BhUpdatedRow *row, TupleDesc desc,
				   char **old_id, char **old_patient, char **id, char **patient)
{
	*id = bh_row_id_of(&tag->id_out, tag->id_attnum, row->newvals, row->newnulls);
	*patient = tag->patient_attnum == tag->id_attnum ? *id :
		bh_row_id_of(&tag->patient_out, tag->patient_attnum, row->newvals, row->newnulls);
	*old_id = bh_updated_old_id(&tag->id_out, tag->id_attnum, row, desc, *id);
	*old_patient = tag->patient_attnum == tag->id_attnum ? *old_id :
		bh_updated_old_id(&tag->patient_out, tag->patient_attnum, row, desc, *patient);
}

/*
 * Quoted column names (bh_name_text()) remembered, one slot per column
 * number modulo BH_QUOTED_SLOTS: the UPDATEs of a table name the same
 * changed columns row after row, and quoting one (a keyword look-up) cost
 * more than finding that it changed.  A slot is used only for the very
 * same name, all that the quoting depends on, so a renamed column or
 * another table's is quoted afresh.
 */
#define BH_QUOTED_SLOTS 32

typedef struct BhQuotedName
{
	NameData	name;
	char	   *quoted;			/* in TopMemoryContext; NULL: slot empty */
} BhQuotedName;

static BhQuotedName bh_quoted[BH_QUOTED_SLOTS];

/* bh_name_text() of a column's name, remembered (see above). */
static const char *
bh_quoted_column(Form_pg_attribute att)
{
	BhQuotedName *slot = &bh_quoted[(att->attnum - 1) % BH_QUOTED_SLOTS];
	const char *quoted;

	if (slot->quoted != NULL && strcmp(NameStr(slot->name), NameStr(att->attname)) == 0)
		return slot->quoted;
	quoted = bh_name_text(NameStr(att->attname));
	if (slot->quoted != NULL)
		pfree(slot->quoted);
	slot->quoted = NULL;
	slot->quoted = MemoryContextStrdup(TopMemoryContext, quoted);
	slot->name = att->attname;
	return slot->quoted;
}

/* Comma-separated names of the columns whose values differ. */
static char *
bh_changed_columns(const BhUpdatedRow *row, TupleDesc desc)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || (row->oldnulls[i] && row->newnulls[i]))
			continue;
		if (row->oldnulls[i] != row->newnulls[i] ||
			!bh_same_value(att, row->oldvals[i], row->newvals[i]))
		{
			if (buf.len > 0)
				appendStringInfoChar(&buf, ',');
			appendStringInfoString(&buf, bh_quoted_column(att));
		}
	}
	return buf.data;
}

/* An id that names something: not NULL, not empty (events leave it out). */
static bool
bh_names(const char *id)
{
	return id != NULL && id[0] != '\0';
}

/* Do two ids name the same thing?  A NULL and an empty one both name none. */
static bool
bh_same(const char *a, const char *b)
{
	if (!bh_names(a) || !bh_names(b))
		return bh_names(a) == bh_names(b);
	return strcmp(a, b) == 0;
}

PG_FUNCTION_INFO_V1(bh_audit_capture_row);

/*
 * Only the trigger tag_table() creates (or PostgreSQL clones onto a
 * partition) may call a capture function: another trigger calling it
 * would record each change once more.
 */
static void
bh_check_capture_trigger(TriggerData *td, const char *name)
{
	if (strcmp(td->tg_trigger->tgname, name) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" on table \"%s\" may not call bh_audit's capture function",
						td->tg_trigger->tgname, RelationGetRelationName(td->tg_relation)),
				 errdetail("Only the trigger \"%s\" that bh_audit.tag_table() creates records the table's changes.",
						   name),
				 errhint("Drop trigger \"%s\".", td->tg_trigger->tgname)));
}

/*
 * Row trigger: one event per inserted, updated or deleted row.
 */
Datum
bh_audit_capture_row(PG_FUNCTION_ARGS)
{
	TriggerData *td;
	TupleDesc	desc;
	const BhTag *tag;
	BhEvent		ev;
	char	   *id;
	char	   *patient;

	bh_require_preload();
	td = bh_trigger_call(fcinfo, "bh_audit._capture_row()",
						 BH_TRIG_AFTER | BH_TRIG_ROW, NULL, 0);
	bh_check_capture_trigger(td, BH_ROW_TRIGGER);
	bh_current_role_warm();

	if (!bh_capture_enabled)
		return PointerGetDatum(NULL);
	tag = bh_tag_lookup(RelationGetRelid(td->tg_relation));
	if (tag == NULL || !tag->capture_writes)
		return PointerGetDatum(NULL);
	desc = RelationGetDescr(td->tg_relation);

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event) || TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		bool		insert = TRIGGER_FIRED_BY_INSERT(td->tg_event);

		bh_failure_note_write(tag, insert ? "CREATE" : "DELETE");
		bh_row_ids(tag, td->tg_trigtuple, desc, &id, &patient);
		bh_write_event(&ev, insert ? "CREATE" : "DELETE", tag);
		ev.resource_id = id;
		ev.patient_id = patient;
		bh_queue_event(bh_event_build(&ev, NULL));
		/* half of a move to another partition (moved_rows.c) */
		if (tag->capture_reads && tag->patient_attnum != InvalidAttrNumber)
		{
			if (insert)
				bh_moved_note_insert(tag, td->tg_relation, td->tg_trigtuple, patient);
			else
				bh_moved_note_delete(tag, td->tg_relation, td->tg_trigtuple, patient);
		}
	}
	else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		char	   *old_id;
		char	   *old_patient;
		char	   *changed;
		BhUpdatedRow row;

		bh_updated_row_init(&row, td->tg_trigtuple, td->tg_newtuple, desc);
		changed = bh_changed_columns(&row, desc);
		bh_failure_note_write(tag, "UPDATE");
		bh_updated_row_ids(tag, &row, desc, &old_id, &old_patient, &id, &patient);
		pfree(row.oldvals);

		bh_write_event(&ev, "UPDATE", tag);
		ev.resource_id = id;
		ev.patient_id = patient;
		bh_event_meta_string(&ev, "changed_columns", changed);
		/* cut as resource.id is, so that it matches the earlier events' */
		if (!bh_same(old_id, id) && bh_names(old_id))
			bh_event_meta_string(&ev, "previous_id", bh_truncate(old_id, 256));
		if (!bh_same(old_patient, patient))
			bh_event_meta_string(&ev, "patient_moved", "to");
		bh_queue_event(bh_event_build(&ev, NULL));

		/* The patient the row left sees the change in its history too. */
		if (!bh_same(old_patient, patient) && bh_names(old_patient))
		{
			bh_write_event(&ev, "UPDATE", tag);
			ev.resource_id = old_id;
			ev.patient_id = old_patient;
			bh_event_meta_string(&ev, "changed_columns", changed);
			bh_event_meta_string(&ev, "patient_moved", "from");
			bh_queue_event(bh_event_build(&ev, NULL));
		}
		/* a read of the new version in this transaction names them too */
		if (tag->capture_reads && tag->patient_attnum != InvalidAttrNumber)
			bh_moved_note_update(tag, td->tg_relation, td->tg_trigtuple, td->tg_newtuple,
								 old_patient, patient);
	}
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(bh_audit_capture_truncate);

/*
 * Statement trigger: TRUNCATE is one DELETE event for the table.
 */
Datum
bh_audit_capture_truncate(PG_FUNCTION_ARGS)
{
	TriggerData *td;
	const BhTag *tag;

	bh_require_preload();
	td = bh_trigger_call(fcinfo, "bh_audit._capture_truncate()",
						 BH_TRIG_TRUNCATE, NULL, 0);
	bh_current_role_warm();
	bh_check_capture_trigger(td, BH_TRUNCATE_TRIGGER);

	if (!bh_capture_enabled)
		return PointerGetDatum(NULL);
	tag = bh_tag_lookup(RelationGetRelid(td->tg_relation));
	if (tag == NULL || !tag->capture_writes)
		return PointerGetDatum(NULL);

	bh_write_table_event(tag, bh_row_estimate(td->tg_relation->rd_rel), "DELETE", "TRUNCATE",
						 NULL, NULL);
	return PointerGetDatum(NULL);
}
