/*-------------------------------------------------------------------------
 *
 * sanitize.c
 *		PHI-safe error messages and the metadata rules.
 *
 * Error messages.  bh_sanitize_error_message() reproduces the sanitiser of
 * bh-audit-logger exactly, as Python 3 runs it on a str:
 *
 *		s = message.strip()
 *		s = re.sub(r"\s+", " ", s)
 *		s = re.sub(r"\b\d{3}-\d{2}-\d{4}\b", "[REDACTED-SSN]", s)
 *		s = re.sub(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b",
 *				   "[REDACTED-EMAIL]", s)
 *		s = re.sub(r"\b\d{3}[-.\s]?\d{3}[-.\s]?\d{4}\b", "[REDACTED-PHONE]", s)
 *		s = re.sub(r"\b\d{10,}\b", "[REDACTED-ID]", s)
 *		if len(s) > max_len: s = s[:max_len - 3] + "..."
 *
 * PostgreSQL's regex engine cannot stand in for Python's: its \d, \s and
 * \b follow the locale, Python's follow the Unicode database (\d is any
 * decimal digit, category Nd; \s is str.isspace(); \w is str.isalnum() or
 * "_", and \b sits between a \w and a non-\w character or the end of the
 * string).  So the message is decoded to code points, classified with
 * tables generated from Python's own unicodedata (sanitize_tables.h, made
 * by test/gen_sanitize_tables.py), and each pattern is matched by hand.
 * Every pass scans left to right like re.sub: try a match at position i;
 * on success emit the marker and resume at the end of the match, else copy
 * the character and try i + 1; word boundaries are judged on the pass's
 * input.  The match routines reproduce the backtracking of these specific
 * patterns (see each one); all four run in linear time.  Bytes that are
 * not valid UTF-8 (possible only in a SQL_ASCII database) are carried
 * through unchanged as characters of no class; other server encodings are
 * converted to UTF-8 and back (recode.c: without raising, a character
 * without an equivalent as '?', and without the catalog, for the abort
 * path).
 *
 * Metadata.  bh_metadata_push() builds an event's metadata: the keys the
 * extension sets itself (db_user, db_role and the event's own keys) always, then
 * the caller's keys that pass the rules: listed in
 * bh_audit.metadata_allowlist, scalar value, within the schema's 20 keys.
 * String values longer than bh_audit.max_metadata_value_length are cut to
 * it, ending in "...".  Anything dropped is counted in one WARNING per
 * event that gives the numbers and reasons, never a key or a value: a key
 * can carry PHI as well as a value.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "bh_audit.h"
#include "event.h"
#include "recode.h"
#include "sanitize.h"

/* An inclusive range of code points, for the generated tables. */
typedef struct BhCodeRange
{
	uint32		lo;
	uint32		hi;
} BhCodeRange;

#include "sanitize_tables.h"

/* Character classes of Python's re (bits of a class byte). */
#define BH_CLS_WORD		0x01	/* \w: str.isalnum() or "_" */
#define BH_CLS_DIGIT	0x02	/* \d: str.isdecimal() */
#define BH_CLS_SPACE	0x04	/* \s: str.isspace() */

/* Invalid UTF-8 bytes are carried as BH_RAW_BYTE + byte: no class. */
#define BH_RAW_BYTE		0x110000

/* Settings; see bh_sanitize_init(). */
int			bh_error_message_max_len = 200;
int			bh_error_message_mode = BH_ERRMSG_SANITIZE;
int			bh_max_metadata_value_length = 200;
char	   *bh_metadata_allowlist = NULL;

static const struct config_enum_entry bh_error_message_mode_options[] = {
	{"sanitize", BH_ERRMSG_SANITIZE, false},
	{"omit", BH_ERRMSG_OMIT, false},
	{NULL, 0, false}
};

