/*-------------------------------------------------------------------------
 *
 * capture.h
 *		What read capture (capture_read.c, and its finding of the tagged
 *		tables a query names, plan_tags.c), reads by DDL
 *		(capture_ddl_read.c), denials (capture_denial.c),
 *		failure capture (capture_failure.c), its error watch
 *		(error_watch.c), its reading of an error's context
 *		(error_context.c) and its messages made safe (failure_message.c),
 *		write capture (capture_write.c)
 *		and its guard (config_guard.c, settings_guard.c) share.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_CAPTURE_H
#define BH_AUDIT_CAPTURE_H

#include "catalog/pg_class.h"
#include "executor/execdesc.h"
#include "lib/ilist.h"
#include "nodes/nodes.h"
#include "nodes/parsenodes.h"
#include "access/htup.h"
#include "storage/itemptr.h"
#include "storage/lockdefs.h"
#include "utils/relcache.h"

#include "event.h"
#include "tags.h"

/* capture_read.c */
extern bool bh_capture_here(void);
extern Oid	bh_events_relid(void);
extern Oid	bh_events_relid_known(void);
extern const char *bh_action_for(CmdType cmd, AclMode perms);
extern Oid	bh_statement_writing(List *relids);
extern void bh_push(BhEvent *ev, bool nothrow);
extern void bh_event_for_tag(BhEvent *ev, const char *action, const BhTag *tag);
extern void bh_event_for_table(BhEvent *ev, const char *action, Oid relid, Oid events_relid);
extern void bh_trail_rels_refresh(void);
extern bool bh_trail_rel(Oid relid);
extern Oid	bh_trail_rel_named(const char *name);
extern const char *bh_event_for_trail_rel(BhEvent *ev, const char *action, Oid relid);

/* capture_ddl_read.c */
extern void bh_capture_ddl_reads(Node *parsetree);

/* capture_denial.c */
extern void bh_check_denials(QueryDesc *qd, int eflags, List *tagged, Oid events_relid);
extern bool bh_denials_by_name_possible(PlannedStmt *stmt);
extern bool bh_checked_as_other(PlannedStmt *stmt);
extern bool bh_check_truncate_denials(TruncateStmt *stmt);
extern bool bh_check_copy_to_denial(CopyStmt *stmt);

/*
 * The trail's view in a planning (capture_read.c), and what its queries
 * show of a refusal of it (bh_view_refusal_judge)
 */
typedef struct BhViewJudged
{
	Oid			viewid;
	const char *relname;
	struct
	{
		bool		refused;	/* the view, through an entry refused */
		bool		ambiguous;	/* another view of its name, refused */
	}			found;
} BhViewJudged;
extern void bh_view_refusal_judge(Query *parse, BhViewJudged *judged);
extern bool bh_push_refused_view(void *judged, const char *message, const char *format);
extern void bh_check_utility_denials(Node *parsetree, bool isTopLevel);
extern List *bh_function_denials(PlannedStmt *stmt);
extern bool bh_push_refused_function(void *refused, const char *message, const char *format);
extern void bh_push_own_refusal(const char *function, const char *message);

/* capture_write.c */
extern double bh_row_estimate(Form_pg_class relform);
extern double bh_rel_row_estimate(Oid relid);
extern void bh_write_table_patient_move(const BhTag *tag, double rows, const char *statement,
										const char *changed, const char *from,
										const char *to);
extern void bh_write_table_event(const BhTag *tag, double rows, const char *action,
								 const char *statement, const char *changed,
								 const char *dropped);
extern void bh_write_table_cleanup_event(const BhTag *tag, double rows,
										 const char *changed, const char *dropped,
										 const BhTempCleanup *cleaned);

/* moved_rows.c: the earlier patients of a row version a transaction made */
typedef struct BhMovedKey
{
	Oid			relid;			/* the table holding the version (a partition) */
	BlockNumber block;
	OffsetNumber offset;
} BhMovedKey;

typedef struct BhMovedRow
{
	BhMovedKey	key;
	int			npatients;
	char	  **patients;
} BhMovedRow;

extern bool bh_moved_active;
extern void bh_moved_xact_end(void);
extern const BhMovedRow *bh_moved_find(Oid relid, ItemPointer tid);
extern bool bh_moved_rel_noted(Oid relid);
extern bool bh_moved_is_unfollowed(Oid tagged_relid);
extern void bh_moved_unfollow(Oid tagged_relid);
extern void bh_moved_note_update(const BhTag *tag, Relation rel, HeapTuple oldtup,
								 HeapTuple newtup, const char *from, const char *to);
