/*-------------------------------------------------------------------------
 *
 * own_acl.c
 *		Who may write the extension's own tables and own its objects,
 *		whatever privileges PostgreSQL would let a role acquire.
 *
 *	- the rows of the ledger, the queue, the tag catalog and the ledger's
 *	  home are written by the extension's own code (as the bootstrap
 *	  superuser, or directly as heap tuples) and by a superuser's restore:
 *	  an INSERT, UPDATE, DELETE, MERGE, COPY FROM or TRUNCATE of one by a
 *	  role that is no superuser is refused, however that role came by the
 *	  privilege (pg_write_all_data, which a CREATEROLE role can grant
 *	  itself, a default privilege, a GRANT): deleting a tag row would
 *	  switch a table's capture off unrecorded, and a queued or appended
 *	  row would be chained as a genuine event;
 *	- the extension's objects (its relations, functions, schema and the
 *	  extension itself) are owned by superusers only: ALTER ... OWNER TO,
 *	  REASSIGN OWNED giving one to another role is refused, as the owner
 *	  could grant itself what the trail keeps from it, or drop it; and
 *	  all are checked when bh_audit's script has run (an event trigger
 *	  may change an owner in it); a superuser that owns one does not lose
 *	  the attribute (ALTER ROLE ... NOSUPERUSER), whichever database of
 *	  the cluster holds the object (bh_check_role_demoted());
 *	- the installing role's default privileges (ALTER DEFAULT PRIVILEGES)
 *	  are not applied to the objects the extension's scripts create: each
 *	  starts with PostgreSQL's built-in privileges, and carries only what
 *	  the script then grants.
 *
 * The superuser's own direct edits of the tag catalog are recorded by its
 * statement trigger (tag_cache.c).  Not refused: setval() or nextval() of
 * the queue's identity sequence by a role holding UPDATE on it
 * (pg_write_all_data): PostgreSQL checks those functions' privilege with
 * no hook to refuse them by; the queue's ids do not follow such a move
 * back or out of reach (queue_ids.c, bh_seq_floor()).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/genam.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_shdepend.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "replication/logicalworker.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "bh_audit.h"
#include "extension_drop.h"
#include "own_guard.h"
#include "settings_guard.h"

static ExecutorCheckPerms_hook_type prev_check_perms = NULL;

/* Objects created by an extension's script, whose privileges to reset. */
typedef struct BhCreated
{
	Oid			classid;
	Oid			objid;
	Oid			extension;		/* the extension being created */
} BhCreated;

static BhCreated *bh_created = NULL;
static int	bh_created_n = 0;
static int	bh_created_max = 0;

/* The transaction reset the extension's schema's privileges already. */
static bool bh_schema_reset = false;

/* The CREATE EXTENSION running creates the schema bh_audit (it was not). */
static bool bh_schema_created = false;

/* The statement running drops the extension bh_audit. */
static bool bh_extension_dropped = false;

/*
 * A write of one of the extension's own tables (relid) by userid: the
 * table, to refuse the write for (bh_refuse_own_write()), unless userid is
 * a superuser; NULL for any other table or a superuser.  The extension's
 * own SQL runs as the bootstrap superuser, the sealer is one, and so is a
 * restore's role; a replication worker's changes do not come here (the
 * tables' triggers skip them).
 */
static const BhOwnTable *
bh_own_write_refused(Oid relid, Oid userid)
{
	if (superuser_arg(userid))
		return NULL;
	return bh_own_table(relid);
}

/* Refuse a write of own (bh_own_write_refused()'s): ERROR. */
static void
bh_refuse_own_write(const BhOwnTable *own, const char *verb)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot %s %s: only the extension and superusers write it", verb, own->name),
			 errdetail("A role that is no superuser may not change the rows of bh_audit's tables, whatever privilege it holds on them."),
			 errhint("Tag and untag tables with bh_audit.tag_table() and bh_audit.untag_table(); record events with bh_audit.emit().")));
}

