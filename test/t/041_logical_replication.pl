# Logical replication between two servers that both run bh_audit: a
# publication FOR ALL TABLES carries bh_audit.queue, bh_audit.events,
# bh_audit.tags and bh_audit.ledger_home too, and the subscriber skips every row of them (the table
# synchronisation's copy and the applied inserts, updates and deletes) and
# keeps its rows through a replicated TRUNCATE.  Each server keeps its own
# ledger and its own tags; the subscriber records the changes it applies to
# its tagged tables, and replication never stops on the extension's tables.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $pub = bh_node('pub', init => { allows_streaming => 'logical' });
my $sub = bh_node('sub');

# Events of a node's ledger, per resource (type, id) and action.  (Reads
# are not captured: the test's polling would add to them.)
my $ledger = q{SELECT string_agg(r, ',' ORDER BY r COLLATE "C") FROM (
  SELECT resource_type || ':' || coalesce(resource_id, '-') || ':' || action || '=' || count(*) AS r
    FROM bh_audit.events GROUP BY resource_type, resource_id, action) x};

$pub->safe_psql('postgres', q{
CREATE TABLE notes (id int PRIMARY KEY, patient text, body text);
CREATE TABLE visits (id int PRIMARY KEY, patient text);
CREATE TABLE extra (id int PRIMARY KEY);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient', capture_reads => false);
SELECT bh_audit.tag_table('extra', 'Extra', 'id', capture_reads => false);
INSERT INTO notes VALUES (1, 'pubpat1', 'x');
CREATE PUBLICATION puball FOR ALL TABLES;
SELECT bh_audit.seal();
});
$sub->safe_psql('postgres', q{
CREATE TABLE notes (id int PRIMARY KEY, patient text, body text);
CREATE TABLE visits (id int PRIMARY KEY, patient text);
CREATE TABLE extra (id int PRIMARY KEY);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient', capture_reads => false);
INSERT INTO notes VALUES (100, 'subpat100', 'local');
SELECT bh_audit.seal();
});
is($pub->safe_psql('postgres', q{SELECT string_agg(pubname, ',') FROM pg_publication_tables
  WHERE schemaname = 'bh_audit'}), 'puball,puball,puball,puball',
	'the publication FOR ALL TABLES holds the extension\'s four tables');  # (bh_audit.ledger_home is the fourth)

my $connstr = $pub->connstr . ' dbname=postgres';
$sub->safe_psql('postgres', "CREATE SUBSCRIPTION s CONNECTION '$connstr' PUBLICATION puball");
ok($sub->poll_query_until('postgres',
		"SELECT count(*) = 7 FROM pg_subscription_rel WHERE srsubstate = 'r'"),  # (3 tables and bh_audit's 4, ledger_home included)
	'the table synchronisation of every table (the extension\'s too) completes');
ok($sub->poll_query_until('postgres', 'SELECT count(*) = 1 FROM notes WHERE id = 1'),
	'the publisher\'s rows are copied');

# Changes on the publisher: rows, and tagging.
$pub->safe_psql('postgres', q{
INSERT INTO notes VALUES (2, 'pubpat2', 'y');
UPDATE notes SET body = 'z' WHERE id = 2;
DELETE FROM notes WHERE id = 1;
SELECT bh_audit.tag_table('visits', 'Visit', 'id', 'patient', capture_reads => false);
SELECT bh_audit.untag_table('extra');
INSERT INTO visits VALUES (7, 'pubpat7');
SELECT bh_audit.seal();
});
ok($sub->poll_query_until('postgres',
		q{SELECT string_agg(id || ':' || body, ',' ORDER BY id) = '2:z,100:local' FROM notes}),
	'the publisher\'s changes are applied');
ok($sub->poll_query_until('postgres', 'SELECT count(*) = 1 FROM visits'),
	'and those after its tagging changes');
$sub->safe_psql('postgres', 'SELECT bh_audit.seal()');

is($sub->safe_psql('postgres', 'SELECT string_agg(tbl::text, \',\' ORDER BY tbl::text) FROM bh_audit.tags'),
	'notes', 'the subscriber\'s tags are its own');
is($sub->safe_psql('postgres',
		'SELECT count(*), bool_and(system_identifier = (SELECT system_identifier FROM pg_control_system())) FROM bh_audit.ledger_home'),
	'1|t', 'and so is its ledger\'s home');
