/*-------------------------------------------------------------------------
 *
 * own_guard.c
 *		The trail cannot be switched off or bent quietly through the
 *		extension's own relations and functions: the ledger, the queue (and
 *		its identity sequence), the tag catalog, the ledger's home, the
 *		extension's schema and functions.  Every change to one that would
 *		lose events, hide them or let code run inside the extension's work
 *		is recorded first or refused.
 *
 *	- disabling, weakening, enabling, dropping, renaming, adding,
 *	  replacing a trigger of the extension's own tables or making one
 *	  depend on another extension (the ledger's append-only guard, the
 *	  tag catalog's notice to every tag cache, the queue's refusal of
 *	  events that are not JSON objects, the ledger home's guard,
 *	  the four tables' skipping of replicated rows; only their owner
 *	  can): recorded, with the table and the trigger's
 *	  name; creating one that is not one of the extension's own: refused
 *	  (outside its scripts); ENABLE TRIGGER ALL / USER, recorded as
 *	  enabling them, leaves those installed ENABLE ALWAYS so
 *	  (bh_keep_enabled_always(), trigger_guard.c);
 *	- switching row-level security of the extension's own tables on, off or
 *	  forced, and creating, altering, renaming or dropping their policies,
 *	  or removing a role from one (DROP OWNED BY; on the ledger, they decide
 *	  which events a reviewer's query returns, while verification reads
 *	  every event and passes): recorded (policies by the object access
 *	  hook, however reached);
 *	- making one of the extension's own tables, or the queue's identity
 *	  sequence, unlogged (a crash would empty it, or set it back, without an
 *	  event), or changing the access method of one: refused, for everyone;
 *	- attaching code to the queue or the tag catalog, which the extension
 *	  reads or writes as a superuser on behalf of other roles (a rule, an
 *	  index, statistics, a default, a constraint, a foreign key referencing
 *	  one): refused, outside the extension's scripts;
 *	- on the ledger and the ledger's home, which only the sealer and a
 *	  restore write: code the sealer would run or a rule (an index, a
 *	  UNIQUE or EXCLUDE constraint, statistics, a rule): refused, outside
 *	  the extension's scripts; any other change of their definition (a
 *	  column added, dropped or converted, a default, a constraint, a
 *	  foreign key referencing one): recorded, as it may rewrite their rows;
 *	  ALTER COLUMN ... TYPE ... USING of one of the ledger's chain columns
 *	  (the sealed events and their links): refused, for superusers too;
 *	- CREATE OR REPLACE, ALTER (DEPENDS ON EXTENSION too), RENAME or SET
 *	  SCHEMA of one of the extension's functions, ALTER INDEX ... DEPENDS
 *	  ON EXTENSION of an index of its own tables (or of their TOAST
 *	  tables): refused (outside the extension's scripts), for superusers
 *	  too;
 *	- ALTER COLUMN ... DROP EXPRESSION of one of the ledger's access-review
 *	  columns (generated from the hashed event): refused (outside its
 *	  scripts and binary upgrade), for superusers too;
 *	- RENAME TO, RENAME COLUMN (ALTER TYPE ... RENAME ATTRIBUTE too) or
 *	  SET SCHEMA of one of the extension's relations (or the queue's
 *	  identity sequence), ALTER SCHEMA ... RENAME of its schema: refused
 *	  (outside its scripts and binary upgrade), for superusers too
 *	  (bh_check_own_rename: it finds them by name).
 *
 * The checks are config_guard.c's to call (own_guard.h): its
 * bh_config_guard_before() for each statement, its object access hook for
 * functions and policies, and its checks of ALTER TABLE, of trigger
 * statements and of inheritance, which hand over what names one of these
 * tables.  The statement's state (the one running, a change of owner, a
 * drop of the extension) is config_guard.c's too.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_sequence.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "parser/parse_coerce.h"
#include "parser/parse_func.h"
#include "parser/parse_type.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "bh_audit.h"
#include "capture.h"
#include "event.h"
#include "ledger_write.h"
#include "own_guard.h"
#include "settings_guard.h"
#include "tags.h"

/*
 * The extension finds its relations by the names it installed them with,
 * in its schema (bh_cached_rel(), bh_audit_relid(); its SQL functions
 * name them too): the tag catalog renamed, no table is tagged any more
 * (reads and writes captured no more, without an error); the ledger
 * renamed, reads are not captured and the sealer stops; the queue renamed,
 * every write of a tagged table fails; the schema renamed, the tag cache's
 * load fails every statement of the database.  So a relation of the
 * extension (a member, or the queue's identity sequence) is not renamed,
 * nor are its columns (RENAME COLUMN, or ALTER TYPE ... RENAME ATTRIBUTE,
 * which PostgreSQL applies to a table's or a view's row type too; a column
 * a superuser added to the ledger as well), nor is it moved to another
 * schema, and the extension's schema is not renamed: refused, for
 * superusers too, outside the extension's own scripts and pg_upgrade's
 * restore.  A role that may not make the change (not the owner) is refused
 * by PostgreSQL, next.  A change of owner (ALTER ... OWNER TO) changes no
 * name and is let through; ALTER EXTENSION bh_audit SET SCHEMA PostgreSQL
 * refuses (relocatable = false).
 */
