#include "postgres.h"

/*-------------------------------------------------------------------------
 *
 * canon.c
 *		Canonical JSON serialisation for bh_audit event hashes.
 *
 * Every event hash covers the canonical form of the event, which must be
 * byte-identical to what the reference implementation (Python 3.11) writes:
 *
 *		json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"),
 *				   ensure_ascii=False).encode("utf-8")
 *
 * Design notes:
 *
 * - JSON text is first turned into a small tree of CanonNode (see canon.h)
 *   through PostgreSQL's own JSON parser (so that json input errors look
 *   exactly like those of the json type).  A jsonb value (every event the
 *   sealer, verification and the export render) is rendered in place from
 *   its binary container, without a tree: building one cost more than
 *   rendering it.  It keeps the containers it has open on a stack of its
 *   own instead of recursing, so that it renders a value nested as deep as
 *   any jsonb (the C stack would stop it below what event_hash() hashes
 *   from JSON text, and a ledger verified once would fail later).  Both
 *   paths share the code that orders and writes an object's members,
 *   strings and numbers, so they agree by construction (sql/99 checks
 *   every event of the suite's ledger both ways).
 *
 * - Numbers follow Python's json module: a lexeme without '.', 'e' or 'E'
 *   is an int and is copied verbatim (big ints are exact; "-0" becomes "0";
 *   more than 4300 digits is refused, as Python 3.11 refuses to convert it);
 *   any other lexeme is a float, parsed with strtod() and printed the way
 *   Python's float repr() does: the shortest decimal that reads back as the
 *   same double.  PostgreSQL's Ryu (double_to_shortest_decimal_buf) gives
 *   the length to start from, but it is not always Python's answer (it
 *   never uses an end of the rounding interval, Python does), so the digits
 *   are settled with snprintf()/strtod() probes; see canon_format_double
 *   (canon_float.c).
 *   Non-finite values are refused: Python would write the non-JSON token
 *   Infinity.
 *   jsonb stores numbers as numeric, so a jsonb value is rendered from the
 *   numeric's text; jsonb has already lost the distinction between 1E2 and
 *   100, which is the documented price of the jsonb path.
 *
 * - Strings are kept unescaped as UTF-8.  If the database encoding is not
 *   UTF-8, strings and keys are converted while the tree is built, or as a
 *   jsonb value is rendered (keys before they are sorted), so the renderer
 *   only ever sees UTF-8.
 *
 * - Objects keep their pairs in insertion order in the tree.  Duplicate keys
 *   in JSON text are collapsed as a Python dict would (first position, last
 *   value).  The renderer sorts a private array of pair pointers by key
 *   bytes (UTF-8 byte order equals code point order) and leaves the tree
 *   untouched; should a hand-built tree still contain a duplicate key, the
 *   last value is the one rendered.  jsonb keeps keys unique, sorted by
 *   length first: their pointers are sorted the same way.
 *
 * - This code runs for every event sealed and verified, so the hot paths
 *   avoid per-character StringInfo calls and repeated strlen(): strings are
 *   scanned for escapes 8 bytes at a time and copied in runs, small objects
 *   are sorted on the stack with an insertion sort and screened for
 *   duplicate keys without sorting, and builder nodes are allocated in
 *   blocks.  Floats are the slow case (a few snprintf()/strtod() calls
 *   each); audit events rarely carry them.
 *
 * - The export's lines are the canonical form but for one thing: psql
 *   drops the 32 astral noncharacters (U+1FFFE ... U+10FFFF) from what it
 *   prints, so canon_escape_astral_nonchars() rewrites a rendered line with
 *   each of them as a \u escape (a surrogate pair), which a verifier
 *   parsing the line reads back as the same character.  Hashes never see
 *   the escapes.
 *
 * - Trees live in CurrentMemoryContext.  Nodes made by the builders come
 *   from shared blocks and strings may share allocations with the parser,
 *   so a tree is freed by resetting or deleting its context, never node by
 *   node.
 *
 *-------------------------------------------------------------------------
 */

#include <math.h>

#include "canon.h"
#include "recode.h"
#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonfuncs.h"
#include "utils/numeric.h"

/* Python 3.11's default limit on digits in int <-> str conversion. */
#define CANON_MAX_INT_DIGITS	4300

/* Objects up to this many pairs are sorted and deduplicated on the stack. */
#define CANON_SMALL_OBJECT		16

/* Nodes allocated at once while building a tree. */
#define CANON_NODE_BLOCK		32

/* Initial capacity of a container built without a size hint. */
#define CANON_INITIAL_ITEMS		8

/*
 * Escape table for string rendering: 0 means the byte is copied as is, 'u'
 * means \u00XX, anything else is the letter of a two-character escape.
 */
static const char canon_escape[256] = {
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	['"'] = '"',
	['\\'] = '\\'
};

static const char canon_hexdigits[] = "0123456789abcdef";

/*
 * State of the tree builder: the container stack, the key waiting
 * for its value, and a block of preallocated nodes.
 */
typedef struct CanonBuildState
{
	CanonNode  *root;
	CanonNode **stack;			/* open containers, innermost last */
	int			depth;
	int			maxdepth;
	char	   *key;			/* pending object key, if in an object */
	int			keylen;
	bool		convert;		/* database encoding is not UTF-8 */
	CanonNode  *block;			/* unused preallocated nodes */
	int			block_left;
} CanonBuildState;

static void canon_render_node(StringInfo out, CanonNode *node, bool skip_integrity);


/*
 * Initialise a build state.
 */
static void
canon_build_init(CanonBuildState *st)
{
	st->root = NULL;
	st->maxdepth = 16;
	st->stack = (CanonNode **) palloc(st->maxdepth * sizeof(CanonNode *));
	st->depth = 0;
	st->key = NULL;
	st->keylen = 0;
	st->convert = (GetDatabaseEncoding() != PG_UTF8);
	st->block = NULL;
	st->block_left = 0;
}

/*
 * Take a zeroed node of the given type from the state's block.
 */
static CanonNode *
canon_build_node(CanonBuildState *st, CanonType type)
{
	CanonNode  *node;

	if (st->block_left == 0)
	{
		st->block = (CanonNode *) palloc0(CANON_NODE_BLOCK * sizeof(CanonNode));
		st->block_left = CANON_NODE_BLOCK;
	}
	node = st->block++;
	st->block_left--;
	node->type = type;
	return node;
}

/*
 * Allocate a standalone zeroed node.
 */
static CanonNode *
canon_alloc_node(CanonType type)
{
	CanonNode  *node = (CanonNode *) palloc0(sizeof(CanonNode));

	node->type = type;
	return node;
}

