# ALTER ROLE ... NOSUPERUSER run in one database, of a superuser that owns,
# in another database holding bh_audit, only one of bh_audit's objects that
# were granted to no one: the tag catalog, the queue (and so its identity
# sequence), the ledger's home, the schema, or the extension itself.  As
# owner, no superuser any more, it could grant itself the tag catalog or
# the queue, or drop the schema.  Right: refused from any database, as it
# is connected to that database (t/283 covers the objects granted to
# bh_audit_reader there).  The install script grants bh_audit_reader a
# privilege on each of those objects that it holds already or that shows
# nothing (USAGE of the schema, which PUBLIC has; REFERENCES of a column of
# each table no unique index covers), so that pg_shdepend records them.
# The extension, which has no privileges, is not seen from elsewhere: its
# owner, when it owns none of those objects, is refused in its database
# only (from elsewhere an extension cannot be told from another, and
# taking any for bh_audit's refused the owner of one in each of two
# databases from everywhere: t/333).  A superuser owning only an
# application's table, schema or another extension is demoted.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main');
my $boot = $node->safe_psql('postgres', 'SELECT rolname FROM pg_authid WHERE oid = 10');
$node->safe_psql('postgres', q{
CREATE DATABASE clinic2;
CREATE DATABASE clinic3;
CREATE DATABASE plain;
});
$node->safe_psql('clinic2', 'CREATE EXTENSION bh_audit');

sub demote
{
	my ($db, $role) = @_;
	my ($ret, $out, $err) = $node->psql($db, "ALTER ROLE $role NOSUPERUSER");
	return $err;
}

# An attempt rolled back, whatever its outcome: its error.
sub try_demote
{
	my ($db, $role) = @_;
	my ($ret, $out, $err) = $node->psql($db, "BEGIN; ALTER ROLE $role NOSUPERUSER; ROLLBACK;");
	return $err;
}

sub super
{
	my ($role) = @_;
	return $node->safe_psql('postgres', "SELECT rolsuper FROM pg_authid WHERE rolname = '$role'");
}

# Each of bh_audit's objects that no grant names, owned by a superuser of
# its own in "clinic2".
my @cases = (
	[ 's_tags',   'ALTER TABLE bh_audit.tags OWNER TO %s' ],
	[ 's_queue',  'ALTER TABLE bh_audit.queue OWNER TO %s' ],
	[ 's_home',   'ALTER TABLE bh_audit.ledger_home OWNER TO %s' ],
	[ 's_schema', 'ALTER SCHEMA bh_audit OWNER TO %s' ],
);
foreach my $case (@cases)
{
	my ($role, $alter) = @$case;
	$node->safe_psql('postgres', "CREATE ROLE $role SUPERUSER");
	$node->safe_psql('clinic2', sprintf($alter, $role));
	foreach my $db ('postgres', 'plain')
	{
		like(try_demote($db, $role),
			qr/cannot remove the superuser attribute from role "$role": it owns .* in database "clinic2"/,
			"$role: demoting it from database $db is refused");
	}
	like(try_demote('clinic2', $role), qr/cannot remove the superuser attribute from role "$role"/,
		"$role: demoting it in clinic2 is refused");
	$node->safe_psql('clinic2', sprintf($alter, qq{"$boot"}));
	is(demote('postgres', $role), '', "$role: given back, it is demoted");
	is(super($role), 'f', "$role: no superuser any more");
}

# The extension itself, owned by the role that created it, its objects
# given to the bootstrap superuser one by one.
$node->safe_psql('postgres', 'CREATE ROLE s_ext SUPERUSER');
$node->safe_psql('clinic3', qq{
SET ROLE s_ext;
CREATE EXTENSION bh_audit;
RESET ROLE;
DO \$\$
DECLARE r record;
BEGIN
  FOR r IN SELECT pg_describe_object(classid, objid, 0) AS d, classid::regclass AS c
             FROM pg_depend WHERE refclassid = 'pg_extension'::regclass
              AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'bh_audit')
              AND deptype = 'e'
  LOOP
    IF r.c = 'pg_proc'::regclass THEN
      EXECUTE 'ALTER ' || r.d || ' OWNER TO "$boot"';
    ELSIF r.c = 'pg_class'::regclass AND r.d NOT LIKE 'sequence %' THEN
      EXECUTE 'ALTER TABLE ' || substring(r.d from position(' ' in r.d) + 1) || ' OWNER TO "$boot"';
    END IF;
  END LOOP;
END \$\$;
ALTER SCHEMA bh_audit OWNER TO "$boot";
});
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_shdepend
   WHERE refobjid = 's_ext'::regrole AND deptype = 'o'}), '1',
	's_ext owns one object of the cluster (the extension)');
# (the documented gap: not seen from elsewhere)
foreach my $db ('postgres', 'plain')
{
	is(try_demote($db, 's_ext'), '',
		"s_ext: the owner of the extension alone is not seen from database $db");
}
like(try_demote('clinic3', 's_ext'), qr/cannot remove the superuser attribute from role "s_ext": it owns extension bh_audit/,
	's_ext: demoting it in clinic3 is refused');

# No false refusal: a superuser owning an application's table, schema and
# another extension in a database without bh_audit, and an application's
# table and schema in one with it.
$node->safe_psql('postgres', 'CREATE ROLE s_app SUPERUSER');
$node->safe_psql('plain', q{
SET ROLE s_app;
CREATE SCHEMA app;
CREATE TABLE app.t (a int);
CREATE EXTENSION cube;
});
$node->safe_psql('clinic2', q{
SET ROLE s_app;
CREATE SCHEMA app;
CREATE TABLE app.t (a int);
CREATE SEQUENCE app.s;
});
is(demote('postgres', 's_app'), '', 'a superuser owning only other objects is demoted');
is(super('s_app'), 'f', 's_app: no superuser any more');

# Another extension owned in a database holding bh_audit: demoted from
# elsewhere and in that database.
$node->safe_psql('postgres', 'CREATE ROLE s_cube SUPERUSER');
$node->safe_psql('clinic2', 'SET ROLE s_cube; CREATE EXTENSION cube');
is(try_demote('postgres', 's_cube'), '',
	'the owner of another extension in a database holding bh_audit: demoted from elsewhere');
is(demote('clinic2', 's_cube'), '', 'demoted in that database');
is(super('s_cube'), 'f', 's_cube: no superuser any more');

$node->stop;
done_testing();
