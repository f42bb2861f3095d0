# A role is the cluster's, bh_audit's objects each database's: a DBA who
# installed bh_audit in database "clinic2" (and so owns its ledger, its tag
# catalog, its functions there) loses the superuser attribute through an
# ALTER ROLE ... NOSUPERUSER run while connected to another database
# ("postgres", which holds bh_audit too, owned by the bootstrap
# superuser).  As owner, no superuser any more, it could then grant itself
# what the trail keeps from it in "clinic2", or drop the schema there.
# Right: refused (42501) from any database, naming the role and the
# database; pg_shdepend records owners (and grantees) across databases.  A
# superuser owning only other objects there is let through, and so is the
# DBA once bh_audit's objects there are given to another superuser.  The
# bootstrap superuser, whose ownership pg_shdepend does not record, is
# judged too.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main');
$node->safe_psql('postgres', q{
CREATE ROLE dba LOGIN SUPERUSER;
CREATE ROLE dba_ledger LOGIN SUPERUSER;
CREATE ROLE app_super LOGIN SUPERUSER;
CREATE DATABASE clinic2;
});
$node->safe_psql('clinic2', q{
SET ROLE dba;
CREATE EXTENSION bh_audit;
RESET ROLE;
CREATE TABLE app_table (a int);
ALTER TABLE app_table OWNER TO app_super;
});

sub demote
{
	my ($db, $role) = @_;
	my ($ret, $out, $err) = $node->psql($db, "ALTER ROLE $role NOSUPERUSER");
	return $err;
}

sub super
{
	my ($role) = @_;
	return $node->safe_psql('postgres', "SELECT rolsuper FROM pg_authid WHERE rolname = '$role'");
}

my $err = demote('postgres', 'dba');
like($err, qr/cannot remove the superuser attribute from role "dba"/,
	'demoting the owner of bh_audit in another database is refused');
like($err, qr/database "clinic2"/, 'the refusal names that database');
is(super('dba'), 't', 'dba is a superuser still');

$err = demote('clinic2', 'dba');
like($err, qr/cannot remove the superuser attribute from role "dba"/,
	'demoting it connected to that database is refused too');
is(super('dba'), 't', 'dba is a superuser still (2)');

# Only the ledger there, given to another superuser.
$node->safe_psql('clinic2', 'ALTER TABLE bh_audit.events OWNER TO dba_ledger');
$err = demote('postgres', 'dba_ledger');
like($err, qr/cannot remove the superuser attribute from role "dba_ledger"/,
	'demoting the owner of the ledger of another database is refused');
is(super('dba_ledger'), 't', 'dba_ledger is a superuser still');
$node->safe_psql('clinic2', 'ALTER TABLE bh_audit.events OWNER TO dba');

# A superuser owning only an application's table there.
is(demote('postgres', 'app_super'), '', 'a superuser owning no object of bh_audit\'s is demoted');
is(super('app_super'), 'f', 'app_super is no superuser any more');

# The DBA's objects there given to the bootstrap superuser first.
$node->safe_psql('clinic2', 'REASSIGN OWNED BY dba TO CURRENT_USER');
is(demote('postgres', 'dba'), '', 'once bh_audit\'s objects are another superuser\'s, the DBA is demoted');
is(super('dba'), 'f', 'dba is no superuser any more');

# The bootstrap superuser, which owns bh_audit's objects in "postgres" and
# now in "clinic2", demoted from a database without the extension:
# PostgreSQL records no owner of its objects in pg_shdepend (the role is
# pinned), the grants to bh_audit_reader are there all the same.  (In a
# transaction rolled back, whatever happens.)
$node->safe_psql('postgres', 'CREATE DATABASE plain');
my $boot = $node->safe_psql('postgres', 'SELECT rolname FROM pg_authid WHERE oid = 10');
my ($ret, $out);
($ret, $out, $err) = $node->psql('plain', qq{BEGIN; ALTER ROLE "$boot" NOSUPERUSER; ROLLBACK;});
like($err, qr/cannot remove the superuser attribute from role "\Q$boot\E": it owns objects granted to bh_audit_(?:reader|admin) in database "(?:postgres|clinic2)"/,
	'demoting the bootstrap superuser from a database without bh_audit is refused');
is($node->safe_psql('postgres', 'SELECT rolsuper FROM pg_authid WHERE oid = 10'), 't',
	'the bootstrap superuser is a superuser still');

$node->stop;
done_testing();