static char *canon_repair_utf8(char *s, int *len);

/*
 * Convert server-encoded bytes (s NUL-terminated) to UTF-8 when convert (the
 * database is not UTF-8).  Returns s itself when no conversion happened;
 * *len is updated.
 */
static char *
canon_to_utf8(bool convert, char *s, int *len)
{
	char	   *conv;

	if (!convert)
		return s;
	if (GetDatabaseEncoding() == PG_SQL_ASCII)
		return canon_repair_utf8(s, len);
	conv = pg_server_to_any(s, *len, PG_UTF8);
	if (conv != s)
		*len = (int) strlen(conv);
	return conv;
}

/*
 * A SQL_ASCII database stores bytes, not characters: a string may hold
 * bytes that are not UTF-8 (an id, a setting, a role's name), which JSON
 * text cannot.  The canonical form takes each byte of such a string that
 * starts no valid UTF-8 sequence as U+FFFD, the replacement character, so
 * that every event can be hashed, and hashed the same way by the sealer,
 * verification and the export (whose line carries U+FFFD).  Valid strings
 * are returned as they are.
 */
static char *
canon_repair_utf8(char *s, int *len)
{
	StringInfoData out;

	if (pg_verify_mbstr(PG_UTF8, s, *len, true))
		return s;
	initStringInfo(&out);
	bh_recode_utf8_bytes(&out, s, *len, BH_UTF8_REPLACEMENT_CHAR);
	*len = out.len;
	return out.data;
}

/*
 * Append an element to an array node.
 */
static void
canon_array_append(CanonNode *arr, CanonNode *item)
{
	if (arr->nitems >= arr->maxitems)
	{
		if (arr->maxitems == 0)
		{
			arr->maxitems = CANON_INITIAL_ITEMS;
			arr->items = (CanonNode **) palloc(arr->maxitems * sizeof(CanonNode *));
		}
		else
		{
			arr->maxitems *= 2;
			arr->items = (CanonNode **) repalloc(arr->items,
												 arr->maxitems * sizeof(CanonNode *));
		}
	}
	arr->items[arr->nitems++] = item;
}

/*
 * Append a pair to an object node, without looking for an existing key.
 */
static void
canon_object_append(CanonNode *obj, char *key, int keylen, CanonNode *value)
{
	CanonPair  *pair;

	if (obj->nitems >= obj->maxitems)
	{
		if (obj->maxitems == 0)
		{
			obj->maxitems = CANON_INITIAL_ITEMS;
			obj->pairs = (CanonPair *) palloc(obj->maxitems * sizeof(CanonPair));
		}
		else
		{
			obj->maxitems *= 2;
			obj->pairs = (CanonPair *) repalloc(obj->pairs,
												obj->maxitems * sizeof(CanonPair));
		}
	}
	pair = &obj->pairs[obj->nitems++];
	pair->key = key;
	pair->keylen = keylen;
	pair->value = value;
}

/*
 * Compare two keys by UTF-8 bytes, a proper prefix sorting first.  This is
 * Python's str ordering (by code point).  Keys are short, so a plain loop
 * beats a call to memcmp().
 */
static inline int
canon_key_cmp(const CanonPair *a, const CanonPair *b)
{
	const unsigned char *ka = (const unsigned char *) a->key;
	const unsigned char *kb = (const unsigned char *) b->key;
	int			minlen = Min(a->keylen, b->keylen);
	int			i;

	for (i = 0; i < minlen; i++)
	{
		if (ka[i] != kb[i])
			return (int) ka[i] - (int) kb[i];
	}
	return (a->keylen > b->keylen) - (a->keylen < b->keylen);
}

/*
 * Do two pairs have the same key?
 */
static inline bool
canon_key_eq(const CanonPair *a, const CanonPair *b)
{
	return a->keylen == b->keylen &&
		memcmp(a->key, b->key, a->keylen) == 0;
}

/*
 * qsort comparator for pair pointers.  Equal keys keep array order (the
 * pointers point into one array), which makes the sort stable.
 */
static int
canon_pair_ptr_cmp(const void *a, const void *b)
{
	const CanonPair *pa = *(const CanonPair *const *) a;
	const CanonPair *pb = *(const CanonPair *const *) b;
	int			c = canon_key_cmp(pa, pb);

	if (c != 0)
		return c;
	return (pa > pb) - (pa < pb);
}

/*
 * Fill sorted[] with pointers to the n pairs, ordered by key; pairs with
 * equal keys stay in array order.
 */
static void
canon_sort_pairs(CanonPair *pairs, int n, CanonPair **sorted)
{
	int			i;

	if (n <= CANON_SMALL_OBJECT)
	{
		/* insertion sort: stable and fastest for the usual event sizes */
		for (i = 0; i < n; i++)
		{
			CanonPair  *p = &pairs[i];
			int			j = i;

			while (j > 0 && canon_key_cmp(sorted[j - 1], p) > 0)
			{
				sorted[j] = sorted[j - 1];
				j--;
			}
			sorted[j] = p;
		}
	}
	else
	{
		for (i = 0; i < n; i++)
			sorted[i] = &pairs[i];
		qsort(sorted, n, sizeof(CanonPair *), canon_pair_ptr_cmp);
	}
}

/*
 * Collapse duplicate keys of an object as a Python dict does: the pair keeps
 * the position of the first occurrence and the value of the last one.
 *
 * Duplicates are rare, so small objects are first screened cheaply: a
 * signature of key length, first and last byte per pair, compared pairwise;
 * only matching signatures are compared in full.  Large objects are sorted.
 */
