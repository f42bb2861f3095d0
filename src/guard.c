/*-------------------------------------------------------------------------
 *
 * guard.c
 *		The append-only guard of bh_audit.events.
 *
 * Two triggers, both enabled ALWAYS (session_replication_role does not
 * switch them off):
 *	- a statement-level BEFORE UPDATE/DELETE/TRUNCATE trigger refuses every
 *	  change for every role, owner and superusers included;
 *	- a row-level BEFORE INSERT trigger accepts a row only if it continues
 *	  the chain exactly: the next seq, the previous event's hash as
 *	  prev_event_hash, and an event_hash that is the hash of its content,
 *	  a JSON object (the export writes nothing else).  The previous event
 *	  is the ledger's last, or the previous row of the transaction the
 *	  trigger passed while it stands in the ledger.
 *	  That is what a restore (pg_restore, or psql of a pg_dump) replays, in
 *	  chain order; a forged or out-of-order row is refused.  The sealer
 *	  writes its rows without the executor (ledger_write.c), so no trigger
 *	  fires for them.
 * The statement guard keeps bh_audit.ledger_home (home.c) too.  A
 * restore's first row into the empty ledger marks that home (the rows came
 * from elsewhere: the sealer records where it continued them); the first
 * row of a transaction onto a head has the sealer look at the home again
 * once it commits.
 * A superuser can still disable the triggers; verify_chain() then detects
 * what was changed, added or removed.  Without the library preloaded the
 * row guard refuses every row (bh_require_preload: the chain lock lives in
 * the sealer's protocol); the statement guard needs nothing of the library
 * and refuses as always.
 *
 * One TRUNCATE passes: a logical replication worker's, applying another
 * server's TRUNCATE of its ledger.  The ledger's rows are kept before it
 * and put back after it, in the same transaction (replication.c), so the
 * ledger comes out whole; refusing it would stop the subscription.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "replication/logicalworker.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "bh_audit.h"
#include "canon.h"
#include "ledger_write.h"

/*
 * The last row this transaction's guard passed (rows of one COPY see no
 * other), a head to continue only while that row stands in the ledger
 * (bh_replayed_row_stands()).
 */
static TransactionId bh_replay_xid = InvalidTransactionId;
static int64 bh_replay_seq = 0;
static char bh_replay_hash[BH_MAX_HEX_LEN];

/* The tables each guard keeps. */
static const char *const bh_refuse_tables[] = {"events", "ledger_home"};
static const char *const bh_append_tables[] = {"events"};

PG_FUNCTION_INFO_V1(bh_audit_refuse_change);

/*
 * Statement trigger: raise a clear error naming the refused operation.
 */
Datum
bh_audit_refuse_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata;
	const char *op;

	trigdata = bh_trigger_call(fcinfo, "bh_audit._refuse_change()",
							   BH_TRIG_BEFORE | BH_TRIG_STATEMENT |
							   BH_TRIG_UPDATE | BH_TRIG_DELETE | BH_TRIG_TRUNCATE,
							   bh_refuse_tables, lengthof(bh_refuse_tables));
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		op = "UPDATE";
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		op = "DELETE";
	else
	{
		/* replicated: the rows are kept and put back (replication.c) */
		if (IsLogicalWorker())
			return PointerGetDatum(NULL);
		op = "TRUNCATE";
	}

	/* the same guard keeps the ledger's home (home.c) */
	if (strcmp(RelationGetRelationName(trigdata->tg_relation), "ledger_home") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s on \"%s.%s\" is not allowed: the ledger's home is the sealer's to record",
						op,
						get_namespace_name(RelationGetNamespace(trigdata->tg_relation)),
						RelationGetRelationName(trigdata->tg_relation)),
				 errdetail("It names the database that last sealed the ledger; a sealer that continues the ledger elsewhere records that in the chain.")));

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s on \"%s.%s\" is not allowed: the audit ledger is append-only",
					op,
					get_namespace_name(RelationGetNamespace(trigdata->tg_relation)),
					RelationGetRelationName(trigdata->tg_relation)),
			 errdetail("Sealed audit events can be neither changed nor removed, by any role."),
			 errhint("Use bh_audit.verify_chain() to check the ledger and bh_audit.export_jsonl() to archive it.")));

	PG_RETURN_NULL();			/* not reached */
}

/* Refuse a row that does not continue the chain. */
static void
bh_refuse_insert(const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("INSERT on \"bh_audit.events\" is not allowed: %s", why),
			 errdetail("Only the sealer adds events; other rows are accepted only when they continue the chain exactly, as a restore replays them."),
			 errhint("Use bh_audit.emit() to record an event.")));
}

/*
 * The stored head (seq 0 and no hash when empty).  A head whose event_hash
 * was made NULL (a superuser with the guard off) reads as "", as the sealer
 * and verify_chain() read it: a row continuing it has "" as its
 * prev_event_hash.
 */
static void
bh_stored_head(int64 *seq, char *hash)
{
	*seq = 0;
	hash[0] = '\0';
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (bh_spi_internal("SELECT seq, event_hash FROM bh_audit.events ORDER BY seq DESC LIMIT 1",
						0, NULL, NULL, NULL, true) != SPI_OK_SELECT)
		elog(ERROR, "could not read the chain head");
	if (SPI_processed == 1)
	{
		bool		isnull;
		char	   *stored;

		*seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		stored = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		if (stored != NULL)
			strlcpy(hash, stored, BH_MAX_HEX_LEN);
	}
	SPI_finish();
}

