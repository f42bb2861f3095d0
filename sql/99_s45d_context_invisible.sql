-- An end-user context value made only of characters that show nothing
-- (no-break and ideographic spaces, zero-width characters, U+FEFF, U+2060,
-- and the other characters resource_type's check reads as nothing) names
-- nobody either: refused when set as a value of ASCII blanks is (22023,
-- "bh_audit.<setting> shows no character", naming the setting, never the
-- value), by SET, SET LOCAL, set_config(), set_context() and ALTER ROLE
-- ... SET, in each database encoding as the ledger reads it (UTF-8; LATIN1
-- converted; SQL_ASCII's bytes read as UTF-8, as the canonical form reads
-- them).  Values with a visible character among invisible ones are kept as
-- given.  The databases are made here: the regression database's encoding
-- is whatever the locale gave it.
CREATE DATABASE bh_s45d_utf8 ENCODING 'UTF8' LOCALE 'C' TEMPLATE template0;
CREATE DATABASE bh_s45d_latin1 ENCODING 'LATIN1' LOCALE 'C' TEMPLATE template0;
CREATE DATABASE bh_s45d_ascii ENCODING 'SQL_ASCII' LOCALE 'C' TEMPLATE template0;
CREATE ROLE s45d_role LOGIN;
SELECT current_user AS regress_user \gset

\c bh_s45d_utf8
SET client_min_messages = warning;
CREATE EXTENSION bh_audit;
RESET client_min_messages;
CREATE FUNCTION regress_err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- SET: the error in full, once
SET bh_audit.actor_id = E'\u00a0';
SHOW bh_audit.actor_id;

-- every setting, SET and set_config() (session and local), each value
CREATE TEMP TABLE invisible (v text);
INSERT INTO invisible VALUES
    (E'\u00a0'), (E'\u3000'), (E'\u200b'), (E'\ufeff'), (E'\u2060'),
    (E'\u00a0\u00a0 \u3000\t\u200b\n'), (E'\u00ad'), (E'\u180e'), (E'\u2028'),
    (E'\u202f'), (E'\u2800'), (E'\u3164'), (E'\ufe0f'), (E'\uffa0'),
    (E'\U000e0041'), (E'\u0001');
SELECT s AS setting,
       count(*) FILTER (WHERE regress_err(format('SET %s = %L', s, v))
                        = '22023: ' || s || ' shows no character') AS set_refused,
       count(*) FILTER (WHERE regress_err(format('SELECT set_config(%L, %L, false)', s, v))
                        = '22023: ' || s || ' shows no character') AS set_config_refused,
       count(*) FILTER (WHERE regress_err(format('SELECT set_config(%L, %L, true)', s, v))
                        = '22023: ' || s || ' shows no character') AS set_config_local_refused,
       count(*) AS values
  FROM unnest(ARRAY['bh_audit.actor_id', 'bh_audit.actor_type', 'bh_audit.actor_org_id',
                    'bh_audit.owner_org_id', 'bh_audit.request_id', 'bh_audit.trace_id',
                    'bh_audit.session_id']) AS s, invisible
 GROUP BY s ORDER BY s;
-- none of them was taken
SELECT s AS setting, current_setting(s) = '' AS still_empty
  FROM unnest(ARRAY['bh_audit.actor_id', 'bh_audit.actor_type', 'bh_audit.actor_org_id',
                    'bh_audit.owner_org_id', 'bh_audit.request_id', 'bh_audit.trace_id',
                    'bh_audit.session_id']) AS s ORDER BY s;
-- ASCII blanks keep their own detail
SET bh_audit.request_id = ' ';

-- set_context(): each argument
SELECT bh_audit.set_context(actor_id => E'\u3000\u200b');
SELECT regress_err(format('SELECT bh_audit.set_context(%s => %L)', a, E'\ufeff\u2060'))
  FROM unnest(ARRAY['actor_id', 'actor_type', 'org_id', 'owner_org_id', 'request_id',
                    'trace_id', 'session_id']) AS a;

-- SET LOCAL fails that statement alone; an invisible argument refuses the
-- whole set_context() call
BEGIN;
SET LOCAL bh_audit.actor_id = 'dr_invisible_a';
SAVEPOINT s;
SET LOCAL bh_audit.actor_id = E'\u200b';
ROLLBACK TO s;
SHOW bh_audit.actor_id;
SAVEPOINT s2;
SELECT bh_audit.set_context(actor_id => 'dr_invisible_b', session_id => E'\u00a0');
ROLLBACK TO s2;
SELECT current_setting('bh_audit.actor_id') AS actor,
       current_setting('bh_audit.session_id') = '' AS session_unset;
ROLLBACK;

-- A visible character among invisible ones: kept as given, and recorded
BEGIN;
SELECT bh_audit.set_context(actor_id => E'\u00a0dr\u200bx\u3000', org_id => E'\ufefforg',
                            owner_org_id => E'\u00e9', request_id => E'\u2060r',
                            trace_id => E'.\u200b', session_id => E'\u3164s');
SELECT current_setting('bh_audit.actor_id') = E'\u00a0dr\u200bx\u3000' AS actor_as_given,
       current_setting('bh_audit.actor_org_id') = E'\ufefforg' AS org_as_given,
       current_setting('bh_audit.owner_org_id') = E'\u00e9' AS owner_as_given,
       current_setting('bh_audit.request_id') = E'\u2060r' AS request_as_given,
       current_setting('bh_audit.trace_id') = E'.\u200b' AS trace_as_given,
       current_setting('bh_audit.session_id') = E'\u3164s' AS session_as_given;
SELECT bh_audit.emit('READ', 'Ctx45d', 'around') IS NOT NULL AS emitted;
SELECT e -> 'actor' ->> 'subject_id' = E'\u00a0dr\u200bx\u3000' AS subject_as_given,
       e -> 'actor' ->> 'org_id' = E'\ufefforg' AS org_as_given,
       e -> 'correlation' ->> 'session_id' = E'\u3164s' AS session_as_given
  FROM bh_audit.pending_events() AS e WHERE e -> 'resource' ->> 'type' = 'Ctx45d';
ROLLBACK;

-- A value longer than the 256 characters events take is cut, and the cut
-- ends with "...": it shows, and is kept
SELECT set_config('bh_audit.actor_id', repeat(E'\u00a0', 300), false) IS NOT NULL AS set;
SELECT current_setting('bh_audit.actor_id') = repeat(E'\u00a0', 253) || '...' AS cut_kept;
-- '' and RESET still leave a value unstated
SET bh_audit.actor_id = '';
RESET bh_audit.actor_id;

-- actor_type: an invisible value is told as such, others as before
SELECT regress_err(format('SET bh_audit.actor_type = %L', E'\u00a0'));
SELECT regress_err(format('SET bh_audit.actor_type = %L', E'\u00a0human'))
       = E'22023: invalid value for parameter "bh_audit.actor_type": "\u00a0human"' AS refused_as_before;

-- A role's stored setting: ALTER ROLE ... SET checks it too
ALTER ROLE s45d_role SET bh_audit.actor_id = E'\u00a0';
ALTER ROLE s45d_role IN DATABASE bh_s45d_utf8 SET bh_audit.trace_id = E'\u200b\u3000';
ALTER ROLE s45d_role SET bh_audit.actor_id = E'\u00a0dr';
SELECT setconfig = ARRAY[E'bh_audit.actor_id=\u00a0dr'] AS stored_as_given
  FROM pg_db_role_setting WHERE setrole = 's45d_role'::regrole;
ALTER ROLE s45d_role RESET ALL;

-- LATIN1: its characters are converted, as the ledger reads them
\c bh_s45d_latin1
SET client_min_messages = warning;
CREATE EXTENSION bh_audit;
RESET client_min_messages;
SET bh_audit.actor_id = E'\u00a0';
SELECT bh_audit.set_context(request_id => E'\u00a0 \u00ad');
ALTER ROLE s45d_role SET bh_audit.session_id = E'\u00a0';
SELECT count(*) AS stored FROM pg_db_role_setting WHERE setrole = 's45d_role'::regrole;
SET bh_audit.actor_id = E'\u00a0caf\u00e9';
SELECT current_setting('bh_audit.actor_id') = E'\u00a0caf\u00e9' AS kept_as_given;
RESET bh_audit.actor_id;

-- SQL_ASCII: bytes read as UTF-8 where they are (c2 a0: U+00A0), a byte
-- that starts no UTF-8 sequence as U+FFFD, which shows
\c bh_s45d_ascii
SET client_min_messages = warning;
CREATE EXTENSION bh_audit;
RESET client_min_messages;
SET bh_audit.actor_id = E'\xc2\xa0';
SELECT bh_audit.set_context(trace_id => E'\xe2\x80\x8b');
SET bh_audit.actor_id = E'\xa0';
SELECT convert_to(current_setting('bh_audit.actor_id'), 'SQL_ASCII') AS kept_as_given;
RESET bh_audit.actor_id;
-- stored from here, the byte a0 is a no-break space in a LATIN1 database:
-- a login there refuses it (WARNING) and leaves the value unstated
ALTER ROLE s45d_role SET bh_audit.actor_id = E'\xa0';
\c bh_s45d_latin1 s45d_role
SELECT current_setting('bh_audit.actor_id') = '' AS unstated;

\c bh_s45d_latin1 :regress_user
ALTER ROLE s45d_role RESET ALL;
\c contrib_regression
DROP ROLE s45d_role;
DROP DATABASE bh_s45d_utf8;
DROP DATABASE bh_s45d_latin1;
DROP DATABASE bh_s45d_ascii;
-- the ALTER ROLE events chained: nothing left queued
SELECT bh_audit.seal() >= 0 AS sealed;
