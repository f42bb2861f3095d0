/*-------------------------------------------------------------------------
 *
 * query_text.c
 *		Looking at a statement's SQL text without parsing it: which
 *		identifiers it names, and what its leading keyword makes it.
 *
 * A statement that fails before the executor (in parse analysis, the
 * rewriter or the planner) is only known to bh_audit by its text, and it
 * is looked at from the abort path, where nothing may raise an error and
 * the catalog cannot be read.  So this is a small scanner, not the
 * grammar: it skips string constants (standard, E'' and dollar-quoted),
 * comments (nested block comments too) and numbers, downcases unquoted
 * identifiers as PostgreSQL does for ASCII letters, and keeps quoted
 * identifiers exactly.  It allocates nothing.  Nothing it reads is ever
 * copied into an event.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "query_text.h"

typedef struct BhSqlToken
{
	const char *start;			/* identifier text (without quotes) */
	int			len;
	bool		quoted;
	bool		ident;			/* false: punctuation, constant or operator */
	char		punct;			/* the punctuation character, if any */
} BhSqlToken;

static bool
bh_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool
bh_ident_cont(unsigned char c)
{
	return bh_ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

/* Skip a dollar-quoted constant starting at p ('$'); NULL if p starts none. */
static const char *
bh_skip_dollar(const char *p)
{
	const char *q = p + 1;
	size_t		tag_len;

	if (*q >= '0' && *q <= '9')
		return NULL;			/* a parameter, $1 */
	while (*q && *q != '$' && bh_ident_cont((unsigned char) *q))
		q++;
	if (*q != '$')
		return NULL;
	tag_len = (size_t) (q - p) + 1;
	for (q++; *q; q++)
		if (*q == '$' && strncmp(q, p, tag_len) == 0)
			return q + tag_len;
	return q;					/* unterminated: to the end */
}

/*
 * Skip a string constant whose opening quote is at p ('' stands for a
 * quote; with backslashes, a backslash escapes the next character); returns the
 * position after the closing quote, or the end of an unterminated one.
 */
static const char *
bh_skip_string(const char *p, bool backslashes)
{
	for (p++; *p; p++)
	{
		if (backslashes && *p == '\\' && p[1])
			p++;
		else if (*p == '\'' && p[1] == '\'')
			p++;
		else if (*p == '\'')
			return p + 1;
	}
	return p;
}

/*
 * The next token at *pos; false at the end of the text.  Only identifiers
 * and single punctuation characters matter to the callers.
 */
static bool
bh_sql_next(const char **pos, BhSqlToken *tok)
{
	const char *p = *pos;

	for (;;)
	{
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
			p++;
		if (p[0] == '-' && p[1] == '-')
		{
			while (*p && *p != '\n')
				p++;
			continue;
		}
		if (p[0] == '/' && p[1] == '*')
		{
			int			depth = 1;

			p += 2;
			while (*p && depth > 0)
			{
				if (p[0] == '/' && p[1] == '*')
					depth++, p += 2;
				else if (p[0] == '*' && p[1] == '/')
					depth--, p += 2;
				else
					p++;
			}
			continue;
		}
		break;
	}
	if (*p == '\0')
	{
		*pos = p;
		return false;
	}

	memset(tok, 0, sizeof(*tok));
	if ((p[0] == 'E' || p[0] == 'e') && p[1] == '\'')
		p = bh_skip_string(p + 1, true);	/* E'...': backslash escapes */
	else if (*p == '\'')
		p = bh_skip_string(p, false);
	else if (*p == '"')
	{
		tok->ident = true;
		tok->quoted = true;
		tok->start = ++p;
		for (; *p; p++)
		{
			if (*p == '"' && p[1] == '"')
				p++;
			else if (*p == '"')
				break;
		}
		tok->len = (int) (p - tok->start);
		if (*p)
			p++;
	}
	else if (*p == '$' && bh_skip_dollar(p) != NULL)
		p = bh_skip_dollar(p);
	else if (bh_ident_start((unsigned char) *p))
	{
		/* U&'...' and B'...' / X'...' constants start like identifiers */
		tok->ident = true;
		tok->start = p;
		while (bh_ident_cont((unsigned char) *p))
			p++;
		tok->len = (int) (p - tok->start);
		if (*p == '\'' || (*p == '&' && p[1] == '\''))
		{
			tok->ident = false;
			p = bh_skip_string(*p == '&' ? p + 1 : p, false);
		}
	}
	else if (*p >= '0' && *p <= '9')
	{
		while (bh_ident_cont((unsigned char) *p) || *p == '.')
			p++;
	}
	else
		tok->punct = *p++;
	*pos = p;
	return true;
}

/* Does an identifier token spell name (as PostgreSQL would resolve it)? */
static bool
bh_sql_token_is(const BhSqlToken *tok, const char *name)
{
	int			i;
	int			n = 0;

	if (!tok->ident)
		return false;
	if (tok->quoted)
	{
		for (i = 0; i < tok->len; i++, n++)
		{
			if (name[n] != tok->start[i])
				return false;
			if (tok->start[i] == '"')
				i++;			/* "" stands for one quote */
		}
		return name[n] == '\0';
	}
	for (i = 0; i < tok->len; i++)
	{
		char		c = tok->start[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (name[i] != c)
			return false;
	}
	return name[i] == '\0';
}

/*
 * The next identifier of the text from *pos, as PostgreSQL resolves it
 * (unquoted: ASCII letters downcased; quoted: "" as one quote; cut to
 * NAMEDATALEN - 1 bytes at a character boundary), into name (NAMEDATALEN
 * bytes); *quoted, whether it is quoted; *after, the punctuation character
 * of the last token skipped before it ('\0': none skipped, ' ': a constant
 * or an operator).  False at the end of the text.
 */
static bool
bh_sql_next_name(const char **pos, char *name, bool *quoted, char *after)
{
	BhSqlToken	tok;
	int			i;
	int			n = 0;

	*after = '\0';
	for (;;)
	{
		if (*pos == NULL || !bh_sql_next(pos, &tok))
			return false;
		if (tok.ident)
			break;
		*after = tok.punct != '\0' ? tok.punct : ' ';
	}
	*quoted = tok.quoted;
	for (i = 0; i < tok.len && n < NAMEDATALEN - 1; i++)
	{
		char		c = tok.start[i];

		if (tok.quoted && c == '"')
			i++;				/* "" stands for one quote */
		else if (!tok.quoted && c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		name[n++] = c;
	}
	name[pg_mbcliplen(name, n, n)] = '\0';
	return true;
}

/*
 * bh_sql_next_name(), with the name's schema when the text qualifies it
 * (schema.name, or database.schema.name) into schema (NAMEDATALEN bytes;
 * "" when unqualified).  If place is given, *place is set to the name's
 * place as a keyword (see bh_sql_target_action): BH_SQL_LEADING for an
 * unquoted, unqualified identifier that starts the text or follows "(",
 * ")" or ";" (the words that start a statement, a WITH query's body or
 * the statement after its WITH queries), BH_SQL_WORD for another one,
 * BH_SQL_NO_KEYWORD for a quoted or qualified name, never a keyword;
 * start is the text's beginning.
 */
bool
bh_sql_next_qualified_name(const char **pos, char *schema, char *name,
						   const char *start, BhSqlPlace *place)
{
	bool		at_start = (*pos == start);
	bool		quoted;
	char		after;
	bool		part_quoted;
	char		part_after;

	if (!bh_sql_next_name(pos, name, &quoted, &after))
		return false;
	if (place != NULL)
		*place = quoted ? BH_SQL_NO_KEYWORD :
			after == '(' || after == ')' || after == ';' || (after == '\0' && at_start) ?
			BH_SQL_LEADING : BH_SQL_WORD;
	schema[0] = '\0';
	for (;;)
	{
		const char *peek = *pos;
		BhSqlToken	tok;

		if (peek == NULL || !bh_sql_next(&peek, &tok) || tok.punct != '.')
			return true;
		/* name qualifies the next one */
		*pos = peek;
		strlcpy(schema, name, NAMEDATALEN);
		if (!bh_sql_next_name(pos, name, &part_quoted, &part_after))
		{
			strlcpy(name, schema, NAMEDATALEN); /* "x." at the end */
			schema[0] = '\0';
			return true;
		}
		if (place != NULL)
			*place = BH_SQL_NO_KEYWORD;
	}
}

/*
 * The action of the statement starting at *pos (see bh_sql_action), or
 * NULL; *pos and *tokp are left at the last token looked at, *pos is NULL
 * at the end of the text.
 */
static const char *
bh_sql_statement_action(const char **pos, BhSqlToken *tokp)
{
	const char *sql = *pos;
	BhSqlToken	tok;
	const char *action = NULL;

	do
	{
		if (!bh_sql_next(&sql, &tok))
		{
			*pos = NULL;		/* the end of the text */
			return NULL;
		}
	} while (tok.punct == '(' || tok.punct == ';');
	if (bh_sql_token_is(&tok, "select") || bh_sql_token_is(&tok, "table") ||
		bh_sql_token_is(&tok, "values") || bh_sql_token_is(&tok, "declare"))
		action = "READ";
	else if (bh_sql_token_is(&tok, "insert"))
		action = "CREATE";
	else if (bh_sql_token_is(&tok, "update") || bh_sql_token_is(&tok, "merge"))
		action = "UPDATE";
	else if (bh_sql_token_is(&tok, "delete") || bh_sql_token_is(&tok, "truncate"))
		action = "DELETE";
	else if (bh_sql_token_is(&tok, "with"))
	{
		action = "READ";
		while (bh_sql_next(&sql, &tok))
		{
			if (bh_sql_token_is(&tok, "insert"))
				return "CREATE";
			if (bh_sql_token_is(&tok, "update") || bh_sql_token_is(&tok, "merge"))
				return "UPDATE";
			if (bh_sql_token_is(&tok, "delete"))
				return "DELETE";
		}
	}
	else if (bh_sql_token_is(&tok, "copy"))
	{
		int			depth = 0;

		/* COPY (query) TO; COPY table [(columns)] FROM | TO */
		if (!bh_sql_next(&sql, &tok) || tok.punct == '(')
			return "EXPORT";
		while (bh_sql_next(&sql, &tok))
		{
			if (tok.punct == '(')
				depth++;
			else if (tok.punct == ')')
				depth--;
			else if (depth == 0 && bh_sql_token_is(&tok, "to"))
				return "EXPORT";
			else if (depth == 0 && bh_sql_token_is(&tok, "from"))
				return "CREATE";
		}
	}
	*tokp = tok;
	*pos = sql;
	return action;
}

/*
 * The schema action of a data-manipulating statement text: READ, EXPORT,
 * CREATE, UPDATE or DELETE; NULL when it holds none (utility statements,
 * EXPLAIN).  The leading keyword of the first data-manipulating statement
 * decides (a string of several, "BEGIN; INSERT ...", is looked through);
 * a WITH query is the first INSERT, UPDATE, DELETE or MERGE that follows,
 * else a read; COPY is an export with TO (or a query) and a creation with
 * FROM; TRUNCATE is a deletion.
 */
const char *
bh_sql_action(const char *sql)
{
	BhSqlToken	tok;

	if (sql == NULL)
		return NULL;
	for (;;)
	{
		const char *action = bh_sql_statement_action(&sql, &tok);
		int			depth = 0;

		if (action != NULL || sql == NULL)
			return action;
		/* not one: on to the next statement of the string */
		while (tok.punct != ';' || depth > 0)
		{
			if (tok.punct == '(')
				depth++;
			else if (tok.punct == ')')
				depth--;
			if (!bh_sql_next(&sql, &tok))
				return NULL;
		}
	}
}

/*
 * The action of the command whose target a name is, from the two words the
 * text has before it and their places (as bh_sql_next_qualified_name gives
 * them): INSERT INTO, MERGE INTO (UPDATE, as bh_sql_action), UPDATE,
 * DELETE FROM, the command's word starting a statement, a WITH query's
 * body or the statement after its WITH queries (BH_SQL_LEADING); NULL for
 * a name at any other place (a column label or an alias spelled like a
 * command, FOR [NO KEY] UPDATE, DO UPDATE).
 */
const char *
bh_sql_target_action(const char *word1, BhSqlPlace place1,
					 const char *word2, BhSqlPlace place2)
{
	if (place2 == BH_SQL_LEADING && strcmp(word2, "update") == 0)
		return "UPDATE";
	if (place1 != BH_SQL_LEADING || place2 != BH_SQL_WORD)
		return NULL;
	if (strcmp(word2, "into") == 0)
		return strcmp(word1, "insert") == 0 ? "CREATE" :
			strcmp(word1, "merge") == 0 ? "UPDATE" : NULL;
	if (strcmp(word2, "from") == 0 && strcmp(word1, "delete") == 0)
		return "DELETE";
	return NULL;
}

/*
 * The end of the statement that starts at sql: the semicolon that ends it
 * (outside parentheses and outside a BEGIN ATOMIC ... END body, where CASE
 * ... END nests), or the end of the text.  *tokens is set to whether the
 * statement holds any token at all.
 */
static const char *
bh_sql_statement_end(const char *sql, bool *tokens)
{
	const char *p = sql;
	BhSqlToken	tok;
	int			depth = 0;
	int			atomic = 0;
	bool		after_begin = false;

	*tokens = false;
	while (bh_sql_next(&p, &tok))
	{
		if (tok.punct == ';' && depth <= 0 && atomic == 0)
			return p - 1;
		*tokens = true;
		if (tok.punct == '(')
			depth++;
		else if (tok.punct == ')')
			depth--;
		else if (atomic > 0 && (bh_sql_token_is(&tok, "case") ||
								bh_sql_token_is(&tok, "end")))
			atomic += bh_sql_token_is(&tok, "case") ? 1 : -1;
		else if (after_begin && bh_sql_token_is(&tok, "atomic"))
			atomic++;
		after_begin = bh_sql_token_is(&tok, "begin");
	}
	return p;
}

/*
 * In a text of several statements (a client's message "...; ..."), the
 * statement that holds byte offset (the part of the text from the
 * semicolon ending the statement before, to the semicolon ending it):
 * *start and *end; an offset past the last statement gives an empty one
 * at the end of the text.  False, and nothing set, when the text holds one
 * statement (semicolons and comments around it aside).
 */
bool
bh_sql_statement_at(const char *sql, int offset, int *start, int *end)
{
	const char *p = sql;
	const char *found_start = NULL;
	const char *found_end = NULL;
	int			statements = 0;

	for (;;)
	{
		bool		tokens;
		const char *stop = bh_sql_statement_end(p, &tokens);

		statements += tokens;
		if (found_start == NULL && offset <= stop - sql)
		{
			found_start = p;
			found_end = stop;
		}
		if (*stop == '\0')
			break;
		p = stop + 1;
	}
	if (statements <= 1)
		return false;
	if (found_start == NULL)
		found_start = found_end = p + strlen(p);
	*start = (int) (found_start - sql);
	*end = (int) (found_end - sql);
	return true;
}

/*
 * Does the text hold no statement: nothing but semicolons, white space and
 * comments?  (What follows the last statement of a text of several.)
 */
bool
bh_sql_no_statement(const char *sql)
{
	BhSqlToken	tok;

	while (bh_sql_next(&sql, &tok))
		if (tok.punct != ';')
			return false;
	return true;
}

/* The first word of the text, past opening parentheses and semicolons. */
static bool
bh_sql_first_token(const char **sql, BhSqlToken *tok)
{
	do
	{
		if (*sql == NULL || !bh_sql_next(sql, tok))
			return false;
	} while (tok->punct == '(' || tok->punct == ';');
	return true;
}

/*
 * Is the text one TRUNCATE statement?  Every name in it is a table's (its
 * other words are keywords).
 */
bool
bh_sql_is_truncate(const char *sql)
{
	BhSqlToken	tok;

	if (!bh_sql_first_token(&sql, &tok) || !bh_sql_token_is(&tok, "truncate"))
		return false;
	/* nothing after a semicolon but more of them */
	while (bh_sql_next(&sql, &tok))
		if (tok.punct == ';')
		{
			while (bh_sql_next(&sql, &tok))
				if (tok.punct != ';')
					return false;
			break;
		}
	return true;
}

/*
 * The action of a text that is a COPY (its first statement): CREATE for
 * COPY ... FROM, whose rows go into the table it names or into that
 * table's partitions; EXPORT for COPY ... TO, also of a query, which
 * PostgreSQL analyses only as the COPY runs.  NULL for another statement.
 */
const char *
bh_sql_copy_action(const char *sql)
{
	if (!bh_sql_is_copy(sql))
		return NULL;
	return bh_sql_action(sql);
}

/* Is the text's first word, past comments, COPY? */
bool
bh_sql_is_copy(const char *sql)
{
	BhSqlToken	tok;

	return bh_sql_first_token(&sql, &tok) && bh_sql_token_is(&tok, "copy");
}

/*
 * Does the text end a transaction (COMMIT, END, PREPARE TRANSACTION)?
 * Errors of such a statement belong to the transaction's earlier writes.
 */
bool
bh_sql_is_commit(const char *sql)
{
	BhSqlToken	tok;

	if (!bh_sql_first_token(&sql, &tok))
		return false;
	if (bh_sql_token_is(&tok, "commit") || bh_sql_token_is(&tok, "end"))
		return true;
	if (bh_sql_token_is(&tok, "prepare"))
		return bh_sql_next(&sql, &tok) && bh_sql_token_is(&tok, "transaction");
	return false;
}
