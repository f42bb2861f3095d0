/*-------------------------------------------------------------------------
 *
 * verify.c
 *		Reading the chain back: verification, the chain head and the JSONL
 *		export.
 *
 * Verification mirrors the bh-audit-logger verifier: walk events in chain
 * order, recompute each hash from the previous event's RECORDED hash and
 * the event's canonical form, and compare.
 *	- hash_mismatch: recomputed hash differs from the recorded event_hash;
 *	- chain_gap: the recorded prev_event_hash differs from the previous
 *	  event's recorded hash, or is missing after the first event;
 *	- seq_gap (bh_audit only): the link is intact but the seq is not the
 *	  previous one's + 1 (the ledger's seq has no gaps: rows were
 *	  renumbered or moved);
 *	- column_mismatch (bh_audit only): an access-review column (patient_id,
 *	  ts, ...) does not hold what the event gives it, as the sealer computes
 *	  it (a column a superuser dropped and added again with other values);
 *	  the event counts among the hash mismatches;
 *	- head_mismatch (bh_audit only): an expected head hash, stored outside
 *	  the database, is not found in the scanned range; this is how the
 *	  removal of the chain's tail is detected.
 * A NULL event or hash_alg (the columns are NOT NULL: a superuser's change)
 * is a hash_mismatch, a NULL event_hash is read as "" (as the sealer reads
 * such a head); the export stops at such an event with an error naming it.
 * A range that starts after the first event starts from the recorded hash
 * of the event before it; a range that ends before the chain does is
 * checked to link to the event after it (events removed at its end).
 *
 * Events are read in seq order by a plain scan of the primary key index,
 * checked to be a btree on seq as the sealer checks it (no sort, no SPI
 * copies), with per-row memory reset, so memory stays
 * constant whatever the chain's length.  Each scan (the walk's, the
 * export's, the edge event's) finds the ledger's columns and checks their
 * types as the sealer does (bh_ledger_find_columns(), 42P16) when it opens
 * the table, before it reads a row, and reads every row at those
 * positions; everything is read-only (it runs
 * on a hot standby).  The caller needs SELECT on bh_audit.events.
 *
 * The export returns one line per call (value-per-call), its scan kept
 * open between calls and ended by an expression-context callback when the
 * query stops before its end: in a query's SELECT list it streams (a LIMIT
 * or a cursor reads only the events it returns).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"

#include "bh_audit.h"
#include "canon.h"
#include "capture.h"
#include "ledger_write.h"


static const char *const bh_msg_hash_mismatch =
"Event content does not match its recorded hash. Event may have been modified after emission.";
static const char *const bh_msg_chain_gap =
"prev_event_hash does not match the previous event's hash. An event may have been deleted or reordered.";
static const char *const bh_msg_missing_prev =
"Missing prev_event_hash mid-chain (possible unchained emission).";
static const char *const bh_msg_seq_gap =
"The event's seq does not follow the previous event's seq. Events may have been renumbered or moved.";
static const char *const bh_msg_head =
"The expected chain head was not found. Events may have been removed from the end of the chain.";
static const char *const bh_msg_column =
"Column %s does not hold what the event gives it. The ledger's column may have been changed after emission.";
static const char *const bh_msg_column_parse =
"The event's event_id or timestamp does not parse: its columns cannot be recomputed.";

/* Totals of one verification. */
typedef struct BhVerifyResult
{
	int64		scanned;
	int64		chain_length;
	int64		chain_gaps;
	int64		hash_mismatches;
	bool		head_ok;
	bool		have_head;
	int64		head_seq;
	char		head_hash[BH_MAX_HEX_LEN];
} BhVerifyResult;

/* Failure sink: NULL tuplestore means count only. */
typedef struct BhFailureSink
{
	Tuplestorestate *store;
	TupleDesc	desc;
} BhFailureSink;

