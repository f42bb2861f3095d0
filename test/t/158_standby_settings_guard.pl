# On a hot standby, a stored setting of bh_audit's (ALTER ROLE / ALTER
# DATABASE ... SET bh_audit.enabled, or another bh_audit.* setting) is
# refused with bh_audit's "cannot execute bh_audit event capture during
# recovery" rather than PostgreSQL's own error ("cannot execute ALTER ROLE
# in a read-only transaction"), which a read-only transaction on the
# primary and a server without bh_audit give.  77535c3 promises
# PostgreSQL's error for the statements the configuration guard checks;
# the settings guard (settings_guard.c, bh_stored_setting_record(), called
# from bh_config_guard_before() before PostgreSQL's read-only check) was
# left out.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = bh_node('primary', init => { allows_streaming => 1 });
$primary->safe_psql('postgres', 'CREATE ROLE someone');
$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

for my $case (['ALTER ROLE someone SET bh_audit.enabled = off', 'ALTER ROLE'],
	['ALTER DATABASE postgres SET bh_audit.enabled = off', 'ALTER DATABASE'],
	['ALTER ROLE someone SET bh_audit.end_user = \'x\'', 'ALTER ROLE'])
{
	my ($sql, $command) = @$case;
	my ($ret, $out, $err) = $primary->psql('postgres',
		"BEGIN READ ONLY; $sql",
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	like($err, qr/ERROR:  25006: cannot execute \Q$command\E in a read-only transaction$/m,
		"in a read-only transaction: $sql refused with PostgreSQL's error");
	($ret, $out, $err) = $standby->psql('postgres', $sql,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	like($err, qr/ERROR:  25006: cannot execute \Q$command\E in a read-only transaction$/m,
		"on the standby: $sql refused with PostgreSQL's error");
}

$standby->stop;
$primary->stop;
done_testing();
