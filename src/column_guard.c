/*-------------------------------------------------------------------------
 *
 * column_guard.c
 *		The configuration guard's checks of columns: statements that change
 *		a tagged table's columns, or the values of a column in every row.
 *
 *	- renaming a tagged id or patient column: recorded, and the tag follows
 *	  the new name (config_guard.c, after the statement); changing its
 *	  type, directly, through a composite type it is of, or renaming a
 *	  value of the enum it is of: recorded;
 *	- converting or removing a column's values in every row of a tagged
 *	  table (ALTER COLUMN ... TYPE, DROP COLUMN, ALTER TYPE ... ADD/DROP
 *	  ATTRIBUTE of a column's composite type, ALTER TYPE ... RENAME VALUE
 *	  of its enum; the last two of a tagged materialized view's too): a
 *	  table-wide write event, recorded after the statement;
 *	- a column of a tagged table that is not temporary depending on an
 *	  object of a temporary schema (its type, a type it is built on, a
 *	  collation): refused, also as ALTER TYPE of a composite type it is
 *	  of, and when tagging or attaching under a tagged table
 *	  (config_guard.c's bh_check_under_tag()).
 *
 * config_guard.c calls these checks around each utility statement and from
 * its object access hook (a column dropped, however); column_guard.h is
 * what the two call of each other.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "bh_audit.h"
#include "capture.h"
#include "column_guard.h"
#include "id_text.h"
#include "tags.h"

static void bh_columns_of_type(Oid typid, List **relids, List **attnums, int depth);

/* Is collation collid one of a temporary schema? */
static bool
bh_collation_is_temp(Oid collid)
{
	HeapTuple	tp;
	bool		temp;

	if (!OidIsValid(collid) ||
		!HeapTupleIsValid(tp = SearchSysCache1(COLLOID, ObjectIdGetDatum(collid))))
		return false;
	temp = isAnyTempNamespace(((Form_pg_collation) GETSTRUCT(tp))->collnamespace);
	ReleaseSysCache(tp);
	return temp;
}

/*
 * Would a column of type typid and collation collid depend on an object of
 * a temporary schema, which PostgreSQL drops with it (the column, or an
 * attribute of its type)?  The type itself, or the type it is built on (an
 * array of it, a domain over it, a composite type or a range, or a
 * multirange of one, with an element of it), or the collation of the
 * column, of such a domain, of such a composite type's attribute or of
 * such a range.  *tempcoll is set to the temporary collation, if that is
 * what it depends on.
 */
static bool
bh_type_is_temp_depth(Oid typid, Oid collid, int depth, Oid *tempcoll)
{
	HeapTuple	tp;
	Form_pg_type t;
	bool		temp;
	Oid			inner = InvalidOid;
	Oid			inner_coll = InvalidOid;
	Oid			relid = InvalidOid;

	if (bh_collation_is_temp(collid))
	{
		*tempcoll = collid;
		return true;
	}
	tp = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tp))
		return false;
	t = (Form_pg_type) GETSTRUCT(tp);
	temp = isAnyTempNamespace(t->typnamespace);
	if (t->typtype == TYPTYPE_DOMAIN)
	{
		inner = t->typbasetype;
		inner_coll = t->typcollation;
	}
	else if (OidIsValid(t->typelem) && IsTrueArrayType(t))
		inner = t->typelem;
	else if (t->typtype == TYPTYPE_COMPOSITE)
		relid = t->typrelid;
	else if (t->typtype == TYPTYPE_RANGE)
	{
		inner = get_range_subtype(typid);
		inner_coll = get_range_collation(typid);
	}
	else if (t->typtype == TYPTYPE_MULTIRANGE)
		inner = get_multirange_range(typid);
	ReleaseSysCache(tp);
	/* a chain too long to follow is taken as reaching one: refused */
	if (temp || depth > 32)
		return true;
	if (OidIsValid(inner))
		return bh_type_is_temp_depth(inner, inner_coll, depth + 1, tempcoll);
	if (OidIsValid(relid))
	{
		Relation	rel = relation_open(relid, AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);
		int			i;

		for (i = 0; i < desc->natts && !temp; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped)
				temp = bh_type_is_temp_depth(att->atttypid, att->attcollation, depth + 1,
											 tempcoll);
		}
		relation_close(rel, AccessShareLock);
	}
	return temp;
}

bool
bh_column_is_temp(Oid typid, Oid collid, Oid *tempcoll)
{
	*tempcoll = InvalidOid;
	return bh_type_is_temp_depth(typid, collid, 0, tempcoll);
}

