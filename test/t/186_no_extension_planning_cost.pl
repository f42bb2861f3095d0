# In a database without the extension (bh_audit preloaded, installed in
# another database), a statement planned for a role that is not a
# superuser looks the extension up no more often than the same statement
# of a superuser: the check of the trail's view as a query is planned
# (bh_view_refusal_possible, capture_read.c) has nothing to find there,
# and looking its OID up reads pg_extension (an index scan) at every
# planning, about 10% more instructions per simple SELECT.  Counted by
# the transaction's index scans of pg_extension.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('no_extension_planning_cost');
$node->safe_psql('postgres', q{
CREATE DATABASE noext;
CREATE ROLE regress_plain LOGIN;
});
$node->safe_psql('noext', q{
CREATE TABLE public.t (id int PRIMARY KEY);
INSERT INTO public.t VALUES (1);
GRANT SELECT ON public.t TO regress_plain;
});

# pg_extension's index scans of n planned SELECTs, as role (none: the
# superuser), in one transaction
sub scans
{
	my ($role, $n) = @_;
	my $sql = "BEGIN;\n";
	$sql .= "SET LOCAL ROLE $role;\n" if defined $role;
	$sql .= "SELECT idx_scan FROM pg_stat_xact_sys_tables WHERE relname = 'pg_extension';\n";
	$sql .= "SELECT id FROM public.t WHERE id = 1;\n" x $n;
	$sql .= "SELECT idx_scan FROM pg_stat_xact_sys_tables WHERE relname = 'pg_extension';\n";
	$sql .= "COMMIT;\n";
	my @out = split /\n/, $node->safe_psql('noext', $sql);
	return $out[-1] - $out[0];
}

my $n = 20;
my $super = scans(undef, $n);
my $plain = scans('regress_plain', $n);
note "pg_extension index scans for $n SELECTs: superuser $super, other role $plain";
cmp_ok($plain, '<=', $super,
	"a non-superuser's planned statements read pg_extension no more than a superuser's");
# the per-statement difference, for the report
is(($plain - $super) / ($n + 1), 0,
	'no extra look-up of the extension per planned statement');

# That the extension is absent is remembered only until a relation's
# invalidation: a session that remembers it so sees it at its next
# statement once another session has created it, its refusal of the
# trail's view a denial (sealed by the sealer's database, postgres,
# metadata.database naming noext).
my $mark = bh_seal_mark($node, 'postgres');
my $session = $node->background_psql('noext', on_error_stop => 0);
$session->query_safe('SET ROLE regress_plain');
$session->query_safe('SELECT id FROM public.t WHERE id = 1');
$node->safe_psql('noext', 'CREATE EXTENSION bh_audit');
$session->query('SELECT count(*) FROM bh_audit.tagged_tables');
$session->quit;
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is( $node->safe_psql(
		'postgres', qq{
SELECT string_agg(concat_ws('|', action, outcome, event -> 'metadata' ->> 'table',
                            event -> 'metadata' ->> 'database'), ',' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND outcome = 'DENIED'}),
	'READ|DENIED|bh_audit.tagged_tables|noext',
	'after CREATE EXTENSION in another session, a refusal of the view is a denial');

$node->stop;
done_testing();
