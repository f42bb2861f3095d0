/*-------------------------------------------------------------------------
 *
 * event.c
 *		Building bh-audit-schema events.
 *
 * A module that records something fills a BhEvent with what it knows (the
 * action, the resource, the outcome, a few metadata keys of its own) and
 * bh_event_build() completes it: a random v4 event_id, the UTC timestamp
 * in microseconds (so that the sealer's merge by timestamp keeps the order
 * of a session's events made within one millisecond), the service from
 * bh_audit.service_*, the actor and correlation ids from the session
 * context (context.c), and the metadata
 * keys every event carries (db_user; db_role when the statement runs as
 * another role than the login).  The result is the jsonb of an
 * event of the version bh_audit.schema_version names (1.1 by default; see
 * bh_event_negotiate), without integrity, laid out directly as a tree of
 * JsonbValues with every object's keys in jsonb's order (bh_jb_put) and
 * serialised once, into the bytes JsonbValueToJsonb would make of it
 * (bh_jb_serialize; no JSON text is printed and parsed again, no keys
 * sorted); the canonical form is made later, by the sealer,
 * from the stored jsonb.
 *
 * Strings go into the jsonb as they are; strings from settings or session
 * state are cut to the schema's limits, never rejected, so that what the
 * extension builds from context always validates.  The error
 * message is sanitised and the metadata filtered by sanitize.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "common/unicode_norm.h"
#include "libpq/libpq-be.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "bh_audit.h"
#include "event.h"
#include "recode.h"
#include "sanitize.h"
#include "validate.h"

const char *const bh_action_types[] = {
	"READ", "CREATE", "UPDATE", "DELETE", "EXPORT", "LOGIN", "LOGOUT",
	"PRINT", "OTHER", NULL
};
const char *const bh_outcome_statuses[] = {"SUCCESS", "FAILURE", "DENIED", NULL};
const char *const bh_data_classifications[] = {"PHI", "PII", "NONE", "UNKNOWN", NULL};

static const char *bh_role_name_warm(Oid role);

/* Is s one of the NULL-terminated list? */
bool
bh_in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/*
 * The letter a code point shows as, for comparing a resource type with the
 * reserved ones the way a reviewer reads it: ASCII letters in lower case;
 * fullwidth forms and the Cyrillic and Greek letters drawn like the Latin
 * ones of the reserved names as those; 0 for what shows as nothing (spaces,
 * controls, zero-width and other format characters, variation selectors,
 * the blank Braille pattern, tags); -1 for anything else.
 */
static int
bh_shown_letter(pg_wchar c)
{
	static const struct
	{
		pg_wchar	from;
		char		to;
	}			lookalike[] = {
		/* Cyrillic */
		{0x0410, 'a'}, {0x0430, 'a'}, {0x0421, 'c'}, {0x0441, 'c'}, {0x0406, 'i'},
		{0x0456, 'i'}, {0x04C0, 'l'}, {0x04CF, 'l'}, {0x041E, 'o'}, {0x043E, 'o'},
		{0x0422, 't'}, {0x0405, 's'}, {0x0455, 's'}, {0x0420, 'p'}, {0x0440, 'p'},
		{0x0415, 'e'}, {0x0435, 'e'}, {0x041D, 'h'}, {0x0501, 'd'}, {0x0261, 'g'},
		/* Greek */
		{0x0391, 'a'}, {0x03B1, 'a'}, {0x0399, 'i'}, {0x03B9, 'i'}, {0x039F, 'o'},
		{0x03BF, 'o'}, {0x03A4, 't'}, {0x039D, 'n'}, {0x0395, 'e'}, {0x03C5, 'u'},
		/* Armenian */
		{0x057D, 'u'}, {0x0578, 'n'}, {0x0585, 'o'}, {0x0581, 'g'},
		/* Latin alpha */
		{0x0251, 'a'},
		/* Latin small capitals and dotless i */
		{0x0131, 'i'}, {0x026A, 'i'}, {0x1D00, 'a'}, {0x1D1B, 't'}, {0x029F, 'l'},
		{0x1D0F, 'o'}, {0x0262, 'g'}, {0x1D04, 'c'}, {0x0274, 'n'}, {0x0280, 'r'},
		{0x1D1C, 'u'}, {0x1D05, 'd'},
	};
	int			i;

	if (c < 0x80)
	{
		if (c <= ' ' || c == 0x7F)
			return 0;
		return (c >= 'A' && c <= 'Z') ? (int) (c - 'A' + 'a') : (int) c;
	}
	if ((c >= 0x80 && c <= 0xA0) || c == 0xAD || c == 0x034F || c == 0x061C ||
		c == 0x115F || c == 0x1160 || c == 0x17B4 || c == 0x17B5 ||
		(c >= 0x180B && c <= 0x180F) || (c >= 0x2000 && c <= 0x200F) ||
		(c >= 0x2028 && c <= 0x202F) || (c >= 0x205F && c <= 0x206F) ||
		c == 0x2800 || c == 0x3000 || c == 0x3164 || (c >= 0xFE00 && c <= 0xFE0F) ||
		c == 0xFEFF || c == 0xFFA0 || (c >= 0xFFF0 && c <= 0xFFFB) ||
		(c >= 0x1BCA0 && c <= 0x1BCA3) ||
		(c >= 0x1D173 && c <= 0x1D17A) || (c >= 0xE0000 && c <= 0xE0FFF))
		return 0;
	if (c >= 0xFF01 && c <= 0xFF5E)
		return bh_shown_letter(c - 0xFEE0);
	for (i = 0; i < lengthof(lookalike); i++)
		if (lookalike[i].from == c)
			return lookalike[i].to;
	return -1;
}

