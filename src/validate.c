/*-------------------------------------------------------------------------
 *
 * validate.c
 *		JSON Schema (draft 2020-12) validation of events against the
 *		vendored bh-audit-schema versions: the schemas compiled, an event
 *		walked against one.  The settings, the emit path's check and the
 *		SQL functions that use it are validate_events.c's.
 *
 * The schemas are embedded at build time: the Makefile turns
 * schema/<version>/audit_event.schema.json into string constants
 * (src/schema_data.c), so that the validator and its schemas always come
 * from the same build, nothing is read from disk at run time (the emit
 * path has no file to miss or to be swapped under it), and the SQL
 * functions can honestly be IMMUTABLE.  At first use in a backend a
 * schema is parsed (jsonb_in) and compiled into a tree of BhNode in a
 * memory context under TopMemoryContext; validation then walks that tree
 * and the binary jsonb of the event, never the schema's JSON again.
 *
 * Supported keywords: type, enum, const, required, properties,
 * additionalProperties (boolean or schema), items, minLength/maxLength
 * (in code points), minItems/maxItems, minProperties/maxProperties,
 * minimum/maximum, $ref (local JSON pointers, "#..."), $defs, allOf,
 * anyOf, oneOf, not, if/then/else, dependentRequired, and format (uuid,
 * date-time, ipv4, ipv6, asserted as the reference validator does with a
 * FormatChecker).  Annotations (title, description, default, $comment,
 * $schema, $id, ...) are ignored; any other keyword, or another format,
 * makes compilation fail, so that a schema is never half understood.
 *
 * Speed: in yes/no mode (errors == NULL) validation stops at the first
 * failure and allocates nothing on the common path, and a node judges at
 * once an object or array of the very bytes it judged last (the events
 * bh_audit builds repeat their actor, action, outcome, service and
 * metadata from one to the next: only what changes is walked; see
 * bh_seen_before).  Each schema node keeps
 * the names its object keywords mention (properties, required,
 * dependentRequired) in one table sorted the way jsonb sorts object keys,
 * so an object is checked by a single merge of its pairs, read straight
 * from the container's JEntry array, with that table: properties,
 * required, additionalProperties and dependentRequired in one pass.  Nodes
 * that only ask about one or two names (the "if" of a conditional) look
 * them up instead, in key order straight from the JEntry array when the
 * object is small.  A node records which groups of keywords it has, so
 * that a check passes over the others at once; the stack depth is checked
 * only where the walk can recurse without bound (at a "$ref").  Error
 * paths are built only when an error is recorded, from a chain of BhPath
 * frames on the C stack.
 *
 * PHI: an error names where (a JSON pointer) and which keyword and limit
 * failed, never the offending value.  Paths name only the keys the schema
 * itself declares: a key matched by additionalProperties (for instance a
 * metadata key, which may carry PHI) appears as "*".
 *
 * Format semantics follow the reference (python-jsonschema with a
 * FormatChecker): date-time is RFC 3339 as rfc3339-validator checks it
 * (case-insensitive T and Z, seconds 00-59, offsets up to 23:59, a real
 * calendar day, year not 0); ipv4 and ipv6 are the textual forms Python's
 * ipaddress module accepts (no leading zeros in IPv4 octets, an IPv6 zone
 * "%..." is refused); uuid is the RFC 4122 hex form 8-4-4-4-12.  Where the
 * reference is laxer by accident of its implementation (a trailing
 * newline after a date-time, Python int() syntax inside a uuid), this
 * validator follows the RFCs; docs/validation.md lists those cases.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "bh_audit.h"
#include "recode.h"
#include "validate.h"

/* Instance types, as bits. */
#define BH_T_NULL		0x01
#define BH_T_BOOLEAN	0x02
#define BH_T_OBJECT		0x04
#define BH_T_ARRAY		0x08
#define BH_T_NUMBER		0x10
#define BH_T_INTEGER	0x20
#define BH_T_STRING		0x40

typedef enum BhFormat
{
	BH_FMT_NONE,
	BH_FMT_UUID,
	BH_FMT_DATE_TIME,
	BH_FMT_IPV4,
	BH_FMT_IPV6
} BhFormat;

static const char *const bh_format_names[] = {NULL, "uuid", "date-time", "ipv4", "ipv6"};

typedef struct BhNode BhNode;

/* A name the schema declares (property, required key). */
typedef struct BhName
{
	const char *str;
	int			len;
} BhName;

typedef struct BhProperty
{
	BhName		key;
	BhNode	   *schema;
} BhProperty;

typedef struct BhDependency
{
	BhName		key;
	int			nrequired;
	BhName	   *required;
	int			key_index;		/* in BhNode.keys */
	int		   *required_index;
} BhDependency;

/*
 * A name the object keywords of a node mention (properties, required,
 * dependentRequired), in the order jsonb keeps object keys: shorter
 * first, then bytewise.  An object is checked by one merge of its keys
 * with this table.
 */
typedef struct BhKey
{
	BhName		name;
	BhNode	   *schema;			/* from "properties", or NULL */
	bool		required;
} BhKey;

/* A compiled (sub)schema. */
struct BhNode
{
	bool		is_boolean;		/* the schema is true or false */
	bool		boolean;
	int			nkeywords;		/* assertion/applicator keywords present */

	uint8		types;			/* 0: no "type" */
	char	   *types_text;

	int			nenum;			/* -1: no "enum" */
	JsonbValue *enum_values;
	char	   *enum_text;
	bool		has_const;
	JsonbValue	const_value;
	char	   *const_text;

	int32		min_length;		/* -1: none (all the limits below too) */
	int32		max_length;
	BhFormat	format;

	Numeric		minimum;		/* NULL: none */
	Numeric		maximum;
	char	   *minimum_text;
	char	   *maximum_text;

	int			nrequired;
	BhName	   *required;
	int			nproperties;
	BhProperty *properties;
	BhNode	   *additional;		/* NULL: no "additionalProperties" */
	int32		min_properties;
	int32		max_properties;
	int			ndependencies;
	BhDependency *dependencies;
	int			nkeys;			/* all the names above, merged and sorted */
	BhKey	   *keys;
	int			nkeys_required; /* how many of them are required */
	bool		walk;			/* merge with every pair (else look names up) */

	BhNode	   *items;			/* NULL: no "items" */
	int32		min_items;
	int32		max_items;

	BhNode	   *ref;			/* resolved "$ref" */
	int			nall_of;
	BhNode	  **all_of;
	int			nany_of;
	BhNode	  **any_of;
	char	   *any_of_message;
	int			none_of;
	BhNode	  **one_of;
	BhNode	   *not;
	char	   *not_message;
	BhNode	   *if_schema;
	BhNode	   *then_schema;
	BhNode	   *else_schema;

	uint8		checks;			/* BH_C_*: which groups of keywords are
								 * present */

	/* the last container judged in yes/no mode, and how (bh_check_node) */
	char	   *seen;
	uint32		seen_len;
	uint32		seen_room;
	bool		seen_valid;
};

/*
 * Groups of keywords a node has (BhNode.checks), so that a check skips at
 * once the groups a node has none of: most nodes have one or two.
 */
#define BH_C_VALUE		0x01	/* const, enum */
#define BH_C_OBJECT		0x02	/* the object keywords */
#define BH_C_ARRAY		0x04	/* items, minItems, maxItems */
#define BH_C_STRING		0x08	/* minLength, maxLength, format */
#define BH_C_NUMBER		0x10	/* minimum, maximum */
#define BH_C_APPLY		0x20	/* $ref, allOf, anyOf, oneOf, not, if */

/* Compilation state of one schema document. */
typedef struct BhCompiler
{
	const char *version;
	JsonbValue	root;			/* the document */
	List	   *pointers;		/* compiled subschemas, for $ref */
	List	   *nodes;
} BhCompiler;

/* A step of the instance path (on the C stack, built into text lazily). */
typedef struct BhPath
{
	const struct BhPath *up;
	const char *key;			/* NULL: array index */
	int			keylen;
	int			index;
} BhPath;

