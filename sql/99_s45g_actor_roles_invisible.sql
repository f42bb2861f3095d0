-- An entry of bh_audit.actor_roles made only of characters that show
-- nothing (no-break and ideographic spaces, zero-width characters, U+FEFF,
-- U+2060, controls and the others resource_type's check reads as nothing)
-- names no role an access review could read: it is skipped, as an entry of
-- ASCII blanks is, and not refused.  So by SET, SET LOCAL, set_config(),
-- set_context(roles => ...) and a role's stored setting (ALTER ROLE ...
-- SET) read at login, in each database encoding as the ledger reads it
-- (UTF-8; LATIN1 converted; SQL_ASCII's bytes read as UTF-8).  The value is
-- kept as given (SHOW), a list longer than 8 kB being replaced by the roles
-- events take, as before.  Shown: the events' actor.roles as recorded.
-- The databases are made here: the regression database's encoding is
-- whatever the locale gave it.
CREATE DATABASE bh_s45g_utf8 ENCODING 'UTF8' LOCALE 'C' TEMPLATE template0;
CREATE DATABASE bh_s45g_latin1 ENCODING 'LATIN1' LOCALE 'C' TEMPLATE template0;
CREATE DATABASE bh_s45g_ascii ENCODING 'SQL_ASCII' LOCALE 'C' TEMPLATE template0;
SELECT current_user AS regress_user \gset

\c bh_s45g_utf8
\i test/regress/s45g_database.sql

-- SET: the invisible entries skipped; the value kept as given
SET bh_audit.actor_roles = E'nurse,\u00a0,\u200b\u3000, \ufeff ,doctor';
SELECT current_setting('bh_audit.actor_roles') = E'nurse,\u00a0,\u200b\u3000, \ufeff ,doctor'
       AS kept_as_given;
SELECT actor_now();
-- each kind of character that shows nothing, blanks among them or not
SELECT set_config('bh_audit.actor_roles',
                  E'\u2060,\u00ad,\u180e,\u2028,\u202f,\u2800,\u3164,\ufe0f,\uffa0,' ||
                  E'\U000e0041,\u0001,\u00a0\u00a0 \u3000\t\u200b\n,clerk', false) IS NOT NULL AS set;
SELECT actor_now();
-- only invisible entries: no roles, as a list of blanks
SET bh_audit.actor_roles = E'\u00a0, \u200b ,\ufeff';
SELECT actor_now();
-- set_config(), for the session and for the transaction
SELECT set_config('bh_audit.actor_roles', E'\u3000,registrar', false) IS NOT NULL AS set;
SELECT actor_now();
BEGIN;
SELECT set_config('bh_audit.actor_roles', E'auditor,\u2060', true) IS NOT NULL AS set;
SELECT actor_now();
ROLLBACK;
-- SET LOCAL, and the session's value back after it
BEGIN;
SET LOCAL bh_audit.actor_roles = E'\u200b,charge nurse,\u00a0';
SELECT actor_now();
ROLLBACK;
SELECT actor_now();
-- set_context(): the elements joined as a list, each read alike
BEGIN;
SELECT bh_audit.set_context(roles => ARRAY[E'\u00a0', 'physician', E'\u200b\u200b', NULL,
                                          E' \u3164 ', 'pharmacist']);
SELECT actor_now();
SELECT bh_audit.set_context(roles => ARRAY[E'\ufeff', E'\u2060']);
SELECT actor_now();
ROLLBACK;
RESET bh_audit.actor_roles;
SELECT actor_now();

-- A visible character among invisible ones: the role kept as given, only
-- ASCII blanks around it trimmed
SET bh_audit.actor_roles = E' \u00a0nurse\u200b ,\ufeff.';
SELECT actor_now() = jsonb_build_object('roles', jsonb_build_array(E'\u00a0nurse\u200b', E'\ufeff.'))
       AS as_given;
-- A role longer than the 64 characters events take is cut, and the cut
-- ends with "...": it shows, and is recorded
SELECT set_config('bh_audit.actor_roles', 'lab,' || repeat(E'\u00a0', 70), false) IS NOT NULL AS set;
SELECT actor_now() = jsonb_build_object('roles', jsonb_build_array('lab', repeat(E'\u00a0', 61) || '...'))
       AS cut_recorded;
-- Skipped entries take none of the 25 places: 30 invisible ones before
-- 26 roles leave r1 to r25
SELECT set_config('bh_audit.actor_roles',
                  repeat(E'\u200b,', 30) || (SELECT string_agg('r' || i, ',') FROM generate_series(1, 26) i),
                  false) IS NOT NULL AS set;
SELECT actor_now() = jsonb_build_object('roles', (SELECT jsonb_agg('r' || i) FROM generate_series(1, 25) i))
       AS first_25_visible;
-- A list longer than 8 kB is replaced by the roles events take: the
-- invisible entries are gone from it
SELECT set_config('bh_audit.actor_roles', repeat(E'\u200b,', 3000) || 'nurse,' || repeat(E'\u00a0,', 3000),
                  false) IS NOT NULL AS set;
SELECT current_setting('bh_audit.actor_roles') AS replaced;
SELECT actor_now();
RESET bh_audit.actor_roles;

-- A role's stored setting: kept as given, its invisible entries skipped at
-- login (for this database only, and for the database as a whole)
ALTER ROLE :"regress_user" IN DATABASE bh_s45g_utf8
    SET bh_audit.actor_roles = E'\u00a0,therapist,\u200b';
SELECT setconfig = ARRAY[E'bh_audit.actor_roles=\u00a0,therapist,\u200b'] AS stored_as_given
  FROM pg_db_role_setting
 WHERE setrole = :'regress_user'::regrole
   AND setdatabase = (SELECT oid FROM pg_database WHERE datname = 'bh_s45g_utf8');
\c bh_s45g_utf8
SELECT actor_now();
ALTER ROLE :"regress_user" IN DATABASE bh_s45g_utf8 RESET bh_audit.actor_roles;
ALTER DATABASE bh_s45g_utf8 SET bh_audit.actor_roles = E'\u3000,surgeon';
\c bh_s45g_utf8
SELECT actor_now();
ALTER DATABASE bh_s45g_utf8 RESET bh_audit.actor_roles;

-- LATIN1: its characters are converted, as the ledger reads them (A0 is
-- a no-break space, AD a soft hyphen); a letter shows
\c bh_s45g_latin1
\i test/regress/s45g_database.sql
SET bh_audit.actor_roles = E'\u00a0,nurse,\u00a0 \u00ad,caf\u00e9';
SELECT actor_now() = jsonb_build_object('roles', jsonb_build_array('nurse', E'caf\u00e9'))
       AS invisible_skipped;
BEGIN;
SELECT bh_audit.set_context(roles => ARRAY[E'\u00ad', 'clerk', E'\u00a0']);
SELECT actor_now();
ROLLBACK;
-- a role's stored setting, read at login (in a transaction: converted)
ALTER ROLE :"regress_user" IN DATABASE bh_s45g_latin1
    SET bh_audit.actor_roles = E'\u00a0,scribe';
\c bh_s45g_latin1
SELECT actor_now();
ALTER ROLE :"regress_user" IN DATABASE bh_s45g_latin1 RESET bh_audit.actor_roles;
RESET bh_audit.actor_roles;

-- SQL_ASCII: bytes read as UTF-8 where they are (c2 a0: U+00A0), a byte
-- that starts no UTF-8 sequence as U+FFFD, which shows
\c bh_s45g_ascii
\i test/regress/s45g_database.sql
SET bh_audit.actor_roles = E'\xc2\xa0,nurse,\xe2\x80\x8b,\xa0';
SELECT jsonb_array_length(actor_now() -> 'roles') AS roles,
       actor_now() -> 'roles' ->> 0 AS first,
       convert_to(actor_now() -> 'roles' ->> 1, 'SQL_ASCII') AS byte_kept;
RESET bh_audit.actor_roles;

\c contrib_regression
DROP DATABASE bh_s45g_utf8;
DROP DATABASE bh_s45g_latin1;
DROP DATABASE bh_s45g_ascii;
-- the ALTER ROLE and ALTER DATABASE events chained: nothing left queued
SELECT bh_audit.seal() >= 0 AS sealed;
