/*-------------------------------------------------------------------------
 *
 * error_context.c
 *		Reading an error's context: whether it shows a function's frame
 *		(bh_in_function), the texts of the statements a function ran through
 *		SPI that it shows, innermost first (bh_context_statement_next), and
 *		what its innermost line is (bh_context_body_preparing,
 *		bh_context_spi_statement, bh_context_plpgsql_rows,
 *		bh_context_plpgsql_fetch).
 *
 * The context is the lines the error context callbacks added to the error
 * (SQL statement "...", PL/pgSQL function f() line 3 at SQL statement,
 * SQL function "f" during startup), in the language of lc_messages: each
 * line is read by the format it was made from, as translated in its text
 * domain (bh_format_affixes, bh_message_arg: failure_message.c).  What an
 * error so read is the failure of is decided by the failure capture
 * (capture_failure.c).  Nothing here allocates: the error watch calls it
 * while an error is being raised.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "parser/parser.h"

#include "capture.h"
#include "query_text.h"

/*
 * How far a statement's text is read as SQL past its start, once a text
 * of the context was not closed so: this many times as far as its first
 * '"' and new line (bh_context_statement_next).
 */
#define BH_LEX_REACH 4

/* The first place in [p, end) where len bytes of text appear, or NULL. */
static const char *
bh_find_text(const char *p, const char *end, const char *text, size_t len)
{
	return (const char *) memmem(p, end - p, text, len);
}

/*
 * The context lines of a function's frame, by their formats and the text
 * domain each is translated in.
 */
static const struct
{
	const char *domain;
	const char *format;			/* untranslated, as errcontext() gets it */
}			bh_function_contexts[] = {
	{BH_PLPGSQL_DOMAIN, "PL/pgSQL function %s"},
	{BH_PLPGSQL_DOMAIN, "PL/pgSQL function %s %s"},
	{BH_PLPGSQL_DOMAIN, "PL/pgSQL function %s line %d %s"},
	{BH_PLPGSQL_DOMAIN, "PL/pgSQL function %s line %d at %s"},
	{BH_POSTGRES_DOMAIN, "SQL function \"%s\""},
	{BH_POSTGRES_DOMAIN, "SQL function \"%s\" statement %d"},
	{BH_POSTGRES_DOMAIN, "SQL function \"%s\" during startup"},
	{BH_POSTGRES_DOMAIN, "SQL function \"%s\" during inlining"},
};

/* The frames of the other procedural languages (untranslated) begin so. */
static const char *const bh_pl_contexts[] = {
	"PL/Perl function ", "PL/Python function ", "PL/Tcl function "
};

/*
 * Is the error raised inside a function (a frame of a procedural or SQL
 * function in its context: a trigger, a default, a function the statement
 * calls)?  Then it is the failure of the client's statement only if no
 * exception block inside catches it (bh_failure_subxact_abort).
 */
bool
bh_in_function(const char *context)
{
	const char *end;
	int			i;

	if (context == NULL)
		return false;
	end = context + strlen(context);
	/* in the language of lc_messages: PL/pgSQL's and PostgreSQL's own */
	for (i = 0; i < lengthof(bh_function_contexts); i++)
	{
		const char *prefix;
		size_t		plen;

		if (bh_format_affixes(bh_function_contexts[i].domain, bh_function_contexts[i].format,
							  &prefix, &plen, NULL) && plen > 0 &&
			bh_find_text(context, end, prefix, plen) != NULL)
			return true;
	}
	for (i = 0; i < lengthof(bh_pl_contexts); i++)
		if (strstr(context, bh_pl_contexts[i]) != NULL)
			return true;
	return false;
}

/*
 * The lines of the statements a function runs through SPI, by their
 * untranslated formats (PostgreSQL's text domain), NULL after them
 * (BH_SPI_CONTEXTS in all).
 */
static const char *const bh_spi_contexts[] = {
	"SQL statement \"%s\"", "SQL expression \"%s\"", "PL/pgSQL assignment \"%s\"", NULL
};

StaticAssertDecl(lengthof(bh_spi_contexts) == BH_SPI_CONTEXTS,
				 "BhContextScan has a place for each of bh_spi_contexts");

