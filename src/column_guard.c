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
 *	  object of a temporary schema (through its type or its collation, by
 *	  pg_depend: bh_column_is_temp()), or a generated column through its
 *	  expression (bh_generated_is_temp()), or the table itself (a typed
 *	  table's type): refused, also as ALTER TYPE of a composite type it
 *	  is of, after ALTER TABLE stored a generation expression
 *	  (bh_check_generated_after()), after any statement altering what it
 *	  reaches (the objects PostgreSQL's post-alter hook names, and those
 *	  CREATE OR REPLACE replaced: bh_note_altered(), bh_check_replaced();
 *	  only the tagged tables that may reach one by pg_depend are opened,
 *	  bh_objects_reaching()),
 *	  and when tagging or attaching under a tagged table (config_guard.c's
 *	  bh_check_under_tag()).
 *
 * config_guard.c calls these checks around each utility statement and from
 * its object access hook (a column dropped, an object altered, however);
 * column_guard.h is what the two call of each other.
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
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "bh_audit.h"
#include "capture.h"
#include "column_guard.h"
#include "extension_drop.h"
#include "id_text.h"
#include "tags.h"

static void bh_columns_of_type(Oid typid, List **relids, List **attnums);

/* An object the walks have seen: its catalog, OID and column (0: all of it). */
typedef struct BhWalkKey
{
	Oid			classId;
	Oid			objectId;
	int32		objectSubId;
} BhWalkKey;

/*
 * An object seen, reaching no temporary object once its walk ended (the
 * walks of a pass share them: bh_walk_reaches_temp()): walked for its
 * values (a column's type, its attributes too), or for its drop only.
 */
typedef struct BhWalkSeen
{
	BhWalkKey	key;
	bool		values;
} BhWalkSeen;

/* More objects than this to follow in one walk: taken as reaching a temporary one. */
#define BH_TEMP_WALK_MAX 10000

/* Is obj in a temporary schema (or one itself)? */
static bool
bh_object_is_temp(const ObjectAddress *obj)
{
	Oid			nsp;

	if (obj->classId == NamespaceRelationId)
		return isAnyTempNamespace(obj->objectId);
	if (!is_objectclass_supported(obj->classId))
		return false;
	nsp = get_object_namespace(obj);
	return OidIsValid(nsp) && isAnyTempNamespace(nsp);
}

/*
 * Append to *todo what a DROP ... CASCADE of it would come from (pg_depend
 * in dep): the objects obj depends on (normal, auto or internal: dropping
 * one drops obj), or (internal_parts) those that are internal parts of obj
 * (a range's multirange, a generated column's expression: dropping one
 * drops obj, its owner).  values: also what changes obj's values, a
 * relation's (a composite type's) every attribute's, all of a relation
 * taken as one; else a relation's or column's own, each column apart
 * (dropping a column drops neither its relation nor another column).
 */
static void
bh_walk_depend(Relation dep, const ObjectAddress *obj, bool internal_parts, bool values,
			   List **todo)
{
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		columns = (!values && obj->classId == RelationRelationId);

	ScanKeyInit(&key[0], internal_parts ? Anum_pg_depend_refclassid : Anum_pg_depend_classid,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(obj->classId));
	ScanKeyInit(&key[1], internal_parts ? Anum_pg_depend_refobjid : Anum_pg_depend_objid,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(obj->objectId));
	scan = systable_beginscan(dep, internal_parts ? DependReferenceIndexId : DependDependerIndexId,
							  true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);
		int32		subid = internal_parts ? d->refobjsubid : d->objsubid;
		ObjectAddress *next;

		if (internal_parts ? d->deptype != DEPENDENCY_INTERNAL :
			(d->deptype != DEPENDENCY_NORMAL && d->deptype != DEPENDENCY_AUTO &&
			 d->deptype != DEPENDENCY_INTERNAL))
			continue;
		/* the relation's own, or the column's and the relation's */
		if (columns && subid != 0 && subid != obj->objectSubId)
			continue;
		next = palloc(sizeof(ObjectAddress));
		next->classId = internal_parts ? d->classid : d->refclassid;
		next->objectId = internal_parts ? d->objid : d->refobjid;
		next->objectSubId = values ? 0 : (internal_parts ? d->objsubid : d->refobjsubid);
		*todo = lappend(*todo, next);
	}
	systable_endscan(scan);
}