/*
 * The error for a column colname of a tagged (or to be tagged) table,
 * not a temporary one, of type typid that depends on an object of a
 * temporary schema (bh_column_is_temp(): a type, or collation tempcoll):
 * PostgreSQL drops the column (or the attribute of its type) with the
 * object when the session ends, outside any statement, and its values
 * with it (a tagged id or patient column could not be dropped at all: the
 * session's temporary objects would stay behind).
 */
void
bh_refuse_temp_type(const char *table, const char *colname, Oid typid, Oid tempcoll)
{
	if (OidIsValid(tempcoll))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("column \"%s\" of tagged table \"%s\" cannot depend on temporary collation %s",
						colname, table, get_collation_name(tempcoll)),
				 errdetail("PostgreSQL drops the column, or the attribute of its type, with the collation when the session ends, and its values with it, without an event.")));
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("column \"%s\" of tagged table \"%s\" cannot be of temporary type %s",
					colname, table, format_type_be(typid)),
			 errdetail("PostgreSQL drops the column, or the attribute of its type, with the type when the session ends, and its values with it, without an event.")));
}

/* Which tagged column of a directly tagged table is colname: "id", "patient" or NULL. */
static const char *
bh_tagged_column(Oid relid, const char *colname)
{
	const BhTag *tag = bh_tag_lookup(relid);

	if (tag == NULL || tag->tagged_relid != relid || colname == NULL)
		return NULL;
	if (strcmp(colname, tag->id_column) == 0)
		return "id";
	if (tag->patient_column && strcmp(colname, tag->patient_column) == 0)
		return "patient";
	return NULL;
}

/* The typed tables of composite type typid (CREATE TABLE ... OF). */
static List *
bh_typed_tables(Oid typid)
{
	Relation	rel = table_open(RelationRelationId, AccessShareLock);
	ScanKeyData key;
	TableScanDesc scan;
	HeapTuple	tuple;
	List	   *tables = NIL;

	ScanKeyInit(&key, Anum_pg_class_reloftype, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(typid));
	scan = table_beginscan_catalog(rel, 1, &key);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
		tables = lappend_oid(tables, ((Form_pg_class) GETSTRUCT(tuple))->oid);
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	return tables;
}

/*
 * The relations an ALTER TABLE of rv reaches: it and, unless ONLY, its
 * partitions and inheritance children (a rename or a type change of a
 * column recurses to them; a tagged partition under an untagged parent is
 * reached that way).  For ALTER TYPE ... CASCADE (rv names a composite
 * type), the typed tables of the type and theirs.
 */
static List *
bh_reached_relations(RangeVar *rv)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);
	List	   *result = NIL;
	ListCell   *lc;

	if (!OidIsValid(relid))
		return NIL;
	if (get_rel_relkind(relid) != RELKIND_COMPOSITE_TYPE)
		return rv->inh ? find_all_inheritors(relid, NoLock, NULL) : list_make1_oid(relid);
	foreach(lc, bh_typed_tables(get_rel_type_id(relid)))
		result = list_concat(result, find_all_inheritors(lfirst_oid(lc), NoLock, NULL));
	return result;
}

/*
 * A change ("renamed", "type_changed") of column colname by a statement
 * that reaches the relations reached (bh_reached_relations): recorded for
 * each tagged table among them whose id or patient column that is
 * (tagged_id_column_renamed, ..., naming the column, and new_name for a
 * rename); returns those tables.
 */
static List *
bh_tagged_column_change(List *reached, const char *colname, const char *change,
						const char *new_name)
{
	List	   *changed = NIL;
	ListCell   *lc;

	foreach(lc, reached)
	{
		Oid			relid = lfirst_oid(lc);
		const char *which = bh_tagged_column(relid, colname);

		if (which == NULL)
			continue;
		bh_tag_column_event(relid, psprintf("tagged_%s_column_%s", which, change),
							colname, new_name);
		changed = lappend_oid(changed, relid);
	}
	return changed;
}

/*
 * The columns whose values a utility statement converts or removes in
 * every row of one table, and the table's row estimate from before.
 */
typedef struct BhValuesChange
{
	Oid			relid;
	double		rows;			/* bh_row_estimate() */
	StringInfoData retyped;		/* ALTER COLUMN ... TYPE */
	StringInfoData dropped;		/* columns dropped, however */
} BhValuesChange;

/*
 * Add colname to the columns of relid that g's statement converts (drop
 * false) or removes (drop true), in g's memory context.
 */
