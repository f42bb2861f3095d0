/*-------------------------------------------------------------------------
 *
 * ledger_write.c
 *		Append sealed events to bh_audit.events without the executor.
 *
 * The sealer is the only writer of the ledger.  It hands each sealed event
 * (seq, event, hash_alg, prev_event_hash, event_hash) to a BhLedgerWriter,
 * which fills the access-review columns itself, collects rows and writes
 * them with one heap multi-insert per chunk, then inserts their index
 * entries (primary key checked for uniqueness, partial-index predicates
 * evaluated as the executor would).
 *
 * The access-review columns (event_id, ts, actor_id, ...) are declared
 * GENERATED in the install script, so that a restore, which replays rows
 * through INSERT, computes them from the event.  Here they are computed by
 * bh_ledger_derived_columns(), which follows their expressions exactly:
 * "event -> 'a' ->> 'b'" is NULL unless "a" is an object holding "b"; a
 * JSON string gives its text, a JSON null gives NULL, anything else the
 * text jsonb's ->> gives; ts is bh_audit.event_timestamp() of the
 * "timestamp" text.  The regression suite re-evaluates the expressions over
 * every sealed row and expects no difference.
 *
 * Row triggers are not fired: the append-only guard's INSERT trigger
 * exists to check rows that do not come from the sealer.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "bh_audit.h"
#include "ledger_write.h"

/* Rows written per heap multi-insert (about six heap pages of events). */
#define BH_LEDGER_CHUNK 64

/* Columns of bh_audit.events, by name. */
typedef enum BhLedgerCol
{
	BH_COL_SEQ,
	BH_COL_EVENT,
	BH_COL_HASH_ALG,
	BH_COL_PREV,
	BH_COL_HASH,
	BH_COL_EVENT_ID,
	BH_COL_TS,
	BH_COL_ACTOR_ID,
	BH_COL_PATIENT_ID,
	BH_COL_RESOURCE_TYPE,
	BH_COL_RESOURCE_ID,
	BH_COL_ACTION,
	BH_COL_OUTCOME,
	BH_COL_ERROR_TYPE,
	BH_NUM_COLS
} BhLedgerCol;

static const char *const bh_col_names[BH_NUM_COLS] = {
	"seq", "event", "hash_alg", "prev_event_hash", "event_hash",
	"event_id", "ts", "actor_id", "patient_id", "resource_type",
	"resource_id", "action", "outcome", "error_type"
};

struct BhLedgerWriter
{
	Relation	rel;
	ResultRelInfo *rri;
	EState	   *estate;
	CommandId	cid;
	int			attno[BH_NUM_COLS];	/* 0-based attribute index per column */
	TupleTableSlot *slots[BH_LEDGER_CHUNK];
	int			nslots;			/* slots created */
	int			nbuffered;		/* rows waiting in slots[0..nbuffered) */
	MemoryContext rowcxt;		/* the buffered rows' datums */
};

/*
 * Open the ledger for appending.  The caller holds the sealer's chain lock
 * (sealer.c); the writer keeps RowExclusiveLock until bh_ledger_close().
 */
BhLedgerWriter *
bh_ledger_open(Oid relid)
{
	BhLedgerWriter *w = palloc0(sizeof(BhLedgerWriter));
	TupleDesc	desc;
	int			c;
	int			i;

	w->rel = table_open(relid, RowExclusiveLock);
	desc = RelationGetDescr(w->rel);
	for (c = 0; c < BH_NUM_COLS; c++)
	{
		w->attno[c] = -1;
		for (i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped && strcmp(NameStr(att->attname), bh_col_names[c]) == 0)
				w->attno[c] = i;
		}
		if (w->attno[c] < 0)
			elog(ERROR, "bh_audit.events has no column \"%s\"", bh_col_names[c]);
	}

	w->estate = CreateExecutorState();
	w->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(w->rri, w->rel, 1, NULL, 0);
	ExecOpenIndices(w->rri, false);
	w->cid = GetCurrentCommandId(true);
	w->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "bh_audit ledger rows",
									  ALLOCSET_DEFAULT_SIZES);
	return w;
}

/*
 * The value of "container ->> key" as the jsonb operator gives it, or
 * NULL (isnull) when the key is missing or holds a JSON null.
 */