/*
 * Validation state: collect errors, or stop at the first failure.  A check
 * of an argument of the SQL functions is interruptible: an event of
 * millions of items takes seconds, and a cancel, a timeout or a shutdown
 * must not wait for it.  (The events bh_audit builds are small, and their
 * checks run where an error must not come from a pending interrupt.)
 */
typedef struct BhCheck
{
	bool		collect;
	bool		interruptible;
	List	   *errors;
	bool		seen;			/* judgements remembered and reused (see
								 * bh_check_node): yes/no validation only, so
								 * that a collecting one walks everything */
} BhCheck;

/* Once per array item or object member walked. */
#define BH_CHECK_INTERRUPTS(cx) \
	do { \
		if ((cx)->interruptible) \
			CHECK_FOR_INTERRUPTS(); \
	} while (0)

/* Compiled schemas of this backend, and their memory. */
static BhNode *bh_compiled[BH_SCHEMA_NVERSIONS];
static MemoryContext bh_schema_cxt = NULL;

static bool bh_check_node(BhCheck *cx, BhNode *n, JsonbValue *v, const BhPath *path);
static bool bh_check_node_walk(BhCheck *cx, BhNode *n, JsonbValue *v, const BhPath *path);
static BhNode *bh_compile(BhCompiler *c, JsonbValue *schema, const char *pointer);
static void bh_error(BhCheck *cx, const BhPath *path, const char *fmt,...) pg_attribute_printf(3, 4);


/* ---------------------------------------------------------------------
 * Compilation
 * ---------------------------------------------------------------------
 */

/* A compilation error: the embedded schema is not what we support. */
static void
bh_schema_error(BhCompiler *c, const char *pointer, const char *what)
{
	elog(ERROR, "bh_audit: cannot compile bh-audit-schema %s at %s: %s",
		 c->version, pointer, what);
}

/* Is v a JSON object (a container, not a scalar)? */
static bool
bh_is_object(JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

/* Is v a JSON array? */
static bool
bh_is_array(JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data);
}

/* The elements of a JSON array (nested containers as jbvBinary). */
static JsonbValue *
bh_array_elements(JsonbValue *array, int *n)
{
	JsonbContainer *jc = array->val.binary.data;
	JsonbValue *elems = palloc0(sizeof(JsonbValue) * Max(1, JsonContainerSize(jc)));
	JsonbIterator *it = JsonbIteratorInit(jc);
	JsonbValue	v;
	JsonbIteratorToken tok;

	*n = 0;
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		if (tok == WJB_ELEM)
			elems[(*n)++] = v;
	return elems;
}

/* The pairs of a JSON object. */
static int
bh_object_pairs(JsonbValue *object, BhName **keys, JsonbValue **values)
{
	JsonbContainer *jc = object->val.binary.data;
	int			size = Max(1, JsonContainerSize(jc));
	JsonbIterator *it = JsonbIteratorInit(jc);
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			n = 0;

	*keys = palloc0(sizeof(BhName) * size);
	*values = palloc0(sizeof(JsonbValue) * size);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			(*keys)[n].str = pnstrdup(v.val.string.val, v.val.string.len);
			(*keys)[n].len = v.val.string.len;
		}
		else if (tok == WJB_VALUE)
			(*values)[n++] = v;
	}
	return n;
}

/* JSON text of a schema value, for messages ("READ", 599, ...). */
static char *
bh_value_text(JsonbValue *v)
{
	StringInfoData buf;

	initStringInfo(&buf);
	switch (v->type)
	{
		case jbvNull:
			appendStringInfoString(&buf, "null");
			break;
		case jbvBool:
			appendStringInfoString(&buf, v->val.boolean ? "true" : "false");
			break;
		case jbvString:
			escape_json(&buf, pnstrdup(v->val.string.val, v->val.string.len));
			break;
		case jbvNumeric:
			appendStringInfoString(&buf,
								   DatumGetCString(DirectFunctionCall1(numeric_out,
																	   NumericGetDatum(v->val.numeric))));
			break;
		case jbvBinary:
			appendStringInfoString(&buf, JsonbToCString(NULL, v->val.binary.data,
														v->val.binary.len));
			break;
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
	}
	return buf.data;
}

/* A non-negative integer keyword value (minLength, maxItems, ...). */
static int32
bh_compile_count(BhCompiler *c, JsonbValue *v, const char *pointer)
{
	char	   *text;
	char	   *end;
	long		n;

	if (v->type != jbvNumeric)
		bh_schema_error(c, pointer, "a count must be a number");
	text = bh_value_text(v);

	errno = 0;
	n = strtol(text, &end, 10);
	if (*end != '\0' || errno != 0 || n < 0 || n > PG_INT32_MAX)
		bh_schema_error(c, pointer, "a count must be a non-negative integer");
	return (int32) n;
}

/* An array of property names (required, dependentRequired). */
static BhName *
bh_compile_names(BhCompiler *c, JsonbValue *v, const char *pointer, int *n)
{
	JsonbValue *elems;
	BhName	   *names;
	int			i;

	if (!bh_is_array(v))
		bh_schema_error(c, pointer, "expected an array of strings");
	elems = bh_array_elements(v, n);
	names = palloc0(sizeof(BhName) * Max(1, *n));
	for (i = 0; i < *n; i++)
	{
		if (elems[i].type != jbvString)
			bh_schema_error(c, pointer, "expected an array of strings");
		names[i].str = pnstrdup(elems[i].val.string.val, elems[i].val.string.len);
		names[i].len = elems[i].val.string.len;
	}
	return names;
}

/* "type": a name or an array of names. */
static void
bh_compile_type(BhCompiler *c, BhNode *n, JsonbValue *v, const char *pointer)
{
	static const struct
	{
		const char *name;
		uint8		bit;
	}			types[] = {
		{"null", BH_T_NULL}, {"boolean", BH_T_BOOLEAN}, {"object", BH_T_OBJECT},
		{"array", BH_T_ARRAY}, {"number", BH_T_NUMBER}, {"integer", BH_T_INTEGER},
		{"string", BH_T_STRING}
	};
	JsonbValue *elems;
	int			nelems;
	int			i,
				j;
	StringInfoData text;

	if (v->type == jbvString)
	{
		elems = v;
		nelems = 1;
	}
	else if (bh_is_array(v))
		elems = bh_array_elements(v, &nelems);
	else
		bh_schema_error(c, pointer, "\"type\" must be a string or an array");

	initStringInfo(&text);
	for (i = 0; i < nelems; i++)
	{
		bool		found = false;

		if (elems[i].type != jbvString)
			bh_schema_error(c, pointer, "\"type\" names must be strings");
		for (j = 0; j < lengthof(types); j++)
		{
			if (strlen(types[j].name) == elems[i].val.string.len &&
				memcmp(types[j].name, elems[i].val.string.val, elems[i].val.string.len) == 0)
			{
				n->types |= types[j].bit;
				found = true;
			}
		}
		if (!found)
			bh_schema_error(c, pointer, "unknown type name");
		if (i > 0)
			appendStringInfoString(&text, i == nelems - 1 ? " or " : ", ");
		appendBinaryStringInfo(&text, elems[i].val.string.val, elems[i].val.string.len);
	}
	n->types_text = text.data;
}

/* A list of subschemas (allOf, anyOf, oneOf). */
static BhNode **
bh_compile_list(BhCompiler *c, JsonbValue *v, const char *pointer, int *n)
{
	JsonbValue *elems;
	BhNode	  **nodes;
	int			i;

	if (!bh_is_array(v))
		bh_schema_error(c, pointer, "expected an array of schemas");
	elems = bh_array_elements(v, n);
	if (*n == 0)
		bh_schema_error(c, pointer, "expected a non-empty array of schemas");
	nodes = palloc0(sizeof(BhNode *) * *n);
	for (i = 0; i < *n; i++)
		nodes[i] = bh_compile(c, &elems[i], psprintf("%s/%d", pointer, i));
	return nodes;
}

/* One JSON pointer token, unescaped (~1 is "/", ~0 is "~"). */
static char *
bh_pointer_token(const char *s, int len)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < len; i++)
	{
		if (s[i] == '~' && i + 1 < len && (s[i + 1] == '0' || s[i + 1] == '1'))
		{
			appendStringInfoChar(&buf, s[i + 1] == '0' ? '~' : '/');
			i++;
		}
		else
			appendStringInfoChar(&buf, s[i]);
	}
	return buf.data;
}