/* Record one failure row, if anyone collects them. */
static void
bh_report(BhFailureSink *sink, int64 seq, Datum event_id, bool id_null,
		  const char *type, const char *expected, const char *actual,
		  const char *message)
{
	Datum		values[6];
	bool		nulls[6] = {0};

	if (sink == NULL || sink->store == NULL)
		return;
	values[0] = Int64GetDatum(seq);
	values[1] = event_id;
	nulls[1] = id_null;
	values[2] = CStringGetTextDatum(type);
	if (expected)
		values[3] = CStringGetTextDatum(expected);
	else
		nulls[3] = true;
	if (actual)
		values[4] = CStringGetTextDatum(actual);
	else
		nulls[4] = true;
	values[5] = CStringGetTextDatum(message);
	tuplestore_putvalues(sink->store, sink->desc, values, nulls);
}

/*
 * A scan of bh_audit.events in seq order over [from, to], straight from
 * the primary key index.
 */
typedef struct BhEventScan
{
	Relation	rel;
	Relation	index;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	int			attno[BH_NUM_COLS]; /* 0-based, per BhLedgerCol, checked */
} BhEventScan;

/*
 * bh_audit.events (the OID capture keeps, looked up once), or an error if
 * it does not exist.
 */
static Oid
bh_ledger_relid(void)
{
	Oid			relid = bh_events_relid();

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"bh_audit.events\" does not exist")));
	return relid;
}

/*
 * The caller of one of the trail's functions (function: its name) must
 * have SELECT on bh_audit.events.  EXECUTE may have been granted more
 * widely than the reader role: a refusal here is a DENIED event of the
 * trail, as the executor's refusal of the function would be, recorded
 * before the error.  Called first, before the function reads anything.
 */
static void
bh_events_permitted(const char *function)
{
	AclResult	aclresult;

	aclresult = pg_class_aclcheck(bh_ledger_relid(), GetUserId(), ACL_SELECT);
	if (aclresult == ACLCHECK_OK)
		return;
	bh_push_own_refusal(function, "permission denied for table events");
	aclcheck_error(aclresult, OBJECT_TABLE, "events");
}

/*
 * Open bh_audit.events for reading (bh_events_permitted checked the caller),
 * under the active snapshot: after seal() in this transaction's, a warning
 * (seal_wait.c).
 */
static Relation
bh_events_open(void)
{
	if (bh_seal_unseen)
		bh_seal_unseen_read();
	return table_open(bh_ledger_relid(), AccessShareLock);
}

/*
 * Start a scan over the function's (from_seq, to_seq) arguments, under
 * snapshot (which must outlive the scan).
 */
static void
bh_scan_begin(BhEventScan *es, FunctionCallInfo fcinfo, Snapshot snapshot)
{
	ScanKeyData keys[2];
	int			nkeys = 0;

	es->rel = bh_events_open();
	/* a btree on seq, a bigint, as the sealer checks it: else 42P16 */
	es->index = bh_key_index_open(es->rel, "seq");
	/* the columns, of the install script's types: else 42P16 */
	bh_ledger_find_columns(RelationGetDescr(es->rel), es->attno);

	if (!PG_ARGISNULL(0))
		ScanKeyInit(&keys[nkeys++], 1, BTGreaterEqualStrategyNumber, F_INT8GE,
					PG_GETARG_DATUM(0));
	if (!PG_ARGISNULL(1))
		ScanKeyInit(&keys[nkeys++], 1, BTLessEqualStrategyNumber, F_INT8LE,
					PG_GETARG_DATUM(1));

	es->scan = index_beginscan(es->rel, es->index, snapshot, nkeys, 0);
	index_rescan(es->scan, keys, nkeys, NULL, 0);
	es->slot = table_slot_create(es->rel, NULL);
}

/* Next event in seq order; false at the end. */
static bool
bh_scan_next(BhEventScan *es)
{
	CHECK_FOR_INTERRUPTS();
	if (!index_getnext_slot(es->scan, ForwardScanDirection, es->slot))
		return false;
	slot_getallattrs(es->slot);
	return true;
}

