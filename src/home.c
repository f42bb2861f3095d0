/*-------------------------------------------------------------------------
 *
 * home.c
 *		The ledger's home: the database that last sealed it.
 *
 * bh_audit.ledger_home holds one row: the OID and name of the database
 * that last sealed the ledger, and the system identifier of its cluster.
 * CREATE EXTENSION's script writes the database it runs in (genesis); the
 * sealer writes its own database when it starts sealing a ledger whose
 * home is elsewhere.  Such a ledger is a copy of another database's — a
 * TEMPLATE copy of the sealer's database, a pg_dump restored elsewhere, a
 * pg_upgrade (same OID, new cluster) — and continuing its chain forks it:
 * both ledgers share their events up to the copy's head and go on
 * differently, and both verify.  So the sealer's first batch there
 * records where it continued: an AuditConfiguration event, change
 * "ledger_continued", naming the previous and the current database, OID
 * and system identifier, and the head's seq.  A restart, a crash, a
 * promoted standby or a base backup keep the OID and the system
 * identifier: the same ledger, nothing recorded.
 *
 * The sealer checks once per connection, and again after an invalidation
 * of bh_audit.ledger_home (or a cache reset): a restore into its running
 * database sends one when it restores the home's row (the row trigger
 * below), ledger rows (guard.c) or queue rows (emit.c).  A batch pays
 * nothing else.
 *
 * An empty ledger whose home is elsewhere forks nothing by itself (a
 * database created from a template1 holding the extension): the sealer's
 * first events there make its database the home without an event.  But a
 * copy's queue may hold the original's events, which both would seal.  So
 * the rule for an empty ledger: a continuation (at head_seq 0) when the
 * queue holds a row older than this database — its raw xmin precedes that
 * of the database's pg_database row: written in the template before CREATE
 * DATABASE took its transaction ID (no template session was left then) —
 * or one whose events name another database (a template's, unless it is
 * the sealer's database: bh_home_queue_row_elsewhere), or when the home
 * bears the mark below.  That xmin is no lasting birth:
 * PostgreSQL keeps none, and every UPDATE of the row (GRANT on the
 * database, ALTER DATABASE ... OWNER TO, CONNECTION LIMIT, RENAME TO; not
 * ALTER DATABASE ... SET, COMMENT ON DATABASE, which write other catalogs)
 * gives it a new one, which would make the database's own rows look
 * copied: so the first commit that queued events in a database whose home
 * is elsewhere, its ledger empty and its queue holding no row older than
 * the database, makes it the home (bh_home_claim(); COMMIT PREPARED's
 * too), and the rule is left only for the rows that came with a copy.
 *
 * The mark: a row of OID 0 and system identifier 0 (no database of any
 * cluster), which names an "unknown" previous home when no other row
 * names one.  Rows restored into the empty ledger (guard.c) came from
 * elsewhere whatever the home says, so they add it: without the home's
 * row restored (pg_restore -t events, a dump without ledger_home's data)
 * the previous home is "unknown".  So do rows restored into the queue
 * while the home is elsewhere (emit.c), and a restored home row finding
 * the queue's rows already there.  A row CREATE DATABASE copied from a
 * template (older than this database's pg_database row) goes with the
 * mark while the ledger is empty: that template's ledger was empty too,
 * and held none of the rows restored (a row naming this database never
 * came with a copy, however old it looks against a pg_database row
 * updated since: its CREATE EXTENSION wrote it).  The sealer's next batch
 * records the continuation and rewrites the home, the mark with it — but
 * while the home names only this database besides the mark (its CREATE
 * EXTENSION wrote it: the restore may bring the home's row yet, as a plain
 * dump does after the ledger's rows), only a batch with events to chain
 * onto the restored head does: one continuation, from where the home says
 * then.
 *
 * The table is dumped (pg_extension_config_dump).  CREATE EXTENSION of a
 * restore writes the restoring database, then the dump's row arrives: the
 * row trigger BEFORE INSERT lets a row naming another database or cluster
 * replace the ones there (the mark stays; a mark adds to them), and skips
 * a row naming this very database (never a restore's: it could only hide
 * a copy), and any row once the ledger holds events and the home names
 * this database alone, without the mark (the continuation of the restored
 * rows is on record: a second would name the same fork).  UPDATE, DELETE
 * and TRUNCATE are refused (guard.c); no role has any privilege on the
 * table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "commands/dbcommands.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "replication/logicalworker.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "bh_audit.h"
#include "capture.h"
#include "event.h"

static BhCachedRel bh_home_rel = {"ledger_home", InvalidOid};

/*
 * The sealer's check: due while bh_home_invals differs from the count it
 * last checked at (bh_home_checked_at).  bh_home_watched is the table it
 * read then.
 */
