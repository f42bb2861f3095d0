-- An UPDATE's RETURNING sends the stored row back: a read of its patient
-- (docs/read-capture.md), also when the UPDATE moves the row to another
-- partition.  Through an untagged partitioned table, a partition tagged on
-- its own: a row moved out of it into an untagged partition returns the
-- tagged partition's stored values (the patient's body), so it is a read of
-- its patient, rolled back or not.  Controls: the row staying in the tagged
-- partition, and a row moved into it from the untagged one (no stored
-- value of the tagged partition returned: no read).
CREATE SCHEMA mo;
CREATE TABLE mo.up (id int, pid text, body text) PARTITION BY LIST (id);
CREATE TABLE mo.up1 PARTITION OF mo.up FOR VALUES IN (1, 2);
CREATE TABLE mo.up2 PARTITION OF mo.up FOR VALUES IN (3, 4);
INSERT INTO mo.up VALUES (1, 'u1', 'a'), (2, 'u2', 'b'), (3, 'u3', 'c');
SELECT bh_audit.tag_table('mo.up1', 'MoUp1', 'id', 'pid');
SELECT regress_reads.mark_now();
-- control: the row stays in the tagged partition: u2 read
BEGIN;
UPDATE mo.up SET body = 'z' WHERE id = 2 RETURNING body;
ROLLBACK;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
-- moved out of the tagged partition: u1's stored body returned, u1 read
BEGIN;
UPDATE mo.up SET id = 3 WHERE id = 1 RETURNING body;
ROLLBACK;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
-- the same committed: the move's write events, and u1 read
UPDATE mo.up SET id = 4 WHERE id = 1 RETURNING pid, body;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
-- control: moved into the tagged partition from the untagged one
BEGIN;
UPDATE mo.up SET id = 2 WHERE id = 3 RETURNING body;
ROLLBACK;
SELECT action, resource_type, patient_id FROM regress_reads.reads();
-- Both partitions tagged on their own: a row moved from mo.up2 into mo.up1
-- returns mo.up2's stored values, a read of its patient under mo.up2's tag
-- (MoUp2), whatever is recorded under mo.up1's.
SELECT bh_audit.tag_table('mo.up2', 'MoUp2', 'id', 'pid');
SELECT regress_reads.mark_now();
BEGIN;
UPDATE mo.up SET id = 2 WHERE id = 3 RETURNING body;
ROLLBACK;
SELECT count(*) FILTER (WHERE action = 'READ' AND resource_type = 'MoUp2' AND patient_id = 'u3') AS up2_u3_read
  FROM regress_reads.reads();
DROP SCHEMA mo CASCADE;