/*
 * What resource_type reads as to someone looking at it: its letters in
 * lower case, without the characters that show as nothing, look-alike
 * letters as the letters they look like (bh_shown_letter); any other
 * character as '?', which no reserved name holds.  The text, as UTF-8
 * (converted without raising: a character without an equivalent becomes a
 * replacement character), is first put in Unicode's compatibility form
 * (NFKC: fullwidth, mathematical, Roman-numeral and other compatibility
 * letters become the letters they stand for).  palloc'd.
 */
static char *
bh_shown_text(const char *resource_type)
{
	const char *s = bh_recode_server_to_utf8(resource_type, strlen(resource_type));
	pg_wchar   *chars = palloc((strlen(s) + 1) * sizeof(pg_wchar));
	pg_wchar   *normal;
	StringInfoData shown;
	int			n = 0;
	int			i;

	while (*s)
	{
		chars[n++] = utf8_to_unicode((const unsigned char *) s);
		s += pg_utf_mblen((const unsigned char *) s);
	}
	chars[n] = 0;
	normal = unicode_normalize(UNICODE_NFKC, chars);
	if (normal == NULL)			/* out of memory in normalising */
		normal = chars;
	initStringInfo(&shown);
	for (i = 0; normal[i] != 0; i++)
	{
		int			letter = bh_shown_letter(normal[i]);

		if (letter != 0)
			appendStringInfoChar(&shown, letter > 0 ? (char) letter : '?');
	}
	return shown.data;
}

/*
 * Does s, text of the database encoding, show nothing at all to someone
 * reading it in the ledger: is it made only of what bh_shown_text leaves
 * out (spaces, controls, zero-width and other format characters, ...)?
 * It is read as UTF-8, as the ledger takes it (bh_recode_server_to_utf8:
 * a SQL_ASCII database's bytes as UTF-8 where they are, U+FFFD where not;
 * another encoding converted, which outside a transaction, before the
 * conversion was looked up, makes each character that is not ASCII a '?',
 * which shows).
 */
bool
bh_text_shows_nothing(const char *s)
{
	const unsigned char *p;
	char	   *shown;
	bool		nothing;

	/*
	 * A visible ASCII character shows, and nothing takes it away: a server
	 * encoding's bytes below 0x80 are ASCII characters (no multibyte
	 * character holds one), and NFKC keeps each (or composes it with the
	 * marks after it into a letter, which shows too), as bh_shown_letter
	 * shows it.  The usual value (an actor id, a request id) is answered
	 * here, without recoding or normalising it.
	 */
	for (p = (const unsigned char *) s; *p; p++)
		if (*p > ' ' && *p < 0x7F)
			return false;
	shown = bh_shown_text(s);
	nothing = (shown[0] == '\0');
	pfree(shown);
	return nothing;
}

/*
 * The resource types of the events bh_audit records about itself (the
 * ledger's, the configuration's) are its own: an event that emit() or a
 * tag would give one of them could pass for a configuration change or a
 * loss of events that never happened.  So is anything a reviewer would
 * read as one of them (bh_shown_text).  A type that shows as nothing at
 * all (spaces, invisible characters) names no kind of record and is
 * refused too.  Raises 22023.
 */
void
bh_check_resource_type_free(const char *resource_type)
{
	char	   *shown = bh_shown_text(resource_type);

	/* nor may it show as nothing: spaces, invisible characters only */
	if (shown[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("resource_type shows no character"),
				 errdetail("It holds only spaces or invisible characters.")));
	if (pg_strcasecmp(shown, BH_RESOURCE_AUDIT_LOG) == 0 ||
		pg_strcasecmp(shown, BH_RESOURCE_AUDIT_CONFIG) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("resource_type \"%s\" is reserved for the events bh_audit records itself",
						resource_type),
				 errdetail("Letter case, spaces, invisible characters and look-alike letters are not told apart from \"%s\" and \"%s\".",
						   BH_RESOURCE_AUDIT_LOG, BH_RESOURCE_AUDIT_CONFIG)));
	pfree(shown);
}

