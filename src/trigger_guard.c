/*-------------------------------------------------------------------------
 *
 * trigger_guard.c
 *		The configuration guard's checks of trigger statements: a capture
 *		trigger of a tagged table cannot be switched off quietly.
 *
 *	- disabling, dropping, renaming, replacing (CREATE OR REPLACE TRIGGER),
 *	  tying to another extension (DEPENDS ON EXTENSION) or weakening (ENABLE,
 *	  ENABLE REPLICA instead of ENABLE ALWAYS) a capture trigger: refused
 *	  for everyone but superusers, and recorded when a superuser does it;
 *	  also through a partitioned table that is not tagged, above a tagged
 *	  one, where PostgreSQL takes the statement to its partitions (a DETACH
 *	  dropping a clone of its trigger too);
 *	- ENABLE TRIGGER ALL / USER (a restore with --disable-triggers runs it
 *	  after its rows): the capture triggers it reaches, and the ALWAYS
 *	  triggers of the extension's own tables, made ENABLE ALWAYS again in
 *	  the same statement, after PostgreSQL's subcommand, unless a later
 *	  subcommand changes them (bh_keep_enabled_always()): it weakens
 *	  nothing, and is neither refused nor recorded (on an own table it is
 *	  recorded as any change of its triggers is);
 *	- a trigger statement on one of the extension's own tables: handed to
 *	  own_guard.c's checks (a new trigger on one refused, outside the
 *	  extension's scripts).
 *
 * config_guard.c calls these checks before each utility statement
 * (bh_check_trigger_stmt()) and for each ALTER TABLE subcommand
 * (bh_check_trigger_cmd(), bh_check_detach_clones()), and
 * bh_keep_enabled_always() after each ALTER TABLE; trigger_guard.h is
 * what it, and guard_lock.c (bh_trigger_table()), call of this file.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

#include "bh_audit.h"
#include "own_guard.h"
#include "settings_guard.h"
#include "tags.h"
#include "trigger_guard.h"

/* Is name one of the capture triggers? */
static bool
bh_is_capture_trigger(const char *name)
{
	return name != NULL &&
		(strcmp(name, BH_ROW_TRIGGER) == 0 || strcmp(name, BH_TRUNCATE_TRIGGER) == 0);
}

/*
 * The table of DROP TRIGGER's object names (its last name is the trigger's;
 * guard_lock.c too)
 */
RangeVar *
bh_trigger_table(List *names)
{
	return makeRangeVarFromNameList(list_truncate(list_copy(names), list_length(names) - 1));
}

/* A weakening of capture on relid: refused, or recorded for a superuser. */
static void
bh_trigger_change(Oid relid, const char *what)
{
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot %s of tagged table \"%s\"", what, get_rel_name(relid)),
				 errdetail("bh_audit captures every change to this table."),
				 errhint("A member of bh_audit_admin can untag the table with bh_audit.untag_table().")));
	bh_tag_config_event("UPDATE", what, relid);
}

/* Is trigger trigoid a clone of trigger ancestor, at any depth (tgparentid)? */
static bool
bh_trigger_descends(Oid trigoid, Oid ancestor)
{
	while (OidIsValid(trigoid) && trigoid != ancestor)
	{
		HeapTuple	tup = bh_catalog_row(TriggerRelationId, Anum_pg_trigger_oid,
										 trigoid, NULL);

		trigoid = HeapTupleIsValid(tup) ? ((Form_pg_trigger) GETSTRUCT(tup))->tgparentid
			: InvalidOid;
		if (HeapTupleIsValid(tup))
			heap_freetuple(tup);
	}
	return OidIsValid(trigoid);
}

/*
 * The tagged tables whose capture trigger trigname (NULL: either) a trigger
 * statement on relid reaches: relid, if it is tagged (or a partition of a
 * tagged table); else, if the statement recurses (not ONLY), the tagged
 * tables under relid, a partitioned table that is not tagged (a tagged
 * table attached under a parent of its owner's).  PostgreSQL takes a
 * statement on a row trigger of a partitioned table to its partitions:
 * CREATE [OR REPLACE] TRIGGER (create) makes or replaces the trigger of
 * that name on each, a capture trigger too (while recursing it skips its
 * check that the one replaced is not a partition's own), which makes it a
 * clone of the parent's; DROP, RENAME, ENABLE/DISABLE, a dependency on an
 * extension and DETACH PARTITION (which drops the partition's clones) reach
 * the clones of the parent's trigger (tgparentid).  under: the partitioned
 * table, or partition, whose tagged tables count (DETACH's partition), or
 * InvalidOid for relid.  A tagged table stands for its own partitions, as
 * when the statement names it.
 */
