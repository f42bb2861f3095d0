-- bh_audit.service_roles is a list of role names written as in SQL
-- (comma-separated, a mixed-case name quoted).  A list PostgreSQL cannot
-- split (an empty entry, a quote left open) matched no role at all, the
-- well-formed names in it included, and was accepted without a word: every
-- service login listed was then recorded as a human.  It is refused when
-- set (22023), as PostgreSQL refuses its own list settings.
\set VERBOSITY sqlstate
CREATE TEMP VIEW s42e_type AS
SELECT e -> 'actor' ->> 'subject_type' AS subject_type FROM bh_audit.pending_events() e;

-- 1-2. An empty entry (a doubled comma): refused, the setting unchanged.
SELECT set_config('bh_audit.service_roles', format('%I,,reporting', session_user), false) IS NOT NULL AS set;
SELECT current_setting('bh_audit.service_roles') = '' AS unchanged;

-- 3-4. A quote left open: refused, the setting unchanged.
SELECT set_config('bh_audit.service_roles', format('reporting, %I, "unclosed', session_user), false) IS NOT NULL AS set;
SELECT current_setting('bh_audit.service_roles') = '' AS unchanged;

-- 5-6. A trailing comma: refused, the setting unchanged.
SELECT set_config('bh_audit.service_roles', format('%I,', session_user), false) IS NOT NULL AS set;
SELECT current_setting('bh_audit.service_roles') = '' AS unchanged;

-- 7. A well-formed list naming the login, quoted, among others: a service.
SELECT set_config('bh_audit.service_roles', format('reporting, "Batch Job", %I', session_user), false) IS NOT NULL AS set;
BEGIN;
SELECT bh_audit.emit('READ', 'S42eThing') IS NOT NULL AS emitted;
SELECT subject_type FROM s42e_type;
ROLLBACK;

-- 8. Blanks only, or empty: no role listed, the login a human.
SET bh_audit.service_roles = '  ';
BEGIN;
SELECT bh_audit.emit('READ', 'S42eThing') IS NOT NULL AS emitted;
SELECT subject_type FROM s42e_type;
ROLLBACK;
RESET bh_audit.service_roles;
DROP VIEW s42e_type;
