/*-------------------------------------------------------------------------
 *
 * capture_ddl_read.c
 *		Reads by DDL: utility statements that evaluate expressions over the
 *		stored rows of a tagged table.
 *
 * Some utility statements make PostgreSQL run expressions, and with them
 * functions the table's owner may have written, over every stored row of a
 * table — outside the executor's scans that read capture (capture_read.c)
 * wraps:
 *	- CREATE INDEX with an expression or a predicate (index_build);
 *	- ALTER TABLE ... ADD CONSTRAINT ... CHECK (not NOT VALID), VALIDATE
 *	  CONSTRAINT of a CHECK constraint, ADD COLUMN with a CHECK constraint,
 *	  ADD CONSTRAINT ... EXCLUDE, ALTER COLUMN ... TYPE (its conversion);
 *	  a rewrite of the table (ADD COLUMN with a stored generated column,
 *	  a volatile or identity default or a domain with constraints, SET
 *	  LOGGED, SET ACCESS METHOD, a column conversion) builds its indexes
 *	  again; on a table with inheritance children, the children too, for
 *	  what recurses to them (not SET LOGGED, SET ACCESS METHOD, a CHECK
 *	  constraint NO INHERIT);
 *	- ALTER DOMAIN ... ADD CONSTRAINT ... CHECK or VALIDATE CONSTRAINT
 *	  checks every stored value of the domain, in every table;
 *	- REINDEX, CLUSTER and VACUUM FULL build the table's indexes again,
 *	  with their expressions and predicates;
 *	- ANALYZE (also VACUUM ANALYZE) evaluates the expressions of expression
 *	  indexes and of extended statistics on a sample of the rows; a
 *	  parent's (partitioned or inheritance) statistics expressions on a
 *	  sample of the rows of every table under it.
 * Each such statement is one table-wide READ event per tagged table whose
 * reads are captured (a partition counts for its tagged table): no patient,
 * no record; metadata.statement (the command), metadata.evaluated (what
 * runs over the rows) and metadata.row_count_estimate (the rows of the
 * tables read, where all were analyzed).  It is pushed to the ring before
 * the statement runs (utility.c), like every read: it stays when the
 * statement fails or its transaction rolls back.
 *
 * The statement's relations are looked up without a lock (it takes its
 * own; a relation that does not exist is PostgreSQL's to report) and the
 * catalogs read through their indexes, so nothing here locks a table.
 * A statement PostgreSQL refuses or skips for the user (not the owner)
 * evaluates nothing: no event.
 * Nothing is recorded where read capture records nothing (bh_capture_here():
 * bh_audit.enabled off, the sealer, parallel workers), nor for the
 * extension's own DDL, nor while it is created or dropped.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "bh_audit.h"
#include "capture.h"
#include "event.h"
#include "tags.h"

/* What a statement evaluates over the rows (metadata.evaluated, in order). */
#define BH_EVAL_INDEX_EXPR	0x01
#define BH_EVAL_INDEX_PRED	0x02
#define BH_EVAL_CHECK		0x04
#define BH_EVAL_GENERATED	0x08
#define BH_EVAL_CONVERSION	0x10
#define BH_EVAL_EXCLUSION	0x20
#define BH_EVAL_STATS_EXPR	0x40
#define BH_EVAL_DOMAIN		0x80
#define BH_EVAL_NKINDS		8

static const char *const bh_eval_names[BH_EVAL_NKINDS] = {
	"index expression",
	"index predicate",
	"check constraint",
	"generated column",
	"column conversion",
	"exclusion constraint",
	"statistics expression",
	"domain constraint",
};

/* Not evaluated, but noted by bh_index_evaluates(): a clustered index. */
#define BH_INDEX_CLUSTERED	0x200

/*
 * One tagged table a statement reads this way: by its OID, its tag looked
 * up again for the event (the lookups of the other tables may have loaded
 * the cache again meanwhile: tag_cache.c).
 */
typedef struct BhDdlRead
{
	Oid			tagged_relid;
	int			evaluated;		/* BH_EVAL_* */
	List	   *tables;			/* Oid: the tables (with rows) read */
} BhDdlRead;

