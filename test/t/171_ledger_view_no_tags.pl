# A statement reading the ledger, directly or through a view over it
# (bv.ve), that fails in its parse analysis or at EXECUTE under a
# search_path changed since its PREPARE records READ FAILURE on
# bh_audit.events, in a database where nothing is tagged as in one where a
# table is (docs/read-capture.md).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('ledger_view_no_tags');
$node->safe_psql('postgres', q{
CREATE SCHEMA sx; CREATE SCHEMA sy; CREATE SCHEMA bv;
CREATE VIEW bv.ve AS SELECT seq FROM bh_audit.events;
CREATE TABLE public.pt (id int PRIMARY KEY, patient text);
});
my $mark;
sub set_mark
{
	$mark = bh_seal_mark($node, 'postgres');
}
sub failures_since
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', actor_id, action, outcome, event -> 'metadata' ->> 'table'),
                  E'\n' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND outcome <> 'SUCCESS'});
}
sub cases
{
	my ($sfx) = @_;
	my %sql = (
		"direct_parse$sfx" => q{SELECT seq FROM bh_audit.events WHERE seq = 'abc'},
		"view_parse$sfx" => q{SELECT seq FROM bv.ve WHERE seq = 'abc'},
		"direct_execute_path$sfx" => q{SET search_path = sx, public; PREPARE qd(bigint) AS SELECT seq FROM bh_audit.events WHERE seq = $1; SET search_path = sy, public; EXECUTE qd('x')},
		"view_execute_path$sfx" => q{SET search_path = sx, public; PREPARE qp(bigint) AS SELECT seq FROM bv.ve WHERE seq = $1; SET search_path = sy, public; EXECUTE qp('x')});
	for my $name (sort keys %sql)
	{
		set_mark();
		$node->psql('postgres', "BEGIN; SELECT bh_audit.set_context(actor_id => '$name'); $sql{$name}; ROLLBACK;");
		is(failures_since(), "$name|READ|FAILURE|bh_audit.events", "$name: READ FAILURE on the ledger");
	}
}
cases('_untagged_db');
$node->safe_psql('postgres', q{SELECT bh_audit.tag_table('public.pt', 'Pt', 'id', 'patient')});
cases('_tagged_db');
$node->stop;
done_testing();
