# A column of a tagged table that PostgreSQL drops when the session ends,
# with the session's temporary objects (CASCADE, outside any statement), is
# recorded as a DROP COLUMN is: one table-wide UPDATE event naming it in
# dropped_columns (statement "session end"), with the row estimate.  Before,
# bh_note_dropped_column() (config_guard.c) returned with no statement
# running: the column and its values went with no event.  The path used: a
# generated column whose expression depends on a function of the session's
# temporary schema, given by hand (depend_on_temp(), BhAuditTest.pm: the
# guard refuses a generated column calling one), standing for any
# dependency the checks miss (its ADD COLUMN is a READ event, as it
# computes the column over the rows).
# Likewise an attribute of a column's row type dropped there: the column's
# values change, one UPDATE event naming it in changed_columns
# (bh_composite_changed(), column_guard.c).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main');
bh_clinic_notes($node);
bh_temp_dependency_function($node);

my $mark = bh_seal_mark($node, 'postgres');
my ($ret, $err) = bh_masked_session($node);
is($ret, 0, 'the generated column depending on a temporary function is added') or diag($err);
bh_masked_dropped($node, $mark,
	'the column\'s drop at the session\'s end: one UPDATE event naming it');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');

# A column of the tagged table of a table's row type, whose generated
# column calls a function of the temporary schema: at the session's end the
# row type loses that attribute, and the tagged column's values change.
# Either refused when added, or recorded then (an UPDATE naming it).
$node->safe_psql('postgres', q{
CREATE TABLE clinic.addr (street text, city text);
ALTER TABLE clinic.addr OWNER TO clinic_owner;
});
$mark = bh_seal_mark($node, 'postgres');
my $out;
($ret, $out, $err) = $node->psql('postgres', q{
CREATE FUNCTION pg_temp.mask_tmp(text) RETURNS text IMMUTABLE
  LANGUAGE sql AS $$SELECT upper($1)$$;
ALTER TABLE clinic.addr ADD COLUMN masked text GENERATED ALWAYS AS (pg_temp.mask_tmp(street)) STORED;
ALTER TABLE clinic.notes ADD COLUMN home clinic.addr;
UPDATE clinic.notes SET home = ROW('main st', 'north', NULL);
}, extra_params => [ '-U', 'clinic_owner', '-v', 'ON_ERROR_STOP=1' ]);
bh_wait_temp_dropped($node, 'clinic_owner', 'mask_tmp');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
ok($err =~ /column "home" of tagged table "notes" cannot / || $node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'Note' AND action = 'UPDATE' AND resource_id IS NULL
   AND event -> 'metadata' ->> 'statement' = 'session end'
   AND event -> 'metadata' ->> 'changed_columns' = 'home'}) eq '1',
	'a column whose row type loses an attribute at the session\'s end: refused, or recorded');

# the tagged columns and the other rows are untouched; later sessions work
is($node->safe_psql('postgres', q{SELECT string_agg(patient_id || body, ',' ORDER BY id) FROM clinic.notes}),
	'pat_1a,pat_2b', 'the other columns keep their values');
($ret, $out, $err) = $node->psql('postgres', q{CREATE TEMP TABLE scratch (x int)},
	extra_params => [ '-U', 'clinic_owner' ]);
is($ret, 0, 'a later session creates a temporary table') or diag($err);

done_testing();