static uint64 bh_home_invals = 1;
static uint64 bh_home_checked_at = 0;
static Oid	bh_home_watched = InvalidOid;

static void
bh_home_inval_cb(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == bh_home_watched)
		bh_home_invals++;
}

/* At module initialisation. */
void
bh_home_init(void)
{
	CacheRegisterRelcacheCallback(bh_home_inval_cb, (Datum) 0);
	bh_cached_rel_register(&bh_home_rel);
}

/* OID of bh_audit.ledger_home, or InvalidOid. */
Oid
bh_home_relid(void)
{
	return bh_cached_rel(&bh_home_rel);
}

/* Is the sealer's check of the home due? */
bool
bh_home_check_due(void)
{
	return bh_home_checked_at != bh_home_invals;
}

/* The sealer: the check noted at *gen was made and committed. */
void
bh_home_checked(uint64 gen)
{
	bh_home_checked_at = gen;
}

/*
 * The mark of rows restored from elsewhere (bh_home_mark_carried()): a row
 * naming OID 0 of system identifier 0, no database of any cluster.
 */
#define BH_HOME_MARK_NAME "unknown"

static bool
bh_home_is_mark(Oid oid, int64 sysid)
{
	return oid == InvalidOid && sysid == 0;
}

/* Does a row of OID oid and system identifier sysid name this database? */
static bool
bh_home_names_here(Oid oid, int64 sysid)
{
	return oid == MyDatabaseId && sysid == (int64) GetSystemIdentifier();
}

/*
 * Open relid under mode, or, with busy (COMMIT PREPARED's claim), only if
 * no other transaction holds or awaits a lock in its way: NULL, *busy set,
 * if one does.
 */
static Relation
bh_home_open(Oid relid, LOCKMODE mode, bool *busy)
{
	if (busy == NULL)
		return table_open(relid, mode);
	if (!ConditionalLockRelationOid(relid, mode))
	{
		*busy = true;
		return NULL;
	}
	return table_open(relid, NoLock);
}

/*
 * A snapshot of the latest state for the home's reads, registered: the
 * latest snapshot, or, in a transaction that has taken none yet (a commit
 * that queued events, bh_home_claim), a catalog snapshot, as fresh, so that
 * the read does not take the transaction's first snapshot, for which a
 * SERIALIZABLE READ ONLY DEFERRABLE transaction would wait (the queue's
 * write at commit avoids it too, emit.c).
 */
static Snapshot
bh_home_snapshot(void)
{
	return RegisterSnapshot(FirstSnapshotSet ? GetLatestSnapshot()
							: GetCatalogSnapshot(InvalidOid));
}

/* A scan of the home's rows, under a snapshot of its own (the latest). */
typedef struct BhHomeScan
{
	Snapshot	snapshot;
	TableScanDesc scan;
	TupleTableSlot *slot;
} BhHomeScan;

static void
bh_home_scan_begin(BhHomeScan *hs, Relation rel)
{
	hs->snapshot = bh_home_snapshot();
	hs->scan = table_beginscan(rel, hs->snapshot, 0, NULL);
	hs->slot = table_slot_create(rel, NULL);
}

static void
bh_home_scan_end(BhHomeScan *hs)
{
	ExecDropSingleTupleTableSlot(hs->slot);
	table_endscan(hs->scan);
	UnregisterSnapshot(hs->snapshot);
}

/*
 * What the home's rows say, read by a scan: whether there are any, whether
 * one names this cluster, the first one naming another database or cluster
 * (the ledger's previous home; an unknown one if only the mark does),
 * whether one names this database by an old name (renamed: the same
 * ledger), whether the mark is there (carried: events came from
 * elsewhere), and whether the home's row may still come (awaited: the mark
 * with a row naming this database, which its CREATE EXTENSION wrote before
 * a restore brought the ledger's rows, and none naming another).
 */
