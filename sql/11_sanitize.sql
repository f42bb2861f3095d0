-- bh_audit.sanitize_error_message(): the upstream (bh-audit-logger) error
-- message sanitiser, with Python 3 re semantics for Unicode.  Every case of
-- the vector file (expected_logger with its max_len), then the rules one by
-- one.  test/t/011_sanitize_agreement.pl compares thousands of random
-- strings with Python itself.
\getenv abs_srcdir PG_ABS_SRCDIR
\set vectors :abs_srcdir '/test/vectors/sanitize_error_message.json'

CREATE TEMP TABLE san_cases AS
SELECT n, c ->> 'input' AS input, (c ->> 'max_len')::int AS max_len,
       c ->> 'expected_logger' AS expected
  FROM json_array_elements(pg_read_file(:'vectors')::json -> 'cases') WITH ORDINALITY AS t(c, n);

SELECT count(*) AS cases FROM san_cases;

-- Every vector case, byte for byte (failures show their output).
SELECT n, max_len, bh_audit.sanitize_error_message(input, max_len) = expected AS ok,
       CASE WHEN bh_audit.sanitize_error_message(input, max_len) <> expected
            THEN bh_audit.sanitize_error_message(input, max_len) END AS wrong_output
  FROM san_cases ORDER BY n;
SELECT count(*) FILTER (WHERE bh_audit.sanitize_error_message(input, max_len) = expected) AS passed,
       count(*) AS total
  FROM san_cases;

-- The function: immutable, strict, parallel safe, callable by anyone.
SELECT provolatile, proisstrict, proparallel, pg_get_function_arguments(oid) AS args
  FROM pg_proc WHERE oid = 'bh_audit.sanitize_error_message'::regproc;
SELECT has_function_privilege('public', 'bh_audit.sanitize_error_message(text, integer)', 'EXECUTE') AS public_may_call;
SELECT bh_audit.sanitize_error_message(NULL) IS NULL AS null_in_null_out;

-- Strip and collapse: Unicode whitespace as str.isspace() sees it (NBSP,
-- ideographic space, U+001C..U+001F, NEL, line separator), but not
-- zero-width space or U+180E.
SELECT bh_audit.sanitize_error_message(E'\u3000\u00a0 a\t\n\rb\u2028\u2029c\u001c\u001fd\u0085e \u3000');
SELECT bh_audit.sanitize_error_message(E'a\u200bb\u180ec') = E'a\u200bb\u180ec' AS not_whitespace_kept;

-- The four patterns, in order, with their markers.
SELECT bh_audit.sanitize_error_message('ssn 123-45-6789, mail a.b+c@mail.example.org, phone (555) 123-4567 / 555-123-4567, id 123456789012');
-- \d is any decimal digit: Arabic-Indic, Devanagari, fullwidth, mathematical bold.
SELECT bh_audit.sanitize_error_message('ssn ١٢٣-٤٥-٦٧٨٩ / ۱۲۳-۴۵-۶۷۸۹ / १२३-४५-६७८९ / １２３-４５-６７８９');
SELECT bh_audit.sanitize_error_message('id 𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗𝟎𝟏 and mixed 12३4५6٧8９0');
-- but numerics that are not decimal digits are not \d (superscripts,
-- circled, Roman): nothing to redact here.
SELECT bh_audit.sanitize_error_message('not digits ¹²³-⁴⁵-⁶⁷⁸⁹ ①②③-④⑤-⑥⑦⑧⑨ ⅫⅫⅫ');

-- \b is between a \w character (Unicode letter or digit, or "_") and
-- anything else: glued to a letter, underscore, non-decimal numeric or
-- accented letter, the patterns do not match.
SELECT bh_audit.sanitize_error_message('glued x123-45-6789 _123-45-6789 123-45-6789_ é123-45-6789 ²123-45-6789 123-45-6789é');
SELECT bh_audit.sanitize_error_message('punctuation (123-45-6789) "123-45-6789". -123-45-6789-');
-- A combining mark is not \w: a boundary sits between it and a digit.
SELECT bh_audit.sanitize_error_message(E'e\u0301123-45-6789');

-- Phone separators are optional, one at most, any of - . or whitespace
-- (collapsed to a space first); two in a row do not match.
SELECT bh_audit.sanitize_error_message(E'555.123.4567 555 123 4567 555\u3000123\t4567 555-1234567 555--123-4567 555..123.4567');
-- Ten digits are a phone number before they are an ID; eleven are an ID;
-- nine are nothing; a run glued to a letter is nothing.
SELECT bh_audit.sanitize_error_message('1234567890 12345678901 123456789 12345678901x x12345678901');
-- SSN first: an SSN is not also taken for a phone number or an ID.
SELECT bh_audit.sanitize_error_message('123-45-6789 123-456-7890');
-- Greedy runs and backtracking in the e-mail pattern: the domain ends at
-- the rightmost dot that is followed by 2+ letters and then a boundary.
SELECT bh_audit.sanitize_error_message('a@b.c|m a@b.co|m a@b.com.x a@b.c.uk a@b.c.u a@b.co1 a@b.co_ a@b.coé a@b.co- x@y.z-q.org.');
-- The local part may start with punctuation when a word character comes
-- before it (that is where the boundary is), and "_" belongs to it.
SELECT bh_audit.sanitize_error_message('é.x@y.org ab_cd@y.org EMAIL_jane.doe@example.com _a@b.org');
-- Markers are text like any other: later patterns see them.
SELECT bh_audit.sanitize_error_message('123-45-6789@example.com 123-45-6789.5551234567');

-- Truncation: in characters (code points), s[:max_len - 3] + "...".
SELECT bh_audit.sanitize_error_message(repeat('é', 10), 10) AS exact,
       bh_audit.sanitize_error_message(repeat('é', 11), 10) AS cut,
       length(bh_audit.sanitize_error_message(repeat('😀', 300))) AS default_200,
       bh_audit.sanitize_error_message('abcdef', 3) AS only_dots;
-- after redaction and collapsing, so a marker may be cut.
SELECT bh_audit.sanitize_error_message('   x   123-45-6789', 10);
SELECT bh_audit.sanitize_error_message('abc', 2);

-- Other server encodings are converted to UTF-8 and back.
CREATE DATABASE bh_sanitize_latin1 ENCODING 'LATIN1' LOCALE 'C' TEMPLATE template0;
\c bh_sanitize_latin1
SET client_min_messages = warning;
CREATE EXTENSION bh_audit;
RESET client_min_messages;
SELECT bh_audit.sanitize_error_message(E'  caf\u00e9\u00a0\u00a0123-45-6789 \u00e9123-45-6789 jos\u00e9@x.org ') =
       E'caf\u00e9 [REDACTED-SSN] \u00e9123-45-6789 jos\u00e9@x.org' AS latin1_ok,
       bh_audit.sanitize_error_message(repeat(E'\u00e9', 30), 20) = repeat(E'\u00e9', 17) || '...' AS latin1_cut_ok;
\c contrib_regression
DROP DATABASE bh_sanitize_latin1;
