/*-------------------------------------------------------------------------
 *
 * extension_drop.h
 *		What the configuration guard (config_guard.c, column_guard.c), the
 *		locking before a drop of the extension (extension_drop.c) and the
 *		check of the extension's owners (own_acl.c) call of each other.
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

/*
 * The pg_depend rows (Form_pg_depend, each a palloc'd copy; NIL for none)
 * of every object that depends on (classid, objid) or on one of its
 * columns, of any deptype: the caller keeps the kinds it wants and may
 * list_free_deep() the list.  The one scan of pg_depend by what is
 * depended on, for every caller that reads all of those rows (the members
 * of an extension, the columns of a type, what a drop reaches).
 */
extern List *bh_depending_on(Oid classid, Oid objid);

/* A new ObjectAddress (classid, objid), whole, appended to objs */
extern List *bh_object_append(List *objs, Oid classid, Oid objid);

#endif							/* BH_AUDIT_EXTENSION_DROP_H */