extern void bh_moved_note_delete(const BhTag *tag, Relation rel, HeapTuple oldtup,
								 const char *from);
extern void bh_moved_statement_end(CommandId cid);
extern void bh_moved_subxact_abort(SubTransactionId subid);
extern void bh_moved_note_insert(const BhTag *tag, Relation rel, HeapTuple newtup,
								 const char *to);

/*
 * The most tagged tables (or the ledger) that one failed statement, or one
 * error at a commit, is recorded on: one FAILURE each.
 */
#define BH_FAILURE_TABLES	64

/*
 * Note a relation (relid, or the ledger) in a failed statement's list of
 * tables (n of them, each with the table carrying its tag: tagged), unless
 * its tagged table is there already (a partition and its table: one
 * failure) or the list is full.  Returns its place in the list (*n before
 * the call: added), or -1 (full).
 */
static inline int
bh_failure_tables_add(Oid *relids, Oid *tagged, int *n, Oid relid, Oid relid_tagged)
{
	int			i;

	for (i = 0; i < *n; i++)
		if (tagged[i] == relid_tagged)
			return i;
	if (*n == BH_FAILURE_TABLES)
		return -1;
	relids[*n] = relid;
	tagged[*n] = relid_tagged;
	return (*n)++;
}

/*
 * A statement's FAILURE on a tagged table (or the ledger), prepared as its
 * executor starts (capture_read.c), so that its error needs no catalog
 * access.
 */
typedef struct BhTableFailure
{
	BhEvent		ev;				/* the event but for its outcome and error */
	Oid			relid;			/* the relation (a refusal names its own name) */
	Oid			tagged;			/* the table carrying its tag (relid but for a
								 * partition tagged under its table) */
	bool		writes;			/* the statement writes it (row-level security
								 * may refuse the rows it writes) */
} BhTableFailure;

/* error_watch.c */
extern void bh_error_watch_put_back(void);
extern bool bh_error_context_bare(void);
extern const ErrorContextCallback *bh_error_context_top(void);
extern bool bh_error_context_one_since(const ErrorContextCallback *since);

/*
 * The innermost error context frame (the watch aside) as it was when
 * marked, told from another frame pushed at the same place later by its
 * callback and argument too (bh_context_mark, bh_context_mark_is_top).
 */
typedef struct BhContextMark
{
	const ErrorContextCallback *frame;	/* NULL: none marked */
	void		(*callback) (void *arg);
	void	   *arg;
} BhContextMark;

extern void bh_context_mark(BhContextMark *mark);
extern void bh_context_mark_caller(BhContextMark *mark);
extern bool bh_context_mark_is_top(const BhContextMark *mark);
extern bool bh_context_mark_on_stack(const BhContextMark *mark, bool under_top);

/* failure_message.c */
extern bool bh_format_is_only_specs(const char *fmt);
extern bool bh_format_prints_text(const char *fmt);
extern void bh_safe_message(const char *message, const char *message_id, const char *domain,
							char *out, int size);
extern char *bh_failure_message(const ErrorData *edata);
extern bool bh_message_arg(const char *message, size_t mlen, const char *message_id,
						   const char *domain, int argno, int *start, int *end);
extern bool bh_format_affixes(const char *domain, const char *fmt, const char **prefix,
							  size_t *prefix_len, const char **suffix);

/* error_context.c */
/* PostgreSQL's own text domain, which its context lines are translated in */
#define BH_POSTGRES_DOMAIN	PG_TEXTDOMAIN("postgres")
/* PL/pgSQL's, which its own context lines are translated in */
#define BH_PLPGSQL_DOMAIN	PG_TEXTDOMAIN("plpgsql")

/* How many formats of the lines SPI puts in a context (bh_spi_contexts), NULL too */
#define BH_SPI_CONTEXTS		4

/*
 * A walk through the statements' texts in an error's context, innermost
 * first: for each of bh_spi_contexts, its translated prefix and suffix
 * (bh_format_affixes; prefix NULL: not searched for) and where its prefix
 * is next found (searched: from there on; NULL: nowhere), each format's
 * search going on from where it stopped, so that a walk reads the context
 * once for each (linear in its length, however many lines).
 */
typedef struct BhContextScan
{
	const char *start;			/* the context's start */
	const char *end;			/* the context's end */
	const char *prefix[BH_SPI_CONTEXTS];
	size_t		plen[BH_SPI_CONTEXTS];
	const char *suffix[BH_SPI_CONTEXTS];
	bool		ambiguous[BH_SPI_CONTEXTS];
	bool		searched[BH_SPI_CONTEXTS];
	const char *next[BH_SPI_CONTEXTS];
	bool		unclosed;		/* a text read as SQL ran to the end */
} BhContextScan;

