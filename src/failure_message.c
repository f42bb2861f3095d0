/*-------------------------------------------------------------------------
 *
 * failure_message.c
 *		Making an error's primary message safe to keep in an event: every
 *		value its format's conversions printed, and everything quoted,
 *		emptied (bh_safe_message); what a format prints (only conversions,
 *		a text); what one conversion of a message or of a context line
 *		printed, in the language of lc_messages (bh_message_arg: a refused
 *		name, a function's statement), and what a context line's format
 *		puts around its text (bh_format_affixes).
 *
 * PostgreSQL keeps the untranslated format of a message (message_id): the
 * message is aligned with it, or with its translation (a context line has
 * no message_id: it is aligned with the format it was made from, as
 * translated in its text domain, with "%2$s" specs taking their
 * arguments by number), and what the conversions put into it is told
 * from the format's own words.  Nothing here allocates but
 * bh_failure_message(): the error watch and the login watch call the
 * rest while an error is being raised.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "capture.h"

/*
 * Skip the rest of a conversion specification from p, past its '%' (or the
 * '$' after its argument's number): its flags, width, precision and length,
 * then its conversion letter.
 */
static const char *
bh_skip_conversion(const char *p)
{
	for (; *p && strchr("-+ #0123456789.*hlLqjzt", *p); p++)
		;
	return *p ? p + 1 : p;
}

/*
 * Skip a conversion specification of a format ("%s", "%02d", "%m"; "%%" is
 * none): returns the character after it, or p itself when p is no spec.
 */
static const char *
bh_skip_spec(const char *p)
{
	if (p[0] != '%' || p[1] == '%' || p[1] == '\0')
		return p;
	return bh_skip_conversion(p + 1);
}

/* Is the format nothing but conversions ("%s")?  Then its text is a caller's. */
bool
bh_format_is_only_specs(const char *fmt)
{
	const char *p = fmt;

	while (*p)
	{
		const char *next = bh_skip_spec(p);

		if (next == p)
		{
			if (isalpha((unsigned char) *p))
				return false;
			next = p + (p[0] == '%' && p[1] == '%' ? 2 : 1);
		}
		p = next;
	}
	return true;
}

/* The number of conversions of a format ("%%" is none). */
static int
bh_format_conversions(const char *fmt)
{
	const char *p;
	int			n = 0;

	for (p = fmt; (p = strchr(p, '%')) != NULL;)
	{
		const char *next = bh_skip_spec(p);

		if (next == p)
			p += (p[1] == '%') ? 2 : 1;
		else
		{
			n++;
			p = next;
		}
	}
	return n;
}

/* The most conversions of a format whose values are emptied. */
#define BH_MAX_SPANS 16

/* A value's place in a message: [start, end) */
typedef struct BhSpan
{
	int			start;
	int			end;
} BhSpan;

/* Is conversion c (the last character of a spec) a number's or a character's? */
static bool
bh_spec_is_number(char c)
{
	return strchr("diouxXeEfFgGaAc", c) != NULL;
}

/*
 * Formats whose string conversions outside quotes print only names of
 * objects that exist (a type, a domain, an enum, a table a privilege or an
 * ownership is checked on) or words of PostgreSQL's own (a command, the
 * scanner's or the jsonpath scanner's complaint, the name of a jsonpath
 * method or operator, a login's encryption): kept, so that "invalid input
 * syntax for type integer", "permission denied for table notes" and
 * "jsonpath item method .double() can only be applied to a string" say
 * what they are.  A statement or a jsonpath built from a column may pick
 * one of these words, never print the column's own text through them.
 * Every other string conversion outside quotes may print a value
 * ("%s is not a valid encoding name", "function %s does not exist" of a
 * name built from a column) and is emptied.  A large object's privileges
 * and ownership name it by its OID, which may be a stored value.
 */