/*
 * Does a DROP ... CASCADE of an object of a temporary schema reach the
 * objects in todo (ObjectAddress *, freed), dropping one (values false:
 * a generated column's expression's objects, a table itself) or also
 * changing its values (values: a column's type and collation, whose
 * attributes' values are the column's)?  By pg_depend, from each: the
 * objects each depends on (a domain's base type, collation and DEFAULT's
 * functions; a range's subtype, collation and functions; a composite
 * type's relation, and with values its attributes' types and collations;
 * a view's rule's objects...), and the internal parts of each (a range's
 * multirange, a view's rule), in turn, each object once (bh_walk_depend()).
 * *seen: the objects the walks of the caller's pass saw reaching none,
 * skipped (created at first; bh_temp_walk_end() after the pass; not to be
 * used again once a walk returned true).  *temp is set to the temporary
 * object found (InvalidOid as classId: more objects than BH_TEMP_WALK_MAX
 * in the walk, taken as reaching one: refused, unfollowed).
 */
static bool
bh_walk_reaches_temp(List *todo, bool values, HTAB **seen, ObjectAddress *temp)
{
	Relation	dep;
	bool		found = false;
	long		walked = 0;
	ObjectAddress *obj;

	temp->classId = InvalidOid;
	temp->objectId = InvalidOid;
	temp->objectSubId = 0;
	if (*seen == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(BhWalkKey);
		ctl.entrysize = sizeof(BhWalkSeen);
		ctl.hcxt = CurrentMemoryContext;
		*seen = hash_create("bh_audit temporary dependency walk", 64, &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	dep = table_open(DependRelationId, AccessShareLock);
	while (todo != NIL && !found)
	{
		BhWalkKey	key;
		BhWalkSeen *entry;
		bool		dup;

		obj = (ObjectAddress *) linitial(todo);
		todo = list_delete_first(todo);
		if (IsPinnedObject(obj->classId, obj->objectId))
			continue;
		memset(&key, 0, sizeof(key));
		key.classId = obj->classId;
		key.objectId = obj->objectId;
		key.objectSubId = values ? 0 : obj->objectSubId;
		entry = (BhWalkSeen *) hash_search(*seen, &key, HASH_ENTER, &dup);
		/* walked for its values covers its drop, not the other way round */
		if (dup && (entry->values || !values))
			continue;
		entry->values = values;
		if (++walked > BH_TEMP_WALK_MAX)
			found = true;
		else if (bh_object_is_temp(obj))
		{
			*temp = *obj;
			found = true;
		}
		else if (obj->classId != NamespaceRelationId)
		{
			bh_walk_depend(dep, obj, false, values, &todo);
			/* only types and relations have internal parts on the way */
			if (obj->classId == TypeRelationId || obj->classId == RelationRelationId)
				bh_walk_depend(dep, obj, true, values, &todo);
		}
	}
	table_close(dep, AccessShareLock);
	list_free_deep(todo);
	return found;
}

/* After a pass: the objects its walks saw (bh_walk_reaches_temp()), freed. */
void
bh_temp_walk_end(HTAB *seen)
{
	if (seen != NULL)
		hash_destroy(seen);
}

/*
 * Would a column of type typid and collation collid (if valid) depend on
 * an object of a temporary schema, which PostgreSQL drops with it (the
 * column, or an attribute of its type) when the session ends?  What a
 * DROP ... CASCADE of the temporary schema's objects would reach it from,
 * from the collation and the type, for its values (bh_walk_reaches_temp();
 * *seen: the pass's; *temp: the object found).
 */
static bool
bh_column_is_temp(Oid typid, Oid collid, HTAB **seen, ObjectAddress *temp)
{
	List	   *todo = NIL;
	ObjectAddress *obj;

	/* a built-in type and collation (int, text...) depend on nothing */
	if (IsPinnedObject(TypeRelationId, typid) &&
		(!OidIsValid(collid) || IsPinnedObject(CollationRelationId, collid)))
	{
		temp->classId = InvalidOid;
		temp->objectId = InvalidOid;
		temp->objectSubId = 0;
		return false;
	}
	/* the collation first: named as what the column depends on */
	if (OidIsValid(collid))
	{
		obj = palloc(sizeof(ObjectAddress));
		ObjectAddressSet(*obj, CollationRelationId, collid);
		todo = lappend(todo, obj);
	}
	obj = palloc(sizeof(ObjectAddress));
	ObjectAddressSet(*obj, TypeRelationId, typid);
	todo = lappend(todo, obj);
	return bh_walk_reaches_temp(todo, true, seen, temp);
}

/*
 * Does object classId/objectId (one a statement altered or replaced: a
 * function, a view, a domain ...) depend on an object of a temporary schema, as a column's type would (bh_walk_reaches_temp();
 * *seen: the pass's)?
 */
static bool
bh_object_reaches_temp(Oid classId, Oid objectId, HTAB **seen, ObjectAddress *temp)
{
	ObjectAddress *obj = palloc(sizeof(ObjectAddress));

	ObjectAddressSet(*obj, classId, objectId);
	return bh_walk_reaches_temp(list_make1(obj), true, seen, temp);
}

/*
 * The error for a column colname of a tagged (or to be tagged) table,
 * not a temporary one, of type typid that depends on an object of a
 * temporary schema (bh_column_is_temp(): temp, a collation, a type or
 * another object, or none when it was not followed to the end):
 * PostgreSQL drops the column (or the attribute of its type) with the
 * object when the session ends, outside any statement, and its values
 * with it (a tagged id or patient column could not be dropped at all: the
 * session's temporary objects would stay behind).
 */
static void
bh_refuse_temp_dependency(const char *table, const char *colname, Oid typid,
						  const ObjectAddress *temp)
{
	if (temp->classId == CollationRelationId)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("column \"%s\" of tagged table \"%s\" cannot depend on temporary collation %s",
						colname, table, get_collation_name(temp->objectId)),
				 errdetail("PostgreSQL drops the column, or the attribute of its type, with the collation when the session ends, and its values with it, without an event.")));
	if (OidIsValid(temp->classId) && temp->classId != TypeRelationId)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("column \"%s\" of tagged table \"%s\" cannot depend on temporary %s",
						colname, table, getObjectDescription(temp, false)),
				 errdetail("PostgreSQL drops the column's type %s, or the attribute of its type, with that object when the session ends, and the column's values with it, without an event.",
						   format_type_be(typid))));
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("column \"%s\" of tagged table \"%s\" cannot be of temporary type %s",
					colname, table, format_type_be(typid)),
			 errdetail("PostgreSQL drops the column, or the attribute of its type, with the type when the session ends, and its values with it, without an event.")));
}