is($sub->safe_psql('postgres', q{SELECT count(*) FROM bh_audit.capture_status()}),
	'0', 'and capture_status() finds every tagged table captured');
my $pub_ids = $pub->safe_psql('postgres', q{SELECT string_agg(quote_literal(event_id), ',') FROM bh_audit.events});
is($sub->safe_psql('postgres', "SELECT count(*) FROM bh_audit.events WHERE event_id IN ($pub_ids)"),
	'0', 'no event of the publisher\'s ledger is in the subscriber\'s');
is($sub->safe_psql('postgres', $ledger),
	'AuditConfiguration:public.notes:CREATE=1,Note:100:CREATE=1,Note:1:CREATE=1,Note:1:DELETE=1,Note:2:CREATE=1,Note:2:UPDATE=1',
	'the subscriber\'s ledger: its tagging, its own write, and one event per applied change of its tagged table');
is($pub->safe_psql('postgres', $ledger),
	'AuditConfiguration:public.extra:CREATE=1,AuditConfiguration:public.extra:DELETE=1,AuditConfiguration:public.notes:CREATE=1,AuditConfiguration:public.visits:CREATE=1,Note:1:CREATE=1,Note:1:DELETE=1,Note:2:CREATE=1,Note:2:UPDATE=1,Visit:7:CREATE=1',
	'the publisher\'s ledger is its own');
is($sub->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the subscriber\'s chain verifies');
is($pub->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the publisher\'s chain verifies');

# Replication goes on.
$pub->safe_psql('postgres', q{INSERT INTO notes VALUES (3, 'pubpat3', 'w'); SELECT bh_audit.seal();});
ok($sub->poll_query_until('postgres', 'SELECT count(*) = 1 FROM notes WHERE id = 3'),
	'a later change of the publisher arrives');
$sub->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($sub->safe_psql('postgres', q{SELECT count(*) FROM bh_audit.events WHERE resource_id = '3'}),
	'1', 'and is recorded once by the subscriber');
is($sub->safe_psql('postgres',
		'SELECT apply_error_count, sync_error_count FROM pg_stat_subscription_stats'),
	'0|0', 'no apply or synchronisation error');

# A replicated TRUNCATE (RESTART IDENTITY) of the queue and the tags leaves
# the subscriber's rows and the queue's identity as they are.  The
# subscriber's sealer is stopped so that its queue holds an event.
my $sealed = $sub->safe_psql('postgres', 'SELECT max(seq) FROM bh_audit.events');
my $sealer = bh_stop_sealer($sub, 'postgres');
$sub->safe_psql('postgres', q{INSERT INTO notes VALUES (50, 'subpat50', 'queued')});
my $queued = $sub->safe_psql('postgres',
	q{SELECT string_agg(q.id || ':' || (e->>'event_id'), ',') FROM bh_audit.queue q, unnest(q.events) e});
like($queued, qr/^\d+:[0-9a-f-]{36}$/, 'the subscriber\'s queue holds its event');
my $identity = $sub->safe_psql('postgres',
	q{SELECT pg_sequence_last_value(pg_get_serial_sequence('bh_audit.queue', 'id'))});
$pub->safe_psql('postgres', q{
TRUNCATE bh_audit.queue, bh_audit.tags RESTART IDENTITY;
INSERT INTO notes VALUES (4, 'pubpat4', 'v');
});
ok($sub->poll_query_until('postgres', 'SELECT count(*) = 1 FROM notes WHERE id = 4'),
	'replication goes on after a TRUNCATE of the queue and the tags');
is($sub->safe_psql('postgres',
		q{SELECT string_agg(q.id || ':' || (e->>'event_id'), ',') FROM bh_audit.queue q, unnest(q.events) e
		   WHERE q.id <= } . $identity),
	$queued, 'the subscriber\'s queued event is still queued');
is($sub->safe_psql('postgres', 'SELECT string_agg(tbl::text, \',\') FROM bh_audit.tags'),
	'notes', 'and its tags are still there');
$sub->safe_psql('postgres', q{INSERT INTO notes VALUES (51, 'subpat51', 'after')});
is($sub->safe_psql('postgres',
		q{SELECT string_agg(CASE WHEN id > } . $identity . q{ THEN 'after' ELSE 'kept' END, ',' ORDER BY id) FROM bh_audit.queue}),
	'kept,after,after', 'the queue\'s identity goes on after its rows (the applied row 4, then 51)');
