# CREATE EXTENSION refuses to install unless the library is preloaded, and
# says which setting to change.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('nopreload');
$node->init;
$node->start;

my ($ret, $out, $err) = $node->psql('postgres', 'CREATE EXTENSION bh_audit');
isnt($ret, 0, 'CREATE EXTENSION fails without shared_preload_libraries');
like($err, qr/ERROR:  bh_audit must be loaded via shared_preload_libraries/,
	'the error says the library must be preloaded');
like($err, qr/HINT:  Add bh_audit to shared_preload_libraries/,
	'the hint names the setting');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_extension WHERE extname = 'bh_audit'"),
	'0', 'nothing was installed');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_namespace WHERE nspname = 'bh_audit'"),
	'0', 'no schema was left behind');

# Preloaded, it installs.
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'bh_audit'");
$node->restart;
$node->safe_psql('postgres', 'CREATE EXTENSION bh_audit');
is($node->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'bh_audit'"),
	'1.0', 'installs once preloaded');

# A single-user backend starts no sealer: seal() says so at once instead of
# waiting for one forever.
$node->stop;
my ($stdout, $stderr) = ('', '');
my $single = IPC::Run::start(
	[ $node->config_data('--bindir') . '/postgres', '--single', '-D', $node->data_dir, 'postgres' ],
	'<', \"SELECT bh_audit.seal();\n", '>', \$stdout, '2>', \$stderr,
	IPC::Run::timeout(60));
my $finished = eval { $single->finish; 1 };
ok($finished, 'the single-user backend ends (seal() did not wait)');
like($stdout . $stderr, qr/bh_audit\.seal\(\) needs the sealer, which a single-user backend does not start/,
	'seal() in a single-user backend says there is no sealer');
done_testing();
