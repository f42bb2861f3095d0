/*-------------------------------------------------------------------------
 *
 * tags.c
 *		Tagging PHI tables: tag_table(), untag_table(), and the events that
 *		record changes of tagging.
 *
 * bh_audit.tags names the table (regclass, so pg_dump restores it by name)
 * and its id and patient columns by NAME: a restore renumbers columns, and
 * config_guard.c follows renames.  The backend-local cache of it that
 * capture asks is tag_cache.c's; the changes here reach it, in every
 * backend, by invalidation (bh_tags_changed).
 * tag_table() and untag_table() lock the table, then the schema object of
 * each table of its tree (for ALTER SCHEMA ... RENAME), before they look at
 * the catalog, and look again (the table, its name, the tagging as
 * committed and as the transaction's snapshot sees it) once the locks are
 * granted.  An untagging that waited with the weaker mode of a table
 * without capture triggers, which gained some meanwhile, fails rather than
 * raise its lock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "storage/sinvaladt.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "bh_audit.h"
#include "capture.h"
#include "event.h"
#include "recode.h"
#include "tag_cache.h"
#include "tags.h"

/*
 * Only superusers and members of bh_audit_admin change tagging (a role
 * granted EXECUTE on the function is refused here): the refusal is a
 * DENIED event, as the executor's refusal of the call would be.  A
 * change of tagging writes the catalog and creates or drops triggers: in
 * a read-only transaction, or on a standby, it is refused as PostgreSQL
 * refuses a write there, before any of its statements runs.
 */
static void
bh_check_may_tag(const char *function, const char *what)
{
	Oid			admin = get_role_oid("bh_audit_admin", true);
	char	   *call;

	if (!superuser() && !(OidIsValid(admin) && has_privs_of_role(GetUserId(), admin)))
	{
		bh_push_own_refusal(function, psprintf("permission denied to %s", what));
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", what),
				 errhint("Only superusers and members of bh_audit_admin may tag or untag tables.")));
	}
	call = psprintf("bh_audit.%s()", function);
	PreventCommandDuringRecovery(call);
	PreventCommandIfReadOnly(call);
}

/*
 * Run utility SQL as the bootstrap superuser, marked as our own DDL: a
 * subcommand, for which no event trigger fires (bh_utility_internal).
 */
static void
bh_run_internal(const char *sql)
{
	bool		outer = bh_tags_internal_ddl;

	bh_tags_internal_ddl = true;
	PG_TRY();
	{
		bh_utility_internal(sql);
	}
	PG_FINALLY();
	{
		bh_tags_internal_ddl = outer;
	}
	PG_END_TRY();
}

/* Start the AuditConfiguration event of a change to table (config_guard.c too). */
void
bh_tag_event_init(BhEvent *ev, const char *action, const char *change, const char *table)
{
	bh_config_event_init(ev, action, table, change);
	bh_event_meta_string(ev, "table", table);
}

/*
 * Queue the AuditConfiguration event of a tagging change; returns it.  The
 * columns are named as every event names a column (bh_name_text()), as a
 * later rename of one names it (bh_tag_column_event()): the chain follows
 * a column from its tagging through its renames by that name.
 */
static Jsonb *
bh_tag_event(const char *action, const char *change, const char *table,
			 BhTagRow *row)
{
	BhEvent		ev;
	Jsonb	   *event;

	bh_tag_event_init(&ev, action, change, table);
	if (row)
	{
		bh_event_meta_string(&ev, "tag_resource_type", row->resource_type);
		bh_event_meta_string(&ev, "id_column", bh_name_text(row->id_column));
		if (row->patient_column)
			bh_event_meta_string(&ev, "patient_column", bh_name_text(row->patient_column));
		bh_event_meta_string(&ev, "classification", row->classification);
		bh_event_meta_bool(&ev, "part2", row->part2);
		bh_event_meta_bool(&ev, "capture_reads", row->capture_reads);
		bh_event_meta_bool(&ev, "capture_writes", row->capture_writes);
	}
	event = bh_event_build(&ev, NULL);
	bh_queue_event(event);
	return event;
}

/* Record a configuration change of a tagged table (config_guard.c). */
void
bh_tag_config_event(const char *action, const char *change, Oid relid)
{
	(void) bh_tag_event(action, change, bh_table_name(relid), NULL);
}

/*
 * Record a change of a tagged table's id or patient column (config_guard.c):
 * the column, as the statement names it, and for a rename its new name, so
 * that the chain shows which column the tag reads from then on.
 */
