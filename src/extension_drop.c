/*-------------------------------------------------------------------------
 *
 * extension_drop.c
 *		Before a statement that drops the extension (DROP EXTENSION
 *		bh_audit, DROP SCHEMA of its schema ... CASCADE, DROP OWNED BY its
 *		owner), lock the queue, the extension's other relations and the
 *		tagged tables whose capture triggers it drops, ACCESS EXCLUSIVE,
 *		before PostgreSQL locks any of them (bh_lock_before_drop(), which
 *		the configuration guard, config_guard.c, calls first for each
 *		utility statement).
 *
 * Why: a transaction holding events holds the queue's lock from its first
 * event (emit.c), and its commit takes the queue's sequence's next value.
 * Locked in PostgreSQL's order, the sequence before the queue, the drop
 * would wait for such a transaction while that transaction's commit waits
 * for the drop: a deadlock, one of them lost.  So the queue is waited for
 * first, and the other relations are only taken where they are free at
 * once; where one is not, all are let go of and that one is waited for
 * (bh_lock_together()): the drop never waits while holding what their
 * commits need.  Under a sustained load that may take several rounds;
 * lock_timeout bounds their sum, not each round's wait (lock_together.c).
 * The set to lock follows what PostgreSQL itself will lock for the
 * statement (bh_drop_lock_set()): with the tables dropped themselves, the
 * extension's among them, also the partitioned tables above them, their
 * default partitions and the tables at the other end of their foreign keys
 * (none where a DROP OWNED without CASCADE is refused for another table's
 * key to one of them); the relations a DROP OWNED or DROP SCHEMA drops
 * itself, tagged or not, and the tables of the policies a DROP OWNED drops;
 * with CASCADE, the tables and views of what depends on the extension's
 * functions, types and relations or on those objects, or on their row
 * types, and the same neighbours of the tables and columns it drops.  A
 * reader of one of them that goes on to read a tagged table is then waited
 * for before the drop holds that table.  It is computed again after each
 * round, as tables tagged while the drop waited join it; a relation
 * dropped by another session meanwhile is passed over.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_shdepend.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "bh_audit.h"
#include "extension_drop.h"
#include "tags.h"

/*
 * Does every extension or schema stmt names exist (unless IF EXISTS), is
 * every one owned by the current role (PostgreSQL refuses the statement
 * otherwise, before it locks their contents), is none before name one the
 * system requires (pg_catalog: PostgreSQL refuses the statement there,
 * before it locks the next one's contents), and is one of them named name?
 */
static bool
bh_drop_names_owned(DropStmt *stmt, const char *name)
{
	ListCell   *lc;
	bool		named = false;

	foreach(lc, stmt->objects)
	{
		const char *obj = strVal(lfirst(lc));
		Oid			oid;

		if (stmt->removeType == OBJECT_EXTENSION)
		{
			oid = get_extension_oid(obj, true);
			if (OidIsValid(oid) && !pg_extension_ownercheck(oid, GetUserId()))
				return false;
		}
		else
		{
			oid = get_namespace_oid(obj, true);
			if (OidIsValid(oid) && !pg_namespace_ownercheck(oid, GetUserId()))
				return false;
		}
		if (!OidIsValid(oid) && !stmt->missing_ok)
			return false;
		if (OidIsValid(oid) && !named &&
			IsPinnedObject(stmt->removeType == OBJECT_EXTENSION ?
						   ExtensionRelationId : NamespaceRelationId, oid))
			return false;
		if (OidIsValid(oid) && strcmp(obj, name) == 0)
			named = true;
	}
	return named;
}

/*
 * Lock the queue and each of rels ACCESS EXCLUSIVE, together
 * (bh_lock_together()), the queue waited for first.  A transaction may
 * hold one of rels before its first event needs the queue (the tagged
 * table it writes, locked from its statement's start; the ledger it read),
 * and one holding events may go on to need one of rels (another tagged
 * table): the drop waits for them holding none of them.
 */
