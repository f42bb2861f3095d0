# DROP OWNED BY the extension's owner also drops the row-level security
# policies that name that role alone (TO owner), on any role's table
# (shdepDropOwned(): the policy's shared dependency on the role), with or
# without CASCADE; PostgreSQL locks that table ACCESS EXCLUSIVE to drop the
# policy (RemovePolicyById()).  A transaction that read that table and then
# records an event must be waited for before the drop holds the queue, as
# for the other relations the statement drops itself or locks to drop what
# it drops (operations.md, "Removing it"); otherwise one of the two fails
# with 40P01.  The policy's table is another role's: nothing else of it is
# dropped.  A policy naming another role too is only rewritten (no lock),
# unless that role is named too.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('drop_owned_role_policy', extension => 0);
$node->safe_psql('postgres', q{
CREATE ROLE su2 SUPERUSER LOGIN;
CREATE ROLE rr LOGIN;
CREATE ROLE rr2;
GRANT CREATE ON SCHEMA public TO rr;
SET ROLE su2;
CREATE EXTENSION bh_audit;
SET ROLE rr;
CREATE TABLE pt (id int);
ALTER TABLE pt ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_su2 ON pt TO su2 USING (true);
CREATE TABLE pt2 (id int);
CREATE POLICY su2_rr ON pt2 TO su2, rr USING (true);
CREATE TABLE pt3 (id int);
CREATE POLICY su2_rr2 ON pt3 TO su2, rr2 USING (true);
RESET ROLE;
});

my $mon = $node->background_psql('template1');

bh_drop_waits_for_reader($node, $mon, 'DROP OWNED BY su2', 'pt');
bh_drop_waits_for_reader($node, $mon, 'DROP OWNED BY su2 CASCADE', 'pt');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_policy WHERE polname = 'only_su2'}),
	'1', 'the policy is there after the drops rolled back');

# a policy naming every role the statement names is dropped too (the
# second role's turn finds it left with that role alone)
bh_drop_waits_for_reader($node, $mon, 'DROP OWNED BY su2, rr2', 'pt3');

# a policy left with another role is only rewritten: PostgreSQL does not
# lock its table, and neither does the drop first (it would wait for the
# reader, and fail here on lock_timeout: 60 s, longer than any batch of a
# stalled sealer, whose locks the drop waits for)
my $r = $node->background_psql('postgres');
$r->query_safe('BEGIN');
$r->query_safe('SELECT count(*) FROM pt2');
my ($ret, $out, $err) = $node->psql('postgres', q{
SET lock_timeout = '60s';
SET client_min_messages = warning;
BEGIN;
DROP OWNED BY su2;
SELECT count(*) FROM pg_extension WHERE extname = 'bh_audit';
SELECT array_to_string(polroles::regrole[], ',') FROM pg_policy WHERE polname = 'su2_rr';
ROLLBACK;
});
is($err, '', 'a reader of the table of a policy only rewritten does not hold up the drop');
is($out, "0\nrr", '... which drops the extension and leaves the policy to the other role');
$r->query_safe('COMMIT');
$r->quit;

$mon->quit;
$node->stop;
done_testing();
