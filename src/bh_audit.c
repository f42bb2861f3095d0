/*-------------------------------------------------------------------------
 *
 * bh_audit.c
 *		Module entry point: settings, shared-memory hooks, worker
 *		registration, and the few SQL functions that belong to no module.
 *
 * bh_audit only works when loaded through shared_preload_libraries: the
 * sealer worker and the shared counters are set up at postmaster start.
 * Loaded any other way (a plain LOAD, or CREATE EXTENSION without
 * preloading) _PG_init defines nothing, and the install script refuses
 * to proceed with a hint naming the setting.  An installed extension whose
 * library is no longer preloaded keeps its pure functions and the reading
 * of the ledger; the others fail (bh_require_preload).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "commands/dbcommands.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "nodes/plannodes.h"
#include "parser/parser.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "storage/ipc.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "bh_audit.h"
#include "own_guard.h"
#include "ring.h"
#include "sanitize.h"
#include "tags.h"
#include "validate.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Settings; see the descriptions in _PG_init. */
char	   *bh_database = NULL;
int			bh_hash_algorithm = BH_HASH_SHA256;
char	   *bh_service_name = NULL;
char	   *bh_service_environment = NULL;
char	   *bh_service_version = NULL;
int			bh_seal_batch_size = 5000;

/* True when _PG_init ran from shared_preload_libraries. */
bool		bh_loaded_at_startup = false;

static const struct config_enum_entry bh_hash_alg_options[] = {
	{"sha256", BH_HASH_SHA256, false},
	{"sha384", BH_HASH_SHA384, false},
	{"sha512", BH_HASH_SHA512, false},
	{NULL, 0, false}
};

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/*
 * The extension's own SQL (through SPI, or its DDL as subcommands) runs as
 * the bootstrap superuser with search_path pg_catalog, pg_temp at a GUC
 * nest level of its own: every name in it is qualified or a catalog's, and
 * an operator or function that a role put in a schema ahead of pg_catalog
 * (search_path = mine, pg_catalog; or public) must never be what it calls.
 * The setting comes back at bh_sql_path_end(); an error in between is
 * unwound with the (sub)transaction, as for a function's SET clause.
 *
 * Its statements are none of the user's (bh_sql_path_active()): a tag
 * cache reloaded in the middle of an ALTER TABLE does not start a
 * statement between the refusal judged and PostgreSQL's check
 * (capture_failure.c).  Only the statements it issues itself are: what a
 * user's code that they would fire runs is the user's, as anywhere else
 * (its DDL fires no event trigger: bh_utility_internal()).  Such code
 * would run inside the statement, one statement deeper (bh_statement_nest:
 * the hooks count the statements running one inside the other, utility
 * statements and queries run or finished), so each path open is kept with
 * that depth as it was opened, and with the (sub)transaction level that
 * opened it, so that an abort that unwinds it without bh_sql_path_end()
 * closes it too (bh_sql_path_xact, bh_sql_path_subxact).
 */
static List *bh_sql_path_levels = NIL;
static List *bh_sql_path_nests = NIL;
static int	bh_statement_nest = 0;

int
bh_sql_path_begin(void)
{
	int			nest = NewGUCNestLevel();
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

	bh_sql_path_levels = lappend_int(bh_sql_path_levels, GetCurrentTransactionNestLevel());
	bh_sql_path_nests = lappend_int(bh_sql_path_nests, bh_statement_nest);
	MemoryContextSwitchTo(old);
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return nest;
}

/* Close the innermost path open. */
static void
bh_sql_path_pop(void)
{
	bh_sql_path_levels = list_delete_last(bh_sql_path_levels);
	bh_sql_path_nests = list_delete_last(bh_sql_path_nests);
}

void
bh_sql_path_end(int nest)
{
	AtEOXact_GUC(true, nest);
	if (bh_sql_path_levels != NIL)
		bh_sql_path_pop();
}

/*
 * Is the statement starting now (its hooks' checks, before it runs or
 * after it ran) one the extension's own SQL issued, not a statement of the
 * user's, nor one a user's code fired by it runs?
 */
bool
bh_sql_path_active(void)
{
	return bh_sql_path_levels != NIL &&
		llast_int(bh_sql_path_nests) == bh_statement_nest;
}