/*
 * Does generated column attnum of rel depend on an object of a temporary
 * schema?  Its expression (pg_attrdef) is an internal part of the column:
 * a DROP ... CASCADE of a function it calls (or of what that function's
 * body depends on) drops the column, and its values.  The walk from the
 * expression's objects, for their drop (bh_walk_reaches_temp(); *seen:
 * the pass's): a composite type it casts to, not the type's attributes,
 * whose drop leaves the column; not from rel's columns it reads: each of
 * those is checked as a column of its own.
 */
static bool
bh_generated_is_temp(Oid rel, AttrNumber attnum, HTAB **seen, ObjectAddress *temp)
{
	Relation	dep;
	ObjectAddress def;
	List	   *refs = NIL;
	List	   *todo = NIL;
	ListCell   *lc;

	ObjectAddressSet(def, AttrDefaultRelationId, GetAttrDefaultOid(rel, attnum));
	if (!OidIsValid(def.objectId))
		return false;
	dep = table_open(DependRelationId, AccessShareLock);
	bh_walk_depend(dep, &def, false, false, &refs);
	table_close(dep, AccessShareLock);
	foreach(lc, refs)
	{
		ObjectAddress *ref = (ObjectAddress *) lfirst(lc);

		if (ref->classId == RelationRelationId && ref->objectId == rel)
			pfree(ref);
		else
			todo = lappend(todo, ref);
	}
	list_free(refs);
	return bh_walk_reaches_temp(todo, false, seen, temp);
}

/*
 * The error for generated column colname of tagged table table (not a
 * temporary one) whose expression depends on temp, an object of a
 * temporary schema (bh_generated_is_temp(); none: not followed to the
 * end): PostgreSQL drops the column with it when the session ends, and a
 * tagged id or patient column it cannot drop (the exit fails).
 */