/*
 * Start a walk through the statements of the context (from its start).  A
 * format is ambiguous where a function frame's line begins, translated, as
 * it does: Japanese translates "SQL expression \"%s\"" as it does "SQL
 * function \"%s\"" (SQL関数"%s"), and so a SQL function's frame
 * (SQL関数"f"の行番号 2) as it would an expression f"の行番号 2 whose text
 * runs on to the next line's end.
 */
void
bh_context_scan_init(BhContextScan *scan, const char *context)
{
	int			i;
	int			j;

	scan->start = context;
	scan->end = context + strlen(context);
	scan->unclosed = false;
	for (i = 0; bh_spi_contexts[i] != NULL; i++)
	{
		scan->searched[i] = false;
		scan->next[i] = NULL;
		scan->ambiguous[i] = false;
		if (!bh_format_affixes(BH_POSTGRES_DOMAIN, bh_spi_contexts[i], &scan->prefix[i],
							   &scan->plen[i], &scan->suffix[i]) || scan->plen[i] == 0)
		{
			scan->prefix[i] = NULL;
			continue;
		}
		for (j = 0; j < lengthof(bh_function_contexts); j++)
			if (strncmp(dgettext(bh_function_contexts[j].domain, bh_function_contexts[j].format),
						scan->prefix[i], scan->plen[i]) == 0)
				scan->ambiguous[i] = true;
	}
}

/*
 * Is the line at p (to its end) a function frame's, of a format whose
 * translation is not that of the SPI format spi_format (where they are
 * the same, SQL関数"f" for a SQL function between its statements, the
 * line is read as an expression f, which names no table)?  spi_format
 * NULL: of any format.
 */
static bool
bh_context_function_frame(const char *p, const char *end, const char *spi_format)
{
	const char *eol = memchr(p, '\n', end - p);
	size_t		len = eol ? (size_t) (eol - p) : (size_t) (end - p);
	const char *spi = spi_format ? dgettext(BH_POSTGRES_DOMAIN, spi_format) : NULL;
	int			i;

	for (i = 0; i < lengthof(bh_function_contexts); i++)
	{
		int			start;
		int			stop;

		if ((spi == NULL ||
			 strcmp(dgettext(bh_function_contexts[i].domain, bh_function_contexts[i].format),
					spi) != 0) &&
			bh_message_arg(p, len, bh_function_contexts[i].format,
						   bh_function_contexts[i].domain, 1, &start, &stop))
			return true;
	}
	return false;
}

/* Can c be part of an SQL identifier (as scan.l reads one)? */
static bool
bh_ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_' || c == '$' || IS_HIGHBIT_SET(c);
}

/*
 * The lines of a COPY ... FROM reading a row (PostgreSQL's text domain,
 * untranslated; copyfrom.c, CopyFromErrorCallback), which follow the text
 * of a statement that C code runs through SPI as the row is read (a
 * column's DEFAULT or a domain's CHECK calling query_to_xml(), a trigger
 * written in C), and what each conversion prints (args, by argument
 * number): 'n' a relation's or a column's name as it is, unquoted (1 to
 * NAMEDATALEN - 1 bytes, on one line), 'l' a line number (digits), 'd' the
 * row or the field as read, cut by PostgreSQL (limit_printout_length: at
 * most BH_COPY_DATA bytes, or a few less then "..."), which may run over
 * several lines (a CSV field in quotes).
 */
#define BH_COPY_DATA 100
static const struct
{
	const char *format;
	const char *args;
}			bh_copy_contexts[] = {
	{"COPY %s, line %llu", "nl"},
	{"COPY %s, line %llu, column %s", "nln"},
	{"COPY %s, line %llu, column %s: \"%s\"", "nlnd"},
	{"COPY %s, line %llu, column %s: null input", "nln"},
	{"COPY %s, line %llu: \"%s\"", "nld"}
};

/*
 * How far back from a line's start a COPY line holding it in its data may
 * begin: more than its formats' text, two names, a line number and the
 * data take.
 */
#define BH_COPY_REACH (2 * NAMEDATALEN + BH_COPY_DATA + 256)

/*
 * Does p (to end) follow the COPY format f from there, its conversions
 * numbered from argno on and printing what args says
 * (bh_copy_contexts)?  The furthest place where it can end (a line's end
 * or end), or NULL; with want, want if it can end there (a line's end),
 * else NULL.  Each conversion is tried at every length it can have; the
 * literal text after it rules out nearly all.
 */
