# The error watch reads no catalog (capture_failure.c): it runs inside
# PostgreSQL's error reporting, where waiting for a lock, and a cancel or a
# timeout arriving meanwhile, replaces the error being raised.  The judge of
# a refusal of the queue's sequence (bh_sequence_refusal_judge) asks whether
# the queue's sequence is open as a sequence refusal is raised; where that
# sequence's relcache entry was flushed (another session's GRANT on it, or
# any invalidation reaching it), the question built the entry again from
# pg_class and pg_attribute inside the error report, and waited there for
# their lock.  So an application's refusal of its own sequence named
# queue_id_seq, in a transaction whose write locked the queue's sequence,
# waited behind a superuser's VACUUM FULL pg_class (here LOCK TABLE
# pg_class) and was then reported as "canceling statement due to statement
# timeout" instead of "permission denied for sequence queue_id_seq".
# Now the judge looks the entry up only where the locks of the catalogs its
# build reads are granted at once; otherwise the queue's sequence is not
# open (its entry would be there).  Without that maintenance, the entry
# flushed is built again in the error report and the judgement is the
# same: the application's refusal is no denial of the queue's sequence,
# a refusal of the queue's sequence is.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('sequence_refusal_judge_no_lock_wait');
$node->safe_psql('postgres', q{
CREATE ROLE app217 LOGIN;
CREATE SCHEMA c217;
GRANT USAGE ON SCHEMA c217 TO app217;
CREATE TABLE c217.pat (id int PRIMARY KEY, name text);
GRANT INSERT ON c217.pat TO app217;
SELECT bh_audit.tag_table('c217.pat', 'Patient217', 'id', 'id');
CREATE TABLE c217.queue (id serial, note text);
CREATE TABLE c217.plain (x int);
INSERT INTO c217.plain VALUES (1);
GRANT SELECT ON c217.plain TO app217;
});

# DENIED events of the queue's sequence since mark, with their actions
sub seq_denials
{
	my ($mark) = @_;
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT count(*) || ':' || coalesce(string_agg(action, ',' ORDER BY seq), '')
  FROM bh_audit.events
 WHERE seq > $mark AND outcome = 'DENIED'
   AND event -> 'metadata' ->> 'table' = 'bh_audit.queue_id_seq'});
}

my $flush = q{
GRANT SELECT ON SEQUENCE bh_audit.queue_id_seq TO bh_audit_reader;
REVOKE SELECT ON SEQUENCE bh_audit.queue_id_seq FROM bh_audit_reader;
};
my $mark = bh_seal_mark($node, 'postgres');
my $app = $node->background_psql('postgres', on_error_stop => 0,
	extra_params => [ '-U', 'app217' ]);
# c217.plain's relcache entry is there: reading it again needs no catalog
$app->query_safe('SELECT * FROM c217.plain');
$app->query_safe('BEGIN');
# a write of many rows: a queue row before the commit, the queue's sequence locked
$app->query_safe(q{INSERT INTO c217.pat SELECT g, 'n' FROM generate_series(1, 300) g});
is($app->query_safe(q{SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()
  AND locktype = 'relation' AND relation = 'bh_audit.queue_id_seq'::regclass}),
	'1', 'the write locked the queue\'s sequence');
# the application's own sequence refused once, caught: its look-ups cached
$app->query_safe(q{DO $$ BEGIN PERFORM nextval('c217.queue_id_seq');
  EXCEPTION WHEN insufficient_privilege THEN NULL; END $$});

# another session's GRANT on the queue's sequence: its relcache entry goes
# at the application's next new lock
$node->safe_psql('postgres', $flush);
# a superuser's maintenance of the catalog
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN');
$holder->query_safe('LOCK TABLE pg_class IN ACCESS EXCLUSIVE MODE');

$app->{stderr} = '';
$app->query(q{SET statement_timeout = '3s'; SELECT nextval('c217.queue_id_seq') FROM c217.plain});
like($app->{stderr}, qr/permission denied for sequence queue_id_seq/,
	'the refusal of the application\'s sequence is reported as it is raised');
unlike($app->{stderr}, qr/statement timeout/,
	'its report waited for no lock');
$holder->query_safe('COMMIT');
$holder->quit;
$app->query('ROLLBACK');
is(seq_denials($mark), '0:', 'the application\'s refusal is no denial of the queue\'s sequence');

# the catalog free: the entry flushed is built again in the error report
$mark = bh_seal_mark($node, 'postgres');
$app->{stderr} = '';
$app->query_safe('BEGIN');
$app->query_safe(q{INSERT INTO c217.pat SELECT g, 'n' FROM generate_series(301, 600) g});
$node->safe_psql('postgres', $flush);
$app->{stderr} = '';
$app->query(q{SELECT nextval('c217.queue_id_seq') FROM c217.plain});
like($app->{stderr}, qr/permission denied for sequence queue_id_seq/,
	'the application\'s sequence refused, the entry flushed');
$app->query('ROLLBACK');
$app->{stderr} = '';
$app->query_safe('BEGIN');
$app->query_safe(q{INSERT INTO c217.pat SELECT g, 'n' FROM generate_series(601, 900) g});
$node->safe_psql('postgres', $flush);
$app->{stderr} = '';
$app->query(q{SELECT currval('bh_audit.queue_id_seq') FROM c217.plain});
like($app->{stderr}, qr/permission denied for sequence queue_id_seq/,
	'the queue\'s sequence refused, the entry flushed');
$app->query('ROLLBACK');
is(seq_denials($mark), '1:READ',
	'of the two, the refusal of the queue\'s sequence only is its denial');
$app->quit;

done_testing();