static void
bh_lock_drop_set(Oid queue, List *rels, TimestampTz start)
{
	List	   *all = lcons_oid(queue, list_delete_oid(list_copy(rels), queue));
	int			n = list_length(all);
	LOCKTAG    *tags = palloc(sizeof(LOCKTAG) * n);
	LOCKMODE   *modes = palloc(sizeof(LOCKMODE) * n);
	ListCell   *lc;
	int			i = 0;

	foreach(lc, all)
	{
		SET_LOCKTAG_RELATION(tags[i], MyDatabaseId, lfirst_oid(lc));
		modes[i++] = AccessExclusiveLock;
	}
	bh_lock_together(tags, modes, n, start);
	pfree(tags);
	pfree(modes);
	list_free(all);
}

/*
 * Does the statement drop relid itself: is it, or a table it is a
 * partition under, in one of schemas (DROP SCHEMA), or owned by one of
 * roles or in a schema one of them owns (DROP OWNED BY them)?  Without
 * CASCADE, a DROP OWNED drops it with that table or schema, or locks it
 * before it refuses the statement (another object depending on one of
 * theirs).
 */
static bool
bh_rel_dropped(Oid relid, List *roles, List *schemas)
{
	ListCell   *lc;

	foreach(lc, lcons_oid(relid, get_partition_ancestors(relid)))
	{
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(lfirst_oid(lc)));
		Oid			relowner;
		Oid			nspid;

		if (!HeapTupleIsValid(tup))
			continue;
		relowner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
		nspid = ((Form_pg_class) GETSTRUCT(tup))->relnamespace;
		ReleaseSysCache(tup);
		if (list_member_oid(roles, relowner) || list_member_oid(schemas, nspid))
			return true;
		tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nspid));
		if (!HeapTupleIsValid(tup))
			continue;
		relowner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
		ReleaseSysCache(tup);
		if (list_member_oid(roles, relowner))
			return true;
	}
	return false;
}

/* Is (classid, objid) one of objs (ObjectAddresses, subIds aside)? */
static bool
bh_object_member(List *objs, Oid classid, Oid objid)
{
	ListCell   *lc;

	foreach(lc, objs)
		if (((ObjectAddress *) lfirst(lc))->classId == classid &&
			((ObjectAddress *) lfirst(lc))->objectId == objid)
		return true;
	return false;
}

/*
 * The pg_depend rows of the objects that depend on (classid, objid), of
 * any of its columns too, copied (the columns are of fixed width): where
 * PostgreSQL looks for what a drop of that object reaches
 * (findDependentObjects()).  Each caller keeps the kinds it wants.
 */
List *
bh_depending_on(Oid classid, Oid objid)
{
	Relation	dep = table_open(DependRelationId, AccessShareLock);
	List	   *rows = NIL;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(classid));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(objid));
	scan = systable_beginscan(dep, DependReferenceIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend d = palloc(sizeof(FormData_pg_depend));

		memcpy(d, GETSTRUCT(tup), sizeof(FormData_pg_depend));
		rows = lappend(rows, d);
	}
	systable_endscan(scan);
	table_close(dep, AccessShareLock);
	return rows;
}

/* A new ObjectAddress (classid, objid), appended to objs. */
List *
bh_object_append(List *objs, Oid classid, Oid objid)
{
	ObjectAddress *obj = palloc(sizeof(ObjectAddress));

	ObjectAddressSet(*obj, classid, objid);
	return lappend(objs, obj);
}

/*
 * The table of policy polid if a DROP OWNED BY roles drops the policy:
 * where every role it applies to is one of roles (not PUBLIC), PostgreSQL
 * drops it (shdepDropOwned(): RemoveRoleFromObjectPolicy() would leave it
 * no role) and so locks its table (RemovePolicyById()); a policy left with
 * another role is only rewritten, its table not locked.  InvalidOid
 * otherwise, or where the policy is gone.
 */