/* A text column (col) of the current event, NULL if null. */
static char *
bh_scan_text(BhEventScan *es, BhLedgerCol col)
{
	int			att = es->attno[col];

	if (es->slot->tts_isnull[att])
		return NULL;
	return TextDatumGetCString(es->slot->tts_values[att]);
}

static void
bh_scan_end(BhEventScan *es)
{
	ExecDropSingleTupleTableSlot(es->slot);
	index_endscan(es->scan);
	index_close(es->index, AccessShareLock);
	table_close(es->rel, AccessShareLock);
}

/*
 * The event next to a bound: backward, the last one (with has_bound, the
 * last one with seq < bound); forward, the first one with seq > bound.
 * Copies its seq, event_hash ("" when NULL, as the walk reads it),
 * prev_event_hash (if prev is given; *prev_null says whether it is NULL: a
 * missing link, where "" is the link of an event chained after a NULL
 * event_hash) and ts (if ts is given; *ts_null says whether it is NULL: an
 * event without a "timestamp", changed since it was sealed) out; false if
 * there is none.  The columns are checked first, as a scan's are.
 */
static bool
bh_edge_event(ScanDirection dir, bool has_bound, int64 bound, int64 *seq, char *hash,
			  char *prev, bool *prev_null, Datum *ts, bool *ts_null)
{
	Relation	rel = bh_events_open();
	Relation	index = bh_key_index_open(rel, "seq");
	int			attno[BH_NUM_COLS];
	ScanKeyData key;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	bool		found;

	bh_ledger_find_columns(RelationGetDescr(rel), attno);
	slot = table_slot_create(rel, NULL);
	if (has_bound && ScanDirectionIsBackward(dir))
		ScanKeyInit(&key, 1, BTLessStrategyNumber, F_INT8LT, Int64GetDatum(bound));
	else if (has_bound)
		ScanKeyInit(&key, 1, BTGreaterStrategyNumber, F_INT8GT, Int64GetDatum(bound));
	scan = index_beginscan(rel, index, GetActiveSnapshot(), has_bound ? 1 : 0, 0);
	index_rescan(scan, &key, has_bound ? 1 : 0, NULL, 0);
	found = index_getnext_slot(scan, dir, slot);
	if (found)
	{
		bool		isnull;
		Datum		d;

		*seq = DatumGetInt64(slot_getattr(slot, attno[BH_COL_SEQ] + 1, &isnull));
		d = slot_getattr(slot, attno[BH_COL_HASH] + 1, &isnull);
		strlcpy(hash, isnull ? "" : TextDatumGetCString(d), BH_MAX_HEX_LEN);
		if (prev)
		{
			d = slot_getattr(slot, attno[BH_COL_PREV] + 1, prev_null);
			strlcpy(prev, *prev_null ? "" : TextDatumGetCString(d), BH_MAX_HEX_LEN);
		}
		if (ts)
			*ts = slot_getattr(slot, attno[BH_COL_TS] + 1, ts_null);
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(index, AccessShareLock);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * Check an event's link to the event before it in the chain: its
 * prev_event_hash against prev, the previous event's recorded hash (NULL:
 * it is the first), and its seq against next_seq.  A seq out of order with
 * the link intact is reported apart (rows renumbered or moved); with the
 * link broken, the chain_gap says it already.
 */
static void
bh_check_link(BhVerifyResult *res, BhFailureSink *sink, int64 seq, Datum event_id,
			  bool id_null, const char *prev, const char *recorded_prev, int64 next_seq)
{
	if (recorded_prev == NULL && prev != NULL)
	{
		res->chain_gaps++;
		bh_report(sink, seq, event_id, id_null, "chain_gap", prev, NULL, bh_msg_missing_prev);
	}
	else if (recorded_prev != NULL && (prev == NULL || strcmp(recorded_prev, prev) != 0))
	{
		res->chain_gaps++;
		bh_report(sink, seq, event_id, id_null, "chain_gap", prev, recorded_prev,
				  bh_msg_chain_gap);
	}
	else if (seq != next_seq)
	{
		char		expected[32];
		char		actual[32];

		snprintf(expected, sizeof(expected), INT64_FORMAT, next_seq);
		snprintf(actual, sizeof(actual), INT64_FORMAT, seq);
		res->chain_gaps++;
		bh_report(sink, seq, event_id, id_null, "seq_gap", expected, actual, bh_msg_seq_gap);
	}
}

/*
 * Check the access-review columns of the current event (event_id, ts,
 * patient_id ...: what a review filters on) against what its event gives
 * them, computed as the sealer computes them (ledger_write.c): a column
 * made plain and rewritten, or dropped and added again with other values,
 * would show a read under another patient while the hash covers the
 * event.  One column_mismatch per column; the event counts among the
 * hash_mismatches (once, counted already if its hash failed).
 */
static void
bh_check_columns(BhVerifyResult *res, BhFailureSink *sink, BhEventScan *es, Jsonb *event,
				 int64 seq, Datum event_id, bool id_null, bool counted)
{
	const char *columns[BH_LEDGER_DERIVED];
	int			n;
	int			i;

	n = bh_ledger_row_mismatches(es->attno, es->slot, event, columns);
	if (n == 0)
		return;
	if (!counted)
		res->hash_mismatches++;
	if (n < 0)
		bh_report(sink, seq, event_id, id_null, "column_mismatch", NULL, NULL,
				  bh_msg_column_parse);
	for (i = 0; i < n; i++)
		bh_report(sink, seq, event_id, id_null, "column_mismatch", NULL, NULL,
				  sink != NULL ? psprintf(bh_msg_column, columns[i]) : "");
}

/*
 * The expected_head argument (NULL when not given): a hash chain_head()
 * gave, of 64, 96 or 128 hexadecimal digits, in either letter case (the
 * chain records lowercase).  Anything else (blanks around the hash, a hash
 * cut short) is refused: as a head_mismatch it would say that events may
 * have been removed.
 */
static char *
bh_expected_head_arg(FunctionCallInfo fcinfo)
{
	char	   *head;
	size_t		len;
	size_t		i;

	if (PG_ARGISNULL(2))
		return NULL;
	head = text_to_cstring(PG_GETARG_TEXT_PP(2));
	len = strlen(head);
	for (i = 0; i < len; i++)
	{
		if (!isxdigit((unsigned char) head[i]))
			break;
		head[i] = pg_ascii_tolower((unsigned char) head[i]);
	}
	if (i < len || (len != 64 && len != 96 && len != 128))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("expected_head is not a chain hash"),
				 errdetail("A hash of bh_audit.chain_head() is 64, 96 or 128 hexadecimal digits, with nothing around them; this one is %d characters long%s.",
						   pg_mbstrlen(head), i < len ? " and holds other characters" : "")));
	return head;
}

