# A refused TRUNCATE of a tagged table, where other sessions take part:
#  - a TRUNCATE ... CASCADE that waits for its table while another session
#    grants the privilege on the table it cascades to succeeds: no DENIED
#    (the tables a cascade adds are judged by PostgreSQL's own check, after
#    its locks), and a later failure in the same transaction is recorded;
#  - a cascade to another session's temporary tables (which PostgreSQL
#    skips) is no denial either;
#  - without the GRANT, the cascade's refusal of the tagged table is one
#    DENIED event (and the statement a failure on the table it names).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('truncate_denials');
$node->safe_psql('postgres', q{
CREATE ROLE u1 LOGIN;
GRANT USAGE ON SCHEMA public TO u1;
CREATE TABLE pat (id int PRIMARY KEY, patient text);
INSERT INTO pat VALUES (1, 'P1');
CREATE TABLE ref (id int PRIMARY KEY, pid int REFERENCES pat (id), patient text);
INSERT INTO ref VALUES (1, 1, 'P1');
SELECT bh_audit.tag_table('pat', 'Patient', 'id', 'patient');
SELECT bh_audit.tag_table('ref', 'Obs', 'id', 'patient');
GRANT TRUNCATE, SELECT ON pat TO u1;
});

my $mark;
sub set_mark
{
	$mark = bh_seal_mark($node, 'postgres');
}

# Events of the two tables since the mark, but reads: "action outcome type".
sub events_since
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT string_agg(resource_type || ' ' || action || ' ' || outcome || ' ' ||
                  coalesce(error_type, '-'), ', ' ORDER BY seq)
  FROM bh_audit.events
 WHERE seq > $mark AND resource_type IN ('Patient', 'Obs')
   AND NOT (action = 'READ' AND outcome = 'SUCCESS')});
}

# (1) The GRANT arrives while the TRUNCATE waits for its lock.
set_mark();
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN');
$holder->query_safe('LOCK pat IN ACCESS EXCLUSIVE MODE');
my $u1 = $node->background_psql('postgres', on_error_stop => 0,
	extra_params => [ '-U', 'u1' ]);
$u1->query_safe('BEGIN');
$u1->query_until(qr/started/, q{
\echo started
TRUNCATE pat CASCADE;
});
ok($node->poll_query_until('postgres', q{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE usename = 'u1' AND wait_event_type = 'Lock'}),
	'the TRUNCATE waits for its table');
$holder->query_safe('GRANT TRUNCATE ON ref TO u1');
$holder->query_safe('COMMIT');
$holder->quit;
# a failure later in the same transaction (planning: a constant folded)
$u1->query('SELECT 1 / 0 FROM pat');
$u1->query('ROLLBACK');
$u1->quit;
is(events_since(), 'Patient READ FAILURE division_by_zero',
	'no DENIED for the table the GRANT opened; the later failure is recorded');

# (2) A cascade to another session's temporary tables: PostgreSQL skips
# them, and so does the check.
$node->safe_psql('postgres', 'REVOKE TRUNCATE ON ref FROM u1');
$node->safe_psql('postgres', q{
CREATE TABLE par (id int PRIMARY KEY);
GRANT TRUNCATE ON par TO u1;
});
set_mark();
my $temp = $node->background_psql('postgres');
$temp->query_safe(q{
SET client_min_messages = warning;
CREATE TEMP TABLE tc (id int PRIMARY KEY) INHERITS (par);
CREATE TEMP TABLE tr (id int PRIMARY KEY, cid int REFERENCES tc (id), patient text);
INSERT INTO tc VALUES (5);
INSERT INTO tr VALUES (1, 5, 'P9');
SELECT bh_audit.tag_table('tr', 'Obs', 'id', 'patient');
});
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{
BEGIN;
TRUNCATE par CASCADE;
SELECT 1 / 0 FROM pat;
ROLLBACK;
}, extra_params => [ '-U', 'u1' ]);
like($stderr, qr/division by zero/, 'the TRUNCATE succeeds, the next statement fails');
is(events_since(), 'Patient READ FAILURE division_by_zero',
	'no DENIED for the other session\'s temporary table; the failure is recorded');
$temp->quit;

# (3) Without the privilege on the table it cascades to: one DENIED.
set_mark();
($ret, $stdout, $stderr) = $node->psql('postgres', 'TRUNCATE pat CASCADE',
	extra_params => [ '-U', 'u1' ]);
like($stderr, qr/permission denied for table ref/, 'the cascade is refused');
is(events_since(), 'Patient DELETE FAILURE insufficient_privilege, Obs DELETE DENIED PermissionDenied',
	'one DENIED event for the table it cascades to, a failure of the one it names');

# (4) The refused table of a cascade is untagged, and a tagged table of the
# same name in another schema was read in the transaction: no denial of it.
$node->safe_psql('postgres', q{
CREATE SCHEMA other;
CREATE TABLE par2 (id int PRIMARY KEY);
CREATE TABLE other.ref (id int PRIMARY KEY, pid int REFERENCES par2 (id));
GRANT USAGE ON SCHEMA other TO u1;
GRANT TRUNCATE ON par2 TO u1;
GRANT SELECT ON ref TO u1;
});
set_mark();
($ret, $stdout, $stderr) = $node->psql('postgres', q{
BEGIN;
SELECT count(*) FROM ref;
TRUNCATE par2 CASCADE;
ROLLBACK;
}, extra_params => [ '-U', 'u1' ]);
like($stderr, qr/permission denied for table ref/, 'the untagged other.ref is refused');
is(events_since(), '', 'no event of the tagged ref that was only read');

is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');
$node->stop;
done_testing();