static Oid
bh_policy_dropped_table(Oid polid, List *roles)
{
	Relation	pol = table_open(PolicyRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			relid = InvalidOid;

	ScanKeyInit(&key, Anum_pg_policy_oid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(polid));
	scan = systable_beginscan(pol, PolicyOidIndexId, true, NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_policy_polroles,
									 RelationGetDescr(pol), &isnull);

		if (!isnull)
		{
			ArrayType  *arr = DatumGetArrayTypeP(d);
			Oid		   *polroles = (Oid *) ARR_DATA_PTR(arr);
			int			n = ARR_DIMS(arr)[0];
			int			i;

			relid = ((Form_pg_policy) GETSTRUCT(tup))->polrelid;
			for (i = 0; i < n; i++)
				if (!list_member_oid(roles, polroles[i]))
					relid = InvalidOid;
		}
	}
	systable_endscan(scan);
	table_close(pol, AccessShareLock);
	return relid;
}

/*
 * The objects of this database that one of roles owns (pg_shdepend); and,
 * in *policy_tables, the tables of the policies the statement drops
 * (bh_policy_dropped_table()), whatever role owns them.
 */
static List *
bh_roles_owned(List *roles, List **policy_tables)
{
	List	   *owned = NIL;
	Relation	sd = table_open(SharedDependRelationId, AccessShareLock);
	ListCell   *lc;

	foreach(lc, roles)
	{
		ScanKeyData key[2];
		SysScanDesc scan;
		HeapTuple	tup;

		ScanKeyInit(&key[0], Anum_pg_shdepend_refclassid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(AuthIdRelationId));
		ScanKeyInit(&key[1], Anum_pg_shdepend_refobjid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(lfirst_oid(lc)));
		scan = systable_beginscan(sd, SharedDependReferenceIndexId, true, NULL, 2, key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_shdepend d = (Form_pg_shdepend) GETSTRUCT(tup);

			if (d->dbid == MyDatabaseId && d->deptype == SHARED_DEPENDENCY_OWNER)
				owned = bh_object_append(owned, d->classid, d->objid);
			if (d->dbid == MyDatabaseId && d->deptype == SHARED_DEPENDENCY_POLICY &&
				d->classid == PolicyRelationId)
				*policy_tables = lappend_oid(*policy_tables,
											 bh_policy_dropped_table(d->objid, roles));
		}
		systable_endscan(scan);
	}
	table_close(sd, AccessShareLock);
	return owned;
}

/*
 * Does relid, or one of its indexes, depend, directly or through other
 * objects (pg_depend), on one of owned?  A DROP OWNED without CASCADE
 * then reaches it from that object and locks it (findDependentObjects():
 * AcquireDeletionLock()) before it refuses the statement, the table
 * being another role's.
 */
static bool
bh_rel_depends_on(Oid relid, List *owned)
{
	List	   *todo = NIL;
	List	   *seen = NIL;
	List	   *rels = list_make1_oid(relid);
	Relation	cat;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	ListCell   *lc;
	bool		found = false;

	if (owned == NIL)
		return false;
	cat = table_open(IndexRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_index_indrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(cat, IndexIndrelidIndexId, true, NULL, 1, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		rels = lappend_oid(rels, ((Form_pg_index) GETSTRUCT(tup))->indexrelid);
	systable_endscan(scan);
	table_close(cat, AccessShareLock);
	foreach(lc, rels)
		todo = bh_object_append(todo, RelationRelationId, lfirst_oid(lc));

	/* what they depend on, and what that depends on, and so on */
	cat = table_open(DependRelationId, AccessShareLock);
	while (todo != NIL && !found)
	{
		ObjectAddress *obj = linitial(todo);

		todo = list_delete_first(todo);
		if (bh_object_member(seen, obj->classId, obj->objectId))
			continue;
		seen = lappend(seen, obj);
		ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(obj->classId));
		ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(obj->objectId));
		scan = systable_beginscan(cat, DependDependerIndexId, true, NULL, 2, key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);

			if (bh_object_member(owned, d->refclassid, d->refobjid))
			{
				found = true;
				break;
			}
			todo = bh_object_append(todo, d->refclassid, d->refobjid);
		}
		systable_endscan(scan);
	}
	table_close(cat, AccessShareLock);
	return found;
}