/* Does a relation of this kind hold rows a statement can evaluate over? */
static bool
bh_holds_rows(char relkind)
{
	return relkind == RELKIND_RELATION || relkind == RELKIND_MATVIEW;
}

/*
 * relid, or, for a partitioned table, the partitions under it that hold
 * rows (at any depth).
 */
static List *
bh_tables_of(Oid relid)
{
	List	   *result = NIL;
	ListCell   *lc;

	if (get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
		return list_make1_oid(relid);
	foreach(lc, bh_partition_tree(relid))
		if (bh_holds_rows(get_rel_relkind(lfirst_oid(lc))))
		result = lappend_oid(result, lfirst_oid(lc));
	return result;
}

/*
 * Note that the statement evaluates what evaluated says over the rows of
 * relid (a table, or a partitioned table: its partitions' rows), if its
 * tag captures reads: one entry per tagged table.
 */
static void
bh_note(List **reads, Oid relid, int evaluated)
{
	const BhTag *tag;
	BhDdlRead  *read = NULL;
	ListCell   *lc;

	if (evaluated == 0 || (tag = bh_tag_lookup(relid)) == NULL || !tag->capture_reads)
		return;
	foreach(lc, *reads)
		if (((BhDdlRead *) lfirst(lc))->tagged_relid == tag->tagged_relid)
		read = (BhDdlRead *) lfirst(lc);
	if (read == NULL)
	{
		read = palloc0(sizeof(BhDdlRead));
		read->tagged_relid = tag->tagged_relid;
		*reads = lappend(*reads, read);
	}
	read->evaluated |= evaluated;
	foreach(lc, bh_tables_of(relid))
		read->tables = list_append_unique_oid(read->tables, lfirst_oid(lc));
}

/*
 * The tables an ALTER TABLE of relid reaches (inh: not ONLY): the
 * partitions under a partitioned table, or the inheritance children of a
 * table (constraints, columns and conversions recurse to them), relid
 * itself included, those that hold rows.
 */
static List *
bh_alter_targets(Oid relid, bool inh)
{
	List	   *result = NIL;
	ListCell   *lc;

	if (!inh || get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE || !has_subclass(relid))
		return bh_tables_of(relid);
	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
		result = list_concat(result, bh_tables_of(lfirst_oid(lc)));
	return result;
}

/* bh_note() for each table that holds rows under relid, itself included. */
static void
bh_note_tree(List **reads, Oid relid, int evaluated)
{
	ListCell   *lc;

	foreach(lc, bh_tables_of(relid))
		bh_note(reads, lfirst_oid(lc), evaluated);
}

/*
 * What building the indexes of a table evaluates (BH_EVAL_INDEX_EXPR,
 * BH_EVAL_INDEX_PRED), from pg_index; analyze: what ANALYZE evaluates
 * (expression indexes only, with their predicates).  BH_INDEX_CLUSTERED
 * when one of them is marked clustered.
 */
static int
bh_index_evaluates(Oid relid, bool analyze)
{
	Relation	pg_index = table_open(IndexRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	int			result = 0;

	ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(pg_index, IndexIndrelidIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		exprs = !heap_attisnull(tup, Anum_pg_index_indexprs, NULL);
		bool		pred = !heap_attisnull(tup, Anum_pg_index_indpred, NULL);

		if (((Form_pg_index) GETSTRUCT(tup))->indisclustered)
			result |= BH_INDEX_CLUSTERED;
		if (analyze && !exprs)
			continue;
		if (exprs)
			result |= BH_EVAL_INDEX_EXPR;
		if (pred)
			result |= BH_EVAL_INDEX_PRED;
	}
	systable_endscan(scan);
	table_close(pg_index, AccessShareLock);
	return result;
}

/* Has relid extended statistics on expressions (ANALYZE evaluates them)? */
static bool
bh_stats_expressions(Oid relid)
{
	Relation	pg_stext = table_open(StatisticExtRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&key, Anum_pg_statistic_ext_stxrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(pg_stext, StatisticExtRelidIndexId, true, NULL, 1, &key);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
		found = !heap_attisnull(tup, Anum_pg_statistic_ext_stxexprs, NULL);
	systable_endscan(scan);
	table_close(pg_stext, AccessShareLock);
	return found;
}

/*
 * The relations with extended statistics on expressions, in OID order (the
 * order ANALYZE without tables reads them in is no matter: one event per
 * tagged table).
 */
static List *
bh_stats_expression_relations(void)
{
	Relation	pg_stext = table_open(StatisticExtRelationId, AccessShareLock);
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *result = NIL;

	scan = systable_beginscan(pg_stext, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		if (!heap_attisnull(tup, Anum_pg_statistic_ext_stxexprs, NULL))
			result = list_append_unique_oid(result,
											((Form_pg_statistic_ext) GETSTRUCT(tup))->stxrelid);
	systable_endscan(scan);
	table_close(pg_stext, AccessShareLock);
	list_sort(result, list_oid_cmp);
	return result;
}

/*
 * ANALYZE of a table with children (a partitioned table, an inheritance
 * parent) builds its statistics for the whole tree as well, from a sample
 * of the rows of every table under it (PostgreSQL 15 keeps extended
 * statistics of the tree too): the parent's statistics expressions run on
 * the rows of the children, at any depth, a tagged one among them whatever
 * the parent is.  Its own rows are its own pass's (the caller's).
 */
static void
bh_note_inherited_stats(List **reads, Oid relid)
{
	List	   *tree = bh_partition_tree(relid);
	ListCell   *lc;

	if (list_length(tree) < 2 || !bh_stats_expressions(relid))
		return;
	foreach(lc, tree)
		if (lfirst_oid(lc) != relid && bh_holds_rows(get_rel_relkind(lfirst_oid(lc))))
		bh_note(reads, lfirst_oid(lc), BH_EVAL_STATS_EXPR);
}

/* The relation a statement names, looked up without a lock (or invalid). */
static Oid
bh_named(RangeVar *rv)
{
	return rv ? RangeVarGetRelid(rv, NoLock, true) : InvalidOid;
}

/*----------------------------------------------------------------------
 * The statements
 *----------------------------------------------------------------------
 */

/* CREATE INDEX with an expression or a predicate. */
static void
bh_index_stmt(IndexStmt *stmt, List **reads)
{
	Oid			relid = bh_named(stmt->relation);
	int			evaluated = 0;
	ListCell   *lc;

	/* refused unless the user owns the table: nothing runs */
	if (!OidIsValid(relid) || !pg_class_ownercheck(relid, GetUserId()))
		return;
	/* ON ONLY a partitioned table: an index of the parent alone, no rows */
	if (!stmt->relation->inh && get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		return;
	foreach(lc, stmt->indexParams)
		if (((IndexElem *) lfirst(lc))->expr != NULL)
		evaluated |= BH_EVAL_INDEX_EXPR;
	if (stmt->whereClause != NULL)
		evaluated |= BH_EVAL_INDEX_PRED;
	bh_note_tree(reads, relid, evaluated);
}

/* Is there a function call in a raw expression (a volatile default may)? */
static bool
bh_calls_function(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncCall))
		return true;
	return raw_expression_tree_walker(node, bh_calls_function, context);
}

/* Is a raw type name a serial type (a sequence's nextval() as default)? */
static bool
bh_is_serial(TypeName *typeName)
{
	const char *name;

	if (typeName == NULL || typeName->names == NIL || typeName->arrayBounds != NIL)
		return false;
	name = strVal(llast(typeName->names));
	return strcmp(name, "serial") == 0 || strcmp(name, "bigserial") == 0 ||
		strcmp(name, "smallserial") == 0 || strcmp(name, "serial2") == 0 ||
		strcmp(name, "serial4") == 0 || strcmp(name, "serial8") == 0;
}

/* Is a raw type name a domain with constraints (checked on every row)? */
static bool
bh_is_checked_domain(TypeName *typeName)
{
	Type		type;
	Oid			typid;

	if (typeName == NULL || (type = LookupTypeName(NULL, typeName, NULL, true)) == NULL)
		return false;
	typid = typeTypeId(type);
	ReleaseSysCache(type);
	return get_typtype(typid) == TYPTYPE_DOMAIN && DomainHasConstraints(typid);
}

/*
 * What ADD COLUMN evaluates over the rows: its CHECK constraints (which
 * may read the row's other columns) and a stored generated column; and
 * *rewrites when the table may be rewritten for it (a generated column, a
 * default that calls a function — volatile ones are computed for each
 * row —, an identity or serial column, a domain with constraints).  A
 * CHECK constraint NO INHERIT is checked on the table named alone
 * (*evaluated_self).
 */
static int
bh_add_column_evaluates(ColumnDef *def, bool *rewrites, int *evaluated_self)
{
	int			evaluated = 0;
	ListCell   *lc;

	if (def == NULL || !IsA(def, ColumnDef))
		return 0;
	if (bh_calls_function(def->raw_default, NULL) || def->identity || bh_is_serial(def->typeName) ||
		bh_is_checked_domain(def->typeName))
		*rewrites = true;
	foreach(lc, def->constraints)
	{
		Constraint *c = lfirst_node(Constraint, lc);

		switch (c->contype)
		{
			case CONSTR_CHECK:
				if (c->skip_validation)
					break;
				if (c->is_no_inherit)
					*evaluated_self |= BH_EVAL_CHECK;
				else
					evaluated |= BH_EVAL_CHECK;
				break;
			case CONSTR_GENERATED:
				evaluated |= BH_EVAL_GENERATED;
				*rewrites = true;
				break;
			case CONSTR_IDENTITY:
				*rewrites = true;
				break;
			case CONSTR_DEFAULT:
				if (bh_calls_function(c->raw_expr, NULL))
					*rewrites = true;
				break;
			default:
				break;
		}
	}
	return evaluated;
}

/*
 * VALIDATE CONSTRAINT of a CHECK constraint not yet valid; *no_inherit
 * when it is NO INHERIT (PostgreSQL validates it on the table alone).
 */
static int
bh_validate_evaluates(Oid relid, const char *conname, bool *no_inherit)
{
	Oid			conoid;
	HeapTuple	tup;
	int			evaluated = 0;

	if (conname == NULL ||
		!OidIsValid(conoid = get_relation_constraint_oid(relid, conname, true)))
		return 0;
	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid));
	if (!HeapTupleIsValid(tup))
		return 0;
	if (((Form_pg_constraint) GETSTRUCT(tup))->contype == CONSTRAINT_CHECK &&
		!((Form_pg_constraint) GETSTRUCT(tup))->convalidated)
		evaluated = BH_EVAL_CHECK;
	*no_inherit = ((Form_pg_constraint) GETSTRUCT(tup))->connoinherit;
	ReleaseSysCache(tup);
	return evaluated;
}

/*
 * Does SET ACCESS METHOD amname rewrite relid?  Not to the method it has
 * (PostgreSQL skips it); an unknown method is refused, rewriting nothing.
 */
static bool
bh_access_method_changes(Oid relid, const char *amname)
{
	Oid			amoid = amname ? get_table_am_oid(amname, true) : InvalidOid;
	HeapTuple	tp;
	bool		changes = false;

	if (!OidIsValid(amoid))
		return false;
	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tp))
	{
		changes = ((Form_pg_class) GETSTRUCT(tp))->relam != amoid;
		ReleaseSysCache(tp);
	}
	return changes;
}