void
bh_tag_column_event(Oid relid, const char *change, const char *column,
					const char *new_column)
{
	BhEvent		ev;

	bh_tag_event_init(&ev, "UPDATE", change, bh_table_name(relid));
	bh_event_meta_string(&ev, "column", bh_name_text(column));
	if (new_column)
		bh_event_meta_string(&ev, "new_column", bh_name_text(new_column));
	bh_queue_event(bh_event_build(&ev, NULL));
}

/*
 * Record a tagged table's new name (config_guard.c): RENAME or SET SCHEMA,
 * so that access review can follow the table from its events' old name to
 * the new one.  Before the rename, old_schema is NULL (the table's name is
 * its old one) and new_schema or new_name what changes; after it (ALTER
 * EXTENSION ... SET SCHEMA), old_schema is the schema it left and the
 * table's name is its new one.
 */
void
bh_tag_renamed_event(Oid relid, const char *old_schema, const char *new_schema,
					 const char *new_name)
{
	BhEvent		ev;

	bh_tag_event_init(&ev, "UPDATE", "tagged_table_renamed",
					  old_schema ? bh_qualified_name_text(old_schema, get_rel_name(relid)) :
					  bh_table_name(relid));
	bh_event_meta_string(&ev, "new_table",
						 bh_qualified_name_text(new_schema ? new_schema :
												get_namespace_name(get_rel_namespace(relid)),
												new_name ? new_name : get_rel_name(relid)));
	bh_queue_event(bh_event_build(&ev, NULL));
}

/*
 * Record a partition of a tagged table leaving it (config_guard.c):
 * detached, its rows are no longer captured; dropped, they are gone; or
 * joining it (attached, bh_tag_attached_partition).  The event names the
 * tagged table and the partition, with the partition's row estimate where
 * it was analyzed (as TRUNCATE's event does); cleaned: dropped with the
 * temporary objects a crashed session left behind, the server's doing
 * (bh_event_temp_cleanup(), as bh_tag_dropped_event()).
 */
Jsonb *
bh_tag_partition_event(const char *action, const char *change, Oid tagged_relid,
					   Oid partition, const BhTempCleanup *cleaned)
{
	BhEvent		ev;
	HeapTuple	tp;
	Jsonb	   *event;

	bh_tag_event_init(&ev, action, change, bh_table_name(tagged_relid));
	if (cleaned != NULL)
		bh_event_temp_cleanup(&ev, cleaned);
	bh_event_meta_string(&ev, "partition", bh_table_name(partition));
	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(partition));
	if (HeapTupleIsValid(tp))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tp);

		if (form->relkind == RELKIND_RELATION && form->reltuples >= 0)
			bh_event_meta_int(&ev, "row_count_estimate", (int64) form->reltuples);
		ReleaseSysCache(tp);
	}
	event = bh_event_build(&ev, NULL);
	bh_queue_event(event);
	return event;
}

/* Create the capture triggers on a table and, for TRUNCATE, its partitions. */
static void
bh_create_triggers(Oid relid)
{
	List	   *rels = bh_partition_tree(relid);
	ListCell   *lc;
	char	   *q = bh_table_name(relid);

	bh_run_internal(psprintf("CREATE TRIGGER " BH_ROW_TRIGGER
							 " AFTER INSERT OR UPDATE OR DELETE ON %s"
							 " FOR EACH ROW EXECUTE FUNCTION bh_audit._capture_row()", q));
	bh_run_internal(psprintf("ALTER TABLE %s ENABLE ALWAYS TRIGGER " BH_ROW_TRIGGER, q));
	foreach(lc, rels)
	{
		char	   *p = bh_table_name(lfirst_oid(lc));

		bh_run_internal(psprintf("CREATE TRIGGER " BH_TRUNCATE_TRIGGER
								 " BEFORE TRUNCATE ON %s"
								 " FOR EACH STATEMENT EXECUTE FUNCTION bh_audit._capture_truncate()", p));
		bh_run_internal(psprintf("ALTER TABLE %s ENABLE ALWAYS TRIGGER " BH_TRUNCATE_TRIGGER, p));
	}
}

/*
 * Has relid a capture trigger of its own (the row trigger, or the TRUNCATE
 * one), whose DROP TRIGGER locks it ACCESS EXCLUSIVE?
 */
bool
bh_has_capture_trigger(Oid relid)
{
	return OidIsValid(get_trigger_oid(relid, BH_ROW_TRIGGER, true)) ||
		OidIsValid(get_trigger_oid(relid, BH_TRUNCATE_TRIGGER, true));
}