/*
 * Add to *neighbours the tables at the other end of the foreign keys of
 * relid, referenced or referencing, or only of those on its column attnum
 * (not 0) which a drop with CASCADE drops: PostgreSQL drops the keys with
 * it and locks both their tables ACCESS EXCLUSIVE (RemoveConstraintById(),
 * and the key's triggers on the other table).  Those keys are found as
 * PostgreSQL finds what a dropped table or column takes with it
 * (findDependentObjects()): in pg_depend, by the table, on which each key
 * depends, as its own table or as the one it refers to
 * (CreateConstraintEntry()).  Returns false where, without CASCADE, a key
 * of a table not among dropped refers to relid: the statement is refused
 * (2BP01).
 */
static bool
bh_key_neighbours(List **neighbours, Oid relid, int32 attnum, List *dropped,
				  bool cascade)
{
	ListCell   *lc;

	foreach(lc, bh_depending_on(RelationRelationId, relid))
	{
		Form_pg_depend d = lfirst(lc);
		HeapTuple	contup;
		Form_pg_constraint c;
		bool		refused = false;

		if (d->classid != ConstraintRelationId ||
			(attnum != 0 && d->refobjsubid != attnum))
			continue;
		contup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(d->objid));
		if (!HeapTupleIsValid(contup))
			continue;
		c = (Form_pg_constraint) GETSTRUCT(contup);
		if (c->contype == CONSTRAINT_FOREIGN && c->conrelid == relid)
			*neighbours = lappend_oid(*neighbours, c->confrelid);
		if (c->contype == CONSTRAINT_FOREIGN && c->confrelid == relid)
		{
			*neighbours = lappend_oid(*neighbours, c->conrelid);
			refused = !cascade && !list_member_oid(dropped, c->conrelid);
		}
		ReleaseSysCache(contup);
		if (refused)
			return false;
	}
	return true;
}

/*
 * rels with the other tables PostgreSQL locks ACCESS EXCLUSIVE when it
 * drops the tables dropped and the columns of columns (ObjectAddresses of
 * relations with their column number, dropped with CASCADE): the
 * partitioned table each table is a partition of and that table's default
 * partition (heap_drop_with_catalog()), the tables at the other end of a
 * foreign key of each table or column (bh_key_neighbours()), and
 * policy_tables, those of the policies dropped (RemovePolicyById()).
 * Through pg_depend a round costs what the dropped tables' dependencies
 * do, not a scan of every constraint of the database for each of them
 * (pg_constraint has no index on confrelid).  A table dropped by another
 * session meanwhile has no parent nor keys (bh_partition_parent(), not
 * get_partition_parent(), which fails).  PostgreSQL locks them only as it
 * drops those objects, after it has checked what depends on them: without
 * CASCADE, a key of a table not dropped referencing a dropped one has it
 * refuse the statement (2BP01) before it locks any of them, so then none
 * is taken (a refused statement must not hold up their readers first).
 */
static List *
bh_drop_neighbours(List *rels, List *dropped, List *columns,
				   List *policy_tables, bool cascade)
{
	List	   *neighbours = list_copy(policy_tables);
	ListCell   *lc;

	foreach(lc, dropped)
	{
		Oid			parent = bh_partition_parent(lfirst_oid(lc), NULL);

		if (OidIsValid(parent))
			neighbours = lappend_oid(lappend_oid(neighbours, parent),
									 get_default_partition_oid(parent));
	}
	foreach(lc, dropped)
		if (!bh_key_neighbours(&neighbours, lfirst_oid(lc), 0, dropped, cascade))
		return rels;
	foreach(lc, columns)
	{
		ObjectAddress *col = lfirst(lc);

		if (!bh_key_neighbours(&neighbours, col->objectId, col->objectSubId,
							   dropped, cascade))
			return rels;
	}
	foreach(lc, neighbours)
		if (OidIsValid(lfirst_oid(lc)))
		rels = list_append_unique_oid(rels, lfirst_oid(lc));
	return rels;
}

