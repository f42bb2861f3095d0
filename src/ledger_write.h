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
#include "utils/relcache.h"

typedef struct BhLedgerWriter BhLedgerWriter;

extern void bh_ledger_check(Oid relid, TupleDesc desc);
extern Relation bh_key_index_open(Relation rel, const char *column);
extern BhLedgerWriter *bh_ledger_open(Oid relid);
extern bool bh_ledger_append(BhLedgerWriter *w, int64 seq, Datum event,
							 const char *alg_name, const char *prev_hex,
							 const char *hash_hex);
extern void bh_ledger_close(BhLedgerWriter *w);

#endif							/* BH_LEDGER_WRITE_H */
