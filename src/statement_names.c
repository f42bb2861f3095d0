/*-------------------------------------------------------------------------
 *
 * statement_names.c
 *		Which tagged tables a statement's names stand for, when no query
 *		tree of it is at hand.
 *
 * Some failures on tagged tables come before PostgreSQL has analysed the
 * failing statement, or before it analyses it again, so that no query tree
 * says which relations the statement's names stand for.  They are resolved
 * here, as PostgreSQL's analysis did or will resolve them.
 *
 * A client's statement with parameters that fails at Bind (a parameter
 * that does not convert) is recognised by its text: each one naming a
 * tagged table (or, in a database where nothing is tagged, the ledger) is
 * noted after its parse analysis (bh_param_stmt_note, from
 * capture_read.c's post-parse-analysis hook) with the search_path, the role
 * and the names of tagged relations it was analysed under; the error watch
 * (capture_failure.c) finds the note (bh_param_stmt_find) and whether what
 * it found still stands (bh_param_stmt_current).
 *
 * A statement known only by its text (one failing in parse analysis, or a
 * noted one whose note no longer stands) names what query_text.c finds in
 * it; a name without its schema stands for the relation whose schema comes
 * first in the search_path as set, read from the setting's text
 * (bh_name_place).  What the error watch calls reads no catalog and
 * allocates nothing.
 *
 * An EXECUTE of a prepared statement that PostgreSQL will analyse again (the
 * search_path changed, an invalidation came) names what that analysis will
 * find: the relation names of its raw parse tree, looked up now
 * (bh_prepared_relids_now, for capture_read.c's utility hook).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "parser/scansup.h"
#include "tcop/tcopprot.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "event.h"
#include "statement_names.h"
#include "tags.h"

/*
 * Statements with parameters that name a tagged table, as the client sent
 * them (extended query protocol), by their text: a parameter that does not
 * convert fails at Bind, before any table is opened or locked and before
 * planning, with the statement's text as debug_query_string.  Filled after
 * parse analysis (which a Parse message, and a re-analysis at Bind, run);
 * read by the error watch without allocating.
 *
 * What a text names depends on the search_path and the role it is analysed
 * under ("$user"), and on the catalog: a pooled session serves one
 * tenant's schema, then another's, with the same text.  So each entry
 * keeps what the text's latest analysis found (the tagged tables and the
 * ledger it names or reaches through an untagged partitioned table it
 * names, each with that relation and its action, or none; and the other
 * relations it names, which may be tagged by the time of a Bind),
 * together with the search_path, the role and the tag cache's count of
 * changes to names
 * (bh_tags_names_generation: a schema renamed or changed, a tagged
 * relation's relcache entry invalidated, as by ALTER TABLE ... SET SCHEMA)
 * it was found under; that answer stands while all three do.  PostgreSQL
 * converts a Bind's parameters before it analyses the statement again for
 * a changed search_path or catalog: under any other, the failing text's
 * names are resolved as they are now, through the tag cache and the
 * search_path as set (capture_failure.c's bh_pending_names), for the names
 * of the relations that an analysis of the text found it naming (the text
 * is known to name them as relations; a partitioned table's, for the
 * partitions tagged under it).  A text whose analyses never found a tagged
 * table (or the ledger) is not noted; once noted, each analysis of it notes
 * it again, also one finding none.
 *
 * Keyed by a 64-bit hash of the text, checked against the text's length.
 * Bounded by two generations: when the current one reaches
 * BH_PARAM_STMTS_MAX entries it becomes the previous one and the previous
 * one is forgotten.  A statement prepared once and bound for the whole
 * session is parsed only once, so each successful execution of a noted
 * statement carries it over from the previous generation into the current
 * one (bh_param_stmt_refresh): only a statement that has not run while a
 * whole generation of other statements was parsed is forgotten.  Each
 * generation's entries and their lists of tables live in its own memory
 * context, forgotten with it.
 */
