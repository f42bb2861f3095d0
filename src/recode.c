/*-------------------------------------------------------------------------
 *
 * recode.c
 *		Converting an event's strings from the encoding of the database
 *		that captured it to the encoding of the sealer's database, and
 *		strings between the database encoding and UTF-8, without ever
 *		raising an error for their content; counting a string's code
 *		points in UTF-8, which the schema's lengths count.
 *
 * A ring record carries the encoding of its event's strings (ring.c): the
 * producer's database encoding, or PG_SQL_ASCII for bytes of unknown
 * encoding (a login's role and database names, as the client sent them).
 * When it is not the sealer's database encoding, the sealer rebuilds the
 * event with every string, keys and values, converted (bh_recode_jsonb);
 * an event in the sealer's own encoding is taken as it is, unless one of
 * its characters has no UTF-8 equivalent, which the canonical form needs:
 * the sealer then repairs it, each such character becoming '?' and every
 * other one kept byte for byte (a conversion to UTF-8 and back is not
 * always the identity: EUC_JP's NEC symbols come back as their JIS X 0208
 * twins, and a patient id so changed would no longer match the patient's
 * other events).
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
 * Backends convert too: the sanitiser works over UTF-8 (sanitize.c), also
 * for an error message recorded as its transaction aborts, when the
 * catalog cannot be read (PostgreSQL's own conversions look theirs up
 * there unless the target is the client's encoding).  So the conversions
 * are looked up once, early in a statement (bh_recode_warm), and called
 * through their cached FmgrInfo; one not looked up yet, outside a
 * transaction, is none: ASCII is kept, any other character becomes '?'.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "recode.h"

/* What replaces a character that cannot be converted. */
#define BH_RECODE_REPLACEMENT	'?'

/*
 * The default conversions of an encoding to and from UTF-8, looked up once
 * per process, their FmgrInfo kept in TopMemoryContext: calling them then
 * reads no catalog, which a conversion at abort cannot (the error message
 * of a failure recorded as its transaction aborts, sanitize.c).
 */
typedef struct BhRecodeProcs
{
	bool		looked_up;
	bool		has_to_utf8;
	bool		has_from_utf8;
	FmgrInfo	to_utf8;
	FmgrInfo	from_utf8;
} BhRecodeProcs;

static BhRecodeProcs bh_recode_cache[_PG_LAST_ENCODING_];

/* A lookup is under way (see bh_recode_procs). */
static bool bh_recode_looking_up = false;

/*
 * Look up encoding's conversions into p.  A function of its own, so that
 * bh_recode_procs() keeps no local variable across its PG_TRY (which some
 * compilations, e.g. with -fsanitize, warn might be clobbered by longjmp).
 */
static void
bh_recode_look_up(BhRecodeProcs *p, int encoding)
{
	Oid			to_utf8 = FindDefaultConversionProc(encoding, PG_UTF8);
	Oid			from_utf8 = FindDefaultConversionProc(PG_UTF8, encoding);

	p->has_to_utf8 = OidIsValid(to_utf8);
	if (p->has_to_utf8)
		fmgr_info_cxt(to_utf8, &p->to_utf8, TopMemoryContext);
	p->has_from_utf8 = OidIsValid(from_utf8);
	if (p->has_from_utf8)
		fmgr_info_cxt(from_utf8, &p->from_utf8, TopMemoryContext);
	p->looked_up = true;
}

/*
 * The conversions of encoding.  Outside a transaction, not looked up yet:
 * NULL (no conversion: see bh_recode_convert) rather than an error.  Also
 * NULL within a lookup: its search of the conversion's schemas calls the
 * namespace search hook, which warms (bh_recode_warm) and would look up
 * again, without end.
 */
static BhRecodeProcs *
bh_recode_procs(int encoding)
{
	if (!bh_recode_cache[encoding].looked_up)
	{
		if (!IsTransactionState() || bh_recode_looking_up)
			return NULL;
		bh_recode_looking_up = true;
		PG_TRY();
		{
			bh_recode_look_up(&bh_recode_cache[encoding], encoding);
		}
		PG_FINALLY();
		{
			bh_recode_looking_up = false;
		}
		PG_END_TRY();
	}
	return &bh_recode_cache[encoding];
}

/*
 * Look up the conversions of the database encoding while the catalog can
 * be read (early in a statement, bh_capture_read_warm()), for the abort
 * path.
 */