/* Start an event: SUCCESS, nothing optional set. */
void
bh_event_init(BhEvent *ev, const char *action, const char *resource_type)
{
	memset(ev, 0, sizeof(*ev));
	ev->action = action;
	ev->resource_type = resource_type;
	ev->outcome = "SUCCESS";
	ev->phi_touched = -1;
}

/*
 * An AuditConfiguration event: a change to what bh_audit captures (of
 * resource_id, "change" saying which), touching no PHI.
 */
void
bh_config_event_init(BhEvent *ev, const char *action, const char *resource_id,
					 const char *change)
{
	bh_event_init(ev, action, BH_RESOURCE_AUDIT_CONFIG);
	ev->resource_id = resource_id;
	ev->phi_touched = 0;
	ev->data_classification = "NONE";
	bh_event_meta_string(ev, "change", change);
}

/*
 * Make ev the server's record of its clean-up of the temporary objects a
 * crashed session left behind (cleanup, config_guard.c).  Not the doing of
 * the session that set it off: the server's, named as the sealer's own
 * events name it (actor BH_SERVER_ACTOR, no end-user context, db_user the
 * bootstrap superuser, its name kept as other roles' are,
 * bh_role_name_warm()), statement "temporary schema cleanup", with the
 * schema (temp_schema, if known) and what set it off (triggered_by).
 */
void
bh_event_temp_cleanup(BhEvent *ev, const BhTempCleanup *cleanup)
{
	ev->by_server = true;
	ev->db_user = bh_role_name_warm(BOOTSTRAP_SUPERUSERID);
	if (ev->db_user == NULL)
		ev->db_user = GetUserNameFromId(BOOTSTRAP_SUPERUSERID, false);
	bh_event_meta_string(ev, "statement", "temporary schema cleanup");
	if (cleanup->schema != NULL)
		bh_event_meta_string(ev, "temp_schema", cleanup->schema);
	bh_event_meta_string(ev, "triggered_by", cleanup->triggered_by);
}

static BhMetaItem *
bh_event_meta_slot(BhEvent *ev, const char *key)
{
	int			i;

	for (i = 0; i < ev->nmeta; i++)
		if (strcmp(ev->meta[i].key, key) == 0)
			return &ev->meta[i];
	if (ev->nmeta >= BH_MAX_OWN_METADATA)
		elog(ERROR, "too many bh_audit metadata keys");
	ev->meta[ev->nmeta].key = key;
	return &ev->meta[ev->nmeta++];
}

/* Set one of the extension's own metadata keys. */
void
bh_event_meta_string(BhEvent *ev, const char *key, const char *value)
{
	BhMetaItem *item = bh_event_meta_slot(ev, key);

	item->type = BH_META_STRING;
	item->str = value;
}

void
bh_event_meta_int(BhEvent *ev, const char *key, int64 value)
{
	BhMetaItem *item = bh_event_meta_slot(ev, key);

	item->type = BH_META_INT;
	item->num = value;
}

void
bh_event_meta_bool(BhEvent *ev, const char *key, bool value)
{
	BhMetaItem *item = bh_event_meta_slot(ev, key);

	item->type = BH_META_BOOL;
	item->flag = value;
}

/*
 * s cut to at most maxchars characters: a palloc'd copy that ends in "..."
 * (as the upstream sanitiser does), or s itself when it needs no cut (no
 * copy: every event cuts a few strings that hardly ever need it).  Only
 * the bytes that maxchars + 1 characters can take are looked at, however
 * long s is.
 *
 * Characters are the Unicode code points the schema's maxLength counts,
 * which the event has once in UTF-8 (the sealer's database, the canonical
 * form, the export): in a database that is not UTF-8, one character may be
 * two (EUC_JIS_2004 0xA4F7 is U+304B U+309A), so the string is counted and
 * cut there by its UTF-8 form (recode.c), at a boundary of the database's
 * characters.  A SQL_ASCII database's bytes are counted as the canonical
 * form reads them: a valid UTF-8 sequence (up to 4 bytes) is one code
 * point, and so is each other byte (U+FFFD).  No character has more code
 * points than bytes: a string of at most maxchars bytes is never cut.
 */
