# A SQL function's body of several statements whose parse analysis waits for
# the lock of an untagged table its first statement names, the wait ended by
# statement_timeout, lock_timeout or a cancel request ("SQL function ...
# during startup": the function run by the executor, or folded by the
# planner): the failing statement is the first, which names no tagged
# table; the second, naming one, was never analysed.  No FAILURE, as for a
# client's message of the same two statements (docs/read-capture.md, "A
# message of several statements": only the statement that raises the error
# is looked at).  Control: a body of one statement naming both tables,
# whose wait on the untagged one is a FAILURE on the tagged one (the lock
# rule: every tagged table the failing statement names counts).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('body_statement_lock_wait');
$node->safe_psql('postgres', q{
CREATE SCHEMA bs;
CREATE TABLE bs.notes (id int PRIMARY KEY, patient text, body text);
INSERT INTO bs.notes VALUES (1, 'p1', 'b1');
CREATE TABLE bs.plain (id int);
SELECT bh_audit.tag_table('bs.notes', 'BsNote', 'id', 'patient');
CREATE FUNCTION bs.two_v() RETURNS bigint LANGUAGE sql VOLATILE
  AS 'SELECT count(*) FROM bs.plain; SELECT count(*) FROM bs.notes';
CREATE FUNCTION bs.two_i() RETURNS bigint LANGUAGE sql IMMUTABLE
  AS 'SELECT count(*) FROM bs.plain; SELECT count(*) FROM bs.notes';
CREATE FUNCTION bs.one_v() RETURNS bigint LANGUAGE sql VOLATILE
  AS 'SELECT count(*) FROM bs.plain p, bs.notes n';
});
my $mark = bh_seal_mark($node, 'postgres');

my %calls = (
	run => 'SELECT bs.two_v()',
	folded => 'SELECT bs.two_i()',
	client => 'SELECT count(*) FROM bs.plain\; SELECT count(*) FROM bs.notes',
	one => 'SELECT bs.one_v()');

bh_lock_waits_ended($node, 'LOCK TABLE bs.plain IN ACCESS EXCLUSIVE MODE', \%calls);

my $failures = bh_failures_since($node, 'postgres', $mark, message => 0);
foreach my $tag (qw(cx lt st))
{
	my $e = $tag eq 'lt' ? 'lock_not_available' : 'query_canceled';
	foreach my $call (qw(client folded run))
	{
		unlike($failures, qr/^${tag}_$call\|/m,
			"$tag $call: no FAILURE (the failing statement names no tagged table)");
	}
	like($failures, qr/^${tag}_one\|READ\|FAILURE\|$e\|bs\.notes$/m,
		"$tag one: the tagged table its one statement names fails");
}

done_testing();