static void
bh_refuse_temp_generated(const char *table, const char *colname, const ObjectAddress *temp)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("generated column \"%s\" of tagged table \"%s\" cannot depend on temporary %s",
					colname, table,
					OidIsValid(temp->classId) ? getObjectDescription(temp, false) : "objects"),
			 errdetail("PostgreSQL drops the column with that object when the session ends, and its values with it, without an event.")));
}

/*
 * The tag of relid if it is captured (tagged itself or under a tagged
 * table) and not a temporary table, whose columns PostgreSQL drops with
 * the session's temporary objects along with the table itself; else NULL.
 */
static const BhTag *
bh_tag_not_temp(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	char		persistence;

	/* (gone: dropped by another session since the tag cache listed it) */
	if (!HeapTupleIsValid(tup))
		return NULL;
	persistence = ((Form_pg_class) GETSTRUCT(tup))->relpersistence;
	ReleaseSysCache(tup);
	if (persistence == RELPERSISTENCE_TEMP)
		return NULL;
	return bh_tag_lookup(relid);
}

/*
 * The error for table relname (not a temporary one), captured under
 * tagged table table, that depends on temp, an object of a temporary
 * schema (a typed table's type; none: not followed to the end):
 * PostgreSQL drops the whole table with it when the session ends.
 */
static void
bh_refuse_temp_table(const char *table, const char *relname, const ObjectAddress *temp)
{
	const char *what = OidIsValid(temp->classId) ?
	getObjectDescription(temp, false) : "objects";

	if (strcmp(table, relname) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("tagged table \"%s\" cannot depend on temporary %s", table, what),
				 errdetail("PostgreSQL drops the table with that object when the session ends, and its rows with it, without an event.")));
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("table \"%s\" of tagged table \"%s\" cannot depend on temporary %s",
					relname, table, what),
			 errdetail("PostgreSQL drops the table with that object when the session ends, and its rows with it, without an event.")));
}

/*
 * rel (not a temporary table), captured under tagged table table: refused
 * if it depends on an object of a temporary schema itself (a typed
 * table's type, CREATE TABLE ... OF or ALTER TABLE ... OF:
 * bh_refuse_temp_table()), or one of its columns does, through its type
 * or collation (bh_column_is_temp(), bh_refuse_temp_dependency()) or, a
 * generated column, through its expression (bh_generated_is_temp()).
 * *seen: the objects the caller's pass walked so far, reaching none
 * (NULL at first; bh_temp_walk_end() after the pass): each walked once,
 * however many columns, generated columns and partitions reach it.
 */
void
bh_check_temp_columns(Oid rel, const char *table, HTAB **seen)
{
	Relation	r = try_relation_open(rel, AccessShareLock);
	TupleDesc	desc;
	ObjectAddress *self;
	ObjectAddress temp;
	int			i;

	if (r == NULL)
		return;
	self = palloc(sizeof(ObjectAddress));
	ObjectAddressSet(*self, RelationRelationId, rel);
	if (bh_walk_reaches_temp(list_make1(self), false, seen, &temp))
		bh_refuse_temp_table(table, RelationGetRelationName(r), &temp);
	desc = RelationGetDescr(r);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		if (att->attgenerated && bh_generated_is_temp(rel, att->attnum, seen, &temp))
			bh_refuse_temp_generated(table, NameStr(att->attname), &temp);
		if (bh_column_is_temp(att->atttypid, att->attcollation, seen, &temp))
			bh_refuse_temp_dependency(table, NameStr(att->attname), att->atttypid, &temp);
	}
	relation_close(r, AccessShareLock);
}

/*
 * Statement g (active) altered or replaced object classId/objectId: noted,
 * in its memory, once, for bh_check_replaced() after it.
 */
void
bh_note_altered(BhGuardUtility *g, Oid classId, Oid objectId)
{
	MemoryContext old;
	ObjectAddress *obj;
	ListCell   *lc;

	if (g == NULL || !g->active || !OidIsValid(objectId))
		return;
	foreach(lc, g->altered)
	{
		obj = (ObjectAddress *) lfirst(lc);
		if (obj->classId == classId && obj->objectId == objectId)
			return;
	}
	old = MemoryContextSwitchTo(g->cxt);
	obj = palloc(sizeof(ObjectAddress));
	ObjectAddressSet(*obj, classId, objectId);
	g->altered = lappend(g->altered, obj);
	MemoryContextSwitchTo(old);
}

