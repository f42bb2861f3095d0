# A client's statement with parameters whose text named the ledger when it
# was first parsed (search_path "public, bh_audit": events is
# bh_audit.events), then, parsed again, names another table (public.events,
# created since, comes first in the search_path), and fails at Bind: it read
# nothing of the ledger, so no FAILURE on bh_audit.events is recorded, in a
# database where nothing is tagged as in one where a table is.  Each
# transaction parses the statement again (pgbench -M extended: the unnamed
# statement); the failing one creates public.events first (rolled back with
# it).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('ledger_bind_stale_note');
$node->safe_psql('postgres', q{
CREATE TABLE public.pt (id int PRIMARY KEY, patient text);
CREATE SEQUENCE runs;
CREATE FUNCTION public.make_events(n bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF n = 2 THEN
		EXECUTE 'CREATE TABLE public.events (seq int)';
	END IF;
END $$;
});

sub shadowed
{
	my ($name) = @_;
	my $mark = bh_seal_mark($node, 'postgres');

	$node->safe_psql('postgres', 'ALTER SEQUENCE public.runs RESTART; DROP TABLE IF EXISTS public.events');
	# run 1: events is the ledger; run 2: public.events, created first
	$node->pgbench('-n -M extended -t 2', 2, [qr{}],
		[qr{invalid input syntax for type integer}], "$name: the second Bind fails",
		{ "stale_$name" => "SET search_path = public, bh_audit;\n"
			  . "SELECT nextval('public.runs') AS n \\gset\n"
			  . "SELECT CASE WHEN :n = 2 THEN 'x' ELSE '9' END AS v \\gset\n"
			  . "BEGIN;\n"
			  . "SELECT bh_audit.set_context(actor_id => '$name');\n"
			  . "SELECT public.make_events(:n);\n"
			  . "SELECT seq FROM events WHERE seq = :v::int;\n"
			  . "COMMIT;\n" });
	is(bh_failures_since($node, 'postgres', $mark, message => 0), '',
		"$name: no FAILURE on the ledger, which the failing statement does not name");
}

shadowed('untagged_db');
$node->safe_psql('postgres', q{SELECT bh_audit.tag_table('public.pt', 'Pt', 'id', 'patient')});
shadowed('tagged_db');
$node->stop;
done_testing();
