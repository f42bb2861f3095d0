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
 * bh_ledger_derived_columns(), reading each object of the event once (one
 * pass over its keys for all the keys read in it), and follows their
 * expressions exactly:
 * "event -> 'a' ->> 'b'" is NULL unless "a" is an object holding "b"; a
 * JSON string gives its text, a JSON null gives NULL, anything else the
 * text jsonb's ->> gives; ts is bh_audit.event_timestamp() of the
 * "timestamp" text.  The regression suite re-evaluates the expressions over
 * every sealed row and expects no difference; verification recomputes them
 * the same way for each row (bh_ledger_row_mismatches()) and reports a
 * column a superuser rewrote.
 *
 * The table is the install script's unless a superuser altered it: a
 * column whose type was changed stops the sealer with an ERROR naming it
 * (its datums would not be of the column's type), the events waiting until
 * it is repaired, and verification, the chain head and the export refuse
 * the table with the same ERROR (bh_ledger_find_columns()); a column
 * added gets its default or generated value, as an INSERT gives it.
 *
 * Row triggers are not fired: the append-only guard's INSERT trigger
 * exists to check rows that do not come from the sealer.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "rewrite/rewriteHandler.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "bh_audit.h"
#include "ledger_write.h"

/* Rows written per heap multi-insert (about six heap pages of events). */
#define BH_LEDGER_CHUNK 64

/* The names of the columns (BhLedgerCol, ledger_write.h). */
static const char *const bh_col_names[BH_NUM_COLS] = {
	"seq", "event", "hash_alg", "prev_event_hash", "event_hash",
	"event_id", "ts", "actor_id", "patient_id", "resource_type",
	"resource_id", "action", "outcome", "error_type"
};

/* The first of the access-review columns, generated from the event. */
#define BH_COL_FIRST_DERIVED BH_COL_EVENT_ID

/* Each column where it is in an array of BH_NUM_COLS (for verification). */
static const int bh_col_self[BH_NUM_COLS] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13
};

/* The type each column has in the install script (none has a typmod). */
static const Oid bh_col_types[BH_NUM_COLS] = {
	INT8OID, JSONBOID, TEXTOID, TEXTOID, TEXTOID,
	UUIDOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTOID, TEXTOID
};

struct BhLedgerWriter
{
	Relation	rel;
	ResultRelInfo *rri;
	EState	   *estate;
	CommandId	cid;
	int			attno[BH_NUM_COLS]; /* 0-based attribute index per column */
	/* the columns the install script does not declare (a superuser's) */
	int			nextra;
	int		   *extra_attno;	/* defaults first, then generated columns */
	ExprState **extra_expr;		/* its default or generation; NULL: none */
	int			nnotnull;
	int		   *notnull_attno;	/* the NOT NULL ones it may leave NULL */
	TupleTableSlot *slots[BH_LEDGER_CHUNK];
	int			nslots;			/* slots created */
	int			nbuffered;		/* rows waiting in slots[0..nbuffered) */
	MemoryContext rowcxt;		/* the buffered rows' datums */
};

/* Is attribute i of desc the column name? */
static bool
bh_att_is(TupleDesc desc, int i, const char *name)
{
	Form_pg_attribute att = TupleDescAttr(desc, i);

	return !att->attisdropped && strcmp(NameStr(att->attname), name) == 0;
}

/*
 * Find the columns of the ledger (of descriptor desc) (attno[c]: 0-based,
 * per BhLedgerCol) and check that each has the type the install script
 * declares: the writer stores datums of that type, and the sealer,
 * verification, the chain head and the export read them as such.  A column
 * a superuser changed (ALTER COLUMN ... TYPE) stops the sealer with an
 * ERROR naming it, its events left queued, until the type is set back, and
 * the readers refuse with the same ERROR.  Errors of the ledger's
 * definition (42P16) are not data errors (sealer.c): no event is blamed
 * for them, and seal() reports them.
 *
 * A reader calls this once per scan, when it opens the table (locked), and
 * reads each row at these positions: another statement of its transaction
 * may alter the table between two scans.
 */