static const char *const bh_name_formats[] = {
	"invalid input syntax for type %s",
	"invalid input syntax for type %s: \"%s\"",
	"invalid input value for enum %s: \"%s\"",
	"value \"%s\" is out of range for type %s",
	"value for domain %s violates check constraint \"%s\"",
	"domain %s does not allow null values",
	"cannot cast type %s to %s",
	"column \"%s\" is of type %s but expression is of type %s",
	"column \"%s\" is of type %s but default expression is of type %s",
	"cannot execute %s in a read-only transaction",
	"%s at or near \"%s\"",
	"%s at end of input",

	/*
	 * the jsonpath scanner's complaint; a jsonpath method's or operator's
	 * name
	 */
	"%s at or near \"%s\" of jsonpath input",
	"%s at end of jsonpath input",
	"jsonpath item method .%s() can only be applied to an array",
	"jsonpath item method .%s() can only be applied to an object",
	"jsonpath item method .%s() can only be applied to a string",
	"jsonpath item method .%s() can only be applied to a numeric value",
	"jsonpath item method .%s() can only be applied to a string or numeric value",
	"numeric argument of jsonpath item method .%s() is out of range for type double precision",
	"string argument of jsonpath item method .%s() is not a valid representation of a double precision number",
	"left operand of jsonpath operator %s is not a single numeric value",
	"right operand of jsonpath operator %s is not a single numeric value",
	"operand of unary jsonpath operator %s is not a numeric value",
	/* the type a date or time unit (quoted) is asked of; a numeric's target */
	"unit \"%s\" not recognized for type %s",
	"unit \"%s\" not supported for type %s",
	"cannot convert NaN to %s",
	"cannot convert infinity to %s",
	/* a refused login: the encryption it came with, "no encryption" */
	"pg_hba.conf rejects connection for host \"%s\", user \"%s\", database \"%s\", %s",
	"pg_hba.conf rejects replication connection for host \"%s\", user \"%s\", %s",
	"no pg_hba.conf entry for host \"%s\", user \"%s\", database \"%s\", %s",
	"no pg_hba.conf entry for replication connection from host \"%s\", user \"%s\", %s",
};

static bool
bh_format_names_only(const char *fmt)
{
	int			i;

	if (strncmp(fmt, "permission denied for ", 22) == 0 ||
		strncmp(fmt, "must be owner of ", 17) == 0)
		return strstr(fmt, "large object") == NULL &&
			strcmp(fmt, "permission denied for parameter %s") != 0;
	for (i = 0; i < lengthof(bh_name_formats); i++)
		if (strcmp(fmt, bh_name_formats[i]) == 0)
			return true;
	return false;
}

/*
 * The values that message's conversions put into it, aligning it with its
 * format fmt: the text between two of the format's literal parts is a
 * conversion's.  PostgreSQL prints numbers bare, anywhere in a message
 * ("index %d out of valid range", "percentile value %g is not between 0
 * and 1", "large object %u does not exist"), and strings too ("%s is not a
 * valid encoding name", "function %s does not exist", "column %s.%s does
 * not exist"); either may be a column's value.  A string conversion of a
 * format that prints only names (bh_format_names_only) is no value.  Into
 * spans (at most BH_MAX_SPANS); returns their number, or -1 when the
 * message does not follow the format (then no value of it can be told
 * apart).
 */