void
bh_values_change_add(BhGuardUtility *g, Oid relid, const char *colname, bool drop)
{
	MemoryContext old = MemoryContextSwitchTo(g->cxt);
	BhValuesChange *c = NULL;
	StringInfo	buf;
	ListCell   *lc;

	foreach(lc, g->values_changes)
		if (((BhValuesChange *) lfirst(lc))->relid == relid)
			c = (BhValuesChange *) lfirst(lc);
	if (c == NULL)
	{
		c = palloc0(sizeof(BhValuesChange));
		c->relid = relid;
		c->rows = bh_rel_row_estimate(relid);
		initStringInfo(&c->retyped);
		initStringInfo(&c->dropped);
		g->values_changes = lappend(g->values_changes, c);
	}
	buf = drop ? &c->dropped : &c->retyped;
	appendStringInfo(buf, "%s%s", buf->len > 0 ? "," : "", bh_name_text(colname));
	MemoryContextSwitchTo(old);
}

/*
 * After the statement: one table-wide UPDATE event (bh_write_table_event)
 * for each table whose columns' values it converted or removed, if the
 * table is still there (a statement that drops a whole table records that
 * instead) and its writes are captured.
 */
void
bh_values_changes_record(Node *parsetree, BhGuardUtility *g)
{
	ListCell   *lc;

	foreach(lc, g->values_changes)
	{
		BhValuesChange *c = (BhValuesChange *) lfirst(lc);
		const BhTag *tag = bh_tag_lookup(c->relid);

		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(c->relid)) ||
			tag == NULL || !tag->capture_writes)
			continue;
		bh_write_table_event(tag, c->rows, "UPDATE", CreateCommandName(parsetree),
							 c->retyped.len > 0 ? c->retyped.data : NULL,
							 c->dropped.len > 0 ? c->dropped.data : NULL);
	}
}

/*
 * ADD COLUMN or ALTER COLUMN ... TYPE (ALTER TYPE ... ADD | ALTER
 * ATTRIBUTE) whose column would depend on an object of a temporary schema
 * (bh_column_is_temp(): its type or its collation, or one its type is
 * built on), reaching a tagged table that is not temporary, named or
 * reached through a parent or as a typed table, or changing the row type
 * a column of one is of (or is built on, bh_columns_of_type()): refused
 * (bh_refuse_temp_type()).  Not ADD COLUMN IF NOT EXISTS of a column the
 * table has: PostgreSQL skips it (with a NOTICE), adding nothing anywhere.
 */
static void
bh_check_temp_column(RangeVar *rv, AlterTableCmd *cmd)
{
	ColumnDef  *def = (ColumnDef *) cmd->def;
	Type		type;
	Oid			typid;
	Oid			collid;
	Oid			tempcoll;
	Oid			relid;
	List	   *relids = NIL;
	List	   *attnums = NIL;
	ListCell   *lc;
	ListCell   *a;

	if (def == NULL || !IsA(def, ColumnDef) || def->typeName == NULL ||
		(type = LookupTypeName(NULL, def->typeName, NULL, true)) == NULL)
		return;
	typid = typeTypeId(type);
	ReleaseSysCache(type);

	/* ADD COLUMN IF NOT EXISTS of a column there: PostgreSQL skips it all */
	relid = RangeVarGetRelid(rv, NoLock, true);
	if (cmd->subtype == AT_AddColumn && cmd->missing_ok && OidIsValid(relid) &&
		def->colname != NULL && get_attnum(relid, def->colname) != InvalidAttrNumber)
		return;
	collid = def->collClause ? get_collation_oid(def->collClause->collname, true) : def->collOid;
	if (!bh_column_is_temp(typid, collid, &tempcoll))
		return;
	foreach(lc, bh_reached_relations(rv))
	{
		relid = lfirst_oid(lc);
		if (get_rel_persistence(relid) != RELPERSISTENCE_TEMP && bh_tag_lookup(relid) != NULL)
			bh_refuse_temp_type(get_rel_name(relid), def->colname ? def->colname : cmd->name,
								typid, tempcoll);
	}
	relid = RangeVarGetRelid(rv, NoLock, true);
	if (!OidIsValid(relid) || !OidIsValid(get_rel_type_id(relid)))
		return;
	bh_columns_of_type(get_rel_type_id(relid), &relids, &attnums, 0);
	forboth(lc, relids, a, attnums)
	{
		relid = lfirst_oid(lc);
		if (get_rel_persistence(relid) != RELPERSISTENCE_TEMP && bh_tag_lookup(relid) != NULL)
			bh_refuse_temp_type(get_rel_name(relid),
								get_attname(relid, (AttrNumber) lfirst_int(a), false),
								get_atttype(relid, (AttrNumber) lfirst_int(a)), tempcoll);
	}
}