static void
canon_object_dedup(CanonNode *obj)
{
	int			n = obj->nitems;
	int			i;
	int			j;
	bool		found = false;

	if (n < 2)
		return;

	if (n <= CANON_SMALL_OBJECT)
	{
		uint64		sig[CANON_SMALL_OBJECT];

		for (i = 0; i < n; i++)
		{
			CanonPair  *p = &obj->pairs[i];
			uint64		h = (uint64) p->keylen << 16;

			if (p->keylen > 0)
				h |= ((uint64) (unsigned char) p->key[0] << 8) |
					(uint64) (unsigned char) p->key[p->keylen - 1];
			sig[i] = h;
		}
		for (i = 1; i < n; i++)
		{
			CanonPair  *p = &obj->pairs[i];

			for (j = 0; j < i; j++)
			{
				CanonPair  *q = &obj->pairs[j];

				if (sig[j] == sig[i] && q->keylen >= 0 && canon_key_eq(p, q))
				{
					/* later duplicate: its value goes to the first one */
					q->value = p->value;
					p->keylen = -1; /* mark for removal */
					found = true;
					break;
				}
			}
		}
	}
	else
	{
		CanonPair **sorted = (CanonPair **) palloc(n * sizeof(CanonPair *));

		canon_sort_pairs(obj->pairs, n, sorted);
		for (i = 0; i < n - 1; i = j)
		{
			/* find the run of pairs sharing sorted[i]'s key */
			for (j = i + 1; j < n && canon_key_eq(sorted[i], sorted[j]); j++)
				;
			if (j - i > 1)
			{
				int			k;

				found = true;
				sorted[i]->value = sorted[j - 1]->value;
				for (k = i + 1; k < j; k++)
					sorted[k]->keylen = -1; /* mark for removal */
			}
		}
		pfree(sorted);
	}

	if (found)
	{
		for (i = 0, j = 0; i < n; i++)
		{
			if (obj->pairs[i].keylen >= 0)
				obj->pairs[j++] = obj->pairs[i];
		}
		obj->nitems = j;
	}
}

/*
 * Hang a freshly built node under the innermost open container (or make it
 * the root), then open it if it is a container.
 */
static void
canon_build_attach(CanonBuildState *st, CanonNode *node)
{
	if (st->depth == 0)
		st->root = node;
	else
	{
		CanonNode  *parent = st->stack[st->depth - 1];

		if (parent->type == CANON_OBJECT)
		{
			canon_object_append(parent, st->key, st->keylen, node);
			st->key = NULL;
		}
		else
			canon_array_append(parent, node);
	}

	if (node->type == CANON_OBJECT || node->type == CANON_ARRAY)
	{
		if (st->depth >= st->maxdepth)
		{
			st->maxdepth *= 2;
			st->stack = (CanonNode **) repalloc(st->stack,
												st->maxdepth * sizeof(CanonNode *));
		}
		st->stack[st->depth++] = node;
	}
}

/*
 * What the canonical form makes of a number (a JSON number lexeme, or
 * numeric text, NUL-terminated): an integer (digits, at most
 * CANON_MAX_INT_DIGITS of them) or a float (finite as a double), with its
 * value in *d; or the reason it has none (*problem), raising nothing.
 */
static CanonType
canon_number_kind(const char *lexeme, int len, double *d, const char **problem)
{
	bool		is_int = true;
	int			ndigits = 0;
	int			i;
	char	   *endptr;

	*problem = NULL;
	for (i = 0; i < len; i++)
	{
		char		c = lexeme[i];

		if (c >= '0' && c <= '9')
			ndigits++;
		else if (c != '-' || i != 0)
		{
			/* '.', 'e', 'E', '+', or NaN/Infinity spelled out by numeric */
			is_int = false;
			break;
		}
	}
	if (ndigits == 0)
		is_int = false;

	if (is_int)
	{
		if (ndigits > CANON_MAX_INT_DIGITS)
			*problem = "an integer with more than " CppAsString2(CANON_MAX_INT_DIGITS) " digits";
		return CANON_INT;
	}
	*d = strtod(lexeme, &endptr);
	if (endptr == lexeme)
		*problem = "not a number";
	else if (!isfinite(*d))
		*problem = "not a finite float";
	return CANON_FLOAT;
}

/*
 * The value of the canonical float form of d, as a numeric: a stored
 * number (jsonb's numeric) must be exactly that.  The canonical form
 * rounds a decimal with more significant digits than a double keeps
 * (123456789.123456789 is 123456789.12345679), as Python's does; a stored event holding such a decimal would show a
 * value its hash does not cover, and an edit within the rounding would go
 * unseen.  So emit() stores such a decimal rounded (canon_jsonb_round_
 * decimals), and one in a stored event has no canonical form: it was
 * changed since (JSON text, as canonical_json() reads it, is rounded as
 * Python rounds it).
 */
static Numeric
canon_double_numeric(double d)
{
	StringInfoData buf;
	Numeric		canonical;

	initStringInfo(&buf);
	canon_format_double(&buf, d);
	canonical = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(buf.data),
													ObjectIdGetDatum(InvalidOid),
													Int32GetDatum(-1)));
	pfree(buf.data);
	return canonical;
}

/* Is num exactly canonical, the value canon_double_numeric() gave? */
static bool
canon_numeric_equal(Numeric num, Numeric canonical)
{
	return DatumGetBool(DirectFunctionCall2(numeric_eq, NumericGetDatum(num),
											NumericGetDatum(canonical)));
}

#define CANON_MSG_INEXACT "a decimal with more significant digits than a double keeps"

/*
 * Fill a number node from a JSON number lexeme (or numeric text) of the
 * given length; lexeme must be NUL-terminated and is kept for ints.
 */
static void
canon_set_number(CanonNode *node, char *lexeme, int len)
{
	double		d = 0;
	const char *problem;
	CanonType	kind = canon_number_kind(lexeme, len, &d, &problem);

	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number cannot be canonicalized: %s", problem)));
	if (kind == CANON_INT)
	{
		node->type = CANON_INT;
		if (len == 2 && lexeme[0] == '-' && lexeme[1] == '0')
		{
			/* Python's int("-0") is 0 */
			lexeme++;
			len--;
		}
		node->str = lexeme;
		node->len = len;
	}
	else
	{
		node->type = CANON_FLOAT;
		node->fval = d;
	}
}

/*
 * canon_render_jsonb() of jb, or false (out as it was) when the data has no
 * canonical form: a number (canon_number_kind), or a string the server's
 * encoding cannot convert to UTF-8 — a data exception, whose SQLSTATE is
 * set in *sqlerrcode when that is not NULL.  Rendering only allocates, in
 * the caller's memory context, so such an error is caught here and
 * forgotten; any other is raised on.
 */
bool
canon_render_jsonb_try(StringInfo out, Jsonb *jb, bool skip_top_integrity,
					   int *sqlerrcode)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			len = out->len;
	volatile bool ok = true;

	PG_TRY();
	{
		canon_render_jsonb(out, jb, skip_top_integrity, NULL);
	}
	PG_CATCH();
	{
		int			code;

		MemoryContextSwitchTo(cxt);
		code = geterrcode();
		if (ERRCODE_TO_CATEGORY(code) != ERRCODE_DATA_EXCEPTION)
			PG_RE_THROW();
		FlushErrorState();
		out->len = len;
		out->data[len] = '\0';
		ok = false;
		if (sqlerrcode != NULL)
			*sqlerrcode = code;
	}
	PG_END_TRY();
	return ok;
}

