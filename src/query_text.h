/*-------------------------------------------------------------------------
 *
 * query_text.h
 *		Identifiers and the leading keyword of SQL text, without parsing.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_QUERY_TEXT_H
#define BH_AUDIT_QUERY_TEXT_H

/* a name's place as a keyword (bh_sql_next_qualified_name) */
typedef enum BhSqlPlace
{
	BH_SQL_NO_KEYWORD,			/* quoted or qualified */
	BH_SQL_WORD,
	BH_SQL_LEADING				/* starts a statement or a WITH query's body */
} BhSqlPlace;

extern bool bh_sql_next_qualified_name(const char **pos, char *schema, char *name,
									   const char *start, BhSqlPlace *place);
extern const char *bh_sql_action(const char *sql);
extern const char *bh_sql_target_action(const char *word1, BhSqlPlace place1,
										const char *word2, BhSqlPlace place2);
extern bool bh_sql_is_truncate(const char *sql);
extern const char *bh_sql_copy_action(const char *sql);
extern bool bh_sql_is_copy(const char *sql);
extern bool bh_sql_is_commit(const char *sql);
extern bool bh_sql_no_statement(const char *sql);
extern bool bh_sql_statement_at(const char *sql, int offset, int *start, int *end);

#endif							/* BH_AUDIT_QUERY_TEXT_H */
