/*-------------------------------------------------------------------------
 *
 * statement_names.h
 *		Which tagged tables a statement's names stand for, when no query
 *		tree of it is at hand (statement_names.c): what failure capture
 *		(capture_failure.c) and read capture's hooks (capture_read.c) ask.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_STATEMENT_NAMES_H
#define BH_AUDIT_STATEMENT_NAMES_H

#include "nodes/nodes.h"
#include "nodes/pg_list.h"
#include "utils/plancache.h"

/* A client's statement with parameters, noted after its analysis. */
typedef struct BhParamStmt BhParamStmt;

extern void bh_param_stmt_note(const char *text, int n, const Oid *tables, const Oid *tagged,
							   const Oid *named, const char *const *actions);
extern void bh_param_stmt_refresh(const char *text);
extern const BhParamStmt *bh_param_stmt_find(const char *text);
extern bool bh_param_stmt_current(const BhParamStmt *entry);
extern bool bh_param_stmt_named_none(const BhParamStmt *entry);
extern int	bh_param_stmt_tables(const BhParamStmt *entry, const Oid **tables,
								 const Oid **tagged, const Oid **named,
								 const char *const **actions,
								 const char *const **relnames);

extern int	bh_name_place(const char *nspname, const char *schema);

extern bool bh_prepared_analysis_stands(CachedPlanSource *plansource);
extern List *bh_prepared_relids_now(CachedPlanSource *plansource, List **cmds);

#endif							/* BH_AUDIT_STATEMENT_NAMES_H */
