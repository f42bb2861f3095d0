# A client's statement with parameters is noted, by its text, with the
# tagged table it names (bh_param_stmt_note), so that a failure at Bind
# can be recorded on that table.  The same text may name another table in
# a later transaction of the same server session: a pooled session
# (PgBouncer, an application's pool) serves one tenant's request with
# search_path = ta, then another tenant's with search_path = tb.  A
# failure of the second must not be recorded as a FAILURE on the first
# tenant's tagged table, under the second request's end user: that user
# never accessed it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('param_search_path');
$node->safe_psql('postgres', q{
CREATE SCHEMA ta; CREATE SCHEMA tb;
CREATE TABLE ta.visits (visit_id int PRIMARY KEY, patient_id text, score int);
CREATE TABLE tb.visits (visit_id int PRIMARY KEY, patient_id text, score int);
INSERT INTO ta.visits VALUES (1, 'pa1', 0);
INSERT INTO tb.visits VALUES (1, 'pb1', 0);
SELECT bh_audit.tag_table('ta.visits', 'Visit', 'visit_id', 'patient_id');
});
my $mark = bh_seal_mark($node, 'postgres');

# One server session, two requests: tenant A's (no row), then tenant B's,
# which fails on tb.visits (untagged): division by zero.
my ($ret, $stdout, $stderr) = bh_pgbench_script($node, 'postgres', 'extended', q{
\set nothing 2
\set zero 1
BEGIN;
SET LOCAL search_path = ta;
SELECT bh_audit.set_context(actor_id => 'dr_alice');
SELECT 100 / score FROM visits WHERE visit_id = :nothing;
COMMIT;
BEGIN;
SET LOCAL search_path = tb;
SELECT bh_audit.set_context(actor_id => 'dr_bob');
SELECT 100 / score FROM visits WHERE visit_id = :zero;
COMMIT;
});
like($stderr, qr/division by zero/, 'tenant B\'s statement fails on tb.visits');

$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT string_agg(actor_id || ' ' || action || ' ' || outcome || ' ' || (event->'metadata'->>'table'), ', ' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Visit'}),
	'', 'no event on ta.visits: neither request read a row of it, and dr_bob never named it');

$node->stop;
done_testing();
