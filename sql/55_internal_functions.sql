-- bh_audit's internal trigger functions fire only as the triggers the
-- extension made them for: a direct call, a trigger of another kind, or a
-- trigger on another table is refused with 39P01 and a message naming the
-- function, before the function reads a column or changes a row.
SELECT regress_err('SELECT bh_audit._refuse_change()');
SELECT regress_err('SELECT bh_audit._check_append()');
SELECT regress_err('SELECT bh_audit._tags_changed()');
SELECT regress_err('SELECT bh_audit._skip_applied()');
SELECT regress_err('SELECT bh_audit._keep_on_truncate()');
SELECT regress_err('SELECT bh_audit._home_restored()');
SELECT regress_err('SELECT bh_audit._queue_restored()');
SELECT regress_err('SELECT bh_audit._check_queued()');

-- On a table that is not the one they keep.
\set VERBOSITY default
CREATE TABLE internal_t (id int, seq bigint, event jsonb);
INSERT INTO internal_t VALUES (1, 1, '{}');
CREATE TRIGGER internal_fn BEFORE UPDATE ON internal_t
  FOR EACH STATEMENT EXECUTE FUNCTION bh_audit._refuse_change();
UPDATE internal_t SET id = 2;
DROP TRIGGER internal_fn ON internal_t;
CREATE TRIGGER internal_fn BEFORE INSERT ON internal_t
  FOR EACH ROW EXECUTE FUNCTION bh_audit._check_append();
INSERT INTO internal_t VALUES (2, 2, '{}');
DROP TRIGGER internal_fn ON internal_t;
CREATE TRIGGER internal_fn AFTER INSERT ON internal_t
  FOR EACH STATEMENT EXECUTE FUNCTION bh_audit._tags_changed();
INSERT INTO internal_t VALUES (2, 2, '{}');
DROP TRIGGER internal_fn ON internal_t;
CREATE TRIGGER internal_fn BEFORE INSERT ON internal_t
  FOR EACH ROW EXECUTE FUNCTION bh_audit._skip_applied();
INSERT INTO internal_t VALUES (2, 2, '{}');
DROP TRIGGER internal_fn ON internal_t;
CREATE TRIGGER internal_fn BEFORE TRUNCATE ON internal_t
  FOR EACH STATEMENT EXECUTE FUNCTION bh_audit._keep_on_truncate();
TRUNCATE internal_t;
DROP TRIGGER internal_fn ON internal_t;
-- (this one would delete the table's rows)
CREATE TRIGGER internal_fn BEFORE INSERT ON internal_t
  FOR EACH ROW EXECUTE FUNCTION bh_audit._home_restored();
INSERT INTO internal_t VALUES (2, 2, '{}');
DROP TRIGGER internal_fn ON internal_t;
CREATE TRIGGER internal_fn AFTER INSERT ON internal_t
  FOR EACH STATEMENT EXECUTE FUNCTION bh_audit._queue_restored();
INSERT INTO internal_t VALUES (2, 2, '{}');
DROP TRIGGER internal_fn ON internal_t;
CREATE TRIGGER internal_fn BEFORE INSERT ON internal_t
  FOR EACH ROW EXECUTE FUNCTION bh_audit._check_queued();
INSERT INTO internal_t VALUES (2, 2, '{}');
DROP TRIGGER internal_fn ON internal_t;
SELECT id, seq, event FROM internal_t;
DROP TABLE internal_t;

\set VERBOSITY terse