void
bh_check_own_rename(Node *parsetree)
{
	RenameStmt *rename = IsA(parsetree, RenameStmt) ? (RenameStmt *) parsetree : NULL;
	RangeVar   *rv = NULL;
	Oid			relid;
	Oid			ext;
	char	   *name;

	/*
	 * The statement's kind first: a look-up in the catalog takes in
	 * invalidations, which an EXECUTE in a transaction holding its table's
	 * lock would not without bh_audit (t/155).
	 */
	if (rename != NULL && rename->renameType == OBJECT_SCHEMA)
	{
		Oid			nspid;

		if (bh_in_own_script() || IsBinaryUpgrade ||
			strcmp(rename->subname, "bh_audit") != 0 || /* the control file's */
			!OidIsValid(nspid = get_namespace_oid(rename->subname, true)) ||
			nspid != bh_audit_schema() || !pg_namespace_ownercheck(nspid, GetUserId()))
			return;
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot rename schema %s: it is the schema of extension bh_audit",
						quote_identifier(rename->subname)),
				 errdetail("bh_audit finds its relations by the names it installed them with: under another name capture of tagged tables would stop, or every statement fail."),
				 errhint("A change of its owner is allowed: ALTER SCHEMA ... OWNER TO.")));
	}
	if (rename != NULL &&
		(rename->renameType == OBJECT_TABLE || rename->renameType == OBJECT_INDEX ||
		 rename->renameType == OBJECT_VIEW || rename->renameType == OBJECT_MATVIEW ||
		 rename->renameType == OBJECT_SEQUENCE || rename->renameType == OBJECT_FOREIGN_TABLE ||
		 rename->renameType == OBJECT_COLUMN || rename->renameType == OBJECT_ATTRIBUTE))
		rv = rename->relation;
	else if (IsA(parsetree, AlterObjectSchemaStmt) &&
			 (((AlterObjectSchemaStmt *) parsetree)->objectType == OBJECT_TABLE ||
			  ((AlterObjectSchemaStmt *) parsetree)->objectType == OBJECT_VIEW ||
			  ((AlterObjectSchemaStmt *) parsetree)->objectType == OBJECT_MATVIEW ||
			  ((AlterObjectSchemaStmt *) parsetree)->objectType == OBJECT_SEQUENCE ||
			  ((AlterObjectSchemaStmt *) parsetree)->objectType == OBJECT_FOREIGN_TABLE))
		rv = ((AlterObjectSchemaStmt *) parsetree)->relation;
	if (rv == NULL || bh_in_own_script() || IsBinaryUpgrade ||
		!OidIsValid(relid = RangeVarGetRelid(rv, NoLock, true)) ||
		!OidIsValid(ext = get_extension_oid("bh_audit", true)) ||
		(getExtensionOfObject(RelationRelationId, relid) != ext &&
		 !bh_is_queue_sequence(relid)) ||
		!pg_class_ownercheck(relid, GetUserId()))
		return;
	name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 rename == NULL ?
			 errmsg("cannot move %s to another schema: it belongs to extension bh_audit", name) :
			 rename->renameType == OBJECT_COLUMN || rename->renameType == OBJECT_ATTRIBUTE ?
			 errmsg("cannot rename column %s of %s: it belongs to extension bh_audit",
					quote_identifier(rename->subname), name) :
			 errmsg("cannot rename %s: it belongs to extension bh_audit", name),
			 errdetail("bh_audit finds its relations by the names it installed them with: under another name capture of tagged tables would stop, or every statement fail."),
			 errhint("The extension's relations change only through its scripts (ALTER EXTENSION bh_audit UPDATE).")));
}

/* The four tables, in bh_own_table()'s order (BhOwnTable: own_guard.h). */
static const BhOwnTable bh_own_tables[] = {
	{"bh_audit.events", "ledger", "the ledger's", "every sealed event", NULL, false,
		{"events_append_only", "events_no_truncate", "events_chain_only", "events_applied_skip",
	"events_applied_truncate_keep", "events_applied_truncate_restore", NULL}},
	{"bh_audit.queue", "queue", "the queue's", "every committed event not yet sealed",
		"queue_restored", true,
		{"queue_restored", "queue_objects_only", "queue_applied_skip",
	"queue_applied_truncate_keep", "queue_applied_truncate_restore", NULL}},
	{"bh_audit.tags", "tag catalog", "the tag catalog's", "every tag", "tags_changed", true,
		{"tags_changed", "tags_applied_skip", "tags_applied_truncate_keep",
	"tags_applied_truncate_restore", NULL}},
	{"bh_audit.ledger_home", "ledger home", "the ledger home's",
		"the record of the database that last sealed the ledger", NULL, false,
		{"ledger_home_no_change", "ledger_home_restored", "ledger_home_applied_skip",
	"ledger_home_applied_truncate_keep", "ledger_home_applied_truncate_restore", NULL}},
};

/* Is name one of the extension's own triggers on t? */
bool
bh_own_trigger_name(const BhOwnTable *t, const char *name)
{
	const char *const *n;

	for (n = t->triggers; *n != NULL; n++)
		if (strcmp(*n, name) == 0)
			return true;
	return false;
}

const BhOwnTable *
bh_own_table(Oid relid)
{
	if (!OidIsValid(relid))
		return NULL;
	if (relid == bh_events_relid())
		return &bh_own_tables[0];
	if (relid == bh_queue_relid())
		return &bh_own_tables[1];
	if (relid == bh_tags_catalog())
		return &bh_own_tables[2];
	if (relid == bh_home_relid())
		return &bh_own_tables[3];
	return NULL;
}