static List *
bh_capture_triggers_reached(Oid relid, const char *trigname, bool recurse,
							bool create, Oid under)
{
	List	   *result = NIL;
	Oid			parent_trigger;
	ListCell   *lc;

	if (!OidIsValid(relid) || (trigname != NULL && !bh_is_capture_trigger(trigname)))
		return NIL;
	if (bh_tag_lookup(relid) != NULL)
		return list_make1_oid(relid);
	if (!recurse || get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
		return NIL;
	if (trigname == NULL)
		return list_concat_unique_oid(bh_capture_triggers_reached(relid, BH_ROW_TRIGGER,
																  true, create, under),
									  bh_capture_triggers_reached(relid, BH_TRUNCATE_TRIGGER,
																  true, create, under));
	parent_trigger = get_trigger_oid(relid, trigname, true);
	if (!create && !OidIsValid(parent_trigger))
		return NIL;				/* no clone of it anywhere */
	foreach(lc, bh_partition_tree(OidIsValid(under) ? under : relid))
	{
		Oid			rel = lfirst_oid(lc);
		const BhTag *tag = bh_tag_lookup(rel);

		if (tag != NULL && tag->tagged_relid == rel &&
			(create ||
			 bh_trigger_descends(get_trigger_oid(rel, trigname, true), parent_trigger)))
			result = lappend_oid(result, rel);
	}
	return result;
}

/*
 * A trigger statement on relid that changes or drops its trigger trigname
 * (NULL: all of them), as what says: refused, or recorded for a superuser,
 * for each tagged table whose capture trigger it reaches.
 */
static void
bh_capture_trigger_change(Oid relid, const char *trigname, bool recurse,
						  const char *what)
{
	ListCell   *lc;

	foreach(lc, bh_capture_triggers_reached(relid, trigname, recurse, false, InvalidOid))
		bh_trigger_change(lfirst_oid(lc), what);
}

/*
 * ALTER TABLE ... ENABLE or DISABLE TRIGGER of relid (recurse: not ONLY)
 * disabling a capture trigger, or weakening it (ENABLE, ENABLE REPLICA).
 * ENABLE ALWAYS restores it, and ENABLE TRIGGER ALL / USER leaves it
 * ALWAYS (bh_keep_enabled_always()): neither is checked.
 */
void
bh_check_trigger_cmd(Oid relid, bool recurse, AlterTableCmd *cmd)
{
	switch (cmd->subtype)
	{
		case AT_DisableTrig:
			bh_capture_trigger_change(relid, cmd->name, recurse,
									  "disable the capture trigger");
			break;
		case AT_EnableTrig:
		case AT_EnableReplicaTrig:
			bh_capture_trigger_change(relid, cmd->name, recurse,
									  "weaken the capture trigger");
			break;
		case AT_DisableTrigAll:
		case AT_DisableTrigUser:
			bh_capture_trigger_change(relid, NULL, recurse,
									  "disable the capture triggers");
			break;
		default:
			/* (ENABLE TRIGGER ALL / USER: bh_keep_enabled_always()) */
			break;
	}
}

/*
 * Do a statement's subcommands cmds leave trigger name as an ENABLE
 * TRIGGER ALL / USER among them made it (enabled on the origin): does no
 * later subcommand name it or change all triggers again?  PostgreSQL runs
 * a statement's trigger subcommands in their order: the last one's state
 * is the trigger's.
 */
static bool
bh_enable_all_leaves(List *cmds, const char *name)
{
	bool		leaves = false;
	ListCell   *lc;

	foreach(lc, cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		switch (cmd->subtype)
		{
			case AT_EnableTrigAll:
			case AT_EnableTrigUser:
				leaves = true;
				break;
			case AT_DisableTrigAll:
			case AT_DisableTrigUser:
				leaves = false;
				break;
			case AT_EnableTrig:
			case AT_EnableAlwaysTrig:
			case AT_EnableReplicaTrig:
			case AT_DisableTrig:
				if (cmd->name != NULL && strcmp(cmd->name, name) == 0)
					leaves = false;
				break;
			default:
				break;
		}
	}
	return leaves;
}

/*
 * Trigger name of relid, and with recurse (a row trigger of a partitioned
 * table) its clones in relid's partitions at any depth, the ones
 * PostgreSQL's ENABLE TRIGGER ALL reached (tgparentid): those it left
 * enabled on the origin made ENABLE ALWAYS.  The statement holds the lock
 * of each (its recursion took it).
 */
static void
bh_trigger_make_always(Oid relid, const char *name, bool recurse)
{
	Oid			trigoid = get_trigger_oid(relid, name, true);
	List	   *triggers;
	Relation	tgrel;
	ListCell   *lc;

	if (!OidIsValid(trigoid))
		return;
	triggers = list_make1_oid(trigoid);
	if (recurse && get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
	{
		HeapTuple	tup = bh_catalog_row(TriggerRelationId, Anum_pg_trigger_oid,
										 trigoid, NULL);

		/* a statement trigger is the partitioned table's alone */
		if (HeapTupleIsValid(tup) &&
			TRIGGER_FOR_ROW(((Form_pg_trigger) GETSTRUCT(tup))->tgtype))
			foreach(lc, bh_partition_tree(relid))
		{
			Oid			clone = get_trigger_oid(lfirst_oid(lc), name, true);

			if (lfirst_oid(lc) != relid && OidIsValid(clone) &&
				bh_trigger_descends(clone, trigoid))
				triggers = lappend_oid(triggers, clone);
		}
		if (HeapTupleIsValid(tup))
			heap_freetuple(tup);
	}
	tgrel = table_open(TriggerRelationId, RowExclusiveLock);
	foreach(lc, triggers)
	{
		HeapTuple	tup = bh_catalog_row(TriggerRelationId, Anum_pg_trigger_oid,
										 lfirst_oid(lc), NULL);
		Form_pg_trigger trig;

		if (!HeapTupleIsValid(tup))
			continue;
		trig = (Form_pg_trigger) GETSTRUCT(tup);
		if (trig->tgenabled == TRIGGER_FIRES_ON_ORIGIN)
		{
			/* as EnableDisableTrigger() changes it */
			trig->tgenabled = TRIGGER_FIRES_ALWAYS;
			CatalogTupleUpdate(tgrel, &tup->t_self, tup);
			CacheInvalidateRelcacheByRelid(trig->tgrelid);
			InvokeObjectPostAlterHook(TriggerRelationId, trig->oid, 0);
		}
		heap_freetuple(tup);
	}
	table_close(tgrel, RowExclusiveLock);
}

/*
 * After ALTER TABLE stmt ran: the capture triggers an ENABLE TRIGGER ALL /
 * USER among its subcommands reached, and the ALWAYS triggers of the
 * extension's own table it named, which PostgreSQL left enabled on the
 * origin only (skipped under session_replication_role = replica), made
 * ENABLE ALWAYS again, in the same statement: ENABLE TRIGGER ALL, as a
 * restore with --disable-triggers runs it after DISABLE TRIGGER ALL,
 * enables them as they were installed and weakens nothing.  A later
 * subcommand naming one of them (ENABLE REPLICA TRIGGER
 * bh_audit_capture_row), or DISABLE TRIGGER ALL, keeps its effect, which
 * bh_check_trigger_cmd() or own_guard.c checked.  Other triggers keep
 * PostgreSQL's ENABLE (origin).
 */
void
bh_keep_enabled_always(AlterTableStmt *stmt)
{
	Oid			relid;
	const BhOwnTable *own;
	bool		enables = false;
	ListCell   *lc;

	foreach(lc, stmt->cmds)
		if (lfirst_node(AlterTableCmd, lc)->subtype == AT_EnableTrigAll ||
			lfirst_node(AlterTableCmd, lc)->subtype == AT_EnableTrigUser)
		enables = true;
	if (!enables ||
		!OidIsValid(relid = RangeVarGetRelid(stmt->relation, NoLock, true)))
		return;
	CommandCounterIncrement();	/* the statement's changes seen */
	if ((own = bh_own_table(relid)) != NULL)
	{
		const char *const *n;

		/* (its origin_trigger is installed ENABLE, on the origin) */
		for (n = own->triggers; *n != NULL; n++)
			if ((own->origin_trigger == NULL || strcmp(*n, own->origin_trigger) != 0) &&
				bh_enable_all_leaves(stmt->cmds, *n))
				bh_trigger_make_always(relid, *n, false);
	}
	else
	{
		const char *const names[] = {BH_ROW_TRIGGER, BH_TRUNCATE_TRIGGER};
		int			i;

		for (i = 0; i < lengthof(names); i++)
			if (bh_enable_all_leaves(stmt->cmds, names[i]))
				foreach(lc, bh_capture_triggers_reached(relid, names[i], stmt->relation->inh,
														false, InvalidOid))
					bh_trigger_make_always(lfirst_oid(lc), names[i], stmt->relation->inh);
	}
	CommandCounterIncrement();
}

/*
 * DETACH PARTITION of partition from relid, a partitioned table that is
 * not tagged: PostgreSQL drops the partition's clones of relid's triggers,
 * a capture trigger of a tagged table under it among them where it was
 * replaced through relid (bh_capture_triggers_reached()).
 */
void
bh_check_detach_clones(Oid relid, RangeVar *partition)
{
	Oid			part = RangeVarGetRelid(partition, NoLock, true);
	ListCell   *lc;

	if (OidIsValid(part))
		foreach(lc, bh_capture_triggers_reached(relid, NULL, true, false, part))
			bh_trigger_change(lfirst_oid(lc), "drop the capture trigger");
}

/*
 * Inspect DROP TRIGGER, ALTER TRIGGER ... RENAME, CREATE [OR REPLACE]
 * TRIGGER with a capture trigger's name (a replacement calling something
 * else, or firing never) and ALTER TRIGGER ... DEPENDS ON EXTENSION (which
 * lets DROP EXTENSION drop the trigger).  The table is the one the
 * statement holds its lock on (bh_guard_lock_named()): the name cannot
 * come to stand for another table before PostgreSQL looks it up again.
 */
void
bh_check_trigger_stmt(Node *parsetree)
{
	const BhOwnTable *own;

	if (IsA(parsetree, CreateTrigStmt))
	{
		CreateTrigStmt *stmt = (CreateTrigStmt *) parsetree;
		Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
		ListCell   *lc;

		/*
		 * (A superuser creating one where there is none, as a restore does
		 * after the table's rows, weakens nothing; capture_status() tells
		 * whether it is the real one.  Anyone else is refused.)  Only a row
		 * trigger recurses to partitions.
		 */
		foreach(lc, bh_capture_triggers_reached(relid, stmt->trigname, stmt->row,
												true, InvalidOid))
		{
			Oid			tagged = lfirst_oid(lc);

			if (stmt->replace || !superuser() ||
				OidIsValid(get_trigger_oid(tagged, stmt->trigname, true)))
				bh_trigger_change(tagged, "replace the capture trigger");
		}
		if ((own = bh_own_table(relid)) != NULL)
		{
			/*
			 * The extension writes these tables directly, without firing
			 * triggers (the sealer's ledger rows, the queue's rows and their
			 * deletion): another trigger would not see their rows, and a tool
			 * copying the table while a trigger logs its changes (pg_repack)
			 * would lose the rows written meanwhile and bring back those
			 * deleted.  Only one of the extension's own, dropped, can be made
			 * again.  A role without TRIGGER on the table is refused by
			 * PostgreSQL, next: that refusal is its denial
			 * (capture_denial.c).
			 */
			if (pg_class_aclcheck(relid, GetUserId(), ACL_TRIGGER) != ACLCHECK_OK)
				return;
			if (!bh_in_own_script() && !bh_own_trigger_name(own, stmt->trigname))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot create trigger \"%s\" on %s", stmt->trigname, own->name),
						 errdetail("bh_audit writes this table directly, without firing triggers: a trigger would not see its rows, and a table copied while a trigger logs its changes (pg_repack) would lose some."),
						 errhint("Plain VACUUM reclaims its space; VACUUM FULL and CLUSTER rewrite it under an exclusive lock.")));
			bh_own_trigger_change(own, stmt->replace ? "replace" : "add",
								  stmt->trigname, NULL);
		}
		return;
	}
	if (IsA(parsetree, AlterObjectDependsStmt) &&
		((AlterObjectDependsStmt *) parsetree)->objectType == OBJECT_TRIGGER &&
		!((AlterObjectDependsStmt *) parsetree)->remove)
	{
		AlterObjectDependsStmt *stmt = (AlterObjectDependsStmt *) parsetree;
		List	   *names = castNode(List, stmt->object);

		if (names == NIL || stmt->relation == NULL)
			return;
		if ((own = bh_own_table_rangevar(stmt->relation)) != NULL)
			bh_own_trigger_depends(own, strVal(llast(names)));
		else
		{
			/* (DROP EXTENSION drops the clones of a parent's trigger with it) */
			bh_capture_trigger_change(RangeVarGetRelid(stmt->relation, NoLock, true),
									  strVal(llast(names)), true,
									  "make the capture trigger depend on an extension");
		}
		return;
	}
	if (IsA(parsetree, DropStmt) &&
		((DropStmt *) parsetree)->removeType == OBJECT_TRIGGER)
	{
		ListCell   *lc;

		foreach(lc, ((DropStmt *) parsetree)->objects)
		{
			List	   *names = (List *) lfirst(lc);
			char	   *trigname = strVal(llast(names));
			Oid			relid = RangeVarGetRelid(bh_trigger_table(names), NoLock, true);

			if ((own = bh_own_table(relid)) != NULL)
				bh_own_trigger_change(own, "drop", trigname, NULL);
			else
				bh_capture_trigger_change(relid, trigname, true, "drop the capture trigger");
		}
	}
	else if (IsA(parsetree, RenameStmt) &&
			 ((RenameStmt *) parsetree)->renameType == OBJECT_TRIGGER)
	{
		RenameStmt *stmt = (RenameStmt *) parsetree;
		Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);

		if ((own = bh_own_table(relid)) != NULL)
			bh_own_trigger_change(own, "rename", stmt->subname, NULL);
		else
			bh_capture_trigger_change(relid, stmt->subname, true,
									  "rename the capture trigger");
	}
}