/*
 * ALTER TABLE: the subcommands that evaluate over the rows.  Most recurse
 * to the inheritance children (without ONLY); SET LOGGED, SET ACCESS
 * METHOD and a CHECK constraint NO INHERIT (added or validated) touch the
 * table named alone (evaluated_self, rewrites_self), as PostgreSQL
 * recurses them to no child: a tagged child's rows are not read there.
 * SET LOGGED and SET ACCESS METHOD rewrite only a table they change.
 */
static void
bh_alter_table_stmt(AlterTableStmt *stmt, List **reads)
{
	Oid			relid = bh_named(stmt->relation);
	int			evaluated = 0;
	int			evaluated_self = 0;
	bool		rewrites = false;
	bool		rewrites_self = false;
	ListCell   *lc;

	/* refused unless the user owns the table: nothing runs */
	if (!OidIsValid(relid) || !pg_class_ownercheck(relid, GetUserId()))
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		switch (cmd->subtype)
		{
			case AT_AddConstraint:
				if (cmd->def && IsA(cmd->def, Constraint))
				{
					Constraint *c = (Constraint *) cmd->def;

					if (c->contype == CONSTR_CHECK && !c->skip_validation)
					{
						if (c->is_no_inherit)
							evaluated_self |= BH_EVAL_CHECK;
						else
							evaluated |= BH_EVAL_CHECK;
					}
					else if (c->contype == CONSTR_EXCLUSION)
						evaluated |= BH_EVAL_EXCLUSION;
				}
				break;
			case AT_AddColumn:
				evaluated |= bh_add_column_evaluates((ColumnDef *) cmd->def, &rewrites,
													 &evaluated_self);
				break;
			case AT_ValidateConstraint:
				{
					bool		no_inherit = false;
					int			found = bh_validate_evaluates(relid, cmd->name, &no_inherit);

					if (no_inherit)
						evaluated_self |= found;
					else
						evaluated |= found;
					break;
				}
			case AT_AlterColumnType:

				/*
				 * a conversion may rewrite the table, and builds indexes
				 * again
				 */
				evaluated |= BH_EVAL_CONVERSION;
				rewrites = true;
				break;
			case AT_SetLogged:
				/* a logged table is left as it is (a tagged one always is) */
				if (get_rel_persistence(relid) == RELPERSISTENCE_UNLOGGED)
					rewrites_self = true;
				break;
			case AT_SetAccessMethod:
				/* to the method it has: left as it is */
				if (bh_access_method_changes(relid, cmd->name))
					rewrites_self = true;
				break;
			default:
				break;
		}
	}
	if (evaluated == 0 && evaluated_self == 0 && !rewrites && !rewrites_self)
		return;
	/* ONLY a partitioned table: its partitions are not reached (it fails) */
	if (!stmt->relation->inh && get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		return;
	foreach(lc, bh_alter_targets(relid, stmt->relation->inh))
	{
		Oid			table = lfirst_oid(lc);
		bool		self = (table == relid);

		bh_note(reads, table,
				evaluated | (self ? evaluated_self : 0) |
				(rewrites || (self && rewrites_self) ?
				 bh_index_evaluates(table, false) & ~BH_INDEX_CLUSTERED : 0));
	}
}

