/*-------------------------------------------------------------------------
 *
 * bh_audit.h
 *		Declarations shared by the modules of bh_audit: settings, module
 *		entry points called from _PG_init, and small common helpers.
 *
 * Each module owns its state; bh_audit.c only defines the settings and
 * calls each module's Init/shmem functions in order.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_H
#define BH_AUDIT_H

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/plannodes.h"
#include "storage/lock.h"
#include "utils/guc.h"
#include "utils/jsonb.h"

/* Hash algorithms of the chain (values of bh_audit.hash_algorithm). */
typedef enum BhHashAlg
{
	BH_HASH_SHA256,
	BH_HASH_SHA384,
	BH_HASH_SHA512
} BhHashAlg;

/* Longest hex digest (SHA-512) plus terminator. */
#define BH_MAX_HEX_LEN	(128 + 1)

/* Settings (bh_audit.c) */
extern char *bh_database;
extern int	bh_hash_algorithm;
extern char *bh_service_name;
extern char *bh_service_environment;
extern char *bh_service_version;
extern int	bh_seal_batch_size;
extern bool bh_loaded_at_startup;

/* bh_audit.c */
extern void bh_require_preload(void);
extern void bh_refuse_in_parallel_worker(const char *func);
extern bool bh_in_sealer_database(void);
extern bool bh_extension_exists(void);
extern Oid	bh_audit_schema(void);
extern Oid	bh_audit_relid(const char *relname);

/*
 * A relation bh_audit.<relname> whose OID a backend keeps: looked up by name
 * when first needed, forgotten on any invalidation of that relation (or a
 * cache reset).  An absent extension is remembered until the next
 * relcache invalidation (CREATE EXTENSION, in any session, makes some), an
 * absent relation of a present extension not at all.  relid may be read
 * where the catalog may not be (InvalidOid: not known now).
 */
typedef struct BhCachedRel
{
	const char *relname;
	Oid			relid;
} BhCachedRel;
extern void bh_cached_rel_register(BhCachedRel *rel);
extern Oid	bh_cached_rel(BhCachedRel *rel);
extern uint64 bh_cached_rels_generation(void);

/*
 * How one of the extension's trigger functions fires (bh_trigger_call):
 * its timing, its level and its events; a group without a bit set is any.
 */
#define BH_TRIG_BEFORE		0x01
#define BH_TRIG_AFTER		0x02
#define BH_TRIG_ROW			0x04
#define BH_TRIG_STATEMENT	0x08
#define BH_TRIG_INSERT		0x10	/* then DELETE, UPDATE, TRUNCATE: */
#define BH_TRIG_DELETE		0x20	/* BH_TRIG_INSERT << TRIGGER_EVENT_* */
#define BH_TRIG_UPDATE		0x40
#define BH_TRIG_TRUNCATE	0x80
struct TriggerData;
extern struct TriggerData *bh_trigger_call(FunctionCallInfo fcinfo, const char *func, int kind,
										   const char *const *tables, int ntables);
extern TimestampTz bh_event_timestamp_parse(const char *s, int len);
extern bool bh_event_timestamp_read(const char *s, int len, TimestampTz *result);
extern int64 bh_monotonic_us(void);

/* stats.c: shared counters */
extern void bh_stats_shmem_request(void);
extern void bh_stats_shmem_startup(void);
extern void bh_stats_add_emitted(uint64 n);
extern void bh_stats_add_sealed(uint64 n, TimestampTz when);
extern void bh_stats_preparing(TransactionId xid, uint64 n);
extern void bh_stats_prepared(TransactionId xid, uint64 n);
extern void bh_stats_prepare_failed(TransactionId xid);
extern uint64 bh_stats_prepared_resolve(void);
extern void bh_stats_add_dropped(uint64 n);
extern uint64 bh_stats_dropped(void);
extern void bh_stats_add_validation_failures(uint64 n);