/*
 * Walk the chain over the function's (from_seq, to_seq, expected_head)
 * arguments; fill *res and report failures to sink.
 */
static void
bh_verify_walk(FunctionCallInfo fcinfo, BhVerifyResult *res, BhFailureSink *sink)
{
	char	   *expected_head = bh_expected_head_arg(fcinfo);
	char		prev[BH_MAX_HEX_LEN];
	bool		have_prev = false;
	int64		next_seq = 1;	/* the seq the next event must have */
	BhEventScan es;
	MemoryContext rowcxt;
	MemoryContext oldcxt;
	StringInfoData canonical;

	memset(res, 0, sizeof(*res));

	/* A range starting mid-chain links to the recorded hash before it. */
	if (!PG_ARGISNULL(0))
	{
		int64		seq;

		have_prev = bh_edge_event(BackwardScanDirection, true, PG_GETARG_INT64(0), &seq,
								  prev, NULL, NULL, NULL, NULL);
		if (have_prev)
			next_seq = seq + 1;
	}

	bh_scan_begin(&es, fcinfo, GetActiveSnapshot());
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "bh_audit verify row",
								   ALLOCSET_DEFAULT_SIZES);
	/* outlives the rows: repalloc keeps it in this context */
	initStringInfo(&canonical);

	while (bh_scan_next(&es))
	{
		Datum	   *values = es.slot->tts_values;
		bool	   *nulls = es.slot->tts_isnull;
		int64		seq = DatumGetInt64(values[es.attno[BH_COL_SEQ]]);
		Datum		event_id = values[es.attno[BH_COL_EVENT_ID]];
		bool		id_null = nulls[es.attno[BH_COL_EVENT_ID]];
		char	   *algname;
		char	   *recorded_prev;
		char	   *recorded;
		BhHashAlg	alg;
		char		hex[BH_MAX_HEX_LEN];
		Jsonb	   *event;
		int64		mismatches = res->hash_mismatches;

		oldcxt = MemoryContextSwitchTo(rowcxt);
		event = nulls[es.attno[BH_COL_EVENT]] ? NULL :
			DatumGetJsonbP(values[es.attno[BH_COL_EVENT]]);
		algname = bh_scan_text(&es, BH_COL_HASH_ALG);
		recorded_prev = bh_scan_text(&es, BH_COL_PREV);
		recorded = bh_scan_text(&es, BH_COL_HASH);
		if (recorded == NULL)
			recorded = "";

		res->scanned++;
		res->chain_length++;

		if (algname == NULL || !bh_hash_alg_from_name(algname, &alg))
		{
			res->hash_mismatches++;
			bh_report(sink, seq, event_id, id_null, "hash_mismatch", NULL, recorded,
					  "Unknown hash_alg: the event's hash cannot be recomputed.");
		}
		else if (event == NULL)
		{
			/* made NULL since (the column is NOT NULL): no content to hash */
			res->hash_mismatches++;
			bh_report(sink, seq, event_id, id_null, "hash_mismatch", NULL, recorded,
					  "The event is NULL: its hash cannot be recomputed.");
		}
		else
		{
			int			sqlerrcode = 0;

			resetStringInfo(&canonical);
			if (!canon_render_jsonb_try(&canonical, event, true, &sqlerrcode))
			{
				/* the sealer hashes no such event: it was changed since */
				res->hash_mismatches++;
				bh_report(sink, seq, event_id, id_null, "hash_mismatch", NULL, recorded,
						  sqlerrcode == ERRCODE_UNTRANSLATABLE_CHARACTER ||
						  sqlerrcode == ERRCODE_CHARACTER_NOT_IN_REPERTOIRE ?
						  "A string in the event has a character without a UTF-8 equivalent: its hash cannot be recomputed." :
						  "A number in the event has no canonical form: its hash cannot be recomputed.");
			}
			else
			{
				bh_chain_hash(alg, have_prev ? prev : NULL, canonical.data, canonical.len, hex);
				if (strcmp(hex, recorded) != 0)
				{
					res->hash_mismatches++;
					bh_report(sink, seq, event_id, id_null, "hash_mismatch", hex, recorded,
							  bh_msg_hash_mismatch);
				}
			}
		}

		if (event != NULL)
			bh_check_columns(res, sink, &es, event, seq, event_id, id_null,
							 res->hash_mismatches > mismatches);
		bh_check_link(res, sink, seq, event_id, id_null, have_prev ? prev : NULL,
					  recorded_prev, next_seq);

		next_seq = seq + 1;
		strlcpy(prev, recorded, sizeof(prev));
		have_prev = true;
		if (expected_head && strcmp(expected_head, recorded) == 0)
			res->head_ok = true;
		res->have_head = true;
		res->head_seq = seq;
		strlcpy(res->head_hash, recorded, sizeof(res->head_hash));

		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(rowcxt);
	}
	bh_scan_end(&es);

	/*
	 * A range that ends before the chain does: the event after it must link
	 * to the range's last event (or, for an empty range, to the one before
	 * it), or events at the range's end were removed — the whole range, if
	 * none was scanned.  That event is checked for its link only.  (A range
	 * whose start is past its end is empty: nothing to check.)
	 */
	if (!PG_ARGISNULL(1) && (PG_ARGISNULL(0) || PG_GETARG_INT64(0) <= PG_GETARG_INT64(1)))
	{
		int64		after_seq;
		char		after_hash[BH_MAX_HEX_LEN];
		char		after_prev[BH_MAX_HEX_LEN];
		bool		after_prev_null;

		if (bh_edge_event(ForwardScanDirection, true, PG_GETARG_INT64(1), &after_seq,
						  after_hash, after_prev, &after_prev_null, NULL, NULL))
			bh_check_link(res, sink, after_seq, (Datum) 0, true, have_prev ? prev : NULL,
						  after_prev_null ? NULL : after_prev, next_seq);
	}

	if (expected_head && !res->head_ok)
		bh_report(sink, res->have_head ? res->head_seq : 0, (Datum) 0, true,
				  "head_mismatch", expected_head,
				  res->have_head ? res->head_hash : NULL, bh_msg_head);
	if (!expected_head)
		res->head_ok = true;

	MemoryContextDelete(rowcxt);
}

