/*-------------------------------------------------------------------------
 *
 * ledger_write.h
 *		The sealer's direct writer of bh_audit.events (ledger_write.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_LEDGER_WRITE_H
#define BH_LEDGER_WRITE_H

#include "access/tupdesc.h"
#include "executor/tuptable.h"
#include "utils/jsonb.h"
#include "utils/relcache.h"

/*
 * The columns of bh_audit.events the install script declares, in its
 * order; bh_ledger_find_columns() gives where each is (attno[c], 0-based,
 * for each BhLedgerCol c).
 */
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

/* The access-review columns of bh_audit.events (event_id ... error_type). */
#define BH_LEDGER_DERIVED 9

typedef struct BhLedgerWriter BhLedgerWriter;

extern void bh_ledger_find_columns(TupleDesc desc, int *attno);
extern void bh_ledger_check(Oid relid, TupleDesc desc);
extern Relation bh_key_index_open(Relation rel, const char *column);
extern int	bh_ledger_row_mismatches(const int *attno, TupleTableSlot *slot,
									 Jsonb *event, const char **columns);
extern bool bh_ledger_derived_name(const char *name);
extern bool bh_ledger_chain_name(const char *name);
extern BhLedgerWriter *bh_ledger_open(Oid relid);
extern bool bh_ledger_append(BhLedgerWriter *w, int64 seq, Datum event,
							 const char *alg_name, const char *prev_hex,
							 const char *hash_hex);
extern void bh_ledger_close(BhLedgerWriter *w);

#endif							/* BH_LEDGER_WRITE_H */
