/*-------------------------------------------------------------------------
 *
 * guard_lock.h
 *		What the configuration guard (config_guard.c) calls of its locking
 *		of the relations a statement changes (guard_lock.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_GUARD_LOCK_H
#define BH_AUDIT_GUARD_LOCK_H

#include "nodes/parsenodes.h"

extern void bh_guard_lock_named(Node *parsetree);

#endif							/* BH_AUDIT_GUARD_LOCK_H */