/* Drop the capture triggers of a table and its partitions, where present. */
static void
bh_drop_triggers(Oid relid)
{
	List	   *rels = bh_partition_tree(relid);
	ListCell   *lc;

	if (OidIsValid(get_trigger_oid(relid, BH_ROW_TRIGGER, true)))
		bh_run_internal(psprintf("DROP TRIGGER " BH_ROW_TRIGGER " ON %s",
								 bh_table_name(relid)));
	foreach(lc, rels)
	{
		if (OidIsValid(get_trigger_oid(lfirst_oid(lc), BH_TRUNCATE_TRIGGER, true)))
			bh_run_internal(psprintf("DROP TRIGGER " BH_TRUNCATE_TRIGGER " ON %s",
									 bh_table_name(lfirst_oid(lc))));
	}
}

/*
 * Add the TRUNCATE trigger to a new partition of a tagged table, and to
 * every partition under it: a partitioned table attached brings its own,
 * at any depth (row triggers are cloned to them by PostgreSQL).
 */
void
bh_tag_new_partition(Oid relid)
{
	const BhTag *tag = bh_tag_lookup(relid);
	List	   *rels;
	ListCell   *lc;

	if (tag == NULL || !tag->capture_writes || tag->tagged_relid == relid)
		return;
	rels = bh_partition_tree(relid);
	foreach(lc, rels)
	{
		char	   *q = bh_table_name(lfirst_oid(lc));

		/*
		 * One of that name that a table brought along (created before it was
		 * attached) is not trusted: it may call anything, or fire never.
		 */
		if (OidIsValid(get_trigger_oid(lfirst_oid(lc), BH_TRUNCATE_TRIGGER, true)))
			bh_run_internal(psprintf("DROP TRIGGER " BH_TRUNCATE_TRIGGER " ON %s", q));
		bh_run_internal(psprintf("CREATE TRIGGER " BH_TRUNCATE_TRIGGER
								 " BEFORE TRUNCATE ON %s"
								 " FOR EACH STATEMENT EXECUTE FUNCTION bh_audit._capture_truncate(); "
								 "ALTER TABLE %s ENABLE ALWAYS TRIGGER " BH_TRUNCATE_TRIGGER,
								 q, q));
	}
	list_free(rels);
}

/*
 * Record a table joining a tagged table by ATTACH PARTITION (config_guard.c),
 * after it did: the counterpart of partition_detached, one event for each
 * table holding rows that it brings (itself, or every leaf of a partitioned
 * table, at any depth), naming it, with its row estimate where it was
 * analyzed.  Its rows are captured from now on; they were written unseen.
 */
void
bh_tag_attached_partition(Oid relid)
{
	const BhTag *tag = bh_tag_lookup(relid);
	List	   *rels;
	ListCell   *lc;

	if (tag == NULL || tag->tagged_relid == relid)
		return;
	rels = bh_partition_tree(relid);
	foreach(lc, rels)
	{
		if (get_rel_relkind(lfirst_oid(lc)) != RELKIND_PARTITIONED_TABLE)
			bh_tag_partition_event("UPDATE", "partition_attached", tag->tagged_relid,
								   lfirst_oid(lc), NULL);
	}
	list_free(rels);
}

/*
 * After DETACH PARTITION: the detached table and its own partitions, no
 * longer under a tagged parent, keep no capture trigger (PostgreSQL removes
 * the cloned row triggers; the TRUNCATE triggers are the extension's), so
 * that they can be tagged on their own.
 */
void
bh_tag_detached_partition(Oid relid)
{
	List	   *rels = bh_partition_tree(relid);
	ListCell   *lc;

	foreach(lc, rels)
	{
		Oid			rel = lfirst_oid(lc);

		if (bh_tag_lookup(rel) != NULL ||
			!OidIsValid(get_trigger_oid(rel, BH_TRUNCATE_TRIGGER, true)))
			continue;
		bh_run_internal(psprintf("DROP TRIGGER " BH_TRUNCATE_TRIGGER " ON %s", bh_table_name(rel)));
	}
}

/* The name argument n, or NULL. */
static char *
bh_name_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : pstrdup(NameStr(*PG_GETARG_NAME(n)));
}