/* The compiled subschema at a local reference ("#", "#/$defs/X"). */
static BhNode *
bh_resolve_ref(BhCompiler *c, const char *ref, const char *pointer)
{
	ListCell   *lp,
			   *ln;
	JsonbValue	cur = c->root;
	const char *p;

	if (ref[0] != '#' || (ref[1] != '\0' && ref[1] != '/'))
		bh_schema_error(c, pointer, "only local \"$ref\" (\"#...\") is supported");
	forboth(lp, c->pointers, ln, c->nodes)
	{
		if (strcmp((char *) lfirst(lp), ref) == 0)
			return (BhNode *) lfirst(ln);
	}

	/* Walk the document to the referenced subschema and compile it. */
	p = ref + 1;
	while (*p == '/')
	{
		const char *start = ++p;
		char	   *token;
		JsonbValue	next;

		while (*p && *p != '/')
			p++;
		token = bh_pointer_token(start, p - start);
		if (!bh_is_object(&cur) ||
			getKeyJsonValueFromContainer(cur.val.binary.data, token, strlen(token),
										 &next) == NULL)
			bh_schema_error(c, pointer, "\"$ref\" does not resolve");
		cur = next;
	}
	return bh_compile(c, &cur, pstrdup(ref));
}

/* Order of jsonb object keys: shorter first, then bytewise. */
static int
bh_name_cmp(const char *a, int alen, const char *b, int blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

/* qsort comparator of BhKey, in jsonb key order. */
static int
bh_key_qsort_cmp(const void *a, const void *b)
{
	const BhKey *ka = (const BhKey *) a;
	const BhKey *kb = (const BhKey *) b;

	return bh_name_cmp(ka->name.str, ka->name.len, kb->name.str, kb->name.len);
}

/* The index of name in the node's key table, adding it if absent. */
static int
bh_key_slot(BhNode *n, const BhName *name, int *allocated)
{
	int			i;

	for (i = 0; i < n->nkeys; i++)
		if (bh_name_cmp(n->keys[i].name.str, n->keys[i].name.len, name->str, name->len) == 0)
			return i;
	if (n->nkeys == *allocated)
	{
		*allocated = Max(8, *allocated * 2);
		n->keys = n->keys ? repalloc(n->keys, sizeof(BhKey) * *allocated)
			: palloc(sizeof(BhKey) * *allocated);
	}
	n->keys[n->nkeys].name = *name;
	n->keys[n->nkeys].schema = NULL;
	n->keys[n->nkeys].required = false;
	return n->nkeys++;
}

/* The index of name in the (sorted) key table. */
static int
bh_key_index(BhNode *n, const BhName *name)
{
	int			i;

	for (i = 0; i < n->nkeys; i++)
		if (bh_name_cmp(n->keys[i].name.str, n->keys[i].name.len, name->str, name->len) == 0)
			return i;
	elog(ERROR, "bh_audit: schema key table lost a name");
	return -1;
}

/*
 * Merge the names of properties, required and dependentRequired into one
 * table sorted like jsonb keys.  Objects are then checked by walking their
 * pairs once against it; a node that only needs to know about one or two
 * names and not about the others (no additionalProperties) looks them up.
 */
static void
bh_compile_keys(BhNode *n)
{
	int			allocated = 0;
	int			i,
				j;

	/* (the slot first: bh_key_slot may move the table) */
	for (i = 0; i < n->nproperties; i++)
	{
		int			k = bh_key_slot(n, &n->properties[i].key, &allocated);

		n->keys[k].schema = n->properties[i].schema;
	}
	for (i = 0; i < n->nrequired; i++)
	{
		int			k = bh_key_slot(n, &n->required[i], &allocated);

		n->keys[k].required = true;
	}
	for (i = 0; i < n->ndependencies; i++)
	{
		(void) bh_key_slot(n, &n->dependencies[i].key, &allocated);
		for (j = 0; j < n->dependencies[i].nrequired; j++)
			(void) bh_key_slot(n, &n->dependencies[i].required[j], &allocated);
	}
	if (n->nkeys > 1)
		qsort(n->keys, n->nkeys, sizeof(BhKey), bh_key_qsort_cmp);
	for (i = 0; i < n->ndependencies; i++)
	{
		BhDependency *dep = &n->dependencies[i];

		dep->key_index = bh_key_index(n, &dep->key);
		dep->required_index = palloc(sizeof(int) * Max(1, dep->nrequired));
		for (j = 0; j < dep->nrequired; j++)
			dep->required_index[j] = bh_key_index(n, &dep->required[j]);
	}
	for (i = 0; i < n->nkeys; i++)
		if (n->keys[i].required)
			n->nkeys_required++;
	n->walk = n->additional != NULL || n->nkeys > 2;
}

/* Is the key one of the names? */
static bool
bh_key_is(const BhName *key, const char *name)
{
	return key->len == (int) strlen(name) && memcmp(key->str, name, key->len) == 0;
}

/*
 * Compile a (sub)schema found at pointer.  The node is registered before
 * its children are compiled, so that references (even cyclic ones) find it.
 */
static BhNode *
bh_compile(BhCompiler *c, JsonbValue *schema, const char *pointer)
{
	static const char *const annotations[] = {
		"$schema", "$id", "$comment", "$defs", "title", "description", "default",
		"examples", "deprecated", "readOnly", "writeOnly", NULL
	};
	BhNode	   *n = palloc0(sizeof(BhNode));
	BhName	   *keys;
	JsonbValue *values;
	int			npairs;
	int			i;

	check_stack_depth();
	n->nenum = -1;
	n->min_length = n->max_length = -1;
	n->min_properties = n->max_properties = -1;
	n->min_items = n->max_items = -1;

	c->pointers = lappend(c->pointers, (void *) pointer);
	c->nodes = lappend(c->nodes, n);

	if (schema->type == jbvBool)
	{
		n->is_boolean = true;
		n->boolean = schema->val.boolean;
		return n;
	}
	if (!bh_is_object(schema))
		bh_schema_error(c, pointer, "a schema must be an object or a boolean");

	npairs = bh_object_pairs(schema, &keys, &values);
	for (i = 0; i < npairs; i++)
	{
		BhName	   *k = &keys[i];
		JsonbValue *v = &values[i];
		char	   *here = psprintf("%s/%s", pointer, k->str);
		bool		annotation = false;
		const char *const *a;

		for (a = annotations; *a; a++)
			if (bh_key_is(k, *a))
				annotation = true;
		if (annotation)
			continue;
		n->nkeywords++;

		if (bh_key_is(k, "type"))
			bh_compile_type(c, n, v, here);
		else if (bh_key_is(k, "enum"))
		{
			StringInfoData text;
			int			j;

			if (!bh_is_array(v))
				bh_schema_error(c, here, "\"enum\" must be an array");
			n->enum_values = bh_array_elements(v, &n->nenum);
			initStringInfo(&text);
			for (j = 0; j < n->nenum; j++)
			{
				if (j > 0)
					appendStringInfoString(&text, ", ");
				appendStringInfoString(&text, bh_value_text(&n->enum_values[j]));
			}
			n->enum_text = text.data;
		}
		else if (bh_key_is(k, "const"))
		{
			n->has_const = true;
			n->const_value = *v;
			n->const_text = bh_value_text(v);
		}
		else if (bh_key_is(k, "minLength"))
			n->min_length = bh_compile_count(c, v, here);
		else if (bh_key_is(k, "maxLength"))
			n->max_length = bh_compile_count(c, v, here);
		else if (bh_key_is(k, "minItems"))
			n->min_items = bh_compile_count(c, v, here);
		else if (bh_key_is(k, "maxItems"))
			n->max_items = bh_compile_count(c, v, here);
		else if (bh_key_is(k, "minProperties"))
			n->min_properties = bh_compile_count(c, v, here);
		else if (bh_key_is(k, "maxProperties"))
			n->max_properties = bh_compile_count(c, v, here);
		else if (bh_key_is(k, "minimum") || bh_key_is(k, "maximum"))
		{
			if (v->type != jbvNumeric)
				bh_schema_error(c, here, "a limit must be a number");
			if (bh_key_is(k, "minimum"))
			{
				n->minimum = v->val.numeric;
				n->minimum_text = bh_value_text(v);
			}
			else
			{
				n->maximum = v->val.numeric;
				n->maximum_text = bh_value_text(v);
			}
		}
		else if (bh_key_is(k, "format"))
		{
			int			f;

			if (v->type != jbvString)
				bh_schema_error(c, here, "\"format\" must be a string");
			for (f = BH_FMT_UUID; f <= BH_FMT_IPV6; f++)
				if (strlen(bh_format_names[f]) == v->val.string.len &&
					memcmp(bh_format_names[f], v->val.string.val, v->val.string.len) == 0)
					n->format = (BhFormat) f;
			if (n->format == BH_FMT_NONE)
				bh_schema_error(c, here, "unsupported format");
		}
		else if (bh_key_is(k, "required"))
			n->required = bh_compile_names(c, v, here, &n->nrequired);
		else if (bh_key_is(k, "properties"))
		{
			BhName	   *pkeys;
			JsonbValue *pvalues;
			int			j;

			if (!bh_is_object(v))
				bh_schema_error(c, here, "\"properties\" must be an object");
			n->nproperties = bh_object_pairs(v, &pkeys, &pvalues);
			n->properties = palloc0(sizeof(BhProperty) * Max(1, n->nproperties));
			for (j = 0; j < n->nproperties; j++)
			{
				n->properties[j].key = pkeys[j];
				n->properties[j].schema =
					bh_compile(c, &pvalues[j], psprintf("%s/%s", here, pkeys[j].str));
			}
		}
		else if (bh_key_is(k, "additionalProperties"))
			n->additional = bh_compile(c, v, here);
		else if (bh_key_is(k, "dependentRequired"))
		{
			BhName	   *dkeys;
			JsonbValue *dvalues;
			int			j;

			if (!bh_is_object(v))
				bh_schema_error(c, here, "\"dependentRequired\" must be an object");
			n->ndependencies = bh_object_pairs(v, &dkeys, &dvalues);
			n->dependencies = palloc0(sizeof(BhDependency) * Max(1, n->ndependencies));
			for (j = 0; j < n->ndependencies; j++)
			{
				n->dependencies[j].key = dkeys[j];
				n->dependencies[j].required =
					bh_compile_names(c, &dvalues[j], here, &n->dependencies[j].nrequired);
			}
		}
		else if (bh_key_is(k, "items"))
		{
			if (!bh_is_object(v) && v->type != jbvBool)
				bh_schema_error(c, here, "\"items\" must be a schema (draft 2020-12)");
			n->items = bh_compile(c, v, here);
		}
		else if (bh_key_is(k, "$ref"))
		{
			if (v->type != jbvString)
				bh_schema_error(c, here, "\"$ref\" must be a string");
			n->ref = bh_resolve_ref(c, pnstrdup(v->val.string.val, v->val.string.len), here);
		}
		else if (bh_key_is(k, "allOf"))
			n->all_of = bh_compile_list(c, v, here, &n->nall_of);
		else if (bh_key_is(k, "anyOf"))
			n->any_of = bh_compile_list(c, v, here, &n->nany_of);
		else if (bh_key_is(k, "oneOf"))
			n->one_of = bh_compile_list(c, v, here, &n->none_of);
		else if (bh_key_is(k, "not"))
			n->not = bh_compile(c, v, here);
		else if (bh_key_is(k, "if"))
			n->if_schema = bh_compile(c, v, here);
		else if (bh_key_is(k, "then"))
			n->then_schema = bh_compile(c, v, here);
		else if (bh_key_is(k, "else"))
			n->else_schema = bh_compile(c, v, here);
		else
			bh_schema_error(c, here, "unsupported keyword");
	}

	bh_compile_keys(n);

	if (n->has_const || n->nenum >= 0)
		n->checks |= BH_C_VALUE;
	if (n->nkeys > 0 || n->additional != NULL || n->min_properties >= 0 ||
		n->max_properties >= 0 || n->ndependencies > 0)
		n->checks |= BH_C_OBJECT;
	if (n->items != NULL || n->min_items >= 0 || n->max_items >= 0)
		n->checks |= BH_C_ARRAY;
	if (n->min_length >= 0 || n->max_length >= 0 || n->format != BH_FMT_NONE)
		n->checks |= BH_C_STRING;
	if (n->minimum != NULL || n->maximum != NULL)
		n->checks |= BH_C_NUMBER;
	if (n->ref != NULL || n->nall_of > 0 || n->nany_of > 0 || n->none_of > 0 ||
		n->not != NULL || n->if_schema != NULL)
		n->checks |= BH_C_APPLY;

	/* Messages that say more than "a subschema failed". */
	if (n->not)
	{
		BhNode	   *sub = n->not;

		if (!sub->is_boolean && sub->nkeywords == 1 && sub->nrequired == 1)
			n->not_message = psprintf("must not have property \"%s\" (not)",
									  sub->required[0].str);
		else
			n->not_message = pstrdup("matches a schema it must not match (not)");
	}
	if (n->nany_of > 0)
	{
		bool		formats_only = true;
		StringInfoData text;

		initStringInfo(&text);
		appendStringInfoString(&text, "does not match format ");
		for (i = 0; i < n->nany_of; i++)
		{
			BhNode	   *sub = n->any_of[i];

			if (sub->is_boolean || sub->nkeywords != 1 || sub->format == BH_FMT_NONE)
				formats_only = false;
			else
			{
				if (i > 0)
					appendStringInfoString(&text, i == n->nany_of - 1 ? " or " : ", ");
				appendStringInfo(&text, "\"%s\"", bh_format_names[sub->format]);
			}
		}
		if (formats_only)
			n->any_of_message = text.data;

		else
			n->any_of_message = pstrdup("matches none of the alternatives (anyOf)");
	}
	return n;
}

/* The compiled schema of a version, compiled at first use. */
static BhNode *
bh_schema(BhSchemaVersion version)
{
	MemoryContext cxt;
	MemoryContext old;

	if (bh_compiled[version] != NULL)
		return bh_compiled[version];

	if (bh_schema_cxt == NULL)
		bh_schema_cxt = AllocSetContextCreate(TopMemoryContext, "bh_audit schemas",
											  ALLOCSET_DEFAULT_SIZES);
	cxt = AllocSetContextCreate(bh_schema_cxt, "bh_audit schema",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		BhCompiler	c;
		Jsonb	   *doc;

		memset(&c, 0, sizeof(c));
		c.version = bh_schema_version_name(version);
		doc = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
												 CStringGetDatum(bh_schema_texts[version])));
		c.root.type = jbvBinary;
		c.root.val.binary.data = &doc->root;
		c.root.val.binary.len = VARSIZE(doc) - VARHDRSZ;
		bh_compiled[version] = bh_compile(&c, &c.root, "#");
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	return bh_compiled[version];
}