/* Define the settings of the sanitiser and the metadata rules. */
void
bh_sanitize_init(void)
{
	DefineCustomIntVariable("bh_audit.error_message_max_len",
							"Longest error_message of an event, in characters, after sanitising (longer ones end in \"...\").",
							NULL,
							&bh_error_message_max_len,
							200,
							16, 500,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("bh_audit.error_message_mode",
							 "What events keep of an error message: sanitize (the upstream sanitiser) or omit (no message text; FAILURE events carry their error_type).",
							 NULL,
							 &bh_error_message_mode,
							 BH_ERRMSG_SANITIZE,
							 bh_error_message_mode_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("bh_audit.metadata_allowlist",
							   "Comma-separated metadata keys a caller may set; other keys are dropped.",
							   NULL,
							   &bh_metadata_allowlist,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("bh_audit.max_metadata_value_length",
							"Longest metadata string value a caller may set, in characters (longer ones are cut, ending in \"...\").",
							NULL,
							&bh_max_metadata_value_length,
							200,
							16, 10000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);
}

/* ----------------------------------------------------------------
 *		Code points and their classes
 * ----------------------------------------------------------------
 */

/* A string as code points, with room to grow. */
typedef struct BhText
{
	uint32	   *cp;
	int			len;
	int			cap;
} BhText;

static void
bh_text_init(BhText *t, int cap)
{
	t->cap = Max(cap, 16);
	t->len = 0;
	t->cp = MemoryContextAllocHuge(CurrentMemoryContext,
								   sizeof(uint32) * (Size) t->cap);
}

static inline void
bh_text_push(BhText *t, uint32 c)
{
	if (t->len >= t->cap)
	{
		t->cap *= 2;
		t->cp = repalloc_huge(t->cp, sizeof(uint32) * (Size) t->cap);
	}
	t->cp[t->len++] = c;
}

static void
bh_text_push_ascii(BhText *t, const char *s)
{
	for (; *s; s++)
		bh_text_push(t, (unsigned char) *s);
}

/* Is c in one of the n sorted ranges? */
static bool
bh_in_ranges(uint32 c, const BhCodeRange *r, int n)
{
	int			lo = 0,
				hi = n - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (c < r[mid].lo)
			hi = mid - 1;
		else if (c > r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* The re classes of one code point. */
static uint8
bh_char_class(uint32 c)
{
	uint8		cls = 0;

	if (c < 0x80)
	{
		if (c >= '0' && c <= '9')
			return BH_CLS_WORD | BH_CLS_DIGIT;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
			return BH_CLS_WORD;
		if ((c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20))
			return BH_CLS_SPACE;
		return 0;
	}
	if (c > 0x10FFFF)
		return 0;
	if (bh_in_ranges(c, bh_word_ranges, lengthof(bh_word_ranges)))
		cls |= BH_CLS_WORD;
	if (bh_in_ranges(c, bh_decimal_ranges, lengthof(bh_decimal_ranges)))
		cls |= BH_CLS_DIGIT;
	if (bh_in_ranges(c, bh_space_ranges, lengthof(bh_space_ranges)))
		cls |= BH_CLS_SPACE;
	return cls;
}

/*
 * Decode UTF-8 (invalid bytes become BH_RAW_BYTE + byte): a character is a
 * valid sequence as recode.c reads one (bh_recode_utf8_seq), ASCII taken
 * at once.
 */
static void
bh_decode(const char *s, int len, BhText *t)
{
	const unsigned char *p = (const unsigned char *) s;
	int			i = 0;

	bh_text_init(t, len + 1);
	while (i < len)
	{
		int			l;

		if (p[i] < 0x80)
		{
			t->cp[t->len++] = p[i];
			i++;
		}
		else if ((l = bh_recode_utf8_seq(s + i, len - i)) > 0)
		{
			t->cp[t->len++] = utf8_to_unicode(p + i);
			i += l;
		}
		else
		{
			t->cp[t->len++] = BH_RAW_BYTE + p[i];
			i++;
		}
	}
}

/* Encode the first n code points of t as UTF-8. */
static void
bh_encode(const BhText *t, int n, StringInfo out)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		uint32		c = t->cp[i];

		if (c < 0x80)
			appendStringInfoChar(out, (char) c);
		else if (c >= BH_RAW_BYTE)
			appendStringInfoChar(out, (char) (c - BH_RAW_BYTE));
		else
		{
			unsigned char buf[4];

			unicode_to_utf8(c, buf);
			appendBinaryStringInfo(out, (char *) buf, pg_utf_mblen(buf));
		}
	}
}

/* ----------------------------------------------------------------
 *		The four patterns
 * ----------------------------------------------------------------
 */

/* One pass over a string: its code points and their classes. */
typedef struct BhScan
{
	const uint32 *cp;
	uint8	   *cls;
	int			n;
	int		   *local_end;		/* e-mail: end of the local-part run at i */
	int			memo_at;		/* e-mail: "@" whose domain was last tried */
	int			memo_end;		/* e-mail: the result for it */
} BhScan;

/* Tries a match at i: its end, or -1. */
typedef int (*BhMatcher) (BhScan *s, int i);

/* \b at i: one side is \w and the other is not (outside counts as not). */
static inline bool
bh_boundary(const BhScan *s, int i)
{
	bool		before = i > 0 && (s->cls[i - 1] & BH_CLS_WORD);
	bool		after = i < s->n && (s->cls[i] & BH_CLS_WORD);

	return before != after;
}

/* \d{count} at j: the end, or -1. */
static inline int
bh_digits(const BhScan *s, int j, int count)
{
	int			end = j + count;

	if (end > s->n)
		return -1;
	for (; j < end; j++)
		if (!(s->cls[j] & BH_CLS_DIGIT))
			return -1;
	return end;
}

/*
 * SSN, \b\d{3}-\d{2}-\d{4}\b: fixed length, nothing to backtrack.
 */
static int
bh_match_ssn(BhScan *s, int i)
{
	int			j;

	if (!bh_boundary(s, i) ||
		(j = bh_digits(s, i, 3)) < 0 || j >= s->n || s->cp[j] != '-' ||
		(j = bh_digits(s, j + 1, 2)) < 0 || j >= s->n || s->cp[j] != '-' ||
		(j = bh_digits(s, j + 1, 4)) < 0 || !bh_boundary(s, j))
		return -1;
	return j;
}

/* [-.\s] */
static inline bool
bh_is_phone_sep(const BhScan *s, int j)
{
	return j < s->n &&
		(s->cp[j] == '-' || s->cp[j] == '.' || (s->cls[j] & BH_CLS_SPACE));
}

/*
 * Phone, \b\d{3}[-.\s]?\d{3}[-.\s]?\d{4}\b.  A greedy [-.\s]? takes the
 * separator when there is one; giving it back cannot help, because the
 * \d that would then have to match it is never a separator.  So each
 * optional separator is taken exactly when present, and the rest is fixed.
 */
static int
bh_match_phone(BhScan *s, int i)
{
	int			j;

	if (!bh_boundary(s, i) || (j = bh_digits(s, i, 3)) < 0)
		return -1;
	if (bh_is_phone_sep(s, j))
		j++;
	if ((j = bh_digits(s, j, 3)) < 0)
		return -1;
	if (bh_is_phone_sep(s, j))
		j++;
	if ((j = bh_digits(s, j, 4)) < 0 || !bh_boundary(s, j))
		return -1;
	return j;
}

/*
 * Long number, \b\d{10,}\b.  The greedy run takes every digit; giving
 * digits back only puts the final \b between two digits, where it never
 * holds.  So: the whole run, if at least 10 long and followed by a non-\w.
 */
static int
bh_match_id(BhScan *s, int i)
{
	int			j = i;

	if (i >= s->n || !(s->cls[i] & BH_CLS_DIGIT) || !bh_boundary(s, i))
		return -1;
	while (j < s->n && (s->cls[j] & BH_CLS_DIGIT))
		j++;
	if (j - i < 10 || !bh_boundary(s, j))
		return -1;
	return j;
}

/* [A-Za-z] */
static inline bool
bh_is_ascii_alpha(uint32 c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* [A-Za-z0-9._%+-]: the e-mail's local part */
static inline bool
bh_is_local(uint32 c)
{
	return bh_is_ascii_alpha(c) || (c >= '0' && c <= '9') ||
		c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

/* [A-Za-z0-9.-]: the e-mail's domain */
static inline bool
bh_is_domain(uint32 c)
{
	return bh_is_ascii_alpha(c) || (c >= '0' && c <= '9') ||
		c == '.' || c == '-';
}

/*
 * The domain part after the "@" at position at,
 * [A-Za-z0-9.-]+\.[A-Za-z]{2,}\b: the end of the match, or -1.
 *
 * The greedy class takes the whole run [d, f) first and gives characters
 * back one at a time; the \. must then match at k (k from f - 1 down to
 * d + 1).  After the dot the greedy [A-Za-z]{2,} takes the whole letter
 * run [k + 1, g); giving letters back leaves \b between two letters, where
 * it never holds, so only g itself can end the match.  The first k that
 * works (the rightmost) is the one Python takes.
 */
static int
bh_email_domain(BhScan *s, int at)
{
	int			d = at + 1;
	int			f = d;
	int			k;

	while (f < s->n && bh_is_domain(s->cp[f]))
		f++;
	for (k = f - 1; k >= d + 1; k--)
	{
		int			g = k + 1;

		if (s->cp[k] != '.')
			continue;
		while (g < s->n && bh_is_ascii_alpha(s->cp[g]))
			g++;
		if (g - (k + 1) >= 2 && bh_boundary(s, g))
			return g;
	}
	return -1;
}

/*
 * E-mail, \b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b.  The local
 * part's class excludes "@", so only the whole run from i can be followed
 * by it: no backtracking there.  Every start inside one run reaches the
 * same "@", whose domain result is remembered, which keeps this linear.
 */
static int
bh_match_email(BhScan *s, int i)
{
	int			at;

	if (i >= s->n || !bh_is_local(s->cp[i]) || !bh_boundary(s, i))
		return -1;
	at = s->local_end[i];
	if (at >= s->n || s->cp[at] != '@')
		return -1;
	if (s->memo_at != at)
	{
		s->memo_at = at;
		s->memo_end = bh_email_domain(s, at);
	}
	return s->memo_end;
}

/* re.sub(pattern, marker, t), pattern given by its matcher. */
static void
bh_redact(BhText *t, BhMatcher match, const char *marker)
{
	BhScan		s;
	BhText		out;
	int			i;

	s.cp = t->cp;
	s.n = t->len;
	s.cls = MemoryContextAllocHuge(CurrentMemoryContext, (Size) t->len + 1);
	for (i = 0; i < t->len; i++)
		s.cls[i] = bh_char_class(t->cp[i]);
	s.local_end = NULL;
	s.memo_at = -1;
	s.memo_end = -1;
	if (match == bh_match_email)
	{
		s.local_end = MemoryContextAllocHuge(CurrentMemoryContext,
											 sizeof(int) * ((Size) t->len + 1));
		for (i = t->len - 1; i >= 0; i--)
			s.local_end[i] = (i + 1 < t->len && bh_is_local(t->cp[i + 1])) ?
				s.local_end[i + 1] : i + 1;
	}

	bh_text_init(&out, t->len + 16);
	i = 0;
	while (i < t->len)
	{
		int			end = match(&s, i);

		if (end > i)
		{
			bh_text_push_ascii(&out, marker);
			i = end;
		}
		else
			bh_text_push(&out, t->cp[i++]);
	}

	pfree(s.cls);
	if (s.local_end)
		pfree(s.local_end);
	pfree(t->cp);
	*t = out;
}

/* strip(), then re.sub(r"\s+", " ", ...). */
static void
bh_strip_collapse(BhText *t)
{
	int			start = 0,
				end = t->len,
				i,
				n = 0;
	bool		in_space = false;

	while (start < end && (bh_char_class(t->cp[start]) & BH_CLS_SPACE))
		start++;
	while (end > start && (bh_char_class(t->cp[end - 1]) & BH_CLS_SPACE))
		end--;
	for (i = start; i < end; i++)
	{
		if (bh_char_class(t->cp[i]) & BH_CLS_SPACE)
		{
			if (!in_space)
				t->cp[n++] = ' ';
			in_space = true;
		}
		else
		{
			t->cp[n++] = t->cp[i];
			in_space = false;
		}
	}
	t->len = n;
}

/*
 * The sanitiser over len bytes of UTF-8 (or SQL_ASCII bytes): a palloc'd,
 * NUL-terminated result.
 */
static char *
bh_sanitize_utf8(const char *s, int len, int max_len)
{
	BhText		t;
	StringInfoData out;
	int			keep;

	bh_decode(s, len, &t);
	bh_strip_collapse(&t);
	bh_redact(&t, bh_match_ssn, "[REDACTED-SSN]");
	bh_redact(&t, bh_match_email, "[REDACTED-EMAIL]");
	bh_redact(&t, bh_match_phone, "[REDACTED-PHONE]");
	bh_redact(&t, bh_match_id, "[REDACTED-ID]");

	initStringInfo(&out);
	keep = t.len;
	if (t.len > max_len)
		keep = max_len - 3;
	bh_encode(&t, keep, &out);
	if (t.len > max_len)
		appendStringInfoString(&out, "...");
	pfree(t.cp);
	return out.data;
}

/*
 * The sanitiser over len bytes in the server encoding: a palloc'd result
 * in the server encoding.  max_len is at least 3.
 */
static char *
bh_sanitize_server(const char *s, int len, int max_len)
{
	int			enc = GetDatabaseEncoding();
	char	   *utf8;
	char	   *result;

	Assert(max_len >= 3);
	if (enc == PG_UTF8 || enc == PG_SQL_ASCII)
		return bh_sanitize_utf8(s, len, max_len);

	/*
	 * Converted without raising and without the catalog, which PostgreSQL
	 * reads for a conversion other than the client's, and which an error
	 * message sanitised as its transaction aborts cannot (recode.c).
	 */
	utf8 = bh_recode_server_to_utf8(s, len);
	result = bh_sanitize_utf8(utf8, strlen(utf8), max_len);
	return bh_recode_utf8_to_server(result, strlen(result));
}

/* The upstream sanitiser: a palloc'd copy of msg, sanitised and cut. */
char *
bh_sanitize_error_message(const char *msg, int max_len)
{
	return bh_sanitize_server(msg, strlen(msg), Max(max_len, 3));
}

/*
 * The error_message an event carries: the sanitised message (unless
 * bh_audit.error_message_mode is omit); a FAILURE without one carries its
 * sanitised error_type, as the schema requires a message there.  NULL
 * means none.
 */
char *
bh_event_error_message(const char *outcome, const char *message,
					   const char *error_type)
{
	bool		failure = strcmp(outcome, "FAILURE") == 0;
	char	   *result = NULL;

	if (message != NULL && bh_error_message_mode == BH_ERRMSG_SANITIZE)
		result = bh_sanitize_error_message(message, bh_error_message_max_len);
	if (failure && (result == NULL || result[0] == '\0') && error_type != NULL)
		result = bh_sanitize_error_message(error_type, bh_error_message_max_len);
	if (result != NULL && result[0] == '\0' && !failure)
		result = NULL;
	return result;
}

PG_FUNCTION_INFO_V1(bh_audit_sanitize_error_message);

/*
 * bh_audit.sanitize_error_message(message text, max_len int DEFAULT 200)
 * RETURNS text: the upstream sanitiser.
 */
Datum
bh_audit_sanitize_error_message(PG_FUNCTION_ARGS)
{
	text	   *msg = PG_GETARG_TEXT_PP(0);
	int32		max_len = PG_GETARG_INT32(1);

	/* s[:max_len - 3] + "..." makes no sense below 3 */
	if (max_len < 3)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_len must be at least 3")));

	PG_RETURN_TEXT_P(cstring_to_text(bh_sanitize_server(VARDATA_ANY(msg),
														VARSIZE_ANY_EXHDR(msg),
														max_len)));
}

/* ----------------------------------------------------------------
 *		Metadata
 * ----------------------------------------------------------------
 */

/* Is key one the extension sets on this event? */
static bool
bh_is_own_key(const BhEvent *ev, const char *key)
{
	int			i;

	/* database: set in events of a database other than the sealer's */
	if (strcmp(key, "db_user") == 0 || strcmp(key, "db_role") == 0 ||
		strcmp(key, "database") == 0)
		return true;
	for (i = 0; i < ev->nmeta; i++)
		if (strcmp(ev->meta[i].key, key) == 0)
			return true;
	return false;
}

/* The keys of bh_audit.metadata_allowlist (trimmed, empty ones skipped). */
static List *
bh_allowlist(void)
{
	List	   *keys = NIL;
	char	   *copy;
	char	   *tok;
	char	   *save = NULL;

	if (bh_metadata_allowlist == NULL || bh_metadata_allowlist[0] == '\0')
		return NIL;
	copy = pstrdup(bh_metadata_allowlist);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		char	   *end;

		while (*tok == ' ' || *tok == '\t' || *tok == '\n' || *tok == '\r')
			tok++;
		end = tok + strlen(tok);
		while (end > tok && (end[-1] == ' ' || end[-1] == '\t' ||
							 end[-1] == '\n' || end[-1] == '\r'))
			*--end = '\0';
		if (*tok != '\0')
			keys = lappend(keys, tok);
	}
	return keys;
}

/* Is key in the allowlist? */
static bool
bh_key_allowed(List *allow, const char *key)
{
	ListCell   *lc;

	foreach(lc, allow)
	{
		if (strcmp((char *) lfirst(lc), key) == 0)
			return true;
	}
	return false;
}

/* One of the caller's scalar values (strings cut to the limit). */
static void
bh_put_user_scalar(BhJbObject *metadata, const char *key, int keylen, JsonbValue *v)
{
	JsonbValue	copy = *v;

	if (v->type == jbvString)
	{
		const char *s = bh_truncate(pnstrdup(v->val.string.val, v->val.string.len),
									bh_max_metadata_value_length);

		copy.val.string.val = (char *) s;
		copy.val.string.len = strlen(s);
	}
	else if (v->type != jbvNumeric && v->type != jbvBool)
		copy.type = jbvNull;
	bh_jb_put(metadata, key, keylen, &copy);
}

/* Append ,"<n> <reason>" to the reasons when n > 0. */
static void
bh_add_reason(StringInfo reasons, int n, const char *reason)
{
	if (n == 0)
		return;
	if (reasons->len > 0)
		appendStringInfoString(reasons, ", ");
	appendStringInfo(reasons, "%d %s", n, reason);
}

/*
 * "metadata": {...}: the caller's keys that pass the rules, then
 * the extension's own keys, then db_role (the role the statement runs as,
 * when not the login) and db_user.  The extension's keys are kept
 * whatever the caller sends and count first against the 20-key limit; the
 * caller's surplus is dropped (in jsonb key order: shorter keys first).
 * One WARNING counts what was dropped, and why.
 */
void
bh_metadata_push(BhJbObject *event, const BhEvent *ev, const char *db_user,
				 const char *db_role)
{
	BhJbObject	metadata;
	int			nkeys = 1 + (db_role != NULL) + ev->nmeta;
	int			not_allowed = 0,
				non_scalar = 0,
				over_limit = 0,
				reserved = 0,
				dropped;
	int			i;

	bh_jb_begin(&metadata, NULL, nkeys + (ev->user_metadata != NULL ? 4 : 0));
	if (ev->user_metadata != NULL)
	{
		JsonbIterator *it;
		JsonbValue	v;
		JsonbIteratorToken tok;
		char	   *key = NULL;
		int			keylen = 0;
		List	   *allow;

		if (!JB_ROOT_IS_OBJECT(ev->user_metadata) || JB_ROOT_IS_SCALAR(ev->user_metadata))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("metadata must be a JSON object")));

		allow = bh_allowlist();
		it = JsonbIteratorInit(&ev->user_metadata->root);
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			if (tok == WJB_KEY)
			{
				key = pnstrdup(v.val.string.val, v.val.string.len);
				keylen = v.val.string.len;
				continue;
			}
			if (tok != WJB_VALUE)
				continue;
			if (bh_is_own_key(ev, key))
				reserved++;
			else if (!bh_key_allowed(allow, key))
				not_allowed++;
			else if (v.type != jbvString && v.type != jbvNumeric &&
					 v.type != jbvBool && v.type != jbvNull)
				non_scalar++;
			else if (nkeys >= BH_METADATA_MAX_KEYS)
				over_limit++;
			else
			{
				nkeys++;
				bh_put_user_scalar(&metadata, key, keylen, &v);
			}
		}
	}
	for (i = 0; i < ev->nmeta; i++)
	{
		const BhMetaItem *m = &ev->meta[i];

		if (m->type == BH_META_STRING)
			bh_jb_field(&metadata, m->key, m->str);
		else if (m->type == BH_META_INT)
			bh_jb_int(&metadata, m->key, m->num);
		else
			bh_jb_bool(&metadata, m->key, m->flag);
	}
	if (db_role != NULL)
		bh_jb_field(&metadata, "db_role", db_role);
	bh_jb_field(&metadata, "db_user", db_user);
	bh_jb_object(event, "metadata", &metadata);

	dropped = not_allowed + non_scalar + over_limit + reserved;
	if (dropped > 0)
	{
		StringInfoData reasons;

		initStringInfo(&reasons);
		bh_add_reason(&reasons, not_allowed, "not in bh_audit.metadata_allowlist");
		bh_add_reason(&reasons, non_scalar, "with a non-scalar value");
		bh_add_reason(&reasons, over_limit, "over the limit of 20 keys");
		bh_add_reason(&reasons, reserved, "set by bh_audit itself");
		ereport(WARNING,
				(errmsg_plural("bh_audit dropped %d metadata key: %s",
							   "bh_audit dropped %d metadata keys: %s",
							   dropped, dropped, reasons.data),
				 errdetail("Metadata key names and values are never logged: they may carry PHI.")));
	}
}