static const char *
bh_copy_format_end(const char *f, const char *args, int argno, const char *p,
				   const char *end, const char *want)
{
	const char *best = NULL;
	const char *q;
	char		kind;
	int			n = 0;
	int			len;

	for (; *f != '\0' && *f != '%'; f++, p++)
		if (p >= end || *p != *f)
			return NULL;
	if (*f == '\0')
		return (want ? p == want : (p == end || *p == '\n')) ? p : NULL;
	/* the conversion: %s, %llu, or numbered (%2$s) */
	for (q = f + 1; isdigit((unsigned char) *q); q++)
		n = n * 10 + (*q - '0');
	if (*q == '$' && n > 0)
		argno = n;
	else
		q = f + 1;
	while (*q != '\0' && strchr("sdiu", *q) == NULL)
		q++;
	if (*q == '\0' || argno < 1 || argno > (int) strlen(args))
		return NULL;
	kind = args[argno - 1];
	for (len = (kind == 'd') ? 0 : 1; p + len <= end; len++)
	{
		const char *r;

		if (kind == 'l' ? (len > 20 || !isdigit((unsigned char) p[len - 1])) :
			kind == 'n' ? (len >= NAMEDATALEN || p[len - 1] == '\n') :
			len > BH_COPY_DATA + 3)
			break;
		if (kind == 'd' && len > BH_COPY_DATA && memcmp(p + len - 3, "...", 3) != 0)
			continue;
		r = bh_copy_format_end(q + 1, args, argno + 1, p + len, end, want);
		if (r != NULL && (best == NULL || r > best))
			best = r;
	}
	return best;
}

/*
 * Does the line of a COPY ... FROM reading a row start at p (a line's
 * start), exactly as one of bh_copy_contexts (as is, or translated)?
 * Where it ends at the furthest (its data may run over lines), or NULL;
 * with want (a line's end), want if it can end there, else NULL.
 */
static const char *
bh_copy_line_end(const char *p, const char *end, const char *want)
{
	const char *best = NULL;
	int			i;

	for (i = 0; i < lengthof(bh_copy_contexts); i++)
	{
		const char *translated = dgettext(BH_POSTGRES_DOMAIN, bh_copy_contexts[i].format);
		const char *r;

		r = bh_copy_format_end(bh_copy_contexts[i].format, bh_copy_contexts[i].args, 1,
							   p, end, want);
		if (r != NULL && (best == NULL || r > best))
			best = r;
		if (strcmp(translated, bh_copy_contexts[i].format) == 0)
			continue;
		r = bh_copy_format_end(translated, bh_copy_contexts[i].args, 1, p, end, want);
		if (r != NULL && (best == NULL || r > best))
			best = r;
	}
	return best;
}

/*
 * Is the statement line at p (a line's start; its text at text) inside the
 * row's data of a COPY line begun on an earlier line?  PostgreSQL shows at
 * most BH_COPY_DATA bytes of it: a line starting there is the row's (a
 * CSV field holding a line SQL statement "..." is no statement), unless
 * the COPY line can end right before it and its text is a COPY, past
 * white space and comments (the statement that ran the COPY through SPI,
 * EXECUTE 'COPY t FROM ...', also after a comment).
 */
static bool
bh_in_copy_data(const BhContextScan *scan, const char *p, const char *text)
{
	const char *s;

	if (p == scan->start)
		return false;
	for (s = p - 1; p - s <= BH_COPY_REACH; s--)
	{
		const char *e;

		if ((s == scan->start || s[-1] == '\n') &&
			(e = bh_copy_line_end(s, scan->end, NULL)) != NULL && e > p)
		{
			return !(bh_sql_is_copy(text) &&
					 bh_copy_line_end(s, scan->end, p - 1) != NULL);
		}
		if (s == scan->start)
			break;
	}
	return false;
}

/*
 * Does a context line start at p (a line's start), as one may follow a
 * statement's text: the context's end, another statement's line (SPI run
 * inside SPI: a foreign key's check), the frame of the function that ran
 * the statement (PL/pgSQL's, a SQL function's, PL/Perl's, PL/Python's,
 * PL/Tcl's) or the line of a COPY ... FROM reading a row?
 */
