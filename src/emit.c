/*-------------------------------------------------------------------------
 *
 * emit.c
 *		Building bh-audit-schema events and queueing them transactionally:
 *		bh_audit.emit() and the queue hand-off to the sealer.
 *
 * A queued event is a row of bh_audit.queue inserted in the caller's
 * transaction: it commits with the caller's work and disappears with it on
 * rollback (or rollback to a savepoint).  At commit the sealer is woken so
 * that it chains the new events promptly.
 *
 * Events are built as JSON text with every string escaped by escape_json()
 * and stored as jsonb; the canonical form is rendered later by the sealer.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "bh_audit.h"

/* Upstream default length of a sanitised error message. */
#define BH_ERROR_MESSAGE_MAX_LEN 200
/* Schema limit on metadata keys. */
#define BH_METADATA_MAX_KEYS 20

/*
 * Events queued by this backend, per transaction nesting level, so that the
 * emitted counter counts only what commits.
 */
static uint64 *bh_pending = NULL;
static int	bh_pending_levels = 0;

static SPIPlanPtr bh_queue_plan = NULL;

static const char *const bh_actions[] = {
	"READ", "CREATE", "UPDATE", "DELETE", "EXPORT", "LOGIN", "LOGOUT",
	"PRINT", "OTHER", NULL
};
static const char *const bh_outcomes[] = {"SUCCESS", "FAILURE", "DENIED", NULL};
static const char *const bh_classifications[] = {"PHI", "PII", "NONE", "UNKNOWN", NULL};

/* Is s one of the NULL-terminated list? */
static bool
bh_in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* Count one queued event at the current nesting level. */
static void
bh_pending_add(void)
{
	int			level = GetCurrentTransactionNestLevel();

	if (level >= bh_pending_levels)
	{
		int			newlen = Max(8, level * 2);

		if (bh_pending == NULL)
			bh_pending = MemoryContextAllocZero(TopMemoryContext, newlen * sizeof(uint64));
		else
		{
			bh_pending = repalloc(bh_pending, newlen * sizeof(uint64));
			memset(bh_pending + bh_pending_levels, 0,
				   (newlen - bh_pending_levels) * sizeof(uint64));
		}
		bh_pending_levels = newlen;
	}
	bh_pending[level]++;
}

/* At top-level end: count what committed and wake the sealer. */
static void
bh_emit_xact_callback(XactEvent event, void *arg)
{
	uint64		n = 0;
	int			i;

	if (bh_pending == NULL)
		return;
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_PARALLEL_COMMIT &&
		event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_ABORT)
		return;

	for (i = 0; i < bh_pending_levels; i++)
	{
		n += bh_pending[i];
		bh_pending[i] = 0;
	}
	if (n > 0 && (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT))
	{
		bh_stats_add_emitted(n);
		bh_sealer_wake();
	}
}

/* At subtransaction end: fold into the parent, or forget on rollback. */
static void
bh_emit_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();

	if (bh_pending == NULL || level >= bh_pending_levels || level < 1)
		return;
	if (event == SUBXACT_EVENT_COMMIT_SUB)
		bh_pending[level - 1] += bh_pending[level];
	else if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	bh_pending[level] = 0;
}

void
bh_emit_init(void)
{
	RegisterXactCallback(bh_emit_xact_callback, NULL);
	RegisterSubXactCallback(bh_emit_subxact_callback, NULL);
}

/*
 * Queue one event (JSON text of a complete event without integrity) in the
 * current transaction.  Runs with the privileges of the caller; emit() is
 * SECURITY DEFINER so that applications need no grant on the queue.
 */