const char *
bh_truncate(const char *s, int maxchars)
{
	int			encoding = GetDatabaseEncoding();
	int			bound = (maxchars + 1) * (encoding == PG_SQL_ASCII ? MAX_MULTIBYTE_CHAR_LEN :
										  pg_database_encoding_max_length());
	int			len = strnlen(s, bound);
	int			cut;

	if (len <= maxchars)
		return s;
	if (encoding == PG_UTF8)
	{
		/*
		 * len < bound: the whole string.  Else s is longer, and its first
		 * bound bytes hold more than maxchars characters: it is cut.
		 */
		if (len < bound && pg_mbstrlen_with_len(s, len) <= maxchars)
			return s;
		cut = pg_mbcharcliplen(s, len, maxchars - 3);
	}
	else
	{
		/* as above, each character at least one code point */
		if (len < bound && bh_recode_server_chars(s, len) <= maxchars)
			return s;
		cut = bh_recode_server_clip(s, len, maxchars - 3);
	}
	return psprintf("%.*s...", cut, s);
}

/*
 * Random bytes for event ids, drawn from pg_strong_random() 4 kB at a time:
 * one call per event cost more than building the rest of the event
 * (OpenSSL's RAND_status() and RAND_bytes() locking, every time).  The
 * pool belongs to the process that filled it: a child forked after the
 * fill draws its own, so that no two processes hand out the same bytes.
 */
#define BH_RAND_POOL_SIZE 4096
static unsigned char bh_rand_pool[BH_RAND_POOL_SIZE];
static int	bh_rand_used = BH_RAND_POOL_SIZE;
static int	bh_rand_pid = 0;

static void
bh_random_bytes(unsigned char *dst, int len)
{
	Assert(len <= BH_RAND_POOL_SIZE);
	if (bh_rand_pid != MyProcPid || bh_rand_used + len > BH_RAND_POOL_SIZE)
	{
		if (!pg_strong_random(bh_rand_pool, BH_RAND_POOL_SIZE))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate a random event_id")));
		bh_rand_used = 0;
		bh_rand_pid = MyProcPid;
	}
	memcpy(dst, bh_rand_pool + bh_rand_used, len);
	/* handed out once: forget them */
	memset(bh_rand_pool + bh_rand_used, 0, len);
	bh_rand_used += len;
}

