/*-------------------------------------------------------------------------
 *
 * tag_cache.c
 *		The backend-local cache of tagging that answers "is this relation
 *		tagged?", and how it learns that tagging changed.
 *
 * Capture asks bh_tag_lookup() for every row (triggers) or statement
 * (reads); the answer comes from a hash table keyed by relation OID (the
 * last answer kept beside it: a statement asks about its table several
 * times), built from one catalog query (with the latest snapshot: the tagging as
 * committed).  A change of the catalog (tag_table() and untag_table(), in
 * tags.c, send that invalidation to every backend), a reset of every
 * relcache entry, a view's rule or a schema throws the whole cache away.
 * A relcache invalidation of one cached relation (an ANALYZE, an ALTER
 * TABLE, a trigger created, a rename, a partition created, attached or
 * detached) re-resolves, at the next lookup, only what it can change: that
 * relation's entry and, where it is a partitioned table or a tagged one,
 * the entries of its tagged table's whole tree and every cached "not
 * tagged" (bh_tags_refresh); a table tagged on its own whose parent
 * changed (attached, detached) reloads the whole cache.
 * Partitions are looked up through their ancestors, with their own column
 * numbers, so a partitioned table tagged at the top is captured on every
 * partition, present and future (the tree walked without locks: a
 * partition dropped or detached meanwhile is skipped, never an error), and
 * on one whose DETACH ... CONCURRENTLY is pending (PostgreSQL's own
 * ancestor and inheritor lists leave it out, but transactions older than
 * the detach still reach it through the parent, and its capture triggers
 * fire) until the detach completes.  A
 * change of a schema (a rename) reloads the cache, which holds qualified
 * names.  For the error paths, which match a failed statement's text
 * against the cache, it also indexes tagged relations, the views that
 * read them and the untagged partitioned tables above partitions tagged
 * on their own by name, and counts the invalidations that may change what
 * a name stands for (bh_tags_names_generation).  The untagged inheritance
 * parents above tagged tables it knows by OID only (bh_tag_parents_load):
 * the planner hook finds them in a query's range table.
 *
 * A tag (and a catalog row, bh_tag_row()) lives in the memory of the load
 * that made it, and each load frees the one before the last: a tag looked
 * up stays valid through one more load, not two.  Any call that looks
 * tags up may load the cache again (bh_tag_lookup() itself, when another
 * session's tagging, or a view's or a schema's change, was taken in at
 * any lock or catalog access meanwhile).  So a caller holds a tag across
 * one such call at most (a column's output function that runs SQL), never
 * across several (a loop that looks up other relations or columns): what
 * it needs after them it copies first (an OID, a flag) or it looks the tag
 * up again right before the use.  What lives longer than a call copies
 * what it needs.
 *
 * A statement may take in no invalidation at all before it runs: an
 * EXECUTE (or a Bind) of a prepared statement in a transaction that holds
 * its table's lock already (its plan valid, no catalog lookup missing).
 * So every change of tagging also advances a generation in shared memory
 * once its invalidations are sent (at its commit), and each statement's
 * start, planning and utility hook compare it, one atomic read, with the
 * last one this backend took in (bh_tags_catch_up).
 *
 * Kept apart from tagging's SQL functions (tags.c), which read the catalog
 * rows as last loaded (tag_cache.h): the cache asks nothing of them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "partitioning/partdesc.h"
#include "replication/logicalworker.h"
#include "port/atomics.h"
#include "storage/bufmgr.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "bh_audit.h"
#include "event.h"
#include "tag_cache.h"
#include "tags.h"

static MemoryContext bh_tag_cxt = NULL;
static MemoryContext bh_tag_cxt_previous = NULL;	/* the load before */
static HTAB *bh_tag_cache = NULL;	/* relid -> BhTagSlot */
static HTAB *bh_tag_row_index = NULL;	/* tbl -> BhTagRowEntry */
static HTAB *bh_tag_names = NULL;	/* relname -> the tagged BhTags of that
									 * name */
static HTAB *bh_tag_views = NULL;	/* view (or partitioned table) relid ->
									 * BhTagView */
static int	bh_tag_nthrough = 0;	/* its untagged partitioned tables */
static int	bh_tag_ninherit = 0;	/* its untagged inheritance parents */
static BhTagRow *bh_tag_rows = NULL;
static int	bh_tag_nrows = 0;
static Oid *bh_tag_row_parents = NULL;	/* each row's table's parents, as
										 * bh_tag_parents_load found them
										 * (bh_tag_parents_key) */
static List *bh_tag_unordered = NIL;	/* those of bh_tag_views whose order
										 * could not be read (in bh_tag_cxt) */
static LocalTransactionId bh_tag_order_tried_lxid = InvalidLocalTransactionId;
static TimestampTz bh_tag_order_tried_at = 0;	/* the statement that last
												 * read it again */
static Oid	bh_tags_relid = InvalidOid;

/* bh_audit.tags: its OID, looked up once and after any invalidation of it */
static BhCachedRel bh_tags_rel = {"tags", InvalidOid};

static bool bh_tag_cache_valid = false; /* loaded, and nothing changed since */
static bool bh_tag_cache_loaded = false;	/* a load completed (valid or not) */
static bool bh_tags_loading = false;	/* the load's own query is not looked
										 * up */
static bool bh_tags_inval_in_load = false;	/* an invalidation arrived
											 * meanwhile */

/*
 * One cached relation: its tag, or NULL for "not tagged".  A tag, once
 * filled, is never changed: an entry re-resolved gets a new one, and the
 * old one lives on in the cache's memory (a caller may hold it while what
 * it calls looks relations up) until the load after the next (see the
 * file header).  Whatever changes an existing entry's tag or removes an
 * entry forgets bh_tag_lookup()'s memo of the last answer (below).
 */
typedef struct BhTagSlot
{
	Oid			relid;			/* hash key */
	BhTag	   *tag;
} BhTagSlot;

/* bh_audit.tags by table, for bh_tag_row() */
typedef struct BhTagRowEntry
{
	Oid			tbl;			/* hash key */
	BhTagRow   *row;
} BhTagRowEntry;

/*
 * Cached relations whose relcache entry was invalidated since: their
 * entries are re-resolved at the next lookup (bh_tags_refresh).  More at
 * once than this reload the whole cache.
 */
#define BH_TAG_STALE_MAX	256
static Oid	bh_tag_stale[BH_TAG_STALE_MAX];
static int	bh_tag_nstale = 0;

/*
 * The relation bh_tag_lookup() found in the cache last, and its entry's
 * tag: a statement asks about its table five times or so (planning, the
 * executor's start, its failure events, its scan), and the next statement
 * about the same one.  Always its entry's value: forgotten as any entry
 * changes or goes and as the cache is loaded again.
 */
static Oid	bh_tag_memo_relid = InvalidOid;
static BhTag *bh_tag_memo_tag = NULL;

static inline void
bh_tag_memo_forget(void)
{
	bh_tag_memo_relid = InvalidOid;
	bh_tag_memo_tag = NULL;
}

/*
 * The cache is as bh_tags_ensure() would leave it: loaded and valid,
 * nothing stale, no view's order to read again.  Only a load makes it valid
 * again once an invalidation or a failed refresh has made it not (and a
 * load forgets the memo).
 */
static inline bool
bh_tags_current(void)
{
	return bh_tag_cache_valid && bh_tag_nstale == 0 && bh_tag_unordered == NIL;
}

/*
 * Tags filled again since the load (each leaves its predecessor in the
 * cache's memory): past the number of cached tagged relations (the "not
 * tagged" answers hold no tag: counting them would let the dead tags grow
 * with every table a session ever looked at), and at least
 * BH_TAG_REFILLS_MIN, the next lookup reloads the whole cache instead.
 */
#define BH_TAG_REFILLS_MIN	1024
static long bh_tag_refills = 0;
static long bh_tag_tagged_slots = 0;	/* cache entries holding a tag */

/* The tagged relations of one name (in any schema), for matching text. */
typedef struct BhTagName
{
	char		relname[NAMEDATALEN];	/* hash key */
	BhTag	   *first;			/* tagged relations of that name */
	BhTagView  *first_view;		/* views of that name over them, untagged
								 * partitioned tables above them */
} BhTagName;

/* The name index's entry for relname, made empty if new. */
static BhTagName *
bh_tag_name_enter(const char *relname)
{
	bool		found;
	BhTagName  *entry = hash_search(bh_tag_names, relname, HASH_ENTER, &found);

	if (!found)
	{
		entry->first = NULL;
		entry->first_view = NULL;
	}
	return entry;
}

/*
 * Invalidations that may change which relation a name stands for: a
 * schema changed (renamed, dropped), a view's rule, a tagged relation's or
 * a view's relcache entry (renamed, moved to another schema by ALTER
 * TABLE ... SET SCHEMA, dropped), or every relcache entry.  Counted
 * whether the cache is loaded or not, for what was noted by name
 * (capture_failure.c's statements with parameters).
 */
static uint64 bh_tags_names_changes = 0;

uint64
bh_tags_names_generation(void)
{
	return bh_tags_names_changes;
}

/* Set while tag_table()/untag_table() change triggers themselves. */
bool		bh_tags_internal_ddl = false;

/*
 * Is the utility statement starting now tag_table()'s or untag_table()'s
 * own DDL (a subcommand it runs itself: bh_utility_internal())?
 */
bool
bh_tags_own_ddl(void)
{
	return bh_tags_internal_ddl && bh_sql_path_active();
}

static List *bh_tag_fill_tree(Oid top, bool refill);

/*
 * The generation of tagging, in shared memory: advanced after every commit
 * that changed tagging (in any database: a backend of another one only
 * takes in its invalidations a little earlier).
 */
typedef struct BhTagsShared
{
	pg_atomic_uint64 generation;
} BhTagsShared;

static BhTagsShared *bh_tags_shared = NULL;
static uint64 bh_tags_generation_seen = 0;	/* the last one taken in */
static bool bh_tags_advance_at_commit = false;	/* this transaction changed
												 * tagging */

void
bh_tags_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(BhTagsShared)));
}