/* ---------------------------------------------------------------------
 * Formats
 * ---------------------------------------------------------------------
 */

/* ASCII only, like the reference's checks. */
static bool
bh_is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* An ASCII hexadecimal digit, either case. */
static bool
bh_is_hex(char ch)
{
	return bh_is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* Two decimal digits at s, at most max. */
static bool
bh_two_digits(const char *s, int max, int *out)
{
	if (!bh_is_digit(s[0]) || !bh_is_digit(s[1]))
		return false;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return *out <= max;
}

/* uuid: 8-4-4-4-12 hexadecimal digits (RFC 4122), either case. */
static bool
bh_format_uuid(const char *s, int len)
{
	static const bool hex[256] = {
		['0'] = true,['1'] = true,['2'] = true,['3'] = true,['4'] = true,
		['5'] = true,['6'] = true,['7'] = true,['8'] = true,['9'] = true,
		['a'] = true,['b'] = true,['c'] = true,['d'] = true,['e'] = true,['f'] = true,
		['A'] = true,['B'] = true,['C'] = true,['D'] = true,['E'] = true,['F'] = true
	};
	int			i;

	if (len != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return false;
	for (i = 0; i < 36; i++)
		if (!hex[(unsigned char) s[i]] && i != 8 && i != 13 && i != 18 && i != 23)
			return false;
	return true;
}

/*
 * date-time: RFC 3339 section 5.6, as rfc3339-validator checks it (the
 * reference's checker): YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), T and
 * Z in either case, no leap second, a real day of a year other than 0.
 */
static bool
bh_format_date_time(const char *s, int len)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			year,
				month,
				day,
				hh,
				mm,
				ss,
				maxday;
	int			p;

	if (len < 20)
		return false;
	for (p = 0; p < 4; p++)
		if (!bh_is_digit(s[p]))
			return false;
	year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	if (s[4] != '-' || !bh_two_digits(s + 5, 12, &month) || month < 1 ||
		s[7] != '-' || !bh_two_digits(s + 8, 99, &day) ||
		(s[10] != 'T' && s[10] != 't') ||
		!bh_two_digits(s + 11, 23, &hh) || s[13] != ':' ||
		!bh_two_digits(s + 14, 59, &mm) || s[16] != ':' ||
		!bh_two_digits(s + 17, 59, &ss))
		return false;
	p = 19;
	if (s[p] == '.')
	{
		int			start = ++p;

		while (p < len && bh_is_digit(s[p]))
			p++;
		if (p == start)
			return false;
	}
	if (p < len && (s[p] == 'Z' || s[p] == 'z'))
		p++;
	else if (p < len && (s[p] == '+' || s[p] == '-'))
	{
		int			oh,
					om;

		if (len - p < 6 || !bh_two_digits(s + p + 1, 23, &oh) || s[p + 3] != ':' ||
			!bh_two_digits(s + p + 4, 59, &om))
			return false;
		p += 6;
	}
	else
		return false;
	if (p != len || year == 0)
		return false;
	maxday = mdays[month - 1];
	if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
		maxday = 29;
	return day >= 1 && day <= maxday;
}

/*
 * The schema's date-time format, for the readers of event timestamps
 * (bh_event_timestamp_parse), so that they accept exactly what validation
 * accepts.
 */
bool
bh_is_rfc3339_date_time(const char *s, int len)
{
	return bh_format_date_time(s, len);
}

/* ipv4: four decimal octets 0-255, no leading zeros (Python ipaddress). */
static bool
bh_format_ipv4(const char *s, int len)
{
	int			octets = 0;
	int			p = 0;

	while (true)
	{
		int			start = p;
		int			value = 0;

		while (p < len && s[p] != '.')
		{
			if (!bh_is_digit(s[p]) || p - start >= 3)
				return false;
			value = value * 10 + (s[p] - '0');
			p++;
		}
		if (p == start || (s[start] == '0' && p - start > 1) || value > 255)
			return false;
		octets++;
		if (p == len)
			break;
		p++;					/* the dot */
	}
	return octets == 4;
}

/* One IPv6 group: 1 to 4 hexadecimal digits. */
static bool
bh_ipv6_group(const char *s, int len)
{
	int			i;

	if (len < 1 || len > 4)
		return false;
	for (i = 0; i < len; i++)
		if (!bh_is_hex(s[i]))
			return false;
	return true;
}

/*
 * ipv6: RFC 4291 section 2.2 text forms, with the rules of Python's
 * ipaddress.IPv6Address: at most one "::", which stands for at least one
 * group; an IPv4 dotted quad may end the address; no zone ("%...").
 * Out of line: inlined, its arrays would enlarge the frame of every
 * bh_check_node() call.
 */
static pg_noinline bool
bh_format_ipv6(const char *s, int len)
{
	int			start[10];
	int			plen[10];
	bool		quad[10];
	int			n = 0;
	int			begin = 0;
	int			skip = -1;
	int			hi,
				lo;
	int			p,
				i;

	if (len == 0 || memchr(s, '%', len) != NULL || memchr(s, '/', len) != NULL)
		return false;
	for (p = 0; p <= len; p++)
	{
		if (p == len || s[p] == ':')
		{
			if (n == 9)
				return false;	/* more than 8 colons */
			start[n] = begin;
			plen[n] = p - begin;
			quad[n] = false;
			n++;
			begin = p + 1;
		}
	}
	if (n < 3)
		return false;
	if (memchr(s + start[n - 1], '.', plen[n - 1]) != NULL)
	{
		/* a dotted quad stands for the last two groups */
		if (!bh_format_ipv4(s + start[n - 1], plen[n - 1]) || n == 9)
			return false;
		quad[n - 1] = quad[n] = true;
		plen[n] = plen[n - 1];
		start[n] = start[n - 1];
		n++;
	}
	for (i = 1; i < n - 1; i++)
	{
		if (plen[i] == 0)
		{
			if (skip >= 0)
				return false;	/* a second "::" */
			skip = i;
		}
	}
	if (skip >= 0)
	{
		hi = skip;
		lo = n - skip - 1;
		if (plen[0] == 0 && --hi != 0)
			return false;		/* a leading ":" not part of "::" */
		if (plen[n - 1] == 0 && --lo != 0)
			return false;		/* a trailing ":" not part of "::" */
		if (hi + lo > 7)
			return false;		/* "::" must stand for at least one group */
	}
	else
	{
		if (n != 8 || plen[0] == 0 || plen[n - 1] == 0)
			return false;
		hi = n;
		lo = 0;
	}
	for (i = 0; i < hi; i++)
		if (!quad[i] && !bh_ipv6_group(s + start[i], plen[i]))
			return false;
	for (i = n - lo; i < n; i++)
		if (!quad[i] && !bh_ipv6_group(s + start[i], plen[i]))
			return false;
	return true;
}

/* Does the string match the format? */
static bool
bh_format_ok(BhFormat f, const char *s, int len)
{
	switch (f)
	{
		case BH_FMT_UUID:
			return bh_format_uuid(s, len);
		case BH_FMT_DATE_TIME:
			return bh_format_date_time(s, len);
		case BH_FMT_IPV4:
			return bh_format_ipv4(s, len);
		case BH_FMT_IPV6:
			return bh_format_ipv6(s, len);
		default:
			return true;
	}
}


/* ---------------------------------------------------------------------
 * Validation
 * ---------------------------------------------------------------------
 */

/* The path as a JSON pointer ("/" for the event itself). */
static char *
bh_path_text(const BhPath *path)
{
	const BhPath *steps[64];
	int			n = 0;
	StringInfoData buf;
	const BhPath *p;

	for (p = path; p != NULL && p->up != NULL; p = p->up)
		if (n < lengthof(steps))
			steps[n++] = p;
	initStringInfo(&buf);
	if (n == 0)
		appendStringInfoChar(&buf, '/');
	while (n-- > 0)
	{
		int			i;

		appendStringInfoChar(&buf, '/');
		if (steps[n]->key == NULL)
			appendStringInfo(&buf, "%d", steps[n]->index);
		else
			for (i = 0; i < steps[n]->keylen; i++)
			{
				char		ch = steps[n]->key[i];

				if (ch == '~')
					appendStringInfoString(&buf, "~0");
				else if (ch == '/')
					appendStringInfoString(&buf, "~1");
				else
					appendStringInfoChar(&buf, ch);
			}
	}
	return buf.data;
}

/*
 * Record an error (collect mode).  Appended as found: the same (path,
 * message) found again through another subschema (2.x's allOf/if/then
 * repeat checks of the properties) is left out at the end, by
 * bh_errors_distinct(); a look through the list here would make an event
 * with n failing items cost n^2.
 */
static void
bh_error(BhCheck *cx, const BhPath *path, const char *fmt,...)
{
	BhValidationError *e;
	StringInfoData msg;

	initStringInfo(&msg);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&msg, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&msg, needed);
	}
	e = palloc(sizeof(BhValidationError));
	e->path = bh_path_text(path);
	e->message = msg.data;
	cx->errors = lappend(cx->errors, e);
}

