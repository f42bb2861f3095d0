/*-------------------------------------------------------------------------
 *
 * context.c
 *		The end-user context: who the application says the person is, and
 *		the ids that correlate a request across services.
 *
 * An application states the end user per transaction (SET LOCAL, or
 * bh_audit.set_context(), which warns as SET LOCAL does when called on its
 * own outside a transaction block) or per session (SET).  These settings are
 * PGC_USERSET by design: any role may assert them, and every event also
 * carries the real database login (metadata db_user), so an asserted
 * actor is always paired with who actually connected.  Without a stated
 * actor the actor is the login, a "service" if the role is listed in
 * bh_audit.service_roles (superuser-only), else "human".
 *
 * Values are cut to the schema's limits and empty ones left out, so that
 * an event built from context always validates; the end user's values are
 * cut when they are set (see bh_check_context_text).  A value made only of
 * blanks names nobody and is refused when set (bh_check_not_blank), and so
 * is one made only of characters that show nothing, where the database
 * encoding is known (bh_check_shows_character); in actor_roles such
 * entries are skipped, as entries of blanks are (bh_check_actor_roles).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

#include "bh_audit.h"
#include "capture.h"
#include "event.h"
#include "recode.h"

static char *bh_actor_id = NULL;
static char *bh_actor_type = NULL;
static char *bh_actor_roles = NULL;
static char *bh_actor_org_id = NULL;
static char *bh_owner_org_id = NULL;
static char *bh_request_id = NULL;
static char *bh_trace_id = NULL;
static char *bh_session_id = NULL;
static char *bh_service_roles = NULL;

/* Schema limit on actor.roles. */
#define BH_MAX_ROLES 25

/* Is s valid text of the database encoding (where it is checked)? */
static bool
bh_event_text_valid(const char *s)
{
	return s == NULL || pg_verifymbstr(s, strlen(s), true);
}

/*
 * A setting whose text goes into events: valid in the database encoding.
 * Text that came through SQL is; a connection's startup options are the
 * client's bytes, unchecked (PGOPTIONS='-c bh_audit.actor_id=...'), and
 * bytes that are no characters would break the ledger's export and dump:
 * refused.  A value of the server's own configuration (postgresql.conf and
 * the files it includes, postgresql.auto.conf, the server's command line)
 * is taken as it is: it holds for every database, whatever its encoding,
 * and the postmaster checks it before any is known (as SQL_ASCII, where
 * any byte passes).  Each backend repairs it where events take it
 * (bh_event_text), so that one that reloads the file takes what a new one
 * inherits.
 */
bool
bh_check_event_text(char **newval, void **extra, GucSource source)
{
	if (source <= PGC_S_ARGV || bh_event_text_valid(*newval))
		return true;
	GUC_check_errdetail("The value is not valid in the database encoding.");
	return false;
}

/*
 * The settings whose text goes into events, as events take it: a value
 * that is not valid text of the database encoding (only the server's
 * configuration gives one, see bh_check_event_text) is repaired as a
 * SQL_ASCII event's bytes are, each byte that starts no character
 * replaced (bh_recode_server_repair: U+FFFD in a UTF-8 database), and the
 * repair is logged once per value and encoding, naming the setting, never
 * the value.  Checked once per change: the settings' assign hook marks
 * them changed, and the encoding is the one they were checked in (a
 * backend's login events are built before its database is chosen, as
 * SQL_ASCII, which the sealer repairs).
 */
typedef struct BhEventTextSetting
{
	const char *name;
	char	  **var;
	const char *text;			/* what events take: *var, or repaired */
	char	   *invalid;		/* the invalid value repaired (a copy) */
	char	   *repaired;		/* its repair */
} BhEventTextSetting;

static BhEventTextSetting bh_event_texts[BH_TEXT_COUNT] = {
	[BH_TEXT_ACTOR_ID] = {"bh_audit.actor_id", &bh_actor_id},
	[BH_TEXT_ACTOR_ROLES] = {"bh_audit.actor_roles", &bh_actor_roles},
	[BH_TEXT_ACTOR_ORG_ID] = {"bh_audit.actor_org_id", &bh_actor_org_id},
	[BH_TEXT_OWNER_ORG_ID] = {"bh_audit.owner_org_id", &bh_owner_org_id},
	[BH_TEXT_REQUEST_ID] = {"bh_audit.request_id", &bh_request_id},
	[BH_TEXT_TRACE_ID] = {"bh_audit.trace_id", &bh_trace_id},
	[BH_TEXT_SESSION_ID] = {"bh_audit.session_id", &bh_session_id},
	[BH_TEXT_SERVICE_NAME] = {"bh_audit.service_name", &bh_service_name},
	[BH_TEXT_SERVICE_ENVIRONMENT] = {"bh_audit.service_environment", &bh_service_environment},
	[BH_TEXT_SERVICE_VERSION] = {"bh_audit.service_version", &bh_service_version},
};

