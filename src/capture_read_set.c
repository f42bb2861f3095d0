/*-------------------------------------------------------------------------
 *
 * capture_read_set.c
 *		A statement's read sets: the patients (or rows) it read from each
 *		tagged table, kept exactly up to a bound and estimated beyond, and
 *		the patients that a row the transaction moved had before
 *		(moved_rows.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/hashfn.h"

#include "capture_read_wrap.h"

/* A read set's patients by id (BhPatientEntry: the id's string is the key). */
static uint32
bh_patient_hash(const void *key, Size keysize)
{
	const char *id = *(char *const *) key;

	return hash_bytes((const unsigned char *) id, (int) strlen(id));
}

static int
bh_patient_match(const void *key1, const void *key2, Size keysize)
{
	return strcmp(*(char *const *) key1, *(char *const *) key2);
}

/*
 * A patient into the hash table.  Once it holds the named patients and
 * BH_EXACT_FURTHER_PATIENTS more, it takes no new ones: a patient not in
 * it goes into the estimate of those beyond (set->beyond), which takes a
 * fixed 16 kB.  The patients a statement names are among the first ones
 * of the table, as before; the count of the further ones is exact up to
 * the bound, then estimated (bh_read_set_further).
 */
static void
bh_patient_enter(BhReadSet *set, const char *id)
{
	bool		found;
	BhPatientEntry *entry;

	if (set->beyond == NULL &&
		hash_get_num_entries(set->patients) <
		(long) bh_max_patients + BH_EXACT_FURTHER_PATIENTS)
	{
		entry = hash_search(set->patients, &id, HASH_ENTER, &found);
		if (!found)
		{
			entry->id = MemoryContextStrdup(set->cxt, id);
			bh_read_set_hold(set);
		}
		return;
	}
	if (hash_search(set->patients, &id, HASH_FIND, NULL) != NULL)
		return;
	if (set->beyond == NULL)
	{
		set->beyond = MemoryContextAlloc(set->cxt, sizeof(hyperLogLogState));
		{
			MemoryContext old = MemoryContextSwitchTo(set->cxt);

			initHyperLogLog(set->beyond, BH_BEYOND_HLL_BITS);
			MemoryContextSwitchTo(old);
		}
		bh_read_set_hold(set);
	}
	addHyperLogLog(set->beyond,
				   hash_bytes((const unsigned char *) id, (int) strlen(id)));
}

/*
 * The further patients of a read set that named named ones: exact, or,
 * beyond the bound, the exact ones plus the estimate of those beyond
 * (rounded, at least one).  *estimated tells which.
 */
int64
bh_read_set_further(const BhReadSet *set, int64 named, bool *estimated)
{
	int64		known;

	*estimated = false;
	if (!set->has_patient)
		return 0;
	known = set->patients ? hash_get_num_entries(set->patients) : set->nfew;
	if (set->beyond != NULL)
	{
		double		beyond = estimateHyperLogLog(set->beyond);

		*estimated = true;
		known += Max((int64) (beyond + 0.5), 1);
	}
	return known - named;
}

/*
 * Note a patient in a read set.  Most statements read one patient or a
 * handful: those are kept in an array, and a hash table is made only for
 * more.  An id longer than the schema allows is cut as the event builder
 * cuts it (whole characters, then "..."), so that reads and writes of one
 * patient carry the same id.
 */
