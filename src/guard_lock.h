/*-------------------------------------------------------------------------
 *
 * guard_lock.h
 *		What the configuration guard (config_guard.c) and its locking of
 *		the relations a statement changes (guard_lock.c) call of each other.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_GUARD_LOCK_H
#define BH_AUDIT_GUARD_LOCK_H

#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"

/* config_guard.c */
extern RangeVar *bh_trigger_table(List *names);

/* guard_lock.c */
extern void bh_guard_lock_named(Node *parsetree);

#endif							/* BH_AUDIT_GUARD_LOCK_H */