/*
 * Is any of the extension's own SQL running, at whatever depth (a trigger
 * that its statement fires on the extension's own tables: no code of a
 * user's can be attached to them)?
 */
bool
bh_sql_path_open(void)
{
	return bh_sql_path_levels != NIL;
}

/*
 * A statement runs (a utility statement, a query run or finished): what
 * runs inside it is one statement deeper.  Returns what
 * bh_statement_nest_leave() puts back, whether it succeeds or fails.
 */
int
bh_statement_nest_enter(void)
{
	return bh_statement_nest++;
}

void
bh_statement_nest_leave(int saved)
{
	bh_statement_nest = saved;
}

/* How deep the statement running is (bh_statement_nest_enter) */
int
bh_statement_nest_level(void)
{
	return bh_statement_nest;
}

/*
 * The extension's own SQL that no role is to be granted anything for (its
 * catalog of tags, the ledger's head, the queue's identity, the capture
 * triggers): run as the bootstrap superuser on the extension's path.
 * bh_internal_begin() returns the nest level for bh_internal_end(), and
 * keeps the role to put back in *save_userid and *save_sec.
 */
static int
bh_internal_begin(Oid *save_userid, int *save_sec)
{
	int			nest = bh_sql_path_begin();

	GetUserIdAndSecContext(save_userid, save_sec);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID, *save_sec | SECURITY_LOCAL_USERID_CHANGE);
	return nest;
}

/*
 * Call fn(arg) as the bootstrap superuser on the extension's path: the
 * extension's own SQL (bh_spi_internal()), and PostgreSQL's functions
 * called directly, without SPI, on its own objects (the queue's identity
 * sequence, emit.c).
 */
void
bh_call_internal(void (*fn) (void *arg), void *arg)
{
	Oid			save_userid;
	int			save_sec;
	int			nest = bh_internal_begin(&save_userid, &save_sec);

	PG_TRY();
	{
		fn(arg);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec);
	}
	PG_END_TRY();
	bh_sql_path_end(nest);
}

/* A statement for bh_spi_internal(), and its result code. */
typedef struct BhSpiCall
{
	const char *sql;
	int			nargs;
	Oid		   *argtypes;
	Datum	   *values;
	const char *nulls;
	bool		read_only;
	int			rc;
} BhSpiCall;

static void
bh_spi_call(void *arg)
{
	BhSpiCall  *call = arg;

	call->rc = SPI_execute_with_args(call->sql, call->nargs, call->argtypes,
									 call->values, call->nulls, call->read_only, 0);
}

/*
 * Run one SQL statement on the extension's own tables through SPI (the
 * caller connected) as the bootstrap superuser: capture runs for every
 * role, and no role needs (or gets) a privilege on them.  Returns the SPI
 * result code.
 */
int
bh_spi_internal(const char *sql, int nargs, Oid *argtypes, Datum *values,
				const char *nulls, bool read_only)
{
	BhSpiCall	call = {sql, nargs, argtypes, values, nulls, read_only, 0};

	bh_call_internal(bh_spi_call, &call);
	return call.rc;
}

/*
 * Run the extension's own utility statements (the capture triggers'
 * CREATE TRIGGER, ALTER TABLE ... ENABLE ALWAYS TRIGGER, DROP TRIGGER) as
 * the bootstrap superuser, the way PostgreSQL runs the subcommands of its
 * own statements (the triggers of a foreign key, CREATE SCHEMA's
 * elements): handed to ProcessUtility as a subcommand, not a complete
 * query.  So no event trigger fires for them: a user's code never runs as
 * that superuser with the extension's search_path.  Inside a statement
 * that collects its commands for event triggers (CREATE TABLE ...
 * PARTITION OF), they are collected with it, which the user's
 * ddl_command_end trigger then sees as the user's own.  The hooks
 * (utility.c) see them as the extension's own (bh_sql_path_active()).
 */
