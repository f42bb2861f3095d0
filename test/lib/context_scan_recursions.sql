-- The failing recursions of t/251 and test/bench/context_scan_bench.sh:
-- recx(n, pad, unclosed) and recs(n, pad, unclosed) run n frames of
-- statements on the tagged table notes, each padded with pad, and fail
-- (division by zero) at the innermost one.  recx: each frame's text holds
-- a dollar quote after a nested block comment's first */, its tag other in
-- each frame, closed ($x1x... as plain text) or not ($t1$).  recs: a
-- literal '\' of each frame's statement (closed: '/'), parsed with
-- standard_conforming_strings on, read as the error is raised with it off
-- (the innermost frame sets it so): each literal runs on into the next
-- frame.
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
INSERT INTO notes VALUES (1, 'p1');
CREATE FUNCTION recx(n int, pad text, unclosed bool) RETURNS int LANGUAGE plpgsql AS $b$
DECLARE r int;
BEGIN
  IF n = 0 THEN RETURN 1 / 0; END IF;
  EXECUTE format('SELECT recx(%s, $1, $2) FROM notes /* /* */ %s %s */', n - 1,
                 CASE WHEN unclosed THEN '$t' || n || '$' ELSE 'x' || n || 'x' END, pad)
     INTO r USING pad, unclosed;
  RETURN r;
END $b$;
CREATE FUNCTION recs(n int, pad text, unclosed bool) RETURNS int LANGUAGE plpgsql AS $b$
DECLARE r int;
BEGIN
  IF n = 0 THEN SET LOCAL standard_conforming_strings = off; RETURN 1 / 0; END IF;
  EXECUTE format('SELECT recs(%s, $1, $2) FROM notes WHERE %s <> $1 /* %s */', n - 1,
                 '''' || CASE WHEN unclosed THEN chr(92) ELSE '/' END || '''', pad)
     INTO r USING pad, unclosed;
  RETURN r;
END $b$;