void
bh_recode_warm(void)
{
	int			encoding = GetDatabaseEncoding();

	if (encoding != PG_UTF8 && encoding != PG_SQL_ASCII)
		(void) bh_recode_procs(encoding);
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
		int			l = bh_recode_utf8_seq(s + i, len - i);

		if (l > 0)
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
 * The bytes of the longest prefix of s[0..len), a SQL_ASCII database's
 * bytes, that has at most maxchars code points as the canonical form reads
 * them (bh_recode_utf8_bytes(): a valid UTF-8 sequence is one, and so is
 * each other byte, which becomes U+FFFD), and its code points in *chars.
 * A prefix so cut ends at a character: what followed a byte that starts no
 * sequence never made it one.
 */
static int
bh_recode_sql_ascii_clip(const char *s, int len, int maxchars, int *chars)
{
	int			i = 0;
	int			n = 0;

	while (i < len && n < maxchars)
	{
		int			l = bh_recode_utf8_seq(s + i, len - i);

		i += (l > 0) ? l : 1;
		n++;
	}
	*chars = n;
	return i;
}

/*
 * Append s[0..len), in encoding src, to out converted by proc to dst; a
 * character proc stops at (invalid, or not representable) becomes '?'.
 * proc is NULL when there is no conversion: ASCII is kept, any other
 * character is replaced.  keep: append the source's own bytes of what
 * converts, not the converted ones (a string checked against its
 * conversion: a conversion to UTF-8 and back is not always the identity).
 */
static void
bh_recode_convert(StringInfo out, const char *s, int len, int src, int dst,
				  FmgrInfo *proc, bool keep)
{
	/* room for the whole rest at the largest growth: never cut short */
	int			buflen = len * MAX_CONVERSION_GROWTH + 2;
	unsigned char *buf = palloc(buflen);
	int			i = 0;

	while (i < len)
	{
		int			done = 0;
		int			l;

		if (proc != NULL)
		{
			/*
			 * pg_do_encoding_conversion_buf() with the cached FmgrInfo (that
			 * function looks the procedure up by its Oid); buf has room for
			 * len - i bytes at the largest growth.
			 */
			done = DatumGetInt32(FunctionCall6(proc,
											   Int32GetDatum(src),
											   Int32GetDatum(dst),
											   CStringGetDatum(s + i),
											   CStringGetDatum((char *) buf),
											   Int32GetDatum(len - i),
											   BoolGetDatum(true)));
			if (keep)
				appendBinaryStringInfo(out, s + i, done);
			else
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
	BhRecodeProcs *procs;

	if (!PG_VALID_BE_ENCODING(from_encoding))
		from_encoding = PG_SQL_ASCII;
	if (!PG_VALID_BE_ENCODING(to_encoding))
		to_encoding = PG_SQL_ASCII;

	/*
	 * From an encoding to itself (the sealer's repair): each character that
	 * has a UTF-8 equivalent is kept as it is, byte for byte, each other one
	 * becomes '?'.
	 */
	if (from_encoding == to_encoding && from_encoding != PG_UTF8 &&
		from_encoding != PG_SQL_ASCII)
	{
		procs = bh_recode_procs(from_encoding);
		initStringInfo(&out);
		bh_recode_convert(&out, s, len, from_encoding, PG_UTF8,
						  procs != NULL && procs->has_to_utf8 ? &procs->to_utf8 : NULL,
						  true);
		*out_len = out.len;
		return out.data;
	}

	/* to UTF-8 first */
	initStringInfo(&utf8);
	if (from_encoding == PG_SQL_ASCII)
		bh_recode_utf8_bytes(&utf8, s, len, BH_UTF8_REPLACEMENT_CHAR);
	else if (from_encoding == PG_UTF8)
		bh_recode_utf8_bytes(&utf8, s, len, "?");
	else
	{
		procs = bh_recode_procs(from_encoding);
		bh_recode_convert(&utf8, s, len, from_encoding, PG_UTF8,
						  procs != NULL && procs->has_to_utf8 ? &procs->to_utf8 : NULL,
						  false);
	}
	if (to_encoding == PG_UTF8 || to_encoding == PG_SQL_ASCII)
	{
		*out_len = utf8.len;
		return utf8.data;
	}

	/* then to the target */
	initStringInfo(&out);
	procs = bh_recode_procs(to_encoding);
	bh_recode_convert(&out, utf8.data, utf8.len, PG_UTF8, to_encoding,
					  procs != NULL && procs->has_from_utf8 ? &procs->from_utf8 : NULL,
					  false);
	pfree(utf8.data);
	*out_len = out.len;
	return out.data;
}

/*
 * s[0..len), in the database's encoding, as UTF-8 (palloc'd,
 * NUL-terminated); a character without an equivalent, or a byte that is
 * none (SQL_ASCII), becomes a replacement character.  Raises nothing for
 * the content, and reads no catalog once bh_recode_warm() ran.
 */
char *
bh_recode_server_to_utf8(const char *s, int len)
{
	int			out_len;

	return bh_recode_string(s, len, GetDatabaseEncoding(), PG_UTF8, &out_len);
}

/*
 * s[0..len), UTF-8, in the database's encoding (palloc'd, NUL-terminated);
 * a character the encoding lacks becomes '?'.  Raises nothing for the
 * content, and reads no catalog once bh_recode_warm() ran.
 */
char *
bh_recode_utf8_to_server(const char *s, int len)
{
	int			out_len;

	return bh_recode_string(s, len, PG_UTF8, GetDatabaseEncoding(), &out_len);
}

/*
 * s[0..len), bytes meant as text of the database's encoding, with each
 * byte that starts no valid character of it replaced, as a SQL_ASCII
 * event's bytes are (bh_recode_utf8_bytes): by U+FFFD in a UTF-8
 * database, by '?' in another (U+FFFD is not one of its characters); a
 * SQL_ASCII database's bytes are kept, the canonical form repairs them.
 * Returns a palloc'd string, NUL-terminated.  A character without a UTF-8
 * equivalent is kept: the sealer repairs it, as any other.
 */
char *
bh_recode_server_repair(const char *s, int len)
{
	int			encoding = GetDatabaseEncoding();
	StringInfoData out;
	int			i = 0;

	initStringInfo(&out);
	if (encoding == PG_UTF8)
		bh_recode_utf8_bytes(&out, s, len, BH_UTF8_REPLACEMENT_CHAR);
	else if (encoding == PG_SQL_ASCII)
		appendBinaryStringInfo(&out, s, len);
	else
	{
		while (i < len)
		{
			int			l = pg_encoding_verifymbchar(encoding, s + i, len - i);

			if (l > 0 && s[i] != '\0')
				appendBinaryStringInfo(&out, s + i, l);
			else
			{
				appendStringInfoChar(&out, BH_RECODE_REPLACEMENT);
				l = 1;
			}
			i += l;
		}
	}
	return out.data;
}

/*
 * The code points of UTF-8 bytes s[0..len): the bytes that start one.
 * Eight bytes without a high bit are eight code points.
 */
int
bh_recode_utf8_chars(const char *s, int len)
{
	int			n = 0;
	int			i = 0;

	for (; i + 8 <= len; i += 8)
	{
		uint64		w;
		int			j;

		memcpy(&w, s + i, 8);
		if ((w & UINT64CONST(0x8080808080808080)) == 0)
			n += 8;
		else
			for (j = i; j < i + 8; j++)
				if ((s[j] & 0xC0) != 0x80)
					n++;
	}
	for (; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/*
 * The code points s[0..len), in the database's encoding, has in UTF-8,
 * which the schema's maxLength counts: in a database that is not UTF-8,
 * one character may be two (EUC_JIS_2004 0xA4F7 is U+304B U+309A), each
 * character without a UTF-8 equivalent is one ('?').  A SQL_ASCII
 * database's bytes are read as the canonical form reads them: a valid
 * UTF-8 sequence is one code point, and so is each other byte (U+FFFD).
 */
int
bh_recode_server_chars(const char *s, int len)
{
	int			encoding = GetDatabaseEncoding();
	char	   *utf8;
	int			n;
	int			i;

	if (encoding == PG_UTF8)
		return bh_recode_utf8_chars(s, len);
	/* ASCII, as most ids are: a code point per byte, nothing to convert */
	for (i = 0; i < len && !IS_HIGHBIT_SET(s[i]); i++)
		;
	if (i == len)
		return len;
	if (encoding == PG_SQL_ASCII)
	{
		(void) bh_recode_sql_ascii_clip(s + i, len - i, INT_MAX, &n);
		return i + n;
	}
	utf8 = bh_recode_server_to_utf8(s, len);
	n = bh_recode_utf8_chars(utf8, strlen(utf8));
	pfree(utf8);
	return n;
}

/*
 * The bytes of the longest prefix of s[0..len), in the database's
 * encoding, made of whole characters that have at most maxchars code
 * points in UTF-8 (see bh_recode_server_chars; in a UTF-8 database, each
 * character is one, in a SQL_ASCII database each valid UTF-8 sequence and
 * each other byte).  Each character that is not ASCII is converted on its
 * own: a conversion from the database encoding to UTF-8 maps a character
 * to the same code points wherever it stands.
 */
int
bh_recode_server_clip(const char *s, int len, int maxchars)
{
	int			encoding = GetDatabaseEncoding();
	bool		convert = (encoding != PG_UTF8);
	BhRecodeProcs *procs;
	FmgrInfo   *proc;
	StringInfoData utf8;
	int			chars = 0;
	int			i = 0;

	if (encoding == PG_SQL_ASCII)
		return bh_recode_sql_ascii_clip(s, strnlen(s, len), maxchars, &chars);
	procs = convert ? bh_recode_procs(encoding) : NULL;
	proc = (procs != NULL && procs->has_to_utf8) ? &procs->to_utf8 : NULL;
	initStringInfo(&utf8);
	while (i < len && s[i] != '\0')
	{
		int			l = pg_mblen(s + i);
		int			n = 1;

		if (l > len - i)
			break;
		if (convert && IS_HIGHBIT_SET(s[i]))
		{
			resetStringInfo(&utf8);
			bh_recode_convert(&utf8, s + i, l, encoding, PG_UTF8, proc, false);
			n = bh_recode_utf8_chars(utf8.data, utf8.len);
		}
		if (chars + n > maxchars)
			break;
		chars += n;
		i += l;
	}
	pfree(utf8.data);
	return i;
}

/*
 * The event jb with every string, keys and values, converted from
 * from_encoding to to_encoding.  From an encoding to itself, each
 * character without a UTF-8 equivalent becomes '?', every other one is
 * kept as it is: the sealer's repair of an event its canonical form cannot
 * take (sealer.c).  Keys are repaired too: emit() refuses a metadata key
 * with such a character, so only a queue row written by other means has
 * one.
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
