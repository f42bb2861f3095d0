/*-------------------------------------------------------------------------
 *
 * config_guard.c
 *		Capture cannot be switched off quietly: every change that would
 *		weaken capture of a tagged table is recorded first or refused.
 *
 *	- dropping a tagged table: recorded (AuditConfiguration DELETE), and its
 *	  tag removed (object access hook, so DROP ... CASCADE is seen too);
 *	- attaching a table that is tagged itself under a tagged table: refused;
 *	- attaching any other table under a tagged table, directly or under
 *	  one of its partitions (its rows join capture, written unseen):
 *	  recorded after it succeeded, naming each table holding rows that
 *	  arrived (the attached one, or the leaves of an attached partitioned
 *	  table);
 *	- detaching or dropping a partition of a tagged table (its rows leave
 *	  capture, or the database): recorded, naming the partition; a detached
 *	  one loses its TRUNCATE trigger;
 *	- CREATE RULE on a tagged table (DO INSTEAD rewrites its statements
 *	  into others): recorded;
 *	- renaming a tagged table or partition (RENAME TO, SET SCHEMA, ALTER
 *	  SCHEMA ... RENAME of its schema, ALTER EXTENSION ... SET SCHEMA of an
 *	  extension it is a member of): recorded, with the new name, so that
 *	  access review can follow it;
 *	- tagging a partition whose DETACH ... CONCURRENTLY is pending, or a
 *	  table above one, or attaching one under a tagged table: refused
 *	  (PostgreSQL gives it none of its parent's triggers);
 *	- dropping a tagged id or patient column: refused (untag first);
 *	- renaming a tagged column: recorded, and the tag follows the new name;
 *	  changing its type: recorded (both seen as statements; column_guard.c);
 *	- converting or removing any column's values in every row (ALTER
 *	  COLUMN ... TYPE, DROP COLUMN, also through ALTER TYPE ... CASCADE of
 *	  a typed table's type): a write event per table (column_guard.c);
 *	  a column of a temporary type in a tagged table, or a generated one
 *	  calling a temporary function: refused (likewise);
 *	- disabling, dropping, renaming, replacing (CREATE OR REPLACE TRIGGER),
 *	  tying to another extension (DEPENDS ON EXTENSION) or weakening (ENABLE,
 *	  ENABLE REPLICA instead of ENABLE ALWAYS) a capture trigger: refused
 *	  for everyone but superusers, and recorded when a superuser does it;
 *	  also through a partitioned table that is not tagged, above a tagged
 *	  one, where PostgreSQL takes the statement to its partitions (a DETACH
 *	  dropping a clone of its trigger too; trigger_guard.c); ENABLE TRIGGER
 *	  ALL / USER leaves the capture triggers it reaches ENABLE ALWAYS;
 *	- a new inheritance child of a tagged table: refused (only partitions
 *	  are captured through their parent);
 *	- one of the extension's own tables in an inheritance tree or under a
 *	  partitioned table (statements on the parent reach its rows, past its
 *	  statement triggers): refused, for everyone;
 *	- a temporary table created ON COMMIT DELETE ROWS (PostgreSQL empties
 *	  it at every commit, with no trigger and no hook): not taggable, nor
 *	  a partition of a tagged table (CREATE ... PARTITION OF, ATTACH);
 *	- ALTER EXTENSION bh_audit DROP, and ADD (outside pg_upgrade's
 *	  restore too): refused (outside the extension's scripts), for
 *	  superusers too;
 *	- a new partition of a tagged table (CREATE TABLE ... PARTITION OF,
 *	  ATTACH PARTITION), and every partition under an attached partitioned
 *	  table, gets its TRUNCATE trigger (row triggers are cloned by
 *	  PostgreSQL itself).
 *
 * Changes of bh_audit's settings (bh_audit.enabled, the others' stored
 * values, shared_preload_libraries) are guarded by settings_guard.c, which
 * bh_config_guard_before() calls for each statement (settings_guard.h).
 * The extension's own relations and functions (the ledger, the queue and
 * its identity sequence, the tag catalog, the ledger's home, its schema
 * and functions: their triggers, row-level security and policies,
 * unlogged copies, attached code, renames, replaced functions) are guarded
 * by own_guard.c: bh_config_guard_before() and the object access hook
 * call its checks, and those of ALTER TABLE, of trigger statements
 * (trigger_guard.c) and of inheritance hand it what names one of them
 * (own_guard.h).
 *
 * Statements are checked by bh_config_guard_before()/after(), which the
 * extension's one ProcessUtility hook (utility.c) calls; drops, and
 * policy changes, by the object access hook.  Changes made by
 * tag_table()/untag_table() themselves are not intercepted
 * (bh_tags_own_ddl(): subcommands, which fire no event trigger), nor
 * anything while the extension is dropped;
 * the drop itself is kept for a rollback once it took effect
 * (bh_note_narrowing(): a committed drop takes the ledger with it).
 * bh_config_guard_before() first takes the locks the statement takes on
 * the tables it changes (bh_guard_lock_named(), guard_lock.c): its
 * checks see the tagging committed while the statement waited for them;
 * before a statement that drops the extension, those of the queue and of
 * the relations it drops or changes with it, before any other
 * (bh_lock_before_drop(), extension_drop.c).  A statement PostgreSQL
 * refuses in a read-only transaction is refused with its error before
 * any of that (bh_guard_checks()).
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
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "postmaster/autovacuum.h"
#include "tcop/utility.h"
#include "rewrite/prs2lock.h"
#include "rewrite/rewriteDefine.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "bh_audit.h"
#include "capture.h"
#include "column_guard.h"
#include "event.h"
#include "extension_drop.h"
#include "guard_lock.h"
#include "id_text.h"
#include "own_guard.h"
#include "ring.h"
#include "settings_guard.h"
#include "tags.h"
#include "trigger_guard.h"

static object_access_hook_type prev_object_access = NULL;

static void bh_guard_exit_abort(void);

/*
 * True while a statement dropping the extension runs (DROP EXTENSION, DROP
 * SCHEMA ... CASCADE, DROP OWNED: bh_lock_before_drop(), extension_drop.c).
 */
static bool bh_dropping_extension = false;

/*
 * The utility nesting level (bh_utility_nesting()) at which ALTER ... OWNER
 * TO or REASSIGN OWNED runs, 0: none (bh_check_own_function(), own_guard.c).
 * Statements it runs in turn (an event trigger's) are deeper.
 */
int			bh_owner_statement = 0;

/* The innermost utility statement running (bh_config_guard_running()). */
static BhGuardUtility *bh_guard_running = NULL;

/* The innermost utility statement checked or running (bh_in_own_script). */
static BhGuardUtility *bh_guard_entered = NULL;

/*
 * What changes with no statement running (PostgreSQL dropping the
 * session's temporary objects at its end: bh_guard_noting()), noted as a
 * statement's is, in TopTransactionContext, and recorded once at the
 * transaction's end (bh_session_end_xact()); open: something noted in this
 * transaction; closed: its end has come, what comes later is recorded at
 * once.  Noted at the (sub)transaction level in bh_session_end.level:
 * forgotten if that subtransaction is rolled back (the clean-up of a
 * crashed session's schema inside a savepoint or an exception block),
 * the parent's once it commits (bh_session_end_subxact()).
 */
static BhGuardUtility bh_session_end;
static bool bh_session_end_open = false;
static bool bh_session_end_closed = false;

/* The innermost utility statement running, or NULL (settings_guard.c). */
BhGuardUtility *
bh_config_guard_utility(void)
{
	return bh_guard_running;
}

/* Is a drop of the extension running?  (Reads by DDL are not recorded then.) */
bool
bh_extension_dropping(void)
{
	return bh_dropping_extension;
}

/* Is one of bh_audit's scripts running, whatever statement runs now? */
static bool
bh_own_script_running(void)
{
	return creating_extension && OidIsValid(CurrentExtensionObject) &&
		CurrentExtensionObject == get_extension_oid("bh_audit", true);
}

/*
 * Is one of bh_audit's own scripts running (CREATE EXTENSION bh_audit,
 * ALTER EXTENSION bh_audit UPDATE), and is the utility statement checked
 * or running one of its statements (bh_guard_entered)?  Its objects are
 * made and changed there.  Not another extension's script: a statement run
 * then (by an event trigger, say) is checked as any other
 * (creating_extension is true while any extension's script runs).  Nor a
 * statement that one of the script's statements runs in turn, an event
 * trigger's (bh_config_guard_before: only the script's DO blocks run
 * statements of the script).
 */
bool
bh_in_own_script(void)
{
	return bh_own_script_running() &&
		(bh_guard_entered == NULL || bh_guard_entered->script);
}

/* Is the guard active in this database right now?  (settings_guard.c too) */
bool
bh_guard_active(void)
{
	return !bh_tags_own_ddl() && !bh_dropping_extension &&
		IsTransactionState() && OidIsValid(bh_tags_catalog());
}

/*
 * Is the guard active for what the utility statement running now drops or
 * changes (the object access hook)?  Not when it is tag_table()'s or
 * untag_table()'s own DDL, as judged when it started.
 */