/* The tagged tables (and partitions) holding rows, of one schema or all. */
static List *
bh_tagged_tables_in(Oid nspid)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, OidIsValid(nspid) ? bh_tagged_in_schema(nspid) : bh_tagged_relations())
		if (bh_holds_rows(get_rel_relkind(lfirst_oid(lc))))
		result = lappend_oid(result, lfirst_oid(lc));
	return result;
}

/* Note each table's index rebuild (REINDEX, CLUSTER, VACUUM FULL). */
static void
bh_note_rebuilds(List *tables, List **reads)
{
	ListCell   *lc;

	foreach(lc, tables)
		bh_note(reads, lfirst_oid(lc),
				bh_index_evaluates(lfirst_oid(lc), false) & ~BH_INDEX_CLUSTERED);
}

/* REINDEX of an index, a table, a schema or the database. */
static void
bh_reindex_stmt(ReindexStmt *stmt, List **reads)
{
	switch (stmt->kind)
	{
		case REINDEX_OBJECT_INDEX:
			{
				Oid			indexid = bh_named(stmt->relation);
				HeapTuple	tup;
				int			evaluated = 0;
				Oid			heapid;

				if (!OidIsValid(indexid) ||
					!OidIsValid(heapid = IndexGetRelation(indexid, true)) ||
					!pg_class_ownercheck(heapid, GetUserId()))
					return;
				tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexid));
				if (!HeapTupleIsValid(tup))
					return;
				if (!heap_attisnull(tup, Anum_pg_index_indexprs, NULL))
					evaluated |= BH_EVAL_INDEX_EXPR;
				if (!heap_attisnull(tup, Anum_pg_index_indpred, NULL))
					evaluated |= BH_EVAL_INDEX_PRED;
				ReleaseSysCache(tup);
				/* a partitioned index: its partitions' indexes, alike */
				bh_note_tree(reads, heapid, evaluated);
				break;
			}
		case REINDEX_OBJECT_TABLE:
			{
				Oid			relid = bh_named(stmt->relation);

				if (OidIsValid(relid) && pg_class_ownercheck(relid, GetUserId()))
					bh_note_rebuilds(bh_tables_of(relid), reads);
				break;
			}
		case REINDEX_OBJECT_SCHEMA:
			{
				Oid			nspid = stmt->name ? get_namespace_oid(stmt->name, true) : InvalidOid;

				/* the schema's owner reindexes every table of it */
				if (OidIsValid(nspid) && pg_namespace_ownercheck(nspid, GetUserId()))
					bh_note_rebuilds(bh_tagged_tables_in(nspid), reads);
				break;
			}
		case REINDEX_OBJECT_DATABASE:
			if (pg_database_ownercheck(MyDatabaseId, GetUserId()))
				bh_note_rebuilds(bh_tagged_tables_in(InvalidOid), reads);
			break;
		case REINDEX_OBJECT_SYSTEM:
			/* system catalogs only: never tagged */
			break;
	}
}