/* A column of relid that must exist: its name, or an error naming both. */
static void
bh_check_column(Oid relid, const char *column, const char *role)
{
	AttrNumber	attnum = get_attnum(relid, column);

	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						column, get_rel_name(relid)),
				 errdetail("It was given as the %s column.", role)));
	/* ctid, xmin, ... change with every row version, tableoid is every row's */
	if (attnum < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column \"%s\" of relation \"%s\" is a system column", column,
						get_rel_name(relid)),
				 errdetail("It was given as the %s column; a system column does not name the record or the patient.",
						   role)));
}

/* Refuse a relation OID that names no relation (a regclass argument given as a number). */
static void
bh_check_relation_exists(Oid relid)
{
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
}

/*
 * Lock the schema object of each of relids, ROW EXCLUSIVE, which the
 * configuration guard's lock for ALTER SCHEMA ... RENAME (ACCESS
 * EXCLUSIVE, bh_lock_schema_renamed()) conflicts with: a rename and a
 * tagging or untagging of one of the schema's tables (or partitions) wait
 * for each other, so that the rename is recorded for the tagging as
 * committed, and the tagging names the table by the schema's name as
 * committed.  Taggings do not wait for each other, nor for the creation of
 * an object in the schema (ACCESS SHARE).  Taken without waiting: the
 * first schema whose lock is not free is returned, those of this call
 * released; InvalidOid once all are held.
 */
static Oid
bh_tag_lock_schemas(List *relids)
{
	List	   *locked = NIL;
	ListCell   *lc;
	ListCell   *lc2;

	foreach(lc, relids)
	{
		Oid			nspid = get_rel_namespace(lfirst_oid(lc));

		if (!OidIsValid(nspid) || list_member_oid(locked, nspid))
			continue;
		if (!ConditionalLockDatabaseObject(NamespaceRelationId, nspid, 0, RowExclusiveLock))
		{
			foreach(lc2, locked)
				UnlockDatabaseObject(NamespaceRelationId, lfirst_oid(lc2), 0, RowExclusiveLock);
			return nspid;
		}
		locked = lappend_oid(locked, nspid);
	}
	return InvalidOid;
}

/*
 * Before fn waits for locktag in mode: a transaction holding it in a mode
 * that conflicts, which itself waits for a lock this transaction holds,
 * would never let it go (a DROP SCHEMA ... CASCADE waiting for a table this
 * transaction wrote to, holding the schema; an ALTER SCHEMA ... RENAME
 * waiting for the schema's lock this transaction took for an earlier
 * tagging, holding the table).  fn fails then, at once, as the deadlock
 * detector would fail one of the two only deadlock_timeout later, and not
 * always fn.
 */
static void
bh_tag_check_deadlock(const LOCKTAG *locktag, LOCKMODE mode, const char *fn)
{
	VirtualTransactionId *holders = GetLockConflicts(locktag, mode, NULL);

	for (; VirtualTransactionIdIsValid(*holders); holders++)
	{
		PGPROC	   *proc = BackendIdGetProc(holders->backendId);
		int			pid = proc != NULL ? proc->pid : 0;
		Datum	   *blockers;
		int			n;
		int			i;

		if (pid == 0)			/* ended, or a prepared transaction */
			continue;
		deconstruct_array(DatumGetArrayTypeP(DirectFunctionCall1(pg_blocking_pids,
																 Int32GetDatum(pid))),
						  INT4OID, sizeof(int32), true, TYPALIGN_INT,
						  &blockers, NULL, &n);
		for (i = 0; i < n; i++)
			if (DatumGetInt32(blockers[i]) == MyProcPid)
				ereport(ERROR,
						(errcode(ERRCODE_T_R_DEADLOCK_DETECTED),
						 errmsg("deadlock detected"),
						 errdetail("Process %d holds a lock %s() needs and waits for a lock this transaction holds.",
								   pid, fn),
						 errhint("Retry the transaction.")));
	}
}

/*
 * Lock relid, in the mode fn (tag_table or untag_table) needs for its
 * triggers, before anything is looked at, with (partitions) its partitions
 * at every level in that mode, then the schema objects of the tree
 * (bh_tag_lock_schemas()): two taggings of one table wait for each other,
 * and a table dropped meanwhile is reported by the name it had (the OID
 * then names nothing; the locks themselves do not fail).  Taking the lock
 * accepts the invalidations of what committed during the wait (the dropped
 * table's, the tag catalog's), as PostgreSQL's own DDL looks its relation
 * up again after locking it.
 *
 * No schema lock is held while a table's is awaited, nor a table's this
 * call took while a schema's is: DROP SCHEMA and ALTER SCHEMA ... RENAME
 * lock the schema first, and the transaction doing one may hold, or wait
 * for, the table (a migration that wrote to it, then renames or drops its
 * schema).  So a schema whose lock is not free is waited for with the
 * tables of this call released (a DROP SCHEMA ... CASCADE waiting for them
 * goes on), then let go, and everything is taken again, looked at anew:
 * the table may have been dropped meanwhile, or moved, or its schema
 * renamed.
 */