struct BhParamStmt
{
	uint64		key;			/* hash key: bh_text_key() of the text */
	int			len;			/* length of the text */
	uint64		path_key;		/* its latest analysis: bh_text_key() of the
								 * search_path, */
	Oid			user;			/* the role, */
	uint64		names_generation;	/* bh_tags_names_generation() */
	bool		named_none;		/* and it found no tagged table */

	/*
	 * The tagged tables (or the ledger) the latest analysis that found any
	 * found, in the order the analysis met them, then the other relations it
	 * named (tagged InvalidOid: they may be tagged since), each with its
	 * action (ntables of each, in the generation's context)
	 */
	int			ntables;
	const Oid  *tables;
	const Oid  *tagged;			/* the table carrying its tag */
	const Oid  *named;			/* the relation the text names for it */
	const char *const *actions;

	/*
	 * the name of each named relation, as the tag cache knew it at the
	 * analysis (a tagged relation's, a view's or a partitioned table's; NULL
	 * for the others): the name the text holds, resolved again when the note
	 * no longer stands (the relation renamed or gone since, another one may
	 * have taken its name)
	 */
	const char *const *relnames;
	void	   *lists;			/* the memory of the five, and of the names */
};

#define BH_PARAM_STMTS_MAX 8192
static HTAB *bh_param_stmts = NULL; /* the current generation */
static HTAB *bh_param_stmts_old = NULL; /* the previous one */
static MemoryContext bh_param_stmts_cxt = NULL; /* their memory */
static MemoryContext bh_param_stmts_old_cxt = NULL;

/* A 64-bit hash of a text (allocates nothing). */
static uint64
bh_text_key(const char *text, int len)
{
	return hash_bytes_extended((const unsigned char *) text, len, 0);
}

/* The search_path as set now, for BhParamStmt.path_key. */
static uint64
bh_path_key(void)
{
	const char *path = namespace_search_path ? namespace_search_path : "";

	return bh_text_key(path, strlen(path));
}

/*
 * Enter a copy of a noted statement (keyed by stmt->key), with its lists of
 * tables, in the current generation.  Its lists may be those of an entry
 * of the previous generation, which entering it may forget: that one's
 * memory goes only after the copy.
 */
