/*-------------------------------------------------------------------------
 *
 * column_guard.h
 *		What the configuration guard (config_guard.c) and its checks of
 *		columns (column_guard.c) call of each other.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_COLUMN_GUARD_H
#define BH_AUDIT_COLUMN_GUARD_H

#include "access/attnum.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "utils/hsearch.h"

#include "bh_audit.h"
#include "tags.h"

/*
 * rel (captured under tagged table table, not a temporary one) refused if
 * it, or one of its columns, depends on an object of a temporary schema.
 * *seen: the objects the walks of one pass found reaching none (NULL at
 * first; bh_temp_walk_end() after the pass).
 */
extern void bh_check_temp_columns(Oid rel, const char *table, HTAB **seen);
extern void bh_temp_walk_end(HTAB *seen);

/*
 * The objects statement g altered or replaced, noted as it runs (the
 * object access hook) and checked after it: a tagged table that now
 * depends through one of them on an object of a temporary schema is
 * refused.
 */
extern void bh_note_altered(BhGuardUtility *g, Oid classId, Oid objectId);
extern void bh_check_replaced(List *altered);

/*
 * The columns whose values g's statement converts (drop false) or removes
 * (drop true), noted as it runs and recorded after it, one table-wide
 * UPDATE event per table.
 */
extern void bh_values_change_add(BhGuardUtility *g, Oid relid, const char *colname, bool drop);
extern void bh_values_changes_record(const char *statement, BhGuardUtility *g);

/* Before the statement: its changes of columns, checked, noted or recorded. */
extern void bh_check_column_changes(AlterTableStmt *stmt, BhGuardUtility *g);
extern void bh_composite_changed(Oid composite_relid, BhGuardUtility *g);
extern void bh_check_enum_rename(AlterEnumStmt *stmt);

/* After the statement: the generated columns ALTER TABLE stored, checked. */
extern void bh_check_generated_after(AlterTableStmt *stmt);
extern void bh_check_column_rename(RenameStmt *stmt, List **renamed_relids);

#endif							/* BH_AUDIT_COLUMN_GUARD_H */
