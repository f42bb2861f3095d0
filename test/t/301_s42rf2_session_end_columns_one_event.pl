# Columns of a tagged table that PostgreSQL drops with the session's
# temporary objects when the session ends are recorded "as a DROP COLUMN
# is" (tagging.md): a statement dropping several columns of a table (DROP
# FUNCTION ... CASCADE of the function two generated columns call) gives one
# UPDATE event naming them all in dropped_columns (at the session's end:
# their dependency on the temporary function given by hand,
# depend_on_temp(), t/299).  At the session's end
# bh_note_dropped_column() (config_guard.c) writes an event for each column
# at once: two events for one table, each naming one column.
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

my $events = sub {
	my ($mark) = @_;
	return $node->safe_psql('postgres', qq{
SELECT count(*) || '|' || string_agg(concat_ws('|', action, event -> 'metadata' ->> 'statement',
         (SELECT string_agg(c, ',' ORDER BY c)
            FROM unnest(string_to_array(event -> 'metadata' ->> 'dropped_columns', ',')) c)), ';')
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND action <> 'READ'});
};

# the same drop by a statement: one event naming both
my $mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('postgres', q{
CREATE FUNCTION clinic.mask(text) RETURNS text IMMUTABLE LANGUAGE sql AS $$SELECT upper($1)$$;
ALTER TABLE clinic.notes ADD COLUMN m1 text GENERATED ALWAYS AS (clinic.mask(body)) STORED,
                         ADD COLUMN m2 text GENERATED ALWAYS AS (clinic.mask(body)) STORED;
DROP FUNCTION clinic.mask(text) CASCADE;
SELECT bh_audit.seal();
});
is($events->($mark), '1|UPDATE|DROP FUNCTION|m1,m2',
	'DROP FUNCTION ... CASCADE of two columns: one UPDATE event naming both');

# at the session's end
$mark = bh_seal_mark($node, 'postgres');
my ($ret, $out, $err) = $node->psql('postgres', q{
CREATE FUNCTION pg_temp.mask_tmp(text) RETURNS text IMMUTABLE
  LANGUAGE sql AS $$SELECT upper($1)$$;
ALTER TABLE clinic.notes ADD COLUMN g1 text GENERATED ALWAYS AS (upper(body)) STORED,
                         ADD COLUMN g2 text GENERATED ALWAYS AS (upper(body)) STORED;
SELECT depend_on_temp('pg_temp.mask_tmp(text)', 'clinic.notes', 'g1', 'g2');
}, extra_params => [ '-U', 'clinic_owner', '-v', 'ON_ERROR_STOP=1' ]);
is($ret, 0, 'the generated columns depending on a temporary function are added') or diag($err);
bh_wait_temp_dropped($node, 'clinic_owner', 'mask_tmp');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($events->($mark), '1|UPDATE|session end|g1,g2',
	'their drop at the session\'s end: one UPDATE event naming both, as the statement\'s');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');

done_testing();
