/*-------------------------------------------------------------------------
 *
 * extension_drop.h
 *		What the configuration guard (config_guard.c) and the locking
 *		before a drop of the extension (extension_drop.c) call of each
 *		other.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_EXTENSION_DROP_H
#define BH_AUDIT_EXTENSION_DROP_H

#include "nodes/nodes.h"
#include "nodes/pg_list.h"

/* config_guard.c */
extern List *bh_extension_relations(Oid extoid);

/* extension_drop.c */
extern bool bh_lock_before_drop(Node *parsetree);

#endif							/* BH_AUDIT_EXTENSION_DROP_H */
