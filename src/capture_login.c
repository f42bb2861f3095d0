/*-------------------------------------------------------------------------
 *
 * capture_login.c
 *		Logins: with bh_audit.log_connections, every attempt to start a
 *		session is a LOGIN event, SUCCESS or FAILURE.
 *
 * A client's session starts in one transaction: authentication, then the
 * checks of the role (it exists, may log in, is within its connection
 * limit, the slots reserved for superusers) and of the database (it
 * exists, accepts connections, is within its limit, the role may CONNECT),
 * then the session's settings; the transaction commits only when all of
 * them passed, and a refusal anywhere is a FATAL error that ends the
 * process (its abort callbacks still run).  So a login is recorded at the
 * end of that transaction, the first of a client's process:
 *	- committed: SUCCESS.  The event is built when authentication
 *	  succeeded (ClientAuthentication_hook), before the client's startup
 *	  options or the role's and database's settings apply, and pushed at
 *	  the commit;
 *	- aborted: FAILURE.  Its error_type is the condition name of the FATAL
 *	  error's SQLSTATE and its message the error's primary message made
 *	  safe (bh_safe_message: the role's, the database's and the host's
 *	  names are quoted, and emptied), sanitised as every failure's.  No
 *	  abort path can see an error once it is reported, so the login watch
 *	  (emit_log_hook) notes the first FATAL error of the startup, in static
 *	  storage, as PostgreSQL reports it.  This covers the refusals before
 *	  authentication (pg_hba.conf: a reject line, or no line) as well as
 *	  those after it.  A startup that ends without a reported FATAL error
 *	  (one that is not logged, log_min_messages = panic) is a FAILURE
 *	  LoginFailed.
 * Authentication itself is seen by ClientAuthentication_hook: a failed
 * exchange (a wrong password, a failed ident or peer check) is recorded
 * there, as AuthenticationFailed; a client that hung up before it answered
 * the authentication request (libpq with no password to send: psql
 * connects once without one, and again after it asked for it) attempted
 * nothing, and is no event.
 *
 * Whether to record is decided at authentication (or, for a refusal before
 * it, at the abort): a setting that the client's startup options change
 * afterwards changes nothing for its own login.
 *
 * Not covered: refusals before the process has its slot in shared memory
 * (PGPROC) — "sorry, too many clients already", the server starting up,
 * shutting down or in recovery, an invalid startup packet.  They come
 * before any transaction, and the ring cannot be waited on without a slot.
 *
 * Nothing here raises: events go to the ring with its nothrow push, from
 * the authentication hook and the end of the startup transaction.
 *
 * The role's and the database's names are the bytes of the startup
 * packet, in whatever encoding the client used (PostgreSQL converts
 * nothing there), which match the catalog's in whatever encoding the name
 * was created in.  An event goes to the ring as of the encoding it was
 * built in, in which bh_truncate() cut its strings: before the database is
 * chosen (authentication, a refusal before it) PG_SQL_ASCII, bytes of
 * unknown encoding, which the sealer takes as UTF-8 where they are, and
 * otherwise as U+FFFD (recode.c); after it (a refusal of the client's
 * startup options) the database's encoding, as PostgreSQL takes the names
 * there, each byte that starts no character of it replaced
 * (bh_recode_server_repair: U+FFFD in a UTF-8 database, '?' in another),
 * as the sealer takes an event in its own encoding as it is.  So in a UTF-8
 * database both events of a login give the same name; in another (LATIN1)
 * a non-ASCII name differs: the SUCCESS event reads it as UTF-8, the
 * FAILURE as the database's text ('jos\xc3\xa9': 'josé' and 'josÃ©';
 * 'jos\xe9': 'jos' U+FFFD and 'josé').  Reading it as UTF-8 there would
 * need the conversion from UTF-8, which the abort path cannot look up.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/ip.h"
#include "libpq/auth.h"
#include "libpq/libpq-be.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "bh_audit.h"
#include "capture.h"
#include "event.h"
#include "recode.h"
#include "ring.h"

/* Settings */
static bool bh_log_connections = false;

/* The longest safe message of a refusal kept. */
#define BH_LOGIN_MESSAGE	256

/* How far authentication got. */
typedef enum BhAuth
{
	BH_AUTH_NOT_YET,			/* not reached, or refused before it */
	BH_AUTH_OK,					/* succeeded: the session may start */
	BH_AUTH_DONE				/* failed (recorded) or abandoned by the
								 * client */
} BhAuth;

/* This process's login (static: the abort path may not allocate much). */
static struct
{
	bool		over;			/* the startup transaction ended */
	BhAuth		auth;
	bool		record;			/* log_connections, as authentication saw it */
	Jsonb	   *success;		/* the SUCCESS event, built at authentication */
	int			success_encoding;	/* the encoding it was built in */
	bool		noted;			/* a FATAL error was reported */
	int			sqlerrcode;
	char		message[BH_LOGIN_MESSAGE];
}			bh_login;

static MemoryContext bh_login_cxt = NULL;

static ClientAuthentication_hook_type prev_ClientAuthentication = NULL;
static emit_log_hook_type prev_emit_log_hook = NULL;

/* Is this a client's process whose session has not started yet? */
static bool
bh_login_starting(void)
{
	return MyProcPort != NULL && !bh_login.over;
}

/*
 * A LOGIN event of this process's client: role, database, address.  The
 * address is numeric ("[local]" for a Unix socket) whatever log_hostname
 * says: with it on, port->remote_host is the name the address's reverse
 * DNS gives, which whoever controls that DNS chooses.
 */