/*
 * CLUSTER: the table's indexes are built again.  Without a table, every
 * table the user owns with an index marked clustered (as PostgreSQL picks
 * them).
 */
static void
bh_cluster_stmt(ClusterStmt *stmt, List **reads)
{
	ListCell   *lc;

	if (stmt->relation != NULL)
	{
		Oid			relid = bh_named(stmt->relation);

		if (OidIsValid(relid) && pg_class_ownercheck(relid, GetUserId()))
			bh_note_rebuilds(bh_tables_of(relid), reads);
		return;
	}
	foreach(lc, bh_tagged_tables_in(InvalidOid))
	{
		Oid			relid = lfirst_oid(lc);
		int			found = bh_index_evaluates(relid, false);

		if ((found & BH_INDEX_CLUSTERED) && pg_class_ownercheck(relid, GetUserId()))
			bh_note(reads, relid, found & ~BH_INDEX_CLUSTERED);
	}
}

/*
 * VACUUM FULL rebuilds the table's indexes; ANALYZE (VACUUM ANALYZE)
 * evaluates expression indexes' and extended statistics' expressions on a
 * sample (with a column list, no index's), and a parent's statistics
 * expressions on a sample of its tree (bh_note_inherited_stats()).  A
 * partitioned table named brings its partitions, each processed on its
 * own; an inheritance parent does not bring its children (their own
 * indexes and statistics are not touched).  Without tables, every table
 * the user owns (all, for the database's owner).  Plain VACUUM evaluates
 * nothing.
 */