/*
 * The one of the four tables whose TOAST table is toastid, or NULL: an
 * index of that TOAST table goes with the table's out-of-line values.
 */
static const BhOwnTable *
bh_own_table_of_toast(Oid toastid)
{
	const Oid	tables[] = {bh_events_relid(), bh_queue_relid(), bh_tags_catalog(),
	bh_home_relid()};
	int			i;

	for (i = 0; i < lengthof(tables); i++)
	{
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(tables[i]));
		bool		found;

		if (!HeapTupleIsValid(tup))
			continue;
		found = ((Form_pg_class) GETSTRUCT(tup))->reltoastrelid == toastid;
		ReleaseSysCache(tup);
		if (found)
			return bh_own_table(tables[i]);
	}
	return NULL;
}

const BhOwnTable *
bh_own_table_rangevar(RangeVar *rv)
{
	return bh_own_table(RangeVarGetRelid(rv, NoLock, true));
}

/*
 * A change to one of those tables, which only their owner can make,
 * recorded (change, with the metadata key set to value, if key is not
 * NULL), so that the chain shows when and by whom it was made.
 */
static void
bh_own_table_change(const BhOwnTable *t, const char *change, const char *key,
					const char *value)
{
	BhEvent		ev;

	if (bh_in_own_script())		/* the extension's script makes them */
		return;
	bh_tag_event_init(&ev, "UPDATE", change, t->name);
	if (key != NULL)
		bh_event_meta_string(&ev, key, value);
	bh_queue_event(bh_event_build(&ev, NULL));
}

/*
 * A statement attaching code that a read or write of t (relid) would run
 * (what: "create rule \"r\" on" ...), for a role PostgreSQL lets make it
 * (one with the right needed, or if 0 the owner of t; another is refused
 * by PostgreSQL, next), outside the extension's own scripts and
 * pg_upgrade's restore (binary-upgrade mode, which recreates the scripts'
 * objects).
 *
 * Refused when t is read or written through SQL as a superuser on behalf
 * of other roles (the tag catalog by tag_table(), untag_table(), a rename
 * of a tagged column and the tag cache's load: bh_spi_internal(); the
 * queue by bh_audit.stats(); both on search_path pg_catalog, pg_temp).  A
 * rule's action, a default, a constraint, an index's or extended
 * statistics' expression (folded when such a statement is planned), a
 * column's type, a foreign key's action referencing t would run inside
 * those statements as that superuser, where an unqualified name reaches
 * the calling role's pg_temp.  (Triggers: bh_check_trigger_stmt().)
 *
 * On the ledger and the ledger's home, which only the sealer writes (and
 * a restore), owned by superusers only: refused if sealer is set (code
 * the sealer would run: an index, whose expression or uniqueness failing in
 * its batch stops sealing, or has the batch's events taken for bad data;
 * a rule, whose DO INSTEAD sends a restore's rows elsewhere; statistics,
 * as on the other two), recorded otherwise, with key set to value if key
 * is not NULL, so that the chain shows when and by whom it was made (a
 * column added, dropped or converted, a default, a CHECK constraint, a
 * foreign key: operations.md).
 */
static void
bh_own_code_attach(const BhOwnTable *t, Oid relid, AclMode needed, bool sealer,
				   const char *what, const char *key, const char *value, const char *hint)
{
	if (bh_in_own_script() || IsBinaryUpgrade)
		return;
	if (needed == 0 ? !pg_class_ownercheck(relid, GetUserId()) :
		pg_class_aclcheck(relid, GetUserId(), needed) != ACLCHECK_OK)
		return;
	if (!t->sql_access && !sealer)
	{
		bh_own_table_change(t, psprintf("%s the %s", what, t->noun), key, value);
		return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot %s %s", what, t->name),
			 t->sql_access ?
			 errdetail("bh_audit reads or writes this table as a superuser on behalf of other roles: code attached to it (a rule, a default, a constraint, an index, statistics, a column's type, a foreign key's action) would run with that superuser's rights.") :
			 errdetail("The sealer writes this table's rows and their index entries: an index's expression or uniqueness failing there would stop sealing, or have the events taken for bad data; a rule would send a restore's rows elsewhere."),
			 hint != NULL ? errhint("%s", hint) : 0));
}

/*
 * Does an ALTER TABLE subcommand (cmd) add an index that enforces
 * something (a UNIQUE or EXCLUDE constraint, of the table or of a column
 * it adds)?  A primary key is the sealer's to check (ledger_write.c).
 */
static bool
bh_adds_checking_index(AlterTableCmd *cmd)
{
	List	   *cons = NIL;
	ListCell   *lc;

	if (cmd->subtype == AT_AddConstraint && cmd->def != NULL && IsA(cmd->def, Constraint))
		cons = list_make1(cmd->def);
	else if (cmd->subtype == AT_AddColumn && cmd->def != NULL && IsA(cmd->def, ColumnDef))
		cons = ((ColumnDef *) cmd->def)->constraints;
	foreach(lc, cons)
	{
		ConstrType	type = lfirst_node(Constraint, lc)->contype;

		if (type == CONSTR_UNIQUE || type == CONSTR_EXCLUSION)
			return true;
	}
	return false;
}

/*
 * A foreign key of another table's CREATE TABLE or ALTER TABLE (elts: its
 * ColumnDefs and Constraints, or its subcommands) referencing one of those
 * tables: its ON DELETE / ON UPDATE action is a trigger on the referenced
 * table, running the referencing table's own triggers and rules
 * (bh_own_code_attach()).
 */