void
bh_tags_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	bh_tags_shared = ShmemInitStruct("bh_audit tags", sizeof(BhTagsShared), &found);
	if (!found)
		pg_atomic_init_u64(&bh_tags_shared->generation, 0);
	LWLockRelease(AddinShmemInitLock);
}

static void bh_tags_resource_release(ResourceReleasePhase phase, bool isCommit,
									 bool isTopLevel, void *arg);

/*
 * This transaction changes tagging (or commits a prepared one that may).
 * The release callback is registered by the first such transaction of the
 * session: the sessions that never change tagging (an application's) do
 * not run it at every release of a resource owner.
 */
void
bh_tags_advance_after_commit(void)
{
	static bool registered = false;

	if (!registered)
	{
		RegisterResourceReleaseCallback(bh_tags_resource_release, NULL);
		registered = true;
	}
	bh_tags_advance_at_commit = true;
}

/*
 * The end of a transaction.  Not an XACT_EVENT_COMMIT callback: those run
 * before the commit sends its invalidations (AtEOXact_Inval), and a backend
 * that saw the generation advance before they were there would not look
 * again.  The release of the transaction's locks comes after them.  (A
 * PREPARE TRANSACTION advances it too, needlessly: its invalidations are
 * sent by the COMMIT PREPARED, which advances it again.)
 */
static void
bh_tags_resource_release(ResourceReleasePhase phase, bool isCommit,
						 bool isTopLevel, void *arg)
{
	if (phase != RESOURCE_RELEASE_LOCKS || !isTopLevel || !bh_tags_advance_at_commit)
		return;
	bh_tags_advance_at_commit = false;
	if (isCommit && bh_tags_shared != NULL)
		pg_atomic_fetch_add_u64(&bh_tags_shared->generation, 1);
}

/*
 * Called as a statement starts (a utility statement before it runs, so
 * before an EXECUTE revalidates its plan; the planner; the executor's
 * start, the only one a Bind of a prepared statement whose plan is still
 * valid reaches): take in the invalidations of tagging committed since the
 * last call.  The generation is read before they are taken in, so that one
 * advanced meanwhile is seen at the next call.  Costs one atomic read when
 * nothing changed.
 */
void
bh_tags_catch_up(void)
{
	uint64		generation;

	if (bh_tags_shared == NULL || !IsTransactionState())
		return;
	generation = pg_atomic_read_u64(&bh_tags_shared->generation);
	if (generation == bh_tags_generation_seen)
		return;
	bh_tags_generation_seen = generation;
	AcceptInvalidationMessages();
}

/*
 * Relcache invalidation.  Of the catalog, of a view over tagged relations
 * (its entry holds the relations it reads) or of every relation: the whole
 * cache goes.  Of a cached relation: its entry, and what it can change, is
 * re-resolved at the next lookup.
 */
static void
bh_tags_relcache_cb(Datum arg, Oid relid)
{
	bool		all;
	bool		one;
	int			i;
	BhTagSlot  *slot;

	/* what a name may stand for changes with a tagged relation, or any */
	if (relid == InvalidOid || bh_tag_cache == NULL ||
		((slot = hash_search(bh_tag_cache, &relid, HASH_FIND, NULL)) != NULL &&
		 slot->tag != NULL) ||
		(bh_tag_views && hash_search(bh_tag_views, &relid, HASH_FIND, NULL)))
		bh_tags_names_changes++;
	if (!bh_tag_cache_valid && !bh_tags_loading)
		return;
	all = (relid == InvalidOid || relid == bh_tags_relid ||
		   (bh_tag_views && hash_search(bh_tag_views, &relid, HASH_FIND, NULL)));
	one = !all && bh_tag_cache && hash_search(bh_tag_cache, &relid, HASH_FIND, NULL);

	/*
	 * During a load, the change may concern what the load has read already,
	 * with an earlier snapshot (a tagging committed meanwhile): the result
	 * serves the error paths but is loaded again at the next lookup.
	 */
	if (bh_tags_loading)
	{
		bh_tags_inval_in_load |= (all || one);
		return;
	}
	if (all)
		bh_tag_cache_valid = false;
	else if (one)
	{
		for (i = 0; i < bh_tag_nstale; i++)
			if (bh_tag_stale[i] == relid)
				return;
		if (bh_tag_nstale < BH_TAG_STALE_MAX)
			bh_tag_stale[bh_tag_nstale++] = relid;
		else
			bh_tag_cache_valid = false;
	}
}

/*
 * A view's rule was created, replaced or dropped: views may read other
 * tables.  A schema was renamed (or changed otherwise): the cache holds
 * its tables' qualified names, and no relcache invalidation tells.
 */
static void
bh_tags_syscache_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	bh_tags_names_changes++;
	bh_tags_inval_in_load |= bh_tags_loading;
	bh_tag_cache_valid = false;
}

void
bh_tags_init(void)
{
	bh_cached_rel_register(&bh_tags_rel);
	CacheRegisterRelcacheCallback(bh_tags_relcache_cb, (Datum) 0);
	CacheRegisterSyscacheCallback(RULERELNAME, bh_tags_syscache_cb, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, bh_tags_syscache_cb, (Datum) 0);
}

/*
 * The parent of a partition (InvalidOid if relid is none, or no longer
 * one), from pg_inherits itself: also while a DETACH ... CONCURRENTLY of
 * it is pending (*detach_pending, if given), where PostgreSQL's
 * get_partition_ancestors() stops.
 */
