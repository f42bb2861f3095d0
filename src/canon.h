/*-------------------------------------------------------------------------
 *
 * canon.h
 *		Canonical JSON: the byte-exact serialisation that event hashes cover.
 *
 * The canonical form of a value is what Python produces with
 *		json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
 * encoded as UTF-8.  JSON text is first built into a small tree (CanonNode,
 * number lexemes kept, so that 1E2 renders as 100.0 like Python's float);
 * jsonb is rendered in place, without a tree.  Both go through the same
 * code for objects, strings and numbers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_CANON_H
#define BH_AUDIT_CANON_H

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

typedef enum CanonType
{
	CANON_NULL,
	CANON_TRUE,
	CANON_FALSE,
	CANON_INT,					/* integer lexeme, rendered verbatim */
	CANON_FLOAT,				/* double, rendered like Python repr() */
	CANON_STRING,				/* UTF-8 bytes, unescaped */
	CANON_ARRAY,
	CANON_OBJECT
} CanonType;

typedef struct CanonNode CanonNode;

typedef struct CanonPair
{
	char	   *key;			/* UTF-8, unescaped */
	int			keylen;
	CanonNode  *value;
} CanonPair;

struct CanonNode
{
	CanonType	type;
	char	   *str;			/* CANON_STRING bytes, or CANON_INT digits */
	int			len;
	double		fval;			/* CANON_FLOAT */
	int			nitems;			/* CANON_ARRAY elements / CANON_OBJECT pairs */
	int			maxitems;
	CanonNode **items;			/* CANON_ARRAY */
	CanonPair  *pairs;			/* CANON_OBJECT, in insertion order */
};

/* Builders (allocate in CurrentMemoryContext). */
extern CanonNode *canon_parse_json(const char *json, int len);

/* NULL if every number of jb has a canonical form, else why one has none. */
extern const char *canon_jsonb_problem(Jsonb *jb);
extern Jsonb *canon_jsonb_round_decimals(Jsonb *jb);
extern CanonNode *canon_new_string(const char *s, int len);
extern CanonNode *canon_new_object(void);

/* Set key in object: replaces an existing value (last one wins, as in Python). */
extern void canon_object_set(CanonNode *obj, const char *key, CanonNode *value);
extern CanonNode *canon_object_get(CanonNode *obj, const char *key);

/*
 * Append the canonical serialisation of node to out.  With
 * skip_top_integrity, a top-level object's "integrity" key is left out (the
 * hash input); nested keys of that name are kept.
 */
extern void canon_render(StringInfo out, CanonNode *node, bool skip_top_integrity);

/*
 * Rewrite the JSON text in out (UTF-8) with each of the 32 astral
 * noncharacters, U+1FFFE, U+1FFFF, ... U+10FFFE, U+10FFFF, written as a
 * JSON escape (a UTF-16 surrogate pair, e.g. \udbff\udfff): psql leaves
 * them out of what it prints.  The text reads back as the same value; it is
 * no longer the canonical form (hashes cover the raw characters).  A text
 * without them is not changed.
 */
extern void canon_escape_astral_nonchars(StringInfo out);

/*
 * Append the canonical serialisation of jb to out, as canon_render() would
 * of the same value: raises the error of a number without a canonical form
 * or of a string without a UTF-8 form.  With skip_top_integrity, as
 * canon_render(); with top_integrity, a top-level object's "integrity" is
 * that node instead of its own (if any).  A stored top-level "integrity"
 * left out is checked all the same: it raises the errors of its numbers and
 * strings.  It does not recurse (but once, into that member, which is
 * rendered the same way): no nesting is too deep for it, whatever
 * max_stack_depth.
 */
extern void canon_render_jsonb(StringInfo out, Jsonb *jb, bool skip_top_integrity,
							   CanonNode *top_integrity);

/*
 * canon_render_jsonb(), or false if a number has no canonical form or a
 * string no UTF-8 form (the error's SQLSTATE in *sqlerrcode).
 */
extern bool canon_render_jsonb_try(StringInfo out, Jsonb *jb, bool skip_top_integrity,
								   int *sqlerrcode);

/*
 * Python float repr() of d ("1.0", "1e-05", "1.5e+300", "inf" is an error);
 * canon_float.c.
 */
extern void canon_format_double(StringInfo out, double d);

#endif							/* BH_AUDIT_CANON_H */
