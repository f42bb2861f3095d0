/*-------------------------------------------------------------------------
 *
 * id_text.h
 *		Ids of tagged columns, and names, as text independent of session
 *		settings.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_ID_TEXT_H
#define BH_AUDIT_ID_TEXT_H

#include "fmgr.h"

/* How one tagged column's values become ids. */
typedef struct BhIdOutput
{
	FmgrInfo	fn;				/* the type's output function */
	int			settings;		/* BH_ID_* settings its output depends on */
	bool		trim_blanks;	/* character(n): trailing blanks dropped */
	bool		sliceable;		/* text, varchar, bytea: its text's start is
								 * that of its first bytes' */
} BhIdOutput;

/* Settings a type's output may depend on, fixed while an id is printed. */
#define BH_ID_DATETIME	0x01	/* DateStyle, IntervalStyle, TimeZone */
#define BH_ID_FLOAT		0x02	/* extra_float_digits */
#define BH_ID_BYTEA		0x04	/* bytea_output */
#define BH_ID_MONEY		0x08	/* lc_monetary */
#define BH_ID_PATH		0x10	/* search_path, quote_all_identifiers (names
								 * of catalog objects) */
#define BH_ID_ALL		(BH_ID_DATETIME | BH_ID_FLOAT | BH_ID_BYTEA | BH_ID_MONEY | BH_ID_PATH)

extern void bh_id_output_init(BhIdOutput *out, Oid typid, MemoryContext cxt);
extern void bh_id_output_copy(BhIdOutput *dst, const BhIdOutput *src, MemoryContext cxt);
extern char *bh_id_text(const BhIdOutput *out, Datum value);
extern const char *bh_name_text(const char *ident);
extern char *bh_qualified_name_text(const char *schema, const char *ident);
extern char *bh_type_name_text(Oid typid);

#endif							/* BH_AUDIT_ID_TEXT_H */
