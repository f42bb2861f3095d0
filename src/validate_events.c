/*-------------------------------------------------------------------------
 *
 * validate_events.c
 *		Where events are validated: the settings (bh_audit.schema_version,
 *		bh_audit.validation_mode), the emit path's check of every event
 *		the extension builds, and bh_audit.validate_event() /
 *		bh_audit.validation_errors().
 *
 * The validator itself (the schemas compiled, an event walked against
 * one) is validate.c's; this file decides what a failed validation does
 * (raise, log and emit, or drop, counted in stats()) and what the SQL
 * functions take and return.  PHI: errors name paths and keywords, never
 * values (validate.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "bh_audit.h"
#include "validate.h"

/* Errors listed in a WARNING or ERROR detail, at most. */
#define BH_MAX_REPORTED_ERRORS 10

/* Settings */
int			bh_schema_version = BH_SCHEMA_1_1;
int			bh_validation_mode = BH_VALIDATION_LOG_AND_EMIT;

static const struct config_enum_entry bh_schema_version_options[] = {
	{"1.0", BH_SCHEMA_1_0, false},
	{"1.1", BH_SCHEMA_1_1, false},
	{"2.0", BH_SCHEMA_2_0, false},
	{"2.1", BH_SCHEMA_2_1, false},
	{NULL, 0, false}
};

static const struct config_enum_entry bh_validation_mode_options[] = {
	{"raise", BH_VALIDATION_RAISE, false},
	{"log_and_emit", BH_VALIDATION_LOG_AND_EMIT, false},
	{"drop", BH_VALIDATION_DROP, false},
	{NULL, 0, false}
};

#define BH_KNOWN_VERSIONS "1.0, 1.1, 2.0, 2.1"

/* Scratch memory of runtime validation, reset after each event. */
static MemoryContext bh_validate_cxt = NULL;


/* ---------------------------------------------------------------------
 * Settings and versions
 * ---------------------------------------------------------------------
 */

/* Define bh_audit.schema_version and bh_audit.validation_mode. */
void
bh_validate_init(void)
{
	DefineCustomEnumVariable("bh_audit.schema_version",
							 "bh-audit-schema version of the events built: 1.0, 1.1, 2.0 or 2.1.",
							 NULL,
							 &bh_schema_version,
							 BH_SCHEMA_1_1,
							 bh_schema_version_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomEnumVariable("bh_audit.validation_mode",
							 "What to do with a built event that fails schema validation: raise, log_and_emit or drop.",
							 NULL,
							 &bh_validation_mode,
							 BH_VALIDATION_LOG_AND_EMIT,
							 bh_validation_mode_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
}

/* The name of a version ("1.1"). */
const char *
bh_schema_version_name(BhSchemaVersion v)
{
	return bh_schema_version_options[v].name;
}

/* The version named by s (len bytes, not necessarily terminated). */
bool
bh_schema_version_lookup(const char *s, int len, BhSchemaVersion *v)
{
	int			i;

	for (i = 0; i < BH_SCHEMA_NVERSIONS; i++)
	{
		const char *name = bh_schema_version_options[i].name;

		if ((int) strlen(name) == len && memcmp(name, s, len) == 0)
		{
			*v = (BhSchemaVersion) bh_schema_version_options[i].val;
			return true;
		}
	}
	return false;
}


/* ---------------------------------------------------------------------
 * Runtime validation of built events
 * ---------------------------------------------------------------------
 */

/* "path: message; path: message; ..." for a log line. */
static char *
bh_errors_text(List *errors)
{
	StringInfoData buf;
	ListCell   *lc;
	int			n = 0;

	initStringInfo(&buf);
	foreach(lc, errors)
	{
		BhValidationError *e = (BhValidationError *) lfirst(lc);

		if (n == BH_MAX_REPORTED_ERRORS)
		{
			appendStringInfo(&buf, "; and %d more", list_length(errors) - n);
			break;
		}
		if (n++ > 0)
			appendStringInfoString(&buf, "; ");
		appendStringInfo(&buf, "%s %s", e->path, e->message);
	}
	return buf.data;
}

/*
 * The emit path's check (bh_queue_event() calls it for every event): a valid
 * event costs one yes/no walk; an invalid one is walked again to say why, is
 * counted, and is logged, dropped or refused by bh_audit.validation_mode.
 * Returns whether to queue the event.
 */
bool
bh_validate_for_emit(Jsonb *event)
{
	BhSchemaVersion version;
	bool		present;
	bool		known;
	List	   *errors = NIL;
	MemoryContext old;
	char	   *detail;
	const char *vname;
	int			nerrors;

	if (bh_validate_cxt == NULL)
		bh_validate_cxt = AllocSetContextCreate(TopMemoryContext,
												"bh_audit validation",
												ALLOCSET_SMALL_SIZES);
	MemoryContextReset(bh_validate_cxt);
	old = MemoryContextSwitchTo(bh_validate_cxt);

	known = bh_event_version(event, &present, &version);
	if (known && bh_validate(event, version, NULL))
	{
		MemoryContextSwitchTo(old);
		MemoryContextReset(bh_validate_cxt);
		return true;
	}

	/* Invalid: say where and why (never the values). */
	if (known)
	{
		(void) bh_validate(event, version, &errors);
		vname = bh_schema_version_name(version);
	}
	else
	{
		BhValidationError *e = palloc(sizeof(BhValidationError));

		e->path = pstrdup("/schema_version");
		e->message = pstrdup(present ? "is not a known bh-audit-schema version"
							 : "is missing");
		errors = list_make1(e);
		vname = "(unknown)";
	}
	nerrors = list_length(errors);
	MemoryContextSwitchTo(old);
	detail = bh_errors_text(errors);

	bh_stats_add_validation_failures(1);
	switch ((BhValidationMode) bh_validation_mode)
	{
		case BH_VALIDATION_RAISE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("audit event does not conform to bh-audit-schema %s", vname),
					 errdetail_plural("%d schema violation: %s.",
									  "%d schema violations: %s.",
									  nerrors, nerrors, detail),
					 errhint("The statement was refused because bh_audit.validation_mode is \"raise\".")));
			break;
		case BH_VALIDATION_DROP:
			bh_stats_add_dropped(1);
			ereport(WARNING,
					(errmsg("audit event does not conform to bh-audit-schema %s: dropped", vname),
					 errdetail_plural("%d schema violation: %s.",
									  "%d schema violations: %s.",
									  nerrors, nerrors, detail),
					 errhint("bh_audit.validation_mode is \"drop\": the event was not recorded.")));
			break;
		case BH_VALIDATION_LOG_AND_EMIT:
			ereport(WARNING,
					(errmsg("audit event does not conform to bh-audit-schema %s: recorded anyway", vname),
					 errdetail_plural("%d schema violation: %s.",
									  "%d schema violations: %s.",
									  nerrors, nerrors, detail),
					 errhint("bh_audit.validation_mode is \"log_and_emit\".")));
			break;
	}
	pfree(detail);
	MemoryContextReset(bh_validate_cxt);
	return bh_validation_mode != BH_VALIDATION_DROP;
}


