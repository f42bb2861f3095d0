# A client's statement with parameters on the ledger, directly or through a
# view over it (bv.ve), that fails at Bind (extended query protocol, a
# parameter that does not convert) records its FAILURE on bh_audit.events
# (resource type AuditLog), in a database where nothing is tagged as in one
# where a table is; and so does EXECUTE of a PREPARE whose parameter does
# not convert (docs/read-capture.md).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('ledger_bind_no_tags');
$node->safe_psql('postgres', q{
CREATE SCHEMA bv;
CREATE VIEW bv.ve AS SELECT seq FROM bh_audit.events;
CREATE VIEW bv.vv AS SELECT seq FROM bv.ve;
CREATE TABLE public.pt (id int PRIMARY KEY, patient text);
CREATE TABLE public.other (id int PRIMARY KEY);
CREATE SEQUENCE runs;
});
my $msg = 'invalid input syntax for type integer: "x"';

sub failures_since
{
	my ($mark) = @_;
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', actor_id, action, outcome, error_type, resource_type,
                            event -> 'metadata' ->> 'table'),
                  E'\n' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND outcome <> 'SUCCESS'});
}

sub cases
{
	my ($sfx) = @_;
	my %bind = (
		"bind_direct$sfx" => "SELECT seq FROM bh_audit.events WHERE seq = :v::int;\n",
		"bind_view$sfx" => "SELECT seq FROM bv.ve WHERE seq = :v::int;\n",
		"bind_view_view$sfx" => "SELECT seq FROM bv.vv WHERE seq = :v::int;\n",
		"bind_subquery$sfx" => "SELECT o.id FROM public.other o WHERE o.id = :v AND EXISTS (SELECT 1 FROM bh_audit.events e WHERE e.seq = o.id);\n");
	for my $name (sort keys %bind)
	{
		my $mark = bh_seal_mark($node, 'postgres');
		bh_bind_fails_last($node, $name, 2, $bind{$name});
		is(failures_since($mark), "$name|READ|FAILURE|invalid_text_representation|AuditLog|bh_audit.events",
			"$name: READ FAILURE on the ledger");
	}
	# the SQL form: the parameter converted by EXECUTE
	my %sql = (
		"execute_direct$sfx" => q{PREPARE qd(bigint) AS SELECT seq FROM bh_audit.events WHERE seq = $1; EXECUTE qd('x')},
		"execute_view$sfx" => q{PREPARE qv(bigint) AS SELECT seq FROM bv.ve WHERE seq = $1; EXECUTE qv('x')});
	for my $name (sort keys %sql)
	{
		my $mark = bh_seal_mark($node, 'postgres');
		$node->psql('postgres', "BEGIN; SELECT bh_audit.set_context(actor_id => '$name'); $sql{$name}; ROLLBACK;");
		is(failures_since($mark), "$name|READ|FAILURE|invalid_text_representation|AuditLog|bh_audit.events",
			"$name: READ FAILURE on the ledger");
	}
	# a statement on neither the ledger nor a tagged table: nothing
	my $mark = bh_seal_mark($node, 'postgres');
	bh_bind_fails_last($node, "bind_other$sfx", 2, "SELECT id FROM public.other WHERE id = :v::int;\n");
	is(failures_since($mark), '', "bind_other$sfx: nothing recorded");
}
cases('_untagged_db');
$node->safe_psql('postgres', q{SELECT bh_audit.tag_table('public.pt', 'Pt', 'id', 'patient')});
cases('_tagged_db');
$node->stop;
done_testing();