/* A random (version 4) UUID in its text form (37 bytes with the NUL). */
static void
bh_uuid_v4(char *out)
{
	static const char hexdigits[] = "0123456789abcdef";
	unsigned char b[16];
	int			i,
				j = 0;

	bh_random_bytes(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	for (i = 0; i < 16; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hexdigits[b[i] >> 4];
		out[j++] = hexdigits[b[i] & 0x0f];
	}
	out[j] = '\0';
}

/* n (0 <= n < 10^width) as width decimal digits, zero-padded. */
static void
bh_put_digits(char *out, int n, int width)
{
	while (width-- > 0)
	{
		out[width] = '0' + n % 10;
		n /= 10;
	}
}

/* Now, in UTC, with microseconds: "2026-03-11T18:40:12.345678Z". */
static char *
bh_timestamp_now(void)
{
	TimestampTz now = GetCurrentTimestamp();
	struct pg_tm tm;
	fsec_t		fsec;
	char	   *out = palloc(28);

	if (timestamp2tm(now, NULL, &tm, &fsec, NULL, NULL) != 0 ||
		tm.tm_year < 0 || tm.tm_year > 9999)
		elog(ERROR, "timestamp out of range");

	/* printed by hand: psprintf() was a fifth of building an event */
	bh_put_digits(out, tm.tm_year, 4);
	out[4] = '-';
	bh_put_digits(out + 5, tm.tm_mon, 2);
	out[7] = '-';
	bh_put_digits(out + 8, tm.tm_mday, 2);
	out[10] = 'T';
	bh_put_digits(out + 11, tm.tm_hour, 2);
	out[13] = ':';
	bh_put_digits(out + 14, tm.tm_min, 2);
	out[16] = ':';
	bh_put_digits(out + 17, tm.tm_sec, 2);
	out[19] = '.';
	bh_put_digits(out + 20, (int) fsec, 6);
	out[26] = 'Z';
	out[27] = '\0';
	return out;
}

/* jsonb's order of keys: shorter first, then bytewise. */
static inline int
bh_jb_key_cmp(const JsonbValue *a, const char *key, int keylen)
{
	if (a->val.string.len != keylen)
		return a->val.string.len < keylen ? -1 : 1;
	return memcmp(a->val.string.val, key, keylen);
}

#ifdef USE_ASSERT_CHECKING
/* Are the keys of v, and of every object in it, in order and unique? */
static bool
bh_jb_ordered(const JsonbValue *v)
{
	int			i;

	if (v->type == jbvArray)
	{
		for (i = 0; i < v->val.array.nElems; i++)
			if (!bh_jb_ordered(&v->val.array.elems[i]))
				return false;
	}
	else if (v->type == jbvObject)
	{
		const JsonbPair *pairs = v->val.object.pairs;

		for (i = 0; i < v->val.object.nPairs; i++)
		{
			if (i > 0 && bh_jb_key_cmp(&pairs[i - 1].key, pairs[i].key.val.string.val,
									   pairs[i].key.val.string.len) >= 0)
				return false;
			if (!bh_jb_ordered(&pairs[i].value))
				return false;
		}
	}
	return true;
}
#endif

/* An empty object (see event.h). */
void
bh_jb_begin(BhJbObject *obj, JsonbPair *room, int size)
{
	obj->size = Max(size, 1);
	obj->callers_room = room != NULL;
	obj->value.type = jbvObject;
	obj->value.val.object.nPairs = 0;
	obj->value.val.object.pairs = room ? room : palloc(sizeof(JsonbPair) * obj->size);
}

/*
 * "key": value, in its place in the key order; a key already there gets
 * the new value.  Looked for from the end: keys mostly come in order, and
 * then one comparison places each.
 */
void
bh_jb_put(BhJbObject *obj, const char *key, int keylen, const JsonbValue *value)
{
	JsonbPair  *pairs = obj->value.val.object.pairs;
	int			n = obj->value.val.object.nPairs;
	int			at = n;

	while (at > 0)
	{
		int			cmp = bh_jb_key_cmp(&pairs[at - 1].key, key, keylen);

		if (cmp == 0)
		{
			pairs[at - 1].value = *value;
			return;
		}
		if (cmp < 0)
			break;
		at--;
	}
	if (n == obj->size)
	{
		obj->size *= 2;
		if (obj->callers_room)
		{
			pairs = palloc(sizeof(JsonbPair) * obj->size);
			memcpy(pairs, obj->value.val.object.pairs, sizeof(JsonbPair) * n);
			obj->callers_room = false;
		}
		else
			pairs = repalloc(pairs, sizeof(JsonbPair) * obj->size);
		obj->value.val.object.pairs = pairs;
	}
	if (at < n)
		memmove(&pairs[at + 1], &pairs[at], sizeof(JsonbPair) * (n - at));
	pairs[at].key.type = jbvString;
	pairs[at].key.val.string.val = (char *) key;
	pairs[at].key.val.string.len = keylen;
	pairs[at].value = *value;
	pairs[at].order = n;
	obj->value.val.object.nPairs = n + 1;
	Assert(bh_jb_ordered(&obj->value));
}

/*
 * Serialising the tree.  The bytes are those JsonbValueToJsonb() makes of
 * it (convertToJsonb() in jsonb_util.c: the same layout, the same padding,
 * an offset instead of a length in every JB_OFFSET_STRIDE'th JEntry), and
 * builds with assertions compare the two for every event; written here
 * into one buffer grown as needed instead of through a StringInfo call per
 * key and value, which was most of the cost of building an event.
 */
typedef struct BhJbOut
{
	char	   *data;
	uint32		len;
	uint32		room;
} BhJbOut;

/*
 * n bytes more at the end of out: where they start (out->data may move:
 * to be read after the call).
 */
static pg_attribute_always_inline uint32
bh_jb_reserve(BhJbOut *out, uint32 n)
{
	uint32		at = out->len;

	if ((uint64) out->len + n > out->room)
	{
		uint64		room = out->room;

		while ((uint64) out->len + n > room)
			room *= 2;
		if (room > MaxAllocSize)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("out of memory"),
					 errdetail("Cannot enlarge string buffer containing %u bytes by %u more bytes.",
							   out->len, n)));
		out->data = repalloc(out->data, room);
		out->room = room;
	}
	out->len += n;
	return at;
}

/* zeros up to the next int boundary (how many) */
static pg_attribute_always_inline uint32
bh_jb_pad(BhJbOut *out)
{
	uint32		pad = INTALIGN(out->len) - out->len;

	if (pad > 0)
	{
		uint32		at = bh_jb_reserve(out, pad);

		memset(out->data + at, 0, pad);
	}
	return pad;
}

static JEntry bh_jb_write_container(BhJbOut *out, const JsonbValue *v);

/* One value at the end of out; its JEntry, its length as convertJsonbValue sets it. */
static JEntry
bh_jb_write(BhJbOut *out, const JsonbValue *v)
{
	uint32		at;

	switch (v->type)
	{
		case jbvNull:
			return JENTRY_ISNULL;
		case jbvBool:
			return v->val.boolean ? JENTRY_ISBOOL_TRUE : JENTRY_ISBOOL_FALSE;
		case jbvString:
			at = bh_jb_reserve(out, v->val.string.len);
			memcpy(out->data + at, v->val.string.val, v->val.string.len);
			return JENTRY_ISSTRING | v->val.string.len;
		case jbvNumeric:
			{
				uint32		numlen = VARSIZE_ANY(v->val.numeric);
				uint32		pad = bh_jb_pad(out);

				at = bh_jb_reserve(out, numlen);
				memcpy(out->data + at, v->val.numeric, numlen);
				return JENTRY_ISNUMERIC | (pad + numlen);
			}
		case jbvArray:
		case jbvObject:
			return bh_jb_write_container(out, v);
		default:
			elog(ERROR, "unknown type of jsonb container to convert");
	}
	return 0;					/* keep compiler quiet */
}

