# capture_status() names a stored setting of bh_audit.enabled (ALTER ROLE
# or DATABASE ... SET, made while the library was not preloaded, when no
# check of the value ran) that switches capture off, and only such a one:
# a value that is not a boolean is refused at each login of the role,
# whose sessions keep capture on (WARNING "invalid value for parameter"),
# and saying "capture is off in those sessions" of it is a false alarm
# that hides which roles really capture nothing.  Prefixes that PostgreSQL
# takes as off ('of', 'fals', 'n') are reported; prefixes taken as on are
# not.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('capture_status_enabled_setting');
$node->safe_psql('postgres', q{
CREATE TABLE patients (id text PRIMARY KEY, name text);
INSERT INTO patients VALUES ('p1', 'Ann');
SELECT bh_audit.tag_table('patients', 'Patient', 'id', 'id');
CREATE ROLE r_garbage LOGIN;
CREATE ROLE r_of LOGIN;
CREATE ROLE r_fals LOGIN;
CREATE ROLE r_n LOGIN;
CREATE ROLE r_tru LOGIN;
CREATE ROLE r_ye LOGIN;
GRANT SELECT ON patients TO r_garbage, r_of, r_fals, r_n, r_tru, r_ye;
});

# the preload removed, the server restarted: settings are not checked
$node->safe_psql('postgres', q{ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'});
$node->restart;
is($node->safe_psql('postgres', 'SELECT bh_audit._preloaded()'), 'f',
	'the server runs without bh_audit preloaded');
$node->safe_psql('postgres', q{
ALTER ROLE r_garbage SET bh_audit.enabled = 'maybe';
ALTER ROLE r_of SET bh_audit.enabled = 'of';
ALTER ROLE r_fals SET bh_audit.enabled = 'fals';
ALTER ROLE r_n SET bh_audit.enabled = 'n';
ALTER ROLE r_tru SET bh_audit.enabled = 'tru';
ALTER ROLE r_ye SET bh_audit.enabled = 'YE';
});
$node->safe_psql('postgres', q{ALTER SYSTEM RESET shared_preload_libraries});
$node->restart;
is($node->safe_psql('postgres', 'SELECT bh_audit._preloaded()'), 't',
	'the server runs with bh_audit preloaded again');

# what each role's sessions run with
my %in_force;
for my $role (qw(r_garbage r_of r_fals r_n r_tru r_ye))
{
	$in_force{$role} = $node->safe_psql('postgres', 'SHOW bh_audit.enabled',
		extra_params => [ '-U', $role ]);
}
is(join(',', map { "$_=$in_force{$_}" } sort keys %in_force),
	'r_fals=off,r_garbage=on,r_n=off,r_of=off,r_tru=on,r_ye=on',
	'the sessions of each role: off where the value is a prefix of off, false or no; on otherwise');

my $status = $node->safe_psql('postgres', q{
SELECT string_agg(problem, E'\n' ORDER BY problem) FROM bh_audit.capture_status()
 WHERE problem LIKE '%bh_audit.enabled%'});
for my $role (qw(r_of r_fals r_n))
{
	like($status, qr/ALTER ROLE $role SET bh_audit\.enabled/,
		"capture_status() names $role, whose sessions capture nothing");
}
for my $role (qw(r_tru r_ye))
{
	unlike($status, qr/ALTER ROLE $role SET/,
		"capture_status() does not name $role, whose setting is a prefix of true or yes");
}
unlike($status, qr/ALTER ROLE r_garbage SET bh_audit\.enabled = 'maybe': capture is off/,
	"capture_status() does not say capture is off for r_garbage, whose sessions capture (the value is refused at login)");

# r_garbage's read is captured indeed
my $mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('postgres', 'SELECT * FROM patients', extra_params => [ '-U', 'r_garbage' ]);
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events WHERE seq > $mark AND actor_id = 'r_garbage' AND action = 'READ'}),
	'1', "r_garbage's read is captured");

done_testing();
