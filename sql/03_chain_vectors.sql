-- The chain vectors: rebuild every event hash of the sha256/384/512 chains
-- from the previous line's hash and the line's own content.
\getenv abs_srcdir PG_ABS_SRCDIR

CREATE TEMP TABLE chain_lines (alg text, n int, line json);

\set f :abs_srcdir '/test/vectors/chain_v1_1_sha256.jsonl'
INSERT INTO chain_lines
SELECT 'sha256', n, l::json FROM regexp_split_to_table(rtrim(pg_read_file(:'f'), E'\n'), E'\n') WITH ORDINALITY AS t(l, n);
\set f :abs_srcdir '/test/vectors/chain_v1_1_sha384.jsonl'
INSERT INTO chain_lines
SELECT 'sha384', n, l::json FROM regexp_split_to_table(rtrim(pg_read_file(:'f'), E'\n'), E'\n') WITH ORDINALITY AS t(l, n);
\set f :abs_srcdir '/test/vectors/chain_v1_1_sha512.jsonl'
INSERT INTO chain_lines
SELECT 'sha512', n, l::json FROM regexp_split_to_table(rtrim(pg_read_file(:'f'), E'\n'), E'\n') WITH ORDINALITY AS t(l, n);

SELECT alg, n,
       line -> 'integrity' ->> 'hash_alg' = alg AS alg_ok,
       (line -> 'integrity' ->> 'prev_event_hash') IS NOT DISTINCT FROM
           lag(line -> 'integrity' ->> 'event_hash') OVER w AS linked,
       bh_audit.event_hash(line, lag(line -> 'integrity' ->> 'event_hash') OVER w, alg)
           = line -> 'integrity' ->> 'event_hash' AS hash_ok
  FROM chain_lines
WINDOW w AS (PARTITION BY alg ORDER BY n)
 ORDER BY alg, n;