/*
 * The type changes of an ALTER TABLE (or ALTER TYPE ... CASCADE), each
 * subcommand's relations looked up once:
 *	- a type change of a tagged id or patient column, in any table it
 *	  reaches (partitions, children, typed tables): recorded
 *	  (bh_tagged_column_change);
 *	- ALTER COLUMN ... TYPE converts the column's values in every row, a
 *	  write, whether or not PostgreSQL rewrites the table for it: noted
 *	  for each tagged table with rows it reaches (each partition; a
 *	  partitioned table holds none), recorded after the statement with the
 *	  columns it drops (bh_note_dropped_column());
 *	- ALTER TYPE ... ADD ATTRIBUTE of a composite type changes the values
 *	  of the columns of that type (bh_composite_changed(); a dropped
 *	  attribute is seen by the object access hook).
 */
void
bh_check_column_changes(AlterTableStmt *stmt, BhGuardUtility *g)
{
	bool		writes = bh_capture_enabled && bh_tags_any();
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		List	   *reached;
		ListCell   *lc2;

		if (cmd->subtype == AT_AddColumn || cmd->subtype == AT_AlterColumnType)
			bh_check_temp_column(stmt->relation, cmd);
		if (cmd->subtype == AT_AddColumn)
		{
			/*
			 * ALTER TYPE ... ADD ATTRIBUTE, or ADD COLUMN to a table whose
			 * row type is a column's type (a drop: bh_object_access())
			 */
			Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);

			if (OidIsValid(relid))
				bh_composite_changed(relid, g);
			continue;
		}
		if (cmd->name == NULL || cmd->subtype != AT_AlterColumnType)
			continue;
		reached = bh_reached_relations(stmt->relation);
		(void) bh_tagged_column_change(reached, cmd->name, "type_changed", NULL);
		if (!writes)
			continue;
		foreach(lc2, reached)
		{
			Oid			relid = lfirst_oid(lc2);

			if (get_rel_relkind(relid) == RELKIND_RELATION &&
				bh_tag_lookup(relid) != NULL &&
				get_attnum(relid, cmd->name) != InvalidAttrNumber)
				bh_values_change_add(g, relid, cmd->name, false);
		}
	}
}

/*
 * The columns of type typid, of an array of it, of a domain over it or of
 * a composite type with an attribute of it (pg_depend: a column depends on
 * its type, an array type or a domain on its element or base type, a
 * composite type's attribute on its type), appended to *relids and
 * *attnums, in pairs.
 */
static void
bh_columns_of_type(Oid typid, List **relids, List **attnums, int depth)
{
	Relation	dep = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *types = NIL;
	ListCell   *lc;

	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(TypeRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(typid));
	scan = systable_beginscan(dep, DependReferenceIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);

		if (d->classid == RelationRelationId && d->objsubid > 0)
		{
			Oid			rowtype = get_rel_type_id(d->objid);

			/* a table's column (not a composite type's attribute) */
			if (get_rel_relkind(d->objid) != RELKIND_COMPOSITE_TYPE)
			{
				*relids = lappend_oid(*relids, d->objid);
				*attnums = lappend_int(*attnums, d->objsubid);
			}
			/* and the columns of its row type change with it */
			if (OidIsValid(rowtype) && depth < 32)
				types = lappend_oid(types, rowtype);
		}
		else if (d->classid == TypeRelationId && depth < 32)
			types = lappend_oid(types, d->objid);
	}
	systable_endscan(scan);
	table_close(dep, AccessShareLock);
	foreach(lc, types)
		bh_columns_of_type(lfirst_oid(lc), relids, attnums, depth + 1);
}

/*
 * The attributes of composite type composite_relid change (added, or
 * dropped: by ALTER TYPE, or with a type dropped with CASCADE): so do the
 * values of every column of the type, in every row.  For each tagged
 * table (or materialized view) with such a column: a tagged id or
 * patient column's is recorded as a change of its type
 * (tagged_patient_column_type_changed); the change of the rows' values is
 * noted for g's statement, which records it after it ran (unless the
 * table's writes are not captured); with no statement (g NULL: an
 * attribute dropped with the session's temporary objects at its end),
 * recorded at once, statement "session end".
 */