typedef struct BhHomeRows
{
	bool		found;
	bool		this_cluster;
	bool		elsewhere;
	bool		renamed;
	bool		carried;
	bool		awaited;
	Oid			prev_oid;
	char	   *prev_name;
	int64		prev_sysid;
} BhHomeRows;

static void
bh_home_read(BhHomeScan *hs, const char *here, BhHomeRows *rows)
{
	int64		sysid = (int64) GetSystemIdentifier();
	TupleTableSlot *slot = hs->slot;

	memset(rows, 0, sizeof(*rows));
	while (table_scan_getnextslot(hs->scan, ForwardScanDirection, slot))
	{
		bool		oid_null;
		bool		name_null;
		bool		id_null;
		Datum		oid_d = slot_getattr(slot, 1, &oid_null);
		Datum		name_d = slot_getattr(slot, 2, &name_null);
		Datum		id_d = slot_getattr(slot, 3, &id_null);
		Oid			oid = oid_null ? InvalidOid : DatumGetObjectId(oid_d);
		char	   *name = name_null ? NULL : pstrdup(NameStr(*DatumGetName(name_d)));
		int64		id = id_null ? 0 : DatumGetInt64(id_d);

		/*
		 * A NULL (the columns are NOT NULL: a superuser's change) names no
		 * database or cluster: an unknown OID or system identifier is
		 * another's, an unknown name an old one.
		 */
		if (oid_null || name_null || id_null)
			ereport(WARNING,
					(errmsg("bh_audit.ledger_home holds a row with a NULL %s",
							oid_null ? "database_oid" : name_null ? "database_name" : "system_identifier"),
					 errdetail("The sealer reads it as unknown and makes its own database the ledger's home.")));
		if (name == NULL)
			name = "?";

		rows->found = true;
		if (!oid_null && !id_null && bh_home_is_mark(oid, id))
		{
			rows->carried = true;
			continue;
		}
		if (id == sysid)
			rows->this_cluster = true;
		if (!bh_home_names_here(oid, id))
		{
			/* another database or cluster sealed it last */
			if (!rows->elsewhere)
			{
				rows->prev_oid = oid;
				rows->prev_name = name;
				rows->prev_sysid = id;
			}
			rows->elsewhere = true;
		}
		else
		{
			/* a row of this database */
			rows->awaited = true;
			if (here == NULL || strcmp(name, here) != 0)
				rows->renamed = true;
		}
	}
	rows->awaited = rows->awaited && rows->carried && !rows->elsewhere;
	if (rows->carried && !rows->elsewhere)
	{
		/* rows restored without the home's: from an unknown database */
		rows->this_cluster = false;
		rows->elsewhere = true;
		rows->prev_oid = InvalidOid;
		rows->prev_name = BH_HOME_MARK_NAME;
		rows->prev_sysid = 0;
	}
}

/*
 * Delete the home's rows read by hs (rescanned), the mark's too unless
 * keep_mark; if before is a valid transaction ID, only the rows CREATE
 * DATABASE may have copied: those whose raw xmin precedes it, naming
 * another database or cluster.  A row naming this database was written
 * here (its CREATE EXTENSION, a claim, the sealer), never copied with it,
 * however old it looks against a pg_database row updated since.
 */
static void
bh_home_delete(Relation rel, BhHomeScan *hs, bool keep_mark,
			   TransactionId before)
{
	TupleTableSlot *slot = hs->slot;

	table_rescan(hs->scan, NULL);
	while (table_scan_getnextslot(hs->scan, ForwardScanDirection, slot))
	{
		bool		oid_null;
		bool		id_null;
		Datum		oid_d = slot_getattr(slot, 1, &oid_null);
		Datum		id_d = slot_getattr(slot, 3, &id_null);

		if (keep_mark && !oid_null && !id_null &&
			bh_home_is_mark(DatumGetObjectId(oid_d), DatumGetInt64(id_d)))
			continue;
		if (TransactionIdIsValid(before))
		{
			HeapTuple	tup = ExecFetchSlotHeapTuple(slot, false, NULL);

			if (!oid_null && !id_null &&
				bh_home_names_here(DatumGetObjectId(oid_d), DatumGetInt64(id_d)))
				continue;
			if (!TransactionIdPrecedes(HeapTupleHeaderGetRawXmin(tup->t_data), before))
				continue;
		}
		simple_table_tuple_delete(rel, &slot->tts_tid, hs->snapshot);
	}
}