static bool
bh_guard_active_running(void)
{
	return bh_guard_active() &&
		(bh_guard_running == NULL || !bh_guard_running->own_ddl);
}

/*
 * Is this a database without the extension?  Its stored settings changes
 * still reach the databases that have it (settings_guard.c).
 */
static bool
bh_guard_elsewhere(void)
{
	return !bh_tags_own_ddl() && !bh_dropping_extension &&
		IsTransactionState() && !OidIsValid(bh_tags_catalog());
}

/*
 * The temporary tables this session created ON COMMIT DELETE ROWS.
 * PostgreSQL keeps that in a list of its own, out of reach (and nowhere in
 * the catalog); a temporary table lives in the session that created it, so
 * noting them as they are created sees every one (the library is loaded
 * before any statement).  Each is kept as PostgreSQL keeps its own: with
 * the subtransactions that created and dropped it in this transaction, so
 * that a rollback of either is undone, a dropped one forgotten at commit
 * (bh_emptied_xact_end): the list holds the tables that exist, and those
 * created or dropped in the running transaction, no others.  While such a
 * statement runs (an event trigger may tag the new table before it ends),
 * its table's name is in bh_emptied_creating.
 */
typedef struct BhEmptied
{
	Oid			relid;
	SubTransactionId created;	/* in this transaction, or Invalid */
	SubTransactionId dropped;	/* in this transaction, or Invalid */
} BhEmptied;

static List *bh_emptied_relids = NIL;	/* BhEmptied *, in TopMemoryContext */
static List *bh_emptied_creating = NIL;

/*
 * The new table a statement creates ON COMMIT DELETE ROWS (CREATE TABLE,
 * CREATE TABLE AS, also under EXPLAIN ANALYZE), or NULL; not one that
 * exists already (IF NOT EXISTS skips it).
 */
static RangeVar *
bh_creates_emptied_table(Node *parsetree)
{
	RangeVar   *rv = NULL;

	if (IsA(parsetree, ExplainStmt) && IsA(((ExplainStmt *) parsetree)->query, Query) &&
		((Query *) ((ExplainStmt *) parsetree)->query)->commandType == CMD_UTILITY)
		parsetree = ((Query *) ((ExplainStmt *) parsetree)->query)->utilityStmt;
	if (parsetree == NULL)
		return NULL;
	if (IsA(parsetree, CreateStmt) &&
		((CreateStmt *) parsetree)->oncommit == ONCOMMIT_DELETE_ROWS)
		rv = ((CreateStmt *) parsetree)->relation;
	else if (IsA(parsetree, CreateTableAsStmt) &&
			 ((CreateTableAsStmt *) parsetree)->into->onCommit == ONCOMMIT_DELETE_ROWS)
		rv = ((CreateTableAsStmt *) parsetree)->into->rel;
	if (rv == NULL || OidIsValid(RangeVarGetRelid(rv, NoLock, true)))
		return NULL;
	return rv;
}

/*
 * Right before a utility statement runs: the materialized view it
 * refreshes concurrently, and the name of the table it creates ON COMMIT
 * DELETE ROWS, while it runs.  What it sets is undone by
 * bh_config_guard_cleanup(), also when it fails half-way (each global is
 * set only together with what tells the clean-up about it).
 */
void
bh_config_guard_running(Node *parsetree, BhGuardUtility *g)
{
	RangeVar   *rv = bh_creates_emptied_table(parsetree);	/* may fail */

	if (rv != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		bh_emptied_creating = lcons(pstrdup(rv->relname), bh_emptied_creating);
		MemoryContextSwitchTo(old);
		g->emptied_rv = rv;
	}
	if (OidIsValid(g->refreshing))
		bh_refreshing_matview = g->refreshing;
	bh_guard_running = g;
}

/* After it, whether it ran or failed (bh_config_guard_cleanup). */
static void
bh_emptied_end(BhGuardUtility *g)
{
	if (g->emptied_rv == NULL || bh_emptied_creating == NIL)
		return;
	pfree(linitial(bh_emptied_creating));
	bh_emptied_creating = list_delete_first(bh_emptied_creating);
}

/* After it ran: note the table it created. */
static void
bh_emptied_created(BhGuardUtility *g)
{
	Oid			relid;
	BhEmptied  *e;
	MemoryContext old;

	if (g->emptied_rv == NULL ||
		!OidIsValid(relid = RangeVarGetRelid(g->emptied_rv, NoLock, true)))
		return;
	old = MemoryContextSwitchTo(TopMemoryContext);
	e = palloc(sizeof(BhEmptied));
	e->relid = relid;
	e->created = GetCurrentSubTransactionId();
	e->dropped = InvalidSubTransactionId;
	bh_emptied_relids = lappend(bh_emptied_relids, e);
	MemoryContextSwitchTo(old);
}

/*
 * A relation is dropped (object access hook): one of the list is gone at
 * commit, or at once if this subtransaction created it (it is gone whether
 * the subtransaction commits or not).
 */
static void
bh_emptied_dropped(Oid relid)
{
	ListCell   *lc;

	foreach(lc, bh_emptied_relids)
	{
		BhEmptied  *e = (BhEmptied *) lfirst(lc);

		if (e->relid != relid)
			continue;
		if (e->created == GetCurrentSubTransactionId())
		{
			bh_emptied_relids = foreach_delete_current(bh_emptied_relids, lc);
			pfree(e);
		}
		else
			e->dropped = GetCurrentSubTransactionId();
		return;
	}
}

/*
 * At the end of a (sub)transaction (subid; InvalidSubTransactionId: the
 * top level), as PostgreSQL's own list: rolled back, what it created is
 * forgotten and what it dropped is there again; committed, what it
 * created or dropped is its parent's doing (parent), or, at the top
 * level, done: what it dropped is forgotten.
 */
static void
bh_emptied_xact_end(SubTransactionId subid, SubTransactionId parent, bool commit)
{
	bool		top = (subid == InvalidSubTransactionId);
	ListCell   *lc;

	foreach(lc, bh_emptied_relids)
	{
		BhEmptied  *e = (BhEmptied *) lfirst(lc);
		bool		created = top ? e->created != InvalidSubTransactionId : e->created == subid;
		bool		dropped = top ? e->dropped != InvalidSubTransactionId : e->dropped == subid;

		if (commit ? (dropped && top) : created)
		{
			bh_emptied_relids = foreach_delete_current(bh_emptied_relids, lc);
			pfree(e);
			continue;
		}
		if (created)
			e->created = parent;
		if (dropped)
			e->dropped = commit ? parent : InvalidSubTransactionId;
	}
}

static void
bh_emptied_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PREPARE)
		bh_emptied_xact_end(InvalidSubTransactionId, InvalidSubTransactionId, true);
	else if (event == XACT_EVENT_ABORT)
	{
		bh_emptied_xact_end(InvalidSubTransactionId, InvalidSubTransactionId, false);
		bh_guard_exit_abort();
	}
}

/*
 * A subtransaction ends: what bh_guard_noting() noted in it with no
 * statement running is forgotten (rolled back: the objects are there
 * again), or its parent's (committed).  One subtransaction notes it all:
 * the clean-up of a crashed session's temporary schema is one deletion,
 * a session's end or autovacuum's drop runs at the top level.
 */
static void
bh_session_end_subxact(bool commit)
{
	int			level = GetCurrentTransactionNestLevel();

	if (!bh_session_end_open || bh_session_end.level < level)
		return;
	if (commit)
		bh_session_end.level = level - 1;
	else
		bh_session_end_open = false;
}

static void
bh_emptied_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
							SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_COMMIT_SUB || event == SUBXACT_EVENT_ABORT_SUB)
	{
		bh_emptied_xact_end(mySubid, parentSubid, event == SUBXACT_EVENT_COMMIT_SUB);
		bh_session_end_subxact(event == SUBXACT_EVENT_COMMIT_SUB);
	}
}

/* Is rel a temporary table (with storage) emptied at every commit? */
static bool
bh_is_emptied(Oid rel)
{
	char	   *relname;
	ListCell   *lc;

	if (get_rel_persistence(rel) != RELPERSISTENCE_TEMP ||
		get_rel_relkind(rel) != RELKIND_RELATION)
		return false;
	foreach(lc, bh_emptied_relids)
		if (((BhEmptied *) lfirst(lc))->relid == rel)
		return true;
	relname = get_rel_name(rel);
	foreach(lc, bh_emptied_creating)
		if (relname && strcmp(relname, (char *) lfirst(lc)) == 0)
		return true;
	return false;
}

/*
 * The error for a table PostgreSQL empties with no DELETE event (emptied:
 * a temporary table created ON COMMIT DELETE ROWS, at every commit; or an
 * unlogged one, by a crash's recovery) under a tag: as a new partition of tagged table table, or as table, or a
 * partition of it, being tagged.
 */