void
bh_check_own_references(List *elts)
{
	ListCell   *lc;

	foreach(lc, elts)
	{
		Node	   *n = lfirst(lc);
		List	   *cons;
		ListCell   *lc2;

		if (IsA(n, AlterTableCmd))
			n = ((AlterTableCmd *) n)->def;
		if (n == NULL)
			continue;
		if (IsA(n, ColumnDef))
			cons = ((ColumnDef *) n)->constraints;
		else if (IsA(n, Constraint))
			cons = list_make1(n);
		else
			continue;
		foreach(lc2, cons)
		{
			Constraint *c = lfirst_node(Constraint, lc2);
			Oid			relid;
			const BhOwnTable *own;

			if (c->contype != CONSTR_FOREIGN)
				continue;
			relid = RangeVarGetRelid(c->pktable, NoLock, true);
			own = bh_own_table(relid);
			if (own != NULL)
				bh_own_code_attach(own, relid, ACL_REFERENCES, false,
								   "create a foreign key referencing", NULL, NULL, NULL);
		}
	}
}

/*
 * A change to the triggers of one of those tables: recorded, so that the
 * chain shows when a guard was switched off, weakened (ENABLE or ENABLE
 * REPLICA instead of ENABLE ALWAYS), restored (ENABLE ALWAYS, ENABLE
 * TRIGGER ALL / USER) or changed.  verb is
 * "disable", "weaken", "enable", "drop", "rename", "add" or "replace";
 * trigger NULL with all_what set ("ALL", "USER") for a change to every
 * trigger at once.
 */
void
bh_own_trigger_change(const BhOwnTable *t, const char *verb,
					  const char *trigger, const char *all_what)
{
	if (all_what != NULL)
		bh_own_table_change(t, psprintf("%s %s triggers", verb, t->possessive),
							"trigger", all_what);
	else
		bh_own_table_change(t, psprintf("%s a %s trigger", verb, t->noun),
							"trigger", trigger);
}

/*
 * ALTER TRIGGER ... DEPENDS ON EXTENSION of a trigger of one of those
 * tables: a DROP EXTENSION of that extension, even without CASCADE, drops
 * the trigger as DROP TRIGGER does (recorded likewise, at the ALTER).
 */
void
bh_own_trigger_depends(const BhOwnTable *t, const char *trigger)
{
	bh_own_table_change(t, psprintf("make a %s trigger depend on an extension", t->noun),
						"trigger", trigger);
}

/*
 * A change to the row-level security of one of those tables, its switch
 * (verb "enable", "disable", "force", "stop forcing") or one of its
 * policies (verb "create", "alter", "drop"; policy named): recorded.  On
 * the ledger it decides which events a reviewer's query of it returns
 * (verification reads every event whatever the policies, and passes).
 */
void
bh_own_rls_change(const BhOwnTable *t, const char *verb, const char *policy)
{
	if (policy != NULL)
		bh_own_table_change(t, psprintf("%s a %s policy", verb, t->noun), "policy", policy);
	else
		bh_own_table_change(t, psprintf("%s %s row-level security", verb, t->possessive),
							NULL, NULL);
}

/*
 * Would ALTER TABLE (cmds) make its relation, a logged one, unlogged?  A
 * SET UNLOGGED does, unless PostgreSQL refuses the statement first: it
 * refuses a SET LOGGED or SET UNLOGGED after one that changes the
 * relation's persistence ("cannot change persistence setting twice"), as
 * it prepares the subcommands, before any runs.  A SET LOGGED of a logged
 * relation changes nothing, and a SET UNLOGGED may follow it.  So the
 * refusals of an unlogged copy (bh_refuse_own_unlogged(), a tagged
 * table's) leave PostgreSQL its own error.
 */
bool
bh_alter_sets_unlogged(List *cmds)
{
	ListCell   *lc;
	bool		unlogged = false;

	foreach(lc, cmds)
	{
		AlterTableType subtype = lfirst_node(AlterTableCmd, lc)->subtype;

		if (subtype != AT_SetLogged && subtype != AT_SetUnLogged)
			continue;
		if (unlogged)
			return false;		/* PostgreSQL's refusal */
		unlogged = subtype == AT_SetUnLogged;
	}
	return unlogged;
}

/*
 * SET UNLOGGED of one of those tables (what: its name; detail: why), or of
 * the queue's identity sequence: refused, for everyone.  PostgreSQL
 * empties an unlogged table (and sets an unlogged sequence back to its
 * start) at a crash's or an immediate shutdown's recovery, and a standby
 * has none of its rows: a table's contents would be gone without an event,
 * and nothing in what is left would show it (the chain would start again
 * at seq 1, and verify).
 */
void
bh_refuse_own_unlogged(const char *what, const char *detail, bool table)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot make %s unlogged", what),
			 errdetail_internal("%s", detail),
			 table ? errhint("To move it to another disk: ALTER TABLE ... SET TABLESPACE.") : 0));
}

/*
 * ALTER COLUMN ... DROP EXPRESSION of column of t (relid): refused for one
 * of the ledger's access-review columns, which the install script declares
 * GENERATED from the hashed event so that a review filtering on them sees
 * what the chain covers: made plain, the next ALTER COLUMN ... TYPE ...
 * USING rewrites it in any row, with no trigger fired and nothing recorded.
 * For superusers too, outside the extension's scripts and pg_upgrade's
 * restore; a role that is not the owner is refused by PostgreSQL, next.
 * (PostgreSQL 15 has no other ALTER that makes a generated column plain or
 * changes its expression: a generated column takes no DEFAULT, nor USING.
 * Dropping the column and adding it again, the repair of a changed type, is
 * let through: verification compares each row's columns with its event.)
 */