/*
 * Lock the home's rows read by hs (rescanned) for their delete, only if no
 * other transaction holds a lock on one (COMMIT PREPARED's claim: the
 * prepared transaction's SELECT ... FOR UPDATE): *busy set if one does.
 */
static void
bh_home_lock_rows(Relation rel, BhHomeScan *hs, bool *busy)
{
	TupleTableSlot *locked = table_slot_create(rel, NULL);

	table_rescan(hs->scan, NULL);
	while (!*busy && table_scan_getnextslot(hs->scan, ForwardScanDirection, hs->slot))
	{
		ItemPointerData tid = hs->slot->tts_tid;
		TM_FailureData tmfd;

		if (table_tuple_lock(rel, &tid, hs->snapshot, locked,
							 GetCurrentCommandId(true), LockTupleExclusive,
							 LockWaitSkip, 0, &tmfd) != TM_Ok)
			*busy = true;
	}
	ExecDropSingleTupleTableSlot(locked);
}

/* Insert a row of the home, without its triggers. */
static void
bh_home_insert(Relation rel, Oid oid, const char *name, int64 sysid)
{
	TupleTableSlot *row = table_slot_create(rel, NULL);

	ExecClearTuple(row);
	row->tts_values[0] = ObjectIdGetDatum(oid);
	row->tts_values[1] = DirectFunctionCall1(namein, CStringGetDatum(name));
	row->tts_values[2] = Int64GetDatum(sysid);
	memset(row->tts_isnull, 0, sizeof(bool) * 3);
	ExecStoreVirtualTuple(row);
	simple_table_tuple_insert(rel, row);
	ExecDropSingleTupleTableSlot(row);
}

/*
 * Does a row of the queue (its events, a jsonb[]) hold an event whose
 * metadata names a database other than here?  The extension names the
 * database (its name as the session connected) in every event of a
 * database other than the sealer's (event.c; no role can set that key),
 * so a row a template queued names the template.  Events of the sealer's
 * database, and of sessions without a client, name none.
 */
static bool
bh_home_queue_row_elsewhere(HeapTuple tup, TupleDesc desc, const char *here)
{
	bool		isnull;
	Datum		events = heap_getattr(tup, 2, desc, &isnull);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	bool		elsewhere = false;

	if (isnull || TupleDescAttr(desc, 1)->atttypid != JSONBARRAYOID)
		return false;
	deconstruct_array(DatumGetArrayTypeP(events), JSONBOID, -1, false,
					  TYPALIGN_INT, &elems, &nulls, &n);
	for (i = 0; i < n && !elsewhere; i++)
	{
		Jsonb	   *event;
		JsonbValue	meta;
		JsonbValue	db;

		if (nulls[i])
			continue;
		event = DatumGetJsonbP(elems[i]);
		if (JB_ROOT_IS_OBJECT(event) &&
			getKeyJsonValueFromContainer(&event->root, "metadata", 8, &meta) != NULL &&
			meta.type == jbvBinary && JsonContainerIsObject(meta.val.binary.data) &&
			getKeyJsonValueFromContainer(meta.val.binary.data, "database", 8, &db) != NULL &&
			db.type == jbvString)
			elsewhere = (size_t) db.val.string.len != strlen(here) ||
				memcmp(db.val.string.val, here, db.val.string.len) != 0;
	}
	return elsewhere;
}

/*
 * Does bh_audit's table (the queue, the ledger) hold a (visible) row, one
 * whose raw xmin precedes before where that is a valid transaction ID (or,
 * with here, a queue's row naming a database other than here:
 * bh_home_queue_row_elsewhere), and not this transaction's if others_only?
 * With busy, false if its lock is not free (bh_home_open()).
 */