static void
bh_vacuum_stmt(VacuumStmt *stmt, List **reads)
{
	bool		full = false;
	bool		analyze = !stmt->is_vacuumcmd;
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "full") == 0)
			full = defGetBoolean(opt);
		else if (strcmp(opt->defname, "analyze") == 0)
			analyze = defGetBoolean(opt);
	}
	if (!full && !analyze)
		return;

	if (stmt->rels == NIL)
	{
		bool		dbowner = pg_database_ownercheck(MyDatabaseId, GetUserId());

		foreach(lc, bh_tagged_relations())
		{
			Oid			relid = lfirst_oid(lc);
			char		relkind = get_rel_relkind(relid);
			int			evaluated = 0;

			if (!dbowner && !pg_class_ownercheck(relid, GetUserId()))
				continue;
			if (bh_holds_rows(relkind))
				evaluated |= bh_index_evaluates(relid, !full) & ~BH_INDEX_CLUSTERED;
			if (analyze && (bh_holds_rows(relkind) || relkind == RELKIND_PARTITIONED_TABLE) &&
				bh_stats_expressions(relid))
				evaluated |= BH_EVAL_STATS_EXPR;
			bh_note(reads, relid, evaluated);
		}
		/* the parents above tagged tables, tagged or not */
		if (analyze)
			foreach(lc, bh_stats_expression_relations())
		{
			Oid			relid = lfirst_oid(lc);

			/* (dropped meanwhile: PostgreSQL no longer finds it either) */
			if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)) ||
				isOtherTempNamespace(get_rel_namespace(relid)))
				continue;
			if (dbowner || pg_class_ownercheck(relid, GetUserId()))
				bh_note_inherited_stats(reads, relid);
		}
		return;
	}

	foreach(lc, stmt->rels)
	{
		VacuumRelation *vrel = lfirst_node(VacuumRelation, lc);
		Oid			relid = bh_named(vrel->relation);
		bool		dbowner = pg_database_ownercheck(MyDatabaseId, GetUserId());
		ListCell   *lc2;

		if (!OidIsValid(relid))
			continue;
		foreach(lc2, get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE ?
				bh_partition_tree(relid) : list_make1_oid(relid))
		{
			Oid			rel = lfirst_oid(lc2);
			char		relkind = get_rel_relkind(rel);
			int			evaluated = 0;

			/*
			 * skipped, with a warning, unless the user owns it or the
			 * database
			 */
			if (!dbowner && !pg_class_ownercheck(rel, GetUserId()))
				continue;
			if (bh_holds_rows(relkind))
			{
				if (full)
					evaluated |= bh_index_evaluates(rel, false);
				if (analyze && vrel->va_cols == NIL)
					evaluated |= bh_index_evaluates(rel, true);
				evaluated &= ~BH_INDEX_CLUSTERED;
			}
			else if (relkind != RELKIND_PARTITIONED_TABLE)
				continue;
			if (analyze && bh_stats_expressions(rel))
				evaluated |= BH_EVAL_STATS_EXPR;
			bh_note(reads, rel, evaluated);
			if (analyze)
				bh_note_inherited_stats(reads, rel);
		}
	}
}