static void
bh_tag_lock_relation(Oid relid, LOCKMODE mode, bool partitions, const char *fn)
{
	char	   *name = NULL;

	for (;;)
	{
		char	   *now = bh_table_name_if_exists(relid);
		List	   *tree = NIL;
		Oid			busy;
		LOCKTAG		tag;
		ListCell   *lc;

		/* a table dropped while a schema's lock was awaited: its name then */
		if (now != NULL)
			name = now;
		if (!ConditionalLockRelationOid(relid, mode))
		{
			SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
			bh_tag_check_deadlock(&tag, mode, fn);
			LockRelationOid(relid, mode);
		}
		if (name == NULL)
			bh_check_relation_exists(relid);
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation \"%s\" does not exist", name),
					 errdetail("It was dropped while %s() waited for its lock.", fn)));
		if (partitions && get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
			tree = find_all_inheritors(relid, mode, NULL);
		busy = bh_tag_lock_schemas(bh_partition_tree(relid));
		if (!OidIsValid(busy))
			return;
		/* the partitions find_all_inheritors() locked, then relid */
		foreach(lc, tree)
			if (lfirst_oid(lc) != relid)
			UnlockRelationOid(lfirst_oid(lc), mode);
		UnlockRelationOid(relid, mode);
		SET_LOCKTAG_OBJECT(tag, MyDatabaseId, NamespaceRelationId, busy, 0);
		bh_tag_check_deadlock(&tag, RowExclusiveLock, fn);
		LockDatabaseObject(NamespaceRelationId, busy, 0, RowExclusiveLock);
		UnlockDatabaseObject(NamespaceRelationId, busy, 0, RowExclusiveLock);
	}
}

/*
 * The catalog row of relid once it is locked: the tagging as last
 * committed (the cache), which must also be what the transaction's
 * snapshot sees, where the catalog row is inserted or deleted.  In READ
 * COMMITTED each SPI query takes a new snapshot, taken after the lock: they
 * agree.  In REPEATABLE READ or SERIALIZABLE a tagging committed after the
 * transaction's snapshot is one the catalog change would not see (a tag
 * row not deleted, or one inserted over it): a serialization failure, to
 * be retried, as PostgreSQL reports an update of a row changed since.
 */
static BhTagRow *
bh_tag_row_locked(Oid relid, const char *table)
{
	BhTagRow   *row;
	bool		in_snapshot;
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};

	bh_tags_ensure();
	row = bh_tag_row(relid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (bh_spi_internal(psprintf("SELECT 1 FROM %s WHERE tbl = $1", bh_tags_catalog_name()),
						1, argtypes, values, NULL, false) != SPI_OK_SELECT)
		elog(ERROR, "could not read bh_audit.tags");
	in_snapshot = SPI_processed > 0;
	SPI_finish();
	if (in_snapshot != (row != NULL))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent change of the tagging of table \"%s\"",
						table),
				 errdetail("A tag_table() or untag_table() of the table committed after this transaction's snapshot was taken."),
				 errhint("Retry the transaction.")));
	return row;
}

PG_FUNCTION_INFO_V1(bh_audit_tag_table);

/*
 * bh_audit.tag_table(tbl, resource_type, id_column, patient_column,
 *					  classification, part2, capture_reads, capture_writes)
 */
