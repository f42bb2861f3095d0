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
 * - Input is first turned into a small tree of CanonNode (see canon.h),
 *   either from JSON text through PostgreSQL's own JSON parser (so that json
 *   input errors look exactly like those of the json type), or from a jsonb
 *   value through JsonbIterator.  A single renderer turns any tree into
 *   bytes, so both paths agree by construction.
 *
 * - Numbers follow Python's json module: a lexeme without '.', 'e' or 'E'
 *   is an int and is copied verbatim (big ints are exact; "-0" becomes "0";
 *   more than 4300 digits is refused, as Python 3.11 refuses to convert it);
 *   any other lexeme is a float, parsed with strtod() and printed the way
 *   Python's float repr() does.  Shortest round-trip digits come from
 *   PostgreSQL's Ryu implementation (double_to_shortest_decimal_buf); only
 *   the layout (fixed or exponent notation) is redone here.  Non-finite
 *   values are refused: Python would write the non-JSON token Infinity.
 *   jsonb stores numbers as numeric, so a jsonb value is rendered from the
 *   numeric's text; jsonb has already lost the distinction between 1E2 and
 *   100, which is the documented price of the jsonb path.
 *
 * - Strings are kept unescaped as UTF-8.  If the database encoding is not
 *   UTF-8, strings and keys are converted while the tree is built, so the
 *   renderer only ever sees UTF-8.
 *
 * - Objects keep their pairs in insertion order in the tree.  Duplicate keys
 *   in JSON text are collapsed as a Python dict would (first position, last
 *   value).  The renderer sorts a private array of pair pointers by key
 *   bytes (UTF-8 byte order equals code point order) and leaves the tree
 *   untouched; should a hand-built tree still contain a duplicate key, the
 *   last value is the one rendered.
 *
 * - This code runs for every event sealed and verified, so the hot paths
 *   avoid per-character StringInfo calls and repeated strlen(): strings are
 *   appended in runs between escapes, small objects are sorted on the stack
 *   with an insertion sort, and parser nodes are allocated in blocks.
 *
 *-------------------------------------------------------------------------
 */

#include <math.h>

#include "canon.h"
#include "common/jsonapi.h"
#include "common/shortest_dec.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonfuncs.h"
#include "utils/numeric.h"

/* Python 3.11's default limit on digits in int <-> str conversion. */
#define CANON_MAX_INT_DIGITS	4300

/* Objects up to this many pairs are sorted on the stack. */
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
 * State shared by both tree builders: the container stack, the key waiting
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

/*
 * Convert server-encoded bytes to UTF-8 when the database is not UTF-8.
 * Returns s itself when no conversion happened; *len is updated.
 */