static void
bh_read_set_add(BhReadSet *set, const char *id)
{
	int			i;

	if (strlen(id) > BH_PATIENT_ID_CHARS)
		id = bh_truncate(id, BH_PATIENT_ID_CHARS);
	if (set->patients == NULL)
	{
		HASHCTL		ctl;

		for (i = 0; i < set->nfew; i++)
			if (strcmp(set->few[i], id) == 0)
				return;
		if (set->nfew < BH_FEW_PATIENTS)
		{
			set->few[set->nfew++] = MemoryContextStrdup(set->cxt, id);
			bh_read_set_hold(set);
			return;
		}
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(char *);
		ctl.entrysize = sizeof(BhPatientEntry);
		ctl.hash = bh_patient_hash;
		ctl.match = bh_patient_match;
		ctl.hcxt = set->cxt;
		set->patients = hash_create("bh_audit patients", 64, &ctl,
									HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
		for (i = 0; i < set->nfew; i++)
			bh_patient_enter(set, set->few[i]);
	}
	bh_patient_enter(set, id);
}

/*
 * Note the patient whose column value d is (not NULL), by out, in set.  An
 * empty id (an empty string, a character(n) of blanks) names nobody, as
 * events leave it out: returns false, noting nothing (the caller counts the
 * row as one without a patient where it counts a NULL one).
 */
bool
bh_read_set_add_value(BhReadSet *set, const BhIdOutput *out, Datum d)
{
	char	   *id = bh_id_text(out, d);
	bool		named = (id[0] != '\0');

	if (named)
		bh_read_set_add(set, id);
	pfree(id);
	return named;
}

/*
 * Note the patient of a row read, its column attnum of slot, by out, in
 * set; a row whose patient is NULL or empty is counted as one without a
 * patient.
 */
void
bh_read_set_add_row(BhReadSet *set, const BhIdOutput *out, TupleTableSlot *slot,
					AttrNumber attnum)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, attnum, &isnull);

	if (isnull || !bh_read_set_add_value(set, out, d))
		bh_read_set_null_row(set);
}

/*
 * A row read of table relid (a partition) while this transaction has rows
 * noted as moved (bh_moved_active; moved_rows.c): if the transaction made
 * the version read (its xmin) by an UPDATE that changed its patient, the
 * patients it had before are read too.  slot holds the row (a heap
 * tuple's, its xmin known); otherwise tid names it, and whether the
 * transaction made it is not known: a noted version is (a TID the note
 * holds is one of its versions').  A version the transaction made in a
 * table whose moves it no longer follows counts as such (moved_rows).
 */
void
bh_moved_row_read(BhReadSet *set, Oid relid, TupleTableSlot *slot, ItemPointer tid)
{
	const BhMovedRow *m;
	bool		own = false;
	int			i;

	if (slot != NULL && (TTS_IS_BUFFERTUPLE(slot) || TTS_IS_HEAPTUPLE(slot)))
	{
		HeapTuple	tuple = ((HeapTupleTableSlot *) slot)->tuple;

		if (tuple == NULL || tuple->t_data == NULL ||
			!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tuple->t_data)))
			return;
		own = true;
		tid = &tuple->t_self;
	}
	if (tid == NULL || !ItemPointerIsValid(tid))
		return;
	if ((m = bh_moved_find(relid, tid)) != NULL)
	{
		for (i = 0; i < m->npatients; i++)
			bh_read_set_add(set, m->patients[i]);
	}
	else if (own && bh_moved_is_unfollowed(set->tagged_relid))
		bh_read_set_moved_row(set);
}

/* The read set of a tagged relation in this statement (made on first use). */
BhReadSet *
bh_read_set(BhStatement *st, const BhTag *tag)
{
	ListCell   *lc;
	BhReadSet  *set;
	MemoryContext old;

	foreach(lc, st->sets)
	{
		set = (BhReadSet *) lfirst(lc);
		if (set->tagged_relid == tag->tagged_relid)
			return set;
	}
	old = MemoryContextSwitchTo(st->cxt);
	set = palloc0(sizeof(BhReadSet));
	set->tagged_relid = tag->tagged_relid;
	set->resource_type = pstrdup(tag->resource_type);
	set->classification = pstrdup(tag->classification);
	set->table_name = pstrdup(tag->tagged_table_name);
	set->part2 = tag->part2;
	set->has_patient = (tag->patient_column != NULL);
	set->cxt = st->cxt;
	st->sets = lappend(st->sets, set);
	MemoryContextSwitchTo(old);
	return set;
}