Datum
bh_audit_tag_table(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char		relkind;
	BhTagRow	row;
	char	   *table;
	Oid			argtypes[8] = {REGCLASSOID, TEXTOID, NAMEOID, NAMEOID, TEXTOID,
	BOOLOID, BOOLOID, BOOLOID};
	Datum		values[8];
	char		nulls[8];
	int			i;

	bh_require_preload();
	bh_check_may_tag("tag_table", "tag tables");
	for (i = 0; i < 8; i++)
		if (PG_ARGISNULL(i) && i != 3)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("only patient_column may be NULL")));

	relid = PG_GETARG_OID(0);
	bh_check_relation_exists(relid);
	relkind = get_rel_relkind(relid);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
		relkind != RELKIND_MATVIEW)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(relid) ? get_rel_name(relid) : "?"),
				 errdetail("Only tables, partitioned tables and materialized views can be tagged.")));

	/*
	 * bh_audit's own tables (their reads and writes are the trail's own
	 * business: the ledger's reads are recorded as AuditLog events) and the
	 * system catalogs (every statement reads them) are never tagged
	 */
	if (IsCatalogRelationOid(relid) ||
		get_rel_namespace(relid) == get_namespace_oid("bh_audit", true))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot tag \"%s\"", get_rel_name(relid)),
				 errdetail("bh_audit's own tables and the system catalogs cannot be tagged.")));

	/*
	 * Another session's temporary table: its rows are that session's
	 * (PostgreSQL refuses to read or change them here), and what it was
	 * created as (ON COMMIT DELETE ROWS, refused below) is known only there.
	 */
	if (isOtherTempNamespace(get_rel_namespace(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot tag temporary table \"%s\" of another session", get_rel_name(relid)),
				 errhint("Tag it from the session that created it.")));

	/*
	 * What follows is looked at with the table locked (CREATE TRIGGER's
	 * mode), and a partitioned table's partitions: emptied at every commit by
	 * PostgreSQL, with no event, a partition is checked, locked first in
	 * CREATE TRIGGER's mode (its recursion would lock them only later), so
	 * that a change of one (SET UNLOGGED) that is not committed yet is waited
	 * for and seen, and none can start before the tagging commits.
	 */
	bh_tag_lock_relation(relid, ShareRowExclusiveLock,
						 relkind == RELKIND_PARTITIONED_TABLE, "tag_table");

	/*
	 * a plain-inheritance parent: its children's rows read through it are
	 * theirs
	 */
	if (relkind == RELKIND_RELATION && has_subclass(relid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("table \"%s\" has inheritance children", get_rel_name(relid)),
				 errdetail("Rows of inheritance children read or changed through a tagged parent would not be captured."),
				 errhint("Tag the child tables, or use declarative partitioning: a partitioned table is captured on every partition.")));
	bh_guard_check_taggable(relid);

	row.tbl = relid;
	row.resource_type = text_to_cstring(PG_GETARG_TEXT_PP(1));
	row.id_column = bh_name_arg(fcinfo, 2);
	row.patient_column = bh_name_arg(fcinfo, 3);
	row.classification = text_to_cstring(PG_GETARG_TEXT_PP(4));
	row.part2 = PG_GETARG_BOOL(5);
	row.capture_reads = PG_GETARG_BOOL(6);
	row.capture_writes = PG_GETARG_BOOL(7);
	table = bh_table_name(relid);

	if (row.resource_type[0] == '\0' ||
		bh_recode_server_chars(row.resource_type, strlen(row.resource_type)) > 128)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("resource_type must be 1 to 128 characters")));
	/* the tag catalog's CHECK counts length(): bytes, in a SQL_ASCII database */
	if (GetDatabaseEncoding() == PG_SQL_ASCII && strlen(row.resource_type) > 128)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("resource_type must be 1 to 128 bytes in a SQL_ASCII database"),
				 errdetail("The tag catalog's CHECK constraint counts length(), which counts bytes in a SQL_ASCII database.")));
	bh_check_resource_type_free(row.resource_type);
	if (!bh_in_list(row.classification, bh_data_classifications))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("classification must be one of PHI, PII, NONE, UNKNOWN")));
	bh_check_column(relid, row.id_column, "id");
	if (row.patient_column)
		bh_check_column(relid, row.patient_column, "patient");

	{
		const BhTag *existing;
		List	   *descendants = bh_partition_tree(relid);
		ListCell   *lc;

		(void) bh_tag_row_locked(relid, table);
		existing = bh_tag_lookup(relid);
		if (existing && existing->tagged_relid != relid)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("table \"%s\" is already captured as a partition of tagged table \"%s\"",
							table, get_rel_name(existing->tagged_relid))));
		if (existing)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("table \"%s\" is already tagged", table),
					 errhint("Untag it first to change how it is tagged.")));
		foreach(lc, descendants)
			if (lfirst_oid(lc) != relid && bh_tag_row(lfirst_oid(lc)))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("partition \"%s\" of table \"%s\" is already tagged",
							get_rel_name(lfirst_oid(lc)), table),
					 errhint("Untag the partition first, then tag the partitioned table.")));
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (i = 0; i < 8; i++)
	{
		values[i] = PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
	if (bh_spi_internal(psprintf("INSERT INTO %s (tbl, resource_type, id_column, "
								 "patient_column, classification, part2, capture_reads, capture_writes) "
								 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", bh_tags_catalog_name()),
						8, argtypes, values, nulls, false) != SPI_OK_INSERT)
		elog(ERROR, "could not record the tag");
	bh_tag_event("CREATE", "tag_table", table, &row);
	bh_guard_record_rules(relid);	/* rules it has already */
	/* a materialized view's rows change only by REFRESH (config_guard.c) */
	if (row.capture_writes && relkind != RELKIND_MATVIEW)
		bh_create_triggers(relid);
	SPI_finish();

	bh_tags_changed();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(bh_audit_untag_table);

/*
 * untag_table() of a relation that no longer exists: the tag a DROP TABLE
 * left behind while the library was not preloaded (nothing removed it
 * then; capture_status() names it by its OID, which another table may
 * take).  Recorded as the untagging of that OID, then the row goes.
 */
static void
bh_untag_gone(Oid relid, Datum tbl)
{
	BhTagRow   *row;
	Oid			argtypes[1] = {REGCLASSOID};

	bh_tags_ensure();
	row = bh_tag_row(relid);
	if (row == NULL)
		bh_check_relation_exists(relid);	/* refused: names no relation */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) bh_tag_event("DELETE", "untag_table", psprintf("%u", relid), row);
	if (bh_spi_internal(psprintf("DELETE FROM %s WHERE tbl = $1", bh_tags_catalog_name()),
						1, argtypes, &tbl, NULL, false) != SPI_OK_DELETE ||
		SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent untagging of relation %u",
						relid),
				 errhint("Retry the transaction.")));
	SPI_finish();
	bh_tags_changed();
}