void
bh_ledger_find_columns(TupleDesc desc, int *attno)
{
	int			c;
	int			i;

	for (c = 0; c < BH_NUM_COLS; c++)
	{
		Form_pg_attribute att;

		attno[c] = -1;
		/* where the install script puts it (one comparison), else anywhere */
		if (c < desc->natts && bh_att_is(desc, c, bh_col_names[c]))
			attno[c] = c;
		else
			for (i = 0; i < desc->natts && attno[c] < 0; i++)
				if (bh_att_is(desc, i, bh_col_names[c]))
					attno[c] = i;
		if (attno[c] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
					 errmsg("bh_audit.events has no column \"%s\"", bh_col_names[c])));
		att = TupleDescAttr(desc, attno[c]);
		if (att->atttypid != bh_col_types[c] || att->atttypmod != -1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
					 errmsg("column \"%s\" of bh_audit.events has type %s, not %s",
							bh_col_names[c],
							format_type_with_typemod(att->atttypid, att->atttypmod),
							format_type_be(bh_col_types[c])),
					 errdetail("The sealer does not seal, and verification and the export refuse, until the column has the type the extension declares; the events wait.")));
	}
}

/*
 * The columns of the ledger (relid) as bh_ledger_columns() last found and
 * checked them, in the transaction that did (lxid): until its end.
 */
static Oid	bh_columns_relid = InvalidOid;
static LocalTransactionId bh_columns_lxid = InvalidLocalTransactionId;
static int	bh_columns_attno[BH_NUM_COLS];

/*
 * For the sealer: bh_ledger_find_columns() of the ledger (relid), once per
 * transaction (a batch reads the head, then writes): the sealer holds a
 * lock on the ledger, kept to the transaction's end, so no ALTER TABLE
 * changes the columns before then; the next transaction checks them again.
 */
static void
bh_ledger_columns(Oid relid, TupleDesc desc, int *attno)
{
	if (relid == bh_columns_relid && MyProc->lxid == bh_columns_lxid)
	{
		memcpy(attno, bh_columns_attno, sizeof(bh_columns_attno));
		return;
	}
	bh_columns_relid = InvalidOid;
	bh_ledger_find_columns(desc, attno);
	memcpy(bh_columns_attno, attno, sizeof(bh_columns_attno));
	bh_columns_relid = relid;
	bh_columns_lxid = MyProc->lxid;
}

/*
 * Check the columns of bh_audit.events (relid, of descriptor desc), locked
 * by the sealer, as bh_ledger_columns does.
 */
void
bh_ledger_check(Oid relid, TupleDesc desc)
{
	int			attno[BH_NUM_COLS];

	bh_ledger_columns(relid, desc, attno);
}

/*
 * Open the primary key index of rel (bh_audit.events or bh_audit.queue,
 * locked by the caller), after checking that it is what the extension's
 * ordered reads take it for: a btree on its one column "column", a bigint.
 * The sealer's head and queue reads and verification, the chain head and
 * the export scan it with bigint keys and read that column as the order: a
 * key a superuser changed (ALTER COLUMN seq TYPE numeric, a key on another
 * column) would have the btree compare a bigint with another type's
 * function, or give another order.  Refused with 42P16, naming what is
 * wrong, until the key is set back.  The index is opened with
 * AccessShareLock.
 */
