/*-------------------------------------------------------------------------
 *
 * trigger_guard.h
 *		What the configuration guard (config_guard.c), and its locking of
 *		the relations a statement changes (guard_lock.c), call of its checks
 *		of trigger statements (trigger_guard.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_TRIGGER_GUARD_H
#define BH_AUDIT_TRIGGER_GUARD_H

#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"

/* The table of DROP TRIGGER's object names (guard_lock.c too) */
extern RangeVar *bh_trigger_table(List *names);

/* ALTER TABLE ... ENABLE / DISABLE TRIGGER of relid (recurse: not ONLY) */
extern void bh_check_trigger_cmd(Oid relid, bool recurse, AlterTableCmd *cmd);

/* DETACH PARTITION of partition from relid, a partitioned table not tagged */
extern void bh_check_detach_clones(Oid relid, RangeVar *partition);

/* after ALTER TABLE: ENABLE TRIGGER ALL / USER keeps ALWAYS triggers ALWAYS */
extern void bh_keep_enabled_always(AlterTableStmt *stmt);

/* CREATE, DROP, ALTER TRIGGER ... RENAME / DEPENDS ON EXTENSION */
extern void bh_check_trigger_stmt(Node *parsetree);

#endif							/* BH_AUDIT_TRIGGER_GUARD_H */