Oid
bh_partition_parent(Oid relid, bool *detach_pending)
{
	Relation	inherits;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			parent = InvalidOid;

	if (detach_pending)
		*detach_pending = false;
	if (!get_rel_relispartition(relid))
		return InvalidOid;
	inherits = table_open(InheritsRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(inherits, InheritsRelidSeqnoIndexId, true, NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		parent = ((Form_pg_inherits) GETSTRUCT(tup))->inhparent;
		if (detach_pending)
			*detach_pending = ((Form_pg_inherits) GETSTRUCT(tup))->inhdetachpending;
	}
	systable_endscan(scan);
	table_close(inherits, AccessShareLock);
	return parent;
}

/*
 * The partitions (and inheritance children) of relid, detach pending or
 * not, in OID order, read from pg_inherits: none if relid has never had
 * any, or no longer exists.  No lock is taken on them, and none of them is
 * looked up: PostgreSQL's find_inheritance_children() (its has_subclass())
 * raises "cache lookup failed" for a relation dropped meanwhile, and a
 * child may be dropped or detached once found.  Callers skip what they no
 * longer find.
 */
static List *
bh_partition_children(Oid relid)
{
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		has_children;
	Relation	inherits;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *children = NIL;

	if (!HeapTupleIsValid(tp))
		return NIL;				/* dropped meanwhile */
	has_children = ((Form_pg_class) GETSTRUCT(tp))->relhassubclass;
	ReleaseSysCache(tp);
	if (!has_children)
		return NIL;
	inherits = table_open(InheritsRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_inherits_inhparent, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(inherits, InheritsParentIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		children = lappend_oid(children, ((Form_pg_inherits) GETSTRUCT(tup))->inhrelid);
	systable_endscan(scan);
	table_close(inherits, AccessShareLock);
	list_sort(children, list_oid_cmp);
	return children;
}

/*
 * relid and every partition under it, at any depth, parents before their
 * partitions: find_all_inheritors() with the partitions whose detach is
 * pending, which it leaves out once the detach is visible, and without
 * its locks (a partition dropped meanwhile may be in the list).
 */
List *
bh_partition_tree(Oid relid)
{
	List	   *result = list_make1_oid(relid);
	int			i;

	for (i = 0; i < list_length(result); i++)
		result = list_concat(result, bh_partition_children(list_nth_oid(result, i)));
	return result;
}

/*
 * The inheritance parents of relid (none if it is a partition, or no
 * longer exists), read from pg_inherits without locks, in the order of
 * their inhseqno.  A plain table may have several.
 */
static List *
bh_inheritance_parents(Oid relid)
{
	Relation	inherits;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *parents = NIL;

	inherits = table_open(InheritsRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(inherits, InheritsRelidSeqnoIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		parents = lappend_oid(parents, ((Form_pg_inherits) GETSTRUCT(tup))->inhparent);
	systable_endscan(scan);
	table_close(inherits, AccessShareLock);
	return parents;
}

/* Tell every backend (at commit) that tagging changed. */
void
bh_tags_changed(void)
{
	if (OidIsValid(bh_tags_relid))
		CacheInvalidateRelcacheByRelid(bh_tags_relid);
	bh_tag_cache_valid = false;
	bh_tags_advance_after_commit();
}

/*
 * Every backend's cached plans (prepared statements, PL/pgSQL) were made
 * with the tags as they were: a plan may read a tagged table in parallel
 * workers, or by an index-only scan without its patient column, which
 * read capture's planner rules forbid (capture_read.c) — also a plan that
 * does not name the table (a parallel query calling a function that reads
 * it).  So a change of tags invalidates them all, at commit (a relcache
 * reset: tagging is rare).
 */
static void
bh_invalidate_plans(void)
{
	CacheInvalidateRelcacheAll();
}

/*
 * Rows of bh_audit.tags (tags_relid) changed other than by tag_table() or
 * untag_table(): every backend's cache, the changing one's included, and
 * the plans made with it, whether or not this backend loaded the cache.
 */
void
bh_tags_rows_changed(Oid tags_relid)
{
	CacheInvalidateRelcacheByRelid(tags_relid);
	bh_invalidate_plans();
	bh_tags_changed();
}

static const char *const bh_tags_tables[] = {"tags"};

/* The highest command id of this transaction (lxid) seen edit a tag row. */
static LocalTransactionId bh_tags_edit_lxid = InvalidLocalTransactionId;
static int64 bh_tags_edit_cid = -1;

/*
 * Whether a statement updated or deleted a row of the tag catalog (rel)
 * since the last call: a row this transaction updated or deleted (rolled
 * back subtransactions' not) by a command after the highest seen.  The
 * statement trigger fires after every UPDATE, DELETE or MERGE of the
 * catalog, also when it changed no row, and for a MERGE once for each kind
 * of action it names: asked at each, one statement that changed rows
 * answers true once.  (The catalog holds a row per tagged table.)
 */
static bool
bh_tags_rows_edited(Relation rel)
{
	TableScanDesc scan = table_beginscan(rel, SnapshotAny, 0, NULL);
	HeapTuple	tup;
	int64		highest = -1;

	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Buffer		buf = ((HeapScanDesc) scan)->rs_cbuf;
		HeapTupleHeader h = tup->t_data;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		if (!(h->t_infomask & HEAP_XMAX_INVALID) &&
			!HEAP_XMAX_IS_LOCKED_ONLY(h->t_infomask) &&
			TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetUpdateXid(h)))
			highest = Max(highest, (int64) HeapTupleHeaderGetCmax(h));
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	}
	table_endscan(scan);
	if (bh_tags_edit_lxid != MyProc->lxid)
	{
		bh_tags_edit_lxid = MyProc->lxid;
		bh_tags_edit_cid = -1;
	}
	if (highest <= bh_tags_edit_cid)
		return false;
	bh_tags_edit_cid = highest;
	return true;
}

PG_FUNCTION_INFO_V1(bh_audit_tags_changed);

/*
 * Statement trigger on bh_audit.tags: rows that come in by SQL (a
 * restore's COPY; a superuser's own INSERT) reach every backend's cache,
 * the restoring session's included, as those of tag_table() do.
 *
 * A superuser's own UPDATE, DELETE or TRUNCATE of the catalog (not
 * tag_table(), untag_table() or a tagged column's rename: the extension's
 * SQL; no other role may write it, own_acl.c) untags tables or changes
 * what is captured of them, unrecorded by the functions that do that: an
 * AuditConfiguration event of the catalog, naming the statement: one for
 * a statement, none for one that changed no row.  Rows added (a restore's
 * COPY) take no capture away, and a replicated TRUNCATE keeps the rows
 * (replication.c): not recorded.
 */
Datum
bh_audit_tags_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td;

	bh_require_preload();
	td = bh_trigger_call(fcinfo, "bh_audit._tags_changed()",
						 BH_TRIG_AFTER | BH_TRIG_STATEMENT | BH_TRIG_INSERT |
						 BH_TRIG_UPDATE | BH_TRIG_DELETE | BH_TRIG_TRUNCATE,
						 bh_tags_tables, lengthof(bh_tags_tables));
	if (!TRIGGER_FIRED_BY_INSERT(td->tg_event) &&
		(TRIGGER_FIRED_BY_TRUNCATE(td->tg_event) || bh_tags_rows_edited(td->tg_relation)) &&
		!bh_sql_path_open() && !bh_in_own_script() && !IsLogicalWorker())
	{
		BhEvent		ev;
		const char *statement = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? "UPDATE" :
		TRIGGER_FIRED_BY_DELETE(td->tg_event) ? "DELETE" : "TRUNCATE";

		bh_tag_event_init(&ev, TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? "UPDATE" : "DELETE",
						  "edit the tag catalog directly", "bh_audit.tags");
		bh_event_meta_string(&ev, "statement", statement);
		bh_queue_event(bh_event_build(&ev, NULL));
	}
	bh_tags_rows_changed(RelationGetRelid(td->tg_relation));
	return PointerGetDatum(NULL);
}

/* OID of bh_audit.tags, or InvalidOid when the extension is not here. */
Oid
bh_tags_catalog(void)
{
	return bh_cached_rel(&bh_tags_rel);
}

/*
 * The name of bh_audit.tags for the extension's SQL: the table found (the
 * extension's, in its schema), quoted and qualified, not "bh_audit.tags":
 * with the schema renamed while the library was not preloaded, every
 * statement that reads or writes the tags (a tagged table's DROP, a tagged
 * column's RENAME, the tag cache's load) would fail; capture_status()
 * reports the rename.
 */
char *
bh_tags_catalog_name(void)
{
	Oid			relid = bh_tags_catalog();
	char	   *nspname = OidIsValid(relid) ? get_namespace_name(get_rel_namespace(relid)) : NULL;
	char	   *relname = OidIsValid(relid) ? get_rel_name(relid) : NULL;

	if (nspname == NULL || relname == NULL)
		elog(ERROR, "could not find bh_audit.tags");
	return quote_qualified_identifier(nspname, relname);
}

/*
 * The views that read the cached tagged relations or the ledger, directly
 * or through other views (a view's rule depends on every relation it
 * reads), or the untagged partitioned tables above partitions tagged on
 * their own (bh_tag_parents_load, first), into bh_tag_views and the name
 * index: each with the tagged relations (and the ledger) it reads, then
 * the partitions it reaches through such tables (nthrough).
 */
static void
bh_tag_views_load(void)
{
	HASH_SEQ_STATUS seq;
	BhTagSlot  *slot;
	BhTagView  *through;
	Datum	   *relids;
	int			n = 0;
	Oid			argtype = OIDARRAYOID;
	Datum		arg;
	uint64		i;

	/*
	 * Also with nothing tagged: a view over the ledger is one to know (a
	 * statement failing through it before its executor reads the ledger).
	 */
	relids = palloc(sizeof(Datum) * (hash_get_num_entries(bh_tag_cache) + bh_tag_nthrough + 1));
	hash_seq_init(&seq, bh_tag_cache);
	while ((slot = hash_seq_search(&seq)) != NULL)
		if (slot->tag != NULL)
			relids[n++] = ObjectIdGetDatum(slot->relid);
	hash_seq_init(&seq, bh_tag_views);
	while ((through = hash_seq_search(&seq)) != NULL)
		if (!through->inheritance)
			relids[n++] = ObjectIdGetDatum(through->relid);
	arg = PointerGetDatum(construct_array(relids, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (bh_spi_internal("WITH RECURSIVE reads(view, tbl) AS ("
						" SELECT r.ev_class, d.refobjid"
						"   FROM pg_catalog.pg_depend d"
						"   JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid"
						"  WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
						"    AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass"
						"    AND (d.refobjid OPERATOR(pg_catalog.=) ANY ($1)"
						"         OR d.refobjid OPERATOR(pg_catalog.=)"
						"            pg_catalog.to_regclass('bh_audit.events'))"
						"    AND r.ev_class OPERATOR(pg_catalog.<>) d.refobjid"
						" UNION"
						" SELECT r.ev_class, reads.tbl"
						"   FROM reads"
						"   JOIN pg_catalog.pg_depend d"
						"     ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
						"    AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass"
						"    AND d.refobjid OPERATOR(pg_catalog.=) reads.view"
						"   JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid"
						"    AND r.ev_class OPERATOR(pg_catalog.<>) reads.view)"
						" SELECT reads.view, c.relname, pg_catalog.array_agg(DISTINCT reads.tbl),"
						"        n.nspname"
						"   FROM reads JOIN pg_catalog.pg_class c ON c.oid = reads.view"
						"   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
						"  WHERE c.relkind = 'v'"
						"  GROUP BY reads.view, c.relname, n.nspname",
						1, &argtype, &arg, NULL, true) != SPI_OK_SELECT)
		elog(ERROR, "could not read the views over tagged tables");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Oid			view = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		char	   *relname = NameStr(*DatumGetName(SPI_getbinval(tup, desc, 2, &isnull)));
		ArrayType  *tables = DatumGetArrayTypeP(SPI_getbinval(tup, desc, 3, &isnull));
		char	   *nspname = NameStr(*DatumGetName(SPI_getbinval(tup, desc, 4, &isnull)));
		int			nread = ArrayGetNItems(ARR_NDIM(tables), ARR_DIMS(tables));
		Oid		   *read = (Oid *) ARR_DATA_PTR(tables);
		BhTagView **via = palloc(sizeof(BhTagView *) * Max(nread, 1));
		BhTagView  *entry;
		BhTagName  *name = bh_tag_name_enter(relname);
		int			ntables = 0;
		int			nthrough = 0;
		int			k;

		/*
		 * Each table it reads looked up once (the entries stay where they are
		 * as others are entered): the partitioned tables it reads stand for
		 * their partitions, last.
		 */
		for (k = 0; k < nread; k++)
		{
			via[k] = hash_search(bh_tag_views, &read[k], HASH_FIND, NULL);
			if (via[k] != NULL)
				nthrough += via[k]->ntables;
			else
				ntables++;
		}
		entry = hash_search(bh_tag_views, &view, HASH_ENTER, NULL);
		entry->tables = MemoryContextAlloc(bh_tag_cxt,
										   sizeof(Oid) * Max(ntables + nthrough, 1));
		entry->ntables = 0;
		for (k = 0; k < nread; k++)
			if (via[k] == NULL)
				entry->tables[entry->ntables++] = read[k];
		for (k = 0; k < nread; k++)
			if (via[k] != NULL)
			{
				memcpy(entry->tables + entry->ntables, via[k]->tables,
					   sizeof(Oid) * via[k]->ntables);
				entry->ntables += via[k]->ntables;
			}
		pfree(via);
		entry->nthrough = nthrough;
		entry->schema_name = MemoryContextStrdup(bh_tag_cxt, nspname);
		entry->partitioned = false;
		entry->inheritance = false;
		entry->relname = name->relname;
		entry->same_name = name->first_view;
		name->first_view = entry;
	}
	SPI_finish();
}

/*
 * The parent through which statements on it reach relid: its partitioned
 * table, unless relid is none or its DETACH ... CONCURRENTLY is pending.
 * PostgreSQL leaves such a partition out of its parent for every snapshot
 * taken after the detach's first transaction committed
 * (find_inheritance_children_extended(), omit_detached), as the cache's
 * loads are; only transactions older than that still reach it, and a
 * statement of one failing before its executor runs records no FAILURE
 * on it (docs/read-capture.md, "Not covered"; isolation
 * partition_parent_detach_old_snapshot).
 */
static Oid
bh_partition_parent_reached(Oid relid)
{
	bool		detach_pending;
	Oid			parent = bh_partition_parent(relid, &detach_pending);

	return detach_pending ? InvalidOid : parent;
}

/*
 * What the tables directly above relid are, in one value to compare: its
 * partitioned table (bh_partition_parent_reached), or, for a table that is
 * no partition, its inheritance parents combined (InvalidOid: none).  A
 * refresh that finds it changed for a table tagged on its own reloads the
 * cache (bh_tags_refresh_stale): the untagged tables above tagged ones
 * (bh_tag_parents_load) may have changed.
 */
static Oid
bh_tag_parents_key(Oid relid)
{
	Oid			parent = bh_partition_parent_reached(relid);
	List	   *parents;
	ListCell   *lc;
	uint32		key = 0;

	if (OidIsValid(parent) || get_rel_relispartition(relid))
		return parent;
	parents = bh_inheritance_parents(relid);
	foreach(lc, parents)
		key = (foreach_current_index(lc) == 0) ? lfirst_oid(lc) :
		hash_combine(key, lfirst_oid(lc));
	list_free(parents);
	return (parents != NIL && key == InvalidOid) ? (Oid) 1 : (Oid) key;
}

/*
 * The partitions of the partitioned table relid, at any depth, in the
 * order of their bounds, depth first: as PostgreSQL's partition descriptor
 * lists them and its planner expands them (expand_partitioned_rtentry), so
 * in the order of a plan's range table.  The descriptor needs a lock on
 * each partitioned table it is read from: one is taken if granted at once
 * (released when the load, or its retry, is done: bh_tags_ensure); false
 * if one was not (another transaction holds or waits for an ACCESS
 * EXCLUSIVE lock on it: an ALTER, a DROP, a TRUNCATE, a LOCK TABLE), and
 * order is then incomplete.
 */
static bool
bh_partitions_in_bound_order(Oid relid, List **order)
{
	Relation	rel;
	PartitionDesc pd;
	Oid		   *oids = NULL;
	bool	   *is_leaf = NULL;
	int			nparts = 0;
	bool		complete = true;
	int			i;

	if (!ConditionalLockRelationOid(relid, AccessShareLock))
		return false;
	rel = try_relation_open(relid, NoLock);
	if (rel == NULL)
		return true;			/* dropped meanwhile */
	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
	{
		/* copied: the locks below take in invalidations, which rebuild it */
		pd = RelationGetPartitionDesc(rel, true);
		nparts = pd->nparts;
		oids = palloc(sizeof(Oid) * Max(nparts, 1));
		is_leaf = palloc(sizeof(bool) * Max(nparts, 1));
		memcpy(oids, pd->oids, sizeof(Oid) * nparts);
		memcpy(is_leaf, pd->is_leaf, sizeof(bool) * nparts);
	}
	relation_close(rel, NoLock);
	for (i = 0; i < nparts && complete; i++)
	{
		*order = lappend_oid(*order, oids[i]);
		if (!is_leaf[i])
			complete = bh_partitions_in_bound_order(oids[i], order);
	}
	if (oids != NULL)
	{
		pfree(oids);
		pfree(is_leaf);
	}
	return complete;
}

/*
 * Put the tables of entry in the order of the list order (the tables it
 * names that entry holds, each once), those it does not name after them in
 * OID order.
 */
static void
bh_tag_view_put_in_order(BhTagView *entry, List *order)
{
	Oid		   *sorted = palloc(sizeof(Oid) * Max(entry->ntables, 1));
	bool	   *placed = palloc0(sizeof(bool) * Max(entry->ntables, 1));
	ListCell   *lc;
	int			n = 0;
	int			i;

	memcpy(sorted, entry->tables, sizeof(Oid) * entry->ntables);
	qsort(sorted, entry->ntables, sizeof(Oid), oid_cmp);
	foreach(lc, order)
	{
		Oid			table = lfirst_oid(lc);
		Oid		   *found = bsearch(&table, sorted, entry->ntables, sizeof(Oid),
									oid_cmp);

		if (found != NULL && !placed[found - sorted])
		{
			placed[found - sorted] = true;
			entry->tables[n++] = table;
		}
	}
	for (i = 0; i < entry->ntables; i++)
		if (!placed[i])
			entry->tables[n++] = sorted[i];
	pfree(sorted);
	pfree(placed);
}

/*
 * Put the tables of entry, a partitioned table's, in the order of their
 * bounds (bh_partitions_in_bound_order), those it did not find after them
 * in OID order; all in OID order, and false, when that order could not be
 * read (a lock not granted at once).  entry's tables change only once the
 * walk is done: an error in it (a cancel while the descriptor is read)
 * leaves them as they were.
 */
static bool
bh_tag_view_order(BhTagView *entry)
{
	List	   *order = NIL;
	bool		complete = bh_partitions_in_bound_order(entry->relid, &order);

	bh_tag_view_put_in_order(entry, complete ? order : NIL);
	list_free(order);
	return complete;
}

/*
 * Read again the order of the partitioned tables whose order the load
 * could not read (bh_tag_unordered), once per statement (and at least
 * once per transaction) while any is left: no invalidation tells when the
 * lock that kept it out is gone (a LOCK TABLE rolled back, an ALTER that
 * gave up waiting), and until then a statement's failure before the
 * executor would list their partitions in OID order, the executor's in
 * bound order.
 */
static void
bh_tag_order_retry(void)
{
	List	   *unordered = NIL;
	ListCell   *lc;
	MemoryContext old;

	bh_tag_order_tried_lxid = MyProc->lxid;
	bh_tag_order_tried_at = GetCurrentStatementStartTimestamp();
	foreach(lc, bh_tag_unordered)
	{
		Oid			relid = lfirst_oid(lc);
		BhTagView  *entry = hash_search(bh_tag_views, &relid, HASH_FIND, NULL);

		if (entry != NULL && !bh_tag_view_order(entry))
			unordered = lappend_oid(unordered, relid);
	}
	old = MemoryContextSwitchTo(bh_tag_cxt);
	list_free(bh_tag_unordered);
	bh_tag_unordered = list_copy(unordered);
	MemoryContextSwitchTo(old);
	list_free(unordered);
}

/*
 * Put the tables of entry, an inheritance parent's, in the order the
 * planner expands its children (find_all_inheritors(): level by level,
 * each parent's children in OID order), as bh_partition_tree() walks
 * them, without locks; those it did not find (dropped meanwhile) after
 * them.
 */
static void
bh_tag_inherit_order(BhTagView *entry)
{
	List	   *tree = bh_partition_tree(entry->relid);

	bh_tag_view_put_in_order(entry, tree);
	list_free(tree);
}

/*
 * The untagged partitioned tables above the partitions tagged on their
 * own, at any depth, into bh_tag_views (partitioned) and the name index,
 * each with those partitions in the order of their bounds (see
 * bh_tag_view_order; all in OID order when it could not lock a partitioned
 * table, until a later statement reads that order again,
 * bh_tag_order_retry): a statement that names such a table
 * reaches them without naming them, and its failure before the executor
 * is theirs (the executor knows the partitions its plan reaches, in the
 * same order).
 * The ancestors are read from pg_inherits without locks, as
 * bh_tag_fill_tree() reads the partitions: one dropped meanwhile is
 * skipped; a partition whose detach is pending is under none (see
 * bh_partition_parent_reached).  A relcache invalidation of one (a
 * partition created, attached or detached, a rename) reloads the whole
 * cache, as a view's does (bh_tags_relcache_cb); none at all when no
 * tagged table is a partition under an untagged one.  A tagged table
 * attached under a partitioned table that is none of them yet invalidates
 * only itself: the parent of each catalog row's table is kept
 * (bh_tag_row_parents), and a refresh that finds it changed reloads the
 * cache (bh_tags_refresh_stale).
 *
 * So, too, the untagged inheritance parents above tagged tables, at any
 * depth (a table may have several parents), into bh_tag_views
 * (inheritance) but not the name index (see below), each with those
 * tables in the order the planner expands its children
 * (bh_tag_inherit_order); bh_tag_ninherit counts them, so that a
 * statement on a plain table pays nothing when there are none.  They are
 * learnt of as the partitioned ones are: a relcache invalidation of one
 * (ALTER TABLE ... INHERIT or NO INHERIT of it, a rename, a DROP) reloads
 * the cache, and so does a tagged table whose parents changed (ALTER TABLE
 * ... INHERIT or NO INHERIT of it, its DROP: bh_tag_parents_key).
 */
static void
bh_tag_parents_load(void)
{
	HASHCTL		ctl;
	List	   *parents = NIL;
	List	   *below = NIL;	/* for each of parents, its tagged partitions */
	List	   *inherited = NIL;	/* for each, whether an inheritance parent */
	ListCell   *lc1;
	ListCell   *lc2;
	ListCell   *lc3;
	int			i;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(BhTagView);
	ctl.hcxt = bh_tag_cxt;
	bh_tag_views = hash_create("bh_audit tagged views", 16, &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	bh_tag_row_parents = MemoryContextAllocZero(bh_tag_cxt,
												sizeof(Oid) * Max(bh_tag_nrows, 1));
	for (i = 0; i < bh_tag_nrows; i++)
	{
		Oid			tbl = bh_tag_rows[i].tbl;
		List	   *above;
		bool		partition;
		int			j;

		if (!hash_search(bh_tag_cache, &tbl, HASH_FIND, NULL))
			continue;			/* dropped */
		bh_tag_row_parents[i] = bh_tag_parents_key(tbl);

		/*
		 * A partition's partitioned tables, one above the other; a table's
		 * inheritance parents, each of which may have several of its own
		 * (each taken once: the same one may be reached by two ways)
		 */
		partition = get_rel_relispartition(tbl);
		above = partition ? list_make1_oid(bh_partition_parent_reached(tbl)) :
			bh_inheritance_parents(tbl);
		for (j = 0; j < list_length(above); j++)
		{
			Oid			ancestor = list_nth_oid(above, j);
			BhTagSlot  *slot;
			int			k;

			if (!OidIsValid(ancestor))
				break;			/* above the top partitioned table */
			if (partition)
				above = lappend_oid(above, bh_partition_parent_reached(ancestor));
			else
			{
				List	   *more = bh_inheritance_parents(ancestor);

				above = list_concat_unique_oid(above, more);
				list_free(more);
			}
			slot = hash_search(bh_tag_cache, &ancestor, HASH_FIND, NULL);
			if (slot != NULL && slot->tag != NULL)
				continue;		/* tagged: its statements name a tagged table */
			k = list_length(parents);
			foreach(lc1, parents)
				if (lfirst_oid(lc1) == ancestor)
			{
				k = foreach_current_index(lc1);
				break;
			}
			if (k == list_length(parents))
			{
				parents = lappend_oid(parents, ancestor);
				below = lappend(below, NIL);
				inherited = lappend_int(inherited, !partition);
			}
			lfirst(list_nth_cell(below, k)) = lappend_oid(list_nth(below, k), tbl);
		}
		list_free(above);
	}
	forthree(lc1, parents, lc2, below, lc3, inherited)
	{
		Oid			parent = lfirst_oid(lc1);
		List	   *tables = lfirst(lc2);
		char	   *relname = get_rel_name(parent);
		char	   *schema_name = get_namespace_name(get_rel_namespace(parent));
		BhTagView  *entry;
		BhTagName  *name;
		ListCell   *lc;
		int			n = 0;

		if (relname == NULL || schema_name == NULL)
			continue;			/* dropped meanwhile */
		entry = hash_search(bh_tag_views, &parent, HASH_ENTER, NULL);
		entry->tables = MemoryContextAlloc(bh_tag_cxt, sizeof(Oid) * list_length(tables));
		foreach(lc, tables)
			entry->tables[n++] = lfirst_oid(lc);
		entry->ntables = n;
		entry->nthrough = n;
		entry->schema_name = MemoryContextStrdup(bh_tag_cxt, schema_name);
		if (lfirst_int(lc3))
		{
			/*
			 * Not in the name index: the planner hook finds it by its OID in
			 * a query's range table, where ONLY and an INSERT's target (no
			 * child reached) show; a failure matched by the text's names
			 * could not tell them.
			 */
			bh_tag_inherit_order(entry);
			entry->partitioned = false;
			entry->inheritance = true;
			entry->relname = MemoryContextStrdup(bh_tag_cxt, relname);
			entry->same_name = NULL;
			bh_tag_ninherit++;
			list_free(tables);
			continue;
		}
		if (!bh_tag_view_order(entry))
		{
			MemoryContext old = MemoryContextSwitchTo(bh_tag_cxt);

			bh_tag_unordered = lappend_oid(bh_tag_unordered, parent);
			MemoryContextSwitchTo(old);
		}
		entry->partitioned = true;
		entry->inheritance = false;
		name = bh_tag_name_enter(relname);
		entry->relname = name->relname;
		entry->same_name = name->first_view;
		name->first_view = entry;
		bh_tag_nthrough++;
		list_free(tables);
	}
	list_free(parents);
	list_free(below);
	list_free(inherited);
}

/* (Re)load the catalog rows into a fresh cache. */
static void
bh_tags_load(void)
{
	MemoryContext old;
	HASHCTL		ctl;
	uint64		i;

	bh_tag_cache_loaded = false;
	bh_tags_inval_in_load = false;

	/*
	 * The previous load lives on until the next one: a caller may hold a tag
	 * while something it calls reloads the cache (a column's output function
	 * that runs SQL), but not across two reloads (see the file header).  What
	 * lives longer than a call copies what it needs (a scan's output
	 * function: a cursor can be fetched across reloads).
	 */
	if (bh_tag_cxt_previous != NULL)
		MemoryContextDelete(bh_tag_cxt_previous);
	bh_tag_cxt_previous = bh_tag_cxt;
	bh_tag_cxt = AllocSetContextCreate(TopMemoryContext, "bh_audit tags",
									   ALLOCSET_SMALL_SIZES);
	bh_tag_cache = NULL;
	bh_tag_memo_forget();
	bh_tag_row_index = NULL;
	bh_tag_names = NULL;
	bh_tag_views = NULL;
	bh_tag_nthrough = 0;
	bh_tag_ninherit = 0;
	bh_tag_rows = NULL;
	bh_tag_nrows = 0;
	bh_tag_row_parents = NULL;
	bh_tag_unordered = NIL;
	bh_tag_nstale = 0;
	bh_tag_refills = 0;
	bh_tag_tagged_slots = 0;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.hcxt = bh_tag_cxt;

	/*
	 * Read the tagging as last committed, like the catalog, not as this
	 * statement's or transaction's snapshot saw it: a tag committed since
	 * (its invalidation is what brought us here) must show, in every
	 * isolation level.
	 */
	PushActiveSnapshot(GetLatestSnapshot());
	bh_tags_relid = bh_tags_catalog();
	if (OidIsValid(bh_tags_relid))
	{
		/* (by the name of the table found: bh_tags_catalog_name()) */
		char	   *sql = psprintf("SELECT tbl, resource_type, id_column, patient_column, "
								   "classification, part2, capture_reads, capture_writes "
								   "FROM %s", bh_tags_catalog_name());

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (bh_spi_internal(sql, 0, NULL, NULL, NULL, true) != SPI_OK_SELECT)
			elog(ERROR, "could not read bh_audit.tags");
		pfree(sql);
		old = MemoryContextSwitchTo(bh_tag_cxt);
		bh_tag_rows = palloc0(sizeof(BhTagRow) * Max(SPI_processed, 1));
		bh_tag_nrows = 0;
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			BhTagRow   *r = &bh_tag_rows[bh_tag_nrows];
			bool		isnull;
			int			col;

			/*
			 * Only patient_column may be NULL; a row with another NULL (the
			 * columns are NOT NULL: a superuser's change) tags nothing: it is
			 * skipped with a WARNING, in every session that loads the tags,
			 * until the row is mended.
			 */
			for (col = 1; col <= 8; col++)
			{
				(void) SPI_getbinval(tup, desc, col, &isnull);
				if (isnull && col != 4)
					break;
			}
			if (col <= 8)
			{
				char	   *tbl = SPI_getvalue(tup, desc, 1);

				ereport(WARNING,
						(errmsg("bh_audit.tags has a NULL %s for table %s: the row is ignored",
								SPI_fname(desc, col), tbl ? tbl : "?"),
						 errhint("Set the column again, or delete the row and tag the table again with bh_audit.tag_table().")));
				continue;
			}
			r->tbl = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
			r->resource_type = SPI_getvalue(tup, desc, 2);
			r->id_column = SPI_getvalue(tup, desc, 3);
			r->patient_column = SPI_getvalue(tup, desc, 4);
			r->classification = SPI_getvalue(tup, desc, 5);
			r->part2 = DatumGetBool(SPI_getbinval(tup, desc, 6, &isnull));
			r->capture_reads = DatumGetBool(SPI_getbinval(tup, desc, 7, &isnull));
			r->capture_writes = DatumGetBool(SPI_getbinval(tup, desc, 8, &isnull));
			bh_tag_nrows++;
		}
		MemoryContextSwitchTo(old);
		SPI_finish();
	}
	ctl.entrysize = sizeof(BhTagSlot);
	bh_tag_cache = hash_create("bh_audit tag cache", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.entrysize = sizeof(BhTagRowEntry);
	bh_tag_row_index = hash_create("bh_audit tag rows", Max(bh_tag_nrows, 16), &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (i = 0; i < (uint64) bh_tag_nrows; i++)
	{
		BhTagRowEntry *entry = hash_search(bh_tag_row_index, &bh_tag_rows[i].tbl,
										   HASH_ENTER, NULL);

		entry->row = &bh_tag_rows[i];
	}
	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(BhTagName);
	bh_tag_names = hash_create("bh_audit tag names", 64, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	/*
	 * Every tagged table and every partition of one has its entry from the
	 * start: a statement that fails before the executor is matched against
	 * the cache alone, on the abort path (capture_read.c).
	 */
	for (i = 0; i < (uint64) bh_tag_nrows; i++)
	{
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(bh_tag_rows[i].tbl)))
			continue;
		list_free(bh_tag_fill_tree(bh_tag_rows[i].tbl, false));
	}
	bh_tag_parents_load();
	bh_tag_views_load();
	PopActiveSnapshot();
	bh_tag_cache_valid = !bh_tags_inval_in_load;
	bh_tag_cache_loaded = true;
}

/*
 * Make sure the cache is loaded.  The load's own catalog query passes
 * through the planner and executor hooks, which look relations up: while
 * it runs, lookups answer "not tagged".
 *
 * A cancel or a timeout (statement_timeout, lock_timeout) that arrives
 * during the load takes effect once it is done: raised inside it, the
 * error would leave the session without a cache, and failure capture,
 * which finds the failing statement's tagged tables in it, would record
 * nothing (a session's first load of thousands of tags takes a tenth of a
 * second).  The lock on bh_audit.tags is taken first, still cancellable:
 * a session waiting behind an ALTER or VACUUM FULL of the tag catalog (or
 * behind one queued for a lock that an idle transaction holds) can be
 * cancelled or time out as usual; only a wait for a system catalog that
 * such maintenance locks (pg_rewrite, pg_depend) is held to the end.  A
 * terminate is not held.  An error inside the load resets the hold as it
 * propagates (errfinish), so it is released only on success, by restoring
 * the count as it was (an error caught within the load has reset it too).
 *
 * The locks the load takes (the tag catalog's, and the system catalogs' its
 * queries read, the partitioned tables' whose order it reads) are released
 * when it is done, not held to the end of the transaction: the cache
 * follows later changes by their invalidations, and a transaction holding
 * the tag catalog would make a DROP EXTENSION wait for it (config_guard.c),
 * and every other session's load wait behind the drop.  So are those of a
 * later reading of an order the load could not read (bh_tag_order_retry).
 * They are taken under a resource owner of their own; an error leaves
 * them to the (sub)transaction's abort.
 */
static void bh_tags_refresh(void);

static void
bh_tags_load_locked(void)
{
	Oid			tags_relid = bh_tags_catalog();

	if (OidIsValid(tags_relid))
		LockRelationOid(tags_relid, AccessShareLock);
	bh_tags_loading = true;
	HOLD_CANCEL_INTERRUPTS();
	bh_tags_load();
}

/* Run work() with the locks it takes released when it is done. */
static void
bh_tags_run_unlocked(void (*work) (void))
{
	ResourceOwner owner = CurrentResourceOwner;
	ResourceOwner work_owner = ResourceOwnerCreate(owner, "bh_audit tag cache load");

	CurrentResourceOwner = work_owner;
	PG_TRY();
	{
		work();
	}
	PG_FINALLY();
	{
		bh_tags_loading = false;
		CurrentResourceOwner = owner;
	}
	PG_END_TRY();
	/* released as by an abort (a commit would hand them to the owner above) */
	ResourceOwnerRelease(work_owner, RESOURCE_RELEASE_BEFORE_LOCKS, true, false);
	ResourceOwnerRelease(work_owner, RESOURCE_RELEASE_LOCKS, false, false);
	ResourceOwnerRelease(work_owner, RESOURCE_RELEASE_AFTER_LOCKS, true, false);
	ResourceOwnerDelete(work_owner);
}

void
bh_tags_ensure(void)
{
	uint32		cancel_holdoff = QueryCancelHoldoffCount;

	if (bh_tags_loading)
		return;

	/*
	 * no SQL at commit: the cache as last loaded (see tags.c's
	 * bh_tag_dropped)
	 */
	if (bh_xact_committing())
		return;

	/*
	 * Nor in the middle of the extension's own DDL (tag_table() creating the
	 * capture triggers of each of a thousand partitions, each an
	 * invalidation): the cache as last loaded until it is done; the tagging
	 * itself invalidates it at the end.
	 */
	if (bh_tags_internal_ddl && bh_tag_cache_loaded)
		return;
	if (bh_tag_cache_valid)
	{
		/* its locks may take in invalidations, which the tests below see */
		if (bh_tag_unordered != NIL &&
			(MyProc->lxid != bh_tag_order_tried_lxid ||
			 GetCurrentStatementStartTimestamp() != bh_tag_order_tried_at))
			bh_tags_run_unlocked(bh_tag_order_retry);
		if (bh_tag_cache_valid && bh_tag_nstale == 0)
			return;
		if (bh_tag_cache_valid)
		{
			bh_tags_refresh();
			if (bh_tag_cache_valid)
				return;
		}
	}
	bh_tags_run_unlocked(bh_tags_load_locked);
	QueryCancelHoldoffCount = cancel_holdoff;
}

/* The catalog row for exactly this table, or NULL. */
BhTagRow *
bh_tag_row(Oid relid)
{
	BhTagRowEntry *entry;

	if (bh_tag_row_index == NULL)
		return NULL;
	entry = hash_search(bh_tag_row_index, &relid, HASH_FIND, NULL);
	return entry ? entry->row : NULL;
}

/*
 * "schema.table" of a relation, as events name it: each part quoted where
 * SQL would need it ("Clinic"."a.b" is not clinic.a.b), whatever the
 * session's quote_all_identifiers (bh_qualified_name_text()); NULL if the
 * relation (or its schema) no longer exists.
 */
char *
bh_table_name_if_exists(Oid relid)
{
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	NameData	relname;
	Oid			nspid;
	char	   *schema;

	if (!HeapTupleIsValid(tp))
		return NULL;
	relname = ((Form_pg_class) GETSTRUCT(tp))->relname;
	nspid = ((Form_pg_class) GETSTRUCT(tp))->relnamespace;
	ReleaseSysCache(tp);
	schema = get_namespace_name(nspid);
	return schema ? bh_qualified_name_text(schema, NameStr(relname)) : NULL;
}

/* The same, of a relation that must exist (one the caller has locked). */
char *
bh_table_name(Oid relid)
{
	char	   *name = bh_table_name_if_exists(relid);

	if (name == NULL)
		elog(ERROR, "cache lookup failed for relation %u", relid);
	return name;
}

/*
 * The number and type of relid's column attname (InvalidAttrNumber if it
 * has none, or its type is gone: a DROP TYPE ... CASCADE drops the column).
 */
static AttrNumber
bh_column(Oid relid, const char *attname, Oid *typid)
{
	HeapTuple	tp = SearchSysCacheAttName(relid, attname);
	AttrNumber	attnum;

	if (!HeapTupleIsValid(tp))
		return InvalidAttrNumber;
	attnum = ((Form_pg_attribute) GETSTRUCT(tp))->attnum;
	*typid = ((Form_pg_attribute) GETSTRUCT(tp))->atttypid;
	ReleaseSysCache(tp);
	return SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(*typid)) ? attnum : InvalidAttrNumber;
}

/*
 * A new tag for relid from its tag row (its own or its tagged ancestor's).
 * parent, if given, is the tag of relid's parent from the same row: its
 * tagged table's name and its columns' output functions are relid's too
 * (a partition's columns have its parent's types).
 *
 * NULL if relid, its schema or its tagged table no longer exists: no lock
 * is held on a partition while the cache is filled, and it may be dropped
 * (or its tree) at any catalog access here, each of which can take in the
 * invalidations that tell so.  The caller enters relid's slot first: an
 * invalidation of relid taken in after the last check here marks it to be
 * resolved again.
 */
static BhTag *
bh_tag_new(Oid relid, BhTagRow *row, const BhTag *parent)
{
	MemoryContext old;
	BhTag	   *tag;
	HeapTuple	tp;
	NameData	relname;
	Oid			nspid;
	bool		rowsecurity;
	char	   *schema_name;
	char	   *tagged_table_name = NULL;
	AttrNumber	id_attnum;
	AttrNumber	patient_attnum = InvalidAttrNumber;
	Oid			id_type = InvalidOid;
	Oid			patient_type = InvalidOid;

	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tp))
		return NULL;
	relname = ((Form_pg_class) GETSTRUCT(tp))->relname;
	nspid = ((Form_pg_class) GETSTRUCT(tp))->relnamespace;
	rowsecurity = ((Form_pg_class) GETSTRUCT(tp))->relrowsecurity;
	ReleaseSysCache(tp);
	if ((schema_name = get_namespace_name(nspid)) == NULL)
		return NULL;
	if (relid != row->tbl && parent == NULL &&
		(tagged_table_name = bh_table_name_if_exists(row->tbl)) == NULL)
		return NULL;
	id_attnum = bh_column(relid, row->id_column, &id_type);
	if (row->patient_column)
		patient_attnum = bh_column(relid, row->patient_column, &patient_type);

	old = MemoryContextSwitchTo(bh_tag_cxt);
	tag = palloc0(sizeof(BhTag));
	tag->relid = relid;
	tag->tagged_relid = row->tbl;
	tag->relname = pstrdup(NameStr(relname));
	tag->schema_name = pstrdup(schema_name);
	tag->table_name = bh_qualified_name_text(tag->schema_name, tag->relname);
	if (relid == row->tbl)
		tag->tagged_table_name = tag->table_name;
	else if (parent != NULL)
		tag->tagged_table_name = parent->tagged_table_name;
	else
		tag->tagged_table_name = pstrdup(tagged_table_name);
	tag->resource_type = row->resource_type;
	tag->id_column = row->id_column;
	tag->patient_column = row->patient_column;
	tag->classification = row->classification;
	tag->part2 = row->part2;
	tag->capture_reads = row->capture_reads;
	tag->capture_writes = row->capture_writes;
	/* ALTER TABLE ... ENABLE or DISABLE ROW LEVEL SECURITY invalidates relid */
	tag->rowsecurity = rowsecurity;

	tag->id_attnum = id_attnum;
	if (tag->id_attnum != InvalidAttrNumber)
	{
		if (parent != NULL && parent->id_attnum != InvalidAttrNumber)
			bh_id_output_copy(&tag->id_out, &parent->id_out, bh_tag_cxt);
		else
			bh_id_output_init(&tag->id_out, id_type, bh_tag_cxt);
	}
	tag->patient_attnum = patient_attnum;
	if (tag->patient_attnum != InvalidAttrNumber)
	{
		if (parent != NULL && parent->patient_attnum != InvalidAttrNumber)
			bh_id_output_copy(&tag->patient_out, &parent->patient_out, bh_tag_cxt);
		else
			bh_id_output_init(&tag->patient_out, patient_type, bh_tag_cxt);
	}
	MemoryContextSwitchTo(old);
	tag->same_name = NULL;
	tag->tagged = true;

	/* dropped since: the tag is left in the cache's memory, counted so */
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
	{
		bh_tag_refills++;
		return NULL;
	}
	return tag;
}

/*
 * The tag of relid: its own tag row, else its nearest tagged ancestor's
 * (through a pending detach too: bh_partition_parent()); NULL if none.
 */
static BhTag *
bh_tag_resolve(Oid relid)
{
	BhTagRow   *row = bh_tag_row(relid);
	Oid			ancestor = relid;

	while (row == NULL && OidIsValid(ancestor = bh_partition_parent(ancestor, NULL)))
		row = bh_tag_row(ancestor);
	return row ? bh_tag_new(relid, row, NULL) : NULL;
}

/* Take tag out of the name index. */
static void
bh_tag_name_unlink(BhTag *tag)
{
	BhTagName  *entry;
	BhTag	  **link;

	if (tag->relname == NULL ||
		(entry = hash_search(bh_tag_names, tag->relname, HASH_FIND, NULL)) == NULL)
		return;
	for (link = &entry->first; *link != NULL; link = &(*link)->same_name)
		if (*link == tag)
		{
			*link = tag->same_name;
			return;
		}
}

/*
 * Make tag (NULL: not tagged) relid's cache entry, in place of the one it
 * had, which stays in memory (BhTagSlot).
 */
static void
bh_tag_set(Oid relid, BhTag *tag)
{
	bool		found;
	BhTagSlot  *slot = hash_search(bh_tag_cache, &relid, HASH_ENTER, &found);

	bh_tag_memo_forget();
	if (found && slot->tag != NULL)
	{
		bh_tag_name_unlink(slot->tag);
		bh_tag_refills++;
		bh_tag_tagged_slots--;
	}
	slot->tag = tag;
	if (tag != NULL)
		bh_tag_tagged_slots++;
	if (tag != NULL)
	{
		BhTagName  *entry = bh_tag_name_enter(tag->relname);

		tag->same_name = entry->first;
		entry->first = tag;
	}
}

/*
 * Take relid's entry out of the cache (a relation dropped); its tag, if
 * any, stays in memory (BhTagSlot).
 */
static void
bh_tag_forget(Oid relid)
{
	BhTagSlot  *slot = hash_search(bh_tag_cache, &relid, HASH_FIND, NULL);

	if (slot == NULL)
		return;
	bh_tag_memo_forget();
	if (slot->tag != NULL)
	{
		bh_tag_name_unlink(slot->tag);
		bh_tag_refills++;
		bh_tag_tagged_slots--;
	}
	hash_search(bh_tag_cache, &relid, HASH_REMOVE, NULL);
}

/*
 * Does a view (or any rule) read relid?  A relation that joins a tagged
 * tree (ATTACH PARTITION) makes the views over it views over a tagged
 * relation, which only a load finds (bh_tag_views_load).
 */
static bool
bh_rel_has_rules(Oid relid)
{
	Relation	depend = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RelationRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(depend, DependReferenceIndexId, true, NULL, 2, key);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
		found = ((Form_pg_depend) GETSTRUCT(tup))->classid == RewriteRelationId;
	systable_endscan(scan);
	table_close(depend, AccessShareLock);
	return found;
}

/*
 * Fill the entries of top, a tagged table, and of every partition under it
 * at any depth (through pending detaches too, as bh_partition_tree()): each
 * with the row of its nearest tagged ancestor, passed down the walk rather
 * than looked up again for each partition.  A load keeps the entries filled
 * already (refill false: by another tagged table's walk, the same answer);
 * a refresh fills them all again, and a relation that was not tagged before
 * and has views over it makes the whole cache load again.  No partition is
 * locked (the planner hook of every statement may come here; locks would
 * be held to the end of its transaction, waiting behind any DDL of any
 * partition): one dropped during the walk, which any catalog access may
 * reveal, is skipped with what is under it and its entry taken out, and
 * the invalidation its drop sent marks what the walk had read of it
 * (entries are made before they are filled) for the next refresh; one
 * created after its parent's partitions were read is found by the next
 * refresh, which the invalidation of the parent brings.  Returns the
 * relations walked.
 */
static List *
bh_tag_fill_tree(Oid top, bool refill)
{
	List	   *rels = list_make1_oid(top);
	List	   *rows = list_make1(bh_tag_row(top));
	List	   *parents = list_make1(NULL);
	int			i;

	for (i = 0; i < list_length(rels); i++)
	{
		Oid			rel = list_nth_oid(rels, i);
		BhTagRow   *row = list_nth(rows, i);
		BhTag	   *parent = list_nth(parents, i);
		BhTagSlot  *slot;
		BhTag	   *tag = NULL;
		bool		found;
		List	   *children;
		ListCell   *lc;

		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(rel)))
		{
			bh_tag_forget(rel); /* dropped meanwhile */
			continue;
		}
		slot = hash_search(bh_tag_cache, &rel, HASH_FIND, NULL);
		if (slot != NULL && slot->tag != NULL && !refill)
			tag = slot->tag;
		else
		{
			/* entered first: see bh_tag_new() */
			slot = hash_search(bh_tag_cache, &rel, HASH_ENTER, &found);
			if (!found)
				slot->tag = NULL;
			if (refill && slot->tag == NULL && bh_rel_has_rules(rel))
				bh_tag_cache_valid = false;
			if ((tag = bh_tag_new(rel, row, parent)) == NULL)
			{
				bh_tag_forget(rel); /* dropped meanwhile, with its partitions */
				continue;
			}
			bh_tag_set(rel, tag);
		}
		children = bh_partition_children(rel);
		foreach(lc, children)
		{
			Oid			child = lfirst_oid(lc);
			BhTagRow   *own = bh_tag_row(child);

			rels = lappend_oid(rels, child);
			rows = lappend(rows, own ? own : row);
			parents = lappend(parents, own ? NULL : tag);
		}
		list_free(children);
	}
	list_free(rows);
	list_free(parents);
	return rels;
}

