/*-------------------------------------------------------------------------
 *
 * settings_guard.c
 *		Capture cannot be switched off quietly through a setting: every
 *		change of bh_audit's settings that would weaken capture is recorded
 *		before it takes effect.
 *
 *	- SET / RESET / RESET ALL / DISCARD ALL / ALTER SYSTEM / ALTER ROLE or
 *	  DATABASE ... SET of bh_audit.enabled, by anyone allowed to, and
 *	  set_config() or a function's SET clause (its check hook): recorded
 *	  before it takes effect; a connection option: recorded (through the
 *	  ring) before the session's first statement;
 *	- ALTER SYSTEM / ALTER ROLE or DATABASE ... SET of any other of
 *	  bh_audit's settings (a database's owner may give everyone a default
 *	  end user), and their RESET ALL, which removes every stored one:
 *	  recorded before it runs, one event per setting stored;
 *	- CREATE [OR REPLACE] or ALTER FUNCTION / PROCEDURE / ROUTINE that
 *	  changes one of bh_audit's settings stored on the function (its SET
 *	  clause is a default for every call, in every session): recorded as
 *	  the function's row is written, one event per setting changed;
 *	- ALTER SYSTEM SET / RESET / RESET ALL that leaves bh_audit out of
 *	  shared_preload_libraries (from the next start nothing is captured):
 *	  recorded before it runs;
 *	- the same ALTER statements outside the sealer's database, with or
 *	  without the extension (the settings they store are the cluster's or
 *	  another database's): their events go through the ring once the
 *	  transaction commits;
 *	- switching bh_audit.enabled off while a statement changing a tagged
 *	  table runs: refused (its capture triggers fire at its end); switching
 *	  it on: the session's cached plans go.
 *
 * bh_audit.enabled in the server's configuration in force (the
 * postmaster's value) is published in shared memory as the postmaster
 * assigns it, for capture_status() (bh_audit._server_enabled()).
 *
 * This is the settings half of the configuration guard (config_guard.c):
 * statements are checked by bh_settings_guard_before(), which
 * bh_config_guard_before() calls while the guard is active (in a database
 * without the extension, bh_settings_guard_elsewhere()), and the
 * clean-up, the functions' rows written (its object access hook) and the
 * start of a statement come from there too (settings_guard.h).  The other
 * changes of bh_audit.enabled are seen by its check hook, defined here.  A
 * switch off narrows read capture in the session at once: its event is
 * handed to config_guard.c's bh_narrowing(), which keeps it for a rollback
 * once it took effect.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/indexing.h"
#include "catalog/pg_db_role_setting.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/formatting.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "bh_audit.h"
#include "capture.h"
#include "event.h"
#include "id_text.h"
#include "ring.h"
#include "sealer_internal.h"
#include "settings_guard.h"

/* True while a statement whose change of bh_audit.enabled was recorded runs. */
static bool bh_enabled_statement = false;

/*
 * The longest value as written that an event of a setting's change keeps
 * whole: a stored setting may be of any length (megabytes), and the event
 * says what was set, not all of it.
 */
#define BH_SETTING_VALUE_CHARS 1024

/* The event of a change of one of bh_audit's settings: how, and to what. */
static void
bh_setting_event_init(BhEvent *ev, const char *setting, const char *how,
					  const char *value)
{
	bh_config_event_init(ev, "UPDATE", setting, how);
	bh_event_meta_string(ev, "setting", setting);
	bh_event_meta_string(ev, "value", bh_truncate(value, BH_SETTING_VALUE_CHARS));
}

/* The event of a switch of bh_audit.enabled: how, and to what. */
static void
bh_enabled_event_init(BhEvent *ev, const char *how, const char *value)
{
	bh_setting_event_init(ev, "bh_audit.enabled", how, value);
}

Jsonb *
bh_enabled_event(const char *how, const char *value)
{
	BhEvent		ev;

	bh_enabled_event_init(&ev, how, value);
	return bh_event_build(&ev, NULL);
}

/*
 * Does a session's change of bh_audit.enabled to value ("default": its
 * reset value) switch capture off?
 */
static bool
bh_enabled_value_off(const char *value)
{
	bool		on;

	if (strcmp(value, "default") == 0)
		value = GetConfigOptionResetString("bh_audit.enabled");
	return value != NULL && parse_bool(value, &on) && !on;
}