static void
bh_refuse_emptied(const char *emptied, bool unlogged, const char *table, bool as_partition)
{
	if (unlogged)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 as_partition
				 ? errmsg("unlogged table \"%s\" cannot be a partition of tagged table \"%s\"",
						  emptied, table)
				 : errmsg("cannot tag \"%s\": table \"%s\" is unlogged", table, emptied),
				 errdetail("A crash empties an unlogged table without a DELETE event."),
				 errhint("Make it logged first: ALTER TABLE ... SET LOGGED.")));
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 as_partition
			 ? errmsg("temporary table \"%s\" is created ON COMMIT DELETE ROWS: it cannot be a partition of tagged table \"%s\"",
					  emptied, table)
			 : errmsg("cannot tag \"%s\": temporary table \"%s\" is created ON COMMIT DELETE ROWS",
					  table, emptied),
			 errdetail("PostgreSQL deletes its rows at every commit without a DELETE event."),
			 errhint("Create it with ON COMMIT PRESERVE ROWS (the default) or ON COMMIT DROP.")));
}

/*
 * The error for a foreign table under a tagged table (being tagged, or a
 * new partition of one): its rows live on another server, where neither
 * reads nor writes are captured.
 */
static void
bh_refuse_foreign(const char *foreign, const char *table, bool as_partition)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 as_partition
			 ? errmsg("foreign table \"%s\" cannot be a partition of tagged table \"%s\"",
					  foreign, table)
			 : errmsg("cannot tag \"%s\": partition \"%s\" is a foreign table", table, foreign),
			 errdetail("Its rows live on another server: reads and writes through it are not captured.")));
}

/*
 * A partition whose DETACH ... CONCURRENTLY is pending (cancelled in its
 * second transaction, until ... FINALIZE) cannot be tagged (tagged: it is
 * captured under its tagged ancestor's tag until the detach completes) nor
 * come under a tag within the table tagged or attached: PostgreSQL gives
 * it none of its parent's triggers, so its rows would not be captured.
 */
static void
bh_refuse_detaching(Oid rel, bool tagged)
{
	bool		pending;
	Oid			parent = bh_partition_parent(rel, &pending);

	if (!pending)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("table \"%s\" is being detached from \"%s\"",
					get_rel_name(rel), get_rel_name(parent)),
			 tagged ?
			 errdetail("It is a partition until the detach completes, captured as one when a table above it is tagged.") :
			 errdetail("A partition whose detach is pending gets no trigger of its parent: its rows would not be captured."),
			 errhint("Complete the detach first: ALTER TABLE %s DETACH PARTITION %s FINALIZE.",
					 bh_table_name(parent), bh_table_name(rel))));
}

/*
 * relid and its partitions, about to be captured under tagged table table
 * (as_partition: relid is joining it; else relid is being tagged): refused
 * if PostgreSQL empties one of them with no event (bh_refuse_emptied()),
 * if one is a foreign table (bh_refuse_foreign()), or if it drops a column
 * or a table so (one depending on an object of a temporary schema, in or
 * being a table that is not temporary, bh_check_temp_columns()), or if
 * one is a partition whose detach is pending (bh_refuse_detaching()).  One
 * pass over the tree; each object its walks reach walked once (the
 * partitions' columns and expressions are their table's).
 */
static void
bh_check_under_tag(Oid relid, const char *table, bool as_partition)
{
	ListCell   *lc;
	HTAB	   *seen = NULL;	/* the objects reaching no temporary one */

	foreach(lc, bh_partition_tree(relid))
	{
		Oid			rel = lfirst_oid(lc);
		char		relkind = get_rel_relkind(rel);
		char		persistence = get_rel_persistence(rel);
		bool		unlogged = (persistence == RELPERSISTENCE_UNLOGGED &&
								relkind == RELKIND_RELATION);

		if (rel != relid || !as_partition)
			bh_refuse_detaching(rel, rel == relid);
		if (unlogged || bh_is_emptied(rel))
			bh_refuse_emptied(get_rel_name(rel), unlogged, table, as_partition);
		if (relkind == RELKIND_FOREIGN_TABLE)
			bh_refuse_foreign(get_rel_name(rel), table, as_partition);
		if (persistence != RELPERSISTENCE_TEMP)
			bh_check_temp_columns(rel, table, &seen);
	}
	bh_temp_walk_end(seen);
}

/* tag_table(): may relid be tagged (bh_check_under_tag())? */
void
bh_guard_check_taggable(Oid relid)
{
	bh_check_under_tag(relid, get_rel_name(relid), false);
}

/*
 * The relation rv names, if it exists and is tagged (itself or through a
 * parent); *tagged, if given, the table carrying its tag (from the same
 * lookup: a second one could find the cache loaded again).  The tag is the
 * committed one once the statement holds its lock on the relation
 * (bh_guard_lock_named()).
 */
static Oid
bh_tagged_rangevar(RangeVar *rv, Oid *tagged)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);
	const BhTag *tag = OidIsValid(relid) ? bh_tag_lookup(relid) : NULL;

	if (tagged != NULL)
		*tagged = tag != NULL ? tag->tagged_relid : InvalidOid;
	return tag != NULL ? relid : InvalidOid;
}

/*
 * The row of catalog catalogid whose oid (column oidcol) is objid, copied,
 * as snapshot sees it (NULL: the catalog snapshot), or NULL (settings_guard.c
 * too).
 */
HeapTuple
bh_catalog_row(Oid catalogid, AttrNumber oidcol, Oid objid, Snapshot snapshot)
{
	Relation	rel = table_open(catalogid, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	ScanKeyInit(&key, oidcol, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(objid));
	scan = systable_beginscan(rel, get_object_oid_index(catalogid), true,
							  snapshot, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		tuple = heap_copytuple(tuple);
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return tuple;
}

/*
 * The narrowing helpers (bh_narrowing(), bh_narrowing_in_effect()) are
 * this file's, though a switch of bh_audit.enabled off (settings_guard.c)
 * narrows read capture as well as a DETACH: all they keep and read is
 * this file's state (the statement whose checks run, bh_guard_before; the
 * statements running, bh_guard_running; their queued narrowings, which
 * bh_config_guard_after() notes), so settings_guard.c needs bh_narrowing()
 * alone.  Queueing a switch's event (bh_enabled_queue()) is
 * settings_guard.c's: nothing here switches bh_audit.enabled.
 */

/* The utility statement whose bh_config_guard_before() is running. */
static BhGuardUtility *bh_guard_before = NULL;

/*
 * A change narrowing read capture that a utility statement queued before
 * it ran (bh_config_guard_before()), kept for bh_note_narrowing() once it
 * took effect.
 */
typedef struct BhNarrowing
{
	Jsonb	   *event;
	char	   *change;			/* what changed (see bh_note_narrowing()) */
	Oid			detached;		/* the partition a DETACH takes out (one of
								 * its table when queued), or InvalidOid */
	bool		noted;			/* handed to bh_note_narrowing() */
} BhNarrowing;

/*
 * The event of a change that narrows read capture at once in this session,
 * just queued: kept for a rollback (emit.c, bh_note_narrowing()) once the
 * change has taken effect — at once from a GUC check hook; noted before a
 * utility statement, once it ran, or, for a DETACH, once the partition is
 * no longer one, when a statement runs in the session before the DETACH
 * ends (bh_narrowing_in_effect(): its event triggers').  One refused, or
 * failing before it took effect, leaves only its queued event, which its
 * rollback takes away.  detached: the partition a DETACH takes out, or
 * InvalidOid (also for a table that is no partition of the DETACH's
 * table: PostgreSQL refuses it, and its being no partition says nothing).
 */
void
bh_narrowing(Jsonb *event, const char *change, Oid detached)
{
	BhGuardUtility *g = bh_guard_before;

	if (g != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(g->cxt);
		BhNarrowing *n = palloc0(sizeof(BhNarrowing));

		n->event = (Jsonb *) pg_detoast_datum_copy((struct varlena *) event);
		n->change = pstrdup(change);
		n->detached = detached;
		g->narrowing = lappend(g->narrowing, n);
		MemoryContextSwitchTo(old);
	}
	else
		bh_note_narrowing(event, change);
}

/*
 * A statement starts (an executor's, or a utility statement) while utility
 * statements run: a DETACH among them that is done (its partition no
 * longer one: PostgreSQL clears that last) has taken effect, and what runs
 * now (its event triggers) reads the partition uncaptured.  Its note is
 * kept at the DETACH's own level, whatever savepoint the trigger runs in,
 * also if the statement fails afterwards.  The foreign-key check that may
 * refuse the DETACH runs before the partition's row is changed: nothing
 * is noted for one refused there, nor for one of a table that was no
 * partition of the DETACH's table (refused: it takes none out).
 */
static void
bh_narrowing_in_effect(void)
{
	BhGuardUtility *g;
	ListCell   *lc;

	if (!IsTransactionState())
		return;
	for (g = bh_guard_running; g != NULL; g = g->outer)
		foreach(lc, g->narrowing)
	{
		BhNarrowing *n = (BhNarrowing *) lfirst(lc);

		if (!n->noted && OidIsValid(n->detached) &&
			!get_rel_relispartition(n->detached))
		{
			bh_note_narrowing_at(n->event, n->change, g->level);
			n->noted = true;
		}
	}
}

/*
 * A statement starts in this session (ProcessUtility, ExecutorStart): a
 * DETACH still running that is done is noted (bh_narrowing_in_effect());
 * a switch of bh_audit.enabled given as a connection option is recorded
 * (bh_settings_guard_session()).
 */
void
bh_config_guard_session(void)
{
	if (bh_guard_running != NULL)
		bh_narrowing_in_effect();
	bh_settings_guard_session();
}

/*
 * At the end of a transaction in which bh_guard_noting() noted changes
 * with no statement running: before its commit, one table-wide UPDATE
 * event per table (statement "session end"), as a statement's after it
 * ran (bh_values_changes_record()); at its end, forgotten.  Registered
 * at load after emit.c's own callback (bh_config_guard_xact_init()), so
 * that PostgreSQL calls it first, before that one writes the transaction's
 * events; in every transaction, so that what is dropped after its
 * pre-commit (ON COMMIT DROP) is recorded at once.
 */
static void
bh_session_end_xact(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_PRE_COMMIT && bh_session_end_open)
	{
		bh_session_end_closed = true;
		bh_values_changes_record("session end", &bh_session_end);
	}
	else if (event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PRE_PREPARE)
		bh_session_end_closed = true;
	else if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
			 event == XACT_EVENT_PREPARE)
		bh_session_end_open = bh_session_end_closed = false;
}