/* A text column of the new row, or NULL. */
static char *
bh_new_text(HeapTuple tup, TupleDesc desc, const char *column)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, SPI_fnumber(desc, column), desc, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * Does the row the guard last passed (seq, hash) stand in the ledger (rel)?
 * The BEFORE trigger passed it, but that is no insert: it may have been
 * rolled back to a savepoint since, failed after the trigger (a generated
 * column, a constraint) with the error caught, or been skipped (INSERT ...
 * ON CONFLICT DO NOTHING), and the chain lock taken for it is released
 * with a rolled back subtransaction, so the sealer may have continued the
 * chain meanwhile.  Looked up by the key with SnapshotSelf, which sees the
 * rows of this transaction's running command (a COPY's earlier rows, which
 * the statement's snapshot does not) and none of an aborted subtransaction.
 */
static bool
bh_replayed_row_stands(Relation rel, int64 seq, const char *hash)
{
	Relation	index = bh_key_index_open(rel, "seq");
	AttrNumber	att_hash = SPI_fnumber(RelationGetDescr(rel), "event_hash");
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	IndexScanDesc scan;
	ScanKeyData key;
	bool		stands = false;

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(seq));
	scan = index_beginscan(rel, index, SnapshotSelf, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	if (att_hash > 0 && index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, att_hash, &isnull);

		stands = !isnull && strcmp(TextDatumGetCString(d), hash) == 0;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, AccessShareLock);
	return stands;
}

PG_FUNCTION_INFO_V1(bh_audit_check_append);

/*
 * Row trigger BEFORE INSERT: the sealer's rows pass; any other row must
 * continue the chain.
 */
Datum
bh_audit_check_append(PG_FUNCTION_ARGS)
{
	TriggerData *td;
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	bool		event_null;
	int64		seq;
	Datum		event;
	char	   *alg_name;
	char	   *prev;
	char	   *recorded;
	BhHashAlg	alg;
	int64		head_seq;
	char		head_hash[BH_MAX_HEX_LEN];
	StringInfoData canonical;
	char		hex[BH_MAX_HEX_LEN];
	int			attno[BH_NUM_COLS];

	bh_require_preload();
	/* another table's columns are not the ledger's */
	td = bh_trigger_call(fcinfo, "bh_audit._check_append()",
						 BH_TRIG_BEFORE | BH_TRIG_ROW | BH_TRIG_INSERT,
						 bh_append_tables, lengthof(bh_append_tables));
	tup = td->tg_trigtuple;

	desc = RelationGetDescr(td->tg_relation);
	/* its columns as declared, or refused as the sealer refuses it (42P16) */
	bh_ledger_find_columns(desc, attno);

	/*
	 * Row triggers run before NOT NULL is checked: any column may be NULL
	 * here (a NULL seq is refused by the primary key; a NULL event has no
	 * content to hash).
	 */
	seq = DatumGetInt64(heap_getattr(tup, SPI_fnumber(desc, "seq"), desc, &isnull));
	if (isnull)
		bh_refuse_insert("the row is not the next event of the chain");
	event = heap_getattr(tup, SPI_fnumber(desc, "event"), desc, &event_null);
	alg_name = bh_new_text(tup, desc, "hash_alg");
	prev = bh_new_text(tup, desc, "prev_event_hash");
	recorded = bh_new_text(tup, desc, "event_hash");

	/* no sealer batch reads the head meanwhile (sealer.c) */
	bh_chain_lock(RelationGetRelid(td->tg_relation));

	/*
	 * The head: the previous row of this transaction the guard passed, if it
	 * stands, or stored.
	 */
	if (bh_replay_xid == GetTopTransactionIdIfAny() &&
		TransactionIdIsValid(bh_replay_xid) && seq == bh_replay_seq + 1 &&
		bh_replayed_row_stands(td->tg_relation, bh_replay_seq, bh_replay_hash))
	{
		head_seq = bh_replay_seq;
		strlcpy(head_hash, bh_replay_hash, sizeof(head_hash));
	}
	else
	{
		Oid			home = bh_home_relid();

		bh_stored_head(&head_seq, head_hash);

		/*
		 * A restore's ledger rows (into an empty ledger) came from elsewhere,
		 * with the home's row or without: the sealer records where it
		 * continued them (home.c).  Other rows have it compare the home again
		 * once they commit.
		 */
		if (head_seq == 0)
			bh_home_mark_carried(false);
		else if (OidIsValid(home))
			CacheInvalidateRelcacheByRelid(home);
	}

	if (seq != head_seq + 1)
		bh_refuse_insert("the row is not the next event of the chain");
	if (head_seq == 0 ? prev != NULL : (prev == NULL || strcmp(prev, head_hash) != 0))
		bh_refuse_insert("its prev_event_hash is not the hash of the chain's head");
	if (alg_name == NULL || !bh_hash_alg_from_name(alg_name, &alg))
		bh_refuse_insert("its hash_alg is not sha256, sha384 or sha512");

	if (event_null)
		bh_refuse_insert("its event is NULL");
	/* the export makes a line of an object only (verify.c) */
	if (!JB_ROOT_IS_OBJECT(DatumGetJsonbP(event)))
		bh_refuse_insert("its event is not a JSON object");
	initStringInfo(&canonical);
	canon_render_jsonb(&canonical, DatumGetJsonbP(event), true, NULL);
	bh_chain_hash(alg, prev, canonical.data, canonical.len, hex);
	if (recorded == NULL || strcmp(hex, recorded) != 0)
		bh_refuse_insert("its event_hash is not the hash of its content");

	bh_replay_xid = GetTopTransactionId();
	bh_replay_seq = seq;
	strlcpy(bh_replay_hash, hex, sizeof(bh_replay_hash));
	return PointerGetDatum(tup);
}
