/*-------------------------------------------------------------------------
 *
 * capture_read.h
 *		What read capture's hooks (capture_read.c) and its plan-node
 *		wrappers (capture_read_wrap.c and the files capture_read_wrap.h
 *		names) share: the capture state of an executing statement and the
 *		read sets of the patients it read.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_CAPTURE_READ_H
#define BH_AUDIT_CAPTURE_READ_H

#include "executor/execdesc.h"
#include "lib/hyperloglog.h"
#include "utils/hsearch.h"
#include "utils/portal.h"

#include "capture.h"
#include "event.h"

/*
 * Is the plan state a scan of a table's rows (sequential, index, index-only,
 * bitmap heap, TID and sample scans), the nodes read capture looks at?
 */
static inline bool
bh_is_table_scan(const PlanState *ps)
{
	switch (nodeTag(ps))
	{
		case T_SeqScanState:
		case T_IndexScanState:
		case T_IndexOnlyScanState:
		case T_BitmapHeapScanState:
		case T_TidScanState:
		case T_TidRangeScanState:
		case T_SampleScanState:
			return true;
		default:
			return false;
	}
}

/* Patients a read set keeps in a plain array before it needs a hash table. */
#define BH_FEW_PATIENTS 4

/*
 * A read set knows exactly the patients it names
 * (bh_audit.max_patients_per_statement) and this many more; the further
 * ones beyond are estimated (hyperLogLog), so that a statement's memory
 * does not grow with the patients it reads (a cursor keeps its set until
 * it closes).
 */
#define BH_EXACT_FURTHER_PATIENTS 10000
#define BH_BEYOND_HLL_BITS 14	/* 16 kB; standard error about 0.8% */

/* The patients (or rows) one statement read from one tagged table. */
typedef struct BhReadSet
{
	Oid			tagged_relid;
	char	   *resource_type;
	char	   *classification;
	char	   *table_name;
	bool		part2;
	bool		has_patient;
	int			nfew;			/* patients in few[] while patients is NULL */
	char	   *few[BH_FEW_PATIENTS];
	HTAB	   *patients;		/* BhPatientEntry by id, once more than few */
	hyperLogLogState *beyond;	/* distinct patients not in patients, once it
								 * is full (see bh_read_set_add), or NULL */
	int64		rows;
	int64		null_rows;		/* rows whose patient column is NULL or empty */
	int64		moved_rows;		/* rows the transaction updated, their earlier
								 * patients not known (moved_rows.c) */
	int64		held;			/* its READ events counted in this backend's
								 * slot of held reads (bh_read_set_hold) */
	bool		pushed;			/* its READ events all handed to the ring
								 * before its statement ended (its run failed:
								 * bh_statement_pushed): it gives, and holds,
								 * none any more */
	MemoryContext cxt;			/* the statement's */
} BhReadSet;

/*
 * A patient of a read set's hash table: the key is the pointer to the id,
 * hashed and compared as a string, so that an entry costs the id's length
 * rather than the longest id's.
 */
typedef struct BhPatientEntry
{
	char	   *id;
} BhPatientEntry;

/* The capture state of one executing statement. */
typedef struct BhStatement
{
	QueryDesc  *qd;				/* NULL once its executor state is gone */
	MemoryContext cxt;
	MemoryContextCallback *gone;	/* in the executor state (see
									 * bh_statement_gone), or NULL */
	SubTransactionId subid;
	bool		export;			/* run inside a COPY ... TO (capture_read.c) */
	List	   *sets;			/* BhReadSet * */
	List	   *wraps;			/* BhScanWrap *, BhLockWrap *, BhReturningWrap
								 * *, ON CONFLICT's wrappers (as BhWrap *),
								 * until its executor state goes
								 * (bh_wraps_forget) */
	List	   *tagged;			/* Oid: tagged relations of the range table */
	BhTableFailure *failures;	/* its FAILURE events but for the error, one
								 * per tagged table it names (partitions
								 * counting for their table), the first table
								 * it accesses first: nfailures, up to
								 * BH_FAILURE_TABLES */
	int			nfailures;
	BhTableFailure one;			/* failures when it names one */
	const char *role;			/* the role whose privileges it runs with, as
								 * it started: its READ events name it, also
								 * when flushed after an abort restored the
								 * transaction's role (BhEvent.db_role) */
	int64		emitted;		/* its READ events handed to the ring so far
								 * (see bh_emit_reads) */
	uint64		serial;			/* statements started in the session before,
								 * and it: the list's order */
	uint64		run_from;		/* the serial of the last one started before
								 * its current run (or finish) of the
								 * executor: those after it run within */
	bool		hashed;			/* in the table by QueryDesc (capture_read.c) */
	BhContextMark fetched_by;	/* the frame that took its rows last as a
								 * cursor's into SPI, the executor having
								 * returned (frame NULL: none, or running) */
	const void *fetched_at;		/* that PL/pgSQL frame's statement then
								 * (capture_failure_spi.c bh_rows_fetched) */
	Portal		fetched_portal; /* the portal it fetched them from, or NULL */
	int			fetched_nest;	/* the statement depth it fetched them at */
	BhContextMark opened_by;	/* the PL/pgSQL frame whose FOR loop over
								 * EXECUTE opened it as its cursor, or none */
	const void *opened_at;		/* that loop's statement
								 * (capture_failure_spi.c bh_rows_opened) */
	struct BhStatement *next;
	struct BhStatement *prev;
} BhStatement;

extern BhStatement *bh_statements;	/* active, innermost first */

/* capture_failure_spi.c */
extern void bh_rows_fetched(BhStatement *st);
extern void bh_rows_stored(BhStatement *st, const BhContextMark *fetched_by);
extern void bh_rows_opened(BhStatement *st);

/* capture_read.c */
extern int	bh_max_patients;	/* bh_audit.max_patients_per_statement */
extern void bh_read_set_hold(BhReadSet *set);
extern HTAB *bh_pointer_table(const char *name, Size entrysize);

/* capture_read_wrap.c */
extern void bh_wrap_plan(BhStatement *st);
extern void bh_wraps_forget(BhStatement *st);

/* capture_read_failure.c */
extern void bh_note_rows_at_failure(BhStatement *st);

/* capture_read_set.c */
extern int64 bh_read_set_further(const BhReadSet *set, int64 named, bool *estimated);

#endif							/* BH_AUDIT_CAPTURE_READ_H */
