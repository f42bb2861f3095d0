# ALTER ROLE ... NOSUPERUSER of a superuser that owns none of bh_audit's
# objects, only another extension (citext, created by that role) in each of
# two databases holding bh_audit ("postgres" and "clinic2"; the same comes
# of an extension the role created in template1 before those databases
# were created from it).  From any database, an extension the role owns in
# another database holding bh_audit is taken for bh_audit's
# (bh_extension_elsewhere(), own_acl.c), and the docs say the owner of
# another extension there "is refused too from elsewhere and demoted when
# the statement runs in that database", which the error's HINT repeats
# ("Run the statement in database ..."): run in "postgres", it is refused
# for "clinic2"'s extension; run in "clinic2", for "postgres"'s; run
# anywhere else, for either.  The role can be demoted from no database.
# Right: a role that owns none of bh_audit's objects is demoted when the
# statement runs in a database the docs point to.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('owner_nosuperuser_other_extensions');
$node->safe_psql('postgres', q{
CREATE DATABASE clinic2;
CREATE DATABASE plain;
CREATE ROLE dba SUPERUSER LOGIN;
});
$node->safe_psql('clinic2', 'CREATE EXTENSION bh_audit');
foreach my $db ('postgres', 'clinic2')
{
	$node->safe_psql($db, 'CREATE EXTENSION citext', extra_params => [ '-U', 'dba' ]);
}

# An attempt rolled back, whatever its outcome: its error.
sub try_demote
{
	my ($db) = @_;
	my ($ret, $out, $err) = $node->psql($db, 'BEGIN; ALTER ROLE dba NOSUPERUSER; ROLLBACK;');
	return $err;
}

is($node->safe_psql('clinic2',
		q{SELECT count(*) FROM pg_extension WHERE extname = 'bh_audit' AND extowner = 'dba'::regrole}),
	'0', 'dba does not own bh_audit in clinic2');
is($node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_extension WHERE extname = 'bh_audit' AND extowner = 'dba'::regrole}),
	'0', 'nor in postgres');

my %err = map { $_ => try_demote($_) } ('postgres', 'clinic2', 'plain');
ok((grep { $err{$_} eq '' } keys %err) > 0, 'dba can be demoted from some database')
  or diag(join("\n", map { "$_: $err{$_}" } sort keys %err));
# following the error's HINT ("Run the statement in database ...") works
my ($hinted) = $err{plain} =~ /HINT:  Run the statement in database "([^"]+)"/;
$hinted //= 'none';
is($hinted eq 'none' ? '' : try_demote($hinted), '',
	"run in the database the HINT names ($hinted), dba is demoted");

$node->stop;
done_testing();