/* Is typid the domain domainid, or a domain over it, or an array of either? */
static bool
bh_type_uses_domain(Oid typid, Oid domainid)
{
	Oid			elem = get_element_type(typid);

	if (OidIsValid(elem))
		typid = elem;
	while (OidIsValid(typid) && typid != domainid)
	{
		HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
		Form_pg_type form;

		if (!HeapTupleIsValid(tup))
			return false;
		form = (Form_pg_type) GETSTRUCT(tup);
		typid = (form->typtype == TYPTYPE_DOMAIN) ? form->typbasetype : InvalidOid;
		ReleaseSysCache(tup);
	}
	return OidIsValid(typid);
}

/*
 * ALTER DOMAIN ... ADD CONSTRAINT ... CHECK (not NOT VALID) or VALIDATE
 * CONSTRAINT: PostgreSQL checks every stored value of the domain, in
 * every table's columns of it: each tagged table having one.
 */
static void
bh_alter_domain_stmt(AlterDomainStmt *stmt, List **reads)
{
	Type		type;
	Oid			domainid;
	ListCell   *lc;

	if (stmt->subtype == 'C')
	{
		Constraint *c = (Constraint *) stmt->def;

		if (c == NULL || !IsA(c, Constraint) || c->contype != CONSTR_CHECK || c->skip_validation)
			return;
	}
	else if (stmt->subtype != 'V')
		return;
	type = LookupTypeName(NULL, makeTypeNameFromNameList(stmt->typeName), NULL, true);
	if (type == NULL)
		return;
	domainid = typeTypeId(type);
	ReleaseSysCache(type);
	/* refused unless the user owns the domain */
	if (get_typtype(domainid) != TYPTYPE_DOMAIN || !pg_type_ownercheck(domainid, GetUserId()))
		return;
	foreach(lc, bh_tagged_tables_in(InvalidOid))
	{
		Oid			relid = lfirst_oid(lc);
		HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
		int			natts;
		int			i;

		if (!HeapTupleIsValid(tp))
			continue;
		natts = ((Form_pg_class) GETSTRUCT(tp))->relnatts;
		ReleaseSysCache(tp);
		for (i = 1; i <= natts; i++)
		{
			HeapTuple	att = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(i));
			bool		uses = false;

			if (!HeapTupleIsValid(att))
				continue;
			if (!((Form_pg_attribute) GETSTRUCT(att))->attisdropped)
				uses = bh_type_uses_domain(((Form_pg_attribute) GETSTRUCT(att))->atttypid, domainid);
			ReleaseSysCache(att);
			if (uses)
			{
				bh_note(reads, relid, BH_EVAL_DOMAIN);
				break;
			}
		}
	}
}