/*
 * Has every number in jb a canonical form (see canon_number_kind)?  NULL
 * if so, else the reason one has none.  Raises nothing: the sealer and
 * verification ask before they render an event, emit() before it queues
 * one.
 */
const char *
canon_jsonb_problem(Jsonb *jb)
{
	JsonbIterator *it = JsonbIteratorInit(&jb->root);
	JsonbIteratorToken tok;
	JsonbValue	v;

	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		if ((tok == WJB_VALUE || tok == WJB_ELEM) && v.type == jbvNumeric)
		{
			char	   *digits = DatumGetCString(DirectFunctionCall1(numeric_out,
																	 NumericGetDatum(v.val.numeric)));
			double		d;
			const char *problem;

			if (canon_number_kind(digits, strlen(digits), &d, &problem) == CANON_FLOAT &&
				problem == NULL && d == 0.0 && strpbrk(digits, "123456789") != NULL)
				problem = "a decimal too small for a double (it would be 0)";
			pfree(digits);
			if (problem != NULL)
				return problem;
		}
	}
	return NULL;
}

/*
 * A number of jb's as the canonical form reads it: a decimal with more
 * significant digits than a double keeps, rounded to the double's shortest
 * decimal (what the canonical form prints); NULL if it is that already (or
 * not a float).
 */
static Numeric
canon_rounded_numeric(Numeric num)
{
	char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));
	double		d;
	const char *problem;
	Numeric		rounded = NULL;

	if (canon_number_kind(text, strlen(text), &d, &problem) == CANON_FLOAT && problem == NULL)
	{
		rounded = canon_double_numeric(d);
		if (canon_numeric_equal(num, rounded))
		{
			pfree(rounded);
			rounded = NULL;
		}
	}
	pfree(text);
	return rounded;
}

/*
 * jb with every decimal that has more significant digits than a double
 * keeps rounded as the canonical form rounds it (jb itself if none has):
 * what emit() stores is then exactly what the event's hash covers.  jb has
 * no number without a canonical form (canon_jsonb_problem) and is not a
 * raw scalar.
 */
Jsonb *
canon_jsonb_round_decimals(Jsonb *jb)
{
	JsonbIterator *it = JsonbIteratorInit(&jb->root);
	JsonbIteratorToken tok;
	JsonbValue	v;
	JsonbParseState *state = NULL;
	JsonbValue *res = NULL;
	bool		changed = false;

	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		if ((tok == WJB_VALUE || tok == WJB_ELEM) && v.type == jbvNumeric)
		{
			Numeric		rounded = canon_rounded_numeric(v.val.numeric);

			if (rounded != NULL)
			{
				v.val.numeric = rounded;
				changed = true;
			}
		}
		res = pushJsonbValue(&state, tok,
							 (tok == WJB_KEY || tok == WJB_VALUE || tok == WJB_ELEM) ? &v : NULL);
	}
	return changed ? JsonbValueToJsonb(res) : jb;
}


/* ---- JSON text builder ---- */

/*
 * Parser callback: an object begins.
 */
static void
canon_json_object_start(void *state)
{
	CanonBuildState *st = (CanonBuildState *) state;

	canon_build_attach(st, canon_build_node(st, CANON_OBJECT));
}

/*
 * Parser callback: an object ends; collapse duplicate keys.
 */
static void
canon_json_object_end(void *state)
{
	CanonBuildState *st = (CanonBuildState *) state;

	canon_object_dedup(st->stack[--st->depth]);
}

/*
 * Parser callback: an array begins.
 */
static void
canon_json_array_start(void *state)
{
	CanonBuildState *st = (CanonBuildState *) state;

	canon_build_attach(st, canon_build_node(st, CANON_ARRAY));
}

/*
 * Parser callback: an array ends.
 */
static void
canon_json_array_end(void *state)
{
	CanonBuildState *st = (CanonBuildState *) state;

	st->depth--;
}

/*
 * Parser callback: an object key (de-escaped, palloc'd, ours to keep).
 */
static void
canon_json_field_start(void *state, char *fname, bool isnull)
{
	CanonBuildState *st = (CanonBuildState *) state;
	int			len = (int) strlen(fname);

	st->key = canon_to_utf8(st->convert, fname, &len);
	st->keylen = len;
}

/*
 * Parser callback: a scalar (token is palloc'd, ours to keep).
 */
static void
canon_json_scalar(void *state, char *token, JsonTokenType tokentype)
{
	CanonBuildState *st = (CanonBuildState *) state;
	CanonNode  *node;
	int			len;

	switch (tokentype)
	{
		case JSON_TOKEN_STRING:
			node = canon_build_node(st, CANON_STRING);
			len = (int) strlen(token);
			node->str = canon_to_utf8(st->convert, token, &len);
			node->len = len;
			break;
		case JSON_TOKEN_NUMBER:
			node = canon_build_node(st, CANON_INT);
			canon_set_number(node, token, (int) strlen(token));
			break;
		case JSON_TOKEN_TRUE:
			node = canon_build_node(st, CANON_TRUE);
			break;
		case JSON_TOKEN_FALSE:
			node = canon_build_node(st, CANON_FALSE);
			break;
		case JSON_TOKEN_NULL:
			node = canon_build_node(st, CANON_NULL);
			break;
		default:
			elog(ERROR, "unexpected json token type %d", (int) tokentype);
			node = NULL;		/* keep compiler quiet */
			break;
	}
	canon_build_attach(st, node);
}

/*
 * Parse JSON text into a tree.  Invalid JSON raises the same errors as the
 * json type's input function.
 */
CanonNode *
canon_parse_json(const char *json, int len)
{
	CanonBuildState st;
	JsonLexContext *lex;
	JsonSemAction sem;

	canon_build_init(&st);

	memset(&sem, 0, sizeof(sem));
	sem.semstate = &st;
	sem.object_start = canon_json_object_start;
	sem.object_end = canon_json_object_end;
	sem.array_start = canon_json_array_start;
	sem.array_end = canon_json_array_end;
	sem.object_field_start = canon_json_field_start;
	sem.scalar = canon_json_scalar;

	lex = makeJsonLexContextCstringLen(unconstify(char *, json), len,
									   GetDatabaseEncoding(), true);
	pg_parse_json_or_ereport(lex, &sem);

	pfree(st.stack);
	return st.root;
}


/* ---- small helpers ---- */

/*
 * New string node holding a copy of len bytes of s, which must be UTF-8.
 */
