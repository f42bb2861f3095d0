/*-------------------------------------------------------------------------
 *
 * event.h
 *		The event under construction and its builder.
 *
 * Every event bh_audit makes (emit(), write capture, later read capture)
 * fills a BhEvent and hands it to bh_event_build(), which adds what comes
 * from the server and the session (event_id, timestamp, service, actor,
 * correlation, the metadata keys the extension always sets) and returns
 * the event as jsonb, laid out directly as a tree of values in jsonb's
 * order (no JSON text is made and parsed, no keys sorted), ready to be
 * validated and queued or pushed to the ring.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_EVENT_H
#define BH_AUDIT_EVENT_H

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

/* Metadata the extension sets itself (never PHI: names, counts, flags). */
#define BH_MAX_OWN_METADATA 12

typedef enum BhMetaType
{
	BH_META_STRING,
	BH_META_INT,
	BH_META_BOOL
} BhMetaType;

typedef struct BhMetaItem
{
	const char *key;
	BhMetaType	type;
	const char *str;
	int64		num;
	bool		flag;
} BhMetaItem;

typedef struct BhEvent
{
	const char *action;			/* ActionType */
	const char *action_name;	/* NULL: none */
	int			phi_touched;	/* -1 unset, 0 false, 1 true */
	const char *data_classification;	/* NULL: none */
	const char *resource_type;
	const char *resource_id;	/* NULL: none */
	const char *patient_id;		/* NULL: none */
	const char *outcome;		/* OutcomeStatus */
	const char *error_type;		/* NULL: none */
	const char *error_message;	/* NULL: none (sanitised when built) */
	Jsonb	   *user_metadata;	/* caller's metadata (emit), or NULL */
	const char *db_user;		/* the login; NULL: the session user */
	const char *db_role;		/* the role it ran as (bh_current_role_warm):
								 * "" the login; NULL: the current role */
	bool		by_server;		/* the server's own doing: actor
								 * BH_SERVER_ACTOR, no end-user context */
	int			nmeta;
	BhMetaItem	meta[BH_MAX_OWN_METADATA];
} BhEvent;

/* Action, outcome and classification vocabularies of the schema. */
extern const char *const bh_action_types[];
extern const char *const bh_outcome_statuses[];
extern const char *const bh_data_classifications[];
extern bool bh_in_list(const char *s, const char *const *list);

/* The actor of what the server does itself (a service) */
#define BH_SERVER_ACTOR				"postgresql-server"

/* Resource types of the events bh_audit records about itself. */
#define BH_RESOURCE_AUDIT_LOG		"AuditLog"
#define BH_RESOURCE_AUDIT_CONFIG	"AuditConfiguration"
extern void bh_check_resource_type_free(const char *resource_type);
extern bool bh_text_shows_nothing(const char *s);

extern void bh_event_init(BhEvent *ev, const char *action, const char *resource_type);
extern void bh_config_event_init(BhEvent *ev, const char *action, const char *resource_id,
								 const char *change);
extern void bh_event_meta_string(BhEvent *ev, const char *key, const char *value);
extern void bh_event_meta_int(BhEvent *ev, const char *key, int64 value);
extern void bh_event_meta_bool(BhEvent *ev, const char *key, bool value);

/*
 * The server's clean-up of the temporary objects a crashed session left
 * behind (config_guard.c's bh_temp_cleanup()): the schema cleaned out
 * (NULL: not known, autovacuum dropping an orphaned table on its own) and
 * what set it off (the login of the next session given the schema, or
 * "autovacuum").
 */
typedef struct BhTempCleanup
{
	const char *schema;
	const char *triggered_by;
} BhTempCleanup;
extern void bh_event_temp_cleanup(BhEvent *ev, const BhTempCleanup *cleanup);

/* The session user's name, cached (safe to call in abort paths once warm). */
extern const char *bh_session_user_name(void);
extern bool bh_session_user_known(void);

/*
 * Note the name of the role statements run as now, if not the login, and
 * return it ("" for the login, NULL when it cannot be known).
 */
extern const char *bh_current_role_warm(void);

/* The same, never reading the catalog (NULL when not noted before). */
extern const char *bh_current_role_known(void);
extern const char *bh_role_known(Oid role);
extern const char *bh_current_user_known(void);

/* The complete event as jsonb (without integrity). */
extern Jsonb *bh_event_build(BhEvent *ev, char *event_id_out);

/*
 * An object of an event under construction: a jbvObject whose pairs are
 * kept in jsonb's key order (shorter keys first, then bytewise), each key
 * once, so that it serialises as it stands (into the bytes
 * JsonbValueToJsonb() would make of it: bh_event_build).  A key put
 * again replaces the value it had, as the later of two equal keys wins in
 * JSON that jsonb parses.  Keys and string values are not copied: they
 * must last until the event is serialised.
 */
typedef struct BhJbObject
{
	JsonbValue	value;			/* jbvObject */
	int			size;			/* room for pairs */
	bool		callers_room;	/* the room is the caller's (not palloc'd) */
} BhJbObject;

/*
 * An empty object with room for size pairs: the caller's room (an array
 * that lasts until the event is serialised), or palloc'd when room is
 * NULL.  More pairs are made room for.
 */
extern void bh_jb_begin(BhJbObject *obj, JsonbPair *room, int size);
extern void bh_jb_put(BhJbObject *obj, const char *key, int keylen, const JsonbValue *value);
extern void bh_jb_int(BhJbObject *obj, const char *key, int64 n);

/* (inline: the length of a literal key is known when compiled) */

/* "key": "value" */
static inline void
bh_jb_field(BhJbObject *obj, const char *key, const char *value)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) value;
	v.val.string.len = strlen(value);
	bh_jb_put(obj, key, strlen(key), &v);
}

static inline void
bh_jb_bool(BhJbObject *obj, const char *key, bool b)
{
	JsonbValue	v;

	v.type = jbvBool;
	v.val.boolean = b;
	bh_jb_put(obj, key, strlen(key), &v);
}

/* "key": {...}, an object complete (its pairs are not copied). */
static inline void
bh_jb_object(BhJbObject *obj, const char *key, const BhJbObject *child)
{
	bh_jb_put(obj, key, strlen(key), &child->value);
}

/*
 * Longest patient id kept, in characters (the schema's limit on
 * resource.patient_id): events, read sets and the moved-rows note cut it
 * alike, so that reads and writes of one patient carry the same id.
 */
#define BH_PATIENT_ID_CHARS 256

/*
 * s cut to at most maxchars characters, ending in "..." when cut (a
 * palloc'd copy); s itself when it needs no cut.
 */
extern const char *bh_truncate(const char *s, int maxchars);

#endif							/* BH_AUDIT_EVENT_H */
