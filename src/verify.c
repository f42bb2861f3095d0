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
 *	- head_mismatch (bh_audit only): an expected head hash, stored outside
 *	  the database, is not found in the scanned range; this is how the
 *	  removal of the chain's tail is detected.
 * A range that starts after the first event starts from the recorded hash
 * of the event before it.
 *
 * Everything streams through an SPI cursor with per-row memory reset, so
 * memory stays constant whatever the chain's length, and everything is
 * read-only (it runs on a hot standby).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/uuid.h"

#include "bh_audit.h"
#include "canon.h"

#define BH_FETCH_ROWS 1000

static const char *const bh_msg_hash_mismatch =
"Event content does not match its recorded hash. Event may have been modified after emission.";
static const char *const bh_msg_chain_gap =
"prev_event_hash does not match the previous event's hash. An event may have been deleted or reordered.";
static const char *const bh_msg_missing_prev =
"Missing prev_event_hash mid-chain (possible unchained emission).";
static const char *const bh_msg_head =
"The expected chain head was not found. Events may have been removed from the end of the chain.";

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

/* The SQL of a range scan of the events table, $1/$2 inclusive bounds. */
static const char *
bh_range_sql(const char *columns)
{
	return psprintf("SELECT %s FROM bh_audit.events "
					"WHERE seq >= $1 AND seq <= $2 ORDER BY seq", columns);
}

/* Open a read-only cursor over [from, to] (NULL bounds are open). */
static Portal
bh_open_range(const char *columns, FunctionCallInfo fcinfo)
{
	Oid			types[2] = {INT8OID, INT8OID};
	Datum		args[2];
	Portal		portal;

	args[0] = Int64GetDatum(PG_ARGISNULL(0) ? PG_INT64_MIN : PG_GETARG_INT64(0));
	args[1] = Int64GetDatum(PG_ARGISNULL(1) ? PG_INT64_MAX : PG_GETARG_INT64(1));
	portal = SPI_cursor_open_with_args(NULL, bh_range_sql(columns), 2, types,
									   args, NULL, true, 0);
	if (portal == NULL)
		elog(ERROR, "could not open a cursor on bh_audit.events");
	return portal;
}

/*
 * Walk the chain over the function's (from_seq, to_seq, expected_head)
 * arguments; fill *res and report failures to sink.
 */
