/*-------------------------------------------------------------------------
 *
 * tags.h
 *		The tagged-table catalog (bh_audit.tags): its backend-local cache
 *		(tag_cache.c), and the events and triggers of tagging (tags.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_TAGS_H
#define BH_AUDIT_TAGS_H

#include "access/attnum.h"
#include "fmgr.h"
#include "nodes/pg_list.h"

#include "event.h"
#include "id_text.h"

/* What capture needs to know about one relation (a table or a partition). */
typedef struct BhTag
{
	Oid			relid;			/* hash key: the relation looked up */
	bool		tagged;			/* false: a cached "not tagged" */
	Oid			tagged_relid;	/* the table carrying the tag (an ancestor for
								 * partitions) */
	char	   *table_name;		/* "schema.table" of relid */
	char	   *tagged_table_name;	/* "schema.table" of tagged_relid */
	char	   *relname;		/* relid's own name */
	char	   *schema_name;	/* the name of relid's schema */
	char	   *resource_type;
	char	   *id_column;
	char	   *patient_column; /* NULL: none */
	AttrNumber	id_attnum;		/* in relid's own numbering */
	AttrNumber	patient_attnum; /* 0: none */
	BhIdOutput	id_out;			/* how the two columns' values become ids */
	BhIdOutput	patient_out;
	char	   *classification;
	bool		part2;
	bool		capture_reads;
	bool		capture_writes;
	bool		rowsecurity;	/* relid has row-level security enabled
								 * (relrowsecurity): only then can a policy
								 * refuse it */
	struct BhTag *same_name;	/* the next cached tag whose relname is the
								 * same (bh_tags_cached_named) */
} BhTag;

/*
 * A relation through which a statement reaches tagged relations that it
 * does not name: a view that reads them, directly or through other views,
 * or an untagged partitioned table with partitions tagged on their own
 * under it, at any depth (partitioned), or an untagged inheritance parent
 * with tagged tables among its children, at any depth (inheritance: known
 * to the planner hook by its OID, not by name).  A statement through it
 * that fails before the executor is a failure on them (capture_read.c's
 * planner hook, as plan_tags.c finds them; capture_failure.c).
 */
typedef struct BhTagView
{
	Oid			relid;			/* hash key: the view or partitioned table */
	const char *relname;		/* its own name (the name index's key) */
	char	   *schema_name;	/* the name of its schema */
	bool		partitioned;	/* an untagged partitioned table, not a view */
	bool		inheritance;	/* an untagged inheritance parent, not a view */
	int			ntables;
	Oid		   *tables;			/* the tagged tables and partitions it reads;
								 * a partitioned table's, in the order of
								 * their bounds */
	int			nthrough;		/* the last ones of tables, which it reaches
								 * only through untagged partitioned tables
								 * (all of a partitioned table's) */
	struct BhTagView *same_name;	/* the next cached one of the same relname */
} BhTagView;

/* Names of the capture triggers tag_table() creates. */
#define BH_ROW_TRIGGER		"bh_audit_capture_row"
#define BH_TRUNCATE_TRIGGER	"bh_audit_capture_truncate"

/* tag_cache.c */
extern void bh_tags_init(void);
extern void bh_tags_shmem_request(void);
extern void bh_tags_shmem_startup(void);
extern void bh_tags_catch_up(void);
extern void bh_tags_advance_after_commit(void);
extern Oid	bh_tags_catalog(void);
extern char *bh_tags_catalog_name(void);

/* a tag is held across one call that may reload the cache at most (tag_cache.c) */
extern const BhTag *bh_tag_lookup(Oid relid);
extern bool bh_tags_any(void);
extern List *bh_tags_views_reading(Oid relid);
extern List *bh_tags_below(Oid root);
extern void bh_tags_warm(void);
extern const BhTag *bh_tag_cached(Oid relid);
extern const BhTag *bh_tags_cached_named(const char *relname);
extern const BhTagView *bh_tag_views_cached_named(const char *relname);
extern const BhTagView *bh_tags_through(Oid relid, bool views);
extern const BhTagView *bh_tags_through_cached(Oid relid, bool views);
extern const BhTagView *bh_tags_inherited_through(Oid relid);
extern uint64 bh_tags_names_generation(void);
extern void bh_tags_changed(void);
extern List *bh_tagged_relations(void);
extern List *bh_tagged_in_schema(Oid nspid);
extern Oid	bh_partition_parent(Oid relid, bool *detach_pending);
extern List *bh_partition_tree(Oid relid);

/* "schema.table" of an existing relation, quoted for SQL and events. */
extern char *bh_table_name(Oid relid);
extern bool bh_tags_internal_ddl;
extern bool bh_tags_own_ddl(void);

/* tags.c */
extern bool bh_has_capture_trigger(Oid relid);
extern void bh_tag_event_init(BhEvent *ev, const char *action, const char *change,
							  const char *table);
extern void bh_tag_config_event(const char *action, const char *change, Oid relid);
extern void bh_tag_column_event(Oid relid, const char *change, const char *column,
								const char *new_column);
extern Jsonb *bh_tag_partition_event(const char *action, const char *change, Oid tagged_relid,
									 Oid partition, const BhTempCleanup *cleaned);
extern void bh_tag_detached_partition(Oid relid);
extern void bh_tag_attached_partition(Oid relid);
extern void bh_tag_renamed_event(Oid relid, const char *old_schema, const char *new_schema,
								 const char *new_name);
extern void bh_tag_new_partition(Oid relid);
extern bool bh_tag_dropped(Oid relid, const BhTempCleanup *cleaned);
extern void bh_tag_column_renamed(Oid tagged_relid, const char *oldname,
								  const char *newname);

#endif							/* BH_AUDIT_TAGS_H */