void
bh_utility_internal(const char *sql)
{
	Oid			save_userid;
	int			save_sec;
	int			nest = bh_internal_begin(&save_userid, &save_sec);

	PG_TRY();
	{
		List	   *stmts = raw_parser(sql, RAW_PARSE_DEFAULT);
		ListCell   *lc;

		PushActiveSnapshot(GetTransactionSnapshot());
		foreach(lc, stmts)
		{
			RawStmt    *raw = lfirst_node(RawStmt, lc);
			PlannedStmt *wrapper = makeNode(PlannedStmt);

			wrapper->commandType = CMD_UTILITY;
			wrapper->canSetTag = false;
			wrapper->utilityStmt = raw->stmt;
			wrapper->stmt_location = raw->stmt_location;
			wrapper->stmt_len = raw->stmt_len;
			ProcessUtility(wrapper, sql, false, PROCESS_UTILITY_SUBCOMMAND,
						   NULL, NULL, None_Receiver, NULL);
			CommandCounterIncrement();
		}
		PopActiveSnapshot();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec);
	}
	PG_END_TRY();
	bh_sql_path_end(nest);
}

/* The end of a transaction: no path stays open. */
static void
bh_sql_path_xact(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PREPARE)
	{
		list_free(bh_sql_path_levels);
		list_free(bh_sql_path_nests);
		bh_sql_path_levels = NIL;
		bh_sql_path_nests = NIL;
	}
}

/* A subtransaction aborted: the paths it opened are unwound with it. */
static void
bh_sql_path_subxact(SubXactEvent event, SubTransactionId mySubid,
					SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();

	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	while (bh_sql_path_levels != NIL && llast_int(bh_sql_path_levels) >= level)
		bh_sql_path_pop();
}

/* Ask for every module's shared memory. */
static void
bh_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	bh_stats_shmem_request();
	bh_sealer_shmem_request();
	bh_seal_wait_shmem_request();
	bh_ring_shmem_request();
	bh_losses_shmem_request();
	bh_tags_shmem_request();
	bh_queue_ids_shmem_request();
}

/* Create (or attach to) every module's shared memory. */
static void
bh_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	bh_stats_shmem_startup();
	bh_sealer_shmem_startup();
	bh_seal_wait_shmem_startup();
	bh_ring_shmem_startup();
	bh_tags_shmem_startup();
	bh_queue_ids_shmem_startup();
	bh_losses_shmem_startup();	/* last: its exit callback reads the others */
}

/* Define the settings of the ledger core. */
static void
bh_define_settings(void)
{
	DefineCustomStringVariable("bh_audit.database",
							   "Database in which the sealer chains events.",
							   NULL,
							   &bh_database,
							   "postgres",
							   PGC_POSTMASTER,
							   0,
							   NULL, NULL, NULL);

	DefineCustomEnumVariable("bh_audit.hash_algorithm",
							 "Hash algorithm of newly sealed events: sha256, sha384 or sha512.",
							 NULL,
							 &bh_hash_algorithm,
							 BH_HASH_SHA256,
							 bh_hash_alg_options,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("bh_audit.service_name",
							   "Service name recorded in every event (service.name).",
							   NULL,
							   &bh_service_name,
							   "postgresql",
							   PGC_SUSET,
							   0,
							   bh_check_event_text, bh_assign_event_text, NULL);

	DefineCustomStringVariable("bh_audit.service_environment",
							   "Service environment recorded in every event (service.environment); empty leaves it out.",
							   NULL,
							   &bh_service_environment,
							   "",
							   PGC_SUSET,
							   0,
							   bh_check_event_text, bh_assign_event_text, NULL);

	DefineCustomStringVariable("bh_audit.service_version",
							   "Service version recorded in every event (service.version); empty leaves it out.",
							   NULL,
							   &bh_service_version,
							   "",
							   PGC_SUSET,
							   0,
							   bh_check_event_text, bh_assign_event_text, NULL);

	DefineCustomIntVariable("bh_audit.seal_batch_size",
							"Events the sealer chains in one transaction.",
							NULL,
							&bh_seal_batch_size,
							5000,
							1, 100000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);
}

/*
 * Module load.  Everything happens only under shared_preload_libraries.
 */
void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;

	bh_loaded_at_startup = true;

	bh_define_settings();
	bh_context_init();
	RegisterXactCallback(bh_sql_path_xact, NULL);
	RegisterSubXactCallback(bh_sql_path_subxact, NULL);
	bh_config_guard_init();
	bh_own_acl_init();
	bh_capture_read_init();
	bh_capture_login_init();
	bh_utility_init();
	bh_sanitize_init();
	bh_validate_init();
	bh_ring_init();
	MarkGUCPrefixReserved("bh_audit");
	bh_tags_init();
	bh_emit_init();
	bh_config_guard_xact_init();	/* after bh_emit_init(): called before it */
	bh_home_init();

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = bh_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = bh_shmem_startup;

	bh_sealer_register();
}

