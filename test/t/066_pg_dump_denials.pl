# An attempted dump without the privilege leaves a trace: pg_dump locks each
# table it dumps (LOCK TABLE ... IN ACCESS SHARE MODE) before it reads it,
# and PostgreSQL refuses that lock for want of SELECT: one READ DENIED of
# the tagged table.  The ledger, an extension's table dumped by its data
# only, is not locked: pg_dump's COPY ... TO is refused, one EXPORT denial
# of the trail (AuditLog).  A dump with the privilege
# is no denial; one refused an untagged table of a tagged table's name is
# no event of the tagged table.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('pg_dump_denials');
$node->safe_psql('postgres', q{
CREATE ROLE alice LOGIN;
CREATE SCHEMA s;
CREATE SCHEMA other;
GRANT USAGE ON SCHEMA s, other, bh_audit TO alice;
CREATE TABLE s.notes (id int PRIMARY KEY, patient_id int, body text);
CREATE TABLE other.notes (id int PRIMARY KEY, patient_id int, body text);
INSERT INTO s.notes VALUES (1, 1, 'a');
SELECT bh_audit.tag_table('s.notes', 'Note', 'id', 'patient_id');
});

my $mark;
sub set_mark
{
	$mark = bh_seal_mark($node, 'postgres');
}

# Events since the mark but configuration's: "type action outcome error".
sub events_since
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT coalesce(string_agg(resource_type || ' ' || action || ' ' || outcome || ' ' ||
                           coalesce(error_type, '-'), ', ' ORDER BY seq), '')
  FROM bh_audit.events
 WHERE seq > $mark AND resource_type <> 'AuditConfiguration'});
}

sub dump_as_alice
{
	my ($table) = @_;
	my ($stdout, $stderr);
	my $ok = IPC::Run::run([ 'pg_dump', '-h', $node->host, '-p', $node->port,
		'-U', 'alice', '-t', $table, 'postgres' ], '>', \$stdout, '2>', \$stderr);
	return ($ok, $stderr);
}

set_mark();
my ($ok, $err) = dump_as_alice('s.notes');
ok(!$ok, 'pg_dump of the tagged table fails');
like($err, qr/permission denied for table notes/, 'refused at its lock');
is(events_since(), 'Note READ DENIED PermissionDenied', 'one READ denial of the tagged table');

set_mark();
($ok, $err) = dump_as_alice('bh_audit.events');
ok(!$ok, 'pg_dump of the ledger fails');
like($err, qr/permission denied for table events/, 'refused');
is(events_since(), 'AuditLog EXPORT DENIED PermissionDenied', 'one EXPORT denial of the ledger');

set_mark();
($ok, $err) = dump_as_alice('other.notes');
ok(!$ok, 'pg_dump of the untagged table of the same name fails');
is(events_since(), '', 'no event of the tagged table');

$node->safe_psql('postgres', 'GRANT SELECT ON s.notes TO alice');
set_mark();
($ok, $err) = dump_as_alice('s.notes');
ok($ok, 'pg_dump with the privilege succeeds') or diag($err);
unlike(events_since(), qr/DENIED/, 'no denial');

$node->stop;
done_testing();