void
bh_composite_changed(Oid composite_relid, BhGuardUtility *g)
{
	List	   *relids = NIL;
	List	   *attnums = NIL;
	ListCell   *r;
	ListCell   *a;

	bh_columns_of_type(get_rel_type_id(composite_relid), &relids, &attnums, 0);
	forboth(r, relids, a, attnums)
	{
		Oid			relid = lfirst_oid(r);
		const BhTag *tag = bh_tag_lookup(relid);
		const char *colname;

		if (tag == NULL)
			continue;
		colname = get_attname(relid, (AttrNumber) lfirst_int(a), false);
		(void) bh_tagged_column_change(list_make1_oid(relid), colname, "type_changed", NULL);
		/* a table's rows or a materialized view's (not a partitioned table's) */
		if (!bh_capture_enabled || !tag->capture_writes ||
			(get_rel_relkind(relid) != RELKIND_RELATION &&
			 get_rel_relkind(relid) != RELKIND_MATVIEW))
			continue;
		if (g != NULL)
			bh_values_change_add(g, relid, colname, false);
		else
			bh_write_table_event(tag, bh_rel_row_estimate(relid), "UPDATE", "session end",
								 bh_name_text(colname), NULL);
	}
}

/*
 * ALTER TYPE ... RENAME VALUE of an enum: every row holding the old label
 * now holds the new one, in every column of the type (or of an array of it,
 * of a domain over it, of a composite type with an attribute of it).  For
 * each tagged table (or materialized view) with such a column: a tagged
 * id or patient column's is recorded as a change of that column
 * (tagged_patient_column_value_renamed, bh_tagged_column_change()); the
 * rows' values change, a write (unless its writes are not captured): for a
 * patient column of the enum (or a domain over it), whose labels are the
 * patients, the two events of a move from the old patient to the new one;
 * otherwise (other columns, an array of the enum, a composite type with an
 * attribute of it), one UPDATE event naming them.  Queued in the statement's transaction, before it runs.
 */
void
bh_check_enum_rename(AlterEnumStmt *stmt)
{
	TypeName   *tn = makeTypeNameFromNameList(stmt->typeName);
	Type		type = LookupTypeName(NULL, tn, NULL, true);
	Oid			typid;
	List	   *relids = NIL;
	List	   *attnums = NIL;
	List	   *tables = NIL;
	ListCell   *lc;

	if (type == NULL)
		return;
	typid = typeTypeId(type);
	ReleaseSysCache(type);
	if (get_typtype(typid) != TYPTYPE_ENUM)
		return;
	bh_columns_of_type(typid, &relids, &attnums, 0);

	/* the tables, once each, in the order found */
	foreach(lc, relids)
		tables = list_append_unique_oid(tables, lfirst_oid(lc));
	foreach(lc, tables)
	{
		Oid			relid = lfirst_oid(lc);
		const BhTag *tag = bh_tag_lookup(relid);
		AttrNumber	patient_attnum;
		StringInfoData changed;
		bool		patient = false;
		ListCell   *r;
		ListCell   *a;

		if (tag == NULL)
			continue;
		/* the columns' checks below look tags up: tag not kept (tag_cache.c) */
		patient_attnum = tag->patient_attnum;
		initStringInfo(&changed);
		forboth(r, relids, a, attnums)
		{
			AttrNumber	attnum = (AttrNumber) lfirst_int(a);
			const char *colname;

			if (lfirst_oid(r) != relid)
				continue;
			colname = get_attname(relid, attnum, false);
			(void) bh_tagged_column_change(list_make1_oid(relid), colname, "value_renamed", NULL);
			/* a move from label to label: the patient column is of the enum (or a domain over it) */
			patient |= (attnum == patient_attnum &&
						getBaseType(get_atttype(relid, attnum)) == typid);
			appendStringInfo(&changed, "%s%s", changed.len > 0 ? "," : "", colname);
		}
		if (!bh_capture_enabled ||
			(get_rel_relkind(relid) != RELKIND_RELATION &&
			 get_rel_relkind(relid) != RELKIND_MATVIEW) ||
			(tag = bh_tag_lookup(relid)) == NULL || !tag->capture_writes)
			continue;
		if (patient)
			bh_write_table_patient_move(tag, bh_rel_row_estimate(relid), "ALTER TYPE", changed.data,
										stmt->oldVal, stmt->newVal);
		else
			bh_write_table_event(tag, bh_rel_row_estimate(relid), "UPDATE", "ALTER TYPE",
								 changed.data, NULL);
	}
}

/*
 * ALTER TABLE ... RENAME COLUMN of a tagged column, of the table named or
 * of a tagged table the rename recurses to: recorded before; the caller
 * follows the rename after it happened (*renamed_relids).
 */
void
bh_check_column_rename(RenameStmt *stmt, List **renamed_relids)
{
	if ((stmt->renameType == OBJECT_COLUMN || stmt->renameType == OBJECT_ATTRIBUTE) &&
		stmt->relation != NULL)
		*renamed_relids = bh_tagged_column_change(bh_reached_relations(stmt->relation),
												  stmt->subname, "renamed", stmt->newname);
}