static int
bh_value_spans(const char *message, const char *fmt, BhSpan *spans)
{
	const char *m = message;
	const char *f = fmt;
	int			n = 0;
	bool		names_only = bh_format_names_only(fmt);

	while (*f != '\0')
	{
		const char *spec_end = bh_skip_spec(f);
		const char *lit;
		const char *lit_end;
		const char *value_end;
		size_t		lit_len;

		if (spec_end == f)
		{
			/* a literal character ("%%" prints one '%') */
			if (*m != *f)
				return -1;
			m++;
			f += (f[0] == '%' && f[1] == '%') ? 2 : 1;
			continue;
		}

		/* the literal part that follows the conversion, up to the next one */
		lit = spec_end;
		for (lit_end = lit; *lit_end != '\0' && *lit_end != '%'; lit_end++)
			;
		lit_len = (size_t) (lit_end - lit);
		if (lit_len == 0 && *lit_end == '\0')
			value_end = m + strlen(m);	/* the format's last conversion */
		else if (lit_len == 0)
		{
			/* two conversions in a row: only a number's end can be told */
			if (!bh_spec_is_number(spec_end[-1]))
				return -1;
			for (value_end = m; isalnum((unsigned char) *value_end) ||
				 *value_end == '.' || *value_end == '-' || *value_end == '+'; value_end++)
				;
		}
		else if (*lit_end == '\0')
		{
			/* the format's last part: the message ends with it */
			size_t		rest = strlen(m);

			if (rest < lit_len || strcmp(m + rest - lit_len, lit) != 0)
				return -1;
			value_end = m + rest - lit_len;
		}
		else
		{
			/* the first place the literal part follows (a %s could hold it) */
			for (value_end = m; *value_end != '\0'; value_end++)
				if (strncmp(value_end, lit, lit_len) == 0)
					break;
			if (*value_end == '\0')
				return -1;
		}
		if (value_end > m && (bh_spec_is_number(spec_end[-1]) || !names_only))
		{
			if (n == BH_MAX_SPANS)
				return -1;
			spans[n].start = (int) (m - message);
			spans[n].end = (int) (value_end - message);
			n++;
		}
		m = value_end;
		f = spec_end;
	}
	return *m == '\0' ? n : -1;
}

/*
 * Skip a conversion specification as a translation may write it, with the
 * number of its argument ("%2$s"): returns the character after it, or p
 * itself when p is no spec; *argno is its argument's number, or 0 when the
 * spec gives none (the next argument).
 */
static const char *
bh_skip_numbered_spec(const char *p, int *argno)
{
	const char *q = p + 1;
	int			n = 0;

	*argno = 0;
	if (p[0] != '%' || p[1] == '%' || p[1] == '\0')
		return p;
	while (isdigit((unsigned char) *q))
		n = n * 10 + (*q++ - '0');
	if (*q == '$' && n > 0)
	{
		*argno = n;
		return bh_skip_conversion(q + 1);
	}
	return bh_skip_conversion(p + 1);
}

/*
 * Where the conversion of format fmt printing argument argno (1-based) put
 * its text in the message msg (mlen bytes): [*start, *end), as byte
 * offsets, aligning the message with the format's literal parts.  Of the
 * alignments, the one where that text is the shortest: the literal part
 * before it as late as the message allows, the one after it as early
 * ("... policy \"%s\" for table \"%s\"": a policy's name holding the
 * table's part is taken for more).  False when the message does not follow
 * the format, the format prints "%%" or two conversions in a row (their
 * texts cannot be told apart), or has no such argument.
 */
static bool
bh_format_arg_span(const char *msg, size_t mlen, const char *fmt, int argno,
				   int *start, int *end)
{
	const char *lit[BH_MAX_SPANS + 1];
	size_t		len[BH_MAX_SPANS + 1];
	int			n = 0;
	int			t = 0;
	int			i;
	const char *p = fmt;
	const char *lo;
	const char *hi;
	const char *q;
	const char *s;
	const char *e = NULL;
	const char *mend = msg + mlen;

	/* the literal parts lit[0] .. lit[n] around conversions 1 .. n */
	lit[0] = fmt;
	for (;;)
	{
		const char *spec = strchr(p, '%');
		const char *next;
		int			num;

		if (spec == NULL)
		{
			len[n] = strlen(lit[n]);
			break;
		}
		next = bh_skip_numbered_spec(spec, &num);
		if (next == spec || n == BH_MAX_SPANS)
			return false;		/* "%%", or too many */
		len[n] = spec - lit[n];
		n++;
		if ((num ? num : n) == argno)
			t = n;
		lit[n] = p = next;
	}
	if (t == 0 || mlen < len[0] + len[n] || strncmp(msg, lit[0], len[0]) != 0 ||
		strncmp(mend - len[n], lit[n], len[n]) != 0)
		return false;
	for (i = 1; i < n; i++)
		if (len[i] == 0)
			return false;
	lo = msg + len[0];
	hi = mend - len[n];
	if (hi < lo)
		return false;

	/* the parts after the conversion's, each as late as it can be */
	for (i = n - 1; i > t; i--)
	{
		for (q = hi - len[i]; q >= lo && strncmp(q, lit[i], len[i]) != 0; q--)
			;
		if (q < lo)
			return false;
		hi = q;
	}
	/* the parts before it, but the one just before it, each as early */
	for (i = 1; i < t - 1; i++)
	{
		for (q = lo; q + len[i] <= hi && strncmp(q, lit[i], len[i]) != 0; q++)
			;
		if (q + len[i] > hi)
			return false;
		lo = q + len[i];
	}
	/* the part just before it as late as the part after it still follows */
	for (s = (t == 1) ? lo : hi - len[t - 1]; s >= lo; s--)
	{
		if (t > 1)
		{
			if (strncmp(s, lit[t - 1], len[t - 1]) != 0)
				continue;
			s += len[t - 1];
		}
		if (t == n)
			e = hi;
		else
			for (e = s; e + len[t] <= hi && strncmp(e, lit[t], len[t]) != 0; e++)
				;
		if (e >= s && (t == n || e + len[t] <= hi))
			break;
		if (t == 1)
			return false;
		s -= len[t - 1];
	}
	if (s < lo)
		return false;
	*start = (int) (s - msg);
	*end = (int) (e - msg);
	return true;
}