static Oid	bh_extension_member(Oid ext, Oid nsp, const char *relname);

/*
 * The extension in this database: its OID, and its schema in *nsp, or
 * InvalidOid for both when it is not installed here.  Not the schema
 * called bh_audit: in a database without the extension any role that may
 * create a schema can make one of that name.
 */
static Oid
bh_extension_lookup(Oid *nsp)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			ext = InvalidOid;

	*nsp = InvalidOid;
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("bh_audit"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		ext = ((Form_pg_extension) GETSTRUCT(tup))->oid;
		*nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return ext;
}

/* Is the extension installed in the current database? */
bool
bh_extension_exists(void)
{
	Oid			nsp;

	return OidIsValid(bh_extension_lookup(&nsp));
}

/* The extension's schema in this database, or InvalidOid. */
Oid
bh_audit_schema(void)
{
	Oid			nsp;

	(void) bh_extension_lookup(&nsp);
	return nsp;
}

/*
 * OID of the extension's relation bh_audit.<relname>, or InvalidOid when
 * the extension is not installed here.  Only a member of the extension
 * counts: the internal queries that read these relations run as the
 * bootstrap superuser, and a view planted under that name would run its
 * owner's functions with that privilege.
 */
Oid
bh_audit_relid(const char *relname)
{
	Oid			nsp;
	Oid			ext = bh_extension_lookup(&nsp);

	return bh_extension_member(ext, nsp, relname);
}

/* bh_audit_relid() of the extension ext in its schema nsp (or none). */
static Oid
bh_extension_member(Oid ext, Oid nsp, const char *relname)
{
	Oid			relid;

	if (!OidIsValid(ext))
		return InvalidOid;
	relid = get_relname_relid(relname, nsp);
	if (OidIsValid(relid) && getExtensionOfObject(RelationRelationId, relid) != ext)
		return InvalidOid;
	return relid;
}

/*
 * The relations whose OIDs are cached, under one relcache callback:
 * PostgreSQL 15 has room for only ten in a backend, for every loaded
 * library together.
 */
static BhCachedRel *bh_cached_rels[8];
static int	bh_ncached_rels = 0;

/*
 * The extension was found absent from this database by the last look-up:
 * so it stays until the next relcache invalidation of any relation.  A
 * CREATE EXTENSION creates relations, each such an invalidation, seen by
 * every backend; until one comes, a relation's OID costs no look-up of
 * pg_extension (in a database without the extension, the executor and the
 * planner ask for them at every statement).
 */
static bool bh_extension_absent = false;

/*
 * Counts the times any cached OID (or the extension's absence) may have
 * changed since the backend started (bh_cached_rels_generation).
 */
static uint64 bh_cached_rels_changes = 1;

/*
 * Any invalidation of a relation (or a cache reset) forgets its OID, and
 * that the extension is absent.
 */
static void
bh_cached_rels_cb(Datum arg, Oid relid)
{
	int			i;

	bh_cached_rels_changes++;
	bh_extension_absent = false;
	for (i = 0; i < bh_ncached_rels; i++)
		if (relid == InvalidOid || relid == bh_cached_rels[i]->relid)
			bh_cached_rels[i]->relid = InvalidOid;
}

/* Keep rel's OID up to date from now on (at module initialisation). */
void
bh_cached_rel_register(BhCachedRel *rel)
{
	if (bh_ncached_rels >= lengthof(bh_cached_rels))
		elog(ERROR, "too many bh_audit relations with cached OIDs");
	if (bh_ncached_rels == 0)
		CacheRegisterRelcacheCallback(bh_cached_rels_cb, (Datum) 0);
	rel->relid = InvalidOid;
	bh_cached_rels[bh_ncached_rels++] = rel;
}

