/*-------------------------------------------------------------------------
 *
 * capture_read.h
 *		What read capture's hooks (capture_read.c) and its plan-node
 *		wrappers (capture_read_wrap.c) share: the capture state of an
 *		executing statement and the read sets of the patients it read.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_CAPTURE_READ_H
#define BH_AUDIT_CAPTURE_READ_H

#include "executor/execdesc.h"
#include "utils/hsearch.h"

#include "event.h"

/* Patients a read set keeps in a plain array before it needs a hash table. */
#define BH_FEW_PATIENTS 4

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
	int64		rows;
	int64		null_rows;		/* rows whose patient column is NULL or empty */
	int64		moved_rows;		/* rows the transaction updated, their earlier
								 * patients not known (moved_rows.c) */
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
	bool		export;			/* COPY ... TO */
	List	   *sets;			/* BhReadSet * */
	List	   *wraps;			/* BhScanWrap *, BhLockWrap *, BhReturningWrap *,
								 * ON CONFLICT's wrappers (as BhWrap *), until
								 * its executor state goes (bh_wraps_forget) */
	List	   *tagged;			/* Oid: tagged relations of the range table */
	BhEvent		failure;		/* base of its FAILURE event (no catalog access on error) */
	int64		emitted;		/* its READ events handed to the ring so far
								 * (see bh_emit_reads) */
	struct BhStatement *next;
} BhStatement;

extern BhStatement *bh_statements;	/* active, innermost first */

/* capture_read_wrap.c */
extern void bh_wrap_plan(BhStatement *st);
extern void bh_note_rows_at_failure(BhStatement *st);
extern void bh_wraps_forget(BhStatement *st);

#endif							/* BH_AUDIT_CAPTURE_READ_H */