/*
 * Queue the event of a session's change of bh_audit.enabled, before it
 * takes effect; one that switches capture off narrows read capture.
 * None on a hot standby.
 */
static void
bh_enabled_queue(Jsonb *event, const char *value)
{
	/*
	 * A hot standby captures nothing of what a session does there and can
	 * queue nothing: the switch changes nothing recorded.
	 */
	if (RecoveryInProgress())
		return;
	bh_queue_event(event);
	if (bh_capture_enabled && bh_enabled_value_off(value))
		bh_narrowing(event, "bh_audit.enabled", InvalidOid);
}

/* Record a change of bh_audit.enabled before it takes effect. */
static void
bh_enabled_change(const char *how, const char *value)
{
	bh_enabled_queue(bh_enabled_event(how, value), value);
}

/*
 * The value of a SET statement, as text (boolean: of bh_audit.enabled, an
 * integer given for it is on or off).
 */
static const char *
bh_set_value(VariableSetStmt *stmt, bool boolean)
{
	/* SET ... FROM CURRENT: the session's value, which is what is stored */
	if (stmt->kind == VAR_SET_CURRENT)
		return ExtractSetVariableArgs(stmt);
	if (stmt->kind == VAR_SET_VALUE && stmt->args != NIL)
	{
		Node	   *arg = linitial(stmt->args);

		if (IsA(arg, A_Const) && list_length(stmt->args) == 1)
		{
			A_Const    *c = (A_Const *) arg;

			if (IsA(&c->val, String))
				return strVal(&c->val);
			if (IsA(&c->val, Boolean))
				return boolVal(&c->val) ? "on" : "off";
			if (IsA(&c->val, Integer))
				return boolean ? (intVal(&c->val) ? "on" : "off")
					: psprintf("%d", intVal(&c->val));
			if (IsA(&c->val, Float))
				return strVal(&c->val);
		}
		return boolean ? "?" : ExtractSetVariableArgs(stmt);
	}
	return "default";
}

/*
 * Record the event of a change of a stored setting (ALTER SYSTEM, ALTER
 * ROLE or DATABASE ... SET): queued in the statement's transaction in the
 * sealer's database; elsewhere, where no queue is sealed (a database
 * without the extension, bh_settings_guard_elsewhere(), or with it but not
 * bh_audit.database), held for the ring at its commit (emit.c): the
 * setting is the cluster's, or another database's.
 */
static void
bh_stored_setting_record(Jsonb *event)
{
	if (bh_guard_active() && bh_in_sealer_database())
		(void) bh_queue_event(event);
	else
		(void) bh_ring_at_commit(event);
}

/* RESET ALL, DISCARD ALL: recorded when they switch capture. */
static bool
bh_check_reset_all(const char *how)
{
	const char *reset = GetConfigOptionResetString("bh_audit.enabled");
	bool		reset_on = (reset != NULL && strcmp(reset, "on") == 0);

	if (reset == NULL || reset_on == bh_capture_enabled)
		return false;
	bh_enabled_change(how, reset);
	return true;
}

/* Is name one of bh_audit's settings (in any letter case)? */
static bool
bh_is_own_setting(const char *name, size_t len)
{
	return len > strlen("bh_audit.") &&
		pg_strncasecmp(name, "bh_audit.", strlen("bh_audit.")) == 0;
}

/*
 * Does RESET ALL remove a stored setting of this name for the current
 * user?  PostgreSQL keeps those the user may not set (a superuser-only
 * setting, without GRANT SET ON PARAMETER) when one who is not a superuser
 * resets all.
 */
static bool
bh_may_reset_stored(const char *name)
{
	struct config_generic **vars;
	int			n;
	int			i;

	if (superuser())
		return true;
	vars = get_guc_variables();
	n = GetNumConfigOptions();
	for (i = 0; i < n; i++)
	{
		if (pg_strcasecmp(vars[i]->name, name) != 0)
			continue;
		if (vars[i]->context == PGC_USERSET)
			return true;
		return vars[i]->context == PGC_SUSET &&
			pg_parameter_aclcheck(vars[i]->name, GetUserId(), ACL_SET) == ACLCHECK_OK;
	}
	return false;
}

/*
 * The items of a stored configuration (pg_db_role_setting's setconfig,
 * pg_proc's proconfig: a text array of "name=value") that set one of
 * bh_audit's settings, the name in lower case.
 */