/*
 * bh_cached_rel()'s look-up in the catalog, out of line: the fast path (an
 * OID known, or the extension known absent) then needs no stack frame.
 */
static pg_noinline Oid
bh_cached_rel_lookup(BhCachedRel *rel)
{
	Oid			nsp;
	Oid			ext;

	ext = bh_extension_lookup(&nsp);
	/* remembered only where invalidations can make it forgotten */
	bh_extension_absent = !OidIsValid(ext) && bh_ncached_rels > 0;
	rel->relid = bh_extension_member(ext, nsp, rel->relname);
	/* nothing remembered: the next look-up may find another answer */
	if (!OidIsValid(rel->relid) && !bh_extension_absent)
		bh_cached_rels_changes++;
	return rel->relid;
}

/* The OID of bh_audit.<relname>, or InvalidOid when absent. */
Oid
bh_cached_rel(BhCachedRel *rel)
{
	if (OidIsValid(rel->relid) || bh_extension_absent)
		return rel->relid;
	return bh_cached_rel_lookup(rel);
}

/*
 * A number that stays the same as long as every bh_cached_rel() answers
 * as it did: it changes with every relcache invalidation (or cache reset)
 * and every look-up that remembers nothing (an absent relation of a
 * present extension).  What is derived from cached OIDs (capture_read.c,
 * bh_trail_rels_refresh) is derived again only when it changed.
 */
uint64
bh_cached_rels_generation(void)
{
	return bh_cached_rels_changes;
}

/*
 * Is relid the extension's table bh_audit.<relname>?  By its cached OID
 * when preloaded; by name otherwise (nothing would forget a cached OID).
 */
static bool
bh_is_own_table(Oid relid, const char *relname)
{
	int			i;

	if (bh_loaded_at_startup)
		for (i = 0; i < bh_ncached_rels; i++)
			if (strcmp(bh_cached_rels[i]->relname, relname) == 0)
				return bh_cached_rel(bh_cached_rels[i]) == relid;
	return bh_audit_relid(relname) == relid;
}

/* "a", "a or b", "a, b or c": the n words of a message. */
static void
bh_append_choices(StringInfo buf, const char *prefix, const char *const *words, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		appendStringInfo(buf, "%s%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ",
						 prefix, words[i]);
}

/* "an AFTER INSERT statement trigger": what kind (BH_TRIG_*) names. */
static char *
bh_trigger_kind_name(int kind)
{
	static const char *const ops[] = {"INSERT", "DELETE", "UPDATE", "TRUNCATE"};
	const char *words[lengthof(ops)];
	int			n = 0;
	int			op;
	StringInfoData buf;

	initStringInfo(&buf);
	if ((kind & (BH_TRIG_BEFORE | BH_TRIG_AFTER)) == BH_TRIG_BEFORE)
		appendStringInfoString(&buf, "BEFORE ");
	else if ((kind & (BH_TRIG_BEFORE | BH_TRIG_AFTER)) == BH_TRIG_AFTER)
		appendStringInfoString(&buf, "AFTER ");
	for (op = 0; op < lengthof(ops); op++)
		if (kind & (BH_TRIG_INSERT << op))
			words[n++] = ops[op];
	bh_append_choices(&buf, "", words, n);
	if (n > 0)
		appendStringInfoChar(&buf, ' ');
	if ((kind & (BH_TRIG_ROW | BH_TRIG_STATEMENT)) == BH_TRIG_ROW)
		appendStringInfoString(&buf, "row ");
	else if ((kind & (BH_TRIG_ROW | BH_TRIG_STATEMENT)) == BH_TRIG_STATEMENT)
		appendStringInfoString(&buf, "statement ");
	appendStringInfoString(&buf, "trigger");
	return psprintf("%s %s", strchr("AEIOU", buf.data[0]) ? "an" : "a", buf.data);
}

