# A restore brings back the events still queued at the dump with a COPY
# into bh_audit.queue, which the queue's row trigger queue_objects_only
# (enabled ALWAYS) checks: a queued value that is not a JSON object (a
# superuser's, written while that trigger was off) makes the restore fail
# at the queue's COPY, full or data-only, naming the row's id, the
# element's position and its JSON type, and the COPY's line without its
# data.  A data-only restore with --disable-triggers loads it: the sealer
# skips the value with a WARNING naming the row and chains the object
# beside it; the restore's ENABLE TRIGGER ALL leaves the queue's ALWAYS
# triggers (queue_objects_only among them) ALWAYS, and capture_status()
# lists nothing; the switch off and back is recorded.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('qrestore', database => 'clinic');

# "src" is not the sealer's database: its queue keeps its rows.  One row
# holds a proper event, another (written with the trigger off) a JSON
# string beside an object.
$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
CREATE EXTENSION bh_audit;
SELECT bh_audit.emit('READ', 'Patient', 's44g_restored', 's44g_restored');
ALTER TABLE bh_audit.queue DISABLE TRIGGER queue_objects_only;
INSERT INTO bh_audit.queue (id, events) OVERRIDING SYSTEM VALUE
SELECT 900001, ARRAY['"Jane Doe MRN 4471"'::jsonb,
                     jsonb_set(jsonb_set(e, '{resource,id}', '"s44g_beside"'),
                               '{event_id}', to_jsonb(gen_random_uuid()::text))]
  FROM bh_audit.queue, unnest(events) e WHERE e -> 'resource' ->> 'id' = 's44g_restored';
ALTER TABLE bh_audit.queue ENABLE ALWAYS TRIGGER queue_objects_only;
});
is($node->safe_psql('src',
		q{SELECT string_agg(jsonb_typeof(e), ',' ORDER BY n)
		    FROM bh_audit.queue q, unnest(events) WITH ORDINALITY u(e, n) WHERE q.id = 900001}),
	'string,object', 'the dumped queue holds a JSON string beside an object');
my $dump = "$PostgreSQL::Test::Utils::tmp_check/src.dump";
$node->command_ok(['pg_dump', '-Fc', '-d', $node->connstr('src'), '-f', $dump], 'pg_dump');

my $refused = qr/ERROR:  bh_audit\.queue takes JSON objects only: event 1 of the row with id 900001 is a JSON string\n.*\nCONTEXT:  COPY queue, line \d+\n/;

# 1. A full restore: the queue's COPY refused, without the line's data.
$node->safe_psql('postgres', 'CREATE DATABASE full_restore');
my ($stdout, $stderr);
my $ok = IPC::Run::run(['pg_restore', '--exit-on-error', '-d', $node->connstr('full_restore'), $dump],
	'>', \$stdout, '2>', \$stderr);
ok(!$ok, 'the full restore fails');
like($stderr, $refused, 'the queue\'s COPY is refused, naming the row, the element and its type');
unlike($stderr, qr/Jane|s44g_/, 'no data of the line in the error');

# 2. A data-only restore of the queue into the sealer's database: refused
# the same; with --disable-triggers, loaded, the string skipped by the
# sealer and the objects chained.
IPC::Run::run(['pg_restore', '-d', $node->connstr('clinic'), '--data-only',
		'-n', 'bh_audit', '-t', 'queue', $dump], '>', \$stdout, '2>', \$stderr);
like($stderr, $refused, 'a data-only restore is refused too');
unlike($stderr, qr/Jane|s44g_/, 'no data of the line in its error');
is($node->safe_psql('clinic', 'SELECT count(*) FROM bh_audit.queue WHERE id = 900001'),
	'0', 'nothing of it queued');

$node->command_ok(['pg_restore', '--exit-on-error', '-d', $node->connstr('clinic'), '--data-only',
		'--disable-triggers', '-n', 'bh_audit', '-t', 'queue', $dump],
	'a data-only restore with --disable-triggers loads the queue');
is(bh_wait_sealed($node, 'clinic', q{resource_id IN ('s44g_restored', 's44g_beside')}, 2),
	'2', 'the restored objects are chained');
is($node->safe_psql('clinic', q{SELECT count(*) FROM bh_audit.events WHERE jsonb_typeof(event) <> 'object'}),
	'0', 'the JSON string is not');
is($node->safe_psql('clinic', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');
like(slurp_file($node->logfile),
	qr/WARNING:  bh_audit sealer skipped 1 event of the row of bh_audit.queue with id 900001: it is not a JSON object/,
	'the sealer skips it with a WARNING naming the row');
is($node->safe_psql('clinic',
		q{SELECT string_agg(tgname || '=' || tgenabled::text, ' ' ORDER BY tgname) FROM pg_trigger
		   WHERE tgrelid = 'bh_audit.queue'::regclass}),
	'queue_applied_skip=A queue_applied_truncate_keep=A queue_applied_truncate_restore=A queue_objects_only=A queue_restored=O',
	'after the restore\'s ENABLE TRIGGER ALL the queue\'s triggers are as installed (ALWAYS, queue_restored on the origin)');
is($node->safe_psql('clinic', q{SELECT count(*) FROM bh_audit.capture_status() WHERE tbl = 'bh_audit.queue'::regclass}),
	'0', 'capture_status() lists nothing of the queue');
is($node->safe_psql('clinic',
		q{SELECT string_agg(event -> 'metadata' ->> 'change', ',' ORDER BY seq)
		    FROM bh_audit.events
		   WHERE resource_id = 'bh_audit.queue' AND event -> 'metadata' ->> 'trigger' = 'ALL'}),
	'disable the queue\'s triggers,enable the queue\'s triggers',
	'the restore\'s switch of the queue\'s triggers is recorded');

done_testing();