static List *
bh_own_config_items(Datum config)
{
	Datum	   *items;
	bool	   *nulls;
	int			n;
	int			i;
	List	   *own = NIL;

	deconstruct_array(DatumGetArrayTypeP(config), TEXTOID, -1, false,
					  TYPALIGN_INT, &items, &nulls, &n);
	for (i = 0; i < n; i++)
	{
		char	   *item;
		char	   *eq;

		if (nulls[i])
			continue;
		item = TextDatumGetCString(items[i]);
		eq = strchr(item, '=');
		if (eq != NULL && bh_is_own_setting(item, eq - item))
			own = lappend(own, psprintf("%s%s", asc_tolower(item, eq - item), eq));
	}
	return own;
}

/*
 * The names of bh_audit's settings that ALTER ROLE / DATABASE ... RESET
 * ALL would remove: those stored in pg_db_role_setting for exactly this
 * database and role (InvalidOid for "all"), as RESET ALL removes them.
 */
static List *
bh_stored_role_settings(Oid database, Oid role)
{
	Relation	rel = table_open(DbRoleSettingRelationId, AccessShareLock);
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *names = NIL;

	ScanKeyInit(&keys[0], Anum_pg_db_role_setting_setdatabase,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(database));
	ScanKeyInit(&keys[1], Anum_pg_db_role_setting_setrole,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(role));
	scan = systable_beginscan(rel, DbRoleSettingDatidRolidIndexId, true, NULL, 2, keys);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		config = heap_getattr(tuple, Anum_pg_db_role_setting_setconfig,
										  RelationGetDescr(rel), &isnull);
		ListCell   *lc;

		if (isnull)
			continue;
		foreach(lc, bh_own_config_items(config))
		{
			const char *item = (const char *) lfirst(lc);
			char	   *name = pnstrdup(item, strchr(item, '=') - item);

			if (bh_may_reset_stored(name))
				names = lappend(names, name);
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return names;
}

/*
 * The names of bh_audit's settings that ALTER SYSTEM RESET ALL would
 * remove from postgresql.auto.conf (NIL when it cannot be read: ALTER
 * SYSTEM then fails on it as well).
 */
static List *
bh_stored_system_settings(void)
{
	ConfigVariable *head = NULL;
	ConfigVariable *tail = NULL;
	ConfigVariable *item;
	List	   *names = NIL;

	if (!ParseConfigFile(PG_AUTOCONF_FILENAME, false, NULL, 0, 0, DEBUG1, &head, &tail))
		return NIL;
	for (item = head; item != NULL; item = item->next)
		if (item->name != NULL && bh_is_own_setting(item->name, strlen(item->name)))
			names = lappend(names, asc_tolower(item->name, strlen(item->name)));
	FreeConfigVariables(head);
	return names;
}

/*
 * ALTER SYSTEM / ROLE / DATABASE ... RESET ALL: one event per stored
 * setting of bh_audit it removes, as its RESET would record; returns
 * whether bh_audit.enabled was one of them.
 */
static bool
bh_check_stored_reset_all(Node *parsetree)
{
	List	   *names;
	ListCell   *lc;
	const char *how;
	const char *role = NULL;
	const char *database = NULL;
	bool		enabled = false;

	if (IsA(parsetree, AlterSystemStmt))
	{
		how = "ALTER SYSTEM RESET ALL";
		names = bh_stored_system_settings();
	}
	else if (IsA(parsetree, AlterRoleSetStmt))
	{
		AlterRoleSetStmt *stmt = (AlterRoleSetStmt *) parsetree;
		Oid			roleid = InvalidOid;
		Oid			dbid = InvalidOid;

		how = "ALTER ROLE RESET ALL";
		role = "ALL";
		if (stmt->role != NULL)
		{
			roleid = get_rolespec_oid(stmt->role, true);
			if (!OidIsValid(roleid))
				return false;	/* PostgreSQL refuses it */
			role = get_rolespec_name(stmt->role);
		}
		if (stmt->database != NULL)
		{
			dbid = get_database_oid(stmt->database, true);
			if (!OidIsValid(dbid))
				return false;
			database = stmt->database;
		}
		names = bh_stored_role_settings(dbid, roleid);
	}
	else
	{
		AlterDatabaseSetStmt *stmt = (AlterDatabaseSetStmt *) parsetree;
		Oid			dbid = get_database_oid(stmt->dbname, true);

		if (!OidIsValid(dbid))
			return false;
		how = "ALTER DATABASE RESET ALL";
		database = stmt->dbname;
		names = bh_stored_role_settings(dbid, InvalidOid);
	}

	foreach(lc, names)
	{
		const char *name = (const char *) lfirst(lc);
		BhEvent		ev;

		if (strcmp(name, "bh_audit.enabled") == 0)
			enabled = true;
		bh_setting_event_init(&ev, name, how, "default");
		if (role != NULL)
			bh_event_meta_string(&ev, "setting_role", role);
		if (database != NULL)
			bh_event_meta_string(&ev, "setting_database", database);
		bh_stored_setting_record(bh_event_build(&ev, NULL));
	}
	return enabled;
}

/*
 * Inspect a SET / RESET / ALTER SYSTEM / ALTER ROLE ... SET / ALTER
 * DATABASE ... SET of bh_audit.enabled, or an ALTER of another of
 * bh_audit's settings; records it, and returns whether it was one of
 * bh_audit.enabled.
 */
static bool
bh_check_setting(Node *parsetree)
{
	VariableSetStmt *set = NULL;
	const char *how = "SET";
	bool		enabled;

	if (IsA(parsetree, VariableSetStmt))
		set = (VariableSetStmt *) parsetree;
	else if (IsA(parsetree, AlterSystemStmt))
	{
		set = ((AlterSystemStmt *) parsetree)->setstmt;
		how = "ALTER SYSTEM";
	}
	else if (IsA(parsetree, AlterRoleSetStmt))
	{
		set = ((AlterRoleSetStmt *) parsetree)->setstmt;
		how = "ALTER ROLE";
	}
	else if (IsA(parsetree, AlterDatabaseSetStmt))
	{
		set = ((AlterDatabaseSetStmt *) parsetree)->setstmt;
		how = "ALTER DATABASE";
	}
	else if (IsA(parsetree, DiscardStmt) &&
			 ((DiscardStmt *) parsetree)->target == DISCARD_ALL)
		return bh_check_reset_all("DISCARD ALL");

	/*
	 * Anyone's attempt: a non-superuser may hold SET on the parameter (GRANT
	 * SET ON PARAMETER); one who does not fails, and the event is rolled back
	 * with the statement's transaction.
	 */
	if (set == NULL)
		return false;
	if (set->kind == VAR_RESET_ALL)
		return IsA(parsetree, VariableSetStmt) ? bh_check_reset_all("RESET ALL")
			: bh_check_stored_reset_all(parsetree);
	if (set->name == NULL)
		return false;
	/* a quoted name in other letter cases names the same setting */
	enabled = pg_strcasecmp(set->name, "bh_audit.enabled") == 0;

	/*
	 * bh_audit.enabled, however it is set; any other of its settings when it
	 * is stored for others: a role's or a database's default (which a
	 * database's owner, or a role with CREATEROLE, may give the settings any
	 * role may set — a default end user on everyone's events), or the
	 * server's.  A session's own SET of the end-user context is what it is
	 * for: not recorded.
	 */
	if (enabled ||
		(!IsA(parsetree, VariableSetStmt) &&
		 bh_is_own_setting(set->name, strlen(set->name))))
	{
		BhEvent		ev;
		const char *role = NULL;
		const char *database = NULL;
		const char *value;

		/* whose setting: ALTER ROLE ... [IN DATABASE ...], ALTER DATABASE */
		if (IsA(parsetree, AlterRoleSetStmt))
		{
			AlterRoleSetStmt *stmt = (AlterRoleSetStmt *) parsetree;

			role = stmt->role == NULL ? "ALL" : get_rolespec_name(stmt->role);
			database = stmt->database;
		}
		else if (IsA(parsetree, AlterDatabaseSetStmt))
			database = ((AlterDatabaseSetStmt *) parsetree)->dbname;
		if (set->kind == VAR_RESET)
			how = IsA(parsetree, VariableSetStmt) ? "RESET" : psprintf("%s RESET", how);
		value = bh_set_value(set, enabled);
		bh_setting_event_init(&ev, enabled ? "bh_audit.enabled" : asc_tolower(set->name, strlen(set->name)), how,
							  value);
		if (role != NULL)
			bh_event_meta_string(&ev, "setting_role", role);
		if (database != NULL)
			bh_event_meta_string(&ev, "setting_database", database);
		/* a session's SET: in effect at once; a stored default: later */
		if (enabled && IsA(parsetree, VariableSetStmt))
			bh_enabled_queue(bh_event_build(&ev, NULL), value);
		else
			bh_stored_setting_record(bh_event_build(&ev, NULL));
		return enabled;
	}
	return false;
}

/*
 * Does a value of shared_preload_libraries list bh_audit (by name, with or
 * without a directory or the file suffix)?  A list PostgreSQL cannot parse
 * loads nothing at all.
 */
static bool
bh_preload_lists_bh_audit(const char *value)
{
	char	   *raw = pstrdup(value);
	List	   *names;
	ListCell   *lc;
	bool		found = false;
	size_t		suffix = strlen(DLSUFFIX);

	if (!SplitDirectoriesString(raw, ',', &names))
		return false;
	foreach(lc, names)
	{
		const char *name = (const char *) lfirst(lc);
		const char *base = last_dir_separator(name);
		size_t		len;

		base = base ? base + 1 : name;
		len = strlen(base);
		if (len > suffix && strcmp(base + len - suffix, DLSUFFIX) == 0)
			len -= suffix;
		if (len == strlen("bh_audit") && strncmp(base, "bh_audit", len) == 0)
			found = true;
	}
	return found;
}

/*
 * The value of shared_preload_libraries in postgresql.conf and the files it
 * includes, postgresql.auto.conf left out: the value once ALTER SYSTEM has
 * removed its own entry.  "" when none sets it (the default), NULL when
 * the files cannot be read or parsed.
 */
static char *
bh_preload_file_value(void)
{
	ConfigVariable *head = NULL;
	ConfigVariable *tail = NULL;
	ConfigVariable *item;
	char	   *value = "";

	if (ConfigFileName == NULL ||
		!ParseConfigFile(ConfigFileName, true, NULL, 0, 0, DEBUG1, &head, &tail))
		value = NULL;
	else
		for (item = head; item != NULL; item = item->next)
			if (item->name != NULL && item->value != NULL &&
				pg_strcasecmp(item->name, "shared_preload_libraries") == 0)
				value = pstrdup(item->value);	/* the last one counts */
	FreeConfigVariables(head);
	return value;
}

/*
 * ALTER SYSTEM that leaves bh_audit out of shared_preload_libraries: from
 * the next start the library is not loaded, and reads, denials and
 * failures are no longer captured.  Recorded before it runs: ALTER SYSTEM
 * SET to a list without bh_audit; ALTER SYSTEM RESET (or SET ... TO
 * DEFAULT) and RESET ALL, which remove the entry of postgresql.auto.conf,
 * unless postgresql.conf lists bh_audit itself.
 */
static void
bh_check_preload_removal(Node *parsetree)
{
	VariableSetStmt *set;
	const char *statement;
	char	   *value;
	BhEvent		ev;

	if (!IsA(parsetree, AlterSystemStmt))
		return;
	set = ((AlterSystemStmt *) parsetree)->setstmt;
	if (set->kind == VAR_RESET_ALL)
		statement = "ALTER SYSTEM RESET ALL";
	else if (set->name == NULL || pg_strcasecmp(set->name, "shared_preload_libraries") != 0)
		return;
	else if (set->kind == VAR_SET_VALUE)
		statement = "ALTER SYSTEM";
	else
		statement = "ALTER SYSTEM RESET";
	/* the value written (as ALTER SYSTEM writes it), or the files' */
	value = set->kind == VAR_SET_VALUE ? ExtractSetVariableArgs(set) : bh_preload_file_value();
	if (value != NULL && bh_preload_lists_bh_audit(value))
		return;

	bh_config_event_init(&ev, "UPDATE", "shared_preload_libraries", "preload_removed");
	bh_event_meta_string(&ev, "statement", statement);
	bh_event_meta_string(&ev, "setting", "shared_preload_libraries");
	bh_event_meta_string(&ev, "value",
						 value != NULL ? bh_truncate(value, BH_SETTING_VALUE_CHARS) : "?");
	bh_stored_setting_record(bh_event_build(&ev, NULL));
}

/*
 * Before a utility statement runs, while the guard is active (from
 * bh_config_guard_before()): record a change of bh_audit's settings
 * (bh_check_setting()) and a removal of bh_audit from
 * shared_preload_libraries.  A recorded change of bh_audit.enabled is not
 * recorded again by the check hook while the statement runs.
 */
void
bh_settings_guard_before(Node *parsetree, BhGuardUtility *g)
{
	g->setting_recorded = bh_check_setting(parsetree);
	if (g->setting_recorded)
		bh_enabled_statement = true;
	bh_check_preload_removal(parsetree);
}

/*
 * Before a utility statement runs in a database without the extension
 * (from bh_config_guard_before()): a stored setting it changes is the
 * cluster's (ALTER SYSTEM, ALTER ROLE ... SET for every database) or
 * another database's, which may be one where bh_audit captures: recorded
 * as there, its events through the ring at commit
 * (bh_stored_setting_record()).  A session's own SET here changes nothing
 * captured.
 */
void
bh_settings_guard_elsewhere(Node *parsetree, BhGuardUtility *g)
{
	if (IsA(parsetree, AlterSystemStmt) || IsA(parsetree, AlterRoleSetStmt) ||
		IsA(parsetree, AlterDatabaseSetStmt))
		bh_settings_guard_before(parsetree, g);
}

/* Whether the statement ran or failed (bh_config_guard_cleanup()). */
void
bh_settings_guard_cleanup(BhGuardUtility *g)
{
	if (g->setting_recorded)
		bh_enabled_statement = false;
}

/*
 * Check hook of bh_audit.enabled: a change made in a session other than
 * by a statement recorded above (set_config(), a function's SET clause)
 * is recorded here, before it takes effect.  The event is held by the
 * transaction like any other (emit.c): nothing is written from here.
 */
static const char *bh_client_switch = NULL; /* see bh_settings_guard_session */

static bool
bh_enabled_check(bool *newval, void **extra, GucSource source)
{
	BhGuardUtility *g = bh_config_guard_utility();
	bool		body_check = false;

	/*
	 * The first change once CREATE FUNCTION wrote its function's row: the SET
	 * clause PostgreSQL applies before the validator checks the body
	 * (ProcedureCreate(), nothing runs in between), which reads nothing. The
	 * clause was recorded as the row was written (bh_function_settings()):
	 * not recorded again.
	 */
	if (g != NULL && g->function_set_next && source == PGC_S_SESSION)
	{
		g->function_set_next = false;
		body_check = true;
	}

	/*
	 * A connection option: no transaction yet, recorded at the first
	 * statement.  (A parallel worker restores its leader's settings with
	 * their sources: the leader recorded it.)
	 */
	if (source == PGC_S_CLIENT && *newval != bh_capture_enabled &&
		!InitializingParallelWorker && !IsParallelWorker())
		bh_client_switch = *newval ? "on" : "off";

	/*
	 * Off while a statement changing a tagged table runs (a writable WITH
	 * around the call, a trigger of the user's firing first): refused,
	 * whichever way it is set — its capture triggers fire at its end, and
	 * would find capture off (bh_statement_writing).
	 */
	if (source == PGC_S_SESSION && !*newval && bh_capture_enabled &&
		!IsParallelWorker() && IsTransactionState())
	{
		Oid			writing = bh_statement_writing(NIL);

		if (OidIsValid(writing))
		{
			GUC_check_errcode(ERRCODE_OBJECT_IN_USE);
			GUC_check_errmsg("bh_audit.enabled cannot be switched off while a statement changing \"%s\" runs",
							 get_rel_name(writing));
			GUC_check_errdetail("Its capture triggers fire at the statement's end; with capture off, the changes would leave no event.");
			GUC_check_errhint("Switch it off before the statement that changes the table, or after that statement.");
			return false;
		}
	}
	if (source == PGC_S_SESSION && *newval != bh_capture_enabled &&
		!body_check && !bh_enabled_statement && !IsParallelWorker() &&
		bh_guard_active())
		bh_enabled_change("set_config", *newval ? "on" : "off");
	return true;
}

/*
 * A statement starts in this session (bh_config_guard_session()).  A
 * switch of bh_audit.enabled given as a connection option (PGOPTIONS, a
 * superuser's, or a role's granted SET on it) took effect before the
 * session had a transaction: its event goes to the ring (it must outlive
 * the statement's transaction) before the session's first statement runs.
 */
void
bh_settings_guard_session(void)
{
	const char *value = bh_client_switch;

	if (value == NULL || !IsTransactionState() || IsParallelWorker())
		return;
	bh_client_switch = NULL;
	(void) bh_ring_push_jsonb(bh_enabled_event("connection option", value));
}

/*
 * The row of function funcid as the running command wrote it, copied, or
 * NULL (SnapshotSelf: CREATE and ALTER FUNCTION call the object access
 * hook before the command counter moves on, and until then the syscache
 * has the row as it was, or none for a new function).
 */
static HeapTuple
bh_function_row_written(Oid funcid)
{
	return bh_catalog_row(ProcedureRelationId, Anum_pg_proc_oid, funcid, SnapshotSelf);
}

/* The items of bh_audit's settings a row of pg_proc stores (proconfig). */
static List *
bh_function_config(HeapTuple proc)
{
	bool		isnull;
	Datum		config = SysCacheGetAttr(PROCOID, proc, Anum_pg_proc_proconfig, &isnull);

	return isnull ? NIL : bh_own_config_items(config);
}

/*
 * Is there an item in items like item: the same whole "name=value", or
 * (by_name) the same name?
 */
static bool
bh_config_has(List *items, const char *item, bool by_name)
{
	size_t		len = by_name ? strchr(item, '=') - item + 1 : strlen(item) + 1;
	ListCell   *lc;

	foreach(lc, items)
		if (strncmp((const char *) lfirst(lc), item, len) == 0)
		return true;
	return false;
}

/*
 * A function's name and argument types as regprocedure's text, its schema
 * always written: format_procedure_qualified()'s, which reads the row
 * through the syscache, where a function being created is not yet.  Its
 * names quoted as in every event, whatever the session's
 * quote_all_identifiers (bh_qualified_name_text()).
 */
static char *
bh_function_signature(Form_pg_proc proc)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s(",
					 bh_qualified_name_text(get_namespace_name_or_temp(proc->pronamespace),
											NameStr(proc->proname)));
	for (i = 0; i < proc->pronargs; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? "," : "",
						 bh_type_name_text(proc->proargtypes.values[i]));
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/* The event of a change of the stored setting of item's name, on function. */
static void
bh_function_setting_event(const char *item, const char *how, const char *value,
						  const char *function)
{
	BhEvent		ev;

	bh_setting_event_init(&ev, pnstrdup(item, strchr(item, '=') - item), how, value);
	bh_event_meta_string(&ev, "setting_function", function);
	bh_queue_event(bh_event_build(&ev, NULL));
}

/* Does an ALTER FUNCTION / PROCEDURE / ROUTINE have a RESET ALL clause? */
static bool
bh_resets_all(AlterFunctionStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->actions)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "set") == 0 && IsA(opt->arg, VariableSetStmt) &&
			((VariableSetStmt *) opt->arg)->kind == VAR_RESET_ALL)
			return true;
	}
	return false;
}

