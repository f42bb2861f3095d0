/*-------------------------------------------------------------------------
 *
 * tag_cache.h
 *		What tagging's SQL functions (tags.c) use of the tag cache
 *		(tag_cache.c) beyond tags.h: the catalog's rows as last loaded.
 *
 * A row from bh_tag_row() lives as long as the load it came from, as tags
 * do: it is not held across more than one call that may load the cache
 * again (a tag lookup, SQL run), but copied (tag_cache.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_TAG_CACHE_H
#define BH_AUDIT_TAG_CACHE_H

/* One row of bh_audit.tags. */
typedef struct BhTagRow
{
	Oid			tbl;
	char	   *resource_type;
	char	   *id_column;
	char	   *patient_column;
	char	   *classification;
	bool		part2;
	bool		capture_reads;
	bool		capture_writes;
} BhTagRow;

extern void bh_tags_ensure(void);
extern BhTagRow *bh_tag_row(Oid relid);
extern void bh_tags_rows_changed(Oid tags_relid);
extern char *bh_table_name_if_exists(Oid relid);

#endif							/* BH_AUDIT_TAG_CACHE_H */
