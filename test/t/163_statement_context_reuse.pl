# A statement's capture memory context is kept, emptied, for the next
# statement.  Forgetting a statement must not read the statement's own
# state (allocated in that context) after emptying it: with glibc's
# MALLOC_PERTURB_ (freed memory filled), or any allocator that reuses or
# poisons freed memory, such a read gives a garbage "spare" context and
# the next tagged statement of the session crashes.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

# freed memory is filled with 0x5a by glibc's free()
local $ENV{MALLOC_PERTURB_} = '165';
my $node = bh_node('statement_context_reuse');
$node->safe_psql('postgres', q{
CREATE TABLE notes (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO notes SELECT g, 'p' || (g % 7), 'b' FROM generate_series(1, 50) g;
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
});

my ($ret, $out, $err) = $node->psql('postgres', q{
SELECT count(*) FROM notes WHERE id < 5;
SELECT count(*) FROM notes WHERE id < 6;
SELECT count(*) FROM notes WHERE id < 7;});
is($ret, 0, 'three tagged statements in one session run');
is($out, "4\n5\n6", 'and return their rows');
unlike(slurp_file($node->logfile), qr/terminated by signal/,
	'no backend crashed');

$node->stop;
done_testing();