static void
bh_queue_event(const char *event_json)
{
	Datum		arg;
	int			rc;

	arg = DirectFunctionCall1(jsonb_in, CStringGetDatum(event_json));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (bh_queue_plan == NULL)
	{
		Oid			argtypes[1] = {JSONBOID};
		SPIPlanPtr	plan;

		plan = SPI_prepare("INSERT INTO bh_audit.queue (event) VALUES ($1)", 1, argtypes);
		if (plan == NULL)
			elog(ERROR, "could not prepare the queue insert: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		bh_queue_plan = plan;
	}
	rc = SPI_execute_plan(bh_queue_plan, &arg, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "could not queue event: %s", SPI_result_code_string(rc));
	SPI_finish();

	bh_pending_add();
}

/* A random (version 4) UUID in its text form. */
static void
bh_uuid_v4(char *out)
{
	static const char hexdigits[] = "0123456789abcdef";
	unsigned char b[16];
	int			i,
				j = 0;

	if (!pg_strong_random(b, sizeof(b)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random event_id")));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	for (i = 0; i < 16; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hexdigits[b[i] >> 4];
		out[j++] = hexdigits[b[i] & 0x0f];
	}
	out[j] = '\0';
}

/* Now, in UTC, with milliseconds: "2026-03-11T18:40:12.345Z". */
static void
bh_utc_timestamp(char *out, size_t outlen)
{
	TimestampTz now = GetCurrentTimestamp();
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(now, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "timestamp out of range");
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			 tm.tm_year, tm.tm_mon, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (fsec / 1000));
}

/* Length of s in characters of the database encoding. */
static int
bh_char_len(const char *s)
{
	return pg_mbstrlen_with_len(s, strlen(s));
}

/*
 * A copy of s cut to at most maxchars characters; when cut, it ends in
 * "..." (as the upstream sanitiser does).
 */
static char *
bh_truncate(const char *s, int maxchars)
{
	int			len = strlen(s);
	int			cut;

	if (pg_mbstrlen_with_len(s, len) <= maxchars)
		return pstrdup(s);
	cut = pg_mbcharcliplen(s, len, maxchars - 3);
	return psprintf("%.*s...", cut, s);
}

/* Check an explicit string argument against the schema's length limits. */
static void
bh_check_length(const char *field, const char *s, int minchars, int maxchars)
{
	int			n = bh_char_len(s);

	if (n < minchars)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", field)));
	if (n > maxchars)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is longer than %d characters", field, maxchars)));
}

/* Append ,"key":<escaped value> */
static void
bh_append_field(StringInfo buf, const char *key, const char *value)
{
	appendStringInfo(buf, ",\"%s\":", key);
	escape_json(buf, value);
}

/* Append the metadata object: the caller's scalar keys, then ours. */
static void
bh_append_metadata(StringInfo buf, Jsonb *metadata, const char *db_user)
{
	int			nkeys = 1;		/* db_user */

	appendStringInfoString(buf, ",\"metadata\":{");
	if (metadata != NULL)
	{
		JsonbIterator *it;
		JsonbValue	v;
		JsonbIteratorToken tok;
		char	   *key = NULL;

		if (!JB_ROOT_IS_OBJECT(metadata) || JB_ROOT_IS_SCALAR(metadata))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("metadata must be a JSON object")));

		it = JsonbIteratorInit(&metadata->root);
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			if (tok == WJB_KEY)
				key = pnstrdup(v.val.string.val, v.val.string.len);
			else if (tok == WJB_VALUE)
			{
				if (strcmp(key, "db_user") == 0)
					continue;	/* set by the extension */
				if (v.type != jbvString && v.type != jbvNumeric &&
					v.type != jbvBool && v.type != jbvNull)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("metadata values must be scalars (string, number, boolean or null)")));
				if (++nkeys > BH_METADATA_MAX_KEYS)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("metadata has more than %d keys", BH_METADATA_MAX_KEYS - 1),
							 errdetail("The extension adds db_user; the schema allows %d keys.",
									   BH_METADATA_MAX_KEYS)));
				escape_json(buf, key);
				appendStringInfoChar(buf, ':');
				switch (v.type)
				{
					case jbvString:
						{
							char	   *s = pnstrdup(v.val.string.val, v.val.string.len);

							escape_json(buf, s);
							break;
						}
					case jbvNumeric:
						appendStringInfoString(buf,
											   DatumGetCString(DirectFunctionCall1(numeric_out,
																				   NumericGetDatum(v.val.numeric))));
						break;
					case jbvBool:
						appendStringInfoString(buf, v.val.boolean ? "true" : "false");
						break;
					default:
						appendStringInfoString(buf, "null");
						break;
				}
				appendStringInfoChar(buf, ',');
			}
		}
	}
	appendStringInfoString(buf, "\"db_user\":");
	escape_json(buf, db_user);
	appendStringInfoChar(buf, '}');
}

/* The text argument n, or NULL. */
static char *
bh_text_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

PG_FUNCTION_INFO_V1(bh_audit_emit);

/*
 * bh_audit.emit(action, resource_type, resource_id, patient_id, outcome,
 *				 error_type, error_message, metadata, data_classification,
 *				 phi_touched, action_name) RETURNS uuid
 *
 * Validates everything before queueing anything: bad input raises 22023
 * naming the field and leaves the queue untouched.
 */