extern bool bh_in_function(const char *context);
extern void bh_context_scan_init(BhContextScan *scan, const char *context);
extern const char *bh_context_statement_next(BhContextScan *scan, const char *p,
											 const char **end, bool *statement);
extern bool bh_context_body_preparing(const char *context);
extern bool bh_context_spi_statement(const char *context, const char *sql);
extern bool bh_context_plpgsql_rows(const char *context);
extern bool bh_context_plpgsql_fetch(const char *context);

/* capture_failure_spi.c */

/*
 * A statement on tagged tables whose rows SPI returned to PL/pgSQL, while
 * PL/pgSQL holds them (see capture_failure_spi.c)
 */
typedef struct BhRowsTaken
{
	MemoryContextCallback cb;
	dlist_node	node;			/* in the list of rows held, while they are */
	const struct SPITupleTable *rows;	/* NULL: SPI has not returned yet */
	BhContextMark caller;		/* the frame under SPI's, of the code that ran
								 * the statement through SPI */
	int			level;			/* the transaction nest level SPI returned the
								 * rows at */
	Oid			role;			/* the role the statement ran as */
	int			ntables;
	Oid			tables[BH_FAILURE_TABLES];
	Oid			tagged[BH_FAILURE_TABLES];
	const char *actions[BH_FAILURE_TABLES];
} BhRowsTaken;

extern void bh_failure_statement_finished(QueryDesc *qd, const BhTableFailure *failures, int n);
extern const BhRowsTaken *bh_rows_failed(const ErrorData *edata);
extern const BhRowsTaken *bh_rows_taking_under(void);
extern void bh_rows_none_forget(void);

/* capture_failure.c */
extern bool bh_failure_recorded;
extern const char *bh_sqlstate_name(int sqlerrcode);
extern bool bh_locked_by_me_upto(Oid relid, LOCKMODE strongest);
extern bool bh_locked_by_me(Oid relid);
extern void bh_release_error_locks(void);
extern void bh_record_refusal(const char *format,
							  bool (*push) (void *arg, const char *message, const char *format),
							  void *arg);
extern void bh_record_statement_failure(const BhTableFailure *failures, int n);
extern void bh_record_caught_failure(const Oid *relids, const char *const *actions, int n);
extern int	bh_failure_statement_enter(bool builds_index);
extern void bh_failure_statement_leave(int saved);
extern int	bh_failure_planning_enter(void);
extern void bh_failure_planning_leave(int saved);
extern void bh_record_shown(void);
extern void bh_failure_preparing(void);
extern void bh_failure_xact_end(bool aborted);
extern void bh_failure_subxact_abort(void);
extern void bh_failure_subxact_commit(void);
extern void bh_failure_rows_released(const BhRowsTaken *taken);
extern void bh_failure_note_write(const BhTag *tag, const char *action);
extern void bh_error_watch_install(void);
extern void bh_failure_statement_starts(const char *sourcetext, bool toplevel);
extern void bh_failure_report_seen(void);
extern void bh_statement_starting(void);
extern void bh_refusal_expect(Oid relid, Oid tagged, const char *action, const char *format,
							  const char *relname);
extern void bh_failure_body_analyzed(const Oid *tables, const Oid *tagged,
									 const char *const *actions, int n);
extern void bh_client_stmt_analyzed(const char *sourcetext, int location, int len);
extern void bh_client_stmt_finished(const char *sourcetext);
extern int	bh_failing_error_code(void);
extern bool bh_failing_error_shows_no_row(void);

/*
 * What the PG_CATCH of one of the hooks records, kept while its PG_TRY
 * runs, so that an error that exit_on_error turned into FATAL (which ends
 * the process without unwinding to any PG_CATCH) is recorded as it would
 * have been (capture_failure.c).  Push before PG_TRY; pop at the start of
 * PG_CATCH and after PG_END_TRY.  record does what the PG_CATCH records,
 * after bh_release_error_locks(); it may not read the catalog.  query: the
 * text of the statement on tagged tables whose FAILURE it records (its
 * planning, its executor's run or finish), or NULL: an error raised
 * inside is that statement's only if it reaches the PG_CATCH.
 */
typedef struct BhFailFrame
{
	struct BhFailFrame *previous;
	void		(*record) (void *arg);
	void	   *arg;
	const char *query;
} BhFailFrame;

extern void bh_fail_frame_push(BhFailFrame *frame, void (*record) (void *arg), void *arg,
							   const char *query);
extern void bh_fail_frame_pop(BhFailFrame *frame);

#endif							/* BH_AUDIT_CAPTURE_H */
