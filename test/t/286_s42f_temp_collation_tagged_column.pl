# A tagged table's owner (no superuser) retypes the tagged patient column to
# a collation of its session's temporary schema (ALTER COLUMN patient_id
# TYPE text COLLATE pg_temp.c: allowed, and recorded as a type change; a
# temporary *type* is refused, 0A000).  When the session ends, PostgreSQL
# drops the temporary schema with CASCADE, which would drop the column: the
# guard refuses the drop of a tagged column there, outside any statement,
# so the session's exit fails and leaves its temporary schema behind.  The
# next session given that temporary schema (the same backend slot) cleans
# it out as it creates its first temporary object, the guard refuses again,
# and that unrelated session cannot create a temporary table at all.
# Right: the column's temporary collation refused as a temporary type is
# (0A000, naming the table and the column), and other sessions' temporary
# tables unaffected.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main');
$node->safe_psql('postgres', q{
CREATE ROLE clinic_owner LOGIN;
CREATE ROLE clerk LOGIN;
CREATE SCHEMA clinic AUTHORIZATION clinic_owner;
CREATE TABLE clinic.notes (id int PRIMARY KEY, patient_id text, body text);
ALTER TABLE clinic.notes OWNER TO clinic_owner;
INSERT INTO clinic.notes VALUES (1, 'pat_1', 'a');
SELECT bh_audit.tag_table('clinic.notes', 'Note', 'id', 'patient_id');
});

my ($ret, $out, $err) = $node->psql('postgres', q{
CREATE COLLATION pg_temp.c_tmp (provider = libc, locale = 'C');
ALTER TABLE clinic.notes ALTER COLUMN patient_id TYPE text COLLATE pg_temp.c_tmp;
}, extra_params => [ '-U', 'clinic_owner', '-v', 'ON_ERROR_STOP=1' ]);
like($err,
	qr/ERROR:  column "patient_id" of tagged table "notes" cannot depend on temporary collation c_tmp\n/,
	"the owner's retyping of the tagged column to a temporary collation: refused");
is($node->safe_psql('postgres', q{
SELECT collname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation
 WHERE attrelid = 'clinic.notes'::regclass AND attname = 'patient_id'}), 'default',
	'the tagged column keeps its collation');

# Let the owner's backend exit (and fail or not in its cleanup).
$node->poll_query_until('postgres',
	q{SELECT count(*) = 0 FROM pg_stat_activity WHERE usename = 'clinic_owner'});

# Later sessions of another role, each a new backend: their temporary tables work.
for my $i (1 .. 3)
{
	my ($r, $o, $e) = $node->psql('postgres', q{CREATE TEMP TABLE scratch (x int)},
		extra_params => [ '-U', 'clerk' ]);
	is($r, 0, "a later session ($i) of another role creates a temporary table")
	  or diag($e);
}
is($node->safe_psql('postgres', q{
SELECT count(*) FROM pg_collation WHERE collname = 'c_tmp'}), '0',
	'no temporary collation left behind by the ended session');

done_testing();