static void
bh_refuse_own_expression_drop(const BhOwnTable *t, Oid relid, const char *column)
{
	if (t != &bh_own_tables[0] || column == NULL || !bh_ledger_derived_name(column) ||
		bh_in_own_script() || IsBinaryUpgrade || !pg_class_ownercheck(relid, GetUserId()))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cannot drop the expression of column %s of %s: it belongs to extension bh_audit",
					quote_identifier(column), t->name),
			 errdetail("The column is generated from the hashed event, so that a review filtering on it sees what the chain covers; a plain column could be rewritten in any row, with no trigger fired."),
			 errhint("The extension's relations change only through its scripts (ALTER EXTENSION bh_audit UPDATE).")));
}

/*
 * Does ALTER COLUMN ... TYPE without USING (cmd) of column of relid run
 * code of the database's on each value: a cast function not built in
 * (CREATE CAST ... WITH FUNCTION ... AS ASSIGNMENT), or a target type (or
 * a domain's base type) not built in, whose input function makes the
 * values?  A built-in cast keeps what each value says.
 */
static bool
bh_conversion_not_built_in(Oid relid, AlterTableCmd *cmd)
{
	AttrNumber	attnum = get_attnum(relid, cmd->name);
	Oid			target;
	int32		typmod;
	Oid			funcid = InvalidOid;

	if (attnum == InvalidAttrNumber)
		return false;			/* PostgreSQL refuses it */
	typenameTypeIdAndMod(NULL, castNode(ColumnDef, cmd->def)->typeName, &target, &typmod);
	target = getBaseType(target);
	if (target >= FirstNormalObjectId)
		return true;
	if (find_coercion_pathway(target, get_atttype(relid, attnum), COERCION_ASSIGNMENT,
							  &funcid) == COERCION_PATH_FUNC)
		return funcid >= FirstNormalObjectId;
	return false;
}

/*
 * ALTER COLUMN ... TYPE ... USING of column of t (relid): refused for one
 * of the ledger's chain columns (seq, event, hash_alg, prev_event_hash,
 * event_hash), whose values are the sealed events and their links: the
 * expression rewrites them in every row as an UPDATE would, which the
 * append-only guard refuses, with no trigger fired (an event's patient
 * changed and the chain after it hashed again verifies).  For superusers
 * too, outside the extension's scripts and pg_upgrade's restore; a role
 * that is not the owner is refused by PostgreSQL, next.  Without USING (a
 * cast of each value, the repair of a changed type) the change is
 * recorded (bh_check_own_table_alter()), unless the cast is code of the
 * database's (bh_conversion_not_built_in()), which rewrites the values as
 * USING would; a generated column takes no USING, nor does PostgreSQL let
 * the event's type change while one is generated from it.
 */
static void
bh_refuse_own_rewrite(const BhOwnTable *t, Oid relid, AlterTableCmd *cmd)
{
	bool		using;

	if (t != &bh_own_tables[0] || cmd->name == NULL || cmd->def == NULL ||
		!bh_ledger_chain_name(cmd->name) ||
		bh_in_own_script() || IsBinaryUpgrade || !pg_class_ownercheck(relid, GetUserId()))
		return;
	using = castNode(ColumnDef, cmd->def)->raw_default != NULL;
	if (!using && !bh_conversion_not_built_in(relid, cmd))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 using ?
			 errmsg("cannot convert column %s of %s with USING: it holds the sealed events' chain",
					quote_identifier(cmd->name), t->name) :
			 errmsg("cannot convert column %s of %s to a type or by a cast not built in: it holds the sealed events' chain",
					quote_identifier(cmd->name), t->name),
			 errdetail("Sealed audit events can be neither changed nor removed, by any role: an expression would rewrite them in every row, with no trigger fired."),
			 errhint("ALTER COLUMN ... TYPE without USING sets a changed type back.")));
}

/*
 * An ALTER TABLE subcommand, named for the event recording it: what it
 * changes and the column it names.
 */
static const char *
bh_alter_subcommand_name(AlterTableCmd *cmd)
{
	const char *column = cmd->name != NULL ? quote_identifier(cmd->name) : NULL;

	switch (cmd->subtype)
	{
		case AT_AddColumn:
			return psprintf("ADD COLUMN %s",
							quote_identifier(castNode(ColumnDef, cmd->def)->colname));
		case AT_DropColumn:
			return psprintf("DROP COLUMN %s", column);
		case AT_AlterColumnType:
			return psprintf("ALTER COLUMN %s TYPE", column);
		case AT_ColumnDefault:
			return psprintf("ALTER COLUMN %s %s DEFAULT", column,
							cmd->def != NULL ? "SET" : "DROP");
		case AT_AddConstraint:
			return "ADD CONSTRAINT";
		case AT_DropConstraint:
			return psprintf("DROP CONSTRAINT %s", column);
		default:
			return column != NULL ? psprintf("ALTER COLUMN %s", column) : "ALTER TABLE";
	}
}