static bool bh_event_texts_changed = true;
static int	bh_event_texts_encoding = -1;

/* The assign hook of the settings whose text goes into events. */
void
bh_assign_event_text(const char *newval, void *extra)
{
	bh_event_texts_changed = true;
}

/* Check each setting's value in the database encoding, repair it if need be. */
static void
bh_event_texts_check(void)
{
	int			encoding = GetDatabaseEncoding();
	int			i;

	for (i = 0; i < BH_TEXT_COUNT; i++)
	{
		BhEventTextSetting *t = &bh_event_texts[i];
		const char *v = *t->var;
		MemoryContext old;

		if (encoding == PG_SQL_ASCII || bh_event_text_valid(v))
		{
			t->text = v;
			continue;
		}
		if (t->invalid == NULL || strcmp(t->invalid, v) != 0 ||
			encoding != bh_event_texts_encoding)
		{
			if (t->invalid != NULL)
			{
				pfree(t->invalid);
				pfree(t->repaired);
			}
			old = MemoryContextSwitchTo(TopMemoryContext);
			t->invalid = pstrdup(v);
			t->repaired = bh_recode_server_repair(v, strlen(v));
			MemoryContextSwitchTo(old);
			ereport(LOG,
					(errmsg("the value of %s is not valid in the database encoding", t->name),
					 errdetail("Each byte of it that starts no character is recorded as a replacement character.")));
		}
		t->text = t->repaired;
	}
	bh_event_texts_encoding = encoding;
	bh_event_texts_changed = false;
}

/* The text events take of a setting (see BhEventTextSetting). */
const char *
bh_event_text(BhEventText id)
{
	if (bh_event_texts_changed || bh_event_texts_encoding != GetDatabaseEncoding())
		bh_event_texts_check();
	return bh_event_texts[id].text;
}

/*
 * Context values are cut to the schema's limits once, when they are set,
 * as the event builder would cut them (bh_truncate; roles: blanks trimmed,
 * empty entries dropped, the first BH_MAX_ROLES kept, each cut to 64
 * characters): an event built from a cut value is the same, and building
 * it costs no more than the limit, however long the value given (any role
 * may set these, to hundreds of megabytes, and a statement may build
 * thousands of events).  A value within the limits is kept as given.
 * Cutting needs the database encoding: a value set before a database is
 * chosen (the server's configuration file, read by the postmaster), or
 * one of the server's configuration that is not valid text there, is
 * kept whole, and cut by the event builder each time.
 */
static bool
bh_encoding_known(void)
{
	return IsUnderPostmaster && OidIsValid(MyDatabaseId);
}

/*
 * Replace a setting's new value with a copy of s, malloc'd as PostgreSQL
 * 15's settings are (the old value is freed).
 */
static bool
bh_replace_newval(char **newval, const char *s)
{
	char	   *copy = malloc(strlen(s) + 1);

	if (copy == NULL)
	{
		GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
		GUC_check_errdetail("Out of memory.");
		return false;
	}
	strcpy(copy, s);
	free(*newval);
	*newval = copy;
	return true;
}