static bool
bh_context_line_at(const BhContextScan *scan, const char *p)
{
	int			i;

	if (p == scan->end)
		return true;
	for (i = 0; bh_spi_contexts[i] != NULL; i++)
		if (scan->prefix[i] != NULL &&
			strncmp(p, scan->prefix[i], scan->plen[i]) == 0)
			return true;
	for (i = 0; i < lengthof(bh_pl_contexts); i++)
		if (strncmp(p, bh_pl_contexts[i], strlen(bh_pl_contexts[i])) == 0)
			return true;
	return bh_copy_line_end(p, scan->end, NULL) != NULL ||
		bh_context_function_frame(p, scan->end, NULL);
}

/* Is suffix at q, followed by a line's end or the context's end? */
static bool
bh_suffix_ends_line(const char *q, const char *end, const char *suffix, size_t slen)
{
	return (size_t) (end - q) >= slen && memcmp(q, suffix, slen) == 0 &&
		(q + slen == end || q[slen] == '\n');
}

/*
 * Where the statement text from q ends, read as SQL: the first place where
 * suffix is followed by a line's end (or the context's) outside a string
 * literal ('...', E'...', $tag$...$tag$), a quoted identifier and a block
 * comment (these nest, as in PostgreSQL: one opened inside another closes
 * before it).  A text ending with a quoted identifier, "x" and the suffix
 * '"', ends there, not in a doubled quote.  A text may end in a line
 * comment: inside one, the place counts only where a context line follows
 * (bh_context_line_at), not more of the statement (-- say " and a new
 * line).  NULL where the text read so is not closed (a literal running on
 * to the context's end: backslashes escaping quotes with
 * standard_conforming_strings off, an unterminated literal's syntax error)
 * or not closed before limit (nothing is read far past it): the caller
 * takes the first place instead.
 */
static const char *
bh_statement_end_lexed(const BhContextScan *scan, const char *q, const char *limit,
					   const char *suffix, size_t slen)
{
	const char *start = q;
	const char *end = scan->end;
	bool		comment = false;	/* in a line comment */

	while (q < end && q <= limit)
	{
		const char *close = NULL;	/* what closes what opens at q */
		size_t		clen = 1;
		size_t		olen = 1;
		bool		backslash = false;

		if (bh_suffix_ends_line(q, end, suffix, slen) &&
			(!comment || bh_context_line_at(scan, Min(q + slen + 1, end))))
			return q;
		if (comment)
			comment = (*q != '\n');
		else if (*q == '\'')
		{
			close = "'";
			backslash = !standard_conforming_strings ||
				(q > start && (q[-1] == 'E' || q[-1] == 'e') &&
				 (q - 1 == start || !bh_ident_char(q[-2])));
		}
		else if (*q == '"')
			close = "\"";
		else if (*q == '/' && q + 1 < end && q[1] == '*')
		{
			int			depth = 0;

			/* past its closing, its own comments in it closed too */
			do
			{
				if (q + 1 >= end || q > limit)
					return NULL;
				if (q[0] == '/' && q[1] == '*')
				{
					depth++;
					q += 2;
				}
				else if (q[0] == '*' && q[1] == '/')
				{
					depth--;
					q += 2;
				}
				else
					q++;
			} while (depth > 0);
			continue;
		}
		else if (*q == '-' && q + 1 < end && q[1] == '-')
			comment = true;		/* to the line's end: the text may end there */
		else if (*q == '$' && (q == start || !bh_ident_char(q[-1])))
		{
			const char *t = q + 1;

			if (t < end && !isdigit((unsigned char) *t))
				while (t < end && *t != '$' && bh_ident_char(*t))
					t++;
			if (t < end && *t == '$')
			{
				close = q;		/* the same tag */
				clen = olen = t + 1 - q;
			}
		}
		if (close == NULL)
		{
			q++;
			continue;
		}
		/* past its closing */
		for (q += olen;; q++)
		{
			if (q >= end || (size_t) (end - q) < clen || q > limit)
				return NULL;
			if (backslash && *q == '\\')
				q++;
			else if (memcmp(q, close, clen) == 0)
			{
				/* a quote doubled is one, unless the line's end follows */
				if (clen > 1 || q + 1 >= end || q[1] != *close ||
					bh_suffix_ends_line(q + 1, end, suffix, slen))
					break;
				q++;
			}
		}
		q += clen;
	}
	return NULL;
}