/* losses.c: events that never reached the chain, recorded in it */
typedef struct BhLosses
{
	uint64		ring_lost;		/* left in the ring when shared memory went */
	uint64		dropped;		/* counted in events_dropped_total */
	uint64		unclean;		/* stops that nothing counted */
	uint64		held;			/* events sessions held, not made yet, when
								 * shared memory went (READ events of read
								 * sets, narrowing records) */
	bool		no_account;		/* a start found no account (until the sealer
								 * looked at the ledger) */
	bool		recovery;		/* the server started in archive recovery */
} BhLosses;
typedef struct BhLossNote
{
	bool		taken;			/* a loss event was made for a batch */
	bool		dismissed;		/* no_account let go of: nothing chained */
	BhLosses	losses;			/* what it reports */
	uint64		dropped_total;	/* events_dropped_total it covers */
} BhLossNote;
extern void bh_losses_shmem_request(void);
extern void bh_losses_shmem_startup(void);
extern bool bh_losses_ledger_asked(void);
extern bool bh_losses_pending(void);
extern Jsonb *bh_losses_event(BhLossNote *note, bool ledger_had_events);
extern void bh_losses_no_ledger(void);
extern void bh_losses_recorded(const BhLossNote *note);
extern void bh_losses_held_reads(int64 n);
extern void bh_losses_held_notes(int64 n);
extern void bh_losses_held_commit(int64 n);

/* sealer.c: the background worker and its hand-off */
struct SnapshotData;
struct TupleTableSlot;
extern void bh_sealer_register(void);
extern void bh_sealer_shmem_request(void);
extern void bh_sealer_shmem_startup(void);
extern void bh_sealer_wake(void);
extern int	bh_sealer_pid(void);
extern char *bh_sealer_absence(void);
extern int	bh_sealer_encoding(void);
extern void bh_chain_lock(Oid events_relid);
extern bool bh_chain_lock_try(Oid events_relid);
extern void bh_last_row(Oid relid, const char *column, LOCKMODE mode, int64 from,
						struct SnapshotData *any,
						void (*fn) (struct TupleTableSlot *slot, Oid relid, void *arg),
						void *arg);

/* seal_wait.c: bh_audit.seal(), and the warning of a read that misses it */
extern void bh_seal_wait_shmem_request(void);
extern void bh_seal_wait_shmem_startup(void);
extern bool bh_seal_unseen;
extern void bh_seal_unseen_read(void);
extern void bh_seal_unseen_worker(void);

/* lock_together.c: take locks together, never waiting while holding one */
extern void bh_lock_together(const LOCKTAG *tags, const LOCKMODE *modes, int n,
							 TimestampTz start);

/* home.c: the ledger's home, the database that last sealed it */
extern void bh_home_init(void);
extern Oid	bh_home_relid(void);
extern bool bh_home_check_due(void);
extern void bh_home_checked(uint64 gen);
extern Jsonb *bh_home_check(int64 head_seq, bool sealing, uint64 *gen);
extern bool bh_home_in_this_cluster(void);
extern void bh_home_mark_carried(bool only_elsewhere);
extern void bh_home_claim(bool commit_prepared);

/* emit.c: transactional event queue */
extern void bh_emit_init(void);
extern bool bh_queue_event(Jsonb *event);
extern bool bh_ring_at_commit(Jsonb *event);
extern void bh_note_narrowing(Jsonb *event, const char *change);
extern void bh_note_narrowing_at(Jsonb *event, const char *change, int level);
extern bool bh_xact_committing(void);
extern uint64 bh_xact_events(void);
extern Oid	bh_queue_relid(void);
extern Oid	bh_queue_seq_relid(void);