CanonNode *
canon_new_string(const char *s, int len)
{
	CanonNode  *node = canon_alloc_node(CANON_STRING);

	node->str = (char *) palloc(len + 1);
	memcpy(node->str, s, len);
	node->str[len] = '\0';
	node->len = len;
	return node;
}

/*
 * New empty object node.
 */
CanonNode *
canon_new_object(void)
{
	return canon_alloc_node(CANON_OBJECT);
}

/*
 * Set key (NUL-terminated UTF-8, copied) in obj to value, replacing the
 * value of an existing pair so that the key stays unique.
 */
void
canon_object_set(CanonNode *obj, const char *key, CanonNode *value)
{
	int			keylen = (int) strlen(key);
	int			i;

	if (obj->type != CANON_OBJECT)
		elog(ERROR, "canon_object_set called on a non-object node");

	for (i = obj->nitems - 1; i >= 0; i--)
	{
		CanonPair  *p = &obj->pairs[i];

		if (p->keylen == keylen && memcmp(p->key, key, keylen) == 0)
		{
			p->value = value;
			return;
		}
	}
	canon_object_append(obj, pnstrdup(key, keylen), keylen, value);
}

/*
 * Value of key (NUL-terminated UTF-8) in obj, or NULL if absent or obj is
 * not an object.  With duplicate keys the last one counts.
 */
CanonNode *
canon_object_get(CanonNode *obj, const char *key)
{
	int			keylen;
	int			i;

	if (obj == NULL || obj->type != CANON_OBJECT)
		return NULL;

	keylen = (int) strlen(key);
	for (i = obj->nitems - 1; i >= 0; i--)
	{
		CanonPair  *p = &obj->pairs[i];

		if (p->keylen == keylen && memcmp(p->key, key, keylen) == 0)
			return p->value;
	}
	return NULL;
}


/* ---- renderer ---- */

/*
 * Does any of the 8 bytes in w need escaping (below 0x20, '"' or '\\')?
 * Bytes with the high bit set never do.  Classic SWAR tests: a byte below
 * 0x20, a byte equal to 0x22, a byte equal to 0x5c.
 */
static inline bool
canon_word_needs_escape(uint64 w)
{
	const uint64 ones = UINT64CONST(0x0101010101010101);
	const uint64 highs = UINT64CONST(0x8080808080808080);
	uint64		quote = w ^ (ones * '"');
	uint64		bslash = w ^ (ones * '\\');

	return (((w - ones * 0x20) & ~w) |
			((quote - ones) & ~quote) |
			((bslash - ones) & ~bslash)) & highs;
}

/*
 * Append s (len bytes of UTF-8) as a JSON string: short escapes for " \ and
 * \b \f \n \r \t, \u00xx for other control characters, all else raw.
 *
 * Plain runs are found 8 bytes at a time and copied in one go; most strings
 * have no escapes at all and cost a single copy.
 */
static void
canon_render_string(StringInfo out, const char *s, int len)
{
	const char *run = s;
	const char *end = s + len;
	const char *p = s;
	char		esc[6];

	enlargeStringInfo(out, len + 2);
	out->data[out->len++] = '"';

	for (;;)
	{
		char		e;

		/* skip plain bytes, a word at a time while possible */
		while (end - p >= 8)
		{
			uint64		w;

			memcpy(&w, p, 8);
			if (canon_word_needs_escape(w))
				break;
			p += 8;
		}
		while (p < end && canon_escape[(unsigned char) *p] == 0)
			p++;
		if (p >= end)
			break;

		/* *p needs an escape: flush the run before it */
		if (p > run)
			appendBinaryStringInfo(out, run, p - run);
		e = canon_escape[(unsigned char) *p];
		esc[0] = '\\';
		if (e == 'u')
		{
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = canon_hexdigits[((unsigned char) *p) >> 4];
			esc[5] = canon_hexdigits[((unsigned char) *p) & 0x0f];
			appendBinaryStringInfo(out, esc, 6);
		}
		else
		{
			esc[1] = e;
			appendBinaryStringInfo(out, esc, 2);
		}
		run = ++p;
	}

	if (run == s)
	{
		/* no escapes: the space reserved above is still there */
		memcpy(out->data + out->len, s, len);
		out->len += len;
		out->data[out->len++] = '"';
		out->data[out->len] = '\0';
	}
	else
	{
		if (end > run)
			appendBinaryStringInfo(out, run, end - run);
		appendStringInfoCharMacro(out, '"');
	}
}

/*
 * Is sorted[i], of n pairs sorted by key, left out of its object?  Of pairs
 * with the same key only the last one in the array counts (a hand-built
 * tree's duplicate, or a replacement appended after a stored pair); with
 * skip_integrity, a pair keyed "integrity" is left out.
 */
static inline bool
canon_key_is_integrity(const CanonPair *p)
{
	return p->keylen == 9 && memcmp(p->key, "integrity", 9) == 0;
}

static inline bool
canon_member_skipped(CanonPair *const *sorted, int i, int n, bool skip_integrity)
{
	const CanonPair *p = sorted[i];

	if (i + 1 < n && canon_key_eq(p, sorted[i + 1]))
		return true;
	return skip_integrity && canon_key_is_integrity(p);
}

/*
 * Append a member's key and the colon after it, the comma before it unless
 * it is the object's first.
 */
static inline void
canon_render_key(StringInfo out, const CanonPair *p, bool first)
{
	if (!first)
		appendStringInfoCharMacro(out, ',');
	canon_render_string(out, p->key, p->keylen);
	appendStringInfoCharMacro(out, ':');
}

/*
 * Append a tree's object whose members are the n pairs, sorted by key (see
 * canon_member_skipped).
 */
static void
canon_render_members(StringInfo out, CanonPair *pairs, int n, bool skip_integrity)
{
	CanonPair  *local[CANON_SMALL_OBJECT];
	CanonPair **sorted;
	bool		first = true;
	int			i;

	if (n == 0)
	{
		appendBinaryStringInfo(out, "{}", 2);
		return;
	}

	sorted = (n <= CANON_SMALL_OBJECT) ? local :
		(CanonPair **) palloc(n * sizeof(CanonPair *));
	canon_sort_pairs(pairs, n, sorted);

	appendStringInfoCharMacro(out, '{');
	for (i = 0; i < n; i++)
	{
		if (canon_member_skipped(sorted, i, n, skip_integrity))
			continue;
		canon_render_key(out, sorted[i], first);
		first = false;
		canon_render_node(out, sorted[i]->value, false);
	}
	appendStringInfoCharMacro(out, '}');

	if (sorted != local)
		pfree(sorted);
}