/*
 * The objects whose walk (bh_walk_reaches_temp(), from a tagged table as
 * bh_check_temp_columns() walks it) may pass through one of roots
 * (ObjectAddress *): pg_depend read backwards from each, in turn, each
 * object once, whole (its columns as one): the objects that depend on it
 * (normal, auto or internal), the type or relation it is an internal part
 * of (a relation's row type, a type's array type, a view's rule), and for
 * a generated column's expression its table (bh_generated_is_temp()).  More than the walk follows (every column of a relation, not the
 * one a column depends on), never less: a tagged table not among them
 * cannot come to depend on a temporary object through roots, and need not
 * be opened (nor wait for another session's lock on it).  Read from the
 * catalogs only, no relation locked.  The objects, in a hash of
 * BhWalkKey (objectSubId 0), or NULL: more than BH_TEMP_WALK_MAX, any
 * table taken as reached.
 */
static HTAB *
bh_objects_reaching(List *roots)
{
	HASHCTL		ctl;
	HTAB	   *reached;
	Relation	dep;
	List	   *todo = NIL;
	long		walked = 0;
	ListCell   *lc;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(BhWalkKey);
	ctl.entrysize = sizeof(BhWalkKey);
	ctl.hcxt = CurrentMemoryContext;
	reached = hash_create("bh_audit objects reaching altered ones", 64, &ctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	foreach(lc, roots)
	{
		ObjectAddress *obj = palloc(sizeof(ObjectAddress));

		*obj = *(ObjectAddress *) lfirst(lc);
		obj->objectSubId = 0;
		todo = lappend(todo, obj);
	}
	dep = table_open(DependRelationId, AccessShareLock);
	while (todo != NIL)
	{
		ObjectAddress *obj = (ObjectAddress *) linitial(todo);
		BhWalkKey	key;
		bool		dup;
		List	   *deps;
		ScanKeyData skey[2];
		SysScanDesc scan;
		HeapTuple	tup;

		todo = list_delete_first(todo);
		memset(&key, 0, sizeof(key));
		key.classId = obj->classId;
		key.objectId = obj->objectId;
		hash_search(reached, &key, HASH_ENTER, &dup);
		if (dup)
		{
			pfree(obj);
			continue;
		}
		if (++walked > BH_TEMP_WALK_MAX)
		{
			hash_destroy(reached);
			reached = NULL;
			break;
		}

		/* what depends on obj (bh_depending_on: the one scan of those rows) */
		deps = bh_depending_on(obj->classId, obj->objectId);
		foreach(lc, deps)
		{
			Form_pg_depend d = (Form_pg_depend) lfirst(lc);

			if (d->deptype == DEPENDENCY_NORMAL || d->deptype == DEPENDENCY_AUTO ||
				d->deptype == DEPENDENCY_INTERNAL)
				todo = bh_object_append(todo, d->classid, d->objid);
		}
		list_free_deep(deps);

		/* what obj is an internal part of */
		ScanKeyInit(&skey[0], Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(obj->classId));
		ScanKeyInit(&skey[1], Anum_pg_depend_objid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(obj->objectId));
		scan = systable_beginscan(dep, DependDependerIndexId, true, NULL, 2, skey);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);
			bool		owner;

			if (d->deptype != DEPENDENCY_NORMAL && d->deptype != DEPENDENCY_AUTO &&
				d->deptype != DEPENDENCY_INTERNAL)
				continue;
			/* the walk goes to a type's or relation's internal parts */
			owner = (d->deptype == DEPENDENCY_INTERNAL &&
					 (d->refclassid == TypeRelationId ||
					  d->refclassid == RelationRelationId));

			/*
			 * and from a generated column to its expression's objects: back
			 * from the expression to its table (not from a plain DEFAULT's,
			 * which the walk does not follow)
			 */
			if (!owner && obj->classId == AttrDefaultRelationId &&
				d->refclassid == RelationRelationId && d->refobjsubid > 0)
			{
				HeapTuple	att = SearchSysCache2(ATTNUM,
												  ObjectIdGetDatum(d->refobjid),
												  Int16GetDatum(d->refobjsubid));

				if (HeapTupleIsValid(att))
				{
					owner = ((Form_pg_attribute) GETSTRUCT(att))->attgenerated != '\0';
					ReleaseSysCache(att);
				}
			}
			if (owner)
				todo = bh_object_append(todo, d->refclassid, d->refobjid);
		}
		systable_endscan(scan);
		pfree(obj);
	}
	table_close(dep, AccessShareLock);
	list_free_deep(todo);
	return reached;
}

