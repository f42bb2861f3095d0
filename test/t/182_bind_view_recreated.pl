# A client's prepared statement with parameters on a view (over a tagged
# table, or over the ledger where nothing is tagged), the view dropped and
# created again under its name after the Parse (a migration), then a Bind
# whose parameter does not convert: had the Bind gone on, PostgreSQL would
# have analysed the statement again and read the new view, so the failure is
# recorded on what the new view reads, as for a view that stayed.  (The
# note of the Parse holds the dropped view's OID, which nothing resolves.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('bind_view_recreated');
$node->safe_psql('postgres', q{
CREATE SCHEMA bv;
CREATE VIEW bv.ve AS SELECT seq FROM bh_audit.events;
CREATE TABLE public.pt (id int PRIMARY KEY, patient text);
CREATE VIEW bv.vpt AS SELECT id FROM public.pt;
CREATE SEQUENCE runs;
});

sub recreated
{
	my ($name, $view, $def, $col, $want) = @_;
	my $mark = bh_seal_mark($node, 'postgres');

	# run 1 parses the statement and recreates the view; run 2's Bind fails
	bh_bind_fails_last($node, $name, 2,
		"BEGIN;\nSELECT bh_audit.set_context(actor_id => '$name');\n"
		  . "SELECT $col FROM $view WHERE $col = :v::int;\nCOMMIT;\n"
		  . "DROP VIEW $view;\nCREATE VIEW $view AS $def;\n",
		actor => 0);
	is(bh_failures_since($node, 'postgres', $mark, message => 0),
		"$name|READ|FAILURE|invalid_text_representation|$want",
		"$name: READ FAILURE on what the view created again reads");
}

recreated('ledger_view_untagged_db', 'bv.ve', 'SELECT seq FROM bh_audit.events', 'seq',
	'bh_audit.events');
$node->safe_psql('postgres', q{SELECT bh_audit.tag_table('public.pt', 'Pt', 'id', 'patient')});
recreated('tagged_view', 'bv.vpt', 'SELECT id FROM public.pt', 'id', 'public.pt');
recreated('ledger_view_tagged_db', 'bv.ve', 'SELECT seq FROM bh_audit.events', 'seq',
	'bh_audit.events');
$node->stop;
done_testing();