/*
 * The first statement's text in the error's context from p on (p at or
 * past where the walk scan last ended): its start, *end past it,
 * *statement if it is an SQL statement; NULL: none.  The context's lines
 * are in the language of lc_messages (SQL statement "...", instruction
 * SQL « ... »): the text is between what the line's format, translated,
 * puts before and after it (bh_format_affixes), up to the first place
 * where that is followed by a line's end outside the text's literals
 * (bh_statement_end_lexed: a literal may hold '"' and a new line, then a
 * line of its own SQL statement "..."), or else the first such place
 * (also, once a text was not closed, where a later one is not closed
 * within BH_LEX_REACH times as far as it); a
 * function frame's line that a translation begins as an SPI line is none
 * (bh_context_function_frame), as in English, nor is a line inside the
 * row's data of a COPY line (bh_in_copy_data).
 */
const char *
bh_context_statement_next(BhContextScan *scan, const char *p, const char **end,
						  bool *statement)
{
	const char *next = NULL;
	const char *suffix = NULL;
	const char *start = NULL;
	const char *q;
	const char *first;
	const char *limit;
	size_t		slen;
	size_t		reach;
	int			i;

	for (i = 0; bh_spi_contexts[i] != NULL; i++)
	{
		if (scan->prefix[i] == NULL)
			continue;
		if (!scan->searched[i] || (scan->next[i] != NULL && scan->next[i] < p))
		{
			q = bh_find_text(p, scan->end, scan->prefix[i], scan->plen[i]);
			while (q != NULL && ((q > scan->start && q[-1] != '\n') ||
								 (scan->ambiguous[i] &&
								  bh_context_function_frame(q, scan->end, bh_spi_contexts[i])) ||
								 bh_in_copy_data(scan, q, q + scan->plen[i])))
				q = bh_find_text(q + scan->plen[i], scan->end, scan->prefix[i], scan->plen[i]);
			scan->next[i] = q;
			scan->searched[i] = true;
		}
		if (scan->next[i] != NULL && (next == NULL || scan->next[i] < next))
		{
			next = scan->next[i];
			start = next + scan->plen[i];
			suffix = scan->suffix[i];
			*statement = (i == 0);
		}
	}
	if (next == NULL)
		return NULL;
	slen = strlen(suffix);
	/* the first place, where it ends if it is not closed read as SQL */
	for (first = start; (first = bh_find_text(first, scan->end, suffix, slen)) != NULL; first++)
		if (first[slen] == '\n')
			break;
	if (first == NULL)
	{
		first = scan->end;
		if (scan->end - start >= slen && strcmp(scan->end - slen, suffix) == 0)
			first -= slen;
	}

	/*
	 * A text not closed is read on to the context's end: once one was, each
	 * later one is read at most BH_LEX_REACH times as far as its first place,
	 * so that the walk stays linear in the context's length (a recursion
	 * whose statements each hold a literal that backslashes leave unclosed),
	 * however many frames.
	 */
	reach = ((size_t) (first - start) + slen + 1) * BH_LEX_REACH;
	limit = (scan->unclosed && reach < (size_t) (scan->end - start)) ? start + reach : scan->end;
	*end = bh_statement_end_lexed(scan, start, limit, suffix, slen);
	if (*end == NULL)
	{
		scan->unclosed = true;
		*end = first;
	}
	return start;
}

/*
 * The length of text's first line (up to its new line, or all of it);
 * *eol, if eol is given: the new line, or NULL.
 */
static size_t
bh_first_line(const char *text, const char **eol)
{
	const char *nl = strchr(text, '\n');

	if (eol != NULL)
		*eol = nl;
	return nl ? (size_t) (nl - text) : strlen(text);
}

/*
 * Is the innermost line of an error's context a SQL function's whose body
 * PostgreSQL prepares: "SQL function \"...\" during startup" (it runs) or
 * "... during inlining" (the planner inlines it, or sees whether it can)?
 */
bool
bh_context_body_preparing(const char *context)
{
	size_t		len;
	int			start;
	int			end;

	if (context == NULL)
		return false;
	len = bh_first_line(context, NULL);
	/* in the language of lc_messages */
	return bh_message_arg(context, len, "SQL function \"%s\" during startup",
						  BH_POSTGRES_DOMAIN, 1, &start, &end) ||
		bh_message_arg(context, len, "SQL function \"%s\" during inlining",
					   BH_POSTGRES_DOMAIN, 1, &start, &end);
}