Relation
bh_key_index_open(Relation rel, const char *column)
{
	Oid			indexoid = RelationGetPrimaryKeyIndex(rel);
	const char *name = RelationGetRelationName(rel);
	Relation	index;
	AttrNumber	keyatt;
	Form_pg_attribute att;

	if (!OidIsValid(indexoid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("bh_audit.%s has no primary key", name),
				 errdetail("bh_audit reads the table in the order of its primary key on \"%s\", a bigint: the sealer does not seal, and verification and the export refuse, until it is set back.",
						   column)));
	index = index_open(indexoid, AccessShareLock);
	keyatt = index->rd_index->indkey.values[0];
	if (index->rd_rel->relam != BTREE_AM_OID ||
		IndexRelationGetNumberOfKeyAttributes(index) != 1 || keyatt <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("the primary key of bh_audit.%s is not a btree index on one column",
						name),
				 errdetail("bh_audit reads the table in the order of its primary key on \"%s\", a bigint: the sealer does not seal, and verification and the export refuse, until it is set back.",
						   column)));
	att = TupleDescAttr(RelationGetDescr(rel), keyatt - 1);
	if (strcmp(NameStr(att->attname), column) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("the primary key of bh_audit.%s is on column \"%s\", not \"%s\"",
						name, NameStr(att->attname), column),
				 errdetail("bh_audit reads the table in the order of its primary key on \"%s\", a bigint: the sealer does not seal, and verification and the export refuse, until it is set back.",
						   column)));
	if (att->atttypid != INT8OID || index->rd_opcintype[0] != INT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("column \"%s\" of bh_audit.%s has type %s, not bigint",
						column, name, format_type_be(att->atttypid)),
				 errdetail("The sealer does not seal, and verification and the export refuse, until the column has the type the extension declares; the events wait.")));
	return index;
}

/* Is attribute i one of the columns the writer fills itself? */
static bool
bh_att_known(const BhLedgerWriter *w, int i)
{
	int			c;

	for (c = 0; c < BH_NUM_COLS; c++)
		if (w->attno[c] == i)
			return true;
	return false;
}

/*
 * Open the ledger for appending.  The caller holds the sealer's chain lock
 * (sealer.c); the writer keeps RowExclusiveLock until bh_ledger_close().
 *
 * A column a superuser added gets what an INSERT would give it: its
 * default, or its generated expression (computed after the defaults, from
 * the row), each evaluated per row; a column declared NOT NULL is checked
 * (bh_ledger_extra_columns).  CHECK constraints are not evaluated.
 */
BhLedgerWriter *
bh_ledger_open(Oid relid)
{
	BhLedgerWriter *w = palloc0(sizeof(BhLedgerWriter));
	TupleDesc	desc;
	int			i;
	int			pass;

	w->rel = table_open(relid, RowExclusiveLock);
	desc = RelationGetDescr(w->rel);
	bh_ledger_columns(relid, desc, w->attno);

	w->estate = CreateExecutorState();
	w->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(w->rri, w->rel, 1, NULL, 0);
	ExecOpenIndices(w->rri, false);

	w->extra_attno = palloc(sizeof(int) * desc->natts);
	w->extra_expr = palloc(sizeof(ExprState *) * desc->natts);
	w->notnull_attno = palloc(sizeof(int) * desc->natts);
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);
			Expr	   *expr;

			if (att->attisdropped || bh_att_known(w, i) ||
				(att->attgenerated != '\0') != (pass == 1))
				continue;
			expr = (Expr *) build_column_default(w->rel, i + 1);
			w->extra_attno[w->nextra] = i;
			w->extra_expr[w->nextra++] = expr ? ExecPrepareExpr(expr, w->estate) : NULL;
		}
	/* (seq, event, hash_alg and event_hash always have a value) */
	for (i = 0; i < desc->natts; i++)
		if (TupleDescAttr(desc, i)->attnotnull &&
			i != w->attno[BH_COL_SEQ] && i != w->attno[BH_COL_EVENT] &&
			i != w->attno[BH_COL_HASH_ALG] && i != w->attno[BH_COL_HASH])
			w->notnull_attno[w->nnotnull++] = i;

	w->cid = GetCurrentCommandId(true);
	w->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "bh_audit ledger rows",
									  ALLOCSET_DEFAULT_SIZES);
	return w;
}