PG_FUNCTION_INFO_V1(bh_audit_verify_chain);

/*
 * bh_audit.verify_chain(from_seq, to_seq, expected_head): one summary row.
 */
Datum
bh_audit_verify_chain(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	BhVerifyResult res;
	Datum		values[7];
	bool		nulls[7] = {0};
	bool		pass;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	bh_events_permitted("verify_chain");
	bh_verify_walk(fcinfo, &res, NULL);
	pass = res.hash_mismatches == 0 && res.chain_gaps == 0 && res.head_ok;

	values[0] = CStringGetTextDatum(pass ? "PASS" : "FAIL");
	values[1] = Int64GetDatum(res.scanned);
	values[2] = Int64GetDatum(res.chain_length);
	values[3] = Int64GetDatum(res.chain_gaps);
	values[4] = Int64GetDatum(res.hash_mismatches);
	if (res.have_head)
	{
		values[5] = Int64GetDatum(res.head_seq);
		values[6] = CStringGetTextDatum(res.head_hash);
	}
	else
		nulls[5] = nulls[6] = true;

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(bh_audit_chain_failures);

/*
 * bh_audit.chain_failures(from_seq, to_seq, expected_head): one row per
 * failure, in chain order.
 */
Datum
bh_audit_chain_failures(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BhFailureSink sink;
	BhVerifyResult res;

	bh_events_permitted("chain_failures");
	InitMaterializedSRF(fcinfo, 0);
	sink.store = rsinfo->setResult;
	sink.desc = rsinfo->setDesc;
	bh_verify_walk(fcinfo, &res, &sink);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(bh_audit_chain_head);

/*
 * bh_audit.chain_head(): seq, event_hash and timestamp of the last event.
 */
Datum
bh_audit_chain_head(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {true, true, true};
	int64		seq;
	char		hash[BH_MAX_HEX_LEN];
	Datum		ts;
	bool		ts_null;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	bh_events_permitted("chain_head");
	if (bh_edge_event(BackwardScanDirection, false, 0, &seq, hash, NULL, NULL, &ts, &ts_null))
	{
		values[0] = Int64GetDatum(seq);
		values[1] = CStringGetTextDatum(hash);
		values[2] = ts;			/* timestamptz is passed by value */
		nulls[0] = nulls[1] = false;
		nulls[2] = ts_null;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* Error context of the export: the event it was making a line of. */
static void
bh_export_context(void *arg)
{
	errcontext("exporting the event at seq " INT64_FORMAT " of bh_audit.events "
			   "(bh_audit.chain_failures() tells whether it was changed)",
			   *(int64 *) arg);
}

/*
 * An event the export cannot make a line of: changed since it was sealed
 * (a superuser with the guard off), as the error context says.
 */
static void bh_export_damaged(int64 seq, const char *why) pg_attribute_noreturn();

static void
bh_export_damaged(int64 seq, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("the event at seq " INT64_FORMAT " of bh_audit.events cannot be exported: %s",
					seq, why)));
}

/*
 * An export in progress, kept across the calls of export_jsonl(): the scan,
 * under a snapshot of its own, and the seq of the event being exported (for
 * the error context).  It lives in the function's multi-call memory.
 */
typedef struct BhExportState
{
	BhEventScan es;
	Snapshot	snapshot;
	MemoryContext rowcxt;
	int64		export_seq;
	bool		open;			/* the scan is open */
} BhExportState;

/* End an export's scan and close the ledger, once. */
static void
bh_export_close(BhExportState *st)
{
	if (!st->open)
		return;
	st->open = false;
	bh_scan_end(&st->es);
	UnregisterSnapshot(st->snapshot);
}

/*
 * The query stopped before the export's end (a LIMIT, a cursor closed, a
 * rescan): end the scan, release the snapshot and close the ledger, as the
 * executor shuts down.  (An error needs nothing: aborting releases them.)
 */
static void
bh_export_shutdown(Datum arg)
{
	bh_export_close((BhExportState *) DatumGetPointer(arg));
}

PG_FUNCTION_INFO_V1(bh_audit_export_jsonl);

/*
 * bh_audit.export_jsonl(from_seq, to_seq): each event with its integrity
 * block, one canonical JSON line per event, in seq order.
 *
 * The canonical form is UTF-8; a line is returned as text of the database
 * encoding, converted from UTF-8, so that a client whose client_encoding is
 * UTF8 receives the canonical bytes exactly (a client of another encoding
 * gets them converted, and its file does not verify).  Every character of
 * a line came from this database's own strings, so it converts back.  In
 * a SQL_ASCII database nothing is converted: the UTF-8 bytes pass through.
 *
 * One exception: psql, the documented way to write the file, leaves the 32
 * astral noncharacters (U+1FFFE, U+1FFFF, ... U+10FFFF) out of what it
 * prints, and any role can put one into an event (an id, a setting).  The
 * line writes each of them as a JSON escape (a surrogate pair, as Python's
 * json does with ensure_ascii), which a verifier parsing the line reads
 * back as the same character, so the hash it recomputes from the canonical
 * form still matches.  Only UTF8 and SQL_ASCII databases can hold them (no
 * other server encoding has them; the same bytes there are other
 * characters, converted as any others).
 *
 * One line per call (value-per-call): called in a query's SELECT list, the
 * export streams, one event read per line sent, whatever the ledger's
 * size.  (Called in FROM, PostgreSQL stores the whole result before the
 * query reads it.)
 */
Datum
bh_audit_export_jsonl(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FuncCallContext *funcctx;
	BhExportState *st;
	MemoryContext callcxt = CurrentMemoryContext;
	MemoryContext oldcxt;
	ErrorContextCallback context;
	bool		convert = (GetDatabaseEncoding() != PG_UTF8 &&
						   GetDatabaseEncoding() != PG_SQL_ASCII);
	bool		found;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_ValuePerCall) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));

	if (SRF_IS_FIRSTCALL())
	{
		bh_events_permitted("export_jsonl");
		funcctx = SRF_FIRSTCALL_INIT();
		oldcxt = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		st = palloc0(sizeof(BhExportState));
		st->snapshot = RegisterSnapshot(GetActiveSnapshot());
		bh_scan_begin(&st->es, fcinfo, st->snapshot);
		st->open = true;
		/* registered after the multi-call shutdown: called before it */
		RegisterExprContextCallback(rsinfo->econtext, bh_export_shutdown,
									PointerGetDatum(st));

		/*
		 * The export reads the ledger by its index, past any row-level
		 * security policy: refuse a role that policies restrict rather than
		 * hand it the rows they hide (verification shows hashes and counts
		 * only).
		 */
		if (check_enable_rls(RelationGetRelid(st->es.rel), InvalidOid, true) == RLS_ENABLED)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("bh_audit.export_jsonl() exports every event, and row-level security on bh_audit.events applies to this role"),
					 errhint("Export as a role the policies do not restrict, or query bh_audit.events.")));
		st->rowcxt = AllocSetContextCreate(funcctx->multi_call_memory_ctx,
										   "bh_audit export row",
										   ALLOCSET_DEFAULT_SIZES);
		funcctx->user_fctx = st;
		MemoryContextSwitchTo(oldcxt);
	}
	funcctx = SRF_PERCALL_SETUP();
	st = (BhExportState *) funcctx->user_fctx;

	/* an event the sealer could not have hashed: say which (changed since) */
	context.callback = bh_export_context;
	context.arg = &st->export_seq;
	context.previous = error_context_stack;
	error_context_stack = &context;

	/* the index scan allocates as it goes: in memory that outlives the call */
	oldcxt = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
	found = bh_scan_next(&st->es);
	if (found)
	{
		BhEventScan *es = &st->es;
		Jsonb	   *event;
		CanonNode  *integrity;
		char	   *hash;
		char	   *algname;
		char	   *prev;
		StringInfoData line;
		Datum		value;

		MemoryContextSwitchTo(st->rowcxt);
		st->export_seq = DatumGetInt64(es->slot->tts_values[es->attno[BH_COL_SEQ]]);
		if (es->slot->tts_isnull[es->attno[BH_COL_EVENT]])
			bh_export_damaged(st->export_seq, "its event is NULL");
		event = DatumGetJsonbP(es->slot->tts_values[es->attno[BH_COL_EVENT]]);
		hash = bh_scan_text(es, BH_COL_HASH);
		algname = bh_scan_text(es, BH_COL_HASH_ALG);
		prev = bh_scan_text(es, BH_COL_PREV);
		integrity = canon_new_object();
		if (hash)
			canon_object_set(integrity, "event_hash", canon_new_string(hash, strlen(hash)));
		if (algname)
			canon_object_set(integrity, "hash_alg", canon_new_string(algname, strlen(algname)));
		if (prev)
			canon_object_set(integrity, "prev_event_hash", canon_new_string(prev, strlen(prev)));

		/*
		 * The event with this integrity block in place of its own, if any.
		 * Rendered before the checks below: of an event damaged in several
		 * ways, a number or a string without a canonical form is reported.
		 */
		initStringInfo(&line);
		canon_render_jsonb(&line, event, false, integrity);
		if (!JB_ROOT_IS_OBJECT(event))
			bh_export_damaged(st->export_seq, "its event is not a JSON object");
		if (hash == NULL)
			bh_export_damaged(st->export_seq, "its event_hash is NULL");
		if (algname == NULL)
			bh_export_damaged(st->export_seq, "its hash_alg is NULL");
		/* UTF-8, as text of this database (see the function's comment) */
		if (convert)
		{
			char	   *server = pg_any_to_server(line.data, line.len, PG_UTF8);

			MemoryContextSwitchTo(callcxt);
			value = PointerGetDatum(cstring_to_text(server));
		}
		else
		{
			/* the characters psql would drop, escaped (as commented above) */
			canon_escape_astral_nonchars(&line);
			MemoryContextSwitchTo(callcxt);
			value = PointerGetDatum(cstring_to_text_with_len(line.data, line.len));
		}
		MemoryContextReset(st->rowcxt);
		MemoryContextSwitchTo(oldcxt);
		error_context_stack = context.previous;
		SRF_RETURN_NEXT(funcctx, value);
	}
	MemoryContextSwitchTo(oldcxt);
	error_context_stack = context.previous;
	bh_export_close(st);
	UnregisterExprContextCallback(rsinfo->econtext, bh_export_shutdown,
								  PointerGetDatum(st));
	SRF_RETURN_DONE(funcctx);
}