/* Does td fire as kind says?  A group without a bit set takes any. */
static bool
bh_trigger_fits(TriggerData *td, int kind)
{
	int			timing = TRIGGER_FIRED_BEFORE(td->tg_event) ? BH_TRIG_BEFORE :
	TRIGGER_FIRED_AFTER(td->tg_event) ? BH_TRIG_AFTER : 0;
	int			level = TRIGGER_FIRED_FOR_ROW(td->tg_event) ? BH_TRIG_ROW : BH_TRIG_STATEMENT;
	int			op = BH_TRIG_INSERT << (td->tg_event & TRIGGER_EVENT_OPMASK);
	int			timings = kind & (BH_TRIG_BEFORE | BH_TRIG_AFTER);
	int			levels = kind & (BH_TRIG_ROW | BH_TRIG_STATEMENT);
	int			ops = kind & (BH_TRIG_INSERT | BH_TRIG_DELETE | BH_TRIG_UPDATE | BH_TRIG_TRUNCATE);

	return (timings == 0 || (timings & timing) != 0) &&
		(levels == 0 || (levels & level) != 0) &&
		(ops == 0 || (ops & op) != 0);
}

/*
 * The trigger data of a call of the extension's trigger function func,
 * which must fire as kind (BH_TRIG_*) says and, unless tables is NULL, on
 * one of the extension's tables bh_audit.<tables[i]> (ntables of them).
 * Anything else is a clear error (39P01) before the function looks at a
 * row: a direct call, or a trigger a superuser made on another table with
 * columns the function would read wrongly and rows it would change.
 */
TriggerData *
bh_trigger_call(FunctionCallInfo fcinfo, const char *func, int kind,
				const char *const *tables, int ntables)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (CALLED_AS_TRIGGER(fcinfo) && tables != NULL)
	{
		Oid			relid = RelationGetRelid(td->tg_relation);
		int			i;

		for (i = 0; i < ntables; i++)
			if (bh_is_own_table(relid, tables[i]))
				break;
		if (i == ntables)
		{
			StringInfoData names;

			initStringInfo(&names);
			bh_append_choices(&names, "bh_audit.", tables, ntables);
			ereport(ERROR,
					(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
					 errmsg("trigger \"%s\" on table \"%s\" may not call %s",
							td->tg_trigger->tgname, RelationGetRelationName(td->tg_relation),
							func),
					 errdetail("Only bh_audit's own triggers on %s call it.", names.data),
					 errhint("Drop trigger \"%s\".", td->tg_trigger->tgname)));
		}
	}
	if (!CALLED_AS_TRIGGER(fcinfo) || !bh_trigger_fits(td, kind))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s must be %s", func, bh_trigger_kind_name(kind))));
	return td;
}

/*
 * The install script's schema must be a superuser's: CREATE EXTENSION
 * takes an existing schema of the name, and its owner could then change
 * or drop the extension's objects.
 */
static void
bh_check_schema_owner(void)
{
	Oid			nsp = get_namespace_oid("bh_audit", false);
	HeapTuple	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for schema %u", nsp);
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	if (!superuser_arg(owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("schema \"bh_audit\" is owned by role \"%s\", not by a superuser",
						GetUserNameFromId(owner, false)),
				 errdetail("The owner of the extension's schema could change or drop the audit trail's objects."),
				 errhint("Drop the schema, or give it to a superuser with ALTER SCHEMA bh_audit OWNER TO, before CREATE EXTENSION bh_audit.")));
}

/*
 * Called first by every SQL function that needs what _PG_init sets up (its
 * settings, hooks or shared memory): without the preload (the library
 * removed from shared_preload_libraries and the server restarted, the
 * extension still installed) they fail cleanly instead.  Writes to tagged
 * tables are refused then, through their capture triggers: they would
 * leave no event.
 */
void
bh_require_preload(void)
{
	if (!bh_loaded_at_startup)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bh_audit is not loaded through shared_preload_libraries"),
				 errdetail("Reads, denials and failures are not captured meanwhile, and nothing is sealed; events, tagging and writes to tagged tables are refused."),
				 errhint("Add bh_audit to shared_preload_libraries in postgresql.conf and restart the server.")));
}

/*
 * Refuse a SQL function that a parallel worker cannot run for its leader
 * (a function labelled PARALLEL SAFE calling it): it neither sees the
 * leader's locks nor holds its events.  The leader itself, in parallel
 * mode for a query with a Gather, may.
 */