/*
 * Register bh_session_end_xact(), after emit.c's callback (_PG_init):
 * PostgreSQL calls the callbacks registered later first.
 */
void
bh_config_guard_xact_init(void)
{
	RegisterXactCallback(bh_session_end_xact, NULL);
}

/*
 * Is PostgreSQL, dropping an object with dropflags, cleaning out the
 * temporary objects a crashed session left behind?  The next session given
 * its temporary schema does it (InitTempTableNamespace():
 * RemoveTempRelations(), the only deletion that skips its original object,
 * the schema) inside its first statement that creates a temporary object,
 * before the schema is the session's own (GetTempNamespaceState()); the
 * same deletion of the session's own schema (DISCARD TEMP, its end) finds
 * it its own.  Objects a superuser put into the temporary schema of no
 * live session cannot reach a tagged table that way: a column's
 * dependency on any session's temporary schema is refused
 * (column_guard.c).  An autovacuum worker runs no statement of anyone's
 * and drops nothing but orphaned temporary tables (do_autovacuum()), each
 * with CASCADE and PERFORM_DELETION_INTERNAL, which PostgreSQL passes on
 * to every object dropped with it: whatever it drops so is that clean-up,
 * the schema not named (each table is dropped on its own).  Returns what
 * is noted of the clean-up (palloc'd), or NULL: not so.
 */
static const BhTempCleanup *
bh_temp_cleanup(int dropflags)
{
	BhTempCleanup *cleanup;
	Oid			temp_schema;
	Oid			temp_toast_schema;

	if (IsAutoVacuumWorkerProcess())
	{
		if ((dropflags & PERFORM_DELETION_INTERNAL) == 0)
			return NULL;
		cleanup = palloc0(sizeof(BhTempCleanup));
		cleanup->triggered_by = "autovacuum";
		return cleanup;
	}
	if ((dropflags & PERFORM_DELETION_SKIP_ORIGINAL) == 0)
		return NULL;
	GetTempNamespaceState(&temp_schema, &temp_toast_schema);
	if (OidIsValid(temp_schema))
		return NULL;
	/* the schema InitTempTableNamespace() is cleaning out */
	cleanup = palloc0(sizeof(BhTempCleanup));
	cleanup->schema = psprintf("pg_temp_%d", MyBackendId);
	cleanup->triggered_by = bh_session_user_name();
	return cleanup;
}

/*
 * The statement to note a change of a tagged table's rows for, by the
 * drop of an object with dropflags: the innermost running utility
 * statement; with none, PostgreSQL is dropping the session's temporary
 * objects with CASCADE at the session's end, and what it drops is noted
 * for the transaction doing that, recorded once before it commits
 * (bh_session_end_xact()); NULL once that is under way: record at once.
 * Not for the statement running either when PostgreSQL cleans out a
 * crashed session's temporary schema in it (bh_temp_cleanup()):
 * noted the same way, and recorded as the server's doing
 * (cleaned, bh_values_changes_record()); nor while the session
 * exits (proc_exit()): a statement still named running then is one the
 * exit did not unwind, which never records what is noted for it (a FATAL
 * between the transactions of a multi-transaction command, VACUUM, CREATE
 * INDEX CONCURRENTLY, a CALL that commits: no transaction is open, and no
 * abort at the exit forgets the statement, bh_guard_exit_abort()).
 */
static BhGuardUtility *
bh_guard_noting(int dropflags)
{
	const BhTempCleanup *cleanup = bh_temp_cleanup(dropflags);

	if (bh_guard_running != NULL && cleanup == NULL && !proc_exit_inprogress)
		return bh_guard_running;
	if (bh_session_end_closed)
		return NULL;
	if (!bh_session_end_open)
	{
		memset(&bh_session_end, 0, sizeof(bh_session_end));
		bh_session_end.cxt = TopTransactionContext;
		bh_session_end.level = GetCurrentTransactionNestLevel();
		if (cleanup != NULL)
		{
			BhTempCleanup *kept = MemoryContextAllocZero(TopTransactionContext,
														 sizeof(BhTempCleanup));

			if (cleanup->schema != NULL)
				kept->schema = MemoryContextStrdup(TopTransactionContext, cleanup->schema);
			kept->triggered_by = MemoryContextStrdup(TopTransactionContext,
													 cleanup->triggered_by);
			bh_session_end.cleaned = kept;
		}
		bh_session_end_open = true;
	}
	return &bh_session_end;
}

/*
 * A column of a tagged table with rows is being dropped, by whatever
 * statement: ALTER TABLE ... DROP COLUMN (recursing to partitions and to
 * the inheritance children PostgreSQL decides), ALTER TYPE ... DROP
 * ATTRIBUTE CASCADE, and everything CASCADE takes with it (a generated
 * column computed from a dropped column or function, a column of a
 * dropped type or domain).  Its values leave every row: a write, noted for
 * the innermost running utility statement, which records it after it ran
 * (bh_values_changes_record()), one event per table.  With no statement
 * running, PostgreSQL is dropping the session's temporary objects with
 * CASCADE at the session's end: the same event (statement "session end"),
 * recorded before that transaction commits (bh_guard_noting()), or at
 * once after, as a tagged table dropped there is (bh_tag_dropped()).
 */
static void
bh_note_dropped_column(Oid relid, AttrNumber attnum, const BhTag *tag, int dropflags)
{
	char	   *colname;
	BhGuardUtility *g;

	if (!bh_capture_enabled || !tag->capture_writes ||
		get_rel_relkind(relid) != RELKIND_RELATION ||
		(colname = get_attname(relid, attnum, true)) == NULL)
		return;
	if ((g = bh_guard_noting(dropflags)) != NULL)
		bh_values_change_add(g, relid, colname, true);
	else
		bh_write_table_event(tag, bh_rel_row_estimate(relid), "UPDATE", "session end",
							 NULL, bh_name_text(colname));
}

/*
 * The tagged materialized view that REFRESH ... CONCURRENTLY is refreshing:
 * its own queries compare the view's old rows with the new ones, which
 * discloses nothing to the user (read capture skips its scans).
 */
Oid			bh_refreshing_matview = InvalidOid;

/*
 * REFRESH MATERIALIZED VIEW of a tagged materialized view replaces its
 * rows: a write, one UPDATE event for it (with the row estimate from
 * before), unless it is tagged for reads only.
 */
static void
bh_check_refresh(RefreshMatViewStmt *stmt, BhGuardUtility *g)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	const BhTag *tag;

	if (!OidIsValid(relid) || (tag = bh_tag_lookup(relid)) == NULL)
		return;
	if (stmt->concurrent)
		g->refreshing = relid;	/* set while it runs:
								 * bh_config_guard_running() */
	if (bh_capture_enabled && tag->capture_writes)
		bh_write_table_event(tag, bh_rel_row_estimate(relid), "UPDATE", "REFRESH MATERIALIZED VIEW",
							 NULL, NULL);
}

/*
 * ATTACH PARTITION under a tagged table of a table that is tagged itself
 * (or holds a tagged partition): refused with a clear error.  Its rows
 * would be captured twice, and PostgreSQL would fail anyway on the capture
 * trigger it clones.
 */
static void
bh_check_attach(Oid tagged_relid, RangeVar *partition)
{
	Oid			part = RangeVarGetRelid(partition, NoLock, true);
	List	   *rels;
	ListCell   *lc;

	if (!OidIsValid(part))
		return;
	bh_check_under_tag(part, get_rel_name(tagged_relid), true);
	rels = bh_partition_tree(part);
	foreach(lc, rels)
	{
		const BhTag *tag = bh_tag_lookup(lfirst_oid(lc));

		if (tag != NULL && tag->tagged_relid != tagged_relid)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("cannot attach \"%s\" to tagged table \"%s\": table \"%s\" is tagged itself",
							get_rel_name(part), get_rel_name(tagged_relid),
							get_rel_name(tag->tagged_relid)),
					 errhint("Untag it with bh_audit.untag_table() first: as a partition it is captured under the tag of \"%s\".",
							 get_rel_name(tagged_relid))));
	}
}

