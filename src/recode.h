/*-------------------------------------------------------------------------
 *
 * recode.h
 *		Converting the strings of an event between server encodings
 *		without raising (see recode.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_RECODE_H
#define BH_AUDIT_RECODE_H

#include "utils/jsonb.h"

extern char *bh_recode_string(const char *s, int len, int from_encoding,
							  int to_encoding, int *out_len);
extern Jsonb *bh_recode_jsonb(Jsonb *jb, int from_encoding, int to_encoding);

#endif							/* BH_AUDIT_RECODE_H */
