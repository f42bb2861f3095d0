/*-------------------------------------------------------------------------
 *
 * guard_lock.c
 *		Before the configuration guard checks a utility statement, lock the
 *		relations it changes as PostgreSQL will (bh_guard_lock_named()), so
 *		that the checks judge the tagging committed while the statement
 *		waited for its locks, and the table a name stands for once it holds
 *		them.
 *
 * The locks are PostgreSQL's own, in its modes and order, taken a moment
 * early (PostgreSQL takes them again right after, already held); who may
 * lock what stays PostgreSQL's: a relation its callback would refuse
 * before locking it is not locked here either (bh_lock_refused()), and
 * the statement is refused by PostgreSQL, without a wait.  config_guard.c
 * calls bh_guard_lock_named() first in bh_config_guard_before()
 * (guard_lock.h); the table of DROP TRIGGER's names is trigger_guard.c's
 * (bh_trigger_table()).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "commands/tablecmds.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "nodes/value.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "guard_lock.h"
#include "trigger_guard.h"

/*
 * Would PostgreSQL's callback refuse relid before locking it, for the
 * statement bh_lock_owned() looks up: RENAME COLUMN or ATTRIBUTE
 * (renameatt(): RangeVarCallbackForRenameAttribute()), RENAME TO and SET
 * SCHEMA (RenameRelation(), AlterTableNamespace():
 * RangeVarCallbackForAlterRelation()) and ALTER TRIGGER ... RENAME
 * (renametrig(): RangeVarCallbackForRenameTrigger())?  Their checks, in
 * their order: for a column, a typed table or a relation without renamable
 * columns first, for a trigger a relation that cannot have triggers;
 * a relation the user does not own, a system catalog; then for RENAME TO
 * a schema the user may no longer create in, and for both a relation of
 * another kind than the statement names (ALTER VIEW of a table) or one
 * that cannot move (an index's SET SCHEMA).  error: raise its error.
 */
static bool
bh_lock_refused(const RangeVar *rv, Oid relid, Node *stmt, bool error)
{
	ObjectType	kind = IsA(stmt, RenameStmt) ? ((RenameStmt *) stmt)->renameType :
	((AlterObjectSchemaStmt *) stmt)->objectType;
	bool		column = kind == OBJECT_COLUMN || kind == OBJECT_ATTRIBUTE;
	bool		trigger = kind == OBJECT_TRIGGER;
	bool		relkind_detail = false;
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class form;
	char		relkind;
	AclResult	aclresult = ACLCHECK_OK;
	int			code = ERRCODE_WRONG_OBJECT_TYPE;
	char	   *msg = NULL;
	const char *hint = NULL;

	if (!HeapTupleIsValid(tuple))
		return false;			/* dropped meanwhile: its lookup says so */
	form = (Form_pg_class) GETSTRUCT(tuple);
	relkind = form->relkind;
	if (column && OidIsValid(form->reloftype))
		msg = pstrdup("cannot rename column of typed table");
	else if (column && relkind != RELKIND_RELATION && relkind != RELKIND_VIEW &&
			 relkind != RELKIND_MATVIEW && relkind != RELKIND_COMPOSITE_TYPE &&
			 relkind != RELKIND_INDEX && relkind != RELKIND_PARTITIONED_INDEX &&
			 relkind != RELKIND_FOREIGN_TABLE && relkind != RELKIND_PARTITIONED_TABLE)
		msg = psprintf("cannot rename columns of relation \"%s\"", NameStr(form->relname));
	else if (trigger && relkind != RELKIND_RELATION && relkind != RELKIND_VIEW &&
			 relkind != RELKIND_FOREIGN_TABLE && relkind != RELKIND_PARTITIONED_TABLE)
	{
		msg = psprintf("relation \"%s\" cannot have triggers", rv->relname);
		relkind_detail = true;
	}
	else if (!pg_class_ownercheck(relid, GetUserId()))
		aclresult = ACLCHECK_NOT_OWNER;
	else if (!allowSystemTableMods && IsSystemClass(relid, form))
	{
		code = ERRCODE_INSUFFICIENT_PRIVILEGE;
		msg = psprintf("permission denied: \"%s\" is a system catalog",
					   column ? NameStr(form->relname) : rv->relname);
	}
	else if (!column && !trigger && IsA(stmt, RenameStmt) &&
			 pg_namespace_aclcheck(form->relnamespace, GetUserId(),
								   ACL_CREATE) != ACLCHECK_OK)
		aclresult = ACLCHECK_NO_PRIV;
	else if (!column && !trigger)
	{
		/* the kind the statement names, then kinds that cannot change */
		if (kind == OBJECT_SEQUENCE && relkind != RELKIND_SEQUENCE)
			msg = psprintf("\"%s\" is not a sequence", rv->relname);
		else if (kind == OBJECT_VIEW && relkind != RELKIND_VIEW)
			msg = psprintf("\"%s\" is not a view", rv->relname);
		else if (kind == OBJECT_MATVIEW && relkind != RELKIND_MATVIEW)
			msg = psprintf("\"%s\" is not a materialized view", rv->relname);
		else if (kind == OBJECT_FOREIGN_TABLE && relkind != RELKIND_FOREIGN_TABLE)
			msg = psprintf("\"%s\" is not a foreign table", rv->relname);
		else if (relkind == RELKIND_COMPOSITE_TYPE)
		{
			msg = psprintf("\"%s\" is a composite type", rv->relname);
			hint = "Use ALTER TYPE instead.";
		}
		else if (IsA(stmt, AlterObjectSchemaStmt) &&
				 (relkind == RELKIND_INDEX || relkind == RELKIND_PARTITIONED_INDEX))
		{
			msg = psprintf("cannot change schema of index \"%s\"", rv->relname);
			hint = "Change the schema of the table instead.";
		}
		else if (IsA(stmt, AlterObjectSchemaStmt) && relkind == RELKIND_TOASTVALUE)
		{
			msg = psprintf("cannot change schema of TOAST table \"%s\"", rv->relname);
			hint = "Change the schema of the table instead.";
		}
	}
	if (error && aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult,
					   aclresult == ACLCHECK_NOT_OWNER ?
					   get_relkind_objtype(relkind) : OBJECT_SCHEMA,
					   aclresult == ACLCHECK_NOT_OWNER ? rv->relname :
					   get_namespace_name(form->relnamespace));
	if (error && msg != NULL)
		ereport(ERROR,
				(errcode(code),
				 errmsg_internal("%s", msg),
				 relkind_detail ? errdetail_relkind_not_supported(relkind) : 0,
				 hint ? errhint("%s", hint) : 0));
	ReleaseSysCache(tuple);
	return aclresult != ACLCHECK_OK || msg != NULL;
}