static Datum
bh_field_text(JsonbContainer *container, const char *key, bool *isnull)
{
	JsonbValue	v;

	*isnull = true;
	if (container == NULL || !JsonContainerIsObject(container) ||
		getKeyJsonValueFromContainer(container, key, strlen(key), &v) == NULL)
		return (Datum) 0;
	switch (v.type)
	{
		case jbvNull:
			return (Datum) 0;
		case jbvString:
			*isnull = false;
			return PointerGetDatum(cstring_to_text_with_len(v.val.string.val,
															v.val.string.len));
		case jbvNumeric:
			*isnull = false;
			return DirectFunctionCall1(textin,
									   DirectFunctionCall1(numeric_out,
														   NumericGetDatum(v.val.numeric)));
		case jbvBool:
			*isnull = false;
			return PointerGetDatum(cstring_to_text(v.val.boolean ? "true" : "false"));
		default:
			/* object or array: its jsonb text */
			*isnull = false;
			return PointerGetDatum(cstring_to_text(JsonbToCString(NULL, v.val.binary.data,
																  v.val.binary.len)));
	}
}

/* A hex digit's value, or -1. */
static inline int
bh_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * text::uuid.  The canonical form (8-4-4-4-12 hex digits, the form every
 * event id has) is converted here; anything else goes through uuid_in,
 * which accepts more forms and raises the error for bad input.
 */
static Datum
bh_text_to_uuid(text *t)
{
	const char *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);

	if (len == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-')
	{
		pg_uuid_t  *u = palloc(sizeof(pg_uuid_t));
		int			i;
		int			j = 0;

		for (i = 0; i < 36 && j < UUID_LEN; i++)
		{
			int			hi;
			int			lo;

			if (i == 8 || i == 13 || i == 18 || i == 23)
				continue;
			hi = bh_hexval(s[i]);
			lo = bh_hexval(s[i + 1]);
			if (hi < 0 || lo < 0)
				break;
			u->data[j++] = (unsigned char) ((hi << 4) | lo);
			i++;
		}
		if (j == UUID_LEN)
			return UUIDPGetDatum(u);
		pfree(u);
	}
	return DirectFunctionCall1(uuid_in, CStringGetDatum(text_to_cstring(t)));
}

