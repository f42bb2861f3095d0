/*-------------------------------------------------------------------------
 *
 * plan_tags.h
 *		What read capture's hooks (capture_read.c) use of the finding of the
 *		tagged tables a query names, and the bodies of the SQL functions the
 *		planner inlines into it (plan_tags.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_PLAN_TAGS_H
#define BH_AUDIT_PLAN_TAGS_H

#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "nodes/plannodes.h"

#include "capture.h"

/*
 * The body of a SQL function analysed under a planning, noted aside until
 * it is known to be inlined (bh_plan_body_settle): the tagged tables it
 * names, as BhPlanTags notes them, the error context frame it was
 * analysed under, its text and the place of its statement analysed last
 * (a body of several statements is analysed one after the other under one
 * frame), and the function entries of the planned query that call a SQL
 * function of that text, as they were then (the planner turns the one it
 * inlines into a subquery, in place), looked for only when taking the
 * body would change the planning's tables (bh_plan_body_add).
 */
typedef struct BhPlanBody
{
	BhContextMark frame;		/* frame NULL: none noted */
	bool		failed_preparing;	/* the planning's latest error was raised
									 * under that frame (bh_plan_error_seen) */
	MemoryContext cxt;			/* the planning's, for src and rtes */
	char	   *src;			/* its text (a copy) */
	int			location;		/* of its statement analysed last */
	bool		looked;			/* rtes and rtes_apart were looked for */
	List	   *rtes;			/* of the query's own range table */
	bool		rtes_apart;		/* one in a subquery in FROM too */
	/* the last walk for rtes, kept for the next body of its text */
	char	   *walked_src;		/* NULL: none kept */
	List	   *walked_rtes;
	bool		walked_apart;
	int			walked_length;	/* the query's range table as it was */
	int			walked_subqueries;	/* (its length, its subqueries) */
	int			ntables;
	Oid			tables[BH_FAILURE_TABLES];
	Oid			tagged[BH_FAILURE_TABLES];
	Oid			named[BH_FAILURE_TABLES];
	const char *actions[BH_FAILURE_TABLES];
	/* the tables of its functions' trees, as BhPlanTags's tree_tables */
	int			ntrees;
	Oid			tree_tables[BH_FAILURE_TABLES];
	Oid			tree_tagged[BH_FAILURE_TABLES];
	Oid			tree_named[BH_FAILURE_TABLES];
} BhPlanBody;

/*
 * What planning a query needs to know of the tagged tables it names (set
 * up by bh_plan_tags_init: its arrays are filled up to ntables only).
 */
typedef struct BhPlanTags
{
	Oid			events_relid;	/* bh_audit.events, or InvalidOid */
	Oid			first;			/* the first tagged table (or the ledger) */
	bool		reads;			/* one of them has its reads captured */
	bool		parallel_ok;	/* in: a parallel plan is possible (see below) */
	bool		may_grow;		/* planning may bring in other tables (see
								 * below) */
	bool		user_functions; /* it calls a user's function a worker may run */

	/*
	 * for its failure: each tagged table (or the ledger) it names, as first
	 * named
	 */
	int			ntables;
	Oid			tables[BH_FAILURE_TABLES];
	Oid			tagged[BH_FAILURE_TABLES];	/* the table carrying its tag */
	Oid			named[BH_FAILURE_TABLES];	/* the relation named for it:
											 * itself, or the untagged
											 * partitioned table it is reached
											 * through */
	const char *actions[BH_FAILURE_TABLES]; /* the command's of a query whose
											 * target it is; NULL: read */
	int			ntargets;
	RangeTblEntry *targets[BH_FAILURE_TABLES];	/* of its queries' commands */
	const char *target_actions[BH_FAILURE_TABLES];

	/*
	 * the untagged partitioned tables it names with tagged partitions under
	 * them (for a note, also the views it names that read tagged tables)
	 */
	int			nparents;
	RangeTblEntry *parents[BH_FAILURE_TABLES];
	/* the error context stack's top as its planning began */
	ErrorContextCallback *context;
	Query	   *parse;			/* the query being planned */
	/* with note_others, for a note: the other relations it names, each once */
	bool		note_others;
	/* a query not rewritten yet: a view it names counts its tagged tables */
	bool		views;

	/*
	 * with trees, a planning's: the tagged tables of the BEGIN ATOMIC bodies
	 * of the SQL functions it may inline (or that the bodies it inlines
	 * call), each with the relation the body names for it
	 * (bh_plan_tags_tree), and those functions (in tree_cxt, the planning's)
	 */
	bool		trees;
	int			ntrees;
	Oid			tree_tables[BH_FAILURE_TABLES];
	Oid			tree_tagged[BH_FAILURE_TABLES];
	Oid			tree_named[BH_FAILURE_TABLES];
	List	   *tree_funcs;
	MemoryContext tree_cxt;
	int			nothers;
	Oid			others[BH_FAILURE_TABLES];
	const char *other_actions[BH_FAILURE_TABLES];	/* as actions */
	/* a planning's: the body of a SQL function analysed under it */
	BhPlanBody *body;
} BhPlanTags;

/* plan_tags.c */
extern bool bh_plan_is_parallel_on_tagged(PlannedStmt *stmt);
extern void bh_plan_tags_init(BhPlanTags *found);
extern void bh_tables_add_as(int *ntables, Oid *tables, Oid *tagged, Oid *named,
							 const char **actions, Oid relid, Oid relid_tagged,
							 Oid relid_named, const char *action);
extern void bh_plan_tags_add_as(BhPlanTags *found, Oid relid, Oid tagged, Oid named,
								const char *action);
extern bool bh_plan_tags_walker(Node *node, BhPlanTags *found);
extern void bh_plan_tags_under(BhPlanTags *found, Oid parent, const char *action);
extern void bh_plan_tags_through(BhPlanTags *found);
extern void bh_plan_tags_body_walk(BhPlanTags *body, Node *query, Oid events_relid);
extern void bh_plan_body_begin(BhPlanBody *body, const char *src);
extern void bh_plan_body_add(BhPlanTags *found, const BhPlanTags *stmt);
extern bool bh_plan_body_goes_on(const BhPlanBody *body, const char *src, int location);
extern bool bh_plan_body_inlined(const BhPlanBody *body);
extern void bh_plan_body_end(BhPlanTags *found, bool take);
extern void bh_plan_body_settle(BhPlanTags *found, bool planning);
extern void bh_plan_tags_reads(BhPlanTags *found);
extern void bh_plan_tags_failed(BhPlanTags *found, Query *query);

#endif							/* BH_AUDIT_PLAN_TAGS_H */