/*
 * CREATE RULE on a tagged table: a DO INSTEAD rule rewrites its INSERT,
 * UPDATE or DELETE (or SELECT) into statements on other tables, where no
 * capture follows the rows: recorded, either kind.
 */
static void
bh_check_rule(RuleStmt *stmt)
{
	Oid			relid = bh_tagged_rangevar(stmt->relation, NULL);

	if (OidIsValid(relid))
		bh_tag_config_event("UPDATE", stmt->instead ? "instead_rule_created" : "rule_created",
							relid);
}

/*
 * The rules already on relid and its partitions when they come under a tag
 * (tag_table(), ATTACH PARTITION): each enabled one rewrites the table's
 * writes from now on, as one created now would (bh_check_rule()): recorded
 * the same way (a disabled one is recorded when it is enabled).
 */
void
bh_guard_record_rules(Oid relid)
{
	ListCell   *lc;

	foreach(lc, bh_partition_tree(relid))
	{
		Relation	r = relation_open(lfirst_oid(lc), AccessShareLock);
		RuleLock   *rules = r->rd_rules;
		int			i;

		for (i = 0; rules != NULL && i < rules->numLocks; i++)
		{
			RewriteRule *rule = rules->rules[i];

			if (rule->event == CMD_SELECT || rule->enabled == RULE_DISABLED)
				continue;
			bh_tag_config_event("UPDATE", rule->isInstead ? "instead_rule_present" : "rule_present",
								RelationGetRelid(r));
		}
		relation_close(r, AccessShareLock);
	}
}

/*
 * ALTER TABLE ... ENABLE RULE of a tagged table: a rule created while it
 * was disabled (or before the table was tagged) starts rewriting its
 * statements, as one created now would: recorded like CREATE RULE.
 */
static void
bh_check_rule_enabled(Oid relid, const char *rulename)
{
	HeapTuple	tp = SearchSysCache2(RULERELNAME, ObjectIdGetDatum(relid),
									 CStringGetDatum(rulename));
	bool		instead;

	if (!HeapTupleIsValid(tp))
		return;					/* PostgreSQL reports it */
	instead = ((Form_pg_rewrite) GETSTRUCT(tp))->is_instead;
	ReleaseSysCache(tp);
	bh_tag_config_event("UPDATE", instead ? "instead_rule_enabled" : "rule_enabled", relid);
}

/*
 * The relations that are members of an extension: ALTER EXTENSION ... SET
 * SCHEMA moves them with it, a drop of it drops them.
 */
List *
bh_extension_relations(Oid extoid)
{
	List	   *result = NIL;
	List	   *deps = bh_depending_on(ExtensionRelationId, extoid);
	ListCell   *lc;

	foreach(lc, deps)
	{
		Form_pg_depend dep = (Form_pg_depend) lfirst(lc);

		if (dep->deptype == DEPENDENCY_EXTENSION && dep->classid == RelationRelationId &&
			dep->objsubid == 0)
			result = lappend_oid(result, dep->objid);
	}
	list_free_deep(deps);
	return result;
}

/*
 * ALTER TABLE ... RENAME TO / SET SCHEMA of a tagged table (or one of its
 * partitions), ALTER SCHEMA ... RENAME of its schema: events name tables,
 * so the new name is recorded first (ALTER EXTENSION ... SET SCHEMA once
 * it ran: bh_extension_moved()).
 */
static void
bh_check_table_rename(Node *parsetree)
{
	RangeVar   *rv = NULL;
	const char *new_schema = NULL;
	const char *new_name = NULL;
	Oid			relid;

	/* ALTER INDEX / VIEW / ... RENAME names a table too, and renames it */
	if (IsA(parsetree, RenameStmt) &&
		(((RenameStmt *) parsetree)->renameType == OBJECT_TABLE ||
		 ((RenameStmt *) parsetree)->renameType == OBJECT_INDEX ||
		 ((RenameStmt *) parsetree)->renameType == OBJECT_VIEW ||
		 ((RenameStmt *) parsetree)->renameType == OBJECT_MATVIEW ||
		 ((RenameStmt *) parsetree)->renameType == OBJECT_SEQUENCE ||
		 ((RenameStmt *) parsetree)->renameType == OBJECT_FOREIGN_TABLE))
	{
		rv = ((RenameStmt *) parsetree)->relation;
		new_name = ((RenameStmt *) parsetree)->newname;
	}
	else if (IsA(parsetree, RenameStmt) &&
			 ((RenameStmt *) parsetree)->renameType == OBJECT_SCHEMA)
	{
		/* every tagged table of the schema gets a new name */
		RenameStmt *stmt = (RenameStmt *) parsetree;
		Oid			nspid = get_namespace_oid(stmt->subname, true);
		List	   *renamed = OidIsValid(nspid) ? bh_tagged_in_schema(nspid) : NIL;
		ListCell   *lc;

		foreach(lc, renamed)
			bh_tag_renamed_event(lfirst_oid(lc), NULL, stmt->newname, NULL);

		/*
		 * The rename locks none of the schema's tables: a session that holds
		 * one's lock already (an EXECUTE of a prepared INSERT in its
		 * transaction) takes in no invalidation before it runs, and its tag
		 * cache, which holds qualified names, would name the table by the old
		 * one; at the commit every session is told to take them in.  Only for
		 * a schema holding one: taking the invalidations in also makes
		 * PostgreSQL analyse its prepared statements again, and one naming
		 * the old schema fails.
		 */
		if (renamed != NIL)
			bh_tags_advance_after_commit();
		return;
	}
	else if (IsA(parsetree, AlterObjectSchemaStmt) &&
			 (((AlterObjectSchemaStmt *) parsetree)->objectType == OBJECT_TABLE ||
			  ((AlterObjectSchemaStmt *) parsetree)->objectType == OBJECT_MATVIEW))
	{
		rv = ((AlterObjectSchemaStmt *) parsetree)->relation;
		new_schema = ((AlterObjectSchemaStmt *) parsetree)->newschema;
	}
	if (rv == NULL)
		return;
	relid = bh_tagged_rangevar(rv, NULL);
	if (OidIsValid(relid))
		bh_tag_renamed_event(relid, NULL, new_schema, new_name);
}

/*
 * ALTER EXTENSION ... SET SCHEMA, before it runs: the extension's schema
 * (pg_extension.extnamespace), which its members leave.
 */
static void
bh_extension_schema_note(AlterObjectSchemaStmt *stmt, BhGuardUtility *g)
{
	Oid			extoid = get_extension_oid(strVal(stmt->object), true);
	HeapTuple	tup;

	if (!OidIsValid(extoid))
		return;					/* PostgreSQL reports it */
	tup = SearchSysCache1(EXTENSIONOID, ObjectIdGetDatum(extoid));
	if (!HeapTupleIsValid(tup))
		return;
	g->extension_schema = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	ReleaseSysCache(tup);
}

/*
 * ALTER EXTENSION ... SET SCHEMA, once it ran: each tagged member relation
 * (a tagged table or a partition of one) that it moved out of the
 * extension's schema (bh_extension_schema_note()) is recorded with its
 * new name.  Recorded after the move, not before it, and with no lock
 * taken beforehand: AlterExtensionNamespace() locks the members one by
 * one as it moves them (a relation ACCESS EXCLUSIVE, then the sequences it
 * owns), and refuses the statement at a member it cannot move (one in
 * another schema, 0A000; a name taken in the new schema, 42P07, 42723;
 * ...) having locked only what came before.  Locking the members first,
 * in its place, would wait for readers of members it never reaches and
 * could deadlock with a transaction that holds a later member while it
 * waits for an earlier one.  Now the statement holds every member's lock,
 * taken in PostgreSQL's own order, and a tag_table() or untag_table() of
 * a member that committed while it waited for that lock is seen.
 */
static void
bh_extension_moved(AlterObjectSchemaStmt *stmt, BhGuardUtility *g)
{
	Oid			extoid = get_extension_oid(strVal(stmt->object), true);
	char	   *old_schema;
	ListCell   *lc;

	if (!OidIsValid(extoid) || !OidIsValid(g->extension_schema) ||
		(old_schema = get_namespace_name(g->extension_schema)) == NULL)
		return;
	foreach(lc, bh_extension_relations(extoid))
	{
		Oid			relid = lfirst_oid(lc);

		if (get_rel_namespace(relid) != g->extension_schema &&
			bh_tag_lookup(relid) != NULL)
			bh_tag_renamed_event(relid, old_schema, NULL, NULL);
	}
}

