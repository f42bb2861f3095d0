-- Canonical JSON: every case of the canonical serialisation vectors, byte
-- for byte, and the two hashes each case carries.
\getenv abs_srcdir PG_ABS_SRCDIR
\set vectors :abs_srcdir '/test/vectors/canonical_serialization.json'

CREATE TEMP TABLE canon_cases AS
SELECT c ->> 'name' AS name,
       (c ->> 'input_json')::json AS input,
       c ->> 'canonical_utf8' AS expected,
       c ->> 'canonical_hex' AS expected_hex,
       c ->> 'sha256_no_prev' AS sha_first,
       c ->> 'sha256_with_prev_deadbeef' AS sha_prev
  FROM json_array_elements(pg_read_file(:'vectors')::json -> 'cases') AS c;

SELECT count(*) AS cases FROM canon_cases;

SELECT name,
       bh_audit.canonical_json(input) = expected AS text_ok,
       encode(convert_to(bh_audit.canonical_json(input), 'UTF8'), 'hex') = expected_hex AS bytes_ok,
       bh_audit.event_hash(input) = sha_first AS hash_ok,
       bh_audit.event_hash(input, 'deadbeef') = sha_prev AS chained_hash_ok
  FROM canon_cases ORDER BY name;

-- A few shapes spelled out.
SELECT bh_audit.canonical_json('{"b": "hello", "a": 1}');
SELECT bh_audit.canonical_json('{"integrity": {"x": 1}, "m": {"integrity": 2}}');
SELECT bh_audit.canonical_json('{"f": [1.0, 1E2, 0.1, -0.0, 1e-05, 1e16, 12345678901234567890]}');
SELECT bh_audit.canonical_json('{"s": "tab\there \"q\" \\ / \u0001 é"}');
SELECT bh_audit.canonical_json('[3, {"b": null, "a": true}]');

-- Bad input is an error, not a guess.
SELECT bh_audit.canonical_json('{"a": }');
SELECT bh_audit.event_hash('{"a":1}', NULL, 'md5');
SELECT bh_audit.event_hash('{"a":1}', NULL, 'sha384') = encode(sha384('{"a":1}'), 'hex') AS sha384_ok,
       bh_audit.event_hash('{"a":1}', 'ab', 'sha512') = encode(sha512('ab{"a":1}'), 'hex') AS sha512_ok;