/*
 * Append the canonical form of any node.
 */
static void
canon_render_node(StringInfo out, CanonNode *node, bool skip_integrity)
{
	int			i;

	if (node == NULL)
	{
		appendBinaryStringInfo(out, "null", 4);
		return;
	}

	switch (node->type)
	{
		case CANON_NULL:
			appendBinaryStringInfo(out, "null", 4);
			break;
		case CANON_TRUE:
			appendBinaryStringInfo(out, "true", 4);
			break;
		case CANON_FALSE:
			appendBinaryStringInfo(out, "false", 5);
			break;
		case CANON_INT:
			appendBinaryStringInfo(out, node->str, node->len);
			break;
		case CANON_FLOAT:
			canon_format_double(out, node->fval);
			break;
		case CANON_STRING:
			canon_render_string(out, node->str, node->len);
			break;
		case CANON_ARRAY:
			check_stack_depth();
			appendStringInfoCharMacro(out, '[');
			for (i = 0; i < node->nitems; i++)
			{
				if (i > 0)
					appendStringInfoCharMacro(out, ',');
				canon_render_node(out, node->items[i], false);
			}
			appendStringInfoCharMacro(out, ']');
			break;
		case CANON_OBJECT:
			check_stack_depth();
			canon_render_members(out, node->pairs, node->nitems, skip_integrity);
			break;
		default:
			elog(ERROR, "unrecognized canonical node type %d", (int) node->type);
			break;
	}
}

/*
 * Append the canonical serialisation of node to out; see canon.h.
 */
void
canon_render(StringInfo out, CanonNode *node, bool skip_top_integrity)
{
	canon_render_node(out, node, skip_top_integrity);
}


/* ---- jsonb renderer ---- */

/*
 * canon_render_jsonb keeps the containers it has open on a stack of its
 * own, not the C stack, so that it renders a value nested as deep as any
 * other: the first CANON_JSONB_LOCAL_DEPTH of them live in its frame, with
 * room for a small object's offsets and pairs; deeper ones on the heap.
 */
#define CANON_JSONB_LOCAL_DEPTH	8

/* Room for an object of up to CANON_SMALL_OBJECT pairs: no allocation. */
typedef struct CanonJsonbRoom
{
	uint32		off[2 * CANON_SMALL_OBJECT + 1];
	CanonPair	pairs[CANON_SMALL_OBJECT];
	CanonPair  *sorted[CANON_SMALL_OBJECT];
} CanonJsonbRoom;

/*
 * An open jsonb container.  An array's elements are read in order, each
 * one's offset from the one before.  An object's child i (keys first, then
 * values) is base[off[i] .. off[i + 1]); its members are written in the
 * order of sorted, the value of pair i being child JsonContainerSize(jc) +
 * i, or for the pair added after the stored ones (an integrity block), a
 * node.
 */
typedef struct CanonJsonbFrame
{
	const JsonbContainer *jc;
	const char *base;			/* the children's data */
	int			n;				/* elements, or pairs */
	int			next;			/* next element, or next position in sorted */
	uint32		nextoff;		/* array: the next element's offset */
	bool		first;			/* object: no member written yet */
	bool		skip_integrity;
	bool		check_skipped;	/* a stored "integrity" left out is checked */
	uint32	   *off;			/* object: NULL for an array */
	CanonPair  *pairs;
	CanonPair **sorted;
	CanonJsonbRoom *room;		/* where small objects' arrays go, or NULL */
} CanonJsonbFrame;

/*
 * len bytes of a jsonb string (not NUL-terminated) in UTF-8: the bytes
 * themselves in a UTF-8 database, else a converted copy (canon_to_utf8).
 */
static char *
canon_jsonb_utf8(const char *s, int *len, bool convert)
{
	char	   *copy;

	if (!convert)
		return unconstify(char *, s);
	copy = (char *) palloc(*len + 1);
	memcpy(copy, s, *len);
	copy[*len] = '\0';
	return canon_to_utf8(true, copy, len);
}

/*
 * Append a jsonb number, or raise the error of one without a canonical
 * form (canon_set_number); a decimal with more significant digits than a
 * double keeps has none either (see canon_double_numeric).
 */