/* Inspect ALTER TABLE subcommands touching capture triggers or tagged columns. */
static void
bh_check_alter_table(AlterTableStmt *stmt, BhGuardUtility *g)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	const BhOwnTable *own = bh_own_table(relid);
	const BhTag *tag;
	Oid			tagged_relid = InvalidOid;
	ListCell   *lc;

	bh_check_own_references(stmt->cmds);
	if (own != NULL)
	{
		bh_check_own_table_alter(own, relid, stmt);
		return;
	}
	if (bh_is_queue_sequence(relid))
	{
		const char *queue = bh_own_table(bh_queue_relid())->name;

		if (bh_alter_sets_unlogged(stmt->cmds))
			bh_refuse_own_unlogged(psprintf("the identity sequence of %s", queue),
								   psprintf("A crash or an immediate shutdown sets an unlogged sequence back to its start: new rows of %s would take the ids of rows still queued.",
											queue), false);
		return;
	}
	/* a type change of a column recurses: tagged tables among those reached */
	bh_check_column_changes(stmt, g);
	if (!OidIsValid(relid))
		return;
	/* the subcommands' checks look tags up: tag not kept (tag_cache.c) */
	if ((tag = bh_tag_lookup(relid)) != NULL)
		tagged_relid = tag->tagged_relid;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		/* relid's capture triggers, or those of tagged tables under it */
		bh_check_trigger_cmd(relid, stmt->relation->inh, cmd);
		if (!OidIsValid(tagged_relid))
		{
			/* a partition detached loses its clones of relid's triggers */
			if (cmd->subtype == AT_DetachPartition)
				bh_check_detach_clones(relid, ((PartitionCmd *) cmd->def)->name);
			continue;
		}
		switch (cmd->subtype)
		{
			case AT_AttachPartition:
				bh_check_attach(tagged_relid, ((PartitionCmd *) cmd->def)->name);
				break;
			case AT_DetachPartition:
				{
					Oid			part = RangeVarGetRelid(((PartitionCmd *) cmd->def)->name,
														NoLock, true);

					if (OidIsValid(part))
					{
						Jsonb	   *ev = bh_tag_partition_event("UPDATE", "partition_detached",
																tagged_relid, part, NULL);

						/*
						 * CONCURRENTLY commits its first transaction (the
						 * event with it) and cannot run in a block.  Only a
						 * partition of relid is one the DETACH takes out.
						 */
						if (!((PartitionCmd *) cmd->def)->concurrent)
							bh_narrowing(ev, psprintf("%u detached %u", tagged_relid, part),
										 bh_partition_parent(part, NULL) == relid ? part : InvalidOid);
					}
					break;
				}
			case AT_EnableRule:
			case AT_EnableAlwaysRule:
			case AT_EnableReplicaRule:
				bh_check_rule_enabled(relid, cmd->name);
				break;
			case AT_SetUnLogged:
				if (!bh_alter_sets_unlogged(stmt->cmds))
					break;		/* PostgreSQL refuses it */
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot make tagged table \"%s\" unlogged",
								get_rel_name(relid)),
						 errdetail("A crash empties an unlogged table without a DELETE event."),
						 errhint("Untag it with bh_audit.untag_table() first.")));
				break;
			default:
				break;
		}
	}
}

/*
 * After CREATE TABLE ... PARTITION OF: the new partition's TRUNCATE
 * trigger (it is empty: nothing else to record); after ATTACH PARTITION:
 * the rows that joined the tagged table recorded, and the TRUNCATE trigger
 * of every partition that arrived; after DETACH PARTITION: none any more;
 * after ENABLE TRIGGER ALL / USER: the capture triggers, and the own
 * tables' ALWAYS triggers, ALWAYS again (bh_keep_enabled_always()).
 */
static void
bh_after_utility(Node *parsetree)
{
	if (IsA(parsetree, CreateStmt) && ((CreateStmt *) parsetree)->partbound != NULL)
	{
		Oid			relid = RangeVarGetRelid(((CreateStmt *) parsetree)->relation, NoLock, true);

		if (OidIsValid(relid))
			bh_tag_new_partition(relid);
	}
	else if (IsA(parsetree, AlterTableStmt))
	{
		ListCell   *lc;

		bh_keep_enabled_always((AlterTableStmt *) parsetree);
		foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
			Oid			relid;

			if ((cmd->subtype != AT_AttachPartition && cmd->subtype != AT_DetachPartition &&
				 cmd->subtype != AT_DetachPartitionFinalize) || !IsA(cmd->def, PartitionCmd))
				continue;
			relid = RangeVarGetRelid(((PartitionCmd *) cmd->def)->name, NoLock, true);
			if (!OidIsValid(relid))
				continue;
			if (cmd->subtype == AT_AttachPartition)
			{
				bh_tag_attached_partition(relid);
				bh_tag_new_partition(relid);
				if (bh_tag_lookup(relid) != NULL)
					bh_guard_record_rules(relid);
			}
			else
				bh_tag_detached_partition(relid);	/* DETACH, or its FINALIZE */
		}
	}
}

/*
 * A new inheritance child of a tagged table (CREATE [FOREIGN] TABLE ...
 * INHERITS, ALTER TABLE ... INHERIT): refused, for everyone.  Only
 * partitions are captured through their parent: the child's rows, read or
 * changed through the tagged table, would not be.
 *
 * One of the extension's own tables in an inheritance tree, or under a
 * partitioned table (a child of one, one made a child, ATTACH PARTITION
 * of one): refused, for everyone.  A query of a parent returns its
 * children's rows (rows of a child of the ledger would be read as events,
 * and verification, which reads the ledger alone, would pass), and an
 * UPDATE or DELETE of a parent changes them without firing their
 * statement triggers (the ledger's append-only guard).
 */
static void
bh_check_inherit(Node *parsetree)
{
	List	   *parents = NIL;
	ListCell   *lc;
	const BhOwnTable *own;
	CreateStmt *create = NULL;

	if (IsA(parsetree, CreateStmt))
		create = (CreateStmt *) parsetree;
	else if (IsA(parsetree, CreateForeignTableStmt))
		create = &((CreateForeignTableStmt *) parsetree)->base;
	if (create != NULL && create->partbound == NULL)
		parents = create->inhRelations;
	else if (IsA(parsetree, AlterTableStmt))
	{
		AlterTableStmt *stmt = (AlterTableStmt *) parsetree;

		foreach(lc, stmt->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

			if (cmd->subtype == AT_AddInherit)
				parents = lappend(parents, cmd->def);
			if ((cmd->subtype == AT_AddInherit &&
				 (own = bh_own_table_rangevar(stmt->relation)) != NULL) ||
				(cmd->subtype == AT_AttachPartition && IsA(cmd->def, PartitionCmd) &&
				 (own = bh_own_table_rangevar(((PartitionCmd *) cmd->def)->name)) != NULL))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("%s cannot be a child or a partition of another table", own->name),
						 errdetail("An UPDATE or DELETE of the parent would change its rows without firing its statement triggers.")));
		}
	}
	foreach(lc, parents)
	{
		Oid			relid;

		if (!IsA(lfirst(lc), RangeVar))
			continue;
		if ((own = bh_own_table_rangevar((RangeVar *) lfirst(lc))) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot inherit from %s", own->name),
					 errdetail("Queries of it would return the child's rows with its own, and verification, which reads it alone, would not see them.")));
		if (OidIsValid(relid = bh_tagged_rangevar((RangeVar *) lfirst(lc), NULL)))
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("cannot inherit from tagged table \"%s\"", get_rel_name(relid)),
					 errdetail("Rows of inheritance children read or changed through a tagged table would not be captured."),
					 errhint("Use declarative partitioning: a partitioned table is captured on every partition.")));
	}
}

/*
 * CREATE TABLE ... PARTITION OF a tagged table ... ON COMMIT DELETE ROWS,
 * or CREATE UNLOGGED TABLE ... PARTITION OF one: refused, for everyone
 * (ATTACH PARTITION: bh_check_attach).
 */
static void
bh_check_emptied_partition(Node *parsetree)
{
	CreateStmt *stmt = (CreateStmt *) parsetree;
	Oid			tagged;

	if (IsA(parsetree, CreateForeignTableStmt))
	{
		CreateStmt *base = &((CreateForeignTableStmt *) parsetree)->base;

		if (base->partbound != NULL && list_length(base->inhRelations) == 1 &&
			OidIsValid(bh_tagged_rangevar(linitial_node(RangeVar, base->inhRelations), &tagged)))
			bh_refuse_foreign(base->relation->relname, get_rel_name(tagged), true);
		return;
	}
	if (IsA(parsetree, CreateStmt) && stmt->partbound != NULL &&
		(stmt->oncommit == ONCOMMIT_DELETE_ROWS ||
		 stmt->relation->relpersistence == RELPERSISTENCE_UNLOGGED) &&
		list_length(stmt->inhRelations) == 1 &&
		OidIsValid(bh_tagged_rangevar(linitial_node(RangeVar, stmt->inhRelations), &tagged)))
		bh_refuse_emptied(stmt->relation->relname,
						  stmt->relation->relpersistence == RELPERSISTENCE_UNLOGGED,
						  get_rel_name(tagged), true);
}

/*
 * Is parsetree a statement that bh_config_guard_before() checks (also a
 * drop of the extension, and the stored settings settings_guard.c
 * records)?  Each changes the catalogs: PostgreSQL refuses it in a
 * read-only transaction (every one during recovery) and in parallel mode
 * before it runs (standard_ProcessUtility():
 * ClassifyUtilityCommandAsReadOnly()).  Not ALTER SYSTEM, which
 * PostgreSQL runs there.
 */