void
bh_refuse_in_parallel_worker(const char *func)
{
	if (IsParallelWorker())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("cannot execute %s in a parallel worker", func),
				 errhint("Call it outside any function labelled PARALLEL SAFE.")));
}

/*
 * Whether this backend works in bh_audit.database, the one database whose
 * queue the sealer seals.  Needs a transaction (the catalog names the
 * database).
 */
bool
bh_in_sealer_database(void)
{
	const char *here = get_database_name(MyDatabaseId);

	return here != NULL && strcmp(here, bh_database) == 0;
}

PG_FUNCTION_INFO_V1(bh_audit_preloaded);

/*
 * bh_audit._preloaded(): was the library loaded through
 * shared_preload_libraries?  For capture_status(); never fails.
 */
Datum
bh_audit_preloaded(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(bh_loaded_at_startup);
}

PG_FUNCTION_INFO_V1(bh_audit_check_preloaded);

/*
 * Called first by the install script: fail clearly unless preloaded, and
 * warn when no sealer runs (bh_sealer_absence) and in a database other
 * than the sealer's.
 */
Datum
bh_audit_check_preloaded(PG_FUNCTION_ARGS)
{
	char	   *why;

	if (!bh_loaded_at_startup)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bh_audit must be loaded via shared_preload_libraries"),
				 errhint("Add bh_audit to shared_preload_libraries in postgresql.conf, set bh_audit.database to this database, and restart the server.")));
	bh_check_schema_owner();
	if ((why = bh_sealer_absence()) != NULL)
		ereport(WARNING,
				(errmsg("no bh_audit sealer is running: events are not sealed"),
				 errdetail("%s; events wait in the queue and the ring.", why),
				 errhint("The server log says why; bh_audit.capture_status() lists it as long as it lasts.")));
	if (!bh_in_sealer_database())
	{
		int			sealer_encoding = bh_sealer_encoding();

		ereport(WARNING,
				(errmsg("bh_audit's sealer works in database \"%s\", not in this one",
						bh_database),
				 (sealer_encoding >= 0 && sealer_encoding != GetDatabaseEncoding()) ?
				 errdetail("Writes captured in this database are queued here and never sealed; its reads, denials and failures are chained in database \"%s\", naming this database, their text converted from %s to %s (a character %s lacks becomes \"?\").",
						   bh_database, GetDatabaseEncodingName(),
						   pg_encoding_to_char(sealer_encoding),
						   pg_encoding_to_char(sealer_encoding)) :
				 errdetail("Writes captured in this database are queued here and never sealed; its reads, denials and failures are chained in database \"%s\", naming this database.",
						   bh_database),
				 errhint("Set bh_audit.database to this database and restart the server, unless this database only holds a restored ledger to inspect.")));
	}
	PG_RETURN_VOID();
}

/* n ASCII digits at s as a number, or -1 */
static int
bh_digits(const char *s, int n)
{
	int			v = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* A text bh_event_timestamp_parse() does not read. */
static void
pg_attribute_noreturn()
bh_timestamp_refused(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
			 errmsg("event timestamp is not an RFC 3339 date-time with an explicit offset")));
}

/*
 * An event's RFC 3339 timestamp as timestamptz, into *result; false (and
 * *result untouched) for a text that is not one, or whose instant is out of
 * timestamptz's range.  It reads exactly the schema's date-time format
 * (bh_is_rfc3339_date_time, the check validation applies):
 * YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), T and Z in either case,
 * hours 00-23, no leap second, offsets up to +-23:59.  The offset is always
 * explicit, and the instant is computed here rather than by timestamptz_in
 * (which refuses offsets beyond +-15:59 and takes 24:00:00 and a leap
 * second), so the result depends on neither TimeZone nor DateStyle.  For
 * every text timestamptz_in accepts too, the result is the same: the
 * fraction is rounded to microseconds as PostgreSQL does (rint of the
 * fraction times 10^6, a full second carrying over).  The forms the
 * builders write, "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" (and, before microseconds,
 * "YYYY-MM-DDTHH:MM:SS.mmmZ", which a restored queue may still hold), take
 * a shorter path.  The sealer orders events by it (it must not throw).
 */