static Jsonb *
bh_login_event(const char *outcome, const char *error_type, const char *message)
{
	Port	   *port = MyProcPort;
	BhEvent		ev;
	char		host[NI_MAXHOST];
	char	   *role;

	if (pg_getnameinfo_all(&port->raddr.addr, port->raddr.salen,
						   host, sizeof(host), NULL, 0,
						   NI_NUMERICHOST | NI_NUMERICSERV) != 0 || host[0] == '\0')
		strlcpy(host, "unknown", sizeof(host));

	/* the names as text of the encoding the event is built in */
	role = bh_recode_server_repair(port->user_name, strlen(port->user_name));
	bh_event_init(&ev, "LOGIN", "Session");
	ev.db_user = role;
	ev.phi_touched = 0;
	ev.data_classification = "NONE";
	ev.outcome = outcome;
	ev.error_type = error_type;
	ev.error_message = message;
	bh_event_meta_string(&ev, "role", role);
	if (port->database_name && port->database_name[0])
		bh_event_meta_string(&ev, "database",
							 bh_recode_server_repair(port->database_name,
													 strlen(port->database_name)));
	bh_event_meta_string(&ev, "client_addr", host);
	return bh_event_build(&ev, NULL);
}

/* Memory for the events built here, kept until the login is recorded. */
static MemoryContext
bh_login_context(void)
{
	if (bh_login_cxt == NULL)
		bh_login_cxt = AllocSetContextCreate(TopMemoryContext, "bh_audit login",
											 ALLOCSET_SMALL_SIZES);
	return bh_login_cxt;
}

/* Authentication went as status says. */
static void
bh_client_authentication(Port *port, int status)
{
	if (prev_ClientAuthentication)
		prev_ClientAuthentication(port, status);
	bh_error_watch_install();	/* before the session's first statement */

	if (port == NULL || port->user_name == NULL || !bh_login_starting())
		return;
	bh_login.record = bh_log_connections;
	if (status == STATUS_OK)
	{
		bh_login.auth = BH_AUTH_OK;
		if (bh_login.record)
		{
			MemoryContext old = MemoryContextSwitchTo(bh_login_context());

			bh_login.success = bh_login_event("SUCCESS", NULL, NULL);
			bh_login.success_encoding = GetDatabaseEncoding();
			MemoryContextSwitchTo(old);
		}
		return;
	}

	/*
	 * failed, and PostgreSQL refuses it next; a client that hung up tried
	 * nothing
	 */
	bh_login.auth = BH_AUTH_DONE;
	if (bh_login.record && status != STATUS_EOF)
	{
		MemoryContext old = MemoryContextSwitchTo(bh_login_context());

		(void) bh_ring_push_jsonb_nothrow(bh_login_event("FAILURE", "AuthenticationFailed",
														 "authentication failed"),
										  GetDatabaseEncoding());
		MemoryContextSwitchTo(old);
		MemoryContextReset(bh_login_cxt);
	}
}

/*
 * The login watch: the first FATAL error reported while a client's session
 * starts is what refused it.  Allocates nothing.
 */
static void
bh_login_emit_log(ErrorData *edata)
{
	if (edata->elevel == FATAL && !bh_login.noted && bh_login_starting())
	{
		bh_safe_message(edata->message, edata->message_id, edata->domain, bh_login.message,
						sizeof(bh_login.message));
		bh_login.sqlerrcode = edata->sqlerrcode;
		bh_login.noted = true;
	}
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/*
 * Is a login whose start was refused to be recorded now?  (A failed
 * authentication was recorded by the hook.)
 */
static bool
bh_login_failure_to_record(void)
{
	if (bh_login.auth == BH_AUTH_OK)
		return bh_login.record;
	/* refused before authentication: the server's setting */
	return bh_login.auth == BH_AUTH_NOT_YET && bh_log_connections &&
		MyProcPort->user_name != NULL;
}

/* The end of the startup transaction: the session started, or not. */
static void
bh_login_xact_callback(XactEvent event, void *arg)
{
	MemoryContext old;

	if ((event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT) || !bh_login_starting())
		return;
	bh_login.over = true;
	old = MemoryContextSwitchTo(bh_login_context());
	if (event == XACT_EVENT_COMMIT)
	{
		if (bh_login.success != NULL)
			(void) bh_ring_push_jsonb_nothrow(bh_login.success,
											  bh_login.success_encoding);
	}
	else if (bh_login_failure_to_record())
	{
		Jsonb	   *failure;

		if (bh_login.noted)
			failure = bh_login_event("FAILURE", bh_sqlstate_name(bh_login.sqlerrcode),
									 bh_login.message);
		else
			failure = bh_login_event("FAILURE", "LoginFailed", "login failed");
		/* built now: in the database's encoding once it was chosen */
		(void) bh_ring_push_jsonb_nothrow(failure, GetDatabaseEncoding());
	}
	MemoryContextSwitchTo(old);
	bh_login.success = NULL;
	MemoryContextDelete(bh_login_cxt);
	bh_login_cxt = NULL;
}

/* Define the login setting and install the hooks. */
void
bh_capture_login_init(void)
{
	DefineCustomBoolVariable("bh_audit.log_connections",
							 "Record every login attempt as a LOGIN event.",
							 NULL, &bh_log_connections, false,
							 PGC_SUSET, 0, NULL, NULL, NULL);

	prev_ClientAuthentication = ClientAuthentication_hook;
	ClientAuthentication_hook = bh_client_authentication;
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = bh_login_emit_log;
	RegisterXactCallback(bh_login_xact_callback, NULL);
}
