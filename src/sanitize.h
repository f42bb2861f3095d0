/*-------------------------------------------------------------------------
 *
 * sanitize.h
 *		PHI-safe error messages and the metadata rules.
 *
 * bh_sanitize_error_message() is the upstream (bh-audit-logger) error
 * message sanitiser, reproduced exactly over code points; every event's
 * error_message goes through it.  bh_metadata_push() builds an event's
 * metadata object under the rules of bh_audit.metadata_allowlist and
 * bh_audit.max_metadata_value_length.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_SANITIZE_H
#define BH_AUDIT_SANITIZE_H

#include "lib/stringinfo.h"

#include "event.h"

/* Settings (sanitize.c) */
/* Schema limit on metadata keys. */
#define BH_METADATA_MAX_KEYS 20

extern int	bh_error_message_max_len;
extern int	bh_max_metadata_value_length;
extern char *bh_metadata_allowlist;

/* Values of bh_audit.error_message_mode. */
typedef enum BhErrorMessageMode
{
	BH_ERRMSG_SANITIZE,			/* the upstream sanitiser (default) */
	BH_ERRMSG_OMIT				/* never store message text */
} BhErrorMessageMode;

extern int	bh_error_message_mode;

/* Define the settings of this module; called from _PG_init. */
extern void bh_sanitize_init(void);

/* The upstream sanitiser: a palloc'd copy of msg, sanitised and cut. */
extern char *bh_sanitize_error_message(const char *msg, int max_len);

/*
 * The error_message an event carries for outcome, given the caller's (or
 * capture's) message and error_type: NULL means leave it out.
 */
extern char *bh_event_error_message(const char *outcome, const char *message,
									const char *error_type);

/* "metadata": {...} of ev, under the metadata rules. */
extern void bh_metadata_push(BhJbObject *event, const BhEvent *ev,
							 const char *db_user, const char *db_role);

#endif							/* BH_AUDIT_SANITIZE_H */
