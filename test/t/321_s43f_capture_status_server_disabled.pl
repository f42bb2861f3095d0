# capture_status() must not be empty while bh_audit.enabled is off for the
# whole server (postgresql.conf, or ALTER SYSTEM's postgresql.auto.conf).
# docs/sql-reference.md: capture_status() is "Empty when capture is
# complete; a monitoring check should alert on any row", and it reports a
# stored setting that switches capture off for some sessions (ALTER ROLE /
# DATABASE ... SET bh_audit.enabled = off), also one made with the preload
# and recorded then.  The same switch in the server's configuration turns
# capture off for every session (no READ, no write event), yet the DBA's
# check said nothing: only the sealer's AuditConfiguration event at the
# reload tells it, once.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('s43f_server_disabled');
$node->safe_psql('postgres', q{
CREATE ROLE auditor LOGIN IN ROLE bh_audit_reader;
CREATE TABLE notes (id int PRIMARY KEY, patient_id text);
INSERT INTO notes VALUES (1, 'p1');
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.capture_status()',
	extra_params => [ '-U', 'auditor' ]), '0', 'capture_status() is empty to begin with');

sub reads_of_p1
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres',
		q{SELECT count(*) FROM bh_audit.events WHERE action = 'READ' AND patient_id = 'p1'});
}

# 1. ALTER SYSTEM (postgresql.auto.conf), reloaded
$node->safe_psql('postgres', 'ALTER SYSTEM SET bh_audit.enabled = off');
$node->reload;
$node->poll_query_until('postgres', q{SELECT current_setting('bh_audit.enabled') = 'off'})
  or die 'the reload did not take';
my $reads = reads_of_p1();
$node->safe_psql('postgres', 'SELECT * FROM notes');
is(reads_of_p1(), $reads, 'capture is off for every session: reads of p1 leave no event');
my $status = $node->safe_psql('postgres', 'SELECT coalesce(tbl::text, \'\'), problem FROM bh_audit.capture_status()',
	extra_params => [ '-U', 'auditor' ]);
note("capture_status():\n$status");
like($status, qr/bh_audit\.enabled/,
	'capture_status() reports bh_audit.enabled off in postgresql.auto.conf');

# 2. postgresql.conf, reloaded
$node->safe_psql('postgres', 'ALTER SYSTEM RESET bh_audit.enabled');
$node->append_conf('postgresql.conf', "bh_audit.enabled = off\n");
$node->reload;
$node->poll_query_until('postgres', q{SELECT current_setting('bh_audit.enabled') = 'off'})
  or die 'the reload did not take';
$status = $node->safe_psql('postgres', 'SELECT coalesce(tbl::text, \'\'), problem FROM bh_audit.capture_status()',
	extra_params => [ '-U', 'auditor' ]);
note("capture_status():\n$status");
like($status, qr/bh_audit\.enabled/,
	'capture_status() reports bh_audit.enabled off in postgresql.conf');

# 3. on again: nothing to report
$node->append_conf('postgresql.conf', "bh_audit.enabled = on\n");
$node->reload;
$node->poll_query_until('postgres', q{SELECT current_setting('bh_audit.enabled') = 'on'})
  or die 'the reload did not take';
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.capture_status()',
	extra_params => [ '-U', 'auditor' ]), '0', 'capture_status() is empty again once capture is on');

done_testing();