/*
 * ExecutorCheckPerms_hook: after PostgreSQL's checks passed (of a query's
 * range table, or of COPY FROM's), an insert, update or delete of one of
 * the extension's own tables by a role that is no superuser (the role the
 * check is made as: a view's owner through a view).  SELECT ... FOR
 * UPDATE asks for UPDATE, and is refused too.
 */
static bool
bh_own_check_perms(List *rangeTable, bool ereport_on_violation)
{
	ListCell   *lc;

	if (prev_check_perms && !prev_check_perms(rangeTable, ereport_on_violation))
		return false;
	foreach(lc, rangeTable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);
		const BhOwnTable *own;

		if (rte->rtekind != RTE_RELATION ||
			(rte->requiredPerms & (ACL_INSERT | ACL_UPDATE | ACL_DELETE)) == 0)
			continue;
		own = bh_own_write_refused(rte->relid, OidIsValid(rte->checkAsUser) ?
								   rte->checkAsUser : GetUserId());
		if (own == NULL)
			continue;
		if (!ereport_on_violation)
			return false;
		bh_refuse_own_write(own, "change");
	}
	return true;
}

/*
 * Read the owner of an object as it is now, a change of this command
 * included (the syscache shows it only after the next command counter
 * increment).  classid: pg_class, pg_proc, pg_namespace or pg_extension.
 */
static Oid
bh_owner_now(Oid classid, Oid objid)
{
	HeapTuple	tup = bh_catalog_row(classid, get_object_attnum_oid(classid), objid,
									 SnapshotSelf);
	Oid			owner = InvalidOid;

	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	if (classid == RelationRelationId)
		owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	else if (classid == ProcedureRelationId)
		owner = ((Form_pg_proc) GETSTRUCT(tup))->proowner;
	else if (classid == NamespaceRelationId)
		owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	else if (classid == ExtensionRelationId)
		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	heap_freetuple(tup);
	return owner;
}

/* One of the extension's objects must be owned by a superuser: else ERROR. */
static void
bh_require_super_owner(Oid classid, Oid objid)
{
	Oid			owner = bh_owner_now(classid, objid);

	if (!OidIsValid(owner) || superuser_arg(owner))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot give %s to role \"%s\": bh_audit's objects are owned by superusers only",
					getObjectDescriptionOids(classid, objid),
					GetUserNameFromId(owner, false)),
			 errdetail("Their owner could grant itself any privilege on the audit trail, edit the tag catalog or the queue, or drop them."),
			 errhint("Give bh_audit's objects to a superuser (REASSIGN OWNED BY ... TO a superuser), then give the role's other objects to the role you meant.")));
}

/*
 * After an ALTER of one of the extension's objects (ALTER ... OWNER TO,
 * REASSIGN OWNED among them): its owner must be a superuser.  The owner of
 * a table of the trail could grant itself any privilege on it, the owner
 * of a function EXECUTE of it (export_jsonl(), untag_table()), the owner of
 * the schema drop everything in it (DROP SCHEMA ... CASCADE), the owner of
 * the extension drop it.  Not checked in bh_audit's own script (all its
 * objects are, when it has run: bh_check_member_owners()), nor in
 * pg_upgrade's restore (which puts back the owners the old cluster had);
 * in another extension's script, as anywhere.
 */
static void
bh_check_own_owner(Oid classid, Oid objid)
{
	Oid			ext;

	if ((classid != RelationRelationId && classid != ProcedureRelationId &&
		 classid != NamespaceRelationId && classid != ExtensionRelationId) ||
		bh_in_own_script() || IsBinaryUpgrade || bh_extension_dropping() ||
		!OidIsValid(ext = get_extension_oid("bh_audit", true)))
		return;
	if (classid == RelationRelationId)
	{
		if (getExtensionOfObject(classid, objid) != ext && !bh_is_queue_sequence(objid))
			return;
	}
	else if (classid == ProcedureRelationId)
	{
		if (getExtensionOfObject(classid, objid) != ext)
			return;
	}
	else if (classid == NamespaceRelationId)
	{
		if (objid != bh_audit_schema())
			return;
	}
	else if (objid != ext)		/* the extension itself */
		return;
	bh_require_super_owner(classid, objid);
}