/* bh_lock_owned()'s callback: refuses what changed since it looked */
static void
bh_owned_callback(const RangeVar *rv, Oid relid, Oid oldrelid, void *arg)
{
	if (OidIsValid(relid))
		(void) bh_lock_refused(rv, relid, (Node *) arg, true);
}

/*
 * Lock the relation rv names in mode unless PostgreSQL's callback would
 * refuse it (bh_lock_refused()): then PostgreSQL refuses the statement
 * stmt, with its own message, without waiting.  Returns the relation
 * locked, or InvalidOid.
 */
static Oid
bh_lock_owned(RangeVar *rv, LOCKMODE mode, Node *stmt)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);

	if (OidIsValid(relid) && !bh_lock_refused(rv, relid, stmt, false))
		return RangeVarGetRelidExtended(rv, mode, RVR_MISSING_OK, bh_owned_callback, stmt);
	return InvalidOid;
}

/*
 * ALTER SCHEMA ... RENAME (RenameSchema()) locks none of the schema's
 * tables: it would wait for no tag_table() or untag_table() of one of
 * them, nor they for it, and be recorded only for the tables tagged as it
 * starts, while a tagging not committed yet named the table by the old
 * schema.  The taggings lock the schema object ROW EXCLUSIVE
 * (bh_tag_lock_schemas()); the rename locks it here as PostgreSQL 15.20's
 * RenameSchema() does first (get_object_address(), ACCESS EXCLUSIVE), so
 * that it holds that lock already there, not a weaker one to raise (two
 * renames of one schema would deadlock).  Up to 15.18 PostgreSQL took no
 * lock: there, the rename now also waits for, and holds up, the creation
 * of an object in the schema (ACCESS SHARE), as on 15.20.  Only once
 * RenameSchema()'s checks pass, in its order (a schema that exists, a new
 * name not taken, the schema's owner, CREATE on the database, a name not
 * reserved): a statement it refuses waits for nothing of bh_audit's.
 */
static void
bh_lock_schema_renamed(RenameStmt *stmt)
{
	Oid			nspid = get_namespace_oid(stmt->subname, true);
	Relation	relation;

	if (OidIsValid(nspid) &&
		!OidIsValid(get_namespace_oid(stmt->newname, true)) &&
		pg_namespace_ownercheck(nspid, GetUserId()) &&
		pg_database_aclcheck(MyDatabaseId, GetUserId(), ACL_CREATE) == ACLCHECK_OK &&
		(allowSystemTableMods || !IsReservedName(stmt->newname)))
		(void) get_object_address(OBJECT_SCHEMA, (Node *) makeString(pstrdup(stmt->subname)),
								  &relation, AccessExclusiveLock, true);
}

