-- Validation in yes/no mode (the emit path, validate_event()) judges at
-- once an object or array that a schema node judged just before, byte for
-- byte, as it did then; validation_errors() walks everything.  Both must
-- give the same verdicts: over every event the suite has recorded so far,
-- in the ledger's order (so that each event meets the parts its
-- predecessor left), against each version; and over crafted bad values,
-- each right after the good event it was made from, so that the part it
-- spoils was just passed in its good form (same-length spoilings
-- included: only the bytes tell them apart), then once more (refused
-- again), then the good event again (passed again).
SELECT bh_audit.seal() >= 0 AS sealed;

CREATE FUNCTION pg_temp.disagreements(q text, OUT checked int, OUT valid int,
                                      OUT disagree int)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	quick bool;
	walked bool;
BEGIN
	checked := 0; valid := 0; disagree := 0;
	-- q gives (n, event, version) in the order to check them
	FOR r IN EXECUTE q LOOP
		quick := bh_audit.validate_event(r.event, r.version);
		walked := NOT EXISTS (SELECT FROM bh_audit.validation_errors(r.event, r.version));
		checked := checked + 1;
		valid := valid + quick::int;
		IF quick IS DISTINCT FROM walked THEN
			disagree := disagree + 1;
			RAISE NOTICE 'disagreement at %: validate_event % validation_errors %',
				r.n, quick, walked;
		END IF;
	END LOOP;
END $$;

-- Every event of the suite, against its own version and each other one.
SELECT count(*) > 1000 AS many_events FROM bh_audit.events;
SELECT checked > 1000 AS checked, valid = checked AS all_valid, disagree
  FROM pg_temp.disagreements($q$
	SELECT seq AS n, event, NULL::text AS version FROM bh_audit.events ORDER BY seq$q$);
SELECT v.version, d.checked > 1000 AS checked, d.disagree
  FROM unnest(ARRAY['1.0', '1.1', '2.0', '2.1']) AS v(version),
       LATERAL pg_temp.disagreements(format($q$
	SELECT seq AS n, event, %L::text AS version FROM bh_audit.events ORDER BY seq$q$, v.version)) AS d
 ORDER BY 1;

-- Crafted bad values, each after the good event it spoils: over-long ids
-- and names, empty ones, values outside an enum (some of the same length
-- as an allowed one), wrong types, a missing required member, a member the
-- schema does not allow, bad formats, too many metadata keys.
CREATE TEMP TABLE good AS
SELECT '{"schema_version": "1.1",
  "event_id": "9a8b7c6d-5555-4666-8777-888899990000",
  "timestamp": "2026-03-11T18:43:10.123Z",
  "service": {"name": "postgresql", "version": "15", "environment": "test"},
  "actor": {"subject_id": "alice", "subject_type": "human", "org_id": "org1",
            "owner_org_id": "org1", "roles": ["nurse", "reader"]},
  "action": {"type": "READ", "name": "lookup", "phi_touched": true,
             "data_classification": "PHI"},
  "resource": {"type": "Account", "id": "r1", "patient_id": "p1"},
  "outcome": {"status": "FAILURE", "error_type": "42501", "error_message": "denied"},
  "correlation": {"request_id": "q1", "session_id": "s1"},
  "http": {"method": "GET", "status_code": 200, "client_ip": "10.0.0.1"},
  "integrity": {"event_hash": "h", "hash_alg": "sha256"},
  "metadata": {"table": "public.t", "db_user": "alice", "rows": 1}}'::jsonb AS ev;