/* Reset the privileges of one object the extension's script created. */
static void
bh_reset_acl(Oid classid, Oid objid)
{
	Relation	catalog = table_open(classid, RowExclusiveLock);
	TupleDesc	desc = RelationGetDescr(catalog);
	AttrNumber	aclatt = get_object_attnum_acl(classid);
	HeapTuple	tup;
	bool		isnull;
	Datum		d;

	tup = SearchSysCacheCopy1(get_object_catcache_oid(classid), ObjectIdGetDatum(objid));
	if (HeapTupleIsValid(tup) &&
		(d = heap_getattr(tup, aclatt, desc, &isnull), !isnull))
	{
		Acl		   *old = DatumGetAclPCopy(d);
		Oid		   *members;
		int			n = aclmembers(old, &members);
		Oid			owner = DatumGetObjectId(heap_getattr(tup, get_object_attnum_owner(classid),
														  desc, &isnull));
		Datum	   *values = palloc0(sizeof(Datum) * desc->natts);
		bool	   *nulls = palloc0(sizeof(bool) * desc->natts);
		bool	   *replace = palloc0(sizeof(bool) * desc->natts);
		HeapTuple	newtup;

		nulls[aclatt - 1] = true;
		replace[aclatt - 1] = true;
		newtup = heap_modify_tuple(tup, desc, values, nulls, replace);
		CatalogTupleUpdate(catalog, &newtup->t_self, newtup);
		updateAclDependencies(classid, objid, 0, owner, n, members, 0, NULL);
	}
	table_close(catalog, RowExclusiveLock);
}

/* Is the object's owner role, or (role InvalidOid) no superuser? */
static bool
bh_owned_as(Oid classid, Oid objid, Oid role)
{
	Oid			owner = bh_owner_now(classid, objid);

	return OidIsValid(role) ? owner == role : OidIsValid(owner) && !superuser_arg(owner);
}

/*
 * The first of the extension's objects (ext) in this database, its member
 * relations and functions, its schema and itself, owned by role, or (role
 * InvalidOid) by a role that is no superuser: true, with its class and id.
 */
static bool
bh_member_owned(Oid ext, Oid role, Oid *classid, Oid *objid)
{
	List	   *members = bh_depending_on(ExtensionRelationId, ext);
	ListCell   *lc;
	bool		found = false;

	foreach(lc, members)
	{
		Form_pg_depend dep = (Form_pg_depend) lfirst(lc);

		if (dep->deptype == DEPENDENCY_EXTENSION &&
			(dep->classid == RelationRelationId || dep->classid == ProcedureRelationId) &&
			bh_owned_as(dep->classid, dep->objid, role))
		{
			*classid = dep->classid;
			*objid = dep->objid;
			found = true;
			break;
		}
	}
	list_free_deep(members);
	if (!found && bh_owned_as(NamespaceRelationId, bh_audit_schema(), role))
	{
		*classid = NamespaceRelationId;
		*objid = bh_audit_schema();
		found = true;
	}
	if (!found && bh_owned_as(ExtensionRelationId, ext, role))
	{
		*classid = ExtensionRelationId;
		*objid = ext;
		found = true;
	}
	return found;
}

/*
 * The owners of the extension's objects (ext) when its script has run:
 * superusers.  An event trigger fires for the script's commands as for any
 * (ddl_command_end), and one giving each new table and function to an
 * application's owner role would give it the trail; the script's own
 * statements are not told from the trigger's, the owners are checked once
 * at the end instead: CREATE EXTENSION fails.
 */
static void
bh_check_member_owners(Oid ext)
{
	Oid			classid;
	Oid			objid;

	if (bh_member_owned(ext, InvalidOid, &classid, &objid))
		bh_require_super_owner(classid, objid);
}

