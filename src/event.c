/*-------------------------------------------------------------------------
 *
 * event.c
 *		Building bh-audit-schema events.
 *
 * A module that records something fills a BhEvent with what it knows (the
 * action, the resource, the outcome, a few metadata keys of its own) and
 * bh_event_build() completes it: a random v4 event_id, the UTC timestamp
 * in milliseconds, the service from bh_audit.service_*, the actor and
 * correlation ids from the session context (context.c), and the metadata
 * keys every event carries (db_user).  The result is JSON text of a v1.1
 * event without integrity; the canonical form is made later, by the
 * sealer, from the stored jsonb.
 *
 * Every string is escaped with escape_json(); strings from settings or
 * session state are cut to the schema's limits, never rejected, so that
 * what the extension builds from context always validates.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "bh_audit.h"
#include "event.h"

/* Upstream default length of a sanitised error message. */
#define BH_ERROR_MESSAGE_MAX_LEN 200
/* Schema limit on metadata keys. */
#define BH_METADATA_MAX_KEYS 20

const char *const bh_action_types[] = {
	"READ", "CREATE", "UPDATE", "DELETE", "EXPORT", "LOGIN", "LOGOUT",
	"PRINT", "OTHER", NULL
};
const char *const bh_outcome_statuses[] = {"SUCCESS", "FAILURE", "DENIED", NULL};
const char *const bh_data_classifications[] = {"PHI", "PII", "NONE", "UNKNOWN", NULL};

/* Is s one of the NULL-terminated list? */
bool
bh_in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* Start an event: SUCCESS, nothing optional set. */
void
bh_event_init(BhEvent *ev, const char *action, const char *resource_type)
{
	memset(ev, 0, sizeof(*ev));
	ev->action = action;
	ev->resource_type = resource_type;
	ev->outcome = "SUCCESS";
	ev->phi_touched = -1;
}

static BhMetaItem *
bh_event_meta_slot(BhEvent *ev, const char *key)
{
	int			i;

	for (i = 0; i < ev->nmeta; i++)
		if (strcmp(ev->meta[i].key, key) == 0)
			return &ev->meta[i];
	if (ev->nmeta >= BH_MAX_OWN_METADATA)
		elog(ERROR, "too many bh_audit metadata keys");
	ev->meta[ev->nmeta].key = key;
	return &ev->meta[ev->nmeta++];
}

/* Set one of the extension's own metadata keys. */
void
bh_event_meta_string(BhEvent *ev, const char *key, const char *value)
{
	BhMetaItem *item = bh_event_meta_slot(ev, key);

	item->type = BH_META_STRING;
	item->str = value;
}

void
bh_event_meta_int(BhEvent *ev, const char *key, int64 value)
{
	BhMetaItem *item = bh_event_meta_slot(ev, key);

	item->type = BH_META_INT;
	item->num = value;
}

void
bh_event_meta_bool(BhEvent *ev, const char *key, bool value)
{
	BhMetaItem *item = bh_event_meta_slot(ev, key);

	item->type = BH_META_BOOL;
	item->flag = value;
}

/*
 * A copy of s cut to at most maxchars characters; when cut, it ends in
 * "..." (as the upstream sanitiser does).
 */
char *
bh_truncate(const char *s, int maxchars)
{
	int			len = strlen(s);
	int			cut;

	if (len <= maxchars || pg_mbstrlen_with_len(s, len) <= maxchars)
		return pstrdup(s);
	cut = pg_mbcharcliplen(s, len, maxchars - 3);
	return psprintf("%.*s...", cut, s);
}

/* A random (version 4) UUID in its text form (37 bytes with the NUL). */
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
bh_append_timestamp(StringInfo buf)
{
	TimestampTz now = GetCurrentTimestamp();
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(now, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "timestamp out of range");
	appendStringInfo(buf, ",\"timestamp\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"",
					 tm.tm_year, tm.tm_mon, tm.tm_mday,
					 tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (fsec / 1000));
}

/* Append ,"key":<escaped value> */
static void
bh_append_field(StringInfo buf, const char *key, const char *value)
{
	appendStringInfo(buf, ",\"%s\":", key);
	escape_json(buf, value);
}

/* Is key one the extension sets on this event? */
static bool
bh_is_own_key(BhEvent *ev, const char *key)
{
	int			i;

	if (strcmp(key, "db_user") == 0)
		return true;
	for (i = 0; i < ev->nmeta; i++)
		if (strcmp(ev->meta[i].key, key) == 0)
			return true;
	return false;
}

/* Append one scalar jsonb value. */
static void
bh_append_jsonb_scalar(StringInfo buf, JsonbValue *v)
{
	switch (v->type)
	{
		case jbvString:
			escape_json(buf, pnstrdup(v->val.string.val, v->val.string.len));
			break;
		case jbvNumeric:
			appendStringInfoString(buf,
								   DatumGetCString(DirectFunctionCall1(numeric_out,
																	   NumericGetDatum(v->val.numeric))));
			break;
		case jbvBool:
			appendStringInfoString(buf, v->val.boolean ? "true" : "false");
			break;
		default:
			appendStringInfoString(buf, "null");
			break;
	}
}

/*
 * Append the metadata object: the caller's scalar keys (not overriding the
 * extension's), then the extension's own keys, then db_user.
 */
