# A policy of one of the extension's own tables changed by a statement
# that does not name it is recorded as CREATE, ALTER and DROP POLICY are:
# DROP OWNED BY a role dropping a policy for that role alone, or removing
# the role from a policy for several (which changes whom it applies to),
# and ALTER POLICY ... RENAME TO.  The same on an ordinary table records
# nothing, and DROP EXTENSION with ledger policies drops quietly.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('ledger_policy_changes');
$node->safe_psql('postgres', q{
CREATE SCHEMA t;
CREATE TABLE t.plain (id int);
ALTER TABLE t.plain ENABLE ROW LEVEL SECURITY;
CREATE ROLE rev1; CREATE ROLE rev2;
GRANT bh_audit_reader TO rev1, rev2;
ALTER TABLE bh_audit.events ENABLE ROW LEVEL SECURITY;
CREATE POLICY p_rev ON bh_audit.events FOR SELECT TO rev1 USING (seq % 2 = 0);
CREATE POLICY p_two ON bh_audit.events FOR SELECT TO rev1, rev2 USING (true);
CREATE POLICY p_plain ON t.plain TO rev1 USING (true);
CREATE POLICY p_plain_two ON t.plain TO rev1, rev2 USING (true);
});

# The events after the statement sql: table, change and metadata, by seq.
sub changes
{
	my ($sql) = @_;
	my $mark = bh_seal_mark($node, 'postgres');
	$node->safe_psql('postgres', $sql);
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws(' ', action, resource_type, resource_id, event->'metadata'),
         E'\n' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark});
}

is(changes('DROP OWNED BY rev1'),
	qq{UPDATE AuditConfiguration bh_audit.events {"table": "bh_audit.events", "change": "remove a role from a ledger policy", "policy": "p_two", "db_user": "postgres"}
UPDATE AuditConfiguration bh_audit.events {"table": "bh_audit.events", "change": "drop a ledger policy", "policy": "p_rev", "db_user": "postgres"}},
	'DROP OWNED BY: the role removed from one ledger policy, the other dropped; the ordinary table\'s not recorded');
is($node->safe_psql('postgres', q{
SELECT string_agg(tablename || ' ' || policyname || ' ' || roles::text, ',' ORDER BY tablename, policyname)
  FROM pg_policies WHERE schemaname IN ('bh_audit', 't')}),
	'events p_two {rev2},plain p_plain_two {rev2}', 'the policies left, for rev2');

is(changes(q{ALTER POLICY p_two ON bh_audit.events RENAME TO p_renamed;
ALTER POLICY p_plain_two ON t.plain RENAME TO p_plain_renamed}),
	qq{UPDATE AuditConfiguration bh_audit.events {"table": "bh_audit.events", "change": "rename a ledger policy", "policy": "p_renamed", "db_user": "postgres"}},
	'ALTER POLICY ... RENAME TO: recorded with the new name; the ordinary table\'s not');

is(changes(q{CREATE POLICY p_q ON bh_audit.queue USING (false);
ALTER POLICY p_q ON bh_audit.queue USING (true);
DROP POLICY p_q ON bh_audit.queue;
CREATE POLICY p_p ON t.plain USING (false); ALTER POLICY p_p ON t.plain USING (true);
DROP POLICY p_p ON t.plain}),
	qq{UPDATE AuditConfiguration bh_audit.queue {"table": "bh_audit.queue", "change": "create a queue policy", "policy": "p_q", "db_user": "postgres"}
UPDATE AuditConfiguration bh_audit.queue {"table": "bh_audit.queue", "change": "alter a queue policy", "policy": "p_q", "db_user": "postgres"}
UPDATE AuditConfiguration bh_audit.queue {"table": "bh_audit.queue", "change": "drop a queue policy", "policy": "p_q", "db_user": "postgres"}},
	'CREATE, ALTER, DROP POLICY: one event each');

# A policy on each of the extension's tables, dropped with them: by
# DROP SCHEMA bh_audit CASCADE (the policies go before the extension and
# its queue), then by DROP EXTENSION.
my $policies = q{
CREATE POLICY p_q ON bh_audit.queue USING (true);
CREATE POLICY p_t ON bh_audit.tags USING (true);
CREATE POLICY p_h ON bh_audit.ledger_home USING (true);
};
$node->safe_psql('postgres', $policies);
my ($ret, $out, $err) = $node->psql('postgres', qq{
DROP SCHEMA bh_audit CASCADE;
CREATE EXTENSION bh_audit;
CREATE POLICY p_e ON bh_audit.events USING (true);
$policies
DROP EXTENSION bh_audit;
SELECT count(*) FROM pg_policies WHERE schemaname = 'bh_audit'});
is($ret, 0, 'DROP SCHEMA bh_audit CASCADE, DROP EXTENSION: no error');
is($out, '0', 'the policies went with the extension');
is($err, 'psql:<stdin>:2: NOTICE:  drop cascades to extension bh_audit', 'nothing else said');

$node->stop;
done_testing();