/*
 * CREATE [OR REPLACE] FUNCTION / PROCEDURE or ALTER FUNCTION / PROCEDURE /
 * ROUTINE (parsetree) wrote the row of function funcid: from the object
 * access hook (config_guard.c), in the statement, before any session
 * applies what it stores.  A function's SET clause of one of bh_audit's
 * settings is a default for every call of it, in every session: SET
 * bh_audit.actor_id names another end user on the events of what the
 * function does, whatever the application stated.  So each change of one
 * is recorded, as ALTER ROLE ... SET's: one event per setting whose
 * stored value the statement changes, the value stored, or "default" for
 * one it removes (RESET, SET ... TO DEFAULT, RESET ALL, CREATE OR REPLACE
 * without the clause); a clause that leaves the value as it was stored
 * changes nothing.  Returns whether PostgreSQL applies a stored
 * bh_audit.enabled next, while the validator checks the body: CREATE, for
 * a language with a validator, under check_function_bodies
 * (ProcedureCreate()).
 */
bool
bh_function_settings(Oid funcid, Node *parsetree)
{
	HeapTuple	oldtup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	HeapTuple	newtup = bh_function_row_written(funcid);
	List	   *before = NIL;
	List	   *after;
	const char *how = CreateCommandName(parsetree);
	const char *removed = how;
	char	   *function;
	ListCell   *lc;
	bool		enabled = false;
	bool		validator = false;

	if (HeapTupleIsValid(oldtup))
	{
		before = bh_function_config(oldtup);
		ReleaseSysCache(oldtup);
	}
	if (!HeapTupleIsValid(newtup))
		return false;
	after = bh_function_config(newtup);
	if (before == NIL && after == NIL)
		return false;
	function = bh_function_signature((Form_pg_proc) GETSTRUCT(newtup));
	if (IsA(parsetree, AlterFunctionStmt))
		removed = psprintf("%s %s", how,
						   bh_resets_all((AlterFunctionStmt *) parsetree) ? "RESET ALL" : "RESET");
	foreach(lc, after)
	{
		const char *item = (const char *) lfirst(lc);

		if (strncmp(item, "bh_audit.enabled=", strlen("bh_audit.enabled=")) == 0)
			enabled = true;
		if (!bh_config_has(before, item, false))
			bh_function_setting_event(item, how, strchr(item, '=') + 1, function);
	}
	foreach(lc, before)
	{
		const char *item = (const char *) lfirst(lc);

		if (!bh_config_has(after, item, true))
			bh_function_setting_event(item, removed, "default", function);
	}

	if (enabled && IsA(parsetree, CreateFunctionStmt) && check_function_bodies)
	{
		HeapTuple	tp = SearchSysCache1(LANGOID,
										 ObjectIdGetDatum(((Form_pg_proc) GETSTRUCT(newtup))->prolang));

		if (HeapTupleIsValid(tp))
		{
			validator = OidIsValid(((Form_pg_language) GETSTRUCT(tp))->lanvalidator);
			ReleaseSysCache(tp);
		}
	}
	return validator;
}