/*
 * bh_audit.untag_table(tbl): recorded first, then the triggers and the
 * catalog row go.
 */
Datum
bh_audit_untag_table(PG_FUNCTION_ARGS)
{
	Oid			relid;
	BhTagRow   *row;
	char	   *table;
	Jsonb	   *event;
	LOCKMODE	mode;
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		values[1];

	bh_require_preload();
	bh_check_may_tag("untag_table", "untag tables");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tbl must not be NULL")));
	relid = PG_GETARG_OID(0);
	values[0] = PG_GETARG_DATUM(0);
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
	{
		bh_untag_gone(relid, values[0]);
		PG_RETURN_VOID();
	}
	table = bh_table_name(relid);

	/*
	 * Not tagged as the statement began: refused without a lock (a table the
	 * caller may not read, an untagged partition of a tagged table, whose
	 * lock would stop the whole tree's readers).
	 */
	bh_tags_ensure();
	row = bh_tag_row(relid);
	if (row == NULL)
	{
		/* a partition captured through its tagged table: name that one */
		const BhTag *through = bh_tag_lookup(relid);

		if (through != NULL && through->tagged_relid != relid)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("table \"%s\" is not tagged", table),
					 errdetail("It is captured as a partition of tagged table \"%s\".",
							   bh_table_name(through->tagged_relid)),
					 errhint("Untag that table to stop capturing it and its partitions.")));
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table \"%s\" is not tagged", table)));
	}

	/*
	 * DROP TRIGGER's mode where a capture trigger is there (the mode taken
	 * anyway; a weaker one first would have to be raised, waiting behind
	 * readers that may wait for it); a table tagged for reads only, or a
	 * materialized view, has no trigger, and its untagging waits only for
	 * writers
	 */
	mode = bh_has_capture_trigger(relid) ? AccessExclusiveLock : ShareRowExclusiveLock;
	bh_tag_lock_relation(relid, mode, false, "untag_table");
	/* moved meanwhile, or its schema renamed: the event names it as it is now */
	table = bh_table_name(relid);
	row = bh_tag_row_locked(relid, table);
	if (row == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table \"%s\" is not tagged", table)));

	/*
	 * Untagged and tagged again with capture triggers while the weaker mode
	 * was awaited: their DROP TRIGGER would raise the lock, waiting behind
	 * the table's readers, one of which may be waiting for this lock (a
	 * reader going on to write), a deadlock.  Refused instead, before
	 * anything is changed; retried, the untagging takes DROP TRIGGER's mode
	 * from the start.
	 */
	if (mode != AccessExclusiveLock && bh_has_capture_trigger(relid))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent change of the tagging of table \"%s\"",
						table),
				 errdetail("The table was tagged again, with capture triggers, while untag_table() waited for its lock."),
				 errhint("Retry the transaction.")));

	{
		Oid			writing = bh_statement_writing(bh_partition_tree(relid));

		if (OidIsValid(writing))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("cannot untag table \"%s\" while a statement changing \"%s\" runs",
							table, get_rel_name(writing)),
					 errdetail("Its capture triggers fire at the statement's end; untagged, the changes would leave no event."),
					 errhint("Untag it before the statement that changes it, or after that statement.")));
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	event = bh_tag_event("DELETE", "untag_table", table, row);
	bh_drop_triggers(relid);
	if (bh_spi_internal(psprintf("DELETE FROM %s WHERE tbl = $1", bh_tags_catalog_name()),
						1, argtypes, values, NULL, false) != SPI_OK_DELETE ||
		SPI_processed != 1)
		elog(ERROR, "could not remove the tag");
	/* untagged: its reads are no longer captured, at once in this session */
	bh_note_narrowing(event, psprintf("%u untagged", relid));
	SPI_finish();

	bh_tags_changed();
	PG_RETURN_VOID();
}

