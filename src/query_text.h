/*-------------------------------------------------------------------------
 *
 * query_text.h
 *		Identifiers and the leading keyword of SQL text, without parsing.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_QUERY_TEXT_H
#define BH_AUDIT_QUERY_TEXT_H

extern bool bh_sql_next_qualified_name(const char **pos, char *schema, char *name);
extern const char *bh_sql_action(const char *sql);
extern bool bh_sql_is_truncate(const char *sql);
extern bool bh_sql_is_commit(const char *sql);

#endif							/* BH_AUDIT_QUERY_TEXT_H */