/*
 * Lock the relations the utility statement parsetree changes, each in the
 * mode, and in the order, that PostgreSQL takes for it as the statement
 * starts (it takes them again right after, already held: no lock is raised
 * and none is taken out of its order), before any check here looks a tag
 * up.  A statement that waited for a tag_table() or untag_table() of the
 * table is then checked against the tagging that committed meanwhile
 * (taking a lock accepts the invalidations of what committed during the
 * wait, which reload the tag cache), not against the tagging before the
 * wait: without this an ALTER TABLE ... DISABLE TRIGGER USER, INHERIT, SET
 * UNLOGGED or RENAME COLUMN that waited for a tagging passed unchecked.
 *
 * Who may lock what stays PostgreSQL's.  ALTER TABLE is looked up as
 * ProcessUtility does it (AlterTableLookupRelation(), which refuses a
 * relation the user does not own before locking it), REFRESH MATERIALIZED
 * VIEW with ExecRefreshMatView()'s callback; RENAME COLUMN, RENAME TO
 * (also ALTER INDEX ... RENAME, which PostgreSQL lets name a table) and
 * SET SCHEMA lock only what PostgreSQL's callback would not refuse (a
 * relation the user owns, of the kind the statement names:
 * bh_lock_owned()), and ALTER SCHEMA ... RENAME the schema object
 * (bh_lock_schema_renamed()); ALTER EXTENSION ... SET SCHEMA nothing (its
 * tagged members are recorded once it ran: bh_extension_moved()).  A
 * parent in CREATE TABLE ... INHERITS or PARTITION OF (after the schema,
 * as transformCreateStmt() looks it up first), the table joined by ALTER
 * TABLE ... INHERIT, the partition of ATTACH or DETACH PARTITION (the
 * default partition before it) and the table of CREATE RULE are locked by
 * PostgreSQL with no check of its own first (DefineRelation(),
 * ATExecAddInherit(), ATExecAttachPartition(), ATExecDetachPartition(),
 * transformRuleStmt()), so here too; as is the table of a trigger
 * statement: CREATE [OR REPLACE] TRIGGER's in SHARE ROW EXCLUSIVE mode
 * (CreateTrigger()), DROP TRIGGER's and ALTER TRIGGER ... DEPENDS ON
 * EXTENSION's in ACCESS SHARE mode (get_object_address(): PostgreSQL
 * raises it to ACCESS EXCLUSIVE only as it drops the trigger), while ALTER
 * TRIGGER ... RENAME locks only a table the user owns, in ACCESS EXCLUSIVE
 * mode (renametrig(): bh_lock_owned()).  Without these locks the
 * statement's checks judged the table the name stood for before the wait
 * for its lock, and a rename of a tagged table to the name during the wait
 * (by the table's owner, in another session) dropped, renamed or replaced
 * its capture trigger unchecked.  Left as it was: the order of an
 * ALTER TABLE's other locks: PostgreSQL takes the second table's lock as
 * it reaches that subcommand, so with INHERIT combined with other
 * subcommands its parent is locked here before the locks those take (a
 * foreign key's referenced table), and a CREATE TABLE's parents before
 * the tables of its LIKE clauses (ACCESS SHARE).
 */