/*
 * A database other than this one where role owns an object granted to
 * bh_audit_reader or bh_audit_admin (*granted: which), or InvalidOid: as
 * bh_audit's script grants them each of its tables (the queue, the tag
 * catalog and the ledger's home REFERENCES of a column, which gives
 * nothing: a mark), its schema, its view tagged_tables and some of its
 * functions.  Another database's catalogs cannot be read from here, but
 * pg_shdepend, shared by all, records the grantees and the owner of each
 * object of every database: no owner there is a pinned role's (the
 * bootstrap superuser's), which PostgreSQL does not record.  It does not
 * tell those objects from an application's granted to the same roles: the
 * caller says what it found, not that it is bh_audit's.
 */
static Oid
bh_owner_elsewhere(Oid role, const char **granted)
{
	const char *const grantees[] = {"bh_audit_reader", "bh_audit_admin"};
	Relation	shdepend = table_open(SharedDependRelationId, AccessShareLock);
	Oid			found = InvalidOid;
	int			i;

	for (i = 0; i < lengthof(grantees) && !OidIsValid(found); i++)
	{
		Oid			grantee = get_role_oid(grantees[i], true);
		ScanKeyData key[2];
		SysScanDesc scan;
		HeapTuple	tup;

		if (!OidIsValid(grantee))
			continue;
		ScanKeyInit(&key[0], Anum_pg_shdepend_refclassid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(AuthIdRelationId));
		ScanKeyInit(&key[1], Anum_pg_shdepend_refobjid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(grantee));
		scan = systable_beginscan(shdepend, SharedDependReferenceIndexId, true, NULL, 2, key);
		while (!OidIsValid(found) && HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_shdepend acl = (Form_pg_shdepend) GETSTRUCT(tup);
			ScanKeyData okey[4];
			SysScanDesc oscan;
			HeapTuple	otup;
			Oid			owner = InvalidOid;

			if (acl->deptype != SHARED_DEPENDENCY_ACL || !OidIsValid(acl->dbid) ||
				acl->dbid == MyDatabaseId)
				continue;
			ScanKeyInit(&okey[0], Anum_pg_shdepend_dbid, BTEqualStrategyNumber,
						F_OIDEQ, ObjectIdGetDatum(acl->dbid));
			ScanKeyInit(&okey[1], Anum_pg_shdepend_classid, BTEqualStrategyNumber,
						F_OIDEQ, ObjectIdGetDatum(acl->classid));
			ScanKeyInit(&okey[2], Anum_pg_shdepend_objid, BTEqualStrategyNumber,
						F_OIDEQ, ObjectIdGetDatum(acl->objid));
			ScanKeyInit(&okey[3], Anum_pg_shdepend_objsubid, BTEqualStrategyNumber,
						F_INT4EQ, Int32GetDatum(0));
			oscan = systable_beginscan(shdepend, SharedDependDependerIndexId, true, NULL,
									   4, okey);
			while (HeapTupleIsValid(otup = systable_getnext(oscan)))
				if (((Form_pg_shdepend) GETSTRUCT(otup))->deptype == SHARED_DEPENDENCY_OWNER)
					owner = ((Form_pg_shdepend) GETSTRUCT(otup))->refobjid;
			systable_endscan(oscan);
			if (OidIsValid(owner) ? owner == role : IsPinnedObject(AuthIdRelationId, role))
			{
				found = acl->dbid;
				*granted = grantees[i];
			}
		}
		systable_endscan(scan);
	}
	table_close(shdepend, AccessShareLock);
	return found;
}