/*
 * The postmaster's bh_audit.enabled, from its assign hook
 * (bh_enabled_assign()); bh_sealer_shmem_startup() (sealer.c, in the
 * postmaster too) stores it itself as shared memory is made.  The value of
 * the server's configuration in force (its files as last read, its
 * command line, the default), which every session and the sealer take
 * before their database's or role's stored settings.  A
 * session's own value does not tell it (a stored setting replaces it), nor
 * do the files as they read now (pg_file_settings: not yet reloaded, or
 * outranked by the command line).  Kept in the sealer's shared memory
 * (BhSealerShared.server_enabled, sealer_internal.h), which the postmaster
 * makes and every process of the server maps.  A plain store: the
 * postmaster takes no lock a backend could hold.
 */
static void
bh_enabled_publish(bool value)
{
	if (bh_sealer != NULL && IsPostmasterEnvironment && !IsUnderPostmaster)
		((volatile BhSealerShared *) bh_sealer)->server_enabled = value;
}

PG_FUNCTION_INFO_V1(bh_audit_server_enabled);

/*
 * bh_audit._server_enabled(): bh_audit.enabled in the server's
 * configuration in force (bh_enabled_publish()), for capture_status();
 * NULL without the preload.  Never fails.
 */
Datum
bh_audit_server_enabled(PG_FUNCTION_ARGS)
{
	if (bh_sealer == NULL)
		PG_RETURN_NULL();
	PG_RETURN_BOOL(((volatile BhSealerShared *) bh_sealer)->server_enabled);
}

/*
 * Assign hook of bh_audit.enabled: switched on, the session's cached plans
 * go (ResetPlanCache), as for a change of tags (tag_cache.c): planned while
 * capture was off, a plan may read a tagged table in parallel workers or
 * by an index-only scan without its patient column.  In the postmaster,
 * the value is published for capture_status() (bh_enabled_publish()).
 */
static void
bh_enabled_assign(bool newval, void *extra)
{
	bh_enabled_publish(newval);
	if (newval && !bh_capture_enabled)
		ResetPlanCache();
}

/* Define bh_audit.enabled, with its hooks (from bh_config_guard_init()). */
void
bh_settings_guard_init(void)
{
	DefineCustomBoolVariable("bh_audit.enabled",
							 "Capture events (switching it is itself recorded).",
							 NULL,
							 &bh_capture_enabled,
							 true,
							 PGC_SUSET,
							 0,
							 bh_enabled_check, bh_enabled_assign, NULL);
}