static void
bh_append_metadata(StringInfo buf, BhEvent *ev, const char *db_user)
{
	int			nkeys = 1 + ev->nmeta;
	int			i;

	appendStringInfoString(buf, ",\"metadata\":{");
	if (ev->user_metadata != NULL)
	{
		JsonbIterator *it;
		JsonbValue	v;
		JsonbIteratorToken tok;
		char	   *key = NULL;

		if (!JB_ROOT_IS_OBJECT(ev->user_metadata) || JB_ROOT_IS_SCALAR(ev->user_metadata))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("metadata must be a JSON object")));

		it = JsonbIteratorInit(&ev->user_metadata->root);
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			if (tok == WJB_KEY)
				key = pnstrdup(v.val.string.val, v.val.string.len);
			else if (tok == WJB_VALUE)
			{
				if (bh_is_own_key(ev, key))
					continue;
				if (v.type != jbvString && v.type != jbvNumeric &&
					v.type != jbvBool && v.type != jbvNull)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("metadata values must be scalars (string, number, boolean or null)")));
				if (++nkeys > BH_METADATA_MAX_KEYS)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("metadata has more than %d keys", BH_METADATA_MAX_KEYS),
							 errdetail("The extension adds %d keys of its own.", 1 + ev->nmeta)));
				escape_json(buf, key);
				appendStringInfoChar(buf, ':');
				bh_append_jsonb_scalar(buf, &v);
				appendStringInfoChar(buf, ',');
			}
		}
	}
	for (i = 0; i < ev->nmeta; i++)
	{
		BhMetaItem *m = &ev->meta[i];

		escape_json(buf, m->key);
		appendStringInfoChar(buf, ':');
		if (m->type == BH_META_STRING)
			escape_json(buf, m->str);
		else if (m->type == BH_META_INT)
			appendStringInfo(buf, INT64_FORMAT, m->num);
		else
			appendStringInfoString(buf, m->flag ? "true" : "false");
		appendStringInfoChar(buf, ',');
	}
	appendStringInfoString(buf, "\"db_user\":");
	escape_json(buf, db_user);
	appendStringInfoChar(buf, '}');
}

/*
 * Complete ev and return it as JSON text; the event_id goes to
 * event_id_out (37 bytes) if given.
 */
char *
bh_event_build(BhEvent *ev, char *event_id_out)
{
	StringInfoData buf;
	char		event_id[37];
	const char *db_user = GetUserNameFromId(GetSessionUserId(), false);
	const char *error_message = ev->error_message;

	/* FAILURE requires a message in the schema: the error type stands in. */
	if (error_message == NULL && strcmp(ev->outcome, "FAILURE") == 0)
		error_message = ev->error_type;
	if (error_message)
		error_message = bh_truncate(error_message, BH_ERROR_MESSAGE_MAX_LEN);

	bh_uuid_v4(event_id);
	if (event_id_out)
		memcpy(event_id_out, event_id, sizeof(event_id));

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"schema_version\":\"1.1\",\"event_id\":\"%s\"", event_id);
	bh_append_timestamp(&buf);

	appendStringInfoString(&buf, ",\"service\":{\"name\":");
	escape_json(&buf, (bh_service_name && bh_service_name[0])
				? bh_truncate(bh_service_name, 128) : "postgresql");
	if (bh_service_environment && bh_service_environment[0])
		bh_append_field(&buf, "environment", bh_truncate(bh_service_environment, 64));
	if (bh_service_version && bh_service_version[0])
		bh_append_field(&buf, "version", bh_truncate(bh_service_version, 64));
	appendStringInfoChar(&buf, '}');

	bh_context_append_correlation(&buf);
	bh_context_append_actor(&buf, db_user);

	appendStringInfoString(&buf, ",\"action\":{\"type\":");
	escape_json(&buf, ev->action);
	if (ev->action_name && ev->action_name[0])
		bh_append_field(&buf, "name", bh_truncate(ev->action_name, 128));
	if (ev->phi_touched >= 0)
		appendStringInfo(&buf, ",\"phi_touched\":%s", ev->phi_touched ? "true" : "false");
	if (ev->data_classification)
		bh_append_field(&buf, "data_classification", ev->data_classification);
	appendStringInfoChar(&buf, '}');

	appendStringInfoString(&buf, ",\"resource\":{\"type\":");
	escape_json(&buf, bh_truncate(ev->resource_type, 128));
	if (ev->resource_id && ev->resource_id[0])
		bh_append_field(&buf, "id", bh_truncate(ev->resource_id, 256));
	if (ev->patient_id && ev->patient_id[0])
		bh_append_field(&buf, "patient_id", bh_truncate(ev->patient_id, 256));
	appendStringInfoChar(&buf, '}');

	appendStringInfoString(&buf, ",\"outcome\":{\"status\":");
	escape_json(&buf, ev->outcome);
	if (ev->error_type && ev->error_type[0])
		bh_append_field(&buf, "error_type", bh_truncate(ev->error_type, 128));
	if (error_message)
		bh_append_field(&buf, "error_message", error_message);
	appendStringInfoChar(&buf, '}');

	bh_append_metadata(&buf, ev, db_user);
	appendStringInfoChar(&buf, '}');

	return buf.data;
}