/*
 * Fill the columns a superuser added to the row in slot, whose other
 * columns are filled, and check the NOT NULL columns.  An error of an
 * expression stops the sealer as a changed column does (not a data error,
 * which would discard the event in the end): the events wait until the
 * column is repaired.  Not inlined: its PG_TRY would make the caller's
 * variables volatile.
 */
static pg_noinline void
bh_ledger_extra_columns(BhLedgerWriter *w, TupleTableSlot *slot)
{
	ExprContext *econtext = GetPerTupleExprContext(w->estate);
	TupleDesc	desc = slot->tts_tupleDescriptor;
	volatile int i = 0;
	MemoryContext oldcxt;

	econtext->ecxt_scantuple = slot;
	/* the values live in the rows' context, until the rows are written */
	oldcxt = MemoryContextSwitchTo(w->rowcxt);
	PG_TRY();
	{
		for (i = 0; i < w->nextra; i++)
		{
			int			a = w->extra_attno[i];

			if (w->extra_expr[i] == NULL)
				continue;
			slot->tts_values[a] = ExecEvalExpr(w->extra_expr[i], econtext,
											   &slot->tts_isnull[a]);
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(w->rowcxt);
		edata = CopyErrorData();
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("the sealer cannot fill column \"%s\" of bh_audit.events: %s",
						NameStr(TupleDescAttr(desc, w->extra_attno[i])->attname),
						edata->message),
				 errdetail("The column is not one the extension declares; the events wait until it is dropped or changed.")));
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);

	for (i = 0; i < w->nnotnull; i++)
		if (slot->tts_isnull[w->notnull_attno[i]])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
					 errmsg("the sealer cannot fill column \"%s\" of bh_audit.events: it is NOT NULL and the event gives it no value",
							NameStr(TupleDescAttr(desc, w->notnull_attno[i])->attname)),
					 errdetail("The events wait until the column is dropped or changed (ALTER COLUMN ... DROP NOT NULL).")));
}

/*
 * Look up keys[0..nkeys) in the object container in one pass over its
 * entries, where a lookup per key (getKeyJsonValueFromContainer) would
 * search the object again each time.  The keys are given in jsonb's order
 * (shorter first, then bytewise), the order the object keeps its own in, so
 * that the two lists are merged.  found[k] says whether keys[k] is there;
 * vals[k] is then its value, a string or a container read in place, any
 * other scalar as getKeyJsonValueFromContainer gives it.
 */
typedef struct BhKey
{
	const char *name;
	int			len;
} BhKey;

#define BH_KEY(s) {s, sizeof(s) - 1}

static void
bh_object_lookup(JsonbContainer *container, const BhKey *keys, int nkeys,
				 JsonbValue *vals, bool *found)
{
	int			n;
	const char *base;
	uint32		localoff[2 * 16 + 1];
	uint32	   *off;
	int			i;
	int			k = 0;

	memset(found, false, sizeof(bool) * nkeys);
	if (container == NULL || !JsonContainerIsObject(container))
		return;
	n = JsonContainerSize(container);
	base = (const char *) &container->children[2 * n];
	off = (2 * n < lengthof(localoff)) ? localoff :
		(uint32 *) palloc((2 * n + 1) * sizeof(uint32));
	/* one pass, where getJsonbOffset() would look back for each entry */
	off[0] = 0;
	for (i = 0; i < 2 * n; i++)
	{
		off[i + 1] = off[i];
		JBE_ADVANCE_OFFSET(off[i + 1], container->children[i]);
	}

	for (i = 0; i < n && k < nkeys; i++)
	{
		const char *key = base + off[i];
		int			keylen = (int) (off[i + 1] - off[i]);
		int			wantlen = keys[k].len;
		int			cmp;

		Assert(k == 0 || keys[k - 1].len < wantlen ||
			   (keys[k - 1].len == wantlen && strcmp(keys[k - 1].name, keys[k].name) < 0));
		cmp = (keylen != wantlen) ? (keylen < wantlen ? -1 : 1) :
			memcmp(key, keys[k].name, keylen);
		if (cmp < 0)
			continue;			/* a key not asked for */
		if (cmp == 0)
		{
			JEntry		je = container->children[n + i];
			uint32		voff = off[n + i];

			found[k] = true;
			if (JBE_ISSTRING(je))
			{
				vals[k].type = jbvString;
				vals[k].val.string.val = (char *) base + voff;
				vals[k].val.string.len = (int) (off[n + i + 1] - voff);
			}
			else if (JBE_ISCONTAINER(je))
			{
				vals[k].type = jbvBinary;
				vals[k].val.binary.data = (JsonbContainer *) (base + INTALIGN(voff));
				vals[k].val.binary.len = (int) (off[n + i + 1] - INTALIGN(voff));
			}
			else if (getKeyJsonValueFromContainer(container, key, keylen, &vals[k]) == NULL)
				elog(ERROR, "could not read jsonb key \"%.*s\"", keylen, key);
		}
		else
			i--;				/* the same key against the next asked for */
		k++;
	}
	if (off != localoff)
		pfree(off);
}