/*
 * ALTER TABLE of one of those tables: its trigger changes and row-level
 * security recorded; SET UNLOGGED, SET ACCESS METHOD and OF a type, and DROP
 * EXPRESSION of the ledger's access-review columns, refused, for
 * everyone (the extension writes the queue's rows and deletes the tag
 * catalog's as heap tuples, emit.c and tags.c, and the ledger's rows are
 * kept as the table's access method keeps them).  A change of its
 * definition (its columns, their defaults and types, its constraints):
 * refused on the queue and the tag catalog, recorded on the ledger and
 * the ledger's home, one event naming the statement's subcommands, unless
 * refused (a conversion by USING of a chain column, a UNIQUE or EXCLUDE
 * constraint: bh_own_code_attach()).
 */
void
bh_check_own_table_alter(const BhOwnTable *t, Oid relid, AlterTableStmt *stmt)
{
	ListCell   *lc;
	StringInfoData changes;

	initStringInfo(&changes);
	/* only subcommands that attach no code to a table written as superuser */
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		switch (cmd->subtype)
		{
			case AT_ChangeOwner:
			case AT_SetTableSpace:
			case AT_SetRelOptions:
			case AT_ResetRelOptions:
			case AT_ReplaceRelOptions:
			case AT_DropNotNull:
			case AT_SetNotNull:
			case AT_SetStatistics:
			case AT_SetOptions:
			case AT_ResetOptions:
			case AT_SetStorage:
			case AT_SetCompression:
			case AT_ReplicaIdentity:
			case AT_ClusterOn:
			case AT_DropCluster:
			case AT_SetLogged:
			case AT_SetUnLogged:
			case AT_SetAccessMethod:
			case AT_EnableRowSecurity:
			case AT_DisableRowSecurity:
			case AT_ForceRowSecurity:
			case AT_NoForceRowSecurity:
			case AT_EnableTrig:
			case AT_EnableAlwaysTrig:
			case AT_EnableReplicaTrig:
			case AT_DisableTrig:
			case AT_EnableTrigAll:
			case AT_DisableTrigAll:
			case AT_EnableTrigUser:
			case AT_DisableTrigUser:
				/* refused below with its own reason: none is anyone's child */
			case AT_AddInherit:
				break;
			default:
				if (t->sql_access)
					bh_own_code_attach(t, relid, 0, false, "change the definition of", NULL, NULL,
									   "ALTER TABLE can change its owner, tablespace, storage parameters, columns' NOT NULL, statistics and storage, replica identity, clustering index, row-level security and the state of its triggers.");
				else
					appendStringInfo(&changes, "%s%s", changes.len > 0 ? ", " : "",
									 bh_alter_subcommand_name(cmd));
				break;
		}
	}
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		switch (cmd->subtype)
		{
			case AT_SetUnLogged:
				if (!bh_alter_sets_unlogged(stmt->cmds))
					break;		/* PostgreSQL refuses it */
				bh_refuse_own_unlogged(t->name,
									   psprintf("A crash or an immediate shutdown empties an unlogged table, and a standby has none of its rows: %s would be gone, and nothing would record it.",
												t->contents), true);
				break;
			case AT_SetAccessMethod:
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot change the access method of %s", t->name),
						 errdetail("The extension writes the queue's and the tag catalog's rows as heap tuples, and another access method would decide how, or whether, the ledger's are kept."),
						 errhint("VACUUM FULL rewrites it; ALTER TABLE ... SET TABLESPACE moves it to another disk.")));
				break;
			case AT_EnableRowSecurity:
				bh_own_rls_change(t, "enable", NULL);
				break;
			case AT_DisableRowSecurity:
				bh_own_rls_change(t, "disable", NULL);
				break;
			case AT_ForceRowSecurity:
				bh_own_rls_change(t, "force", NULL);
				break;
			case AT_NoForceRowSecurity:
				bh_own_rls_change(t, "stop forcing", NULL);
				break;
			case AT_DisableTrig:
				bh_own_trigger_change(t, "disable", cmd->name, NULL);
				break;
			case AT_DisableTrigAll:
			case AT_DisableTrigUser:
				bh_own_trigger_change(t, "disable", NULL,
									  cmd->subtype == AT_DisableTrigAll ? "ALL" : "USER");
				break;
			case AT_EnableTrig:
				/* ENABLE (ORIGIN) is installed state only for origin_trigger */
				bh_own_trigger_change(t, t->origin_trigger != NULL &&
									  strcmp(cmd->name, t->origin_trigger) == 0
									  ? "enable" : "weaken", cmd->name, NULL);
				break;
			case AT_EnableReplicaTrig:
				bh_own_trigger_change(t, "weaken", cmd->name, NULL);
				break;
			case AT_EnableTrigAll:
			case AT_EnableTrigUser:
				/* its ALWAYS triggers stay so (bh_keep_enabled_always()) */
				bh_own_trigger_change(t, "enable", NULL,
									  cmd->subtype == AT_EnableTrigAll ? "ALL" : "USER");
				break;
			case AT_EnableAlwaysTrig:
				bh_own_trigger_change(t, "enable", cmd->name, NULL);
				break;
			case AT_DropExpression:
				bh_refuse_own_expression_drop(t, relid, cmd->name);
				break;
			case AT_AddOf:
				/* its columns would follow ALTER TYPE ... CASCADE, unchecked */
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot make %s a typed table", t->name),
						 errdetail("ALTER TYPE ... CASCADE of its type would rename, convert or drop its columns, with no ALTER TABLE of it to check or record.")));
				break;
			case AT_AlterColumnType:
				bh_refuse_own_rewrite(t, relid, cmd);
				break;
			case AT_AddConstraint:
			case AT_AddColumn:
				if (!t->sql_access && bh_adds_checking_index(cmd))
					bh_own_code_attach(t, relid, 0, true,
									   "add a unique or exclusion constraint to", NULL, NULL, NULL);
				break;
			default:
				break;
		}
	}
	if (changes.len > 0)
		bh_own_code_attach(t, relid, 0, false, "change the definition of", "subcommands",
						   changes.data, NULL);
}