kill 'CONT', $sealer;
$sub->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($sub->safe_psql('postgres', q{SELECT count(*) FROM bh_audit.queue}), '0', 'the subscriber seals its queue');
is($sub->safe_psql('postgres',
		q{SELECT string_agg(resource_id || ':' || action, ',' ORDER BY seq) FROM bh_audit.events WHERE seq > } . $sealed),
	'50:CREATE,4:CREATE,51:CREATE', 'and the events of its tagged table\'s changes');

# The publisher's superuser empties its ledger past the guard: the
# subscriber's ledger stays whole and replication goes on.
my $before = $sub->safe_psql('postgres',
	'SELECT count(*), (SELECT event_hash FROM bh_audit.chain_head()) FROM bh_audit.events');
$pub->safe_psql('postgres', q{
ALTER TABLE bh_audit.events DISABLE TRIGGER events_no_truncate;
TRUNCATE bh_audit.events;
ALTER TABLE bh_audit.events ENABLE ALWAYS TRIGGER events_no_truncate;
INSERT INTO notes VALUES (5, 'pubpat5', 'u');
});
ok($sub->poll_query_until('postgres', 'SELECT count(*) = 1 FROM notes WHERE id = 5'),
	'replication goes on after a TRUNCATE of the ledger');
$sub->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($sub->safe_psql('postgres', q{SELECT count(*) - 1 || '|' || (SELECT prev_event_hash FROM bh_audit.events
  ORDER BY seq DESC LIMIT 1) FROM bh_audit.events}),
	$before, 'the subscriber\'s ledger is whole, and continued');
is($sub->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the subscriber\'s chain verifies');
is($sub->safe_psql('postgres', q{SET enable_seqscan = off;
  SELECT count(*) FROM bh_audit.events WHERE patient_id IN ('pubpat5', 'subpat100')}),
	'2', 'its indexes hold the kept rows and the new one');
is($sub->safe_psql('postgres',
		'SELECT apply_error_count, sync_error_count FROM pg_stat_subscription_stats'),
	'0|0', 'no apply or synchronisation error');

# A subscription owner that is no superuser any more, whose table
# privileges PostgreSQL checks, given what PostgreSQL asks of it on the
# published tables (SELECT too: an applied UPDATE or DELETE looks its row
# up first) but nothing on the queue's identity: the publisher's sealer
# deleting its queue rows is applied (skipped), and a replicated TRUNCATE
# keeps the subscriber's rows and identity as before.  The extension reads
# and puts back the identity's position itself, as the bootstrap
# superuser, not as the owner (who would get "permission denied for
# sequence").
$sub->safe_psql('postgres', q{
CREATE ROLE regress_sub_owner LOGIN SUPERUSER;
ALTER SUBSCRIPTION s OWNER TO regress_sub_owner;
ALTER ROLE regress_sub_owner NOSUPERUSER;
GRANT USAGE ON SCHEMA bh_audit TO regress_sub_owner;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA bh_audit, public
   TO regress_sub_owner;
});
$identity = $sub->safe_psql('postgres',
	q{SELECT pg_sequence_last_value(pg_get_serial_sequence('bh_audit.queue', 'id'))});
# (the publisher queues an event and seals it: its queue row's INSERT and
# DELETE come first, then the TRUNCATE, then the row of notes)
$pub->safe_psql('postgres', q{
SELECT bh_audit.emit('READ', 'Patient', 'pubpat6', 'pubpat6');
SELECT bh_audit.seal();
TRUNCATE bh_audit.queue;
INSERT INTO notes VALUES (6, 'pubpat6', 't');
});
ok($sub->poll_query_until('postgres', q{SELECT (SELECT count(*) FROM notes WHERE id = 6) = 1
   OR (SELECT apply_error_count > 0 FROM pg_stat_subscription_stats)}),
	'the queue\'s delete and TRUNCATE are applied by an owner without superuser, or fail');
is($sub->safe_psql('postgres',
		'SELECT (SELECT count(*) FROM notes WHERE id = 6), apply_error_count FROM pg_stat_subscription_stats'),
	'1|0', 'they are applied, without error');
is($sub->safe_psql('postgres',
		q{SELECT pg_sequence_last_value(pg_get_serial_sequence('bh_audit.queue', 'id')) >= } . $identity),
	't', 'the queue\'s identity is where it was, or further');

$sub->stop;
$pub->stop;
done_testing();
