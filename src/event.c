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
 * keys every event carries (db_user).  The result is JSON text of an
 * event of the version bh_audit.schema_version names (1.1 by default; see
 * bh_event_negotiate), without integrity; the canonical form is made
 * later, by the sealer, from the stored jsonb.
 *
 * Every string is escaped with escape_json(); strings from settings or
 * session state are cut to the schema's limits, never rejected, so that
 * what the extension builds from context always validates.  The error
 * message is sanitised and the metadata filtered by sanitize.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "bh_audit.h"
#include "event.h"
#include "sanitize.h"
#include "validate.h"

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

/*
 * Random bytes for event ids, drawn from pg_strong_random() 4 kB at a time:
 * one call per event cost more than building the rest of the event
 * (OpenSSL's RAND_status() and RAND_bytes() locking, every time).  The
 * pool belongs to the process that filled it: a child forked after the
 * fill draws its own, so that no two processes hand out the same bytes.
 */
#define BH_RAND_POOL_SIZE 4096
static unsigned char bh_rand_pool[BH_RAND_POOL_SIZE];
static int	bh_rand_used = BH_RAND_POOL_SIZE;
static int	bh_rand_pid = 0;

static void
bh_random_bytes(unsigned char *dst, int len)
{
	Assert(len <= BH_RAND_POOL_SIZE);
	if (bh_rand_pid != MyProcPid || bh_rand_used + len > BH_RAND_POOL_SIZE)
	{
		if (!pg_strong_random(bh_rand_pool, BH_RAND_POOL_SIZE))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate a random event_id")));
		bh_rand_used = 0;
		bh_rand_pid = MyProcPid;
	}
	memcpy(dst, bh_rand_pool + bh_rand_used, len);
	/* handed out once: forget them */
	memset(bh_rand_pool + bh_rand_used, 0, len);
	bh_rand_used += len;
}

/* A random (version 4) UUID in its text form (37 bytes with the NUL). */
static void
bh_uuid_v4(char *out)
{
	static const char hexdigits[] = "0123456789abcdef";
	unsigned char b[16];
	int			i,
				j = 0;

	bh_random_bytes(b, sizeof(b));
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

/*
 * Version negotiation, first step: the version of the event to build
 * (bh_audit.schema_version), and what that version changes in ev.  1.0
 * has no DENIED: a denial becomes a FAILURE that keeps its error_type
 * (which stands in for a missing error_message, as for any FAILURE).
 * 1.1, 2.0 and 2.1 need nothing more for the human and service actors
 * the extension records (2.x adds requirements only for agent actors,
 * delegation, attribution and OVERRIDE, which it never emits).
 */
static BhSchemaVersion
bh_event_negotiate(BhEvent *ev)
{
	BhSchemaVersion version = (BhSchemaVersion) bh_schema_version;

	if (version == BH_SCHEMA_1_0 && strcmp(ev->outcome, "DENIED") == 0)
		ev->outcome = "FAILURE";
	return version;
}

/*
 * Version negotiation, last step: leave out of a 1.0 event what 1.0 does
 * not allow (actor.owner_org_id, set from the context).
 */
static char *
bh_event_finish_1_0(char *json)
{
	Datum		event;
	Datum		path[2];
	ArrayType  *patharr;
	Jsonb	   *jb;

	if (strstr(json, "\"owner_org_id\"") == NULL)
		return json;
	event = DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
	path[0] = CStringGetTextDatum("actor");
	path[1] = CStringGetTextDatum("owner_org_id");
	patharr = construct_array(path, 2, TEXTOID, -1, false, TYPALIGN_INT);
	jb = DatumGetJsonbP(DirectFunctionCall2(jsonb_delete_path, event,
											PointerGetDatum(patharr)));
	return JsonbToCString(NULL, &jb->root, VARSIZE(jb));
}

/*
 * The session user's name, looked up once per session user: events built
 * in error and abort paths must not need the catalog.
 */
const char *
bh_session_user_name(void)
{
	static Oid	cached_oid = InvalidOid;
	static char cached_name[NAMEDATALEN];
	Oid			current = GetSessionUserId();

	if (current != cached_oid)
	{
		strlcpy(cached_name, GetUserNameFromId(current, false), sizeof(cached_name));
		cached_oid = current;
	}
	return cached_name;
}

/*
 * Complete ev and return it as JSON text; the event_id goes to
 * event_id_out (37 bytes) if given.
 */
char *
bh_event_build(BhEvent *ev, char *event_id_out)
{
	/* first: the version may change ev (restored before returning) */
	const char *outcome_asked = ev->outcome;
	BhSchemaVersion version = bh_event_negotiate(ev);
	StringInfoData buf;
	char		event_id[37];
	const char *db_user = ev->db_user ? ev->db_user : bh_session_user_name();
	/* sanitised (sanitize.c); FAILURE without one carries its error_type */
	const char *error_message = bh_event_error_message(ev->outcome,
													   ev->error_message,
													   ev->error_type);

	bh_uuid_v4(event_id);
	if (event_id_out)
		memcpy(event_id_out, event_id, sizeof(event_id));

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"schema_version\":\"%s\",\"event_id\":\"%s\"",
					 bh_schema_version_name(version), event_id);
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

	bh_metadata_append(&buf, ev, db_user);
	appendStringInfoChar(&buf, '}');

	ev->outcome = outcome_asked;
	if (version == BH_SCHEMA_1_0)
		return bh_event_finish_1_0(buf.data);
	return buf.data;
}
