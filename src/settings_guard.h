/*-------------------------------------------------------------------------
 *
 * settings_guard.h
 *		What the configuration guard (config_guard.c) and its guard of
 *		bh_audit's settings (settings_guard.c) call of each other.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_SETTINGS_GUARD_H
#define BH_AUDIT_SETTINGS_GUARD_H

#include "access/htup.h"
#include "nodes/parsenodes.h"
#include "utils/jsonb.h"
#include "utils/snapshot.h"

#include "bh_audit.h"

/* config_guard.c */
extern bool bh_guard_active(void);
extern BhGuardUtility *bh_config_guard_utility(void);
extern void bh_narrowing(Jsonb *event, const char *change, Oid detached);
extern HeapTuple bh_catalog_row(Oid catalogid, AttrNumber oidcol, Oid objid,
								Snapshot snapshot);

/* settings_guard.c */
extern void bh_settings_guard_init(void);
extern void bh_settings_guard_before(Node *parsetree, BhGuardUtility *g);
extern void bh_settings_guard_elsewhere(Node *parsetree, BhGuardUtility *g);
extern void bh_settings_guard_cleanup(BhGuardUtility *g);
extern void bh_settings_guard_session(void);
extern bool bh_function_settings(Oid funcid, Node *parsetree);

#endif							/* BH_AUDIT_SETTINGS_GUARD_H */