/*
 * The value of "container ->> key" as the jsonb operator gives it, for a
 * value v that bh_object_lookup() found, or NULL (isnull) when the key is
 * missing or holds a JSON null.
 */
static Datum
bh_value_text(const JsonbValue *v, bool found, bool *isnull)
{
	*isnull = true;
	if (!found)
		return (Datum) 0;
	switch (v->type)
	{
		case jbvNull:
			return (Datum) 0;
		case jbvString:
			*isnull = false;
			return PointerGetDatum(cstring_to_text_with_len(v->val.string.val,
															v->val.string.len));
		case jbvNumeric:
			*isnull = false;
			return DirectFunctionCall1(textin,
									   DirectFunctionCall1(numeric_out,
														   NumericGetDatum(v->val.numeric)));
		case jbvBool:
			*isnull = false;
			return PointerGetDatum(cstring_to_text(v->val.boolean ? "true" : "false"));
		default:
			/* object or array: its jsonb text */
			*isnull = false;
			return PointerGetDatum(cstring_to_text(JsonbToCString(NULL, v->val.binary.data,
																  v->val.binary.len)));
	}
}

/*
 * A hex digit's value plus one, 0 for any other byte: looked up, where
 * branches would mispredict on random ids' mix of digits and letters (most
 * of the cost of a row's columns, for the sealer and for verification).
 */
static const uint8 bh_hex_plus1[256] = {
	['0'] = 1,['1'] = 2,['2'] = 3,['3'] = 4,['4'] = 5,
	['5'] = 6,['6'] = 7,['7'] = 8,['8'] = 9,['9'] = 10,
	['a'] = 11,['b'] = 12,['c'] = 13,['d'] = 14,['e'] = 15,['f'] = 16,
	['A'] = 11,['B'] = 12,['C'] = 13,['D'] = 14,['E'] = 15,['F'] = 16
};