static bool
bh_guard_checks(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_AlterDatabaseSetStmt:
		case T_AlterRoleSetStmt:
		case T_AlterTableStmt:
		case T_AlterEnumStmt:
		case T_AlterExtensionContentsStmt:
		case T_AlterObjectDependsStmt:
		case T_AlterObjectSchemaStmt:
		case T_CreateStmt:
		case T_CreateForeignTableStmt:
		case T_CreateStatsStmt:
		case T_CreateTrigStmt:
		case T_DropStmt:
		case T_IndexStmt:
		case T_RefreshMatViewStmt:
		case T_RenameStmt:
		case T_RuleStmt:
			return true;
		default:
			return false;
	}
}

/*
 * Make g a statement's state that bh_config_guard_cleanup() can undo at any
 * point: before bh_config_guard_before() and ..._running() (which may
 * fail) have done anything, or after either of them failed half-way.
 * Nothing here fails.
 */
void
bh_config_guard_start(BhGuardUtility *g, bool subcommand)
{
	memset(g, 0, sizeof(*g));
	g->subcommand = subcommand;
	g->refreshing = InvalidOid;
	g->cxt = CurrentMemoryContext;
	g->outer = bh_guard_running;
}

/*
 * The event of a drop of the extension by the utility statement parsetree
 * (DROP EXTENSION, DROP SCHEMA ... CASCADE, DROP OWNED ... CASCADE; not
 * queued: see bh_object_access).
 */
static Jsonb *
bh_extension_drop_event(Node *parsetree)
{
	BhEvent		ev;
	bool		cascade = false;

	if (IsA(parsetree, DropStmt))
		cascade = ((DropStmt *) parsetree)->behavior == DROP_CASCADE;
	else if (IsA(parsetree, DropOwnedStmt))
		cascade = ((DropOwnedStmt *) parsetree)->behavior == DROP_CASCADE;
	bh_config_event_init(&ev, "DELETE", "bh_audit", "extension_dropped");
	bh_event_meta_string(&ev, "statement", CreateCommandName(parsetree));
	bh_event_meta_bool(&ev, "cascade", cascade);
	return bh_event_build(&ev, NULL);
}

/*
 * Before a utility statement runs (utility.c): refuse or record what it
 * would change; note a drop of the extension, during which nothing is
 * guarded, and build the event of its drop.
 */
void
bh_config_guard_before(Node *parsetree, BhGuardUtility *g)
{
	/*
	 * PostgreSQL refuses the statements checked here in a read-only
	 * transaction or in parallel mode before it locks anything: its error
	 * (25006) comes first, as without bh_audit, not after an ACCESS EXCLUSIVE
	 * request queued behind the table's readers (or the queue's, for a drop
	 * of the extension), nor the guard's own (its refusal, or during
	 * recovery, where no event is recorded).
	 */
	/*
	 * A statement of an extension's script: the CREATE or ALTER EXTENSION
	 * running it, the statements it runs directly or in its DO blocks, and
	 * their parts (a CREATE TABLE's indexes); not those the script's other
	 * statements run in turn (an event trigger's).
	 */
	g->script = IsA(parsetree, CreateExtensionStmt) ||
		IsA(parsetree, AlterExtensionStmt) || g->outer == NULL ||
		IsA(g->outer->parsetree, CreateExtensionStmt) ||
		IsA(g->outer->parsetree, AlterExtensionStmt) ||
		((IsA(g->outer->parsetree, DoStmt) || g->subcommand) && g->outer->script);
	bh_guard_entered = g;
	if ((XactReadOnly || IsInParallelMode()) && bh_guard_checks(parsetree))
	{
		const char *command = GetCommandTagName(CreateCommandTag(parsetree));

		PreventCommandIfReadOnly(command);
		PreventCommandIfParallelMode(command);
	}
	bh_current_role_warm();		/* the role its events name, if not the login */
	g->dropping = bh_lock_before_drop(parsetree);	/* before anything else is
													 * locked */
	g->active = bh_guard_active();
	g->own_ddl = bh_tags_own_ddl();
	g->owner_change = IsA(parsetree, AlterOwnerStmt) || IsA(parsetree, ReassignOwnedStmt);
	g->level = GetCurrentTransactionNestLevel();
	g->parsetree = parsetree;
	if (g->owner_change)
		bh_owner_statement = bh_utility_nesting() + 1;	/* it runs one deeper */
	if (g->active && !g->dropping)
	{
		BhGuardUtility *saved = bh_guard_before;

		bh_guard_before = g;
		bh_settings_guard_before(parsetree, g);
		bh_guard_lock_named(parsetree);
		if (IsA(parsetree, AlterTableStmt))
			bh_check_alter_table((AlterTableStmt *) parsetree, g);
		if (IsA(parsetree, RuleStmt) || IsA(parsetree, IndexStmt) ||
			IsA(parsetree, CreateStatsStmt) || IsA(parsetree, CreateStmt))
			bh_check_own_code(parsetree);
		if (IsA(parsetree, RuleStmt))
			bh_check_rule((RuleStmt *) parsetree);
		if (IsA(parsetree, RefreshMatViewStmt))
			bh_check_refresh((RefreshMatViewStmt *) parsetree, g);
		if (IsA(parsetree, AlterEnumStmt) && ((AlterEnumStmt *) parsetree)->oldVal != NULL)
			bh_check_enum_rename((AlterEnumStmt *) parsetree);
		bh_check_own_rename(parsetree);
		bh_check_table_rename(parsetree);
		if (IsA(parsetree, AlterObjectSchemaStmt) &&
			((AlterObjectSchemaStmt *) parsetree)->objectType == OBJECT_EXTENSION)
			bh_extension_schema_note((AlterObjectSchemaStmt *) parsetree, g);
		bh_check_trigger_stmt(parsetree);
		bh_check_inherit(parsetree);
		bh_check_emptied_partition(parsetree);
		if (IsA(parsetree, RenameStmt))
			bh_check_column_rename((RenameStmt *) parsetree, &g->renamed_relids);
		bh_guard_before = saved;
	}
	else if (!g->dropping && bh_guard_elsewhere())
		bh_settings_guard_elsewhere(parsetree, g);
	if (IsA(parsetree, AlterExtensionContentsStmt) && !bh_in_own_script() &&
		strcmp(((AlterExtensionContentsStmt *) parsetree)->extname, "bh_audit") == 0)
	{
		if (((AlterExtensionContentsStmt *) parsetree)->action < 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot remove objects from extension bh_audit"),
					 errdetail("An object removed from the extension could be dropped or replaced without a trace.")));
		/* (pg_upgrade's restore adds the scripts' objects back so) */
		if (!IsBinaryUpgrade)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot add objects to extension bh_audit"),
					 errdetail("An object added would be taken for one of the extension's own, left out of dumps and dropped with the extension.")));
	}
	if (IsA(parsetree, AlterObjectDependsStmt))
		bh_check_own_depends((AlterObjectDependsStmt *) parsetree);
	if (g->dropping)
		bh_dropping_extension = true;
}

/* Whether the statement ran or failed. */
void
bh_config_guard_cleanup(BhGuardUtility *g)
{
	bh_guard_running = g->outer;
	bh_guard_entered = g->outer;
	if (bh_guard_before == g)	/* an error in bh_config_guard_before() */
		bh_guard_before = NULL;
	bh_emptied_end(g);
	if (OidIsValid(g->refreshing))
		bh_refreshing_matview = InvalidOid;
	bh_settings_guard_cleanup(g);
	if (g->owner_change)
		bh_owner_statement = 0;
	if (g->dropping)
		bh_dropping_extension = false;
}

/*
 * After a utility statement ran: tags follow renamed columns; partitions;
 * its changes of the extension's own tables' policies recorded.
 */
void
bh_config_guard_after(Node *parsetree, BhGuardUtility *g)
{
	ListCell   *lc;

	foreach(lc, g->renamed_relids)
		bh_tag_column_renamed(lfirst_oid(lc), ((RenameStmt *) parsetree)->subname,
							  ((RenameStmt *) parsetree)->newname);
	/* the narrowing changes it made have taken effect */
	foreach(lc, g->narrowing)
	{
		BhNarrowing *n = (BhNarrowing *) lfirst(lc);

		if (!n->noted)
			bh_note_narrowing(n->event, n->change);
	}
	bh_emptied_created(g);
	if (g->active && !g->dropping && bh_guard_active())
	{
		bh_values_changes_record(CreateCommandName(parsetree), g);
		bh_after_utility(parsetree);
		if (IsA(parsetree, AlterTableStmt))
			bh_check_generated_after((AlterTableStmt *) parsetree);
		/* (PostgreSQL's hook names a view or rule replaced as created) */
		if (IsA(parsetree, ViewStmt) && ((ViewStmt *) parsetree)->replace)
			bh_note_altered(g, RelationRelationId,
							RangeVarGetRelid(((ViewStmt *) parsetree)->view, NoLock, true));
		if (IsA(parsetree, RuleStmt))
			bh_note_altered(g, RelationRelationId,
							RangeVarGetRelid(((RuleStmt *) parsetree)->relation, NoLock, true));
		bh_check_replaced(g->altered);
		if (IsA(parsetree, AlterObjectSchemaStmt) &&
			((AlterObjectSchemaStmt *) parsetree)->objectType == OBJECT_EXTENSION)
			bh_extension_moved((AlterObjectSchemaStmt *) parsetree, g);
		foreach(lc, g->policy_changes)
		{
			BhPolicyChange *c = (BhPolicyChange *) lfirst(lc);

			bh_own_rls_change(c->own, c->verb, c->policy);
		}
	}
}