/* queue_ids.c: the queue's ids, and the moves of its sequence */
extern void bh_queue_ids_shmem_request(void);
extern void bh_queue_ids_shmem_startup(void);
extern int64 bh_queue_next_id(Oid seqid);
extern void bh_queue_ids_forget_database(Oid dbid);
extern void bh_seq_read(Oid seqid, int64 *last_value, bool *is_called);
extern void bh_seq_move(Oid seqid, int64 value, bool is_called, bool only_up);
extern void bh_queue_step_refuse(const char *seqname) pg_attribute_noreturn();

/* capture_read.c: reads, denials, failures (with capture_failure.c) */
extern bool bh_is_sealer;
extern void bh_capture_read_init(void);
extern void bh_capture_read_warm(void);

/* What read capture notes about a utility statement while it runs. */
typedef struct BhReadUtility
{
	bool		copy_to;		/* a COPY ... TO (an export) */
	bool		explain_only;	/* an EXPLAIN without ANALYZE */
	int			execute_n;		/* EXECUTE of a statement on tagged tables: */
	Oid		   *execute_relids; /* these (execute_n of them), */
	const char **execute_actions;	/* each with its action */
	bool		denial_noted;	/* a TRUNCATE's denial recorded before it ran */
	bool		failed;			/* the statement failed */
	Oid			copy_from_relid;	/* a COPY ... FROM into this tagged table */
	/* a COPY ... FROM: its text, the error context stack as it began, */
	const char *copy_from_query;
	ErrorContextCallback *copy_from_context;
	struct BhReadUtility *copy_from_outer;	/* and the one it runs inside */
} BhReadUtility;
extern void bh_capture_read_utility_begin(PlannedStmt **pstmt, const char *queryString,
										  bool *readOnlyTree, bool isTopLevel,
										  BhReadUtility *state);
extern const BhReadUtility *bh_copy_from_find(const char *sql, bool client);
extern bool bh_copy_from_reading(const BhReadUtility *copy);

/* capture_failure.c: that COPY failed */
extern void bh_failure_copy_from_failed(const BhReadUtility *copy);
extern void bh_capture_read_utility_failed(BhReadUtility *state);
extern void bh_capture_read_utility_end(const BhReadUtility *state);

/* capture_login.c: logins */
extern void bh_capture_login_init(void);

/* capture_write.c / config_guard.c, settings_guard.c: write capture, its guard */
extern bool bh_capture_enabled;
extern void bh_config_guard_init(void);
extern void bh_config_guard_xact_init(void);
extern Jsonb *bh_enabled_event(const char *how, const char *value);
extern void bh_config_guard_session(void);

/* What the guard noted about a utility statement before it ran. */
typedef struct BhGuardUtility
{
	bool		active;			/* the guard was active */
	bool		dropping;		/* DROP EXTENSION bh_audit */
	bool		own_ddl;		/* tag_table()'s or untag_table()'s own */
	List	   *renamed_relids; /* tables a tagged column of which is renamed */
	Oid			extension_schema;	/* ALTER EXTENSION ... SET SCHEMA: the
									 * extension's schema as it started */
	bool		setting_recorded;	/* it changes bh_audit.enabled, recorded */
	bool		function_set_next;	/* CREATE FUNCTION / PROCEDURE wrote a row
									 * storing bh_audit.enabled, which
									 * PostgreSQL applies next while checking
									 * the body (no statement runs): the next
									 * change of bh_audit.enabled is that
									 * clause's */
	bool		owner_change;	/* ALTER ... OWNER TO or REASSIGN OWNED */
	List	   *altered;		/* ObjectAddress: the objects it altered or
								 * replaced, checked after it (column_guard.c,
								 * bh_check_replaced()) */
	RangeVar   *emptied_rv;		/* a new table it creates ON COMMIT DELETE
								 * ROWS */
	Oid			refreshing;		/* REFRESH ... CONCURRENTLY of a tagged view */
	List	   *values_changes; /* columns' values it converts or drops */
	const struct BhTempCleanup *cleaned;	/* set: no statement, PostgreSQL
											 * cleaning out the temporary
											 * objects of a crashed session
											 * (config_guard.c) */
	List	   *narrowing;		/* BhNarrowing: the changes narrowing read
								 * capture it queued, for bh_note_narrowing()
								 * once they took effect */
	List	   *policy_changes; /* its changes of the extension's own tables'
								 * policies, recorded once it ran */
	int			level;			/* the transaction nesting level it runs at */
	bool		subcommand;		/* a part of the statement running it */
	bool		script;			/* a statement of an extension's script, or
								 * the CREATE / ALTER EXTENSION running it
								 * (bh_in_own_script) */
	Node	   *parsetree;		/* the statement (its name and CASCADE for the
								 * event of a drop of the extension) */
	MemoryContext cxt;			/* where those are kept */
	struct BhGuardUtility *outer;	/* the utility statement running it */
} BhGuardUtility;

