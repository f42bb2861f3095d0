# A SQL_ASCII database stores bytes: an id, a context setting or any other
# string of an event may hold bytes that are not UTF-8.  The canonical form
# takes each such byte as U+FFFD, so every event is hashed (one such event
# stopped the sealer for good), verification agrees, and the export's line
# carries U+FFFD; events after it are sealed as usual.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('sql_ascii', database => 'sa', create_database => 0, extension => 0);
$node->safe_psql('postgres',
	"CREATE DATABASE sa ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
$node->safe_psql('sa', q{
CREATE EXTENSION bh_audit;
CREATE TABLE notes (id text PRIMARY KEY, patient text, body text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient');
CREATE ROLE app LOGIN;
GRANT ALL ON notes TO app;
});
ok($node->poll_query_until('sa',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'"),
	'the sealer works in the SQL_ASCII database');

# A write whose id holds the byte 0xE9, a read by an actor whose name holds
# 0xFC, then a plain write.
$node->safe_psql('sa', q{
INSERT INTO notes VALUES (E'caf\xe9', 'p1', 'x');
SET bh_audit.actor_id = E'dr m\xfcller';
SELECT count(*) FROM notes;
RESET bh_audit.actor_id;
INSERT INTO notes VALUES ('plain', 'p2', 'y');
}, extra_params => [ '-U', 'app' ]);
my ($ret, $out, $err) = $node->psql('sa', 'SELECT bh_audit.seal()', timeout => 60);
is($ret, 0, 'seal() returns');
is($node->safe_psql('sa', q{
SELECT string_agg(action || ' ' || encode(convert_to(resource_id, 'SQL_ASCII'), 'hex'), ', ' ORDER BY seq)
  FROM bh_audit.events WHERE resource_type = 'Note' AND action <> 'READ'}),
	'CREATE 636166e9, CREATE 706c61696e', 'both writes are sealed, the id as it was stored');
is($node->safe_psql('sa', q{
SELECT count(*) FROM bh_audit.events
 WHERE resource_type = 'Note' AND action = 'READ' AND actor_id = E'dr m\xfcller'}),
	'1', 'the read of the one patient is sealed, with its actor');
is($node->safe_psql('sa', 'SELECT events_dropped_total FROM bh_audit.stats()'), '0',
	'nothing dropped');
is($node->safe_psql('sa', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');
like($node->safe_psql('sa', q{
SELECT line FROM bh_audit.export_jsonl() AS line WHERE line LIKE '%"id":"caf%'}),
	qr/"id":"caf\x{ef}\x{bf}\x{bd}"/, 'the export carries U+FFFD for the byte');

# A resource type holding such a byte is a resource type like any other
# (the check for the reserved ones reads it without raising), and one that
# reads as a reserved one is refused.
is($node->safe_psql('sa', q{
SELECT bh_audit.emit('OTHER', E'Caf\xe9', '1', 'p1') IS NOT NULL}),
	't', 'emit() takes a resource type holding a byte that is not UTF-8');
($ret, $out, $err) = $node->psql('sa', q{SELECT bh_audit.emit('OTHER', E'Audit\xe9Log')});
is($ret, 0, 'also next to the letters of a reserved type');
($ret, $out, $err) = $node->psql('sa', q{SELECT bh_audit.emit('OTHER', 'AUDIT LOG')});
like($err, qr/resource_type "AUDIT LOG" is reserved/, 'a reserved type in other letters is refused');

# Two top-level keys that are one once converted to UTF-8 (0x80 and 0x81,
# both U+FFFD): the earlier is left out of the hash, as it always was, and
# not checked as a stored "integrity" is, even holding a decimal without a
# canonical form.  Queued by a superuser (a restore of the queue), the event
# is sealed, nothing dropped; the chain verifies and exports.
$node->safe_psql('sa', q{
INSERT INTO bh_audit.queue (events)
SELECT ARRAY[jsonb_build_object('schema_version', '1.1', 'timestamp', '2026-01-01T00:00:00Z',
         'source', 'sa_keys', 'event_id', '00000000-0000-4000-8000-000000000044',
         E'\x80', 0.123456789012345678901234567, E'\x81', 1)];
});
($ret, $out, $err) = $node->psql('sa', 'SELECT bh_audit.seal()', timeout => 60);
is($ret, 0, 'seal() returns after the event with two keys one in UTF-8');
is($node->safe_psql('sa', q{
SELECT count(*) FROM bh_audit.events WHERE event ->> 'source' = 'sa_keys'}),
	'1', 'the event with two keys one in UTF-8 is sealed');
is($node->safe_psql('sa', 'SELECT events_dropped_total FROM bh_audit.stats()'), '0',
	'still nothing dropped');
is($node->safe_psql('sa', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies with it');
is($node->safe_psql('sa', q{
SELECT count(*) FROM bh_audit.export_jsonl() AS line WHERE line LIKE '%sa_keys%'}),
	'1', 'and exports');

$node->stop;
done_testing();