/*
 * After a statement that altered or replaced the objects altered
 * (ObjectAddress; bh_note_altered(): each object PostgreSQL's post-alter
 * hook names, as ALTER DOMAIN ... SET DEFAULT, ALTER TEXT SEARCH
 * CONFIGURATION ... ALTER MAPPING, ALTER OPERATOR ... SET (RESTRICT ...),
 * ALTER FUNCTION ... SUPPORT, ALTER TYPE ... SET (RECEIVE ...) and
 * ALTER TABLE ... OF do; CREATE OR REPLACE FUNCTION, AGGREGATE, VIEW or
 * RULE's object): one now depending on an object of a temporary schema (a
 * domain's DEFAULT's function, a configuration's dictionary, an
 * operator's estimator, a function's support function or SQL-standard
 * body's call, a base type's RECEIVE ... function, a typed table's type)
 * may be what a tagged table or column depends on (a generated column's
 * cast, configuration, operator or function, a column's type, an
 * aggregate a view calls, the table's own type), which PostgreSQL then
 * drops with its values when the session ends: the tagged tables that may
 * reach one of those (bh_objects_reaching(), by pg_depend, not opening
 * any) are checked as at tagging, and refused so (bh_check_temp_columns()),
 * once.  The others are not opened: an ALTER of an untagged table with a
 * column of a temporary row type no longer waits for another session's
 * lock on a tagged table it has nothing to do with (nor deadlocks with it).
 * Not CREATE OR REPLACE TRIGGER: no column depends on a trigger (its drop
 * leaves the columns).
 */
void
bh_check_replaced(List *altered)
{
	HTAB	   *seen = NULL;
	HTAB	   *reached;
	ObjectAddress temp;
	List	   *roots = NIL;
	ListCell   *lc;

	if (altered == NIL || !bh_tags_any())
		return;
	CommandCounterIncrement();	/* their dependencies, just recorded */
	foreach(lc, altered)
	{
		ObjectAddress *obj = (ObjectAddress *) lfirst(lc);
		Relation	catalog;
		HeapTuple	tup;
		AttrNumber	nsp_att;
		bool		walk;

		/* of a catalog of its own, still there (not a rewrite's old heap) */
		if (!is_objectclass_supported(obj->classId))
			continue;
		catalog = table_open(obj->classId, AccessShareLock);
		tup = get_catalog_object_by_oid(catalog, get_object_attnum_oid(obj->classId),
										obj->objectId);
		walk = (tup != NULL);

		/*
		 * Not an object of a temporary schema itself (a temporary table, its
		 * sequence, a pg_temp function): no tagged table or column can depend
		 * on one (refused as it would), so altering it gives none a new
		 * dependency, and walking from it (which reaches a temporary object
		 * at once) would check every tagged table, under their locks, at
		 * every ALTER of a session's own temporary objects.
		 */
		nsp_att = get_object_attnum_namespace(obj->classId);
		if (walk && nsp_att != InvalidAttrNumber)
		{
			bool		isnull;
			Datum		nsp = heap_getattr(tup, nsp_att, RelationGetDescr(catalog), &isnull);

			walk = isnull || !isAnyTempNamespace(DatumGetObjectId(nsp));
		}
		if (tup != NULL)
			heap_freetuple(tup);
		table_close(catalog, AccessShareLock);
		if (walk && bh_object_reaches_temp(obj->classId, obj->objectId, &seen, &temp))
		{
			roots = lappend(roots, obj);
			/* (what a walk that found one saw is not to be used again) */
			bh_temp_walk_end(seen);
			seen = NULL;
		}
	}
	bh_temp_walk_end(seen);
	if (roots == NIL)
		return;
	reached = bh_objects_reaching(roots);
	list_free(roots);
	seen = NULL;
	foreach(lc, bh_tagged_relations())
	{
		Oid			rel = lfirst_oid(lc);
		const BhTag *tag;

		if (reached != NULL)
		{
			BhWalkKey	key;

			memset(&key, 0, sizeof(key));
			key.classId = RelationRelationId;
			key.objectId = rel;
			if (hash_search(reached, &key, HASH_FIND, NULL) == NULL)
				continue;
		}
		tag = bh_tag_not_temp(rel);
		if (tag != NULL)
			bh_check_temp_columns(rel, get_rel_name(tag->tagged_relid), &seen);
	}
	bh_temp_walk_end(seen);
	if (reached != NULL)
		hash_destroy(reached);
}

