# ALTER SYSTEM that leaves bh_audit out of shared_preload_libraries (from
# the next start nothing is captured) is recorded before it runs, as an
# AuditConfiguration event with change preload_removed: SET to a list
# without bh_audit, and RESET, SET ... TO DEFAULT and RESET ALL when
# postgresql.conf does not list bh_audit itself.  A value that keeps the
# library (by name, path or file name) is not recorded, nor a statement
# refused, nor an ALTER SYSTEM of another setting.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('preload_alter_system');
$node->safe_psql('postgres', 'CREATE ROLE clerk LOGIN');

# The recorded removals since the last call: statement and value of each.
my $seen = 0;
sub removals
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	my $rows = $node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, resource_type, event -> 'metadata' ->> 'change',
                            event -> 'metadata' ->> 'statement', event -> 'metadata' ->> 'setting',
                            event -> 'metadata' ->> 'value', actor_id), E'\\n' ORDER BY seq)
  FROM bh_audit.events WHERE resource_id = 'shared_preload_libraries' AND seq > $seen});
	$seen = $node->safe_psql('postgres', 'SELECT coalesce(max(seq), 0) FROM bh_audit.events');
	return $rows;
}
removals();

# postgresql.conf lists bh_audit (bh_node): RESET and RESET ALL keep it.
$node->safe_psql('postgres', $_) foreach (
	q{ALTER SYSTEM SET shared_preload_libraries = 'bh_audit'},
	q{ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements', '$libdir/bh_audit'},
	q{ALTER SYSTEM SET shared_preload_libraries = 'bh_audit.so', auto_explain},
	q{ALTER SYSTEM SET shared_preload_libraries TO DEFAULT},
	q{ALTER SYSTEM RESET shared_preload_libraries},
	q{ALTER SYSTEM RESET ALL},
	q{ALTER SYSTEM SET work_mem = '8MB'},
	q{ALTER SYSTEM RESET work_mem});
is(removals(), '', 'values that keep bh_audit are not recorded');

# Lists without it.
$node->safe_psql('postgres', $_) foreach (
	q{ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'},
	q{ALTER SYSTEM SET shared_preload_libraries = ''},
	q{ALTER SYSTEM SET shared_preload_libraries = 'bh_audit,auto_explain'},
	q{ALTER SYSTEM SET "Shared_Preload_Libraries" = 'bh_audit_old'},
	q{ALTER SYSTEM RESET shared_preload_libraries});
is(removals(), join("\n",
	'UPDATE|AuditConfiguration|preload_removed|ALTER SYSTEM|shared_preload_libraries|pg_stat_statements|postgres',
	# ALTER SYSTEM writes "" (a library of no name), and one named "bh_audit,auto_explain"
	'UPDATE|AuditConfiguration|preload_removed|ALTER SYSTEM|shared_preload_libraries|""|postgres',
	'UPDATE|AuditConfiguration|preload_removed|ALTER SYSTEM|shared_preload_libraries|"bh_audit,auto_explain"|postgres',
	'UPDATE|AuditConfiguration|preload_removed|ALTER SYSTEM|shared_preload_libraries|bh_audit_old|postgres'),
	'every ALTER SYSTEM SET to a list without bh_audit is recorded, with the value written');

# A statement refused leaves nothing.
my ($ret, $out, $err) = $node->psql('postgres',
	q{ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'},
	extra_params => [ '-U', 'clerk' ]);
isnt($ret, 0, 'a non-superuser cannot run ALTER SYSTEM');
like($err, qr/ERROR:  permission denied to set parameter "shared_preload_libraries"/, 'the error is PostgreSQL\'s');
is(removals(), '', 'and nothing is recorded for it');

# postgresql.conf without bh_audit (the library preloaded through
# postgresql.auto.conf): RESET, SET ... TO DEFAULT and RESET ALL remove it.
$node->safe_psql('postgres', q{ALTER SYSTEM SET shared_preload_libraries = 'bh_audit'});
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'auto_explain'");
$node->safe_psql('postgres', $_) foreach (
	q{ALTER SYSTEM RESET shared_preload_libraries},
	q{ALTER SYSTEM SET shared_preload_libraries = 'bh_audit'},
	q{ALTER SYSTEM SET shared_preload_libraries TO DEFAULT},
	q{ALTER SYSTEM SET shared_preload_libraries = 'bh_audit'},
	q{ALTER SYSTEM RESET ALL},
	q{ALTER SYSTEM SET shared_preload_libraries = 'bh_audit'});
is(removals(), join("\n",
	'UPDATE|AuditConfiguration|preload_removed|ALTER SYSTEM RESET|shared_preload_libraries|auto_explain|postgres',
	'UPDATE|AuditConfiguration|preload_removed|ALTER SYSTEM RESET|shared_preload_libraries|auto_explain|postgres',
	'UPDATE|AuditConfiguration|preload_removed|ALTER SYSTEM RESET ALL|shared_preload_libraries|auto_explain|postgres'),
	'RESET, SET TO DEFAULT and RESET ALL that fall back to postgresql.conf are recorded, with its value');

# The library stays preloaded through postgresql.auto.conf.
$node->restart;
is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'), 'bh_audit',
	'preloaded through postgresql.auto.conf');
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.capture_status()'), '0',
	'capture is complete');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');
$node->stop;
done_testing();