/* An error and where it was found, for bh_errors_distinct(). */
typedef struct BhErrorAt
{
	BhValidationError *error;
	int			at;
} BhErrorAt;

static int
bh_error_at_cmp(const void *a, const void *b)
{
	const BhErrorAt *x = (const BhErrorAt *) a;
	const BhErrorAt *y = (const BhErrorAt *) b;
	int			c = strcmp(x->error->path, y->error->path);

	if (c == 0)
		c = strcmp(x->error->message, y->error->message);
	if (c == 0)
		c = (x->at > y->at) - (x->at < y->at);
	return c;
}

/*
 * The errors without repeats, each where it was first found, in the order
 * found: sorted by (path, message, position), the later of equal ones
 * left out.  O(n log n).
 */
static List *
bh_errors_distinct(List *errors)
{
	int			n = list_length(errors);
	BhErrorAt  *sorted;
	bool	   *repeat;
	List	   *distinct = NIL;
	int			i;

	if (n < 2)
		return errors;
	sorted = palloc(sizeof(BhErrorAt) * n);
	repeat = palloc0(sizeof(bool) * n);
	for (i = 0; i < n; i++)
	{
		sorted[i].error = (BhValidationError *) list_nth(errors, i);
		sorted[i].at = i;
	}
	qsort(sorted, n, sizeof(BhErrorAt), bh_error_at_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(sorted[i].error->path, sorted[i - 1].error->path) == 0 &&
			strcmp(sorted[i].error->message, sorted[i - 1].error->message) == 0)
			repeat[sorted[i].at] = true;
	for (i = 0; i < n; i++)
		if (!repeat[i])
			distinct = lappend(distinct, list_nth(errors, i));
	pfree(sorted);
	pfree(repeat);
	list_free(errors);
	return distinct;
}