/*
 * Delete the tag row of relid without SQL; false if there was none.  For
 * a table dropped at COMMIT (ON COMMIT DROP): PostgreSQL drops it after it
 * shut its trigger manager down, where a query (its trigger events) would
 * corrupt the next transaction's state.  (The row is this session's temporary
 * table's: no other transaction changes it.)
 */
static bool
bh_tags_delete_row(Oid relid)
{
	Relation	rel = table_open(bh_tags_catalog(), RowExclusiveLock);
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, RelationGetPrimaryKeyIndex(rel), true, snapshot, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		simple_heap_delete(rel, &tup->t_self);
		found = true;
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, NoLock);	/* locked until the transaction ends */
	return found;
}

/*
 * The event of the drop of tagged table relid; cleaned: dropped with the
 * temporary objects a crashed session left behind, the server's doing
 * (bh_event_temp_cleanup()).
 */
static void
bh_tag_dropped_event(Oid relid, const BhTempCleanup *cleaned)
{
	BhEvent		ev;

	if (cleaned == NULL)
	{
		bh_tag_config_event("DELETE", "tagged_table_dropped", relid);
		return;
	}
	bh_tag_event_init(&ev, "DELETE", "tagged_table_dropped", bh_table_name(relid));
	bh_event_temp_cleanup(&ev, cleaned);
	bh_queue_event(bh_event_build(&ev, NULL));
}

/*
 * A tagged table is being dropped (config_guard.c): record it
 * (bh_tag_dropped_event(), cleaned as there) and forget its tag.  Returns
 * false if relid was not tagged itself.  At COMMIT (ON COMMIT DROP) no SQL
 * may run: the tag row is found and deleted directly, whatever the cache
 * says.
 */
bool
bh_tag_dropped(Oid relid, const BhTempCleanup *cleaned)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};

	if (bh_xact_committing())
	{
		if (!bh_tags_delete_row(relid))
			return false;
		bh_tag_dropped_event(relid, cleaned);
		/* what the catalog's statement trigger does for a DELETE by SQL */
		bh_tags_rows_changed(bh_tags_catalog());
		return true;
	}
	bh_tags_ensure();
	if (bh_tag_row(relid) == NULL)
		return false;
	bh_tag_dropped_event(relid, cleaned);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (bh_spi_internal(psprintf("DELETE FROM %s WHERE tbl = $1::regclass", bh_tags_catalog_name()),
						1, argtypes, values, NULL, false) != SPI_OK_DELETE)
		elog(ERROR, "could not remove the tag of a dropped table");
	SPI_finish();
	bh_tags_changed();
	return true;
}

/*
 * A tagged column of relid was renamed (config_guard.c): follow it.
 */
void
bh_tag_column_renamed(Oid tagged_relid, const char *oldname, const char *newname)
{
	Oid			argtypes[3] = {OIDOID, NAMEOID, NAMEOID};
	Datum		values[3];

	values[0] = ObjectIdGetDatum(tagged_relid);
	values[1] = DirectFunctionCall1(namein, CStringGetDatum(oldname));
	values[2] = DirectFunctionCall1(namein, CStringGetDatum(newname));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (bh_spi_internal(psprintf("UPDATE %s SET "
								 "id_column = CASE WHEN id_column = $2 THEN $3 ELSE id_column END, "
								 "patient_column = CASE WHEN patient_column = $2 THEN $3 ELSE patient_column END "
								 "WHERE tbl = $1::regclass", bh_tags_catalog_name()),
						3, argtypes, values, NULL, false) != SPI_OK_UPDATE)
		elog(ERROR, "could not follow a column rename");
	SPI_finish();
	bh_tags_changed();
}
