# The tag catalog and the ledger survive pg_dump and restore: tags are
# restored by table and column NAME (so renumbered columns are fine), the
# capture triggers come back with the tables, and the restored chain
# verifies.  The ledger's guard accepts the restored rows because they
# continue the chain exactly, in order; a forged dump is refused.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('dump', database => 'clinic');
$node->safe_psql('clinic', q{
-- A dropped column first: after restore the tagged columns have other numbers.
CREATE TABLE notes (junk int, note_id int PRIMARY KEY, patient_id int, body text);
ALTER TABLE notes DROP COLUMN junk;
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id', part2 => true);
INSERT INTO notes VALUES (1, 10, 'a'), (2, 20, 'b');
SELECT bh_audit.seal();
});
# The ledger's rows out of seq order on disk (a row rewritten in place, as a
# row reusing the space of an aborted insert would be): the dump still
# gives them in chain order.
$node->safe_psql('clinic', q{
BEGIN;
ALTER TABLE bh_audit.events DISABLE TRIGGER events_append_only;
UPDATE bh_audit.events SET seq = seq WHERE seq = 1;
ALTER TABLE bh_audit.events ENABLE ALWAYS TRIGGER events_append_only;
COMMIT;
SELECT bh_audit.seal();
});
is($node->safe_psql('clinic',
		'SELECT (array_agg(seq ORDER BY ctid))[1] <> 1 FROM bh_audit.events'),
	't', 'seq 1 is no longer the first row on disk');
my $before = $node->safe_psql('clinic',
	'SELECT count(*), max(seq), (SELECT event_hash FROM bh_audit.chain_head()) FROM bh_audit.events');

my $dump = "$PostgreSQL::Test::Utils::tmp_check/clinic.dump";
$node->command_ok(['pg_dump', '-Fc', '-d', $node->connstr('clinic'), '-f', $dump], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok(['pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump],
	'pg_restore');

is($node->safe_psql('restored',
		'SELECT tbl::text, resource_type, id_column, patient_column, part2 FROM bh_audit.tagged_tables'),
	'notes|Note|note_id|patient_id|t', 'the tag is restored by name');
is($node->safe_psql('restored',
		"SELECT string_agg(tgname || '=' || tgenabled::text, ',' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'notes'::regclass AND tgname LIKE 'bh_audit%'"),
	'bh_audit_capture_row=A,bh_audit_capture_truncate=A', 'the capture triggers are restored, enabled ALWAYS');
# (nothing missing; "restored" is not the sealer's database, which
# capture_status() reports since it says so for such a database)
is($node->safe_psql('restored', 'SELECT tbl, problem FROM bh_audit.capture_status()'),
	'bh_audit.queue|events queued here are not sealed: bh_audit.database is "clinic"',
	'capture_status() reports nothing missing, and that this database is not the sealer\'s');
is($node->safe_psql('restored',
		'SELECT count(*), max(seq), (SELECT event_hash FROM bh_audit.chain_head()) FROM bh_audit.events'),
	$before, 'the ledger is restored whole');
is($node->safe_psql('restored', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the restored chain verifies');

# Capture works in the restored database with the renumbered columns.
$node->safe_psql('restored', "INSERT INTO notes VALUES (3, 30, 'c')");
is($node->safe_psql('restored',
		"SELECT e->'resource'->>'id' || '/' || (e->'resource'->>'patient_id') FROM bh_audit.queue, unnest(events) e"),
	'3/30', 'capture after restore names the right columns');

# Events still queued at the dump (this database is not the sealer's: its
# queue is never drained) come back, and the queue's ids go on after
# theirs: the next write is queued beside them.
my $queued_dump = "$PostgreSQL::Test::Utils::tmp_check/restored.dump";
$node->command_ok(['pg_dump', '-Fc', '-d', $node->connstr('restored'), '-f', $queued_dump],
	'pg_dump of a database with queued events');
$node->safe_psql('postgres', 'CREATE DATABASE requeued');
$node->command_ok(['pg_restore', '--exit-on-error', '-d', $node->connstr('requeued'), $queued_dump],
	'pg_restore of it');
$node->safe_psql('requeued', "INSERT INTO notes VALUES (5, 50, 'e')");
is($node->safe_psql('requeued',
		"SELECT string_agg(e->'resource'->>'id', ',' ORDER BY q.id) FROM bh_audit.queue q, unnest(events) e"),
	'3,5', 'the queued event is restored and the next write is queued after it');

# A plain-SQL dump restores too; the same dump with one event altered does not.
my $sql = "$PostgreSQL::Test::Utils::tmp_check/clinic.sql";
$node->command_ok(['pg_dump', '-d', $node->connstr('clinic'), '-f', $sql], 'plain pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE plain; CREATE DATABASE forged');
# (the restoring session writes a tagged row right after: the tags it
# restored are in its cache)
my $plain_then_write = "$PostgreSQL::Test::Utils::tmp_check/plain_then_write.sql";
PostgreSQL::Test::Utils::append_to_file($plain_then_write,
	slurp_file($sql) . "\nINSERT INTO public.notes VALUES (4, 40, 'd');\n");
my ($ret, $out, $err) = $node->psql('plain', undef,
	extra_params => ['-v', 'ON_ERROR_STOP=1', '-f', $plain_then_write]);
is($ret, 0, 'psql restores a plain dump');
is($node->safe_psql('plain',
		"SELECT e->'resource'->>'id' || '/' || (e->'resource'->>'patient_id') FROM bh_audit.queue, unnest(events) e WHERE e->'resource'->>'id' = '4'"),
	'4/40', 'the restoring session captures a write to a restored tagged table');
# (the first pg_dump's own COPY of the tagged table is an EXPORT, so the
# plain dump holds more events than the first one)
is($node->safe_psql('plain', 'SELECT result, events_scanned >= 3 FROM bh_audit.verify_chain()'),
	'PASS|t', 'and its chain verifies');
my $text = slurp_file($sql);
$text =~ s/"patient_id": "10"/"patient_id": "99"/ or die 'no event to alter in the dump';
my $forged = "$PostgreSQL::Test::Utils::tmp_check/forged.sql";
PostgreSQL::Test::Utils::append_to_file($forged, $text);
($ret, $out, $err) = $node->psql('forged', undef, extra_params => ['-v', 'ON_ERROR_STOP=1', '-f', $forged]);
like($err, qr/INSERT on "bh_audit\.events" is not allowed: its event_hash is not the hash of its content/,
	'a dump with an altered event is refused');

$node->stop;
done_testing();
