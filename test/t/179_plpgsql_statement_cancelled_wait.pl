# A PL/pgSQL function's statement (or a DO block's) whose parse analysis
# waits for the lock of a tagged table it names, the wait ended by
# statement_timeout or a cancel request while the client's portal runs:
# a READ FAILURE (query_canceled) on that table, as the same wait ended by
# lock_timeout records (lock_not_available; t/034), and as the same wait
# of a LANGUAGE sql function's body ended by a cancel records since
# b34c87a (t/173; docs/read-capture.md, "Lock waits").  The statement's
# text, which a cancel gets no internal query for, is in the error's
# context ("SQL statement", "SQL expression") and in the parser's state
# that opens the table.  Controls: lock_timeout, the SQL function, and the
# same PL/pgSQL waits on an untagged table (nothing).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('plpgsql_cancelled_wait');
$node->safe_psql('postgres', q{
CREATE SCHEMA pw;
CREATE TABLE pw.notes (id int PRIMARY KEY, patient text, body text);
INSERT INTO pw.notes VALUES (1, 'p1', 'b1');
CREATE TABLE pw.plain (id int);
SELECT bh_audit.tag_table('pw.notes', 'PwNote', 'id', 'patient');
CREATE FUNCTION pw.into_pl() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE c bigint;
BEGIN SELECT count(*) INTO c FROM pw.notes; RETURN c; END $$;
CREATE FUNCTION pw.expr_pl() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN RETURN (SELECT count(*) FROM pw.notes); END $$;
CREATE FUNCTION pw.plain_pl() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE c bigint;
BEGIN SELECT count(*) INTO c FROM pw.plain; RETURN c; END $$;
CREATE FUNCTION pw.cnt_sql() RETURNS bigint LANGUAGE sql VOLATILE
  AS 'SELECT count(*) FROM pw.notes';
});
my $mark = bh_seal_mark($node, 'postgres');

# each call in a new session: the function's statement is analysed anew
my %calls = (
	into => 'SELECT pw.into_pl()',
	expr => 'SELECT pw.expr_pl()',
	do => 'DO $$ BEGIN PERFORM count(*) FROM pw.notes; END $$',
	untagged => 'SELECT pw.plain_pl()',
	sql => 'SELECT pw.cnt_sql()');

bh_lock_waits_ended($node, 'LOCK TABLE pw.notes, pw.plain IN ACCESS EXCLUSIVE MODE', \%calls);

my $failures = bh_failures_since($node, 'postgres', $mark, message => 0);
foreach my $tag (qw(cx lt st))
{
	my $e = $tag eq 'lt' ? 'lock_not_available' : 'query_canceled';
	foreach my $call (qw(do expr into sql))
	{
		like($failures, qr/^${tag}_$call\|READ\|FAILURE\|$e\|pw\.notes$/m,
			"$tag $call: a READ FAILURE on the tagged table");
	}
	unlike($failures, qr/^${tag}_untagged\|/m, "$tag untagged: nothing");
}

done_testing();