/* Add to objs the objects in schema nspid (pg_depend). */
static List *
bh_schema_objects(List *objs, Oid nspid)
{
	ListCell   *lc;

	foreach(lc, bh_depending_on(NamespaceRelationId, nspid))
	{
		Form_pg_depend d = lfirst(lc);

		if (d->objsubid == 0)
			objs = bh_object_append(objs, d->classid, d->objid);
	}
	return objs;
}

/*
 * The objects a DROP OWNED BY roles or a DROP SCHEMA of schemas drops
 * itself: those in a schema named, those the roles own (owned: pg_shdepend,
 * bh_roles_owned()) and those in a schema they own.
 */
static List *
bh_drop_own_objects(List *owned, List *schemas)
{
	List	   *objs = NIL;
	ListCell   *lc;

	foreach(lc, schemas)
		if (OidIsValid(lfirst_oid(lc)))
		objs = bh_schema_objects(objs, lfirst_oid(lc));
	foreach(lc, owned)
	{
		ObjectAddress *obj = lfirst(lc);

		objs = lappend(objs, obj);
		if (obj->classId == NamespaceRelationId)
			objs = bh_schema_objects(objs, obj->objectId);
	}
	return objs;
}

/*
 * The relations, tagged or not, among objs (bh_drop_own_objects()), which
 * PostgreSQL locks ACCESS EXCLUSIVE to drop them (or, refusing a DROP OWNED
 * without CASCADE, locks first), that a reader may hold: tables, views,
 * sequences (not indexes nor TOAST tables, which come with their table);
 * and the tables under each (partitions, inheritance children).  A
 * transaction that read one of them and then reads a tagged table the drop
 * took would otherwise wait for the drop while the drop, holding that
 * table, waits for it: a deadlock, one of the two lost.  A relation listed
 * may be dropped by another session meanwhile (the look under an earlier
 * one takes in the invalidations): it is passed over.
 */
static List *
bh_drop_own_relations(List *objs)
{
	List	   *rels = NIL;
	List	   *under = NIL;
	ListCell   *lc;

	foreach(lc, objs)
	{
		ObjectAddress *obj = lfirst(lc);
		char		relkind;

		if (obj->classId != RelationRelationId)
			continue;
		relkind = get_rel_relkind(obj->objectId);
		if (relkind != '\0' && relkind != RELKIND_INDEX &&
			relkind != RELKIND_PARTITIONED_INDEX && relkind != RELKIND_TOASTVALUE)
			rels = list_append_unique_oid(rels, obj->objectId);
	}
	foreach(lc, rels)
		if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(lfirst_oid(lc))) &&
			has_subclass(lfirst_oid(lc)))
		under = list_concat_unique_oid(under,
									   find_all_inheritors(lfirst_oid(lc), NoLock, NULL));
	return list_concat_unique_oid(rels, under);
}

/*
 * The table a dependent object found in pg_depend (classid, objid) is of,
 * which PostgreSQL locks ACCESS EXCLUSIVE to drop that object: a relation
 * (a view, or a table a column of which is the dependent: objsubid), the
 * view or table of a rule, and the table of a trigger, policy, column
 * default or constraint.  InvalidOid for other objects.
 */
static Oid
bh_dependent_relation(Oid classid, Oid objid)
{
	static const struct
	{
		Oid			catalog;
		Oid			oidindex;
		AttrNumber	oidcol;
		AttrNumber	relcol;
	}			kinds[] = {
		{RewriteRelationId, RewriteOidIndexId,
		Anum_pg_rewrite_oid, Anum_pg_rewrite_ev_class},
		{TriggerRelationId, TriggerOidIndexId,
		Anum_pg_trigger_oid, Anum_pg_trigger_tgrelid},
		{PolicyRelationId, PolicyOidIndexId,
		Anum_pg_policy_oid, Anum_pg_policy_polrelid},
		{AttrDefaultRelationId, AttrDefaultOidIndexId,
		Anum_pg_attrdef_oid, Anum_pg_attrdef_adrelid},
		{ConstraintRelationId, ConstraintOidIndexId,
		Anum_pg_constraint_oid, Anum_pg_constraint_conrelid},
	};
	int			i;

	if (classid == RelationRelationId)
	{
		char		relkind = get_rel_relkind(objid);

		if (relkind == RELKIND_INDEX || relkind == RELKIND_PARTITIONED_INDEX)
			return IndexGetRelation(objid, true);
		return relkind == '\0' ? InvalidOid : objid;
	}
	for (i = 0; i < lengthof(kinds); i++)
	{
		Relation	cat;
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	tup;
		Oid			relid = InvalidOid;

		if (kinds[i].catalog != classid)
			continue;
		cat = table_open(classid, AccessShareLock);
		ScanKeyInit(&key, kinds[i].oidcol, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(objid));
		scan = systable_beginscan(cat, kinds[i].oidindex, true, NULL, 1, &key);
		if (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			bool		isnull;
			Datum		d = heap_getattr(tup, kinds[i].relcol,
										 RelationGetDescr(cat), &isnull);

			if (!isnull)
				relid = DatumGetObjectId(d);
		}
		systable_endscan(scan);
		table_close(cat, AccessShareLock);
		return relid;
	}
	return InvalidOid;
}