/* An object (its keys, then its values) or an array. */
static JEntry
bh_jb_write_container(BhJbOut *out, const JsonbValue *v)
{
	bool		is_object = v->type == jbvObject;
	int			npairs = is_object ? v->val.object.nPairs : 0;
	int			nentries = is_object ? 2 * npairs : v->val.array.nElems;
	uint32		base = out->len;
	uint32		header;
	uint32		at;
	uint32		entries;
	uint32		totallen = 0;
	int			i;

	bh_jb_pad(out);
	if (is_object)
		header = npairs | JB_FOBJECT;
	else
		header = nentries | JB_FARRAY | (v->val.array.rawScalar ? JB_FSCALAR : 0);
	at = bh_jb_reserve(out, sizeof(uint32));
	memcpy(out->data + at, &header, sizeof(uint32));
	entries = bh_jb_reserve(out, sizeof(JEntry) * nentries);
	for (i = 0; i < nentries; i++)
	{
		const JsonbValue *child = !is_object ? &v->val.array.elems[i] :
		i < npairs ? &v->val.object.pairs[i].key :
		&v->val.object.pairs[i - npairs].value;
		JEntry		meta = bh_jb_write(out, child);

		totallen += JBE_OFFLENFLD(meta);
		if (totallen > JENTRY_OFFLENMASK)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("total size of jsonb %s elements exceeds the maximum of %d bytes",
							is_object ? "object" : "array", JENTRY_OFFLENMASK)));
		if (i % JB_OFFSET_STRIDE == 0)
			meta = (meta & JENTRY_TYPEMASK) | totallen | JENTRY_HAS_OFF;
		/* (out->data may have moved) */
		memcpy(out->data + entries + sizeof(JEntry) * i, &meta, sizeof(JEntry));
	}
	totallen = out->len - base;
	if (totallen > JENTRY_OFFLENMASK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("total size of jsonb %s elements exceeds the maximum of %d bytes",
						is_object ? "object" : "array", JENTRY_OFFLENMASK)));
	return JENTRY_ISCONTAINER | totallen;
}

/* The jsonb of an object or array laid out as a tree (see above). */
static Jsonb *
bh_jb_serialize(const JsonbValue *v)
{
	BhJbOut		out;

	Assert(v->type == jbvObject || v->type == jbvArray);
	out.room = 1024;			/* as a StringInfo starts */
	out.data = palloc(out.room);
	out.len = VARHDRSZ;
	(void) bh_jb_write_container(&out, v);
	SET_VARSIZE(out.data, out.len);
#ifdef USE_ASSERT_CHECKING
	{
		Jsonb	   *pg = JsonbValueToJsonb((JsonbValue *) v);

		Assert(VARSIZE(pg) == out.len && memcmp(pg, out.data, out.len) == 0);
		pfree(pg);
	}
#endif
	return (Jsonb *) out.data;
}

/* "key": n, the numeric an int8 cast to numeric gives */
void
bh_jb_int(BhJbObject *obj, const char *key, int64 n)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(n);
	bh_jb_put(obj, key, strlen(key), &v);
}

/*
 * Version negotiation, first step: the version of the event to build
 * (bh_audit.schema_version), and what that version changes in ev.  1.0
 * has no DENIED: a denial becomes a FAILURE that keeps its error_type
 * (which stands in for a missing error_message, as for any FAILURE).
 * 1.1, 2.0 and 2.1 need nothing more for the human and service actors
 * the extension records (2.x adds requirements only for agent actors,
 * delegation, attribution and OVERRIDE, which it never emits).
 */
static BhSchemaVersion
bh_event_negotiate(BhEvent *ev)
{
	BhSchemaVersion version = (BhSchemaVersion) bh_schema_version;

	if (version == BH_SCHEMA_1_0 && strcmp(ev->outcome, "DENIED") == 0)
		ev->outcome = "FAILURE";
	return version;
}

/*
 * The login's name (the role that authenticated: a superuser's SET SESSION
 * AUTHORIZATION changes the session user, not who connected), looked up
 * once: events built in error and abort paths must not need the catalog.
 */
static Oid	bh_session_user_oid = InvalidOid;
static char bh_session_user[NAMEDATALEN];

const char *
bh_session_user_name(void)
{
	Oid			current = GetAuthenticatedUserId();

	if (current != bh_session_user_oid)
	{
		strlcpy(bh_session_user, GetUserNameFromId(current, false), sizeof(bh_session_user));
		bh_session_user_oid = current;
	}
	return bh_session_user;
}