extern void bh_config_guard_start(BhGuardUtility *g, bool subcommand);
extern void bh_config_guard_before(Node *parsetree, BhGuardUtility *g);
extern void bh_config_guard_running(Node *parsetree, BhGuardUtility *g);
extern void bh_config_guard_cleanup(BhGuardUtility *g);
extern void bh_config_guard_after(Node *parsetree, BhGuardUtility *g);
extern void bh_guard_check_taggable(Oid relid);
extern void bh_guard_record_rules(Oid relid);
extern bool bh_extension_dropping(void);
extern bool bh_in_own_script(void);
extern Oid	bh_refreshing_matview;

/* utility.c: the one ProcessUtility hook, calling the two above */
/* bh_audit.c: the extension's own SQL, its search_path and its role */
extern int	bh_sql_path_begin(void);
extern void bh_sql_path_end(int nest);
extern bool bh_sql_path_active(void);
extern bool bh_sql_path_open(void);
extern int	bh_statement_nest_enter(void);
extern void bh_statement_nest_leave(int saved);
extern int	bh_statement_nest_level(void);
extern int	bh_spi_internal(const char *sql, int nargs, Oid *argtypes, Datum *values,
							const char *nulls, bool read_only);
extern void bh_utility_internal(const char *sql);
extern void bh_call_internal(void (*fn) (void *arg), void *arg);

extern void bh_utility_init(void);
extern int	bh_utility_nesting(void);
extern bool bh_utility_client_level(void);
extern void bh_emit_utility_after(Node *parsetree);

/* context.c: end-user context settings (event.h: BhJbObject) */
struct BhJbObject;
extern void bh_context_init(void);
extern bool bh_check_event_text(char **newval, void **extra, GucSource source);
extern void bh_assign_event_text(const char *newval, void *extra);

/* The settings whose text goes into events (bh_event_text) */
typedef enum BhEventText
{
	BH_TEXT_ACTOR_ID,
	BH_TEXT_ACTOR_ROLES,
	BH_TEXT_ACTOR_ORG_ID,
	BH_TEXT_OWNER_ORG_ID,
	BH_TEXT_REQUEST_ID,
	BH_TEXT_TRACE_ID,
	BH_TEXT_SESSION_ID,
	BH_TEXT_SERVICE_NAME,
	BH_TEXT_SERVICE_ENVIRONMENT,
	BH_TEXT_SERVICE_VERSION,
	BH_TEXT_COUNT
} BhEventText;

extern const char *bh_event_text(BhEventText id);
extern void bh_context_push_actor(struct BhJbObject *event, const char *db_user,
								  bool with_owner_org);
extern void bh_context_push_correlation(struct BhJbObject *event);
extern void bh_context_push_server_actor(struct BhJbObject *event);

/* chain.c: hashing */
extern const char *bh_hash_alg_name(BhHashAlg alg);
extern bool bh_hash_alg_from_name(const char *name, BhHashAlg *alg);
extern void bh_chain_hash(BhHashAlg alg, const char *prev_hex,
						  const char *canonical, int canonical_len,
						  char *hex_out);

#endif							/* BH_AUDIT_H */