static bool
bh_home_table_holds(const char *table, TransactionId before, bool others_only,
					const char *here, bool *busy)
{
	Oid			relid = bh_audit_relid(table);
	Relation	rel;
	Snapshot	snapshot;
	TableScanDesc scan;
	HeapTuple	tup;
	bool		held = false;
	MemoryContext cxt = NULL;

	if (!OidIsValid(relid))
		return false;
	rel = bh_home_open(relid, AccessShareLock, busy);
	if (rel == NULL)
		return false;
	if (here != NULL)
		cxt = AllocSetContextCreate(CurrentMemoryContext, "bh_audit queue row",
									ALLOCSET_SMALL_SIZES);
	snapshot = bh_home_snapshot();
	scan = table_beginscan(rel, snapshot, 0, NULL);
	while (!held && (tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		TransactionId xmin = HeapTupleHeaderGetRawXmin(tup->t_data);

		if (others_only && TransactionIdIsCurrentTransactionId(xmin))
			continue;
		held = !TransactionIdIsValid(before) || TransactionIdPrecedes(xmin, before);
		if (!held && here != NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(cxt);

			held = bh_home_queue_row_elsewhere(tup, RelationGetDescr(rel), here);
			MemoryContextSwitchTo(old);
			MemoryContextReset(cxt);
		}
	}
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	if (cxt != NULL)
		MemoryContextDelete(cxt);
	table_close(rel, AccessShareLock);
	return held;
}

/*
 * This database's birth: the raw xmin of its row in pg_database, which
 * CREATE DATABASE took after every transaction of its template ended (a
 * row written before it was copied from the template), or a later one if
 * the row was updated since (GRANT, ALTER DATABASE ... OWNER TO,
 * CONNECTION LIMIT, RENAME TO: PostgreSQL keeps no earlier one), which
 * makes rows of this database written before then look copied too: only
 * for rows nothing else tells apart (see the callers); InvalidTransactionId
 * if not a normal one.
 */
static TransactionId
bh_home_born(void)
{
	HeapTuple	dbtup;
	TransactionId born;

	dbtup = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(MyDatabaseId));
	if (!HeapTupleIsValid(dbtup))
		return InvalidTransactionId;
	born = HeapTupleHeaderGetRawXmin(dbtup->t_data);
	ReleaseSysCache(dbtup);
	return TransactionIdIsNormal(born) ? born : InvalidTransactionId;
}

/*
 * Does the queue hold a row older than this database, or one naming
 * another database (copied with it)?  The name tells also when the
 * database's pg_database row was last written by a transaction older than
 * the CREATE DATABASE (a GRANT on it by one open since), which makes its
 * raw xmin no birth; the xmin is left for rows naming no database (a
 * template that is the sealer's database).  Not this transaction's: one
 * written before it updated the database's row (GRANT in a subtransaction
 * of its own) came from no copy.  With busy, as bh_home_table_holds().
 */
static bool
bh_home_queue_copied(bool *busy)
{
	TransactionId born = bh_home_born();
	char	   *here = get_database_name(MyDatabaseId);

	return TransactionIdIsValid(born) && here != NULL &&
		bh_home_table_holds("queue", born, true, here, busy);
}

/*
 * The sealer, in a batch's transaction: was the ledger last sealed in this
 * cluster (the home's system identifier is this server's, or there is no
 * home to say otherwise)?  A ledger that came from another cluster (a
 * pg_dump restored, a pg_upgrade) was not copied with its server's files:
 * a start without an account of the ring is then no copy of a running
 * server (losses.c), and the continuation is recorded here instead.
 */
bool
bh_home_in_this_cluster(void)
{
	Oid			relid = bh_home_relid();
	Relation	rel;
	BhHomeScan	hs;
	BhHomeRows	rows;

	if (!OidIsValid(relid))
		return true;
	rel = table_open(relid, AccessShareLock);
	bh_home_scan_begin(&hs, rel);
	bh_home_read(&hs, NULL, &rows);
	bh_home_scan_end(&hs);
	table_close(rel, AccessShareLock);
	return !rows.found || rows.this_cluster;
}

