/*-------------------------------------------------------------------------
 *
 * recode.c
 *		Converting an event's strings from the encoding of the database
 *		that captured it to the encoding of the sealer's database, without
 *		ever raising an error for their content.
 *
 * A ring record carries the encoding of its event's strings (ring.c): the
 * producer's database encoding, or PG_SQL_ASCII for bytes of unknown
 * encoding (a login's role and database names, as the client sent them).
 * When it is not the sealer's database encoding, the sealer rebuilds the
 * event with every string, keys and values, converted (bh_recode_jsonb);
 * an event in the sealer's own encoding is taken as it is, unless one of
 * its characters has no UTF-8 equivalent, which the canonical form needs:
 * the sealer then converts it from that encoding to itself, through UTF-8
 * by the same rules.
 *
 * The rules, for each string:
 *	- from PG_SQL_ASCII (unknown bytes): a valid UTF-8 sequence is taken as
 *	  the character it encodes, any other byte as U+FFFD, the replacement
 *	  character (as the canonical form of a SQL_ASCII database takes them,
 *	  canon.c);
 *	- from any other encoding: each character is converted through UTF-8,
 *	  by PostgreSQL's default conversions;
 *	- a byte sequence that is not valid in the source encoding, a
 *	  character of it without a UTF-8 equivalent (EUC_JP 0xA9A1, WIN1258
 *	  0x81), and a character that the target encoding cannot represent
 *	  (U+FFFD included, in LATIN1 say), become '?', which every server
 *	  encoding has;
 *	- to PG_SQL_ASCII: the UTF-8 bytes (the canonical form of a SQL_ASCII
 *	  database reads its strings as UTF-8).
 * The conversion functions are called in their noError mode, which stops
 * at the first character they cannot convert instead of raising: the
 * character is replaced and the conversion goes on after it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/jsonb.h"

#include "recode.h"

/* What replaces a character that cannot be converted. */
#define BH_RECODE_REPLACEMENT	'?'

/* Default conversion procedures to and from UTF-8, looked up once. */
static Oid	bh_recode_to_utf8[_PG_LAST_ENCODING_];
static Oid	bh_recode_from_utf8[_PG_LAST_ENCODING_];
static bool bh_recode_looked_up[_PG_LAST_ENCODING_];

/* The conversion procedures of encoding (InvalidOid where there is none). */
static void
bh_recode_procs(int encoding, Oid *to_utf8, Oid *from_utf8)
{
	if (!bh_recode_looked_up[encoding])
	{
		bh_recode_to_utf8[encoding] = FindDefaultConversionProc(encoding, PG_UTF8);
		bh_recode_from_utf8[encoding] = FindDefaultConversionProc(PG_UTF8, encoding);
		bh_recode_looked_up[encoding] = true;
	}
	*to_utf8 = bh_recode_to_utf8[encoding];
	*from_utf8 = bh_recode_from_utf8[encoding];
}

/*
 * Append UTF-8 bytes s[0..len) to out, each byte that starts no valid
 * UTF-8 sequence replaced by bad (also the canonical form's repair of a
 * SQL_ASCII database's strings, canon.c).
 */
void
bh_recode_utf8_bytes(StringInfo out, const char *s, int len, const char *bad)
{
	int			i = 0;

	while (i < len)
	{
		const unsigned char *p = (const unsigned char *) s + i;
		int			l = pg_utf_mblen(p);

		if (*p != 0 && l <= len - i && pg_utf8_islegal(p, l))
		{
			appendBinaryStringInfo(out, s + i, l);
			i += l;
		}
		else
		{
			appendStringInfoString(out, bad);
			i++;
		}
	}
}

/*
 * Append s[0..len), in encoding src, to out converted by proc to dst; a
 * character proc stops at (invalid, or not representable) becomes '?'.
 * proc is InvalidOid when there is no conversion: ASCII is kept, any other
 * byte is replaced.
 */