CREATE TEMP TABLE spoiled (n serial, what text, path text[], bad jsonb);
INSERT INTO spoiled (what, path, bad) VALUES
  ('actor.subject_id 257 chars', '{actor,subject_id}', to_jsonb(repeat('a', 257))),
  ('actor.subject_id empty', '{actor,subject_id}', '""'),
  ('actor.subject_type same length', '{actor,subject_type}', '"humen"'),
  ('actor.subject_type other case', '{actor,subject_type}', '"Human"'),
  ('actor.org_id 129 chars', '{actor,org_id}', to_jsonb(repeat('o', 129))),
  ('actor.owner_org_id empty', '{actor,owner_org_id}', '""'),
  ('actor.roles 26 items', '{actor,roles}', (SELECT jsonb_agg('r' || i) FROM generate_series(1, 26) i)),
  ('actor.roles item 65 chars', '{actor,roles}', jsonb_build_array('nurse', repeat('r', 65))),
  ('actor.roles item a number', '{actor,roles}', '["nurse", 1]'),
  ('actor extra member', '{actor,subject_idx}', '"x"'),
  ('actor a string', '{actor}', '"alice"'),
  ('actor without subject_id', '{actor}', '{"subject_type": "human"}'),
  ('action.type same length', '{action,type}', '"REAM"'),
  ('action.type lower case', '{action,type}', '"read"'),
  ('action.name 129 chars', '{action,name}', to_jsonb(repeat('n', 129))),
  ('action.phi_touched a string', '{action,phi_touched}', '"true"'),
  ('action.data_classification same length', '{action,data_classification}', '"PHA"'),
  ('outcome.status same length', '{outcome,status}', '"SUCCESX"'),
  ('outcome.error_type 129 chars', '{outcome,error_type}', to_jsonb(repeat('e', 129))),
  ('outcome.error_message 501 chars', '{outcome,error_message}', to_jsonb(repeat('m', 501))),
  ('outcome FAILURE without error_message', '{outcome}', '{"status": "FAILURE", "error_type": "42501"}'),
  ('outcome DENIED without error_type', '{outcome}', '{"status": "DENIED"}'),
  ('service.name 129 chars', '{service,name}', to_jsonb(repeat('s', 129))),
  ('service.name empty', '{service,name}', '""'),
  ('service.version 65 chars', '{service,version}', to_jsonb(repeat('v', 65))),
  ('service.environment a number', '{service,environment}', '1'),
  ('resource.type 129 chars', '{resource,type}', to_jsonb(repeat('t', 129))),
  ('resource.id 257 chars', '{resource,id}', to_jsonb(repeat('i', 257))),
  ('resource.patient_id 257 chars', '{resource,patient_id}', to_jsonb(repeat('p', 257))),
  ('resource.patient_id 257 characters of 2 bytes', '{resource,patient_id}', to_jsonb(repeat('é', 257))),
  ('resource.patient_id empty', '{resource,patient_id}', '""'),
  ('resource.patient_id a number', '{resource,patient_id}', '1'),
  ('resource without type', '{resource}', '{"id": "r1", "patient_id": "p1"}'),
  ('correlation empty', '{correlation}', '{}'),
  ('correlation.request_id 257 chars', '{correlation,request_id}', to_jsonb(repeat('q', 257))),
  ('http.method same length', '{http,method}', '"GOT"'),
  ('http.status_code 600', '{http,status_code}', '600'),
  ('http.status_code not an integer', '{http,status_code}', '200.5'),
  ('http.client_ip same length', '{http,client_ip}', '"10.0.0.a"'),
  ('http.client_ip leading zero', '{http,client_ip}', '"10.0.0.01"'),
  ('integrity.hash_alg same length', '{integrity,hash_alg}', '"sha257"'),
  ('integrity without hash_alg', '{integrity}', '{"event_hash": "h"}'),
  ('metadata value an object', '{metadata,rows}', '{"n": 1}'),
  ('metadata value an array', '{metadata,rows}', '[1]'),
  ('metadata 21 keys', '{metadata}', (SELECT jsonb_object_agg('k' || i, i) FROM generate_series(1, 21) i)),
  ('event_id same length', '{event_id}', '"9a8b7c6d-5555-4666-8777-88889999000g"'),
  ('timestamp same length', '{timestamp}', '"2026-03-11T18:43:60.123Z"'),
  ('schema_version same length', '{schema_version}', '"1.2"'),
  ('extra member', '{source}', '"x"');
-- the good event is valid against its version; each spoiled one is not
SELECT bh_audit.validate_event(ev) AS good_valid,
       (SELECT count(*) FROM bh_audit.validation_errors(ev)) AS good_errors
  FROM good;
SELECT checked, valid, disagree FROM pg_temp.disagreements($q$
	SELECT 3 * s.n + k AS n, CASE k WHEN 0 THEN g.ev ELSE jsonb_set(g.ev, s.path, s.bad) END AS event,
	       '1.1' AS version
	  FROM spoiled s, good g, generate_series(0, 2) k ORDER BY s.n, k$q$);
SELECT s.n, s.what
  FROM spoiled s, good g
 WHERE bh_audit.validate_event(jsonb_set(g.ev, s.path, s.bad), '1.1')
 ORDER BY 1;
-- and as the events bh_audit records, the same good parts in other
-- events: after a READ of the suite, that event with each of its parts
-- spoiled in turn
SELECT checked > 100 AS checked, disagree FROM pg_temp.disagreements($q$
	SELECT 200 * e.seq + 3 * s.n + k AS n,
	       CASE k WHEN 0 THEN e.event ELSE jsonb_set(e.event, s.path, s.bad) END AS event,
	       NULL::text AS version
	  FROM (SELECT seq, event FROM bh_audit.events
	         WHERE event -> 'action' ->> 'type' = 'READ' AND event ? 'metadata'
	         ORDER BY seq DESC LIMIT 5) AS e,
	       spoiled s, generate_series(0, 2) k
	 WHERE s.path[1] IN ('actor', 'action', 'outcome', 'service', 'resource', 'metadata')
	   AND (array_length(s.path, 1) = 1 OR e.event ? s.path[1])
	 ORDER BY e.seq, s.n, k$q$);
