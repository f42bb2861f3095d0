/*-------------------------------------------------------------------------
 *
 * own_guard.h
 *		What the configuration guard (config_guard.c) and its guard of the
 *		extension's own relations and functions (own_guard.c) call of each
 *		other.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_OWN_GUARD_H
#define BH_AUDIT_OWN_GUARD_H

#include "catalog/objectaccess.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"

/*
 * The extension's own tables, whose triggers guard the trail: the ledger
 * (append-only, chained rows only, and another server's rows skipped),
 * the queue (another server's rows skipped, a restore's identity moved
 * on), the tag catalog (every backend's tag cache told of a change,
 * another server's rows skipped) and the ledger's home (no change but the
 * sealer's and a restore's, another server's rows skipped).  How events
 * name one and its triggers (bh_own_table()).
 */
typedef struct BhOwnTable
{
	const char *name;			/* resource_id of the events */
	const char *noun;			/* "a ledger trigger" ... */
	const char *possessive;		/* "the ledger's triggers" ... */
	const char *contents;		/* what an unlogged copy would lose */
	const char *origin_trigger; /* the one enabled ORIGIN, not ALWAYS */
	bool		sql_access;		/* read or written through SQL as a superuser
								 * on behalf of other roles
								 * (bh_spi_internal(), bh_audit.stats()) */
	const char *triggers[7];	/* the extension's triggers on it (as
								 * capture_status() lists them), NULL-ended */
} BhOwnTable;

/* A change of a policy of one of the extension's own tables, to record. */
typedef struct BhPolicyChange
{
	const BhOwnTable *own;
	const char *verb;			/* bh_own_rls_change()'s */
	char	   *policy;			/* its name after the change */
} BhPolicyChange;

/* config_guard.c */
extern int	bh_owner_statement;

/* own_guard.c */
extern const BhOwnTable *bh_own_table(Oid relid);
extern const BhOwnTable *bh_own_table_rangevar(RangeVar *rv);
extern bool bh_own_trigger_name(const BhOwnTable *t, const char *name);
extern void bh_own_trigger_change(const BhOwnTable *t, const char *verb,
								  const char *trigger, const char *all_what);
extern void bh_own_trigger_depends(const BhOwnTable *t, const char *trigger);
extern void bh_own_rls_change(const BhOwnTable *t, const char *verb,
							  const char *policy);
extern bool bh_alter_sets_unlogged(List *cmds);
extern void bh_refuse_own_unlogged(const char *what, const char *detail, bool table);
extern void bh_check_own_table_alter(const BhOwnTable *t, Oid relid,
									 AlterTableStmt *stmt);
extern void bh_check_own_references(List *elts);
extern void bh_check_own_code(Node *parsetree);
extern void bh_check_own_rename(Node *parsetree);
extern bool bh_is_queue_sequence(Oid relid);
extern void bh_check_own_sequence_altered(Oid relid);
extern void bh_own_policy_access(ObjectAccessType access, Oid policyid);
extern void bh_check_own_function(Oid funcid);
extern void bh_check_own_depends(AlterObjectDependsStmt *stmt);

/* own_acl.c */
extern void bh_own_acl_init(void);
extern bool bh_own_acl_statement_begin(Node *parsetree);
extern void bh_own_acl_statement_done(bool script);
extern void bh_own_acl_object_access(ObjectAccessType access, Oid classid, Oid objid,
									 int subid);

#endif							/* BH_AUDIT_OWN_GUARD_H */
