/*-------------------------------------------------------------------------
 *
 * id_text.c
 *		Ids of tagged columns, and names, as text independent of session
 *		settings.
 *
 * An event names a row and its patient by the text of the tagged columns'
 * values.  For most types that text is the value's one spelling; for
 * date/time types it follows DateStyle, IntervalStyle and TimeZone, for
 * floats extra_float_digits, for bytea bytea_output, for money lc_monetary
 * and for the reg* types (regclass, ...) search_path and
 * quote_all_identifiers, so one row would get as many ids as its readers
 * have settings, and access review by patient would miss all but one.
 * Such values are printed under fixed settings (ISO, postgres, UTC, 1,
 * hex, C, an empty search_path: names schema-qualified unless in
 * pg_catalog, and quote_all_identifiers off), set for the call only (a
 * GUC nest level, as postgres_fdw sends values to a remote server); types
 * whose output does not depend on settings (the integer, numeric, text
 * and uuid types the docs recommend) are printed directly.  A type not
 * known here (a composite, a range, an extension's type) is printed under
 * all of them.  A character(n) value loses the blanks that pad it, as its
 * cast to text does: access review asks for 'p1', not 'p1' and six
 * blanks.
 *
 * An event keeps an id's first 256 characters (the schema's limit), so a
 * text, varchar or bytea value longer than BH_ID_SLICE_BYTES is printed
 * from its first bytes only: a value of hundreds of megabytes would
 * otherwise be printed whole for every row read or written (and a bytea of
 * more than 512 MB, printed as hex, would pass PostgreSQL's 1 GB limit and
 * fail every statement on the table).
 *
 * The names in events (tables, columns, a function's signature) are quoted
 * as quote_identifier() quotes with quote_all_identifiers off, where SQL
 * needs it only: that setting is any role's to change in its session, and
 * a table named "clinic"."notes" in one event and clinic.notes in another
 * is missed by a review of either.  The names are cached (the tag cache, the changed
 * columns' slots), so the setting is switched off around the call itself,
 * not through the GUC machinery.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "id_text.h"

/*
 * More bytes than 256 characters take in any server encoding (4 bytes at
 * most each), and than the hex of 256 bytea characters.
 */
#define BH_ID_SLICE_BYTES 4096

/* The settings the output of typid depends on (BH_ID_*). */
static int
bh_id_settings(Oid typid)
{
	Oid			elem;

	typid = getBaseType(typid);
	elem = get_element_type(typid);
	if (OidIsValid(elem))
		return bh_id_settings(elem);
	switch (typid)
	{
		case BOOLOID:
		case CHAROID:
		case NAMEOID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case NUMERICOID:
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case UUIDOID:
		case JSONOID:
		case JSONBOID:
		case INETOID:
		case CIDROID:
		case MACADDROID:
		case MACADDR8OID:
		case BITOID:
		case VARBITOID:
			return 0;
		case DATEOID:
		case TIMEOID:
		case TIMETZOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case INTERVALOID:
			return BH_ID_DATETIME;
		case FLOAT4OID:
		case FLOAT8OID:
			return BH_ID_FLOAT;
		case BYTEAOID:
			return BH_ID_BYTEA;
		case CASHOID:
			return BH_ID_MONEY;
		case REGPROCOID:
		case REGPROCEDUREOID:
		case REGOPEROID:
		case REGOPERATOROID:
		case REGCLASSOID:
		case REGCOLLATIONOID:
		case REGTYPEOID:
		case REGCONFIGOID:
		case REGDICTIONARYOID:
		case REGNAMESPACEOID:
		case REGROLEOID:
			return BH_ID_PATH;
	}
	if (type_is_enum(typid))
		return 0;
	return BH_ID_ALL;
}

/* Set up out for the values of type typid (fn's memory in cxt). */
void
bh_id_output_init(BhIdOutput *out, Oid typid, MemoryContext cxt)
{
	Oid			typoutput;
	bool		isvarlena;

	getTypeOutputInfo(typid, &typoutput, &isvarlena);
	fmgr_info_cxt(typoutput, &out->fn, cxt);
	out->settings = bh_id_settings(typid);
	out->trim_blanks = (getBaseType(typid) == BPCHAROID);
	out->sliceable = (getBaseType(typid) == TEXTOID || getBaseType(typid) == VARCHAROID ||
					  getBaseType(typid) == BYTEAOID);
}