/*
 * ALTER ROLE ... NOSUPERUSER (in any spelling, among any other options)
 * of a superuser that owns one of bh_audit's objects: refused, as giving
 * one to a role that is no superuser is (bh_require_super_owner()): as
 * their owner, no superuser any more, it could grant itself the trail,
 * alter it or drop it.  Judged after PostgreSQL's own checks (only a
 * superuser may remove the attribute), on the role's row as the statement
 * wrote it (SnapshotSelf: AlterRole() calls the object access hook before
 * the command counter moves on) against the row before it.  The objects of
 * this database are all checked (bh_member_owned()); those of the other
 * databases, which cannot be read from here, through pg_shdepend
 * (bh_owner_elsewhere()): an object there granted to bh_audit_reader or
 * bh_audit_admin refuses it too, named as such, as it may be an
 * application's (run in that database, the statement tells them apart).
 * The extension itself, which has no privileges, is not seen from
 * elsewhere: its owner, when it owns none of its marked objects, is
 * judged in its database only (an extension there cannot be told from
 * another, and taking any for bh_audit's refused the owner of one in
 * each of two databases from everywhere).
 * The role is locked as DROP ROLE locks it: an owner change to it
 * (shdepChangeDep() locks the new owner) committed meanwhile is seen, one
 * still running is waited for, and one that comes later waits and then
 * finds it no superuser.  Not in pg_upgrade's
 * restore.
 */
static void
bh_check_role_demoted(Oid roleid)
{
	HeapTuple	before;
	HeapTuple	after;
	bool		demoted;
	Oid			ext;
	Oid			classid;
	Oid			objid;
	Oid			dbid;
	char	   *role;
	char	   *owned;
	const char *grantee = NULL;
	char	   *elsewhere = NULL;
	char	   *untold = NULL;

	if (IsBinaryUpgrade)
		return;
	before = bh_catalog_row(AuthIdRelationId, Anum_pg_authid_oid, roleid, NULL);
	after = bh_catalog_row(AuthIdRelationId, Anum_pg_authid_oid, roleid, SnapshotSelf);
	demoted = HeapTupleIsValid(before) && HeapTupleIsValid(after) &&
		((Form_pg_authid) GETSTRUCT(before))->rolsuper &&
		!((Form_pg_authid) GETSTRUCT(after))->rolsuper;
	if (!demoted)
		return;
	/* an owner change to the role, in any database, waits or is waited for */
	LockSharedObject(AuthIdRelationId, roleid, 0, AccessExclusiveLock);
	role = pstrdup(NameStr(((Form_pg_authid) GETSTRUCT(after))->rolname));
	ext = get_extension_oid("bh_audit", true);
	if (OidIsValid(ext) && bh_member_owned(ext, roleid, &classid, &objid))
		owned = classid == ExtensionRelationId ? "extension bh_audit" :
			psprintf("%s of extension bh_audit", getObjectDescriptionOids(classid, objid));
	else if (OidIsValid(dbid = bh_owner_elsewhere(roleid, &grantee)))
	{
		elsewhere = get_database_name(dbid);
		owned = psprintf("objects granted to %s in database \"%s\"", grantee, elsewhere);
		untold = psprintf("an object granted to %s", grantee);
	}
	else
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot remove the superuser attribute from role \"%s\": it owns %s",
					role, owned),
			 elsewhere == NULL ?
			 errdetail("bh_audit's objects are owned by superusers only: their owner could grant itself any privilege on the audit trail, edit the tag catalog or the queue, or drop them.") :
			 errdetail("bh_audit's objects are owned by superusers only, and from this database %s in another cannot be told from one of bh_audit's.",
					   untold),
			 elsewhere == NULL ?
			 errhint("Give bh_audit's objects to another superuser first (REASSIGN OWNED BY %s TO a superuser, in each database holding the extension), then remove the attribute.",
					 quote_identifier(role)) :
			 errhint("Run the statement in database \"%s\", where bh_audit's objects are told exactly, or give them to another superuser there first (REASSIGN OWNED BY %s TO a superuser).",
					 elsewhere, quote_identifier(role))));
}

/*
 * Before each statement (utility.c): whether it may run bh_audit's script,
 * a CREATE EXTENSION while bh_audit is not here (its own, or another's
 * CASCADE) or ALTER EXTENSION bh_audit UPDATE; whether the schema bh_audit
 * exists before it, noted.
 */