static void
bh_param_stmt_put(const BhParamStmt *stmt)
{
	BhParamStmt *entry;
	MemoryContext forgotten = NULL;
	char	   *lists;
	const char **relnames;
	char	   *text;
	Size		size = stmt->ntables * (2 * sizeof(const char *) + 3 * sizeof(Oid));
	int			i;
	bool		found;

	if (bh_param_stmts != NULL && hash_get_num_entries(bh_param_stmts) >= BH_PARAM_STMTS_MAX)
	{
		forgotten = bh_param_stmts_old_cxt;
		bh_param_stmts_old = bh_param_stmts;
		bh_param_stmts_old_cxt = bh_param_stmts_cxt;
		bh_param_stmts = NULL;
	}
	if (bh_param_stmts == NULL)
	{
		HASHCTL		ctl;

		bh_param_stmts_cxt = AllocSetContextCreate(TopMemoryContext,
												   "bh_audit statements with parameters",
												   ALLOCSET_DEFAULT_SIZES);
		ctl.keysize = sizeof(uint64);
		ctl.entrysize = sizeof(BhParamStmt);
		ctl.hcxt = bh_param_stmts_cxt;
		bh_param_stmts = hash_create("bh_audit statements with parameters", 64, &ctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	/*
	 * the lists first: stmt's may be the very entry replaced; the pointers
	 * (actions, names), the OIDs (tables, tagged, named), the names' text
	 */
	for (i = 0; i < stmt->ntables; i++)
		if (stmt->relnames[i] != NULL)
			size += strlen(stmt->relnames[i]) + 1;
	lists = MemoryContextAlloc(bh_param_stmts_cxt, size);
	memcpy(lists, stmt->actions, stmt->ntables * sizeof(const char *));
	memcpy(lists + stmt->ntables * 2 * sizeof(const char *), stmt->tables,
		   stmt->ntables * sizeof(Oid));
	memcpy(lists + stmt->ntables * (2 * sizeof(const char *) + sizeof(Oid)), stmt->tagged,
		   stmt->ntables * sizeof(Oid));
	memcpy(lists + stmt->ntables * (2 * sizeof(const char *) + 2 * sizeof(Oid)), stmt->named,
		   stmt->ntables * sizeof(Oid));
	relnames = (const char **) lists + stmt->ntables;
	text = lists + stmt->ntables * (2 * sizeof(const char *) + 3 * sizeof(Oid));

	for (i = 0; i < stmt->ntables; i++)
	{
		relnames[i] = NULL;
		if (stmt->relnames[i] != NULL)
		{
			strcpy(text, stmt->relnames[i]);
			relnames[i] = text;
			text	  +=strlen(text) + 1;
		}
	}
	entry = hash_search(bh_param_stmts, &stmt->key, HASH_ENTER, &found);
	if (found)
		pfree(entry->lists);
	*entry = *stmt;
	entry->lists = lists;
	entry->actions = (const char *const *) lists;
	entry->relnames = relnames;
	entry->tables = (const Oid *) (lists + stmt->ntables * 2 * sizeof(const char *));
	entry->tagged = entry->tables + stmt->ntables;
	entry->named = entry->tagged + stmt->ntables;
	if (forgotten != NULL)
		MemoryContextDelete(forgotten);
}

/* The entry of a generation for this text, or NULL (allocates nothing). */
static const BhParamStmt *
bh_param_stmt_in(HTAB *generation, uint64 key, int len)
{
	BhParamStmt *entry;

	if (generation == NULL)
		return NULL;
	entry = hash_search(generation, &key, HASH_FIND, NULL);
	return (entry && entry->len == len) ? entry : NULL;
}

/* The noted statement of this text's key and length, or NULL (allocates nothing). */
static const BhParamStmt *
bh_param_stmt_of(uint64 key, int len)
{
	const BhParamStmt *entry = bh_param_stmt_in(bh_param_stmts, key, len);

	return entry ? entry : bh_param_stmt_in(bh_param_stmts_old, key, len);
}

/*
 * Note a client's statement with parameters, just analysed: the tagged
 * tables it names (or the ledger), each with the table carrying its tag,
 * the relation the text names for it and its action, then the other
 * relations it names (tagged InvalidOid), n in all; when it names no
 * tagged table now, it is noted only for a text that an earlier analysis
 * found naming one.  The name of each named relation that the tag cache
 * knows is noted with it (tagged, or reaching tagged relations or the
 * ledger).
 */
void
bh_param_stmt_note(const char *text, int n, const Oid *tables, const Oid *tagged,
				   const Oid *named, const char *const *actions)
{
	BhParamStmt stmt;
	const char **relnames;
	int			i;

	stmt.len = strlen(text);
	stmt.key = bh_text_key(text, stmt.len);
	stmt.named_none = true;
	for (i = 0; i < n; i++)
		stmt.named_none &= !OidIsValid(tagged[i]);
	stmt.ntables = n;
	stmt.tables = tables;
	stmt.tagged = tagged;
	stmt.named = named;
	stmt.actions = actions;
	if (stmt.named_none)
	{
		const BhParamStmt *earlier = bh_param_stmt_of(stmt.key, stmt.len);

		if (earlier == NULL)
			return;
		stmt.ntables = earlier->ntables;
		stmt.tables = earlier->tables;
		stmt.tagged = earlier->tagged;
		stmt.named = earlier->named;
		stmt.actions = earlier->actions;
		stmt.relnames = earlier->relnames;
	}
	else
	{
		relnames = palloc(n * sizeof(const char *));
		for (i = 0; i < n; i++)
		{
			const BhTag *tag = bh_tag_cached(named[i]);
			const BhTagView *view = bh_tags_through_cached(named[i], true);

			relnames[i] = !OidIsValid(tagged[i]) ? NULL :
				tag ? tag->relname : view ? view->relname : NULL;
		}
		stmt.relnames = relnames;
	}
	stmt.path_key = bh_path_key();
	stmt.user = GetUserId();
	stmt.names_generation = bh_tags_names_generation();
	bh_param_stmt_put(&stmt);
}

/* The noted statement whose text this is, or NULL (allocates nothing). */
const BhParamStmt *
bh_param_stmt_find(const char *text)
{
	int			len;

	if (bh_param_stmts == NULL || text == NULL)
		return NULL;
	len = strlen(text);
	return bh_param_stmt_of(bh_text_key(text, len), len);
}

/*
 * Was the noted statement's latest analysis made under the search_path, the
 * role and the names of tagged relations as they are now (allocates
 * nothing)?  Then what it found stands.
 */
bool
bh_param_stmt_current(const BhParamStmt *entry)
{
	return entry->path_key == bh_path_key() && entry->user == GetUserId() &&
		entry->names_generation == bh_tags_names_generation();
}

/* Did the noted statement's latest analysis find no tagged table? */
bool
bh_param_stmt_named_none(const BhParamStmt *entry)
{
	return entry->named_none;
}

/*
 * The tagged tables (or the ledger) that the latest analysis of the noted
 * statement to find any found, each with the table carrying its tag, the
 * relation the text names for it (itself, or the untagged partitioned
 * table it is reached through) and its action, then the other relations
 * it named (tagged InvalidOid; named itself), with the name the first
 * ones' named relation had (NULL for the others): returns their number.
 */
int
bh_param_stmt_tables(const BhParamStmt *entry, const Oid **tables, const Oid **tagged,
					 const Oid **named, const char *const **actions,
					 const char *const **relnames)
{
	*tables = entry->tables;
	*tagged = entry->tagged;
	*named = entry->named;
	*actions = entry->actions;
	*relnames = entry->relnames;
	return entry->ntables;
}

/*
 * A statement with parameters is about to run: if it is the client's and
 * was noted in the previous generation only, note it in the current one.
 * Costs nothing until a generation has filled up.  (At Bind the portal
 * holds a copy of the statement's text, so compare the texts.)
 */
void
bh_param_stmt_refresh(const char *text)
{
	int			len;
	uint64		key;
	const BhParamStmt *entry;
	BhParamStmt moved;

	if (bh_param_stmts_old == NULL || text == NULL || debug_query_string == NULL ||
		strcmp(text, debug_query_string) != 0)
		return;
	len = strlen(text);
	key = bh_text_key(text, len);
	if (bh_param_stmt_in(bh_param_stmts, key, len) != NULL ||
		(entry = bh_param_stmt_in(bh_param_stmts_old, key, len)) == NULL)
		return;
	moved = *entry;				/* entering it may forget the previous
								 * generation */
	bh_param_stmt_put(&moved);
}

/*
 * A byte of an unquoted name, downcased as PostgreSQL's lexer does
 * (downcase_identifier): ASCII letters, and in a single-byte server
 * encoding also the letters of the upper half that the locale calls upper
 * case.
 */
static char
bh_downcase_char(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return (char) (ch + ('a' - 'A'));
	if (IS_HIGHBIT_SET(ch) && pg_database_encoding_max_length() == 1 && isupper(ch))
		return (char) tolower(ch);
	return (char) ch;
}

/*
 * The place of schema nspname in the session's search_path as it is set now
 * (0: first), or -1 when the path does not hold it: where PostgreSQL looked
 * up a name the failing statement's text gives without its schema.  The
 * setting's text (namespace_search_path; a SET LOCAL's, a function's SET)
 * is split as PostgreSQL splits it (names separated by commas, each quoted
 * or else downcased, cut to NAMEDATALEN - 1 bytes), without reading the
 * catalog or allocating.  "$user" stands for the schema named as the role
 * the statement runs as, when that name is known without the catalog
 * (bh_current_user_known), else for none; the schemas PostgreSQL searches
 * without being told (pg_catalog, the session's temporary schema) hold no
 * tagged table.  Which schemas exist and which of them the role may use
 * is not known here: PostgreSQL skips the others.
 */
static int
bh_search_path_place(const char *nspname)
{
	const char *p = namespace_search_path;
	int			place;

	if (p == NULL)
		return -1;
	for (place = 0;; place++)
	{
		char		entry[NAMEDATALEN];
		int			n = 0;

		while (scanner_isspace(*p))
			p++;
		if (*p == '\0')
			return -1;			/* empty, or after a trailing comma */
		if (*p == '"')
		{
			for (p++; *p != '\0' && (*p != '"' || p[1] == '"'); p++)
			{
				if (*p == '"')
					p++;		/* "" stands for one quote */
				if (n < NAMEDATALEN - 1)
					entry[n++] = *p;
			}
			if (*p++ != '"')
				return -1;		/* unterminated: no name PostgreSQL took */
		}
		else
			for (; *p != '\0' && *p != ',' && !scanner_isspace(*p); p++)
				if (n < NAMEDATALEN - 1)
					entry[n++] = bh_downcase_char((unsigned char) *p);
		entry[pg_mbcliplen(entry, n, n)] = '\0';
		if (strcmp(entry, "$user") == 0)
		{
			const char *user = bh_current_user_known();

			if (user != NULL && strcmp(user, nspname) == 0)
				return place;
		}
		else if (strcmp(entry, nspname) == 0)
			return place;
		while (scanner_isspace(*p))
			p++;
		if (*p++ != ',')
			return -1;
	}
}

/*
 * Where a relation in schema nspname stands for a name that the text gives
 * with schema (or without one, schema ""): qualified, 0 if it is that
 * schema's; unqualified, its schema's place in the search_path
 * (bh_search_path_place).  -1: the name is not that relation's.
 */
int
bh_name_place(const char *nspname, const char *schema)
{
	if (schema[0] != '\0')
		return strcmp(nspname, schema) == 0 ? 0 : -1;
	return bh_search_path_place(nspname);
}

/*
 * The relation names of a statement's raw parse tree, in the order met (a
 * statement's target first), each with the command whose target it is
 * (CMD_SELECT: none; a statement's, or a data-modifying WITH query's), and
 * the names of the WITH queries in scope where the walk is.
 */
typedef struct BhRawNames
{
	List	   *rangevars;
	List	   *cmds;
	List	   *ctes;
} BhRawNames;

/*
 * A statement's WITH clause, and its target table (INSERT, UPDATE, DELETE,
 * MERGE) with its command.
 */
static WithClause *
bh_raw_with(Node *node, RangeVar **target, CmdType *cmd)
{
	*target = NULL;
	switch (nodeTag(node))
	{
		case T_SelectStmt:
			return ((SelectStmt *) node)->withClause;
		case T_InsertStmt:
			*target = ((InsertStmt *) node)->relation;
			*cmd = CMD_INSERT;
			return ((InsertStmt *) node)->withClause;
		case T_UpdateStmt:
			*target = ((UpdateStmt *) node)->relation;
			*cmd = CMD_UPDATE;
			return ((UpdateStmt *) node)->withClause;
		case T_DeleteStmt:
			*target = ((DeleteStmt *) node)->relation;
			*cmd = CMD_DELETE;
			return ((DeleteStmt *) node)->withClause;
		case T_MergeStmt:
			*target = ((MergeStmt *) node)->relation;
			*cmd = CMD_MERGE;
			return ((MergeStmt *) node)->withClause;
		default:
			return NULL;
	}
}

/*
 * Collect the names that parse analysis will look up as relations: a
 * statement's target always (a WITH query of the same name does not hide
 * it), any other name unless it is qualified or a WITH query in scope has
 * it (a WITH clause's names are in scope in its statement, its subqueries
 * included, not outside it, and in the WITH queries after each, or all of
 * them under RECURSIVE); FOR UPDATE OF names FROM items, not tables.
 */
static bool
bh_raw_names_walker(Node *node, BhRawNames *names)
{
	WithClause *with;
	RangeVar   *target;
	CmdType		cmd;
	ListCell   *lc;
	int			outer;
	bool		result;

	if (node == NULL || IsA(node, LockingClause))
		return false;
	if (IsA(node, RangeVar))
	{
		RangeVar   *rv = (RangeVar *) node;
		bool		is_cte = false;

		if (rv->schemaname == NULL)
			foreach(lc, names->ctes)
				is_cte |= strcmp(rv->relname, (char *) lfirst(lc)) == 0;
		if (!is_cte)
		{
			names->rangevars = lappend(names->rangevars, rv);
			names->cmds = lappend_int(names->cmds, CMD_SELECT);
		}
		return false;
	}
	with = bh_raw_with(node, &target, &cmd);
	if (target != NULL)
	{
		names->rangevars = lappend(names->rangevars, target);
		names->cmds = lappend_int(names->cmds, cmd);
	}
	if (with == NULL)
		return raw_expression_tree_walker(node, bh_raw_names_walker, (void *) names);
	outer = list_length(names->ctes);

	/*
	 * A WITH query's own query sees the names of the WITH queries before it,
	 * or, under WITH RECURSIVE, all of them; the statement sees all. (Walking
	 * the statement walks its WITH clause again, with more names in scope:
	 * that adds no name the walk above did not.)
	 */
	if (with->recursive)
		foreach(lc, with->ctes)
			names->ctes = lappend(names->ctes, lfirst_node(CommonTableExpr, lc)->ctename);
	foreach(lc, with->ctes)
	{
		CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);

		(void) bh_raw_names_walker(cte->ctequery, names);
		if (!with->recursive)
			names->ctes = lappend(names->ctes, cte->ctename);
	}
	result = raw_expression_tree_walker(node, bh_raw_names_walker, (void *) names);
	names->ctes = list_truncate(names->ctes, outer);
	return result;
}

/*
 * The relation a statement's name stands for now, as parse analysis would
 * find it (the search_path as set, the schemas the user may use), or
 * InvalidOid; raises no error of its own: a schema or relation that does
 * not exist, or a schema the user may not use, is PostgreSQL's to report
 * when it analyses the statement.
 */
static Oid
bh_rangevar_relid_now(const RangeVar *rv)
{
	Oid			nspid;

	if (rv->schemaname == NULL)
		return RelnameGetRelid(rv->relname);
	nspid = get_namespace_oid(rv->schemaname, true);
	return OidIsValid(nspid) ? get_relname_relid(rv->relname, nspid) : InvalidOid;
}

/*
 * Does the latest analysis of a prepared statement stand for its EXECUTE?
 * PostgreSQL analyses the statement again before planning it when it no
 * longer does: the search_path is not the one it was analysed under, or an
 * invalidation came (another tenant's request running a statement prepared
 * by this one's).
 */
bool
bh_prepared_analysis_stands(CachedPlanSource *plansource)
{
	return plansource->raw_parse_tree == NULL ||
		(plansource->is_valid &&
		 (plansource->search_path == NULL ||
		  OverrideSearchPathMatchesCurrent(plansource->search_path)));
}

/*
 * The relations a prepared statement whose latest analysis no longer
 * stands (bh_prepared_analysis_stands) names, as its EXECUTE will find
 * them: each relation name of its raw parse tree (bh_raw_names_walker, the
 * statement's target first) resolved under the search_path as it is now,
 * as the analysis PostgreSQL makes again will resolve it (InvalidOid for a
 * name that stands for none); *cmds gets, for each, the command whose
 * target it is (CMD_SELECT: none).
 */
List *
bh_prepared_relids_now(CachedPlanSource *plansource, List **cmds)
{
	BhRawNames	names = {NIL, NIL, NIL};
	List	   *relids = NIL;
	ListCell   *lc;

	(void) bh_raw_names_walker(plansource->raw_parse_tree->stmt, &names);
	foreach(lc, names.rangevars)
		relids = lappend_oid(relids, bh_rangevar_relid_now(lfirst_node(RangeVar, lc)));
	*cmds = names.cmds;
	return relids;
}