/* A hex digit's value, or -1. */
static inline int
bh_hexval(char c)
{
	return (int) bh_hex_plus1[(unsigned char) c] - 1;
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

/* The object a lookup found, or NULL when it is missing or no object. */
static JsonbContainer *
bh_value_object(const JsonbValue *v, bool found)
{
	if (!found || v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		return NULL;
	return v->val.binary.data;
}

/*
 * The keys the access-review columns read, per object, in jsonb's key
 * order (bh_object_lookup).
 */
enum
{
	BH_ROOT_ACTOR, BH_ROOT_ACTION, BH_ROOT_OUTCOME, BH_ROOT_EVENT_ID,
	BH_ROOT_RESOURCE, BH_ROOT_TIMESTAMP, BH_ROOT_NKEYS
};
static const BhKey bh_root_keys[BH_ROOT_NKEYS] = {
	BH_KEY("actor"), BH_KEY("action"), BH_KEY("outcome"), BH_KEY("event_id"),
	BH_KEY("resource"), BH_KEY("timestamp")
};
enum
{
	BH_RES_ID, BH_RES_TYPE, BH_RES_PATIENT_ID, BH_RES_NKEYS
};
static const BhKey bh_resource_keys[BH_RES_NKEYS] = {
	BH_KEY("id"), BH_KEY("type"), BH_KEY("patient_id")
};
enum
{
	BH_OUT_STATUS, BH_OUT_ERROR_TYPE, BH_OUT_NKEYS
};
static const BhKey bh_outcome_keys[BH_OUT_NKEYS] = {
	BH_KEY("status"), BH_KEY("error_type")
};
static const BhKey bh_actor_keys[1] = {BH_KEY("subject_id")};
static const BhKey bh_action_keys[1] = {BH_KEY("type")};

/*
 * Fill the access-review columns of a ledger row from its event, as the
 * columns' generated expressions in the install script compute them:
 * values[attno[c]] and nulls[attno[c]] for each of them (c a BhLedgerCol).
 */
static void
bh_ledger_derived_columns(const int *attno, Jsonb *event, Datum *values, bool *nulls)
{
	JsonbValue	root[BH_ROOT_NKEYS];
	bool		rootfound[BH_ROOT_NKEYS];
	JsonbValue	v[BH_RES_NKEYS];
	bool		found[BH_RES_NKEYS];
	Datum		d;
	bool		isnull;

	bh_object_lookup(&event->root, bh_root_keys, BH_ROOT_NKEYS, root, rootfound);

	/* (event ->> 'event_id')::uuid */
	d = bh_value_text(&root[BH_ROOT_EVENT_ID], rootfound[BH_ROOT_EVENT_ID], &isnull);
	nulls[attno[BH_COL_EVENT_ID]] = isnull;
	if (!isnull)
		values[attno[BH_COL_EVENT_ID]] = bh_text_to_uuid(DatumGetTextPP(d));

	/* bh_audit.event_timestamp(event ->> 'timestamp'), a strict function */
	d = bh_value_text(&root[BH_ROOT_TIMESTAMP], rootfound[BH_ROOT_TIMESTAMP], &isnull);
	nulls[attno[BH_COL_TS]] = isnull;
	if (!isnull)
	{
		text	   *t = DatumGetTextPP(d);

		values[attno[BH_COL_TS]] =
			TimestampTzGetDatum(bh_event_timestamp_parse(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
	}

	/* event -> 'object' ->> 'key', for each key of each object */
#define BH_SUBFIELDS(rootkey, keys) \
	bh_object_lookup(bh_value_object(&root[rootkey], rootfound[rootkey]), \
					 keys, lengthof(keys), v, found)
#define BH_SUBFIELD(col, k) \
	values[attno[col]] = bh_value_text(&v[k], found[k], &nulls[attno[col]])

	BH_SUBFIELDS(BH_ROOT_ACTOR, bh_actor_keys);
	BH_SUBFIELD(BH_COL_ACTOR_ID, 0);
	BH_SUBFIELDS(BH_ROOT_RESOURCE, bh_resource_keys);
	BH_SUBFIELD(BH_COL_PATIENT_ID, BH_RES_PATIENT_ID);
	BH_SUBFIELD(BH_COL_RESOURCE_TYPE, BH_RES_TYPE);
	BH_SUBFIELD(BH_COL_RESOURCE_ID, BH_RES_ID);
	BH_SUBFIELDS(BH_ROOT_ACTION, bh_action_keys);
	BH_SUBFIELD(BH_COL_ACTION, 0);
	BH_SUBFIELDS(BH_ROOT_OUTCOME, bh_outcome_keys);
	BH_SUBFIELD(BH_COL_OUTCOME, BH_OUT_STATUS);
	BH_SUBFIELD(BH_COL_ERROR_TYPE, BH_OUT_ERROR_TYPE);
#undef BH_SUBFIELD
#undef BH_SUBFIELDS
}

/*
 * bh_ledger_derived_columns(), false if the event's fields do not parse
 * (its event_id as a uuid, its timestamp): a data exception, caught, as an
 * event of a queue row written by other means than the extension may give.
 * Not inlined: its PG_TRY would make the caller's variables volatile.
 */
static pg_noinline bool
bh_ledger_derive(const int *attno, Jsonb *event, Datum *values, bool *nulls)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool parsed = true;

	PG_TRY();
	{
		bh_ledger_derived_columns(attno, event, values, nulls);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		if (ERRCODE_TO_CATEGORY(geterrcode()) != ERRCODE_DATA_EXCEPTION)
			PG_RE_THROW();
		FlushErrorState();
		parsed = false;
	}
	PG_END_TRY();
	return parsed;
}

/*
 * For verification: the access-review columns of a row of the ledger (slot
 * holds the row, all its attributes fetched, event its event, not NULL;
 * attno: the columns bh_ledger_find_columns() found when the scan opened)
 * that do not hold what the event gives them, as the sealer computes them
 * (bh_ledger_derived_columns(), the install script's expressions): their
 * names in columns[] (room for BH_LEDGER_DERIVED), and their number, or -1
 * when the event's fields do not parse (the sealer seals no such event).
 * Compared as stored (bytes: a collation does not make two values equal).
 * Allocates in the current context.
 */
int
bh_ledger_row_mismatches(const int *attno, TupleTableSlot *slot, Jsonb *event,
						 const char **columns)
{
	Datum		values[BH_NUM_COLS];
	bool		nulls[BH_NUM_COLS];
	int			n = 0;
	int			c;

	StaticAssertStmt(BH_NUM_COLS - BH_COL_FIRST_DERIVED == BH_LEDGER_DERIVED,
					 "BH_LEDGER_DERIVED is the number of access-review columns");
	if (!bh_ledger_derive(bh_col_self, event, values, nulls))
		return -1;
	for (c = BH_COL_FIRST_DERIVED; c < BH_NUM_COLS; c++)
	{
		Form_pg_attribute att = TupleDescAttr(slot->tts_tupleDescriptor, attno[c]);
		bool		stored_null = slot->tts_isnull[attno[c]];

		if (stored_null != nulls[c] ||
			(!stored_null && !datum_image_eq(values[c], slot->tts_values[attno[c]],
											 att->attbyval, att->attlen)))
			columns[n++] = bh_col_names[c];
	}
	return n;
}

/* Is name one of the columns from..to-1 (BhLedgerCol)? */
static bool
bh_ledger_name_in(const char *name, int from, int to)
{
	int			c;

	for (c = from; c < to; c++)
		if (strcmp(name, bh_col_names[c]) == 0)
			return true;
	return false;
}

/*
 * Is name one of the access-review columns the install script declares
 * GENERATED from the event?
 */
bool
bh_ledger_derived_name(const char *name)
{
	return bh_ledger_name_in(name, BH_COL_FIRST_DERIVED, BH_NUM_COLS);
}

/*
 * Is name one of the columns of the chain itself (seq, event, hash_alg,
 * prev_event_hash, event_hash): what the sealer wrote and hashed?
 */
bool
bh_ledger_chain_name(const char *name)
{
	return bh_ledger_name_in(name, 0, BH_COL_FIRST_DERIVED);
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
	bool		storable;

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
	 * timestamp): an event whose fields do not parse (a queue row written by
	 * other means than the extension) cannot stop the sealer; nothing is
	 * buffered.
	 */
	storable = bh_ledger_derive(w->attno, DatumGetJsonbP(event), values, nulls);
	MemoryContextSwitchTo(oldcxt);

	if (!storable)
	{
		ExecClearTuple(slot);
		return false;
	}
	ExecStoreVirtualTuple(slot);
	if (w->nextra > 0 || w->nnotnull > 0)
		bh_ledger_extra_columns(w, slot);
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