bool
bh_own_acl_statement_begin(Node *parsetree)
{
	if (IsA(parsetree, CreateExtensionStmt))
	{
		if (OidIsValid(get_extension_oid("bh_audit", true)))
			return false;
		bh_schema_created = !OidIsValid(get_namespace_oid("bh_audit", true));
		return true;
	}
	if (IsA(parsetree, AlterExtensionStmt) &&
		strcmp(((AlterExtensionStmt *) parsetree)->extname, "bh_audit") == 0)
	{
		bh_schema_created = false;
		return true;
	}
	return false;
}

/*
 * Whether role reader holds USAGE on schema nsp WITH GRANT OPTION, or
 * granted a privilege on it: the script never grants either, so its USAGE
 * there is not the script's mark alone.
 */
static bool
bh_schema_reader_grants(Oid nsp, Oid reader)
{
	HeapTuple	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	bool		grants = false;
	bool		isnull;
	Datum		d;

	if (!HeapTupleIsValid(tup))
		return false;
	d = SysCacheGetAttr(NAMESPACEOID, tup, Anum_pg_namespace_nspacl, &isnull);
	if (!isnull)
	{
		Acl		   *acl = DatumGetAclP(d);
		AclItem    *item = ACL_DAT(acl);
		int			i;

		for (i = 0; i < ACL_NUM(acl) && !grants; i++)
			grants = item[i].ai_grantor == reader ||
				(item[i].ai_grantee == reader &&
				 (ACLITEM_GET_GOPTIONS(item[i]) & ACL_USAGE) != 0);
	}
	ReleaseSysCache(tup);
	return grants;
}

/*
 * The install script's mark on the schema bh_audit (USAGE to
 * bh_audit_reader, bh_owner_elsewhere()), revoked as the bootstrap
 * superuser: the schema is no member of the extension (PostgreSQL creates
 * the control file's schema outside it, and one that existed before CREATE
 * EXTENSION is used as it is), so it outlives DROP EXTENSION, and its owner
 * would be refused from the other databases as an owner of bh_audit's.  Left when the
 * reader holds that USAGE WITH GRANT OPTION or passed a privilege on: a
 * grant of the schema's owner (the REVOKE would fail, "dependent
 * privileges exist", and with it the DROP EXTENSION).
 */
static void
bh_schema_unmark(void *arg)
{
	GrantStmt  *stmt = makeNode(GrantStmt);
	AccessPriv *priv = makeNode(AccessPriv);
	RoleSpec   *reader = makeNode(RoleSpec);

	if (bh_schema_reader_grants(get_namespace_oid("bh_audit", false),
								get_role_oid("bh_audit_reader", false)))
		return;
	priv->priv_name = "usage";
	reader->roletype = ROLESPEC_CSTRING;
	reader->rolename = "bh_audit_reader";
	reader->location = -1;
	stmt->is_grant = false;
	stmt->targtype = ACL_TARGET_OBJECT;
	stmt->objtype = OBJECT_SCHEMA;
	stmt->objects = list_make1(makeString("bh_audit"));
	stmt->privileges = list_make1(priv);
	stmt->grantees = list_make1(reader);
	stmt->behavior = DROP_RESTRICT;
	ExecuteGrantStmt(stmt);
}

/*
 * After each statement (utility.c): the objects the statement created in
 * bh_audit's script (CREATE or ALTER EXTENSION ... UPDATE) get
 * PostgreSQL's built-in privileges back, before the script's own GRANT and
 * REVOKE that follow them: a default privilege of the installing role
 * (ALTER DEFAULT PRIVILEGES ... GRANT ALL ON TABLES TO app, without IN
 * SCHEMA) would otherwise give the extension's tables, sequence and
 * functions to that role.  The extension's schema too, when the CREATE
 * EXTENSION running created it (one that existed before it keeps its
 * privileges).  At the end of a statement that ran the script (script:
 * bh_own_acl_statement_begin()), the owners of the extension's objects
 * are checked.  After one that dropped the extension, the schema bh_audit,
 * if left, loses the script's mark (bh_schema_unmark()).
 */
