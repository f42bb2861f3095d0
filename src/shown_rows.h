/*-------------------------------------------------------------------------
 *
 * shown_rows.h
 *		Which expressions of a plan show a tagged table's rows to a function
 *		a user defined (shown_rows.c): what read capture's plan-node
 *		wrappers (capture_read_wrap.c) ask.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_SHOWN_ROWS_H
#define BH_AUDIT_SHOWN_ROWS_H

#include "nodes/execnodes.h"
#include "nodes/plannodes.h"

extern void bh_shown_rows_start(void);
extern void bh_shown_rows_end(void);
extern void bh_shown_rows_scan(PlannedStmt *stmt, ScanState *ss);
extern void bh_shown_rows_no_scan(void);

extern bool bh_expr_calls(Node *node, void *context);
extern bool bh_mt_shows_target(ModifyTableState *mt, Oid owner);
extern bool bh_conflict_expr_calls(Node *expr, ModifyTableState *mt, Oid owner);

#endif							/* BH_AUDIT_SHOWN_ROWS_H */