/*
 * The columns relids/attnums (in pairs, bh_columns_of_type()) that would
 * depend on temp, an object of a temporary schema: refused for the first
 * that is of a tagged table that is not temporary
 * (bh_refuse_temp_dependency()).
 */
static void
bh_refuse_temp_columns(List *relids, List *attnums, const ObjectAddress *temp)
{
	ListCell   *r;
	ListCell   *a;

	forboth(r, relids, a, attnums)
	{
		Oid			relid = lfirst_oid(r);
		AttrNumber	attnum = (AttrNumber) lfirst_int(a);

		if (bh_tag_not_temp(relid) != NULL)
			bh_refuse_temp_dependency(get_rel_name(relid), get_attname(relid, attnum, false),
									  get_atttype(relid, attnum), temp);
	}
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
 * instead) and its writes are captured; the server's event instead
 * (bh_write_table_cleanup_event()) for the clean-up of a crashed
 * session's temporary schema (g->cleaned).
 */
void
bh_values_changes_record(const char *statement, BhGuardUtility *g)
{
	ListCell   *lc;

	foreach(lc, g->values_changes)
	{
		BhValuesChange *c = (BhValuesChange *) lfirst(lc);
		const BhTag *tag = bh_tag_lookup(c->relid);

		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(c->relid)) ||
			tag == NULL || !tag->capture_writes)
			continue;
		if (g->cleaned != NULL)
			bh_write_table_cleanup_event(tag, c->rows,
										 c->retyped.len > 0 ? c->retyped.data : NULL,
										 c->dropped.len > 0 ? c->dropped.data : NULL,
										 g->cleaned);
		else
			bh_write_table_event(tag, c->rows, "UPDATE", statement,
								 c->retyped.len > 0 ? c->retyped.data : NULL,
								 c->dropped.len > 0 ? c->dropped.data : NULL);
	}
}

/*
 * ADD COLUMN or ALTER COLUMN ... TYPE (ALTER TYPE ... ADD | ALTER
 * ATTRIBUTE) whose column would depend on an object of a temporary schema
 * (bh_column_is_temp(): through its type or its collation), reaching a
 * tagged table that is not temporary, named or reached through a parent
 * or as a typed table, or changing the row type
 * a column of one is of (or is built on, bh_columns_of_type()): refused
 * (bh_refuse_temp_dependency()).  Not ADD COLUMN IF NOT EXISTS of a column the
 * table has: PostgreSQL skips it (with a NOTICE), adding nothing anywhere.
 */
static void
bh_check_temp_column(RangeVar *rv, AlterTableCmd *cmd)
{
	ColumnDef  *def = (ColumnDef *) cmd->def;
	Type		type;
	Oid			typid;
	Oid			collid;
	ObjectAddress temp;
	Oid			named;
	HTAB	   *seen = NULL;
	bool		reaches;
	List	   *relids = NIL;
	List	   *attnums = NIL;
	ListCell   *lc;

	if (def == NULL || !IsA(def, ColumnDef) || def->typeName == NULL ||
		(type = LookupTypeName(NULL, def->typeName, NULL, true)) == NULL)
		return;
	typid = typeTypeId(type);
	ReleaseSysCache(type);

	/* ADD COLUMN IF NOT EXISTS of a column there: PostgreSQL skips it all */
	named = RangeVarGetRelid(rv, NoLock, true);
	if (cmd->subtype == AT_AddColumn && cmd->missing_ok && OidIsValid(named) &&
		def->colname != NULL && get_attnum(named, def->colname) != InvalidAttrNumber)
		return;
	collid = def->collClause ? get_collation_oid(def->collClause->collname, true) : def->collOid;
	reaches = bh_column_is_temp(typid, collid, &seen, &temp);
	bh_temp_walk_end(seen);
	if (!reaches)
		return;
	foreach(lc, bh_reached_relations(rv))
	{
		Oid			relid = lfirst_oid(lc);

		if (bh_tag_not_temp(relid) != NULL)
			bh_refuse_temp_dependency(get_rel_name(relid),
									  def->colname ? def->colname : cmd->name, typid, &temp);
	}
	if (!OidIsValid(named) || !OidIsValid(get_rel_type_id(named)))
		return;
	bh_columns_of_type(get_rel_type_id(named), &relids, &attnums);
	bh_refuse_temp_columns(relids, attnums, &temp);
}