PG_FUNCTION_INFO_V1(bh_audit_login);

/*
 * bh_audit._login(): the login's name, as the events name it (the default
 * of bh_audit.tags.tagged_by).
 */
Datum
bh_audit_login(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(DirectFunctionCall1(namein, CStringGetDatum(bh_session_user_name())));
}

/* Is the login's name known without the catalog (abort paths)? */
bool
bh_session_user_known(void)
{
	return OidIsValid(bh_session_user_oid) && GetAuthenticatedUserId() == bh_session_user_oid;
}

/*
 * The names of the roles a session's statements ran as other than its
 * login (SET ROLE, a SECURITY DEFINER function's owner): looked up by
 * bh_current_role_warm() where the catalog may be read (a statement's
 * start, a capture trigger), and only read while an event is built, which
 * may be in an error or abort path (a statement's READ events, flushed
 * there after the abort restored the transaction's role, name the copy
 * the statement kept as it started).  A change to pg_authid marks them to
 * be looked up again (a rename); until then the name known stands.
 */
#define BH_ROLE_NAMES 8
typedef struct BhRoleName
{
	Oid			oid;
	bool		stale;
	char		name[NAMEDATALEN];
} BhRoleName;
static BhRoleName bh_role_names[BH_ROLE_NAMES];
static int	bh_role_names_next = 0;
static bool bh_role_callback = false;

static void
bh_role_names_invalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	int			i;

	for (i = 0; i < BH_ROLE_NAMES; i++)
		bh_role_names[i].stale = true;
}

static BhRoleName *
bh_role_name_slot(Oid role)
{
	int			i;

	for (i = 0; i < BH_ROLE_NAMES; i++)
		if (bh_role_names[i].oid == role && OidIsValid(role))
			return &bh_role_names[i];
	return NULL;
}

/*
 * The name of the current role, looked up if not known (or stale): "" when
 * it is the login, NULL when it cannot be looked up.  A statement keeps it
 * for its events built after its role was restored (BhEvent.db_role).
 */
const char *
bh_current_role_warm(void)
{
	Oid			role = GetUserId();

	if (role == GetAuthenticatedUserId())
		return "";
	return bh_role_name_warm(role);
}

/*
 * The name of role, kept (bh_role_names) and looked up if not known (or
 * stale), NULL when it cannot be looked up.
 */
static const char *
bh_role_name_warm(Oid role)
{
	BhRoleName *slot;
	char	   *name;

	if (!OidIsValid(role))
		return NULL;
	slot = bh_role_name_slot(role);
	if (slot != NULL && !slot->stale)
		return slot->name;
	if (!IsTransactionState())	/* (an aborted transaction reads no catalog) */
		return slot != NULL ? slot->name : NULL;
	if (!bh_role_callback)
	{
		CacheRegisterSyscacheCallback(AUTHOID, bh_role_names_invalidate, (Datum) 0);
		bh_role_callback = true;
	}
	name = GetUserNameFromId(role, true);
	if (name == NULL)
		return NULL;			/* dropped meanwhile: nothing to name */
	if (slot == NULL)
	{
		slot = &bh_role_names[bh_role_names_next];
		bh_role_names_next = (bh_role_names_next + 1) % BH_ROLE_NAMES;
	}
	slot->oid = role;
	slot->stale = false;
	strlcpy(slot->name, name, sizeof(slot->name));
	return slot->name;
}

/*
 * The role the statement runs as: "" when it is the login,
 * its name when known, NULL otherwise.  Never reads the catalog: an error
 * noted to be recorded after the abort notes it (capture_failure.c).
 */
const char *
bh_current_role_known(void)
{
	return bh_role_known(GetUserId());
}

/* The same of the role given (the role a statement ran as) */
const char *
bh_role_known(Oid role)
{
	BhRoleName *slot;

	if (role == GetAuthenticatedUserId())
		return "";
	slot = bh_role_name_slot(role);
	return slot != NULL ? slot->name : NULL;
}

/*
 * The name of the role statements run as now (the login, a SET ROLE, a
 * SECURITY DEFINER function's owner), when it is known; NULL otherwise.
 * Never reads the catalog.
 */
const char *
bh_current_user_known(void)
{
	const char *role = bh_current_role_known();

	if (role != NULL && role[0] == '\0')
		return bh_session_user_known() ? bh_session_user : NULL;
	return role;
}

/*
 * Complete ev and return it as jsonb; the event_id goes to event_id_out
 * (37 bytes) if given.
 */