/* Record a failure; in yes/no mode, stop at once. */
#define BH_FAIL(...) \
	do { \
		valid = false; \
		if (!cx->collect) \
			return false; \
		bh_error(cx, path, __VA_ARGS__); \
	} while (0)

/* The singular or plural noun for n. */
static const char *
bh_plural(int n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* Is a JSON number an integer (no fractional part)? */
static bool
bh_numeric_is_integer(Numeric num)
{
	char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out,
														   NumericGetDatum(num)));
	char	   *dot = strchr(text, '.');

	if (dot == NULL)
		return true;
	for (dot++; *dot; dot++)
		if (*dot != '0')
			return false;
	return true;
}

/* JSON Schema equality (numbers by value; objects regardless of key order). */
static bool
bh_json_equal(JsonbValue *a, JsonbValue *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type)
	{
		case jbvNull:
			return true;
		case jbvBool:
			return a->val.boolean == b->val.boolean;
		case jbvString:
			return a->val.string.len == b->val.string.len &&
				memcmp(a->val.string.val, b->val.string.val, a->val.string.len) == 0;
		case jbvNumeric:
			return DatumGetInt32(DirectFunctionCall2(numeric_cmp,
													 NumericGetDatum(a->val.numeric),
													 NumericGetDatum(b->val.numeric))) == 0;
		case jbvBinary:
			if (JsonContainerIsObject(a->val.binary.data) !=
				JsonContainerIsObject(b->val.binary.data))
				return false;
			return compareJsonbContainers(a->val.binary.data, b->val.binary.data) == 0;
		default:
			return false;
	}
}

/* The instance type bit of a value. */
static uint8
bh_value_type(JsonbValue *v)
{
	/* the types of most values of an event first */
	if (v->type == jbvString)
		return BH_T_STRING;
	if (v->type == jbvBinary)
		return JsonContainerIsObject(v->val.binary.data) ? BH_T_OBJECT : BH_T_ARRAY;
	switch (v->type)
	{
		case jbvNull:
			return BH_T_NULL;
		case jbvBool:
			return BH_T_BOOLEAN;
		case jbvString:
			return BH_T_STRING;
		case jbvNumeric:
			return BH_T_NUMBER;
		case jbvBinary:
			return JsonContainerIsObject(v->val.binary.data) ? BH_T_OBJECT : BH_T_ARRAY;
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
	}
	return 0;
}

/* Does the value pass the subschema (yes/no, nothing recorded)? */
static bool
bh_passes(const BhCheck *cx, BhNode *n, JsonbValue *v, const BhPath *path)
{
	BhCheck		silent = {false, cx->interruptible, NIL, cx->seen};

	return bh_check_node(&silent, n, v, path);
}

/*
 * A value of a container, straight from its JEntry (the layout of
 * utils/jsonb.h): strings point into the container, numbers and nested
 * containers start at the next int-aligned offset.
 */
static pg_attribute_always_inline void
bh_entry_value(JEntry je, const char *base, uint32 offset, uint32 len, JsonbValue *v)
{
	if (JBE_ISSTRING(je))
	{
		v->type = jbvString;
		v->val.string.val = (char *) base + offset;
		v->val.string.len = len;
	}
	else if (JBE_ISNUMERIC(je))
	{
		v->type = jbvNumeric;
		v->val.numeric = (Numeric) (base + INTALIGN(offset));
	}
	else if (JBE_ISBOOL_TRUE(je) || JBE_ISBOOL_FALSE(je))
	{
		v->type = jbvBool;
		v->val.boolean = JBE_ISBOOL_TRUE(je);
	}
	else if (JBE_ISNULL(je))
		v->type = jbvNull;
	else
	{
		v->type = jbvBinary;
		v->val.binary.data = (JsonbContainer *) (base + INTALIGN(offset));
		v->val.binary.len = len - (INTALIGN(offset) - offset);
	}
}

/* Objects up to this many pairs are searched by bh_object_find() in order. */
#define BH_FIND_LINEAR_MAX 32

/*
 * The value of key in an object, as getKeyJsonValueFromContainer() finds it.
 * A small object is read in key order (shorter first, then bytewise), from
 * the JEntry array, until the key or a later one: cheaper than a binary
 * search, each probe of which sums the lengths before the entry probed.
 */
static bool
bh_object_find(JsonbContainer *jc, const char *key, int len, JsonbValue *v)
{
	int			npairs = JsonContainerSize(jc);
	const char *base;
	uint32		offset = 0;
	int			i;

	if (npairs > BH_FIND_LINEAR_MAX)
		return getKeyJsonValueFromContainer(jc, key, len, v) != NULL;

	/* keys come first, their values after them */
	base = (const char *) &jc->children[2 * npairs];
	for (i = 0; i < npairs; i++)
	{
		uint32		start = offset;
		int			cmp;

		JBE_ADVANCE_OFFSET(offset, jc->children[i]);
		if ((int) (offset - start) != len)
		{
			if ((int) (offset - start) > len)
				return false;
			continue;
		}
		cmp = memcmp(base + start, key, len);
		if (cmp > 0)
			return false;
		if (cmp == 0)
		{
			int			j;
			JEntry		je = jc->children[npairs + i];

			for (j = i + 1; j < npairs + i; j++)
				JBE_ADVANCE_OFFSET(offset, jc->children[j]);
			start = offset;
			JBE_ADVANCE_OFFSET(offset, je);
			bh_entry_value(je, base, start, offset - start, v);
			return true;
		}
	}
	return false;
}

/* Where in the key table a key of the instance is (-1: not there). */
static int
bh_key_find(BhNode *n, int *from, const char *key, int len)
{
	while (*from < n->nkeys)
	{
		int			cmp = bh_name_cmp(n->keys[*from].name.str, n->keys[*from].name.len,
									  key, len);

		if (cmp > 0)
			return -1;
		if (cmp == 0)
			return (*from)++;
		(*from)++;
	}
	return -1;
}

/*
 * The object keywords.  The object's pairs are walked once, in key order,
 * merged with the node's key table: each key is a declared property
 * (validated), a name the node only requires, or an additional property.
 */