/* The json parser's context line (jsonfuncs.c report_json_context) */
#define BH_JSON_CONTEXT "JSON data, line %d: %s%s%s"

/*
 * Is the line (len bytes) one of the json parser's, made from fmt (its
 * format, as translated or not): the text before the line number, the
 * number, the text up to the input parsed?  (Its conversions that follow
 * each other bh_message_arg cannot align.)
 */
static bool
bh_json_line(const char *line, size_t len, const char *fmt)
{
	const char *num = strstr(fmt, "%d");
	const char *text = num ? strstr(num + 2, "%s") : NULL;
	size_t		before;
	size_t		after;
	size_t		i;

	if (text == NULL)
		return false;
	before = num - fmt;
	after = text -(num + 2);

	if (len < before || strncmp(line, fmt, before) != 0)
		return false;
	for (i = before; i < len && line[i] >= '0' && line[i] <= '9'; i++)
		;
	return i > before && len - i >= after && strncmp(line + i, num + 2, after) == 0;
}

/* PL/pgSQL's context line of a function running (pl_exec.c) */
#define BH_PLPGSQL_LINE "PL/pgSQL function %s line %d at %s"
/* PL/pgSQL's context line of an expression's query (pl_exec.c exec_eval_expr) */
#define BH_PLPGSQL_QUERY "query: %s"

/*
 * Is the statement type that bh_message_arg read (start to end) in a
 * PL/pgSQL function's line type, as translated?  Where the text before it in
 * the line's format is also in the type (ka_GE: "%s-სთან" after a space,
 * "SQL ოპერატორი"), what is read is the type's end.
 */
static bool
bh_plpgsql_type_is(const char *line, int start, int end, const char *type)
{
	size_t		tlen = strlen(type);

	return (size_t) (end - start) <= tlen && (size_t) end >= tlen &&
		strncmp(line + end - tlen, type, tlen) == 0;
}

/*
 * Does a PL/pgSQL function's line follow the line of an expression's query
 * that starts the context (its text, "query: ...", may have lines of its
 * own)?
 */
static bool
bh_plpgsql_line_after_query(const char *context)
{
	const char *p = context;
	const char *eol;
	int			start;
	int			end;

	while ((eol = strchr(p, '\n')) != NULL)
	{
		p = eol + 1;
		eol = strchr(p, '\n');
		if (bh_message_arg(p, eol ? (size_t) (eol - p) : strlen(p), BH_PLPGSQL_LINE,
						   BH_PLPGSQL_DOMAIN, 3, &start, &end))
			return true;
	}
	return false;
}

/*
 * The innermost line of an error's context that PL/pgSQL's frame wrote, in
 * the language of lc_messages: a PL/pgSQL function's line at a statement
 * (its type from *start to *end, translated or not), or the line of an
 * expression's query ("query: ...", pl_exec.c exec_eval_expr: *query)
 * followed by that function's line, at whatever statement evaluates the
 * expression.  The line the json parser adds to its error (jsonfuncs.c
 * report_json_context: the text parsed, with no new line) may come first:
 * it pushes no frame.  NULL: neither.
 */
static const char *
bh_context_plpgsql_line(const char *context, int *start, int *end, bool *query)
{
	const char *eol;
	const char *query_prefix;
	size_t		query_prefix_len;
	size_t		len;

	*query = false;
	if (context == NULL)
		return NULL;
	len = bh_first_line(context, &eol);
	/* the json parser's line (its error's own, no frame) before it */
	if (eol != NULL && (bh_json_line(context, len, BH_JSON_CONTEXT) ||
						bh_json_line(context, len,
									 dgettext(BH_POSTGRES_DOMAIN, BH_JSON_CONTEXT))))
	{
		context = eol + 1;
		len = bh_first_line(context, &eol);
	}
	/* an expression's query: its function's line, at any statement */
	if (bh_format_affixes(BH_PLPGSQL_DOMAIN, BH_PLPGSQL_QUERY, &query_prefix,
						  &query_prefix_len, NULL) &&
		strncmp(context, query_prefix, query_prefix_len) == 0)
	{
		*query = true;
		return bh_plpgsql_line_after_query(context) ? context : NULL;
	}
	if (!bh_message_arg(context, len, BH_PLPGSQL_LINE, BH_PLPGSQL_DOMAIN, 3, start, end))
		return NULL;
	return context;
}

