# Failures on a tagged table with many partitions: every partition's failure
# is recorded, whichever of the (hundreds of) tagged relations it is.  The
# error paths look tags up in the backend's cache without a cap on how many
# they consider (a fixed-size scan once missed some of them).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $parts = 300;
my $node = bh_node('partitions');
$node->safe_psql('postgres', qq{
CREATE TABLE stays (stay_id int, patient_id int) PARTITION BY LIST (stay_id);
SELECT format('CREATE TABLE stays_%s PARTITION OF stays FOR VALUES IN (%s)', g, g)
  FROM generate_series(1, $parts) g \\gexec
SELECT bh_audit.tag_table('stays', 'EpisodeOfCare', 'stay_id', 'patient_id');
});

# One session: each partition named in a statement that fails in parse
# analysis (the error watch path), then one that fails while planning (the
# planner's PG_CATCH path).
my $script = '';
$script .= "SELECT * FROM stays_$_ WHERE stay_id = 'p$_';\n" for 1 .. $parts;
$script .= "SELECT * FROM stays_$_ WHERE stay_id = 1 / 0;\n" for 1 .. $parts;
my ($ret, $out, $err) = $node->psql('postgres', $script, on_error_stop => 0);
my @errors = ($err =~ /ERROR:/g);
is(scalar(@errors), 2 * $parts, 'every statement failed');

$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT error_type, count(*), count(DISTINCT event -> 'metadata' ->> 'table')
  FROM bh_audit.events WHERE outcome = 'FAILURE' AND resource_type = 'EpisodeOfCare'
 GROUP BY error_type ORDER BY error_type}),
	"division_by_zero|$parts|1\ninvalid_text_representation|$parts|1",
	'one FAILURE per failing statement, each naming the tagged table');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM bh_audit.events WHERE strpos(event::text, '''p') > 0}),
	'0', 'no literal of a failing statement in any event');
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS', 'the chain verifies');

# A reload of the tag cache in the middle of a statement: a cursor over a
# tagged table, fetched across ANALYZEs of it (each invalidates the cache;
# the next statement reloads it, all 300 partitions).  The scan keeps using
# its patient column's output function from the load it started with.
$node->safe_psql('postgres', q{
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id int);
INSERT INTO notes SELECT g, 500 + g FROM generate_series(1, 8) g;
SELECT bh_audit.tag_table('notes', 'CursorNote', 'note_id', 'patient_id');
});
($ret, $out, $err) = $node->psql('postgres', q{
BEGIN;
DECLARE c CURSOR FOR SELECT patient_id FROM notes ORDER BY note_id;
FETCH 2 FROM c;
ANALYZE notes;
SELECT count(*) FROM stays;
FETCH 2 FROM c;
INSERT INTO notes VALUES (100, 600);
ANALYZE notes;
SELECT count(*) FROM stays_1;
FETCH 2 FROM c;
COMMIT;
});
is($ret, 0, 'the cursor is fetched across reloads of the tag cache');
is(join(',', split(/\n/, $out)), '501,502,0,503,504,0,505,506', 'with the rows it read (and the counts between)');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', q{
SELECT string_agg(patient_id, ',' ORDER BY patient_id) FROM bh_audit.events
 WHERE resource_type = 'CursorNote' AND action = 'READ'}),
	'501,502,503,504,505,506', 'and each patient it read is attributed');

$node->stop;
done_testing();