void
bh_guard_lock_named(Node *parsetree)
{
	ListCell   *lc;

	if (IsA(parsetree, AlterTableStmt))
	{
		AlterTableStmt *stmt = (AlterTableStmt *) parsetree;
		Oid			relid = AlterTableLookupRelation(stmt, AlterTableGetLockLevel(stmt->cmds));

		if (!OidIsValid(relid))
			return;
		foreach(lc, stmt->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
			PartitionCmd *part = (PartitionCmd *) cmd->def;
			Oid			deflt;

			if (cmd->subtype == AT_AddInherit && IsA(cmd->def, RangeVar))
				(void) RangeVarGetRelid((RangeVar *) cmd->def, ShareUpdateExclusiveLock, true);
			if ((cmd->subtype != AT_AttachPartition && cmd->subtype != AT_DetachPartition) ||
				!IsA(cmd->def, PartitionCmd) ||
				get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
				continue;		/* an index's ATTACH: PostgreSQL checks it
								 * first */
			deflt = get_default_partition_oid(relid);
			if (cmd->subtype == AT_DetachPartition && part->concurrent)
			{
				if (!OidIsValid(deflt)) /* else PostgreSQL refuses it */
					(void) RangeVarGetRelid(part->name, ShareUpdateExclusiveLock, true);
				continue;
			}
			if (OidIsValid(deflt))
				LockRelationOid(deflt, AccessExclusiveLock);
			(void) RangeVarGetRelid(part->name, AccessExclusiveLock, true);
		}
	}
	else if (IsA(parsetree, RenameStmt) && ((RenameStmt *) parsetree)->relation != NULL)
	{
		RenameStmt *stmt = (RenameStmt *) parsetree;

		if (stmt->renameType == OBJECT_COLUMN || stmt->renameType == OBJECT_ATTRIBUTE ||
			stmt->renameType == OBJECT_TABLE || stmt->renameType == OBJECT_VIEW ||
			stmt->renameType == OBJECT_MATVIEW || stmt->renameType == OBJECT_SEQUENCE ||
			stmt->renameType == OBJECT_FOREIGN_TABLE || stmt->renameType == OBJECT_TRIGGER)
			(void) bh_lock_owned(stmt->relation, AccessExclusiveLock, parsetree);
		else if (stmt->renameType == OBJECT_INDEX)
		{
			/*
			 * RenameRelation(): an index's mode first; a name that turns out
			 * to be another relation's (ALTER INDEX of a table) is unlocked
			 * and locked again in ACCESS EXCLUSIVE mode.
			 */
			Oid			relid = bh_lock_owned(stmt->relation, ShareUpdateExclusiveLock,
											  parsetree);
			char		relkind = get_rel_relkind(relid);

			if (OidIsValid(relid) && relkind != RELKIND_INDEX &&
				relkind != RELKIND_PARTITIONED_INDEX)
			{
				UnlockRelationOid(relid, ShareUpdateExclusiveLock);
				(void) bh_lock_owned(stmt->relation, AccessExclusiveLock, parsetree);
			}
		}
	}
	else if (IsA(parsetree, AlterObjectSchemaStmt) &&
			 (((AlterObjectSchemaStmt *) parsetree)->objectType == OBJECT_TABLE ||
			  ((AlterObjectSchemaStmt *) parsetree)->objectType == OBJECT_MATVIEW))
		(void) bh_lock_owned(((AlterObjectSchemaStmt *) parsetree)->relation,
							 AccessExclusiveLock, parsetree);
	else if (IsA(parsetree, RenameStmt) &&
			 ((RenameStmt *) parsetree)->renameType == OBJECT_SCHEMA)
		bh_lock_schema_renamed((RenameStmt *) parsetree);
	else if (IsA(parsetree, RuleStmt))
		(void) RangeVarGetRelid(((RuleStmt *) parsetree)->relation, AccessExclusiveLock, true);
	else if (IsA(parsetree, CreateTrigStmt))
		(void) RangeVarGetRelid(((CreateTrigStmt *) parsetree)->relation,
								ShareRowExclusiveLock, true);
	else if (IsA(parsetree, DropStmt) &&
			 ((DropStmt *) parsetree)->removeType == OBJECT_TRIGGER)
	{
		foreach(lc, ((DropStmt *) parsetree)->objects)
			(void) RangeVarGetRelid(bh_trigger_table((List *) lfirst(lc)), AccessShareLock,
									true);
	}
	else if (IsA(parsetree, AlterObjectDependsStmt) &&
			 ((AlterObjectDependsStmt *) parsetree)->objectType == OBJECT_TRIGGER &&
			 ((AlterObjectDependsStmt *) parsetree)->relation != NULL)
		(void) RangeVarGetRelid(((AlterObjectDependsStmt *) parsetree)->relation,
								AccessShareLock, true);
	else if (IsA(parsetree, RefreshMatViewStmt))
		(void) RangeVarGetRelidExtended(((RefreshMatViewStmt *) parsetree)->relation,
										((RefreshMatViewStmt *) parsetree)->concurrent ?
										ExclusiveLock : AccessExclusiveLock,
										RVR_MISSING_OK, RangeVarCallbackOwnsTable, NULL);
	else if (IsA(parsetree, CreateStmt) || IsA(parsetree, CreateForeignTableStmt))
	{
		CreateStmt *stmt = IsA(parsetree, CreateStmt) ? (CreateStmt *) parsetree :
		&((CreateForeignTableStmt *) parsetree)->base;
		Oid			existing;

		if (stmt->inhRelations == NIL)
			return;

		/*
		 * On a copy: the lookup makes the RangeVar temporary when the schema
		 * is pg_temp, and the statement may be a cached plan's, which
		 * PostgreSQL copies only later (a later run under another search_path
		 * would create a temporary table).
		 */
		(void) RangeVarGetAndCheckCreationNamespace(copyObject(stmt->relation),
													NoLock, &existing);
		/* CREATE TABLE IF NOT EXISTS of one that exists locks no parent */
		if (stmt->if_not_exists && OidIsValid(existing))
			return;
		foreach(lc, stmt->inhRelations)
			if (IsA(lfirst(lc), RangeVar))
			(void) RangeVarGetRelid((RangeVar *) lfirst(lc),
									stmt->partbound != NULL ? AccessExclusiveLock :
									ShareUpdateExclusiveLock, true);
	}
}
