# A refusal of the queue's sequence raised in a function that a statement on
# a tagged table calls is the sequence's DENIED and the statement's FAILURE
# (read-capture.md, the extension's own relations), whether the function is
# a PL/pgSQL one or a SQL function PostgreSQL runs; a SQL function the
# planner inlines into the statement is no call any more: its expressions
# are the statement's own (PostgreSQL shows no function in the error's
# context either, and the statement's own expressions are told from a
# function by that context, bh_record_statement_failure), so its refusal is
# the DENIED only, as a nextval() written in the statement is; with the
# simple and the extended protocol.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('inlined_function_sequence_refusal');
bh_app_table($node, 204, 'SELECT');
$node->safe_psql('postgres', q{
CREATE FUNCTION c204.f_plpgsql(v int) RETURNS bigint LANGUAGE plpgsql
AS $$ BEGIN RETURN nextval('bh_audit.queue_id_seq') + v; END $$;
CREATE FUNCTION c204.f_sql_run(v int) RETURNS bigint LANGUAGE sql SET search_path = c204
AS $$ SELECT nextval('bh_audit.queue_id_seq') + v $$;
CREATE FUNCTION c204.f_sql_inlined(v int) RETURNS bigint LANGUAGE sql
AS $$ SELECT nextval('bh_audit.queue_id_seq') + v $$;
});

for my $f ('f_plpgsql', 'f_sql_run', 'f_sql_inlined')
{
	my ($events, $what) = $f eq 'f_sql_inlined' ?
	  ('UPDATE|DENIED|bh_audit.queue_id_seq', 'the denial only, as in the statement itself') :
	  ('UPDATE|DENIED|bh_audit.queue_id_seq,READ|FAILURE|c204.pat', 'the denial and the FAILURE');
	bh_run_protocols($node, 'postgres', protocols => [qw(simple extended)],
		simple => "SELECT c204.$f(0) FROM c204.pat WHERE id = 1;",
		script => "SELECT c204.$f(:v) FROM c204.pat WHERE id = 1;\n",
		user => 'app204', set => 'v=0',
		check => sub {
			my ($protocol, $ret, $err, $got) = @_;
			like($err, qr/permission denied for sequence queue_id_seq/,
				"$protocol protocol, $f: refused");
			is($got, $events, "$protocol protocol, $f: $what");
		});
}
done_testing();