static char *
canon_to_utf8(CanonBuildState *st, char *s, int *len)
{
	char	   *conv;

	if (!st->convert)
		return s;
	conv = pg_server_to_any(s, *len, PG_UTF8);
	if (conv != s)
		*len = (int) strlen(conv);
	return conv;
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
 * Python's str ordering (by code point).
 */
static inline int
canon_key_cmp(const CanonPair *a, const CanonPair *b)
{
	int			minlen = Min(a->keylen, b->keylen);
	int			c = memcmp(a->key, b->key, minlen);

	if (c != 0)
		return c;
	return (a->keylen > b->keylen) - (a->keylen < b->keylen);
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
 * Fill sorted[] with pointers to obj's pairs, ordered by key; pairs with
 * equal keys stay in insertion order.
 */
static void
canon_sort_pairs(CanonNode *obj, CanonPair **sorted)
{
	int			n = obj->nitems;
	int			i;

	if (n <= CANON_SMALL_OBJECT)
	{
		/* insertion sort: stable and fastest for the usual event sizes */
		for (i = 0; i < n; i++)
		{
			CanonPair  *p = &obj->pairs[i];
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
			sorted[i] = &obj->pairs[i];
		qsort(sorted, n, sizeof(CanonPair *), canon_pair_ptr_cmp);
	}
}

/*
 * Collapse duplicate keys of an object as a Python dict does: the pair keeps
 * the position of the first occurrence and the value of the last one.
 */
static void
canon_object_dedup(CanonNode *obj)
{
	CanonPair  *local[CANON_SMALL_OBJECT];
	CanonPair **sorted;
	int			n = obj->nitems;
	int			i;
	int			j;
	bool		found = false;

	if (n < 2)
		return;
	sorted = (n <= CANON_SMALL_OBJECT) ? local :
		(CanonPair **) palloc(n * sizeof(CanonPair *));
	canon_sort_pairs(obj, sorted);

	for (i = 0; i < n - 1; i = j)
	{
		/* find the run of pairs sharing sorted[i]'s key */
		for (j = i + 1; j < n && canon_key_cmp(sorted[i], sorted[j]) == 0; j++)
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

	if (found)
	{
		for (i = 0, j = 0; i < n; i++)
		{
			if (obj->pairs[i].keylen >= 0)
				obj->pairs[j++] = obj->pairs[i];
		}
		obj->nitems = j;
	}

	if (sorted != local)
		pfree(sorted);
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
 * Fill a number node from a JSON number lexeme (or numeric text) of the
 * given length; text must be NUL-terminated and is kept for ints.
 */
static void
canon_set_number(CanonNode *node, char *text, int len)
{
	bool		is_int = true;
	int			ndigits = 0;
	int			i;

	for (i = 0; i < len; i++)
	{
		char		c = text[i];

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
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("integer with more than %d digits cannot be canonicalized",
							CANON_MAX_INT_DIGITS)));
		node->type = CANON_INT;
		if (len == 2 && text[0] == '-' && text[1] == '0')
		{
			/* Python's int("-0") is 0 */
			text++;
			len--;
		}
		node->str = text;
		node->len = len;
	}
	else
	{
		double		d = strtod(text, NULL);

		if (!isfinite(d))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("number \"%s\" cannot be canonicalized: not a finite float",
							text)));
		node->type = CANON_FLOAT;
		node->fval = d;
	}
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

	st->key = canon_to_utf8(st, fname, &len);
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
			node->str = canon_to_utf8(st, token, &len);
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


/* ---- jsonb builder ---- */

/*
 * Copy a jsonb string (not NUL-terminated) into a palloc'd UTF-8 string.
 */
static char *
canon_jsonb_string(CanonBuildState *st, const char *s, int len, int *outlen)
{
	char	   *copy = (char *) palloc(len + 1);

	memcpy(copy, s, len);
	copy[len] = '\0';
	*outlen = len;
	return canon_to_utf8(st, copy, outlen);
}

/*
 * Build a node from a jsonb scalar.
 */
static CanonNode *
canon_jsonb_scalar(CanonBuildState *st, JsonbValue *v)
{
	CanonNode  *node;
	char	   *text;

	switch (v->type)
	{
		case jbvNull:
			node = canon_build_node(st, CANON_NULL);
			break;
		case jbvBool:
			node = canon_build_node(st, v->val.boolean ? CANON_TRUE : CANON_FALSE);
			break;
		case jbvString:
			node = canon_build_node(st, CANON_STRING);
			node->str = canon_jsonb_string(st, v->val.string.val,
										   v->val.string.len, &node->len);
			break;
		case jbvNumeric:
			node = canon_build_node(st, CANON_INT);
			text = DatumGetCString(DirectFunctionCall1(numeric_out,
													   NumericGetDatum(v->val.numeric)));
			canon_set_number(node, text, (int) strlen(text));
			break;
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
			node = NULL;		/* keep compiler quiet */
			break;
	}
	return node;
}

/*
 * Build a tree from a jsonb value.  A top-level scalar (stored by jsonb as
 * a one-element "raw scalar" array) becomes a scalar root.
 */
CanonNode *
canon_from_jsonb(Jsonb *jb)
{
	CanonBuildState st;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	CanonNode  *node;

	canon_build_init(&st);

	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		switch (tok)
		{
			case WJB_BEGIN_ARRAY:
				if (v.val.array.rawScalar)
					break;		/* the element becomes the root */
				node = canon_build_node(&st, CANON_ARRAY);
				if (v.val.array.nElems > 0)
				{
					node->maxitems = v.val.array.nElems;
					node->items = (CanonNode **)
						palloc(node->maxitems * sizeof(CanonNode *));
				}
				canon_build_attach(&st, node);
				break;
			case WJB_BEGIN_OBJECT:
				node = canon_build_node(&st, CANON_OBJECT);
				if (v.val.object.nPairs > 0)
				{
					node->maxitems = v.val.object.nPairs;
					node->pairs = (CanonPair *)
						palloc(node->maxitems * sizeof(CanonPair));
				}
				canon_build_attach(&st, node);
				break;
			case WJB_END_ARRAY:
				/* nothing was opened for a raw scalar, at depth 0 */
				if (st.depth > 0)
					st.depth--;
				break;
			case WJB_END_OBJECT:
				st.depth--;
				break;
			case WJB_KEY:
				st.key = canon_jsonb_string(&st, v.val.string.val,
											v.val.string.len, &st.keylen);
				break;
			case WJB_VALUE:
			case WJB_ELEM:
				canon_build_attach(&st, canon_jsonb_scalar(&st, &v));
				break;
			default:
				elog(ERROR, "unexpected jsonb iterator token %d", (int) tok);
				break;
		}
	}

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
 * Append d as Python's repr() would write it: shortest round-trip digits,
 * exponent notation when the decimal exponent is below -4 or at least 16,
 * otherwise fixed notation that always has a fractional part.
 */
void
canon_format_double(StringInfo out, double d)
{
	char		ryu[DOUBLE_SHORTEST_DECIMAL_LEN + 1];
	char		digits[DOUBLE_SHORTEST_DECIMAL_LEN];
	char		buf[48];
	char	   *p;
	char	   *b = buf;
	int			ndigits = 0;
	int			point = -1;
	int			first = 0;
	int			decpt;			/* value = 0.DIGITS * 10^decpt */
	int			i;

	if (!isfinite(d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("non-finite float cannot be canonicalized")));

	if (d == 0.0)
	{
		if (signbit(d))
			appendBinaryStringInfo(out, "-0.0", 4);
		else
			appendBinaryStringInfo(out, "0.0", 3);
		return;
	}

	/*
	 * Ryu chooses its own layout ("1e-05", "0.001", "123.5", "1e+16"); take
	 * it apart into digits and a decimal point position.
	 */
	double_to_shortest_decimal_buf(d, ryu);
	p = ryu;
	if (*p == '-')
	{
		*b++ = '-';
		p++;
	}
	for (; *p != '\0' && *p != 'e' && *p != 'E'; p++)
	{
		if (*p == '.')
			point = ndigits;
		else
			digits[ndigits++] = *p;
	}
	if (point < 0)
		point = ndigits;
	decpt = point;
	if (*p != '\0')
		decpt += atoi(p + 1);

	/* strip leading and trailing zeros */
	while (first < ndigits && digits[first] == '0')
	{
		first++;
		decpt--;
	}
	while (ndigits > first && digits[ndigits - 1] == '0')
		ndigits--;
	ndigits -= first;
	memmove(digits, digits + first, ndigits);
	Assert(ndigits > 0);

	if (decpt <= -4 || decpt > 16)
	{
		int			exp = decpt - 1;

		*b++ = digits[0];
		if (ndigits > 1)
		{
			*b++ = '.';
			memcpy(b, digits + 1, ndigits - 1);
			b += ndigits - 1;
		}
		*b++ = 'e';
		if (exp < 0)
		{
			*b++ = '-';
			exp = -exp;
		}
		else
			*b++ = '+';
		if (exp >= 100)
			*b++ = '0' + exp / 100;
		*b++ = '0' + (exp / 10) % 10;
		*b++ = '0' + exp % 10;
	}
	else if (decpt <= 0)
	{
		*b++ = '0';
		*b++ = '.';
		for (i = decpt; i < 0; i++)
			*b++ = '0';
		memcpy(b, digits, ndigits);
		b += ndigits;
	}
	else if (decpt < ndigits)
	{
		memcpy(b, digits, decpt);
		b += decpt;
		*b++ = '.';
		memcpy(b, digits + decpt, ndigits - decpt);
		b += ndigits - decpt;
	}
	else
	{
		memcpy(b, digits, ndigits);
		b += ndigits;
		for (i = ndigits; i < decpt; i++)
			*b++ = '0';
		*b++ = '.';
		*b++ = '0';
	}

	appendBinaryStringInfo(out, buf, b - buf);
}

/*
 * Append s (len bytes of UTF-8) as a JSON string: short escapes for " \ and
 * \b \f \n \r \t, \u00xx for other control characters, all else raw.
 */
static void
canon_render_string(StringInfo out, const char *s, int len)
{
	const char *run = s;
	const char *end = s + len;
	const char *p;
	char		esc[6];

	enlargeStringInfo(out, len + 2);
	appendStringInfoCharMacro(out, '"');

	for (p = s; p < end; p++)
	{
		char		e = canon_escape[(unsigned char) *p];

		if (likely(e == 0))
			continue;

		if (p > run)
			appendBinaryStringInfo(out, run, p - run);
		run = p + 1;

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
	}
	if (end > run)
		appendBinaryStringInfo(out, run, end - run);

	appendStringInfoCharMacro(out, '"');
}

/*
 * Append an object with its pairs sorted by key.  With skip_integrity, a
 * pair keyed "integrity" is left out.
 */
static void
canon_render_object(StringInfo out, CanonNode *obj, bool skip_integrity)
{
	CanonPair  *local[CANON_SMALL_OBJECT];
	CanonPair **sorted;
	int			n = obj->nitems;
	bool		first = true;
	int			i;

	if (n == 0)
	{
		appendBinaryStringInfo(out, "{}", 2);
		return;
	}

	sorted = (n <= CANON_SMALL_OBJECT) ? local :
		(CanonPair **) palloc(n * sizeof(CanonPair *));
	canon_sort_pairs(obj, sorted);

	appendStringInfoCharMacro(out, '{');
	for (i = 0; i < n; i++)
	{
		CanonPair  *p = sorted[i];

		/* a duplicate key: only its last value counts */
		if (i + 1 < n && canon_key_cmp(p, sorted[i + 1]) == 0)
			continue;
		if (skip_integrity && p->keylen == 9 &&
			memcmp(p->key, "integrity", 9) == 0)
			continue;

		if (!first)
			appendStringInfoCharMacro(out, ',');
		first = false;
		canon_render_string(out, p->key, p->keylen);
		appendStringInfoCharMacro(out, ':');
		canon_render_node(out, p->value, false);
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
			canon_render_object(out, node, skip_integrity);
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