/*
 * CREATE RULE, CREATE INDEX or CREATE STATISTICS on one of those tables,
 * a foreign key of CREATE TABLE referencing one (bh_own_code_attach())
 */
void
bh_check_own_code(Node *parsetree)
{
	RangeVar   *rv;
	Oid			relid;
	const BhOwnTable *own;

	if (IsA(parsetree, CreateStmt))
	{
		bh_check_own_references(((CreateStmt *) parsetree)->tableElts);
		bh_check_own_references(((CreateStmt *) parsetree)->constraints);
		return;
	}
	if (IsA(parsetree, CreateStatsStmt))
	{
		/* FROM names one table (PostgreSQL refuses more, or another item) */
		Node	   *from = list_length(((CreateStatsStmt *) parsetree)->relations) == 1 ?
		linitial(((CreateStatsStmt *) parsetree)->relations) : NULL;

		if (from == NULL || !IsA(from, RangeVar))
			return;
		rv = (RangeVar *) from;
	}
	else
		rv = IsA(parsetree, RuleStmt) ? ((RuleStmt *) parsetree)->relation :
			((IndexStmt *) parsetree)->relation;
	relid = RangeVarGetRelid(rv, NoLock, true);
	own = bh_own_table(relid);
	if (own == NULL)
		return;
	if (IsA(parsetree, RuleStmt))
		bh_own_code_attach(own, relid, 0, true, psprintf("create rule \"%s\" on",
														 ((RuleStmt *) parsetree)->rulename),
						   NULL, NULL, NULL);
	else if (IsA(parsetree, CreateStatsStmt))
		bh_own_code_attach(own, relid, 0, true, "create statistics on", NULL, NULL, NULL);
	else
		bh_own_code_attach(own, relid, 0, true, "create an index on", NULL, NULL, NULL);
}

/* Is relid the queue's identity sequence? */
bool
bh_is_queue_sequence(Oid relid)
{
	Oid			table;
	int32		column;

	return OidIsValid(relid) && get_rel_relkind(relid) == RELKIND_SEQUENCE &&
		sequenceIsOwned(relid, DEPENDENCY_INTERNAL, &table, &column) &&
		table == bh_queue_relid();
}

/*
 * The queue's identity sequence altered (ALTER SEQUENCE; ALTER TABLE's
 * identity options reach it through ALTER SEQUENCE too) to a negative
 * increment: refused, for its owner (a superuser) too, outside the
 * extension's scripts and pg_upgrade's restore.  The queue's ids must
 * increase (the sealer takes a row with a higher id for a later commit):
 * accepted, every later write of a tagged table would fail at its commit,
 * when its ids are reserved (queue_ids.c).  Judged by the object access
 * hook, on the sequence's pg_sequence row as the statement wrote it
 * (SnapshotSelf: AlterSequence() calls the hook before the command counter
 * moves on), so after all of PostgreSQL's own checks: a role that is not
 * the owner, a duplicate option, bounds, a type or OWNED BY it refuses, a
 * zero increment, get PostgreSQL's error, as for any other sequence.
 */
void
bh_check_own_sequence_altered(Oid relid)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	int64		increment = 1;

	if (bh_in_own_script() || IsBinaryUpgrade || !bh_is_queue_sequence(relid))
		return;
	rel = table_open(SequenceRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_sequence_seqrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, SequenceRelidIndexId, true, SnapshotSelf, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		increment = ((Form_pg_sequence) GETSTRUCT(tuple))->seqincrement;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (increment < 0)
		bh_queue_step_refuse(get_rel_name(relid));
}

/*
 * The table of policy policyid, and the policy's name, as the running
 * command left them (SnapshotSelf: CREATE and ALTER POLICY call the object
 * access hook before the command counter moves on), or InvalidOid.
 */
static Oid
bh_policy_relid(Oid policyid, char **name)
{
	HeapTuple	tuple = bh_catalog_row(PolicyRelationId, Anum_pg_policy_oid,
									   policyid, SnapshotSelf);
	Oid			relid = InvalidOid;

	if (HeapTupleIsValid(tuple))
	{
		relid = ((Form_pg_policy) GETSTRUCT(tuple))->polrelid;
		*name = pstrdup(NameStr(((Form_pg_policy) GETSTRUCT(tuple))->polname));
		heap_freetuple(tuple);
	}
	return relid;
}

/*
 * A policy of one of the extension's own tables created, altered, renamed
 * or dropped, or a role removed from it (DROP OWNED BY one of its roles,
 * which drops a policy for that role alone): recorded, with the policy's
 * name after the change.  Seen by the object access hook, which PostgreSQL
 * calls on each of these paths (CREATE and ALTER POLICY, RENAME TO, DROP
 * POLICY, DROP OWNED BY), so that none is missed nor recorded twice; kept
 * until the statement ran (bh_config_guard_after()), which records it
 * unless it dropped the extension too (DROP SCHEMA bh_audit CASCADE drops
 * the tables' policies first, and the queue with them).
 */