Jsonb *
bh_event_build(BhEvent *ev, char *event_id_out)
{
	/* first: the version may change ev (restored before returning) */
	const char *outcome_asked = ev->outcome;
	BhSchemaVersion version = bh_event_negotiate(ev);
	BhJbObject	event,
				action,
				outcome,
				service,
				resource;

	/* room for their pairs (the others are built elsewhere) */
	JsonbPair	event_room[10],
				action_room[4],
				outcome_room[3],
				service_room[3],
				resource_room[3];
	Jsonb	   *result;
	char		event_id[37];
	const char *service_name;
	const char *service_version;
	const char *service_environment;
	const char *db_user = ev->db_user ? ev->db_user : bh_session_user_name();

	/*
	 * An event that names its login itself (a login) has no other role; one
	 * built after the role it ran as was restored names that role itself; ""
	 * is the login.
	 */
	const char *db_role = ev->db_user ? "" :
	ev->db_role ? ev->db_role : bh_current_role_known();

	/* sanitised (sanitize.c); FAILURE without one carries its error_type */
	const char *error_message = bh_event_error_message(ev->outcome,
													   ev->error_message,
													   ev->error_type);

	bh_uuid_v4(event_id);
	if (event_id_out)
		memcpy(event_id_out, event_id, sizeof(event_id));

	/*
	 * The event is laid out as a tree of values in jsonb's order and
	 * serialised once (no parse state, no sort of each object's keys).  Keys
	 * are put in that order where it is known (shorter keys first, then
	 * bytewise), which costs bh_jb_put one comparison each.
	 */
	bh_jb_begin(&event, event_room, lengthof(event_room));
	/* 1.0 has no actor.owner_org_id */
	if (ev->by_server)
		bh_context_push_server_actor(&event);
	else
		bh_context_push_actor(&event, db_user, version != BH_SCHEMA_1_0);

	bh_jb_begin(&action, action_room, lengthof(action_room));
	if (ev->action_name && ev->action_name[0])
		bh_jb_field(&action, "name", bh_truncate(ev->action_name, 128));
	bh_jb_field(&action, "type", ev->action);
	if (ev->phi_touched >= 0)
		bh_jb_bool(&action, "phi_touched", ev->phi_touched != 0);
	if (ev->data_classification)
		bh_jb_field(&action, "data_classification", ev->data_classification);
	bh_jb_object(&event, "action", &action);

	bh_jb_begin(&outcome, outcome_room, lengthof(outcome_room));
	bh_jb_field(&outcome, "status", ev->outcome);
	if (ev->error_type && ev->error_type[0])
		bh_jb_field(&outcome, "error_type", bh_truncate(ev->error_type, 128));
	if (error_message)
		bh_jb_field(&outcome, "error_message", error_message);
	bh_jb_object(&event, "outcome", &outcome);

	bh_jb_begin(&service, service_room, lengthof(service_room));
	service_name = bh_event_text(BH_TEXT_SERVICE_NAME);
	service_version = bh_event_text(BH_TEXT_SERVICE_VERSION);
	service_environment = bh_event_text(BH_TEXT_SERVICE_ENVIRONMENT);
	bh_jb_field(&service, "name", (service_name && service_name[0])
				? bh_truncate(service_name, 128) : "postgresql");
	if (service_version && service_version[0])
		bh_jb_field(&service, "version", bh_truncate(service_version, 64));
	if (service_environment && service_environment[0])
		bh_jb_field(&service, "environment", bh_truncate(service_environment, 64));
	bh_jb_object(&event, "service", &service);

	bh_jb_field(&event, "event_id", event_id);

	/*
	 * The sealer chains every database's reads: one not its own is named, as
	 * text of the database encoding (the client's bytes, which match the
	 * catalog's in whatever encoding the name was created in).
	 */
	if (MyProcPort != NULL && MyProcPort->database_name != NULL &&
		strcmp(MyProcPort->database_name, bh_database) != 0)
		bh_event_meta_string(ev, "database",
							 bh_recode_server_repair(MyProcPort->database_name,
													 strlen(MyProcPort->database_name)));
	bh_metadata_push(&event, ev, db_user, db_role && db_role[0] ? db_role : NULL);

	bh_jb_begin(&resource, resource_room, lengthof(resource_room));
	if (ev->resource_id && ev->resource_id[0])
		bh_jb_field(&resource, "id", bh_truncate(ev->resource_id, 256));
	bh_jb_field(&resource, "type", bh_truncate(ev->resource_type, 128));
	if (ev->patient_id && ev->patient_id[0])
		bh_jb_field(&resource, "patient_id", bh_truncate(ev->patient_id, BH_PATIENT_ID_CHARS));
	bh_jb_object(&event, "resource", &resource);

	bh_jb_field(&event, "timestamp", bh_timestamp_now());
	if (!ev->by_server)
		bh_context_push_correlation(&event);
	bh_jb_field(&event, "schema_version", bh_schema_version_name(version));

	Assert(bh_jb_ordered(&event.value));
	result = bh_jb_serialize(&event.value);
	ev->outcome = outcome_asked;
	return result;
}