/* A PL/pgSQL statement type of a function's line, translated or not */
typedef struct BhPlpgsqlType
{
	const char *type;
	bool		translated;		/* in PL/pgSQL's text domain */
} BhPlpgsqlType;

/*
 * Is the innermost line of an error's context a PL/pgSQL function's at a
 * statement of one of the types (ending with a NULL type), in the
 * language of lc_messages, past the json parser's line
 * (bh_context_plpgsql_line)?  Or, where query is true, the line of an
 * expression's query followed by that function's line.
 */
static bool
bh_context_plpgsql_at(const char *context, const BhPlpgsqlType *types, bool query)
{
	const char *line;
	int			start;
	int			end;
	bool		is_query;
	int			i;

	line = bh_context_plpgsql_line(context, &start, &end, &is_query);
	if (line == NULL || is_query)
		return line != NULL && query;
	for (i = 0; types[i].type != NULL; i++)
		if (bh_plpgsql_type_is(line, start, end,
							   types[i].translated ?
							   dgettext(BH_PLPGSQL_DOMAIN, types[i].type) : types[i].type))
			return true;
	return false;
}

/*
 * Is the innermost line of an error's context a PL/pgSQL function's, at a
 * statement that runs its query through SPI and then takes the rows it
 * returned itself: "PL/pgSQL function ... line N at SQL statement" (SELECT
 * ... INTO, a write's RETURNING ... INTO, a SELECT without INTO) or "... at
 * EXECUTE", or at a statement that evaluates its query's text, as
 * EXECUTE does, before it runs it ("... at FOR over EXECUTE statement",
 * "at OPEN", "at RETURN QUERY": that text null)?  Or the line of an
 * expression's query followed by that function's line
 * (bh_context_plpgsql_line).  In the language of lc_messages: the lines'
 * formats, "SQL statement" and "FOR over EXECUTE statement" are
 * translated in PL/pgSQL's text domain, EXECUTE, OPEN and RETURN QUERY
 * never (a translation of the FOR's that ends with "EXECUTE" is read whole:
 * not taken for EXECUTE's).  (While SPI runs the query, its own line comes
 * first.)
 */
bool
bh_context_plpgsql_rows(const char *context)
{
	static const BhPlpgsqlType types[] = {
		{"SQL statement", true},
		{"EXECUTE", false},
		{"FOR over EXECUTE statement", true},
		{"OPEN", false},
		{"RETURN QUERY", false},
		{NULL, false}
	};

	return bh_context_plpgsql_at(context, types, true);
}

/*
 * Is the innermost line of an error's context a PL/pgSQL function's at a
 * statement that takes the rows it fetched from a cursor into its
 * variable: "... at FOR over SELECT rows", "... at FOR over EXECUTE
 * statement" (translated in PL/pgSQL's text domain; the latter also a
 * statement that takes rows SPI returned it as it evaluates its text,
 * bh_context_plpgsql_rows) or "... at FETCH" (never translated), past the
 * json parser's line (bh_context_plpgsql_line)?  (While the cursor's query
 * runs, its executor's errors have the same line: the caller tells them.)
 */
bool
bh_context_plpgsql_fetch(const char *context)
{
	static const BhPlpgsqlType types[] = {
		{"FOR over SELECT rows", true},
		{"FOR over EXECUTE statement", true},
		{"FETCH", false},
		{NULL, false}
	};

	return bh_context_plpgsql_at(context, types, false);
}

/*
 * Is the innermost line of an error's context that of a statement a
 * function runs through SPI (bh_spi_contexts: a PL/pgSQL statement or
 * expression), of the text sql?
 */
bool
bh_context_spi_statement(const char *context, const char *sql)
{
	size_t		len = strlen(sql);
	int			i;

	if (context == NULL)
		return false;
	for (i = 0; bh_spi_contexts[i] != NULL; i++)
	{
		const char *prefix;
		const char *suffix;
		size_t		plen;

		if (bh_format_affixes(BH_POSTGRES_DOMAIN, bh_spi_contexts[i], &prefix, &plen, &suffix) &&
			plen > 0 && strncmp(context, prefix, plen) == 0)
			return strncmp(context + plen, sql, len) == 0 &&
				strncmp(context + plen + len, suffix, strlen(suffix)) == 0;
	}
	return false;
}
