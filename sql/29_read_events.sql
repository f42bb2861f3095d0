-- The read-capture files' view of the ledger (30_read_capture,
-- 33_index_only_reads, 35_qual_reads, 36_join_qual_reads): the events
-- sealed since a mark, but configuration changes, then the mark moved.
-- Each file moves the mark to the ledger's end first (mark_now()).
CREATE SCHEMA regress_reads;
CREATE TABLE regress_reads.mark (seq bigint);
INSERT INTO regress_reads.mark VALUES (0);
CREATE FUNCTION regress_reads.mark_now() RETURNS void LANGUAGE sql AS $$
    UPDATE regress_reads.mark SET seq = (SELECT coalesce(max(seq), 0) FROM bh_audit.events);
$$;
CREATE FUNCTION regress_reads.reads() RETURNS TABLE (action text, resource_type text, patient_id text,
                                                     outcome text, error_type text, meta jsonb)
LANGUAGE plpgsql AS $$
DECLARE m bigint;
BEGIN
    PERFORM bh_audit.seal();
    SELECT seq INTO m FROM regress_reads.mark;
    RETURN QUERY SELECT e.action, e.resource_type, e.patient_id, e.outcome, e.error_type,
                        (e.event -> 'metadata') - 'db_user' - 'table'
                   FROM bh_audit.events e WHERE e.seq > m AND e.resource_type <> 'AuditConfiguration'
                  ORDER BY e.resource_type, e.action, e.patient_id COLLATE "C", e.seq;
    UPDATE regress_reads.mark SET seq = (SELECT max(seq) FROM bh_audit.events);
END $$;
SELECT regress_reads.mark_now();
SELECT count(*) FROM regress_reads.reads();