void
bh_own_acl_statement_done(bool script)
{
	Oid			ext;
	int			i;

	if (bh_created_n == 0 && !script && !bh_extension_dropped)
		return;
	ext = get_extension_oid("bh_audit", true);
	if (bh_extension_dropped)
	{
		bh_extension_dropped = false;
		if (!OidIsValid(ext) && OidIsValid(get_namespace_oid("bh_audit", true)) &&
			OidIsValid(get_role_oid("bh_audit_reader", true)))
		{
			CommandCounterIncrement();
			bh_call_internal(bh_schema_unmark, NULL);
		}
	}
	CommandCounterIncrement();	/* the statement's objects, to update */
	for (i = 0; i < bh_created_n; i++)
	{
		if (!OidIsValid(ext) || bh_created[i].extension != ext)
			continue;
		bh_reset_acl(bh_created[i].classid, bh_created[i].objid);
		if (bh_schema_reset)
			continue;
		bh_schema_reset = true; /* at the first, before the script's GRANTs */
		if (bh_schema_created)
			bh_reset_acl(NamespaceRelationId, bh_audit_schema());
	}
	bh_created_n = 0;
	CommandCounterIncrement();
	if (script)
	{
		bh_schema_created = false;
		if (OidIsValid(ext) && !IsBinaryUpgrade)
			bh_check_member_owners(ext);
	}
}

static void
bh_own_acl_xact(XactEvent event, void *arg)
{
	bh_created_n = 0;
	bh_schema_reset = false;
	bh_schema_created = false;
	bh_extension_dropped = false;
}

/*
 * From the extension's object access hook (config_guard.c), for every
 * access: objects an extension's script creates, owners given, roles
 * altered, TRUNCATE.
 */
void
bh_own_acl_object_access(ObjectAccessType access, Oid classid, Oid objid, int subid)
{
	const BhOwnTable *own;

	if (access == OAT_POST_CREATE && subid == 0 && creating_extension &&
		(classid == RelationRelationId || classid == ProcedureRelationId))
	{
		if (bh_created_n == bh_created_max)
		{
			bh_created_max = Max(64, bh_created_max * 2);
			bh_created = bh_created == NULL ?
				MemoryContextAlloc(TopMemoryContext, sizeof(BhCreated) * bh_created_max) :
				repalloc(bh_created, sizeof(BhCreated) * bh_created_max);
		}
		bh_created[bh_created_n].classid = classid;
		bh_created[bh_created_n].objid = objid;
		bh_created[bh_created_n].extension = CurrentExtensionObject;
		bh_created_n++;
	}
	else if (access == OAT_DROP && classid == ExtensionRelationId)
	{
		char	   *name = get_extension_name(objid);

		if (name != NULL && strcmp(name, "bh_audit") == 0)
			bh_extension_dropped = true;
	}
	else if (access == OAT_POST_ALTER && subid == 0 && classid == AuthIdRelationId)
		bh_check_role_demoted(objid);
	else if (access == OAT_POST_ALTER && subid == 0)
		bh_check_own_owner(classid, objid);
	else if (access == OAT_TRUNCATE && !IsLogicalWorker() &&
			 (own = bh_own_write_refused(objid, GetUserId())) != NULL &&
			 pg_class_aclcheck(objid, GetUserId(), ACL_TRUNCATE) == ACLCHECK_OK)
		bh_refuse_own_write(own, "truncate");	/* (else PostgreSQL's refusal) */
}

void
bh_own_acl_init(void)
{
	prev_check_perms = ExecutorCheckPerms_hook;
	ExecutorCheckPerms_hook = bh_own_check_perms;
	RegisterXactCallback(bh_own_acl_xact, NULL);
}