/* The event of a ledger continued here from another database's head. */
static Jsonb *
bh_home_continued_event(Oid prev_oid, const char *prev_name, int64 prev_sysid,
						const char *here, int64 head_seq)
{
	BhEvent		ev;

	bh_config_event_init(&ev, "UPDATE", "bh_audit.events", "ledger_continued");
	bh_event_meta_string(&ev, "previous_database", prev_name);
	bh_event_meta_int(&ev, "previous_database_oid", (int64) prev_oid);
	/* as text: a JSON number of 19 digits is not exact everywhere */
	bh_event_meta_string(&ev, "previous_system_identifier",
						 psprintf(INT64_FORMAT, prev_sysid));
	bh_event_meta_string(&ev, "current_database", here);
	bh_event_meta_int(&ev, "current_database_oid", (int64) MyDatabaseId);
	bh_event_meta_string(&ev, "current_system_identifier",
						 psprintf(INT64_FORMAT, (int64) GetSystemIdentifier()));
	bh_event_meta_int(&ev, "head_seq", head_seq);
	return bh_event_build(&ev, NULL);
}

/*
 * The sealer, in a batch's transaction under the chain lock: compare the
 * ledger's home with its own database.  head_seq is the stored head,
 * sealing whether the batch seals events.  Returns the event to chain
 * first when the ledger was last sealed elsewhere (the home is this
 * database from the batch's commit on), NULL otherwise; *gen gets what to
 * pass to bh_home_checked() once the batch committed.
 */
Jsonb *
bh_home_check(int64 head_seq, bool sealing, uint64 *gen)
{
	Oid			relid = bh_home_relid();
	Relation	rel;
	BhHomeScan	hs;
	int64		sysid = (int64) GetSystemIdentifier();
	char	   *here = get_database_name(MyDatabaseId);
	BhHomeRows	rows;
	bool		rewrite;
	Jsonb	   *event = NULL;

	if (!OidIsValid(relid))
	{
		/* an installation without the table: nothing to compare */
		*gen = bh_home_invals;
		return NULL;
	}
	rel = table_open(relid, RowExclusiveLock);
	/* invalidations up to the lock are in; later ones call for a new check */
	bh_home_watched = relid;
	*gen = bh_home_invals;

	bh_home_scan_begin(&hs, rel);
	bh_home_read(&hs, here, &rows);

	rewrite = !rows.found || rows.renamed;
	if (rows.elsewhere && !sealing &&
		(rows.awaited || (head_seq == 0 && !rows.carried)))
	{
		/*
		 * Nothing to seal yet (a sealer's first batch after it connects,
		 * mostly), and either an empty ledger whose home is elsewhere, or
		 * restored rows whose home's row the restore may still bring (a plain
		 * dump restores the ledger's rows first, each table in a transaction
		 * of its own): not done, the home as it is — checked again at every
		 * batch until one seals, which records the continuation (from where
		 * the home says then) or makes this database the home.
		 */
		rewrite = false;
		*gen = bh_home_checked_at;
	}
	else if (rows.elsewhere &&
			 (head_seq > 0 || rows.carried || (sealing && bh_home_queue_copied(NULL))))
	{
		event = bh_home_continued_event(rows.prev_oid, rows.prev_name, rows.prev_sysid,
										here ? here : "?", head_seq);
		rewrite = true;
	}
	else if (rows.elsewhere)
		rewrite = true;			/* an empty ledger, nothing queued came with
								 * it */

	if (rewrite)
	{
		bh_home_delete(rel, &hs, false, InvalidTransactionId);
		bh_home_insert(rel, MyDatabaseId, here ? here : "", sysid);
	}
	bh_home_scan_end(&hs);
	table_close(rel, NoLock);
	return event;
}