static bool
bh_check_object(BhCheck *cx, BhNode *n, JsonbContainer *jc, const BhPath *path)
{
	bool		valid = true;
	int			npairs = JsonContainerSize(jc);
	bool		found_buf[32];
	bool	   *found = found_buf;
	int			extra = 0;
	int			required_found = 0;
	int			i,
				j;

	if (n->nkeys > lengthof(found_buf))
		found = palloc(sizeof(bool) * n->nkeys);
	memset(found, 0, sizeof(bool) * Max(1, n->nkeys));

	if (n->walk && npairs > 0)
	{
		const char *base = (const char *) &jc->children[2 * npairs];
		uint32		kstart_buf[32];
		uint32	   *kstart = kstart_buf;
		uint32		offset = 0;
		int			from = 0;
		static const char any_key[] = "*";

		if (npairs >= lengthof(kstart_buf))
			kstart = palloc(sizeof(uint32) * (npairs + 1));
		/* keys come first, their values after them */
		for (i = 0; i < npairs; i++)
		{
			kstart[i] = offset;
			JBE_ADVANCE_OFFSET(offset, jc->children[i]);
		}
		kstart[npairs] = offset;
		for (i = 0; i < npairs; i++)
		{
			const char *key = base + kstart[i];
			int			keylen = kstart[i + 1] - kstart[i];
			JEntry		je = jc->children[npairs + i];
			uint32		vstart = offset;
			int			k = bh_key_find(n, &from, key, keylen);
			BhNode	   *sub = NULL;
			BhPath		step = {path, NULL, 0, 0};
			JsonbValue	child;

			BH_CHECK_INTERRUPTS(cx);
			JBE_ADVANCE_OFFSET(offset, je);
			if (k >= 0)
			{
				found[k] = true;
				required_found += n->keys[k].required;
			}
			if (k >= 0 && n->keys[k].schema != NULL)
			{
				sub = n->keys[k].schema;
				step.key = n->keys[k].name.str;
				step.keylen = n->keys[k].name.len;
			}
			else if (n->additional != NULL)
			{
				if (n->additional->is_boolean)
				{
					if (!n->additional->boolean)
					{
						extra++;
						if (!cx->collect)
							return false;
					}
					continue;
				}
				sub = n->additional;
				step.key = any_key;
				step.keylen = 1;
			}
			if (sub == NULL)
				continue;
			bh_entry_value(je, base, vstart, offset - vstart, &child);
			if (!bh_check_node(cx, sub, &child, &step))
			{
				valid = false;
				if (!cx->collect)
					return false;
			}
		}
	}
	else if (!n->walk)
	{
		for (i = 0; i < n->nkeys; i++)
		{
			JsonbValue	child;

			if (!bh_object_find(jc, n->keys[i].name.str, n->keys[i].name.len, &child))
				continue;
			found[i] = true;
			required_found += n->keys[i].required;
			if (n->keys[i].schema != NULL)
			{
				BhPath		step = {path, n->keys[i].name.str, n->keys[i].name.len, 0};

				if (!bh_check_node(cx, n->keys[i].schema, &child, &step))
				{
					valid = false;
					if (!cx->collect)
						return false;
				}
			}
		}
	}

	/* (each key is found at most once: the count says if one is missing) */
	if (required_found < n->nkeys_required)
		for (i = 0; i < n->nkeys; i++)
			if (n->keys[i].required && !found[i])
				BH_FAIL("is missing required property \"%s\"", n->keys[i].name.str);
	if (extra > 0)
		BH_FAIL("has %d %s not allowed by the schema (additionalProperties)",
				extra, bh_plural(extra, "property", "properties"));

	if (n->min_properties >= 0 && npairs < n->min_properties)
		BH_FAIL("has fewer than %d %s (minProperties)", n->min_properties,
				bh_plural(n->min_properties, "property", "properties"));
	if (n->max_properties >= 0 && npairs > n->max_properties)
		BH_FAIL("has more than %d %s (maxProperties)", n->max_properties,
				bh_plural(n->max_properties, "property", "properties"));

	for (i = 0; i < n->ndependencies; i++)
	{
		BhDependency *dep = &n->dependencies[i];

		if (!found[dep->key_index])
			continue;
		for (j = 0; j < dep->nrequired; j++)
			if (!found[dep->required_index[j]])
				BH_FAIL("has property \"%s\" but not \"%s\" (dependentRequired)",
						dep->key.str, dep->required[j].str);
	}
	return valid;
}

/* The array keywords. */
static bool
bh_check_array(BhCheck *cx, BhNode *n, JsonbContainer *jc, const BhPath *path)
{
	bool		valid = true;
	int			nitems = JsonContainerSize(jc);
	int			i;

	if (n->min_items >= 0 && nitems < n->min_items)
		BH_FAIL("has fewer than %d %s (minItems)", n->min_items,
				bh_plural(n->min_items, "item", "items"));
	if (n->max_items >= 0 && nitems > n->max_items)
		BH_FAIL("has more than %d %s (maxItems)", n->max_items,
				bh_plural(n->max_items, "item", "items"));
	if (n->items != NULL)
	{
		const char *base = (const char *) &jc->children[nitems];
		uint32		offset = 0;

		for (i = 0; i < nitems; i++)
		{
			JEntry		je = jc->children[i];
			uint32		start = offset;
			JsonbValue	item;
			BhPath		step = {path, NULL, 0, i};

			BH_CHECK_INTERRUPTS(cx);
			JBE_ADVANCE_OFFSET(offset, je);
			bh_entry_value(je, base, start, offset - start, &item);
			if (!bh_check_node(cx, n->items, &item, &step))
			{
				valid = false;
				if (!cx->collect)
					return false;
			}
		}
	}
	return valid;
}

/* The string keywords. */
static bool
bh_check_string(BhCheck *cx, BhNode *n, JsonbValue *v, const BhPath *path)
{
	bool		valid = true;
	const char *s = v->val.string.val;
	int			len = v->val.string.len;

	if (n->min_length >= 0 || n->max_length >= 0)
	{
		/*
		 * A character takes one to four bytes: the byte length often settles
		 * both limits without counting.
		 */
		bool		min_sure = n->min_length < 0 || len >= 4 * (int64) n->min_length ||
		(n->min_length <= 1 && len >= n->min_length);
		bool		max_sure = n->max_length < 0 || len <= n->max_length;

		if (!min_sure || !max_sure)
		{
			int			chars = bh_recode_server_chars(s, len);

			if (n->min_length >= 0 && chars < n->min_length)
				BH_FAIL("is shorter than %d %s (minLength)", n->min_length,
						bh_plural(n->min_length, "character", "characters"));
			if (n->max_length >= 0 && chars > n->max_length)
				BH_FAIL("is longer than %d %s (maxLength)", n->max_length,
						bh_plural(n->max_length, "character", "characters"));
		}
	}
	if (n->format != BH_FMT_NONE && !bh_format_ok(n->format, s, len))
		BH_FAIL("does not match format \"%s\"", bh_format_names[n->format]);
	return valid;
}

/* The number keywords. */
static bool
bh_check_number(BhCheck *cx, BhNode *n, JsonbValue *v, const BhPath *path)
{
	bool		valid = true;
	Datum		num = NumericGetDatum(v->val.numeric);

	if (n->minimum != NULL &&
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, num,
										  NumericGetDatum(n->minimum))) < 0)
		BH_FAIL("is less than the minimum %s", n->minimum_text);
	if (n->maximum != NULL &&
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, num,
										  NumericGetDatum(n->maximum))) > 0)
		BH_FAIL("is greater than the maximum %s", n->maximum_text);
	return valid;
}

/* const and enum. */
static bool
bh_check_value(BhCheck *cx, BhNode *n, JsonbValue *v, const BhPath *path)
{
	bool		valid = true;
	int			i;

	if (n->has_const && !bh_json_equal(v, &n->const_value))
		BH_FAIL("is not the constant %s (const)", n->const_text);
	if (n->nenum >= 0)
	{
		bool		found = false;

		for (i = 0; i < n->nenum && !found; i++)
			found = bh_json_equal(v, &n->enum_values[i]);
		if (!found)
			BH_FAIL("is not one of the allowed values: %s", n->enum_text);
	}
	return valid;
}

/*
 * The applicators.  Only "$ref" can lead back to a node already on the way
 * (every other keyword's subschema is a node of its own, compiled from a
 * part of the schema below it), so only there can the walk recurse without
 * bound: the stack is checked there, and once when a walk starts.
 */
