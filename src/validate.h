/*-------------------------------------------------------------------------
 *
 * validate.h
 *		JSON Schema validation of events against the vendored
 *		bh-audit-schema versions, and the settings that govern it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BH_AUDIT_VALIDATE_H
#define BH_AUDIT_VALIDATE_H

#include "nodes/pg_list.h"
#include "utils/jsonb.h"

/*
 * The schema versions bh_audit knows, in the order of bh_schema_texts[]
 * (generated from schema/<version>/audit_event.schema.json by the Makefile).
 */
typedef enum BhSchemaVersion
{
	BH_SCHEMA_1_0,
	BH_SCHEMA_1_1,
	BH_SCHEMA_2_0,
	BH_SCHEMA_2_1,
	BH_SCHEMA_NVERSIONS
} BhSchemaVersion;

/* Values of bh_audit.validation_mode. */
typedef enum BhValidationMode
{
	BH_VALIDATION_RAISE,
	BH_VALIDATION_LOG_AND_EMIT,
	BH_VALIDATION_DROP
} BhValidationMode;

/* One validation error: where (a JSON pointer) and what (never the value). */
typedef struct BhValidationError
{
	char	   *path;
	char	   *message;
} BhValidationError;

/* schema_data.c (generated): the schema texts, indexed by BhSchemaVersion. */
extern const char *const bh_schema_texts[BH_SCHEMA_NVERSIONS];

/* Settings (validate_events.c) */
extern int	bh_schema_version;	/* BhSchemaVersion of the events built */
extern int	bh_validation_mode; /* BhValidationMode */

extern void bh_validate_init(void);

/* "1.1" for BH_SCHEMA_1_1, ... */
extern const char *bh_schema_version_name(BhSchemaVersion v);

/* The version named by a string of len bytes; false if none. */
extern bool bh_schema_version_lookup(const char *s, int len, BhSchemaVersion *v);

/*
 * Validate event against the schema of version; errors (may be NULL for a
 * fast yes/no) receives a List of BhValidationError.
 */
extern bool bh_validate(Jsonb *event, BhSchemaVersion version, List **errors);

/*
 * As bh_validate(), interruptible or not (the SQL functions' arguments are:
 * validate.c's BhCheck).
 */
extern bool bh_validate_check(Jsonb *event, BhSchemaVersion version, List **errors,
							  bool interruptible);

/* The event's own schema_version, if it names a known version. */
extern bool bh_event_version(Jsonb *event, bool *present, BhSchemaVersion *version);

/*
 * Validate an event the extension built, against the schema of its own
 * schema_version, and act by bh_audit.validation_mode: returns whether the
 * event is to be queued (raise mode raises instead of returning false);
 * validate_events.c.
 */
extern bool bh_validate_for_emit(Jsonb *event);

/*
 * Whether s (len bytes) is a date-time as the schema's format check reads
 * it: RFC 3339's YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM).
 */
extern bool bh_is_rfc3339_date_time(const char *s, int len);

#endif							/* BH_AUDIT_VALIDATE_H */
