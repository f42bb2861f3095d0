# Failures at Bind: with the extended query protocol a parameter is
# converted when the Bind message arrives, before any table is opened or
# locked and before planning.  A statement on a tagged table whose
# parameter does not convert is a failed access like any other: recorded
# as FAILURE, the value blanked out of the message.  pgbench -M prepared
# sends its variables as parameters of prepared statements.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('bind');
$node->safe_psql('postgres', q{
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id int, body text);
INSERT INTO notes VALUES (1, 10, 'x'), (2, 20, 'y');
CREATE TABLE plain (id int);
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
});
my $mark = $node->safe_psql('postgres', 'SELECT bh_audit.seal(); SELECT max(seq) FROM bh_audit.events');
$mark = (split /\n/, $mark)[-1];

sub events_since
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT action, outcome, coalesce(error_type, '-'), coalesce(patient_id, '-')
  FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'Note' ORDER BY seq});
}

# A parameter that converts: a read, as with the simple protocol.
$node->pgbench('-n -M prepared -t 1 -D id=1', 0, [qr{processed: 1/1}], [qr{^$}],
	'a prepared read with a good parameter',
	{ '032_good' => 'SELECT body FROM notes WHERE note_id = :id;' });
is(events_since(), 'READ|SUCCESS|-|10', 'the read is recorded');
$mark = $node->safe_psql('postgres', 'SELECT max(seq) FROM bh_audit.events');

# Parameters that do not convert: the read and the update fail at Bind.
$node->pgbench('-n -M prepared -t 1 -D id=PHI_bind_1', 2, [qr{}],
	[qr{invalid input syntax for type integer}], 'a read whose parameter does not convert',
	{ '032_read' => 'SELECT body FROM notes WHERE note_id = :id;' });
$node->pgbench('-n -M prepared -t 1 -D id=PHI_bind_2', 2, [qr{}],
	[qr{invalid input syntax for type integer}], 'an update whose parameter does not convert',
	{ '032_update' => "UPDATE notes SET body = 'z' WHERE note_id = :id;" });
$node->pgbench('-n -M prepared -t 1 -D id=PHI_bind_3', 2, [qr{}],
	[qr{invalid input syntax for type integer}], 'an untagged table, the same failure',
	{ '032_plain' => 'SELECT id FROM plain WHERE id = :id;' });
is(events_since(),
	"READ|FAILURE|invalid_text_representation|-\nUPDATE|FAILURE|invalid_text_representation|-",
	'one FAILURE per failed statement on the tagged table, with its action');
is($node->safe_psql('postgres', qq{
SELECT DISTINCT event -> 'outcome' ->> 'error_message' FROM bh_audit.events
 WHERE seq > $mark AND outcome = 'FAILURE'}),
	'invalid input syntax for type integer: ""', 'the value is blanked out of the message');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM bh_audit.events WHERE strpos(event::text, 'PHI_bind') > 0"),
	'0', 'no parameter value in any event');

# A statement prepared once and bound all session long stays known while
# the session parses many others.  Transaction 1 runs A (noted at Parse)
# and parses 8,200 other statements on the table: the list's first
# generation fills and becomes the previous one.  Transaction 2 runs A
# again (carried into the current generation) and parses 8,200 more: the
# first generation is forgotten.  Transaction 3 binds A with a value that
# does not convert.  pgbench prepares a command when it first runs it, so
# each set is parsed in its own transaction; the others read no row.
$mark = $node->safe_psql('postgres', 'CREATE SEQUENCE gen; SELECT max(seq) FROM bh_audit.events');
$mark = (split /\n/, $mark)[-1];
my $script = "SELECT nextval('gen') AS n \\gset\n"
  . "SELECT CASE WHEN :n = 3 THEN 'PHI_bind_gen' ELSE '1' END AS v \\gset\n"
  . "SELECT body FROM notes WHERE note_id = :v;\n";
for my $set (1, 2)
{
	$script .= ($set == 1 ? "\\if :n = 1\n" : "\\elif :n = 2\n");
	$script .= "SELECT body FROM notes WHERE note_id = :zero + ${set}00000 + $_;\n" for 1 .. 8200;
}
$script .= "\\endif\n";
$node->pgbench('-n -M prepared -t 3 -D zero=0', 2, [qr{}],
	[qr{invalid input syntax for type integer}], 'a long-lived prepared statement fails at Bind',
	{ '032_generations' => $script });
is(events_since(),
	"READ|SUCCESS|-|10\nREAD|SUCCESS|-|10\nREAD|FAILURE|invalid_text_representation|-",
	'its failure is recorded after two generations of other statements');

# Failures are seen as PostgreSQL raises them, whatever the server log
# keeps.  With log_min_messages above error (here from the role's
# configuration, applied as a session starts) a statement that fails in
# parse analysis as its session's only statement, and a parameter that does
# not convert at Bind, are recorded all the same; the setting is no
# configuration event.  So is a statement that fails in parse analysis
# right after an error (PostgreSQL empties its error context stack as it
# recovers), in the same transaction block rolled back, and as the first
# statement after another session's error.
$mark = $node->safe_psql('postgres', 'SELECT bh_audit.seal(); SELECT max(seq) FROM bh_audit.events');
$mark = (split /\n/, $mark)[-1];
$node->safe_psql('postgres', 'ALTER ROLE CURRENT_USER SET log_min_messages = fatal');
my ($ret) = $node->psql('postgres', "SELECT body FROM notes WHERE note_id = 'PHI_parse_5'");
is($ret, 3, 'a statement that fails in parse analysis, errors kept out of the server log');
$node->pgbench('-n -M prepared -t 1 -D id=PHI_bind_4', 2, [qr{}], [qr{}],
	'a read whose parameter does not convert, errors kept out of the server log',
	{ '032_unlogged' => 'SELECT body FROM notes WHERE note_id = :id;' });
$node->safe_psql('postgres', 'ALTER ROLE CURRENT_USER RESET log_min_messages');
($ret) = $node->psql('postgres', q{
SELECT 1 / 0;
SELECT body FROM notes WHERE note_id = 'PHI_parse_6';
BEGIN;
SELECT 1 / 0;
ROLLBACK;
SELECT body FROM notes WHERE note_id = 'PHI_parse_7';
}, on_error_stop => 0);
is($ret, 0, 'psql went on after each error');
is(events_since(), "READ|FAILURE|invalid_text_representation|-\n" x 3
	  . "READ|FAILURE|invalid_text_representation|-",
	'each failure is recorded once');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM bh_audit.events WHERE resource_type = 'AuditConfiguration'"
		  . " AND resource_id = 'log_min_messages'"),
	'0', 'the log setting is no configuration event');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM bh_audit.events WHERE strpos(event::text, 'PHI_') > 0"),
	'0', 'no value in any event');

is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS', 'the chain verifies');

$node->stop;
done_testing();