/* The extension's functions and types (pg_depend). */
static List *
bh_extension_routines(Oid extoid)
{
	List	   *objs = NIL;
	ListCell   *lc;

	foreach(lc, bh_depending_on(ExtensionRelationId, extoid))
	{
		Form_pg_depend d = lfirst(lc);

		if (d->deptype == DEPENDENCY_EXTENSION &&
			(d->classid == ProcedureRelationId || d->classid == TypeRelationId))
			objs = bh_object_append(objs, d->classid, d->objid);
	}
	return objs;
}

/*
 * Add to rels the tables and views that a drop with CASCADE locks ACCESS
 * EXCLUSIVE to drop what depends on objs (bh_dependent_relation()): with
 * the extension's functions, types and relations, a view calling one of
 * its functions or reading one of its relations, a table with a column of
 * one of its types or a default, check constraint, policy or trigger
 * calling one of its functions, a table with a foreign key to one of its
 * relations; with the objects a DROP OWNED or DROP SCHEMA drops itself,
 * the same for theirs (another role's table whose default calls nextval()
 * of a sequence dropped, say).  What depends on the types that are parts
 * of those objects (INTERNAL: a relation's row type, a type's array type)
 * is looked for too: a table with a column of the ledger's row type.  One
 * level otherwise: objects depending on those in turn (a view calling a
 * function of the user's that takes a type of the extension) are not
 * looked for.  The tables dropped whole (a typed table of such a type) are
 * added to *dropped, and the columns dropped (of such a domain) to
 * *columns, for what PostgreSQL locks with them (bh_drop_neighbours()).
 */
static List *
bh_dependents(List *rels, List *objs, List **dropped, List **columns)
{
	List	   *todo = list_copy(objs);
	int			i;

	for (i = 0; i < list_length(todo); i++)
	{
		ObjectAddress *obj = list_nth(todo, i);
		ListCell   *lc;

		foreach(lc, bh_depending_on(obj->classId, obj->objectId))
		{
			Form_pg_depend d = lfirst(lc);
			Oid			relid;

			/* the extension's own objects: with it */
			if (d->deptype == DEPENDENCY_EXTENSION)
				continue;
			/* an object's parts: with it; and what depends on its types */
			if (d->deptype == DEPENDENCY_INTERNAL)
			{
				if (d->classid == TypeRelationId)
					todo = bh_object_append(todo, d->classid, d->objid);
				continue;
			}
			relid = bh_dependent_relation(d->classid, d->objid);
			if (!OidIsValid(relid))
				continue;
			rels = list_append_unique_oid(rels, relid);
			if (d->classid == RelationRelationId && relid == d->objid &&
				d->objsubid == 0)
				*dropped = list_append_unique_oid(*dropped, relid);
			else if (d->classid == RelationRelationId && relid == d->objid)
			{
				ObjectAddress *col = palloc(sizeof(ObjectAddress));

				ObjectAddressSubSet(*col, RelationRelationId, relid, d->objsubid);
				*columns = lappend(*columns, col);
			}
		}
	}
	return rels;
}