void
bh_own_policy_access(ObjectAccessType access, Oid policyid)
{
	char	   *name = NULL;
	const BhOwnTable *own = bh_own_table(bh_policy_relid(policyid, &name));
	BhGuardUtility *g = bh_config_guard_utility();
	const char *verb = "alter";
	BhPolicyChange *c;
	MemoryContext old;

	if (own == NULL)
		return;
	if (access == OAT_POST_CREATE)
		verb = "create";
	else if (access == OAT_DROP)
		verb = "drop";
	else if (g != NULL && IsA(g->parsetree, RenameStmt))
		verb = "rename";
	else if (g != NULL && IsA(g->parsetree, DropOwnedStmt))
		verb = "remove a role from";
	if (g == NULL)				/* no statement running: at once */
	{
		bh_own_rls_change(own, verb, name);
		return;
	}
	old = MemoryContextSwitchTo(g->cxt);
	c = palloc(sizeof(BhPolicyChange));
	c->own = own;
	c->verb = verb;
	c->policy = pstrdup(name);
	g->policy_changes = lappend(g->policy_changes, c);
	MemoryContextSwitchTo(old);
}

/*
 * The extension's own functions change only through its scripts (CREATE
 * or ALTER EXTENSION ... UPDATE): replacing the capture trigger functions
 * with no-ops, or verify_chain() with one that always passes, would
 * switch capture or verification off without a trace.  CREATE OR REPLACE,
 * ALTER, RENAME and SET SCHEMA of a member function are refused, for
 * superusers too; a change of owner (ALTER ... OWNER TO, REASSIGN OWNED)
 * changes nothing the function does and is let through.
 */
void
bh_check_own_function(Oid funcid)
{
	Oid			ext;

	if (bh_in_own_script() || bh_extension_dropping() ||
		(bh_owner_statement > 0 && bh_utility_nesting() == bh_owner_statement))
		return;
	ext = getExtensionOfObject(ProcedureRelationId, funcid);
	if (!OidIsValid(ext) || ext != get_extension_oid("bh_audit", true))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cannot change function %s: it belongs to extension bh_audit",
					format_procedure(funcid)),
			 errhint("The extension's functions change only through its scripts (ALTER EXTENSION bh_audit UPDATE).")));
}

/*
 * ALTER INDEX ... DEPENDS ON EXTENSION of an index (indexid) of one of
 * the extension's own tables or of their TOAST tables (extname: the
 * other): a DROP EXTENSION of that extension would drop the index with it,
 * without CASCADE (the ledger's indexes, the TOAST tables' -- every
 * out-of-line value of the table would fail from then on), or with CASCADE
 * a primary key's and its constraint, leaving nothing in the chain -- the
 * queue's and the tag catalog's constraints cannot be dropped at all
 * (bh_own_code_attach()).  Refused as the extension's functions' is, for
 * superusers too, outside the extension's scripts and pg_upgrade's
 * restore; a role that does not own the index, or an extension that does
 * not exist, gets PostgreSQL's refusal.
 */
static void
bh_check_own_index_depends(Oid indexid, const char *extname)
{
	const BhOwnTable *own;
	Oid			relid;

	if (bh_in_own_script() || IsBinaryUpgrade || !OidIsValid(indexid) ||
		get_rel_relkind(indexid) != RELKIND_INDEX)
		return;
	relid = IndexGetRelation(indexid, true);
	own = get_rel_relkind(relid) == RELKIND_TOASTVALUE ?
		bh_own_table_of_toast(relid) : bh_own_table(relid);
	if (own == NULL || !OidIsValid(get_extension_oid(extname, true)) ||
		!pg_class_ownercheck(indexid, GetUserId()))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cannot make index %s depend on extension \"%s\": it is an index of %s",
					quote_qualified_identifier(get_namespace_name(get_rel_namespace(indexid)),
											   get_rel_name(indexid)),
					extname, own->name),
			 errdetail("DROP EXTENSION of that extension would drop the index (with CASCADE, a primary key's with its constraint) without a trace."),
			 errhint("The extension's relations change only through its scripts (ALTER EXTENSION bh_audit UPDATE).")));
}

/*
 * ALTER FUNCTION (PROCEDURE, ROUTINE) ... DEPENDS ON EXTENSION of one
 * of the extension's functions: refused as its other ALTERs are
 * (bh_check_own_function()), which PostgreSQL reaches through no object
 * access hook here.  Let through, DROP EXTENSION of the other extension
 * with CASCADE would drop the function, and bh_audit with it.  Of an
 * index of the extension's tables: bh_check_own_index_depends().
 */
void
bh_check_own_depends(AlterObjectDependsStmt *stmt)
{
	Oid			funcid;

	if (stmt->remove)			/* undoing one weakens nothing */
		return;
	if (stmt->objectType == OBJECT_INDEX && stmt->relation != NULL)
	{
		bh_check_own_index_depends(RangeVarGetRelid(stmt->relation, NoLock, true),
								   strVal(stmt->extname));
		return;
	}
	if (stmt->objectType != OBJECT_FUNCTION && stmt->objectType != OBJECT_PROCEDURE &&
		stmt->objectType != OBJECT_ROUTINE)
		return;
	funcid = LookupFuncWithArgs(stmt->objectType, castNode(ObjectWithArgs, stmt->object),
								true);
	if (OidIsValid(funcid))
		bh_check_own_function(funcid);
}