Datum
bh_audit_emit(PG_FUNCTION_ARGS)
{
	char	   *action = bh_text_arg(fcinfo, 0);
	char	   *resource_type = bh_text_arg(fcinfo, 1);
	char	   *resource_id = bh_text_arg(fcinfo, 2);
	char	   *patient_id = bh_text_arg(fcinfo, 3);
	char	   *outcome = bh_text_arg(fcinfo, 4);
	char	   *error_type = bh_text_arg(fcinfo, 5);
	char	   *error_message = bh_text_arg(fcinfo, 6);
	Jsonb	   *metadata = PG_ARGISNULL(7) ? NULL : PG_GETARG_JSONB_P(7);
	char	   *classification = bh_text_arg(fcinfo, 8);
	char	   *action_name = bh_text_arg(fcinfo, 10);
	char	   *db_user;
	char		event_id[37];
	char		ts[40];
	StringInfoData buf;

	/* Validate the caller's input. */
	if (action == NULL || !bh_in_list(action, bh_actions))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("action must be one of READ, CREATE, UPDATE, DELETE, EXPORT, LOGIN, LOGOUT, PRINT, OTHER")));
	if (outcome == NULL || !bh_in_list(outcome, bh_outcomes))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("outcome must be one of SUCCESS, FAILURE, DENIED")));
	if (resource_type == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("resource_type must not be empty")));
	bh_check_length("resource_type", resource_type, 1, 128);
	if (resource_id)
		bh_check_length("resource_id", resource_id, 1, 256);
	if (patient_id)
		bh_check_length("patient_id", patient_id, 1, 256);
	if (strcmp(outcome, "SUCCESS") != 0 && error_type == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("error_type is required when outcome is %s", outcome)));
	if (error_type)
		bh_check_length("error_type", error_type, 1, 128);
	if (classification && !bh_in_list(classification, bh_classifications))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("data_classification must be one of PHI, PII, NONE, UNKNOWN")));
	if (action_name)
		bh_check_length("action_name", action_name, 0, 128);

	/* FAILURE requires a message in the schema: the error type stands in. */
	if (error_message == NULL && strcmp(outcome, "FAILURE") == 0)
		error_message = error_type;
	if (error_message)
		error_message = bh_truncate(error_message, BH_ERROR_MESSAGE_MAX_LEN);

	db_user = GetUserNameFromId(GetSessionUserId(), false);
	bh_uuid_v4(event_id);
	bh_utc_timestamp(ts, sizeof(ts));

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"schema_version\":\"1.1\",\"event_id\":\"%s\",\"timestamp\":\"%s\"",
					 event_id, ts);

	appendStringInfoString(&buf, ",\"service\":{\"name\":");
	escape_json(&buf, (bh_service_name && bh_service_name[0])
				? bh_truncate(bh_service_name, 128) : "postgresql");
	if (bh_service_environment && bh_service_environment[0])
		bh_append_field(&buf, "environment", bh_truncate(bh_service_environment, 64));
	if (bh_service_version && bh_service_version[0])
		bh_append_field(&buf, "version", bh_truncate(bh_service_version, 64));
	appendStringInfoChar(&buf, '}');

	appendStringInfoString(&buf, ",\"actor\":{\"subject_id\":");
	escape_json(&buf, db_user);
	appendStringInfoString(&buf, ",\"subject_type\":\"human\"}");

	appendStringInfoString(&buf, ",\"action\":{\"type\":");
	escape_json(&buf, action);
	if (action_name && action_name[0])
		bh_append_field(&buf, "name", action_name);
	if (!PG_ARGISNULL(9))
		appendStringInfo(&buf, ",\"phi_touched\":%s", PG_GETARG_BOOL(9) ? "true" : "false");
	if (classification)
		bh_append_field(&buf, "data_classification", classification);
	appendStringInfoChar(&buf, '}');

	appendStringInfoString(&buf, ",\"resource\":{\"type\":");
	escape_json(&buf, resource_type);
	if (resource_id)
		bh_append_field(&buf, "id", resource_id);
	if (patient_id)
		bh_append_field(&buf, "patient_id", patient_id);
	appendStringInfoChar(&buf, '}');

	appendStringInfoString(&buf, ",\"outcome\":{\"status\":");
	escape_json(&buf, outcome);
	if (error_type)
		bh_append_field(&buf, "error_type", error_type);
	if (error_message)
		bh_append_field(&buf, "error_message", error_message);
	appendStringInfoChar(&buf, '}');

	bh_append_metadata(&buf, metadata, db_user);
	appendStringInfoChar(&buf, '}');

	bh_queue_event(buf.data);

	PG_RETURN_DATUM(DirectFunctionCall1(uuid_in, CStringGetDatum(event_id)));
}