static bool
bh_check_applicators(BhCheck *cx, BhNode *n, JsonbValue *v, const BhPath *path)
{
	bool		valid = true;
	int			i;

	if (n->ref != NULL)
	{
		check_stack_depth();
		if (!bh_check_node(cx, n->ref, v, path))
		{
			valid = false;
			if (!cx->collect)
				return false;
		}
	}
	for (i = 0; i < n->nall_of; i++)
	{
		if (!bh_check_node(cx, n->all_of[i], v, path))
		{
			valid = false;
			if (!cx->collect)
				return false;
		}
	}
	if (n->nany_of > 0)
	{
		bool		any = false;

		for (i = 0; i < n->nany_of && !any; i++)
			any = bh_passes(cx, n->any_of[i], v, path);
		if (!any)
			BH_FAIL("%s", n->any_of_message);
	}
	if (n->none_of > 0)
	{
		int			matches = 0;

		for (i = 0; i < n->none_of && matches < 2; i++)
			if (bh_passes(cx, n->one_of[i], v, path))
				matches++;
		if (matches == 0)
			BH_FAIL("matches none of the alternatives (oneOf)");
		else if (matches > 1)
			BH_FAIL("matches more than one of the alternatives (oneOf)");
	}
	if (n->not != NULL && bh_passes(cx, n->not, v, path))
		BH_FAIL("%s", n->not_message);
	if (n->if_schema != NULL)
	{
		BhNode	   *branch = bh_passes(cx, n->if_schema, v, path) ?
		n->then_schema : n->else_schema;

		if (branch != NULL && !bh_check_node(cx, branch, v, path))
		{
			valid = false;
			if (!cx->collect)
				return false;
		}
	}
	return valid;
}

/*
 * Containers up to this many bytes are remembered by the node that judged
 * them (see bh_check_node).
 */
#define BH_SEEN_MAX 2048

/*
 * Did n judge, in yes/no mode, a container of these very bytes last time?
 * The bytes of a jsonb container are its value (a container is read from
 * its own start, whatever the offset it sits at), and a verdict depends
 * on nothing but the node and the value, so the same bytes get the same
 * verdict again (n->seen_valid).  The events bh_audit builds repeat most
 * of their parts from one event to the next (actor, action, outcome,
 * service, metadata): each such part is then judged by one comparison
 * instead of a walk, by the nodes that accept it and by those that do not
 * (the "if" of a conditional).
 */
static pg_attribute_always_inline bool
bh_seen_before(BhNode *n, JsonbValue *v)
{
	return n->seen_len == v->val.binary.len && n->seen_len > 0 &&
		memcmp(n->seen, v->val.binary.data, n->seen_len) == 0;
}

/*
 * Remember the container v and n's verdict on it.  Not at the root (a
 * whole event, never the same twice): its parts are what repeat.  Without
 * memory for it, nothing is remembered (this runs where an event is
 * emitted, in abort paths too: no error may come from here).
 */
static void
bh_seen_note(BhNode *n, JsonbValue *v, const BhPath *path, bool valid)
{
	uint32		len = v->val.binary.len;

	if (path->up == NULL || len > BH_SEEN_MAX)
		return;
	if (len > n->seen_room)
	{
		char	   *room = MemoryContextAllocExtended(GetMemoryChunkContext(n),
													  Max(len, 64),
													  MCXT_ALLOC_NO_OOM);

		if (room == NULL)
		{
			n->seen_len = 0;
			return;
		}
		if (n->seen)
			pfree(n->seen);
		n->seen = room;
		n->seen_room = Max(len, 64);
	}
	memcpy(n->seen, v->val.binary.data, len);
	n->seen_len = len;
	n->seen_valid = valid;
}

/*
 * Validate v against the node n.  Returns whether v is valid; in collect
 * mode every failure is recorded, otherwise the first one ends the walk.
 * The groups of keywords are checked in a fixed order (type, const and
 * enum, the keywords of v's type, the applicators), which is the order of
 * the errors recorded.  In a yes/no validation (cx->seen; never one that
 * collects errors, whose subschema checks walk too), a container that n
 * judged just before gets the same verdict at once (bh_seen_before).
 */
static bool
bh_check_node(BhCheck *cx, BhNode *n, JsonbValue *v, const BhPath *path)
{
	bool		valid;

	if (!cx->seen || v->type != jbvBinary)
		return bh_check_node_walk(cx, n, v, path);
	if (bh_seen_before(n, v))
		return n->seen_valid;
	valid = bh_check_node_walk(cx, n, v, path);
	bh_seen_note(n, v, path, valid);
	return valid;
}

/* bh_check_node, walking v */
static bool
bh_check_node_walk(BhCheck *cx, BhNode *n, JsonbValue *v, const BhPath *path)
{
	bool		valid = true;
	bool		ok = true;
	uint8		vtype;

	if (n->is_boolean)
	{
		if (!n->boolean)
			BH_FAIL("is not allowed here (false schema)");
		return valid;
	}

	vtype = bh_value_type(v);
	if (n->types != 0 && (n->types & vtype) == 0 &&
		!(vtype == BH_T_NUMBER && (n->types & BH_T_INTEGER) &&
		  bh_numeric_is_integer(v->val.numeric)))
		BH_FAIL("is not of type %s", n->types_text);

	if ((n->checks & BH_C_VALUE) && !bh_check_value(cx, n, v, path))
	{
		valid = false;
		if (!cx->collect)
			return false;
	}

	switch (vtype)
	{
		case BH_T_OBJECT:
			if (n->checks & BH_C_OBJECT)
				ok = bh_check_object(cx, n, v->val.binary.data, path);
			break;
		case BH_T_ARRAY:
			if (n->checks & BH_C_ARRAY)
				ok = bh_check_array(cx, n, v->val.binary.data, path);
			break;
		case BH_T_STRING:
			if (n->checks & BH_C_STRING)
				ok = bh_check_string(cx, n, v, path);
			break;
		case BH_T_NUMBER:
			if (n->checks & BH_C_NUMBER)
				ok = bh_check_number(cx, n, v, path);
			break;
		default:
			break;
	}
	if (!ok)
	{
		valid = false;
		if (!cx->collect)
			return false;
	}

	if ((n->checks & BH_C_APPLY) && !bh_check_applicators(cx, n, v, path))
		valid = false;
	return valid;
}

/* The root of a jsonb as a JsonbValue. */
static void
bh_root_value(Jsonb *jb, JsonbValue *v)
{
	if (JB_ROOT_IS_SCALAR(jb))
		JsonbExtractScalar(&jb->root, v);
	else
	{
		v->type = jbvBinary;
		v->val.binary.data = &jb->root;
		v->val.binary.len = VARSIZE(jb) - VARHDRSZ;
	}
}

/*
 * Validate event against the schema of version (compiled at first use);
 * with errors, every violation is collected, else the first ends the walk;
 * interruptible for the SQL functions' arguments (see BhCheck).
 */
bool
bh_validate_check(Jsonb *event, BhSchemaVersion version, List **errors,
				  bool interruptible)
{
	BhNode	   *schema = bh_schema(version);
	BhCheck		cx = {errors != NULL, interruptible, NIL, errors == NULL};
	BhPath		root = {NULL, NULL, 0, 0};
	JsonbValue	v;
	bool		valid;

	check_stack_depth();
	bh_root_value(event, &v);
	valid = bh_check_node(&cx, schema, &v, &root);
	if (errors)
		*errors = bh_errors_distinct(cx.errors);
	return valid;
}

/* As above, for the events bh_audit builds and checks at run time. */
bool
bh_validate(Jsonb *event, BhSchemaVersion version, List **errors)
{
	return bh_validate_check(event, version, errors, false);
}

/* The event's own schema_version, if it names a known version. */
bool
bh_event_version(Jsonb *event, bool *present, BhSchemaVersion *version)
{
	JsonbValue	v;

	*present = false;
	if (!JB_ROOT_IS_OBJECT(event) ||
		!bh_object_find(&event->root, "schema_version", 14, &v))
		return false;
	*present = true;
	return v.type == jbvString &&
		bh_schema_version_lookup(v.val.string.val, v.val.string.len, version);
}