/* The rows of the tables read, estimated (bh_rel_row_estimate()), or -1. */
static double
bh_tables_rows(List *tables)
{
	double		rows = 0;
	ListCell   *lc;

	foreach(lc, tables)
	{
		double		n = bh_rel_row_estimate(lfirst_oid(lc));

		if (n < 0)
			return -1;
		rows += n;
	}
	return rows;
}

/* Push one READ event per tagged table read. */
static void
bh_push_ddl_reads(Node *parsetree, List *reads)
{
	const char *statement = CreateCommandName(parsetree);
	ListCell   *lc;

	foreach(lc, reads)
	{
		BhDdlRead  *read = (BhDdlRead *) lfirst(lc);
		StringInfoData evaluated;
		BhEvent		ev;
		double		rows = bh_tables_rows(read->tables);
		const BhTag *tag = bh_tag_lookup(read->tagged_relid);
		int			i;

		/* untagged, or its reads no longer captured, since it was noted */
		if (tag == NULL || !tag->capture_reads)
			continue;
		initStringInfo(&evaluated);
		for (i = 0; i < BH_EVAL_NKINDS; i++)
			if (read->evaluated & (1 << i))
				appendStringInfo(&evaluated, "%s%s", evaluated.len > 0 ? "," : "",
								 bh_eval_names[i]);
		bh_event_for_tag(&ev, "READ", tag);
		ev.phi_touched = 1;
		bh_event_meta_string(&ev, "statement", statement);
		bh_event_meta_string(&ev, "evaluated", evaluated.data);
		if (rows >= 0)
			bh_event_meta_int(&ev, "row_count_estimate", (int64) rows);
		bh_push(&ev, false);
	}
}

/*
 * Before a utility statement runs (utility.c): record the reads of tagged
 * tables it makes by evaluating expressions over their rows.
 */
void
bh_capture_ddl_reads(Node *parsetree)
{
	List	   *reads = NIL;

	if (!IsA(parsetree, IndexStmt) && !IsA(parsetree, AlterTableStmt) &&
		!IsA(parsetree, ReindexStmt) && !IsA(parsetree, ClusterStmt) &&
		!IsA(parsetree, VacuumStmt) && !IsA(parsetree, AlterDomainStmt))
		return;
	if (!bh_capture_here() || bh_tags_own_ddl() || bh_in_own_script() ||
		bh_extension_dropping() || !OidIsValid(bh_tags_catalog()) || !bh_tags_any())
		return;

	switch (nodeTag(parsetree))
	{
		case T_IndexStmt:
			bh_index_stmt((IndexStmt *) parsetree, &reads);
			break;
		case T_AlterTableStmt:
			bh_alter_table_stmt((AlterTableStmt *) parsetree, &reads);
			break;
		case T_ReindexStmt:
			bh_reindex_stmt((ReindexStmt *) parsetree, &reads);
			break;
		case T_ClusterStmt:
			bh_cluster_stmt((ClusterStmt *) parsetree, &reads);
			break;
		case T_VacuumStmt:
			bh_vacuum_stmt((VacuumStmt *) parsetree, &reads);
			break;
		case T_AlterDomainStmt:
			bh_alter_domain_stmt((AlterDomainStmt *) parsetree, &reads);
			break;
		default:
			break;
	}
	bh_push_ddl_reads(parsetree, reads);
}