/*
 * A transaction that queued events commits (emit.c), or COMMIT PREPARED is
 * about to commit a prepared one (commit_prepared: utility.c): a home
 * naming another database while the ledger is empty, unmarked, and the
 * queue holds no row older than this database (a database created from a
 * template holding the extension, none of whose events came with it)
 * becomes this database, so that nothing done to the database later
 * (GRANT, ALTER DATABASE: a new xmin of its pg_database row) makes the rows
 * queued here look copied to the sealer.  Rows queued here already are the
 * database's own (committed by a COMMIT PREPARED that claimed nothing,
 * below): a copy's are older than its pg_database row, and so are this
 * database's only after a change of that row, which the first commit's
 * claim comes before.  Once the home names this database (or a copy's
 * queue or ledger leaves it to the sealer to record where it continued),
 * this backend looks no more: only a restore's row changes the home then,
 * and the sealer's rules hold for it.
 *
 * Not at PREPARE: the prepared transaction would keep the chain lock, and
 * the home's row it deleted, until its COMMIT PREPARED, holding up every
 * other session's claim and the sealer's batches.  COMMIT PREPARED claims
 * in its own transaction instead, before the prepared one commits (whose
 * queued rows its snapshot does not see), committing just after it; a
 * prepared transaction rolled back claims nothing.  Whether the prepared
 * transaction queued events is not known there: a claim without any is
 * true all the same (nothing in the ledger or the queue came from
 * elsewhere).  There every lock is only taken if free, and nothing is
 * claimed if one is not: the prepared transaction may hold the chain lock
 * (a restore of rows into the ledger, the queue or the home), a lock on the
 * home, the ledger or the queue (ALTER TABLE ... SET TABLESPACE, CLUSTER),
 * or on a row of the home (SELECT ... FOR UPDATE), or another session wait
 * for one behind it (DROP EXTENSION, VACUUM FULL of the queue), and the
 * claim would wait for the very statement that commits it.  Nor in a
 * read-only transaction.
 */
static bool bh_home_settled = false;

void
bh_home_claim(bool commit_prepared)
{
	Oid			relid;
	Oid			events_relid;
	Relation	rel;
	BhHomeScan	hs;
	BhHomeRows	rows;
	int			pass;
	bool		busy = false;
	bool	   *if_free = commit_prepared ? &busy : NULL;

	/* settled: nothing more at a commit (the lookups below read the catalog) */
	if (bh_home_settled)
		return;
	if (commit_prepared && (XactReadOnly || RecoveryInProgress()))
		return;
	relid = bh_home_relid();
	events_relid = bh_events_relid();
	if (!OidIsValid(relid) || !OidIsValid(events_relid))
		return;
	/* a look without the lock first, the claim under it */
	for (pass = 0; pass < 2; pass++)
	{
		if (pass == 1 && commit_prepared && !bh_chain_lock_try(events_relid))
			return;				/* a batch, a restore: not now */
		if (pass == 1 && !commit_prepared)
			bh_chain_lock(events_relid);	/* no sealer batch or claim
											 * meanwhile */
		rel = bh_home_open(relid, pass == 0 ? AccessShareLock : RowExclusiveLock,
						   if_free);
		if (rel == NULL)
			return;				/* a lock held or awaited: not now */
		bh_home_scan_begin(&hs, rel);
		bh_home_read(&hs, NULL, &rows);
		if (!rows.elsewhere || rows.carried)
			bh_home_settled = true;
		else if (pass == 1)
		{
			bool		copied;

			copied = bh_home_table_holds("events", InvalidTransactionId, false, NULL, if_free) ||
				(!busy && bh_home_queue_copied(if_free));
			if (commit_prepared && !busy && !copied)
				bh_home_lock_rows(rel, &hs, &busy);
			if (copied && !busy)
				bh_home_settled = true; /* a copy's: the sealer records it */
			else if (!busy)
			{
				char	   *here = get_database_name(MyDatabaseId);

				/* settled once this commits: the next transaction sees it */
				bh_home_delete(rel, &hs, false, InvalidTransactionId);
				bh_home_insert(rel, MyDatabaseId, here ? here : "",
							   (int64) GetSystemIdentifier());
				CacheInvalidateRelcache(rel);
			}
		}
		bh_home_scan_end(&hs);
		table_close(rel, NoLock);
		if (bh_home_settled || busy)
			return;				/* busy: a lock held or awaited, not now */
	}
}

/*
 * A restore put rows into the empty ledger (guard.c), into the queue while
 * the home is elsewhere (only_elsewhere: emit.c), or the home's row while
 * the queue holds rows: they came from elsewhere, whatever the home says,
 * so the sealer's next batch records where it continued.  The home gets
 * the mark, kept until that batch (or a restore's row of the home) names
 * the ledger's previous home; the sealer looks again once the restore
 * commits.
 */
