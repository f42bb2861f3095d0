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
#include "utils/jsonb.h"

/* U+FFFD, the replacement character, in UTF-8. */
#define BH_UTF8_REPLACEMENT_CHAR	"\xEF\xBF\xBD"

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