static void
canon_render_numeric(StringInfo out, Numeric num)
{
	char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out,
														   NumericGetDatum(num)));
	CanonNode	node;

	memset(&node, 0, sizeof(node));
	canon_set_number(&node, text, (int) strlen(text));
	if (node.type == CANON_FLOAT &&
		!canon_numeric_equal(num, canon_double_numeric(node.fval)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number cannot be canonicalized: %s", CANON_MSG_INEXACT)));
	canon_render_node(out, &node, false);
}

/*
 * Append a child of a container, of entry je and data base[off .. end)
 * (decoded as fillJsonbValue() does); a child that is a container is not
 * appended but returned, for canon_render_jsonb to open.
 */
static pg_attribute_always_inline const JsonbContainer *
canon_render_jsonb_entry(StringInfo out, JEntry je, const char *base,
						 uint32 off, uint32 end, bool convert)
{
	if (JBE_ISSTRING(je))
	{
		int			len = (int) (end - off);
		char	   *s = canon_jsonb_utf8(base + off, &len, convert);

		canon_render_string(out, s, len);
	}
	else if (JBE_ISNUMERIC(je))
		canon_render_numeric(out, (Numeric) (base + INTALIGN(off)));
	else if (JBE_ISBOOL_TRUE(je))
		appendBinaryStringInfo(out, "true", 4);
	else if (JBE_ISBOOL_FALSE(je))
		appendBinaryStringInfo(out, "false", 5);
	else if (JBE_ISNULL(je))
		appendBinaryStringInfo(out, "null", 4);
	else if (JBE_ISCONTAINER(je))
		return (const JsonbContainer *) (base + INTALIGN(off));
	else
		elog(ERROR, "unexpected jsonb entry type 0x%x", (unsigned int) je);
	return NULL;
}

/*
 * Open jc (an array or an object) in fr and append its opening bracket.
 * jsonb keeps an object's keys unique and sorted by length first; the
 * canonical order is by bytes, so the keys (converted to UTF-8 first, which
 * may make two of them equal in a SQL_ASCII database: the later one counts,
 * as it always has) are sorted here.  With integrity, an object's
 * "integrity" is that node, whether it has one or not.
 */
static void
canon_jsonb_open(StringInfo out, CanonJsonbFrame *fr, const JsonbContainer *jc,
				 CanonJsonbRoom *room, bool convert, bool skip_integrity,
				 CanonNode *integrity)
{
	int			n = JsonContainerSize(jc);
	int			nchildren;
	int			i;

	fr->jc = jc;
	fr->next = 0;
	if (!JsonContainerIsObject(jc))
	{
		fr->base = (const char *) &jc->children[n];
		fr->n = n;
		fr->nextoff = 0;
		fr->off = NULL;
		appendStringInfoCharMacro(out, '[');
		return;
	}

	nchildren = 2 * n;
	fr->base = (const char *) &jc->children[nchildren];
	fr->n = n + (integrity != NULL ? 1 : 0);
	fr->first = true;
	fr->skip_integrity = skip_integrity;
	fr->check_skipped = skip_integrity || integrity != NULL;
	fr->room = room;
	fr->off = (room != NULL && nchildren < lengthof(room->off)) ? room->off :
		(uint32 *) palloc((nchildren + 1) * sizeof(uint32));
	fr->pairs = (room != NULL && fr->n <= CANON_SMALL_OBJECT) ? room->pairs :
		(CanonPair *) palloc(fr->n * sizeof(CanonPair));
	fr->sorted = (room != NULL && fr->n <= CANON_SMALL_OBJECT) ? room->sorted :
		(CanonPair **) palloc(fr->n * sizeof(CanonPair *));

	/* one pass, where getJsonbOffset() would look back for each child */
	fr->off[0] = 0;
	for (i = 0; i < nchildren; i++)
	{
		fr->off[i + 1] = fr->off[i];
		JBE_ADVANCE_OFFSET(fr->off[i + 1], jc->children[i]);
	}
	for (i = 0; i < n; i++)
	{
		int			keylen = (int) (fr->off[i + 1] - fr->off[i]);

		fr->pairs[i].key = canon_jsonb_utf8(fr->base + fr->off[i], &keylen, convert);
		fr->pairs[i].keylen = keylen;
		fr->pairs[i].value = NULL;
	}
	if (integrity != NULL)
	{
		/* last: it wins over a stored "integrity" */
		fr->pairs[n].key = "integrity";
		fr->pairs[n].keylen = 9;
		fr->pairs[n].value = integrity;
	}
	canon_sort_pairs(fr->pairs, fr->n, fr->sorted);
	appendStringInfoCharMacro(out, '{');
}

static void canon_render_container(StringInfo out, const JsonbContainer *jc,
								   bool convert, bool skip_top_integrity,
								   CanonNode *top_integrity);

/*
 * Raise the error of a number or a string without a canonical form in the
 * value of a stored member of a top-level object that is not rendered (its
 * "integrity", which the hash leaves out or the export replaces), as the
 * rendering of any other member would: the format has no such value
 * anywhere in an event.  Only an event that has such a member pays for it.
 */
static void
canon_jsonb_check_member(CanonJsonbFrame *fr, const CanonPair *p, bool convert)
{
	StringInfoData scratch;
	int			c = JsonContainerSize(fr->jc) + (int) (p - fr->pairs);
	const JsonbContainer *child;

	initStringInfo(&scratch);
	child = canon_render_jsonb_entry(&scratch, fr->jc->children[c], fr->base,
									 fr->off[c], fr->off[c + 1], convert);
	if (child != NULL)
		canon_render_container(&scratch, child, convert, false, NULL);
	pfree(scratch.data);
}

/*
 * Append fr's next elements or members up to the next one whose value is a
 * container, which is returned (its key written) for canon_render_jsonb to
 * open; or else to the end: fr is closed and NULL returned.
 */
static const JsonbContainer *
canon_jsonb_next(StringInfo out, CanonJsonbFrame *fr, bool convert)
{
	const JsonbContainer *jc = fr->jc;
	const JsonbContainer *child;

	if (fr->off == NULL)
	{
		while (fr->next < fr->n)
		{
			JEntry		je = jc->children[fr->next];
			uint32		off = fr->nextoff;

			JBE_ADVANCE_OFFSET(fr->nextoff, je);
			if (fr->next++ > 0)
				appendStringInfoCharMacro(out, ',');
			child = canon_render_jsonb_entry(out, je, fr->base, off, fr->nextoff,
											 convert);
			if (child != NULL)
				return child;
		}
		appendStringInfoCharMacro(out, ']');
		return NULL;
	}

	while (fr->next < fr->n)
	{
		int			i = fr->next++;
		CanonPair  *p = fr->sorted[i];
		int			c;

		if (canon_member_skipped(fr->sorted, i, fr->n, fr->skip_integrity))
		{
			/*
			 * Its stored "integrity" only: the earlier of two keys that are
			 * one once converted to UTF-8 (SQL_ASCII's 0x80 and 0x81, both
			 * U+FFFD) is left out as it always was, unchecked.
			 */
			if (fr->check_skipped && p->value == NULL && canon_key_is_integrity(p))
				canon_jsonb_check_member(fr, p, convert);
			continue;
		}
		canon_render_key(out, p, fr->first);
		fr->first = false;
		if (p->value != NULL)
		{
			canon_render_node(out, p->value, false);
			continue;
		}
		c = JsonContainerSize(jc) + (int) (p - fr->pairs);
		child = canon_render_jsonb_entry(out, jc->children[c], fr->base,
										 fr->off[c], fr->off[c + 1], convert);
		if (child != NULL)
			return child;
	}
	appendStringInfoCharMacro(out, '}');

	if (fr->room == NULL || fr->off != fr->room->off)
		pfree(fr->off);
	if (fr->room == NULL || fr->pairs != fr->room->pairs)
	{
		pfree(fr->pairs);
		pfree(fr->sorted);
	}
	return NULL;
}

/*
 * Append the canonical serialisation of jb to out; see canon.h.
 */
void
canon_render_jsonb(StringInfo out, Jsonb *jb, bool skip_top_integrity,
				   CanonNode *top_integrity)
{
	canon_render_container(out, &jb->root, GetDatabaseEncoding() != PG_UTF8,
						   skip_top_integrity, top_integrity);
}

/*
 * Append the canonical serialisation of jc (a jsonb's root, or a container
 * in one) to out, without recursing; canon_jsonb_check_member() calls it
 * once more for a value it checks, and no deeper (its frames check none).
 */
static void
canon_render_container(StringInfo out, const JsonbContainer *jc, bool convert,
					   bool skip_top_integrity, CanonNode *top_integrity)
{
	CanonJsonbFrame localstack[CANON_JSONB_LOCAL_DEPTH];
	CanonJsonbRoom rooms[CANON_JSONB_LOCAL_DEPTH];
	CanonJsonbFrame *stack = localstack;
	int			maxdepth = CANON_JSONB_LOCAL_DEPTH;
	int			depth;

	if (JsonContainerIsScalar(jc))
	{
		/* a top-level scalar, stored as a one-element array */
		uint32		end = 0;

		JBE_ADVANCE_OFFSET(end, jc->children[0]);
		(void) canon_render_jsonb_entry(out, jc->children[0],
										(const char *) &jc->children[1],
										0, end, convert);
		return;
	}

	canon_jsonb_open(out, &stack[0], jc, &rooms[0], convert,
					 skip_top_integrity, top_integrity);
	depth = 1;
	while (depth > 0)
	{
		jc = canon_jsonb_next(out, &stack[depth - 1], convert);
		if (jc == NULL)
		{
			depth--;
			continue;
		}
		if (depth == maxdepth)
		{
			maxdepth *= 2;
			if (stack == localstack)
			{
				stack = (CanonJsonbFrame *) palloc(maxdepth * sizeof(CanonJsonbFrame));
				memcpy(stack, localstack, sizeof(localstack));
			}
			else
				stack = (CanonJsonbFrame *) repalloc(stack,
													 maxdepth * sizeof(CanonJsonbFrame));
		}
		canon_jsonb_open(out, &stack[depth], jc,
						 depth < CANON_JSONB_LOCAL_DEPTH ? &rooms[depth] : NULL,
						 convert, false, NULL);
		depth++;
	}

	if (stack != localstack)
		pfree(stack);
}

/*
 * Is s[0..3] the UTF-8 sequence of an astral noncharacter, U+pFFFE or
 * U+pFFFF for a plane p from 1 to 16?  Returns the code point, or 0.  Its
 * bytes are F0-F4 (p >> 2), 8F/9F/AF/BF ((p & 3) << 4 | 0x0F, with the
 * continuation bits), BF, BE/BF.
 */
static inline pg_wchar
canon_astral_nonchar(const unsigned char *s)
{
	int			plane;

	if ((s[1] & 0xCF) != 0x8F || s[2] != 0xBF || (s[3] & 0xFE) != 0xBE)
		return 0;
	plane = ((s[0] & 0x07) << 2) | ((s[1] >> 4) & 0x03);
	if (plane < 1 || plane > 16)
		return 0;
	return ((pg_wchar) plane << 16) | 0xFFFE | (s[3] & 0x01);
}

/*
 * Does any of the 8 bytes in w start a 4-byte UTF-8 sequence (0xF0-0xF7,
 * its top four bits set)?  The classic SWAR test for a zero byte, on w's
 * top nibbles compared with 0xF.
 */
static inline bool
canon_word_has_lead4(uint64 w)
{
	const uint64 ones = UINT64CONST(0x0101010101010101);
	const uint64 tops = UINT64CONST(0xF0F0F0F0F0F0F0F0);
	uint64		x = (w & tops) ^ tops;

	return ((x - ones) & ~x & (ones * 0x80)) != 0;
}

/*
 * Does the 32-byte block at p hold such a lead byte?  An ASCII block is
 * told by its high bits alone.
 */
static inline bool
canon_block_has_lead4(const unsigned char *p)
{
	const uint64 highs = UINT64CONST(0x8080808080808080);
	uint64		w0,
				w1,
				w2,
				w3;

	memcpy(&w0, p, 8);
	memcpy(&w1, p + 8, 8);
	memcpy(&w2, p + 16, 8);
	memcpy(&w3, p + 24, 8);
	return ((w0 | w1 | w2 | w3) & highs) != 0 &&
		(canon_word_has_lead4(w0) | canon_word_has_lead4(w1) |
		 canon_word_has_lead4(w2) | canon_word_has_lead4(w3));
}

/*
 * The offset of the first astral noncharacter in s[from..len), or -1.
 * Blocks of 32 bytes without the lead byte of a 4-byte sequence (all of
 * an ASCII line, most of any other) are passed a block at a time, and the
 * end of the text, shorter than a block, with the last 32 bytes of it;
 * bytes are looked at one by one only in a block that has such a lead.
 */
static int
canon_find_astral_nonchar(const unsigned char *s, int from, int len)
{
	int			i = from;

	for (;;)
	{
		int			stop;

		while (len - i >= 32 && !canon_block_has_lead4(s + i))
			i += 32;
		if (len - i < 32 && len >= 32 && !canon_block_has_lead4(s + len - 32))
			return -1;
		stop = Min(i + 32, len - 3);
		for (; i < stop; i++)
			if (s[i] >= 0xF0 && s[i] <= 0xF4 && canon_astral_nonchar(s + i) != 0)
				return i;
		if (i >= len - 3)
			return -1;
	}
}

/*
 * Write each astral noncharacter of the JSON text in out as a \u escape
 * (its UTF-16 surrogate pair, lowercase hex, as Python's json writes it
 * with ensure_ascii); see canon.h.  Outside strings JSON text is ASCII, so
 * every such sequence is a character of a string or a key, and a parser
 * reads back the same character.
 */
void
canon_escape_astral_nonchars(StringInfo out)
{
	const unsigned char *s = (const unsigned char *) out->data;
	int			len = out->len;
	int			at = canon_find_astral_nonchar(s, 0, len);
	int			run = 0;
	StringInfoData esc;

	if (at < 0)
		return;

	/* each 4-byte sequence becomes 12 bytes */
	initStringInfo(&esc);
	enlargeStringInfo(&esc, len + 16);
	while (at >= 0)
	{
		pg_wchar	c = canon_astral_nonchar(s + at) - 0x10000;
		unsigned int units[2] = {0xD800 | (c >> 10), 0xDC00 | (c & 0x3FF)};
		char		buf[12];
		int			k;

		appendBinaryStringInfo(&esc, out->data + run, at - run);
		for (k = 0; k < 2; k++)
		{
			buf[6 * k] = '\\';
			buf[6 * k + 1] = 'u';
			buf[6 * k + 2] = canon_hexdigits[(units[k] >> 12) & 0x0f];
			buf[6 * k + 3] = canon_hexdigits[(units[k] >> 8) & 0x0f];
			buf[6 * k + 4] = canon_hexdigits[(units[k] >> 4) & 0x0f];
			buf[6 * k + 5] = canon_hexdigits[units[k] & 0x0f];
		}
		appendBinaryStringInfo(&esc, buf, 12);
		run = at + 4;
		at = canon_find_astral_nonchar(s, run, len);
	}
	appendBinaryStringInfo(&esc, out->data + run, len - run);
	pfree(out->data);
	*out = esc;
}