/* ---------------------------------------------------------------------
 * SQL functions
 * ---------------------------------------------------------------------
 */

/* The version to validate against: the argument, else the event's own. */
static BhSchemaVersion
bh_version_arg(FunctionCallInfo fcinfo, Jsonb *event)
{
	BhSchemaVersion version;
	bool		present;

	if (!PG_ARGISNULL(1))
	{
		char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(1));

		if (!bh_schema_version_lookup(name, strlen(name), &version))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown bh-audit-schema version \"%s\"", name),
					 errhint("Known versions: " BH_KNOWN_VERSIONS ".")));
		return version;
	}
	if (!bh_event_version(event, &present, &version))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 present ? errmsg("the event's schema_version is not a known bh-audit-schema version")
				 : errmsg("the event has no schema_version"),
				 errhint("Pass the version to validate against; known versions: " BH_KNOWN_VERSIONS ".")));
	return version;
}

PG_FUNCTION_INFO_V1(bh_audit_validate_event);

/*
 * bh_audit.validate_event(event jsonb, version text DEFAULT NULL): does the
 * event validate against the schema of version (NULL: its schema_version)?
 */
Datum
bh_audit_validate_event(PG_FUNCTION_ARGS)
{
	Jsonb	   *event;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	event = PG_GETARG_JSONB_P(0);
	PG_RETURN_BOOL(bh_validate_check(event, bh_version_arg(fcinfo, event), NULL, true));
}

PG_FUNCTION_INFO_V1(bh_audit_validation_errors);

/*
 * bh_audit.validation_errors(event jsonb, version text DEFAULT NULL):
 * one row (path, message) per violation; none for a valid event.
 */
Datum
bh_audit_validation_errors(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Jsonb	   *event;
	List	   *errors = NIL;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	event = PG_GETARG_JSONB_P(0);
	(void) bh_validate_check(event, bh_version_arg(fcinfo, event), &errors, true);
	foreach(lc, errors)
	{
		BhValidationError *e = (BhValidationError *) lfirst(lc);
		Datum		values[2];
		bool		nulls[2] = {false, false};

		CHECK_FOR_INTERRUPTS();

		values[0] = CStringGetTextDatum(e->path);
		values[1] = CStringGetTextDatum(e->message);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(bh_audit_test_queue_event);

/*
 * Test hook, not part of the SQL API (the install script does not declare
 * it) and superuser-only: queue the JSON text of an arbitrary event through
 * bh_queue_event(), so that the regression tests can reach the runtime
 * validation of events that the event builder never makes invalid.  A
 * superuser can write to bh_audit.queue directly anyway; this path at least
 * goes through validation.  Returns whether the event was queued.
 */
Datum
bh_audit_test_queue_event(PG_FUNCTION_ARGS)
{
	bh_require_preload();

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be superuser to queue a raw event")));
	PG_RETURN_BOOL(bh_queue_event(DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
																	 CStringGetDatum(text_to_cstring(PG_GETARG_TEXT_PP(0)))))));
}