/* Resolve relid's entry again, on its own (none: dropped meanwhile). */
static void
bh_tag_refill(Oid relid)
{
	BhTag	   *tag = bh_tag_resolve(relid);

	if (tag == NULL && !SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		bh_tag_forget(relid);
	else
		bh_tag_set(relid, tag);
}

/*
 * The tree of tagged table top changed, or its names did: fill its entries
 * again, and resolve on their own those of relations that had top's tag
 * and are no longer under it (a detached partition).
 */
static void
bh_tag_refresh_tree(Oid top)
{
	HASH_SEQ_STATUS seq;
	BhTagSlot  *slot;
	List	   *before = NIL;
	List	   *before_tags = NIL;
	ListCell   *lc1;
	ListCell   *lc2;

	if (bh_tag_row(top) == NULL || !SearchSysCacheExists1(RELOID, ObjectIdGetDatum(top)))
	{
		bh_tag_cache_valid = false;
		return;
	}
	hash_seq_init(&seq, bh_tag_cache);
	while ((slot = hash_seq_search(&seq)) != NULL)
		if (slot->tag != NULL && slot->tag->tagged_relid == top)
		{
			before = lappend_oid(before, slot->relid);
			before_tags = lappend(before_tags, slot->tag);
		}
	list_free(bh_tag_fill_tree(top, true));
	forboth(lc1, before, lc2, before_tags)
	{
		Oid			relid = lfirst_oid(lc1);

		slot = hash_search(bh_tag_cache, &relid, HASH_FIND, NULL);
		if (slot != NULL && slot->tag == lfirst(lc2))
			bh_tag_refill(relid);
	}
	list_free(before);
	list_free(before_tags);
}

/*
 * relid's relkind, '\0' if it no longer exists, read from pg_class itself:
 * a catalog cache lookup of a dropped relation's OID would leave a "no
 * such relation" entry in PostgreSQL's cache for the session's life (it
 * evicts none, and nothing invalidates that OID again), about 150 bytes
 * for every table the tag cache had seen and that was dropped.
 */
static char
bh_relkind_uncached(Oid relid)
{
	Relation	pg_class;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	char		relkind = '\0';

	pg_class = table_open(RelationRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_class_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(pg_class, ClassOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		relkind = ((Form_pg_class) GETSTRUCT(tuple))->relkind;
	systable_endscan(scan);
	table_close(pg_class, AccessShareLock);
	return relkind;
}

/*
 * One round of bh_tags_refresh: the relations invalidated so far.  A
 * partitioned table's invalidation (a partition created, attached or
 * detached, a rename) refills its tagged table's whole tree, and drops
 * every cached "not tagged" (a relation under it may have joined a tagged
 * tree); a tagged table's refills its tree (its name is in every
 * partition's tag); any other relation's refills its own entry.  A dropped
 * relation counts as a partitioned table, and its entry is taken out
 * (unless it is a tagged table, whose tree is refilled: the catalog's
 * change that untags it follows).
 */
static void
bh_tags_refresh_stale(void)
{
	Oid			stale[BH_TAG_STALE_MAX];
	int			n = bh_tag_nstale;
	List	   *trees = NIL;
	bool		negatives = false;
	ListCell   *lc;
	int			i;

	memcpy(stale, bh_tag_stale, sizeof(Oid) * n);
	bh_tag_nstale = 0;
	for (i = 0; i < n; i++)
	{
		BhTagSlot  *slot;
		BhTagRow   *row;
		char		relkind;
		bool		partitioned;

		slot = hash_search(bh_tag_cache, &stale[i], HASH_FIND, NULL);
		if (slot == NULL)
			continue;

		/*
		 * A table tagged on its own attached or detached: the untagged
		 * partitioned tables above tagged partitions (bh_tag_parents_load)
		 * may have changed, and only a load finds them.
		 */
		if ((row = bh_tag_row(stale[i])) != NULL &&
			bh_tag_parents_key(stale[i]) != bh_tag_row_parents[row - bh_tag_rows])
		{
			bh_tag_cache_valid = false;
			break;
		}
		relkind = bh_relkind_uncached(stale[i]);
		partitioned = (relkind == RELKIND_PARTITIONED_TABLE || relkind == '\0');
		negatives |= partitioned;
		if (slot->tag == NULL)
		{
			bh_tag_memo_forget();
			hash_search(bh_tag_cache, &stale[i], HASH_REMOVE, NULL);
		}
		else if (relkind == RELKIND_PARTITIONED_TABLE || slot->tag->tagged_relid == stale[i])
			trees = list_append_unique_oid(trees, slot->tag->tagged_relid);
		else if (relkind == '\0')
			bh_tag_forget(stale[i]);
		else
			bh_tag_refill(stale[i]);
	}
	if (!bh_tag_cache_valid)
	{
		list_free(trees);
		return;
	}
	foreach(lc, trees)
		bh_tag_refresh_tree(lfirst_oid(lc));
	list_free(trees);
	if (negatives)
	{
		HASH_SEQ_STATUS seq;
		BhTagSlot  *slot;

		bh_tag_memo_forget();
		hash_seq_init(&seq, bh_tag_cache);
		while ((slot = hash_seq_search(&seq)) != NULL)
			if (slot->tag == NULL)
				hash_search(bh_tag_cache, &slot->relid, HASH_REMOVE, NULL);
	}
}

/*
 * Re-resolve the entries that relcache invalidations of cached relations
 * may have changed (bh_tags_relcache_cb), from the catalog rows as loaded:
 * a change of the rows themselves reloads the whole cache.  Invalidations
 * that arrive meanwhile are handled in the next round.  Cancels are held as
 * for a load; an error leaves the cache to be loaded again.  Once the
 * replaced tags left in memory outnumber the cached relations, the whole
 * cache is loaded again instead, which frees them.
 */
static void
bh_tags_refresh(void)
{
	uint32		cancel_holdoff = QueryCancelHoldoffCount;

	HOLD_CANCEL_INTERRUPTS();
	PG_TRY();
	{
		while (bh_tag_nstale > 0 && bh_tag_cache_valid)
			bh_tags_refresh_stale();
		if (bh_tag_refills > Max(BH_TAG_REFILLS_MIN, bh_tag_tagged_slots))
			bh_tag_cache_valid = false;
	}
	PG_CATCH();
	{
		bh_tag_cache_valid = false;
		PG_RE_THROW();
	}
	PG_END_TRY();
	QueryCancelHoldoffCount = cancel_holdoff;
}

/*
 * The tag that applies to relid (its own, or its nearest tagged ancestor's
 * for a partition), or NULL.  No catalog query once cached.
 */
const BhTag *
bh_tag_lookup(Oid relid)
{
	BhTagSlot  *slot;
	BhTag	   *tag;
	bool		found;

	if (bh_tags_loading)
		return NULL;

	/*
	 * Nor are the system catalogs (tag_table() refuses them): asked about
	 * one, the answer needs no load, which could not read the catalogs while
	 * a REINDEX of one of them rebuilds its indexes (the planner asks how
	 * many workers to build each with).
	 */
	if (IsCatalogRelationOid(relid))
		return NULL;

	/*
	 * The catalog itself is never tagged (tag_table() refuses the schema
	 * bh_audit), and it cannot be read while a TRUNCATE or REINDEX of it
	 * rebuilds its index: the planner asks about it then.
	 */
	if (!bh_tag_cache_valid && OidIsValid(relid) && relid == bh_tags_catalog())
		return NULL;

	/*
	 * Asked about last, while the cache is as bh_tags_ensure() would leave it
	 * (valid, nothing stale, no view's order to read again): the same answer
	 * as the hash table's, without it.
	 */
	if (relid == bh_tag_memo_relid && bh_tags_current())
		return bh_tag_memo_tag;
	bh_tags_ensure();
	if (bh_tag_nrows == 0)
		return NULL;

	/*
	 * The entry is made before it is resolved, so that an invalidation of
	 * relid that arrives while it is (the catalog reads it makes accept them)
	 * marks it to be resolved again.
	 */
	slot = hash_search(bh_tag_cache, &relid, HASH_ENTER, &found);
	if (found)
	{
		bh_tag_memo_relid = relid;
		bh_tag_memo_tag = slot->tag;
		return slot->tag;
	}
	slot->tag = NULL;
	tag = bh_tag_resolve(relid);
	if (tag != NULL)
		bh_tag_set(relid, tag);
	return tag;
}

/*
 * The tables tagged on their own under partitioned table root, at any
 * depth (root itself not): each a partition whose tag row is its own.  For
 * the statements that route rows from root to partitions (their tags known
 * only once a row is routed); NIL at once when no tagged table is a
 * partition.
 */
List *
bh_tags_below(Oid root)
{
	List	   *below = NIL;
	int			i;

	if (bh_tags_loading)
		return NIL;
	bh_tags_ensure();
	for (i = 0; i < bh_tag_nrows; i++)
	{
		Oid			tbl = bh_tag_rows[i].tbl;
		Oid			ancestor = tbl;

		if (tbl == root || !get_rel_relispartition(tbl))
			continue;
		while (OidIsValid(ancestor = bh_partition_parent(ancestor, NULL)))
			if (ancestor == root)
			{
				below = lappend_oid(below, tbl);
				break;
			}
	}
	return below;
}

/* Is any table tagged in this database? (cheap once the cache is loaded) */
bool
bh_tags_any(void)
{
	if (bh_tags_loading)
		return false;
	bh_tags_ensure();
	return bh_tag_nrows > 0;
}

/*
 * The views the cache knows to read relid (the ledger, for one), directly
 * or through other views, as last loaded: NIL before a load.  Reads nothing
 * from the catalog.
 */
List *
bh_tags_views_reading(Oid relid)
{
	HASH_SEQ_STATUS seq;
	BhTagView  *entry;
	List	   *views = NIL;
	int			i;

	if (!bh_tag_cache_loaded || bh_tags_loading || bh_tag_views == NULL)
		return NIL;
	hash_seq_init(&seq, bh_tag_views);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		if (entry->partitioned || entry->inheritance)
			continue;
		for (i = 0; i < entry->ntables && entry->tables[i] != relid; i++)
			;
		if (i < entry->ntables)
			views = lappend_oid(views, entry->relid);
	}
	return views;
}

/*
 * Load the cache if it is not (or re-resolve what was invalidated, or read
 * again an order the load could not read): called where the catalog can
 * be read, early in a statement (the namespace search of its first name
 * lookup), so that the abort path finds the tags, in order, even when the
 * statement fails before any other hook ran.
 */
void
bh_tags_warm(void)
{
	if (!bh_tags_current() && !bh_tags_loading && IsTransactionState())
		bh_tags_ensure();
}

/*
 * The tag that applies to relid as the cache holds it, without reading the
 * catalog or allocating (usable on error and abort paths): NULL when the
 * relation is not tagged, not looked at yet, or no load has completed.
 *
 * This and bh_tags_cached_named() answer from the cache as last loaded,
 * even when an invalidation has arrived since: they serve the error paths,
 * which cannot reload it, and a statement can fail before any hook has
 * reloaded it (a relation named without its schema is looked up without a
 * namespace search, and an ANALYZE of a tagged table invalidates its entry
 * in every backend).  Any statement that gets as far as the planner or a
 * utility command reloads it (or re-resolves the invalidated entries), so
 * the last load is the tagging as of the last such statement; a tagging
 * committed since shows from the next.
 */
const BhTag *
bh_tag_cached(Oid relid)
{
	BhTagSlot  *slot;

	if (!bh_tag_cache_loaded || bh_tags_loading || bh_tag_cache == NULL)
		return NULL;
	slot = hash_search(bh_tag_cache, &relid, HASH_FIND, NULL);
	return slot ? slot->tag : NULL;
}

/* The name index's entry for relname, as last loaded, or NULL. */
static BhTagName *
bh_tag_name_entry(const char *relname)
{
	if (!bh_tag_cache_loaded || bh_tags_loading || bh_tag_names == NULL)
		return NULL;
	return hash_search(bh_tag_names, relname, HASH_FIND, NULL);
}

/*
 * The cached tagged relations named relname (a relation's own name, in any
 * schema; follow same_name), without reading the catalog or allocating, or
 * NULL: usable on error and abort paths.  Every tagged table and partition
 * is in the loaded cache (bh_tags_ensure).
 */
const BhTag *
bh_tags_cached_named(const char *relname)
{
	BhTagName  *entry = bh_tag_name_entry(relname);

	return entry ? entry->first : NULL;
}

/*
 * The cached views named relname that read tagged relations, and untagged
 * partitioned tables of that name above tagged partitions (follow
 * same_name).
 */
const BhTagView *
bh_tag_views_cached_named(const char *relname)
{
	BhTagName  *entry = bh_tag_name_entry(relname);

	return entry ? entry->first_view : NULL;
}

/*
 * relid, if it is an untagged partitioned table with partitions tagged on
 * their own under it (see bh_tag_parents_load), or with views, a view that
 * reads tagged relations: its entry, which lists them; else NULL, at once
 * when the cache holds no such table and views are not asked for.  Never an
 * inheritance parent's (bh_tags_inherited_through): a relation noted by
 * its OID alone may have been named with ONLY, or as an INSERT's target.
 */
const BhTagView *
bh_tags_through(Oid relid, bool views)
{
	BhTagView  *entry;

	if (bh_tags_loading)
		return NULL;
	bh_tags_ensure();
	if (bh_tag_views == NULL || (bh_tag_nthrough == 0 && !views))
		return NULL;
	entry = hash_search(bh_tag_views, &relid, HASH_FIND, NULL);
	return (entry != NULL && (views ? !entry->inheritance : entry->partitioned)) ? entry : NULL;
}

/*
 * bh_tags_through() as last loaded, without reading the catalog or
 * allocating (see bh_tag_cached): usable on error paths.
 */
const BhTagView *
bh_tags_through_cached(Oid relid, bool views)
{
	BhTagView  *entry;

	if (!bh_tag_cache_loaded || bh_tags_loading || bh_tag_views == NULL ||
		(bh_tag_nthrough == 0 && !views))
		return NULL;
	entry = hash_search(bh_tag_views, &relid, HASH_FIND, NULL);
	return (entry != NULL && (views ? !entry->inheritance : entry->partitioned)) ? entry : NULL;
}

/*
 * relid, if it is an untagged inheritance parent with tagged tables among
 * its children at any depth (see bh_tag_parents_load): its entry, which
 * lists them; else NULL, at once when the cache holds no such parent (the
 * planner hook asks of every untagged table a query names without ONLY).
 */
const BhTagView *
bh_tags_inherited_through(Oid relid)
{
	BhTagView  *entry;

	if (bh_tags_loading)
		return NULL;
	if (!bh_tags_current())
		bh_tags_ensure();
	if (bh_tag_views == NULL || bh_tag_ninherit == 0)
		return NULL;
	entry = hash_search(bh_tag_views, &relid, HASH_FIND, NULL);
	return (entry != NULL && entry->inheritance) ? entry : NULL;
}

/*
 * Every tagged table of this database that exists and every partition
 * under one, each once (capture_ddl_read.c: statements on all tables).
 */
List *
bh_tagged_relations(void)
{
	List	   *result = NIL;
	int			i;

	bh_tags_ensure();
	for (i = 0; i < bh_tag_nrows; i++)
	{
		ListCell   *lc;

		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(bh_tag_rows[i].tbl)))
			continue;
		foreach(lc, bh_partition_tree(bh_tag_rows[i].tbl))
			result = list_append_unique_oid(result, lfirst_oid(lc));
	}
	return result;
}

/*
 * The tagged tables of a schema and the partitions of tagged tables that
 * live in it, wherever their tagged table does (config_guard.c: ALTER
 * SCHEMA ... RENAME renames them all).
 */
List *
bh_tagged_in_schema(Oid nspid)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, bh_tagged_relations())
		if (get_rel_namespace(lfirst_oid(lc)) == nspid)
		result = lappend_oid(result, lfirst_oid(lc));
	return result;
}