/* A copy of src in cxt (the tag cache may be rebuilt while dst is used). */
void
bh_id_output_copy(BhIdOutput *dst, const BhIdOutput *src, MemoryContext cxt)
{
	fmgr_info_copy(&dst->fn, (FmgrInfo *) &src->fn, cxt);
	dst->settings = src->settings;
	dst->trim_blanks = src->trim_blanks;
	dst->sliceable = src->sliceable;
}

/* text without the blanks that pad a character(n) value */
static char *
bh_id_trimmed(char *text)
{
	int			len = strlen(text);

	while (len > 0 && text[len - 1] == ' ')
		len--;
	text[		len] = '\0';
	return text;
}

/* Fix one setting for the current GUC nest level. */
static void
bh_id_fix(const char *name, const char *value)
{
	(void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/* The id text of value (not NULL), palloc'd. */
char *
bh_id_text(const BhIdOutput *out, Datum value)
{
	int			nest;
	char	   *text;

	if (out->sliceable &&
		toast_raw_datum_size(value) - VARHDRSZ > BH_ID_SLICE_BYTES)
	{
		int			len;

		value = PointerGetDatum(PG_DETOAST_DATUM_SLICE(value, 0, BH_ID_SLICE_BYTES));
		text = bh_id_text(out, value);

		/* a character the slice cut in two is left out (bytea's hex has none) */
		len = strlen(text);
		text[		pg_mbcliplen(text, len, len)] = '\0';
		return text;
	}
	if (out->settings == 0)
	{
		text = OutputFunctionCall((FmgrInfo *) &out->fn, value);
		return out->trim_blanks ? bh_id_trimmed(text) : text;
	}

	/*
	 * The settings come back at the end of the nest level; an error in
	 * between is unwound with the (sub)transaction, as for a function's SET
	 * clause.
	 */
	nest = NewGUCNestLevel();
	if (out->settings & BH_ID_DATETIME)
	{
		bh_id_fix("datestyle", "ISO, YMD");
		bh_id_fix("intervalstyle", "postgres");
		bh_id_fix("timezone", "UTC");
	}
	if (out->settings & BH_ID_FLOAT)
		bh_id_fix("extra_float_digits", "1");
	if (out->settings & BH_ID_BYTEA)
		bh_id_fix("bytea_output", "hex");
	if (out->settings & BH_ID_MONEY)
		bh_id_fix("lc_monetary", "C");
	if (out->settings & BH_ID_PATH)
	{
		bh_id_fix("search_path", "");
		bh_id_fix("quote_all_identifiers", "off");
	}
	text = OutputFunctionCall((FmgrInfo *) &out->fn, value);

	AtEOXact_GUC(true, nest);
	return text;
}

/*
 * The text of a name as events write it (see above): typid's, if valid,
 * schema-qualified as format_type_be_qualified() prints it; else ident,
 * qualified by schema if not NULL.  palloc'd, or ident itself.
 */
static char *
bh_fixed_quoting(const char *schema, const char *ident, Oid typid)
{
	bool		save = quote_all_identifiers;
	char	   *volatile name = NULL;

	quote_all_identifiers = false;
	PG_TRY();
	{
		if (OidIsValid(typid))
			name = format_type_be_qualified(typid);
		else if (schema != NULL)
			name = quote_qualified_identifier(schema, ident);
		else
			name = unconstify(char *, quote_identifier(ident));
	}
	PG_FINALLY();
	{
		quote_all_identifiers = save;
	}
	PG_END_TRY();
	return name;
}

/* A column's (or other object's) name as events write it. */
const char *
bh_name_text(const char *ident)
{
	return bh_fixed_quoting(NULL, ident, InvalidOid);
}

/* "schema.name" as events write it. */
char *
bh_qualified_name_text(const char *schema, const char *ident)
{
	return bh_fixed_quoting(schema, ident, InvalidOid);
}

/* A type's name, schema-qualified, as events write it. */
char *
bh_type_name_text(Oid typid)
{
	return bh_fixed_quoting(NULL, NULL, typid);
}
