/*-------------------------------------------------------------------------
 *
 * recode.h
 *		Converting the strings of an event between server encodings, and
 *		strings between the database encoding and UTF-8,
 *		without raising (see recode.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_RECODE_H
#define BH_AUDIT_RECODE_H

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/jsonb.h"

/* U+FFFD, the replacement character, in UTF-8. */
#define BH_UTF8_REPLACEMENT_CHAR	"\xEF\xBF\xBD"

/*
 * The bytes of the valid UTF-8 sequence that starts s[0..len), or 0 if
 * the byte s[0] starts none (a continuation byte without a lead, a lead
 * that its bytes do not follow, a NUL).  Such a byte is one character of
 * its own: UTF-8 bytes are read so, one code point each, by the canonical
 * form of a SQL_ASCII database (bh_recode_utf8_bytes()), which makes the
 * byte U+FFFD, by the counting of such a database's strings, and by the
 * sanitiser (sanitize.c): the one rule of what is a UTF-8 character.
 */
static inline int
bh_recode_utf8_seq(const char *s, int len)
{
	const unsigned char *p = (const unsigned char *) s;
	int			l = pg_utf_mblen(p);

	return (*p != 0 && l <= len && pg_utf8_islegal(p, l)) ? l : 0;
}

extern void bh_recode_utf8_bytes(StringInfo out, const char *s, int len, const char *bad);
extern void bh_recode_warm(void);
extern char *bh_recode_server_to_utf8(const char *s, int len);
extern char *bh_recode_utf8_to_server(const char *s, int len);
extern char *bh_recode_server_repair(const char *s, int len);
extern int	bh_recode_utf8_chars(const char *s, int len);
extern int	bh_recode_server_chars(const char *s, int len);
extern int	bh_recode_server_clip(const char *s, int len, int maxchars);
extern Jsonb *bh_recode_jsonb(Jsonb *jb, int from_encoding, int to_encoding);

#endif							/* BH_AUDIT_RECODE_H */