/*
 * What the conversion of argument argno (1-based) of an error's message
 * (mlen bytes of message) printed: [*start, *end) as byte offsets.  The
 * message is aligned with its untranslated format message_id, else with
 * that format translated in the error's text domain (ErrorData.domain, or
 * context_domain of a context line), as errfinish translated it, under the
 * same lc_messages.  Allocates nothing (the error watch calls it).
 */
bool
bh_message_arg(const char *message, size_t mlen, const char *message_id,
			   const char *domain, int argno, int *start, int *end)
{
	const char *translated;

	if (message == NULL || message_id == NULL)
		return false;
	if (bh_format_arg_span(message, mlen, message_id, argno, start, end))
		return true;
	translated = domain ? dgettext(domain, message_id) : message_id;
	return translated != message_id && strcmp(translated, message_id) != 0 &&
		bh_format_arg_span(message, mlen, translated, argno, start, end);
}

/*
 * The primary message of an error, made safe to keep, into out (size bytes,
 * cut at a character boundary); the event builder sanitises the rest.
 * message_id is the untranslated format the message was made from.
 *	- A message without its format (rethrown from a parallel worker) cannot
 *	  be checked: nothing of it is kept.
 *	- A message whose format is only conversions ("%s": RAISE in PL/pgSQL,
 *	  errors of other procedural languages) says whatever a function put
 *	  in it, column values included: nothing of it is kept (the event then
 *	  carries its error_type).
 *	- A translated message (lc_messages, in the error's text domain) is
 *	  read as its English one would be where its format has one conversion
 *	  (what that printed is the message without the translation's text
 *	  around it: bh_message_arg), then checked as that; with more, which
 *	  values a translation's words may hide the bounds of, it cannot be
 *	  checked: its untranslated format is kept instead, which holds no
 *	  value at all.
 *	- What the format's conversions printed, numbers and strings, wherever
 *	  they are (bh_value_spans), is emptied; a message that does not follow
 *	  its format keeps none of it.
 *	- PostgreSQL quotes the offending value (invalid input syntax for type
 *	  integer: "...") without escaping the quotes in it, and jsonb, arrays
 *	  and records print their strings quoted: quotes cannot be paired, so
 *	  everything from the first '"' to the last is emptied, and after a lone
 *	  '"' the rest.
 *	- A few formats print a value bare after a colon (date field value out
 *	  of range: %d-%02d-%02d; invalid byte sequence for encoding "%s": %s):
 *	  when the format's text after its last ": " holds a conversion outside
 *	  quotes, the message is cut at its first ": " outside the emptied part.
 * Allocates nothing (the error watch and the login watch call it).
 */