/*
 * The relations a drop of the extension locks first: its own and the
 * tagged tables and their partitions whose capture triggers it drops.
 * With CASCADE, every one; a DROP OWNED BY roles without it, those it
 * drops with the tables themselves (bh_rel_dropped()), and those it
 * locks before it refuses the statement (bh_rel_depends_on()); it
 * refuses it, without locking the table, where another table has capture
 * triggers and nothing else of it depends on the roles' objects; a DROP
 * EXTENSION or DROP SCHEMA without it, none.  With CASCADE, the tables
 * and views of what depends on the extension's functions, types and
 * relations and on the objects the statement drops itself
 * (bh_dependents()).  Then the relations, tagged or not, that a DROP OWNED
 * BY roles or a DROP SCHEMA of schemas drops itself
 * (bh_drop_own_relations()), and the tables PostgreSQL locks with the
 * tables and columns dropped, the extension's among them, and with the
 * policies a DROP OWNED drops (bh_drop_neighbours()).
 */
static List *
bh_drop_lock_set(Oid extoid, bool cascade, List *roles, List *schemas)
{
	List	   *rels = bh_extension_relations(extoid);
	List	   *dropped;
	List	   *columns = NIL;
	List	   *policy_tables = NIL;
	List	   *owned;
	List	   *own;
	ListCell   *lc;

	if (!cascade && roles == NIL)
		return rels;
	dropped = list_copy(rels);
	owned = bh_roles_owned(roles, &policy_tables);
	own = bh_drop_own_objects(owned, schemas);
	if (cascade)
	{
		List	   *objs = bh_extension_routines(extoid);

		foreach(lc, dropped)
			objs = bh_object_append(objs, RelationRelationId, lfirst_oid(lc));
		rels = bh_dependents(rels, list_concat(objs, own), &dropped, &columns);
	}
	foreach(lc, bh_tagged_relations())
	{
		Oid			relid = lfirst_oid(lc);
		bool		drops = bh_rel_dropped(relid, roles, schemas);

		if ((cascade || drops || bh_rel_depends_on(relid, owned)) &&
			bh_has_capture_trigger(relid))
		{
			rels = list_append_unique_oid(rels, relid);
			if (drops)
				dropped = lappend_oid(dropped, relid);
		}
	}
	foreach(lc, bh_drop_own_relations(own))
	{
		rels = list_append_unique_oid(rels, lfirst_oid(lc));
		dropped = list_append_unique_oid(dropped, lfirst_oid(lc));
	}
	return bh_drop_neighbours(rels, dropped, columns, policy_tables, cascade);
}

/*
 * Before a statement that drops the extension runs, before PostgreSQL
 * locks any object of it: lock the queue, the extension's other relations
 * and the tables whose capture triggers it drops (bh_drop_lock_set()),
 * ACCESS EXCLUSIVE, together (bh_lock_together()),
 * and again if the tables with capture triggers grew while it waited.
 * The drop waits for every transaction holding events (each holds the
 * queue's lock from its first event, emit.c) while it holds nothing their
 * commits need.  Locked in PostgreSQL's order, the queue's sequence before
 * the queue say, a transaction's commit (which takes the sequence's next
 * value) would wait for the drop, and the drop for it: a deadlock, one of
 * them lost.  The statements: DROP EXTENSION bh_audit; DROP SCHEMA of its
 * schema with CASCADE (several schemas too); DROP OWNED BY its owner
 * (among other roles; without CASCADE too, which drops it when nothing
 * outside it depends on it).  Only when PostgreSQL will not refuse the
 * statement before it locks the extension's objects: by a role that may
 * run it (owning every extension or schema named, a member of every role
 * named; no role whose objects the system requires named before the
 * owner), on objects that exist, outside a read-only transaction or
 * parallel mode; a refused statement must not hold up writers first.
 * Returns whether the statement drops the extension (then locked): the
 * guard stands aside for it as for DROP EXTENSION (bh_config_guard_before()).
 */