static void
bh_recode_convert(StringInfo out, const char *s, int len, int src, int dst, Oid proc)
{
	/* room for the whole rest at the largest growth: never cut short */
	int			buflen = len * MAX_CONVERSION_GROWTH + 2;
	unsigned char *buf = palloc(buflen);
	int			i = 0;

	while (i < len)
	{
		int			done = 0;
		int			l;

		if (OidIsValid(proc))
		{
			done = pg_do_encoding_conversion_buf(proc, src, dst,
												 (unsigned char *) s + i, len - i,
												 buf, buflen, true);
			appendBinaryStringInfo(out, (char *) buf, strlen((char *) buf));
		}
		else
		{
			while (i + done < len && !IS_HIGHBIT_SET(s[i + done]) && s[i + done] != 0)
				done++;
			appendBinaryStringInfo(out, s + i, done);
		}
		i += done;
		if (i >= len)
			break;
		/* stopped at a character it cannot convert: skip it */
		appendStringInfoChar(out, BH_RECODE_REPLACEMENT);
		l = pg_encoding_verifymbchar(src, s + i, len - i);
		i += (l > 0) ? l : 1;
	}
	pfree(buf);
}

/*
 * s[0..len), in encoding from, converted to encoding to (see the header
 * comment).  Returns a palloc'd string, NUL-terminated, of *out_len bytes;
 * raises nothing for the content.
 */
static char *
bh_recode_string(const char *s, int len, int from_encoding, int to_encoding,
				 int *out_len)
{
	StringInfoData utf8;
	StringInfoData out;
	Oid			to_utf8;
	Oid			from_utf8;

	if (!PG_VALID_BE_ENCODING(from_encoding))
		from_encoding = PG_SQL_ASCII;
	if (!PG_VALID_BE_ENCODING(to_encoding))
		to_encoding = PG_SQL_ASCII;

	/* to UTF-8 first */
	initStringInfo(&utf8);
	if (from_encoding == PG_SQL_ASCII)
		bh_recode_utf8_bytes(&utf8, s, len, BH_UTF8_REPLACEMENT_CHAR);
	else if (from_encoding == PG_UTF8)
		bh_recode_utf8_bytes(&utf8, s, len, "?");
	else
	{
		bh_recode_procs(from_encoding, &to_utf8, &from_utf8);
		bh_recode_convert(&utf8, s, len, from_encoding, PG_UTF8, to_utf8);
	}
	if (to_encoding == PG_UTF8 || to_encoding == PG_SQL_ASCII)
	{
		*out_len = utf8.len;
		return utf8.data;
	}

	/* then to the target */
	initStringInfo(&out);
	bh_recode_procs(to_encoding, &to_utf8, &from_utf8);
	bh_recode_convert(&out, utf8.data, utf8.len, PG_UTF8, to_encoding, from_utf8);
	pfree(utf8.data);
	*out_len = out.len;
	return out.data;
}

/*
 * s, in the database's encoding, as UTF-8 (palloc'd); a character without
 * an equivalent, or a byte that is none (SQL_ASCII), becomes a replacement
 * character.  Raises nothing for the content.
 */
char *
bh_recode_server_to_utf8(const char *s)
{
	int			len;

	return bh_recode_string(s, strlen(s), GetDatabaseEncoding(), PG_UTF8, &len);
}

/*
 * The event jb with every string, keys and values, converted from
 * from_encoding to to_encoding.  From an encoding to itself, the strings
 * go through UTF-8 and back, each character without a UTF-8 equivalent
 * becoming '?': the sealer's repair of an event its canonical form cannot
 * take (sealer.c).
 */
Jsonb *
bh_recode_jsonb(Jsonb *jb, int from_encoding, int to_encoding)
{
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	v;
	JsonbParseState *state = NULL;
	JsonbValue *res = NULL;

	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		if ((tok == WJB_KEY || tok == WJB_VALUE || tok == WJB_ELEM) &&
			v.type == jbvString)
		{
			int			len;

			v.val.string.val = bh_recode_string(v.val.string.val, v.val.string.len,
												from_encoding, to_encoding, &len);
			v.val.string.len = len;
		}
		if (tok == WJB_KEY || tok == WJB_VALUE || tok == WJB_ELEM ||
			(tok == WJB_BEGIN_ARRAY && v.val.array.rawScalar))
			res = pushJsonbValue(&state, tok, &v);
		else
			res = pushJsonbValue(&state, tok, NULL);
	}
	return JsonbValueToJsonb(res);
}