/* The object "container -> key", or NULL when it is missing or no object. */
static JsonbContainer *
bh_field_object(JsonbContainer *container, const char *key)
{
	JsonbValue	v;

	if (!JsonContainerIsObject(container) ||
		getKeyJsonValueFromContainer(container, key, strlen(key), &v) == NULL ||
		v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
		return NULL;
	return v.val.binary.data;
}

/*
 * Fill the access-review columns of a ledger row from its event, as the
 * columns' generated expressions in the install script compute them.
 */
static void
bh_ledger_derived_columns(BhLedgerWriter *w, Jsonb *event, Datum *values, bool *nulls)
{
	JsonbContainer *root = &event->root;
	JsonbContainer *actor = bh_field_object(root, "actor");
	JsonbContainer *resource = bh_field_object(root, "resource");
	JsonbContainer *action = bh_field_object(root, "action");
	JsonbContainer *outcome = bh_field_object(root, "outcome");
	Datum		d;
	bool		isnull;

	/* (event ->> 'event_id')::uuid */
	d = bh_field_text(root, "event_id", &isnull);
	nulls[w->attno[BH_COL_EVENT_ID]] = isnull;
	if (!isnull)
		values[w->attno[BH_COL_EVENT_ID]] = bh_text_to_uuid(DatumGetTextPP(d));

	/* bh_audit.event_timestamp(event ->> 'timestamp'), a strict function */
	d = bh_field_text(root, "timestamp", &isnull);
	nulls[w->attno[BH_COL_TS]] = isnull;
	if (!isnull)
	{
		text	   *t = DatumGetTextPP(d);

		values[w->attno[BH_COL_TS]] =
			TimestampTzGetDatum(bh_event_timestamp_parse(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
	}

#define BH_SUBFIELD(col, obj, key) \
	values[w->attno[col]] = bh_field_text(obj, key, &nulls[w->attno[col]])

	BH_SUBFIELD(BH_COL_ACTOR_ID, actor, "subject_id");
	BH_SUBFIELD(BH_COL_PATIENT_ID, resource, "patient_id");
	BH_SUBFIELD(BH_COL_RESOURCE_TYPE, resource, "type");
	BH_SUBFIELD(BH_COL_RESOURCE_ID, resource, "id");
	BH_SUBFIELD(BH_COL_ACTION, action, "type");
	BH_SUBFIELD(BH_COL_OUTCOME, outcome, "status");
	BH_SUBFIELD(BH_COL_ERROR_TYPE, outcome, "error_type");
#undef BH_SUBFIELD
}

/* Write the buffered rows: one heap multi-insert, then their index entries. */
static void
bh_ledger_flush(BhLedgerWriter *w)
{
	int			i;

	if (w->nbuffered == 0)
		return;
	table_multi_insert(w->rel, w->slots, w->nbuffered, w->cid, 0, NULL);
	for (i = 0; i < w->nbuffered; i++)
	{
		List	   *conflicts;

		conflicts = ExecInsertIndexTuples(w->rri, w->slots[i], w->estate,
										  false, false, NULL, NIL);
		list_free(conflicts);
		ResetPerTupleExprContext(w->estate);
		ExecClearTuple(w->slots[i]);
	}
	w->nbuffered = 0;
	MemoryContextReset(w->rowcxt);
}

/*
 * Append one sealed event.  prev_hex is NULL for the first event of the
 * chain.  The row is written by a later call or by bh_ledger_close().
 * False (nothing appended) for an event whose fields do not parse.
 */
bool
bh_ledger_append(BhLedgerWriter *w, int64 seq, Datum event, const char *alg_name,
				 const char *prev_hex, const char *hash_hex)
{
	TupleTableSlot *slot;
	MemoryContext oldcxt;
	Datum	   *values;
	bool	   *nulls;
	volatile bool storable = true;

	if (w->nbuffered == w->nslots)
		w->slots[w->nslots++] = table_slot_create(w->rel, NULL);
	slot = w->slots[w->nbuffered];
	ExecClearTuple(slot);
	values = slot->tts_values;
	nulls = slot->tts_isnull;
	memset(nulls, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);

	oldcxt = MemoryContextSwitchTo(w->rowcxt);
	values[w->attno[BH_COL_SEQ]] = Int64GetDatum(seq);
	nulls[w->attno[BH_COL_SEQ]] = false;
	values[w->attno[BH_COL_EVENT]] = event;
	nulls[w->attno[BH_COL_EVENT]] = false;
	values[w->attno[BH_COL_HASH_ALG]] = CStringGetTextDatum(alg_name);
	nulls[w->attno[BH_COL_HASH_ALG]] = false;
	if (prev_hex != NULL)
	{
		values[w->attno[BH_COL_PREV]] = CStringGetTextDatum(prev_hex);
		nulls[w->attno[BH_COL_PREV]] = false;
	}
	values[w->attno[BH_COL_HASH]] = CStringGetTextDatum(hash_hex);
	nulls[w->attno[BH_COL_HASH]] = false;

	/*
	 * The derived columns only parse the event (its event_id as a uuid, its
	 * timestamp): an event whose fields do not parse (a queue row written
	 * by other means than the extension) fails with a data exception,
	 * caught here, so that it cannot stop the sealer; nothing is buffered.
	 */
	PG_TRY();
	{
		bh_ledger_derived_columns(w, DatumGetJsonbP(event), values, nulls);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(w->rowcxt);
		if (ERRCODE_TO_CATEGORY(geterrcode()) != ERRCODE_DATA_EXCEPTION)
			PG_RE_THROW();
		FlushErrorState();
		storable = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);

	if (!storable)
	{
		ExecClearTuple(slot);
		return false;
	}
	ExecStoreVirtualTuple(slot);
	if (++w->nbuffered == BH_LEDGER_CHUNK)
		bh_ledger_flush(w);
	return true;
}

/* Write what is buffered and release the writer. */
void
bh_ledger_close(BhLedgerWriter *w)
{
	int			i;

	bh_ledger_flush(w);
	for (i = 0; i < w->nslots; i++)
		ExecDropSingleTupleTableSlot(w->slots[i]);
	ExecCloseIndices(w->rri);
	FreeExecutorState(w->estate);
	MemoryContextDelete(w->rowcxt);

	/*
	 * The table stays locked until the transaction ends, as the executor
	 * keeps it: released now, a CLUSTER or VACUUM FULL could take the table
	 * before this transaction commits and copy its rows as an insert in
	 * progress (with a WARNING for each).
	 */
	table_close(w->rel, NoLock);
	pfree(w);
}