bool
bh_lock_before_drop(Node *parsetree)
{
	Oid			queue;
	Oid			extoid;
	HeapTuple	tup;
	Oid			owner;
	Oid			schema;
	bool		drops = false;
	bool		cascade;
	List	   *rels;
	List	   *roles = NIL;
	List	   *schemas = NIL;
	TimestampTz start;

	if (!(IsA(parsetree, DropStmt) &&
		  (((DropStmt *) parsetree)->removeType == OBJECT_EXTENSION ||
		   ((DropStmt *) parsetree)->removeType == OBJECT_SCHEMA)) &&
		!IsA(parsetree, DropOwnedStmt))
		return false;

	/*
	 * The statement's kind first: every utility statement comes here, a
	 * ROLLBACK of an aborted transaction too, where no catalog may be read.
	 */
	if (!IsTransactionState() || XactReadOnly || IsInParallelMode() ||
		!OidIsValid(queue = bh_queue_relid()) ||
		!OidIsValid(extoid = get_extension_oid("bh_audit", true)))
		return false;
	tup = SearchSysCache1(EXTENSIONOID, ObjectIdGetDatum(extoid));
	if (!HeapTupleIsValid(tup))
		return false;
	owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	schema = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	ReleaseSysCache(tup);
	if (IsA(parsetree, DropStmt) &&
		((DropStmt *) parsetree)->removeType == OBJECT_EXTENSION)
		drops = bh_drop_names_owned((DropStmt *) parsetree, "bh_audit");
	else if (IsA(parsetree, DropStmt) &&
			 ((DropStmt *) parsetree)->removeType == OBJECT_SCHEMA &&
			 ((DropStmt *) parsetree)->behavior == DROP_CASCADE)
	{
		char	   *name = get_namespace_name(schema);
		ListCell   *lc;

		drops = name != NULL && bh_drop_names_owned((DropStmt *) parsetree, name);
		foreach(lc, ((DropStmt *) parsetree)->objects)	/* their tables dropped */
			schemas = lappend_oid(schemas, get_namespace_oid(strVal(lfirst(lc)), true));
	}
	else if (IsA(parsetree, DropOwnedStmt))
	{
		ListCell   *lc;
		bool		pinned = false;

		/*
		 * Every role is checked first (DropOwnedObjects()); then each in turn
		 * has its objects locked, until one the system requires
		 * (shdepDropOwned()).
		 */
		foreach(lc, ((DropOwnedStmt *) parsetree)->roles)
		{
			Oid			role = get_rolespec_oid(lfirst(lc), true);

			if (!OidIsValid(role) || !has_privs_of_role(GetUserId(), role))
				return false;
			if (IsPinnedObject(AuthIdRelationId, role))
				pinned = true;
			else if (!pinned)
			{
				roles = lappend_oid(roles, role);	/* its objects locked */
				drops = drops || role == owner;
			}
		}
	}
	if (!drops)
		return false;
	cascade = IsA(parsetree, DropOwnedStmt) ?
		((DropOwnedStmt *) parsetree)->behavior == DROP_CASCADE :
		((DropStmt *) parsetree)->behavior == DROP_CASCADE;
	rels = bh_drop_lock_set(extoid, cascade, roles, schemas);
	start = GetCurrentTimestamp();
	for (;;)
	{
		List	   *now;
		ListCell   *lc;

		bh_lock_drop_set(queue, rels, start);

		/*
		 * A table tagged, or a partition created under a tagged table, while
		 * the drop waited is not in rels, and PostgreSQL would lock it later,
		 * holding the queue.  The locks just taken took in the invalidations
		 * of every such change committed (LockRelationOid()), and none can
		 * come now that the tag catalog and the tagged tables are held: if
		 * the set grew, let go of all and take the new one.
		 */
		now = bh_drop_lock_set(extoid, cascade, roles, schemas);
		if (list_difference_oid(now, rels) == NIL)
			break;
		foreach(lc, rels)
			if (lfirst_oid(lc) != queue)
			UnlockRelationOid(lfirst_oid(lc), AccessExclusiveLock);
		UnlockRelationOid(queue, AccessExclusiveLock);
		rels = now;
	}
	return true;
}