/* Is c a blank: a space, a tab or a line break (in every server encoding)? */
static bool
bh_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * The refusal of a context value that shows no character (of blanks only,
 * or of characters that show nothing): 22023 naming the setting, never
 * the value (PostgreSQL's own message would quote it); detail says which.
 * Returns false, for the check hook to return.
 */
static bool
bh_refuse_no_character(const char *name, const char *detail)
{
	GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
	GUC_check_errmsg("%s shows no character", name);
	GUC_check_errdetail("%s", detail);
	GUC_check_errhint("Set it to an empty string (or RESET it) to leave it unstated.");
	return false;
}

/*
 * A value made only of blanks names nobody: an actor "   " is one an
 * access review ("all actions of user Y") cannot name, and a correlation
 * id of blanks ties nothing together.  '' says "not stated" (the actor is
 * then the login); blanks are not taken as that either, silently: refused
 * when set (22023), as emit() refuses a resource_type that shows no
 * character, naming the setting and never the value (PostgreSQL's own
 * message would quote it).  From the server's configuration, as for any
 * refused value, PostgreSQL warns and keeps the previous one.  A value
 * with blanks around words is kept as given.
 */
static bool
bh_check_not_blank(const char *name, const char *newval)
{
	const char *p;

	if (newval == NULL || newval[0] == '\0')
		return true;
	for (p = newval; *p; p++)
		if (!bh_blank(*p))
			return true;
	return bh_refuse_no_character(name, "It holds only spaces, tabs or line breaks.");
}

/*
 * Nor does a value name anybody that shows no character at all: no-break
 * or ideographic spaces, zero-width characters, U+FEFF, U+2060 and the
 * other characters that resource_type's check reads as nothing
 * (bh_text_shows_nothing), with or without ASCII blanks among them.
 * Refused as blanks are, with its own detail.  Whether a character shows
 * depends on the encoding: the byte 0xA0 is a no-break space in LATIN1, a
 * character's second byte in UTF-8; so the value is read as the ledger
 * will read it, where that is known:
 *	- in a backend connected to its database (bh_encoding_known), for a
 *	  value valid there;
 *	- not for a value of the server's configuration (postgresql.conf and
 *	  the files it includes, postgresql.auto.conf, the command line).  The
 *	  postmaster reads it before any database is chosen, for databases of
 *	  every encoding, and a backend's refusal at a reload would keep its
 *	  value before while the backends started after it inherit the
 *	  postmaster's: such a value is checked for ASCII blanks only
 *	  (bh_check_not_blank, in every process and encoding);
 *	- outside a transaction (where, but for a background worker's own
 *	  settings, only the server's configuration reaches a check hook: a
 *	  reload) the catalog cannot be read for a conversion: only a UTF-8 or
 *	  SQL_ASCII database's text, which needs none, is read; another
 *	  encoding's is taken as it is.
 * Scanned only once the value is within the limits (the caller's cut), so
 * that a long value costs no more than the limit: a cut value ends in
 * "...", which shows.  actor_roles' entries that show nothing are skipped
 * where such a value would be refused (bh_check_actor_roles).
 */

/* Is newval, being set from source, read for characters that show? */
static bool
bh_invisible_read(const char *newval, GucSource source)
{
	int			encoding = GetDatabaseEncoding();

	if (source <= PGC_S_ARGV || !bh_encoding_known() || !bh_event_text_valid(newval))
		return false;
	if (encoding != PG_UTF8 && encoding != PG_SQL_ASCII && !IsTransactionState())
		return false;
	return true;
}

/* Refuse newval if it is so read and shows no character. */
static bool
bh_check_shows_character(const char *name, const char *newval, GucSource source)
{
	if (newval == NULL || newval[0] == '\0' || !bh_invisible_read(newval, source))
		return true;
	if (!bh_text_shows_nothing(newval))
		return true;
	return bh_refuse_no_character(name, "It holds only spaces or invisible characters.");
}

static bool
bh_check_context_text(const char *name, char **newval, void **extra, GucSource source,
					  int maxchars)
{
	const char *cut;
	bool		ok;

	if (!bh_check_event_text(newval, extra, source))
		return false;
	if (!bh_check_not_blank(name, *newval))
		return false;
	if (*newval == NULL || !bh_encoding_known() || !bh_event_text_valid(*newval))
		return true;
	if (strlen(*newval) > maxchars)
	{
		cut = bh_truncate(*newval, maxchars);
		if (cut != *newval)
		{
			/* cut: ends in "...", which shows */
			ok = bh_replace_newval(newval, cut);
			pfree((char *) cut);
			return ok;
		}
	}
	/* no longer than maxchars characters */
	return bh_check_shows_character(name, *newval, source);
}

/*
 * One check hook per setting (a hook is not told which setting it checks,
 * and a refusal names it): actor_id and the correlation ids are cut to 256
 * characters, the organization ids to 128.
 */
static bool
bh_check_actor_id(char **newval, void **extra, GucSource source)
{
	return bh_check_context_text("bh_audit.actor_id", newval, extra, source, 256);
}

static bool
bh_check_actor_org_id(char **newval, void **extra, GucSource source)
{
	return bh_check_context_text("bh_audit.actor_org_id", newval, extra, source, 128);
}

static bool
bh_check_owner_org_id(char **newval, void **extra, GucSource source)
{
	return bh_check_context_text("bh_audit.owner_org_id", newval, extra, source, 128);
}

static bool
bh_check_request_id(char **newval, void **extra, GucSource source)
{
	return bh_check_context_text("bh_audit.request_id", newval, extra, source, 256);
}

static bool
bh_check_trace_id(char **newval, void **extra, GucSource source)
{
	return bh_check_context_text("bh_audit.trace_id", newval, extra, source, 256);
}

static bool
bh_check_session_id(char **newval, void **extra, GucSource source)
{
	return bh_check_context_text("bh_audit.session_id", newval, extra, source, 256);
}

/*
 * Does role, an entry of actor_roles within the limit, show no character
 * (bh_text_shows_nothing)?  Read in scratch, reset after each: a list may
 * hold millions of entries.
 */
static bool
bh_role_shows_nothing(const char *role, MemoryContext scratch)
{
	MemoryContext old;
	bool		nothing;

	old = MemoryContextSwitchTo(scratch);
	nothing = bh_text_shows_nothing(role);
	MemoryContextSwitchTo(old);
	MemoryContextReset(scratch);
	return nothing;
}

/*
 * The roles a comma-separated list gives an event, at most BH_MAX_ROLES,
 * each cut to 64 characters, blanks (spaces, tabs, line breaks) around
 * them trimmed, empty entries skipped; tokenizes list in place.  A list of
 * blanks and commas only gives no roles: the list is one value among the
 * roles, and an entry of blanks is skipped as an empty one is (not refused).
 * With skip_invisible, so is an entry that shows no character (a no-break
 * or zero-width space, ...): a role nobody can read in an access review.
 * Whether a list is so read is known where it is set (bh_invisible_read,
 * see bh_check_actor_roles).  A cut entry ends in "...", which shows.
 * Skipped entries take none of the BH_MAX_ROLES places.
 */
static List *
bh_roles_of(char *list, bool skip_invisible)
{
	List	   *roles = NIL;
	char	   *tok;
	char	   *save = NULL;
	MemoryContext scratch = NULL;

	if (skip_invisible)
		scratch = AllocSetContextCreate(CurrentMemoryContext, "bh_audit role read",
										ALLOCSET_SMALL_SIZES);
	for (tok = strtok_r(list, ",", &save); tok && list_length(roles) < BH_MAX_ROLES;
		 tok = strtok_r(NULL, ",", &save))
	{
		char	   *end;
		const char *role;

		/*
		 * Where a list is set (skip_invisible), any role may give one of
		 * millions of entries, each read (bh_role_shows_nothing): a cancel or
		 * statement_timeout ends the SET meanwhile.  Not where an event is
		 * built: it reads the roles kept, or a list of 8 kB at most but for
		 * one of the server's configuration (bh_check_actor_roles).
		 */
		if (skip_invisible)
			CHECK_FOR_INTERRUPTS();
		while (bh_blank(*tok))
			tok++;
		end = tok + strlen(tok);
		while (end > tok && bh_blank(end[-1]))
			*--end = '\0';
		if (*tok == '\0')
			continue;
		role = bh_truncate(tok, 64);
		if (skip_invisible && role == tok && bh_role_shows_nothing(tok, scratch))
			continue;
		roles = lappend(roles, (char *) role);
	}
	if (scratch != NULL)
		MemoryContextDelete(scratch);
	return roles;
}

/*
 * The roles events take (bh_check_actor_roles' extra, joined by commas),
 * or NULL: they take them from the value.
 */
static const char *bh_actor_roles_kept = NULL;

/*
 * actor_roles: entries that show no character are skipped where the list
 * is read so (bh_invisible_read: set in a backend of a database, valid
 * there, not from the server's configuration), which only the check hook
 * knows (a value's source is not at hand where an event is built): the
 * roles an event takes are then read here, once, and kept as the value's
 * extra, joined by commas (which gives the same roles again), which the
 * events take instead of the value.  The value itself is kept as given,
 * as one with entries of blanks is.  But a list longer than
 * BH_ROLES_KEPT_BYTES is replaced by the roles an event takes from it:
 * shorter ones cost little to read.
 */
#define BH_ROLES_KEPT_BYTES 8192

static bool
bh_check_actor_roles(char **newval, void **extra, GucSource source)
{
	MemoryContext cxt;
	MemoryContext old;
	StringInfoData kept;
	ListCell   *lc;
	bool		skip_invisible;
	bool		ok;

	if (!bh_check_event_text(newval, extra, source))
		return false;
	if (*newval == NULL || !bh_encoding_known() || !bh_event_text_valid(*newval))
		return true;
	skip_invisible = bh_invisible_read(*newval, source);
	if (!skip_invisible && strlen(*newval) <= BH_ROLES_KEPT_BYTES)
		return true;
	cxt = AllocSetContextCreate(CurrentMemoryContext, "bh_audit roles",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	initStringInfo(&kept);
	foreach(lc, bh_roles_of(pstrdup(*newval), skip_invisible))
	{
		if (kept.len > 0)
			appendStringInfoChar(&kept, ',');
		appendStringInfoString(&kept, (char *) lfirst(lc));
	}
	MemoryContextSwitchTo(old);
	if (strlen(*newval) > BH_ROLES_KEPT_BYTES)
		ok = bh_replace_newval(newval, kept.data);
	else
	{
		/* malloc'd, as PostgreSQL 15 frees a setting's extra */
		*extra = malloc(kept.len + 1);
		ok = (*extra != NULL);
		if (ok)
			memcpy(*extra, kept.data, kept.len + 1);
		else
		{
			GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
			GUC_check_errdetail("Out of memory.");
		}
	}
	MemoryContextDelete(cxt);
	return ok;
}

/* actor_roles' assign hook: the roles its check kept, if any. */
static void
bh_assign_actor_roles(const char *newval, void *extra)
{
	bh_assign_event_text(newval, extra);
	bh_actor_roles_kept = (const char *) extra;
}

/*
 * actor_type: empty, human or service.  A value of blanks or of invisible
 * characters is refused as by the others, and told as such; one longer
 * than BH_ACTOR_TYPE_SCANNED_BYTES is not scanned for them (any role may
 * set it, to hundreds of megabytes): it is refused as neither word.
 */
#define BH_ACTOR_TYPE_SCANNED_BYTES 1024

static bool
bh_check_actor_type(char **newval, void **extra, GucSource source)
{
	if (!bh_check_not_blank("bh_audit.actor_type", *newval))
		return false;
	if (*newval == NULL || (*newval)[0] == '\0' ||
		strcmp(*newval, "human") == 0 || strcmp(*newval, "service") == 0)
		return true;
	if (strlen(*newval) <= BH_ACTOR_TYPE_SCANNED_BYTES &&
		!bh_check_shows_character("bh_audit.actor_type", *newval, source))
		return false;
	GUC_check_errdetail("bh_audit.actor_type must be \"human\" or \"service\".");
	return false;
}

/*
 * service_roles: a list PostgreSQL can split, as for its own list settings.
 * One it cannot (an empty entry, a quote left open) would match no role,
 * the well-formed names in it included.
 */
static bool
bh_check_role_list(char **newval, void **extra, GucSource source)
{
	char	   *copy;
	List	   *names = NIL;
	bool		ok;

	if (*newval == NULL)
		return true;
	copy = pstrdup(*newval);
	ok = SplitIdentifierString(copy, ',', &names);
	list_free(names);
	pfree(copy);
	if (!ok)
		GUC_check_errdetail("bh_audit.service_roles must be a comma-separated list of role names, with no empty entry and no quote left open.");
	return ok;
}

static void
bh_define_context_setting(const char *name, const char *desc, char **var,
						  GucStringCheckHook check)
{
	DefineCustomStringVariable(name, desc, NULL, var, "", PGC_USERSET, 0,
							   check, bh_assign_event_text, NULL);
}

/* Define the context settings. */
void
bh_context_init(void)
{
	bh_define_context_setting("bh_audit.actor_id",
							  "End user the application acts for (actor.subject_id); empty means the database login.",
							  &bh_actor_id, bh_check_actor_id);
	bh_define_context_setting("bh_audit.actor_type",
							  "Kind of end user: human or service (actor.subject_type).",
							  &bh_actor_type, bh_check_actor_type);
	DefineCustomStringVariable("bh_audit.actor_roles",
							   "Comma-separated roles of the end user (actor.roles).",
							   NULL, &bh_actor_roles, "", PGC_USERSET, 0,
							   bh_check_actor_roles, bh_assign_actor_roles, NULL);
	bh_define_context_setting("bh_audit.actor_org_id",
							  "Organization of the end user (actor.org_id).",
							  &bh_actor_org_id, bh_check_actor_org_id);
	bh_define_context_setting("bh_audit.owner_org_id",
							  "Organization that owns the data accessed (actor.owner_org_id).",
							  &bh_owner_org_id, bh_check_owner_org_id);
	bh_define_context_setting("bh_audit.request_id",
							  "Request id (correlation.request_id).",
							  &bh_request_id, bh_check_request_id);
	bh_define_context_setting("bh_audit.trace_id",
							  "Trace id (correlation.trace_id).",
							  &bh_trace_id, bh_check_trace_id);
	bh_define_context_setting("bh_audit.session_id",
							  "Application session id (correlation.session_id).",
							  &bh_session_id, bh_check_session_id);
	DefineCustomStringVariable("bh_audit.service_roles",
							   "Comma-separated database roles recorded as services, not humans, when no actor is stated.",
							   NULL, &bh_service_roles, "", PGC_SUSET, 0,
							   bh_check_role_list, NULL, NULL);
}

static bool
bh_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* Is role listed in the comma-separated list? */
static bool
bh_role_listed(const char *list, const char *role)
{
	char	   *copy;
	List	   *names;
	ListCell   *lc;
	bool		found = false;

	if (!bh_set(list))
		return false;
	copy = pstrdup(list);
	if (!SplitIdentifierString(copy, ',', &names))
		return false;
	foreach(lc, names)
	{
		if (strcmp((char *) lfirst(lc), role) == 0)
			found = true;
	}
	return found;
}

/* "correlation": {...}, if any correlation id is set. */
void
bh_context_push_correlation(BhJbObject *event)
{
	/* in jsonb's key order (see bh_event_build) */
	const char *names[3] = {"trace_id", "request_id", "session_id"};
	const char *values[3] = {bh_event_text(BH_TEXT_TRACE_ID),
	bh_event_text(BH_TEXT_REQUEST_ID), bh_event_text(BH_TEXT_SESSION_ID)};
	BhJbObject	correlation;
	int			i;

	if (!bh_set(values[0]) && !bh_set(values[1]) && !bh_set(values[2]))
		return;
	bh_jb_begin(&correlation, NULL, 3);
	for (i = 0; i < 3; i++)
	{
		if (bh_set(values[i]))
			bh_jb_field(&correlation, names[i], bh_truncate(values[i], 256));
	}
	bh_jb_object(event, "correlation", &correlation);
}

/*
 * "actor": {...} from the context, or the login.  owner_org_id only when
 * the event's version has it (not 1.0).
 */
void
bh_context_push_actor(BhJbObject *event, const char *db_user, bool with_owner_org)
{
	const char *actor_id = bh_event_text(BH_TEXT_ACTOR_ID);
	const char *org_id = bh_event_text(BH_TEXT_ACTOR_ORG_ID);
	const char *owner_org_id = bh_event_text(BH_TEXT_OWNER_ORG_ID);
	const char *roles_list = bh_actor_roles_kept != NULL ? bh_actor_roles_kept :
	bh_event_text(BH_TEXT_ACTOR_ROLES);
	const char *subject_type;
	BhJbObject	actor;

	bh_jb_begin(&actor, NULL, 5);
	if (bh_set(actor_id))
	{
		bh_jb_field(&actor, "subject_id", bh_truncate(actor_id, 256));
		subject_type = bh_set(bh_actor_type) ? bh_actor_type : "human";
	}
	else
	{
		bh_jb_field(&actor, "subject_id", bh_truncate(db_user, 256));
		subject_type = bh_set(bh_actor_type) ? bh_actor_type :
			(bh_role_listed(bh_service_roles, db_user) ? "service" : "human");
	}
	bh_jb_field(&actor, "subject_type", subject_type);
	if (bh_set(org_id))
		bh_jb_field(&actor, "org_id", bh_truncate(org_id, 128));
	if (with_owner_org && bh_set(owner_org_id))
		bh_jb_field(&actor, "owner_org_id", bh_truncate(owner_org_id, 128));
	if (bh_set(roles_list))
	{
		List	   *roles = bh_roles_of(pstrdup(roles_list), false);

		if (roles != NIL)
		{
			JsonbValue	array;
			ListCell   *lc;
			int			n = 0;

			array.type = jbvArray;
			array.val.array.rawScalar = false;
			array.val.array.elems = palloc(sizeof(JsonbValue) * list_length(roles));
			foreach(lc, roles)
			{
				JsonbValue *elem = &array.val.array.elems[n++];

				elem->type = jbvString;
				elem->val.string.val = (char *) lfirst(lc);
				elem->val.string.len = strlen(elem->val.string.val);
			}
			array.val.array.nElems = n;
			bh_jb_put(&actor, "roles", strlen("roles"), &array);
		}
	}
	bh_jb_object(event, "actor", &actor);
}

/*
 * "actor" of what the server does itself, whatever the session's context
 * says: BH_SERVER_ACTOR, a service (as the sealer's own events name it).
 */
void
bh_context_push_server_actor(BhJbObject *event)
{
	BhJbObject	actor;

	bh_jb_begin(&actor, NULL, 2);
	bh_jb_field(&actor, "subject_id", BH_SERVER_ACTOR);
	bh_jb_field(&actor, "subject_type", "service");
	bh_jb_object(event, "actor", &actor);
}

/* Set one context setting for the current transaction (SET LOCAL). */
static void
bh_set_local(const char *name, const char *value)
{
	(void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
}

/* The text argument n, or NULL. */
static char *
bh_arg_text(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

PG_FUNCTION_INFO_V1(bh_audit_set_context);

/*
 * Whether set_context() is called directly by a statement the client sent
 * on its own, outside a transaction block: that transaction ends with the
 * statement, and the context with it (PostgreSQL's SET LOCAL warns there,
 * WarnNoTransactionBlock()).  Not so in a transaction block, in the
 * implicit one of a string of several statements sent at once (the context
 * holds for the statements after it), nor inside a utility statement (CALL,
 * DO, ...; a client's EXECUTE of a prepared statement is the statement it
 * names, sent on its own) or a function of a procedural or SQL language, SPI and
 * the like (each pushes an error context; the statement itself pushes none
 * but bh_audit's error watch): the function may go on with the context.
 */
static bool
bh_context_call_ends_with_statement(void)
{
	return !IsTransactionBlock() && !IsSubTransaction() &&
		bh_utility_client_level() && bh_error_context_bare();
}

/*
 * bh_audit.set_context(actor_id, actor_type, roles, org_id, owner_org_id,
 *						request_id, trace_id, session_id): set the given
 * context values for the current transaction; NULL leaves one unchanged.
 * Called on its own outside a transaction block, it sets the values for the
 * rest of its statement and warns as SET LOCAL does there (25P01).
 */
Datum
bh_audit_set_context(PG_FUNCTION_ARGS)
{
	static const char *const names[] = {
		"bh_audit.actor_id", "bh_audit.actor_type", NULL, "bh_audit.actor_org_id",
		"bh_audit.owner_org_id", "bh_audit.request_id", "bh_audit.trace_id",
		"bh_audit.session_id"
	};
	int			i;

	bh_require_preload();
	for (i = 0; i < 8; i++)
	{
		if (PG_ARGISNULL(i))
			continue;
		if (i == 2)
		{
			ArrayType  *roles = PG_GETARG_ARRAYTYPE_P(2);
			Datum	   *elems;
			bool	   *nulls;
			int			n,
						j;
			StringInfoData list;

			deconstruct_array(roles, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
			initStringInfo(&list);
			for (j = 0; j < n; j++)
			{
				char	   *r;

				if (nulls[j])
					continue;
				r = TextDatumGetCString(elems[j]);
				if (strchr(r, ',') != NULL)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("a role name must not contain a comma")));
				if (list.len > 0)
					appendStringInfoChar(&list, ',');
				appendStringInfoString(&list, r);
			}
			bh_set_local("bh_audit.actor_roles", list.data);
		}
		else
			bh_set_local(names[i], bh_arg_text(fcinfo, i));
	}
	/* once the values are taken: a refused one is the error alone */
	if (bh_context_call_ends_with_statement())
		ereport(WARNING,
				(errcode(ERRCODE_NO_ACTIVE_SQL_TRANSACTION),
				 errmsg("bh_audit.set_context() can only be used in transaction blocks"),
				 errdetail("Outside a transaction block the context ends with this statement; the statements after it record the login as the actor."),
				 errhint("Call it after BEGIN, in the transaction it describes. SET without LOCAL would state the context for the whole server session, and for every client a connection pooler hands that session to.")));
	PG_RETURN_VOID();
}