void
bh_safe_message(const char *message, const char *message_id, const char *domain,
				char *out, int size)
{
	const char *text = message ? message : "";
	const char *spec;
	const char *colon = NULL;
	const char *first;
	const char *last;
	const char *p;
	bool		bare_tail;
	int			len = 0;
	BhSpan		spans[BH_MAX_SPANS];
	int			nspans = 0;
	int			k = 0;
	char		english[1024];
	bool		translated = false;

	/*
	 * no format to check it by (rethrown from a parallel worker), or a
	 * caller's text
	 */
	if (message_id == NULL || bh_format_is_only_specs(message_id))
	{
		out[0] = '\0';
		return;
	}
	spec = strchr(message_id, '%');
	if (spec == NULL ? strcmp(text, message_id) != 0
		: strncmp(text, message_id, spec - message_id) != 0)
		translated = true;
	else if (spec != NULL && (nspans = bh_value_spans(text, message_id, spans)) < 0)
	{
		/* not its format's, unless a translation beginning as it does */
		if (domain == NULL || strcmp(dgettext(domain, message_id), message_id) == 0)
		{
			out[0] = '\0';		/* nothing can be told */
			return;
		}
		translated = true;
	}
	if (translated)
	{
		/* of one conversion, its English message; else its format */
		int			start;
		int			end;

		nspans = -1;
		if (spec != NULL && bh_format_conversions(message_id) == 1 &&
			bh_message_arg(text, strlen(text), message_id, domain, 1, &start, &end) &&
			strlen(message_id) + (end - start) < sizeof(english))
		{
			snprintf(english, sizeof(english), "%.*s%.*s%s", (int) (spec - message_id),
					 message_id, end - start, text +start, bh_skip_spec(spec));
			nspans = bh_value_spans(english, message_id, spans);
		}
		if (nspans >= 0)
			text = english;

		else
		{
			nspans = 0;
			text = message_id;
		}
	}
	for (p = message_id; (p = strstr(p, ": ")) != NULL; p++)
		colon = p;
	bare_tail = colon != NULL && colon[2] != '"' && strchr(colon, '%') != NULL;

	first = strchr(text, '"');
	last = strrchr(text, '"');
	for (p = text; *p && len < size - 1; p++)
	{
		int			at = (int) (p - text);

		while (k < nspans && spans[k].end <= at)
			k++;
		if (k < nspans && spans[k].start <= at)
			continue;			/* a number */
		if (first != NULL && p > first && (first == last || p < last))
			continue;			/* inside the quoted part */
		if (bare_tail && p[0] == ':' && p[1] == ' ')
			break;
		out[len++] = *p;
	}
	out[pg_mbcliplen(out, len, len)] = '\0';
}

/*
 * The text a format of a context line (fmt, "SQL statement \"%s\""), as
 * translated in domain, puts before its first conversion (*prefix,
 * *prefix_len bytes) and, if suffix is not NULL, after it (*suffix, to its
 * end): false when there is no conversion, or, for the text after it, more
 * than one.  Allocates nothing.
 */
bool
bh_format_affixes(const char *domain, const char *fmt, const char **prefix,
				  size_t *prefix_len, const char **suffix)
{
	const char *translated = dgettext(domain, fmt);
	const char *spec = strchr(translated, '%');
	const char *after;
	int			argno;

	if (spec == NULL || (after = bh_skip_numbered_spec(spec, &argno)) == spec ||
		(suffix != NULL && strchr(after, '%') != NULL))
		return false;
	*prefix = translated;
	*prefix_len = spec - translated;
	if (suffix != NULL)
		*suffix = after;
	return true;
}

/* bh_safe_message() of an error into a new string. */
char *
bh_failure_message(const ErrorData *edata)
{
	int			size = (edata->message ? strlen(edata->message) : 0) +
	(edata->message_id ? strlen(edata->message_id) : 0) + 1;
	char	   *out = palloc(size);

	bh_safe_message(edata->message, edata->message_id, edata->domain, out, size);
	return out;
}

/* Does the format print a text ("%s", "%.*s"; not a number, not %m)? */
bool
bh_format_prints_text(const char *fmt)
{
	const char *p;

	for (p = fmt; (p = strchr(p, '%')) != NULL;)
	{
		const char *next = bh_skip_spec(p);

		if (next == p)
			p += (p[1] == '%') ? 2 : 1;
		else
		{
			if (next[-1] == 's')
				return true;
			p = next;
		}
	}
	return false;
}