static void
bh_verify_walk(FunctionCallInfo fcinfo, BhVerifyResult *res, BhFailureSink *sink)
{
	char	   *expected_head = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	char		prev[BH_MAX_HEX_LEN];
	bool		have_prev = false;
	Portal		portal;
	MemoryContext rowcxt;
	MemoryContext oldcxt;
	StringInfoData canonical;

	memset(res, 0, sizeof(*res));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* A range starting mid-chain links to the recorded hash before it. */
	if (!PG_ARGISNULL(0))
	{
		Oid			types[1] = {INT8OID};
		Datum		args[1] = {PG_GETARG_DATUM(0)};

		if (SPI_execute_with_args("SELECT event_hash FROM bh_audit.events "
								  "WHERE seq < $1 ORDER BY seq DESC LIMIT 1",
								  1, types, args, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read bh_audit.events");
		if (SPI_processed == 1)
		{
			char	   *h = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

			strlcpy(prev, h, sizeof(prev));
			have_prev = true;
		}
	}

	portal = bh_open_range("seq, event, hash_alg, prev_event_hash, event_hash, event_id", fcinfo);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "bh_audit verify row",
								   ALLOCSET_DEFAULT_SIZES);
	/* outlives the rows: repalloc keeps it in this context */
	initStringInfo(&canonical);

	for (;;)
	{
		uint64		i;

		SPI_cursor_fetch(portal, true, BH_FETCH_ROWS);
		if (SPI_processed == 0)
			break;
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull,
						prev_null,
						id_null;
			int64		seq = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
			Datum		event = SPI_getbinval(tup, desc, 2, &isnull);
			Datum		event_id = SPI_getbinval(tup, desc, 6, &id_null);
			char	   *algname;
			char	   *recorded_prev;
			char	   *recorded;
			BhHashAlg	alg;
			char		hex[BH_MAX_HEX_LEN];

			oldcxt = MemoryContextSwitchTo(rowcxt);
			algname = TextDatumGetCString(SPI_getbinval(tup, desc, 3, &isnull));
			recorded_prev = SPI_getvalue(tup, desc, 4);
			prev_null = (recorded_prev == NULL);
			recorded = SPI_getvalue(tup, desc, 5);

			res->scanned++;
			res->chain_length++;

			if (!bh_hash_alg_from_name(algname, &alg))
			{
				res->hash_mismatches++;
				bh_report(sink, seq, event_id, id_null, "hash_mismatch", NULL, recorded,
						  "Unknown hash_alg: the event's hash cannot be recomputed.");
			}
			else
			{
				resetStringInfo(&canonical);
				canon_render(&canonical, canon_from_jsonb(DatumGetJsonbP(event)), true);
				bh_chain_hash(alg, have_prev ? prev : NULL, canonical.data, canonical.len, hex);
				if (strcmp(hex, recorded) != 0)
				{
					res->hash_mismatches++;
					bh_report(sink, seq, event_id, id_null, "hash_mismatch", hex, recorded,
							  bh_msg_hash_mismatch);
				}
			}

			if (prev_null && have_prev)
			{
				res->chain_gaps++;
				bh_report(sink, seq, event_id, id_null, "chain_gap", prev, NULL,
						  bh_msg_missing_prev);
			}
			else if (!prev_null && (!have_prev || strcmp(recorded_prev, prev) != 0))
			{
				res->chain_gaps++;
				bh_report(sink, seq, event_id, id_null, "chain_gap",
						  have_prev ? prev : NULL, recorded_prev, bh_msg_chain_gap);
			}

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
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);

	if (expected_head && !res->head_ok)
		bh_report(sink, res->have_head ? res->head_seq : 0, (Datum) 0, true,
				  "head_mismatch", expected_head,
				  res->have_head ? res->head_hash : NULL, bh_msg_head);
	if (!expected_head)
		res->head_ok = true;

	MemoryContextDelete(rowcxt);
	SPI_finish();
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
	HeapTuple	result;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT seq, event_hash, ts FROM bh_audit.events "
					"ORDER BY seq DESC LIMIT 1", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read bh_audit.events");
	if (SPI_processed == 1)
	{
		int			i;

		for (i = 0; i < 3; i++)
			values[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									  i + 1, &nulls[i]);
	}
	/* SPI_copytuple copies into the caller's context, out of SPI memory */
	result = SPI_copytuple(heap_form_tuple(tupdesc, values, nulls));
	SPI_finish();

	PG_RETURN_DATUM(HeapTupleGetDatum(result));
}

PG_FUNCTION_INFO_V1(bh_audit_export_jsonl);

/*
 * bh_audit.export_jsonl(from_seq, to_seq): each event with its integrity
 * block, one canonical JSON line per event, in seq order.
 */
Datum
bh_audit_export_jsonl(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Portal		portal;
	MemoryContext rowcxt;
	MemoryContext oldcxt;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	portal = bh_open_range("event, hash_alg, prev_event_hash, event_hash", fcinfo);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "bh_audit export row",
								   ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		uint64		i;

		SPI_cursor_fetch(portal, true, BH_FETCH_ROWS);
		if (SPI_processed == 0)
			break;
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull;
			CanonNode  *event;
			CanonNode  *integrity;
			char	   *s;
			StringInfoData line;
			Datum		value;
			bool		null = false;

			oldcxt = MemoryContextSwitchTo(rowcxt);
			event = canon_from_jsonb(DatumGetJsonbP(SPI_getbinval(tup, desc, 1, &isnull)));
			integrity = canon_new_object();
			s = SPI_getvalue(tup, desc, 4);
			canon_object_set(integrity, "event_hash", canon_new_string(s, strlen(s)));
			s = SPI_getvalue(tup, desc, 2);
			canon_object_set(integrity, "hash_alg", canon_new_string(s, strlen(s)));
			s = SPI_getvalue(tup, desc, 3);
			if (s)
				canon_object_set(integrity, "prev_event_hash", canon_new_string(s, strlen(s)));
			canon_object_set(event, "integrity", integrity);

			initStringInfo(&line);
			canon_render(&line, event, false);
			value = PointerGetDatum(cstring_to_text_with_len(line.data, line.len));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &null);
			MemoryContextSwitchTo(oldcxt);
			MemoryContextReset(rowcxt);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(rowcxt);
	SPI_finish();
	return (Datum) 0;
}