void
bh_home_mark_carried(bool only_elsewhere)
{
	Oid			relid = bh_home_relid();
	Oid			events_relid = bh_events_relid();
	Relation	rel;
	BhHomeScan	hs;
	BhHomeRows	rows;

	if (!OidIsValid(relid))
		return;
	/* no sealer batch compares the home meanwhile */
	if (OidIsValid(events_relid))
		bh_chain_lock(events_relid);
	rel = table_open(relid, RowExclusiveLock);
	bh_home_scan_begin(&hs, rel);
	bh_home_read(&hs, NULL, &rows);
	if (!rows.carried && (rows.elsewhere || !only_elsewhere))
	{
		TransactionId born = bh_home_born();

		/*
		 * A row CREATE DATABASE copied with an empty ledger names the
		 * template, whose ledger held none of the rows restored here: it goes
		 * (a row restored since stays, and names their home; so does one
		 * naming this database: bh_home_delete()).
		 */
		if (TransactionIdIsValid(born) &&
			!bh_home_table_holds("events", InvalidTransactionId, false, NULL, NULL))
			bh_home_delete(rel, &hs, true, born);
		bh_home_insert(rel, InvalidOid, BH_HOME_MARK_NAME, 0);
	}
	bh_home_scan_end(&hs);
	CacheInvalidateRelcache(rel);
	table_close(rel, NoLock);
}

static const char *const bh_home_tables[] = {"ledger_home"};

PG_FUNCTION_INFO_V1(bh_audit_home_restored);

/*
 * Row trigger BEFORE INSERT on bh_audit.ledger_home (a restore's row): one
 * naming another database or cluster replaces the rows there but the mark,
 * one naming this database is skipped, and so is one arriving when the
 * ledger holds events and its home is this database alone (late: the
 * continuation is on record).  A replaced row has the sealer look again
 * once the restore commits.
 */
Datum
bh_audit_home_restored(PG_FUNCTION_ARGS)
{
	TriggerData *td;
	Relation	rel;
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	Oid			oid;
	int64		sysid;
	Oid			events_relid;
	BhHomeScan	hs;
	BhHomeRows	rows;
	bool		late;

	/* it deletes the rows of the table it fires on */
	td = bh_trigger_call(fcinfo, "bh_audit._home_restored()",
						 BH_TRIG_BEFORE | BH_TRIG_ROW | BH_TRIG_INSERT,
						 bh_home_tables, lengthof(bh_home_tables));

	/*
	 * the chain lock lives in the sealer's protocol (as for the ledger's
	 * rows)
	 */
	bh_require_preload();
	if (IsLogicalWorker())
		return PointerGetDatum(NULL);	/* another server's home */
	rel = td->tg_relation;
	tup = td->tg_trigtuple;
	desc = RelationGetDescr(rel);
	oid = DatumGetObjectId(heap_getattr(tup, 1, desc, &isnull));
	if (isnull)
		return PointerGetDatum(NULL);
	sysid = DatumGetInt64(heap_getattr(tup, 3, desc, &isnull));
	if (isnull || bh_home_names_here(oid, sysid))
		return PointerGetDatum(NULL);

	/* no sealer batch compares the home meanwhile */
	events_relid = bh_events_relid();
	if (OidIsValid(events_relid))
		bh_chain_lock(events_relid);
	bh_home_scan_begin(&hs, rel);
	bh_home_read(&hs, NULL, &rows);
	late = rows.found && !rows.elsewhere && !rows.carried &&
		bh_home_table_holds("events", InvalidTransactionId, false, NULL, NULL);
	/* the mark stays, a mark restored adds to the rows */
	if (!late && !bh_home_is_mark(oid, sysid))
		bh_home_delete(rel, &hs, true, InvalidTransactionId);
	bh_home_scan_end(&hs);
	if (late)
	{
		/*
		 * The ledger holds events and its home is this database, without the
		 * mark: they were sealed here, or restored and their continuation
		 * recorded already (a batch sealed between the ledger's rows and this
		 * row, from an "unknown" home).  The fork is on record; this row
		 * would record it a second time.
		 */
		return PointerGetDatum(NULL);
	}
	/* events restored into the queue before this row came with it */
	if (!bh_home_is_mark(oid, sysid) && bh_home_table_holds("queue", InvalidTransactionId, false, NULL, NULL))
		bh_home_mark_carried(false);
	CacheInvalidateRelcache(rel);
	return PointerGetDatum(tup);
}