/*
 * Drops of tagged tables and columns, however reached (CASCADE included);
 * changes of the extension's own tables' policies.
 */
static void
bh_object_access(ObjectAccessType access, Oid classId, Oid objectId,
				 int subId, void *arg)
{
	if (prev_object_access)
		prev_object_access(access, classId, objectId, subId, arg);
	/* who writes and owns the extension's objects (own_acl.c) */
	bh_own_acl_object_access(access, classId, objectId, subId);

	/* the first name lookup of a statement: see bh_capture_read_warm() */
	if (access == OAT_NAMESPACE_SEARCH)
	{
		bh_capture_read_warm();
		return;
	}

	/*
	 * An object the running statement altered, of whatever kind (a domain's
	 * default, a configuration's mappings, a typed table's type): what it
	 * depends on may have changed, checked after it (bh_check_replaced()).
	 */
	if (access == OAT_POST_ALTER && bh_guard_running != NULL && bh_guard_active_running())
		bh_note_altered(bh_guard_running, classId, objectId);
	if (classId == ProcedureRelationId &&
		(access == OAT_POST_CREATE || access == OAT_POST_ALTER))
	{
		bh_check_own_function(objectId);
		/* the settings CREATE or ALTER FUNCTION stores on the function */
		if (bh_guard_running != NULL && bh_guard_running->active &&
			(IsA(bh_guard_running->parsetree, CreateFunctionStmt) ||
			 IsA(bh_guard_running->parsetree, AlterFunctionStmt)))
		{
			bh_guard_running->function_set_next =
				bh_function_settings(objectId, bh_guard_running->parsetree);
			if (IsA(bh_guard_running->parsetree, CreateFunctionStmt) &&
				((CreateFunctionStmt *) bh_guard_running->parsetree)->replace)
				bh_note_altered(bh_guard_running, classId, objectId);
		}

		/*
		 * CREATE OR REPLACE AGGREGATE's, checked after it
		 * (bh_check_replaced())
		 */
		if (bh_guard_running != NULL && bh_guard_running->active &&
			IsA(bh_guard_running->parsetree, DefineStmt) &&
			((DefineStmt *) bh_guard_running->parsetree)->kind == OBJECT_AGGREGATE &&
			((DefineStmt *) bh_guard_running->parsetree)->replace)
			bh_note_altered(bh_guard_running, classId, objectId);
		return;
	}

	/*
	 * A database dropped (by its OID as DROP DATABASE found it, after its
	 * lock: a rename meanwhile is followed): the queue ids' blocks of it,
	 * which a database given its OID later must not use (queue_ids.c).
	 */
	if (classId == DatabaseRelationId && access == OAT_DROP)
	{
		bh_queue_ids_forget_database(objectId);
		return;
	}

	/*
	 * The extension is dropped, however reached (DROP EXTENSION, or a
	 * cascade: DROP SCHEMA bh_audit, DROP OWNED BY its owner): every object
	 * of it is gone by now (the extension itself goes last), the tags and
	 * capture triggers among them, so capture is narrowed from now on in this
	 * session, until a rollback, which records it; a commit takes the ledger
	 * away too (nothing is kept for it).  Refused for objects that depend on
	 * it, it never comes here.
	 */
	if (classId == ExtensionRelationId && access == OAT_DROP)
	{
		const char *name = get_extension_name(objectId);
		uint64		held;

		if (name == NULL || strcmp(name, "bh_audit") != 0)
			return;

		/*
		 * The transaction's events, of writes to tagged tables or emit(), are
		 * in memory or in queue rows of this transaction: the drop would take
		 * them with the queue, and its commit could not write them.  Refused
		 * here, at the drop, rather than at the commit.
		 */
		if ((held = bh_xact_events()) > 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot drop extension bh_audit in a transaction that recorded changes"),
					 errdetail_plural("This transaction holds %llu event of changes to tagged tables or emit() calls; they would be dropped with the ledger.",
									  "This transaction holds %llu events of changes to tagged tables or emit() calls; they would be dropped with the ledger.",
									  held, (unsigned long long) held),
					 errhint("Commit or roll back the transaction first, then drop the extension in a transaction of its own.")));
		if (bh_guard_running != NULL && bh_guard_running->active &&
			bh_guard_running->parsetree != NULL)
			bh_note_narrowing(bh_extension_drop_event(bh_guard_running->parsetree),
							  "extension dropped");
		return;
	}
	if (classId == PolicyRelationId &&
		(access == OAT_POST_CREATE || access == OAT_POST_ALTER || access == OAT_DROP))
	{
		if (bh_guard_active_running())
			bh_own_policy_access(access, objectId);
		return;
	}
	if (classId == RelationRelationId && access == OAT_DROP && subId == 0)
		bh_emptied_dropped(objectId);
	if (classId != RelationRelationId)
		return;

	/*
	 * Also before the script made the tags (the guard is not active yet): a
	 * statement the script's statements run in turn (an event trigger's) may
	 * alter the queue's sequence as soon as it is there.
	 */
	if (access == OAT_POST_ALTER && subId == 0 &&
		(bh_guard_active_running() || bh_own_script_running()))
	{
		bh_check_own_sequence_altered(objectId);
		return;
	}
	if (!bh_guard_active_running())
		return;

	if (access == OAT_DROP && subId == 0)
	{
		char		relkind = get_rel_relkind(objectId);
		const BhTempCleanup *cleaned;

		if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
			relkind != RELKIND_MATVIEW)
			return;
		/* dropped by the server's clean-up of a crashed session's schema? */
		cleaned = bh_temp_cleanup(((ObjectAccessDrop *) arg)->dropflags);
		if (!bh_tag_dropped(objectId, cleaned))
		{
			/* a partition of a tagged table: its rows leave the database */
			const BhTag *tag = bh_tag_lookup(objectId);

			if (tag != NULL && tag->tagged_relid != objectId)
				bh_tag_partition_event("DELETE", "partition_dropped", tag->tagged_relid,
									   objectId, cleaned);
		}
	}
	else if (access == OAT_DROP && subId > 0)
	{
		int			dropflags = ((ObjectAccessDrop *) arg)->dropflags;
		const BhTag *tag;
		bool		is_id;

		/* the columns of its row type (a composite type's, a table's) change */
		bh_composite_changed(objectId, bh_guard_noting(dropflags));
		if (get_rel_relkind(objectId) == RELKIND_COMPOSITE_TYPE ||
			(tag = bh_tag_lookup(objectId)) == NULL)
			return;
		is_id = (subId == tag->id_attnum);
		if (tag->tagged_relid != objectId || (!is_id && subId != tag->patient_attnum))
		{
			bh_note_dropped_column(objectId, (AttrNumber) subId, tag, dropflags);
			return;
		}
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop column \"%s\" of table \"%s\": it is the tagged %s column",
						is_id ? tag->id_column : tag->patient_column,
						get_rel_name(objectId), is_id ? "id" : "patient"),
				 errhint("Untag the table with bh_audit.untag_table() first.")));
	}
}

/*
 * The session ends by FATAL (pg_terminate_backend()) while utility
 * statements run: proc_exit() does not unwind them (bh_config_guard_cleanup()
 * never runs), and its abort deletes the memory of each (its portal's,
 * g->cxt; an abort otherwise leaves a running CALL's portal, and unwinds
 * the statements it ends before).  The guard forgets them with their
 * memory: the temporary objects PostgreSQL then drops are dropped with no
 * statement running (bh_guard_noting()).  A FATAL outside a transaction
 * (between those of a multi-transaction command) aborts none: there,
 * bh_guard_noting() passes over the statement still named.
 */
static void
bh_guard_exit_abort(void)
{
	if (!proc_exit_inprogress)
		return;
	bh_guard_running = NULL;
	bh_guard_entered = NULL;
	bh_guard_before = NULL;
	bh_refreshing_matview = InvalidOid;
	bh_owner_statement = 0;
	bh_dropping_extension = false;
}

/*
 * Define bh_audit.enabled (settings_guard.c); install the object access
 * hook and the transaction callbacks of the ON COMMIT DELETE ROWS tables'
 * list.
 */
void
bh_config_guard_init(void)
{
	bh_settings_guard_init();

	prev_object_access = object_access_hook;
	object_access_hook = bh_object_access;
	RegisterXactCallback(bh_emptied_xact_callback, NULL);
	RegisterSubXactCallback(bh_emptied_subxact_callback, NULL);
}