/*
 * After ALTER TABLE ... ADD COLUMN or ALTER COLUMN ... TYPE: PostgreSQL
 * stored a generated column's expression (added, or cast to the column's
 * new type, which may call a cast's function), whose objects the column
 * depends on itself, not through its type (bh_check_temp_column() sees
 * the type only, before).  The tagged tables that are not temporary the
 * statement reached (bh_reached_relations()), checked as at tagging
 * (bh_check_temp_columns()).  (PostgreSQL refuses both to a table whose
 * row type a column is of.)
 */
void
bh_check_generated_after(AlterTableStmt *stmt)
{
	HTAB	   *seen = NULL;
	bool		stored = false;
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		stored |= (cmd->subtype == AT_AddColumn || cmd->subtype == AT_AlterColumnType);
	}
	if (!stored || !bh_tags_any())
		return;
	CommandCounterIncrement();	/* the expressions' dependencies, just
								 * recorded */
	foreach(lc, bh_reached_relations(stmt->relation))
	{
		const BhTag *tag = bh_tag_not_temp(lfirst_oid(lc));

		if (tag != NULL)
			bh_check_temp_columns(lfirst_oid(lc), get_rel_name(tag->tagged_relid), &seen);
	}
	bh_temp_walk_end(seen);
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
 * a composite type with an attribute of it, however deep (pg_depend: a
 * column depends on its type, an array type or a domain on its element or
 * base type, a composite type's attribute on its type), appended to
 * *relids and *attnums, in pairs.  Each type is followed once.
 */
static void
bh_columns_of_type(Oid typid, List **relids, List **attnums)
{
	List	   *types = list_make1_oid(typid);
	int			i;

	for (i = 0; i < list_length(types); i++)
	{
		List	   *deps = bh_depending_on(TypeRelationId, list_nth_oid(types, i));
		ListCell   *lc;

		foreach(lc, deps)
		{
			Form_pg_depend d = (Form_pg_depend) lfirst(lc);

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
				if (OidIsValid(rowtype))
					types = list_append_unique_oid(types, rowtype);
			}
			else if (d->classid == TypeRelationId)
				types = list_append_unique_oid(types, d->objid);
		}
		list_free_deep(deps);
	}
	list_free(types);
}

/*
 * The attributes of composite type composite_relid change (added, or
 * dropped: by ALTER TYPE, or with a type dropped with CASCADE): so do the
 * values of every column of the type, in every row.  For each tagged
 * table (or materialized view) with such a column: a tagged id or
 * patient column's is recorded as a change of its type
 * (tagged_patient_column_type_changed); the change of the rows' values is
 * noted for g's statement, which records it after it ran (unless the
 * table's writes are not captured), or for the transaction dropping the
 * session's temporary objects at its end (config_guard.c's
 * bh_guard_noting()); g NULL (that transaction's commit under way):
 * recorded at once, statement "session end".
 */
void
bh_composite_changed(Oid composite_relid, BhGuardUtility *g)
{
	List	   *relids = NIL;
	List	   *attnums = NIL;
	ListCell   *r;
	ListCell   *a;

	bh_columns_of_type(get_rel_type_id(composite_relid), &relids, &attnums);
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
 * attribute of it), one UPDATE event naming them.  Queued in the
 * statement's transaction, before it runs.
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
	bh_columns_of_type(typid, &relids, &attnums);

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

			/*
			 * a move from label to label: the patient column is of the enum
			 * (or a domain over it)
			 */
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
