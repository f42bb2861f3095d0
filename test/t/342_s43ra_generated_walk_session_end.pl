# Two things the second read of the generated column check
# (column_guard.c, bh_generated_is_temp()) showed with a session's end:
#   - the false refusal of sql/99_s43ra_generated_composite_false_refusal
#     is false: a generated column reading a field of a composite type,
#     after ALTER TYPE ... ADD ATTRIBUTE of a pg_temp type, keeps its
#     values at the session's end (PostgreSQL drops the attribute only),
#     nothing recorded;
#   - BhAuditTest.pm's depend_on_temp() stands for a real dependency: the
#     pg_depend row it adds is the one PostgreSQL records for a generated
#     column calling a function (pg_attrdef, normal, whole objects), and
#     the session's end drops both columns alike.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main');
bh_temp_dependency_function($node, 'postgres');
$node->safe_psql('postgres', q{
CREATE SCHEMA clinic;
CREATE TYPE clinic.comp AS (a text);
CREATE TABLE clinic.notes (id int PRIMARY KEY, patient_id text, body text,
  g text GENERATED ALWAYS AS ((ROW(body)::clinic.comp).a) STORED);
INSERT INTO clinic.notes (id, patient_id, body) VALUES (1, 'pat_1', 'a'), (2, 'pat_2', 'b');
SELECT bh_audit.tag_table('clinic.notes', 'Note', 'id', 'patient_id');
CREATE TABLE clinic.real_dep (id int, body text, g text GENERATED ALWAYS AS (body) STORED);
CREATE TABLE clinic.hand_dep (id int, body text, g text GENERATED ALWAYS AS (body) STORED);
});

sub session
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql, extra_params => [ '-v', 'VERBOSITY=terse' ]);

	$node->poll_query_until('postgres', q{
SELECT NOT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                   WHERE n.nspname LIKE 'pg_temp%' AND p.proname LIKE 'tmp_%')
   AND NOT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                   WHERE n.nspname LIKE 'pg_temp%' AND t.typname LIKE 'tmp_%')})
	  or diag('the temporary schema was not emptied');
	return ($out, $err);
}

# 1. the composite type's attribute of a temporary type
my $mark = bh_seal_mark($node, 'postgres');
my ($out, $err) = session(q{
CREATE TYPE pg_temp.tmp_t AS (x int);
ALTER TYPE clinic.comp ADD ATTRIBUTE y pg_temp.tmp_t;
});
is($err, '', 'ALTER TYPE ... ADD ATTRIBUTE of a temporary type: allowed');
is($node->safe_psql('postgres', q{SELECT string_agg(g, ',' ORDER BY id) FROM clinic.notes}),
	'a,b', 'the generated column keeps its values at the session\'s end');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND action <> 'READ'}),
	'0', 'nothing recorded: nothing was lost');

# 2. depend_on_temp() against a real generated column calling a pg_temp function
($out, $err) = session(q{
CREATE FUNCTION pg_temp.tmp_up(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT upper($1)$$;
ALTER TABLE clinic.real_dep DROP COLUMN g;
ALTER TABLE clinic.real_dep ADD COLUMN g text GENERATED ALWAYS AS (pg_temp.tmp_up(body)) STORED;
SELECT public.depend_on_temp('pg_temp.tmp_up(text)'::regprocedure, 'clinic.hand_dep', 'g');
SELECT string_agg(DISTINCT concat_ws('|', d.classid::regclass, d.objsubid, d.refclassid::regclass,
                                     d.refobjsubid, d.deptype), ';')
  FROM pg_depend d JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
 WHERE ad.adrelid IN ('clinic.real_dep'::regclass, 'clinic.hand_dep'::regclass)
   AND d.refclassid = 'pg_proc'::regclass AND d.refobjid = 'pg_temp.tmp_up(text)'::regprocedure;
});
like($out, qr/^pg_attrdef\|0\|pg_proc\|0\|n$/m, 'the same pg_depend row, by hand and by PostgreSQL');
is($node->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM pg_attribute WHERE attrelid = 'clinic.real_dep'::regclass AND attname = 'g' AND NOT attisdropped)
    || '|' || (SELECT count(*) FROM pg_attribute WHERE attrelid = 'clinic.hand_dep'::regclass AND attname = 'g' AND NOT attisdropped)}),
	'0|0', 'the session\'s end dropped both columns');

done_testing();