bool
bh_event_timestamp_read(const char *s, int len, TimestampTz *result)
{
	/* the builders' forms: their fields are checked below, not by the scan */
	bool		ours = ((len == 27 || len == 24) &&
						s[4] == '-' && s[7] == '-' && s[10] == 'T' &&
						s[13] == ':' && s[16] == ':' && s[19] == '.' && s[len - 1] == 'Z');
	int			y,
				mo,
				d,
				h,
				mi,
				sec;
	int			p;
	int64		fsec = 0;
	int			offset = 0;
	TimestampTz ts;

	if (!ours && !bh_is_rfc3339_date_time(s, len))
		return false;
	y = bh_digits(s, 4);
	mo = bh_digits(s + 5, 2);
	d = bh_digits(s + 8, 2);
	h = bh_digits(s + 11, 2);
	mi = bh_digits(s + 14, 2);
	sec = bh_digits(s + 17, 2);
	if (ours)
	{
		/* microseconds, or milliseconds */
		int			frac = (len == 27) ? bh_digits(s + 20, 6) : bh_digits(s + 20, 3);

		/*
		 * In this layout, fields in their ranges (digits: bh_digits gives -1
		 * otherwise) are exactly what the scan would accept.
		 */
		if (!(y >= 1 && mo >= 1 && mo <= 12 && d >= 1 &&
			  d <= day_tab[isleap(y)][mo - 1] &&
			  h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && sec >= 0 && sec <= 59 && frac >= 0))
			return false;
		*result = ((int64) (date2j(y, mo, d) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY) +
			((int64) ((h * 60 + mi) * 60 + sec) * USECS_PER_SEC) +
			(int64) frac * ((len == 27) ? 1 : 1000);
		return true;
	}

	/* The scan guarantees the layout and the fields' ranges. */
	p = 19;
	if (s[p] == '.')
	{
		int			start = p;
		char	   *frac;

		p++;
		while (p < len && s[p] >= '0' && s[p] <= '9')
			p++;
		/* as PostgreSQL's ParseFractionalSecond: strtod, then rint */
		frac = pnstrdup(s + start, p - start);
		fsec = (int64) rint(strtod(frac, NULL) * 1000000.0);
		pfree(frac);
	}
	if (s[p] == '+' || s[p] == '-')
	{
		offset = (bh_digits(s + p + 1, 2) * 60 + bh_digits(s + p + 4, 2)) * 60;
		if (s[p] == '-')
			offset = -offset;
	}

	ts = ((int64) (date2j(y, mo, d) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY) +
		((int64) ((h * 60 + mi) * 60 + sec) * USECS_PER_SEC) + fsec -
		(int64) offset * USECS_PER_SEC;
	if (!IS_VALID_TIMESTAMP(ts))
		return false;
	*result = ts;
	return true;
}

/*
 * bh_event_timestamp_read(), refusing a text it does not read: 22007 for
 * one that is no RFC 3339 date-time, 22008 for an instant out of range.
 */
TimestampTz
bh_event_timestamp_parse(const char *s, int len)
{
	TimestampTz result;

	if (bh_event_timestamp_read(s, len, &result))
		return result;
	if (!bh_is_rfc3339_date_time(s, len))
		bh_timestamp_refused();
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("timestamp out of range: \"%s\"", pnstrdup(s, len))));
}

/*
 * Now on the monotonic clock, in microseconds from an arbitrary origin:
 * what bh_audit times durations by (waits, absences), never by the wall
 * clock, which an NTP step, a resumed virtual machine or date -s moves
 * back or forward while the server runs.  instr_time reads CLOCK_MONOTONIC
 * on Linux, which is system-wide: stamps taken by different processes
 * compare, so they may be kept in shared memory.  Instants recorded in
 * events stay on the wall clock (GetCurrentTimestamp).
 */
int64
bh_monotonic_us(void)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	return (int64) INSTR_TIME_GET_MICROSEC(now);
}

PG_FUNCTION_INFO_V1(bh_audit_event_timestamp);

/*
 * bh_audit.event_timestamp(text): bh_event_timestamp_parse() as SQL; it
 * is immutable and feeds the ledger's generated column ts.
 */
Datum
bh_audit_event_timestamp(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);

	PG_RETURN_TIMESTAMPTZ(bh_event_timestamp_parse(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
}
